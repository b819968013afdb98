"""Tests of theory/free.py: S-transform algebra, exact moments, certified densities, conformance."""

from __future__ import annotations

import math
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from degeneracy.errors import CertificationError
from degeneracy.theory import free_density, free_law
from degeneracy.theory.free import (
    FreeProductLaw,
    STransform,
    moments_from_s_transform,
    s_transform_from_moments,
)
from degeneracy.theory.products import fuss_catalan, fuss_catalan_moment

sys.path.insert(0, str(Path(__file__).parent))
from law_conformance import assert_conforms  # noqa: E402


def narayana_moment(lam, k):
    """Marchenko-Pastur (mean 1, ratio lam) moments: sum_j N(k, j) lam^(j-1) (Narayana numbers)."""
    return sum(Fraction(math.comb(k, j) * math.comb(k, j - 1), k) * Fraction(lam) ** (j - 1) for j in range(1, k + 1))


# ---------------------------------------------------------------- exact moments


@pytest.mark.parametrize("L", [1, 2, 3, 5])
def test_fuss_catalan_moments_exact(L):
    got = moments_from_s_transform(STransform.wishart() ** L, 6)
    assert got == [fuss_catalan_moment(L, k) for k in range(1, 7)]


def test_symbolic_depth_fuss_catalan():
    L, z = sp.symbols("L z", positive=True)
    got = moments_from_s_transform((1 + z) ** (-L), 5, z=z)
    for k, mk in enumerate(got, start=1):
        expected = sp.binomial((L + 1) * k, k) / (L * k + 1)
        assert sp.simplify(sp.expand_func(expected) - mk) == 0
    # negative control: the exponent off by one does not give Fuss-Catalan
    bad = moments_from_s_transform((1 + z) ** (-(L + 1)), 2, z=z)
    assert sp.simplify(bad[1] - (L + 1)) != 0


@pytest.mark.parametrize("lam", [Fraction(1, 3), 2, Fraction(5, 2)])
def test_marchenko_pastur_moments(lam):
    got = STransform.wishart(lam).moments(5)
    assert [Fraction(int(sp.fraction(g)[0]), int(sp.fraction(g)[1])) for g in got] == [narayana_moment(lam, k) for k in range(1, 6)]


def test_bernoulli_and_discrete_moments():
    assert STransform.bernoulli(Fraction(2, 7)).moments(5) == [sp.Rational(2, 7)] * 5
    v, w = [0, 1, 3], [Fraction(1, 5), Fraction(1, 2), Fraction(3, 10)]
    got = STransform.discrete(v, w).moments(5)
    assert got == [sum(sp.Rational(wi.numerator, wi.denominator) * vi**k for vi, wi in zip(v, w)) for k in range(1, 6)]


def test_series_roundtrip_and_free_m2_rule():
    # S from moments and back
    m = [1, 3, 12, 55]
    s = s_transform_from_moments(m)
    z = sp.Symbol("z")
    S = sum(c * z**k for k, c in enumerate(s))
    assert moments_from_s_transform(S, 4, z=z)[:4] == m
    # free product second moment: m2 = a2 b1^2 + a1^2 b2 - a1^2 b1^2 (independent formula)
    A = STransform.discrete([1, 2], [Fraction(1, 2), Fraction(1, 2)])
    B = STransform.wishart(Fraction(1, 2)) * STransform.scale(3)
    a1, a2 = A.moments(2)
    b1, b2 = B.moments(2)
    assert (A * B).moments(2)[1] == sp.expand(a2 * b1**2 + a1**2 * b2 - a1**2 * b1**2)


def test_numeric_moments_match_exact():
    S = (STransform.wishart() * STransform.scale(2) * STransform.bernoulli(Fraction(1, 2))) ** 3
    exact = [float(m) for m in S.moments(5)]
    assert np.allclose(S.numeric_moments(5), exact, rtol=1e-12)
    D = STransform.discrete([0.2, 1.0, 1.5], [0.3, 0.3, 0.4]) * STransform.wishart()
    assert np.allclose(D.numeric_moments(4), [float(m) for m in D.moments(4)], rtol=1e-12)


