"""Each pathologies claim in quick mode at a fixed seed, and its negative control."""

import pytest

from degeneracy.proofs.registry import load_all
from degeneracy.proofs.runner import run_claim

load_all()

EXACT = ["pathologies.log-derivative", "pathologies.jacobian-collapse", "pathologies.deep-kernel"]


def _outcomes(result):
    return {c.name: c.outcome for c in result.checks}


@pytest.mark.parametrize("cid", EXACT)
def test_claim_passes_and_control_fails(cid):
    r = run_claim(cid, mode="quick", seed=0, control=False)
    assert r.verdict == "pass", (r.message, [(c.name, c.z, c.threshold) for c in r.checks if not c.passed])
    rc = run_claim(cid, mode="quick", seed=0, control=True)
    assert rc.verdict == "fail"


def test_hidden_dimension_collapse_parts():
    r = run_claim("pathologies.hidden-dimension-collapse", mode="quick", seed=0)
    out = _outcomes(r)
    for a in ("tanh", "erf", "hard_tanh", "relu"):
        assert out[f"{a}: PR falls from layer 1 to layer 20"] == "supported"
    assert out["relu falls faster than tanh"] == out["relu falls faster than erf"] == "supported"
    assert out["tanh: input-connected keeps a higher PR at layer 20"] == "supported"
    assert out["relu: input-connected keeps a higher PR at layer 20"] == "supported"
    # the hard-tanh part of the seed's statement is not detected at quick sizes (a finding), nor contradicted
    assert out["hard_tanh falls faster than tanh"] == "inconclusive"
    assert r.verdict == "inconclusive" and r.replication["runs"] == r.replication["budget"]
    rc = run_claim("pathologies.hidden-dimension-collapse", mode="quick", seed=0, control=True)
    assert rc.verdict == "contradicted" and not any(c.passed for c in rc.checks)


def test_normalization_parts():
    r = run_claim("pathologies.normalization", mode="quick", seed=0)
    out = _outcomes(r)
    assert r.verdict == "contradicted"  # the conjecture holds only in part; divisive normalization hurts tanh
    assert out["tanh+batch: hidden PR at layer 20 above plain"] == "supported"
    assert out["relu+batch: hidden PR at layer 20 above plain"] == "supported"
    assert out["tanh+layer: hidden PR at layer 20 above plain"] == "inconclusive"
    assert out["tanh+divisive: hidden PR at layer 20 above plain"] == "contradicted"
    for a in ("tanh", "relu"):
        for n in ("batch", "layer", "divisive"):
            assert out[f"{a}+{n}: Jacobian PR at layer 20 above plain"] != "supported"
    rc = run_claim("pathologies.normalization", mode="quick", seed=0, control=True)
    assert rc.verdict == "contradicted"
    assert _outcomes(rc)["tanh+batch: hidden PR at layer 20 above plain"] == "contradicted"
