"""Honest comparisons between a prediction and a measurement.

Every constructor here returns a :class:`Check`: a prediction (``theory``), a measurement
(``estimate``) with its standard error, a test statistic and the rule that turns the statistic
into a verdict. The *threshold* is not chosen by the caller: the runner assigns each check its
share ``alpha_check`` of the run's family-wise false-alarm rate and calls
:meth:`Check.finalize`, which sets ``threshold``, ``passed``, ``resolution`` and, for the
checks of empirical claims, the three-way ``outcome``.

``z`` is always ``(estimate - theory) / stderr``: its sign is the sign of the deviation, for
every rule (a "less than" statement that holds has a negative ``z``).

Rules (``Check.test``, reported as the check's ``type``):

``"agreement"``
    H0: the prediction is right. Two-sided Student-t (or normal) test; the check passes when
    ``|z| <= t_{df}^{-1}(1 - alpha_check / (2 m))`` where ``m`` is the number of simultaneous
    comparisons inside the check (grid points of an empirical CDF; Bonferroni).
``"bound"``
    H0: ``estimate <= bound`` (or ``>=``). One-sided; passes unless the data contradict the
    bound at level ``alpha_check``.
``"effect"``
    A claim that one condition beats another. H0: no effect. The check passes only when the
    one-sided test *detects* the claimed effect at level ``alpha_check``.
``"exact"``, ``"proof"``
    Exact equality in integers / rationals / sympy, or a symbolic certificate. No statistics.
``"tolerance"``
    A deterministic floating-point comparison. The caller derives the rounding-error scale
    (for example ``depth * sqrt(n) * eps``); the check passes when the deviation is within one
    such scale (threshold 1).

**Three-way outcomes** (``finalize(alpha, three_way=True)``, used for empirical claims):
effect and bound checks end ``"supported"`` (the claimed direction is detected),
``"contradicted"`` (the opposite direction is detected) or ``"inconclusive"`` (neither), each
direction tested one-sided at ``alpha_check / 2`` (the directional two-sided test, Kaiser
1960): under no effect at all, a directional conclusion has probability at most
``alpha_check``. The check then reports the effect's confidence interval
``estimate +- threshold * stderr`` (it excludes the null exactly when a direction is
detected) and ``detectable``, the smallest true effect the design detects with probability
0.8: ``(threshold + t_{df}^{-1}(0.8)) * stderr``, in the estimate's units.

**Sequential checks.** A check built by :func:`degeneracy.proofs.replication.replicate`
carries the statistic of every look (``looks``) and the run budget; ``finalize`` applies the
alpha-spending boundaries of :mod:`degeneracy.numerics.spending` and reports the look at
which it concluded (or the last one).

**Zero standard errors.** A standard error estimated from R replicas is 0 when every replica
gave the same value. For a measurement on a lattice (a count, a fraction of ``n`` items) that
only says the spread is below one lattice step, so :func:`mean_check` takes the measurement's
``granularity`` ``q`` and floors the standard error at ``q / R`` (one step of one replica; the
same rule as the one-count floor of :func:`ecdf_check`). The weighted fits
(:func:`weighted_fit`, :func:`extrapolation_check`, :func:`rate_check`) take a
``stderr_floor``; without one, a zero standard error is given the largest standard error of
the fit's other points (the weakest weight present, a conservative choice), and the check
records it in ``extra["zero_stderr_points"]``. In a fit, a standard error at the level of
rounding (at most ``64 eps max|estimate|``: every replica equal up to rounding, as when a
near-isometric network's Jacobians are all exactly orthogonal) counts as zero: weighting by it
would pin the fit to one point and make its normal matrix singular.

Standard errors always come from independent replicas (independent matrices, networks or
seeds), never from correlated values inside one replica.

One idea: the check, a prediction held against a measurement with its error model; every
constructor builds one, and the verdict rules (two-sided, one-sided, three-way, sequential)
live on the one class so that a report, a calibration and a negative control read every
check the same way.

The *resolution* of a check is the smallest relative deviation from the prediction it would
have detected: ``threshold * stderr / |theory|`` (absolute when ``theory == 0``).

**Check-level negative control.** :meth:`Check.detects` re-evaluates a finalized agreement,
bound or tolerance check from its own numbers with its theory value moved by a relative
``rel`` (both ways; a bound only toward the estimate) and says whether it would then fail: the
test suite walks the registry with it. Each check states the relative mistake it must detect
(``target``, default 5%); a check that cannot reach it says why (:meth:`Check.aims`).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> c = mean_check("mean of N(0,1)", rng.standard_normal(400), 0.0)
>>> c.finalize(1e-3).passed
True
>>> bad = mean_check("mean of N(0,1)", rng.standard_normal(400), 0.5)
>>> bad.finalize(1e-3).passed
False
>>> d = difference_check("a > b", rng.normal(1.0, 1, 50), rng.normal(0.0, 1, 50), "greater")
>>> d.finalize(1e-3, three_way=True).outcome
'supported'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np
from scipy import stats as _sps

from degeneracy.errors import ArgumentValueError, NumericalFailure

from .spending import spending_boundaries

__all__ = [
    "Check",
    "CHECK_TYPES",
    "OUTCOMES",
    "sidak",
    "mean_check",
    "ecdf_check",
    "replica_ecdf",
    "extrapolation_check",
    "vector_mean_check",
    "ecdf_extrapolation_check",
    "group_variance_replicas",
    "rate_check",
    "difference_check",
    "paired_difference_check",
    "exceeds_check",
    "bound_check",
    "exact_check",
    "proof_check",
    "tolerance_check",
    "weighted_fit",
]

_STAT_TESTS = ("agreement", "bound", "effect")
#: every check type (``Check.test``), as reported in the JSON report's ``type``
CHECK_TYPES = ("agreement", "bound", "effect", "exact", "proof", "tolerance")
#: the three outcomes of a directional check of an empirical claim
OUTCOMES = ("supported", "contradicted", "inconclusive")
_Z_CAP = 1e12
_POWER = 0.8  # the power at which ``detectable`` is quoted


def sidak(alpha: float, m: int) -> float:
    """Per-test level so that ``m`` independent tests have family-wise rate ``alpha``.

    ``1 - (1 - alpha)^(1/m)`` (Sidak 1967); slightly larger than Bonferroni's ``alpha/m``.

    >>> round(sidak(1e-3, 10), 9)
    0.000100045
    """
    if not (0 < alpha < 1):
        raise ArgumentValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if m < 1:
        raise ArgumentValueError(f"m must be a positive integer, got {m!r}")
    return float(-math.expm1(math.log1p(-alpha) / m))


def _float(x) -> float:
    if isinstance(x, Fraction):
        return float(x)
    try:
        return float(x)
    except TypeError:  # sympy objects
        return float(complex(x).real)


def _finite(name: str, what: str, arr: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise NumericalFailure(f"check {name!r}: {what} contains NaN or inf (a run diverged or overflowed)")
    return arr


def _quantile(q: float, df: float) -> float:
    """Upper ``q`` quantile of Student-t with ``df`` degrees of freedom (normal when ``df`` is inf)."""
    if q <= 0:
        return math.inf
    if math.isinf(df):
        return float(_sps.norm.isf(q))
    return float(_sps.t.isf(q, df))


@dataclass
class Check:
    """One comparison of a prediction with a measurement (see the module docstring).

    Attributes set by the constructors: ``name``, ``test`` (the type), ``theory``, ``estimate``,
    ``stderr``, ``z = (estimate - theory) / stderr``, ``df``, ``multiplicity``, ``direction``,
    ``detail``, ``runs`` (independent replicas behind the estimate). Set by :meth:`finalize`:
    ``alpha``, ``threshold``, ``passed``, ``resolution``, ``ci``, and for three-way checks
    ``outcome`` and ``detectable``. Sequential checks also carry ``looks`` and ``budget``.
    """

    name: str
    test: str
    theory: float
    estimate: float
    stderr: float = 0.0
    z: float = 0.0
    df: float = math.inf
    multiplicity: int = 1
    direction: str = "two-sided"
    detail: str = ""
    exact_holds: bool | None = None
    threshold: float | None = None
    passed: bool | None = None
    resolution: float | None = None
    alpha: float | None = None
    extra: dict = field(default_factory=dict)
    runs: int | None = None
    outcome: str | None = None
    ci: tuple | None = None
    detectable: float | None = None
    looks: list = field(default_factory=list)
    budget: int | None = None
    spending: str = "obrien-fleming"
    target: float = 0.05
    target_reason: str = ""
    target_scale: float | None = None
    look: int | None = None

    @property
    def statistical(self) -> bool:
        """Whether the check takes a share of the family-wise false-alarm rate."""
        return self.test in _STAT_TESTS

    @property
    def type(self) -> str:
        """The check's type: agreement, bound, effect, exact, proof or tolerance."""
        return self.test

    @property
    def directional(self) -> bool:
        """Effect and bound checks: in an empirical claim they end supported / contradicted / inconclusive."""
        return self.test in ("effect", "bound")

    def _sign(self) -> float:
        """+1 when the claimed side is ``estimate > theory``, -1 when it is ``<``."""
        if self.test == "effect":
            return 1.0 if self.direction == "greater" else -1.0
        if self.test == "bound":  # "le": the claim holds on the side estimate < bound
            return -1.0 if self.direction == "le" else 1.0
        return 0.0

    def critical_value(self, alpha: float, *, three_way: bool = False) -> float:
        """The threshold on ``|z|`` (or the signed ``z``) for a per-check level ``alpha``."""
        if self.test == "agreement":
            q = alpha / (2.0 * self.multiplicity)
        elif self.test in ("bound", "effect"):
            q = alpha / self.multiplicity / (2.0 if three_way else 1.0)
        elif self.test == "tolerance":
            return 1.0
        else:
            return 0.0
        return _quantile(q, self.df)

    def aims(self, rel: float, reason: str = "", *, scale: float | None = None) -> "Check":
        """State the relative mistake in ``theory`` this check must detect (default 5%); returns self.

        A check whose design cannot resolve 5% says so here, with the reason (e.g. a
        heavy-tailed estimator whose variance grows like the depth). ``scale`` is the natural
        size of the quantity when the prediction is 0 (a mistake is then ``rel * scale``).
        """
        if not (rel > 0 and math.isfinite(rel)):
            raise ArgumentValueError(f"rel must be a positive number, got {rel!r}")
        if scale is not None and not (scale > 0 and math.isfinite(scale)):
            raise ArgumentValueError(f"scale must be a positive number, got {scale!r}")
        self.target, self.target_reason = float(rel), str(reason)
        self.target_scale = None if scale is None else float(scale)
        return self

    # ------------------------------------------------------------------ verdicts
    def finalize(self, alpha: float, *, three_way: bool = False) -> "Check":
        """Set ``threshold``, ``passed``, ``resolution`` and ``ci`` for the per-check level ``alpha``.

        With ``three_way=True`` (the checks of empirical claims) effect and bound checks also
        get ``outcome`` (supported / contradicted / inconclusive) and ``detectable``, and
        ``passed`` means "supported". A sequential check (``looks`` not empty) concludes at the
        first look whose statistic crosses its alpha-spending boundary.
        """
        self.alpha = float(alpha)
        self.outcome, self.detectable, self.ci = None, None, None
        if self.looks and self.directional:
            self._finalize_sequential(alpha, three_way)
        else:
            thr = self.critical_value(alpha, three_way=three_way)
            self.threshold = thr
            self._decide(thr, three_way)
        self._describe()
        return self

    def _decide(self, thr: float, three_way: bool) -> None:
        if self.test == "agreement" or self.test == "tolerance":
            self.passed = abs(self.z) <= thr
        elif self.directional:
            zs = self._sign() * self.z  # > 0: the claimed side
            if three_way:
                self.outcome = "supported" if zs >= thr else ("contradicted" if zs <= -thr else "inconclusive")
                self.passed = self.outcome == "supported"
            elif self.test == "bound":
                self.passed = -zs <= thr
            else:
                self.passed = zs >= thr
        else:
            self.passed = bool(self.exact_holds)

    def _finalize_sequential(self, alpha: float, three_way: bool) -> None:
        q = alpha / self.multiplicity / (2.0 if three_way else 1.0)
        budget = self.budget or self.looks[-1].get("n", self.looks[-1]["runs"])
        fractions = [min(lk.get("n", lk["runs"]) / budget, 1.0) for lk in self.looks]
        bounds = spending_boundaries(q, fractions, [lk["df"] for lk in self.looks], self.spending)
        chosen = len(self.looks) - 1
        for k, (lk, b) in enumerate(zip(self.looks, bounds)):
            zs = self._sign() * lk["z"]
            lk["boundary"] = float(b)
            if zs >= b or (three_way and zs <= -b):
                chosen = k
                break
        lk = self.looks[chosen]
        self.look = chosen + 1
        for key in ("estimate", "stderr", "z", "df", "runs"):
            setattr(self, key, lk[key])
        self.extra.update(lk.get("extra", {}))
        self.threshold = float(bounds[chosen])
        self._decide(self.threshold, three_way)

    def _describe(self) -> None:
        thr, se = self.threshold, self.stderr
        if self.statistical and math.isfinite(thr):
            self.ci = (float(self.estimate - thr * se), float(self.estimate + thr * se))
        denom = abs(self.theory)
        width = thr * se if math.isfinite(thr) else math.inf
        if self.test == "effect":
            # the smallest true difference this test would detect, relative to the larger mean
            denom = max(abs(self.extra.get("mean_a", 0.0)), abs(self.extra.get("mean_b", 0.0)))
        self.resolution = float(width / denom) if denom > 0 else float(width)
        if self.outcome is not None:
            self.detectable = float((thr + _quantile(1 - _POWER, self.df)) * se) if math.isfinite(thr) else math.inf

    # ------------------------------------------------------------------ negative control
    def detects(self, rel: float | None = None) -> bool | None:
        """Would this finalized check fail if its theory value were wrong by a relative ``rel``?

        Re-evaluated from the check's own numbers (estimate, stderr, threshold): an agreement
        or tolerance check must fail with ``theory * (1 + rel)`` AND with ``theory * (1 - rel)``;
        a bound must fail when moved by ``rel`` toward the estimate. ``rel`` defaults to the
        check's ``target``. Only this check is re-evaluated: every other check of the run (a
        certificate above all) keeps its verdict, so a claim that fails this way fails because
        this check saw the mistake. Returns ``None`` where a relative mistake is undefined
        (exact, proof and effect checks; a zero prediction without a ``scale``, see :meth:`aims`).

        >>> c = mean_check("m", 1.0 + 0.01 * np.sin(np.arange(40)), 1.0).finalize(1e-3)
        >>> c.detects(0.05), c.detects(0.001)
        (True, False)
        """
        if self.threshold is None:
            raise NumericalFailure(f"check {self.name!r} was not finalized")
        rel = self.target if rel is None else float(rel)
        base = abs(self.theory) if self.theory != 0 else self.target_scale
        if self.test not in ("agreement", "tolerance", "bound") or not base:
            return None
        shift = rel * base
        if self.test == "bound":
            moved = self.theory - shift if self.direction == "le" else self.theory + shift
            zb = (self.estimate - moved) / self.stderr if self.stderr > 0 else math.copysign(_Z_CAP, self.estimate - moved)
            return bool((zb if self.direction == "le" else -zb) > self.threshold)
        for moved in (self.theory + shift, self.theory - shift):
            dev = self.estimate - moved
            zz = dev / self.stderr if self.stderr > 0 else (0.0 if dev == 0 else _Z_CAP)
            if abs(zz) <= self.threshold:
                return False
        return True

    # ------------------------------------------------------------------ report
    def as_dict(self) -> dict:
        """The check as the JSON report's ``checks`` entry (plain finite numbers; see the README)."""
        if self.passed is None:
            raise NumericalFailure(f"check {self.name!r} was not finalized")

        def num(v: float) -> float:
            v = float(v)
            if math.isnan(v):
                raise NumericalFailure(f"check {self.name!r} has a NaN field")
            return math.copysign(1e300, v) if math.isinf(v) else v

        d = {
            "name": self.name,
            "type": self.test,
            "theory": num(self.theory),
            "estimate": num(self.estimate),
            "stderr": num(self.stderr),
            "z": num(self.z),
            "threshold": num(self.threshold),
            "resolution": num(self.resolution),
            "passed": bool(self.passed),
        }
        if self.statistical:
            d["df"] = None if math.isinf(self.df) else num(self.df)
            d["alpha"] = num(self.alpha)
            if self.ci is not None:
                d["ci"] = [num(self.ci[0]), num(self.ci[1])]
        if self.direction != "two-sided":
            d["direction"] = self.direction
        if self.runs is not None:
            d["runs"] = int(self.runs)
        if self.outcome is not None:
            d["outcome"] = self.outcome
            d["detectable"] = num(self.detectable)
        if self.looks:
            d["look"] = int(self.look or len(self.looks))
            d["looks"] = len(self.looks)
            d["budget"] = int(self.budget or self.looks[-1].get("n", self.looks[-1]["runs"]))
        if self.test in ("agreement", "bound", "tolerance"):
            d["target"] = num(self.target)
            if self.target_reason:
                d["target_reason"] = self.target_reason
            if self.target_scale is not None:
                d["target_scale"] = num(self.target_scale)
        if self.detail:
            d["detail"] = self.detail
        return d

    def copy(self, **changes) -> "Check":
        """A copy with ``changes`` (the ``extra`` dict and ``looks`` list are copied too)."""
        fields = {"extra": dict(self.extra), "looks": [dict(lk) for lk in self.looks]}
        fields.update(changes)
        return replace(self, **fields)


