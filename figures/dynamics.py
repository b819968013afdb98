"""Figures of deep linear dynamics (Saxe, McClelland & Ganguli 2013; docs/formulas.md §2)."""

from __future__ import annotations

import numpy as np

from degeneracy.numerics import ensembles
from degeneracy.numerics.dynamics import decoupled_balanced_init, mode_strengths, time_to_criterion
from degeneracy.numerics.networks import NetworkStack, init_network
from degeneracy.numerics.training import PopulationTask, train
from degeneracy.proofs.dynamics import LR_DEPTH
from degeneracy.theory import linear_dynamics as ld

from .registry import figure
from .style import COLORS, new_figure


@figure("dynamics-saxe-trajectories",
        title="Mode strengths of a one-hidden-layer linear network: Saxe et al.'s closed form (lines) vs gradient descent (markers)",
        claims=("dynamics.saxe-two-layer", "dynamics.saxe-deep"))
def saxe_trajectories(ctx):
    rng = ctx.rng
    svals = np.array([3.0, 2.0, 1.0, 0.5])
    d = svals.size
    U = ensembles.haar_orthogonal(d, size=1, rng=rng)
    V = ensembles.haar_orthogonal(d, size=1, rng=rng)
    T = (U * svals[None, None, :]) @ np.swapaxes(V, -1, -2)
    fig, axes = new_figure(1, 2, width=8.0, height=3.0)
    for ax, n, u0 in ((axes[0], 2, 1e-3), (axes[1], 6, 1e-3)):
        a0 = np.full((1, d), u0 ** (1.0 / n))
        ws = decoupled_balanced_init(U, V, a0, n, [[np.random.default_rng(int(rng.integers(2**32)))] for _ in range(n - 1)])
        eta, t_end = 0.005, (6.0 if n == 2 else 25.0)
        steps = int(t_end / eta)
        traj = []
        train(NetworkStack(ws), PopulationTask(T), optimizer="gd", lr=eta, steps=steps, record_at=(),
              callback=lambda k, net: traj.append(mode_strengths(net, U, V)[0]))
        traj = np.array(traj)
        t = np.arange(steps + 1) * eta
        every = max(1, steps // 40)
        for j, s in enumerate(svals):
            if n == 2:
                ax.plot(t, ld.saxe_mode_strength(t, s=s, u0=u0), color=COLORS[j], label=f"theory, s={s:g}")
            else:  # deep: the exact learning time to every level u (inverse of t(u))
                us = np.linspace(u0 * 1.001, s * 0.995, 200)
                ts = [ld.learning_time(u0, u, s=s, n_weights=n) for u in us]
                ax.plot(ts, us, color=COLORS[j], label=f"learning_time, s={s:g}")
            ax.plot(t[::every], traj[::every, j], "o", markersize=3, color=COLORS[j], markerfacecolor="none")
        ax.set_xlabel("t = step x learning rate")
        ax.set_ylabel("mode strength u")
        ax.set_title(f"{n} weight matrices, u0 = {u0:g}; markers: GD lr {eta}", fontsize=9)
        ax.set_xlim(0, t_end)
        ax.legend(loc="lower right", fontsize=7)
    return fig


@figure("dynamics-learning-time-depth",
        title="Epochs to learn vs depth: orthogonal vs scaled Gaussian initialization (Saxe et al. Fig. 6A)",
        claims=("dynamics.orthogonal-depth-independence",))
def learning_time_depth(ctx):
    N = ctx.size(8, 16, 16)
    R = ctx.size(4, 8, 10)
    depths = ctx.size((2, 4, 8), (2, 4, 8, 16, 32), (2, 4, 8, 16, 32, 64))
    max_steps = ctx.size(1000, 4000, 6000)
    T = ensembles.gaussian(N, size=R, rng=ctx.spawn("target"))
    fig, ax = new_figure(1, 1, width=4.4, height=3.2)
    for c, init in enumerate(("orthogonal", "gaussian")):
        med, lo, hi = [], [], []
        for n in depths:
            net = init_network([N] * (n + 1), R, init=init, rng=ctx.spawn(init, str(n)))
            res = train(net, PopulationTask(T), optimizer="gd", lr=LR_DEPTH / n, steps=max_steps, record_at=())
            t = time_to_criterion(res.loss, 0.1)
            med.append(np.median(t))
            lo.append(np.percentile(t, 25))
            hi.append(np.percentile(t, 75))
        med, lo, hi = map(np.asarray, (med, lo, hi))
        ax.errorbar(depths, med, yerr=[med - lo, hi - med], fmt="o-", color=COLORS[c], capsize=3,
                    label=f"{init} init (median, quartiles)")
    ax.axhline(max_steps + 1, color="grey", linestyle=":", linewidth=1, label="never reached (censored)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("number of weight matrices n")
    ax.set_ylabel("epochs to loss <= 10% of initial")
    ax.set_title(f"width {N}, GD lr = {LR_DEPTH}/n, {R} runs")
    ax.legend(loc="upper left", fontsize=7)
    return fig
