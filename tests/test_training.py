"""Batched trainer and degeneracy measures."""

import math

import mpmath
import numpy as np
import pytest

from degeneracy.errors import DegeneracyError
from degeneracy.numerics.measures import (
    effective_rank,
    gauss_newton_gram,
    gauss_newton_spectrum,
    layer_singular_values,
    near_null_fraction,
    participation_ratio,
)
from degeneracy.numerics.networks import NetworkStack, init_network
from degeneracy.numerics.rng import spawn_generators
from degeneracy.numerics.training import (
    FullBatchTask,
    OptimizerState,
    PopulationTask,
    SampledTask,
    sample_linear_task,
    train,
)


@pytest.mark.parametrize("optimizer, lr", [("gd", 0.05), ("adam", 0.01)])
@pytest.mark.parametrize("sampled", [False, True])
def test_batched_equals_separate_runs_bit_for_bit(optimizer, lr, sampled):
    R = 4
    widths = [6, 6, 6, 3]
    init_seeds = spawn_generators(11, R)
    data_seeds = [np.random.SeedSequence(100 + r) for r in range(R)]
    T = np.random.default_rng(0).standard_normal((3, 6)) / 3
    task = sample_linear_task(T, 24, 8, noise=0.1, rng=1) if sampled else PopulationTask(T)
    net = init_network(widths, R, activation="tanh", bias_std=0.1, skip="identity", rng=list(init_seeds))
    batched = train(net, task, optimizer=optimizer, lr=lr, steps=25, record_at=(0, 10, 25), rng=list(data_seeds))
    for r in range(R):
        single = init_network(widths, 1, activation="tanh", bias_std=0.1, skip="identity",
                              rng=[spawn_generators(11, R)[r]])
        alone = train(single, task, optimizer=optimizer, lr=lr, steps=25, record_at=(0, 10, 25),
                      rng=[np.random.SeedSequence(100 + r)])
        assert np.array_equal(alone.loss[0], batched.loss[r])
        for a, b in zip(alone.network.parameters(), batched.network.parameters()):
            assert np.array_equal(a[0], b[r])
        for s in (0, 10, 25):
            assert np.array_equal(alone.records[s].delta[0], batched.records[s].delta[r])
            assert np.array_equal(alone.records[s].weights[0], batched.records[s].weights[r])
    # negative control: a different minibatch stream changes the run
    other = train(net, task, optimizer=optimizer, lr=lr, steps=25, rng=[np.random.SeedSequence(7)] * R)
    assert sampled is False or not np.array_equal(other.loss, batched.loss)


@pytest.mark.parametrize("optimizer, lr", [("gd", 0.05), ("adam", 0.01)])
def test_full_batch_per_replica_data_and_resumed_state_bit_for_bit(optimizer, lr):
    """Per-replica data: replica r of the stack is the run on (X[r], Y[r]) alone; training in chunks
    with the returned optimizer state is the same computation as one run."""
    R, widths = 3, [5, 5, 5, 2]
    g = np.random.default_rng(3)
    X, Y = g.standard_normal((R, 5, 12)), g.standard_normal((R, 2, 12))
    net = init_network(widths, R, activation="relu", skip="identity", rng=4)
    whole = train(net, FullBatchTask(X, Y), optimizer=optimizer, lr=lr, steps=30, record_at=(0, 30))
    for r in range(R):
        alone = train(net.replica(r), FullBatchTask(X[r], Y[r]), optimizer=optimizer, lr=lr, steps=30)
        assert np.array_equal(alone.loss[0], whole.loss[r])
        assert all(np.array_equal(a[0], b[r]) for a, b in zip(alone.network.parameters(), whole.network.parameters()))
    chunked, state, losses = net.copy(), None, []
    for _ in range(3):
        res = train(chunked, FullBatchTask(X, Y), optimizer=optimizer, lr=lr, steps=10, record_at=(), copy=False,
                    state=state)
        state = res.state
        losses.append(res.loss[:, :-1])
    assert state.step == 30 and whole.state.step == 30
    assert np.array_equal(np.concatenate(losses + [res.loss[:, -1:]], axis=1), whole.loss)
    assert all(np.array_equal(a, b) for a, b in zip(chunked.parameters(), whole.network.parameters()))
    # control: restarting the optimizer at every chunk (Adam: bias correction and moments reset) is another run
    fresh = net.copy()
    for _ in range(3):
        train(fresh, FullBatchTask(X, Y), optimizer=optimizer, lr=lr, steps=10, copy=False)
    same = all(np.array_equal(a, b) for a, b in zip(fresh.parameters(), whole.network.parameters()))
    assert same == (optimizer == "gd")


