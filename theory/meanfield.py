"""Mean field of wide random networks: the length map, the correlation map and the depth scales.

Network (width ``N -> inf``): ``h^l = W^l x^{l-1} + b^l``, ``x^l = phi(h^l)``, ``W_ij ~ N(0, sigma_w^2/N)``
(or ``sigma_w`` times Haar orthogonal: same mean field), ``b_i ~ N(0, sigma_b^2)``. Poole et al.
(2016), *Exponential expressivity in deep neural networks through transient chaos*; Schoenholz et
al. (2017), *Deep information propagation*, eqs. 2-9; Pennington, Schoenholz & Ganguli (2017);
docs/formulas.md §4. With ``z, z_1, z_2 ~ N(0, 1)`` independent:

* **length map** ``q^l = sigma_w^2 V(q^{l-1}) + sigma_b^2``, ``V(q) = E[phi(sqrt(q) z)^2]``; ``q*`` its
  stable fixed point;
* ``mu_k(q) = E[phi'(sqrt(q) z)^{2k}]``; ``chi_1 = sigma_w^2 mu_1(q*)``;
* **correlation map** (two inputs at the fixed length): ``c^l = C(c^{l-1})``,
  ``C(c) = (sigma_w^2 E[phi(u_1) phi(u_2)] + sigma_b^2) / q*``, ``u_1 = sqrt(q*) z_1``,
  ``u_2 = sqrt(q*) (c z_1 + sqrt(1 - c^2) z_2)``; ``C(1) = 1``; its stable fixed point ``c*``;
  ``chi_c = C'(c*) = sigma_w^2 E[phi'(u_1) phi'(u_2)]`` (Gaussian integration by parts), equal to
  ``chi_1`` at ``c* = 1``;
* **order and chaos**: ``chi_1 < 1``: ``c* = 1`` is stable (ordered phase); ``chi_1 > 1``: ``c* < 1``
  (chaotic phase); the **critical line** is ``chi_1 = 1`` (:func:`critical_point`);
* **depth scales** (Schoenholz et al. 2017, eqs. 5 and 9): ``|q^l - q*| ~ e^{-l / xi_q}``,
  ``xi_q^{-1} = -log(sigma_w^2 V'(q*))``; ``|c^l - c*| ~ e^{-l / xi_c}``, ``xi_c^{-1} = -log chi_c``.
  ``xi_c`` diverges on the critical line. (``sigma_w^2 V'(q*) = chi_1 + sigma_w^2 E[phi phi'']`` for
  smooth ``phi``; here ``V'`` is computed as ``E[phi(h)^2 (h^2/q - 1)] / (2q)``, the derivative of
  the Gaussian density, so kinks need no delta functions.)

Closed forms (checked against quadrature in the tests): linear; ReLU (arc-cosine kernel,
Cho & Saul 2009: ``E[relu(u_1) relu(u_2)] = q (sqrt(1 - c^2) + (pi - arccos c) c) / (2 pi)``,
``E[relu'(u_1) relu'(u_2)] = (pi - arccos c) / (2 pi)``); leaky ReLU (``phi = a h + (1 - a) relu``);
hard-tanh (length map); plain erf (Williams 1997: ``E[erf(u_1) erf(u_2)] = (2/pi) arcsin(2qc/(1+2q))``,
``E[erf' erf'] = (4/pi) / sqrt((1 + 2q)^2 - 4 q^2 c^2)``). Everything else by composite
Gauss-Legendre quadrature over the standard normal variables, with breakpoints at the kinks of
``phi`` and ``phi'``, certified by a second rule (:func:`gauss_expect`, :func:`gauss_expect_2d`).
Why hand-written: the two-dimensional expectations need per-node breakpoints of the inner
variable and vectorized evaluation (measured: one correlation-map value in ~20 ms against ~2 s
for nested ``scipy.integrate.quad`` at the same accuracy); tests compare with ``quad`` and mpmath.

Examples
--------
>>> sw, sb = critical_point("hard_tanh", 0.25)
>>> round(chi("hard_tanh", sw, sb), 12), round(q_star("hard_tanh", sw, sb), 12)
(1.0, 0.25)
>>> round(correlation_map("relu", 0.5, 2.0, 0.0, q0=1.0), 10)   # (sqrt(3)/2 + (2 pi/3)/2) / pi
0.608997781
>>> c_star("tanh", 2.0, 0.05) < 1                                # chaotic phase: chi_1 > 1
True
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from degeneracy.errors import ArgumentValueError, CertificationError
from degeneracy.validation import check_int, check_positive_int, check_real, check_work

from .activations import Activation, as_activation

__all__ = [
    "gauss_expect",
    "gauss_expect_2d",
    "length_variance",
    "length_variance_derivative",
    "mu",
    "q_map",
    "q_trajectory",
    "q_star",
    "chi",
    "critical_point",
    "correlation_map",
    "correlation_trajectory",
    "c_star",
    "chi_c",
    "depth_scales",
    "critical_line",
]

_Z = 12.0      # the standard normal beyond |z| = 12 carries mass 3.6e-33
_WIDTH = 1.0   # panel width (in z) of the composite Gauss-Legendre rules
_RULES = {n: np.polynomial.legendre.leggauss(n) for n in (12, 20)}
_NPDF = 1.0 / math.sqrt(2 * math.pi)


def _act(a) -> Activation:
    return as_activation(a)


#: Charge per layer of a trajectory (one Gaussian quadrature, about 30 us) against
#: :data:`degeneracy.validation.MAX_WORK`: it caps the depth at 10**8 (about an hour).
_LAYER_FLOPS = 1e8


def _q(q, name="q") -> float:
    return check_real(name, q, lo=0.0)


def _sigmas(sigma_w2, sigma_b2) -> tuple[float, float]:
    return (check_real("sigma_w2", sigma_w2, lo=0.0, lo_open=True), check_real("sigma_b2", sigma_b2, lo=0.0))


# ---------------------------------------------------------------------------------------------
# Gaussian expectations


def _panel_rule(edges: np.ndarray, n: int):
    """Gauss-Legendre nodes/weights with ``n`` nodes on each panel ``[edges[..., j], edges[..., j+1]]``
    (rows of ``edges`` are independent meshes); zero-width panels get zero weight."""
    x, w = _RULES[n]
    a, b = edges[..., :-1], edges[..., 1:]
    half = 0.5 * (b - a)
    nodes = (0.5 * (a + b))[..., None] + half[..., None] * x
    wts = half[..., None] * w
    shape = nodes.shape[:-2] + (-1,)
    return nodes.reshape(shape), wts.reshape(shape)


#: uniform mesh of the standard normal variable (resolves the Gaussian weight)
_UNIFORM = np.linspace(-_Z, _Z, int(2 * _Z / _WIDTH) + 1)


def _h_points(sq: float, kinks) -> np.ndarray:
    """Breakpoints in ``h``: the kinks and a geometric mesh ``+-0.5 * 1.5^k`` that resolves O(1)
    features of ``phi`` in ``h`` however large ``q`` is."""
    g = 0.5 * 1.5 ** np.arange(0, int(math.log(max(24.0 * sq, 1.0) / 0.5) / math.log(1.5)) + 2)
    g = g[g < _Z * sq] if sq > 0 else g[:0]
    return np.concatenate([np.asarray(kinks, dtype=float), g, -g])


def _mesh_1d(sq: float, kinks) -> np.ndarray:
    pts = _h_points(sq, kinks) / sq if sq > 0 else np.zeros(0)
    return np.unique(np.clip(np.concatenate([_UNIFORM, pts]), -_Z, _Z))


def gauss_expect(f, q: float, *, kinks=(), tol: float = 1e-11) -> float:
    """``E[f(sqrt(q) z)]``, ``z ~ N(0, 1)``, certified.

    Composite Gauss-Legendre on ``z in [-12, 12]`` (panels of width 1/2 in ``z``, refined by a
    geometric mesh in ``h = sqrt(q) z`` and breakpoints at the ``kinks``) with 12 and 20 nodes per
    panel; the two must agree within ``tol * (1 + |E|)`` or
    :class:`~degeneracy.errors.CertificationError` is raised.

    >>> round(gauss_expect(lambda h: h**4, 2.0), 12)      # 3 q^2
    12.0
    """
    q = _q(q)
    if q == 0:
        return float(np.asarray(f(np.zeros(1)))[0])
    s = math.sqrt(q)
    edges = _mesh_1d(s, kinks)
    vals = []
    for n in (12, 20):
        z, w = _panel_rule(edges, n)
        vals.append(float(np.sum(w * _NPDF * np.exp(-0.5 * z * z) * f(s * z))))
    if not abs(vals[0] - vals[1]) <= tol * (1.0 + abs(vals[1])):
        raise CertificationError(f"Gaussian expectation did not converge (two rules give {vals[0]!r} and {vals[1]!r})")
    return vals[1]


def gauss_expect_2d(f, g, q1: float, q2: float, c: float, *, kinks_f=(), kinks_g=(), tol: float = 1e-10) -> float:
    """``E[f(u_1) g(u_2)]`` for the centred Gaussian pair with variances ``q1, q2`` and correlation
    ``c``: ``u_1 = sqrt(q1) z_1``, ``u_2 = sqrt(q2) (c z_1 + sqrt(1 - c^2) z_2)``, certified.

    Outer integral over ``z_1`` on the mesh of :func:`gauss_expect`; the inner one over ``z_2`` on
    a per-node mesh: the uniform mesh in ``z_2`` merged with the points where ``u_2`` crosses the
    kinks and the geometric mesh of ``g``; 12 and 20 Gauss-Legendre nodes per panel must agree
    within ``tol``.

    >>> round(gauss_expect_2d(lambda x: x, lambda y: y, 1.0, 2.0, 0.3), 12)   # sqrt(2) * 0.3
    0.424264068712
    """
    q1, q2 = _q(q1, "q1"), _q(q2, "q2")
    c = check_real("c", c, lo=-1.0, hi=1.0)
    s1, s2 = math.sqrt(q1), math.sqrt(q2)
    sc = math.sqrt(max(0.0, 1.0 - c * c))
    outer = _mesh_1d(s1, kinks_f) if s1 > 0 else _UNIFORM
    if kinks_g and s2 > 0 and abs(c) > 0:
        # the inner expectation has a transition of width sqrt(1 - c^2)/|c| around each z1 where
        # u2's mean crosses a kink of g: steep when c -> 1, so it gets a graded mesh of its own
        offs = (sc / abs(c)) * np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
        offs = np.concatenate([offs, -offs[1:]])
        extra = np.concatenate([k / (s2 * c) + offs for k in kinks_g])
        outer = np.unique(np.clip(np.concatenate([outer, extra]), -_Z, _Z))
    vals = []
    for n in (12, 20):
        z1, w1 = _panel_rule(outer, n)
        fz = f(s1 * z1) * w1 * _NPDF * np.exp(-0.5 * z1 * z1)
        if sc < 1e-12 or s2 == 0:
            inner = g(s2 * np.clip(c, -1, 1) * z1)
        else:
            hp = _h_points(s2, kinks_g)
            mapped = (hp[None, :] / s2 - c * z1[:, None]) / sc
            edges = np.sort(np.clip(np.concatenate([np.broadcast_to(_UNIFORM, (z1.size, _UNIFORM.size)), mapped], axis=1),
                                    -_Z, _Z), axis=1)
            z2, w2 = _panel_rule(edges, n)
            u2 = s2 * (c * z1[:, None] + sc * z2)
            inner = np.sum(w2 * _NPDF * np.exp(-0.5 * z2 * z2) * g(u2), axis=1)
        vals.append(float(np.sum(fz * inner)))
    if not abs(vals[0] - vals[1]) <= tol * (1.0 + abs(vals[1])):
        raise CertificationError(f"two-dimensional Gaussian expectation did not converge ({vals[0]!r} vs {vals[1]!r})")
    return vals[1]


def _kinks(act: Activation):
    return act.kinks


# ---------------------------------------------------------------------------------------------
# the length map


def length_variance(activation, q) -> float:
    """``V(q) = E[phi(sqrt(q) z)^2]`` (closed forms for linear, ReLU, leaky ReLU, hard-tanh, erf).

    >>> round(length_variance("erf", 0.5), 12) == round(2 / math.pi * math.asin(0.5), 12)
    True
    """
    act = _act(activation)
    q = _q(q)
    kind = act.key[0]
    if kind == "linear":
        return q
    if kind == "relu":
        return q / 2
    if kind == "leaky_relu":
        return q * (1 + act.key[1] ** 2) / 2
    if kind == "hard_tanh":
        if q == 0:
            return 0.0
        a = 1 / math.sqrt(2 * q)
        return q * math.erf(a) - math.sqrt(2 * q / math.pi) * math.exp(-1 / (2 * q)) + math.erfc(a)
    if kind == "erf":
        return 2 / math.pi * math.asin(2 * q / (1 + 2 * q))
    phi = act.phi
    return gauss_expect(lambda h: phi(h) ** 2, q, kinks=act.kinks)


def length_variance_derivative(activation, q) -> float:
    """``V'(q) = E[phi(h)^2 (h^2/q - 1)] / (2q)``, ``h ~ N(0, q)`` (derivative of the Gaussian
    density in its variance: valid across kinks)."""
    act = _act(activation)
    q = check_real("q", q, lo=0.0, lo_open=True)
    kind = act.key[0]
    if kind in ("linear", "relu", "leaky_relu"):
        return length_variance(act, 1.0)
    if kind == "hard_tanh":  # d/dq of the closed form: erf(a) - 2 n(1; q)
        return math.erf(1 / math.sqrt(2 * q)) - 2 * math.exp(-1 / (2 * q)) / math.sqrt(2 * math.pi * q)
    if kind == "erf":
        return 2 / math.pi * 2 / (1 + 2 * q) ** 2 / math.sqrt(1 - (2 * q / (1 + 2 * q)) ** 2)
    phi = act.phi
    return gauss_expect(lambda h: phi(h) ** 2 * (h * h / q - 1.0), q, kinks=act.kinks) / (2 * q)


def mu(activation, q, k: int = 1) -> float:
    """``mu_k(q) = E[phi'(sqrt(q) z)^{2k}]`` (Pennington et al. 2017, eq. 13).

    >>> mu("relu", 3.0, 2), round(mu("erf", 0.25, 1), 12) == round(4 / math.pi / math.sqrt(2), 12)
    (0.5, True)
    """
    act = _act(activation)
    q = _q(q)
    k = check_positive_int("k", k)
    kind = act.key[0]
    if act.atoms_only:
        # a finite set of atoms: the Gaussian mass of each constant piece
        s = math.sqrt(q)
        total = 0.0
        for lo, hi, _, val in act.pieces:
            if q == 0:
                mass = 1.0 if lo < 0 < hi else (0.5 if 0.0 in (lo, hi) and lo != hi else 0.0)
            else:
                mass = 0.5 * (math.erf(hi / (s * math.sqrt(2))) - math.erf(lo / (s * math.sqrt(2))))
            total += mass * val ** (2 * k)
        return total
    if kind == "erf":
        return (4 / math.pi) ** k / math.sqrt(1 + 4 * k * q)
    dphi = act.dphi
    return gauss_expect(lambda h: dphi(h) ** (2 * k), q, kinks=act.kinks)


def q_map(activation, q, sigma_w2, sigma_b2) -> float:
    """One step of the length map ``sigma_w^2 V(q) + sigma_b^2``."""
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    return sw * length_variance(activation, q) + sb


def q_trajectory(activation, q0, depth: int, sigma_w2, sigma_b2) -> np.ndarray:
    """``[q^1, ..., q^L]`` from ``q^1 = sigma_w^2 q0 + sigma_b^2``, where ``q0`` is the input second
    moment ``|x^0|^2 / N`` (so ``h^1`` has variance ``q^1``)."""
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    depth = check_positive_int("depth", depth)
    check_work(f"depth = {depth}", _LAYER_FLOPS * depth)
    act = _act(activation)
    q = sw * _q(q0, "q0") + sb
    out = [q]
    for _ in range(depth - 1):
        q = sw * length_variance(act, q) + sb
        if not math.isfinite(q):
            raise ArgumentValueError(f"the length map diverges for {act.name} at sigma_w2={sw}: q overflows by layer "
                                     f"{len(out) + 1}")
        out.append(q)
    return np.array(out)


def _growth(act: Activation) -> float:
    """``lim_{q -> inf} V(q) / q``: 0 for bounded activations, 1/2 for ReLU-like ones."""
    big = 1e6
    return length_variance(act, big) / big


def q_star(activation, sigma_w2, sigma_b2, *, q0: float | None = None) -> float:
    """Stable fixed point ``q*`` of the length map.

    Linear: ``sigma_b^2 / (1 - sigma_w^2)`` (``sigma_w^2 < 1``); ReLU and leaky ReLU
    (slope ``a``): ``sigma_b^2 / (1 - sigma_w^2 (1 + a^2)/2)``. At the marginal points (every q
    fixed, ``sigma_b = 0``) pass ``q0`` (returned as is). Otherwise the largest root of
    ``g(q) = sigma_w^2 V(q) + sigma_b^2 - q`` at which ``g`` falls (a stable point), by Brent's
    method on a bracket found on a logarithmic grid; ``0`` when ``sigma_b = 0`` and
    ``sigma_w^2 V'(0) <= 1``. When the map diverges at large ``q`` (unbounded activations with
    ``sigma_w^2 lim V(q)/q > 1``), the smallest stable fixed point (inputs beyond the next,
    unstable one escape); :class:`~degeneracy.errors.ArgumentValueError` when there is none.

    >>> q_star("relu", 1.0, 0.5)
    1.0
    >>> q_star("relu", 2.0, 0.0, q0=0.7)
    0.7
    """
    act = _act(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    if q0 is not None:
        q0 = _q(q0, "q0")  # checked even where it is not needed: a bad value is never ignored silently
    if act.positively_homogeneous:
        slope = length_variance(act, 1.0)
        if sw * slope < 1:
            return sb / (1 - sw * slope)
        if sw * slope == 1 and sb == 0:
            if q0 is None:
                raise ArgumentValueError(f"every q is a fixed point for {act.name} at sigma_w2={sw}, sigma_b2=0: pass q0=")
            return _q(q0, "q0")
        raise ArgumentValueError(
            f"{act.name} has no finite fixed point for sigma_w2={sw} (needs sigma_w2 < {1 / slope:g}, "
            f"or = {1 / slope:g} with sigma_b2 = 0)")

    def g(q):
        return sw * length_variance(act, q) + sb - q

    growth = _growth(act)
    grid = np.concatenate([[0.0], np.logspace(-10, 8, 73)])
    vals = np.array([g(q) for q in grid])
    down = [i for i in range(len(grid) - 1) if vals[i] > 0 >= vals[i + 1]]  # stable crossings
    if down:
        # the largest stable fixed point; when the map diverges at large q (sigma_w^2 lim V(q)/q > 1),
        # the smallest one (the one small inputs reach; larger inputs escape to infinity)
        i = down[0] if sw * growth > 1 + 1e-9 else down[-1]
        if vals[i + 1] == 0:
            return float(grid[i + 1])
        return float(optimize.brentq(g, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15))
    if sw * growth > 1 + 1e-9:
        raise ArgumentValueError(f"the length map of {act.name} diverges for sigma_w2={sw} (sigma_w2 * lim V(q)/q = "
                                 f"{sw * growth:.4g} > 1 and no stable fixed point): no finite fixed point")
    if sb == 0 and vals[1] <= 0:
        return 0.0
    raise ArgumentValueError(f"no stable fixed point of the length map of {act.name} for sigma_w2={sw}, sigma_b2={sb} "
                             "in q <= 1e8")


def _q_for_derivatives(act: Activation, sw: float, sb: float, q0) -> float:
    """q* where it matters; the derivative law of linear and (leaky) ReLU does not depend on q."""
    if act.positively_homogeneous:
        if q0 is not None:
            _q(q0, "q0")  # not needed here, but never ignored silently when it is bad
        return 1.0
    return q_star(act, sw, sb, q0=q0)


def chi(activation, sigma_w2, sigma_b2, *, q0: float | None = None) -> float:
    """``chi_1 = sigma_w^2 mu_1(q*)``: the mean squared singular value of one layer's Jacobian.

    >>> chi("relu", 2.0, 0.0)
    1.0
    """
    act = _act(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    return sw * mu(act, _q_for_derivatives(act, sw, sb, q0), 1)


def critical_point(activation, q_star: float) -> tuple[float, float]:
    """``(sigma_w^2, sigma_b^2)`` on the critical line ``chi_1 = 1`` with fixed point ``q_star``.

    ``sigma_w^2 = 1 / mu_1(q*)`` and ``sigma_b^2 = q* - sigma_w^2 V(q*)``. Closed forms:
    linear ``(1, 0)``; ReLU ``(2, 0)`` for every q*; leaky ReLU ``(2 / (1 + a^2), 0)``;
    hard-tanh ``(1/erf(a), q* - V(q*)/erf(a))``, ``a = 1/sqrt(2 q*)``; erf
    ``(pi sqrt(1 + 4q*)/4, q* - sqrt(1 + 4q*) arcsin(2q*/(1 + 2q*)) / 2)``; others by quadrature.
    Raises :class:`~degeneracy.errors.ArgumentValueError` when ``sigma_b^2`` would be negative
    (no critical point with that ``q*``, e.g. large ``q*`` for tanh) or when ``q*`` would be an
    unstable fixed point of the length map (``sigma_w^2 V'(q*) > 1``, e.g. small ``q*`` for GELU).

    >>> critical_point("relu", 0.3)
    (2.0, 0.0)
    """
    act = _act(activation)
    q = check_real("q_star", q_star, lo=0.0, lo_open=True)
    if act.positively_homogeneous:
        return (1.0 / mu(act, 1.0, 1), 0.0)
    sw = 1.0 / mu(act, q, 1)
    sb = q - sw * length_variance(act, q)
    if sb < 0:
        if sb > -1e-13 * q:
            sb = 0.0
        else:
            raise ArgumentValueError(f"no critical point with q_star={q} for {act.name} (would need sigma_b2={sb:.3g} < 0)")
    slope = sw * length_variance_derivative(act, q)
    if slope > 1 + 1e-9:
        raise ArgumentValueError(f"no critical point with q_star={q} for {act.name}: q* would be an unstable fixed point "
                                 f"of the length map (slope sigma_w2 V'(q*) = {slope:.4g} > 1)")
    return (sw, sb)


def critical_line(activation, q_stars) -> np.ndarray:
    """Points ``(sigma_w^2, sigma_b^2)`` of the critical line ``chi_1 = 1``, one per ``q*``
    (those without a critical point are skipped): shape ``(K, 2)``, the order-to-chaos boundary
    of the phase diagram."""
    act = _act(activation)
    out = []
    for q in np.atleast_1d(np.asarray(q_stars, dtype=float)):
        try:
            out.append(critical_point(act, float(q)))
        except ArgumentValueError:
            continue
    return np.array(out).reshape(-1, 2)


# ---------------------------------------------------------------------------------------------
# the correlation map


def _pair_expect(act: Activation, q: float, c: float, derivative: bool) -> float:
    """``E[phi(u_1) phi(u_2)]`` (or ``E[phi'(u_1) phi'(u_2)]``) at variance ``q``, correlation ``c``."""
    kind = act.key[0]
    c = min(1.0, max(-1.0, c))
    ac = math.acos(c)
    if kind == "linear":
        return 1.0 if derivative else q * c
    if kind in ("relu", "leaky_relu"):
        a = act.key[1] if kind == "leaky_relu" else 0.0
        if derivative:
            return a * a + a * (1 - a) + (1 - a) ** 2 * (math.pi - ac) / (2 * math.pi)
        k = q * (math.sqrt(max(0.0, 1 - c * c)) + (math.pi - ac) * c) / (2 * math.pi)
        return a * a * q * c + a * (1 - a) * q * c + (1 - a) ** 2 * k
    if kind == "erf":
        if derivative:
            return (4 / math.pi) / math.sqrt((1 + 2 * q) ** 2 - 4 * q * q * c * c)
        return 2 / math.pi * math.asin(2 * q * c / (1 + 2 * q))
    f = act.dphi if derivative else act.phi
    return gauss_expect_2d(f, f, q, q, c, kinks_f=act.kinks, kinks_g=act.kinks)


def correlation_map(activation, c, sigma_w2, sigma_b2, *, q0: float | None = None) -> float:
    """One step of the correlation map at the fixed length: ``C(c) = (sigma_w^2 E[phi(u_1)
    phi(u_2)] + sigma_b^2) / q*`` (Poole et al. 2016; Schoenholz et al. 2017, eq. 3).

    >>> round(correlation_map("erf", 1.0, 2.0, 0.1), 12)             # C(1) = 1
    1.0
    """
    act = _act(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    c = check_real("c", c, lo=-1.0, hi=1.0)
    q = q_star(act, sw, sb, q0=q0)
    if q == 0:
        raise ArgumentValueError(f"q* = 0 for {act.name} at sigma_w2={sw}, sigma_b2={sb}: correlations are undefined")
    return (sw * _pair_expect(act, q, c, False) + sb) / q


def correlation_trajectory(activation, c0, depth: int, sigma_w2, sigma_b2, *, q0: float | None = None) -> np.ndarray:
    """``[c^1, ..., c^L]`` with ``c^1 = C(c0)`` for two inputs already at the fixed length ``q*``.

    >>> correlation_trajectory("linear", 0.3, 3, 0.5, 0.5).round(6).tolist()
    [0.65, 0.825, 0.9125]
    """
    depth = check_positive_int("depth", depth)
    check_work(f"depth = {depth}", _LAYER_FLOPS * depth)
    act = _act(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    q = q_star(act, sw, sb, q0=q0)
    c = check_real("c0", c0, lo=-1.0, hi=1.0)
    out = []
    for _ in range(depth):
        c = min(1.0, (sw * _pair_expect(act, q, c, False) + sb) / q)
        out.append(c)
    return np.array(out)


def c_star(activation, sigma_w2, sigma_b2, *, q0: float | None = None) -> float:
    """Stable fixed point ``c*`` of the correlation map: ``1`` in the ordered phase
    (``chi_1 <= 1``), else the fixed point in ``[-1, 1)`` reached from ``c = 1 - 0`` (Brent on
    ``C(c) - c``, which is negative just below 1 when ``chi_1 > 1``).

    >>> c_star("tanh", 1.0, 0.1)
    1.0
    """
    act = _act(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    q = q_star(act, sw, sb, q0=q0)
    if sw * mu(act, _q_for_derivatives(act, sw, sb, q0), 1) <= 1.0:
        return 1.0

    def g(c):
        return (sw * _pair_expect(act, q, c, False) + sb) / q - c

    # the largest root below 1: C(c) - c < 0 just below 1 (chi_1 > 1); scan down for the first
    # sign change, then Brent's method
    prev_c, prev_g = 1.0 - 1e-9, g(1.0 - 1e-9)
    for cc in (1 - 1e-6, 1 - 1e-3, 0.99, 0.9, 0.7, 0.4, 0.0, -0.5, -1.0):
        gc = g(cc)
        if gc >= 0 > prev_g:
            return float(optimize.brentq(g, cc, prev_c, xtol=1e-13, rtol=1e-13))
        prev_c, prev_g = cc, gc
    raise CertificationError(f"no fixed point of the correlation map of {act.name} found below 1 (chi_1 > 1)")


def chi_c(activation, sigma_w2, sigma_b2, *, q0: float | None = None) -> float:
    """``chi_c = sigma_w^2 E[phi'(u_1) phi'(u_2)]`` at ``(q*, c*)`` (Schoenholz et al. 2017, eq. 9);
    equals ``chi_1`` in the ordered phase."""
    act = _act(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    cs = c_star(act, sw, sb, q0=q0)
    if cs == 1.0:
        return chi(act, sw, sb, q0=q0)
    q = q_star(act, sw, sb, q0=q0)
    return sw * _pair_expect(act, q, cs, True)


def depth_scales(activation, sigma_w2, sigma_b2, *, q0: float | None = None) -> tuple[float, float]:
    """``(xi_q, xi_c)``: ``xi_q = -1 / log(sigma_w^2 V'(q*))``, ``xi_c = -1 / log chi_c`` (``inf``
    on the critical line) (Schoenholz et al. 2017, eqs. 5 and 9).

    >>> xq, xc = depth_scales("erf", 1.0, 0.05)
    >>> xc > 10 * xq
    False
    """
    act = _act(activation)
    sw, sb = _sigmas(sigma_w2, sigma_b2)
    q = q_star(act, sw, sb, q0=q0)
    slope = sw * length_variance_derivative(act, q) if q > 0 else sw * mu(act, 0.0, 1)
    xq = math.inf if slope >= 1 else (-1.0 / math.log(slope) if slope > 0 else 0.0)
    cc = chi_c(act, sw, sb, q0=q0)
    xc = math.inf if abs(cc - 1.0) < 1e-15 else -1.0 / math.log(cc)
    return xq, abs(xc)


def _check_depth(depth) -> int:
    return check_int("depth", depth, minimum=1)
