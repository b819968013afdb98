"""Singular sets: certificates, exact ranks, the engine and its table, critical lines (theory and numerics)."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from degeneracy.errors import CertificationError
from degeneracy.numerics import critical_lines as ncl
from degeneracy.numerics import fisher as F
from degeneracy.numerics import singularities as ns
from degeneracy.numerics.networks import NetworkStack
from degeneracy.theory import critical_lines as tcl
from degeneracy.theory import exact_rank as er
from degeneracy.theory import singularities as ts
from degeneracy.theory import singularity_engine as se
from degeneracy.theory import symbolic_networks as sn


def _vec(model, entries):
    u = sp.zeros(model.size, 1)
    for k, v in entries.items():
        u[model.index(k)] = v
    return u


# ----------------------------------------------------------------------------- certificates


@pytest.mark.parametrize("bias", [False, True])
def test_overlap_null_vectors_certified_and_wrong_vector_fails(bias):
    m = sn.one_hidden_layer(3, 3, bias=bias)
    s = ts.overlap(m, 0, 2)
    nulls = ts.null_directions(s)
    assert len(nulls) == 3 + 1 + (1 if bias else 0)
    for _, u in nulls:
        assert ts.certify_null_direction(s, u)[0]
    # negative controls: a sign slip, and the right vector on the wrong pair of units
    assert not ts.certify_null_direction(s, _vec(m, {"V[0,0]": 1, "V[0,2]": 1}))[0]
    assert not ts.certify_null_direction(s, _vec(m, {"V[0,0]": 1, "V[0,1]": -1}))[0]
    assert not ts.certify_null_direction(s, sp.zeros(m.size, 1))[0]


def test_elimination_null_vectors():
    m = sn.one_hidden_layer(3, 2)
    s = ts.eliminate_outgoing(m, 1)
    assert [lab for lab, _ in ts.null_directions(s)] == [f"incoming W1[1,{k}]" for k in range(3)]
    s = ts.eliminate_incoming(m, 1)
    assert [lab for lab, _ in ts.null_directions(s)] == ["outgoing V[0,1]"]
    # the control: v_i is not null when only w_i = 0 but phi(0) is not assumed 0
    s2 = ts.SingularSet(m, "eliminate_incoming", 1, (1,), s.subs)
    assert not ts.certify_null_direction(s2, _vec(m, {"V[0,1]": 1}))[0]


def test_skip_breaks_outgoing_overlap_direction_but_not_w_direction():
    m = sn.one_hidden_layer(3, 3, skip=True)
    s = ts.overlap(m, 0, 1)
    assert not ts.certify_null_direction(s, _vec(m, {"V[0,0]": 1, "V[0,1]": -1}))[0]
    v0, v1 = m.symbol("V[0,0]"), m.symbol("V[0,1]")
    assert ts.certify_null_direction(s, _vec(m, {"W1[0,2]": v1, "W1[1,2]": -v0}))[0]


def test_linear_dependence_needs_linear_units():
    lin = sn.one_hidden_layer(3, 3, m=4, activation="linear")
    s = ts.linear_dependence(lin, 2, (0, 1))
    comb = [u for lab, u in ts.null_directions(s, certified_only=False) if lab.startswith("outgoing")]
    assert len(comb) == 4 and all(ts.certify_null_direction(s, u)[0] for u in comb)
    non = ts.linear_dependence(sn.one_hidden_layer(3, 3), 2, (0, 1), coeffs=(2, -1))
    assert non.coeffs == (2, -1)
    (lab, u), = ts.null_directions(non, certified_only=False)
    assert not ts.certify_null_direction(non, u)[0]


def test_exact_null_dimension_and_uncertified_detection():
    m = sn.one_hidden_layer(2, 2)
    assert er.exact_null_dimension(ts.overlap(m, 0, 1)) == 3
    assert er.exact_null_dimension(ts.generic_point(m)) == 0
    # a sign flip w_1 = -w_0 of an ODD activation, mislabelled as an overlap: the overlap's candidate vectors
    # do not cover it, so the exact routine refuses to certify instead of returning a number
    odd = sn.one_hidden_layer(2, 2, activation="odd")
    W = [odd.symbol(f"W1[0,{k}]") for k in range(2)]
    anti = ts.SingularSet(odd, "overlap", 1, (0, 1), {odd.symbol(f"W1[1,{k}]"): -W[k] for k in range(2)})
    with pytest.raises(CertificationError, match="sampled null dimension 3 != certified 2"):
        er.exact_null_dimension(anti)


def test_the_users_sign_flip_example_has_four_null_directions():
    """Issue 14: a tanh network with w_1 = -w_0 showed 4 numeric null directions, and a hand-built set failed."""
    m = sn.one_hidden_layer(3, 3, activation="odd")
    s = ts.sign_flip_overlap(m, 0, 1)
    labels = [lab for lab, _ in ts.null_directions(s)]
    assert labels == ["outgoing V[0,0]+V[0,1]", "incoming k=0", "incoming k=1", "incoming k=2"]
    assert er.exact_null_dimension(s) == 4
    assert [ns.fisher_null_count(s, rng=k, activation="tanh")[0] for k in range(3)] == [4, 4, 4]
    assert ns.fisher_null_count(s, rng=0, activation="erf")[0] == 4
    W = [m.symbol(f"W1[0,{k}]") for k in range(3)]
    hand = ts.SingularSet(m, "sign_flip_overlap", 1, (0, 1), {m.symbol(f"W1[1,{k}]"): -W[k] for k in range(3)})
    assert er.exact_null_dimension(hand) == 4
    # controls: the overlap's direction e_v0 - e_v1 is not null here; a generic (non-odd) phi has no null direction
    assert not ts.certify_null_direction(s, _vec(m, {"V[0,0]": 1, "V[0,1]": -1}))[0]
    gen = ts.sign_flip_overlap(sn.one_hidden_layer(3, 3), 0, 1)
    assert er.exact_null_dimension(gen) == 0 and ns.fisher_null_count(gen, rng=0)[0] == 0
    # with biases n + 2, with a skip n (the outgoing direction is broken)
    assert er.exact_null_dimension(ts.sign_flip_overlap(sn.one_hidden_layer(3, 3, activation="odd", bias=True),
                                                        0, 1)) == 5
    assert er.exact_null_dimension(ts.sign_flip_overlap(sn.one_hidden_layer(3, 3, activation="odd", skip=True),
                                                        0, 1)) == 3


def test_parity_rewriting():
    z, a = sp.symbols("z a")
    assert sn.apply_parity(sn.phi(-z - a) + sn.phi(z + a)) == 0
    assert sn.apply_parity(sn.d2phi(-z) + sn.d2phi(z)) == 0
    assert sn.apply_parity(sn.dphi(-z) - sn.dphi(z)) == 0
    assert sn.apply_parity(sn.phi(-z) - sn.phi(z)) != 0  # control: odd, not even


def test_exact_rank_and_exact_jacobian_against_sympy():
    assert er.exact_rank([[Fraction(1, 3), Fraction(2, 3)], [1, 2], [0, 1]]) == 2
    assert er.exact_rank([[0, 0], [0, 0]]) == 0
    m = sn.two_hidden_layers(2, 2, 2, skip=True, bias=True, activation="odd")  # rational phi z/(1+z^2)
    vals = {name: Fraction((7 * i) % 11 - 5, 3) for i, name in enumerate(m.names)}
    X = np.array([[Fraction(1, 2), Fraction(-2, 3)], [Fraction(3, 4), Fraction(1, 5)]], dtype=object)
    Je = er.exact_jacobian(m, vals, X)
    J = m.jacobian()  # symbolic (undefined phi), then phi(z) = z/(1+z^2), phi'(z) = (1-z^2)/(1+z^2)^2
    for b in range(2):
        sub = {m.symbol(k): sp.Rational(v.numerator, v.denominator) for k, v in vals.items()}
        sub.update({x: sp.Rational(X[b, k].numerator, X[b, k].denominator) for k, x in enumerate(m.inputs)})
        row = J.replace(sn.dphi, lambda a: (1 - a**2) / (1 + a**2) ** 2).replace(sn.phi, lambda a: a / (1 + a**2))
        row = row.xreplace(sub)
        expected = [sp.Rational(int(e.numerator), int(e.denominator)) for e in Je[b]]
        assert all(sp.simplify(a - e) == 0 for a, e in zip(row, expected))
    assert sp.simplify(row[0] - expected[0] - sp.Rational(1, 7)) != 0  # control


def test_degeneracy_table_matches_docstring_constant():
    assert se.degeneracy_table(3) == se.DEGENERACY_TABLE
    md = se.markdown_table(se.DEGENERACY_TABLE)
    assert md.count("\n") == len(se.TABLE_ROWS) + 1 and "| overlap, first of two layers | -- | -- | 3 | 0 | 0 | 3 |" in md


def test_engine_every_unit_agrees_with_the_representatives():
    m = sn.network(2, (2, 2), skip=(False, True), bias=True, activation="odd")
    full = se.analyze(m, representatives=False)
    rep = se.analyze(m, representatives=True)
    assert not full.refused() and full.summary() == rep.summary()
    assert len(full.entries) > len(rep.entries)
    n_sets = len(se.enumerate_singular_sets(m))
    # per layer: 1 overlap + 1 sign flip (one pair), 2 + 2 eliminations, 2 linear dependences (k = 1), + generic
    assert n_sets == 1 + 2 * (1 + 1 + 2 + 2 + 2)


def test_engine_deep_architecture_with_partial_skips():
    """Three hidden layers, skips on layers 2 and 3: the middle layer (skips on itself and the next) loses
    every degeneracy; the first keeps its overlap and incoming elimination; the last keeps the readout's."""
    rep = se.analyze(sn.network(2, (2, 2, 2), skip=(False, True, True)))
    s = rep.summary()
    assert all(s[(k, 2)] == (0,) for k in ("overlap", "eliminate_incoming", "eliminate_outgoing"))
    assert s[("overlap", 1)] == (2,) and s[("eliminate_incoming", 1)] == (2,) and s[("eliminate_outgoing", 1)] == (0,)
    assert s[("overlap", 3)] == (2,) and s[("eliminate_incoming", 3)] == (1,) and s[("eliminate_outgoing", 3)] == (2,)
    assert s[("linear_dependence", 1)] == (0,) and s[("sign_flip_overlap", 1)] == (0,)
    # independent numeric route: Fisher zeros at random points with a generic activation
    for (kind, layer), dims in s.items():
        if kind == "generic":
            continue
        st = se.enumerate_singular_sets(rep.model, kinds=(kind,), representatives=True)
        st = [x for x in st if x.layer == layer][0]
        assert ns.fisher_null_count(st, rng=1)[0] == dims[0], (kind, layer)


