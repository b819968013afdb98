"""The result cache: keys, atomic entries, damaged entries recomputed, concurrent writers, and an
interrupted `verify --resume` that resumes where it stopped."""

import json
import multiprocessing as mp
import os

import pytest

from degeneracy import cache as cache_mod
from degeneracy.cache import ResultCache, default_cache_dir, source_hash
from degeneracy.cli import main
from degeneracy.execution import run_claims
from degeneracy.numerics import stats
from degeneracy.proofs import registry
from degeneracy.proofs.runner import run_claim

registry.load_all()

FAST = "products.naive-breakdown"


@pytest.fixture(scope="module")
def result():
    return run_claim(FAST, "quick", 0)


def test_round_trip_keeps_the_report_entry(tmp_path, result):
    c = ResultCache(str(tmp_path))
    key = c.key(FAST, "quick", 0, 1e-3)
    assert c.get(key) is None
    c.put(key, result)
    back = c.get(key)
    assert back.as_dict() == result.as_dict() and back.checks[0].passed == result.checks[0].passed
    assert c.rejected == 0 and os.path.exists(c.path(key))
    assert [n for n in os.listdir(os.path.dirname(c.path(key))) if n.startswith(".tmp")] == []


def test_key_depends_on_everything_the_numbers_depend_on(tmp_path, monkeypatch):
    c = ResultCache(str(tmp_path))
    base = c.key(FAST, "quick", 0, 1e-3)
    assert base == c.key(FAST, "quick", 0, 1e-3)
    others = {c.key(FAST, "default", 0, 1e-3), c.key(FAST, "quick", 1, 1e-3), c.key(FAST, "quick", 0, 1e-4),
              c.key(FAST, "quick", 0, 1e-3, control=True), c.key("products.fold-rank", "quick", 0, 1e-3)}
    assert base not in others and len(others) == 5
    # a new toolkit (or numpy) version changes the key
    monkeypatch.setattr(cache_mod, "_versions", lambda: {"degeneracy": "9.9.9"})
    assert c.key(FAST, "quick", 0, 1e-3) != base


def test_source_hash_covers_the_claims_own_module_not_the_other_areas(monkeypatch):
    files = dict(cache_mod._file_hashes())
    assert "proofs/products.py" in files and "numerics/stats.py" in files
    before_products, before_dynamics = source_hash("degeneracy.proofs.products"), source_hash("degeneracy.proofs.dynamics")
    edited = tuple((p, "0" * 64 if p == "proofs/products.py" else h) for p, h in files.items())
    monkeypatch.setattr(cache_mod, "_file_hashes", lambda: edited)
    assert source_hash("degeneracy.proofs.products") != before_products  # its own module changed
    assert source_hash("degeneracy.proofs.dynamics") == before_dynamics  # another area's module did not matter
    edited = tuple((p, "0" * 64 if p == "numerics/stats.py" else h) for p, h in files.items())
    monkeypatch.setattr(cache_mod, "_file_hashes", lambda: edited)
    assert source_hash("degeneracy.proofs.dynamics") != before_dynamics  # shared numerics changed


def damage_truncate(path):
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])


def damage_flip(path):
    data = bytearray(open(path, "rb").read())
    data[-10] ^= 0xFF
    open(path, "wb").write(bytes(data))


def damage_header(path):
    data = open(path, "rb").read()
    open(path, "wb").write(b"{not json" + data[data.index(b"\n"):])


def damage_empty(path):
    open(path, "wb").close()


def damage_swap(path):  # a valid entry of another key copied over this one
    head, payload = open(path, "rb").read().split(b"\n", 1)
    h = json.loads(head)
    h["key"] = "f" * 64
    open(path, "wb").write(json.dumps(h).encode() + b"\n" + payload)


@pytest.mark.parametrize("damage", [damage_truncate, damage_flip, damage_header, damage_empty, damage_swap])
def test_damaged_entries_are_misses_never_trusted(tmp_path, result, damage):
    c = ResultCache(str(tmp_path))
    key = c.key(FAST, "quick", 0, 1e-3)
    c.put(key, result)
    damage(c.path(key))
    assert c.get(key) is None and c.rejected == 1
    c.put(key, result)  # the recomputed result overwrites it
    assert c.get(key).as_dict() == result.as_dict()


