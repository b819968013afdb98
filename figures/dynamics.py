"""Figures of deep linear dynamics (Saxe, McClelland & Ganguli 2013; docs/formulas.md §2)."""

from __future__ import annotations

import numpy as np

from degeneracy.numerics import ensembles
from degeneracy.numerics.dynamics import decoupled_balanced_init, mode_strengths, time_to_criterion
from degeneracy.numerics.networks import NetworkStack, init_network
from degeneracy.numerics.training import PopulationTask, train
from degeneracy.proofs.dynamics import LR_DEPTH
from degeneracy.theory import linear_dynamics as ld

from .registry import claim_settings, figure
from .style import COLORS, new_figure


def _gd_modes(U, V, T, u0s, n, eta, t_end, rng):
    """Mode strengths (steps+1, d) of GD on a balanced decoupled network of n weight matrices."""
    d = U.shape[-1]
    a0 = np.asarray(u0s, dtype=float).reshape(1, d) ** (1.0 / n)
    ws = decoupled_balanced_init(U, V, a0, n, [[np.random.default_rng(int(rng.integers(2**32)))] for _ in range(n - 1)])
    steps = int(round(t_end / eta))
    traj = []
    train(NetworkStack(ws), PopulationTask(T), optimizer="gd", lr=eta, steps=steps, record_at=(),
          callback=lambda k, net: traj.append(mode_strengths(net, U, V)[0]))
    return np.arange(steps + 1) * eta, np.array(traj)


@figure("dynamics-saxe-trajectories",
        title="Mode strengths of deep linear networks: Saxe et al.'s exact solutions (lines) vs gradient descent "
              "(markers), two and eight weight matrices",
        claims=("dynamics.saxe-two-layer", "dynamics.saxe-deep"),
        caption="Strength u(t) of each input-output mode (singular value s of the target) of a linear network trained "
                "by full-batch gradient descent on the whitened population loss from a balanced decoupled "
                "initialization, time t = step x learning rate. Left, 2 weight matrices: the closed-form sigmoid "
                "u(t) = s e^{2st}/(e^{2st} - 1 + s/u0) (line) with the initial strength and the learning rate "
                "of the claim dynamics.saxe-two-layer. Right, 8 weight matrices: the exact inverse t(u) of "
                "the deep solution (learning_time, line) with the initial strengths u0 = 0.02 s, target "
                "strengths and learning rate of the claim dynamics.saxe-deep. One network per panel; markers are "
                "every k-th step. Both time axes cover every mode's rise.")
def saxe_trajectories(ctx):
    rng = ctx.rng
    two, deep = claim_settings(ctx, "dynamics.saxe-two-layer"), claim_settings(ctx, "dynamics.saxe-deep")
    fig, axes = new_figure(1, 2, width=9.5, height=3.9)
    panels = ((axes[0], 2, np.array([3.0, 2.0, 1.0, 0.5]), None, float(two["u0"]), float(two["eta"])),
              (axes[1], 8, np.array(deep["s"], dtype=float), float(deep["u0"]), None, float(deep["eta"])))
    for ax, n, svals, u0_rel, u0_abs, eta in panels:
        d = svals.size
        U = ensembles.haar_orthogonal(d, size=1, rng=rng)
        V = ensembles.haar_orthogonal(d, size=1, rng=rng)
        T = (U * svals[None, None, :]) @ np.swapaxes(V, -1, -2)
        u0s = svals * u0_rel if u0_rel is not None else np.full(d, u0_abs)
        t_end = 1.15 * max(ld.learning_time(u0, 0.97 * s, s=s, n_weights=n) for u0, s in zip(u0s, svals))
        t, traj = _gd_modes(U, V, T, u0s, n, eta, t_end, rng)
        every = max(1, t.size // 40)
        for j, (s, u0) in enumerate(zip(svals, u0s)):
            if n == 2:
                tt = np.linspace(0, t_end, 400)
                ax.plot(tt, ld.saxe_mode_strength(tt, s=s, u0=u0), color=COLORS[j], lw=1.6, label=f"s = {s:g}")
            else:
                us = np.linspace(u0 * 1.0001, s * 0.995, 300)
                ts = np.array([ld.learning_time(u0, u, s=s, n_weights=n) for u in us])
                keep = ts <= t_end
                ax.plot(np.concatenate([[0.0], ts[keep]]), np.concatenate([[u0], us[keep]]), color=COLORS[j], lw=1.6,
                        label=f"s = {s:g}")
            ax.plot(t[::every], traj[::every, j], "o", markersize=3.5, color=COLORS[j], markerfacecolor="none")
        ax.set_xlabel("t = step x learning rate")
        ax.set_ylabel("mode strength u")
        u0_text = f"u0 = {u0_abs:g}" if u0_rel is None else f"u0 = {u0_rel:g} s"
        ax.set_title(f"{n} weight matrices, {u0_text}, GD lr {eta:g}", fontsize=9.5)
        ax.set_xlim(0, max(t_end, t[-1]))
        ax.set_ylim(0, 1.08 * svals.max())
        from matplotlib.lines import Line2D

        handles, labels = ax.get_legend_handles_labels()
        handles += [Line2D([], [], color="0.3", lw=1.6),
                    Line2D([], [], color="0.3", ls="none", marker="o", ms=3.5, mfc="none")]
        labels += ["exact solution", "gradient descent"]
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=8, frameon=False)
    return fig


