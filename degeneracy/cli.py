"""The ``degeneracy`` command line.

::

    degeneracy list                          claims, proofs and figures, with kind and source
    degeneracy verify [--quick|--full]       run the claims; table on the terminal with a progress bar
             [--only GLOB] [--seed N] [--workers N | --dask ADDRESS] [--resume] [--cache-dir DIR]
             [--json PATH] [--markdown PATH] [--strict]
    degeneracy prove [--only GLOB]           run the symbolic certificates
    degeneracy figures [--only GLOB] [--out DIR] [--quick|--full] [--seed N] [--workers N | --dask ADDRESS]
                       [--format png,svg,pdf] [--html [--report VERIFY.json]]
    degeneracy bench [--json PATH] [--quick] the benchmark suite: matmul ceiling, QR engine, trainer,
             [--only SECTIONS]               free-probability density, 1 vs 2 workers
    degeneracy show ID                       one claim: statement, source, formula, settings per mode

Work units (claims, figures) run in ``--workers`` processes (default: all cores) with one BLAS
thread each, or on a running ``dask.distributed`` scheduler (``--dask ADDRESS`` or the
environment variable ``DEGENERACY_DASK``); the report is the same whatever the backend.
``--resume`` keeps finished claims in a cache (``--cache-dir``, default ``$DEGENERACY_CACHE`` or
``~/.cache/degeneracy``) and takes them from there when the same command runs again.

Exit codes: 0 success; 1 a non-empirical claim failed or any claim errored (``--strict``:
also an empirical claim that did not reproduce), or a certificate did not hold; 2 bad usage
(one line on stderr, no traceback), also an unreachable ``--dask`` scheduler.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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


def _backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_workers, default=None,
                   help="worker processes, one BLAS thread each (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run the work units on this dask.distributed scheduler (default: $DEGENERACY_DASK)")


def _backend(args):
    """``(executor, client, label)`` for ``--dask`` / ``DEGENERACY_DASK``, else a local pool size."""
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
    workers = args.workers if args.workers is not None else default_workers()
    args.workers = workers
    return None, None, f"{workers} worker{'s' * (workers != 1)}"


def _mode_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="mode", action="store_const", const="quick", help="the test suite's sizes")
    g.add_argument("--full", dest="mode", action="store_const", const="full", help="the papers' own sizes")
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
                   help="result cache (default $DEGENERACY_CACHE or ~/.cache/degeneracy); given alone: store only")
    v.add_argument("--alpha", type=_alpha, default=1e-3, help="family-wise false-alarm rate (default 1e-3)")
    v.add_argument("--json", metavar="PATH", help="write the JSON report (atomically, claim by claim)")
    v.add_argument("--markdown", metavar="PATH", help="write a Markdown report")
    v.add_argument("--strict", action="store_true", help="exit 1 also when an empirical claim does not reproduce")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")

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

    s = sub.add_parser("show", help="one claim")
    s.add_argument("id")
    return p


def _usage(fn, *args):
    """Call a selector; its ValueError (bad id or glob) is a usage error."""
    try:
        return fn(*args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _progress(total: int, desc: str, disable: bool):
    from degeneracy.execution import UnitProgress

    return UnitProgress(total, desc, unit="claim" if desc == "verify" else "fig", disable=True if disable else None)


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
    from degeneracy.execution import run_claims
    from degeneracy.proofs.registry import select
    from degeneracy.proofs.report import Report, markdown, table, write_atomic
    from degeneracy.proofs.runner import claim_alpha, exit_code

    claims = _usage(select, args.only)
    cache = None
    if args.resume or args.cache_dir:
        from .cache import ResultCache

        cache = ResultCache(args.cache_dir)
    executor, client, backend = _backend(args)
    report = Report(seed=args.seed, mode=args.mode, alpha=args.alpha, claim_alpha=claim_alpha(args.alpha),
                    path=args.json)
    bar = _progress(len(claims), "verify", args.no_progress)
    from_cache = []

    def on_result(r):
        report.add(r)
        if r.cached:
            from_cache.append(r.id)
            bar.skip(1)
        else:
            bar.done(f"{r.id}: {r.verdict}")

    t0 = time.perf_counter()
    try:
        results = run_claims(claims, args.mode, args.seed, alpha=args.alpha, workers=args.workers or 1,
                             executor=executor, on_result=on_result, cache=cache, resume=args.resume)
    except KeyboardInterrupt:
        raise _Interrupted("finished claims are in the JSON report" + (
            "; run the same command with --resume to continue" if cache is not None else "")) from None
    finally:
        bar.close()
        if client is not None:
            client.close()
    report.results = results  # registry order, whatever the completion order
    if args.json:
        write_atomic(args.json, report.to_json())
    if args.markdown:
        write_atomic(args.markdown, markdown(report))
    print(table(results))
    counts = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    extra = f"; {len(from_cache)} from the cache" if from_cache else ""
    if cache is not None and cache.rejected:
        extra += f" ({cache.rejected} damaged entr{'ies' if cache.rejected != 1 else 'y'} recomputed)"
    print(f"\n{len(results)} claims: {summary}; mode {args.mode}, seed {args.seed}, alpha {args.alpha}"
          f" (per claim {report.claim_alpha:.3g}); {backend}{extra}; {time.perf_counter() - t0:.1f} s")
    return exit_code(results, strict=args.strict)


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
        print(f"{c.id.ljust(w)}  {status}  {time.perf_counter() - t0:5.1f} s  {c.statement}")
        if detail and not holds:
            print(f"{' ' * w}  {detail}")
    print(f"\n{len(certs) - bad} of {len(certs)} certificates hold")
    return 1 if bad else 0


def _cmd_figures(args) -> int:
    from degeneracy.execution import FigureUnit, run_units
    from degeneracy.figures.registry import DEFAULT_OUT, select_figures

    figs = _usage(select_figures, args.only)
    if args.report and not args.html:
        raise UsageError("--report is only used with --html")
    out = args.out or DEFAULT_OUT
    executor, client, _backend_label = _backend(args)
    bar = _progress(len(figs), "figures", args.no_progress)

    def on_result(unit, res):
        paths = res.write(out)
        bar.done(res.id)
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
        bar.close()
        if client is not None:
            client.close()
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

    result = bench.run_benchmarks(quick=args.quick, sections=args.only,
                                  progress=lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
    print(bench.format_table(result))
    if args.json:
        from degeneracy.proofs.report import write_atomic

        write_atomic(args.json, json.dumps(result, indent=2, allow_nan=False) + "\n")
    return 0


def _cmd_show(args) -> int:
    from degeneracy.proofs.registry import CERTIFICATES, MODES, get_claim

    c = _usage(get_claim, args.id)
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


_COMMANDS = {"list": _cmd_list, "verify": _cmd_verify, "prove": _cmd_prove, "figures": _cmd_figures,
             "bench": _cmd_bench, "show": _cmd_show}


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
