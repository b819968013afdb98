"""What a claim (or a figure) sees when it runs: its random stream, mode and settings."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from degeneracy.errors import ArgumentValueError
from degeneracy.numerics.rng import stream_for
from degeneracy.numerics.stats import sidak

from .registry import CLAIMS, SHARED, load_all

__all__ = ["Context", "DEFAULT_ALPHA", "MODES", "SHARED_CAPACITY", "make_context", "prime_shared", "shared_key",
           "compute_shared"]

MODES = ("quick", "default", "full")
#: the run's default family-wise false-alarm rate
DEFAULT_ALPHA = 1e-3


@dataclass
class Context:
    """The run context passed to claim and figure functions.

    Attributes
    ----------
    rng : numpy.random.Generator
        The claim's own stream, spawned from the run seed with a stable key derived from the
        claim id: adding a claim never changes another claim's numbers.
    seed_sequence : numpy.random.SeedSequence
        The same stream as a SeedSequence, to spawn per-unit generators.
    mode : {"quick", "default", "full"}
    settings : dict
        The claim's settings for this mode.
    control : bool
        True when the test suite runs the claim's negative control: the claim must then use
        its deliberately wrong prediction, and fail.
    alpha : float
        The claim's share of the run's family-wise false-alarm rate (set by the runner;
        :func:`degeneracy.proofs.replication.replicate` splits it over the claim's checks).
    kind : str
        The claim's kind (empirical claims get three-way verdicts).
    replication : dict or None
        Set by :func:`degeneracy.proofs.replication.replicate`: runs used, budget, looks.
    shared : str
        Set by :meth:`share`: the name of an experiment this claim shares with others.
    unit : str
        In a work unit of a claim (``units=`` in :func:`~degeneracy.proofs.registry.claim`): the
        unit's name; ``""`` in the claim itself.
    parts : dict
        In the claim of a split claim: ``{unit name: partial result}`` in unit-key order.
    """

    id: str
    seed: int
    mode: str
    seed_sequence: np.random.SeedSequence
    settings: dict = field(default_factory=dict)
    control: bool = False
    progress: Callable[[float], None] = lambda fraction: None
    notes: list = field(default_factory=list)
    alpha: float = DEFAULT_ALPHA
    kind: str = "finite-n"
    replication: dict | None = None
    shared: str = ""
    unit: str = ""
    parts: dict = field(default_factory=dict)

    @property
    def rng(self) -> np.random.Generator:
        """A generator on the claim's stream (the same object for the whole run); in a work unit,
        on the unit's own stream (run seed, claim id, ``"unit"``, unit name)."""
        if "_rng" not in self.__dict__:
            ss = stream_for(self.seed_sequence, "unit", self.unit) if self.unit else self.seed_sequence
            self.__dict__["_rng"] = np.random.Generator(np.random.SFC64(ss))
        return self.__dict__["_rng"]

    def size(self, quick: Any, default: Any, full: Any) -> Any:
        """Pick a value by mode."""
        return {"quick": quick, "default": default, "full": full}[self.mode]

    def spawn(self, *names: str) -> np.random.Generator:
        """An independent generator for the sub-unit ``names`` of this claim (stable keys)."""
        return np.random.Generator(np.random.SFC64(stream_for(self.seed_sequence, *names)))

    def note(self, text: str) -> None:
        """Attach a sentence to the claim's report entry (e.g. for which settings a finding holds)."""
        self.notes.append(str(text))

    def share(self, experiment: str) -> None:
        """Declare that this claim reads an experiment shared with other claims (computed once per
        process): its wall time then counts only what it computed itself, and the report says so."""
        self.shared = str(experiment)

    def shared_value(self, name: str, unit: str):
        """Unit ``unit`` of the shared experiment ``name`` for this run's mode and seed: the value
        the runner computed once for the run, else computed here (once per process). Marks the
        claim as sharing ``name`` unless it already named what it shares (:meth:`share`)."""
        if not self.shared:
            self.share(name)
        return compute_shared(name, unit, self.mode, self.seed)


#: shared-experiment values of this process: {(name, unit, mode, seed): value}, the most recently
#: used last; at most :data:`SHARED_CAPACITY` (a calibration over many seeds must not keep them all)
_STORE: OrderedDict = OrderedDict()
#: how many shared units a process keeps (the oldest are dropped first)
SHARED_CAPACITY = 32


def _keep(key, value) -> None:
    _STORE[key] = value
    _STORE.move_to_end(key)
    while len(_STORE) > SHARED_CAPACITY:
        _STORE.popitem(last=False)


def shared_key(name: str, unit: str, mode: str, seed: int) -> tuple:
    """The key of one shared unit's value (see :func:`prime_shared`)."""
    return (str(name), str(unit), str(mode), int(seed))


def compute_shared(name: str, unit: str, mode: str, seed: int):
    """The value of unit ``unit`` of the shared experiment ``name`` (from this process's store,
    else computed by the registered function and stored).

    >>> from degeneracy.proofs.registry import SHARED, shared
    >>> @shared("toy.shared", plan=lambda mode: {"a": 2})
    ... def toy(mode, seed, k):
    ...     return k * seed
    >>> compute_shared("toy.shared", "a", "quick", 5)
    10
    >>> _ = SHARED.pop("toy.shared"); _ = _STORE.pop(shared_key("toy.shared", "a", "quick", 5))
    """
    load_all()
    key = shared_key(name, unit, mode, seed)
    if key not in _STORE:
        if name not in SHARED:
            raise ArgumentValueError(f"unknown shared experiment {name!r}; registered: {', '.join(sorted(SHARED))}")
        exp = SHARED[name]
        units = exp.plan(mode)
        if unit not in units:
            raise ArgumentValueError(f"shared experiment {name!r} has no unit {unit!r} in mode {mode!r}; "
                                     f"units: {', '.join(units)}")
        _keep(key, exp.fn(mode, int(seed), units[unit]))
    else:
        _STORE.move_to_end(key)
    return _STORE[key]


def prime_shared(values: dict) -> None:
    """Put values computed elsewhere (``{shared_key(...): value}``) into this process's store, so
    the claims of this process read them instead of computing them again."""
    for key, value in values.items():
        _keep(key, value)


def make_context(item_id: str, *, seed: int, mode: str, settings: dict | None = None, control: bool = False,
                 alpha: float | None = None, kind: str = "finite-n", unit: str = "") -> Context:
    """Build the context of ``item_id`` for run ``seed`` and ``mode``.

    ``alpha`` is the claim's share of the family-wise rate (default: the share of the default
    rate 1e-3 over the registered claims, as the runner computes it).
    """
    if mode not in MODES:
        raise ArgumentValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if alpha is None:
        load_all()
        alpha = sidak(DEFAULT_ALPHA, max(len(CLAIMS), 1))
    return Context(item_id, seed, mode, stream_for(seed, item_id), dict(settings or {}), control,
                   alpha=float(alpha), kind=str(kind), unit=str(unit))
