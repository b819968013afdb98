"""The S-transform algebra: free multiplicative convolution as multiplication of objects.

Conventions (Voiculescu; Mingo & Speicher, *Free Probability and Random Matrices*, ch. 3;
Pennington, Schoenholz & Ganguli 2017, section 2.3; docs/formulas.md "Conventions" and §4). For a
probability law ``mu`` on ``[0, inf)`` with moments ``m_k``:

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

Moments come from the series engines of :mod:`degeneracy.theory.free_series`, the law (density,
CDF, quantiles, certified) from :class:`degeneracy.theory.free_law.FreeProductLaw`.

Examples
--------
>>> S = STransform.wishart() ** 2             # product of two square Gaussian matrices
>>> S.moments(4)
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
from fractions import Fraction
from typing import Sequence

import numpy as np
import sympy as sp

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.validation import check_positive_int, check_probability, check_real

from .free_factors import OneMinus, _Discrete, _exact, _Linear, _Measure, law_numeric
from .free_law import FreeProductLaw
from .free_series import _series_of_s, moments_from_s_transform, numeric_moments

__all__ = ["STransform"]

_Z = sp.Symbol("z")


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
        if isinstance(const, bool) or not isinstance(const, (numbers.Real, sp.Basic)):
            raise ArgumentTypeError(f"const must be a positive number (int, Fraction, float or sympy), got {const!r}")
        if not isinstance(const, sp.Basic) or const.is_number:
            c = float(const)
            if not (math.isfinite(c) and c > 0):
                raise ArgumentValueError(f"const must be a finite number > 0, got {const!r}")
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
        return cls(linear=(_Linear(1, _exact(r), -1),), atom0=atom) * cls.scale(v)

    @classmethod
    def orthogonal(cls, scale=1, *, variance=None) -> "STransform":
        """``(scale O)(scale O)^T = scale^2 I``: ``S = 1 / scale^2`` (the identity law for 1).

        ``variance`` gives ``scale^2`` directly (no rounding through a square root).

        >>> STransform.orthogonal(variance=2).sympy()
        1/2
        """
        if variance is not None:
            return cls.scale(variance)
        s = scale if isinstance(scale, (numbers.Integral, Fraction, sp.Basic)) else check_real(
            "scale", scale, lo=0, lo_open=True)
        return cls.scale(_exact(s) ** 2 if isinstance(s, (numbers.Integral, Fraction, sp.Basic)) else s * s)

    @classmethod
    def bernoulli(cls, p=None, *, complement=None) -> "STransform":
        """Bernoulli(p) on {0, 1}: ``S(z) = (1 + z) / (p + z)`` (a derivative mask ``D^2``).

        ``psi(z) = p z / (1 - z)``, so ``chi(y) = y / (p + y)`` and ``S = chi (1 + y) / y``.
        Give ``complement = 1 - p`` instead of ``p`` when ``p`` is within rounding of 1 (the
        atom at 0 and the continuous part then keep their relative accuracy).

        >>> STransform.bernoulli(Fraction(1, 4)).moments(3)
        [1/4, 1/4, 1/4]
        >>> STransform.bernoulli(complement=1e-15).atom_at_zero
        1e-15
        """
        if complement is not None:
            if p is not None:
                raise ArgumentValueError("give p or complement, not both")
            c = check_probability("complement", complement, open_right=True)
            if c == 0:
                return cls.orthogonal()
            return cls(linear=(_Linear(1, 1, 1), _Linear(OneMinus(c), 1, -1)), atom0=c)
        if p is None:
            raise ArgumentValueError("bernoulli needs p or complement")
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
        if isinstance(cv, (numbers.Integral, Fraction)) or (isinstance(cv, sp.Basic) and cv.is_Rational):
            return cls(const=1 / _exact(cv))
        # a float (or irrational) constant is a factor (c + 0 z)^(-1): powers stay in log form
        return cls(linear=(_Linear(cv, 0, -1),))

    @classmethod
    def from_law(cls, law) -> "STransform":
        """The S-transform of a continuous (or mixed) building-block law, e.g. the law of
        ``phi'(h)^2`` (:func:`degeneracy.theory.isometry.derivative_law`)."""
        return cls(discrete=(_Measure(law, 1),), atom0=law.w0)

    # ---- algebra --------------------------------------------------------------------------
    def __mul__(self, other: "STransform") -> "STransform":
        if not isinstance(other, STransform):
            return NotImplemented
        return self._combine(other, 1, 1)

    __rmul__ = __mul__

    def _combine(self, other, ea: int, eb: int) -> "STransform":
        """``self^ea * other^eb`` (factors merged, exponents added)."""
        lin: dict = {}
        for fs, e in ((self.linear, ea), (other.linear, eb)):
            for f in fs:
                lin[(f.a, f.b)] = lin.get((f.a, f.b), 0) + e * f.e
        disc: dict = {}
        for fs, e in ((self.discrete_factors, ea), (other.discrete_factors, eb)):
            for f in fs:
                k = _law_key(f)
                disc[k] = disc.get(k, 0) + e * f.e
        atoms = [a for a, e in ((self._atom0, ea), (other._atom0, eb)) if e]
        atom = max(atoms, key=float)
        return STransform(
            const=self.const**ea * other.const**eb,
            linear=tuple(_Linear(a, b, e) for (a, b), e in sorted(lin.items(), key=lambda t: (float(t[0][0]), float(t[0][1]))) if e != 0),
            discrete=tuple(_law_factor(k, e) for k, e in disc.items() if e != 0),
            atom0=atom,
        )

    def __pow__(self, n: int) -> "STransform":
        n = check_positive_int("power", n)
        return self._combine(self, n, 0)

    def _key(self):
        return (str(self.const), tuple(sorted((str(f.a), str(f.b), f.e) for f in self.linear)),
                tuple(sorted((str(_law_key(f)), f.e) for f in self.discrete_factors)))

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
        parts += [(f"S_discrete{len(f.values)}^{f.e}" if isinstance(f, _Discrete) else f"S_{f.law!r}^{f.e}")
                  for f in self.discrete_factors]
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
            out = out * law_numeric(f).s_of_m(z) ** f.e
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
        return numeric_moments(self, order)

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


def _law_key(f):
    return ("d", f.values, f.weights) if isinstance(f, _Discrete) else ("m", f.law)


def _law_factor(key, e: int):
    return _Discrete(key[1], key[2], e) if key[0] == "d" else _Measure(key[1], e)
