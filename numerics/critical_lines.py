"""Fukumizu & Amari (2000) critical lines measured on ``f(x) = sum_i v_i tanh(w_i . x)``, squared loss.

The theory (:mod:`theory.critical_lines`): splitting the unit of a strict local minimum
``(v*, w*)`` of the 1-unit loss into two units ``v_a = lambda v*``, ``v_b = (1 - lambda) v*``,
``w_a = w* + (1 - lambda) zeta``, ``w_b = w* - lambda zeta`` (:func:`embed`) gives a line of critical
points whose Hessian in ``zeta`` is ``lambda (1 - lambda) A``, ``A = v* mean[(f* - y) tanh''(w*.x)
x x^T]`` (:func:`critical_line_A`; :func:`line_hessian_fd` measures it by finite differences).

Gradient descent with step ``eta`` started ``eps xi`` off the line at ``lambda = 1/2`` (``xi`` the
eigenvector of ``lambda (1 - lambda) A`` with the most negative eigenvalue ``mu``,
:func:`escape_direction`) moves ``zeta = w_a - w_b`` by ``-2 eta H_zeta zeta`` per step (gradient
descent on ``(w_a, w_b)`` moves their difference with twice the coordinate step; at ``lambda = 1/2``
the difference and the mean are orthogonal coordinates), so in the linear regime

``zeta_k = g^k eps xi``,   ``g = 1 - 2 eta mu > 1``,

and the loss stays on the plateau ``L*`` for about ``ln(1/eps) / ln g`` steps. Orbits started at
``eps`` and at ``eps g^(-M)`` pass through the same points, ``M`` steps apart, up to ``O(eps)``:
:func:`escape_times` measures the (interpolated) first-passage times of the loss below
``(1 - drop) L*``, so the lengthening of the plateau, ``T(eps g^(-M)) - T(eps) = M``, is a
deterministic prediction. :func:`line_step_size` chooses ``eta = 1 / lambda_max`` of the full
2-unit Hessian on the line, so every stable direction contracts without oscillating and
``g <= 1 + 2 |mu| / lambda_max``.

Examples
--------
>>> X, y = two_unit_teacher(2, 150, rng=0)
>>> v, w, L = reduced_critical_point(X, y, rng=0)
>>> A = critical_line_A(v, w, X, y)
>>> H = line_hessian_fd(v, w, 0.3, X, y)
>>> bool(np.allclose(H, 0.3 * 0.7 * A, atol=1e-6))
True
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from degeneracy.errors import ArgumentValueError, CertificationError
from degeneracy.validation import check_finite_array, check_positive_int, check_real

from .rng import as_generator

__all__ = [
    "loss_and_grad",
    "two_unit_teacher",
    "reduced_critical_point",
    "reduced_hessian",
    "critical_line_A",
    "embed",
    "line_hessian_fd",
    "line_step_size",
    "escape_direction",
    "plateau_lengths",
    "escape_times",
]


def _net(v, W, X):
    """``f`` for stacked parameters: ``v`` (..., H), ``W`` (..., H, n), ``X`` (N, n) -> (..., N)."""
    Z = np.einsum("...hk,nk->...hn", W, X)
    return np.einsum("...h,...hn->...n", v, np.tanh(Z)), Z


def loss_and_grad(v, W, X, y):
    """``L = mean (f - y)^2 / 2`` and its gradients, stacked over leading axes."""
    f, Z = _net(v, W, X)
    r = f - y
    N = X.shape[0]
    T = np.tanh(Z)
    dT = 1.0 - T * T
    L = 0.5 * np.mean(r * r, axis=-1)
    gv = np.einsum("...n,...hn->...h", r, T) / N
    gW = np.einsum("...n,...h,...hn,nk->...hk", r, v, dT, X) / N
    return L, gv, gW


def two_unit_teacher(n: int = 2, n_samples: int = 200, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``X ~ N(0, I)`` (``(N, n)``) and targets of a random 2-unit tanh teacher with unit
    weights of norm 2 and output weights ``(1, 1)``, a task a 1-unit student cannot fit."""
    n = check_positive_int("n", n)
    N = check_positive_int("n_samples", n_samples)
    g = as_generator(rng)
    W = g.standard_normal((2, n))
    W = 2.0 * W / np.linalg.norm(W, axis=1, keepdims=True)
    X = g.standard_normal((N, n))
    y = np.tanh(X @ W.T).sum(axis=1)
    return X, y


