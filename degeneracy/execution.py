"""Work units, executors and progress for parallel and distributed runs.

A **work unit** is one claim, one work unit of a split claim, one unit of a shared experiment
(``degeneracy verify``) or one figure (``degeneracy figures``). A unit is a small picklable object;
calling it in any process computes its result from the run seed, the item id and the unit key
alone (through SeedSequence spawn keys: ``stream_for(seed, id)``, then ``"unit", name`` or
``ctx.spawn(*names)``), so the results do not depend on which process or machine runs it, in
which order, or how many times it was started: the report is the same for one worker, N workers
and a ``dask.distributed`` cluster.

A claim that declares units (``units=`` / ``unit=`` in :func:`degeneracy.proofs.registry.claim`)
becomes one :class:`PartUnit` per unit; when all of a claim's parts have arrived, the parent
combines them in unit-key order (:func:`degeneracy.proofs.runner.run_claim` with ``parts=``) into
the claim's checks. A claim without units is one :class:`ClaimUnit`, as before. A shared
experiment (:func:`degeneracy.proofs.registry.shared`) read by claims that declare
``shares=(name,)`` is computed once per run, one :class:`SharedUnit` per unit of its plan, and
handed to those claims (their units start after it, with its values primed in their process).

:func:`run_claims` reports, through ``work=``, the seconds of every unit computed: the run's
**total work**, its **longest unit** and their ratio (the speedup an unlimited cluster could give;
:func:`work_summary`).

Executors: :func:`run_units` runs units inline (``workers=1``), in a local
:class:`~concurrent.futures.ProcessPoolExecutor` with one BLAS thread per worker, or in any
:class:`concurrent.futures.Executor` given by the caller, e.g. ``distributed.Client.get_executor()``
(:func:`dask_executor` connects to a scheduler with a short timeout). A unit whose worker dies is
resubmitted (a broken local pool is rebuilt; Dask reschedules by itself) and each unit's result is
kept once, so no result is lost or duplicated.

Examples
--------
>>> units = [ClaimUnit("products.naive-breakdown", "quick", 0, 1e-3)]
>>> [r.verdict for r in run_units(units, workers=1)]
['pass']
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from concurrent.futures import (
    FIRST_COMPLETED,
    CancelledError,
    Executor,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, BackendError
from degeneracy.proofs.context import compute_shared, prime_shared, shared_key
from degeneracy.proofs.registry import SHARED, Claim, get_claim, load_all, select
from degeneracy.proofs.runner import (
    DEFAULT_ALPHA,
    ClaimResult,
    check_run_arguments,
    plan_units,
    run_claim,
    run_unit,
)
from degeneracy.validation import check_int

from .cache import ResultCache, source_hash

__all__ = [
    "DASK_ENV",
    "BackendError",
    "ClaimUnit",
    "FigureUnit",
    "PartUnit",
    "SharedUnit",
    "UnitProgress",
    "default_workers",
    "dask_executor",
    "fingerprint",
    "run_units",
    "run_claims",
    "work_summary",
]

#: environment variable naming a dask scheduler address (same as ``--dask``)
DASK_ENV = "DEGENERACY_DASK"


def default_workers() -> int:
    """The cores this process may use (``os.sched_getaffinity`` where available, else
    ``os.cpu_count()``); at least 1.

    >>> default_workers() >= 1
    True
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, int(n))


@contextmanager
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


# ---------------------------------------------------------------- units

@dataclass(frozen=True)
class ClaimUnit:
    """One claim as a work unit; calling it returns its :class:`proofs.runner.ClaimResult`.

    ``primed``: ``((shared key, value), ...)`` of shared experiments computed elsewhere, put into
    this process's store before the claim runs."""

    claim_id: str
    mode: str
    seed: int
    alpha: float
    control: bool = False
    primed: tuple = ()

    @property
    def id(self) -> str:
        return self.claim_id

    def __call__(self):
        prime_shared(dict(self.primed))
        with _one_blas_thread():
            return run_claim(self.claim_id, self.mode, self.seed, control=self.control, alpha=self.alpha)