@figure("dynamics-learning-time-depth",
        title="Epochs to learn vs depth: orthogonal vs scaled Gaussian initialization (Saxe et al. Fig. 6A)",
        claims=("dynamics.orthogonal-depth-independence",),
        caption="Full-batch gradient steps until the loss falls below 10% of its initial value, against the number "
                "of weight matrices n (learning rate 0.05/n): median over independent runs (markers) with the "
                "interquartile range (bars). Runs that never reach the criterion within the step budget are "
                "censored: they count as budget + 1 (a lower bound, as in the claim); a censored median is drawn as "
                "an open triangle pointing up on the dotted budget line, and a quartile bar that reaches the line "
                "is censored there. Width, runs and "
                "budget are those of the claim dynamics.orthogonal-depth-independence (its depths, with the "
                "powers of two between them added).")
def learning_time_depth(ctx):
    st = claim_settings(ctx, "dynamics.orthogonal-depth-independence")
    N, R, max_steps = st["width"], st["replicas"], st["max_steps"]
    lo_d, hi_d = min(st["depths"]), max(st["depths"])
    depths = sorted(set(st["depths"]) | {2 ** k for k in range(1, 8) if lo_d <= 2 ** k <= hi_d})
    T = ensembles.gaussian(N, size=R, rng=ctx.spawn("target"))
    fig, ax = new_figure(1, 1, width=5.4, height=4.2)
    cens = max_steps + 1
    for c, init in enumerate(("orthogonal", "gaussian")):
        q = []
        for n in depths:
            net = init_network([N] * (n + 1), R, init=init, rng=ctx.spawn(init, str(n)))
            res = train(net, PopulationTask(T), optimizer="gd", lr=LR_DEPTH / n, steps=max_steps, record_at=())
            t = np.minimum(time_to_criterion(res.loss, 0.1), cens)
            q.append(np.percentile(t, [25, 50, 75]))
        q = np.array(q)
        x = np.array(depths, dtype=float) * (1.0 + 0.04 * (c - 0.5))  # dodge the two series
        med_c = q[:, 1] >= cens
        ax.vlines(x, q[:, 0], q[:, 2], color=COLORS[c], lw=1.4)
        ax.plot(x, q[:, 1], "-", color=COLORS[c], lw=1.2, alpha=0.7)
        ax.plot(x[~med_c], q[~med_c, 1], "o", color=COLORS[c], ms=6, label=f"{init} init: median, quartiles")
        if med_c.any():
            ax.plot(x[med_c], q[med_c, 1], "^", color=COLORS[c], ms=8, mfc="white",
                    label=f"{init} init: median censored (> {max_steps})")
    ax.axhline(cens, color="grey", linestyle=":", linewidth=1.2, label=f"budget: {max_steps} steps (censoring)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(depths)
    ax.set_xticklabels([str(d) for d in depths])
    ax.set_xlabel("number of weight matrices n")
    ax.set_ylabel("steps to loss <= 10% of initial")
    ax.set_title(f"width {N}, GD lr = {LR_DEPTH}/n, {R} runs per point", fontsize=9.5)
    ax.set_ylim(top=cens * 3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=1, fontsize=8, frameon=False)
    return fig
