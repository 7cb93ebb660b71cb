"""Argument checks at the door: numbers, counts and choices, with messages that name the argument.

Every public function and every solver constructor checks its numeric arguments with these before
any work starts, so ``alpha=nan``, ``iterations=float("nan")`` or ``lr="abc"`` (a typo in
``--set lr=abc``) fail at once with :class:`~gamesolve.errors.InvalidArgumentError` naming the
argument, instead of running forever or returning a silently wrong answer.

>>> check_real("alpha", 1.5, minimum=0)
1.5
>>> check_int("iterations", 3.0, minimum=0)
3
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from gamesolve.errors import InvalidArgumentError

__all__ = ["check_bool", "check_choice", "check_int", "check_real"]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bounds(minimum: float | None, maximum: float | None, min_inclusive: bool, max_inclusive: bool) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>=' if min_inclusive else '>'} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<=' if max_inclusive else '<'} {maximum:g}")
    return " and ".join(parts)


def check_real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_inf: bool = False,
) -> float:
    """``value`` as a float, or :class:`InvalidArgumentError` naming ``name``.

    Rejects booleans, strings, NaN, infinities (unless ``allow_inf``) and values outside the
    bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} must be a number, got {_shown(value)} ({type(value).__name__})")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise InvalidArgumentError(f"{name} must be a finite number, got {number}")
    low_bad = minimum is not None and (number < minimum or (not min_inclusive and number == minimum))
    high_bad = maximum is not None and (number > maximum or (not max_inclusive and number == maximum))
    if low_bad or high_bad:
        raise InvalidArgumentError(
            f"{name} must be {_bounds(minimum, maximum, min_inclusive, max_inclusive)}, got {number:g}"
        )
    return number


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int, or :class:`InvalidArgumentError` naming ``name``.

    Integral floats (``3.0``, as JSON may give) are accepted; ``1.7``, NaN, booleans and strings
    are not.
    """
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real):
        real = float(value)
        if not math.isfinite(real) or real != math.floor(real):
            raise InvalidArgumentError(f"{name} must be an integer, got {_shown(value)}")
        number = int(real)
    else:
        raise InvalidArgumentError(f"{name} must be an integer, got {_shown(value)} ({type(value).__name__})")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise InvalidArgumentError(f"{name} must be {_bounds(minimum, maximum, True, True)}, got {number}")
    return number


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool (``True``/``False``, or the integers 0 and 1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    raise InvalidArgumentError(f"{name} must be true or false, got {_shown(value)}")


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices`` (case-insensitive), lower-cased."""
    options = list(choices)
    if isinstance(value, str) and value.lower() in options:
        return value.lower()
    raise InvalidArgumentError(f"{name} must be one of {', '.join(options)}; got {_shown(value)}")
