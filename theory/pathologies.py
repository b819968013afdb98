"""Pathologies of deep random networks (Duvenaud, Rippel, Adams & Ghahramani, AISTATS 2014).

Three exact results and the corrections they need:

1. **1-D derivative law.** The derivative of a one-dimensional deep GP (squared-exp kernel with
   signal variance ``sigma^2`` and lengthscale ``ell``) is a product of independent
   ``N(0, s2)`` factors, ``s2 = sigma^2 / ell^2``. So ``log|f'|`` is a sum of ``L`` i.i.d. terms
   with, per layer,

       E log|g|   = (1/2) [log(2 s2) + psi(1/2)] = (1/2) log s2 - (gamma + log 2)/2,
       Var log|g| = psi'(1/2) / 4 = pi^2 / 8        (for every s2),

   hence ``log|f'_{1:L}| ~ N(L m, L pi^2/8)`` as ``L -> inf``.
   The paper (Sec. 3, eqs. after "The log of the magnitude of the derivatives has moments",
   AISTATS 2014; same text in the thesis version, latex-updated/deep-limits.tex of
   github.com/duvenaud/deep-limits) prints

       m_log = 2 log(sigma/ell) - log 2 - gamma,
       v_log = pi^2/4 + log^2 2 / 2 - gamma^2 - gamma log 4
               + 2 log(sigma/ell) [gamma + log 2 - log(sigma/ell)],
       log|f'_{1:L}| -> N(L m_log, L^2 v_log).

   What is wrong: (a) ``m_log`` is the mean of ``log f'^2``, twice the mean of ``log|f'|``;
   (b) ``v_log`` is not the variance of ``log|g|`` (which is ``pi^2/8`` whatever the scale, because
   ``log|g| = log sqrt(s2) + log|z|``) nor of ``log g^2`` (``pi^2/2``); it depends on the kernel
   scale and is a concave quadratic in ``log(sigma/ell)`` that is *negative* for
   ``sigma/ell > 5.62`` or ``< 0.634``, so it cannot be a variance; (c) the limit variance of a
   sum of ``L`` i.i.d. terms is ``L * Var``, not ``L^2 * Var``.
   The condition keeping ``E|f'_{1:L}| = (E|g|)^L`` constant is ``E|g| = sqrt(2 s2/pi) = 1``,
   i.e. ``sigma^2/ell^2 = pi/2`` (printed correctly); then ``E log|f'| = (L/2)(log(pi/4) - gamma)
   < 0``: the typical derivative still goes to 0 while its mean stays 1.

2. **Deep kernels.** Composing the unit-variance squared-exp feature map gives
   ``k_{l+1} = exp(k_l - 1)`` (any base kernel with ``k(x,x) = 1``), converging to the constant
   kernel 1 *algebraically*: ``1/(1 - k_l) = l/2 + (1/6) log l + C + o(1)``. With the input
   connected to every layer, ``k_{l+1} = exp(k_l - 1 - r^2/2)`` (``r = ||x - x'||``), whose
   fixed point solves ``k - log k = 1 + r^2/2``. The paper says this "has no closed form"; it
   does: ``k* = -W_0(-exp(-1 - r^2/2))`` (principal Lambert-W branch; the ``W_{-1}`` branch gives
   the root ``k > 1``, which is not a correlation). Convergence is geometric with ratio
   ``F'(k*) = k*``.

3. **Jacobians.** The Jacobian of a deep GP with a product kernel is a product of independent
   Gaussian ``D x D`` matrices (their Thm 3.1), so ``(1/L) log(s_i/s_1) -> mu_i - mu_1`` with the
   exact real-Gaussian Lyapunov exponents (Newman 1986)
   ``mu_i = (1/2)[log(2 s2) + psi((D - i + 1)/2)]``; for ``D = 5``,
   ``mu_2 - mu_1 = (psi(2) - psi(5/2))/2 = -0.1402``. With the input connected,
   ``J_L = A_L [J_{L-1}; I] = A'_L J_{L-1} + A''_L`` is a random affine recursion: its singular
   values grow with exponents ``max(mu_i, 0)`` (the additive term keeps contracting directions at
   ``O(1)``). Hence ``s_2/s_1`` has a non-degenerate depth-independent limit law iff
   ``mu_1 < 0``, i.e. ``s2 < exp(-psi(D/2))/2`` (0.2475 for D = 5); above that threshold it
   decays like ``exp(L [max(mu_2,0) - mu_1])``. Duvenaud et al.'s own script
   (``deep_singular_value_dist.m``) draws unit-variance entries, ``mu_1 = 0.698 > 0`` for D = 5,
   where the input connection does *not* stop ``s_2/s_1`` from collapsing at the standard rate
   ``-0.1402`` per layer.

Examples
--------
>>> m, v = log_abs_gaussian_moments(1.0)
>>> round(m, 6), round(v, 6)
(-0.635181, 1.233701)
>>> round(connected_kernel_fixed_point(1.0), 6)
0.30171
"""

