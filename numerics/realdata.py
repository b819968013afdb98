"""The training experiments of the seed papers on real data: scikit-learn's handwritten digits.

Every function trains ``runs`` independent runs and returns per-run numbers (runs are the
replicas of a claim's statistics): run ``r`` has its own stratified train/test split, its own
initialization and its own minibatch order, all drawn from the ``r``-th stream spawned from
``rng``; within a run the arms of a comparison (skip variants, initializations, normalizations,
Fold conditions) share the split, the initial weights (up to the stated transformation) and the
minibatch order, so comparisons between arms are paired. The data come from
:mod:`numerics.data` (bundled, no download; :class:`numerics.data.DataUnavailable` when
scikit-learn is missing: ``pip install 'degeneracy[data]'``).

* :func:`skip_experiment` -- plain vs residual vs symmetric-skip fully connected ReLU networks
  (Orhan & Pitkow 2018, ICLR, sections 3-4, there on CIFAR-10/100): minibatch Adam on the softmax
  cross-entropy; training loss, test loss and accuracy, and the degeneracy measures of
  :func:`numerics.singularities.degeneracy_measures` (eliminated units, overlap, linear
  dependence, near-null Gauss-Newton fraction) at checkpoints. Negative controls as arms:
  ``"residual-off"`` (the residual network with its skip connections switched off) and
  ``"plain-twin"`` (a second plain arm with its own initialization: an A/A comparison).
* :func:`isometry_experiment` -- critical tanh networks with orthogonal vs Gaussian weights
  (Pennington, Schoenholz & Ganguli 2017, section 4 and Fig. 4, there on CIFAR-10): minibatch
  SGD steps until the training cross-entropy falls below a threshold.
* :func:`normalization_experiment` -- batch / layer / divisive normalization vs none (Orhan 2018,
  the seed essay): effective dimension (participation ratio) of the hidden representations of
  held-out inputs and training speed.
* :func:`fold_experiment_digits` -- the Fold experiment (Orhan 2018) with a deep linear network
  regressing the one-hot labels of PCA-whitened digits.

Inputs are columns (``(d, N)``), as everywhere in :mod:`numerics.networks`. The minibatch order
of a run is passed to every arm as the same :class:`numpy.random.SeedSequence` (a fresh generator
per arm), so the arms see the same minibatches in the same order (the tests check it).

Examples
--------
>>> out = skip_experiment(depth=2, width=4, runs=2, steps=4, checkpoints=2, batch_size=16, measures=False,
...                       rng=0)
>>> out.train_loss["plain"].shape, out.steps.tolist()
((2, 3), [0, 2, 4])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from degeneracy.errors import ArgumentValueError
from degeneracy.validation import check_choice, check_int, check_positive_int, check_real

from .data import prepare_runs
from .fold import CONDITIONS, GN_PROBES, GN_RTOL, setting_name
from .measures import effective_rank, gauss_newton_spectrum, near_null_fraction, participation_ratio
from .networks import NORMALIZATIONS, NetworkStack, init_network, init_weights, softmax_cross_entropy
from .rng import spawn_generators
from .singularities import degeneracy_measures
from .training import PopulationTask, SampledTask, train

__all__ = [
    "SKIP_ARMS",
    "RealDataRun",
    "accuracy",
    "skip_experiment",
    "ISOMETRY_ARMS",
    "isometry_experiment",
    "steps_to_threshold",
    "normalization_experiment",
    "hidden_participation",
    "fold_experiment_digits",
]

#: Arms of :func:`skip_experiment`: name -> (skip of :class:`numerics.networks.NetworkStack`, whether
#: the hidden weights are scaled by the branch gain, whether the arm draws its own initialization).
#: The controls: ``"plain-twin"`` is the clean null (the same distribution as ``"plain"``: a
#: comparison with plain must find no effect); ``"residual-off"`` is the residual network with its
#: skips switched off, which computes the plain network's function at initialization (ReLU without
#: biases is positively homogeneous and the readout is rescaled) but with hidden weights smaller by
#: the branch gain, which under Adam acts like a larger learning rate: it is not a null. Measured
#: on digits (depth 20, width 32, 6 runs, seed 11): training loss 1.47 vs 1.84 for plain after 100
#: Adam steps, 0.68 vs 0.69 after 300; the twin: 1.86 and 0.82. ``"residual-twin"`` is the residual
#: network drawn from the twins' initialization: the clean null of a comparison with ``"residual"``.
#: An arm's numbers do not depend on which other arms are asked for (the split, both initializations
#: and the minibatch order come from the run's own streams), so arms can be computed one at a time.
SKIP_ARMS = {
    "plain": ("none", False, False),
    "residual": ("identity", True, False),
    "symmetric-skip": ("mean", True, False),
    "residual-off": ("none", True, False),  # control: the residual network, skips switched off
    "plain-twin": ("none", False, True),  # control: a second plain arm, its own initialization (A/A)
    "residual-twin": ("identity", True, True),  # control: a second residual arm, the twins' initialization (A/A)
}


@dataclass
class RealDataRun:
    """Per-arm results over training, each an array ``(R, K)`` over the ``K`` checkpoint ``steps``.

    ``train_loss``: loss on the run's whole training part; ``test_loss`` / ``test_accuracy``: on
    its held-out part; ``measures[arm][name]``: measures at the checkpoints (see the function);
    ``extra``: per-arm arrays specific to the experiment; ``settings``: every setting used.
    """

    steps: np.ndarray
    train_loss: dict
    test_loss: dict
    test_accuracy: dict
    measures: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


def accuracy(output: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of columns whose largest output is the label: ``output`` ``(R, C, N)``, labels ``(N,)``
    or ``(R, N)``; returns ``(R,)``.

    >>> accuracy(np.array([[[2.0, 0.0], [1.0, 3.0]]]), np.array([0, 0])).tolist()
    [0.5]
    """
    return np.mean(np.argmax(output, axis=-2) == labels, axis=-1)


