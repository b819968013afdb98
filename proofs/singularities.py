"""Claims and certificates about singular manifolds and skip connections (docs/formulas.md §6).

Orhan & Pitkow (2018): learning slows near the singular manifolds of a network's parameter space
(overlap, elimination, linear dependence of units), and identity skip connections help because
they break these singularities. Each singular set is an exact object here: explicit null
directions of the symbolic Jacobian (certificates, :mod:`theory.singularities`), exact null
dimensions (:mod:`theory.exact_rank`; every hidden unit of an architecture:
:mod:`theory.singularity_engine`), and the numeric empirical Fisher at random points of the set
(:mod:`numerics.fisher`), which must show exactly that many zero singular values to rounding (cut
``max(Bm, P) eps s_max``) and none at generic points. Fukumizu & Amari's critical lines are checked
deterministically (:mod:`numerics.critical_lines`: a finite-difference Hessian and the lengthening of
the escape plateau, each within a derived error bound). The training claims are empirical: they
reproduce the direction of the paper's statements on a synthetic teacher task, with one-sided
paired tests over independent runs, and again (``*-digits``) on scikit-learn's handwritten digits at
depth 20-30 with sequential replication and twin-arm null controls (:mod:`degeneracy.proofs.realdata`).
"""

from __future__ import annotations

import math

import numpy as np

from degeneracy.errors import CertificationError
from degeneracy.numerics import critical_lines as ncl
from degeneracy.numerics import singularities as ns
from degeneracy.numerics import stats
from degeneracy.theory import critical_lines as tcl
from degeneracy.theory import exact_rank as er
from degeneracy.theory import singularities as ts
from degeneracy.theory import singularity_engine as se
from degeneracy.theory import symbolic_networks as sn

from .realdata import sequential_arms
from .registry import certificate, claim

N_IN = 3  # n = H: the sizes of every exact statement below


def _m1(**kw):
    return sn.one_hidden_layer(N_IN, N_IN, **kw)


def _m2(**kw):
    return sn.two_hidden_layers(N_IN, N_IN, N_IN, **kw)


def _certify_all(s: ts.SingularSet, expected_labels=None):
    cands = ts.null_directions(s, certified_only=False)
    res = [(lab, *ts.certify_null_direction(s, u)) for lab, u in cands]
    ok = [lab for lab, h, _ in res if h]
    holds = len(ok) == len(res) if expected_labels is None else sorted(ok) == sorted(expected_labels)
    return holds, f"{len(ok)}/{len(res)} candidate null directions certified on {s.describe()}: {ok}"


# ----------------------------------------------------------------------------- certificates

@certificate("singularities.overlap-null-directions",
             statement="At an overlap w_i = w_j of f = sum v_k phi(w_k.x), J u = 0 for u = e_{v_i} - e_{v_j} and "
                       "u = v_j e_{w_i,k} - v_i e_{w_j,k} (k = 1..n), every phi (n = 3, with and without biases)",
             source="Amari, Park & Ozeki (2006); Wei et al. (2008); docs/formulas.md §6")
def _overlap_cert():
    a = _certify_all(ts.overlap(_m1(), 0, 1))
    b = _certify_all(ts.overlap(_m1(bias=True), 0, 1))
    return a[0] and b[0], a[1] + "; " + b[1]


@certificate("singularities.elimination-null-directions",
             statement="v_i = 0 makes the n incoming weights of unit i null directions; w_i = 0 with phi(0) = 0 makes "
                       "v_i one (plus the bias-absorption direction e_{b_i} - phi'(0) v_i e_c with biases)",
             source="Amari, Park & Ozeki (2006); Orhan & Pitkow (2018); docs/formulas.md §6")
def _elimination_cert():
    parts = [_certify_all(ts.eliminate_outgoing(_m1(), 0)), _certify_all(ts.eliminate_incoming(_m1(), 0)),
             _certify_all(ts.eliminate_incoming(_m1(bias=True), 0))]
    return all(p[0] for p in parts), "; ".join(p[1] for p in parts)


@certificate("singularities.linear-dependence-linear-units",
             statement="For linear units, w_c = a w_a + b w_b makes e_o (a e_{V[o,a]} + b e_{V[o,b]} - e_{V[o,c]}) null "
                       "(o = 1..m); for the undefined nonlinear phi it is NOT a null direction",
             source="Orhan & Pitkow (2018) sec. 2; docs/formulas.md §6")
def _lindep_cert():
    lin = ts.linear_dependence(sn.one_hidden_layer(N_IN, N_IN, m=2, activation="linear"), 2, (0, 1))
    h1, d1 = _certify_all(lin)
    non = ts.linear_dependence(_m1(), 2, (0, 1))
    cands = ts.null_directions(non, certified_only=False)
    h2 = all(not ts.certify_null_direction(non, u)[0] for _, u in cands)
    return h1 and h2, d1 + f"; nonlinear phi: {len(cands)} outgoing combinations all fail to certify: {h2}"


