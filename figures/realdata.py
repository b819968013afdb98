"""Figures of the training experiments on real data (scikit-learn's handwritten digits).

Each figure draws the first batch of runs of its claim's experiment at the claim's sizes in the
figure's mode, from the runs the claims read (:func:`degeneracy.proofs.realdata.shared_run`,
:func:`degeneracy.proofs.fold.digits_experiment`): with the same seed and mode, figure and
verdict show the same numbers (the claims may add further batches). Curves are the mean over
independent runs (each run its own train/test split, initialization and minibatch order) with a
band of one standard error over those runs, as every title says. Without scikit-learn a figure
raises :class:`degeneracy.errors.SkipClaim` naming ``pip install 'degeneracy[data]'``.
"""

from __future__ import annotations

import numpy as np

from degeneracy.numerics.fold import CONDITIONS, LABELS
from degeneracy.proofs.fold import digits_experiment
from degeneracy.proofs.realdata import shared_run

from .registry import claim_settings, figure
from .style import COLORS, new_figure

ARM_COLOR = {"plain": COLORS[0], "residual": COLORS[1], "symmetric-skip": COLORS[2], "orthogonal": COLORS[2],
             "gaussian": COLORS[0], "none": COLORS[7], "batch": COLORS[0], "layer": COLORS[1], "divisive": COLORS[2],
             "fold0": COLORS[0], "fold1": COLORS[1], "fold2": COLORS[3], "ortho": COLORS[2]}


def _band(ax, x, runs, color, label):
    """Mean over runs (rows) with a band of one standard error; runs with non-finite values are left out."""
    runs = np.asarray(runs, dtype=float)
    ok = np.all(np.isfinite(runs), axis=1)
    kept = runs[ok]
    if kept.shape[0] == 0:
        return
    m = kept.mean(axis=0)
    se = kept.std(axis=0, ddof=1) / np.sqrt(kept.shape[0]) if kept.shape[0] > 1 else 0 * m
    extra = f" ({int((~ok).sum())} diverged)" if (~ok).any() else ""
    ax.plot(x, m, "o-", ms=2.5, color=color, label=label + extra)
    ax.fill_between(x, m - se, m + se, color=color, alpha=0.25, lw=0)


def _legend(fig, axes, ncol):
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False, fontsize=8)


@figure("realdata-skip-training",
        title="Digits: training loss, test accuracy and degeneracy measures over training of deep plain, residual "
              "and symmetric-skip ReLU networks (mean +- s.e. over independent runs)",
        claims=("singularities.plain-vs-residual-digits", "singularities.symmetry-breaking-is-the-mechanism-digits"),
        caption="Fully connected ReLU networks on scikit-learn's handwritten digits (inputs PCA-whitened to the width), "
                "trained by Adam on the softmax cross-entropy with minibatches; each run has its own train/test split, "
                "initialization and minibatch order, shared by the three arms (plain, residual, symmetric-skip). "
                "Panels: training loss, test accuracy and the degeneracy measures of Orhan & Pitkow (2018) over "
                "training: fraction of eliminated units, largest |cosine| between two units' responses (overlap), "
                "s_min/s_max of the response matrix (linear dependence), near-null fraction of the Gauss-Newton "
                "spectrum. The runs are the first batch of those the claims read (same mode and seed). Lines: mean "
                "over runs; bands: +-1 standard error over the runs (count in the title).")
def skip_training(ctx):
    st = claim_settings(ctx, "singularities.plain-vs-residual-digits")
    depth, width, runs = st["depth"], st["width"], st["batch"]
    arms = ("plain", "residual", "symmetric-skip")
    out = shared_run("skip", ctx.seed, arms, {k: st[k] for k in ("depth", "width", "steps", "checkpoints")} |
                     {"runs": runs})
    panels = (("loss", "training cross-entropy", True), ("accuracy", "test accuracy", False),
              ("eliminated", "eliminated-unit fraction", False), ("overlap", "largest response |cos|", False),
              ("dependence", r"$s_{min}/s_{max}$ of responses", False), ("gn_null", "near-null Gauss-Newton fraction",
                                                                        False))
    fig, axes = new_figure(2, 3, width=10.0, height=6.4, layout="constrained")
    for ax, (key, label, logy) in zip(axes.flat, panels):
        for arm in arms:
            a = {"loss": out.train_loss, "accuracy": out.test_accuracy}.get(key)
            a = a[arm] if a is not None else out.measures[arm][key]
            _band(ax, out.steps, a, ARM_COLOR[arm], arm)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("Adam step")
        ax.set_ylabel(label)
    _legend(fig, axes, 3)
    fig.suptitle(f"digits, ReLU, depth {depth}, width {width} (inputs PCA-whitened to {width}), batch "
                 f"{out.settings['batch_size']}; mean $\\pm$ s.e. over {runs} runs", fontsize=9)
    return fig


