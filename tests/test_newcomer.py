"""Regression tests for what a newcomer's run of the README broke (bad inputs, odd output paths).

Each test names the command or call that misbehaved before its fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

FAST_CLAIM = "products.fold-rank"


def cli(*argv, timeout=600):
    """``python -m degeneracy ARGV`` in a fresh process, stdout and stderr pipes."""
    return subprocess.run([sys.executable, "-m", "degeneracy", *argv], capture_output=True, text=True,
                          timeout=timeout)


def one_line_usage_error(proc, fragment):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("degeneracy: error:"), proc.stderr
    assert "Traceback" not in proc.stderr and fragment in proc.stderr, proc.stderr
    assert proc.stdout == ""


# ---------------------------------------------------------------- the command line

@pytest.mark.parametrize("option", ["--json", "--markdown"])
def test_a_report_path_that_is_a_pipe_or_device_is_refused_before_any_work(tmp_path, option):
    """`verify --json /dev/null` renamed the report over /dev/null: run as root, /dev/null became a
    regular file for every process of the machine. A FIFO stands in for the device here (safe to
    make in a test); the check is the same (exists and is not a regular file)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    one_line_usage_error(cli("verify", "--quick", "--only", FAST_CLAIM, option, str(fifo)),
                         "is not a regular file")
    assert not os.path.isfile(fifo) and os.path.exists(fifo)  # still a FIFO


def test_bench_and_calibrate_refuse_a_special_file_too(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    one_line_usage_error(cli("bench", "--quick", "--json", str(fifo)), "is not a regular file")
    one_line_usage_error(cli("calibrate", "--seeds", "1", "--only", FAST_CLAIM, "--json", str(fifo)),
                         "is not a regular file")


def test_a_report_path_that_is_a_symbolic_link_updates_its_target(tmp_path):
    """The atomic write replaced the link by a regular file, leaving the target stale."""
    target = tmp_path / "reports" / "r.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    proc = cli("verify", "--quick", "--only", FAST_CLAIM, "--json", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert json.loads(target.read_text())["claims"][0]["id"] == FAST_CLAIM


def test_a_closed_pipe_stops_the_output_without_a_traceback():
    """`degeneracy list | head` printed a BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "degeneracy", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0)
    proc.stdout.read(10)
    proc.stdout.close()  # the reader goes away while the command still prints
    _, err = proc.communicate(timeout=300)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode in (0, 141)
