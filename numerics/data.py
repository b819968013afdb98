"""Real data sets that ship inside an installed package: load, split, standardize, whiten.

No download ever happens: a data set here is read from files bundled inside a package on the
machine. Today one set is known, ``"digits"``: the 1797 handwritten digits of scikit-learn's
:func:`sklearn.datasets.load_digits` (8 x 8 grey-level images, 64 features with values 0..16,
10 classes; a copy of the test part of the UCI "Optical Recognition of Handwritten Digits" data,
Alpaydin & Kaynak 1998). scikit-learn is an optional dependency: ``pip install degeneracy[data]``.
When it is missing, :func:`load_dataset` raises :class:`DataUnavailable` (a
:class:`degeneracy.errors.DegeneracyError` and an :class:`ImportError`) saying what to install;
claims turn it into a skipped claim.

Conventions as in :mod:`numerics.networks`: samples are COLUMNS, ``X`` has shape ``(d, N)``.

* :func:`train_test_split` -- a stratified split drawn from an ``rng`` (every class keeps its
  proportion; the sizes depend only on the class counts, so the splits of independent runs
  stack into arrays);
* :func:`standardize` -- per-feature mean 0 and variance 1 on the training part (constant
  features are set to 0);
* :func:`whiten` -- PCA whitening on the training part: ``E_train x x^T = I_k`` exactly (up to
  rounding) on the ``k`` principal components whose variance is above ``rtol`` times the largest
  (Saxe et al. 2013 assume whitened inputs, ``Sigma_xx = I``);
* :func:`prepare` / :func:`prepare_runs` -- the three together, for one run or stacked over
  independent runs (each run its own split from its own stream, runs are the replicas).

Examples
--------
>>> d = load_dataset("digits")
>>> d.X.shape, d.n_classes
((64, 1797), 10)
>>> X = np.arange(12.0).reshape(2, 6); labels = np.array([0, 0, 0, 1, 1, 1])
>>> s = train_test_split(Dataset("toy", X, labels, 2), test_fraction=1 / 3, rng=0)
>>> s.X_train.shape, s.X_test.shape, np.bincount(s.y_test).tolist()
((2, 4), (2, 2), [1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, DegeneracyError, NumericalFailure
from degeneracy.validation import check_choice, check_finite_array, check_int, check_positive_int, check_real

from .rng import as_generator, spawn_generators

__all__ = [
    "DATASETS",
    "PREPROCESSING",
    "DataUnavailable",
    "Dataset",
    "Split",
    "load_dataset",
    "one_hot",
    "train_test_split",
    "standardize",
    "whiten",
    "prepare",
    "prepare_runs",
    "data_available",
]

#: Data sets known to :func:`load_dataset`, with the package that ships each.
DATASETS = {"digits": "scikit-learn"}
#: Input transformations of :func:`prepare`.
PREPROCESSING = ("none", "standardize", "whiten")

_INSTALL = "pip install 'degeneracy[data]'  (or: pip install scikit-learn)"


class DataUnavailable(DegeneracyError, ImportError):
    """A data set's package is not installed; the message says what to install."""


@dataclass(frozen=True)
class Dataset:
    """A labelled data set: ``X`` ``(d, N)`` float (samples are columns), ``labels`` ``(N,)`` int in
    ``0..n_classes-1``."""

    name: str
    X: np.ndarray
    labels: np.ndarray
    n_classes: int = 0
    source: str = ""

    def __post_init__(self):
        X = check_finite_array("X", self.X, ndim=2)
        y = np.asarray(self.labels)
        if y.ndim != 1 or y.shape[0] != X.shape[1] or not np.issubdtype(y.dtype, np.integer):
            raise ArgumentValueError(f"labels must be integers of shape ({X.shape[1]},), got {y.dtype} {y.shape}")
        if y.size and y.min() < 0:
            raise ArgumentValueError(f"labels must be >= 0, got {y.min()}")
        C = int(self.n_classes) or (int(y.max()) + 1 if y.size else 0)
        if y.size and y.max() >= C:
            raise ArgumentValueError(f"labels must be < n_classes={C}, got {y.max()}")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "labels", y.astype(np.intp))
        object.__setattr__(self, "n_classes", C)

    @property
    def n_features(self) -> int:
        return self.X.shape[0]

    @property
    def n_samples(self) -> int:
        return self.X.shape[1]


