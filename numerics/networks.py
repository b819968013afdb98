"""Stacks of feed-forward networks with hand-written forward and backward passes.

A :class:`NetworkStack` holds ``R`` networks of the same architecture as ONE batched
computation: layer ``l`` has weights of shape ``(R, d_l, d_{l-1})`` (and optional biases of
shape ``(R, d_l)``), and every matmul is a stacked (batched) BLAS call, never a Python loop
over replicas. Replica ``r`` of a stack evolves exactly (bit for bit) as the same network
would alone in a stack of size 1: replicas never mix.

Conventions (column vectors, as in the papers: ``h = W x``)
-----------------------------------------------------------
Inputs have shape ``(d_0, B)`` (shared by all replicas) or ``(R, d_0, B)`` (one batch per
replica); ``B`` is the number of samples (columns). For ``l = 1..L`` (``L = depth``)::

    h_l = W_l x_{l-1} + b_l                      (pre-activation)
    x_l = phi_l(h_l) + s_l(x_{l-1})              (activation / layer output)

with ``x_0`` the input and ``x_L`` the network output. ``phi_l`` is the network's activation
(:mod:`theory.activations`: ``"linear"``, ``"relu"``, ``"hard_tanh"``, ``"tanh"``, ``"erf"``) on
hidden layers; the readout ``l = L`` is linear when ``linear_readout=True`` (default) and carries
no skip. The skip term ``s_l`` is

* ``"none"``:      ``s_l(x) = 0`` (plain network);
* ``"identity"``:  ``s_l(x) = x`` (Orhan & Pitkow 2018, ``x_{l+1} = phi(W x_l) + x_l``; needs
  ``d_l = d_{l-1}``);
* ``"mean"``:      ``s_l(x) = mean_j(x_j) 1_{d_l}``: every unit of layer ``l`` receives the SAME
  skip input, so permuting the units of a layer is still a symmetry (a control that adds a skip
  path without breaking permutation symmetry).

One idea: the stack of networks and its exact passes. The forward and backward passes, the
activations' and normalizations' derivatives, the losses at the output and the buffers the passes
write into are one computation (each piece is the adjoint of another), so they live together.

Backward pass
-------------
Given ``G = dloss/dx_L`` (shape ``(R, d_L, B)``), :meth:`NetworkStack.backward` returns, per
layer, ``dloss/dW_l = delta^pre_l x_{l-1}^T`` (summed over the batch columns),
``dloss/db_l = sum_b delta^pre_l``, and the activation gradients
``delta_l = dloss/dx_l`` (``l = 0..L``) and ``delta^pre_l = dloss/dh_l = phi'(h_l) * delta_l``.
For a deep linear network without skips ``delta_l = delta^pre_l = W_{l+1}^T ... W_L^T G``
(docs/formulas.md §2; Saxe et al. 2013) and
``dloss/dW_l = (W_L ... W_{l+1})^T G x_0^T (W_{l-1} ... W_1)^T``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W = [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 3))]   # R = 2, widths 4-3-5
>>> net = NetworkStack(W)
>>> x = rng.standard_normal((4, 7))                                          # 7 samples, shared
>>> out = net.forward(x)
>>> out.output.shape
(2, 5, 7)
>>> bool(np.allclose(out.output, W[1] @ W[0] @ x))
True
>>> grads = net.backward(out, out.output)         # loss = 0.5 * ||x_L||^2
>>> [g.shape for g in grads.weights]
[(2, 3, 4), (2, 5, 3)]
>>> bool(np.allclose(grads.delta[0], W[0].transpose(0, 2, 1) @ W[1].transpose(0, 2, 1) @ out.output))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.theory.activations import ACTIVATIONS
from degeneracy.theory.activations import activation as _activation
from degeneracy.validation import check_choice, check_positive_int, check_real

from . import ensembles

__all__ = [
    "SKIPS",
    "INITS",
    "NORMALIZATIONS",
    "Workspace",
    "NetworkStack",
    "ForwardCache",
    "Gradients",
    "init_weights",
    "init_network",
    "mse_loss",
    "softmax_cross_entropy",
    "check_widths",
]

SKIPS = ("none", "identity", "mean")
NORMALIZATIONS = ("none", "batch", "layer", "divisive")
INITS = ("gaussian", "orthogonal")


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Validate a width list ``(d_0, d_1, ..., d_L)``: at least two positive integers.

    >>> check_widths([4, 4, 2])
    (4, 4, 2)
    >>> check_widths([4])
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: widths must list at least 2 layer sizes (d_0, ..., d_L with depth L >= 1), got [4]
    """
    try:
        ws = list(widths)
    except TypeError:
        raise ArgumentTypeError(f"widths must be a sequence of positive integers, got {widths!r}") from None
    if len(ws) < 2:
        raise ArgumentValueError(
            f"widths must list at least 2 layer sizes (d_0, ..., d_L with depth L >= 1), got {ws!r}"
        )
    return tuple(check_positive_int(f"widths[{i}]", w) for i, w in enumerate(ws))


