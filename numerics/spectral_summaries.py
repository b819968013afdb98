"""Spectral summaries of singular-value spectra: how degenerate is a product?

Batched over leading axes (the last axis is the spectrum), and computed in the log domain, so the
log singular values of deep products (:func:`numerics.graded_svd.product_log_singular_values`,
pass ``log=True``) never overflow. For eigenvalues of covariance, Gram or Gauss-Newton matrices
use :func:`numerics.measures.participation_ratio` (unnormalized, between 1 and N);
:func:`normalized_participation_ratio` of singular values ``s`` equals
``measures.participation_ratio(s**2) / N``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from degeneracy.errors import ArgumentValueError
from degeneracy.validation import check_finite_array, check_real

__all__ = ["normalized_participation_ratio", "fraction_below", "log_condition_number"]


def _as_log_sv(s, log: bool, name: str = "s") -> np.ndarray:
    if log:
        arr = np.asarray(s, dtype=np.float64)
        if np.any(np.isnan(arr)) or np.any(arr == np.inf):
            raise ArgumentValueError(f"{name} (log singular values) must not contain NaN or +inf")
    else:
        arr = check_finite_array(name, s)
        if np.any(arr < 0):
            raise ArgumentValueError(f"{name} (singular values) must be non-negative")
        with np.errstate(divide="ignore"):
            arr = np.log(arr)
    if arr.ndim < 1 or arr.shape[-1] == 0:
        raise ArgumentValueError(f"{name} must have a non-empty last axis (the spectrum)")
    return arr


def normalized_participation_ratio(s, *, log: bool = False) -> np.ndarray:
    """Normalized participation ratio ``(sum_i s_i^2)^2 / (N sum_i s_i^4)`` of singular values ``s``.

    1 for an isometry, ``1/N`` for rank one; for products of ``L`` Gaussian matrices it tends
    to ``1/(L+1)`` as N -> inf (Fuss–Catalan: m_2 = L + 1 with m_1 = 1). Computed in the log
    domain, so ``log=True`` input (log singular values, e.g. from
    :func:`numerics.graded_svd.product_log_singular_values`) never overflows. Batched over leading axes.

    It is :func:`numerics.measures.participation_ratio` of the squared singular values divided
    by N (between ``1/N`` and 1).

    >>> normalized_participation_ratio(np.ones(4)).item()
    1.0
    >>> normalized_participation_ratio(np.array([1.0, 0, 0, 0])).item()
    0.25
    """
    ls = _as_log_sv(s, log)
    if np.all(np.isneginf(ls), axis=-1).any():
        raise ArgumentValueError("participation ratio of an all-zero spectrum is undefined")
    N = ls.shape[-1]
    return np.exp(2 * logsumexp(2 * ls, axis=-1) - logsumexp(4 * ls, axis=-1) - math.log(N))


def fraction_below(s, eps: float, *, log: bool = False) -> np.ndarray:
    """Fraction of *squared* singular values below ``eps`` (``s_i^2 < eps``), batched.

    >>> fraction_below(np.array([1.0, 0.1, 1e-3]), 1e-4).item()
    0.3333333333333333
    """
    eps = check_real("eps", eps, lo=0.0, lo_open=True)
    ls = _as_log_sv(s, log)
    return (2 * ls < math.log(eps)).mean(axis=-1)


def log_condition_number(s, *, log: bool = False) -> np.ndarray:
    """``log(s_max / s_min)``, batched; ``inf`` for a singular spectrum.

    For products of L Gaussian matrices it grows like ``L (mu_1 - mu_N)``.

    >>> log_condition_number(np.array([0.0, 1.0, 2.0]), log=True).item()
    2.0
    """
    ls = _as_log_sv(s, log)
    return ls.max(axis=-1) - ls.min(axis=-1)

