"""The law of a free multiplicative convolution as a certified distribution object.

:class:`FreeProductLaw` turns an S-transform into a :class:`~degeneracy.theory.laws.SpectralLaw`:
density from the solver of :mod:`degeneracy.theory.free_density`, atoms from the factors
(the atom at 0 has mass ``max`` of the factors' atoms at 0 (Belinschi); an atom at
``x_a = 1 / S(inf)`` with mass ``1 - s_inf`` exists when
``S(m) = S(inf) (1 + s_inf / m + O(m^-2))`` with ``s_inf < 1``, e.g. hard-tanh masks with
orthogonal weights: mass ``1 - L (1 - p)`` at ``sigma_w^{2L}``), CDF and quantiles by quadrature
of the density of ``log x``, moments from the series of ``S``. Every answer is certified
(residual, sign of ``Im M``, accepted continuation, mass) or
:class:`~degeneracy.errors.CertificationError` is raised.

Examples
--------
>>> from degeneracy.theory.s_transform import STransform
>>> law = FreeProductLaw(STransform.wishart() ** 2)
>>> round(float(law.cdf(1.0)), 8)
0.68582364
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp
from scipy.optimize import elementwise

from degeneracy.errors import ArgumentTypeError, CertificationError
from degeneracy.validation import check_finite_array, check_int

from .free_density import Equation, continue_to_real_axis, critical_points
from .free_factors import _Discrete, law_numeric, linear_offset
from .free_series import moments_from_s_transform, numeric_log_s_series, numeric_moments
from .laws import SpectralLaw, _rng

__all__ = ["FreeProductLaw", "MAX_LEVEL", "FINE_TOL", "TAIL_LEVEL"]

#: refinements of a continuous law factor's quadrature the solver may take before it refuses
MAX_LEVEL = 3
#: the density of log x (relative to the continuous mass) below which the lower tail is bounded rather
#: than integrated: its mass is then ~TAIL_LEVEL / (decay rate), far below the 1e-9 of the mass certificate
TAIL_LEVEL = 1e-12
#: the residual of the log-equation evaluated with the next finer quadrature of a continuous law factor
#: (two resolutions agreeing); 1e-8 leaves room for the relative precision of 1 + m deep in the tails
FINE_TOL = 1e-8


_GL24 = np.polynomial.legendre.leggauss(24)
_GL17 = np.polynomial.legendre.leggauss(17)
_LEG24 = np.polynomial.legendre.legvander(_GL24[0], 23).T  # P_k(x_i), shape (24, 24)


def _panel_edges(s_lo: float, s_hi: float, *, graded_low: bool) -> np.ndarray:
    """Panel ends on ``[s_lo, s_hi]``: 0.25 wide at the upper edge, growing by 8% per panel away from
    it (the density of ``log x`` is smooth there); with ``graded_low`` (a square-root edge at
    ``s_lo`` too) the same grading from both ends, meeting in the middle, so that no panel is
    closer to an edge than its own width.

    >>> _panel_edges(0.0, 1.0, graded_low=True).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    span = s_hi - s_lo
    half = span / 2 if graded_low else span
    d = [0.0]
    while d[-1] < half:
        d.append(min(half, d[-1] + max(0.25, 0.08 * d[-1])))
    if len(d) > 2 and d[-1] - d[-2] < 0.5 * (d[-2] - d[-3]):
        del d[-2]  # no sliver panel where the gradings meet
    d = np.array(d)
    if not graded_low:
        out = s_hi - d[::-1]
        out[0] = s_lo
        return out
    if len(d) == 2:
        return np.array([s_lo, s_lo + half, s_hi])
    return np.concatenate([s_lo + d[:-1], s_hi - d[::-1]])


