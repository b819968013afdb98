"""The QR engine with k-column frames, rectangular factors, lists and generators (issue 14, section 1).

Expected values come from routes independent of the engine: Gram determinants of the explicitly
multiplied product (numpy slogdet), and the Bartlett decomposition of Gaussian matrices evaluated
with mpmath's digamma/trigamma.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from degeneracy.numerics import factors as FA
from degeneracy.numerics import graded_svd as GS
from degeneracy.numerics import naive_products as NP
from degeneracy.numerics import qr_engine as QE
from degeneracy.numerics.ensembles import gaussian
from degeneracy.numerics.rng import as_generator

METHODS = ("lapack", "geqrf", "batched")


def explicit(factors):
    P = factors[0]
    for W in factors[1:]:
        P = W @ P
    return P


def gram_volumes(P, k):
    """(1/2) log det of the Gram matrix of the first j columns of P, j = 1..k (slogdet route)."""
    G = np.conj(P.T) @ P
    return np.array([0.5 * np.linalg.slogdet(G[:j, :j])[1] for j in range(1, k + 1)])


def chain(widths, rng, field="real", scale=1.0):
    g = np.random.default_rng(rng)
    out = []
    for a, b in zip(widths[:-1], widths[1:]):
        W = g.standard_normal((b, a)) / math.sqrt(a)
        if field == "complex":
            W = W + 1j * g.standard_normal((b, a)) / math.sqrt(a)
        out.append(scale * W)
    return out


def rect_mean(widths, i, field="real", slip=False):
    """Exact mean of exponent i (1-based, engine order) for Gaussian factors with fan-in variance,
    by the Bartlett decomposition, with mpmath (independent of scipy and of the toolkit).
    ``slip=True``: the plausible mistake of counting the input width N_(l-1) in the digamma."""
    L = len(widths) - 1
    total = mp.mpf(0)
    for l in range(1, L + 1):
        n_in, n_out = widths[l - 1], (widths[l - 1] if slip else widths[l])
        if field == "real":  # n_in R_ii^2 ~ chi^2_{n_out - i + 1}
            total += (mp.log(mp.mpf(2) / n_in) + mp.digamma(mp.mpf(n_out - i + 1) / 2)) / 2
        else:  # 2 n_in |R_ii|^2 ~ chi^2_{2(n_out - i + 1)}, i.e. n_in |R_ii|^2 ~ Gamma(n_out - i + 1)
            total += (mp.digamma(n_out - i + 1) - mp.log(n_in)) / 2
    return float(total / L)


def rect_var(widths, i, field="real"):
    L = len(widths) - 1
    total = mp.mpf(0)
    for l in range(1, L + 1):
        a = mp.mpf(widths[l] - i + 1)
        total += mp.psi(1, a / 2) / 4 if field == "real" else mp.psi(1, a) / 4
    return float(total / L**2)


# ------------------------------------------------------------------ exact identities


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("field", ["real", "complex"])
def test_k_frame_sums_are_gram_volumes_of_the_first_columns(method, field):
    n, L, k = 7, 6, 3
    W = chain([n] * (L + 1), 5, field)
    res = QE.benettin(W, k=k, method=method)
    assert res.log_r_sums.shape == (1, k) and res.k == k
    np.testing.assert_allclose(np.cumsum(res.log_r_sums[0]), gram_volumes(explicit(W), k), atol=1e-10)
    full = QE.benettin(W, method=method).log_r_sums[0]
    np.testing.assert_allclose(res.log_r_sums[0], full[:k], atol=1e-11)  # top-k = first k of the full frame


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("widths, k", [((4, 6, 9, 5, 7), 4), ((5, 3, 8, 8), 2), ((3, 10, 2), 1), ((6, 6), 6)])
def test_rectangular_chains_match_explicit_products(method, widths, k):
    W = chain(widths, 11)
    res = QE.benettin(W, k=k, method=method)
    assert res.widths == tuple(widths) and res.depth == len(widths) - 1
    np.testing.assert_allclose(np.cumsum(res.log_r_sums[0]), gram_volumes(explicit(W), k), atol=1e-10)


def test_lists_generators_and_stacks_agree():
    W = gaussian(5, size=(8, 3), rng=2)  # (L, R, n, n)
    a = QE.benettin(W).log_r_sums
    b = QE.benettin(list(W)).log_r_sums
    c = QE.benettin(w for w in W).log_r_sums
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    single = [w[0] for w in W]
    np.testing.assert_array_equal(QE.benettin(iter(single)).log_r_sums, QE.benettin(np.stack(single)).log_r_sums)
    rect = chain((3, 5, 4, 6), 3)
    np.testing.assert_allclose(QE.benettin(x for x in rect).log_r_sums, QE.benettin(rect).log_r_sums, atol=0)
    np.testing.assert_allclose(QE.benettin(x for x in rect).log_r_sums, QE.benettin(tuple(rect)).log_r_sums, atol=0)
    # checkpoints against a generator whose length is known only at the end
    res = QE.benettin((x for x in rect), checkpoints=[1, 3])
    np.testing.assert_allclose(res.checkpoint_sums[0], QE.benettin(rect[:1]).log_r_sums, atol=1e-13)


def test_inputs_are_never_modified():
    rect = chain((4, 6, 5), 7)
    copies = [w.copy() for w in rect]
    for method in METHODS:
        QE.benettin(rect, k=3, method=method)
        QE.benettin(rect, method=method)
        GS.product_log_singular_values(rect, method=method)
    for w, c in zip(rect, copies):
        np.testing.assert_array_equal(w, c)


def test_sampled_rectangular_stream_matches_explicit_factors():
    widths, R = (4, 7, 5, 9), 3
    res = QE.lyapunov_qr(widths, 3, k=4, replicas=R, rng=8)
    g = as_generator(8)
    W = [gaussian(a, m=b, size=R, rng=g) for a, b in zip(widths[:-1], widths[1:])]
    np.testing.assert_allclose(res.log_r_sums, QE.benettin(W, k=4).log_r_sums, atol=1e-12)
    for method in METHODS:
        np.testing.assert_allclose(QE.lyapunov_qr(widths, 3, k=4, replicas=R, rng=8, method=method).log_r_sums,
                                   res.log_r_sums, atol=1e-12)


def test_stable_singular_values_of_an_expanding_chain():
    widths = (3, 5, 8, 6, 4)
    W = chain(widths, 4, scale=1.5)
    s = np.linalg.svd(explicit(W), compute_uv=False)
    np.testing.assert_allclose(GS.product_log_singular_values(W), np.log(s), atol=1e-11)
    np.testing.assert_allclose(NP.multiply(W), explicit(W), atol=1e-14)
    with pytest.raises(ValueError, match="rank"):
        GS.product_log_singular_values(chain((4, 6, 3, 5), 1))


def test_thin_frame_chooses_the_explicit_path_and_costs_less():
    assert QE.choose_method("auto", 256, 1, k=8) == "batched"
    assert QE.choose_method("auto", 256, 1, k=200) == "lapack"
    assert QE.lyapunov_qr(32, 3, k=2, rng=0).method == "batched"


# ------------------------------------------------------------------ Gaussian laws (statistics)


@pytest.mark.parametrize("field", ["real", "complex"])
def test_rectangular_gaussian_exponents_have_the_exact_mean_and_variance(field):
    """In the engine's index order the finite-depth exponents of rectangular Gaussian products have
    mean (1/L) sum_l (1/2)[log(2/N_(l-1)) + psi((N_l - i + 1)/2)] and variance
    (1/L^2) sum_l psi'((N_l - i + 1)/2)/4 at every depth (real; complex analogues)."""
    widths = (6, 9, 4, 12, 5, 8, 7)
    k, R = 4, 3000
    ex = QE.lyapunov_qr(widths, len(widths) - 1, k=k, replicas=R, field=field, rng=21).exponents
    L = len(widths) - 1
    for i in range(1, k + 1):
        mean, var = rect_mean(widths, i, field), rect_var(widths, i, field)
        z = (ex[:, i - 1].mean() - mean) / math.sqrt(var / R)
        assert abs(z) < 5, (i, z)
        # variance: chi-square-like spread; compare with a generous 5-sigma band of the sample variance
        v = ex[:, i - 1].var(ddof=1)
        assert abs(v / var - 1) < 5 * math.sqrt(2 / (R - 1)) * 1.5, (i, v, var)
    # the slip N_(l-1) for N_l is detected at this size (negative control of the test itself)
    zs = [(ex[:, i - 1].mean() - rect_mean(widths, i, field, slip=True)) / math.sqrt(rect_var(widths, i, field) / R)
          for i in range(1, k + 1)]
    assert max(abs(z) for z in zs) > 6, zs
    assert L == 6


