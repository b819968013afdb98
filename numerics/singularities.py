"""Singularities measured: Fisher null counts on singular sets, critical-line plateaus, and degeneracy
of deep plain / residual / symmetric-skip networks during training.

Three parts.

1. :func:`point_on_set` draws a numeric point on a :class:`theory.singularities.SingularSet`
   (the free parameters Gaussian, the constrained ones from the set's substitution) and
   :func:`fisher_null_count` counts the near-zero singular values of its empirical Fisher
   (:mod:`numerics.fisher`), to compare with the exact null dimension of the theory.
2. Fukumizu & Amari (2000) critical lines, for ``f(x) = sum_i v_i tanh(w_i . x)`` with squared loss on
   a teacher task: :func:`reduced_critical_point` (the best ``(H-1)``-unit fit, certified by its
   gradient norm and Hessian), :func:`critical_line_A` (``A = v* mean[r phi''(w*.x) x x^T]``,
   ``r = f* - y``), :func:`line_hessian_fd` (finite-difference Hessian in ``zeta = w_a - w_b``) and
   :func:`plateau_lengths` (gradient descent started ``eps`` off the line, vectorized over runs and
   ``eps``; its linearized escape rate is ``1 - 2 eta lambda (1 - lambda) mu`` per step, because
   gradient descent on ``(w_a, w_b)`` moves ``zeta`` with twice the coordinate step).
3. :func:`degeneracy_experiment`: deep fully connected ReLU networks (``numerics.networks.NetworkStack``
   with ``skip`` ``"none"`` / ``"identity"`` / ``"mean"``; the last is the skip that keeps the
   permutation symmetry, every unit receiving the same skip input) trained with
   :func:`numerics.training.train` on a teacher task, with :func:`degeneracy_measures` tracked
   during training: fraction of eliminated units (never active on the data), overlap (largest
   cosine similarity between units' response vectors, and between incoming weight vectors),
   linear dependence (smallest normalized singular values of the hidden-response matrix) and the
   near-zero fraction of the Gauss-Newton spectrum (:func:`numerics.measures.gauss_newton_spectrum`).

Examples
--------
>>> from degeneracy.theory.singularities import one_hidden_layer, overlap
>>> s = overlap(one_hidden_layer(3, 3), 0, 1)
>>> fisher_null_count(s, rng=0)[0]
4
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from scipy import optimize

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, CertificationError
from degeneracy.theory.singularities import SingularSet
from degeneracy.validation import (
    check_choice,
    check_finite_array,
    check_int,
    check_positive_int,
    check_real,
)

from . import fisher as _fisher
from .measures import gauss_newton_spectrum, near_null_fraction
from .networks import NetworkStack, init_weights
from .rng import as_generator, spawn_generators
from .training import FullBatchTask, train

__all__ = [
    "point_on_set",
    "fisher_null_count",
    "two_unit_teacher",
    "reduced_critical_point",
    "critical_line_A",
    "embed",
    "loss_and_grad",
    "line_hessian_fd",
    "escape_direction",
    "plateau_lengths",
    "SKIP_VARIANTS",
    "teacher_task",
    "degeneracy_measures",
    "DegeneracyRun",
    "degeneracy_experiment",
]


# --------------------------------------------------------------------------------------------
# 1. numeric points on singular sets


def point_on_set(s: SingularSet, rng=None, *, scale: float = 1.0) -> dict:
    """Numeric parameters (dict of arrays, :mod:`numerics.fisher` layout) at a random point of ``s``.

    Free parameters (and symbolic linear-dependence coefficients) are ``N(0, scale^2)``; constrained
    parameters follow the set's substitution.
    """
    if not isinstance(s, SingularSet):
        raise ArgumentTypeError(f"s must be a SingularSet, got {type(s).__name__}")
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    g = as_generator(rng)
    m = s.model
    free = set()
    for v in s.subs.values():
        free |= sp.sympify(v).free_symbols
    free |= {x for x in m.symbols if x not in s.subs}
    free = sorted(free, key=lambda x: x.name)
    vals = dict(zip(free, scale * g.standard_normal(len(free))))
    flat = []
    for x in m.symbols:
        if x in s.subs:
            flat.append(float(sp.sympify(s.subs[x]).xreplace(vals)))
        else:
            flat.append(float(vals[x]))
    like = _like(m)
    return _fisher.unflatten(np.array(flat), like)


def _like(m) -> dict:
    dims = m.dims
    like = {}
    for l in range(1, len(dims)):
        like[f"W{l}"] = np.zeros((dims[l], dims[l - 1]))
        if m.bias:
            like[f"b{l}"] = np.zeros(dims[l])
    like["V"] = np.zeros((m.m, dims[-1]))
    if m.bias:
        like["c"] = np.zeros(m.m)
    return like


def fisher_null_count(
    s: SingularSet, rng=None, *, n_samples: int | None = None, activation: str = "tanh"
) -> tuple[int, float, float]:
    """``(count, cut, gap)`` of near-zero Fisher singular values at a random point of ``s``.

    Inputs are ``N(0, I)``; ``n_samples`` defaults to ``4 P``. ``activation`` must satisfy
    ``phi(0) = 0`` for incoming-elimination sets (tanh, erf, hard_tanh); ``"linear"`` models use
    the identity. See :func:`numerics.fisher.near_zero_count` for the cut and the gap.
    """
    if not isinstance(s, SingularSet):
        raise ArgumentTypeError(f"s must be a SingularSet, got {type(s).__name__}")
    g = as_generator(rng)
    P = s.model.size
    B = 4 * P if n_samples is None else check_positive_int("n_samples", n_samples)
    params = point_on_set(s, g)
    X = g.standard_normal((B, s.model.n))
    act = "linear" if s.model.activation == "linear" else activation
    sv = _fisher.fisher_singular_values(params, X, skip=s.model.skip, activation=act)
    return _fisher.near_zero_count(sv)


# --------------------------------------------------------------------------------------------
# 2. Fukumizu-Amari critical lines for f(x) = sum_i v_i tanh(w_i . x), squared loss


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


def reduced_critical_point(X, y, rng=None, *, starts: int = 8) -> tuple[float, np.ndarray, float]:
    """The best 1-unit fit ``(v*, w*, L*)``, refined to a certified strict local minimum.

    Levenberg-Marquardt from ``starts`` random starts, then Newton steps; the winner must have gradient norm below
    ``1e-7`` and a positive definite Hessian (central differences of the analytic gradient), else
    :class:`CertificationError`.
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
    for _ in range(starts):
        p0 = np.concatenate([[g.standard_normal()], g.standard_normal(n)])
        sol = optimize.least_squares(res, p0, jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                                     max_nfev=5000)
        if best is None or sol.cost < best.cost:
            best = sol
    p = best.x
    for _ in range(8):  # Newton polish (analytic gradient, central-difference Hessian)
        _, gv, gW = loss_and_grad(np.array([p[0]]), p[None, 1:], X, y)
        grad = np.concatenate([gv, gW.ravel()])
        if np.linalg.norm(grad) < 1e-13:
            break
        p = p - np.linalg.solve(_reduced_hessian(float(p[0]), p[1:], X, y), grad)
    v, w = float(p[0]), p[1:].copy()
    L, gv, gW = loss_and_grad(np.array([v]), w[None, :], X, y)
    gnorm = float(np.sqrt(gv @ gv + np.sum(gW * gW)))
    if gnorm > 1e-7:
        raise CertificationError(f"1-unit fit not converged: gradient norm {gnorm:.3g}")
    H = _reduced_hessian(v, w, X, y)
    if np.min(np.linalg.eigvalsh(H)) <= 0:
        raise CertificationError("1-unit critical point is not a strict local minimum")
    return v, w, float(L)


