"""Estimators behind the products claims: explicit trace moments and spectra, control variates,
the rotation-averaged origin bin, the Isserlis route and certified-generic Fold matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from degeneracy.numerics.control_variates import control_variate_mean
from degeneracy.numerics.graded_svd import product_log_singular_values
from degeneracy.numerics.naive_products import explicit_squared_singular_values, trace_moments
from degeneracy.numerics.product_eigenvalues import origin_bin_fraction, rotation_averaged_bin_fraction
from degeneracy.numerics.rng import as_generator


def test_trace_moments_equal_moments_of_the_spectrum():
    m = trace_moments(7, 3, 4, rng=5)
    x = explicit_squared_singular_values(7, 3, 4, rng=5)  # same stream: the same products
    np.testing.assert_allclose(m, np.stack([(x**k).mean(axis=1) for k in (1, 2, 3, 4)], axis=1), rtol=1e-10)
    from degeneracy.numerics.ensembles import gaussian

    W = gaussian(7, size=(3, 4), rng=as_generator(5))
    np.testing.assert_allclose(np.sort(2 * product_log_singular_values(W), axis=1), np.log(x), atol=1e-10)


def test_control_variates_are_unbiased_and_tighter():
    rng = np.random.default_rng(3)
    ests, plain = [], []
    for _ in range(200):
        x = rng.exponential(size=400)
        y = x**2 + rng.standard_normal(400)  # E y = 2, correlated with x (E x = 1, E x^2 = 2)
        ests.append(control_variate_mean(y, np.column_stack([x, x**2]), [1.0, 2.0]))
        plain.append(y.mean())
    est = np.array([e for e, _ in ests])
    se = np.array([s for _, s in ests])
    assert abs(est.mean() - 2.0) < 5 * est.std() / math.sqrt(est.size)  # unbiased (to O(1/R))
    assert est.std() < 0.5 * np.std(plain)  # and tighter
    assert abs(np.median(se) / est.std() - 1) < 0.2  # the stated standard error matches the spread
    with pytest.raises(ValueError, match="replicas"):
        control_variate_mean([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.0])
    with pytest.raises(ValueError, match="finite"):
        control_variate_mean([1.0, np.nan, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [0.0])


def test_rotation_average_has_the_same_mean_as_the_box():
    """For a rotation-invariant law, averaging the box indicator over rotations gives the same mean
    (checked with uniformly random phases on fixed moduli, by direct simulation)."""
    rng = np.random.default_rng(0)
    r = rng.uniform(0, 0.09, size=(20000, 5))
    z = r * np.exp(2j * np.pi * rng.uniform(size=r.shape))
    box = origin_bin_fraction(z)
    rb = rotation_averaged_bin_fraction(z)
    assert abs(box.mean() - rb.mean()) < 5 * box.std() / math.sqrt(box.size)
    assert rb.std() < box.std()
    np.testing.assert_allclose(rotation_averaged_bin_fraction(np.array([0.05 * np.sqrt(2) + 1e-12])), 0.0)
    np.testing.assert_allclose(rotation_averaged_bin_fraction(np.array([0.05])), 1.0)


def test_isserlis_route_reproduces_the_wick_coefficients():
    from fractions import Fraction as F

    from degeneracy.proofs.product_routes import second_moments_by_isserlis, wick_step_exact

    assert wick_step_exact(2, "real") == ((F(3, 2), F(1, 2)), (F(1), F(1)))
    assert wick_step_exact(3, "complex") == ((F(1), F(1, 3)), (F(1, 3), F(1)))
    # one real layer: E (1/n) tr (W^T W)^2 = 2 + 1/n (Wishart), E ((1/n) tr W^T W)^2 = 1 + 2/n^2
    assert second_moments_by_isserlis(2, 1) == (F(5, 2), F(3, 2))
    with pytest.raises(ValueError, match="n must be >= 2"):
        wick_step_exact(1)


def test_certified_generic_fold_matrices_have_the_stated_structure():
    from degeneracy.proofs.product_routes import exact_rank, generic_fold_integer_matrices

    for k in range(4):
        mats = generic_fold_integer_matrices(16, k, 3, np.random.default_rng(k))
        r = 16 >> k
        for M in mats:
            assert M.dtype == np.int64 and np.all(np.abs(M) <= 9)
            np.testing.assert_array_equal(M, np.tile(M[:r], (1 << k, 1)))  # Fold-k: top block tiled
            C = M[:r].reshape(r, 1 << k, r).sum(axis=1)
            assert exact_rank(C) == r  # the certified condition
        P = mats[2] @ mats[1] @ mats[0]
        assert exact_rank(P) == r
    assert exact_rank(np.array([[1, 2], [2, 4]])) == 1


def test_bartlett_coefficients_are_the_regression_of_log_gamma_on_its_first_two_powers():
    """Independent route: the covariances by quadrature of the Gamma density (scipy), solved numerically."""
    from scipy import integrate, stats

    from degeneracy.numerics.lyapunov_controls import bartlett_coefficients

    for s in (0.5, 1.0, 3.5, 8.0, 40.0):
        pdf = stats.gamma(s).pdf

        def e(f, s=s, pdf=pdf):
            return integrate.quad(lambda g: f(g) * pdf(g), 0, np.inf, limit=200, epsabs=0, epsrel=1e-11)[0]

        m1, m2, ml = e(lambda g: g), e(lambda g: g * g), e(np.log)
        cov = np.array([[e(lambda g: g * g) - m1 * m1, e(lambda g: g**3) - m1 * m2],
                        [e(lambda g: g**3) - m1 * m2, e(lambda g: g**4) - m2 * m2]])
        c = np.array([e(lambda g: g * np.log(g)) - m1 * ml, e(lambda g: g * g * np.log(g)) - m2 * ml])
        np.testing.assert_allclose(bartlett_coefficients(s), np.linalg.solve(cov, c), rtol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        bartlett_coefficients(0.0)


@pytest.mark.parametrize("field", ["real", "complex"])
def test_controlled_exponents_keep_the_mean_and_shrink_the_variance(field):
    """Same products as a plain engine run (same stream); the difference from the plain exponents
    has mean 0 (the controls' means are exact), the top exponent's variance falls many times, and the
    pooled control mean is 1."""
    from degeneracy.numerics.lyapunov_controls import controlled_lyapunov_exponents
    from degeneracy.numerics.qr_engine import lyapunov_qr

    n, L, R = 12, 6, 3000
    ex, control_mean = controlled_lyapunov_exponents(n, L, replicas=R, field=field, rng=7)
    plain = lyapunov_qr(n, L, replicas=R, field=field, rng=7).exponents
    d = ex - plain
    z = d.mean(axis=0) / (d.std(axis=0, ddof=1) / math.sqrt(R))
    assert np.all(np.abs(z) < 4.5), z
    assert ex[:, 0].var() < plain[:, 0].var() / 30
    assert abs(control_mean.mean() - 1) < 4.5 * control_mean.std(ddof=1) / math.sqrt(R)
    # rectangular factors and thin frames: the shapes follow the widths
    ex_r, c_r = controlled_lyapunov_exponents((10, 8, 6), 2, k=3, replicas=4, field=field, rng=0)
    assert ex_r.shape == (4, 3) and c_r.shape == (4,)


def test_trace_smoothing_has_the_mean_of_the_box_count_and_less_variance():
    """One complex Ginibre matrix: conditioning on the traceless part keeps the mean of the box count
    (checked against the exact finite-n bin fraction, an independent route) and shrinks the variance."""
    from degeneracy.numerics.product_eigenvalues import sample_product_eigenvalues, trace_smoothed_bin_fraction
    from degeneracy.proofs.product_routes import ginibre_origin_bin_fraction

    n, R = 4, 40000
    lam = sample_product_eigenvalues(n, 1, replicas=R, field="complex", rng=11)
    smooth, box = trace_smoothed_bin_fraction(lam), origin_bin_fraction(lam, width=0.3)
    exact = ginibre_origin_bin_fraction(n)
    assert abs(smooth.mean() - exact) < 4.5 * smooth.std(ddof=1) / math.sqrt(R)
    assert smooth.var() < rotation_averaged_bin_fraction(lam).var() / 20
    wide = trace_smoothed_bin_fraction(lam, width=0.3)  # a wider bin: against the plain box count
    assert abs(wide.mean() - box.mean()) < 4.5 * box.std(ddof=1) / math.sqrt(R)
    with pytest.raises(ValueError, match="at least 2"):
        trace_smoothed_bin_fraction(np.zeros((3, 1)))


@pytest.mark.parametrize("n, depth, k", [(16, 3, 2), (32, 4, 1), (8, 2, 3), (12, 1, 2)])
def test_fold_block_route_equals_the_explicit_product(n, depth, k):
    """The block route's nonzero spectrum equals the N/2^k largest squared singular values of the
    explicitly multiplied Fold matrices (numerics.ensembles.fold of the same draws); the layer-by-layer
    sampler gives the same numbers as the stacked blocks from the same stream."""
    from degeneracy.numerics import ensembles
    from degeneracy.numerics.fold_products import (
        fold_product_nonzero_spectrum,
        fold_top_blocks,
        sample_fold_product_nonzero_spectrum,
    )

    T = fold_top_blocks(n, depth, k, replicas=3, rng=1)
    r = n >> k
    full = np.concatenate([T, np.zeros(T.shape[:2] + (n - r, n))], axis=2)
    F = ensembles.fold(full, k)  # (L, R, n, n): the Fold-k matrices of Gaussian matrices with these top rows
    P = F[0]
    for W in F[1:]:
        P = W @ P
    s = np.linalg.svd(P, compute_uv=False)
    explicit = np.sort(s * s, axis=-1)
    red = fold_product_nonzero_spectrum(T, k)
    np.testing.assert_allclose(red, explicit[:, n - r:], rtol=1e-9)
    assert np.all(explicit[:, :n - r] < 1e-20 * explicit[:, -1:])  # the rest is zero (rank n/2^k)
    np.testing.assert_allclose(sample_fold_product_nonzero_spectrum(n, depth, k, replicas=3, rng=1), red, rtol=1e-12)
    with pytest.raises(ValueError, match="divisible"):
        fold_top_blocks(12, 2, 3, replicas=1)
