"""The command line: subcommands, exit codes, one-line usage errors, the JSON report."""

import json
import subprocess
import sys

import pytest

from degeneracy.cli import main
from degeneracy.proofs.registry import CERTIFICATES, CLAIMS, load_all

load_all()

FAST_CLAIM = "products.fold-rank"


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_every_claim_and_certificate(capsys):
    code, out, _ = run(["list"], capsys)
    assert code == 0
    for cid in CLAIMS:
        assert cid in out
    for pid in CERTIFICATES:
        assert pid in out


def test_verify_writes_the_json_schema(tmp_path, capsys):
    path = tmp_path / "report.json"
    md = tmp_path / "report.md"
    code, out, _ = run(["verify", "--quick", "--only", FAST_CLAIM, "--seed", "3", "--json", str(path),
                        "--markdown", str(md), "--no-progress"], capsys)
    assert code == 0, out
    d = json.loads(path.read_text())
    assert d["tool"] == "degeneracy" and d["seed"] == 3 and d["mode"] == "quick" and d["alpha"] == 0.001
    (c,) = d["claims"]
    assert c["id"] == FAST_CLAIM and c["verdict"] == "pass"
    assert set(c) >= {"id", "title", "kind", "source", "verdict", "seconds", "checks"}
    for ch in c["checks"]:
        assert set(ch) >= {"name", "type", "theory", "estimate", "stderr", "z", "threshold", "resolution", "passed"}
    assert FAST_CLAIM in out and "1 claims: 1 pass" in out
    assert FAST_CLAIM in md.read_text()


def test_same_seed_same_report(tmp_path, capsys):
    reports = []
    for i in range(2):
        path = tmp_path / f"r{i}.json"
        run(["verify", "--quick", "--only", "products.lyapunov-real", "--json", str(path), "--no-progress"], capsys)
        d = json.loads(path.read_text())
        d.pop("work")  # the run's unit wall times, like each claim's seconds
        for c in d["claims"]:
            c.pop("seconds")
        reports.append(d)
    assert reports[0] == reports[1]


