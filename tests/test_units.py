"""Work units smaller than a claim: split claims, shared experiments, the run's work summary.

Real split claims (quick mode) give bit-identical reports inline, on 2 local workers and on a
2-worker dask LocalCluster; toy claims (registered here, removed after each test) check the
combining rules: unit-key order whatever the arrival order, unit streams from the unit key, a unit
that raises or skips, and a shared experiment computed once per run and handed to its claims.
"""

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from degeneracy.errors import SkipClaim
from degeneracy.execution import PartUnit, SharedUnit, run_claims, run_units, work_summary
from degeneracy.numerics import stats
from degeneracy.proofs import context as context_mod
from degeneracy.proofs.registry import CLAIMS, SHARED, claim, get_claim, load_all, shared
from degeneracy.proofs.runner import plan_units, run_claim

load_all()

#: split claims of the three areas, fast in quick mode
SPLIT = ("isometry.max-eigenvalue", "products.depth-degeneracy", "products.fuss-catalan-law")


def stripped(results) -> list:
    out = []
    for r in results:
        d = json.loads(json.dumps(r.as_dict()))
        d.pop("seconds")
        out.append(d)
    return out


@pytest.fixture(scope="module")
def inline():
    work = {}
    res = run_claims([get_claim(c) for c in SPLIT], "quick", 0, workers=1, work=work)
    return stripped(res), work


def test_split_claims_declare_units():
    for cid in SPLIT:
        plan = plan_units(cid, "default")
        assert len(plan) >= 8 and all(isinstance(k, str) for k in plan)
    assert plan_units("products.naive-breakdown", "quick") == {}  # an unconverted claim is one unit


def test_two_workers_give_the_same_report_and_the_work_summary(inline):
    ref, work1 = inline
    work2 = {}
    two = stripped(run_claims([get_claim(c) for c in SPLIT], "quick", 0, workers=2, work=work2))
    assert two == ref
    assert set(work1) == set(work2)  # the same units ran (in another order)
    assert all(f"{c}/combine" in work1 for c in SPLIT)
    n_units = sum(len(plan_units(c, "quick")) for c in SPLIT)
    assert sum(not k.endswith("/combine") for k in work1) == n_units
    s = work_summary(work1)
    assert s["units"] == len(work1) and s["longest_seconds"] == pytest.approx(max(work1.values()), abs=1e-3)
    assert s["ratio"] == pytest.approx(s["total_seconds"] / s["longest_seconds"], rel=1e-2)
    assert [d["units"] for d in ref] == [len(plan_units(c, "quick")) for c in SPLIT]


def test_dask_local_cluster_gives_the_same_report(inline):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl, set_as_default=False) as client:
        res = run_claims([get_claim(c) for c in SPLIT], "quick", 0, executor=client.get_executor(pure=False))
    assert stripped(res) == inline[0]


def test_split_claim_inline_equals_parts_given_in_any_order():
    cid = "products.fuss-catalan-law"
    plan = plan_units(cid, "quick")
    parts = {u: PartUnit(cid, u, "quick", 0, 1e-3)() for u in reversed(list(plan))}
    a = run_claim(cid, "quick", 0, parts=parts)
    b = run_claim(cid, "quick", 0)
    assert stripped([a]) == stripped([b])
    assert set(a.unit_seconds) == set(plan) | {"combine"}
    assert a.seconds >= sum(p.seconds for p in parts.values())


def test_negative_control_of_a_split_claim_fails():
    assert run_claim("isometry.max-eigenvalue", "quick", 0, control=True).verdict == "fail"


# ---------------------------------------------------------------- toy claims

