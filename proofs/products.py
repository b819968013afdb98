"""Claims and certificates about products of random matrices (docs/formulas.md §1).

The seed essay's first quantitative point is Saxe et al.'s figure of singular values of
products of 1, 10 and 100 random matrices: as depth grows the product becomes degenerate.
Each claim below pits an exact law from :mod:`theory.products` against the Monte Carlo engines
of :mod:`numerics.products`, with standard errors from independent replicas.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from degeneracy.numerics import ensembles, stats
from degeneracy.numerics import products as nprod
from degeneracy.numerics.isometry import fold_product_squared_singular_values
from degeneracy.theory import products as tp
from degeneracy.theory.fold import fold_law
from degeneracy.theory.free_series import moments_from_s_transform

from .registry import certificate, claim

EPS = float(np.finfo(float).eps)


# ----------------------------------------------------------------------------- certificates

def fuss_catalan_moments_from_s_transform(k_max: int = 6, *, wrong: bool = False):
    """Series-invert ``S(z) = (1+z)^(-L)`` with symbolic ``L`` and compare with Fuss–Catalan.

    The moments of the product of ``L`` free Wishart (ratio 1) laws follow from the S-transform
    by Lagrange inversion (:func:`theory.free_series.moments_from_s_transform`; Voiculescu; Mingo &
    Speicher, *Free Probability and Random Matrices*, ch. 4). With ``L`` a symbol they must equal
    ``m_k = binom((L+1)k, k)/(Lk+1)`` (Fuss–Catalan numbers). Returns ``(holds, detail)``;
    ``wrong=True`` compares with ``binom(Lk, k)/((L-1)k+1)`` (the depth off by one), which must
    not hold.
    """
    L, z = sp.symbols("L z", positive=True)
    moments = moments_from_s_transform((1 + z) ** (-L), k_max, z=z)
    depth = L - 1 if wrong else L
    failures = [k for k, m in enumerate(moments, start=1)
                if sp.simplify(m - sp.expand_func(sp.binomial((depth + 1) * k, k)) / (depth * k + 1)) != 0]
    if failures:
        return False, f"series inversion disagrees with the Fuss-Catalan formula at k = {failures}"
    return True, "m_k = binom((L+1)k, k)/(Lk+1) for k = 1..%d with L symbolic" % k_max


@certificate("products.fuss-catalan-moments-from-s-transform",
             statement="S(z) = (1+z)^-L inverts to the Fuss-Catalan moments binom((L+1)k,k)/(Lk+1), k <= 6, L symbolic",
             source="Voiculescu's S-transform; Mingo & Speicher (2017) ch. 4; Penson & Zyczkowski (2011)")
def _cert_fc_moments():
    return fuss_catalan_moments_from_s_transform(6)


def second_moment_recursion_solution(field: str = "real", *, wrong: bool = False):
    """Solve the 2x2 Wick recursion of ``E tr (P^T P)^2`` symbolically in the depth.

    With ``a_L = E tr (P_L^T P_L)^2`` and ``b_L = E (tr P_L^T P_L)^2`` the Wick contractions give
    ``(a, b)_{L+1} = M (a, b)_L`` (:func:`theory.products.second_moment_recursion`). The
    certificate diagonalizes ``M`` symbolically in ``n``, forms ``M^L`` for symbolic ``L``, and
    checks (i) it reproduces the exact :func:`theory.products.second_moment` for n <= 6,
    L <= 6 and (ii) ``lim_{n->inf} (1/n) a_L / n^0 = L + 1`` (the Fuss–Catalan second moment).
    """
    M, init, n = tp.second_moment_recursion(field)
    L = sp.symbols("L", positive=True, integer=True)
    P, D = M.diagonalize()
    ML = sp.simplify(P * sp.diag(*[d**L for d in D.diagonal()]) * P.inv())
    aL = sp.simplify((ML * init)[0] / n)
    for nn in range(1, 7):
        for LL in range(1, 7):
            value = sp.nsimplify(aL.subs({n: nn, L: LL}))
            exact = tp.second_moment(nn, LL, field=field)
            if sp.Rational(exact.numerator, exact.denominator) != sp.simplify(value):
                return False, f"closed form {value} != exact {exact} at n={nn}, depth={LL}"
    limit = sp.limit(aL, n, sp.oo)
    target = L + 2 if wrong else L + 1
    if sp.simplify(limit - target) != 0:
        return False, f"n -> inf limit is {limit}, not {target}"
    return True, f"(1/n) E tr (P^T P)^2 = {sp.simplify(aL)}; n -> inf limit L + 1"


@certificate("products.second-moment-recursion",
             statement="the Wick recursion for E tr (P^T P)^2 solves in closed form and tends to depth + 1",
             source="Wick contractions; docs/formulas.md §1 (finite-N second moment)")
def _cert_second_moment():
    ok_r, d_r = second_moment_recursion_solution("real")
    ok_c, d_c = second_moment_recursion_solution("complex")
    return ok_r and ok_c, f"real: {d_r}; complex: {d_c}"


def cayley_orthogonal(A: sp.Matrix) -> sp.Matrix:
    """The exactly orthogonal rational matrix ``(I - A)(I + A)^-1`` of a skew-symmetric ``A``."""
    eye = sp.eye(A.shape[0])
    return (eye - A) * (eye + A).inv()


def orthogonal_product_exact(n: int = 4, depth: int = 12, seed: int = 0):
    """Exact rational check: a product of ``depth`` rational orthogonal matrices has P^T P = I."""
    rng = np.random.default_rng(seed)
    P = sp.eye(n)
    for _ in range(depth):
        B = sp.Matrix(n, n, [sp.Rational(int(v), 7) for v in rng.integers(-5, 6, size=n * n)])
        P = cayley_orthogonal(B - B.T) * P
    residual = sp.simplify(P.T * P - sp.eye(n))
    return residual == sp.zeros(n), f"P^T P - I over Q for n={n}, depth={depth}"


@certificate("products.orthogonal-product-exact",
             statement="products of (Cayley) orthogonal matrices are exactly orthogonal: all singular values 1",
             source="Cayley transform; Saxe et al. (2013) s.3")
def _cert_orthogonal():
    return orthogonal_product_exact()


def fold_rank_exact(n: int, k: int, depth: int, seed: int = 0) -> tuple[int, int]:
    """Exact ranks (over Q) of a Fold-k integer matrix and of a product of ``depth`` of them."""
    rng = np.random.default_rng(seed)
    mats = [ensembles.fold(rng.integers(-9, 10, size=(n, n)).astype(float), k) for _ in range(depth)]
    one = sp.Matrix(mats[0].astype(int)).rank()
    prod = sp.eye(n)
    for m in mats:
        prod = sp.Matrix(m.astype(int)) * prod
    return one, prod.rank()


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

@claim("products.fuss-catalan-moments",
       title="The moments of the squared singular values of a product of L Gaussian matrices tend to the "
             "Fuss-Catalan numbers binom((L+1)k, k)/(Lk+1), which follow from the S-transform (1+z)^-L.",
       source="Penson & Zyczkowski, Phys. Rev. E 83, 061118 (2011); Voiculescu's S-transform; docs/formulas.md §1",
       kind="asymptotic",
       formula="m_k = binom((L+1)k, k) / (Lk + 1); Monte Carlo m_k(N) = E (1/N) tr (P^T P)^k extrapolated in 1/N",
       settings={"sizes": ((8, 16, 32, 64), (16, 32, 64, 128), (32, 64, 128, 256)),
                 "replicas": (400, 800, 1600), "depths": ((2, 3), (2, 3, 5), (2, 3, 5)), "k_max": 4})
def fuss_catalan_moments(ctx):
    s = ctx.settings
    yield stats.proof_check("S-transform inversion, L symbolic, k <= 6",
                            *fuss_catalan_moments_from_s_transform(6, wrong=ctx.control))
    for L in s["depths"]:
        est = {k: ([], []) for k in range(1, s["k_max"] + 1)}
        for n in s["sizes"]:
            x = nprod.fuss_catalan_samples(n, L, replicas=s["replicas"], rng=ctx.spawn(f"L{L}", f"n{n}"))
            for k in est:
                vals = (x**k).mean(axis=1)  # (1/N) tr (P^T P)^k, one value per replica
                est[k][0].append(vals.mean())
                est[k][1].append(vals.std(ddof=1) / math.sqrt(vals.size))
        for k, (m, se) in est.items():
            theory = tp.fuss_catalan_moment(L - 1 if ctx.control else L, k)
            yield stats.extrapolation_check(f"m_{k}, depth {L}", s["sizes"], m, se, theory, powers=(1, 2))


@claim("products.second-moment-finite-n",
       title="At finite n the second moment E[(1/n) tr (P^T P)^2] of a product of Gaussian matrices is an exact "
             "rational function of n and the depth (real and complex), tending to depth + 1.",
       source="Wick contractions; docs/formulas.md §1",
       kind="finite-n",
       formula="(a, b)_{L+1} = M(n) (a, b)_L with a = E tr (P^T P)^2, b = E (tr P^T P)^2",
       settings={"replicas": (4000, 20000, 100000), "cases": (((2, 1), (3, 2), (4, 3)),) * 3})
def second_moment_finite_n(ctx):
    for field in ("real", "complex"):
        for n, L in ctx.settings["cases"]:
            x = nprod.fuss_catalan_samples(n, L, replicas=ctx.settings["replicas"], field=field,
                                                      rng=ctx.spawn(field, f"n{n}", f"L{L}"))
            vals = (x**2).mean(axis=1)
            exact = tp.second_moment(n, L, field=field)
            theory = Fraction(L + 1) if ctx.control else exact  # control: forget the finite-n correction
            yield stats.mean_check(f"{field}, n={n}, depth={L} (exact {exact})", vals, theory)


@claim("products.fuss-catalan-law",
       title="The empirical distribution of squared singular values of a product of L Gaussian matrices "
             "converges to the Fuss-Catalan law as n grows (L = 1, 5, 10, 100).",
       source="Saxe, McClelland & Ganguli (2013) Fig. 6; Penson & Zyczkowski (2011); Neuschel (2014)",
       kind="asymptotic",
       formula="replica-averaged ECDF at a grid, extrapolated in 1/n per grid point, vs F_L(x)",
       settings={"depths": ((1, 5, 10), (1, 5, 10, 100), (1, 5, 10, 100)),
                 "sizes": ((16, 32, 64), (32, 64, 128, 256), (64, 128, 256, 512)),
                 "deep_sizes": ((), (100, 200, 400), (200, 400, 800)),
                 "replicas": (24, 24, 40)})
def fuss_catalan_law(ctx):
    s = ctx.settings
    for L in s["depths"]:
        sizes = s["deep_sizes"] if L >= 50 else s["sizes"]
        law = tp.fuss_catalan(L)
        wrong = tp.fuss_catalan(L + 1) if ctx.control else law
        # grid: quantiles of the law (in log space the mass near 0 is resolved too)
        grid = law.ppf(np.linspace(0.05, 0.95, 19))
        data = {}
        for n in sizes:
            data[n] = nprod.fuss_catalan_samples(n, L, replicas=s["replicas"],
                                                            rng=ctx.spawn(f"L{L}", f"n{n}"))
        yield stats.ecdf_extrapolation_check(f"depth {L}", data, wrong.cdf, grid, powers=(1,))


def _finite_depth(ctx, field: str):
    s = ctx.settings
    for n in s["n"]:
        mu = tp.lyapunov_exponents(n, field=field)
        if ctx.control:  # a factor-2 slip in the variance of the entries: log(1/n) for log(2/n)
            mu = mu - 0.5 * math.log(2.0) if field == "real" else mu + 0.5 * math.log(2.0)
        ex = nprod.lyapunov_qr(n, s["depth"], replicas=s["replicas"], field=field,
                               rng=ctx.spawn(field, f"n{n}")).exponents
        yield stats.vector_mean_check(f"n={n}, depth={s['depth']}", ex, mu,
                                      labels=[f"mu_{i + 1}" for i in range(n)])


@claim("products.lyapunov-real",
       title="The finite-depth Lyapunov exponents of products of real Gaussian matrices average to "
             "mu_i = (1/2)[log(2/n) + psi((n-i+1)/2)] at every depth.",
       source="Newman, Commun. Math. Phys. 103 (1986); docs/formulas.md §1",
       kind="finite-n",
       formula="mu_i = (1/2)[log(2/n) + psi((n-i+1)/2)]; (1/L) sum_l log|R_l,ii| from the QR (Benettin) engine",
       settings={"n": ((4, 16, 64), (4, 16, 64, 256), (4, 16, 64, 256, 1024)), "depth": (50, 200, 1000),
                 "replicas": (40, 40, 100)})
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
       settings={"n": ((4, 16, 64), (4, 16, 64, 128), (4, 16, 64, 256)), "depth": (50, 200, 1000),
                 "replicas": (40, 40, 100)})
def lyapunov_complex(ctx):
    yield from _finite_depth(ctx, "complex")


@claim("products.lyapunov-fluctuations",
       title="Depth times the variance of the finite-depth Lyapunov exponents equals psi'((n-i+1)/2)/4 (real) "
             "and psi'(n-i+1)/4 (complex).",
       source="Akemann, Burda & Kieburg, J. Phys. A 47 (2014); Forrester, J. Phys. A 48 (2015)",
       kind="finite-n",
       formula="L Var[mu_i(L)] = psi'((n-i+1)/2)/4 (real), psi'(n-i+1)/4 (complex)",
       settings={"n": (8, 16, 32), "depth": (40, 100, 400), "replicas": (800, 1600, 3200), "groups": (40, 40, 80)})
def lyapunov_fluctuations(ctx):
    s = ctx.settings
    for field in ("real", "complex"):
        n = s["n"]
        theory = tp.lyapunov_variances(n, field=field)
        if ctx.control:  # the complex formula used for the real case and vice versa
            theory = tp.lyapunov_variances(n, field="complex" if field == "real" else "real")
        ex = nprod.lyapunov_qr(n, s["depth"], replicas=s["replicas"], field=field, rng=ctx.spawn(field)).exponents
        groups = stats.group_variance_replicas(ex * math.sqrt(s["depth"]), s["groups"])  # (G, n): L Var per group
        yield stats.vector_mean_check(f"{field}, n={n}, depth={s['depth']}", groups, theory,
                                      labels=[f"i={i + 1}" for i in range(n)])


@claim("products.depth-degeneracy",
       title="Products of Gaussian matrices become more degenerate with depth: the participation ratio tends to "
             "1/(depth+1), the fraction of tiny squared singular values rises, and the log condition number "
             "grows like depth (mu_1 - mu_n).",
       source="Saxe et al. (2013) Fig. 6; the seed essay; docs/formulas.md §1",
       kind="asymptotic",
       formula="PR = (sum s^2)^2 / (n sum s^4) -> m_1^2/m_2 = 1/(L+1); F_L(eps) increasing in L; "
               "E log(s_1/s_n)/L -> mu_1 - mu_n",
       settings={"sizes": ((16, 32, 64, 128), (32, 64, 128, 256), (64, 128, 256, 512)),
                 "depths": ((1, 2, 4, 8), (1, 2, 4, 8, 16), (1, 2, 4, 8, 16)), "replicas": (100, 200, 400),
                 "eps": 1e-3, "cond_n": 6, "cond_depths": ((25, 50, 100, 200), (25, 50, 100, 200, 400),
                                                           (50, 100, 200, 400, 800)), "cond_replicas": (100, 200, 400)})
def depth_degeneracy(ctx):
    s = ctx.settings
    fractions = {}
    for L in s["depths"]:
        pr_m, pr_se = [], []
        for n in s["sizes"]:
            x = nprod.fuss_catalan_samples(n, L, replicas=s["replicas"], rng=ctx.spawn(f"L{L}", f"n{n}"))
            pr = nprod.participation_ratio(np.sqrt(x))
            pr_m.append(pr.mean())
            pr_se.append(pr.std(ddof=1) / math.sqrt(pr.size))
            if n == s["sizes"][-1]:
                fractions[L] = (x < s["eps"]).mean(axis=1)
        theory = 1.0 / (L + 2) if ctx.control else tp.participation_ratio_limit(L)
        yield stats.extrapolation_check(f"participation ratio, depth {L}", s["sizes"], pr_m, pr_se, theory,
                                        powers=(1, 2))
    depths = list(s["depths"])
    for a, b in zip(depths, depths[1:]):
        # the claimed direction; the control claims it falls
        yield stats.difference_check(f"fraction below {s['eps']:g} rises from depth {a} to {b}",
                                     fractions[b], fractions[a], "less" if ctx.control else "greater")
    n = s["cond_n"]
    mu = tp.lyapunov_exponents(n)
    rate = mu[0] - mu[-1]
    m, se = [], []
    for L in s["cond_depths"]:
        logsv = nprod.sample_product_log_singular_values(n, L, replicas=s["cond_replicas"],
                                                        rng=ctx.spawn("cond", f"L{L}"))
        c = (logsv[:, 0] - logsv[:, -1]) / L
        m.append(c.mean())
        se.append(c.std(ddof=1) / math.sqrt(c.size))
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


@claim("products.eigenvalue-origin",
       title="The eigenvalues of a product of k Gaussian matrices pile up at the origin: the fraction in the "
             "0.1 x 0.1 bin at 0 tends to the r^(2/k) law's prediction.",
       source="Burda, Janik & Waclaw, Phys. Rev. E 81 (2010); Saxe et al. (2013) Fig. 6C",
       kind="asymptotic",
       formula="P(|lambda| <= r) = r^(2/k) inside the unit disk (complex Gaussian factors, n -> inf)",
       settings={"ks": ((1, 2, 5), (1, 2, 5, 10), (1, 2, 5, 10)), "sizes": ((32, 64, 128), (32, 64, 128, 256),
                 (128, 256, 512, 1024)), "replicas": (40, 40, 80)})
def eigenvalue_origin(ctx):
    s = ctx.settings
    for k in s["ks"]:
        m, se = [], []
        for n in s["sizes"]:
            lam = nprod.sample_product_eigenvalues(n, k, replicas=s["replicas"], field="complex",
                                                   rng=ctx.spawn(f"k{k}", f"n{n}"))
            frac = nprod.origin_bin_fraction(lam)
            m.append(frac.mean())
            se.append(frac.std(ddof=1) / math.sqrt(frac.size))
        theory = tp.origin_bin_fraction(k + 1 if ctx.control else k)
        yield stats.extrapolation_check(f"origin-bin fraction, k={k}", s["sizes"], m, se, theory, powers=(1,))
    for quoted in (0.32, 0.94):
        k = tp.origin_bin_depth(quoted)
        ctx.note(f"Saxe et al.'s quoted {100 * quoted:.0f}% is the r^(2/k) law's origin-bin fraction at k = {k:.2f} "
                 f"(k=5: {tp.origin_bin_fraction(5):.3f}, k=10: {tp.origin_bin_fraction(10):.3f}, "
                 f"k=100: {tp.origin_bin_fraction(100):.3f})")


def finite_n_cdf(grid, n: int, depth: int, *, nodes: int = 8, x_min: float = 1e-9) -> np.ndarray:
    """CDF of :func:`theory.products.finite_n_density` at the sorted ``grid`` points.

    Integrates ``x rho(x)`` in ``t = log x`` from ``log x_min`` with ``nodes``-point
    Gauss-Legendre rules on each interval between consecutive grid points (the integrand is
    smooth in ``t``; the density's weak singularity at 0 becomes harmless). The mass below
    ``x_min`` is at most ``x_min * max(1, |log x_min|)^(depth - 1)``-small, far below the
    Monte Carlo resolution.
    """
    g = np.sort(np.asarray(grid, dtype=float))
    edges = np.concatenate([[math.log(x_min)], np.log(g)])
    u, w = np.polynomial.legendre.leggauss(nodes)
    t = (0.5 * (edges[1:, None] - edges[:-1, None]) * u + 0.5 * (edges[1:, None] + edges[:-1, None]))
    x = np.exp(t)
    rho = np.asarray(tp.finite_n_density(x.ravel(), n, depth, dps=20), dtype=float).reshape(x.shape)
    pieces = (0.5 * (edges[1:] - edges[:-1]))[:, None] * w * rho * x
    return np.cumsum(pieces.sum(axis=1))


@claim("products.complex-finite-n-density",
       title="At finite n the squared singular values of a product of complex Gaussian matrices follow the exact "
             "Meijer-G density.",
       source="Akemann, Kieburg & Wei (2013); Akemann, Ipsen & Kieburg (2013); Kuijlaars & Zhang (2014)",
       kind="finite-n",
       formula="one-point density (1/n) K(x, x) of a polynomial ensemble with Meijer-G kernel "
               "(theory.products.finite_n_density), integrated on a grid",
       settings={"cases": (((2, 1), (2, 2), (3, 2)), ((2, 1), (2, 2), (3, 2), (4, 3)),
                           ((2, 1), (2, 2), (3, 2), (4, 3), (6, 4))),
                 "replicas": (40, 80, 100), "per_replica": (250, 500, 1000)})
def complex_finite_n_density(ctx):
    s = ctx.settings
    grid = np.array([0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.5, 4.0])
    for n, L in s["cases"]:
        x = nprod.fuss_catalan_samples(n, L, replicas=s["replicas"] * s["per_replica"], field="complex",
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
        stable = nprod.product_log_singular_values(factors)  # (R, n) descending, accurate at any depth
        naive = np.log(np.maximum(nprod.naive_product_singular_values(factors), np.finfo(float).tiny))
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


@claim("products.fold-spectrum",
       title="The nonzero squared singular values of a product of L Fold-k Gaussian matrices (rank N/2^k) follow the "
             "free-probability law S = 2^-k (1+z)^-(L-1) (1 + 2^-k z)^-1: Fuss-Catalan-like, scaled up by 2^k.",
       source="Orhan 2018 (Fold-k initialization; docs/formulas.md §3); free multiplicative convolution (derived here)",
       kind="asymptotic",
       formula="S(z) = c^-1 (1+z)^-(L-1) (1+z/c)^-1, c = 2^k; atom 1 - 1/c at 0 in the full spectrum",
       settings={"sizes": ((32, 64, 128), (64, 128, 256), (128, 256, 512)), "replicas": (24, 32, 48),
                 "depth": (3, 4, 8)})
def fold_spectrum(ctx):
    s = ctx.settings
    L = s["depth"]
    for k in (1, 2):
        law = fold_law(L, k)
        used = fold_law(L, k, wrong=True) if ctx.control else law  # control: the 2^k rescaling forgotten
        grid = law.ppf(np.array([0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95]))
        data = {}
        for n in s["sizes"]:
            ev = fold_product_squared_singular_values(n, L, k, replicas=s["replicas"], rng=ctx.spawn(str(k), str(n)))
            data[n] = ev[:, -(n >> k):]  # the N/2^k nonzero eigenvalues
        yield stats.ecdf_extrapolation_check(f"Fold-{k}, L={L}", data, used.cdf, grid, powers=(1,))
