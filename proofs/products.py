"""Claims and certificates about products of random matrices (docs/formulas.md §1).

The seed essay's first quantitative point is Saxe et al.'s figure of singular values of
products of 1, 10 and 100 random matrices: as depth grows the product becomes degenerate.
Each claim below pits an exact law from :mod:`theory.products` (or an independent route to it,
:mod:`proofs.product_routes`) against the Monte Carlo engines of the numerics layer
(:mod:`numerics.qr_engine`, :mod:`numerics.graded_svd`, ...), with standard errors from independent
replicas.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from degeneracy.numerics import ensembles, stats
from degeneracy.numerics.control_variates import control_variate_mean
from degeneracy.numerics.fold_products import sample_fold_product_nonzero_spectrum
from degeneracy.numerics.graded_svd import (
    fuss_catalan_samples,
    product_log_singular_values,
    sample_product_log_singular_values,
)
from degeneracy.numerics.lyapunov_controls import controlled_lyapunov_exponents
from degeneracy.numerics.naive_products import (
    explicit_squared_singular_values,
    multiply,
    naive_product_singular_values,
    trace_moments,
)
from degeneracy.numerics.product_eigenvalues import (
    rotation_averaged_bin_fraction,
    sample_product_eigenvalues,
    trace_smoothed_bin_fraction,
)
from degeneracy.numerics.qr_engine import lyapunov_qr
from degeneracy.numerics.spectral_summaries import normalized_participation_ratio
from degeneracy.theory import products as tp
from degeneracy.theory.fold import fold_law

from .product_routes import (
    finite_n_cdf,
    fold_rank_exact,
    fuss_catalan_moments_from_s_transform,
    ginibre_origin_bin_fraction,
    orthogonal_product_exact,
    rectangular_lyapunov_exponents,
    second_moment_isserlis_check,
    second_moment_recursion_solution,
)
from .registry import certificate, claim

EPS = float(np.finfo(float).eps)


# ----------------------------------------------------------------------------- certificates

@certificate("products.fuss-catalan-moments-from-s-transform",
             statement="S(z) = (1+z)^-L inverts to the Fuss-Catalan moments binom((L+1)k,k)/(Lk+1), k <= 6, L symbolic",
             source="Voiculescu's S-transform; Mingo & Speicher (2017) ch. 4; Penson & Zyczkowski (2011)")
def _cert_fc_moments():
    return fuss_catalan_moments_from_s_transform(6)


@certificate("products.second-moment-recursion",
             statement="the Wick recursion for E tr (P^T P)^2 solves in closed form and tends to depth + 1",
             source="Wick contractions; docs/formulas.md §1 (finite-N second moment)")
def _cert_second_moment():
    ok_r, d_r = second_moment_recursion_solution("real")
    ok_c, d_c = second_moment_recursion_solution("complex")
    return ok_r and ok_c, f"real: {d_r}; complex: {d_c}"


@certificate("products.second-moment-isserlis",
             statement="the Wick coefficients of the finite-n second moment equal the term-by-term Gaussian (Isserlis) "
                       "expectation of one layer, exactly, for n = 2, 3 (real and complex)",
             source="Isserlis, Biometrika 12 (1918); Wick contractions; docs/formulas.md §1 (finite-N second moment)")
def _cert_second_moment_isserlis():
    return second_moment_isserlis_check()


@certificate("products.orthogonal-product-exact",
             statement="products of (Cayley) orthogonal matrices are exactly orthogonal: all singular values 1",
             source="Cayley transform; Saxe et al. (2013) s.3")
def _cert_orthogonal():
    return orthogonal_product_exact()


@certificate("products.fold-rank-exact",
             statement="Fold-k integer matrices and their products have rank n/2^k over Q (n = 16, k = 0..3)",
             source="Orhan (2018), the Fold operation; docs/formulas.md §3")
def _cert_fold_rank():
    bad = []
    for k in range(4):
        one, prod = fold_rank_exact(16, k, 3, seed=k)
        if one != 16 >> k or prod != 16 >> k:
            bad.append((k, one, prod))
    return not bad, "ranks 16, 8, 4, 2 for k = 0..3" if not bad else f"mismatches (k, rank, product rank): {bad}"


# ----------------------------------------------------------------------------- claims

def _fc_moments_plan(ctx):
    s = ctx.settings
    return {f"L{L}-n{n}": (L, n, R) for L in s["depths"] for n, R in zip(s["sizes"], s["replicas"])}


def _fc_moments_unit(ctx, params):
    L, n, R = params
    return trace_moments(n, L, R, ctx.spawn(f"L{L}", f"n{n}"))


@claim("products.fuss-catalan-moments",
       title="The moments of the squared singular values of a product of L Gaussian matrices tend to the "
             "Fuss-Catalan numbers binom((L+1)k, k)/(Lk+1), which follow from the S-transform (1+z)^-L.",
       source="Penson & Zyczkowski, Phys. Rev. E 83, 061118 (2011); Voiculescu's S-transform; docs/formulas.md §1",
       kind="asymptotic",
       formula="m_k = binom((L+1)k, k) / (Lk + 1); Monte Carlo m_k(N) = E (1/N) tr (P^T P)^k extrapolated in 1/N",
       settings={"sizes": ((16, 32, 64, 128), (32, 64, 128, 256), (64, 128, 256, 512)),
                 "replicas": ((1600, 800, 400, 200), (4000, 2000, 800, 300), (8000, 4000, 1600, 600)),
                 "depths": ((2, 3), (2, 3, 5), (2, 3, 5)), "k_max": 4},
       units=_fc_moments_plan, unit=_fc_moments_unit)
def fuss_catalan_moments(ctx):
    """Per size N, ``m_k(N)`` is the replica mean of ``(1/N) tr (P^T P)^k``; for k = 2 with the
    control variate ``m_1`` (exact mean 1: ``E P^T P = I``), for k = 3, 4 with ``m_1`` and ``m_2``
    (exact finite-N mean :func:`theory.products.second_moment`, itself checked exactly against Isserlis' theorem by
    ``products.second-moment-finite-n``), which are strongly correlated with them across replicas
    (variance reduced 6-80 times; measured while developing). The estimates are extrapolated in
    ``a + b/N + c/N^2`` (real Gaussian products have 1/N corrections; at depth 5, m_4 is 49%, 21%,
    11%, 5% above its limit at N = 32, 64, 128, 256). One work unit per (depth, size), on the stream it had
    in one loop."""
    s = ctx.settings
    yield stats.proof_check("S-transform inversion, L symbolic, k <= 6",
                            *fuss_catalan_moments_from_s_transform(6, wrong=ctx.control))
    for L in s["depths"]:
        est = {k: ([], []) for k in range(1, s["k_max"] + 1)}
        for n, R in zip(s["sizes"], s["replicas"]):
            m = ctx.parts[f"L{L}-n{n}"]
            exact2 = float(tp.second_moment(n, L))
            for k in est:
                if k >= 3:
                    mean, se = control_variate_mean(m[:, k - 1], m[:, :2], [1.0, exact2])
                elif k == 2:
                    mean, se = control_variate_mean(m[:, 1], m[:, :1], [1.0])
                else:
                    mean, se = float(m[:, k - 1].mean()), float(m[:, k - 1].std(ddof=1) / math.sqrt(R))
                est[k][0].append(mean)
                est[k][1].append(se)
        for k, (mm, se) in est.items():
            theory = tp.fuss_catalan_moment(L - 1 if ctx.control else L, k)
            yield stats.extrapolation_check(f"m_{k}, depth {L}", s["sizes"], mm, se, theory, powers=(1, 2))


def _second_moment_samples(ctx, field: str, n: int, depth: int, replicas: int, chunk: int):
    """Per replica ``(1/n) tr (P^*P)^2`` and ``((1/n) tr P^*P)^2`` of products of ``depth`` Gaussian
    ``n x n`` factors, multiplied explicitly (depth <= 4: no accuracy issue for these sums of
    squares), drawn in chunks on streams keyed by (field, n, depth, chunk)."""
    a_out, b_out = [], []
    for c, start in enumerate(range(0, replicas, chunk)):
        r = min(chunk, replicas - start)
        P = multiply(ensembles.gaussian(n, size=(depth, r), field=field,
                                        rng=ctx.spawn(field, f"n{n}", f"L{depth}", f"chunk{c}")))
        G = np.matmul(np.conj(np.swapaxes(P, -1, -2)), P)
        a_out.append(np.sum(np.abs(G) ** 2, axis=(-2, -1)) / n)
        b_out.append((np.real(np.trace(G, axis1=-2, axis2=-1)) / n) ** 2)
    return np.concatenate(a_out), np.concatenate(b_out)


@claim("products.second-moment-finite-n",
       title="At finite n the second moment E[(1/n) tr (P^T P)^2] of a product of Gaussian matrices is an exact "
             "rational function of n and the depth (real and complex), tending to depth + 1.",
       source="Wick contractions; Isserlis, Biometrika 12 (1918); docs/formulas.md §1",
       kind="finite-n",
       formula="(a, b)_{L+1} = M(n) (a, b)_L with a = E tr (P^T P)^2, b = E (tr P^T P)^2",
       settings={"replicas": (20000, 360000, 400000), "chunk": 20000,
                 "cases": ({"real": ((1, 1), (2, 1), (3, 2)), "complex": ((1, 1), (2, 2))},
                           {"real": ((1, 1), (2, 1), (3, 2), (4, 3), (6, 4)),
                            "complex": ((1, 1), (2, 2), (3, 3), (6, 4))},
                           {"real": ((1, 1), (2, 1), (3, 2), (4, 3), (6, 4), (8, 4)),
                            "complex": ((1, 1), (2, 2), (3, 3), (6, 4), (8, 4))}),
                 "isserlis_n": ((2,), (2, 3), (2, 3))})
def second_moment_finite_n(ctx):
    """Two routes. Exact: the Wick step is recomputed term by term by Isserlis' theorem (sympy) and
    ``theory.products.second_moment`` must equal it exactly (a slip in any one pairing term fails
    it). Monte Carlo: per case one check of both ``a/n = E (1/n) tr (P^*P)^2`` and
    ``b/n^2 = E ((1/n) tr P^*P)^2`` (the second row of the recursion is visible in ``b`` at depth
    1 already); small n and depth, where the finite-n terms are large, and many replicas (the
    per-replica values are heavy-tailed: their relative spread grows with depth), so each check
    resolves a few percent."""
    s = ctx.settings
    holds, detail = second_moment_isserlis_check(ns=s["isserlis_n"], wrong=ctx.control)
    yield stats.proof_check("exact: theory equals the Isserlis route (n <= 3, depth <= 4)", holds, detail)
    for field, cases in s["cases"].items():
        M, init, nsym = tp.second_moment_recursion(field)
        for n, L in cases:
            a_vals, b_vals = _second_moment_samples(ctx, field, n, L, s["replicas"], s["chunk"])
            Mn = sp.Matrix(M.subs(nsym, n))
            v = (Mn**L) * sp.Matrix(init.subs(nsym, n))
            a_th = tp.second_moment(n, L, field=field)
            b_th = Fraction(int(sp.Rational(v[1]).p), int(sp.Rational(v[1]).q)) / (n * n)
            if ctx.control:  # forget the finite-n corrections: the n -> inf limits
                a_th, b_th = Fraction(L + 1), Fraction(1)
            yield stats.vector_mean_check(f"{field}, n={n}, depth={L} (exact a = {a_th})",
                                          np.column_stack([a_vals, b_vals]), [a_th, b_th],
                                          labels=["E (1/n) tr (P*P)^2", "E ((1/n) tr P*P)^2"])


#: products.fuss-catalan-law: (depth, size) with depth x size from this on run in units of this many
#: replicas, each on its own stream (identical in distribution; the others keep the stream of one loop)
FC_CHUNK = {"from_work": 100 * 400, "replicas": 4}


def _fuss_catalan_plan(ctx):
    s = ctx.settings
    plan = {}
    for L in s["depths"]:
        for n in (s["deep_sizes"] if L >= 50 else s["sizes"]):
            R = s["replicas"]
            if L * n < FC_CHUNK["from_work"]:
                plan[f"L{L}-n{n}"] = (L, n, R, None)
            else:
                c = FC_CHUNK["replicas"]
                plan.update({f"L{L}-n{n}-chunk{i}": (L, n, min(c, R - start), i)
                             for i, start in enumerate(range(0, R, c))})
    return plan


def _fuss_catalan_unit(ctx, params):
    L, n, R, chunk = params
    names = (f"L{L}", f"n{n}") + (() if chunk is None else (f"chunk{chunk}",))
    return fuss_catalan_samples(n, L, replicas=R, rng=ctx.spawn(*names))


@claim("products.fuss-catalan-law",
       title="The empirical distribution of squared singular values of a product of L Gaussian matrices "
             "converges to the Fuss-Catalan law as n grows (L = 1, 5, 10, 100).",
       source="Saxe, McClelland & Ganguli (2013) Fig. 6; Penson & Zyczkowski (2011); Neuschel (2014)",
       kind="asymptotic",
       formula="replica-averaged ECDF at a grid, extrapolated in 1/n per grid point, vs F_L(x)",
       settings={"depths": ((1, 5, 10), (1, 5, 10, 100), (1, 5, 10, 100)),
                 "sizes": ((16, 32, 64), (32, 64, 128, 256), (64, 128, 256, 512)),
                 "deep_sizes": ((), (100, 200, 400), (200, 400, 800)),
                 "replicas": (24, 24, 40)},
       units=_fuss_catalan_plan, unit=_fuss_catalan_unit)
def fuss_catalan_law(ctx):
    """One work unit per (depth, size): the samples of that product (the same streams as one loop);
    the deepest and largest in chunks of replicas (``FC_CHUNK``), each on its own stream."""
    s = ctx.settings
    for L in s["depths"]:
        sizes = s["deep_sizes"] if L >= 50 else s["sizes"]
        law = tp.fuss_catalan(L)
        wrong = tp.fuss_catalan(L + 1) if ctx.control else law
        # grid: quantiles of the law (in log space the mass near 0 is resolved too)
        grid = law.ppf(np.linspace(0.05, 0.95, 19))
        data = {n: np.concatenate([v for u, v in ctx.parts.items() if u == f"L{L}-n{n}"
                                   or u.startswith(f"L{L}-n{n}-chunk")], axis=0) for n in sizes}
        yield stats.ecdf_extrapolation_check(f"depth {L}", data, wrong.cdf, grid, powers=(1,))

#: Lyapunov claims: sizes from this n on run in units of at most this many replicas (at n = from_n; fewer,
#: like n^-3, above it), each on its own stream (identical in distribution; ``--full``'s n = 1024, 400
#: replicas of depth 250, is hours of one core, and the default n = 256 was the longest unit of the claim)
LYAPUNOV_CHUNK = {"from_n": 256, "replicas": 40}


def _lyapunov_replicas(s, n: int) -> int:
    return s["replicas"] * max(1, min(16, 64 // n))  # small n: more replicas, nearly free


def _finite_depth_plan(ctx):
    plan = {}
    for n in ctx.settings["n"]:
        R = _lyapunov_replicas(ctx.settings, n)
        if n < LYAPUNOV_CHUNK["from_n"]:
            plan[f"n{n}"] = (n, R, None)
        else:  # chunks of equal work: the replicas per chunk fall like n^-3
            c = max(1, int(LYAPUNOV_CHUNK["replicas"] * (LYAPUNOV_CHUNK["from_n"] / n) ** 3))
            for i, start in enumerate(range(0, R, c)):
                plan[f"n{n}-chunk{i}"] = (n, min(c, R - start), i)
    return plan


def _finite_depth_unit(ctx, params, field: str):
    """(R, n + 1): controlled exponents and the controls' pooled mean (``controlled_lyapunov_exponents``)."""
    n, R, chunk = params
    names = (field, f"n{n}") + (() if chunk is None else (f"chunk{chunk}",))
    ex, control_mean = controlled_lyapunov_exponents(n, ctx.settings["depth"], replicas=R, field=field,
                                                     rng=ctx.spawn(*names))
    return np.column_stack([ex, control_mean])


