"""theory.singularities and numerics.singularities: certificates, exact ranks, skip table, critical lines."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from degeneracy.errors import CertificationError
from degeneracy.numerics import fisher as F
from degeneracy.numerics import singularities as ns
from degeneracy.numerics.networks import NetworkStack
from degeneracy.theory import singularities as ts


def _vec(model, entries):
    u = sp.zeros(model.size, 1)
    for k, v in entries.items():
        u[model.index(k)] = v
    return u


# ----------------------------------------------------------------------------- certificates


@pytest.mark.parametrize("bias", [False, True])
def test_overlap_null_vectors_certified_and_wrong_vector_fails(bias):
    m = ts.one_hidden_layer(3, 3, bias=bias)
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
    m = ts.one_hidden_layer(3, 2)
    s = ts.eliminate_outgoing(m, 1)
    assert [lab for lab, _ in ts.null_directions(s)] == [f"incoming W1[1,{k}]" for k in range(3)]
    s = ts.eliminate_incoming(m, 1)
    assert [lab for lab, _ in ts.null_directions(s)] == ["outgoing V[0,1]"]
    # the control: v_i is not null when only w_i = 0 but phi(0) is not assumed 0
    s2 = ts.SingularSet(m, "eliminate_incoming", 1, (1,), s.subs)
    assert not ts.certify_null_direction(s2, _vec(m, {"V[0,1]": 1}))[0]


def test_skip_breaks_outgoing_overlap_direction_but_not_w_direction():
    m = ts.one_hidden_layer(3, 3, skip=True)
    s = ts.overlap(m, 0, 1)
    assert not ts.certify_null_direction(s, _vec(m, {"V[0,0]": 1, "V[0,1]": -1}))[0]
    v0, v1 = m.symbol("V[0,0]"), m.symbol("V[0,1]")
    assert ts.certify_null_direction(s, _vec(m, {"W1[0,2]": v1, "W1[1,2]": -v0}))[0]


def test_linear_dependence_needs_linear_units():
    lin = ts.one_hidden_layer(3, 3, m=4, activation="linear")
    s = ts.linear_dependence(lin, 2, (0, 1))
    comb = [u for lab, u in ts.null_directions(s, certified_only=False) if lab.startswith("outgoing")]
    assert len(comb) == 4 and all(ts.certify_null_direction(s, u)[0] for u in comb)
    non = ts.linear_dependence(ts.one_hidden_layer(3, 3), 2, (0, 1), coeffs=(2, -1))
    assert non.coeffs == (2, -1)
    (lab, u), = ts.null_directions(non, certified_only=False)
    assert not ts.certify_null_direction(non, u)[0]


def test_exact_null_dimension_and_uncertified_detection():
    m = ts.one_hidden_layer(2, 2)
    assert ts.exact_null_dimension(ts.overlap(m, 0, 1)) == 3
    assert ts.exact_null_dimension(ts.generic_point(m)) == 0
    # an "anti-overlap" w_1 = -w_0 is singular for the ODD rational activation (phi(-z) = -phi(z)),
    # but no candidate vector covers it: the exact routine must refuse to certify, not return a number
    W = [m.symbol(f"W1[0,{k}]") for k in range(2)]
    anti = ts.SingularSet(m, "overlap", 1, (0, 1), {m.symbol(f"W1[1,{k}]"): -W[k] for k in range(2)})
    with pytest.raises(CertificationError, match="uncertified"):
        ts.exact_null_dimension(anti)


def test_exact_rank_and_exact_jacobian_against_sympy():
    assert ts.exact_rank([[Fraction(1, 3), Fraction(2, 3)], [1, 2], [0, 1]]) == 2
    assert ts.exact_rank([[0, 0], [0, 0]]) == 0
    m = ts.two_hidden_layers(2, 2, 2, skip=True, bias=True)
    vals = {name: Fraction((7 * i) % 11 - 5, 3) for i, name in enumerate(m.names)}
    X = np.array([[Fraction(1, 2), Fraction(-2, 3)], [Fraction(3, 4), Fraction(1, 5)]], dtype=object)
    Je = ts.exact_jacobian(m, vals, X)
    J = m.jacobian()  # symbolic (undefined phi), then phi(z) = z/(1+z^2), phi'(z) = (1-z^2)/(1+z^2)^2
    for b in range(2):
        sub = {m.symbol(k): sp.Rational(v.numerator, v.denominator) for k, v in vals.items()}
        sub.update({x: sp.Rational(X[b, k].numerator, X[b, k].denominator) for k, x in enumerate(m.inputs)})
        row = J.replace(ts.dphi, lambda a: (1 - a**2) / (1 + a**2) ** 2).replace(ts.phi, lambda a: a / (1 + a**2))
        row = row.xreplace(sub)
        expected = [sp.Rational(int(e.numerator), int(e.denominator)) for e in Je[b]]
        assert all(sp.simplify(a - e) == 0 for a, e in zip(row, expected))
    assert sp.simplify(row[0] - expected[0] - sp.Rational(1, 7)) != 0  # control


def test_degeneracy_table_matches_docstring_constant():
    assert ts.degeneracy_table(3) == ts.DEGENERACY_TABLE


# ----------------------------------------------------------------------------- numeric vs symbolic ranks

sets = st.sampled_from(["generic", "overlap", "eliminate_incoming", "eliminate_outgoing", "linear_dependence"])


@given(depth=st.integers(1, 2), skip=st.booleans(), bias=st.booleans(), kind=sets,
       layer_last=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_numeric_fisher_rank_equals_exact(depth, skip, bias, kind, layer_last, seed):
    n = 3
    m = ts.one_hidden_layer(n, n, skip=skip, bias=bias) if depth == 1 else \
        ts.two_hidden_layers(n, n, n, skip=skip, bias=bias)
    layer = depth if layer_last else 1
    s = {"generic": lambda: ts.generic_point(m),
         "overlap": lambda: ts.overlap(m, 0, 1, layer=layer),
         "eliminate_incoming": lambda: ts.eliminate_incoming(m, 2, layer=layer),
         "eliminate_outgoing": lambda: ts.eliminate_outgoing(m, 1, layer=layer),
         "linear_dependence": lambda: ts.linear_dependence(m, 2, (0, 1), layer=layer)}[kind]()
    exact = ts.exact_null_dimension(s)
    count, cut, gap = ns.fisher_null_count(s, rng=seed)
    assert count == exact
    assert gap > 10.0  # a resolved separation from the rounding cut


# ----------------------------------------------------------------------------- validation


def test_bad_input_messages():
    m = ts.one_hidden_layer(3, 3)
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
        ts.two_hidden_layers(3, 3, 2, skip=True)
    with pytest.raises(ValueError, match="activation must be one of"):
        ts.one_hidden_layer(2, 2, activation="relu")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        ts.one_hidden_layer(0, 2)
    with pytest.raises(TypeError, match="Model"):
        ts.overlap("net", 0, 1)
    with pytest.raises(ValueError, match=r"u must have shape \(12, 1\)"):
        ts.certify_null_direction(ts.overlap(m, 0, 1), sp.zeros(3, 1))
    with pytest.raises(ValueError, match=r"X must have shape \(B, 3\)"):
        ts.exact_jacobian(m, {k: 1 for k in m.names}, np.zeros((2, 2), dtype=object))
    with pytest.raises(ValueError, match="misses parameters"):
        ts.exact_jacobian(m, {}, np.zeros((2, 3), dtype=object))
    with pytest.raises(ValueError, match="square matrix"):
        ts.critical_line_classification([1.0, 2.0], 0.5)


# ----------------------------------------------------------------------------- critical lines


def test_critical_line_certificates_and_controls():
    assert ts.critical_line_gradient_certificate(2)[0]
    assert ts.critical_line_hessian_certificate(3)[0]
    lam = sp.Symbol("lambda", real=True)
    assert not ts.critical_line_hessian_certificate(2, wrong_factor=lam)[0]
    assert not ts.critical_line_hessian_certificate(2, wrong_factor=1 - lam)[0]


def test_critical_line_classification_intervals():
    pd, nd, ind = np.eye(2), -np.eye(2), np.diag([1.0, -1.0])
    assert [ts.critical_line_classification(pd, x) for x in (-0.5, 0.5, 1.5)] == ["saddle", "minimum", "saddle"]
    assert [ts.critical_line_classification(nd, x) for x in (-0.5, 0.5, 1.5)] == ["minimum", "saddle", "minimum"]
    assert ts.critical_line_classification(ind, 0.5) == "saddle"
    assert ts.critical_line_classification(pd, 0.0) == "degenerate"


def test_critical_line_numerics():
    X, y = ns.two_unit_teacher(2, 150, rng=0)
    v, w, L = ns.reduced_critical_point(X, y, rng=0)
    A = ns.critical_line_A(v, w, X, y)
    for lam in (0.3, 0.5, 1.7):
        vv, W = ns.embed(v, w, lam)
        _, gv, gW = ns.loss_and_grad(vv, W, X, y)  # the whole line is critical
        assert np.max(np.abs(gv)) < 1e-7 and np.max(np.abs(gW)) < 1e-7
        H = ns.line_hessian_fd(v, w, lam, X, y)
        assert np.max(np.abs(H - lam * (1 - lam) * A)) < 1e-6
        assert np.max(np.abs(H - lam * A)) > 1e-3  # control: the factor (1 - lambda) is needed
    mu, xi = ns.escape_direction(A, 0.5)
    assert mu < 0
    eps = np.array([1e-4, 1e-6])
    T, curves = ns.plateau_lengths(v, w, 0.5, X, y, eps, lr=0.5, steps=3000, xi=xi)
    pred = np.log(100.0) / np.log1p(-2 * 0.5 * mu)
    assert T[1] > T[0] and abs((T[1] - T[0]) - pred) <= 2
    assert curves.shape == (2, 3001)


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
    m = ts.two_hidden_layers(3, 3, 3, bias=True)
    p = ns.point_on_set(ts.overlap(m, 0, 2, layer=2), rng=5)
    assert np.array_equal(p["W2"][0], p["W2"][2]) and p["b2"][0] == p["b2"][2]
    q = ns.point_on_set(ts.linear_dependence(m, 2, (0, 1), (2.0, -1.0)), rng=5)
    assert np.allclose(q["W1"][2], 2 * q["W1"][0] - q["W1"][1])
    assert F.flatten(p).size == m.size
