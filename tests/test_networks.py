"""NetworkStack: hand-written gradients vs finite differences, initialization, validation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from degeneracy.numerics.networks import (
    NetworkStack,
    init_network,
    init_weights,
    mse_loss,
)
from degeneracy.theory.activations import ACTIVATIONS

SMOOTH = ("linear", "tanh", "erf")


def _fd_check(net, x, y, rng, n_probe=3, h=1e-6):
    loss, g = net.loss_and_gradients(x, y)
    grads = g.weights + (g.biases or [])
    worst = 0.0
    for p, gp in zip(net.parameters(), grads):
        for _ in range(n_probe):
            idx = tuple(int(rng.integers(0, s)) for s in p.shape)
            old = p[idx]
            p[idx] = old + h
            lp = net.loss_and_gradients(x, y)[0][idx[0]]
            p[idx] = old - h
            lm = net.loss_and_gradients(x, y)[0][idx[0]]
            p[idx] = old
            fd = (lp - lm) / (2 * h)
            worst = max(worst, abs(fd - gp[idx]) / max(1.0, abs(fd)))
    return worst


@given(depth=st.integers(1, 5), width=st.integers(1, 5), out=st.integers(1, 4), batch=st.integers(1, 4),
       seed=st.integers(0, 2**16), act=st.sampled_from(SMOOTH), skip=st.sampled_from(("none", "identity", "mean")),
       bias=st.booleans(), R=st.integers(1, 3))
def test_parameter_gradients_match_finite_differences(depth, width, out, batch, seed, act, skip, bias, R):
    rng = np.random.default_rng(seed)
    widths = [width] * depth + [out]
    net = init_network(widths, R, activation=act, skip=skip, bias_std=0.3 if bias else None, rng=seed)
    x = rng.standard_normal((width, batch))
    y = rng.standard_normal((R, out, batch))
    assert _fd_check(net, x, y, rng) < 1e-6


@given(depth=st.integers(1, 4), seed=st.integers(0, 2**16), act=st.sampled_from(SMOOTH),
       skip=st.sampled_from(("none", "identity", "mean")))
def test_activation_gradients_match_finite_differences(depth, seed, act, skip):
    rng = np.random.default_rng(seed)
    net = init_network([3] * (depth + 1), 2, activation=act, skip=skip, bias_std=0.2, linear_readout=False, rng=seed)
    x = rng.standard_normal((2, 3, 2))
    y = rng.standard_normal((2, 3, 2))
    cache = net.forward(x)
    _, G = mse_loss(cache.output, y)
    grads = net.backward(cache, G)
    h = 1e-6
    for l in range(depth + 1):  # perturb x_l and propagate the rest of the network by hand
        idx = (1, int(rng.integers(0, 3)), 1)

        def loss_from(level, xl):
            cur = xl
            for k in range(level, depth):
                hk = net.weights[k] @ cur + net.biases[k][:, :, None]
                o = ACTIVATIONS[act][0](hk)
                if skip == "identity":
                    o = o + cur
                elif skip == "mean":
                    o = o + cur.mean(axis=-2, keepdims=True)
                cur = o
            return mse_loss(cur, y)[0][1]

        xp = cache.post[l].copy()
        xp = np.broadcast_to(xp, (2,) + xp.shape[-2:]).copy()
        xm = xp.copy()
        xp[idx] += h
        xm[idx] -= h
        fd = (loss_from(l, xp) - loss_from(l, xm)) / (2 * h)
        assert grads.delta[l][idx] == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("act", ["relu", "hard_tanh"])
def test_kinked_activations_away_from_kinks(act):
    rng = np.random.default_rng(5)
    net = init_network([4, 4, 4, 2], 2, activation=act, bias_std=0.1, skip="identity", rng=2)
    x = rng.standard_normal((4, 3))
    y = rng.standard_normal((2, 2, 3))
    assert _fd_check(net, x, y, rng, h=1e-7) < 1e-5


def test_negative_control_wrong_gradient_is_caught():
    rng = np.random.default_rng(0)
    net = init_network([3, 3, 3], 1, activation="tanh", rng=0)
    x = rng.standard_normal((3, 2))
    y = rng.standard_normal((1, 3, 2))

    class Wrong(NetworkStack):  # forgets phi' in the backward pass (tanh' = 1 - a^2 with a = 0)
        def backward(self, cache, g, **kw):
            cache.act = [np.zeros_like(a) for a in cache.act]
            return super().backward(cache, g, **kw)

    wrong = Wrong(net.weights, activation="tanh")
    assert _fd_check(wrong, x, y, rng) > 1e-3


def test_linear_network_gradients_are_the_chain_formulas():
    rng = np.random.default_rng(1)
    W = init_weights([3, 4, 2], 1, rng=1)
    net = NetworkStack(W)
    x = rng.standard_normal((3, 5))
    G = rng.standard_normal((1, 2, 5))
    g = net.backward(net.forward(x), G)
    assert np.allclose(g.weights[0], W[1].transpose(0, 2, 1) @ G @ x.T)
    assert np.allclose(g.weights[1], G @ (W[0] @ x).transpose(0, 2, 1))
    assert np.allclose(g.delta[0], W[0].transpose(0, 2, 1) @ W[1].transpose(0, 2, 1) @ G)


def test_mean_skip_preserves_permutation_symmetry_identity_breaks_it():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((1, 4, 4))
    w[0, 1] = w[0, 0]  # units 0 and 1 of layer 1 have equal incoming weights
    x = rng.standard_normal((4, 6))
    for skip, equal in (("mean", True), ("identity", False), ("none", True)):
        net = NetworkStack([w, rng.standard_normal((1, 2, 4))], activation="tanh", skip=skip)
        h1 = net.forward(x).post[1][0]
        assert np.allclose(h1[0], h1[1]) == equal


def test_initializers():
    W = init_weights([64] * 3, 4, init="gaussian", rng=0)
    v = np.var(np.concatenate([w.ravel() for w in W]))
    assert v == pytest.approx(1 / 64, rel=0.05)
    Q = init_weights([6, 4, 6], 2, init="orthogonal", rng=0)
    assert np.allclose(Q[0] @ Q[0].transpose(0, 2, 1), np.eye(4))  # 4 x 6: orthonormal rows
    assert np.allclose(Q[1].transpose(0, 2, 1) @ Q[1], np.eye(4))  # 6 x 4: orthonormal columns
    for k in range(3):
        F = init_weights([8, 8], 3, fold=k, rng=1)[0]
        assert all(np.linalg.matrix_rank(f) == 8 // 2**k for f in F)
    # fold acts on the same draw: Fold 1 rows are Fold 0's upper rows tiled
    W0 = init_weights([8, 8], 1, rng=7)[0][0]
    W1 = init_weights([8, 8], 1, fold=1, rng=7)[0][0]
    assert np.array_equal(W1, np.vstack([W0[:4], W0[:4]]))
    # replica r of a stack equals the single network drawn from the same generator
    from degeneracy.numerics.rng import spawn_generators

    seeds = spawn_generators(3, 3)
    A = init_weights([5, 5, 5], 3, rng=spawn_generators(3, 3))
    B = init_weights([5, 5, 5], 1, rng=[seeds[2]])
    assert all(np.array_equal(a[2], b[0]) for a, b in zip(A, B))


@pytest.mark.parametrize("call, match", [
    (lambda: init_weights([4], 1), "widths must list at least 2"),
    (lambda: init_weights([4, 0], 1), r"widths\[1\] must be a positive integer"),
    (lambda: init_weights([4, 4], 0), "replicas must be a positive integer"),
    (lambda: init_weights([4, 6], 1, fold=1, init="orthogonal", rng=0), None),
    (lambda: init_weights([4, 6], 1, fold=2), "divisible by 2\\*\\*fold=4"),
    (lambda: init_weights([4, 4], 1, fold=-1), "fold must be an integer >= 0"),
    (lambda: init_weights([4, 4], 1, init="xavier"), "init must be one of"),
    (lambda: init_network([4, 4], 1, activation="no_such_activation"), "activation must be one of"),
    (lambda: init_network([4, 4], 1, skip="dense"), "skip must be one of"),
    (lambda: init_network([4, 3, 2], 1, skip="identity"), "equal input and output widths"),
    (lambda: NetworkStack([np.ones((1, 2, 3)), np.ones((1, 2, 4))]), "expects input width 4"),
    (lambda: NetworkStack([np.ones((2, 3))]), r"shape \(R, out, in\)"),
    (lambda: NetworkStack([np.ones((1, 2, 2))]).forward(np.ones((3, 1))), "x must have shape"),
])
def test_bad_input(call, match):
    if match is None:
        call()
        return
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@pytest.mark.parametrize("normalization", ["batch", "layer", "divisive"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_normalized_network_gradients_match_finite_differences(normalization, loss):
    """The backward pass through batch / layer / divisive normalization (statistics included) is the
    derivative of the forward pass: central differences on every weight of a small stack."""
    from degeneracy.numerics.networks import mse_loss, softmax_cross_entropy

    fn = mse_loss if loss == "mse" else softmax_cross_entropy
    rng = np.random.default_rng(3)
    net = init_network([3, 4, 4, 3], 2, activation="tanh", bias_std=0.2, normalization=normalization, rng=5)
    x = rng.standard_normal((3, 6))
    y = np.eye(3)[:, rng.integers(0, 3, 6)]
    cache = net.forward(x)
    grads = net.backward(cache, fn(cache.output, y)[1])
    h = 1e-6
    worst = 0.0
    for l, w in enumerate(net.weights):
        for idx in np.ndindex(w.shape[1:]):
            for r in range(2):
                old = w[(r,) + idx]
                w[(r,) + idx] = old + h
                lp = fn(net(x), y)[0][r]
                w[(r,) + idx] = old - h
                lm = fn(net(x), y)[0][r]
                w[(r,) + idx] = old
                worst = max(worst, abs((lp - lm) / (2 * h) - grads.weights[l][(r,) + idx]))
    assert worst < 1e-7
    # negative control: a backward pass that holds the statistics fixed (gh = gz / scale) is caught
    import degeneracy.numerics.networks as nn

    frozen = lambda gz, kind, h, z, scale, out: np.divide(gz, scale, out=out)  # noqa: E731
    saved, nn._normalize_backward = nn._normalize_backward, frozen
    try:
        wrong = net.backward(cache, fn(cache.output, y)[1])
    finally:
        nn._normalize_backward = saved
    assert max(np.max(np.abs(a - b)) for a, b in zip(wrong.weights, grads.weights)) > 1e-4


def test_workspace_and_lean_passes_are_bit_identical():
    from degeneracy.numerics.networks import Workspace, mse_loss

    rng = np.random.default_rng(0)
    for act, skip in (("tanh", "identity"), ("relu", "none"), ("erf", "mean")):
        net = init_network([5, 5, 5, 2], 3, activation=act, bias_std=0.1, skip=skip, rng=1)
        x = rng.standard_normal((5, 7))
        y = rng.standard_normal((2, 7))
        plain = net.forward(x)
        g0 = net.backward(plain, mse_loss(plain.output, y)[1])
        ws = Workspace()
        for _ in range(2):  # reused buffers
            c = net.forward(x, workspace=ws, lean=True)
            gr = net.backward(c, mse_loss(c.output, y)[1], workspace=ws)
            assert np.array_equal(c.output, plain.output)
            assert all(np.array_equal(a, b) for a, b in zip(gr.weights, g0.weights))
        seen = {}
        c = net.forward(x, workspace=ws, lean=True)
        net.backward(c, mse_loss(c.output, y)[1], workspace=ws,
                     update=lambda l, gw, gb: seen.setdefault(l, (gw.copy(), gb.copy())))
        assert all(np.array_equal(seen[l][0], g0.weights[l]) and np.array_equal(seen[l][1], g0.biases[l])
                   for l in range(3))
        assert ws.nbytes > 0
