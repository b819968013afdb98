"""The laws of theory/ beyond the textbook case, each against an independent route: Fuss-Catalan at depth
10^3-10^6 (mpmath bisection at high precision), Marchenko-Pastur of any ratio (quadrature, the free-probability
engine, the depth-1 Fuss-Catalan law), the Ginibre-product weight (mpmath Meijer-G, Bessel, asymptotics) and the
finite-n eigenvalue law (Kostlan's Gamma mixture, quadrature of Gamma products, Monte Carlo of matrix products)."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, optimize, special
from scipy import stats as sps

from degeneracy.errors import NumericalFailure
from degeneracy.numerics import stats
from degeneracy.theory import products as P
from degeneracy.theory.free import STransform


# ============================================================================ Fuss-Catalan at large depth
def _mp_branch(L, dps):
    """Independent high-precision route on the lower branch: ``w = pi - (L+1) u`` as a function of log x (by
    bisection in log w) and of the cdf, with the parametric density and closed-form cdf in mpmath."""

    def logx(w):
        u = (mp.pi - w) / (L + 1)
        return (L + 1) * mp.log(mp.sin(w)) - mp.log(mp.sin(u)) - L * mp.log(mp.sin((mp.pi + L * w) / (L + 1)))

    def parts(w):
        u = (mp.pi - w) / (L + 1)
        su, s1, sl = mp.sin(u), mp.sin(w), mp.sin((mp.pi + L * w) / (L + 1))
        logrho = 2 * mp.log(su) + (L - 1) * mp.log(sl) - L * mp.log(s1) - mp.log(mp.pi)
        cdf = (w + L * su * s1 / sl) / mp.pi
        return logrho, cdf

    def bisect(g, target):
        lo, hi = mp.mpf(-2000), mp.log(mp.pi / 2)
        for _ in range(250):
            mid = (lo + hi) / 2
            if g(mp.exp(mid)) < target:
                lo = mid
            else:
                hi = mid
        return mp.exp((lo + hi) / 2)

    def at_logx(t):
        with mp.workdps(dps):
            w = bisect(logx, mp.mpf(t))
            logrho, cdf = parts(w)
            return float(logrho), float(mp.log(cdf)), float(mp.log1p(-cdf))

    def quantile(q):
        with mp.workdps(dps):
            w = bisect(lambda w: parts(w)[1], mp.mpf(q))
            return float(logx(w))

    return at_logx, quantile


@pytest.mark.parametrize("depth", [1000, 10**4, 10**6])
def test_fuss_catalan_log_space_at_large_depth(depth):
    law = P.fuss_catalan(depth)
    T = law.log_law()
    at_logx, quantile = _mp_branch(depth, dps=40)
    ts = np.array([-0.05, -0.5, -1.0, -3.0]) * depth
    logpdf_t = np.asarray(T.logpdf(ts)) - ts  # log of the density of x at x = e^t
    logcdf, logsf = np.asarray(T.logcdf(ts)), np.asarray(T.logsf(ts))
    for i, t in enumerate(ts):
        ref = at_logx(t)
        # log x is an input of conditioning L: the density and cdf are accurate to ~L eps in log
        tol = 64 * depth * np.finfo(float).eps
        assert abs(logpdf_t[i] - ref[0]) < tol, ("logpdf", t)
        assert abs(logcdf[i] - ref[1]) < tol, ("logcdf", t)
        assert abs(logsf[i] - ref[2]) < tol * max(1.0, abs(math.exp(ref[1] - ref[2]))), ("logsf", t)
    for q in (0.01, 0.1, 0.5, 0.9):
        assert abs(T.ppf(q) - quantile(q)) < 1e-12 * depth, q
    # the float methods at the representable top of the law agree with the log-space ones
    x = np.array([1e-300, 1e-10, 1.0])
    assert np.allclose(law.cdf(x), T.cdf(np.log(x)), rtol=1e-13, atol=0)
    assert np.allclose(law.logsf(x), T.logsf(np.log(x)), rtol=1e-13, atol=0)


def test_fuss_catalan_deep_quantiles_and_draws_are_never_silent_zeros():
    law = P.fuss_catalan(1000)
    with pytest.raises(NumericalFailure, match=r"exp\(-2[0-9]{3}"):  # ppf(0.1) = exp(-2304.8), not 0.0
        law.ppf(0.1)
    t = law.log_law().ppf(0.1)
    assert -2400 < t < -2200
    with pytest.raises(NumericalFailure, match="log_law"):
        law.rvs(5, rng=0)
    draws = law.log_law().rvs(2000, random_state=1)
    assert np.isfinite(draws).all() and (draws < math.log(law.support()[1])).all()
    # E log X = -L (Fuglede-Kadison determinant): the draws' mean within 5 standard errors
    assert abs(draws.mean() + 1000) < 5 * draws.std(ddof=1) / math.sqrt(draws.size)
    # the float quantile is returned whenever it is a positive double
    assert 0 < law.ppf(0.9) < law.support()[1]


def test_fuss_catalan_million_does_not_hang_and_has_exact_small_moments():
    law = P.fuss_catalan(10**6)  # the exact x_max would take a 20-million-bit Fraction
    assert law.support()[1] == pytest.approx(math.e * (10**6 + 1), rel=1e-6)
    assert law.moment(2) == 10**6 + 1 and law.var() == 1e6
    assert isinstance(law.moment(30), int)
    with pytest.raises(NumericalFailure, match="overflows"):
        law.moment(5000)
    assert float(law.cdf(1e-300)) == pytest.approx(0.99930, abs=1e-5)  # most of the mass is below 1e-300
    assert law.log_law().median() == pytest.approx(-10**6 * math.log(2), rel=1e-3)  # log X/L -> -Exp(1)


@pytest.mark.parametrize("depth,k", [(2, 7), (50, 30), (10**6, 3), (10**6, 10**6), (3, 10**5)])
def test_fuss_catalan_log_moment_independent_route(depth, k):
    # mpmath's binomial at 60 digits (scipy.special.betaln is off by ~2e-10 relative at these sizes)
    n = (depth + 1) * k
    with mp.workdps(60):
        ref = float(mp.log(mp.binomial(n, k)) - mp.log(depth * k + 1))
    assert P.fuss_catalan_log_moment(depth, k) == pytest.approx(ref, rel=1e-15)
    if P.fuss_catalan_log_moment(depth, k) < 2000:
        assert P.fuss_catalan_log_moment(depth, k) == pytest.approx(math.log(P.fuss_catalan_moment(depth, k)),
                                                                    rel=1e-14)


@pytest.mark.parametrize("depth", [1, 3, 100])
def test_mean_log_is_minus_depth(depth):
    law = P.fuss_catalan(depth)
    assert law.mean_log() == -depth
    assert law.log_law().mean() == pytest.approx(-depth, rel=1e-10)
    assert law.log_law().mean() != pytest.approx(-depth - 0.05 * depth, rel=1e-3)  # negative control


def test_entropy_of_two_routes_to_one_law():
    # (quadrature of -pdf log pdf is in the conformance suite) Marchenko-Pastur ratio 1 is Fuss-Catalan depth 1
    assert P.marchenko_pastur(1).entropy() == pytest.approx(P.fuss_catalan(1).entropy(), rel=1e-11)
    # scaling: h(c X) = h(X) + log c
    assert P.marchenko_pastur(0.5, 3.0).entropy() == pytest.approx(P.marchenko_pastur(0.5).entropy() + math.log(3),
                                                                   rel=1e-11)


# ============================================================================ Marchenko-Pastur
@pytest.mark.parametrize("ratio,scale", [(0.25, 1.0), (Fraction(1, 2), 3), (1, 1), (2, 1), (Fraction(4), 0.5)])
def test_marchenko_pastur_against_the_free_engine(ratio, scale):
    law = P.marchenko_pastur(ratio, scale)
    free = STransform.wishart(ratio, variance=scale).law()  # theory.free: series inversion and certified solver
    assert law.atom == pytest.approx(free.atom, abs=1e-15)
    assert law.intervals[0] == pytest.approx(free.intervals[0], rel=1e-9)
    x = np.linspace(*law.intervals[0], 9)[1:-1]
    assert np.allclose(law.pdf(x), free.pdf(x), rtol=1e-8)
    assert np.allclose(law.cdf(x), free.cdf(x), rtol=0, atol=1e-8)
    exact = [law.moment(k) for k in range(1, 5)]
    assert exact == free.exact_moments(4) or np.allclose([float(m) for m in exact], free.S.numeric_moments(4))
    if isinstance(ratio, (int, Fraction)) and isinstance(scale, (int, Fraction)):
        assert all(isinstance(m, (int, Fraction)) for m in exact)


def _mp_mass(law, lo, hi):
    """Continuous mass of ``law`` in ``[lo, hi]``: mpmath quadrature (30 digits, tanh-sinh, which handles the square-root
    edges) of the Marchenko-Pastur density ``sqrt((b - x)(x - a)) / (2 pi s^2 lambda x)``."""
    (a, b), c = law.intervals[0], 2 * math.pi * float(law.scale) * float(law.ratio)
    with mp.workdps(30):
        A, B = mp.mpf(a), mp.mpf(b)
        return float(mp.quad(lambda t: mp.sqrt((B - t) * (t - A)) / (c * t), [mp.mpf(lo), mp.mpf(hi)]))


@pytest.mark.parametrize("ratio", [0.1, 0.9, 1.0, 1.1, 5.0])
def test_marchenko_pastur_cdf_by_quadrature(ratio):
    law = P.marchenko_pastur(ratio, 2.0)
    a, b = law.intervals[0]
    xs = a + (b - a) * np.array([1e-8, 1e-4, 0.01, 0.3, 0.7, 0.99, 1 - 1e-4, 1 - 1e-8])
    for x in xs:
        left, right = _mp_mass(law, a, x), _mp_mass(law, x, b)
        assert law.cdf(x) == pytest.approx(law.atom + left, rel=1e-10, abs=1e-300)
        if law.atom == 0:
            assert law.cdf(x) == pytest.approx(left, rel=1e-10, abs=1e-300)  # relative in the left tail
        assert law.sf(x) == pytest.approx(right, rel=1e-10, abs=1e-300)  # and in the right tail
    assert law.mean() == pytest.approx(2.0) and law.var() == pytest.approx(4.0 * ratio)
    # quantiles: brentq on the quadrature cdf
    q = 0.95
    ref = optimize.brentq(lambda x: law.atom + _mp_mass(law, a, x) - q, a, b, xtol=1e-15, rtol=1e-15)
    assert law.ppf(q) == pytest.approx(ref, rel=1e-10)


def test_marchenko_pastur_atom_and_depth_one():
    law = P.marchenko_pastur(4)
    assert law.cdf(0.0) == 0.75 and law.ppf(0.75) == 0.0 and law.ppf(0.7500001) > 0.9
    assert law.pdf(0.5) == 0.0 and law.interval(0.5)[0] == 0.0
    fc = P.fuss_catalan(1)
    x = np.linspace(0.01, 3.99, 50)
    one = P.marchenko_pastur(1)
    assert np.allclose(one.pdf(x), fc.pdf(x), rtol=1e-13) and np.allclose(one.cdf(x), fc.cdf(x), atol=1e-15)
    assert repr(P.marchenko_pastur(Fraction(1, 2), 2)) == "marchenko_pastur(ratio=Fraction(1, 2), scale=2)"


def test_marchenko_pastur_monte_carlo_convention():
    """Wishart eigenvalues: X of shape N x M, entries of variance scale / M, ratio N / M; the atom is rank."""
    rng = np.random.default_rng(5)
    N, M, scale, reps = 60, 20, 2.0, 200
    X = rng.standard_normal((reps, N, M)) * math.sqrt(scale / M)
    ev = np.linalg.eigvalsh(X @ np.transpose(X, (0, 2, 1)))
    law = P.marchenko_pastur(N / M, scale)
    frac_zero = np.mean(ev < 1e-9 * scale, axis=1)
    assert np.all(frac_zero == pytest.approx(law.atom))
    # the mean eigenvalue is exactly the scale at any size (E tr X X^T / N = scale)
    means = ev.mean(axis=1)
    check = stats.mean_check("mean eigenvalue", means, law.mean())
    assert abs(check.z) < 5
    assert abs(stats.mean_check("control", means, 1.1 * law.mean()).z) > 5  # a 10% mistake is seen


# ============================================================================ Ginibre-product weight
@pytest.mark.parametrize("m", [2, 3, 4])
def test_ginibre_weight_against_mpmath(m):
    for y in (1e-6, 0.01, 0.7, 5.0, 60.0):
        with mp.workdps(30):
            ref = float(mp.meijerg([[], []], [[0] * m, []], y))
        assert P.ginibre_product_weight(y, m) == pytest.approx(ref, rel=1e-12), y
    assert P.ginibre_product_weight(2.0, 1) == pytest.approx(math.exp(-2.0), rel=1e-15)


@pytest.mark.parametrize("m", [3, 5, 8])
def test_ginibre_weight_normalization_and_asymptotics(m):
    # the density of a product of m standard exponentials: mass 1 and mean 1 (quadrature in log y)
    f = lambda s: P.ginibre_product_weight(np.exp(s), m) * np.exp(s)  # noqa: E731
    mass = integrate.quad(f, -60, 12 * m, limit=400)[0]
    mean = integrate.quad(lambda s: f(s) * np.exp(s), -60, 12 * m, limit=400)[0]
    assert mass == pytest.approx(1.0, abs=1e-10) and mean == pytest.approx(1.0, rel=1e-9)
    # large y: log w = log((2 pi)^((m-1)/2) / sqrt m) - (m-1)/(2m) log y - m y^(1/m) + O(y^(-1/m))
    for logy in (30.0, 100.0):
        asym = 0.5 * (m - 1) * math.log(2 * math.pi) - 0.5 * math.log(m) - (m - 1) / (2 * m) * logy - m * math.exp(
            logy / m)
        got = float(P.ginibre_product_weight(math.exp(logy), m, log=True))
        assert abs(got - asym) < 10 * math.exp(-logy / m) + 64 * np.finfo(float).eps * abs(asym)


# ============================================================================ finite-n eigenvalue law
@pytest.mark.parametrize("n", [1, 3, 7])
def test_eigenvalue_law_depth_one_is_kostlan(n):
    """Ginibre: n |lambda|^2 is a uniform mixture of Gamma(k, 1), k = 1..n (Kostlan 1992)."""
    law = P.finite_n_eigenvalue_law(n, 1)
    r = np.geomspace(1e-3, 3.0, 40)
    cdf = np.mean([special.gammainc(k, n * r**2) for k in range(1, n + 1)], axis=0)
    sf = np.mean([special.gammaincc(k, n * r**2) for k in range(1, n + 1)], axis=0)
    assert np.allclose(law.cdf(r), cdf, rtol=1e-11, atol=0)
    assert np.allclose(law.sf(r), sf, rtol=1e-9, atol=0)
    dens = np.mean([sps.gamma.pdf(n * r**2, k) for k in range(1, n + 1)], axis=0) * 2 * n * r
    assert np.allclose(law.pdf(r), dens, rtol=1e-12)
    assert P.finite_n_eigenvalue_density(0.0, n, 1) == pytest.approx(n / math.pi)


def test_eigenvalue_law_depth_two_by_quadrature_of_gamma_products():
    n, m = 3, 2
    law = P.finite_n_eigenvalue_law(n, m)
    for r in (0.2, 0.7, 1.3):
        y = n**m * r * r
        ref = np.mean([integrate.quad(lambda g: special.gammainc(k, y / g) * sps.gamma.pdf(g, k), 0, np.inf,
                                      epsabs=0, epsrel=1e-12, limit=400)[0] for k in range(1, n + 1)])
        assert law.cdf(r) == pytest.approx(ref, rel=1e-10)


def test_eigenvalue_density_is_normalized_over_the_plane():
    for n, m in ((2, 2), (4, 3)):
        mass = integrate.quad(lambda r: 2 * math.pi * r * P.finite_n_eigenvalue_density(r, n, m), 0, np.inf,
                              limit=400, points=None)[0]
        assert mass == pytest.approx(1.0, abs=1e-9)
        z = np.array([0.3 + 0.4j, 0.5j, -0.5])  # rotation invariant
        assert np.allclose(P.finite_n_eigenvalue_density(z, n, m), P.finite_n_eigenvalue_density(0.5, n, m))


@pytest.mark.parametrize("n,m", [(2, 2), (3, 3), (5, 2)])
def test_eigenvalue_law_against_matrix_products(n, m):
    """Monte Carlo of actual products (numpy eig): the moments E|lambda|^2 and E|lambda|^4 (exact Fractions) within
    5 standard errors of independent replicas, and a 10% mistake in E|lambda|^2 rejected."""
    rng = np.random.default_rng(100 * n + m)
    reps, per = 50, 200
    g = (rng.standard_normal((reps * per, m, n, n)) + 1j * rng.standard_normal((reps * per, m, n, n))) / math.sqrt(2 * n)
    prod = g[:, 0]
    for j in range(1, m):
        prod = g[:, j] @ prod
    r2 = np.abs(np.linalg.eigvals(prod)) ** 2
    law = P.finite_n_eigenvalue_law(n, m)
    for k, moment in ((1, law.moment(2)), (2, law.moment(4))):
        per_rep = (r2**k).reshape(reps, -1).mean(axis=1)
        assert isinstance(moment, (int, Fraction))
        assert abs(stats.mean_check("m", per_rep, float(moment)).z) < 5
        if k == 1:  # (the fourth moment is too noisy at this size to see 10%)
            assert abs(stats.mean_check("control", per_rep, 1.1 * float(moment)).z) > 5
    # the law's own exact sampler agrees too (the same moments)
    draws = law.rvs((reps, per * n), rng=1) ** 2
    assert abs(stats.mean_check("rvs", draws.mean(axis=1), float(law.moment(2))).z) < 5


def test_eigenvalue_law_tends_to_the_radial_law():
    m, r = 2, 0.5
    errs = [abs(float(P.finite_n_eigenvalue_law(n, m).cdf(r)) - P.product_eigenvalue_radial_cdf(r, m))
            for n in (4, 16, 64)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.02


def test_eigenvalue_claim_catches_a_five_percent_scale_mistake():
    """The claim's check at its default size rejects a theory 5% off in scale (|lambda| -> 1.05 |lambda|)."""
    from degeneracy.numerics import products as nprod
    from degeneracy.proofs.registry import load_all
    from degeneracy.proofs.runner import run_claim

    load_all()
    run = run_claim("products.complex-finite-n-eigenvalues", "default", seed=0)
    threshold = next(c.threshold for c in run.checks if c.name == "|lambda|, n=3, depth=3")
    n, m, reps, per = 3, 3, 100, 200  # the default settings of products.complex-finite-n-eigenvalues
    lam = nprod.sample_product_eigenvalues(n, m, replicas=reps * per, field="complex", rng=7)
    samples = np.abs(lam).reshape(reps, -1)
    law = P.finite_n_eigenvalue_law(n, m)
    grid = law.ppf(np.linspace(0.05, 0.95, 10))
    good = stats.ecdf_check("right", samples, law.cdf, grid)
    bad = stats.ecdf_check("5% off", samples, lambda r: law.cdf(r / 1.05), grid)
    assert abs(good.z) < threshold < abs(bad.z)
