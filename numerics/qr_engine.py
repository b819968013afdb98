"""The QR (Benettin) engine: finite-depth Lyapunov exponents of products, top k at a time.

For ``P = W_L ... W_1`` (:mod:`numerics.factors` for shapes and sources) the engine carries an
orthonormal frame ``Q_l`` with ``k`` columns: ``Q_0`` is the first ``k`` columns of the
identity and ``W_l Q_{l-1} = Q_l R_l`` (thin Householder QR, ``R_l`` is ``k x k``). The
finite-depth exponents are ``(1/L) sum_l log|diag R_l|`` (Benettin, Galgani, Giorgilli &
Strelcyn, Meccanica 15 (1980); Newman, Commun. Math. Phys. 103 (1986)); with ``k`` columns they
estimate the top ``k`` exponents. Exactly, ``sum_{i<=j} sum_l log|R_{l,ii}|`` is the log volume
``(1/2) log det`` of the Gram matrix of the first ``j`` columns of ``P Q_0``. Factors may be
rectangular (``N_l x N_{l-1}``); then ``k <= min_l N_l``.

Never multiply many matrices and call ``svd``: see :mod:`numerics.naive_products` for why, and
:mod:`numerics.graded_svd` for every singular value of a product to high relative accuracy.

Methods (all see the same factors, so their results agree to rounding):

* ``"lapack"`` -- per replica, LAPACK's compact-WY pair ``geqrt`` + ``gemqrt``
  (:class:`numerics.householder.HouseholderKernel`): each step applies the previous step's
  reflectors to ``W_l`` from the right and factors the first ``k`` columns of the result, never
  forming Q. Cost per square step ``(4/3) n^3 + 2 n^3`` flops (QR + apply), which the bench
  (``degeneracy bench``) holds against the machine's matmul ceiling.
* ``"geqrf"`` -- the same with ``geqrf`` + ``ormqr`` (workspaces queried once).
* ``"batched"`` -- every replica at once with an explicit thin frame: ``M = W_l Q`` by one
  stacked ``matmul`` and ``Q, R = numpy.linalg.qr(M)`` (stacked LAPACK ``geqrf`` + ``orgqr``
  inside numpy, no Python loop). Cheaper per replica for small matrices with many replicas, and
  for thin frames (``k`` well below ``n``: ``2 n^2 k`` flops per step instead of ``4 n^2 k``).
* ``"auto"`` -- :func:`choose_method`.

For Gaussian factors the engine's ``R_l`` are independent (orthogonal invariance: ``W_l
Q_{l-1}`` is again Gaussian, ``N_l x k``, independent of the past), with ``N_{l-1} R_{l,ii}^2 ~
chi^2_{N_l - i + 1}`` (real; complex: ``2 N_{l-1} |R_{l,ii}|^2 ~ chi^2_{2(N_l - i + 1)}``).
Hence, *in the engine's index order, not sorted per replica*, exponent ``i`` has mean exactly
``(1/L) sum_l (1/2)[log(2/N_{l-1}) + psi((N_l - i + 1)/2)]`` and variance
``(1/L^2) sum_l psi'((N_l - i + 1)/2)/4`` at every depth (Newman 1986 for square factors; the
rectangular form follows by the same argument, cf. Forrester, J. Stat. Phys. 151 (2013) and
Ipsen, J. Phys. A 48 (2015) 155204). Sorting each replica's estimates would bias them at short
depth, so the engine never sorts; its index order is descending in the limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.numerics.factors import FactorSource, Sampler, factor_source, sampled_source
from degeneracy.numerics.householder import HouseholderKernel, fortran_copy
from degeneracy.numerics.rng import RNGLike
from degeneracy.validation import check_choice, check_int, check_positive_int

__all__ = [
    "METHODS",
    "LAPACK_MIN_N",
    "BATCHED_MIN_REPLICAS",
    "QRResult",
    "choose_method",
    "lyapunov_qr",
    "benettin",
    "finite_depth_exponents",
    "engine_step_times",
    "log_abs",
]

METHODS = ("auto", "lapack", "geqrf", "batched")
#: Below this size, and with at least :data:`BATCHED_MIN_REPLICAS` replicas, the stacked
#: ``numpy.linalg.qr`` path beats the per-matrix LAPACK loop (measured here, one thread; see
#: docs/performance.md and the bench's ``qr-engine-batched`` rows).
LAPACK_MIN_N = 48
BATCHED_MIN_REPLICAS = 4


def log_abs(x: np.ndarray) -> np.ndarray:
    """``log|x|`` with ``log 0 = -inf`` and no warning.

    >>> log_abs(np.array([1.0, -np.e, 0.0])).tolist()
    [0.0, 1.0, -inf]
    """
    with np.errstate(divide="ignore"):
        return np.log(np.abs(x))


def choose_method(method: str, n: int, replicas: int, k: int | None = None) -> str:
    """Resolve ``method="auto"`` for frames of ``k`` columns in dimension ``n``.

    ``"batched"`` when the frame is thin (``2 k <= n``: an explicit frame costs ``2 n^2 k``
    flops per step against ``4 n^2 k`` for applying reflectors) or the matrices are small
    (``n < LAPACK_MIN_N``) with at least :data:`BATCHED_MIN_REPLICAS` replicas; ``"lapack"``
    otherwise.

    >>> choose_method("auto", 1024, 1), choose_method("auto", 1024, 1, k=16), choose_method("auto", 8, 10)
    ('lapack', 'batched', 'batched')
    """
    check_choice("method", method, METHODS)
    if method != "auto":
        return method
    k = n if k is None else k
    if 2 * k <= n or (n < LAPACK_MIN_N and replicas >= BATCHED_MIN_REPLICAS):
        return "batched"
    return "lapack"


@dataclass(frozen=True)
class QRResult:
    """Output of the QR (Benettin) engine.

    Attributes
    ----------
    log_r_sums : ndarray (R, k)
        ``sum_{l <= L} log|R_{l,ii}|`` per replica, in the engine's index order (index i
        estimates ``L mu_i``; not sorted per replica, see the module docstring).
    depth : int
    checkpoints : tuple of int
        Depths at which running sums were recorded (empty if none were asked for).
    checkpoint_sums : ndarray (len(checkpoints), R, k) or None
    method : str
        ``"lapack"``, ``"geqrf"`` or ``"batched"``.
    widths : tuple of int
        ``(N_0, ..., N_L)``.
    """

    log_r_sums: np.ndarray
    depth: int
    checkpoints: tuple
    checkpoint_sums: Optional[np.ndarray]
    method: str
    widths: tuple = ()

    @property
    def k(self) -> int:
        """Number of exponents carried (columns of the frame)."""
        return int(self.log_r_sums.shape[-1])

    @property
    def exponents(self) -> np.ndarray:
        """Finite-depth Lyapunov exponents ``log_r_sums / depth``, shape (R, k)."""
        return self.log_r_sums / self.depth

    def checkpoint_exponents(self) -> np.ndarray:
        """Running exponents at each checkpoint, shape (len(checkpoints), R, k)."""
        if self.checkpoint_sums is None:
            raise ArgumentValueError("no checkpoints were recorded; pass checkpoints= to the engine")
        return self.checkpoint_sums / np.asarray(self.checkpoints, dtype=float)[:, None, None]

    @property
    def log_abs_det(self) -> np.ndarray:
        """``sum_i log_r_sums[:, i]``: ``log|det P|`` per replica when ``k = n`` (square factors);
        in general the log volume of the image of the frame's first ``k`` columns."""
        return self.log_r_sums.sum(axis=-1)


