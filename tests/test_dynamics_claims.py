"""Every dynamics.* claim in quick mode at seed 0: the verdict, and its negative control fails.

(The fold.* claims are tested in tests/test_fold_claims.py, by their calibrated verdicts.)
An empirical claim passes as ``supported``; under its control (the reversed statement) it must
not be supported.
"""

import pytest

from degeneracy.proofs.registry import CERTIFICATES, load_all
from degeneracy.proofs.runner import run_claim

load_all()

PASS = [
    "dynamics.saxe-two-layer",
    "dynamics.saxe-deep",
    "dynamics.conservation",
    "dynamics.end-to-end",
    "dynamics.activation-gradients-at-init",
    "dynamics.orthogonal-depth-independence",
    "dynamics.learning-rate-depth",
]


@pytest.mark.parametrize("cid", PASS)
def test_claim_passes_and_control_fails(cid):
    r = run_claim(cid, mode="quick", seed=0)
    assert r.verdict == ("supported" if r.kind == "empirical" else "pass"), (
        r.message, [(c.name, c.z, c.threshold) for c in r.checks if not c.passed])
    c = run_claim(cid, mode="quick", seed=0, control=True)
    assert c.verdict in (("contradicted", "inconclusive") if c.kind == "empirical" else ("fail",)), c.message


@pytest.mark.parametrize("cert", sorted(k for k in CERTIFICATES if k.startswith("dynamics.")))
def test_certificates_hold(cert):
    holds, detail = CERTIFICATES[cert].run()
    assert holds, detail


def test_certificate_controls_fail():
    from degeneracy.proofs import dynamics as d

    assert not d._hessian_top(wrong=True)[0]
    assert not d._learning_time_derivative(wrong=True)[0]