from __future__ import annotations

import math
from typing import Sequence

import mpmath as mp
import numpy as np
from scipy import special

from degeneracy.errors import ArgumentValueError, CertificationError
from degeneracy.validation import check_finite_array, check_positive_int, check_real

__all__ = [
    "EULER_GAMMA",
    "log_abs_gaussian_moments",
    "log_derivative_law",
    "duvenaud_printed_moments",
    "duvenaud_printed_limit",
    "printed_variance_negative_range",
    "constant_derivative_variance",
    "expected_abs_derivative",
    "deep_se_kernel",
    "connected_se_kernel",
    "connected_kernel_fixed_point",
    "connected_kernel_rate",
    "deep_kernel_gap_asymptotic",
    "real_lyapunov_exponents",
    "normalized_spectrum_rate",
    "connected_jacobian_exponents",
    "connected_normalized_spectrum_rate",
    "connected_stability_threshold",
    "connected_jacobian",
]

EULER_GAMMA = float(mp.euler)


# --------------------------------------------------------------------------------------------
# 1. The 1-D derivative law


def log_abs_gaussian_moments(variance: float = 1.0) -> tuple[float, float]:
    """Mean and variance of ``log|g|`` for ``g ~ N(0, variance)``.

    ``E log|g| = (1/2)[log(2 variance) + psi(1/2)] = (1/2) log variance - (gamma + log 2)/2`` and
    ``Var log|g| = psi'(1/2)/4 = pi^2/8`` (``|g|^2/variance`` is chi-square with one degree of
    freedom; ``E log chi^2_1 = psi(1/2) + log 2``, ``Var log chi^2_1 = psi'(1/2) = pi^2/2``).
    Verified symbolically in ``proofs/pathologies.py``.

    >>> m, v = log_abs_gaussian_moments(math.pi / 2)
    >>> round(m, 6), v == math.pi ** 2 / 8
    (-0.40939, True)
    """
    variance = check_real("variance", variance, lo=0.0, lo_open=True)
    mean = 0.5 * math.log(variance) - 0.5 * (EULER_GAMMA + math.log(2.0))
    return mean, math.pi**2 / 8


def log_derivative_law(depth: int, variance: float = 1.0) -> tuple[float, float]:
    """Exact mean and variance of ``log|f'_{1:L}|`` for a depth-``L`` 1-D deep GP.

    ``log|f'_{1:L}| = sum_l log|g_l|`` with i.i.d. ``g_l ~ N(0, variance)``,
    ``variance = sigma^2/ell^2``: mean ``L * m``, variance ``L * pi^2/8`` (exact at every ``L``;
    normal as ``L -> inf`` by the CLT). Corrects Duvenaud et al. (2014), Sec. 3, whose printed
    limit is ``N(L m_log, L^2 v_log)`` (see :func:`duvenaud_printed_limit`).

    >>> m, v = log_derivative_law(10)
    >>> round(m, 5), round(v, 5)
    (-6.35181, 12.33701)
    """
    depth = check_positive_int("depth", depth)
    m, v = log_abs_gaussian_moments(variance)
    return depth * m, depth * v


