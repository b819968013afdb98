"""Reusable conformance checks for :class:`theory.laws.SpectralLaw` objects.

Usage (from any test module in ``tests/``)::

    from law_conformance import assert_conforms
    report = assert_conforms(law, exact_moments={1: 1, 2: 3})

Every check computes its expectation by a route independent of the method under test
(quadrature of ``pdf`` against ``cdf`` and ``moment``; finite differences of ``cdf`` against
``pdf``; ``cdf`` against ``ppf``; sampling against ``mean``), and raises ``AssertionError``
naming the law, the check and the numbers when it fails. The returned dict holds the
largest error seen per check (useful for reporting accuracy).

Quadrature (vectorized Gauss-Legendre, 64 nodes per piece, error estimated against 48) is
done piece by piece between quantiles of the law, in the variable ``log(x - a)`` (laws of deep products spread their mass over hundreds of decades), with
the right-most piece mapped by ``x = b - (b - x_n) t^m`` to remove an edge singularity
declared in ``law.edge_exponents``. The part of the law below the first quantile point
that is a positive float (for ``fuss_catalan(200)`` about 2.5% of the mass lies below the
smallest positive double) cannot be integrated in float64; it is checked against the
declared edge power law ``F(x) - atom ~ pdf(x) (x - a) / (1 + alpha_a)`` to ``edge_rtol``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["assert_conforms"]


def _fail(law, check, msg):
    raise AssertionError(f"{law!r}: {check}: {msg}")


_GL = {m: np.polynomial.legendre.leggauss(m) for m in (48, 64)}


def _piece_nodes(law, x0, x1, a, b, m):
    """Gauss-Legendre nodes ``x`` and weights (times the Jacobian) for ``int_{x0}^{x1} dx``.

    Interior pieces use ``s = log(x - a)``; the right-most piece (``x1 == b``) uses
    ``x = b - (b - x0) t^p`` with ``p`` removing the declared edge singularity, split into
    four panels.
    """
    t, w = _GL[m]
    if x1 >= b:
        alpha_b = float(law.edge_exponents[1])
        p = max(1.0, 2.0 / (1.0 + alpha_b)) if alpha_b < 0 else 2.0
        span = b - x0
        edges = np.linspace(0.0, 1.0, 5)
        tt = np.concatenate([0.5 * (e1 - e0) * t + 0.5 * (e1 + e0) for e0, e1 in zip(edges[:-1], edges[1:])])
        ww = np.concatenate([0.5 * (e1 - e0) * w for e0, e1 in zip(edges[:-1], edges[1:])])
        x = b - span * tt**p
        jac = span * p * tt ** (p - 1.0)
        return x, ww * jac
    s0, s1 = math.log(x0 - a), math.log(x1 - a)
    s = 0.5 * (s1 - s0) * t + 0.5 * (s1 + s0)
    x = a + np.exp(s)
    return x, 0.5 * (s1 - s0) * w * np.exp(s)


def _piece_integrals(law, points, a, b, powers):
    """``int x^k pdf`` over each piece, for each k in ``powers``; two orders, returns (value, error)."""
    out = {}
    for m in (48, 64):
        nodes = [_piece_nodes(law, x0, x1, a, b, m) for x0, x1 in zip(points[:-1], points[1:])]
        allx = np.concatenate([x for x, _ in nodes])
        pdf = np.asarray(law.pdf(allx))
        pos = 0
        vals = []
        for x, wts in nodes:
            f = pdf[pos : pos + len(x)]
            pos += len(x)
            vals.append([float(np.sum(wts * f * x**k)) for k in powers])
        out[m] = np.array(vals)
    return out[64], np.abs(out[64] - out[48])


def assert_conforms(
    law,
    exact_moments=None,
    *,
    k_max: int = 4,
    n_quantiles: int = 24,
    prob_atol: float = 1e-10,
    moment_rtol: float = 1e-9,
    roundtrip_atol: float = 1e-12,
    fd_rtol: float = 1e-6,
    edge_rtol: float = 2e-2,
    n_samples: int = 20000,
    n_roundtrip: int = 999,
    z_max: float = 5.0,
    seed: int = 12345,
):
    """Assert that ``law`` behaves like a probability law on its support.

    Parameters
    ----------
    law : SpectralLaw
    exact_moments : dict or sequence, optional
        ``{k: m_k}`` (or a sequence indexed by k) of exact raw moments; each must equal
        ``law.moment(k)`` and the quadrature of ``x^k pdf`` (plus the atom).
    k_max : int
        Highest moment checked by quadrature.
    n_quantiles : int
        Number of interior quantile points that cut the support into quadrature pieces.
    prob_atol, moment_rtol, roundtrip_atol, fd_rtol, edge_rtol : float
        Tolerances: probability of each piece vs the cdf increment and total mass;
        moments; ``|cdf(ppf(q)) - q|``; ``pdf`` vs the central difference of ``cdf`` (the
        step is ``1e-5 (x - a)``, so rounding contributes about ``1e-11 / (dlogF/dlogx)``);
        the left-tail power law.
    n_roundtrip : int
        Number of probabilities in the ``cdf(ppf(q))`` round trip.
    n_samples, z_max, seed : int, float, int
        ``rvs(n_samples, rng=seed)``: the sample mean must lie within ``z_max`` standard
        errors (``sqrt(var / n_samples)``) of ``mean()``; all samples in the support.

    Returns
    -------
    dict
        Largest error per check.
    """
    report = {}
    a, b = law.support()
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        _fail(law, "support", f"need finite a < b, got ({a}, {b})")
    atom = float(getattr(law, "atom", 0.0))
    atom_at = float(getattr(law, "atom_at", 0.0))
    if not (0.0 <= atom < 1.0) or (atom > 0 and not a <= atom_at <= b):
        _fail(law, "atom", f"atom={atom} at {atom_at} is not a valid atom on [{a}, {b}]")
    alpha_a, alpha_b = (float(e) for e in law.edge_exponents)

    # ------------------------------------------------------------------ input validation
    for name in ("pdf", "cdf", "sf", "ppf"):
        try:
            getattr(law, name)(np.array([0.5 * (a + b), np.nan]))
        except ValueError:
            pass
        else:
            _fail(law, "validation", f"{name}(NaN) did not raise ValueError")
    for bad in (-0.1, 1.1):
        try:
            law.ppf(bad)
        except ValueError:
            pass
        else:
            _fail(law, "validation", f"ppf({bad}) did not raise ValueError")

    # ------------------------------------------------------------------ ends and finiteness
    xs = np.concatenate([np.linspace(a, b, 257), [a - 1.0, b + 1.0, -np.inf, np.inf]])
    pdf = np.asarray(law.pdf(xs))
    cdf = np.asarray(law.cdf(xs))
    sf = np.asarray(law.sf(xs))
    if np.isnan(pdf).any() or np.isnan(cdf).any() or np.isnan(sf).any():
        _fail(law, "finite", "NaN from pdf/cdf/sf")
    inner = (xs > a) & (xs < b)
    if not np.isfinite(pdf[inner]).all() or (pdf < 0).any():
        _fail(law, "finite", "pdf not finite and >= 0 inside the support")
    if not math.isfinite(float(law.pdf(a))) and not alpha_a < 0:
        _fail(law, "ends", "pdf(a) is infinite but edge_exponents[0] >= 0 declares no divergence")
    if not math.isfinite(float(law.pdf(b))) and not alpha_b < 0:
        _fail(law, "ends", "pdf(b) is infinite but edge_exponents[1] >= 0 declares no divergence")
    if float(law.cdf(b)) != 1.0 or float(law.cdf(b + 1.0)) != 1.0 or float(law.sf(b)) != 0.0:
        _fail(law, "ends", "cdf(b) must be 1 and sf(b) 0")
    below = atom if (atom > 0 and atom_at == a) else 0.0
    if float(law.cdf(a - 1.0)) != 0.0 or abs(float(law.cdf(a)) - below) > 1e-15:
        _fail(law, "ends", f"cdf below a must be 0 and cdf(a) = {below}, got {float(law.cdf(a))}")
    if float(law.pdf(a - 1.0)) != 0.0 or float(law.pdf(b + 1.0)) != 0.0:
        _fail(law, "ends", "pdf must vanish outside the support")
    err = float(np.max(np.abs(cdf + sf - 1.0)))
    report["cdf+sf-1"] = err
    if err > 4e-16 * 4:
        _fail(law, "cdf+sf", f"max |cdf + sf - 1| = {err:.3g}")
    if float(law.ppf(0.0)) != a or float(law.ppf(1.0)) != b:
        _fail(law, "ppf ends", f"ppf(0) = {float(law.ppf(0.0))}, ppf(1) = {float(law.ppf(1.0))}")

    # ------------------------------------------------------------------ monotone cdf
    q = np.linspace(0.0, 1.0, n_quantiles + 2)[1:-1]
    xq = np.asarray(law.ppf(q))
    grid = np.unique(np.concatenate([xs[inner], xq[(xq > a) & (xq < b)]]))
    cg = np.asarray(law.cdf(grid))
    if (np.diff(cg) < -1e-15).any():
        _fail(law, "monotone", f"cdf decreases by {-np.diff(cg).min():.3g}")
    if (np.diff(np.asarray(law.ppf(np.linspace(0, 1, n_roundtrip + 2)))) < 0).any():
        _fail(law, "monotone", "ppf decreases")

    # ------------------------------------------------------------------ cdf/ppf round trip
    qq = np.linspace(1e-3, 1.0 - 1e-3, n_roundtrip)
    if atom > 0:
        qq = qq[qq > atom + 1e-9]
    xr = np.asarray(law.ppf(qq))
    # ppf(q) == a: the true quantile underflows (or is the atom); subnormal x has lost bits: skip both
    ok = (xr - a) >= np.finfo(float).tiny
    err = float(np.max(np.abs(np.asarray(law.cdf(xr[ok])) - qq[ok]))) if ok.any() else 0.0
    report["roundtrip"] = err
    if err > roundtrip_atol:
        _fail(law, "cdf(ppf(q)) = q", f"max error {err:.3g} > {roundtrip_atol:g}")

    # ------------------------------------------------------------------ pdf = d cdf / dx
    xf = grid[(grid > a) & (grid < b)]
    h = 1e-5 * np.minimum(xf - a, b - xf)
    xf, h = xf[h > 0], h[h > 0]
    fd = (np.asarray(law.cdf(xf + h)) - np.asarray(law.cdf(xf - h))) / (2 * h)
    p = np.asarray(law.pdf(xf))
    rel = np.abs(fd - p) / np.maximum(p, 1e-300)
    # rounding floor of the central difference: eps * F / (h pdf)
    floor = 8 * np.finfo(float).eps * np.maximum(np.asarray(law.cdf(xf)), 1e-300) / (h * np.maximum(p, 1e-300))
    bad = rel > fd_rtol + floor
    report["pdf-vs-dcdf"] = float(np.max(rel))
    if bad.any():
        i = int(np.argmax(np.where(bad, rel, -1)))
        _fail(law, "pdf = dcdf/dx", f"at x = {xf[i]:.6g}: pdf {p[i]:.12g}, finite difference {fd[i]:.12g}")

    # ------------------------------------------------------------------ mass and moments by quadrature
    fixed = a + (b - a) * np.array([1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97, 0.99])
    cuts = np.unique(np.concatenate([xq[(xq > a) & (xq < b)], fixed]))
    cuts = cuts[(cuts > a) & (cuts < b)]
    x_first = float(cuts[0])
    points = list(cuts) + [b]
    powers = list(range(0, k_max + 1))
    vals, errs = _piece_integrals(law, points, a, b, powers)
    incs = np.diff(np.asarray(law.cdf(np.array(points))))
    worst = float(np.max(np.abs(vals[:, 0] - incs)))
    report["piece-vs-cdf"] = worst
    report["quadrature-error-estimate"] = float(np.max(errs[:, 0]))
    if worst > prob_atol:
        i = int(np.argmax(np.abs(vals[:, 0] - incs)))
        _fail(law, "int pdf = cdf increments", f"piece [{points[i]:.4g}, {points[i+1]:.4g}]: quadrature {vals[i, 0]!r}, cdf increment {incs[i]!r}")
    total = float(np.sum(vals[:, 0]))
    # left tail: cdf(x_first) against the declared edge power law
    tail_cdf = float(law.cdf(x_first)) - below
    tail_pow = float(law.pdf(x_first)) * (x_first - a) / (1.0 + alpha_a)
    report["left-tail"] = abs(tail_pow - tail_cdf) / max(tail_cdf, 1e-300)
    if x_first - a < 1e-6 * (b - a) and abs(tail_pow - tail_cdf) > edge_rtol * tail_cdf + prob_atol:
        _fail(law, "left tail", f"cdf(x) = {tail_cdf:.6g} vs pdf(x) (x - a)/(1 + alpha) = {tail_pow:.6g} at x = {x_first:.3g}")
    mass = below + tail_cdf + total + (atom if atom_at > a and atom > 0 else 0.0)
    report["mass"] = abs(mass - 1.0)
    if abs(mass - 1.0) > prob_atol * len(points):
        _fail(law, "mass", f"atom + int pdf = {mass!r}, expected 1")

    if exact_moments is not None:
        items = exact_moments.items() if isinstance(exact_moments, dict) else enumerate(exact_moments)
        for k, mk in items:
            if law.moment(k) != mk:
                _fail(law, "exact moment", f"moment({k}) = {law.moment(k)!r}, expected {mk!r}")
    worst = 0.0
    for k in range(1, k_max + 1):
        quad = float(np.sum(vals[:, k])) + atom * atom_at**k
        # left tail [a, x_first]: power law pdf ~ C (x - a)^alpha_a; for a = 0 the tail moment
        # is pdf(x1) x1^(k+1) / (k + 1 + alpha_a), checked to edge_rtol
        if a == 0.0:
            tail_k = float(law.pdf(x_first)) * x_first ** (k + 1) / (k + 1 + alpha_a)
            slack = edge_rtol * tail_k
        else:
            tail_k = tail_cdf * a**k
            slack = tail_cdf * abs(x_first**k - a**k)
        quad += tail_k
        mk = float(law.moment(k))
        rel = abs(quad - mk) / abs(mk)
        worst = max(worst, rel)
        if abs(quad - mk) > moment_rtol * abs(mk) + slack:
            _fail(law, "moment = int x^k pdf", f"k = {k}: quadrature {quad!r}, moment {mk!r}")
    report["moments"] = worst

    # ------------------------------------------------------------------ mean / var / std / interval
    m1, m2 = float(law.moment(1)), float(law.moment(2))
    if abs(law.mean() - m1) > 1e-15 * abs(m1) or abs(law.var() - (m2 - m1 * m1)) > 1e-12 * max(1.0, m2):
        _fail(law, "mean/var", f"mean {law.mean()}, var {law.var()} vs moments {m1}, {m2}")
    if abs(law.std() ** 2 - law.var()) > 1e-12 * max(1.0, law.var()):
        _fail(law, "std", "std^2 != var")
    lo, hi = law.interval(0.9)
    if not (a <= lo <= hi <= b):
        _fail(law, "interval", f"interval(0.9) = ({lo}, {hi}) not inside the support")

    # ------------------------------------------------------------------ sampling
    s = np.asarray(law.rvs(n_samples, rng=seed))
    s2 = np.asarray(law.rvs(n_samples, rng=seed))
    if s.shape != (n_samples,) or not np.array_equal(s, s2):
        _fail(law, "rvs", "wrong shape or not reproducible at a fixed seed")
    if np.isnan(s).any() or (s < a).any() or (s > b).any():
        _fail(law, "rvs", "samples outside the support")
    se = math.sqrt(law.var() / n_samples)
    z = (float(np.mean(s)) - law.mean()) / se
    report["rvs-z"] = z
    if abs(z) > z_max:
        _fail(law, "rvs mean", f"sample mean {np.mean(s):.6g} vs {law.mean():.6g}: z = {z:.2f}")
    return report
