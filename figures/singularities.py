"""Figures of singular manifolds and skip connections (Orhan & Pitkow 2018; Fukumizu & Amari 2000)."""

from __future__ import annotations

import numpy as np

from degeneracy.numerics import critical_lines as ncl
from degeneracy.numerics import fisher as F
from degeneracy.numerics import singularities as ns
from degeneracy.proofs.context import make_context
from degeneracy.theory import exact_rank as er
from degeneracy.theory import singularities as ts
from degeneracy.theory import symbolic_networks as sn

from .registry import claim_settings, figure
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
        claims=("singularities.overlap", "singularities.elimination", "singularities.skip-breaks"),
        caption="log10 of the training loss (teacher of the same architecture, 200 Gaussian inputs) on a 2-D slice "
                "through a point of a singular set: along t the slice moves along the set's flat direction, along "
                "s across it. All four panels share one colour scale (one colour bar), so a flat valley (colour "
                "constant along t) is compared by eye between the plain network (left) and the identity skip "
                "(right).")
def loss_slices(ctx):
    n = 2
    X = ctx.rng.standard_normal((200, n))
    grid = np.linspace(-1.5, 1.5, ctx.size(31, 61, 81))
    fig, axes = new_figure(2, 2, width=8.4, height=7.0)
    panels = {}
    for col, skip in enumerate((False, True)):
        m = sn.one_hidden_layer(n, n, skip=skip)
        teacher = ns.point_on_set(ts.generic_point(m), rng=ctx.spawn("teacher", str(skip)))
        y = F.forward(teacher, X, skip=skip)[0][:, 0]
        names = m.names
        for row, (label, sset, ua, ub, xl, yl) in enumerate((
            ("overlap $w_0 = w_1$", ts.overlap(m, 0, 1), {"V[0,0]": 1, "V[0,1]": -1}, {"W1[0,0]": 1},
             r"$t$ along $e_{v_0} - e_{v_1}$", r"$s$ along $e_{w_{00}}$"),
            ("incoming elimination $w_0 = 0$", ts.eliminate_incoming(m, 0), {"V[0,0]": 1}, {"W1[0,1]": 1},
             r"$t$ along $e_{v_0}$", r"$s$ along $e_{w_{01}}$"),
        )):
            p = ns.point_on_set(sset, rng=ctx.spawn("point", str(row)))
            u = np.array([ua.get(k, 0.0) for k in names], float)
            w = np.array([ub.get(k, 0.0) for k in names], float)
            panels[row, col] = (np.log10(_loss_grid(p, X, y, skip, (u, w), grid, grid * 0.5) + 1e-12), label, xl, yl,
                                skip)
    lo = min(v[0].min() for v in panels.values())
    hi = max(v[0].max() for v in panels.values())
    levels = np.linspace(lo, hi, 25)
    for (row, col), (Z, label, xl, yl, skip) in panels.items():
        ax = axes[row, col]
        cs = ax.contourf(grid, grid * 0.5, Z, levels=levels, cmap="viridis")
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(f"{label},\n{'identity skip' if skip else 'plain'}", fontsize=9.5)
        ax.grid(False)
    from matplotlib.ticker import MaxNLocator

    cb = fig.colorbar(cs, ax=list(axes.ravel()), label=r"$\log_{10}$ loss (shared scale)", shrink=0.9)
    cb.locator = MaxNLocator(7)
    cb.update_ticks()
    fig.set_layout_engine("constrained")
    return fig


@figure("singularities-fisher-spectra",
        title="Empirical Fisher spectra at singular and generic points, plain vs identity skip (n = H = 3, tanh)",
        claims=("singularities.overlap", "singularities.elimination", "singularities.skip-breaks"),
        caption="Eigenvalues (log10, descending) of the empirical Fisher / Gauss-Newton matrix G = J^T J / P over "
                "P = 4 x (number of parameters) Gaussian inputs at a random point of each singular set and at a "
                "generic point. Dashed: the rounding cut below which an eigenvalue counts as zero (numerics.fisher."
                "near_zero_count); the legend gives the count of zeros found and the exact null dimension of the "
                "set. Eigenvalues that are exactly 0.0 in float64 are drawn as triangles on the bottom line "
                "marked 'exact 0'.")