@certificate("singularities.sign-flip-null-directions",
             statement="For an odd phi, at a sign-flip overlap w_j = -w_i of f = sum v_k phi(w_k.x), J u = 0 for "
                       "u = e_{v_i} + e_{v_j} and u = v_j e_{w_i,k} - v_i e_{w_j,k} (k = 1..n; with biases too), every "
                       "odd phi (n = 3); for a generic phi none of them is null",
             source="Chen, Lu & Hecht-Nielsen, Neural Computation 5 (1993) (sign flips of tanh units); "
                    "Amari, Park & Ozeki (2006); docs/formulas.md §6")
def _sign_flip_cert():
    a = _certify_all(ts.sign_flip_overlap(_m1(activation="odd"), 0, 1))
    b = _certify_all(ts.sign_flip_overlap(_m1(activation="odd", bias=True), 0, 1))
    gen = ts.sign_flip_overlap(_m1(), 0, 1)
    cands = ts.null_directions(gen, certified_only=False)
    c = all(not ts.certify_null_direction(gen, u)[0] for _, u in cands)
    return a[0] and b[0] and c, a[1] + "; " + b[1] + f"; generic phi: all {len(cands)} candidates fail: {c}"


@certificate("singularities.skip-table",
             statement="The exact null dimensions of DEGENERACY_TABLE (plain vs identity skips on every or on the "
                       "second hidden layer, one and two hidden layers, n = 3) hold: certified null vectors meet the "
                       "exact rank",
             source="Orhan & Pitkow (2018); this toolkit (theory.singularity_engine)")
def _skip_table_cert():
    table = se.degeneracy_table(N_IN)
    bad = {k: (v, se.DEGENERACY_TABLE.get(k)) for k, v in table.items() if se.DEGENERACY_TABLE.get(k) != v}
    return not bad and len(table) == len(se.DEGENERACY_TABLE), f"{len(table)} entries; mismatches: {bad}"


@certificate("singularities.critical-line-gradient",
             statement="Splitting a unit of an (H-1)-unit critical point (w_a = w_b = w*, v_a = lambda v*, "
                       "v_b = (1-lambda) v*) gives a critical point for every lambda (any phi, any loss)",
             source="Fukumizu & Amari (2000), Neural Networks 13, Thm 1")
def _cl_grad_cert():
    return tcl.critical_line_gradient_certificate(2)


@certificate("singularities.critical-line-hessian",
             statement="On the critical line the Hessian in zeta = w_a - w_b is lambda (1-lambda) A, "
                       "A = v* E[l' phi''(w*.x) x x^T], and decouples from all other directions",
             source="Fukumizu & Amari (2000), Thm 3; docs/formulas.md §6")
def _cl_hess_cert():
    return tcl.critical_line_hessian_certificate(2)


# ----------------------------------------------------------------------------- shared numerics

def _numeric_counts(s: ts.SingularSet, gens, pred: int):
    """Zero counts at independent random points; returns the count farthest from ``pred`` (the value an
    exact check compares: it equals ``pred`` iff every point agrees), the list, and the smallest gap."""
    res = [ns.fisher_null_count(s, rng=g) for g in gens]
    counts = [int(r[0]) for r in res]
    gap = min(r[2] for r in res)
    worst = max(counts, key=lambda c: abs(c - pred))
    return worst, counts, gap


def _set_checks(ctx, name, s, predicted, *, wrong_vector=None, expected_labels=None):
    """Certificates, exact dimension and numeric zero counts for one singular set.

    ``expected_labels``: the candidate directions that must certify (default: all of them).
    """
    if wrong_vector is not None and ctx.control:
        holds, detail = ts.certify_null_direction(s, wrong_vector)
        yield stats.proof_check(f"{name}: null directions certified", holds, "CONTROL (wrong vector): " + detail)
    else:
        yield stats.proof_check(f"{name}: null directions certified", *_certify_all(s, expected_labels))
    pred = predicted - 1 if ctx.control else predicted
    yield stats.exact_check(f"{name}: exact null dimension (rational phi)", pred, er.exact_null_dimension(s))
    R = ctx.settings["points"]
    worst, counts, gap = _numeric_counts(s, [ctx.spawn(name, str(r)) for r in range(R)], pred)
    yield stats.exact_check(f"{name}: Fisher zeros to rounding at {R} random points ({_act_name(s)})", pred, worst,
                            detail=f"counts {counts}; smallest nonzero singular value / rounding cut >= {gap:.3g}")


