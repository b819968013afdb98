"""Regression tests for what a newcomer's run of the README broke (bad inputs, odd output paths).

Each test names the command or call that misbehaved before its fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
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


# ---------------------------------------------------------------- the API: bad input raises, nothing is NaN or 0.0 silently

def test_an_open_infinite_end_is_written_as_open():
    """`marchenko_pastur(0)` said "ratio must be in (0.0, inf]", though inf is refused."""
    from degeneracy import ArgumentValueError, critical_point, marchenko_pastur

    with pytest.raises(ArgumentValueError, match=r"ratio must be in \(0\.0, inf\), got 0"):
        marchenko_pastur(0)
    with pytest.raises(ArgumentValueError, match=r"q_star must be in \(0\.0, inf\)"):
        critical_point("tanh", -1.0)


@pytest.mark.parametrize("make", [
    lambda: __import__("degeneracy").fuss_catalan(3),          # expect returned 0.0
    lambda: __import__("degeneracy").marchenko_pastur(4),      # an atom at 0
    lambda: __import__("degeneracy").jacobian_spectrum("relu", 2, weights="gaussian", sigma_w2=2.0,
                                                       sigma_b2=0.0),  # expect returned nan
])
def test_expect_of_a_function_undefined_on_the_support_raises(make):
    from degeneracy import NumericalFailure

    law = make()
    with pytest.raises(NumericalFailure, match="NaN"):
        with np.errstate(invalid="ignore"):
            law.expect(lambda x: np.sqrt(x - 0.5))  # NaN below 0.5, where every one of these laws has mass
    with pytest.raises(NumericalFailure, match="NaN"):
        law.expect(lambda x: float("nan"))


def test_expect_still_integrates_functions_that_are_nan_only_where_x_underflows():
    """In log space ``func`` sees x = 0.0 where exp(t) underflows: x log x is NaN there, harmlessly."""
    from degeneracy import fuss_catalan

    law = fuss_catalan(1)  # Marchenko-Pastur ratio 1: E[X log X] = 1/2 (exact)
    assert law.expect(lambda x: x * np.log(x)) == pytest.approx(0.5, rel=1e-9)


def test_jacobian_moments_that_underflow_raise_instead_of_returning_zero():
    """`jacobian_moments("tanh", 10**9, ...)` returned (0.0, 0.0); at depth 10**4 a variance of 0.0."""
    import math

    from degeneracy import NumericalFailure, jacobian_moments

    kw = dict(weights="gaussian", sigma_w2=1.5, sigma_b2=0.05)
    with pytest.raises(NumericalFailure, match="underflow.*log=True"):
        jacobian_moments("tanh", 10**4, **kw)
    with pytest.raises(NumericalFailure, match="underflow"):
        jacobian_moments("tanh", 10**9, weights="gaussian", sigma_w2=1.0, sigma_b2=0.05)
    log_mean, log_var = jacobian_moments("tanh", 10**4, log=True, **kw)
    assert math.isfinite(log_mean) and math.isfinite(log_var) and log_var < 2 * log_mean + 20
    # an exactly zero variance (orthogonal linear network) is not an underflow
    assert jacobian_moments("linear", 3, weights="orthogonal", sigma_w2=1.0, sigma_b2=0.0) == (1.0, 0.0)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("q0", [-1.0, float("nan"), "1"])
def test_a_bad_q0_is_refused_even_where_it_is_not_needed(activation, q0):
    """q0 only matters at marginal points; elsewhere a negative or NaN q0 was ignored silently."""
    from degeneracy import DegeneracyError, jacobian_moments

    with pytest.raises(DegeneracyError, match="q0"):
        jacobian_moments(activation, 3, weights="gaussian", sigma_w2=1.0 if activation == "tanh" else 2.0,
                         sigma_b2=0.05 if activation == "tanh" else 0.0, q0=q0)


def test_overflowing_scales_raise_numerical_failure_not_overflow_error():
    """`jacobian_spectrum(..., sigma_w2=1e300)` and `marchenko_pastur(1, 1e308).var()` raised a bare OverflowError."""
    from degeneracy import NumericalFailure, jacobian_spectrum, marchenko_pastur

    with pytest.raises(NumericalFailure, match="overflows"):
        jacobian_spectrum("relu", 3, weights="gaussian", sigma_w2=1e300, sigma_b2=0.0)
    with pytest.raises(NumericalFailure, match="overflows"):
        marchenko_pastur(1, 1e308).var()


@pytest.mark.parametrize("const, error", [(0, "ArgumentValueError"), (-1, "ArgumentValueError"),
                                          (float("nan"), "ArgumentValueError"), ("a", "ArgumentTypeError"),
                                          (True, "ArgumentTypeError")])
def test_stransform_constant_is_checked(const, error):
    """`STransform(0).law()` raised `ValueError: math domain error`; `STransform("a")` was accepted."""
    import degeneracy

    with pytest.raises(getattr(degeneracy, error), match="const"):
        degeneracy.STransform(const)
    assert degeneracy.STransform(2).law().mean() == pytest.approx(0.5)


# ---------------------------------------------------------------- huge arguments fail at once, naming themselves

@pytest.mark.parametrize("call, fragment", [
    (lambda d: d.lyapunov_qr(4, 10**9), "depth = 1000000000"),                       # ran for hours
    (lambda d: d.product_log_singular_values(4, 10**9), "depth = 1000000000"),        # ran for hours
    (lambda d: d.lyapunov_qr(10**9, 10), "n = 1000000000"),                           # MemoryError
    (lambda d: d.lyapunov_qr(4, 10, replicas=10**9), "replicas = 1000000000"),        # MemoryError
    (lambda d: d.product_log_singular_values(10**9, 4), "n = 1000000000"),            # MemoryError
    (lambda d: d.lyapunov_exponents(10**9), "n = 1000000000"),                        # 24 GB, minutes
    (lambda d: d.lyapunov_variances(10**9), "n = 1000000000"),
    (lambda d: d.fuss_catalan(3).rvs(10**12), "size = 1000000000000"),                 # MemoryError
    (lambda d: d.marchenko_pastur(2).rvs((10**6, 10**6)), "size = (1000000, 1000000)"),
])
def test_huge_sizes_and_depths_are_refused_before_any_work(call, fragment):
    import signal

    import degeneracy

    def hang(*_):
        raise AssertionError("still running after 60 s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    try:
        with pytest.raises(degeneracy.ArgumentValueError, match="memory|floating-point operations") as info:
            call(degeneracy)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert fragment in str(info.value)


def test_the_work_limit_can_be_lifted_and_ordinary_sizes_pass(monkeypatch):
    import degeneracy
    from degeneracy import validation

    assert degeneracy.lyapunov_qr(4, 1000, replicas=3, rng=0).exponents.shape == (3, 4)
    assert degeneracy.fuss_catalan(2).rvs((3, 4), rng=0).shape == (3, 4)
    monkeypatch.setattr(validation, "MAX_WORK", 1e3)
    with pytest.raises(degeneracy.ArgumentValueError, match="MAX_WORK"):
        degeneracy.lyapunov_qr(4, 1000, rng=0)


# ---------------------------------------------------------------- figures: a note must not cover the data

def test_the_guards_catch_a_note_over_the_data_and_accept_one_beside_it():
    """`isometry-fold-spectra` wrote "x% of values below the axis" over its histogram and curve, and
    `fold-gauss-newton-spectrum` its floor note over the floored Fold 2 lines: no guard saw it."""
    import matplotlib.pyplot as plt

    from degeneracy.figures.guards import problems
    from degeneracy.figures.style import mark_clipped, new_figure

    def figure(y):
        fig, ax = new_figure()
        x = np.linspace(0.0, 1.0, 200)
        ax.plot(x, 0.2 + 0.6 * x, label="data")
        ax.set_ylim(0, 1)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        mark_clipped(ax, "3% of values below the axis", x=0.5, y=y, ha="center", va="center")
        return fig

    bad, good = figure(0.5), figure(0.9)  # on the line / far above it
    found = problems(bad)
    assert any(p.startswith("text over data") for p in found), found
    assert problems(good) == []
    plt.close(bad)
    plt.close(good)


def test_numeric_moments_that_overflow_raise_instead_of_returning_nan():
    """`STransform.wishart() ** 3` `.numeric_moments(1000)` ran 80 s and returned NaN from moment 315 on."""
    from degeneracy import ArgumentValueError, NumericalFailure, STransform

    S = STransform.wishart() ** 3  # Fuss-Catalan: m_k = binom(4k, k) / (3k + 1), m_315 ~ 1e308
    m = S.numeric_moments(314)
    assert np.all(np.isfinite(m)) and m[2] == pytest.approx(22.0)
    with pytest.raises(NumericalFailure, match="moment 315"):
        S.numeric_moments(400)
    with pytest.raises(ArgumentValueError, match="order 1000000"):
        S.numeric_moments(10**6)  # ran for hours
    with pytest.raises(ArgumentValueError, match="order 1000000"):
        S.moments(10**6)          # sympy: never ends


@pytest.mark.parametrize("call, fragment", [
    (lambda: __import__("degeneracy.theory.meanfield", fromlist=["x"]).q_trajectory("tanh", 1.0, 10**9, 1.0, 0.05),
     "depth = 1000000000"),
    (lambda: __import__("degeneracy.theory.meanfield", fromlist=["x"]).correlation_trajectory(
        "tanh", 0.5, 10**9, 1.0, 0.05), "depth = 1000000000"),
    (lambda: __import__("degeneracy.theory.product_eigenvalues", fromlist=["x"]).finite_n_eigenvalue_law(10**9, 2),
     "n = 1000000000"),
])
def test_theory_trajectories_and_finite_n_laws_refuse_huge_arguments_at_once(call, fragment):
    """These ran for hours (a Gaussian quadrature per layer) or allocated 8 GB per evaluation."""
    from degeneracy import ArgumentValueError

    with pytest.raises(ArgumentValueError, match="memory|floating-point operations") as info:
        call()
    assert fragment in str(info.value)


def test_the_gallery_needs_the_png_it_shows(tmp_path):
    """`figures --html --format pdf,svg` rendered, then wrote a gallery.html whose images (PNG) were never written."""
    proc = cli("figures", "--quick", "--only", "products-lyapunov", "--format", "pdf,svg", "--html",
               "--out", str(tmp_path / "g"))
    one_line_usage_error(proc, "include png in --format")
    assert not (tmp_path / "g" / "products-lyapunov.pdf").exists()


def test_the_papers_sizes_pass_the_size_guards():
    """The guards refuse absurd arguments, not the --full claims (products.lyapunov-real at n = 1024,
    depth 250, 400 replicas: hours, 7 GB), nor a deep call of depth 10**8."""
    from degeneracy.numerics.factors import _check_size
    from degeneracy.proofs.registry import CLAIMS, load_all

    load_all()
    s = CLAIMS["products.lyapunov-real"].settings_for("full")
    for n in s["n"]:
        _check_size((n,), s["depth"], s["replicas"] * max(1, min(16, 64 // n)), "real")
    s = CLAIMS["products.lyapunov-complex"].settings_for("full")
    for n in s["n"]:
        _check_size((n,), s["depth"], s["replicas"] * max(1, min(16, 64 // n)), "complex")
    _check_size((4,), 10**8, 1, "real")


# ---- lead: the leftovers of the newcomer's report in files owned elsewhere


def test_write_atomic_refuses_special_files_and_follows_links(tmp_path):
    import os

    from degeneracy.errors import ArgumentValueError
    from degeneracy.proofs.report import write_atomic

    with pytest.raises(ArgumentValueError, match="not a regular file"):
        write_atomic("/dev/null", "x")
    with pytest.raises(ArgumentValueError, match="not a regular file"):
        write_atomic(str(tmp_path), "x")
    target = tmp_path / "target.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    os.symlink(target, link)
    write_atomic(str(link), "new")
    assert os.path.islink(link) and target.read_text() == "new"


def test_run_claim_and_run_claims_validate_their_claims_argument():
    from degeneracy.errors import ArgumentTypeError, ArgumentValueError
    from degeneracy.execution import run_claims
    from degeneracy.proofs.runner import run_claim

    with pytest.raises(ArgumentTypeError, match="claim must be"):
        run_claim(3)
    with pytest.raises(ArgumentTypeError, match="claims must be"):
        run_claims(None)
    with pytest.raises(ArgumentTypeError, match="claims must hold"):
        run_claims([3])
    with pytest.raises(ArgumentValueError, match="unknown claim id"):
        run_claims(["nosuch"])
    with pytest.raises(ArgumentValueError):
        run_claims("nosuch.*")
    assert [r.verdict for r in run_claims("products.fold-rank")] == ["pass"]
    assert [r.verdict for r in run_claims(["products.fold-rank"])] == ["pass"]


def test_dir_of_the_package_lists_the_public_api_only():
    import degeneracy

    names = dir(degeneracy)
    assert "fuss_catalan" in names and "run_claims" in names and "__version__" in names
    assert not {"Any", "TYPE_CHECKING", "annotations", "importlib"} & set(names)
