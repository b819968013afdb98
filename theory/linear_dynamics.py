"""Exact gradient dynamics of deep linear networks (Saxe, McClelland & Ganguli 2013; Arora et al. 2018).

Setting (Saxe et al. 2013, arXiv:1312.6120, sec. 2-3): whitened inputs (``E x x^T = I``), a target
map with input-output correlation ``Sigma^{yx} = U S V^T``, squared loss
``l(W) = 0.5 ||W_n ... W_1 - Sigma^{yx}||_F^2`` and gradient flow ``tau dW_j/dt = -dl/dW_j``
(learning rate ``1/tau``). ``n`` (``n_weights``) counts weight matrices; Saxe et al. count layers
``N_l = n + 1``.

* One decoupled mode of a network with one hidden layer (``n = 2``) with strengths ``a, b`` obeys
  ``tau da/dt = b (s - a b)``, ``tau db/dt = a (s - a b)`` (derived by sympy from the loss in
  :mod:`theory.mode_equations`); ``a^2 - b^2`` is conserved, and for ``a = b`` the mode strength
  ``u = a b`` solves ``tau du/dt = 2 u (s - u)``: ``u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0)``
  (their eq. 6). For any ``(a0, b0)``, balanced or not, ``(a + b)^2`` and ``(a - b)^2`` solve
  constant-coefficient Riccati equations (derived here): :func:`saxe_two_layer_strengths` is exact,
  :func:`two_layer_learning_time` inverts it, and both broadcast over modes (several ``s_alpha``
  learned in sequence).
* A balanced decoupled mode of a depth-``n`` chain (all ``n`` strengths equal, ``u = a^n``) obeys
  ``tau du/dt = n u^{2 - 2/n} (s - u)``.  The time from ``u0`` to ``uf`` is
  ``t = (tau/n) [F(uf) - F(u0)]`` with ``F' = u^{2/n - 2}/(s - u)``; derived here (termwise
  integration of the geometric series of ``1/(s - u)``):

  - ``0 < u < s``, ``n != 2``: ``F(u) = u^b / (s b) * 2F1(1, b; b + 1; u/s)``, ``b = 2/n - 1``
    (``n = 1``: ``F = -ln(1 - u/s)``);
  - ``0 < u < s``, ``n = 2``: ``F(u) = (1/s) ln(u / (s - u))`` (Saxe's eq. 7 after ``t = (tau/2) F``);
  - ``u > s`` (approach from above), ``n >= 2``: ``F(u) = u^{-a}/a * 2F1(1, a; a + 1; s/u)``,
    ``a = 2 - 2/n``; ``n = 1``: ``F = -ln(u - s)``.

  The tests check it against mpmath quadrature of the defining integral, and a sympy certificate
  differentiates it back to the ODE (``proofs/dynamics.py``).
* Large-depth approximation (Saxe et al. sec. 3): replace the exponent ``2 - 2/n`` by 2, i.e.
  ``t ~ tau/(N_l - 1) * [ (1/s)(1/u0 - 1/uf) + (1/s^2) ln(uf (s - u0) / (u0 (s - uf))) ]``
  with ``N_l - 1 = n`` weight matrices.
* Balanced scalar chain ``l = 0.5 (a_1 ... a_n - s)^2``: at the optimum ``a_i = s^{1/n}`` the Hessian
  is ``s^{2-2/n} 1 1^T``, top eigenvalue ``n s^{2-2/n}``; gradient descent with step ``eta`` is
  stable there iff ``eta < 2 / (n s^{2 - 2/n})`` (docs/formulas.md §2).
* Layer gradients ``dl/dW_j = (W_n...W_{j+1})^T G (W_{j-1}...W_1)^T`` with ``G = dl/dW``;
  activation gradients ``delta_j = W_{j+1}^T ... W_n^T g``.
* Conservation (Arora, Cohen & Hazan 2018; Du, Hu & Lee 2018): ``W_{j+1}^T W_{j+1} - W_j W_j^T``
  is constant under gradient flow; under gradient descent with step ``eta`` it changes per step by
  exactly ``eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T)``.
* End-to-end flow (Arora, Cohen & Hazan 2018, Thm. 1), balanced initialization:
  ``dW/dt = -sum_{j=1}^n (W W^T)^{(j-1)/n} grad l(W) (W^T W)^{(n-j)/n}``.
* Activation gradients at initialization (derived here): for square ``N x N`` Gaussian weights of
  variance ``1/N`` and an output gradient ``g`` independent of the weights,
  ``||W^T v||^2 / ||v||^2 ~ chi^2_N / N`` independently of ``v`` (rotation invariance), so with
  ``k = L - l`` layers between ``delta_l`` and the output:
  ``E ||delta_l||^2 = ||g||^2`` (no vanishing in mean), ``E log ||delta_l|| = log ||g|| +
  (k/2) [psi(N/2) + log(2/N)]`` and ``Var log ||delta_l|| = k psi'(N/2) / 4`` (linear in ``k``).

Examples
--------
>>> round(float(saxe_mode_strength(1.0, s=2.0, u0=0.01)), 6)
0.430588
>>> round(learning_time(0.01, 1.0, s=2.0, n_weights=2), 6)
1.323326
>>> round(hessian_top_eigenvalue(s=4.0, n_weights=2), 6)
8.0
"""

