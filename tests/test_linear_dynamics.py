"""Tests of theory.linear_dynamics against independent routes (mpmath quadrature, finite differences)."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from degeneracy.theory import linear_dynamics as ld


def quad_time(u0, uf, s, n, tau=1.0):
    f = lambda u: u ** (mpmath.mpf(2) / n - 2) / (s - u)
    return float(tau / n * mpmath.quad(f, [u0, uf]))


@given(n=st.integers(1, 40), s=st.floats(0.2, 5.0), a=st.floats(0.01, 0.9), b=st.floats(0.05, 0.95),
       above=st.booleans())
def test_learning_time_matches_quadrature(n, s, a, b, above):
    if above:
        u0 = s * (1.0 + 3.0 * b + 0.05)
        uf = s + (u0 - s) * a
    else:
        u0 = s * a * b
        uf = u0 + (s - u0) * a
    got = ld.learning_time(u0, uf, s=s, n_weights=n, tau=1.7)
    want = quad_time(u0, uf, s, n, 1.7)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    # negative control: the layer count in place of the weight count is detectably different
    wrong = quad_time(u0, uf, s, n + 1, 1.7)
    assert abs(wrong - want) > 1e-6 * abs(want)


def test_two_layer_time_is_saxe_formula():
    for (u0, uf, s) in [(0.001, 1.0, 2.0), (0.3, 0.9, 1.0)]:
        saxe = 1.0 / (2 * s) * math.log(uf * (s - u0) / (u0 * (s - uf)))
        assert ld.learning_time(u0, uf, s=s, n_weights=2) == pytest.approx(saxe, rel=1e-13)


def test_trajectory_solves_ode_numerically_and_inverts_learning_time():
    s, u0, tau = 1.7, 0.01, 2.0
    t = np.linspace(0, 10, 101)
    u = ld.saxe_mode_strength(t, s=s, u0=u0, tau=tau)
    h = 1e-6
    du = (ld.saxe_mode_strength(t + h, s=s, u0=u0, tau=tau) - ld.saxe_mode_strength(t + 2 * h, s=s, u0=u0, tau=tau))
    du = (ld.saxe_mode_strength(t + h, s=s, u0=u0, tau=tau) - ld.saxe_mode_strength(np.maximum(t - h, 0), s=s, u0=u0, tau=tau)) / (
        np.where(t > 0, 2 * h, h))
    assert np.allclose(tau * du[1:], 2 * u[1:] * (s - u[1:]), atol=1e-6)
    assert u[0] == pytest.approx(u0)
    # the time to reach u(t) equals t (n = 2)
    for tt in (1.0, 3.0):
        uf = float(ld.saxe_mode_strength(tt, s=s, u0=u0, tau=tau))
        assert ld.learning_time(u0, uf, s=s, n_weights=2, tau=tau) == pytest.approx(tt, rel=1e-10)


def test_large_depth_is_exponent_two_integral_and_converges():
    u0, uf, s = 0.3, 1.5, 2.0
    for NL in (3, 11, 101):
        q = float(mpmath.quad(lambda u: 1 / (u**2 * (s - u)), [u0, uf])) / (NL - 1)
        assert ld.learning_time_large_depth(u0, uf, s=s, n_layers=NL) == pytest.approx(q, rel=1e-12)
    errs = [abs(ld.learning_time_large_depth(u0, uf, s=s, n_layers=n + 1) / ld.learning_time(u0, uf, s=s, n_weights=n) - 1)
            for n in (4, 16, 64)]
    assert errs[0] > errs[1] > errs[2]


def test_hessian_top_eigenvalue_matches_finite_difference_hessian():
    for n, s in [(1, 0.7), (3, 2.0), (7, 0.5)]:
        a = np.full(n, s ** (1 / n))
        f = lambda x: 0.5 * (np.prod(x) - s) ** 2
        h = 1e-4
        H = np.empty((n, n))
        for i in range(n):
            for j in range(n):
                e_i, e_j = np.eye(n)[i] * h, np.eye(n)[j] * h
                H[i, j] = (f(a + e_i + e_j) - f(a + e_i - e_j) - f(a - e_i + e_j) + f(a - e_i - e_j)) / (4 * h * h)
        top = np.linalg.eigvalsh(H)[-1]
        assert top == pytest.approx(ld.hessian_top_eigenvalue(s=s, n_weights=n), rel=1e-5)
        assert ld.max_stable_learning_rate(s=s, n_weights=n) == pytest.approx(2 / top, rel=1e-5)


def test_layer_and_activation_gradients_vs_finite_differences():
    rng = np.random.default_rng(3)
    shapes = [(4, 3), (5, 4), (2, 5)]
    W = [rng.standard_normal(s) for s in shapes]
    T = rng.standard_normal((2, 3))
    loss = lambda ws: 0.5 * np.sum((ws[2] @ ws[1] @ ws[0] - T) ** 2)
    G = W[2] @ W[1] @ W[0] - T
    grads = ld.layer_gradients(W, G)
    h = 1e-6
    for j in range(3):
        for idx in [(0, 0), (1, 2)]:
            Wp = [w.copy() for w in W]
            Wm = [w.copy() for w in W]
            Wp[j][idx] += h
            Wm[j][idx] -= h
            assert grads[j][idx] == pytest.approx((loss(Wp) - loss(Wm)) / (2 * h), rel=1e-6, abs=1e-8)
    g = rng.standard_normal(2)
    deltas = ld.activation_gradients(W, g)
    assert np.allclose(deltas[0], (W[2] @ W[1] @ W[0]).T @ g)
    assert np.allclose(deltas[2], W[2].T @ g)


def test_conservation_exact_gd_drift_and_balanced_zero():
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((4, 3)), rng.standard_normal((5, 4)), rng.standard_normal((2, 5))]
    T = rng.standard_normal((2, 3))
    G = ld.layer_gradients(W, W[2] @ W[1] @ W[0] - T)
    eta = 0.01
    after = [w - eta * g for w, g in zip(W, G)]
    change = [b - a for a, b in zip(ld.conserved_quantities(W), ld.conserved_quantities(after))]
    pred = ld.gd_conservation_drift(G, eta)
    for c, p in zip(change, pred):
        assert np.allclose(c, p, atol=1e-12)
        assert not np.allclose(c, 0 * p, atol=1e-8)  # control: the drift is not zero at finite eta


def test_end_to_end_velocity_agrees_for_balanced_and_not_otherwise():
    rng = np.random.default_rng(1)
    Q = [np.linalg.qr(rng.standard_normal((3, 3)))[0] for _ in range(4)]
    D = np.diag([1.3, 0.8, 0.5])
    W = [Q[i + 1] @ D @ Q[i].T for i in range(3)]
    P = W[2] @ W[1] @ W[0]
    G = P - rng.standard_normal((3, 3))
    assert np.allclose(ld.layerwise_end_to_end_velocity(W, G), ld.end_to_end_velocity(P, G, n_weights=3), atol=1e-12)
    Wu = [W[0] * 2.0, W[1], W[2] / 2.0]  # same product, unbalanced
    Pu = Wu[2] @ Wu[1] @ Wu[0]
    assert not np.allclose(ld.layerwise_end_to_end_velocity(Wu, G), ld.end_to_end_velocity(Pu, G, n_weights=3), atol=1e-3)


@pytest.mark.parametrize("N", [1, 2, 7, 32])
def test_gradient_log_moments_vs_chi_square_quadrature(N):
    # independent route: moments of log(chi2_N / N) / 2 by mpmath quadrature of the chi-square density
    k = mpmath.mpf(N) / 2
    dens = lambda x: x ** (k - 1) * mpmath.exp(-x / 2) / (2**k * mpmath.gamma(k))
    m1 = mpmath.quad(lambda x: 0.5 * mpmath.log(x / N) * dens(x), [0, 1, N, mpmath.inf])
    m2 = mpmath.quad(lambda x: (0.5 * mpmath.log(x / N)) ** 2 * dens(x), [0, 1, N, mpmath.inf])
    for dist in (1, 5):
        assert ld.activation_gradient_log_mean(width=N, distance=dist) == pytest.approx(dist * float(m1), rel=1e-7)
        assert ld.activation_gradient_log_variance(width=N, distance=dist) == pytest.approx(dist * float(m2 - m1**2), rel=1e-7)
    assert ld.activation_gradient_mean_square(width=N, distance=3) == 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: ld.learning_time(0.1, 1.0, s=2.0, n_weights=0), "n_weights must be a positive integer"),
    (lambda: ld.learning_time(1.0, 0.1, s=2.0, n_weights=2), "below s"),
    (lambda: ld.learning_time(0.1, 3.0, s=2.0, n_weights=2), "same side"),
    (lambda: ld.learning_time(-0.1, 1.0, s=2.0, n_weights=2), "u0 must be in"),
    (lambda: ld.learning_time_large_depth(0.1, 1.0, s=2.0, n_layers=1), "n_layers must be an integer >= 2"),
    (lambda: ld.saxe_mode_strength([0.0, -1.0], s=1.0, u0=0.1), "t must be >= 0"),
    (lambda: ld.saxe_mode_strength([0.0], s=0.0, u0=0.1), "s must be in"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