def duvenaud_printed_moments(scale_ratio: float) -> tuple[float, float]:
    """The per-layer ``(m_log, v_log)`` exactly as printed by Duvenaud et al. (2014), Sec. 3.

    ``scale_ratio = sigma_f / ell``. ``m_log = 2 log(sigma/ell) - log 2 - gamma`` (this is
    ``E log f'^2``, not ``E log|f'|``) and ``v_log = pi^2/4 + log^2(2)/2 - gamma^2 - gamma log 4
    + 2 log(sigma/ell)[gamma + log 2 - log(sigma/ell)]`` (not a variance: it depends on the scale
    and is negative outside :func:`printed_variance_negative_range`). Kept to show, with numbers,
    that the printed law disagrees with simulation.

    >>> m, v = duvenaud_printed_moments(1.0)
    >>> round(m, 6), round(v, 6)
    (-1.270363, 1.574259)
    """
    s = check_real("scale_ratio", scale_ratio, lo=0.0, lo_open=True)
    a = math.log(s)
    g, l2 = EULER_GAMMA, math.log(2.0)
    m = 2 * a - l2 - g
    v = math.pi**2 / 4 + l2**2 / 2 - g**2 - g * math.log(4.0) + 2 * a * (g + l2 - a)
    return m, v


def duvenaud_printed_limit(depth: int, scale_ratio: float) -> tuple[float, float]:
    """The printed limit law ``N(L m_log, L^2 v_log)`` (Duvenaud et al. 2014, Sec. 3): (mean, var).

    >>> duvenaud_printed_limit(2, 1.0)[1] == 4 * duvenaud_printed_moments(1.0)[1]
    True
    """
    depth = check_positive_int("depth", depth)
    m, v = duvenaud_printed_moments(scale_ratio)
    return depth * m, depth**2 * v


def printed_variance_negative_range() -> tuple[float, float]:
    """``(lo, hi)``: the printed ``v_log`` is negative for ``sigma/ell < lo`` or ``> hi``.

    Roots of the concave quadratic in ``a = log(sigma/ell)``:
    ``a = (gamma + log 2)/2 +- sqrt(pi^2 + 4 log^2 2 - 2 gamma^2 - 4 gamma log 2) / (2 sqrt 2)``.

    >>> lo, hi = printed_variance_negative_range(); round(lo, 4), round(hi, 4)
    (0.6338, 5.6199)
    """
    g, l2 = EULER_GAMMA, math.log(2.0)
    c = (g + l2) / 2
    d = math.sqrt(math.pi**2 + 4 * l2**2 - 2 * g**2 - 4 * g * l2) / (2 * math.sqrt(2.0))
    return math.exp(c - d), math.exp(c + d)


def expected_abs_derivative(depth: int, variance: float = 1.0) -> float:
    """``E|f'_{1:L}| = (sqrt(2 variance / pi))^L`` (product of independent half-normal means).

    >>> expected_abs_derivative(7, math.pi / 2)
    1.0
    """
    depth = check_positive_int("depth", depth)
    variance = check_real("variance", variance, lo=0.0, lo_open=True)
    return float(math.sqrt(2 * variance / math.pi) ** depth)


def constant_derivative_variance() -> float:
    """The layer-derivative variance ``sigma^2/ell^2 = pi/2`` that keeps ``E|f'|`` depth-independent.

    Duvenaud et al. (2014), Sec. 3 (correct as printed).

    >>> constant_derivative_variance() == math.pi / 2
    True
    """
    return math.pi / 2


# --------------------------------------------------------------------------------------------
# 2. Deep kernels


def _distances(r) -> np.ndarray:
    r = check_finite_array("r", r)
    if np.any(r < 0):
        raise ArgumentValueError("r must contain non-negative distances ||x - x'||")
    return r


def deep_se_kernel(r, depth: int) -> np.ndarray:
    """``k_L(r)`` of the ``L``-fold composed unit squared-exp kernel.

    ``k_1 = exp(-r^2/2)``, ``k_{l+1} = exp(k_l - 1)`` (Duvenaud et al. 2014, Sec. 6, valid for any
    base kernel with ``k(x, x) = 1``). Converges to the constant kernel 1 with
    ``1/(1 - k_l) ~ l/2 + (1/6) log l`` (:func:`deep_kernel_gap_asymptotic`).

    >>> float(deep_se_kernel(0.0, 5)), round(float(deep_se_kernel(1.0, 2)), 6)
    (1.0, 0.674712)
    """
    depth = check_positive_int("depth", depth)
    k = np.exp(-0.5 * _distances(r) ** 2)
    for _ in range(depth - 1):
        k = np.exp(k - 1.0)
    return k