def _reduced_hessian(v, w, X, y, h=1e-5):
    p = np.concatenate([[v], w])
    P = p.size

    def grad(q):
        _, gv, gW = loss_and_grad(np.array([q[0]]), q[None, 1:], X, y)
        return np.concatenate([gv, gW.ravel()])

    H = np.empty((P, P))
    for k in range(P):
        e = np.zeros(P)
        e[k] = h
        H[:, k] = (grad(p + e) - grad(p - e)) / (2 * h)
    return 0.5 * (H + H.T)


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


def escape_direction(A, lam: float) -> tuple[float, np.ndarray]:
    """``(mu, xi)``: the most negative eigenvalue of ``lam (1 - lam) A`` and its unit eigenvector."""
    A = check_finite_array("A", A, ndim=2)
    ev, U = np.linalg.eigh(lam * (1 - lam) * 0.5 * (A + A.T))
    return float(ev[0]), U[:, 0]


def plateau_lengths(v: float, w, lam: float, X, y, eps, *, lr: float, steps: int, drop: float = 0.1,
                    xi=None) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent on the 2-unit net from ``embed(v, w, lam, eps_k xi)`` for each ``eps_k``.

    Returns ``(T, curves)``: ``T[k]`` the first step at which the loss is below ``(1 - drop) L*``
    (``L*`` the loss on the line; ``steps + 1`` if never), and the loss curves ``(len(eps), steps + 1)``.
    All ``eps`` run as one stacked computation.
    """
    eps = check_finite_array("eps", eps, ndim=1)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    steps = check_positive_int("steps", steps)
    drop = check_real("drop", drop, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    w = np.asarray(w, dtype=float)
    if xi is None:
        _, xi = escape_direction(critical_line_A(v, w, X, y), lam)
    vv, W = embed(v, w, lam, eps[:, None] * np.asarray(xi)[None, :])
    Lstar = float(loss_and_grad(*embed(v, w, lam), X, y)[0])
    curves = np.empty((eps.size, steps + 1))
    for t in range(steps + 1):
        L, gv, gW = loss_and_grad(vv, W, X, y)
        if not np.all(np.isfinite(L)):
            raise CertificationError("gradient descent diverged (reduce lr)")
        curves[:, t] = L
        if t < steps:
            vv = vv - lr * gv
            W = W - lr * gW
    below = curves < (1 - drop) * Lstar
    T = np.where(below.any(axis=1), below.argmax(axis=1), steps + 1)
    return T, curves


# --------------------------------------------------------------------------------------------
# 3. deep plain / residual / symmetric-skip networks

SKIP_VARIANTS = {"plain": "none", "residual": "identity", "symmetric-skip": "mean"}


def teacher_task(n: int, n_samples: int, *, depth: int = 2, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic teacher task: ``X ~ N(0, I)`` of shape ``(n, N)``, ``Y`` from a random ReLU teacher
    of ``depth`` layers (He-scaled Gaussian weights, width ``n``), scalar output scaled to unit variance."""
    n = check_positive_int("n", n)
    N = check_positive_int("n_samples", n_samples)
    depth = check_positive_int("depth", depth)
    g = as_generator(rng)
    X = g.standard_normal((n, N))
    h = X
    for _ in range(depth):
        h = np.maximum(g.standard_normal((n, n)) * np.sqrt(2.0 / n) @ h, 0.0)
    y = g.standard_normal((1, n)) @ h
    y = (y - y.mean()) / y.std()
    return X, y


