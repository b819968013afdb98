"""The density solver of free multiplicative convolutions: path continuation to the real axis.

``M(w) = psi(1/w) = int t / (w - t) dmu(t)`` solves ``w M S(M) = 1 + M``, and the density is
``rho(x) = -Im M(x + i0) / (pi x)`` (docs/formulas.md §4; Pennington, Schoenholz & Ganguli
2017, section 2.3). We solve it in logarithmic form,
``F(m) = log w + log m - log(1 + m) + log S(m) = 0``, by path continuation along
``w = x e^{i theta}`` from ``theta = pi`` (the negative axis, where the physical root is the
unique real root in ``(-(1 - a_0), 0)``, found by bisection) down to ``theta = 1e-13``,
staying in the half plane where ``M`` is analytic, with predictor-corrector steps that are
rejected when the corrector moves too far. Working with ``log x`` lets densities of depth-100
products (whose mass sits at ``x ~ e^{-100}``) be evaluated without underflow.

Support edges are the critical values of ``x(m) = (1 + m) / (m S(m))`` on the real line
(:func:`critical_points`).

Examples
--------
>>> from degeneracy.theory.s_transform import STransform
>>> eq = Equation(STransform.wishart() ** 2)
>>> u, m, theta, stuck = continue_to_real_axis(eq, np.log(np.array([1.0])))
>>> round(float(-m.imag[0] / np.pi), 6)        # x rho(x) at x = 1 (Fuss-Catalan, L = 2)
0.178979
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize
from scipy.optimize import elementwise

from degeneracy.errors import NumericalFailure

from .free_factors import law_numeric, linear_offset

_LOG_MAX = math.log(np.finfo(float).max)

__all__ = ["Equation", "continue_to_real_axis", "critical_points"]


def _log_lo(w):
    """log with the cut along the positive imaginary axis: continuous on the closed lower half
    plane (negative reals map to ``log|w| - i pi``, their limit from below)."""
    w = np.asarray(w, dtype=complex)
    re, im = w.real, w.imag
    ang = np.arctan2(im, re)
    ang -= 2 * np.pi * (ang > np.pi / 2)
    out = np.empty(w.shape, dtype=complex)
    out.real = np.log(np.hypot(re, im))
    out.imag = ang
    return out


class Equation:
    """``F(u) = log w - log y(m(u))``, ``y(m) = (1 + m) / (m S(m))``.

    Unknown ``u``: for rational ``S``, ``u = m + k`` with ``k = 1 - a_0`` (so that ``m -> -k``,
    the small-``x`` limit, is resolved to full relative precision); with one discrete factor,
    ``u = z = chi_D(m)`` and ``m = psi_D(z)`` explicitly (``1 + m`` summed without cancellation).
    Linear factors are evaluated as ``(a - b k) + b u`` (resp. ``(a - b) + b (1 + m)``).
    """

    def __init__(self, S):
        if len(S.discrete_factors) > 1:
            raise NotImplementedError("densities with more than one distinct discrete factor are not supported")
        self.S = S
        self.logc = math.log(float(S.const))
        self.a0 = S.atom_at_zero
        self.k = 1.0 - self.a0
        self.disc = None
        self.level = 0  # refinement level of the quadrature of a continuous law factor
        if S.discrete_factors:
            f = S.discrete_factors[0]
            self.disc = law_numeric(f)
            self.eD = float(f.e)
        self.lin = []
        for f in S.linear:
            a, b = float(f.a), float(f.b)
            # the factor at u = 0: a - b k = (a - b) + b a_0 (rational), a - b (law factor), with
            # a - b free of cancellation for a Bernoulli p next to 1 (OneMinus)
            a0 = linear_offset(f.a, f.b) + (b * self.a0 if self.disc is None else 0.0)
            self.lin.append((a, b, float(f.e), a0))
        self.opm0 = self.a0 if self.disc is None else 0.0  # 1 + m = opm0 + u   (rational case)
        #: a law factor with continuous pieces: its transforms are boundary values on the real axis
        self.continuous = bool(self.disc is not None and getattr(self.disc, "pieces", ()))

    def _parts_d(self, u):
        """``(m, 1 + m, [factor values], dm/du)`` at the unknown ``u`` (``dm/du`` is None for
        rational ``S``, where ``m = u - k``); the law factor supplies ``m = psi_D(z)``,
        ``1 + m`` without cancellation and ``psi_D'(z)`` in one pass."""
        if self.disc is None:
            m = u - self.k
            opm = self.opm0 + u if self.opm0 != 0 else u
            return m, opm, [a0 + b * u for a, b, e, a0 in self.lin], None
        m, opm, dpsi = self.disc.parts(u, self.level)
        return m, opm, [a0 + b * opm for a, b, e, a0 in self.lin], dpsi

    def parts(self, u):
        """(m, 1 + m, [factor values]) at the unknown ``u``."""
        return self._parts_d(u)[:3]

    def m_of(self, u):
        return self.parts(u)[0]

    def logy(self, u, parts=None):
        """``log y = log(1+m) - log m - log S(m)`` (lower-half-plane branch)."""
        m, opm, facs = self.parts(u) if parts is None else parts
        lm, l1m = _log_lo(m), _log_lo(opm)
        out = l1m - lm - self.logc
        for (a, b, e, a0), fv in zip(self.lin, facs):
            out = out - e * _log_lo(fv)
        if self.disc is not None:
            out = out - self.eD * (_log_lo(u) + l1m - lm)
        return out

    def F_and_dF(self, u, logw):
        """``F(u) = log w - log y(u)`` and ``dF/du``; non-finite where ``u`` is outside the domain
        (the callers treat those as failed steps or refuse them)."""
        return self.F_dF_m(u, logw)[:2]

    def F_dF_m(self, u, logw):
        """``(F, dF/du, m)`` in one evaluation of the factors."""
        with np.errstate(all="ignore"):
            m, opm, facs, dpsi = self._parts_d(u)
            F = logw - self.logy(u, (m, opm, facs))
            dm = 1 / m - 1 / opm
            for (a, b, e, a0), fv in zip(self.lin, facs):
                dm = dm + e * b / fv
            if self.disc is None:
                return F, dm, m
            dm = dm + self.eD * (1 / opm - 1 / m)
            return F, dm * dpsi + self.eD / u, m

    def real_logy(self, u):
        """Real ``log y`` at a real unknown ``u`` (``u = m + k`` for rational ``S``, ``u = z`` with a
        law factor); NaN where ``y <= 0`` or where ``psi`` is not real. Evaluated as a sum of
        logarithms (no overflow of the powers of depth-10^4 products)."""
        u = np.asarray(u, dtype=float)
        with np.errstate(all="ignore"):
            if self.disc is None:
                m, opm = u - self.k, self.opm0 + u
                vals = [(opm, 1.0), (m, -1.0)] + [(a0 + b * u, -e) for a, b, e, a0 in self.lin]
            else:
                m = np.where(self.disc.inside_support(u), np.nan, np.real(self.disc.psi(u)))
                opm = 1 + m
                vals = [(opm, 1.0), (m, -1.0)] + [(a + b * m, -e) for a, b, e, a0 in self.lin]
                vals += [(u, -self.eD), (opm, -self.eD), (m, self.eD)]
            logy = np.full(u.shape, -math.log(float(self.S.const)))
            sign = np.ones(u.shape)
            for v, e in vals:
                logy = logy + e * np.log(np.abs(v))
                sign = sign * np.where(v < 0, (-1.0) ** e if float(e).is_integer() else np.nan, 1.0)
            return np.where((sign > 0) & np.isfinite(logy), logy, np.nan)

    def real_dlogy(self, u):
        """``d log y / du`` at a real unknown ``u``."""
        u = np.asarray(u, dtype=float)
        with np.errstate(all="ignore"):
            if self.disc is None:
                dm = 1 / (u - self.k) - 1 / (self.opm0 + u)
                for a, b, e, a0 in self.lin:
                    dm = dm + e * b / (a0 + b * u)
                return -dm
            mm, _, dpsi = self.disc.parts(u)
            mm = np.where(self.disc.inside_support(u), np.nan, np.real(mm))
            dm = 1 / mm - 1 / (1 + mm)
            for a, b, e, a0 in self.lin:
                dm = dm + e * b / (a + b * mm)
            dm = dm + self.eD * (1 / (1 + mm) - 1 / mm)
            return -(dm * np.real(dpsi) + self.eD / u)

    def negative_axis_root(self, logx):
        """The root on the negative axis ``w = -x``, where the physical ``m`` is the unique root
        in ``(-(1 - a_0), 0)``, parametrized by ``v``: ``u = k / (1 + e^{-v})`` (rational) or
        ``z = -e^v`` (law factor); the equation is monotone in ``v``, and Chandrupatla's
        bracketing method (:func:`scipy.optimize.elementwise.find_root`) solves it for every point
        at once on the bracket ``v in [-700, 700]``."""

        def u_of(v):
            if self.disc is None:
                return self.k / (1 + np.exp(-v))
            return -np.exp(v)

        def g(v, lx):
            # on the negative axis every factor is a positive real: real logarithms of |.|
            u = u_of(v)
            with np.errstate(all="ignore"):
                m, opm, facs = self.parts(u)
                out = np.log(np.abs(opm)) - np.log(np.abs(m)) - self.logc
                for (a, b, e, a0), fv in zip(self.lin, facs):
                    out = out - e * np.log(np.abs(fv))
                if self.disc is not None:
                    out = out - self.eD * (np.log(np.abs(u)) + np.log(np.abs(opm)) - np.log(np.abs(m)))
            return out - lx

        res = elementwise.find_root(g, (np.full(logx.size, -700.0), np.full(logx.size, 700.0)), args=(logx,),
                                    tolerances={"xatol": 1e-13, "xrtol": 1e-15})
        return u_of(np.asarray(res.x, dtype=float)).astype(complex)


