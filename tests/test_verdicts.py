"""Verdicts whose error rates are known: fail / supported / contradicted / inconclusive, sequential
replication with alpha spending, zero standard errors, Student-t fits, the check-level control."""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import stats as sps

from degeneracy.calibration import null_simulation
from degeneracy.execution import run_claims
from degeneracy.numerics import stats
from degeneracy.numerics.spending import spending_boundaries, spent
from degeneracy.proofs import registry
from degeneracy.proofs.context import make_context
from degeneracy.proofs.replication import replicate
from degeneracy.proofs.runner import exit_code, run_claim


@pytest.fixture
def toys():
    """Toy claims: a finite-n claim with a deliberately wrong prediction under its control, and
    empirical claims (sequentially replicated) with a real, a null and a reversed effect."""
    ids = []

    def reg(cid, kind, fn, **kw):
        registry.claim(cid, title=cid, source="test", kind=kind, **kw)(fn)
        ids.append(cid)

    def finite(ctx):
        x = 2.0 + ctx.rng.standard_normal(2000)
        yield stats.mean_check("mean of N(2, 1)", x, 2.0 * 1.1 if ctx.control else 2.0)  # control: 10% wrong

    def empirical(effect):
        def fn(ctx):
            def batch(index, rng, size):
                return {"a": rng.normal(effect, 1.0, size), "b": rng.normal(0.0, 1.0, size)}

            def evaluate(s):
                yield stats.difference_check("a > b", s["a"], s["b"], "greater")

            yield from replicate(ctx, batch, evaluate, size=20, batches=4)
        return fn

    reg("toy.finite-wrong", "finite-n", finite)
    reg("toy.effect-real", "empirical", empirical(3.0))
    reg("toy.effect-null", "empirical", empirical(0.0))
    reg("toy.effect-reversed", "empirical", empirical(-3.0))
    yield
    for cid in ids:
        registry.CLAIMS.pop(cid, None)


def test_wrong_prediction_fails_null_effect_is_inconclusive_reversed_is_contradicted(toys):
    assert run_claim("toy.finite-wrong", "quick", 0).verdict == "pass"
    assert run_claim("toy.finite-wrong", "quick", 0, control=True).verdict == "fail"
    real = run_claim("toy.effect-real", "quick", 0)
    null = run_claim("toy.effect-null", "quick", 0)
    rev = run_claim("toy.effect-reversed", "quick", 0)
    assert (real.verdict, null.verdict, rev.verdict) == ("supported", "inconclusive", "contradicted")
    # the null effect is not called contradicted: the design simply cannot conclude
    assert null.summary == "inconclusive in 1 of 1 check"
    (c,) = null.checks
    assert c.outcome == "inconclusive" and c.ci[0] < 0 < c.ci[1] and c.detectable > abs(c.estimate)
    # a clear effect stops early; the null one spends the whole budget
    assert real.replication["runs"] < real.replication["budget"] == null.replication["runs"] == 80
    assert exit_code([null]) == 0 and exit_code([null], strict=True) == 1
    assert exit_code([rev]) == 0 and exit_code([rev], strict=True) == 1


def test_sequential_runs_are_the_same_whatever_the_workers(toys):
    claims = [registry.get_claim(c) for c in ("toy.effect-real", "toy.effect-null")]
    one = [r.as_dict() for r in run_claims(claims, "quick", 5, workers=1)]
    with ThreadPoolExecutor(2) as ex:
        two = [r.as_dict() for r in run_claims(claims, "quick", 5, executor=ex)]
    for d in one + two:
        d.pop("seconds")
    assert one == two
    assert one[0]["checks"][0]["look"] <= one[0]["checks"][0]["looks"]


def test_three_way_thresholds_split_alpha_between_directions():
    x = stats.difference_check("d", [1.0, 2.0, 3.0, 4.0], [0.0, 0.5, 1.0, 1.5])
    one_sided = x.copy().finalize(0.01).threshold
    three = x.copy().finalize(0.01, three_way=True).threshold
    assert one_sided == pytest.approx(sps.t.isf(0.01, x.df)) and three == pytest.approx(sps.t.isf(0.005, x.df))


