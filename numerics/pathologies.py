"""Monte Carlo for the pathologies of deep random networks (Duvenaud et al., AISTATS 2014).

* :func:`log_abs_derivative` -- ``log|f'_{1:L}(x)|`` of 1-D deep GPs. Exact sampler: the layer
  derivatives of a deep GP at the composed point are independent ``N(0, sigma^2/ell^2)``
  (their Sec. 3), so a replica is a sum of ``L`` independent ``log|g|``.
* :func:`jacobian_spectra` -- normalized singular values ``s_i/s_1`` of the Jacobian of a
  ``D``-dimensional deep GP, standard (product of Gaussian matrices, their Thm 3.1) or
  input-connected (``J_L = A_L [J_{L-1}; I]``), batched over samples.
* :func:`random_mlp` -- wide random MLPs (``tanh``, ``relu``, ``hard_tanh``, ``erf``), with or
  without the input connected to every layer, with or without batch / layer / divisive
  normalization: per-layer participation ratio and effective rank
  (:func:`numerics.measures.participation_ratio`, :func:`numerics.measures.effective_rank`, re-exported
  here) of the hidden representations over a set of inputs, and the normalized spectrum of the input-output
  Jacobian (forward-mode, hand-written), batched over ``R`` independent networks.
* :func:`warp_points` -- a 2-D input pushed through random layers (the warping figures).

Floating point: the standard Jacobian product is renormalized every layer (its scale is
irrelevant to ``s_i/s_1``) and its SVD is exact to ``~eps * s_1``, so ratios ``s_i/s_1`` below
``~1e-13`` are at rounding level (only ``s_2/s_1`` is used in checks: at D = 5, L = 50 its
median is ``~5e-4``). Never multiply hundreds of layers and call ``svd`` to get the *small*
singular values: use the QR (Benettin) engine of ``numerics/qr_engine.py`` for exponents.
The input-connected recursion is affine (no renormalization); it overflows only when
``L * mu_1 > ~700``, which raises :class:`theory.errors.DegeneracyError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from degeneracy.errors import ArgumentValueError, NumericalFailure
from degeneracy.theory.activations import ACTIVATIONS
from degeneracy.theory.activations import activation as _activation
from degeneracy.theory.isometry import critical_point
from degeneracy.validation import (
    check_choice,
    check_int,
    check_positive_int,
    check_real,
)

from .measures import (  # re-exported: numerics.measures is their home
    effective_rank,
    participation_ratio,
)
from .rng import RNGLike, as_generator

__all__ = [
    "jacobian_log_singular_values",
    "NORMALIZATIONS",
    "log_abs_derivative",
    "jacobian_spectra",
    "participation_ratio",
    "effective_rank",
    "MLPStats",
    "random_mlp",
    "normalize",
    "mlp_forward",
    "warp_points",
]

NORMALIZATIONS = ("none", "batch", "layer", "divisive")


def log_abs_derivative(depths: Sequence[int], replicas: int, *, variance: float = 1.0,
                       rng: RNGLike = None) -> np.ndarray:
    """``log|f'_{1:L}(x)|`` for ``replicas`` independent 1-D deep GPs, at each depth in ``depths``.

    Returns shape ``(len(depths), replicas)``; row ``j`` is ``sum_{l <= depths[j]} log|g_l|`` with
    ``g_l ~ N(0, variance)`` i.i.d. (``variance = sigma_f^2 / ell^2``). Columns are independent
    replicas; rows of one column share their first layers (use one depth per check).

    >>> x = log_abs_derivative([1, 4], 3, rng=0); x.shape
    (2, 3)
    """
    depths = [check_positive_int("depths", d) for d in np.atleast_1d(depths)]
    replicas = check_positive_int("replicas", replicas)
    variance = check_real("variance", variance, lo=0.0, lo_open=True)
    g = as_generator(rng)
    L = max(depths)
    steps = np.log(np.abs(g.standard_normal((L, replicas)))) + 0.5 * math.log(variance)
    cum = np.cumsum(steps, axis=0)
    return cum[np.asarray(depths) - 1]


def jacobian_spectra(dim: int, depths: Sequence[int], samples: int, *, variance: float = 1.0,
                     connected: bool = False, rng: RNGLike = None, chunk: int = 20000) -> dict[int, np.ndarray]:
    """Normalized singular values ``s_i / s_1`` of deep-GP Jacobians at each depth in ``depths``.

    Standard: ``J_L = A_L ... A_1`` with i.i.d. ``N(0, variance)`` entries (Duvenaud et al. 2014,
    Thm 3.1). Input-connected: ``J_1 = A_1``, ``J_l = [A_l  B_l] [J_{l-1}; I_D] = A_l J_{l-1} + B_l``
    with ``[A_l B_l]`` a ``D x 2D`` Gaussian matrix (their Sec. 5 and ``deep_singular_value_dist.m``,
    which uses ``variance = 1``). Returns ``{depth: array (samples, D)}``, sorted descending,
    column 0 equal to 1. The same chain is recorded at every depth (rows of one sample are
    correlated across depths; samples are independent).

    >>> out = jacobian_spectra(5, [2, 6], 100, rng=0)
    >>> out[6].shape, bool(np.all(out[6][:, 0] == 1.0))
    ((100, 5), True)
    """
    dim = check_positive_int("dim", dim)
    depths = sorted({check_positive_int("depths", d) for d in np.atleast_1d(depths)})
    samples = check_positive_int("samples", samples)
    variance = check_real("variance", variance, lo=0.0, lo_open=True)
    chunk = check_positive_int("chunk", chunk)
    g = as_generator(rng)
    sd = math.sqrt(variance)
    out = {d: np.empty((samples, dim)) for d in depths}
    L = depths[-1]
    for start in range(0, samples, chunk):
        m = min(chunk, samples - start)
        J = sd * g.standard_normal((m, dim, dim))
        for l in range(1, L + 1):
            if l > 1:
                A = sd * g.standard_normal((m, dim, 2 * dim) if connected else (m, dim, dim))
                if connected:
                    with np.errstate(over="ignore", invalid="ignore"):  # detected below, raised
                        J = A[:, :, :dim] @ J + A[:, :, dim:]
                else:
                    J = A @ J
                    J /= np.sqrt(np.einsum("rij,rij->r", J, J))[:, None, None]
            if l in out:
                if not np.all(np.isfinite(J)):
                    raise NumericalFailure(f"Jacobian overflowed at depth {l} (connected={connected}, variance={variance})")
                s = np.linalg.svd(J, compute_uv=False)
                out[l][start:start + m] = s / s[:, :1]
    return out


def normalize(h: np.ndarray, kind: str, *, eps: float = 1e-5, semi_saturation: float = 1.0):
    """Normalize pre-activations ``h`` of shape ``(R, N, P)`` (units x inputs); return ``(y, jac)``.

    ``jac(v)`` applies the derivative of ``y[:, :, 0]`` w.r.t. ``h[:, :, 0]`` (the tracked input,
    column 0) to ``v`` of shape ``(R, N, K)``.

    * ``"batch"`` (Ioffe & Szegedy 2015): per unit over the ``P`` inputs,
      ``y = (h - mean_P) / sqrt(var_P + eps)``. The Jacobian holds the batch statistics fixed
      (inference-mode derivative at the tracked input): ``diag(1/sigma)``.
    * ``"layer"`` (Ba et al. 2016): per input over the ``N`` units,
      ``y = (h - mean_N) / sigma``, ``J = (I - 11^T/N - y y^T/N) / sigma``.
    * ``"divisive"`` (Carandini & Heeger 2012, sign-preserving form):
      ``y = h / d``, ``d = sqrt(c^2 + mean_N h^2)``, ``J = (I - h h^T / (N d^2)) / d``.
    * ``"none"``: identity.
    """
    check_choice("normalization", kind, NORMALIZATIONS)
    if kind == "none":
        return h, (lambda v: v)
    N = h.shape[1]
    if kind == "batch":
        mu = h.mean(axis=2, keepdims=True)
        sig = np.sqrt(h.var(axis=2, keepdims=True) + eps)
        y = (h - mu) / sig
        inv = 1.0 / sig[:, :, 0]
        return y, (lambda v: inv[:, :, None] * v)
    if kind == "layer":
        mu = h.mean(axis=1, keepdims=True)
        sig = np.sqrt(h.var(axis=1, keepdims=True) + eps)
        y = (h - mu) / sig
        y0, s0 = y[:, :, 0], sig[:, 0, 0]

        def jac(v):
            mv = v.mean(axis=1, keepdims=True)
            yv = np.einsum("rn,rnk->rk", y0, v)[:, None, :] / N
            return (v - mv - y0[:, :, None] * yv) / s0[:, None, None]

        return y, jac
    d = np.sqrt(semi_saturation**2 + (h**2).mean(axis=1, keepdims=True))
    y = h / d
    h0, d0 = h[:, :, 0], d[:, 0, 0]

    def jac(v):
        hv = np.einsum("rn,rnk->rk", h0, v)[:, None, :]
        return (v - h0[:, :, None] * hv / (N * d0[:, None, None] ** 2)) / d0[:, None, None]

    return y, jac


@dataclass
class MLPStats:
    """Per-layer statistics of ``R`` random MLPs (arrays of shape ``(R, len(layers))``).

    ``hidden_pr`` / ``hidden_erank``: participation ratio / effective rank of the centred hidden
    representation ``x_l`` over the ``P`` inputs (eigenvalues of the ``P x P`` centred Gram
    matrix). ``jac_pr``: participation ratio of the squared singular values of the input-output
    Jacobian ``d x_l / d x_0`` at input 0. ``jac_ratio``: ``s_2 / s_1`` of that Jacobian.
    ``jac_spectra``: ``{layer: (R, min(N, N0)) normalized singular values}`` when requested.
    """

    layers: list
    hidden_pr: np.ndarray
    hidden_erank: np.ndarray
    jac_pr: np.ndarray
    jac_ratio: np.ndarray
    jac_spectra: dict = field(default_factory=dict)


def random_mlp(activation: str, *, width: int = 100, depth: int = 20, inputs: np.ndarray | int = 64,
               input_dim: int | None = None, replicas: int = 8, sigma_w: float | None = None,
               sigma_b: float | None = None, q_star: float = 1.0, connected: bool = False,
               normalization: str = "none", layers: Sequence[int] | None = None, jacobian: bool = True,
               spectra_at: Sequence[int] = (), rng: RNGLike = None) -> MLPStats:
    """Propagate a set of inputs through ``replicas`` independent random MLPs; per-layer statistics.

    Layer ``l``: ``h_l = W_l z_{l-1} + b_l``, ``x_l = phi(norm(h_l))`` with ``z_{l-1} = x_{l-1}``
    (standard) or ``z_{l-1} = [x_{l-1}; x_0]`` (input connected, as Duvenaud et al. Sec. 5 and
    Neal 1995), ``W_l`` entries ``N(0, sigma_w^2 / fan_in)``, ``b_l ~ N(0, sigma_b^2)``.
    By default ``(sigma_w, sigma_b)`` is the critical point ``chi = 1`` at pre-activation
    variance ``q_star`` (:func:`degeneracy.theory.isometry.critical_point`, square roots: matched criticality).
    ``inputs``: an array ``(input_dim, P)`` or the number ``P`` of i.i.d. ``N(0, q_star)`` inputs.

    The Jacobian ``d x_l / d x_0`` at input 0 is accumulated forward (``(R, N, N0)`` per layer).

    >>> s = random_mlp("tanh", width=16, depth=3, inputs=8, replicas=2, rng=0)
    >>> s.hidden_pr.shape, s.jac_ratio.shape
    ((2, 3), (2, 3))
    """
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("normalization", normalization, NORMALIZATIONS)
    width = check_int("width", width, minimum=2)
    depth = check_positive_int("depth", depth)
    replicas = check_int("replicas", replicas, minimum=2)
    q_star = check_real("q_star", q_star, lo=0.0, lo_open=True)
    g = as_generator(rng)
    if sigma_w is None or sigma_b is None:
        sw2, sb2 = critical_point(activation, q_star)
        sw, sb = math.sqrt(sw2), math.sqrt(sb2)
        sigma_w = sw if sigma_w is None else sigma_w
        sigma_b = sb if sigma_b is None else sigma_b
    sigma_w = check_real("sigma_w", sigma_w, lo=0.0, lo_open=True)
    sigma_b = check_real("sigma_b", sigma_b, lo=0.0)
    if isinstance(inputs, (int, np.integer)):
        P = check_int("inputs", inputs, minimum=2)
        n0 = width if input_dim is None else check_positive_int("input_dim", input_dim)
        x0 = math.sqrt(q_star) * g.standard_normal((n0, P))
    else:
        x0 = np.asarray(inputs, dtype=float)
        if x0.ndim != 2 or x0.shape[1] < 2 or not np.all(np.isfinite(x0)):
            raise ArgumentValueError(f"inputs must be a finite (input_dim, P >= 2) array, got shape {x0.shape}")
        n0, P = x0.shape
    layers = list(range(1, depth + 1)) if layers is None else sorted({check_int("layers", l, minimum=1, maximum=depth) for l in layers})
    spectra_at = set(spectra_at)

    col = {l: i for i, l in enumerate(layers)}
    hpr = np.empty((replicas, len(layers)))
    her = np.empty_like(hpr)
    jpr = np.full_like(hpr, np.nan)
    jrat = np.full_like(hpr, np.nan)
    spectra = {}

    def weights(l, fan_in):
        W = (sigma_w / math.sqrt(fan_in)) * g.standard_normal((replicas, width, fan_in))
        b = sigma_b * g.standard_normal((replicas, width, 1))
        return W, b

    for l, x, J in _propagate(np.broadcast_to(x0, (replicas, n0, P)), depth, weights, activation,
                              normalization, connected, jacobian):
        if l not in col:
            continue
        i = col[l]
        xc = x - x.mean(axis=2, keepdims=True)
        lam = np.clip(np.linalg.eigvalsh(np.swapaxes(xc, 1, 2) @ xc / P), 0.0, None)
        alive = lam.sum(axis=1) > 1e-300
        hpr[:, i], her[:, i] = 1.0, 1.0  # a representation collapsed to one point has dimension 1
        if alive.any():
            hpr[alive, i] = participation_ratio(lam[alive])
            her[alive, i] = effective_rank(np.sqrt(lam[alive]))
        if jacobian:
            if not np.all(np.isfinite(J)):
                raise NumericalFailure(f"Jacobian overflowed at layer {l}")
            s = np.linalg.svd(J, compute_uv=False)
            top = s[:, :1]
            if np.any(top <= 0):
                raise NumericalFailure(f"Jacobian vanished at layer {l} ({activation}, {normalization})")
            jpr[:, i] = participation_ratio(s**2)
            jrat[:, i] = s[:, 1] / s[:, 0]
            if l in spectra_at:
                spectra[l] = s / top
    return MLPStats(layers, hpr, her, jpr, jrat, spectra)


def _propagate(x0: np.ndarray, depth: int, weights, activation: str, normalization: str,
               connected: bool, jacobian: bool = True):
    """Yield ``(l, x_l, J_l)`` for ``l = 1..depth``; ``weights(l, fan_in) -> (W, b)``.

    ``x0``: ``(R, N0, P)``. ``J_l = d x_l[:, :, 0] / d x0[:, :, 0]`` of shape ``(R, N, N0)``
    (forward mode: ``J_l = diag(phi'(y)) norm'(h) W_l dz/dx0``), or ``None``.
    """
    phi, dphi = _activation(activation)
    R, n0, _ = x0.shape
    eye = np.broadcast_to(np.eye(n0), (R, n0, n0))
    x, J = x0, (eye if jacobian else None)
    for l in range(1, depth + 1):
        if connected and l > 1:
            z = np.concatenate([x, x0], axis=1)
            Jz = np.concatenate([J, eye], axis=1) if jacobian else None
        else:
            z, Jz = x, J
        W, b = weights(l, z.shape[1])
        h = W @ z + b
        y, njac = normalize(h, normalization)
        x = phi(y)
        if jacobian:
            J = dphi(y[:, :, 0])[:, :, None] * njac(W @ Jz)
        yield l, x, J


def mlp_forward(x0: np.ndarray, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activation: str, *,
                normalization: str = "none", connected: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Explicit-weight version of :func:`random_mlp`'s forward pass: ``[(x_l, J_l), ...]``.

    ``x0``: ``(R, N0, P)``; ``weights[l-1]``: ``(R, N, fan_in)`` with ``fan_in = N0`` for the
    first layer and ``N (+ N0 when connected)`` after; ``biases[l-1]``: ``(R, N, 1)``. ``J_l`` is
    the Jacobian of column 0 of ``x_l`` w.r.t. column 0 of ``x0`` (batch statistics of
    ``"batch"`` normalization held fixed). Used by the finite-difference tests.
    """
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("normalization", normalization, NORMALIZATIONS)
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 3:
        raise ArgumentValueError(f"x0 must have shape (R, N0, P), got {x0.shape}")
    if len(weights) != len(biases) or not weights:
        raise ArgumentValueError("weights and biases must be non-empty sequences of equal length")

    def get(l, fan_in):
        W = np.asarray(weights[l - 1], dtype=float)
        if W.shape[-1] != fan_in:
            raise ArgumentValueError(f"weights[{l - 1}] must have fan-in {fan_in}, got shape {W.shape}")
        return W, np.asarray(biases[l - 1], dtype=float)

    return [(x, J) for _, x, J in _propagate(x0, len(weights), get, activation, normalization, connected)]


def warp_points(points: np.ndarray, depth: int, *, hidden: int = 100, connected: bool = False,
                activation: str = "tanh", weight_scale: float = 1.0, record: Sequence[int] | None = None,
                rng: RNGLike = None) -> dict[int, np.ndarray]:
    """Push 2-D points through ``depth`` random layers ``y -> V phi(W [y; x] + b)`` (one network).

    Each layer is a random MLP with ``hidden`` units mapping ``R^2`` (or ``R^4`` with the input
    connected) to ``R^2``: ``W ~ N(0, weight_scale^2 * s^2 / fan_in)``, ``b ~ N(0, 1)``,
    ``V ~ N(0, 1/hidden)`` -- a finite-width stand-in for a layer of a 2-D deep GP (Duvenaud et al.
    Sec. 2: a GP is the infinite-width limit of such a layer). ``s`` scales the input so typical
    pre-activations are O(1). ``points`` has shape ``(2, P)``; returns ``{layer: (2, P)}`` for the
    layers in ``record`` (default ``range(depth + 1)``; layer 0 is the input). Batched over points.

    >>> out = warp_points(np.zeros((2, 3)), 2, rng=0); sorted(out)
    [0, 1, 2]
    """
    depth = check_int("depth", depth, minimum=0)
    hidden = check_positive_int("hidden", hidden)
    weight_scale = check_real("weight_scale", weight_scale, lo=0.0, lo_open=True)
    check_choice("activation", activation, ACTIVATIONS)
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[0] != 2 or not np.all(np.isfinite(pts)):
        raise ArgumentValueError(f"points must be a finite array of shape (2, P), got {pts.shape}")
    record = set(range(depth + 1)) if record is None else set(record)
    g = as_generator(rng)
    phi, _ = _activation(activation)
    out = {0: pts.copy()} if 0 in record else {}
    y = pts
    for l in range(1, depth + 1):
        z = np.concatenate([y, pts], axis=0) if connected else y
        fan_in = z.shape[0]
        W = weight_scale * 2.0 / math.sqrt(fan_in) * g.standard_normal((hidden, fan_in))
        b = g.standard_normal((hidden, 1))
        V = g.standard_normal((2, hidden)) / math.sqrt(hidden)
        y = V @ phi(W @ z + b)
        if l in record:
            out[l] = y
    return out


def jacobian_log_singular_values(dim: int, depths, samples: int, *, variance: float, connected: bool, rng,
                                 chunk: int = 20000) -> dict:
    """``{L: log s_i}`` (samples, dim), descending, of the deep-GP Jacobians of
    :func:`degeneracy.numerics.pathologies.jacobian_spectra` (same draws, same order), to high
    relative accuracy at any depth.

    ``jacobian_spectra`` takes one float64 SVD of the explicit Jacobian, exact only to
    ``~eps * s_1``: at 50 layers the true ``s_5/s_1`` is ~1e-29 (standard) or ~1e-15 (connected,
    unit variance), far below it (checked against mpmath: errors of 10% to 700% below 1e-15).
    Here the Jacobian is carried as ``J = Q diag(d) T`` (Q orthonormal, d sorted descending, T of
    unit rows; Stewart 1995). A layer ``J' = A J + B`` (``B = 0`` when not connected) takes the QR
    ``A Q = Q' R`` and ``M = R diag(d) T + Q'^T B``, built row by row scaled by ``1/d_i`` so each
    row is exact to ``eps`` of its own size; its row norms are the new ``d``. The singular values
    of ``diag(d) T`` come from :func:`degeneracy.numerics.products.graded_log_singular_values`.
    The test suite checks it against 60-digit mpmath products (agreement ~1e-13 in ``log s``) and
    against ``jacobian_spectra`` where that is exact.

    Parameters
    ----------
    dim : int
        ``D``, the width of every layer (inputs and outputs).
    depths : iterable of int
        The depths ``L`` to report.
    samples : int
        Independent Jacobians per depth.
    variance : float
        The weight variance of each layer's Gaussian Jacobian factor.
    connected : bool
        Whether the input is connected to every layer (``J' = A J + B``).
    rng : Generator, seed or SeedSequence

    Returns
    -------
    dict
        ``{L: (samples, dim)}`` log singular values, descending.

    Raises
    ------
    NumericalFailure
        A row of the graded factor vanished or overflowed.

    >>> out = jacobian_log_singular_values(3, [2], 4, variance=1.0, connected=False, rng=0)
    >>> out[2].shape
    (4, 3)
    """
    from degeneracy.numerics.products import graded_log_singular_values

    g = as_generator(rng)
    sd = np.sqrt(variance)
    depths = sorted(set(int(L) for L in depths))
    out = {L: np.empty((samples, dim)) for L in depths}
    iu = np.triu(np.ones((dim, dim), dtype=bool))
    for start in range(0, samples, chunk):
        m = min(chunk, samples - start)
        M = sd * g.standard_normal((m, dim, dim))
        Q = np.broadcast_to(np.eye(dim), (m, dim, dim)).copy()
        logd = np.zeros((m, dim))
        T = None
        for layer in range(1, depths[-1] + 1):
            if layer > 1:
                A = sd * g.standard_normal((m, dim, 2 * dim) if connected else (m, dim, dim))
                Qn, R = np.linalg.qr(A[:, :, :dim] @ Q)
                # row i scaled by 1/d_i: R_ij d_j / d_i (j >= i, so <= |R_ij|) and B's row / d_i
                ratio = np.exp(np.minimum(logd[:, None, :] - logd[:, :, None], 0.0)) * iu
                M = (R * ratio) @ T
                if connected:
                    with np.errstate(over="ignore"):
                        M = M + np.exp(-logd)[:, :, None] * (np.swapaxes(Qn, -1, -2) @ A[:, :, dim:])
                Q = Qn
            r = np.linalg.norm(M, axis=-1)
            if not np.all(np.isfinite(r) & (r > 0)):
                raise NumericalFailure(f"graded Jacobian lost a row at depth {layer}")
            T = M / r[:, :, None]
            logd = logd + np.log(r)
            order = np.argsort(-logd, axis=-1)
            logd = np.take_along_axis(logd, order, -1)
            T = np.take_along_axis(T, order[:, :, None], -2)
            Q = np.take_along_axis(Q, order[:, None, :], -1)
            if layer in out:
                out[layer][start:start + m] = graded_log_singular_values(logd, T)
    return out