@dataclass
class ForwardCache:
    """Everything the backward pass needs.

    Attributes
    ----------
    inputs : ndarray, ``(d_0, B)`` or ``(R, d_0, B)``
    pre : list of ``L`` arrays ``h_l = W_l x_{l-1} + b_l``, each ``(R, d_l, B)``
    post : list of ``L + 1`` arrays ``x_0..x_L`` (``post[0]`` is the input as given)
    act : list of ``L`` arrays ``phi(z_l)`` (before the skip is added; ``h_l`` on a linear readout),
        or None (then the backward pass recomputes what it needs from ``pre``)
    normed : list of ``L`` arrays ``z_l = norm(h_l)`` (None entries where not normalized), or None
        for a network without normalization
    scale : list of the normalization's per-layer scales (``sigma`` or ``d``, see
        :class:`NetworkStack`), or None
    """

    inputs: np.ndarray
    pre: list
    post: list
    act: list | None = None
    normed: list | None = None
    scale: list | None = None

    @property
    def output(self) -> np.ndarray:
        """The network output ``x_L``, shape ``(R, d_L, B)``."""
        return self.post[-1]


class Workspace:
    """Reusable output buffers for :meth:`NetworkStack.forward` / :meth:`NetworkStack.backward`.

    A training loop that runs many passes of the same shapes passes one workspace to every pass:
    the arrays of the returned :class:`ForwardCache` / :class:`Gradients` are then the workspace's
    buffers, written in place (no allocation, no page faults for large stacks), and are overwritten
    by the next pass that uses the workspace. Results are bit for bit those without a workspace.

    >>> import numpy as np
    >>> ws = Workspace()
    >>> a = ws.buffer("h", 0, (2, 3)); a is ws.buffer("h", 0, (2, 3)), a is ws.buffer("h", 0, (2, 4))
    (True, False)
    """

    def __init__(self) -> None:
        self._buffers: dict = {}

    def buffer(self, name: str, layer, shape: tuple) -> np.ndarray:
        """The float buffer ``(name, layer)`` of ``shape`` (allocated on first use or when the shape changes).

        ``layer`` is any hashable key: a layer index, or e.g. the shape itself for scratch space
        shared by every layer of that shape."""
        key = (name, layer)
        b = self._buffers.get(key)
        if b is None or b.shape != shape:
            b = np.empty(shape)
            self._buffers[key] = b
        return b

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffers."""
        return sum(b.nbytes for b in self._buffers.values())


def _fresh(_name: str, _layer: int, shape: tuple) -> np.ndarray:
    return np.empty(shape)


def _phi_into(name: str, phi, h: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``phi(h)`` written into ``out`` (the same values as :func:`theory.activations.phi`)."""
    if name == "tanh":
        return np.tanh(h, out=out)
    if name == "relu":
        return np.maximum(h, 0.0, out=out)
    if name == "linear":
        return h
    out[...] = phi(h)
    return out


#: activations whose derivative the backward pass reads off phi(h) alone (ReLU: h > 0 iff phi(h) > 0)
_FROM_OUTPUT = ("tanh", "relu", "linear")


def _dphi_times(name: str, dphi, h: np.ndarray | None, a: np.ndarray | None, gx: np.ndarray,
                out: np.ndarray) -> np.ndarray:
    """``phi'(h) * gx`` into ``out``; ``a = phi(h)`` from the forward pass (``h`` may then be None
    for the activations of :data:`_FROM_OUTPUT`)."""
    if name == "linear":
        return gx
    if name == "relu":
        return np.multiply(gx, (h if h is not None else a) > 0, out=out)
    if name == "tanh":
        if a is None:
            a = np.tanh(h)
        np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)
        return np.multiply(out, gx, out=out)
    return np.multiply(gx, dphi(h), out=out)


