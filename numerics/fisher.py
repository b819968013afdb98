"""Exact empirical Fisher / Gauss-Newton matrices of small networks from per-example Jacobians.

Models are those of :mod:`theory.symbolic_networks` (any number of hidden layers, identity skips on
any of them, optional biases, ``m`` outputs), with parameters as a dict of arrays::

    h_l = phi(W_l h_{l-1} + b_l) [+ h_{l-1}]  (l = 1..L, h_0 = x),   f = V h_L [+ c]

keys ``"W1"`` ``(H1, n)``, ``"b1"`` ``(H1,)``, ``"W2"`` ``(H2, H1)``, ``"b2"``, ..., ``"V"`` ``(m, H_L)``,
``"c"`` ``(m,)``; biases present or absent together. The flat parameter order is that of
:attr:`theory.symbolic_networks.Model.names` (``W1`` row-major, ``b1``, ``W2``, ``b2``, ..., ``V``,
``c``). ``skip`` is one flag for every hidden layer or one per layer; ``activation`` a name of
:mod:`theory.activations` or a pair of vectorized callables ``(phi, phi')``.

The empirical Fisher information of the Gaussian output model ``y ~ N(f(x), I)`` at a point equals
the Gauss-Newton matrix of the squared loss, ``G = (1/B) sum_b J_b^T J_b`` with ``J_b = d f(x_b) /
d theta`` (``m x P``). :func:`per_example_jacobian` computes all ``J_b`` at once by a hand-written
backward pass vectorized over examples and outputs (no loop over samples).

Near-zero eigenvalues. ``G`` is never formed for counting: the singular values ``s_k`` of the stacked
``J / sqrt(B)`` (``Bm x P``) give ``eig G = s_k^2``. A backward-stable SVD returns the singular values
of ``J + E`` with ``||E||_2 <= c max(Bm, P) eps ||J||_2`` (Golub & Van Loan, Thm 8.6.2 / sec. 5.4),
and the Jacobian entries themselves carry a relative rounding error of a few ``eps``; so an exactly
zero singular value is computed below ``cut = max(Bm, P) * eps * s_max`` (the rank cut of
``numpy.linalg.matrix_rank``), while a true one above it is resolved. :func:`near_zero_count`
returns the count below the cut and the *gap*: the smallest singular value above the cut divided
by the cut (a certified separation when it is large).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> p = {"W1": rng.standard_normal((2, 2)), "V": rng.standard_normal((1, 2))}
>>> p["W1"][1] = p["W1"][0]                     # an overlap: n + 1 = 3 null directions
>>> X = rng.standard_normal((50, 2))
>>> near_zero_count(fisher_singular_values(p, X))[0]
3
"""

from __future__ import annotations

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.theory.activations import ACTIVATIONS
from degeneracy.theory.activations import activation as _activation
from degeneracy.validation import check_choice, check_finite_array

__all__ = [
    "check_params",
    "param_names",
    "flatten",
    "unflatten",
    "forward",
    "per_example_jacobian",
    "gauss_newton",
    "fisher_singular_values",
    "fisher_spectrum",
    "rounding_cut",
    "near_zero_count",
]

_EPS = float(np.finfo(float).eps)


def _skip_flags(skip, L: int) -> tuple:
    if isinstance(skip, (bool, np.bool_)):
        return (bool(skip),) * L
    flags = tuple(bool(x) for x in skip)
    if len(flags) != L:
        raise ArgumentValueError(f"skip must be a bool or one flag per hidden layer ({L}), got {skip!r}")
    return flags


def _act(activation):
    if isinstance(activation, tuple):
        if len(activation) != 2 or not all(callable(f) for f in activation):
            raise ArgumentTypeError("activation must be a name or a pair of callables (phi, phi')")
        return activation
    check_choice("activation", activation, ACTIVATIONS)
    return _activation(activation)