def _finite_depth(ctx, field: str):
    """The finite-depth means are exact at every depth, and the standard error of a replica mean
    depends on depth x replicas only, so the settings spend the engine steps on many replicas of a
    moderate depth: more degrees of freedom, a lower Student-t threshold, a finer check; sizes
    below 64 get up to 16 times the replicas (their steps cost almost nothing).

    Estimator: the exponents with exact Bartlett control variates (:mod:`numerics.lyapunov_controls`;
    same mean, 10 to 1000 times less variance): without them ``mu_1 ~ -1/(2n)`` (-0.032 at n = 16) was
    resolved to 17% of itself at default size, now every exponent to about 2%. Each size's check also
    holds the controls' pooled mean to 1 (it pins the scale, to which the controlled exponents are blind
    to first order). One work unit per size; from ``LYAPUNOV_CHUNK["from_n"]`` on, chunks of replicas."""
    s = ctx.settings
    plan = _finite_depth_plan(ctx)
    for n in s["n"]:
        mu = tp.lyapunov_exponents(n, field=field)
        if ctx.control:  # a factor-2 slip in the variance of the entries: log(1/n) for log(2/n)
            mu = mu - 0.5 * math.log(2.0) if field == "real" else mu + 0.5 * math.log(2.0)
        ex = np.concatenate([ctx.parts[u] for u, p in plan.items() if p[0] == n], axis=0)
        yield stats.vector_mean_check(f"n={n}, depth={s['depth']}", ex, np.append(mu, 1.0),
                                      labels=[f"mu_{i + 1}" for i in range(n)] + ["control mean"])


