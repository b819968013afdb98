"""Figures of singular manifolds and skip connections (Orhan & Pitkow 2018; Fukumizu & Amari 2000)."""

from __future__ import annotations

import numpy as np

from degeneracy.numerics import critical_lines as ncl
from degeneracy.numerics import fisher as F
from degeneracy.numerics import singularities as ns
from degeneracy.theory import exact_rank as er
from degeneracy.theory import singularities as ts
from degeneracy.theory import symbolic_networks as sn

from .registry import figure
from .style import COLORS, new_figure


def _loss_grid(params, X, y, skip, dirs, ts_a, ts_b):
    theta = F.flatten(params)
    u, w = dirs
    out = np.empty((ts_b.size, ts_a.size))
    for j, b in enumerate(ts_b):
        for i, a in enumerate(ts_a):
            f = F.forward(F.unflatten(theta + a * u + b * w, params), X, skip=skip)[0][:, 0]
            out[j, i] = 0.5 * np.mean((f - y) ** 2)
    return out


@figure("singularities-loss-slices",
        title="Loss slices through an overlap and an incoming-elimination point: a flat valley without skips, "
              "none with an identity skip (one hidden layer, n = H = 2, tanh)",
        claims=("singularities.overlap", "singularities.elimination", "singularities.skip-breaks"))
def loss_slices(ctx):
    n = 2
    X = ctx.rng.standard_normal((200, n))
    grid = np.linspace(-1.5, 1.5, ctx.size(31, 61, 81))
    fig, axes = new_figure(2, 2, width=7.4, height=6.2)
    for col, skip in enumerate((False, True)):
        m = sn.one_hidden_layer(n, n, skip=skip)
        teacher = ns.point_on_set(ts.generic_point(m), rng=ctx.spawn("teacher", str(skip)))
        y = F.forward(teacher, X, skip=skip)[0][:, 0]
        names = m.names
        for row, (label, s, ua, ub, xl, yl) in enumerate((
            ("overlap $w_0 = w_1$", ts.overlap(m, 0, 1), {"V[0,0]": 1, "V[0,1]": -1}, {"W1[0,0]": 1},
             r"$t$ along $e_{v_0} - e_{v_1}$", r"$s$ along $e_{w_{00}}$"),
            ("incoming elimination $w_0 = 0$", ts.eliminate_incoming(m, 0), {"V[0,0]": 1}, {"W1[0,1]": 1},
             r"$t$ along $e_{v_0}$", r"$s$ along $e_{w_{01}}$"),
        )):
            p = ns.point_on_set(s, rng=ctx.spawn("point", str(row)))
            u = np.array([ua.get(k, 0.0) for k in names], float)
            w = np.array([ub.get(k, 0.0) for k in names], float)
            L = _loss_grid(p, X, y, skip, (u, w), grid, grid * 0.5)
            ax = axes[row, col]
            cs = ax.contourf(grid, grid * 0.5, np.log10(L + 1e-12), levels=20, cmap="viridis")
            fig.colorbar(cs, ax=ax, label=r"$\log_{10}$ loss")
            ax.set_xlabel(xl)
            ax.set_ylabel(yl)
            ax.set_title(f"{label}, {'identity skip' if skip else 'plain'}")
    return fig


@figure("singularities-fisher-spectra",
        title="Empirical Fisher spectra at singular and generic points, plain vs identity skip "
              "(n = H = 3, tanh); dashed: rounding cut",
        claims=("singularities.overlap", "singularities.elimination", "singularities.skip-breaks"))
def fisher_spectra(ctx):
    fig, axes = new_figure(1, 3, width=11.0, height=3.4)
    cases = (("one hidden layer", lambda: sn.one_hidden_layer(3, 3), 1),
             ("one hidden layer + skip", lambda: sn.one_hidden_layer(3, 3, skip=True), 1),
             ("two hidden layers + skip", lambda: sn.two_hidden_layers(3, 3, 3, skip=True), 1))
    for ax, (title, make, layer) in zip(axes, cases):
        m = make()
        sets = (("generic", ts.generic_point(m)), ("overlap (layer 1)", ts.overlap(m, 0, 1, layer=layer)),
                ("$w_0 = 0$ (layer 1)", ts.eliminate_incoming(m, 0, layer=layer)),
                ("$v_0 = 0$ / $W_2[:,0] = 0$", ts.eliminate_outgoing(m, 0, layer=layer)))
        cut_max = 0.0
        for k, (label, s) in enumerate(sets):
            g = ctx.spawn(title, label)
            p = ns.point_on_set(s, rng=g)
            X = g.standard_normal((4 * m.size, m.n))
            sv = F.fisher_singular_values(p, X, skip=m.skip)
            count, cut, _ = F.near_zero_count(sv)
            cut_max = max(cut_max, cut)
            ev = np.maximum(np.asarray(sv) ** 2, 1e-40)
            ax.plot(np.arange(1, ev.size + 1), np.log10(ev), "o-", ms=3, color=COLORS[k],
                    label=f"{label}: {count} zero{'s' if count != 1 else ''} (exact {er.exact_null_dimension(s)})")
        ax.axhline(np.log10(cut_max ** 2), ls="--", color="k", lw=1)
        ax.set_xlabel("eigenvalue index")
        ax.set_ylabel(r"$\log_{10}$ eigenvalue of $G$")
        ax.set_title(title)
        ax.legend(loc="lower left", fontsize=6.5)
    return fig


