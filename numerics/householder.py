"""Householder QR steps through LAPACK: factor a matrix, then apply its Q to the next one from the right.

The step of the QR (Benettin) engine and of the graded product SVD is ``M = W Q_prev`` followed
by ``M = Q R``. :class:`HouseholderKernel` does both on one matrix at a time without ever forming
Q: :meth:`~HouseholderKernel.factor` overwrites ``M`` with its Householder reflectors,
:meth:`~HouseholderKernel.apply_right` returns ``C Q`` for the next factor ``C``. Two LAPACK
pairs are available (real / complex):

* ``"geqrt"`` (default): ``dgeqrt``/``zgeqrt`` (blocked Householder QR whose panels are factored
  recursively, compact-WY T factors kept) + ``dgemqrt``/``zgemqrt`` (applies the blocks with
  level-3 BLAS), the T factor re-blocked between the two (factoring and applying are fastest at
  different block sizes: :func:`apply_block`). Same reflectors and R as ``geqrf``; faster here at
  every size we measured (docs/performance.md; :mod:`degeneracy.bench` measures it against the
  machine's matmul ceiling in every run).
* ``"geqrf"``: ``dgeqrf`` + ``dormqr`` (``zgeqrf`` + ``zunmqr``) with workspaces queried once
  per shape (``lwork=-1``): the f2py default workspace (3n) forces unblocked code, 3.6x slower
  at n = 1024 (docs/performance.md).

Matrices must be Fortran-ordered (the kernel copies otherwise) and are overwritten in place.
For ``M`` of shape ``m x k`` (``m >= k``) the reflectors have length ``m``; ``apply_right``
takes any ``C`` with ``m`` columns and returns ``C`` times the full ``m x m`` Q, whose first
``k`` columns are the thin Q of ``M``.

Flops (real; Golub & Van Loan, *Matrix Computations*, 4th ed., §5.2): QR of ``m x k``,
``2 m k^2 - 2 k^3 / 3``; applying its ``k`` reflectors to ``C`` (``p x m``) from the right,
``2 p k (2 m - k)``. For a square ``n x n`` step: ``(4/3) n^3 + 2 n^3``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg.lapack as lapack

from degeneracy.errors import NumericalFailure
from degeneracy.validation import check_choice

__all__ = ["KINDS", "HouseholderKernel", "geqrt_block", "apply_block", "reblock_t", "qr_flops", "apply_flops",
           "fortran_copy", "COPY_TILE"]

KINDS = ("geqrt", "geqrf")


def geqrt_block(k: int) -> int:
    """Block size of ``geqrt`` for a matrix with ``k`` columns.

    Fastest measured here (one thread, SkylakeX OpenBLAS 0.3.30, square steps: factor + apply):
    8 up to k = 64, 16 up to 128, 32 up to 384, 64 up to 768, 128 above (docs/performance.md).

    >>> geqrt_block(64), geqrt_block(256), geqrt_block(1024), geqrt_block(3)
    (8, 32, 128, 3)
    """
    nb = 8 if k <= 64 else 16 if k <= 128 else 32 if k <= 384 else 64 if k <= 768 else 128
    return max(1, min(nb, k))


def apply_block(k: int) -> int:
    """Block size at which the reflectors of a ``k``-column factorization are *applied*.

    Applying is fastest with smaller blocks than factoring (measured here: at n = 256, ``gemqrt``
    runs at 45 GFLOP/s with blocks of 16 and 40 with blocks of 32, while ``geqrt`` factors fastest
    with 32), so the kernel factors with :func:`geqrt_block` and re-blocks the compact-WY T factor
    for the apply (:func:`reblock_t`): 8 up to k = 64, 16 up to 384, the factor's block above.
    Always a divisor of ``geqrt_block(k)``.

    >>> apply_block(64), apply_block(256), apply_block(1024), apply_block(3)
    (8, 16, 128, 3)
    """
    nb = geqrt_block(k)
    want = 8 if k <= 64 else 16 if k <= 384 else nb
    return want if (want <= nb and nb % want == 0) else nb


_REBLOCK_INDEX: dict = {}


def reblock_t(T: np.ndarray, nb: int) -> np.ndarray:
    """The compact-WY T factor of ``geqrt`` re-blocked from blocks of ``T.shape[0]`` to blocks of ``nb``.

    In the forward columnwise compact WY representation ``I - V T V^H`` of a block of reflectors,
    the T factor of any run of consecutive reflectors inside the block is the corresponding
    diagonal block of T (Schreiber & Van Loan, SIAM J. Sci. Stat. Comput. 10 (1989)), so splitting
    each block of ``T.shape[0]`` reflectors into sub-blocks of ``nb`` only gathers diagonal blocks:
    ``T'[:, j] = T[s*nb : (s+1)*nb, j]`` with ``s = (j mod nb_from) // nb``. ``nb`` must divide
    ``T.shape[0]``. Exact (no arithmetic).

    >>> T = np.arange(16.0).reshape(4, 4, order="F")
    >>> reblock_t(T, 2).tolist()
    [[0.0, 4.0, 10.0, 14.0], [1.0, 5.0, 11.0, 15.0]]
    """
    nb_from, k = T.shape
    key = (nb_from, k, nb)
    if key not in _REBLOCK_INDEX:
        j = np.arange(k)
        rows = ((j % nb_from) // nb) * nb + np.arange(nb)[:, None]
        _REBLOCK_INDEX[key] = np.ravel_multi_index((np.minimum(rows, nb_from - 1), np.broadcast_to(j, rows.shape)),
                                                   (nb_from, k), order="F")
    return np.asfortranarray(T.ravel(order="F")[_REBLOCK_INDEX[key]])


#: Tile edge of :func:`fortran_copy`.
COPY_TILE = 32


def fortran_copy(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a`` (2-D, any layout) copied into the Fortran-ordered ``out`` (allocated when None), tile by tile.

    LAPACK needs Fortran order; the engine copies every factor that is not Fortran-ordered already
    (Haar draws, and factors passed to :func:`numerics.qr_engine.benettin`, which must not be
    modified; Gaussian draws are Fortran-ordered and not copied). numpy's own copy
    (``np.asfortranarray``) walks one of the two arrays with a stride of a whole row and runs at
    about 2 ns per element here; copying tiles of :data:`COPY_TILE` x :data:`COPY_TILE` (8 KiB,
    both sides stay in L1) is faster from n = 128 on (measured here, one thread, provisional under
    load: 0.097 ms instead of 0.147 ms at n = 256, 2.8 ms instead of 3.3 ms at n = 1024;
    docs/performance.md). A pure copy: the values are the same bits.

    >>> a = np.arange(12.0).reshape(3, 4)
    >>> b = fortran_copy(a)
    >>> bool(b.flags.f_contiguous and np.array_equal(a, b))
    True
    """
    if out is None:
        out = np.empty(a.shape, dtype=a.dtype, order="F")
    m, n = a.shape
    t = COPY_TILE
    if a.flags.f_contiguous or min(m, n) < 4 * t:
        np.copyto(out, a)
        return out
    for j in range(0, n, t):
        for i in range(0, m, t):
            out[i:i + t, j:j + t] = a[i:i + t, j:j + t]
    return out


