"""The package's exception class for failures that are not bad input."""

from __future__ import annotations

__all__ = ["DegeneracyError", "CertificationError"]


class DegeneracyError(RuntimeError):
    """A computation could not produce an answer it can vouch for (not bad input).

    Bad input raises :class:`ValueError` or :class:`TypeError` instead.
    """


class CertificationError(DegeneracyError):
    """A solver found a candidate answer but could not certify it (residual, branch, sign)."""
