"""`degeneracy calibrate`: false-alarm counts against the declared alpha, verdict distributions,
the check-level control per seed, the null-effect simulation, and its JSON schema."""

import json
import subprocess
import sys

import pytest

from degeneracy.calibration import null_simulation, run_calibration, summarize
from degeneracy.numerics import stats
from degeneracy.proofs import registry


def test_calibrate_command_writes_the_schema(tmp_path):
    path = tmp_path / "cal.json"
    proc = subprocess.run([sys.executable, "-m", "degeneracy", "calibrate", "--seeds", "2", "--quick", "--only",
                           "products.fold-rank,products.naive-breakdown", "--null", "20", "--json", str(path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.startswith("[")]) == 4  # one line per unit
    d = json.loads(path.read_text())
    assert {"tool", "command", "version", "mode", "seeds", "alpha", "per_claim_alpha", "excess_p", "seconds",
            "claims", "null_simulation", "versions", "backend"} <= set(d)
    assert d["command"] == "calibrate" and d["seeds"] == [0, 1] and d["mode"] == "quick"
    c = d["claims"][0]
    assert {"id", "kind", "seeds", "verdicts", "seconds", "false_alarms", "checks", "errors"} <= set(c)
    assert {"count", "of", "rate", "ci", "p_value", "excess", "alpha"} <= set(c["false_alarms"])
    ch = c["checks"][0]
    assert {"name", "type", "evaluations", "failures", "alpha", "rate", "ci", "p_value", "excess"} <= set(ch)
    assert {"null", "effect", "declared_per_direction"} <= set(d["null_simulation"])
    assert "claims x 2 seeds" in proc.stdout


@pytest.fixture
def flaky():
    """A finite-n claim with a tolerance check on a random outcome: it alarms without a share of alpha."""

    @registry.claim("toy.flaky-tolerance", title="flaky", source="test", kind="finite-n")
    def _flaky(ctx):
        x = ctx.rng.standard_normal(20)
        yield stats.mean_check("mean", x, 0.0)
        yield stats.tolerance_check("worst of 20 draws within 1.5", 0.0, float(abs(x).max()) / 1.5, 1.0,
                                    reason="a fixed tolerance on a random outcome (the defect calibrate finds)")

    @registry.claim("toy.empirical-mixed", title="mixed", source="test", kind="empirical")
    def _mixed(ctx):
        yield stats.difference_check("strong", ctx.rng.normal(2, 1, 30), ctx.rng.normal(0, 1, 30), "greater")
        yield stats.difference_check("none", ctx.rng.normal(0, 1, 30), ctx.rng.normal(0, 1, 30), "greater")

    yield [registry.CLAIMS["toy.flaky-tolerance"], registry.CLAIMS["toy.empirical-mixed"]]
    registry.CLAIMS.pop("toy.flaky-tolerance", None)
    registry.CLAIMS.pop("toy.empirical-mixed", None)


def test_calibration_finds_a_check_that_alarms_beyond_its_alpha(flaky):
    results = run_calibration(flaky, 12, "quick")
    rep = summarize(results, flaky, seeds=12, mode="quick", alpha=1e-3)
    finite, emp = rep["claims"]
    checks = {c["name"]: c for c in finite["checks"]}
    tol = checks["worst of 20 draws within 1.5"]
    assert tol["failures"] >= 6 and tol["alpha"] == 0 and tol["excess"]
    assert finite["false_alarms"]["excess"] and finite["false_alarms"]["count"] == tol["failures"]
    assert checks["mean"]["failures"] == 0 and not checks["mean"]["excess"]
    assert emp["verdicts"] == {"inconclusive": 12}
    outcomes = {c["name"]: c["outcomes"] for c in emp["checks"]}
    assert outcomes == {"strong": {"supported": 12}, "none": {"inconclusive": 12}}


def test_null_simulation_reports_rates_with_intervals():
    sim = null_simulation(50, alpha=0.05, seed=3)
    for sc in ("null", "effect"):
        for k in ("supported", "contradicted", "inconclusive"):
            entry = sim[sc][k]
            assert entry["of"] == 100 and 0 <= entry["ci"][0] <= entry["rate"] <= entry["ci"][1] <= 1
