"""Figures of products of random matrices (Saxe et al. 2013 Fig. 6; docs/formulas.md §1)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from degeneracy.numerics import ensembles
from degeneracy.numerics import products as nprod
from degeneracy.theory import products as tp

from .registry import claim_settings, figure
from .style import COLORS, figure_legend, mark_clipped, new_figure

LN10 = np.log(10.0)
EPS = np.finfo(float).eps


@figure("products-singular-values",
        title="Squared singular values of products of 1, 10 and 100 Gaussian matrices, and of orthogonal ones",
        claims=("products.fuss-catalan-law", "products.orthogonal-isometry"),
        caption="Gaussian panels: histogram (density of log10 s^2, pooled over the replicas and sizes given in the "
                "legend) of the squared singular values of the product of L independent n x n Gaussian matrices "
                "with entry variance 1/n, computed to full relative accuracy at every depth (graded QR; nothing is "
                "cut or floored: the x axis runs over all values); line: the Fuss-Catalan law of order L (n -> "
                "infinity). Right panel: a product of Haar orthogonal matrices multiplied in float64, with the "
                "size, depth and replicas of the claim products.orthogonal-isometry; histogram of (s_i - 1)/eps "
                "(eps = 2.2e-16, float64 machine epsilon) against the exact value 1, with the claim's rounding "
                "bound on |s_i - 1| printed (far outside the axis).")
def singular_values(ctx):
    st = claim_settings(ctx, "products.fuss-catalan-law")
    n_small, n_deep = max(st["sizes"]), max(st["deep_sizes"] or st["sizes"])
    reps = ctx.size(2, 4, 4)
    fig, axes = new_figure(1, 4, width=12.5, height=3.6)
    for ax, L in zip(axes[:3], (1, 10, 100)):
        n = n_deep if L >= 50 else n_small
        logsv = nprod.product_log_singular_values(n, L, replicas=reps, rng=ctx.spawn(f"L{L}"))
        t = (2 * logsv / LN10).ravel()  # log10 of squared singular values
        bins = np.linspace(t.min(), t.max(), 50)
        ax.hist(t, bins=bins, density=True, color=COLORS[0], alpha=0.45,
                label=f"Monte Carlo\n(n = {n}, {reps} replicas)")
        law = tp.fuss_catalan(L)
        a, b = law.support()
        u = np.linspace(max(bins[0], -300.0), np.log10(b) - 1e-9, 800)
        x = 10.0**u
        ax.plot(u, law.pdf(x) * x * LN10, color=COLORS[1], lw=2, zorder=3, label="Fuss–Catalan law")
        ax.set_title(f"{L} Gaussian factor{'s' if L > 1 else ''}")
        ax.set_xlabel(r"$\log_{10} s^2$")
        ax.set_ylabel(r"density of $\log_{10} s^2$")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.45)
        ax.legend(loc="upper left", fontsize=7.5)
    ax = axes[3]
    so = claim_settings(ctx, "products.orthogonal-isometry")
    n, L, R = so["n"], so["depth"], so["replicas"]
    g = ctx.spawn("orth")
    P = np.broadcast_to(np.eye(n), (R, n, n)).copy()
    defect = np.zeros(R)
    for _ in range(L):
        Q = ensembles.haar_orthogonal(n, size=R, rng=g)
        defect += np.linalg.norm(np.swapaxes(Q, -1, -2) @ Q - np.eye(n), ord=2, axis=(-2, -1))
        P = Q @ P
    dev = (np.linalg.svd(P, compute_uv=False) - 1.0).ravel() / EPS
    gamma = n * EPS / (1 - n * EPS)
    bound = (float(defect.max()) + L * gamma + 4 * n * EPS) / EPS
    lo, hi = np.floor(dev.min()) - 0.5, np.ceil(dev.max()) + 0.5
    ax.hist(dev, bins=np.linspace(lo, hi, int(min(40, max(8, hi - lo)))), color=COLORS[2], alpha=0.6,
            label=f"float64 product ({R} x {n} values)")
    ax.axvline(0, color=COLORS[1], lw=2, label="exact: $s_i = 1$")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)
    ax.text(0.02, 0.78, f"claim's rounding bound:\n$|s_i - 1| \\leq$ {bound:.3g} $\\epsilon$", transform=ax.transAxes,
            ha="left", va="top", fontsize=7.5)
    ax.set_title(f"{L} orthogonal factors, n = {n}")
    ax.set_xlabel(r"$(s_i - 1)\,/\,\epsilon_{\mathrm{machine}}$")
    ax.set_ylabel("count")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.legend(loc="upper left", fontsize=7.5)
    return fig


@figure("products-eigenvalues",
        title="Eigenvalues of products of k complex Gaussian matrices pile up at the origin (r^(2/k) law)",
        claims=("products.eigenvalue-origin",),
        caption="Left panels: density of the eigenvalues in the complex plane (2-D histogram, one shared logarithmic "
                "colour scale; white: no eigenvalue) of the product of k complex Gaussian n x n matrices (entry "
                "variance 1/n), pooled over independent replicas; the square marks the 0.1 x 0.1 bin at the origin "
                "whose share the title compares with the r^(2/k) law. Right: radial CDF P(|lambda| <= r); lines: "
                "the law r^(2/k) (n -> infinity), markers: Monte Carlo mean over replicas with +- 2 standard "
                "errors (replicas independent). k, n and replicas are those of the claim products.eigenvalue-origin "
                "at its largest size.")
def eigenvalues(ctx):
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    st = claim_settings(ctx, "products.eigenvalue-origin")
    sizes = list(st["sizes"])
    ks, n = st["ks"], max(sizes)
    reps = st["replicas"][sizes.index(n)]  # the claim's replicas at its largest size (a tuple, one per size)
    fig, axes = new_figure(1, len(ks) + 1, width=13.0, height=3.9)
    lams = {k: nprod.product_eigenvalues(n, k, replicas=reps, field="complex", rng=ctx.spawn(f"k{k}")) for k in ks}
    edges = np.linspace(-1.2, 1.2, 49)
    area = (edges[1] - edges[0]) ** 2
    hists = {k: np.histogram2d(lam.real.ravel(), lam.imag.ravel(), bins=[edges, edges])[0] / (lam.size * area)
             for k, lam in lams.items()}
    vmax = max(h.max() for h in hists.values())
    vmin = min(h[h > 0].min() for h in hists.values())
    norm = LogNorm(vmin=vmin, vmax=vmax)
    for j, k in enumerate(ks):
        ax = axes[j]
        mesh = ax.pcolormesh(edges, edges, np.ma.masked_equal(hists[k].T, 0), cmap="viridis", norm=norm,
                             rasterized=True)
        ax.add_patch(Rectangle((-0.05, -0.05), 0.1, 0.1, fill=False, ec="w", lw=1.0))
        frac = np.mean((np.abs(lams[k].real) < 0.05) & (np.abs(lams[k].imag) < 0.05))
        ax.set_title(f"k = {k}: {100 * frac:.1f}% in the bin\n(law: {100 * tp.origin_bin_fraction(k):.1f}%)",
                     fontsize=9)
        ax.set_xlabel(r"Re $\lambda$")
        ax.set_ylabel(r"Im $\lambda$")
        ax.set_aspect("equal")
        ax.grid(False)
    fig.colorbar(mesh, ax=list(axes[:len(ks)]), label="eigenvalue density", shrink=0.8, pad=0.02)
    ax = axes[-1]
    r = np.linspace(0, 1, 200)
    rm = np.linspace(0.1, 1.0, 10)
    for j, k in enumerate(ks):
        a = np.abs(lams[k])  # (reps, n)
        ecdf = (a[:, :, None] <= rm).mean(axis=1)  # (reps, len(rm))
        m, se = ecdf.mean(0), ecdf.std(0, ddof=1) / np.sqrt(reps)
        ax.plot(r, tp.product_eigenvalue_radial_cdf(r, k), color=COLORS[j], lw=1.6, label=f"k={k}: r^(2/{k})")
        ax.errorbar(rm, m, yerr=2 * se, fmt="o", ms=4, mfc="white", color=COLORS[j], capsize=2, zorder=3)
    ax.plot([], [], "o", ms=4, mfc="white", color="0.3", label="Monte Carlo ± 2 s.e.")
    ax.set_xlabel(r"$r$")
    ax.set_ylabel(r"$P(|\lambda| \leq r)$")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"radial CDF, n = {n}, {reps} replicas", fontsize=9)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=7.5, frameon=False)
    fig.set_layout_engine("constrained")
    return fig


@figure("products-lyapunov",
        title="Exact Lyapunov spectra vs the QR engine, real and complex Gaussian products",
        claims=("products.lyapunov-real", "products.lyapunov-complex"),
        caption="Top: the exact finite-n Lyapunov exponents mu_i (Newman 1986; Forrester 2013) (line) and the QR "
                "(Benettin) engine's finite-depth exponents (markers, mean over independent products). Bottom: "
                "their difference with error bars of +- 2 standard errors over the independent products; "
                "the grey band is +- 2 s.e. around 0. Width, depth and number of products are those of the "
                "claims products.lyapunov-real / -complex (width 64, one of the claims' widths).")
def lyapunov(ctx):
    fig, axes = new_figure(2, 2, width=9.0, height=5.4, sharex="col", gridspec_kw={"height_ratios": (3, 2)})
    for col, field in enumerate(("real", "complex")):
        st = claim_settings(ctx, f"products.lyapunov-{field}")
        n, L, reps = 64, st["depth"], st["replicas"]
        i = np.arange(1, n + 1)
        ex = nprod.finite_depth_exponents(n, L, replicas=reps, field=field, rng=ctx.spawn(field))
        m = ex.mean(axis=0)
        se = ex.std(axis=0, ddof=1) / np.sqrt(reps)
        mu = tp.lyapunov_exponents(n, field=field)
        ax = axes[0, col]
        ax.plot(i, m, "o", ms=4, mfc="white", color=COLORS[0], label=f"QR engine (depth {L}, {reps} products)")
        ax.plot(i, mu, color=COLORS[1], lw=1.6, zorder=3, label="exact")
        ax.set_title(f"{field} Gaussian, n = {n}")
        ax.set_ylabel(r"$\mu_i$ (per layer)")
        ax.legend(loc="lower left", fontsize=8)
        ax = axes[1, col]
        ax.fill_between(i, -2 * se, 2 * se, color="0.8", lw=0)
        ax.axhline(0, color=COLORS[1], lw=1.2)
        ax.errorbar(i, m - mu, yerr=2 * se, fmt="o", ms=3, color=COLORS[0], capsize=0, lw=1)
        ax.set_xlabel("index i")
        ax.set_ylabel(r"QR $-$ exact ($\pm$2 s.e.)")
    return fig


@figure("products-naive-breakdown",
        title="Naive product + svd loses every singular value with log(s1/si) > -log eps; the QR engine does not",
        claims=("products.naive-breakdown",),
        caption="log10 singular values of one product of L Gaussian n x n matrices: the QR engine (accurate at "
                "every depth) and an explicit float64 product followed by svd; dotted: s_1 times machine epsilon, "
                "below which the naive values are rounding noise. n and depths are the claim's "
                "(products.naive-breakdown); one product per panel (the claim counts over its replicas).")
def naive_breakdown(ctx):
    st = claim_settings(ctx, "products.naive-breakdown")
    n, depths = st["n"], st["depths"]
    fig, axes = new_figure(1, len(depths), width=min(12.5, 3.2 * len(depths) + 0.5), height=3.4)
    eps = np.finfo(float).eps
    for ax, L in zip(axes, depths):
        factors = ensembles.gaussian(n, size=(L, 1), rng=ctx.spawn(f"L{L}"))  # (L, R, n, n)
        stable = nprod.log_singular_values_of(factors)[0]
        naive_sv = nprod.naive_product_singular_values(factors)[0]
        i = np.arange(1, n + 1)
        ax.plot(i, stable / LN10, "o-", ms=3.5, color=COLORS[0], label="QR engine")
        ok = naive_sv > 0
        ax.plot(i[ok], np.log10(naive_sv[ok]), "x", ms=6, color=COLORS[1], label="naive product + svd")
        if not ok.all():
            mark_clipped(ax, f"{int((~ok).sum())} naive value(s) exactly 0 (not drawn)", y=0.02)
        ax.axhline((stable[0] + np.log(eps)) / LN10, color="gray", ls=":", lw=1.2, label=r"$s_1 \cdot \epsilon$")
        ax.set_title(f"depth {L}, n = {n}")
        ax.set_xlabel("index i")
        ax.set_ylabel(r"$\log_{10} s_i$")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure_legend(fig, axes[0], ncol=3, top=0.86)
    return fig
