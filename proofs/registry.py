"""The registries of claims and symbolic certificates.

A **claim** pairs a theory prediction with a numeric (or exact) check: a stable id
``area.short-name``, a one-sentence statement (``title``), its source, its kind and a function
``fn(ctx)`` that yields :class:`numerics.stats.Check` objects. A **certificate** is a symbolic
proof (sympy) that returns ``holds`` or ``(holds, detail)``.

Area modules (``proofs/products.py``, ``proofs/dynamics.py``, ...) register themselves with
the :func:`claim` and :func:`certificate` decorators; :func:`load_all` imports them.

**Work units smaller than a claim.** A claim may declare independent units (sizes, depths,
settings, batches of replicas) with ``units=plan`` and ``unit=work``: ``plan(ctx)`` returns a dict
``{unit name: parameters}`` (its order is the unit-key order), ``work(ctx, parameters)`` computes
one unit's partial result (picklable; any process may run it, in any order), and the claim
function combines them: it reads ``ctx.parts`` (``{unit name: partial}`` in unit-key order) and
yields the checks. A unit's ``ctx.rng`` is its own stream, spawned from (run seed, claim id,
``"unit"``, unit name); ``ctx.spawn(*names)`` is the claim's, so a claim that already drew each
size from ``ctx.spawn(f"L{L}", f"n{n}")`` keeps every number when it becomes one unit per size.
A claim without ``units`` is one unit (unchanged).

**Shared experiments.** An experiment read by several claims (and figures) is registered with
:func:`shared` (``plan(mode) -> {unit name: parameters}``, ``fn(mode, seed, parameters)``); a
claim that reads it declares ``shares=(name,)`` and calls ``ctx.shared_value(name, unit name)``.
The runner computes each shared unit once per run (as a work unit) and hands the values to every
claim that declares it; outside the runner ``ctx.shared_value`` computes (once per process).

Examples
--------
>>> load_all()
>>> "products.lyapunov-real" in CLAIMS
True
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import importlib.util
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from degeneracy.errors import ArgumentValueError, SkipClaim

__all__ = [
    "KINDS",
    "AREAS",
    "Claim",
    "Certificate",
    "CLAIMS",
    "CERTIFICATES",
    "SkipClaim",
    "claim",
    "certificate",
    "SharedExperiment",
    "SHARED",
    "shared",
    "load_all",
    "select",
    "closest_ids",
    "get_claim",
]

KINDS = ("identity", "finite-n", "asymptotic", "empirical")
MODES = ("quick", "default", "full")
#: area modules, imported in this order by :func:`load_all` when present
AREAS = ("products", "dynamics", "fold", "isometry", "singularities", "pathologies")

_ID = re.compile(r"^[a-z][a-z0-9]*(\.[a-z0-9][a-z0-9-]*)+$")


@dataclass(frozen=True)
class Claim:
    """A registered claim (see the module docstring)."""

    id: str
    title: str
    source: str
    kind: str
    fn: Callable[..., Any]
    formula: str = ""
    settings: dict = field(default_factory=dict)
    module: str = ""
    #: ``plan(ctx) -> {unit name: parameters}``; None: the claim is one unit
    units: Callable[..., Any] | None = None
    #: ``work(ctx, parameters) -> partial result`` of one unit
    unit: Callable[..., Any] | None = None
    #: names of the shared experiments (:func:`shared`) the claim reads
    shares: tuple = ()

    def settings_for(self, mode: str) -> dict:
        """The settings of ``mode``: each entry is ``(quick, default, full)`` or one value."""
        i = MODES.index(mode)
        out = {}
        for key, val in self.settings.items():
            out[key] = val[i] if isinstance(val, tuple) and len(val) == 3 else val
        return out


@dataclass(frozen=True)
class Certificate:
    """A registered symbolic certificate."""

    id: str
    statement: str
    source: str
    fn: Callable[[], Any]
    module: str = ""

    def run(self) -> tuple[bool, str]:
        """Run the proof; returns ``(holds, detail)``. Exceptions propagate."""
        out = self.fn()
        if isinstance(out, tuple):
            holds, detail = out
        else:
            holds, detail = out, ""
        return bool(holds), str(detail)


@dataclass(frozen=True)
class SharedExperiment:
    """A registered shared experiment (see :func:`shared`)."""

    name: str
    plan: Callable[[str], dict]
    fn: Callable[..., Any]
    module: str = ""


CLAIMS: dict[str, Claim] = {}
CERTIFICATES: dict[str, Certificate] = {}
SHARED: dict[str, SharedExperiment] = {}


def _check_id(kind: str, cid: str) -> None:
    if not isinstance(cid, str) or not _ID.match(cid):
        raise ArgumentValueError(f"{kind} id must look like 'area.short-name' (lowercase, digits, dashes), got {cid!r}")


def claim(id: str, *, title: str, source: str, kind: str, formula: str = "", settings: dict | None = None,
          units: Callable[..., Any] | None = None, unit: Callable[..., Any] | None = None, shares=()):
    """Register ``fn(ctx)`` as the claim ``id``.

    Parameters
    ----------
    id : str
        Stable public id ``area.short-name``.
    title : str
        One-sentence statement of the claim.
    source : str
        Paper, section or equation.
    kind : {"identity", "finite-n", "asymptotic", "empirical"}
    formula : str
        The prediction in plain text (shown by ``degeneracy show``).
    settings : dict
        Sizes per mode: ``{"n": (quick, default, full), ...}``; available as ``ctx.settings``.
    units, unit : callable, optional
        Both or neither: ``units(ctx) -> {unit name: parameters}`` and ``unit(ctx, parameters)``,
        the claim's independent work units; the claim function then combines ``ctx.parts``
        (see the module docstring).
    shares : tuple of str
        Names of shared experiments (:func:`shared`) the claim reads with ``ctx.shared_value``.
    """
    _check_id("claim", id)
    if kind not in KINDS:
        raise ArgumentValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if (units is None) != (unit is None):
        raise ArgumentValueError(f"claim {id!r}: give both units= (the plan) and unit= (the work), or neither")
    if isinstance(shares, str):
        shares = (shares,)

    def deco(fn):
        if id in CLAIMS and CLAIMS[id].fn.__qualname__ != fn.__qualname__:
            raise ArgumentValueError(f"claim id {id!r} is registered twice")
        CLAIMS[id] = Claim(id, title, source, kind, fn, formula, dict(settings or {}), fn.__module__,
                           units, unit, tuple(str(x) for x in shares))
        return fn

    return deco


def certificate(id: str, *, statement: str, source: str):
    """Register ``fn()`` (returning ``holds`` or ``(holds, detail)``) as the certificate ``id``."""
    _check_id("certificate", id)

    def deco(fn):
        if id in CERTIFICATES and CERTIFICATES[id].fn.__qualname__ != fn.__qualname__:
            raise ArgumentValueError(f"certificate id {id!r} is registered twice")
        CERTIFICATES[id] = Certificate(id, statement, source, fn, fn.__module__)
        return fn

    return deco


def shared(name: str, *, plan: Callable[[str], dict]):
    """Register ``fn(mode, seed, parameters)`` as the shared experiment ``name``.

    ``plan(mode)`` returns ``{unit name: parameters}``: the units the runner computes once per run
    for the claims that declare ``shares=(name,)`` (each unit's value must depend only on mode,
    run seed and parameters). Claims and figures read a unit with ``ctx.shared_value(name, unit)``.
    """
    _check_id("shared experiment", name)

    def deco(fn):
        if name in SHARED and SHARED[name].fn.__qualname__ != fn.__qualname__:
            raise ArgumentValueError(f"shared experiment {name!r} is registered twice")
        SHARED[name] = SharedExperiment(name, plan, fn, fn.__module__)
        return fn

    return deco


def load_all() -> None:
    """Import every area module present (``degeneracy.proofs.<area>`` for each of :data:`AREAS`)."""
    for area in AREAS:
        name = f"degeneracy.proofs.{area}"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def select(pattern: str | None, registry: dict | None = None) -> list:
    """Entries whose id matches the glob ``pattern`` (comma-separated globs allowed), in id order.

    ``None`` selects everything. Raises ``ValueError`` when the pattern is empty (``""`` or only
    commas: an empty pattern is a mistake, not "everything") or matches nothing.
    """
    load_all()
    registry = CLAIMS if registry is None else registry
    ids = sorted(registry)
    if pattern is not None:
        pats = [p.strip() for p in str(pattern).split(",") if p.strip()]
        if not pats:
            raise ArgumentValueError(f"--only needs a glob such as 'products.*', got {pattern!r}")
        ids = [i for i in ids if any(fnmatch.fnmatchcase(i, p) for p in pats)]
        if not ids:
            raise ArgumentValueError(f"--only {pattern!r} matches no id; see `degeneracy list`")
    return [registry[i] for i in ids]


def closest_ids(name: str, ids, n: int = 5) -> list[str]:
    """The ids most similar to ``name`` (:func:`difflib.get_close_matches`), best first.

    >>> closest_ids("products.lyapunov-reel", ["products.lyapunov-real", "fold.fold0-plateau"])
    ['products.lyapunov-real']
    """
    return difflib.get_close_matches(str(name), sorted(ids), n=n, cutoff=0.5)


def get_claim(claim_id: str) -> Claim:
    """The claim called ``claim_id`` (``ValueError`` naming the closest known ids if absent)."""
    load_all()
    if claim_id not in CLAIMS:
        close = closest_ids(claim_id, CLAIMS)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `degeneracy list`"
        raise ArgumentValueError(f"unknown claim id {claim_id!r}{hint}")
    return CLAIMS[claim_id]
