"""The Marchenko-Pastur law of one Wishart factor, any aspect ratio, atom included (docs/formulas.md §1).

The ``N -> inf`` law of the eigenvalues of ``X X^T`` for ``X`` an ``N x M`` matrix with i.i.d.
entries of variance ``scale / M`` and ``N / M -> ratio`` (Marchenko & Pastur, Math. USSR-Sb. 1,
457 (1967)). It is the building block of the products laws: ``ratio = 1`` is the Fuss-Catalan
law of depth 1, and its S-transform ``1 / (scale (1 + ratio z))`` is
``STransform.wishart(ratio, scale)``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from degeneracy.errors import ArgumentTypeError, NumericalFailure
from degeneracy.validation import check_real

from .laws import SpectralLaw

__all__ = ["MarchenkoPastur", "marchenko_pastur"]

#: below this angle from an edge the closed-form cdf cancels (``F ~ angle^3``): integrate instead
_ANGLE_SWITCH = 0.3


def _exact_or_float(name: str, value):
    """Keep ints and Fractions exact (so the moments are exact); validate as a positive real."""
    check_real(name, value, lo=0.0, lo_open=True)
    if isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be a real number, got {value!r}")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    return float(value)


class MarchenkoPastur(SpectralLaw):
    """The Marchenko-Pastur law with aspect ratio ``lambda = N/M`` and scale ``sigma^2`` (the mean).

    Use :func:`marchenko_pastur` to build one. With ``a, b = sigma^2 (1 -+ sqrt(lambda))^2``:

    .. math::
        \\rho(x) = \\frac{\\sqrt{(b - x)(x - a)}}{2 \\pi \\sigma^2 \\lambda x} \\quad (a < x < b),
        \\qquad \\text{atom } 1 - 1/\\lambda \\text{ at } 0 \\text{ when } \\lambda > 1.

    The continuous part carries mass ``min(1, 1/lambda)``. Support: ``[a, b]`` for
    ``lambda <= 1``; ``[0, b]`` for ``lambda > 1`` (the atom at 0, no density on ``(0, a)``;
    :attr:`intervals` is the support of the continuous part). Edges: ``sqrt`` at ``a`` and ``b``,
    but ``rho ~ 1/(pi sigma sqrt(x))`` at ``a = 0`` when ``lambda = 1`` (``pdf(0) = inf``).
    Moments (Narayana polynomials): ``m_k = sigma^(2k) sum_{j<k} lambda^j binom(k, j)
    binom(k-1, j) / (j + 1)``, exact ``Fraction`` when ``ratio`` and ``scale`` are ints or
    Fractions. Differential entropy exists only for ``lambda <= 1`` (no atom).

    Distribution function (derived here: ``x = m - r cos(phi)``, ``m = sigma^2 (1 + lambda)``,
    ``r = 2 sigma^2 sqrt(lambda)``; tested against quadrature of the density):

    .. math::
        F(x) = \\text{atom} + \\frac{1}{\\pi}\\Big[\\frac{\\sin\\phi}{\\sqrt\\lambda}
        + \\frac{(1 + \\lambda)\\phi}{2\\lambda} - \\frac{|1 - \\lambda|}{\\lambda}
        \\arctan\\Big(\\frac{1 + \\sqrt\\lambda}{|1 - \\sqrt\\lambda|}\\tan\\frac{\\phi}{2}\\Big)\\Big],

    and ``sf`` the same with ``phi -> pi - phi``, ``r -> -r``. Within 0.3 rad of an edge where
    the terms cancel (``F ~ phi^3``) the tail is integrated instead, in the angle, where the integrand is smooth and free of
    cancellation (``scipy.integrate.tanhsinh``), keeping relative accuracy; quantiles by ``scipy.optimize.elementwise.find_root``.
    """

    def __init__(self, ratio, scale=1):
        self.ratio = _exact_or_float("ratio", ratio)
        self.scale = _exact_or_float("scale", scale)
        lam, s2 = float(self.ratio), float(self.scale)
        self._lam, self._s2 = lam, s2
        self._sq = math.sqrt(lam)
        self._lo = s2 * (1.0 - self._sq) ** 2
        self._hi = s2 * (1.0 + self._sq) ** 2
        self._m, self._r = s2 * (1.0 + lam), 2.0 * s2 * self._sq
        self.atom = max(0.0, 1.0 - 1.0 / lam) if lam > 1 else 0.0
        self.atom_at = 0.0
        self.edge_exponents = (-0.5 if lam == 1.0 else (0.5 if lam < 1 else 0.0), 0.5)

    def __repr__(self) -> str:
        def show(v):
            return repr(int(v)) if isinstance(v, Fraction) and v.denominator == 1 else repr(v)

        return f"marchenko_pastur(ratio={show(self.ratio)}, scale={show(self.scale)})"

    @property
    def intervals(self) -> list:
        """Support of the continuous part: ``[(a, b)]``."""
        return [(self._lo, self._hi)]

    def _support(self):
        return (0.0 if self._lam >= 1 else self._lo), self._hi

    def _pdf_at_ends(self):
        return (math.inf if self._lam == 1.0 else 0.0), 0.0

    def _logpdf(self, x):
        out = np.full_like(x, -np.inf)
        inside = (x > self._lo) & (x < self._hi)
        xi = x[inside]
        out[inside] = 0.5 * (np.log(self._hi - xi) + np.log(xi - self._lo)) - np.log(
            2.0 * math.pi * self._s2 * self._lam * xi)
        return out

    def _pdf(self, x):
        return np.exp(self._logpdf(x))

    def _closed(self, angle, sign):
        """The bracket of the closed form at ``angle`` (``sign = +1``: cdf from ``a``; ``-1``: sf from ``b``)."""
        lam, sq = self._lam, self._sq
        k = (1.0 + sq) / abs(1.0 - sq) if lam != 1.0 else math.inf
        ratio = k if sign > 0 else 1.0 / k
        atan = np.arctan(ratio * np.tan(0.5 * angle)) if lam != 1.0 else 0.0
        return (sign * np.sin(angle) / sq + (1.0 + lam) * angle / (2.0 * lam) - abs(1.0 - lam) / lam * atan) / math.pi

    def _angles(self, xc):
        """``(phi, pi - phi)`` with ``x = m - r cos(phi)``, each from the nearer edge (arcsin is
        ill-conditioned near 1)."""
        near_a = xc - self._lo <= self._hi - xc
        sa = 2.0 * np.arcsin(np.sqrt(np.clip((xc - self._lo) / (2.0 * self._r), 0.0, 1.0)))
        sb = 2.0 * np.arcsin(np.sqrt(np.clip((self._hi - xc) / (2.0 * self._r), 0.0, 1.0)))
        return np.where(near_a, sa, math.pi - sb), np.where(near_a, math.pi - sa, sb)

    def _cont_cdf(self, x):
        """Continuous mass in ``(a, x]`` for ``a < x < b``."""
        xc = np.clip(x, self._lo, self._hi)
        phi = self._angles(xc)[0]
        out = self._closed(phi, +1)
        near = (phi < _ANGLE_SWITCH) & (self._lam != 1.0) & (xc > self._lo)
        if near.any():
            out[near] = self._edge_integral(phi[near], +1)
        return out

    def _edge_integral(self, angle, sign):
        """The continuous mass within ``angle`` of an edge: ``(2 sigma^2/pi) int_0^angle sin^2 t / D(t) dt``,
        ``D = a + 2 r sin^2(t/2)`` from ``a`` (``sign = +1``), ``b - 2 r sin^2(t/2)`` from ``b``: a smooth
        integrand without cancellation, by tanh-sinh."""
        base = self._lo if sign > 0 else self._hi

        def f(t):
            return np.sin(t) ** 2 / (base + sign * 2.0 * self._r * np.sin(0.5 * t) ** 2)

        # near lambda = 1 the integrand rises from 0 to 2/r within t ~ c (poles at +-i c): split there
        c = 2.0 * math.asin(math.sqrt(min(1.0, base / (2.0 * self._r)))) if sign > 0 else math.pi
        cuts = np.array([0.0, c, 4 * c, 16 * c])
        lo = np.minimum(cuts[None, :], angle[:, None])
        hi = np.minimum(np.append(cuts[1:], np.inf)[None, :], angle[:, None])
        pieces = self._certified_quad(f, lo.ravel(), hi.ravel(), "edge mass").reshape(lo.shape)
        return 2.0 * self._s2 / math.pi * pieces.sum(axis=1)

    def _cont_sf(self, x):
        """Continuous mass in ``(x, b)`` for ``a < x < b``."""
        xc = np.clip(x, self._lo, self._hi)
        psi = self._angles(xc)[1]
        out = self._closed(psi, -1)
        near = (psi < _ANGLE_SWITCH) & (xc < self._hi)
        if near.any():
            out[near] = self._edge_integral(psi[near], -1)
        return out

    def _cdf(self, x):
        out = np.full_like(x, self.atom)
        inside = x > self._lo
        if inside.any():
            out[inside] = np.where(self._cont_sf(x[inside]) < 0.5, 1.0 - self._cont_sf(x[inside]),
                                   self.atom + self._cont_cdf(x[inside]))
        return out

    def _sf(self, x):
        out = np.full_like(x, 1.0 - self.atom)
        inside = x > self._lo
        if inside.any():
            out[inside] = self._cont_sf(x[inside])
        return out

    def _logcdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self._cdf(x))

    def _logsf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self._sf(x))

    def _ppf(self, q):
        out = np.full_like(q, self._lo)
        rest = q > self.atom
        if rest.any():
            qq = q[rest]
            x = np.empty_like(qq)
            upper = qq > 0.5
            if (~upper).any():
                x[~upper] = self._solve(lambda y, p: self.atom + self._cont_cdf(y) - p, qq[~upper])
            if upper.any():
                x[upper] = self._solve(lambda y, p: p - self._cont_sf(y), 1.0 - qq[upper])
            out[rest] = x
        return out

    def _isf(self, q):
        out = np.empty_like(q)
        small = q < 0.5
        if small.any():
            out[small] = self._solve(lambda y, p: p - self._cont_sf(y), q[small])
        if (~small).any():
            out[~small] = self._ppf(1.0 - q[~small])
        return out

    def _solve(self, f, p):
        """Root of the increasing ``f(x, p)`` on ``[a, b]`` (scipy's Chandrupatla)."""
        from scipy.optimize import elementwise

        res = elementwise.find_root(f, (np.full_like(p, self._lo), np.full_like(p, self._hi)), args=(p,))
        return np.where(res.f_bracket[0] >= 0, res.bracket[0], res.bracket[1])

    def _moment(self, k: int):
        lam, s2 = self.ratio, self.scale
        total = sum(lam**j * math.comb(k, j) * math.comb(k - 1, j) / (j + 1) for j in range(k))
        if isinstance(lam, Fraction) and isinstance(s2, Fraction):
            val = Fraction(s2) ** k * Fraction(total)
            return int(val) if val.denominator == 1 else val
        try:
            val = float(s2) ** k * float(total)
        except OverflowError:
            val = math.inf
        if not math.isfinite(val):
            raise NumericalFailure(f"moment {k} of {self!r} overflows a double")
        return val


def marchenko_pastur(ratio, scale=1) -> MarchenkoPastur:
    """The Marchenko-Pastur law as a distribution object (see :class:`MarchenkoPastur`).

    The ``N -> inf`` law of the eigenvalues of ``X X^T`` for ``X`` of shape ``N x M`` with entries
    of variance ``scale / M`` and ``N / M -> ratio``; mean ``scale``, variance
    ``scale^2 ratio``; an atom of mass ``1 - 1/ratio`` at 0 when ``ratio > 1`` (``X X^T`` has
    rank ``M < N``). Marchenko & Pastur (1967); Bai & Silverstein, *Spectral Analysis of Large
    Dimensional Random Matrices* (2010), ch. 3.

    Parameters
    ----------
    ratio : float, int or Fraction
        ``lambda = N / M > 0``.
    scale : float, int or Fraction
        ``sigma^2 > 0``: the mean eigenvalue (the entries' variance times ``M``).

    Examples
    --------
    >>> law = marchenko_pastur(4)                     # N = 4 M: three quarters of the eigenvalues are 0
    >>> law.atom, law.support(), law.moment(2), law.var()
    (0.75, (0.0, 9.0), 5, 4.0)
    >>> float(law.cdf(0.0)), float(law.ppf(0.5))      # the median is 0
    (0.75, 0.0)
    >>> law = marchenko_pastur(0.25, scale=2)
    >>> [round(e, 12) for e in law.support()], round(law.median(), 10)
    ([0.5, 4.5], 1.8320081414)
    """
    return MarchenkoPastur(ratio, scale)