def _checkpoints(checkpoints, depth: int | None) -> tuple[int, ...]:
    if checkpoints is None:
        return ()
    if isinstance(checkpoints, (int, np.integer)) and not isinstance(checkpoints, bool):
        checkpoints = (checkpoints,)
    try:
        cps = [check_int("checkpoints", c, minimum=1, maximum=depth) for c in checkpoints]
    except TypeError:
        raise ArgumentTypeError(f"checkpoints must be integers in [1, {depth}], got {checkpoints!r}") from None
    return tuple(sorted(set(cps)))


def _frame_size(k, src: FactorSource) -> int:
    if k is None:
        return src.n_in
    k = check_int("k", k, minimum=1, maximum=src.n_in)
    return k


def _too_narrow(layer: int, n_out: int, k: int) -> ArgumentValueError:
    return ArgumentValueError(
        f"factor {layer + 1} has {n_out} rows, fewer than the k = {k} exponents asked for: the product has rank "
        f"<= {n_out}, so its exponents beyond {n_out} are -inf; pass k <= {n_out}")


def _run_engine(src: FactorSource, method: str, k: int, cps: tuple[int, ...],
               on_step: Callable[[int], None] | None = None) -> QRResult:
    """The engine loop over a :class:`~numerics.factors.FactorSource`; ``on_step(layer)`` (used by
    :func:`engine_step_times`) is called after each layer. ``method`` must be resolved (not "auto")."""
    R = src.replicas
    sums = np.zeros((R, k), dtype=np.float64)
    cp_out = np.empty((len(cps), R, k)) if cps else None
    cp_index = {c: i for i, c in enumerate(cps)}
    widths = [src.n_in]
    layer = -1
    if method in ("lapack", "geqrf"):
        kern = HouseholderKernel(src.field, "geqrf" if method == "geqrf" else "geqrt")
        frames: list = [None] * R
        held: list = [None] * R  # the Fortran-ordered array behind frames[r]
        spare: list = [None] * R  # a free Fortran buffer per replica (the one before held[r])
        diag = np.empty((R, k), dtype=src.dtype)
        for layer, block in enumerate(src):
            n_out, n_in = block.shape[-2:]
            if n_out < k:
                raise _too_narrow(layer, n_out, k)
            widths.append(n_out)
            for r in range(R):
                w = block[r]
                if not (src.owned and w.flags.f_contiguous and w.dtype == src.dtype):
                    # into a reused buffer (no allocation, no page faults), tile by tile (fortran_copy)
                    buf = spare[r]
                    if buf is None or buf.shape != w.shape:
                        buf = np.empty(w.shape, dtype=src.dtype, order="F")
                    w = fortran_copy(w, buf)
                if frames[r] is not None:
                    w = kern.apply_right(frames[r], w)
                spare[r], held[r] = held[r], w  # frames[r] (held[r]) is no longer needed once applied
                frames[r] = kern.factor(w[:, :k] if k < n_in else w)
                diag[r] = kern.diag(frames[r])
            sums += log_abs(diag)
            if layer + 1 in cp_index:
                cp_out[cp_index[layer + 1]] = sums
            if on_step is not None:
                on_step(layer)
    elif method == "batched":
        Q = None
        for layer, block in enumerate(src):
            n_out = block.shape[-2]
            if n_out < k:
                raise _too_narrow(layer, n_out, k)
            widths.append(n_out)
            M = block[..., :k] if Q is None else np.matmul(block, Q)
            Q, Rm = np.linalg.qr(M)
            sums += log_abs(np.diagonal(Rm, axis1=-2, axis2=-1))
            if layer + 1 in cp_index:
                cp_out[cp_index[layer + 1]] = sums
            if on_step is not None:
                on_step(layer)
    else:  # pragma: no cover - callers resolve the method
        raise ArgumentValueError(f"method must be resolved, got {method!r}")
    depth = layer + 1
    if cps and cps[-1] > depth:
        raise ArgumentValueError(f"checkpoints must be in [1, {depth}] (the number of factors), got {cps[-1]}")
    return QRResult(sums, depth, cps, cp_out, method, tuple(widths))


