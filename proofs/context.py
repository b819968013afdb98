"""What a claim (or a figure) sees when it runs: its random stream, mode and settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from degeneracy.errors import ArgumentValueError
from degeneracy.numerics.rng import stream_for

__all__ = ["Context", "MODES", "make_context"]

MODES = ("quick", "default", "full")


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
    """

    id: str
    seed: int
    mode: str
    seed_sequence: np.random.SeedSequence
    settings: dict = field(default_factory=dict)
    control: bool = False
    progress: Callable[[float], None] = lambda fraction: None
    notes: list = field(default_factory=list)

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


def make_context(item_id: str, *, seed: int, mode: str, settings: dict | None = None, control: bool = False) -> Context:
    """Build the context of ``item_id`` for run ``seed`` and ``mode``."""
    if mode not in MODES:
        raise ArgumentValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return Context(item_id, seed, mode, stream_for(seed, item_id), dict(settings or {}), control)
