"""Measures of degeneracy: singular values, Gauss-Newton (Fisher) spectra, effective dimension.

* :func:`layer_singular_values` - singular values of each layer's weight matrix (stacked SVD).
* Log singular values of an end-to-end product ``W_L ... W_1`` live in
  :func:`numerics.products.product_log_singular_values` (graded QR, accurate at any depth; pass
  ``np.stack(net.weights)``, shape ``(L, R, N, N)`` with ``factors[l] = W_{l+1}``). Never form the
  product and call ``svd``: that loses every singular value more than ``~ exp(36)`` below the
  largest (REFERENCE.md section 1).
* :func:`gauss_newton_gram` / :func:`gauss_newton_spectrum` - the nonzero spectrum of the
  Gauss-Newton matrix ``G = (1/B) sum_b J_b^T J_b`` of the squared loss at a point (the Fisher
  information of a Gaussian output model), through the ``(d_L B) x (d_L B)`` Gram matrix
  ``(1/B) J J^T`` that shares its nonzero eigenvalues (the empirical neural tangent kernel).
* :func:`effective_rank` (Roy & Vetterli 2007: ``exp`` of the entropy of ``p_i = sigma_i / sum sigma``),
  :func:`participation_ratio` (``(sum lambda)^2 / sum lambda^2``) and :func:`near_null_fraction`
  (fraction of eigenvalues below ``rtol * max``).

Examples
--------
>>> import numpy as np
>>> effective_rank(np.array([1.0, 1.0, 0.0, 0.0])).round(6).tolist()
2.0
>>> participation_ratio(np.array([[1.0, 1.0, 1.0, 1.0]])).tolist()
[4.0]
>>> near_null_fraction(np.array([1.0, 1e-9, 0.5, 0.0]), rtol=1e-6).tolist()
0.5
"""

from __future__ import annotations

import numpy as np

from theory._validate import check_finite_array, check_real

from .networks import NetworkStack

__all__ = [
    "layer_singular_values",
    "gauss_newton_gram",
    "gauss_newton_spectrum",
    "effective_rank",
    "participation_ratio",
    "near_null_fraction",
]


def layer_singular_values(net_or_weights) -> list[np.ndarray]:
    """Singular values (descending) of every layer: a list of arrays ``(R, min(d_l, d_{l-1}))``.

    >>> import numpy as np
    >>> [s.tolist() for s in layer_singular_values([np.diag([3.0, 1.0])[None]])]
    [[[3.0, 1.0]]]
    """
    ws = net_or_weights.weights if isinstance(net_or_weights, NetworkStack) else list(net_or_weights)
    return [np.linalg.svd(np.asarray(w, dtype=float), compute_uv=False) for w in ws]


def gauss_newton_gram(net: NetworkStack, x: np.ndarray) -> np.ndarray:
    """``(1/B) J J^T`` at the current parameters for inputs ``x`` (shape ``(d_0, B)``): ``(R, d_L B, d_L B)``.

    ``J`` is the Jacobian of the outputs (all ``d_L`` units at all ``B`` inputs) with respect to all
    parameters. Its nonzero eigenvalues are those of the Gauss-Newton matrix
    ``G = (1/B) J^T J`` of the loss ``(1/2B) sum_b ||f(x_b) - y_b||^2`` (the Fisher information of
    the Gaussian model ``y ~ N(f(x), I)``); the other ``P - d_L B`` eigenvalues of ``G`` are 0.

    Computed per layer as ``sum_l (D_l^T D_l) o (X_{l-1}^T X_{l-1} + [bias])`` where ``D_l`` stacks
    the backpropagated ``dloss/dh_l`` for each one-hot output (output index folded into the batch
    axis) and ``o`` is the Hadamard product: one batched backward pass, no loop over samples.
    """
    if not isinstance(net, NetworkStack):
        raise TypeError(f"net must be a NetworkStack, got {type(net).__name__}")
    x = check_finite_array("x", x, ndim=2)
    dL = net.widths[-1]
    B = x.shape[1]
    xt = np.tile(x, (1, dL))  # column (i, b) -> index i * B + b
    cache = net.forward(xt)
    E = np.repeat(np.eye(dL), B, axis=1)  # one-hot output i for columns of block i
    G = np.broadcast_to(E, cache.output.shape).copy()
    grads = net.backward(cache, G)
    K = 0.0
    for l in range(net.depth):
        D = grads.delta_pre[l]  # (R, d_l, dL*B)
        Xin = cache.post[l]
        if Xin.ndim == 2:
            Xin = np.broadcast_to(Xin, (net.replicas,) + Xin.shape)
        XX = np.swapaxes(Xin, -1, -2) @ Xin
        if net.biases is not None:
            XX = XX + 1.0
        K = K + (np.swapaxes(D, -1, -2) @ D) * XX
    return K / B


def gauss_newton_spectrum(net: NetworkStack, x: np.ndarray) -> np.ndarray:
    """Nonzero-part spectrum (descending) of the Gauss-Newton matrix at inputs ``x``: ``(R, d_L B)``.

    >>> import numpy as np
    >>> from numerics.networks import NetworkStack
    >>> net = NetworkStack([np.eye(2)[None] * 2.0])          # f(x) = 2x: J^T J / B = x x^T / B per output
    >>> gauss_newton_spectrum(net, np.eye(2) * np.sqrt(2)).round(12).tolist()
    [[1.0, 1.0, 1.0, 1.0]]
    """
    K = gauss_newton_gram(net, x)
    lam = np.linalg.eigvalsh(K)
    return lam[..., ::-1]


def effective_rank(values, *, axis: int = -1) -> np.ndarray:
    """Roy & Vetterli (2007) effective rank ``exp(-sum p_i log p_i)``, ``p_i = v_i / sum v`` (``v >= 0``).

    For singular values ``v = sigma``. Ranges from 1 (one nonzero value) to the count (all equal).
    """
    v = check_finite_array("values", values)
    if np.any(v < 0):
        raise ValueError("values must be >= 0 (singular values or PSD eigenvalues)")
    tot = np.sum(v, axis=axis, keepdims=True)
    if np.any(tot <= 0):
        raise ValueError("values must not be all zero")
    p = v / tot
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=axis)
    return np.exp(ent)


def participation_ratio(values, *, axis: int = -1) -> np.ndarray:
    """``(sum lambda)^2 / sum lambda^2`` of nonnegative eigenvalues (1 to the count)."""
    v = check_finite_array("values", values)
    if np.any(v < -1e-12 * np.max(np.abs(v))):
        raise ValueError("values must be >= 0")
    v = np.clip(v, 0.0, None)
    s2 = np.sum(v * v, axis=axis)
    if np.any(s2 <= 0):
        raise ValueError("values must not be all zero")
    return np.sum(v, axis=axis) ** 2 / s2


def near_null_fraction(values, *, rtol: float = 1e-6, axis: int = -1) -> np.ndarray:
    """Fraction of eigenvalues ``<= rtol * max`` (along ``axis``): the near-null (degenerate) directions."""
    v = check_finite_array("values", values)
    rtol = check_real("rtol", rtol, lo=0.0, lo_open=True)
    vmax = np.max(v, axis=axis, keepdims=True)
    return np.mean(v <= rtol * vmax, axis=axis)
