"""The failing inputs of issue 11, each checked against a route independent of the density solver:
closed forms (two free projections, the law of phi'(h)^2 at depth 1, the critical point of a
rational S-transform), mpmath quadrature, and matrix-model Monte Carlo with its standard error."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, CertificationError, NumericalFailure
from degeneracy.numerics import stats
from degeneracy.numerics.isometry import simulate_network, squared_singular_values
from degeneracy.theory import free_law
from degeneracy.theory import isometry as th
from degeneracy.theory.free_series import numeric_moments
from degeneracy.theory.s_transform import STransform


def projections_density(y, p):
    """Continuous part of the law of P Q P, P, Q free projections of trace p (closed form)."""
    c = 4 * p * (1 - p)
    return np.sqrt((c - y) * y) / (2 * np.pi * y * (1 - y))


@pytest.mark.parametrize("p", [0.99, 0.995, 0.999])
def test_two_free_projections_closed_form(p):
    law = (STransform.bernoulli(p) ** 2).law()
    c = 4 * p * (1 - p)
    assert [x for x, _ in law.atoms] == [0.0, 1.0]
    assert [m for _, m in law.atoms] == [pytest.approx(1 - p, rel=1e-12), pytest.approx(2 * p - 1, rel=1e-12)]
    assert law.intervals == [(0.0, pytest.approx(c, rel=1e-12))]
    y = c * np.array([0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
    assert np.allclose(law.pdf(y), projections_density(y, p), rtol=1e-8)
    mp.mp.dps = 30
    for frac in (0.2, 0.5, 0.8):
        yy = c * frac
        ref = (1 - p) + float(mp.quad(lambda t: mp.sqrt((c - t) * t) / (2 * mp.pi * t * (1 - t)), [0, yy]))
        assert float(law.cdf(yy)) == pytest.approx(ref, abs=1e-11)
    mp.mp.dps = 15
    assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-12)
    assert law.quadrature_moment(1) == pytest.approx(p * p, rel=1e-10)  # E[PQP] = tr P tr Q


@pytest.mark.parametrize("q,L", [(0.05, 2), (0.05, 8), (0.1, 4), (0.1, 6), (1 / 64, 32), (1 / 64, 128)])
def test_hard_tanh_isometry_near_atomic(q, L):
    sw2, sb2 = th.critical_point("hard_tanh", q)
    law = th.jacobian_spectrum("hard_tanh", L, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    comp = math.erfc(1 / math.sqrt(2 * q))  # 1 - p, exactly
    (x0, a0), (xa, aa) = law.atoms
    assert x0 == 0.0 and a0 == pytest.approx(comp, rel=1e-12)
    assert xa == pytest.approx(sw2**L, rel=1e-12) and aa == pytest.approx(1 - L * comp, rel=1e-12)
    assert law.continuous_mass == pytest.approx((L - 1) * comp, rel=1e-9)
    assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-13)
    assert law.quadrature_moment(1) == pytest.approx(law.moment(1), rel=1e-12)
    if L == 2:
        # S = (S_Bern(p) / sw2)^2: the law of sw2^2 P Q P (two free projections), closed form
        y = np.array([0.2, 0.5, 0.8]) * 4 * (1 - comp) * comp
        assert np.allclose(law.pdf(sw2**2 * y) * sw2**2, projections_density(y, 1 - comp), rtol=1e-7)


def test_tanh_orthogonal_depth2_small_q_is_certified_and_stable():
    sw2, sb2 = th.critical_point("tanh", 1 / 64)
    law = th.jacobian_spectrum("tanh", 2, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    first, second = float(law.cdf(1.0)), float(law.cdf(1.0))
    assert first == second
    assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-9)
    assert law.quadrature_moment(2) == pytest.approx(law.moment(2), rel=1e-9)
    lo, hi = law.intervals[0]
    assert lo == 0.0  # phi'(h)^2 reaches 0 in the tails: no spurious lower edge
    x = np.linspace(0.3, hi, 200)[1:-1]
    assert np.all(law.pdf(x) > 0)  # no spurious gaps where the matrix model has mass


def test_tanh_orthogonal_depth2_against_matrix_model():
    """Replica-averaged ECDF of wide orthogonal tanh networks, extrapolated in 1/N, against the law."""
    q = 0.05
    sw2, sb2 = th.critical_point("tanh", q)
    law = th.jacobian_spectrum("tanh", 2, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    grid = law.ppf(np.array([0.05, 0.2, 0.4, 0.6, 0.8, 0.95]))
    qin = th.length_variance("tanh", q)
    data = {}
    for n in (96, 192, 384):
        run = simulate_network("tanh", width=n, depth=2, replicas=12, sigma_w2=sw2, sigma_b2=sb2, weights="orthogonal",
                               q_input=qin, rng=np.random.SeedSequence([11, n]))
        data[n] = squared_singular_values(run.jacobian)
    check = stats.ecdf_extrapolation_check("tanh/orthogonal L=2", data, law.cdf, grid, powers=(1,)).finalize(1e-3)
    assert check.passed, (check.z, check.threshold)
    # negative control: the depth-3 law is another law
    wrong = th.jacobian_spectrum("tanh", 3, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    bad = stats.ecdf_extrapolation_check("control", data, wrong.cdf, grid, powers=(1,)).finalize(1e-3)
    assert not bad.passed


def pushforward_pdf(activation, x, sw2, q):
    """Density of sw2 * phi'(h)^2, h ~ N(0, q), for even, decreasing-in-|h| phi'^2 (closed form)."""
    t = x / sw2
    if activation == "tanh":  # t = sech^4 h
        h = np.arccosh(t**-0.25)
        dt = 4 * np.tanh(h) * t
    elif activation == "erf":  # t = (4/pi) e^{-2 h^2}
        h = np.sqrt(-0.5 * np.log(t * math.pi / 4))
        dt = 4 * h * t
    else:  # sigmoid: t = (s (1 - s))^2 = 1 / (16 cosh^4(h/2))
        h = 2 * np.arccosh((16 * t) ** -0.25)
        dt = 2 * np.tanh(h / 2) * t
    return 2 * np.exp(-h * h / (2 * q)) / math.sqrt(2 * math.pi * q) / dt / sw2


@pytest.mark.parametrize("activation", ["tanh", "erf", "sigmoid"])
def test_depth_one_orthogonal_is_the_law_of_phi_prime_squared(activation):
    sw2, sb2 = 1.5, 0.1
    q = th.q_star(activation, sw2, sb2)
    law = th.jacobian_spectrum(activation, 1, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    top = law.support()[1]
    tmax = {"tanh": 1.0, "erf": 4 / math.pi, "sigmoid": 1 / 16}[activation]
    assert top == pytest.approx(sw2 * tmax, rel=1e-12)
    x = top * np.array([0.05, 0.3, 0.6, 0.9, 0.999])
    assert np.allclose(law.pdf(x), pushforward_pdf(activation, x, sw2, q), rtol=1e-8)
    # CDF: P(sw2 t <= x) = P(|h| >= h(x)) = erfc(h(x) / sqrt(2q)) (closed form)
    xm = 0.5 * top
    hm = {"tanh": lambda t: math.acosh(t**-0.25), "erf": lambda t: math.sqrt(-0.5 * math.log(t * math.pi / 4)),
          "sigmoid": lambda t: 2 * math.acosh((16 * t) ** -0.25)}[activation](xm / sw2)
    assert float(law.cdf(xm)) == pytest.approx(math.erfc(hm / math.sqrt(2 * q)), abs=1e-10)


def test_depth_one_gaussian_against_moments():
    sw2, sb2 = th.critical_point("tanh", 0.25)
    law = th.jacobian_spectrum("tanh", 1, weights="gaussian", sigma_w2=sw2, sigma_b2=sb2)
    for k in (1, 2, 3):
        mk = law.moment(k)
        assert law.quadrature_moment(k) == pytest.approx(mk, rel=1e-9)
    # independent route for m_2: free product of Marchenko-Pastur and D^2: m2 = sw2^2 (mu_2 + mu_1^2)
    m1, m2 = th.mu("tanh", 0.25, 1), th.mu("tanh", 0.25, 2)
    assert law.moment(2) == pytest.approx(sw2**2 * (m2 + m1**2), rel=1e-10)


@pytest.mark.parametrize("activation", ["tanh", "erf"])
@pytest.mark.parametrize("q", [0.05, 0.25])
def test_no_interior_zeros_and_edges_independent_of_discretization(activation, q):
    sw2, sb2 = th.critical_point(activation, q)
    law = th.jacobian_spectrum(activation, 2, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    lo, hi = law.intervals[0]
    assert lo == 0.0 and len(law.intervals) == 1
    x = np.exp(np.linspace(math.log(hi) - 6, math.log(hi), 120))[:-1]
    assert np.all(law.pdf(x) > 0)


def test_relu_depth_3000_edge_closed_form():
    """S = (sw2 (p + z))^{-L}: the edge is y(m*) with L m^2 + (L - 1) m - p = 0 (derived by hand)."""
    L, p = 3000, 0.5
    law = th.jacobian_spectrum("relu", L, weights="gaussian", sigma_w2=2.0, sigma_b2=0.0)
    m = (-(L - 1) + math.sqrt((L - 1) ** 2 + 4 * L * p)) / (2 * L)
    log_edge = math.log1p(m) - math.log(m) + L * math.log(2 * (p + m))
    assert math.log(law.support()[1]) == pytest.approx(log_edge, rel=1e-10)
    assert law.atom == pytest.approx(0.5)


def test_large_depth_in_log_space():
    lm, lv = th.jacobian_moments("relu", 2000, weights="gaussian", sigma_w2=3.0, sigma_b2=0.0, log=True)
    assert lm == pytest.approx(2000 * math.log(1.5), rel=1e-14)
    assert lv == pytest.approx(2 * lm + math.log(2 * 2000), rel=1e-14)
    with pytest.raises(NumericalFailure, match="log=True"):
        th.jacobian_moments("relu", 2000, weights="gaussian", sigma_w2=3.0, sigma_b2=0.0)
    log_edge = th.max_eigenvalue("relu", 2000, weights="gaussian", sigma_w2=3.0, sigma_b2=0.0, log=True)
    norm = th.jacobian_spectrum("relu", 2000, weights="gaussian", sigma_w2=3.0, sigma_b2=0.0, normalized=True)
    assert log_edge == pytest.approx(math.log(norm.support()[1]) + 2000 * math.log(1.5), rel=1e-12)
    assert norm.mean() == pytest.approx(1.0, rel=1e-12)
    deep = th.jacobian_spectrum("relu", 10_000, weights="orthogonal", sigma_w2=2.0, sigma_b2=0.0)
    s = math.log(deep.support()[1]) - np.array([1.0, 10.0, 100.0])
    dens = deep.logpdf_logx(s)
    assert np.all(np.isfinite(dens)) and np.all(dens > 0)
    assert numeric_moments(th.jacobian_s_transform("relu", 10_000, weights="orthogonal", sigma_w2=2.0,
                                                   sigma_b2=0.0), 2)[1] == pytest.approx(1 + 10_000, rel=1e-10)


def test_certified_or_refused_on_every_call(monkeypatch):
    sw2, sb2 = th.critical_point("tanh", 0.25)
    law = th.jacobian_spectrum("tanh", 2, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    real = free_law.continue_to_real_axis

    def corrupted(eq, logx, theta_min=1e-13):
        u, m, theta, stuck = real(eq, logx, theta_min)
        return u * (1 + 1e-6), m, theta, stuck  # a root that does not solve the equation

    monkeypatch.setattr(free_law, "continue_to_real_axis", corrupted)
    for _ in range(2):  # no uncertified state is cached by the first refusal
        with pytest.raises(CertificationError, match="residual"):
            law.cdf(1.0)
        assert law._table is None
    monkeypatch.setattr(free_law, "continue_to_real_axis", real)
    assert 0 < float(law.cdf(1.0)) < 1


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(depth=0), ArgumentValueError, "depth must be a positive integer"),
    (dict(depth=2.5), ArgumentTypeError, "depth"),
    (dict(sigma_w2=0.0), ArgumentValueError, "sigma_w2"),
    (dict(sigma_w2=float("nan")), ArgumentValueError, "sigma_w2"),
    (dict(sigma_b2=-1.0), ArgumentValueError, "sigma_b2"),
    (dict(weights="unitary"), ArgumentValueError, "weights must be one of"),
    (dict(activation="no_such"), ArgumentValueError, "activation must be one of"),
    (dict(activation=3.0), ArgumentTypeError, "activation"),
])
def test_bad_arguments_name_the_argument(kwargs, exc, match):
    args = dict(activation="tanh", depth=3, weights="orthogonal", sigma_w2=1.5, sigma_b2=0.1)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        th.jacobian_spectrum(args.pop("activation"), args.pop("depth"), **args)
    with pytest.raises(ArgumentValueError, match="q_star"):
        th.critical_point("tanh", -0.5)
