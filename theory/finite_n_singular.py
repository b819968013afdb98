"""Finite-``n`` density of the squared singular values of complex Gaussian products
(docs/formulas.md §1).

The squared singular values of a product of ``M`` complex Ginibre matrices form a polynomial
ensemble whose correlation kernel is a finite sum of Meijer G-functions; this module evaluates
its one-point density exactly (mpmath).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np

from degeneracy.validation import check_finite_array, check_int, check_positive_int

__all__ = ["finite_n_density"]


@lru_cache(maxsize=64)
def _kernel_coefficients(n: int, depth: int) -> tuple[tuple[Fraction, ...], ...]:
    """``((-1)^k / k!) * c_{k,j}``, ``c_{k,j} = (-1)^j binom(k, j) / (j!)^M``, for k < n, j <= k."""
    rows = []
    for k in range(n):
        pref = Fraction((-1) ** k, math.factorial(k))
        rows.append(
            tuple(pref * Fraction((-1) ** j * math.comb(k, j), math.factorial(j) ** depth) for j in range(k + 1))
        )
    return tuple(rows)


def finite_n_density(x, n: int, depth: int, *, dps: int = 30):
    """Exact one-point density of the squared singular values of a product of ``depth``
    complex Gaussian ``n x n`` matrices with ``E|g|^2 = 1/n``.

    The squared singular values ``y`` of ``Y = G_M ... G_1`` (standard complex Ginibre,
    ``E|g|^2 = 1``, ``M = depth``) form a polynomial ensemble (Akemann, Kieburg & Wei,
    J. Phys. A 46, 275205 (2013); Akemann, Ipsen & Kieburg, Phys. Rev. E 88, 052118 (2013);
    Kuijlaars & Zhang, Commun. Math. Phys. 332, 759 (2014)) with correlation kernel
    ``K(x, y) = sum_{k<n} P_k(x) Q_k(y)`` and one-point density ``K(y, y) / n``:

    .. math::
        P_k(y) = \\sum_{j=0}^{k} \\frac{(-1)^j \\binom{k}{j}}{(j!)^M} y^j, \\qquad
        Q_k(y) = \\frac{(-1)^k}{k!} G^{M+1,0}_{1,M+1}\\Big({-k \\atop 0, \\dots, 0}\\Big|\\, y\\Big).

    (Mellin transform of ``Q_k``: ``(-1)^k Gamma(s)^(M+1) / (k! Gamma(s - k))``, which
    vanishes at ``s = 1..k``: biorthogonality; ``int P_k Q_k = 1``.) The second family is
    evaluated in the ``G^{M+1,0}_{1,M+1}`` form, not the equivalent ``G^{M,1}_{1,M+1}``,
    which ``mpmath`` can silently return as 0 at large arguments (docs/formulas.md §1).
    The returned density is that of ``x = y / n^M``: ``n^M K(n^M x, n^M x) / n``. ``M = 1``
    is the Laguerre (complex Wishart) density ``(1/n) sum_k L_k(y)^2 e^(-y)``.

    Parameters
    ----------
    x : float or array_like
        Points ``>= 0`` (density 0 below 0; finite ``x`` only).
    n, depth : int
        Matrix size and number of factors (tested for ``n <= 6``, ``depth <= 4``).
    dps : int
        Working precision of mpmath (decimal digits; the sum has cancellations at large ``y``).

    Returns
    -------
    float or ndarray
        ``depth >= 2`` diverges (like ``|log x|^(depth-1)``) at 0: ``+inf`` is returned there.

    Notes
    -----
    Where it stops being practical. Each point costs ``n`` evaluations of a Meijer G-function
    of order ``depth + 1`` in mpmath, at a precision that mpmath raises by itself where the
    alternating sums cancel (large ``n^depth x``); the evaluations are per point, not
    vectorized. Measured (provisional, under load: load average about 4 on 2 cores): 0.014 s a
    point at ``n = 3, depth = 2``; 0.14 s at ``n = 5, depth = 4``; 0.4 s at ``n = 10,
    depth = 5``; 24 s at ``n = 20, depth = 10``. A float64 route is not offered: the kernel is
    a sum of products ``P_k Q_k`` of an alternating polynomial and an oscillating Meijer-G
    function, whose cancellation (about ``e^(y/2)`` already at depth 1) needs the extra digits.
    Beyond ``n ~ 10`` or ``depth ~ 6`` use the Monte Carlo engine
    (:func:`degeneracy.numerics.products.fuss_catalan_samples`) or the ``n -> inf`` law
    (:func:`degeneracy.theory.fuss_catalan.fuss_catalan`). The eigenvalue density
    (:func:`degeneracy.theory.product_eigenvalues.finite_n_eigenvalue_density`) has no such
    cost: it is a positive mixture, evaluated in float64.

    Examples
    --------
    >>> round(finite_n_density(0.0, 3, 1), 12)  # Laguerre: sum_k L_k(0)^2 / n = 1, times n
    3.0
    >>> f = finite_n_density([0.5, 1.0], 2, 2); f.shape
    (2,)
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    dps = check_int("dps", dps, minimum=15)
    arr = check_finite_array("x", x)
    flat = arr.reshape(-1)
    coeffs = _kernel_coefficients(n, depth)
    scale = n**depth
    out = np.zeros(flat.shape, dtype=float)
    with mpmath.workdps(dps):
        for idx, xv in enumerate(flat):
            if xv < 0:
                continue
            if xv == 0:
                out[idx] = float(scale) if depth == 1 else math.inf
                continue
            y = mpmath.mpf(float(xv)) * scale
            total = mpmath.mpf(0)
            for k, row in enumerate(coeffs):
                pk = mpmath.mpf(0)
                for c in reversed(row):
                    pk = pk * y + mpmath.mpf(c.numerator) / c.denominator
                g = mpmath.meijerg([[], [-k]], [[0] * (depth + 1), []], y)
                total += pk * g
            out[idx] = float(total * scale / n)
    out = np.maximum(out, 0.0)
    return float(out[0]) if arr.shape == () else out.reshape(arr.shape)
