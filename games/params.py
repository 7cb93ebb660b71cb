"""Parameter parsing shared by the native games.

Game strings deliver every parameter as a string (``"leduc(ranks=13)"`` calls
``load(ranks="13")``), while Python callers pass ints; the helpers here accept both and raise
:class:`GameParameterError`, which names the game and the parameter, on anything else.
"""

from __future__ import annotations

import math
from typing import Any

from gamesolve.errors import GameNotFoundError

__all__ = ["GameParameterError", "parse_bool", "parse_float", "parse_int", "parse_int_tuple"]


def _shown(value: Any) -> str:
    """``repr(value)``, shortened to one readable line (a 5,000-digit value is not printed whole)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}...({len(text):,} characters)"


class GameParameterError(GameNotFoundError, ValueError):
    """A native game was given a bad parameter value.

    It is a :class:`~gamesolve.errors.GameNotFoundError` (what :func:`gamesolve.load_game`
    documents for bad parameters) and a :class:`ValueError` (what Python callers expect).
    """


def parse_int(game: str, name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    """Read an integer parameter given as an int or a decimal string.

    Args:
        game: Game name, for the message.
        name: Parameter name, for the message.
        value: The value as passed (int or string; bools are refused).
        minimum: Smallest allowed value.
        maximum: Largest allowed value, or ``None`` for no bound.

    Returns:
        The integer.

    Raises:
        GameParameterError: ``value`` is not an integer in ``[minimum, maximum]``.
    """
    bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    parsed: int | None = None
    if isinstance(value, bool):
        parsed = None
    elif isinstance(value, int):
        parsed = int(value)
    elif isinstance(value, str):
        try:
            parsed = int(value.strip())
        except ValueError:
            parsed = None
    elif hasattr(value, "__index__"):  # numpy integers
        parsed = int(value.__index__())
    if parsed is None:
        raise GameParameterError(f"{game}: parameter {name} must be an integer {bound}, got {_shown(value)}")
    if parsed < minimum or (maximum is not None and parsed > maximum):
        raise GameParameterError(f"{game}: parameter {name} must be an integer {bound}, got {_shown(parsed)}")
    return parsed


def parse_int_tuple(
    game: str, name: str, value: Any, *, length: int, minimum: int, maximum: int | None = None
) -> tuple[int, ...]:
    """Read a fixed-length tuple of integers: a sequence, or a string such as ``"2/4"``.

    Strings may separate the numbers with ``/``, ``:``, ``;``, ``x`` or spaces (commas cannot appear
    inside a game string parameter).

    Raises:
        GameParameterError: Wrong length or an element that is not an integer ``>= minimum``.
    """
    if isinstance(value, str):
        text = value.strip().strip("()[]")
        for sep in ("/", ":", ";", "x", ","):
            text = text.replace(sep, " ")
        items: list[Any] = text.split()
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise GameParameterError(
            f"{game}: parameter {name} must be {length} integers (e.g. '2/4'), got {_shown(value)}"
        )
    if len(items) != length:
        raise GameParameterError(
            f"{game}: parameter {name} must have exactly {length} values (e.g. '2/4'), got {_shown(value)}"
        )
    return tuple(parse_int(game, name, v, minimum=minimum, maximum=maximum) for v in items)


def parse_float(
    game: str,
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
) -> float:
    """Read a finite real parameter given as a number or a decimal string.

    Args:
        game: Game name, for the message.
        name: Parameter name, for the message.
        value: The value as passed (number or string; bools are refused).
        minimum: Smallest allowed value (inclusive), or ``None``.
        maximum: Largest allowed value (inclusive), or ``None``.
        below: Exclusive upper bound, or ``None``.

    Raises:
        GameParameterError: ``value`` is not a finite number in the range.
    """
    parsed: float | None = None
    if isinstance(value, bool):
        parsed = None
    elif isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            parsed = None
    elif isinstance(value, int | float) or hasattr(value, "__float__"):
        parsed = float(value)
    if parsed is None or not math.isfinite(parsed):
        raise GameParameterError(f"{game}: parameter {name} must be a finite number, got {_shown(value)}")
    bounds = [
        f">= {minimum:g}" if minimum is not None else "",
        f"<= {maximum:g}" if maximum is not None else "",
        f"< {below:g}" if below is not None else "",
    ]
    if (
        (minimum is not None and parsed < minimum)
        or (maximum is not None and parsed > maximum)
        or (below is not None and parsed >= below)
    ):
        raise GameParameterError(
            f"{game}: parameter {name} must be {' and '.join(b for b in bounds if b)}, got {parsed:g}"
        )
    return parsed


def parse_bool(game: str, name: str, value: Any) -> bool:
    """Read a boolean given as a bool or as ``true/false/1/0/yes/no``."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no"):
        return False
    raise GameParameterError(f"{game}: parameter {name} must be true or false, got {_shown(value)}")
