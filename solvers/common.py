"""Door checks shared by the solvers: which games they take, in words a user understands."""

from __future__ import annotations

import logging
import math
from typing import Any

from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import UnsupportedGame
from gamesolve.normal_form import TensorGame
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_real

__all__ = [
    "NormalFormSolver",
    "check_extensive_form",
    "check_normal_form",
    "check_time_limit",
    "prepare_extensive_form",
    "prepare_normal_form",
    "require_two_player_zero_sum",
]

log = logging.getLogger(__name__)


def prepare_extensive_form(name: str, game: Any) -> CompiledGame:
    """The compiled form of ``game`` for solver ``name``, or :class:`UnsupportedGame`."""
    try:
        return as_compiled(game)
    except UnsupportedGame as exc:
        raise UnsupportedGame(f"{name} solves extensive-form games: {exc}") from None


def check_extensive_form(name: str, spec: GameSpec) -> None:
    """Accept any extensive-form game; note when only a CCE is guaranteed."""
    if spec.kind is not GameKind.EXTENSIVE_FORM:
        raise UnsupportedGame(f"{name} solves extensive-form games, not {spec.kind.value} games")
    if not spec.is_two_player_zero_sum:
        log.info("%s on %s: the average converges to a coarse correlated equilibrium", name, spec.name)


def prepare_normal_form(name: str, game: Any) -> TensorGame:
    """``game`` as a :class:`~gamesolve.normal_form.TensorGame` for solver ``name``."""
    if isinstance(game, TensorGame):
        return game
    to_normal_form = getattr(game, "to_normal_form", None)
    if callable(to_normal_form):  # an OpenSpiel one-shot game
        try:
            converted = to_normal_form()
        except UnsupportedGame as exc:
            raise UnsupportedGame(f"{name} solves normal-form games: {exc}") from None
        if isinstance(converted, TensorGame):
            return converted
    raise UnsupportedGame(f"{name} solves normal-form games; got {type(game).__name__}")


def check_normal_form(name: str, spec: GameSpec) -> None:
    """Accept any normal-form game."""
    if spec.kind is not GameKind.NORMAL_FORM:
        raise UnsupportedGame(f"{name} solves normal-form games, not {spec.kind.value} games")


def check_time_limit(value: Any, *, allow_inf: bool = False) -> float | None:
    """A solver's ``time_limit``: ``None`` (no limit) or positive seconds.

    With ``allow_inf`` an infinite limit also means no limit; otherwise it is refused.

    Raises:
        InvalidArgumentError: Naming ``time_limit``: NaN, zero, negative, a string, a bool.
    """
    if value is None:
        return None
    seconds = check_real("time_limit", value, minimum=0.0, min_inclusive=False, allow_inf=allow_inf)
    return None if seconds == math.inf else seconds


class NormalFormSolver:
    """Mixin of a solver that takes normal-form games: its ``prepare`` and ``check`` by its name.

    Put it before the solver base class (``class S(NormalFormSolver, ExactSolver)``); a solver with
    narrower limits overrides ``check``, calling this one first.
    """

    name: str

    def prepare(self, game: Any) -> TensorGame:
        """The game as a tensor game."""
        return prepare_normal_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Any normal-form game."""
        check_normal_form(self.name, spec)


def require_two_player_zero_sum(name: str, spec: GameSpec, *, alternatives: str = "") -> None:
    """Refuse games that are not two-player zero-sum (or constant-sum).

    Args:
        name: The solver, as the user knows it.
        spec: The game's spec.
        alternatives: A sentence appended to the message, naming what to use instead.
    """
    if not spec.is_two_player_zero_sum:
        message = (
            f"{name} needs a two-player zero-sum game; {spec.name!r} is "
            f"{spec.utility.value.replace('_', '-')} with {spec.num_players} players"
        )
        raise UnsupportedGame(f"{message}. {alternatives}" if alternatives else message)