def _generic_checks(ctx, name, model):
    s = ts.generic_point(model)
    R = ctx.settings["points"]
    worst, counts, gap = _numeric_counts(s, [ctx.spawn(name, "generic", str(r)) for r in range(R)], 0)
    yield stats.exact_check(f"{name}: no Fisher zeros at {R} generic points", 0, worst,
                            detail=f"counts {counts}; smallest singular value / rounding cut >= {gap:.3g}")


def _act_name(s) -> str:
    return {"odd": "tanh", "phi": "tanh + (1 - cos)/2", "linear": "linear"}[s.model.activation]


_vec = ts.direction


# ----------------------------------------------------------------------------- identity claims

@claim("singularities.overlap",
       title="At an overlap w_i = w_j of a one-hidden-layer network with scalar readout the Fisher information has "
             "exactly n + 1 null directions (e_{v_i} - e_{v_j} and v_j dw_i - v_i dw_j), n + 2 with biases; "
             "none at generic points.",
       source="Amari, Park & Ozeki (2006); Wei et al. (2008); Orhan & Pitkow (2018); docs/formulas.md §6",
       kind="identity",
       formula="null dim = n + 1 (certified vectors + exact rational rank); numeric: #(s_k <= max(Bm,P) eps s_max)",
       settings={"points": (3, 10, 30)})
def overlap_claim(ctx):
    m = _m1()
    s = ts.overlap(m, 0, 1)
    wrong = _vec(m, {"V[0,0]": 1, "V[0,1]": 1})  # the plausible sign slip e_{v_i} + e_{v_j}
    yield from _set_checks(ctx, "overlap, n=3", s, N_IN + 1, wrong_vector=wrong)
    yield from _set_checks(ctx, "overlap with biases, n=3", ts.overlap(_m1(bias=True), 0, 1), N_IN + 2)
    yield from _generic_checks(ctx, "one hidden layer", m)


@claim("singularities.elimination",
       title="Zero outgoing weight v_i = 0 leaves the n incoming weights of unit i unidentifiable (n null "
             "directions); zero incoming weights w_i = 0 with phi(0) = 0 leave v_i unidentifiable (1).",
       source="Amari, Park & Ozeki (2006); Orhan & Pitkow (2018); docs/formulas.md §6",
       kind="identity",
       formula="outgoing: null dim n (n + 1 with bias); incoming: 1 (2 with biases: bias absorption)",
       settings={"points": (3, 10, 30)})
def elimination_claim(ctx):
    m = _m1()
    wrong = _vec(m, {"W1[1,0]": 1})  # an incoming weight of a DIFFERENT unit
    yield from _set_checks(ctx, "outgoing elimination, n=3", ts.eliminate_outgoing(m, 0), N_IN, wrong_vector=wrong)
    yield from _set_checks(ctx, "incoming elimination, n=3", ts.eliminate_incoming(m, 0), 1,
                           wrong_vector=_vec(m, {"V[0,1]": 1}))
    yield from _set_checks(ctx, "incoming elimination with biases", ts.eliminate_incoming(_m1(bias=True), 0), 2)


@claim("singularities.linear-dependence",
       title="Linear dependence w_c = a w_a + b w_b is a singularity only when the units act linearly: for a "
             "linear network f = V W x (m = 4 > H = 3) it adds m - H = 1 null direction to the H^2 of GL(H); for a "
             "nonlinear phi the set has no null direction at all.",
       source="Orhan & Pitkow (2018) sec. 2; docs/formulas.md §6 (sharpened: the nonlinear case is regular)",
       kind="identity",
       formula="linear: null dim H^2 + (m - H) vs H^2 generic; nonlinear: 0",
       settings={"points": (3, 10, 30)})
def linear_dependence_claim(ctx):
    lin = sn.one_hidden_layer(N_IN, N_IN, m=N_IN + 1, activation="linear")
    s = ts.linear_dependence(lin, 2, (0, 1))
    H, m = N_IN, N_IN + 1
    yield from _set_checks(ctx, "linear units, w_c = a w_a + b w_b", s, H * H + (m - H))
    yield from _set_checks(ctx, "linear network, generic", ts.generic_point(lin), H * H)
    non = ts.linear_dependence(_m1(), 2, (0, 1))
    pred = 1 if ctx.control else 0  # the control claims the outgoing combination is still null
    yield stats.exact_check("nonlinear phi: exact null dimension", pred, er.exact_null_dimension(non))
    R = ctx.settings["points"]
    worst, counts, gap = _numeric_counts(non, [ctx.spawn("nonlinear", str(r)) for r in range(R)], pred)
    yield stats.exact_check(f"nonlinear phi: Fisher zeros at {R} random points ({_act_name(non)})", pred, worst,
                            detail=f"counts {counts}; gap >= {gap:.3g}")


