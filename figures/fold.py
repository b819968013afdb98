"""Figures of the Fold experiment (Orhan 2018, the seed essay; docs/formulas.md §3).

The figures use the essay's sizes (depth 30, width 64, 10 runs) except in ``--quick`` mode, and
the same shared run as the ``fold.*`` claims (:func:`degeneracy.proofs.fold.shared_experiment`).
"""

from __future__ import annotations

import numpy as np

from degeneracy.numerics.fold import CONDITIONS, LABELS
from degeneracy.proofs.fold import shared_experiment

from .registry import figure
from .style import COLORS, new_figure

FLOOR = -40.0  # log10 floor: exact zeros of folded products (rank N/2^k) are drawn here
COLOR = {"fold0": COLORS[0], "fold1": COLORS[1], "fold2": COLORS[3], "ortho": COLORS[2]}


def _exp(ctx):
    return shared_experiment(ctx, "quick" if ctx.mode == "quick" else "full")


def _band(ax, x, runs, color, label):
    ok = np.all(np.isfinite(runs), axis=1)
    runs = runs[ok]
    m = runs.mean(axis=0)
    se = runs.std(axis=0, ddof=1) / np.sqrt(runs.shape[0]) if runs.shape[0] > 1 else 0 * m
    ax.plot(x, m, color=color, label=label + (f" ({int((~ok).sum())} diverged)" if (~ok).any() else ""))
    ax.fill_between(x, np.maximum(m - se, 1e-12), m + se, color=color, alpha=0.25, linewidth=0)


@figure("fold-learning-curves",
        title="Training loss of a deep linear network: Fold 0 / Fold 1 / Fold 2 / Ortho (mean and standard error over runs)",
        claims=("fold.fold0-plateau", "fold.fold1-larger-gradients-worse-loss", "fold.ortho-smaller-gradients-better-loss",
                "fold.gradient-norm-not-predictive"))
def learning_curves(ctx):
    exp = _exp(ctx)
    names = list(exp["runs"])
    fig, axes = new_figure(1, len(names), width=3.6 * len(names) + 0.4, height=3.0, squeeze=False)
    for ax, name in zip(axes[0], names):
        per = exp["runs"][name]
        x = np.arange(exp["epochs"] + 1)
        for c in CONDITIONS:
            _band(ax, x, per[c]["loss"], COLOR[c], LABELS[c])
        ax.set_yscale("log")
        ax.set_xlabel("epoch (full-batch step)")
        ax.set_ylabel("training loss")
        ax.set_title(f"{name}; depth {exp['L']}, width {exp['N']}, {exp['R']} runs")
        ax.legend(loc="upper right")
    return fig


@figure("fold-gradient-norms",
        title="Norm of the gradient with respect to each layer's activations, before training and after a few epochs",
        claims=("fold.fold1-larger-gradients-worse-loss", "fold.ortho-smaller-gradients-better-loss"))
def gradient_norms(ctx):
    exp = _exp(ctx)
    name = next(iter(exp["runs"]))
    per = exp["runs"][name]
    fig, axes = new_figure(1, 2, width=8.0, height=3.0)
    layers = np.arange(exp["L"] + 1)
    for ax, key, title in ((axes[0], "delta0", "before training"), (axes[1], "delta_few", f"after {exp['few']} epochs")):
        for c in CONDITIONS:
            _band(ax, layers, per[c][key], COLOR[c], LABELS[c])
        ax.set_yscale("log")
        ax.set_xlabel("layer l (0 = input)")
        ax.set_ylabel(r"$\|\partial \mathrm{loss} / \partial x_l\|$")
        ax.set_title(f"{title} ({name})")
    axes[0].legend(loc="best")
    return fig


@figure("fold-gauss-newton-spectrum",
        title="Gauss-Newton spectrum and end-to-end singular values at initialization, per condition",
        claims=("fold.effective-dimension",))
def gauss_newton(ctx):
    exp = _exp(ctx)
    fig, axes = new_figure(1, 2, width=8.0, height=3.0)
    for c in CONDITIONS:
        lam = exp["init"][c]["gn_spectrum"]
        lam = np.clip(lam / lam[:, :1], 1e-18, None)
        k = np.arange(1, lam.shape[1] + 1) / lam.shape[1]
        for r in range(lam.shape[0]):
            axes[0].plot(k, lam[r], color=COLOR[c], alpha=0.35, linewidth=0.8, label=LABELS[c] if r == 0 else None)
        ls = np.maximum(exp["init"][c]["product_logsv"] / np.log(10), FLOOR)  # rank-deficient: numerically 0
        kk = np.arange(1, ls.shape[1] + 1)
        axes[1].plot(kk, ls.mean(axis=0), "o", markersize=2.5, color=COLOR[c], label=LABELS[c])
    axes[0].set_yscale("log")
    axes[0].set_ylim(1e-12, 2)
    axes[0].set_xlabel("eigenvalue rank / count")
    axes[0].set_ylabel(r"$\lambda_k / \lambda_{max}$ (Gauss-Newton)")
    axes[0].set_title("Gauss-Newton spectrum at init (each run)")
    axes[0].legend(loc="lower left")
    axes[1].axhline(FLOOR, color="grey", linestyle=":", linewidth=1)
    axes[1].text(1, FLOOR + 1.2, "exact zeros (rank of the fold) drawn at the floor", fontsize=7, color="grey")
    axes[1].set_ylim(FLOOR - 1, 2)
    axes[1].set_xlabel("index i")
    axes[1].set_ylabel(r"$\log_{10} \sigma_i(W_L \cdots W_1)$ (mean over runs)")
    axes[1].set_title("end-to-end singular values at init")
    axes[1].legend(loc="center right")
    return fig
