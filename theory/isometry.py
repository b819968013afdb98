"""Jacobian spectra of deep random networks (dynamical isometry), for any activation.

Source: Pennington, Schoenholz & Ganguli, *Resurrecting the sigmoid in deep learning through
dynamical isometry*, NeurIPS 2017 (section 2 and Table 1), and *The emergence of spectral
universality in deep networks*, AISTATS 2018; docs/formulas.md §4. The mean field (``q*``,
``chi``, the critical line, the correlation map) lives in :mod:`degeneracy.theory.meanfield`.

Network (width ``N -> inf``): ``h^l = W^l x^{l-1} + b^l``, ``x^l = phi(h^l)``, with
``W ~ N(0, sigma_w^2 / N)`` (``weights="gaussian"``) or ``sigma_w`` times a Haar orthogonal
matrix (``weights="orthogonal"``), ``b ~ N(0, sigma_b^2)``, inputs at the fixed point ``q*``.

* Jacobian ``J = prod_l D_l W_l``, ``D_l = diag phi'(h^l)``:
  ``S_{JJ^T} = (S_{WW^T} S_{D^2})^L`` (their eq. 12; the D's and W's asymptotically free);
* ``D^2`` has the law of ``phi'(h)^2``, ``h ~ N(0, q*)`` (:func:`derivative_law`): atoms for
  piecewise-linear activations (ReLU: Bernoulli(1/2); hard-tanh: Bernoulli(erf(1/sqrt(2q*)));
  leaky ReLU: two atoms), a **continuous law** for smooth ones (tanh, erf, sigmoid, softplus,
  GELU, swish, and the ``h < 0`` half of ELU/SELU), integrated exactly up to the real axis by
  :mod:`degeneracy.theory.pushforward_law` (no discretization into atoms);
* mean of the spectrum of ``J J^T``: ``chi^L``; normalized variance (derived in
  :func:`normalized_variance`, checked symbolically in ``proofs/isometry.py``)
  ``Var / mean^2 = L (mu_2 / mu_1^2 - 1 - s_1)``, ``S_{WW^T}(z) = sigma_w^{-2} (1 + s_1 z + ...)``,
  ``s_1 = -1`` (Gaussian) and ``0`` (orthogonal). This agrees with docs/formulas.md §4.

**erf scaling**: the toolkit uses plain ``erf(h)`` (``phi'(0) = 2/sqrt(pi)``), not a rescaled
``erf(sqrt(pi) h / 2)``; every formula is derived for plain erf and checked by quadrature.

Large depth: moments, edges and densities are computed in log space. ``jacobian_moments(...,
log=True)`` returns ``(log mean, log variance)``; ``jacobian_spectrum(..., normalized=True)`` is the
law of ``lambda / chi^L`` (mean 1), whose density of ``log x`` (``logpdf_logx``) and edges stay in
range at depth ``10^4``; values that overflow a float raise
:class:`~degeneracy.errors.NumericalFailure` naming the log-space alternative.

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
from scipy import special

from degeneracy.errors import ArgumentValueError, NumericalFailure
from degeneracy.validation import check_choice, check_positive_int, check_real

from .activations import Activation, as_activation
from .free_law import FreeProductLaw

# the mean field lives in theory.meanfield; its names used next to the spectra are also reachable here
from .meanfield import (  # noqa: F401
    _q_for_derivatives,
    _sigmas,
    chi,
    critical_point,
    length_variance,
    mu,
    q_map,
    q_star,
    q_trajectory,
)
from .pushforward_law import gaussian_pushforward
from .s_transform import STransform

__all__ = [
    "WEIGHTS",
    "s1_weights",
    "normalized_variance",
    "jacobian_moments",
    "derivative_law",
    "jacobian_s_transform",
    "jacobian_spectrum",
    "max_eigenvalue",
]

WEIGHTS = ("gaussian", "orthogonal")
#: ``log`` of the largest float: moments beyond it are returned in log space only
_LOG_MAX = math.log(np.finfo(float).max)
_LOG_MIN = math.log(np.finfo(float).tiny)  # below it a double is subnormal or 0.0


def s1_weights(weights: str) -> int:
    """``s_1`` of ``S_{WW^T} = sigma_w^{-2}(1 + s_1 z + ...)``: -1 Gaussian, 0 orthogonal."""
    return {"gaussian": -1, "orthogonal": 0}[check_choice("weights", weights, WEIGHTS)]


def _depth(depth) -> int:
    return check_positive_int("depth", depth)


def normalized_variance(activation, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None) -> float:
    """``Var / mean^2`` of the spectrum of ``J J^T``: ``L (mu_2 / mu_1^2 - 1 - s_1)``.

    Derivation: ``psi(z) = m_1 z + m_2 z^2 + ...`` inverts to ``chi(y) = y/m_1 - m_2 y^2/m_1^3 + ...``
    so ``S(y) = (1/m_1)(1 + (1 - m_2/m_1^2) y + O(y^2))``: the normalized variance is minus the
    linear coefficient of ``S / S(0)``, i.e. ``-(log S)'(0)``, which adds over free factors.
    ``D^2`` contributes ``mu_2/mu_1^2 - 1``, ``W W^T`` contributes ``-s_1``.

    >>> normalized_variance("linear", 5, weights="gaussian", sigma_w2=1.0, sigma_b2=0.0)
    5.0
    """
    depth = _depth(depth)
    act = as_activation(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    s1 = s1_weights(weights)
    q = _q_for_derivatives(act, sw, sb, q0)
    m1, m2 = mu(act, q, 1), mu(act, q, 2)
    return depth * (m2 / m1**2 - 1 - s1)


def jacobian_moments(activation, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None,
                     log: bool = False) -> tuple[float, float]:
    """``(mean, variance)`` of the eigenvalues of ``J J^T`` in the wide limit (inputs at q*).

    ``mean = chi^L``, ``variance = mean^2 L (mu_2/mu_1^2 - 1 - s_1)`` (Pennington et al. 2017,
    eqs. 16-17; docs/formulas.md §4). With ``log=True``: ``(log mean, log variance)`` (``-inf``
    for a zero variance), finite at any depth; without it, a mean or variance beyond the float
    range (overflow, or underflow below the smallest normal double: a variance of 0.0 would be
    wrong) raises :class:`~degeneracy.errors.NumericalFailure`.

    >>> m, v = jacobian_moments("hard_tanh", 4, weights="orthogonal", sigma_w2=1.25, sigma_b2=0.1)
    >>> round(m, 6), round(v, 6)
    (0.975526, 0.981218)
    >>> jacobian_moments("relu", 2000, weights="gaussian", sigma_w2=3.0, sigma_b2=0.0, log=True)[0] == 2000 * math.log(1.5)
    True
    """
    depth = _depth(depth)
    act = as_activation(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    c = chi(act, sw, sb, q0=q0)
    if c <= 0:
        raise ArgumentValueError(f"chi = {c} for {act.name}: the Jacobian vanishes (phi' = 0 almost surely)")
    nv = normalized_variance(act, depth, weights=weights, sigma_w2=sw, sigma_b2=sb, q0=q0)
    log_mean = depth * math.log(c)
    log_var = 2 * log_mean + math.log(nv) if nv > 0 else -math.inf
    if log:
        return (log_mean, log_var)
    if max(log_mean, log_var) > _LOG_MAX:
        raise NumericalFailure(f"the Jacobian moments of {act.name} at depth {depth} overflow a float "
                               f"(log mean = {log_mean:.6g}): pass log=True")
    if min(log_mean, log_var if nv > 0 else log_mean) < _LOG_MIN:
        raise NumericalFailure(f"the Jacobian moments of {act.name} at depth {depth} underflow a float "
                               f"(log mean = {log_mean:.6g}, log variance = {log_var:.6g}): pass log=True")
    mean = math.exp(log_mean)
    return (mean, mean**2 * nv)


def _normal_mass(lo: float, hi: float, s: float) -> float:
    """``P(lo < h < hi)``, ``h ~ N(0, s^2)``, from the nearer tail (accurate for tiny masses)."""
    if lo >= 0:
        return float(special.ndtr(-lo / s) - special.ndtr(-hi / s))
    if hi <= 0:
        return float(special.ndtr(hi / s) - special.ndtr(lo / s))
    return float(1.0 - special.ndtr(lo / s) - special.ndtr(-hi / s))


@lru_cache(maxsize=128)
def _derivative_law(act: Activation, q: float):
    """The law of ``phi'(h)^2``, ``h ~ N(0, q)``: an STransform factor (cached per activation and q)."""
    if act.atoms_only:
        s = math.sqrt(q)
        masses: dict = {}
        for lo, hi, _, val in act.pieces:
            mass = _normal_mass(lo, hi, s) if q > 0 else float(lo < 0 < hi)
            if mass > 0:
                masses[float(val) ** 2] = masses.get(float(val) ** 2, 0.0) + mass
        if len(masses) == 1:
            (v,) = masses
            return STransform.scale(v) if v != 1.0 else STransform.orthogonal()
        if set(masses) == {0.0, 1.0}:
            # 1 - p = mass of the zero pieces, from the Gaussian tails: no cancellation near p = 1
            return STransform.bernoulli(complement=masses[0.0])
        vals = sorted(masses)
        return STransform.discrete(vals, [masses[v] / sum(masses.values()) for v in vals])
    if any(p[2] == "real" for p in act.pieces):
        raise ArgumentValueError(f"activation {act.name!r}: the Jacobian spectrum needs phi' at complex arguments; pass "
                                 "a phi' that accepts complex numpy arrays, a sympy expression, or an Activation with "
                                 "its second and third derivatives")
    smooth = [p for p in act.pieces if p[2] == "smooth"]
    consts = [p for p in act.pieces if p[2] == "const"]
    sq = math.sqrt(q)
    if len(smooth) != 1:
        raise ArgumentValueError(f"activation {act.name!r}: phi' must be analytic on one interval (whole line or half line)")
    lo, hi, kind, _ = smooth[0]
    d1, d2, d3, logd = act.dphi, act.d2phi, act.d3phi, act.logdphi
    atoms = [(float(val) ** 2, _normal_mass(clo, chi_, sq)) for clo, chi_, _, val in consts]
    if math.isinf(lo) and math.isinf(hi):
        law = gaussian_pushforward(d1, d2, d3, q=q, strip=act.strip, even=act.even, key=(act.key, q), logdphi=logd)
    elif math.isinf(lo):
        law = gaussian_pushforward(d1, d2, d3, q=q, strip=act.strip, half_line=(hi, -1), atoms=atoms, key=(act.key, q),
                                   logdphi=logd)
    elif math.isinf(hi):
        law = gaussian_pushforward(d1, d2, d3, q=q, strip=act.strip, half_line=(lo, 1), atoms=atoms, key=(act.key, q),
                                   logdphi=logd)
    else:
        raise ArgumentValueError(f"activation {act.name!r}: a bounded analytic piece of phi' is not supported")
    return STransform.from_law(law)


