"""theory/products.py against independent routes (mpmath, sympy, Monte Carlo, other formulas)."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from degeneracy.errors import CertificationError, NumericalFailure  # noqa: F401  (part of the documented contract)
from degeneracy.theory import products as P
from degeneracy.theory.product_eigenvalues import _origin_bin_fraction_real as _obf_real
from degeneracy.theory.second_moment import _wick_coefficients as _wick


# ============================================================================ Fuss-Catalan
def _fc_series(depth, kmax):
    """Moments from the generating function B(z) = 1 + z B(z)^(L+1) (fixed point, integers)."""
    b = [1] + [0] * kmax
    for _ in range(kmax + 1):
        power = [1] + [0] * kmax
        for _ in range(depth + 1):
            power = [sum(power[i] * b[j - i] for i in range(j + 1)) for j in range(kmax + 1)]
        b = [1] + power[:kmax]
    return b


@pytest.mark.parametrize("depth", [1, 2, 3, 7])
def test_fuss_catalan_moment_matches_generating_function(depth):
    assert [P.fuss_catalan_moment(depth, k) for k in range(9)] == _fc_series(depth, 8)
    assert P.fuss_catalan_moment(depth, 2) - 1 == depth  # variance L
    assert P.fuss_catalan_moment(depth, 3) != _fc_series(depth + 1, 3)[3]  # negative control


@settings(max_examples=25)
@given(depth=st.integers(1, 300), k=st.integers(0, 8))
def test_law_moments_equal_fuss_catalan_moment(depth, k):
    law = P.fuss_catalan(depth)
    assert law.moment(k) == P.fuss_catalan_moment(depth, k)
    assert isinstance(law.moment(k), int)


@settings(max_examples=25)
@given(depth=st.integers(1, 300), q=st.floats(1e-3, 1 - 1e-3))
def test_cdf_ppf_round_trip_over_depths(depth, q):
    law = P.fuss_catalan(depth)
    t = law.log_law().ppf(q)  # the quantile of log x never underflows
    assert abs(law.log_law().cdf(t) - q) <= 1e-12
    if t < math.log(5e-324):  # the float quantile would underflow: refused, not 0.0
        with pytest.raises(NumericalFailure, match="log_law"):
            law.ppf(q)
        return
    x = law.ppf(q)
    assert x > 0 and abs(math.log(x) - t) <= 1e-13 * max(1.0, abs(t))
    if x >= np.finfo(float).tiny:  # subnormal x has lost bits
        assert abs(law.cdf(x) - q) <= 1e-12
        assert abs(law.ppf(law.cdf(x)) / x - 1) <= 1e-13 * (depth + 1) * 10


def _pz_meijer_pdf(depth, x):
    """Penson-Zyczkowski form: rho(x) = C/c G^{L,0}_{L,L}(x/c | a; b), from the Mellin transform of m_k
    (Gauss multiplication): b_j = j/(L+1) - 1, a_j = (j+1)/L - 1, c = (L+1)^(L+1)/L^L,
    C = prod Gamma((j+1)/L) / prod Gamma(j/(L+1))."""
    L = depth
    c = mp.mpf(L + 1) ** (L + 1) / mp.mpf(L) ** L
    a = [mp.mpf(j + 1) / L - 1 for j in range(1, L + 1)]
    b = [mp.mpf(j) / (L + 1) - 1 for j in range(1, L + 1)]
    C = mp.fprod(mp.gamma(mp.mpf(j + 1) / L) for j in range(1, L + 1)) / mp.fprod(
        mp.gamma(mp.mpf(j) / (L + 1)) for j in range(1, L + 1)
    )
    return C / c * mp.meijerg([[], a], [b, []], mp.mpf(x) / c)


@pytest.mark.parametrize("depth", [1, 2])
def test_pdf_matches_meijer_g_form(depth):
    law = P.fuss_catalan(depth)
    b = law.support()[1]
    with mp.workdps(30):
        # the Meijer-G normalisation is itself checked: it integrates to 1 with mean 1
        if depth == 2:
            mass = mp.quad(lambda x: _pz_meijer_pdf(2, x), [0, 1, b])
            mean = mp.quad(lambda x: x * _pz_meijer_pdf(2, x), [0, 1, b])
            assert abs(mass - 1) < 1e-10 and abs(mean - 1) < 1e-10  # mp.quad at the x^(-2/3) end
        for frac in (1e-6, 0.01, 0.1, 0.37, 0.6, 0.9):  # (near x_max the G series converges slowly)
            x = b * frac
            ref = float(_pz_meijer_pdf(depth, x))
            # 1e-11: mpmath's hypergeometric evaluation of G at 30 digits is the weaker side here;
            # the 1e-12 claim is proved against the parametric reference below
            assert abs(law.pdf(x) / ref - 1) < 1e-11, (depth, frac)
    # negative control: the depth-1 law is not the depth-2 Meijer-G density
    assert abs(P.fuss_catalan(1).pdf(0.5) / float(_pz_meijer_pdf(2, 0.5)) - 1) > 1e-2


def _reference(depth, x, dps=50):
    """(pdf, cdf, sf) at x by an independent high-precision route: bisection for the
    parameter w = pi - (L+1)u (no cancellation near x = 0), density from the parametric form,
    and the CDF by mpmath quadrature of rho(x(u)) |x'(u)| (not the closed form)."""
    L = depth
    with mp.workdps(dps):
        x = mp.mpf(x)

        def u_of(w):
            return (mp.pi - w) / (L + 1)

        def logx(w):
            u = u_of(w)
            return (L + 1) * mp.log(mp.sin(w)) - mp.log(mp.sin(u)) - L * mp.log(mp.sin((mp.pi + L * w) / (L + 1)))

        lo, hi = mp.mpf(-800), mp.log(mp.pi)  # bisection in log w
        t = mp.log(x)
        for _ in range(200):
            mid = (lo + hi) / 2
            if logx(mp.exp(mid)) < t:
                lo = mid
            else:
                hi = mid
        w = mp.exp((lo + hi) / 2)
        u = u_of(w)
        sl = mp.sin((mp.pi + L * w) / (L + 1))  # sin(L u), sin((L+1)u) = sin(w): no cancellation
        rho = mp.sin(u) ** 2 * sl ** (L - 1) / mp.sin(w) ** L / mp.pi

        def dens_w(ww):  # rho |dx/dw| in the variable w
            uu = u_of(ww)
            a2 = (mp.pi + L * ww) / (L + 1)
            xx = mp.exp(logx(ww))
            r = mp.sin(uu) ** 2 * mp.sin(a2) ** (L - 1) / mp.sin(ww) ** L / mp.pi
            dlog = ((L + 1) ** 2 * mp.cot(ww) + mp.cot(uu) - L**2 * mp.cot(a2)) / (L + 1)
            return r * xx * dlog

        def dens_u(uu):  # rho(x(u)) |dx/du|
            xx = mp.sin((L + 1) * uu) ** (L + 1) / (mp.sin(uu) * mp.sin(L * uu) ** L)
            r = mp.sin(uu) ** 2 * mp.sin(L * uu) ** (L - 1) / mp.sin((L + 1) * uu) ** L / mp.pi
            dlog = (L + 1) ** 2 * mp.cot((L + 1) * uu) - mp.cot(uu) - L**2 * mp.cot(L * uu)
            return -r * xx * dlog

        sf = mp.quad(dens_u, [0, u])
        cdf = mp.quad(dens_w, [0, w])
        return float(rho), float(cdf), float(sf)


