"""Products of random matrices: the QR (Benettin) engine, stable singular values, spectra.

A product of depth L is ``P = W_L ... W_1`` (docs/formulas.md, "Conventions"); ``W_1`` acts first.
Explicit factor stacks are passed as ``factors[l] = W_{l+1}``, shape ``(L, n, n)`` or
``(L, R, n, n)`` for ``R`` independent replicas.

Never multiply many matrices and call ``svd``. In float64, ``svd(W_L ... W_1)`` returns every
singular value below ``eps * sigma_1`` as rounding noise, so it loses every index with
``L (mu_1 - mu_i) > -log(eps) ~ 36`` (docs/formulas.md §1; half the spectrum at L = 100 for
N = 64). :func:`naive_product_singular_values` is kept only to demonstrate that failure.

What to use instead:

* :func:`lyapunov_qr` -- the QR (Benettin) engine. ``Q_0 = I``, ``W_l Q_{l-1} = Q_l R_l``; the
  finite-depth exponents are ``(1/L) sum_l log|diag R_l|`` (Benettin, Galgani, Giorgilli &
  Strelcyn, Meccanica 15 (1980); Newman, Commun. Math. Phys. 103 (1986)). On the LAPACK path
  each step factors ``W_l Q_{l-1}`` by Householder QR and applies the reflectors to the next
  factor from the right, never forming Q (docs/performance.md): by default with the
  compact-WY pair ``geqrt`` + ``gemqrt`` (measured 8-17% faster than the ``geqrf`` (workspace
  queried with ``lwork=-1``) + ``ormqr`` pair (docs/performance.md), which remains
  available as ``method="geqrf"``). For small N a stacked ``numpy.linalg.qr`` over replicas is
  faster; ``method="auto"`` chooses.
* :func:`product_log_singular_values` / :func:`sample_product_log_singular_values` -- every
  singular value of the product to high relative accuracy at any depth (see
  :func:`graded_log_singular_values` for the method), returned as logs so nothing over- or
  underflows.

For Gaussian factors the engine's R_l are independent (orthogonal invariance: ``W_l Q_{l-1}``
is again Gaussian), with ``n R_{l,ii}^2 ~ chi^2_{n-i+1}`` (real). Hence, *in the engine's index
order, not sorted per replica*, the finite-depth exponent i has mean exactly
``(1/2)[log(2/n) + psi((n-i+1)/2)]`` and variance ``psi'((n-i+1)/2) / (4L)`` at every depth L
(Newman 1986; the complex analogue with ``psi(n-i+1)`` and ``2 n |R_ii|^2 ~ chi^2_{2(n-i+1)}``).
Sorting each replica's estimates would bias them at short depth, so the engine never sorts;
its index order is descending in the limit.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import scipy.linalg.lapack as _lapack

from degeneracy.errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CertificationError,
    NumericalFailure,
)
from degeneracy.numerics.ensembles import FIELDS, fold, gaussian, haar
from degeneracy.numerics.rng import RNGLike, as_generator
from degeneracy.validation import (
    check_choice,
    check_finite_array,
    check_int,
    check_positive_int,
    check_real,
)

__all__ = [
    "engine_step_times",
    "ENSEMBLES",
    "METHODS",
    "LAPACK_MIN_N",
    "BATCHED_MIN_REPLICAS",
    "Sampler",
    "QRResult",
    "ensemble_sampler",
    "lyapunov_qr",
    "finite_depth_exponents",
    "benettin",
    "graded_log_singular_values",
    "product_log_singular_values",
    "log_singular_values_of",
    "sample_product_log_singular_values",
    "naive_product_singular_values",
    "naive_breakdown",
    "NaiveBreakdown",
    "fuss_catalan_samples",
    "multiply",
    "product_eigenvalues",
    "sample_product_eigenvalues",
    "origin_bin_fraction",
    "participation_ratio",
    "fraction_below",
    "log_condition_number",
    "isometry_defect",
    "sample_isometry_defect",
]

ENSEMBLES = ("gaussian", "orthogonal", "fold")
METHODS = ("auto", "lapack", "geqrf", "batched")
#: Below this size, and with at least :data:`BATCHED_MIN_REPLICAS` replicas, the stacked
#: ``numpy.linalg.qr`` gufunc beats the per-matrix LAPACK loop (measured here, one thread:
#: 14 vs 32 us per matrix at N = 4 and 31 vs 46 us at N = 16 with 16 replicas; equal at
#: N = 24; with one replica the LAPACK loop always wins). docs/performance.md quotes ~16.
LAPACK_MIN_N = 24
BATCHED_MIN_REPLICAS = 4

_EPS = float(np.finfo(np.float64).eps)

#: ``sampler(rng, replicas) -> ndarray (replicas, n, n)``: one layer for every replica.
Sampler = Callable[[np.random.Generator, int], np.ndarray]


# --------------------------------------------------------------------------------------
# layer sources
# --------------------------------------------------------------------------------------


def ensemble_sampler(n: int, ensemble: str = "gaussian", *, field: str = "real", k: int | None = None) -> Sampler:
    """A :data:`Sampler` drawing one layer of ``n x n`` matrices per call.

    ``ensemble`` is ``"gaussian"`` (:func:`numerics.ensembles.gaussian`), ``"orthogonal"``
    (Haar orthogonal, or unitary for ``field="complex"``) or ``"fold"`` (Fold-``k`` Gaussian;
    ``k`` required).

    >>> s = ensemble_sampler(4, "fold", k=1)
    >>> s(np.random.default_rng(0), 3).shape
    (3, 4, 4)
    """
    n = check_positive_int("n", n)
    check_choice("ensemble", ensemble, ENSEMBLES)
    check_choice("field", field, FIELDS)
    if ensemble == "gaussian":
        if k is not None:
            raise ArgumentValueError("k is only meaningful for ensemble='fold'")
        return lambda g, r: gaussian(n, size=r, field=field, rng=g)
    if ensemble == "orthogonal":
        if k is not None:
            raise ArgumentValueError("k is only meaningful for ensemble='fold'")
        return lambda g, r: haar(n, size=r, field=field, rng=g)
    if k is None:
        raise ArgumentValueError("ensemble='fold' needs k (the number of folds), got None")
    k = check_int("k", k, minimum=0)
    if n % (1 << k):
        raise ArgumentValueError(f"fold needs n divisible by 2**k = {1 << k}, got n={n} (k={k})")
    return lambda g, r: fold(gaussian(n, size=r, field=field, rng=g), k)


class _Source:
    """Yields layer blocks of shape (R, n, n); ``owned`` says whether they may be overwritten."""

    def __init__(self, n: int, depth: int, replicas: int, field: str, block: Callable[[int], np.ndarray], owned: bool):
        self.n, self.depth, self.replicas, self.field = n, depth, replicas, field
        self._block, self.owned = block, owned
        self.dtype = np.complex128 if field == "complex" else np.float64

    def block(self, layer: int) -> np.ndarray:
        return self._block(layer)


def _sampler_source(n, depth, replicas, field, sampler, g, trusted: bool = False) -> _Source:
    dtype = np.complex128 if field == "complex" else np.float64
    if trusted:  # the toolkit's own samplers: shapes and finiteness hold by construction
        return _Source(n, depth, replicas, field, lambda _layer: sampler(g, replicas), owned=True)

    def block(_layer: int) -> np.ndarray:
        b = sampler(g, replicas)
        b = np.asarray(b)
        if b.shape != (replicas, n, n):
            raise ArgumentValueError(f"sampler must return shape {(replicas, n, n)}, got {b.shape}")
        if field == "real" and np.iscomplexobj(b):
            raise ArgumentValueError("sampler returned complex matrices for field='real'")
        if not np.all(np.isfinite(b)):
            raise ArgumentValueError("sampler returned NaN or inf entries")
        return b.astype(dtype, copy=False)

    return _Source(n, depth, replicas, field, block, owned=True)


def _sampled_source(n, depth, replicas, field, ensemble, sampler, rng) -> tuple[_Source, int, int, int]:
    """Validate the arguments of a sampled product and return ``(source, n, depth, replicas)``."""
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    replicas = check_positive_int("replicas", replicas)
    check_choice("field", field, FIELDS)
    check_choice("ensemble", ensemble, ENSEMBLES)
    trusted = sampler is None
    if sampler is None:
        if ensemble == "fold":
            raise ArgumentValueError("ensemble='fold' needs k: pass sampler=ensemble_sampler(n, 'fold', k=...)")
        sampler = ensemble_sampler(n, ensemble, field=field)
    elif not callable(sampler):
        raise ArgumentTypeError(f"sampler must be callable (rng, replicas) -> array, got {type(sampler).__name__}")
    return _sampler_source(n, depth, replicas, field, sampler, as_generator(rng), trusted), n, depth, replicas


def _factor_source(factors) -> tuple[_Source, bool]:
    """Validate an explicit factor stack; returns the source and whether it had a batch axis."""
    arr = np.asarray(factors)
    if arr.dtype == object:
        raise ArgumentTypeError("factors must be an array of numbers, (L, n, n) or (L, R, n, n)")
    complex_ = np.iscomplexobj(arr)
    arr = check_finite_array("factors", arr, dtype=np.complex128 if complex_ else np.float64)
    if arr.ndim not in (3, 4):
        raise ArgumentValueError(f"factors must have shape (L, n, n) or (L, R, n, n), got {arr.shape}")
    batched = arr.ndim == 4
    if not batched:
        arr = arr[:, None]
    L, R, n, n2 = arr.shape
    if n != n2:
        raise ArgumentValueError(f"factors must be square, got {n} x {n2}")
    if L < 1 or n < 1 or R < 1:
        raise ArgumentValueError(f"factors must hold at least one non-empty matrix, got shape {np.shape(factors)}")
    return _Source(n, L, R, "complex" if complex_ else "real", lambda l: arr[l], owned=False), batched


# --------------------------------------------------------------------------------------
# LAPACK helpers
# --------------------------------------------------------------------------------------

_LWORK_CACHE: dict[tuple[str, int], tuple[int, int]] = {}


def _lwork(field: str, n: int) -> tuple[int, int]:
    """Optimal workspaces of geqrf and ormqr/unmqr for n x n (queried once, lwork=-1).

    The default workspace of the f2py wrappers (3n) forces unblocked Householder QR, 3.6x
    slower at n = 1024 (docs/performance.md).
    """
    key = (field, n)
    if key not in _LWORK_CACHE:
        geqrf, ormqr = (_lapack.zgeqrf, _lapack.zunmqr) if field == "complex" else (_lapack.dgeqrf, _lapack.dormqr)
        dtype = np.complex128 if field == "complex" else np.float64
        a = np.zeros((n, n), dtype=dtype, order="F")
        tau = np.zeros(n, dtype=dtype)
        work = geqrf(a, lwork=-1)[2]
        lq = max(1, int(np.real(work[0])))
        work = ormqr("R", "N", a, tau, a, lwork=-1)[1]
        lo = max(1, int(np.real(work[0])))
        _LWORK_CACHE[key] = (lq, lo)
    return _LWORK_CACHE[key]


def _geqrt_block(n: int) -> int:
    """Block size of the compact-WY kernel: fastest measured here (one thread, SkylakeX
    OpenBLAS 0.3.30): 16 at n = 64, 16-32 at n = 256, 64-128 at n = 512, 128 at n = 1024."""
    nb = 16 if n <= 128 else 32 if n <= 384 else 64 if n <= 768 else 128
    return max(1, min(nb, n))


class _Kernel:
    """One Householder QR step on Fortran-ordered n x n matrices.

    ``factor(a)`` overwrites ``a`` with its QR factorization and returns a handle;
    ``apply_right(h, c)`` returns ``c @ Q`` (overwriting c) without forming Q;
    ``r(h)`` is the triangular factor, ``diag(h)`` its diagonal.

    kind ``"geqrf"``: ``geqrf`` + ``ormqr``/``unmqr`` with queried workspaces (the path of
    docs/performance.md). kind ``"geqrt"``: the compact-WY pair ``geqrt`` + ``gemqrt``
    (LAPACK 3.4), which produces the same reflectors and R and is 8-17% faster here at
    n = 256..1024; the default.
    """

    def __init__(self, field: str, n: int, kind: str = "geqrt"):
        self.field, self.n, self.kind = field, n, kind
        cplx = field == "complex"
        if kind == "geqrf":
            self._qrf = _lapack.zgeqrf if cplx else _lapack.dgeqrf
            self._mqr = _lapack.zunmqr if cplx else _lapack.dormqr
            self.lq, self.lo = _lwork(field, n)
        else:
            self._qrt = _lapack.zgeqrt if cplx else _lapack.dgeqrt
            self._mqrt = _lapack.zgemqrt if cplx else _lapack.dgemqrt
            self.nb = _geqrt_block(n)

    def factor(self, a: np.ndarray):
        if self.kind == "geqrf":
            qr, tau, _work, info = self._qrf(a, lwork=self.lq, overwrite_a=1)
        else:
            qr, tau, info = self._qrt(self.nb, a, overwrite_a=1)
        if info != 0:  # pragma: no cover - LAPACK argument errors only
            raise NumericalFailure(f"{self.kind} failed with info={info}")
        return qr, tau

    def apply_right(self, h, c: np.ndarray) -> np.ndarray:
        qr, tau = h
        if self.kind == "geqrf":
            cq, _work, info = self._mqr("R", "N", qr, tau, c, lwork=self.lo, overwrite_c=1)
        else:
            cq, info = self._mqrt(qr, tau, c, side="R", trans="N", overwrite_c=1)
        if info != 0:  # pragma: no cover
            raise NumericalFailure(f"applying Q failed with info={info}")
        return cq

    @staticmethod
    def diag(h) -> np.ndarray:
        return np.diagonal(h[0])

    @staticmethod
    def r(h) -> np.ndarray:
        return np.triu(h[0])


def _choose_method(method: str, n: int, replicas: int) -> str:
    check_choice("method", method, METHODS)
    if method == "auto":
        return "batched" if (n < LAPACK_MIN_N and replicas >= BATCHED_MIN_REPLICAS) else "lapack"
    return method


def _log_abs(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.abs(x))


# --------------------------------------------------------------------------------------
# the Benettin engine
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QRResult:
    """Output of the QR (Benettin) engine.

    Attributes
    ----------
    log_r_sums : ndarray (R, n)
        ``sum_{l <= L} log|R_{l,ii}|`` per replica, in the engine's index order (index i
        estimates ``L mu_i``; not sorted per replica, see the module docstring).
    depth : int
    checkpoints : tuple of int
        Depths at which running sums were recorded (empty if none were asked for).
    checkpoint_sums : ndarray (len(checkpoints), R, n) or None
    method : str
        ``"lapack"`` or ``"batched"``.
    """

    log_r_sums: np.ndarray
    depth: int
    checkpoints: tuple
    checkpoint_sums: Optional[np.ndarray]
    method: str

    @property
    def exponents(self) -> np.ndarray:
        """Finite-depth Lyapunov exponents ``log_r_sums / depth``, shape (R, n)."""
        return self.log_r_sums / self.depth

    def checkpoint_exponents(self) -> np.ndarray:
        """Running exponents at each checkpoint, shape (len(checkpoints), R, n)."""
        if self.checkpoint_sums is None:
            raise ArgumentValueError("no checkpoints were recorded; pass checkpoints= to the engine")
        return self.checkpoint_sums / np.asarray(self.checkpoints, dtype=float)[:, None, None]

    @property
    def log_abs_det(self) -> np.ndarray:
        """``sum_i log_r_sums[:, i] = log|det P|`` per replica (exact identity)."""
        return self.log_r_sums.sum(axis=-1)


def _checkpoints(checkpoints, depth: int) -> tuple[int, ...]:
    if checkpoints is None:
        return ()
    if isinstance(checkpoints, (int, np.integer)) and not isinstance(checkpoints, bool):
        checkpoints = (checkpoints,)
    try:
        cps = [check_int("checkpoints", c, minimum=1, maximum=depth) for c in checkpoints]
    except TypeError:
        raise ArgumentTypeError(f"checkpoints must be integers in [1, {depth}], got {checkpoints!r}") from None
    return tuple(sorted(set(cps)))


def _run_benettin(src: _Source, method: str, cps: tuple[int, ...], on_step: Callable[[int], None] | None = None) -> QRResult:
    """The engine loop; ``on_step(layer)`` (used by :func:`engine_step_times` to time
    single steps) is called after each layer."""
    n, depth, R, field = src.n, src.depth, src.replicas, src.field
    sums = np.zeros((R, n), dtype=np.float64)
    cp_out = np.empty((len(cps), R, n)) if cps else None
    cp_index = {c: i for i, c in enumerate(cps)}
    if method in ("lapack", "geqrf"):
        kern = _Kernel(field, n, "geqrf" if method == "geqrf" else "geqrt")
        frames: list = [None] * R
        for layer in range(depth):
            block = src.block(layer)
            for r in range(R):
                w = block[r]
                w = np.asfortranarray(w) if src.owned else np.array(w, order="F", copy=True)
                if frames[r] is not None:
                    w = kern.apply_right(frames[r], w)
                frames[r] = kern.factor(w)
                sums[r] += _log_abs(kern.diag(frames[r]))
            if layer + 1 in cp_index:
                cp_out[cp_index[layer + 1]] = sums
            if on_step is not None:
                on_step(layer)
    else:
        Q = None
        for layer in range(depth):
            block = src.block(layer)
            M = block if Q is None else np.matmul(block, Q)
            Q, Rm = np.linalg.qr(M)
            sums += _log_abs(np.diagonal(Rm, axis1=-2, axis2=-1))
            if layer + 1 in cp_index:
                cp_out[cp_index[layer + 1]] = sums
            if on_step is not None:
                on_step(layer)
    return QRResult(sums, depth, cps, cp_out, method)


def engine_step_times(n: int, depth: int, *, method: str = "lapack", rng=None) -> np.ndarray:
    """Wall-clock durations of steps 2..depth of one single-replica :func:`lyapunov_qr` run (real
    Gaussian factors), for the benchmark: step 1 has no reflectors to apply yet. Each step includes
    the Gaussian draw.

    Returns ``(depth - 1,)`` seconds.

    >>> engine_step_times(8, 3, rng=0).shape
    (2,)
    """
    import time

    n = check_positive_int("n", n)
    depth = check_int("depth", depth, minimum=2)
    stamps: list[float] = []
    src = _sampler_source(n, depth, 1, "real", ensemble_sampler(n), as_generator(rng), True)
    _run_benettin(src, _choose_method(method, n, 1), (), on_step=lambda _l: stamps.append(time.perf_counter()))
    return np.diff(stamps)


def lyapunov_qr(
    n: int,
    depth: int,
    *,
    replicas: int = 1,
    field: str = "real",
    ensemble: str = "gaussian",
    sampler: Sampler | None = None,
    rng: RNGLike = None,
    checkpoints: Sequence[int] | int | None = None,
    method: str = "auto",
) -> QRResult:
    """Finite-depth Lyapunov exponents of ``P = W_L ... W_1`` by the QR (Benettin) method.

    ``Q_0 = I``; ``W_l Q_{l-1} = Q_l R_l`` (Householder QR); the estimates are
    ``(1/L) sum_l log|R_{l,ii}|`` (docs/formulas.md §1; Benettin et al. 1980). For Gaussian
    factors these converge to ``mu_i = (1/2)[log(2/n) + psi((n-i+1)/2)]`` (real; Newman 1986)
    and ``(1/2)[psi(n-i+1) - log n]`` (complex; Forrester 2013) -- and have exactly those
    means at every depth in the engine's index order (module docstring).

    Parameters
    ----------
    n, depth : int
        Matrix size and number of factors (``depth = 10**4`` and beyond stays finite: only
        log-sums are accumulated).
    replicas : int
        Independent products, processed together (one row of the result each).
    field : {"real", "complex"}
    ensemble : {"gaussian", "orthogonal", "fold"}
        Used when ``sampler`` is None (``"fold"`` needs a sampler from
        :func:`ensemble_sampler`, since it needs k).
    sampler : callable, optional
        ``sampler(rng, replicas) -> (replicas, n, n)``, one layer per call (overrides
        ``ensemble``).
    rng : Generator, int, SeedSequence or None
        Layer l draws its ``replicas`` matrices in one call, so the stream does not depend on
        ``method``: both methods see the same matrices.
    checkpoints : int or sequence of int, optional
        Depths in ``[1, depth]`` at which to record the running sums.
    method : {"auto", "lapack", "batched"}
        ``"lapack"``: per matrix, compact-WY ``geqrt`` + ``gemqrt`` (same reflectors as
        ``geqrf``, 8-17% faster here); ``"geqrf"``: per matrix, ``geqrf`` + ``ormqr``/``unmqr``
        with queried workspaces (docs/performance.md); ``"batched"``: stacked
        ``numpy.linalg.qr`` over replicas with an explicit Q; ``"auto"``: batched when
        ``n < LAPACK_MIN_N`` and ``replicas >= BATCHED_MIN_REPLICAS``, else ``"lapack"``.

    Returns
    -------
    QRResult

    Examples
    --------
    >>> res = lyapunov_qr(4, 200, replicas=3, rng=0)
    >>> res.exponents.shape
    (3, 4)
    >>> bool(np.all(np.diff(res.exponents.mean(axis=0)) < 0))   # descending on average
    True
    >>> lyapunov_qr(4, 0)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: depth must be a positive integer, got 0
    """
    src, n, depth, replicas = _sampled_source(n, depth, replicas, field, ensemble, sampler, rng)
    return _run_benettin(src, _choose_method(method, n, replicas), _checkpoints(checkpoints, depth))


def finite_depth_exponents(
    n: int,
    depth: int,
    *,
    replicas: int = 1,
    field: str = "real",
    ensemble: str = "gaussian",
    rng: RNGLike = None,
    method: str = "auto",
) -> np.ndarray:
    """``lyapunov_qr(...).exponents``: finite-depth exponents, shape (replicas, n).

    >>> finite_depth_exponents(3, 10, replicas=2, rng=0).shape
    (2, 3)
    """
    return lyapunov_qr(n, depth, replicas=replicas, field=field, ensemble=ensemble, rng=rng, method=method).exponents


def benettin(factors, *, checkpoints: Sequence[int] | int | None = None, method: str = "auto") -> QRResult:
    """The QR engine on an explicit factor stack ``(L, n, n)`` or ``(L, R, n, n)``.

    ``factors[l]`` is ``W_{l+1}`` (applied ``l+1``-th). A stack without a replica axis is
    treated as one replica (``R = 1``). The input is never modified.

    >>> W = np.stack([np.diag([2.0, 0.5])] * 10)
    >>> benettin(W).exponents.round(6).tolist()
    [[0.693147, -0.693147]]
    """
    src, _ = _factor_source(factors)
    return _run_benettin(src, _choose_method(method, src.n, src.replicas), _checkpoints(checkpoints, src.depth))


# --------------------------------------------------------------------------------------
# stable singular values
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _triu_mask(n: int) -> np.ndarray:
    mask = np.triu(np.ones((n, n), dtype=bool))
    mask.setflags(write=False)
    return mask


def _upper_ratio(logd: np.ndarray) -> np.ndarray:
    """exp(logd_j - logd_i) for j >= i, 0 below the diagonal; (R, n, n)."""
    n = logd.shape[-1]
    arg = logd[..., None, :] - logd[..., :, None]
    mask = _triu_mask(n)
    # finite logd only (checked by callers); entries with j >= i are <= 0 when logd is sorted
    with np.errstate(over="ignore", under="ignore"):
        out = np.exp(np.where(mask, arg, -np.inf))
    return out


def _sort_desc(logd: np.ndarray, T: np.ndarray):
    if np.all(logd[..., :-1] >= logd[..., 1:]):  # already sorted (the usual case at depth)
        return logd, T, None
    p = np.argsort(-logd, axis=-1, kind="stable")
    logd = np.take_along_axis(logd, p, axis=-1)
    T = np.take_along_axis(T, p[..., :, None], axis=-2)
    return logd, T, p


def _normalize_rows(logd: np.ndarray, T: np.ndarray):
    rn = np.linalg.norm(T, axis=-1)
    if np.any(rn == 0) or not np.all(np.isfinite(rn)):
        raise NumericalFailure(
            "the product is exactly singular (a zero row appeared): its log singular values "
            "include -inf; perturb the factors or count the rank instead"
        )
    return logd + np.log(rn), T / rn[..., None]


def _graded_step(logd, Rm, T):
    """(D, T) -> (D', T') with D' T' = diag(|diag Rm|) (Rm/|diag Rm|) D T, re-normalized."""
    dR = np.diagonal(Rm, axis1=-2, axis2=-1)
    adR = np.abs(dR)
    if np.any(adR == 0):
        raise NumericalFailure(
            "a QR pivot is exactly zero: the product is exactly singular and some log "
            "singular values are -inf"
        )
    G = (Rm / adR[..., :, None]) * _upper_ratio(logd)
    T = np.matmul(G, T)
    return _normalize_rows(logd + np.log(adR), T)


def _forward_graded(src: _Source, method: str):
    """Forward sweep: P = Q D T with D = exp(logd) sorted descending and T of unit rows.

    Each step: M = W_l Q (Q's columns follow the sorted order), M = Q' Rm,
    D T <- diag(|Rm_ii|) [ (Rm / |Rm_ii|) (D_j / D_i) ] T, then sort D descending (permuting
    Q's columns and T's rows alike) and move T's row norms into D. Every matrix entry stays
    bounded: the ratios D_j / D_i with j > i are <= 1 after sorting.
    """
    n, depth, R, field = src.n, src.depth, src.replicas, src.field
    dtype = src.dtype
    logd = np.zeros((R, n))
    T = np.broadcast_to(np.eye(n, dtype=dtype), (R, n, n)).copy()
    if method in ("lapack", "geqrf"):
        kern = _Kernel(field, n, "geqrf" if method == "geqrf" else "geqrt")
        frames: list = [None] * R
        perms: list = [None] * R
        for layer in range(depth):
            block = src.block(layer)
            Rms = np.empty((R, n, n), dtype=dtype)
            for r in range(R):
                w = block[r]
                w = np.asfortranarray(w) if src.owned else np.array(w, order="F", copy=True)
                if frames[r] is not None:
                    w = kern.apply_right(frames[r], w)
                    if perms[r] is not None:
                        w = np.asfortranarray(w[:, perms[r]])
                frames[r] = kern.factor(w)
                Rms[r] = kern.r(frames[r])
            logd, T = _graded_step(logd, Rms, T)
            logd, T, p = _sort_desc(logd, T)
            for r in range(R):
                perms[r] = None if p is None or np.array_equal(p[r], np.arange(n)) else p[r]
    else:
        Q = None
        for layer in range(depth):
            block = src.block(layer)
            M = block if Q is None else np.matmul(block, Q)
            Q, Rm = np.linalg.qr(M)
            logd, T = _graded_step(logd, Rm, T)
            logd, T, p = _sort_desc(logd, T)
            if p is not None:
                Q = np.take_along_axis(Q, p[..., None, :], axis=-1)
    return logd, T


def _cross_coupling(A: np.ndarray) -> np.ndarray:
    """c[k-1] = max_{i < k <= j} A[i, j] for k = 1..n-1 (largest entry of the block A[:k, k:])."""
    n = A.shape[-1]
    suffix = np.maximum.accumulate(A[:, ::-1], axis=1)[:, ::-1]  # max_{j >= k} A[i, j]
    prefix = np.maximum.accumulate(suffix, axis=0)  # then max over i <= k - 1
    k = np.arange(1, n)
    return prefix[k - 1, k]


#: Natural-log dynamic range that an explicit float64 SVD of the scaled matrix handles: the
#: smallest scaled entry is e^-600 ~ 1e-261, still a normal float.
EXPLICIT_RANGE = 600.0


def _blocks(logd: np.ndarray, U: np.ndarray, max_range: float):
    """Decoupled diagonal blocks of ``diag(exp(logd)) U`` (one replica), or None.

    Blocks are maximal index ranges whose cross couplings (both off-diagonal blocks
    ``U[:k, k:]`` and ``U[k:, :k]``) all vanish below ``eps**2`` (relative perturbation of the
    singular values below ``n eps^2 ||U_block^-1||``). Returns None if some block's dynamic
    range exceeds ``max_range``.
    """
    n = logd.shape[-1]
    if n > 1:
        A = np.abs(U)
        cross = np.maximum(_cross_coupling(A), _cross_coupling(A.T))
        cuts = [0] + [k for k in range(1, n) if cross[k - 1] <= _EPS**2] + [n]
    else:
        cuts = [0, n]
    blocks = list(zip(cuts[:-1], cuts[1:]))
    for a, b in blocks:
        if logd[a:b].max() - logd[a:b].min() > max_range:
            return None
    return blocks


def _scaled_svd_log(logd: np.ndarray, U: np.ndarray) -> np.ndarray:
    """log sv of diag(exp(logd)) U, batched, by one float64 SVD after scaling by max(logd).

    Relies on the dynamic range being below :data:`EXPLICIT_RANGE` (callers check).
    """
    top = logd.max(axis=-1, keepdims=True)
    X = np.exp(logd - top)[..., :, None] * U
    s = np.linalg.svd(X, compute_uv=False)
    if np.any(s <= 0):
        raise NumericalFailure("a singular value of the product is exactly zero in float64")
    return np.log(s) + top


def _explicit_log_sv(logd: np.ndarray, U: np.ndarray, blocks) -> np.ndarray:
    out = [_scaled_svd_log(logd[a:b], U[a:b, a:b]) for a, b in blocks]
    return np.sort(np.concatenate(out))[::-1]


def graded_log_singular_values(
    logd,
    T,
    *,
    max_sweeps: int = 60,
    explicit_range: float = EXPLICIT_RANGE,
) -> np.ndarray:
    """Log singular values of ``M = diag(exp(logd)) T`` to high relative accuracy.

    The reduction of a product ``P = Q D T`` (Q orthonormal, T of unit rows) leaves this
    problem; ``D`` may span far beyond the float64 range, which is why it is given by its logs.

    * If the dynamic range ``max(logd) - min(logd)`` is at most ``explicit_range`` (default
      600, i.e. e^600), ``D`` is sorted descending, scaled by its maximum and the float64 SVD of
      the row-graded matrix ``D T`` is taken (batched over replicas). Householder-based SVD of
      a matrix whose rows are sorted by decreasing norm keeps relative accuracy in practice;
      this is an observed property, not a theorem: the test-suite checks it against mpmath
      SVDs of the exactly multiplied products (40 + 2L digits; dynamic ranges up to e^230 on
      this path, up to e^900 through the sweeps below; e^640 was checked while developing):
      errors ``<= 1e-10`` asserted, about ``1e-13`` observed, in ``log sigma``.
    * Otherwise the scaling is removed by unshifted QR sweeps carried out with the scale
      factored out (Stewart, *On graded QR decompositions of products of matrices*, ETNA 3
      (1995); Golub, Sølna & Van Dooren, SIAM J. Matrix Anal. Appl. 22 (2000)): with D sorted,
      ``T^H = Q1 R1`` and, since Householder QR commutes with column scaling,
      ``M^H = T^H D = Q1 (R1 D)``, ``R1 D = diag(|R1_ii| D_i) U``,
      ``U_ij = (R1_ij/|R1_ii|)(D_j/D_i)``. Couplings between i and j decay by ``D_j/D_i`` per
      sweep. When ``max |U_ij| (i != j) <= eps``, log D is the answer (relative error
      ``<= n eps``, multiplicative perturbation); as soon as the couplings between blocks of
      dynamic range ``<= explicit_range`` have vanished (``<= eps^2``), each block goes to the
      explicit SVD. :class:`~theory.errors.CertificationError` if neither happens within
      ``max_sweeps`` sweeps.

    Parameters
    ----------
    logd : array (..., n)
    T : array (..., n, n)
    max_sweeps : int
    explicit_range : float

    Returns
    -------
    ndarray (..., n): log singular values, descending.

    >>> graded_log_singular_values(np.array([1000.0, 0.0, -1000.0]), np.eye(3)).tolist()
    [1000.0, 0.0, -1000.0]
    """
    logd = check_finite_array("logd", logd)
    T = np.asarray(T)
    T = check_finite_array("T", T, dtype=np.complex128 if np.iscomplexobj(T) else np.float64)
    if logd.ndim < 1 or T.shape != logd.shape + logd.shape[-1:]:
        raise ArgumentValueError(f"T must have shape {logd.shape + logd.shape[-1:]}, got {T.shape}")
    max_sweeps = check_int("max_sweeps", max_sweeps, minimum=0)
    explicit_range = check_real("explicit_range", explicit_range, lo=0.0, hi=EXPLICIT_RANGE)
    batch = logd.shape[:-1]
    n = logd.shape[-1]
    logd = logd.reshape(-1, n).copy()
    T = T.reshape(-1, n, n).copy()
    Rn = logd.shape[0]
    logd, T = _normalize_rows(logd, T)
    logd, T, _ = _sort_desc(logd, T)
    result = np.empty((Rn, n))
    small = logd[:, 0] - logd[:, -1] <= explicit_range
    if np.any(small):  # one batched SVD for every replica whose range fits
        result[small] = np.sort(_scaled_svd_log(logd[small], T[small]), axis=-1)[:, ::-1]
    todo = ~small
    sweeps = 0
    while np.any(todo):
        if sweeps >= max_sweeps:
            raise CertificationError(
                f"graded SVD: couplings between blocks of dynamic range <= e^{explicit_range:.0f} "
                f"did not vanish within max_sweeps={max_sweeps} sweeps; increase max_sweeps"
            )
        idx = np.flatnonzero(todo)
        ld, U = logd[idx], T[idx]
        R1 = np.linalg.qr(np.conj(np.swapaxes(U, -1, -2)), mode="r")
        d1 = np.abs(np.diagonal(R1, axis1=-2, axis2=-1))
        if np.any(d1 == 0):
            raise NumericalFailure("the product is exactly singular in float64 (zero pivot)")
        # R1 D = diag(|R1_ii| D_i) U_new with U_new_ij = (R1_ij / |R1_ii|) (D_j / D_i)
        Unew = (R1 / d1[..., :, None]) * _upper_ratio(ld)
        ldnew = ld + np.log(d1)
        off_now = np.triu(np.abs(Unew), 1).reshape(len(idx), -1).max(axis=-1)
        ldnew, Unew = _normalize_rows(ldnew, Unew)
        sweeps += 1
        for j, r in enumerate(idx):
            if off_now[j] <= _EPS:
                result[r] = np.sort(ldnew[j])[::-1]
                todo[r] = False
                continue
            blocks = _blocks(ldnew[j], Unew[j], explicit_range)  # Unew is upper triangular here
            if blocks is not None:
                result[r] = _explicit_log_sv(ldnew[j], Unew[j], blocks)
                todo[r] = False
            else:
                logd[r], T[r] = ldnew[j], Unew[j]
        still = np.flatnonzero(todo)
        if still.size:
            logd[still], T[still], _ = _sort_desc(logd[still], T[still])
    return result.reshape(batch + (n,))


def _stable_from_source(src: _Source, method: str, max_sweeps: int) -> np.ndarray:
    logd, T = _forward_graded(src, method)
    return graded_log_singular_values(logd, T, max_sweeps=max_sweeps)


def product_log_singular_values(factors, depth: int | None = None, *, method: str = "auto", max_sweeps: int = 60,
                                **sample_kwargs) -> np.ndarray:
    """Log singular values of ``P = factors[-1] @ ... @ factors[0]``, accurate at any depth.

    Also callable as ``product_log_singular_values(n, depth, replicas=..., rng=..., ...)``:
    with an int first argument it is :func:`sample_product_log_singular_values`.

    Every singular value, including those far below ``eps * sigma_1``, to high relative
    accuracy: the product is accumulated as ``P = Q D T`` (orthonormal Q, graded diagonal D
    kept as logs, bounded T; see ``_forward_graded``) and ``D T`` is then resolved by
    :func:`graded_log_singular_values`. Nothing overflows at depth ``10**4``.

    Parameters
    ----------
    factors : array (L, n, n) or (L, R, n, n)
        ``factors[l] = W_{l+1}``; real or complex.

    Returns
    -------
    ndarray (n,) or (R, n): ``log sigma_i``, descending.

    Raises
    ------
    DegeneracyError
        If the product is exactly singular in floating point (a zero pivot).

    Examples
    --------
    >>> W = np.stack([np.diag([np.e, 1.0 / np.e])] * 500)      # sigma = e^{+-500}
    >>> product_log_singular_values(W).round(9).tolist()
    [500.0, -500.0]
    """
    if _is_int(factors):
        if depth is None:
            raise ArgumentTypeError("product_log_singular_values(n, depth, ...) needs depth")
        return sample_product_log_singular_values(factors, depth, method=method, max_sweeps=max_sweeps, **sample_kwargs)
    if depth is not None or sample_kwargs:
        raise ArgumentTypeError("depth, replicas, rng, ... are only accepted with an int n (the sampled form)")
    src, batched = _factor_source(factors)
    out = _stable_from_source(src, _choose_method(method, src.n, src.replicas), max_sweeps)
    return out if batched else out[0]


def _is_int(x) -> bool:
    import numbers

    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def log_singular_values_of(factors, *, method: str = "auto") -> np.ndarray:
    """Alias of :func:`product_log_singular_values` for an explicit factor stack."""
    return product_log_singular_values(factors, method=method)


def sample_product_log_singular_values(
    n: int,
    depth: int,
    *,
    replicas: int = 1,
    field: str = "real",
    ensemble: str = "gaussian",
    sampler: Sampler | None = None,
    rng: RNGLike = None,
    method: str = "auto",
    max_sweeps: int = 60,
) -> np.ndarray:
    """Log singular values (R, n), descending, of ``replicas`` sampled products of depth L.

    Factors are drawn layer by layer exactly as in :func:`lyapunov_qr` (same stream for the
    same ``rng``), so memory is O(R n^2) whatever the depth.

    >>> ls = sample_product_log_singular_values(6, 100, replicas=2, rng=0)
    >>> ls.shape, bool(np.all(np.isfinite(ls)))
    ((2, 6), True)
    """
    src, n, depth, replicas = _sampled_source(n, depth, replicas, field, ensemble, sampler, rng)
    return _stable_from_source(src, _choose_method(method, n, replicas), max_sweeps)


def fuss_catalan_samples(
    n: int,
    depth: int,
    *,
    replicas: int = 1,
    field: str = "real",
    rng: RNGLike = None,
    log: bool = False,
) -> np.ndarray:
    """Squared singular values of products of ``depth`` Gaussian ``n x n`` matrices.

    Rows are independent replicas, shape (R, n), descending. As ``n -> inf`` their empirical
    law is the Fuss–Catalan law of order ``depth`` (mean 1, variance ``depth``; docs/formulas.md
    §1). Computed with :func:`sample_product_log_singular_values`, so they are exact
    to high relative accuracy at ``depth = 100`` and beyond. With ``log=False`` values below
    ~1e-308 underflow to 0.0 (they are below any grid point); ``log=True`` returns
    ``2 log sigma`` instead, which never underflows.

    >>> x = fuss_catalan_samples(50, 1, replicas=4, rng=0)
    >>> x.shape, bool(abs(x.mean() - 1) < 0.1)
    ((4, 50), True)
    """
    ls = sample_product_log_singular_values(n, depth, replicas=replicas, field=field, rng=rng)
    if log:
        return 2.0 * ls
    with np.errstate(under="ignore"):
        return np.exp(2.0 * ls)


# --------------------------------------------------------------------------------------
# naive products (kept only to demonstrate their failure)
# --------------------------------------------------------------------------------------


def multiply(factors) -> np.ndarray:
    """``P = factors[-1] @ ... @ factors[0]`` by plain accumulation ``P <- W P``.

    Accepts ``(L, n, n)`` or ``(L, R, n, n)``. Fine for well-conditioned factors (orthogonal
    ones, or short products); the entries over- or underflow at large depth otherwise.

    >>> multiply(np.stack([np.eye(2) * 2, np.eye(2) * 3])).tolist()
    [[6.0, 0.0], [0.0, 6.0]]
    """
    src, batched = _factor_source(factors)
    P = np.array(src.block(0), copy=True)
    for l in range(1, src.depth):
        P = np.matmul(src.block(l), P)
    return P if batched else P[0]


def naive_product_singular_values(factors) -> np.ndarray:
    """Singular values of the explicitly multiplied product. **Wrong at depth; do not use.**

    Computes ``svd(W_L ... W_1)`` in float64. Every singular value below roughly
    ``eps * sigma_1`` comes back as rounding noise, so every index with
    ``L (mu_1 - mu_i) > -log(eps) ~ 36`` is lost (docs/formulas.md §1); at very large depth
    the product itself over/underflows (values become 0 or inf). Kept only to demonstrate
    the failure (:func:`naive_breakdown`); use :func:`product_log_singular_values`.

    Returns
    -------
    ndarray (n,) or (R, n), descending (not logs).

    >>> rng = np.random.default_rng(0)
    >>> W = rng.standard_normal((100, 8, 8)) / np.sqrt(8)
    >>> naive = np.log(naive_product_singular_values(W))
    >>> exact = product_log_singular_values(W)
    >>> bool(abs(naive[0] - exact[0]) < 1e-8), bool(abs(naive[-1] - exact[-1]) > 10)
    (True, True)
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        P = multiply(factors)
    if not np.all(np.isfinite(P)):
        raise NumericalFailure("the explicit product overflowed in float64 (that is part of the failure)")
    return np.linalg.svd(P, compute_uv=False)


@dataclass(frozen=True)
class NaiveBreakdown:
    """Comparison of naive and stable singular values of the same products.

    Attributes
    ----------
    stable_log_sv : ndarray (R, n)
        Accurate ``log sigma_i`` (descending).
    naive_log_sv : ndarray (R, n)
        ``log`` of the naive singular values (``-inf`` where the naive value is 0).
    log_error : ndarray (R, n)
        ``|naive_log_sv - stable_log_sv|`` (inf where the naive value is 0 or inf).
    lost : ndarray of bool (R, n)
        ``log_error > log(1 + rtol)``: the naive value is off by more than ``rtol``.
    """

    stable_log_sv: np.ndarray
    naive_log_sv: np.ndarray
    log_error: np.ndarray
    lost: np.ndarray

    @property
    def first_lost(self) -> np.ndarray:
        """Per replica, the smallest 0-based index that is lost (``n`` if none is)."""
        n = self.lost.shape[-1]
        return np.where(self.lost.any(axis=-1), np.argmax(self.lost, axis=-1), n)


def naive_breakdown(factors, *, rtol: float = 1e-2) -> NaiveBreakdown:
    """Which singular values does the naive product + svd lose? (docs/formulas.md §1)

    Compares :func:`naive_product_singular_values` with
    :func:`product_log_singular_values` on the same factors; index i is *lost* when the naive
    value is off by a relative error above ``rtol``. The prediction to compare with is
    ``L (mu_1 - mu_i) > -log(eps)``.

    >>> W = np.random.default_rng(1).standard_normal((100, 8, 8)) / np.sqrt(8)
    >>> b = naive_breakdown(W)
    >>> bool(b.lost[0, 0]), bool(b.lost[0, -1]), 0 < int(b.first_lost[0]) < 8
    (False, True, True)
    """
    rtol = check_real("rtol", rtol, lo=0.0, lo_open=True)
    src, _ = _factor_source(factors)
    arr = np.stack([src.block(l) for l in range(src.depth)])
    stable = product_log_singular_values(arr)
    naive = naive_product_singular_values(arr)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        nlog = np.log(naive)
        err = np.abs(nlog - stable)
    err = np.where(np.isfinite(err), err, np.inf)
    nlog = np.where(np.isnan(nlog), -np.inf, nlog)
    return NaiveBreakdown(stable, nlog, err, err > math.log1p(rtol))


# --------------------------------------------------------------------------------------
# eigenvalues of products
# --------------------------------------------------------------------------------------


def product_eigenvalues(factors, depth: int | None = None, **sample_kwargs) -> np.ndarray:
    """Eigenvalues of the explicitly multiplied product, batched (``numpy.linalg.eigvals``).

    Also callable as ``product_eigenvalues(n, depth, replicas=..., field=..., rng=...)``:
    with an int first argument it is :func:`sample_product_eigenvalues`.

    Shape (n,) or (R, n), complex. Eigenvalues far below ``eps * |lambda_max|`` are rounding
    noise (of that size), which is harmless for counting eigenvalues in a box around the origin
    of side much larger than ``eps * |lambda_max|`` (:func:`origin_bin_fraction`).
    """
    if _is_int(factors):
        if depth is None:
            raise ArgumentTypeError("product_eigenvalues(n, depth, ...) needs depth")
        return sample_product_eigenvalues(factors, depth, **sample_kwargs)
    if depth is not None or sample_kwargs:
        raise ArgumentTypeError("depth, replicas, rng, ... are only accepted with an int n (the sampled form)")
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        P = multiply(factors)
    if not np.all(np.isfinite(P)):
        raise NumericalFailure("the explicit product overflowed in float64; use a smaller depth")
    return np.linalg.eigvals(P).astype(np.complex128)


def sample_product_eigenvalues(
    n: int,
    depth: int,
    *,
    replicas: int = 1,
    field: str = "real",
    rng: RNGLike = None,
) -> np.ndarray:
    """Eigenvalues (R, n) of products of ``depth`` Gaussian ``n x n`` matrices.

    For complex Gaussian factors, as ``n -> inf`` the eigenvalue moduli satisfy
    ``P(|lambda| <= r) = r^(2/depth)`` on the unit disk (Burda, Janik & Waclaw, Phys. Rev. E
    81, 041132 (2010); the same limit holds for real factors).

    >>> sample_product_eigenvalues(5, 3, replicas=2, rng=0).shape
    (2, 5)
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    replicas = check_positive_int("replicas", replicas)
    check_choice("field", field, FIELDS)
    g = as_generator(rng)
    P = gaussian(n, size=replicas, field=field, rng=g)
    for _ in range(depth - 1):
        P = np.matmul(gaussian(n, size=replicas, field=field, rng=g), P)
    if not np.all(np.isfinite(P)):
        raise NumericalFailure("the explicit product over/underflowed; use a smaller depth")
    return np.linalg.eigvals(P).astype(np.complex128)


def origin_bin_fraction(eigenvalues, width: float = 0.1) -> np.ndarray:
    """Fraction of eigenvalues in the square ``[-w/2, w/2] x [-w/2, w/2]`` (``w = width``).

    The box "at the origin" of Saxe et al. (2013), Fig. 6C, read as the bin centred on 0.
    Batched over leading axes (last axis = spectrum). Under the limit law with radial CDF
    ``r^(2/k)`` the box holds approximately ``(w/2)^(2/k)`` times a shape factor (integrate
    the density ``|z|^(2/k - 2)/(k pi)`` over the square).

    >>> origin_bin_fraction(np.array([0.0, 0.04 + 0.04j, 0.06, 1.0])).item()
    0.5
    """
    width = check_real("width", width, lo=0.0, lo_open=True)
    z = np.asarray(eigenvalues)
    if z.ndim < 1 or z.shape[-1] == 0:
        raise ArgumentValueError("eigenvalues must have a non-empty last axis")
    if not np.all(np.isfinite(z)):
        raise ArgumentValueError("eigenvalues must contain only finite numbers (found NaN or inf)")
    h = width / 2.0
    inside = (np.abs(np.real(z)) <= h) & (np.abs(np.imag(z)) <= h)
    return inside.mean(axis=-1)


# --------------------------------------------------------------------------------------
# degeneracy measures
# --------------------------------------------------------------------------------------


def _as_log_sv(s, log: bool, name: str = "s") -> np.ndarray:
    if log:
        arr = np.asarray(s, dtype=np.float64)
        if np.any(np.isnan(arr)) or np.any(arr == np.inf):
            raise ArgumentValueError(f"{name} (log singular values) must not contain NaN or +inf")
    else:
        arr = check_finite_array(name, s)
        if np.any(arr < 0):
            raise ArgumentValueError(f"{name} (singular values) must be non-negative")
        with np.errstate(divide="ignore"):
            arr = np.log(arr)
    if arr.ndim < 1 or arr.shape[-1] == 0:
        raise ArgumentValueError(f"{name} must have a non-empty last axis (the spectrum)")
    return arr


def _logsumexp(x: np.ndarray) -> np.ndarray:
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(under="ignore"):
        return np.log(np.sum(np.exp(x - m), axis=-1)) + m[..., 0]


def participation_ratio(s, *, log: bool = False) -> np.ndarray:
    """Participation ratio ``(sum_i s_i^2)^2 / (N sum_i s_i^4)`` of a singular-value spectrum.

    1 for an isometry, ``1/N`` for rank one; for products of ``L`` Gaussian matrices it tends
    to ``1/(L+1)`` as N -> inf (Fuss–Catalan: m_2 = L + 1 with m_1 = 1). Computed in the log
    domain, so ``log=True`` input (log singular values, e.g. from
    :func:`product_log_singular_values`) never overflows. Batched over leading axes.

    >>> participation_ratio(np.ones(4)).item(), participation_ratio(np.array([1.0, 0, 0, 0])).item()
    (1.0, 0.25)
    """
    ls = _as_log_sv(s, log)
    if np.all(np.isneginf(ls), axis=-1).any():
        raise ArgumentValueError("participation ratio of an all-zero spectrum is undefined")
    N = ls.shape[-1]
    return np.exp(2 * _logsumexp(2 * ls) - _logsumexp(4 * ls) - math.log(N))


def fraction_below(s, eps: float, *, log: bool = False) -> np.ndarray:
    """Fraction of *squared* singular values below ``eps`` (``s_i^2 < eps``), batched.

    >>> fraction_below(np.array([1.0, 0.1, 1e-3]), 1e-4).item()
    0.3333333333333333
    """
    eps = check_real("eps", eps, lo=0.0, lo_open=True)
    ls = _as_log_sv(s, log)
    return (2 * ls < math.log(eps)).mean(axis=-1)


def log_condition_number(s, *, log: bool = False) -> np.ndarray:
    """``log(s_max / s_min)``, batched; ``inf`` for a singular spectrum.

    For products of L Gaussian matrices it grows like ``L (mu_1 - mu_N)``.

    >>> log_condition_number(np.array([0.0, 1.0, 2.0]), log=True).item()
    2.0
    """
    ls = _as_log_sv(s, log)
    return ls.max(axis=-1) - ls.min(axis=-1)


# --------------------------------------------------------------------------------------
# orthogonal products
# --------------------------------------------------------------------------------------


def isometry_defect(factors) -> np.ndarray:
    """``max_i |sigma_i(P) - 1|`` of the explicitly multiplied product, per replica.

    For orthogonal/unitary factors this is pure rounding: each multiplication adds an error of
    order ``sqrt(n) eps`` relative, so the defect stays below a small multiple of
    ``L sqrt(n) eps`` (about 1e-12 at L = 1000, n = 64). For such well-conditioned factors
    plain multiplication is accurate, which is why it is used here.

    >>> Q = np.stack([np.eye(3)] * 5)
    >>> isometry_defect(Q).tolist()
    [0.0]
    """
    src, _ = _factor_source(factors)
    P = np.array(src.block(0), copy=True)
    for l in range(1, src.depth):
        P = np.matmul(src.block(l), P)
    s = np.linalg.svd(P, compute_uv=False)
    return np.max(np.abs(s - 1.0), axis=-1)


def sample_isometry_defect(
    n: int,
    depth: int,
    *,
    replicas: int = 1,
    field: str = "real",
    rng: RNGLike = None,
) -> np.ndarray:
    """:func:`isometry_defect` of ``replicas`` products of ``depth`` Haar orthogonal/unitary
    matrices, drawn layer by layer (memory O(R n^2)). Shape (R,).

    >>> bool(sample_isometry_defect(8, 1000, replicas=2, rng=0).max() < 1e-12)
    True
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    replicas = check_positive_int("replicas", replicas)
    check_choice("field", field, FIELDS)
    g = as_generator(rng)
    P = haar(n, size=replicas, field=field, rng=g)
    for _ in range(depth - 1):
        P = np.matmul(haar(n, size=replicas, field=field, rng=g), P)
    s = np.linalg.svd(P, compute_uv=False)
    return np.max(np.abs(s - 1.0), axis=-1)
