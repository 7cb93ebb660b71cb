"""Adapter for OpenSpiel games (module ``pyspiel``).

:func:`load` accepts any OpenSpiel game string, e.g. ``"leduc_poker"`` or
``"kuhn_poker(players=3)"``. Simultaneous-move games are converted to turn-based form with
OpenSpiel's own conversion. Infoset keys are OpenSpiel information-state strings and action ids
are OpenSpiel action ids, so policies round-trip exactly to ``open_spiel.python.policy``.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from gamesolve.compiled import CompiledGame, compile_game
from gamesolve.errors import GameNotFoundError, UnsupportedGame
from gamesolve.protocols import State
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = ["DEFAULT_MAX_NODES", "OpenSpielGame", "OpenSpielState", "load"]

#: Largest tree :meth:`OpenSpielGame.compile` walks unless told otherwise (seconds to a minute, by game).
DEFAULT_MAX_NODES = 2_000_000

log = logging.getLogger(__name__)

_UTILITY = {
    "ZERO_SUM": Utility.ZERO_SUM,
    "CONSTANT_SUM": Utility.CONSTANT_SUM,
    "GENERAL_SUM": Utility.GENERAL_SUM,
    "IDENTICAL": Utility.IDENTICAL,
}


def _pyspiel() -> Any:
    try:
        import pyspiel
    except ImportError as exc:  # pragma: no cover - open_spiel is a declared dependency
        raise UnsupportedGame("OpenSpiel games need the open_spiel package: pip install open_spiel") from exc
    return pyspiel


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence OpenSpiel's C++ error printing (file descriptor 2) while it raises."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # pytest capture or no real stderr
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


class OpenSpielState:
    """A :class:`~gamesolve.protocols.State` view of a ``pyspiel.State`` (never mutated)."""

    __slots__ = ("_state",)

    def __init__(self, state: Any) -> None:
        self._state = state

    def current_player(self) -> int:
        """Player to move (OpenSpiel's convention: -1 chance, -4 terminal)."""
        return int(self._state.current_player())

    def is_terminal(self) -> bool:
        """Whether the history is complete."""
        return bool(self._state.is_terminal())

    def legal_actions(self) -> Sequence[int]:
        """OpenSpiel's legal action ids (increasing)."""
        return self._state.legal_actions()

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        """OpenSpiel's explicit chance outcomes."""
        return self._state.chance_outcomes()

    def child(self, action: int) -> State:
        """The history after ``action``."""
        return OpenSpielState(self._state.child(action))

    def returns(self) -> Sequence[float]:
        """Total payoffs."""
        return self._state.returns()

    def infoset_key(self, player: int) -> str:
        """OpenSpiel's information-state string for ``player``."""
        return self._state.information_state_string(player)

    @property
    def pyspiel_state(self) -> Any:
        """The wrapped ``pyspiel.State``."""
        return self._state


class OpenSpielGame:
    """An OpenSpiel game seen through gamesolve's extensive-form protocol.

    Args:
        game: A ``pyspiel.Game``. Simultaneous-move games must already be turn-based
            (:func:`load` converts them).
        name: The game string it was loaded from.
        simultaneous: The simultaneous-move original of a converted game (kept so that one-shot
            games can be read back as normal-form games by :meth:`to_normal_form`).
    """

    def __init__(self, game: Any, name: str, *, simultaneous: Any = None) -> None:
        pyspiel = _pyspiel()
        gtype = game.get_type()
        if gtype.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL:
            raise UnsupportedGame(f"OpenSpiel game {name!r} must be sequential (use load())")
        if gtype.chance_mode == pyspiel.GameType.ChanceMode.SAMPLED_STOCHASTIC:
            raise UnsupportedGame(
                f"OpenSpiel game {name!r} has sampled chance; exact compilation needs explicit "
                "chance outcomes"
            )
        if not gtype.provides_information_state_string:
            raise UnsupportedGame(
                f"OpenSpiel game {name!r} provides no information-state strings, so its infosets "
                "cannot be identified"
            )
        self._game = game
        self._name = name
        self._simultaneous = simultaneous
        self._normal_form: Any = None
        self._compiled: CompiledGame | None = None
        self._lock = threading.Lock()
        self._spec = GameSpec(
            name=name,
            kind=GameKind.EXTENSIVE_FORM,
            num_players=int(game.num_players()),
            utility=_UTILITY.get(gtype.utility.name, Utility.GENERAL_SUM),
            has_chance=gtype.chance_mode != pyspiel.GameType.ChanceMode.DETERMINISTIC,
            simultaneous=False,
            perfect_recall=True,
            perfect_information=gtype.information == pyspiel.GameType.Information.PERFECT_INFORMATION,
        )

    @property
    def spec(self) -> GameSpec:
        """The game's static description."""
        return self._spec

    @property
    def name(self) -> str:
        """The OpenSpiel game string."""
        return self._name

    @property
    def pyspiel_game(self) -> Any:
        """The wrapped ``pyspiel.Game``."""
        return self._game

    def initial_state(self) -> State:
        """The root history."""
        return OpenSpielState(self._game.new_initial_state())

    def compile(self, *, max_nodes: int | None = DEFAULT_MAX_NODES) -> CompiledGame:
        """Compile once (walking every history) and cache the result.

        Args:
            max_nodes: Refuse games with more histories than this (walking OpenSpiel states costs
                a few microseconds each); ``None`` lifts the limit.

        Raises:
            UnsupportedGame: The tree is larger than ``max_nodes``.
        """
        with self._lock:
            if self._compiled is None:
                self._compiled = compile_game(self, max_nodes=max_nodes)
            return self._compiled

    def to_normal_form(self) -> Any:
        """The game as a :class:`~gamesolve.normal_form.TensorGame`, for one-shot matrix games.

        OpenSpiel's normal-form games (``matrix_rps``, ``matching_pennies_3p``, ...) are
        simultaneous-move games with a single joint move; their payoff tensor is read by playing
        every joint action once.

        Raises:
            UnsupportedGame: The game is not a one-shot simultaneous-move game without chance.
        """
        from gamesolve.normal_form import normal_form_game

        if self._normal_form is not None:
            return self._normal_form
        original = self._simultaneous
        root = None if original is None else original.new_initial_state()
        if root is None or root.is_chance_node() or not root.is_simultaneous_node():
            raise UnsupportedGame(
                f"OpenSpiel game {self._name!r} is not a one-shot simultaneous-move (normal-form) game"
            )
        n = int(original.num_players())
        legal = [list(root.legal_actions(p)) for p in range(n)]
        payoffs = np.zeros((n, *(len(a) for a in legal)))
        for index in np.ndindex(*payoffs.shape[1:]):
            state = root.clone()
            state.apply_actions([legal[p][k] for p, k in enumerate(index)])
            if not state.is_terminal():
                raise UnsupportedGame(
                    f"OpenSpiel game {self._name!r} continues after the first joint move; it is not "
                    "a normal-form game"
                )
            payoffs[(slice(None), *index)] = state.returns()
        names = [[root.action_to_string(p, a) for a in legal[p]] for p in range(n)]
        self._normal_form = normal_form_game(payoffs, name=self._name, action_names=names)
        return self._normal_form

    def __repr__(self) -> str:
        return f"OpenSpielGame({self._name!r})"


def load(name: str) -> OpenSpielGame:
    """Load an OpenSpiel game by its game string.

    Raises:
        GameNotFoundError: OpenSpiel does not know the name or rejects its parameters.
        UnsupportedGame: The game cannot be compiled exactly (sampled chance, no infoset strings).
    """
    pyspiel = _pyspiel()
    short = name.split("(", 1)[0].strip()
    known = pyspiel.registered_names()
    if short not in known:
        close = difflib.get_close_matches(short, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; run 'gamesolve games' for the list"
        raise GameNotFoundError(f"unknown game {name!r}{hint}")
    try:
        with _quiet_stderr():
            game = pyspiel.load_game(name)
    except Exception as exc:  # pyspiel raises plain RuntimeError/SpielError
        text = str(exc).strip()
        msg = text.splitlines()[0] if text else type(exc).__name__
        raise GameNotFoundError(f"OpenSpiel cannot load {name!r}: {msg}") from exc
    if game.get_type().dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
        log.info("converting simultaneous-move game %s to turn-based form", name)
        return OpenSpielGame(pyspiel.convert_to_turn_based(game), name, simultaneous=game)
    return OpenSpielGame(game, name)


def registered_names() -> list[str]:
    """Short names of the OpenSpiel games that can be compiled exactly."""
    pyspiel = _pyspiel()
    names = []
    for gtype in pyspiel.registered_games():
        if gtype.chance_mode == pyspiel.GameType.ChanceMode.SAMPLED_STOCHASTIC:
            continue
        if not gtype.provides_information_state_string:
            continue
        names.append(gtype.short_name)
    return sorted(names)
