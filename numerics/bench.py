"""Throughput of the QR (Benettin) engine against this machine's own matmul ceiling.

Measured in one run and with one BLAS thread count for everything (default: one thread, so the
numbers are per core and comparable on a shared machine):

* ``matmul_gflops`` -- the ceiling: ``2 N^3 / t`` for ``A @ B`` (dgemm) at N = 2048 and at
  N = 1024, the best rate over all repetitions (the higher, hence stricter, of the two);
* per size N, the engine step of :func:`numerics.products.lyapunov_qr` on the LAPACK path (draw
  a Gaussian matrix, apply the previous reflectors from the right, Householder QR), as kernel
  ``"qr-engine"`` (the default compact-WY ``geqrt`` + ``gemqrt``) and ``"qr-engine-geqrf"``
  (``geqrf`` + ``ormqr`` with queried workspaces, REFERENCE.md section 7): ``seconds_per_step``,
  ``gflops`` = ``(10/3) N^3 / seconds_per_step`` (Householder QR of N x N costs ``(4/3) N^3``;
  applying N reflectors from the right to an N x N matrix costs ``2 N^3``; the Gaussian draw
  is counted in the time, not in the flops), ``ratio_to_matmul``, and ``speedup_vs_numpy_qr``
  against the obvious loop ``Q, R = np.linalg.qr(W @ Q)`` timed in the same run.

Step times are single steps (after the first, which has no reflectors to apply yet), timed
inside the engine's loop; the reported time is the best step over all rounds, as the ceiling
is the best matmul call. All measurements run interleaved, round after round, so that load
from other processes on a shared machine affects them alike.
No CLI here: ``degeneracy bench`` calls :func:`run_bench`. Never used in tests for timings.
"""

from __future__ import annotations

import os
import time
from typing import Callable, Sequence

import numpy as np

from numerics.ensembles import gaussian
from numerics.products import lyapunov_qr
from numerics.rng import as_generator
from theory._validate import check_positive_int

__all__ = ["FLOORS", "ENGINE_FLOPS", "matmul_gflops", "engine_seconds_per_step", "numpy_qr_seconds_per_step",
           "run_bench", "run_benchmarks", "format_table", "check_floors", "blas_info", "environment_note"]

#: Issue floors at N = 1024: fraction of the matmul ceiling, and speed-up over np.linalg.qr.
FLOORS = {"ratio_to_matmul": 0.55, "speedup_vs_numpy_qr": 1.4}
FLOOR_N = 1024


def ENGINE_FLOPS(n: int) -> float:
    """Flops of one engine step: geqrf (4/3 n^3) + ormqr with n reflectors from the right (2 n^3)."""
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


def _engine_step_times(n: int, depth: int, method: str, rng=0) -> np.ndarray:
    """Durations of steps 2..depth of one :func:`lyapunov_qr` run (step 1 has no reflectors
    to apply yet), timed through the engine's private per-step hook. Each step includes the
    Gaussian draw."""
    from numerics.products import _choose_method, _run_benettin, _sampler_source, ensemble_sampler

    stamps: list[float] = []
    src = _sampler_source(n, depth, 1, "real", ensemble_sampler(n), as_generator(rng), True)
    _run_benettin(src, _choose_method(method, n, 1), (), on_step=lambda _l: stamps.append(time.perf_counter()))
    return np.diff(stamps)


def _numpy_step_times(n: int, depth: int, rng=0) -> np.ndarray:
    """Durations of steps 2..depth of the obvious loop ``Q, R = np.linalg.qr(W @ Q)``."""
    g = as_generator(rng)
    Q = np.eye(n)
    s = np.zeros(n)
    stamps = []
    for _ in range(depth):
        W = gaussian(n, rng=g)
        Q, R = np.linalg.qr(W @ Q)
        s += np.log(np.abs(np.diagonal(R)))
        stamps.append(time.perf_counter())
    return np.diff(stamps)


