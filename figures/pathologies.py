"""Figures: pathologies of deep random networks (Duvenaud et al., AISTATS 2014; the seed essay)."""

from __future__ import annotations

import numpy as np

from degeneracy.figures.registry import figure
from degeneracy.figures.style import COLORS, new_figure
from degeneracy.numerics.pathologies import jacobian_spectra, random_mlp, warp_points
from degeneracy.theory import pathologies as th

WARP_DEPTHS = (0, 1, 2, 10, 40)


def _coord_colors(y: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] from 2-D coordinates (robustly rescaled by their 1st/99th percentiles)."""
    lo = np.percentile(y, 1, axis=1, keepdims=True)
    hi = np.percentile(y, 99, axis=1, keepdims=True)
    u = np.clip((y - lo) / np.where(hi > lo, hi - lo, 1.0), 0, 1)
    return np.stack([u[0], 0.5 * (u[0] + u[1]) * 0.6 + 0.2, u[1]], axis=-1) * np.array([0.95, 1.0, 0.95])


@figure("pathologies-warping",
        title="A 2-D grid coloured by where it is mapped after 0, 1, 2, 10, 40 random layers: standard (top) "
              "vs input-connected (bottom)",
        claims=("pathologies.jacobian-collapse",))
def warping(ctx):
    n = ctx.size(120, 500, 500)  # pixels per side; 500 x 500 renders in seconds
    g = np.linspace(-2.5, 2.5, n)
    X, Y = np.meshgrid(g, g)
    pts = np.stack([X.ravel(), Y.ravel()])
    fig, axes = new_figure(2, len(WARP_DEPTHS), width=11, height=4.8)
    for row, connected in enumerate((False, True)):
        maps = warp_points(pts, max(WARP_DEPTHS), connected=connected, record=WARP_DEPTHS,
                           rng=ctx.spawn("warp", str(connected)))
        for col, L in enumerate(WARP_DEPTHS):
            ax = axes[row, col]
            ax.imshow(_coord_colors(maps[L]).reshape(n, n, 3), origin="lower", extent=(-2.5, 2.5, -2.5, 2.5),
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            ax.set_title(("identity" if L == 0 else f"{L} layer" + ("s" if L > 1 else "")) +
                         (" (connected)" if connected and L > 0 else ""))
        axes[row, 0].set_ylabel("input-connected" if connected else "standard")
    fig.suptitle("colour = position of f(x); tanh layers with 100 hidden units, 2 outputs", fontsize=9)
    return fig


@figure("pathologies-filaments",
        title="2-D Gaussian inputs warped by 1, 4, 6 random layers: density collapses onto filaments unless "
              "the input is connected to every layer",
        claims=("pathologies.jacobian-collapse",))
def filaments(ctx):
    P = ctx.size(5000, 40000, 100000)
    x = ctx.rng.standard_normal((2, P))
    depths = (1, 4, 6)
    fig, axes = new_figure(2, 4, width=10, height=5.2)
    for row, connected in enumerate((False, True)):
        maps = warp_points(x, max(depths), connected=connected, record=(0,) + depths,
                           rng=ctx.spawn("filaments", str(connected)))
        col_rgb = _coord_colors(x)
        for col, L in enumerate((0,) + depths):
            ax = axes[row, col]
            y = maps[L]
            ax.scatter(y[0], y[1], s=0.3, c=col_rgb, alpha=0.5, linewidths=0, rasterized=True)
            ax.set_title("p(x)" if L == 0 else f"{L} layer{'s' if L > 1 else ''}" + (", connected" if connected else ""))
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel("input-connected" if connected else "standard")
    return fig


@figure("pathologies-spectra",
        title="Normalized singular values s_i/s_1 of a 5-D deep-GP Jacobian at 2, 6, 25, 50 layers: standard, "
              "input-connected with unit variance (the paper's script), input-connected with variance 0.1",
        claims=("pathologies.jacobian-collapse",))
def spectra(ctx):
    S = ctx.size(3000, 20000, 100000)
    depths = (2, 6, 25, 50)
    cases = (("standard", False, 1.0), ("connected, var 1", True, 1.0), ("connected, var 0.1", True, 0.1))
    fig, axes = new_figure(len(cases), len(depths), width=11, height=7.5, sharex=True)
    bins = np.linspace(-12, 0, 61)
    mu = th.normalized_spectrum_rate(5)
    for row, (name, conn, var) in enumerate(cases):
        out = jacobian_spectra(5, depths, S, variance=var, connected=conn, rng=ctx.spawn(name))
        rate = th.connected_normalized_spectrum_rate(5, var) if conn else mu
        for col, L in enumerate(depths):
            ax = axes[row, col]
            for i in range(1, 5):
                ax.hist(np.log10(np.maximum(out[L][:, i], 1e-12)), bins=bins, histtype="step", density=True,
                        color=COLORS[i - 1], label=f"s{i + 1}/s1")
                if L >= 25 and rate[i] < 0:
                    ax.axvline(L * rate[i] / np.log(10), color=COLORS[i - 1], ls=":", lw=1)
            ax.set_title(f"{name}: {L} layers")
            if row == len(cases) - 1:
                ax.set_xlabel("log10(s_i / s_1)")
            if col == 0:
                ax.set_ylabel("density")
    axes[0, 0].legend(loc="upper left")
    fig.suptitle("dotted: L (mu_i - mu_1) (exact Lyapunov rate; offset O(1))", fontsize=9)
    return fig


@figure("pathologies-participation",
        title="Participation ratio of hidden representations vs depth, per nonlinearity at matched criticality "
              "(left) and per normalization (right)",
        claims=("pathologies.hidden-dimension-collapse", "pathologies.normalization"))
def participation(ctx):
    depth = ctx.size(20, 50, 50)
    R = ctx.size(6, 16, 32)
    layers = list(range(1, depth + 1))
    fig, axes = new_figure(1, 3, width=11, height=3.6)
    for k, act in enumerate(("tanh", "erf", "hard_tanh", "relu")):
        for conn, ls in ((False, "-"), (True, "--")):
            s = random_mlp(act, depth=depth, replicas=R, layers=layers, jacobian=False, connected=conn,
                           rng=ctx.spawn("act", act, str(conn)))
            m, e = s.hidden_pr.mean(0), s.hidden_pr.std(0, ddof=1) / np.sqrt(R)
            axes[0].errorbar(layers, m, yerr=e, color=COLORS[k], ls=ls, lw=1.2, capsize=0,
                             label=act + (" (connected)" if conn else ""))
    axes[0].set_title("nonlinearity (chi = 1, q* = 1)")
    for ax, act in zip(axes[1:], ("tanh", "relu")):
        for k, norm in enumerate(("none", "batch", "layer", "divisive")):
            s = random_mlp(act, depth=depth, replicas=R, layers=layers, jacobian=False, normalization=norm,
                           rng=ctx.spawn("norm", act, norm))
            m, e = s.hidden_pr.mean(0), s.hidden_pr.std(0, ddof=1) / np.sqrt(R)
            ax.errorbar(layers, m, yerr=e, color=COLORS[k], lw=1.2, label=norm)
        ax.set_title(f"{act}: normalization")
    for ax in axes:
        ax.set_xlabel("layer")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("participation ratio (64 inputs, width 100)")
    return fig
