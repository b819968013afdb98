"""Free multiplicative convolution: S-transforms, exact moments, certified densities.

Conventions (Voiculescu; Mingo & Speicher, *Free Probability and Random Matrices*, ch. 3;
Pennington, Schoenholz & Ganguli 2017, section 2.3). For a probability law ``mu`` on
``[0, inf)`` with moments ``m_k``:

* moment generating function ``psi(z) = sum_{k>=1} m_k z^k = int t z / (1 - t z) dmu(t)``;
* ``chi = psi^{-1}`` (functional inverse near 0), S-transform ``S(z) = chi(z) (1 + z) / z``;
* free multiplicative convolution: ``S_{mu boxtimes nu} = S_mu S_nu`` (for free A, B the law of
  ``A^{1/2} B A^{1/2}`` has ``S_A S_B``).

Building blocks (each checked against its moments in the tests):

==============================  =========================================  ==========================
law                             S(z)                                        atom at 0
==============================  =========================================  ==========================
Wishart ``X X^T``, ``X`` N x M   ``1 / (1 + lambda z)``, ``lambda = N / M``  ``max(0, 1 - 1/lambda)``
  entries of variance ``1/M``
orthogonal ``O O^T = I``         ``1``                                       0
Bernoulli(p) (0/1 mask)          ``(1 + z) / (p + z)``                       ``1 - p``
discrete ``sum w_i delta_{v_i}`` implicit (``psi`` rational), series exact   ``w`` of ``v = 0``
scaling ``c A``                  ``S_A / c``                                 unchanged
==============================  =========================================  ==========================

Moments by Lagrange inversion: ``z / chi(z) = (1 + z) / S(z)``, hence

    m_k = (1/k) [z^{k-1}] ((1 + z) / S(z))^k.

For ``S = (1 + z)^{-L}`` this gives the Fuss-Catalan numbers ``binom((L+1)k, k) / (Lk + 1)``.

Density. ``M(w) = psi(1/w) = int t / (w - t) dmu(t)`` solves ``w M S(M) = 1 + M``, and the
density is ``rho(x) = -Im M(x + i0) / (pi x)``. We solve it in logarithmic form,
``F(m) = log w + log m - log(1 + m) + log S(m) = 0``, by path continuation along
``w = x e^{i theta}`` from ``theta = pi`` (the negative axis, where the physical root is the
unique real root in ``(-(1 - a_0), 0)``, found by bisection) down to ``theta = 1e-13``,
staying in the upper half plane where ``M`` is analytic, with predictor-corrector steps that
are rejected when the corrector moves too far. The result is certified (residual, sign of
``Im M``, accepted continuation) or :class:`~theory.errors.CertificationError` is raised.
Working with ``log x`` lets densities of depth-100 products (whose mass sits at ``x ~ e^{-100}``)
be evaluated without underflow. Atoms are reported separately: the atom at 0 has mass
``max`` of the factors' atoms at 0 (Belinschi); an atom at ``x_a = 1 / S(inf)`` with mass
``1 - s_inf`` exists when ``S(m) = S(inf) (1 + s_inf / m + O(m^-2))`` with ``s_inf < 1``
(e.g. hard-tanh masks with orthogonal weights: mass ``1 - L (1 - p)`` at ``sigma_w^{2L}``).
Support edges are the critical values of ``x(m) = (1 + m) / (m S(m))`` on the real line.

Examples
--------
>>> S = STransform.wishart() ** 2             # product of two square Gaussian matrices
>>> moments_from_s_transform(S, 4)
[1, 3, 12, 55]
>>> law = S.law()
>>> round(law.mean(), 12), round(law.var(), 12)
(1.0, 2.0)
>>> round(law.support()[1], 10)               # (L+1)^(L+1) / L^L at L = 2
6.75
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np
import sympy as sp
from scipy import optimize

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, CertificationError
from degeneracy.validation import (
    check_finite_array,
    check_int,
    check_positive_int,
    check_probability,
    check_real,
)

from .laws import SpectralLaw

__all__ = [
    "STransform",
    "FreeProductLaw",
    "moments_from_s_transform",
    "s_transform_from_moments",
    "lagrange_moments",
    "CertificationError",
]

_Z = sp.Symbol("z")


def _exact(v):
    """A sympy number: ints/Fractions/sympy exact; floats kept as floats."""
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    return sp.sympify(v)


# --------------------------------------------------------------------------------------------
# S-transform objects
# --------------------------------------------------------------------------------------------


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


class STransform:
    """An S-transform ``S(z) = c * prod_j (a_j + b_j z)^{e_j} * prod_k S_{D_k}(z)^{e_k}``.

    Objects multiply (free multiplicative convolution) and take positive integer powers
    (``S ** L`` is the L-fold free convolution power). Build them with the class methods
    :meth:`wishart`, :meth:`orthogonal`, :meth:`bernoulli`, :meth:`discrete`, :meth:`scale`.

    Parameters are kept exact when given as int, :class:`fractions.Fraction` or sympy numbers,
    so :meth:`moments` can be exact; floats are used as floats.

    Examples
    --------
    >>> S = STransform.bernoulli(sp.Rational(1, 2)) * STransform.wishart()
    >>> S.sympy()
    1/(z + 1/2)
    >>> S.moments(3)
    [1/2, 3/4, 11/8]
    """

    __slots__ = ("const", "linear", "discrete_factors", "_atom0")

    def __init__(self, const=1, linear: Sequence[_Linear] = (), discrete: Sequence[_Discrete] = (), atom0=0):
        self.const = const
        self.linear = tuple(linear)
        self.discrete_factors = tuple(discrete)
        self._atom0 = atom0

    # ---- constructors ---------------------------------------------------------------------
    @classmethod
    def wishart(cls, ratio=1, variance=1) -> "STransform":
        """Marchenko-Pastur: ``X X^T`` with ``X`` of shape ``N x M``, ``ratio = N/M``.

        Entries of ``X`` have variance ``variance / M`` (so the mean eigenvalue is
        ``variance``): ``S(z) = 1 / (variance (1 + ratio z))``. ``ratio = 1``, ``variance = 1``
        is the square Gaussian weight matrix ``W W^T`` with entries of variance ``1/N``.

        >>> STransform.wishart(2).sympy()
        1/(2*z + 1)
        """
        r = ratio if isinstance(ratio, (Fraction, sp.Basic)) else check_real("ratio", ratio, lo=0, lo_open=True)
        v = variance if isinstance(variance, (Fraction, sp.Basic)) else check_real(
            "variance", variance, lo=0, lo_open=True)
        if isinstance(ratio, numbers.Integral):
            r = int(ratio)
        if isinstance(variance, numbers.Integral):
            v = int(variance)
        atom = max(0, 1 - 1 / _exact(r)) if float(r) > 1 else 0
        return cls(const=1 / _exact(v), linear=(_Linear(1, _exact(r), -1),), atom0=atom)

    @classmethod
    def orthogonal(cls, scale=1) -> "STransform":
        """``(scale O)(scale O)^T = scale^2 I``: ``S = 1 / scale^2`` (the identity law for 1)."""
        s = scale if isinstance(scale, (numbers.Integral, Fraction, sp.Basic)) else check_real(
            "scale", scale, lo=0, lo_open=True)
        return cls(const=1 / _exact(s) ** 2)

    @classmethod
    def bernoulli(cls, p) -> "STransform":
        """Bernoulli(p) on {0, 1}: ``S(z) = (1 + z) / (p + z)`` (a derivative mask ``D^2``).

        ``psi(z) = p z / (1 - z)``, so ``chi(y) = y / (p + y)`` and ``S = chi (1 + y) / y``.

        >>> STransform.bernoulli(Fraction(1, 4)).moments(3)
        [1/4, 1/4, 1/4]
        """
        if isinstance(p, (Fraction, sp.Basic)):
            pv = float(p)
            if not 0 < pv <= 1:
                raise ArgumentValueError(f"p must be in (0, 1], got {p!r}")
        else:
            check_probability("p", p, open_left=True)
        return cls(linear=(_Linear(1, 1, 1), _Linear(_exact(p), 1, -1)), atom0=1 - _exact(p))

    @classmethod
    def discrete(cls, values, weights) -> "STransform":
        """The law ``sum_i w_i delta_{v_i}`` (``v_i >= 0``, ``w_i > 0``, ``sum w_i = 1``).

        Its S-transform is implicit (``psi`` is rational); moments and series are exact when
        the inputs are exact, and densities of products use the root ``z`` of ``psi(z) = m``.

        >>> STransform.discrete([0, 2], [Fraction(1, 2), Fraction(1, 2)]).moments(2)
        [1, 2]
        """
        vals = [v if isinstance(v, (numbers.Integral, Fraction, sp.Basic)) else
                check_real("values", v, lo=0) for v in values]
        wts = [w if isinstance(w, (numbers.Integral, Fraction, sp.Basic)) else
               check_real("weights", w, lo=0, lo_open=True) for w in weights]
        if len(vals) != len(wts) or not vals:
            raise ArgumentValueError("values and weights must be non-empty and of equal length")
        if any(float(v) < 0 for v in vals) or any(float(w) <= 0 for w in wts):
            raise ArgumentValueError("values must be >= 0 and weights > 0")
        total = sum(_exact(w) for w in wts)
        if abs(float(total) - 1) > 1e-12:
            raise ArgumentValueError(f"weights must sum to 1, got {float(total)!r}")
        if all(float(v) == 0 for v in vals):
            raise ArgumentValueError("values must not all be 0 (the S-transform of delta_0 does not exist)")
        # merge equal values
        merged: dict = {}
        for v, w in zip(vals, wts):
            key = _exact(v)
            merged[key] = merged.get(key, 0) + _exact(w)
        keys = sorted(merged, key=float)
        atom = sum((w for k, w in merged.items() if float(k) == 0), sp.Integer(0))
        return cls(discrete=(_Discrete(tuple(keys), tuple(merged[k] for k in keys), 1),), atom0=atom)

    @classmethod
    def scale(cls, c) -> "STransform":
        """Multiplication of the law by ``c > 0``: ``S_{cA} = S_A / c`` (compose with ``*``)."""
        cv = c if isinstance(c, (numbers.Integral, Fraction, sp.Basic)) else check_real("c", c, lo=0, lo_open=True)
        if float(cv) <= 0:
            raise ArgumentValueError(f"c must be > 0, got {c!r}")
        return cls(const=1 / _exact(cv))

    # ---- algebra --------------------------------------------------------------------------
    def __mul__(self, other: "STransform") -> "STransform":
        if not isinstance(other, STransform):
            return NotImplemented
        lin: dict = {}
        for f in self.linear + other.linear:
            lin[(f.a, f.b)] = lin.get((f.a, f.b), 0) + f.e
        disc: dict = {}
        for f in self.discrete_factors + other.discrete_factors:
            disc[(f.values, f.weights)] = disc.get((f.values, f.weights), 0) + f.e
        atom = self._atom0 if float(self._atom0) >= float(other._atom0) else other._atom0
        return STransform(
            const=sp.nsimplify(self.const * other.const) if False else self.const * other.const,
            linear=tuple(_Linear(a, b, e) for (a, b), e in sorted(lin.items(), key=lambda t: (float(t[0][0]), float(t[0][1]))) if e != 0),
            discrete=tuple(_Discrete(v, w, e) for (v, w), e in disc.items() if e != 0),
            atom0=atom,
        )

    __rmul__ = __mul__

    def __pow__(self, n: int) -> "STransform":
        n = check_positive_int("power", n)
        out = self
        for _ in range(n - 1):
            out = out * self
        return out

    def _key(self):
        return (sp.nsimplify(self.const), tuple(sorted((str(f.a), str(f.b), f.e) for f in self.linear)),
                tuple(sorted((str(f.values), str(f.weights), f.e) for f in self.discrete_factors)))

    def __eq__(self, other) -> bool:
        if not isinstance(other, STransform):
            return NotImplemented
        if self.discrete_factors or other.discrete_factors:
            return self._key() == other._key()
        return sp.simplify(self.sympy() - other.sympy()) == 0

    def __hash__(self):
        return hash(str(self._key()))

    def __repr__(self) -> str:
        parts = [f"{self.const}"] + [f"({f.a} + {f.b} z)^{f.e}" for f in self.linear]
        parts += [f"S_discrete{len(f.values)}^{f.e}" for f in self.discrete_factors]
        return "STransform(" + " * ".join(parts) + ")"

    # ---- values ---------------------------------------------------------------------------
    @property
    def atom_at_zero(self) -> float:
        """Mass of the atom at 0 of the law (max over the factors' atoms at 0)."""
        return float(self._atom0)

    def sympy(self, z: sp.Symbol = _Z) -> sp.Expr:
        """The S-transform as a sympy expression in ``z`` (raises for discrete factors)."""
        if self.discrete_factors:
            raise NotImplementedError("discrete factors have no closed-form S-transform; use series()")
        expr = sp.sympify(self.const)
        for f in self.linear:
            expr *= (sp.sympify(f.a) + sp.sympify(f.b) * z) ** f.e
        return expr

    def __call__(self, z):
        """Numeric ``S(z)`` for real or complex ``z`` (near 0 for discrete factors)."""
        z = np.asarray(z, dtype=complex)
        out = complex(float(self.const)) * np.ones_like(z)
        for f in self.linear:
            out = out * (float(f.a) + float(f.b) * z) ** f.e
        for f in self.discrete_factors:
            d = _DiscreteNumeric.of(f)
            out = out * d.s_of_m(z) ** f.e
        return out if out.ndim else complex(out)

    def series(self, order: int) -> list:
        """Exact Taylor coefficients ``[s_0, ..., s_{order-1}]`` of ``S`` at 0 (sympy)."""
        order = check_positive_int("order", order)
        return _series_of_s(self, order)

    def moments(self, order: int) -> list:
        """Exact moments ``[m_1, ..., m_order]`` by Lagrange inversion (sympy numbers)."""
        return moments_from_s_transform(self, order)

    def numeric_moments(self, order: int) -> np.ndarray:
        """Moments ``m_1..m_order`` in float arithmetic (fast; for large depth and float inputs)."""
        order = check_positive_int("order", order)
        return _numeric_moments(self, order)

    def mean(self) -> float:
        """``m_1 = 1 / S(0)``."""
        return float(self.numeric_moments(1)[0])

    def normalized_variance(self) -> float:
        """``Var / mean^2 = m_2 / m_1^2 - 1 = -S'(0) / S(0)``; adds under multiplication."""
        m = self.numeric_moments(2)
        return float(m[1] / m[0] ** 2 - 1)

    def law(self) -> "FreeProductLaw":
        """The probability law with this S-transform, as a distribution object."""
        return FreeProductLaw(self)


# --------------------------------------------------------------------------------------------
# Series and moments
# --------------------------------------------------------------------------------------------


def _poly_mul(a: list, b: list, n: int) -> list:
    out = [sp.Integer(0)] * n
    for i, ai in enumerate(a[:n]):
        if ai == 0:
            continue
        for j, bj in enumerate(b[: n - i]):
            out[i + j] += ai * bj
    return [sp.expand(c) for c in out]


def _poly_inv(a: list, n: int) -> list:
    """Series reciprocal of ``a`` (``a[0] != 0``) to ``n`` terms."""
    inv = [sp.Integer(0)] * n
    inv[0] = 1 / a[0]
    for k in range(1, n):
        s = sum(a[j] * inv[k - j] for j in range(1, min(k, len(a) - 1) + 1))
        inv[k] = sp.expand(-s / a[0])
    return inv


def _poly_pow(a: list, k: int, n: int) -> list:
    out = [sp.Integer(1)] + [sp.Integer(0)] * (n - 1)
    base = list(a[:n]) + [sp.Integer(0)] * max(0, n - len(a))
    while k:
        if k & 1:
            out = _poly_mul(out, base, n)
        k >>= 1
        if k:
            base = _poly_mul(base, base, n)
    return out


def _reverse_series(psi: list, n: int) -> list:
    """Coefficients ``[0, c_1, ..., c_{n-1}]`` of the inverse of ``psi = [0, p_1, ...]``."""
    # Lagrange: [y^k] chi(y) = (1/k) [z^{k-1}] (z / psi(z))^k
    q = _poly_inv(psi[1:] + [sp.Integer(0)], n)  # z / psi(z)
    out = [sp.Integer(0)] * n
    for k in range(1, n):
        out[k] = sp.expand(_poly_pow(q, k, k)[k - 1] / k)
    return out


def _discrete_series(f: _Discrete, order: int) -> list:
    """Series of ``S_D`` for a discrete law, exactly, from its moments by reversion."""
    n = order + 1
    mom = [sp.Integer(0)] + [sum(_exact(w) * _exact(v) ** k for v, w in zip(f.values, f.weights)) for k in range(1, n + 1)]
    chi = _reverse_series(mom[: n + 1], n + 1)  # chi[0] = 0
    # S = chi(z) (1 + z) / z
    c = chi[1:]
    s = [sp.expand(c[k] + (c[k - 1] if k >= 1 else 0)) for k in range(order)]
    return s


def _series_of_s(S, order: int, z: sp.Symbol | None = None) -> list:
    if isinstance(S, STransform):
        out = [sp.sympify(S.const)] + [sp.Integer(0)] * (order - 1)
        for f in S.linear:
            a, b = _exact(f.a), _exact(f.b)
            fac = [sp.expand(sp.binomial(f.e, j) * a ** (f.e - j) * b ** j) for j in range(order)]
            out = _poly_mul(out, fac, order)
        for f in S.discrete_factors:
            base = _discrete_series(f, order)
            if f.e > 0:
                out = _poly_mul(out, _poly_pow(base, f.e, order), order)
            else:
                out = _poly_mul(out, _poly_pow(_poly_inv(base, order), -f.e, order), order)
        return out
    expr = sp.sympify(S)
    if z is None:
        free = sorted(expr.free_symbols, key=lambda s: s.name)
        cands = [s for s in free if s.name == "z"]
        if not cands:
            raise ArgumentValueError("S must be a sympy expression in a symbol named 'z' (or pass z=)")
        z = cands[0]
    ser = sp.series(expr, z, 0, order).removeO()
    return [sp.expand(ser.coeff(z, k)) for k in range(order)]


def lagrange_moments(R: list, order: int) -> list:
    """``m_k = (1/k) [z^{k-1}] R(z)^k`` for ``k = 1..order`` (``R = (1+z)/S`` as a series)."""
    out = []
    for k in range(1, order + 1):
        pk = _poly_pow(R, k, k)
        out.append(sp.factor(sp.expand(pk[k - 1] / k)) if pk[k - 1].free_symbols else sp.nsimplify(pk[k - 1] / k) if pk[k - 1].is_Float is False and False else sp.expand(pk[k - 1] / k))
    return out


def moments_from_s_transform(S, order: int, z: sp.Symbol | None = None) -> list:
    """Exact moments ``[m_1, ..., m_order]`` of the law whose S-transform is ``S``.

    Lagrange inversion of ``chi(z) = z S(z) / (1 + z)``:
    ``m_k = (1/k) [z^{k-1}] ((1 + z) / S(z))^k`` (Mingo & Speicher, ch. 3; the S-transform
    convention of Voiculescu). ``S`` is an :class:`STransform` or a sympy expression in ``z``
    (symbolic parameters such as a depth ``L`` allowed; coefficients are returned factored).

    Examples
    --------
    >>> L, z = sp.symbols("L z", positive=True)
    >>> m = moments_from_s_transform((1 + z) ** (-L), 3)
    >>> [sp.expand(mk) for mk in m]
    [1, L + 1, 3*L**2/2 + 5*L/2 + 1]
    >>> moments_from_s_transform(1 / (1 + 2 * z), 3)    # Marchenko-Pastur, ratio 2
    [1, 3, 11]
    """
    order = check_positive_int("order", order)
    s = _series_of_s(S, order, z)
    if s[0] == 0:
        raise ArgumentValueError("S(0) must be nonzero (it is 1 / mean)")
    R = _poly_mul([sp.Integer(1), sp.Integer(1)], _poly_inv(s, order), order)
    return lagrange_moments(R, order)


def s_transform_from_moments(moments: Sequence, order: int | None = None) -> list:
    """Taylor coefficients of ``S`` from moments ``[m_1, m_2, ...]`` (exact, by reversion).

    >>> s_transform_from_moments([1, 2, 5])       # Marchenko-Pastur: S = 1/(1+z)
    [1, -1, 1]
    """
    mom = [sp.Integer(0)] + [_exact(m) for m in moments]
    n = len(mom) if order is None else order + 1
    chi = _reverse_series(mom[:n], n)
    c = chi[1:]
    return [sp.expand(c[k] + (c[k - 1] if k >= 1 else 0)) for k in range(n - 1)]


# ---- float series (for large depth) --------------------------------------------------------


def _fpoly_mul(a, b, n):
    return np.convolve(a[:n], b[:n])[:n]


def _fpoly_log1p_linear(ratio, n):
    """Series of log(1 + ratio z)."""
    k = np.arange(1, n)
    out = np.zeros(n)
    out[1:] = -((-ratio) ** k) / k
    return out


def _fpoly_exp(a, n):
    """exp of a series with a[0] = 0 (recurrence e' = a' e)."""
    e = np.zeros(n)
    e[0] = 1.0
    for k in range(1, n):
        e[k] = sum(j * a[j] * e[k - j] for j in range(1, k + 1)) / k
    return e


def _fpoly_log(a, n):
    """log of a series with a[0] > 0."""
    out = np.zeros(n)
    out[0] = math.log(a[0])
    b = np.asarray(a[:n], dtype=float) / a[0]
    # l' = b'/b
    for k in range(1, n):
        s = k * b[k] - sum(j * out[j] * b[k - j] for j in range(1, k))
        out[k] = s / k
    return out


def _numeric_log_s_series(S: STransform, n: int) -> np.ndarray:
    out = np.zeros(n)
    out[0] = math.log(float(S.const))
    for f in S.linear:
        a, b = float(f.a), float(f.b)
        term = _fpoly_log1p_linear(b / a, n)
        term[0] = math.log(a)
        out += f.e * term
    for f in S.discrete_factors:
        s = np.array([float(c) for c in _DiscreteNumeric.of(f).s_series(n)])
        out += f.e * _fpoly_log(s, n)
    return out


def _numeric_moments(S: STransform, order: int) -> np.ndarray:
    n = order
    # log R = log(1+z) - log S
    logR = _fpoly_log1p_linear(1.0, n) - _numeric_log_s_series(S, n)
    out = np.empty(order)
    for k in range(1, order + 1):
        ek = _fpoly_exp(np.concatenate([[0.0], k * logR[1:k]]), k) * math.exp(k * logR[0])
        out[k - 1] = ek[k - 1] / k
    return out


# --------------------------------------------------------------------------------------------
# Numeric discrete factor
# --------------------------------------------------------------------------------------------


class _DiscreteNumeric:
    _cache: dict = {}

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
        m = np.asarray(m, dtype=complex)
        z = m / np.sum(self.w * self.v)
        for _ in range(60):
            dz = (self.psi(z) - m) / self.dpsi(z)
            z = z - dz
            if np.all(np.abs(dz) <= 1e-15 * np.maximum(np.abs(z), 1e-300)):
                break
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(m == 0, 1 / np.sum(self.w * self.v), z * (1 + m) / np.where(m == 0, 1, m))


# --------------------------------------------------------------------------------------------
# The density solver
# --------------------------------------------------------------------------------------------


def _log_lo(w):
    """log with the cut along the positive imaginary axis: continuous on the closed lower half
    plane (negative reals map to ``log|w| - i pi``, their limit from below)."""
    w = np.asarray(w, dtype=complex)
    re, im = w.real, w.imag
    ang = np.arctan2(im, re)
    ang -= 2 * np.pi * (ang > np.pi / 2)
    out = np.empty(w.shape, dtype=complex)
    out.real = np.log(np.hypot(re, im))
    out.imag = ang
    return out


class _Equation:
    """``F(u) = log w - log y(m(u))``, ``y(m) = (1 + m) / (m S(m))``.

    Unknown ``u``: for rational ``S``, ``u = m + k`` with ``k = 1 - a_0`` (so that ``m -> -k``,
    the small-``x`` limit, is resolved to full relative precision); with one discrete factor,
    ``u = z = chi_D(m)`` and ``m = psi_D(z)`` explicitly (``1 + m`` summed without cancellation).
    Linear factors are evaluated as ``(a - b k) + b u`` (resp. ``(a - b) + b (1 + m)``).
    """

    def __init__(self, S: STransform):
        if len(S.discrete_factors) > 1:
            raise NotImplementedError("densities with more than one distinct discrete factor are not supported")
        self.S = S
        self.logc = math.log(float(S.const))
        self.a0 = S.atom_at_zero
        self.k = 1.0 - self.a0
        self.disc = None
        if S.discrete_factors:
            f = S.discrete_factors[0]
            self.disc = _DiscreteNumeric.of(f)
            self.eD = float(f.e)
            shift = 1.0
        else:
            shift = self.k
        self.lin = []
        for f in S.linear:
            a, b = float(f.a), float(f.b)
            a0 = a - b * shift
            if abs(a0) < 1e-13 * max(a, b * shift):
                a0 = 0.0
            self.lin.append((a, b, float(f.e), a0))
        self.opm0 = 1.0 - shift  # 1 + m = opm0 + u   (rational case)

    def _parts_r(self, u):
        """``(m, 1 + m, [factor values], r)``; ``r = 1/(1 - v z)`` per atom (discrete case, else None).

        With atoms ``v_j`` of weights ``w_j``: ``m = psi_D(z) = z sum_j w_j v_j r_j`` and
        ``1 + m = w_0 + sum_j w_j r_j`` (no cancellation); ``r`` is formed once and reused by
        the derivative ``psi_D'(z) = sum_j w_j v_j r_j^2``.
        """
        if self.disc is None:
            m = u - self.k
            opm = self.opm0 + u if self.opm0 != 0 else u
            return m, opm, [a0 + b * u for a, b, e, a0 in self.lin], None
        d = self.disc
        uu = np.asarray(u)
        r = 1.0 / (1.0 - d.v * uu[..., None])
        m = uu * (r @ (d.w * d.v))
        opm = d.w0 + r @ d.w
        return m, opm, [a0 + b * opm for a, b, e, a0 in self.lin], r

    def parts(self, u):
        """(m, 1 + m, [factor values]) at the unknown ``u``."""
        return self._parts_r(u)[:3]

    def m_of(self, u):
        return self.parts(u)[0]

    def logy(self, u, parts=None):
        """``log y = log(1+m) - log m - log S(m)`` (lower-half-plane branch)."""
        m, opm, facs = self.parts(u) if parts is None else parts
        lm, l1m = _log_lo(m), _log_lo(opm)
        out = l1m - lm - self.logc
        for (a, b, e, a0), fv in zip(self.lin, facs):
            out = out - e * _log_lo(fv)
        if self.disc is not None:
            out = out - self.eD * (_log_lo(u) + l1m - lm)
        return out

    def F_and_dF(self, u, logw):
        m, opm, facs, r = self._parts_r(u)
        F = logw - self.logy(u, (m, opm, facs))
        dm = 1 / m - 1 / opm
        for (a, b, e, a0), fv in zip(self.lin, facs):
            dm = dm + e * b / fv
        if self.disc is None:
            return F, dm
        dm = dm + self.eD * (1 / opm - 1 / m)
        dpsi = (r * r) @ (self.disc.w * self.disc.v)
        return F, dm * dpsi + self.eD / u

    def real_logy(self, m):
        """Real ``log y`` at real ``m`` (rational) or real ``z`` (discrete); NaN where ``y <= 0``."""
        u = np.asarray(m, dtype=float)
        with np.errstate(all="ignore"):
            if self.disc is None:
                m = u
                y = (1 + m) / m / float(self.S.const)
                for a, b, e, a0 in self.lin:
                    y = y / (a + b * m) ** e
            else:
                m = self.disc.psi(u)
                y = (1 + m) / m / float(self.S.const)
                for a, b, e, a0 in self.lin:
                    y = y / (a + b * m) ** e
                y = y / (u * (1 + m) / m) ** self.eD
            return np.where((y > 0) & np.isfinite(y), np.log(np.where(y > 0, y, 1.0)), np.nan)

    def real_dlogy(self, m):
        u = np.asarray(m, dtype=float)
        with np.errstate(all="ignore"):
            if self.disc is None:
                dm = 1 / u - 1 / (1 + u)
                for a, b, e, a0 in self.lin:
                    dm = dm + e * b / (a + b * u)
                return -dm
            mm = self.disc.psi(u)
            dm = 1 / mm - 1 / (1 + mm)
            for a, b, e, a0 in self.lin:
                dm = dm + e * b / (a + b * mm)
            dm = dm + self.eD * (1 / (1 + mm) - 1 / mm)
            return -(dm * self.disc.dpsi(u) + self.eD / u)

    def negative_axis_root(self, logx):
        """Bisection on the negative axis ``w = -x``, where the physical ``m`` is the unique root
        in ``(-(1 - a_0), 0)``: ``u = k / (1 + e^{-v})`` (rational) or ``z = -e^v`` (discrete)."""
        n = logx.size
        lo = np.full(n, -700.0)
        hi = np.full(n, 700.0)

        def u_of(v):
            if self.disc is None:
                return self.k / (1 + np.exp(-v))
            return -np.exp(v)

        def f(v):
            # on the negative axis every factor is a positive real: real logarithms of |.|
            u = u_of(v)
            with np.errstate(all="ignore"):
                m, opm, facs = self.parts(u)
                out = np.log(np.abs(opm)) - np.log(np.abs(m)) - self.logc
                for (a, b, e, a0), fv in zip(self.lin, facs):
                    out = out - e * np.log(np.abs(fv))
                if self.disc is not None:
                    out = out - self.eD * (np.log(np.abs(u)) + np.log(np.abs(opm)) - np.log(np.abs(m)))
            return out

        increasing = f(np.array([30.0]))[0] > f(np.array([-30.0]))[0]
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            go_right = (f(mid) < logx) == increasing
            lo = np.where(go_right, mid, lo)
            hi = np.where(go_right, hi, mid)
        return u_of(0.5 * (lo + hi)).astype(complex)


def _continue(eq: _Equation, logx: np.ndarray, theta_min: float = 1e-13):
    """Path continuation from theta = pi to theta_min along w = x e^{i theta}; returns (u, m)."""
    n = logx.size
    u = eq.negative_axis_root(logx)
    theta = np.full(n, np.pi)
    # polish on the negative axis (the bisection leaves |dv| ~ 1e-16 * 1400)
    for _ in range(6):
        F, dF = eq.F_and_dF(u, logx + 1j * theta)
        u = u - F / dF
    # if the bisection ended at the domain boundary the root is not interior: certify below
    h = np.full(n, 0.05)  # step in log(theta)
    active = np.ones(n, bool)
    stuck = np.zeros(n, bool)
    tau_min = math.log(theta_min)
    for _ in range(4000):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ui, th, hi = u[idx], theta[idx], h[idx]
        lx = logx[idx]
        tau_new = np.maximum(np.log(th) - hi, tau_min)
        th_new = np.exp(tau_new)
        F, dF = eq.F_and_dF(ui, lx + 1j * th)
        du_dtheta = -1j / dF
        pred = ui + du_dtheta * (th_new - th)
        v = pred.copy()
        lw = lx + 1j * th_new
        it = np.arange(idx.size)
        for _ in range(12):  # Newton, iterating only the points not yet converged
            Fv, dFv = eq.F_and_dF(v[it], lw[it])
            with np.errstate(all="ignore"):
                step = Fv / dFv
            v[it] = v[it] - step
            keep = ~(np.abs(step) <= 1e-13 * np.abs(v[it])) & np.isfinite(v[it])
            it = it[keep]
            if it.size == 0:
                break
        Fv, _ = eq.F_and_dF(v, lw)
        m_new = eq.m_of(v)
        ok = (
            np.isfinite(v)
            & (np.abs(Fv) < 1e-11)
            # the corrector must stay near the predictor (no branch jump); within 1e-6 of the
            # real axis only the conjugate root is nearby, which the sign test below excludes
            & ((np.abs(v - pred) <= 0.3 * np.abs(pred - ui) + 1e-13 * np.abs(v)) | (th_new < 1e-6))
            & (m_new.imag <= 1e-12 * np.abs(m_new))
        )
        acc = idx[ok]
        u[acc] = v[ok]
        theta[acc] = th_new[ok]
        h[acc] = np.minimum(h[acc] * 1.6, 1.5)
        rej = idx[~ok]
        h[rej] *= 0.4
        stuck[rej[h[rej] < 1e-9]] = True
        active[acc[tau_new[ok] <= tau_min]] = False
        active[stuck] = False
    else:
        stuck |= active
    # polish on the real axis (theta = 0): removes the O(theta) smoothing next to singular edges;
    # kept only where Newton converges to a root with Im m <= 0 close to the continued one
    v = u.copy()
    with np.errstate(all="ignore"):
        for _ in range(8):
            Fv, dFv = eq.F_and_dF(v, logx + 0j)
            v = v - Fv / dFv
        Fv, _ = eq.F_and_dF(v, logx + 0j)
        mv = eq.m_of(v)
    good = (np.isfinite(v) & (np.abs(Fv) < 1e-12) & (mv.imag <= 1e-14 * np.abs(mv))
            & (np.abs(v - u) <= 1e-4 * np.abs(u)) & ~stuck)
    u = np.where(good, v, u)
    theta = np.where(good, 0.0, theta)
    return u, eq.m_of(u), theta, stuck


def _tanh_sinh(n: int = 40, hstep: float = 0.1):
    """Tanh-sinh nodes on (0, 1) and weights (integrable endpoint singularities)."""
    t = hstep * np.arange(-n, n + 1)
    s = 0.5 * np.pi * np.sinh(t)
    x = 0.5 * (1 + np.tanh(s))
    w = hstep * 0.5 * (0.5 * np.pi * np.cosh(t)) / np.cosh(s) ** 2
    keep = (x > 0) & (x < 1) & (w > 0)
    return x[keep], w[keep]


class FreeProductLaw(SpectralLaw):
    """The law with S-transform ``S`` as a :class:`~theory.laws.SpectralLaw`.

    ``pdf`` is the density of the continuous part (certified, see the module docstring);
    :attr:`atom` is the mass at 0 (``atom_at = 0``) and :attr:`atoms` lists every atom as
    ``(location, mass)``, including a possible atom away from 0 (then ``cdf`` jumps there too).
    ``support()`` is the hull of the continuous support and the atoms; :attr:`intervals` the
    support intervals of the continuous part, whose ends (:attr:`edges`) are critical values
    of ``x(m) = (1 + m) / (m S(m))``. Moments come from the series of ``S`` (no quadrature);
    :meth:`quadrature_moment` integrates the density instead (an independent check).

    Examples
    --------
    >>> law = (STransform.wishart() ** 2).law()
    >>> [round(e, 12) for e in law.support()]
    [0.0, 6.75]
    >>> np.round(law.pdf([0.5, 1.0, 3.0]), 6).tolist()
    [0.31831, 0.178979, 0.059973]
    >>> round(float(law.cdf(1.0)), 8), round(law.quadrature_moment(2), 8)
    (0.68582364, 3.0)
    """

    def __init__(self, S: STransform):
        if not isinstance(S, STransform):
            raise ArgumentTypeError(f"S must be an STransform, got {type(S).__name__}")
        self.S = S
        self._eq = _Equation(S)
        self.atom = S.atom_at_zero
        self.atoms = []
        if self.atom > 0:
            self.atoms.append((0.0, self.atom))
        xa = self._atom_away_from_zero()
        if xa is not None:
            self.atoms.append(xa)
        self.continuous_mass = 1.0 - sum(m for _, m in self.atoms)
        if self.continuous_mass < -1e-12:
            raise CertificationError("atoms carry more than unit mass")
        self._intervals = self._support_intervals() if self.continuous_mass > 1e-14 else []
        self._table = None
        self._grid = None
        self.edge_exponents = (0.5, 0.5)
        if self._intervals:
            lo, hi = self._intervals[0][0], self._intervals[-1][1]
            if lo == 0:
                s0 = math.log(hi) - 40.0
                xr = self._solve(np.array([s0, s0 + 1e-3]))[0]
                alo = (math.log(xr[1]) - math.log(xr[0])) / 1e-3 - 1.0
            else:
                xr = self._solve(np.log(lo * np.array([1 + 1e-6, 1 + 1e-7])))[0]
                alo = math.log(xr[0] / xr[1]) / math.log(10.0)
            xr = self._solve(np.log(hi * np.array([1 - 1e-6, 1 - 1e-7])))[0]
            ahi = math.log(xr[0] / xr[1]) / math.log(10.0)
            # pdf ~ C d^alpha at an edge (measured between d = 1e-7 and 1e-6 relative)
            self.edge_exponents = (alo, ahi)

    # ---- atoms and edges --------------------------------------------------------------------
    def _atom_away_from_zero(self):
        S = self.S
        power = sum(f.e for f in S.linear if float(f.b) > 0)
        if power != 0:
            return None
        sinf_c = float(S.const)
        s_inf = 0.0
        for f in S.linear:
            a, b = float(f.a), float(f.b)
            if b > 0:
                sinf_c *= b ** f.e
                s_inf += f.e * a / b
            else:
                sinf_c *= a ** f.e
        for f in S.discrete_factors:
            d = _DiscreteNumeric.of(f)
            sinf_c *= (1 / d.vmax) ** f.e
            s_inf += f.e * (1 - d.wmax)
        mass = 1 - s_inf
        if mass <= 1e-14:
            return None
        return (1.0 / sinf_c, mass)

    def _critical_points(self):
        """Real critical points of ``log y(u)``: sign changes of its derivative, refined."""
        eq = self._eq
        mag = np.logspace(-12, 12, 6001)
        grids = [mag, -mag]
        if eq.disc is not None:
            poles = 1 / eq.disc.v
            extra = [p + s * np.logspace(-12, 1, 150) * p for p in poles for s in (1, -1)]
            grids += extra
        u = np.unique(np.concatenate(grids))
        ly = eq.real_logy(u)
        d = eq.real_dlogy(u)
        crit = []
        ok = np.isfinite(ly) & np.isfinite(d)
        for i in np.flatnonzero(ok[:-1] & ok[1:] & (np.sign(d[:-1]) != np.sign(d[1:]))):
            a, b = u[i], u[i + 1]
            try:
                r = optimize.brentq(lambda t: float(eq.real_dlogy(np.array([t]))[0]), a, b, xtol=1e-300, rtol=1e-15, maxiter=200)
            except ValueError:
                continue
            val = float(eq.real_logy(np.array([r]))[0])
            if np.isfinite(val) and abs(val - 0.5 * (ly[i] + ly[i + 1])) < 1.0 + abs(ly[i] - ly[i + 1]):
                crit.append((r, math.exp(val)))
        return crit

    def _support_intervals(self):
        crit = self._critical_points()
        edges = sorted({x for _, x in crit if x > 0})
        if not edges:
            raise CertificationError("no support edge found for the continuous part")
        bounds = [0.0] + edges
        intervals = []
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            mid = math.sqrt(lo * hi) if lo > 0 else hi * 1e-3
            mid2 = 0.5 * (lo + hi)
            xrho = self._solve(np.log(np.array([mid, mid2])), certify=True)[0]  # density of log x
            if np.any(xrho > 1e-12):
                if intervals and intervals[-1][1] == lo:
                    intervals[-1] = (intervals[-1][0], hi)
                else:
                    intervals.append((lo, hi))
        if not intervals:
            raise CertificationError("continuous mass but no interval with positive density")
        self.edges = edges
        return intervals

    # ---- solver -----------------------------------------------------------------------------
    def _solve(self, logx: np.ndarray, certify: bool = True):
        """(x rho(x), m) at the points exp(logx), certified."""
        logx = np.asarray(logx, dtype=float)
        u, m, theta, stuck = _continue(self._eq, logx.ravel())
        F, _ = self._eq.F_and_dF(u, logx.ravel() + 0j)
        if certify:
            bad = stuck | ~np.isfinite(m) | (np.abs(F) > 1e-9) | (m.imag > 1e-9 * np.abs(m))
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise CertificationError(
                    f"density solver could not certify the root at x = {math.exp(logx.ravel()[i]):.6g} "
                    f"(residual {abs(F[i]):.2e}, Im m = {m[i].imag:.2e}, continuation "
                    f"{'failed' if stuck[i] else 'ok'})")
        xrho = np.abs(m.imag) / np.pi
        return xrho.reshape(logx.shape), m.reshape(logx.shape)

    def _inside(self, x):
        inside = np.zeros(np.shape(x), bool)
        for lo, hi in self._intervals:
            inside |= (x > lo) & (x < hi)
        return inside

    def _support(self) -> tuple[float, float]:
        pts = [x for x, _ in self.atoms]
        for lo, hi in self._intervals:
            pts += [lo, hi]
        lo, hi = min(pts), max(pts)
        if hi <= lo:  # a single point mass: widen to a float-width interval for the base class
            hi = lo + max(abs(lo), 1.0) * 1e-15
        return (lo, float(np.float64(hi)))

    def _pdf_at_ends(self) -> tuple[float, float]:
        return (math.inf if self.edge_exponents[0] < 0 else 0.0, 0.0)

    @property
    def intervals(self) -> list:
        """Support intervals of the continuous part (from the critical points of ``x(m)``)."""
        return list(self._intervals)

    def xpdf(self, x) -> np.ndarray:
        """``x rho(x)``: the density of ``log x`` (of the continuous part)."""
        x = check_finite_array("x", x)
        out = np.zeros(x.shape)
        inside = self._inside(x)
        if np.any(inside):
            out[inside] = self._solve(np.log(x[inside]))[0]
        return out

    def logpdf_logx(self, logx) -> np.ndarray:
        """Density of ``log x`` at ``log x`` given directly (no underflow at depth ~100)."""
        logx = check_finite_array("logx", logx)
        out = np.zeros(logx.shape)
        with np.errstate(over="ignore"):
            x = np.exp(logx)
        inside = self._inside(x) | ((x == 0) & (self._intervals[0][0] == 0) if self._intervals else False)
        if np.any(inside):
            out[inside] = self._solve(logx[inside])[0]
        return out

    def _pdf(self, x) -> np.ndarray:
        """Density ``rho(x) = -Im M(x + i0) / (pi x)`` of the continuous part (0 off its support)."""
        x = np.asarray(x, dtype=float)
        out = np.zeros(x.shape)
        inside = self._inside(x)
        if np.any(inside):
            out[inside] = self._solve(np.log(x[inside]))[0] / x[inside]
        return out

    # ---- cdf via a certified quadrature table --------------------------------------------------
    def _build_table(self):
        """Per support interval: panel ends in log x and the continuous mass up to each end.

        Panels are 0.25 wide in ``log x`` near the upper edge and grow geometrically below
        (the density of ``log x`` is smooth there); the panels at singular edges use tanh-sinh
        nodes, the others 24-point Gauss-Legendre. For an interval reaching 0 the mass below
        the last panel (where ``x rho(x) < 1e-15``) is added from the local power law.
        """
        tables = []
        for lo, hi in self._intervals:
            shi = math.log(hi)
            if lo == 0:
                s_lo = shi - 60.0
                while self._solve(np.array([s_lo]))[0][0] > 1e-15 and s_lo > shi - 40000:
                    s_lo = shi - 2 * (shi - s_lo)
                xr0 = self._solve(np.array([s_lo, s_lo + 1e-3]))[0]
                beta = (math.log(max(xr0[1], 1e-300)) - math.log(max(xr0[0], 1e-300))) / 1e-3
                tail = float(xr0[0] / beta) if beta > 0 else 0.0
            else:
                s_lo = math.log(lo)
                tail = 0.0
            span = shi - s_lo
            d = [0.0]
            while d[-1] < span:
                d.append(min(span, d[-1] + max(0.25, 0.08 * d[-1])))
            edges = shi - np.array(d[::-1])
            edges[0] = s_lo
            sing_left = lo > 0
            mass = self._panel_integral(edges[:-1], edges[1:], sing_left)
            cum = tail + np.concatenate([[0.0], np.cumsum(mass)])
            tables.append((edges, cum, tail))
        self._table = tables
        self.quadrature_mass = float(sum(t[1][-1] for t in tables))
        # 1e-6: next to a zero-mass "atom" (x -> 1/S(inf) with s_inf = 1, e.g. ReLU masks with orthogonal
        # weights at L = 2, density ~ (x_a - x)^(-1/2)) m is O(1/dist) and its relative accuracy ~1e-7
        if abs(self.quadrature_mass - self.continuous_mass) > 1e-6:
            raise CertificationError(
                f"the density integrates to {self.quadrature_mass:.12g} but the continuous part must carry "
                f"{self.continuous_mass:.12g} (1 minus the atoms): a support interval or edge was missed")
        return tables

    def _panel_integral(self, s_a, s_b, sing_left: bool):
        """Integral of ``x rho(x) d(log x)`` over panels; first (if ``sing_left``) and last panel
        by tanh-sinh."""
        s_a, s_b = np.atleast_1d(np.asarray(s_a, float)), np.atleast_1d(np.asarray(s_b, float))
        gx, gw = np.polynomial.legendre.leggauss(24)
        gx, gw = 0.5 * (gx + 1), 0.5 * gw
        nodes = s_a[:, None] + (s_b - s_a)[:, None] * gx[None, :]
        out = (self._solve(nodes)[0] * (s_b - s_a)[:, None] * gw[None, :]).sum(axis=1)
        tx, tw = _tanh_sinh(48, 0.09)
        ends = [len(s_a) - 1] + ([0] if sing_left else [])
        for j in ends:
            nd = s_a[j] + (s_b[j] - s_a[j]) * tx
            out[j] = float(np.sum(self._solve(nd)[0] * (s_b[j] - s_a[j]) * tw))
        return out

    def quadrature_moment(self, k: int) -> float:
        """``E[X^k]`` by integrating the certified density (plus atoms): an independent check of
        :meth:`moment`, which comes from the series (``k = 0`` gives the total mass)."""
        k = check_int("k", k, minimum=0)
        if self._intervals and self._table is None:
            self._build_table()
        total = sum(m * (loc ** k if k else 1.0) for loc, m in self.atoms)
        gx, gw = np.polynomial.legendre.leggauss(24)
        gx, gw = 0.5 * (gx + 1), 0.5 * gw
        tx, tw = _tanh_sinh(48, 0.09)
        for (lo, hi), (edges, cum, tail) in zip(self._intervals, self._table):
            a, b = edges[:-1], edges[1:]
            sing = np.zeros(len(a), bool)
            sing[-1] = True
            sing[0] |= lo > 0
            for nx, nw, sel in ((gx, gw, ~sing), (tx, tw, sing)):
                nd = a[sel][:, None] + (b - a)[sel][:, None] * nx[None, :]
                total += float(np.sum(self._solve(nd)[0] * np.exp(k * nd) * (b - a)[sel][:, None] * nw[None, :]))
            if k == 0:
                total += tail
        return total

    def _cont_cdf_logx(self, s):
        """Continuous mass below ``exp(s)`` (``s`` 1-D)."""
        if self._table is None:
            self._build_table()
        out = np.zeros(s.shape)
        tx, tw = _tanh_sinh(48, 0.09)
        gx, gw = np.polynomial.legendre.leggauss(24)
        gx, gw = 0.5 * (gx + 1), 0.5 * gw
        for (lo, hi), (edges, cum, tail) in zip(self._intervals, self._table):
            out += np.where(s >= math.log(hi), cum[-1], 0.0)
            inside = (s > edges[0]) & (s < edges[-1])
            if lo == 0:
                below = s <= edges[0]
                out[below] += tail * 0  # mass below the first panel: at most `tail` (< 1e-13)
            if np.any(inside):
                si = s[inside]
                j = np.clip(np.searchsorted(edges, si) - 1, 0, len(edges) - 2)
                a = edges[j]
                part = np.zeros(si.shape)
                # [a, s] inside one panel: Gauss-Legendre, except in the end panels (tanh-sinh, which
                # handles the singular edges)
                end = (j == len(edges) - 2) | ((j == 0) & (lo > 0))
                for sel, nx, nw in ((~end, gx, gw), (end, tx, tw)):
                    if np.any(sel):
                        nd = a[sel, None] + (si[sel] - a[sel])[:, None] * nx[None, :]
                        part[sel] = (self._solve(nd)[0] * (si[sel] - a[sel])[:, None] * nw[None, :]).sum(axis=1)
                out[inside] += cum[j] + part
        return out

    def _cdf(self, x) -> np.ndarray:
        """``P(X <= x)`` including every atom; the continuous part by quadrature in log x."""
        x = np.asarray(x, dtype=float)
        out = np.zeros(x.shape)
        for loc, mass in self.atoms:
            out = out + mass * (x >= loc)
        if self._intervals:
            flat = x.ravel()
            pos = flat > 0
            cont = np.zeros(flat.shape)
            cont[pos] = self._cont_cdf_logx(np.log(flat[pos]))
            out = out + cont.reshape(x.shape)
        return np.clip(out, 0.0, 1.0)

    def _ppf(self, q) -> np.ndarray:
        """Smallest ``x`` with ``cdf(x) >= q``: bracket on the panel grid, then safeguarded Newton
        in ``s = log x`` (``d cdf / ds = x rho(x)``), vectorized over ``q``."""
        q = np.asarray(q, dtype=float)
        flat = q.ravel()
        out = np.zeros(flat.shape)
        grid_s, grid_c = self._cdf_grid()
        todo = flat > self.atom
        if grid_s.size == 0 or not np.any(todo):
            return out.reshape(q.shape)
        qq = flat[todo]
        j = np.clip(np.searchsorted(grid_c, qq), 0, grid_s.size - 1)
        lo = np.where(j > 0, grid_s[np.maximum(j - 1, 0)], grid_s[0] - 50.0)
        hi = grid_s[j].copy()
        clo = np.where(j > 0, grid_c[np.maximum(j - 1, 0)], 0.0)
        chi_ = grid_c[j]
        with np.errstate(all="ignore"):
            s = np.where(chi_ > clo, lo + (hi - lo) * (qq - clo) / (chi_ - clo), hi)
        s = np.clip(s, lo, hi)
        act = np.ones(qq.shape, bool)
        res = hi.copy()
        for _ in range(60):
            idx = np.flatnonzero(act)
            si = s[idx]
            f = self._cdf(np.exp(si)) - qq[idx]
            lo[idx] = np.where(f < 0, si, lo[idx])
            hi[idx] = np.where(f >= 0, si, hi[idx])
            xs = np.exp(si)
            dens = np.zeros(si.shape)
            inside = self._inside(xs)
            if np.any(inside):
                dens[inside] = self._solve(si[inside])[0]
            with np.errstate(all="ignore"):
                step = np.where(dens > 0, f / dens, np.inf)
            new = si - step
            bad = ~np.isfinite(new) | (new <= lo[idx]) | (new >= hi[idx])
            new = np.where(bad, 0.5 * (lo[idx] + hi[idx]), new)
            conv_f = np.abs(f) < 1e-13
            conv_s = ~bad & (np.abs(step) < 1e-12)
            conv_b = hi[idx] - lo[idx] < 1e-13 * np.maximum(1.0, np.abs(hi[idx]))
            res[idx] = np.where(conv_f, si, np.where(conv_s, new, hi[idx]))
            s[idx] = new
            done = conv_f | conv_s | conv_b
            act[idx[done]] = False
            if not np.any(act):
                break
        res[act] = hi[act]
        out[todo] = np.exp(res)
        return out.reshape(q.shape)

    def _cdf_grid(self):
        """(log x, cdf) at panel ends and atoms, sorted (for interpolation and ppf brackets)."""
        if getattr(self, "_grid", None) is None:
            if self._intervals and self._table is None:
                self._build_table()
            pts = [e for e, _, _ in (self._table or [])]
            pts += [np.array([math.log(loc)]) for loc, _ in self.atoms if loc > 0]
            s = np.unique(np.concatenate(pts)) if pts else np.array([])
            c = self.cdf(np.exp(s)) if s.size else np.array([])
            self._grid = (s, np.maximum.accumulate(c))
        return self._grid

    # ---- moments ------------------------------------------------------------------------------
    def _moment(self, k: int):
        """``E[X^k]`` from the series inversion of ``S`` (no quadrature): exact (int or Fraction)
        when every parameter of ``S`` is exact (ints, Fractions, sympy rationals), else float."""
        if self._exact_params():
            if len(self._exact_cache) < k:
                self._exact_cache = moments_from_s_transform(self.S, k)
            m = sp.nsimplify(self._exact_cache[k - 1])
            if m.is_Integer:
                return int(m)
            if m.is_Rational:
                return Fraction(int(m.p), int(m.q))
            return float(m)
        return float(self.S.numeric_moments(k)[k - 1])

    def _exact_params(self) -> bool:
        if not hasattr(self, "_exact_cache"):
            self._exact_cache = []
        vals = [self.S.const] + [x for f in self.S.linear for x in (f.a, f.b)]
        vals += [x for f in self.S.discrete_factors for x in f.values + f.weights]
        return all(isinstance(v, (int, Fraction)) or (isinstance(v, sp.Basic) and v.is_Rational) for v in vals)

    def exact_moments(self, order: int) -> list:
        """Exact moments ``m_1..m_order`` (sympy) when the parameters of ``S`` are exact."""
        return moments_from_s_transform(self.S, order)

    def rvs(self, size=None, *, rng=None) -> np.ndarray:
        """Samples by inverse-cdf interpolation (in log x) on the quadrature grid; atoms exact.

        ``rng``: Generator, SeedSequence, int or None (SFC64). Accuracy is that of linear
        interpolation of the cdf in log x between panel ends (0.25 apart near the top).
        """
        from .laws import _rng

        g = _rng(rng)
        u = g.random(size)
        s, c = self._cdf_grid()
        out = np.exp(np.interp(u, c, s)) if s.size else np.zeros(np.shape(u))
        for loc, mass in self.atoms:
            if loc == 0:
                out = np.where(u < mass, 0.0, out)
            else:
                below = float(self._cdf(np.array([loc * (1 - 1e-12)]))[0])
                out = np.where((u >= below) & (u < below + mass), loc, out)
        return out if size is not None else float(out)
