"""Lyapunov spectrum of products of Gaussian matrices (docs/formulas.md §1).

The exact finite-``n`` Lyapunov exponents ``mu_i = lim_{L->inf} (1/L) log sigma_i(W_L ... W_1)``
of products of i.i.d. ``n x n`` Gaussian matrices (entries of variance ``1/n``; complex:
``E|w|^2 = 1/n``), their Gaussian fluctuations at finite depth, and the two degeneracy summaries
that follow from them: the growth rate of ``log cond(P)`` and the number of singular values a
naive product loses in floating point.

Nothing here is random; ``tests/test_products_theory.py`` checks every function against an
independent route (quadrature of ``E log chi^2``, simulation).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from degeneracy.validation import check_choice, check_memory, check_positive_int, check_real

__all__ = ["FIELDS", "lyapunov_exponents", "lyapunov_variances", "log_condition_rate", "naive_lost_count"]

#: the two fields of the Gaussian factors
FIELDS = ("real", "complex")


def lyapunov_exponents(n: int, *, field: str = "real") -> np.ndarray:
    """Exact Lyapunov exponents of products of ``n x n`` Gaussian matrices (variance ``1/n``).

    ``mu_i = lim_{L->inf} (1/L) log sigma_i(W_L ... W_1)``, descending, ``i = 1..n``:

    * real (Newman, Commun. Math. Phys. 103, 121 (1986)):
      ``mu_i = (1/2) [log(2/n) + psi((n - i + 1)/2)]``;
    * complex (Forrester, J. Stat. Phys. 151, 796 (2013)):
      ``mu_i = (1/2) [psi(n - i + 1) - log n]``.

    Both follow from the QR (Benettin) representation: ``|R_ii|^2`` is ``chi^2_{n-i+1}/n``
    (real) or ``Gamma(n-i+1, 1)/n`` (complex), independent over layers, and
    ``E log chi^2_k = log 2 + psi(k/2)``, ``E log Gamma(k,1) = psi(k)``.

    Examples
    --------
    >>> mu = lyapunov_exponents(1)
    >>> bool(abs(mu[0] - (-(0.5772156649015329 + 0.6931471805599453) / 2)) < 1e-15)  # E log|g|
    True
    >>> mu = lyapunov_exponents(4, field="complex"); bool(np.all(np.diff(mu) < 0))
    True
    """
    n = check_positive_int("n", n)
    field = check_choice("field", field, FIELDS)
    check_memory(f"n = {n}", 24.0 * n)  # the result and two temporaries of n doubles
    k = np.arange(n, 0, -1, dtype=float)  # n - i + 1 for i = 1..n
    if field == "real":
        return 0.5 * (math.log(2.0 / n) + special.digamma(k / 2.0))
    return 0.5 * (special.digamma(k) - math.log(n))


def lyapunov_variances(n: int, *, field: str = "real") -> np.ndarray:
    """``lim_{L->inf} L Var(mu_i^(L))`` of the finite-depth exponents ``(1/L) log sigma_i``.

    * real: ``psi'((n - i + 1)/2) / 4``; complex: ``psi'(n - i + 1) / 4``
      (Akemann, Burda & Kieburg, J. Phys. A 47, 395202 (2014); Forrester, J. Phys. A 48,
      215205 (2015)): the variance of ``(1/2) log |R_ii|^2`` per layer, since
      ``Var log chi^2_k = psi'(k/2)`` and ``Var log Gamma(k, 1) = psi'(k)``.

    Examples
    --------
    >>> v = lyapunov_variances(1)
    >>> bool(abs(v[0] - 3.141592653589793 ** 2 / 8) < 1e-14)   # Var log|g| = pi^2/8
    True
    """
    n = check_positive_int("n", n)
    field = check_choice("field", field, FIELDS)
    check_memory(f"n = {n}", 24.0 * n)  # the result and two temporaries of n doubles
    k = np.arange(n, 0, -1, dtype=float)
    if field == "real":
        return special.polygamma(1, k / 2.0) / 4.0
    return special.polygamma(1, k) / 4.0


def log_condition_rate(n: int, *, field: str = "real") -> float:
    """``mu_1 - mu_n``: ``log cond(P) / L`` tends to it as the depth ``L -> inf``.

    >>> abs(log_condition_rate(2) - 0.6931471805599453) < 1e-15   # (psi(1) - psi(1/2))/2 = log 2
    True
    """
    mu = lyapunov_exponents(n, field=field)
    return float(mu[0] - mu[-1])


def naive_lost_count(n: int, depth: int, eps: float = 2.0**-52) -> int:
    """Number of singular values lost by the naive product + svd in floating point.

    Accumulating ``P <- W P`` and calling ``svd`` resolves ``sigma_i`` only if
    ``sigma_i / sigma_1 > eps`` (backward-stable svd: absolute error ``~ eps sigma_1``). With
    ``sigma_i ~ exp(L mu_i)`` (real Gaussian exponents, :func:`lyapunov_exponents`), the
    predicted number lost is ``#{i : L (mu_1 - mu_i) > -log eps}`` (docs/formulas.md §1).

    >>> naive_lost_count(64, 1), naive_lost_count(64, 100) > 16
    (0, True)
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    eps = check_real("eps", eps, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    mu = lyapunov_exponents(n, field="real")
    return int(np.count_nonzero(depth * (mu[0] - mu) > -math.log(eps)))