@pytest.mark.parametrize("depth", [1, 2, 10, 50, 200])
def test_pdf_cdf_sf_against_high_precision(depth):
    law = P.fuss_catalan(depth)
    b = law.support()[1]
    xs = [b * f for f in (1e-9, 1e-3, 0.05, 0.2, 0.5, 0.8, 0.99)] + [1e-100]
    for x in xs:
        pdf, cdf, sf = _reference(depth, x, dps=30)
        assert abs(law.pdf(x) / pdf - 1) < 1e-12, ("pdf", depth, x)
        assert abs(law.cdf(x) / cdf - 1) < 1e-12, ("cdf", depth, x)
        assert abs(law.sf(x) / sf - 1) < 1e-12, ("sf", depth, x)


def test_marchenko_pastur_at_depth_one():
    law = P.fuss_catalan(1)
    x = np.linspace(1e-6, 4 - 1e-6, 1001)
    mp_pdf = np.sqrt(4 - x) / (2 * np.pi * np.sqrt(x))
    theta = np.arccos(np.sqrt(x) / 2)  # x = 4 cos^2 u -> F = (pi - 2u + sin 2u)/pi
    mp_cdf = (np.pi - 2 * theta + np.sin(2 * theta)) / np.pi
    assert np.max(np.abs(law.pdf(x) / mp_pdf - 1)) < 1e-13
    assert np.max(np.abs(law.cdf(x) - mp_cdf)) < 1e-14
    assert law.support() == (0.0, 4.0)
    # negative control: a wrong edge (ratio-1 MP with support [0, 2]) is rejected
    assert np.max(np.abs(law.pdf(x) - np.sqrt(np.maximum(2 - x, 0)) / (np.pi * np.sqrt(x)))) > 0.1


