"""The ``degeneracy`` command line.

::

    degeneracy list                          claims, proofs and figures, with kind and source
    degeneracy verify [--quick|--full]       run the claims; table on the terminal with a progress bar
             [--only GLOB] [--seed N] [--workers N | --dask ADDRESS] [--resume] [--cache-dir DIR]
             [--json PATH] [--markdown PATH] [--strict]
    degeneracy calibrate --seeds N           run the claims over N seeds: false-alarm counts, verdict
             [--quick|--full|--mode M]       distributions, run times, a null-effect simulation
             [--only GLOB]
             [--workers N | --dask ADDRESS] [--json PATH] [--null N]
    degeneracy prove [--only GLOB]           run the symbolic certificates
    degeneracy figures [--only GLOB] [--out DIR] [--quick|--full] [--seed N] [--workers N | --dask ADDRESS]
                       [--format png,svg,pdf] [--html [--report VERIFY.json]]
    degeneracy bench [--json PATH] [--quick] [--strict] the benchmark suite: matmul ceiling, QR engine, trainer,
             [--only SECTIONS]               free-probability density, 1 vs 2 workers, scale-out
    degeneracy show ID                       one claim, certificate or figure

Work units (claims, the units of split claims and of shared experiments, figures, (claim, seed)
pairs) run in ``--workers`` processes (default: all cores; never more processes than units) with
one BLAS thread each, or on a running ``dask.distributed`` scheduler (``--dask ADDRESS`` or the
environment variable ``DEGENERACY_DASK``); the report is the same whatever the backend, and
``verify`` ends with the run's total work, longest unit and their ratio. ``--resume`` keeps
finished claims and units in a cache (``--cache-dir``, default ``$DEGENERACY_CACHE`` or
``~/.cache/degeneracy``) and takes them from there when the same command runs again.

Every output path (``--json``, ``--markdown``, ``--cache-dir``, ``--out``) is checked before
any work starts; if writing still fails at the end, the results are printed anyway and one
line on stderr says what could not be written. Without a progress bar (stdout or stderr not a
terminal, or ``--no-progress``) ``verify`` and ``calibrate`` print one line per finished unit on
stderr.

Exit codes: 0 success; 1 an identity, finite-n or asymptotic claim failed, any claim errored, a
certificate did not hold, or a requested report file could not be written (``--strict``: also
an empirical claim that is contradicted or inconclusive; ``calibrate``: a false-alarm count
significantly above its declared rate); 2 bad usage (one line on stderr, no traceback), also
an unreachable ``--dask`` scheduler or an output path that cannot be written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from degeneracy.errors import ArgumentValueError

__all__ = ["main"]


class UsageError(ArgumentValueError):
    """Bad usage: printed as one line, exit code 2."""


class _Interrupted(KeyboardInterrupt):
    """An interruption with a hint on what was kept."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise UsageError(message)