def degeneracy_measures(net: NetworkStack, X: np.ndarray, *, gn_samples: int = 64, gn_rtol: float = 1e-6) -> dict:
    """Degeneracy of each replica's hidden layers on inputs ``X``, averaged over hidden layers.

    ``X`` has shape ``(d_0, B)`` (shared) or ``(R, d_0, B)`` (one input set per replica). Returns
    arrays of shape ``(R,)``:

    ``eliminated``  fraction of hidden units never active (pre-activation ``<= 0``) on any input
                    (ReLU elimination; for other activations: identically zero pre-activation);
    ``overlap``     largest ``|cos|`` between two units' centred response vectors over the inputs
                    (1 = two units carry the same signal up to scale and offset);
    ``weight_overlap`` largest ``|cos|`` between two units' incoming weight vectors;
    ``dependence``  ``s_min / s_max`` of the centred response matrix (units x inputs): 0 = linearly
                    dependent units (dead units make it 0);
    ``gn_null``     fraction of the nonzero-part Gauss-Newton spectrum (``d_L B_gn`` eigenvalues on
                    the first ``gn_samples`` inputs, :func:`numerics.measures.gauss_newton_spectrum`)
                    below ``gn_rtol * lambda_max`` (:func:`numerics.measures.near_null_fraction`):
                    near-degenerate directions of the Fisher (a measure, not a rounding-level count).

    >>> from degeneracy.numerics.networks import init_network
    >>> net = init_network([4, 4, 4, 1], 2, rng=0, activation="relu")
    >>> m = degeneracy_measures(net, np.random.default_rng(0).standard_normal((4, 32)))
    >>> sorted(m), m["overlap"].shape
    (['dependence', 'eliminated', 'gn_null', 'overlap', 'weight_overlap'], (2,))
    """
    if not isinstance(net, NetworkStack):
        raise ArgumentTypeError(f"net must be a NetworkStack, got {type(net).__name__}")
    X = check_finite_array("X", X)
    if X.ndim not in (2, 3):
        raise ArgumentValueError(f"X must have shape (d_0, B) or (R, d_0, B), got {X.shape}")
    cache = net.forward(X)
    L = net.depth
    hidden = range(L - 1) if net.linear_readout else range(L)
    elim, ov, wov, dep = [], [], [], []
    for l in hidden:
        pre = cache.pre[l]  # (R, d, B)
        if net.activation == "relu":
            alive = np.any(pre > 0, axis=-1)
        else:
            alive = np.any(pre != 0, axis=-1)
        elim.append(1.0 - alive.mean(axis=-1))
        resp = net._phi(pre)
        resp = resp - resp.mean(axis=-1, keepdims=True)
        ov.append(_max_offdiag_cos(resp))
        wov.append(_max_offdiag_cos(net.weights[l]))
        sv = np.linalg.svd(resp, compute_uv=False)
        top = sv[:, 0]
        dep.append(np.where(top > 0, sv[:, -1] / np.where(top > 0, top, 1.0), 0.0))
    gn = []
    for r in range(net.replicas):
        Xr = X if X.ndim == 2 else X[r]
        lam = gauss_newton_spectrum(net.replica(r), Xr[:, : min(gn_samples, Xr.shape[1])])[0]
        gn.append(float(near_null_fraction(np.clip(lam, 0.0, None), rtol=gn_rtol)))
    return {
        "eliminated": np.mean(elim, axis=0),
        "overlap": np.mean(ov, axis=0),
        "weight_overlap": np.mean(wov, axis=0),
        "dependence": np.mean(dep, axis=0),
        "gn_null": np.array(gn),
    }