@pytest.mark.parametrize("depth", [1, 2, 5, 10, 100, 200, 1000])
def test_finite_everywhere_and_end_conventions(depth):
    law = P.fuss_catalan(depth)
    a, b = law.support()
    assert b == float(Fraction((depth + 1) ** (depth + 1), depth**depth))
    x = np.concatenate([[a, 5e-324, 1e-300, 1e-20], np.linspace(a, b, 2001)[1:-1], [np.nextafter(b, 0), b]])
    pdf, cdf, sf = law.pdf(x), law.cdf(x), law.sf(x)
    assert not np.isnan(pdf).any() and not np.isnan(cdf).any() and not np.isnan(sf).any()
    assert pdf[0] == np.inf and pdf[-1] == 0.0 and cdf[0] == 0.0 and cdf[-1] == 1.0
    normal = x >= 1e-300
    assert np.isfinite(pdf[normal][:-1]).all() and (pdf[normal][:-1] > 0).all()
    if depth <= 50:
        assert np.isfinite(pdf[1:-1]).all()  # even at the smallest subnormal
    assert np.all(np.diff(cdf) >= 0)
    q = np.linspace(0, 1, 101)
    assert law.ppf(1.0) == b and law.ppf(0.0) == 0.0
    tq = law.log_law().ppf(q)
    assert np.all(np.diff(tq) > 0) and np.isfinite(tq[1:-1]).all() and tq[0] == -np.inf
    if tq[1] < math.log(5e-324):  # deep laws: some float quantiles underflow and are refused
        assert depth >= 200
        with pytest.raises(NumericalFailure):
            law.ppf(q)
    else:
        assert (law.ppf(q[1:]) > 0).all()


def test_left_edge_power_law():
    for depth in (1, 3, 20):
        law = P.fuss_catalan(depth)
        x = 1e-200
        assert abs(law.pdf(x) / (law.left_edge_coefficient() * x ** (-depth / (depth + 1))) - 1) < 1e-10


def test_isf_accurate_in_the_upper_tail():
    law = P.fuss_catalan(3)
    for q in (1e-7, 1e-3, 0.3, 0.9):  # rounding x to a double limits tinier q (conditioning)
        x = law.isf(q)
        assert abs(law.sf(x) / q - 1) < 1e-9