def check_params(params: dict, *, skip=False) -> tuple:
    """Validate a parameter dict; return ``(n, widths, m, bias)``.

    >>> check_params({"W1": np.zeros((2, 3)), "V": np.zeros((1, 3))})
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: V must have shape (m, 2) (one column per unit of the last hidden layer), got (1, 3)
    """
    if not isinstance(params, dict):
        raise ArgumentTypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    if "W1" not in params or "V" not in params:
        raise ArgumentValueError("params must contain at least 'W1' and 'V'")
    L = 1
    while f"W{L + 1}" in params:
        L += 1
    allowed = {f"W{l}" for l in range(1, L + 1)} | {f"b{l}" for l in range(1, L + 1)} | {"V", "c"}
    for k in params:
        if k not in allowed:
            raise ArgumentValueError(f"unknown parameter {k!r}; expected keys W1..W{L}, [b1..b{L}], V, [c]")
    W1 = check_finite_array("W1", params["W1"], ndim=2)
    n = W1.shape[1]
    widths = [W1.shape[0]]
    for l in range(2, L + 1):
        W = check_finite_array(f"W{l}", params[f"W{l}"], ndim=2)
        if W.shape[1] != widths[-1]:
            raise ArgumentValueError(f"W{l} must have shape (H{l}, {widths[-1]}), got {W.shape}")
        widths.append(W.shape[0])
    V = check_finite_array("V", params["V"], ndim=2)
    if V.shape[1] != widths[-1]:
        raise ArgumentValueError(
            f"V must have shape (m, {widths[-1]}) (one column per unit of the last hidden layer), got {V.shape}")
    m = V.shape[0]
    bias_keys = [f"b{l}" for l in range(1, L + 1)] + ["c"]
    present = [k in params for k in bias_keys]
    if any(present) and not all(present):
        raise ArgumentValueError(f"biases must be all present or all absent: expected {bias_keys}")
    bias = all(present)
    if bias:
        for l, d in enumerate(widths, start=1):
            b = check_finite_array(f"b{l}", params[f"b{l}"], ndim=1)
            if b.shape != (d,):
                raise ArgumentValueError(f"b{l} must have shape ({d},), got {b.shape}")
        c = check_finite_array("c", params["c"], ndim=1)
        if c.shape != (m,):
            raise ArgumentValueError(f"c must have shape ({m},), got {c.shape}")
    dims = [n] + widths
    for l, s in enumerate(_skip_flags(skip, L), start=1):
        if s and dims[l] != dims[l - 1]:
            raise ArgumentValueError(f"identity skips need a skipped layer as wide as its input: layer {l} has "
                                     f"width {dims[l]}, its input {dims[l - 1]} (n={n}, widths {tuple(widths)})")
    return n, tuple(widths), m, bias


def param_names(params: dict) -> list:
    """Flat parameter names, in :class:`theory.symbolic_networks.Model` order."""
    n, widths, m, bias = check_params(params)
    dims = (n,) + widths
    names = []
    for l in range(1, len(dims)):
        names += [f"W{l}[{i},{k}]" for i in range(dims[l]) for k in range(dims[l - 1])]
        if bias:
            names += [f"b{l}[{i}]" for i in range(dims[l])]
    names += [f"V[{o},{i}]" for o in range(m) for i in range(dims[-1])]
    if bias:
        names += [f"c[{o}]" for o in range(m)]
    return names


def _keys(params):
    n, widths, m, bias = check_params(params)
    keys = []
    for l in range(1, len(widths) + 1):
        keys.append(f"W{l}")
        if bias:
            keys.append(f"b{l}")
    keys.append("V")
    if bias:
        keys.append("c")
    return keys


def flatten(params: dict) -> np.ndarray:
    """The flat parameter vector (model order)."""
    return np.concatenate([np.asarray(params[k], dtype=float).ravel() for k in _keys(params)])


def unflatten(theta, like: dict) -> dict:
    """Inverse of :func:`flatten` with the shapes of ``like``."""
    theta = check_finite_array("theta", theta, ndim=1)
    keys = _keys(like)
    total = sum(int(np.prod(np.shape(like[k]))) for k in keys)
    if theta.size != total:
        raise ArgumentValueError(f"theta must have {total} entries, got {theta.size}")
    out, pos = {}, 0
    for k in keys:
        shape = np.shape(like[k])
        size = int(np.prod(shape))
        out[k] = theta[pos: pos + size].reshape(shape)
        pos += size
    return out


def forward(params: dict, X, *, skip=False, activation="tanh"):
    """Outputs ``(B, m)`` and the cache ``(hs, zs)`` (``hs[0] = X``)."""
    n, widths, m, bias = check_params(params, skip=skip)
    X = check_finite_array("X", X, ndim=2)
    if X.shape[1] != n:
        raise ArgumentValueError(f"X must have shape (B, {n}), got {X.shape}")
    act, _ = _act(activation)
    flags = _skip_flags(skip, len(widths))
    hs, zs = [X], []
    for l in range(1, len(widths) + 1):
        z = hs[-1] @ np.asarray(params[f"W{l}"], float).T
        if bias:
            z = z + np.asarray(params[f"b{l}"], float)
        zs.append(z)
        h = act(z)
        if flags[l - 1]:
            h = h + hs[-1]
        hs.append(h)
    f = hs[-1] @ np.asarray(params["V"], float).T
    if bias:
        f = f + np.asarray(params["c"], float)
    return f, (hs, zs)