def _int_arg(option: str, minimum: int, words: str):
    """An argparse type: an integer >= ``minimum``, or a one-line error naming ``option``."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            v = minimum - 1
        if v < minimum:
            raise argparse.ArgumentTypeError(f"{option} must be a {words} integer, got {text!r}")
        return v

    return parse


_seed = _int_arg("--seed", 0, "non-negative")
_workers = _int_arg("--workers", 1, "positive")
_seeds = _int_arg("--seeds", 1, "positive")
_null = _int_arg("--null", 0, "non-negative")


def _alpha(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not (0 < v < 1):
        raise argparse.ArgumentTypeError(f"--alpha must be a number in (0, 1), got {text!r}")
    return v


def _bench_sections() -> tuple:
    from degeneracy.bench import SECTIONS

    return SECTIONS


def _sections(text: str) -> tuple:
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    known = _bench_sections()
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--only must name bench sections among {', '.join(known)}, got {text!r}")
    return names


# ---------------------------------------------------------------- output paths

def _probe_folder(option: str, path: str, folder: str) -> None:
    """Create ``folder`` if needed and prove a file can be created in it (then remove the probe)."""
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".degeneracy-probe-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise UsageError(f"{option} {path!r} cannot be written ({exc.strerror or type(exc).__name__} "
                         f"in {folder!r})") from None


def _output_file(option: str, path: str | None) -> str | None:
    """Check, before any work, that ``path`` can be written as a file (raises UsageError).

    Returns the path to write: a symbolic link is resolved to its target, so that the atomic
    write (a rename) updates the target instead of replacing the link.
    """
    if path is None:
        return None
    if not path.strip():
        raise UsageError(f"{option} needs a file name")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path!r} is a directory; give a file name")
    if os.path.exists(path) and not os.path.isfile(path):
        # reports are written atomically (a temporary file renamed over the path): renaming over
        # /dev/null, a FIFO or a socket would replace that special file (as root: /dev/null itself)
        raise UsageError(f"{option} {path!r} is not a regular file (a device, pipe or socket); give a file name")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"{option} {path!r} cannot be written (permission denied)")
    if os.path.islink(path):
        path = os.path.realpath(path)
    _probe_folder(option, path, os.path.dirname(os.path.abspath(path)) or ".")
    return path


def _output_dir(option: str, path: str | None) -> None:
    """Check, before any work, that ``path`` is (or can become) a writable directory."""
    if path is None:
        return
    if not path.strip():
        raise UsageError(f"{option} needs a directory name")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{option} {path!r} is not a directory")
    _probe_folder(option, path, os.path.abspath(path))


def _write_or_say(what: str, path: str, write) -> bool:
    """Call ``write()``; on failure print one line on stderr and return False."""
    try:
        write()
        return True
    except OSError as exc:
        print(f"degeneracy: could not write {what} {path!r} ({exc.strerror or type(exc).__name__}); "
              "the results are printed above", file=sys.stderr)
        return False


# ---------------------------------------------------------------- backends

def _backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_workers, default=None,
                   help="worker processes, one BLAS thread each (default: all cores; never more than the work units)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run the work units on this dask.distributed scheduler (default: $DEGENERACY_DASK)")


def _backend(args):
    """``(executor, client, label)`` for ``--dask`` / ``DEGENERACY_DASK``, else a local pool size
    (``label`` is then ``None``: :func:`_local_label` says what ran, once the units are known)."""
    from degeneracy.execution import (
        DASK_ENV,
        BackendError,
        dask_executor,
        default_workers,
    )

    address = args.dask if args.dask is not None else (os.environ.get(DASK_ENV) or None)
    if address is not None:
        if not address.strip():
            raise UsageError("--dask needs a scheduler address, e.g. tcp://127.0.0.1:8786")
        try:
            client, executor = dask_executor(address.strip())
        except BackendError as exc:
            raise UsageError(str(exc)) from None
        nthreads = sum(client.nthreads().values())
        return executor, client, f"dask {address.strip()} ({nthreads} worker thread{'s' * (nthreads != 1)})"
    args.requested_workers = args.workers
    workers = args.workers if args.workers is not None else default_workers()
    args.workers = workers
    return None, None, None


def _local_label(args, units: int) -> str:
    """What actually ran locally: processes = min(--workers, units); inline when that is 1."""
    from degeneracy.execution import default_workers

    workers = args.workers or 1
    n = min(workers, units) if units else 1
    if n <= 1:
        label = "1 process (inline)"
    else:
        label = f"{n} worker processes"
    notes = []
    if workers > n and units:
        notes.append(f"--workers {workers} capped at the {units} work unit{'s' * (units != 1)} to run")
    cores = default_workers()
    if n > cores:
        notes.append(f"more processes than the {cores} core{'s' * (cores != 1)}")
    return label + (f" ({'; '.join(notes)})" if notes else "")


def _mode_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="mode", action="store_const", const="quick", help="the test suite's sizes")
    g.add_argument("--full", dest="mode", action="store_const", const="full", help="the papers' own sizes")
    g.add_argument("--mode", dest="mode", choices=("quick", "default", "full"),
                   help="the same as --quick / (nothing) / --full")
    p.set_defaults(mode="default")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="degeneracy", description="Derive, prove and check the degeneracy argument of deep learning.")
    from degeneracy.proofs.report import version

    p.add_argument("--version", action="version", version=f"degeneracy {version()}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.required = True

    sub.add_parser("list", help="claims, proofs and figures")

    v = sub.add_parser("verify", help="run the claims")
    _mode_args(v)
    v.add_argument("--only", metavar="GLOB", help="claim ids to run (glob, comma-separated)")
    v.add_argument("--seed", type=_seed, default=0)
    _backend_args(v)
    v.add_argument("--resume", action="store_true",
                   help="take claims finished by an earlier run of the same command from the cache, store new ones")
    v.add_argument("--cache-dir", metavar="DIR", default=None,
                   help="result cache (default $DEGENERACY_CACHE, else the user cache directory: ~/.cache/degeneracy on Linux, "
                        "~/Library/Caches/degeneracy on macOS); given alone: store only")
    v.add_argument("--alpha", type=_alpha, default=1e-3, help="family-wise false-alarm rate (default 1e-3)")
    v.add_argument("--json", metavar="PATH", help="write the JSON report (atomically, claim by claim)")
    v.add_argument("--markdown", metavar="PATH", help="write a Markdown report")
    v.add_argument("--strict", action="store_true",
                   help="exit 1 also when an empirical claim is contradicted or inconclusive")
    v.add_argument("--no-progress", action="store_true", help="no progress bar (one line per finished claim instead)")

    c = sub.add_parser("calibrate", help="run the claims over many seeds: measured error rates of the verdicts")
    c.add_argument("--seeds", type=_seeds, required=True, help="run seeds 0 .. N-1")
    _mode_args(c)
    c.add_argument("--only", metavar="GLOB", help="claim ids to run (glob, comma-separated)")
    _backend_args(c)
    c.add_argument("--alpha", type=_alpha, default=1e-3, help="family-wise false-alarm rate (default 1e-3)")
    c.add_argument("--json", metavar="PATH", help="write the calibration report (JSON)")
    c.add_argument("--null", type=_null, default=1000,
                   help="simulations of the null-effect check of the sequential rule (default 1000; 0: none)")
    c.add_argument("--no-progress", action="store_true", help="no progress bar (one line per finished unit instead)")

    pr = sub.add_parser("prove", help="run the symbolic certificates")
    pr.add_argument("--only", metavar="GLOB")

    f = sub.add_parser("figures", help="render the figures")
    f.add_argument("--only", metavar="GLOB")
    f.add_argument("--out", metavar="DIR", default=None)
    f.add_argument("--seed", type=_seed, default=0)
    _mode_args(f)
    _backend_args(f)
    f.add_argument("--no-progress", action="store_true")
    f.add_argument("--format", metavar="FMTS", type=_formats, default=("png", "svg"),
                   help="comma-separated formats: png, svg, pdf (vector for papers; default png,svg)")
    f.add_argument("--html", action="store_true",
                   help="also write gallery.html in the output folder: each figure, its caption, its claims with "
                        "their verdicts (same mode and seed) and the command that reproduces it")
    f.add_argument("--report", metavar="PATH",
                   help="with --html: take the verdicts from this `degeneracy verify --json` report of the same "
                        "mode and seed instead of running the claims")

    b = sub.add_parser("bench", help="the benchmark suite (throughput against the matmul ceiling)")
    b.add_argument("--json", metavar="PATH")
    b.add_argument("--quick", action="store_true", help="small sizes (seconds; the numbers mean nothing)")
    b.add_argument("--only", metavar="SECTIONS", type=_sections, default=None,
                   help="comma-separated subset of: " + ", ".join(_bench_sections()))
    b.add_argument("--strict", action="store_true",
                   help="exit 1 when a measured floor is missed (without it a bench only reports: exit 0)")

    s = sub.add_parser("show", help="one claim, certificate or figure")
    s.add_argument("id")
    return p


def _usage(fn, *args):
    """Call a selector; its ValueError (bad id or glob) is a usage error."""
    try:
        return fn(*args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


class _Progress:
    """A progress bar on a terminal; otherwise one line per finished unit on stderr."""

    def __init__(self, total: int, desc: str, unit: str, no_bar: bool):
        from degeneracy.execution import UnitProgress

        self.total, self.count = total, 0
        self.bar = UnitProgress(total, desc, unit=unit, disable=True if no_bar else None)
        self.lines = self.bar.bar is None or bool(self.bar.bar.disable)

    def done(self, label: str, detail: str = "") -> None:
        self.count += 1
        if self.lines:
            w = len(str(self.total))
            print(f"[{str(self.count).rjust(w)}/{self.total}] {label}" + (f" {detail}" if detail else ""),
                  file=sys.stderr, flush=True)
        else:
            self.bar.done(label)

    def skip(self, label: str) -> None:
        self.count += 1
        if self.lines:
            w = len(str(self.total))
            print(f"[{str(self.count).rjust(w)}/{self.total}] {label} (from the cache)", file=sys.stderr, flush=True)
        else:
            self.bar.skip(1)

    def close(self) -> None:
        self.bar.close()


def _cmd_list(args) -> int:
    from degeneracy.figures.registry import FIGURES
    from degeneracy.figures.registry import load_all as load_figures
    from degeneracy.proofs.registry import CERTIFICATES, CLAIMS, load_all

    load_all()
    load_figures()
    w = max([len(i) for i in CLAIMS] + [10])
    print(f"Claims ({len(CLAIMS)}):")
    for cid in sorted(CLAIMS):
        c = CLAIMS[cid]
        print(f"  {cid.ljust(w)}  {c.kind.ljust(10)}  {c.source}")
    print(f"\nProofs ({len(CERTIFICATES)}):")
    for pid in sorted(CERTIFICATES):
        print(f"  {pid.ljust(w)}  {CERTIFICATES[pid].source}")
    print(f"\nFigures ({len(FIGURES)}):")
    for fid in sorted(FIGURES):
        print(f"  {fid.ljust(w)}  {FIGURES[fid].title}")
    return 0


def _cmd_verify(args) -> int:
    from degeneracy.execution import run_claims, work_summary
    from degeneracy.proofs.registry import select
    from degeneracy.proofs.report import Report, markdown, summary_counts, table, work_line, write_atomic
    from degeneracy.proofs.runner import claim_alpha, exit_code

    claims = _usage(select, args.only)
    args.json = _output_file("--json", args.json)
    args.markdown = _output_file("--markdown", args.markdown)
    cache = None
    if args.resume or args.cache_dir:
        from .cache import ResultCache, default_cache_dir

        _output_dir("--cache-dir", args.cache_dir or default_cache_dir())
        cache = ResultCache(args.cache_dir)
    executor, client, backend = _backend(args)
    report = Report(seed=args.seed, mode=args.mode, alpha=args.alpha, claim_alpha=claim_alpha(args.alpha),
                    path=args.json)
    progress = _Progress(len(claims), "verify", "claim", args.no_progress)
    from_cache = []

    def on_result(r):
        report.add(r)
        if r.cached:
            from_cache.append(r.id)
            progress.skip(f"{r.id}: {r.verdict}")
        else:
            progress.done(f"{r.id}: {r.verdict}", f"({r.seconds:.1f} s{', shared experiment' if r.shared else ''})")

    t0 = time.perf_counter()
    work: dict = {}
    try:
        results = run_claims(claims, args.mode, args.seed, alpha=args.alpha, workers=args.workers or 1,
                             executor=executor, on_result=on_result, cache=cache, resume=args.resume, work=work)
    except KeyboardInterrupt:
        raise _Interrupted("finished claims are in the JSON report" + (
            "; run the same command with --resume to continue" if cache is not None else "")) from None
    finally:
        progress.close()
        if client is not None:
            client.close()
    report.results = results  # registry order, whatever the completion order
    report.work = work_summary(work)
    written = True
    if args.json:
        written &= _write_or_say("--json", args.json, lambda: write_atomic(args.json, report.to_json()))
    if args.markdown:
        written &= _write_or_say("--markdown", args.markdown, lambda: write_atomic(args.markdown, markdown(report)))
    print(table(results))
    summary = ", ".join(f"{n} {k}" for k, n in summary_counts(results).items())
    extra = f"; {len(from_cache)} from the cache" if from_cache else ""
    if cache is not None and cache.rejected:
        extra += f" ({cache.rejected} damaged entr{'ies' if cache.rejected != 1 else 'y'} recomputed)"
    if backend is None:
        # work units: a claim, each unit of a split claim, each shared unit (combining steps run in the parent)
        backend = _local_label(args, sum(not k.endswith("/combine") for k in work))
    print(f"\n{len(results)} claims: {summary}; mode {args.mode}, seed {args.seed}, alpha {args.alpha}"
          f" (per claim {report.claim_alpha:.3g}); {backend}{extra}; {time.perf_counter() - t0:.1f} s")
    print(work_line(report.work))
    code = exit_code(results, strict=args.strict)
    return code if written else max(code, 1)


def _cmd_calibrate(args) -> int:
    from degeneracy.calibration import format_calibration, null_simulation, run_calibration, summarize
    from degeneracy.proofs.registry import select
    from degeneracy.proofs.report import write_atomic

    claims = _usage(select, args.only)
    args.json = _output_file("--json", args.json)
    executor, client, backend = _backend(args)
    total = len(claims) * args.seeds
    progress = _Progress(total, "calibrate", "unit", args.no_progress)

    def on_result(unit, r):
        progress.done(f"{unit.id}: {r.verdict}", f"({r.seconds:.1f} s)")

    t0 = time.perf_counter()
    try:
        results = run_calibration(claims, args.seeds, args.mode, alpha=args.alpha, workers=args.workers or 1,
                                  executor=executor, on_result=on_result)
    except KeyboardInterrupt:
        raise _Interrupted("nothing is written before the calibration ends") from None
    finally:
        progress.close()
        if client is not None:
            client.close()
    seconds = time.perf_counter() - t0
    null = null_simulation(args.null) if args.null else None
    report = summarize(results, claims, seeds=args.seeds, mode=args.mode, alpha=args.alpha, seconds=seconds, null=null)
    if backend is None:
        backend = _local_label(args, total)
    report["backend"] = backend
    written = True
    if args.json:
        written = _write_or_say("--json", args.json,
                                lambda: write_atomic(args.json, json.dumps(report, indent=2, allow_nan=False) + "\n"))
    print(format_calibration(report))
    excess = [c["id"] for c in report["claims"] if c.get("false_alarms", {}).get("excess")]
    print(f"\n{len(claims)} claims x {args.seeds} seeds, mode {args.mode}, alpha {args.alpha}: "
          f"{len(excess)} claim{'s' * (len(excess) != 1)} with false alarms significantly above the declared rate; "
          f"{backend}; {seconds:.1f} s")
    code = 1 if excess or (null and any(null[s][k]["excess"] for s in ("null", "effect")
                                        for k in ("supported", "contradicted"))) else 0
    return code if written else max(code, 1)


def _cmd_prove(args) -> int:
    from degeneracy.proofs.registry import CERTIFICATES, select

    certs = _usage(select, args.only, CERTIFICATES)
    bad = 0
    w = max(len(c.id) for c in certs)
    for c in certs:
        t0 = time.perf_counter()
        try:
            holds, detail = c.run()
        except Exception as exc:
            holds, detail = False, f"error: {type(exc).__name__}: {exc}"
        bad += not holds
        status = "holds " if holds else "FAILED"
        print(f"{c.id.ljust(w)}  {status}  {time.perf_counter() - t0:5.1f} s  {c.statement}", flush=True)
        if detail and not holds:
            print(f"{' ' * w}  {detail}", flush=True)
    print(f"\n{len(certs) - bad} of {len(certs)} certificates hold")
    return 1 if bad else 0


def _cmd_figures(args) -> int:
    from degeneracy.execution import FigureUnit, run_units
    from degeneracy.figures.registry import DEFAULT_OUT, select_figures

    figs = _usage(select_figures, args.only)
    if args.report and not args.html:
        raise UsageError("--report is only used with --html")
    if args.html and "png" not in args.format:
        raise UsageError(f"--html shows each figure's PNG: include png in --format (got {','.join(args.format)}; "
                         f"e.g. --format png,{','.join(args.format)})")
    if args.report and not os.path.isfile(args.report):
        raise UsageError(f"--report {args.report!r} is not a file (a `degeneracy verify --json` report)")
    out = args.out or DEFAULT_OUT
    _output_dir("--out", out)
    executor, client, _backend_label = _backend(args)
    progress = _Progress(len(figs), "figures", "fig", args.no_progress)
    failed = []

    def on_result(unit, res):
        try:
            paths = res.write(out)
        except OSError as exc:
            failed.append(f"{res.id} ({exc.strerror or type(exc).__name__})")
            progress.done(f"{res.id}: not written")
            return
        progress.done(res.id)
        print(f"{res.id}: {', '.join(os.path.relpath(p) for p in paths)} ({res.seconds:.1f} s)")

    units = [FigureUnit(f.id, args.mode, args.seed, args.format) for f in figs]
    try:
        run_units(units, workers=args.workers or 1, executor=executor, on_result=on_result)
        if args.html:
            from .gallery import run_verdicts, verdicts_from_report, write_gallery

            claims = [c for f in figs for c in f.claims]
            if args.report:
                try:
                    verdicts = verdicts_from_report(args.report, mode=args.mode, seed=args.seed)
                except (OSError, ValueError, KeyError) as exc:
                    raise UsageError(f"--report {args.report}: {exc}") from None
            else:
                print(f"gallery: running the {len(set(claims))} illustrated claims for their verdicts", flush=True)
                verdicts = run_verdicts(claims, mode=args.mode, seed=args.seed, workers=args.workers or 1,
                                        executor=executor)
            path = write_gallery(figs, out=out, mode=args.mode, seed=args.seed, verdicts=verdicts, formats=args.format)
            print(f"gallery: {os.path.relpath(path)}")
    finally:
        progress.close()
        if client is not None:
            client.close()
    if failed:
        print(f"degeneracy: could not write into --out {out!r}: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _formats(text: str) -> tuple:
    """``--format png,svg,pdf``: a usage error names the accepted formats."""
    from degeneracy.figures.style import FORMATS

    fmts = tuple(dict.fromkeys(t.strip().lower() for t in text.split(",") if t.strip()))
    bad = [f for f in fmts if f not in FORMATS]
    if not fmts or bad:
        raise argparse.ArgumentTypeError(f"formats must be a comma-separated subset of {', '.join(FORMATS)}, got {text!r}")
    return fmts


def _cmd_bench(args) -> int:
    from degeneracy import bench

    args.json = _output_file("--json", args.json)
    result = bench.run_benchmarks(quick=args.quick, sections=args.only,
                                  progress=lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
    print(bench.format_table(result))
    if args.json:
        from degeneracy.proofs.report import write_atomic

        if not _write_or_say("--json", args.json,
                             lambda: write_atomic(args.json, json.dumps(result, indent=2, allow_nan=False) + "\n")):
            return 1
    missed = [r for r in bench.check_floors(result) if not r["passed"]]
    if args.strict and missed:
        print(f"bench: {len(missed)} floor(s) missed: " + "; ".join(f"{r['metric']} at {r['n']}: {r['value']:.2f} < "
                                                                f"{r['floor']}" for r in missed), file=sys.stderr)
        return 1
    return 0


def _cmd_show(args) -> int:
    from degeneracy.figures.registry import FIGURES
    from degeneracy.figures.registry import load_all as load_figures
    from degeneracy.proofs.registry import CERTIFICATES, CLAIMS, MODES, closest_ids, load_all

    load_all()
    load_figures()
    if args.id in CERTIFICATES:
        p = CERTIFICATES[args.id]
        print(f"{p.id}  (certificate)\n\n{p.statement}\n\nSource: {p.source}\nRun it: degeneracy prove --only {p.id}")
        return 0
    if args.id in FIGURES:
        f = FIGURES[args.id]
        print(f"{f.id}  (figure)\n\n{f.title}")
        claims = getattr(f, "claims", ())
        if claims:
            print("\nClaims it illustrates: " + ", ".join(claims))
        print(f"Render it: degeneracy figures --only {f.id}")
        return 0
    if args.id not in CLAIMS:
        close = closest_ids(args.id, list(CLAIMS) + list(CERTIFICATES) + list(FIGURES))
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `degeneracy list`"
        raise UsageError(f"unknown id {args.id!r} (no claim, certificate or figure){hint}")
    c = CLAIMS[args.id]
    print(f"{c.id}  ({c.kind})\n\n{c.title}\n\nSource: {c.source}")
    if c.formula:
        print(f"Formula: {c.formula}")
    if c.settings:
        rows = [["setting", *MODES]] + [[key, *(str(c.settings_for(m)[key]) for m in MODES)] for key in c.settings]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        print()
        for r in rows:
            print("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    area = c.id.split(".")[0]
    certs = [p for p in sorted(CERTIFICATES) if p.startswith(area + ".")]
    if certs:
        print("\nCertificates of this area: " + ", ".join(certs))
    doc = (c.fn.__doc__ or "").strip()
    if doc:
        print("\n" + doc)
    return 0


_COMMANDS = {"list": _cmd_list, "verify": _cmd_verify, "calibrate": _cmd_calibrate, "prove": _cmd_prove,
             "figures": _cmd_figures, "bench": _cmd_bench, "show": _cmd_show}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``degeneracy`` console script; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
        return _COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"degeneracy: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        hint = str(exc) if isinstance(exc, _Interrupted) and str(exc) else "finished claims are in the JSON report"
        print(f"degeneracy: interrupted ({hint})", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader closed the pipe (`degeneracy list | head`): stop quietly, as Unix tools do;
        # point stdout at /dev/null so that the interpreter's final flush does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
