"""One matplotlib style for every figure: readable at README width, deterministic output.

The README shows each image at most :data:`README_WIDTH_PX` pixels wide; fonts are chosen so
that text stays at least :data:`MIN_FONT_PX` pixels high there (``figures.guards`` checks it).
Output is byte-deterministic: SVG ids are hash-salted, and no format carries a date or a
software version (PNG ``Software``, SVG ``Date``/``Creator``, PDF ``CreationDate``/``Producer``).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["STYLE", "COLORS", "FORMATS", "CLIP_GID", "README_WIDTH_PX", "MIN_FONT_PX", "new_figure", "finalize",
           "save", "mark_clipped", "plain_log_ticks", "mean_band", "figure_legend"]

#: colour cycle (colour-blind safe, Okabe & Ito 2008)
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

#: the widest the README (GitHub's content column) shows an image, in CSS pixels
README_WIDTH_PX = 900
#: smallest text height (font size in pixels) allowed at that width
MIN_FONT_PX = 7.0
#: formats ``degeneracy figures`` can write; PNG and SVG by default, PDF on request
FORMATS = ("png", "svg", "pdf")
#: gid of the artist that says "some data lie outside the axis limits here" (figures.guards accepts
#: clipped data only in an axes that carries one)
CLIP_GID = "degeneracy-clipped"

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
    "pdf.fonttype": 42,
    "path.simplify": True,
    "legend.framealpha": 0.9,
}

_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
             "pdf": {"CreationDate": None, "Producer": None, "Creator": None}}


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None,
               squeeze: bool = True, **kwargs):
    """A figure and axes in the toolkit's style. Default size: 3.2 in per column, 2.8 per row.

    >>> fig, ax = new_figure(); fig.get_size_inches().tolist()
    [3.6, 3.0999999999999996]
    >>> plt.close(fig)
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width or 3.2 * ncols + 0.4, height or 2.8 * nrows + 0.3),
                                 squeeze=squeeze, **kwargs)
    return fig, axes


def finalize(fig):
    """Give the figure a layout engine (``tight``) unless it has one; returns ``fig``.

    The engine lays the figure out at every draw, so the guards and the saved files see the
    same layout. A figure that needs room for a figure legend sets its own engine, e.g.
    ``fig.set_layout_engine("tight", rect=(0, 0, 1, 0.92))``.
    """
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("tight")
    return fig


def save(fig, stem: str, formats=("png", "svg")) -> list[str]:
    """Write ``stem.<fmt>`` for each format with no timestamps (same input, same bytes); closes ``fig``.

    The figure must have been :func:`finalize`-d (``degeneracy.figures.registry.build`` does it).
    """
    paths = []
    try:
        with plt.rc_context(STYLE):
            for fmt in formats:
                if fmt not in FORMATS:
                    from degeneracy.errors import ArgumentValueError

                    raise ArgumentValueError(f"figure format must be one of {', '.join(FORMATS)}, got {fmt!r}")
                fig.savefig(f"{stem}.{fmt}", metadata=_METADATA[fmt])
                paths.append(f"{stem}.{fmt}")
    finally:
        plt.close(fig)
    return paths


def mark_clipped(ax, text: str, *, x: float = 0.02, y: float = 0.02, ha: str = "left", va: str = "bottom",
                 **kwargs):
    """Say on ``ax`` (axes-fraction position ``x, y``) that some values lie outside its limits.

    The text is tagged (gid :data:`CLIP_GID`) so that ``figures.guards`` accepts the clipping.

    >>> fig, ax = new_figure(); t = mark_clipped(ax, "3 values < 1e-12 not shown"); t.get_gid() == CLIP_GID
    True
    >>> plt.close(fig)
    """
    kw = {"fontsize": 8, "color": "0.25", "transform": ax.transAxes, "ha": ha, "va": va}
    kw.update(kwargs)
    t = ax.text(x, y, text, **kw)
    t.set_gid(CLIP_GID)
    return t


def plain_log_ticks(ax, axis: str = "y"):
    """Label a log axis spanning at most 4 decades with plain numbers (``2``, ``10``, ``50``) instead of
    ``2 x 10^1``; call it after plotting (it reads the current limits).

    >>> fig, ax = new_figure(); ax.set_yscale("log"); plain_log_ticks(ax); plt.close(fig)
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
    decades = np.log10(hi / lo) if lo > 0 else 99.0
    if decades > 4:
        return  # matplotlib's 10^k labels are the clearest there
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def mean_band(ax, x, runs, *, color, label=None, k: float = 2.0, log: bool = False, **kwargs):
    """Plot the mean over independent runs (axis 0 of ``runs``) with a band of +- ``k`` standard errors.

    With ``log=True`` the mean and standard error are taken of ``log(runs)`` and drawn back on
    the original scale (a geometric mean with a multiplicative band), which keeps the band
    positive on a log axis. Returns the mean line.

    >>> fig, ax = new_figure(); ln = mean_band(ax, [0, 1], np.ones((3, 2)), color="k"); plt.close(fig)
    """
    runs = np.asarray(runs, dtype=float)
    v = np.log(runs) if log else runs
    m = v.mean(axis=0)
    se = v.std(axis=0, ddof=1) / np.sqrt(v.shape[0]) if v.shape[0] > 1 else np.zeros_like(m)
    lo, hi = m - k * se, m + k * se
    if log:
        m, lo, hi = np.exp(m), np.exp(lo), np.exp(hi)
    (line,) = ax.plot(x, m, color=color, label=label, **kwargs)
    ax.fill_between(x, lo, hi, color=color, alpha=0.22, linewidth=0)
    return line


def figure_legend(fig, ax=None, *, handles=None, labels=None, ncol: int = 4, top: float = 0.88, fontsize=8.5):
    """One legend for the whole figure, in a band above the panels (it can never cover data).

    Takes the handles of ``ax`` (or the given ``handles``/``labels``) and reserves the top
    ``1 - top`` of the figure for it through the tight layout engine.

    >>> fig, ax = new_figure(); _ = ax.plot([0, 1], label="a"); lg = figure_legend(fig, ax); plt.close(fig)
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    lg = fig.legend(handles, labels, loc="upper center", ncol=ncol, frameon=False, bbox_to_anchor=(0.5, 1.0),
                    fontsize=fontsize)
    fig.set_layout_engine("tight", rect=(0, 0, 1, top))
    return lg
