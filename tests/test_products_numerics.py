"""The products numerics (factors, qr_engine, graded_svd, naive_products, product_eigenvalues,
spectral_summaries): the QR (Benettin) engine, stable singular values of products (vs mpmath),
naive breakdown, eigenvalues, degeneracy measures, orthogonal products, bad input."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import digamma, polygamma

from degeneracy.errors import DegeneracyError
from degeneracy.numerics import factors as FA
from degeneracy.numerics import graded_svd as GS
from degeneracy.numerics import naive_products as NP
from degeneracy.numerics import product_eigenvalues as EV
from degeneracy.numerics import qr_engine as QE
from degeneracy.numerics import spectral_summaries as SS
from degeneracy.numerics import strategies as dst
from degeneracy.numerics.ensembles import fold_gaussian, gaussian, haar

Z_MAX = 5.0
EPS = np.finfo(float).eps


def zscore(samples, theory):
    samples = np.asarray(samples, dtype=float).ravel()
    return float((samples.mean() - theory) / (samples.std(ddof=1) / np.sqrt(samples.size)))


def explicit_product(factors):
    Pm = factors[0]
    for W in factors[1:]:
        Pm = W @ Pm
    return Pm


def newman(n, field):
    """Exact exponents (descending) by the formulas of docs/formulas.md §1, via scipy.special."""
    i = np.arange(1, n + 1)
    if field == "real":
        return 0.5 * (np.log(2.0 / n) + digamma((n - i + 1) / 2.0))
    return 0.5 * (digamma(n - i + 1.0) - np.log(n))


def newman_var(n, field):
    i = np.arange(1, n + 1)
    if field == "real":
        return polygamma(1, (n - i + 1) / 2.0) / 4.0
    return polygamma(1, n - i + 1.0) / 4.0


# ------------------------------------------------------------------ QR engine: exact identities


@given(dst.well_conditioned_products(n=dst.sizes(max_size=6), depth=dst.depths(max_depth=12), field=dst.fields()))
def test_engine_equals_svd_of_explicit_product(W):
    """sum_{i<=k} sum_l log|R_l,ii| = (1/2) log det of the Gram matrix of P's first k columns;
    for k = n this is sum_i log sigma_i(P). Checked against svd/slogdet of the explicit product."""
    n = W.shape[-1]
    Pm = explicit_product(W)
    res = QE.benettin(W)
    cums = np.cumsum(res.log_r_sums[0])
    G = np.conj(Pm.T) @ Pm
    expected = np.array([0.5 * np.linalg.slogdet(G[:k, :k])[1] for k in range(1, n + 1)])
    scale = W.shape[0] * n * EPS * math.exp(8.0) * 10  # rounding scale of the explicit route
    np.testing.assert_allclose(cums, expected, atol=scale)
    s = np.linalg.svd(Pm, compute_uv=False)
    assert abs(cums[-1] - np.log(s).sum()) < scale
    # and the stable singular values agree with the explicit svd on these inputs
    np.testing.assert_allclose(GS.product_log_singular_values(W), np.log(s), atol=scale)


@given(dst.factor_stacks(n=dst.sizes(max_size=7), depth=dst.depths(max_depth=15), field=dst.fields(), replicas=3))
def test_lapack_and_batched_paths_agree(W):
    a = QE.benettin(W, method="lapack")
    b = QE.benettin(W, method="batched")
    c = QE.benettin(W, method="geqrf")
    assert a.method == "lapack" and b.method == "batched" and c.method == "geqrf"
    np.testing.assert_allclose(a.log_r_sums, b.log_r_sums, atol=1e-9 * W.shape[0])
    np.testing.assert_allclose(a.log_r_sums, c.log_r_sums, atol=1e-9 * W.shape[0])
    for method in ("lapack", "geqrf"):
        np.testing.assert_allclose(GS.product_log_singular_values(W, method=method),
                                   GS.product_log_singular_values(W, method="batched"), atol=1e-9 * W.shape[0])


@given(dst.factor_stacks(n=dst.sizes(max_size=6), depth=dst.depths(max_depth=10), field=dst.fields(), replicas=5),
       st.integers(1, 4), st.sampled_from(["lapack", "geqrf", "batched"]))
def test_log_sv_sums_invariant_under_batch_split(W, cut, method):
    whole = QE.benettin(W, method=method).log_r_sums
    parts = np.concatenate([QE.benettin(W[:, :cut], method=method).log_r_sums,
                            QE.benettin(W[:, cut:], method=method).log_r_sums])
    np.testing.assert_allclose(whole, parts, rtol=0, atol=1e-12 * W.shape[0])
    sv_whole = GS.product_log_singular_values(W, method=method)
    sv_parts = np.concatenate([GS.product_log_singular_values(W[:, :cut], method=method),
                               GS.product_log_singular_values(W[:, cut:], method=method)])
    np.testing.assert_allclose(sv_whole.sum(-1), sv_parts.sum(-1), atol=1e-11 * W.shape[0])


@pytest.mark.parametrize("field", ["real", "complex"])
@pytest.mark.parametrize("method", ["lapack", "geqrf", "batched"])
def test_sampler_stream_matches_explicit_factors(field, method):
    n, L, R = 5, 7, 3
    res = QE.lyapunov_qr(n, L, replicas=R, field=field, rng=42, method=method, checkpoints=[3, 7])
    W = gaussian(n, size=(L, R), field=field, rng=42)  # same stream, layer by layer
    np.testing.assert_allclose(res.log_r_sums, QE.benettin(W).log_r_sums, atol=1e-12)
    np.testing.assert_allclose(res.checkpoint_sums[0], QE.benettin(W[:3]).log_r_sums, atol=1e-12)
    np.testing.assert_array_equal(res.checkpoint_sums[1], res.log_r_sums)
    np.testing.assert_allclose(res.checkpoint_exponents()[0], res.checkpoint_sums[0] / 3)
    # the stable singular values see the same matrices too
    np.testing.assert_allclose(GS.sample_product_log_singular_values(n, L, replicas=R, field=field, rng=42, method=method),
                               GS.product_log_singular_values(W), atol=1e-11)


def test_benettin_does_not_modify_input_and_diagonal_case():
    W = gaussian(20, size=(4, 2), rng=1)
    W0 = W.copy()
    QE.benettin(W, method="lapack")
    GS.product_log_singular_values(W, method="lapack")
    np.testing.assert_array_equal(W, W0)
    D = np.stack([np.diag([3.0, 1.0, 0.5])] * 6)
    np.testing.assert_allclose(QE.benettin(D).exponents[0], np.log([3.0, 1.0, 0.5]), atol=1e-15)


# ------------------------------------------------------------------ QR engine: Gaussian laws


@pytest.mark.parametrize("field", ["real", "complex"])
def test_finite_depth_exponents_have_exact_newman_mean_and_variance(field):
    """For Gaussian factors the engine's R_l are i.i.d. (orthogonal invariance), so in index
    order the finite-depth exponents have mean mu_i and L*Var = psi'/4 exactly at any depth."""
    n, L, R = 4, 40, 600
    ex = QE.lyapunov_qr(n, L, replicas=R, field=field, rng=2024).exponents
    mu, lv = newman(n, field), newman_var(n, field)
    for i in range(n):
        assert abs(zscore(ex[:, i], mu[i])) < Z_MAX, i
        v = ex[:, i].var(ddof=1) * L
        se = v * math.sqrt(2.0 / (R - 1))  # normal-theory stderr of a sample variance
        assert abs(v - lv[i]) / se < Z_MAX, i
    # negative controls: a plausible off-by-one in the digamma argument, and the other field's
    # variance formula, are both detected
    i = np.arange(1, n + 1)
    if field == "real":
        wrong_mu = 0.5 * (np.log(2.0 / n) + digamma((n - i + 2) / 2.0))
        wrong_var = polygamma(1, n - i + 1.0) / 4.0
    else:
        wrong_mu = 0.5 * (digamma(n - i + 2.0) - np.log(n))
        wrong_var = polygamma(1, (n - i + 1) / 2.0) / 4.0
    assert max(abs(zscore(ex[:, j], wrong_mu[j])) for j in range(n)) > Z_MAX
    v0 = ex[:, -1].var(ddof=1) * L
    assert abs(v0 - wrong_var[-1]) / (v0 * math.sqrt(2.0 / (R - 1))) > Z_MAX


