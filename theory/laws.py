"""Spectral laws on a bounded interval: a small ``scipy.stats``-style base class.

A :class:`SpectralLaw` is a probability law on a bounded interval ``[a, b]``, made of an
absolutely continuous part with density ``pdf`` and, optionally, an atom of mass ``atom``
at ``atom_at`` (default ``0.0``; used by free-probability laws of rank-deficient products).
Subclasses implement the density and, when they can do better than the generic
quadrature / root finding, the CDF, the quantile function and exact moments.

What a subclass must provide
----------------------------
``_support(self) -> (a, b)``
    finite floats with ``a < b`` (the closed support of the continuous part; the atom,
    if any, must lie in ``[a, b]``).
``_pdf(self, x)``
    density of the absolutely continuous part, for a float ndarray ``x`` with every entry
    in ``(a, b)`` (the open interval: the base class fills the ends and the outside). It
    must integrate to ``1 - atom`` over ``(a, b)`` and return finite non-negative floats
    (vectorize it: it is called with arrays).

What a subclass may provide (the base class falls back to generic, slower, routes)
------------------------------------------------------------------------------------
``_cdf(self, x)``
    the full CDF ``P(X <= x)`` including the atom, for ``x`` in ``(a, b)``
    (default: ``scipy.integrate.quad`` of ``_pdf`` per point plus the atom).
``_sf(self, x)``
    ``P(X > x)``, for laws that can avoid the cancellation in ``1 - cdf`` near ``b``.
``_ppf(self, q)``
    quantile for ``q`` in ``(0, 1)`` (default: vectorized bisection on ``cdf`` then a
    secant polish). It must return the smallest ``x`` with ``cdf(x) >= q``; in
    particular every ``q <= atom`` (atom at ``a``) maps to ``a``.
``_moment(self, k)``
    exact raw moment ``E X^k`` (int, Fraction or float), including the atom's part.
``_pdf_at_ends(self) -> (pa, pb)``
    the value the public ``pdf`` returns at ``x == a`` and ``x == b`` (default ``(0, 0)``
    when the density vanishes there; a law whose density diverges at an end returns
    ``inf`` for that end and must say so in its docstring).
``edge_exponents``
    class or instance attribute ``(alpha_a, alpha_b)``: ``pdf(x) ~ C (x - a)^alpha_a``
    as ``x -> a`` and ``~ C' (b - x)^alpha_b`` as ``x -> b`` (each ``> -1``). Used by
    quadrature (here and in ``tests/law_conformance.py``) to remove the edge singularity.

Public API (all vectorized over array input; scalars in, floats out)
--------------------------------------------------------------------
``pdf, cdf, sf, ppf, support, mean, var, std, moment, rvs, interval``. Input is
validated: NaN raises :class:`ValueError` (``x must not contain NaN``); ``pdf`` is 0 and
``cdf`` is 0 / 1 outside the support (so ``+-inf`` is accepted by ``pdf``/``cdf``); ``ppf``
requires ``0 <= q <= 1``. Nothing returns NaN.

Examples
--------
A uniform law on [0, 2] in three lines:

>>> import numpy as np
>>> class Uniform02(SpectralLaw):
...     def _support(self):
...         return 0.0, 2.0
...     def _pdf(self, x):
...         return np.full_like(x, 0.5)
>>> law = Uniform02()
>>> float(law.cdf(0.5)), round(law.ppf(0.75), 12), round(law.mean(), 12), round(law.var(), 12)
(0.25, 1.5, 1.0, 0.333333333333)
>>> law.pdf([-1.0, 0.0, 1.0, 2.0, np.inf]).tolist()
[0.0, 0.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import integrate

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.validation import check_int, check_probability

__all__ = ["SpectralLaw"]


def _as_float_array(name: str, value: Any) -> tuple[np.ndarray, tuple]:
    """Flat float ndarray of ``value`` and its shape (``()`` for a shape); NaN -> ValueError."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be a real number or an array of real numbers, got {value!r}") from None
    if np.isnan(arr).any():
        raise ArgumentValueError(f"{name} must not contain NaN")
    return np.array(arr, dtype=float).reshape(-1), arr.shape


def _out(arr: np.ndarray, shape: tuple):
    arr = np.asarray(arr, dtype=float)
    return float(arr.reshape(-1)[0]) if shape == () else arr.reshape(shape)


