"""One matplotlib style for every figure: readable at README width, deterministic output."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["STYLE", "COLORS", "new_figure", "save"]

#: colour cycle (colour-blind safe, Okabe & Ito 2008)
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": matplotlib.cycler(color=COLORS),
    "svg.hashsalt": "degeneracy",
    "svg.fonttype": "path",
    "path.simplify": True,
}


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None,
               squeeze: bool = True, **kwargs):
    """A figure and axes in the toolkit's style. Default size: 3.2 in per column, 2.8 per row."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width or 3.2 * ncols + 0.4, height or 2.8 * nrows + 0.3),
                                 squeeze=squeeze, **kwargs)
    return fig, axes


def save(fig, stem: str) -> list[str]:
    """Write ``stem.png`` and ``stem.svg`` with no timestamps (same input, same bytes)."""
    paths = []
    with plt.rc_context(STYLE):
        fig.tight_layout() if not fig.get_constrained_layout() else None
        fig.savefig(stem + ".png", metadata={"Software": None})
        fig.savefig(stem + ".svg", metadata={"Date": None, "Creator": None})
    paths = [stem + ".png", stem + ".svg"]
    plt.close(fig)
    return paths
