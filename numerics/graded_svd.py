"""Every singular value of a product of matrices, to high relative accuracy, at any depth.

The product ``P = W_L ... W_1`` (:mod:`numerics.factors`) is accumulated as ``P = Q D T``
(orthonormal Q, a graded diagonal D kept as logs, T with unit rows) by the same Householder steps
as the QR engine (:mod:`numerics.qr_engine`), then ``D T`` is resolved by
:func:`graded_log_singular_values`: one float64 SVD of the row-graded matrix when D's dynamic
range fits, otherwise unshifted QR sweeps with the scale factored out (Stewart, ETNA 3 (1995);
Golub, Sølna & Van Dooren, SIAM J. Matrix Anal. Appl. 22 (2000)). Results are returned as
``log sigma`` so nothing over- or underflows at depth ``10**4``; the test-suite checks them
against mpmath SVDs of the exactly multiplied products.

Square factors, or rectangular chains whose widths never drop below the input width ``N_0``
(otherwise the product has rank below ``N_0`` and some singular values are exactly zero).
"""

from __future__ import annotations

import functools

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, CertificationError, NumericalFailure
from degeneracy.numerics.factors import FactorSource, Sampler, factor_source, is_int, sampled_source
from degeneracy.numerics.householder import HouseholderKernel
from degeneracy.numerics.qr_engine import choose_method
from degeneracy.numerics.rng import RNGLike
from degeneracy.validation import check_finite_array, check_int, check_real

__all__ = [
    "EXPLICIT_RANGE",
    "graded_log_singular_values",
    "product_log_singular_values",
    "log_singular_values_of",
    "sample_product_log_singular_values",
    "fuss_catalan_samples",
]

_EPS = float(np.finfo(np.float64).eps)

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


def _forward_graded(src: FactorSource, method: str):
    """Forward sweep: P = Q D T with D = exp(logd) sorted descending and T of unit rows.

    Each step: M = W_l Q (Q's columns follow the sorted order), M = Q' Rm,
    D T <- diag(|Rm_ii|) [ (Rm / |Rm_ii|) (D_j / D_i) ] T, then sort D descending (permuting
    Q's columns and T's rows alike) and move T's row norms into D. Every matrix entry stays
    bounded: the ratios D_j / D_i with j > i are <= 1 after sorting. The frame has ``k = N_0``
    columns.
    """
    R, k, dtype = src.replicas, src.n_in, src.dtype
    logd = np.zeros((R, k))
    T = np.broadcast_to(np.eye(k, dtype=dtype), (R, k, k)).copy()
    if method in ("lapack", "geqrf"):
        kern = HouseholderKernel(src.field, "geqrf" if method == "geqrf" else "geqrt")
        frames: list = [None] * R
        perms: list = [None] * R
        for layer, block in enumerate(src):
            n_out, n_in = block.shape[-2:]
            if n_out < k:
                raise _narrow(layer, n_out, k)
            Rms = np.empty((R, k, k), dtype=dtype)
            for r in range(R):
                w = block[r]
                w = np.asfortranarray(w) if src.owned else np.array(w, order="F", copy=True)
                if frames[r] is not None:
                    w = kern.apply_right(frames[r], w)
                    if perms[r] is not None:
                        w = np.asfortranarray(w[:, perms[r]])
                frames[r] = kern.factor(w[:, :k] if k < n_in else w)
                Rms[r] = kern.r(frames[r])
            logd, T = _graded_step(logd, Rms, T)
            logd, T, p = _sort_desc(logd, T)
            for r in range(R):
                perms[r] = None if p is None or np.array_equal(p[r], np.arange(k)) else p[r]
    else:
        Q = None
        for layer, block in enumerate(src):
            if block.shape[-2] < k:
                raise _narrow(layer, block.shape[-2], k)
            M = block if Q is None else np.matmul(block, Q)
            Q, Rm = np.linalg.qr(M)
            logd, T = _graded_step(logd, Rm, T)
            logd, T, p = _sort_desc(logd, T)
            if p is not None:
                Q = np.take_along_axis(Q, p[..., None, :], axis=-1)
    return logd, T