def test_orthogonal_ensemble_exponents_vanish():
    res = QE.lyapunov_qr(6, 50, replicas=2, ensemble="orthogonal", rng=0)
    assert np.abs(res.exponents).max() < 1e-13


def test_finite_at_depth_ten_thousand():
    res = QE.lyapunov_qr(3, 10_000, replicas=2, rng=5, checkpoints=[10, 1000, 10_000])
    assert np.all(np.isfinite(res.log_r_sums)) and np.all(np.isfinite(res.checkpoint_sums))
    ls = GS.sample_product_log_singular_values(3, 10_000, replicas=2, rng=5)
    assert np.all(np.isfinite(ls))
    assert np.all(np.diff(ls, axis=-1) <= 0)
    # log|det P| two ways: the engine's sum and the stable singular values (relative 1e-12)
    np.testing.assert_allclose(ls.sum(-1), res.log_abs_det, rtol=1e-12)
    # the exponents are near Newman's at this depth (L*Var = psi'/4: stderr ~ 0.01)
    assert np.abs(res.exponents - newman(3, "real")).max() < 0.06


# ------------------------------------------------------------------ stable singular values vs mpmath


def mp_log_sv(W, field):
    L = W.shape[0]
    mp.mp.dps = 40 + 2 * L  # > log10 of the dynamic range (<= 0.9 L here) plus guard digits
    conv = (lambda x: mp.mpf(float(x))) if field == "real" else (lambda x: mp.mpc(complex(x)))
    Pm = mp.eye(W.shape[-1])
    for l in range(L):
        Pm = mp.matrix([[conv(x) for x in row] for row in W[l]]) * Pm
    s = mp.svd_r(Pm, compute_uv=False) if field == "real" else mp.svd_c(Pm, compute_uv=False)
    return np.array(sorted((float(mp.log(x)) for x in s), reverse=True))