@dataclass(frozen=True)
class PartUnit:
    """One work unit of a split claim; calling it returns its :class:`proofs.runner.UnitResult`."""

    claim_id: str
    unit: str
    mode: str
    seed: int
    alpha: float
    control: bool = False
    primed: tuple = ()

    @property
    def id(self) -> str:
        return f"{self.claim_id}/{self.unit}"

    def __call__(self):
        prime_shared(dict(self.primed))
        with _one_blas_thread():
            return run_unit(self.claim_id, self.unit, self.mode, self.seed, control=self.control, alpha=self.alpha)


@dataclass(frozen=True)
class SharedUnit:
    """One unit of a shared experiment; calling it returns ``(seconds, value)``."""

    name: str
    unit: str
    mode: str
    seed: int

    @property
    def id(self) -> str:
        return f"shared:{self.name}/{self.unit}"

    def __call__(self):
        import time

        t0 = time.perf_counter()
        with _one_blas_thread():
            value = compute_shared(self.name, self.unit, self.mode, self.seed)
        return time.perf_counter() - t0, value


@dataclass(frozen=True)
class FigureResult:
    """A rendered figure: file names and bytes (written by the caller), and the seconds taken."""

    id: str
    files: dict
    seconds: float

    def write(self, out: str) -> list[str]:
        """Write the files into ``out`` atomically (:func:`degeneracy.proofs.report.write_atomic`:
        the mode an ordinary ``open`` gives); returns their paths."""
        from degeneracy.proofs.report import write_atomic

        os.makedirs(out, exist_ok=True)
        paths = []
        for name, data in self.files.items():
            path = os.path.join(out, name)
            write_atomic(path, data)
            paths.append(path)
        return paths


@dataclass(frozen=True)
class FigureUnit:
    """One figure as a work unit; calling it renders into a private folder and returns the bytes
    (so a remote worker needs no shared file system)."""

    figure_id: str
    mode: str
    seed: int
    formats: tuple = ("png", "svg")

    @property
    def id(self) -> str:
        return self.figure_id

    def __call__(self) -> FigureResult:
        from degeneracy.figures.registry import FIGURES, load_all, render

        load_all()
        tmp = tempfile.mkdtemp(prefix="degeneracy-fig-")
        try:
            with _one_blas_thread():
                paths, secs = render(FIGURES[self.figure_id], out=tmp, seed=self.seed, mode=self.mode,
                                     formats=self.formats)
            files = {}
            for p in paths:
                with open(p, "rb") as fh:
                    files[os.path.basename(p)] = fh.read()
            return FigureResult(self.figure_id, files, secs)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _execute(unit):
    """Run ``unit`` (module-level so every executor can pickle it by reference)."""
    return unit()


# ---------------------------------------------------------------- progress