from __future__ import annotations

import math
from typing import Sequence

import mpmath
import numpy as np
from scipy import special

from degeneracy.errors import ArgumentValueError
from degeneracy.validation import check_finite_array, check_positive_int, check_real

__all__ = [
    "psd_power",
    "saxe_mode_strength",
    "saxe_two_layer_strengths",
    "two_layer_learning_time",
    "mode_flow",
    "mode_ode_rhs",
    "learning_time",
    "learning_time_large_depth",
    "hessian_top_eigenvalue",
    "max_stable_learning_rate",
    "layer_gradients",
    "activation_gradients",
    "conserved_quantities",
    "gd_conservation_drift",
    "end_to_end_velocity",
    "layerwise_end_to_end_velocity",
    "activation_gradient_log_mean",
    "activation_gradient_log_variance",
    "activation_gradient_mean_square",
]


def saxe_mode_strength(t, *, s: float, u0: float, tau: float = 1.0) -> np.ndarray:
    """Closed-form mode strength of a one-hidden-layer linear network (Saxe et al. 2013, eq. 6).

    ``u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0)``, the solution of ``tau du/dt = 2u(s - u)``,
    ``u(0) = u0`` (balanced mode ``a = b``, ``u = ab``). Vectorized over ``t``.

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.
    s : float > 0
        Singular value of the input-output correlation for this mode.
    u0 : float > 0
        Initial mode strength.
    tau : float > 0
        Time constant (inverse learning rate).

    Examples
    --------
    >>> import numpy as np
    >>> saxe_mode_strength(np.array([0.0, 50.0]), s=1.5, u0=0.1).round(6).tolist()
    [0.1, 1.5]
    """
    s = check_real("s", s, lo=0.0, lo_open=True)
    u0 = check_real("u0", u0, lo=0.0, lo_open=True)
    tau = check_real("tau", tau, lo=0.0, lo_open=True)
    t = check_finite_array("t", t)
    if np.any(t < 0):
        raise ArgumentValueError("t must be >= 0")
    # overflow-free form: u = s / (1 + (s/u0 - 1) e^{-2st/tau})
    return s / (1.0 + (s / u0 - 1.0) * np.exp(-2.0 * s * t / tau))


def _riccati(x0, sigma, C, D, E):
    """Solution of ``tau dX/dt = 2 sigma X - X^2/2 + C^2/2`` from ``x0 >= 0`` at ``E = e^{-2Dt/tau}``.

    Roots ``X_pm = 2(sigma +- D)``, ``D = sqrt(sigma^2 + C^2/4)``; written without cancellation.
    """
    big = 2.0 * (np.abs(sigma) + D)  # 2(|sigma| + D) > 0
    small = -0.5 * C * C / (np.abs(sigma) + D)  # 2(|sigma| - D) <= 0, cancellation-free
    xp, xm = (big, small) if sigma > 0 else (-small, -big)  # sigma = +s: (P+, P-); sigma = -s: (Q+, Q-)
    num = xp * (x0 - xm) - xm * (x0 - xp) * E
    den = (x0 - xm) - (x0 - xp) * E
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return np.where(den > 0, out, 0.0)  # den = 0 only for x0 = xm = 0 (C = 0): the fixed point X = 0


