"""Pointwise nonlinearities phi and their derivatives phi', shared by every area.

Names follow Pennington, Schoenholz & Ganguli (2017): ``"linear"``, ``"relu"``,
``"hard_tanh"``, ``"tanh"``, ``"erf"`` (plain :func:`scipy.special.erf`, no rescaling).
Each is a deterministic numpy ufunc-like function; ``numerics`` and ``theory`` both use them.

Examples
--------
>>> import numpy as np
>>> phi, dphi = activation("hard_tanh")
>>> phi(np.array([-2.0, 0.5, 3.0])).tolist(), dphi(np.array([-2.0, 0.5, 3.0])).tolist()
([-1.0, 0.5, 1.0], [0.0, 1.0, 0.0])
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import special

from degeneracy.validation import check_choice

__all__ = ["ACTIVATIONS", "activation", "phi", "dphi"]

ArrayFn = Callable[[np.ndarray], np.ndarray]


def _linear(x):
    return np.asarray(x, dtype=float) * 1.0


def _dlinear(x):
    return np.ones_like(np.asarray(x, dtype=float))


def _relu(x):
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def _drelu(x):
    return (np.asarray(x, dtype=float) > 0).astype(float)


def _hard_tanh(x):
    return np.clip(np.asarray(x, dtype=float), -1.0, 1.0)


def _dhard_tanh(x):
    return (np.abs(np.asarray(x, dtype=float)) < 1).astype(float)


def _tanh(x):
    return np.tanh(np.asarray(x, dtype=float))


def _dtanh(x):
    return 1.0 / np.cosh(np.asarray(x, dtype=float)) ** 2


def _erf(x):
    return special.erf(np.asarray(x, dtype=float))


def _derf(x):
    x = np.asarray(x, dtype=float)
    return (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)


ACTIVATIONS: dict[str, tuple[ArrayFn, ArrayFn]] = {
    "linear": (_linear, _dlinear),
    "relu": (_relu, _drelu),
    "hard_tanh": (_hard_tanh, _dhard_tanh),
    "tanh": (_tanh, _dtanh),
    "erf": (_erf, _derf),
}


def activation(name: str) -> tuple[ArrayFn, ArrayFn]:
    """Return ``(phi, dphi)`` for the activation called ``name``.

    Derivatives at the kinks (ReLU at 0, hard-tanh at +-1) are taken as 0, a set of measure
    zero under any continuous preactivation law.
    """
    check_choice("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]


def phi(name: str, x) -> np.ndarray:
    """``phi(x)`` for the named activation."""
    return activation(name)[0](x)


def dphi(name: str, x) -> np.ndarray:
    """``phi'(x)`` for the named activation."""
    return activation(name)[1](x)
