"""Claims and certificates on the exact gradient dynamics of deep linear networks.

Theory: :mod:`theory.linear_dynamics`. Numerics: :mod:`numerics.networks`,
:mod:`numerics.training`. Sources: Saxe, McClelland & Ganguli (2013, arXiv:1312.6120);
Arora, Cohen & Hazan (ICML 2018); Du, Hu & Lee (NeurIPS 2018); docs/formulas.md §2.

Negative controls (``ctx.control``) use real, plausible mistakes: the two-layer trajectory
without the factor 2 in the exponent, Saxe's balanced solution applied to unbalanced modes (and
the reversed learning order), the deep learning time with the layer count ``N_l`` in place of
the weight count ``N_l - 1``, a sign slip in the exact GD drift of the conserved quantity and a
first-order drift rate, swapped exponents in the end-to-end flow, the mean of ``||delta||^2``
confused with its typical (geometric-mean) value and the variance of ``log ||delta||^2`` used for
``log ||delta||``, the stable learning rate without its factor ``n``, and "growth" demanded of the
orthogonal initialization. No control flips a symbolic certificate of the same run.

Checks of a closed form against a simulation of the same random draw are deterministic: the
simulation error has a derived bound (an ODE solve against a 1000x looser one, a Richardson
remainder against the first-order difference), so they are tolerance checks, not statistics on
correlated values.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from degeneracy.errors import ArgumentValueError
from degeneracy.numerics import dynamics as ns_dyn
from degeneracy.numerics import ensembles, stats
from degeneracy.numerics.dynamics import decoupled_balanced_init, mode_strengths, time_to_criterion
from degeneracy.numerics.networks import NetworkStack
from degeneracy.numerics.training import PopulationTask, train
from degeneracy.theory import linear_dynamics as ld
from degeneracy.theory import mode_equations as me

from .registry import certificate, claim

EPS = float(np.finfo(float).eps)


# =========================================================================== certificates
def _trajectory_solves_ode() -> tuple[bool, str]:
    t, s, u0, tau = sp.symbols("t s u0 tau", positive=True)
    u = sp.Function("u")
    sol = s * sp.exp(2 * s * t / tau) / (sp.exp(2 * s * t / tau) - 1 + s / u0)
    ode = sp.Eq(tau * u(t).diff(t), 2 * u(t) * (s - u(t)))
    ok, resid = sp.checkodesol(ode, sp.Eq(u(t), sol))
    init = sp.simplify(sol.subs(t, 0) - u0)
    return bool(ok) and init == 0, f"checkodesol returned ({ok}, {resid}); u(0) - u0 = {init}"


@certificate("dynamics.trajectory-solves-ode",
             statement="u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0) solves tau du/dt = 2u(s - u), u(0) = u0",
             source="Saxe, McClelland & Ganguli 2013, eq. (6)")
def trajectory_solves_ode():
    return _trajectory_solves_ode()


def _learning_time_derivative(wrong: bool = False) -> tuple[bool, str]:
    """d/du of the closed-form antiderivative equals u^{2/n-2}/(s-u) (both branches, all n).

    ``wrong=True`` (the negative control) checks the implemented function against the ODE of
    ``n + 1`` weight matrices, numerically only.
    """
    parts = []
    holds = True
    if not wrong:
        u, s = sp.symbols("u s", positive=True)
        b, k = sp.symbols("b k", positive=True)
        z = sp.Symbol("z", positive=True)
        # (i) 2F1(1, b; b+1; z) = sum_k b/(b+k) z^k: the Pochhammer coefficients reduce to b/(b+k)
        coef = sp.rf(1, k) * sp.rf(b, k) / (sp.rf(b + 1, k) * sp.factorial(k))
        c_ok = sp.simplify(sp.gammasimp(coef - b / (b + k))) == 0
        # so below s, F(u) = u^b/(s b) 2F1(1,b;b+1;u/s) = (1/s) sum_k u^{b+k}/(s^k (b+k)); term k differentiates to
        # (1/s)(u/s)^k u^{b-1}, and sum_k z^k = 1/(1-z) for 0 < z < 1:
        t_ok = sp.simplify(sp.diff(u ** (b + k) / (s**k * (b + k)) / s, u) - (u / s) ** k * u ** (b - 1) / s) == 0
        geo = sp.summation(z**k, (k, 0, sp.oo))
        g_ok = isinstance(geo, sp.Piecewise) and sp.simplify(geo.args[0][0] - 1 / (1 - z)) == 0
        below_ok = sp.simplify(u ** (b - 1) / s / (1 - u / s) - u ** (b - 1) / (s - u)) == 0
        # above s: F(u) = u^{-a}/a 2F1(1,a;a+1;s/u) = sum_k s^k u^{-a-k}/(a+k), a = 1 - b; terms give -(s/u)^k u^{-a-1}
        a = 1 - b
        t2_ok = sp.simplify(sp.diff(s**k * u ** (-a - k) / (a + k), u) + (s / u) ** k * u ** (-a - 1)) == 0
        above_ok = sp.simplify(-u ** (-a - 1) / (1 - s / u) - u ** (-a) / (s - u)) == 0
        # with b = 2/n - 1 the integrand u^{b-1}/(s-u) is 1/(n u^{2-2/n}(s-u)) * n: the ODE's
        n = sp.Symbol("n", positive=True)
        ode_ok = sp.simplify((u ** (b - 1)).subs(b, 2 / n - 1) * u ** (2 - 2 / n) - 1) == 0
        holds = c_ok and t_ok and g_ok and below_ok and t2_ok and above_ok and ode_ok
        parts.append(f"2F1 coefficients b/(b+k): {c_ok}; termwise derivatives: {t_ok and t2_ok}; geometric series: "
                     f"{g_ok}; below s: {below_ok}; above s: {above_ok}; b = 2/n - 1 gives the ODE: {ode_ok}")
    # the implemented function (mpmath, 30 digits) differentiates back to the ODE for n = 1..8
    worst = 0.0
    for nn in range(1, 9):
        for (u0v, ufv, sv) in ((0.01, 1.3, 2.0), (3.0, 2.2, 2.0)):
            eps = 1e-6
            h = lambda x: ld.learning_time(u0v, x, s=sv, n_weights=nn + (1 if wrong else 0))
            dtdu = (h(ufv + eps) - h(ufv - eps)) / (2 * eps)
            rhs = 1.0 / (nn * ufv ** (2 - 2 / nn) * (sv - ufv))
            worst = max(worst, abs(dtdu - rhs) / abs(rhs))
    num_ok = worst < 1e-6
    parts.append(f"implemented dt/duf vs 1/(n u^(2-2/n)(s-u)), n=1..8, both branches: max rel. dev. {worst:.1e} "
                 "(central difference, h = 1e-6)")
    return holds and num_ok, "; ".join(parts)


@certificate("dynamics.learning-time-derivative",
             statement="t(uf) = (tau/n)[F(uf) - F(u0)] with F = u^b/(s b) 2F1(1,b;b+1;u/s), b = 2/n - 1 "
                       "(and its u > s and n = 1, 2 forms) satisfies dt/duf = tau / (n uf^(2-2/n) (s - uf))",
             source="derived here; Saxe et al. 2013 sec. 3 (the n = 2 case is their eq. 7)")
def learning_time_derivative():
    return _learning_time_derivative()


def _balanced_difference_conserved() -> tuple[bool, str]:
    a, b, s, tau = sp.symbols("a b s tau", real=True)
    da = b * (s - a * b) / tau
    db = a * (s - a * b) / tau
    d = sp.simplify(2 * a * da - 2 * b * db)
    return d == 0, f"d/dt (a^2 - b^2) = {d}"


@certificate("dynamics.two-layer-conservation",
             statement="tau da/dt = b(s - ab), tau db/dt = a(s - ab) conserve a^2 - b^2",
             source="Saxe et al. 2013, sec. 2")
def two_layer_conservation():
    return _balanced_difference_conserved()


def _noncommutative_conservation() -> tuple[bool, str]:
    """d/dt (W_{j+1}^T W_{j+1} - W_j W_j^T) = 0 for rectangular, non-commuting matrix symbols."""
    n0, n1, n2, nA, nL = sp.symbols("n_0 n_1 n_2 n_A n_L", positive=True, integer=True)
    A = sp.MatrixSymbol("A", n0, nA)      # W_{j-1} ... W_1 (any depth below)
    Wj = sp.MatrixSymbol("W_j", n1, n0)
    Wk = sp.MatrixSymbol("W_j+1", n2, n1)
    C = sp.MatrixSymbol("C", nL, n2)      # W_n ... W_{j+2} (any depth above)
    G = sp.MatrixSymbol("G", nL, nA)      # dl/dW for the end-to-end map, arbitrary loss
    dWj = -(C * Wk).T * G * A.T           # -dl/dW_j
    dWk = -C.T * G * (Wj * A).T           # -dl/dW_{j+1}
    expr = (dWk.T * Wk + Wk.T * dWk) - (dWj * Wj.T + Wj * dWj.T)
    generic = sp.expand(expr.doit())
    generic_ok = generic == 0 or isinstance(generic, sp.ZeroMatrix)
    # explicit depth-4 chain with four different shapes: every adjacent pair
    d = sp.symbols("d0:5", positive=True, integer=True)
    W = [sp.MatrixSymbol(f"W{i + 1}", d[i + 1], d[i]) for i in range(4)]
    Gm = sp.MatrixSymbol("G", d[4], d[0])

    def chain(lo, hi, dim):
        out = sp.Identity(dim)
        for i in range(lo, hi + 1):
            out = W[i] * out
        return out

    flows = [-(chain(j + 1, 3, d[j + 1])).T * Gm * (chain(0, j - 1, d[0])).T for j in range(4)]
    explicit_ok = True
    for j in range(3):
        e = (flows[j + 1].T * W[j + 1] + W[j + 1].T * flows[j + 1]) - (flows[j] * W[j].T + W[j] * flows[j].T)
        e = sp.expand(e.doit())
        explicit_ok = explicit_ok and (e == 0 or isinstance(e, sp.ZeroMatrix))
    return generic_ok and explicit_ok, (f"generic pair with arbitrary chains above/below: {generic}; "
                                        f"explicit depth-4 chain, 4 symbolic shapes, all 3 pairs zero: {explicit_ok}")


@certificate("dynamics.conservation-noncommutative",
             statement="under dW_j/dt = -dl/dW_j, d/dt (W_{j+1}^T W_{j+1} - W_j W_j^T) = 0 for any loss of "
                       "the end-to-end map and rectangular non-commuting W_j (sympy MatrixSymbol)",
             source="Arora, Cohen & Hazan, ICML 2018 (Thm. 1 proof); Du, Hu & Lee, NeurIPS 2018")
def conservation_noncommutative():
    return _noncommutative_conservation()


def _hessian_top(wrong: bool = False) -> tuple[bool, str]:
    s = sp.Symbol("s", positive=True)
    ok = True
    found = []
    for n in range(1, 7):
        a = sp.symbols(f"a1:{n + 1}", positive=True)
        loss = (sp.Mul(*a) - s) ** 2 / 2
        H = sp.hessian(loss, a).subs({ai: s ** sp.Rational(1, n) for ai in a})
        H = sp.simplify(H)
        ev = H.eigenvals()
        top = sp.simplify(max(ev, key=lambda e: sp.N(e.subs(s, 2))))
        pred = n * s ** (2 - sp.Rational(2, n)) if not wrong else s ** (2 - sp.Rational(2, n))
        ok = ok and sp.simplify(top - pred) == 0 and sp.simplify(sum(m for e, m in ev.items() if e == 0) - (n - 1)) == 0
        found.append(f"n={n}: {top}")
    # general n: at the optimum the residual vanishes, H = g g^T with g = s^{(n-1)/n} (1, ..., 1)
    n = sp.Symbol("n", positive=True, integer=True)
    g2 = sp.simplify(n * (s ** ((n - 1) / n)) ** 2 - n * s ** (2 - 2 / n))
    ok = ok and g2 == 0
    return ok, "; ".join(found) + f"; general n: ||g||^2 - n s^(2-2/n) = {g2}"


@certificate("dynamics.hessian-top-eigenvalue",
             statement="at the optimum of 0.5 (a_1...a_n - s)^2 the Hessian has top eigenvalue n s^(2-2/n) "
                       "(and n-1 zeros): gradient descent is stable iff eta < 2/(n s^(2-2/n))",
             source="Saxe et al. 2013 sec. 3 (learning-rate scaling); docs/formulas.md §2")
def hessian_top_eigenvalue():
    return _hessian_top()


@certificate("dynamics.mode-equations-derived",
             statement="sympy derives the gradient flow of 0.5||W_n...W_1 - Sigma||_F^2 (matrix calculus on "
                       "non-commuting symbols), restricts it to the decoupled ansatz W_j = O_j D_j O_(j-1)^T and finds "
                       "Saxe's mode equations tau da_j/dt = prod_(k!=j) a_k (s - prod a_k), the conserved a_(j+1)^2 - a_j^2 "
                       "and W_(j+1)^T W_(j+1) - W_j W_j^T, and tau du/dt = n u^(2-2/n)(s-u) for balanced modes; n = 1..4",
             source="Saxe, McClelland & Ganguli 2013, secs. 2-3; Arora, Cohen & Hazan 2018")
def mode_equations_derived():
    parts = [me.certify_mode_equations(n) for n in range(1, 5)]
    return all(p[0] for p in parts), " | ".join(p[1] for p in parts)


def _unbalanced_solution(wrong: bool = False) -> tuple[bool, str]:
    """The Riccati solution behind :func:`theory.linear_dynamics.saxe_two_layer_strengths`, in sympy."""
    t, tau, s = sp.symbols("t tau s", positive=True)
    C, X0 = sp.symbols("C X_0", real=True)
    res = []
    for sigma in (s, -s):  # P = (a + b)^2 solves the s-equation, Q = (a - b)^2 the (-s)-equation
        D = sp.sqrt(sigma**2 + C**2 / 4)
        xp, xm = 2 * (sigma + D), 2 * (sigma - D)
        E = sp.exp(-(1 if wrong else 2) * D * t / tau)  # control: the rate D instead of 2D
        X = (xp * (X0 - xm) - xm * (X0 - xp) * E) / ((X0 - xm) - (X0 - xp) * E)
        res.append(sp.simplify(tau * sp.diff(X, t) - (2 * sigma * X - X**2 / 2 + C**2 / 2)))
        res.append(sp.simplify(X.subs(t, 0) - X0))
        if any(r != 0 for r in res):
            return False, f"the Riccati solution fails: residuals {res}"
    # a = (p + C/p)/2, b = (p - C/p)/2 with tau dp/dt = (2 s P - P^2/2 + C^2/2)/(2p), P = p^2, solve the mode equations
    p = sp.Symbol("p", real=True, nonzero=True)
    dp = (2 * s * p**2 - p**4 / 2 + C**2 / 2) / (2 * p * tau)
    a, b = (p + C / p) / 2, (p - C / p) / 2
    res.append(sp.simplify(tau * sp.diff(a, p) * dp - b * (s - a * b)))
    res.append(sp.simplify(tau * sp.diff(b, p) * dp - a * (s - a * b)))
    res.append(sp.simplify(a**2 - b**2 - C))
    Q = C**2 / p**2  # (a - b)^2 = C^2 / P: the Q-equation is consistent with the P-equation
    res.append(sp.simplify(tau * sp.diff(Q, p) * dp - (-2 * s * Q - Q**2 / 2 + C**2 / 2)))
    holds = all(r == 0 for r in res)
    return holds, (f"{len(res)} residuals {'all 0' if holds else res}: X(t) solves tau dX/dt = +-2sX - X^2/2 + C^2/2 "
                   "with X(0) = X_0; a = (p + C/p)/2, b = (p - C/p)/2 solve tau da/dt = b(s - ab), "
                   "tau db/dt = a(s - ab) and keep a^2 - b^2 = C")


@certificate("dynamics.unbalanced-solution",
             statement="With C = a^2 - b^2 conserved, P = (a+b)^2 and Q = (a-b)^2 solve constant-coefficient Riccati "
                       "equations whose solutions X(t) = [X+(X0 - X-) - X-(X0 - X+)E]/[(X0 - X-) - (X0 - X+)E], "
                       "E = exp(-2Dt/tau), D = sqrt(s^2 + C^2/4), give the exact unbalanced two-layer mode (a(t), b(t))",
             source="derived here from the mode equations of Saxe, McClelland & Ganguli 2013, sec. 2 (conserved "
                    "a^2 - b^2); cf. Fukumizu 1998 (matrix Riccati); Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022")
def unbalanced_solution():
    return _unbalanced_solution()


# =========================================================================== helpers
def _flow_scale(runs, values_of_flow, extra: float = 0.0) -> float:
    """Error scale of the tight flow: its distance to the loose one (rtol 1000x larger) plus rounding."""
    tight, loose = sorted(runs.flow)
    return float(np.max(np.abs(values_of_flow(tight) - values_of_flow(loose)))) + extra


def _gd_richardson(runs, values_of_gd):
    """``(residual, bound)`` arrays on the common grid: GD Richardson-extrapolated (steps eta, eta/2)."""
    e1, e2 = sorted(runs.gd)[::-1]  # eta, eta / 2
    k1 = int(round(runs.t[-1] / e1)) // (runs.t.size - 1)
    v1 = values_of_gd(e1)[:, ::k1]
    v2 = values_of_gd(e2)[:, ::2 * k1]
    return 2 * v2 - v1, np.abs(v1 - v2)


# =========================================================================== claims
@claim("dynamics.saxe-two-layer",
       title="A one-hidden-layer linear network with whitened data and small balanced decoupled initialization "
             "follows u(t) = s e^{2st}/(e^{2st} - 1 + s/u0) for every mode, exactly under gradient flow and to "
             "first order in the learning rate under gradient descent.",
       source="Saxe, McClelland & Ganguli 2013, eq. (6)",
       kind="finite-n",
       formula="u(t) = s / (1 + (s/u0 - 1) e^{-2 s t / tau}) vs (i) the gradient flow of the whole network "
               "(solve_ivp, every layer), within its distance to a 1000x looser solve; (ii) gradient descent, "
               "Richardson-extrapolated from steps eta and eta/2, within |u(eta) - u(eta/2)|",
       settings={"width": (4, 6, 8), "replicas": (6, 10, 20), "t_end": 6.0, "u0": 1e-3,
                 "eta": (0.01, 0.005, 0.0025)})
def saxe_two_layer(ctx):
    d, R = ctx.settings["width"], ctx.settings["replicas"]
    t_end, u0, eta = ctx.settings["t_end"], ctx.settings["u0"], ctx.settings["eta"]
    S = ctx.rng.uniform(0.5, 3.0, size=(R, d))  # independent random target spectra per replica
    a0 = np.full((R, d), math.sqrt(u0))
    runs = ns_dyn.two_layer_runs(S, a0, a0, t_end=t_end, etas=(eta, eta / 2), rng=ctx.spawn("frames"))
    rate = 1.0 if ctx.control else 2.0  # control: exponent s t instead of 2 s t
    theo = S[:, None, :] / (1 + (S[:, None, :] / u0 - 1) * np.exp(-rate * S[:, None, :] * runs.t[None, :, None]))
    u_flow = lambda rtol: runs.flow[rtol][0] * runs.flow[rtol][1]  # noqa: E731
    tight = min(runs.flow)
    scale = _flow_scale(runs, u_flow, 64 * EPS * float(S.max()))
    yield stats.tolerance_check(f"gradient flow of the whole network vs u(t), {R} x {d} modes, t in [0, {t_end}]",
                                0.0, float(np.max(np.abs(u_flow(tight) - theo))), scale,
                                reason="DOP853 at rtol 1e-10: its error is below its distance to the rtol 1e-7 solve; "
                                       "plus 64 eps s_max rounding")
    resid, bound = _gd_richardson(runs, lambda e: runs.gd[e][0] * runs.gd[e][1])
    yield stats.tolerance_check(f"gradient descent (eta = {eta}, {eta / 2}), Richardson-extrapolated, vs u(t)", 0.0,
                                float(np.max(np.abs(resid - theo))), float(np.max(bound)),
                                reason="O(eta^2) Richardson remainder bounded by the O(eta) difference |u(eta) - u(eta/2)|")


def _unbalanced_theory(S, a0, b0, t, control):
    """Closed-form (a, b) per mode; control: the imbalance ignored (Saxe's balanced solution from |u0| = |a0 b0|)."""
    R, d = S.shape
    a = np.empty((R, t.size, d))
    b = np.empty_like(a)
    for r in range(R):
        for j in range(d):
            x, y = a0[r, j], b0[r, j]
            if control:
                x = y = math.sqrt(abs(x * y))
            a[r, :, j], b[r, :, j] = ld.saxe_two_layer_strengths(t, s=S[r, j], a0=x, b0=y)
    return a, b


def _half_times(S, a0, b0, control):
    u0 = a0 * b0
    out = np.empty_like(S)
    for idx in np.ndindex(S.shape):
        x, y = a0[idx], b0[idx]
        if control:
            x = y = math.sqrt(abs(x * y))
        out[idx] = ld.two_layer_learning_time((u0[idx] + S[idx]) / 2, s=S[idx], a0=x, b0=y)
    return out


def _flow_half_times(runs, rtol, levels, t_grid_u):
    """Crossing times of u = ab through ``levels`` along the flow: bracket on the grid, brentq on the dense output."""
    from scipy import optimize

    V, O, U = runs.frames
    at = runs.flow_at[rtol]

    def u_of(time, r, j):
        W1, W2 = at(time)
        return float(U[r, :, j] @ W2[r] @ W1[r] @ V[r, :, j])

    out = np.empty(levels.shape)
    for r, j in np.ndindex(levels.shape):
        k = int(np.flatnonzero(t_grid_u[r, :, j] >= levels[r, j])[0])
        out[r, j] = optimize.brentq(lambda x: u_of(x, r, j) - levels[r, j], runs.t[k - 1], runs.t[k], xtol=1e-14,
                                    rtol=4 * EPS)
    return out


@claim("dynamics.unbalanced-modes",
       title="From any small decoupled initial condition, balanced or not, every mode of a one-hidden-layer linear "
             "network follows the exact solution through the conserved a^2 - b^2, and reaches half strength at the "
             "exact time t_alpha; from equal small strengths the modes are learned one after another in the order "
             "of their singular values s_alpha (stage-like transitions).",
       source="Saxe, McClelland & Ganguli 2013, sec. 2 (a^2 - b^2 conserved) and Fig. 3; exact unbalanced "
              "solution derived here; Saxe, McClelland & Ganguli, PNAS 116 (2019) (stage-like transitions)",
       kind="finite-n",
       formula="(a+b)^2, (a-b)^2 solve Riccati equations (dynamics.unbalanced-solution); t_alpha = time at which "
               "u = ab reaches (u0 + s)/2; checked on the gradient flow of the whole network (solve_ivp) and on "
               "gradient descent (Richardson, steps eta and eta/2)",
       settings={"width": 4, "replicas": (4, 8, 16), "t_end": 24.0, "eta": (0.02, 0.01, 0.005)})
def unbalanced_modes(ctx):
    d, R, t_end, eta = ctx.settings["width"], ctx.settings["replicas"], ctx.settings["t_end"], ctx.settings["eta"]
    rng = ctx.rng
    s_ladder = 3.0 * 0.5 ** np.arange(d)
    configs = {}
    # arbitrary small unbalanced strengths: magnitudes 10^U(-2, -0.5), independent random signs, a0 + b0 != 0
    S = s_ladder * rng.uniform(0.8, 1.25, size=(R, d))
    mag = 10 ** rng.uniform(-2.0, -0.5, size=(2, R, d))
    sign = np.where(rng.random((2, R, d)) < 0.5, -1.0, 1.0)
    a0, b0 = mag * sign
    S[0, 0], a0[0, 0], b0[0, 0] = 3.0, 0.5, 0.02  # a user's example: a0 = 25 b0
    configs["unbalanced"] = (S, a0, b0)
    u0 = 1e-4  # equal small balanced strengths: the stage-like sequence
    S2 = s_ladder * rng.uniform(0.9, 1.1, size=(R, d))
    configs["balanced u0=1e-4"] = (S2, np.full((R, d), math.sqrt(u0)), np.full((R, d), math.sqrt(u0)))
    for label, (S, a0, b0) in configs.items():
        runs = ns_dyn.two_layer_runs(S, a0, b0, t_end=t_end, etas=(eta, eta / 2), n_times=241,
                                     rng=ctx.spawn("frames", label))
        tight, loose = sorted(runs.flow)
        a_th, b_th = _unbalanced_theory(S, a0, b0, runs.t, ctx.control)
        both = lambda rtol: np.concatenate(runs.flow[rtol], axis=-1)  # noqa: E731
        scale = _flow_scale(runs, both, 64 * EPS * float(np.sqrt(S.max())))
        dev = float(np.max(np.abs(both(tight) - np.concatenate([a_th, b_th], axis=-1))))
        yield stats.tolerance_check(f"{label}: a(t), b(t) of the whole network's gradient flow vs exact", 0.0, dev,
                                    scale, reason="DOP853 at rtol 1e-10 within its distance to the rtol 1e-7 solve; "
                                                  "plus 64 eps sqrt(s_max) rounding")
        C = (a0**2 - b0**2)[:, None, :]
        drift = lambda rtol: runs.flow[rtol][0] ** 2 - runs.flow[rtol][1] ** 2  # noqa: E731
        yield stats.tolerance_check(f"{label}: a^2 - b^2 conserved along the flow", 0.0,
                                    float(np.max(np.abs(drift(tight) - C))),
                                    _flow_scale(runs, drift, 64 * EPS * float(S.max())),
                                    reason="as above, for a^2 - b^2")
        levels = (a0 * b0 + S) / 2
        t_half = _half_times(S, a0, b0, ctx.control)
        th_hi = _flow_half_times(runs, tight, levels, runs.flow[tight][0] * runs.flow[tight][1])
        th_lo = _flow_half_times(runs, loose, levels, runs.flow[loose][0] * runs.flow[loose][1])
        yield stats.tolerance_check(f"{label}: half-strength times t_alpha on the flow vs exact", 0.0,
                                    float(np.max(np.abs(th_hi - t_half))),
                                    float(np.max(np.abs(th_hi - th_lo))) + 64 * EPS * t_end,
                                    reason="brentq on the dense output (xtol 1e-14); DOP853 rtol 1e-10 error within its "
                                           "distance to rtol 1e-7")
        gd_times = {}
        for e in runs.gd:
            ugd = runs.gd[e][0] * runs.gd[e][1]
            gd_times[e] = np.array([[ns_dyn.crossing_time(ugd[r, :, j], levels[r, j], e) for j in range(d)]
                                    for r in range(R)])
        t1, t2 = gd_times[eta], gd_times[eta / 2]
        yield stats.tolerance_check(f"{label}: half-strength times under gradient descent (Richardson) vs exact", 0.0,
                                    float(np.max(np.abs(2 * t2 - t1 - t_half))),
                                    float(np.max(np.abs(t1 - t2))) + 64 * EPS * t_end,
                                    reason="O(eta^2) Richardson remainder (and O(eta^2) interpolation) bounded by the "
                                           "O(eta) difference |t(eta) - t(eta/2)|")
        if label.startswith("balanced"):
            order = np.argsort(2 * t2 - t1, axis=1)
            expect = np.argsort(-S, axis=1)[:, ::-1] if ctx.control else np.argsort(-S, axis=1)
            yield stats.exact_check(f"{label}: modes learned in the order of s (every replica)", True,
                                    bool(np.all(order == expect)),
                                    detail="half-strength times " + "; ".join(
                                        ", ".join(f"{x:.2f}" for x in row) for row in (2 * t2 - t1)[:2]) + " ...")


def _deep_times(n, svals, u0_frac, uf_frac, eta, seed):
    """Crossing times of every mode of a width-d deep linear network (balanced decoupled init)."""
    rng = np.random.default_rng(seed)
    d = len(svals)
    U = ensembles.haar_orthogonal(d, rng=rng)[None]
    V = ensembles.haar_orthogonal(d, rng=rng)[None]
    S = np.asarray(svals, dtype=float)
    T = (U * S[None, None, :]) @ np.swapaxes(V, -1, -2)
    u0 = u0_frac * S
    a0 = (u0 ** (1.0 / n))[None, :]
    ws = decoupled_balanced_init(U, V, a0, n, [[np.random.default_rng(rng.integers(2**63))] for _ in range(n - 1)])
    t_max = 1.5 * max(ld.learning_time(u0[j], uf_frac * S[j], s=S[j], n_weights=n) for j in range(d)) + 10 * eta
    steps = int(math.ceil(t_max / eta))
    traj = []
    train(NetworkStack(ws), PopulationTask(T), optimizer="gd", lr=eta, steps=steps, record_at=(),
          callback=lambda k, net: traj.append(mode_strengths(net, U, V)[0]))
    traj = np.array(traj)
    return [ns_dyn.crossing_time(traj[:, j], uf_frac * S[j], eta) for j in range(d)]


@claim("dynamics.saxe-deep",
       title="Deep linear networks with balanced decoupled initialization take exactly learning_time(u0, uf) "
             "(the 2F1 closed form of tau du/dt = n u^(2-2/n)(s-u)) at every depth; Saxe's large-depth "
             "formula's error shrinks with depth.",
       source="Saxe et al. 2013, sec. 3 (eqs. for N_l layers); closed form derived here",
       kind="finite-n",
       formula="t = (tau/n)[F(uf) - F(u0)], F(u) = u^b/(s b) 2F1(1, b; b+1; u/s), b = 2/n - 1; "
               "Richardson-extrapolated GD crossing time (steps eta, eta/2) vs t within |t(eta) - t(eta/2)|",
       settings={"depths": ((2, 4, 8), (2, 4, 8, 16), (2, 4, 8, 16, 32)), "s": [2.0, 1.25, 0.8], "u0": 0.02,
                 "uf": 0.5, "eta": (0.01, 0.004, 0.002)})
def saxe_deep(ctx):
    svals, u0f, uff, eta = ctx.settings["s"], ctx.settings["u0"], ctx.settings["uf"], ctx.settings["eta"]
    rel_large = []
    for n in ctx.settings["depths"]:
        seed = int(ctx.rng.integers(2**63))
        t1 = _deep_times(n, svals, u0f, uff, eta, seed)
        t2 = _deep_times(n, svals, u0f, uff, eta / 2, seed)
        for j, s in enumerate(svals):
            t_rich = 2 * t2[j] - t1[j]
            u0, uf = u0f * s, uff * s
            # control: the layer count N_l = n + 1 used where the weight count n belongs
            theory = ld.learning_time(u0, uf, s=s, n_weights=n + 1 if ctx.control else n)
            scale = abs(t1[j] - t2[j]) + 64 * EPS * t_rich / eta
            yield stats.tolerance_check(f"n={n}, s={s}: learning time", theory, t_rich, scale,
                                        reason="Richardson remainder bounded by the first-order difference "
                                               "|t(eta) - t(eta/2)|")
            if j == 0:
                large = ld.learning_time_large_depth(u0, uf, s=s, n_layers=n + 1)
                rel_large.append(abs(large - t_rich) / t_rich)
    dec = all(b < a for a, b in zip(rel_large, rel_large[1:]))
    yield stats.exact_check(f"large-depth formula: relative error decreases with depth (s={svals[0]})", True, dec,
                            detail="relative errors " + ", ".join(f"{x:.3g}" for x in rel_large))


@claim("dynamics.conservation",
       title="W_{j+1}^T W_{j+1} - W_j W_j^T is conserved by gradient flow (proved for general shapes with "
             "non-commutative symbols); under gradient descent each step changes it by exactly "
             "eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T), so its drift scales as the square of the learning rate.",
       source="Arora, Cohen & Hazan, ICML 2018; Du, Hu & Lee, NeurIPS 2018",
       kind="identity",
       formula="d/dt (W_{j+1}^T W_{j+1} - W_j W_j^T) = 0; GD: C_j(k+1) - C_j(k) = eta^2 (G_{j+1}^T G_{j+1} - "
               "G_j G_j^T) exactly, summed over K steps; drift exponent 2 (Richardson over halving eta)",
       settings={"widths": (5, 4, 6, 3), "replicas": (8, 16, 32), "steps": 10,
                 "lrs": (0.0016, 0.0008, 0.0004, 0.0002, 0.0001)})
def conservation(ctx):
    holds, detail = _noncommutative_conservation()
    yield stats.proof_check("symbolic: conservation for non-commuting rectangular matrices", holds, detail)
    widths, R, K = ctx.settings["widths"], ctx.settings["replicas"], ctx.settings["steps"]
    rng = ctx.rng
    ws = [rng.standard_normal((R, widths[i + 1], widths[i])) / math.sqrt(widths[i]) for i in range(len(widths) - 1)]
    X = rng.standard_normal((widths[0], 20))
    Y = rng.standard_normal((R, widths[-1], 20))
    from degeneracy.numerics.training import FullBatchTask

    # control: a sign slip in the exact drift, + G_j G_j^T in place of - G_j G_j^T
    def exact_drift(grads, eta):
        if not ctx.control:
            return ld.gd_conservation_drift(grads, eta)
        return [eta**2 * (np.swapaxes(grads[j + 1], -1, -2) @ grads[j + 1] + grads[j] @ np.swapaxes(grads[j], -1, -2))
                for j in range(len(grads) - 1)]

    drifts, one_dev, k_dev, wmax = [], 0.0, 0.0, 0.0
    for eta in ctx.settings["lrs"]:
        seen = []
        res = train(NetworkStack([w.copy() for w in ws]), FullBatchTask(X, Y[0]), optimizer="gd", lr=eta, steps=K,
                    record_at=(), callback=lambda k, net: seen.append([w.copy() for w in net.weights]))
        c0, cK = ld.conserved_quantities(seen[0]), ld.conserved_quantities(res.network.weights)
        drifts.append(np.sqrt(sum(np.sum((a - b) ** 2, axis=(-2, -1)) for a, b in zip(c0, cK))))
        acc = [np.zeros_like(c) for c in c0]
        for k in range(K):
            _, g = NetworkStack(seen[k]).loss_and_gradients(X, Y[0])
            step = exact_drift(g.weights, eta)
            acc = [a + s for a, s in zip(acc, step)]
            if k == 0:  # the one-step identity, on its own
                c1 = ld.conserved_quantities(seen[1])
                one_dev = max(one_dev, max(float(np.max(np.abs((b - a) - s))) for a, b, s in zip(c0, c1, step)))
            wmax = max(wmax, max(float(np.max(np.abs(w))) for w in seen[k]))
        k_dev = max(k_dev, max(float(np.max(np.abs((b - a) - s))) for a, b, s in zip(c0, cK, acc)))
    scale_norm = wmax**2 * max(widths)
    yield stats.tolerance_check("one GD step changes C_j by exactly eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T)", 0.0,
                                one_dev, 16 * EPS * scale_norm,
                                reason="rounding of d-term inner products: 16 eps max|W|^2 max(d)")
    yield stats.tolerance_check(f"{K} GD steps change C_j by exactly the sum of the one-step terms", 0.0, k_dev,
                                16 * K * EPS * scale_norm, reason=f"{K} steps of rounding, 16 eps max|W|^2 max(d) each")
    drifts = np.array(drifts)  # (n_lr, R)
    lrs = np.asarray(ctx.settings["lrs"], dtype=float)
    if np.any(np.abs(np.diff(np.log2(lrs)) + 1) > 1e-12):
        raise ArgumentValueError("the learning rates of dynamics.conservation must halve step by step")
    # local exponent between consecutive (halving) learning rates, per network: 2 + c eta + O(eta^2); the
    # Richardson combination 2 l_last - l_prev removes the O(eta) term, its size |l_last - l_prev| bounds the rest
    local = np.log2(drifts[:-1] / drifts[1:])  # (n_lr - 1, R)
    rich = 2 * local[-1] - local[-2]
    rate = 1.0 if ctx.control else 2.0  # control: the first-order drift a sloppy argument predicts
    worst = int(np.argmax(np.abs(rich - rate)))
    yield stats.tolerance_check(f"exponent of the drift of C after {K} GD steps (Richardson, eta -> 0; worst of {R})",
                                rate, float(rich[worst]),
                                float(np.max(np.abs(local[-1] - local[-2]))) + 1e-9,
                                reason="O(eta^2) remainder of the Richardson-combined local exponents bounded by the "
                                       "O(eta) difference of the last two; 1e-9 for rounding of log ratios")


def _random_balanced(rng, n, d, R):
    """Balanced weights W_l = O_l D O_{l-1}^T with a shared positive diagonal D per replica."""
    frames = [np.stack([ensembles.haar_orthogonal(d, rng=rng) for _ in range(R)]) for _ in range(n + 1)]
    D = rng.uniform(0.6, 1.3, size=(R, 1, d))
    return [(frames[l + 1] * D) @ np.swapaxes(frames[l], -1, -2) for l in range(n)]


def _e2e_velocity(W, G, n, control):
    if not control:
        return ld.end_to_end_velocity(W, G, n_weights=n)
    # control: exponents j/n and (n-j)/n (off by one in the left power)
    WWt = W @ np.swapaxes(W, -1, -2)
    WtW = np.swapaxes(W, -1, -2) @ W
    out = np.zeros_like(W)
    for j in range(1, n + 1):
        out = out - ld.psd_power(WWt, j / n) @ G @ ld.psd_power(WtW, (n - j) / n)
    return out


@claim("dynamics.end-to-end",
       title="For balanced initialization the layerwise gradient flow moves the end-to-end matrix exactly as "
             "Arora et al.'s preconditioned flow dW/dt = -sum_j (WW^T)^((j-1)/n) grad l (W^TW)^((n-j)/n).",
       source="Arora, Cohen & Hazan, ICML 2018, Thm. 1",
       kind="identity",
       formula="sum_j W_{n:j+1} (dl/dW_j) W_{j-1:1} = sum_j (WW^T)^((j-1)/n) grad l(W) (W^TW)^((n-j)/n)",
       settings={"depth": (3, 4, 5), "width": (3, 4, 5), "replicas": (4, 8, 16), "t_end": 0.3, "h": 0.01})
def end_to_end(ctx):
    n, d, R = ctx.settings["depth"], ctx.settings["width"], ctx.settings["replicas"]
    rng = ctx.rng
    ws = _random_balanced(rng, n, d, R)
    T = rng.standard_normal((R, d, d))
    W = ws[0]
    for w in ws[1:]:
        W = w @ W
    G = W - T
    lay = ld.layerwise_end_to_end_velocity(ws, G)
    e2e = _e2e_velocity(W, G, n, ctx.control)
    mag = float(np.max(np.abs(lay)))
    yield stats.tolerance_check("instantaneous velocity at random balanced points", 0.0, float(np.max(np.abs(lay - e2e))),
                                64 * n * d * EPS * max(mag, 1.0),
                                reason="eigendecomposition powers: 64 n d eps times the velocity scale")

    # trajectories: RK4 on the layers vs RK4 on the end-to-end matrix, step h and h/2
    def layer_rhs(layers):
        P = layers[0]
        for w in layers[1:]:
            P = w @ P
        return [-g for g in ld.layer_gradients(layers, P - T)]

    def run_layers(h):
        L = [w.copy() for w in ws]
        for _ in range(int(round(ctx.settings["t_end"] / h))):
            k1 = layer_rhs(L)
            k2 = layer_rhs([a + 0.5 * h * b for a, b in zip(L, k1)])
            k3 = layer_rhs([a + 0.5 * h * b for a, b in zip(L, k2)])
            k4 = layer_rhs([a + h * b for a, b in zip(L, k3)])
            L = [a + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4) for a, b1, b2, b3, b4 in zip(L, k1, k2, k3, k4)]
        P = L[0]
        for w in L[1:]:
            P = w @ P
        return P

    def run_e2e(h):
        X = W.copy()
        f = lambda M: _e2e_velocity(M, M - T, n, ctx.control)
        for _ in range(int(round(ctx.settings["t_end"] / h))):
            k1 = f(X)
            k2 = f(X + 0.5 * h * k1)
            k3 = f(X + 0.5 * h * k2)
            k4 = f(X + h * k3)
            X = X + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return X

    h = ctx.settings["h"]
    A1, A2 = run_layers(h), run_layers(h / 2)
    B1, B2 = run_e2e(h), run_e2e(h / 2)
    scale = float(np.max(np.abs(A1 - A2)) + np.max(np.abs(B1 - B2))) + 64 * n * d * EPS * float(np.max(np.abs(A2)))
    yield stats.tolerance_check(f"W(t={ctx.settings['t_end']}) layerwise vs end-to-end flow (RK4)", 0.0,
                                float(np.max(np.abs(A2 - B2))), scale,
                                reason="RK4 error of step h/2 bounded by the h vs h/2 difference of each integrator")


