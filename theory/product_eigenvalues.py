"""Eigenvalues of products of complex Gaussian matrices (docs/formulas.md §1).

At finite ``n``: the exact law of the eigenvalues of a product of ``M`` complex Ginibre
matrices (Akemann & Burda 2012: a determinantal process with a Meijer-G weight), as a planar
density and as the law of the modulus; as ``n -> inf``: the radial law ``r^(2/M)`` (Burda,
Janik & Waclaw 2010), the fraction of eigenvalues in a small square at the origin that Saxe et
al. quote, and the factor count that reproduces a quoted fraction.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
from scipy import integrate, optimize, special
from scipy.optimize import elementwise

from degeneracy.errors import ArgumentValueError, CertificationError
from degeneracy.validation import check_finite_array, check_memory, check_positive_int, check_real

from .laws import LogSpaceLaw

__all__ = ["product_eigenvalue_radial_cdf", "origin_bin_fraction", "origin_bin_depth", "ginibre_product_weight",
           "finite_n_eigenvalue_law", "FiniteNEigenvalueLaw", "finite_n_eigenvalue_density"]


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
    while _origin_bin_fraction_real(hi, h) < fr:  # f_k -> 1: the bracket doubles a few times
        lo, hi = hi, hi * 2
    return optimize.brentq(lambda k: _origin_bin_fraction_real(k, h) - fr, lo, hi, xtol=1e-13, rtol=1e-13)


# ============================================================================ finite n (Akemann & Burda 2012)
#: Stirling coefficients B_2k / (2k (2k - 1)), k = 1..8
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)


def _log1p_i(u):
    """``log(1 + i u)`` for real ``u``, accurate for tiny ``u`` (numpy's complex ``log1p`` is ``log(1 + z)``,
    which drops the real part ``u^2 / 2``)."""
    return 0.5 * np.log1p(u * u) + 1j * np.arctan(u)


def _dloggamma(z0, t):
    """``log Gamma(z0 + i t) - log Gamma(z0)`` for real ``z0 > 0``, without the cancellation of the
    two large values: the difference of Stirling's series for ``z0 >= 8`` (8 terms: error below
    1e-17), else ``scipy.special.loggamma``."""
    z0, t = np.broadcast_arrays(np.asarray(z0, float), np.asarray(t, float))
    z = z0 + 1j * t
    out = np.empty(z.shape, dtype=complex)
    big = z0 >= 8.0
    if (~big).any():
        out[~big] = special.loggamma(z[~big]) - special.gammaln(z0[~big])
    if big.any():
        zb, xb, tb = z[big], z0[big], t[big]
        series = sum(c * (zb ** (1 - 2 * j) - xb ** (1 - 2 * j)) for j, c in enumerate(_STIRLING, start=1))
        out[big] = (xb - 0.5) * _log1p_i(tb / xb) + 1j * tb * np.log(zb) - 1j * tb + series
    return out


def _log_mellin_barnes(log_ratio, log_h0, params: tuple, dist, width, what: str) -> np.ndarray:
    """``log[(1/pi) int_0^inf Re h(c + i t) dt]`` for ``h`` real and positive on the real axis.

    The inverse Mellin integral ``(1/2 pi i) int_{c - i inf}^{c + i inf} h(s) ds`` of a function
    with ``h(conj s) = conj h(s)``, on the vertical line through the saddle point ``c`` of
    ``log h`` on the real axis, where the integrand has no stationary phase. The caller gives
    ``log h(c)`` (``log_h0``) and ``log_ratio(t, *params) = log h(c + i t) - log h(c)``, computed
    without cancellation, so that nothing under- or overflows at any depth or argument. A pole
    at distance ``dist`` from ``c`` makes the integrand vary on that scale near ``t = 0``, and
    the saddle's Gaussian has the scale ``width``: the range is cut at ``dist * 10^j`` up to
    ``10 + 10 width`` and each piece integrated by ``scipy.integrate.tanhsinh`` (vectorized over
    points and pieces). Refused (:class:`~degeneracy.errors.CertificationError`) unless every
    piece converged to ``1e-12`` relative of the total and the total is positive.
    """
    n = log_h0.size
    cap = 10.0 + 10.0 * width
    decades = np.arange(int(np.ceil(np.log10(float(np.max(cap / np.maximum(dist, 1e-300)))))) + 1)
    cuts = np.minimum(dist[:, None] * 10.0 ** decades[None, :], cap[:, None])
    lo = np.concatenate([np.zeros((n, 1)), cuts], axis=1)
    hi = np.concatenate([cuts, np.full((n, 1), np.inf)], axis=1)
    live = hi > lo
    idx = np.broadcast_to(np.arange(n)[:, None], lo.shape)[live]

    def f(t, *params):
        return np.real(np.exp(log_ratio(t, *params)))

    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        res = integrate.tanhsinh(f, lo[live], hi[live], args=tuple(np.asarray(p)[idx] for p in params), rtol=1e-13)
    val = np.bincount(idx, weights=res.integral, minlength=n)
    err = np.bincount(idx, weights=res.error, minlength=n)
    bad = ~(val > 0) | (err > 1e-12 * np.abs(val))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise CertificationError(f"{what}: the Mellin-Barnes integral did not converge (value {val[i]:.3g}, "
                                 f"error {err[i]:.3g})")
    return log_h0 + np.log(val / math.pi)


def _root(f, lo, hi, args, what):
    res = elementwise.find_root(f, (lo, hi), args=args)
    if not np.all(res.success):
        raise CertificationError(f"{what}: the saddle point search failed (status {int(res.status.min())})")
    return res.x


def _log_weight(logy: np.ndarray, m: int) -> np.ndarray:
    """``log G^{m,0}_{0,m}(-; 0, ..., 0 | y)`` at ``y = exp(logy)``: Mellin transform ``Gamma(s)^m``."""
    if m == 1:
        return -np.exp(logy)
    if m == 2:  # 2 K_0(2 sqrt y), scaled Bessel function: no underflow
        z = 2.0 * np.exp(0.5 * logy)
        return math.log(2.0) + np.log(special.k0e(z)) - z
    # saddle point: m psi(c) = log y, in the variable log c
    hi = np.log(np.exp(logy / m) + 2.0)
    lc = _root(lambda s, ly: m * special.digamma(np.exp(s)) - ly, np.full_like(logy, -700.0), hi, (logy,),
               "Meijer-G weight")
    c = np.exp(lc)
    h0 = m * special.gammaln(c) - c * logy
    width = 1.0 / np.sqrt(m * special.polygamma(1, c))
    return _log_mellin_barnes(lambda t, c, ly: m * _dloggamma(c, t) - 1j * t * ly, h0, (c, logy), c, width,
                              "Meijer-G weight")


def ginibre_product_weight(y, depth: int, *, log: bool = False):
    """The weight ``w_M(y) = G^{M,0}_{0,M}(-; 0, ..., 0 | y)`` of the eigenvalues of a product of ``M``
    complex Ginibre matrices (Akemann & Burda, J. Phys. A 45, 465201 (2012)).

    It is the density of a product of ``M`` independent standard exponential variables (its
    Mellin transform is ``Gamma(s)^M``); ``M = 1``: ``e^(-y)``, ``M = 2``: ``2 K_0(2 sqrt(y))``.
    For ``M >= 3``: the inverse Mellin integral on the saddle-point line (vectorized tanh-sinh,
    certified), in log space, so that it is accurate where the hypergeometric series behind
    ``mpmath.meijerg`` needs thousands of bits (``y > 10^4``).

    Parameters
    ----------
    y : float or array_like
        Points ``>= 0`` (``w_M(0) = inf`` for ``M >= 2``, 1 for ``M = 1``).
    depth : int
        ``M >= 1``.
    log : bool
        Return ``log w_M(y)``.

    Examples
    --------
    >>> round(ginibre_product_weight(1.0, 1), 15) == round(math.exp(-1), 15)
    True
    >>> round(float(ginibre_product_weight(1e6, 3, log=True)), 6)   # asymptotics: -300 - log(100) + log(2 pi / sqrt 3) - 0.0017
    -303.317709
    """
    m = check_positive_int("depth", depth)
    arr = check_finite_array("y", y)
    if (arr < 0).any():
        raise ArgumentValueError("y must be >= 0")
    flat = arr.reshape(-1)
    out = np.full(flat.shape, 0.0 if m == 1 else math.inf)
    pos = flat > 0
    if pos.any():
        out[pos] = _log_weight(np.log(flat[pos]), m)
    if not log:
        out = np.exp(out)
    return float(out[0]) if arr.shape == () else out.reshape(arr.shape)


class FiniteNEigenvalueLaw(LogSpaceLaw):
    """The law of the modulus ``R = |lambda|`` of one eigenvalue (chosen uniformly) of a product of
    ``M = depth`` independent ``n x n`` complex Gaussian matrices with ``E|w|^2 = 1/n``.

    Use :func:`finite_n_eigenvalue_law`. The eigenvalues of ``G_M ... G_1`` (standard complex
    Ginibre, ``E|g|^2 = 1``) form a determinantal process in the plane with weight
    ``w_M(|z|^2)`` (:func:`ginibre_product_weight`) and orthogonal polynomials ``z^k`` of norms
    ``pi (k!)^M`` (Akemann & Burda, J. Phys. A 45, 465201 (2012)); the one-point density is

    .. math::
        \\rho(z) = \\frac{1}{n \\pi} w_M(|z|^2) \\sum_{k=0}^{n-1} \\frac{|z|^{2k}}{(k!)^M},

    i.e. ``|lambda|^2`` is the uniform mixture over ``k = 1..n`` of products of ``M``
    independent ``Gamma(k, 1)`` variables (the moduli of the process are independent such
    products: Akemann & Strahov, J. Stat. Phys. 151, 987 (2013)). Here ``lambda`` is scaled by
    ``n^(-M/2)`` (variance ``1/n``), so ``P(R <= r) -> r^(2/M)`` as ``n -> inf``
    (:func:`product_eigenvalue_radial_cdf`).

    Support ``[0, inf)``, no atom; ``pdf(r) ~ r |log r|^(M-1)`` at 0. Moments exact for even
    orders: ``E R^(2j) = (1/n) sum_k (k (k+1) ... (k+j-1))^M / n^(Mj)`` (``Fraction``).
    ``cdf`` and ``sf`` of each mixture component are inverse Mellin integrals (Mellin transform
    ``-+ (Gamma(k+s)/Gamma(k))^M / s``) on the saddle-point line, certified, in log space;
    quantiles by ``scipy.optimize.elementwise.find_root`` in ``log r``; ``rvs`` draws the exact
    mixture (no inversion). Cost: ``2n`` tanh-sinh integrals per point.
    """

    edge_exponents = (1.0, 0.0)

    def __init__(self, n: int, depth: int):
        self.n = check_positive_int("n", n)
        self.depth = check_positive_int("depth", depth)
        # every evaluation builds (points x n) arrays: refuse an n that would not fit for 64 points
        check_memory(f"n = {self.n}", 3 * 64 * 8.0 * self.n)
        self._k = np.arange(1, self.n + 1, dtype=float)
        self._log_nm = self.depth * math.log(self.n)

    def __repr__(self) -> str:
        return f"finite_n_eigenvalue_law(n={self.n}, depth={self.depth})"

    def _support(self):
        return 0.0, math.inf

    # ---- log space: t = log r, log y = M log n + 2 t (y = |lambda_std|^2)
    def _logpdf_at_log(self, t, x=None):
        shape, t = np.shape(t), np.ravel(t)
        return self._logpdf_flat(t).reshape(shape)

    def _logpdf_flat(self, t):
        m, k = self.depth, np.arange(self.n, dtype=float)
        logy = self._log_nm + 2.0 * t
        mix = special.logsumexp(k[None, :] * logy[:, None] - m * special.gammaln(k + 1.0)[None, :], axis=1)
        return math.log(2.0) + t + self._log_nm + _log_weight(logy, m) + mix - math.log(self.n)

    def _log_components(self, t):
        """``(log F_k(y), log(1 - F_k(y)))`` for every ``k``, each of shape ``(len(t), n)``.

        One Mellin-Barnes integral per ``(y, k)``: for the smaller of ``F_k`` and ``1 - F_k``
        (the median of ``log Y_k`` is about ``M log(k - 1/3)``), whose saddle point stays away from
        the pole at ``s = 0``; the other follows by ``log1p(-exp(.))``.
        """
        m = self.depth
        logy = np.broadcast_to((self._log_nm + 2.0 * t)[:, None], (t.size, self.n)).ravel()
        k = np.broadcast_to(self._k[None, :], (t.size, self.n)).ravel()
        lgk = special.gammaln(k)
        upper = logy > m * np.log(k - 1.0 / 3.0)
        small = np.empty_like(logy)

        def log_ratio(t, z0, c, ly):  # h(s) = -+ (Gamma(k+s)/Gamma(k))^M y^(-s) / s, z0 = k + c
            return m * _dloggamma(z0, t) - 1j * t * ly - _log1p_i(t / c)

        if upper.any():  # 1 - F_k: c > 0, in log c
            ly, kk, lg = logy[upper], k[upper], lgk[upper]
            hi = np.log(np.exp(ly / m) + kk + 2.0)
            lc = _root(lambda s, l, q: m * special.digamma(q + np.exp(s)) - l - np.exp(-s),
                       np.full_like(ly, -700.0), hi, (ly, kk), "sf")
            c = np.exp(lc)
            h0 = m * (special.gammaln(kk + c) - lg) - c * ly - lc
            width = 1.0 / np.sqrt(m * special.polygamma(1, kk + c) + 1.0 / c**2)
            small[upper] = _log_mellin_barnes(log_ratio, h0, (kk + c, c, ly), c, width, f"{self!r}")
        lower = ~upper
        if lower.any():  # F_k: -k < c < 0, in e = c + k (accurate as c -> -k)
            ly, kk, lg = logy[lower], k[lower], lgk[lower]
            le = _root(lambda s, l, q: m * special.digamma(np.exp(s)) - l + 1.0 / (q - np.exp(s)),
                       np.full_like(ly, -700.0), np.log(kk) + math.log1p(-1e-15), (ly, kk), "cdf")
            e = np.exp(le)
            c = e - kk
            h0 = m * (special.gammaln(e) - lg) - c * ly - np.log(-c)
            width = 1.0 / np.sqrt(m * special.polygamma(1, e) + 1.0 / c**2)
            small[lower] = _log_mellin_barnes(log_ratio, h0, (e, c, ly), np.minimum(e, -c), width, f"{self!r}")
        with np.errstate(divide="ignore"):
            other = np.log1p(-np.exp(np.minimum(small, 0.0)))
        logF = np.where(upper, other, small).reshape(t.size, self.n)
        logS = np.where(upper, small, other).reshape(t.size, self.n)
        return logF, logS

    def _logcdf_at_log(self, t, x=None):
        shape, t = np.shape(t), np.ravel(t)
        return (special.logsumexp(self._log_components(t)[0], axis=1) - math.log(self.n)).reshape(shape)

    def _logsf_at_log(self, t, x=None):
        shape, t = np.shape(t), np.ravel(t)
        return (special.logsumexp(self._log_components(t)[1], axis=1) - math.log(self.n)).reshape(shape)

    def _t_of_logy(self, logy):
        return 0.5 * (logy - self._log_nm)

    def _bracket(self, p):
        """``log r`` bracketing the quantile at cdf level ``p``: ``F(y) <= M y^(1/M)`` (if every factor
        exceeds ``y^(1/M)`` so does the product) and ``1 - F(y) <= E Y / y <= n^M / y`` (Markov)."""
        m = self.depth
        lo = self._t_of_logy(m * np.log(p / m))
        hi = self._t_of_logy(self._log_nm - np.log1p(-p))
        return lo, hi

    def _log_floor(self) -> float:
        """Below this ``log r`` the law has mass < 1e-40 (``F <= M y^(1/M)``)."""
        return float(self._bracket(np.array([1e-40]))[0][0])

    def _log_ceiling(self) -> float:
        """Above this ``log r`` the law has mass < 1e-40 (Markov)."""
        return float(self._t_of_logy(self._log_nm + math.log(1e40)))

    def _log_quantile(self, q, upper: bool):
        p = 1.0 - q if upper else q
        lo, hi = self._bracket(np.clip(p, 1e-300, 1.0 - 1e-16))
        if upper:  # bracket for the tail probability q directly (1 - q loses q's digits)
            hi = self._t_of_logy(self._log_nm - np.log(q))
        lq = np.log(q)
        f = (lambda s, l: l - self._logsf_at_log(s)) if upper else (lambda s, l: self._logcdf_at_log(s) - l)
        return _root(f, lo, hi, (lq,), f"{self!r} quantile")

    def _log_ppf(self, q):
        return self._log_quantile(q, upper=False)

    def _log_isf(self, q):
        return self._log_quantile(q, upper=True)

    def _moment(self, p: int):
        m, n = self.depth, self.n
        if p % 2 == 0:
            j = p // 2
            total = sum(Fraction(math.prod(range(k, k + j))) ** m for k in range(1, n + 1))
            val = total / (n * Fraction(n) ** (m * j))
            return int(val) if val.denominator == 1 else val
        lg = m * (special.gammaln(self._k + p / 2.0) - special.gammaln(self._k)) - 0.5 * p * self._log_nm
        return float(np.exp(special.logsumexp(lg) - math.log(n)))

    def _rvs(self, size, generator):
        """The exact mixture: ``k`` uniform in ``1..n``, ``R^2 = n^(-M) prod_j Gamma(k, 1)``."""
        shape = () if size is None else tuple(size)
        k = generator.integers(1, self.n + 1, size=shape)
        g = generator.standard_gamma(np.broadcast_to(k[..., None], shape + (self.depth,)))
        return np.exp(0.5 * (np.log(g).sum(axis=-1) - self._log_nm))


def finite_n_eigenvalue_law(n: int, depth: int) -> FiniteNEigenvalueLaw:
    """The exact law of the eigenvalue modulus ``|lambda|`` of a product of ``depth`` complex
    Gaussian ``n x n`` matrices (entries of variance ``1/n``), as a distribution object.

    See :class:`FiniteNEigenvalueLaw` (Akemann & Burda 2012). ``n -> inf`` gives the radial law
    ``r^(2/depth)`` of :func:`product_eigenvalue_radial_cdf`; ``depth = 1`` is the complex
    Ginibre ensemble (``n |lambda|^2`` a uniform mixture of ``Gamma(k, 1)``, Kostlan's theorem).

    Examples
    --------
    >>> law = finite_n_eigenvalue_law(3, 2)
    >>> law.moment(2)           # E |lambda|^2 = (1/n) sum_k k^M / n^M = 14/27 < E (1/n) tr P P^* = 1
    Fraction(14, 27)
    >>> round(float(law.cdf(1.0)), 10), law.rvs(2, rng=0).shape
    (0.8406108445, (2,))
    """
    return FiniteNEigenvalueLaw(n, depth)


def finite_n_eigenvalue_density(z, n: int, depth: int):
    """The exact planar density ``rho(z)`` of the eigenvalues of a product of ``depth`` complex
    Gaussian ``n x n`` matrices with ``E|w|^2 = 1/n`` (normalized to 1 over the plane).

    ``rho(z) = (n^M / (n pi)) w_M(n^M |z|^2) sum_{k<n} (n^M |z|^2)^k / (k!)^M``
    (:class:`FiniteNEigenvalueLaw`; Akemann & Burda 2012). Rotation invariant; ``z`` may be
    complex or a modulus. Vectorized; ``+inf`` at ``z = 0`` for ``depth >= 2``.

    >>> round(float(finite_n_eigenvalue_density(0.0, 4, 1)), 12) == round(4 / math.pi / 4 * 4, 12)  # n e^0 / pi
    True
    """
    arr = np.asarray(z)
    if np.iscomplexobj(arr):
        if not np.all(np.isfinite(arr)):
            raise ArgumentValueError("z must contain only finite numbers (found NaN or inf)")
        arr = np.abs(arr)
    r = check_finite_array("z", arr)
    law = finite_n_eigenvalue_law(n, depth)
    flat = np.abs(r.reshape(-1))
    out = np.full(flat.shape, math.inf if law.depth >= 2 else law.n / math.pi)
    pos = flat > 0
    if pos.any():
        t = np.log(flat[pos])
        out[pos] = np.exp(law._logpdf_at_log(t) - math.log(2.0 * math.pi) - t)  # f_R(r) / (2 pi r)
    return float(out[0]) if r.shape == () else out.reshape(r.shape)
