"""Claims: pathologies of deep random networks (Duvenaud, Rippel, Adams & Ghahramani, AISTATS 2014).

Every claim yields one named check per part, so a mixed verdict says exactly which parts hold.
Negative controls (``ctx.control``) swap in a real, plausible mistake: the paper's printed
log-derivative law, an off-by-one digamma argument, the wrong Lambert-W branch, or the
opposite direction of a conjectured effect. ``pathologies.normalization-digits`` tests the
normalization conjecture while training on scikit-learn's digits; its control replaces each
normalized arm by a twin of the unnormalized one (a null: it must not be supported).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from scipy import optimize, special

from degeneracy.numerics import stats
from degeneracy.numerics.pathologies import (
    jacobian_spectra,
    log_abs_derivative,
    random_mlp,
)
from degeneracy.proofs.realdata import sequential_arms
from degeneracy.proofs.registry import certificate, claim
from degeneracy.proofs.replication import replicate
from degeneracy.theory import pathologies as th

EPS = float(np.finfo(float).eps)
DUVENAUD = "Duvenaud, Rippel, Adams & Ghahramani, AISTATS 2014"


# ---------------------------------------------------------------------------------------------
# symbolic certificates


def _log_abs_gaussian_symbolic():
    z = sp.symbols("z", positive=True)
    v = sp.symbols("v", positive=True)
    pdf = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
    m1 = sp.simplify(2 * sp.integrate(sp.log(z) * pdf, (z, 0, sp.oo)))
    m2 = sp.simplify(2 * sp.integrate(sp.log(z) ** 2 * pdf, (z, 0, sp.oo)))
    mean = sp.log(sp.sqrt(v)) + m1  # log|g| = log sqrt(v) + log|z|
    var = sp.simplify(m2 - m1**2)
    return mean, var, v


@certificate("pathologies.log-abs-gaussian-moments",
             statement="For g ~ N(0, v): E log|g| = (1/2) log v - (gamma + log 2)/2 and Var log|g| = pi^2/8",
             source=f"{DUVENAUD}, Sec. 3 (corrected); docs/formulas.md §5")
def _cert_log_abs():
    mean, var, v = _log_abs_gaussian_symbolic()
    r1 = sp.simplify(sp.expand_log(mean - (sp.log(v) / 2 - (sp.EulerGamma + sp.log(2)) / 2), force=True))
    r2 = sp.simplify(var - sp.pi**2 / 8)
    return (r1 == 0 and r2 == 0), f"residuals {r1}, {r2}"


@certificate("pathologies.printed-variance-not-a-variance",
             statement="The printed v_log equals pi^2/8 at no more than two scales and is negative for "
                       "sigma/ell outside [0.634, 5.62]; it depends on the scale, Var log|g| does not",
             source=f"{DUVENAUD}, Sec. 3")
def _cert_printed():
    a = sp.symbols("a", real=True)  # a = log(sigma/ell)
    g, l2 = sp.EulerGamma, sp.log(2)
    v = sp.pi**2 / 4 + l2**2 / 2 - g**2 - g * sp.log(4) + 2 * a * (g + l2 - a)
    depends = sp.diff(v, a) != 0
    concave = sp.diff(v, a, 2) == -4
    lo, hi = th.printed_variance_negative_range()
    roots = sorted(float(sp.exp(r)) for r in sp.solve(sp.Eq(v, 0), a))
    ok = depends and concave and abs(roots[0] - lo) < 1e-12 and abs(roots[1] - hi) < 1e-12
    return ok, f"d v/da = {sp.diff(v, a)}; roots sigma/ell = {roots}"


@certificate("pathologies.connected-kernel-lambert-w",
             statement="k* = -W_0(-exp(-1 - r^2/2)) solves k - log k = 1 + r^2/2",
             source=f"{DUVENAUD}, Sec. 6 (which says it has no closed form)")
def _cert_lambert():
    import mpmath as mp

    c = sp.symbols("c", positive=True)
    u = sp.symbols("u", positive=True)  # u = -W_0(y) in (0, 1) for y = -exp(-c) in (-1/e, 0)
    # defining relation W e^W = y  <=>  u e^{-u} = exp(-c)  =>  log u - u = -c
    log_rel = sp.expand_log(sp.log(u * sp.exp(-u)), force=True)
    step = sp.simplify(log_rel - (sp.log(u) - u)) == 0
    k = u
    log_k = u - c
    residual = sp.simplify(k - log_k - c)
    # the closed form evaluated on the principal branch, 50 digits, several c = 1 + r^2/2
    with mp.workdps(50):
        worst = max(abs(kk - mp.log(kk) - cc) for cc in (mp.mpf("1.001"), mp.mpf("1.5"), mp.mpf(3), mp.mpf(9))
                    for kk in [-mp.lambertw(-mp.exp(-cc), 0)])
    ok = step and residual == 0 and worst < mp.mpf(10) ** -45
    return bool(ok), f"log step {step}; symbolic residual {residual}; 50-digit residual {mp.nstr(worst, 3)}"


@certificate("pathologies.deep-kernel-recursions",
             statement="exp(-(1/2)[k(x,x) - 2k(x,x') + k(x',x')]) = exp(k - 1) when k(x,x) = 1; "
                       "appending x adds -r^2/2; 1/(1 - e^{-e}) - 1/e = 1/2 + e/12 + O(e^3)",
             source=f"{DUVENAUD}, Sec. 6")
def _cert_recursions():
    k, r, e = sp.symbols("k r e", positive=True)
    r1 = sp.simplify(sp.exp(-(1 - 2 * k + 1) / 2) - sp.exp(k - 1))
    r2 = sp.simplify(sp.exp(-(1 - 2 * k + 1) / 2 - r**2 / 2) - sp.exp(k - 1 - r**2 / 2))
    ser = sp.series(1 / (1 - sp.exp(-e)) - 1 / e, e, 0, 3).removeO()
    r3 = sp.simplify(ser - (sp.Rational(1, 2) + e / 12))
    return (r1 == 0 and r2 == 0 and r3 == 0), f"residuals {r1}, {r2}, {r3}"


# ---------------------------------------------------------------------------------------------
# pathologies.log-derivative


@claim("pathologies.log-derivative",
       title="log|f'| of a depth-L 1-D deep GP has mean L[(1/2)log(s2) - (gamma+log 2)/2] and variance "
             "L pi^2/8; the paper's printed N(L m_log, L^2 v_log) disagrees with simulation.",
       source=f"{DUVENAUD}, Sec. 3 (printed limit corrected); docs/formulas.md §5",
       kind="finite-n",
       formula="E log|f'_{1:L}| = L (log s2 - gamma - log 2)/2, Var = L pi^2/8; printed: L^2 v_log(sigma/ell)",
       settings={"depth": (10, 25, 50), "replicas": (20000, 100000, 400000)})
def log_derivative(ctx):
    L, R = ctx.settings["depth"], ctx.settings["replicas"]
    s2 = th.constant_derivative_variance()  # the paper's choice sigma^2/ell^2 = pi/2
    x = log_abs_derivative([L], R, variance=s2, rng=ctx.rng)[0]
    mean, var = th.log_derivative_law(L, s2)
    p_mean, p_var = th.duvenaud_printed_limit(L, math.sqrt(s2))
    if ctx.control:  # the printed law as the prediction
        mean, var = p_mean, p_var
    yield stats.mean_check("mean log|f'|", x, mean)
    # variance about the *predicted* mean: E (x - mean)^2 = Var when the mean is right
    yield stats.mean_check("variance log|f'| (about predicted mean)", (x - mean) ** 2, var)
    sq = (x - th.log_derivative_law(L, s2)[0]) ** 2
    yield stats.exceeds_check("printed L^2 v_log exceeds simulated variance", sq, p_var, "less",
                              detail="one-sample one-sided t: mean replica squared deviation below "
                                     f"the printed constant {p_var:.4g}")
    yield stats.exceeds_check("printed L m_log below simulated mean", x, p_mean, "greater",
                              detail=f"one-sample one-sided t: simulated mean above the printed mean {p_mean:.4g} "
                                     "(m_log is the mean of log f'^2)")
    ctx.note(f"sigma^2/ell^2 = pi/2, L = {L}: printed (mean, var) = ({p_mean:.3f}, {p_var:.3f}); "
             f"correct = {th.log_derivative_law(L, s2)}; simulated = ({x.mean():.3f}, {x.var():.3f})")


# ---------------------------------------------------------------------------------------------
# pathologies.jacobian-collapse


def _off_by_one_gap(n: int) -> float:
    """A real slip: psi((n - i)/2) instead of psi((n - i + 1)/2) in Newman's formula."""
    return 0.5 * (special.digamma((n - 2) / 2) - special.digamma((n - 1) / 2))


