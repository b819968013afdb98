"""The run report: JSON (written atomically, claim by claim), Markdown, and the terminal table."""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from importlib import metadata
from typing import Iterable

from .runner import ClaimResult

__all__ = ["version", "versions", "Report", "write_atomic", "markdown", "table"]


def version() -> str:
    """The installed toolkit version."""
    try:
        return metadata.version("degeneracy")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


def versions() -> dict:
    """Versions of the toolkit, Python and the numerical stack (recorded in every report)."""
    out = {"degeneracy": version(), "python": platform.python_version()}
    for pkg in ("numpy", "scipy", "sympy", "mpmath"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def write_atomic(path: str, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically.

    The data goes to a temporary ``.tmp-*.part`` file in the same folder, is flushed and
    fsynced, then renamed over ``path``: a reader sees the old file or the new one, never a
    partial one, and an interrupted write leaves only a ``.part`` file that nothing reads.
    """
    folder = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(folder, exist_ok=True)
    blob = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Report:
    """Accumulates claim results; renders the JSON report (schema in the README).

    ``{"tool", "version", "seed", "mode", "alpha", "claims": [...]}`` plus ``versions`` and
    ``thresholds`` (how alpha was split), which every report records.
    """

    def __init__(self, *, seed: int, mode: str, alpha: float, claim_alpha: float, path: str | None = None):
        self.seed, self.mode, self.alpha, self.claim_alpha = seed, mode, alpha, claim_alpha
        self.path = path
        self.results: list[ClaimResult] = []

    def add(self, result: ClaimResult) -> None:
        """Add a result and, when a path was given, rewrite the JSON file atomically."""
        self.results.append(result)
        if self.path:
            write_atomic(self.path, self.to_json())

    def as_dict(self, order: Iterable[str] | None = None) -> dict:
        results = self.results
        if order is not None:
            idx = {cid: i for i, cid in enumerate(order)}
            results = sorted(results, key=lambda r: idx.get(r.id, len(idx)))
        return {
            "tool": "degeneracy",
            "version": version(),
            "seed": self.seed,
            "mode": self.mode,
            "alpha": self.alpha,
            "claims": [r.as_dict() for r in results],
            "versions": versions(),
            "thresholds": {
                "rule": "Sidak split of alpha over all registered claims, then over each claim's statistical checks",
                "per_claim_alpha": self.claim_alpha,
            },
        }

    def to_json(self, order: Iterable[str] | None = None) -> str:
        return json.dumps(self.as_dict(order), indent=2, allow_nan=False) + "\n"


def _num(x) -> str:
    if x is None:
        return "-"
    x = float(x)
    if math.isinf(x) or abs(x) >= 1e100:
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}"


def margin(c) -> float:
    """How close a check came to the other verdict: <= 1 passes, > 1 fails, whatever its rule.

    ``|z|/threshold`` for agreement and tolerance checks, ``z/threshold`` for bounds,
    ``threshold/z`` for effect checks (an effect passes when z exceeds the threshold).
    """
    if c.test in ("agreement", "tolerance"):
        return abs(c.z) / c.threshold if c.threshold else 0.0
    if c.test == "bound":
        return max(c.z, 0.0) / c.threshold
    if c.test == "effect":
        return c.threshold / c.z if c.z > 0 else math.inf
    return 0.0 if c.passed else math.inf


def _worst(r: ClaimResult) -> str:
    stat = [c for c in r.checks if c.test not in ("exact", "proof")]
    if not stat:
        return "exact" if r.checks else "-"
    w = max(margin(c) for c in stat)
    return "inf" if math.isinf(w) else f"{w:.2f}"


def table(results: Iterable[ClaimResult]) -> str:
    """A readable plain-text table: id, kind, verdict, checks passed, worst margin, seconds.

    The margin is the worst check's distance to the other verdict (:func:`margin`): at most 1
    when every check passed.
    """
    rows = [("claim", "kind", "verdict", "checks", "margin", "seconds")]
    for r in results:
        npass = sum(bool(c.passed) for c in r.checks)
        verdict = r.verdict if not (r.verdict == "fail" and r.kind == "empirical") else "not reproduced"
        rows.append((r.id, r.kind, verdict, f"{npass}/{len(r.checks)}", _worst(r), f"{r.seconds:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for j, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    for r in results:
        if r.message:
            lines.append(f"  {r.id}: {r.message.splitlines()[0]}")
        failed = [c for c in r.checks if not c.passed]
        for c in failed[:5]:
            lines.append(f"  {r.id}: check {c.name!r} failed: theory {_num(c.theory)}, estimate {_num(c.estimate)}"
                         f" +- {_num(c.stderr)}, z {_num(c.z)} vs threshold {_num(c.threshold)}")
        for note in r.notes:
            lines.append(f"  {r.id}: {note}")
    return "\n".join(lines)


def markdown(report: Report) -> str:
    """The report as Markdown: a summary table and every check."""
    d = report.as_dict()
    out = ["# degeneracy report", "",
           f"version {d['version']}, seed {d['seed']}, mode {d['mode']}, family-wise alpha {d['alpha']}"
           f" (per claim {report.claim_alpha:.3g})", "",
           "| claim | kind | verdict | checks | seconds |", "|---|---|---|---|---|"]
    for r in report.results:
        npass = sum(bool(c.passed) for c in r.checks)
        out.append(f"| `{r.id}` | {r.kind} | {r.verdict} | {npass}/{len(r.checks)} | {r.seconds:.1f} |")
    for r in report.results:
        out += ["", f"## `{r.id}`: {r.verdict}", "", r.title, "", f"Source: {r.source}", ""]
        if r.message:
            out += [f"Message: {r.message}", ""]
        for note in r.notes:
            out += [f"- {note}"]
        if r.checks:
            out += ["| check | theory | estimate | stderr | z | threshold | resolution | passed |",
                    "|---|---|---|---|---|---|---|---|"]
            for c in r.checks:
                out.append(f"| {c.name} | {_num(c.theory)} | {_num(c.estimate)} | {_num(c.stderr)} | {_num(c.z)}"
                           f" | {_num(c.threshold)} | {_num(c.resolution)} | {'yes' if c.passed else 'no'} |")
    return "\n".join(out) + "\n"
