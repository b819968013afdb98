"""Batched training of network stacks: gradient descent and Adam, population or sampled data.

One call to :func:`train` trains all ``R`` networks of a :class:`numerics.networks.NetworkStack`
as one batched computation. Replica ``r`` is bit-for-bit the run the same network would do alone
(a stack of size 1) with the same per-replica random stream: replicas never mix (the tests check
it).

Tasks
-----
:class:`PopulationTask`
    Whitened inputs and a linear target ``y = T x``. The loss is the population loss
    ``0.5 E_x ||f(x) - T x||^2``; for a linear network it equals ``0.5 ||W_L...W_1 - T||_F^2``
    exactly (Saxe et al. 2013). It is evaluated on the basis ``X = sqrt(d_0) I`` (``E x x^T = I``
    over the ``d_0`` columns), so every step is a full-batch step.
:class:`FullBatchTask`
    A finite data set ``(X, Y)``, shared by the replicas (``(d_0, N)``) or one per replica
    (``(R, d_0, N)``), every step a full-batch step on all ``N`` samples in their given order.
:class:`SampledTask`
    A finite data set ``(X, Y)`` (columns are samples), trained by minibatches drawn with
    replacement-free shuffling per epoch, independently per replica.

Resuming
--------
``TrainingResult.state`` (:class:`OptimizerState`: step count and, for Adam, the moment
estimates) can be passed back as ``train(..., state=...)``: training in chunks of ``k`` steps
with ``copy=False`` is then the same computation as one run (checked bit for bit in the tests),
so measurements can be taken between chunks.

Divergence
----------
A replica whose loss becomes inf or NaN is *diverged*: it is frozen (its parameters are set to
zero so it cannot overflow further), ``TrainingResult.diverged[r]`` is True and
``diverged_at[r]`` is the step. Its later losses are reported as ``inf`` and
:meth:`TrainingResult.final_loss` refuses to return a number for it unless asked.

Examples
--------
>>> import numpy as np
>>> from degeneracy.numerics.networks import init_network
>>> net = init_network([4, 4, 4], 3, init="orthogonal", rng=0)
>>> task = PopulationTask(np.eye(4) * 0.5)
>>> res = train(net, task, optimizer="gd", lr=0.1, steps=200, record_at=(0, 200))
>>> res.loss.shape, bool(np.all(res.loss[:, -1] < 0.5 * res.loss[:, 0])), res.diverged.tolist()
((3, 201), True, [False, False, False])
>>> sorted(res.records)
[0, 200]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from degeneracy.errors import (
    ArgumentTypeError,
    ArgumentValueError,
    NumericalFailure,
)
from degeneracy.validation import (
    check_choice,
    check_finite_array,
    check_nonneg_int,
    check_positive_int,
    check_real,
)

from .networks import NetworkStack, Workspace, mse_loss, softmax_cross_entropy
from .rng import as_generator, replica_generators

__all__ = [
    "OPTIMIZERS",
    "LOSSES",
    "PopulationTask",
    "FullBatchTask",
    "SampledTask",
    "OptimizerState",
    "GradientRecord",
    "TrainingResult",
    "train",
    "sample_linear_task",
    "step_flops",
    "auto_block",
    "BLOCK_BYTES",
]

OPTIMIZERS = ("gd", "adam")


@dataclass
class PopulationTask:
    """Whitened-input population loss for the linear target ``T`` (``(d_L, d_0)`` or ``(R, d_L, d_0)``)."""

    target: np.ndarray

    def __post_init__(self):
        self.target = check_finite_array("target", self.target)
        if self.target.ndim not in (2, 3):
            raise ArgumentValueError(f"target must have shape (d_out, d_in) or (R, d_out, d_in), got {self.target.shape}")

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        d0 = self.target.shape[-1]
        X = np.sqrt(d0) * np.eye(d0)
        return X, self.target @ X


@dataclass
class FullBatchTask:
    """A finite data set trained full-batch: ``X`` ``(d_0, N)`` or ``(R, d_0, N)``, ``Y`` ``(d_L, N)`` or ``(R, d_L, N)``.

    Every step uses all ``N`` samples in the given order. With 3-D arrays replica ``r`` trains on
    ``X[r], Y[r]`` (its own task); the leading size must then equal the stack's ``R``.

    >>> FullBatchTask(np.ones((2, 3, 5)), np.zeros((2, 1, 5))).batch()[0].shape
    (2, 3, 5)
    """

    X: np.ndarray
    Y: np.ndarray

    def __post_init__(self):
        self.X = check_finite_array("X", self.X)
        self.Y = check_finite_array("Y", self.Y)
        if self.X.ndim not in (2, 3) or self.Y.ndim != self.X.ndim:
            raise ArgumentValueError(f"X and Y must both have shape (d, N) or both (R, d, N), got {self.X.shape} and {self.Y.shape}")
        if self.X.shape[-1] != self.Y.shape[-1] or self.X.shape[:-2] != self.Y.shape[:-2]:
            raise ArgumentValueError(f"X and Y must have the same replicas and number of samples (last axis), "
                             f"got {self.X.shape} and {self.Y.shape}")

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X, self.Y


@dataclass
class SampledTask:
    """A finite data set trained by minibatches: ``X`` ``(d_0, N)`` and ``Y`` ``(d_L, N)`` shared by the
    replicas, or ``(R, d_0, N)`` and ``(R, d_L, N)``, one data set per replica (e.g. each run its own
    train/test split, :func:`numerics.data.prepare_runs`)."""

    X: np.ndarray
    Y: np.ndarray
    batch_size: int

    def __post_init__(self):
        self.X = check_finite_array("X", self.X)
        self.Y = check_finite_array("Y", self.Y)
        if self.X.ndim not in (2, 3) or self.Y.ndim != self.X.ndim:
            raise ArgumentValueError(f"X and Y must both have shape (d, N) or both (R, d, N), got {self.X.shape} and "
                                     f"{self.Y.shape}")
        if self.X.shape[-1] != self.Y.shape[-1] or self.X.shape[:-2] != self.Y.shape[:-2]:
            raise ArgumentValueError(f"X and Y must have the same replicas and number of samples (columns), "
                                     f"got {self.X.shape} and {self.Y.shape}")
        self.batch_size = check_positive_int("batch_size", self.batch_size)
        if self.batch_size > self.X.shape[-1]:
            raise ArgumentValueError(f"batch_size must be <= the number of samples {self.X.shape[-1]}, "
                                     f"got {self.batch_size}")

    @property
    def n_samples(self) -> int:
        return self.X.shape[-1]

    @property
    def steps_per_epoch(self) -> int:
        return self.n_samples // self.batch_size


def sample_linear_task(target: np.ndarray, n_samples: int, batch_size: int, *, noise: float = 0.0, rng=None) -> SampledTask:
    """``N`` standard Gaussian inputs ``x`` (``E x x^T = I``), targets ``y = T x + noise * z``.

    >>> t = sample_linear_task(np.eye(3), 10, 5, rng=0)
    >>> t.X.shape, t.Y.shape, t.steps_per_epoch
    ((3, 10), (3, 10), 2)
    """
    T = check_finite_array("target", target, ndim=2)
    N = check_positive_int("n_samples", n_samples)
    noise = check_real("noise", noise, lo=0.0)
    g = as_generator(rng)
    X = g.standard_normal((T.shape[1], N))
    Y = T @ X
    if noise > 0:
        Y = Y + noise * g.standard_normal(Y.shape)
    return SampledTask(X, Y, batch_size)


@dataclass
class GradientRecord:
    """Gradient norms at one step (before that step's update), on the full task data.

    ``delta``: ``||dloss/dx_l||`` for ``l = 0..L``, shape ``(R, L+1)`` (Frobenius over units and
    samples); ``weights``: ``||dloss/dW_l||_F``, shape ``(R, L)``; ``loss``: shape ``(R,)``.
    """

    step: int
    loss: np.ndarray
    delta: np.ndarray
    weights: np.ndarray


@dataclass
class OptimizerState:
    """Where an optimizer stopped: ``step`` updates done, Adam's first and second moments ``m``, ``v``
    (one array per parameter, as :meth:`NetworkStack.parameters`; ``None`` for gradient descent)."""

    optimizer: str
    step: int
    m: list | None = None
    v: list | None = None


@dataclass
class TrainingResult:
    """Loss curves, gradient records and divergence flags of a batched run.

    Attributes
    ----------
    loss : ndarray (R, steps + 1)
        Training loss before step ``t`` (column ``steps`` is the final loss); ``inf`` after divergence.
        For sampled tasks: the full-data loss at evaluation points, ``steps // eval_every + 1`` columns.
    loss_steps : ndarray
        The step index of each loss column.
    records : dict step -> :class:`GradientRecord`
    diverged : ndarray of bool (R,)
    diverged_at : ndarray of int (R,), -1 when the replica did not diverge
    network : NetworkStack
        The trained stack (diverged replicas zeroed).
    state : OptimizerState
        The optimizer's state after the last update, to resume with ``train(..., state=state)``.
    """

    loss: np.ndarray
    loss_steps: np.ndarray
    records: dict
    diverged: np.ndarray
    diverged_at: np.ndarray
    network: NetworkStack
    settings: dict = field(default_factory=dict)
    state: OptimizerState | None = None

    def final_loss(self, *, allow_diverged: bool = False) -> np.ndarray:
        """Final loss per replica; raises :class:`DegeneracyError` if a replica diverged (unless allowed,
        in which case its entry is ``inf``)."""
        if np.any(self.diverged) and not allow_diverged:
            bad = np.flatnonzero(self.diverged).tolist()
            raise NumericalFailure(f"replicas {bad} diverged (loss became inf/NaN); no final loss to report")
        return self.loss[:, -1].copy()


#: Losses of :func:`train`: the mean squared error and the softmax cross-entropy (one-hot targets).
LOSSES = {"mse": mse_loss, "cross_entropy": softmax_cross_entropy}


def _gather(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Columns ``idx[r]`` of ``arr`` (``(d, N)`` shared or ``(R, d, N)``) for every replica: ``(R, d, B)``."""
    if arr.ndim == 2:
        return np.moveaxis(arr[:, idx], 0, 1)
    return np.take_along_axis(arr, idx[:, None, :], axis=2)


def train(
    net: NetworkStack,
    task: PopulationTask | FullBatchTask | SampledTask,
    *,
    optimizer: str = "gd",
    lr: float,
    steps: int,
    loss: str = "mse",
    record_at: Sequence[int] = (0,),
    eval_every: int = 1,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    rng=None,
    copy: bool = True,
    callback=None,
    state: OptimizerState | None = None,
    block: int | None = None,
) -> TrainingResult:
    """Train every network of the stack for ``steps`` updates.

    Parameters
    ----------
    net : NetworkStack
        Trained in place unless ``copy=True`` (default).
    task : PopulationTask, FullBatchTask or SampledTask
    optimizer : {"gd", "adam"}
        ``"gd"``: ``theta <- theta - lr * grad`` (on a :class:`SampledTask`: minibatch SGD).
        ``"adam"``: Kingma & Ba (2015) with bias correction, ``betas`` and ``eps``.
    lr : float > 0
    steps : int >= 0
    loss : {"mse", "cross_entropy"}
        :func:`numerics.networks.mse_loss` (default) or
        :func:`numerics.networks.softmax_cross_entropy` (targets ``Y`` one-hot columns).
    record_at : steps at which to record gradient norms (on the full data, before the update);
        ``steps`` itself records the final state.
    eval_every : int
        For sampled tasks, evaluate the full-data loss every ``eval_every`` steps (a forward pass
        only, unless the step is also in ``record_at``).
    rng : seed / Generator / sequence of R of those
        Minibatch order; replica ``r`` uses its own stream (``rng[r]`` or the ``r``-th spawned
        generator), so a stack reproduces separate runs. Unused for full-batch tasks.
    callback : callable ``callback(step, net)``, optional
        Called before every update and after the last step (``step = 0..steps``) with the
        stack being trained (do not modify it), e.g. to record weight trajectories or to
        evaluate on held-out data.
    state : OptimizerState, optional
        Resume from ``TrainingResult.state`` of an earlier call (same optimizer, same stack, passed
        with ``copy=False`` or the earlier result's ``network``): the step count continues (Adam's
        bias correction) and the moments are copied, not modified. Steps, records and the
        ``callback`` step numbers of this call still count from 0. Sampled tasks restart their
        minibatch order (they are not resumable bit for bit).
    block : int, optional
        Replicas trained together. Without a callback the stack is trained block by block, each
        block for all ``steps`` (replicas never mix, so every number is the same for any block
        size; the tests check it): default :func:`auto_block`, a block that fits in cache. With a
        callback (which sees the whole stack at every step) the default is the whole stack.

    Notes
    -----
    Speed (docs/performance.md; ``degeneracy bench`` measures it): the passes write into a
    :class:`numerics.networks.Workspace` (no temporaries; one stacked GEMM call per layer and
    product), and the optimizer updates in place with the same operations in the same order as
    ``theta - lr * grad`` and Adam's formula, so the numbers are those of the textbook update.
    """
    if not isinstance(net, NetworkStack):
        raise ArgumentTypeError(f"net must be a NetworkStack, got {type(net).__name__}")
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    loss_fn = LOSSES[check_choice("loss", loss, tuple(LOSSES))]
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    steps = check_nonneg_int("steps", steps)
    eval_every = check_positive_int("eval_every", eval_every)
    b1 = check_real("betas[0]", betas[0], lo=0.0, hi=1.0, hi_open=True)
    b2 = check_real("betas[1]", betas[1], lo=0.0, hi=1.0, hi_open=True)
    eps = check_real("eps", eps, lo=0.0, lo_open=True)
    record_at = sorted({check_nonneg_int("record_at", s) for s in record_at})
    if record_at and record_at[-1] > steps:
        raise ArgumentValueError(f"record_at steps must be <= steps={steps}, got {record_at[-1]}")
    if copy:
        net = net.copy()
    R = net.replicas
    params = net.parameters()

    population = isinstance(task, (PopulationTask, FullBatchTask))  # every step a full-batch step
    if population:
        Xf, Yf = task.batch()
        gens = None
    elif isinstance(task, SampledTask):
        Xf, Yf = task.X, task.Y
        gens = replica_generators(rng, R)
        perms = [None] * R
    else:
        raise ArgumentTypeError(f"task must be a PopulationTask, FullBatchTask or SampledTask, "
                                f"got {type(task).__name__}")
    for what, arr in (("X", Xf), ("Y", Yf)):
        if arr.ndim == 3 and arr.shape[0] != R:
            raise ArgumentValueError(f"task {what} has {arr.shape[0]} replicas, the network stack {R}")

    t0 = 0
    if state is None:
        m = [np.zeros_like(p) for p in params] if optimizer == "adam" else None
        v = [np.zeros_like(p) for p in params] if optimizer == "adam" else None
    else:
        if not isinstance(state, OptimizerState):
            raise ArgumentTypeError(f"state must be an OptimizerState (TrainingResult.state), got {type(state).__name__}")
        if state.optimizer != optimizer:
            raise ArgumentValueError(f"state is from optimizer {state.optimizer!r}, cannot resume with {optimizer!r}")
        t0 = check_nonneg_int("state.step", state.step)
        m = v = None
        if optimizer == "adam":
            shapes = [p.shape for p in params]
            if [a.shape for a in state.m] != shapes or [a.shape for a in state.v] != shapes:
                raise ArgumentValueError("state moments do not match the network's parameter shapes")
            m = [np.array(a, dtype=float) for a in state.m]
            v = [np.array(a, dtype=float) for a in state.v]
    diverged = np.zeros(R, dtype=bool)
    diverged_at = np.full(R, -1, dtype=int)
    loss_steps = [t for t in range(steps + 1) if population or t % eval_every == 0 or t == steps]
    col_of = {t: i for i, t in enumerate(loss_steps)}
    loss_arr = np.empty((R, len(loss_steps)))
    record_set = set(record_at)
    rec_loss = {t: np.empty(R) for t in record_at}
    rec_delta = {t: np.empty((R, net.depth + 1)) for t in record_at}
    rec_weights = {t: np.empty((R, net.depth)) for t in record_at}
    n_w = len(net.weights)
    scratch: dict = {}
    # one pair of workspaces for every block: the buffers are allocated (and their pages faulted in)
    # once per call, not once per block (a block smaller than the others reallocates its own shapes)
    work = Workspace()  # the training passes (full batch, or minibatches)
    work_eval = work if population else Workspace()  # full-data evaluation of a sampled task
    if block is None:
        block = R if callback is not None else auto_block(net, Xf.shape[-1] if population else task.batch_size,
                                                          optimizer)
    else:
        block = check_positive_int("block", block)
        if callback is not None and block < R:
            raise ArgumentValueError("block < replicas needs callback=None (a callback sees the whole stack at "
                                     "every step)")

    def run_block(sl: slice) -> None:
        """Steps 0..steps of the replicas ``sl`` (a view of the stack: updates write through)."""
        sub = net.view(sl)
        sp = sub.parameters()
        sm = [a[sl] for a in m] if m is not None else None
        sv = [a[sl] for a in v] if v is not None else None
        div = diverged[sl]  # a view
        div_at = diverged_at[sl]
        Xs = Xf[sl] if Xf.ndim == 3 else Xf
        Ys = Yf[sl] if Yf.ndim == 3 else Yf
        n = sub.replicas
        step_no = 0

        def mark(loss_vec, step):
            bad = ~np.isfinite(loss_vec) & ~div
            if np.any(bad):
                div[bad] = True
                div_at[bad] = step
                for p in sp:
                    p[bad] = 0.0
                if sm is not None:
                    for a in sm + sv:
                        a[bad] = 0.0
            out = loss_vec.copy()
            out[div] = np.inf
            return out

        def update_param(i, g):
            """One parameter's update, in place (``g`` is scratch space afterwards)."""
            p = sp[i]
            if optimizer == "gd":  # theta - lr * grad
                g *= lr
                p -= g
                return
            # Adam: theta - lr * (m / c1) / (sqrt(v / c2) + eps), the same operations in the same order
            c1 = 1.0 - b1 ** (t0 + step_no + 1)
            c2 = 1.0 - b2 ** (t0 + step_no + 1)
            mi, vi = sm[i], sv[i]
            tmp = scratch.get(g.shape)
            if tmp is None:
                tmp = scratch[g.shape] = np.empty(g.shape)
            mi *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            mi += tmp
            vi *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            vi += tmp
            np.divide(vi, c2, out=tmp)
            np.sqrt(tmp, out=tmp)
            tmp += eps
            np.divide(mi, c1, out=g)
            g *= lr
            g /= tmp
            p -= g

        if optimizer == "gd":
            def update_layer(l, gw, gb):  # fused into the backward pass, layer by layer: theta - lr * grad
                gw *= lr
                sp[l] -= gw
                if gb is not None:
                    gb *= lr
                    sp[n_w + l] -= gb
        else:
            def update_layer(l, gw, gb):  # fused into the backward pass, layer by layer
                update_param(l, gw)
                if gb is not None:
                    update_param(n_w + l, gb)

        def zero_diverged():
            if np.any(div):
                for p in sp:
                    p[div] = 0.0

        for t in range(steps + 1):
            step_no = t
            evaluate = t in col_of
            recording = t in record_set
            grads = cache = None
            if evaluate or recording:
                if population or recording:
                    cache = sub.forward(Xs, workspace=work_eval, lean=not recording)
                    floss, g_out = loss_fn(cache.output, Ys)
                    if recording:
                        grads = sub.backward(cache, g_out, workspace=work_eval)
                else:  # the full-data loss only: a forward pass
                    floss = loss_fn(sub.forward(Xs, workspace=work_eval, lean=True).output, Ys)[0]
                floss = mark(floss, t)
                if evaluate:
                    loss_arr[sl, col_of[t]] = floss
                if recording:
                    dn = grads.delta_norms()
                    wn = grads.weight_norms()
                    dn[div] = np.inf
                    wn[div] = np.inf
                    rec_loss[t][sl], rec_delta[t][sl], rec_weights[t][sl] = floss, dn, wn
            if callback is not None:
                callback(t, net)
            if t == steps:
                break
            if population:
                if grads is None:  # the update fused into the backward pass of this step's forward pass
                    sub.backward(cache, g_out, workspace=work_eval, update=update_layer)
                else:
                    glist = grads.weights + (grads.biases if grads.biases is not None else [])
                    for i, g in enumerate(glist):
                        update_param(i, g)
            else:
                B = task.batch_size
                k = t % task.steps_per_epoch
                idx = np.empty((n, B), dtype=np.intp)
                for j, r in enumerate(range(R)[sl]):
                    if k == 0 or perms[r] is None:
                        perms[r] = gens[r].permutation(task.n_samples)
                    idx[j] = perms[r][k * B : (k + 1) * B]
                bcache = sub.forward(_gather(Xs, idx), workspace=work, lean=True)
                bloss, g_out = loss_fn(bcache.output, _gather(Ys, idx))
                mark(bloss, t)
                sub.backward(bcache, g_out, workspace=work, update=update_layer)
            zero_diverged()

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, R, block):
            run_block(slice(start, min(R, start + block)))
    records = {t: GradientRecord(t, rec_loss[t], rec_delta[t], rec_weights[t]) for t in record_at}
    return TrainingResult(
        loss=loss_arr,
        loss_steps=np.asarray(loss_steps),
        records=records,
        diverged=diverged,
        diverged_at=diverged_at,
        network=net,
        settings=dict(optimizer=optimizer, lr=lr, steps=steps, loss=loss, task=type(task).__name__, block=block),
        state=OptimizerState(optimizer, t0 + steps, m, v),
    )


