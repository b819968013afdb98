"""Group-sequential boundaries by alpha spending: when to stop adding runs.

A sequential design looks at the data after each batch of independent runs ``k = 1..K`` (run
counts ``n_1 < ... < n_K = n_max``, fixed in advance) and stops as soon as a test statistic
crosses its boundary ``b_k``. The **information fraction** of look ``k`` is ``t_k = n_k / n_max``.
An alpha-spending function ``a(t)`` (Lan & DeMets, Biometrika 70, 1983) says how much of the
one-sided level ``a`` may have been spent by information ``t``, with ``a(0) = 0`` and
``a(1) = a``:

``"obrien-fleming"``
    ``a(t) = 2 (1 - Phi(Phi^{-1}(1 - a/2) / sqrt(t)))``: almost nothing is spent early, so the
    last look's boundary is nearly the fixed-sample one (no power lost when the run goes to
    the budget), while an effect that is already clear at the first look (``z`` several
    times the threshold) stops there.
``"pocock"``
    ``a(t) = a log(1 + (e - 1) t)``: spent evenly; more early stopping, a higher last boundary.

Boundaries here use the **union (Bonferroni) bound over looks**: look ``k`` gets the level
increment ``Delta_k = a(t_k) - a(t_{k-1})`` and ``b_k`` is the ``1 - Delta_k`` quantile of the
look's own reference law (Student-t with the look's degrees of freedom, or normal). Then,
whatever the correlation between looks and whenever the run stops,
``P(any look crosses | H0) <= sum_k Delta_k <= a``: the declared error rate holds exactly as a
bound, without the multivariate-normal integration of exact group-sequential boundaries
(which is conservative only by the overlap of crossing events; at the family-wise levels used
here, ``a`` of order 1e-6, the overlap is negligible, and at ``a = 0.05`` it costs a little
power, never error control). ``degeneracy calibrate`` measures the resulting rates.

Examples
--------
>>> b = spending_boundaries(0.025, [0.25, 0.5, 0.75, 1.0])
>>> [round(float(x), 2) for x in b]   # O'Brien-Fleming: high early, near 1.96 at the end
[4.33, 2.96, 2.4, 2.16]
>>> round(float(spending_boundaries(0.025, [1.0])[0]), 3)   # one look: the fixed-sample quantile
1.96
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats as _sps

from degeneracy.errors import ArgumentValueError

__all__ = ["SPENDING", "spent", "spending_boundaries"]

SPENDING = ("obrien-fleming", "pocock")


def spent(a: float, t, spending: str = "obrien-fleming") -> np.ndarray:
    """The level ``a(t)`` spent by information fraction ``t`` (see the module docstring).

    >>> round(float(spent(0.05, 1.0)), 12), float(spent(0.05, 0.0))
    (0.05, 0.0)
    """
    if not (0 < a < 1):
        raise ArgumentValueError(f"a must be in (0, 1), got {a!r}")
    if spending not in SPENDING:
        raise ArgumentValueError(f"spending must be one of {', '.join(SPENDING)}, got {spending!r}")
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    if spending == "pocock":
        return a * np.log1p((math.e - 1.0) * t)
    with np.errstate(divide="ignore"):
        z = float(_sps.norm.isf(a / 2.0))
        out = 2.0 * _sps.norm.sf(z / np.sqrt(np.where(t > 0, t, 1.0)))
    return np.where(t > 0, np.minimum(out, a), 0.0)


def spending_boundaries(a: float, fractions: Sequence[float], dfs: Sequence[float] | None = None,
                        spending: str = "obrien-fleming") -> np.ndarray:
    """One-sided boundaries ``b_1..b_K`` of a K-look design with total one-sided level ``a``.

    Parameters
    ----------
    a : float
        One-sided level, in (0, 1).
    fractions : sequence of float
        Information fractions ``0 < t_1 < ... <= 1`` of the looks actually taken.
    dfs : sequence of float, optional
        Degrees of freedom of each look's t statistic (``inf`` or ``None``: normal).
    spending : {"obrien-fleming", "pocock"}

    Returns
    -------
    numpy.ndarray, shape (K,)
        ``b_k`` such that ``P(T_k >= b_k) = a(t_k) - a(t_{k-1})`` under H0 (``inf`` when the
        increment underflows to 0: that look cannot stop).
    """
    t = np.asarray(fractions, dtype=float).ravel()
    if t.size == 0 or np.any(t <= 0) or np.any(t > 1 + 1e-12) or np.any(np.diff(t) <= 0):
        raise ArgumentValueError(f"fractions must increase within (0, 1], got {t.tolist()}")
    if dfs is None:
        dfs = [math.inf] * t.size
    dfs = [math.inf if d is None else float(d) for d in dfs]
    if len(dfs) != t.size:
        raise ArgumentValueError(f"dfs must have {t.size} entries, got {len(dfs)}")
    cum = spent(a, t, spending)
    inc = np.diff(np.concatenate([[0.0], cum]))
    out = np.empty(t.size)
    for k, (d, df) in enumerate(zip(inc, dfs)):
        if d <= 0:
            out[k] = math.inf
        elif math.isinf(df):
            out[k] = float(_sps.norm.isf(d))
        else:
            out[k] = float(_sps.t.isf(d, df))
    return out