@claim("singularities.sign-flip",
       title="For an odd activation (tanh, erf) a sign-flip overlap w_j = -w_i is a singular set: only v_i - v_j is "
             "identifiable, and the Fisher information of a one-hidden-layer network with scalar readout has exactly "
             "n + 1 null directions (e_{v_i} + e_{v_j} and v_j dw_i - v_i dw_j; n + 2 with biases); an identity skip "
             "breaks e_{v_i} + e_{v_j} and keeps the n w-directions; for a generic activation the set is regular.",
       source="Chen, Lu & Hecht-Nielsen, Neural Computation 5 (1993); Amari, Park & Ozeki (2006); "
              "Orhan & Pitkow (2018); docs/formulas.md §6",
       kind="identity",
       formula="odd phi: null dim n + 1 (n + 2 with biases, n with skip); generic phi: 0 (certified vectors + exact "
               "rank; numeric: tanh, resp. tanh + (1 - cos)/2)",
       settings={"points": (3, 10, 30)})
def sign_flip_claim(ctx):
    m = _m1(activation="odd")
    s = ts.sign_flip_overlap(m, 0, 1)
    wrong = _vec(m, {"V[0,0]": 1, "V[0,1]": -1})  # the overlap's direction: the sign slip for a sign flip
    yield from _set_checks(ctx, "sign-flip overlap, odd phi, n=3", s, N_IN + 1, wrong_vector=wrong)
    yield from _set_checks(ctx, "sign-flip overlap with biases, odd phi", ts.sign_flip_overlap(_m1(activation="odd",
                                                                                                  bias=True), 0, 1),
                           N_IN + 2)
    yield from _set_checks(ctx, "sign-flip overlap with skip, odd phi",
                           ts.sign_flip_overlap(_m1(activation="odd", skip=True), 0, 1), N_IN,
                           expected_labels=[f"incoming k={k}" for k in range(N_IN)])
    yield from _set_checks(ctx, "sign-flip overlap, generic phi (regular)", ts.sign_flip_overlap(_m1(), 0, 1), 0,
                           expected_labels=[])
    # a user's hand-built set (the constructor's substitution written out) certifies the same way
    W = [m.symbol(f"W1[0,{k}]") for k in range(N_IN)]
    hand = ts.SingularSet(m, "sign_flip_overlap", 1, (0, 1), {m.symbol(f"W1[1,{k}]"): -W[k] for k in range(N_IN)})
    yield stats.exact_check("hand-built SingularSet w_1 = -w_0 (odd phi): exact null dimension",
                            N_IN if ctx.control else N_IN + 1, er.exact_null_dimension(hand))


# the statements of skip-breaks: (set label, architecture) -> exact null dimension
_SKIP_KEYS = [
    ("overlap, last hidden layer", "1L+skip"), ("overlap, last hidden layer", "2L+skip"),
    ("overlap, first of two layers", "2L+skip"), ("incoming elimination, last layer", "1L+skip"),
    ("incoming elimination, first of two", "2L+skip"), ("outgoing elimination, last layer", "1L+skip"),
    ("outgoing elimination, first of two", "2L+skip"), ("overlap, vector readout (m=2)", "1L+skip"),
    ("sign-flip overlap (odd phi), last hidden layer", "1L+skip"),
    ("sign-flip overlap (odd phi), first of two", "2L+skip"),
    ("overlap, first of two layers", "2L, skip on 2"), ("incoming elimination, first of two", "2L, skip on 2"),
    ("outgoing elimination, first of two", "2L, skip on 2"), ("overlap, first of two layers", "2L, skip on 1"),
    ("incoming elimination, first of two", "2L, skip on 1"), ("outgoing elimination, first of two", "2L, skip on 1"),
    ("linear dependence (phi linear, m=n+1)", "1L+skip"),
]


@claim("singularities.skip-breaks",
       title="Identity skips on a hidden layer and on the next one remove every degeneracy of that layer (overlap, "
             "sign-flip overlap, both eliminations -> null dimension 0); the next layer's skip alone removes only the "
             "outgoing elimination, the layer's own skip alone only the overlaps. In the last hidden layer before a "
             "linear readout skips remove none: an overlap keeps its n w-directions (only e_{v_i} - e_{v_j} is "
             "broken), v_i = 0 keeps n, and w_i = 0 keeps one (e_{w_ii} - v_i phi'(0) e_{v_i}).",
       source="Orhan & Pitkow (2018) sec. 2 (made exact); the singularity engine, theory.singularity_engine",
       kind="identity",
       formula="exact null dimensions of every hidden unit's singular sets, certified by the engine (certified null "
               "vectors meet an exact rank): see DEGENERACY_TABLE and the README's table",
       settings={"points": (2, 6, 20)})