def continue_to_real_axis(eq: Equation, logx: np.ndarray, theta_min: float = 1e-13):
    """Path continuation from theta = pi to theta_min along w = x e^{i theta}; returns
    ``(u, m, theta, stuck)``."""
    with np.errstate(all="ignore"):
        return _continue(eq, logx, theta_min)


def _continue(eq: Equation, logx: np.ndarray, theta_min: float):
    n = logx.size
    u = eq.negative_axis_root(logx)
    theta = np.full(n, np.pi)
    # polish on the negative axis (the bracketing solver leaves |dv| ~ 1e-16 * 1400); a step is kept
    # only where it lowers the residual (safeguarded Newton)
    F, dF = eq.F_and_dF(u, logx + 1j * theta)
    for _ in range(3):
        v = u - F / dF
        Fv, dFv = eq.F_and_dF(v, logx + 1j * theta)
        better = np.isfinite(Fv) & (np.abs(Fv) < np.abs(F))
        u, F, dF = np.where(better, v, u), np.where(better, Fv, F), np.where(better, dFv, dF)
    # if the bisection ended at the domain boundary the root is not interior: certify below
    h = np.full(n, 0.05)  # step in log(theta)
    active = np.ones(n, bool)
    stuck = np.zeros(n, bool)
    tau_min = math.log(theta_min)
    _, dF_cur, m_cur = eq.F_dF_m(u, logx + 1j * theta)
    for _ in range(4000):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ui, th, hi = u[idx], theta[idx], h[idx]
        lx = logx[idx]
        tau_new = np.maximum(np.log(th) - hi, tau_min)
        th_new = np.exp(tau_new)
        du_dtheta = -1j / dF_cur[idx]
        pred = ui + du_dtheta * (th_new - th)
        v = pred.copy()
        lw = lx + 1j * th_new
        Fv = np.full(idx.size, np.nan + 0j)
        dFv = np.full(idx.size, np.nan + 0j)
        m_new = np.full(idx.size, np.nan + 0j)
        it = np.arange(idx.size)
        conv = np.zeros(idx.size, bool)
        for _ in range(12):  # Newton, iterating only the points not yet converged
            F_it, dF_it, m_it = eq.F_dF_m(v[it], lw[it])
            Fv[it], dFv[it], m_new[it] = F_it, dF_it, m_it
            step = F_it / dF_it
            v[it] = v[it] - step
            done = (np.abs(step) <= 1e-13 * np.abs(v[it])) & np.isfinite(v[it])
            conv[it[done]] = True
            it = it[~done & np.isfinite(v[it])]
            if it.size == 0:
                break
        # (F, dF, m) are those of the last iterate before its final step of < 1e-13 relative: the
        # accepted point's residual is below theirs (quadratic convergence)
        ok = (
            np.isfinite(v)
            # converged, or at the noise floor of the factors' evaluation (1 + m next to 0 loses
            # relative digits): well inside the 1e-9 residual the final certificate asks for
            & (conv | (np.abs(Fv) < 1e-9))
            # the corrector must stay near the predictor (no branch jump); within 1e-6 of the
            # real axis only the conjugate root is nearby, which the sign test below excludes
            & ((np.abs(v - pred) <= 0.3 * np.abs(pred - ui) + 1e-9 * np.abs(v)) | (th_new < 1e-6))
            & (m_new.imag <= 1e-12 * np.abs(m_new))
        )
        acc = idx[ok]
        u[acc] = v[ok]
        dF_cur[acc] = dFv[ok]
        m_cur[acc] = m_new[ok]
        theta[acc] = th_new[ok]
        # the path flattens as theta -> 0 (m(theta) = m(0) + O(theta)): let the step in log(theta) grow
        h[acc] = np.minimum(h[acc] * 1.8, 3.0)
        rej = idx[~ok]
        h[rej] *= 0.4
        stuck[rej[h[rej] < 1e-9]] = True
        active[acc[tau_new[ok] <= tau_min]] = False
        active[stuck] = False
    else:
        stuck |= active
    # polish on the real axis (theta = 0): removes the O(theta) smoothing next to singular edges;
    # kept only where Newton converges to a root with Im m <= 0 close to the continued one. Not for
    # a continuous law factor: its transforms on the axis are boundary values whose side the
    # continuation (theta_min > 0) fixes.
    if eq.continuous:
        return u, m_cur, theta, stuck
    v = u.copy()
    with np.errstate(all="ignore"):
        for _ in range(8):
            Fv, dFv = eq.F_and_dF(v, logx + 0j)
            v = v - Fv / dFv
        Fv, _ = eq.F_and_dF(v, logx + 0j)
        mv = eq.m_of(v)
    good = (np.isfinite(v) & (np.abs(Fv) < 1e-12) & (mv.imag <= 1e-14 * np.abs(mv))
            & (np.abs(v - u) <= 1e-4 * np.abs(u)) & ~stuck)
    u = np.where(good, v, u)
    theta = np.where(good, 0.0, theta)
    return u, eq.m_of(u), theta, stuck


