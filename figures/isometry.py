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

from .registry import claim_settings, figure
from .style import COLORS, mark_clipped, new_figure

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
        claims=("isometry.jacobian-density", "isometry.max-eigenvalue"),
        caption="Each panel: histogram of log10 of the squared singular values of the Jacobian of a wide random network "
                "at the critical point (width and replicas in the legend), against the free-probability density of "
                "log10 sigma^2 (line), certified by its solver or refused. Smooth activations (tanh, erf) use the "
                "continuous law of phi'(h)^2; ReLU and hard-tanh masks are atoms, drawn as dashed lines with their "
                "mass (the atom at 0 is stated in the title); where an atom's histogram bar would flatten the "
                "continuous part, the y axis is scaled to the continuous part and the panel says that the atom's bar "
                "runs off the top. The last two rows, hard-tanh at q* = 0.1 and erf at "
                "q* = 0.01 with orthogonal weights, barely widen from depth 2 to 128: dynamical isometry. The x axis "
                "starts 13 decades below the top, the resolution of a float64 SVD of an explicit product.")
def jacobian_spectra(ctx):
    n = ctx.size(96, 200, 400)
    reps = ctx.size(4, 24, 24)  # 24 x 200 singular values: a smooth histogram over 13 decades
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
            log_q_lo = float(law.log_law().ppf(min(0.999, law.atom + 1e-3 * (1 - law.atom))))  # may be below 1e-308
            lo = max(top - RESOLVED_DECADES, log_q_lo / LN10 - 0.2)  # zoom onto narrow laws
            t = np.log10(ev[ev > 10.0**lo])
            bins = np.linspace(lo, top + 0.1, ctx.size(30, 60, 60))
            w = np.full(t.shape, 1.0 / (ev.size * (bins[1] - bins[0])))
            heights, _, _ = ax.hist(t, bins=bins, weights=w, color=COLORS[0], alpha=0.45, label=f"Monte Carlo, N={n}, {reps} networks")
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
            if atoms:
                # the atom's bin would set the scale and flatten the continuous part into the axis: scale to
                # the continuous part and say that the atom's bar runs off the top
                in_atom = np.zeros(heights.size, dtype=bool)
                for x, _ in atoms:
                    in_atom[min(max(np.searchsorted(bins, math.log10(x)) - 1, 0), heights.size - 1)] = True
                cont = max(float(np.max(dens)), float(np.max(heights[~in_atom], initial=0.0)))
                if cont > 0 and float(np.max(heights)) > 3 * cont:
                    ax.set_ylim(0, 2.2 * cont)  # the data stay below 0.45 of the height: room for the note
                    mark_clipped(ax, "atom's bar off scale", x=0.02, y=0.62 if c == 0 else 0.97, va="top",
                                 fontsize=7)
            extra = f"\natom {law.atom:.2g} at 0" if law.atom > 0 else ""
            qtag = "" if q is None else f", q*={q:.3g}"
            ax.set_title(f"{act}/{weights[:5]}{qtag}, L={L}{extra}", fontsize=8)
            if (r == 0 and c == 0) or (atoms and c == 0):
                ax.legend(loc="upper left", fontsize=6)
    fig.supxlabel(r"$\log_{10} \sigma^2$ (squared singular value of the Jacobian)")
    fig.supylabel(r"density of $\log_{10} \sigma^2$")
    return fig


#: activations on the phase diagram: (name, label)
PHASE_ACTS = (("tanh", "tanh"), ("erf", "erf"), ("hard_tanh", "hard-tanh"), ("elu", "ELU"), ("selu", "SELU"),
              ("softplus", "softplus"))