class UnitProgress:
    """A tqdm bar of units done / total with an ETA from the average rate of *computed* units
    (units taken from the cache count as done but not in the rate). ``disable=None`` shows the
    bar only on a terminal."""

    def __init__(self, total: int, desc: str, unit: str = "unit", disable: bool | None = None, file=None):
        self.bar = None
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover
            return
        self.bar = tqdm(total=total, desc=desc, unit=unit, file=file or sys.stderr, disable=disable,
                        leave=False, dynamic_ncols=True, smoothing=0)

    def skip(self, n: int = 1) -> None:
        """Count ``n`` units as done without affecting the rate (cache hits)."""
        if self.bar is not None and n and not self.bar.disable:
            self.bar.initial += n
            self.bar.n += n
            self.bar.last_print_n = self.bar.n
            self.bar.refresh()

    def done(self, label: str = "") -> None:
        """One computed unit finished."""
        if self.bar is not None:
            if label:
                self.bar.set_postfix_str(label, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------- backends

def _probe(address: str, timeout: float) -> None:
    """Check the address parses and (tcp/tls) that something listens there, within ``timeout``."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, loc = parse_address(address)
    if scheme in ("tcp", "tls"):
        host, port = parse_host_port(loc)
        socket.create_connection((host, port), timeout=timeout).close()
    if scheme == "tcp":
        # a dask handshake: something that listens but is no scheduler fails here, before a
        # Client exists (a Client that fails to start complains again when collected)
        import asyncio

        from distributed.comm import connect

        async def identity():
            comm = await connect(address, timeout=timeout)
            try:
                await comm.write({"op": "identity"})
                reply = await comm.read()
            finally:
                await comm.close()
            if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
                raise ConnectionError(f"no dask scheduler answers there (identity: {str(reply)[:60]})")

        asyncio.run(asyncio.wait_for(identity(), timeout))


def dask_executor(address: str, *, timeout: float | None = None):
    """Connect to the ``dask.distributed`` scheduler at ``address``; returns ``(client, executor)``.

    Fails fast with :class:`BackendError` (one line) when ``distributed`` is not installed, the
    address is malformed, the scheduler does not answer within ``timeout`` seconds (default
    ``$DEGENERACY_DASK_TIMEOUT`` or 5), it has no workers, or a worker cannot import the toolkit
    or runs other code or library versions (:func:`fingerprint`; results would differ). The executor submits with ``pure=False`` so a resubmitted
    unit is computed again, never served from a failed key.
    """
    try:
        from distributed import Client
    except ImportError:
        raise BackendError("--dask needs the optional dask extra: pip install 'degeneracy[dask]'") from None
    if timeout is None:
        try:
            timeout = float(os.environ.get("DEGENERACY_DASK_TIMEOUT", "5"))
        except ValueError:
            timeout = 5.0
    try:
        _probe(address, timeout)
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise BackendError(f"cannot reach the dask scheduler at {address!r} within {timeout:g} s "
                           f"({type(exc).__name__}: {first})") from None
    quiet = [logging.getLogger(n) for n in ("distributed", "distributed.client", "distributed.comm",
                                              "distributed.core", "tornado", "asyncio")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.CRITICAL)
    try:
        client = Client(address, timeout=f"{float(timeout)}s", set_as_default=False)
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise BackendError(f"cannot reach the dask scheduler at {address!r} within {timeout:g} s "
                           f"({type(exc).__name__}: {first})") from None
    finally:
        for lg, lv in zip(quiet, levels):
            lg.setLevel(lv)
    try:
        _check_workers(client, timeout)
    except BackendError:
        client.close()
        raise
    return client, client.get_executor(pure=False)


def fingerprint() -> dict:
    """What a worker must share with the client for identical results: the toolkit version and
    source (:func:`proofs.cache.source_hash`) and the numerical stack's versions."""
    from degeneracy.proofs.report import versions

    return {"source": source_hash(), **versions()}


def _remote_fingerprint() -> dict:
    return fingerprint()


def _check_workers(client, timeout: float) -> None:
    """Refuse workers that cannot import the toolkit or run other code / library versions."""
    mine = fingerprint()
    try:
        theirs = client.run(_remote_fingerprint, on_error="return")
    except Exception as exc:  # pragma: no cover - scheduler vanished
        raise BackendError(f"the dask workers did not answer ({type(exc).__name__}: {exc})") from None
    if not theirs:
        raise BackendError("the dask scheduler has no workers: start some with `dask worker ADDRESS`")
    for addr, fp in sorted(theirs.items()):
        if isinstance(fp, BaseException):
            raise BackendError(f"dask worker {addr} cannot run the toolkit ({type(fp).__name__}: {fp}); "
                               f"install degeneracy on every worker")
        diff = sorted(k for k in mine if fp.get(k) != mine[k])
        if diff:
            raise BackendError(f"dask worker {addr} runs different code or libraries ({', '.join(diff)}): "
                               f"install the same degeneracy checkout and versions on every worker")


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers)