@pytest.fixture
def toys():
    """Register toy claims and a toy shared experiment; remove them afterwards (the per-claim alpha
    is a Sidak split over the registered claims: other tests must not see them)."""
    before_c, before_s = set(CLAIMS), set(SHARED)
    calls = []

    @shared("toy.experiment", plan=lambda mode: {"a": 1.0, "b": 2.0})
    def experiment(mode, seed, scale):
        calls.append(os.getpid())
        return {"pid": os.getpid(), "x": scale * np.random.default_rng(seed).normal(size=3)}

    def plan(ctx):
        return {f"u{k}": k for k in range(5)}

    def work(ctx, k):
        if ctx.settings.get("fail") == k:
            raise ValueError("unit exploded")
        if ctx.settings.get("skip") == k:
            raise SkipClaim("not today")
        return float(ctx.rng.normal()), float(ctx.spawn(f"k{k}").normal())

    def combine(ctx):
        xs = [ctx.parts[f"u{k}"][0] for k in range(5)]
        ctx.note("order " + ",".join(ctx.parts))
        yield stats.tolerance_check("sum", 0.0, float(np.sum(xs)) * 0, 1.0, reason="toy")

    claim("toy.split", title="t", source="s", kind="finite-n", units=plan, unit=work)(combine)
    claim("toy.fails", title="t", source="s", kind="finite-n", units=plan, unit=work, settings={"fail": 3})(combine)
    claim("toy.skips", title="t", source="s", kind="finite-n", units=plan, unit=work, settings={"skip": 1})(combine)

    def reader(ctx):
        a = ctx.shared_value("toy.experiment", "a")
        b = ctx.shared_value("toy.experiment", "b")
        ctx.note(f"{a['pid']} {b['pid']} {a['x'].tolist()} {b['x'].tolist()}")
        yield stats.tolerance_check("b = 2a", 0.0, float(np.max(np.abs(b["x"] - 2 * a["x"]))), 1e-12, reason="toy")

    claim("toy.reader-one", title="t", source="s", kind="finite-n", shares=("toy.experiment",))(reader)
    claim("toy.reader-two", title="t", source="s", kind="finite-n", shares=("toy.experiment",))(reader)
    yield calls
    for k in set(CLAIMS) - before_c:
        del CLAIMS[k]
    for k in set(SHARED) - before_s:
        del SHARED[k]
    for k in [k for k in context_mod._STORE if k[0].startswith("toy.")]:
        del context_mod._STORE[k]


def test_unit_streams_come_from_the_unit_key(toys):
    r = run_claim("toy.split", "quick", 7)
    assert r.verdict == "pass" and r.notes == ["order u0,u1,u2,u3,u4"]
    parts = {u: PartUnit("toy.split", u, "quick", 7, 1e-3)() for u in ("u3", "u0", "u4", "u2", "u1")}
    vals = [parts[f"u{k}"].value for k in range(5)]
    assert len({v[0] for v in vals}) == 5  # each unit its own ctx.rng
    again = PartUnit("toy.split", "u3", "quick", 7, 1e-3)()
    assert again.value == parts["u3"].value  # the same unit gives the same numbers, in any process or order
    assert PartUnit("toy.split", "u3", "quick", 8, 1e-3)().value != parts["u3"].value  # another run seed


def test_a_failing_unit_errors_the_claim_and_a_skipping_unit_skips_it(toys):
    r = run_claim("toy.fails", "quick", 0)
    assert r.verdict == "error" and "unit u3" in r.message and "unit exploded" in r.message
    assert run_claim("toy.skips", "quick", 0).verdict == "skipped"
    (e, s) = run_claims([CLAIMS["toy.fails"], CLAIMS["toy.skips"]], "quick", 0, workers=1)
    assert (e.verdict, s.verdict) == ("error", "skipped")


