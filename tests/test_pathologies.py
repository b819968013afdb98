"""Theory and numerics of the pathologies area, against independent routes."""

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, optimize, special

from degeneracy.errors import DegeneracyError
from degeneracy.numerics import pathologies as nu
from degeneracy.theory import pathologies as th


def test_log_abs_moments_by_quadrature():
    v = 0.7
    pdf = lambda x: math.exp(-x * x / (2 * v)) / math.sqrt(2 * math.pi * v)  # noqa: E731
    m1 = 2 * integrate.quad(lambda x: math.log(x) * pdf(x), 0, np.inf, limit=200)[0]
    m2 = 2 * integrate.quad(lambda x: math.log(x) ** 2 * pdf(x), 0, np.inf, limit=200)[0]
    m, var = th.log_abs_gaussian_moments(v)
    assert abs(m - m1) < 1e-8 and abs(var - (m2 - m1 * m1)) < 1e-7
    assert abs(var - math.pi**2 / 8) < 1e-12
    # negative control: the printed per-layer moments are not these
    pm, pv = th.duvenaud_printed_moments(math.sqrt(v))
    assert abs(pm - m1) > 0.1 and abs(pv - (m2 - m1 * m1)) > 0.1
    assert abs(pm - 2 * m1) < 1e-8  # the printed mean is E log f'^2


def test_printed_variance_is_negative_outside_range():
    lo, hi = th.printed_variance_negative_range()
    assert th.duvenaud_printed_moments(hi * 1.01)[1] < 0 < th.duvenaud_printed_moments(hi * 0.99)[1]
    assert th.duvenaud_printed_moments(lo * 0.99)[1] < 0 < th.duvenaud_printed_moments(lo * 1.01)[1]


def test_constant_expected_derivative():
    s2 = th.constant_derivative_variance()
    assert abs(math.sqrt(2 * s2 / math.pi) - 1) < 1e-15
    assert th.expected_abs_derivative(3, 1.0) == pytest.approx((2 / math.pi) ** 1.5)


@given(st.floats(0.05, 30.0))
def test_fixed_point_matches_bracketing(r):
    c = 1 + r * r / 2
    k = th.connected_kernel_fixed_point(r)
    kb = optimize.brentq(lambda t: t - math.log(t) - c, math.exp(-c) / 2, 1.0, xtol=1e-300, rtol=1e-15, maxiter=5000)
    assert abs(k - kb) <= 1e-13 * kb
    assert 0 < k < 1


def test_fixed_point_of_iteration_and_bad_input():
    assert float(th.connected_se_kernel(1.5, 300)) == pytest.approx(th.connected_kernel_fixed_point(1.5), rel=1e-13)
    assert float(th.deep_se_kernel(2.0, 2000)) > 0.999
    with pytest.raises(ValueError, match="r must"):
        th.connected_kernel_fixed_point(-1.0)
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        th.deep_se_kernel(1.0, 0)
    with pytest.raises(ValueError, match="non-negative"):
        th.connected_se_kernel([-1.0], 3)


def test_kernel_gap_constant_converges_in_mpmath():
    mp.mp.dps = 30
    k = mp.exp(-mp.mpf(1) / 2)
    vals = {}
    for l in range(1, 2001):
        if l in (1000, 2000):
            vals[l] = 1 / (1 - k) - mp.mpf(l) / 2 - mp.log(l) / 6
        k = mp.exp(k - 1)
    assert abs(vals[2000] - vals[1000]) < math.log(1000) / 1000
    # negative control: without the log term the "constant" drifts by log(2)/6
    assert abs((vals[2000] + mp.log(2000) / 6) - (vals[1000] + mp.log(1000) / 6)) > 0.1


def test_lyapunov_exponents_and_threshold():
    mu = th.real_lyapunov_exponents(5)
    i = np.arange(1, 6)
    assert np.allclose(mu, 0.5 * (math.log(2) + special.digamma((6 - i) / 2)), atol=1e-13)
    t = th.connected_stability_threshold(5)
    assert abs(th.real_lyapunov_exponents(5, t)[0]) < 1e-13
    assert th.connected_normalized_spectrum_rate(5, 0.5 * t)[1] == 0.0
    assert th.connected_normalized_spectrum_rate(5, 1.0)[1] == pytest.approx(th.normalized_spectrum_rate(5)[1])