@pytest.mark.parametrize("depth", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
def test_cdf_certificate(depth):
    holds, detail = P.fuss_catalan_cdf_certificate(depth)
    assert holds, detail


def test_rvs_reproducible_and_in_support():
    law = P.fuss_catalan(5)
    s = law.rvs((3, 4), rng=7)
    assert s.shape == (3, 4) and np.array_equal(s, law.rvs((3, 4), rng=7))
    assert np.all((s >= 0) & (s <= law.support()[1]))
    assert isinstance(law.rvs(rng=1), float)


# ============================================================================ Lyapunov
def _e_log_chi2(k):
    f = lambda t: math.log(t) * math.exp((k / 2 - 1) * math.log(t) - t / 2 - (k / 2) * math.log(2) - math.lgamma(k / 2))
    return integrate.quad(f, 0, np.inf, limit=200)[0]


def _e_log_gamma(k):
    f = lambda t: math.log(t) * math.exp((k - 1) * math.log(t) - t - math.lgamma(k))
    return integrate.quad(f, 0, np.inf, limit=200)[0]


def test_lyapunov_exponents_by_quadrature():
    n = 4
    real = P.lyapunov_exponents(n)
    cplx = P.lyapunov_exponents(n, field="complex")
    for i in range(n):
        k = n - i
        assert abs(real[i] - 0.5 * (_e_log_chi2(k) - math.log(n))) < 1e-9
        assert abs(cplx[i] - 0.5 * (_e_log_gamma(k) - math.log(n))) < 1e-9
    assert np.all(np.diff(real) < 0) and np.all(np.diff(cplx) < 0)


def test_lyapunov_variances_by_quadrature():
    n = 3
    v = P.lyapunov_variances(n)
    vc = P.lyapunov_variances(n, field="complex")
    for i in range(n):
        k = n - i
        m = _e_log_chi2(k)
        f = lambda t: (math.log(t) - m) ** 2 * math.exp((k / 2 - 1) * math.log(t) - t / 2 - (k / 2) * math.log(2) - math.lgamma(k / 2))
        assert abs(v[i] - integrate.quad(f, 0, np.inf, limit=200)[0] / 4) < 1e-8
        mg = _e_log_gamma(k)
        g = lambda t: (math.log(t) - mg) ** 2 * math.exp((k - 1) * math.log(t) - t - math.lgamma(k))
        assert abs(vc[i] - integrate.quad(g, 0, np.inf, limit=200)[0] / 4) < 1e-8


@pytest.mark.parametrize("field", ["real", "complex"])
def test_sum_of_exponents_is_expected_log_det(field):
    """sum_i mu_i = E log|det W| (Monte Carlo over independent matrices, stderr-derived bound)."""
    n, reps = 4, 20000
    rng = np.random.default_rng(2024)
    if field == "real":
        w = rng.standard_normal((reps, n, n)) / math.sqrt(n)
    else:
        w = (rng.standard_normal((reps, n, n)) + 1j * rng.standard_normal((reps, n, n))) / math.sqrt(2 * n)
    logdet = np.linalg.slogdet(w)[1]
    est, se = logdet.mean(), logdet.std(ddof=1) / math.sqrt(reps)
    theory = float(np.sum(P.lyapunov_exponents(n, field=field)))
    assert abs(est - theory) < 5 * se
    # negative control: the off-by-one psi((n - i)/2) shift is detected
    wrong = sum(0.5 * (math.log(2 / n) + special.digamma((n - i + 2) / 2)) for i in range(1, n + 1))
    if field == "real":
        assert abs(est - wrong) > 5 * se


def test_lyapunov_qr_simulation_small():
    """Finite-depth exponents of a long real product (QR) agree with Newman's formula."""
    n, depth, reps = 3, 400, 40
    rng = np.random.default_rng(5)
    w = rng.standard_normal((depth, reps, n, n)) / math.sqrt(n)
    q = np.broadcast_to(np.eye(n), (reps, n, n)).copy()
    acc = np.zeros((reps, n))
    for layer in range(depth):
        q, r = np.linalg.qr(w[layer] @ q)
        acc += np.log(np.abs(np.diagonal(r, axis1=1, axis2=2)))
    est = acc / depth
    mu = P.lyapunov_exponents(n)
    var = P.lyapunov_variances(n)
    se = np.sqrt(var / depth / reps)
    assert np.all(np.abs(est.mean(0) - mu) < 5 * se)
    # the per-replica spread matches depth * Var (ratio of variances within a chi2 band)
    ratio = est.var(0, ddof=1) * depth / var
    assert np.all((ratio > 0.4) & (ratio < 1.9))


def test_log_condition_rate_and_naive_lost_count():
    n = 32
    mu = P.lyapunov_exponents(n)
    assert P.log_condition_rate(n) == pytest.approx(mu[0] - mu[-1], rel=1e-15)
    for depth in (1, 10, 100, 1000):
        expected = sum(1 for i in range(n) if depth * (mu[0] - mu[i]) > 52 * math.log(2))
        assert P.naive_lost_count(n, depth) == expected
    assert P.naive_lost_count(n, 1) == 0 and P.naive_lost_count(n, 10**5) == n - 1
    assert P.naive_lost_count(n, 100, eps=1e-300) < P.naive_lost_count(n, 100)


def test_participation_ratio_limit():
    for depth in (1, 2, 10):
        law = P.fuss_catalan(depth)
        assert P.participation_ratio_limit(depth) == Fraction(law.moment(1) ** 2, law.moment(2)) == Fraction(1, depth + 1)


# ============================================================================ second moment
def _wick_by_sympy(n, field):
    """Exact E tr(BABA) and E (tr BA)^2 for B = W^* W, symbolic symmetric/Hermitian-real A,
    by expanding the polynomial and replacing Gaussian monomials by their moments."""
    s = sp.Rational(1, n)
    A = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"a{min(i, j)}{max(i, j)}"))
    if field == "real":
        xs = sp.symbols(f"x0:{n * n}", real=True)
        W = sp.Matrix(n, n, xs)
        B = W.T * W
        var = {x: s for x in xs}
    else:
        xs = sp.symbols(f"x0:{n * n}", real=True)
        ys = sp.symbols(f"y0:{n * n}", real=True)
        W = sp.Matrix(n, n, [xs[i] + sp.I * ys[i] for i in range(n * n)])
        B = W.H * W
        var = {v: s / 2 for v in xs + ys}

    def expect(expr):
        poly = sp.Poly(sp.expand(expr), *var.keys())
        total = 0
        for monom, coeff in poly.terms():
            term = coeff
            for v, p in zip(var.keys(), monom):
                if p % 2:
                    term = 0
                    break
                term *= sp.factorial2(p - 1) * var[v] ** (p // 2)
            total += term
        return sp.expand(total)

    BA = B * A
    return expect((BA * BA).trace()), expect(BA.trace() ** 2), A


@pytest.mark.parametrize("field", ["real", "complex"])
def test_wick_coefficients_exact_for_n2(field):
    n = 2
    e1, e2, A = _wick_by_sympy(n, field)
    trA2, trA_2 = sp.expand((A * A).trace()), sp.expand(A.trace() ** 2)
    (a, b), (c, d) = _wick(n, field)
    assert sp.expand(e1 - (sp.Rational(a.numerator, a.denominator) * trA2 + sp.Rational(b.numerator, b.denominator) * trA_2)) == 0
    assert sp.expand(e2 - (sp.Rational(c.numerator, c.denominator) * trA2 + sp.Rational(d.numerator, d.denominator) * trA_2)) == 0


@pytest.mark.parametrize("field", ["real", "complex"])
def test_second_moment_monte_carlo(field):
    n, depth, reps = 3, 3, 40000
    rng = np.random.default_rng(11 if field == "real" else 12)
    shape = (depth, reps, n, n)
    if field == "real":
        w = rng.standard_normal(shape) / math.sqrt(n)
    else:
        w = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2 * n)
    p = w[0]
    for layer in range(1, depth):
        p = w[layer] @ p
    m = np.conj(np.swapaxes(p, -1, -2)) @ p
    vals = np.real(np.einsum("rij,rji->r", m, m)) / n
    est, se = vals.mean(), vals.std(ddof=1) / math.sqrt(reps)
    exact = float(P.second_moment(n, depth, field=field))
    assert abs(est - exact) < 5 * se
    # negative control: the other field's formula (or the n -> inf limit L + 1) is rejected
    other = float(P.second_moment(n, depth, field="complex" if field == "real" else "real"))
    assert abs(est - other) > 5 * se and abs(est - (depth + 1)) > 5 * se