def _reduced_parts(p, X, y):
    t = np.tanh(X @ p[1:])
    return t, 1.0 - t * t, p[0] * t - y


def _reduced_loss(p, X, y):
    _, _, r = _reduced_parts(p, X, y)
    return 0.5 * np.mean(r * r)


def _reduced_grad(p, X, y):
    t, dt, r = _reduced_parts(p, X, y)
    return np.concatenate([[np.mean(r * t)], X.T @ (r * p[0] * dt) / X.shape[0]])


def reduced_hessian(v: float, w, X, y) -> np.ndarray:
    """Analytic Hessian of the 1-unit loss ``mean (v tanh(w.x) - y)^2 / 2`` in ``(v, w)``.

    ``d2L/dv2 = mean t^2``, ``d2L/dv dw = mean[t'(v t + r) x]``, ``d2L/dw2 = mean[(v^2 t'^2 + r v t'') x x^T]``
    with ``t = tanh(w.x)``, ``t' = 1 - t^2``, ``t'' = -2 t t'``, ``r = v t - y``.
    """
    X = check_finite_array("X", X, ndim=2)
    p = np.concatenate([[float(v)], np.asarray(w, dtype=float)])
    t, dt, r = _reduced_parts(p, X, y)
    N = X.shape[0]
    H = np.empty((p.size, p.size))
    H[0, 0] = np.mean(t * t)
    H[0, 1:] = H[1:, 0] = X.T @ (dt * (p[0] * t + r)) / N
    H[1:, 1:] = (X * ((p[0] * dt) ** 2 + r * p[0] * (-2.0 * t * dt))[:, None]).T @ X / N
    return H


def reduced_critical_point(X, y, rng=None, *, starts: int = 8) -> tuple[float, np.ndarray, float]:
    """The best 1-unit fit ``(v*, w*, L*)``, refined to a certified strict local minimum.

    ``scipy.optimize.least_squares`` (Levenberg-Marquardt) from ``starts`` random starts, then
    ``scipy.optimize.minimize(method="trust-exact")`` with the analytic gradient and
    :func:`reduced_hessian` from the best one. The result must have gradient norm below ``1e-7`` and a
    positive definite analytic Hessian, else :class:`CertificationError` (e.g. when the fit runs off
    to ``w -> 0``, ``v -> infinity``).
    """
    X = check_finite_array("X", X, ndim=2)
    y = check_finite_array("y", y, ndim=1)
    g = as_generator(rng)
    N, n = X.shape

    def res(p):
        return (p[0] * np.tanh(X @ p[1:]) - y) / np.sqrt(N)

    def jac(p):
        t = np.tanh(X @ p[1:])
        return np.column_stack([t, (p[0] * (1 - t * t))[:, None] * X]) / np.sqrt(N)

    best = None
    for _ in range(check_positive_int("starts", starts)):
        p0 = np.concatenate([[g.standard_normal()], g.standard_normal(n)])
        sol = optimize.least_squares(res, p0, jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                                     max_nfev=5000)
        if best is None or sol.cost < best.cost:
            best = sol
    pol = optimize.minimize(_reduced_loss, best.x, args=(X, y), jac=_reduced_grad,
                            hess=lambda p, X, y: reduced_hessian(p[0], p[1:], X, y), method="trust-exact",
                            options={"gtol": 1e-13, "maxiter": 200})
    p = pol.x if pol.fun <= best.cost + 1e-15 else best.x
    v, w = float(p[0]), p[1:].copy()
    gnorm = float(np.linalg.norm(_reduced_grad(p, X, y)))
    if not np.isfinite(gnorm) or gnorm > 1e-7:
        raise CertificationError(f"1-unit fit not converged: gradient norm {gnorm:.3g}")
    if np.min(np.linalg.eigvalsh(reduced_hessian(v, w, X, y))) <= 0:
        raise CertificationError("1-unit critical point is not a strict local minimum")
    return v, w, float(_reduced_loss(p, X, y))


