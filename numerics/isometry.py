"""Wide random networks: preactivation variances and input-output Jacobian spectra.

Network (Pennington, Schoenholz & Ganguli 2017; docs/formulas.md §4), ``R`` independent replicas
batched as stacked arrays: ``h^l = W^l x^{l-1} + b^l``, ``x^l = phi(h^l)``, ``l = 1..L``, square
``N x N`` weights ``W ~ N(0, sigma_w^2 / N)`` (``numerics.ensembles.gaussian``) or
``sigma_w`` times Haar orthogonal (``numerics.ensembles.haar_orthogonal``), biases
``b ~ N(0, sigma_b^2)``. The Jacobian ``J = dx^L / dx^0 = D_L W_L ... D_1 W_1`` with
``D_l = diag phi'(h^l)`` is accumulated layer by layer as ``J <- D_l (W_l J)`` (batched matmul).

Accuracy: direct accumulation is exact up to rounding for the traces used here
(``tr J J^T``, ``tr (J J^T)^2``) and for the squared singular values above
``~ L N eps sigma_1^2``; singular values far below that (deep Gaussian products) need the QR
engine of :mod:`numerics.graded_svd` (:func:`jacobian_log_singular_values` uses it when every
``D_l`` is invertible, i.e. for linear, erf and tanh).

Examples
--------
>>> run = simulate_network("tanh", width=16, depth=3, replicas=2, sigma_w2=1.5, sigma_b2=0.05, rng=0)
>>> run.q.shape, run.jacobian.shape
((2, 3), (2, 16, 16))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from degeneracy.errors import ArgumentValueError
from degeneracy.theory.activations import as_activation
from degeneracy.validation import check_choice, check_positive_int, check_real

from . import ensembles
from .rng import as_generator

__all__ = [
    "WEIGHTS",
    "sample_weights",
    "NetworkRun",
    "simulate_network",
    "PairRun",
    "simulate_pair",
    "jacobian_vector_norms",
    "jacobian_moment_estimates",
    "squared_singular_values",
    "jacobian_log_singular_values",
    "fold_product_squared_singular_values",
]

WEIGHTS = ("gaussian", "orthogonal")


def sample_weights(width: int, depth: int, replicas: int, *, weights: str, sigma_w2: float, rng=None) -> np.ndarray:
    """``(L, R, N, N)`` weights: ``sigma_w`` times Gaussian (variance ``1/N``) or Haar orthogonal.

    >>> W = sample_weights(4, 2, 3, weights="orthogonal", sigma_w2=2.0, rng=0)
    >>> W.shape, bool(np.allclose(W[1, 2] @ W[1, 2].T, 2.0 * np.eye(4)))
    ((2, 3, 4, 4), True)
    """
    n = check_positive_int("width", width)
    L = check_positive_int("depth", depth)
    R = check_positive_int("replicas", replicas)
    weights = check_choice("weights", weights, WEIGHTS)
    sw = np.sqrt(check_real("sigma_w2", sigma_w2, lo=0.0, lo_open=True))
    g = as_generator(rng)
    if weights == "gaussian":
        W = ensembles.gaussian(n, size=(L, R), rng=g)
    else:
        W = ensembles.haar_orthogonal(n, size=(L, R), rng=g)
    W *= sw
    return W


@dataclass
class NetworkRun:
    """One batched forward pass.

    q : (R, L) measured preactivation second moments ``|h^l|^2 / N`` per replica and layer
    chi : (R, L) measured ``sigma_w^2 * mean_i phi'(h_i^l)^2`` per layer (the mean-field chi)
    jacobian : (R, N, N) input-output Jacobian ``D_L W_L ... D_1 W_1`` (None if not requested)
    """

    q: np.ndarray
    chi: np.ndarray
    jacobian: np.ndarray | None


def simulate_network(
    activation: str,
    *,
    width: int,
    depth: int,
    replicas: int,
    sigma_w2: float,
    sigma_b2: float,
    weights: str = "gaussian",
    q_input: float | None = None,
    jacobian: bool = True,
    rng=None,
) -> NetworkRun:
    """Forward one input through ``R`` independent random networks; record q^l, chi^l, J.

    The input ``x^0`` is a random direction scaled to ``|x^0|^2 / N = q_input`` exactly (default
    ``1``), so ``h^1`` has variance ``sigma_w^2 q_input + sigma_b^2``. To start at the fixed
    point use ``q_input = V(q*)`` (:func:`theory.isometry.length_variance`).
    """
    sw2, layers = _random_layers(activation, width=width, depth=depth, replicas=replicas, sigma_w2=sigma_w2,
                                 sigma_b2=sigma_b2, weights=weights, q_input=q_input, rng=rng)
    dphi = as_activation(activation).dphi
    J = None
    qs, chis = [], []
    for W, h in layers:
        qs.append(np.mean(h * h, axis=1))
        d = dphi(h)
        chis.append(sw2 * np.mean(d * d, axis=1))
        if jacobian:
            J = d[:, :, None] * (W if J is None else W @ J)
    return NetworkRun(q=np.stack(qs, axis=1), chi=np.stack(chis, axis=1), jacobian=J)


def _random_layers(activation: str, *, width, depth, replicas, sigma_w2, sigma_b2, weights, q_input, rng):
    """Validate the arguments; return ``(sigma_w2, layers)``, ``layers`` yielding ``(W_l, h^l)`` for
    ``l = 1..L`` of ``R`` random networks (``x^l = phi(h^l)`` is carried inside).

    The one sampler of :func:`simulate_network` and :func:`jacobian_log_singular_values`, so the
    same ``rng`` gives the same networks in both: ``x^0`` a random direction with
    ``|x^0|^2 / N = q_input``, then per layer ``W_l`` (:func:`sample_weights`) and ``b_l``, in that order.
    """
    act = as_activation(activation)
    n = check_positive_int("width", width)
    L = check_positive_int("depth", depth)
    R = check_positive_int("replicas", replicas)
    sw2 = check_real("sigma_w2", sigma_w2, lo=0.0, lo_open=True)
    sb2 = check_real("sigma_b2", sigma_b2, lo=0.0)
    qin = 1.0 if q_input is None else check_real("q_input", q_input, lo=0.0, lo_open=True)
    g = as_generator(rng)
    phi = act.phi

    def layers():
        x = g.standard_normal((R, n))
        x *= np.sqrt(qin * n) / np.linalg.norm(x, axis=1, keepdims=True)
        for _ in range(L):
            W = sample_weights(n, 1, R, weights=weights, sigma_w2=sw2, rng=g)[0]
            b = g.standard_normal((R, n)) * np.sqrt(sb2)
            h = np.einsum("rij,rj->ri", W, x) + b
            yield W, h
            x = phi(h)

    return sw2, layers()


@dataclass
class PairRun:
    """One batched forward pass of two inputs through the same networks (``R`` replicas, ``L`` layers).

    q1, q2 : (R, L) second moments ``|h_a^l|^2 / N`` of the two preactivations
    c : (R, L) their correlation ``q12 / sqrt(q1 q2)``, ``q12 = h_1^l . h_2^l / N``
    chi_c : (R, L) ``sigma_w^2 mean_i phi'(h_{1,i}^l) phi'(h_{2,i}^l)`` (the slope of the correlation map)
    q_slope : (R, L) ``sigma_w^2 mean_i phi(h_{1,i})^2 (h_{1,i}^2 / q1 - 1) / (2 q1)`` (the slope
        ``sigma_w^2 V'(q)`` of the length map by Gaussian integration by parts)
    """

    q1: np.ndarray
    q2: np.ndarray
    c: np.ndarray
    chi_c: np.ndarray
    q_slope: np.ndarray


def _network_args(activation, width, depth, replicas, weights, sigma_w2, sigma_b2) -> tuple:
    """The validated ``(activation, N, L, R, weights, sigma_w2, sigma_b2)`` of a random network."""
    act = as_activation(activation)
    n = check_positive_int("width", width)
    L = check_positive_int("depth", depth)
    R = check_positive_int("replicas", replicas)
    weights = check_choice("weights", weights, WEIGHTS)
    sw2 = check_real("sigma_w2", sigma_w2, lo=0.0, lo_open=True)
    sb2 = check_real("sigma_b2", sigma_b2, lo=0.0)
    return act, n, L, R, weights, sw2, sb2


def simulate_pair(activation, *, width: int, depth: int, replicas: int, sigma_w2: float, sigma_b2: float,
                  weights: str = "gaussian", q_input: float = 1.0, c_input: float = 0.5, rng=None) -> PairRun:
    """Forward two inputs of second moment ``q_input`` and correlation ``c_input`` (both exact) through
    ``R`` random networks; record the two-input mean-field quantities per layer (Poole et al. 2016;
    Schoenholz et al. 2017; docs/formulas.md §4).

    Exact in law at ``O(R N)`` work per layer instead of the ``O(R N^2)`` of drawing ``W``: only the
    pair ``(W x_1, W x_2)`` enters the layer, and given ``X = [x_1 x_2]`` (``N x 2``) its law is known.
    Gaussian ``W`` (variance ``sigma_w^2/N``): its rows are i.i.d. bivariate normal with covariance
    ``sigma_w^2 X^T X / N``, drawn through the Cholesky factor of ``X^T X``. Orthogonal ``W = sigma_w
    O``: with the thin QR ``X = Q_X R_X``, ``O Q_X`` is a Haar-uniform 2-frame, drawn as the
    Gram-Schmidt of two Gaussian vectors, so ``O X = (O Q_X) R_X``. Every layer draws fresh weights
    and biases (``b ~ N(0, sigma_b^2)``, shared by the two inputs), as :func:`simulate_network` does;
    the random streams differ from it. ``tests/test_meanfield.py`` compares the laws with explicit
    ``N x N`` weights (:func:`sample_weights`).

    >>> run = simulate_pair("tanh", width=64, depth=3, replicas=2, sigma_w2=1.5, sigma_b2=0.05, rng=0)
    >>> run.c.shape, bool(np.all(np.abs(run.c) <= 1))
    ((2, 3), True)
    """
    act, n, L, R, weights, sw2, sb2 = _network_args(activation, width, depth, replicas, weights, sigma_w2, sigma_b2)
    qin = check_real("q_input", q_input, lo=0.0, lo_open=True)
    cin = check_real("c_input", c_input, lo=-1.0, hi=1.0)
    g = as_generator(rng)
    # two inputs with |x|^2 / N = q_input and correlation c_input exactly (Gram-Schmidt)
    a = g.standard_normal((R, n))
    b = g.standard_normal((R, n))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b -= np.sum(a * b, axis=1, keepdims=True) * a
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    scale = np.sqrt(qin * n)
    x1 = scale * a
    x2 = scale * (cin * a + np.sqrt(max(0.0, 1.0 - cin * cin)) * b)
    sw = np.sqrt(sw2)
    out = {k: [] for k in ("q1", "q2", "c", "chi_c", "q_slope")}
    for _ in range(L):
        w1, w2 = _pair_images(g, x1, x2, weights, sw)
        bias = g.standard_normal((R, n)) * np.sqrt(sb2)
        h1 = w1 + bias
        h2 = w2 + bias
        q1, q2 = np.mean(h1 * h1, axis=1), np.mean(h2 * h2, axis=1)
        out["q1"].append(q1)
        out["q2"].append(q2)
        out["c"].append(np.mean(h1 * h2, axis=1) / np.sqrt(q1 * q2))
        out["chi_c"].append(sw2 * np.mean(act.dphi(h1) * act.dphi(h2), axis=1))
        p1 = act.phi(h1)
        out["q_slope"].append(sw2 * np.mean(p1 * p1 * (h1 * h1 / q1[:, None] - 1.0), axis=1) / (2.0 * q1))
        x1, x2 = p1, act.phi(h2)
    return PairRun(**{k: np.stack(v, axis=1) for k, v in out.items()})


def _pair_images(g, x1: np.ndarray, x2: np.ndarray, weights: str, sw: float) -> tuple[np.ndarray, np.ndarray]:
    """``(W x_1, W x_2)`` per replica, exact in law, for a fresh ``W`` (``sw`` times Gaussian of variance
    ``1/N``, or ``sw`` times Haar orthogonal) independent of ``x_1, x_2`` (each ``(R, N)``).

    With the thin QR ``X = [x_1 x_2] = Q_X R_X`` only ``W Q_X`` enters: ``sw Z / sqrt(N)`` (``Z`` an
    ``N x 2`` standard Gaussian) for Gaussian ``W``, ``sw F`` (``F`` the Gram-Schmidt of two Gaussian
    vectors: a Haar 2-frame) for orthogonal ``W``. ``O(R N)`` work; draws ``z_1`` then ``z_2``.
    """
    R, n = x1.shape
    # R_X = [[r11, r12], [0, r22]]: the Cholesky factor of the Gram matrix X^T X
    r11 = np.linalg.norm(x1, axis=1)
    r12 = np.sum(x1 * x2, axis=1) / np.where(r11 > 0, r11, 1.0)
    r22 = np.sqrt(np.maximum(np.sum(x2 * x2, axis=1) - r12 * r12, 0.0))
    z1 = g.standard_normal((R, n))
    z2 = g.standard_normal((R, n))
    if weights == "gaussian":
        f1, f2 = z1 / np.sqrt(n), z2 / np.sqrt(n)
    else:
        f1 = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
        f2 = z2 - np.sum(f1 * z2, axis=1, keepdims=True) * f1
        f2 /= np.linalg.norm(f2, axis=1, keepdims=True)
    return sw * r11[:, None] * f1, sw * (r12[:, None] * f1 + r22[:, None] * f2)


def jacobian_vector_norms(activation, *, width: int, depth: int, replicas: int, sigma_w2: float, sigma_b2: float,
                          weights: str = "gaussian", q_input: float | None = None, rng=None) -> np.ndarray:
    """Per replica ``|J u|^2`` for the input-output Jacobian ``J`` of one random network (as
    :func:`simulate_network`: input ``x^0`` with ``|x^0|^2/N = q_input``) and a direction ``u`` uniform on
    the unit sphere, independent of the network; ``(R,)``.

    ``E_u |J u|^2 = tr(J^T J) / N`` (``E u u^T = I / N``), so the replica mean estimates the mean
    ``E tr(J J^T)/N`` of the spectrum of ``J J^T`` without forming ``J``: the forward pass carries the
    pair ``(x^{l-1}, t^{l-1})``, ``t^0 = u``, ``h^l = W_l x^{l-1} + b_l``, ``t^l = phi'(h^l) * (W_l t^{l-1})``,
    and each layer needs only ``W_l`` applied to two vectors, drawn exactly in law at ``O(R N)`` work
    (:func:`simulate_pair`'s 2-frame law) instead of the ``O(R N^3)`` of the Jacobian. The random
    streams differ from :func:`simulate_network`'s. ``tests/test_isometry.py`` compares the law with
    explicit weights.

    >>> v = jacobian_vector_norms("linear", width=8, depth=3, replicas=4, sigma_w2=1.0, sigma_b2=0.0,
    ...                           weights="orthogonal", rng=0)
    >>> v.shape, bool(np.allclose(v, 1.0))
    ((4,), True)
    """
    act, n, L, R, weights, sw2, sb2 = _network_args(activation, width, depth, replicas, weights, sigma_w2, sigma_b2)
    qin = 1.0 if q_input is None else check_real("q_input", q_input, lo=0.0, lo_open=True)
    g = as_generator(rng)
    x = g.standard_normal((R, n))
    x *= np.sqrt(qin * n) / np.linalg.norm(x, axis=1, keepdims=True)
    t = g.standard_normal((R, n))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    sw = np.sqrt(sw2)
    for _ in range(L):
        wx, wt = _pair_images(g, x, t, weights, sw)
        h = wx + g.standard_normal((R, n)) * np.sqrt(sb2)
        t = act.dphi(h) * wt
        x = act.phi(h)
    return np.sum(t * t, axis=1)


def jacobian_moment_estimates(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per replica: ``m1 = tr(J J^T)/N`` and the normalized variance ``m2/m1^2 - 1`` of the
    eigenvalues of ``J J^T`` (``m2 = tr (J J^T)^2 / N = ||J J^T||_F^2 / N``).

    >>> m1, nv = jacobian_moment_estimates(np.stack([np.eye(3), 2 * np.eye(3)]))
    >>> m1.tolist(), nv.tolist()
    ([1.0, 4.0], [0.0, 0.0])
    """
    J = np.asarray(J, dtype=float)
    n = J.shape[-1]
    G = J @ np.swapaxes(J, -1, -2)
    m1 = np.trace(G, axis1=-2, axis2=-1) / n
    m2 = np.sum(G * G, axis=(-2, -1)) / n
    if np.any(m1 <= 0):
        raise ArgumentValueError("a Jacobian is identically zero; its normalized variance is undefined")
    return m1, m2 / m1**2 - 1.0


def squared_singular_values(J: np.ndarray) -> np.ndarray:
    """Eigenvalues of ``J J^T`` per replica, ``(R, N)`` ascending (batched SVD)."""
    s = np.linalg.svd(np.asarray(J, dtype=float), compute_uv=False)
    return np.sort(s * s, axis=-1)


def jacobian_log_singular_values(
    activation: str,
    *,
    width: int,
    depth: int,
    replicas: int,
    sigma_w2: float,
    sigma_b2: float,
    weights: str = "gaussian",
    q_input: float | None = None,
    rng=None,
) -> np.ndarray:
    """``log sigma_i(J)`` accurate at any depth via the graded QR route (``numerics.graded_svd``).

    Only for activations with invertible ``D_l`` (``phi' != 0`` almost surely: linear, erf, tanh,
    sigmoid, ...): ReLU and hard-tanh masks are exactly singular, the engine refuses them. Returns ``(R, N)``, descending.
    """
    from .graded_svd import product_log_singular_values

    act = as_activation(activation)
    if any(kind == "const" and val == 0 for _, _, kind, val in act.pieces):
        raise ArgumentValueError(f"{act.name} Jacobians are exactly singular (phi' = 0 on a set of positive mass); use "
                                 "simulate_network and squared_singular_values")
    _, layers = _random_layers(activation, width=width, depth=depth, replicas=replicas, sigma_w2=sigma_w2,
                               sigma_b2=sigma_b2, weights=weights, q_input=q_input, rng=rng)
    dphi = act.dphi
    factors = np.stack([dphi(h)[:, :, None] * W for W, h in layers])  # (L, R, N, N), factors[l] = D_{l+1} W_{l+1}
    return product_log_singular_values(factors)


def fold_product_squared_singular_values(width: int, depth: int, k: int, *, replicas: int, rng=None) -> np.ndarray:
    """Eigenvalues of ``P P^T`` for ``P = F_L ... F_1``, ``F_l`` = Fold-k of a Gaussian matrix
    (entries of variance ``1/N`` before folding; ``numerics.ensembles.fold``). ``(R, N)``.

    Each fold makes the rows ``i`` and ``i + N/2^j`` equal, so ``F = E G_top`` with ``G_top`` the
    ``N/2^k x N`` top block and ``E`` the ``N x N/2^k`` stacking of ``2^k`` identities
    (``E^T E = 2^k I``); the nonzero spectrum has rank ``N / 2^k``.
    """
    n = check_positive_int("width", width)
    L = check_positive_int("depth", depth)
    R = check_positive_int("replicas", replicas)
    g = as_generator(rng)
    P = None
    for _ in range(L):
        F = ensembles.fold(ensembles.gaussian(n, size=R, rng=g), k)
        P = F if P is None else F @ P
    return squared_singular_values(P)
