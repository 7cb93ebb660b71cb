"""Exception types raised by gamesolve.

Every error raised at the door of a public function is one of these, and its message names the
argument or object at fault and says what was expected, so a user can fix the input without
reading a traceback. All of them derive from :class:`GamesolveError`; the ones that describe bad
values also derive from :class:`ValueError` so generic ``except ValueError`` code keeps working.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "GameNotFoundError",
    "GameTooLargeError",
    "GamesolveError",
    "InputFileError",
    "InvalidArgumentError",
    "InvalidPolicyError",
    "MalformedGameError",
    "NotPerfectRecallError",
    "OutputPathError",
    "PluginError",
    "TimeLimitError",
    "UnsupportedGame",
]


class GamesolveError(Exception):
    """Base class of every error raised by gamesolve."""


class GameNotFoundError(GamesolveError, LookupError):
    """A game name or path could not be resolved to a game."""


class MalformedGameError(GamesolveError, ValueError):
    """A game breaks a structural rule (probabilities, shapes, payoffs, infoset consistency)."""


class NotPerfectRecallError(MalformedGameError):
    """Two histories in one information set disagree on the acting player's own past."""


class UnsupportedGame(GamesolveError, TypeError):
    """The game is valid, but this operation or solver does not handle its kind."""


class InvalidPolicyError(GamesolveError, ValueError):
    """A policy has the wrong shape, mass on illegal actions, negative or NaN entries, or bad rows."""


class InvalidArgumentError(GamesolveError, ValueError):
    """An argument or solver option has a value outside what it accepts (NaN, a negative budget, ...)."""


class InputFileError(GamesolveError, ValueError):
    """An input file is missing, not a regular file, unreadable, or not in the expected format."""


class CheckpointError(InputFileError):
    """A checkpoint is unreadable, damaged, or belongs to another game, solver or configuration."""


class OutputPathError(GamesolveError, ValueError):
    """An output path cannot be written (a directory, a special file, a read-only place)."""


class GameTooLargeError(GamesolveError, ValueError):
    """The requested work would exceed the memory or size budget; refused before it starts."""


class TimeLimitError(GamesolveError, TimeoutError):
    """The time limit ran out before an exact solver had any answer to return."""


class PluginError(GamesolveError, RuntimeError):
    """An installed plug-in is broken: a name declared by two distributions, or a wrong entry."""