@figure("isometry-phase-diagram",
        title="Order-to-chaos phase diagram of wide random networks in (sigma_w^2, sigma_b^2): the critical lines "
              "chi_1 = 1 of several activations (left; shading: chi_1 of tanh), and the correlation depth scale xi_c "
              "diverging at the transition (right, sigma_b^2 = 0.05)",
        claims=("isometry.depth-scales", "isometry.correlation-map", "isometry.critical-line"),
        caption="Left: the critical lines chi_1 = sigma_w^2 E[phi'(h)^2] = 1 (the points (1/mu_1(q*), q* - V(q*)/mu_1(q*)) "
                "for q* from 1e-3 to 8, where sigma_b^2 >= 0 and q* is a stable fixed point) for several activations; "
                "ReLU's critical point (2, 0) is a dot. The shading is log chi_1 of tanh: ordered (blue, chi_1 < 1, "
                "correlations flow to 1) and chaotic (red). Right: along sigma_b^2 = 0.05, the depth scales "
                "xi_c = -1/log chi_c (solid) and xi_q = -1/log(sigma_w^2 V'(q*)) (dotted) of erf and tanh; xi_c "
                "diverges where the critical line is crossed (dashed). All from the mean-field theory (certified "
                "Gaussian quadrature); the claims isometry.correlation-map and isometry.depth-scales test it against "
                "wide networks.")
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
        line = line[(line[:, 0] >= 0.5) & (line[:, 0] <= 4.0) & (line[:, 1] >= 0.0) & (line[:, 1] <= 0.5)]
        if line.size:
            ax.plot(line[:, 0], line[:, 1], color=COLORS[i % len(COLORS)], label=label)
    ax.plot([2.0], [0.0], "o", color="k", ms=5, label="ReLU (2, 0)", clip_on=False)
    ax.set_xlim(0.5, 4.0)
    ax.set_ylim(0.0, 0.5)
    ax.set_xlabel(r"$\sigma_w^2$")
    ax.set_ylabel(r"$\sigma_b^2$")
    ax.set_title(r"critical lines $\chi_1 = 1$")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=len(labels), frameon=False)
    fig.subplots_adjust(bottom=0.22)
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
        title="Normalized variance Var/mean^2 of the spectrum of J J^T against depth: free-probability theory "
              "(lines) and Monte Carlo (markers)",
        claims=("isometry.jacobian-moments", "isometry.relu-no-isometry"),
        caption="Var/mean^2 of the eigenvalues of J J^T (J the input-output Jacobian of a critical network): the "
                "wide-network limit L (mu_2/mu_1^2 - 1 - s_1) from free probability (lines; Pennington, Schoenholz "
                "& Ganguli 2017) and Monte Carlo at the width in the title (markers: mean over independent networks, "
                "bars +- 2 standard errors drawn on the log scale by the delta method, est x exp(+-2 se/est)). "
                "Markers of the cases are shifted sideways a little so that equal values stay visible; linear/"
                "Gaussian and ReLU/orthogonal have the same theory line (drawn dashed and solid). The sizes are "
                "the figure's own (depths 1-32), stated on it; the claims check depths 4-16 at several widths. "
                "Estimates far below every theory value are drawn as triangles on the bottom edge and listed there.")