@pytest.mark.parametrize(
    "n, depth, field, seed",
    [(4, 50, "real", 0), (6, 30, "real", 1), (8, 50, "real", 2), (5, 40, "complex", 3), (8, 12, "complex", 4),
     (6, 3, "real", 5),
     (8, 150, "real", 6),  # dynamic range ~e^230: explicit graded SVD
     (3, 1000, "real", 7),  # range ~e^900 > e^600: QR sweeps, then blocks
     (3, 400, "complex", 8)],
)
def test_stable_singular_values_match_mpmath(n, depth, field, seed):
    W = gaussian(n, size=depth, field=field, rng=seed)
    exact = mp_log_sv(W, field)
    stable = GS.product_log_singular_values(W)
    np.testing.assert_allclose(stable, exact, rtol=0, atol=1e-10)
    if depth >= 30:
        # negative control: the naive product + svd is far off on the small ones
        naive = np.log(NP.naive_product_singular_values(W))
        assert np.abs(naive - exact).max() > 1e-2
        assert exact[0] - exact[-1] > -math.log(EPS)  # beyond the float64 range of svd(P)


def test_graded_sweeps_budget_raises_certification_error():
    from degeneracy.errors import CertificationError

    logd = np.array([0.0, -700.0, -1400.0])
    T = np.linalg.qr(np.arange(9.0).reshape(3, 3) + np.eye(3))[0]
    with pytest.raises(CertificationError, match="max_sweeps"):
        GS.graded_log_singular_values(logd, T, max_sweeps=0)
    assert np.all(np.isfinite(GS.graded_log_singular_values(logd, T)))


def test_graded_log_singular_values_beyond_float_range():
    # diag(e^2000, 1, e^-2000) times a rotation: the answer is exact, far outside float64
    Q = haar(3, rng=0)
    ls = GS.graded_log_singular_values(np.array([2000.0, 0.0, -2000.0]), Q)
    np.testing.assert_allclose(ls, [2000.0, 0.0, -2000.0], atol=1e-12)


