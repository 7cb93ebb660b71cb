"""Registry wrappers: all equilibria (``"enumerate"``) and Lemke-Howson (``"lemke-howson"``).

Both return a :class:`~gamesolve.run.SolveResult` whose ``policy`` is the first equilibrium found
and whose ``extras["equilibria"]`` lists every equilibrium (as per-player probability lists).
"""

from __future__ import annotations

import abc
import time
from typing import Any

from gamesolve.errors import UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.run import SolveResult
from gamesolve.spec import GameSpec
from solvers._common import check_normal_form, prepare_normal_form
from solvers.enumeration import enumerate_equilibria
from solvers.lemke_howson import all_labels, lemke_howson
from solvers.lp import exact_result

__all__ = ["EquilibriumEnumeration", "LemkeHowson"]


class _TwoPlayerExact(abc.ABC):
    exact = True
    name = "two-player"

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {k: v for k, v in vars(self).items() if k != "name"}

    def prepare(self, game: Any) -> TensorGame:
        """The game as a tensor game."""
        return prepare_normal_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Two-player normal-form games (any utility)."""
        check_normal_form(self.name, spec)
        if spec.num_players != 2:
            raise UnsupportedGame(f"{self.name} solves two-player games; this one has {spec.num_players}")

    @abc.abstractmethod
    def _equilibria(self, game: TensorGame) -> list[MixedProfile]:
        """The equilibria this solver computes."""

    def run(self, game: TensorGame, *, seed: int) -> SolveResult:
        """Compute the equilibria once."""
        start = time.perf_counter()
        found = self._equilibria(game)
        seconds = time.perf_counter() - start
        return exact_result(
            game,
            solver=self.name,
            config=self.config(),
            seed=seed,
            profile=found[0],
            seconds=seconds,
            message=f"found {len(found)} equilibri{'um' if len(found) == 1 else 'a'}",
            extras={"equilibria": [e.to_lists() for e in found]},
        )


class EquilibriumEnumeration(_TwoPlayerExact):
    """Every Nash equilibrium of a nondegenerate two-player game (vertex enumeration)."""

    def __init__(self) -> None:
        self.name = "enumerate"

    def _equilibria(self, game: TensorGame) -> list[MixedProfile]:
        return enumerate_equilibria(game)


class LemkeHowson(_TwoPlayerExact):
    """Lemke-Howson from ``initial_label``, or from every label when ``initial_label`` is None."""

    def __init__(self, initial_label: int | None = 0) -> None:
        self.name = "lemke-howson"
        self.initial_label = initial_label

    def _equilibria(self, game: TensorGame) -> list[MixedProfile]:
        if self.initial_label is None:
            return all_labels(game)
        return [lemke_howson(game, initial_label=self.initial_label)]