def critical_points(eq: Equation) -> list:
    """Real critical points ``(u, x)`` of ``log y(u)``: sign changes of its derivative on a
    logarithmic grid (and next to the poles of a law factor), refined by Brent's method.
    Their values ``x = y(u)`` are the candidate support edges."""
    mag = np.logspace(-12, 12, 6001)
    grids = [mag, -mag]
    if eq.disc is None:
        # u = m + k: next to u = 0 (m = -k) and to the zeros u = -a0/b of the linear factors, where
        # near-atomic laws put their edges, on a grid reaching far below the float resolution of m
        fine = np.logspace(-300, 0, 3001)
        grids += [fine, -fine]
        grids += [(-a0 / b) * (1 + sgn * np.logspace(-15, 0, 600)) for a, b, e, a0 in eq.lin if b > 0 and a0 != 0
                  for sgn in (1, -1)]
        # next to m = 0 (u = k): the upper edge of a depth-L product sits at m ~ 1/L
        grids += [eq.k * (1 + sgn * np.logspace(-15, 1, 800)) for sgn in (1, -1)]
    if eq.disc is not None:
        poles = 1 / eq.disc.v
        extra = [p + s * np.logspace(-12, 1, 150) * p for p in poles for s in (1, -1)]
        grids += extra
        if eq.continuous:  # z just below 1 / sup(support): the upper edge's neighbourhood
            top = 1.0 / eq.disc.vmax
            grids.append(top * (1 - np.logspace(-14, -0.01, 400)))
    u = np.unique(np.concatenate(grids))
    ly = eq.real_logy(u)
    d = eq.real_dlogy(u)
    crit = []
    ok = np.isfinite(ly) & np.isfinite(d)
    for i in np.flatnonzero(ok[:-1] & ok[1:] & (np.sign(d[:-1]) != np.sign(d[1:]))):
        a, b = u[i], u[i + 1]
        try:
            r = optimize.brentq(lambda t: float(eq.real_dlogy(np.array([t]))[0]), a, b, xtol=1e-300, rtol=1e-15, maxiter=200)
        except ValueError:
            continue
        val = float(eq.real_logy(np.array([r]))[0])
        if np.isfinite(val) and abs(val - 0.5 * (ly[i] + ly[i + 1])) < 1.0 + abs(ly[i] - ly[i + 1]):
            if val > _LOG_MAX:
                raise NumericalFailure(f"a support edge of the free product law, exp({val:.6g}), overflows a double "
                                       "(the scale of the factors is too large)")
            crit.append((r, math.exp(val)))
    if eq.continuous:  # sign changes in the last 1e-7 before z = 1/sup(t) are rounding noise of the diverging psi
        zc = 1.0 / eq.disc.vmax
        crit = [(r, x) for r, x in crit if not (0 <= zc - r < 1e-7 * zc)]
    if eq.continuous and not any(0 < r < 1.0 / eq.disc.vmax for r, _ in crit):
        # a hard edge: without a critical point on (0, 1/sup(t)), the upper edge is the image of the
        # end z -> 1/sup(t) of the law factor's support (depth 1 with orthogonal weights: the law of
        # t itself)
        zh = 1.0 / eq.disc.vmax
        mh = float(np.real(eq.disc.psi(np.array([zh * (1 - 1e-14)]))[0]))
        if abs(mh) > 1e10 and all(b == 0 for a, b, e, a0 in eq.lin):
            # psi -> inf at the end (an integrable singularity of the law of t there): the limit of
            # log y = log((1+m)/m) - log S(m), with S_D(m) = z (1 + m)/m -> z_h
            val = -math.log(float(eq.S.const)) - sum(e * math.log(a) for a, b, e, a0 in eq.lin) - eq.eD * math.log(zh)
        else:
            val = float(eq.real_logy(np.array([zh * (1 - 1e-14)]))[0])
        if np.isfinite(val):
            crit.append((zh, math.exp(val)))
    return crit
