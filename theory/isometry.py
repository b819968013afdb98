"""Mean field and Jacobian spectra of deep random networks (dynamical isometry).

Source: Pennington, Schoenholz & Ganguli, *Resurrecting the sigmoid in deep learning through
dynamical isometry*, NeurIPS 2017 (section 2 and Table 1), and *The emergence of spectral
universality in deep networks*, AISTATS 2018; mean field from Poole et al. 2016 and
Schoenholz et al. 2017. docs/formulas.md §4.

Network (width ``N -> inf``): ``h^l = W^l x^{l-1} + b^l``, ``x^l = phi(h^l)``, with
``W ~ N(0, sigma_w^2 / N)`` (``weights="gaussian"``) or ``sigma_w`` times a Haar orthogonal
matrix (``weights="orthogonal"``), ``b ~ N(0, sigma_b^2)``.

* length map ``q^l = sigma_w^2 V(q^{l-1}) + sigma_b^2``, ``V(q) = E[phi(sqrt(q) z)^2]``,
  ``z ~ N(0, 1)``; ``q*`` is its (stable) fixed point;
* ``mu_k(q) = E[phi'(sqrt(q) z)^{2k}]`` (moments of the law of ``D^2``);
* ``chi = sigma_w^2 mu_1(q*)``; criticality is ``chi = 1``;
* Jacobian ``J = prod_l D_l W_l``, ``D_l = diag phi'(h^l)``:
  ``S_{JJ^T} = (S_{WW^T} S_{D^2})^L`` (their eq. 12; the D's and W's asymptotically free);
* mean of the spectrum of ``J J^T``: ``chi^L``; normalized variance (derived in
  :func:`normalized_variance`, checked symbolically in ``proofs/isometry.py``)
  ``Var / mean^2 = L (mu_2 / mu_1^2 - 1 - s_1)``, ``S_{WW^T}(z) = sigma_w^{-2} (1 + s_1 z + ...)``,
  ``s_1 = -1`` (Gaussian) and ``0`` (orthogonal). This agrees with docs/formulas.md §4.

Activations (``theory/activations.py``): ``"linear"``, ``"relu"``, ``"hard_tanh"``, ``"erf"``,
``"tanh"``. **erf scaling**: the toolkit uses plain ``erf(h)`` (``phi'(0) = 2/sqrt(pi)``), not a
rescaled ``erf(sqrt(pi) h / 2)``; every formula below is derived for plain erf and checked by
quadrature. Closed forms (``q = q*``, ``a = 1/sqrt(2q)``):

===========  ==============================================================  =============================
activation   V(q) = E[phi^2]                                                 mu_k
===========  ==============================================================  =============================
linear       q                                                               1
relu         q / 2                                                           1/2
hard_tanh    q erf(a) - sqrt(2q/pi) e^{-1/(2q)} + erfc(a)                    erf(a)
erf          (2/pi) arcsin(2q / (1 + 2q))  (Williams 1997)                   (4/pi)^k / sqrt(1 + 4kq)
tanh         quadrature                                                      quadrature
===========  ==============================================================  =============================

Densities for erf and tanh use a K-point Gauss quadrature of the law of ``D^2`` (moments
``mu_1..mu_{2K-1}`` exact to ~1e-13; :func:`d2_s_transform`). With Gaussian weights the
Marchenko-Pastur factors smooth it and the density converges quickly in K; with orthogonal
weights at small depth and very small q* (e.g. q* = 0.01, L = 2) the K atoms show through as
spurious narrow bands, and the law's mass certificate (:class:`~theory.errors.CertificationError`)
may refuse it: use moments (exact) or Gaussian weights there.

Examples
--------
>>> sw, sb = critical_point("hard_tanh", 0.25)
>>> round(chi("hard_tanh", sw, sb), 12), round(q_star("hard_tanh", sw, sb), 12)
(1.0, 0.25)
>>> jacobian_moments("relu", 10, weights="orthogonal", sigma_w2=2.0, sigma_b2=0.0)
(1.0, 10.0)
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import integrate, optimize

from degeneracy.errors import ArgumentValueError
from degeneracy.validation import check_choice, check_positive_int, check_real

from .activations import ACTIVATIONS
from .activations import activation as _activation
from .free_law import FreeProductLaw
from .s_transform import STransform

__all__ = [
    "WEIGHTS",
    "length_variance",
    "q_map",
    "q_trajectory",
    "q_star",
    "mu",
    "chi",
    "critical_point",
    "s1_weights",
    "normalized_variance",
    "jacobian_moments",
    "d2_s_transform",
    "jacobian_s_transform",
    "jacobian_spectrum",
    "max_eigenvalue",
]

WEIGHTS = ("gaussian", "orthogonal")
CLOSED_FORM = ("linear", "relu", "hard_tanh", "erf")


def _act(name: str) -> str:
    return check_choice("activation", name, ACTIVATIONS)


def _q(q, name="q") -> float:
    return check_real(name, q, lo=0.0)


def _gauss_expect(f, q: float) -> float:
    """``E[f(sqrt(q) z)]`` by adaptive quadrature over ``h`` (f even or not)."""
    if q == 0:
        return float(f(np.array(0.0)))
    s = math.sqrt(q)

    def g(h):
        return float(f(np.array(h))) * math.exp(-h * h / (2 * q)) / math.sqrt(2 * math.pi * q)

    pts = sorted({-1.0, 0.0, 1.0} | ({-s, s} if s < 40 else set()))
    lim = 40 * s
    val = 0.0
    edges = [-lim] + [p for p in pts if -lim < p < lim] + [lim]
    for a, b in zip(edges[:-1], edges[1:]):
        val += integrate.quad(g, a, b, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
    return val


def length_variance(activation: str, q) -> float:
    """``V(q) = E[phi(sqrt(q) z)^2]``, ``z ~ N(0,1)`` (closed forms in the module table).

    >>> round(length_variance("erf", 0.5), 12) == round(2 / math.pi * math.asin(0.5), 12)
    True
    """
    activation = _act(activation)
    q = _q(q)
    if activation == "linear":
        return q
    if activation == "relu":
        return q / 2
    if activation == "hard_tanh":
        if q == 0:
            return 0.0
        a = 1 / math.sqrt(2 * q)
        return q * math.erf(a) - math.sqrt(2 * q / math.pi) * math.exp(-1 / (2 * q)) + math.erfc(a)
    if activation == "erf":
        return 2 / math.pi * math.asin(2 * q / (1 + 2 * q))
    return _gauss_expect(lambda h: np.tanh(h) ** 2, q)


def mu(activation: str, q, k: int = 1) -> float:
    """``mu_k(q) = E[phi'(sqrt(q) z)^{2k}]`` (Pennington et al. 2017, eq. 13).

    >>> mu("relu", 3.0, 2), round(mu("erf", 0.25, 1), 12) == round(4 / math.pi / math.sqrt(2), 12)
    (0.5, True)
    """
    activation = _act(activation)
    q = _q(q)
    k = check_positive_int("k", k)
    if activation == "linear":
        return 1.0
    if activation == "relu":
        return 0.5
    if activation == "hard_tanh":
        return 1.0 if q == 0 else math.erf(1 / math.sqrt(2 * q))
    if activation == "erf":
        return (4 / math.pi) ** k / math.sqrt(1 + 4 * k * q)
    return _gauss_expect(lambda h: np.cosh(h) ** (-4.0 * k), q)


def _sigmas(sigma_w2, sigma_b2) -> tuple[float, float]:
    return (check_real("sigma_w2", sigma_w2, lo=0.0, lo_open=True), check_real("sigma_b2", sigma_b2, lo=0.0))


def q_map(activation: str, q, sigma_w2, sigma_b2) -> float:
    """One step of the length map ``sigma_w^2 V(q) + sigma_b^2``."""
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    return sw * length_variance(activation, q) + sb


def q_trajectory(activation: str, q0, depth: int, sigma_w2, sigma_b2) -> np.ndarray:
    """``[q^1, ..., q^L]`` from ``q^1 = sigma_w^2 q0_x + sigma_b^2`` where ``q0`` is the input
    second moment ``|x^0|^2 / N`` (so ``h^1`` has variance ``q^1``)."""
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    depth = check_positive_int("depth", depth)
    q = sw * _q(q0, "q0") + sb
    out = [q]
    for _ in range(depth - 1):
        q = q_map(activation, q, sw, sb)
        out.append(q)
    return np.array(out)


def q_star(activation: str, sigma_w2, sigma_b2, *, q0: float | None = None) -> float:
    """Stable fixed point ``q*`` of the length map.

    Linear: ``sigma_b^2 / (1 - sigma_w^2)`` (``sigma_w^2 < 1``); ReLU: ``sigma_b^2 / (1 - sigma_w^2/2)``
    (``sigma_w^2 < 2``). At the marginal points (linear ``sigma_w^2 = 1``, ReLU ``2``, with
    ``sigma_b = 0``) every q is fixed: pass ``q0`` (returned as is). Bounded activations: the
    largest root of ``sigma_w^2 V(q) + sigma_b^2 - q`` (unique for ``sigma_b > 0``; ``0`` is the
    stable point when ``sigma_b = 0`` and ``sigma_w^2 V'(0) <= 1``), by Brent's method.

    >>> q_star("relu", 1.0, 0.5)
    1.0
    >>> q_star("relu", 2.0, 0.0, q0=0.7)
    0.7
    """
    activation = _act(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    slope = {"linear": 1.0, "relu": 0.5}.get(activation)
    if slope is not None:
        if sw * slope < 1:
            return sb / (1 - sw * slope)
        if sw * slope == 1 and sb == 0:
            if q0 is None:
                raise ArgumentValueError(f"every q is a fixed point for {activation} at sigma_w2={sw}, sigma_b2=0: pass q0=")
            return _q(q0, "q0")
        raise ArgumentValueError(
            f"{activation} has no finite fixed point for sigma_w2={sw} (needs sigma_w2 < {1 / slope:g}, "
            f"or = {1 / slope:g} with sigma_b2 = 0)")
    g = lambda q: sw * length_variance(activation, q) + sb - q  # noqa: E731
    hi = sw * 1.0 + sb + 1.0  # bounded activations: V <= 1
    if sb == 0:
        # q = 0 is a root; look for a positive one
        v0 = sw * mu(activation, 0.0)  # V'(0) = phi'(0)^2 = mu_1(0)
        if v0 <= 1:
            return 0.0
        lo = 1e-12
        while g(lo) <= 0 and lo < hi:
            lo *= 10
        return optimize.brentq(g, lo, hi, xtol=1e-15, rtol=1e-15)
    return optimize.brentq(g, 0.0, hi, xtol=1e-15, rtol=1e-15)


def _q_for_derivatives(activation: str, sw: float, sb: float, q0) -> float:
    """q* where it matters; linear and ReLU derivatives do not depend on q (any q > 0 will do,
    so their Jacobian moments exist even off the fixed-point region)."""
    if _act(activation) in ("linear", "relu"):
        return 1.0
    return q_star(activation, sw, sb, q0=q0)


def chi(activation: str, sigma_w2, sigma_b2, *, q0: float | None = None) -> float:
    """``chi = sigma_w^2 mu_1(q*)``: the mean squared singular value of one layer's Jacobian.

    >>> chi("relu", 2.0, 0.0)
    1.0
    """
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    return sw * mu(activation, _q_for_derivatives(activation, sw, sb, q0), 1)


def critical_point(activation: str, q_star: float) -> tuple[float, float]:
    """``(sigma_w^2, sigma_b^2)`` on the critical line ``chi = 1`` with fixed point ``q_star``.

    ``sigma_w^2 = 1 / mu_1(q*)`` and ``sigma_b^2 = q* - sigma_w^2 V(q*)``. Closed forms:
    linear ``(1, 0)``; ReLU ``(2, 0)`` for every q*; hard-tanh
    ``(1/erf(a), q* - V(q*)/erf(a))``, ``a = 1/sqrt(2 q*)``; erf
    ``(pi sqrt(1 + 4q*)/4, q* - sqrt(1 + 4q*) arcsin(2q*/(1 + 2q*)) / 2)``; tanh by quadrature.
    Linear and ReLU accept only ``q_star`` with ``sigma_b = 0`` consistent (any q* > 0).

    >>> critical_point("relu", 0.3)
    (2.0, 0.0)
    """
    activation = _act(activation)
    q = check_real("q_star", q_star, lo=0.0, lo_open=True)
    if activation == "linear":
        return (1.0, 0.0)
    if activation == "relu":
        return (2.0, 0.0)
    sw = 1.0 / mu(activation, q, 1)
    sb = q - sw * length_variance(activation, q)
    if sb < 0:
        if sb > -1e-13 * q:
            sb = 0.0
        else:
            raise ArgumentValueError(f"no critical point with q_star={q} for {activation} (would need sigma_b2={sb:.3g} < 0)")
    return (sw, sb)


def s1_weights(weights: str) -> int:
    """``s_1`` of ``S_{WW^T} = sigma_w^{-2}(1 + s_1 z + ...)``: -1 Gaussian, 0 orthogonal."""
    return {"gaussian": -1, "orthogonal": 0}[check_choice("weights", weights, WEIGHTS)]


def normalized_variance(activation: str, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None) -> float:
    """``Var / mean^2`` of the spectrum of ``J J^T``: ``L (mu_2 / mu_1^2 - 1 - s_1)``.

    Derivation: ``psi(z) = m_1 z + m_2 z^2 + ...`` inverts to ``chi(y) = y/m_1 - m_2 y^2/m_1^3 + ...``
    so ``S(y) = (1/m_1)(1 + (1 - m_2/m_1^2) y + O(y^2))``: the normalized variance is minus the
    linear coefficient of ``S / S(0)``, i.e. ``-(log S)'(0)``, which adds over free factors.
    ``D^2`` contributes ``mu_2/mu_1^2 - 1``, ``W W^T`` contributes ``-s_1``.

    >>> normalized_variance("linear", 5, weights="gaussian", sigma_w2=1.0, sigma_b2=0.0)
    5.0
    """
    depth = check_positive_int("depth", depth)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    q = _q_for_derivatives(activation, sw, sb, q0)
    m1, m2 = mu(activation, q, 1), mu(activation, q, 2)
    return depth * (m2 / m1**2 - 1 - s1_weights(weights))


def jacobian_moments(activation: str, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None) -> tuple[float, float]:
    """``(mean, variance)`` of the eigenvalues of ``J J^T`` in the wide limit (inputs at q*).

    ``mean = chi^L``, ``variance = mean^2 L (mu_2/mu_1^2 - 1 - s_1)`` (Pennington et al. 2017,
    eqs. 16-17; docs/formulas.md §4).

    >>> m, v = jacobian_moments("hard_tanh", 4, weights="orthogonal", sigma_w2=1.25, sigma_b2=0.1)
    >>> round(m, 6), round(v, 6)
    (0.975526, 0.981218)
    """
    depth = check_positive_int("depth", depth)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    c = chi(activation, sw, sb, q0=q0)
    mean = c**depth
    return (mean, mean**2 * normalized_variance(activation, depth, weights=weights, sigma_w2=sw, sigma_b2=sb, q0=q0))


@lru_cache(maxsize=256)
def _d2_gauss_rule(activation: str, q: float, atoms: int) -> tuple[tuple, tuple]:
    """A ``atoms``-point Gauss rule for the law of ``t = phi'(sqrt(q) z)^2`` (Lanczos /
    discretized Stieltjes on a 4000-point Gauss-Legendre discretization of ``|h|``): it
    matches the moments ``mu_1..mu_{2 atoms - 1}`` to the base quadrature's accuracy."""
    _, dphi = _activation(activation)
    x, w = np.polynomial.legendre.leggauss(100)
    panels = np.linspace(0.0, 12.0, 41)
    z = np.concatenate([0.5 * (b - a) * x + 0.5 * (a + b) for a, b in zip(panels[:-1], panels[1:])])
    wz = np.concatenate([0.5 * (b - a) * w for a, b in zip(panels[:-1], panels[1:])])
    wz = wz * 2 * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    t = dphi(math.sqrt(q) * z) ** 2
    # Lanczos with full reorthogonalization on diag(t) with weights wz
    n = atoms
    V = np.zeros((n, z.size))
    v = np.sqrt(wz)
    v /= np.linalg.norm(v)
    alpha, beta = np.zeros(n), np.zeros(n)
    for j in range(n):
        V[j] = v
        wv = t * v
        alpha[j] = wv @ v
        wv -= alpha[j] * v + (beta[j - 1] * V[j - 1] if j else 0)
        wv -= V[: j + 1].T @ (V[: j + 1] @ wv)
        if j < n - 1:
            beta[j] = np.linalg.norm(wv)
            v = wv / beta[j]
    T = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    nodes, vecs = np.linalg.eigh(T)
    weights = vecs[0] ** 2
    nodes = np.clip(nodes, 0.0, None)
    return tuple(float(a) for a in nodes), tuple(float(b) for b in weights / weights.sum())


def d2_s_transform(activation: str, q, *, atoms: int = 16) -> STransform:
    """S-transform of the law of ``D^2 = phi'(h)^2``, ``h ~ N(0, q)``.

    Exact for linear (identity), ReLU (Bernoulli(1/2)) and hard-tanh (Bernoulli(erf(1/sqrt(2q))));
    for erf and tanh, the ``atoms``-point Gauss quadrature of the law (its first ``2 atoms - 1``
    moments are exact up to quadrature error ~1e-13; densities built from it converge weakly).
    """
    activation = _act(activation)
    q = _q(q)
    if activation == "linear":
        return STransform.orthogonal()
    if activation == "relu":
        return STransform.bernoulli(0.5)
    if activation == "hard_tanh":
        p = mu("hard_tanh", q)
        return STransform.orthogonal() if p == 1.0 else STransform.bernoulli(p)
    atoms = check_positive_int("atoms", atoms)
    v, w = _d2_gauss_rule(activation, float(q), atoms)
    return STransform.discrete(v, w)


def jacobian_s_transform(activation: str, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None,
                         atoms: int = 16) -> STransform:
    """``S_{JJ^T} = (S_{WW^T} S_{D^2})^L`` (Pennington et al. 2017, eq. 12)."""
    depth = check_positive_int("depth", depth)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    weights = check_choice("weights", weights, WEIGHTS)
    q = _q_for_derivatives(activation, sw, sb, q0)
    sW = STransform.wishart(1, variance=sw) if weights == "gaussian" else STransform.orthogonal(math.sqrt(sw))
    return (sW * d2_s_transform(activation, q, atoms=atoms)) ** depth


def jacobian_spectrum(activation: str, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None,
                      atoms: int = 16) -> FreeProductLaw:
    """The wide-limit law of the eigenvalues of ``J J^T`` as a distribution object.

    ``law.support()[1]`` is the largest eigenvalue (support edge, from the critical points of
    ``x(m)``); ``law.atoms`` the atoms (ReLU: mass 1/2 at 0; hard-tanh: ``1 - p`` at 0 and, with
    orthogonal weights and ``L (1 - p) < 1``, mass ``1 - L(1 - p)`` at ``sigma_w^{2L}``).

    >>> law = jacobian_spectrum("linear", 2, weights="gaussian", sigma_w2=1.0, sigma_b2=0.0, q0=1.0)
    >>> round(law.support()[1], 10)
    6.75
    """
    return jacobian_s_transform(activation, depth, weights=weights, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                q0=q0, atoms=atoms).law()


def max_eigenvalue(activation: str, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None) -> float:
    """Largest eigenvalue of ``J J^T`` in the wide limit (right end of the support)."""
    return jacobian_spectrum(activation, depth, weights=weights, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                             q0=q0).support()[1]
