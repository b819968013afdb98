"""Tests of theory/isometry.py and numerics/isometry.py (mean field, Jacobian spectra, networks)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from degeneracy.numerics.isometry import (
    fold_product_squared_singular_values,
    jacobian_log_singular_values,
    jacobian_moment_estimates,
    sample_weights,
    simulate_network,
    squared_singular_values,
)
from degeneracy.theory import isometry as th
from degeneracy.theory.activations import activation
from degeneracy.theory.products import fuss_catalan

ACTS = ("linear", "relu", "hard_tanh", "erf", "tanh")


def gauss_expect(f, q):
    """E f(h), h ~ N(0, q), by scipy quad over h (an independent route from the closed forms)."""
    g = lambda h: f(np.array(h)) * math.exp(-h * h / (2 * q)) / math.sqrt(2 * math.pi * q)  # noqa: E731
    return integrate.quad(g, -60 * math.sqrt(q) - 2, 60 * math.sqrt(q) + 2, points=[-1, 0, 1], limit=400,
                          epsabs=1e-14, epsrel=1e-12)[0]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("q", [0.03, 0.7, 4.0])
def test_closed_forms_against_quadrature(act, q):
    phi, dphi = activation(act)
    assert th.length_variance(act, q) == pytest.approx(gauss_expect(lambda h: float(phi(h)) ** 2, q), abs=1e-11)
    for k in (1, 2, 3):
        assert th.mu(act, q, k) == pytest.approx(gauss_expect(lambda h: float(dphi(h)) ** (2 * k), q), abs=1e-11)


@pytest.mark.parametrize("act,sw2,sb2", [("relu", 1.5, 0.2), ("hard_tanh", 1.3, 0.1), ("erf", 2.0, 0.05),
                                         ("tanh", 1.7, 0.3), ("linear", 0.5, 0.4)])
def test_q_star_is_fixed_point(act, sw2, sb2):
    q = th.q_star(act, sw2, sb2)
    assert th.q_map(act, q, sw2, sb2) == pytest.approx(q, rel=1e-12)
    assert th.chi(act, sw2, sb2) == pytest.approx(sw2 * th.mu(act, q, 1), rel=1e-14)
    # negative control: the map without the bias has another fixed point
    assert abs(th.q_map(act, q, sw2, 0.0) - q) > 1e-3


@pytest.mark.parametrize("act", ["hard_tanh", "erf", "tanh"])
@pytest.mark.parametrize("q", [0.05, 0.5, 2.0])
def test_critical_point(act, q):
    sw2, sb2 = th.critical_point(act, q)
    assert th.chi(act, sw2, sb2) == pytest.approx(1.0, rel=1e-10)
    assert th.q_star(act, sw2, sb2) == pytest.approx(q, rel=1e-9)


def test_critical_point_closed_forms_and_marginal_cases():
    assert th.critical_point("relu", 0.3) == (2.0, 0.0)
    assert th.critical_point("linear", 1.0) == (1.0, 0.0)
    q = 0.4
    assert th.critical_point("erf", q)[0] == pytest.approx(math.pi * math.sqrt(1 + 4 * q) / 4, rel=1e-14)
    assert th.critical_point("hard_tanh", q)[0] == pytest.approx(1 / math.erf(1 / math.sqrt(2 * q)), rel=1e-14)
    assert th.q_star("relu", 2.0, 0.0, q0=0.7) == 0.7
    with pytest.raises(ValueError, match="pass q0"):
        th.q_star("relu", 2.0, 0.0)
    with pytest.raises(ValueError, match="no finite fixed point"):
        th.q_star("relu", 2.5, 0.1)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("weights", th.WEIGHTS)
def test_jacobian_moments_match_spectrum_series(act, weights):
    """Closed formula (mean chi^L, Var/mean^2 = L(mu2/mu1^2 - 1 - s1)) vs the law's series moments."""
    L = 5
    sw2, sb2 = (2.0, 0.0) if act == "relu" else (1.0, 0.0) if act == "linear" else th.critical_point(act, 0.4)
    mean, var = th.jacobian_moments(act, L, weights=weights, sigma_w2=sw2, sigma_b2=sb2)
    S = th.jacobian_s_transform(act, L, weights=weights, sigma_w2=sw2, sigma_b2=sb2)
    m = S.numeric_moments(2)
    assert m[0] == pytest.approx(mean, rel=1e-10)
    assert m[1] - m[0] ** 2 == pytest.approx(var, rel=1e-9, abs=1e-12)
    # negative control: the other ensemble's s_1 changes the variance by L mean^2
    other = "orthogonal" if weights == "gaussian" else "gaussian"
    _, var_other = th.jacobian_moments(act, L, weights=other, sigma_w2=sw2, sigma_b2=sb2)
    assert abs(var_other - var) == pytest.approx(L * mean**2, rel=1e-9)


