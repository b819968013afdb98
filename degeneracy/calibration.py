"""Calibration: the error rates of the verdicts, measured by running the claims over many seeds.

A verdict is worth exactly as much as its error rates. ``degeneracy calibrate --seeds N`` runs the
selected claims at the run seeds ``0 .. N-1`` (each (claim, seed) pair is one work unit, so
``--workers`` and ``--dask`` work as for ``verify``, and the numbers do not depend on them) and
reports:

* for every identity, finite-n and asymptotic claim: how often it failed (its **false alarms**:
  the claims are true, so every failure is one), against its declared share of the family-wise
  rate, with a Clopper-Pearson 95% interval and the one-sided binomial p-value
  (:func:`scipy.stats.binomtest`) of "the rate is at most the declared alpha"; the same per
  check (a tolerance, exact or proof check on random outcomes declares alpha 0, so a single
  failure is significant). ``excess`` marks p < 0.01;
* for every such check with a relative prediction, how often it would have failed a realistic
  mistake of its theory value (its ``target``, 5% unless the check states another):
  the check-level negative control, re-evaluated from the check's own numbers
  (:meth:`degeneracy.numerics.stats.Check.detects`);
* for every empirical claim: the distribution of its verdicts and of each check's outcome
  (supported / contradicted / inconclusive), and the runs its sequential replication used;
* the wall time per claim;
* a **null-effect simulation** of the sequential rule (:func:`null_simulation`): a synthetic
  empirical claim with no effect, run through the same :func:`degeneracy.proofs.replication.replicate`
  and :meth:`Check.finalize` as the real claims at an informative level (alpha 0.05), whose
  rates of "supported" and "contradicted" must stay below alpha / 2 each; and its power against
  a real effect.

The JSON (``--json``) is part of the report schema (README, "Calibration").

Examples
--------
>>> sim = null_simulation(200, alpha=0.05, seed=1)
>>> sim["null"]["supported"]["count"] <= 10 and sim["null"]["contradicted"]["count"] <= 10
True
"""

from __future__ import annotations

import math
from collections import Counter
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from scipy import stats as sps

from degeneracy.execution import ClaimUnit, run_units
from degeneracy.numerics import stats
from degeneracy.proofs.context import make_context
from degeneracy.proofs.registry import Claim
from degeneracy.proofs.replication import replicate
from degeneracy.proofs.report import version, versions
from degeneracy.proofs.runner import DEFAULT_ALPHA, ClaimResult, check_run_arguments, claim_alpha
from degeneracy.validation import check_int, check_real

__all__ = ["SeedUnit", "EXCESS_P", "run_calibration", "summarize", "null_simulation", "format_calibration"]

#: a false-alarm count is flagged when the binomial p-value of "rate <= declared alpha" is below this
EXCESS_P = 0.01


@dataclass(frozen=True)
class SeedUnit(ClaimUnit):
    """One claim at one run seed: the calibration's work unit (id ``claim@seed``)."""

    @property
    def id(self) -> str:
        return f"{self.claim_id}@{self.seed}"


def _rate(k: int, n: int, alpha: float) -> dict:
    """Count, rate, Clopper-Pearson 95% interval and the p-value of "rate <= alpha"."""
    if n == 0:
        return {"count": k, "of": n, "rate": 0.0, "ci": [0.0, 1.0], "p_value": 1.0, "excess": False}
    ci = sps.binomtest(k, n).proportion_ci(0.95, method="exact")
    if alpha <= 0:
        p = 0.0 if k else 1.0
    else:
        p = float(sps.binomtest(k, n, alpha, alternative="greater").pvalue)
    return {"count": int(k), "of": int(n), "rate": k / n, "ci": [float(ci.low), float(ci.high)], "p_value": p,
            "excess": bool(p < EXCESS_P)}


def run_calibration(claims: Iterable[Claim], seeds: int, mode: str = "quick", *, alpha: float = DEFAULT_ALPHA,
                    workers: int = 1, executor: Executor | None = None,
                    on_result: Callable[[SeedUnit, ClaimResult], None] | None = None, first_seed: int = 0) -> dict:
    """Run every claim at run seeds ``first_seed .. first_seed + seeds - 1``; returns
    ``{(claim id, seed): ClaimResult}``.

    The units are ordered seed by seed (claims that share an experiment then find it in their
    worker's cache), and run like ``verify``'s (:func:`degeneracy.execution.run_units`).
    """
    seeds = check_int("seeds", seeds, minimum=1)
    first_seed = check_int("first_seed", first_seed, minimum=0)
    mode, _, alpha = check_run_arguments(mode, 0, alpha)
    claims = list(claims)
    units = [SeedUnit(c.id, mode, s, alpha) for s in range(first_seed, first_seed + seeds) for c in claims]
    results = run_units(units, workers=workers, executor=executor, on_result=on_result)
    return {(u.claim_id, u.seed): r for u, r in zip(units, results)}


