"""Control variates: a Monte Carlo mean made more precise by correlated quantities of known mean.

If replicas carry, besides ``y``, quantities ``x`` whose expectation ``mu`` is known exactly, the
regression estimator ``ybar - beta^T (xbar - mu)`` has the same expectation as ``ybar`` (up to
``O(1/R)``) and variance reduced by the fraction of ``Var y`` that ``x`` explains (Glasserman,
*Monte Carlo Methods in Financial Engineering* (2003), §4.1). The products claims use the trace
moments ``m_1`` (mean exactly 1) and ``m_2`` (exact finite-n mean) as controls for higher
moments and for the participation ratio.
"""

from __future__ import annotations

import math

import numpy as np

from degeneracy.errors import ArgumentValueError

__all__ = ["control_variate_mean"]


def control_variate_mean(y, controls, means) -> tuple[float, float]:
    """Mean of ``y`` with control variates of known means, and its standard error.

    Regression estimator ``ybar - beta^T (xbar - mu)`` with ``beta`` the least-squares slope of
    ``y`` on the controls (Glasserman, *Monte Carlo Methods in Financial Engineering* (2003),
    §4.1): unbiased up to ``O(1/R)`` from estimating ``beta``; standard error from the residuals
    with ``R - p - 1`` degrees of freedom.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(1000); y = 2.0 + x + 0.1 * rng.standard_normal(1000)
    >>> est, se = control_variate_mean(y, x, [0.0])
    >>> abs(est - 2.0) < 5 * se, se < 0.01
    (True, True)
    """
    y = np.asarray(y, dtype=float).ravel()
    X = np.asarray(controls, dtype=float).reshape(y.size, -1) - np.asarray(means, dtype=float)
    if y.size < X.shape[1] + 3:
        raise ArgumentValueError(f"need at least {X.shape[1] + 3} replicas for {X.shape[1]} controls, got {y.size}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(X))):
        raise ArgumentValueError("y and controls must contain only finite numbers (found NaN or inf)")
    Xc = X - X.mean(axis=0)
    beta = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    resid = y - y.mean() - Xc @ beta
    R, p = X.shape
    est = float(y.mean() - X.mean(axis=0) @ beta)
    se = float(math.sqrt(resid @ resid / (R - p - 1) / R))
    return est, se