# ---------------------------------------------------------------- algebra properties

positive_q = st.fractions(min_value=Fraction(1, 10), max_value=Fraction(5, 1), max_denominator=20)
probs = st.fractions(min_value=Fraction(1, 10), max_value=Fraction(1, 1), max_denominator=20)


@given(lam=positive_q, p=probs, c=positive_q)
def test_multiplication_commutative_and_associative(lam, p, c):
    A, B, C = STransform.wishart(lam), STransform.bernoulli(p), STransform.scale(c)
    assert (A * B).moments(4) == (B * A).moments(4)
    assert ((A * B) * C).moments(4) == (A * (B * C)).moments(4)


@given(c=positive_q, p=probs)
def test_scaling_law(c, p):
    base = STransform.bernoulli(p) * STransform.wishart()
    scaled = base * STransform.scale(c)
    cc = sp.Rational(c.numerator, c.denominator)
    assert scaled.moments(4) == [sp.expand(cc**k * m) for k, m in enumerate(base.moments(4), start=1)]
    # normalized variance is scale free and additive under products
    assert math.isclose(scaled.normalized_variance(), base.normalized_variance(), rel_tol=1e-12)
    assert math.isclose((base * base).normalized_variance(), 2 * base.normalized_variance(), rel_tol=1e-12)


# ---------------------------------------------------------------- densities


@pytest.mark.parametrize("L", [2, 3])
def test_density_matches_parametric_fuss_catalan(L):
    u = np.linspace(0.05, math.pi / (L + 1) - 0.05, 9)
    x = np.sin((L + 1) * u) ** (L + 1) / (np.sin(u) * np.sin(L * u) ** L)
    rho = np.sin(u) ** 2 * np.sin(L * u) ** (L - 1) / (math.pi * np.sin((L + 1) * u) ** L)
    law = (STransform.wishart() ** L).law()
    assert np.allclose(law.pdf(x), rho, rtol=1e-10)
    # negative control: the depth-(L+1) law is different
    assert not np.allclose((STransform.wishart() ** (L + 1)).law().pdf(x), rho, rtol=1e-3)


@pytest.mark.parametrize("L", [1, 2, 4, 8])
def test_agrees_with_fuss_catalan_law(L):
    ours, ref = (STransform.wishart() ** L).law(), fuss_catalan(L)
    assert ours.support()[1] == pytest.approx(ref.support()[1], rel=1e-12)
    x = ref.support()[1] * np.array([1e-3, 0.01, 0.1, 0.3, 0.6, 0.9, 0.99])
    assert np.allclose(ours.pdf(x), ref.pdf(x), rtol=1e-9)
    assert np.allclose(ours.cdf(x), ref.cdf(x), atol=1e-11)


@pytest.mark.parametrize("L", [2, 4])
def test_mass_mean_variance_against_series(L):
    """The anchors that public code gets wrong (freealg: mass 0.94 at depth 2, 1.5 at depth 4)."""
    law = (STransform.wishart() ** L).law()
    assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-10)
    assert law.quadrature_moment(1) == pytest.approx(1.0, rel=1e-10)
    assert law.quadrature_moment(2) - 1.0 == pytest.approx(L, rel=1e-10)  # variance L
    assert law.moment(2) == L + 1 and law.mean() == 1.0


