"""Every products.* claim passes in quick mode at a fixed seed and fails its negative control."""

import pytest

from degeneracy.proofs.registry import CLAIMS, load_all
from degeneracy.proofs.runner import run_claim

load_all()
PRODUCTS = sorted(c for c in CLAIMS if CLAIMS[c].module == "degeneracy.proofs.products")


@pytest.mark.parametrize("claim_id", PRODUCTS)
def test_claim_passes_quick(claim_id):
    r = run_claim(claim_id, "quick", seed=0)
    assert r.verdict == "pass", (r.message, [(c.name, c.z, c.threshold) for c in r.checks if not c.passed])


@pytest.mark.parametrize("claim_id", PRODUCTS)
def test_negative_control_fails(claim_id):
    r = run_claim(claim_id, "quick", seed=0, control=True)
    assert r.verdict == "fail", (r.message, [(c.name, c.z, c.threshold) for c in r.checks])


def test_every_products_claim_of_the_issue_is_registered():
    expected = {"fuss-catalan-moments", "second-moment-finite-n", "fuss-catalan-law", "lyapunov-real",
                "lyapunov-complex", "lyapunov-fluctuations", "depth-degeneracy", "orthogonal-isometry",
                "eigenvalue-origin", "complex-finite-n-density", "naive-breakdown", "fold-rank",
                "lyapunov-rectangular"}
    assert {f"products.{e}" for e in expected} <= set(CLAIMS)


def test_rectangular_exponents_reduce_to_newman_and_match_quadrature():
    """The claim's prediction (mpmath) against two independent routes: the square-case formula of
    theory.products (scipy.special) and E log chi^2 by quadrature of the chi-square density."""
    import numpy as np
    from scipy import integrate, stats

    from degeneracy.proofs.product_routes import rectangular_lyapunov_exponents
    from degeneracy.theory.products import lyapunov_exponents

    for field in ("real", "complex"):
        np.testing.assert_allclose(rectangular_lyapunov_exponents((6,) * 5, 6, field), lyapunov_exponents(6, field=field),
                                   rtol=1e-12)
    # one layer 5 -> 9, exponent i: (1/2) E log(chi^2_{9-i+1} / 5)
    for i in (1, 3, 5):
        nu = 9 - i + 1
        e_log = integrate.quad(lambda x: np.log(x) * stats.chi2.pdf(x, nu), 0, np.inf)[0]
        assert abs(rectangular_lyapunov_exponents((5, 9), 5)[i - 1] - 0.5 * (e_log - np.log(5))) < 1e-9
    slipped = rectangular_lyapunov_exponents((8, 16, 4), 4, slip=True)
    assert np.all(np.abs(slipped - rectangular_lyapunov_exponents((8, 16, 4), 4)) > 0.05)