def _lyapunov_real_unit(ctx, params):
    return _finite_depth_unit(ctx, params, "real")


def _lyapunov_complex_unit(ctx, params):
    return _finite_depth_unit(ctx, params, "complex")


@claim("products.lyapunov-real",
       title="The finite-depth Lyapunov exponents of products of real Gaussian matrices average to "
             "mu_i = (1/2)[log(2/n) + psi((n-i+1)/2)] at every depth.",
       source="Newman, Commun. Math. Phys. 103 (1986); docs/formulas.md §1",
       kind="finite-n",
       formula="mu_i = (1/2)[log(2/n) + psi((n-i+1)/2)]; (1/L) sum_l log|R_l,ii| from the QR (Benettin) engine",
       settings={"n": ((4, 16, 64), (4, 16, 64, 256), (4, 16, 64, 256, 1024)), "depth": (20, 50, 250),
                 "replicas": (100, 160, 400)},
       units=_finite_depth_plan, unit=_lyapunov_real_unit)
def lyapunov_real(ctx):
    """Why exact at finite depth: with Q_0 = I and rotation-invariant Gaussian factors, each
    W_l Q_{l-1} is again Gaussian and independent of the past, so R_l,ii^2 ~ chi^2_{n-i+1}/n
    exactly and E log|R_l,ii| = mu_i for every l."""
    yield from _finite_depth(ctx, "real")