def _evaluator(split, names, K, record):
    """Arrays to fill at checkpoints, and a callback factory evaluating the held-out part."""
    R = split.X_train.shape[0]
    test_loss = {a: np.empty((R, K)) for a in names}
    test_acc = {a: np.empty((R, K)) for a in names}

    def make(arm, at):
        col = {int(t): i for i, t in enumerate(sorted(at))}  # checkpoint step -> column

        def cb(t, net):
            if t in col:
                out = net.forward(split.X_test).output
                test_loss[arm][:, col[t]] = softmax_cross_entropy(out, split.Y_test)[0]
                test_acc[arm][:, col[t]] = accuracy(out, split.y_test)
                if record is not None:
                    record(arm, col[t], net)

        return cb

    return test_loss, test_acc, make


def _checkpoints(steps: int, checkpoints: int) -> np.ndarray:
    steps = check_positive_int("steps", steps)
    checkpoints = check_positive_int("checkpoints", checkpoints)
    if steps % checkpoints:
        raise ArgumentValueError(f"steps ({steps}) must be a multiple of checkpoints ({checkpoints})")
    return np.arange(checkpoints + 1) * (steps // checkpoints)


def skip_experiment(
    *,
    depth: int = 20,
    width: int = 32,
    runs: int = 8,
    steps: int = 600,
    checkpoints: int = 6,
    batch_size: int = 64,
    lr: float = 1e-3,
    optimizer: str = "adam",
    branch_gain: float | None = None,
    arms=("plain", "residual", "symmetric-skip"),
    measures: bool = True,
    probe: int = 128,
    gn_samples: int = 8,
    test_fraction: float = 0.2,
    rng=None,
) -> RealDataRun:
    """Plain vs residual vs symmetric-skip ReLU networks on digits, with degeneracy measures over training.

    Architecture (Orhan & Pitkow 2018, fully connected): inputs PCA-whitened to ``width``
    components (:func:`numerics.data.whiten`, so the identity skip fits every hidden layer), then
    ``depth`` hidden ReLU layers of ``width`` units ``x_{l+1} = relu(W x_l) [+ skip]`` and a linear
    readout to the 10 classes, no biases. Initial weights He-scaled Gaussian (gain ``sqrt 2``); in
    the skip arms the hidden weights are multiplied by ``branch_gain`` (default ``1/sqrt(depth)``,
    so ``(1 + branch_gain^2)^depth <= e``), and every readout is rescaled so that the outputs have
    unit standard deviation on the run's training inputs (as :func:`numerics.singularities.degeneracy_experiment`).
    Minibatch ``optimizer`` (Adam by default) on the softmax cross-entropy, ``batch_size`` samples
    per step, ``steps`` steps, measured at ``checkpoints + 1`` equally spaced steps.

    Measures (arrays ``(R, K)`` in ``measures[arm]``): those of
    :func:`numerics.singularities.degeneracy_measures` on the first ``probe`` training inputs of
    each run (the Gauss-Newton spectrum on the first ``gn_samples``), each averaged over hidden
    layers. ``arms`` from :data:`SKIP_ARMS` (controls ``"residual-off"``, ``"plain-twin"``,
    ``"residual-twin"``).

    Raises :class:`numerics.data.DataUnavailable` without scikit-learn.
    """
    depth = check_int("depth", depth, minimum=2)
    width = check_int("width", width, minimum=2, maximum=60)
    runs = check_int("runs", runs, minimum=1)
    at = _checkpoints(steps, checkpoints)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    if branch_gain is None:
        branch_gain = 1.0 / math.sqrt(depth)
    branch_gain = check_real("branch_gain", branch_gain, lo=0.0, lo_open=True)
    arms = tuple(check_choice("arms", a, tuple(SKIP_ARMS)) for a in arms)
    probe = check_positive_int("probe", probe)
    gn_samples = check_positive_int("gn_samples", gn_samples)
    gens = spawn_generators(rng, runs)
    streams = [spawn_generators(g, 4) for g in gens]  # data, init, minibatches, twin init
    split = prepare_runs("digits", runs, preprocessing="whiten", components=width, test_fraction=test_fraction,
                         rng=[s[0] for s in streams])
    widths = [width] * (depth + 1) + [split.n_classes]
    w_main = init_weights(widths, runs, gain=math.sqrt(2.0), rng=[s[1] for s in streams])
    w_twin = (init_weights(widths, runs, gain=math.sqrt(2.0), rng=[s[3] for s in streams])
              if any(SKIP_ARMS[a][2] for a in arms) else None)
    Xp = split.X_train[:, :, :probe]
    found: dict = {a: {} for a in arms}

    def record(arm, k, net):
        if not measures:
            return
        m = degeneracy_measures(net, Xp, gn_samples=gn_samples)
        for name, val in m.items():
            found[arm].setdefault(name, np.empty((runs, len(at))))[:, k] = val

    test_loss, test_acc, make = _evaluator(split, arms, len(at), record)
    task = SampledTask(split.X_train, split.Y_train, batch_size)
    train_loss = {}
    for arm in arms:
        skip, scaled, twin = SKIP_ARMS[arm]
        g = branch_gain if scaled else 1.0
        ws = [w.copy() * (g if l < depth else 1.0) for l, w in enumerate(w_twin if twin else w_main)]
        net = NetworkStack(ws, activation="relu", skip=skip)
        out = net.forward(split.X_train).output
        sd = out.std(axis=(-2, -1), keepdims=True)
        net.weights[-1] /= np.where(sd > 0, sd, 1.0)
        res = train(net, task, optimizer=optimizer, lr=lr, steps=int(at[-1]), loss="cross_entropy",
                    eval_every=int(at[1]), record_at=(), rng=[s[2].bit_generator.seed_seq for s in streams],
                    callback=make(arm, at.tolist()))
        train_loss[arm] = res.loss
    settings = dict(data="digits", depth=depth, width=width, runs=runs, steps=int(at[-1]), batch_size=batch_size,
                    lr=lr, optimizer=optimizer, branch_gain=branch_gain, activation="relu", probe=probe,
                    gn_samples=gn_samples, test_fraction=test_fraction, inputs=f"PCA-whitened to {width} components",
                    n_train=int(split.X_train.shape[-1]), n_test=int(split.X_test.shape[-1]))
    return RealDataRun(at, train_loss, test_loss, test_acc, found if measures else {}, {}, settings)


#: Arms of :func:`isometry_experiment`: name -> weight initialization. Every arm draws its weights
#: from its own stream; the ``-twin`` arms are controls (a second draw of the same ensemble: a
#: comparison with the first must find no effect).
ISOMETRY_ARMS = {"orthogonal": "orthogonal", "gaussian": "gaussian", "orthogonal-twin": "orthogonal",
                 "gaussian-twin": "gaussian"}


def steps_to_threshold(loss: np.ndarray, steps: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """First step at which each run's loss is ``<= threshold``: ``(steps (R,), censored (R,))``.

    A run that never gets there is censored: its entry is the last step (a lower bound) and
    ``censored`` is True. Diverged runs (``inf`` losses) never get there.

    >>> steps_to_threshold(np.array([[3.0, 1.0, 0.5], [3.0, 2.0, 2.0]]), np.array([0, 10, 20]), 1.0)
    (array([10., 20.]), array([False,  True]))
    """
    loss = np.asarray(loss, dtype=float)
    hit = loss <= threshold
    reached = hit.any(axis=1)
    first = np.where(reached, np.asarray(steps)[hit.argmax(axis=1)], np.asarray(steps)[-1])
    return first.astype(float), ~reached


def isometry_experiment(
    *,
    depth: int = 20,
    width: int = 64,
    runs: int = 8,
    steps: int = 500,
    eval_every: int = 10,
    batch_size: int = 64,
    lr: float = 0.05,
    q_star: float = 0.05,
    threshold: float = 0.2,
    inits=("orthogonal", "gaussian"),
    test_fraction: float = 0.2,
    rng=None,
) -> RealDataRun:
    """Critical tanh networks with orthogonal vs Gaussian weights on digits: steps to a loss threshold.

    Pennington, Schoenholz & Ganguli (2017), section 4: at the critical point ``chi = 1`` with a
    small fixed point ``q*`` (:func:`theory.isometry.critical_point`), orthogonal weights give a
    well-conditioned input-output Jacobian (dynamical isometry) and train much faster than Gaussian
    weights, whose Jacobian spectrum spreads like the depth. Here: inputs standardized
    (64 pixels) and scaled so the first layer's pre-activations have mean square ``q*``; ``depth``
    tanh layers of ``width`` units with weights ``sigma_w`` times Haar orthogonal (Stiefel for the
    first layer) or ``N(0, sigma_w^2 / fan_in)``, biases ``N(0, sigma_b^2)`` shared by the arms of a
    run (:data:`ISOMETRY_ARMS`, with twin controls; each arm its own weight stream); a linear
    readout to 10 classes; minibatch SGD (``lr``) on the softmax cross-entropy.
    The training-set loss is evaluated every ``eval_every`` steps; ``extra[arm]`` holds
    ``steps_to_threshold`` (first evaluated step with loss ``<= threshold`` nats; censored runs
    count as ``steps``, a lower bound that favours the slower arm) and ``censored`` (R,).
    """
    from degeneracy.theory.isometry import critical_point

    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=2)
    runs = check_int("runs", runs, minimum=1)
    steps = check_positive_int("steps", steps)
    eval_every = check_positive_int("eval_every", eval_every)
    q_star = check_real("q_star", q_star, lo=0.0, lo_open=True)
    threshold = check_real("threshold", threshold, lo=0.0, lo_open=True)
    inits = tuple(check_choice("inits", i, tuple(ISOMETRY_ARMS)) for i in inits)
    sw2, sb2 = critical_point("tanh", q_star)
    gens = spawn_generators(rng, runs)
    streams = [spawn_generators(g, 3 + len(ISOMETRY_ARMS)) for g in gens]  # data, biases, minibatches, one per arm
    split = prepare_runs("digits", runs, preprocessing="standardize", test_fraction=test_fraction,
                         rng=[s[0] for s in streams])
    ms = float(np.mean(split.X_train ** 2))  # mean square per input feature (constant pixels are 0)
    scale = math.sqrt(max(q_star - sb2, 0.0) / (sw2 * ms))
    split = _scaled(split, scale)
    widths = [split.n_features] + [width] * depth + [split.n_classes]
    cuts = np.cumsum([0] + widths[1:])
    draws = [s[1].standard_normal(int(cuts[-1])) * math.sqrt(sb2) for s in streams]
    biases = [np.stack([d[cuts[l]:cuts[l + 1]] for d in draws]) for l in range(len(widths) - 1)]
    at = np.arange(0, steps + 1, eval_every)
    if at[-1] != steps:
        at = np.append(at, steps)
    test_loss, test_acc, make = _evaluator(split, inits, len(at), None)
    task = SampledTask(split.X_train, split.Y_train, batch_size)
    train_loss, extra = {}, {}
    for init in inits:
        k = list(ISOMETRY_ARMS).index(init)  # the arm's own stream, whichever arms are asked for
        ws = init_weights(widths, runs, init=ISOMETRY_ARMS[init], gain=math.sqrt(sw2), rng=[s[3 + k] for s in streams])
        net = NetworkStack(ws, [b.copy() for b in biases], activation="tanh")
        res = train(net, task, optimizer="gd", lr=lr, steps=steps, loss="cross_entropy", eval_every=eval_every,
                    record_at=(), rng=[s[2].bit_generator.seed_seq for s in streams], callback=make(init, at.tolist()))
        train_loss[init] = res.loss
        first, cens = steps_to_threshold(res.loss, res.loss_steps, threshold)
        extra[init] = {"steps_to_threshold": first, "censored": cens, "diverged": res.diverged}
    settings = dict(data="digits", depth=depth, width=width, runs=runs, steps=steps, eval_every=eval_every,
                    batch_size=batch_size, lr=lr, optimizer="sgd", q_star=q_star, sigma_w2=sw2, sigma_b2=sb2,
                    threshold=threshold, activation="tanh", input_scale=scale, test_fraction=test_fraction)
    return RealDataRun(at, train_loss, test_loss, test_acc, {}, extra, settings)


def _scaled(split, scale):
    from dataclasses import replace

    return replace(split, X_train=split.X_train * scale, X_test=split.X_test * scale)


def hidden_participation(net: NetworkStack, X: np.ndarray) -> np.ndarray:
    """Participation ratio (:func:`numerics.measures.participation_ratio`) of every hidden layer's
    representation of the inputs ``X`` (``(d_0, P)`` or ``(R, d_0, P)``): eigenvalues of the centred
    ``P x P`` Gram matrix ``X_c^T X_c / P`` of the layer output ``x_l`` (computed from the smaller of
    it and the unit covariance ``X_c X_c^T / P``, which share their nonzero eigenvalues). Returns
    ``(R, hidden layers)``;
    a representation collapsed to one point has dimension 1.

    >>> net = init_network([3, 4, 2], 2, activation="relu", rng=0)
    >>> hidden_participation(net, np.random.default_rng(0).standard_normal((3, 10))).shape
    (2, 1)
    """
    cache = net.forward(X)
    hidden = range(1, net.depth) if net.linear_readout else range(1, net.depth + 1)
    out = np.ones((net.replicas, len(hidden)))
    for i, l in enumerate(hidden):
        x = cache.post[l]
        xc = x - x.mean(axis=-1, keepdims=True)
        xt = np.swapaxes(xc, -1, -2)
        # the nonzero eigenvalues of X_c^T X_c / P and X_c X_c^T / P agree: use the smaller Gram matrix
        gram = xt @ xc if xc.shape[-1] <= xc.shape[-2] else xc @ xt
        lam = np.clip(np.linalg.eigvalsh(gram / x.shape[-1]), 0.0, None)
        alive = lam.sum(axis=-1) > 1e-300
        if alive.any():
            out[alive, i] = participation_ratio(lam[alive])
    return out


def normalization_experiment(
    *,
    depth: int = 20,
    width: int = 64,
    runs: int = 8,
    steps: int = 600,
    checkpoints: int = 6,
    batch_size: int = 64,
    lr: float = 1e-3,
    optimizer: str = "adam",
    activation: str = "relu",
    normalizations=("none", "batch", "layer", "divisive"),
    probe: int = 256,
    threshold: float = 0.5,
    test_fraction: float = 0.2,
    rng=None,
) -> RealDataRun:
    """Batch / layer / divisive normalization vs none on digits: hidden effective dimension and training speed.

    The seed essay (Orhan 2018) conjectures that normalization helps partly by keeping hidden
    representations from degenerating. ``depth`` hidden layers of ``width`` units,
    ``x_l = phi(norm(W_l x_{l-1} + b_l))`` (:class:`numerics.networks.NetworkStack` with
    ``normalization``; ReLU: He-scaled Gaussian weights, biases 0; tanh: the critical point at
    ``q* = 1``), a linear readout; standardized 64-pixel inputs; minibatch ``optimizer`` on the
    softmax cross-entropy. All arms of a run share the split, the weights and the minibatch order,
    except the control ``"none-twin"`` (no normalization, its own initialization: an A/A comparison
    with ``"none"``).
    ``measures[arm]``: ``"pr_last"`` (participation ratio of the last hidden layer) and
    ``"pr_mean"`` (mean over hidden layers) on the first ``probe`` held-out inputs, evaluated as one
    batch (batch statistics of that batch); ``extra[arm]``: ``steps_to_threshold`` / ``censored``
    of the training loss at the checkpoints (:func:`steps_to_threshold`).
    """
    depth = check_int("depth", depth, minimum=2)
    width = check_int("width", width, minimum=2)
    runs = check_int("runs", runs, minimum=1)
    at = _checkpoints(steps, checkpoints)
    activation = check_choice("activation", activation, ("relu", "tanh"))
    normalizations = tuple(check_choice("normalizations", n, NORMALIZATIONS + ("none-twin",)) for n in normalizations)
    probe = check_positive_int("probe", probe)
    threshold = check_real("threshold", threshold, lo=0.0, lo_open=True)
    if activation == "relu":
        sw2, sb2 = 2.0, 0.0
    else:
        from degeneracy.theory.isometry import critical_point

        sw2, sb2 = critical_point("tanh", 1.0)
    gens = spawn_generators(rng, runs)
    streams = [spawn_generators(g, 4) for g in gens]  # data, init, minibatches, the twin's init
    split = prepare_runs("digits", runs, preprocessing="standardize", test_fraction=test_fraction,
                         rng=[s[0] for s in streams])
    widths = [split.n_features] + [width] * depth + [split.n_classes]
    base = init_network(widths, runs, gain=math.sqrt(sw2), bias_std=math.sqrt(sb2), activation=activation,
                        rng=[s[1] for s in streams])
    twin = init_network(widths, runs, gain=math.sqrt(sw2), bias_std=math.sqrt(sb2), activation=activation,
                        rng=[s[3] for s in streams]) if "none-twin" in normalizations else None
    Xp = split.X_test[:, :, :probe]
    found = {n: {"pr_last": np.empty((runs, len(at))), "pr_mean": np.empty((runs, len(at)))} for n in normalizations}

    def record(arm, k, net):
        pr = hidden_participation(net, Xp)
        found[arm]["pr_last"][:, k] = pr[:, -1]
        found[arm]["pr_mean"][:, k] = pr.mean(axis=1)

    test_loss, test_acc, make = _evaluator(split, normalizations, len(at), record)
    task = SampledTask(split.X_train, split.Y_train, batch_size)
    train_loss, extra = {}, {}
    for norm in normalizations:
        src = twin if norm == "none-twin" else base
        net = NetworkStack([w.copy() for w in src.weights], [b.copy() for b in src.biases], activation=activation,
                           normalization="none" if norm == "none-twin" else norm)
        res = train(net, task, optimizer=optimizer, lr=lr, steps=int(at[-1]), loss="cross_entropy",
                    eval_every=int(at[1]), record_at=(), rng=[s[2].bit_generator.seed_seq for s in streams],
                    callback=make(norm, at.tolist()))
        train_loss[norm] = res.loss
        first, cens = steps_to_threshold(res.loss, res.loss_steps, threshold)
        extra[norm] = {"steps_to_threshold": first, "censored": cens, "diverged": res.diverged}
    settings = dict(data="digits", depth=depth, width=width, runs=runs, steps=int(at[-1]), batch_size=batch_size,
                    lr=lr, optimizer=optimizer, activation=activation, sigma_w2=sw2, sigma_b2=sb2, probe=probe,
                    threshold=threshold, test_fraction=test_fraction)
    return RealDataRun(at, train_loss, test_loss, test_acc, found, extra, settings)


def fold_experiment_digits(
    *,
    width: int = 32,
    depth: int = 10,
    runs: int = 8,
    epochs: int = 400,
    few: int = 10,
    optimizer_settings: tuple = (("adam", 1e-3), ("gd", 1e-2)),
    test_fraction: float = 0.2,
    rng=None,
    summaries: bool = True,
) -> dict:
    """The Fold experiment (Orhan 2018) on digits: a deep linear network regresses the one-hot labels.

    Inputs PCA-whitened to ``N = width`` components (:func:`numerics.data.whiten`,
    ``(1/n) X X^T = I`` on each run's training part), ``depth - 1`` square ``N x N`` layers and a
    ``10 x N`` readout; loss ``(1/2n) sum_b ||W_L...W_1 x_b - y_b||^2`` on the ``n`` training
    images. With whitened inputs this loss is exactly ``0.5 ||P - Sigma_yx||_F^2 + c`` with
    ``P = W_L...W_1``, ``Sigma_yx = (1/n) Y X^T`` and ``c = (1/2n) ||Y||^2 - 0.5 ||Sigma_yx||_F^2``
    (Saxe et al. 2013, section 2), so full-batch training on the images is training on the
    :class:`numerics.training.PopulationTask` of ``Sigma_yx`` (the same gradients; the tests check
    one step against the images), which is how it is run; reported losses include ``c``.

    Conditions (:data:`numerics.fold.CONDITIONS`): ``fold0`` i.i.d. Gaussian hidden weights of
    variance ``1/N``, ``fold1`` / ``fold2`` the same matrices folded once / twice
    (:func:`numerics.ensembles.fold`, rank ``N / 2^k``), ``ortho`` Haar orthogonal; the readout
    (Gaussian, variance ``1/N``) is shared by the three Gaussian conditions of a run, ``ortho``
    draws its own (Stiefel). Returns a dict like :func:`numerics.fold.fold_experiment`: ``init[c]``
    (Gauss-Newton spectrum on ``GN_PROBES`` whitened probes, its near-null fraction, effective rank
    of the hidden product) and ``runs[setting][c]``: ``loss`` (training, ``(R, epochs + 1)``),
    ``test_loss`` and ``test_accuracy`` after training ``(R,)``, ``diverged``, and activation-gradient
    norms ``delta0``, ``delta_few``, ``delta_end``; plus ``constant`` (``c`` per run). With
    ``summaries=False`` ``init`` is left empty (a work unit training some settings only: training is
    deterministic given the draws, so a setting's numbers do not depend on the other settings run).
    """
    N = check_int("width", width, minimum=4, maximum=60)
    if N % 4:
        raise ArgumentValueError(f"width must be divisible by 4 (Fold 2 halves the rank twice), got {N}")
    L = check_int("depth", depth, minimum=2)
    R = check_int("runs", runs, minimum=1)
    epochs = check_positive_int("epochs", epochs)
    few = check_int("few", few, minimum=0, maximum=epochs)
    gens = spawn_generators(rng, R)
    streams = [spawn_generators(g, 5) for g in gens]  # data, Gaussian hidden, ortho hidden, readouts, probes
    split = prepare_runs("digits", R, preprocessing="whiten", components=N, test_fraction=test_fraction,
                         rng=[s[0] for s in streams])
    n = split.X_train.shape[-1]
    Syx = split.Y_train @ np.swapaxes(split.X_train, -1, -2) / n  # (R, 10, N)
    const = 0.5 * np.sum(split.Y_train ** 2, axis=(-2, -1)) / n - 0.5 * np.sum(Syx ** 2, axis=(-2, -1))
    hidden = [N] * L
    gauss_hidden = [init_weights(hidden, R, init="gaussian", fold=k, rng=[s[1] for s in streams]) for k in (0, 1, 2)]
    ortho_hidden = init_weights(hidden, R, init="orthogonal", rng=[s[2] for s in streams])
    readout_draws = [spawn_generators(s[3], 2) for s in streams]
    read_g = init_weights([N, split.n_classes], R, init="gaussian", rng=[d[0] for d in readout_draws])[0]
    read_o = init_weights([N, split.n_classes], R, init="orthogonal", rng=[d[1] for d in readout_draws])[0]
    nets = {c: NetworkStack(list(h) + [r]) for c, h, r in zip(
        CONDITIONS, gauss_hidden + [ortho_hidden], (read_g, read_g, read_g, read_o))}
    probe = np.stack([s[4].standard_normal((N, GN_PROBES)) for s in streams])
    out = {"N": N, "L": L, "R": R, "epochs": epochs, "few": few, "n_train": n, "constant": const, "init": {},
           "runs": {}, "data": "digits (PCA-whitened)"}
    for c, net in (nets.items() if summaries else ()):
        lam = np.stack([gauss_newton_spectrum(net.replica(r), probe[r])[0] for r in range(R)])
        P = net.weights[0]
        for w in net.weights[1:-1]:
            P = w @ P
        sv = np.linalg.svd(P, compute_uv=False)
        out["init"][c] = {"gn_spectrum": lam, "gn_near_null": near_null_fraction(np.clip(lam, 0, None), rtol=GN_RTOL),
                          "hidden_erank": effective_rank(sv)}
    stacked = NetworkStack([np.concatenate([nets[c].weights[l] for c in CONDITIONS]) for l in range(L)])
    T = np.concatenate([Syx] * len(CONDITIONS))
    for opt, lr in optimizer_settings:
        res = train(stacked, PopulationTask(T), optimizer=opt, lr=lr, steps=epochs, record_at=(0, few, epochs))
        per = {}
        for k, c in enumerate(CONDITIONS):
            sl = slice(k * R, (k + 1) * R)
            trained = res.network.replica(np.arange(k * R, (k + 1) * R))
            o = trained.forward(split.X_test).output
            per[c] = {
                "loss": res.loss[sl] + const[:, None],
                "test_loss": 0.5 * np.sum((o - split.Y_test) ** 2, axis=(-2, -1)) / o.shape[-1],
                "test_accuracy": accuracy(o, split.y_test),
                "diverged": res.diverged[sl],
                "delta0": res.records[0].delta[sl],
                "delta_few": res.records[few].delta[sl],
                "delta_end": res.records[epochs].delta[sl],
            }
        out["runs"][setting_name(opt, lr)] = per
    return out