def test_atoms_edges_and_mass():
    # Marchenko-Pastur ratio 2: atom 1/2 at 0, edges (1 -+ sqrt 2)^2
    law = STransform.wishart(2).law()
    assert law.atom == pytest.approx(0.5)
    lo, hi = law.intervals[0]
    assert (lo, hi) == (pytest.approx((1 - math.sqrt(2)) ** 2, rel=1e-12), pytest.approx((1 + math.sqrt(2)) ** 2, rel=1e-12))
    assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-10)
    # two free projections (p = 0.8, q = 0.8) scaled: atom 0.2 at 0, atom 2p - 1 = 0.6 at sigma_w^4, edges known
    p = 0.8
    law = (STransform.orthogonal(1 / math.sqrt(p)) * STransform.bernoulli(p)) ** 2
    law = law.law()
    assert [m for _, m in law.atoms] == [pytest.approx(1 - p), pytest.approx(2 * p - 1)]
    assert law.atoms[1][0] == pytest.approx(1 / p**2)
    lam_hi = (p + p - 2 * p * p + 2 * math.sqrt(p * p * (1 - p) * (1 - p))) / p**2
    assert law.intervals[-1][1] == pytest.approx(lam_hi, rel=1e-10)
    assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-10)
    for k in (1, 2, 3):
        assert law.quadrature_moment(k) == pytest.approx(law.moment(k), rel=1e-9)
    x_a = law.atoms[1][0]
    jump = law.cdf(x_a) - law.cdf(x_a * (1 - 1e-9))
    assert jump == pytest.approx(2 * p - 1, abs=1e-8)


def test_discrete_factor_density_mass_and_moments():
    law = (STransform.discrete([0.0, 1.0, 1.5], [0.3, 0.3, 0.4]) * STransform.wishart()) ** 2
    law = law.law()
    assert law.atom == pytest.approx(0.3)
    assert law.quadrature_moment(0) == pytest.approx(1.0, abs=1e-9)
    for k in (1, 2):
        assert law.quadrature_moment(k) == pytest.approx(law.moment(k), rel=1e-9)


def test_certification_error_raised_on_bad_branch(monkeypatch):
    law = (STransform.wishart() ** 2).law()
    real = free_density.continue_to_real_axis

    def conjugate_branch(eq, logx, theta_min=1e-13):
        u, m, theta, stuck = real(eq, logx, theta_min)
        return np.conj(u), np.conj(m), theta, stuck  # the unphysical root: Im m > 0

    monkeypatch.setattr(free_law, "continue_to_real_axis", conjugate_branch)
    with pytest.raises(CertificationError):
        law.pdf(np.array([1.0, 2.0]))


def test_conformance_gaussian_products_and_relu_masks():
    # exact parameters give exact moments (ints/Fractions), checked by the shared conformance suite
    cases = [
        ((STransform.wishart() ** 2).law(), {k: fuss_catalan_moment(2, k) for k in range(1, 5)}),
        ((STransform.wishart() * STransform.scale(2) * STransform.bernoulli(Fraction(1, 2))) ** 3, None),
        (STransform.wishart(Fraction(1, 2)).law(), {k: narayana_moment(Fraction(1, 2), k) for k in range(1, 5)}),
    ]
    for law, exact in cases:
        if isinstance(law, STransform):
            law = law.law()
        assert_conforms(law, exact_moments=exact, n_roundtrip=99, n_quantiles=12, n_samples=4000)


def test_bad_input():
    with pytest.raises(ValueError, match="p must be"):
        STransform.bernoulli(0)
    with pytest.raises(ValueError, match="p must be"):
        STransform.bernoulli(1.5)
    with pytest.raises(ValueError, match="ratio"):
        STransform.wishart(-1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        STransform.discrete([1, 2], [0.5, 0.6])
    with pytest.raises(ValueError, match="power"):
        STransform.wishart() ** 0
    with pytest.raises(ValueError, match="order"):
        moments_from_s_transform(STransform.wishart(), 0)
    with pytest.raises(TypeError):
        FreeProductLaw("not an S-transform")
    with pytest.raises(ValueError):
        (STransform.wishart() ** 2).law().pdf([np.nan])


def test_density_speed_depth_100():
    law = (STransform.wishart() ** 100).law()
    x = np.linspace(1e-3, law.support()[1] * 0.999, 10_000)
    t = time.perf_counter()
    vals = law.pdf(x)
    dt = time.perf_counter() - t
    assert np.all(np.isfinite(vals)) and np.all(vals > 0)
    assert dt < 2.0, f"10^4 density evaluations took {dt:.2f} s"