@claim("products.lyapunov-complex",
       title="The finite-depth Lyapunov exponents of products of complex Gaussian matrices average to "
             "mu_i = (1/2)[psi(n-i+1) - log n] at every depth.",
       source="Forrester, J. Stat. Phys. 151 (2013); docs/formulas.md §1",
       kind="finite-n",
       formula="mu_i = (1/2)[psi(n-i+1) - log n]",
       settings={"n": ((4, 16, 64), (4, 16, 64, 128), (4, 16, 64, 256)), "depth": (20, 50, 250),
                 "replicas": (100, 160, 400)},
       units=_finite_depth_plan, unit=_lyapunov_complex_unit)
def lyapunov_complex(ctx):
    yield from _finite_depth(ctx, "complex")


@claim("products.lyapunov-fluctuations",
       title="Depth times the variance of the finite-depth Lyapunov exponents equals psi'((n-i+1)/2)/4 (real) "
             "and psi'(n-i+1)/4 (complex).",
       source="Akemann, Burda & Kieburg, J. Phys. A 47 (2014); Forrester, J. Phys. A 48 (2015)",
       kind="finite-n",
       formula="L Var[mu_i(L)] = psi'((n-i+1)/2)/4 (real), psi'(n-i+1)/4 (complex)",
       settings={"n": (4, 8, 16), "depth": (10, 10, 20), "replicas": (8000, 80000, 160000), "groups": (80, 800, 1600)})
def lyapunov_fluctuations(ctx):
    """In the QR engine's index order the per-layer terms ``log|R_l,ii|`` are independent
    (orthogonal invariance), so ``L Var[mu_i(L)] = Var log|R_ii|`` holds exactly at every depth
    (the papers state it as the large-L variance of the Lyapunov exponents). Estimator: replicas
    split into groups of 100, each group's sample variance an independent unbiased estimate; their
    mean and standard error (df = groups - 1). Relative precision ``~ sqrt((2 + 4/L)/R)`` (the
    log-chi^2 terms have excess kurtosis up to 4 per layer), hence many replicas of a shallow
    product rather than few deep ones: the same engine steps buy a 5x finer variance estimate."""
    s = ctx.settings
    for field in ("real", "complex"):
        n = s["n"]
        theory = tp.lyapunov_variances(n, field=field)
        if ctx.control:  # the complex formula used for the real case and vice versa
            theory = tp.lyapunov_variances(n, field="complex" if field == "real" else "real")
        ex = lyapunov_qr(n, s["depth"], replicas=s["replicas"], field=field, rng=ctx.spawn(field)).exponents
        groups = stats.group_variance_replicas(ex * math.sqrt(s["depth"]), s["groups"])  # (G, n): L Var per group
        yield stats.vector_mean_check(f"{field}, n={n}, depth={s['depth']}", groups, theory,
                                      labels=[f"i={i + 1}" for i in range(n)])


@claim("products.lyapunov-rectangular",
       title="For products of rectangular Gaussian factors (N_l x N_(l-1), entries of variance 1/N_(l-1)), the top-k "
             "finite-depth Lyapunov exponents average to (1/L) sum_l (1/2)[log(2/N_(l-1)) + psi((N_l-i+1)/2)] at every "
             "depth (complex: (1/L) sum_l (1/2)[psi(N_l-i+1) - log N_(l-1)]).",
       source="Newman, Commun. Math. Phys. 103 (1986); Forrester, J. Stat. Phys. 151 (2013); "
              "Ipsen, J. Phys. A 48 (2015)",
       kind="finite-n",
       formula="mu_i = (1/L) sum_l (1/2)[log(2/N_(l-1)) + psi((N_l - i + 1)/2)], i <= k <= min_l N_l; "
               "QR engine with a k-column frame",
       settings={"networks": (((48, 40, 32, 24, 16),), ((96, 80, 64, 56, 48, 40, 32, 24, 16),),
                              ((96, 80, 64, 56, 48, 40, 32, 24, 16), (256, 224, 192, 160, 128, 96, 64, 48, 32))),
                 "k": 8, "replicas": (600, 2000, 4000)})
def lyapunov_rectangular(ctx):
    """A funnel network (widths shrinking to the output): every exponent is well away from 0
    (at least 0.12 in size), so a check of a few percent is a few percent of each. The engine
    runs a k-column frame (``numerics.qr_engine.lyapunov_qr`` with the widths), the exponents are
    compared in the engine's index order, where their means are exact at every depth."""
    s = ctx.settings
    k = s["k"]
    for widths in s["networks"]:
        for field in ("real", "complex"):
            theory = rectangular_lyapunov_exponents(widths, k, field, slip=ctx.control)
            res = lyapunov_qr(widths, len(widths) - 1, k=k, replicas=s["replicas"], field=field,
                              rng=ctx.spawn(field, "x".join(map(str, widths))))
            yield stats.vector_mean_check(f"{field}, widths {widths[0]}->{widths[-1]} (depth {len(widths) - 1}), "
                                          f"top {k}", res.exponents, theory,
                                          labels=[f"mu_{i + 1}" for i in range(k)])


