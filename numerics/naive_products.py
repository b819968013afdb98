"""Explicitly multiplied products: where plain multiplication fails, and where it is fine.

Never multiply many Gaussian matrices and call ``svd``. In float64, ``svd(W_L ... W_1)``
returns every singular value below ``eps * sigma_1`` as rounding noise, so it loses every index
with ``L (mu_1 - mu_i) > -log(eps) ~ 36`` (docs/formulas.md §1; half the spectrum at L = 100 for
N = 64); at larger depth the product itself over- or underflows.
:func:`naive_product_singular_values` and :func:`naive_breakdown` are kept to demonstrate that
failure; use :mod:`numerics.graded_svd` (every singular value, accurate) or
:mod:`numerics.qr_engine` (exponents) instead. For orthogonal / unitary factors plain
multiplication is accurate (:func:`isometry_defect`): each product adds a rounding error of order
``sqrt(n) eps``. It is also fine for quantities carried by the large singular values of short
products -- trace moments (:func:`trace_moments`) and counts of squared singular values above a
threshold far from ``eps ||P||^2`` (:func:`explicit_squared_singular_values`) -- and much cheaper
there than the graded route.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from degeneracy.errors import NumericalFailure
from degeneracy.numerics.ensembles import FIELDS, gaussian, haar
from degeneracy.numerics.factors import factor_source
from degeneracy.numerics.graded_svd import product_log_singular_values
from degeneracy.numerics.rng import RNGLike, as_generator
from degeneracy.validation import check_choice, check_positive_int, check_real

__all__ = ["multiply", "naive_product_singular_values", "NaiveBreakdown", "naive_breakdown", "isometry_defect",
           "sample_isometry_defect", "trace_moments", "explicit_squared_singular_values"]


def multiply(factors) -> np.ndarray:
    """``P = factors[-1] @ ... @ factors[0]`` by plain accumulation ``P <- W P``.

    Accepts the forms of :func:`numerics.factors.factor_source` (stacks ``(L, n, n)`` /
    ``(L, R, n, n)``, lists or generators of chaining matrices). Fine for well-conditioned
    factors (orthogonal ones, or short products); the entries over- or underflow at large depth
    otherwise.

    >>> multiply(np.stack([np.eye(2) * 2, np.eye(2) * 3])).tolist()
    [[6.0, 0.0], [0.0, 6.0]]
    >>> multiply([np.ones((3, 2)), np.ones((1, 3))]).tolist()
    [[3.0, 3.0]]
    """
    src, batched = factor_source(factors)
    P = None
    for block in src:
        P = np.array(block, copy=True) if P is None else np.matmul(block, P)
    return P if batched else P[0]

def naive_product_singular_values(factors) -> np.ndarray:
    """Singular values of the explicitly multiplied product. **Wrong at depth; do not use.**

    Computes ``svd(W_L ... W_1)`` in float64. Every singular value below roughly
    ``eps * sigma_1`` comes back as rounding noise, so every index with
    ``L (mu_1 - mu_i) > -log(eps) ~ 36`` is lost (docs/formulas.md §1); at very large depth
    the product itself over/underflows (values become 0 or inf). Kept only to demonstrate
    the failure (:func:`naive_breakdown`); use :func:`product_log_singular_values`.

    Returns
    -------
    ndarray (n,) or (R, n), descending (not logs); ``n = min(N_L, N_0)``.

    >>> rng = np.random.default_rng(0)
    >>> W = rng.standard_normal((100, 8, 8)) / np.sqrt(8)
    >>> naive = np.log(naive_product_singular_values(W))
    >>> exact = product_log_singular_values(W)
    >>> bool(abs(naive[0] - exact[0]) < 1e-8), bool(abs(naive[-1] - exact[-1]) > 10)
    (True, True)
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        P = multiply(factors)
    if not np.all(np.isfinite(P)):
        raise NumericalFailure("the explicit product overflowed in float64 (that is part of the failure)")
    return np.linalg.svd(P, compute_uv=False)


@dataclass(frozen=True)
class NaiveBreakdown:
    """Comparison of naive and stable singular values of the same products.

    Attributes
    ----------
    stable_log_sv : ndarray (R, n)
        Accurate ``log sigma_i`` (descending).
    naive_log_sv : ndarray (R, n)
        ``log`` of the naive singular values (``-inf`` where the naive value is 0).
    log_error : ndarray (R, n)
        ``|naive_log_sv - stable_log_sv|`` (inf where the naive value is 0 or inf).
    lost : ndarray of bool (R, n)
        ``log_error > log(1 + rtol)``: the naive value is off by more than ``rtol``.
    """

    stable_log_sv: np.ndarray
    naive_log_sv: np.ndarray
    log_error: np.ndarray
    lost: np.ndarray

    @property
    def first_lost(self) -> np.ndarray:
        """Per replica, the smallest 0-based index that is lost (``n`` if none is)."""
        n = self.lost.shape[-1]
        return np.where(self.lost.any(axis=-1), np.argmax(self.lost, axis=-1), n)


