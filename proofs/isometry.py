"""Claims: free probability and dynamical isometry (Pennington, Schoenholz & Ganguli 2017, 2018).

Negative controls (``ctx.control``) swap in real, plausible mistakes: the length map without
the bias variance; the Gaussian and orthogonal ``s_1`` interchanged; the mean counted over
``L + 1`` layers; the spectrum of the other weight ensemble; the Fuss-Catalan edge for every
network; the effect direction reversed.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import sympy as sp
from scipy import optimize

from degeneracy.numerics import stats
from degeneracy.numerics.isometry import (
    jacobian_moment_estimates,
    simulate_network,
    squared_singular_values,
)
from degeneracy.proofs.registry import certificate, claim
from degeneracy.theory import isometry as th
from degeneracy.theory.free_series import moments_from_s_transform

PSG17 = "Pennington, Schoenholz & Ganguli, NeurIPS 2017"
PSG18 = "Pennington, Schoenholz & Ganguli, AISTATS 2018"
EPS = float(np.finfo(float).eps)


# ---------------------------------------------------------------------------------------------
# symbolic certificates


def _product_rule(wrong: bool = False):
    """Symbolic: S = ((1/sw2)(1 + s1 z) S_D)^L with S_D from mu_1, mu_2 gives mean (sw2 mu1)^L and
    normalized variance L (mu2/mu1^2 - 1 - s1), for symbolic L (Lagrange inversion to order 2)."""
    z, L, sw2, s1, m1, m2 = sp.symbols("z L sigma_w2 s_1 mu_1 mu_2", positive=True)
    # S_D from its first two moments (series reversion): (1/mu1)(1 + (1 - mu2/mu1^2) z)
    SD = (1 / m1) * (1 + (1 - m2 / m1**2) * z)
    S = ((1 / sw2) * (1 + s1 * z) * SD) ** L
    mom = moments_from_s_transform(S, 2, z=z)
    mean, nv = mom[0], sp.simplify(mom[1] / mom[0] ** 2 - 1)
    target_nv = L * (m2 / m1**2 - 1 + (s1 if wrong else -s1))
    r1 = sp.simplify(sp.powsimp(sp.expand_power_base(mean / (sw2 * m1) ** L, force=True), force=True) - 1)
    r2 = sp.simplify(sp.expand(nv - target_nv))
    return (r1 == 0 and r2 == 0), f"mean/(sigma_w2 mu_1)^L - 1 = {r1}; Var/mean^2 - L(mu_2/mu_1^2 - 1 - s_1) = {r2}"


@certificate("isometry.s-product-rule",
             statement="S_{JJ^T} = ((1/sigma_w^2)(1 + s_1 z) S_{D^2})^L gives mean (sigma_w^2 mu_1)^L = chi^L and "
                       "Var/mean^2 = L (mu_2/mu_1^2 - 1 - s_1) for symbolic depth L",
             source=f"{PSG17}, eqs. 12-17; docs/formulas.md §4")
def _cert_product_rule():
    return _product_rule()


def _bernoulli(wrong: bool = False):
    y, z, p = sp.symbols("y z p", positive=True)
    psi = p * z / (1 - z)  # sum_k p z^k
    chi_ = sp.solve(sp.Eq(psi, y), z)[0]
    S = sp.simplify(chi_ * (1 + y) / y)
    target = (1 + y) / (p + y) if not wrong else (p + y) / (1 + y)
    r = sp.simplify(S - target)
    mom = moments_from_s_transform(S.subs(y, z), 6, z=z)
    all_p = all(sp.simplify(m - p) == 0 for m in mom)
    return (r == 0 and all_p), f"S - (1+z)/(p+z) = {r}; moments 1..6 from S all equal p: {all_p}"


@certificate("isometry.bernoulli-s-transform",
             statement="Bernoulli(p) on {0,1}: psi(z) = p z/(1 - z), S(z) = (1 + z)/(p + z), and the series "
                       "inversion of S returns m_k = p for k <= 6",
             source=f"{PSG17}, section 3 (ReLU and hard-tanh masks)")
def _cert_bernoulli():
    return _bernoulli()


def _relu_ratio(wrong: bool = False):
    h = sp.symbols("h", real=True)
    q = sp.symbols("q", positive=True)
    dens = sp.exp(-h**2 / (2 * q)) / sp.sqrt(2 * sp.pi * q)
    # phi'(h)^{2k} = 1 on h > 0 and 0 on h < 0, for every k
    muk = sp.simplify(sp.integrate(dens, (h, 0, sp.oo)))
    ratio = sp.simplify(muk / muk**2)
    target = 1 if wrong else 2
    return sp.simplify(ratio - target) == 0 and muk == sp.Rational(1, 2), f"mu_k = {muk} for all k, q > 0; mu_2/mu_1^2 = {ratio}"


@certificate("isometry.relu-moment-ratio",
             statement="ReLU: mu_k = E[phi'(h)^{2k}] = 1/2 for every k and every q* > 0, so mu_2/mu_1^2 = 2",
             source=f"{PSG17}, section 3.2")
def _cert_relu_ratio():
    return _relu_ratio()


# ---------------------------------------------------------------------------------------------
# helpers


def _sigma_for_chi(activation: str, target: float, sigma_b2: float) -> float:
    """sigma_w^2 with chi(sigma_w^2, sigma_b^2) = target (Brent)."""
    if activation == "linear":
        return target
    if activation == "relu":
        return 2 * target
    f = lambda s: th.chi(activation, s, sigma_b2) - target  # noqa: E731
    return optimize.brentq(f, 0.5, 200.0, xtol=1e-13)


def _q_input(activation: str, sw2: float, sb2: float) -> float:
    """|x^0|^2/N that puts h^1 at q* (linear and ReLU: any; use 1)."""
    if activation in ("linear", "relu"):
        return 1.0
    return th.length_variance(activation, th.q_star(activation, sw2, sb2))


def _spawn(ctx, *names):
    return ctx.spawn(*names)


# ---------------------------------------------------------------------------------------------
# claims


MF_CASES = (("relu", "gaussian", 1.2, 0.3), ("hard_tanh", "orthogonal", 1.5, 0.3),
            ("erf", "gaussian", 1.2, 0.3), ("tanh", "orthogonal", 1.5, 0.3))


@claim("isometry.mean-field",
       title="The preactivation variance of a wide random network converges to the fixed point q* of the length "
             "map, and the per-layer mean squared derivative sigma_w^2 E phi'(h)^2 to chi.",
       source=f"Poole et al. 2016; Schoenholz et al. 2017; {PSG17}, eqs. 3-5; docs/formulas.md §4",
       kind="asymptotic",
       formula="q* = sigma_w^2 E[phi(sqrt(q*) z)^2] + sigma_b^2;  chi = sigma_w^2 E[phi'(sqrt(q*) z)^2]",
       settings={"sizes": ((16, 24, 32, 64, 128), (32, 48, 64, 128, 256), (64, 128, 256, 512, 1024)),
                 "replicas": (32, 48, 96), "depth": (20, 24, 40)})
def mean_field(ctx):
    s = ctx.settings
    for act, weights, sw2, sb2 in MF_CASES:
        qs = th.q_star(act, sw2, sb2)
        q_in = 2.0 * th.length_variance(act, qs)  # start away from the fixed point: q^1 = q* + sigma_w^2 V(q*)
        traj = th.q_trajectory(act, q_in, s["depth"], sw2, sb2)
        if abs(traj[-1] - qs) > 1e-4 * qs:  # far below the resolution of the checks (~1e-2)
            raise AssertionError(f"{act}: the mean-field trajectory has not converged at depth {s['depth']}")
        if ctx.control:  # the length map written without the bias variance
            q_pred = th.q_star(act, sw2, 0.0) if act not in ("relu",) else 0.0
            chi_pred = sw2 * th.mu(act, q_pred, 1)
        else:
            q_pred, chi_pred = qs, th.chi(act, sw2, sb2)
        est_q, se_q, est_c, se_c = [], [], [], []
        for n in s["sizes"]:
            run = simulate_network(act, width=n, depth=s["depth"], replicas=s["replicas"], sigma_w2=sw2,
                                   sigma_b2=sb2, weights=weights, q_input=q_in, jacobian=False,
                                   rng=_spawn(ctx, act, str(n)))
            ql, cl = run.q[:, -1], run.chi[:, -1]
            est_q.append(ql.mean()); se_q.append(ql.std(ddof=1) / math.sqrt(ql.size))
            est_c.append(cl.mean()); se_c.append(cl.std(ddof=1) / math.sqrt(cl.size))
        yield stats.extrapolation_check(f"q^L -> q*, {act}/{weights} (sw2={sw2}, sb2={sb2})", s["sizes"], est_q,
                                        se_q, q_pred, powers=(1,))
        yield stats.extrapolation_check(f"chi, {act}/{weights}", s["sizes"], est_c, se_c, chi_pred, powers=(1,))


def _critical_line_symbolic(wrong: bool = False):
    """Closed forms of the critical line: sympy proves chi = 1 and q* a fixed point."""
    q = sp.symbols("q", positive=True)
    a = 1 / sp.sqrt(2 * q)
    out = []
    # ReLU: V = q/2, mu_1 = 1/2 -> (2, 0)
    sw, sb = sp.Integer(2), sp.Integer(0)
    out.append(("relu", sp.simplify(sw * q / 2 + sb - q), sp.simplify(sw / 2 - 1)))
    # hard-tanh
    Vh = q * sp.erf(a) - sp.sqrt(2 * q / sp.pi) * sp.exp(-1 / (2 * q)) + (0 if wrong else sp.erfc(a))
    sw = 1 / sp.erf(a)
    sb = q - (q * sp.erf(a) - sp.sqrt(2 * q / sp.pi) * sp.exp(-1 / (2 * q)) + sp.erfc(a)) / sp.erf(a)
    out.append(("hard_tanh", sp.simplify(sw * Vh + sb - q), sp.simplify(sw * sp.erf(a) - 1)))
    # erf (plain): V = (2/pi) asin(2q/(1+2q)), mu_1 = (4/pi)/sqrt(1+4q)
    Ve = 2 / sp.pi * sp.asin(2 * q / (1 + 2 * q))
    sw = sp.pi * sp.sqrt(1 + 4 * q) / 4
    sb = q - sp.sqrt(1 + 4 * q) * sp.asin(2 * q / (1 + 2 * q)) / 2
    mu1 = (4 / sp.pi) / sp.sqrt(1 + 4 * q) if not wrong else 1 / sp.sqrt(1 + sp.pi * q)
    out.append(("erf", sp.simplify(sw * Ve + sb - q), sp.simplify(sw * mu1 - 1)))
    return out


def _quadrature_closed_forms(qs):
    """(activation, q, closed V, mu_1; mpmath V, mu_1 at 30 digits)."""
    mp.mp.dps = 30
    rows = []
    for q in qs:
        qm = mp.mpf(q)
        dens = lambda h: mp.exp(-h * h / (2 * qm)) / mp.sqrt(2 * mp.pi * qm)  # noqa: E731
        V_ht = mp.quad(lambda h: h * h * dens(h), [-1, 0, 1]) + 2 * mp.quad(dens, [1, mp.inf])
        mu_ht = mp.quad(dens, [-1, 0, 1])
        V_erf = mp.quad(lambda h: mp.erf(h) ** 2 * dens(h), [-mp.inf, 0, mp.inf])
        mu_erf = mp.quad(lambda h: (2 / mp.sqrt(mp.pi) * mp.exp(-h * h)) ** 2 * dens(h), [-mp.inf, 0, mp.inf])
        rows.append(("hard_tanh", q, float(V_ht), float(mu_ht)))
        rows.append(("erf", q, float(V_erf), float(mu_erf)))
    mp.mp.dps = 15
    return rows


@claim("isometry.critical-line",
       title="The critical lines chi = 1 of ReLU, hard-tanh and erf networks have closed forms: ReLU (2, 0) for every "
             "q*; hard-tanh (1/erf(a), q* - V(q*)/erf(a)), a = 1/sqrt(2 q*); erf (pi sqrt(1+4q*)/4, "
             "q* - sqrt(1+4q*) asin(2q*/(1+2q*))/2) for plain erf.",
       source=f"{PSG17}, Table 1 and section 3 (derived here for plain erf(h)); docs/formulas.md §4",
       kind="identity",
       formula="sigma_w^2 = 1/mu_1(q*),  sigma_b^2 = q* - sigma_w^2 V(q*)")
def critical_line(ctx):
    for act, fixed, crit in _critical_line_symbolic(wrong=ctx.control):
        yield stats.proof_check(f"{act}: q* is a fixed point and chi = 1 (sympy)", fixed == 0 and crit == 0,
                                f"map(q*) - q* = {fixed}; chi - 1 = {crit}")
    for act, q, V, m1 in _quadrature_closed_forms((0.05, 0.5, 3.0)):
        Vc = th.length_variance(act, q)
        m1c = th.mu(act, q, 1)
        if ctx.control and act == "erf":  # the rescaled-erf formula used for plain erf
            m1c = 1 / math.sqrt(1 + math.pi * q)
        yield stats.tolerance_check(f"{act} V(q={q}) closed form vs 30-digit quadrature", V, Vc, 64 * EPS * max(1, V),
                                    reason="float evaluation of erf/asin/exp: a few ulps")
        yield stats.tolerance_check(f"{act} mu_1(q={q}) closed form vs quadrature", m1, m1c, 64 * EPS * max(1, m1),
                                    reason="float evaluation: a few ulps")


JM_ACTS = ("linear", "relu", "hard_tanh", "erf", "tanh")


def _jm_point(act: str, q_star: float):
    """Critical point (ReLU (2, 0); bounded activations at ``q_star``); linear off-critical (1.25, 0) so
    that its mean chi^L = 1.25^L is not 1."""
    if act == "linear":
        return 1.25, 0.0
    if act == "relu":
        return 2.0, 0.0
    return th.critical_point(act, q_star)


@claim("isometry.jacobian-moments",
       title="The spectrum of J J^T of a wide random network has mean chi^L and normalized variance "
             "L (mu_2/mu_1^2 - 1 - s_1), s_1 = -1 for Gaussian and 0 for orthogonal weights, for every activation.",
       source=f"{PSG17}, eqs. 12-17; docs/formulas.md §4 (formula confirmed)",
       kind="asymptotic",
       formula="mean = chi^L;  Var/mean^2 = L (mu_2/mu_1^2 - 1 - s_1)",
       settings={"sizes": ((16, 24, 32, 48, 64, 96), (32, 48, 64, 96, 128, 192), (64, 96, 128, 192, 256, 384, 512)),
                 "replicas": (32, 64, 96), "depth": (6, 8, 16), "q_star": (0.5, 0.5, 0.5)})
def jacobian_moments(ctx):
    s = ctx.settings
    L = s["depth"]
    for act in JM_ACTS:
        sw2, sb2 = _jm_point(act, s["q_star"])
        qin = _q_input(act, sw2, sb2)
        for weights in th.WEIGHTS:
            mean_t, _ = th.jacobian_moments(act, L, weights=weights, sigma_w2=sw2, sigma_b2=sb2)
            nv_t = th.normalized_variance(act, L, weights=weights, sigma_w2=sw2, sigma_b2=sb2)
            if ctx.control:
                # the derivative factors forgotten (mean sigma_w^{2L}); for the linear net, L + 1 layers
                mean_t = sw2 ** (L + 1) if act == "linear" else sw2**L
                other = "orthogonal" if weights == "gaussian" else "gaussian"  # s_1 of the other ensemble
                nv_t = th.normalized_variance(act, L, weights=other, sigma_w2=sw2, sigma_b2=sb2)
            m_est, m_se, v_est, v_se = [], [], [], []
            for n in s["sizes"]:
                run = simulate_network(act, width=n, depth=L, replicas=s["replicas"], sigma_w2=sw2, sigma_b2=sb2,
                                       weights=weights, q_input=qin, rng=_spawn(ctx, act, weights, str(n)))
                m1, nv = jacobian_moment_estimates(run.jacobian)
                R = m1.size
                m_est.append(m1.mean()); m_se.append(m1.std(ddof=1) / math.sqrt(R))
                v_est.append(nv.mean()); v_se.append(nv.std(ddof=1) / math.sqrt(R))
            if weights == "orthogonal" and act == "linear":
                # J is sigma_w^L times an orthogonal matrix: exact at every N, no extrapolation needed
                yield stats.tolerance_check(f"mean, linear/orthogonal, L={L}", mean_t, m_est[-1],
                                            8 * L * EPS * mean_t, reason="L products of orthogonal matrices")
                yield stats.tolerance_check(f"normalized variance, linear/orthogonal, L={L}", nv_t, v_est[-1],
                                            64 * L * EPS, reason="orthogonal product: rounding only")
                continue
            tag = f"{act}/{weights}, L={L}" + ("" if act in ("linear", "relu") else f", q*={s['q_star']}")
            yield stats.extrapolation_check(f"mean, {tag}", s["sizes"], m_est, m_se, mean_t, powers=(1, 2))
            yield stats.extrapolation_check(f"normalized variance, {tag}", s["sizes"], v_est, v_se, nv_t,
                                            powers=(1, 2))


DENSITY_CASES = {
    "quick": (("relu", "gaussian", None, 2), ("hard_tanh", "orthogonal", 1.0, 6), ("erf", "gaussian", 0.5, 3)),
    "default": (("relu", "gaussian", None, 2), ("relu", "orthogonal", None, 8), ("hard_tanh", "orthogonal", 1.0, 8),
                ("hard_tanh", "gaussian", 0.5, 4), ("erf", "orthogonal", 0.5, 8), ("tanh", "gaussian", 0.5, 4)),
}
DENSITY_CASES["full"] = DENSITY_CASES["default"] + (("hard_tanh", "orthogonal", 0.2, 32), ("erf", "orthogonal", 0.2, 32))


def _critical(act, qs):
    if qs is None:
        return (1.0, 0.0) if act == "linear" else (2.0, 0.0)
    return th.critical_point(act, qs)


@claim("isometry.jacobian-density",
       title="The empirical spectrum of J J^T of critical random networks converges to the free-probability law "
             "(S-transform product), for ReLU, hard-tanh, erf and tanh with Gaussian and orthogonal weights.",
       source=f"{PSG17}, eq. 12 and Fig. 1; {PSG18}",
       kind="asymptotic",
       formula="x m S_{JJ^T}(m) = 1 + m,  rho(x) = |Im m(x + i0)| / (pi x)",
       settings={"sizes": ((32, 64, 128), (64, 128, 256), (128, 256, 512)), "replicas": (24, 32, 48)})
def jacobian_density(ctx):
    s = ctx.settings
    for act, weights, qs, L in DENSITY_CASES[ctx.mode]:
        sw2, sb2 = _critical(act, qs)
        law = th.jacobian_spectrum(act, L, weights=weights, sigma_w2=sw2, sigma_b2=sb2)
        used = law
        if ctx.control:  # the spectrum of the other weight ensemble
            other = "orthogonal" if weights == "gaussian" else "gaussian"
            used = th.jacobian_spectrum(act, L, weights=other, sigma_w2=sw2, sigma_b2=sb2)
        qs_grid = law.atom + (1 - law.atom) * np.array([0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95])
        grid = law.ppf(qs_grid)
        qin = _q_input(act, sw2, sb2)
        data = {}
        for n in s["sizes"]:
            run = simulate_network(act, width=n, depth=L, replicas=s["replicas"], sigma_w2=sw2, sigma_b2=sb2,
                                   weights=weights, q_input=qin, rng=_spawn(ctx, act, weights, str(L), str(n)))
            data[n] = squared_singular_values(run.jacobian)
        yield stats.ecdf_extrapolation_check(f"{act}/{weights}, L={L}" + (f", q*={qs}" if qs else ""), data,
                                             used.cdf, grid, powers=(1,))


EDGE_CASES = {
    "quick": (("relu", "gaussian", None, 2), ("hard_tanh", "orthogonal", 1.0, 4)),
    "default": (("relu", "gaussian", None, 2), ("hard_tanh", "orthogonal", 1.0, 4), ("erf", "orthogonal", 0.5, 4),
                ("tanh", "gaussian", 0.5, 2)),
}
EDGE_CASES["full"] = EDGE_CASES["default"]


@claim("isometry.max-eigenvalue",
       title="The largest eigenvalue of J J^T converges to the right edge of the free-probability support, "
             "a critical value of x(m) = (1 + m)/(m S(m)).",
       source=f"{PSG17}, section 2.3; {PSG18}",
       kind="asymptotic",
       formula="lambda_max -> x(m*),  d/dm log x(m*) = 0 (finite-N shift ~ N^(-2/3))",
       settings={"sizes": ((32, 64, 128, 256), (64, 128, 256, 512), (128, 256, 512, 1024)),
                 "replicas": (24, 48, 64)})
def max_eigenvalue(ctx):
    s = ctx.settings
    for act, weights, qs, L in EDGE_CASES[ctx.mode]:
        sw2, sb2 = _critical(act, qs)
        edge = th.jacobian_spectrum(act, L, weights=weights, sigma_w2=sw2, sigma_b2=sb2).support()[1]
        if ctx.control:  # the Fuss-Catalan edge (L+1)^(L+1)/L^L, as for a deep linear Gaussian network
            edge = (L + 1) ** (L + 1) / L**L * th.jacobian_moments(act, L, weights=weights, sigma_w2=sw2,
                                                                     sigma_b2=sb2)[0]
        qin = _q_input(act, sw2, sb2)
        est, se = [], []
        for n in s["sizes"]:
            run = simulate_network(act, width=n, depth=L, replicas=s["replicas"], sigma_w2=sw2, sigma_b2=sb2,
                                   weights=weights, q_input=qin, rng=_spawn(ctx, act, weights, str(n)))
            top = squared_singular_values(run.jacobian)[:, -1]
            est.append(top.mean()); se.append(top.std(ddof=1) / math.sqrt(top.size))
        yield stats.extrapolation_check(f"lambda_max, {act}/{weights}, L={L}", s["sizes"], est, se, edge,
                                        powers=(2 / 3,))


def _no_isometry_symbolic(wrong: bool = False):
    q, L = sp.symbols("q L", positive=True)
    res = []
    ok, detail = _relu_ratio(wrong=wrong)
    nv_g = L * (2 - 1 + 1)
    nv_o = L * (2 - 1 - 0)
    res.append(("relu: mu_2/mu_1^2 = 2 so Var/mean^2 = 2L (Gaussian), L (orthogonal) >= L",
                ok and sp.simplify(nv_g - 2 * L) == 0 and sp.simplify(nv_o - L) == 0, detail))
    p = sp.erf(1 / sp.sqrt(2 * q))
    lim_ht = sp.limit(1 / p - 1, q, 0, "+")
    ratio_erf = ((4 / sp.pi) ** 2 / sp.sqrt(1 + 8 * q)) / ((4 / sp.pi) / sp.sqrt(1 + 4 * q)) ** 2
    lim_erf = sp.limit(ratio_erf - 1, q, 0, "+")
    if wrong:  # a Gaussian-weight s_1 slipped into the orthogonal formula
        lim_ht, lim_erf = lim_ht + 1, lim_erf + 1
    res.append(("hard-tanh/orthogonal: Var/mean^2 = L(1/erf(1/sqrt(2q*)) - 1) -> 0 as q* -> 0", lim_ht == 0,
                f"limit = {lim_ht}"))
    res.append(("erf/orthogonal: Var/mean^2 = L((1+4q*)/sqrt(1+8q*) - 1) -> 0 as q* -> 0", lim_erf == 0,
                f"limit = {lim_erf}"))
    return res


@claim("isometry.relu-no-isometry",
       title="ReLU networks cannot reach dynamical isometry: the normalized variance of J J^T is 2L (Gaussian) or L "
             "(orthogonal) at every sigma_w, sigma_b; hard-tanh and erf with orthogonal weights approach isometry "
             "(normalized variance -> 0) as q* -> 0.",
       source=f"{PSG17}, section 3.2 and Fig. 2",
       kind="identity",
       formula="ReLU: mu_2/mu_1^2 = 2;  hard-tanh/orth: L(1/erf(1/sqrt(2q*)) - 1) -> 0",
       settings={"width": (96, 192, 512), "replicas": (24, 48, 64), "depth": (8, 16, 32)})
def relu_no_isometry(ctx):
    for name, holds, detail in _no_isometry_symbolic(wrong=ctx.control):
        yield stats.proof_check(name, holds, detail)
    s = ctx.settings
    L, n, R = s["depth"], s["width"], s["replicas"]
    # numerics: ReLU at two (sigma_w, sigma_b) points and both ensembles stays >= L; hard-tanh/orthogonal at
    # small q* stays far below (<= L/10).
    cases = [("relu", "gaussian", 2.0, 0.0), ("relu", "orthogonal", 2.0, 0.0), ("relu", "gaussian", 1.5, 0.2),
             ("relu", "orthogonal", 2.5, 0.1)]
    sw_h, sb_h = th.critical_point("hard_tanh", 0.1)
    sw_e, sb_e = th.critical_point("erf", 0.01)
    cases += [("hard_tanh", "orthogonal", sw_h, sb_h), ("erf", "orthogonal", sw_e, sb_e)]
    for act, weights, sw2, sb2 in cases:
        run = simulate_network(act, width=n, depth=L, replicas=R, sigma_w2=sw2, sigma_b2=sb2, weights=weights,
                               q_input=_q_input(act, sw2, sb2), rng=_spawn(ctx, act, weights, str(sw2)))
        _, nv = jacobian_moment_estimates(run.jacobian)
        est, se = float(nv.mean()), float(nv.std(ddof=1) / math.sqrt(nv.size))
        relu = act == "relu"
        if relu != ctx.control:  # control: the bounds swapped (ReLU isometric, hard-tanh not)
            yield stats.bound_check(f"{act}/{weights} (sw2={sw2:.4g}, sb2={sb2:.3g}): Var/mean^2 >= L = {L}",
                                    est, se, L, direction="ge", df=nv.size - 1)
        else:
            yield stats.bound_check(f"{act}/{weights} (sw2={sw2:.4g}, sb2={sb2:.3g}): Var/mean^2 <= L/10", est, se, L / 10,
                                    direction="le", df=nv.size - 1)


@claim("isometry.trains-faster",
       title="At a fixed large depth, critical tanh networks with orthogonal weights (well-conditioned Jacobian, "
             "small q*) reach a loss threshold in far fewer gradient steps than the same critical networks with "
             "Gaussian weights (spectrum spreading like L), on a synthetic regression task.",
       source=f"{PSG17}, section 4 and Fig. 4 (CIFAR-10 there; a synthetic linear teacher here)",
       kind="empirical",
       formula="steps(Gaussian) - steps(orthogonal) > 0 (one-sided Welch over independent runs)",
       settings={"width": (32, 64, 128), "depth": (16, 32, 64), "replicas": (6, 10, 10),
                 "steps": (300, 800, 2000), "lr": (0.05, 0.05, 0.02), "q_star": (0.05, 0.05, 0.05)})
def trains_faster(ctx):
    from degeneracy.numerics.networks import init_network
    from degeneracy.numerics.training import PopulationTask, train

    s = ctx.settings
    n, L, R = s["width"], s["depth"], s["replicas"]
    sw2, sb2 = th.critical_point("tanh", s["q_star"])
    g = _spawn(ctx, "task")
    T = np.linalg.qr(g.standard_normal((n, n)))[0]  # a random orthogonal linear teacher
    task = PopulationTask(T)
    steps = {}
    for init in ("orthogonal", "gaussian"):
        net = init_network([n] * (L + 1), R, init=init, gain=math.sqrt(sw2), activation="tanh",
                           bias_std=math.sqrt(sb2), rng=_spawn(ctx, init))
        res = train(net, task, optimizer="gd", lr=s["lr"], steps=s["steps"], record_at=())
        loss = np.where(np.isfinite(res.loss), res.loss, np.inf)
        thr = 0.1 * loss[:, 0]
        hit = loss <= thr[:, None]
        # runs that never reach the threshold count as the step budget (censored: favours the slower arm)
        steps[init] = np.where(hit.any(axis=1), hit.argmax(axis=1), s["steps"]).astype(float)
    a, b = steps["gaussian"], steps["orthogonal"]
    if ctx.control:
        a, b = b, a
    ctx.note(f"steps to 10% of the initial loss (tanh, critical q*={s['q_star']}, L={L}, N={n}, gd lr={s['lr']}): "
             f"orthogonal {steps['orthogonal'].mean():.0f} +- {steps['orthogonal'].std(ddof=1):.0f}, Gaussian "
             f"{steps['gaussian'].mean():.0f} +- {steps['gaussian'].std(ddof=1):.0f} "
             f"({int((steps['gaussian'] >= s['steps']).sum())}/{R} Gaussian runs censored at {s['steps']}); "
             f"ratio >= {steps['gaussian'].mean() / steps['orthogonal'].mean():.1f}x")
    yield stats.difference_check("steps to threshold: Gaussian - orthogonal > 0", a, b, direction="greater")
