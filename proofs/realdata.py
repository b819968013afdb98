"""The real-data settings of the training claims: runs on scikit-learn's digits shared by claims and figures.

Every training claim of the toolkit has a synthetic setting (a teacher task) and a real-data
setting registered as its own claim, ``<area>.<statement>-digits`` with "[digits]" in its title,
so the two appear side by side in the report and each is its own unit of parallel work. The
real-data claims run the experiments of :mod:`degeneracy.numerics.realdata` on the handwritten
digits bundled with scikit-learn (1797 images of 8 x 8 pixels, 10 classes; no download).

**Shared runs.** An experiment's runs depend only on the run seed, the experiment, the batch
index, the arm and the sizes: :func:`arm_run` computes one arm of one batch once per process
(each arm of :mod:`numerics.realdata` draws its split, initialization and minibatch order from
the run's own streams, so an arm's numbers do not depend on which other arms are computed). Two
claims that compare the same arms, the negative control of a claim, and the figure of the
experiment (batch 0, :func:`shared_run`) read the same numbers.

**Work units.** Each experiment is also a shared experiment ``"digits.<experiment>"``
(:func:`digits_shared`, :func:`degeneracy.proofs.registry.shared`) with one unit per (batch, arm)
of the arms its claims compare (not the controls' twins): in a run the runner computes every
batch of every arm once, up front and on any worker, and the claims' sequential rule then reads
them (a claim run alone, or an arm outside the plan such as a control's twin, computes what its
looks need through :func:`arm_run`). The numbers are the same either way: a unit is
:func:`arm_run`'s value.

**Sequential replication** (:func:`sequential_arms`, on :func:`degeneracy.proofs.replication.replicate`):
batches of independent runs are added until every check is supported or contradicted at its
alpha-spending boundary, or the budget (``batch x batches`` runs per arm) is spent.

**Negative controls.** The control of an ordering "arm A beats arm B" replaces arm A by a true
null: a twin of arm B (the same architecture and ensemble, its own initial draw, the same split
and minibatch order). Every check then compares two arms of the same distribution in the claimed
direction and must not be supported (its outcome is ``inconclusive`` unless a false alarm of
probability at most the check's level happens). Arms that look like controls but are not nulls
(the residual network with its skips switched off trains faster than the plain network under
Adam, because its hidden weights are smaller; :data:`numerics.realdata.SKIP_ARMS`) are not used.

Without scikit-learn every real-data claim raises :class:`SkipClaim` naming
``pip install 'degeneracy[data]'``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from degeneracy.errors import ArgumentValueError, SkipClaim
from degeneracy.numerics import realdata as rd
from degeneracy.numerics.data import DataUnavailable
from degeneracy.numerics.rng import stream_for

from .context import compute_shared
from .registry import CLAIMS, MODES, SHARED, shared
from .replication import replicate

__all__ = ["TAG", "EXPERIMENTS", "batch_generator", "on_digits", "arm_run", "shared_run", "per_run",
           "sequential_arms", "digits_shared", "shared_name"]

#: the marker of a real-data setting in a claim's title
TAG = "[digits]"
#: experiment name -> (function of numerics.realdata, name of its arms argument)
EXPERIMENTS = {
    "skip": (rd.skip_experiment, "arms"),
    "isometry": (rd.isometry_experiment, "inits"),
    "normalization": (rd.normalization_experiment, "normalizations"),
}


def batch_generator(seed: int, experiment: str, index: int) -> np.random.Generator:
    """The generator of batch ``index`` of ``experiment`` under run seed ``seed`` (the same for every
    claim and figure of the run, whatever the workers).

    >>> int(batch_generator(0, "skip", 1).integers(1 << 30)) == int(batch_generator(0, "skip", 1).integers(1 << 30))
    True
    """
    return np.random.Generator(np.random.SFC64(stream_for(int(seed), "digits", experiment, f"batch{int(index)}")))


def on_digits(fn, *args, **kwargs):
    """Call ``fn``; a missing scikit-learn becomes :class:`SkipClaim` naming what to install."""
    try:
        return fn(*args, **kwargs)
    except DataUnavailable as exc:
        raise SkipClaim(f"needs the digits data: pip install 'degeneracy[data]' ({exc})") from exc


def arm_run(experiment: str, seed: int, index: int, arm: str, sizes: dict) -> rd.RealDataRun:
    """Arm ``arm`` of batch ``index`` of ``experiment`` (a key of :data:`EXPERIMENTS`) with keyword
    ``sizes`` (``runs`` included), computed once per process."""
    return _arm_run(experiment, int(seed), int(index), arm, tuple(sorted(sizes.items())))


@lru_cache(maxsize=128)
def _arm_run(experiment, seed, index, arm, sizes):
    fn, arg = EXPERIMENTS[experiment]
    return on_digits(fn, **dict(sizes), **{arg: (arm,)}, rng=batch_generator(seed, experiment, index))


def shared_name(experiment: str) -> str:
    """The name of the shared experiment of ``experiment`` (see :func:`digits_shared`).

    >>> shared_name("skip")
    'digits.skip'
    """
    return f"digits.{experiment}"


def digits_shared(experiment: str, readers: dict) -> str:
    """Register ``experiment`` as the shared experiment :func:`shared_name` ``(experiment)``: one work
    unit ``"batch{k}-{arm}"`` per batch ``k`` and arm its claims compare.

    ``readers`` maps a claim id to ``(arms, keys)``: the claim compares ``arms`` with the sizes
    ``{key: settings[key] for key in keys}`` of its settings in the run's mode, in ``settings["batch"]``
    runs per batch up to ``settings["batches"]`` batches (read when the plan is asked for, so after
    the claims are registered). Claims that read the same arm must give it the same sizes. Returns
    the name (for the claims' ``shares=``).
    """
    name = shared_name(experiment)

    def plan(mode: str) -> dict:
        out: dict = {}
        for cid, (arms, keys) in readers.items():
            st = CLAIMS[cid].settings_for(mode)
            sizes = tuple(sorted({**{k: st[k] for k in keys}, "runs": st["batch"]}.items()))
            for k in range(st["batches"]):
                for arm in arms:
                    u = f"batch{k}-{arm}"
                    if out.setdefault(u, (experiment, k, arm, sizes)) != (experiment, k, arm, sizes):
                        raise ArgumentValueError(f"claims reading {name} give arm {arm!r} different sizes")
        return out

    shared(name, plan=plan)(_shared_arm)
    return name


def _shared_arm(mode: str, seed: int, params):
    experiment, index, arm, sizes = params
    try:
        return arm_run(experiment, seed, index, arm, dict(sizes))
    except SkipClaim as exc:  # a value, not an exception: the runner computes shared units outside the claims
        return str(exc)


def _read_arm(ctx, experiment: str, index: int, arm: str, sizes: dict) -> rd.RealDataRun:
    """Arm ``arm`` of batch ``index``: the shared unit when the run's plan has it (with these sizes),
    else :func:`arm_run` (the same numbers)."""
    name = shared_name(experiment)
    if name in SHARED and ctx.mode in MODES:
        u = f"batch{int(index)}-{arm}"
        if SHARED[name].plan(ctx.mode).get(u) == (experiment, int(index), arm, tuple(sorted(sizes.items()))):
            value = compute_shared(name, u, ctx.mode, ctx.seed)
            if isinstance(value, str):
                raise SkipClaim(value)
            return value
    return arm_run(experiment, ctx.seed, index, arm, sizes)


def shared_run(experiment: str, seed: int, arms, sizes: dict, index: int = 0) -> rd.RealDataRun:
    """Batch ``index`` (default 0, the batch figures draw) of ``experiment`` with ``arms``, as one
    :class:`numerics.realdata.RealDataRun`: the same numbers the claims read."""
    runs = [arm_run(experiment, seed, index, a, sizes) for a in arms]
    out = rd.RealDataRun(runs[0].steps, {}, {}, {}, {}, {}, dict(runs[0].settings))
    for a, r in zip(arms, runs):
        for name in ("train_loss", "test_loss", "test_accuracy", "measures", "extra"):
            if a in getattr(r, name):
                getattr(out, name)[a] = getattr(r, name)[a]
    return out


def per_run(run: rd.RealDataRun, arm: str) -> dict:
    """Per-run summaries of one arm, each ``(R,)``: ``log_loss`` (mean of the log training loss over
    the checkpoints after the start: the area under the log-loss curve, lower = faster, not hinging
    on one time point), ``accuracy`` (test accuracy at the end), every measure averaged over the
    checkpoints after the start, and the arm's ``extra`` arrays."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = {"log_loss": np.log(run.train_loss[arm][:, 1:]).mean(axis=1),
               "accuracy": np.asarray(run.test_accuracy[arm][:, -1], dtype=float)}
    for name, val in run.measures.get(arm, {}).items():
        out[name] = val[:, 1:].mean(axis=1)
    for name, val in run.extra.get(arm, {}).items():
        out[name] = np.asarray(val, dtype=float)
    return out


