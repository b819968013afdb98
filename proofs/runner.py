"""Run claims and turn their checks into verdicts.

The family-wise false-alarm rate ``alpha`` (default 1e-3) is split in two Sidak steps:
over **all registered claims** (so a claim's threshold does not depend on which claims a run
selects with ``--only``), then over the statistical checks of each claim. Exact, proof and
tolerance checks take no share.

Verdicts of identity, finite-n and asymptotic claims: ``pass`` (every check passed), ``fail``
(a check failed). Empirical claims get three-way verdicts (:func:`empirical_verdict`):
``supported``, ``contradicted`` or ``inconclusive``, summarizing the outcomes of their checks
(one check per statement and setting). Any claim: ``error`` (the claim raised, or produced no
checks), ``skipped`` (the claim raised :class:`SkipClaim`).

A claim split into work units (``units=`` / ``unit=`` in :func:`~degeneracy.proofs.registry.claim`)
runs as :func:`run_unit` per unit (anywhere, in any order) and one combining call
``run_claim(..., parts=...)`` (in the parent, in unit-key order); ``run_claim`` without ``parts``
computes the units inline, in unit-key order, with the same numbers.

Examples
--------
>>> r = run_claim("products.orthogonal-isometry", mode="quick", seed=0)
>>> r.verdict
'pass'
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Iterable

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, DegeneracyError, SkipClaim
from degeneracy.numerics.stats import Check, sidak
from degeneracy.validation import check_int, check_real

from .context import DEFAULT_ALPHA, MODES, make_context
from .registry import CLAIMS, Claim, get_claim, load_all

__all__ = ["DEFAULT_ALPHA", "VERDICTS", "ClaimResult", "UnitResult", "check_run_arguments", "claim_alpha",
           "empirical_verdict", "plan_units", "run_claim", "run_unit", "exit_code"]

#: every claim verdict: pass / fail (identity, finite-n, asymptotic), supported / contradicted /
#: inconclusive (empirical), error and skipped (any kind)
VERDICTS = ("pass", "fail", "supported", "contradicted", "inconclusive", "error", "skipped")


@dataclass
class ClaimResult:
    """The outcome of one claim."""

    id: str
    title: str
    kind: str
    source: str
    verdict: str
    seconds: float
    checks: list = field(default_factory=list)
    message: str = ""
    notes: list = field(default_factory=list)
    #: True when taken from the result cache (``--resume``); not part of the report
    cached: bool = field(default=False, compare=False)
    #: e.g. "supported in 2 of 3 checks, inconclusive in 1" (see :func:`empirical_verdict`)
    summary: str = ""
    #: runs used and budget of a sequentially replicated claim (``proofs.replication``)
    replication: dict | None = None
    #: the experiment this claim shares with other claims ("" when none)
    shared: str = ""
    #: wall seconds of each work unit of a split claim (and of its ``combine`` step); {} when the
    #: claim is one unit. Timings only: not part of the report's numbers
    unit_seconds: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        d = {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "source": self.source,
            "verdict": self.verdict,
            "summary": self.summary,
            "seconds": round(float(self.seconds), 3),
            "checks": [c.as_dict() for c in self.checks],
            "notes": list(self.notes),
        }
        if self.unit_seconds:
            d["units"] = len(self.unit_seconds) - ("combine" in self.unit_seconds)
        if self.shared:
            d["shared"] = self.shared
        if self.replication:
            d["replication"] = dict(self.replication)
        if self.message:
            d["message"] = self.message
        return d

    @property
    def worst(self) -> float:
        """Largest ``|z| / threshold`` among statistical checks (0 when none)."""
        vals = [abs(c.z) / c.threshold for c in self.checks if c.statistical and c.threshold]
        return max(vals) if vals else 0.0


def claim_alpha(alpha: float = DEFAULT_ALPHA) -> float:
    """Each claim's share of the family-wise rate: Sidak over all registered claims."""
    load_all()
    return sidak(alpha, max(len(CLAIMS), 1))


