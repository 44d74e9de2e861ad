"""Errors raised for bad user input.

Every error a user can cause is a :class:`PhiphiError` with a one-line message that
names the bad value; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import math


class PhiphiError(ValueError):
    """A bad input (value, file, option) given by the user."""


def check_finite(name: str, value: float) -> float:
    """Return ``float(value)`` or raise if it is NaN/inf."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PhiphiError(f"{name} = {value!r} is not a number") from None
    if not math.isfinite(x):
        raise PhiphiError(f"{name} = {value!r} is not a finite number")
    return x


def check_positive_int(name: str, value: int) -> int:
    """Return ``int(value)`` if it is a positive integer, else raise."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise PhiphiError(f"{name} = {value!r} is not an integer") from None
    if n != value or n <= 0:
        raise PhiphiError(f"{name} = {value!r} must be a positive integer")
    return n


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM during a write, so that the
    cleanup of temporary files runs (like KeyboardInterrupt for SIGINT); the CLI exits 143."""
