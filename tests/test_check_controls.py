"""Check-level negative controls: every graded check of every claim sees a realistic mistake in its own
theory value, WITHOUT another check (a certificate above all) changing in the same run.

Walks the registry. Each agreement, bound and tolerance check of an identity, finite-n or asymptotic
claim is re-evaluated from its own numbers (estimate, stderr, threshold) with its theory value moved
by a relative mistake (:meth:`degeneracy.numerics.stats.Check.detects`); only that check changes, so
the claim fails because this check saw the mistake. The mistake is the check's ``target`` (5% unless
the check states another, with its reason):

* CI (quick sizes, seed 0): ``QUICK_FACTOR`` x target. Quick mode uses 4 to 25 times fewer replicas
  than default mode, so its resolution is 2 to 5 times coarser: the documented bound is 5 x target
  (25% for the default target).
* ``-m slow`` (default sizes): the target itself, as the issue asks (default-mode resolution at most
  5%, or the check says why not). ``degeneracy calibrate`` reports the same per seed.

Effect checks have no theory value to perturb (their control is the reversed direction, tested
with each area's claims); a zero prediction needs a stated ``scale`` (:meth:`Check.aims`).

A claim whose checks do not reach the bound would be listed in KNOWN_QUICK / KNOWN_DEFAULT with the
reason (a non-strict xfail); today both are empty. A claim that is not listed and misses fails the test.
"""

import pytest

from degeneracy.execution import run_claims
from degeneracy.proofs.registry import CLAIMS, load_all

load_all()

QUICK_FACTOR = 5.0
GRADED = ("agreement", "bound", "tolerance")
IDS = sorted(c for c in CLAIMS if CLAIMS[c].kind != "empirical")

#: claims with graded checks that miss QUICK_FACTOR x target at quick sizes, seed 0 (none since issue 12's last
#: fixes; a claim added here is marked xfail with its reason)
KNOWN_QUICK: dict[str, str] = {}
#: claims with graded checks that miss their target at default sizes, seed 0 (none, measured on main)
KNOWN_DEFAULT: dict[str, str] = {**KNOWN_QUICK}


def _misses(result, factor: float) -> list[str]:
    out = []
    for c in result.checks:
        if c.test in GRADED and c.detects(factor * c.target) is False:
            out.append(f"{c.name!r}: misses a {factor * c.target:.0%} mistake (resolution {c.resolution:.3g}, "
                       f"z {c.z:.3g} vs {c.threshold:.3g})")
    return out


def _control_leaves_the_rest_alone(result, factor: float) -> None:
    """The control re-evaluates one check: every other check, certificates included, keeps its verdict."""
    before = [c.passed for c in result.checks]
    for c in result.checks:
        if c.test in GRADED:
            c.detects(factor * c.target)
    assert [c.passed for c in result.checks] == before


@pytest.fixture(scope="module")
def quick_results():
    return {r.id: r for r in run_claims([CLAIMS[c] for c in IDS], "quick", 0, workers=2)}


def _param(cid, known):
    if cid in known:
        return pytest.param(cid, marks=pytest.mark.xfail(reason=known[cid], strict=False))
    return cid


@pytest.mark.parametrize("cid", [_param(c, KNOWN_QUICK) for c in IDS])
def test_every_graded_check_sees_a_realistic_mistake_at_quick_sizes(quick_results, cid):
    r = quick_results[cid]
    assert r.verdict == "pass", (r.verdict, r.message)
    _control_leaves_the_rest_alone(r, QUICK_FACTOR)
    assert not _misses(r, QUICK_FACTOR), _misses(r, QUICK_FACTOR)


def test_the_walk_covers_the_registry(quick_results):
    graded = sum(c.test in GRADED for r in quick_results.values() for c in r.checks)
    undefined = [(r.id, c.name, c.test) for r in quick_results.values() for c in r.checks
                 if c.test in GRADED and c.detects() is None]
    assert graded > 100
    # a zero prediction cannot be perturbed relatively: allowed only for deterministic residuals (tolerance
    # checks, whose scale is rounding); a statistical check of a zero prediction states its scale (Check.aims)
    assert all(t == "tolerance" for _, _, t in undefined), [u for u in undefined if u[2] != "tolerance"]


@pytest.fixture(scope="module")
def default_results():
    return {r.id: r for r in run_claims([CLAIMS[c] for c in IDS], "default", 0, workers=2)}


@pytest.mark.slow
@pytest.mark.parametrize("cid", [_param(c, KNOWN_DEFAULT) for c in IDS])
def test_every_graded_check_sees_its_target_mistake_at_default_sizes(default_results, cid):
    r = default_results[cid]
    assert r.verdict == "pass", (r.verdict, r.message)
    assert not _misses(r, 1.0), _misses(r, 1.0)