def run_units(units: Sequence, *, workers: int = 1, executor: Executor | None = None,
              on_result: Callable[[Any, Any], None] | None = None, retries: int = 3,
              more: Callable[[Any, Any], Iterable] | None = None) -> list:
    """Run ``units`` and return their results in the given order (then those of units added by ``more``).

    Parameters
    ----------
    units : sequence of callables with an ``id``
        :class:`ClaimUnit` / :class:`FigureUnit` (ids must be unique).
    workers : int
        ``1`` runs inline (one BLAS thread); more starts a local process pool of
        ``min(workers, len(units))`` processes with one BLAS thread each. Ignored when
        ``executor`` is given.
    executor : concurrent.futures.Executor, optional
        Any executor, e.g. ``distributed.Client(...).get_executor()``; not shut down here.
    on_result : callable(unit, result), optional
        Called in this thread as each result arrives (exactly once per unit).
    retries : int
        How many times a unit whose worker died (a broken local pool, a Dask ``KilledWorker``)
        is resubmitted before the error propagates.
    more : callable(unit, result) -> iterable of units, optional
        Called after ``on_result``: units that can start now that this one finished (e.g. the
        claims that read a shared experiment); they run like the others.

    A unit that raises ``KeyboardInterrupt`` or ``SystemExit`` in a worker stops the run: units not
    yet started are cancelled, the ones running are waited for (their results are delivered), then
    the exception propagates. A ``KeyboardInterrupt`` in this thread stops at once.
    """
    units = list(units)
    ids = [u.id for u in units]
    if len(set(ids)) != len(ids):
        raise ArgumentValueError("work unit ids must be unique")
    results: dict[str, Any] = {}

    added: list = []

    def deliver(unit, result) -> None:
        if unit.id in results:  # never twice
            return
        results[unit.id] = result
        if on_result is not None:
            on_result(unit, result)
        if more is not None:
            for nu in more(unit, result) or ():
                if nu.id in ids or nu.id in {a.id for a in added}:
                    raise ArgumentValueError("work unit ids must be unique")
                added.append(nu)
                queue.append(nu)

    queue: list = []
    if not units:
        return []
    if executor is None and (workers <= 1 or (len(units) == 1 and more is None)):
        queue.extend(units)
        with _one_blas_thread():
            while queue:
                u = queue.pop(0)
                deliver(u, u())
        return [results[i] for i in ids + [a.id for a in added]]

    own = executor is None
    ex = executor if executor is not None else _pool(workers if more is not None else min(workers, len(units)))
    attempts = {i: 0 for i in ids}
    pending: dict = {}
    stop: BaseException | None = None

    def submit(u) -> None:
        attempts[u.id] = attempts.get(u.id, 0) + 1
        pending[ex.submit(_execute, u)] = u

    try:
        for u in units:
            submit(u)
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            lost = []
            for fut in done:
                u = pending.pop(fut)
                try:
                    res = fut.result()
                except (KeyboardInterrupt, SystemExit) as exc:
                    if stop is None:
                        stop = exc
                        for f in list(pending):
                            if f.cancel():
                                pending.pop(f)
                    continue
                except CancelledError:
                    continue
                except Exception as exc:
                    if not _is_lost_worker(exc):
                        raise
                    lost.append(u)
                    continue
                deliver(u, res)
            if lost and stop is None:
                if own and _pool_broken(ex):
                    # a dead local worker breaks the whole pool: keep what finished, rebuild the
                    # pool and resubmit every other unit without a result
                    for f, pu in list(pending.items()):
                        if f.done() and not f.cancelled() and f.exception() is None:
                            deliver(pu, f.result())
                        else:
                            lost.append(pu)
                    pending.clear()
                    ex.shutdown(wait=False, cancel_futures=True)
                    ex = _pool(min(workers, len({p.id for p in lost})))
                for pu in {p.id: p for p in lost}.values():
                    if pu.id not in results:
                        if attempts[pu.id] > retries:
                            raise BackendError(f"unit {pu.id} lost its worker {attempts[pu.id]} times")
                        submit(pu)
            if stop is None:
                while queue:
                    submit(queue.pop(0))
        if stop is not None:
            raise stop
    except BaseException:
        for f in pending:
            f.cancel()
        if own:
            _stop_pool(ex)
            own = False
        raise
    finally:
        if own:
            ex.shutdown()
    return [results[i] for i in ids + [a.id for a in added]]


def _stop_pool(ex: ProcessPoolExecutor) -> None:
    """Shut a local pool down now: cancel queued units and end the running ones (an interrupted
    run must not wait for a long claim to finish; its result is recomputed on ``--resume``)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            p.terminate()
        except Exception:  # pragma: no cover - already gone
            pass


def _pool_broken(ex) -> bool:
    return bool(getattr(ex, "_broken", False))


def _is_lost_worker(exc: BaseException) -> bool:
    """Whether ``exc`` means the unit's worker died (so recomputing it is right)."""
    if isinstance(exc, BrokenProcessPool):
        return True
    name = type(exc).__name__
    return name in ("KilledWorker", "CommClosedError", "FutureCancelledError") or (
        type(exc).__module__.startswith("distributed") and "worker" in str(exc).lower()
    )


