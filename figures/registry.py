"""The figure registry: ``@figure(id, title=..., claims=...)`` and the renderer.

A figure function takes a :class:`proofs.context.Context` (``ctx.rng``, ``ctx.mode``,
``ctx.size``) and returns a matplotlib Figure; :func:`render` writes ``<out>/<id>.png`` and
``.svg``. The stream of a figure is spawned from the seed and the figure id, so the same
seed gives the same image.
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

from .style import STYLE, save

__all__ = ["Figure", "FIGURES", "figure", "load_all", "render", "DEFAULT_OUT", "CROSS_AREA"]

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


FIGURES: dict[str, Figure] = {}


def figure(id: str, *, title: str, claims: tuple = ()):
    """Register ``fn(ctx) -> matplotlib.figure.Figure`` as the figure ``id`` (``area-name``)."""
    if not isinstance(id, str) or not id.replace("-", "").isalnum() or id.lower() != id:
        raise ArgumentValueError(f"figure id must be lowercase letters, digits and dashes, got {id!r}")

    def deco(fn):
        FIGURES[id] = Figure(id, title, tuple(claims), fn, fn.__module__)
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


def render(fig: Figure, *, out: str = DEFAULT_OUT, seed: int = 0, mode: str = "default") -> tuple[list[str], float]:
    """Render one figure into ``out``; returns the written paths and the seconds taken."""
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    ctx = make_context(fig.id, seed=seed, mode=mode)
    t0 = time.perf_counter()
    from threadpoolctl import threadpool_limits

    with plt.rc_context(STYLE), threadpool_limits(limits=1):
        f = fig.fn(ctx)
        paths = save(f, os.path.join(out, fig.id))
    return paths, time.perf_counter() - t0


def select_figures(pattern: str | None) -> list[Figure]:
    """Figures whose id matches the glob ``pattern`` (``ValueError`` when none does)."""
    load_all()
    return select(pattern, FIGURES)