def _t_z(diff: float, se: float) -> float:
    if se > 0:
        return float(np.clip(diff / se, -_Z_CAP, _Z_CAP))
    return 0.0 if diff == 0 else math.copysign(_Z_CAP, diff)


def mean_check(name: str, replicas, theory: float, *, granularity: float = 0.0, detail: str = "") -> Check:
    """Replica mean against a prediction: ``z = (mean - theory) / (s / sqrt(R))``, t with R-1 dof.

    Parameters
    ----------
    replicas : array_like, shape (R,)
        One value per independent replica, R >= 2.
    theory : float
        The predicted expectation.
    granularity : float
        The lattice step of one replica's value (e.g. ``1/n`` for a fraction of ``n`` items; 0 for
        a continuous value). The standard error is floored at ``granularity / R``: when every
        replica gives the same value the spread is only known to be below one step.

    >>> c = mean_check("fraction in a bin", [0.0, 0.0, 0.0, 0.0], 0.01, granularity=1 / 32)
    >>> round(c.stderr, 6), c.finalize(1e-3).passed
    (0.007812, True)
    """
    x = _finite(name, "replicas", np.asarray(replicas, dtype=float).ravel())
    if x.size < 2:
        raise ArgumentValueError(f"replicas must hold at least 2 independent values, got {x.size}")
    if not (granularity >= 0 and math.isfinite(granularity)):
        raise ArgumentValueError(f"granularity must be a non-negative number, got {granularity!r}")
    theory = _float(theory)
    mean = float(x.mean())
    se = max(float(x.std(ddof=1) / math.sqrt(x.size)), granularity / x.size)
    return Check(name, "agreement", theory, mean, se, _t_z(mean - theory, se), df=x.size - 1, detail=detail,
                 runs=x.size)


