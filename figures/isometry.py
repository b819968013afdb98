"""Figures of dynamical isometry (Pennington, Schoenholz & Ganguli 2017, Fig. 1 layout) and Fold-k spectra."""

from __future__ import annotations

import math

import numpy as np

from degeneracy.numerics.isometry import (
    fold_product_squared_singular_values,
    jacobian_moment_estimates,
    simulate_network,
    squared_singular_values,
)
from degeneracy.theory import isometry as th
from degeneracy.theory.fold import fold_law

from .registry import figure
from .style import COLORS, new_figure

LN10 = math.log(10.0)
RESOLVED_DECADES = 13.0  # float64 SVD of an explicit product resolves ~eps * sigma_max^2


def _point(act: str, q: float | None):
    if act == "relu":
        return 2.0, 0.0
    if act == "linear":
        return 1.0, 0.0
    return th.critical_point(act, q)


#: rows of the spectra figure: (activation, weights, q*); the last two rows are the essay's point,
#: dynamical isometry: with orthogonal weights at small q* the spectrum does not spread with depth
ROWS = (("relu", "gaussian", None), ("relu", "orthogonal", None), ("hard_tanh", "gaussian", 0.25),
        ("hard_tanh", "orthogonal", 0.25), ("erf", "orthogonal", 0.25), ("tanh", "gaussian", 0.25),
        ("tanh", "orthogonal", 0.25), ("hard_tanh", "orthogonal", 0.1), ("erf", "orthogonal", 0.01))


@figure("isometry-jacobian-spectra",
        title="Squared singular values of the input-output Jacobian of critical networks at depths 2, 8, 32, 128: "
              "certified free-probability density (line) over Monte Carlo (histogram); the last two rows are "
              "dynamical isometry (orthogonal weights, small q*: depth-independent spectra)",
        claims=("isometry.jacobian-density", "isometry.max-eigenvalue"))
def jacobian_spectra(ctx):
    n = ctx.size(48, 200, 400)
    reps = ctx.size(2, 3, 4)
    depths = ctx.size((2, 32), (2, 8, 32, 128), (2, 8, 32, 128))
    rows = ctx.size((ROWS[0], ROWS[6], ROWS[8]), ROWS, ROWS)  # quick: one row of each kind
    fig, axes = new_figure(len(rows), len(depths), width=3.1 * len(depths) + 0.1, height=2.1 * len(rows) + 0.4,
                           squeeze=False)
    for r, (act, weights, q) in enumerate(rows):
        sw2, sb2 = _point(act, q)
        qin = 1.0 if q is None else th.length_variance(act, q)
        for c, L in enumerate(depths):
            ax = axes[r, c]
            run = simulate_network(act, width=n, depth=L, replicas=reps, sigma_w2=sw2, sigma_b2=sb2, weights=weights,
                                   q_input=qin, rng=ctx.spawn(act, weights, str(q), str(L)))
            ev = squared_singular_values(run.jacobian).ravel()
            law = th.jacobian_spectrum(act, L, weights=weights, sigma_w2=sw2, sigma_b2=sb2)
            top = math.log10(max(law.support()[1], ev.max()))
            q_lo = float(law.ppf(min(0.999, law.atom + 1e-3 * (1 - law.atom))))
            lo = max(top - RESOLVED_DECADES, math.log10(max(q_lo, 1e-300)) - 0.2)  # zoom onto narrow laws
            t = np.log10(ev[ev > 10.0**lo])
            bins = np.linspace(lo, top + 0.1, 60)
            w = np.full(t.shape, 1.0 / (ev.size * (bins[1] - bins[0])))
            ax.hist(t, bins=bins, weights=w, color=COLORS[0], alpha=0.45, label=f"Monte Carlo, N={n}")
            u = np.linspace(lo, top, 400)
            dens = np.zeros_like(u)
            for a, b in law.intervals:
                inside = (u > math.log10(max(a, 1e-300))) & (u < math.log10(b))
                if np.any(inside):
                    dens[inside] = law.xpdf(10.0 ** u[inside]) * LN10
            ax.plot(u, dens, color=COLORS[1], label="free probability")
            atoms = [(x, m) for x, m in law.atoms if x > 0]
            for x, m in atoms:
                ax.axvline(math.log10(x), color=COLORS[2], ls="--", lw=1.2, label=f"atom {m:.3g}")
            extra = f"; atom {law.atom:.2g} at 0" if law.atom > 0 else ""
            qtag = "" if q is None else f", q*={q:.3g}"
            ax.set_title(f"{act}/{weights[:5]}{qtag}, L={L}{extra}", fontsize=8)
            if r == len(rows) - 1:
                ax.set_xlabel(r"$\log_{10} \sigma^2$")
            if c == 0:
                ax.set_ylabel("density of log10")
            if (r == 0 and c == 0) or (atoms and c == 0):
                ax.legend(loc="upper left", fontsize=6)
    return fig