def test_square_case_of_the_rectangular_formula_is_newman():
    from degeneracy.theory.products import lyapunov_exponents

    for field in ("real", "complex"):
        n = 5
        np.testing.assert_allclose([rect_mean((n,) * 4, i, field) for i in range(1, n + 1)],
                                   lyapunov_exponents(n, field=field), rtol=1e-13)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: QE.lyapunov_qr(4, 3, k=5), ValueError, "k must be"),
        (lambda: QE.lyapunov_qr(4, 3, k=0), ValueError, "k must be"),
        (lambda: QE.lyapunov_qr((4, 2, 4), 2, k=3), ValueError, "smallest width"),
        (lambda: QE.lyapunov_qr((4, 5), 2), ValueError, "depth + 1"),
        (lambda: QE.lyapunov_qr((4, 5, 6), 2, ensemble="orthogonal"), ValueError, "gaussian"),
        (lambda: QE.lyapunov_qr("44", 2), TypeError, "sequence of widths"),
        (lambda: QE.benettin([np.ones((3, 2)), np.ones((3, 2))]), ValueError, "shapes must chain"),
        (lambda: QE.benettin([np.ones((3, 2)), np.ones((1, 2, 3))]), ValueError, "replica axis"),
        (lambda: QE.benettin(iter([np.ones((3, 3)), np.ones((3, 3)) * 1j])), ValueError, "complex"),
        (lambda: QE.benettin([np.ones((2, 4)), np.ones((4, 2))]), ValueError, "fewer than the k"),
        (lambda: QE.benettin(iter([])), ValueError, "at least one"),
        (lambda: QE.benettin([np.ones(3)]), ValueError, "must be a matrix"),
        (lambda: QE.benettin(5), TypeError, "factors must be"),
        (lambda: QE.benettin({"a": 1}), TypeError, "factors must be"),
        (lambda: QE.benettin(iter([np.ones((2, 2)), np.full((2, 2), np.nan)])), ValueError, "finite"),
        (lambda: QE.benettin(iter([np.eye(2)] * 3), checkpoints=[5]), ValueError, "checkpoints"),
    ],
)
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