@claim("pathologies.jacobian-collapse",
       title="s_2/s_1 of a deep-GP Jacobian decays like exp(L(mu_2 - mu_1)); connecting the input to every "
             "layer stops it only when mu_1 < 0 (variance below exp(-psi(D/2))/2), not at the paper's unit variance.",
       source=f"{DUVENAUD}, Thm 3.1, Sec. 5, Figs. 4 and 8; Newman 1986; deep_singular_value_dist.m",
       kind="asymptotic",
       formula="(1/L) log(s_2/s_1) -> max(mu_2,0)-max(mu_1,0) (connected) or mu_2-mu_1 (standard); "
               "mu_i = (1/2)[log(2 s2) + psi((D-i+1)/2)]",
       settings={"dim": 5, "samples": (4000, 20000, 100000), "depths": (50, 100),
                 "subcritical_variance": 0.1})
def jacobian_collapse(ctx):
    D, S = ctx.settings["dim"], ctx.settings["samples"]
    L1, L2 = ctx.settings["depths"]
    v_sub = ctx.settings["subcritical_variance"]
    record = sorted({2, 6, 25, 50, L1, L2})
    cases = {"standard": (False, 1.0), "connected-unit": (True, 1.0), "connected-sub": (True, v_sub)}
    spectra = {name: jacobian_spectra(D, record, S, variance=v, connected=c, rng=ctx.spawn(name))
               for name, (c, v) in cases.items()}

    def slope(name):
        sp_ = spectra[name]
        return (np.log(sp_[L2][:, 1]) - np.log(sp_[L1][:, 1])) / (L2 - L1)

    std_rate = th.normalized_spectrum_rate(D)[1]
    con_unit = th.connected_normalized_spectrum_rate(D, 1.0)[1]
    con_sub = th.connected_normalized_spectrum_rate(D, v_sub)[1]
    if ctx.control:
        std_rate = _off_by_one_gap(D)  # digamma off by one
        con_unit = 0.0                 # "the input connection always prevents the collapse"
        con_sub = std_rate             # "the input connection does not help"
    yield stats.mean_check("standard: rate of log(s2/s1) = mu2 - mu1", slope("standard"), std_rate)
    yield stats.paired_difference_check("standard: s2/s1 smaller at 50 than at 6 layers (log)",
                                        np.log(spectra["standard"][6][:, 1]), np.log(spectra["standard"][50][:, 1]))
    yield stats.mean_check("connected, unit variance (paper's script): same collapse rate", slope("connected-unit"),
                           con_unit)
    yield stats.mean_check(f"connected, variance {v_sub}: rate 0 (stationary law)", slope("connected-sub"),
                           con_sub).aims(0.05, "a zero rate: the mistake is 5% of the standard collapse rate",
                                         scale=abs(th.normalized_spectrum_rate(D)[1]))
    yield stats.difference_check(f"connected (variance {v_sub}) keeps s2/s1 above standard at 50 layers (log)",
                                 np.log(spectra["connected-sub"][50][:, 1]), np.log(spectra["standard"][50][:, 1]))
    med = {name: {L: float(np.median(sp_[L][:, 1])) for L in (2, 6, 25, 50)} for name, sp_ in spectra.items()}
    ctx.note("median s2/s1 at 2, 6, 25, 50 layers: " + "; ".join(
        f"{n}: " + ", ".join(f"{v:.3g}" for v in m.values()) for n, m in med.items()))
    ctx.note(f"stationarity threshold for D={D}: variance < {th.connected_stability_threshold(D):.4f}")


