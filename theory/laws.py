"""Spectral laws used like ``scipy.stats`` distributions, atoms included, and the law of ``log X``.

A :class:`SpectralLaw` is a probability law on an interval ``[a, b]`` (either end may be
infinite), made of an absolutely continuous part with density ``pdf`` and, optionally, atoms
(a point mass ``atom`` at ``atom_at``, or several, listed in ``atoms``). It offers the method set
of a frozen ``scipy.stats`` distribution: ``pdf, logpdf, cdf, logcdf, sf, logsf, ppf, isf,
median, mean, var, std, moment, stats, entropy, expect, interval, support, rvs``, plus
:meth:`SpectralLaw.log_law`, the law of ``log X`` (like ``scipy.stats.log(X)``), whose methods
stay accurate when the mass of ``X`` sits far below the smallest double (deep products).

Why not ``scipy.stats.rv_continuous``: it cannot hold an atom, and the laws of this package have
one (a Wishart factor wider than tall, ReLU and hard-tanh Jacobians: mass at 0), so the method
set is re-implemented here on top of scipy's numerics: ``scipy.integrate.tanhsinh`` for
integrals (it handles the integrable edge singularities of these densities) and
``scipy.optimize.elementwise.find_root`` / ``bracket_root`` for quantiles.

What a subclass must provide
----------------------------
``_support(self) -> (a, b)``
    floats with ``a < b`` (``-inf``/``inf`` allowed): the closed support of the continuous part;
    atoms must lie in ``[a, b]``.
``_pdf(self, x)``
    density of the absolutely continuous part, for a float ndarray ``x`` with every entry in
    ``(a, b)``; it integrates to ``1 - (mass of the atoms)``, is finite, non-negative and
    vectorized.

What a subclass may provide (the base class falls back to generic, slower, routes)
------------------------------------------------------------------------------------
``_cdf, _sf`` (``x`` in ``(a, b)``, atoms included), ``_ppf, _isf`` (``q`` in ``(0, 1)``: the
smallest ``x`` with ``cdf(x) >= q``, resp. ``sf(x) <= q``), ``_logpdf, _logcdf, _logsf``,
``_moment(k)`` (exact ``int``/``Fraction`` when it can), ``_entropy()``, ``_pdf_at_ends()``
(the values ``pdf`` returns at finite ``a`` and ``b``: ``inf`` where the density diverges),
``edge_exponents = (alpha_a, alpha_b)`` (``pdf ~ (x - a)^alpha_a`` and ``~ (b - x)^alpha_b``)
and, for laws on ``[0, b]`` whose mass reaches below the smallest double, the log-space hooks
``_logpdf_at_log(t)``, ``_logcdf_at_log(t)``, ``_logsf_at_log(t)`` (log of pdf, cdf, sf at
``x = exp(t)``), ``_log_ppf(q)`` and ``_log_isf(q)`` (log of the quantile). A subclass with
several atoms sets ``atoms``, a list of ``(location, mass)``.
A law computed natively in log space derives from :class:`LogSpaceLaw`, which builds every
float method from the log-space hooks.

Conventions
-----------
All methods are vectorized (scalars in, floats out). NaN input raises ``ArgumentValueError``
(``x must not contain NaN``); ``pdf`` is 0 and ``cdf`` 0 / 1 outside the support (``+-inf``
accepted); ``ppf`` requires ``0 <= q <= 1``. Nothing returns NaN. A quantile that underflows
(positive but below the smallest double, e.g. ``fuss_catalan(1000).ppf(0.1) = exp(-2304.8)``)
raises :class:`~degeneracy.errors.NumericalFailure` naming ``log_law().ppf``, and so does an
``rvs`` draw that would underflow: no silent 0.0. Random draws take ``rng=`` (numpy
Generator, SeedSequence, non-negative int or None; SPEC 7), with ``random_state=`` accepted as
its alias, as scipy does; an int seeds ``Generator(SFC64(seed))``. Integrals are certified:
``CertificationError`` when tanh-sinh reports an error above its tolerance.

One idea: the law object (its method set and the generic routes behind it) and its image under
``log``, which needs the same machinery and exists to keep the same methods accurate at any
depth.

Examples
--------
A uniform law on [0, 2] in three lines:

>>> import numpy as np
>>> class Uniform02(SpectralLaw):
...     def _support(self):
...         return 0.0, 2.0
...     def _pdf(self, x):
...         return np.full_like(x, 0.5)
>>> law = Uniform02()
>>> float(law.cdf(0.5)), round(law.ppf(0.75), 12), round(law.mean(), 12), round(law.var(), 12)
(0.25, 1.5, 1.0, 0.333333333333)
>>> law.pdf([-1.0, 0.0, 1.0, 2.0, np.inf]).tolist()
[0.0, 0.0, 0.5, 0.0, 0.0]
>>> round(law.entropy(), 12), round(law.expect(lambda x: x**3), 12)   # log 2, 2^3/4
(0.69314718056, 2.0)
>>> law.rvs(3, random_state=0).tolist() == law.rvs(3, rng=0).tolist()
True
"""