def _depth_degeneracy_plan(ctx):
    s = ctx.settings
    plan = {f"L{L}-n{n}": ("sv", L, n, R * s["boost"].get(L, 1))
            for L in s["depths"] for n, R in zip(s["sizes"], s["replicas"])}
    plan.update({f"cond-L{L}": ("cond", L) for L in s["cond_depths"]})
    return plan


def _depth_degeneracy_unit(ctx, params):
    """One (depth, size) of the squared singular values: (PR mean, its s.e., fraction below eps, its s.e.);
    or one depth of the condition-number series: (mean, s.e.) of log(s_1/s_n)/L."""
    s = ctx.settings
    if params[0] == "cond":
        L = params[1]
        logsv = sample_product_log_singular_values(s["cond_n"], L, replicas=s["cond_replicas"],
                                                   rng=ctx.spawn("cond", f"L{L}"))
        c = (logsv[:, 0] - logsv[:, -1]) / L
        return float(c.mean()), float(c.std(ddof=1) / math.sqrt(c.size))
    _, L, n, R = params
    x = explicit_squared_singular_values(n, L, R, ctx.spawn(f"L{L}", f"n{n}"))
    x = np.maximum(x, 0.0)  # eigvalsh rounding of P^T P can dip below 0 by ~1e-12
    m1, m2 = x.mean(axis=1), (x**2).mean(axis=1)
    pr_raw = normalized_participation_ratio(np.sqrt(x))  # = m1^2 / m2 per replica
    pr, se = control_variate_mean(pr_raw, np.column_stack([m1, m2]), [1.0, float(tp.second_moment(n, L))])
    frac = (x < s["eps"]).mean(axis=1)
    return pr, se, frac.mean(), max(frac.std(ddof=1) / math.sqrt(R), 1.0 / (R * n))  # floor: one value's worth


@claim("products.depth-degeneracy",
       title="Products of Gaussian matrices become more degenerate with depth: the participation ratio tends to "
             "1/(depth+1), the fraction of squared singular values below eps tends to the Fuss-Catalan F_L(eps), "
             "which rises with depth, and the log condition number grows like depth (mu_1 - mu_n).",
       source="Saxe et al. (2013) Fig. 6; the seed essay; docs/formulas.md §1",
       kind="asymptotic",
       formula="PR = (sum s^2)^2 / (n sum s^4) -> m_1^2/m_2 = 1/(L+1); fraction of s^2 < eps -> F_L(eps) "
               "(Fuss-Catalan CDF, increasing in L); E log(s_1/s_n)/L -> mu_1 - mu_n",
       settings={"sizes": ((16, 32, 64, 128), (32, 64, 128, 256), (64, 128, 256, 512)),
                 "depths": ((1, 2, 4), (1, 2, 4, 8, 16), (1, 2, 4, 8, 16)),
                 "replicas": ((400, 200, 100, 50), (800, 400, 200, 100), (1600, 800, 400, 200)),
                 "boost": {1: 4, 2: 2}, "pr_max_depth": 8,
                 "eps": 1e-3, "cond_n": 6, "cond_depths": ((25, 50, 100, 200), (25, 50, 100, 200, 400),
                                                           (50, 100, 200, 400, 800)), "cond_replicas": (100, 200, 400)},
       units=_depth_degeneracy_plan, unit=_depth_degeneracy_unit)
def depth_degeneracy(ctx):
    """Per depth and size, replicas of the squared singular values (explicit product, accurate in
    absolute terms to ~1e-12: :func:`numerics.naive_products.explicit_squared_singular_values`).
    The participation ratio per replica is regressed on the control variates ``m_1`` (mean exactly 1) and ``m_2`` (exact
    finite-n mean :func:`theory.products.second_moment`), which it tracks closely; both it and the
    fraction below eps are extrapolated in 1/n. Depths 1 and 2 get more replicas (their fractions
    below eps are small, 0.02 and 0.08). The participation ratio is checked up to depth 8 (see the
    note the claim writes). One work unit per (depth, size) and per condition-number depth, each on
    the stream it had in one loop."""
    s = ctx.settings
    eps = s["eps"]
    limits = {}
    for L in s["depths"]:
        pr_m, pr_se, fr_m, fr_se = (list(v) for v in zip(*(ctx.parts[f"L{L}-n{n}"] for n in s["sizes"])))
        theory = 1.0 / (L + 2) if ctx.control else tp.participation_ratio_limit(L)
        if L <= s["pr_max_depth"]:
            yield stats.extrapolation_check(f"participation ratio, depth {L}", s["sizes"], pr_m, pr_se, theory,
                                            powers=(1, 2))
        limits[L] = float(tp.fuss_catalan(L + 1 if ctx.control else L).cdf(eps))
        yield stats.extrapolation_check(f"fraction of s^2 below {eps:g}, depth {L}", s["sizes"], fr_m, fr_se,
                                        limits[L], powers=(1,))
    ctx.note("Fuss-Catalan fraction below %g by depth: %s (rising with depth)"
             % (eps, ", ".join(f"{L}: {v:.4f}" for L, v in limits.items())))
    if max(s["depths"]) > s["pr_max_depth"]:
        ctx.note(f"participation ratio extrapolated for depths <= {s['pr_max_depth']} only: its finite-n corrections "
                 "grow like depth^2/n (E m_2 = L + 1 + O(L^2/n), and the per-replica ratio is heavy-tailed), so at "
                 "depth 16 the sizes used here (n <= 256) are not yet in the 1/n regime (measured: 0.0705, 0.0612, "
                 "0.0579, 0.0576 at n = 32..256 against the limit 0.0588)")
    n = s["cond_n"]
    mu = tp.lyapunov_exponents(n)
    rate = mu[0] - mu[-1]
    m, se = (list(v) for v in zip(*(ctx.parts[f"cond-L{L}"] for L in s["cond_depths"])))
    yield stats.extrapolation_check(f"log condition number / depth, n={n}", s["cond_depths"], m, se,
                                    rate / 2 if ctx.control else rate, powers=(1,))