#: eps of batch and layer normalization, semi-saturation constant of divisive normalization
NORM_EPS = 1e-5
DIVISIVE_C = 1.0


def _normalize(h: np.ndarray, kind: str, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``z = norm(h)`` into ``out`` and the scale (``sigma`` or ``d``) the backward pass needs."""
    if kind == "divisive":
        d = np.sqrt(DIVISIVE_C**2 + np.mean(h * h, axis=-2, keepdims=True))
        return np.divide(h, d, out=out), d
    axis = -1 if kind == "batch" else -2
    mu = np.mean(h, axis=axis, keepdims=True)
    np.subtract(h, mu, out=out)
    sig = np.sqrt(np.mean(out * out, axis=axis, keepdims=True) + NORM_EPS)
    out /= sig
    return out, sig


def _normalize_backward(gz: np.ndarray, kind: str, h: np.ndarray, z: np.ndarray, scale: np.ndarray,
                        out: np.ndarray) -> np.ndarray:
    """``dloss/dh`` from ``gz = dloss/dz`` (exact derivative of :func:`_normalize`, eps included)."""
    if kind == "divisive":
        d = scale  # z_i = h_i / d, d = sqrt(c^2 + mean_N h^2): gh = gz / d - h mean_N(gz h) / d^3
        m = np.mean(gz * h, axis=-2, keepdims=True) / (d * d * d)
        np.divide(gz, d, out=out)
        out -= h * m
        return out
    axis = -1 if kind == "batch" else -2  # gh = (gz - mean(gz) - z mean(gz z)) / sigma
    m1 = np.mean(gz, axis=axis, keepdims=True)
    m2 = np.mean(gz * z, axis=axis, keepdims=True)
    np.subtract(gz, m1, out=out)
    out -= z * m2
    out /= scale
    return out


@dataclass
class Gradients:
    """Result of :meth:`NetworkStack.backward`.

    Attributes
    ----------
    weights : list of ``L`` arrays, ``dloss/dW_l`` with the shape of ``W_l``, ``(R, d_l, d_{l-1})``
    biases : list of ``L`` arrays ``(R, d_l)`` or ``None`` when the network has no biases
    delta : list of ``L + 1`` arrays ``dloss/dx_l``, ``l = 0..L``, each ``(R, d_l, B)``
    delta_pre : list of ``L`` arrays ``dloss/dh_l``, ``l = 1..L``, each ``(R, d_l, B)``
    """

    weights: list
    biases: list | None
    delta: list
    delta_pre: list

    def weight_norms(self) -> np.ndarray:
        """Frobenius norms of the parameter gradients, shape ``(R, L)``."""
        return np.stack([np.sqrt(np.sum(g * g, axis=(-2, -1))) for g in self.weights], axis=1)

    def delta_norms(self) -> np.ndarray:
        """Frobenius norms (over units and batch) of ``delta_l``, ``l = 0..L``, shape ``(R, L+1)``."""
        return np.stack([np.sqrt(np.sum(d * d, axis=(-2, -1))) for d in self.delta], axis=1)


class NetworkStack:
    """``R`` feed-forward networks of one architecture, evaluated as one batched computation.

    Parameters
    ----------
    weights : sequence of ``L`` arrays, layer ``l`` of shape ``(R, d_l, d_{l-1})``
        The arrays are used as given (not copied); :meth:`copy` makes an independent stack.
    biases : sequence of ``L`` arrays of shape ``(R, d_l)``, or None (no biases)
    activation : str
        Name from :data:`theory.activations.ACTIVATIONS`, applied on hidden layers
        (and on the readout when ``linear_readout=False``).
    skip : {"none", "identity", "mean"}
        Skip connection on hidden layers (and on the readout when ``linear_readout=False``);
        see the module docstring. ``"identity"`` requires equal widths on those layers.
    linear_readout : bool
        If True (default) the last layer is ``x_L = W_L x_{L-1} + b_L``, no activation, no skip.
    normalization : {"none", "batch", "layer", "divisive"}
        Normalization of the pre-activations of every activated layer, ``x_l = phi(norm(h_l)) + s_l``,
        without learned gain or shift: ``"batch"`` (Ioffe & Szegedy 2015) per unit over the batch
        columns, ``z = (h - mean_B h) / sqrt(var_B h + eps)``; ``"layer"`` (Ba et al. 2016) per
        column over the units; ``"divisive"`` (Carandini & Heeger 2012, sign-preserving form)
        ``z = h / sqrt(c^2 + mean_units h^2)``; ``eps`` = :data:`NORM_EPS`, ``c`` = :data:`DIVISIVE_C`
        (the forms of :func:`numerics.pathologies.normalize`). Batch statistics are those of the
        batch passed (training mode, also when evaluating: pass the whole evaluation set at once).
        The backward pass is the exact derivative (statistics included).

    Notes
    -----
    Cost per forward + backward: three stacked matmuls per layer, ``6 R sum_l d_l d_{l-1} B``
    flops. Results per replica are independent of ``R`` (stacked matmul calls one GEMM per
    replica), so a stack reproduces separate runs bit for bit.
    """

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray] | None = None,
        *,
        activation: str = "linear",
        skip: str = "none",
        linear_readout: bool = True,
        normalization: str = "none",
    ) -> None:
        weights = list(weights)
        if len(weights) < 1:
            raise ArgumentValueError("weights must contain at least one layer (depth >= 1), got 0 layers")
        ws = []
        for i, w in enumerate(weights):
            w = np.asarray(w, dtype=float)
            if w.ndim != 3:
                raise ArgumentValueError(f"weights[{i}] must have shape (R, out, in), got shape {w.shape}")
            ws.append(w)
        R = ws[0].shape[0]
        for i in range(len(ws)):
            if ws[i].shape[0] != R:
                raise ArgumentValueError(f"weights[{i}] has {ws[i].shape[0]} replicas, weights[0] has {R}")
            if i > 0 and ws[i].shape[2] != ws[i - 1].shape[1]:
                raise ArgumentValueError(
                    f"weights[{i}] expects input width {ws[i].shape[2]} but layer {i - 1} "
                    f"outputs width {ws[i - 1].shape[1]}"
                )
        self.weights: list[np.ndarray] = ws
        if biases is not None:
            biases = [np.asarray(b, dtype=float) for b in biases]
            if len(biases) != len(ws):
                raise ArgumentValueError(f"biases must have one array per layer ({len(ws)}), got {len(biases)}")
            for i, b in enumerate(biases):
                if b.shape != (R, ws[i].shape[1]):
                    raise ArgumentValueError(f"biases[{i}] must have shape {(R, ws[i].shape[1])}, got {b.shape}")
        self.biases: list[np.ndarray] | None = biases
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.skip = check_choice("skip", skip, SKIPS)
        self.linear_readout = bool(linear_readout)
        self.normalization = check_choice("normalization", normalization, NORMALIZATIONS)
        self._phi, self._dphi = _activation(self.activation)
        if self.skip == "identity":
            for l in range(self.depth):
                if self._has_skip(l) and ws[l].shape[1] != ws[l].shape[2]:
                    raise ArgumentValueError(
                        f"skip='identity' needs equal input and output widths on layer {l + 1}, "
                        f"got {ws[l].shape[2]} -> {ws[l].shape[1]} (use skip='mean' or linear_readout)"
                    )

    # ---------------------------------------------------------------- structure
    @property
    def replicas(self) -> int:
        """Number of networks ``R`` in the stack."""
        return self.weights[0].shape[0]

    @property
    def depth(self) -> int:
        """Number of weight layers ``L``."""
        return len(self.weights)

    @property
    def widths(self) -> tuple[int, ...]:
        """``(d_0, ..., d_L)``."""
        return (self.weights[0].shape[2],) + tuple(w.shape[1] for w in self.weights)

    @property
    def is_linear(self) -> bool:
        """True for a deep linear network: linear activation, no skips, no biases."""
        return self.activation == "linear" and self.skip == "none" and self.biases is None

    def _activated(self, l: int) -> bool:
        """Whether layer index ``l`` (0-based) applies ``phi``."""
        return not (self.linear_readout and l == self.depth - 1)

    def _has_skip(self, l: int) -> bool:
        return self.skip != "none" and self._activated(l)

    def parameters(self) -> list[np.ndarray]:
        """The parameter arrays, weights first then biases (the order of :meth:`Gradients`)."""
        return list(self.weights) + (list(self.biases) if self.biases is not None else [])

    def copy(self) -> "NetworkStack":
        """An independent deep copy."""
        return NetworkStack(
            [w.copy() for w in self.weights],
            None if self.biases is None else [b.copy() for b in self.biases],
            activation=self.activation,
            skip=self.skip,
            linear_readout=self.linear_readout,
            normalization=self.normalization,
        )

    def replica(self, index) -> "NetworkStack":
        """The sub-stack of replicas ``index`` (an int, slice or index array), as copies.

        >>> import numpy as np
        >>> net = NetworkStack([np.arange(8.0).reshape(2, 2, 2)])
        >>> net.replica(1).weights[0].tolist()
        [[[4.0, 5.0], [6.0, 7.0]]]
        """
        idx = [index] if isinstance(index, (int, np.integer)) else index
        return NetworkStack(
            [w[idx].copy() for w in self.weights],
            None if self.biases is None else [b[idx].copy() for b in self.biases],
            activation=self.activation,
            skip=self.skip,
            linear_readout=self.linear_readout,
            normalization=self.normalization,
        )

    def view(self, index: slice) -> "NetworkStack":
        """The sub-stack of replicas ``index`` (a slice) as a VIEW: its parameters share memory with
        this stack's, so training the view trains these replicas in place.

        >>> import numpy as np
        >>> net = NetworkStack([np.zeros((3, 2, 2))]); net.view(slice(1, 3)).weights[0][:] = 1.0
        >>> net.weights[0][:, 0, 0].tolist()
        [0.0, 1.0, 1.0]
        """
        if not isinstance(index, slice):
            raise ArgumentTypeError(f"index must be a slice (a view needs basic indexing), got {type(index).__name__}")
        return NetworkStack(
            [w[index] for w in self.weights],
            None if self.biases is None else [b[index] for b in self.biases],
            activation=self.activation,
            skip=self.skip,
            linear_readout=self.linear_readout,
            normalization=self.normalization,
        )

    def end_to_end(self) -> np.ndarray:
        """The product ``W_L ... W_1``, shape ``(R, d_L, d_0)`` (deep linear networks only).

        For singular values of long products use :func:`numerics.graded_svd.product_log_singular_values`
        (QR accumulation): forming the product loses every singular value more than about
        ``exp(36)`` below the largest (docs/formulas.md §1).
        """
        if not self.is_linear:
            raise ArgumentValueError("end_to_end is defined for linear networks (linear, no skip, no biases)")
        P = self.weights[0]
        for w in self.weights[1:]:
            P = w @ P
        return P

    # ---------------------------------------------------------------- passes
    def forward(self, x: np.ndarray, *, workspace: "Workspace | None" = None, lean: bool = False) -> ForwardCache:
        """Forward pass; ``x`` has shape ``(d_0, B)`` or ``(R, d_0, B)``.

        Returns a :class:`ForwardCache` (``.output`` is ``x_L``, shape ``(R, d_L, B)``). With a
        :class:`Workspace` the cache's arrays are the workspace's buffers (no allocation; they are
        overwritten by the next pass that uses the same workspace). ``lean=True`` (for training
        loops) keeps only what the backward pass needs: for tanh, ReLU and linear layers without
        normalization ``phi(h)`` overwrites ``h`` and ``pre[l]`` is None (less memory traffic).
        """
        x = np.asarray(x, dtype=float)
        weights = self.weights
        d0 = weights[0].shape[2]
        R = weights[0].shape[0]
        if x.ndim not in (2, 3) or x.shape[-2] != d0 or (x.ndim == 3 and x.shape[0] != R):
            raise ArgumentValueError(
                f"x must have shape ({d0}, B) or ({R}, {d0}, B), got {x.shape}"
            )
        buf = workspace.buffer if workspace is not None else _fresh
        B = x.shape[-1]
        kind = self.normalization
        norm = kind != "none"
        name = self.activation
        in_place = lean and not norm and name in _FROM_OUTPUT
        phi = self._phi
        biases = self.biases
        skip = self.skip
        readout = len(weights) - 1 if self.linear_readout else -1
        pre, post, act = [], [x], []
        normed: list = [] if norm else None
        scale: list = [] if norm else None
        cur = x
        for l, w in enumerate(weights):
            shape = (R, w.shape[1], B)
            h = np.matmul(w, cur, out=buf("h", l, shape))
            if biases is not None:
                h += biases[l][:, :, None]
            if l == readout:  # the linear readout: no activation, no skip
                pre.append(h)
                post.append(h)
                act.append(h)
                if norm:
                    normed.append(None)
                    scale.append(None)
                cur = h
                continue
            z = h
            if norm:
                z, sc = _normalize(h, kind, buf("z", l, shape))
                normed.append(z)
                scale.append(sc)
            if in_place:  # phi(h) overwrites h
                if name == "tanh":
                    a = np.tanh(h, out=h)
                elif name == "relu":
                    a = np.maximum(h, 0.0, out=h)
                else:
                    a = h
                pre.append(None)
            else:
                a = _phi_into(name, phi, z, buf("a", l, shape))
                pre.append(h)
            act.append(a)
            if skip == "none":
                out = a
            elif skip == "identity":
                out = np.add(a, cur, out=buf("x", l, shape))
            else:  # "mean": the same scalar to every unit
                out = np.add(a, np.mean(cur, axis=-2, keepdims=True), out=buf("x", l, shape))
            post.append(out)
            cur = out
        return ForwardCache(inputs=x, pre=pre, post=post, act=act, normed=normed, scale=scale)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The network output ``x_L`` for input ``x``."""
        return self.forward(x).output

    def backward(self, cache: ForwardCache, grad_output: np.ndarray, *,
                 workspace: "Workspace | None" = None, update=None) -> Gradients | None:
        """Backward pass from ``grad_output = dloss/dx_L`` (shape ``(R, d_L, B)``).

        Returns parameter gradients summed over the batch columns (so pass
        ``grad_output`` already divided by ``B`` for a mean loss) and the activation
        gradients ``delta_l`` (see :class:`Gradients`). With a :class:`Workspace` the gradients
        are the workspace's buffers (overwritten by the next pass using it).

        ``update(l, gW, gb)`` (training loops): called for ``l = L-1, ..., 0`` as soon as layer
        ``l``'s gradients and the ``delta`` it passes down are computed, so it may update layer
        ``l``'s parameters in place (and use ``gW``, ``gb`` as scratch space); the gradient buffers
        are then reused from layer to layer and nothing is returned. The numbers are those of a
        full backward pass followed by the update.

        The derivative of ``tanh`` is taken as ``1 - tanh(h)^2`` from the forward pass's values
        (one multiply instead of a ``cosh``; equal to :func:`theory.activations.dphi` up to
        rounding, and both are ``0`` to working precision where ``|h| > 19``).
        """
        g = np.asarray(grad_output, dtype=float)
        out_shape = cache.output.shape
        if g.shape != out_shape:
            raise ArgumentValueError(f"grad_output must have the output's shape {out_shape}, got {g.shape}")
        buf = workspace.buffer if workspace is not None else _fresh
        fused = update is not None
        weights = self.weights
        L = len(weights)
        has_bias = self.biases is not None
        gW: list = [None] * L
        gb: list | None = [None] * L if has_bias else None
        delta: list = [None] * (L + 1)
        delta_pre: list = [None] * L
        delta[L] = g
        act, pre, post, normed, scale = cache.act, cache.pre, cache.post, cache.normed, cache.scale
        name, dphi, kind, skip = self.activation, self._dphi, self.normalization, self.skip
        readout = L - 1 if self.linear_readout else -1
        gx = g
        for l in range(L - 1, -1, -1):
            shape = gx.shape
            key = shape if fused else l  # fused: one scratch buffer per shape, reused down the layers
            if l != readout:
                nz = normed[l] if normed is not None else None
                a = act[l] if act is not None else None
                if name == "tanh" and a is not None:  # (1 - a^2) * gx, as _dphi_times
                    gh = buf("gh", key, shape)
                    np.multiply(a, a, out=gh)
                    np.subtract(1.0, gh, out=gh)
                    np.multiply(gh, gx, out=gh)
                else:
                    gh = _dphi_times(name, dphi, nz if nz is not None else pre[l], a, gx, buf("gh", key, shape))
                if nz is not None:
                    gh = _normalize_backward(gh, kind, pre[l], nz, scale[l], buf("gn", key, shape))
            else:
                gh = gx
            w = weights[l]
            wshape = w.shape
            gw = np.matmul(gh, post[l].swapaxes(-1, -2), out=buf("gW", wshape if fused else l, wshape))
            gbl = np.sum(gh, axis=-1, out=buf("gb", key, shape[:2])) if has_bias else None
            dshape = (shape[0], wshape[2], shape[2])
            gprev = np.matmul(w.swapaxes(-1, -2), gh, out=buf("d", (l % 2, dshape) if fused else l, dshape))
            if skip != "none" and l != readout:
                if skip == "identity":
                    gprev += gx
                else:
                    gprev += np.sum(gx, axis=-2, keepdims=True) / wshape[2]
            if fused:
                update(l, gw, gbl)
            else:
                gW[l], delta_pre[l], delta[l] = gw, gh, gprev
                if has_bias:
                    gb[l] = gbl
            gx = gprev
        if fused:
            return None
        return Gradients(weights=gW, biases=gb, delta=delta, delta_pre=delta_pre)

    def loss_and_gradients(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Gradients]:
        """Mean squared error ``0.5 * mean_b ||x_L(b) - y(b)||^2`` per replica and its gradients.

        ``y`` has shape ``(d_L, B)`` or ``(R, d_L, B)``. Returns ``(loss (R,), Gradients)``.
        """
        cache = self.forward(x)
        loss, g = mse_loss(cache.output, y)
        return loss, self.backward(cache, g)


def mse_loss(output: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``loss_r = (1/2B) sum_b ||output_r[:, b] - target[:, b]||^2`` and ``dloss/doutput``.

    For whitened inputs (``E x x^T = I``) and a linear map ``y = T x``, the population version
    of this loss is ``0.5 ||W_L...W_1 - T||_F^2`` (Saxe et al. 2013, sec. 2).

    >>> import numpy as np
    >>> loss, g = mse_loss(np.ones((1, 2, 4)), np.zeros((2, 4)))
    >>> loss.tolist(), float(g[0, 0, 0])
    ([1.0], 0.25)
    """
    output = np.asarray(output, dtype=float)
    diff = output - np.asarray(target, dtype=float)
    B = output.shape[-1]
    loss = 0.5 * np.sum(diff * diff, axis=(-2, -1)) / B
    return loss, diff / B


def softmax_cross_entropy(output: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean softmax cross-entropy over the batch columns and its gradient ``dloss/doutput``.

    ``loss_r = (1/B) sum_b [logsumexp_c output_r[c, b] - sum_c target[c, b] output_r[c, b]]``,
    the cross-entropy ``-sum_c y_c log softmax(o)_c`` of targets ``y`` whose columns are
    probability vectors (one-hot labels: :func:`numerics.data.one_hot`); the gradient is
    ``(softmax(o) - y) / B`` (Bishop 2006, eq. 4.109). ``logsumexp`` from :mod:`scipy.special`
    (no overflow for large logits). ``target`` has shape ``(C, B)`` or ``(R, C, B)``.

    >>> import numpy as np
    >>> loss, g = softmax_cross_entropy(np.zeros((1, 4, 2)), np.eye(4)[:, :2])
    >>> bool(np.allclose(loss, np.log(4))), float(g[0, 0, 0])
    (True, -0.375)
    """
    from scipy.special import logsumexp

    output = np.asarray(output, dtype=float)
    target = np.asarray(target, dtype=float)
    B = output.shape[-1]
    lse = logsumexp(output, axis=-2, keepdims=True)
    loss = (np.sum(lse, axis=(-2, -1)) - np.sum(target * output, axis=(-2, -1))) / B
    p = np.exp(output - lse)
    p -= target
    p /= B
    return loss, p


# -------------------------------------------------------------------- initialization
def init_weights(
    widths: Sequence[int],
    replicas: int,
    *,
    init: str = "gaussian",
    gain: float = 1.0,
    fold: int = 0,
    rng=None,
) -> list[np.ndarray]:
    """Initial weights for a stack of ``replicas`` networks with widths ``(d_0, ..., d_L)``.

    Parameters
    ----------
    init : {"gaussian", "orthogonal"}
        ``"gaussian"``: i.i.d. ``N(0, gain^2 / d_{l-1})`` entries (the "standard" ``1/sqrt(n)``
        initialization of Orhan 2018 / LeCun). ``"orthogonal"``: ``gain`` times a Haar orthogonal
        matrix (rectangular layers: the leading ``d_l x d_{l-1}`` block of a Haar orthogonal matrix
        of size ``max(d_l, d_{l-1})``, i.e. Haar on the Stiefel manifold).
    fold : int >= 0
        Orhan's "Fold k": after sampling, copy the upper half of each weight matrix onto its
        lower half, ``k`` times (square ``n x n`` layers then have rank ``n / 2^k``).
    rng : Generator, int, SeedSequence, or a sequence of ``replicas`` of those
        Replica ``r`` draws all its layers from its own generator (spawned from ``rng``, or
        ``rng[r]`` when a sequence is given), so replica ``r`` of a stack equals the single
        network drawn from the same generator: stacks reproduce separate runs exactly.

    Returns
    -------
    list of ``L`` arrays of shape ``(replicas, d_l, d_{l-1})``

    Examples
    --------
    >>> W = init_weights([8, 8, 8], 3, init="orthogonal", rng=0)
    >>> [w.shape for w in W]
    [(3, 8, 8), (3, 8, 8)]
    >>> import numpy as np
    >>> bool(np.allclose(W[0][1] @ W[0][1].T, np.eye(8)))
    True
    >>> int(np.linalg.matrix_rank(init_weights([8, 8], 1, fold=1, rng=0)[0][0]))
    4
    """
    from degeneracy.numerics.rng import replica_generators

    widths = check_widths(widths)
    R = check_positive_int("replicas", replicas)
    init = check_choice("init", init, INITS)
    gain = check_real("gain", gain, lo=0.0, lo_open=True)
    from degeneracy.validation import check_nonneg_int

    fold = check_nonneg_int("fold", fold)
    for l in range(1, len(widths)):
        if fold > 0 and widths[l] % (2**fold) != 0:
            raise ArgumentValueError(
                f"fold={fold} needs every layer's output width divisible by 2**fold={2**fold}, "
                f"got width {widths[l]} at layer {l}"
            )
    gens = replica_generators(rng, R)
    L = len(widths) - 1
    layers: list[list[np.ndarray]] = [[] for _ in range(L)]
    for g in gens:
        for l in range(L):
            dout, din = widths[l + 1], widths[l]
            if init == "gaussian":
                w = ensembles.gaussian(din, m=dout, rng=g)
            else:
                w = ensembles.haar_orthogonal(max(dout, din), rng=g)[:dout, :din]
            layers[l].append(w)
    weights = [gain * np.stack(ws) for ws in layers]
    if fold:
        weights = [ensembles.fold(w, fold) for w in weights]
    return weights


def init_network(
    widths: Sequence[int],
    replicas: int,
    *,
    init: str = "gaussian",
    gain: float = 1.0,
    fold: int = 0,
    activation: str = "linear",
    bias_std: float | None = None,
    skip: str = "none",
    linear_readout: bool = True,
    normalization: str = "none",
    rng=None,
) -> NetworkStack:
    """A :class:`NetworkStack` with weights from :func:`init_weights`.

    ``bias_std=None`` gives a network without biases; a number ``sigma_b >= 0`` adds biases
    drawn i.i.d. ``N(0, sigma_b^2)`` (from a stream independent of the weights').

    >>> net = init_network([4, 4, 4, 2], 5, activation="tanh", bias_std=0.1, skip="identity", rng=1)
    >>> net.replicas, net.depth, net.widths
    (5, 3, (4, 4, 4, 2))
    """
    from degeneracy.numerics.rng import as_generator, spawn_generators

    R = check_positive_int("replicas", replicas)
    if isinstance(rng, (list, tuple)):
        pairs = [spawn_generators(as_generator(g), 2) for g in rng]
    else:
        pairs = [spawn_generators(g, 2) for g in spawn_generators(rng, R)]
    weights = init_weights(widths, R, init=init, gain=gain, fold=fold, rng=[p[0] for p in pairs])
    biases = None
    if bias_std is not None:
        sb = check_real("bias_std", bias_std, lo=0.0)
        ws = check_widths(widths)
        draws = [p[1].standard_normal(sum(ws[1:])) * sb for p in pairs]
        cuts = np.cumsum((0,) + ws[1:])
        biases = [np.stack([d[cuts[l] : cuts[l + 1]] for d in draws]) for l in range(len(ws) - 1)]
    return NetworkStack(weights, biases, activation=activation, skip=skip, linear_readout=linear_readout,
                        normalization=normalization)