def engine_seconds_per_step(n: int, steps: int = 5, repeats: int = 2, rng=0, method: str = "lapack") -> float:
    """Best single-step time of :func:`lyapunov_qr` (one replica) over ``repeats`` runs of
    ``1 + steps`` steps; ``method`` "lapack" (geqrt + gemqrt, the default) or "geqrf".

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
        "seconds_per_step": ..., "gflops": ..., "ratio_to_matmul": ...,
        "speedup_vs_numpy_qr": ...}, ...]}``.

    Examples
    --------
    >>> r = run_bench(quick=True)
    >>> sorted(r), sorted(r["kernels"][0])
    (['kernels', 'matmul_gflops', 'threads'], ['gflops', 'n', 'name', 'ratio_to_matmul', 'seconds_per_step', 'speedup_vs_numpy_qr'])
    """
    from threadpoolctl import threadpool_limits

    if sizes is None:
        sizes = (8, 16, 32) if quick else (64, 256, FLOOR_N)
    sizes = [check_positive_int("sizes[i]", s) for s in sizes]
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
        step_count = {n: (steps if steps is not None else max(3, min(30, int(3e8 / n**3) + 3))) for n in sizes}
        A @ B  # warm-up
        for n in sizes:  # warm-up: workspace queries, page faults
            _engine_step_times(n, 2, "lapack")
            _engine_step_times(n, 2, "geqrf")
            _numpy_step_times(n, 2)
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

        for rnd in range(repeats):
            for n in sizes:
                say(f"round {rnd + 1}/{repeats}: matmul, N={n}")
                time_matmul()  # the ceiling is sampled as often and as spread out as the kernels
                d = 1 + step_count[n]
                for kind, times in (
                    ("lapack", lambda: _engine_step_times(n, d, "lapack")),
                    ("geqrf", lambda: _engine_step_times(n, d, "geqrf")),
                    ("numpy", lambda: _numpy_step_times(n, d)),
                ):
                    best[(kind, n)] = min(best.get((kind, n), np.inf), float(times().min()))
        ceiling = max(2.0 * matmul_n**3 / best["matmul"], 2.0 * half**3 / best["matmul_half"]) / 1e9

        def per_step(kind: str, n: int) -> float:
            return max(best[(kind, n)], 1e-12)

        kernels = []
        for n in sizes:
            t_numpy = per_step("numpy", n)
            for name, kind in (("qr-engine", "lapack"), ("qr-engine-geqrf", "geqrf")):
                t = per_step(kind, n)
                gf = ENGINE_FLOPS(n) / t / 1e9
                kernels.append(
                    {
                        "name": name,
                        "n": int(n),
                        "seconds_per_step": float(t),
                        "gflops": float(gf),
                        "ratio_to_matmul": float(gf / ceiling),
                        "speedup_vs_numpy_qr": float(t_numpy / t),
                    }
                )
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    return {"matmul_gflops": float(ceiling), "threads": int(used), "kernels": kernels}


def run_benchmarks(*, quick: bool = False, **kwargs) -> dict:
    """Alias of :func:`run_bench` (the name ``degeneracy bench`` calls)."""
    return run_bench(quick=quick, **kwargs)


def format_table(result: dict) -> str:
    """A plain-text table of a :func:`run_bench` result, with the floors at N = 1024.

    >>> print(format_table({"matmul_gflops": 50.0, "threads": 1, "kernels": [{"name": "qr-engine",
    ...     "n": 1024, "seconds_per_step": 0.1, "gflops": 35.0, "ratio_to_matmul": 0.7,
    ...     "speedup_vs_numpy_qr": 1.6}]}))  # doctest: +NORMALIZE_WHITESPACE
    matmul ceiling: 50.0 GFLOP/s (dgemm, 1 BLAS thread)
    kernel               n   s/step   GFLOP/s  ratio to matmul  vs np.linalg.qr
    qr-engine         1024  0.10000      35.0             0.70            1.60x
    floor ratio_to_matmul >= 0.55 at N=1024: 0.70 (pass)
    floor speedup_vs_numpy_qr >= 1.4 at N=1024: 1.60 (pass)
    """
    lines = [
        f"matmul ceiling: {result['matmul_gflops']:.1f} GFLOP/s (dgemm, {result['threads']} BLAS "
        f"thread{'s' if result['threads'] != 1 else ''})",
        f"{'kernel':<16} {'n':>5} {'s/step':>8} {'GFLOP/s':>9} {'ratio to matmul':>16} {'vs np.linalg.qr':>16}",
    ]
    for k in result["kernels"]:
        lines.append(
            f"{k['name']:<16} {k['n']:>5} {k['seconds_per_step']:>8.5f} {k['gflops']:>9.1f} "
            f"{k['ratio_to_matmul']:>16.2f} {k['speedup_vs_numpy_qr']:>15.2f}x"
        )
    for row in check_floors(result):
        lines.append(
            f"floor {row['metric']} >= {row['floor']} at N={row['n']}: {row['value']:.2f} "
            f"({'pass' if row['passed'] else 'FAIL'})"
        )
    return "\n".join(lines)


def check_floors(result: dict) -> list[dict]:
    """Compare the N = 1024 kernel of a :func:`run_bench` result with :data:`FLOORS`.

    Returns one row per floor: ``{"metric", "n", "value", "floor", "passed"}`` (empty if the
    run had no N = 1024 kernel).

    >>> check_floors({"matmul_gflops": 50.0, "threads": 1, "kernels": [{"name": "qr-engine",
    ...     "n": 1024, "seconds_per_step": 0.1, "gflops": 35.0, "ratio_to_matmul": 0.7,
    ...     "speedup_vs_numpy_qr": 1.6}]})[0]["passed"]
    True
    """
    rows = []
    for k in result.get("kernels", []):
        if k.get("name") == "qr-engine" and k.get("n") == FLOOR_N:
            for metric, floor in FLOORS.items():
                rows.append({"metric": metric, "n": FLOOR_N, "value": k[metric], "floor": floor,
                             "passed": bool(k[metric] >= floor)})
    return rows


def environment_note() -> str:
    """OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as set in this process (they change the kernel)."""
    keys = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
    return ", ".join(f"{k}={os.environ[k]}" for k in keys if k in os.environ) or "no OpenBLAS overrides"