def test_bad_resume_and_full_batch_input():
    net = init_network([2, 2], 2, rng=0)
    res = train(net, PopulationTask(np.eye(2)), optimizer="gd", lr=0.1, steps=2)
    with pytest.raises(ValueError, match="cannot resume with 'adam'"):
        train(net, PopulationTask(np.eye(2)), optimizer="adam", lr=0.1, steps=2, state=res.state)
    with pytest.raises(TypeError, match="state must be an OptimizerState"):
        train(net, PopulationTask(np.eye(2)), optimizer="gd", lr=0.1, steps=2, state={"step": 2})
    with pytest.raises(ValueError, match="do not match"):
        train(net, PopulationTask(np.eye(2)), optimizer="adam", lr=0.1, steps=1,
              state=OptimizerState("adam", 1, [np.zeros((2, 3, 3))], [np.zeros((2, 3, 3))]))
    with pytest.raises(ValueError, match="3 replicas, the network stack 2"):
        train(net, FullBatchTask(np.ones((3, 2, 4)), np.ones((3, 2, 4))), optimizer="gd", lr=0.1, steps=1)
    with pytest.raises(ValueError, match="same replicas and number of samples"):
        FullBatchTask(np.ones((2, 4)), np.ones((2, 5)))


def test_population_loss_is_frobenius_distance_and_gd_step():
    net = init_network([4, 5, 3], 2, rng=0)
    T = np.random.default_rng(1).standard_normal((3, 4))
    res = train(net, PopulationTask(T), optimizer="gd", lr=0.01, steps=1, record_at=(0,))
    P = net.end_to_end()
    assert np.allclose(res.loss[:, 0], 0.5 * np.sum((P - T) ** 2, axis=(1, 2)))
    # the recorded parameter-gradient norms equal the chain formula's
    from degeneracy.theory.linear_dynamics import layer_gradients

    G = layer_gradients(net.weights, P - T)
    assert np.allclose(res.records[0].weights, np.stack([np.linalg.norm(g, axis=(1, 2)) for g in G], axis=1))
    after = [w - 0.01 * g for w, g in zip(net.weights, G)]
    assert all(np.allclose(a, b) for a, b in zip(after, res.network.weights))


def test_divergence_is_reported_not_returned_as_a_number():
    net = init_network([4, 4, 4, 4], 3, init="orthogonal", rng=0)
    net.weights[0][1] *= 50.0  # replica 1 is far from stable at this learning rate
    res = train(net, PopulationTask(np.eye(4)), optimizer="gd", lr=0.05, steps=60, record_at=(0, 60))
    assert res.diverged.tolist() == [False, True, False]
    assert res.diverged_at[1] >= 0 and res.diverged_at[0] == -1
    assert np.isinf(res.loss[1, -1]) and np.all(np.isfinite(res.loss[[0, 2], -1]))
    assert np.isinf(res.records[60].delta[1]).all()
    with pytest.raises(DegeneracyError, match="diverged"):
        res.final_loss()
    assert np.isinf(res.final_loss(allow_diverged=True)[1])


@pytest.mark.parametrize("kw, match", [
    (dict(optimizer="sgdm", lr=0.1, steps=1), "optimizer must be one of"),
    (dict(optimizer="gd", lr=0.0, steps=1), "lr must be in"),
    (dict(optimizer="gd", lr=float("nan"), steps=1), "lr must be a finite"),
    (dict(optimizer="gd", lr=0.1, steps=-1), "steps must be an integer >= 0"),
    (dict(optimizer="gd", lr=0.1, steps=5, record_at=(6,)), "record_at steps must be <= steps"),
])
def test_bad_training_input(kw, match):
    net = init_network([2, 2], 1, rng=0)
    with pytest.raises((ValueError, TypeError), match=match):
        train(net, PopulationTask(np.eye(2)), **kw)