def critical_line_A(v: float, w, X, y) -> np.ndarray:
    """``A = v* mean[(f*(x) - y) phi''(w*.x) x x^T]`` for ``phi = tanh`` (``phi'' = -2 tanh sech^2``)."""
    X = check_finite_array("X", X, ndim=2)
    w = check_finite_array("w", w, ndim=1)
    z = X @ w
    t = np.tanh(z)
    r = v * t - y
    d2 = -2.0 * t * (1.0 - t * t)
    return v * np.einsum("n,nk,nl->kl", r * d2, X, X) / X.shape[0]


def embed(v: float, w, lam: float, zeta=None) -> tuple[np.ndarray, np.ndarray]:
    """Split the unit ``(v, w)``: ``v_a = lam v``, ``v_b = (1 - lam) v``, ``w_a = w + (1 - lam) zeta``,
    ``w_b = w - lam zeta``. ``zeta`` may be stacked ``(..., n)``; returns ``(v (..., 2), W (..., 2, n))``."""
    w = np.asarray(w, dtype=float)
    zeta = np.zeros_like(w) if zeta is None else np.asarray(zeta, dtype=float)
    lam = float(lam)
    shape = zeta.shape[:-1]
    vv = np.broadcast_to(np.array([lam * v, (1 - lam) * v]), shape + (2,)).copy()
    W = np.stack([w + (1 - lam) * zeta, w - lam * zeta], axis=-2)
    return vv, W