from __future__ import annotations

import functools
import math
import numbers
from fractions import Fraction
from typing import Any, Callable

import numpy as np
from scipy import integrate
from scipy.optimize import elementwise

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, CertificationError, NumericalFailure
from degeneracy.validation import check_int, check_memory, check_probability

__all__ = ["SpectralLaw", "LogSpaceLaw", "LogLaw"]

#: probabilities that cut the continuous part into quadrature pieces
_CUTS = np.array([1e-9, 1e-6, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99,
                  1 - 1e-3, 1 - 1e-6])
#: below this survival probability the generic sf integrates the tail and isf solves sf(x) = q
_TAIL = 1e-4
#: relative accuracy asked of tanh-sinh, and the error above which an integral is refused
_RTOL, _REFUSE = 1e-13, 1e-9


def _as_float_array(name: str, value: Any) -> tuple[np.ndarray, tuple]:
    """Flat float ndarray of ``value`` and its shape (``()`` for a scalar); NaN -> ValueError."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be a real number or an array of real numbers, got {value!r}") from None
    if np.isnan(arr).any():
        raise ArgumentValueError(f"{name} must not contain NaN")
    return np.array(arr, dtype=float).reshape(-1), arr.shape


def _out(arr: np.ndarray, shape: tuple):
    arr = np.asarray(arr, dtype=float)
    return float(arr.reshape(-1)[0]) if shape == () else arr.reshape(shape)


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def _rng(rng: Any) -> np.random.Generator:
    """Generator | SeedSequence | int | None -> Generator (SFC64), as ``numerics.rng.as_generator``.

    ``theory`` may not import ``numerics``; this mirrors its contract exactly.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.Generator(np.random.SFC64(rng))
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ArgumentValueError(f"rng seed must be a non-negative integer, got {rng}")
        return np.random.Generator(np.random.SFC64(int(rng)))
    raise ArgumentTypeError(f"rng must be a numpy Generator, SeedSequence, non-negative int or None, got {type(rng).__name__}")


def _rng_or_alias(rng: Any, random_state: Any) -> Any:
    """``rng=`` with ``random_state=`` accepted as its alias (SPEC 7); giving both is an error."""
    if random_state is not None:
        if rng is not None:
            raise ArgumentValueError("give rng or its alias random_state, not both")
        return random_state
    return rng


def _size(size: Any):
    if size is None:
        return None
    if isinstance(size, numbers.Integral):
        shape = (check_int("size", size, minimum=0),)
    else:
        try:
            shape = tuple(check_int("size", s, minimum=0) for s in size)
        except TypeError:
            raise ArgumentTypeError(f"size must be None, an int or a tuple of ints, got {size!r}") from None
    check_memory(f"size = {size!r}", 32.0 * math.prod(shape))  # the draws and a few temporaries
    return shape


def _no_nan(values: np.ndarray, x: np.ndarray, underflowed=False) -> np.ndarray:
    """``values`` unchanged, or :class:`NumericalFailure` if one is NaN where the law has mass.

    A NaN integrand (``expect(func)`` with ``func`` undefined somewhere in the support) would
    otherwise vanish in the quadrature or poison the sum, and ``expect`` would return 0.0 or NaN.
    Points where ``x = exp(t)`` underflowed to 0.0 (``underflowed``) are exempt: there ``func``
    sees 0.0 instead of the true tiny ``x`` (``x log x`` gives NaN), and the quadrature's
    handling of such points is what :meth:`SpectralLaw.expect` documents.
    """
    bad = np.isnan(values) & ~np.broadcast_to(underflowed, np.shape(values))
    if bad.any():
        at = float(np.broadcast_to(x, values.shape)[bad].flat[0])
        raise NumericalFailure(f"the integrand is NaN at x = {at!r} (func undefined there): the expectation is "
                               "undefined")
    return values