def _two_layer_setup(s, a0, b0, tau):
    s = check_real("s", s, lo=0.0, lo_open=True)
    a0 = check_real("a0", a0)
    b0 = check_real("b0", b0)
    tau = check_real("tau", tau, lo=0.0, lo_open=True)
    C = a0 * a0 - b0 * b0
    D = math.hypot(s, C / 2.0)
    return s, a0, b0, tau, C, D


def saxe_two_layer_strengths(t, *, s: float, a0: float, b0: float, tau: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Exact strengths ``(a(t), b(t))`` of one mode of a one-hidden-layer linear network, any ``(a0, b0)``.

    The mode equations ``tau da/dt = b (s - ab)``, ``tau db/dt = a (s - ab)`` (Saxe et al. 2013,
    sec. 2; derived by :func:`theory.mode_equations.derive_mode_equations`) conserve
    ``C = a^2 - b^2``. In ``p = a + b``, ``q = a - b`` (so ``pq = C``) they become two Riccati equations
    with constant coefficients (derived here; certified in sympy, ``dynamics.unbalanced-solution``; cf. the
    matrix Riccati solutions of Fukumizu 1998 and Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022):

    ``tau dP/dt = 2 s P - P^2/2 + C^2/2`` for ``P = p^2``, and the same with ``s -> -s`` for ``Q = q^2``,

    solved by ``X(t) = [X_+ (X_0 - X_-) - X_- (X_0 - X_+) E] / [(X_0 - X_-) - (X_0 - X_+) E]`` with
    ``E = e^{-2 D t / tau}``, ``D = sqrt(s^2 + C^2/4)`` and roots ``X_pm = 2(+-s +- D)``. Then
    ``p = sign(p_0) sqrt(P)``, ``q = sign(q_0) sqrt(Q)`` (neither changes sign), ``a = (p + q)/2``,
    ``b = (p - q)/2``. The product ``u = ab`` tends to ``s`` and ``a^2 -> (C + sqrt(C^2 + 4 s^2))/2``
    whenever ``a_0 + b_0 != 0``; for balanced modes (``C = 0``) ``u(t)`` is Saxe's eq. (6)
    (:func:`saxe_mode_strength`).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``; any shape.
    s : float > 0
        The mode's singular value of the input-output correlation.
    a0, b0 : float
        Initial strengths of the mode in the first and second weight matrix (any real numbers).
    tau : float > 0
        Time constant (inverse learning rate).

    Returns
    -------
    a, b : ndarray, shape of ``t``

    Raises
    ------
    ArgumentValueError
        For ``s <= 0``, ``tau <= 0``, non-finite arguments or negative times.

    Examples
    --------
    >>> a, b = saxe_two_layer_strengths([0.0, 1.0], s=3.0, a0=0.5, b0=0.02)
    >>> a.round(6).tolist(), b.round(6).tolist()
    ([0.5, 1.685887], [0.02, 1.61016])
    >>> bool(np.allclose(a**2 - b**2, 0.5**2 - 0.02**2))          # the conserved quantity
    True
    >>> a, b = saxe_two_layer_strengths([0.0, 1.0], s=2.0, a0=0.1, b0=0.1)
    >>> bool(np.allclose(a * b, saxe_mode_strength([0.0, 1.0], s=2.0, u0=0.01)))
    True
    """
    s, a0, b0, tau, C, D = _two_layer_setup(s, a0, b0, tau)
    t = check_finite_array("t", t)
    if np.any(t < 0):
        raise ArgumentValueError("t must be >= 0")
    E = np.exp(-2.0 * D * t / tau)
    p0, q0 = a0 + b0, a0 - b0
    p = math.copysign(1.0, p0) * np.sqrt(_riccati(p0 * p0, s, C, D, E)) if p0 != 0 else np.zeros_like(E)
    q = math.copysign(1.0, q0) * np.sqrt(_riccati(q0 * q0, -s, C, D, E)) if q0 != 0 else np.zeros_like(E)
    return 0.5 * (p + q), 0.5 * (p - q)


def two_layer_learning_time(uf: float, *, s: float, a0: float, b0: float, tau: float = 1.0) -> float:
    """Exact time at which the mode strength ``u = ab`` of :func:`saxe_two_layer_strengths` reaches ``uf``.

    With ``P = (a + b)^2`` as in :func:`saxe_two_layer_strengths`, ``u = (P^2 - C^2) / (4P)`` is
    increasing in ``P``, so ``u = uf`` at ``P_f = 2 uf + sqrt(4 uf^2 + C^2)`` and
    ``t = -(tau / 2D) ln[(P_f - P_+)(P_0 - P_-) / ((P_0 - P_+)(P_f - P_-))]``. For ``a0 = b0`` this
    is Saxe et al.'s ``(tau/2s) ln[uf (s - u0) / (u0 (s - uf))]`` (eq. 7). ``u`` moves
    monotonically from ``u0 = a0 b0`` towards ``s``, so ``uf`` must lie between them (``uf = u0``
    gives 0).

    Raises
    ------
    ArgumentValueError
        If ``a0 + b0 = 0`` (then ``u`` decays to 0) or ``uf`` is not between ``u0`` and ``s``.

    Examples
    --------
    >>> round(two_layer_learning_time(1.5, s=3.0, a0=0.5, b0=0.02), 6)      # half of s
    0.625268
    >>> abs(two_layer_learning_time(1.0, s=2.0, a0=0.1, b0=0.1) - learning_time(0.01, 1.0, s=2.0, n_weights=2)) < 1e-12
    True
    """
    s, a0, b0, tau, C, D = _two_layer_setup(s, a0, b0, tau)
    uf = check_real("uf", uf)
    p0 = a0 + b0
    if p0 == 0:
        raise ArgumentValueError("a0 + b0 = 0: the mode strength decays to 0 and never reaches uf")
    u0 = a0 * b0
    if uf == u0:
        return 0.0
    if not (min(u0, s) < uf < max(u0, s)):
        raise ArgumentValueError(f"uf must lie strictly between u0 = a0 b0 = {u0:.6g} and s = {s:.6g} "
                                 f"(u moves monotonically from u0 to s), got {uf}")
    big = 2.0 * (s + D)
    small = -0.5 * C * C / (s + D)
    P0 = p0 * p0
    Pf = 2.0 * uf + math.hypot(2.0 * uf, C)
    return float(-(tau / (2.0 * D)) * math.log((Pf - big) * (P0 - small) / ((P0 - big) * (Pf - small))))


def mode_flow(a, *, s, tau: float = 1.0) -> np.ndarray:
    """``tau da_j/dt = (prod_{k != j} a_k)(s - prod_k a_k)``: one decoupled mode of a depth-``n`` chain.

    The mode equations derived by :func:`theory.mode_equations.derive_mode_equations` (Saxe et al.
    2013, sec. 3), as a vectorized right-hand side for ODE solvers: ``a`` ``(..., n)`` holds the
    mode's strength in each of the ``n`` weight matrices, ``s`` broadcasts against ``a[..., 0]``.

    >>> mode_flow([0.5, 0.02], s=3.0).round(6).tolist()       # (b (s - ab), a (s - ab))
    [0.0598, 1.495]
    """
    a = check_finite_array("a", a)
    if a.ndim == 0 or a.shape[-1] < 1:
        raise ArgumentValueError(f"a must have shape (..., n) with n >= 1, got {a.shape}")
    tau = check_real("tau", tau, lo=0.0, lo_open=True)
    s = check_finite_array("s", s)
    n = a.shape[-1]
    others = np.stack([np.prod(np.delete(a, j, axis=-1), axis=-1) for j in range(n)], axis=-1)
    u = np.prod(a, axis=-1)
    return others * (np.asarray(s) - u)[..., None] / tau


def mode_ode_rhs(u, *, s: float, n_weights: int, tau: float = 1.0) -> np.ndarray:
    """``du/dt = n u^{2 - 2/n} (s - u) / tau`` for a balanced decoupled mode of a depth-``n`` chain.

    >>> float(mode_ode_rhs(1.0, s=2.0, n_weights=3))
    3.0
    """
    n = check_positive_int("n_weights", n_weights)
    s = check_real("s", s, lo=0.0, lo_open=True)
    tau = check_real("tau", tau, lo=0.0, lo_open=True)
    u = check_finite_array("u", u)
    return n * np.power(u, 2.0 - 2.0 / n) * (s - u) / tau


def _antiderivative(u: mpmath.mpf, s: mpmath.mpf, n: int) -> mpmath.mpf:
    """``F(u)`` with ``F'(u) = u^{2/n - 2} / (s - u)`` on the side of ``s`` where ``u`` lies."""
    if u < s:
        if n == 2:
            return mpmath.log(u / (s - u)) / s
        if n == 1:
            return -mpmath.log(1 - u / s)
        b = mpmath.mpf(2) / n - 1
        return u**b / (s * b) * mpmath.hyp2f1(1, b, b + 1, u / s)
    if n == 1:
        return -mpmath.log(u - s)
    a = 2 - mpmath.mpf(2) / n
    return u ** (-a) / a * mpmath.hyp2f1(1, a, a + 1, s / u)


def _check_times(s, u0, uf, tau) -> tuple[float, float, float, float]:
    """Validate the arguments of a learning time: all positive, and ``uf`` reachable from ``u0``."""
    s = check_real("s", s, lo=0.0, lo_open=True)
    u0 = check_real("u0", u0, lo=0.0, lo_open=True)
    uf = check_real("uf", uf, lo=0.0, lo_open=True)
    tau = check_real("tau", tau, lo=0.0, lo_open=True)
    _check_endpoints(u0, uf, s)
    return s, u0, uf, tau


def _check_endpoints(u0: float, uf: float, s: float) -> None:
    if u0 == uf:
        return
    if (u0 < s) != (uf < s) or u0 == s or uf == s:
        raise ArgumentValueError(
            f"u0 and uf must lie on the same side of s (u only approaches s), got u0={u0}, uf={uf}, s={s}"
        )
    if u0 < s and uf < u0:
        raise ArgumentValueError(f"below s the mode strength grows: need u0 < uf < s, got u0={u0}, uf={uf}, s={s}")
    if u0 > s and uf > u0:
        raise ArgumentValueError(f"above s the mode strength decays: need s < uf < u0, got u0={u0}, uf={uf}, s={s}")


def learning_time(u0: float, uf: float, *, s: float, n_weights: int, tau: float = 1.0) -> float:
    """Exact time for ``tau du/dt = n u^{2-2/n} (s - u)`` to carry ``u`` from ``u0`` to ``uf``.

    ``t = (tau/n) int_{u0}^{uf} du / (u^{2-2/n} (s - u)) = (tau/n) [F(uf) - F(u0)]`` with the closed
    forms of ``F`` in the module docstring (Gauss hypergeometric ``2F1``, evaluated by mpmath at 30
    digits; logarithms for ``n = 1, 2``). Valid for every integer ``n >= 1``. ``n = 2`` reproduces
    Saxe et al.'s ``t = (tau/2s) ln[uf (s - u0) / (u0 (s - uf))]`` (eq. 7).

    Parameters
    ----------
    u0, uf : float > 0
        Start and end strengths, both below ``s`` (``u0 < uf``) or both above (``uf < u0``).
    s : float > 0
    n_weights : int >= 1
        Number of weight matrices ``n`` (Saxe et al.'s ``N_l - 1``).
    tau : float > 0

    Examples
    --------
    >>> import math
    >>> abs(learning_time(0.1, 1.0, s=2.0, n_weights=2) - math.log(1.0 * 1.9 / (0.1 * 1.0)) / 4) < 1e-14
    True
    >>> round(learning_time(0.001, 1.0, s=2.0, n_weights=30), 6)
    11.300838
    """
    n = check_positive_int("n_weights", n_weights)
    s, u0, uf, tau = _check_times(s, u0, uf, tau)
    if u0 == uf:
        return 0.0
    with mpmath.workdps(30):
        S, U0, UF = mpmath.mpf(s), mpmath.mpf(u0), mpmath.mpf(uf)
        t = (mpmath.mpf(tau) / n) * (_antiderivative(UF, S, n) - _antiderivative(U0, S, n))
        return float(t)


def learning_time_large_depth(u0: float, uf: float, *, s: float, n_layers: int, tau: float = 1.0) -> float:
    """Saxe et al.'s large-depth learning time (sec. 3): exponent ``2 - 2/(N_l - 1)`` replaced by 2.

    ``t ~ tau/(N_l - 1) * [ (1/s)(1/u0 - 1/uf) + (1/s^2) ln( uf (s - u0) / (u0 (s - uf)) ) ]``,
    from ``1/(u^2 (s-u)) = 1/(s u^2) + 1/(s^2 u) + 1/(s^2 (s - u))``. ``n_layers = N_l >= 2``
    counts layers (input and output included), so the network has ``N_l - 1`` weight matrices.

    >>> round(learning_time_large_depth(0.001, 1.0, s=2.0, n_layers=31), 4)
    16.7133
    """
    NL = check_int_layers(n_layers)
    s, u0, uf, tau = _check_times(s, u0, uf, tau)
    if u0 == uf:
        return 0.0
    with mpmath.workdps(30):
        S, U0, UF = mpmath.mpf(s), mpmath.mpf(u0), mpmath.mpf(uf)
        bracket = (1 / U0 - 1 / UF) / S + mpmath.log(UF * abs(S - U0) / (U0 * abs(S - UF))) / S**2
        return float(mpmath.mpf(tau) / (NL - 1) * bracket)


def check_int_layers(n_layers) -> int:
    """``n_layers`` must be an integer >= 2 (at least one weight matrix)."""
    from degeneracy.validation import check_int

    return check_int("n_layers", n_layers, minimum=2)


def hessian_top_eigenvalue(*, s: float, n_weights: int) -> float:
    """Top Hessian eigenvalue at the optimum of the balanced scalar chain: ``n s^{2 - 2/n}``.

    Loss ``0.5 (a_1 ... a_n - s)^2`` at ``a_i = s^{1/n}``: the residual vanishes, so the Hessian is
    the Gauss-Newton term ``g g^T`` with ``g_i = prod_{k != i} a_k = s^{(n-1)/n}``; its only nonzero
    eigenvalue is ``||g||^2 = n s^{2 - 2/n}`` (certified in sympy in ``proofs/dynamics.py``).

    >>> hessian_top_eigenvalue(s=1.0, n_weights=30)
    30.0
    """
    n = check_positive_int("n_weights", n_weights)
    s = check_real("s", s, lo=0.0, lo_open=True)
    return float(n * s ** (2.0 - 2.0 / n))


def max_stable_learning_rate(*, s: float, n_weights: int) -> float:
    """``2 / (n s^{2 - 2/n})``: gradient descent is linearly stable at the optimum iff ``eta`` is below it.

    >>> max_stable_learning_rate(s=1.0, n_weights=4)
    0.5
    """
    return 2.0 / hessian_top_eigenvalue(s=s, n_weights=n_weights)


# --------------------------------------------------------------------------- matrices
def _as_weights(weights: Sequence) -> list[np.ndarray]:
    ws = [np.asarray(w, dtype=float) for w in weights]
    if not ws:
        raise ArgumentValueError("weights must contain at least one matrix")
    for j in range(1, len(ws)):
        if ws[j].shape[-1] != ws[j - 1].shape[-2]:
            raise ArgumentValueError(f"weights[{j}] has {ws[j].shape[-1]} columns but weights[{j-1}] has {ws[j-1].shape[-2]} rows")
    return ws


def _chain(ws: list[np.ndarray], lo: int, hi: int, dim: int, like: np.ndarray) -> np.ndarray:
    """``W_hi ... W_{lo}`` (0-based inclusive indices); identity of size ``dim`` when empty."""
    out = None
    for j in range(lo, hi + 1):
        out = ws[j] if out is None else ws[j] @ out
    if out is None:
        eye = np.eye(dim)
        return np.broadcast_to(eye, like.shape[:-2] + (dim, dim)).copy()
    return out


def layer_gradients(weights: Sequence, grad_end_to_end) -> list[np.ndarray]:
    """``dl/dW_j = (W_n ... W_{j+1})^T G (W_{j-1} ... W_1)^T`` for ``l(W_n...W_1)``, ``G = dl/dW``.

    Works on stacks (leading axes broadcast). docs/formulas.md §2.

    >>> import numpy as np
    >>> W = [np.eye(2) * 2.0, np.eye(2) * 3.0]
    >>> [g.tolist() for g in layer_gradients(W, np.eye(2))]
    [[[3.0, 0.0], [0.0, 3.0]], [[2.0, 0.0], [0.0, 2.0]]]
    """
    ws = _as_weights(weights)
    G = np.asarray(grad_end_to_end, dtype=float)
    n = len(ws)
    out = []
    for j in range(n):
        above = _chain(ws, j + 1, n - 1, ws[j].shape[-2], ws[j])
        below = _chain(ws, 0, j - 1, ws[j].shape[-1], ws[j])
        out.append(np.swapaxes(above, -1, -2) @ G @ np.swapaxes(below, -1, -2))
    return out


def activation_gradients(weights: Sequence, grad_output) -> list[np.ndarray]:
    """``delta_j = W_{j+1}^T ... W_n^T g`` for ``j = 0..n`` (``delta_n = g``; ``delta_0`` is d/dinput).

    >>> import numpy as np
    >>> [d.tolist() for d in activation_gradients([np.eye(1) * 2.0, np.eye(1) * 3.0], [[1.0]])]
    [[[6.0]], [[3.0]], [[1.0]]]
    """
    ws = _as_weights(weights)
    g = np.asarray(grad_output, dtype=float)
    out = [g]
    for w in reversed(ws):
        out.append(np.swapaxes(w, -1, -2) @ out[-1])
    return out[::-1]


def conserved_quantities(weights: Sequence) -> list[np.ndarray]:
    """``C_j = W_{j+1}^T W_{j+1} - W_j W_j^T``, ``j = 1..n-1``: constant under gradient flow.

    (Arora, Cohen & Hazan 2018, Thm. 1 proof; Du, Hu & Lee 2018.) Zero for balanced weights.

    >>> import numpy as np
    >>> Q = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> [float(abs(c).max()) for c in conserved_quantities([Q * 2.0, Q * 2.0])]
    [0.0]
    """
    ws = _as_weights(weights)
    return [np.swapaxes(ws[j + 1], -1, -2) @ ws[j + 1] - ws[j] @ np.swapaxes(ws[j], -1, -2) for j in range(len(ws) - 1)]


def gd_conservation_drift(layer_grads: Sequence, eta: float) -> list[np.ndarray]:
    """Exact one-step change of ``C_j`` under ``W_j <- W_j - eta G_j``: ``eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T)``.

    (The first-order terms cancel by the gradient-flow identity ``W_{j+1}^T G_{j+1} = G_j W_j^T``.)
    """
    eta = check_real("eta", eta, lo=0.0)
    gs = [np.asarray(g, dtype=float) for g in layer_grads]
    return [eta**2 * (np.swapaxes(gs[j + 1], -1, -2) @ gs[j + 1] - gs[j] @ np.swapaxes(gs[j], -1, -2)) for j in range(len(gs) - 1)]


def psd_power(M: np.ndarray, p: float) -> np.ndarray:
    """``M^p`` for symmetric positive semidefinite ``M`` (eigendecomposition; eigenvalues clipped at 0).

    ``M`` ``(..., d, d)``; ``p >= 0`` (``M^0 = I``).

    >>> import numpy as np
    >>> psd_power(np.diag([4.0, 9.0]), 0.5).tolist()
    [[2.0, 0.0], [0.0, 3.0]]
    """
    lam, Q = np.linalg.eigh(M)
    lam = np.clip(lam, 0.0, None)
    with np.errstate(divide="ignore"):
        lp = np.where(lam > 0, lam**p, 0.0) if p > 0 else np.ones_like(lam)
    return (Q * lp[..., None, :]) @ np.swapaxes(Q, -1, -2)


def end_to_end_velocity(W, grad, *, n_weights: int) -> np.ndarray:
    """Arora, Cohen & Hazan (2018), Thm. 1: ``dW/dt = -sum_j (W W^T)^{(j-1)/n} grad (W^T W)^{(n-j)/n}``.

    Valid for balanced initialization (``W_{j+1}^T W_{j+1} = W_j W_j^T``). ``grad = dl/dW``.

    >>> import numpy as np
    >>> float(end_to_end_velocity(np.eye(1) * 4.0, np.eye(1), n_weights=2)[0, 0])   # W W^T = 16: -(16^0 * 16^(1/2) + 16^(1/2) * 16^0)
    -8.0
    """
    n = check_positive_int("n_weights", n_weights)
    W = np.asarray(W, dtype=float)
    G = np.asarray(grad, dtype=float)
    WWt = W @ np.swapaxes(W, -1, -2)
    WtW = np.swapaxes(W, -1, -2) @ W
    out = np.zeros_like(W)
    for j in range(1, n + 1):
        out = out - psd_power(WWt, (j - 1) / n) @ G @ psd_power(WtW, (n - j) / n)
    return out


def layerwise_end_to_end_velocity(weights: Sequence, grad) -> np.ndarray:
    """``d/dt (W_n ... W_1)`` under the layerwise flow ``dW_j/dt = -dl/dW_j``:

    ``-sum_j (W_n...W_{j+1}) (dl/dW_j) (W_{j-1}...W_1)``. Equals :func:`end_to_end_velocity`
    for balanced weights.
    """
    ws = _as_weights(weights)
    grads = layer_gradients(ws, grad)
    n = len(ws)
    out = 0.0
    for j in range(n):
        above = _chain(ws, j + 1, n - 1, ws[j].shape[-2], ws[j])
        below = _chain(ws, 0, j - 1, ws[j].shape[-1], ws[j])
        out = out - above @ grads[j] @ below
    return out


# --------------------------------------------------------------------------- gradients at init
def activation_gradient_mean_square(*, width: int, distance: int) -> float:
    """``E ||delta_l||^2 / ||g||^2 = 1`` for Gaussian variance-``1/N`` weights, any distance ``k = L - l``.

    Each layer multiplies ``E||v||^2`` by ``E chi^2_N / N = 1``.
    """
    check_positive_int("width", width)
    from degeneracy.validation import check_nonneg_int

    check_nonneg_int("distance", distance)
    return 1.0


def activation_gradient_log_mean(*, width: int, distance: int) -> float:
    """``E log(||delta_l|| / ||g||) = (k/2) [psi(N/2) + log(2/N)]``, ``k = L - l`` (chi-square increments).

    >>> round(activation_gradient_log_mean(width=64, distance=30), 6)
    -0.235596
    """
    N = check_positive_int("width", width)
    from degeneracy.validation import check_nonneg_int

    k = check_nonneg_int("distance", distance)
    return float(0.5 * k * (special.digamma(N / 2.0) + np.log(2.0 / N)))


def activation_gradient_log_variance(*, width: int, distance: int) -> float:
    """``Var log ||delta_l|| = k psi'(N/2) / 4``, ``k = L - l``: grows linearly with the distance to the output.

    ``log ||W^T v||^2 - log ||v||^2 = log(chi^2_N / N)`` independently per layer, and
    ``Var log chi^2_N = psi'(N/2)``.

    >>> round(activation_gradient_log_variance(width=2, distance=1), 6)   # psi'(1)/4 = pi^2/24
    0.411234
    """
    N = check_positive_int("width", width)
    from degeneracy.validation import check_nonneg_int

    k = check_nonneg_int("distance", distance)
    return float(0.25 * k * special.polygamma(1, N / 2.0))