def _panel_map(a, b, kind, tau):
    """``s(tau)`` and ``s'(tau)`` on a panel ``[a, b]``, ``tau in [-1, 1]``: linear (kind 0);
    ``b - (b - a) ((1 - tau)/2)^2`` (kind 1, a square-root edge at ``b``); ``a + (b - a)
    ((1 + tau)/2)^2`` (kind 2, an edge at ``a``)."""
    a, b, kind, tau = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float), np.asarray(kind), np.asarray(tau, float))
    w = b - a
    s = np.where(kind == 0, a + w * (tau + 1) / 2, np.where(kind == 1, b - w * ((1 - tau) / 2) ** 2,
                                                            a + w * ((1 + tau) / 2) ** 2))
    ds = np.where(kind == 0, w / 2, np.where(kind == 1, w * (1 - tau) / 2, w * (1 + tau) / 2))
    return s, ds


def _panel_tau(a, b, kind, s):
    """The inverse of :func:`_panel_map`."""
    w = b - a
    with np.errstate(invalid="ignore"):
        return np.where(kind == 0, 2 * (s - a) / w - 1, np.where(kind == 1, 1 - 2 * np.sqrt(np.maximum(b - s, 0) / w),
                                                                2 * np.sqrt(np.maximum(s - a, 0) / w) - 1))