#: activations on the phase diagram: (name, label)
PHASE_ACTS = (("tanh", "tanh"), ("erf", "erf"), ("hard_tanh", "hard-tanh"), ("elu", "ELU"), ("selu", "SELU"),
              ("softplus", "softplus"))


@figure("isometry-phase-diagram",
        title="Order-to-chaos phase diagram of wide random networks in (sigma_w^2, sigma_b^2): the critical lines "
              "chi_1 = 1 of several activations (left; shading: chi_1 of tanh), and the correlation depth scale xi_c "
              "diverging at the transition (right, sigma_b^2 = 0.05)",
        claims=("isometry.depth-scales", "isometry.correlation-map", "isometry.critical-line"))
def phase_diagram(ctx):
    from degeneracy.theory import meanfield as mf

    fig, (ax, bx) = new_figure(1, 2, width=11.0, height=4.3)
    # shading: chi_1 of tanh on a grid (ordered < 1 < chaotic)
    k = ctx.size(8, 36, 60)
    sw = np.linspace(0.5, 4.0, k)
    sb = np.linspace(0.0, 0.5, k)
    chi = np.array([[mf.chi("tanh", a, b) for a in sw] for b in sb])
    pcm = ax.pcolormesh(sw, sb, np.log(chi), cmap="RdBu_r", vmin=-1.2, vmax=1.2, shading="auto", alpha=0.55)
    fig.colorbar(pcm, ax=ax, label=r"$\log \chi_1$ (tanh): ordered < 0 < chaotic")
    qs = np.logspace(-3, math.log10(8.0), ctx.size(25, 60, 120))
    for i, (act, label) in enumerate(PHASE_ACTS):
        line = mf.critical_line(act, qs)
        line = line[(line[:, 0] <= 4.0) & (line[:, 1] <= 0.5)]
        if line.size:
            ax.plot(line[:, 0], line[:, 1], color=COLORS[i % len(COLORS)], label=label)
    ax.plot([2.0], [0.0], "o", color="k", ms=5, label="ReLU (2, 0)")
    ax.set_xlim(0.5, 4.0)
    ax.set_ylim(0.0, 0.5)
    ax.set_xlabel(r"$\sigma_w^2$")
    ax.set_ylabel(r"$\sigma_b^2$")
    ax.set_title(r"critical lines $\chi_1 = 1$")
    ax.legend(fontsize=7, loc="upper left")
    # the depth scales along sigma_b^2 = 0.05
    sb2 = 0.05
    for i, act in enumerate(("erf", "tanh")):
        grid = np.linspace(0.6, 3.5, ctx.size(6, 24, 40))
        xc, xq = [], []
        for a in grid:
            q_scale, c_scale = mf.depth_scales(act, a, sb2)
            xq.append(q_scale)
            xc.append(c_scale)
        bx.plot(grid, xc, color=COLORS[i], label=fr"$\xi_c$, {act}")
        bx.plot(grid, xq, color=COLORS[i], ls=":", label=fr"$\xi_q$, {act}")
        crit = mf.critical_line(act, np.logspace(-4, 1, 400))
        j = np.argmin(np.abs(crit[:, 1] - sb2)) if crit.size else None
        if j is not None and abs(crit[j, 1] - sb2) < 0.01:
            bx.axvline(crit[j, 0], color=COLORS[i], ls="--", lw=0.8)
    bx.set_yscale("log")
    bx.set_xlabel(r"$\sigma_w^2$")
    bx.set_ylabel("depth scale (layers)")
    bx.set_title(r"$\sigma_b^2 = 0.05$: $\xi_c$ diverges at the critical line (dashed)")
    bx.legend(fontsize=7)
    return fig


NV_CASES = (("linear", "gaussian", None), ("relu", "gaussian", None), ("relu", "orthogonal", None),
            ("hard_tanh", "orthogonal", 0.5), ("hard_tanh", "orthogonal", 0.1), ("erf", "orthogonal", 0.05))


@figure("isometry-normalized-variance",
        title="Normalized variance Var/mean^2 of the spectrum of J J^T against depth: theory L(mu_2/mu_1^2 - 1 - s_1) "
              "(lines) and Monte Carlo (markers, +- 2 s.e.)",
        claims=("isometry.jacobian-moments", "isometry.relu-no-isometry"))
