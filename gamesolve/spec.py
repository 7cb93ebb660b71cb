"""Static description of a game: :class:`GameSpec` and its enums.

Solvers read a :class:`GameSpec` at the door and raise :class:`~gamesolve.errors.UnsupportedGame`
when the game is outside what they handle.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["GameKind", "GameSpec", "Utility"]


class Utility(enum.Enum):
    """How the players' payoffs relate to each other at every outcome."""

    ZERO_SUM = "zero_sum"
    CONSTANT_SUM = "constant_sum"
    GENERAL_SUM = "general_sum"
    IDENTICAL = "identical"


class GameKind(enum.Enum):
    """Which family of game a spec describes."""

    NORMAL_FORM = "normal_form"
    EXTENSIVE_FORM = "extensive_form"
    MARKOV = "markov"
    MEAN_FIELD = "mean_field"
    PREFERENCE = "preference"


@dataclass(frozen=True)
class GameSpec:
    """What a solver needs to know about a game before touching it.

    Attributes:
        name: Human-readable name, e.g. ``"leduc_poker"``.
        kind: The game family.
        num_players: Number of players (chance not counted).
        utility: Relation between the players' payoffs.
        has_chance: Whether chance moves exist.
        simultaneous: Whether players may move at the same time (for extensive-form games loaded
            from simultaneous-move sources this is ``False`` once converted to turn-based form).
        perfect_recall: Whether every player remembers their own past moves and observations.
        perfect_information: Whether every information set is a single history.
    """

    name: str
    kind: GameKind
    num_players: int
    utility: Utility
    has_chance: bool = False
    simultaneous: bool = False
    perfect_recall: bool = True
    perfect_information: bool = False

    def __post_init__(self) -> None:
        if self.num_players < 1:
            raise ValueError(f"num_players must be at least 1, got {self.num_players}")

    @property
    def is_two_player_zero_sum(self) -> bool:
        """True for two-player zero-sum or constant-sum games."""
        return self.num_players == 2 and self.utility in (Utility.ZERO_SUM, Utility.CONSTANT_SUM)