def lyapunov_qr(
    n,
    depth: int,
    *,
    k: int | None = None,
    replicas: int = 1,
    field: str = "real",
    ensemble: str = "gaussian",
    sampler: Sampler | None = None,
    rng: RNGLike = None,
    checkpoints: Sequence[int] | int | None = None,
    method: str = "auto",
) -> QRResult:
    """Finite-depth Lyapunov exponents of ``P = W_L ... W_1`` by the QR (Benettin) method.

    ``Q_0 = I[:, :k]``; ``W_l Q_{l-1} = Q_l R_l`` (thin Householder QR); the estimates are
    ``(1/L) sum_l log|R_{l,ii}|`` (docs/formulas.md §1; Benettin et al. 1980). For square
    Gaussian factors these converge to ``mu_i = (1/2)[log(2/n) + psi((n-i+1)/2)]`` (real; Newman
    1986) and ``(1/2)[psi(n-i+1) - log n]`` (complex; Forrester 2013) -- and have exactly those
    means at every depth in the engine's index order (module docstring), also for rectangular
    factors with the widths put in.

    Parameters
    ----------
    n : int or sequence of int
        Matrix size, or the widths ``(N_0, ..., N_L)`` of rectangular Gaussian factors ``W_l``
        of shape ``N_l x N_{l-1}`` (entries of variance ``1/N_{l-1}``; ``depth + 1`` entries).
    depth : int
        Number of factors (``depth = 10**4`` and beyond stays finite: only log-sums are kept).
    k : int, optional
        Number of exponents (columns of the frame), ``1 <= k <= N_0``; default ``N_0``. Must not
        exceed any width. Cost per square step about ``2 n^2 k`` (thin frames) to
        ``(10/3) n^3`` (``k = n``) flops.
    replicas : int
        Independent products, processed together (one row of the result each).
    field : {"real", "complex"}
    ensemble : {"gaussian", "orthogonal", "fold"}
        Used when ``sampler`` is None (``"fold"`` needs a sampler from
        :func:`numerics.factors.ensemble_sampler`, since it needs k).
    sampler : callable, optional
        ``sampler(rng, replicas) -> (replicas, n, n)``, one layer per call (overrides
        ``ensemble``). For other factors (a network's layers, any shapes) use :func:`benettin`
        with a list or a generator.
    rng : Generator, int, SeedSequence or None
        Layer l draws its ``replicas`` matrices in one call, so the stream does not depend on
        ``method``: every method sees the same matrices.
    checkpoints : int or sequence of int, optional
        Depths in ``[1, depth]`` at which to record the running sums.
    method : {"auto", "lapack", "geqrf", "batched"}
        See the module docstring; ``"auto"``: :func:`choose_method`.

    Returns
    -------
    QRResult
        ``exponents`` has shape ``(replicas, k)``.

    Raises
    ------
    ArgumentValueError
        Bad sizes, ``k`` larger than a width, unknown ensemble or method.

    Examples
    --------
    >>> res = lyapunov_qr(4, 200, replicas=3, rng=0)
    >>> res.exponents.shape
    (3, 4)
    >>> bool(np.all(np.diff(res.exponents.mean(axis=0)) < 0))   # descending on average
    True
    >>> lyapunov_qr(64, 10, k=2, rng=0).exponents.shape           # the top two only
    (1, 2)
    >>> lyapunov_qr((8, 16, 16, 8), 3, k=4, replicas=2, rng=0).widths
    (8, 16, 16, 8)
    >>> lyapunov_qr(4, 0)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: depth must be a positive integer, got 0
    """
    src = sampled_source(n, depth, replicas=replicas, field=field, ensemble=ensemble, sampler=sampler, rng=rng)
    kk = _frame_size(k, src)
    if src.widths is not None and min(src.widths) < kk:
        raise ArgumentValueError(f"k = {kk} exceeds the smallest width {min(src.widths)}: the product has rank "
                                 f"<= {min(src.widths)}; pass k <= {min(src.widths)}")
    m = choose_method(method, src.n_in, src.replicas, kk)
    return _run_engine(src, m, kk, _checkpoints(checkpoints, src.depth))