def test_naive_breakdown_loses_what_the_dynamic_range_predicts():
    W = gaussian(16, size=(100, 2), rng=8)
    b = NP.naive_breakdown(W)
    gap = b.stable_log_sv[:, :1] - b.stable_log_sv  # log(sigma_1 / sigma_i)
    assert not b.lost[gap < 20].any()  # well inside the float64 range: kept
    assert b.lost[gap > 45].all()  # beyond -log(eps) ~ 36 plus rounding slack: lost
    assert b.lost.any() and (b.first_lost < 16).all()


# ------------------------------------------------------------------ Fuss–Catalan samples


def test_fuss_catalan_samples_mean_is_exactly_one():
    # E (1/N) tr P^T P = 1 for every N and L (variance-1/N entries)
    x = GS.fuss_catalan_samples(12, 4, replicas=400, rng=9)
    assert x.shape == (400, 12)
    assert abs(zscore(x.mean(axis=1), 1.0)) < Z_MAX
    assert abs(zscore(x.mean(axis=1), 1.15)) > Z_MAX  # negative control


def test_fuss_catalan_samples_stable_at_depth_100():
    lx = GS.fuss_catalan_samples(32, 100, replicas=2, rng=10, log=True)
    assert np.all(np.isfinite(lx))
    x = GS.fuss_catalan_samples(32, 100, replicas=2, rng=10)
    np.testing.assert_allclose(np.log(x[x > 0]), lx[x > 0], rtol=1e-12)
    # the product's smallest squared singular values are far below eps^2 (naive would floor there)
    assert lx[:, -1].max() < 2 * math.log(EPS) - 50


# ------------------------------------------------------------------ orthogonal products


@pytest.mark.parametrize("field", ["real", "complex"])
def test_orthogonal_products_are_isometric_at_depth_1000(field):
    d = NP.sample_isometry_defect(8, 1000, replicas=2, field=field, rng=11)
    assert d.max() < 1e-12  # rounding scale L sqrt(n) eps ~ 6e-13
    ls = GS.sample_product_log_singular_values(8, 1000, replicas=2, ensemble="orthogonal", field=field, rng=11)
    assert np.abs(ls).max() < 1e-12
    # negative control: Gaussian products are not isometric at all
    W = gaussian(8, size=20, field=field, rng=11)
    assert NP.isometry_defect(W)[0] > 0.5


@given(dst.factor_stacks(n=dst.sizes(max_size=6), depth=dst.depths(max_depth=30), field=dst.fields(), ensemble="orthogonal"))
def test_isometry_property(W):
    assert NP.isometry_defect(W)[0] < 50 * W.shape[0] * math.sqrt(W.shape[-1]) * EPS


# ------------------------------------------------------------------ eigenvalues


def test_product_eigenvalues_multiply_to_determinant():
    W = gaussian(6, size=(5, 3), field="complex", rng=12)
    ev = EV.product_eigenvalues(W)
    assert ev.shape == (3, 6)
    logdet = sum(np.linalg.slogdet(W[l])[1] for l in range(5))
    np.testing.assert_allclose(np.log(np.abs(ev)).sum(-1), logdet, atol=1e-10)
    ev2 = EV.sample_product_eigenvalues(6, 5, replicas=3, field="complex", rng=12)
    np.testing.assert_allclose(np.sort_complex(ev2[0]), np.sort_complex(ev[0]), atol=1e-10)


def test_origin_bin_fraction():
    z = np.array([[0.0, 0.05, 0.05j, 0.051, -0.04 - 0.04j, 1.0], [2.0] * 6])
    np.testing.assert_allclose(EV.origin_bin_fraction(z), [4 / 6, 0.0])
    np.testing.assert_allclose(EV.origin_bin_fraction(z, width=0.2), [5 / 6, 0.0])


# ------------------------------------------------------------------ degeneracy measures


