"""The run report: JSON (written atomically, claim by claim), Markdown, and the terminal table.

The table's columns (the README documents the same words):

``claim``, ``kind``
    The claim id and its kind (identity, finite-n, asymptotic, empirical).
``verdict``
    ``pass`` / ``fail`` (identity, finite-n, asymptotic), ``supported`` / ``contradicted`` /
    ``inconclusive`` (empirical), ``error``, ``skipped``.
``checks``
    ``k/n``: how many of the claim's n checks passed (for an empirical claim: were supported).
``|z|/thr``
    The largest ``|z| / threshold`` over the claim's agreement, bound and tolerance checks (a
    bound counts only its deviation toward violation): at most 1 when they all passed, above 1
    when one failed. ``exact`` when the claim has only exact and proof checks; ``-`` for
    empirical claims, whose checks are decided by direction (see the lines under the table).
``resolution``
    The largest resolution among the claim's agreement checks, in percent: the smallest
    relative error of the prediction the check would have detected (threshold x stderr /
    |theory|); ``abs`` when the prediction is 0 (then the resolution is absolute, in the JSON).
``runs``
    For a sequentially replicated claim: runs used / run budget per condition; else ``-``.
``seconds``
    Wall time of the claim in its worker (of a claim split into work units: the sum of its units'
    and its combining step's). ``shared`` marks claims that read an experiment shared
    with other claims: its cost is counted in the claim that computed it first in that worker.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from importlib import metadata
from typing import Iterable

from degeneracy.errors import ArgumentValueError

from .runner import VERDICTS, ClaimResult

__all__ = ["version", "versions", "Report", "write_atomic", "markdown", "table", "summary_counts", "worst_ratio",
           "work_line", "FAILED_SHOWN"]

#: failed checks listed per claim under the table (the rest are counted: "and N more")
FAILED_SHOWN = 5


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically.

    The data goes to a temporary ``.tmp-*.part`` file in the same folder, is flushed and
    fsynced, then renamed over ``path``: a reader sees the old file or the new one, never a
    partial one, and an interrupted write leaves only a ``.part`` file that nothing reads. The
    file gets the mode an ordinary ``open(path, "w")`` would give (``0o666`` minus the umask),
    not the private ``0o600`` of a temporary file.

    A symbolic link is followed (its target is replaced, the link kept). A target that exists
    and is not a regular file (a device such as ``/dev/null``, a FIFO, a socket, a directory)
    raises :class:`~degeneracy.errors.ArgumentValueError`: renaming over it would replace a
    device node, which for root means replacing ``/dev/null`` with a file.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> write_atomic(os.path.join(d, "r.json"), "{}")
    >>> open(os.path.join(d, "r.json")).read()
    '{}'
    >>> write_atomic("/dev/null", "x")
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: path '/dev/null' exists and is not a regular file (a device, FIFO, socket or directory): write reports to a regular file
    """
    path = os.path.realpath(path)
    if os.path.exists(path) and not os.path.isfile(path):
        raise ArgumentValueError(f"path {path!r} exists and is not a regular file (a device, FIFO, socket or "
                                 "directory): write reports to a regular file")
    folder = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(folder, exist_ok=True)
    blob = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
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

    ``{"tool", "version", "seed", "mode", "alpha", "claims": [...]}`` plus ``summary`` (claims per
    verdict), ``versions`` and ``thresholds`` (how alpha was split), which every report records.
    When writing the file fails, the error is kept in :attr:`write_error` (the run goes on; the
    caller says what could not be written).
    """

    def __init__(self, *, seed: int, mode: str, alpha: float, claim_alpha: float, path: str | None = None):
        self.seed, self.mode, self.alpha, self.claim_alpha = seed, mode, alpha, claim_alpha
        self.path = path
        self.results: list[ClaimResult] = []
        self.write_error: str = ""
        #: the run's total work, longest unit and their ratio (``degeneracy.execution.work_summary``);
        #: wall times, like ``seconds``; {} until the run ends
        self.work: dict = {}

    def add(self, result: ClaimResult) -> None:
        """Add a result and, when a path was given, rewrite the JSON file atomically."""
        self.results.append(result)
        if self.path:
            self.write()

    def write(self, order: Iterable[str] | None = None) -> bool:
        """Write the JSON file (when a path was given); False (and :attr:`write_error`) if that failed."""
        if not self.path:
            return True
        try:
            write_atomic(self.path, self.to_json(order))
        except OSError as exc:
            self.write_error = f"{type(exc).__name__}: {exc.strerror or exc}"
            return False
        self.write_error = ""
        return True

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
            "summary": summary_counts(results),
            "claims": [r.as_dict() for r in results],
            **({"work": dict(self.work)} if self.work else {}),
            "versions": versions(),
            "thresholds": {
                "rule": "Sidak split of alpha over all registered claims, then over each claim's statistical checks; "
                        "Student-t quantiles where the replicas' degrees of freedom are known; effect and bound checks "
                        "of empirical claims test each direction at half the check's level, with alpha-spending "
                        "boundaries at each look of a sequentially replicated claim",
                "per_claim_alpha": self.claim_alpha,
            },
        }

    def to_json(self, order: Iterable[str] | None = None) -> str:
        return json.dumps(self.as_dict(order), indent=2, allow_nan=False) + "\n"


def summary_counts(results: Iterable[ClaimResult]) -> dict:
    """``{verdict: count}`` in the fixed order of :data:`proofs.runner.VERDICTS` (zeros left out)."""
    counts = {v: 0 for v in VERDICTS}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return {k: v for k, v in counts.items() if v}


def _num(x) -> str:
    if x is None:
        return "-"
    x = float(x)
    if math.isinf(x) or abs(x) >= 1e100:
        return ">1e100" if x > 0 else "<-1e100"
    return f"{x:.4g}"


def _ratio(c) -> float:
    """``|z| / threshold`` of an agreement or tolerance check; a bound's deviation toward violation."""
    if not c.threshold:
        return 0.0
    if c.test == "bound":
        toward = c.z if c.direction == "le" else -c.z
        return max(toward, 0.0) / c.threshold
    return abs(c.z) / c.threshold