@dataclass(frozen=True)
class Split:
    """A train/test split. ``X_*`` are ``(d, N_*)`` (or ``(R, d, N_*)`` stacked over runs by
    :func:`prepare_runs`), ``y_*`` the integer labels ``(N_*,)`` (or ``(R, N_*)``).

    ``Y_train`` / ``Y_test``: the one-hot targets ``(n_classes, N_*)`` (or ``(R, n_classes, N_*)``).
    ``preprocessing`` records what was done to the inputs.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str = ""
    preprocessing: str = "none"

    @property
    def Y_train(self) -> np.ndarray:
        return one_hot(self.y_train, self.n_classes)

    @property
    def Y_test(self) -> np.ndarray:
        return one_hot(self.y_test, self.n_classes)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[-2]


def data_available(name: str = "digits") -> bool:
    """Whether :func:`load_dataset` can load ``name`` on this machine (its package is installed).

    >>> isinstance(data_available("digits"), bool)
    True
    """
    name = check_choice("name", name, tuple(DATASETS))
    try:
        _load(name)
    except DataUnavailable:
        return False
    return True


def load_dataset(name: str = "digits") -> Dataset:
    """Load a bundled real data set (no download). Read-only arrays; cached per process.

    Raises
    ------
    DataUnavailable
        The package that ships ``name`` is not installed (the message says ``pip install
        'degeneracy[data]'``).
    """
    name = check_choice("name", name, tuple(DATASETS))
    return _load(name)


@lru_cache(maxsize=None)
def _load(name: str) -> Dataset:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DataUnavailable(f"the {name!r} data set ships with scikit-learn, which is not installed: "
                              f"{_INSTALL}") from exc
    bunch = load_digits()
    X = np.ascontiguousarray(np.asarray(bunch.data, dtype=float).T)  # (64, 1797): samples are columns
    y = np.asarray(bunch.target, dtype=np.intp)
    X.setflags(write=False)
    y.setflags(write=False)
    return Dataset("digits", X, y, 10, source="scikit-learn load_digits (UCI optical digits, Alpaydin & Kaynak "
                                              "1998): 1797 images of 8 x 8 pixels, values 0..16, 10 classes")


def one_hot(labels, n_classes: int) -> np.ndarray:
    """One-hot columns: ``(n_classes, N)`` for labels ``(N,)``, ``(R, n_classes, N)`` for ``(R, N)``.

    >>> one_hot(np.array([2, 0]), 3).tolist()
    [[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
    """
    y = np.asarray(labels)
    C = check_positive_int("n_classes", n_classes)
    if not np.issubdtype(y.dtype, np.integer) or y.ndim not in (1, 2):
        raise ArgumentValueError(f"labels must be an integer array of shape (N,) or (R, N), got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ArgumentValueError(f"labels must be in 0..{C - 1}, got values in {y.min()}..{y.max()}")
    return (np.arange(C)[:, None] == y[..., None, :]).astype(float)


def train_test_split(data: Dataset, *, test_fraction: float = 0.2, rng=None) -> Split:
    """A stratified random split: in every class, ``round(test_fraction * n_c)`` samples go to the test part.

    The samples of each part are in a random order (the generator's permutation), so the split of
    a run depends only on its ``rng``; the part sizes depend only on the class counts.
    """
    if not isinstance(data, Dataset):
        raise ArgumentTypeError(f"data must be a Dataset, got {type(data).__name__}")
    frac = check_real("test_fraction", test_fraction, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    g = as_generator(rng)
    test, train = [], []
    for c in range(data.n_classes):
        idx = np.flatnonzero(data.labels == c)
        idx = idx[g.permutation(idx.size)]
        k = int(round(frac * idx.size))
        test.append(idx[:k])
        train.append(idx[k:])
    test, train = np.concatenate(test), np.concatenate(train)
    if test.size == 0 or train.size == 0:
        raise ArgumentValueError(f"test_fraction={frac} leaves an empty part ({train.size} train, {test.size} test)")
    train, test = train[g.permutation(train.size)], test[g.permutation(test.size)]
    return Split(data.X[:, train], data.labels[train], data.X[:, test], data.labels[test], data.n_classes, data.name)


def standardize(X_train, X_test=None, *, scale: float = 1.0):
    """Per feature (row): subtract the training mean and divide by the training standard deviation.

    Features constant on the training part (zero variance: e.g. the corner pixels of the digits)
    become 0. The result has per-feature mean 0 and variance ``scale**2`` on the training part
    (and ``scale**2 * k / d`` mean squared norm per feature overall, with ``k`` non-constant
    features). Returns ``X_train`` (and ``X_test`` transformed alike, when given).

    >>> Xs = standardize(np.array([[1.0, 3.0], [5.0, 5.0]]))
    >>> Xs.tolist()
    [[-1.0, 1.0], [0.0, 0.0]]
    """
    Xtr = check_finite_array("X_train", X_train, ndim=2)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    mu = Xtr.mean(axis=1, keepdims=True)
    sd = Xtr.std(axis=1, keepdims=True)
    live = sd > 1e-12 * max(1.0, float(np.abs(Xtr).max(initial=0.0)))
    inv = np.where(live, scale / np.where(live, sd, 1.0), 0.0)
    out = (Xtr - mu) * inv
    if X_test is None:
        return out
    Xte = check_finite_array("X_test", X_test, ndim=2)
    if Xte.shape[0] != Xtr.shape[0]:
        raise ArgumentValueError(f"X_test must have {Xtr.shape[0]} features (rows), got {Xte.shape[0]}")
    return out, (Xte - mu) * inv


def whiten(X_train, X_test=None, *, components: int | None = None, rtol: float = 1e-8):
    """PCA whitening fitted on the training part: ``x -> Lambda_k^{-1/2} U_k^T (x - mean)``.

    ``U_k, Lambda_k`` are the ``k`` leading principal axes and variances of the training covariance
    ``(1/N) X_c X_c^T``: the first ``components`` of them, or (``None``) all whose variance is above
    ``rtol`` times the largest (directions of zero variance cannot be whitened). Either way
    components at or below ``rtol`` times the largest are refused (:class:`NumericalFailure`):
    whitening them would blow up rounding noise. The output has ``k <= d`` rows and
    ``(1/N) Z Z^T = I_k`` on the
    training part: the whitened-input setting of Saxe et al. (2013, section 2), where the squared
    loss of a linear map depends on the data only through ``Sigma_yx``. Axis signs are fixed
    (largest loading of each axis positive) so the result does not depend on the eigensolver.

    >>> Z = whiten(np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 4.0, 3.0]]))
    >>> np.allclose(Z @ Z.T / 4, np.eye(2))
    True
    """
    Xtr = check_finite_array("X_train", X_train, ndim=2)
    rtol = check_real("rtol", rtol, lo=0.0, lo_open=True, hi=1.0)
    mu = Xtr.mean(axis=1, keepdims=True)
    Xc = Xtr - mu
    lam, U = np.linalg.eigh(Xc @ Xc.T / Xtr.shape[1])
    lam, U = lam[::-1], U[:, ::-1]
    if not lam[0] > 0:
        raise NumericalFailure("whiten: the training inputs have zero variance in every direction")
    live = int(np.sum(lam > rtol * lam[0]))
    if components is None:
        k = live
    else:
        k = check_int("components", components, minimum=1, maximum=Xtr.shape[0])
        if k > live:
            raise NumericalFailure(f"whiten: only {live} principal components have variance above rtol={rtol:g} x the "
                                   f"largest, asked for {k}")
    lam, U = lam[:k], U[:, :k]
    U = U * np.where(U[np.argmax(np.abs(U), axis=0), np.arange(U.shape[1])] < 0, -1.0, 1.0)
    P = U.T / np.sqrt(lam)[:, None]
    out = P @ Xc
    if X_test is None:
        return out
    Xte = check_finite_array("X_test", X_test, ndim=2)
    if Xte.shape[0] != Xtr.shape[0]:
        raise ArgumentValueError(f"X_test must have {Xtr.shape[0]} features (rows), got {Xte.shape[0]}")
    return out, P @ (Xte - mu)


def prepare(name: str = "digits", *, preprocessing: str = "standardize", test_fraction: float = 0.2,
            scale: float = 1.0, components: int | None = None, rng=None) -> Split:
    """Load ``name``, split it (stratified, from ``rng``) and transform the inputs with statistics of
    the training part only: ``"standardize"`` (:func:`standardize`, times ``scale``), ``"whiten"``
    (:func:`whiten` to ``components`` principal components, times ``scale``) or ``"none"``.

    Raises :class:`DataUnavailable` when the data set's package is missing.
    """
    preprocessing = check_choice("preprocessing", preprocessing, PREPROCESSING)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    s = train_test_split(load_dataset(name), test_fraction=test_fraction, rng=rng)
    if preprocessing == "standardize":
        Xtr, Xte = standardize(s.X_train, s.X_test, scale=scale)
    elif preprocessing == "whiten":
        Xtr, Xte = whiten(s.X_train, s.X_test, components=components)
        Xtr, Xte = scale * Xtr, scale * Xte
    else:
        Xtr, Xte = scale * s.X_train, scale * s.X_test
    return replace(s, X_train=Xtr, X_test=Xte, preprocessing=preprocessing)


def prepare_runs(name: str = "digits", runs: int = 2, *, preprocessing: str = "standardize",
                 test_fraction: float = 0.2, scale: float = 1.0, components: int | None = None,
                 rng=None) -> Split:
    """:func:`prepare` for ``runs`` independent runs, stacked: ``X_train`` ``(R, d, N_train)`` etc.

    Run ``r`` uses the ``r``-th stream spawned from ``rng`` (or ``rng[r]`` when a sequence of
    ``runs`` rng-likes is given), so run ``r`` is the single-run :func:`prepare` with that stream.
    With ``"whiten"`` pass ``components``: otherwise the number of components above the
    tolerance can differ between splits (rare pixels), and unequal runs raise ``ValueError``.
    """
    R = check_int("runs", runs, minimum=1)
    gens = [as_generator(g) for g in rng] if isinstance(rng, (list, tuple)) else spawn_generators(rng, R)
    if len(gens) != R:
        raise ArgumentValueError(f"rng sequence must have one entry per run ({R}), got {len(gens)}")
    parts = [prepare(name, preprocessing=preprocessing, test_fraction=test_fraction, scale=scale,
                     components=components, rng=g) for g in gens]
    dims = sorted({p.n_features for p in parts})
    if len(dims) > 1:
        raise ArgumentValueError(f"whitened dimensions differ between runs {dims}: pass components= "
                                 f"(at most {dims[0]})")
    return Split(np.stack([p.X_train for p in parts]), np.stack([p.y_train for p in parts]),
                 np.stack([p.X_test for p in parts]), np.stack([p.y_test for p in parts]), parts[0].n_classes,
                 parts[0].name, preprocessing)
