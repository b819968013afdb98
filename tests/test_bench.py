"""`degeneracy bench`: the schema of the suite (timings live in the bench, never in tests)."""

import json

import pytest

from degeneracy import bench
from degeneracy.cli import main

KERNEL_KEYS = {"name", "n", "replicas", "lapack", "seconds_per_step", "gflops", "ratio_to_matmul", "ratio_to_matched",
               "speedup_vs_numpy_qr", "draw_seconds", "ratio_with_draw"}
BATCHED_KEYS = {"name", "n", "replicas", "lapack", "seconds_per_step", "gflops", "ratio_to_matmul", "ratio_to_matched",
                "speedup_vs_single"}


@pytest.fixture(scope="module")
def quick_result():
    return bench.run_benchmarks(quick=True)


def positive(x):
    return isinstance(x, float) and x > 0


def test_suite_schema(quick_result):
    r = quick_result
    assert {"matmul_gflops", "threads", "kernels", "trainer", "free_density", "workers", "environment"} <= set(r)
    assert positive(r["matmul_gflops"]) and r["threads"] >= 1
    names = {k["name"] for k in r["kernels"]}
    assert names == {"qr-engine", "qr-engine-geqrf", "qr-engine-batched"}
    for k in r["kernels"]:
        keys = BATCHED_KEYS if k["name"] == "qr-engine-batched" else KERNEL_KEYS
        assert set(k) == keys
        assert all(positive(k[key]) for key in keys - {"name", "n", "replicas", "lapack"})
        assert k["lapack"] == bench.LAPACK_ROUTINES[k["name"]]
    (t,) = r["trainer"]
    assert t["name"] == "batched-trainer" and positive(t["gflops"]) and positive(t["speedup_vs_replica_loop"])
    (f,) = r["free_density"]
    assert f["points"] == 200 and positive(f["seconds_pdf"]) and positive(f["points_per_second"])
    w = r["workers"]
    assert w["units"] == 4 and positive(w["seconds_1"]) and positive(w["seconds_2"])
    assert w["identical"] is True  # the units' results do not depend on the number of workers
    assert w["floor"] == bench.WORKERS_FLOOR and w["passed"] is None  # a toy workload is not held to the floor
    assert "not held at --quick sizes" in bench.format_table(r)
    assert all(row["metric"] != "workers speedup" for row in bench.check_floors(r))
    full = dict(r, workers=dict(w, speedup=1.5, passed=False))
    assert {"metric": "workers speedup", "n": 2, "value": 1.5, "floor": w["floor"], "passed": False} in \
        bench.check_floors(full)
    json.dumps(r, allow_nan=False)


def test_scaleout_schema(quick_result):
    so = quick_result["scaleout"]
    assert set(so) == {"workload", "units", "n", "depth", "rounds", "cores", "load_before", "load_after", "busy",
                       "idle_load_per_core", "seconds", "speedup", "identical", "dask", "floor", "passed", "message"}
    assert so["identical"] is True  # the same units give the same numbers on every backend
    backends = {"local-1", "local-2"} | ({"dask-2"} if so["dask"] == "ran" else set())
    assert set(so["seconds"]) == backends and all(positive(t) for t in so["seconds"].values())
    assert set(so["speedup"]) == backends - {"local-1"}
    assert so["dask"] == "ran" or so["dask"].startswith("skipped")
    if so["busy"]:  # no speedup from a busy machine, and no floor row
        assert all(x is None for x in so["speedup"].values()) and so["passed"] is None
        assert "speedup not measured" in so["message"]
        assert not any(row["metric"].startswith("scaleout") for row in bench.check_floors(quick_result))
    else:
        assert all(positive(x) for x in so["speedup"].values()) and so["passed"] == (so["speedup"]["local-2"] >= 1.8)


