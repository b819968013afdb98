"""Singularities measured: Fisher null counts on singular sets, and degeneracy of deep plain /
residual / symmetric-skip networks during training (critical lines: :mod:`numerics.critical_lines`).

Two parts.

1. :func:`point_on_set` draws a numeric point on a :class:`theory.singularities.SingularSet`
   (the free parameters Gaussian, the constrained ones from the set's substitution) and
   :func:`fisher_null_count` counts the near-zero singular values of its empirical Fisher
   (:mod:`numerics.fisher`), to compare with the exact null dimension of the theory. The numeric
   activation follows the model's: ``tanh`` for ``"odd"``, :data:`GENERIC_ACTIVATION`
   (``tanh + (1 - cos)/2``, neither odd nor even) for ``"phi"``, the identity for ``"linear"``.
2. :func:`degeneracy_experiment`: deep fully connected ReLU networks (``numerics.networks.NetworkStack``
   with ``skip`` ``"none"`` / ``"identity"`` / ``"mean"``; the last is the skip that keeps the
   permutation symmetry, every unit receiving the same skip input) trained with
   :func:`numerics.training.train` on a teacher task, with :func:`degeneracy_measures` tracked
   during training: fraction of eliminated units (never active on the data), overlap (largest
   cosine similarity between units' response vectors, and between incoming weight vectors),
   linear dependence (smallest normalized singular values of the hidden-response matrix) and the
   near-zero fraction of the Gauss-Newton spectrum (:func:`numerics.measures.gauss_newton_spectrum`).

Examples
--------
>>> from degeneracy.theory.symbolic_networks import one_hidden_layer
>>> from degeneracy.theory.singularities import overlap, sign_flip_overlap
>>> fisher_null_count(overlap(one_hidden_layer(3, 3), 0, 1), rng=0)[0]
4
>>> fisher_null_count(sign_flip_overlap(one_hidden_layer(3, 3, activation="odd"), 0, 1), rng=0)[0]   # tanh
4
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
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
    "GENERIC_ACTIVATION",
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


def _generic_phi(z):
    return np.tanh(z) + 0.5 * (1.0 - np.cos(z))


def _generic_dphi(z):
    return 1.0 / np.cosh(z) ** 2 + 0.5 * np.sin(z)


#: ``phi(z) = tanh z + (1 - cos z) / 2`` and its derivative: a smooth activation with ``phi(0) = 0``,
#: ``phi'(0) = 1``, no parity and no algebraic tie between ``phi`` and ``phi'`` (``tanh + tanh^2/2``
#: has one, ``tanh' = 1 - tanh^2``, which makes a sign-flip overlap with biases singular), the numeric
#: stand-in for a generic ``phi``
GENERIC_ACTIVATION = (_generic_phi, _generic_dphi)


def fisher_null_count(s: SingularSet, rng=None, *, n_samples: int | None = None,
                      activation=None) -> tuple[int, float, float]:
    """``(count, cut, gap)`` of near-zero Fisher singular values at a random point of ``s``.

    Inputs are ``N(0, I)``; ``n_samples`` defaults to ``4 P``. ``activation`` (a name of
    :mod:`theory.activations` or a pair of callables) defaults to the model's class: ``"tanh"`` for
    ``"odd"``, :data:`GENERIC_ACTIVATION` for ``"phi"``; ``"linear"`` models always use the identity.
    Incoming-elimination sets need ``phi(0) = 0``. See :func:`numerics.fisher.near_zero_count` for
    the cut and the gap.
    """
    if not isinstance(s, SingularSet):
        raise ArgumentTypeError(f"s must be a SingularSet, got {type(s).__name__}")
    g = as_generator(rng)
    P = s.model.size
    B = 4 * P if n_samples is None else check_positive_int("n_samples", n_samples)
    params = point_on_set(s, g)
    X = g.standard_normal((B, s.model.n))
    if s.model.activation == "linear":
        act = "linear"
    elif activation is None:
        act = "tanh" if s.model.activation == "odd" else GENERIC_ACTIVATION
    else:
        act = activation
    sv = _fisher.fisher_singular_values(params, X, skip=s.model.skip, activation=act)
    return _fisher.near_zero_count(sv)


# --------------------------------------------------------------------------------------------
# 2. deep plain / residual / symmetric-skip networks

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