#: Working-set budget of one replica block of :func:`train` (bytes). The reason, measured on the
#: project machine (AMD EPYC, 1 MiB L2 per core, 32 MiB L3 shared by every process; one BLAS
#: thread; CPU time of the training thread, best of 7 interleaved rounds, provisional, measured
#: under load, load average 4.2-4.7): 10 tanh networks of width 64, depth 30 (batch 64, GD, about
#: 3 MiB per replica) took 16.4 ms per step in blocks of 1 replica, 15.5 ms in blocks of 2 and
#: 16.2 ms in blocks of 3 (as one stack of 10, about 30 MiB, the stacked GEMMs wait on memory:
#: 18.6 ms), against 16.9 ms for the loop over replicas. Small networks fit many replicas in a
#: block, and there the stack wins (width 32, depth 20: blocks of 10, 2.1x the loop).
BLOCK_BYTES = 6 * 2**20


def auto_block(net: NetworkStack, batch: int, optimizer: str = "gd") -> int:
    """Replicas per block of :func:`train` when no callback needs the whole stack at every step.

    ``train`` runs the stack block by block, each block for all its steps (replicas are
    independent, so the numbers are the same for any block size): a block is as many replicas as
    fit their parameters (times 3 with Adam's moments) and their activations (``sum_l d_l`` x
    ``batch``, twice with skips or normalization) in :data:`BLOCK_BYTES`, at least one.

    >>> from degeneracy.numerics.networks import init_network
    >>> auto_block(init_network([64] * 31, 10, rng=0), 64), auto_block(init_network([32] * 21, 10, rng=0), 32)
    (2, 10)
    """
    per_param = 3 if optimizer == "adam" else 1
    n_params = sum(p[0].size for p in net.parameters())
    n_act = sum(net.widths[1:]) * batch * (2 if (net.skip != "none" or net.normalization != "none") else 1)
    per_replica = 8 * (per_param * n_params + 2 * n_act)
    return int(max(1, min(net.replicas, BLOCK_BYTES // max(per_replica, 1))))


def step_flops(widths: Sequence[int], replicas: int, batch: int) -> int:
    """Floating-point operations of one forward + backward pass of a stack (the matmuls only).

    Per layer three GEMMs of ``d_l x d_{l-1} x B`` (forward ``W x``, ``W^T delta``, ``delta x^T``),
    ``2 d_l d_{l-1} B`` flops each: ``6 R B sum_l d_l d_{l-1}``. For the matmul-ceiling comparison
    of ``degeneracy bench``.

    >>> step_flops([64] * 31, 10, 64)
    471859200
    """
    from .networks import check_widths

    ws = check_widths(widths)
    R = check_positive_int("replicas", replicas)
    B = check_positive_int("batch", batch)
    return int(6 * R * B * sum(ws[i] * ws[i + 1] for i in range(len(ws) - 1)))