def qr_flops(m: int, k: int) -> float:
    """Real flops of the Householder QR of an ``m x k`` matrix, ``m >= k``: ``2 m k^2 - 2 k^3/3``.

    >>> qr_flops(3, 3) == 4 / 3 * 27
    True
    """
    return 2.0 * m * k * k - 2.0 * k**3 / 3.0


def apply_flops(p: int, m: int, k: int) -> float:
    """Real flops of applying ``k`` reflectors of length ``m`` to a ``p x m`` matrix: ``2 p k (2m - k)``.

    >>> apply_flops(4, 4, 4) == 2 * 4**3
    True
    """
    return 2.0 * p * k * (2.0 * m - k)


class HouseholderKernel:
    """One Householder QR step on Fortran-ordered matrices (see the module docstring).

    ``factor(a)`` overwrites ``a`` (``m x k``, ``m >= k``) with its QR factorization and
    returns a handle; ``apply_right(h, c)`` returns ``c @ Q`` (overwriting ``c``, which has
    ``m`` columns) without forming Q; ``diag(h)`` is the diagonal of R, ``r(h)`` R itself.

    >>> rng = np.random.default_rng(0)
    >>> A = np.asfortranarray(rng.standard_normal((5, 3)))
    >>> kern = HouseholderKernel("real")
    >>> h = kern.factor(A.copy(order="F"))
    >>> Q, R = np.linalg.qr(A)
    >>> bool(np.allclose(np.abs(kern.diag(h)), np.abs(np.diag(R))))
    True
    >>> C = rng.standard_normal((2, 5))
    >>> bool(np.allclose(np.abs(kern.apply_right(h, np.asfortranarray(C))[:, :3]), np.abs(C @ Q)))
    True
    """

    def __init__(self, field: str, kind: str = "geqrt"):
        check_choice("kind", kind, KINDS)
        self.field, self.kind = field, kind
        cplx = field == "complex"
        self.dtype = np.dtype(np.complex128 if cplx else np.float64)
        if kind == "geqrf":
            self._qrf = lapack.zgeqrf if cplx else lapack.dgeqrf
            self._mqr = lapack.zunmqr if cplx else lapack.dormqr
            self._lwork: dict = {}
        else:
            self._qrt = lapack.zgeqrt if cplx else lapack.dgeqrt
            self._mqrt = lapack.zgemqrt if cplx else lapack.dgemqrt

    def _workspace(self, key, query) -> int:
        if key not in self._lwork:
            self._lwork[key] = max(1, int(np.real(query()[0])))
        return self._lwork[key]

    def factor(self, a: np.ndarray):
        if self.kind == "geqrf":
            m, k = a.shape
            lw = self._workspace(("qrf", m, k), lambda: self._qrf(np.zeros((m, k), self.dtype, order="F"),
                                                                   lwork=-1)[2])
            qr, tau, _work, info = self._qrf(a, lwork=lw, overwrite_a=1)
        else:
            k = a.shape[1]
            qr, tau, info = self._qrt(geqrt_block(k), a, overwrite_a=1)
            nb = apply_block(k)
            if info == 0 and nb != tau.shape[0]:
                tau = reblock_t(tau, nb)
        if info != 0:  # pragma: no cover - LAPACK argument errors only
            raise NumericalFailure(f"{self.kind} failed with info={info}")
        return qr, tau

    def apply_right(self, h, c: np.ndarray) -> np.ndarray:
        qr, tau = h
        if self.kind == "geqrf":
            key = ("mqr",) + qr.shape + c.shape
            lw = self._workspace(key, lambda: self._mqr("R", "N", qr, tau, np.zeros(c.shape, self.dtype, order="F"),
                                                        lwork=-1)[1])
            cq, _work, info = self._mqr("R", "N", qr, tau, c, lwork=lw, overwrite_c=1)
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
        k = h[0].shape[1]
        return np.triu(h[0][:k])