def test_critical_point_chi_equals_one_by_quadrature():
    from degeneracy.theory.isometry import critical_point

    for act in ("tanh", "erf", "hard_tanh", "relu"):
        sw2, sb2 = critical_point(act, 1.0)
        sw, sb = math.sqrt(sw2), math.sqrt(sb2)
        from degeneracy.theory.activations import activation

        phi, dphi = activation(act)
        f = lambda z, g: g(z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        pts = [-1, 0, 1]
        chi = sw**2 * integrate.quad(lambda z: f(z, dphi), -12, 12, points=pts, limit=200)[0]
        q = sw**2 * integrate.quad(lambda z: f(z, phi), -12, 12, points=pts, limit=200)[0] + sb**2
        assert abs(chi - 1) < 1e-7
        if act != "relu":
            assert abs(q - 1) < 1e-7
    with pytest.raises(ValueError, match="activation must be one of"):
        critical_point("no_such_activation", 1.0)


def test_connected_jacobian_recursion_matches_finite_differences():
    """A 2-layer input-connected composition f2(f1(x), x) of smooth random maps R^D -> R^D."""
    rng = np.random.default_rng(3)
    D = 3
    W1 = rng.standard_normal((D, D))
    W2 = rng.standard_normal((D, 2 * D))

    def f1(x):
        return np.tanh(W1 @ x)

    def f2(y, x):
        return np.sin(W2 @ np.concatenate([y, x]))

    x = rng.standard_normal(D)
    A1 = np.concatenate([np.diag(1 - np.tanh(W1 @ x) ** 2) @ W1, np.zeros((D, D))], axis=1)
    z = np.concatenate([f1(x), x])
    A2 = np.diag(np.cos(W2 @ z)) @ W2
    J = th.connected_jacobian([A1, A2])
    h = 1e-6
    fd = np.stack([(f2(f1(x + h * e), x + h * e) - f2(f1(x - h * e), x - h * e)) / (2 * h) for e in np.eye(D)], 1)
    assert np.allclose(J, fd, atol=1e-8)
    assert not np.allclose(A2[:, :D] @ A1[:, :D], fd, atol=1e-3)  # negative control: dropping the skip


@given(st.sampled_from(["tanh", "erf", "relu", "hard_tanh"]), st.sampled_from(["none", "layer", "divisive"]),
       st.booleans(), st.integers(0, 2**16))
def test_mlp_forward_jacobian_matches_finite_differences(act, norm, connected, seed):
    rng = np.random.default_rng(seed)
    R, n0, N, P, L = 2, 4, 6, 3, 3
    Ws, bs = [], []
    for l in range(L):
        fan = n0 if l == 0 else N + (n0 if connected else 0)
        Ws.append(rng.standard_normal((R, N, fan)) * 1.5 / math.sqrt(fan))
        bs.append(rng.standard_normal((R, N, 1)) * 0.3)
    x0 = rng.standard_normal((R, n0, P))
    out = nu.mlp_forward(x0, Ws, bs, act, normalization=norm, connected=connected)
    h = 1e-6
    for l, (x, J) in enumerate(out):
        fd = np.empty_like(J)
        for j in range(n0):
            xp, xm = x0.copy(), x0.copy()
            xp[:, j, 0] += h
            xm[:, j, 0] -= h
            fp = nu.mlp_forward(xp, Ws, bs, act, normalization=norm, connected=connected)[l][0][:, :, 0]
            fm = nu.mlp_forward(xm, Ws, bs, act, normalization=norm, connected=connected)[l][0][:, :, 0]
            fd[:, :, j] = (fp - fm) / (2 * h)
        if act in ("relu", "hard_tanh"):  # kinks: compare where no pre-activation is within 1e-4 of one
            assert np.mean(np.abs(J - fd) < 1e-5) > 0.9
        else:
            assert np.allclose(J, fd, atol=1e-6), (act, norm, connected, l)


def test_batch_norm_jacobian_holds_batch_statistics():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((2, 5, 7))
    y, jac = nu.normalize(h, "batch")
    sig = np.sqrt(h.var(axis=2) + 1e-5)
    v = rng.standard_normal((2, 5, 3))
    assert np.allclose(jac(v), v / sig[:, :, None])
    assert np.allclose(y.mean(axis=2), 0) and np.allclose(y.var(axis=2), 1, atol=1e-4)


def test_jacobian_spectra_rate_and_shapes():
    out = nu.jacobian_spectra(5, [30, 60], 3000, rng=1)
    slope = (np.log(out[60][:, 1]) - np.log(out[30][:, 1])) / 30
    se = slope.std(ddof=1) / math.sqrt(slope.size)
    assert abs(slope.mean() - th.normalized_spectrum_rate(5)[1]) < 5 * se
    wrong = 0.5 * (special.digamma(1.5) - special.digamma(2.0))  # off-by-one digamma
    assert abs(slope.mean() - wrong) > 5 * se
    with pytest.raises(DegeneracyError, match="overflowed"):
        nu.jacobian_spectra(5, [1200], 2, variance=1.0, connected=True, rng=0)


def test_log_abs_derivative_law():
    x = nu.log_abs_derivative([8], 40000, variance=2.0, rng=5)[0]
    m, v = th.log_derivative_law(8, 2.0)
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert abs(x.mean() - m) < 5 * se
    assert abs(x.var() - v) < 0.05 * v
    assert abs(x.var() - th.duvenaud_printed_limit(8, math.sqrt(2.0))[1]) > 0.5 * v  # printed variance is far off


def test_participation_ratio_effective_rank_and_bad_input():
    assert float(nu.participation_ratio([3.0, 3.0, 3.0])) == pytest.approx(3.0)
    assert float(nu.effective_rank([1.0, 0.0])) == pytest.approx(1.0)
    with pytest.raises(DegeneracyError):
        nu.participation_ratio([0.0, 0.0])
    with pytest.raises(ValueError, match="normalization must be one of"):
        nu.random_mlp("tanh", normalization="group", rng=0)
    with pytest.raises(ValueError, match="width must be"):
        nu.random_mlp("tanh", width=1, rng=0)
    with pytest.raises(ValueError, match="points must be"):
        nu.warp_points(np.zeros((3, 4)), 2, rng=0)


def test_random_mlp_matched_criticality_keeps_q():
    s = nu.random_mlp("erf", width=200, depth=10, inputs=16, replicas=4, jacobian=False, rng=2)
    assert np.all(s.hidden_pr[:, 0] > s.hidden_pr[:, -1])