class SpectralLaw:
    """Base class of probability laws on an interval, optionally with atoms.

    See the module docstring for what a subclass implements. Attributes:

    atom : float
        Mass of the atom at ``atom_at`` (default 0.0; the atom at the left end for most laws).
    atom_at : float
        Location of that atom (default 0.0).
    atoms : list of (float, float), optional
        Every atom as ``(location, mass)``, for laws with more than one (default: the one above).
    edge_exponents : tuple of float
        Power-law exponents of the density at the two ends of the support.
    """

    atom: float = 0.0
    atom_at: float = 0.0
    edge_exponents: tuple[float, float] = (0.0, 0.0)

    def __init_subclass__(cls, **kwargs):
        """A subclass that overrides ``rvs`` itself still accepts ``random_state=`` as the alias of ``rng=``."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("rvs")
        if own is not None and not getattr(own, "_takes_random_state", False):

            @functools.wraps(own)
            def rvs(self, size=None, *, rng=None, random_state=None):
                _size(size)  # validated here, whatever the override does
                return own(self, size, rng=_rng_or_alias(rng, random_state))

            rvs._takes_random_state = True
            cls.rvs = rvs

    # ----------------------------------------------------------------- subclass hooks
    def _support(self) -> tuple[float, float]:  # pragma: no cover - abstract
        raise NotImplementedError("a SpectralLaw subclass must implement _support()")

    def _pdf(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError("a SpectralLaw subclass must implement _pdf(x)")

    def _pdf_at_ends(self) -> tuple[float, float]:
        return 0.0, 0.0

    def _logpdf(self, x: np.ndarray) -> np.ndarray:
        return _log(self._pdf(x))

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        # continuous mass in (a, x] by tanh-sinh (it handles a singular density at a), plus atoms
        a, _ = self.support()
        return np.clip(self._certified_quad(self._pdf, np.full_like(x, a), x, "cdf") + self._atom_below(x), 0.0, 1.0)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        # 1 - cdf, except in the far right tail (below _TAIL), where it is integrated from x to b
        out = 1.0 - self._cdf(x)
        tail = out < _TAIL
        if tail.any():
            b = self.support()[1]
            xt = x[tail]
            above = np.zeros_like(xt)
            for loc, m in self._atom_list():
                above = above + np.where(loc > xt, m, 0.0)
            out[tail] = self._certified_quad(self._pdf, xt, np.full_like(xt, b), "sf") + above
        return out

    def _logcdf(self, x: np.ndarray) -> np.ndarray:
        return _log(self._cdf(x))

    def _logsf(self, x: np.ndarray) -> np.ndarray:
        return _log(self._sf(x))

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return self._invert(lambda x, qq: np.asarray(self.cdf(x)) - qq, q)

    def _isf(self, q: np.ndarray) -> np.ndarray:
        out = np.empty_like(q)
        tail = q < _TAIL
        if tail.any():  # 1 - q would lose q's digits: solve sf(x) = q, bracketed by ppf(1 - 8q) and b
            qt = q[tail]
            lo, hi = np.asarray(self._ppf(1.0 - 8.0 * qt), dtype=float), np.full_like(qt, self.support()[1])
            f = lambda x, qq: qq - np.asarray(self.sf(x))  # noqa: E731
            ok = np.isfinite(hi) & (f(lo, qt) < 0)
            out[tail] = self._invert(f, qt, bracket=(np.where(ok, lo, self.support()[0]), hi) if ok.all() else None)
        if (~tail).any():
            out[~tail] = self._ppf(1.0 - q[~tail])
        return out

    def _moment(self, k: int):
        return self.expect(lambda x: x**k)

    def _rvs(self, size, generator: np.random.Generator):
        """Draws for ``rvs``: inverse-CDF, ``ppf(U)``; a law with an exact sampler overrides it."""
        return self.ppf(generator.random(size))

    def _entropy(self) -> float:
        return self._integral(lambda x, logf: -logf)

    # ---- log-space hooks (laws on [0, b]); the defaults go through x = exp(t) and refuse underflow
    def _x_of(self, t: np.ndarray, what: str) -> np.ndarray:
        x = np.exp(t)
        if self.support()[0] == 0 and (x == 0).any():
            raise NumericalFailure(
                f"{self!r}: {what} at log x = {float(np.min(t)):.6g} needs x below the smallest double, and this "
                "law has no log-space route for it")
        return x

    def _logpdf_at_log(self, t: np.ndarray) -> np.ndarray:
        return _log(np.asarray(self.pdf(self._x_of(t, "the density")), dtype=float))

    def _logcdf_at_log(self, t: np.ndarray) -> np.ndarray:
        return _log(np.asarray(self.cdf(self._x_of(t, "the cdf")), dtype=float))

    def _logsf_at_log(self, t: np.ndarray) -> np.ndarray:
        return _log(np.asarray(self.sf(self._x_of(t, "the sf")), dtype=float))

    def _log_ppf(self, q: np.ndarray) -> np.ndarray:
        x = np.asarray(self._ppf(q), dtype=float)
        if (x <= 0).any():
            raise NumericalFailure(f"{self!r}: a quantile underflows and this law has no log-space quantile")
        return np.log(x)

    def _log_isf(self, q: np.ndarray) -> np.ndarray:
        x = np.asarray(self._isf(q), dtype=float)
        if (x <= 0).any():
            raise NumericalFailure(f"{self!r}: a quantile underflows and this law has no log-space quantile")
        return np.log(x)

    # ----------------------------------------------------------------- helpers
    def _atom_list(self) -> list[tuple[float, float]]:
        atoms = getattr(self, "atoms", None)
        if atoms is not None:
            return [(float(loc), float(m)) for loc, m in atoms if m > 0]
        return [(float(self.atom_at), float(self.atom))] if self.atom > 0 else []

    def _atom_below(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros_like(x)
        for loc, m in self._atom_list():
            out = out + np.where(x >= loc, m, 0.0)
        return out

    def _mass_at_left_end(self) -> float:
        a = self.support()[0]
        return sum(m for loc, m in self._atom_list() if loc == a)

    def _invert(self, f: Callable, q: np.ndarray, bracket=None) -> np.ndarray:
        """The smallest ``x`` with ``f(x, q) >= 0`` for the increasing ``f``, by Chandrupatla (scipy).

        At a jump of ``f`` (an atom) the bracket closes on the jump; its right end is the answer.
        """
        a, b = self.support()
        lo, hi = (np.full_like(q, a), np.full_like(q, b)) if bracket is None else bracket
        if bracket is None and not (math.isfinite(a) and math.isfinite(b)):
            x0 = np.full_like(q, 0.0 if a < 0 < b else (a + 1.0 if math.isfinite(a) else b - 2.0))
            br = elementwise.bracket_root(f, x0, x0 + 1.0, xmin=a, xmax=b, args=(q,))
            if not np.all(br.success):
                raise CertificationError(f"{self!r}: could not bracket a quantile (status {int(br.status.min())})")
            lo, hi = br.bracket
        res = elementwise.find_root(f, (lo, hi), args=(q,))
        if not np.all(res.success):
            i = int(np.flatnonzero(~res.success)[0])
            raise CertificationError(f"{self!r}: the quantile search at q = {q[i]:.6g} failed (status {int(res.status[i])})")
        return np.where(res.f_bracket[0] >= 0, res.bracket[0], res.bracket[1])

    def _certified_quad(self, f: Callable, lo, hi, what: str) -> np.ndarray:
        """``int_lo^hi f`` elementwise by ``scipy.integrate.tanhsinh``; refuses an unconverged piece."""
        lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
        out = np.zeros(lo.shape)
        todo = hi > lo
        if not todo.any():
            return out
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            res = integrate.tanhsinh(lambda x: np.nan_to_num(f(x), nan=0.0, posinf=0.0), lo[todo], hi[todo],
                                     rtol=_RTOL)
        val, err = res.integral, res.error
        # refused: a relative error above _REFUSE of the total, unless it is below 1e-18 absolute
        # (a far-tail probability: negligible for every use but its own log)
        bad = ~np.isfinite(val) | (err > max(_REFUSE * float(np.sum(np.abs(val))), 1e-18))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise CertificationError(f"{self!r}: {what}: tanh-sinh did not converge on [{lo[todo][i]:.6g}, "
                                     f"{hi[todo][i]:.6g}] (error {err[i]:.3g}, status {int(res.status[i])})")
        out[todo] = val
        return out

    def _log_space(self) -> bool:
        return self.support()[0] >= 0.0

    def _log_floor(self) -> float:
        """The smallest ``log x`` the log-space hooks can serve: ``-inf`` when the subclass overrides
        them; else the log of the smallest normal double, after checking that the law puts no
        visible mass below it (or refusing)."""
        if type(self)._logpdf_at_log is not SpectralLaw._logpdf_at_log:
            return -math.inf
        tiny = float(np.finfo(float).tiny)
        below = float(self.cdf(tiny)) - sum(m for loc, m in self._atom_list() if loc <= tiny)
        if below > 1e-14:
            raise NumericalFailure(f"{self!r} puts mass {below:.3g} below {tiny:.3g}, and has no log-space hooks "
                                   "to integrate it")
        return math.log(tiny)

    def _log_ceiling(self) -> float:
        """The largest ``log x`` the log-space integrals need visit (``inf``; a law whose log-space
        hooks refuse astronomically large arguments sets a finite one past its mass)."""
        return math.inf

    def _integration_floor(self) -> float:
        return -math.inf

    def _integral(self, h: Callable, lo: float | None = None, hi: float | None = None) -> float:
        """``int h(x, log pdf(x)) pdf(x) dx`` over the continuous part within ``[lo, hi]``.

        Pieces between quantiles of the law (so the mass is found wherever it sits); in the
        variable ``t = log x`` for laws on ``[0, b]`` (no underflow at any depth), else in ``x``.
        """
        a, b = self.support()
        lo = max(a if lo is None else max(lo, a), self._integration_floor())
        hi = b if hi is None else min(hi, b)
        if hi <= lo:
            return 0.0
        cache = self.__dict__.setdefault("_cut_cache", {})  # laws are immutable: the cut points are cached
        if "cuts" not in cache:
            m0 = self._mass_at_left_end()
            probs = m0 + (1.0 - m0) * _CUTS
            probs = probs[(probs > m0) & (probs < 1.0)]
            # the ends of the continuous part's support intervals (gaps, a density vanishing below a)
            ends = np.array([e for iv in getattr(self, "intervals", None) or [] for e in iv], dtype=float)
            ends = ends[(ends > a) & (ends < b)]
            if self._log_space():
                cache["cuts"] = np.concatenate([np.asarray(self._log_ppf(probs)) if probs.size else [], _log(ends)])
            else:
                cache["cuts"] = np.concatenate([np.asarray(self.ppf(probs)) if probs.size else [], ends])
        cuts = cache["cuts"]
        if self._log_space():
            t_lo, t_hi = _log(np.array([lo, hi]))
            t_lo, t_hi = max(t_lo, self._log_floor()), min(t_hi, self._log_ceiling())
            pts = np.unique(np.concatenate([[t_lo], cuts[(cuts > t_lo) & (cuts < t_hi)], [t_hi]]))

            def f(t):
                logf = self._logpdf_at_log(t)
                w = np.exp(logf + t)
                with np.errstate(invalid="ignore", over="ignore"):
                    x = np.exp(t)
                    return _no_nan(np.where(w > 0, w * h(x, logf), 0.0), x, underflowed=x == 0.0)
        else:
            pts = np.unique(np.concatenate([[lo], cuts[(cuts > lo) & (cuts < hi)], [hi]]))

            def f(x):
                logf = self._logpdf(x)
                w = np.exp(logf)
                with np.errstate(invalid="ignore", over="ignore"):
                    return _no_nan(np.where(w > 0, w * h(x, logf), 0.0), x)

        return float(np.sum(self._certified_quad(f, pts[:-1], pts[1:], "integral")))

    # ----------------------------------------------------------------- public API
    def support(self) -> tuple[float, float]:
        """The closed interval ``(a, b)`` carrying the law (ends may be infinite)."""
        a, b = self._support()
        return float(a), float(b)

    def pdf(self, x):
        """Density of the absolutely continuous part (atoms are not included).

        0 outside ``[a, b]``; the values at finite ends are ``_pdf_at_ends()``.
        """
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = np.zeros_like(x)
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = self._pdf(x[inside])
        pa, pb = self._pdf_at_ends()
        out[(x == a) & np.isfinite(x)] = pa
        out[(x == b) & np.isfinite(x)] = pb
        return _out(out, shape)

    def logpdf(self, x):
        """``log pdf(x)`` (``-inf`` where the density vanishes), computed without underflow where the law allows."""
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = np.full_like(x, -np.inf)
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = self._logpdf(x[inside])
        pa, pb = _log(np.array(self._pdf_at_ends(), dtype=float))
        out[(x == a) & np.isfinite(x)] = pa
        out[(x == b) & np.isfinite(x)] = pb
        return _out(out, shape)

    def cdf(self, x):
        """``P(X <= x)``, atoms included; 0 below ``a`` (but the atom at ``a``), 1 from ``b`` on."""
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = np.maximum(np.where(x >= b, 1.0, 0.0), self._atom_below(x))
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = np.clip(self._cdf(x[inside]), 0.0, 1.0)
        return _out(np.minimum(out, 1.0), shape)

    def logcdf(self, x):
        """``log cdf(x)``, accurate far in the left tail where the law allows."""
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = _log(np.maximum(np.where(x >= b, 1.0, 0.0), self._atom_below(x)))
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = np.minimum(self._logcdf(x[inside]), 0.0)
        return _out(out, shape)

    def sf(self, x):
        """Survival function ``P(X > x) = 1 - cdf(x)`` (without cancellation where the law allows)."""
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = 1.0 - np.minimum(np.maximum(np.where(x >= b, 1.0, 0.0), self._atom_below(x)), 1.0)
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = np.clip(self._sf(x[inside]), 0.0, 1.0)
        return _out(out, shape)

    def logsf(self, x):
        """``log sf(x)``, accurate far in the right tail where the law allows."""
        x, shape = _as_float_array("x", x)
        a, b = self.support()
        out = _log(1.0 - np.minimum(np.maximum(np.where(x >= b, 1.0, 0.0), self._atom_below(x)), 1.0))
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = np.minimum(self._logsf(x[inside]), 0.0)
        return _out(out, shape)

    def _quantile(self, q, inverse: bool):
        q, shape = _as_float_array("q", q)
        if ((q < 0) | (q > 1)).any():
            raise ArgumentValueError("q must lie in [0, 1]")
        a, b = self.support()
        p = 1.0 - q if inverse else q  # the cdf level
        out = np.where(p >= 1.0, b, a)
        inner = (p > 0) & (p < 1) & (p > self._mass_at_left_end())
        if inner.any():
            vals = self._isf(q[inner]) if inverse else self._ppf(q[inner])
            out[inner] = np.clip(vals, a, b)
            if a == 0.0 and (out[inner] == 0.0).any():
                bad = q[inner][out[inner] == 0.0]
                t = np.asarray(self._log_isf(bad) if inverse else self._log_ppf(bad))
                name = "isf" if inverse else "ppf"
                raise NumericalFailure(
                    f"{self!r}.{name}({bad[0]:.6g}) = exp({t[0]:.6g}) lies below the smallest positive double "
                    f"({len(bad)} value(s) underflow); use log_law().{name}(q), the quantile of log x")
        return _out(out, shape)

    def ppf(self, q):
        """Quantile: the smallest ``x`` in ``[a, b]`` with ``cdf(x) >= q``, for ``0 <= q <= 1``.

        Raises :class:`~degeneracy.errors.NumericalFailure` if a quantile of a law on ``[0, b]``
        lies below the smallest double (use ``log_law().ppf``).
        """
        return self._quantile(q, inverse=False)

    def isf(self, q):
        """Inverse survival function: the ``x`` with ``sf(x) = q`` (accurate for tiny ``q`` where the law allows)."""
        return self._quantile(q, inverse=True)

    def median(self) -> float:
        """``ppf(0.5)``."""
        return float(self.ppf(0.5))

    def moment(self, k: int):
        """Raw moment ``E X^k`` (atoms included); exact ``int``/``Fraction`` if the subclass provides one."""
        k = check_int("k", k, minimum=0)
        if k == 0:
            return 1
        cache = self.__dict__.setdefault("_moment_cache", {})  # laws are immutable
        if k not in cache:
            cache[k] = self._moment(k)
        return cache[k]

    def mean(self) -> float:
        """``E X``."""
        return float(self.moment(1))

    def var(self) -> float:
        """``E X^2 - (E X)^2`` (computed exactly when the moments are exact)."""
        m1, m2 = self.moment(1), self.moment(2)
        if isinstance(m1, (int, Fraction)) and isinstance(m2, (int, Fraction)):
            return float(Fraction(m2) - Fraction(m1) ** 2)
        return float(m2 - m1 * m1)

    def std(self) -> float:
        """Standard deviation ``sqrt(var())``."""
        return math.sqrt(self.var())

    def stats(self, moments: str = "mv"):
        """Mean ``m``, variance ``v``, skewness ``s`` and excess kurtosis ``k``, as ``scipy.stats`` orders them.

        ``moments`` is a string of letters from ``"mvsk"``; one letter gives a float, several a tuple
        (in the order m, v, s, k). Computed from :meth:`moment` (exactly when the moments are exact).
        """
        if not isinstance(moments, str) or not moments or set(moments) - set("mvsk"):
            raise ArgumentValueError(f"moments must be a non-empty string of letters from 'mvsk', got {moments!r}")
        need = 4 if "k" in moments else 3 if "s" in moments else 2 if "v" in moments else 1
        raw = [self.moment(j) for j in range(1, need + 1)]
        exact = all(isinstance(r, (int, Fraction)) for r in raw)
        m = [Fraction(r) for r in raw] if exact else [float(r) for r in raw]
        mu = m[0]
        out = []
        if "m" in moments:
            out.append(float(mu))
        if need >= 2:
            var = m[1] - mu * mu
        if "v" in moments:
            out.append(float(var))
        if "s" in moments:
            c3 = m[2] - 3 * mu * m[1] + 2 * mu**3
            out.append(float(c3) / float(var) ** 1.5)
        if "k" in moments:
            c4 = m[3] - 4 * mu * m[2] + 6 * mu * mu * m[1] - 3 * mu**4
            out.append(float(Fraction(c4) / Fraction(var) ** 2 - 3) if exact else float(c4) / float(var) ** 2 - 3.0)
        return out[0] if len(out) == 1 else tuple(out)

    def entropy(self) -> float:
        """Differential entropy ``-int pdf log pdf``.

        Raises :class:`~degeneracy.errors.NumericalFailure` for a law with an atom: a law with a
        point mass has no differential entropy (it is not absolutely continuous).
        """
        atoms = self._atom_list()
        if atoms:
            loc, m = atoms[0]
            raise NumericalFailure(f"{self!r} has an atom (mass {m:.6g} at {loc:.6g}): a law with a point mass has "
                                   "no differential entropy")
        return float(self._entropy())

    def expect(self, func: Callable | None = None, lb: float | None = None, ub: float | None = None,
               conditional: bool = False) -> float:
        """``E[func(X)]``, or ``E[func(X) 1{lb <= X <= ub}]`` (divided by ``P(lb <= X <= ub)`` if ``conditional``).

        ``func`` maps a float ndarray elementwise (a scalar-only callable is vectorized);
        default ``x``. Atoms in ``[lb, ub]`` contribute ``mass * func(location)``; the continuous
        part is integrated by tanh-sinh between quantiles, in ``log x`` for laws on ``[0, b]``
        (there ``func`` sees ``x = 0.0`` where ``x`` underflows). For ``E log X`` use
        ``log_law().mean()``.
        """
        if func is None:
            func = lambda x: x  # noqa: E731
        if not callable(func):
            raise ArgumentTypeError(f"func must be callable, got {type(func).__name__}")

        def g(x):
            val = np.asarray(func(x), dtype=float)
            if val.shape != np.shape(x):
                val = np.vectorize(lambda v: float(func(float(v))), otypes=[float])(x)
            return val

        a, b = self.support()
        lo = a if lb is None else float(lb)
        hi = b if ub is None else float(ub)
        if math.isnan(lo) or math.isnan(hi):
            raise ArgumentValueError("lb and ub must not be NaN")
        total = self._integral(lambda x, logf: g(x), lo, hi)
        for loc, m in self._atom_list():
            if lo <= loc <= hi:
                total += m * float(_no_nan(g(np.array([loc])), np.array([loc]))[0])
        if conditional:
            below = float(self.cdf(lo)) - sum(m for loc, m in self._atom_list() if loc == lo)
            mass = float(self.cdf(hi)) - below
            if mass <= 0:
                raise ArgumentValueError(f"P({lo} <= X <= {hi}) = 0: the conditional expectation is undefined")
            total /= mass
        return float(total)

    def interval(self, confidence: float):
        """Equal-tail interval ``(ppf((1 - c)/2), ppf((1 + c)/2))`` holding mass ``confidence``."""
        c = check_probability("confidence", confidence)
        lo, hi = self.ppf(np.array([(1.0 - c) / 2.0, (1.0 + c) / 2.0]))
        return float(lo), float(hi)

    def rvs(self, size=None, *, rng=None, random_state=None):
        """Random draws: by inverse-CDF, ``ppf(U)`` with ``U`` uniform on [0, 1) drawn from ``rng``,
        unless the law has an exact sampler (``_rvs``).

        ``rng``: numpy Generator, SeedSequence, non-negative int or None (an int seeds
        ``Generator(SFC64(seed))``, as ``numerics.rng.as_generator``); ``random_state`` is its
        alias (SPEC 7). ``size``: None (one float), int or shape tuple. A draw that would
        underflow raises :class:`~degeneracy.errors.NumericalFailure` (use ``log_law().rvs``).
        """
        g = _rng(_rng_or_alias(rng, random_state))
        try:
            out = self._rvs(_size(size), g)
            return float(np.asarray(out).reshape(-1)[0]) if size is None else np.asarray(out, dtype=float)
        except NumericalFailure as exc:
            if "below the smallest positive double" not in str(exc):
                raise
            under = float(self.cdf(5e-324))
            raise NumericalFailure(
                f"{self!r}.rvs: some draws lie below the smallest positive double (the law puts mass "
                f"{under:.3g} below 5e-324); draw log x with log_law().rvs(...)") from None

    def log_law(self) -> "LogLaw":
        """The law of ``log X`` (for a law on ``[0, b]``), like ``scipy.stats.log(X)``; see :class:`LogLaw`."""
        return LogLaw(self)

    def __repr__(self) -> str:
        a, b = self.support()
        extra = f", atom={self.atom!r} at {self.atom_at!r}" if self.atom else ""
        return f"{type(self).__name__}(support=[{a!r}, {b!r}]{extra})"


class LogSpaceLaw(SpectralLaw):
    """A law on ``[0, b]`` computed natively in log space: the float methods are exponentials of the hooks.

    For laws whose mass sits far below the smallest double at large depth (Fuss-Catalan, the
    eigenvalue moduli of a finite-``n`` Ginibre product), the log-space hooks are the primary
    route. A subclass implements ``_support``, ``_logpdf_at_log(t, x=None)``,
    ``_logcdf_at_log(t, x=None)``, ``_logsf_at_log(t, x=None)`` (``t = log x``; ``x`` is passed
    along when the caller has it, for hooks that are more accurate with it), ``_log_ppf(q)`` and
    ``_log_isf(q)``; this class derives ``pdf = exp(logpdf)``, ``cdf = exp(logcdf)``,
    ``sf = exp(logsf)``, ``ppf = exp(log_ppf)``, ``isf = exp(log_isf)`` from them, so the float
    methods and :meth:`SpectralLaw.log_law` share one route and cannot disagree.

    Examples
    --------
    The law of ``U^2`` for a uniform ``U`` on ``[0, 1]``: ``cdf(x) = sqrt(x)``.

    >>> class USquared(LogSpaceLaw):
    ...     def _support(self):
    ...         return 0.0, 1.0
    ...     def _logpdf_at_log(self, t, x=None):
    ...         return -np.log(2.0) - 0.5 * t
    ...     def _logcdf_at_log(self, t, x=None):
    ...         return 0.5 * t
    ...     def _logsf_at_log(self, t, x=None):
    ...         return np.log1p(-np.exp(0.5 * t))
    ...     def _log_ppf(self, q):
    ...         return 2.0 * np.log(q)
    ...     def _log_isf(self, q):
    ...         return 2.0 * np.log1p(-q)
    >>> law = USquared()
    >>> float(law.cdf(0.25)), float(law.ppf(0.5)), round(law.mean(), 12)
    (0.5, 0.25, 0.333333333333)
    """

    def _logpdf(self, x):
        return self._logpdf_at_log(np.log(x), x)

    def _pdf(self, x):
        with np.errstate(over="ignore"):  # a true density above 1.8e308 only at subnormal x of deep laws
            return np.exp(self._logpdf(x))

    def _logcdf(self, x):
        return self._logcdf_at_log(np.log(x), x)

    def _cdf(self, x):
        return np.exp(self._logcdf(x))

    def _logsf(self, x):
        return self._logsf_at_log(np.log(x), x)

    def _sf(self, x):
        return np.exp(self._logsf(x))

    def _ppf(self, q):
        return np.exp(self._log_ppf(q))

    def _isf(self, q):
        return np.exp(self._log_isf(q))


class LogLaw(SpectralLaw):
    """The law of ``T = log X`` for a :class:`SpectralLaw` ``X`` on ``[0, b]``: ``law.log_law()``.

    Support ``[log a, log b]`` (``-inf`` when ``a = 0``); density ``f_T(t) = e^t f_X(e^t)``;
    ``cdf_T(t) = cdf_X(e^t)``; quantiles ``ppf_T(q) = log ppf_X(q)``. An atom of ``X`` at 0
    becomes an atom at ``-inf`` (then the moments of ``T`` are infinite and raise). Every method
    goes through the parent's log-space hooks, so a law whose mass lies far below the smallest
    double (``fuss_catalan(10**6)``: ``log x ~ -10^6``) keeps accurate quantiles, tails,
    densities and samples here. ``edge_exponents``: the parent's at ``log b`` (and at ``log a``
    when ``a > 0``); the density of ``T`` decays exponentially at ``-inf``.

    Examples
    --------
    >>> class Uniform01(SpectralLaw):
    ...     def _support(self):
    ...         return 0.0, 1.0
    ...     def _pdf(self, x):
    ...         return np.ones_like(x)
    >>> T = Uniform01().log_law()        # log U is minus a standard exponential
    >>> T.support(), round(T.mean(), 12), round(T.var(), 10), round(float(T.cdf(-1.0)), 15)
    ((-inf, 0.0), -1.0, 1.0, 0.367879441171442)
    """

    def __init__(self, parent: SpectralLaw):
        if not isinstance(parent, SpectralLaw):
            raise ArgumentTypeError(f"parent must be a SpectralLaw, got {type(parent).__name__}")
        a, b = parent.support()
        if a < 0 or b <= 0:
            raise ArgumentValueError(f"log_law needs a law on [0, b] with b > 0, got support [{a}, {b}]")
        self.parent = parent
        self.atoms = [(math.log(loc) if loc > 0 else -math.inf, m) for loc, m in parent._atom_list()]
        zero = [m for loc, m in parent._atom_list() if loc == 0]
        if zero:
            self.atom, self.atom_at = zero[0], -math.inf
        alpha_a, alpha_b = (float(e) for e in parent.edge_exponents)
        self.edge_exponents = (alpha_a if a > 0 else 0.0, alpha_b)
        self._ends = (math.log(a) if a > 0 else -math.inf, math.log(b))

    def __repr__(self) -> str:
        return f"{self.parent!r}.log_law()"

    def _support(self):
        return self._ends

    def _pdf_at_ends(self):
        pa, pb = self.parent._pdf_at_ends()
        a, b = self.parent.support()
        return (pa * a if a > 0 else 0.0), pb * b

    def _logpdf(self, t):
        return t + self.parent._logpdf_at_log(t)

    def _pdf(self, t):
        return np.exp(self._logpdf(t))

    def _logcdf(self, t):
        return self.parent._logcdf_at_log(t)

    def _cdf(self, t):
        return np.exp(self._logcdf(t))

    def _logsf(self, t):
        return self.parent._logsf_at_log(t)

    def _sf(self, t):
        return np.exp(self._logsf(t))

    def _ppf(self, q):
        return self.parent._log_ppf(q)

    def _isf(self, q):
        return self.parent._log_isf(q)

    def _log_space(self) -> bool:
        return False

    def _integration_floor(self) -> float:
        return self.parent._log_floor()

    def _moment(self, k: int):
        if self.atom > 0:
            raise NumericalFailure(f"{self!r}: X has an atom at 0, so log X has mass {self.atom:.6g} at -inf and "
                                   "no finite moments")
        return self.expect(lambda t: t**k)
