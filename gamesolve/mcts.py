"""OpenSpiel's MCTS bot as a baseline policy for tournaments and deep learners' evaluations.

:class:`MCTSPolicy` acts with ``pyspiel.MCTSBot`` (UCT search with random rollouts, Kocsis and
Szepesvari 2006, "Bandit based Monte-Carlo planning"; Lanctot et al. 2019, "OpenSpiel: A framework
for reinforcement learning in games") on the ``pyspiel.State`` of the history to play. It needs the
state itself, not a tensor, so it is a *state-acting* member (:meth:`MCTSPolicy.act_state`, see
:class:`gamesolve.population.StateActingPolicy`): tournaments play it through the game's states,
also on games that compile. Every decision builds a fresh bot seeded from the match's generator,
so matches are reproducible for a seed whatever the executor and the chunking.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import InvalidArgumentError, InvalidPolicyError, UnsupportedGame
from gamesolve.validation import check_bool, check_int

__all__ = ["DEFAULT_SIMULATIONS", "MCTSPolicy", "parse_mcts_spec"]

log = logging.getLogger(__name__)

#: Simulations per decision unless asked otherwise (the issue's baseline: ``MCTSBot`` with 100).
DEFAULT_SIMULATIONS = 100
#: OpenSpiel's exploration constant in its MCTS example.
DEFAULT_UCT_C = 2.0
#: Cap on the bot's tree (never reached at a few hundred simulations).
DEFAULT_MAX_MEMORY_MB = 1000
#: The type name OpenSpiel gives the turn-based form of a simultaneous-move game.
TURN_BASED_SIMULTANEOUS = "turn_based_simultaneous_game"


def _pyspiel() -> Any:
    try:
        import pyspiel
    except ImportError as exc:  # pragma: no cover - pyspiel is installed with the openspiel extra
        raise UnsupportedGame("mcts needs OpenSpiel (pip install open_spiel)") from exc
    return pyspiel


class MCTSPolicy:
    """OpenSpiel's ``MCTSBot`` with random-rollout evaluation, as a policy acting on game states.

    On imperfect-information games the bot searches the true history it is given, so it sees
    what its player should not know (hidden cards, the opponent's stones in ``dark_hex``): a
    stronger opponent than a fair one.

    Args:
        game: An OpenSpiel game (:func:`gamesolve.load_game`'s, or its game string).
        simulations: Simulations per decision (``max_simulations``).
        uct_c: UCT exploration constant.
        rollouts: Random rollouts per leaf evaluation (``RandomRolloutEvaluator``'s ``n_rollouts``).
        seed: Mixed into every decision's bot seed (the rest comes from the match's generator).
        solve: Let the bot back up proven wins and losses (MCTS-Solver; OpenSpiel's example default).
        max_memory_mb: Cap on the bot's search tree.

    Raises:
        UnsupportedGame: Not an OpenSpiel game, a simultaneous-move game (gamesolve plays its
            turn-based form, where a search would see the other moves of the same round), or a
            game the bot refuses.
        InvalidArgumentError: An option out of range.
    """

    def __init__(
        self,
        game: Any,
        *,
        simulations: int = DEFAULT_SIMULATIONS,
        uct_c: float = DEFAULT_UCT_C,
        rollouts: int = 1,
        seed: int = 0,
        solve: bool = True,
        max_memory_mb: int = DEFAULT_MAX_MEMORY_MB,
    ) -> None:
        self.simulations = check_int("simulations", simulations, minimum=1)
        self.rollouts = check_int("rollouts", rollouts, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self.solve = check_bool("solve", solve)
        self.max_memory_mb = check_int("max_memory_mb", max_memory_mb, minimum=1)
        if isinstance(uct_c, bool) or not isinstance(uct_c, int | float) or not math.isfinite(uct_c):
            raise InvalidArgumentError(f"uct_c must be a finite number > 0, got {uct_c!r}")
        if uct_c <= 0:
            raise InvalidArgumentError(f"uct_c must be > 0, got {uct_c!r}")
        self.uct_c = float(uct_c)
        pyspiel_game, self.game_name = _checked_game(game)
        self.perfect_information = (
            pyspiel_game.get_type().information == _pyspiel().GameType.Information.PERFECT_INFORMATION
        )
        if not self.perfect_information:
            log.warning(
                "mcts on %s (imperfect information) searches the true history: it sees hidden information",
                self.game_name,
            )

    def bot(self, pyspiel_game: Any, seed: int) -> Any:
        """A fresh ``pyspiel.MCTSBot`` for ``pyspiel_game`` with these options and ``seed``."""
        pyspiel = _pyspiel()
        evaluator = pyspiel.RandomRolloutEvaluator(self.rollouts, seed)
        return pyspiel.MCTSBot(
            pyspiel_game, evaluator, self.uct_c, self.simulations, self.max_memory_mb, self.solve, seed, False
        )

    def act_pyspiel(self, state: Any, rng: np.random.Generator) -> int:
        """The bot's action at ``state`` (a ``pyspiel.State`` at a decision), seeded from ``rng``."""
        draw = int(rng.integers(1 << 31))
        seed = int(np.random.SeedSequence([self.seed, draw]).generate_state(1)[0] & 0x7FFFFFFF)
        return int(self.bot(state.get_game(), seed).step(state))

    def act_state(self, player: int, state: Any, legal: NDArray[np.int64], rng: np.random.Generator) -> int:
        """An action id for ``player`` at ``state`` (a gamesolve OpenSpiel state or a ``pyspiel.State``).

        Raises:
            InvalidPolicyError: ``state`` is not an OpenSpiel state, or not ``player``'s turn.
        """
        del legal
        raw = getattr(state, "pyspiel_state", state)
        if not callable(getattr(raw, "get_game", None)):
            raise InvalidPolicyError(
                f"mcts needs an OpenSpiel state to search, got {type(state).__name__} (play it on the "
                "OpenSpiel game itself)"
            )
        if int(raw.current_player()) != int(player):
            raise InvalidPolicyError(
                f"mcts was asked to act for player {player} at player {raw.current_player()}'s turn"
            )
        return self.act_pyspiel(raw, rng)

    def __repr__(self) -> str:
        return (
            f"MCTSPolicy({self.game_name!r}, simulations={self.simulations}, uct_c={self.uct_c}, "
            f"rollouts={self.rollouts}, seed={self.seed}, solve={self.solve})"
        )


def _checked_game(game: Any) -> tuple[Any, str]:
    """The ``pyspiel.Game`` of ``game`` and its name, checked to be one the bot can play."""
    if isinstance(game, str):
        from gamesolve.registry import load_game

        game = load_game(game)
    pyspiel_game = getattr(game, "pyspiel_game", None)
    if pyspiel_game is None:
        spec = getattr(game, "spec", None)
        name = getattr(spec, "name", None) or type(game).__name__
        raise UnsupportedGame(f"mcts needs an OpenSpiel game; {name} is a {type(game).__name__}")
    name = str(getattr(game, "name", None) or pyspiel_game)
    pyspiel = _pyspiel()
    gtype = pyspiel_game.get_type()
    if gtype.short_name == TURN_BASED_SIMULTANEOUS or gtype.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL:
        raise UnsupportedGame(
            f"mcts cannot play {name}: it has simultaneous moves (in their turn-based form a "
            "search would see the other players' moves of the same round)"
        )
    try:
        bot = pyspiel.MCTSBot(
            pyspiel_game, pyspiel.RandomRolloutEvaluator(1, 0), DEFAULT_UCT_C, 1, 1, False, 0, False
        )
        del bot
    except (pyspiel.SpielError, RuntimeError, ValueError) as exc:
        raise UnsupportedGame(f"OpenSpiel's MCTS bot cannot play {name}: {exc}") from None
    return pyspiel_game, name


def parse_mcts_spec(spec: str) -> int | None:
    """The simulation count of a ``"mcts"`` / ``"mcts:N"`` policy spec (``None``: not an mcts spec).

    Raises:
        InvalidArgumentError: ``mcts:`` followed by something else than a positive integer.
    """
    text = spec.strip().lower()
    if text == "mcts":
        return DEFAULT_SIMULATIONS
    if not text.startswith("mcts:"):
        return None
    count = text[len("mcts:") :]
    if not count.isdigit() or int(count) < 1:
        raise InvalidArgumentError(
            f"policy {spec!r}: write mcts:N with N the simulations per move, a positive integer"
        )
    return int(count)