def skip_breaks_claim(ctx):
    table = se.degeneracy_table(N_IN, keys=set(_SKIP_KEYS))
    for key in _SKIP_KEYS:
        pred = se.DEGENERACY_TABLE[key]
        if ctx.control and key == ("overlap, last hidden layer", "1L+skip"):
            pred = 0  # the tempting over-statement: "skips remove the overlap singularity" in one layer
        yield stats.exact_check(f"exact null dim: {key[0]} [{key[1]}]", pred, table[key])
    # every unit and every pair of the two-layer skip architecture, not only the table's representatives
    rep = se.analyze(_m2(skip=True), representatives=False, kinds=("overlap", "eliminate_incoming",
                                                                    "eliminate_outgoing"))
    first = {k: v for k, v in rep.summary().items() if k[1] == 1}
    yield stats.exact_check("2L+skip: every unit and pair of the first layer has null dimension 0",
                            True, all(v == (0,) for v in first.values()) != ctx.control,
                            detail=f"{len(rep.entries)} sets; first-layer summary {first}")
    R = ctx.settings["points"]
    cases = [("1L+skip overlap", ts.overlap(_m1(skip=True), 0, 1), N_IN),
             ("2L+skip first-layer overlap", ts.overlap(_m2(skip=True), 0, 1, layer=1), 0),
             ("2L+skip last-layer overlap", ts.overlap(_m2(skip=True), 0, 1, layer=2), N_IN),
             ("1L+skip incoming elimination", ts.eliminate_incoming(_m1(skip=True), 0), 1),
             ("2L, skip on 2, first-layer overlap", ts.overlap(_m2(skip=(False, True)), 0, 1, layer=1), N_IN)]
    for name, s, pred in cases:
        if ctx.control and name == "1L+skip overlap":
            pred = 0
        worst, counts, gap = _numeric_counts(s, [ctx.spawn(name, str(r)) for r in range(R)], pred)
        yield stats.exact_check(f"{name}: Fisher zeros at {R} random points ({_act_name(s)})", pred, worst,
                                detail=f"counts {counts}; gap >= {gap:.3g}")
    m = _m1(skip=True)
    s = ts.overlap(m, 0, 1)
    u = _vec(m, {"V[0,0]": 1, "V[0,1]": -1})  # the plain net's outgoing null vector, broken by the skip
    holds, detail = ts.certify_null_direction(s, u)
    yield stats.proof_check("1L+skip: e_{v_i} - e_{v_j} is no longer null", not holds, detail)


def _critical_line_run(ctx, g, N, lam, max_steps, control):
    """One teacher: ``None`` when it has no usable saddle line (reason string), else the run's check values."""
    X, y = ncl.two_unit_teacher(2, N, rng=g)
    try:  # the theory presupposes a strict local minimum of the 1-unit loss; some teachers have none
        v, w, L = ncl.reduced_critical_point(X, y, rng=g, starts=4)
    except CertificationError:
        return "no certified strict 1-unit minimum"
    A = ncl.critical_line_A(v, w, X, y)
    fac = lam if control else lam * (1 - lam)  # control: the factor (1 - lambda) forgotten
    mu = float(np.linalg.eigvalsh(fac * A)[0])
    _, xi = ncl.escape_direction(A, lam)
    if mu >= 0:  # lambda = 1/2 is then a minimum of the line, not a saddle
        return "A positive semidefinite (no saddle at lambda = 1/2)"
    eta = ncl.line_step_size(v, w, lam, X, y)
    g_rate = 1.0 - 2.0 * eta * mu  # predicted growth of zeta per step (numerics.critical_lines)
    lg = math.log(g_rate)
    M = math.ceil(math.log(1e3) / lg)  # three decades of eps, in whole steps of the predicted growth
    base = np.array([1e-4, 1e-5])
    eps = np.concatenate([base, base * g_rate ** (-M)])
    steps = int(math.ceil(math.log(1e3 / eps.min()) / lg)) + 200
    if steps > max_steps:  # selection by the prediction only, never by the outcome
        return f"escape too slow for the step budget (predicted growth {g_rate:.5f} per step)"
    h = 1e-4
    H1 = ncl.line_hessian_fd(v, w, lam, X, y, h=h)
    H2 = ncl.line_hessian_fd(v, w, lam, X, y, h=2 * h)
    # O(h^2) truncation estimated by Richardson, |H(h) - H(2h)| / 3, plus rounding 4 eps L / h^2
    h_scale = 3 * (np.max(np.abs(H1 - H2)) / 3 + 4 * np.finfo(float).eps * max(L, 1.0) / h ** 2)
    T = ncl.escape_times(v, w, lam, X, y, eps, lr=eta, steps=max_steps)  # stops when every run has escaped
    dev = T[2:] - T[:2] - M  # orbit alignment: 0 up to rounding in the linear regime
    rounding = 100 * np.finfo(float).eps * max(1.0, float(np.max(np.abs(w)))) / (eps.min() * lg)
    return dict(h_dev=float(np.max(np.abs(H1 - fac * A))), h_scale=float(h_scale), t_dev=float(abs(dev[1])),
                t_scale=float(abs(dev[0] - dev[1]) + rounding), monotone=bool(np.all(np.diff(T[np.argsort(-eps)]) > 0)),
                M=M, g=g_rate, steps=steps)