def test_linear_gaussian_jacobian_is_fuss_catalan():
    for L in (2, 3):
        law = th.jacobian_spectrum("linear", L, weights="gaussian", sigma_w2=1.0, sigma_b2=0.0)
        ref = fuss_catalan(L)
        x = ref.support()[1] * np.array([0.01, 0.2, 0.5, 0.9])
        assert np.allclose(law.pdf(x), ref.pdf(x), rtol=1e-9)
        assert th.max_eigenvalue("linear", L, weights="gaussian", sigma_w2=1.0, sigma_b2=0.0) == pytest.approx(
            (L + 1) ** (L + 1) / L**L, rel=1e-12)


def test_quadrature_d2_law_moments():
    for act in ("erf", "tanh"):
        S = th.derivative_law(act, 0.6)
        m = S.numeric_moments(4)
        for k in range(1, 5):
            assert m[k - 1] == pytest.approx(th.mu(act, 0.6, k), rel=1e-10)


def test_jacobian_laws_mass_and_atoms():
    # ReLU: atom 1/2 at 0; hard-tanh orthogonal with L(1-p) < 1: atom 1 - L(1-p) at sigma_w^{2L}
    law = th.jacobian_spectrum("relu", 3, weights="gaussian", sigma_w2=2.0, sigma_b2=0.0)
    assert law.atom == pytest.approx(0.5)
    assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-9)
    sw2, sb2 = th.critical_point("hard_tanh", 0.2)
    p = th.mu("hard_tanh", 0.2)
    law = th.jacobian_spectrum("hard_tanh", 3, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
    assert law.atoms[-1] == (pytest.approx(sw2**3, rel=1e-12), pytest.approx(1 - 3 * (1 - p), rel=1e-9))
    for act in ("erf", "tanh"):
        sw2, sb2 = th.critical_point(act, 0.5)
        law = th.jacobian_spectrum(act, 3, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2)
        assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-8)
        assert law.quadrature_moment(2) == pytest.approx(law.moment(2), rel=1e-8)


def test_relu_never_isometric_hard_tanh_approaches():
    for sw2, sb2 in ((2.0, 0.0), (1.2, 0.5), (3.0, 1.0)):
        assert th.normalized_variance("relu", 7, weights="orthogonal", sigma_w2=sw2, sigma_b2=sb2) == pytest.approx(7)
        assert th.normalized_variance("relu", 7, weights="gaussian", sigma_w2=sw2, sigma_b2=sb2) == pytest.approx(14)
    nvs = [th.normalized_variance("hard_tanh", 7, weights="orthogonal", sigma_w2=sw, sigma_b2=sb)
           for sw, sb in (th.critical_point("hard_tanh", q) for q in (1.0, 0.3, 0.1, 0.05))]
    assert all(a > b for a, b in zip(nvs, nvs[1:])) and nvs[-1] < 1e-3


def test_bad_input_messages():
    with pytest.raises(ValueError, match="activation must be one of"):
        th.q_star("no_such_activation", 1.0, 0.0)
    with pytest.raises(ValueError, match="weights must be one of"):
        th.jacobian_moments("relu", 3, weights="uniform", sigma_w2=2.0, sigma_b2=0.0)
    with pytest.raises(ValueError, match="sigma_w2"):
        th.chi("tanh", 0.0, 0.1)
    with pytest.raises(ValueError, match="q_star"):
        th.critical_point("erf", -0.1)
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        th.jacobian_moments("relu", 0, weights="gaussian", sigma_w2=2.0, sigma_b2=0.0)
    with pytest.raises(ValueError, match="weights"):
        simulate_network("relu", width=4, depth=2, replicas=2, sigma_w2=2.0, sigma_b2=0.0, weights="x", rng=0)


# ---------------------------------------------------------------- numerics


def test_simulate_network_shapes_and_reproducibility():
    a = simulate_network("tanh", width=12, depth=4, replicas=3, sigma_w2=1.5, sigma_b2=0.1, rng=7)
    b = simulate_network("tanh", width=12, depth=4, replicas=3, sigma_w2=1.5, sigma_b2=0.1, rng=7)
    assert a.q.shape == (3, 4) and a.chi.shape == (3, 4) and a.jacobian.shape == (3, 12, 12)
    assert np.array_equal(a.jacobian, b.jacobian)


