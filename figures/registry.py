"""The figure registry: ``@figure(id, title=..., claims=..., caption=...)`` and the renderer.

A figure function takes a :class:`proofs.context.Context` (``ctx.rng``, ``ctx.mode``,
``ctx.size``) and returns a matplotlib Figure; :func:`build` makes and lays it out,
:func:`render` writes ``<out>/<id>.png`` and ``.svg`` (and ``.pdf`` on request). The stream of a
figure is spawned from the seed and the figure id, so the same seed gives the same image, and
every format is written without dates (same seed, same bytes).

The ``caption`` says what the reader sees: what the lines, markers and bands are (error bars: which
multiple of the standard error, over how many independent runs), which values are censored or
clipped and how they are drawn, and where the sizes are stated. The README and the gallery print
it under the image. A figure illustrating claims uses their settings (:func:`claim_settings`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import time
from dataclasses import dataclass
from typing import Callable

from degeneracy.errors import ArgumentValueError
from degeneracy.proofs.context import make_context
from degeneracy.proofs.registry import AREAS, select

from .style import STYLE, finalize, save

__all__ = ["Figure", "FIGURES", "figure", "load_all", "build", "render", "claim_settings", "select_figures",
           "DEFAULT_OUT", "CROSS_AREA"]

#: where ``degeneracy figures`` writes without ``--out``: a folder of the current directory (never the
#: installed package). The README's images are made with ``--out figures/images`` from the checkout.
DEFAULT_OUT = "degeneracy-figures"


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    claims: tuple
    fn: Callable
    module: str = ""
    caption: str = ""


FIGURES: dict[str, Figure] = {}


def figure(id: str, *, title: str, claims: tuple = (), caption: str = ""):
    """Register ``fn(ctx) -> matplotlib.figure.Figure`` as the figure ``id`` (``area-name``).

    ``caption``: what is drawn, in sentences (see the module docstring); ``claims``: the claim ids
    the figure illustrates.
    """
    if not isinstance(id, str) or not id.replace("-", "").isalnum() or id.lower() != id:
        raise ArgumentValueError(f"figure id must be lowercase letters, digits and dashes, got {id!r}")

    def deco(fn):
        FIGURES[id] = Figure(id, title, tuple(claims), fn, fn.__module__, " ".join(caption.split()))
        return fn

    return deco


#: figure modules that span several areas (their figure ids start with the module name)
CROSS_AREA = ("realdata",)


def load_all() -> None:
    """Import ``figures.<area>`` for every area module present, and the cross-area modules."""
    for area in AREAS + CROSS_AREA:
        name = f"degeneracy.figures.{area}"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def claim_settings(ctx, claim_id: str) -> dict:
    """The settings of claim ``claim_id`` in the figure's mode: a figure shows what its claim checks.

    >>> from degeneracy.proofs.context import make_context
    >>> claim_settings(make_context("x", seed=0, mode="quick"), "pathologies.jacobian-collapse")["dim"]
    5
    """
    from degeneracy.proofs.registry import get_claim
    from degeneracy.proofs.registry import load_all as load_claims

    load_claims()
    return get_claim(claim_id).settings_for(ctx.mode)


def build(fig: Figure, *, seed: int = 0, mode: str = "default"):
    """Make figure ``fig`` (a matplotlib Figure, laid out) with the run's seed and mode, one BLAS thread."""
    import matplotlib.pyplot as plt
    from threadpoolctl import threadpool_limits

    ctx = make_context(fig.id, seed=seed, mode=mode)
    with plt.rc_context(STYLE), threadpool_limits(limits=1):
        return finalize(fig.fn(ctx))


def render(fig: Figure, *, out: str = DEFAULT_OUT, seed: int = 0, mode: str = "default",
           formats=("png", "svg")) -> tuple[list[str], float]:
    """Render one figure into ``out`` in ``formats`` (png, svg, pdf); returns the written paths and the seconds taken."""
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    f = build(fig, seed=seed, mode=mode)
    paths = save(f, os.path.join(out, fig.id), formats)
    return paths, time.perf_counter() - t0


def select_figures(pattern: str | None) -> list[Figure]:
    """Figures whose id matches the glob ``pattern`` (``ValueError`` when none does)."""
    load_all()
    return select(pattern, FIGURES)
