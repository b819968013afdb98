"""Where the factors of a product come from: samplers, explicit stacks, sequences and generators.

A product of depth L is ``P = W_L ... W_1`` (docs/formulas.md, "Conventions"); ``W_1`` acts
first. Factor ``W_l`` maps R^{N_{l-1}} to R^{N_l}, so it has shape ``N_l x N_{l-1}``: square
factors have every ``N_l = n``; rectangular ones (the layers of a real network) have the widths
``N_0, N_1, ..., N_L``. The engines of the products area (:mod:`numerics.qr_engine`,
:mod:`numerics.graded_svd`, :mod:`numerics.naive_products`) read factors one layer at a time from
a :class:`FactorSource`, which holds ``R`` independent replicas side by side: every layer block
has shape ``(R, N_l, N_{l-1})``. Sources are built from

* an ensemble or a user's :data:`Sampler` (:func:`sampled_source`): drawn layer by layer, so
  memory stays ``O(R n^2)`` whatever the depth; square, or rectangular Gaussian with given
  widths;
* explicit factors (:func:`factor_source`): a stack ``(L, n, n)`` / ``(L, R, n, n)``, or any
  sequence -- a list, a tuple, or a generator that yields one factor at a time -- of matrices
  ``(N_l, N_{l-1})`` or replica stacks ``(R, N_l, N_{l-1})`` whose shapes chain.

Every source checks that consecutive shapes chain (``N_in`` of a factor is ``N_out`` of the one
before) and names the offending factor otherwise.
"""

from __future__ import annotations

import numbers
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.numerics.ensembles import FIELDS, fold, gaussian, haar
from degeneracy.numerics.rng import RNGLike, as_generator
from degeneracy.validation import (
    check_choice,
    check_finite_array,
    check_int,
    check_memory,
    check_positive_int,
    check_work,
)

__all__ = ["ENSEMBLES", "Sampler", "ensemble_sampler", "FactorSource", "sampled_source", "factor_source", "is_int"]

ENSEMBLES = ("gaussian", "orthogonal", "fold")

#: ``sampler(rng, replicas) -> ndarray (replicas, n, n)``: one layer for every replica.
Sampler = Callable[[np.random.Generator, int], np.ndarray]


