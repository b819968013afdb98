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
    "dynamics.unbalanced-modes",
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
    assert not d._unbalanced_solution(wrong=True)[0]


def test_dynamics_controls_fail_check_by_check():
    """The checks that compare with a theory value fail under the claim's own control (not only the claim)."""
    for cid in ("dynamics.saxe-two-layer", "dynamics.learning-rate-depth", "dynamics.conservation"):
        ctl = run_claim(cid, mode="quick", seed=0, control=True)
        theory_checks = [c for c in ctl.checks if c.test != "proof" and "in the order" not in c.name
                         and "conserved along" not in c.name and "n=1," not in c.name]
        assert theory_checks and not any(c.passed for c in theory_checks), [
            (c.name, c.passed) for c in theory_checks]
        assert all(c.passed for c in ctl.checks if c.test == "proof")  # no certificate flips in the same run