def finite_depth_exponents(
    n,
    depth: int,
    *,
    k: int | None = None,
    replicas: int = 1,
    field: str = "real",
    ensemble: str = "gaussian",
    rng: RNGLike = None,
    method: str = "auto",
) -> np.ndarray:
    """``lyapunov_qr(...).exponents``: finite-depth exponents, shape (replicas, k).

    >>> finite_depth_exponents(3, 10, replicas=2, rng=0).shape
    (2, 3)
    """
    return lyapunov_qr(n, depth, k=k, replicas=replicas, field=field, ensemble=ensemble, rng=rng,
                       method=method).exponents


def benettin(factors, *, k: int | None = None, checkpoints: Sequence[int] | int | None = None,
             method: str = "auto") -> QRResult:
    """The QR engine on explicit factors: a stack, a list or a generator.

    ``factors`` is an array ``(L, n, n)`` / ``(L, R, n, n)``, or a list, tuple or generator of
    matrices ``W_l`` of shape ``(N_l, N_{l-1})`` (or replica stacks ``(R, N_l, N_{l-1})``)
    whose shapes chain; ``factors[l]`` is ``W_{l+1}``, applied ``l+1``-th
    (:func:`numerics.factors.factor_source`). A generator is consumed one factor at a time
    (memory of one factor). A stack without a replica axis is one replica (``R = 1``). The
    input is never modified. ``k`` (default ``N_0``) is the number of exponents; ``k <= N_l``
    for every width.

    >>> W = np.stack([np.diag([2.0, 0.5])] * 10)
    >>> benettin(W).exponents.round(6).tolist()
    [[0.693147, -0.693147]]
    >>> layers = (np.random.default_rng(l).standard_normal((6, 6 if l else 4)) for l in range(5))
    >>> benettin(layers, k=2).exponents.shape
    (1, 2)
    """
    src, _ = factor_source(factors)
    kk = _frame_size(k, src)
    m = choose_method(method, src.n_in, src.replicas, kk)
    return _run_engine(src, m, kk, _checkpoints(checkpoints, src.depth))