# ---------------------------------------------------------------------------------------------
# pathologies.deep-kernel


@claim("pathologies.deep-kernel",
       title="The composed SE kernel k_{l+1} = exp(k_l - 1) tends to 1 with 1/(1-k_l) = l/2 + (1/6)log l + C; "
             "input-connected, it tends geometrically (ratio k*) to k* = -W_0(-exp(-1 - r^2/2)).",
       source=f"{DUVENAUD}, Sec. 6",
       kind="identity",
       formula="k - log k = 1 + r^2/2;  k* = -W_0(-e^{-1-r^2/2});  |k_l - k*| ~ C k*^l;  1/(1-k_l) ~ l/2 + log(l)/6",
       settings={"radii": (0.5, 1.0, 2.0, 4.0)})
def deep_kernel(ctx):
    for cid, fn in (("lambert-w", _cert_lambert), ("recursions", _cert_recursions)):
        holds, detail = fn()
        yield stats.proof_check(f"certificate: {cid}", holds, detail)
    radii = np.asarray(ctx.settings["radii"], dtype=float)
    for r in radii:
        c = 1 + r * r / 2
        kstar = th.connected_kernel_fixed_point(float(r))
        if ctx.control:  # the other Lambert-W branch: the root k > 1, not a correlation
            kstar = float(-special.lambertw(-math.exp(-c), -1).real)
        # independent route: bracketing root of k - log k - c on (0, 1)
        kb = optimize.brentq(lambda t: t - math.log(t) - c, math.exp(-c) / 2, 1.0, xtol=1e-300, rtol=4 * EPS)
        yield stats.tolerance_check(f"r={r}: Lambert-W vs brentq", kb, kstar, 8 * EPS * kb,
                                    reason="both roots to a few ulp; g' = 1 - 1/k is O(1) away from k = 1")
        # iterate the connected recursion 400 layers: contraction k* per layer, rounding eps/(1-k*)
        kl = float(th.connected_se_kernel(r, 400))
        yield stats.tolerance_check(f"r={r}: k_400 -> k*", kstar, kl,
                                    4 * EPS / (1 - kb) + kb ** 399,
                                    reason="geometric contraction k*^L plus accumulated rounding eps/(1 - k*)")
        # local ratio: k_{l+1} - k* = exp(k_l - c) - exp(k* - c) = k* (e^d - 1), d = k_l - k*, exactly;
        # so (k_{l+1} - k*)/d = k* (e^d - 1)/d -> k* (the rate). Taken at the first layer where
        # |d| < 0.05, so the check is neither trivial nor dominated by rounding. The MEASURED ratio
        # uses the independent brentq root kb (not the prediction), so a wrong k* cannot cancel.
        ks = [float(th.connected_se_kernel(r, l)) for l in range(1, 40)]
        l = next(i for i, kv in enumerate(ks) if abs(kv - kb) < 0.05)
        d_meas = ks[l] - kb
        ratio = (ks[l + 1] - kb) / d_meas
        d = ks[l] - kstar
        predicted = kstar * math.expm1(d) / d if d != 0 else kstar
        yield stats.tolerance_check(f"r={r}: convergence ratio k* (e^d - 1)/d", predicted, ratio,
                                    16 * EPS / abs(d_meas),
                                    reason="rounding of the two differences, eps/|d| each (kb and k* agree to a few "
                                           "ulp, checked above)")
    # standard composition: C(l) = 1/(1 - k_l) - l/2 - log(l)/6 converges; the next term of the
    # expansion is C(l) - C = (1/18)(log l + beta)/l (beta = O(10), fitted in mpmath at 30 digits),
    # so after l1 = 1000 C changes by at most log(l1)/l1; rounding of 1 - k ~ 2/l adds l2^3 eps.
    l1, l2 = 1000, 10000
    k1, k2 = float(th.deep_se_kernel(1.0, l1)), float(th.deep_se_kernel(1.0, l2))

    def asym(l):
        if ctx.control:  # a plausible slip: drop the (1/6) log l term of the expansion
            return l / 2
        return float(th.deep_kernel_gap_asymptotic(l))

    c1 = 1 / (1 - k1) - asym(l1)
    yield stats.tolerance_check("standard: 1/(1-k_l) = l/2 + log(l)/6 + C (C from l=1000, tested at l=10^4)",
                                asym(l2) + c1, 1 / (1 - k2), math.log(l1) / l1 + l2**3 * EPS,
                                reason="next term (1/18)(log l + beta)/l of the expansion, and rounding")


