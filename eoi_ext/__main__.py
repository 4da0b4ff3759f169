"""`python -m eoi_ext ...` runs the `eoi` command line."""

import sys

from .cli import main

sys.exit(main())