def test_bad_task_input():
    with pytest.raises(ValueError, match="batch_size must be <="):
        SampledTask(np.ones((2, 4)), np.ones((1, 4)), 5)
    with pytest.raises(ValueError, match="same replicas and number of samples"):
        SampledTask(np.ones((2, 4)), np.ones((1, 3)), 2)
    with pytest.raises(ValueError, match="both have shape"):
        SampledTask(np.ones((2, 2, 4)), np.ones((1, 4)), 2)
    net = init_network([2, 1], 2, rng=0)
    with pytest.raises(ValueError, match="task X has 3 replicas, the network stack 2"):
        train(net, SampledTask(np.ones((3, 2, 4)), np.ones((3, 1, 4)), 2), lr=0.1, steps=1)
    with pytest.raises(ValueError, match="loss must be one of"):
        train(net, SampledTask(np.ones((2, 4)), np.ones((1, 4)), 2), lr=0.1, steps=1, loss="hinge")


def test_product_log_singular_values_of_a_network_stack_vs_high_precision():
    """The convention the fold claims use: ``np.stack(net.weights)`` is ``(L, R, N, N)`` with
    ``factors[l] = W_{l+1}`` (numerics.factors), i.e. the product ``W_L ... W_1``."""
    from degeneracy.numerics.graded_svd import product_log_singular_values

    rng = np.random.default_rng(4)
    N, L = 4, 40  # L (mu_1 - mu_N) far beyond what the float64 product can resolve
    W = [rng.standard_normal((N, N)) / 2 for _ in range(L)]
    net = NetworkStack([np.stack([w, 2 * w]) for w in W])  # replica 1: 2^L W_L ... W_1
    with mpmath.workdps(400):
        P = mpmath.eye(N)
        for w in W:
            P = mpmath.matrix(w.tolist()) * P
        sv = mpmath.svd_r(P, compute_uv=False)
        exact = sorted((float(mpmath.log(x)) for x in sv), reverse=True)
    got = product_log_singular_values(np.stack(net.weights))
    assert got.shape == (2, N)
    assert np.allclose(got[0], exact, atol=1e-8)
    assert np.allclose(got[1], np.add(exact, L * math.log(2.0)), atol=1e-8)  # replicas do not mix
    # control: the reversed order W_1 ... W_L is a different product
    assert not np.allclose(product_log_singular_values(np.stack(net.weights[::-1]))[0], exact, atol=1e-2)
    naive = np.log(np.linalg.svd(np.linalg.multi_dot(W[::-1]), compute_uv=False))
    assert not np.allclose(naive, exact, atol=1e-2)  # control: the naive product loses the small ones
    Q = [np.linalg.qr(rng.standard_normal((5, 5)))[0][None] for _ in range(30)]
    assert np.allclose(product_log_singular_values(np.stack(Q)), 0.0, atol=1e-12)


def test_gauss_newton_gram_equals_explicit_jacobian():
    net = init_network([3, 4, 2], 1, activation="tanh", bias_std=0.3, skip="mean", rng=3)
    x = np.random.default_rng(0).standard_normal((3, 2))
    params = net.parameters()
    h = 1e-6
    cols = []
    for p in params:
        for idx in np.ndindex(p.shape[1:]):
            old = p[(0,) + idx]
            p[(0,) + idx] = old + h
            fp = net(x)[0].ravel()  # ordering (output i, sample b) -> i * B + b
            p[(0,) + idx] = old - h
            fm = net(x)[0].ravel()
            p[(0,) + idx] = old
            cols.append((fp - fm) / (2 * h))
    J = np.stack(cols, axis=1)
    K = gauss_newton_gram(net, x)[0]
    assert np.allclose(K, J @ J.T / x.shape[1], atol=1e-7)
    lam = gauss_newton_spectrum(net, x)[0]
    top = np.linalg.eigvalsh(J.T @ J / x.shape[1])[::-1][: lam.size]
    assert np.allclose(lam, top, atol=1e-7)


