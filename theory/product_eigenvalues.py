"""Eigenvalues of products of complex Gaussian matrices (docs/formulas.md §1).

The ``n -> inf`` law of the eigenvalue moduli of a product of ``k`` Gaussian matrices
(Burda, Janik & Waclaw 2010), the fraction of eigenvalues in a small square at the origin that
Saxe et al. quote, and the factor count that reproduces a quoted fraction.
"""

from __future__ import annotations

import mpmath
import numpy as np

from degeneracy.validation import check_finite_array, check_positive_int, check_real

__all__ = ["product_eigenvalue_radial_cdf", "origin_bin_fraction", "origin_bin_depth"]


def product_eigenvalue_radial_cdf(r, k: int):
    """``P(|lambda| <= r) = r^(2/k)`` on ``[0, 1]`` (1 beyond): ``n -> inf`` law of the
    eigenvalue moduli of a product of ``k`` complex Gaussian matrices (variance ``1/n``),
    Burda, Janik & Waclaw, Phys. Rev. E 81, 041132 (2010). The planar density is
    ``(1/(k pi)) |z|^(2/k - 2)`` on the unit disk.

    >>> product_eigenvalue_radial_cdf(0.25, 4), product_eigenvalue_radial_cdf([0.0, 2.0], 3).tolist()
    (0.5, [0.0, 1.0])
    """
    k = check_positive_int("k", k)
    arr = check_finite_array("r", r)
    out = np.where(arr <= 0, 0.0, np.minimum(np.abs(np.maximum(arr, 0.0)) ** (2.0 / k), 1.0))
    out = np.where(arr >= 1, 1.0, out)
    return float(out) if arr.shape == () else out


def origin_bin_fraction(k: int, half_width: float = 0.05) -> float:
    """Limiting fraction of eigenvalues of a product of ``k`` Gaussian matrices in the square
    ``[-h, h]^2`` (``h = half_width``), from the density ``(1/(k pi)) r^(2/k - 2)`` on the
    unit disk (Burda, Janik & Waclaw 2010):

    .. math::
        f_k(h) = \\frac{4}{\\pi} \\int_0^{\\pi/4} \\min(h \\sec\\theta, 1)^{2/k}\\, d\\theta
        \\quad (= \\tfrac{4}{\\pi} h^{2/k} \\int_0^{\\pi/4} \\sec^{2/k}\\theta\\, d\\theta
        \\text{ for } h \\le 1/\\sqrt 2),

    computed by mpmath quadrature (``k = 1``: ``4 h^2 / pi``).

    Saxe, McClelland & Ganguli (arXiv:1312.6120, Fig. 6C) quote 32% and 94% of the
    eigenvalues of random products in the 0.1 x 0.1 bin at the origin. This law gives
    ``f_5 = 0.3155`` and ``f_100 = 0.9439`` (the fractions are matched exactly by
    ``k = 5.06`` and ``k = 93.3``, :func:`origin_bin_depth`), so the quoted numbers are
    consistent with products of 5 and 100 factors; 10 factors would give 0.562 and 1 factor
    0.0032. Caveats: the law is the ``n -> inf`` limit for complex Ginibre factors; for real
    factors the limit is the same, but at finite ``n`` a fraction ``~ 1/sqrt(n)`` of the
    eigenvalues is real and the bin count fluctuates. The stored copies of the paper that
    could be searched here did not show the caption's matrix size and depths, so the
    identification of the factor counts (5 and 100) is inferred from the law, not read.

    Examples
    --------
    >>> round(origin_bin_fraction(1), 10) == round(4 * 0.05 ** 2 / 3.141592653589793, 10)
    True
    >>> round(origin_bin_fraction(5), 4), round(origin_bin_fraction(100), 4)
    (0.3155, 0.9439)
    """
    k = check_positive_int("k", k)
    h = check_real("half_width", half_width, lo=0.0, lo_open=True)
    return _origin_bin_fraction_real(float(k), h)


def _origin_bin_fraction_real(k: float, h: float) -> float:
    with mpmath.workdps(30):
        hh = mpmath.mpf(h)
        a = mpmath.mpf(2) / k
        if hh * mpmath.sqrt(2) <= 1:
            val = 4 / mpmath.pi * hh**a * mpmath.quad(lambda t: mpmath.sec(t) ** a, [0, mpmath.pi / 4])
        elif hh >= 1:
            val = mpmath.mpf(1)
        else:
            t1 = mpmath.acos(hh)  # h sec t = 1
            val = 4 / mpmath.pi * (hh**a * mpmath.quad(lambda t: mpmath.sec(t) ** a, [0, t1]) + (mpmath.pi / 4 - t1))
        return float(val)


def origin_bin_depth(fraction: float, half_width: float = 0.05) -> float:
    """The (real) factor count ``k`` at which :func:`origin_bin_fraction` equals ``fraction``.

    ``f_k`` increases from ``4 h^2 / pi`` (``k = 1``) to 1 (``k -> inf``).

    >>> round(origin_bin_depth(0.32), 2), round(origin_bin_depth(0.94), 1)
    (5.06, 93.3)
    """
    h = check_real("half_width", half_width, lo=0.0, lo_open=True)
    fr = check_real("fraction", fraction, lo=_origin_bin_fraction_real(1.0, h), hi=1.0, hi_open=True)
    lo, hi = 1.0, 2.0
    while _origin_bin_fraction_real(hi, h) < fr:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _origin_bin_fraction_real(mid, h) < fr:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