@given(st.lists(st.floats(-30, 30), min_size=1, max_size=12))
def test_measures_log_domain_equals_direct(logs):
    ls = np.array(logs)
    s = np.exp(ls)
    np.testing.assert_allclose(SS.normalized_participation_ratio(ls, log=True), SS.normalized_participation_ratio(s), rtol=1e-10)
    np.testing.assert_allclose(SS.log_condition_number(ls, log=True), ls.max() - ls.min(), atol=1e-12)
    assert SS.fraction_below(ls, 1e-3, log=True) == SS.fraction_below(s, 1e-3)


def test_measures_known_values_and_batching():
    s = np.array([[1.0, 1.0, 1.0, 1.0], [2.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    np.testing.assert_allclose(SS.normalized_participation_ratio(s), [1.0, 0.25, 0.5])
    np.testing.assert_allclose(SS.fraction_below(s, 1e-6), [0.0, 0.75, 0.5])
    lc = SS.log_condition_number(s)
    assert lc[0] == 0 and np.isinf(lc[1])
    huge = np.array([1000.0, 999.0, -1000.0])  # log sv beyond float range
    assert 0 < SS.normalized_participation_ratio(huge, log=True) <= 1


def test_measures_detect_depth_degeneracy():
    ls = GS.sample_product_log_singular_values(64, 10, replicas=4, rng=13)
    ls1 = GS.sample_product_log_singular_values(64, 1, replicas=4, rng=13)
    assert np.all(SS.normalized_participation_ratio(ls, log=True) < SS.normalized_participation_ratio(ls1, log=True))
    assert np.all(SS.fraction_below(ls, 1e-4, log=True) > SS.fraction_below(ls1, 1e-4, log=True))


# ------------------------------------------------------------------ fold products through the engine


def test_fold_sampler_and_exactly_singular_products():
    s = FA.ensemble_sampler(8, "fold", k=2)
    res = QE.lyapunov_qr(8, 5, replicas=2, sampler=s, rng=0)
    # rank 2: only two exponents are O(1); the rest sit at the rounding floor
    assert np.all(res.exponents[:, :2] > -5) and np.all(res.exponents[:, 2:] < -20)
    with pytest.raises(DegeneracyError):
        GS.product_log_singular_values(np.zeros((3, 2, 2)))
    with pytest.raises(DegeneracyError, match="overflowed"):
        NP.naive_product_singular_values(np.stack([np.eye(2) * 1e200] * 3))
    with pytest.raises(DegeneracyError, match="overflowed"):
        EV.product_eigenvalues(np.stack([np.eye(2) * 1e200] * 3))
    F = fold_gaussian(4, 1, size=3, rng=1)
    assert np.linalg.matrix_rank(explicit_product(F)) == 2


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: QE.lyapunov_qr(0, 5), ValueError, "n must be a positive integer"),
        (lambda: QE.lyapunov_qr(3, 0), ValueError, "depth must be a positive integer"),
        (lambda: QE.lyapunov_qr(3, 2.5), TypeError, "depth must be"),
        (lambda: QE.lyapunov_qr(3, 5, replicas=0), ValueError, "replicas must be"),
        (lambda: QE.lyapunov_qr(3, 5, field="quaternion"), ValueError, "field must be one of"),
        (lambda: QE.lyapunov_qr(3, 5, ensemble="wishart"), ValueError, "ensemble must be one of"),
        (lambda: QE.lyapunov_qr(3, 5, ensemble="fold"), ValueError, "needs k"),
        (lambda: QE.lyapunov_qr(3, 5, method="fast"), ValueError, "method must be one of"),
        (lambda: QE.lyapunov_qr(3, 5, checkpoints=[6]), ValueError, "checkpoints"),
        (lambda: QE.lyapunov_qr(3, 5, checkpoints=[0]), ValueError, "checkpoints"),
        (lambda: QE.lyapunov_qr(3, 5, sampler="gaussian"), TypeError, "sampler must be callable"),
        (lambda: QE.lyapunov_qr(3, 5, sampler=lambda g, r: np.ones((r, 2, 2))), ValueError, "sampler must return shape"),
        (lambda: QE.lyapunov_qr(2, 5, sampler=lambda g, r: np.full((r, 2, 2), np.nan)), ValueError, "NaN"),
        (lambda: QE.benettin(np.ones((3, 3))), ValueError, "factors must have shape"),
        (lambda: QE.benettin(np.ones((2, 3, 4))), ValueError, "does not chain"),
        (lambda: QE.benettin(np.full((2, 3, 3), np.inf)), ValueError, "finite"),
        (lambda: QE.benettin(np.ones((0, 3, 3))), ValueError, "at least one"),
        (lambda: GS.product_log_singular_values([[["a"]]]), TypeError, "factors"),
        (lambda: FA.ensemble_sampler(6, "fold", k=2), ValueError, "divisible"),
        (lambda: FA.ensemble_sampler(6, "gaussian", k=1), ValueError, "only meaningful"),
        (lambda: GS.sample_product_log_singular_values(4, -1), ValueError, "depth must be"),
        (lambda: NP.naive_breakdown(np.ones((2, 2, 2)), rtol=0), ValueError, "rtol"),
        (lambda: EV.origin_bin_fraction([np.nan]), ValueError, "finite"),
        (lambda: EV.origin_bin_fraction([1.0], width=-1), ValueError, "width"),
        (lambda: SS.normalized_participation_ratio([-1.0, 1.0]), ValueError, "non-negative"),
        (lambda: SS.normalized_participation_ratio([np.nan], log=True), ValueError, "NaN"),
        (lambda: SS.fraction_below([1.0], 0.0), ValueError, "eps"),
        (lambda: NP.sample_isometry_defect(3, 0), ValueError, "depth must be"),
        (lambda: GS.graded_log_singular_values(np.zeros(3), np.eye(2)), ValueError, "T must have shape"),
        (lambda: QE.QRResult(np.zeros((1, 2)), 1, (), None, "lapack").checkpoint_exponents(), ValueError, "no checkpoints"),
    ],
)
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