def derivative_law(activation, q) -> STransform:
    """S-transform of the law of ``D^2 = phi'(h)^2``, ``h ~ N(0, q)``.

    Atoms for piecewise-constant ``phi'`` (linear: the identity; ReLU: Bernoulli(1/2);
    hard-tanh: Bernoulli(erf(1/sqrt(2q))); leaky ReLU: two atoms); otherwise the continuous
    (or mixed) :class:`~degeneracy.theory.pushforward_law.PushforwardLaw`, whose transforms are
    exact up to the real axis (no discretization).

    >>> S = derivative_law("tanh", 0.5)
    >>> [round(float(m), 12) for m in S.numeric_moments(2)] == [round(mu("tanh", 0.5, k), 12) for k in (1, 2)]
    True
    """
    act = as_activation(activation)
    q = check_real("q", q, lo=0.0, lo_open=not act.atoms_only)
    return _derivative_law(act, float(q))


def _weights_factor(weights: str, sw: float) -> STransform:
    weights = check_choice("weights", weights, WEIGHTS)
    return STransform.wishart(1, variance=sw) if weights == "gaussian" else STransform.orthogonal(variance=sw)


def jacobian_s_transform(activation, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None,
                         normalized: bool = False) -> STransform:
    """``S_{JJ^T} = (S_{WW^T} S_{D^2})^L`` (Pennington et al. 2017, eq. 12); with ``normalized``,
    the law of ``lambda / chi^L`` (each layer divided by ``chi``: mean 1 at every depth)."""
    depth = _depth(depth)
    act = as_activation(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    q = _q_for_derivatives(act, sw, sb, q0)
    layer = _weights_factor(weights, sw) * derivative_law(act, q)
    if normalized:
        layer = layer * STransform.scale(1.0 / chi(act, sw, sb, q0=q0))
    return layer**depth


def jacobian_spectrum(activation, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None,
                      normalized: bool = False) -> FreeProductLaw:
    """The wide-limit law of the eigenvalues of ``J J^T`` as a certified distribution object.

    ``law.support()[1]`` is the largest eigenvalue (support edge, from the critical points of
    ``x(m)``); ``law.atoms`` the atoms (ReLU: mass 1/2 at 0; hard-tanh: ``1 - p`` at 0 and, with
    orthogonal weights and ``L (1 - p) < 1``, mass ``1 - L(1 - p)`` at ``sigma_w^{2L}``).
    ``normalized=True`` gives the law of ``lambda / chi^L`` (use it where ``chi^L`` overflows).

    >>> law = jacobian_spectrum("linear", 2, weights="gaussian", sigma_w2=1.0, sigma_b2=0.0, q0=1.0)
    >>> round(law.support()[1], 10)
    6.75
    """
    return jacobian_s_transform(activation, depth, weights=weights, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                q0=q0, normalized=normalized).law()


def max_eigenvalue(activation, depth: int, *, weights: str, sigma_w2, sigma_b2, q0=None, log: bool = False) -> float:
    """Largest eigenvalue of ``J J^T`` in the wide limit (right end of the support); with
    ``log=True`` its logarithm, computed from the normalized law (finite at any depth)."""
    depth = _depth(depth)
    act = as_activation(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    law = jacobian_spectrum(act, depth, weights=weights, sigma_w2=sw, sigma_b2=sb, q0=q0, normalized=True)
    log_edge = math.log(law.support()[1]) + depth * math.log(chi(act, sw, sb, q0=q0))
    if log:
        return log_edge
    if log_edge > _LOG_MAX:
        raise NumericalFailure(f"the largest eigenvalue at depth {depth} overflows a float (log = {log_edge:.6g}): "
                               "pass log=True")
    return math.exp(log_edge)