@pytest.mark.parametrize("argv, fragment", [
    (["verify", "--seed", "-1"], "--seed must be a non-negative integer"),
    (["verify", "--seed", "x"], "--seed must be a non-negative integer"),
    (["verify", "--workers", "0"], "--workers must be a positive integer"),
    (["verify", "--alpha", "2"], "--alpha must be a number in (0, 1)"),
    (["verify", "--quick", "--full"], "not allowed with argument"),
    (["verify", "--only", "no.such.claim*"], "matches no id"),
    (["show", "products.nope"], "unknown id"),
    (["prove", "--only", "zzz*"], "matches no id"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_usage_is_one_line_and_exit_2(argv, fragment, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("degeneracy: error:")
    assert fragment in err


def test_show_prints_statement_source_and_settings(capsys):
    code, out, _ = run(["show", "products.lyapunov-real"], capsys)
    assert code == 0
    assert "Newman" in out and "setting" in out and "quick" in out


def test_prove_runs_certificates(capsys):
    code, out, _ = run(["prove", "--only", "products.orthogonal-product-exact"], capsys)
    assert code == 0 and "holds" in out and "1 of 1 certificates hold" in out


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "degeneracy", "verify", "--only", "x*"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_readme_tables_are_current():
    from degeneracy import readme

    with open(readme.README, encoding="utf-8") as fh:
        text = fh.read()
    assert readme.render(text) == text, "README is stale: run `python -m degeneracy.readme`"


def test_interrupted_verify_keeps_finished_claims(tmp_path, capsys):
    from degeneracy.numerics import stats
    from degeneracy.proofs import registry

    @registry.claim("toy.a-first", title="passes", source="test", kind="finite-n")
    def _first(ctx):
        yield stats.mean_check("m", 1.0 + ctx.rng.standard_normal(50), 1.0)

    @registry.claim("toy.b-interrupted", title="interrupted", source="test", kind="finite-n")
    def _second(ctx):
        raise KeyboardInterrupt
        yield  # pragma: no cover

    try:
        path = tmp_path / "r.json"
        code, _, err = run(["verify", "--only", "toy.*", "--json", str(path), "--no-progress"], capsys)
        assert code == 130 and "interrupted" in err
        d = json.loads(path.read_text())
        assert [c["id"] for c in d["claims"]] == ["toy.a-first"]
    finally:
        registry.CLAIMS.pop("toy.a-first", None)
        registry.CLAIMS.pop("toy.b-interrupted", None)


def test_readme_examples_run():
    """The README's Python examples are doctests."""
    import doctest

    from degeneracy import readme

    with open(readme.README, encoding="utf-8") as fh:
        text = fh.read()
    text = "\n".join("" if line.startswith("```") else line for line in text.splitlines())  # code fences
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, "README.md", readme.README, 0)
    assert test.examples, "README has no examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0


# ---------------------------------------------------------------- issue 15: the command line, through subprocess

def cli(*argv, umask=None, timeout=600):
    """Run ``python -m degeneracy ARGV`` in a fresh process (stdout and stderr are pipes, not terminals)."""
    import os

    pre = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([sys.executable, "-m", "degeneracy", *argv], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=pre)


def one_line_usage_error(proc, fragment):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("degeneracy: error:"), proc.stderr
    assert "Traceback" not in proc.stderr and fragment in proc.stderr, proc.stderr
    assert proc.stdout == ""  # no work was done: nothing was printed


@pytest.mark.parametrize("argv, fragment", [
    (["verify", "--quick", "--only", FAST_CLAIM, "--json", "/proc/r.json"], "--json '/proc/r.json' cannot be written"),
    (["verify", "--quick", "--only", FAST_CLAIM, "--json", "."], "is a directory"),
    (["verify", "--quick", "--only", FAST_CLAIM, "--markdown", "/proc/m.md"], "--markdown '/proc/m.md' cannot be"),
    (["verify", "--quick", "--only", FAST_CLAIM, "--resume", "--cache-dir", "/dev/null/cache"], "--cache-dir"),
    (["figures", "--quick", "--only", "products-lyapunov", "--out", "/dev/null/figs"], "--out '/dev/null/figs'"),
    (["bench", "--quick", "--json", "/proc/b.json"], "--json '/proc/b.json' cannot be written"),
    (["calibrate", "--seeds", "2", "--only", FAST_CLAIM, "--json", "/proc/c.json"], "--json '/proc/c.json'"),
    (["verify", "--only", ""], "--only needs a glob"),
    (["verify", "--only", ","], "--only needs a glob"),
    (["figures", "--only", ""], "--only needs a glob"),
    (["calibrate", "--seeds", "0"], "--seeds must be a positive integer"),
    (["show", "products.lyapunov-reel"], "did you mean products.lyapunov-real"),
])
def test_bad_output_paths_and_patterns_fail_before_any_work(argv, fragment):
    one_line_usage_error(cli(*argv), fragment)


def test_show_accepts_certificate_and_figure_ids_and_suggests_the_closest():
    proc = cli("show", "products.second-moment-recursion")
    assert proc.returncode == 0 and "(certificate)" in proc.stdout
    proc = cli("show", "fold-learning-curves")
    assert proc.returncode == 0 and "(figure)" in proc.stdout and "fold.fold0-plateau" in proc.stdout
    proc = cli("show", "fold-learning-curve")  # a figure id with a typo: the figure comes first
    assert proc.returncode == 2 and "did you mean fold-learning-curves" in proc.stderr


def test_verify_without_a_terminal_prints_a_line_per_claim_says_what_ran_and_writes_with_the_umask(tmp_path):
    import os
    import stat

    path = tmp_path / "r.json"
    proc = cli("verify", "--quick", "--only", f"{FAST_CLAIM},products.naive-breakdown", "--workers", "1000",
               "--json", str(path), umask=0o022)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("[")]
    assert len(lines) == 2 and lines[-1].startswith("[2/2]")
    # what actually ran: 2 processes for 2 claims, not 1000
    assert "2 worker processes (--workers 1000 capped at the 2 work units to run" in proc.stdout
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_a_report_that_cannot_be_written_at_the_end_still_prints_the_table(tmp_path, capsys, monkeypatch):
    from degeneracy.proofs import report as rep

    real = rep.write_atomic

    def refuse(path, data):
        if str(path).endswith(".md"):
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(rep, "write_atomic", refuse)
    code, out, err = run(["verify", "--quick", "--only", FAST_CLAIM, "--json", str(tmp_path / "r.json"),
                          "--markdown", str(tmp_path / "r.md"), "--no-progress"], capsys)
    assert code == 1
    assert FAST_CLAIM in out and "1 claims: 1 pass" in out  # the work is not lost
    bad = [ln for ln in err.splitlines() if ln.startswith("degeneracy:")]
    assert bad == [f"degeneracy: could not write --markdown '{tmp_path / 'r.md'}' (No space left on device); "
                   "the results are printed above"]
    assert json.loads((tmp_path / "r.json").read_text())["claims"][0]["verdict"] == "pass"


@pytest.fixture
def report_toys():
    from degeneracy.numerics import stats
    from degeneracy.proofs import registry

    @registry.claim("toy.many-failures", title="seven wrong predictions", source="test", kind="finite-n")
    def _many(ctx):
        for i in range(7):
            yield stats.mean_check(f"m{i}", 1.0 + 0.01 * ctx.rng.standard_normal(50), 2.0)

    @registry.claim("toy.shared-empirical", title="a shared experiment", source="test", kind="empirical")
    def _shared(ctx):
        ctx.share("a toy experiment")
        ctx.note("a note for the reader")
        yield stats.difference_check("a < b", ctx.rng.normal(0, 1, 40), ctx.rng.normal(3, 1, 40), "less")
        yield stats.difference_check("c > d", ctx.rng.normal(0, 1, 40), ctx.rng.normal(0, 1, 40), "greater")

    yield ["toy.many-failures", "toy.shared-empirical"]
    for cid in ("toy.many-failures", "toy.shared-empirical"):
        registry.CLAIMS.pop(cid, None)


def test_reports_use_the_same_words_everywhere(tmp_path, capsys, report_toys):
    path, md = tmp_path / "r.json", tmp_path / "r.md"
    code, out, _ = run(["verify", "--only", "toy.*", "--json", str(path), "--markdown", str(md), "--no-progress"],
                       capsys)
    assert code == 1  # a finite-n claim failed
    d = json.loads(path.read_text())
    verdicts = {c["id"]: c["verdict"] for c in d["claims"]}
    assert verdicts == {"toy.many-failures": "fail", "toy.shared-empirical": "inconclusive"}
    assert d["summary"] == {"fail": 1, "inconclusive": 1}
    assert "2 claims: 1 fail, 1 inconclusive;" in out
    table_rows = {ln.split()[0]: ln.split()[2] for ln in out.splitlines() if ln.startswith("toy.")}
    assert table_rows == verdicts
    text = md.read_text()
    assert "| `toy.many-failures` | finite-n | fail |" in text and "| `toy.shared-empirical` | empirical | inconclusive" \
        in text and "1 fail, 1 inconclusive" in text
    assert "not reproduced" not in out + text


def test_table_columns_json_fields_and_and_n_more(tmp_path, capsys, report_toys):
    path = tmp_path / "r.json"
    code, out, _ = run(["verify", "--only", "toy.*", "--json", str(path), "--no-progress"], capsys)
    header = out.splitlines()[0].split()
    assert header == ["claim", "kind", "verdict", "checks", "|z|/thr", "resolution", "runs", "seconds"]
    assert "inf" not in out
    assert "toy.many-failures: and 2 more failed checks" in out
    shared_row = next(ln for ln in out.splitlines() if ln.startswith("toy.shared-empirical"))
    assert shared_row.endswith("shared") and "(shared: the claim reads an experiment shared" in out
    d = json.loads(path.read_text())
    many, shared = d["claims"]
    assert shared["shared"] == "a toy experiment" and shared["notes"] == ["a note for the reader"]
    assert many["notes"] == [] and many["summary"] == "7 of 7 checks failed"
    for c in d["claims"]:
        for ch in c["checks"]:
            assert ch["type"] in ("agreement", "bound", "effect", "exact", "proof", "tolerance")
            # the sign of z is the sign of estimate - theory, for every rule
            assert (ch["z"] > 0) == (ch["estimate"] > ch["theory"])
    outcomes = {ch["name"]: ch["outcome"] for ch in shared["checks"]}
    assert outcomes == {"a < b": "supported", "c > d": "inconclusive"}
    assert all({"ci", "detectable", "direction", "runs"} <= set(ch) for ch in shared["checks"])


def test_readme_documents_every_column_and_exit_code():
    from degeneracy import readme

    with open(readme.README, encoding="utf-8") as fh:
        text = fh.read().replace("\\|", "|")  # pipes are escaped inside the Markdown table
    for column in ("`claim`", "`kind`", "`verdict`", "`checks`", "`|z|/thr`", "`resolution`", "`runs`", "`seconds`"):
        assert column in text, column
    for word in ("supported", "contradicted", "inconclusive", "--strict", "calibrate"):
        assert word in text
    assert "Exit codes" in text