def connected_se_kernel(r, depth: int) -> np.ndarray:
    """``k_L(r)`` of the input-connected composed squared-exp kernel.

    ``k_1 = exp(-r^2/2)``, ``k_{l+1} = exp(k_l - 1 - r^2/2)`` (Duvenaud et al. 2014, Sec. 6),
    converging geometrically (ratio ``k*``) to :func:`connected_kernel_fixed_point`.

    >>> round(float(connected_se_kernel(1.0, 60)), 6)
    0.30171
    """
    depth = check_positive_int("depth", depth)
    r = _distances(r)
    k = np.exp(-0.5 * r**2)
    for _ in range(depth - 1):
        k = np.exp(k - 1.0 - 0.5 * r**2)
    return k


def connected_kernel_fixed_point(r: float, *, dps: int = 40) -> float:
    """Certified fixed point ``k*`` in ``(0, 1]`` of ``k - log k = 1 + r^2/2``.

    Closed form ``k* = -W_0(-exp(-1 - r^2/2))`` (principal Lambert W; contrary to the paper's
    "no closed form"). Certified by a bracket: ``g(k) = k - log k - 1 - r^2/2`` is strictly
    decreasing on ``(0, 1]``, so a sign change of ``g`` on ``[k*(1 - 1e-12), k*(1 + 1e-12)]``
    (evaluated in ``dps``-digit arithmetic) proves the root lies there; otherwise
    :class:`CertificationError`. Returns 0.0 when ``k*`` underflows a double (``r > 38.5``).

    >>> connected_kernel_fixed_point(0.0)
    1.0
    >>> k = connected_kernel_fixed_point(2.0); abs(k - math.log(k) - 3.0) < 1e-12
    True
    """
    r = check_real("r", r, lo=0.0)
    if r == 0.0:
        return 1.0
    with mp.workdps(dps):
        c = 1 + mp.mpf(r) ** 2 / 2
        k = -mp.lambertw(-mp.exp(-c), 0)
        if abs(mp.im(k)) > mp.mpf(10) ** (-dps + 5):
            raise CertificationError(f"Lambert W returned a complex root for r={r}")
        k = mp.re(k)

        def g(t):
            return t - mp.log(t) - c

        lo, hi = k * (1 - mp.mpf("1e-12")), min(k * (1 + mp.mpf("1e-12")), mp.mpf(1))
        if not (0 < lo < hi <= 1 and g(lo) > 0 and g(hi) < 0):
            raise CertificationError(f"could not bracket the fixed point of k - log k = {c} at r={r}")
        return float(k)


def connected_kernel_rate(r: float) -> float:
    """Geometric convergence ratio of the input-connected kernel recursion: ``F'(k*) = k*``.

    ``F(k) = exp(k - 1 - r^2/2)`` has ``F' = F``, so ``|k_l - k*| ~ C (k*)^l``.

    >>> connected_kernel_rate(1.0) == connected_kernel_fixed_point(1.0)
    True
    """
    return connected_kernel_fixed_point(r)


def deep_kernel_gap_asymptotic(depth) -> np.ndarray:
    """Leading terms of ``1/(1 - k_l)`` for the composed SE kernel: ``l/2 + (1/6) log l``.

    From ``e_{l+1} = 1 - exp(-e_l)``, ``1/e_{l+1} = 1/e_l + 1/2 + e_l/12 + O(e_l^2)``; summing
    with ``e_l ~ 2/l`` gives ``1/e_l = l/2 + (1/6) log l + C(r) + o(1)``. The constant ``C``
    depends on the starting distance ``r``.

    >>> float(deep_kernel_gap_asymptotic(2.0)) == 1 + math.log(2) / 6
    True
    """
    depth = check_finite_array("depth", depth)
    if np.any(depth < 1):
        raise ArgumentValueError("depth must be >= 1")
    return depth / 2 + np.log(depth) / 6


# --------------------------------------------------------------------------------------------
# 3. Jacobians


