"""The package's exceptions: one root, :class:`DegeneracyError`.

Every exception that ``degeneracy`` defines derives from :class:`DegeneracyError`, so
``except degeneracy.DegeneracyError`` catches anything the package raises on purpose. The
classes for bad input also derive from the built-in they specialise, so code written as
``except ValueError`` keeps working:

=============================  ===============================  ===========================================
class                          also a                           raised when
=============================  ===============================  ===========================================
:class:`ArgumentValueError`    :class:`ValueError`              an argument is out of its accepted range
:class:`ArgumentTypeError`     :class:`TypeError`               an argument has the wrong type
:class:`CertificationError`    :class:`ArithmeticError`         a solver cannot certify its answer
:class:`NumericalFailure`      :class:`ArithmeticError`         a computation over/underflowed or diverged
:class:`SkipClaim`             --                               a claim cannot run here (reported ``skipped``)
:class:`BackendError`          :class:`RuntimeError`            an execution backend cannot be used
=============================  ===============================  ===========================================

The messages name the argument and the accepted range (``depth must be a positive integer,
got 0``) or the check that failed (``mass 0.9968 is not within 1e-6 of 1``).

Examples
--------
>>> from degeneracy.errors import ArgumentValueError, DegeneracyError
>>> issubclass(ArgumentValueError, DegeneracyError), issubclass(ArgumentValueError, ValueError)
(True, True)
"""

from __future__ import annotations

__all__ = [
    "DegeneracyError",
    "ArgumentValueError",
    "ArgumentTypeError",
    "CertificationError",
    "NumericalFailure",
    "SkipClaim",
    "BackendError",
]


class DegeneracyError(Exception):
    """The root of every exception that ``degeneracy`` defines."""


class ArgumentValueError(DegeneracyError, ValueError):
    """Bad input: an argument's value is outside its accepted range (a :class:`ValueError`)."""


class ArgumentTypeError(DegeneracyError, TypeError):
    """Bad input: an argument has the wrong type (a :class:`TypeError`)."""


class NumericalFailure(DegeneracyError, ArithmeticError):
    """A computation could not produce an answer it can vouch for (overflow, divergence, an
    undefined ratio); not bad input."""


class CertificationError(NumericalFailure):
    """A solver found a candidate answer but could not certify it (residual, mass, moments,
    branch, two routes disagreeing). The message names the failing check."""


class SkipClaim(DegeneracyError):
    """Raised inside a claim to report it as ``skipped`` (with the reason), e.g. when an
    optional package it needs is not installed."""


class BackendError(DegeneracyError, RuntimeError):
    """The execution backend cannot be used (e.g. the dask scheduler is unreachable)."""
