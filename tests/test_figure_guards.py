"""Every registered figure passes the artist-tree guards at quick size; the guards fail on broken figures.

The guards (``degeneracy.figures.guards``) catch legends over data, data clipped without a marker,
unlabelled axes, histograms floored into a spike, overlapping or unreadable text. Each figure is
built once here (quick mode) and also written to PNG and SVG.

Image comparison: a few cheap figures are compared with the PNGs in ``tests/baseline_images`` by
``matplotlib.testing.compare.compare_images`` (RMS tolerance 2 on 0-255), so a change to a figure
shows up in review as a changed baseline. After an intended change, regenerate them with
``DEGENERACY_UPDATE_BASELINES=1 python -m pytest tests/test_figure_guards.py -k baseline`` and commit.
"""

from __future__ import annotations

import hashlib
import os
import pathlib

import numpy as np
import pytest

from degeneracy.figures.guards import histogram_heights, is_spike, problems
from degeneracy.figures.registry import FIGURES, build, load_all, render
from degeneracy.figures.style import mark_clipped, new_figure, save

load_all()

#: rebuilt by another helper (issue "iso"): its new version must pass these guards at merge
PENDING_REBUILD: set = set()
BASELINES = pathlib.Path(__file__).parent / "baseline_images"
BASELINE_FIGURES = ("products-naive-breakdown", "products-lyapunov", "singularities-critical-line")