def vector_mean_check(name: str, replicas, theory, *, labels=None, detail: str = "") -> Check:
    """Replica means of K quantities at once against K predictions: max |z|, Bonferroni over K.

    Parameters
    ----------
    replicas : array_like, shape (R, K)
        Row r holds the K values of independent replica r (the K values may be correlated
        with each other; only rows must be independent).
    theory : array_like, shape (K,)
    labels : sequence of str, optional
        Names of the K quantities (the report names the worst one).
    """
    x = _finite(name, "replicas", np.asarray(replicas, dtype=float))
    if x.ndim != 2 or x.shape[0] < 2:
        raise ArgumentValueError(f"replicas must have shape (R, K) with R >= 2, got {x.shape}")
    th = np.asarray([_float(t) for t in np.ravel(theory)], dtype=float)
    if th.size != x.shape[1]:
        raise ArgumentValueError(f"theory must have {x.shape[1]} entries, got {th.size}")
    R = x.shape[0]
    mean = x.mean(axis=0)
    se = x.std(axis=0, ddof=1) / math.sqrt(R)
    z = np.array([_t_z(m - t, s) for m, t, s in zip(mean, th, se)])
    k = int(np.argmax(np.abs(z)))
    label = labels[k] if labels is not None else str(k)
    c = Check(name, "agreement", float(th[k]), float(mean[k]), float(se[k]), float(z[k]), df=R - 1,
              multiplicity=th.size, detail=detail or f"max |z| over {th.size} quantities at {label}", runs=R)
    c.extra.update(worst=label)
    return c