def test_effective_dimension_measures():
    assert effective_rank(np.array([2.0, 2.0, 2.0])) == pytest.approx(3.0)
    assert effective_rank(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert participation_ratio(np.array([1.0, 1.0, 0.0, 0.0])) == pytest.approx(2.0)
    assert near_null_fraction(np.array([1.0, 1e-4, 0.5, 1e-2]), rtol=1e-3) == pytest.approx(0.25)
    sv = layer_singular_values(init_network([8, 8], 2, fold=1, rng=0))
    assert np.all(sv[0][:, 4:] < 1e-12) and np.all(sv[0][:, :4] > 1e-3)
    with pytest.raises(ValueError, match="values must be >= 0"):
        effective_rank(np.array([1.0, -1.0]))


def test_participation_ratio_conventions():
    """One home (numerics.measures; numerics.pathologies re-exports it); the normalized form of
    numerics.spectral_summaries is participation_ratio(s**2) / n, as the docstring says."""
    from degeneracy.numerics import pathologies, spectral_summaries

    s = np.random.default_rng(0).exponential(size=(3, 7))
    normalized = spectral_summaries.normalized_participation_ratio(s)
    np.testing.assert_allclose(participation_ratio(s**2) / 7, normalized, rtol=1e-12)
    assert not np.allclose(participation_ratio(s) / 7, normalized, rtol=1e-3)  # not of s
    assert pathologies.participation_ratio is participation_ratio and pathologies.effective_rank is effective_rank
    lam = np.array([2.0, 1.0, -1e-15])  # eigvalsh rounding of a PSD matrix: clipped
    assert participation_ratio(lam) == pytest.approx(9 / 5)
    assert participation_ratio(s.T, axis=0).tolist() == participation_ratio(s).tolist()
    with pytest.raises(DegeneracyError, match="all-zero"):
        effective_rank(np.zeros(3))
    with pytest.raises(ValueError, match="eigenvalues must contain only finite"):
        participation_ratio(np.array([1.0, np.nan]))


@pytest.mark.parametrize("optimizer, lr, sampled", [("gd", 0.05, False), ("adam", 0.01, True)])
def test_replica_blocks_give_the_same_numbers(optimizer, lr, sampled):
    """The trainer runs replica blocks one after the other (cache-sized): any block size, same run."""
    R = 5
    g = np.random.default_rng(2)
    if sampled:
        task = SampledTask(g.standard_normal((R, 4, 20)), g.standard_normal((R, 3, 20)), 5)
    else:
        task = PopulationTask(g.standard_normal((3, 4)))
    net = init_network([4, 6, 6, 3], R, activation="tanh", bias_std=0.1, skip="none", rng=1)
    runs = [train(net, task, optimizer=optimizer, lr=lr, steps=12, record_at=(0, 5, 12), eval_every=4, rng=3,
                  block=b) for b in (1, 2, R)]
    assert runs[0].settings["block"] == 1 and runs[2].settings["block"] == R
    for other in runs[1:]:
        assert np.array_equal(other.loss, runs[0].loss)
        assert all(np.array_equal(a, b) for a, b in zip(other.network.parameters(), runs[0].network.parameters()))
        assert all(np.array_equal(other.records[s].delta, runs[0].records[s].delta) for s in (0, 5, 12))
    with pytest.raises(ValueError, match="needs callback=None"):
        train(net, task, lr=lr, steps=1, block=2, callback=lambda t, n: None)


def test_cross_entropy_training_on_separable_classes():
    """Softmax cross-entropy: the loss at zero logits is log C; minibatch SGD separates two blobs."""
    from degeneracy.numerics.networks import softmax_cross_entropy

    g = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 30)
    X = g.standard_normal((2, 90)) * 0.3 + np.array([[2.0, -2.0, 0.0], [0.0, 0.0, 2.0]])[:, labels]
    Y = np.eye(3)[:, labels]
    loss0, grad = softmax_cross_entropy(np.zeros((1, 3, 90)), Y)
    assert np.isclose(loss0[0], np.log(3.0)) and np.allclose(grad.sum(axis=1), 0.0)
    net = init_network([2, 8, 3], 3, activation="relu", bias_std=0.0, rng=1)
    res = train(net, SampledTask(X, Y, 10), optimizer="gd", lr=0.2, steps=200, loss="cross_entropy",
                eval_every=50, rng=2, record_at=())
    assert np.all(res.loss[:, -1] < 0.2 * res.loss[:, 0])
    acc = (res.network(X).argmax(axis=1) == labels).mean(axis=1)
    assert np.all(acc > 0.95)


def test_gauss_newton_gram_refuses_batch_normalization():
    net = init_network([3, 4, 2], 1, activation="tanh", normalization="batch", rng=0)
    with pytest.raises(ValueError, match="batch normalization couples"):
        gauss_newton_gram(net, np.ones((3, 4)))
    lay = init_network([3, 4, 2], 1, activation="tanh", normalization="layer", rng=0)
    assert gauss_newton_gram(lay, np.random.default_rng(0).standard_normal((3, 4))).shape == (1, 8, 8)
