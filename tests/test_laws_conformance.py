"""The conformance suite (tests/law_conformance.py) run over every law of theory/products."""

from __future__ import annotations

import numpy as np
import pytest
from law_conformance import assert_conforms

from degeneracy.theory.laws import SpectralLaw
from degeneracy.theory.products import fuss_catalan, fuss_catalan_moment


@pytest.mark.parametrize("depth", [1, 2, 5, 10, 100, 200])
def test_fuss_catalan_conforms(depth):
    law = fuss_catalan(depth)
    report = assert_conforms(law, exact_moments={k: fuss_catalan_moment(depth, k) for k in range(6)}, k_max=3)
    assert report["roundtrip"] < 1e-12


class _Uniform(SpectralLaw):
    """A generic subclass: only _support and _pdf (exercises the base-class fallbacks)."""

    def _support(self):
        return 1.0, 3.0

    def _pdf(self, x):
        return np.full_like(x, 0.5)


class _AtomLaw(SpectralLaw):
    """Mass 0.25 at 0 plus 0.75 * Beta(2, 2) on [0, 1] (exact cdf; exercises the atom path)."""

    atom = 0.25

    def _support(self):
        return 0.0, 1.0

    def _pdf(self, x):
        return 0.75 * 6.0 * x * (1.0 - x)

    def _cdf(self, x):
        return 0.25 + 0.75 * (3 * x**2 - 2 * x**3)


def test_generic_fallbacks_conform():
    report = assert_conforms(_Uniform(), exact_moments=None, k_max=2, n_quantiles=8, n_samples=400, n_roundtrip=49)
    assert report["mass"] < 1e-10


def test_atom_law_conforms():
    law = _AtomLaw()
    assert law.cdf(0.0) == 0.25 and law.ppf(0.2) == 0.0
    assert abs(law.moment(1) - 0.75 * 0.5) < 1e-12
    assert_conforms(law, k_max=2, n_quantiles=8, n_samples=400, n_roundtrip=49)


class _BrokenDensity(_AtomLaw):
    """Negative control: the density is 10% too large (does not match the cdf)."""

    def _pdf(self, x):
        return 1.1 * super()._pdf(x)


class _BrokenMoment(SpectralLaw):
    """Negative control: a wrong exact moment."""

    def _support(self):
        return 0.0, 2.0

    def _pdf(self, x):
        return np.full_like(x, 0.5)

    def _moment(self, k):
        return 2.0**k / (k + 1) * (1.01 if k == 2 else 1.0)


@pytest.mark.parametrize("law", [_BrokenDensity(), _BrokenMoment()], ids=["density", "moment"])
def test_conformance_catches_broken_laws(law):
    with pytest.raises(AssertionError):
        assert_conforms(law, k_max=2, n_quantiles=8, n_samples=400, n_roundtrip=49)


def test_conformance_catches_wrong_exact_moment():
    with pytest.raises(AssertionError, match="exact moment"):
        assert_conforms(fuss_catalan(2), exact_moments={2: 4}, k_max=1, n_quantiles=4, n_samples=1000)