def group_variance_replicas(values, groups: int) -> np.ndarray:
    """Split independent values into ``groups`` equal groups and return each group's sample variance.

    The group variances (ddof=1) are independent unbiased estimates of the variance, so a
    :func:`mean_check` on them tests a predicted variance with an honest standard error.
    Works along the first axis (extra axes are kept).

    >>> group_variance_replicas([1.0, 3.0, 2.0, 4.0], 2).tolist()
    [2.0, 2.0]
    """
    v = np.asarray(values, dtype=float)
    if groups < 2 or v.shape[0] // groups < 2:
        raise ArgumentValueError(f"need at least 2 groups of at least 2 values, got {v.shape[0]} values in {groups} groups")
    m = v.shape[0] // groups
    return v[: groups * m].reshape((groups, m) + v.shape[1:]).var(axis=1, ddof=1)


def replica_ecdf(samples, grid) -> np.ndarray:
    """Empirical CDF of each replica's samples on ``grid``: shape (R, G).

    >>> replica_ecdf([[0.1, 0.5], [0.2, 0.9]], [0.3]).tolist()
    [[0.5], [0.5]]
    """
    s = np.sort(np.asarray(samples, dtype=float), axis=-1)
    g = np.asarray(grid, dtype=float)
    counts = np.stack([np.searchsorted(row, g, side="right") for row in s])
    return counts / s.shape[-1]


