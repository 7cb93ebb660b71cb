"""Batched environments on OpenSpiel games, stepping ``pyspiel`` states directly.

:class:`OpenSpielVectorEnv` keeps ``B`` ``pyspiel.State`` objects and plays one action in each per
:meth:`~OpenSpielVectorEnv.step`, sampling chance from its own generators, so it runs on games far
too large to compile (``connect_four``, ``dark_hex``, ``phantom_ttt``, limit ``universal_poker``)
without walking any tree. Observations are OpenSpiel's ``information_state_tensor`` or
``observation_tensor`` of the acting player (Lanctot et al. 2019, "OpenSpiel: A framework for
reinforcement learning in games").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError, UnsupportedGame
from gamesolve.games.openspiel import OpenSpielGame
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env.base import OBSERVATION_KINDS, TimeStep, VectorEnv

__all__ = ["OpenSpielVectorEnv", "check_tensor_kind", "infoset_tensor_table"]

log = logging.getLogger(__name__)

#: OpenSpiel's player ids of chance nodes and terminal states.
CHANCE_PLAYER = -1
TERMINAL_PLAYER = -4
#: Uniform draws fetched from a slot's generator at once (chance reads them one by one).
UNIFORM_CHUNK = 256

#: What each observation kind is called in OpenSpiel, and the game-type flag that says it exists.
_TENSORS = {
    "info_state": ("information_state_tensor", "provides_information_state_tensor"),
    "observation": ("observation_tensor", "provides_observation_tensor"),
}


def check_tensor_kind(game: OpenSpielGame, observation: str) -> str:
    """The ``pyspiel.State`` method that gives tensors of kind ``observation`` in ``game``.

    Raises:
        InvalidArgumentError: ``observation`` is not one of :data:`OBSERVATION_KINDS`.
        UnsupportedGame: The game provides no such tensor (the message names the other kind when
            the game has it).
    """
    observation = check_choice("observation", observation, OBSERVATION_KINDS)
    gtype = game.pyspiel_game.get_type()
    method, flag = _TENSORS[observation]
    if not getattr(gtype, flag):
        others = [k for k, (_, f) in _TENSORS.items() if k != observation and getattr(gtype, f)]
        hint = f'; it has {_TENSORS[others[0]][0]}: use observation="{others[0]}"' if others else ""
        raise UnsupportedGame(f"OpenSpiel game {game.name!r} provides no {method}{hint}")
    return method


def infoset_tensor_table(game: OpenSpielGame, observation: str) -> NDArray[np.float32]:
    """OpenSpiel's tensor of every infoset of the compiled game, ``[I, F]`` float32 (row i: infoset i).

    Walks every history of the game (it must compile: :meth:`OpenSpielGame.compile`) and reads
    the acting player's tensor at each decision, checking that all histories of an infoset give
    the same tensor.

    Raises:
        UnsupportedGame: The game has no tensor of that kind, or two histories of one infoset give
            different tensors (an ``observation_tensor`` that is not a function of the infoset).
    """
    method = check_tensor_kind(game, observation)
    compiled = game.compile()
    pyspiel_game = game.pyspiel_game
    size = int(getattr(pyspiel_game, f"{method}_size")())
    table = np.zeros((compiled.num_infosets, size), dtype=np.float32)
    seen = np.zeros(compiled.num_infosets, dtype=bool)
    index = compiled.infosets
    stack = [pyspiel_game.new_initial_state()]
    while stack:
        state = stack.pop()
        if state.is_terminal():
            continue
        if state.is_chance_node():
            stack.extend(state.child(a) for a, _ in state.chance_outcomes())
            continue
        player = state.current_player()
        row = index.id(state.information_state_string(player))
        tensor = np.asarray(getattr(state, method)(player), dtype=np.float32)
        if not seen[row]:
            table[row] = tensor
            seen[row] = True
        elif not np.array_equal(table[row], tensor):
            raise UnsupportedGame(
                f"OpenSpiel game {game.name!r}: two histories of infoset {index.key(row)!r} give different "
                f"{method}s, so it is no table of infosets; use the pyspiel backend"
            )
        stack.extend(state.child(a) for a in state.legal_actions())
    return table


class OpenSpielVectorEnv(VectorEnv):
    """``num_envs`` episodes of an OpenSpiel game, each a ``pyspiel.State`` stepped in place.

    Every slot ``b`` has its own generator (spawned from ``seed``), from which its chance outcomes
    are drawn by inverse transform of one uniform number per chance node; a slot's episode stream
    therefore depends only on ``seed``, ``b`` and the actions played in that slot, and is the same
    for every batch size that has slot ``b``. Simultaneous-move games are played in OpenSpiel's
    turn-based form (:func:`gamesolve.load_game` converts them when it loads them).

    Args:
        game: An :class:`~gamesolve.games.openspiel.OpenSpielGame`.
        num_envs: ``B``.
        seed: Seeds the slots' generators.
        observation: ``"info_state"`` (``information_state_tensor``) or ``"observation"``
            (``observation_tensor``), of the player to act.

    Raises:
        UnsupportedGame: The game has no tensor of that kind (the message names the other kind
            when the game has it).
    """

    def __init__(
        self, game: OpenSpielGame, *, num_envs: int, seed: int, observation: str = "info_state"
    ) -> None:
        if not isinstance(game, OpenSpielGame):
            raise UnsupportedGame(f"OpenSpielVectorEnv needs an OpenSpiel game, got {type(game).__name__}")
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        seed = check_int("seed", seed, minimum=0)
        self.observation_kind = check_choice("observation", observation, OBSERVATION_KINDS)
        self.seed = seed
        self.spec = game.spec
        self._game = game.pyspiel_game
        method = check_tensor_kind(game, self.observation_kind)
        self.num_players = int(self._game.num_players())
        self.num_actions = int(self._game.num_distinct_actions())
        size_of = getattr(self._game, f"{method}_size")
        self.observation_size = int(size_of())
        self.episodes = 0
        self._method = method
        self._name = game.name
        self._generators = [
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(self.num_envs)
        ]
        self._uniform: list[list[float]] = [[] for _ in range(self.num_envs)]
        self._drawn = [0] * self.num_envs
        self._states: list[Any] = []
        self._observer = self._make_observer()
        B = self.num_envs
        self._observation = np.zeros((B, self.observation_size), dtype=np.float32)
        self._legal = np.zeros((B, self.num_actions), dtype=bool)
        self._player = np.zeros(B, dtype=np.int64)
        self._reward = np.zeros((B, self.num_players), dtype=np.float64)
        self._done = np.zeros(B, dtype=bool)

    @property
    def game_name(self) -> str:
        """The OpenSpiel game string."""
        return self._name

    @property
    def states(self) -> tuple[Any, ...]:
        """The slots' current ``pyspiel.State`` objects (read them, do not change them)."""
        return tuple(self._states)

    def reset(self) -> TimeStep:
        """Start ``B`` fresh episodes (the generators go on where they were)."""
        self._states = []
        self._rows.clear()
        self._reward.fill(0.0)
        self._done.fill(False)
        masks = []
        players = []
        for b in range(self.num_envs):
            state = self._game.new_initial_state()
            player = self._advance(b, state)
            self._states.append(state)
            players.append(player)
            masks.append(self._write(b, state, player))
        return self._finish(players, masks)

    def step(self, actions: ArrayLike) -> TimeStep:
        """Play ``actions[b]`` in slot ``b``; an episode that ends restarts in the same call.

        Raises:
            InvalidArgumentError: :meth:`reset` was not called, or ``actions`` is not ``[B]``
                integer action ids, or one is illegal (the message names the slot and its legal
                ids); nothing is played then.
        """
        if not self._states:
            raise InvalidArgumentError("call reset() before step(actions)")
        chosen = self.check_actions(actions, self._legal)
        reward = self._reward
        done = self._done
        reward.fill(0.0)
        done.fill(False)
        self._rows.clear()
        states = self._states
        write = self._write
        new_state = self._game.new_initial_state
        masks = []
        players = []
        for b, action in enumerate(chosen.tolist()):
            state = states[b]
            state.apply_action(action)
            player = state.current_player()
            if player == CHANCE_PLAYER:
                player = self._advance(b, state)
            if player == TERMINAL_PLAYER:
                reward[b] = state.returns()
                done[b] = True
                self.episodes += 1
                state = new_state()
                states[b] = state
                player = self._advance(b, state)
            players.append(player)
            masks.append(write(b, state, player))
        return self._finish(players, masks)

    # ------------------------------------------------------------------ internals
    def _finish(self, players: list[int], masks: list[Any]) -> TimeStep:
        self._player[:] = players
        self._legal[:] = masks
        if self._observer is None:  # _write collected the tensors' lists in place of the masks' rows
            self._observation[:] = self._rows
        return TimeStep(
            observation=self._observation.copy(),
            legal=self._legal.copy(),
            player=self._player.copy(),
            reward=self._reward.copy(),
            done=self._done.copy(),
        )

    def _advance(self, b: int, state: Any) -> int:
        """Play chance nodes from slot ``b``'s generator until a decision or the end; the player then."""
        player = int(state.current_player())
        while player == CHANCE_PLAYER:
            outcomes = state.chance_outcomes()
            drawn = self._drawn[b]
            uniform = self._uniform[b]
            if drawn == len(uniform):
                uniform = self._uniform[b] = self._generators[b].random(UNIFORM_CHUNK).tolist()
                drawn = 0
            u = uniform[drawn]
            self._drawn[b] = drawn + 1
            chosen = outcomes[-1][0]
            total = 0.0
            for action, prob in outcomes:
                total += prob
                if u < total:
                    chosen = action
                    break
            state.apply_action(chosen)
            player = int(state.current_player())
        if player == TERMINAL_PLAYER or player >= 0:
            return player
        raise UnsupportedGame(  # pragma: no cover - load_game converts simultaneous-move games
            f"OpenSpiel game {self._name!r} reached a node of player {player}; only turn-based play "
            "is supported"
        )

    def _make_observer(self) -> Callable[[Any, int], Any] | None:
        """OpenSpiel's observer that writes the tensor into its own buffer, when it matches the state's."""
        import pyspiel
        from open_spiel.python.observation import make_observation

        self._rows: list[Any] = []
        kind = pyspiel.IIGObservationType(perfect_recall=self.observation_kind == "info_state")
        try:
            observer = make_observation(self._game, kind)
        except Exception:  # games without an observer: read the state's tensors
            observer = None
        if observer is None or getattr(observer, "tensor", None) is None:
            return None
        if observer.tensor.shape != (self.observation_size,) or not self._observer_matches(observer):
            log.debug("%s: OpenSpiel's observer differs from %s; reading the state", self._name, self._method)
            return None
        self._buffer = observer.tensor
        setter: Callable[[Any, int], Any] = observer.set_from
        return setter

    def _observer_matches(self, observer: Any) -> bool:
        """Whether the observer gives the state's own tensors along a few random plays."""
        rng = np.random.default_rng(0)
        for _ in range(4):
            state = self._game.new_initial_state()
            for _ in range(200):
                if state.is_terminal():
                    break
                if state.is_chance_node():
                    outcomes = state.chance_outcomes()
                    state.apply_action(outcomes[int(rng.integers(len(outcomes)))][0])
                    continue
                player = state.current_player()
                observer.set_from(state, player)
                if not np.array_equal(
                    observer.tensor, np.asarray(getattr(state, self._method)(player), np.float32)
                ):
                    return False
                legal = state.legal_actions()
                state.apply_action(legal[int(rng.integers(len(legal)))])
        return True

    def _write(self, b: int, state: Any, player: int) -> Any:
        """Write slot ``b``'s observation; return its legal-action mask (a list)."""
        if player < 0:  # pragma: no cover - fresh episodes never end before a decision
            return [0] * self.num_actions
        observer = self._observer
        if observer is not None:
            observer(state, player)
            self._observation[b] = self._buffer
        else:
            self._rows.append(getattr(state, self._method)(player))
        return state.legal_actions_mask(player)