def normalized_variance(ctx):
    n = ctx.size(48, 128, 256)
    reps = ctx.size(6, 16, 32)
    depths = np.array([1, 2, 4, 8, 16, 32])
    fig, ax = new_figure(1, 1, width=8.6, height=4.4)
    cases = []
    styles = ("--", "-", "-", "-", "-", "-")
    below = []
    bottom = None
    for i, (act, weights, q) in enumerate(NV_CASES):
        sw2, sb2 = _point(act, q)
        qin = 1.0 if q is None else th.length_variance(act, q)
        theory = np.array([th.normalized_variance(act, int(L), weights=weights, sigma_w2=sw2, sigma_b2=sb2)
                           for L in depths])
        label = f"{act}/{weights}" + (f", q*={q}" if q is not None else "")
        c = COLORS[i % len(COLORS)]
        pos = theory > 0
        tmin = theory[pos].min() / 20
        bottom = tmin if bottom is None else min(bottom, tmin)
        ax.plot(depths[pos], theory[pos], color=c, ls=styles[i], lw=2.2 if styles[i] == "--" else 1.4, label=label,
                zorder=3 if styles[i] == "--" else 2)
        est, se = [], []
        for L in depths:
            run = simulate_network(act, width=n, depth=int(L), replicas=reps, sigma_w2=sw2, sigma_b2=sb2,
                                   weights=weights, q_input=qin, rng=ctx.spawn(act, weights, str(q), str(L)))
            _, nv = jacobian_moment_estimates(run.jacobian)
            est.append(nv.mean()); se.append(nv.std(ddof=1) / math.sqrt(nv.size))
        est, se = np.array(est), np.array(se)
        f = np.exp(2 * se / est)
        x = depths * 2.0 ** (0.06 * (i - 2.5))
        cases.append((x, est, f, c, label))
    for x, est, f, c, label in cases:
        low = est < bottom
        ax.errorbar(x[~low], est[~low], yerr=[est[~low] - est[~low] / f[~low], est[~low] * f[~low] - est[~low]],
                    fmt="o", ms=4, color=c, mfc="white", capsize=2, zorder=4)
        if low.any():
            ax.plot(x[low], np.full(low.sum(), bottom * 1.25), "v", ms=6, color=c, zorder=4)
            below += [f"{label}, L = {int(round(d))}: {e:.1e}" for d, e in zip(depths[low], est[low])]
    ax.set_ylim(bottom=bottom)
    if below:
        mark_clipped(ax, "below the axis (triangles): " + "; ".join(below)
                     + "\n(finite width: no unit saturates in most networks)", x=0.02, y=0.05, fontsize=7.5)
    ax.plot([], [], "o", ms=4, mfc="white", color="0.3", label=f"Monte Carlo, N = {n}, {reps} networks (±2 s.e.)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(depths)
    ax.set_xticklabels([str(d) for d in depths])
    ax.set_xlabel("depth L")
    ax.set_ylabel(r"Var / mean$^2$ of eigenvalues of $JJ^T$")
    ax.set_title("critical networks: theory (lines, wide limit) and Monte Carlo (markers)", fontsize=9.5)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    return fig


@figure("isometry-training-speed",
        title="Training loss of critical tanh networks (q* = 0.05): orthogonal (well-conditioned Jacobian) vs "
              "Gaussian weights, gradient descent on a linear teacher",
        claims=("isometry.trains-faster",),
        caption="Loss divided by its initial value under full-batch gradient descent on an orthogonal linear "
                "teacher, for critical tanh networks with orthogonal or Gaussian weights: each independent run "
                "(thin lines) and their geometric mean (thick). Width, depth, runs, steps, learning rate and q* are "
                "those of the claim isometry.trains-faster in the same mode.")
def training_speed(ctx):
    from degeneracy.numerics.networks import init_network
    from degeneracy.numerics.training import PopulationTask, train

    st = claim_settings(ctx, "isometry.trains-faster")
    n, L, R, steps, lr, q = st["width"], st["depth"], st["replicas"], st["steps"], st["lr"], st["q_star"]
    sw2, sb2 = th.critical_point("tanh", q)
    g = ctx.spawn("task")
    T = np.linalg.qr(g.standard_normal((n, n)))[0]
    task = PopulationTask(T)
    fig, ax = new_figure(1, 1, width=6.4, height=4.6)
    diverged = []
    for i, init in enumerate(("orthogonal", "gaussian")):
        net = init_network([n] * (L + 1), R, init=init, gain=math.sqrt(sw2), activation="tanh",
                           bias_std=math.sqrt(sb2), rng=ctx.spawn(init))
        res = train(net, task, optimizer="gd", lr=lr, steps=steps, record_at=())
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            loss = res.loss / res.loss[:, :1]
        ok = np.all(np.isfinite(loss) & (loss > 0), axis=1) & (np.nanmax(loss, axis=1) < 1e6)
        x = np.arange(loss.shape[1])
        for r in np.flatnonzero(ok):
            ax.plot(x, loss[r], color=COLORS[i], alpha=0.25, lw=0.8)
        if ok.sum():
            ax.plot(x, np.exp(np.mean(np.log(loss[ok]), axis=0)), color=COLORS[i], lw=2.2,
                    label=f"{init} weights (geometric mean of {int(ok.sum())} runs)")
        if (~ok).any():
            diverged.append(f"{init}: {int((~ok).sum())} of {R} runs diverged (not drawn)")
    ax.axhline(0.1, color="k", ls=":", lw=1, label="10% of the initial loss")
    if diverged:
        mark_clipped(ax, "; ".join(diverged), x=0.02, y=0.03, fontsize=7.5)
    ax.set_yscale("log")
    ax.set_xlabel("gradient step")
    ax.set_ylabel("loss / initial loss")
    ax.set_title(f"tanh, depth {L}, width {n}, critical ($\\sigma_w^2$={sw2:.3f}, $\\sigma_b^2$={sb2:.1e}), lr {lr:g}",
                 fontsize=9)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    return fig


@figure("isometry-fold-spectra",
        title="Nonzero squared singular values of products of L = 4 Fold-k Gaussian matrices (k = 0, 1, 2): "
              "free-probability law S = 2^-k (1+z)^-(L-1) (1+2^-k z)^-1 over Monte Carlo",
        claims=("products.fold-spectrum",),
        caption="Histogram (density of log10 sigma^2, pooled over independent replicas; N and replicas in the "
                "legend and title) of the nonzero squared singular values of a product of L = 4 Fold-k Gaussian "
                "N x N matrices (rank N/2^k), with the free-probability density of the claim products.fold-spectrum "
                "(line). The x axis starts 8 decades below the top of the support; the share of values below it is "
                "stated on the panel when there is any.")
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
        cut = t < bins[0]
        w = np.full(t.size, 1.0 / (t.size * (bins[1] - bins[0])))  # normalized by all values, cut ones included
        heights, _, _ = ax.hist(t[~cut], bins=bins, weights=w[~cut], color=COLORS[0], alpha=0.45,
                                label=f"Monte Carlo, N={n}, {reps} replicas")
        u = np.linspace(bins[0], top - 1e-9, 500)
        dens = law.xpdf(10.0**u) * LN10
        ax.plot(u, dens, color=COLORS[1], label="free probability")
        # headroom above the data for the legend and the note under it: neither covers the data
        ax.set_ylim(0, 1.8 * max(float(np.max(heights)), float(np.max(dens))))
        if cut.any():
            mark_clipped(ax, f"{100 * cut.mean():.2g}% of values left of the axis\n"
                             f"(log10 sigma^2 < {bins[0]:.1f})", x=0.02, ha="left", y=0.78, va="top")
        ax.set_title(f"Fold-{k}: rank N/{2**k}, mean {law.mean():.0f}")
        ax.set_xlabel(r"$\log_{10} \sigma^2$ (nonzero)")
        ax.set_ylabel("density")
        ax.legend(loc="upper left", fontsize=7)
    return fig