@claim("singularities.critical-line",
       title="Splitting a unit of the best 1-unit fit gives a line of critical points whose Hessian in "
             "zeta = w_a - w_b is lambda(1 - lambda) A; gradient descent started eps off its saddle part leaves the "
             "plateau after log(1/eps) / log(1 + 2 eta |mu|) steps plus a constant (mu = min eig lambda(1-lambda)A), "
             "longer as eps -> 0.",
       source="Fukumizu & Amari (2000), Neural Networks 13, Thms 1 and 3; Amari, Park & Ozeki (2006); docs/formulas.md §6",
       kind="identity",
       formula="H_zeta = lambda(1-lambda) A, A = v* mean[(f* - y) tanh''(w*.x) x x^T]; at lambda = 1/2, eta = 1/lambda_max: "
               "T(eps g^-M) - T(eps) = M exactly for g = 1 - 2 eta mu (interpolated first passage of the loss 1% below "
               "L*, M steps = 3 decades), within rounding and its change from eps = 1e-4 to 1e-5",
       settings={"runs": (4, 10, 30), "n_samples": (100, 200, 400), "max_steps": (5000, 20000, 50000)})
def critical_line_claim(ctx):
    yield stats.proof_check("critical line: gradient identities", *tcl.critical_line_gradient_certificate(2))
    yield stats.proof_check("critical line: Hessian lambda(1-lambda)A, block diagonal",
                            *tcl.critical_line_hessian_certificate(2))
    R, N, max_steps = ctx.settings["runs"], ctx.settings["n_samples"], ctx.settings["max_steps"]
    runs, skipped, tried = [], {}, 0
    while len(runs) < R:
        if tried >= 8 * R:
            raise CertificationError(f"only {len(runs)} of {tried} teachers gave a usable saddle line: {skipped}")
        out = _critical_line_run(ctx, ctx.spawn("run", str(tried)), N, 0.5, max_steps, ctx.control)
        tried += 1
        if isinstance(out, str):
            skipped[out] = skipped.get(out, 0) + 1
        else:
            runs.append(out)
    ctx.note(f"critical line: {tried} teachers drawn; not used: {skipped or 'none'}; growth per step "
             f"{min(r['g'] for r in runs):.4f}..{max(r['g'] for r in runs):.4f}, at most {max(r['steps'] for r in runs)} "
             "steps")
    wh = max(runs, key=lambda r: r["h_dev"] / r["h_scale"])
    yield stats.tolerance_check("finite-difference zeta-Hessian vs lambda(1-lambda)A (worst run)", 0.0, wh["h_dev"],
                                wh["h_scale"], reason="3 x (Richardson O(h^2) estimate + 4 eps L / h^2 rounding)")
    wt = max(runs, key=lambda r: r["t_dev"] / r["t_scale"])
    yield stats.tolerance_check(f"plateau lengthening T(eps g^-M) - T(eps) - M, eps = 1e-5 (worst run, M = {wt['M']})",
                                0.0, wt["t_dev"], wt["t_scale"],
                                reason="orbits M steps apart coincide up to O(eps) (bounded by the change from "
                                       "eps = 1e-4) and rounding of zeta, 100 eps_mach |w| / (eps_min ln g) steps")
    yield stats.exact_check("plateau strictly longer as eps decreases (4 values, all runs)", True,
                            all(r["monotone"] for r in runs))


# ----------------------------------------------------------------------------- empirical claims

_DEEP = {"depth": (10, 20, 30), "width": (8, 16, 16), "runs": (24, 24, 32), "steps": (150, 400, 800),
         "n_samples": (128, 256, 256), "lr": 2e-3}


def _run_deep(ctx, variants):
    s = ctx.settings
    return ns.degeneracy_experiment(depth=s["depth"], width=s["width"], runs=s["runs"], steps=s["steps"],
                                    checkpoints=3 if s["steps"] % 3 == 0 else 4, lr=s["lr"],
                                    n_samples=s["n_samples"], variants=variants, rng=ctx.rng)


def _during(run, variant, key):
    """Per-run average of a measure over the checkpoints after the start of training."""
    return run.measures[variant][key][:, 1:].mean(axis=1)


def _log_loss(run, variant):
    """Training speed: per-run mean of log(loss) over the checkpoints after the start (area under the
    log-loss curve; lower = faster), which does not hinge on one time point."""
    return np.log(run.loss[variant][:, 1:]).mean(axis=1)


def _note_settings(ctx, run):
    st = run.settings
    ctx.note(f"ReLU MLP depth {st['depth']}, width {st['width']}, {st['runs']} runs, {st['steps']} full-batch Adam "
             f"steps (lr {st['lr']}), branch gain {st['branch_gain']:.3g}, teacher: 2-layer ReLU net")