# ---------------------------------------------------------------------------------------------
# pathologies.hidden-dimension-collapse

_ACTS = ("tanh", "erf", "hard_tanh", "relu")

#: sequential replication of the two empirical claims: runs per batch ("replicas") and most batches, per mode
_REPLICATION = {"replicas": (10, 24, 48), "batches": (4, 4, 4)}


def _mlp(ctx, act, index, size, **kw):
    return random_mlp(act, width=ctx.settings["width"], depth=ctx.settings["depth"], inputs=ctx.settings["inputs"],
                      replicas=size, q_star=ctx.settings["q_star"], layers=(1, ctx.settings["depth"]),
                      rng=ctx.spawn(act, *(f"{k}={v}" for k, v in kw.items()), f"batch{index}"), **kw)


def _replicate(ctx, batch, evaluate):
    """Sequential replication (proofs.replication) with this module's batch sizes; returns the checks
    and the final pooled samples."""
    latest = {}

    def remember(s):
        latest["s"] = s
        return evaluate(s)

    checks = replicate(ctx, batch, remember, size=ctx.settings["replicas"], batches=ctx.settings["batches"])
    return checks, latest["s"]


@claim("pathologies.hidden-dimension-collapse",
       title="The participation ratio of hidden representations of random networks falls with depth, faster "
             "for hard-saturating nonlinearities (ReLU, hard-tanh) than for smooth ones (tanh, erf) at matched "
             "criticality (chi = 1, q* = 1).",
       source="Orhan 2018 (the seed essay); Duvenaud et al. 2014, Sec. 4 (random MLP, 100 hidden units)",
       kind="empirical",
       formula="PR = (sum lambda)^2 / sum lambda^2 of the centred P x P Gram matrix of layer-l activations; runs added "
               "in batches until every part is decided (O'Brien-Fleming alpha spending) or the budget is spent",
       settings={"width": 100, "depth": (20, 50, 50), "inputs": 64, "q_star": 1.0, **_REPLICATION})