def test_a_damaged_entry_is_recomputed_by_resume(tmp_path, capsys):
    c = ResultCache(str(tmp_path / "cache"))
    argv = ["verify", "--quick", "--only", FAST, "--resume", "--cache-dir", c.directory, "--no-progress",
            "--workers", "1"]
    assert main(argv + ["--json", str(tmp_path / "a.json")]) == 0
    capsys.readouterr()
    damage_flip(c.path(c.key(FAST, "quick", 0, 1e-3)))
    assert main(argv + ["--json", str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "1 damaged entry recomputed" in out and "from the cache" not in out
    assert main(argv + ["--json", str(tmp_path / "c.json")]) == 0
    assert "1 from the cache" in capsys.readouterr().out
    a, b, cc = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "abc")
    for d in (a, b, cc):
        d.pop("work")  # this run's work units (run c computed none)
    assert b == cc  # the entry stored by run b reproduces its report exactly, wall time included
    for d in (a, b):
        for cl in d["claims"]:
            cl.pop("seconds")
    assert a == b


# ---------------------------------------------------------------- concurrency

def _writer(directory, key, rounds, barrier):
    r = run_claim(FAST, "quick", 0)
    c = ResultCache(directory)
    barrier.wait()
    for i in range(rounds):
        r.seconds = float(os.getpid() + i)  # different bytes from every writer and round
        c.put(key, r)


def _reader(directory, key, done, barrier, out):
    import time

    c = ResultCache(directory)
    barrier.wait()
    seen = 0
    deadline = time.monotonic() + 60
    while not done.is_set() and time.monotonic() < deadline:  # read for as long as writers write
        got = c.get(key)
        if got is not None:
            assert got.id == FAST and got.checks[0].passed
            seen += 1
    out.put((c.rejected, seen))


def test_concurrent_writers_and_readers_never_see_a_partial_entry(tmp_path):
    ctx = mp.get_context("fork")
    directory = str(tmp_path)
    key = ResultCache(directory).key(FAST, "quick", 0, 1e-3)
    writers, readers, rounds = 4, 2, 60
    barrier = ctx.Barrier(writers + readers)
    done = ctx.Event()
    out = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(directory, key, rounds, barrier)) for _ in range(writers)]
    procs += [ctx.Process(target=_reader, args=(directory, key, done, barrier, out)) for _ in range(readers)]
    for p in procs:
        p.start()
    for p in procs[:writers]:
        p.join(60)
    done.set()
    for p in procs[writers:]:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    stats_ = [out.get(timeout=5) for _ in range(readers)]
    assert all(rejected == 0 for rejected, _ in stats_)  # never a damaged read
    assert sum(seen for _, seen in stats_) > 0  # the readers did read entries
    c = ResultCache(directory)
    assert c.get(key).id == FAST and c.rejected == 0
    leftovers = [n for _, _, fs in os.walk(directory) for n in fs if not n.endswith(".entry")]
    assert leftovers == []


# ---------------------------------------------------------------- resume

@pytest.fixture
def toy_run():
    """Two toy claims: the second interrupts the run (KeyboardInterrupt) while ``state['stop']``."""
    state = {"stop": True, "calls": {"toy.a-first": 0, "toy.b-second": 0}}

    @registry.claim("toy.a-first", title="passes", source="test", kind="finite-n")
    def _first(ctx):
        state["calls"]["toy.a-first"] += 1
        yield stats.mean_check("m", 1.0 + ctx.rng.standard_normal(50), 1.0)

    @registry.claim("toy.b-second", title="interrupted once", source="test", kind="finite-n")
    def _second(ctx):
        state["calls"]["toy.b-second"] += 1
        if state["stop"]:
            raise KeyboardInterrupt
        yield stats.mean_check("m", 2.0 + ctx.rng.standard_normal(50), 2.0)

    yield state
    registry.CLAIMS.pop("toy.a-first", None)
    registry.CLAIMS.pop("toy.b-second", None)