def is_int(x) -> bool:
    """True for Python and numpy integers (not bool): the sampled forms take an int ``n``.

    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


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


class FactorSource:
    """The factors ``W_1, W_2, ...`` of ``replicas`` independent products, one layer at a time.

    Iterating yields blocks of shape ``(replicas, N_l, N_{l-1})`` (``dtype`` float64 or
    complex128) and checks that their shapes chain. A source built from a generator can be
    iterated once.

    Attributes
    ----------
    replicas : int
    field : {"real", "complex"}
    dtype : numpy dtype
    n_in : int
        ``N_0``, the input width (columns of ``W_1``).
    depth : int or None
        ``L``, or None when it is known only at the end (a generator).
    widths : tuple of int or None
        ``(N_0, ..., N_L)`` when known in advance.
    owned : bool
        Whether the engine may overwrite the blocks (freshly drawn ones), or must copy them
        first (the user's arrays are never modified).
    """

    def __init__(self, blocks: Callable[[], Iterator[np.ndarray]], *, replicas: int, field: str, n_in: int,
                 depth: int | None, widths: Sequence[int] | None, owned: bool, validate: bool, once: bool = False):
        self.replicas, self.field, self.n_in, self.depth = replicas, field, n_in, depth
        self.widths = tuple(widths) if widths is not None else None
        self.owned = owned
        self.dtype = np.dtype(np.complex128 if field == "complex" else np.float64)
        self._blocks, self._validate, self._once, self._used = blocks, validate, once, False

    @property
    def square(self) -> bool:
        """Whether every factor is known in advance to be ``n_in x n_in``."""
        return self.widths is not None and all(w == self.n_in for w in self.widths)

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._once and self._used:
            raise ArgumentValueError("this source of factors (a generator) was already consumed; "
                                     "pass a list to reuse it")
        self._used = True
        n_prev = self.n_in
        count = 0
        for block in self._blocks():
            if self._validate:
                block = self._check(block, count, n_prev)
            n_prev = block.shape[-2]
            count += 1
            yield block
        if count == 0:
            raise ArgumentValueError("factors must hold at least one matrix, got none")
        if self.depth is None:
            self.depth = count

    def _check(self, block, index: int, n_prev: int) -> np.ndarray:
        b = np.asarray(block)
        if b.ndim != 3 or b.shape[0] != self.replicas:
            raise ArgumentValueError(f"factor {index + 1} must have shape ({self.replicas}, N_out, N_in) "
                                     f"(one matrix per replica), got {b.shape}")
        if b.shape[-1] != n_prev:
            raise ArgumentValueError(f"factor {index + 1} has shape {b.shape[-2:]} but the product so far has "
                                     f"{n_prev} rows: factor l must be N_l x N_(l-1) (shapes must chain)")
        if b.shape[-2] < 1:
            raise ArgumentValueError(f"factor {index + 1} has no rows, got shape {b.shape[-2:]}")
        if not (np.issubdtype(b.dtype, np.number) and not np.issubdtype(b.dtype, np.timedelta64)):
            raise ArgumentTypeError(f"factor {index + 1} must hold numbers, got dtype {b.dtype}")
        if np.iscomplexobj(b) and self.field == "real":
            raise ArgumentValueError(f"factor {index + 1} is complex but the product is real (field='real', or the "
                                     "first factor was real): pass complex factors throughout")
        if not np.all(np.isfinite(b)):
            raise ArgumentValueError(f"factor {index + 1} must contain only finite numbers (found NaN or inf)")
        return b.astype(self.dtype, copy=False)


def _widths(n, depth: int) -> tuple[int, ...]:
    if is_int(n):
        return (check_positive_int("n", n),) * (depth + 1)
    if isinstance(n, (str, bytes)) or not isinstance(n, Iterable):
        raise ArgumentTypeError(f"n must be a positive integer or a sequence of widths (N_0, ..., N_L), got {n!r}")
    widths = tuple(n)
    if len(widths) != depth + 1:
        raise ArgumentValueError(f"widths (N_0, ..., N_L) must have depth + 1 = {depth + 1} entries, got {len(widths)}")
    return tuple(check_positive_int(f"n[{i}]", w) for i, w in enumerate(widths))


#: Charge per layer against :data:`degeneracy.validation.MAX_WORK`: it caps one call near 10**8
#: layers (the loop's own cost, about 20 us a layer, is what a deep call spends; beyond 10**8 layers
#: the finite-depth exponents equal the limit ones to 1e-4: use ``theory.lyapunov_exponents``).
LAYER_OVERHEAD_FLOPS = 9e7


def _check_size(widths: tuple[int, ...], depth: int, replicas: int, field: str) -> None:
    """Refuse, before drawing anything, a product too large for memory or for an hour's work.

    Memory: one layer of ``replicas`` factors and as much again for the frames.
    Work: ``depth`` layers of about ``4 N^3`` flops per replica at the largest width N (the QR
    step of a full frame, docs/performance.md), plus the loop's overhead per layer.
    """
    big = max(widths)
    item = 16 if field == "complex" else 8
    what = f"n = {big if len(set(widths)) == 1 else widths}, depth = {depth}, replicas = {replicas}"
    check_memory(what, 2.0 * replicas * big * big * item)
    check_work(what, depth * (LAYER_OVERHEAD_FLOPS + 4.0 * replicas * float(big) ** 3))


def sampled_source(n, depth: int, *, replicas: int = 1, field: str = "real", ensemble: str = "gaussian",
                   sampler: Sampler | None = None, rng: RNGLike = None) -> FactorSource:
    """Factors drawn layer by layer: ``replicas`` products of ``depth`` random factors.

    Parameters
    ----------
    n : int or sequence of int
        ``n``: square ``n x n`` factors. A sequence ``(N_0, ..., N_L)`` of ``depth + 1`` widths:
        rectangular Gaussian factors ``W_l`` of shape ``N_l x N_{l-1}`` with i.i.d. entries of
        variance ``1/N_{l-1}`` (the fan-in; :func:`numerics.ensembles.gaussian`).
    depth, replicas : int
    field : {"real", "complex"}
    ensemble : {"gaussian", "orthogonal", "fold"}
        Square factors only; ``"fold"`` needs a sampler from :func:`ensemble_sampler` (it needs k).
    sampler : callable, optional
        ``sampler(rng, replicas) -> (replicas, n, n)`` (square ``n`` only); overrides
        ``ensemble``. Its output is checked (shape, finiteness, field) every layer.
    rng : Generator, int, SeedSequence or None
        Layer l draws its ``replicas`` matrices in one call, so the stream does not depend on
        the engine's method.

    >>> src = sampled_source((3, 5, 2), 2, replicas=4, rng=0)
    >>> [b.shape for b in src]
    [(4, 5, 3), (4, 2, 5)]
    """
    depth = check_positive_int("depth", depth)
    replicas = check_positive_int("replicas", replicas)
    check_choice("field", field, FIELDS)
    check_choice("ensemble", ensemble, ENSEMBLES)
    if is_int(n):  # before _widths builds its depth + 1 entries
        _check_size((check_positive_int("n", n),), depth, replicas, field)
    widths = _widths(n, depth)
    if not is_int(n):
        _check_size(widths, depth, replicas, field)
    g = as_generator(rng)
    square = all(w == widths[0] for w in widths)
    if not is_int(n) and not square:
        if sampler is not None or ensemble != "gaussian":
            raise ArgumentValueError("rectangular widths are sampled from ensemble='gaussian' only; pass your own "
                                     "factors (a list or a generator of N_l x N_(l-1) matrices) to the engine instead")

        def rect():
            for l in range(depth):
                yield gaussian(widths[l], m=widths[l + 1], size=replicas, field=field, rng=g)

        return FactorSource(rect, replicas=replicas, field=field, n_in=widths[0], depth=depth, widths=widths,
                            owned=True, validate=False)
    size = widths[0]
    trusted = sampler is None
    if sampler is None:
        if ensemble == "fold":
            raise ArgumentValueError("ensemble='fold' needs k: pass sampler=ensemble_sampler(n, 'fold', k=...)")
        sampler = ensemble_sampler(size, ensemble, field=field)
    elif not callable(sampler):
        raise ArgumentTypeError(f"sampler must be callable (rng, replicas) -> array, got {type(sampler).__name__}")

    def draw():
        for _ in range(depth):
            b = sampler(g, replicas)
            if not trusted:
                b = np.asarray(b)
                if b.shape != (replicas, size, size):
                    raise ArgumentValueError(f"sampler must return shape {(replicas, size, size)}, got {b.shape}")
            yield b

    return FactorSource(draw, replicas=replicas, field=field, n_in=size, depth=depth, widths=widths, owned=True,
                        validate=not trusted)


def _as_factor(x, index: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object:
        raise ArgumentTypeError(f"factor {index + 1} must be an array of numbers, got an object array")
    if arr.ndim not in (2, 3):
        raise ArgumentValueError(f"factor {index + 1} must be a matrix (N_out, N_in) or a replica stack "
                                 f"(R, N_out, N_in), got shape {arr.shape}")
    return arr


def factor_source(factors) -> tuple[FactorSource, bool]:
    """A :class:`FactorSource` for explicit factors; also returns whether they had a replica axis.

    Accepted forms (``factors[l]`` is ``W_{l+1}``, applied ``l+1``-th):

    * an array ``(L, n, n)`` (one product) or ``(L, R, n, n)`` (``R`` replicas); a non-square
      stack ``(L, a, b)`` chains only when ``L = 1``;
    * a list or tuple of matrices ``(N_l, N_{l-1})``, or of replica stacks ``(R, N_l, N_{l-1})``,
      whose shapes chain (rectangular products, e.g. the layers of a network);
    * any other iterable, e.g. a generator, yielding such matrices one at a time: it is
      consumed lazily (memory of one factor at a time) and only once.

    The factors are never modified.

    >>> src, batched = factor_source([np.ones((3, 2)), np.ones((4, 3))])
    >>> [b.shape for b in src], batched, src.depth
    ([(1, 3, 2), (1, 4, 3)], False, 2)
    """
    if isinstance(factors, np.ndarray) or (isinstance(factors, (list, tuple)) and factors and _uniform(factors)):
        arr = np.asarray(factors)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise ArgumentTypeError("factors must be an array of numbers, (L, n, n) or (L, R, n, n)")
        if arr.ndim not in (3, 4):
            raise ArgumentValueError(f"factors must have shape (L, n, n) or (L, R, n, n), got {arr.shape}")
        batched = arr.ndim == 4
        if not batched:
            arr = arr[:, None]
        L, R, a, b = arr.shape
        if L < 1 or R < 1 or a < 1 or b < 1:
            raise ArgumentValueError(f"factors must hold at least one non-empty matrix, got shape {np.shape(factors)}")
        if a != b and L > 1:
            raise ArgumentValueError(f"a stack of {L} factors of shape ({a}, {b}) does not chain: factor l must be "
                                     "N_l x N_(l-1); pass a list of factors for varying widths")
        complex_ = np.iscomplexobj(arr)
        arr = check_finite_array("factors", arr, dtype=np.complex128 if complex_ else np.float64)
        return FactorSource(lambda: (arr[l] for l in range(L)), replicas=R, field="complex" if complex_ else "real",
                            n_in=b, depth=L, widths=(b,) + (a,) * L, owned=False, validate=False), batched
    if isinstance(factors, (str, bytes, dict)) or not isinstance(factors, Iterable):
        raise ArgumentTypeError("factors must be an array (L, n, n) / (L, R, n, n), or a list, tuple or generator "
                                f"of matrices, got {type(factors).__name__}")
    it = iter(factors)
    try:
        first = _as_factor(next(it), 0)
    except StopIteration:
        raise ArgumentValueError("factors must hold at least one matrix, got none") from None
    batched = first.ndim == 3
    R = first.shape[0] if batched else 1
    known = isinstance(factors, (list, tuple))
    complex_ = any(np.iscomplexobj(f) for f in factors) if known else np.iscomplexobj(first)
    field = "complex" if complex_ else "real"

    def blocks():
        yield first if batched else first[None]
        for i, x in enumerate(it, start=1):
            arr = _as_factor(x, i)
            if (arr.ndim == 3) != batched:
                raise ArgumentValueError(f"factor {i + 1} has shape {arr.shape} but factor 1 had shape {first.shape}: "
                                         "give every factor a replica axis, or none")
            yield arr if batched else arr[None]

    widths = None
    if known:
        shapes = [np.shape(f) for f in factors]
        if all(len(s) in (2, 3) for s in shapes):
            widths = (shapes[0][-1],) + tuple(s[-2] for s in shapes)
    return FactorSource(blocks, replicas=R, field=field, n_in=first.shape[-1], depth=len(factors) if known else None,
                        widths=widths, owned=False, validate=True, once=not known), batched


def _uniform(seq) -> bool:
    """Whether a list/tuple is a stack of equally shaped square matrices (then it is read as an array)."""
    shapes = {np.shape(x) for x in seq}
    if len(shapes) != 1:
        return False
    shape = shapes.pop()
    return len(shape) in (2, 3) and shape[-1] == shape[-2]