def sequential_arms(ctx, experiment: str, sizes: dict, arms, evaluate, *, size: int, batches: int,
                    shared: str):
    """Sequential replication over batches of the shared runs of ``arms``.

    ``evaluate(samples)`` yields the checks; ``samples["arm|name"]`` holds :func:`per_run`'s
    ``name`` for every run so far. Returns ``(checks, samples)`` (the last look's samples).
    """
    ctx.share(shared)
    latest: dict = {}

    def batch(index, rng, n):  # the batches are the shared runs'; rng is not needed
        out = {}
        for arm in arms:
            for name, val in per_run(_read_arm(ctx, experiment, index, arm, {**sizes, "runs": n}), arm).items():
                out[f"{arm}|{name}"] = val
        return out

    def remember(s):
        latest["s"] = s
        return evaluate(s)

    checks = replicate(ctx, batch, remember, size=size, batches=batches)
    return checks, latest["s"]


# the shared experiments of the digits claims (the claims declare ``shares=(shared_name(experiment),)``)
_SKIP_KEYS = ("depth", "width", "steps", "checkpoints")
digits_shared("skip", {"singularities.plain-vs-residual-digits": (("plain", "residual"), _SKIP_KEYS),
                       "singularities.symmetry-breaking-is-the-mechanism-digits": (("residual", "symmetric-skip"),
                                                                                   _SKIP_KEYS)})
digits_shared("isometry", {"isometry.trains-faster-digits": (
    ("orthogonal", "gaussian"), ("depth", "width", "steps", "eval_every", "lr", "q_star", "threshold"))})
digits_shared("normalization", {"pathologies.normalization-digits": (
    ("none", "batch", "layer", "divisive"), ("depth", "width", "steps", "checkpoints", "probe"))})
