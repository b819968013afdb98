"""Figures: pathologies of deep random networks (Duvenaud et al., AISTATS 2014; the seed essay)."""

from __future__ import annotations

import numpy as np

from degeneracy.figures.registry import claim_settings, figure
from degeneracy.figures.style import COLORS, mean_band, new_figure, plain_log_ticks
from degeneracy.numerics.pathologies import jacobian_log_singular_values, random_mlp, warp_points
from degeneracy.theory import pathologies as th

WARP_DEPTHS = (0, 1, 2, 10, 40)
LN10 = np.log(10.0)


def _coord_colors(y: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] from 2-D coordinates (robustly rescaled by their 1st/99th percentiles)."""
    lo = np.percentile(y, 1, axis=1, keepdims=True)
    hi = np.percentile(y, 99, axis=1, keepdims=True)
    u = np.clip((y - lo) / np.where(hi > lo, hi - lo, 1.0), 0, 1)
    return np.stack([u[0], 0.5 * (u[0] + u[1]) * 0.6 + 0.2, u[1]], axis=-1) * np.array([0.95, 1.0, 0.95])


@figure("pathologies-warping",
        title="A 2-D grid coloured by where it is mapped after 0, 1, 2, 10, 40 random layers: standard (top) "
              "vs input-connected (bottom)",
        claims=("pathologies.jacobian-collapse",),
        caption="Each pixel of a grid on [-2.5, 2.5]^2 is coloured by the 2-D output f(x) of a random tanh network "
                "(100 hidden units per layer, 2 outputs; colour channels from the two output coordinates, rescaled "
                "by their 1st and 99th percentiles), after 0, 1, 2, 10 and 40 layers: standard networks (top) "
                "lose all but one direction of variation with depth (Duvenaud et al. 2014, Fig. 6); networks whose "
                "input is connected to every layer (bottom) keep two. One network per row; the panels are "
                "pictures, without axes; the pixel count per side is the mode's (120 / 500 / 500).")
def warping(ctx):
    n = ctx.size(120, 500, 500)  # pixels per side; 500 x 500 renders in seconds
    g = np.linspace(-2.5, 2.5, n)
    X, Y = np.meshgrid(g, g)
    pts = np.stack([X.ravel(), Y.ravel()])
    fig, axes = new_figure(2, len(WARP_DEPTHS), width=11, height=5.2)
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
    fig.set_layout_engine("constrained")  # keeps titles clear of the equal-aspect images of the row above
    return fig


@figure("pathologies-filaments",
        title="2-D Gaussian inputs warped by 1, 4, 6 random layers: density collapses onto filaments unless "
              "the input is connected to every layer",
        claims=("pathologies.jacobian-collapse",),
        caption="2-D standard Gaussian inputs (left) pushed through 1, 4 and 6 random layers of a 2-D deep network "
                "(Duvenaud et al. 2014, Fig. 5), each point coloured by its input position: without input "
                "connections the density collapses onto 1-D filaments; with the input connected to every layer "
                "it does not. The number of points is the mode's (5000 / 40000 / 100000); the panels are "
                "scatter pictures without axes.")
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


SPECTRA_DEPTHS = (2, 6, 25, 50)


@figure("pathologies-spectra",
        title="Normalized singular values s_i/s_1 of a 5-D deep-GP Jacobian at 2, 6, 25, 50 layers: standard, "
              "input-connected with unit variance (the paper's script), input-connected below the stationarity "
              "threshold",
        claims=("pathologies.jacobian-collapse",),
        caption="Step histograms (density of log10 s_i/s_1 over independent samples; the sample size is in the "
                "title) of the normalized singular values, computed to full relative accuracy at every depth "
                "(graded QR form of the product; no value is floored or cut). Dotted vertical lines: the exact "
                "asymptotic position L(mu_i - mu_1)/ln 10, or L(max(mu_i,0) - max(mu_1,0))/ln 10 when connected "
                "(Newman 1986; drawn from 25 layers on, where the O(1) offset is small against it). Each panel's "
                "x axis runs from its smallest value to 0. Settings are those of the claim "
                "pathologies.jacobian-collapse in the same mode.")
def spectra(ctx):
    st = claim_settings(ctx, "pathologies.jacobian-collapse")
    D, S, v_sub = st["dim"], st["samples"], st["subcritical_variance"]
    depths = SPECTRA_DEPTHS
    cases = (("standard", False, 1.0), ("connected, variance 1", True, 1.0),
             (f"connected, variance {v_sub:g}", True, v_sub))
    logs = {name: jacobian_log_singular_values(D, depths, S, variance=var, connected=conn, rng=ctx.spawn(name))
            for name, conn, var in cases}
    rates = {name: (th.connected_normalized_spectrum_rate(D, var) if conn else th.normalized_spectrum_rate(D))
             for name, conn, var in cases}
    fig, axes = new_figure(len(cases), len(depths), width=12.5, height=8.6)
    for col, L in enumerate(depths):
        for row, (name, _, _) in enumerate(cases):
            ax = axes[row, col]
            r = (logs[name][L][:, 1:] - logs[name][L][:, :1]) / LN10
            lo = float(r.min())
            if L >= 25:
                lo = min(lo, L * float(rates[name][-1]) / LN10)
            bins = np.linspace(np.floor(2 * lo - 0.5) / 2, 0.0, 61)
            for i in range(1, D):
                ax.hist(r[:, i - 1], bins=bins, histtype="step", density=True, color=COLORS[i - 1], lw=1.3,
                        label=f"$s_{i + 1}/s_1$")
                if L >= 25 and rates[name][i] < 0:
                    ax.axvline(L * rates[name][i] / LN10, color=COLORS[i - 1], ls=":", lw=1.4)
            ax.set_title(f"{name}: {L} layers", fontsize=9.5)
            ax.set_ylabel("density")
            ax.set_xlabel(r"$\log_{10}(s_i / s_1)$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    from matplotlib.lines import Line2D

    handles.append(Line2D([], [], color="0.3", ls=":", lw=1.4))
    labels.append(r"theory: $L(\mu_i-\mu_1)/\ln 10$")
    fig.suptitle(f"D = {D}, {S} independent samples per panel", y=0.995, va="top", fontsize=10)
    fig.legend(handles, labels, loc="upper center", ncol=5, frameon=False, bbox_to_anchor=(0.5, 0.972))
    fig.set_layout_engine("tight", rect=(0, 0, 1, 0.935))
    return fig


@figure("pathologies-participation",
        title="Participation ratio of hidden representations vs depth, per nonlinearity at matched criticality "
              "(left) and per normalization (middle, right)",
        claims=("pathologies.hidden-dimension-collapse", "pathologies.normalization"),
        caption="Participation ratio (sum lambda)^2 / sum lambda^2 of the covariance of the hidden units over the "
                "inputs, per layer: mean over independent random networks (line) with a band of +- 2 standard "
                "errors (the number of networks is in the title). Dashed: the input connected to every layer. "
                "All networks at the critical point chi = 1, q* = 1 of their nonlinearity; width, depth, number "
                "of inputs and networks are those of the claims pathologies.hidden-dimension-collapse and "
                "pathologies.normalization in the same mode. The panels share their y axis.")
def participation(ctx):
    st = claim_settings(ctx, "pathologies.hidden-dimension-collapse")
    depth, R, width, P, q = st["depth"], st["replicas"], st["width"], st["inputs"], st["q_star"]
    layers = list(range(1, depth + 1))
    fig, axes = new_figure(1, 3, width=12.0, height=4.6, sharey=True)
    kw = dict(width=width, depth=depth, inputs=P, replicas=R, q_star=q, layers=layers, jacobian=False)
    for k, act in enumerate(("tanh", "erf", "hard_tanh", "relu")):
        for conn, ls in ((False, "-"), (True, "--")):
            s = random_mlp(act, connected=conn, rng=ctx.spawn("act", act, str(conn)), **kw)
            mean_band(axes[0], layers, s.hidden_pr, color=COLORS[k], ls=ls, lw=1.3,
                      label=act + (" (connected)" if conn else ""))
    axes[0].set_title(f"nonlinearity (chi = 1, q* = {q:g}), {R} networks", fontsize=9.5)
    for ax, act in zip(axes[1:], ("tanh", "relu")):
        for k, norm in enumerate(("none", "batch", "layer", "divisive")):
            s = random_mlp(act, normalization=norm, rng=ctx.spawn("norm", act, norm), **kw)
            mean_band(ax, layers, s.hidden_pr, color=COLORS[k], lw=1.3, label=norm)
        ax.set_title(f"{act}: normalization, {R} networks", fontsize=9.5)
    for ax in axes:
        ax.set_xlabel("layer")
        ax.set_yscale("log")
        ax.set_ylabel(f"participation ratio ({P} inputs, width {width})")
        ax.tick_params(labelleft=True)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8, frameon=False)
    plain_log_ticks(axes[0])
    return fig