class FreeProductLaw(SpectralLaw):
    """The law with S-transform ``S`` as a :class:`~theory.laws.SpectralLaw`.

    ``pdf`` is the density of the continuous part (certified, see the module docstring);
    :attr:`atom` is the mass at 0 (``atom_at = 0``) and :attr:`atoms` lists every atom as
    ``(location, mass)``, including a possible atom away from 0 (then ``cdf`` jumps there too).
    ``support()`` is the hull of the continuous support and the atoms; :attr:`intervals` the
    support intervals of the continuous part, whose ends (:attr:`edges`) are critical values
    of ``x(m) = (1 + m) / (m S(m))``. Moments come from the series of ``S`` (no quadrature);
    :meth:`quadrature_moment` integrates the density instead (an independent check).

    Examples
    --------
    >>> from degeneracy.theory.s_transform import STransform
    >>> law = (STransform.wishart() ** 2).law()
    >>> [round(e, 12) for e in law.support()]
    [0.0, 6.75]
    >>> np.round(law.pdf([0.5, 1.0, 3.0]), 6).tolist()
    [0.31831, 0.178979, 0.059973]
    >>> round(float(law.cdf(1.0)), 8), round(law.quadrature_moment(2), 8)
    (0.68582364, 3.0)
    """

    def __init__(self, S):
        if not all(hasattr(S, a) for a in ("const", "linear", "discrete_factors", "atom_at_zero")):
            raise ArgumentTypeError(f"S must be an STransform, got {type(S).__name__}")
        self.S = S
        self._eq = Equation(S)
        self.atom = S.atom_at_zero
        self.atoms = []
        if self.atom > 0:
            self.atoms.append((0.0, self.atom))
        xa = self._atom_away_from_zero()
        inner = self._interior_atoms()
        self.atoms += sorted(inner)
        if xa is not None:
            self.atoms.append(xa)
        self.continuous_mass = 1.0 - sum(m for _, m in self.atoms)
        if xa is not None and not inner:  # 1 - a_0 - (1 - s_inf), without cancellation
            self.continuous_mass = self._s_inf - self.atom
        if self.continuous_mass < -1e-12:
            raise CertificationError("atoms carry more than unit mass")
        self._intervals = self._support_intervals() if self.continuous_mass > 1e-14 else []
        self._table = None
        self._grid = None
        self.edge_exponents = (0.5, 0.5)
        if self._intervals:
            lo, hi = self._intervals[0][0], self._intervals[-1][1]
            if lo == 0:  # x rho ~ x^(alpha + 1) as x -> 0: measured as deep as the solver resolves it
                alo = None
                for d in (40.0, 20.0, 12.0):
                    s0 = math.log(hi) - d
                    try:
                        xr = self._solve(np.array([s0, s0 + 1.0]))[0]
                    except CertificationError:
                        continue
                    if np.all(xr > 1e-200 * self.continuous_mass):
                        alo = (math.log(xr[1]) - math.log(xr[0])) - 1.0
                        break
                if alo is None:
                    raise CertificationError("the density of log x is not resolved 12 units below the upper edge")
            else:
                xr = self._solve(np.log(lo * np.array([1 + 1e-6, 1 + 1e-7])))[0]
                alo = math.log(xr[0] / xr[1]) / math.log(10.0)
            xr = self._solve(np.log(hi * np.array([1 - 1e-6, 1 - 1e-7])))[0]
            ahi = math.log(xr[0] / xr[1]) / math.log(10.0)
            # pdf ~ C d^alpha at an edge (measured between d = 1e-7 and 1e-6 relative)
            self.edge_exponents = (alo, ahi)

    # ---- atoms and edges --------------------------------------------------------------------
    def _atom_away_from_zero(self):
        """``(1 / S(inf), 1 - s_inf)`` when ``S(m) = S(inf) (1 + s_inf / m + ...)`` with ``s_inf < 1``."""
        S = self.S
        power = sum(f.e for f in S.linear if float(f.b) > 0)
        if power != 0:
            return None
        log_c = math.log(float(S.const))
        s_inf = 0.0
        for f in S.linear:
            a, b = float(f.a), float(f.b)
            if b > 0:
                log_c += f.e * math.log(b)
                # sum e a/b = sum e (a - b)/b since the exponents of these factors add to 0: no
                # cancellation for Bernoulli masks with p next to 1
                s_inf += f.e * linear_offset(f.a, f.b) / b
            else:
                log_c += f.e * math.log(a)
        for f in S.discrete_factors:
            d = law_numeric(f)
            log_c -= f.e * math.log(d.vmax)
            s_inf += f.e * (1 - d.wmax)
        mass = 1 - s_inf
        self._s_inf = s_inf
        if mass <= 1e-14:
            return None
        return (math.exp(-log_c), mass)

    def _interior_atoms(self) -> list:
        """Atoms of a power ``mu^{boxtimes e}`` of one law factor below its top (times scalings): an
        atom at ``v^e`` iff ``mu({v}) > 1 - 1/e``, of mass ``e mu({v}) - (e - 1)`` (Belinschi 2003;
        at depth 1 every atom of the law of ``phi'(h)^2`` is an atom of the spectrum). Only for a
        single law factor and pure scalings (orthogonal weights)."""
        S = self.S
        if len(S.discrete_factors) != 1 or any(float(f.b) > 0 for f in S.linear):
            return []
        f = S.discrete_factors[0]
        d = law_numeric(f)
        log_scale = -math.log(float(S.const)) - sum(g.e * math.log(float(g.a)) for g in S.linear)
        out = []
        for v, w in zip(d.v, d.w):
            mass = f.e * w - (f.e - 1)
            if v < d.vmax and mass > 1e-14:
                out.append((math.exp(log_scale + f.e * math.log(v)), float(mass)))
        return out

    def _support_intervals(self):
        crit = critical_points(self._eq)
        edges = sorted({x for _, x in crit if x > 0})
        if not edges:
            raise CertificationError("no support edge found for the continuous part")
        bounds = [0.0] + edges
        intervals = []
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            # probe points spread over the interval in log x and next to both ends (a narrow law sits
            # within 1e-3 of one edge): the interval is support iff the density is positive there
            if lo > 0:
                span = math.log(hi / lo)
                probes = np.log(lo) + span * np.array([1e-3, 1e-2, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-3])
            else:
                probes = math.log(hi) + np.log(np.array([1e-3, 0.1, 0.5, 0.9, 0.99, 0.999]))
            xrho = self._solve(probes, certify=True)[0]  # density of log x
            if np.any(xrho > 1e-12 * self.continuous_mass):
                if intervals and intervals[-1][1] == lo:
                    intervals[-1] = (intervals[-1][0], hi)
                else:
                    intervals.append((lo, hi))
        if not intervals:
            raise CertificationError("continuous mass but no interval with positive density")
        self.edges = edges
        return intervals

    # ---- solver -----------------------------------------------------------------------------
    def _solve(self, logx: np.ndarray, certify: bool = True):
        """``(x rho(x), m)`` at the points ``exp(logx)``, certified on every call.

        Certificates: the continuation reached the axis, ``m`` is finite with ``Im m <= 0`` (the
        physical branch), the residual of ``w m S(m) = 1 + m`` is below ``1e-9``, and, with a
        continuous law factor, the residual is below ``1e-9`` also when the factor's integrals are
        evaluated by the next finer quadrature (an independent rule); where it is not, the points
        are solved again with the finer rule (up to :data:`MAX_LEVEL` refinements).
        """
        logx = np.asarray(logx, dtype=float)
        flat = logx.ravel()
        eq = self._eq
        base = eq.level
        u, m, theta, stuck = continue_to_real_axis(eq, flat)
        level = np.full(flat.size, base)
        fine_res = np.zeros(flat.size)
        try:
            if eq.continuous:
                todo = np.arange(flat.size)
                for lev in range(base, base + MAX_LEVEL + 1):
                    if todo.size == 0:
                        break
                    eq.level = lev + 1
                    Ff, _ = eq.F_and_dF(u[todo], flat[todo] + 1j * theta[todo])
                    fine_res[todo] = np.abs(Ff)
                    bad = todo[~(np.abs(Ff) <= FINE_TOL)]
                    if bad.size == 0 or lev == base + MAX_LEVEL:
                        break
                    ub, mb, tb, sb = continue_to_real_axis(eq, flat[bad])
                    u[bad], m[bad], theta[bad], stuck[bad] = ub, mb, tb, sb
                    level[bad] = lev + 1
                    todo = bad
            F = np.empty(flat.size, complex)
            for lev in np.unique(level):
                sel = level == lev
                eq.level = int(lev)
                F[sel] = eq.F_and_dF(u[sel], flat[sel] + 1j * theta[sel])[0]
        finally:
            eq.level = base
        if certify:
            bad = stuck | ~np.isfinite(m) | ~(np.abs(F) <= 1e-9) | (m.imag > 1e-9 * np.abs(m)) | ~(fine_res <= FINE_TOL)
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                what = ("continuation failed" if stuck[i] else "m not finite" if not np.isfinite(m[i]) else
                        f"residual {abs(F[i]):.2e} > 1e-9" if not abs(F[i]) <= 1e-9 else
                        f"Im m = {m[i].imag:.2e} > 0 (unphysical branch)" if m[i].imag > 1e-9 * abs(m[i]) else
                        f"the finer quadrature of the law factor leaves residual {fine_res[i]:.2e} > {FINE_TOL:g}")
                raise CertificationError(f"density solver could not certify the root at log x = {flat[i]:.6g}: {what}")
        xrho = np.abs(m.imag) / np.pi
        return xrho.reshape(logx.shape), m.reshape(logx.shape)

    def _inside(self, x):
        inside = np.zeros(np.shape(x), bool)
        for lo, hi in self._intervals:
            inside |= (x > lo) & (x < hi)
        return inside

    def _support(self) -> tuple[float, float]:
        pts = [x for x, _ in self.atoms]
        for lo, hi in self._intervals:
            pts += [lo, hi]
        lo, hi = min(pts), max(pts)
        if hi <= lo:  # a single point mass: widen to a float-width interval for the base class
            hi = lo + max(abs(lo), 1.0) * 1e-15
        return (lo, float(np.float64(hi)))

    def _pdf_at_ends(self) -> tuple[float, float]:
        return (math.inf if self.edge_exponents[0] < 0 else 0.0, 0.0)

    @property
    def intervals(self) -> list:
        """Support intervals of the continuous part (from the critical points of ``x(m)``)."""
        return list(self._intervals)

    def xpdf(self, x) -> np.ndarray:
        """``x rho(x)``: the density of ``log x`` (of the continuous part)."""
        x = check_finite_array("x", x)
        out = np.zeros(x.shape)
        inside = self._inside(x)
        if np.any(inside):
            out[inside] = self._solve(np.log(x[inside]))[0]
        return out

    def logpdf_logx(self, logx) -> np.ndarray:
        """Density of ``log x`` at ``log x`` given directly (no underflow at depth ~100)."""
        logx = check_finite_array("logx", logx)
        out = np.zeros(logx.shape)
        with np.errstate(over="ignore"):
            x = np.exp(logx)
        inside = self._inside(x) | ((x == 0) & (self._intervals[0][0] == 0) if self._intervals else False)
        if np.any(inside):
            out[inside] = self._solve(logx[inside])[0]
        return out

    def _pdf(self, x) -> np.ndarray:
        """Density ``rho(x) = -Im M(x + i0) / (pi x)`` of the continuous part (0 off its support)."""
        x = np.asarray(x, dtype=float)
        out = np.zeros(x.shape)
        inside = self._inside(x)
        if np.any(inside):
            out[inside] = self._solve(np.log(x[inside]))[0] / x[inside]
        return out

    # ---- cdf via a certified quadrature table --------------------------------------------------
    def _table_or_build(self):
        if self._table is None and self._intervals:
            self._table = self._certified_table()  # assigned only after every certificate held
        return self._table

    def _certified_table(self) -> list:
        """Per support interval, panels in ``s = log x`` with the density of ``log x`` represented
        by its Legendre interpolant at 24 Gauss-Legendre nodes (in a variable that makes the
        square-root edges analytic), and the cumulative mass at the panel ends.

        Panels are 0.25 wide in ``log x`` next to the upper edge and grow geometrically below (the
        density of ``log x`` is smooth there). End panels next to a support edge use
        ``s = b - (b - a) u^2`` (resp. ``a + (b - a) u^2``), which turns ``(b - s)^{1/2}`` and
        ``(b - s)^{-1/2}`` edges into analytic integrands. For an interval reaching 0 the mass below
        the first panel (where ``x rho(x) <`` :data:`TAIL_LEVEL` of the continuous mass) is bounded from the local
        power law. Certificates, checked before the table is kept (else
        :class:`~degeneracy.errors.CertificationError`, and nothing is stored):

        * every panel's interpolant agrees with a direct solve at a non-node point (panels that do not
          are split, adaptively);
        * every end panel's integral agrees with a 17-point rule (two resolutions, ``1e-9`` relative);
        * the total mass equals the continuous mass ``1 - sum(atoms)`` and the first moment the
          series moment minus the atoms' share, both to ``1e-9`` relative.
        """
        tables = []
        cm = self.continuous_mass
        for lo, hi in self._intervals:
            shi = math.log(hi)
            if lo == 0:
                # the lower end: scan down (unit steps, then 10% steps) for the first point where the
                # density of log x is below 1e-15 of the continuous mass; then certify it and its
                # upper neighbour and bound the mass below by the local exponential decay
                d = np.concatenate([np.arange(1.0, 60.0), 60.0 * 1.1 ** np.arange(0, 100)])
                d = d[d < 40000]
                i = None
                for c0 in range(0, d.size, 20):  # in chunks: never solve far below where it is needed
                    scan = self._solve(shi - d[c0:c0 + 20], certify=False)[0]
                    below = np.flatnonzero(~(scan > TAIL_LEVEL * cm))
                    if below.size:
                        i = c0 + int(below[0])
                        break
                if i is None:
                    raise CertificationError(f"the density of log x does not fall below {TAIL_LEVEL:g} of the continuous mass "
                                             f"above log x = {shi - d[-1]:.6g}")
                s_lo, s_up = shi - d[i], shi - (d[i - 1] if i > 0 else 0.5 * d[0])
                xr0 = self._solve(np.array([s_lo, s_up]))[0]
                beta = (math.log(max(xr0[1], 1e-300)) - math.log(max(xr0[0], 1e-300))) / (s_up - s_lo)
                if not beta > 0:
                    raise CertificationError(f"the density of log x does not decay below log x = {s_lo:.6g}: "
                                             "the lower tail of the law is not resolved")
                tail = float(xr0[0] / beta)
            else:
                s_lo, tail = math.log(lo), 0.0
            edges = _panel_edges(s_lo, shi, graded_low=lo > 0)
            kind = np.zeros(len(edges) - 1, int)
            kind[-1] = 1
            if lo > 0:
                kind[0] = 2
            edges, kind, coef, mass = self._adaptive_panels(edges, kind, cm)
            # certificate 2: the edge panels by a second rule (17-point Gauss-Legendre in the same
            # variable): two resolutions must agree
            ends = np.flatnonzero(kind > 0)
            ref = self._panel_mass(edges[ends], edges[ends + 1], kind[ends], _GL17)
            if not np.all(np.abs(ref - mass[ends]) <= 1e-9 * np.abs(ref) + 1e-15 * cm):
                k = int(np.argmax(np.abs(ref - mass[ends])))
                j = int(ends[k])
                raise CertificationError(f"the edge panel [{edges[j]:.6g}, {edges[j + 1]:.6g}] integrates to "
                                         f"{mass[j]:.12g} with 24 nodes but {ref[k]:.12g} with 17")
            cum = tail + np.concatenate([[0.0], np.cumsum(mass)])
            tables.append({"edges": edges, "kind": kind, "coef": coef, "cum": cum, "tail": tail, "lo": lo})
        quad_mass = float(sum(t["cum"][-1] for t in tables))
        # certificate 3: total mass and first moment against the atoms and the series
        if not abs(quad_mass - cm) <= 1e-9 * cm + 1e-15:
            raise CertificationError(f"the density integrates to {quad_mass:.15g} but the continuous part must carry "
                                     f"{cm:.15g} (1 minus the atoms): a support interval or edge was missed")
        top = max(t["edges"][-1] for t in tables)
        m1_quad = sum(self._table_moment(t, 1, top) for t in tables)  # in units of e^top
        log_m1 = -float(numeric_log_s_series(self.S, 1)[0])
        m1_atoms = sum(mass * math.exp(math.log(loc) - top) for loc, mass in self.atoms if loc > 0)
        m1_cont = math.exp(log_m1 - top) - m1_atoms
        if not abs(m1_quad - m1_cont) <= 1e-8 * abs(m1_cont) + 1e-14 * math.exp(log_m1 - top):
            raise CertificationError(f"the density's first moment {m1_quad * math.exp(top):.12g} differs from the "
                                     f"series value {m1_cont * math.exp(top):.12g} of the continuous part")
        self.quadrature_mass = quad_mass
        return tables

    def _panel_fit(self, edges: np.ndarray, kind: np.ndarray):
        """Legendre coefficients ``(P, 24)`` of ``g(tau) = x rho(x(s(tau))) s'(tau)`` per panel, and
        each panel's mass (24-point Gauss-Legendre in ``tau``)."""
        x, w = _GL24
        a, b = edges[:-1], edges[1:]
        tau = np.broadcast_to(x, (len(a), x.size))
        s_nodes, ds = _panel_map(a[:, None], b[:, None], kind[:, None], tau)
        g = self._solve(s_nodes.ravel())[0].reshape(s_nodes.shape) * ds
        mass = g @ w
        coef = (g * w) @ _LEG24.T * (np.arange(24) + 0.5)
        return coef, mass

    def _panel_mass(self, a, b, kind, rule) -> np.ndarray:
        """Each panel's mass by the Gauss-Legendre ``rule`` in the panel variable ``tau``."""
        x, w = rule
        tau = np.broadcast_to(x, (len(a), x.size))
        s_nodes, ds = _panel_map(np.asarray(a)[:, None], np.asarray(b)[:, None], np.asarray(kind)[:, None], tau)
        return (self._solve(s_nodes.ravel())[0].reshape(s_nodes.shape) * ds) @ w

    def _adaptive_panels(self, edges, kind, cm, max_rounds: int = 10):
        """Fit every panel; split the panels whose interpolant misses a direct solve at the
        non-node point ``tau = 0`` by more than ``1e-9`` of its largest coefficient (certificate 1),
        until none does (or refuse). An end panel keeps its edge half as an end panel."""
        for _ in range(max_rounds):
            coef, mass = self._panel_fit(edges, kind)
            tau = np.zeros(len(kind))
            s_mid, ds_mid = _panel_map(edges[:-1], edges[1:], kind, tau)
            g_mid = self._solve(s_mid)[0] * ds_mid
            g_fit = np.polynomial.legendre.legval(tau, coef.T, tensor=False)
            scale = np.max(np.abs(coef), axis=1) + 1e-300
            bad = ~(np.abs(g_mid - g_fit) <= 1e-9 * scale + 1e-13 * cm)
            if not np.any(bad):
                return edges, kind, coef, mass
            new_edges, new_kind = [edges[0]], []
            for j in range(len(kind)):
                a, b = edges[j], edges[j + 1]
                if bad[j]:
                    m = s_mid[j] if kind[j] == 0 else (a + b) / 2
                    new_edges += [m, b]
                    new_kind += [0 if kind[j] == 1 else kind[j], 1 if kind[j] == 1 else 0]
                else:
                    new_edges.append(b)
                    new_kind.append(kind[j])
            edges, kind = np.array(new_edges), np.array(new_kind)
        j = int(np.flatnonzero(bad)[0])
        raise CertificationError(f"the density of log x is not resolved on the panel [{edges[j]:.6g}, {edges[j + 1]:.6g}] "
                                 f"after {max_rounds} refinements (interpolant {g_fit[j]:.6g}, solve {g_mid[j]:.6g})")

    def _table_moment(self, t: dict, k: int, shift: float) -> float:
        """``int e^{k (s - shift)} x rho(x) ds`` over one interval from its table (24-point rule)."""
        x, w = _GL24
        a, b = t["edges"][:-1], t["edges"][1:]
        tau = np.broadcast_to(x, (len(a), x.size))
        s_nodes, _ = _panel_map(a[:, None], b[:, None], t["kind"][:, None], tau)
        g = np.polynomial.legendre.legval(tau.T, t["coef"].T, tensor=False).T  # the stored interpolant at the nodes
        out = float(np.sum(g * np.exp(k * (s_nodes - shift)) * w))
        if k == 0:
            out += t["tail"]
        return out

    def quadrature_moment(self, k: int) -> float:
        """``E[X^k]`` by integrating the certified density (plus atoms): an independent check of
        :meth:`moment`, which comes from the series (``k = 0`` gives the total mass)."""
        k = check_int("k", k, minimum=0)
        total = sum(m * (loc**k if k else 1.0) for loc, m in self.atoms)
        tables = self._table_or_build() or []
        if not tables:
            return total
        top = max(t["edges"][-1] for t in tables)
        cont = sum(self._table_moment(t, k, top) for t in tables)
        return total + cont * math.exp(k * top)

    def _cont_cdf_logx(self, s: np.ndarray) -> np.ndarray:
        """Continuous mass below ``exp(s)`` (``s`` 1-D), from the certified table (no new solves)."""
        out = np.zeros(s.shape)
        for t in self._table_or_build() or []:
            edges, cum = t["edges"], t["cum"]
            out += np.where(s >= edges[-1], cum[-1], 0.0)
            inside = (s > edges[0]) & (s < edges[-1])
            if np.any(inside):
                si = s[inside]
                j = np.clip(np.searchsorted(edges, si) - 1, 0, len(edges) - 2)
                tau = _panel_tau(edges[j], edges[j + 1], t["kind"][j], si)
                ic = np.polynomial.legendre.legint(t["coef"][j].T, lbnd=-1)
                out[inside] += cum[j] + np.polynomial.legendre.legval(tau, ic, tensor=False)
        return out

    def _cdf(self, x) -> np.ndarray:
        """``P(X <= x)`` including every atom; the continuous part from the certified table."""
        x = np.asarray(x, dtype=float)
        out = np.zeros(x.shape)
        for loc, mass in self.atoms:
            out = out + mass * (x >= loc)
        if self._intervals:
            flat = x.ravel()
            pos = flat > 0
            cont = np.zeros(flat.shape)
            cont[pos] = self._cont_cdf_logx(np.log(flat[pos]))
            out = out + cont.reshape(x.shape)
        return np.clip(out, 0.0, 1.0)

    def _cdf_logx(self, s: np.ndarray) -> np.ndarray:
        """``P(X <= e^s)`` (atoms included) as a function of ``s = log x``."""
        out = self._cont_cdf_logx(s)
        for loc, mass in self.atoms:
            out = out + mass * ((loc == 0) | (s >= (math.log(loc) if loc > 0 else -np.inf)))
        return out

    def _ppf(self, q) -> np.ndarray:
        """Smallest ``x`` with ``cdf(x) >= q`` (``exp`` of :meth:`_log_ppf`; 0 at the atom at 0)."""
        q = np.asarray(q, dtype=float)
        with np.errstate(under="ignore"):
            return np.exp(self._log_ppf(q))

    def _log_ppf(self, q) -> np.ndarray:
        """``log`` of the smallest ``x`` with ``cdf(x) >= q``: bracket on the panel ends, then
        Chandrupatla's method (:func:`scipy.optimize.elementwise.find_root`) on ``cdf(e^s) - q`` in
        ``s = log x`` (finite where the quantile lies below the smallest double; ``-inf`` at the atom at 0)."""
        q = np.asarray(q, dtype=float)
        flat = q.ravel()
        out = np.full(flat.shape, -np.inf)
        grid_s, grid_c = self._cdf_grid()
        todo = flat > self.atom
        if grid_s.size == 0 or not np.any(todo):
            return out.reshape(q.shape)
        qq = flat[todo]
        j = np.clip(np.searchsorted(grid_c, qq), 0, grid_s.size - 1)
        lo = np.where(j > 0, grid_s[np.maximum(j - 1, 0)], grid_s[0] - 50.0)
        hi = grid_s[j]
        exact = grid_c[j] == qq
        res = elementwise.find_root(lambda v, qv: self._cdf_logx(v) - qv, (lo, np.maximum(hi, lo + 1e-300)), args=(qq,),
                                    tolerances={"xatol": 1e-14, "xrtol": 4e-16})
        # the smallest s with cdf >= q: the bracket end on the "cdf >= q" side
        fx = np.asarray(res.f_x, dtype=float)
        sol = np.where(exact, hi, np.where(fx >= 0, np.asarray(res.x, dtype=float), np.asarray(res.bracket[1], dtype=float)))
        out[todo] = sol
        return out.reshape(q.shape)

    def _cdf_grid(self):
        """(log x, cdf) at panel ends and atoms, sorted (ppf brackets)."""
        if self._grid is None:
            tables = self._table_or_build() or []
            pts = [t["edges"] for t in tables]
            pts += [np.array([math.log(loc)]) for loc, _ in self.atoms if loc > 0]
            s = np.unique(np.concatenate(pts)) if pts else np.array([])
            c = self._cdf_logx(s) if s.size else np.array([])
            self._grid = (s, np.maximum.accumulate(np.clip(c, 0.0, 1.0)))
        return self._grid

    # ---- moments ------------------------------------------------------------------------------
    def _moment(self, k: int):
        """``E[X^k]`` from the series inversion of ``S`` (no quadrature): exact (int or Fraction)
        when every parameter of ``S`` is exact (ints, Fractions, sympy rationals), else float."""
        if self._exact_params():
            if len(self._exact_cache) < k:
                self._exact_cache = moments_from_s_transform(self.S, k)
            m = sp.sympify(self._exact_cache[k - 1])
            if m.is_Integer:
                return int(m)
            if m.is_Rational:
                return Fraction(int(m.p), int(m.q))
            return float(m)
        return float(numeric_moments(self.S, k)[k - 1])

    def _exact_params(self) -> bool:
        if not hasattr(self, "_exact_cache"):
            self._exact_cache = []
        vals = [self.S.const] + [x for f in self.S.linear for x in (f.a, f.b)]
        if any(not isinstance(f, _Discrete) for f in self.S.discrete_factors):
            return False
        vals += [x for f in self.S.discrete_factors for x in f.values + f.weights]
        return all(isinstance(v, (int, Fraction)) or (isinstance(v, sp.Basic) and v.is_Rational) for v in vals)

    def exact_moments(self, order: int) -> list:
        """Exact moments ``m_1..m_order`` (sympy) when the parameters of ``S`` are exact."""
        return moments_from_s_transform(self.S, order)

    def rvs(self, size=None, *, rng=None) -> np.ndarray:
        """Samples ``ppf(U)``, ``U`` uniform from ``rng`` (Generator, SeedSequence, int or None);
        the quantile function comes from the certified table (atoms exact)."""
        g = _rng(rng)
        u = g.random(size)
        out = self.ppf(u)
        return out if size is not None else float(out)
