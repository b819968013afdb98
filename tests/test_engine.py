"""The claim engine: statistics, thresholds, verdicts, reproducibility, report."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from degeneracy.execution import run_claims
from degeneracy.numerics import stats
from degeneracy.numerics.rng import as_generator, stream_for
from degeneracy.proofs import registry
from degeneracy.proofs.report import Report, markdown, table
from degeneracy.proofs.runner import claim_alpha, exit_code, run_claim

# ---------------------------------------------------------------- statistics

def test_sidak_composes_to_alpha():
    a = stats.sidak(1e-3, 7)
    assert math.isclose(1 - (1 - a) ** 7, 1e-3, rel_tol=1e-12)


def test_mean_check_threshold_is_student_t():
    c = stats.mean_check("m", [1.0, 2.0, 3.0, 4.0], 2.5).finalize(0.01)
    assert c.threshold == pytest.approx(sps.t.isf(0.005, 3))
    assert c.z == 0 and c.passed
    assert c.resolution == pytest.approx(c.threshold * c.stderr / 2.5)


def test_mean_check_false_alarm_rate_is_honest():
    # under H0 the rejection rate must be close to alpha (t-test with R-1 dof)
    rng = as_generator(1)
    x = rng.standard_normal((4000, 6))
    rejections = sum(not stats.mean_check("m", row, 0.0).finalize(0.05).passed for row in x)
    # binomial(4000, 0.05): mean 200, sd ~13.8
    assert 200 - 5 * 13.8 < rejections < 200 + 5 * 13.8


def test_mean_check_negative_control_has_power():
    rng = as_generator(2)
    x = 1.0 + 0.1 * rng.standard_normal(50)
    assert stats.mean_check("m", x, 1.0).finalize(1e-4).passed
    assert not stats.mean_check("m", x, 1.2).finalize(1e-4).passed


def test_nan_replicas_raise():
    from degeneracy.errors import DegeneracyError

    with pytest.raises(DegeneracyError, match="NaN"):
        stats.mean_check("m", [1.0, float("nan")], 0.0)


def test_ecdf_check_accepts_true_law_and_rejects_wrong_one():
    rng = as_generator(3)
    samples = rng.exponential(size=(30, 200))
    grid = np.linspace(0.05, 4, 40)
    good = stats.ecdf_check("exp", samples, lambda x: 1 - np.exp(-x), grid).finalize(1e-3)
    bad = stats.ecdf_check("exp", samples, lambda x: 1 - np.exp(-1.1 * x), grid).finalize(1e-3)
    assert good.passed and not bad.passed
    assert good.threshold == pytest.approx(sps.t.isf(1e-3 / (2 * 40), 29))


def test_extrapolation_recovers_intercept():
    rng = as_generator(4)
    n = np.array([8, 16, 32, 64, 128])
    se = np.full(n.size, 0.002)
    y = 1.0 + 0.7 / n + se * rng.standard_normal(n.size)
    assert stats.extrapolation_check("x", n, y, se, 1.0).finalize(1e-3).passed
    assert not stats.extrapolation_check("x", n, y, se, 1.05).finalize(1e-3).passed


def test_rate_check():
    x = np.array([0.1, 0.05, 0.025, 0.0125])
    err = 3.0 * x**2
    se = 0.01 * err
    assert stats.rate_check("r", x, err, se, 2.0).finalize(1e-3).passed
    assert not stats.rate_check("r", x, err, se, 1.0).finalize(1e-3).passed


def test_difference_check_detects_only_real_effects():
    rng = as_generator(5)
    a = 1.0 + 0.1 * rng.standard_normal(10)
    b = 0.5 + 0.1 * rng.standard_normal(10)
    assert stats.difference_check("d", a, b, "greater").finalize(1e-3).passed
    assert not stats.difference_check("d", a, b, "less").finalize(1e-3).passed
    same = 1.0 + 0.1 * rng.standard_normal(10)
    assert not stats.difference_check("d", a, same, "greater").finalize(1e-3).passed


def test_exact_proof_tolerance_checks():
    from fractions import Fraction

    assert stats.exact_check("e", Fraction(1, 3), Fraction(2, 6)).finalize(1e-3).passed
    assert not stats.exact_check("e", Fraction(1, 3), Fraction(1, 4)).finalize(1e-3).passed
    assert not stats.proof_check("p", False).finalize(1e-3).passed
    t = stats.tolerance_check("t", 1.0, 1.0 + 1e-14, 1e-13, reason="rounding").finalize(1e-3)
    assert t.passed and t.threshold == 1.0
    assert not stats.tolerance_check("t", 1.0, 1.0 + 1e-12, 1e-13, reason="rounding").finalize(1e-3).passed


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30))
def test_check_dict_is_plain_json(values):
    c = stats.mean_check("m", values, 0.0).finalize(1e-3)
    json.dumps(c.as_dict(), allow_nan=False)


# ---------------------------------------------------------------- runner

@pytest.fixture
def toy_claims():
    """Two toy claims registered for the duration of a test."""
    added = []

    @registry.claim("toy.mean", title="The mean of N(1, 1) is 1.", source="test", kind="finite-n",
                    settings={"r": (200, 400, 800)})
    def _toy(ctx):
        x = 1.0 + ctx.rng.standard_normal(ctx.settings["r"])
        yield stats.mean_check("mean", x, 1.6 if ctx.control else 1.0)

    @registry.claim("toy.error", title="Raises.", source="test", kind="identity")
    def _err(ctx):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    added += ["toy.mean", "toy.error"]
    yield
    for cid in added:
        registry.CLAIMS.pop(cid, None)


def test_run_claim_pass_control_fail_and_error(toy_claims):
    assert run_claim("toy.mean", "quick", 0).verdict == "pass"
    assert run_claim("toy.mean", "quick", 0, control=True).verdict == "fail"
    r = run_claim("toy.error", "quick", 0)
    assert r.verdict == "error" and "boom" in r.message
    assert exit_code([r]) == 1


def test_same_seed_same_numbers_and_streams_are_per_claim(toy_claims):
    a = run_claim("toy.mean", "quick", 7).checks[0].estimate
    b = run_claim("toy.mean", "quick", 7).checks[0].estimate
    c = run_claim("toy.mean", "quick", 8).checks[0].estimate
    assert a == b != c
    # the stream depends on the claim id only, not on registration order
    s1 = stream_for(7, "toy.mean").generate_state(4)
    s2 = stream_for(7, "toy.mean").generate_state(4)
    assert (s1 == s2).all()


def test_threshold_does_not_depend_on_selection(toy_claims):
    full = run_claim("toy.mean", "quick", 0).checks[0].threshold
    only = run_claims([registry.get_claim("toy.mean")], "quick", 0)[0].checks[0].threshold
    assert full == only
    assert claim_alpha(1e-3) == pytest.approx(stats.sidak(1e-3, len(registry.CLAIMS)))


def test_workers_give_identical_results(toy_claims):
    claims = [registry.get_claim("toy.mean")]
    one = [r.as_dict() for r in run_claims(claims, "quick", 3, workers=1)]
    # a process pool cannot see claims registered inside a test: use a thread pool executor
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as ex:
        two = [r.as_dict() for r in run_claims(claims, "quick", 3, executor=ex)]
    for d in one + two:
        d.pop("seconds")
    assert one == two


@pytest.mark.parametrize("verdict, plain, strict", [
    ("supported", 0, 0), ("contradicted", 0, 1), ("inconclusive", 0, 1), ("error", 1, 1), ("skipped", 0, 0)])
def test_exit_code_empirical_is_a_finding(verdict, plain, strict):
    from degeneracy.proofs.runner import ClaimResult

    emp = ClaimResult("a.b", "t", "empirical", "s", verdict, 0.1)
    assert exit_code([emp]) == plain and exit_code([emp], strict=True) == strict
    fin = ClaimResult("a.c", "t", "finite-n", "s", "fail", 0.1)
    assert exit_code([fin]) == 1 and exit_code([ClaimResult("a.d", "t", "identity", "s", "pass", 0.1)]) == 0


def test_report_json_schema(tmp_path, toy_claims):
    r = run_claim("toy.mean", "quick", 0)
    path = tmp_path / "r.json"
    rep = Report(seed=0, mode="quick", alpha=1e-3, claim_alpha=claim_alpha(), path=str(path))
    rep.add(r)
    d = json.loads(path.read_text())
    assert {"tool", "version", "seed", "mode", "alpha", "claims"} <= set(d)
    assert d["tool"] == "degeneracy" and d["seed"] == 0 and d["mode"] == "quick"
    (c,) = d["claims"]
    assert {"id", "title", "kind", "source", "verdict", "seconds", "checks"} <= set(c)
    assert c["notes"] == [] and c["summary"] == "1 of 1 checks passed"
    (ch,) = c["checks"]
    assert set(ch) >= {"name", "type", "theory", "estimate", "stderr", "z", "threshold", "resolution", "passed"}
    assert ch["type"] == "agreement" and ch["df"] == 199 and ch["runs"] == 200
    assert ch["ci"][0] < ch["estimate"] < ch["ci"][1]
    assert "toy.mean" in table([r]) and "toy.mean" in markdown(rep)


def test_registry_rejects_bad_ids_and_kinds():
    with pytest.raises(ValueError, match="id"):
        registry.claim("NoDot", title="t", source="s", kind="identity")
    with pytest.raises(ValueError, match="kind"):
        registry.claim("a.b", title="t", source="s", kind="guess")
    with pytest.raises(ValueError, match="matches no id"):
        registry.select("nothing.like.this*")


def test_run_claim_validates_arguments(toy_claims):
    with pytest.raises(ValueError, match="mode"):
        run_claim("toy.mean", "medium", 0)
    with pytest.raises(ValueError, match="seed"):
        run_claim("toy.mean", "quick", -1)
    with pytest.raises(ValueError, match="unknown claim"):
        run_claim("toy.nope", "quick", 0)


def test_vector_mean_check():
    rng = as_generator(6)
    x = rng.standard_normal((40, 5)) + np.arange(5)
    assert stats.vector_mean_check("v", x, np.arange(5)).finalize(1e-3).passed
    wrong = np.arange(5.0)
    wrong[3] += 1.0
    c = stats.vector_mean_check("v", x, wrong, labels=list("abcde")).finalize(1e-3)
    assert not c.passed and c.extra["worst"] == "d"


def test_group_variance_replicas_is_unbiased():
    rng = as_generator(7)
    v = stats.group_variance_replicas(rng.normal(0, 2.0, 4000), 40)
    assert stats.mean_check("var", v, 4.0).finalize(1e-3).passed
    assert not stats.mean_check("var", v, 4.8).finalize(1e-3).passed


def test_ecdf_extrapolation_removes_a_1_over_n_bias():
    rng = as_generator(8)
    grid = np.linspace(0.2, 3, 15)
    # exponential law with a 1/N bias in the scale: the limit is Exp(1)
    data = {n: rng.exponential(1 + 2.0 / n, size=(20, 400)) for n in (10, 20, 40, 80)}
    cdf = lambda x: 1 - np.exp(-x)  # noqa: E731
    assert stats.ecdf_extrapolation_check("x", data, cdf, grid).finalize(1e-3).passed
    assert not stats.ecdf_check("x", data[10], cdf, grid).finalize(1e-3).passed
    assert not stats.ecdf_extrapolation_check("x", data, lambda x: 1 - np.exp(-1.1 * x), grid).finalize(1e-3).passed


def test_exceeds_check_is_a_one_sample_t_test():
    rng = as_generator(9)
    a = 1.0 + 0.5 * rng.standard_normal(20)
    c = stats.exceeds_check("x", a, 0.0).finalize(1e-3)
    t = sps.ttest_1samp(a, 0.0, alternative="greater")
    assert c.z == pytest.approx(t.statistic) and c.passed
    assert not stats.exceeds_check("x", a, 1.0).finalize(1e-3).passed
    assert not stats.exceeds_check("x", a, 0.0, "less").finalize(1e-3).passed
