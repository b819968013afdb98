"""Random weight matrices: Gaussian, Haar orthogonal / unitary, and Fold-k.

Conventions (docs/formulas.md, "Conventions"): an ``m x n`` weight matrix maps R^n to R^m;
"Gaussian" means i.i.d. entries of variance ``1/n`` (the fan-in; complex: E|z|^2 = 1/n with
independent real and imaginary parts of variance ``1/(2n)``); "orthogonal" means Haar
orthogonal, obtained as the Q factor of a Gaussian matrix whose columns are multiplied by the
signs of diag R (Mezzadri, *How to generate random matrices from the classical compact groups*,
Notices AMS 54 (2007), section 5; the phases ``r_ii/|r_ii|`` for unitary matrices).

Every sampler has a leading batch dimension: ``size=None`` gives one matrix of shape
``(m, n)``, ``size=R`` gives ``(R, m, n)`` and ``size=(a, b)`` gives ``(a, b, m, n)``.
Draw order is fixed and documented: the normals fill a C-ordered array of shape
``size + (n, m)`` that is then viewed transposed, so matrix ``r`` consumes ``m*n`` consecutive
normals column by column. The QR engine of :mod:`numerics.qr_engine` fills its
Fortran-ordered LAPACK buffers in the same order, so the engine sees exactly the matrices that
:func:`gaussian` returns for the same generator state.
"""

from __future__ import annotations

import numbers
from typing import Sequence, Union

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.numerics.rng import RNGLike, as_generator
from degeneracy.validation import (
    check_choice,
    check_finite_array,
    check_int,
    check_positive_int,
)

__all__ = [
    "FIELDS",
    "gaussian",
    "haar_orthogonal",
    "haar_unitary",
    "haar",
    "fold",
    "fold_gaussian",
    "batch_shape",
]

FIELDS = ("real", "complex")

SizeLike = Union[None, int, Sequence[int]]


def batch_shape(size: SizeLike, name: str = "size") -> tuple[int, ...]:
    """Normalize a ``size=`` argument into a tuple of non-negative ints.

    ``None`` means no batch dimension; an int ``R`` means ``(R,)``.

    >>> batch_shape(None), batch_shape(3), batch_shape((2, 4))
    ((), (3,), (2, 4))
    >>> batch_shape(-1)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: size must be an integer >= 0, got -1
    """
    if size is None:
        return ()
    if isinstance(size, (numbers.Integral, float, np.floating)) and not isinstance(size, bool):
        return (check_int(name, size, minimum=0),)
    if isinstance(size, (tuple, list)):
        return tuple(check_int(f"{name}[{i}]", s, minimum=0) for i, s in enumerate(size))
    raise ArgumentTypeError(f"{name} must be None, a non-negative integer or a tuple of them, got {size!r}")