def _rng(rng: Any) -> np.random.Generator:
    """Generator | SeedSequence | int | None -> Generator (SFC64), as ``numerics.rng.as_generator``.

    ``theory`` may not import ``numerics``; this mirrors its contract exactly.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.Generator(np.random.SFC64(rng))
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ArgumentValueError(f"rng seed must be a non-negative integer, got {rng}")
        return np.random.Generator(np.random.SFC64(int(rng)))
    raise ArgumentTypeError(f"rng must be a numpy Generator, SeedSequence, non-negative int or None, got {type(rng).__name__}")


class SpectralLaw:
    """Base class of probability laws on a bounded interval, optionally with one atom.

    See the module docstring for what a subclass must implement. Attributes:

    atom : float
        Mass of the atom (default 0.0).
    atom_at : float
        Location of the atom (default 0.0).
    edge_exponents : tuple of float
        Power-law exponents of the density at the two ends of the support.
    """

    atom: float = 0.0
    atom_at: float = 0.0
    edge_exponents: tuple[float, float] = (0.0, 0.0)

    # ----------------------------------------------------------------- subclass hooks
    def _support(self) -> tuple[float, float]:  # pragma: no cover - abstract
        raise NotImplementedError("a SpectralLaw subclass must implement _support()")

    def _pdf(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError("a SpectralLaw subclass must implement _pdf(x)")

    def _pdf_at_ends(self) -> tuple[float, float]:
        return 0.0, 0.0

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        # cumulative quadrature between the sorted points: one quad per point
        a, b = self.support()
        order = np.argsort(x, kind="stable")
        xs = x[order]
        pieces = np.empty_like(xs)
        prev = a
        for i, xi in enumerate(xs):
            pieces[i] = self._integrate(self._pdf_scalar, prev, float(xi))
            prev = float(xi)
        vals = np.empty_like(x)
        vals[order] = np.cumsum(pieces)
        return np.clip(vals + self._atom_below(x), 0.0, 1.0)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        return 1.0 - self._cdf(x)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # bracket on a 257-point cdf table, then Illinois (regula falsi) iterations on cdf
        a, b = self.support()
        grid = np.linspace(a, b, 257)
        table = np.asarray(self.cdf(grid))
        i = np.clip(np.searchsorted(table, q, side="left") - 1, 0, len(grid) - 2)
        lo, hi = grid[i], grid[i + 1]
        flo, fhi = table[i] - q, table[i + 1] - q
        side = np.zeros(q.shape, dtype=int)
        for _ in range(100):
            denom = fhi - flo
            safe = np.where(denom > 0, denom, 1.0)
            mid = np.where(denom > 0, (lo * fhi - hi * flo) / safe, 0.5 * (lo + hi))
            mid = np.where((mid <= lo) | (mid >= hi), 0.5 * (lo + hi), mid)
            if np.all((hi - lo) <= 4 * np.finfo(float).eps * np.maximum(np.abs(hi), 1e-300)):
                break
            fm = np.asarray(self.cdf(mid)) - q
            left = fm < 0
            lo, flo = np.where(left, mid, lo), np.where(left, fm, flo)
            hi, fhi = np.where(left, hi, mid), np.where(left, fhi, fm)
            # Illinois: halve the stale end's value when the same side moves twice
            new_side = np.where(left, -1, 1)
            fhi = np.where(left & (side == -1), 0.5 * fhi, fhi)
            flo = np.where(~left & (side == 1), 0.5 * flo, flo)
            side = new_side
            if np.all(np.abs(fm) <= 2 * np.finfo(float).eps):
                return mid
        return hi

    def _moment(self, k: int):
        a, b = self.support()
        cont = self._integrate(lambda t: t**k * self._pdf_scalar(t), a, b)
        return cont + self.atom * (self.atom_at**k if k > 0 else 1.0)

    # ----------------------------------------------------------------- helpers
    def _pdf_scalar(self, t: float) -> float:
        return float(self._pdf(np.array([float(t)]))[0])

    def _atom_below(self, x: np.ndarray) -> np.ndarray:
        if self.atom == 0.0:
            return np.zeros_like(x)
        return np.where(x >= self.atom_at, self.atom, 0.0)

    def _integrate(self, f, lo: float, hi: float) -> float:
        """``int_lo^hi f`` by quad, with the edge singularities (``edge_exponents``) mapped away."""
        a, b = self.support()
        if hi <= lo:
            return 0.0
        mid = 0.5 * (a + b)
        total = 0.0
        # left piece [lo, min(hi, mid)] with x = a + (c - a) t^m removes (x - a)^alpha_a
        for left, right, end, alpha in ((lo, min(hi, mid), "a", self.edge_exponents[0]),
                                        (max(lo, mid), hi, "b", self.edge_exponents[1])):
            if right <= left:
                continue
            m = max(1.0, 2.0 / (1.0 + alpha)) if alpha < 0 else 1.0
            if end == "a":
                span = right - a
                t0 = ((left - a) / span) ** (1.0 / m)

                def g(t, span=span, m=m):
                    x = a + span * t**m
                    return float(f(x)) * span * m * t ** (m - 1.0) if x > a else 0.0

                total += integrate.quad(g, t0, 1.0, limit=200, epsabs=0.0, epsrel=1e-13)[0]
            else:
                span = b - left
                t0 = ((b - right) / span) ** (1.0 / m)

                def g(t, span=span, m=m):
                    x = b - span * t**m
                    return float(f(x)) * span * m * t ** (m - 1.0) if x < b else 0.0

                total += integrate.quad(g, t0, 1.0, limit=200, epsabs=0.0, epsrel=1e-13)[0]
        return total

    # ----------------------------------------------------------------- public API
    def support(self) -> tuple[float, float]:
        """The closed interval ``(a, b)`` carrying the law."""
        a, b = self._support()
        return float(a), float(b)

    def pdf(self, x):
        """Density of the absolutely continuous part (the atom is not included).

        0 outside ``[a, b]``; the values at the two ends are ``_pdf_at_ends()``.
        """
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = np.zeros_like(x)
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = self._pdf(x[inside])
        pa, pb = self._pdf_at_ends()
        out[x == a] = pa
        out[x == b] = pb
        return _out(out, shape)

    def cdf(self, x):
        """``P(X <= x)``, atom included; 0 below ``a`` (unless the atom sits at ``a``), 1 from ``b`` on."""
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = np.where(x >= b, 1.0, 0.0)
        out = np.maximum(out, self._atom_below(x))
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = np.clip(self._cdf(x[inside]), 0.0, 1.0)
        return _out(out, shape)

    def sf(self, x):
        """Survival function ``P(X > x) = 1 - cdf(x)`` (computed without cancellation where the law allows)."""
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = 1.0 - np.where(x >= b, 1.0, np.maximum(0.0, self._atom_below(x)))
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = np.clip(self._sf(x[inside]), 0.0, 1.0)
        return _out(out, shape)

    def ppf(self, q):
        """Quantile: the smallest ``x`` in ``[a, b]`` with ``cdf(x) >= q``, for ``0 <= q <= 1``."""
        q, shape = _as_float_array("q", q)
        if ((q < 0) | (q > 1)).any():
            raise ArgumentValueError("q must lie in [0, 1]")
        a, b = self.support()
        out = np.where(q >= 1.0, b, a)
        inner = (q > 0) & (q < 1)
        if self.atom > 0 and self.atom_at == a:
            inner &= q > self.atom
        if inner.any():
            out[inner] = np.clip(self._ppf(q[inner]), a, b)
        return _out(out, shape)

    def isf(self, q):
        """Inverse survival function ``ppf(1 - q)``."""
        q, shape = _as_float_array("q", q)
        return _out(np.asarray(self.ppf(1.0 - q), dtype=float), shape)

    def moment(self, k: int):
        """Raw moment ``E X^k`` (atom included); exact type if the subclass provides one."""
        k = check_int("k", k, minimum=0)
        if k == 0:
            return 1
        return self._moment(k)

    def mean(self) -> float:
        """``E X``."""
        return float(self.moment(1))

    def var(self) -> float:
        """``E X^2 - (E X)^2`` (computed exactly when the moments are exact)."""
        m1, m2 = self.moment(1), self.moment(2)
        if isinstance(m1, (int, Fraction)) and isinstance(m2, (int, Fraction)):
            return float(Fraction(m2) - Fraction(m1) ** 2)
        return float(m2 - m1 * m1)

    def std(self) -> float:
        """Standard deviation ``sqrt(var())``."""
        return math.sqrt(self.var())

    def interval(self, confidence: float):
        """Equal-tail interval ``(ppf((1 - c)/2), ppf((1 + c)/2))`` holding mass ``confidence``."""
        c = check_probability("confidence", confidence)
        lo, hi = self.ppf(np.array([(1.0 - c) / 2.0, (1.0 + c) / 2.0]))
        return float(lo), float(hi)

    def rvs(self, size=None, *, rng=None):
        """Samples by inverse-CDF: ``ppf(U)``, ``U`` uniform on [0, 1) drawn from ``rng``.

        ``rng``: numpy Generator, SeedSequence, non-negative int or None (SFC64, as
        ``numerics.rng.as_generator``). ``size``: None (one float), int or shape tuple.
        """
        g = _rng(rng)
        if size is not None:
            if isinstance(size, numbers.Integral):
                size = (check_int("size", size, minimum=0),)
            else:
                size = tuple(check_int("size", s, minimum=0) for s in size)
        u = g.random(size)
        return self.ppf(u)

    def __repr__(self) -> str:
        a, b = self.support()
        extra = f", atom={self.atom!r} at {self.atom_at!r}" if self.atom else ""
        return f"{type(self).__name__}(support=[{a!r}, {b!r}]{extra})"
