"""Throughput of the QR (Benettin) engine against this machine's own matmul ceiling.

Measured in one run and with one BLAS thread count for everything (default: one thread, so the
numbers are per core and comparable on a shared machine):

* ``matmul_gflops`` -- the ceiling: ``2 N^3 / t`` for ``A @ B`` (dgemm) at N = 2048 and at
  N = 1024, the best rate over all repetitions (the higher, hence stricter, of the two);
* per size N, one step of the QR engine of :func:`numerics.qr_engine.lyapunov_qr` (one replica,
  real Gaussian factors drawn beforehand: apply the previous reflectors to ``W`` from the right,
  Householder QR of the result, never forming Q), as kernel ``"qr-engine"`` (the default
  LAPACK pair ``dgeqrt`` + ``dgemqrt``, compact WY) and ``"qr-engine-geqrf"`` (``dgeqrf`` +
  ``dormqr`` with queried workspaces, docs/performance.md): ``seconds_per_step``, ``gflops`` =
  ``(10/3) N^3 / seconds_per_step`` (the flops the step needs: Householder QR of N x N costs
  ``(4/3) N^3``, applying its N reflectors to the next N x N factor ``2 N^3``), ``ratio_to_matmul``,
  and ``speedup_vs_numpy_qr`` against the obvious loop ``Q, R = np.linalg.qr(W @ Q)`` on the same
  factors; ``draw_seconds`` is the Gaussian draw of one factor (SFC64, timed apart: it is the
  sampler's cost, not the engine's) and ``ratio_with_draw`` the ratio had it been counted;
  ``ratio_to_matched`` divides by the best rate of a dgemm with as many flops as the step (same
  duration), a load-robust companion of ``ratio_to_matmul``: on an idle machine the two agree
  within the small-dgemm deficit, under load the long ceiling calls are slowed more than short
  steps and only the matched ratio stays meaningful;
* for small N, ``"qr-engine-batched"``: ``R`` replicas in one step (stacked ``numpy.linalg.qr``,
  i.e. LAPACK ``dgeqrf`` + ``dorgqr`` per matrix inside numpy's gufunc, and a stacked ``dgemm``),
  per replica: ``seconds_per_step``, ``gflops`` (same ``(10/3) N^3`` count), ``ratio_to_matmul``
  and ``speedup_vs_single`` over the single-replica LAPACK step (``> 1``: batching lowers the
  per-replica cost). Every kernel row names its LAPACK routines (``lapack``).

Step times are single steps (after the first, which has no reflectors to apply yet), timed
inside the engine's loop; the reported time is the best step over all rounds, as the ceiling
is the best dgemm rate of the run: at N = 2048 and 1024, and at sizes whose dgemm takes as long
as the step it is compared with (as many flops), so that under load from other processes the
ceiling's calls find quiet moments as often as the steps do (dgemm below 256 is not counted:
its own rate is below the machine's). All measurements run interleaved, round after round, so that load
from other processes on a shared machine affects them alike; the floors
(:data:`FLOORS`, :func:`check_floors`) are the ones of issue 17: ratio >= 0.75 at N = 1024 and
>= 0.6 at N = 256, and 1.4x over ``np.linalg.qr`` at N = 1024.

The suite (:func:`run_benchmarks`, sections :data:`SECTIONS`) adds, in the same run:

* ``trainer`` -- gradient-descent steps of :func:`numerics.training.train` on a
  :class:`numerics.networks.NetworkStack` of ``R`` tanh networks (population task, batch
  ``d_0``), timed over a whole ``train`` call: ``seconds_per_step``, ``gflops`` =
  :func:`numerics.training.step_flops` / time, ``ratio_to_matmul``, ``block`` (the trainer's
  cache-sized replica block) and ``speedup_vs_replica_loop`` over training the ``R`` networks one
  by one (stacks of one, the obvious loop, same code); floors :data:`TRAINER_FLOORS` at width 64,
  depth 30, 10 replicas; beside each row the BOUND: the step's GEMMs alone (same calls, shapes and
  buffers) as a ratio to the ceiling, stacked in the trainer's blocks and looped, and the most the
  stack could gain over the loop if everything but its GEMMs were free (``speedup_bound``; at width
  64 about 0.7 and 1.3x under load, docs/performance.md: the floors lie beyond it);
* ``free_density`` -- the free-probability density of the Jacobian spectrum
  (:func:`theory.isometry.jacobian_spectrum`, depth 100, critical hard-tanh with orthogonal (masks)
  and critical tanh with Gaussian weights (a continuous law of phi'(h)^2)) evaluated at 10^4 points of
  its support: seconds to build the law, wall and CPU seconds of the ``pdf`` call, points per second,
  and the floor of one CPU second per 10^4 points (:data:`FREE_DENSITY_FLOOR_SECONDS`);
* ``workers`` -- throughput of 1 vs 2 worker processes (one BLAS thread each, the way
  ``degeneracy verify`` runs claims) on a Monte Carlo workload of equal units (Lyapunov exponents
  by the QR engine, each unit its own stream ``stream_for(seed, "bench-unit", k)``): wall time
  per round, ``speedup`` = best 1-worker time / best 2-worker time, whether the two gave
  bit-identical results, the floor 1.8 and the load average (another process on a shared
  machine takes a core away from the 2-worker round: read the speedup with it);
* ``scaleout`` -- the same small fixed workload (:class:`MonteCarloUnit` units) through the
  toolkit's own scheduler (:func:`degeneracy.execution.run_units`, as ``verify`` runs work units) on
  1 local worker (inline), 2 local worker processes and 2 workers of a ``dask.distributed``
  ``LocalCluster`` (skipped, with the reason, when dask is not importable): wall seconds of the best
  round, whether the three gave bit-identical results, and the load average before and after. A
  speedup is reported only when the machine was idle before the measurement (1-minute load at most
  :data:`SCALEOUT_IDLE_LOAD` per core); otherwise the section says "machine busy (load X): speedup
  not measured" and :func:`check_floors` has no scale-out row (a wrong figure is worse than none).

No CLI here: ``degeneracy bench`` calls :func:`run_benchmarks`. Never used in tests for timings.
"""

from __future__ import annotations

import os
import time
from typing import Callable, Sequence

import numpy as np

from degeneracy.errors import ArgumentValueError, NumericalFailure
from degeneracy.numerics.ensembles import gaussian
from degeneracy.numerics.qr_engine import engine_step_times, lyapunov_qr
from degeneracy.numerics.rng import as_generator
from degeneracy.validation import check_positive_int

