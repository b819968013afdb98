"""Numerical helpers of deep linear dynamics (Saxe, McClelland & Ganguli 2013).

Decoupled initial conditions (balanced or not), the mode strengths ``u_alpha = u_alpha^T W_n...W_1
v_alpha`` of a stack of networks and the per-layer strengths ``a_j^alpha = (O_j^T W_j O_{j-1})_{alpha
alpha}``, the exact gradient flow of the whole network (scipy.integrate.solve_ivp, for comparison
with closed forms), and the time to reach a loss criterion: what the ``dynamics.*`` claims and
figures measure on the networks of :mod:`degeneracy.numerics.networks`.

Examples
--------
>>> import numpy as np
>>> loss = np.array([[1.0, 0.5, 0.05, 0.01], [1.0, 0.9, 0.8, 0.7]])
>>> time_to_criterion(loss, 0.1).tolist()      # the second run never reaches 10 %: steps + 1
[2.0, 4.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize

from degeneracy.errors import ArgumentValueError, NumericalFailure
from degeneracy.numerics import ensembles
from degeneracy.numerics.networks import NetworkStack
from degeneracy.numerics.rng import as_generator
from degeneracy.numerics.training import PopulationTask, train
from degeneracy.theory import linear_dynamics as ld
from degeneracy.validation import check_finite_array, check_positive_int, check_real

__all__ = ["mode_strengths", "decoupled_init", "decoupled_balanced_init", "layer_strengths", "gradient_flow",
           "crossing_time", "time_to_criterion", "TwoLayerRuns", "two_layer_runs", "chain_growth_rate",
           "stability_boundary"]


def mode_strengths(net: NetworkStack, U, V) -> np.ndarray:
    """The mode strengths ``diag(U^T W_n...W_1 V)`` per replica.

    ``U`` and ``V`` ``(R, d, d)`` hold the output and input singular vectors of the target per
    replica; returns ``(R, d)``.
    """
    P = net.end_to_end()
    return np.einsum("rij,rik,rkj->rj", U, P, V)


def decoupled_init(frames, strengths) -> list:
    """Decoupled initial weights with any per-layer strengths (Saxe et al. 2013, sec. 2).

    ``W_j = O_j diag(a_j) O_{j-1}^T``, ``j = 1..n``, with ``frames = [O_0 = V, O_1, ..., O_n = U]``
    (orthogonal, ``(R, d, d)``; ``U, V`` the target's singular vectors) and ``strengths = [a_1, ...,
    a_n]``, each ``(R, d)`` (mode ``alpha`` of layer ``j`` has strength ``a_j[:, alpha]``; any reals,
    e.g. unbalanced ``a_1 != a_2``). Under gradient flow the frames stay fixed and each mode follows
    the mode equations (:func:`theory.mode_equations.derive_mode_equations`).

    >>> O = [np.eye(2)[None]] * 3
    >>> [w[0].tolist() for w in decoupled_init(O, [np.array([[0.5, 0.1]]), np.array([[0.02, 0.3]])])]
    [[[0.5, 0.0], [0.0, 0.1]], [[0.02, 0.0], [0.0, 0.3]]]
    """
    frames = [check_finite_array(f"frames[{j}]", f, ndim=3) for j, f in enumerate(frames)]
    n = len(frames) - 1
    if n < 1 or len(strengths) != n:
        raise ArgumentValueError(f"need n + 1 frames and n strength arrays, got {len(frames)} frames and "
                                 f"{len(strengths)} strength arrays")
    return [(frames[j + 1] * np.asarray(strengths[j], dtype=float)[:, None, :]) @ np.swapaxes(frames[j], -1, -2)
            for j in range(n)]


def layer_strengths(weights, frames) -> np.ndarray:
    """``a_j^alpha = (O_j^T W_j O_{j-1})_{alpha alpha}``: every mode's strength in every layer, ``(R, n, d)``.

    ``frames`` as in :func:`decoupled_init`; exact while the weights stay decoupled in these frames
    (gradient flow from :func:`decoupled_init`).
    """
    ws = [np.asarray(w, dtype=float) for w in weights]
    return np.stack([np.einsum("rij,rik,rkj->rj", frames[j + 1], w, frames[j]) for j, w in enumerate(ws)], axis=1)


def gradient_flow(weights, target, t_eval, *, tau: float = 1.0, rtol: float = 1e-10, atol: float = 1e-12,
                  dense_output: bool = False):
    """The exact gradient flow ``tau dW_j/dt = -dl/dW_j`` of ``l = 0.5 ||W_n...W_1 - T||_F^2``.

    The whole network (every layer, every replica) is integrated by
    :func:`scipy.integrate.solve_ivp` (DOP853, ``rtol``, ``atol``), the layer gradients from
    :func:`theory.linear_dynamics.layer_gradients`; the population loss of whitened data is this
    ``l`` (Saxe et al. 2013, sec. 2). ``weights`` ``[(R, d_1, d_0), ...]``, ``target`` ``(R, d_n,
    d_0)``; returns the weights at ``t_eval`` (sorted, ``>= 0``) as a list of arrays ``(len(t_eval), R,
    d_j, d_{j-1})``. With ``dense_output=True`` returns ``(weights at t_eval, W)`` where ``W(t)`` gives the
    list of weights ``(R, d_j, d_{j-1})`` at any ``t`` in ``[0, t_eval[-1]]`` (the solver's continuous
    extension, of the method's order). Raises :class:`NumericalFailure` if the solver fails.

    >>> W = [np.full((1, 1, 1), 0.1), np.full((1, 1, 1), 0.1)]
    >>> out = gradient_flow(W, np.full((1, 1, 1), 2.0), [0.0, 1.0])
    >>> round(float(out[1][1, 0, 0, 0] * out[0][1, 0, 0, 0]), 6)       # Saxe's u(1) from u0 = 0.01
    0.430588
    """
    ws = [check_finite_array(f"weights[{j}]", w, ndim=3) for j, w in enumerate(weights)]
    T = check_finite_array("target", target, ndim=3)
    te = check_finite_array("t_eval", t_eval, ndim=1)
    if te.size == 0 or np.any(te < 0) or np.any(np.diff(te) < 0):
        raise ArgumentValueError("t_eval must be a non-empty sorted sequence of times >= 0")
    tau = check_real("tau", tau, lo=0.0, lo_open=True)
    shapes = [w.shape for w in ws]
    sizes = np.cumsum([0] + [w.size for w in ws])

    def unpack(y):
        return [y[sizes[j]:sizes[j + 1]].reshape(shapes[j]) for j in range(len(ws))]

    def rhs(_, y):
        layers = unpack(y)
        P = layers[0]
        for w in layers[1:]:
            P = w @ P
        return -np.concatenate([g.ravel() for g in ld.layer_gradients(layers, P - T)]) / tau

    y0 = np.concatenate([w.ravel() for w in ws])
    sol = integrate.solve_ivp(rhs, (0.0, float(te[-1])), y0, method="DOP853", t_eval=te, rtol=rtol, atol=atol,
                              dense_output=dense_output)
    if not sol.success:
        raise NumericalFailure(f"gradient flow integration failed: {sol.message}")
    out = [np.moveaxis(sol.y[sizes[j]:sizes[j + 1]].reshape(shapes[j] + (te.size,)), -1, 0) for j in range(len(ws))]
    if not dense_output:
        return out
    return out, lambda time: unpack(sol.sol(float(time)))


def decoupled_balanced_init(U, V, a0, n_weights, rng_frames) -> list:
    """Balanced decoupled initial weights (Saxe et al. 2013, sec. 2).

    ``W_1 = O_1 D V^T``, ``W_l = O_l D O_{l-1}^T``, ``W_n = U D O_{n-1}^T`` with ``D = diag(a0)`` per
    replica and Haar orthogonal ``O_l``; ``U, V`` ``(R, d, d)``, ``a0`` ``(R, d)``, ``rng_frames[l][r]``
    the generator of frame ``l`` of replica ``r``. Returns the ``n_weights`` matrices ``(R, d, d)``:
    every mode strength starts at ``prod a0 = a0^n``.
    """
    R, d, _ = U.shape
    frames = [V] + [np.stack([ensembles.haar_orthogonal(d, rng=g) for g in rng_frames[l]]) for l in range(n_weights - 1)] + [U]
    return decoupled_init(frames, [a0] * n_weights)


def crossing_time(values, level: float, dt: float) -> float:
    """First time a sampled curve (spacing ``dt``, starting at 0) reaches ``level`` from below.

    Linear interpolation between the two samples around the first crossing; raises
    :class:`ArgumentValueError` if the curve starts at or above ``level`` or never reaches it.

    >>> round(crossing_time([0.0, 0.5, 1.0, 1.5], 0.75, 0.1), 12)
    0.15
    """
    v = check_finite_array("values", values, ndim=1)
    idx = np.flatnonzero(v >= level)
    if idx.size == 0 or idx[0] == 0:
        raise ArgumentValueError("the curve does not cross the level inside the run")
    k = int(idx[0])
    f = (level - v[k - 1]) / (v[k] - v[k - 1])
    return float((k - 1 + f) * dt)


def time_to_criterion(loss: np.ndarray, frac: float) -> np.ndarray:
    """First step at which ``loss <= frac * loss[0]``, per replica (``steps + 1`` when never).

    ``loss`` ``(R, steps + 1)``; returns floats ``(R,)``.
    """
    hit = loss <= frac * loss[:, :1]
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), loss.shape[1])
    return first.astype(float)


@dataclass
class TwoLayerRuns:
    """Decoupled one-hidden-layer linear networks run by exact flow and by gradient descent.

    Attributes
    ----------
    S, a0, b0 : ndarray ``(R, d)``
        Target singular values and initial strengths of every mode of every replica.
    frames : list of ndarray ``(R, d, d)``
        ``[V, O, U]``: input, hidden and output frames.
    t : ndarray ``(K,)``
        The common time grid.
    flow : dict
        ``rtol -> (a, b)``, each ``(R, K, d)``: per-layer strengths along the exact gradient flow of
        the whole network (:func:`gradient_flow`) at that tolerance.
    flow_at : dict
        ``rtol -> W(t)``, the flow's continuous extension (list of weights at any ``t``).
    gd : dict
        ``eta -> (a, b)``, each ``(R, steps + 1, d)``: per-layer strengths after every step of
        gradient descent with learning rate ``eta`` (``t = step * eta``, ``tau = 1``) on the
        population loss (:func:`numerics.training.train`).
    """

    S: np.ndarray
    a0: np.ndarray
    b0: np.ndarray
    frames: list
    t: np.ndarray
    flow: dict
    flow_at: dict
    gd: dict


def two_layer_runs(S, a0, b0, *, t_end: float, etas=(), rtols=(1e-7, 1e-10), n_times: int = 61,
                   rng=None) -> TwoLayerRuns:
    """Run decoupled two-layer linear networks (random Haar frames) by exact flow and by gradient descent.

    ``W_1 = O diag(a0) V^T``, ``W_2 = U diag(b0) O^T``, target ``T = U diag(S) V^T`` per replica
    (:func:`decoupled_init`); every layer of the whole network is integrated, nothing is reduced to
    modes: the per-layer strengths are read off afterwards (:func:`layer_strengths`).

    >>> r = two_layer_runs(np.array([[2.0]]), np.array([[0.1]]), np.array([[0.1]]), t_end=1.0, etas=(0.01,), rng=0)
    >>> round(float(r.flow[1e-10][0][0, -1, 0] * r.flow[1e-10][1][0, -1, 0]), 6)   # u(1) = 0.430588
    0.430588
    """
    S = check_finite_array("S", S, ndim=2)
    a0 = check_finite_array("a0", a0, ndim=2)
    b0 = check_finite_array("b0", b0, ndim=2)
    if not (S.shape == a0.shape == b0.shape):
        raise ArgumentValueError(f"S, a0, b0 must have the same shape (R, d), got {S.shape}, {a0.shape}, {b0.shape}")
    t_end = check_real("t_end", t_end, lo=0.0, lo_open=True)
    g = as_generator(rng)
    R, d = S.shape
    frames = [np.stack([ensembles.haar_orthogonal(d, rng=g) for _ in range(R)]) for _ in range(3)]
    V, O, U = frames
    T = (U * S[:, None, :]) @ np.swapaxes(V, -1, -2)
    w0 = decoupled_init(frames, [a0, b0])
    tg = np.linspace(0.0, t_end, n_times)
    flow, flow_at = {}, {}
    for rtol in rtols:
        traj, at = gradient_flow(w0, T, tg, rtol=rtol, atol=rtol * 1e-3, dense_output=True)
        ab = np.stack([layer_strengths([traj[0][k], traj[1][k]], frames) for k in range(tg.size)], axis=1)
        flow[rtol] = (ab[:, :, 0, :], ab[:, :, 1, :])
        flow_at[rtol] = at
    gd = {}
    for eta in etas:
        steps = int(round(t_end / eta))
        rec = []
        train(NetworkStack([w.copy() for w in w0]), PopulationTask(T), optimizer="gd", lr=eta, steps=steps,
              record_at=(), callback=lambda k, net: rec.append(layer_strengths(net.weights, frames)))
        ab = np.stack(rec, axis=1)  # (R, steps + 1, 2, d)
        gd[eta] = (ab[:, :, 0, :], ab[:, :, 1, :])
    return TwoLayerRuns(S, a0, b0, frames, tg, flow, flow_at, gd)


def chain_growth_rate(n_weights: int, s: float, eta: float, *, delta: float = 1e-7, steps: int = 40) -> float:
    """Per-step log growth of the residual of gradient descent on ``0.5 (a_1 ... a_n - s)^2`` near its optimum.

    Starts at ``a_i = s^{1/n} (1 + delta)`` (a displacement along the top Hessian eigenvector of the
    balanced optimum) and returns ``(1/K) ln |r_K / r_0|``, ``r = prod a - s``, after ``K = steps``
    steps of size ``eta``. In the linear regime ``r_{k+1} = (1 - eta lambda) r_k``, so the rate is
    ``ln |1 - eta lambda|`` up to ``O(delta)``: negative (convergence) iff ``eta < 2 / lambda``. A
    residual that reaches exactly 0 counts as ``ln(1e-300)``.

    >>> round(chain_growth_rate(2, 1.0, 0.9), 6)                       # lambda = 2: ln|1 - 1.8|
    -0.223144
    """
    n = check_positive_int("n_weights", n_weights)
    s = check_real("s", s, lo=0.0, lo_open=True)
    eta = check_real("eta", eta, lo=0.0, lo_open=True)
    K = check_positive_int("steps", steps)
    a = np.full(n, s ** (1.0 / n)) * (1.0 + delta)
    r0 = float(np.prod(a) - s)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(K):
            p = np.prod(a)
            a = a - eta * (p - s) * p / a
    r = abs(float(np.prod(a) - s))
    if not np.isfinite(r):
        raise NumericalFailure(f"gradient descent overflowed at eta = {eta}; use fewer steps or a smaller delta")
    return math.log(max(r, 1e-300) / abs(r0)) / K


def stability_boundary(n_weights: int, s: float, *, delta: float = 1e-7, steps: int = 40) -> float:
    """The largest stable gradient-descent step on the balanced scalar chain, measured.

    The root in ``eta`` of :func:`chain_growth_rate` (``scipy.optimize.brentq``, relative tolerance
    1e-13), bracketed by doubling ``eta`` from 1e-6 until the residual grows: no prediction is used.
    Theory: ``2 / (n s^{2 - 2/n})`` (:func:`theory.linear_dynamics.max_stable_learning_rate`).

    >>> round(stability_boundary(4, 1.0), 9)
    0.5
    """
    hi = 1e-6
    while chain_growth_rate(n_weights, s, hi, delta=delta, steps=steps) < 0:
        hi *= 2.0
        if hi > 1e12:
            raise NumericalFailure("no unstable step size found below 1e12")
    return float(optimize.brentq(lambda e: chain_growth_rate(n_weights, s, e, delta=delta, steps=steps), hi / 2, hi,
                                 xtol=1e-300, rtol=1e-13))
