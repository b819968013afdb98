"""Argument validation shared by every public function.

Each helper raises :class:`ValueError` or :class:`TypeError` whose message names the
argument and the accepted range, e.g. ``depth must be a positive integer, got 0``.
"""

from __future__ import annotations

import numbers
import os
from typing import Any, Iterable

import numpy as np

from degeneracy.errors import ArgumentTypeError, ArgumentValueError

__all__ = [
    "check_int",
    "check_positive_int",
    "check_nonneg_int",
    "check_real",
    "check_choice",
    "check_finite_array",
    "check_probability",
    "check_memory",
    "check_work",
    "MAX_WORK",
]

#: The largest computation one call may start, in (roughly counted) floating-point operations:
#: about two days at the one-core dgemm rate of docs/performance.md (50 GFLOP/s), so that the
#: papers' own sizes (``--full``, hours) pass. Loops whose cost is their length rather than their
#: flops charge a fixed amount per step that caps the length (depth 10**8 for sampled products and
#: mean-field trajectories). A call beyond it raises :class:`ArgumentValueError` at once instead of
#: running for days (``lyapunov_qr(4, 10**9)``); set ``degeneracy.validation.MAX_WORK = math.inf``
#: to lift the limit.
MAX_WORK = 1e16


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise naming ``name`` and the range.

    Examples
    --------
    >>> check_int("depth", 3, minimum=1)
    3
    >>> check_int("depth", 0, minimum=1)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: depth must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise ArgumentTypeError(f"{name} must be an integer{_range(minimum, maximum)}, got {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ArgumentValueError(f"{name} must be an integer{_range(minimum, maximum)}, got {value!r}")
    return value


def _range(minimum: int | float | None, maximum: int | float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def check_positive_int(name: str, value: Any) -> int:
    """``check_int(name, value, minimum=1)`` with the message ``must be a positive integer``.

    >>> check_positive_int("n", 0)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: n must be a positive integer, got 0
    """
    try:
        return check_int(name, value, minimum=1)
    except ValueError:
        raise ArgumentValueError(f"{name} must be a positive integer, got {value!r}") from None
    except TypeError:
        raise ArgumentTypeError(f"{name} must be a positive integer, got {value!r}") from None


def check_nonneg_int(name: str, value: Any) -> int:
    """``check_int(name, value, minimum=0)``."""
    return check_int(name, value, minimum=0)


def check_real(
    name: str,
    value: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the given interval, or raise naming ``name``.

    >>> check_real("s", 2, lo=0, lo_open=True)
    2.0
    >>> check_real("s", float("nan"))
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: s must be a finite real number, got nan
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ArgumentTypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ArgumentValueError(f"{name} must be a finite real number, got {value!r}")
    bad = (lo is not None and (v < lo or (lo_open and v == lo))) or (
        hi is not None and (v > hi or (hi_open and v == hi))
    )
    if bad:
        left = "(" if lo_open or lo is None else "["  # infinite ends are never accepted: open
        right = ")" if hi_open or hi is None else "]"
        interval = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
        raise ArgumentValueError(f"{name} must be in {interval}, got {value!r}")
    return v


def check_probability(name: str, value: Any, *, open_left: bool = False, open_right: bool = False) -> float:
    """A real number in [0, 1] (ends optionally open)."""
    return check_real(name, value, lo=0.0, hi=1.0, lo_open=open_left, hi_open=open_right)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing them.

    >>> check_choice("field", "quaternion", ("real", "complex"))
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: field must be one of 'real', 'complex', got 'quaternion'
    """
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ArgumentValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_finite_array(name: str, value: Any, *, ndim: int | None = None, dtype=float) -> np.ndarray:
    """Return ``value`` as an array with no NaN or inf, or raise naming ``name``.

    >>> check_finite_array("x", [1.0, float("inf")])
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: x must contain only finite numbers (found NaN or inf)
    """
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ArgumentValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ArgumentValueError(f"{name} must contain only finite numbers (found NaN or inf)")
    return arr


def _physical_memory() -> float:
    """Bytes of physical memory (``inf`` where the platform does not say)."""
    try:
        return float(os.sysconf("SC_PHYS_PAGES")) * float(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - non-POSIX platforms
        return float("inf")


def check_memory(what: str, nbytes: float) -> None:
    """Raise :class:`ArgumentValueError` if ``what`` needs more than half the machine's memory.

    Checked before allocating, so that a huge size fails at once with the argument named
    instead of a ``MemoryError`` (or the machine swapping) later.

    >>> check_memory("size=10", 80)
    >>> check_memory("size=10**15", 8e15)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: size=10**15 needs about 7.28e+03 TiB of memory, more than half of this machine's ...
    """
    total = _physical_memory()
    if nbytes > total / 2:
        raise ArgumentValueError(f"{what} needs about {_bytes(nbytes)} of memory, more than half of this machine's "
                                 f"{_bytes(total)}: use a smaller size")


def check_work(what: str, flops: float) -> None:
    """Raise :class:`ArgumentValueError` if ``what`` costs more than :data:`MAX_WORK` flops.

    >>> check_work("depth=10**12", 1e18)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: depth=10**12 would take about 1e+18 floating-point operations, more than the limit ...
    """
    if flops > MAX_WORK:
        raise ArgumentValueError(f"{what} would take about {flops:.3g} floating-point operations, more than the limit "
                                 f"{MAX_WORK:.3g} (about two days on one core; degeneracy.validation.MAX_WORK): use a "
                                 "smaller size, or the exact law of degeneracy.theory for the limit")


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"
