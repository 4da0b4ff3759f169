"""`eoi demo`: EOI against the paper's baselines on a 1000-layer tanh MLP.

The paper's deep-MLP comparison (specs/1000-layer-networks/deep-mlp.py) on data that
ships with scikit-learn (digits, 8x8 images): a 1000-layer, 128-wide tanh MLP without
residuals or normalization, its inner layers at density 0.125 and its first and last
dense ("uni_skip"; weight gain 1.0247, bias std 0.00448), is initialized with EOI and
with the paper's baselines: base (orthogonal, masked, not rescaled), the published
approximate isometry from base (AI, 1000 SGD steps) and SAO (degree 16 at width 128).
For each the demo reports the init time, the orthogonality error, the input-output
Jacobian's singular values, then trains it (Adam) and reports test accuracy. A PNG shows
the loss curves and the singular-value histograms (eoi_ext/lab/demo_report.py).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from ..baselines import PUBLISHED_AI_ITERATIONS
from ..metrics import jacobian_singular_values, orthogonality_errors
from ..models import deep_mlp
from ..progress import reporting
from ..sparsify import sparsify
from .data import load_digits
from .demo_report import duration, print_table, save_plot
from .output import progress_bar
from .training import TrainingResult, train

__all__ = ["DemoConfig", "MethodResult", "run_demo"]

TANH_GAIN = 1.0247  # the paper's weight gain for deep tanh networks
TANH_BIAS_STD = 0.00448


@dataclass(frozen=True)
class DemoConfig:
    depth: int = 1000
    width: int = 128
    density: float = 0.125
    distribution: str = "uni_skip"
    methods: tuple[str, ...] = ("eoi", "base", "ai", "sao")
    steps: int = 200
    batch_size: int = 128
    learning_rate: float = 1e-4
    ai_iterations: int = PUBLISHED_AI_ITERATIONS
    jacobian_inputs: int = 4
    seed: int = 0

    @classmethod
    def quick(cls) -> DemoConfig:
        """A 100-layer, 32-wide version that runs in seconds (CI smoke test)."""
        return cls(depth=100, width=32, steps=100, learning_rate=1e-3, jacobian_inputs=2)


@dataclass
class MethodResult:
    method: str
    init_seconds: float
    orthogonality_error: float
    singular_values: torch.Tensor
    training: TrainingResult = field(default_factory=TrainingResult)

    def jacobian_summary(self) -> str:
        s = self.singular_values
        return f"mean {s.mean():.3g}, std {s.std():.3g}, min {s.min():.3g}, max {s.max():.3g}"


def run_demo(
    config: DemoConfig, *, plot: str | None = None, progress: bool = True
) -> list[MethodResult]:
    """Runs every method of `config` and prints a report; saves the figure to `plot`."""
    data = load_digits(seed=config.seed)
    print(
        f"digits: {len(data.x_train)} train / {len(data.x_test)} test images; "
        f"{config.depth}-layer tanh MLP, width {config.width}, density "
        f"{config.density:g} ({config.distribution}), gain {TANH_GAIN}, "
        f"bias std {TANH_BIAS_STD}; Adam lr {config.learning_rate:g}, batch "
        f"{config.batch_size}, {config.steps} steps"
    )
    results = []
    for method in config.methods:
        generator = torch.Generator().manual_seed(config.seed)
        model = deep_mlp(config.depth, config.width, "tanh", in_features=64, out_features=10)
        start = time.perf_counter()
        with _init_progress(method, progress):
            sparse = sparsify(
                model,
                config.density,
                distribution=config.distribution,
                method=method,
                gain=TANH_GAIN,
                bias_std=TANH_BIAS_STD,
                iterations=config.ai_iterations if method == "ai" else None,
                generator=generator,
            )
        init_seconds = time.perf_counter() - start
        error = max(orthogonality_errors(model, gain=TANH_GAIN).values())
        # In float64: through 1000 layers float32 underflows to exactly 0 for collapsing
        # initializations.
        inputs = data.x_test[: config.jacobian_inputs].double()
        singular_values = jacobian_singular_values(copy.deepcopy(model).double(), inputs)
        result = MethodResult(method, init_seconds, error, singular_values.flatten())
        print(
            f"[{method}] init {duration(init_seconds)}{_steps(method, config)}, "
            f"density {sparse.density:.4f}, "
            f"max orthogonality error {error:.2e}; Jacobian singular values: "
            f"{result.jacobian_summary()}"
        )
        result.training = train(
            model,
            data,
            steps=config.steps,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            generator=generator,
            progress=f"train {method}" if progress else None,
        )
        print(
            f"[{method}] trained {config.steps} steps in {result.training.seconds:.1f} s: "
            f"test accuracy {result.training.test_accuracy:.1%}"
        )
        results.append(result)
    print_table(results)
    if plot:
        save_plot(results, plot, config)
        print(f"saved {plot}")
    return results


def _steps(method: str, config: DemoConfig) -> str:
    return f" ({config.ai_iterations} SGD steps)" if method == "ai" else ""


@contextmanager
def _init_progress(method: str, enabled: bool) -> Iterator[None]:
    """A bar over the published AI's SGD steps (eoi_ext/progress.py): minutes on the
    1000-layer network; the other methods take a second or less."""
    bar = progress_bar(None, f"init {method}", enabled=enabled and method == "ai", unit="step")
    if bar is None:
        yield
        return

    def update(what: str, done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        with reporting(update):
            yield
    finally:
        bar.close()
