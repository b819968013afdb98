"""Every isometry claim (and products.fold-spectrum) passes in quick mode at seed 0 and fails under its
negative control; the symbolic certificates hold."""

from __future__ import annotations

import pytest

from degeneracy.proofs.registry import CERTIFICATES, CLAIMS, load_all
from degeneracy.proofs.runner import run_claim

load_all()
IDS = sorted(c for c in CLAIMS if c.startswith("isometry.")) + ["products.fold-spectrum"]
CERTS = sorted(c for c in CERTIFICATES if c.startswith("isometry."))


def test_registered():
    assert {"isometry.mean-field", "isometry.critical-line", "isometry.jacobian-moments",
            "isometry.jacobian-density", "isometry.max-eigenvalue", "isometry.relu-no-isometry",
            "isometry.trains-faster", "products.fold-spectrum"} <= set(IDS)
    assert {"isometry.s-product-rule", "isometry.bernoulli-s-transform", "isometry.relu-moment-ratio"} <= set(CERTS)


@pytest.mark.parametrize("claim_id", IDS)
def test_claim_passes_quick(claim_id):
    r = run_claim(claim_id, mode="quick", seed=0, control=False)
    failed = [c.name for c in r.checks if not c.passed]
    assert r.verdict == ("supported" if r.kind == "empirical" else "pass"), (r.verdict, getattr(r, "message", ""), failed)


@pytest.mark.parametrize("claim_id", IDS)
def test_claim_control_fails(claim_id):
    r = run_claim(claim_id, mode="quick", seed=0, control=True)
    assert r.verdict in (("contradicted", "inconclusive") if r.kind == "empirical" else ("fail",)), (
        r.verdict, getattr(r, "message", ""))


@pytest.mark.parametrize("cert_id", CERTS)
def test_certificates_hold(cert_id):
    holds, detail = CERTIFICATES[cert_id].run()
    assert holds, detail