@pytest.mark.parametrize("field", ["real", "complex"])
def test_second_moment_closed_form_recursion_and_limit(field):
    M, v0, nsym = P.second_moment_recursion(field)
    for n in (1, 2, 5):
        for depth in (1, 2, 7):
            exact = P.second_moment(n, depth, field=field)
            assert exact == P.second_moment_closed_form(n, depth, field=field)
            assert sp.Rational(exact.numerator, exact.denominator) == sp.simplify(((M**depth) * v0)[0] / nsym).subs(nsym, n)
    for depth in (1, 4, 9):
        big = P.second_moment(10**6, depth, field=field)
        assert abs(float(big) - (depth + 1)) < 1e-4 * depth**2
    # n = 1: scalar Gaussians, E g^4 = 3 (real), E|z|^4 = 2 (complex) per factor
    assert P.second_moment(1, 4, field=field) == (3**4 if field == "real" else 2**4)


def test_second_moment_symbolic_solution_by_rsolve():
    """The closed form solves the recursion (sympy rsolve on the eliminated 2nd-order recurrence)."""
    for field in ("real", "complex"):
        M, v0, n = P.second_moment_recursion(field)
        L = sp.symbols("L", integer=True, nonnegative=True)
        t = sp.Function("t")
        # Cayley-Hamilton: t_{L+2} = tr(M) t_{L+1} - det(M) t_L for t_L = (M^L v0)[0]
        sol = sp.rsolve(t(L + 2) - M.trace() * t(L + 1) + M.det() * t(L), t(L), {t(0): v0[0], t(1): (M * v0)[0]})
        for nv in (2, 3):
            for depth in (1, 3):
                val = sp.nsimplify(sp.simplify(sol.subs({n: nv, L: depth}) / nv))
                exact = P.second_moment(nv, depth, field=field)
                assert val == sp.Rational(exact.numerator, exact.denominator)