@claim("singularities.plain-vs-residual",
       title="Deep plain ReLU networks become more degenerate during training than residual ones (more eliminated "
             "units, more overlap, more linear dependence, more near-null Gauss-Newton directions) and train slower.",
       source="Orhan & Pitkow (2018) sec. 3 (CIFAR-10/100; here a synthetic teacher task)",
       kind="empirical",
       formula="one-sided paired t over runs of training averages: measure(plain) > measure(residual); mean log loss too",
       settings=_DEEP)
def plain_vs_residual(ctx):
    run = _run_deep(ctx, ("plain", "residual"))
    _note_settings(ctx, run)
    up = "less" if ctx.control else "greater"
    down = "greater" if ctx.control else "less"
    yield stats.paired_difference_check("mean log training loss over training: plain > residual",
                                        _log_loss(run, "plain"), _log_loss(run, "residual"), up)
    for key, label in (("eliminated", "eliminated-unit fraction"), ("overlap", "largest response cosine"),
                       ("gn_null", "near-null Gauss-Newton fraction")):
        yield stats.paired_difference_check(f"{label}: plain > residual", _during(run, "plain", key),
                                            _during(run, "residual", key), up)
    yield stats.paired_difference_check("s_min/s_max of responses: plain < residual (more dependent)",
                                        _during(run, "plain", "dependence"), _during(run, "residual", "dependence"),
                                        down)


@claim("singularities.symmetry-breaking-is-the-mechanism",
       title="A skip that gives every unit of a layer the same input (keeping the permutation symmetry) does not "
             "give the residual network's benefit: it trains slower and its units overlap and depend more.",
       source="Orhan & Pitkow (2018) sec. 2-3 and Orhan's earlier abstract (skips help by breaking symmetries)",
       kind="empirical",
       formula="one-sided paired t over runs: loss, overlap(symmetric-skip) > residual; s_min/s_max smaller",
       settings=_DEEP)
def symmetry_breaking(ctx):
    run = _run_deep(ctx, ("residual", "symmetric-skip"))
    _note_settings(ctx, run)
    el = {v: _during(run, v, "eliminated").mean() for v in run.measures}
    gn = {v: _during(run, v, "gn_null").mean() for v in run.measures}
    ctx.note(f"not part of the symmetry statement: eliminated-unit fraction residual {el['residual']:.3f}, "
             f"symmetric-skip {el['symmetric-skip']:.3f}; "
             f"near-null Gauss-Newton fraction residual {gn['residual']:.3f}, symmetric-skip {gn['symmetric-skip']:.3f}")
    up = "less" if ctx.control else "greater"
    down = "greater" if ctx.control else "less"
    yield stats.paired_difference_check("mean log training loss over training: symmetric-skip > residual",
                                        _log_loss(run, "symmetric-skip"), _log_loss(run, "residual"), up)
    yield stats.paired_difference_check("largest response cosine: symmetric-skip > residual",
                                        _during(run, "symmetric-skip", "overlap"), _during(run, "residual", "overlap"),
                                        up)
    yield stats.paired_difference_check("s_min/s_max of responses: symmetric-skip < residual",
                                        _during(run, "symmetric-skip", "dependence"),
                                        _during(run, "residual", "dependence"), down)


# ----------------------------------------------------------------------------- the same statements on digits

#: sizes of the real-data setting (quick, default, full): ReLU MLPs on the digits (proofs.realdata)
_DIGITS = {"depth": (8, 20, 30), "width": (16, 32, 48), "steps": (120, 600, 1500), "checkpoints": (3, 6, 6),
           "batch": (6, 8, 10), "batches": (3, 4, 5)}
_DIGITS_SHARED = "the digits skip experiment (both singularities.*-digits claims and the figure read the same runs)"


def _digits_sizes(ctx) -> dict:
    return {k: ctx.settings[k] for k in ("depth", "width", "steps", "checkpoints")}


def _digits_note(ctx, s, arms):
    st = ctx.settings
    ctx.note(f"digits, ReLU MLP depth {st['depth']}, width {st['width']} (inputs PCA-whitened to {st['width']}), "
             f"minibatch Adam lr 1e-3, {st['steps']} steps, branch gain 1/sqrt(depth); mean over runs: " + "; ".join(
                 f"{a}: final test accuracy {s[f'{a}|accuracy'].mean():.3f}, "
                 f"mean log loss {s[f'{a}|log_loss'].mean():.2f}"
                 for a in arms))