def test_z_has_the_sign_of_the_deviation_for_every_rule():
    less = stats.difference_check("a < b", [0.0, 0.1, -0.1], [1.0, 1.1, 0.9], "less").finalize(1e-3)
    assert less.z < 0 and less.estimate < 0 and less.passed
    ge = stats.bound_check("x >= 1", 3.0, 0.1, 1.0, "ge").finalize(1e-3)
    assert ge.z > 0 and ge.passed
    ge_bad = stats.bound_check("x >= 1", 0.0, 0.1, 1.0, "ge").finalize(1e-3)
    assert ge_bad.z < 0 and not ge_bad.passed


def test_spending_boundaries_keep_the_level_and_end_near_the_fixed_design():
    a = 1e-6
    t = [0.25, 0.5, 0.75, 1.0]
    b = spending_boundaries(a, t)
    # union bound: the increments sum to a(1) = a
    assert float(sum(sps.norm.sf(b))) == pytest.approx(a, rel=1e-9)
    assert b[0] > b[1] > b[2] > b[3] and b[-1] == pytest.approx(sps.norm.isf(a), rel=0.01)
    assert float(spent(a, 1.0)) == pytest.approx(a)
    p = spending_boundaries(0.025, t, spending="pocock")
    assert float(sum(sps.norm.sf(p))) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="fractions"):
        spending_boundaries(0.025, [0.5, 0.25])


def test_null_simulation_keeps_the_declared_rates():
    sim = null_simulation(300, alpha=0.05, seed=11)
    for k in ("supported", "contradicted"):
        assert not sim["null"][k]["excess"], sim["null"][k]
    assert not sim["effect"]["contradicted"]["excess"]
    assert sim["effect"]["supported"]["rate"] > 0.6  # the design has power against half a standard deviation
    assert sim["effect"]["runs_mean"] < sim["null"]["runs_mean"]  # and stops early when it can


def test_zero_standard_errors_follow_the_documented_rule():
    # all replicas zero: the one-count floor, not an exception
    c = stats.mean_check("bin fraction", np.zeros(40), 0.002, granularity=1 / 32).finalize(1e-3)
    assert c.stderr == pytest.approx(1 / (32 * 40)) and c.passed
    # a fit with one zero standard error: the largest other one, recorded
    e = stats.extrapolation_check("x", [32, 64, 128], [0.0, 0.004, 0.005], [0.0, 0.001, 0.0008], 0.006)
    assert e.extra["zero_stderr_points"] == [32.0]
    e2 = stats.extrapolation_check("x", [32, 64, 128], [0.0, 0.004, 0.005], [0.0, 0.001, 0.0008], 0.006,
                                   stderr_floor=1 / (32 * 40))
    assert "zero_stderr_points" not in e2.extra
    with pytest.raises(Exception, match="every standard error"):
        stats.extrapolation_check("x", [32, 64, 128], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0.0)


def test_a_rounding_level_standard_error_counts_as_zero():
    # isometry.relu-no-isometry, quick, seed 25: every hard-tanh network of width 32 had an exactly orthogonal
    # Jacobian, so Var/mean^2 was 8e-17 +- 7e-17 (rounding); weighting by it made the normal matrix singular
    sizes, est = [32, 64, 128], [8.326672684688674e-17, 0.013741804254877865, 0.010766842800687987]
    se = [6.684427777288335e-17, 0.0034641703874061115, 0.002239087131058491]
    e = stats.extrapolation_check("hard_tanh/orthogonal", sizes, est, se, 0.012542852673917082)
    assert e.extra["zero_stderr_points"] == [32.0] and e.finalize(1e-3).passed
    # the covariance from the SVD agrees with the normal-equations inverse where that is well conditioned
    x, y, s = np.array([8.0, 16, 32, 64]), np.array([1.1, 1.05, 1.02, 1.01]), np.array([0.01, 0.02, 0.01, 0.03])
    cols = [lambda v: np.ones_like(v), lambda v: 1 / v]
    coef, cov, chi2, dof = stats.weighted_fit(x, y, s, cols)
    A = np.column_stack([np.ones(4), 1 / x]) / s[:, None]
    expected = np.linalg.inv(A.T @ A) * max(1.0, chi2 / dof)
    assert np.allclose(cov, expected, rtol=1e-10, atol=0)
    with pytest.raises(Exception, match="rank-deficient"):
        stats.weighted_fit([8, 8, 8], [1.0, 1.1, 0.9], [0.1, 0.1, 0.1], cols)