def test_a_shared_experiment_is_computed_once_per_run_and_handed_to_its_claims(toys):
    work = {}
    pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork"))
    try:
        res = run_claims([CLAIMS["toy.reader-one"], CLAIMS["toy.reader-two"]], "quick", 3, executor=pool, work=work)
    finally:
        pool.shutdown()
    assert [r.verdict for r in res] == ["pass", "pass"]
    assert {k for k in work if k.startswith("shared:")} == {"shared:toy.experiment/a", "shared:toy.experiment/b"}
    # both claims read the very values the shared units computed (the pid of the computing worker)
    assert res[0].notes == res[1].notes and all(r.shared == "toy.experiment" for r in res)
    assert toys == []  # nothing computed in this process
    # inline and outside the runner: computed once per process, the same numbers
    inline = run_claims([CLAIMS["toy.reader-one"], CLAIMS["toy.reader-two"]], "quick", 3, workers=1)
    assert len(toys) == 2  # units a and b, once each
    assert [r.notes[0].split(" ", 2)[2] for r in inline] == [res[0].notes[0].split(" ", 2)[2]] * 2
    ctx = context_mod.make_context("toy.reader-one", seed=3, mode="quick")
    assert ctx.shared_value("toy.experiment", "a")["pid"] == os.getpid() and len(toys) == 2


def test_shared_units_precede_their_claims_in_run_units(toys):
    order = []
    units = [SharedUnit("toy.experiment", "a", "quick", 0)]

    def more(u, r):
        order.append(u.id)
        return [SharedUnit("toy.experiment", "b", "quick", 0)] if u.id.endswith("/a") else []

    out = run_units(units, workers=1, more=more)
    assert order == ["shared:toy.experiment/a", "shared:toy.experiment/b"] and len(out) == 2


def test_resume_computes_only_the_missing_units_of_a_split_claim(tmp_path):
    from degeneracy.cache import ResultCache

    cache = ResultCache(str(tmp_path))
    c = get_claim("products.fuss-catalan-law")
    w1 = {}
    (first,) = run_claims([c], "quick", 0, cache=cache, resume=True, work=w1)
    assert len(w1) == len(plan_units(c, "quick")) + 1
    # an interruption after the units and before the claim's entry: only the combining step runs again
    os.unlink(cache.path(cache.key(c, "quick", 0, 1e-3)))
    w2 = {}
    (second,) = run_claims([c], "quick", 0, cache=cache, resume=True, work=w2)
    assert list(w2) == [f"{c.id}/combine"] and stripped([second]) == stripped([first])
    # a damaged unit entry is recomputed, alone
    os.unlink(cache.path(cache.key(c, "quick", 0, 1e-3)))
    with open(cache.path(cache.unit_key(cache.key(c, "quick", 0, 1e-3), "L5-n32")), "r+b") as fh:
        fh.seek(-3, os.SEEK_END)
        fh.write(b"xyz")
    w3 = {}
    (third,) = run_claims([c], "quick", 0, cache=cache, resume=True, work=w3)
    assert sorted(w3) == [f"{c.id}/L5-n32", f"{c.id}/combine"] and stripped([third]) == stripped([first])


@pytest.mark.parametrize("cid, module, const, value", [
    ("isometry.max-eigenvalue", "isometry", "REPLICA_CHUNK", {"from_n": 128, "replicas": 8}),
    ("products.fuss-catalan-law", "products", "FC_CHUNK", {"from_work": 10 * 64, "replicas": 5}),
    ("products.lyapunov-real", "products", "LYAPUNOV_CHUNK", {"from_n": 64, "replicas": 30}),
])
def test_replica_chunks_pass_and_their_controls_fail(monkeypatch, cid, module, const, value):
    """Default mode splits the largest sizes into chunks of replicas; in quick mode the same path runs
    when the thresholds are lowered: the claim passes, its negative control fails, the numbers of the
    unchunked sizes do not move."""
    import importlib

    mod = importlib.import_module(f"degeneracy.proofs.{module}")
    whole = run_claim(cid, "quick", 0)
    monkeypatch.setattr(mod, const, value)
    plan = plan_units(cid, "quick")
    assert any("-chunk" in u for u in plan)
    chunked = run_claim(cid, "quick", 0)
    assert chunked.verdict == "pass" and run_claim(cid, "quick", 0, control=True).verdict == "fail"
    assert stripped([chunked]) != stripped([whole])  # new streams for the chunked sizes
