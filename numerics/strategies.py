"""Hypothesis strategies for property-based tests of spectral code.

Public and importable from your own tests. Random matrices are never built from hypothesis'
own floats (which shrink towards pathological values): a strategy draws a *seed* and builds
the matrices with :func:`numerics.rng.as_generator`, so examples are reproducible, shrink by
seed, size and depth, and follow the toolkit's ensembles exactly.

Every size-like parameter accepts an int (fixed) or a strategy.

Examples
--------
>>> from hypothesis import given, settings
>>> import numpy as np
>>> from degeneracy.numerics import strategies as dst
>>> @settings(max_examples=5, derandomize=True)
... @given(dst.orthogonal_matrices(n=dst.sizes(max_size=6)))
... def test_orthogonal(Q):
...     assert np.allclose(Q.T @ Q, np.eye(Q.shape[-1]))
>>> test_orthogonal()
"""

from __future__ import annotations

import math
from typing import Union

import numpy as np
from hypothesis import Phase, find, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from degeneracy.errors import ArgumentValueError
from degeneracy.numerics.ensembles import FIELDS, fold, gaussian, haar
from degeneracy.numerics.rng import as_generator

__all__ = [
    "example",
    "sizes",
    "depths",
    "seeds",
    "generators",
    "fields",
    "dtypes",
    "fold_counts",
    "gaussian_matrices",
    "orthogonal_matrices",
    "fold_matrices",
    "factor_stacks",
    "well_conditioned_products",
]

IntOrStrategy = Union[int, SearchStrategy]


def _strategy(value, default: SearchStrategy) -> SearchStrategy:
    if value is None:
        return default
    if isinstance(value, SearchStrategy):
        return value
    return st.just(value)


def example(strategy: SearchStrategy):
    """A deterministic example of ``strategy`` (the first one a derandomized run generates).

    For documentation and interactive use; tests should use ``@given``.

    >>> example(sizes())
    1
    """
    return find(
        strategy,
        lambda _: True,
        settings=settings(derandomize=True, database=None, max_examples=1, phases=[Phase.generate]),
    )


def sizes(*, min_size: int = 1, max_size: int = 12) -> SearchStrategy[int]:
    """Matrix sizes ``n`` in ``[min_size, max_size]`` (shrinks towards ``min_size``).

    >>> example(sizes(max_size=4)) in range(1, 5)
    True
    """
    return st.integers(min_value=min_size, max_value=max_size)


def depths(*, min_depth: int = 1, max_depth: int = 20) -> SearchStrategy[int]:
    """Product depths ``L`` in ``[min_depth, max_depth]``."""
    return st.integers(min_value=min_depth, max_value=max_depth)