__all__ = ["FLOORS", "TRAINER_FLOORS", "TRAINER_FLOOR_CONFIG", "ENGINE_FLOPS", "SECTIONS", "WORKERS_FLOOR",
           "LAPACK_ROUTINES", "matmul_gflops", "engine_seconds_per_step", "numpy_qr_seconds_per_step", "trainer_bench",
           "free_density_bench", "FREE_DENSITY_FLOOR_SECONDS", "workers_bench", "scaleout_bench", "SCALEOUT_IDLE_LOAD", "MonteCarloUnit", "run_bench", "run_benchmarks", "format_table",
           "check_floors", "blas_info", "environment_note"]

#: Issue 17 floors of the ``"qr-engine"`` kernel, per metric and size N.
FLOORS = {"ratio_to_matmul": {1024: 0.75, 256: 0.6}, "speedup_vs_numpy_qr": {1024: 1.4}}
FLOOR_N = 1024
#: Issue floor: 2 worker processes on 2 cores give at least this throughput ratio over 1.
WORKERS_FLOOR = 1.8
#: Issue 11 floor: a 10^4-point density of a depth-100 Jacobian law in under this many CPU seconds.
FREE_DENSITY_FLOOR_SECONDS = 1.0
#: Sections of :func:`run_benchmarks` (``matmul`` is always measured: it is the reference).
SECTIONS = ("matmul", "qr", "trainer", "free", "workers", "scaleout")
#: The scale-out speedup is measured only when the 1-minute load before it is at most this per core.
SCALEOUT_IDLE_LOAD = 0.5
#: The LAPACK routines behind each QR kernel (real field).
LAPACK_ROUTINES = {
    "qr-engine": "dgeqrt + dgemqrt (scipy.linalg.lapack; compact WY, Q never formed)",
    "qr-engine-geqrf": "dgeqrf + dormqr (scipy.linalg.lapack; workspaces queried with lwork=-1)",
    "qr-engine-batched": "numpy.linalg.qr (dgeqrf + dorgqr per matrix in numpy's gufunc) + stacked dgemm",
}


def ENGINE_FLOPS(n: int) -> float:
    """Flops one square engine step needs: Householder QR (4/3 n^3) + n reflectors applied from the right (2 n^3)."""
    return (4.0 / 3.0 + 2.0) * float(n) ** 3


