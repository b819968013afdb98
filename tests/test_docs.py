"""The documents the code cites exist and hold the sections it cites (issue 10, item 8).

Sources in docstrings, claim sources and the README cite papers, or the project's own documents:
``docs/formulas.md §N`` (a numbered section), ``docs/formulas.md, "Conventions"`` (a named section)
and ``docs/performance.md``. These tests scan every tracked text file of the checkout, and every
registered claim's, certificate's and figure's texts, for such references and fail on one that
points nowhere. They also fail when any file cites the lead's private notes (the shared reference
sheet or design note), which users do not have. The second half checks the documents themselves:
every module, function, claim and certificate they name exists, the singularity table is the
engine's current one, and the formulas added in the second round agree with the code and with an
independent route (quadrature, an ODE solver, scipy's distributions, mpmath).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".rst", ".json"}
#: files users do not have (assembled so that this file does not cite them itself)
PRIVATE = re.compile(r"\b(?:" + "REFERENCE" + "|" + "DESIGN" + r")\.md\b")
#: ``docs/NAME`` with an optional section: ``§N`` or a quoted name, possibly after a comma or a line
#: break (docstrings and comments wrap)
DOC_REF = re.compile(r"docs/(?P<file>[\w.-]+\.md)(?:[\s,#]*(?:§\s*(?P<num>\d+)|\"(?P<name>[^\"\n]+)\"))?")
HEADING = re.compile(r"^#{1,6}\s+(?:§\s*(?P<num>\d+)\s+)?(?P<title>.+?)\s*$", re.M)


def _text_files() -> list[Path]:
    if (ROOT / ".git").exists() and shutil.which("git"):
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True).stdout
        paths = [ROOT / p for p in out.decode().split("\0") if p]
        # files added in this working tree but not yet committed count too
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout
        paths += [ROOT / p for p in out.decode().split("\0") if p]
    else:
        paths = [p for p in ROOT.rglob("*") if not any(part.startswith(".") or part.endswith(".egg-info")
                                                       or part in ("__pycache__", "build", "dist")
                                                       for part in p.relative_to(ROOT).parts)]
    ci = ROOT / ".ci" / "run"
    return sorted({p for p in paths if p.is_file() and (p.suffix in TEXT_SUFFIXES or p == ci)})


def _sections(path: Path) -> tuple[set[int], set[str]]:
    """Numbered sections (``## §3 ...``) and heading titles of a Markdown document."""
    nums, titles = set(), set()
    for m in HEADING.finditer(path.read_text(encoding="utf-8")):
        if m["num"]:
            nums.add(int(m["num"]))
        titles.add(m["title"].strip().lower())
    return nums, titles


def _registered_texts() -> list[tuple[str, str]]:
    """``(label, text)`` of every claim's, certificate's and figure's source, title and formula."""
    from degeneracy.figures.registry import FIGURES
    from degeneracy.figures.registry import load_all as load_figures
    from degeneracy.proofs.registry import CERTIFICATES, CLAIMS, load_all

    load_all()
    load_figures()
    out = []
    for c in CLAIMS.values():
        for field in ("title", "source", "formula"):
            out.append((f"claim {c.id} {field}", str(getattr(c, field, "") or "")))
    for c in CERTIFICATES.values():
        for field in ("statement", "source"):
            out.append((f"certificate {c.id} {field}", str(getattr(c, field, "") or "")))
    for f in FIGURES.values():
        out.append((f"figure {f.id} title", f.title))
    return out


def _references() -> list[tuple[str, re.Match]]:
    refs = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(ROOT)
        for m in DOC_REF.finditer(text):
            refs.append((f"{rel}:{text.count(chr(10), 0, m.start()) + 1}", m))
    for label, text in _registered_texts():
        refs += [(label, m) for m in DOC_REF.finditer(text)]
    return refs


def test_formulas_has_the_sections_the_code_numbers():
    nums, titles = _sections(DOCS / "formulas.md")
    assert nums == {1, 2, 3, 4, 5, 6}, nums
    assert "conventions" in titles


def test_the_code_cites_the_documents():
    """Guard against the scan silently finding nothing (e.g. a changed citation style)."""
    refs = _references()
    files = {m["file"] for _, m in refs}
    assert {"formulas.md", "performance.md"} <= files, files
    assert any(m["num"] for _, m in refs) and any(m["name"] for _, m in refs)


def test_every_reference_points_to_an_existing_section():
    bad = []
    cache = {}
    for where, m in _references():
        path = DOCS / m["file"]
        if not path.is_file():
            bad.append(f"{where}: {m[0]!r}: no file docs/{m['file']}")
            continue
        nums, titles = cache.setdefault(path, _sections(path))
        if m["num"] and int(m["num"]) not in nums:
            bad.append(f"{where}: {m[0]!r}: docs/{m['file']} has no section §{m['num']}")
        if m["name"] and m["name"].strip().lower() not in titles:
            bad.append(f"{where}: {m[0]!r}: docs/{m['file']} has no section {m['name']!r}")
    assert not bad, "\n".join(bad)


def test_no_file_cites_private_notes():
    bad = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for m in PRIVATE.finditer(text):
            bad.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m[0]}")
    for label, text in _registered_texts():
        bad += [f"{label}: {m[0]}" for m in PRIVATE.finditer(text)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("text, expected", [
    ('see docs/formulas.md §4.', ("formulas.md", "4", None)),
    ('(docs/formulas.md, "Conventions"): an', ("formulas.md", None, "Conventions")),
    ("docs/formulas.md\n    §1)", ("formulas.md", "1", None)),
    ("# quotes (docs/performance.md)", ("performance.md", None, None)),
])
def test_reference_pattern(text, expected):
    m = DOC_REF.search(text)
    assert m and (m["file"], m["num"], m["name"]) == expected


# --------------------------------------------------------------------------------------------------
# The documents name code and claims that exist, and their formulas agree with the code.
# Each formula below is typed in from docs/formulas.md (or docs/statistics.md) and compared with an
# independent route (quadrature, an ODE solver, scipy's distributions) and with the code.

#: ``theory.x.y`` / ``numerics.x`` / ``proofs.x`` / ``figures.x`` in backticks, optionally with an
#: attribute path (``theory.fuss_catalan.FussCatalan``)
CODE_REF = re.compile(r"`((?:theory|numerics|proofs|figures)(?:\.\w+)+)")
#: claim and certificate ids in backticks (``products.lyapunov-real``)
ID_REF = re.compile(r"`((?:products|dynamics|fold|isometry|pathologies|singularities)\.[a-z0-9-]+)`")
DOCUMENTS = ("formulas.md", "statistics.md")


def _resolve(dotted: str):
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module("degeneracy." + ".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)  # AttributeError: the document names something that is gone
        return obj
    raise ImportError(dotted)


def test_documents_name_code_that_exists():
    bad = []
    for doc in DOCUMENTS:
        for name in sorted(set(CODE_REF.findall((DOCS / doc).read_text(encoding="utf-8")))):
            try:
                _resolve(name)
            except (ImportError, AttributeError) as exc:
                bad.append(f"docs/{doc}: `{name}`: {type(exc).__name__}")
    assert not bad, "\n".join(bad)


def test_documents_name_claims_that_exist():
    from degeneracy.figures.registry import FIGURES
    from degeneracy.figures.registry import load_all as load_figures
    from degeneracy.proofs.registry import CERTIFICATES, CLAIMS, load_all

    load_all()
    load_figures()
    known = set(CLAIMS) | set(CERTIFICATES) | set(FIGURES)
    bad = [f"docs/{doc}: {i}" for doc in DOCUMENTS
           for i in sorted(set(ID_REF.findall((DOCS / doc).read_text(encoding="utf-8")))) if i not in known]
    assert not bad, "\n".join(bad)


def test_formulas_holds_the_current_degeneracy_table():
    from degeneracy.theory import singularity_engine as se

    assert se.markdown_table(se.DEGENERACY_TABLE) in (DOCS / "formulas.md").read_text(encoding="utf-8")


def test_fuss_catalan_cdf_edge_and_mean_log():
    """formulas.md §1, "The Fuss-Catalan law at large depth", against quadrature of the density."""
    import math

    import numpy as np
    from scipy import integrate

    from degeneracy.theory.fuss_catalan import fuss_catalan

    L = 3
    x = lambda u: np.sin((L + 1) * u) ** (L + 1) / (np.sin(u) * np.sin(L * u) ** L)  # noqa: E731
    rho = lambda u: np.sin(u) ** 2 * np.sin(L * u) ** (L - 1) / np.sin((L + 1) * u) ** L / np.pi  # noqa: E731
    dx = lambda u: x(u) * ((L + 1) ** 2 / np.tan((L + 1) * u) - 1 / np.tan(u) - L**2 / np.tan(L * u))  # noqa: E731
    u0 = 0.4
    sf_quad = integrate.quad(lambda u: -rho(u) * dx(u), 1e-9, u0, limit=200)[0]
    sf_doc = ((L + 1) * u0 - L * math.sin(u0) * math.sin((L + 1) * u0) / math.sin(L * u0)) / math.pi
    assert abs(sf_doc - sf_quad) < 1e-8
    assert abs(float(fuss_catalan(L).sf(x(u0))) - sf_doc) < 1e-12
    u = math.pi / (L + 1) - 1e-6  # the origin: rho ~ C x^(-L/(L+1)), C = sin(pi/(L+1))/pi
    assert abs(rho(u) * x(u) ** (L / (L + 1)) / (math.sin(math.pi / (L + 1)) / math.pi) - 1) < 1e-4
    top = math.pi / (L + 1)
    mean_log = sum(integrate.quad(lambda u: -np.log(x(u)) * rho(u) * dx(u), a, b, limit=200)[0]
                   for a, b in ((1e-12, top / 2), (top / 2, top - 1e-12)))
    assert abs(mean_log - (-L)) < 1e-5
    assert abs(fuss_catalan(L).log_law().mean() - (-L)) < 1e-9
    # F(5e-324) at depth 1000 (quoted 0.475): the closed-form CDF at the root of log x(u) = log x,
    # found by bisection in mpmath, against the code's law of log x
    import mpmath as mp

    L, logx0 = 1000, math.log(5e-324)
    with mp.workdps(50):
        logx = lambda u: (L + 1) * mp.log(mp.sin((L + 1) * u)) - mp.log(mp.sin(u)) - L * mp.log(mp.sin(L * u))  # noqa: E731
        lo, hi = mp.pi / (L + 1) * mp.mpf("1e-30"), mp.pi / (L + 1) * (1 - mp.mpf("1e-40"))
        for _ in range(200):
            lo, hi = (lo, (lo + hi) / 2) if logx((lo + hi) / 2) <= logx0 else ((lo + hi) / 2, hi)
        u = (lo + hi) / 2
        cdf = float(1 - ((L + 1) * u - L * mp.sin(u) * mp.sin((L + 1) * u) / mp.sin(L * u)) / mp.pi)
    assert round(cdf, 3) == 0.475 and abs(float(fuss_catalan(L).log_law().cdf(logx0)) - cdf) < 1e-12


def test_marchenko_pastur_any_ratio():
    """formulas.md §1, "Marchenko-Pastur law of any aspect ratio"."""
    from degeneracy.theory.marchenko_pastur import marchenko_pastur
    from degeneracy.theory.s_transform import STransform

    for lam, scale in ((0.5, 1.5), (2.0, 1.5), (1.0, 1.0)):
        law = marchenko_pastur(lam, scale)
        assert abs(law.mean() - scale) < 1e-9
        assert abs(law.var() + law.mean() ** 2 - scale**2 * (1 + lam)) < 1e-9
        assert abs(law.atom - max(0.0, 1 - 1 / lam)) < 1e-15
        assert abs(law.support()[1] - scale * (1 + lam**0.5) ** 2) < 1e-9
        m1, m2 = STransform.wishart(lam, scale).moments(2)
        assert abs(float(m1) - scale) < 1e-12 and abs(float(m2) - scale**2 * (1 + lam)) < 1e-12


def test_ginibre_product_eigenvalue_density_and_moments():
    """formulas.md §1, "Finite-n eigenvalues of complex Ginibre products": the displayed density,
    with w_2 = 2 K_0(2 sqrt y) from scipy, integrates to 1, has the stated moments, and matches the
    code's density, law and exact moments."""
    import math
    from fractions import Fraction

    import numpy as np
    from scipy import integrate, special

    from degeneracy.theory.product_eigenvalues import finite_n_eigenvalue_density, finite_n_eigenvalue_law

    n, M = 3, 2

    def rho(r):
        y = n**M * r * r
        return n**M / (n * math.pi) * 2 * special.k0(2 * math.sqrt(y)) * sum(y**k / math.factorial(k) ** M
                                                                             for k in range(n))

    def radial(f):
        return sum(integrate.quad(lambda r: 2 * math.pi * r * f(r) * rho(r), a, b, limit=200)[0]
                   for a, b in ((0, 1), (1, 12)))

    def moment(j):
        return Fraction(sum(math.prod(range(k, k + j)) ** M for k in range(1, n + 1)), n * n ** (M * j))

    assert moment(1) == Fraction(14, 27)
    assert abs(radial(lambda r: 1.0) - 1) < 1e-9
    assert abs(radial(lambda r: r * r) - float(moment(1))) < 1e-9
    assert abs(radial(lambda r: r**4) - float(moment(2))) < 1e-8
    law = finite_n_eigenvalue_law(n, M)
    assert law.moment(2) == moment(1) and law.moment(4) == moment(2)
    for r in (0.2, 0.7):
        assert abs(float(finite_n_eigenvalue_density(r, n, M)) - rho(r)) < 1e-10 * rho(r)
    cdf = integrate.quad(lambda r: 2 * math.pi * r * rho(r), 0, 0.7, limit=200)[0]
    assert abs(float(law.cdf(0.7)) - cdf) < 1e-9
    assert np.isclose(float(law.cdf(0.7)), cdf)


def test_unbalanced_two_layer_mode():
    """formulas.md §2, "Unbalanced modes of one hidden layer (derived here)", against solve_ivp."""
    import math

    import numpy as np
    from scipy.integrate import solve_ivp

    from degeneracy.theory.linear_dynamics import saxe_two_layer_strengths, two_layer_learning_time

    s, a0, b0, tau = 3.0, 0.5, 0.02, 1.5
    C = a0**2 - b0**2
    D = math.sqrt(s * s + C * C / 4)

    def riccati(t, X0, sgn):
        xp, xm = 2 * (sgn * s + D), 2 * (sgn * s - D)
        E = np.exp(-2 * D * t / tau)
        return (xp * (X0 - xm) - xm * (X0 - xp) * E) / ((X0 - xm) - (X0 - xp) * E)

    t = np.array([0.2, 1.0, 3.0])
    p = math.copysign(1, a0 + b0) * np.sqrt(riccati(t, (a0 + b0) ** 2, 1))
    q = math.copysign(1, a0 - b0) * np.sqrt(riccati(t, (a0 - b0) ** 2, -1))
    sol = solve_ivp(lambda _, y: [y[1] * (s - y[0] * y[1]) / tau, y[0] * (s - y[0] * y[1]) / tau], (0, 3),
                    [a0, b0], t_eval=t, rtol=1e-12, atol=1e-14)
    assert np.allclose((p + q) / 2, sol.y[0], rtol=1e-8) and np.allclose((p - q) / 2, sol.y[1], rtol=1e-8)
    a, b = saxe_two_layer_strengths(t, s=s, a0=a0, b0=b0, tau=tau)
    assert np.allclose(a, sol.y[0], rtol=1e-8) and np.allclose(b, sol.y[1], rtol=1e-8)
    uf = 1.5
    pp, pm, p0 = 2 * (s + D), 2 * (s - D), (a0 + b0) ** 2
    pf = 2 * uf + math.sqrt(4 * uf * uf + C * C)
    t_doc = -(tau / (2 * D)) * math.log((pf - pp) * (p0 - pm) / ((p0 - pp) * (pf - pm)))
    assert abs(two_layer_learning_time(uf, s=s, a0=a0, b0=b0, tau=tau) - t_doc) < 1e-12
    # several modes: half-time (tau / 2s) ln(1 + s/u0) from equal balanced strengths, decreasing in s
    u0 = 1e-3
    half = [two_layer_learning_time((u0 + sa) / 2, s=sa, a0=u0**0.5, b0=u0**0.5, tau=tau) for sa in (1.0, 2.0, 4.0)]
    assert np.allclose(half, [tau / (2 * sa) * math.log(1 + sa / u0) for sa in (1.0, 2.0, 4.0)], rtol=1e-10)
    assert half[0] > half[1] > half[2]


def test_whitened_loss_is_a_population_loss():
    """formulas.md §3, "The Fold experiment on digits": the identity behind the digits experiment."""
    import numpy as np

    rng = np.random.default_rng(0)
    d, n, c = 5, 200, 3
    X = rng.standard_normal((d, n))
    X = np.sqrt(n) * np.linalg.svd(X - X.mean(1, keepdims=True), full_matrices=False)[2]  # (1/n) X X^T = I
    Y, P = rng.standard_normal((c, n)), rng.standard_normal((c, d))
    sigma = Y @ X.T / n
    lhs = 0.5 / n * np.sum((P @ X - Y) ** 2)
    rhs = 0.5 * np.sum((P - sigma) ** 2) + 0.5 / n * np.sum(Y**2) - 0.5 * np.sum(sigma**2)
    assert np.allclose(X @ X.T / n, np.eye(d)) and abs(lhs - rhs) < 1e-12 * lhs


def test_correlation_map_closed_forms():
    """formulas.md §4, "The correlation map and the depth scales": the ReLU (arc-cosine) and erf
    (Williams) pair expectations against scipy quadrature, and the code's chi_c and xi_q."""
    import math

    import numpy as np
    from scipy import integrate, special, stats

    from degeneracy.theory import meanfield as mf

    q, c = 1.3, 0.4
    s = math.sqrt(1 - c * c)
    inner = lambda z1: math.sqrt(q) * (c * z1 * stats.norm.cdf(c * z1 / s) + s * stats.norm.pdf(c * z1 / s))  # noqa: E731
    relu_kk = integrate.quad(lambda z1: math.sqrt(q) * z1 * inner(z1) * stats.norm.pdf(z1), 0, 40)[0]
    relu_dd = integrate.quad(lambda z1: stats.norm.cdf(c * z1 / s) * stats.norm.pdf(z1), 0, 40)[0]
    assert abs(relu_kk - q * (s + (math.pi - math.acos(c)) * c) / (2 * math.pi)) < 1e-10
    assert abs(relu_dd - (math.pi - math.acos(c)) / (2 * math.pi)) < 1e-10

    nodes, weights = np.polynomial.hermite_e.hermegauss(120)  # smooth integrands: Gauss-Hermite product rule
    z1, z2 = np.meshgrid(nodes, nodes, indexing="ij")
    w2 = np.outer(weights, weights) / weights.sum() ** 2

    def pair(f, g):  # E[f(u_1) g(u_2)], independent of the code's composite Gauss-Legendre rules
        return float(np.sum(f(math.sqrt(q) * z1) * g(math.sqrt(q) * (c * z1 + s * z2)) * w2))

    derf = lambda h: 2 / math.sqrt(math.pi) * np.exp(-h * h)  # noqa: E731
    assert abs(pair(special.erf, special.erf) - 2 / math.pi * math.asin(2 * q * c / (1 + 2 * q))) < 1e-8
    assert abs(pair(derf, derf) - 4 / math.pi / math.sqrt((1 + 2 * q) ** 2 - 4 * q * q * c * c)) < 1e-8
    # the code: erf in the chaotic phase, chi_c = sigma_w^2 E[erf'(u_1) erf'(u_2)] at (q*, c*)
    sw, sb = 3.0, 0.05
    qs, cs = mf.q_star("erf", sw, sb), mf.c_star("erf", sw, sb)
    assert cs < 1
    assert abs(mf.chi_c("erf", sw, sb) - sw * 4 / math.pi / math.sqrt((1 + 2 * qs) ** 2 - 4 * qs**2 * cs**2)) < 1e-9
    xi_q, _ = mf.depth_scales("erf", sw, sb)
    V = lambda qq: 2 / math.pi * math.asin(2 * qq / (1 + 2 * qq))  # noqa: E731  (Williams, c = 1)
    dV = (V(qs + 1e-6) - V(qs - 1e-6)) / 2e-6
    assert abs(xi_q - (-1 / math.log(sw * dV))) < 1e-6 * xi_q


def test_hard_tanh_orthogonal_atoms():
    """formulas.md §4, "The S-transform route to the spectrum": Belinschi's atoms for hard-tanh
    masks with orthogonal weights: 1 - p at 0 and 1 - L (1 - p) at sigma_w^(2L)."""
    import math

    from degeneracy.theory.isometry import jacobian_spectrum
    from degeneracy.theory.meanfield import critical_point, q_star

    sw, sb = critical_point("hard_tanh", 0.05)
    L = 4
    p = math.erf(1 / math.sqrt(2 * q_star("hard_tanh", sw, sb)))
    atoms = dict(jacobian_spectrum("hard_tanh", L, weights="orthogonal", sigma_w2=sw, sigma_b2=sb).atoms)
    assert abs(atoms[0.0] - (1 - p)) < 1e-9 * (1 - p) + 1e-300
    (loc, mass), = [(x, m) for x, m in atoms.items() if x > 0]
    assert abs(loc - sw**L) < 1e-12 * sw**L and abs(mass - (1 - L * (1 - p))) < 1e-12


def test_pushforward_boundary_value_is_sokhotski_plemelj():
    """formulas.md §4, "The law of phi'(h)^2": near the axis the corrected trapezoidal rule returns
    Im(1 + m(x + i0)) = pi rho_t(1/x) / x, rho_t the density of t = sech(h)^4, h ~ N(0, q)."""
    import math

    import numpy as np
    from scipy import stats

    from degeneracy.theory.pushforward_law import gaussian_pushforward

    q = 0.25
    law = gaussian_pushforward(lambda h: np.cosh(h) ** -2, lambda h: -2 * np.tanh(h) / np.cosh(h) ** 2,
                               lambda h: 4 * np.tanh(h) ** 2 / np.cosh(h) ** 2 - 2 / np.cosh(h) ** 4,
                               q=q, strip=np.pi / 2)
    x = 1.05
    t = 1 / x
    h = math.acosh(t**-0.25)
    density = 2 * stats.norm.pdf(h, scale=math.sqrt(q)) / abs(4 * t * math.tanh(h))
    _, opm, _ = law.parts(np.array([x + 1e-13j]))
    assert abs(opm[0].imag - math.pi * density / x) < 1e-7 * math.pi * density / x


def test_statistics_page_numbers():
    """docs/statistics.md: Sidak, the spending functions and their boundaries, the quoted thresholds."""
    import math

    import numpy as np
    from scipy import stats

    from degeneracy.numerics.spending import spending_boundaries
    from degeneracy.numerics.stats import difference_check, mean_check, sidak

    assert abs(sidak(1e-3, 50) - 2.0010e-5) < 5e-10
    a_check = sidak(sidak(1e-3, 50), 4)
    assert abs(a_check - 5.0025e-6) < 5e-10
    assert round(float(stats.norm.isf(a_check / 2)), 3) == 4.565
    assert round(float(stats.norm.isf(a_check)), 3) == 4.417
    effect = difference_check("x", np.arange(10.0) + 5, np.arange(10.0), "greater")
    effect.df = math.inf  # normal statistics, as in the page's example
    assert round(effect.critical_value(a_check), 3) == 4.417
    assert round(effect.critical_value(a_check, three_way=True), 3) == 4.565
    agreement = mean_check("m", np.arange(10.0), 4.5)
    agreement.df = math.inf
    assert round(agreement.critical_value(a_check), 3) == 4.565
    a, t = 0.025, np.array([0.25, 0.5, 0.75, 1.0])
    obf = 2 * (1 - stats.norm.cdf(stats.norm.ppf(1 - a / 2) / np.sqrt(t)))
    poc = a * np.log(1 + (math.e - 1) * t)
    for spent, name, quoted in ((obf, "obrien-fleming", [4.33, 2.96, 2.40, 2.16]),
                                (poc, "pocock", [2.37, 2.48, 2.56, 2.63])):
        b = stats.norm.isf(np.diff(np.concatenate([[0.0], spent])))
        assert np.allclose(spending_boundaries(a, t, spending=name), b, rtol=1e-12)
        assert np.round(b, 2).tolist() == quoted