def summarize(results: dict, claims: Iterable[Claim], *, seeds: int, mode: str, alpha: float,
              seconds: float | None = None, null: dict | None = None) -> dict:
    """The calibration report (the JSON schema of the README's "Calibration" section)."""
    out_claims = []
    for c in claims:
        seeded = [(s, r) for (cid, s), r in sorted(results.items(), key=lambda kv: kv[0][1]) if cid == c.id]
        runs = [r for _, r in seeded]
        verdicts = Counter(r.verdict for r in runs)
        secs = [r.seconds for r in runs]
        entry = {"id": c.id, "kind": c.kind, "seeds": len(runs),
                 "verdicts": dict(sorted(verdicts.items())),
                 "seconds": {"mean": float(np.mean(secs)) if secs else 0.0,
                             "max": float(np.max(secs)) if secs else 0.0},
                 "shared": next((r.shared for r in runs if r.shared), ""),
                 "errors": [f"seed {s}: {(r.message.splitlines() or [''])[0]}" for s, r in seeded if r.verdict == "error"]}
        by_name: dict[str, list] = {}
        for r in runs:
            for ch in r.checks:
                by_name.setdefault(ch.name, []).append(ch)
        checks = []
        if c.kind == "empirical":
            rep = [r.replication["runs"] for r in runs if r.replication]
            if rep:
                entry["replication"] = {"runs_mean": float(np.mean(rep)), "runs_min": int(min(rep)),
                                        "runs_max": int(max(rep)),
                                        "budget": int(next(r.replication["budget"] for r in runs if r.replication))}
            for name, chs in by_name.items():
                outcomes = Counter(ch.outcome or ("supported" if ch.passed else "contradicted") for ch in chs)
                checks.append({"name": name, "type": chs[0].test, "evaluations": len(chs),
                               "outcomes": dict(sorted(outcomes.items())),
                               "looks_mean": float(np.mean([ch.look or 1 for ch in chs]))})
        else:
            a_claim = claim_alpha(alpha)
            entry["false_alarms"] = {**_rate(sum(r.verdict in ("fail", "error") for r in runs), len(runs), a_claim),
                                     "alpha": a_claim}
            for name, chs in by_name.items():
                a = float(np.max([ch.alpha or 0.0 for ch in chs])) if chs[0].statistical else 0.0
                k = sum(not ch.passed for ch in chs)
                item = {"name": name, "type": chs[0].test, "evaluations": len(chs), "failures": int(k),
                        "alpha": a, **{key: v for key, v in _rate(k, len(chs), a).items() if key not in ("count", "of")}}
                det = [ch.detects() for ch in chs]
                if any(d is not None for d in det):
                    item["target"] = float(chs[0].target)
                    item["detects_target"] = int(sum(bool(d) for d in det))
                    if chs[0].target_reason:
                        item["target_reason"] = chs[0].target_reason
                res = [ch.resolution for ch in chs if ch.test == "agreement" and ch.theory != 0]
                if res:
                    item["resolution_median"] = float(np.median(res))
                checks.append(item)
        entry["checks"] = checks
        out_claims.append(entry)
    return {"tool": "degeneracy", "command": "calibrate", "version": version(), "mode": mode,
            "seeds": sorted({s for _, s in results}), "alpha": alpha, "per_claim_alpha": claim_alpha(alpha),
            "excess_p": EXCESS_P, "seconds": None if seconds is None else round(float(seconds), 3),
            "claims": out_claims, "null_simulation": null, "versions": versions()}


# ---------------------------------------------------------------- null-effect simulation

