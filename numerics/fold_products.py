"""The nonzero spectrum of a product of Fold-k Gaussian matrices, by the block route.

Fold-k of an ``n x n`` matrix ``W`` tiles its top ``r x n`` block ``T`` (``r = n/2^k``) ``2^k``
times (:func:`numerics.ensembles.fold`; Orhan 2018): ``Fold_k(W) = E T`` with ``E`` the ``n x r``
stack of ``2^k`` identities. So ``T_l E = C_l``, the sum of the ``2^k`` column blocks of ``T_l``
(``r x r``), and a product of ``L`` Fold-k matrices is

    ``P = F_L ... F_1 = E C_L ... C_2 T_1 = E Y``,  ``Y = C_L ... C_2 T_1``  (``r x n``),

whose nonzero squared singular values are those of ``Y`` times ``2^k`` (``E^T E = 2^k I``). This is
plain algebra on the folded matrices (no law is used), and it costs ``O(r^2 n)`` per replica instead
of the ``O(n^3)`` of multiplying and factoring the ``n x n`` product; only the top blocks are drawn
(the other rows of ``W`` are discarded by the fold), ``2^k`` times fewer normals. The test suite
holds it to the explicit product (``svd(F_L ... F_1)``) on the same matrices.
"""

from __future__ import annotations

import numpy as np

from degeneracy.errors import ArgumentValueError
from degeneracy.numerics import ensembles
from degeneracy.numerics.rng import RNGLike, as_generator
from degeneracy.validation import check_int, check_positive_int

__all__ = ["fold_top_blocks", "fold_product_nonzero_spectrum", "sample_fold_product_nonzero_spectrum"]


def _fold_args(n, depth, k, replicas) -> tuple[int, int, int, int]:
    """The validated ``(n, depth, k, replicas)`` of a Fold-k product (``n`` divisible by ``2^k``)."""
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    k = check_int("k", k, minimum=0)
    replicas = check_positive_int("replicas", replicas)
    if n % (1 << k):
        raise ArgumentValueError(f"fold needs n divisible by 2**k = {1 << k}, got n={n} (k={k})")
    return n, depth, k, replicas


def fold_top_blocks(n: int, depth: int, k: int, *, replicas: int, rng: RNGLike = None) -> np.ndarray:
    """The free rows of ``depth`` Fold-k Gaussian ``n x n`` matrices per replica: ``(depth, R, n/2^k, n)``,
    entries of variance ``1/n`` (:func:`numerics.ensembles.gaussian` with ``m = n/2^k`` rows), layer by
    layer from ``rng``. ``Fold_k(W)`` is the block tiled ``2^k`` times.

    >>> fold_top_blocks(8, 3, 2, replicas=5, rng=0).shape
    (3, 5, 2, 8)
    """
    n, depth, k, replicas = _fold_args(n, depth, k, replicas)
    g = as_generator(rng)
    return np.stack([ensembles.gaussian(n, size=replicas, m=n >> k, rng=g) for _ in range(depth)])


def _block_sums(block: np.ndarray, k: int) -> np.ndarray:
    """``T E``: the sum of the ``2^k`` column blocks of each ``r x 2^k r`` matrix."""
    r = block.shape[-2]
    return block.reshape(block.shape[:-1] + (1 << k, r)).sum(axis=-2)


def _nonzero_spectrum(Y: np.ndarray, k: int) -> np.ndarray:
    s = np.linalg.svd(Y, compute_uv=False)
    return np.sort((1 << k) * s * s, axis=-1)


def fold_product_nonzero_spectrum(top_blocks, k: int) -> np.ndarray:
    """Nonzero squared singular values ``(R, r)``, ascending, of ``F_L ... F_1`` with ``F_l`` the Fold-k
    matrix tiled from ``top_blocks[l]`` (shape ``(L, R, r, n)``, ``n = 2^k r``): ``2^k sigma^2(Y)``,
    ``Y = C_L ... C_2 T_1`` (module docstring).

    >>> T = np.ones((2, 1, 1, 2))            # Fold-1 of the all-ones 2 x 2 matrix, twice
    >>> fold_product_nonzero_spectrum(T, 1)  # (ones 2x2)^2 = 2 ones: squared singular value 16
    array([[16.]])
    """
    T = np.asarray(top_blocks, dtype=float)
    k = check_int("k", k, minimum=0)
    if T.ndim != 4 or T.shape[-1] != T.shape[-2] << k:
        raise ArgumentValueError(f"top_blocks must have shape (L, R, r, 2^k r) with k={k}, got {T.shape}")
    Y = T[0]
    for block in T[1:]:
        Y = _block_sums(block, k) @ Y
    return _nonzero_spectrum(Y, k)


def sample_fold_product_nonzero_spectrum(n: int, depth: int, k: int, *, replicas: int,
                                         rng: RNGLike = None) -> np.ndarray:
    """:func:`fold_product_nonzero_spectrum` of :func:`fold_top_blocks` (the same draws), one layer at
    a time: ``(R, n/2^k)``; memory about ``3 R (n/2^k) n`` doubles.

    >>> sample_fold_product_nonzero_spectrum(16, 3, 2, replicas=2, rng=0).shape
    (2, 4)
    """
    n, depth, k, replicas = _fold_args(n, depth, k, replicas)
    g = as_generator(rng)
    Y = ensembles.gaussian(n, size=replicas, m=n >> k, rng=g)
    for _ in range(depth - 1):
        Y = _block_sums(ensembles.gaussian(n, size=replicas, m=n >> k, rng=g), k) @ Y
    return _nonzero_spectrum(Y, k)
