"""Bad input, unreachable densities, EOI_EXT_BACKEND validation and a broken or mismatched
extension (importing eoi_ext must never crash because of the extension:
docs/backends.md, "Choosing a backend")."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import eoi_ext

REPO_ROOT = Path(__file__).resolve().parent.parent
REBUILD = "pip install --no-build-isolation -e ."


# ---------------------------------------------------------------------------------------
# Argument validation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (2.5, TypeError),
        (True, TypeError),
        ("3", TypeError),
        (None, TypeError),
        (3.0, TypeError),
    ],
    ids=["zero", "negative", "float", "bool", "str", "none", "integral-float"],
)
@pytest.mark.parametrize("name", ["rows", "cols"])
def test_bad_sizes(name, value, error):
    args = {"rows": 4, "cols": 5}
    args[name] = value
    with pytest.raises(error, match=name):
        eoi_ext.sparse_orthogonal(args["rows"], args["cols"], 0.5)
    with pytest.raises(error, match=name):
        eoi_ext.sparse_orthogonal_batch(2, args["rows"], args["cols"], 0.5)


@pytest.mark.parametrize(
    ("value", "error"), [(-1, ValueError), (1.0, TypeError), (True, TypeError), ("2", TypeError)]
)
def test_bad_count(value, error):
    with pytest.raises(error, match="count"):
        eoi_ext.sparse_orthogonal_batch(value, 4, 5, 0.5)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (0.0, ValueError),
        (-0.5, ValueError),
        (1.0000001, ValueError),
        (2, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (float("-inf"), ValueError),
        ("0.5", TypeError),
        (None, TypeError),
        (True, TypeError),
        (torch.tensor([0.5, 0.5]), TypeError),
        (0.5j, TypeError),
    ],
    ids=[
        "int0",
        "zero",
        "negative",
        "above1",
        "int2",
        "nan",
        "inf",
        "-inf",
        "str",
        "none",
        "bool",
        "tensor",
        "complex",
    ],
)
def test_bad_density(value, error):
    with pytest.raises(error, match="density"):
        eoi_ext.sparse_orthogonal(4, 5, value)
    with pytest.raises(error, match="density"):
        eoi_ext.sparse_orthogonal_batch(2, 4, 5, value)


@pytest.mark.parametrize(
    "dtype", [torch.int32, torch.int64, torch.bool, torch.complex64, torch.uint8, "float32"]
)
def test_bad_dtype(dtype):
    with pytest.raises(TypeError, match="dtype"):
        eoi_ext.sparse_orthogonal(4, 5, 0.5, dtype=dtype)


@pytest.mark.parametrize("gain", [float("inf"), float("nan"), "2", None, True])
def test_bad_gain(gain):
    with pytest.raises((TypeError, ValueError), match="gain"):
        eoi_ext.sparse_orthogonal(4, 5, 0.5, gain=gain)


@pytest.mark.parametrize("generator", ["x", 0, torch.default_generator.get_state()])
def test_bad_generator(generator):
    with pytest.raises(TypeError, match="generator"):
        eoi_ext.sparse_orthogonal(4, 5, 0.5, generator=generator)


def test_validation_does_not_consume_randomness():
    torch.manual_seed(0)
    state = torch.get_rng_state()
    with pytest.raises(ValueError):
        eoi_ext.sparse_orthogonal(4, 5, 1.5)
    with pytest.raises(TypeError):
        eoi_ext.sparse_orthogonal(4, 5, 0.5, dtype=torch.int32)
    assert torch.equal(state, torch.get_rng_state())


def test_accepted_numeric_types():
    """Python and NumPy-like integers and reals are accepted, like torch.nn.init."""
    np = pytest.importorskip("numpy")
    W, M = eoi_ext.sparse_orthogonal(
        np.int64(4), np.int32(6), np.float32(0.5), gain=np.float64(1.0), generator=torch.Generator()
    )
    assert W.shape == (4, 6) and M.shape == (4, 6)


# ---------------------------------------------------------------------------------------
# Densities below the reachable minimum
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("density", [0.001, 0.05, 0.0999])
def test_density_below_minimum_warns_and_returns_identity(density, make_generator):
    with pytest.warns(UserWarning, match=r"achieved density 0\.1\b") as record:
        W, M = eoi_ext.sparse_orthogonal(10, 10, density, generator=make_generator())
    message = str(record[0].message)
    assert f"{density:g}" in message, f"the warning does not state the requested density: {message}"
    assert int(M.sum()) == 10
    assert torch.equal(W, torch.eye(10)), "the minimum-density matrix is the identity (R = 0)"
    assert torch.equal(M, torch.eye(10, dtype=torch.bool))


@pytest.mark.parametrize(("rows", "cols"), [(4, 25), (25, 4)])
def test_density_below_minimum_rectangular(rows, cols, make_generator):
    with pytest.warns(UserWarning, match=r"achieved density 0\.04\b"):
        W, M = eoi_ext.sparse_orthogonal(rows, cols, 0.01, gain=2.0, generator=make_generator())
    assert torch.equal(W, 2.0 * torch.eye(rows, cols))
    assert int(M.sum()) == 4


def test_density_below_minimum_exact_density(make_generator):
    with pytest.warns(UserWarning, match="achieved density"):
        W, M = eoi_ext.sparse_orthogonal(
            10, 10, 0.001, exact_density=True, generator=make_generator()
        )
    assert int(M.sum()) == 10 and torch.equal(W, torch.eye(10))


def test_density_at_minimum_does_not_warn(recwarn, make_generator):
    eoi_ext.sparse_orthogonal(10, 10, 0.1, generator=make_generator())
    eoi_ext.sparse_orthogonal(1, 1, 1.0, generator=make_generator())
    assert not [w for w in recwarn if "minimum" in str(w.message)]


def test_below_minimum_warning_points_at_caller():
    with pytest.warns(UserWarning, match="below the minimum") as record:
        eoi_ext.sparse_orthogonal(10, 10, 0.001)
    assert record[0].filename == __file__, (
        f"the warning is attributed to {record[0].filename}:{record[0].lineno}"
    )


# ---------------------------------------------------------------------------------------
# Importing with a bad EOI_EXT_BACKEND or a broken / mismatched extension (subprocesses)
# ---------------------------------------------------------------------------------------


def run_python(code: str, **env_overrides: str) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter from the repository root. EOI_EXT_BACKEND is removed
    from the environment unless given, so the subprocess uses the default ("auto")."""
    env = {k: v for k, v in os.environ.items() if k != "EOI_EXT_BACKEND"}
    env.update(env_overrides)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bogus_backend_env_fails_clearly():
    result = run_python("import eoi_ext", EOI_EXT_BACKEND="bogus")
    assert result.returncode != 0, "EOI_EXT_BACKEND=bogus must make the import fail"
    assert "EOI_EXT_BACKEND" in result.stderr, result.stderr
    assert "bogus" in result.stderr, result.stderr
    assert "Segmentation" not in result.stderr


