"""The conformance suite (tests/law_conformance.py) over the registry of every law of the package,
its negative controls, and the generic fallbacks of the base class."""

from __future__ import annotations

import numpy as np
import pytest
from law_conformance import CHECKS, REGISTRY, assert_conforms, check_integrals, check_log_methods, check_rvs

from degeneracy.errors import NumericalFailure
from degeneracy.theory.fuss_catalan import fuss_catalan
from degeneracy.theory.laws import SpectralLaw


def _params():
    for c in REGISTRY:
        for check in CHECKS:
            marks = [pytest.mark.slow] if c.slow else []
            if check in c.known_failures:
                marks.append(pytest.mark.xfail(strict=True, reason=c.known_failures[check]))
            yield pytest.param(c, check, id=f"{c.id}-{check}", marks=marks)


@pytest.mark.parametrize("case,check", list(_params()))
def test_registry_law_conforms(case, check):
    CHECKS[check](case.law, case)


def test_registry_covers_every_kind_of_law():
    kinds = {type(c.law).__name__ for c in REGISTRY if not c.slow}
    assert {"FussCatalan", "MarchenkoPastur", "FreeProductLaw", "LogLaw", "FiniteNEigenvalueLaw"} <= kinds


# ------------------------------------------------------------------ generic subclasses (base-class fallbacks)
class _Uniform(SpectralLaw):
    """Only _support and _pdf: every other method goes through the generic routes."""

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


class _Exponential(SpectralLaw):
    """An unbounded support: the standard exponential (generic quantiles bracket the root)."""

    def _support(self):
        return 0.0, np.inf

    def _pdf(self, x):
        return np.exp(-x)


_SMALL = dict(k_max=2, n_quantiles=8, n_samples=4000, n_roundtrip=19)


@pytest.mark.parametrize("law", [_Uniform(), _AtomLaw(), _Exponential()], ids=["uniform", "atom", "exponential"])
def test_generic_fallbacks_conform(law):
    assert_conforms(law, **_SMALL)


def test_generic_values():
    u, e = _Uniform(), _Exponential()
    assert abs(u.ppf(0.75) - 2.5) < 1e-13 and abs(u.entropy() - np.log(2)) < 1e-12
    assert abs(e.ppf(0.5) - np.log(2)) < 1e-12 and abs(e.entropy() - 1.0) < 1e-10 and abs(e.var() - 1) < 1e-10
    law = _AtomLaw()
    assert law.cdf(0.0) == 0.25 and law.ppf(0.2) == 0.0 and abs(law.moment(1) - 0.375) < 1e-12
    with pytest.raises(NumericalFailure, match="no differential entropy"):
        law.entropy()


# ------------------------------------------------------------------ negative controls: each check must catch a mistake
class _BrokenDensity(_AtomLaw):
    """The density is 10% too large (does not match the cdf)."""

    def _pdf(self, x):
        return 1.1 * super()._pdf(x)


class _BrokenMoment(SpectralLaw):
    """A wrong exact moment (1% off)."""

    def _support(self):
        return 0.0, 2.0

    def _pdf(self, x):
        return np.full_like(x, 0.5)

    def _moment(self, k):
        return 2.0**k / (k + 1) * (1.01 if k == 2 else 1.0)


class _BrokenSampler(SpectralLaw):
    """Draws 5% too large: a realistic scale mistake the rvs test must fail."""

    def __init__(self, depth):
        self._fc = fuss_catalan(depth)

    def _support(self):
        return self._fc.support()

    def _pdf(self, x):
        return self._fc._pdf(x)

    def _cdf(self, x):
        return self._fc._cdf(x)

    def rvs(self, size=None, *, rng=None):
        return np.minimum(1.05 * np.asarray(self._fc.rvs(size, rng=rng)), self._fc.support()[1])


class _BrokenLogSf(_Uniform):
    """``logsf`` off by 1e-6 relative."""

    def _logsf(self, x):
        return np.log(self._sf(x)) + 1e-6


@pytest.mark.parametrize("law,check", [(_BrokenDensity(), check_integrals), (_BrokenMoment(), check_integrals),
                                       (_BrokenLogSf(), check_log_methods)], ids=["density", "moment", "logsf"])
def test_conformance_catches_broken_laws(law, check):
    with pytest.raises(AssertionError):
        check(law)


class _WrongDepthSampler(_BrokenSampler):
    """Draws from the law of one factor more: a 10% mistake in the depth (a 5% scale is invisible
    at depth 10, where the law spreads over tens of decades)."""

    def rvs(self, size=None, *, rng=None):
        return np.minimum(fuss_catalan(self._fc.depth + 1).rvs(size, rng=rng), self._fc.support()[1])


@pytest.mark.parametrize("depth,law", [(1, _BrokenSampler(1)), (2, _BrokenSampler(2)), (10, _WrongDepthSampler(10))],
                         ids=["scale-1", "scale-2", "depth-10"])
def test_rvs_check_catches_a_realistic_mistake(depth, law):
    # the subclass's own rvs override still accepts random_state (the base class wraps it)
    assert np.array_equal(law.rvs(3, random_state=1), law.rvs(3, rng=1))
    with pytest.raises(AssertionError, match="rvs vs cdf"):
        check_rvs(law, next(c for c in REGISTRY if c.id == f"fuss_catalan({depth})"))


def test_conformance_catches_wrong_exact_moment():
    with pytest.raises(AssertionError, match="exact moment"):
        assert_conforms(fuss_catalan(2), exact_moments={2: 4}, k_max=1, n_quantiles=4, n_samples=1000)