def naive_breakdown(factors, *, rtol: float = 1e-2) -> NaiveBreakdown:
    """Which singular values does the naive product + svd lose? (docs/formulas.md §1)

    Compares :func:`naive_product_singular_values` with
    :func:`product_log_singular_values` on the same factors; index i is *lost* when the naive
    value is off by a relative error above ``rtol``. The prediction to compare with is
    ``L (mu_1 - mu_i) > -log(eps)``.

    >>> W = np.random.default_rng(1).standard_normal((100, 8, 8)) / np.sqrt(8)
    >>> b = naive_breakdown(W)
    >>> bool(b.lost[0, 0]), bool(b.lost[0, -1]), 0 < int(b.first_lost[0]) < 8
    (False, True, True)
    """
    rtol = check_real("rtol", rtol, lo=0.0, lo_open=True)
    src, _ = factor_source(factors)
    blocks = list(src)  # replica stacks (R, N_l, N_(l-1)): read twice, so a generator is materialized
    stable = product_log_singular_values(blocks)
    naive = naive_product_singular_values(blocks)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        nlog = np.log(naive)
        err = np.abs(nlog - stable)
    err = np.where(np.isfinite(err), err, np.inf)
    nlog = np.where(np.isnan(nlog), -np.inf, nlog)
    return NaiveBreakdown(stable, nlog, err, err > math.log1p(rtol))


def isometry_defect(factors) -> np.ndarray:
    """``max_i |sigma_i(P) - 1|`` of the explicitly multiplied product, per replica.

    For orthogonal/unitary factors this is pure rounding: each multiplication adds an error of
    order ``sqrt(n) eps`` relative, so the defect stays below a small multiple of
    ``L sqrt(n) eps`` (about 1e-12 at L = 1000, n = 64). For such well-conditioned factors
    plain multiplication is accurate, which is why it is used here.

    >>> Q = np.stack([np.eye(3)] * 5)
    >>> isometry_defect(Q).tolist()
    [0.0]
    """
    src, _ = factor_source(factors)
    P = None
    for block in src:
        P = np.array(block, copy=True) if P is None else np.matmul(block, P)
    s = np.linalg.svd(P, compute_uv=False)
    return np.max(np.abs(s - 1.0), axis=-1)


def sample_isometry_defect(
    n: int,
    depth: int,
    *,
    replicas: int = 1,
    field: str = "real",
    rng: RNGLike = None,
) -> np.ndarray:
    """:func:`isometry_defect` of ``replicas`` products of ``depth`` Haar orthogonal/unitary
    matrices, drawn layer by layer (memory O(R n^2)). Shape (R,).

    >>> bool(sample_isometry_defect(8, 1000, replicas=2, rng=0).max() < 1e-12)
    True
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    replicas = check_positive_int("replicas", replicas)
    check_choice("field", field, FIELDS)
    g = as_generator(rng)
    P = haar(n, size=replicas, field=field, rng=g)
    for _ in range(depth - 1):
        P = np.matmul(haar(n, size=replicas, field=field, rng=g), P)
    s = np.linalg.svd(P, compute_uv=False)
    return np.max(np.abs(s - 1.0), axis=-1)


# ---------------------------------------------------------------- where explicit products are fine

def trace_moments(n: int, depth: int, replicas: int, rng: RNGLike = None, *, chunk: int = 2000) -> np.ndarray:
    """Per replica ``(1/n) tr (P^T P)^k``, k = 1..4, for products of ``depth`` real Gaussian ``n x n``
    matrices (one row per replica, shape (R, 4)).

    The product is multiplied explicitly and ``G = P^T P``: at the depths used here (<= 5) the
    moments are carried by the large singular values, so rounding is harmless (relative
    ``~ depth n eps``); ``tr G^3 = sum(G^2 * G)`` and ``tr G^4 = ||G^2||_F^2`` (G symmetric).
    Drawn in chunks of ``chunk`` replicas (bounded memory).

    >>> m = trace_moments(8, 2, 5, rng=0)
    >>> m.shape, bool(np.all(m > 0))
    ((5, 4), True)
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    replicas = check_positive_int("replicas", replicas)
    g = as_generator(rng)
    out = []
    for start in range(0, replicas, chunk):
        r = min(chunk, replicas - start)
        P = multiply(gaussian(n, size=(depth, r), rng=g))
        G = np.matmul(np.swapaxes(P, -1, -2), P)
        G2 = np.matmul(G, G)
        out.append(np.stack([np.trace(G, axis1=-2, axis2=-1), np.trace(G2, axis1=-2, axis2=-1),
                             np.sum(G2 * G, axis=(-2, -1)), np.sum(G2 * G2, axis=(-2, -1))], axis=1) / n)
    return np.concatenate(out)


def explicit_squared_singular_values(n: int, depth: int, replicas: int, rng: RNGLike = None, *,
                                     chunk: int = 200) -> np.ndarray:
    """Squared singular values (R, n), ascending, of products of ``depth`` real Gaussian ``n x n``
    matrices, by ``eigvalsh(P^T P)`` of the explicitly multiplied product.

    Accurate in absolute terms to about ``n eps ||P||^2`` (Weyl's inequality; ``||P||^2 <= (L+1)^(L+1)/L^L``
    ~ 46 at depth 16 in the limit), i.e. ~1e-12: ample for counting values below ``1e-3`` and for
    moments, though not for the smallest singular values themselves (use
    :func:`numerics.graded_svd.product_log_singular_values` for those).

    >>> explicit_squared_singular_values(6, 3, 2, rng=0).shape
    (2, 6)
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    replicas = check_positive_int("replicas", replicas)
    g = as_generator(rng)
    out = []
    for start in range(0, replicas, chunk):
        P = multiply(gaussian(n, size=(depth, min(chunk, replicas - start)), rng=g))
        out.append(np.linalg.eigvalsh(np.matmul(np.swapaxes(P, -1, -2), P)))
    return np.concatenate(out)