@figure("realdata-isometry-speed",
        title="Digits: critical tanh networks with orthogonal vs Gaussian weights, training loss under SGD and steps "
              "to the loss threshold per run (mean +- s.e. over independent runs)",
        claims=("isometry.trains-faster-digits",),
        caption="Critical tanh networks (chi = 1 at q* = 0.05) on the digits, trained by minibatch SGD on the softmax "
                "cross-entropy from orthogonal or Gaussian initial weights (same split and minibatch order per run); "
                "the runs are the first batch of those the claim reads (same mode and seed). Left: training loss, "
                "mean over runs with a +-1 s.e. band; dashed: the loss threshold. Right: steps "
                "to reach the threshold, one dot per run (triangles: runs that never reached it, drawn at the step "
                "budget: censored), black: mean +-1 s.e.")
def isometry_speed(ctx):
    st = claim_settings(ctx, "isometry.trains-faster-digits")
    depth, width, runs = st["depth"], st["width"], st["batch"]
    out = shared_run("isometry", ctx.seed, ("orthogonal", "gaussian"),
                     {k: st[k] for k in ("depth", "width", "steps", "eval_every", "lr", "q_star", "threshold")} |
                     {"runs": runs})
    thr = out.settings["threshold"]
    fig, axes = new_figure(1, 2, width=8.0, height=3.4, layout="constrained")
    for k, arm in enumerate(("orthogonal", "gaussian")):
        _band(axes[0], out.steps, out.train_loss[arm], ARM_COLOR[arm], arm.capitalize() if k else arm)
        first, cens = out.extra[arm]["steps_to_threshold"], out.extra[arm]["censored"]
        jitter = np.linspace(-0.12, 0.12, first.size)
        axes[1].plot(k + jitter[~cens], first[~cens], "o", ms=4, color=ARM_COLOR[arm])
        axes[1].plot(k + jitter[cens], first[cens], "^", ms=5, mfc="none", color=ARM_COLOR[arm])
        se = first.std(ddof=1) / np.sqrt(first.size) if first.size > 1 else 0.0
        axes[1].errorbar(k + 0.3, first.mean(), yerr=se, fmt="s", color="k", ms=4, capsize=3)
    axes[0].axhline(thr, color="0.5", lw=0.8, ls="--")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("SGD step")
    axes[0].set_ylabel("training cross-entropy")
    axes[1].set_xticks([0, 1], ["orthogonal", "Gaussian"])
    axes[1].set_xlabel("initial weights")
    axes[1].set_xlim(-0.5, 1.6)
    axes[1].set_ylabel(f"steps to loss $\\leq$ {thr:g}")
    axes[1].set_title("runs (triangles: censored); black: mean $\\pm$ s.e.", fontsize=8)
    _legend(fig, axes, 2)
    fig.suptitle(f"digits, tanh at $\\chi = 1$, $q^* = {out.settings['q_star']:g}$, depth {depth}, width {width}, "
                 f"SGD lr {out.settings['lr']:g}; mean $\\pm$ s.e. over {runs} runs", fontsize=9)
    return fig


@figure("realdata-normalization",
        title="Digits: batch, layer and divisive normalization vs none, training loss, test accuracy and the "
              "participation ratio of the last hidden layer over training (mean +- s.e. over independent runs)",
        claims=("pathologies.normalization-digits",),
        caption="ReLU networks on the digits without normalization and with batch, layer or divisive normalization "
                "(same split, initialization and minibatch order per run), trained by Adam on the softmax "
                "cross-entropy. Panels: training loss, test accuracy and the participation ratio of the last hidden "
                "layer's representation of held-out probe inputs (its effective dimension). The runs are the first "
                "batch of those the claim reads (same mode and seed). Lines: mean over runs; "
                "bands: +-1 standard error over the runs (count in the title).")
