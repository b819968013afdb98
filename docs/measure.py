"""The machine facts of docs/performance.md that `degeneracy bench` does not measure.

Run from anywhere after installing the toolkit: ``python docs/measure.py`` (about a minute on the
2-core machine). Every timing is the best of several repetitions (the least disturbed by other
processes); the load average is printed beside the numbers. Not part of the package or the tests.

Sections: normal draws per bit generator; the workspace of LAPACK ``dgeqrf`` at N = 1024 and the
``np.linalg.qr`` loop at the same size; the stacked ``np.linalg.qr`` gufunc against the per-matrix
LAPACK loop of the QR engine at small N; matmul with one and two BLAS threads.
"""

from __future__ import annotations

import os
import time

import numpy as np
import scipy.linalg.lapack as lapack
from threadpoolctl import threadpool_info, threadpool_limits

from degeneracy.numerics.products import lyapunov_qr


def best(fn, repeats: int) -> float:
    out = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def rng_speed(draws: int = 10_000_000) -> None:
    for name in ("SFC64", "PCG64", "PCG64DXSM", "Philox"):
        gen = np.random.Generator(getattr(np.random, name)(0))
        out = np.empty(draws)
        t = best(lambda: gen.standard_normal(out=out), 5)
        print(f"rng: {name:10s} {t / draws * 1e9:5.2f} ns per standard normal")


def geqrf_workspace(n: int = 1024) -> None:
    rng = np.random.default_rng(0)
    a0 = np.asfortranarray(rng.standard_normal((n, n)))
    lwork = int(lapack.dgeqrf(a0, lwork=-1)[2][0])
    t_opt = best(lambda: lapack.dgeqrf(a0.copy(order="F"), lwork=lwork), 3)
    t_def = best(lambda: lapack.dgeqrf(a0.copy(order="F")), 3)
    t_np = best(lambda: np.linalg.qr(a0), 3)
    print(f"dgeqrf n={n}: queried lwork={lwork}: {t_opt * 1e3:.1f} ms; default lwork (3n): {t_def * 1e3:.1f} ms "
          f"({t_def / t_opt:.1f}x slower); np.linalg.qr (forms Q): {t_np * 1e3:.1f} ms")


def batched_crossover(replicas: int = 16, depth: int = 200) -> None:
    for n in (4, 8, 16, 24, 32, 64):
        tl = best(lambda: lyapunov_qr(n, depth, replicas=replicas, rng=0, method="lapack"), 3)
        tb = best(lambda: lyapunov_qr(n, depth, replicas=replicas, rng=0, method="batched"), 3)
        per = depth * replicas
        print(f"QR engine n={n:3d}, {replicas} replicas: lapack loop {tl / per * 1e6:6.1f} us/matrix, "
              f"stacked np.linalg.qr {tb / per * 1e6:6.1f} us/matrix")


def blas_threads(n: int = 2048) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    for k in (1, 2):
        with threadpool_limits(limits=k, user_api="blas"):
            t = best(lambda: a @ b, 5)
        print(f"matmul n={n}, {k} BLAS thread(s): {2 * n**3 / t / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    print("load average before:", os.getloadavg())
    print("BLAS:", [(i.get("internal_api"), i.get("version"), i.get("architecture")) for i in threadpool_info()])
    with threadpool_limits(limits=1):
        rng_speed()
        geqrf_workspace()
        batched_crossover()
    blas_threads()
    print("load average after:", os.getloadavg())
