"""Sequential replication: an empirical claim adds independent runs in batches until every one of
its statements is decided or its run budget is spent.

A fixed number of runs is either wasteful (an effect at z = 80 was clear after a quarter of
them) or too small (an effect at z = 6.8 against a threshold of 6.96 is "not detected"). A
group-sequential design looks after each batch and stops a statement as soon as its statistic
crosses an alpha-spending boundary (:mod:`degeneracy.numerics.spending`, O'Brien-Fleming by
default): the declared error rates hold whenever the run stops, because each look may spend
only its increment of the check's level.

The API (adopted by the ``fold.*`` and ``pathologies.*`` claims; any area can adopt it)::

    from degeneracy.proofs.replication import replicate

    @claim("area.name", kind="empirical", ..., settings={"batch": (16, 16, 10), "batches": (3, 4, 5)})
    def my_claim(ctx):
        def batch(index, rng, size):
            # ``size`` NEW independent runs per condition, drawn from ``rng`` (spawned from the run
            # seed, the claim id and ``index``: batch 2 is the same whatever the workers)
            return {"plain": measure(..., runs=size, rng=rng), "residual": measure(..., rng=rng)}

        def evaluate(samples):
            # ``samples``: every batch so far, concatenated along axis 0; yield the checks
            yield stats.paired_difference_check("loss: plain > residual", samples["plain"],
                                                samples["residual"], "greater")

        yield from replicate(ctx, batch, evaluate, size=ctx.settings["batch"],
                             batches=ctx.settings["batches"])

Rules:

* ``batch(index, rng, size)`` returns a dict of arrays whose first axis holds the runs (any
  number of trailing axes); every call must draw only from ``rng`` (or from
  ``ctx.spawn(..., index)``), so a batch never depends on an earlier one.
* ``evaluate(samples)`` yields the same check names at every look. Effect and bound checks are
  sequential: each concludes at the first look whose statistic crosses its boundary and is
  then frozen (later runs do not change it). Other checks are taken from the last look.
* The claim stops drawing when every sequential check has concluded (early where the evidence
  is clear), else after ``batches`` batches: the budget is ``size * batches`` runs per
  condition. The report records, per check, the look at which it concluded and the runs
  behind it, and per claim the runs used and the budget (``ClaimResult.replication``).
* The per-check level is the runner's: Sidak over the claim's statistical checks, ``others``
  counting the checks the claim yields outside :func:`replicate`. The boundaries are recomputed
  by :meth:`degeneracy.numerics.stats.Check.finalize` from the looks, so the verdict never
  rests on state the report does not show.

Examples
--------
>>> import numpy as np
>>> from degeneracy.numerics import stats
>>> from degeneracy.proofs.context import make_context
>>> ctx = make_context("toy.sequential", seed=0, mode="quick", kind="empirical", alpha=1e-3)
>>> def batch(index, rng, size):
...     return {"a": rng.normal(1.0, 1.0, size), "b": rng.normal(0.0, 1.0, size)}
>>> def evaluate(s):
...     yield stats.difference_check("a > b", s["a"], s["b"], "greater")
>>> (c,) = replicate(ctx, batch, evaluate, size=20, batches=4)
>>> c.finalize(ctx.alpha, three_way=True).outcome, c.look, ctx.replication["runs"]
('supported', 3, 60)
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.numerics.spending import SPENDING
from degeneracy.numerics.stats import Check, sidak
from degeneracy.validation import check_choice, check_int

__all__ = ["replicate"]


def _pool(pooled: dict | None, new, size: int) -> dict:
    if not isinstance(new, dict) or not new:
        raise ArgumentTypeError(f"batch() must return a non-empty dict of arrays, got {type(new).__name__}")
    out = {}
    for key, arr in new.items():
        arr = np.asarray(arr)
        if arr.ndim == 0 or arr.shape[0] != size:
            raise ArgumentValueError(f"batch() entry {key!r} must hold {size} runs along axis 0, got shape {arr.shape}")
        if pooled is not None and key not in pooled:
            raise ArgumentValueError(f"batch() returned a new key {key!r} after the first batch")
        out[key] = arr if pooled is None else np.concatenate([pooled[key], arr], axis=0)
    if pooled is not None and set(pooled) != set(out):
        raise ArgumentValueError(f"batch() keys changed between batches: {sorted(pooled)} -> {sorted(out)}")
    return out


def replicate(ctx, batch: Callable[[int, np.random.Generator, int], dict],
              evaluate: Callable[[dict], Iterable[Check]], *, size: int, batches: int, others: int = 0,
              spending: str = "obrien-fleming") -> list[Check]:
    """Run ``batch`` up to ``batches`` times and return the checks of ``evaluate`` (see the module docstring).

    Parameters
    ----------
    ctx : degeneracy.proofs.context.Context
        The claim's context (its stream, its share ``ctx.alpha`` of the family-wise rate, its kind).
    batch : callable ``(index, rng, size) -> dict of arrays``
        ``size`` new independent runs (first axis) per condition.
    evaluate : callable ``(samples) -> iterable of Check``
        The claim's checks on all runs so far.
    size, batches : int
        Runs per batch and the most batches (the budget is ``size * batches`` runs).
    others : int
        Statistical checks the claim yields besides these (for the Sidak split).
    spending : {"obrien-fleming", "pocock"}

    Returns
    -------
    list of Check
        Not finalized (the runner does it); each sequential check carries its ``looks``.
    """
    size = check_int("size", size, minimum=2)
    batches = check_int("batches", batches, minimum=1)
    others = check_int("others", others, minimum=0)
    spending = check_choice("spending", spending, SPENDING)
    budget = size * batches
    three_way = getattr(ctx, "kind", "empirical") == "empirical"
    pooled: dict | None = None
    history: dict[str, list] = {}
    last: dict[str, Check] = {}
    order: list[str] = []
    concluded: set[str] = set()
    looks = 0
    for k in range(batches):
        pooled = _pool(pooled, batch(k, ctx.spawn("replicate", f"batch{k}"), size), size)
        looks = k + 1
        n = looks * size
        checks = list(evaluate(pooled))
        names = [c.name for c in checks]
        if len(set(names)) != len(names):
            raise ArgumentValueError("evaluate() must yield checks with distinct names")
        if k == 0:
            order = names
        elif names != order:
            raise ArgumentValueError("evaluate() must yield the same checks at every look")
        m = sum(c.statistical for c in checks) + others
        a_check = sidak(ctx.alpha, max(m, 1))
        for c in checks:
            if c.name in concluded:
                continue
            last[c.name] = c
            if not c.directional:
                continue
            history.setdefault(c.name, []).append({
                "n": n, "runs": c.runs if c.runs is not None else n, "z": float(c.z), "df": float(c.df),
                "estimate": float(c.estimate), "stderr": float(c.stderr), "extra": dict(c.extra)})
            trial = c.copy(looks=[dict(lk) for lk in history[c.name]], budget=budget, spending=spending)
            trial.finalize(a_check, three_way=three_way)
            if trial.look == looks and (trial.outcome in ("supported", "contradicted") or
                                        (not three_way and trial.passed)):
                concluded.add(c.name)
        ctx.progress(looks / batches)
        if all(c.name in concluded for c in last.values() if c.directional):
            break
    out = []
    for name in order:
        c = last[name]
        if c.directional:
            c.looks, c.budget, c.spending = history[name], budget, spending
        out.append(c)
    ctx.replication = {"runs": looks * size, "budget": budget, "looks": looks, "batch": size, "spending": spending}
    return out