def fisher_spectra(ctx):
    fig, axes = new_figure(1, 3, width=12.5, height=4.6)
    cases = (("one hidden layer", lambda: sn.one_hidden_layer(3, 3), 1),
             ("one hidden layer + skip", lambda: sn.one_hidden_layer(3, 3, skip=True), 1),
             ("two hidden layers + skip", lambda: sn.two_hidden_layers(3, 3, 3, skip=True), 1))
    floor = -40.0
    for ax, (title, make, layer) in zip(axes, cases):
        m = make()
        sets = (("generic", ts.generic_point(m)), ("overlap (layer 1)", ts.overlap(m, 0, 1, layer=layer)),
                ("$w_0 = 0$ (layer 1)", ts.eliminate_incoming(m, 0, layer=layer)),
                ("$v_0 = 0$ / $W_2[:,0] = 0$", ts.eliminate_outgoing(m, 0, layer=layer)))
        cut_max = 0.0
        for k, (label, sset) in enumerate(sets):
            g = ctx.spawn(title, label)
            p = ns.point_on_set(sset, rng=g)
            X = g.standard_normal((4 * m.size, m.n))
            sv = np.asarray(F.fisher_singular_values(p, X, skip=m.skip))
            count, cut, _ = F.near_zero_count(sv)
            cut_max = max(cut_max, cut)
            ev = sv**2
            idx = np.arange(1, ev.size + 1)
            pos = ev > 0
            with np.errstate(divide="ignore"):
                lev = np.log10(ev)
            ax.plot(idx[pos], np.maximum(lev[pos], floor), "o-", ms=3, color=COLORS[k],
                    label=f"{label}: {count} zero{'s' if count != 1 else ''} (exact {er.exact_null_dimension(sset)})")
            if (~pos).any():
                ax.plot(idx[~pos], np.full((~pos).sum(), floor - 2), "v", ms=4, mfc="none", color=COLORS[k])
        ax.axhline(np.log10(cut_max ** 2), ls="--", color="k", lw=1, label="rounding cut")
        ax.set_xlabel("eigenvalue index")
        ax.set_ylabel(r"$\log_{10}$ eigenvalue of $G$")
        ax.set_title(title, fontsize=9.5)
        ax.set_ylim(bottom=min(ax.get_ylim()[0], floor - 4))
        yt = [t for t in ax.get_yticks() if floor + 3 <= t <= ax.get_ylim()[1]]
        ax.set_yticks([floor - 2] + yt)
        ax.set_yticklabels(["exact 0"] + [f"{t:g}" for t in yt])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), fontsize=7.5, frameon=False)
    return fig


@figure("singularities-critical-line",
        title="Fukumizu-Amari critical line: Hessian eigenvalues in zeta = w_a - w_b vs lambda (theory lambda(1-lambda) "
              "eig A) and gradient-descent plateaus started eps off its saddle part",
        claims=("singularities.critical-line",),
        caption="Left: the two eigenvalues of the Hessian in the direction zeta = w_a - w_b along the critical line "
                "of a 2-unit tanh network reduced from a 1-unit optimum (Fukumizu & Amari 2000): theory "
                "lambda(1 - lambda) a_k with a_k the eigenvalues of their matrix A (lines), central finite "
                "differences (markers), each marker on the branch it belongs to. Right: gradient descent started "
                "at distance eps from the line's saddle point lambda = 1/2 along the escape direction; loss curves "
                "and, dotted, the escape step predicted by the escape rate (one decade of eps costs "
                "ln 10 / -ln(1 - eta mu) steps), anchored at the largest eps.")
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
    fig, axes = new_figure(1, 2, width=10.5, height=4.2)
    ax = axes[0]
    lam_t = np.linspace(-0.5, 1.5, 200)
    for k in range(2):
        ax.plot(lam_t, lam_t * (1 - lam_t) * evA[k], color=COLORS[k], lw=1.6,
                label=rf"theory $\lambda(1-\lambda)\,a_{k + 1}$")
    lam_m = np.linspace(-0.5, 1.5, ctx.size(9, 17, 33))
    fd = np.array([np.linalg.eigvalsh(ncl.line_hessian_fd(v, w, lam, X, y)) for lam in lam_m])
    # follow the branches, not the sorted order: inside (0, 1) the sorted order is a_1 < a_2, outside it flips
    theo = lam_m[:, None] * (1 - lam_m[:, None]) * evA[None, :]
    for k in range(2):
        branch = np.array([fd[i, np.argmin(np.abs(fd[i] - theo[i, k]))] for i in range(lam_m.size)])
        ax.plot(lam_m, branch, "o", ms=5, mfc="none", color=COLORS[k],
                label="finite differences" if k == 0 else None)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel(r"$\lambda$ (split ratio $v_a / v^*$)")
    ax.set_ylabel(r"eigenvalues of $H_\zeta$")
    ax.set_title("every point of the line is a saddle (A indefinite)" if evA[1] > 0 > evA[0] else "critical line",
                 fontsize=9.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), fontsize=8, ncol=2, frameon=False)
    ax = axes[1]
    eps = np.array([1e-2, 1e-3, 1e-4, 1e-5, 1e-6])
    mu, xi = ncl.escape_direction(A, 0.5)
    per_decade = np.log(10) / np.log1p(-mu)
    steps = int(np.log(1e4 / eps[-1]) / np.log1p(-mu)) + 100
    T, curves = ncl.plateau_lengths(v, w, 0.5, X, y, eps, lr=0.5, steps=steps, xi=xi)
    pred = T[0] + per_decade * np.log10(eps[0] / eps)  # anchored at the largest eps
    for k, e in enumerate(eps):
        ax.plot(np.arange(curves.shape[1]), curves[k], color=COLORS[k % len(COLORS)], label=rf"$\epsilon$ = {e:g}")
        ax.axvline(pred[k], color=COLORS[k % len(COLORS)], ls=":", lw=1.3)
    ax.axhline(L, ls="--", color="k", lw=1, label=r"$L^*$ (1-unit optimum)")
    ax.plot([], [], color="0.3", ls=":", label="predicted escape step")
    ax.set_yscale("log")
    ax.set_xlabel("gradient-descent step ($\\eta = 0.5$, $\\lambda = 1/2$)")
    ax.set_ylabel("training loss")
    ax.set_title(rf"theory: +{per_decade:.0f} steps per decade of $\epsilon$", fontsize=9.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), fontsize=8, ncol=4, frameon=False)
    return fig


