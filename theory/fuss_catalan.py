"""The Fuss-Catalan law: squared singular values of deep Gaussian products (docs/formulas.md §1).

The ``n -> inf`` limit law of the eigenvalues of ``P^T P`` for ``P = W_L ... W_1`` a product of
``L`` i.i.d. ``n x n`` Gaussian matrices with entries of variance ``1/n`` (real or complex):
exact moments (:func:`fuss_catalan_moment`), the law as a distribution object
(:func:`fuss_catalan`), a symbolic certificate of its distribution function and the limiting
participation ratio.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np

from degeneracy.errors import ArgumentValueError, CertificationError
from degeneracy.validation import check_int, check_positive_int

from .laws import SpectralLaw

__all__ = [
    "fuss_catalan_moment",
    "fuss_catalan",
    "FussCatalan",
    "fuss_catalan_cdf_certificate",
    "participation_ratio_limit",
]


def fuss_catalan_moment(depth: int, k: int) -> int:
    """Exact ``k``-th moment of the Fuss-Catalan law of order ``depth``.

    .. math:: m_k = \\frac{1}{L k + 1} \\binom{(L + 1) k}{k},

    the Fuss-Catalan number; it is ``lim_{n->inf} E (1/n) tr (P^T P)^k`` for a product of
    ``L = depth`` Gaussian matrices (Penson & Zyczkowski, Phys. Rev. E 83, 061118 (2011),
    eq. (2); Banica, Belinschi, Capitaine & Collins 2011). ``depth = 1`` gives the Catalan
    numbers (Marchenko-Pastur law, ratio 1).

    Parameters
    ----------
    depth : int
        Number of factors ``L >= 1``.
    k : int
        Moment order ``k >= 0``.

    Returns
    -------
    int

    Examples
    --------
    >>> [fuss_catalan_moment(1, k) for k in range(6)]
    [1, 1, 2, 5, 14, 42]
    >>> [fuss_catalan_moment(2, k) for k in range(5)]
    [1, 1, 3, 12, 55]
    >>> fuss_catalan_moment(7, 2)   # the variance is depth: m_2 - m_1^2 = L
    8
    """
    depth = check_positive_int("depth", depth)
    k = check_int("k", k, minimum=0)
    num = math.comb((depth + 1) * k, k)
    q, r = divmod(num, depth * k + 1)
    if r:  # pragma: no cover - a number-theory fact; kept as a guard
        raise ArithmeticError("Fuss-Catalan number is not an integer")
    return q


@lru_cache(maxsize=1)
def _log_sinc_coefficients(terms: int = 40) -> tuple[float, ...]:
    """``d_n`` with ``log(sin z / z) = sum_{n>=1} d_n z^(2n)``, ``d_n = (-1)^n 2^(2n-1) B_2n / (n (2n)!)``."""
    with mpmath.workdps(40):
        return tuple(
            float((-1) ** n * mpmath.mpf(2) ** (2 * n - 1) * mpmath.bernoulli(2 * n) / (n * mpmath.factorial(2 * n)))
            for n in range(1, terms + 1)
        )


def _log_sinc(u: np.ndarray) -> np.ndarray:
    """``log(sin u / u)`` for ``0 <= u < pi``, accurate to a few ulps relative (series for u <= 1)."""
    u = np.asarray(u, dtype=float)
    out = np.empty_like(u)
    small = u <= 1.0
    if small.any():
        out[small] = _poly_even(_log_sinc_coefficients(), u[small])
    big = ~small
    if big.any():
        out[big] = np.log(np.sin(u[big]) / u[big])
    return out


def _poly_even(coef, z: np.ndarray) -> np.ndarray:
    """``sum_{n>=1} coef[n-1] z^(2n)`` by Horner in ``z^2``."""
    z2 = z * z
    acc = np.zeros_like(z)
    for c in reversed(coef):
        acc = (acc + c) * z2
    return acc


def _poly_even_derivative(coef, z: np.ndarray) -> np.ndarray:
    """d/dz of :func:`_poly_even`: ``sum 2n coef[n-1] z^(2n-1)``."""
    z2 = z * z
    acc = np.zeros_like(z)
    for n in range(len(coef), 0, -1):
        acc = acc * z2 + 2 * n * coef[n - 1]
    return acc * z


class FussCatalan(SpectralLaw):
    """The Fuss-Catalan law of order ``L``: limit law of the squared singular values of a
    product of ``L`` Gaussian ``n x n`` matrices (entries of variance ``1/n``), ``n -> inf``.

    Use :func:`fuss_catalan` to build one. Moments ``m_k = binom((L+1)k, k)/(Lk+1)``
    (:func:`fuss_catalan_moment`); mean 1, variance ``L``; support
    ``[0, (L+1)^(L+1)/L^L]``.

    Density (Haagerup & Moller, Proc. AMS 2013 / Neuschel, Comput. Methods Funct. Theory
    2014), with the parameter ``0 < u < pi/(L+1)``:

    .. math::
        x(u) = \\frac{\\sin^{L+1}((L+1)u)}{\\sin u \\, \\sin^{L}(L u)}, \\qquad
        \\rho(x(u)) = \\frac{1}{\\pi} \\frac{\\sin^2 u \\, \\sin^{L-1}(L u)}{\\sin^{L}((L+1)u)};

    ``x`` decreases from ``(L+1)^(L+1)/L^L`` (``u -> 0``) to 0 (``u -> pi/(L+1)``).

    Distribution function (derived here; verified in the tests by high-precision quadrature
    of the density above and in :func:`fuss_catalan_cdf_certificate` by sympy):

    .. math::
        1 - F(x(u)) = \\frac{1}{\\pi}\\Big[(L+1)u - L\\,\\frac{\\sin u\\,\\sin((L+1)u)}{\\sin(L u)}\\Big].

    ``L = 1`` gives Marchenko-Pastur: ``x = 4 cos^2 u``, ``rho = tan(u)/(2 pi)``.

    Numerics. ``pdf`` solves ``x(u) = x`` by a vectorized Newton iteration in log-log
    coordinates, in the variable ``z = (L+1) u`` on the upper half of the support and
    ``w = pi - (L+1) u`` on the lower half (each formula is then free of cancellation:
    ``log(x / x_max)`` and ``log(1 - F)`` are even power series in ``z`` with
    sign-definite terms; ``sin((L+1)u) = sin w``), and raises
    :class:`~theory.errors.CertificationError` if a root does not meet its residual bound.
    ``ppf`` solves ``F = q`` the same way. Accuracy: about ``1e-14 (L + 1)`` relative
    in the bulk for pdf, cdf, sf and ppf (tests: mpmath at 40 digits, depths 1 to 200).

    Ends of the support. The density behaves like ``C x^(-L/(L+1))`` at 0 (an integrable
    divergence, ``C = sin(pi/(L+1))/pi``, :meth:`left_edge_coefficient`) and like
    ``sqrt(x_max - x)`` at ``x_max``. Convention: ``pdf(0) = inf`` (the true limit, as in
    ``scipy.stats.beta(0.5, 0.5).pdf(0)``), ``pdf(x) > 0`` finite for every float
    ``0 < x < x_max`` (including subnormals), ``pdf(x_max) = 0``. Note that for large ``L``
    a noticeable mass lies below the smallest positive double: ``F(5e-324) ~ 0.025`` at
    ``L = 200`` (``F(x) ~ const x^(1/(L+1))``), so ``ppf(q)`` returns 0.0 (underflow) for
    such ``q``; squared singular values of deep products must be handled in log space.
    """

    def __init__(self, depth: int):
        self.depth = L = check_positive_int("depth", depth)
        self.edge_exponents = (-L / (L + 1.0), 0.5)
        self._umax = math.pi / (L + 1)
        # x_max = (L+1)^(L+1) / L^L, correctly rounded, plus its rounding error (double-double),
        # so that x_max - x is exact near the upper edge
        xmax_exact = Fraction((L + 1) ** (L + 1), L**L)
        self._xmax = float(xmax_exact)
        self._xmax_lo = float(xmax_exact - Fraction(self._xmax))
        self._log_xmax = math.log(L + 1) + L * math.log1p(1.0 / L)
        d = _log_sinc_coefficients()
        # series in z = (L+1) u:  log(x/x_max) = sum d_n c_n z^2n,  log(L g / ((L+1) u)) = sum d_n e_n z^2n
        self._cx = tuple(
            d[n - 1] * float(Fraction((L + 1) ** (2 * n + 1) - 1 - L ** (2 * n + 1), (L + 1) ** (2 * n)))
            for n in range(1, len(d) + 1)
        )
        self._cs = tuple(
            d[n - 1] * float(Fraction(1 + (L + 1) ** (2 * n) - L ** (2 * n), (L + 1) ** (2 * n)))
            for n in range(1, len(d) + 1)
        )
        # log rho on the upper branch: -log pi + log z + c0 + sum d_n r_n z^2n
        self._cr = tuple(
            d[n - 1] * float(Fraction(2 + (L - 1) * L ** (2 * n) - L * (L + 1) ** (2 * n), (L + 1) ** (2 * n)))
            for n in range(1, len(d) + 1)
        )
        self._cr0 = -math.log(math.pi) - 2.0 * math.log(L + 1) - (L - 1) * math.log1p(1.0 / L)
        # the split point between the two parametrisations: z = w = pi/2
        zmid = np.array([math.pi / 2])
        self._log_xmid = float(self._log_x_upper(zmid)[0])
        self._xmid = math.exp(self._log_xmid)
        self._sf_mid = float(self._sf_upper(zmid)[0])
        self._cdf_mid = 1.0 - self._sf_mid

    def __repr__(self) -> str:
        return f"fuss_catalan(depth={self.depth})"

    # ------------------------------------------------------------------ parametrisation
    def _support(self):
        return 0.0, self._xmax

    def _pdf_at_ends(self):
        return math.inf, 0.0

    def left_edge_coefficient(self) -> float:
        """``C`` in ``pdf(x) ~ C x^(-L/(L+1))`` as ``x -> 0``: ``C = sin(pi/(L+1)) / pi``.

        From the parametrisation with ``w = pi - (L+1)u -> 0`` and ``s = sin(pi/(L+1))``:
        ``x ~ (w/s)^(L+1)`` and ``rho ~ s^(L+1) / (pi w^L)``. ``L = 1``: ``1/pi`` (Marchenko-Pastur).

        >>> abs(fuss_catalan(1).left_edge_coefficient() - 1 / 3.141592653589793) < 1e-16
        True
        """
        return math.sin(self._umax) / math.pi

    def _log_x_upper(self, z):
        """``log x`` for ``z = (L+1) u`` in (0, pi/2]."""
        return self._log_xmax + _poly_even(self._cx, z)

    def _sf_upper(self, z):
        """``1 - F`` for ``z = (L+1) u`` in (0, pi/2]: ``-(z/pi) expm1(E_s(z))``."""
        return -(z / math.pi) * np.expm1(_poly_even(self._cs, z))

    def _lower_trig(self, w):
        """``(u, sin u, sin((L+1)u), sin(L u))`` for ``w = pi - (L+1) u`` in (0, pi/2]."""
        L = self.depth
        u = (math.pi - w) / (L + 1)
        return u, np.sin(u), np.sin(w), np.sin((math.pi + L * w) / (L + 1))

    def _log_x_lower(self, w):
        L = self.depth
        u, su, s1, sl = self._lower_trig(w)
        return (L + 1) * np.log(s1) - np.log(su) - L * np.log(sl)

    def _dlog_x_dlog_w(self, w):
        """``d log x / d log w`` on the lower branch (positive)."""
        L = self.depth
        u, su, s1, sl = self._lower_trig(w)
        # d/dv with v = w/(L+1):  (L+1)^2 cot((L+1)v) + cot u - L^2 cot(u + (L+1)v)
        cu = np.cos(u) / su
        c1 = np.cos(w) / s1
        cl = np.cos((math.pi + L * w) / (L + 1)) / sl
        return w * ((L + 1) * c1 + (cu - L * L * cl) / (L + 1))

    def _log_pdf_from(self, su, s1, sl):
        L = self.depth
        return 2.0 * np.log(su) + (L - 1) * np.log(sl) - L * np.log(s1) - math.log(math.pi)

    def _upper_trig(self, z):
        L = self.depth
        return np.sin(z / (L + 1)), np.sin(z), np.sin(L * z / (L + 1))

    def _cdf_lower(self, w):
        L = self.depth
        u, su, s1, sl = self._lower_trig(w)
        return (w + L * su * s1 / sl) / math.pi

    def _sf_lower(self, w):
        """``1 - F`` on the lower branch, via ``E_s = log(sin u/u) + log1p(...)`` (no cancellation)."""
        L = self.depth
        u, su, s1, sl = self._lower_trig(w)
        # cot(L u) = -cot(u + w') with u + w' = (pi + L w)/(L+1) in (0, pi/2]
        ang = (math.pi + L * w) / (L + 1)
        inner = -2.0 * np.sin(0.5 * u) ** 2 - np.cos(ang) / np.sin(ang) * su - 1.0 / L
        with np.errstate(divide="ignore"):  # inner -> -(1 + 1/L) as w -> 0: es -> -inf, sf -> z/pi
            es = _log_sinc(u) + np.log1p(inner / (1.0 + 1.0 / L))
        z = math.pi - w
        return -(z / math.pi) * np.expm1(es)

    # ------------------------------------------------------------------ root solvers
    def _solve_upper_x(self, x):
        """z in (0, pi/2] with x(z) = x (x_mid <= x < x_max), Newton in (log z, log(-log(x/x_max)))."""
        t = np.log1p(((x - self._xmax) - self._xmax_lo) / self._xmax)  # log(x/xmax) < 0
        t = np.minimum(t, -np.finfo(float).tiny)
        target = np.log(-t)
        a = -self._cx[0]
        z = np.sqrt(-t / a)  # right of the root (terms of -E are all positive)
        z = np.minimum(z, math.pi / 2)
        for _ in range(60):
            e = _poly_even(self._cx, z)
            de = _poly_even_derivative(self._cx, z)
            h = np.log(-e) - target
            slope = z * de / e  # d log(-E) / d log z  (>= 2)
            step = h / slope
            z_new = np.clip(z * np.exp(-step), 0.5 * z, np.minimum(2.0 * z, math.pi / 2))
            done = np.abs(step) < 4e-16
            z = z_new
            if done.all():
                break
        e = _poly_even(self._cx, z)
        resid = np.abs(np.log(-e) - target)
        self._certify(resid, 64 * np.finfo(float).eps * (1 + np.abs(target)), "x(u) = x (upper branch)")
        return z

    def _solve_lower_x(self, logx):
        """w in (0, pi/2] with log x(w) = logx (logx <= log x_mid): Newton in log w, log x."""
        L = self.depth
        s = (logx + (L + 1) * math.log(math.sin(self._umax))) / (L + 1)  # x ~ (w / sin(pi/(L+1)))^(L+1)
        s = np.minimum(s, math.log(math.pi / 2))
        lo = np.full_like(s, -np.inf)
        hi = np.full_like(s, math.log(math.pi / 2))
        for _ in range(100):
            w = np.exp(s)
            f = self._log_x_lower(w) - logx
            lo = np.where(f < 0, s, lo)
            hi = np.where(f > 0, s, hi)
            s_new = s - f / self._dlog_x_dlog_w(w)
            outside = (s_new <= lo) | (s_new >= hi) | ~np.isfinite(s_new)
            bis = np.where(np.isfinite(lo), 0.5 * (lo + hi), hi - 1.0)
            s_new = np.where(outside, bis, s_new)
            done = np.abs(s_new - s) < 4e-16 * np.maximum(1.0, np.abs(s))
            s = s_new
            if done.all():
                break
        w = np.exp(s)
        resid = np.abs(self._log_x_lower(w) - logx)
        self._certify(resid, 64 * np.finfo(float).eps * (L + 1 + np.abs(logx)), "x(u) = x (lower branch)")
        return w

    def _solve_upper_q(self, p):
        """z with 1 - F(z) = p, 0 < p <= sf_mid: Newton in (log z, log p)."""
        L = self.depth
        logp = np.log(p)
        # leading term: 1 - F ~ z^3 (-d_1 e_1)/pi with e_1 = 2/(L+1): z^3 / (3 pi (L+1))
        z = np.minimum(np.cbrt(3 * math.pi * (L + 1) * p), math.pi / 2)
        lo = np.zeros_like(z)
        hi = np.full_like(z, math.pi / 2)
        for _ in range(100):
            es = _poly_even(self._cs, z)
            des = _poly_even_derivative(self._cs, z)
            sf = -(z / math.pi) * np.expm1(es)
            dsf = -(np.expm1(es) + z * np.exp(es) * des) / math.pi
            f = np.log(sf) - logp
            lo = np.where(f < 0, z, lo)
            hi = np.where(f > 0, z, hi)
            z_new = z * np.exp(-f / (z * dsf / sf))
            outside = (z_new <= lo) | (z_new >= hi) | ~np.isfinite(z_new)
            z_new = np.where(outside, 0.5 * (lo + hi), z_new)
            done = np.abs(z_new - z) < 4e-16 * z
            z = z_new
            if done.all():
                break
        resid = np.abs(np.log(self._sf_upper(z)) - logp)
        self._certify(resid, 64 * np.finfo(float).eps * (L + 1 + np.abs(logp)), "F(x) = q (upper branch)")
        return z

    def _solve_lower_q(self, q):
        """w with F(w) = q, 0 < q <= cdf_mid: Newton in (log w, log q); F ~ (L+1) w / pi."""
        L = self.depth
        logq = np.log(q)
        s = np.minimum(np.log(math.pi * q / (L + 1)), math.log(math.pi / 2))
        lo = np.full_like(s, -np.inf)
        hi = np.full_like(s, math.log(math.pi / 2))
        for _ in range(100):
            w = np.exp(s)
            F = self._cdf_lower(w)
            f = np.log(F) - logq
            lo = np.where(f < 0, s, lo)
            hi = np.where(f > 0, s, hi)
            # dF/dlog w = rho(x) * x * dlogx/dlogw
            u, su, s1, sl = self._lower_trig(w)
            logx = self._log_x_lower(w)
            dF = np.exp(self._log_pdf_from(su, s1, sl) + logx) * self._dlog_x_dlog_w(w)
            s_new = s - f * F / dF
            outside = (s_new <= lo) | (s_new >= hi) | ~np.isfinite(s_new)
            bis = np.where(np.isfinite(lo), 0.5 * (lo + hi), hi - 1.0)
            s_new = np.where(outside, bis, s_new)
            done = np.abs(s_new - s) < 4e-16 * np.maximum(1.0, np.abs(s))
            s = s_new
            if done.all():
                break
        w = np.exp(s)
        resid = np.abs(np.log(self._cdf_lower(w)) - logq)
        self._certify(resid, 64 * np.finfo(float).eps * (L + 1 + np.abs(logq)), "F(x) = q (lower branch)")
        return w

    @staticmethod
    def _certify(resid, tol, what):
        bad = ~(resid <= tol)
        if bad.any():
            i = int(np.argmax(np.where(bad, resid, -1.0)))
            raise CertificationError(
                f"fuss_catalan: could not certify the root of {what}: residual {resid[i]:.3g} > {tol if np.isscalar(tol) else np.asarray(tol)[i]:.3g}"
            )

    # ------------------------------------------------------------------ SpectralLaw hooks
    def _split(self, x):
        logx = np.log(x)
        return logx, x >= self._xmid

    def _pdf(self, x):
        logx, up = self._split(x)
        out = np.empty_like(x)
        if up.any():
            z = self._solve_upper_x(x[up])
            out[up] = z * np.exp(self._cr0 + _poly_even(self._cr, z))
        lo = ~up
        if lo.any():
            w = self._solve_lower_x(logx[lo])
            u, su, s1, sl = self._lower_trig(w)
            with np.errstate(over="ignore"):  # true density > 1.8e308 only for subnormal x, L >= ~90
                out[lo] = np.exp(self._log_pdf_from(su, s1, sl))
        return out

    def _cdf(self, x):
        logx, up = self._split(x)
        out = np.empty_like(x)
        if up.any():
            out[up] = 1.0 - self._sf_upper(self._solve_upper_x(x[up]))
        if (~up).any():
            out[~up] = self._cdf_lower(self._solve_lower_x(logx[~up]))
        return out

    def _sf(self, x):
        logx, up = self._split(x)
        out = np.empty_like(x)
        if up.any():
            out[up] = self._sf_upper(self._solve_upper_x(x[up]))
        if (~up).any():
            out[~up] = self._sf_lower(self._solve_lower_x(logx[~up]))
        return out

    def _ppf(self, q):
        out = np.empty_like(q)
        up = q > self._cdf_mid
        if up.any():
            z = self._solve_upper_q(1.0 - q[up])
            out[up] = np.exp(self._log_x_upper(z))
        if (~up).any():
            w = self._solve_lower_q(q[~up])
            out[~up] = np.exp(self._log_x_lower(w))
        return out

    def _moment(self, k: int) -> int:
        return fuss_catalan_moment(self.depth, k)

    def isf(self, q):
        """``x`` with ``sf(x) = q`` (accurate for tiny ``q``, i.e. near the upper edge)."""
        arr = np.asarray(q, dtype=float)
        flat = arr.reshape(-1).copy()
        if np.isnan(flat).any():
            raise ArgumentValueError("q must not contain NaN")
        if ((flat < 0) | (flat > 1)).any():
            raise ArgumentValueError("q must lie in [0, 1]")
        out = np.where(flat <= 0, self._xmax, 0.0)
        small = (flat > 0) & (flat < self._sf_mid)
        if small.any():
            out[small] = np.exp(self._log_x_upper(self._solve_upper_q(flat[small])))
        rest = (flat >= self._sf_mid) & (flat < 1)
        if rest.any():
            out[rest] = self.ppf(1.0 - flat[rest])
        return float(out[0]) if arr.shape == () else out.reshape(arr.shape)


def fuss_catalan(depth: int) -> FussCatalan:
    """The Fuss-Catalan law of order ``depth`` as a :class:`~theory.laws.SpectralLaw`.

    The ``n -> inf`` limit law of the eigenvalues of ``P^T P`` for ``P`` a product of
    ``depth`` i.i.d. ``n x n`` Gaussian matrices with entries of variance ``1/n``
    (real or complex). Moments :func:`fuss_catalan_moment`; support
    ``[0, (L+1)^(L+1)/L^L]``; parametric density of Haagerup & Moller (2013) and Neuschel
    (2014); Meijer-G form in Penson & Zyczkowski, Phys. Rev. E 83, 061118 (2011). See
    :class:`FussCatalan` for the formulas, the numerics and the end-point conventions.

    Examples
    --------
    >>> law = fuss_catalan(2)
    >>> law.support()[1] == 27 / 4, law.mean(), law.var(), law.moment(3)
    (True, 1.0, 2.0, 12)
    >>> abs(law.cdf(law.ppf(0.3)) - 0.3) < 1e-15
    True
    >>> mp = fuss_catalan(1)   # Marchenko-Pastur: sqrt(4 - x) / (2 pi sqrt(x))
    >>> abs(mp.pdf(1.0) - 3 ** 0.5 / (2 * 3.141592653589793)) < 1e-15
    True
    >>> mp.pdf([0.0, 4.0]).tolist()
    [inf, 0.0]
    """
    return FussCatalan(depth)


def fuss_catalan_cdf_certificate(depth: int):
    """Symbolic check (sympy) that the closed-form CDF differentiates to the density.

    Returns ``(holds, detail)``: ``holds`` is True when
    ``d/du [ (L+1) u - L sin u sin((L+1)u) / sin(L u) ] / pi + rho(x(u)) x'(u)`` simplifies
    to 0 for the given integer ``depth`` (the two sides are rational functions of
    ``exp(i u)``; sympy proves it exactly). Cheap for ``depth <= 6``.

    >>> fuss_catalan_cdf_certificate(1)[0]
    True
    """
    import sympy as sp

    L = check_positive_int("depth", depth)
    u = sp.symbols("u", positive=True)
    x = sp.sin((L + 1) * u) ** (L + 1) / (sp.sin(u) * sp.sin(L * u) ** L)
    rho = sp.sin(u) ** 2 * sp.sin(L * u) ** (L - 1) / sp.sin((L + 1) * u) ** L / sp.pi
    sf = ((L + 1) * u - L * sp.sin(u) * sp.sin((L + 1) * u) / sp.sin(L * u)) / sp.pi
    expr = sp.diff(sf, u) + rho * sp.diff(x, u)
    t = sp.symbols("t", positive=True)
    rational = sp.together(sp.expand(expr.rewrite(sp.exp).subs(sp.exp(sp.I * u), t)))
    rational = sp.simplify(rational.subs(u, -sp.I * sp.log(t)))
    holds = bool(sp.simplify(rational) == 0)
    return holds, f"d(1-F)/du + rho(x(u)) x'(u) simplifies to {sp.simplify(rational)} for L = {L}"


def participation_ratio_limit(depth: int) -> Fraction:
    """``m_1^2 / m_2 = 1/(depth + 1)``: the ``n -> inf`` participation ratio
    ``(sum s_i^2)^2 / (n sum s_i^4)`` of the squared singular values ``s_i^2`` of a product of
    ``depth`` Gaussian matrices (Fuss-Catalan moments ``m_1 = 1``, ``m_2 = depth + 1``).

    >>> participation_ratio_limit(4)
    Fraction(1, 5)
    """
    depth = check_positive_int("depth", depth)
    return Fraction(fuss_catalan_moment(depth, 1) ** 2, fuss_catalan_moment(depth, 2))