def normalization(ctx):
    st = claim_settings(ctx, "pathologies.normalization-digits")
    depth, width, runs = st["depth"], st["width"], st["batch"]
    arms = ("none", "batch", "layer", "divisive")
    out = shared_run("normalization", ctx.seed, arms,
                     {k: st[k] for k in ("depth", "width", "steps", "checkpoints", "probe")} | {"runs": runs})
    fig, axes = new_figure(1, 3, width=10.0, height=3.4, layout="constrained")
    for arm in arms:
        _band(axes[0], out.steps, out.train_loss[arm], ARM_COLOR[arm], arm)
        _band(axes[1], out.steps, out.test_accuracy[arm], ARM_COLOR[arm], arm)
        _band(axes[2], out.steps, out.measures[arm]["pr_last"], ARM_COLOR[arm], arm)
    axes[0].set_yscale("log")
    for ax, label in zip(axes, ("training cross-entropy", "test accuracy", f"participation ratio, layer {depth}")):
        ax.set_xlabel("Adam step")
        ax.set_ylabel(label)
    _legend(fig, axes, 4)
    fig.suptitle(f"digits, ReLU, depth {depth}, width {width}, {out.settings['probe']} held-out probe inputs; "
                 f"mean $\\pm$ s.e. over {runs} runs", fontsize=9)
    return fig


@figure("realdata-fold",
        title="Digits: the Fold experiment, a deep linear network regressing one-hot labels of PCA-whitened digits "
              "from Fold 0/1/2 and orthogonal initializations (mean +- s.e. over independent runs)",
        claims=("fold.fold0-plateau-digits", "fold.fold1-larger-gradients-worse-loss-digits",
                "fold.ortho-smaller-gradients-better-loss-digits", "fold.gradient-norm-not-predictive-digits",
                "fold.effective-dimension-digits"),
        caption="The seed essay's Fold experiment on real data: a deep linear network regresses the one-hot labels of "
                "PCA-whitened digits (full-batch training, which only sees the input-label cross-covariance) from "
                "Fold 0 (Gaussian), Fold 1 and Fold 2 (folded once or twice: rank N/2, N/4) and orthogonal initial "
                "weights, with Adam (left) and gradient descent (right), both at lr 1e-3; runs that diverged are "
                "left out and counted in the panel's title. The loss is shown above the best linear "
                "fit's (the part training can remove), log scale. The runs are the first batch of those the claims "
                "read (same mode and seed). Lines: mean over runs; bands: +-1 standard error "
                "over the runs (count in the title).")
def fold(ctx):
    out = digits_experiment(ctx)  # the first batch of the fold.*-digits claims' runs; losses are the excess
    width, depth, runs, epochs = out["N"], out["L"], out["R"], out["epochs"]
    fig, axes = new_figure(1, 2, width=8.0, height=3.4, layout="constrained")
    x = np.arange(epochs + 1)
    for ax, name in zip(axes, out["runs"]):
        gone = []
        for c in CONDITIONS:  # the excess over the best linear fit's loss, run by run
            loss = out["runs"][name][c]["loss"]
            _band(ax, x, loss, ARM_COLOR[c], LABELS[c])
            k = int((~np.all(np.isfinite(loss), axis=1)).sum())
            if k:
                gone.append(f"{k} {LABELS[c]} run{'s' * (k > 1)}")
        ax.set_yscale("log")
        ax.set_xlabel("epoch (full batch)")
        ax.set_ylabel("training loss $-$ best linear fit's")
        ax.set_title(name + (f" ({', '.join(gone)} diverged, left out)" if gone else ""), fontsize=8)
    for ax in axes:
        for line in ax.get_lines():
            line.set_marker("")
    _legend(fig, axes, 4)
    fig.suptitle(f"digits, deep linear, inputs PCA-whitened to {width}, depth {depth}; mean $\\pm$ s.e. over "
                 f"{runs} runs", fontsize=9)
    return fig