@figure("singularities-critical-line",
        title="Fukumizu-Amari critical line: Hessian eigenvalues in zeta = w_a - w_b vs lambda (theory lambda(1-lambda) "
              "eig A) and gradient-descent plateaus started eps off its saddle part",
        claims=("singularities.critical-line",))
def critical_line(ctx):
    for attempt in range(20):
        g = ctx.spawn("teacher", str(attempt))
        X, y = ncl.two_unit_teacher(2, 200, rng=g)
        try:
            v, w, L = ncl.reduced_critical_point(X, y, rng=g)
        except Exception:  # noqa: BLE001 - no certified 1-unit minimum for this teacher: draw another
            continue
        A = ncl.critical_line_A(v, w, X, y)
        if np.linalg.eigvalsh(A)[0] < 0:
            break
    evA = np.linalg.eigvalsh(A)
    fig, axes = new_figure(1, 2, width=9.0, height=3.4)
    ax = axes[0]
    lam_t = np.linspace(-0.5, 1.5, 200)
    for k in range(2):
        ax.plot(lam_t, lam_t * (1 - lam_t) * evA[k], color=COLORS[k], label=rf"theory $\lambda(1-\lambda)\,a_{k + 1}$")
    lam_m = np.linspace(-0.5, 1.5, ctx.size(9, 17, 33))
    fd = np.array([np.linalg.eigvalsh(ncl.line_hessian_fd(v, w, lam, X, y)) for lam in lam_m])
    for k in range(2):
        ax.plot(lam_m, fd[:, k], "o", ms=4, mfc="none", color=COLORS[k], label="finite differences" if k == 0 else None)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel(r"$\lambda$ (split ratio $v_a / v^*$)")
    ax.set_ylabel(r"eigenvalues of $H_\zeta$")
    ax.set_title("every point of the line is a saddle here (A indefinite)" if evA[1] > 0 else "critical line")
    ax.legend(fontsize=7)
    ax = axes[1]
    eps = np.array([1e-2, 1e-3, 1e-4, 1e-5, 1e-6])
    mu, xi = ncl.escape_direction(A, 0.5)
    steps = int(np.log(1e4 / eps[-1]) / np.log1p(-mu)) + 100
    T, curves = ncl.plateau_lengths(v, w, 0.5, X, y, eps, lr=0.5, steps=steps, xi=xi)
    for k, e in enumerate(eps):
        ax.plot(np.arange(curves.shape[1]), curves[k], color=COLORS[k % len(COLORS)], label=rf"$\epsilon$ = {e:g}")
    ax.axhline(L, ls="--", color="k", lw=1, label=r"$L^*$ (1-unit optimum)")
    ax.set_yscale("log")
    ax.set_xlabel("gradient-descent step ($\\eta = 0.5$, $\\lambda = 1/2$)")
    ax.set_ylabel("training loss")
    ax.set_title(rf"theory: +{np.log(10) / np.log1p(-mu):.0f} steps per decade of $\epsilon$")
    ax.legend(fontsize=7)
    return fig


@figure("singularities-training",
        title="Loss and degeneracy measures over training for deep plain, residual and symmetric-skip ReLU networks "
              "(mean +- standard error over independent runs)",
        claims=("singularities.plain-vs-residual", "singularities.symmetry-breaking-is-the-mechanism"))
def training(ctx):
    depth, width, runs, steps = ctx.size((10, 8, 8, 150), (20, 16, 12, 400), (30, 16, 16, 800))
    run = ns.degeneracy_experiment(depth=depth, width=width, runs=runs, steps=steps, checkpoints=10 if steps % 10 == 0
                                   else 6, lr=2e-3, n_samples=256 if depth > 10 else 128, rng=ctx.rng)
    panels = (("loss", "training loss", True), ("eliminated", "eliminated-unit fraction", False),
              ("overlap", "largest response cosine", False), ("dependence", r"$s_{min}/s_{max}$ of responses", False),
              ("gn_null", "near-null Gauss-Newton fraction", False))
    fig, axes = new_figure(1, 5, width=16.0, height=3.2)
    for ax, (key, label, logy) in zip(axes, panels):
        for k, v in enumerate(("plain", "residual", "symmetric-skip")):
            a = run.loss[v] if key == "loss" else run.measures[v][key]
            mean = a.mean(axis=0)
            se = a.std(axis=0, ddof=1) / np.sqrt(a.shape[0])
            ax.plot(run.steps, mean, "o-", ms=3, color=COLORS[k], label=v)
            ax.fill_between(run.steps, mean - se, mean + se, color=COLORS[k], alpha=0.25, lw=0)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("Adam step")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"depth {depth}, width {width}, {runs} runs")
    return fig