def hidden_dimension_collapse(ctx):
    L = ctx.settings["depth"]
    sign = "less" if ctx.control else "greater"      # control: "PR rises with depth"

    def batch(index, rng, size):
        out = {}
        for a in _ACTS:
            r = _mlp(ctx, a, index, size)
            out[f"{a}|pr1"], out[f"{a}|prL"] = r.hidden_pr[:, 0], r.hidden_pr[:, 1]
        for a in ("tanh", "relu"):
            out[f"{a}|connected|prL"] = _mlp(ctx, a, index, size, connected=True).hidden_pr[:, 1]
        return out

    def evaluate(s):
        drop = {a: np.log(s[f"{a}|prL"] / s[f"{a}|pr1"]) for a in _ACTS}  # log PR_L/PR_1 < 0
        for a in _ACTS:
            yield stats.paired_difference_check(f"{a}: PR falls from layer 1 to layer {L}", s[f"{a}|pr1"],
                                                s[f"{a}|prL"], direction=sign)
        for smooth in ("tanh", "erf"):
            yield stats.difference_check(f"relu falls faster than {smooth}", drop[smooth], drop["relu"],
                                         direction=sign)
            yield stats.difference_check(f"hard_tanh falls faster than {smooth}", drop[smooth], drop["hard_tanh"],
                                         direction=sign)
        for a in ("tanh", "relu"):
            yield stats.difference_check(f"{a}: input-connected keeps a higher PR at layer {L}",
                                         s[f"{a}|connected|prL"], s[f"{a}|prL"], direction=sign)

    checks, s = _replicate(ctx, batch, evaluate)
    yield from checks
    ctx.note("mean PR at layer 1 -> layer %d: " % L + "; ".join(
        f"{a} {s[f'{a}|pr1'].mean():.1f} -> {s[f'{a}|prL'].mean():.1f}" for a in _ACTS)
        + "; connected " + "; ".join(f"{a} {s[f'{a}|connected|prL'].mean():.1f}" for a in ("tanh", "relu")))


# ---------------------------------------------------------------------------------------------
# pathologies.normalization


@claim("pathologies.normalization",
       title="Batch, layer and divisive normalization keep the effective dimension of hidden representations "
             "and the Jacobian's normalized spectrum from collapsing with depth (the seed's conjecture).",
       source="Orhan 2018 (the seed essay): normalization helps partly by breaking degeneracy",
       kind="empirical",
       formula="PR_L(norm) > PR_L(none) for hidden representations and for squared Jacobian singular values, "
               "same sigma_w, sigma_b (chi = 1 at q* = 1), width, depth, inputs; runs added in batches until every "
               "part is decided (O'Brien-Fleming alpha spending) or the budget is spent",
       settings={"width": 100, "depth": (20, 50, 50), "inputs": 64, "q_star": 1.0, **_REPLICATION})