@pytest.mark.parametrize("fig_id", sorted(FIGURES))
def test_figure_passes_the_guards(fig_id, tmp_path, request):
    if fig_id in PENDING_REBUILD:
        request.applymarker(pytest.mark.xfail(reason="being rebuilt in its own branch; guarded after the merge",
                                              strict=False))
    f = build(FIGURES[fig_id], seed=0, mode="quick")
    found = problems(f)
    paths = save(f, str(tmp_path / fig_id), ("png", "svg"))
    with open(paths[0], "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(paths[1]) > 0
    assert found == [], "\n".join(found)


def test_every_figure_has_a_caption_and_claims():
    from degeneracy.proofs.registry import CLAIMS
    from degeneracy.proofs.registry import load_all as load_claims

    load_claims()
    for fid, f in FIGURES.items():
        if fid in PENDING_REBUILD:
            continue
        assert len(f.caption) > 80, fid
        assert f.claims and all(c in CLAIMS for c in f.claims), fid


# ------------------------------------------------------------------ negative controls


def _line_figure():
    fig, ax = new_figure()
    x = np.linspace(0, 1, 200)
    ax.plot(x, 0.5 + 0.4 * np.sin(6 * x), label="data")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return fig, ax


def test_control_legend_over_data_fails():
    fig, ax = _line_figure()
    ax.legend(loc="center")
    assert any(p.startswith("legend over data") for p in problems(fig))


def test_control_legend_clear_of_data_passes():
    fig, ax = _line_figure()
    ax.set_ylim(0, 1.6)
    ax.legend(loc="upper right")
    assert problems(fig) == []


def test_control_floored_histogram_fails():
    # the pathologies-spectra defect: tiny values floored at 1e-12 and binned from -12
    x = 10.0 ** np.random.default_rng(0).normal(-10, 4, 4000)
    fig, ax = new_figure()
    ax.hist(np.log10(np.maximum(x, 1e-12)), bins=np.linspace(-12, 0, 61), histtype="step", density=True)
    ax.set_xlabel("log10 x")
    ax.set_ylabel("density")
    assert any(p.startswith("floored histogram") for p in problems(fig))


def test_control_honest_histogram_passes():
    x = np.random.default_rng(0).normal(-10, 4, 4000)
    fig, ax = new_figure()
    ax.hist(x, bins=np.linspace(x.min(), x.max(), 61), histtype="step", density=True)
    ax.set_xlabel("log10 x")
    ax.set_ylabel("density")
    assert problems(fig) == []


def test_control_clipped_data_fails_unless_marked():
    fig, ax = _line_figure()
    ax.set_ylim(0.3, 1.0)
    assert any(p.startswith("clipped data") for p in problems(fig))
    mark_clipped(ax, "values below 0.3 not shown")
    assert not any(p.startswith("clipped data") for p in problems(fig))


def test_control_nonpositive_on_log_axis_fails():
    fig, ax = new_figure()
    ax.errorbar([1, 2, 4], [1.0, 2.0, 3.0], yerr=[1.5, 0.1, 0.1], fmt="o")
    ax.set_yscale("log")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    assert any(p.startswith("clipped data") for p in problems(fig))


def test_control_unlabelled_axis_and_tiny_font_fail():
    fig, ax = new_figure(1, 1, width=16.0)
    ax.plot([0, 1], [0, 1])
    ax.tick_params(labelsize=6)
    found = problems(fig)
    assert any(p.startswith("unlabelled axis") for p in found)
    assert any(p.startswith("unreadable text") for p in found)


def test_control_overlapping_titles_fail():
    fig, axes = new_figure(2, 1, height=2.0)
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title("a long title\nover three\nlines", fontsize=14)
    fig.set_layout_engine(None)
    fig.subplots_adjust(hspace=0.05)
    assert any(p.startswith("overlapping text") for p in problems(fig))


def test_histogram_heights_of_bars_and_steps():
    fig, ax = new_figure()
    _, _, bars = ax.hist([0.1, 0.2, 0.6], bins=3, range=(0, 0.9))
    np.testing.assert_array_equal(histogram_heights(bars), [2, 0, 1])
    assert not is_spike([0, 1, 3, 7, 3, 1]) and is_spike([50, 0, 0, 1, 2, 1])


# ------------------------------------------------------------------ determinism and image comparison


def test_same_seed_same_bytes_in_every_format(tmp_path):
    fig = FIGURES["products-naive-breakdown"]
    digests = []
    for i in range(2):
        paths, _ = render(fig, out=str(tmp_path / str(i)), seed=3, mode="quick", formats=("png", "svg", "pdf"))
        digests.append([hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest() for p in paths])
    assert digests[0] == digests[1]


@pytest.mark.parametrize("fig_id", BASELINE_FIGURES)
def test_baseline_image(fig_id, tmp_path):
    from matplotlib.testing.compare import compare_images

    paths, _ = render(FIGURES[fig_id], out=str(tmp_path), seed=0, mode="quick", formats=("png",))
    expected = BASELINES / f"{fig_id}.png"
    if os.environ.get("DEGENERACY_UPDATE_BASELINES") == "1":
        BASELINES.mkdir(exist_ok=True)
        expected.write_bytes(pathlib.Path(paths[0]).read_bytes())
    assert expected.exists(), f"no baseline for {fig_id}: run with DEGENERACY_UPDATE_BASELINES=1"
    result = compare_images(str(expected), paths[0], tol=2.0)
    assert result is None, result


# ------------------------------------------------------------------ the accurate spectra of pathologies-spectra


def test_graded_deep_gp_spectra_match_mpmath():
    import mpmath as mp

    from degeneracy.numerics.pathologies import jacobian_log_singular_values

    mp.mp.dps = 60
    D, L, S = 5, 50, 3
    for connected in (False, True):
        got = jacobian_log_singular_values(D, [L], S, variance=1.0, connected=connected, rng=np.random.default_rng(7))[L]
        # replay the same draws in the same order: the first layer for the whole chunk, then one block per layer
        g = np.random.default_rng(7)
        A1 = g.standard_normal((S, D, D))
        Js = [mp.matrix(A1[k].tolist()) for k in range(S)]
        for _ in range(2, L + 1):
            A = g.standard_normal((S, D, 2 * D) if connected else (S, D, D))
            for k in range(S):
                Js[k] = mp.matrix(A[k, :, :D].tolist()) * Js[k] + (mp.matrix(A[k, :, D:].tolist()) if connected else 0)
        for k in range(S):
            ref = sorted((float(mp.log(x)) for x in mp.svd_r(Js[k], compute_uv=False)), reverse=True)
            np.testing.assert_allclose(got[k], ref, rtol=0, atol=1e-9)


def test_graded_deep_gp_spectra_match_the_explicit_svd_where_it_is_exact():
    from degeneracy.numerics.pathologies import jacobian_log_singular_values, jacobian_spectra

    for connected in (False, True):
        got = jacobian_log_singular_values(4, [3], 50, variance=1.0, connected=connected, rng=11)[3]
        ref = jacobian_spectra(4, [3], 50, variance=1.0, connected=connected, rng=11)[3]
        np.testing.assert_allclose(np.exp(got - got[:, :1]), ref, rtol=1e-9)
