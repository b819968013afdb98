"""Series engines of the S-transform: exact (sympy) and floating-point moments by Lagrange inversion.

For a law with moments ``m_k`` the moment generating function is
``psi(z) = sum_{k>=1} m_k z^k``, ``chi = psi^{-1}`` and ``S(z) = chi(z) (1 + z) / z``
(Voiculescu; Mingo & Speicher, *Free Probability and Random Matrices*, ch. 3;
docs/formulas.md, "Conventions"). Lagrange inversion of ``z / chi(z) = (1 + z) / S(z)`` gives

    m_k = (1/k) [z^{k-1}] ((1 + z) / S(z))^k,

which :func:`moments_from_s_transform` evaluates exactly in sympy (symbolic parameters such as a
depth ``L`` allowed) and :func:`numeric_moments` in floating point through ``log S`` (a product of
``L`` factors becomes a sum, so depth 10^4 costs no more than depth 1). For
``S = (1 + z)^{-L}`` this gives the Fuss-Catalan numbers ``binom((L+1)k, k) / (Lk + 1)``.

The S-transform argument ``S`` of these functions is an
:class:`~degeneracy.theory.s_transform.STransform` (anything with ``const``, ``linear`` and
``discrete_factors``) or a sympy expression in ``z``.

Examples
--------
>>> z = sp.Symbol("z")
>>> moments_from_s_transform(1 / (1 + z) ** 2, 4)          # Fuss-Catalan, L = 2
[1, 3, 12, 55]
>>> s_transform_from_moments([1, 3, 12])               # S = (1 + z)^-2
[1, -2, 3]
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import sympy as sp

from degeneracy.errors import ArgumentValueError, NumericalFailure
from degeneracy.validation import check_positive_int, check_work

from .free_factors import _exact, law_moments_exact, law_numeric

__all__ = ["moments_from_s_transform", "s_transform_from_moments", "lagrange_moments", "numeric_moments",
           "numeric_log_s_series"]


def _is_s_transform(S) -> bool:
    return all(hasattr(S, a) for a in ("const", "linear", "discrete_factors"))


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


def _discrete_series(f, order: int) -> list:
    """Series of ``S_D`` for a law factor from its moments by reversion (exact for exact atoms)."""
    n = order + 1
    mom = [sp.Integer(0)] + law_moments_exact(f, n)
    chi = _reverse_series(mom[: n + 1], n + 1)  # chi[0] = 0
    # S = chi(z) (1 + z) / z
    c = chi[1:]
    s = [sp.expand(c[k] + (c[k - 1] if k >= 1 else 0)) for k in range(order)]
    return s


def _series_of_s(S, order: int, z: sp.Symbol | None = None) -> list:
    if _is_s_transform(S):
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
        mk = sp.expand(pk[k - 1] / k)
        out.append(sp.factor(mk) if mk.free_symbols else mk)
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
    # sympy's exact series cost grows like order^3 (order 200: half a minute, 10**6: never ends)
    check_work(f"exact moments of order {order}", 1e8 * float(order) ** 3)  # caps the order near 460
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


def numeric_log_s_series(S, n: int) -> np.ndarray:
    """Float Taylor coefficients ``[c_0, ..., c_{n-1}]`` of ``log S(z)`` at 0 (sums over factors)."""
    out = np.zeros(n)
    out[0] = math.log(float(S.const))
    for f in S.linear:
        a, b = float(f.a), float(f.b)
        term = _fpoly_log1p_linear(b / a, n)
        term[0] = math.log(a)
        out += f.e * term
    for f in S.discrete_factors:
        s = np.array([float(c) for c in law_numeric(f).s_series(n)])
        out += f.e * _fpoly_log(s, n)
    return out


def numeric_moments(S, order: int) -> np.ndarray:
    """Moments ``m_1..m_order`` of the law of ``S`` in float arithmetic (Lagrange inversion through
    ``log S``). A moment beyond the float range raises :class:`~degeneracy.errors.NumericalFailure`
    (it used to come back as NaN); an order beyond about 2700 (the cost grows like ``order^3 / 6``
    steps of a Python loop: about an hour there) raises
    :class:`~degeneracy.errors.ArgumentValueError` at once.

    >>> from degeneracy.theory.s_transform import STransform
    >>> numeric_moments(STransform.wishart() ** 3, 3).tolist()
    [1.0, 4.0, 22.0]
    >>> numeric_moments(STransform.wishart() ** 3, 600)
    Traceback (most recent call last):
    ...
    degeneracy.errors.NumericalFailure: moment 315 (and higher) of the law overflows a double ...
    """
    order = check_positive_int("order", order)
    check_work(f"numeric_moments of order {order}", 5e5 * float(order) ** 3)  # caps the order near 2700
    n = order
    # log R = log(1+z) - log S
    logR = _fpoly_log1p_linear(1.0, n) - numeric_log_s_series(S, n)
    out = np.empty(order)
    for k in range(1, order + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            ek = _fpoly_exp(np.concatenate([[0.0], k * logR[1:k]]), k) * math.exp(k * logR[0])
        out[k - 1] = ek[k - 1] / k
        if not math.isfinite(out[k - 1]):
            raise NumericalFailure(f"moment {k} (and higher) of the law overflows a double (or its series does): "
                                   "use moments(order) for exact values, or a lower order")
    return out