def per_example_jacobian(params: dict, X, *, skip=False, activation="tanh") -> np.ndarray:
    """All per-example Jacobians ``J_b = d f(x_b) / d theta``, shape ``(B, m, P)``.

    Backward pass vectorized over examples ``b`` and outputs ``o``: ``g_L = V[o]``,
    ``dz_l = g_l * phi'(z_l)``, ``dW_l = dz_l h_{l-1}^T``, ``g_{l-1} = W_l^T dz_l (+ g_l with skip)``.
    """
    n, widths, m, bias = check_params(params, skip=skip)
    f, (hs, zs) = forward(params, X, skip=skip, activation=activation)
    _, dact = _act(activation)
    flags = _skip_flags(skip, len(widths))
    B = hs[0].shape[0]
    L = len(widths)
    V = np.asarray(params["V"], float)
    g = np.broadcast_to(V[None, :, :], (B, m, widths[-1]))  # (B, m, H_L)
    blocks = [None] * L
    for l in range(L - 1, -1, -1):
        dz = g * dact(zs[l])[:, None, :]  # (B, m, H_l)
        dW = dz[:, :, :, None] * hs[l][:, None, None, :]  # (B, m, H_l, H_{l-1})
        blk = [dW.reshape(B, m, -1)]
        if bias:
            blk.append(dz)
        blocks[l] = blk
        gp = dz @ np.asarray(params[f"W{l + 1}"], float)
        if flags[l]:
            gp = gp + g
        g = gp
    cols = [b for blk in blocks for b in blk]
    dV = np.zeros((B, m, m, widths[-1]))
    idx = np.arange(m)
    dV[:, idx, idx, :] = hs[-1][:, None, :]
    cols.append(dV.reshape(B, m, -1))
    if bias:
        cols.append(np.broadcast_to(np.eye(m), (B, m, m)))
    return np.concatenate(cols, axis=-1)


def gauss_newton(params: dict, X, *, skip=False, activation="tanh") -> np.ndarray:
    """The empirical Fisher / Gauss-Newton matrix ``G = (1/B) sum_b J_b^T J_b``, shape ``(P, P)``."""
    J = per_example_jacobian(params, X, skip=skip, activation=activation)
    B = J.shape[0]
    Jf = J.reshape(-1, J.shape[-1])
    return Jf.T @ Jf / B


def fisher_singular_values(params: dict, X, *, skip=False, activation="tanh") -> np.ndarray:
    """Singular values of ``J / sqrt(B)`` (descending, length ``P``; zero-padded if ``Bm < P``).

    ``eig G = s^2``. The stacked shape ``(Bm, P)`` is stored in the returned array's
    ``shape`` only through its length; use :func:`rounding_cut` with ``rows = B m``.
    """
    J = per_example_jacobian(params, X, skip=skip, activation=activation)
    B, m, P = J.shape
    s = np.linalg.svd(J.reshape(B * m, P) / np.sqrt(B), compute_uv=False)
    if s.size < P:
        s = np.concatenate([s, np.zeros(P - s.size)])
    return _SV(s, rows=B * m)


class _SV(np.ndarray):
    """Singular values that remember the number of rows of the matrix (for the rounding cut)."""

    def __new__(cls, s, rows):
        obj = np.asarray(s, dtype=float).view(cls)
        obj.rows = int(rows)
        return obj

    def __array_finalize__(self, obj):
        self.rows = getattr(obj, "rows", None)


def fisher_spectrum(params: dict, X, *, skip=False, activation="tanh") -> np.ndarray:
    """Eigenvalues of ``G`` (descending), as squared singular values of ``J / sqrt(B)``."""
    return np.asarray(fisher_singular_values(params, X, skip=skip, activation=activation)) ** 2


def rounding_cut(s, rows: int | None = None) -> float:
    """``max(rows, P) * eps * s_max``: singular values below it are zero to rounding (module notes)."""
    s = check_finite_array("s", s, ndim=1)
    if rows is None:
        rows = getattr(s, "rows", None) or s.size
    return max(int(rows), s.size) * _EPS * float(np.max(s)) if s.size else 0.0


def near_zero_count(s, rows: int | None = None) -> tuple[int, float, float]:
    """``(count, cut, gap)``: singular values ``<= cut`` and ``gap = min(s > cut) / cut`` (inf if none).

    >>> count, cut, gap = near_zero_count(np.array([2.0, 1.0, 1e-17]), rows=3)
    >>> count, bool(gap > 1e14)
    (1, True)
    """
    rows = rows if rows is not None else getattr(s, "rows", None)
    s = check_finite_array("s", np.asarray(s), ndim=1)
    cut = rounding_cut(s, rows)
    small = s <= cut
    above = s[~small]
    gap = float(np.min(above) / cut) if above.size and cut > 0 else float("inf")
    return int(np.sum(small)), cut, gap
