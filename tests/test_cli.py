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
    (["show", "products.nope"], "unknown claim id"),
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