def _as_claims(claims) -> list[Claim]:
    """``claims`` as a list of :class:`Claim`: a glob pattern (str, comma-separated globs allowed),
    or an iterable of claims and claim ids."""
    if isinstance(claims, str):
        return select(claims)
    if isinstance(claims, Claim):
        return [claims]
    try:
        items = list(claims)
    except TypeError:
        raise ArgumentTypeError(f"claims must be a glob pattern (str) or an iterable of claims or claim ids, "
                                f"got {type(claims).__name__}") from None
    out = []
    for c in items:
        if isinstance(c, str):
            out.append(get_claim(c))
        elif isinstance(c, Claim):
            out.append(c)
        else:
            raise ArgumentTypeError(f"claims must hold claims or claim ids (str), got an item of type {type(c).__name__}")
    return out


def run_claims(claims: Iterable[Claim] | str, mode: str = "quick", seed: int = 0, *, alpha: float = DEFAULT_ALPHA,
               workers: int = 1, executor: Executor | None = None,
               on_result: Callable[[ClaimResult], None] | None = None,
               cache: ResultCache | None = None, resume: bool = False, work: dict | None = None) -> list[ClaimResult]:
    """Run ``claims`` and return their results in the given order.

    Each claim is one work unit (:class:`ClaimUnit`), or one :class:`PartUnit` per declared
    unit, combined in the parent in unit-key order when all have arrived; shared experiments the
    claims declare are computed once (:class:`SharedUnit`) and handed to them. With
    ``workers > 1`` the units run in a local process pool, with ``executor`` in any
    :class:`concurrent.futures.Executor` (e.g. ``distributed.Client(...).get_executor()``);
    always with one BLAS thread per worker. Every unit draws from its own stream (run seed, claim
    id, unit key), so the results are identical whatever the number of workers or the backend. A
    unit whose worker dies is recomputed; each result is delivered once.

    Parameters
    ----------
    claims : str or iterable of Claim or str
        A glob pattern over claim ids (``"products.*"``; comma-separated globs allowed), or the
        claims (or their ids) to run.
    on_result : callable, optional
        Called as each claim's result arrives (the CLI writes the JSON report there, claim by
        claim); results taken from the cache come first and have ``cached=True``.
    cache : degeneracy.cache.ResultCache, optional
        Store every computed claim result and every finished unit of a split claim there (atomic
        writes), and the wall times: later runs submit the longest units first (the results do not
        depend on the order).
    resume : bool
        With ``cache``: take claims already finished with the same key (id, mode, seed, alpha,
        settings, versions, source) from the cache instead of running them, and, of a split claim
        not finished, the units already finished. A damaged entry is recomputed.
    work : dict, optional
        Filled with ``{unit id: seconds}`` for every unit computed in this run (claims, claim
        units, their ``/combine`` steps in the parent, shared units): :func:`work_summary`.

    Examples
    --------
    >>> from degeneracy.proofs.registry import get_claim
    >>> [r.verdict for r in run_claims([get_claim("products.naive-breakdown")], "quick", 0)]
    ['pass']
    """
    mode, seed, alpha = check_run_arguments(mode, seed, alpha)
    workers = check_int("workers", workers, minimum=1)
    claims = _as_claims(claims)
    results: dict[str, ClaimResult] = {}
    keys: dict[str, str] = {}
    work = {} if work is None else work
    if cache is not None:
        for c in claims:
            keys[c.id] = cache.key(c, mode, seed, alpha)
    todo = []
    for c in claims:
        hit = cache.get(keys[c.id]) if (cache is not None and resume) else None
        if hit is not None:
            hit.cached = True
            results[c.id] = hit
            if on_result:
                on_result(hit)
        else:
            todo.append(c)

    load_all()
    for c in todo:
        for name in c.shares:
            if name not in SHARED:
                raise ArgumentValueError(f"claim {c.id} declares the unknown shared experiment {name!r}")
    shared_units = {}
    for c in todo:
        for name in c.shares:
            for u in SHARED[name].plan(mode):
                su = SharedUnit(name, u, mode, seed)
                shared_units[su.id] = su
    values: dict = {}
    waiting = {c.id: {f"shared:{n}/{u}" for n in c.shares for u in SHARED[n].plan(mode)} for c in todo}
    plans = {c.id: plan_units(c, mode, seed, alpha=alpha) for c in todo}
    parts: dict[str, dict] = {c.id: {} for c in todo}

    def unit_key(cid: str, u: str) -> str:
        return cache.unit_key(keys[cid], u)

    if cache is not None and resume:
        # units of split claims finished by an interrupted run (a damaged entry is a miss)
        for c in todo:
            for u in plans[c.id]:
                hit = cache.get(unit_key(c.id, u))
                if hit is not None and not hit.failure:
                    parts[c.id][u] = hit

    def claim_units(c) -> list:
        primed = tuple(sorted(((k, v) for k, v in values.items() if k[0] in c.shares), key=lambda kv: kv[0]))
        if plans[c.id]:
            return [PartUnit(c.id, u, mode, seed, alpha, primed=primed) for u in plans[c.id] if u not in parts[c.id]]
        return [ClaimUnit(c.id, mode, seed, alpha, primed=primed)]

    def combine(cid: str) -> None:
        # every unit of the claim is here: combine in the parent, in unit-key order
        res = run_claim(cid, mode, seed, alpha=alpha, parts=parts[cid])
        work[f"{cid}/combine"] = res.unit_seconds.get("combine", 0.0)
        finish(res)

    def finish(r: ClaimResult) -> None:
        results[r.id] = r
        if cache is not None:
            cache.put(keys[r.id], r)
        if on_result:
            on_result(r)

    def arrived(unit, r) -> None:
        if isinstance(unit, SharedUnit):
            work[unit.id] = r[0]
            values[shared_key(unit.name, unit.unit, mode, seed)] = r[1]
        elif isinstance(unit, PartUnit):
            work[unit.id] = r.seconds
            got = parts[unit.claim_id]
            got[unit.unit] = r
            if cache is not None and not r.failure:
                cache.put(unit_key(unit.claim_id, unit.unit), r)
            if len(got) == len(plans[unit.claim_id]):
                combine(unit.claim_id)
        else:
            work[unit.id] = r.seconds
            finish(r)

    def more(unit, r) -> list:
        if not isinstance(unit, SharedUnit):
            return []
        ready = []
        for c in todo:
            w = waiting[c.id]
            if unit.id in w:
                w.discard(unit.id)
                if not w:
                    ready.extend(claim_units(c))
        return ready

    known = cache.timings(mode) if cache is not None else {}
    first = list(shared_units.values())
    for c in todo:
        if plans[c.id] and len(parts[c.id]) == len(plans[c.id]):
            combine(c.id)  # every unit from the cache
        elif not waiting[c.id]:
            first.extend(claim_units(c))
    if known:
        # longest first (times of earlier runs; unknown claims first): a long claim started last
        # would leave the other workers idle at the end. Only the order of work changes.
        first.sort(key=lambda u: -known.get(u.id, known.get(getattr(u, "claim_id", ""), float("inf"))))
    if first:
        run_units(first, workers=workers, executor=executor, on_result=arrived, more=more if shared_units else None)
    if cache is not None and todo:
        timings = {c.id: results[c.id].seconds for c in todo}
        timings.update({k: v for k, v in work.items() if "/" in k})
        cache.record_timings(mode, timings)
    return [results[c.id] for c in claims]


def work_summary(work: dict) -> dict:
    """Total work, longest unit and their ratio of a run's ``{unit id: seconds}``.

    The ratio is the speedup an unlimited cluster could give (every unit on its own worker).

    >>> work_summary({"a": 3.0, "b/u1": 1.0, "b/combine": 0.0})
    {'units': 3, 'total_seconds': 4.0, 'longest_unit': 'a', 'longest_seconds': 3.0, 'ratio': 1.33}
    """
    if not work:
        return {"units": 0, "total_seconds": 0.0, "longest_unit": "", "longest_seconds": 0.0, "ratio": None}
    total = float(sum(work.values()))
    uid = max(sorted(work), key=lambda k: work[k])
    longest = float(work[uid])
    return {"units": len(work), "total_seconds": round(total, 3), "longest_unit": uid,
            "longest_seconds": round(longest, 3), "ratio": round(total / longest, 2) if longest > 0 else None}
