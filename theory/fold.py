"""The Fold-k initialization of the seed essay (Orhan 2018) in free probability.

A Fold-k matrix copies the top ``N / 2^k`` rows of a Gaussian matrix onto the rows below, ``k``
times (rank ``N / 2^k``): ``F = E G`` with ``G`` the top ``N/c x N`` block (``c = 2^k``) and
``E^T E = c I``. The nonzero squared singular values of a product of ``L`` such matrices follow a
free multiplicative convolution (derived here, not in the essay):
``S(z) = c^{-1} (1 + z)^{-(L-1)} (1 + z/c)^{-1}``.

Examples
--------
>>> law = fold_law(3, 1)
>>> round(law.mean(), 12)          # the nonzero part carries the whole trace: mean c = 2
2.0
"""

from __future__ import annotations

from fractions import Fraction

from degeneracy.theory.s_transform import STransform
from degeneracy.validation import check_int, check_positive_int

__all__ = ["fold_law"]


def fold_law(depth: int, k: int, *, wrong: bool = False):
    """The law of the nonzero eigenvalues of ``P P^T``, ``P`` a product of ``depth`` Fold-k
    Gaussian matrices (entry variance ``1/N``), as ``N -> inf``.

    The nonzero eigenvalues of ``P P^T`` are ``c`` times those of ``A A^T``,
    ``A = (G_L E) ... (G_2 E) G_1``, where ``G_l E`` is an ``N/c``-square Gaussian matrix with entry
    variance ``c/N`` and ``G_1 G_1^T`` is Wishart of ratio ``1/c``, so
    ``S(z) = c^{-1} (1 + z)^{-(L-1)} (1 + z/c)^{-1}``, ``c = 2^k`` (free multiplicative
    convolution; Voiculescu's S-transform). The full spectrum adds an atom ``1 - 1/c`` at 0.

    Parameters
    ----------
    depth : int
        ``L >= 1`` factors.
    k : int
        Folds per factor, ``k >= 0`` (``k = 0``: Fuss-Catalan).
    wrong : bool
        The negative control of ``products.fold-spectrum``: the factor ``c`` forgotten.

    Returns
    -------
    degeneracy.theory.free_law.FreeProductLaw

    Raises
    ------
    ArgumentValueError
        ``depth < 1`` or ``k < 0``.

    >>> fold_law(1, 0).support()[1]    # Marchenko-Pastur edge 4 at k = 0, L = 1
    4.0
    """
    depth = check_positive_int("depth", depth)
    k = check_int("k", k, minimum=0)
    c = 2**k
    S = STransform.wishart(Fraction(1, c)) * (STransform.wishart() ** (depth - 1) if depth > 1 else STransform.orthogonal())
    if not wrong:
        S = S * STransform.scale(c)
    return S.law()
