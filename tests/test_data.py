"""The real-data layer: bundled digits, stratified reproducible splits, standardizing and whitening."""

import sys

import numpy as np
import pytest

from degeneracy.errors import DegeneracyError
from degeneracy.numerics import data as D
from degeneracy.numerics.rng import spawn_generators

pytest.importorskip("sklearn")


def test_digits_shape_labels_and_read_only():
    d = D.load_dataset("digits")
    assert d.X.shape == (64, 1797) and d.labels.shape == (1797,) and d.n_classes == 10
    assert np.bincount(d.labels).min() >= 170 and d.X.min() == 0.0 and d.X.max() == 16.0
    assert D.load_dataset("digits") is d  # cached
    with pytest.raises(ValueError):
        d.X[0, 0] = 1.0
    with pytest.raises(ValueError, match="name must be one of"):
        D.load_dataset("cifar10")


def test_missing_package_says_what_to_install(monkeypatch):
    D._load.cache_clear()
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import of sklearn.datasets now fails
    try:
        with pytest.raises(D.DataUnavailable, match=r"pip install 'degeneracy\[data\]'") as exc:
            D.load_dataset("digits")
        assert isinstance(exc.value, DegeneracyError) and isinstance(exc.value, ImportError)
        assert D.data_available("digits") is False
    finally:
        D._load.cache_clear()
    monkeypatch.delitem(sys.modules, "sklearn.datasets")
    assert D.data_available("digits") is True


def test_split_is_stratified_disjoint_and_reproducible():
    d = D.load_dataset()
    a = D.train_test_split(d, test_fraction=0.25, rng=5)
    b = D.train_test_split(d, test_fraction=0.25, rng=5)
    c = D.train_test_split(d, test_fraction=0.25, rng=6)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_train, c.y_train)  # control: another stream, another split
    counts = np.bincount(d.labels)
    assert np.array_equal(np.bincount(a.y_test, minlength=10), np.round(0.25 * counts).astype(int))
    assert a.X_train.shape[1] + a.X_test.shape[1] == 1797 and a.X_train.shape[1] == c.X_train.shape[1]
    # disjoint and complete: every image appears exactly once (images as rows of bytes)
    rows = lambda X: {x.tobytes() for x in X.T}  # noqa: E731
    allrows = [x.tobytes() for x in d.X.T]
    assert sorted(allrows) == sorted([x.tobytes() for x in np.concatenate([a.X_train, a.X_test], axis=1).T])
    assert len(rows(a.X_train) & rows(a.X_test)) <= len(allrows) - len(set(allrows))  # only duplicate images shared
    assert a.Y_train.shape == (10, a.X_train.shape[1]) and np.array_equal(a.Y_train.argmax(axis=0), a.y_train)


def test_standardize_uses_training_statistics_and_zeroes_constant_features():
    g = np.random.default_rng(0)
    Xtr = np.vstack([g.normal(3.0, 2.0, (3, 50)), np.full((1, 50), 7.0)])
    Xte = g.normal(3.0, 2.0, (4, 9))
    Ztr, Zte = D.standardize(Xtr, Xte, scale=0.5)
    assert np.allclose(Ztr[:3].mean(axis=1), 0.0) and np.allclose(Ztr[:3].std(axis=1), 0.5)
    assert np.all(Ztr[3] == 0.0) and np.all(Zte[3] == 0.0)
    mu, sd = Xtr[:3].mean(axis=1), Xtr[:3].std(axis=1)  # by hand
    assert np.allclose(Zte[:3], 0.5 * (Xte[:3] - mu[:, None]) / sd[:, None])


def test_whiten_gives_identity_covariance_and_refuses_null_directions():
    s = D.prepare("digits", preprocessing="whiten", components=16, rng=0)
    Z = s.X_train
    assert Z.shape[0] == 16 and s.X_test.shape[0] == 16
    assert np.allclose(Z @ Z.T / Z.shape[1], np.eye(16), atol=1e-10) and np.allclose(Z.mean(axis=1), 0.0)
    # the kept axes are the leading principal axes: the whitened data's projection energy equals the top eigenvalues
    Xtr = D.train_test_split(D.load_dataset(), rng=0).X_train
    lam = np.linalg.eigvalsh(np.cov(Xtr, bias=True))[::-1]
    Xc = Xtr - Xtr.mean(axis=1, keepdims=True)
    P = np.linalg.lstsq(Z.T, Xc.T, rcond=None)[0]  # Xc ~ P^T Z: the captured variance is the top-16 sum
    assert np.isclose(np.sum(P * P), lam[:16].sum(), rtol=1e-8)
    with pytest.raises(DegeneracyError, match="principal components have variance"):
        D.whiten(np.vstack([np.arange(5.0), np.zeros(5)]), components=2)


def test_prepare_runs_stacks_independent_single_runs():
    st = D.prepare_runs("digits", 3, preprocessing="standardize", rng=4)
    assert st.X_train.shape[:2] == (3, 64) and st.y_train.shape[0] == 3 and st.Y_test.shape[:2] == (3, 10)
    for r, g in enumerate(spawn_generators(4, 3)):
        one = D.prepare("digits", preprocessing="standardize", rng=g)
        assert np.array_equal(one.X_train, st.X_train[r]) and np.array_equal(one.y_test, st.y_test[r])
    with pytest.raises(ValueError, match="one entry per run"):
        D.prepare_runs("digits", 2, rng=[0])


@pytest.mark.parametrize("call, match", [
    (lambda: D.one_hot(np.array([0, 3]), 3), "labels must be in 0..2"),
    (lambda: D.one_hot(np.array([0.0]), 3), "integer array"),
    (lambda: D.train_test_split(D.load_dataset(), test_fraction=1.0), "test_fraction"),
    (lambda: D.train_test_split("digits"), "data must be a Dataset"),
    (lambda: D.prepare(preprocessing="zca"), "preprocessing must be one of"),
    (lambda: D.Dataset("x", np.ones((2, 3)), np.array([0, 1])), "labels must be integers of shape"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