def engine_step_times(n: int, depth: int, *, k: int | None = None, replicas: int = 1, method: str = "lapack",
                      rng: RNGLike = None) -> np.ndarray:
    """Wall-clock durations of steps 2..depth of one :func:`lyapunov_qr` run on real Gaussian
    ``n x n`` factors, *without* the Gaussian draws (for the benchmark). Step 1 has no reflectors
    to apply yet, so it is not timed. The factors are drawn beforehand and handed to the engine as
    its own (overwritable) blocks, exactly as the sampled path does.

    Returns ``(depth - 1,)`` seconds, for all ``replicas`` together.

    >>> engine_step_times(8, 3, rng=0).shape
    (2,)
    """
    from degeneracy.numerics.ensembles import gaussian
    from degeneracy.numerics.rng import as_generator

    n = check_positive_int("n", n)
    depth = check_int("depth", depth, minimum=2)
    replicas = check_positive_int("replicas", replicas)
    g = as_generator(rng)
    blocks = [gaussian(n, size=replicas, rng=g) for _ in range(depth)]
    src = FactorSource(lambda: iter(blocks), replicas=replicas, field="real", n_in=n, depth=depth,
                       widths=(n,) * (depth + 1), owned=True, validate=False)
    kk = n if k is None else check_int("k", k, minimum=1, maximum=n)
    stamps: list[float] = []
    _run_engine(src, choose_method(method, n, replicas, kk), kk, (),
                on_step=lambda _layer: stamps.append(time.perf_counter()))
    return np.diff(stamps)