def _max_offdiag_cos(M):
    nrm = np.linalg.norm(M, axis=-1, keepdims=True)
    u = np.where(nrm > 0, M / np.where(nrm > 0, nrm, 1.0), 0.0)
    C = np.abs(u @ np.swapaxes(u, -1, -2))
    d = C.shape[-1]
    C[..., np.arange(d), np.arange(d)] = 0.0
    return C.max(axis=(-2, -1))


@dataclass
class DegeneracyRun:
    """Loss and degeneracy measures over training, per skip variant: arrays ``(R, len(steps))``."""

    steps: np.ndarray
    loss: dict
    measures: dict
    settings: dict = field(default_factory=dict)


def degeneracy_experiment(
    *,
    depth: int = 20,
    width: int = 16,
    runs: int = 8,
    n_samples: int = 256,
    steps: int = 400,
    checkpoints: int = 5,
    lr: float = 1e-3,
    branch_gain: float | None = None,
    variants=("plain", "residual", "symmetric-skip"),
    rng=None,
) -> DegeneracyRun:
    """Train ``runs`` independent ReLU networks per skip variant, each run on its own teacher task.

    Architecture: ``depth`` hidden layers of ``width`` units (``x_{l+1} = relu(W x_l) [+ skip]``)
    and a linear readout. Run ``r`` of every variant shares the teacher, the data and the initial
    weights (He-scaled Gaussian, ``gain sqrt(2)``; the hidden weights of the skip variants are
    multiplied by ``branch_gain``, default ``1/sqrt(depth)``, so the forward variance through the
    identity path stays O(1): ``(1 + branch_gain^2)^depth <= e``), so the comparison between variants is paired. Full-batch Adam (Kingma & Ba,
    betas 0.9/0.999), all runs as one stacked computation per variant (:func:`numerics.training.train`
    on a :class:`numerics.training.FullBatchTask` with per-run data, resumed with its optimizer
    state between checkpoints). The readout of every network
    is rescaled at initialization so that its output has unit standard deviation on its training
    inputs (the residual stream of ReLU branches accumulates a positive mean; without this the
    comparison would be about the initial output scale). Measures are taken at
    ``checkpoints + 1`` equally spaced steps.
    """
    depth = check_int("depth", depth, minimum=2)
    width = check_positive_int("width", width)
    runs = check_int("runs", runs, minimum=2)
    steps = check_positive_int("steps", steps)
    checkpoints = check_positive_int("checkpoints", checkpoints)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    if branch_gain is None:
        branch_gain = 1.0 / np.sqrt(depth)
    branch_gain = check_real("branch_gain", branch_gain, lo=0.0, lo_open=True)
    if steps % checkpoints:
        raise ArgumentValueError(f"steps ({steps}) must be a multiple of checkpoints ({checkpoints})")
    variants = tuple(check_choice("variants", v, tuple(SKIP_VARIANTS)) for v in variants)
    gens = spawn_generators(rng, runs)
    tasks = [teacher_task(width, n_samples, rng=g) for g in gens]
    X = np.stack([t[0] for t in tasks])  # (R, n, N)
    Y = np.stack([t[1] for t in tasks])
    widths = [width] * (depth + 1) + [1]
    w0 = init_weights(widths, runs, init="gaussian", gain=np.sqrt(2.0), rng=gens)
    task = FullBatchTask(X, Y)  # run r trains on its own teacher data X[r], Y[r]
    chunk = steps // checkpoints
    out_steps = np.arange(checkpoints + 1) * chunk
    loss, measures = {}, {}
    for v in variants:
        g = 1.0 if v == "plain" else branch_gain
        ws = [w.copy() * (g if l < depth else 1.0) for l, w in enumerate(w0)]
        net = NetworkStack(ws, activation="relu", skip=SKIP_VARIANTS[v])
        out = net.forward(X).output  # (R, 1, N): rescale the readout to unit output std per run
        sd = out.std(axis=-1, keepdims=True)
        net.weights[-1] /= np.where(sd > 0, sd, 1.0)
        state = None
        Ls, Ms = [], []
        for c in range(checkpoints + 1):
            Ms.append(degeneracy_measures(net, X))
            if c < checkpoints:  # resumable full-batch Adam, in place: chunks = one uninterrupted run
                res = train(net, task, optimizer="adam", lr=lr, steps=chunk, record_at=(), copy=False, state=state)
                state = res.state
                Ls.append(res.loss[:, 0])  # the loss before this chunk
        Ls.append(res.loss[:, -1])
        loss[v] = np.stack(Ls, axis=1)
        measures[v] = {k: np.stack([m[k] for m in Ms], axis=1) for k in Ms[0]}
    settings = dict(depth=depth, width=width, runs=runs, n_samples=n_samples, steps=steps, lr=lr,
                    optimizer="adam (full batch)", activation="relu", branch_gain=branch_gain)
    return DegeneracyRun(out_steps, loss, measures, settings)
