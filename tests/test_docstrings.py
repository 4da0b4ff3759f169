"""The public surface: every public module states `__all__`, every public function and
class has a torch.nn.init-style docstring (summary, Args, Returns, Examples), and every
example in the package runs as a doctest, on whichever backend the suite runs."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest
import torch

import eoi_ext

# The modules whose names users call: the package and its public submodules.
PUBLIC = ["eoi_ext", "eoi_ext.init", "eoi_ext.givens", "eoi_ext.layers", "eoi_ext.metrics",
          "eoi_ext.baselines", "eoi_ext.reference", "eoi_ext.models"]  # fmt: skip
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(eoi_ext.__path__, "eoi_ext.")
    if not info.name.endswith(("__main__", "._C", "._build_config"))
)


def public_objects() -> list[tuple[str, object]]:
    found = []
    for module_name in PUBLIC:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                found.append((f"{module_name}.{name}", obj))
    return found


@pytest.mark.parametrize("name", MODULES)
def test_every_module_states_its_public_names(name):
    module = importlib.import_module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"
    for public in module.__all__:
        assert hasattr(module, public), f"{name}.__all__ names {public!r}, which is missing"


@pytest.mark.parametrize(
    ("name", "obj"), public_objects(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_public_docstrings(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc and doc.splitlines()[0].strip(), f"{name} has no summary line"
    assert "Examples:\n" in doc and ">>> " in doc, f"{name} has no Examples: block"
    if inspect.isclass(obj):
        assert "Attributes:" in doc or "Args:" in doc, f"{name} documents no attributes"
        return
    signature = inspect.signature(obj)
    if signature.parameters:
        assert "Args:" in doc, f"{name} documents no Args"
        missing = [p for p in signature.parameters if p not in doc]
        assert not missing, f"{name} does not mention its arguments {missing}"
    if signature.return_annotation not in (None, "None", inspect.Signature.empty):
        assert "Returns:" in doc, f"{name} documents no Returns"


def run_doctests(module: ModuleType) -> doctest.TestResults:
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    for test in finder.find(module, module.__name__, globs={}):
        if test.examples:
            torch.manual_seed(0)  # examples that use the default generator are repeatable
            test.globs.update({"torch": torch, "eoi_ext": eoi_ext})
            runner.run(test)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name, capsys):
    module = importlib.import_module(name)
    failed, attempted = run_doctests(module)
    report = capsys.readouterr().out
    assert failed == 0, f"{failed} of {attempted} examples of {name} failed:\n{report}"


def test_every_public_example_runs_somewhere():
    """The examples the docstring test requires are found and run by the doctest run."""
    attempted = sum(run_doctests(importlib.import_module(name)).attempted for name in MODULES)
    assert attempted >= 2 * len(public_objects()), attempted