# ============================================================================ finite-n density
def test_finite_n_density_depth_one_is_laguerre():
    for n in (1, 3, 6):
        x = np.array([0.0, 0.05, 0.4, 1.0, 2.5, 4.0])
        y = n * x
        lag = sum(special.eval_laguerre(k, y) ** 2 for k in range(n)) * np.exp(-y)  # (1/n) K(y,y) * n
        assert np.allclose(P.finite_n_density(x, n, 1), lag, rtol=1e-12, atol=0)


def _gram_density(x, n, depth):
    """Independent route: kernel sum_{i,j} y^i (G^-1)_{ji} w_j(y), G_ij = (i!)^(M-1) (i+j)!,
    weights w_j = G^{M,0}_{0,M}(-; 0,...,0, j | y)."""
    G = sp.Matrix(n, n, lambda i, j: sp.factorial(i) ** (depth - 1) * sp.factorial(i + j))
    Ginv = G.inv()
    with mp.workdps(40):
        y = mp.mpf(x) * n**depth
        total = mp.mpf(0)
        for j in range(n):
            wj = mp.meijerg([[], []], [[0] * (depth - 1) + [j], []], y)
            total += sum(y**i * mp.mpf(sp.Rational(Ginv[j, i]).p) / sp.Rational(Ginv[j, i]).q for i in range(n)) * wj
        return float(total * n**depth / n)