def check_run_arguments(mode: str, seed: int, alpha: float) -> tuple[str, int, float]:
    """Validate a run's ``mode``, ``seed`` and ``alpha``; returns them normalized."""
    if mode not in MODES:
        raise ArgumentValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    seed = check_int("seed", seed, minimum=0)
    alpha = check_real("alpha", alpha, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    return mode, seed, alpha


def empirical_verdict(checks) -> tuple[str, str]:
    """The verdict of an empirical claim from its finalized (three-way) checks, and its summary.

    Rule: ``contradicted`` when at least one check is contradicted (the statement as made, for
    at least one of its parts or settings, points the wrong way); ``supported`` when every
    check is supported; ``inconclusive`` otherwise (nothing contradicted, something not
    detected). A non-directional check (agreement with a printed number, an exact check)
    counts as supported when it passes and contradicted when it fails.

    >>> from degeneracy.numerics.stats import difference_check
    >>> a = difference_check("x", [2.0, 2.1, 1.9, 2.05], [0.0, 0.1, -0.1, 0.02]).finalize(0.01, three_way=True)
    >>> b = difference_check("y", [0.0, 0.1, -0.1, 0.02], [0.01, 0.12, -0.08, 0.0]).finalize(0.01, three_way=True)
    >>> empirical_verdict([a, b])
    ('inconclusive', 'supported in 1 of 2 checks, inconclusive in 1')
    """
    counts = {"supported": 0, "contradicted": 0, "inconclusive": 0}
    for ch in checks:
        if ch.outcome is not None:
            counts[ch.outcome] += 1
        else:
            counts["supported" if ch.passed else "contradicted"] += 1
    n = sum(counts.values())
    if counts["contradicted"]:
        verdict = "contradicted"
    elif counts["supported"] == n:
        verdict = "supported"
    else:
        verdict = "inconclusive"
    parts = [f"{k} in {v}" for k, v in counts.items() if v]
    parts[0] += f" of {n} check{'s' * (n != 1)}"
    return verdict, ", ".join(parts)


@dataclass
class UnitResult:
    """The partial result of one work unit of a split claim (see :func:`run_unit`)."""

    claim_id: str
    unit: str
    value: object = None
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    #: "" when the unit finished; else ``"error: ..."`` or ``"skipped: ..."``
    failure: str = ""
    shared: str = ""

    @property
    def id(self) -> str:
        return f"{self.claim_id}/{self.unit}"

    def as_dict(self) -> dict:
        """The unit's identity, wall time and outcome (its value is the claim's business)."""
        return {"id": self.id, "seconds": round(float(self.seconds), 3), "failure": self.failure,
                "notes": list(self.notes)}


def _unit_context(c: Claim, mode: str, seed: int, control: bool, alpha: float, unit: str = ""):
    return make_context(c.id, seed=seed, mode=mode, settings=c.settings_for(mode), control=control,
                        alpha=claim_alpha(alpha), kind=c.kind, unit=unit)


def plan_units(claim: str | Claim, mode: str = "quick", seed: int = 0, *, control: bool = False,
               alpha: float = DEFAULT_ALPHA) -> dict:
    """``{unit name: parameters}`` of a split claim in unit-key order; ``{}`` for a claim that is
    one unit.

    >>> list(plan_units("products.fuss-catalan-law", "quick"))[:2]
    ['L1-n16', 'L1-n32']
    """
    c = get_claim(claim) if isinstance(claim, str) else claim
    if c.units is None:
        return {}
    plan = c.units(_unit_context(c, mode, seed, control, alpha))
    if not isinstance(plan, dict) or not plan or not all(isinstance(k, str) and k for k in plan):
        raise ArgumentTypeError(f"claim {c.id}: units(ctx) must return a non-empty dict keyed by unit names")
    return dict(plan)


def run_unit(claim: str | Claim, unit: str, mode: str = "quick", seed: int = 0, *, control: bool = False,
             alpha: float = DEFAULT_ALPHA) -> UnitResult:
    """Compute work unit ``unit`` of a split claim (one BLAS thread); a unit that raises is
    returned as a failure (the claim then reports ``error``, or ``skipped`` for :class:`SkipClaim`)."""
    from threadpoolctl import threadpool_limits

    c = get_claim(claim) if isinstance(claim, str) else claim
    ctx = _unit_context(c, mode, seed, control, alpha, unit)
    t0 = time.perf_counter()
    out = UnitResult(c.id, unit)
    try:
        params = plan_units(c, mode, seed, control=control, alpha=alpha)
        if unit not in params:
            raise ArgumentValueError(f"claim {c.id} has no work unit {unit!r}")
        with threadpool_limits(limits=1):
            out.value = c.unit(ctx, params[unit])
    except SkipClaim as exc:
        out.failure = f"skipped: {exc}"
    except Exception as exc:
        out.failure = f"error: {type(exc).__name__}: {exc}"
        if os.environ.get("DEGENERACY_TRACEBACK"):
            out.failure += "\n" + traceback.format_exc()
    out.seconds = time.perf_counter() - t0
    out.notes, out.shared = list(ctx.notes), ctx.shared
    return out


def run_claim(claim: str | Claim, mode: str = "quick", seed: int = 0, *, control: bool = False,
              alpha: float = DEFAULT_ALPHA, progress: Callable[[float], None] | None = None,
              parts: dict | None = None) -> ClaimResult:
    """Run one claim and return its :class:`ClaimResult`.

    Parameters
    ----------
    claim : str or Claim
        The claim id (or object).
    mode : {"quick", "default", "full"}
    seed : int
        The run seed; the claim's stream is spawned from it by the claim id.
    control : bool
        Run the negative control (the claim's deliberately wrong prediction). The tests
        require the verdict to be ``fail`` then.
    alpha : float
        The run's family-wise false-alarm rate.
    parts : dict, optional
        For a split claim: ``{unit name: UnitResult}`` computed elsewhere (:func:`run_unit`);
        without it the units are computed here, in unit-key order. The result's ``seconds``
        is then the sum of the units' and the combining step's.
    """
    mode, seed, alpha = check_run_arguments(mode, seed, alpha)
    if isinstance(claim, str):
        c = get_claim(claim)
    elif isinstance(claim, Claim):
        c = claim
    else:
        raise ArgumentTypeError(f"claim must be a claim id (str) or a Claim, got {type(claim).__name__}")
    a_claim = claim_alpha(alpha)
    ctx = make_context(c.id, seed=seed, mode=mode, settings=c.settings_for(mode), control=control, alpha=a_claim,
                       kind=c.kind)
    if progress is not None:
        ctx.progress = progress
    t0 = time.perf_counter()
    checks: list[Check] = []
    verdict, message = "pass", ""
    unit_seconds: dict = {}
    before = 0.0
    try:
        from threadpoolctl import threadpool_limits

        if c.units is not None:
            plan = plan_units(c, mode, seed, control=control, alpha=alpha)
            given = parts or {}
            if parts is None:
                given = {u: run_unit(c, u, mode, seed, control=control, alpha=alpha) for u in plan}
                t0 = time.perf_counter()
            missing = [u for u in plan if u not in given]
            if missing:
                raise ArgumentValueError(f"claim {c.id}: missing work units {', '.join(missing)}")
            for u in plan:  # unit-key order, whatever order they arrived in
                p = given[u]
                unit_seconds[u] = p.seconds
                before += p.seconds
                ctx.notes.extend(p.notes)
                if p.shared and not ctx.shared:
                    ctx.share(p.shared)
            for u in plan:
                kind, _, text = given[u].failure.partition(": ")
                if kind == "skipped":
                    raise SkipClaim(text)
                if kind == "error":
                    raise _UnitFailed(f"unit {u}: {text}")
            ctx.parts = {u: given[u].value for u in plan}
        # one BLAS thread, as in every worker: on 2 cores a second thread gains little and
        # collapses when the other core is busy (docs/performance.md)
        with threadpool_limits(limits=1):
            out = c.fn(ctx)
            for item in out if out is not None else ():
                if not isinstance(item, Check):
                    raise ArgumentTypeError(f"claim {c.id} yielded {type(item).__name__}, expected numerics.stats.Check")
                checks.append(item)
        if not checks:
            verdict, message = "error", "the claim produced no checks"
    except SkipClaim as exc:
        verdict, message = "skipped", str(exc)
    except _UnitFailed as exc:
        verdict, message = "error", str(exc)
    except Exception as exc:  # a claim that raises is reported, never hidden
        verdict = "error"
        message = f"{type(exc).__name__}: {exc}"
        if os.environ.get("DEGENERACY_TRACEBACK"):
            message += "\n" + traceback.format_exc()
    seconds = time.perf_counter() - t0
    if c.units is not None:
        unit_seconds["combine"] = seconds
        seconds += before
    summary = ""
    if verdict == "pass":
        m = sum(ch.statistical for ch in checks)
        a_check = sidak(a_claim, m) if m else a_claim
        three_way = c.kind == "empirical"
        try:
            for ch in checks:
                ch.finalize(a_check, three_way=three_way)
                ch.as_dict()
        except Exception as exc:
            verdict, message = "error", f"{type(exc).__name__}: {exc}"
        else:
            if three_way:
                verdict, summary = empirical_verdict(checks)
            else:
                bad = sum(not ch.passed for ch in checks)
                verdict = "fail" if bad else "pass"
                summary = (f"{bad} of {len(checks)} checks failed" if bad
                           else f"{len(checks)} of {len(checks)} checks passed")
    keep = verdict not in ("error", "skipped")
    return ClaimResult(c.id, c.title, c.kind, c.source, verdict, seconds, checks if keep else [], message,
                       list(ctx.notes), summary=summary, replication=ctx.replication if keep else None,
                       shared=ctx.shared, unit_seconds=unit_seconds)


class _UnitFailed(DegeneracyError):
    """A work unit of the claim raised (its message is the claim's)."""


def exit_code(results: Iterable[ClaimResult], *, strict: bool = False) -> int:
    """0 when every identity / finite-n / asymptotic claim passed and none errored, else 1.

    An empirical claim that is contradicted or inconclusive is a finding, not a malfunction: it
    counts only with ``strict=True`` (every empirical claim must then be ``supported``).
    ``skipped`` never counts.
    """
    for r in results:
        if r.verdict == "error":
            return 1
        if r.verdict == "fail" and (r.kind != "empirical" or strict):
            return 1
        if strict and r.verdict in ("contradicted", "inconclusive"):
            return 1
    return 0