def line_hessian_fd(v: float, w, lam: float, X, y, *, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of the 2-unit loss in ``zeta`` at ``zeta = 0`` (``n x n``).

    Truncation error ``O(h^2)`` times fourth derivatives, rounding ``O(eps L / h^2)``.
    """
    w = np.asarray(w, dtype=float)
    n = w.size
    E = np.eye(n) * h
    H = np.empty((n, n))
    for a in range(n):
        for b in range(n):
            zs = np.stack([E[a] + E[b], E[a] - E[b], -E[a] + E[b], -E[a] - E[b]])
            vv, W = embed(v, w, lam, zs)
            L = loss_and_grad(vv, W, X, y)[0]
            H[a, b] = (L[0] - L[1] - L[2] + L[3]) / (4 * h * h)
    return 0.5 * (H + H.T)


def line_step_size(v: float, w, lam: float, X, y, *, h: float = 1e-5) -> float:
    """``1 / lambda_max`` of the full 2-unit Hessian at the line point ``embed(v, w, lam)``.

    The Hessian in all ``2 n + 2`` parameters by central differences of the analytic gradient.
    Gradient descent with this step contracts every stable direction monotonically.
    """
    vv, W = embed(v, w, lam)
    p = np.concatenate([vv, W.ravel()])
    n = W.shape[-1]

    def grad(q):
        _, gv, gW = loss_and_grad(q[:2], q[2:].reshape(2, n), X, y)
        return np.concatenate([gv, gW.ravel()])

    P = p.size
    H = np.empty((P, P))
    for k in range(P):
        e = np.zeros(P)
        e[k] = h
        H[:, k] = (grad(p + e) - grad(p - e)) / (2 * h)
    top = float(np.max(np.linalg.eigvalsh(0.5 * (H + H.T))))
    if not top > 0:
        raise CertificationError("the 2-unit Hessian on the line has no positive eigenvalue")
    return 1.0 / top


def escape_direction(A, lam: float) -> tuple[float, np.ndarray]:
    """``(mu, xi)``: the most negative eigenvalue of ``lam (1 - lam) A`` and its unit eigenvector."""
    A = check_finite_array("A", A, ndim=2)
    ev, U = np.linalg.eigh(lam * (1 - lam) * 0.5 * (A + A.T))
    return float(ev[0]), U[:, 0]


def _descend(v, w, lam, X, y, eps, xi, lr, steps, stop_below=None):
    """Loss curves ``(len(eps), k + 1)``; with ``stop_below``, stops once every curve is below it."""
    vv, W = embed(v, w, lam, eps[:, None] * np.asarray(xi)[None, :])
    curves = np.empty((eps.size, steps + 1))
    done = np.zeros(eps.size, dtype=bool)
    for t in range(steps + 1):
        L, gv, gW = loss_and_grad(vv, W, X, y)
        if not np.all(np.isfinite(L)):
            raise CertificationError("gradient descent diverged (reduce lr)")
        curves[:, t] = L
        if stop_below is not None:
            done |= L < stop_below
            if done.all():
                return curves[:, : t + 1]
        if t < steps:
            vv = vv - lr * gv
            W = W - lr * gW
    return curves


#: the largest number of gradient-descent steps a plateau measurement may take (bounded work)
MAX_STEPS = 200_000


def _escape_setup(v, w, lam, X, y, eps, lr, steps, drop, xi):
    """Validated ``(eps, lr, steps, drop, w, xi, L*)`` of an escape run from the critical line
    (``xi`` the escape direction when not given, ``L*`` the loss on the line)."""
    eps = check_finite_array("eps", eps, ndim=1)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    steps = check_positive_int("steps", steps)
    if steps > MAX_STEPS:
        raise ArgumentValueError(f"steps must be at most {MAX_STEPS} (bounded work), got {steps}")
    drop = check_real("drop", drop, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    w = np.asarray(w, dtype=float)
    if xi is None:
        _, xi = escape_direction(critical_line_A(v, w, X, y), lam)
    Lstar = float(loss_and_grad(*embed(v, w, lam), X, y)[0])
    return eps, lr, steps, drop, w, xi, Lstar


def plateau_lengths(v: float, w, lam: float, X, y, eps, *, lr: float, steps: int, drop: float = 0.1,
                    xi=None) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent on the 2-unit net from ``embed(v, w, lam, eps_k xi)`` for each ``eps_k``.

    Returns ``(T, curves)``: ``T[k]`` the first step at which the loss is below ``(1 - drop) L*``
    (``L*`` the loss on the line; ``steps + 1`` if never), and the loss curves ``(len(eps), steps + 1)``.
    All ``eps`` run as one stacked computation; ``steps`` is capped at :data:`MAX_STEPS`.
    """
    eps, lr, steps, drop, w, xi, Lstar = _escape_setup(v, w, lam, X, y, eps, lr, steps, drop, xi)
    curves = _descend(v, w, lam, X, y, eps, xi, lr, steps)
    below = curves < (1 - drop) * Lstar
    T = np.where(below.any(axis=1), below.argmax(axis=1), steps + 1)
    return T, curves


def escape_times(v: float, w, lam: float, X, y, eps, *, lr: float, steps: int, drop: float = 0.01,
                 xi=None) -> np.ndarray:
    """Interpolated first-passage times of the loss below ``(1 - drop) L*`` from ``eps_k xi`` (module notes).

    Between the two steps around the first passage, ``log L`` is interpolated linearly, so orbits
    that pass through the same points give times that differ by exactly their step offset. The
    descent stops as soon as every run has passed (at most ``steps`` <= :data:`MAX_STEPS` steps);
    raises :class:`CertificationError` when a run does not leave the plateau within ``steps``.
    """
    eps, lr, steps, drop, w, xi, Lstar = _escape_setup(v, w, lam, X, y, eps, lr, steps, drop, xi)
    curves = _descend(v, w, lam, X, y, eps, xi, lr, steps, stop_below=(1 - drop) * Lstar)
    thr = np.log((1 - drop) * Lstar)
    out = np.empty(eps.size)
    for k in range(eps.size):
        idx = np.flatnonzero(curves[k] < (1 - drop) * Lstar)
        if idx.size == 0 or idx[0] == 0:
            raise CertificationError(f"the run from eps = {eps[k]:.3g} did not leave the plateau within {steps} steps")
        j = int(idx[0])
        a, b = np.log(curves[k, j - 1]), np.log(curves[k, j])
        out[k] = j - 1 + (a - thr) / (a - b)
    return out