@claim("dynamics.activation-gradients-at-init",
       title="With Gaussian variance-1/N weights, E||delta_l||^2 = ||g||^2 at every layer (no vanishing at "
             "initialization) while Var log||delta_l|| = k psi'(N/2)/4 grows linearly with the distance k to the output.",
       source="derived here (chi-square increments; cf. Newman 1986, Saxe et al. 2013 sec. 4); docs/formulas.md §2",
       kind="finite-n",
       formula="||W^T v||^2/||v||^2 ~ chi^2_N/N i.i.d.: E||delta||^2 = ||g||^2, "
               "E log||delta|| = log||g|| + (k/2)[psi(N/2) + log(2/N)], Var log||delta|| = k psi'(N/2)/4",
       settings={"width": (8, 16, 32), "depth": (10, 20, 30), "replicas": (20000, 400000, 400000)})
def activation_gradients_at_init(ctx):
    """Replicas in chunks of at most 20000 (one stream each). E||delta||^2 at k = L is checked directly and,
    layer by layer, as E[||W^T v||^2 / ||v||^2] = 1 for every layer (the direct check's resolution is limited by
    the heavy right tail of a product of k chi-square factors)."""
    N, L, R = ctx.settings["width"], ctx.settings["depth"], ctx.settings["replicas"]
    g = ctx.rng.standard_normal(N)
    g /= np.linalg.norm(g)
    logn = np.zeros((R, L + 1))
    sq = np.ones((R, L + 1))
    chunk = 20000
    for c0 in range(0, R, chunk):
        rng = ctx.spawn("chunk", str(c0 // chunk))
        r = min(chunk, R - c0)
        v = np.broadcast_to(g, (r, N)).copy()
        for k in range(1, L + 1):  # k layers between delta and the output
            W = ensembles.gaussian(N, size=r, rng=rng)
            v = (np.swapaxes(W, -1, -2) @ v[:, :, None])[:, :, 0]  # W^T v
            nv = np.sum(v * v, axis=1)
            sq[c0:c0 + r, k] = nv
            logn[c0:c0 + r, k] = 0.5 * np.log(nv)
    ratio = sq[:, 1:] / sq[:, :-1]  # per-layer factors ||W^T v||^2 / ||v||^2, (R, L)
    yield stats.vector_mean_check(f"every layer: E[||W^T v||^2 / ||v||^2] = 1 (L = {L} layers)", ratio,
                                  # control: the typical (geometric-mean) factor, 6 % below 1 at N = 16
                                  np.full(L, math.exp(2 * ld.activation_gradient_log_mean(width=N, distance=1))
                                          if ctx.control else 1.0),
                                  labels=[f"layer {k}" for k in range(1, L + 1)])
    for k in sorted({L // 2, L}):
        m = ld.activation_gradient_log_mean(width=N, distance=k)
        var = ld.activation_gradient_log_variance(width=N, distance=k)
        ms = ld.activation_gradient_mean_square(width=N, distance=k)
        m_claimed = m
        if ctx.control:  # typical value taken for the mean; "no drift" of the log; variance of log||.||^2
            ms = math.exp(2 * m)
            m_claimed = 0.0
            var = 4 * var
        tail = (1 + 2 / N) ** k - 1  # Var of the product of k independent chi^2_N / N factors
        yield stats.mean_check(f"k={k}: E||delta||^2 / ||g||^2", sq[:, k], ms,
                               detail=f"variance of ||delta||^2/||g||^2 is (1 + 2/N)^k - 1 = {tail:.3g} with a heavy "
                                      "right tail: the resolution of this mean is limited; the per-layer check "
                                      "resolves the same statement")
        yield stats.mean_check(f"k={k}: E log||delta||", logn[:, k], m_claimed)
        yield stats.mean_check(f"k={k}: Var log||delta|| (squared deviation from the exact mean)",
                               (logn[:, k] - ld.activation_gradient_log_mean(width=N, distance=k)) ** 2, var)


LR_DEPTH = 0.05


@claim("dynamics.orthogonal-depth-independence",
       title="Time to learn vs depth is flat for orthogonal initialization and grows for scaled Gaussian "
             "initialization.",
       source="Saxe et al. 2013, Fig. 6A and sec. 4",
       kind="empirical",
       formula="epochs until loss <= 10% of its initial value, full-batch GD on the whitened population loss, "
               "lr = 0.05 / n_weights (the stable rate scales as 1/n); target Gaussian variance 1/N; growth = "
               "log t(deepest) - log t(shallowest); Gaussian growth > orthogonal growth, Gaussian growth > 0 "
               "(runs that never reach the criterion count as max_steps + 1: a lower bound)",
       settings={"width": (8, 16, 32), "depths": ((2, 12), (2, 8, 32), (2, 8, 32)), "replicas": (16, 16, 20),
                 "max_steps": (1000, 3000, 3000)})
def orthogonal_depth_independence(ctx):
    N, R = ctx.settings["width"], ctx.settings["replicas"]
    depths = ctx.settings["depths"]
    rng = ctx.rng
    T = ensembles.gaussian(N, size=R, rng=rng)
    times = {}
    for init in ("orthogonal", "gaussian"):
        for n in depths:
            from degeneracy.numerics.networks import init_network

            net = init_network([N] * (n + 1), R, init=init, rng=ctx.spawn(init, str(n)))
            res = train(net, PopulationTask(T), optimizer="gd", lr=LR_DEPTH / n, steps=ctx.settings["max_steps"],
                        record_at=())
            times[init, n] = time_to_criterion(res.loss, 0.1)  # diverged runs (loss inf) never reach it
            if np.any(res.diverged):
                ctx.note(f"{init} n={n}: {int(res.diverged.sum())} of {R} runs diverged (counted as never learning)")
    lo, hi = depths[0], depths[-1]
    g_growth = np.log(times["gaussian", hi]) - np.log(times["gaussian", lo])
    o_growth = np.log(times["orthogonal", hi]) - np.log(times["orthogonal", lo])
    ctx.note("median epochs to criterion: " + "; ".join(
        f"{k[0]} n={k[1]}: {np.median(v):.0f}" for k, v in sorted(times.items())))
    if ctx.control:  # control: the reversed statement (orthogonal grows more) must not be detected
        g_growth, o_growth = o_growth, g_growth
    yield stats.paired_difference_check(f"growth with depth ({lo}->{hi}): Gaussian > orthogonal", g_growth, o_growth,
                                        "greater")
    yield stats.difference_check(f"Gaussian: log t(n={hi}) > log t(n={lo})", np.log(times["gaussian", hi]),
                                 np.log(times["gaussian", lo]), "greater")


@claim("dynamics.learning-rate-depth",
       title="At the optimum of the balanced scalar chain the Hessian's top eigenvalue is n s^(2-2/n), so the "
             "largest stable gradient-descent step is 2/(n s^(2-2/n)): it shrinks like 1/depth.",
       source="Saxe et al. 2013 sec. 3; docs/formulas.md §2",
       kind="identity",
       formula="lambda_max = n s^(2-2/n) (sympy); measured stability boundary eta* (root of the per-step log growth "
               "of a 1e-7 perturbation, brentq) = 2 / lambda_max",
       settings={"depths": ((1, 2, 5, 10), (1, 2, 5, 10, 30), (1, 2, 5, 10, 30, 100)), "s": (0.5, 2.0)})
def learning_rate_depth(ctx):
    holds, detail = _hessian_top(wrong=False)
    yield stats.proof_check("symbolic Hessian eigenvalues, n = 1..6 and general n", holds, detail)
    delta, K = 1e-7, 40
    for n in ctx.settings["depths"]:
        for s in ctx.settings["s"]:
            lam = ld.hessian_top_eigenvalue(s=s, n_weights=n)
            if ctx.control:  # control: the factor n forgotten
                lam = s ** (2 - 2 / n)
            e1 = ns_dyn.stability_boundary(n, s, delta=delta, steps=K)
            e2 = ns_dyn.stability_boundary(n, s, delta=10 * delta, steps=K)
            tol = abs(e1 - e2) + e1 * 8 * n * EPS / (delta * K)
            yield stats.tolerance_check(f"n={n}, s={s}: measured largest stable step vs 2/(n s^(2-2/n))", 2 / lam, e1,
                                        tol, reason="O(delta) nonlinearity bounded by |eta*(delta) - eta*(10 delta)|; "
                                                    "rounding of the residual, 8 n eps / (delta K) relative")