@claim("products.orthogonal-isometry",
       title="Products of orthogonal matrices keep every singular value at exactly 1 for any depth.",
       source="Saxe et al. (2013) s.3 (orthogonal initialization); docs/formulas.md §1",
       kind="identity",
       formula="P^T P = I; float64: max_i |s_i - 1| <= sum_l ||Q_l^T Q_l - I||_2 + depth * gamma_n, gamma_n = n eps/(1 - n eps)",
       settings={"n": (32, 64, 128), "depth": (1000, 1000, 2000), "replicas": (4, 8, 8)})
def orthogonal_isometry(ctx):
    holds, detail = orthogonal_product_exact()
    yield stats.proof_check("exact rational product (Cayley), n=4, depth=12", holds, detail)
    s = ctx.settings
    n, L = s["n"], s["depth"]
    g = ctx.spawn("haar")
    P = np.broadcast_to(np.eye(n), (s["replicas"], n, n)).copy()
    defect = np.zeros(s["replicas"])
    for _ in range(L):
        Q = ensembles.gaussian(n, size=s["replicas"], rng=g) if ctx.control else \
            ensembles.haar_orthogonal(n, size=s["replicas"], rng=g)
        QtQ = np.swapaxes(Q, -1, -2) @ Q - np.eye(n)
        defect += np.linalg.norm(QtQ, ord=2, axis=(-2, -1))
        P = Q @ P
    sv = np.linalg.svd(P, compute_uv=False)
    gamma = n * EPS / (1 - n * EPS)
    # ||Q^T Q - I|| = d implies |s_i(Q) - 1| <= d; products add deviations to first order,
    # and each floating-point matmul adds at most gamma_n relative error (Higham, ch. 3)
    bound = float(defect.max() if not ctx.control else 0.0) + L * gamma + 4 * n * EPS  # + svd backward error
    dev = float(np.abs(sv - 1).max())
    yield stats.tolerance_check(f"max |s_i - 1|, n={n}, depth={L}", 0.0, dev, bound,
                                reason="bound: sum of per-factor orthogonality defects + depth * n eps + svd error")


def _origin_replicas(s, k: int, R: int) -> int:
    """Replicas of k >= 2: ``k2_scale`` x ``R`` for k = 2, R/4 for k >= 5 (the fraction grows with k)."""
    return R * s["k2_scale"] if k == 2 else max(40, int(R * 0.25))


def _origin_plan(ctx):
    s = ctx.settings
    cases = [(1, s["ginibre_n"], s["ginibre_replicas"])]
    for k in s["ks"]:
        if k != 1:
            cases += [(k, n, _origin_replicas(s, k, R)) for n, R in zip(s["sizes"], s["replicas"])]
    c = s["chunk"]
    return {f"k{k}-n{n}-chunk{i}": (k, n, min(c, R - start), i)
            for k, n, R in cases for i, start in enumerate(range(0, R, c))}


def _origin_unit(ctx, params):
    """Origin-bin fractions of a chunk of replicas: trace-smoothed for k = 1, rotation-averaged for k >= 2."""
    k, n, R, i = params
    lam = sample_product_eigenvalues(n, k, replicas=R, field="complex", rng=ctx.spawn(f"k{k}", f"n{n}", f"chunk{i}"))
    return trace_smoothed_bin_fraction(lam) if k == 1 else rotation_averaged_bin_fraction(lam)


def _origin_gathered(ctx, k: int, n: int) -> np.ndarray:
    return np.concatenate([v for u, v in ctx.parts.items() if u.startswith(f"k{k}-n{n}-chunk")])


@claim("products.eigenvalue-origin",
       title="The eigenvalues of a product of k Gaussian matrices pile up at the origin: the fraction in the "
             "0.1 x 0.1 bin at 0 tends to the r^(2/k) law's prediction.",
       source="Burda, Janik & Waclaw, Phys. Rev. E 81 (2010); Saxe et al. (2013) Fig. 6C",
       kind="asymptotic",
       formula="P(|lambda| <= r) = r^(2/k) inside the unit disk (complex Gaussian factors, n -> inf); "
               "k = 1: exact Ginibre density (1/pi) Q(n, n|z|^2) at finite n",
       settings={"ks": ((1, 2, 5), (1, 2, 5, 10), (1, 2, 5, 10)),
                 "ginibre_n": 8, "ginibre_replicas": (20000, 240000, 800000),
                 "sizes": ((24, 32, 48), (24, 32, 48, 64), (32, 64, 128, 256)),
                 "replicas": ((2000, 1000, 500), (6000, 3000, 1500, 800), (16000, 4000, 1000, 250)),
                 "k2_scale": (1, 4, 1), "chunk": 20000},
       units=_origin_plan, unit=_origin_unit)