def worst_ratio(r: ClaimResult) -> str:
    """The ``|z|/thr`` column of :func:`table` for one claim (see the module docstring)."""
    if r.kind == "empirical" or not r.checks:
        return "-"
    graded = [c for c in r.checks if c.test in ("agreement", "bound", "tolerance")]
    if not graded:
        return "exact"
    return f"{max(_ratio(c) for c in graded):.3g}"


def _resolution(r: ClaimResult) -> str:
    agree = [c for c in r.checks if c.test == "agreement" and c.resolution is not None]
    if r.kind == "empirical" or not agree:
        return "-"
    rel = [c.resolution for c in agree if c.theory != 0]
    if not rel:
        return "abs"
    w = max(rel)
    return f"{100 * w:.2g}%" if w < 10 else ">1000%"


def _runs(r: ClaimResult) -> str:
    rep = r.replication
    return f"{rep['runs']}/{rep['budget']}" if rep else "-"


def _seconds(r: ClaimResult) -> str:
    return f"{r.seconds:.1f}" + (" shared" if r.shared else "")


def _passed(r: ClaimResult) -> str:
    return f"{sum(bool(c.passed) for c in r.checks)}/{len(r.checks)}" if r.checks else "-"


def _check_line(c) -> str:
    if c.outcome is not None:
        lo, hi = c.ci if c.ci else (None, None)
        return (f"check {c.name!r} {c.outcome}: estimate {_num(c.estimate)} (null {_num(c.theory)}), "
                f"CI {_num(lo)} .. {_num(hi)}, smallest detectable {_num(c.detectable)}, "
                f"z {_num(c.z)} vs +-{_num(c.threshold)}"
                + (f", look {c.look} of {len(c.looks)}, {c.runs} runs" if c.looks else ""))
    return (f"check {c.name!r} failed: theory {_num(c.theory)}, estimate {_num(c.estimate)}"
            f" +- {_num(c.stderr)}, z {_num(c.z)} vs threshold {_num(c.threshold)}")


def _details(r: ClaimResult) -> list[str]:
    lines = []
    if r.message:
        lines.append(f"  {r.id}: {r.message.splitlines()[0]}")
    if r.kind == "empirical" and r.checks:
        extra = f"; {r.replication['runs']} of {r.replication['budget']} runs per condition" if r.replication else ""
        lines.append(f"  {r.id}: {r.summary}{extra}")
        shown = [c for c in r.checks if c.outcome in ("contradicted", "inconclusive") or not c.passed]
    else:
        shown = [c for c in r.checks if not c.passed]
    for c in shown[:FAILED_SHOWN]:
        lines.append(f"  {r.id}: {_check_line(c)}")
    if len(shown) > FAILED_SHOWN:
        what = "checks not supported" if r.kind == "empirical" else "failed checks"
        lines.append(f"  {r.id}: and {len(shown) - FAILED_SHOWN} more {what} (all are in --json and --markdown)")
    for note in r.notes:
        lines.append(f"  {r.id}: {note}")
    return lines