def normalization(ctx):
    L = ctx.settings["depth"]
    sign = "less" if ctx.control else "greater"
    norms = ("batch", "layer", "divisive")

    def batch(index, rng, size):
        out = {}
        for a in ("tanh", "relu"):
            for norm in (None,) + norms:
                r = _mlp(ctx, a, index, size) if norm is None else _mlp(ctx, a, index, size, normalization=norm)
                out[f"{a}|{norm}|hidden"], out[f"{a}|{norm}|jac"] = r.hidden_pr[:, 1], r.jac_pr[:, 1]
        return out

    def evaluate(s):
        for a in ("tanh", "relu"):
            for norm in norms:
                yield stats.difference_check(f"{a}+{norm}: hidden PR at layer {L} above plain", s[f"{a}|{norm}|hidden"],
                                             s[f"{a}|None|hidden"], direction=sign)
                yield stats.difference_check(f"{a}+{norm}: Jacobian PR at layer {L} above plain", s[f"{a}|{norm}|jac"],
                                             s[f"{a}|None|jac"], direction=sign)

    checks, s = _replicate(ctx, batch, evaluate)
    yield from checks
    for a in ("tanh", "relu"):
        for norm in norms:
            ctx.note(f"{a}+{norm}: hidden PR {s[f'{a}|{norm}|hidden'].mean():.2f} vs plain "
                     f"{s[f'{a}|None|hidden'].mean():.2f}; Jacobian PR {s[f'{a}|{norm}|jac'].mean():.2f} vs "
                     f"{s[f'{a}|None|jac'].mean():.2f}")


# ---------------------------------------------------------------------------------------------
# pathologies.normalization on digits


@claim("pathologies.normalization-digits",
       title="[digits] Batch, layer and divisive normalization keep the effective dimension of hidden "
             "representations from collapsing in deep ReLU networks and speed up training (the seed's conjecture), "
             "here while training on scikit-learn's handwritten digits.",
       source="Orhan 2018 (the seed essay): normalization helps partly by breaking degeneracy (digits here)",
       kind="empirical",
       formula="paired over runs (each run its own split, initialization and minibatch order, shared by the arms): "
               "participation ratio of the last hidden layer's representation of held-out inputs, averaged over the "
               "checkpoints of training, PR(norm) > PR(none); mean log training loss, norm < none (one-sided paired "
               "t); minibatch Adam on the softmax cross-entropy; runs added in batches (O'Brien-Fleming). Control: "
               "no normalization compared with its twin (a second initialization), which must not be supported",
       settings={"depth": (6, 20, 30), "width": (32, 64, 100), "steps": (60, 600, 1500), "checkpoints": (3, 6, 6),
                 "probe": (128, 256, 256), "batch": (6, 8, 10), "batches": (3, 3, 5)},
       shares=("digits.normalization",))
def normalization_digits(ctx):
    s = ctx.settings
    sizes = {k: s[k] for k in ("depth", "width", "steps", "checkpoints", "probe")}
    norms = ("batch", "layer", "divisive")
    arms = ("none", "none-twin") if ctx.control else ("none",) + norms

    def arm(n):
        return "none-twin" if ctx.control else n

    def tag(n):
        return f" [control: none-twin in place of {n}]" if ctx.control else ""

    def evaluate(x):
        for n in norms:
            yield stats.paired_difference_check(f"{n}: last hidden layer PR over training above none{tag(n)}",
                                                x[f"{arm(n)}|pr_last"], x["none|pr_last"], "greater")
            yield stats.paired_difference_check(f"{n}: mean log training loss below none{tag(n)}",
                                                x[f"{arm(n)}|log_loss"], x["none|log_loss"], "less")

    checks, x = sequential_arms(ctx, "normalization", sizes, arms, evaluate, size=s["batch"], batches=s["batches"],
                                shared="the digits normalization experiment (the claim and the figure read the "
                                       "same runs)")
    ctx.note(f"digits, ReLU depth {s['depth']}, width {s['width']}, Adam lr 1e-3, {s['steps']} steps, mean over runs: "
             + "; ".join(f"{a}: last-layer PR {x[f'{a}|pr_last'].mean():.2f}, mean log loss "
                         f"{x[f'{a}|log_loss'].mean():.2f}, final test accuracy {x[f'{a}|accuracy'].mean():.3f}"
                         for a in arms))
    yield from checks
