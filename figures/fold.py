"""Figures of the Fold experiment (Orhan 2018, the seed essay; docs/formulas.md §3).

The figures read the same shared run as the ``fold.*`` claims
(:func:`degeneracy.proofs.fold.shared_experiment`) in the same mode and seed, so they show the
numbers the claims check (the essay's sizes -- depth 30, width 64, 10 runs -- with ``--full``).
Each figure states its sizes on it.
"""

from __future__ import annotations

import numpy as np

from degeneracy.numerics.fold import CONDITIONS, GN_RTOL, LABELS
from degeneracy.proofs.fold import shared_experiment

from .registry import figure
from .style import COLORS, figure_legend, mark_clipped, mean_band, new_figure, plain_log_ticks

FLOOR = -40.0  # log10: end-to-end singular values below this are zero in exact arithmetic (the fold's rank)
GN_FLOOR = 1e-12  # Gauss-Newton eigenvalues below this x the largest are rounding-level (or exact) zeros
COLOR = {"fold0": COLORS[0], "fold1": COLORS[1], "fold2": COLORS[3], "ortho": COLORS[2]}


def _exp(ctx):
    return shared_experiment(ctx)


def _sizes(exp) -> str:
    return f"depth {exp['L']}, width {exp['N']}, {exp['R']} runs"


def _band(ax, x, runs, color, label):
    """Geometric mean over the finite runs with a band of +- 2 s.e. of the log; diverged runs are counted in the label."""
    ok = np.all(np.isfinite(runs) & (runs > 0), axis=1)
    extra = f" ({int((~ok).sum())} diverged, left out)" if (~ok).any() else ""
    if ok.sum() >= 2:
        mean_band(ax, x, runs[ok], color=color, label=label + extra, log=True)


@figure("fold-learning-curves",
        title="Training loss of a deep linear network: Fold 0 / Fold 1 / Fold 2 / Ortho",
        claims=("fold.fold0-plateau", "fold.fold1-larger-gradients-worse-loss", "fold.ortho-smaller-gradients-better-loss",
                "fold.gradient-norm-not-predictive", "fold.effective-dimension"),
        caption="Training loss per epoch (full-batch step) for each initialization and each optimizer setting of the "
                "claims: geometric mean over independent runs (line; the claims compare log losses) with a band of "
                "+- 2 standard errors of the mean log loss over those runs. Runs that diverged are left out and "
                "counted in the legend. Depth, width and runs are printed in the panel titles: the claims' shared "
                "experiment in the same mode and seed (the same numbers the fold.* claims test).")
def learning_curves(ctx):
    exp = _exp(ctx)
    names = list(exp["runs"])
    fig, axes = new_figure(1, len(names), width=min(12.5, 4.6 * len(names) + 0.4), height=4.0, squeeze=False)
    for ax, name in zip(axes[0], names):
        per = exp["runs"][name]
        x = np.arange(exp["epochs"] + 1)
        for c in CONDITIONS:
            _band(ax, x, per[c]["loss"], COLOR[c], LABELS[c])
        ax.set_yscale("log")
        ax.set_xlabel("epoch (full-batch step)")
        ax.set_ylabel("training loss")
        ax.set_title(f"{name}; {_sizes(exp)}", fontsize=9.5)
        plain_log_ticks(ax)
    figure_legend(fig, axes[0, 0], ncol=4, top=0.91)
    return fig


@figure("fold-gradient-norms",
        title="Norm of the gradient with respect to each layer's activations, before training and after a few epochs",
        claims=("fold.fold1-larger-gradients-worse-loss", "fold.ortho-smaller-gradients-better-loss"),
        caption="||d loss / d x_l|| per layer l for each initialization, under the claims' first optimizer setting: "
                "geometric mean over independent runs (line; the claims compare log norms) with a band of +- 2 "
                "standard errors of the mean log norm. Left at initialization, right after the few epochs named in "
                "the title. Sizes: the claims' shared experiment in the same mode and seed.")
def gradient_norms(ctx):
    exp = _exp(ctx)
    name = next(iter(exp["runs"]))
    per = exp["runs"][name]
    fig, axes = new_figure(1, 2, width=9.5, height=3.9)
    layers = np.arange(exp["L"] + 1)
    for ax, key, title in ((axes[0], "delta0", "before training"), (axes[1], "delta_few", f"after {exp['few']} epochs")):
        for c in CONDITIONS:
            _band(ax, layers, per[c][key], COLOR[c], LABELS[c])
        ax.set_yscale("log")
        ax.set_xlabel("layer l (0 = input)")
        ax.set_ylabel(r"$\|\partial \mathrm{loss} / \partial x_l\|$")
        ax.set_title(f"{title} ({name})", fontsize=9.5)
        plain_log_ticks(ax)
    fig.suptitle(_sizes(exp), fontsize=9.5, y=0.995, va="top")
    figure_legend(fig, axes[0], ncol=4, top=0.89)
    fig.legends[0].set_bbox_to_anchor((0.5, 0.955))
    return fig