FALLBACK_CHECK = """
    import eoi_ext
    import torch

    assert eoi_ext.backend() == "python", eoi_ext.backend()
    assert eoi_ext.build_info()["loaded"] is False
    W, M = eoi_ext.sparse_orthogonal(20, 30, 0.3, generator=torch.Generator().manual_seed(0))
    W = W.double()
    err = (W @ W.T - torch.eye(20, dtype=torch.float64)).abs().max().item()
    assert err < 1e-5, err
    assert not bool((W[~M] != 0).any())
    eoi_ext.sparse_orthogonal(20, 30, 0.3)  # a second call must not warn again
    eoi_ext.init.sparse_orthogonal_(torch.empty(8, 8), 0.5)
"""

CAPTURE_WARNINGS = """
    import sys
    import types
    import warnings

    warnings.simplefilter("always")
    _caught = warnings.catch_warnings(record=True)
    _records = _caught.__enter__()
"""

REPORT_WARNINGS = """
    _caught.__exit__(None, None, None)
    runtime = [w for w in _records if issubclass(w.category, RuntimeWarning)]
    for w in runtime:
        print("RUNTIME_WARNING:", str(w.message).replace("\\n", " "))
    print("C_LOADED:", "eoi_ext._C" in sys.modules)
    print("TORCH:", torch.__version__)
"""


def parse(stdout: str) -> tuple[list[str], bool, str]:
    lines = stdout.splitlines()
    warnings_ = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("RUNTIME_WARNING:")]
    loaded = [ln for ln in lines if ln.startswith("C_LOADED:")]
    torch_version = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("TORCH:")]
    assert loaded and torch_version, f"the subprocess did not finish: {stdout}"
    return warnings_, loaded[0].endswith("True"), torch_version[0]


def test_version_mismatch_warns_once_and_falls_back():
    code = (
        CAPTURE_WARNINGS
        + """
    fake = types.ModuleType("eoi_ext._build_config")
    fake.TORCH_VERSION = "1.0.0"
    sys.modules["eoi_ext._build_config"] = fake
"""
        + FALLBACK_CHECK
        + REPORT_WARNINGS
    )
    result = run_python(code)
    assert result.returncode == 0, f"import with a mismatched build crashed:\n{result.stderr}"
    assert "undefined symbol" not in result.stderr + result.stdout
    runtime, c_loaded, torch_version = parse(result.stdout)
    assert len(runtime) == 1, f"expected exactly one RuntimeWarning, got {runtime}"
    message = runtime[0]
    assert "1.0.0" in message, message
    assert torch_version in message, message
    assert REBUILD in message, message
    assert not c_loaded, "the mismatched extension eoi_ext._C must not be imported"


def test_missing_extension_warns_once_and_falls_back():
    code = (
        CAPTURE_WARNINGS
        + """
    sys.modules["eoi_ext._C"] = None  # makes `import eoi_ext._C` fail
"""
        + FALLBACK_CHECK
        + REPORT_WARNINGS
    )
    result = run_python(code)
    assert result.returncode == 0, f"import without the extension crashed:\n{result.stderr}"
    runtime, _, _ = parse(result.stdout)
    assert len(runtime) == 1, f"expected exactly one RuntimeWarning, got {runtime}"
    assert "fallback" in runtime[0] and "eoi_ext._C" in runtime[0], runtime[0]


def test_missing_extension_with_backend_ext_raises():
    code = """
    import sys
    sys.modules["eoi_ext._C"] = None
    import eoi_ext
"""
    result = run_python(code, EOI_EXT_BACKEND="ext")
    assert result.returncode != 0, "EOI_EXT_BACKEND=ext must fail when the extension is missing"
    assert "EOI_EXT_BACKEND=ext" in result.stderr, result.stderr
    assert "ImportError" in result.stderr, result.stderr


def test_backend_python_env_does_not_warn_or_load():
    """EOI_EXT_BACKEND is read case- and space-insensitively."""
    code = CAPTURE_WARNINGS + FALLBACK_CHECK + REPORT_WARNINGS
    result = run_python(code, EOI_EXT_BACKEND=" Python ")
    assert result.returncode == 0, result.stderr
    runtime, c_loaded, _ = parse(result.stdout)
    assert runtime == [], f"EOI_EXT_BACKEND=python should not warn: {runtime}"
    assert not c_loaded, "EOI_EXT_BACKEND=python must not load eoi_ext._C"
