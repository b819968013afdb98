"""The real-data experiments (digits): shapes, pairing, reproducibility and independent routes."""

import math
import sys

import numpy as np
import pytest

from degeneracy.numerics import data as D
from degeneracy.numerics import realdata as rd
from degeneracy.numerics.networks import NetworkStack
from degeneracy.numerics.training import FullBatchTask, PopulationTask, train

pytest.importorskip("sklearn")

TINY = dict(depth=3, width=8, runs=2, steps=6, checkpoints=2, batch_size=16)


def test_skip_experiment_shapes_pairing_and_reproducibility():
    arms = ("plain", "residual", "symmetric-skip", "residual-off", "plain-twin")
    a = rd.skip_experiment(**TINY, arms=arms, rng=3)
    b = rd.skip_experiment(**TINY, arms=arms, rng=3)
    assert a.steps.tolist() == [0, 3, 6] and a.settings["n_train"] + a.settings["n_test"] == 1797
    for arm in arms:
        assert a.train_loss[arm].shape == (2, 3) and a.test_accuracy[arm].shape == (2, 3)
        assert np.array_equal(a.train_loss[arm], b.train_loss[arm])  # same rng, same numbers
        assert set(a.measures[arm]) == {"eliminated", "overlap", "weight_overlap", "dependence", "gn_null"}
        assert np.all((a.test_accuracy[arm] >= 0) & (a.test_accuracy[arm] <= 1))
    # pairing: ReLU without biases is positively homogeneous, so the residual network with its skips
    # switched off (hidden weights scaled by the branch gain) has, after the readout's rescaling, the
    # plain network's outputs at initialization; the twin draws its own weights
    assert np.allclose(a.train_loss["residual-off"][:, 0], a.train_loss["plain"][:, 0], rtol=1e-10)
    assert np.allclose(a.test_loss["residual-off"][:, 0], a.test_loss["plain"][:, 0], rtol=1e-10)
    assert not np.allclose(a.train_loss["plain-twin"][:, 0], a.train_loss["plain"][:, 0])
    c = rd.skip_experiment(**TINY, arms=("plain",), rng=4, measures=False)
    assert not np.array_equal(c.train_loss["plain"], a.train_loss["plain"]) and c.measures == {}


def test_residual_trains_faster_than_plain_on_digits_at_depth():
    """A deterministic smoke check of the effect the claim will test (small, fixed seed)."""
    out = rd.skip_experiment(depth=10, width=16, runs=3, steps=90, checkpoints=1, batch_size=32, measures=False,
                             rng=0)
    assert np.all(out.train_loss["residual"][:, -1] < out.train_loss["plain"][:, -1])


def test_isometry_experiment_input_scale_and_threshold_steps():
    out = rd.isometry_experiment(depth=3, width=16, runs=2, steps=20, eval_every=5, batch_size=16, rng=1)
    s = out.settings
    split = D.prepare_runs("digits", 2, preprocessing="standardize", rng=[g[0] for g in _streams(1, 2, 7)])
    ms = float(np.mean(split.X_train ** 2))
    assert math.isclose(s["input_scale"] ** 2 * s["sigma_w2"] * ms + s["sigma_b2"], s["q_star"], rel_tol=1e-12)
    assert out.steps.tolist() == [0, 5, 10, 15, 20]
    for arm in ("orthogonal", "gaussian"):
        first, cens = rd.steps_to_threshold(out.train_loss[arm], out.steps, s["threshold"])
        assert np.array_equal(first, out.extra[arm]["steps_to_threshold"])
        assert np.array_equal(cens, out.extra[arm]["censored"])


def test_twin_controls_and_arm_streams():
    """A twin arm is the same ensemble with its own draw; an arm's numbers do not depend on which other
    arms are asked for (each arm has its own stream)."""
    kw = dict(depth=2, width=8, runs=2, steps=10, eval_every=5, batch_size=16, rng=6)
    both = rd.isometry_experiment(**kw, inits=("orthogonal", "gaussian", "gaussian-twin"))
    alone = rd.isometry_experiment(**kw, inits=("gaussian",))
    assert np.array_equal(both.train_loss["gaussian"], alone.train_loss["gaussian"])
    assert not np.array_equal(both.train_loss["gaussian-twin"], both.train_loss["gaussian"])
    norm = rd.normalization_experiment(**TINY, normalizations=("none", "none-twin"), probe=16, rng=2)
    assert not np.array_equal(norm.train_loss["none"], norm.train_loss["none-twin"])
    ref = rd.normalization_experiment(**TINY, normalizations=("none",), probe=16, rng=2)
    assert np.array_equal(ref.train_loss["none"], norm.train_loss["none"])


def _streams(seed, runs, k):
    from degeneracy.numerics.rng import spawn_generators

    return [spawn_generators(g, k) for g in spawn_generators(seed, runs)]