def _best(fn: Callable[[], None], repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return float(best)


def matmul_gflops(n: int = 2048, repeats: int = 3, rng=0) -> float:
    """dgemm throughput ``2 n^3 / t`` in GFLOP/s, best of ``repeats``.

    >>> matmul_gflops(64, repeats=1) > 0
    True
    """
    n = check_positive_int("n", n)
    repeats = check_positive_int("repeats", repeats)
    g = as_generator(rng)
    A = g.standard_normal((n, n))
    B = g.standard_normal((n, n))
    A @ B  # warm-up
    return 2.0 * n**3 / _best(lambda: A @ B, repeats) / 1e9


def matched_size(flops: float) -> int:
    """The size m of a square dgemm with the given flop count, ``2 m^3 = flops`` (at least 8).

    >>> matched_size(2 * 300.0**3)
    300
    """
    return max(8, int(round((flops / 2.0) ** (1.0 / 3.0))))


def _engine_step_times(n: int, depth: int, method: str, rng=0, replicas: int = 1) -> np.ndarray:
    """Durations of steps 2..depth of one engine run on pre-drawn factors (see
    :func:`degeneracy.numerics.qr_engine.engine_step_times`), all replicas together."""
    return engine_step_times(n, depth, method=method, rng=rng, replicas=replicas)


def _numpy_step_times(n: int, depth: int, rng=0) -> np.ndarray:
    """Durations of steps 2..depth of the obvious loop ``Q, R = np.linalg.qr(W @ Q)`` on pre-drawn factors."""
    g = as_generator(rng)
    Ws = [gaussian(n, rng=g) for _ in range(depth)]
    Q = np.eye(n)
    s = np.zeros(n)
    stamps = []
    for W in Ws:
        Q, R = np.linalg.qr(W @ Q)
        s += np.log(np.abs(np.diagonal(R)))
        stamps.append(time.perf_counter())
    return np.diff(stamps)


def _draw_seconds(n: int, repeats: int, rng=0) -> float:
    """Best time to draw one real Gaussian ``n x n`` factor (the sampler's share of a sampled step)."""
    g = as_generator(rng)
    return _best(lambda: gaussian(n, rng=g), repeats)


def engine_seconds_per_step(n: int, steps: int = 5, repeats: int = 2, rng=0, method: str = "lapack") -> float:
    """Best single-step time of the engine (one replica, factors drawn beforehand) over ``repeats``
    runs of ``1 + steps`` steps; ``method`` "lapack" (geqrt + gemqrt, the default) or "geqrf".

    >>> engine_seconds_per_step(16, steps=2, repeats=1) > 0
    True
    """
    n = check_positive_int("n", n)
    steps = check_positive_int("steps", steps)
    return float(min(_engine_step_times(n, 1 + steps, method, rng).min() for _ in range(repeats)))


def numpy_qr_seconds_per_step(n: int, steps: int = 5, repeats: int = 2, rng=0) -> float:
    """Best single-step time of the obvious ``np.linalg.qr`` loop (same draws)."""
    n = check_positive_int("n", n)
    steps = check_positive_int("steps", steps)
    return float(min(_numpy_step_times(n, 1 + steps, rng).min() for _ in range(repeats)))


def blas_info() -> list[dict]:
    """threadpoolctl's view of the loaded BLAS libraries (numpy's and scipy's)."""
    import scipy.linalg.lapack  # noqa: F401  (load scipy's BLAS so it is listed)
    from threadpoolctl import threadpool_info

    return [
        {k: d.get(k) for k in ("internal_api", "prefix", "version", "architecture", "num_threads")}
        for d in threadpool_info()
        if d.get("user_api") == "blas"
    ]


def run_bench(
    *,
    sizes: Sequence[int] | None = None,
    batched_sizes: Sequence[int] | None = None,
    batched_replicas: int | None = None,
    quick: bool = False,
    threads: int | None = 1,
    steps: int | None = None,
    repeats: int | None = None,
    matmul_n: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Measure the matmul ceiling and the QR engine in one run.

    Parameters
    ----------
    sizes : sequence of int
        Engine sizes (default ``(64, 256, 1024)``; ``quick``: ``(8, 16, 32)``).
    batched_sizes : sequence of int
        Sizes of the batched rows (default ``(16, 32, 64)``; ``quick``: ``(8,)``).
    batched_replicas : int
        Replicas per batched step (default 64; ``quick``: 8).
    quick : bool
        Tiny sizes and one repetition (for tests; the numbers mean nothing).
    threads : int or None
        BLAS threads for every measurement (threadpoolctl); None leaves the current setting.
    progress : callable, optional
        Called with a short message before each measurement.

    Returns
    -------
    dict
        ``{"matmul_gflops": float, "threads": int, "kernels": [{"name": "qr-engine", "n": N,
        "replicas": 1, "lapack": ..., "seconds_per_step": ..., "gflops": ..., "ratio_to_matmul": ...,
        "ratio_to_matched": ..., "speedup_vs_numpy_qr": ..., "draw_seconds": ..., "ratio_with_draw": ...},
        ..., {"name": "qr-engine-batched", "n": N, "replicas": R, "lapack": ..., "seconds_per_step": ...
        (per replica), "gflops": ..., "ratio_to_matmul": ..., "ratio_to_matched": ...,
        "speedup_vs_single": ...}]}``.

    Examples
    --------
    >>> r = run_bench(quick=True)
    >>> sorted(r), sorted(r["kernels"][0])
    (['kernels', 'matmul_gflops', 'threads'], ['draw_seconds', 'gflops', 'lapack', 'n', 'name', 'ratio_to_matched', 'ratio_to_matmul', 'ratio_with_draw', 'replicas', 'seconds_per_step', 'speedup_vs_numpy_qr'])
    """
    from threadpoolctl import threadpool_limits

    if sizes is None:
        sizes = (8, 16, 32) if quick else (64, 256, FLOOR_N)
    sizes = [check_positive_int("sizes[i]", s) for s in sizes]
    if batched_sizes is None:
        batched_sizes = () if not sizes else ((8,) if quick else (16, 32, 64))
    batched_sizes = [check_positive_int("batched_sizes[i]", s) for s in batched_sizes]
    R = (check_positive_int("batched_replicas", batched_replicas) if batched_replicas is not None
         else (8 if quick else 64))
    steps = check_positive_int("steps", steps) if steps is not None else (2 if quick else None)
    repeats = check_positive_int("repeats", repeats) if repeats is not None else (1 if quick else 3)
    matmul_n = check_positive_int("matmul_n", matmul_n) if matmul_n is not None else (128 if quick else 2048)
    if threads is not None:
        threads = check_positive_int("threads", threads)
    say = progress or (lambda _msg: None)

    limiter = threadpool_limits(limits=threads, user_api="blas") if threads is not None else None
    try:
        info = blas_info()
        used = max((d["num_threads"] or 1) for d in info) if info else 1
        g = as_generator(0)
        A = g.standard_normal((matmul_n, matmul_n))
        B = g.standard_normal((matmul_n, matmul_n))
        # The measurements run interleaved, round after round, and each keeps its best time
        # (matmul: best call; kernels: best single step), so a busy moment on a shared machine
        # hits all of them alike.
        step_count = {n: (steps if steps is not None else max(3, min(30, int(3e8 / n**3) + 3)))
                      for n in set(sizes) | set(batched_sizes)}
        A @ B  # warm-up
        for n in sizes:  # warm-up: workspace queries, page faults
            _engine_step_times(n, 2, "lapack")
            _engine_step_times(n, 2, "geqrf")
            _numpy_step_times(n, 2)
        for n in batched_sizes:
            _engine_step_times(n, 2, "batched", replicas=R)
        half = max(1, matmul_n // 2)
        A2, B2 = A[:half, :half].copy(), B[:half, :half].copy()
        best: dict = {"matmul": np.inf, "matmul_half": np.inf}

        def time_matmul() -> None:
            # the full size once and the half size four times (similar total time): short calls
            # catch quiet moments as often as the short engine steps do, so the ceiling is not
            # depressed relative to them by load from other processes; the best rate counts
            t = time.perf_counter()
            A @ B
            best["matmul"] = min(best["matmul"], time.perf_counter() - t)
            for _ in range(4):
                t = time.perf_counter()
                A2 @ B2
                best["matmul_half"] = min(best["matmul_half"], time.perf_counter() - t)

        def keep(key, value: float) -> None:
            best[key] = min(best.get(key, np.inf), float(value))

        # dgemm operands of matched duration: as many flops as one engine step (all replicas), so
        # under load the ceiling's calls catch quiet moments as often as the steps they are held to
        matched: dict = {}

        def time_matched(n: int, flops: float) -> None:
            m = matched_size(flops)
            if m not in matched:
                matched[m] = (g.standard_normal((m, m)), g.standard_normal((m, m)))
            X, Y = matched[m]
            for _ in range(3):
                t = time.perf_counter()
                X @ Y
                keep(("gemm", m), time.perf_counter() - t)

        if not sizes and not batched_sizes:
            for rnd in range(repeats):
                say(f"round {rnd + 1}/{repeats}: matmul")
                time_matmul()
        for rnd in range(repeats):
            for n in sizes:
                say(f"round {rnd + 1}/{repeats}: matmul, QR engine N={n}")
                time_matmul()  # the ceiling is sampled as often and as spread out as the kernels
                time_matched(n, ENGINE_FLOPS(n))
                d = 1 + step_count[n]
                keep(("lapack", n), _engine_step_times(n, d, "lapack").min())
                keep(("geqrf", n), _engine_step_times(n, d, "geqrf").min())
                keep(("numpy", n), _numpy_step_times(n, d).min())
                keep(("draw", n), _draw_seconds(n, 3))
            for n in batched_sizes:
                say(f"round {rnd + 1}/{repeats}: matmul, batched QR engine N={n}, {R} replicas")
                time_matmul()
                time_matched(n, R * ENGINE_FLOPS(n))
                d = 1 + step_count[n]
                keep(("batched", n), _engine_step_times(n, d, "batched", replicas=R).min() / R)
                keep(("single", n), _engine_step_times(n, d, "lapack").min())
        rates = [2.0 * matmul_n**3 / best["matmul"], 2.0 * half**3 / best["matmul_half"]]
        rates += [2.0 * m**3 / best[("gemm", m)] for m in matched if m >= 256]  # small dgemm is not the ceiling
        ceiling = max(rates) / 1e9

        def per_step(kind: str, n: int) -> float:
            return max(best[(kind, n)], 1e-12)

        def matched_rate(flops: float) -> float:
            m = matched_size(flops)
            return 2.0 * m**3 / best[("gemm", m)] / 1e9

        kernels = []
        for n in sizes:
            t_numpy = per_step("numpy", n)
            draw = per_step("draw", n)
            for name, kind in (("qr-engine", "lapack"), ("qr-engine-geqrf", "geqrf")):
                t = per_step(kind, n)
                gf = ENGINE_FLOPS(n) / t / 1e9
                kernels.append({"name": name, "n": int(n), "replicas": 1, "lapack": LAPACK_ROUTINES[name],
                                "seconds_per_step": float(t), "gflops": float(gf),
                                "ratio_to_matmul": float(gf / ceiling),
                                "ratio_to_matched": float(gf / matched_rate(ENGINE_FLOPS(n))),
                                "speedup_vs_numpy_qr": float(t_numpy / t), "draw_seconds": float(draw),
                                "ratio_with_draw": float(ENGINE_FLOPS(n) / (t + draw) / 1e9 / ceiling)})
        for n in batched_sizes:
            t = per_step("batched", n)
            gf = ENGINE_FLOPS(n) / t / 1e9
            kernels.append({"name": "qr-engine-batched", "n": int(n), "replicas": int(R),
                            "lapack": LAPACK_ROUTINES["qr-engine-batched"], "seconds_per_step": float(t),
                            "gflops": float(gf), "ratio_to_matmul": float(gf / ceiling),
                            "ratio_to_matched": float(gf / matched_rate(R * ENGINE_FLOPS(n))),
                            "speedup_vs_single": float(per_step("single", n) / t)})
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    return {"matmul_gflops": float(ceiling), "threads": int(used), "kernels": kernels}


# ---------------------------------------------------------------- trainer

def _trainer_step_seconds(widths, replicas: int, steps: int, rng=0, block: int | None = None) -> float:
    """Seconds per gradient-descent step of one :func:`numerics.training.train` call (population
    task: every step a forward and backward pass on the full batch and the update), timed around
    the whole call (no callback: the trainer runs its cache-sized replica blocks) and divided by
    ``steps``."""
    from degeneracy.numerics.networks import init_network
    from degeneracy.numerics.training import PopulationTask, train

    g = as_generator(rng)
    net = init_network(widths, replicas, init="orthogonal", activation="tanh", rng=g)
    target = 0.5 * g.standard_normal((widths[-1], widths[0])) / np.sqrt(widths[0])
    t = time.perf_counter()
    train(net, PopulationTask(target), optimizer="gd", lr=1e-3, steps=steps, record_at=(), block=block)
    return (time.perf_counter() - t) / steps


def _trainer_gemm_seconds(widths, replicas: int, block: int, steps: int, rng=0) -> float:
    """Seconds per step of the training step's GEMMs ALONE (the bound of the trainer): for every
    block of ``block`` replicas, the same stacked ``numpy.matmul`` calls on the same shapes and
    layouts as :meth:`numerics.networks.NetworkStack.forward` / ``backward`` (``W_l x_{l-1}``;
    ``gh x_{l-1}^T`` and ``W_l^T gh``, one array per layer), in a tight loop, nothing else; best
    step of ``steps``."""
    g = as_generator(rng)
    L = len(widths) - 1
    B = widths[0]
    x0 = g.standard_normal((widths[0], B))
    Ws = [g.standard_normal((replicas, widths[l + 1], widths[l])) / np.sqrt(widths[l]) for l in range(L)]
    acts = [g.standard_normal((replicas, widths[l + 1], B)) for l in range(L)]
    # as the trainer's fused backward pass: one gradient buffer per shape, two alternating delta buffers
    gW = {s: np.empty((replicas,) + s) for s in {(widths[l + 1], widths[l]) for l in range(L)}}
    deltas = {(p, d): np.empty((replicas, d, B)) for p in (0, 1) for d in set(widths)}
    blocks = [slice(s, min(replicas, s + block)) for s in range(0, replicas, block)]
    best = np.inf
    for _ in range(steps):
        t = time.perf_counter()
        for sl in blocks:
            cur = x0
            for l in range(L):
                np.matmul(Ws[l][sl], cur, out=acts[l][sl])
                cur = acts[l][sl]
            for l in range(L - 1, -1, -1):
                xin = acts[l - 1][sl] if l > 0 else x0
                np.matmul(acts[l][sl], xin.swapaxes(-1, -2), out=gW[(widths[l + 1], widths[l])][sl])
                np.matmul(Ws[l][sl].swapaxes(-1, -2), acts[l][sl], out=deltas[(l % 2, widths[l])][sl])
        best = min(best, time.perf_counter() - t)
    return float(best)


#: Issue floors of the batched trainer at width 64, depth 30, 10 replicas (batch 64).
TRAINER_FLOORS = {"ratio_to_matmul": 0.6, "speedup_vs_replica_loop": 1.5}
TRAINER_FLOOR_CONFIG = (64, 30, 10)


def trainer_bench(ceiling: float, *, configs: Sequence[tuple] | None = None, quick: bool = False,
                  repeats: int | None = None, say: Callable[[str], None] | None = None) -> list[dict]:
    """Step time of the batched trainer against the matmul ceiling, a loop over replicas, and the bound.

    ``configs`` are ``(width, depth, replicas)``: ``depth`` layers of ``width x width`` (tanh,
    linear readout), ``replicas`` networks in one stack, batch ``width`` (population task).
    Default ``((64, 30, 10), (32, 20, 10), (256, 10, 4))`` (the first the shape of the real-data
    runs: 64 features, minibatch 64); ``quick``: ``((8, 3, 2),)``. Per round, the stack and the loop
    (the same ``R`` networks trained one at a time, stacks of one, same code) run interleaved, each
    timed over a whole :func:`numerics.training.train` call of ``steps`` steps (enough for about
    0.3 s at 50 GFLOP/s, between 10 and 40, the same for both: the call's set-up, the copy of the
    network and the final loss evaluation are spread over the steps alike); the best round counts.
    ``block`` is the trainer's replica block (:func:`numerics.training.auto_block`).

    The BOUND, measured in the same rounds: ``gemm_bound_ratio`` is the step's GEMMs alone (the
    same stacked matmul calls, shapes and layouts, in the trainer's blocks, nothing else; see
    :func:`_trainer_gemm_seconds`) as a ratio to the ceiling, ``gemm_bound_loop_ratio`` the same
    one replica at a time, and ``speedup_bound`` = loop time / stacked-GEMM time: the speedup over
    the replica loop the stack would reach if everything but its GEMMs (activations, their
    derivatives, the update, Python) were free. At width 64 the GEMMs are ``64 x 64 x 64`` per
    replica whether stacked or not (stacking removes Python overhead, not GEMM work), so
    ``speedup_bound`` is small there; it says how far from the achievable the floors are.

    >>> rows = trainer_bench(10.0, quick=True)
    >>> sorted(rows[0])
    ['batch', 'block', 'depth', 'gemm_bound_loop_ratio', 'gemm_bound_ratio', 'gflops', 'name', 'ratio_to_matmul', 'replicas', 'seconds_per_step', 'speedup_bound', 'speedup_vs_replica_loop', 'steps', 'width']
    """
    from degeneracy.numerics.networks import init_network
    from degeneracy.numerics.training import auto_block, step_flops

    say = say or (lambda _m: None)
    configs = configs if configs is not None else (((8, 3, 2),) if quick else ((64, 30, 10), (32, 20, 10),
                                                                               (256, 10, 4)))
    repeats = check_positive_int("repeats", repeats) if repeats is not None else (1 if quick else 3)
    rows = []
    for width, depth, R in configs:
        width, depth, R = (check_positive_int(k, v) for k, v in (("width", width), ("depth", depth), ("replicas", R)))
        widths = [width] * (depth + 1)
        flops = step_flops(widths, R, width)
        steps = 2 if quick else int(min(40, max(10, 0.3 * 50e9 / flops)))
        block = auto_block(init_network(widths, R, rng=0), width, "gd")
        _trainer_step_seconds(widths, R, 1)  # warm-up
        best_stack = best_loop = best_gemm = best_gemm_loop = np.inf
        for rnd in range(repeats):
            say(f"round {rnd + 1}/{repeats}: trainer width {width}, depth {depth}, {R} replicas")
            best_stack = min(best_stack, _trainer_step_seconds(widths, R, steps))
            # the obvious loop: the same R networks trained one at a time
            best_loop = min(best_loop, sum(_trainer_step_seconds(widths, 1, steps, rng=r) for r in range(R)))
            best_gemm = min(best_gemm, _trainer_gemm_seconds(widths, R, block, steps))
            best_gemm_loop = min(best_gemm_loop, _trainer_gemm_seconds(widths, R, 1, steps))
        t = max(best_stack, 1e-12)
        gf = flops / t / 1e9
        rows.append({"name": "batched-trainer", "width": width, "depth": depth, "replicas": R, "batch": width,
                     "block": int(block), "steps": int(steps), "seconds_per_step": t, "gflops": float(gf),
                     "ratio_to_matmul": float(gf / ceiling), "speedup_vs_replica_loop": float(best_loop / t),
                     "gemm_bound_ratio": float(flops / max(best_gemm, 1e-12) / 1e9 / ceiling),
                     "gemm_bound_loop_ratio": float(flops / max(best_gemm_loop, 1e-12) / 1e9 / ceiling),
                     "speedup_bound": float(best_loop / max(best_gemm, 1e-12))})
    return rows


# ---------------------------------------------------------------- free probability

def free_density_bench(*, depth: int = 100, points: int = 10_000, quick: bool = False, repeats: int | None = None,
                       say: Callable[[str], None] | None = None) -> list[dict]:
    """Density throughput of the certified free-probability laws of the Jacobian spectrum
    (:func:`theory.isometry.jacobian_spectrum`): a masked activation (critical hard-tanh, orthogonal
    weights, q* = 1/4: Bernoulli masks, a rational S-transform) and a smooth one (critical tanh,
    Gaussian weights, q* = 1/4: the continuous law of phi'(h)^2 integrated up to the real axis), at
    ``depth`` and ``points`` points spread over the support. Reports the seconds to build the law, the
    wall and CPU seconds of the ``pdf`` call (best of ``repeats``), ``points_per_second`` and whether
    the call stayed under :data:`FREE_DENSITY_FLOOR_SECONDS` (issue 11: a 10^4-point density under a
    second on one core), with the load average (another process on a shared machine inflates the wall
    time). ``quick``: depth 4, 200 points, hard-tanh only.

    >>> rows = free_density_bench(quick=True)
    >>> sorted(rows[0])  # doctest: +NORMALIZE_WHITESPACE
    ['activation', 'cpu_seconds_pdf', 'depth', 'floor_seconds', 'load_average', 'passed', 'points',
     'points_per_second', 'seconds_build', 'seconds_pdf', 'weights']
    """
    from degeneracy.theory.isometry import critical_point, jacobian_spectrum

    say = say or (lambda _m: None)
    if quick:
        depth, points = 4, 200
    depth = check_positive_int("depth", depth)
    points = check_positive_int("points", points)
    repeats = check_positive_int("repeats", repeats) if repeats is not None else (1 if quick else 3)
    cases = (("hard_tanh", "orthogonal"),) if quick else (("hard_tanh", "orthogonal"), ("tanh", "gaussian"))
    rows = []
    for activation, weights in cases:
        sw, sb = critical_point(activation, 0.25)
        t_build, t_pdf, c_pdf = np.inf, np.inf, np.inf
        for rnd in range(repeats):
            say(f"round {rnd + 1}/{repeats}: free density {activation}/{weights}, depth {depth}")
            t0 = time.perf_counter()
            law = jacobian_spectrum(activation, depth, weights=weights, sigma_w2=sw, sigma_b2=sb)
            lo, hi = law.support()
            t1 = time.perf_counter()
            x = np.linspace(lo, hi, points + 2)[1:-1]
            c0 = time.process_time()
            t1b = time.perf_counter()
            p = law.pdf(x)
            t2 = time.perf_counter()
            c1 = time.process_time()
            if not np.all(np.isfinite(p)):
                raise NumericalFailure(f"free density of {activation}/{weights} returned non-finite values")
            t_build, t_pdf, c_pdf = min(t_build, t1 - t0), min(t_pdf, t2 - t1b), min(c_pdf, c1 - c0)
        scaled = FREE_DENSITY_FLOOR_SECONDS * points / 10_000
        rows.append({"activation": activation, "weights": weights, "depth": depth, "points": points,
                     "seconds_build": float(t_build), "seconds_pdf": float(t_pdf), "cpu_seconds_pdf": float(c_pdf),
                     "points_per_second": float(points / max(t_pdf, 1e-12)), "floor_seconds": float(scaled),
                     "passed": bool(c_pdf <= scaled), "load_average": [float(v) for v in os.getloadavg()]})
    return rows


# ---------------------------------------------------------------- 1 vs 2 workers

class MonteCarloUnit:
    """One unit of the workers benchmark: the summed Lyapunov estimates of ``replicas``
    ``n x n`` Gaussian products of ``depth`` factors on the stream ``stream_for(seed, "bench-unit", k)``.

    Picklable; one BLAS thread when called.

    >>> MonteCarloUnit(0, 4, 3, 1)() == MonteCarloUnit(0, 4, 3, 1)()
    True
    """

    def __init__(self, k: int, n: int, depth: int, replicas: int = 1, seed: int = 0):
        self.k, self.n, self.depth, self.replicas, self.seed = int(k), int(n), int(depth), int(replicas), int(seed)
        self.id = f"bench-unit-{self.k}"

    def __call__(self) -> float:
        from threadpoolctl import threadpool_limits

        from degeneracy.numerics.rng import stream_for

        with threadpool_limits(limits=1):
            res = lyapunov_qr(self.n, self.depth, replicas=self.replicas,
                              rng=stream_for(self.seed, "bench-unit", str(self.k)))
        return float(np.sum(res.exponents))


def _call(unit):
    return unit()


def _warm(_i: int) -> int:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return int(np.ones((4, 4)).sum())


def workers_bench(*, units: int | None = None, n: int | None = None, depth: int | None = None,
                  rounds: int | None = None, quick: bool = False,
                  say: Callable[[str], None] | None = None) -> dict:
    """Throughput of 1 vs 2 worker processes (one BLAS thread each) on equal Monte Carlo units.

    Both pools are started and warmed up before timing (process start is not counted); rounds
    alternate 1 and 2 workers so that load from other processes hits both alike; the best wall
    time of each counts. Default: 8 units of ``lyapunov_qr(256, 150)``; ``quick``: 4 units of
    ``lyapunov_qr(16, 10)``.

    >>> r = workers_bench(quick=True)
    >>> r["identical"], sorted(r)
    (True, ['depth', 'floor', 'identical', 'load_average', 'n', 'passed', 'rounds', 'seconds_1', 'seconds_2', 'speedup', 'throughput_1', 'throughput_2', 'units', 'workload'])
    """
    from concurrent.futures import ProcessPoolExecutor

    say = say or (lambda _m: None)
    units = check_positive_int("units", units) if units is not None else (4 if quick else 8)
    n = check_positive_int("n", n) if n is not None else (16 if quick else 256)
    depth = check_positive_int("depth", depth) if depth is not None else (10 if quick else 150)
    rounds = check_positive_int("rounds", rounds) if rounds is not None else (1 if quick else 3)
    work = [MonteCarloUnit(k, n, depth) for k in range(units)]
    times: dict[int, list[float]] = {1: [], 2: []}
    outputs: dict[int, list[float]] = {}
    pools = {w: ProcessPoolExecutor(max_workers=w) for w in (1, 2)}
    try:
        for w, pool in pools.items():
            list(pool.map(_warm, range(4 * w)))
        for rnd in range(rounds):
            for w in (1, 2):
                say(f"round {rnd + 1}/{rounds}: {units} Monte Carlo units on {w} worker{'s' * (w > 1)}")
                t0 = time.perf_counter()
                out = list(pools[w].map(_call, work))
                times[w].append(time.perf_counter() - t0)
                outputs.setdefault(w, out)
    finally:
        for pool in pools.values():
            pool.shutdown()
    t1, t2 = min(times[1]), min(times[2])
    speedup = t1 / max(t2, 1e-12)
    try:
        load = [round(float(x), 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        load = []
    return {"workload": f"lyapunov_qr(n={n}, depth={depth}) per unit", "units": units, "n": n, "depth": depth,
            "rounds": {"1": [float(t) for t in times[1]], "2": [float(t) for t in times[2]]},
            "seconds_1": float(t1), "seconds_2": float(t2), "throughput_1": float(units / t1),
            "throughput_2": float(units / t2), "speedup": float(speedup),
            "identical": bool(outputs[1] == outputs[2]), "floor": WORKERS_FLOOR,
            "passed": None if quick else bool(speedup >= WORKERS_FLOOR), "load_average": load}


def _load() -> list:
    try:
        return [round(float(x), 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def _dask_local_cluster(workers: int):
    """``(cluster, client, executor)`` of a quiet ``LocalCluster`` with ``workers`` single-threaded
    worker processes, or ``(None, None, reason)`` when dask.distributed is not importable."""
    try:
        import logging

        from distributed import Client, LocalCluster
    except ImportError as exc:
        return None, None, f"skipped: dask.distributed is not importable ({exc}); pip install 'degeneracy[dask]'"
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker"):
        logging.getLogger(name).setLevel(logging.ERROR)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster, set_as_default=False)
    return cluster, client, client.get_executor(pure=False)


def scaleout_bench(*, units: int | None = None, n: int | None = None, depth: int | None = None,
                   rounds: int | None = None, quick: bool = False, dask: bool = True,
                   say: Callable[[str], None] | None = None) -> dict:
    """The same fixed workload through :func:`degeneracy.execution.run_units` on 1 local worker,
    2 local workers and 2 workers of a dask ``LocalCluster`` (see the module docstring).

    Pools and the cluster are started and warmed up before timing; rounds alternate the backends
    so that load from other processes hits them alike; the best round of each counts. Default: 8
    units of ``lyapunov_qr(256, 150)``; ``quick``: 4 units of ``lyapunov_qr(16, 10)``.

    Returns ``{"workload", "units", "n", "depth", "cores", "load_before", "load_after", "busy",
    "idle_load_per_core", "seconds": {backend: s}, "speedup": {backend: x or None}, "identical",
    "dask", "floor", "passed", "message"}``; backends ``local-1``, ``local-2``, ``dask-2``.
    ``speedup`` is ``None`` (and ``passed`` is ``None``) when the machine was busy.

    >>> r = scaleout_bench(quick=True, dask=False)
    >>> r["identical"], sorted(r["seconds"]), r["dask"].startswith("skipped")
    (True, ['local-1', 'local-2'], True)
    """
    from concurrent.futures import ProcessPoolExecutor

    from degeneracy.execution import default_workers, run_units

    say = say or (lambda _m: None)
    units = check_positive_int("units", units) if units is not None else (4 if quick else 8)
    n = check_positive_int("n", n) if n is not None else (16 if quick else 256)
    depth = check_positive_int("depth", depth) if depth is not None else (10 if quick else 150)
    rounds = check_positive_int("rounds", rounds) if rounds is not None else (1 if quick else 3)
    cores = default_workers()
    load_before = _load()
    busy = bool(load_before) and load_before[0] > SCALEOUT_IDLE_LOAD * cores
    work = [MonteCarloUnit(k, n, depth) for k in range(units)]
    pool = ProcessPoolExecutor(max_workers=2)
    cluster = client = None
    executors: dict = {"local-1": None, "local-2": pool}
    dask_state = "skipped: not requested"
    try:
        warm = [MonteCarloUnit(k, 4, 2) for k in range(8)]  # imports the toolkit in every worker
        run_units(warm, executor=pool)  # through the scheduler: its module is imported in the workers too
        if dask:
            say("starting a dask LocalCluster of 2 workers")
            cluster, client, ex = _dask_local_cluster(2)
            if cluster is None:
                dask_state = ex
            else:
                run_units(warm, executor=ex)
                executors["dask-2"] = ex
                dask_state = "ran"
        times: dict = {k: [] for k in executors}
        outputs: dict = {}
        for rnd in range(rounds):
            for name, ex in executors.items():
                say(f"scale-out round {rnd + 1}/{rounds}: {units} units on {name}")
                t0 = time.perf_counter()
                out = run_units(work, workers=1, executor=ex)
                times[name].append(time.perf_counter() - t0)
                outputs.setdefault(name, out)
    finally:
        pool.shutdown()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    best = {k: float(min(v)) for k, v in times.items()}
    identical = all(o == outputs["local-1"] for o in outputs.values())
    if busy:
        speedup = {k: None for k in best if k != "local-1"}
        message = (f"machine busy (load {load_before[0]:g} on {cores} core{'s' * (cores != 1)}, above "
                   f"{SCALEOUT_IDLE_LOAD:g} per core before the measurement): speedup not measured")
    else:
        speedup = {k: float(best["local-1"] / max(t, 1e-12)) for k, t in best.items() if k != "local-1"}
        message = f"measured idle (load {load_before[0]:g} on {cores} cores)" if load_before else "load unknown"
    passed = None if busy else bool(speedup["local-2"] >= WORKERS_FLOOR)
    return {"workload": f"lyapunov_qr(n={n}, depth={depth}) per unit, through execution.run_units", "units": units,
            "n": n, "depth": depth, "rounds": rounds, "cores": cores, "load_before": load_before,
            "load_after": _load(), "busy": busy, "idle_load_per_core": SCALEOUT_IDLE_LOAD, "seconds": best,
            "speedup": speedup, "identical": bool(identical), "dask": dask_state, "floor": WORKERS_FLOOR,
            "passed": passed, "message": message}


def run_benchmarks(*, quick: bool = False, sections: Sequence[str] | None = None,
                   progress: Callable[[str], None] | None = None, **kwargs) -> dict:
    """The benchmark suite (``degeneracy bench``): :func:`run_bench` plus the sections
    ``trainer``, ``free``, ``workers`` and ``scaleout`` (see the module docstring).

    Parameters
    ----------
    quick : bool
        Tiny sizes (seconds; for tests, the numbers mean nothing).
    sections : sequence of str, optional
        Subset of :data:`SECTIONS` (default all); the matmul ceiling is always measured.
    progress : callable, optional
        Called with a short message before each measurement.
    **kwargs
        Passed to :func:`run_bench` (``sizes``, ``threads``, ``steps``, ``repeats``, ``matmul_n``).

    Returns
    -------
    dict
        The keys of :func:`run_bench` (``matmul_gflops``, ``threads``, ``kernels``) and, for the
        sections run, ``trainer`` (list), ``free_density`` (list), ``workers`` and ``scaleout`` (dicts), plus
        ``environment`` (BLAS libraries, OpenBLAS variables, load average, cores).
    """
    from threadpoolctl import threadpool_limits

    sections = tuple(SECTIONS if sections is None else sections)
    for sec in sections:
        if sec not in SECTIONS:
            raise ArgumentValueError(f"sections must be among {', '.join(SECTIONS)}, got {sec!r}")
    say = progress or (lambda _m: None)
    if "qr" not in sections:
        kwargs["sizes"] = ()
    result = run_bench(quick=quick, progress=say, **kwargs)
    threads = kwargs.get("threads", 1)
    limiter = threadpool_limits(limits=threads, user_api="blas") if threads is not None else None
    try:
        if "trainer" in sections:
            result["trainer"] = trainer_bench(result["matmul_gflops"], quick=quick, say=say)
        if "free" in sections:
            result["free_density"] = free_density_bench(quick=quick, say=say)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    if "workers" in sections:
        result["workers"] = workers_bench(quick=quick, say=say)
    if "scaleout" in sections:
        result["scaleout"] = scaleout_bench(quick=quick, say=say)
    try:
        load = [round(float(x), 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        load = []
    result["environment"] = {"blas": blas_info(), "openblas": environment_note(), "load_average": load,
                             "cpu_count": os.cpu_count(), "quick": bool(quick)}
    return result


def format_table(result: dict) -> str:
    """A plain-text table of a :func:`run_bench` result, with the floors.

    >>> print(format_table({"matmul_gflops": 50.0, "threads": 1, "kernels": [{"name": "qr-engine",
    ...     "n": 1024, "replicas": 1, "lapack": "dgeqrt + dgemqrt", "seconds_per_step": 0.09, "gflops": 39.8,
    ...     "ratio_to_matmul": 0.8, "speedup_vs_numpy_qr": 1.6, "draw_seconds": 0.008,
    ...     "ratio_with_draw": 0.73}]}))  # doctest: +NORMALIZE_WHITESPACE
    matmul ceiling: 50.0 GFLOP/s (dgemm, 1 BLAS thread)
    kernel                n    R   s/step  GFLOP/s  ratio to matmul (matched)  vs np.linalg.qr  (with draw)
    qr-engine          1024    1  0.09000     39.8             0.80                     1.60x         0.73
    floor ratio_to_matmul >= 0.75 at N=1024: 0.80 (pass)
    floor speedup_vs_numpy_qr >= 1.4 at N=1024: 1.60 (pass)
    LAPACK: qr-engine: dgeqrt + dgemqrt
    """
    lines = [
        f"matmul ceiling: {result['matmul_gflops']:.1f} GFLOP/s (dgemm, {result['threads']} BLAS "
        f"thread{'s' if result['threads'] != 1 else ''})",
        f"{'kernel':<17} {'n':>5} {'R':>4} {'s/step':>8} {'GFLOP/s':>8} {'ratio to matmul':>16} "
        f"{'(matched)':>9} {'vs np.linalg.qr':>16} {'(with draw)':>12}",
    ]
    for k in result["kernels"]:
        if k["name"] == "qr-engine-batched":
            tail = f"{k['speedup_vs_single']:>11.2f}x vs 1 replica (per replica)"
        else:
            tail = f"{k['speedup_vs_numpy_qr']:>15.2f}x {k['ratio_with_draw']:>12.2f}"
        matched = f"{k['ratio_to_matched']:>9.2f}" if "ratio_to_matched" in k else f"{'':>9}"
        lines.append(f"{k['name']:<17} {k['n']:>5} {k.get('replicas', 1):>4} {k['seconds_per_step']:>8.5f} "
                     f"{k['gflops']:>8.1f} {k['ratio_to_matmul']:>16.2f} {matched} {tail}")
    for row in check_floors(result):
        if not row["metric"].startswith(("trainer", "scaleout")):
            lines.append(
                f"floor {row['metric']} >= {row['floor']} at N={row['n']}: {row['value']:.2f} "
                f"({'pass' if row['passed'] else 'FAIL'})"
            )
    seen = []
    for k in result["kernels"]:
        if k.get("lapack") and k["name"] not in seen:
            seen.append(k["name"])
            lines.append(f"LAPACK: {k['name']}: {k['lapack']}")
    if result.get("trainer"):
        lines.append("")
        lines.append(f"{'trainer (tanh, GD step)':<24} {'R':>3} {'block':>5} {'s/step':>9} {'GFLOP/s':>8} "
                     f"{'ratio to matmul':>16} {'vs replica loop':>16}   bound: {'GEMMs alone':>11} "
                     f"{'(loop)':>6} {'max speedup':>11}")
        for k in result["trainer"]:
            bound = (f"   {'':>6} {k['gemm_bound_ratio']:>11.2f} {k['gemm_bound_loop_ratio']:>6.2f} "
                     f"{k['speedup_bound']:>10.2f}x" if "gemm_bound_ratio" in k else "")
            lines.append(f"{'width ' + str(k['width']) + ', depth ' + str(k['depth']):<24} {k['replicas']:>3} "
                         f"{k.get('block', k['replicas']):>5} {k['seconds_per_step']:>9.5f} {k['gflops']:>8.1f} "
                         f"{k['ratio_to_matmul']:>16.2f} {k['speedup_vs_replica_loop']:>15.2f}x{bound}")
        if any("gemm_bound_ratio" in k for k in result["trainer"]):
            lines.append("(bound: the step's GEMMs alone, same calls and shapes, as a ratio to the ceiling, stacked "
                         "in the trainer's blocks and one replica at a time; max speedup = replica loop time / "
                         "stacked GEMM time)")
        for row in check_floors(result):
            if row["metric"].startswith("trainer"):
                lines.append(f"floor {row['metric']} >= {row['floor']} at width {row['n']}, depth "
                             f"{TRAINER_FLOOR_CONFIG[1]}, {TRAINER_FLOOR_CONFIG[2]} replicas: {row['value']:.2f} "
                             f"({'pass' if row['passed'] else 'FAIL'})")
    if result.get("free_density"):
        lines.append("")
        lines.append(f"{'free density (Jacobian)':<28} {'depth':>5} {'points':>7} {'build s':>8} {'pdf s':>8} "
                     f"{'pdf cpu s':>9} {'points/s':>10}  floor")
        for k in result["free_density"]:
            lines.append(f"{k['activation'] + ', ' + k['weights']:<28} {k['depth']:>5} {k['points']:>7} "
                         f"{k['seconds_build']:>8.3f} {k['seconds_pdf']:>8.3f} {k.get('cpu_seconds_pdf', float('nan')):>9.3f} "
                         f"{k['points_per_second']:>10.0f}  cpu <= {k.get('floor_seconds', 1.0):g} s: "
                         f"{'pass' if k.get('passed', True) else 'FAIL'}")
        load = result["free_density"][0].get("load_average")
        if load:
            lines.append(f"(load average {', '.join(f'{v:g}' for v in load)}: wall times on a shared machine are inflated)")
    w = result.get("workers")
    if w:
        lines.append("")
        lines.append(f"workers: {w['units']} units of {w['workload']}: 1 worker {w['seconds_1']:.2f} s, "
                     f"2 workers {w['seconds_2']:.2f} s (best of {len(w['rounds']['1'])}), speedup "
                     f"{w['speedup']:.2f}x; results identical: {'yes' if w['identical'] else 'NO'}")
        load = ", ".join(f"{x:g}" for x in w.get("load_average", []))
        held = "not held at --quick sizes" if w["passed"] is None else ("pass" if w["passed"] else "FAIL")
        lines.append(f"floor workers speedup >= {w['floor']}: {w['speedup']:.2f} "
                     f"({held}){'; load average ' + load if load else ''}")
    so = result.get("scaleout")
    if so:
        lines.append("")
        lines.append(f"scaleout: {so['units']} units of {so['workload']}; best of {so['rounds']}")
        for name, t in so["seconds"].items():
            x = so["speedup"].get(name)
            lines.append(f"  {name:<8} {t:8.2f} s" + (f"  speedup {x:.2f}x" if x is not None else ""))
        lines.append(f"  dask LocalCluster: {so['dask']}; results identical: {'yes' if so['identical'] else 'NO'}")
        lines.append(f"  load average before {', '.join(f'{v:g}' for v in so['load_before'])}, after "
                     f"{', '.join(f'{v:g}' for v in so['load_after'])}: {so['message']}")
        if so["passed"] is not None:
            lines.append(f"floor scaleout local-2 speedup >= {so['floor']}: {so['speedup']['local-2']:.2f} "
                         f"({'pass' if so['passed'] else 'FAIL'})")
    return "\n".join(lines)


def check_floors(result: dict) -> list[dict]:
    """Compare the ``"qr-engine"`` kernels of a :func:`run_bench` result with :data:`FLOORS`.

    Returns one row per floor whose size was measured: ``{"metric", "n", "value", "floor",
    "passed"}`` (empty if the run had none of the floor sizes).

    >>> rows = check_floors({"matmul_gflops": 50.0, "threads": 1, "kernels": [{"name": "qr-engine",
    ...     "n": 1024, "seconds_per_step": 0.1, "gflops": 35.0, "ratio_to_matmul": 0.7,
    ...     "speedup_vs_numpy_qr": 1.6}]})
    >>> [(r["metric"], r["passed"]) for r in rows]
    [('ratio_to_matmul', False), ('speedup_vs_numpy_qr', True)]
    """
    rows = []
    for k in result.get("kernels", []):
        if k.get("name") != "qr-engine":
            continue
        for metric, by_n in FLOORS.items():
            floor = by_n.get(k.get("n"))
            if floor is not None:
                rows.append({"metric": metric, "n": int(k["n"]), "value": k[metric], "floor": floor,
                             "passed": bool(k[metric] >= floor)})
    for k in result.get("trainer", []) or []:  # the trainer floors at width 64, depth 30, 10 replicas
        if (k.get("width"), k.get("depth"), k.get("replicas")) == TRAINER_FLOOR_CONFIG:
            for metric, floor in TRAINER_FLOORS.items():
                rows.append({"metric": f"trainer {metric}", "n": k["width"], "value": k[metric], "floor": floor,
                             "passed": bool(k[metric] >= floor)})
    w = result.get("workers") or {}
    if w.get("passed") is not None:  # None: a --quick run, whose toy workload is not held to the floor
        rows.append({"metric": "workers speedup", "n": 2, "value": w["speedup"], "floor": w["floor"],
                     "passed": bool(w["passed"])})
    so = result.get("scaleout") or {}
    if so.get("speedup", {}).get("local-2") is not None and not so.get("busy", True):
        # only a speedup measured on an idle machine is held to the floor
        rows.append({"metric": "scaleout speedup local-2", "n": 2, "value": so["speedup"]["local-2"],
                     "floor": so["floor"], "passed": bool(so["speedup"]["local-2"] >= so["floor"])})
    return rows


def environment_note() -> str:
    """OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as set in this process (they change the kernel)."""
    keys = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
    return ", ".join(f"{k}={os.environ[k]}" for k in keys if k in os.environ) or "no OpenBLAS overrides"