def eigenvalue_origin(ctx):
    """Estimator: per replica, the rotation-averaged fraction (Rao-Blackwell over the
    rotation invariance of complex Ginibre products), mean and standard error over independent
    replicas; its standard error is floored at one eigenvalue's worth, ``1/(R n)``, so a size
    at which no replica has an eigenvalue near the bin still carries an honest error.

    k = 1: the bin fraction of one Ginibre matrix is n-independent to 1e-8 for n >= 4 (exact
    finite-n density), so it is measured at one small size with many replicas against the exact
    finite-n value, which is the limit; the estimator integrates out the trace exactly
    (:func:`numerics.product_eigenvalues.trace_smoothed_bin_fraction`; 12 times less variance than the
    rotation average at n = 8: resolution 1.6% with 240000 replicas, was 4.2% with 400000).
    k >= 2: extrapolated in 1/n^2 from n >= 24 (at k = 2 the deficit of the bin below its limit is
    0.0044, 0.0029, 0.0012 at n = 12, 16, 24, decaying about like 1/n^2; the exact finite-n law gives
    10.1/n^2 to 11/n^2 relative for n = 24..128). k = 2 gets ``k2_scale`` x ``replicas`` (default:
    resolution about 1.4%, under 3% when the two-dof fit's scatter doubles it), k >= 5 a quarter.
    One work unit per (k, size, chunk of replicas), on the streams the chunks had in one loop."""
    s = ctx.settings
    for k in s["ks"]:
        theory = tp.origin_bin_fraction(k + 1 if ctx.control else k)
        if k == 1:
            n, R = s["ginibre_n"], s["ginibre_replicas"]
            exact = ginibre_origin_bin_fraction(n)
            ctx.note(f"k=1: exact Ginibre bin fraction at n={n} is {exact:.10f}; the n -> inf law gives "
                     f"{tp.origin_bin_fraction(1):.10f} (relative difference "
                     f"{abs(exact / tp.origin_bin_fraction(1) - 1):.1e})")
            frac = _origin_gathered(ctx, 1, n)
            yield stats.mean_check(f"origin-bin fraction, k=1 (n={n}, exact finite-n = limit)", frac,
                                   tp.origin_bin_fraction(2) if ctx.control else exact)
            continue
        m, se = [], []
        for n, R in zip(s["sizes"], s["replicas"]):
            R = _origin_replicas(s, k, R)
            frac = _origin_gathered(ctx, k, n)
            m.append(frac.mean())
            se.append(max(frac.std(ddof=1) / math.sqrt(R), 1.0 / (R * n)))
        yield stats.extrapolation_check(f"origin-bin fraction, k={k}", s["sizes"], m, se, theory, powers=(2,))
    for quoted in (0.32, 0.94):
        k = tp.origin_bin_depth(quoted)
        ctx.note(f"Saxe et al.'s quoted {100 * quoted:.0f}% is the r^(2/k) law's origin-bin fraction at k = {k:.2f} "
                 f"(k=5: {tp.origin_bin_fraction(5):.3f}, k=10: {tp.origin_bin_fraction(10):.3f}, "
                 f"k=100: {tp.origin_bin_fraction(100):.3f})")


@claim("products.complex-finite-n-density",
       title="At finite n the squared singular values of a product of complex Gaussian matrices follow the exact "
             "Meijer-G density.",
       source="Akemann, Kieburg & Wei (2013); Akemann, Ipsen & Kieburg (2013); Kuijlaars & Zhang (2014)",
       kind="finite-n",
       formula="one-point density (1/n) K(x, x) of a polynomial ensemble with Meijer-G kernel "
               "(theory.products.finite_n_density), integrated on a grid",
       settings={"cases": (((2, 1), (2, 2), (3, 2)), ((2, 1), (2, 2), (3, 2), (4, 3)),
                           ((2, 1), (2, 2), (3, 2), (4, 3), (6, 4))),
                 "replicas": (40, 80, 100), "per_replica": (250, 2000, 4000)})
def complex_finite_n_density(ctx):
    s = ctx.settings
    grid = np.array([0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.5, 4.0])
    for n, L in s["cases"]:
        x = fuss_catalan_samples(n, L, replicas=s["replicas"] * s["per_replica"], field="complex",
                                       rng=ctx.spawn(f"n{n}", f"L{L}"))
        samples = x.reshape(s["replicas"], -1)  # each row pools per_replica independent matrices
        # control: the density of one factor fewer (a plausible off-by-one in the depth)
        F = finite_n_cdf(grid, n, max(L - 1, 1) if ctx.control and L > 1 else (L + 1 if ctx.control else L))
        yield stats.ecdf_check(f"n={n}, depth={L}", samples, lambda g, F=F: F, grid)


@claim("products.naive-breakdown",
       title="Multiplying the factors and calling svd loses exactly the singular values with "
             "log(s_1/s_i) > -log(eps) (about depth (mu_1 - mu_i) > 36); the QR engine keeps them.",
       source="Float64 rounding of the explicit product; docs/formulas.md §1",
       kind="finite-n",
       formula="s_i lost (relative error > 1e-2) iff log(s_1/s_i) > -log(eps) +- log(100 n) margin",
       settings={"n": (12, 16, 24), "depths": ((10, 30, 100), (10, 30, 100, 300), (10, 30, 100, 300)),
                 "replicas": (20, 40, 80)})
def naive_breakdown(ctx):
    s = ctx.settings
    n = s["n"]
    threshold = -math.log(EPS) / (2.0 if ctx.control else 1.0)  # control: the sqrt(eps) rule
    margin = math.log(100.0 * n)
    wrong_total, classified = 0, 0
    lost_mean = []
    for L in s["depths"]:
        factors = ensembles.gaussian(n, size=(L, s["replicas"]), rng=ctx.spawn(f"L{L}"))  # (L, R, n, n)
        stable = product_log_singular_values(factors)  # (R, n) descending, accurate at any depth
        naive = np.log(np.maximum(naive_product_singular_values(factors), np.finfo(float).tiny))
        gap = stable[:, :1] - stable
        lost = np.abs(naive - stable) > 1e-2
        predicted_lost = gap > threshold
        decided = np.abs(gap - threshold) > margin
        wrong_total += int((lost != predicted_lost)[decided].sum())
        classified += int(decided.sum())
        lost_mean.append((L, float(lost.sum(axis=1).mean()), tp.naive_lost_count(n, L)))
    yield stats.exact_check(f"misclassified singular values (of {classified} outside the margin band)", 0,
                            wrong_total)
    for L, got, pred in lost_mean:
        ctx.note(f"n={n}, depth={L}: naive svd lost {got:.1f} singular values on average; "
                 f"exponent rule depth (mu_1 - mu_i) > 36 predicts {pred}")


@claim("products.fold-rank",
       title="Fold-k matrices, and products of them, have rank n/2^k (generically).",
       source="Orhan (2018), the Fold operation; docs/formulas.md §3",
       kind="identity",
       formula="rank Fold_k(W) = rank(W_L ... W_1) = n / 2^k",
       settings={"n": (16, 16, 32), "ks": ((0, 1, 2, 3),) * 3, "float_n": (64, 256, 512)})
