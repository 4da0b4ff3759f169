"""`python -m eoi_ext.lab ...` runs the `eoi` command line."""

import sys

from .cli import main

sys.exit(main())