def test_interrupted_verify_resumes_where_it_stopped(tmp_path, capsys, toy_run):
    cache_dir = str(tmp_path / "cache")
    argv = ["verify", "--only", "toy.*", "--resume", "--cache-dir", cache_dir, "--no-progress", "--workers", "1"]
    code = main(argv + ["--json", str(tmp_path / "first.json")])
    err = capsys.readouterr().err
    assert code == 130 and "--resume" in err
    assert toy_run["calls"] == {"toy.a-first": 1, "toy.b-second": 1}

    toy_run["stop"] = False
    code = main(argv + ["--json", str(tmp_path / "resumed.json")])
    out = capsys.readouterr().out
    assert code == 0 and "1 from the cache" in out
    assert toy_run["calls"] == {"toy.a-first": 1, "toy.b-second": 2}  # the first claim did not run again

    # the resumed report equals an uninterrupted run without the cache
    fresh = run_claims([registry.get_claim("toy.a-first"), registry.get_claim("toy.b-second")], "default", 0)
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert [c["id"] for c in resumed["claims"]] == ["toy.a-first", "toy.b-second"]
    for got, want in zip(resumed["claims"], fresh):
        want = want.as_dict()
        got.pop("seconds"), want.pop("seconds")
        assert got == want
    # without --resume nothing is read back
    main(["verify", "--only", "toy.*", "--no-progress", "--workers", "1"])
    assert "from the cache" not in capsys.readouterr().out


def test_resume_with_workers_stores_every_result(tmp_path, capsys):
    cache_dir = str(tmp_path / "cache")
    only = "products.naive-breakdown,products.fold-rank"
    argv = ["verify", "--quick", "--only", only, "--resume", "--cache-dir", cache_dir, "--no-progress"]
    assert main(argv + ["--workers", "2"]) == 0
    capsys.readouterr()
    assert main(argv + ["--workers", "2"]) == 0
    assert "2 from the cache" in capsys.readouterr().out


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("DEGENERACY_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == str(tmp_path / "c")
    monkeypatch.delenv("DEGENERACY_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == str(tmp_path / "x" / "degeneracy")
    with pytest.raises(ValueError, match="key"):
        ResultCache(str(tmp_path)).path("../../etc")


def test_timings_order_the_work_longest_first_without_changing_results(tmp_path, monkeypatch):
    from degeneracy import execution as parallel

    c = ResultCache(str(tmp_path))
    ids = ["products.fold-rank", "products.naive-breakdown", "singularities.overlap"]
    claims = [registry.get_claim(i) for i in ids]
    first = run_claims(claims, "quick", 0, cache=c)
    assert set(c.timings("quick")) == set(ids)
    c.record_timings("quick", {"products.fold-rank": 1.0, "products.naive-breakdown": 3.0, "singularities.overlap": 2.0})
    order = []
    original = parallel.run_units

    def spy(units, **kw):
        order.extend(u.id for u in units)
        return original(units, **kw)

    monkeypatch.setattr(parallel, "run_units", spy)
    second = run_claims(claims, "quick", 0, cache=c)
    assert order == ["products.naive-breakdown", "singularities.overlap", "products.fold-rank"]
    assert [r.as_dict()["checks"] for r in first] == [r.as_dict()["checks"] for r in second]
    assert [r.id for r in second] == ids


def test_sigint_then_resume_in_a_real_process(tmp_path):
    """`verify --resume` interrupted by SIGINT (2 workers) stops promptly; the same command resumes."""
    import signal
    import subprocess
    import sys
    import time

    cache_dir = tmp_path / "cache"
    only = "products.fold-rank,products.lyapunov-fluctuations,products.lyapunov-real,products.second-moment-finite-n"
    cmd = [sys.executable, "-m", "degeneracy", "verify", "--quick", "--only", only, "--resume", "--cache-dir",
           str(cache_dir), "--workers", "2", "--no-progress", "--json", str(tmp_path / "r.json")]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    t0 = time.monotonic()
    entries = lambda: [n for _, _, fs in os.walk(cache_dir) for n in fs  # noqa: E731
                       if n.endswith(".entry") and not n.startswith(".")]
    while not entries() and proc.poll() is None and time.monotonic() - t0 < 60:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    t_int = time.monotonic()
    _, err = proc.communicate(timeout=60)
    stopped_after = time.monotonic() - t_int
    done_before = len(entries())
    if proc.returncode == 0:  # the run finished before the signal arrived: nothing to resume
        pytest.skip("the run finished before SIGINT")
    assert proc.returncode == 130 and "--resume" in err and stopped_after < 10
    assert 1 <= done_before < 4
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{done_before} from the cache" in res.stdout
    d = json.loads((tmp_path / "r.json").read_text())
    assert [c["id"] for c in d["claims"]] == sorted(only.split(","))
