"""Building blocks of S-transform products: the factors and their transforms, numerically.

An :class:`~degeneracy.theory.s_transform.STransform` is a product of factors of two kinds:

* a **linear factor** ``(a + b z)^e`` (:class:`_Linear`): Marchenko-Pastur (Wishart) laws,
  Bernoulli masks and scalings have S-transforms of this form;
* a **law factor** ``S_mu(z)^e`` for a law ``mu`` on ``[0, inf)``: given by its atoms
  ``sum_i w_i delta_{v_i}`` (:class:`_Discrete`, exact when the atoms are) or a continuous (or
  mixed) law such as the law of ``phi'(h)^2`` (:class:`_Measure`, holding a
  :class:`~degeneracy.theory.pushforward_law.PushforwardLaw`).

For a law factor the S-transform is implicit: with the moment generating function
``psi(z) = int t z / (1 - t z) dmu(t)`` and ``chi = psi^{-1}``, ``S(m) = chi(m) (1 + m) / m``
(Voiculescu; Mingo & Speicher, *Free Probability and Random Matrices*, ch. 3; docs/formulas.md, "Conventions").
The density solver (:mod:`degeneracy.theory.free_density`) uses ``z = chi(m)`` as its unknown
and evaluates ``m = psi(z)``, ``1 + m`` (summed without cancellation) and ``dpsi/dz`` through
the ``parts`` method of :func:`law_numeric`.

Examples
--------
>>> d = _DiscreteNumeric.of(_Discrete((0, 1), (0.5, 0.5), 1))
>>> m, opm, dm = d.parts(np.array([0.5]))
>>> complex(m[0]), complex(opm[0])          # psi(1/2) = (1/2)(1/2)/(1 - 1/2)
((0.5+0j), (1.5+0j))
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp
from scipy import optimize

__all__ = ["law_numeric", "law_moments_exact", "OneMinus", "linear_offset", "s_from_psi"]


def _exact(v):
    """A sympy number: ints/Fractions/sympy exact; floats kept as floats."""
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    return sp.sympify(v)


class OneMinus(float):
    """The float ``1 - c`` that remembers ``c`` exactly: a Bernoulli probability ``p`` next to 1
    (a hard-tanh mask at small ``q*`` has ``1 - p = erfc(1/sqrt(2 q*)) ~ 1e-15``, below the
    resolution of ``p`` itself).

    >>> p = OneMinus(1e-15)
    >>> float(p) == 1.0 - 1e-15, linear_offset(p, 1)
    (True, -1e-15)
    """

    c: float

    def __new__(cls, c):
        obj = float.__new__(cls, 1.0 - float(c))
        obj.c = float(c)
        return obj

    def __reduce__(self):
        return (OneMinus, (self.c,))


def linear_offset(a, b) -> float:
    """``a - b`` computed without cancellation when ``a`` is a :class:`OneMinus`."""
    if isinstance(a, OneMinus):
        return (1.0 - float(b)) - a.c
    return float(a) - float(b)


@dataclass(frozen=True)
class _Linear:
    """The factor ``(a + b z)^e`` with ``a > 0``, ``b >= 0``, integer ``e``."""

    a: object
    b: object
    e: int


@dataclass(frozen=True)
class _Discrete:
    """The S-transform of ``sum_i w_i delta_{v_i}`` raised to the integer ``e``."""

    values: tuple
    weights: tuple
    e: int


@dataclass(frozen=True)
class _Measure:
    """The S-transform of a continuous (or mixed) building-block law raised to the integer ``e``;
    ``law`` is a :class:`~degeneracy.theory.pushforward_law.PushforwardLaw` (hashable)."""

    law: object
    e: int


def law_numeric(f):
    """The numeric transforms (``parts``, ``psi``, ``s_series``, ...) of a law factor."""
    return f.law if isinstance(f, _Measure) else _DiscreteNumeric.of(f)


def law_moments_exact(f, n: int) -> list:
    """Moments ``E t^k``, ``k = 1..n``, of a law factor: exact sympy numbers for atoms given
    exactly, sympy Floats for a continuous law."""
    if isinstance(f, _Measure):
        return [sp.Float(m, 17) for m in f.law.moments(n)]
    return [sum(_exact(w) * _exact(v) ** k for v, w in zip(f.values, f.weights)) for k in range(1, n + 1)]



class _DiscreteNumeric:
    """Numeric transforms of the law ``sum_i w_i delta_{v_i}`` (atoms at 0 kept apart as ``w0``)."""

    _cache: dict = {}
    pieces: tuple = ()

    def __init__(self, f: _Discrete):
        v = np.array([float(x) for x in f.values])
        w = np.array([float(x) for x in f.weights])
        keep = v > 0
        self.v, self.w = v[keep], w[keep]
        self.w0 = float(w[~keep].sum())
        self.vmax = float(self.v.max())
        self.wmax = float(self.w[np.argmax(self.v)])

    @classmethod
    def of(cls, f: _Discrete) -> "_DiscreteNumeric":
        key = (f.values, f.weights)
        if key not in cls._cache:
            cls._cache[key] = cls(f)
        return cls._cache[key]

    def inside_support(self, z):
        """Atoms only: no real ``z`` lies inside a continuous support."""
        return np.zeros(np.shape(z), bool)

    def moments(self, n: int) -> list:
        return [float(np.sum(self.w * self.v**k)) for k in range(1, n + 1)]

    def parts(self, z, level: int = 0):
        """``(m, 1 + m, dm/dz)`` at ``z``: ``m = psi(z) = z sum_j w_j v_j r_j``,
        ``1 + m = w_0 + sum_j w_j r_j`` (no cancellation near ``m = -1``),
        ``psi'(z) = sum_j w_j v_j r_j^2``, with ``r_j = 1 / (1 - v_j z)``."""
        zz = np.asarray(z)
        r = 1.0 / (1.0 - self.v * zz[..., None])
        wv = self.w * self.v
        return zz * (r @ wv), self.w0 + r @ self.w, (r * r) @ wv

    def psi(self, z):
        z = np.asarray(z)[..., None]
        return np.sum(self.w * self.v * z / (1 - self.v * z), axis=-1)

    def dpsi(self, z):
        z = np.asarray(z)[..., None]
        return np.sum(self.w * self.v / (1 - self.v * z) ** 2, axis=-1)

    def s_series(self, n):
        mom = [0.0] + [float(np.sum(self.w * self.v ** k)) for k in range(1, n + 2)]
        # float reversion via Lagrange
        psi = np.array(mom[: n + 2])
        q = np.zeros(n + 2)
        # z/psi(z) series: reciprocal of psi[1:]
        a = psi[1:]
        q[0] = 1 / a[0]
        for k in range(1, n + 1):
            q[k] = -sum(a[j] * q[k - j] for j in range(1, k + 1)) / a[0]
        chi = np.zeros(n + 2)
        for k in range(1, n + 2):
            pk = np.array([1.0])
            for _ in range(k):
                pk = np.convolve(pk, q[:k])[:k]
            chi[k] = pk[k - 1] / k
        c = chi[1:]
        return [c[k] + (c[k - 1] if k >= 1 else 0.0) for k in range(n)]

    def s_of_m(self, m):
        """S_D(m) by Newton on psi(z) = m from z = m / mean (small |m| only)."""
        return s_from_psi(self, m, float(np.sum(self.w * self.v)))


def s_from_psi(law, m, mean: float):
    """``S(m) = z (1 + m) / m`` with ``psi(z) = m``, by Newton's method from ``z = m / mean``
    (:func:`scipy.optimize.newton`, vectorized over complex ``m``; small ``|m|``, the series region)."""
    m = np.asarray(m, dtype=complex)
    flat = m.ravel()
    z = flat / mean
    nz = flat != 0
    if np.any(nz):
        z[nz] = optimize.newton(lambda t, target: law.parts(t)[0] - target, z[nz], fprime=lambda t, target: law.parts(t)[2],
                                args=(flat[nz],), tol=1e-15, maxiter=60)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(flat == 0, 1 / mean, z * (1 + flat) / np.where(flat == 0, 1, flat))
    return out.reshape(m.shape)
