"""numerics.fisher: per-example Jacobians, Gauss-Newton matrix, near-zero counts, validation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from degeneracy.numerics import fisher as F
from degeneracy.theory import exact_rank as er
from degeneracy.theory import symbolic_networks as sn

EPS = np.finfo(float).eps


def _params(rng, n, widths, m, bias):
    dims = (n,) + tuple(widths)
    p = {f"W{l}": rng.standard_normal((dims[l], dims[l - 1])) for l in range(1, len(dims))}
    p["V"] = rng.standard_normal((m, widths[-1]))
    if bias:
        p.update({f"b{l}": rng.standard_normal(dims[l]) for l in range(1, len(dims))})
        p["c"] = rng.standard_normal(m)
    return p


archs = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.booleans(),
                  st.lists(st.booleans(), min_size=3, max_size=3), st.integers(0, 2**31 - 1))


@given(archs)
def test_jacobian_matches_central_differences(a):
    n, depth, m, bias, skips, seed = a
    rng = np.random.default_rng(seed)
    skip = tuple(skips[:depth])
    widths = tuple(n if s else int(rng.integers(1, 4)) for s in skip)
    if any(s and w != prev for s, w, prev in zip(skip, widths, (n,) + widths)):
        skip = (False,) * depth
    p = _params(rng, n, widths, m, bias)
    X = rng.standard_normal((5, n))
    J = F.per_example_jacobian(p, X, skip=skip)
    theta = F.flatten(p)
    h = 1e-6
    fd = np.empty_like(J)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        fp = F.forward(F.unflatten(theta + e, p), X, skip=skip)[0]
        fm = F.forward(F.unflatten(theta - e, p), X, skip=skip)[0]
        fd[:, :, k] = (fp - fm) / (2 * h)
    # central differences: O(h^2) truncation + O(eps |f| / h) rounding, both far below 1e-6
    assert np.max(np.abs(J - fd)) < 1e-6
    # negative control: a Jacobian with one column perturbed is detected
    J2 = J.copy()
    J2[:, :, 0] += 1e-4
    assert np.max(np.abs(J2 - fd)) > 1e-6


def test_jacobian_matches_theory_backward_pass_and_names():
    rng = np.random.default_rng(3)
    p = _params(rng, 3, (3, 3), 2, True)
    X = rng.standard_normal((4, 3))
    model = sn.two_hidden_layers(3, 3, 3, m=2, skip=True, bias=True)
    assert tuple(F.param_names(p)) == model.names
    vals = dict(zip(model.names, F.flatten(p)))
    Je = er.exact_jacobian(model, vals, X, act=np.tanh, dact=lambda z: 1 / np.cosh(z) ** 2).astype(float)
    J = F.per_example_jacobian(p, X, skip=True)
    assert np.allclose(J.reshape(-1, model.size), Je, atol=1e-13)
    # three layers, a skip on the middle one only
    p3 = _params(rng, 3, (3, 3, 3), 1, False)
    m3 = sn.network(3, (3, 3, 3), skip=(False, True, False))
    Je = er.exact_jacobian(m3, dict(zip(m3.names, F.flatten(p3))), X, act=np.tanh,
                           dact=lambda z: 1 / np.cosh(z) ** 2).astype(float)
    J = F.per_example_jacobian(p3, X, skip=m3.skip)
    assert np.allclose(J.reshape(-1, m3.size), Je, atol=1e-13)
    assert not np.allclose(F.per_example_jacobian(p3, X, skip=True).reshape(-1, m3.size), Je, atol=1e-6)


def test_gauss_newton_and_spectrum_agree():
    rng = np.random.default_rng(0)
    p = _params(rng, 2, (3,), 1, False)
    X = rng.standard_normal((40, 2))
    G = F.gauss_newton(p, X)
    J = F.per_example_jacobian(p, X)
    assert np.allclose(G, sum(J[b].T @ J[b] for b in range(40)) / 40)
    ev = np.sort(np.linalg.eigvalsh(G))[::-1]
    assert np.allclose(F.fisher_spectrum(p, X), ev, atol=1e-12 * ev[0])


def test_near_zero_count_overlap_and_generic_with_control():
    rng = np.random.default_rng(1)
    p = _params(rng, 3, (3,), 1, False)
    X = rng.standard_normal((60, 3))
    count, cut, gap = F.near_zero_count(F.fisher_singular_values(p, X))
    assert count == 0 and gap > 1e3
    p["W1"][2] = p["W1"][0]
    count, cut, gap = F.near_zero_count(F.fisher_singular_values(p, X))
    assert count == 3 + 1
    assert count != 3  # the control "n null directions" is wrong
    assert gap > 1e3


def test_rounding_cut_formula():
    s = np.array([4.0, 1.0, 0.0])
    assert F.rounding_cut(s, rows=10) == 10 * EPS * 4.0
    assert F.near_zero_count(s, rows=2)[0] == 1


@pytest.mark.parametrize(
    "params, msg",
    [
        ({"W1": np.zeros((2, 3))}, "at least 'W1' and 'V'"),
        ({"W1": np.zeros((2, 3)), "V": np.zeros((1, 3))}, "V must have shape"),
        ({"W1": np.zeros((2, 3)), "V": np.zeros((1, 2)), "b1": np.zeros(2)}, "all present or all absent"),
        ({"W1": np.zeros((2, 3)), "V": np.zeros((1, 2)), "Q": 1}, "unknown parameter"),
        ({"W1": np.zeros((2, 3)), "W2": np.zeros((2, 3)), "V": np.zeros((1, 2))}, "W2 must have shape"),
        ({"W1": np.zeros((2, 3)), "W3": np.zeros((2, 2)), "V": np.zeros((1, 2))}, "unknown parameter"),
        ({"W1": np.full((2, 3), np.nan), "V": np.zeros((1, 2))}, "finite"),
    ],
)
def test_bad_params(params, msg):
    with pytest.raises(ValueError, match=msg):
        F.per_example_jacobian(params, np.zeros((2, 3)))


def test_bad_inputs():
    p = {"W1": np.zeros((2, 3)), "V": np.zeros((1, 2))}
    with pytest.raises(ValueError, match=r"X must have shape \(B, 3\)"):
        F.per_example_jacobian(p, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="identity skips"):
        F.per_example_jacobian(p, np.zeros((2, 3)), skip=True)
    with pytest.raises(ValueError, match="one flag per hidden layer"):
        F.per_example_jacobian(p, np.zeros((2, 3)), skip=(False, False))
    with pytest.raises(TypeError, match="pair of callables"):
        F.per_example_jacobian(p, np.zeros((2, 3)), activation=(np.tanh,))
    with pytest.raises(ValueError, match="activation must be one of"):
        F.per_example_jacobian(p, np.zeros((2, 3)), activation="no_such_activation")
    with pytest.raises(TypeError, match="dict"):
        F.per_example_jacobian([1, 2], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="theta must have"):
        F.unflatten(np.zeros(3), p)
