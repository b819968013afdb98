"""Mean field of wide random networks for any activation: length map, correlation map, depth scales
(theory/meanfield.py), checked against scipy quadrature, closed forms and the maps' own iteration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.theory import isometry as th
from degeneracy.theory import meanfield as mf
from degeneracy.theory.activations import ACTIVATIONS, Activation, as_activation, elu, leaky_relu

BUILTINS = sorted(ACTIVATIONS)


def quad_expect(f, q, kinks=()):
    """E f(h), h ~ N(0, q), by scipy quad (an independent route)."""
    s = math.sqrt(q)
    pts = sorted({0.0, *kinks, s, -s})
    g = lambda h: float(f(np.array(h))) * math.exp(-h * h / (2 * q)) / math.sqrt(2 * math.pi * q)  # noqa: E731
    lim = 14 * s + 2
    return integrate.quad(g, -lim, lim, points=[p for p in pts if -lim < p < lim], limit=500, epsabs=1e-14,
                          epsrel=1e-12)[0]


def quad_pair(f, g, q, c, kinks=()):
    """E f(u1) g(u2) by nested scipy quad with the kinks as breakpoints."""
    s, sc = math.sqrt(q), math.sqrt(1 - c * c)
    dens = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731

    def inner(z1):
        pts = sorted((k / s - c * z1) / sc for k in kinks)
        return integrate.quad(lambda z2: float(g(np.array(s * (c * z1 + sc * z2)))) * dens(z2), -12, 12,
                              points=[p for p in pts if -12 < p < 12] or None, limit=300, epsabs=1e-13)[0]

    return integrate.quad(lambda z1: float(f(np.array(s * z1))) * dens(z1) * inner(z1), -12, 12,
                          points=[k / s for k in kinks if -12 < k / s < 12] or None, limit=300, epsabs=1e-13)[0]


@pytest.mark.parametrize("name", BUILTINS)
def test_length_and_derivative_moments_against_quadrature(name):
    act = as_activation(name)
    for q in (0.03, 0.7, 3.0):
        assert mf.length_variance(act, q) == pytest.approx(quad_expect(lambda h: act.phi(h) ** 2, q, act.kinks),
                                                           rel=1e-9, abs=1e-12)
        for k in (1, 2):
            assert mf.mu(act, q, k) == pytest.approx(quad_expect(lambda h: act.dphi(h) ** (2 * k), q, act.kinks),
                                                     rel=1e-9, abs=1e-12)
        dV = (mf.length_variance(act, q * (1 + 1e-5)) - mf.length_variance(act, q * (1 - 1e-5))) / (2e-5 * q)
        assert mf.length_variance_derivative(act, q) == pytest.approx(dV, rel=1e-6)


@pytest.mark.parametrize("name", BUILTINS)
def test_fixed_points_and_critical_points(name):
    act = as_activation(name)
    sw2, sb2 = (0.5, 0.2) if name == "linear" else (1.3, 0.1)
    q = mf.q_star(act, sw2, sb2)
    assert mf.q_map(act, q, sw2, sb2) == pytest.approx(q, rel=1e-11)
    assert mf.chi(act, sw2, sb2) == pytest.approx(sw2 * mf.mu(act, q, 1), rel=1e-14)
    for qs in (0.05, 0.5):
        try:
            cw, cb = mf.critical_point(act, qs)
        except ArgumentValueError as e:  # no critical point at this q* (sigma_b^2 < 0, or q* unstable)
            assert "no critical point" in str(e)
            continue
        assert mf.chi(act, cw, cb, q0=qs) == pytest.approx(1.0, rel=1e-9)
        if not act.positively_homogeneous:
            assert mf.q_star(act, cw, cb) == pytest.approx(qs, rel=1e-8)


def test_no_fixed_point_is_an_error_naming_sigma_w2():
    with pytest.raises(ArgumentValueError, match="sigma_w2"):
        mf.q_star("relu", 2.5, 0.1)
    with pytest.raises(ArgumentValueError, match="no finite fixed point"):
        mf.q_star("softplus", 30.0, 0.1)   # lim V(q)/q = 1/2 and no stable point below: diverges
    with pytest.raises(ArgumentValueError, match="no critical point"):
        mf.critical_point("sigmoid", 0.5)


@pytest.mark.parametrize("name, kinks", [("relu", (0.0,)), ("leaky_relu", (0.0,)), ("erf", ()), ("linear", ())])
def test_pair_expectations_closed_forms_against_quadrature(name, kinks):
    act = as_activation(name)
    for q, c in ((0.4, 0.3), (1.7, -0.6), (0.9, 0.95)):
        for deriv, f in ((False, act.phi), (True, act.dphi)):
            closed = mf._pair_expect(act, q, c, deriv)
            generic = mf.gauss_expect_2d(f, f, q, q, c, kinks_f=kinks, kinks_g=kinks)
            assert closed == pytest.approx(generic, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ["tanh", "hard_tanh", "selu"])
def test_generic_pair_expectation_against_nested_quad(name):
    act = as_activation(name)
    q, c = 0.8, 0.6
    for f in (act.phi, act.dphi):
        got = mf.gauss_expect_2d(f, f, q, q, c, kinks_f=act.kinks, kinks_g=act.kinks)
        assert got == pytest.approx(quad_pair(f, f, q, c, act.kinks), rel=1e-8, abs=1e-11)


@pytest.mark.parametrize("name, sw2, sb2", [("tanh", 1.8, 0.05), ("hard_tanh", 1.8, 0.05), ("erf", 2.5, 0.1),
                                            ("tanh", 0.9, 0.05), ("relu", 1.5, 0.2)])
def test_correlation_fixed_point_and_slope(name, sw2, sb2):
    assert mf.correlation_map(name, 1.0, sw2, sb2) == pytest.approx(1.0, abs=1e-10)
    cs = mf.c_star(name, sw2, sb2)
    ordered = mf.chi(name, sw2, sb2) <= 1
    assert (cs == 1.0) == ordered
    assert mf.correlation_map(name, cs, sw2, sb2) == pytest.approx(cs, abs=1e-10)
    cc = mf.chi_c(name, sw2, sb2)
    if not ordered:  # chi_c = C'(c*) (Gaussian integration by parts) against a central difference
        d = 1e-5
        slope = (mf.correlation_map(name, cs + d, sw2, sb2) - mf.correlation_map(name, cs - d, sw2, sb2)) / (2 * d)
        assert cc == pytest.approx(slope, rel=1e-6)
        assert cc < 1  # c* is stable
    else:
        assert cc == pytest.approx(mf.chi(name, sw2, sb2), rel=1e-12)


@pytest.mark.parametrize("name, sw2, sb2", [("tanh", 1.8, 0.05), ("erf", 1.2, 0.1), ("relu", 1.5, 0.2)])
def test_depth_scales_are_the_decay_rates_of_the_maps(name, sw2, sb2):
    xq, xc = mf.depth_scales(name, sw2, sb2)
    qs, cs = mf.q_star(name, sw2, sb2), mf.c_star(name, sw2, sb2)
    # the length map from q* (1 + 1e-4): the ratio of successive deviations -> exp(-1/xi_q)
    traj = mf.q_trajectory(name, (qs * (1 + 1e-4) - sb2) / sw2, 6, sw2, sb2) - qs
    assert traj[-1] / traj[-2] == pytest.approx(math.exp(-1 / xq), rel=1e-3)
    c0 = cs - 1e-4 if cs < 1 else 1 - 1e-4
    ct = mf.correlation_trajectory(name, c0, 4, sw2, sb2) - cs
    assert ct[-1] / ct[-2] == pytest.approx(math.exp(-1 / xc), rel=2e-3)


def test_user_activations_match_the_builtin():
    h = sp.Symbol("h")
    built = as_activation("tanh")
    pair = Activation.from_callables(np.tanh, lambda x: 1 / np.cosh(x) ** 2, name="my_tanh", strip=math.pi / 2)
    expr = as_activation(sp.tanh(h))
    for act in (pair, expr):
        assert mf.length_variance(act, 0.6) == pytest.approx(mf.length_variance(built, 0.6), rel=1e-11)
        assert mf.mu(act, 0.6, 2) == pytest.approx(mf.mu(built, 0.6, 2), rel=1e-11)
        assert mf.correlation_map(act, 0.4, 1.5, 0.1) == pytest.approx(mf.correlation_map(built, 0.4, 1.5, 0.1),
                                                                       rel=1e-10)
    sw2, sb2 = th.critical_point("tanh", 0.2)
    ref = th.jacobian_spectrum("tanh", 2, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    for act in (pair, expr):
        law = th.jacobian_spectrum(act, 2, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
        x = ref.ppf(np.array([0.1, 0.5, 0.9]))
        assert np.allclose(law.cdf(x), ref.cdf(x), atol=1e-9)


def test_parametrized_and_invalid_activations():
    assert leaky_relu(0.3).pieces[0][3] == 0.3
    assert mf.mu(leaky_relu(0.3), 1.0, 1) == pytest.approx((1 + 0.09) / 2)
    assert elu(2.0).dphi(np.array([-1.0]))[0] == pytest.approx(2 * math.exp(-1))
    with pytest.raises(ArgumentValueError, match="slope"):
        leaky_relu(1.5)
    with pytest.raises(ArgumentValueError, match="activation must be one of"):
        as_activation("tanhh")
    with pytest.raises(ArgumentTypeError, match="activation"):
        as_activation(42)
    with pytest.raises(ArgumentValueError, match="one free symbol"):
        as_activation(sp.Symbol("a") * sp.Symbol("b"))
    with pytest.raises(ArgumentValueError, match="q_star"):
        mf.critical_point("tanh", 0.0)


def _explicit_pair(act, n, L, R, sw2, sb2, weights, qin, cin, rng, shared_bias=True):
    """simulate_pair's statistics through explicit N x N weights (sample_weights), the route it replaces."""
    from degeneracy.numerics.isometry import sample_weights

    act = as_activation(act)
    g = np.random.default_rng(rng)
    a, b = np.linalg.qr(g.standard_normal((R, n, 2)))[0].transpose(2, 0, 1)
    x1 = math.sqrt(qin * n) * a
    x2 = math.sqrt(qin * n) * (cin * a + math.sqrt(1 - cin * cin) * b)
    out = []
    for _ in range(L):
        W = sample_weights(n, 1, R, weights=weights, sigma_w2=sw2, rng=g)[0]
        b1 = g.standard_normal((R, n)) * math.sqrt(sb2)
        b2 = b1 if shared_bias else g.standard_normal((R, n)) * math.sqrt(sb2)
        h1, h2 = np.einsum("rij,rj->ri", W, x1) + b1, np.einsum("rij,rj->ri", W, x2) + b2
        q1, q2 = np.mean(h1 * h1, axis=1), np.mean(h2 * h2, axis=1)
        p1 = act.phi(h1)
        out.append((q1, np.mean(h1 * h2, axis=1) / np.sqrt(q1 * q2), sw2 * np.mean(act.dphi(h1) * act.dphi(h2), axis=1),
                    sw2 * np.mean(p1 * p1 * (h1 * h1 / q1[:, None] - 1.0), axis=1) / (2.0 * q1)))
        x1, x2 = p1, act.phi(h2)
    return out


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_simulate_pair_has_the_law_of_explicit_weights(weights):
    """The O(R N) pair sampler against explicit N x N weights: two-sample KS per layer and statistic
    (deterministic seeds; the smallest p-value against 1e-3 / the number of tests). The same KS tests
    reject the explicit route with unshared biases (a realistic mistake), so they have the power."""
    from scipy import stats as ss

    from degeneracy.numerics.isometry import simulate_pair

    n, L, R, sw2, sb2, qin, cin = 16, 2, 3000, 1.8, 0.2, 0.7, 0.4
    run = simulate_pair("tanh", width=n, depth=L, replicas=R, sigma_w2=sw2, sigma_b2=sb2, weights=weights,
                        q_input=qin, c_input=cin, rng=1)
    fast = [(run.q1[:, k], run.c[:, k], run.chi_c[:, k], run.q_slope[:, k]) for k in range(L)]
    for shared, ok in ((True, True), (False, False)):
        slow = _explicit_pair("tanh", n, L, R, sw2, sb2, weights, qin, cin, 2, shared_bias=shared)
        p = min(ss.ks_2samp(u, v).pvalue for f, e in zip(fast, slow) for u, v in zip(f, e))
        assert (p > 1e-3 / (4 * L)) == ok, (shared, p)