def test_fits_use_student_t_when_the_replicas_are_known():
    n = np.array([8, 16, 32, 64])
    se = np.full(4, 0.01)
    y = 1.0 + 0.5 / n
    normal = stats.extrapolation_check("x", n, y, se, 1.0).finalize(1e-3)
    t = stats.extrapolation_check("x", n, y, se, 1.0, df=9).finalize(1e-3)
    assert normal.threshold == pytest.approx(sps.norm.isf(5e-4))
    assert t.threshold == pytest.approx(sps.t.isf(5e-4, 9)) and t.df == 9
    r = stats.rate_check("r", [0.1, 0.05, 0.025], [0.3, 0.15, 0.075], [0.003, 0.0015, 0.00075], 1.0, df=19)
    assert r.df == 19 and r.finalize(1e-3).passed


def test_check_level_control_is_re_evaluated_from_the_checks_own_numbers():
    rng = np.random.default_rng(3)
    c = stats.mean_check("m", 1.0 + 0.01 * rng.standard_normal(100), 1.0).finalize(1e-4)
    assert c.passed and c.detects(0.05) and not c.detects(1e-4)
    weak = stats.mean_check("m", 1.0 + 0.5 * rng.standard_normal(10), 1.0).finalize(1e-4)
    assert weak.passed and not weak.detects(0.05)
    assert weak.aims(2.0, "a small design").detects() is True and weak.target_reason == "a small design"
    # a bound far inside its limit cannot see a 5% mistake in it
    b = stats.bound_check("x >= 8", 16.0, 0.5, 8.0, "ge", df=19).finalize(1e-4)
    assert b.passed and not b.detects(0.05) and b.detects(1.5)
    zero = stats.mean_check("rate 0", 0.001 * rng.standard_normal(50), 0.0).finalize(1e-4)
    assert zero.detects() is None and zero.aims(0.05, scale=0.3).detects() is True
    assert stats.difference_check("d", [1.0, 2.0], [0.0, 0.1]).finalize(1e-3).detects() is None


def test_empirical_verdict_rule():
    from degeneracy.proofs.runner import empirical_verdict

    rng = np.random.default_rng(0)

    def chk(shift, n=30):
        a, b = rng.standard_normal(n) + shift, rng.standard_normal(n)
        return stats.paired_difference_check("x", a, b, "greater").finalize(1e-3, three_way=True)

    sup, con, inc = chk(3.0), chk(-3.0), chk(0.0)
    assert (sup.outcome, con.outcome, inc.outcome) == ("supported", "contradicted", "inconclusive")
    assert empirical_verdict([sup, sup]) == ("supported", "supported in 2 of 2 checks")
    assert empirical_verdict([sup, inc]) == ("inconclusive", "supported in 1 of 2 checks, inconclusive in 1")
    assert empirical_verdict([sup, con, inc])[0] == "contradicted"
    assert math.isfinite(sup.detectable) and sup.ci[0] > 0


def test_replicate_validates_the_batch_contract():
    ctx = make_context("toy.x", seed=0, mode="quick", kind="empirical")
    with pytest.raises(ValueError, match="runs along axis 0"):
        replicate(ctx, lambda i, rng, n: {"a": np.zeros(n + 1)}, lambda s: iter(()), size=4, batches=2)
    with pytest.raises(TypeError, match="dict of arrays"):
        replicate(ctx, lambda i, rng, n: [1, 2], lambda s: iter(()), size=4, batches=2)
