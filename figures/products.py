"""Figures of products of random matrices (Saxe et al. 2013 Fig. 6; docs/formulas.md §1)."""

from __future__ import annotations

import numpy as np

from degeneracy.numerics import ensembles
from degeneracy.numerics import products as nprod
from degeneracy.theory import products as tp

from .registry import figure
from .style import COLORS, new_figure

LN10 = np.log(10.0)


@figure("products-singular-values",
        title="Squared singular values of products of 1, 10 and 100 Gaussian matrices, and of 100 orthogonal ones",
        claims=("products.fuss-catalan-law", "products.orthogonal-isometry"))
def singular_values(ctx):
    n = ctx.size(100, 400, 1000)
    reps = ctx.size(2, 4, 4)
    fig, axes = new_figure(1, 4, width=12.5, height=3.0)
    for ax, L in zip(axes[:3], (1, 10, 100)):
        logsv = nprod.product_log_singular_values(n, L, replicas=reps, rng=ctx.spawn(f"L{L}"))
        t = (2 * logsv / LN10).ravel()  # log10 of squared singular values
        lo = max(t.min(), -12 if L < 100 else t.min())
        bins = np.linspace(lo, t.max(), 60)
        # normalized by the whole sample, so a histogram cut at the left still matches the law
        weights = np.full(t.size, 1.0 / (t.size * (bins[1] - bins[0])))
        ax.hist(t, bins=bins, weights=weights, color=COLORS[0], alpha=0.45, label=f"Monte Carlo, n={n}")
        law = tp.fuss_catalan(L)
        a, b = law.support()
        u = np.linspace(max(bins[0], -280.0), np.log10(b) - 1e-9, 800)
        x = 10.0**u
        ax.plot(u, law.pdf(x) * x * LN10, color=COLORS[1], label="Fuss–Catalan law")
        ax.set_title(f"{L} Gaussian factor{'s' if L > 1 else ''}")
        ax.set_xlabel(r"$\log_{10} s^2$")
        ax.set_ylabel("density")
        ax.legend(loc="upper left")
    ax = axes[3]
    L = 100
    Q = ensembles.haar_orthogonal(n, size=L, rng=ctx.spawn("orth"))
    P = np.eye(n)
    for q in Q:
        P = q @ P
    s2 = np.linalg.svd(P, compute_uv=False) ** 2
    ax.hist(s2 - 1.0, bins=40, color=COLORS[2], alpha=0.6, label="Monte Carlo")
    ax.set_title("100 orthogonal factors")
    ax.set_xlabel(r"$s^2 - 1$")
    ax.set_ylabel("count")
    ax.legend(loc="upper left")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    return fig


@figure("products-eigenvalues",
        title="Eigenvalues of products of k complex Gaussian matrices pile up at the origin (r^(2/k) law)",
        claims=("products.eigenvalue-origin",))
def eigenvalues(ctx):
    n = ctx.size(200, 400, 1000)
    reps = ctx.size(2, 4, 4)
    ks = (1, 3, 10)
    fig, axes = new_figure(1, 4, width=12.5, height=3.0)
    r = np.linspace(0, 1, 200)
    for j, k in enumerate(ks):
        lam = nprod.product_eigenvalues(n, k, replicas=reps, field="complex", rng=ctx.spawn(f"k{k}")).ravel()
        ax = axes[j]
        ax.hist2d(lam.real, lam.imag, bins=50, range=[[-1.2, 1.2], [-1.2, 1.2]], cmap="Blues")
        frac = np.mean((np.abs(lam.real) < 0.05) & (np.abs(lam.imag) < 0.05))
        ax.set_title(f"k = {k}: {100 * frac:.1f}% in the 0.1x0.1 bin\n(law: {100 * tp.origin_bin_fraction(k):.1f}%)")
        ax.set_xlabel("Re λ")
        ax.set_ylabel("Im λ")
        ax.set_aspect("equal")
        axes[3].plot(np.sort(np.abs(lam)), np.linspace(0, 1, lam.size), color=COLORS[j], alpha=0.8,
                     label=f"k={k}, Monte Carlo")
        axes[3].plot(r, tp.product_eigenvalue_radial_cdf(r, k), color=COLORS[j], ls="--", lw=1, label=f"k={k}, r^(2/k)")
    axes[3].set_xlabel("|λ|")
    axes[3].set_ylabel("P(|λ| ≤ r)")
    axes[3].set_xlim(0, 1.1)
    axes[3].legend(fontsize=7)
    axes[3].set_title("radial CDF")
    return fig


@figure("products-lyapunov",
        title="Exact Lyapunov spectra vs the QR engine, real and complex Gaussian products",
        claims=("products.lyapunov-real", "products.lyapunov-complex"))
def lyapunov(ctx):
    n = ctx.size(32, 64, 64)
    L = ctx.size(200, 1000, 2000)
    reps = ctx.size(8, 16, 32)
    fig, axes = new_figure(1, 2, width=8.0, height=3.0)
    i = np.arange(1, n + 1)
    for ax, field in zip(axes, ("real", "complex")):
        ex = nprod.finite_depth_exponents(n, L, replicas=reps, field=field, rng=ctx.spawn(field))
        m = ex.mean(axis=0)
        se = ex.std(axis=0, ddof=1) / np.sqrt(reps)
        ax.plot(i, tp.lyapunov_exponents(n, field=field), color=COLORS[1], label="exact")
        ax.errorbar(i, m, yerr=2 * se, fmt="o", ms=2.5, color=COLORS[0], label=f"QR engine (depth {L}, ±2 s.e.)")
        ax.set_title(f"{field} Gaussian, n = {n}")
        ax.set_xlabel("index i")
        ax.set_ylabel(r"$\mu_i$ (per layer)")
        ax.legend()
    return fig


@figure("products-naive-breakdown",
        title="Naive product + svd loses every singular value with log(s1/si) > -log eps; the QR engine does not",
        claims=("products.naive-breakdown",))
def naive_breakdown(ctx):
    n = 16
    depths = (10, 30, 100)
    fig, axes = new_figure(1, 3, width=11.0, height=3.0)
    eps = np.finfo(float).eps
    for ax, L in zip(axes, depths):
        factors = ensembles.gaussian(n, size=(L, 1), rng=ctx.spawn(f"L{L}"))  # (L, R, n, n)
        stable = nprod.log_singular_values_of(factors)[0]
        naive = np.log(np.maximum(nprod.naive_product_singular_values(factors)[0], np.finfo(float).tiny))
        i = np.arange(1, n + 1)
        ax.plot(i, stable / np.log(10), "o-", ms=3, color=COLORS[0], label="QR engine")
        ax.plot(i, naive / np.log(10), "x", ms=5, color=COLORS[1], label="naive product + svd")
        ax.axhline((stable[0] + np.log(eps)) / np.log(10), color="gray", ls=":", lw=1, label=r"$s_1 \cdot \epsilon$")
        ax.set_title(f"depth {L}, n = {n}")
        ax.set_xlabel("index i")
        ax.set_ylabel(r"$\log_{10} s_i$")
        ax.legend(fontsize=7)
    return fig
