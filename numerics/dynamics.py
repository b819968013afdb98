"""Numerical helpers of deep linear dynamics (Saxe, McClelland & Ganguli 2013).

Decoupled balanced initial conditions, the mode strengths ``u_alpha = u_alpha^T W_n...W_1 v_alpha``
of a stack of networks, and the time to reach a loss criterion: what the ``dynamics.*`` claims and
figures measure on the networks of :mod:`degeneracy.numerics.networks`.

Examples
--------
>>> import numpy as np
>>> loss = np.array([[1.0, 0.5, 0.05, 0.01], [1.0, 0.9, 0.8, 0.7]])
>>> time_to_criterion(loss, 0.1).tolist()      # the second run never reaches 10 %: steps + 1
[2.0, 4.0]
"""

from __future__ import annotations

import numpy as np

from degeneracy.numerics import ensembles
from degeneracy.numerics.networks import NetworkStack

__all__ = ["mode_strengths", "decoupled_balanced_init", "time_to_criterion"]


def mode_strengths(net: NetworkStack, U, V) -> np.ndarray:
    """The mode strengths ``diag(U^T W_n...W_1 V)`` per replica.

    ``U`` and ``V`` ``(R, d, d)`` hold the output and input singular vectors of the target per
    replica; returns ``(R, d)``.
    """
    P = net.end_to_end()
    return np.einsum("rij,rik,rkj->rj", U, P, V)


def decoupled_balanced_init(U, V, a0, n_weights, rng_frames) -> list:
    """Balanced decoupled initial weights (Saxe et al. 2013, sec. 2).

    ``W_1 = O_1 D V^T``, ``W_l = O_l D O_{l-1}^T``, ``W_n = U D O_{n-1}^T`` with ``D = diag(a0)`` per
    replica and Haar orthogonal ``O_l``; ``U, V`` ``(R, d, d)``, ``a0`` ``(R, d)``, ``rng_frames[l][r]``
    the generator of frame ``l`` of replica ``r``. Returns the ``n_weights`` matrices ``(R, d, d)``:
    every mode strength starts at ``prod a0 = a0^n``.
    """
    R, d, _ = U.shape
    frames = [V] + [np.stack([ensembles.haar_orthogonal(d, rng=g) for g in rng_frames[l]]) for l in range(n_weights - 1)] + [U]
    D = a0[:, None, :]  # (R, 1, d) scales columns
    ws = []
    for l in range(n_weights):
        ws.append((frames[l + 1] * D) @ np.swapaxes(frames[l], -1, -2))
    return ws


def time_to_criterion(loss: np.ndarray, frac: float) -> np.ndarray:
    """First step at which ``loss <= frac * loss[0]``, per replica (``steps + 1`` when never).

    ``loss`` ``(R, steps + 1)``; returns floats ``(R,)``.
    """
    hit = loss <= frac * loss[:, :1]
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), loss.shape[1])
    return first.astype(float)