def _draw_normals(g: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normals into a preallocated float64 array (fast path of the Generator)."""
    out = np.empty(shape, dtype=np.float64)
    g.standard_normal(out=out)
    return out


def gaussian(
    n: int,
    *,
    size: SizeLike = None,
    field: str = "real",
    rng: RNGLike = None,
    m: int | None = None,
) -> np.ndarray:
    """Gaussian weight matrices with i.i.d. entries of variance ``1/n``.

    Parameters
    ----------
    n : int
        Number of columns (the fan-in); the entries have variance ``1/n``.
    size : None, int or tuple of int
        Batch shape; the result has shape ``size + (m, n)``.
    field : {"real", "complex"}
        Complex entries are ``(x + i y)/sqrt(2n)`` with x, y standard normal, so
        ``E|z|^2 = 1/n`` and ``E z^2 = 0`` (the Ginibre ensemble).
    rng : Generator, int, SeedSequence or None
    m : int, optional
        Number of rows (default ``n``).

    Returns
    -------
    ndarray of float64 or complex128, shape ``size + (m, n)``.

    Examples
    --------
    >>> W = gaussian(4, size=2, rng=0)
    >>> W.shape, W.dtype
    ((2, 4, 4), dtype('float64'))
    >>> gaussian(3, m=5, field="complex", rng=1).shape
    (5, 3)
    >>> gaussian(0)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: n must be a positive integer, got 0
    """
    n = check_positive_int("n", n)
    m = n if m is None else check_positive_int("m", m)
    check_choice("field", field, FIELDS)
    batch = batch_shape(size)
    g = as_generator(rng)
    if field == "real":
        a = _draw_normals(g, batch + (n, m))
        a *= 1.0 / np.sqrt(n)
        return np.swapaxes(a, -1, -2)
    a = _draw_normals(g, batch + (n, m, 2))
    a *= 1.0 / np.sqrt(2.0 * n)
    return np.swapaxes(a.view(np.complex128)[..., 0], -1, -2)


def _phase_fix(Q: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Multiply column j of Q by the phase of R_jj (Mezzadri 2007); a zero R_jj counts as +1."""
    d = np.diagonal(R, axis1=-2, axis2=-1)
    ad = np.abs(d)
    phase = np.where(ad > 0, d / np.where(ad > 0, ad, 1.0), 1.0)
    return Q * phase[..., None, :]


def haar(n: int, *, size: SizeLike = None, field: str = "real", rng: RNGLike = None) -> np.ndarray:
    """Haar-distributed orthogonal (``field="real"``) or unitary (``"complex"``) matrices.

    ``Q R = G`` for a Gaussian ``G`` (batched ``numpy.linalg.qr``), then each column of Q is
    multiplied by the phase of the matching diagonal entry of R, which makes the law of Q
    invariant (Mezzadri 2007, section 5). Uses the same normals as :func:`gaussian`.

    >>> Q = haar(5, size=3, rng=0)
    >>> bool(np.allclose(Q @ np.swapaxes(Q, -1, -2), np.eye(5)))
    True
    """
    G = gaussian(n, size=size, field=field, rng=rng)
    Q, R = np.linalg.qr(G)
    return _phase_fix(Q, R)


def haar_orthogonal(n: int, *, size: SizeLike = None, rng: RNGLike = None) -> np.ndarray:
    """Haar orthogonal ``n x n`` matrices, shape ``size + (n, n)``; see :func:`haar`.

    >>> Q = haar_orthogonal(4, rng=2)
    >>> bool(np.allclose(Q.T @ Q, np.eye(4)))
    True
    """
    return haar(n, size=size, field="real", rng=rng)


def haar_unitary(n: int, *, size: SizeLike = None, rng: RNGLike = None) -> np.ndarray:
    """Haar unitary ``n x n`` matrices (complex128), shape ``size + (n, n)``; see :func:`haar`.

    >>> U = haar_unitary(3, size=2, rng=0)
    >>> bool(np.allclose(U @ np.conj(np.swapaxes(U, -1, -2)), np.eye(3)))
    True
    """
    return haar(n, size=size, field="complex", rng=rng)


def fold(W, k: int) -> np.ndarray:
    """Fold-k of a weight matrix (Orhan 2018; docs/formulas.md §3).

    One fold copies the upper half of the rows onto the lower half; Fold-k repeats this
    ``k`` times, each time on the block of rows that is still free (the upper half of the
    previous block). The result is

        ``fold(W, k)[i, :] = W[i mod (m / 2^k), :]``,   i = 0 .. m-1,

    i.e. the first ``m/2^k`` rows tiled ``2^k`` times, so its rank is at most ``m/2^k`` (exactly
    that for a generic ``W``). ``k = 0`` returns a copy. Only row counts divisible by ``2^k``
    are accepted: the essay defines the operation for width 64 only, and any rule for odd
    halves would be an invention. Works on stacks (``W`` of shape ``(..., m, n)``, folded along
    the rows of each matrix); returns a new array.

    Examples
    --------
    >>> W = np.arange(16.0).reshape(4, 4)
    >>> fold(W, 1)[:, 0]
    array([0., 4., 0., 4.])
    >>> fold(W, 2)[:, 0]
    array([0., 0., 0., 0.])
    >>> fold(np.ones((6, 6)), 2)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: fold needs a row count divisible by 2**k = 4, got 6 rows (k=2)
    """
    k = check_int("k", k, minimum=0)
    arr = check_finite_array("W", W, dtype=None)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.complexfloating)):
        arr = arr.astype(np.float64)
    if arr.ndim < 2:
        raise ArgumentValueError(f"W must have at least 2 dimensions (a matrix or a stack), got shape {arr.shape}")
    m = arr.shape[-2]
    if m % (1 << k) != 0 or (k > 0 and m < (1 << k)):
        raise ArgumentValueError(
            f"fold needs a row count divisible by 2**k = {1 << k}, got {m} rows (k={k})"
        )
    top = m >> k
    reps = (1,) * (arr.ndim - 2) + (1 << k, 1)
    return np.tile(arr[..., :top, :], reps)


def fold_gaussian(
    n: int,
    k: int,
    *,
    size: SizeLike = None,
    field: str = "real",
    rng: RNGLike = None,
) -> np.ndarray:
    """Fold-k of Gaussian ``n x n`` matrices (entries of variance ``1/n`` before folding).

    Rank ``n / 2^k`` with probability one. Shape ``size + (n, n)``.

    >>> W = fold_gaussian(8, 2, size=3, rng=0)
    >>> np.linalg.matrix_rank(W).tolist()
    [2, 2, 2]
    """
    n = check_positive_int("n", n)
    k = check_int("k", k, minimum=0)
    if n % (1 << k) != 0:
        raise ArgumentValueError(f"fold needs n divisible by 2**k = {1 << k}, got n={n} (k={k})")
    return fold(gaussian(n, size=size, field=field, rng=rng), k)
