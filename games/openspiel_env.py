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
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError, MalformedGameError, UnsupportedGame
from gamesolve.games.openspiel import OpenSpielGame
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env.base import OBSERVATION_KINDS, TimeStep, VectorEnv

__all__ = ["OpenSpielVectorEnv", "check_tensor_kind", "infoset_tensor_table"]

log = logging.getLogger(__name__)

#: OpenSpiel's player ids of chance nodes and terminal states.
CHANCE_PLAYER = -1
TERMINAL_PLAYER = -4
#: Uniform draws fetched from a slot's generator at once (chance reads them one by one).
UNIFORM_CHUNK = 16

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


def _uniforms(generator: np.random.Generator) -> Iterator[float]:
    """Uniform numbers in ``[0, 1)`` from ``generator``, drawn :data:`UNIFORM_CHUNK` at a time."""
    while True:
        yield from generator.random(UNIFORM_CHUNK).tolist()


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
        seeds = np.random.SeedSequence(seed).spawn(self.num_envs)
        self._streams = [_uniforms(np.random.default_rng(s)) for s in seeds]
        self._states: list[Any] = []
        B = self.num_envs
        self._observation = np.zeros((B, self.observation_size), dtype=np.float32)
        self._flat_observation = self._observation.reshape(-1)  # a view: concatenate writes into it
        self._row_offsets = np.arange(B, dtype=np.int64) * self.num_actions
        self._make_observers()
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
        self._reward.fill(0.0)
        self._done.fill(False)
        self._states = [self._game.new_initial_state() for _ in range(self.num_envs)]
        players = [self._first_decision(b, state) for b, state in enumerate(self._states)]
        masks = []
        rows = []
        setters = self._setters
        for b, (state, player) in enumerate(zip(self._states, players, strict=True)):
            masks.append(state.legal_actions_mask(player))
            if setters is not None:
                setters[b](state, player)
            else:
                rows.append(getattr(state, self._method)(player))
        return self._finish(players, masks, rows)

    def step(self, actions: ArrayLike) -> TimeStep:
        """Play ``actions[b]`` in slot ``b``; an episode that ends restarts in the same call.

        Raises:
            InvalidArgumentError: :meth:`reset` was not called, or ``actions`` is not ``[B]``
                integer action ids, or one is illegal (the message names the slot and its legal
                ids); nothing is played then.
        """
        if not self._states:
            raise InvalidArgumentError("call reset() before step(actions)")
        chosen = self._checked(actions)
        reward = self._reward
        done = self._done
        reward.fill(0.0)
        done.fill(False)
        states = self._states
        setters = self._setters
        method = self._method
        advance = self._advance
        new_state = self._game.new_initial_state
        players: list[int] = []
        masks: list[Any] = []
        rows: list[Any] = []
        finished = []
        paid = []
        add_player = players.append
        add_mask = masks.append
        for b, action in enumerate(chosen.tolist()):
            state = states[b]
            state.apply_action(action)
            player = state.current_player()
            if player == CHANCE_PLAYER:
                player = advance(b, state)
            if player == TERMINAL_PLAYER:
                finished.append(b)
                paid.append(state.returns())
                state = states[b] = new_state()
                player = self._first_decision(b, state)
            add_player(player)
            add_mask(state.legal_actions_mask(player))
            if setters is not None:
                setters[b](state, player)
            else:
                rows.append(getattr(state, method)(player))
        if finished:
            reward[finished] = paid
            done[finished] = True
            self.episodes += len(finished)
        return self._finish(players, masks, rows)

    def __repr__(self) -> str:
        return (
            f"OpenSpielVectorEnv({self._name!r}, num_envs={self.num_envs}, "
            f"observation={self.observation_kind!r}, F={self.observation_size}, A={self.num_actions})"
        )

    # ------------------------------------------------------------------ internals
    def _checked(self, actions: ArrayLike) -> NDArray[np.int64]:
        """``actions`` as legal action ids: a few array operations for ``[B]`` signed integer arrays."""
        if (
            isinstance(actions, np.ndarray)
            and actions.shape == (self.num_envs,)
            and actions.dtype.kind == "i"
            and actions.min() >= 0
            and actions.max() < self.num_actions
            and self._legal.reshape(-1)[self._row_offsets + actions].all()
        ):
            return actions.astype(np.int64, copy=False)
        return self.check_actions(actions, self._legal)

    def _finish(self, players: list[int], masks: list[Any], rows: list[Any]) -> TimeStep:
        """Gather the slots' players, legal masks and tensors (the observers' buffers, or ``rows``)."""
        self._player[:] = players
        self._legal = np.fromiter(chain.from_iterable(masks), dtype=bool, count=self._legal.size).reshape(
            self._legal.shape
        )
        if self._setters is not None:
            np.concatenate(self._buffers, out=self._flat_observation)
        else:
            self._observation[:] = rows
        return TimeStep(
            observation=self._observation.copy(),
            legal=self._legal.copy(),
            player=self._player.copy(),
            reward=self._reward.copy(),
            done=self._done.copy(),
        )

    def _first_decision(self, b: int, state: Any) -> int:
        """Advance a fresh episode to its first decision; the player to act."""
        player = self._advance(b, state)
        if player < 0:
            raise MalformedGameError(
                f"OpenSpiel game {self._name!r} has an episode that ends before any decision"
            )
        return player

    def _advance(self, b: int, state: Any) -> int:
        """Play chance nodes from slot ``b``'s generator until a decision or the end; the player then."""
        player = state.current_player()
        if player == CHANCE_PLAYER:
            stream = self._streams[b]
            while player == CHANCE_PLAYER:
                u = next(stream)
                outcomes = state.chance_outcomes()
                chosen = outcomes[-1][0]
                total = 0.0
                for action, prob in outcomes:
                    total += prob
                    if u < total:
                        chosen = action
                        break
                state.apply_action(chosen)
                player = state.current_player()
        if player == TERMINAL_PLAYER or player >= 0:
            return int(player)
        raise UnsupportedGame(  # pragma: no cover - load_game converts simultaneous-move games
            f"OpenSpiel game {self._name!r} reached a node of player {player}; only turn-based play "
            "is supported"
        )

    def _make_observers(self) -> None:
        """One OpenSpiel observer per slot, writing into its own buffer, when they match the states' tensors.

        Without a matching observer (``_setters`` is ``None``) the tensors are read from the states.
        """
        import pyspiel
        from open_spiel.python.observation import make_observation

        self._setters: list[Callable[[Any, int], Any]] | None = None
        self._buffers: list[NDArray[np.float32]] = []
        kind = pyspiel.IIGObservationType(perfect_recall=self.observation_kind == "info_state")
        try:
            first = make_observation(self._game, kind)
        except Exception:  # games without an observer: read the state's tensors
            return
        if first is None or getattr(first, "tensor", None) is None:
            return
        if first.tensor.shape != (self.observation_size,) or not self._observer_matches(first):
            log.debug("%s: OpenSpiel's observer differs from %s; reading the state", self._name, self._method)
            return
        observers = [first, *(make_observation(self._game, kind) for _ in range(self.num_envs - 1))]
        # open_spiel.python.observation wraps pyspiel's observation object in a Python method; its
        # pyspiel object, when there, is called directly (the same call, one frame less per read).
        self._setters = [getattr(observer, "_observation", observer).set_from for observer in observers]
        self._buffers = [observer.tensor for observer in observers]

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