@figure("singularities-training",
        title="Loss and degeneracy measures over training for deep plain, residual and symmetric-skip ReLU networks",
        claims=("singularities.plain-vs-residual", "singularities.symmetry-breaking-is-the-mechanism"),
        caption="Mean over independent runs (markers at the claims' checkpoints, lines between them) with a band of "
                "+- 2 standard errors over runs, for full-batch Adam on a synthetic teacher task. The plain and "
                "residual runs are exactly those of the claim singularities.plain-vs-residual in the same mode and "
                "seed (same settings, same random stream), so the figure shows the numbers that claim's checks test "
                "(it averages each measure over the checkpoints after the start); the symmetric-skip networks start "
                "from the same initial weights on the same tasks. Sizes are in the title.")
def training(ctx):
    st = claim_settings(ctx, "singularities.plain-vs-residual")
    claim_ctx = make_context("singularities.plain-vs-residual", seed=ctx.seed, mode=ctx.mode)
    run = ns.degeneracy_experiment(depth=st["depth"], width=st["width"], runs=st["runs"], steps=st["steps"],
                                   checkpoints=3 if st["steps"] % 3 == 0 else 4, lr=st["lr"],
                                   n_samples=st["n_samples"], rng=claim_ctx.rng)
    panels = (("loss", "training loss", True), ("eliminated", "eliminated-unit fraction", False),
              ("overlap", "largest response cosine", False), ("dependence", r"$s_{min}/s_{max}$ of responses", False),
              ("gn_null", "near-null Gauss-Newton fraction", False))
    fig, axes = new_figure(2, 3, width=12.0, height=7.0)
    for ax, (key, label, logy) in zip(axes.ravel(), panels):
        for k, v in enumerate(("plain", "residual", "symmetric-skip")):
            a = run.loss[v] if key == "loss" else run.measures[v][key]
            mean = a.mean(axis=0)
            se = a.std(axis=0, ddof=1) / np.sqrt(a.shape[0])
            ax.plot(run.steps, mean, "o-", ms=4, color=COLORS[k], label=v)
            ax.fill_between(run.steps, mean - 2 * se, mean + 2 * se, color=COLORS[k], alpha=0.22, lw=0)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("Adam step")
        ax.set_ylabel(label)
    axes[1, 2].set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    axes[1, 2].figure.legend(handles, labels, loc="center", bbox_to_anchor=(0.83, 0.27), fontsize=10,
                             title=f"ReLU MLP, depth {st['depth']},\nwidth {st['width']}, {st['runs']} runs,\n"
                                   f"{st['steps']} Adam steps (lr {st['lr']:g})\nband: +- 2 s.e.", frameon=False)
    return fig