@pytest.mark.parametrize("n,depth", [(2, 2), (4, 3), (3, 4)])
def test_finite_n_density_matches_gram_route(n, depth):
    xs = np.array([0.02, 0.3, 1.1, 3.0])
    got = P.finite_n_density(xs, n, depth)
    ref = np.array([_gram_density(x, n, depth) for x in xs])
    assert np.allclose(got, ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("n,depth", [(2, 2), pytest.param(3, 3, marks=pytest.mark.slow)])
def test_finite_n_density_moments(n, depth):
    """int f = 1, int x f = 1, int x^2 f = second_moment(complex), by Gauss-Legendre in log x."""
    t, w = np.polynomial.legendre.leggauss(100)
    lo, hi = -40.0, math.log(400.0)
    s = 0.5 * (hi - lo) * t + 0.5 * (hi + lo)
    x = np.exp(s)
    f = P.finite_n_density(x, n, depth)
    wt = 0.5 * (hi - lo) * w * x * f
    m0, m1, m2 = wt.sum(), (wt * x).sum(), (wt * x * x).sum()
    exact = float(P.second_moment(n, depth, field="complex"))
    assert abs(m0 - 1) < 1e-8 and abs(m1 - 1) < 1e-8 and abs(m2 - exact) < 1e-7 * exact
    assert abs(m2 - float(P.second_moment(n, depth, field="real"))) > 1e-3  # negative control


def test_finite_n_density_edges():
    assert P.finite_n_density(0.0, 2, 2) == math.inf
    assert P.finite_n_density(-1.0, 2, 2) == 0.0
    assert P.finite_n_density(0.0, 4, 1) == 4.0


# ============================================================================ eigenvalues
def test_radial_cdf():
    r = np.array([-1.0, 0.0, 0.1, 0.5, 1.0, 3.0])
    assert np.allclose(P.product_eigenvalue_radial_cdf(r, 3), [0, 0, 0.1 ** (2 / 3), 0.5 ** (2 / 3), 1, 1])
    # derivative of the cdf integrates the planar density 2 pi r * (1/(k pi)) r^(2/k - 2)
    k = 4
    val = integrate.quad(lambda rr: 2 * math.pi * rr * rr ** (2 / k - 2) / (k * math.pi), 0, 0.3)[0]
    assert abs(val - P.product_eigenvalue_radial_cdf(0.3, k)) < 1e-10


@pytest.mark.parametrize("k,h", [(1, 0.05), (2, 0.05), (5, 0.05), (100, 0.05), (3, 0.85)])
def test_origin_bin_fraction_monte_carlo(k, h):
    """Sample the law exactly (|z| = U^(k/2), uniform angle) and count the square."""
    rng = np.random.default_rng(k)
    m = 400_000
    r = rng.random(m) ** (k / 2)
    th = rng.random(m) * 2 * math.pi
    inside = (np.abs(r * np.cos(th)) <= h) & (np.abs(r * np.sin(th)) <= h)
    est = inside.mean()
    f = P.origin_bin_fraction(k, h)
    se = math.sqrt(max(f * (1 - f), 1e-6) / m)
    assert abs(est - f) < 5 * se
    assert P.origin_bin_fraction(k, 1.5) == 1.0


def test_origin_bin_saxe_numbers():
    assert P.origin_bin_fraction(1) == pytest.approx(4 * 0.05**2 / math.pi, rel=1e-12)
    assert P.origin_bin_fraction(5) == pytest.approx(0.3155, abs=1e-4)
    assert P.origin_bin_fraction(100) == pytest.approx(0.9439, abs=1e-4)
    k32, k94 = P.origin_bin_depth(0.32), P.origin_bin_depth(0.94)
    assert 5 < k32 < 5.2 and 90 < k94 < 96
    assert _obf_real(k32, 0.05) == pytest.approx(0.32, abs=1e-12)
    assert abs(P.origin_bin_fraction(10) - 0.32) > 0.2  # 10 factors do not give 32%


# ============================================================================ bad input
@pytest.mark.parametrize(
    "call,exc,name",
    [
        (lambda: P.fuss_catalan(0), ValueError, "depth"),
        (lambda: P.fuss_catalan(2.5), TypeError, "depth"),
        (lambda: P.fuss_catalan("3"), TypeError, "depth"),
        (lambda: P.fuss_catalan_moment(2, -1), ValueError, "k"),
        (lambda: P.lyapunov_exponents(0), ValueError, "n"),
        (lambda: P.lyapunov_exponents(3, field="quaternion"), ValueError, "field"),
        (lambda: P.lyapunov_variances(1.5), TypeError, "n"),
        (lambda: P.second_moment(0, 2), ValueError, "n"),
        (lambda: P.second_moment(2, 0), ValueError, "depth"),
        (lambda: P.second_moment(2, 2, field="Real"), ValueError, "field"),
        (lambda: P.finite_n_density([0.5, np.nan], 2, 2), ValueError, "x"),
        (lambda: P.finite_n_density(0.5, 0, 2), ValueError, "n"),
        (lambda: P.naive_lost_count(4, 2, eps=0.0), ValueError, "eps"),
        (lambda: P.origin_bin_fraction(0), ValueError, "k"),
        (lambda: P.origin_bin_fraction(2, half_width=-0.1), ValueError, "half_width"),
        (lambda: P.product_eigenvalue_radial_cdf(np.inf, 2), ValueError, "r"),
        (lambda: P.fuss_catalan(2).pdf([1.0, np.nan]), ValueError, "x"),
        (lambda: P.fuss_catalan(2).cdf(np.nan), ValueError, "x"),
        (lambda: P.fuss_catalan(2).ppf(1.5), ValueError, "q"),
        (lambda: P.fuss_catalan(2).moment(-1), ValueError, "k"),
        (lambda: P.fuss_catalan(2).rvs(3, rng=-1), ValueError, "rng"),
        (lambda: P.fuss_catalan(2).rvs(3, rng=0, random_state=0), ValueError, "random_state"),
        (lambda: P.fuss_catalan(2).stats("mx"), ValueError, "moments"),
        (lambda: P.fuss_catalan(2).expect("x"), TypeError, "func"),
        (lambda: P.fuss_catalan_moment(10**6, 10**6), ValueError, "fuss_catalan_log_moment"),
        (lambda: P.fuss_catalan_log_moment(0, 2), ValueError, "depth"),
        (lambda: P.marchenko_pastur(0), ValueError, "ratio"),
        (lambda: P.marchenko_pastur(1, scale=-1.0), ValueError, "scale"),
        (lambda: P.marchenko_pastur(True), TypeError, "ratio"),
        (lambda: P.marchenko_pastur(4).entropy(), NumericalFailure, "no differential entropy"),
        (lambda: P.marchenko_pastur(2).log_law().mean(), NumericalFailure, "-inf"),
        (lambda: P.fuss_catalan(2).log_law().log_law(), ValueError, "log_law"),
        (lambda: P.fuss_catalan(1000).ppf(0.1), NumericalFailure, "log_law"),
        (lambda: P.fuss_catalan(1000).rvs(5, rng=0), NumericalFailure, "log_law"),
        (lambda: P.ginibre_product_weight(-1.0, 2), ValueError, "y"),
        (lambda: P.finite_n_eigenvalue_law(0, 2), ValueError, "n"),
        (lambda: P.finite_n_eigenvalue_law(2, 1.5), TypeError, "depth"),
        (lambda: P.finite_n_eigenvalue_density(np.nan, 2, 2), ValueError, "z"),
    ],
)
def test_bad_input(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
