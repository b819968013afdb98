"""What a claim (or a figure) sees when it runs: its random stream, mode and settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from degeneracy.errors import ArgumentValueError
from degeneracy.numerics.rng import stream_for
from degeneracy.numerics.stats import sidak

from .registry import CLAIMS, load_all

__all__ = ["Context", "DEFAULT_ALPHA", "MODES", "make_context"]

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

    @property
    def rng(self) -> np.random.Generator:
        """A generator on the claim's stream (the same object for the whole run)."""
        if "_rng" not in self.__dict__:
            self.__dict__["_rng"] = np.random.Generator(np.random.SFC64(self.seed_sequence))
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


def make_context(item_id: str, *, seed: int, mode: str, settings: dict | None = None, control: bool = False,
                 alpha: float | None = None, kind: str = "finite-n") -> Context:
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
                   alpha=float(alpha), kind=str(kind))