def seeds() -> SearchStrategy[int]:
    """Non-negative 32-bit integer seeds, for :func:`numerics.rng.as_generator`."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def generators() -> SearchStrategy[np.random.Generator]:
    """Fresh SFC64 generators built from a drawn seed.

    >>> isinstance(example(generators()), np.random.Generator)
    True
    """
    return seeds().map(as_generator)


def fields() -> SearchStrategy[str]:
    """``"real"`` or ``"complex"``."""
    return st.sampled_from(FIELDS)


def dtypes(field: str | None = None) -> SearchStrategy[np.dtype]:
    """float64 / complex128 (only the one matching ``field`` if given).

    >>> example(dtypes("complex"))
    dtype('complex128')
    """
    table = {"real": np.dtype(np.float64), "complex": np.dtype(np.complex128)}
    if field is None:
        return st.sampled_from(list(table.values()))
    return st.just(table[field])


def fold_counts(*, max_k: int = 3) -> SearchStrategy[int]:
    """Numbers of folds ``k`` in ``[0, max_k]``."""
    return st.integers(min_value=0, max_value=max_k)


def _batch(batch) -> SearchStrategy:
    if batch is None:
        return st.just(None)
    return _strategy(batch, st.just(None))


@st.composite
def gaussian_matrices(draw, n: IntOrStrategy | None = None, *, field=None, batch=None) -> np.ndarray:
    """Gaussian matrices (entries of variance 1/n), shape ``(n, n)`` or ``batch + (n, n)``.

    ``field`` is "real", "complex", None (either) or a strategy; ``batch`` an int, tuple or
    strategy of them (None: no batch axis).

    >>> W = example(gaussian_matrices(n=3, batch=2))
    >>> W.shape
    (2, 3, 3)
    """
    n_ = draw(_strategy(n, sizes()))
    f = draw(_strategy(field, fields()))
    b = draw(_batch(batch))
    return gaussian(n_, size=b, field=f, rng=draw(seeds()))


@st.composite
def orthogonal_matrices(draw, n: IntOrStrategy | None = None, *, field="real", batch=None) -> np.ndarray:
    """Haar orthogonal (``field="real"``) or unitary (``"complex"``) matrices.

    >>> Q = example(orthogonal_matrices(n=4))
    >>> bool(np.allclose(Q.T @ Q, np.eye(4)))
    True
    """
    n_ = draw(_strategy(n, sizes()))
    f = draw(_strategy(field, fields()))
    b = draw(_batch(batch))
    return haar(n_, size=b, field=f, rng=draw(seeds()))


@st.composite
def fold_matrices(draw, k: IntOrStrategy | None = None, *, max_half_size: int = 4, field="real", batch=None):
    """Pairs ``(k, W)`` with ``W`` a Fold-k Gaussian matrix of size ``n = 2^k * m``,
    ``m in [1, max_half_size]`` (rank ``m`` generically).

    >>> k, W = example(fold_matrices(k=2))
    >>> k, W.shape[-1] % 4
    (2, 0)
    """
    k_ = draw(_strategy(k, fold_counts()))
    m = draw(st.integers(min_value=1, max_value=max_half_size))
    f = draw(_strategy(field, fields()))
    b = draw(_batch(batch))
    n_ = m << k_
    return k_, fold(gaussian(n_, size=b, field=f, rng=draw(seeds())), k_)


@st.composite
def factor_stacks(
    draw,
    n: IntOrStrategy | None = None,
    depth: IntOrStrategy | None = None,
    *,
    field="real",
    replicas=None,
    ensemble: str = "gaussian",
) -> np.ndarray:
    """Factor stacks for products: ``(L, n, n)`` or ``(L, R, n, n)`` when ``replicas`` is given.

    ``ensemble`` is "gaussian" or "orthogonal". ``factors[l]`` is ``W_{l+1}`` as everywhere in
    :mod:`numerics.qr_engine`.

    >>> example(factor_stacks(n=3, depth=5, replicas=2)).shape
    (5, 2, 3, 3)
    """
    n_ = draw(_strategy(n, sizes(max_size=8)))
    L = draw(_strategy(depth, depths()))
    f = draw(_strategy(field, fields()))
    R = draw(_strategy(replicas, st.just(None))) if replicas is not None else None
    size = (L,) if R is None else (L, R)
    g = as_generator(draw(seeds()))
    if ensemble == "gaussian":
        return gaussian(n_, size=size, field=f, rng=g)
    if ensemble == "orthogonal":
        return haar(n_, size=size, field=f, rng=g)
    raise ArgumentValueError(f"ensemble must be one of 'gaussian', 'orthogonal', got {ensemble!r}")


@st.composite
def well_conditioned_products(
    draw,
    n: IntOrStrategy | None = None,
    depth: IntOrStrategy | None = None,
    *,
    field="real",
    max_log_condition: float = 8.0,
    replicas=None,
) -> np.ndarray:
    """Factor stacks whose product has ``log cond(P) <= max_log_condition``.

    Each factor is ``U diag(s) V^H`` with Haar U, V and ``log s`` uniform in ``[-c, c]``,
    ``c = max_log_condition / (2 L)``; since ``cond(AB) <= cond(A) cond(B)``, the product's
    log condition number is at most ``L * 2c``. Naive multiplication + svd is then accurate to
    about ``L sqrt(n) eps e^{max_log_condition}`` relative, which makes these the inputs on
    which the QR engine must agree with an SVD of the explicit product.

    >>> W = example(well_conditioned_products(n=4, depth=6))
    >>> s = np.linalg.svd(np.linalg.multi_dot(list(W[::-1])), compute_uv=False)
    >>> bool(np.log(s[0] / s[-1]) <= 8.0 + 1e-9)
    True
    """
    n_ = draw(_strategy(n, sizes(max_size=8)))
    L = draw(_strategy(depth, depths()))
    f = draw(_strategy(field, fields()))
    R = draw(_strategy(replicas, st.just(None))) if replicas is not None else None
    size = (L,) if R is None else (L, R)
    g = as_generator(draw(seeds()))
    c = float(max_log_condition) / (2.0 * L)
    U = haar(n_, size=size, field=f, rng=g)
    V = haar(n_, size=size, field=f, rng=g)
    s = np.exp(g.uniform(-c, c, size=size + (n_,)))
    Vh = np.conj(np.swapaxes(V, -1, -2))
    out = (U * s[..., None, :]) @ Vh
    assert math.isfinite(float(np.abs(out).max()))
    return out