def ecdf_check(name: str, samples, cdf: Callable[[np.ndarray], np.ndarray], grid, *, detail: str = "") -> Check:
    """Replica-averaged empirical CDF on a grid against a predicted CDF.

    For each grid point ``x_g``, ``F_hat(x_g)`` is the mean over the R independent replicas of
    each replica's empirical CDF, with standard error from the spread across replicas;
    ``z_g = (F_hat - F) / se_g``. The statistic is ``max_g |z_g|`` held to a Bonferroni
    threshold over the G grid points. ``se_g`` is floored at ``1 / (R M)`` (one count).

    Parameters
    ----------
    samples : array_like, shape (R, M)
        Row r holds the M values (e.g. eigenvalues) of independent replica r.
    cdf : callable
        The predicted CDF, vectorized.
    grid : array_like, shape (G,)
    """
    s = _finite(name, "samples", np.asarray(samples, dtype=float))
    if s.ndim != 2 or s.shape[0] < 2:
        raise ArgumentValueError(f"samples must have shape (R, M) with R >= 2 replicas, got {s.shape}")
    g = _finite(name, "grid", np.asarray(grid, dtype=float).ravel())
    F = np.asarray(cdf(g), dtype=float)
    _finite(name, "predicted cdf", F)
    E = replica_ecdf(s, g)
    R, M = s.shape
    mean = E.mean(axis=0)
    se = np.maximum(E.std(axis=0, ddof=1) / math.sqrt(R), 1.0 / (R * M))
    z = (mean - F) / se
    k = int(np.argmax(np.abs(z)))
    c = Check(name, "agreement", float(F[k]), float(mean[k]), float(se[k]), float(z[k]), df=R - 1,
              multiplicity=g.size, detail=detail or f"max |z| over {g.size} grid points at x = {g[k]:.6g}", runs=R)
    c.extra.update(x_at_max=float(g[k]))
    return c