def normalized_variance(ctx):
    n = ctx.size(48, 128, 256)
    reps = ctx.size(6, 16, 32)
    depths = np.array([1, 2, 4, 8, 16, 32])
    fig, ax = new_figure(1, 1, width=6.0, height=4.2)
    for i, (act, weights, q) in enumerate(NV_CASES):
        sw2, sb2 = _point(act, q)
        qin = 1.0 if q is None else th.length_variance(act, q)
        theory = [th.normalized_variance(act, int(L), weights=weights, sigma_w2=sw2, sigma_b2=sb2) for L in depths]
        label = f"{act}/{weights}" + (f", q*={q}" if q is not None else "")
        ax.plot(depths, np.maximum(theory, 1e-6), color=COLORS[i % len(COLORS)], label=label)
        est, se = [], []
        for L in depths:
            run = simulate_network(act, width=n, depth=int(L), replicas=reps, sigma_w2=sw2, sigma_b2=sb2,
                                   weights=weights, q_input=qin, rng=ctx.spawn(act, weights, str(q), str(L)))
            _, nv = jacobian_moment_estimates(run.jacobian)
            est.append(nv.mean()); se.append(nv.std(ddof=1) / math.sqrt(nv.size))
        ax.errorbar(depths, np.maximum(est, 1e-6), yerr=2 * np.array(se), fmt="o", ms=3.5,
                    color=COLORS[i % len(COLORS)], capsize=2)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("depth L")
    ax.set_ylabel(r"Var / mean$^2$ of eigenvalues of $JJ^T$")
    ax.set_title(f"critical networks, N = {n} (markers), wide limit (lines)")
    ax.legend(fontsize=7, loc="lower right")
    return fig


@figure("isometry-training-speed",
        title="Training loss of critical tanh networks (q* = 0.05): orthogonal (well-conditioned Jacobian) vs "
              "Gaussian weights, gradient descent on a linear teacher",
        claims=("isometry.trains-faster",))
def training_speed(ctx):
    from degeneracy.numerics.networks import init_network
    from degeneracy.numerics.training import PopulationTask, train

    n = ctx.size(24, 32, 64)
    L = ctx.size(12, 24, 48)
    R = ctx.size(3, 6, 10)
    steps = ctx.size(200, 600, 1500)
    sw2, sb2 = th.critical_point("tanh", 0.05)
    g = ctx.spawn("task")
    T = np.linalg.qr(g.standard_normal((n, n)))[0]
    task = PopulationTask(T)
    fig, ax = new_figure(1, 1, width=6.0, height=4.0)
    for i, init in enumerate(("orthogonal", "gaussian")):
        net = init_network([n] * (L + 1), R, init=init, gain=math.sqrt(sw2), activation="tanh",
                           bias_std=math.sqrt(sb2), rng=ctx.spawn(init))
        res = train(net, task, optimizer="gd", lr=0.05, steps=steps, record_at=())
        loss = res.loss / res.loss[:, :1]
        x = np.arange(loss.shape[1])
        for r in range(R):
            ax.plot(x, loss[r], color=COLORS[i], alpha=0.25, lw=0.8)
        ax.plot(x, np.exp(np.mean(np.log(loss), axis=0)), color=COLORS[i], lw=2,
                label=f"{init} weights (geometric mean of {R} runs)")
    ax.axhline(0.1, color="k", ls=":", lw=1, label="threshold (10% of initial loss)")
    ax.set_yscale("log")
    ax.set_xlabel("gradient step")
    ax.set_ylabel("loss / initial loss")
    ax.set_title(f"tanh, depth {L}, width {n}, critical (sigma_w^2={sw2:.3f}, sigma_b^2={sb2:.1e})", fontsize=9)
    ax.legend(fontsize=7)
    return fig


@figure("isometry-fold-spectra",
        title="Nonzero squared singular values of products of L = 4 Fold-k Gaussian matrices (k = 0, 1, 2): "
              "free-probability law S = 2^-k (1+z)^-(L-1) (1+2^-k z)^-1 over Monte Carlo",
        claims=("products.fold-spectrum",))
def fold_spectra(ctx):
    n = ctx.size(64, 256, 512)
    reps = ctx.size(4, 8, 16)
    L = 4
    fig, axes = new_figure(1, 3, width=11.0, height=3.3)
    for ax, k in zip(axes, (0, 1, 2)):
        ev = fold_product_squared_singular_values(n, L, k, replicas=reps, rng=ctx.spawn(str(k)))
        nz = ev[:, -(n >> k):].ravel()
        law = fold_law(L, k)
        t = np.log10(nz)
        top = math.log10(law.support()[1])
        bins = np.linspace(max(t.min(), top - 8), top + 0.2, 60)
        ax.hist(t, bins=bins, density=True, color=COLORS[0], alpha=0.45, label=f"Monte Carlo, N={n}")
        u = np.linspace(bins[0], top - 1e-9, 500)
        ax.plot(u, law.xpdf(10.0**u) * LN10, color=COLORS[1], label="free probability")
        ax.set_title(f"Fold-{k}: rank N/{2**k}, mean {law.mean():.0f}")
        ax.set_xlabel(r"$\log_{10} \sigma^2$ (nonzero)")
        ax.set_ylabel("density")
        ax.legend(loc="upper left", fontsize=7)
    return fig