def fold_rank(ctx):
    n = ctx.settings["n"]
    for k in ctx.settings["ks"]:
        one, prod = fold_rank_exact(n, k, 3, seed=int(ctx.rng.integers(2**31)))
        predicted = n - (n >> k) if (ctx.control and k) else n >> k
        yield stats.exact_check(f"exact rank over Q, n={n}, k={k}", predicted, one)
        yield stats.exact_check(f"exact rank of a depth-3 product, n={n}, k={k}", predicted, prod)
    nf = ctx.settings["float_n"]
    W = ensembles.fold_gaussian(nf, 2, size=3, rng=ctx.spawn("float"))
    P = W[2] @ W[1] @ W[0]
    rank = int(np.linalg.matrix_rank(P))  # tolerance s_max * n * eps (numpy's default)
    yield stats.exact_check(f"float64 rank of a depth-3 Fold-2 product, n={nf}", nf >> 2 if not ctx.control else nf, rank)


#: products.fold-spectrum: replicas per work unit, at most this many and at most 2^24 doubles per array
FOLD_CHUNK = 192


def _fold_spectrum_plan(ctx):
    s = ctx.settings
    plan = {}
    for k in (1, 2):
        R = s["replicas"][k]
        for n in s["sizes"][k]:
            c = max(1, min(FOLD_CHUNK, 2**24 // ((n >> k) * n)))
            plan.update({f"k{k}-n{n}-chunk{i}": (k, n, min(c, R - start), i)
                         for i, start in enumerate(range(0, R, c))})
    return plan


def _fold_spectrum_unit(ctx, params):
    k, n, R, i = params
    return sample_fold_product_nonzero_spectrum(n, ctx.settings["depth"], k, replicas=R,
                                                rng=ctx.spawn(f"k{k}", f"n{n}", f"chunk{i}"))


@claim("products.fold-spectrum",
       title="The nonzero squared singular values of a product of L Fold-k Gaussian matrices (rank N/2^k) follow the "
             "free-probability law S = 2^-k (1+z)^-(L-1) (1 + 2^-k z)^-1: Fuss-Catalan-like, scaled up by 2^k.",
       source="Orhan 2018 (Fold-k initialization; docs/formulas.md §3); free multiplicative convolution (derived here)",
       kind="asymptotic",
       formula="S(z) = c^-1 (1+z)^-(L-1) (1+z/c)^-1, c = 2^k; atom 1 - 1/c at 0 in the full spectrum",
       settings={"sizes": ({1: (32, 64, 128), 2: (32, 64, 128)}, {1: (64, 128, 256), 2: (64, 128, 256, 512)},
                           {1: (128, 256, 512), 2: (128, 256, 512, 1024)}),
                 "replicas": ({1: 48, 2: 48}, {1: 768, 2: 768}, {1: 768, 2: 768}),
                 "depth": (3, 4, 8)},
       units=_fold_spectrum_plan, unit=_fold_spectrum_unit)
def fold_spectrum(ctx):
    """The N/2^k nonzero squared singular values per product by the block route
    (:mod:`numerics.fold_products`; plain algebra, held to the explicit product by the tests; 4 to 8
    times cheaper). Fold-2's lowest grid point (N/4 values per product) is the hardest: a fourth,
    larger size (a two-dof fit, less extrapolation) and 768 products resolve it to about 1.5% at
    default size (was 5.7%), Fold-1's to about 2%. Work units: (k, size, chunk of replicas)."""
    s = ctx.settings
    L = s["depth"]
    for k in (1, 2):
        law = fold_law(L, k)
        used = fold_law(L, k, wrong=True) if ctx.control else law  # control: the 2^k rescaling forgotten
        grid = law.ppf(np.array([0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95]))
        data = {n: np.concatenate([v for u, v in ctx.parts.items() if u.startswith(f"k{k}-n{n}-chunk")], axis=0)
                for n in s["sizes"][k]}
        yield stats.ecdf_extrapolation_check(f"Fold-{k}, L={L}", data, used.cdf, grid, powers=(1,))


@claim("products.complex-finite-n-eigenvalues",
       title="At finite n the eigenvalue moduli of a product of complex Gaussian matrices follow the exact law of the "
             "Akemann-Burda process: |lambda|^2 is a uniform mixture over k = 1..n of products of Gamma(k) variables.",
       source="Akemann & Burda, J. Phys. A 45, 465201 (2012); Akemann & Strahov, J. Stat. Phys. 151, 987 (2013)",
       kind="finite-n",
       formula="rho(z) = (n^M/(n pi)) w_M(n^M |z|^2) sum_{k<n} (n^M |z|^2)^k / (k!)^M, w_M = G^{M,0}_{0,M}(-; 0..0 | .) "
               "(theory.product_eigenvalues.finite_n_eigenvalue_law)",
       settings={"cases": (((2, 1), (2, 3), (3, 2), (5, 2)), ((2, 1), (2, 2), (3, 3), (4, 2), (5, 4)),
                           ((2, 1), (2, 2), (2, 5), (3, 1), (3, 3), (4, 2), (4, 4), (5, 1), (5, 3), (5, 5))),
                 "replicas": (40, 250, 250), "per_replica": (100, 200, 1000)})
def complex_finite_n_eigenvalues(ctx):
    s = ctx.settings
    probs = np.linspace(0.05, 0.95, 10)
    for n, L in s["cases"]:
        lam = sample_product_eigenvalues(n, L, replicas=s["replicas"] * s["per_replica"], field="complex",
                                               rng=ctx.spawn(f"n{n}", f"L{L}"))
        samples = np.abs(lam).reshape(s["replicas"], -1)  # each row pools per_replica independent products
        law = tp.finite_n_eigenvalue_law(n, L)
        # control: the law of one factor more (a plausible off-by-one in the depth)
        used = tp.finite_n_eigenvalue_law(n, L + 1) if ctx.control else law
        yield stats.ecdf_check(f"|lambda|, n={n}, depth={L}", samples, used.cdf, law.ppf(probs))
    n, L = s["cases"][-1]
    big = tp.finite_n_eigenvalue_law(n, L)
    ctx.note(f"n={n}, depth={L}: P(|lambda| <= 1/2) = {float(big.cdf(0.5)):.4f} at finite n, "
             f"{tp.product_eigenvalue_radial_cdf(0.5, L):.4f} in the n -> inf law r^(2/depth)")