# ------------------------------------------------------------------ convenience forms and bench schema


def test_sampled_forms_match_explicit_forms():
    a = GS.product_log_singular_values(5, 8, replicas=2, rng=3)
    b = GS.sample_product_log_singular_values(5, 8, replicas=2, rng=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(GS.log_singular_values_of(gaussian(5, size=(8, 2), rng=3)), a, atol=1e-11)
    e1 = EV.product_eigenvalues(4, 3, replicas=2, field="complex", rng=1)
    e2 = EV.sample_product_eigenvalues(4, 3, replicas=2, field="complex", rng=1)
    np.testing.assert_array_equal(e1, e2)
    np.testing.assert_array_equal(QE.finite_depth_exponents(4, 6, replicas=2, rng=2),
                                  QE.lyapunov_qr(4, 6, replicas=2, rng=2).exponents)
    with pytest.raises(TypeError, match="needs depth"):
        GS.product_log_singular_values(5)
    with pytest.raises(TypeError, match="only accepted with an int n"):
        GS.product_log_singular_values(gaussian(3, size=2, rng=0), replicas=2)


def test_bench_quick_schema_without_timing_assertions():
    from degeneracy import bench

    r = bench.run_bench(quick=True)
    assert set(r) == {"matmul_gflops", "kernels", "threads"}
    assert r["threads"] == 1
    names = {(k["name"], k["n"]) for k in r["kernels"]}
    assert {("qr-engine", 32), ("qr-engine-geqrf", 32), ("qr-engine-batched", 8)} <= names
    for k in r["kernels"]:
        fields = ["seconds_per_step", "gflops", "ratio_to_matmul", "ratio_to_matched"]
        fields += ["speedup_vs_single"] if k["name"] == "qr-engine-batched" else ["speedup_vs_numpy_qr", "draw_seconds",
                                                                               "ratio_with_draw"]
        assert all(math.isfinite(k[f]) and k[f] > 0 for f in fields)
        assert k["lapack"] == bench.LAPACK_ROUTINES[k["name"]]
    assert "matmul ceiling" in bench.format_table(r)
    assert bench.check_floors(r) == []  # no N = 256 or 1024 kernel in quick mode