def test_engine_records_refusals_instead_of_numbers():
    # a deep linear network with a bottleneck: the GL(H) candidates do not span the fibre at special points
    rep = se.analyze(sn.network(2, (2, 2), activation="linear"))
    assert rep.refused() and all(e.null_dimension is None and "uncertified" in e.refusal for e in rep.refused())
    assert rep.summary()[("generic", 0)] == (8,)  # f = V W2 W1 x: P = 10, image of dimension 2


def test_exact_rank_domains_agree():
    M = [[Fraction(1, 3), Fraction(2, 7), 5], [Fraction(2, 3), Fraction(4, 7), 10], [1, 0, Fraction(-1, 2)]]
    assert er.exact_rank(M) == er.exact_rank(M, domain="QQ") == 2
    with pytest.raises(ValueError, match="domain must be one of"):
        er.exact_rank(M, domain="ZZ")


# ----------------------------------------------------------------------------- numeric vs symbolic ranks

sets = st.sampled_from(["generic", "overlap", "sign_flip_overlap", "eliminate_incoming", "eliminate_outgoing",
                        "linear_dependence"])


@given(depth=st.integers(1, 3), skip=st.lists(st.booleans(), min_size=3, max_size=3), bias=st.booleans(), kind=sets,
       layer=st.integers(1, 3), odd=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_numeric_fisher_rank_equals_exact(depth, skip, bias, kind, layer, odd, seed):
    n = 3 if depth < 3 else 2
    m = sn.network(n, (n,) * depth, skip=tuple(skip[:depth]), bias=bias, activation="odd" if odd else "phi")
    layer = min(layer, depth)
    c = n - 1
    s = {"generic": lambda: ts.generic_point(m),
         "overlap": lambda: ts.overlap(m, 0, 1, layer=layer),
         "sign_flip_overlap": lambda: ts.sign_flip_overlap(m, 1, 0, layer=layer),
         "eliminate_incoming": lambda: ts.eliminate_incoming(m, c, layer=layer),
         "eliminate_outgoing": lambda: ts.eliminate_outgoing(m, 1, layer=layer),
         "linear_dependence": lambda: ts.linear_dependence(m, c, tuple(range(c)), layer=layer)}[kind]()
    exact = er.exact_null_dimension(s)
    count, cut, gap = ns.fisher_null_count(s, rng=seed)  # tanh (odd) or tanh + (1 - cos)/2 (generic)
    assert count == exact
    assert gap > 10.0  # a resolved separation from the rounding cut


# ----------------------------------------------------------------------------- validation


def test_bad_input_messages():
    m = sn.one_hidden_layer(3, 3)
    with pytest.raises(ValueError, match=r"i must be an integer in \[0, 2\], got 3"):
        ts.overlap(m, 3, 0)
    with pytest.raises(ValueError, match="two different units"):
        ts.overlap(m, 1, 1)
    with pytest.raises(ValueError, match=r"layer must be an integer in \[1, 1\]"):
        ts.eliminate_incoming(m, 0, layer=2)
    with pytest.raises(ValueError, match="one coefficient per unit"):
        ts.linear_dependence(m, 2, (0, 1), (1, 2, 3))
    with pytest.raises(ValueError, match="must not contain c"):
        ts.linear_dependence(m, 2, (2, 1))
    with pytest.raises(ValueError, match="at least one unit"):
        ts.linear_dependence(m, 2, ())
    with pytest.raises(TypeError, match="integer"):
        ts.overlap(m, 0.5, 1)
    with pytest.raises(ValueError, match="identity skip connections need"):
        sn.two_hidden_layers(3, 3, 2, skip=True)
    with pytest.raises(ValueError, match="one bool per hidden layer"):
        sn.network(3, (3, 3), skip=(True,))
    with pytest.raises(ValueError, match="sign_flip_overlap needs two different units"):
        ts.sign_flip_overlap(m, 2, 2)
    with pytest.raises(ValueError, match="activation must be one of"):
        sn.one_hidden_layer(2, 2, activation="relu")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        sn.one_hidden_layer(0, 2)
    with pytest.raises(TypeError, match="Model"):
        ts.overlap("net", 0, 1)
    with pytest.raises(ValueError, match=r"u must have shape \(12, 1\)"):
        ts.certify_null_direction(ts.overlap(m, 0, 1), sp.zeros(3, 1))
    with pytest.raises(ValueError, match=r"X must have shape \(B, 3\)"):
        er.exact_jacobian(m, {k: 1 for k in m.names}, np.zeros((2, 2), dtype=object))
    with pytest.raises(ValueError, match="misses parameters"):
        er.exact_jacobian(m, {}, np.zeros((2, 3), dtype=object))
    with pytest.raises(ValueError, match="square matrix"):
        tcl.critical_line_classification([1.0, 2.0], 0.5)


# ----------------------------------------------------------------------------- critical lines


def test_critical_line_certificates_and_controls():
    assert tcl.critical_line_gradient_certificate(2)[0]
    assert tcl.critical_line_hessian_certificate(3)[0]
    lam = sp.Symbol("lambda", real=True)
    assert not tcl.critical_line_hessian_certificate(2, wrong_factor=lam)[0]
    assert not tcl.critical_line_hessian_certificate(2, wrong_factor=1 - lam)[0]


def test_critical_line_classification_intervals():
    pd, nd, ind = np.eye(2), -np.eye(2), np.diag([1.0, -1.0])
    assert [tcl.critical_line_classification(pd, x) for x in (-0.5, 0.5, 1.5)] == ["saddle", "minimum", "saddle"]
    assert [tcl.critical_line_classification(nd, x) for x in (-0.5, 0.5, 1.5)] == ["minimum", "saddle", "minimum"]
    assert tcl.critical_line_classification(ind, 0.5) == "saddle"
    assert tcl.critical_line_classification(pd, 0.0) == "degenerate"


def test_critical_line_numerics():
    X, y = ncl.two_unit_teacher(2, 150, rng=0)
    v, w, L = ncl.reduced_critical_point(X, y, rng=0)
    # independent route to the certified minimum: the reduced Hessian by central differences of the gradient
    def grad(q):
        _, gv, gW = ncl.loss_and_grad(np.array([q[0]]), q[None, 1:], X, y)
        return np.concatenate([gv, gW.ravel()])

    p = np.concatenate([[v], w])
    assert np.max(np.abs(grad(p))) < 1e-7
    fd = np.array([(grad(p + e) - grad(p - e)) / 2e-5 for e in np.eye(3) * 1e-5])
    assert np.allclose(fd, ncl.reduced_hessian(v, w, X, y), atol=1e-6)
    A = ncl.critical_line_A(v, w, X, y)
    for lam in (0.3, 0.5, 1.7):
        vv, W = ncl.embed(v, w, lam)
        _, gv, gW = ncl.loss_and_grad(vv, W, X, y)  # the whole line is critical
        assert np.max(np.abs(gv)) < 1e-7 and np.max(np.abs(gW)) < 1e-7
        H = ncl.line_hessian_fd(v, w, lam, X, y)
        assert np.max(np.abs(H - lam * (1 - lam) * A)) < 1e-6
        assert np.max(np.abs(H - lam * A)) > 1e-3  # control: the factor (1 - lambda) is needed
    mu, xi = ncl.escape_direction(A, 0.5)
    assert mu < 0
    eta = ncl.line_step_size(v, w, 0.5, X, y)
    g = 1 - 2 * eta * mu
    M = int(np.ceil(np.log(1e3) / np.log(g)))
    eps = np.array([1e-5, 1e-5 * g ** (-M)])
    T = ncl.escape_times(v, w, 0.5, X, y, eps, lr=eta, steps=20000)
    assert abs(T[1] - T[0] - M) < 1e-3  # orbits M steps apart coincide
    g_wrong = 1 - 1.05 * 2 * eta * mu  # control: a 5% error in the escape rate is seen
    eps_w = np.array([1e-5, 1e-5 * g_wrong ** (-M)])
    Tw = ncl.escape_times(v, w, 0.5, X, y, eps_w, lr=eta, steps=20000)
    assert abs(Tw[1] - Tw[0] - M) > 0.5
    Ti, curves = ncl.plateau_lengths(v, w, 0.5, X, y, eps, lr=eta, steps=2000, drop=0.01, xi=xi)
    assert Ti[1] > Ti[0] and curves.shape == (2, 2001)
    with pytest.raises(ValueError, match="bounded work"):
        ncl.plateau_lengths(v, w, 0.5, X, y, eps, lr=eta, steps=ncl.MAX_STEPS + 1)


# ----------------------------------------------------------------------------- deep-network measures


def test_degeneracy_measures_detect_overlap_elimination_and_dependence():
    rng = np.random.default_rng(0)
    W1 = np.abs(rng.standard_normal((1, 4, 4)))  # active on positive inputs
    W1[0, 1] = W1[0, 0]            # units 0 and 1 overlap
    W1[0, 3] = -W1[0, 3]           # unit 3 dead on positive inputs
    W2 = rng.standard_normal((1, 1, 4))
    net = NetworkStack([W1, W2], activation="relu")
    X = np.abs(rng.standard_normal((4, 50)))
    meas = ns.degeneracy_measures(net, X, gn_samples=8)
    assert meas["eliminated"][0] == pytest.approx(0.25)
    assert meas["overlap"][0] == pytest.approx(1.0)
    assert meas["weight_overlap"][0] == pytest.approx(1.0)
    assert meas["dependence"][0] < 1e-12
    W1b = rng.standard_normal((1, 4, 4))  # control: a generic layer shows none of it
    meas2 = ns.degeneracy_measures(NetworkStack([W1b, W2], activation="relu"), rng.standard_normal((4, 50)))
    assert meas2["overlap"][0] < 0.999 and meas2["dependence"][0] > 1e-3


def test_degeneracy_experiment_shapes_and_validation():
    run = ns.degeneracy_experiment(depth=3, width=4, runs=2, n_samples=16, steps=4, checkpoints=2, rng=1)
    assert set(run.loss) == {"plain", "residual", "symmetric-skip"}
    assert run.loss["plain"].shape == (2, 3) and run.steps.tolist() == [0, 2, 4]
    assert run.measures["residual"]["overlap"].shape == (2, 3)
    assert np.all(run.loss["plain"][:, -1] < run.loss["plain"][:, 0])
    with pytest.raises(ValueError, match="multiple of checkpoints"):
        ns.degeneracy_experiment(depth=3, width=4, runs=2, steps=5, checkpoints=2)
    with pytest.raises(ValueError, match="variants must be one of"):
        ns.degeneracy_experiment(depth=3, width=4, runs=2, steps=4, checkpoints=2, variants=("dense",))


def test_point_on_set_respects_the_constraint():
    m = sn.two_hidden_layers(3, 3, 3, bias=True)
    p = ns.point_on_set(ts.overlap(m, 0, 2, layer=2), rng=5)
    assert np.array_equal(p["W2"][0], p["W2"][2]) and p["b2"][0] == p["b2"][2]
    q = ns.point_on_set(ts.linear_dependence(m, 2, (0, 1), (2.0, -1.0)), rng=5)
    assert np.allclose(q["W1"][2], 2 * q["W1"][0] - q["W1"][1])
    assert F.flatten(p).size == m.size


def test_skip_comparison_covers_every_placement():
    out = se.skip_comparison(2, (2, 2))
    assert set(out) == {(False, False), (True, False), (False, True), (True, True)}
    # the first layer: its own skip breaks the overlap, the next layer's skip the outgoing elimination, and
    # the incoming elimination needs both (one direction survives the own skip alone: the skip rescaling)
    table = {p: (out[p][("overlap", 1)], out[p][("eliminate_incoming", 1)], out[p][("eliminate_outgoing", 1)])
             for p in out}
    assert table == {(False, False): ((2,), (2,), (2,)), (False, True): ((2,), (2,), (0,)),
                     (True, False): ((0,), (1,), (2,)), (True, True): ((0,), (0,), (0,))}
    # a layer narrower than its input cannot carry a skip: no pattern puts one there
    assert set(se.skip_comparison(2, (3,))) == {(False,)}
