"""The runs an experiment spec names (eoi_ext/lab/spec_files.py): its grid expanded into
cells, each with a stable key, and slices of them for a sweep spread over machines.

A cell is one training run: a network, a dataset, one density, a mask choice (a
distribution of eoi_ext.densities, a mask source scored on the dense init, or "dense"),
one init and one seed. The vocabulary follows the published `sparse_init` names
(sparselearning/funcs.py): "uniform" is uniform + base, "uniform_AI" uniform + ai,
"uniform_EI" uniform + eoi, "snip_direct" snip + base, "SAO" uni_skip + sao, and the
dense runs' `init_type` is kept as the init of masks "dense".
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..densities import DISTRIBUTIONS
from ..models import ACTIVATIONS
from .recipe import Recipe

__all__ = [
    "DENSE_INITS",
    "MASKS",
    "MASK_SOURCES",
    "SPARSE_INITS",
    "RunCell",
    "cell_recipe",
    "check_cell",
    "parse_slice",
    "take_slice",
]

MASK_SOURCES = ("snip", "grasp", "synflow")  # eoi_ext.mask_sources, on the dense init
MASKS = (*DISTRIBUTIONS, *MASK_SOURCES, "dense")
SPARSE_INITS = ("base", "ai", "eoi", "sao")  # sparsify methods (eoi_ext/methods.py)
# The published dense runs' init_type: orthogonal_ (MLP), conv_orthogonal (CNNs: orthogonal
# for Linears, Xiao et al.'s kernels), delta_orthogonal (the deep CNN), torch's default.
DENSE_INITS = ("orthogonal", "conv_orthogonal", "delta_orthogonal", "default")


@dataclass(frozen=True)
class RunCell:
    """One run of a spec's grid: everything that decides its result.

    Attributes:
        spec: the spec's name.
        block: the label of the grid block it comes from.
        network, depth, width, activation, gain, bias_std, conv_mode: the model
            (eoi_ext/lab/networks.py; depth and width None where fixed).
        dataset: a dataset of eoi_ext/lab/data.py.
        density: the overall density (1.0 for dense runs).
        masks: a distribution, a mask source or "dense".
        init: a sparse init (SPARSE_INITS) or, for masks "dense", a dense one.
        seed: the run's seed.
        recipe: the training settings, as (key, value) pairs.
        options: the block's own settings (e.g. double_precision), as pairs.
    """

    spec: str
    block: str
    network: str
    depth: int | None
    width: int | None
    activation: str
    gain: float
    bias_std: float
    conv_mode: str | None
    dataset: str
    density: float
    masks: str
    init: str
    seed: int
    recipe: tuple[tuple[str, object], ...] = ()
    options: tuple[tuple[str, object], ...] = ()

    @property
    def key(self) -> str:
        """A name unique within the spec, also the run's file name: what varies."""
        return f"{self.masks}-{self.init}-d{self.density:g}-{self.activation}-s{self.seed}"


def parse_slice(text: str) -> tuple[int, int]:
    """ "k/N" (1 <= k <= N) as (k, N): the k-th of N slices of a grid.

    Args:
        text: the slice, e.g. "2/8".

    Returns:
        (k, N).

    Raises:
        ValueError: not of the form k/N with 1 <= k <= N.

    Examples:
        >>> eoi_ext.lab.spec_grid.parse_slice("2/8")
        (2, 8)
    """
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"only must be k/N with integers 1 <= k <= N, got {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"only must be k/N with integers 1 <= k <= N, got {text!r}")
    return k, n


def take_slice(cells: list[RunCell], k: int, n: int) -> list[RunCell]:
    """The k-th of n slices of `cells`: every n-th cell from the k-th, so each slice gets
    a share of every block (the grid's order groups slow networks and inits together).
    The n slices are disjoint and cover the grid: a SLURM array of n tasks runs it all.

    Args:
        cells: the grid, in its order.
        k: which slice, 1..n.
        n: how many slices.

    Returns:
        The slice's cells, in grid order.

    Examples:
        >>> eoi_ext.lab.spec_grid.take_slice(list("abcdefg"), 2, 3)
        ['b', 'e']
    """
    return cells[k - 1 :: n]


def check_cell(where: str, density: object, masks: str, init: str, activation: str) -> None:
    """Raises ValueError, prefixed with `where`, unless (density, masks, init,
    activation) is a run the vocabulary allows: known names, a density in (0, 1], and
    masks "dense" exactly with a dense init at density 1.

    Args:
        where: the spec file and block, for the message.
        density, masks, init, activation: the run's values.

    Examples:
        >>> eoi_ext.lab.spec_grid.check_cell("here", 1.0, "dense", "default", "relu")
    """
    if masks not in MASKS:
        raise ValueError(f"{where}: masks must be among {', '.join(MASKS)}, got {masks!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{where}: activation {activation!r} is not in eoi_ext.models")
    if not isinstance(density, int | float) or not 0 < density <= 1:
        raise ValueError(f"{where}: density must be in (0, 1], got {density!r}")
    dense = masks == "dense"
    inits = DENSE_INITS if dense else SPARSE_INITS
    if init not in inits:
        kind = "dense" if dense else "sparse"
        raise ValueError(f"{where}: a {kind} run's init must be one of {', '.join(inits)}, "
                         f"got {init!r}")  # fmt: skip
    if dense and density != 1:
        raise ValueError(f"{where}: masks 'dense' needs density 1.0, got {density!r}")


def cell_recipe(cell: RunCell) -> Recipe:
    """The cell's training recipe: the spec's recipe table, without the keys that set
    the init (ai_iterations, synflow_rounds); no augmentation unless the spec asks.

    Args:
        cell: the run.

    Returns:
        Its Recipe.

    Examples:
        >>> from eoi_ext.lab.spec_files import expand, load_spec
        >>> recipe = eoi_ext.lab.spec_grid.cell_recipe(expand(load_spec("res32"))[0])
        >>> recipe.learning_rate, recipe.epochs, recipe.augment, recipe.nesterov
        (0.1, 200, True, True)
    """
    names = {f.name for f in fields(Recipe)}
    settings = {k: v for k, v in cell.recipe if k in names}
    settings.setdefault("augment", False)
    # A block's own learning rate and weight decay win over the spec's.
    settings.update((k, v) for k, v in cell.options if k in ("learning_rate", "weight_decay"))
    return Recipe(**settings)
