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
                "eigenvalue-origin", "complex-finite-n-density", "naive-breakdown", "fold-rank"}
    assert {f"products.{e}" for e in expected} <= set(CLAIMS)