def table(results: Iterable[ClaimResult]) -> str:
    """A readable plain-text table (columns in the module docstring), then one line per finding:
    empirical summaries, failed or undecided checks (the first :data:`FAILED_SHOWN` of each claim,
    then "and N more"), messages and notes."""
    results = list(results)
    rows = [("claim", "kind", "verdict", "checks", "|z|/thr", "resolution", "runs", "seconds")]
    for r in results:
        rows.append((r.id, r.kind, r.verdict, _passed(r), worst_ratio(r), _resolution(r), _runs(r), _seconds(r)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for j, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    for r in results:
        lines += _details(r)
    if any(r.shared for r in results):
        lines.append("  (shared: the claim reads an experiment shared with other claims; its cost is counted in "
                     "the claim that computed it first in the same worker)")
    return "\n".join(lines)


def work_line(work: dict) -> str:
    """One line on a run's work units (``work_summary``): total, longest unit, their ratio.

    >>> work_line({"units": 3, "total_seconds": 4.0, "longest_unit": "a", "longest_seconds": 3.0, "ratio": 1.33})
    'work: 4.0 s in 3 units; longest unit a 3.0 s; total / longest = 1.33 (the speedup an unlimited cluster could give)'
    """
    if not work or not work.get("units"):
        return "work: no unit computed (all from the cache)"
    ratio = "-" if work.get("ratio") is None else f"{work['ratio']:.3g}"
    return (f"work: {work['total_seconds']:.1f} s in {work['units']} units; longest unit {work['longest_unit']} "
            f"{work['longest_seconds']:.1f} s; total / longest = {ratio} (the speedup an unlimited cluster could give)")


def markdown(report: Report) -> str:
    """The report as Markdown: a summary table (the terminal table's columns) and every check."""
    d = report.as_dict()
    counts = ", ".join(f"{n} {k}" for k, n in d["summary"].items())
    out = ["# degeneracy report", "",
           f"version {d['version']}, seed {d['seed']}, mode {d['mode']}, family-wise alpha {d['alpha']}"
           f" (per claim {report.claim_alpha:.3g}); {len(report.results)} claims: {counts}", "",
           *([work_line(report.work), ""] if report.work else []),
           "| claim | kind | verdict | checks | \\|z\\|/thr | resolution | runs | seconds |",
           "|---|---|---|---|---|---|---|---|"]
    for r in report.results:
        out.append(f"| `{r.id}` | {r.kind} | {r.verdict} | {_passed(r)} | {worst_ratio(r)} | {_resolution(r)}"
                   f" | {_runs(r)} | {_seconds(r)} |")
    for r in report.results:
        out += ["", f"## `{r.id}`: {r.verdict}", "", r.title, "", f"Source: {r.source}", ""]
        if r.summary:
            out += [f"Verdict: {r.verdict} ({r.summary})" + (
                f"; {r.replication['runs']} of {r.replication['budget']} runs per condition" if r.replication else ""),
                ""]
        if r.message:
            out += [f"Message: {r.message}", ""]
        for note in r.notes:
            out += [f"- {note}"]
        if r.notes:
            out += [""]
        if r.checks:
            out += ["| check | type | theory | estimate | stderr | z | threshold | resolution | CI | outcome |",
                    "|---|---|---|---|---|---|---|---|---|---|"]
            for c in r.checks:
                ci = f"{_num(c.ci[0])} .. {_num(c.ci[1])}" if c.ci else "-"
                outcome = c.outcome or ("pass" if c.passed else "fail")
                out.append(f"| {c.name.replace('|', '/')} | {c.test} | {_num(c.theory)} | {_num(c.estimate)}"
                           f" | {_num(c.stderr)} | {_num(c.z)} | {_num(c.threshold)} | {_num(c.resolution)} | {ci}"
                           f" | {outcome} |")
    return "\n".join(out) + "\n"