def ecdf_extrapolation_check(name: str, samples_by_size: dict, cdf: Callable[[np.ndarray], np.ndarray], grid, *,
                             powers=(1,), detail: str = "") -> Check:
    """Asymptotic law check: per grid point, extrapolate the replica-averaged ECDF in 1/N.

    For each size N, ``samples_by_size[N]`` has shape (R_N, M_N) (independent replicas by
    row). At every grid point ``x_g`` the replica-averaged empirical CDFs are fitted by
    ``a_g + sum_p b_{g,p} N^(-p)`` (weighted least squares) and the intercepts ``a_g`` are
    compared with ``cdf(x_g)``; the statistic is ``max_g |z_g|`` with a Bonferroni threshold
    over the grid.
    """
    sizes = sorted(samples_by_size)
    powers = tuple(powers)
    if len(sizes) < len(powers) + 2:
        raise ArgumentValueError(f"need at least {len(powers) + 2} sizes for powers {powers}, got {len(sizes)}")
    g = _finite(name, "grid", np.asarray(grid, dtype=float).ravel())
    F = np.asarray(cdf(g), dtype=float)
    _finite(name, "predicted cdf", F)
    means, ses, dfs = [], [], []
    for n in sizes:
        s = _finite(name, f"samples at N={n}", np.asarray(samples_by_size[n], dtype=float))
        if s.ndim != 2 or s.shape[0] < 2:
            raise ArgumentValueError(f"samples at N={n} must have shape (R, M) with R >= 2, got {s.shape}")
        E = replica_ecdf(s, g)
        R, M = s.shape
        means.append(E.mean(axis=0))
        ses.append(np.maximum(E.std(axis=0, ddof=1) / math.sqrt(R), 1.0 / (R * M)))
        dfs.append(R - 1)
    means, ses = np.array(means), np.array(ses)
    n_arr = np.asarray(sizes, dtype=float)
    cols = [lambda v: np.ones_like(v)] + [(lambda v, p=p: v ** (-float(p))) for p in powers]
    a = np.empty(g.size)
    sa = np.empty(g.size)
    for j in range(g.size):
        coef, cov, _, _ = weighted_fit(n_arr, means[:, j], ses[:, j], cols)
        a[j], sa[j] = coef[0], math.sqrt(cov[0, 0])
    z = np.array([_t_z(x - f, s) for x, f, s in zip(a, F, sa)])
    k = int(np.argmax(np.abs(z)))
    c = Check(name, "agreement", float(F[k]), float(a[k]), float(sa[k]), float(z[k]), df=min(dfs),
              multiplicity=g.size,
              detail=detail or f"ECDF extrapolated in 1/N over N = {sizes}; max |z| over {g.size} points at x = {g[k]:.6g}")
    c.extra.update(x_at_max=float(g[k]))
    return c


def _floored(se: np.ndarray, stderr_floor, y=None) -> tuple[np.ndarray, list]:
    """Apply the zero-standard-error rule of the module docstring; returns ``(se, floored points)``.
    With the fit's estimates ``y``, a standard error at rounding level (``<= 64 eps max|y|``) is zero."""
    se = np.array(se, dtype=float)
    if np.any(se < 0):
        raise ArgumentValueError(f"stderrs must be non-negative, got {se.tolist()}")
    if y is not None and se.size:
        se[se <= 64.0 * np.finfo(float).eps * float(np.max(np.abs(y)))] = 0.0
    if stderr_floor is not None:
        floor = np.broadcast_to(np.asarray(stderr_floor, dtype=float), se.shape)
        if np.any(floor < 0) or not np.all(np.isfinite(floor)):
            raise ArgumentValueError("stderr_floor must be non-negative and finite")
        se = np.maximum(se, floor)
    zero = [int(i) for i in np.flatnonzero(se == 0)]
    if zero:
        if len(zero) == se.size:
            raise NumericalFailure("every standard error of the fit is 0 (all replicas identical at every point): "
                                   "nothing to weigh the points by; declare the measurement's stderr_floor")
        se[zero] = se[se > 0].max()
    return se, zero