def test_scaleout_floor_only_when_idle():
    base = {"units": 8, "workload": "w", "rounds": 3, "seconds": {"local-1": 2.0, "local-2": 1.0}, "identical": True,
            "dask": "skipped: x", "floor": bench.WORKERS_FLOOR, "load_before": [0.2, 0.2, 0.2],
            "load_after": [1.0, 0.5, 0.3], "message": "measured idle"}
    idle = dict(base, busy=False, speedup={"local-2": 2.0}, passed=True)
    busy = dict(base, busy=True, speedup={"local-2": None}, passed=None, message="machine busy (load 3): speedup not measured")
    (row,) = bench.check_floors({"kernels": [], "scaleout": idle})
    assert row["metric"] == "scaleout speedup local-2" and row["value"] == 2.0 and row["passed"]
    assert bench.check_floors({"kernels": [], "scaleout": busy}) == []
    text = bench.format_table({"matmul_gflops": 1.0, "threads": 1, "kernels": [], "scaleout": busy})
    assert "speedup not measured" in text and "speedup 2" not in text and "floor scaleout" not in text
    assert "floor scaleout local-2 speedup >= 1.8: 2.00 (pass)" in bench.format_table(
        {"matmul_gflops": 1.0, "threads": 1, "kernels": [], "scaleout": idle})


def test_table_shows_every_section(quick_result):
    text = bench.format_table(quick_result)
    for fragment in ("matmul ceiling", "qr-engine", "trainer", "free density", "workers:", "floor workers speedup",
                     "scaleout:", "load average before"):
        assert fragment in text


def test_sections_select_what_runs():
    r = bench.run_benchmarks(quick=True, sections=("free",))
    assert r["kernels"] == [] and "free_density" in r and "trainer" not in r and "workers" not in r
    assert "scaleout" not in r
    assert positive(r["matmul_gflops"])  # the ceiling is always measured
    with pytest.raises(ValueError, match="sections"):
        bench.run_benchmarks(quick=True, sections=("gpu",))


def test_floors_are_checked_against_the_issue_values():
    ok = {"kernels": [{"name": "qr-engine", "n": 1024, "ratio_to_matmul": 0.76, "speedup_vs_numpy_qr": 1.5},
                      {"name": "qr-engine", "n": 256, "ratio_to_matmul": 0.61, "speedup_vs_numpy_qr": 1.0}]}
    bad = {"kernels": [{"name": "qr-engine", "n": 1024, "ratio_to_matmul": 0.74, "speedup_vs_numpy_qr": 1.5},
                       {"name": "qr-engine", "n": 256, "ratio_to_matmul": 0.59, "speedup_vs_numpy_qr": 1.0}]}
    rows = bench.check_floors(ok)
    assert {(r["metric"], r["n"], r["floor"]) for r in rows} == {("ratio_to_matmul", 1024, 0.75),
                                                                 ("ratio_to_matmul", 256, 0.6),
                                                                 ("speedup_vs_numpy_qr", 1024, 1.4)}
    assert all(row["passed"] for row in rows)
    assert [row["passed"] for row in bench.check_floors(bad)] == [False, True, False]


def test_cli_bench_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code = main(["bench", "--quick", "--only", "qr,workers", "--json", str(path)])
    out, _ = capsys.readouterr()
    assert code == 0 and "qr-engine" in out and "workers:" in out
    d = json.loads(path.read_text())
    assert {"matmul_gflops", "kernels", "workers"} <= set(d) and "trainer" not in d
    assert set(d["kernels"][0]) == KERNEL_KEYS and d["kernels"][-1]["name"] == "qr-engine-batched"


def test_cli_bench_bad_section_exit_2(capsys):
    code = main(["bench", "--only", "gpu"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "--only must name bench sections" in err


def test_cli_bench_strict_exits_1_on_a_missed_floor(monkeypatch, capsys):
    fake = {"matmul_gflops": 50.0, "threads": 1, "kernels": [{"name": "qr-engine", "n": 1024, "seconds_per_step": 0.1,
            "gflops": 35.0, "ratio_to_matmul": 0.7, "speedup_vs_numpy_qr": 1.6}]}
    monkeypatch.setattr(bench, "run_benchmarks", lambda **kw: fake)
    monkeypatch.setattr(bench, "format_table", lambda r: "table")
    assert main(["bench", "--only", "qr"]) == 0  # reports only
    assert main(["bench", "--only", "qr", "--strict"]) == 1
    _, err = capsys.readouterr()
    assert "1 floor(s) missed: ratio_to_matmul at 1024: 0.70 < 0.75" in err