def test_normalization_experiment_and_participation_ratio():
    out = rd.normalization_experiment(**TINY, probe=32, rng=2)
    for arm in ("none", "batch", "layer", "divisive"):
        pr = out.measures[arm]["pr_last"]
        assert pr.shape == (2, 3) and np.all((pr >= 1 - 1e-12) & (pr <= 8 + 1e-9))
    # participation ratio by an independent route: a linear network's hidden layer is W x
    g = np.random.default_rng(0)
    W = g.standard_normal((1, 4, 3))
    net = NetworkStack([W, g.standard_normal((1, 2, 4))])
    X = g.standard_normal((3, 50))
    H = W[0] @ X
    lam = np.linalg.eigvalsh(np.cov(H, bias=True))
    assert np.isclose(rd.hidden_participation(net, X)[0, 0], lam.sum() ** 2 / np.sum(lam ** 2))
    X3 = X[:, :3]  # fewer inputs than units: the P x P Gram matrix route
    lam3 = np.linalg.eigvalsh(np.cov(W[0] @ X3, bias=True))
    assert np.isclose(rd.hidden_participation(net, X3)[0, 0], lam3.sum() ** 2 / np.sum(lam3 ** 2))


def test_fold_on_digits_is_the_population_task_of_sigma_yx():
    """Saxe et al. 2013: with whitened inputs, a full-batch step on the images equals the population step
    on Sigma_yx, and the losses differ by the constant c (route independent of fold_experiment_digits)."""
    split = D.prepare("digits", preprocessing="whiten", components=8, rng=0)
    X, Y = split.X_train, split.Y_train
    n = X.shape[1]
    Syx = Y @ X.T / n
    g = np.random.default_rng(1)
    net = NetworkStack([g.standard_normal((1, 8, 8)) / 3, g.standard_normal((1, 10, 8)) / 3])
    a = train(net, FullBatchTask(X, Y), optimizer="gd", lr=0.05, steps=3)
    b = train(net, PopulationTask(Syx), optimizer="gd", lr=0.05, steps=3)
    c = 0.5 * np.sum(Y ** 2) / n - 0.5 * np.sum(Syx ** 2)
    assert np.allclose(a.loss, b.loss + c, rtol=1e-10)
    assert all(np.allclose(u, v, rtol=1e-9, atol=1e-12) for u, v in zip(a.network.weights, b.network.weights))
    out = rd.fold_experiment_digits(width=8, depth=3, runs=2, epochs=5, few=2, optimizer_settings=(("gd", 0.05),),
                                    rng=0)
    per = out["runs"]["gd lr=5e-2"]
    assert set(per) == {"fold0", "fold1", "fold2", "ortho"} and per["fold0"]["loss"].shape == (2, 6)
    assert np.all(out["init"]["fold2"]["gn_near_null"] > out["init"]["fold0"]["gn_near_null"])
    with pytest.raises(ValueError, match="divisible by 4"):
        rd.fold_experiment_digits(width=10, depth=3, runs=2, epochs=2, few=1)


def test_missing_scikit_learn_reaches_the_caller(monkeypatch):
    D._load.cache_clear()
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    try:
        with pytest.raises(D.DataUnavailable, match="pip install"):
            rd.skip_experiment(**TINY, rng=0)
    finally:
        D._load.cache_clear()


@pytest.mark.parametrize("call, match", [
    (lambda: rd.skip_experiment(**{**TINY, "steps": 7}), "multiple of checkpoints"),
    (lambda: rd.skip_experiment(**{**TINY, "width": 64}), "width must be"),
    (lambda: rd.skip_experiment(**TINY, arms=("highway",)), "arms must be one of"),
    (lambda: rd.isometry_experiment(inits=("xavier",)), "inits must be one of"),
    (lambda: rd.normalization_experiment(normalizations=("batch-twin",)), "normalizations must be one of"),
    (lambda: rd.normalization_experiment(normalizations=("group",)), "normalizations must be one of"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_checkpoint_columns_are_in_step_order():
    """Column k of the held-out arrays is the k-th checkpoint in step order, whatever order the steps
    are given in (regression: the columns once followed a set's iteration order)."""
    split = D.prepare_runs("digits", 1, preprocessing="whiten", components=4, rng=0)
    test_loss, test_acc, make = rd._evaluator(split, ("a",), 7, None)
    steps = [0, 20, 40, 60, 80, 100, 120]
    cb = make("a", set(steps))
    for k, t in enumerate(steps):  # a readout whose logits scale with the step: the loss moves with k
        cb(t, NetworkStack([np.full((1, 10, 4), 0.01 * k)]))
    expected = [rd.softmax_cross_entropy(np.full((1, 10, 4), 0.01 * k) @ split.X_test, split.Y_test)[0][0]
                for k in range(7)]
    assert np.allclose(test_loss["a"][0], expected)


def test_arms_share_the_minibatch_order():
    """Regression: the arms once shared one generator object, so each arm saw a different minibatch
    order. Two identical arms (the same weights) must now give the same numbers."""
    out = rd.normalization_experiment(**TINY, normalizations=("none", "batch"), probe=16, rng=3)
    again = rd.normalization_experiment(**TINY, normalizations=("batch",), probe=16, rng=3)
    assert np.array_equal(out.train_loss["batch"], again.train_loss["batch"])