def _narrow(layer: int, n_out: int, k: int) -> ArgumentValueError:
    return ArgumentValueError(
        f"factor {layer + 1} has {n_out} rows, fewer than the input width {k}: the product has rank <= {n_out} and "
        f"{k - n_out} singular values are exactly zero; the accurate route needs every width >= N_0 (for the "
        "exponents of the others use numerics.qr_engine.benettin with k <= the smallest width)")


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


def _stable_from_source(src: FactorSource, method: str, max_sweeps: int) -> np.ndarray:
    logd, T = _forward_graded(src, method)
    return graded_log_singular_values(logd, T, max_sweeps=max_sweeps)


def product_log_singular_values(factors, depth: int | None = None, *, method: str = "auto", max_sweeps: int = 60,
                                **sample_kwargs) -> np.ndarray:
    """Log singular values of ``P = factors[-1] @ ... @ factors[0]``, accurate at any depth.

    Also callable as ``product_log_singular_values(n, depth, replicas=..., rng=..., ...)``:
    with an int first argument it is :func:`sample_product_log_singular_values`.

    Every singular value, including those far below ``eps * sigma_1``, to high relative
    accuracy: the product is accumulated as ``P = Q D T`` (orthonormal Q, graded diagonal D
    kept as logs, bounded T; see the module docstring) and ``D T`` is then resolved by
    :func:`graded_log_singular_values`. Nothing overflows at depth ``10**4``.

    Parameters
    ----------
    factors : array (L, n, n) or (L, R, n, n), or a list / generator of matrices
        ``factors[l] = W_{l+1}``; real or complex; rectangular chains ``(N_l, N_{l-1})`` with
        every ``N_l >= N_0`` (:func:`numerics.factors.factor_source`).
    method : {"auto", "lapack", "geqrf", "batched"}
        As in :func:`numerics.qr_engine.lyapunov_qr`.
    max_sweeps : int
        Budget of :func:`graded_log_singular_values`.

    Returns
    -------
    ndarray (N_0,) or (R, N_0): ``log sigma_i``, descending.

    Raises
    ------
    NumericalFailure
        If the product is exactly singular in floating point (a zero pivot).
    ArgumentValueError
        If a width drops below ``N_0`` (then singular values are exactly zero).

    Examples
    --------
    >>> W = np.stack([np.diag([np.e, 1.0 / np.e])] * 500)      # sigma = e^{+-500}
    >>> product_log_singular_values(W).round(9).tolist()
    [500.0, -500.0]
    """
    if is_int(factors):
        if depth is None:
            raise ArgumentTypeError("product_log_singular_values(n, depth, ...) needs depth")
        return sample_product_log_singular_values(factors, depth, method=method, max_sweeps=max_sweeps, **sample_kwargs)
    if depth is not None or sample_kwargs:
        raise ArgumentTypeError("depth, replicas, rng, ... are only accepted with an int n (the sampled form)")
    max_sweeps = check_int("max_sweeps", max_sweeps, minimum=0)
    src, batched = factor_source(factors)
    out = _stable_from_source(src, choose_method(method, src.n_in, src.replicas), max_sweeps)
    return out if batched else out[0]


def log_singular_values_of(factors, *, method: str = "auto") -> np.ndarray:
    """Alias of :func:`product_log_singular_values` for explicit factors."""
    return product_log_singular_values(factors, method=method)


def sample_product_log_singular_values(
    n,
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

    Factors are drawn layer by layer exactly as in :func:`numerics.qr_engine.lyapunov_qr` (same
    stream for the same ``rng``; ``n`` may be a sequence of widths ``(N_0, ..., N_L)`` with
    every ``N_l >= N_0``), so memory is O(R n^2) whatever the depth.

    >>> ls = sample_product_log_singular_values(6, 100, replicas=2, rng=0)
    >>> ls.shape, bool(np.all(np.isfinite(ls)))
    ((2, 6), True)
    """
    max_sweeps = check_int("max_sweeps", max_sweeps, minimum=0)
    src = sampled_source(n, depth, replicas=replicas, field=field, ensemble=ensemble, sampler=sampler, rng=rng)
    return _stable_from_source(src, choose_method(method, src.n_in, src.replicas), max_sweeps)


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