def _digits_pair(ctx, s, name, a, b, key, direction, treated, twin):
    """Paired effect check ``key(a) direction key(b)`` over runs. Under the control the treated arm
    (``treated``, one of ``a``, ``b``) is replaced by ``twin``, a true null of the other arm (the same
    ensemble, its own initialization), in the same direction: the check must not be supported."""
    if ctx.control:
        a, b = (twin if a == treated else a), (twin if b == treated else b)
        name = f"{name} [control: {twin} in place of {treated}]"
    return stats.paired_difference_check(name, s[f"{a}|{key}"], s[f"{b}|{key}"], direction)


def _digits_statements(ctx, statements, a, b, treated):
    """Run the digits skip experiment's arms (sequential batches) and check ``statements``, rows
    ``(name, key, direction)`` of ``key(a) direction key(b)``; returns ``(checks, summaries)``.
    ``treated`` (``a`` or ``b``) is the arm under test; the other is the reference, whose twin (a
    second initialization) replaces ``treated`` under the control (:func:`_digits_pair`)."""
    reference = b if treated == a else a
    twin = f"{reference}-twin"
    arms = (reference, twin) if ctx.control else (reference, treated)

    def evaluate(s):
        for name, key, direction in statements:
            yield _digits_pair(ctx, s, name, a, b, key, direction, treated, twin)

    checks, s = sequential_arms(ctx, "skip", _digits_sizes(ctx), arms, evaluate, size=ctx.settings["batch"],
                                batches=ctx.settings["batches"], shared=_DIGITS_SHARED)
    _digits_note(ctx, s, arms)
    return checks, s


_PVR_DIGITS_CHECKS = (
    ("mean log training loss over training: plain > residual", "log_loss", "greater"),
    ("final test accuracy: plain < residual", "accuracy", "less"),
    ("eliminated-unit fraction: plain > residual", "eliminated", "greater"),
    ("largest response cosine: plain > residual", "overlap", "greater"),
    ("near-null Gauss-Newton fraction: plain > residual", "gn_null", "greater"),
    ("s_min/s_max of responses: plain < residual (more dependent)", "dependence", "less"),
)


@claim("singularities.plain-vs-residual-digits",
       title="[digits] Deep plain ReLU networks become more degenerate during training than residual ones (more "
             "eliminated units, more overlap, more linear dependence, more near-null Gauss-Newton directions) and "
             "train slower; here on scikit-learn's handwritten digits, with test accuracy.",
       source="Orhan & Pitkow (2018) sec. 3 (CIFAR-10/100 there; digits here)",
       kind="empirical",
       formula="one-sided paired t over runs (each run its own split, initialization and minibatch order, shared by "
               "the arms) of training averages over checkpoints: measure(plain) > measure(residual), mean log "
               "training loss too, final test accuracy plain < residual; runs added in batches (O'Brien-Fleming). "
               "Control: plain compared with its twin (a second plain initialization), which must not be supported",
       settings=_DIGITS,
       shares=("digits.skip",))
def plain_vs_residual_digits(ctx):
    checks, _ = _digits_statements(ctx, _PVR_DIGITS_CHECKS, "plain", "residual", treated="residual")
    yield from checks


_SYM_DIGITS_CHECKS = (
    ("mean log training loss over training: symmetric-skip > residual", "log_loss", "greater"),
    ("final test accuracy: symmetric-skip < residual", "accuracy", "less"),
    ("largest response cosine: symmetric-skip > residual", "overlap", "greater"),
    ("s_min/s_max of responses: symmetric-skip < residual", "dependence", "less"),
)


@claim("singularities.symmetry-breaking-is-the-mechanism-digits",
       title="[digits] A skip that gives every unit of a layer the same input (keeping the permutation symmetry) "
             "does not give the residual network's benefit: it trains slower, its units overlap and depend more, "
             "and it generalizes worse; here on scikit-learn's handwritten digits.",
       source="Orhan & Pitkow (2018) sec. 2-3 and Orhan's earlier abstract (CIFAR there; digits here)",
       kind="empirical",
       formula="one-sided paired t over runs: mean log loss, overlap(symmetric-skip) > residual; s_min/s_max and "
               "final test accuracy smaller; runs added in batches (O'Brien-Fleming). Control: the residual network "
               "compared with its twin (a second residual initialization), which must not be supported",
       settings=_DIGITS,
       shares=("digits.skip",))
def symmetry_breaking_digits(ctx):
    checks, s = _digits_statements(ctx, _SYM_DIGITS_CHECKS, "symmetric-skip", "residual", treated="symmetric-skip")
    if not ctx.control:
        ctx.note("not part of the symmetry statement: eliminated-unit fraction residual "
                 f"{s['residual|eliminated'].mean():.3f}, symmetric-skip {s['symmetric-skip|eliminated'].mean():.3f}; "
                 f"near-null Gauss-Newton fraction residual {s['residual|gn_null'].mean():.3f}, symmetric-skip "
                 f"{s['symmetric-skip|gn_null'].mean():.3f}")
    yield from checks