@figure("fold-gauss-newton-spectrum",
        title="Gauss-Newton spectrum and end-to-end singular values at initialization, per condition",
        claims=("fold.effective-dimension",),
        caption="Left: eigenvalues of the Gauss-Newton matrix at initialization over the claims' probe inputs, "
                "divided by the largest, against their rank (one thin line per run); dashed: the claim's near-null "
                "cut. Eigenvalues below 1e-12 of the largest (rounding-level; Fold-k makes some exactly zero) are "
                "drawn on the bottom edge, as the panel says. Right: log10 singular values of the end-to-end "
                "product W_L...W_1 (graded QR, accurate far below machine epsilon), mean over runs; values that are "
                "zero in exact arithmetic (beyond the fold's rank N/2^k; float64 leaves them near 1e-150) are drawn "
                "as triangles on the floor line. Sizes: the claims' shared experiment in the same mode and seed.")
def gauss_newton(ctx):
    exp = _exp(ctx)
    fig, axes = new_figure(1, 2, width=10.0, height=4.0)
    ax = axes[0]
    floored = {}
    lows = []
    for c in CONDITIONS:
        lam = exp["init"][c]["gn_spectrum"]
        lam = lam / lam[:, :1]
        low = lam < GN_FLOOR
        floored[c] = int(low.sum())
        if (~low).any():
            lows.append(lam[~low].min())
        k = np.arange(1, lam.shape[1] + 1) / lam.shape[1]
        for r in range(lam.shape[0]):
            ax.plot(k, np.maximum(lam[r], GN_FLOOR), color=COLOR[c], alpha=0.4, linewidth=0.9,
                    label=LABELS[c] if r == 0 else None)
    ax.axhline(GN_RTOL, color="k", ls="--", lw=1.1, label=f"near-null cut ({GN_RTOL:g})")
    ax.set_yscale("log")
    if any(floored.values()):
        ax.set_ylim(GN_FLOOR / 3, 3)
        # two lines, above the floored values on the bottom edge (the text must not cover them)
        mark_clipped(ax, "below 1e-12 (rounding-level zeros),\ndrawn on the bottom edge: "
                     + ", ".join(f"{LABELS[c]} {n}" for c, n in floored.items() if n), y=0.07, fontsize=7.5)
    else:
        ax.set_ylim(min(lows) / 3, 3)
    ax.set_xlabel("eigenvalue rank / number of eigenvalues")
    ax.set_ylabel(r"$\lambda_k / \lambda_{\max}$ (Gauss-Newton)")
    ax.set_title("Gauss-Newton spectrum at init (each run)", fontsize=9.5)
    ax = axes[1]
    for j, c in enumerate(CONDITIONS):
        ls = exp["init"][c]["product_logsv"] / np.log(10)
        kk = np.arange(1, ls.shape[1] + 1)
        zero = np.all(ls < FLOOR, axis=0)
        m = np.where(ls < FLOOR, np.nan, ls)
        with np.errstate(invalid="ignore"):
            m = np.nanmean(np.where(zero[None, :], 0.0, m), axis=0)
        ax.plot(kk[~zero], m[~zero], "o", markersize=3, color=COLOR[c])
        if zero.any():
            dodge = 0.22 * (j - 1.5)  # several conditions share the floor: side by side
            ax.plot(kk[zero] + dodge, np.full(zero.sum(), FLOOR), "v", markersize=4, color=COLOR[c], mfc="none")
    ax.axhline(FLOOR, color="grey", linestyle=":", linewidth=1)
    ax.set_ylim(FLOOR - 2, 3)
    ticks = [t for t in ax.get_yticks() if FLOOR + 5 <= t <= 3]
    ax.set_yticks([FLOOR] + ticks)
    ax.set_yticklabels(["exact 0"] + [f"{t:g}" for t in ticks])
    ax.set_xlabel("index i")
    ax.set_ylabel(r"$\log_{10} \sigma_i(W_L \cdots W_1)$, mean over runs")
    ax.set_title("end-to-end singular values at init", fontsize=9.5)
    from matplotlib.lines import Line2D

    handles, labels = axes[0].get_legend_handles_labels()
    handles = [Line2D([], [], color=COLOR[c], lw=2) for c in CONDITIONS] + handles[-1:] + [
        Line2D([], [], color="0.3", ls="none", marker="v", mfc="none")]
    labels = [LABELS[c] for c in CONDITIONS] + labels[-1:] + ["zero in exact arithmetic (drawn on the floor)"]
    fig.suptitle(_sizes(exp), fontsize=9.5, y=0.995, va="top")
    figure_legend(fig, handles=handles, labels=labels, ncol=6, top=0.89, fontsize=8)
    fig.legends[0].set_bbox_to_anchor((0.5, 0.955))
    return fig
