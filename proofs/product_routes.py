"""Independent routes to the predictions of the products claims (docs/formulas.md §1, §3).

Each function here computes a claim's expected value, or a certificate's statement, by a route
that does not go through the code it checks: series inversion of the S-transform (sympy), the
Wick recursion solved in closed form, the one-layer Gaussian expectation term by term by
Isserlis' theorem, exact rational arithmetic for orthogonal products and Fold ranks (with
genericity certified), the Bartlett decomposition for rectangular Lyapunov exponents (mpmath),
Ginibre's finite-n density for the origin bin, and the quadrature of the finite-n Meijer-G
density into a CDF. :mod:`proofs.products` registers the claims and certificates that use them.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np
import sympy as sp

from degeneracy.numerics import ensembles
from degeneracy.theory import products as tp
from degeneracy.theory.free import moments_from_s_transform

__all__ = ["fuss_catalan_moments_from_s_transform", "second_moment_recursion_solution", "wick_step_exact",
           "second_moments_by_isserlis", "second_moment_isserlis_check", "cayley_orthogonal",
           "orthogonal_product_exact", "exact_rank", "generic_fold_integer_matrices", "fold_rank_exact",
           "rectangular_lyapunov_exponents", "ginibre_origin_bin_fraction", "finite_n_cdf"]


def fuss_catalan_moments_from_s_transform(k_max: int = 6, *, wrong: bool = False):
    """Series-invert ``S(z) = (1+z)^(-L)`` with symbolic ``L`` and compare with Fuss–Catalan.

    The moments of the product of ``L`` free Wishart (ratio 1) laws follow from the S-transform
    by Lagrange inversion (:func:`theory.free.moments_from_s_transform`; Voiculescu; Mingo &
    Speicher, *Free Probability and Random Matrices*, ch. 4). With ``L`` a symbol they must equal
    ``m_k = binom((L+1)k, k)/(Lk+1)`` (Fuss–Catalan numbers). Returns ``(holds, detail)``;
    ``wrong=True`` compares with ``binom(Lk, k)/((L-1)k+1)`` (the depth off by one), which must
    not hold.
    """
    L, z = sp.symbols("L z", positive=True)
    moments = moments_from_s_transform((1 + z) ** (-L), k_max, z=z)
    depth = L - 1 if wrong else L
    failures = [k for k, m in enumerate(moments, start=1)
                if sp.simplify(m - sp.expand_func(sp.binomial((depth + 1) * k, k)) / (depth * k + 1)) != 0]
    if failures:
        return False, f"series inversion disagrees with the Fuss-Catalan formula at k = {failures}"
    return True, "m_k = binom((L+1)k, k)/(Lk+1) for k = 1..%d with L symbolic" % k_max


def second_moment_recursion_solution(field: str = "real", *, wrong: bool = False):
    """Solve the 2x2 Wick recursion of ``E tr (P^T P)^2`` symbolically in the depth.

    With ``a_L = E tr (P_L^T P_L)^2`` and ``b_L = E (tr P_L^T P_L)^2`` the Wick contractions give
    ``(a, b)_{L+1} = M (a, b)_L`` (:func:`theory.products.second_moment_recursion`). The
    certificate diagonalizes ``M`` symbolically in ``n``, forms ``M^L`` for symbolic ``L``, and
    checks (i) it reproduces the exact :func:`theory.products.second_moment` for n <= 6,
    L <= 6, comparing exact rationals exactly (no ``nsimplify``: it can turn an exact rational
    into an irrational-looking float fit) and (ii) ``lim_{n->inf} (1/n) a_L = L + 1`` (the
    Fuss–Catalan second moment).
    """
    M, init, n = tp.second_moment_recursion(field)
    L = sp.symbols("L", positive=True, integer=True)
    P, D = M.diagonalize()
    ML = sp.simplify(P * sp.diag(*[d**L for d in D.diagonal()]) * P.inv())
    aL = sp.simplify((ML * init)[0] / n)
    for nn in range(1, 7):
        for LL in range(1, 7):
            value = sp.simplify(aL.subs({n: nn, L: LL}))
            exact = tp.second_moment(nn, LL, field=field)
            if not (value.is_Rational and value == sp.Rational(exact.numerator, exact.denominator)):
                return False, f"closed form {value} != exact {exact} at n={nn}, depth={LL}"
    limit = sp.limit(aL, n, sp.oo)
    target = L + 2 if wrong else L + 1
    if sp.simplify(limit - target) != 0:
        return False, f"n -> inf limit is {limit}, not {target}"
    return True, f"(1/n) E tr (P^T P)^2 = {sp.simplify(aL)}; n -> inf limit L + 1"


@functools.lru_cache(maxsize=16)
def wick_step_exact(n: int, field: str = "real") -> tuple[tuple[Fraction, Fraction], tuple[Fraction, Fraction]]:
    """The one-layer Wick step of the second moment, computed by Isserlis' theorem term by term.

    For a symmetric ``A`` with symbolic entries and one Gaussian ``n x n`` factor ``W`` (entries of
    variance ``1/n``; complex: independent ``z_ij`` with ``E |z|^2 = 1/n``), expand
    ``tr((W A W^*)^2)`` and ``(tr W A W^*)^2`` as polynomials in the entries of ``W`` (and of
    ``conj(W)``) and replace every monomial by its Gaussian expectation (Isserlis 1918):
    real ``E w^(2m) = (2m-1)!! n^-m``, complex ``E z^p conj(z)^q = delta_pq p! n^-p``, independent
    entries factorizing. Both expectations are then matched, coefficient by coefficient in the
    entries of ``A``, to ``c1 tr A^2 + c2 (tr A)^2``. Returns the exact recursion matrix
    ``((c1, c2) for tr^2, (c1, c2) for (tr)^2)``: an independent route to the Wick
    coefficients that :func:`theory.products.second_moment` uses (``n >= 2``: at ``n = 1`` the
    two invariants coincide).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2 (tr A^2 and (tr A)^2 coincide at n = 1), got {n}")
    a = sp.symbols(f"a0:{n * (n + 1) // 2}")
    A = sp.zeros(n, n)
    entries = iter(a)
    for i in range(n):
        for j in range(i, n):
            A[i, j] = A[j, i] = next(entries)
    if field == "real":
        w = sp.symbols(f"w0:{n * n}")
        W, Wh, gens = sp.Matrix(n, n, w), sp.Matrix(n, n, w).T, w
    else:
        z, zb = sp.symbols(f"z0:{n * n}"), sp.symbols(f"zb0:{n * n}")
        W, Wh, gens = sp.Matrix(n, n, z), sp.Matrix(n, n, zb).T, z + zb
    X = W * A * Wh
    inv_n = sp.Rational(1, n)

    def expectation(expr) -> sp.Expr:
        total = sp.Integer(0)
        for mon, coeff in sp.Poly(sp.expand(expr), *gens).terms():
            m = sp.Integer(1)
            if field == "real":
                for e in mon:
                    if e % 2:
                        m = sp.Integer(0)
                        break
                    m *= sp.factorial2(e - 1) * inv_n ** (e // 2)
            else:
                for p, q in zip(mon[: n * n], mon[n * n:]):
                    if p != q:
                        m = sp.Integer(0)
                        break
                    m *= sp.factorial(p) * inv_n**p
            total += coeff * m
        return sp.expand(total)

    tr2, trsq = sp.expand((A * A).trace()), sp.expand(A.trace() ** 2)
    c1, c2 = sp.symbols("c1 c2")
    rows = []
    for expr in ((X * X).trace(), X.trace() ** 2):
        residual = sp.Poly(expectation(expr) - c1 * tr2 - c2 * trsq, *a).coeffs()
        sol = sp.solve(residual, [c1, c2], dict=True)
        if len(sol) != 1 or set(sol[0]) != {c1, c2}:  # pragma: no cover - the expectation is always of this form
            raise ValueError(f"the one-layer expectation is not a combination of tr A^2 and (tr A)^2: {sol}")
        rows.append((Fraction(int(sol[0][c1].p), int(sol[0][c1].q)), Fraction(int(sol[0][c2].p), int(sol[0][c2].q))))
    return rows[0], rows[1]


def second_moments_by_isserlis(n: int, depth: int, field: str = "real") -> tuple[Fraction, Fraction]:
    """``(E (1/n) tr (P^*P)^2, E ((1/n) tr P^*P)^2)`` exactly, from :func:`wick_step_exact`:
    ``v_L = M^L (n, n^2)`` in Fractions."""
    (m11, m12), (m21, m22) = wick_step_exact(n, field)
    x, y = Fraction(n), Fraction(n * n)
    for _ in range(depth):
        x, y = m11 * x + m12 * y, m21 * x + m22 * y
    return x / n, y / (n * n)


def second_moment_isserlis_check(ns=(2, 3), depths=(1, 2, 3, 4), *, wrong: bool = False) -> tuple[bool, str]:
    """:func:`theory.products.second_moment` and :func:`theory.products.second_moment_recursion`
    against the Isserlis route (:func:`wick_step_exact`), exactly, for real and complex factors."""
    bad = []
    for field in ("real", "complex"):
        for n in ns:
            M, _init, nsym = tp.second_moment_recursion(field)
            step = wick_step_exact(n, field)
            theirs = tuple(tuple(sp.Rational(M[i, j].subs(nsym, n)) for j in range(2)) for i in range(2))
            if theirs != tuple(tuple(sp.Rational(c.numerator, c.denominator) for c in row) for row in step):
                bad.append(f"{field}, n={n}: recursion matrix {theirs} != Isserlis {step}")
            for L in depths:
                a, _b = second_moments_by_isserlis(n, L, field)
                expected = Fraction(L + 1) if wrong else tp.second_moment(n, L, field=field)
                if a != expected:
                    bad.append(f"{field}, n={n}, depth={L}: second_moment {expected} != Isserlis {a}")
    if bad:
        return False, "; ".join(bad[:4]) + (f"; and {len(bad) - 4} more" if len(bad) > 4 else "")
    return True, (f"Wick step and E (1/n) tr (P^*P)^2 equal the term-by-term Isserlis expectation for "
                  f"n in {tuple(ns)}, "
                  f"depths {tuple(depths)}, real and complex")


def cayley_orthogonal(A: sp.Matrix) -> sp.Matrix:
    """The exactly orthogonal rational matrix ``(I - A)(I + A)^-1`` of a skew-symmetric ``A``."""
    eye = sp.eye(A.shape[0])
    return (eye - A) * (eye + A).inv()


def orthogonal_product_exact(n: int = 4, depth: int = 12, seed: int = 0):
    """Exact rational check: a product of ``depth`` rational orthogonal matrices has P^T P = I."""
    rng = np.random.default_rng(seed)
    P = sp.eye(n)
    for _ in range(depth):
        B = sp.Matrix(n, n, [sp.Rational(int(v), 7) for v in rng.integers(-5, 6, size=n * n)])
        P = cayley_orthogonal(B - B.T) * P
    residual = sp.simplify(P.T * P - sp.eye(n))
    return residual == sp.zeros(n), f"P^T P - I over Q for n={n}, depth={depth}"


def _integer_matrix(a):
    from sympy.polys.matrices import DomainMatrix

    rows, cols = np.shape(a)
    return DomainMatrix([[sp.ZZ(int(x)) for x in row] for row in np.asarray(a)], (rows, cols), sp.ZZ)


def exact_rank(a) -> int:
    """Rank over Q of an integer matrix (sympy ``DomainMatrix``, fraction-free: exact)."""
    return int(_integer_matrix(a).convert_to(sp.QQ).rank())


def generic_fold_integer_matrices(n: int, k: int, depth: int, rng, *, bound: int = 9, max_draws: int = 200):
    """``depth`` integer Fold-k matrices (entries in ``[-bound, bound]``) that are *certified* generic.

    Fold-k of ``W`` tiles its top ``r x n`` block ``B`` (``r = n/2^k``) ``2^k`` times, so for two such
    matrices ``fold(W2) fold(W1) = tile(C2 B1)`` with ``C2 = sum_j B2[:, j r:(j+1) r]`` (the column
    blocks of ``B2`` summed), and a product of ``L`` of them is ``tile(C_L ... C_2 B_1)``. If every
    ``C_l`` is nonsingular (which also makes ``B_l`` of full row rank ``r``) the product has rank
    exactly ``r``. Each matrix is redrawn until ``det C != 0``, computed exactly over the integers;
    integer draws are singular with small but positive probability (28 of 3000 seeds failed before
    this certification), Gaussian ones with probability 0. Raises ``CertificationError`` after
    ``max_draws`` failed draws (never seen).
    """
    from degeneracy.errors import CertificationError

    r = n >> k
    out = []
    for _ in range(depth):
        for _attempt in range(max_draws):
            W = rng.integers(-bound, bound + 1, size=(n, n))
            C = W[:r].reshape(r, 1 << k, r).sum(axis=1)  # sum of the column blocks of B
            if _integer_matrix(C).det() != 0:
                break
        else:
            raise CertificationError(f"no generic Fold-{k} integer matrix (n={n}) in {max_draws} draws")
        out.append(ensembles.fold(W.astype(float), k).astype(np.int64))
    return out


def fold_rank_exact(n: int, k: int, depth: int, seed: int = 0) -> tuple[int, int]:
    """Exact ranks (over Q) of a certified-generic Fold-k integer matrix and of a product of ``depth``
    of them (:func:`generic_fold_integer_matrices`)."""
    mats = generic_fold_integer_matrices(n, k, depth, np.random.default_rng(seed))
    prod = mats[0]
    for m in mats[1:]:
        prod = m @ prod  # exact: int64, |entries| <= (9 n)^depth = 144^3 at n = 16
    return exact_rank(mats[0]), exact_rank(prod)


def rectangular_lyapunov_exponents(widths, k: int, field: str = "real", *, slip: bool = False) -> np.ndarray:
    """Exact finite-depth mean of the top-k Lyapunov exponents (QR-engine order) of ``W_L ... W_1``,
    ``W_l`` Gaussian ``N_l x N_{l-1}`` with entries of variance ``1/N_{l-1}``, ``widths = (N_0, ..., N_L)``:

        real:    ``mu_i = (1/L) sum_l (1/2) [log(2/N_{l-1}) + psi((N_l - i + 1)/2)]``,
        complex: ``mu_i = (1/L) sum_l (1/2) [psi(N_l - i + 1) - log N_{l-1}]``,  i = 1..k.

    Derivation (Newman 1986's route, as Forrester, J. Stat. Phys. 151 (2013), for square complex
    factors): with an orthonormal ``N_{l-1} x k`` frame ``Q``, ``W_l Q`` is Gaussian ``N_l x k``
    (orthogonal invariance) and independent of the past, and by the Bartlett decomposition its
    QR has ``N_{l-1} R_ii^2 ~ chi^2_{N_l - i + 1}`` (real; complex ``2 N_{l-1} |R_ii|^2 ~
    chi^2_{2(N_l - i + 1)}``), ``E log chi^2_nu = log 2 + psi(nu/2)``. Ipsen, J. Phys. A 48 (2015)
    155204 treats rectangular Ginibre products. Evaluated with mpmath (a route independent of
    :func:`theory.products.lyapunov_exponents`, which it reproduces for square widths).
    ``slip=True``: the plausible mistake of using the input width ``N_{l-1}`` inside the digamma.
    """
    import mpmath

    widths = [int(w) for w in widths]
    L = len(widths) - 1
    out = []
    for i in range(1, k + 1):
        total = mpmath.mpf(0)
        for l in range(1, L + 1):
            n_in = widths[l - 1]
            n_out = widths[l - 1] if slip else widths[l]
            if field == "real":
                total += (mpmath.log(mpmath.mpf(2) / n_in) + mpmath.digamma(mpmath.mpf(n_out - i + 1) / 2)) / 2
            else:
                total += (mpmath.digamma(n_out - i + 1) - mpmath.log(n_in)) / 2
        out.append(float(total / L))
    return np.array(out)


def ginibre_origin_bin_fraction(n: int, half_width: float = 0.05) -> float:
    """Exact mean fraction of the eigenvalues of one complex Ginibre ``n x n`` matrix (entries of
    variance ``1/n``) in the square ``[-h, h]^2``.

    The one-point density at finite n is ``(1/pi) Q(n, n |z|^2)`` per eigenvalue (Ginibre,
    J. Math. Phys. 6 (1965); Q the regularized upper incomplete gamma function), so the mean
    fraction is ``int_0^{h sqrt 2} Q(n, n r^2) p(r) 2 r dr`` with ``p(r)`` the fraction of the
    circle of radius r inside the square (:func:`numerics.product_eigenvalues.rotation_averaged_bin_fraction`).
    Computed by ``scipy.integrate.quad`` with ``scipy.special.gammaincc``: a route independent of
    the n -> inf law. For ``n >= 4`` and ``h = 0.05`` it equals ``4 h^2 / pi`` to better than 1e-8
    relative (``1 - Q(n, n r^2) <= (n r^2)^n / n!`` in the bin).
    """
    from scipy.integrate import quad
    from scipy.special import gammaincc

    h = float(half_width)

    def density(r: float) -> float:
        p = 1.0 if r <= h else 1.0 - (4.0 / math.pi) * math.acos(h / r)
        return float(gammaincc(n, n * r * r)) * p * 2.0 * r

    inner = quad(density, 0.0, h, epsabs=0.0, epsrel=1e-12)[0]
    ring = quad(density, h, h * math.sqrt(2.0), epsabs=0.0, epsrel=1e-12)[0]
    return inner + ring


def finite_n_cdf(grid, n: int, depth: int, *, nodes: int = 8, x_min: float = 1e-9) -> np.ndarray:
    """CDF of :func:`theory.products.finite_n_density` at the sorted ``grid`` points.

    Integrates ``x rho(x)`` in ``t = log x`` from ``log x_min`` with ``nodes``-point
    Gauss-Legendre rules on each interval between consecutive grid points (the integrand is
    smooth in ``t``; the density's weak singularity at 0 becomes harmless). The mass below
    ``x_min`` is at most ``x_min * max(1, |log x_min|)^(depth - 1)``-small, far below the
    Monte Carlo resolution.
    """
    g = np.sort(np.asarray(grid, dtype=float))
    edges = np.concatenate([[math.log(x_min)], np.log(g)])
    u, w = np.polynomial.legendre.leggauss(nodes)
    t = (0.5 * (edges[1:, None] - edges[:-1, None]) * u + 0.5 * (edges[1:, None] + edges[:-1, None]))
    x = np.exp(t)
    rho = np.asarray(tp.finite_n_density(x.ravel(), n, depth, dps=20), dtype=float).reshape(x.shape)
    pieces = (0.5 * (edges[1:] - edges[:-1]))[:, None] * w * rho * x
    return np.cumsum(pieces.sum(axis=1))