def real_lyapunov_exponents(n: int, variance: float = 1.0) -> np.ndarray:
    """Lyapunov exponents of products of ``n x n`` real Gaussian matrices, entry variance ``variance``.

    ``mu_i = (1/2)[log(2 variance) + psi((n - i + 1)/2)]`` (Newman 1986; docs/formulas.md §1 is the
    case ``variance = 1/n``): :func:`theory.products.lyapunov_exponents` (variance ``1/n``), shifted
    by ``(1/2) log(n variance)`` (scaling every factor by ``c`` adds ``log c`` to every exponent).

    >>> np.round(real_lyapunov_exponents(5), 4).tolist()
    [0.6982, 0.558, 0.3648, 0.058, -0.6352]
    """
    from .lyapunov import lyapunov_exponents

    n = check_positive_int("n", n)
    variance = check_real("variance", variance, lo=0.0, lo_open=True)
    return np.asarray(lyapunov_exponents(n, field="real"), dtype=float) + 0.5 * math.log(n * variance)


def normalized_spectrum_rate(n: int) -> np.ndarray:
    """``lim (1/L) log(s_i/s_1) = mu_i - mu_1`` for a standard deep GP Jacobian (any variance).

    >>> round(float(normalized_spectrum_rate(5)[1]), 4)
    -0.1402
    """
    mu = real_lyapunov_exponents(n)
    return mu - mu[0]


def connected_jacobian_exponents(n: int, variance: float) -> np.ndarray:
    """Growth exponents ``max(mu_i, 0)`` of the singular values of the input-connected Jacobian.

    ``J_L = A_L J_{L-1} + B_L`` (``[A_L B_L]`` the ``n x 2n`` Gaussian layer Jacobian, entry
    variance ``variance``): expanding directions grow like the homogeneous product, contracting
    ones are held at ``O(1)`` by the additive term (random affine recursion; Bougerol & Picard 1992
    for the stationary case ``mu_1 < 0``). Checked by simulation in ``pathologies.jacobian-collapse``.

    >>> connected_jacobian_exponents(5, 0.1).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    return np.maximum(real_lyapunov_exponents(n, variance), 0.0)


def connected_normalized_spectrum_rate(n: int, variance: float) -> np.ndarray:
    """``lim (1/L) log(s_i/s_1)`` for the input-connected Jacobian: ``max(mu_i,0) - max(mu_1,0)``.

    >>> round(float(connected_normalized_spectrum_rate(5, 1.0)[1]), 4)
    -0.1402
    """
    e = connected_jacobian_exponents(n, variance)
    return e - e[0]


def connected_stability_threshold(n: int) -> float:
    """Largest entry variance for which the input-connected Jacobian has a stationary law.

    ``mu_1 < 0  <=>  variance < exp(-psi(n/2)) / 2`` (0.2475 for n = 5). Below it the
    normalized spectrum ``s_i/s_1`` converges in law to a depth-independent, non-degenerate limit.

    >>> round(connected_stability_threshold(5), 4)
    0.2475
    """
    n = check_positive_int("n", n)
    return float(0.5 * math.exp(-special.digamma(n / 2)))


def connected_jacobian(layer_jacobians: Sequence[np.ndarray]) -> np.ndarray:
    """Deterministic recursion ``J_1 = A_1[:, :D]``, ``J_l = A_l [J_{l-1}; I_D]`` (their Sec. 5).

    ``layer_jacobians``: a sequence of ``(..., D, 2D)`` arrays (the first layer only uses its
    left ``D x D`` block, as in Duvenaud et al.'s script). Returns the ``(..., D, D)`` Jacobian.

    >>> A = [np.full((1, 2), 0.5), np.full((1, 2), 0.5)]
    >>> connected_jacobian(A).tolist()   # 0.5 * 0.5 + 0.5
    [[0.75]]
    """
    if len(layer_jacobians) == 0:
        raise ArgumentValueError("layer_jacobians must contain at least one (D, 2D) matrix")
    first = check_finite_array("layer_jacobians[0]", layer_jacobians[0])
    d = first.shape[-1] // 2
    if first.ndim < 2 or first.shape[-1] != 2 * d or first.shape[-2] != d:
        raise ArgumentValueError(f"layer_jacobians must have shape (..., D, 2D), got {first.shape}")
    J = first[..., :, :d]
    for a in layer_jacobians[1:]:
        a = np.asarray(a, dtype=float)
        if a.shape[-2:] != (d, 2 * d):
            raise ArgumentValueError(f"every layer Jacobian must have shape (..., {d}, {2 * d}), got {a.shape}")
        J = a[..., :, :d] @ J + a[..., :, d:]
    return J