def test_a_generator_source_is_consumed_once():
    src, _ = FA.factor_source(x for x in [np.eye(2)] * 3)
    assert len(list(src)) == 3 and src.depth == 3
    with pytest.raises(ValueError, match="already consumed"):
        list(src)


@pytest.mark.parametrize("m, k", [(64, 64), (100, 37), (256, 256), (70, 70), (9, 9)])
@pytest.mark.parametrize("field", ["real", "complex"])
def test_reblocked_t_applies_the_same_q(m, k, field):
    """Applying Q with the T factor re-blocked to smaller blocks gives C Q to rounding (the sub-block
    T factors are the diagonal blocks of the larger one), and the kernel's C Q matches numpy's Q."""
    import scipy.linalg.lapack as lapack

    from degeneracy.numerics.householder import HouseholderKernel, reblock_t

    g = np.random.default_rng(m + k)
    A = g.standard_normal((m, k)) + (1j * g.standard_normal((m, k)) if field == "complex" else 0)
    C = g.standard_normal((5, m)) + (1j * g.standard_normal((5, m)) if field == "complex" else 0)
    qrt, mqrt = (lapack.zgeqrt, lapack.zgemqrt) if field == "complex" else (lapack.dgeqrt, lapack.dgemqrt)
    nb = min(32, k)
    v, T, _ = qrt(nb, np.asfortranarray(A.copy()))
    ref = mqrt(v, T, np.asfortranarray(C.copy()), side="R", trans="N")[0]
    for small in (1, 2, 4, 8, 16):
        if small <= nb and nb % small == 0:
            got = mqrt(v, reblock_t(T, small), np.asfortranarray(C.copy()), side="R", trans="N")[0]
            np.testing.assert_allclose(got, ref, atol=1e-12)
    kern = HouseholderKernel(field)
    h = kern.factor(np.asfortranarray(A.copy()))
    Q, R = np.linalg.qr(A)
    CQ = kern.apply_right(h, np.asfortranarray(C.copy()))[:, :k]
    np.testing.assert_allclose(np.abs(CQ), np.abs(C @ Q), atol=1e-11)  # columns agree up to signs/phases
    np.testing.assert_allclose(np.abs(kern.diag(h)), np.abs(np.diag(R)), rtol=1e-12)
