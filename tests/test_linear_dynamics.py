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


# ----------------------------------------------------------------------------- unbalanced and multi-mode (issue 14)
from scipy.integrate import solve_ivp  # noqa: E402


def _ivp_two_layer(s, a0, b0, t):
    sol = solve_ivp(lambda _, y: [y[1] * (s - y[0] * y[1]), y[0] * (s - y[0] * y[1])], (0.0, float(t[-1])), [a0, b0],
                    t_eval=t, method="DOP853", rtol=1e-12, atol=1e-14)
    return sol.y


@given(s=st.floats(0.05, 5.0), a0=st.floats(-3.0, 3.0), b0=st.floats(-3.0, 3.0))
def test_unbalanced_two_layer_solution_matches_solve_ivp(s, a0, b0):
    t = np.linspace(0.0, 4.0, 9)
    a, b = ld.saxe_two_layer_strengths(t, s=s, a0=a0, b0=b0)
    ya, yb = _ivp_two_layer(s, a0, b0, t)
    scale = 1.0 + max(abs(a0), abs(b0), math.sqrt(s))
    assert np.max(np.abs(a - ya)) < 1e-8 * scale and np.max(np.abs(b - yb)) < 1e-8 * scale
    assert np.allclose(a**2 - b**2, a0**2 - b0**2, atol=1e-10 * scale**2)


def test_the_issue_example_and_its_control():
    # saxe_two_layer_strengths([0, 1], s=3.0, a0=0.5, b0=0.02) was a ValueError
    t = np.array([0.0, 1.0])
    a, b = ld.saxe_two_layer_strengths(t, s=3.0, a0=0.5, b0=0.02)
    ya, yb = _ivp_two_layer(3.0, 0.5, 0.02, t)
    assert np.allclose(a, ya, atol=1e-10) and np.allclose(b, yb, atol=1e-10)
    # control: Saxe's balanced trajectory from u0 = a0 b0 is detectably wrong for this mode
    assert abs(ld.saxe_mode_strength(1.0, s=3.0, u0=0.01) - a[1] * b[1]) > 0.1


@given(s=st.floats(0.2, 4.0), a0=st.floats(-1.0, 1.0), b0=st.floats(-1.0, 1.0), frac=st.floats(0.05, 0.95))
def test_two_layer_learning_time_inverts_the_trajectory(s, a0, b0, frac):
    if abs(a0 + b0) < 1e-3 or a0 * b0 >= s:
        return
    u0 = a0 * b0
    uf = u0 + frac * (s - u0)
    T = ld.two_layer_learning_time(uf, s=s, a0=a0, b0=b0)
    # independent route: integrate the mode equations until u = uf (an event of solve_ivp)
    ev = lambda _, y: y[0] * y[1] - uf  # noqa: E731
    ev.terminal = True
    sol = solve_ivp(lambda _, y: [y[1] * (s - y[0] * y[1]), y[0] * (s - y[0] * y[1])], (0.0, 1e4), [a0, b0],
                    events=ev, method="DOP853", rtol=1e-12, atol=1e-14)
    assert T == pytest.approx(float(sol.t_events[0][0]), rel=1e-7, abs=1e-9)


def test_balanced_two_layer_time_is_saxe_formula_and_validation():
    assert ld.two_layer_learning_time(1.0, s=2.0, a0=0.1, b0=0.1) == pytest.approx(
        math.log(1.0 * 1.99 / (0.01 * 1.0)) / 4, rel=1e-12)
    with pytest.raises(ValueError, match="a0 \\+ b0 = 0"):
        ld.two_layer_learning_time(1.0, s=2.0, a0=0.3, b0=-0.3)
    with pytest.raises(ValueError, match="strictly between"):
        ld.two_layer_learning_time(2.5, s=2.0, a0=0.1, b0=0.1)
    with pytest.raises(ValueError, match="s must be in"):
        ld.saxe_two_layer_strengths([0.0], s=-1.0, a0=0.1, b0=0.2)
    with pytest.raises(ValueError, match="t must be >= 0"):
        ld.saxe_two_layer_strengths([-1.0], s=1.0, a0=0.1, b0=0.2)
    a, b = ld.saxe_two_layer_strengths([0.0, 5.0], s=1.0, a0=0.0, b0=0.0)  # the saddle at the origin stays put
    assert a.tolist() == [0.0, 0.0] and b.tolist() == [0.0, 0.0]


def test_multi_mode_broadcasting_and_stage_order():
    s = np.array([4.0, 2.0, 1.0, 0.5])
    t = np.linspace(0.0, 20.0, 401)[:, None]
    a, b = ld.saxe_two_layer_strengths(t, s=1.0, a0=0.01, b0=0.01)  # scalar s broadcasts over t
    assert a.shape == (401, 1)
    halves = [ld.two_layer_learning_time(x / 2, s=x, a0=0.01, b0=0.01) for x in s]
    assert np.all(np.diff(halves) > 0)  # larger s, learned earlier: stage-like transitions
    # Saxe et al.: t_half = (tau/2s) ln(s/u0 - 1) for a balanced mode
    assert np.allclose(halves, np.log(s / 1e-4 - 1) / (2 * s), rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_derived_mode_equations_match_mode_flow_numerically(n):
    import sympy as sp

    from degeneracy.theory import mode_equations as me

    eq = me.derive_mode_equations(n)
    f = sp.lambdify([eq.strengths, eq.s], list(eq.rhs))
    rng = np.random.default_rng(n)
    for _ in range(3):
        a = rng.uniform(-1.5, 1.5, n)
        s = rng.uniform(0.1, 3.0)
        assert np.allclose(f(a, s), ld.mode_flow(a, s=s), atol=1e-12)
    holds, detail = me.certify_mode_equations(n)
    assert holds, detail
    if n != 2:  # control: "every depth obeys tau du/dt = 2u(s-u)" is refuted
        assert not me.certify_mode_equations(n, wrong=True)[0]


def test_mode_equations_validation():
    from degeneracy.theory import mode_equations as me

    with pytest.raises(ValueError, match="n_weights"):
        me.derive_mode_equations(0)
    with pytest.raises(ValueError, match="n_weights"):
        me.derive_mode_equations(me.MAX_WEIGHTS + 1)


def test_gradient_flow_of_the_whole_network_and_stability_boundary():
    from degeneracy.numerics import dynamics as nd

    runs = nd.two_layer_runs(np.array([[3.0, 0.7]]), np.array([[0.5, -0.05]]), np.array([[0.02, 0.2]]), t_end=3.0,
                             rng=0)
    a, b = runs.flow[min(runs.flow)]
    for j, (s, x, y) in enumerate([(3.0, 0.5, 0.02), (0.7, -0.05, 0.2)]):
        ea, eb = ld.saxe_two_layer_strengths(runs.t, s=s, a0=x, b0=y)
        assert np.max(np.abs(a[0, :, j] - ea)) < 1e-8 and np.max(np.abs(b[0, :, j] - eb)) < 1e-8
    for n, s in [(1, 0.5), (3, 2.0), (20, 1.3)]:
        assert nd.stability_boundary(n, s) == pytest.approx(ld.max_stable_learning_rate(s=s, n_weights=n), rel=1e-8)