def test_jacobian_by_finite_differences():
    """J = D_L W_L ... D_1 W_1 checked against central differences of the forward map."""
    n, L = 6, 3
    g = np.random.default_rng(3)
    W = sample_weights(n, L, 1, weights="gaussian", sigma_w2=1.7, rng=g)[:, 0]
    b = g.standard_normal((L, n)) * 0.3
    phi, dphi = activation("tanh")

    def f(x):
        for l in range(L):
            x = phi(W[l] @ x + b[l])
        return x

    x0 = g.standard_normal(n)
    J = np.eye(n)
    x = x0
    for l in range(L):
        h = W[l] @ x + b[l]
        J = dphi(h)[:, None] * (W[l] @ J)
        x = phi(h)
    eps = 1e-6
    fd = np.stack([(f(x0 + eps * e) - f(x0 - eps * e)) / (2 * eps) for e in np.eye(n)], axis=1)
    assert np.allclose(J, fd, atol=1e-8)


def test_linear_orthogonal_network_is_exactly_isometric():
    run = simulate_network("linear", width=16, depth=5, replicas=2, sigma_w2=1.3, sigma_b2=0.0, weights="orthogonal", rng=1)
    m1, nv = jacobian_moment_estimates(run.jacobian)
    assert np.allclose(m1, 1.3**5, rtol=1e-12) and np.all(np.abs(nv) < 1e-12)
    ev = squared_singular_values(run.jacobian)
    assert np.allclose(ev, 1.3**5, rtol=1e-12)


def test_qr_log_singular_values_agree_with_svd():
    kw = dict(width=10, depth=4, replicas=2, sigma_w2=1.4, sigma_b2=0.1, rng=5)
    ls = jacobian_log_singular_values("tanh", **kw)
    run = simulate_network("tanh", **kw)
    s = np.sqrt(squared_singular_values(run.jacobian))[:, ::-1]
    assert np.allclose(np.exp(ls), s, rtol=1e-9)
    with pytest.raises(ValueError, match="exactly singular"):
        jacobian_log_singular_values("relu", **kw)


def test_fold_product_rank_and_mean():
    ev = fold_product_squared_singular_values(32, 3, 2, replicas=4, rng=0)
    nonzero = ev[:, -8:]
    assert np.all(ev[:, :-8] < 1e-20 * ev[:, -1:])
    assert np.all(nonzero > 1e-12)
    # nonzero mean ~ 2^k (free prediction); loose sanity bound at N = 32
    assert 2.0 < nonzero.mean() < 6.0


def test_mean_field_numerics_close_to_q_star():
    sw2, sb2 = 1.5, 0.3
    qs = th.q_star("erf", sw2, sb2)
    run = simulate_network("erf", width=256, depth=15, replicas=8, sigma_w2=sw2, sigma_b2=sb2, jacobian=False, rng=2)
    est = run.q[:, -1]
    se = est.std(ddof=1) / math.sqrt(est.size)
    assert abs(est.mean() - qs) < 5 * se + 0.02 * qs
    # negative control: the no-bias fixed point is far away
    assert abs(est.mean() - th.q_star("erf", sw2, 0.0)) > 5 * se


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_jacobian_vector_norms_have_the_law_of_explicit_jacobians(weights):
    """|J u|^2 of the O(R N) tangent sampler against explicit Jacobians (simulate_network) times an
    independent uniform unit u: two-sample KS (deterministic seeds) against 1e-3; the same test rejects
    explicit Jacobians one layer deeper (a realistic slip), so it has the power."""
    from scipy import stats as ss

    from degeneracy.numerics.isometry import jacobian_vector_norms

    n, L, R, sw2, sb2, qin = 16, 3, 3000, 1.8, 0.2, 0.7
    fast = jacobian_vector_norms("tanh", width=n, depth=L, replicas=R, sigma_w2=sw2, sigma_b2=sb2, weights=weights,
                                 q_input=qin, rng=1)
    g = np.random.default_rng(2)
    for depth, ok in ((L, True), (L + 1, False)):
        J = simulate_network("tanh", width=n, depth=depth, replicas=R, sigma_w2=sw2, sigma_b2=sb2, weights=weights,
                             q_input=qin, rng=3).jacobian
        u = g.standard_normal((R, n))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        slow = np.sum(np.einsum("rij,rj->ri", J, u) ** 2, axis=1)
        assert (ss.ks_2samp(fast, slow).pvalue > 1e-3) == ok, depth