def null_simulation(simulations: int = 2000, *, alpha: float = 0.05, size: int = 16, batches: int = 4,
                    effect: float = 0.5, seed: int = 0, spending: str = "obrien-fleming") -> dict:
    """Error rates and power of the sequential three-way rule on a synthetic empirical claim.

    Each simulation is one claim with two checks, run through
    :func:`degeneracy.proofs.replication.replicate` (batches of ``size`` runs, at most
    ``batches``) and finalized three-way at the claim's level ``alpha`` (Sidak over the two
    checks): a Welch comparison of two independent normal samples and a paired comparison on
    heavy-tailed (Student-t, 3 degrees of freedom) differences. Under ``"null"`` both have no
    effect: the rates of ``supported`` and ``contradicted`` must each be at most
    ``alpha_check / 2`` (the declared rate). Under ``"effect"`` the true effect is ``effect``
    standard deviations in the claimed direction: the report gives the rate of ``supported``
    (power), of ``contradicted`` (must stay below ``alpha_check / 2``) and the mean runs used.

    Returns a dict with ``"null"`` and ``"effect"`` entries (per outcome: count, rate, 95% CI,
    p-value against the declared rate, ``excess``), the declared per-check rate and the settings.
    """
    simulations = check_int("simulations", simulations, minimum=1)
    alpha = check_real("alpha", alpha, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    a_check = stats.sidak(alpha, 2)
    out = {"simulations": simulations, "alpha": alpha, "per_check_alpha": a_check, "declared_per_direction": a_check / 2,
           "size": size, "batches": batches, "effect_sd": effect, "spending": spending}
    for scenario, mu in (("null", 0.0), ("effect", effect)):
        counts = Counter()
        runs = []
        for i in range(simulations):
            ctx = make_context("calibration.null-simulation", seed=seed + i, mode="quick", kind="empirical", alpha=alpha)

            def batch(index, rng, n, mu=mu):
                return {"a": rng.normal(mu, 1.0, n), "b": rng.normal(0.0, 1.0, n),
                        "d": mu + rng.standard_t(3, n) / math.sqrt(3.0)}

            def evaluate(s):
                yield stats.difference_check("welch", s["a"], s["b"], "greater")
                yield stats.exceeds_check("paired", s["d"], 0.0, "greater")

            for ch in replicate(ctx, batch, evaluate, size=size, batches=batches, spending=spending):
                ch.finalize(a_check, three_way=True)
                counts[ch.outcome] += 1
            runs.append(ctx.replication["runs"])
        n = 2 * simulations
        out[scenario] = {k: {key: v for key, v in _rate(counts[k], n, a_check / 2 if k != "inconclusive" else 1.0).items()}
                         for k in ("supported", "contradicted", "inconclusive")}
        out[scenario]["runs_mean"] = float(np.mean(runs))
        out[scenario]["checks"] = n
    # under no effect, "supported" and "contradicted" are both errors; with the effect only "contradicted"
    out["null"]["inconclusive"]["excess"] = False
    out["effect"]["supported"]["excess"] = False
    out["effect"]["inconclusive"]["excess"] = False
    return out


# ---------------------------------------------------------------- text

def _pct(x: float) -> str:
    return f"{100 * x:.2g}%"


def format_calibration(report: dict) -> str:
    """The calibration report as text: one row per claim, then the checks that alarm more than their
    alpha allows, the empirical outcome distributions and the null-effect simulation."""
    rows = [("claim", "kind", "seeds", "verdicts", "false alarms (95% CI)", "declared", "seconds mean/max")]
    lines = []
    for c in report["claims"]:
        verdicts = ", ".join(f"{n} {v}" for v, n in c["verdicts"].items())
        if "false_alarms" in c:
            fa = c["false_alarms"]
            alarms = f"{fa['count']} ({_pct(fa['ci'][0])}-{_pct(fa['ci'][1])})" + (" EXCESS" if fa["excess"] else "")
            declared = f"{fa['alpha']:.2g}"
        else:
            alarms, declared = "-", "-"
        secs = f"{c['seconds']['mean']:.1f}/{c['seconds']['max']:.1f}" + (" shared" if c.get("shared") else "")
        rows.append((c["id"], c["kind"], str(c["seeds"]), verdicts, alarms, declared, secs))
        for err in c["errors"][:3]:
            lines.append(f"  {c['id']}: error at {err}")
        for ch in c["checks"]:
            if "failures" in ch and ch["failures"]:
                lines.append(f"  {c['id']}: check {ch['name']!r} ({ch['type']}) failed {ch['failures']} of "
                             f"{ch['evaluations']} (CI {_pct(ch['ci'][0])}-{_pct(ch['ci'][1])}) against alpha "
                             f"{ch['alpha']:.2g}, p = {ch['p_value']:.2g}" + (" EXCESS" if ch["excess"] else ""))
            if "detects_target" in ch and ch["detects_target"] < ch["evaluations"]:
                lines.append(f"  {c['id']}: check {ch['name']!r} detects a {_pct(ch['target'])} mistake in "
                             f"{ch['detects_target']} of {ch['evaluations']} seeds"
                             + (f" (median resolution {_pct(ch['resolution_median'])})" if "resolution_median" in ch
                                else ""))
            if "outcomes" in ch and len(ch["outcomes"]) > 1:
                lines.append(f"  {c['id']}: {ch['name']!r}: " + ", ".join(f"{n} {k}" for k, n in ch["outcomes"].items()))
        if "replication" in c:
            rp = c["replication"]
            lines.append(f"  {c['id']}: runs used {rp['runs_min']}-{rp['runs_max']} (mean {rp['runs_mean']:.0f}) "
                         f"of a budget of {rp['budget']}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    text.insert(1, "  ".join("-" * w for w in widths))
    text += lines
    sim = report.get("null_simulation")
    if sim:
        text.append(f"\nnull-effect simulation of the sequential rule ({sim['simulations']} claims x 2 checks, "
                    f"alpha {sim['alpha']}, declared {sim['declared_per_direction']:.3g} per direction, batches of "
                    f"{sim['size']} up to {sim['batches']}):")
        for sc in ("null", "effect"):
            d = sim[sc]
            parts = ", ".join(f"{k} {d[k]['count']} ({_pct(d[k]['rate'])}, CI {_pct(d[k]['ci'][0])}-{_pct(d[k]['ci'][1])})"
                              + (" EXCESS" if d[k]["excess"] else "") for k in ("supported", "contradicted", "inconclusive"))
            label = "no effect" if sc == "null" else f"effect {sim['effect_sd']} sd"
            text.append(f"  {label}: {parts}; mean runs {d['runs_mean']:.1f}")
    return "\n".join(text)
