"""Measures of degeneracy: singular values, Gauss-Newton (Fisher) spectra, effective dimension.

* :func:`layer_singular_values` - singular values of each layer's weight matrix (stacked SVD).
* Log singular values of an end-to-end product ``W_L ... W_1`` live in
  :func:`numerics.graded_svd.product_log_singular_values` (graded QR, accurate at any depth; pass
  ``np.stack(net.weights)``, shape ``(L, R, N, N)`` with ``factors[l] = W_{l+1}``). Never form the
  product and call ``svd``: that loses every singular value more than ``~ exp(36)`` below the
  largest (docs/formulas.md §1).
* :func:`gauss_newton_gram` / :func:`gauss_newton_spectrum` - the nonzero spectrum of the
  Gauss-Newton matrix ``G = (1/B) sum_b J_b^T J_b`` of the squared loss at a point (the Fisher
  information of a Gaussian output model), through the ``(d_L B) x (d_L B)`` Gram matrix
  ``(1/B) J J^T`` that shares its nonzero eigenvalues (the empirical neural tangent kernel).
* Effective dimension, the one home of these measures in the toolkit (``numerics.pathologies``
  re-exports them):

  - :func:`participation_ratio` of EIGENVALUES ``lambda`` (of a covariance / Gram / Gauss-Newton
    matrix; squared singular values): ``(sum lambda)^2 / sum lambda^2``, between 1 and ``n``;
  - :func:`effective_rank` of SINGULAR VALUES ``sigma`` (Roy & Vetterli 2007): ``exp`` of the
    entropy of ``p_i = sigma_i / sum sigma``, between 1 and ``n``;
  - :func:`near_null_fraction` of eigenvalues: the fraction below ``rtol * max``.

  :func:`numerics.spectral_summaries.normalized_participation_ratio` is the normalized form for singular values
  (``(sum s^2)^2 / (n sum s^4)``, between ``1/n`` and 1, log domain): see
  :func:`participation_ratio` for which to use when.

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

from degeneracy.errors import (
    ArgumentTypeError,
    ArgumentValueError,
    NumericalFailure,
)
from degeneracy.validation import check_finite_array, check_real

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
    Refuses batch normalization (``ValueError``): it couples the samples, so the outputs are not
    per-sample functions of the parameters.
    """
    if not isinstance(net, NetworkStack):
        raise ArgumentTypeError(f"net must be a NetworkStack, got {type(net).__name__}")
    if net.normalization == "batch":
        raise ArgumentValueError("gauss_newton_gram needs per-sample outputs; batch normalization couples the samples "
                                 "of a batch (use normalization 'none', 'layer' or 'divisive')")
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
    >>> from degeneracy.numerics.networks import NetworkStack
    >>> net = NetworkStack([np.eye(2)[None] * 2.0])          # f(x) = 2x: J^T J / B = x x^T / B per output
    >>> gauss_newton_spectrum(net, np.eye(2) * np.sqrt(2)).round(12).tolist()
    [[1.0, 1.0, 1.0, 1.0]]
    """
    K = gauss_newton_gram(net, x)
    lam = np.linalg.eigvalsh(K)
    return lam[..., ::-1]


def _nonnegative(name: str, values, axis: int) -> np.ndarray:
    """Finite, non-negative spectrum (rounding-level negatives, ``>= -1e-12 max|v|``, are clipped to 0)."""
    v = check_finite_array(name, values)
    if v.ndim < 1 or v.shape[axis] == 0:
        raise ArgumentValueError(f"{name} must have a non-empty axis {axis} (the spectrum)")
    if np.any(v < -1e-12 * np.max(np.abs(v))):
        raise ArgumentValueError(f"{name} must be >= 0 (singular values, or eigenvalues of a PSD matrix), got {v.min():.3g}")
    return np.clip(v, 0.0, None)


def participation_ratio(eigenvalues, *, axis: int = -1) -> np.ndarray:
    """Participation ratio ``PR = (sum_i lambda_i)^2 / sum_i lambda_i^2`` along ``axis``.

    What to pass: the eigenvalues ``lambda_i >= 0`` of a covariance or Gram matrix (e.g. of a
    hidden representation over a set of inputs, or a Gauss-Newton / Fisher spectrum), or
    equivalently the SQUARED singular values ``s_i^2`` of the data or Jacobian matrix. ``PR`` is
    an effective number of dimensions: 1 when one eigenvalue carries everything, ``n`` when all
    ``n`` are equal. Source: the "dimension" of Litwin-Kumar et al., Neuron 93 (2017) and Gao et
    al., "A theory of multineuronal dimensionality, dynamics and measurement", bioRxiv (2017); the
    reciprocal of the inverse participation ratio of Bell & Dean, Discuss. Faraday Soc. 50 (1970).

    Which participation ratio to use: :func:`numerics.spectral_summaries.normalized_participation_ratio` (``s``) is the
    same formula applied to ``s_i^2`` and divided by ``n``, ``(sum s^2)^2 / (n sum s^4) =
    participation_ratio(s**2) / n`` (between ``1/n`` and 1), computed in the log domain from
    (log) singular values. Use that one for spectra of deep matrix products (singular values that
    overflow float64; the Fuss-Catalan limit ``m_1^2 / m_2 = 1/(L+1)`` is stated in that
    normalization); use this one for a count of effective dimensions.

    Rounding-level negatives (``>= -1e-12 max|lambda|``, as ``eigvalsh`` returns for PSD matrices)
    are clipped to 0; larger negatives, NaN or inf raise ``ValueError``; an all-zero spectrum
    raises :class:`theory.errors.DegeneracyError` (the ratio is undefined).

    >>> participation_ratio(np.array([1.0, 1.0, 0.0])).item()
    2.0
    >>> participation_ratio(np.array([[3.0, 3.0, 3.0], [1.0, 0.0, 0.0]])).tolist()
    [3.0, 1.0]
    """
    lam = _nonnegative("eigenvalues", eigenvalues, axis)
    den = np.sum(lam * lam, axis=axis)
    if np.any(den <= 0):
        raise NumericalFailure("participation ratio of an all-zero spectrum is undefined")
    return np.sum(lam, axis=axis) ** 2 / den


def effective_rank(singular_values, *, axis: int = -1) -> np.ndarray:
    """Effective rank ``exp(H(p))``, ``H(p) = -sum_i p_i log p_i``, ``p_i = s_i / sum_j s_j`` (Roy & Vetterli 2007).

    What to pass: the singular values ``s_i >= 0`` of a matrix (for a covariance or Gram matrix
    with eigenvalues ``lambda_i``, pass ``sqrt(lambda_i)``, the singular values of the centred data
    matrix over ``sqrt(P)``). Roy & Vetterli, "The effective rank: a measure of effective
    dimensionality", EUSIPCO 2007, define it on the singular values (eq. 2-3, ``p_k = sigma_k /
    ||sigma||_1``, ``0 log 0 = 0``). Ranges from 1 (rank one) to ``n`` (all equal). Unlike
    :func:`participation_ratio` it weights small values by ``-p log p``, so it responds to the
    whole tail rather than to the few largest values.

    Same input rules as :func:`participation_ratio`.

    >>> effective_rank(np.array([2.0, 2.0, 2.0])).round(12).item()
    3.0
    >>> effective_rank(np.array([1.0, 0.0])).item()
    1.0
    """
    s = _nonnegative("singular_values", singular_values, axis)
    tot = np.sum(s, axis=axis, keepdims=True)
    if np.any(tot <= 0):
        raise NumericalFailure("effective rank of an all-zero spectrum is undefined")
    p = s / tot
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=axis)
    return np.exp(ent)


def near_null_fraction(values, *, rtol: float = 1e-6, axis: int = -1) -> np.ndarray:
    """Fraction of eigenvalues ``<= rtol * max`` (along ``axis``): the near-null (degenerate) directions."""
    v = check_finite_array("values", values)
    rtol = check_real("rtol", rtol, lo=0.0, lo_open=True)
    vmax = np.max(v, axis=axis, keepdims=True)
    return np.mean(v <= rtol * vmax, axis=axis)