def weighted_fit(x, y, se, columns: Sequence[Callable[[np.ndarray], np.ndarray]], *, stderr_floor=None):
    """Weighted least squares ``y ~ sum_j c_j f_j(x)`` with known standard errors ``se``.

    Returns ``(coef, cov, chi2, dof)``. When the reduced chi-square exceeds 1 the covariance
    is inflated by it: the scale factor ``S = sqrt(chi2 / dof)`` of the Particle Data Group
    (Review of Particle Physics, "Introduction: averaging procedures"), so a fit never claims
    more precision than its scatter supports. Zero standard errors follow the rule of the
    module docstring (``stderr_floor``, else the largest other standard error).

    >>> coef, cov, chi2, dof = weighted_fit([1, 2, 3], [1.0, 2.0, 3.0], [0.1, 0.0, 0.1],
    ...                                     [lambda v: np.ones_like(v), lambda v: v])
    >>> [round(float(c), 9) + 0.0 for c in coef]
    [0.0, 1.0]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    se, _ = _floored(se, stderr_floor, y)
    X = np.column_stack([f(x) for f in columns])
    w = 1.0 / se
    A = X * w[:, None]
    b = y * w
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    # (A^T A)^-1 from the SVD of A: the normal matrix squares A's condition number, its inverse does not
    _, sv, vt = np.linalg.svd(A, full_matrices=False)
    if sv.size < X.shape[1] or not sv[-1] > sv[0] * X.shape[0] * np.finfo(float).eps:
        raise NumericalFailure(f"weighted_fit: the design is rank-deficient at x = {x.tolist()} (the columns "
                               "cannot be told apart there)")
    cov = (vt.T / sv**2) @ vt
    resid = b - A @ coef
    dof = x.size - X.shape[1]
    chi2 = float(resid @ resid)
    if dof > 0 and chi2 / dof > 1:
        cov = cov * (chi2 / dof)
    return coef, cov, chi2, dof


def extrapolation_check(name: str, sizes, estimates, stderrs, theory: float, *, powers=(1,), df: float | None = None,
                        stderr_floor=None, detail: str = "") -> Check:
    """Extrapolate finite-size estimates to ``size -> inf`` and compare the intercept.

    Fits ``estimate(N) = a + sum_p b_p N^(-p)`` by weighted least squares (weights
    ``1/stderr^2``; covariance inflated by the PDG scale factor when the reduced chi-square
    exceeds 1, recorded in ``extra``) and tests ``a`` against ``theory``. Used for asymptotic
    laws: never one large-N run with a loose tolerance.

    Parameters
    ----------
    df : float, optional
        Degrees of freedom of the points' standard errors (replicas - 1 of the smallest
        point). The threshold is then the Student-t quantile with ``df`` degrees of freedom
        (the README's rule); without it, normal quantiles. The inflation only shrinks ``|z|``,
        so the t quantile of the replicas keeps its level after it.
    stderr_floor : float or array_like, optional
        One granularity step of each point's mean (see the module docstring); zero standard
        errors are otherwise given the largest other point's.
    """
    n = _finite(name, "sizes", np.asarray(sizes, dtype=float))
    y = _finite(name, "estimates", np.asarray(estimates, dtype=float))
    se = _finite(name, "stderrs", np.asarray(stderrs, dtype=float))
    powers = tuple(powers)
    if n.size < len(powers) + 2:
        raise ArgumentValueError(f"need at least {len(powers) + 2} sizes for powers {powers}, got {n.size}")
    se, zero = _floored(se, stderr_floor, y)
    cols = [lambda v: np.ones_like(v)] + [(lambda v, p=p: v ** (-float(p))) for p in powers]
    coef, cov, chi2, dof = weighted_fit(n, y, se, cols)
    a, sa = float(coef[0]), float(math.sqrt(cov[0, 0]))
    theory = _float(theory)
    c = Check(name, "agreement", theory, a, sa, _t_z(a - theory, sa),
              df=_df(df),
              detail=detail or f"intercept of a + b/N^p fit, p in {powers}, over N = {n.astype(int).tolist()}")
    c.extra.update(coef=coef.tolist(), chi2=chi2, dof=dof)
    if zero:
        c.extra["zero_stderr_points"] = [float(n[i]) for i in zero]
    return c


def _df(df) -> float:
    if df is None:
        return math.inf
    df = float(df)
    if not df >= 1:
        raise ArgumentValueError(f"df must be a number >= 1, got {df!r}")
    return df


def rate_check(name: str, xs, errors, error_stderrs, expected_rate: float, *, df: float | None = None,
               detail: str = "") -> Check:
    """Compare a fitted convergence rate with its prediction.

    Fits ``log|error| = c + r log x`` by weighted least squares, with the delta-method standard
    error ``stderr / |error|`` of each ``log|error|``, and tests ``r`` against
    ``expected_rate``. Every error must be resolved (``|error| > 2 stderr``): an unresolved
    point carries no rate information and raises. ``df`` (replicas - 1 behind each error) gives
    Student-t quantiles, as in :func:`extrapolation_check`.
    """
    x = _finite(name, "xs", np.asarray(xs, dtype=float))
    e = _finite(name, "errors", np.asarray(errors, dtype=float))
    s = _finite(name, "error_stderrs", np.asarray(error_stderrs, dtype=float))
    if x.size < 3:
        raise ArgumentValueError(f"need at least 3 points for a rate, got {x.size}")
    if np.any(np.abs(e) <= 2 * s):
        raise NumericalFailure(f"check {name!r}: some errors are not resolved from zero (|error| <= 2 stderr); "
                              "use larger errors or more replicas")
    coef, cov, chi2, dof = weighted_fit(np.log(x), np.log(np.abs(e)), s / np.abs(e),
                                        [lambda v: np.ones_like(v), lambda v: v])
    r, sr = float(coef[1]), float(math.sqrt(cov[1, 1]))
    expected_rate = _float(expected_rate)
    c = Check(name, "agreement", expected_rate, r, sr, _t_z(r - expected_rate, sr),
              df=_df(df),
              detail=detail or "slope of log|error| against log x")
    c.extra.update(coef=coef.tolist(), chi2=chi2, dof=dof)
    return c


def _welch(a: np.ndarray, b: np.ndarray):
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if va + vb > 0:
        df = (va + vb) ** 2 / ((va**2 / (a.size - 1) if va > 0 else 0) + (vb**2 / (b.size - 1) if vb > 0 else 0))
    else:
        df = a.size + b.size - 2
    return se, df


def _direction(direction: str) -> float:
    if direction not in ("greater", "less"):
        raise ArgumentValueError(f"direction must be 'greater' or 'less', got {direction!r}")
    return 1.0 if direction == "greater" else -1.0


def difference_check(name: str, a, b, direction: str = "greater", *, detail: str = "") -> Check:
    """EFFECT check: is ``mean(a) - mean(b)`` significantly ``> 0`` (or ``< 0``)?

    One-sided Welch t-test over independent replicas. Passes only when the claimed effect is
    detected at the check's level; ``theory`` is reported as 0 (the null), ``estimate`` as the
    observed difference.
    """
    sign = _direction(direction)
    a = _finite(name, "a", np.asarray(a, dtype=float).ravel())
    b = _finite(name, "b", np.asarray(b, dtype=float).ravel())
    if a.size < 2 or b.size < 2:
        raise ArgumentValueError("a and b must each hold at least 2 independent replicas")
    diff = float(a.mean() - b.mean())
    se, df = _welch(a, b)
    c = Check(name, "effect", 0.0, diff, se, _t_z(diff, se), df=df, direction=direction,
              detail=detail or f"Welch one-sided, mean(a) - mean(b) {'>' if sign > 0 else '<'} 0",
              runs=a.size + b.size)
    c.extra.update(mean_a=float(a.mean()), mean_b=float(b.mean()))
    return c


def paired_difference_check(name: str, a, b, direction: str = "greater", *, detail: str = "") -> Check:
    """EFFECT check on paired replicas (same seed for both conditions): one-sided paired t-test."""
    sign = _direction(direction)
    a = _finite(name, "a", np.asarray(a, dtype=float).ravel())
    b = _finite(name, "b", np.asarray(b, dtype=float).ravel())
    if a.shape != b.shape or a.size < 2:
        raise ArgumentValueError("a and b must be paired arrays of equal length >= 2")
    d = a - b
    diff = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(d.size))
    c = Check(name, "effect", 0.0, diff, se, _t_z(diff, se), df=d.size - 1, direction=direction,
              detail=detail or f"paired one-sided t, mean(a - b) {'>' if sign > 0 else '<'} 0", runs=d.size)
    c.extra.update(mean_a=float(a.mean()), mean_b=float(b.mean()))
    return c


def exceeds_check(name: str, a, value: float, direction: str = "greater", *, detail: str = "") -> Check:
    """EFFECT check: is ``mean(a)`` significantly above (or below) a fixed ``value``?

    One-sample one-sided t-test over independent replicas (R - 1 dof). Use it to show that a
    printed formula or a constant is contradicted by simulation; passes only when the
    difference is detected.

    >>> exceeds_check("x", [1.1, 0.9, 1.0, 1.05], 0.0).finalize(1e-3).passed
    True
    """
    sign = _direction(direction)
    a = _finite(name, "a", np.asarray(a, dtype=float).ravel())
    if a.size < 2:
        raise ArgumentValueError("a must hold at least 2 independent replicas")
    value = _float(value)
    diff = float(a.mean() - value)
    se = float(a.std(ddof=1) / math.sqrt(a.size))
    c = Check(name, "effect", value, float(a.mean()), se, _t_z(diff, se), df=a.size - 1, direction=direction,
              detail=detail or f"one-sample one-sided t, mean {'>' if sign > 0 else '<'} {value:.6g}", runs=a.size)
    c.extra.update(mean_a=float(a.mean()), mean_b=value)
    return c


def bound_check(name: str, estimate: float, stderr: float, bound: float, direction: str = "le", *,
                df: float = math.inf, detail: str = "") -> Check:
    """A statement ``E <= bound`` (``direction="le"``) or ``E >= bound`` (``"ge"``).

    Passes unless the estimate exceeds the bound by more than the one-sided threshold allows.
    """
    if direction not in ("le", "ge"):
        raise ArgumentValueError(f"direction must be 'le' or 'ge', got {direction!r}")
    estimate, stderr, bound = _float(estimate), _float(stderr), _float(bound)
    for what, v in (("estimate", estimate), ("stderr", stderr), ("bound", bound)):
        if not math.isfinite(v):
            raise NumericalFailure(f"check {name!r}: {what} is not finite")
    le = direction == "le"
    return Check(name, "bound", bound, estimate, stderr, _t_z(estimate - bound, stderr), df=df,
                 direction=direction, detail=detail or f"estimate {'<=' if le else '>='} bound",
                 runs=None if math.isinf(df) else int(round(df)) + 1)


def exact_check(name: str, theory, value, *, detail: str = "") -> Check:
    """Exact equality (int, Fraction, sympy) of a computed value with the prediction.

    >>> from fractions import Fraction
    >>> exact_check("m2", Fraction(3), Fraction(6, 2)).finalize(1e-3).passed
    True
    """
    try:
        holds = bool(theory == value) or (hasattr(theory, "equals") and theory.equals(value) is True)
    except TypeError:
        holds = False
    return Check(name, "exact", _float(theory), _float(value), exact_holds=holds, detail=detail or "exact equality")


def proof_check(name: str, holds: bool, detail: str = "") -> Check:
    """The result of a symbolic certificate: ``theory`` 0 is the residual a proof must reach."""
    holds = bool(holds)
    return Check(name, "proof", 0.0, 0.0 if holds else 1.0, exact_holds=holds, detail=detail or "symbolic certificate")


def tolerance_check(name: str, theory: float, estimate: float, scale: float, *, reason: str) -> Check:
    """Deterministic float comparison within a DERIVED rounding-error ``scale``.

    ``z = |estimate - theory| / scale``; passes when ``z <= 1``. ``reason`` states how the
    scale was derived (it is printed with the check).
    """
    theory, estimate, scale = _float(theory), _float(estimate), _float(scale)
    if not (scale > 0 and math.isfinite(scale)):
        raise ArgumentValueError(f"scale must be a positive finite number, got {scale!r}")
    if not math.isfinite(estimate):
        raise NumericalFailure(f"check {name!r}: estimate is not finite")
    return Check(name, "tolerance", theory, estimate, scale, _t_z(estimate - theory, scale), detail=reason)
