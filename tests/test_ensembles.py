"""Samplers of numerics.ensembles: shapes, draw order, moments (with negative controls),
Haar invariance, Fold-k rank, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from degeneracy.numerics import strategies as dst
from degeneracy.numerics.ensembles import (
    batch_shape,
    fold,
    fold_gaussian,
    gaussian,
    haar,
    haar_orthogonal,
    haar_unitary,
)
from degeneracy.numerics.rng import as_generator

Z_MAX = 5.0  # fixed seeds; a 5-sigma bound fails by chance with probability ~6e-7


def zscore(samples: np.ndarray, theory: float) -> float:
    """z of the sample mean of i.i.d. ``samples`` against ``theory``."""
    samples = np.asarray(samples, dtype=float).ravel()
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    return float((samples.mean() - theory) / se)


# ---------------------------------------------------------------- shapes and draw order


@pytest.mark.parametrize(
    "size, expected",
    [(None, (5, 3)), (4, (4, 5, 3)), ((2, 3), (2, 3, 5, 3)), (0, (0, 5, 3))],
)
@pytest.mark.parametrize("field", ["real", "complex"])
def test_gaussian_shapes_and_dtypes(size, expected, field):
    W = gaussian(3, m=5, size=size, field=field, rng=0)
    assert W.shape == expected
    assert W.dtype == (np.float64 if field == "real" else np.complex128)


def test_draw_order_is_per_matrix_and_batch_split_invariant():
    g1 = as_generator(7)
    block = gaussian(4, size=(3, 2), rng=g1)
    g2 = as_generator(7)
    one_by_one = np.stack([np.stack([gaussian(4, rng=g2) for _ in range(2)]) for _ in range(3)])
    np.testing.assert_array_equal(block, one_by_one)
    # each matrix consumes its normals column by column (documented, used by the QR engine)
    x = as_generator(7).standard_normal(16)
    np.testing.assert_array_equal(block[0, 0], x.reshape(4, 4).T / 2.0)


def test_same_seed_same_matrices_and_different_seed_differs():
    np.testing.assert_array_equal(haar_orthogonal(5, size=2, rng=3), haar_orthogonal(5, size=2, rng=3))
    assert not np.allclose(gaussian(5, rng=3), gaussian(5, rng=4))


# ---------------------------------------------------------------- Gaussian moments


def test_real_gaussian_variance_and_kurtosis():
    n = 64
    W = gaussian(n, size=50, rng=11)  # 204800 entries
    x2 = n * W.ravel() ** 2  # E = 1, Var = 2
    assert abs(zscore(x2, 1.0)) < Z_MAX
    assert abs(zscore(W.ravel() * np.sqrt(n), 0.0)) < Z_MAX
    assert abs(zscore(x2**2, 3.0)) < Z_MAX  # Gaussian fourth moment
    # negative control: a 2% error in the variance (1.02/n) is detected
    assert abs(zscore(x2, 1.02)) > Z_MAX
    # negative control: a uniform variable of the same variance fails the kurtosis check
    u = as_generator(0).uniform(-np.sqrt(3), np.sqrt(3), size=x2.size) ** 2
    assert abs(zscore(u**2, 3.0)) > Z_MAX


def test_complex_gaussian_moments():
    n = 32
    Z = gaussian(n, size=100, field="complex", rng=12).ravel()  # 102400 entries
    assert abs(zscore(n * np.abs(Z) ** 2, 1.0)) < Z_MAX  # E|z|^2 = 1/n
    assert abs(zscore(2 * n * Z.real**2, 1.0)) < Z_MAX  # real and imaginary parts 1/(2n)
    assert abs(zscore(2 * n * Z.imag**2, 1.0)) < Z_MAX
    assert abs(zscore(n * (Z**2).real, 0.0)) < Z_MAX  # E z^2 = 0 (circular)
    assert abs(zscore(n * Z.real * Z.imag, 0.0)) < Z_MAX
    # negative control: the real-field normalization (E|z|^2 = 2/n) would be detected
    assert abs(zscore(n * np.abs(Z) ** 2, 2.0)) > Z_MAX


def test_rectangular_variance_uses_fan_in():
    W = gaussian(16, m=48, size=200, rng=13)
    assert W.shape == (200, 48, 16)
    x2 = 16 * W.ravel() ** 2
    assert abs(zscore(x2, 1.0)) < Z_MAX
    assert abs(zscore(x2, 16 / 48)) > Z_MAX  # fan-out normalization would be wrong


# ---------------------------------------------------------------- Haar


@given(dst.orthogonal_matrices(field=dst.fields(), batch=st.integers(1, 3)))
def test_haar_is_orthogonal_or_unitary(Q):
    n = Q.shape[-1]
    QhQ = np.conj(np.swapaxes(Q, -1, -2)) @ Q
    np.testing.assert_allclose(QhQ, np.broadcast_to(np.eye(n), QhQ.shape), atol=1e-13)


@pytest.mark.parametrize("field", ["real", "complex"])
def test_haar_trace_moments_and_sign_fix_negative_control(field):
    # For Haar O(n), U(n) with n >= 2: E tr Q = 0 and E |tr Q|^2 = 1 (Diaconis & Shahshahani 1994).
    n, R = 6, 20000
    Q = haar(n, size=R, field=field, rng=21)
    tr = np.trace(Q, axis1=-2, axis2=-1)
    assert abs(zscore(np.abs(tr) ** 2, 1.0)) < Z_MAX
    assert abs(zscore(tr.real, 0.0)) < Z_MAX
    # E Q_11 = 0 for Haar; the raw Householder Q (no sign fix) has Q_11 = -|G_11|/|g_1| < 0
    assert abs(zscore(Q[:, 0, 0].real, 0.0)) < Z_MAX
    G = gaussian(n, size=R, field=field, rng=21)
    Qraw, _ = np.linalg.qr(G)
    assert abs(zscore(Qraw[:, 0, 0].real, 0.0)) > Z_MAX
    assert abs(zscore(np.abs(np.trace(Qraw, axis1=-2, axis2=-1)) ** 2, 1.0)) > Z_MAX


def test_haar_entry_moments():
    # E Q_ij^2 = 1/n, E Q_ij^4 = 3/(n(n+2)) for Haar O(n)
    n = 5
    q = haar_orthogonal(n, size=40000, rng=22)[:, 1, 2]
    assert abs(zscore(n * q**2, 1.0)) < Z_MAX
    assert abs(zscore(q**4, 3 / (n * (n + 2)))) < Z_MAX
    assert abs(zscore(q**4, 3 / n**2)) > Z_MAX  # the Gaussian value is detectably wrong


def test_haar_unitary_dtype():
    U = haar_unitary(3, size=2, rng=0)
    assert U.dtype == np.complex128 and U.shape == (2, 3, 3)


# ---------------------------------------------------------------- Fold-k


@given(dst.fold_matrices(field=dst.fields(), batch=st.sampled_from([None, 2])))
def test_fold_rank_and_row_structure(kW):
    k, W = kW
    n = W.shape[-1]
    top = n >> k
    assert np.all(np.linalg.matrix_rank(W) == top)
    for j in range(1 << k):
        np.testing.assert_array_equal(W[..., j * top : (j + 1) * top, :], W[..., :top, :])


@given(k=dst.fold_counts(), m=st.integers(1, 4), depth=st.integers(1, 5), seed=dst.seeds())
def test_fold_product_rank(k, m, depth, seed):
    n = m << k
    Ws = fold_gaussian(n, k, size=depth, rng=seed)
    P = Ws[0]
    for W in Ws[1:]:
        P = W @ P
    assert np.linalg.matrix_rank(P) == n >> k
    # negative control: the unfolded product has full rank
    G = gaussian(n, size=depth, rng=seed)
    P0 = G[0]
    for W in G[1:]:
        P0 = W @ P0
    assert np.linalg.matrix_rank(P0) == n


def test_fold_definition_small():
    W = np.arange(8.0 * 3).reshape(8, 3)
    np.testing.assert_array_equal(fold(W, 0), W)
    assert fold(W, 0) is not W
    np.testing.assert_array_equal(fold(W, 1)[4:], W[:4])
    np.testing.assert_array_equal(fold(W, 2), np.tile(W[:2], (4, 1)))
    np.testing.assert_array_equal(fold(W, 3), np.tile(W[:1], (8, 1)))
    # folding k times equals the recursive description: fold the upper block again
    once = fold(W, 1)
    again = once.copy()
    again[2:4] = again[0:2]
    again[4:] = again[:4]
    np.testing.assert_array_equal(fold(W, 2), again)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: gaussian(0), ValueError, "n must be a positive integer"),
        (lambda: gaussian(-3), ValueError, "n must be"),
        (lambda: gaussian(2.5), TypeError, "n must be"),
        (lambda: gaussian("4"), TypeError, "n must be"),
        (lambda: gaussian(True), TypeError, "n must be"),
        (lambda: gaussian(3, m=0), ValueError, "m must be"),
        (lambda: gaussian(3, field="quaternion"), ValueError, "field must be one of"),
        (lambda: gaussian(3, size=-1), ValueError, "size must be"),
        (lambda: gaussian(3, size=(2, "a")), TypeError, "size[1]"),
        (lambda: gaussian(3, size="3"), TypeError, "size must be"),
        (lambda: gaussian(3, rng="seed"), TypeError, "rng must be"),
        (lambda: gaussian(3, rng=-1), ValueError, "rng seed"),
        (lambda: haar_orthogonal(0), ValueError, "n must be"),
        (lambda: fold(np.ones((6, 6)), 2), ValueError, "divisible by 2**k = 4"),
        (lambda: fold(np.ones((3, 3)), 1), ValueError, "divisible"),
        (lambda: fold(np.ones((4, 4)), -1), ValueError, "k must be"),
        (lambda: fold(np.ones((4, 4)), 1.5), TypeError, "k must be"),
        (lambda: fold(np.ones(4), 1), ValueError, "at least 2 dimensions"),
        (lambda: fold(np.array([[np.nan, 1.0], [1.0, 1.0]]), 1), ValueError, "finite"),
        (lambda: fold_gaussian(6, 2), ValueError, "n divisible"),
    ],
)
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


def test_batch_shape_normalizes():
    assert batch_shape(None) == () and batch_shape(2) == (2,) and batch_shape([1, 2]) == (1, 2)
