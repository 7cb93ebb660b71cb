"""Batched environments on OpenSpiel games, stepping ``pyspiel`` states directly.

:class:`OpenSpielVectorEnv` keeps ``B`` ``pyspiel.State`` objects and plays one action in each per
:meth:`~OpenSpielVectorEnv.step`, sampling chance from its own generators, so it runs on games far
too large to compile (``connect_four``, ``dark_hex``, ``phantom_ttt``, limit ``universal_poker``)
without walking any tree. Observations are OpenSpiel's ``information_state_tensor`` or
``observation_tensor`` of the acting player (Lanctot et al. 2019, "OpenSpiel: A framework for
reinforcement learning in games"), with the acting player's one-hot appended where OpenSpiel's
tensor is the same for every player (the boards of perfect-information games; see
:func:`gamesolve.games.openspiel_tensors.mover_features`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError, MalformedGameError, UnsupportedGame
from gamesolve.games.openspiel import OpenSpielGame
from gamesolve.games.openspiel_tensors import mover_planes, random_decisions, tensor_shape, with_mover
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env.base import OBSERVATION_KINDS, TimeStep, VectorEnv

__all__ = ["OpenSpielVectorEnv", "check_tensor_kind", "infoset_tensor_table"]

log = logging.getLogger(__name__)

#: OpenSpiel's player ids of chance nodes and terminal states.
CHANCE_PLAYER = -1
TERMINAL_PLAYER = -4
#: Uniform draws fetched from a slot's generator at once (chance reads them one by one; the
#: numbers, and so the episodes, do not depend on it).
UNIFORM_CHUNK = 64

#: Most nodes of the opening chance tree (see :class:`_Opening`) one environment keeps.
OPENING_NODES = 1024

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
    the same tensor; the mover's planes are appended as the batched environments append them.

    Raises:
        UnsupportedGame: The game has no tensor of that kind, or two histories of one infoset give
            different tensors (an ``observation_tensor`` that is not a function of the infoset).
    """
    method = check_tensor_kind(game, observation)
    compiled = game.compile()
    pyspiel_game = game.pyspiel_game
    size = int(getattr(pyspiel_game, f"{method}_size")())
    table = np.zeros((compiled.num_infosets, size), dtype=np.float32)
    owner = np.zeros(compiled.num_infosets, dtype=np.int64)
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
            owner[row] = player
            seen[row] = True
        elif not np.array_equal(table[row], tensor):
            raise UnsupportedGame(
                f"OpenSpiel game {game.name!r}: two histories of infoset {index.key(row)!r} give different "
                f"{method}s, so it is no table of infosets; use the pyspiel backend"
            )
        stack.extend(state.child(a) for a in state.legal_actions())
    out: NDArray[np.float32] = with_mover(table, owner, pyspiel_game, method)
    return out


class _Opening:
    """A node of the episodes' opening: the chance nodes met before the first decision.

    Every episode starts from the same state, so the opening chance nodes, their outcomes and the
    states they lead to are the same in every episode; they are kept, each made once, and a new
    episode clones the state its drawn outcomes lead to instead of replaying them.
    """

    __slots__ = ("children", "outcomes", "player", "state")

    def __init__(self, state: Any) -> None:
        self.state = state
        self.player = int(state.current_player())
        self.outcomes: list[tuple[int, float]] = (
            state.chance_outcomes() if self.player == CHANCE_PLAYER else []
        )
        self.children: dict[int, _Opening] = {}


class OpenSpielVectorEnv(VectorEnv):
    """``num_envs`` episodes of an OpenSpiel game, each a ``pyspiel.State`` stepped in place.

    Every slot ``b`` has its own generator (spawned from ``seed``), from which its chance outcomes
    are drawn by inverse transform of one uniform number per chance node; a slot's episode stream
    therefore depends only on ``seed``, ``b`` and the actions played in that slot, and is the same
    for every batch size that has slot ``b``. Simultaneous-move games are played in OpenSpiel's
    turn-based form (:func:`gamesolve.load_game` converts them when it loads them).

    A step makes four ``pyspiel`` calls per slot (apply the action, read the player, its legal-action
    mask and its tensor, the last through an OpenSpiel observer writing into the slot's own buffer
    where the game has one) and gathers the batch with a few whole-batch operations. A new episode
    clones the state that its opening chance outcomes lead to, kept from earlier episodes (up to
    :data:`OPENING_NODES` of them), instead of replaying the opening: the draws and outcomes are
    the same, and games that open with deals (poker, Liar's Dice) restart with one call.

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
        # OpenSpiel's tensor fills the slots' buffers; the mover's planes are added per batch.
        self._base_size = int(getattr(self._game, f"{method}_size")())
        self._mover = mover_planes(self._game, method)  # [P, E] rows indexed by the movers, or None
        self._shape = tensor_shape(self._game, method)
        self.observation_size = math.prod(self._shape)
        self.episodes = 0
        self._method = method
        self._name = game.name
        seeds = np.random.SeedSequence(seed).spawn(self.num_envs)
        self._generators = [np.random.default_rng(s) for s in seeds]
        # Each slot's next uniform numbers, last to be used first (list.pop is the cheapest read).
        self._pools: list[list[float]] = [[] for _ in seeds]
        self._slots = range(self.num_envs)
        self._states: list[Any] = []
        self._opening = _Opening(self._game.new_initial_state())
        self._opening_nodes = 1
        self._row_offsets = np.arange(self.num_envs, dtype=np.int64) * self.num_actions
        self._legal = np.zeros((self.num_envs, self.num_actions), dtype=bool)
        self._legal_flat = self._legal.reshape(-1)
        self._readers: list[Callable[[Any, int], Any]] = []
        self._views: list[memoryview] = []  # the slots' buffers, as bytes
        self._make_readers()

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
        states: list[Any] = []
        players = self._new_players()
        masks: list[int] = []
        for b, read in zip(self._slots, self._readers, strict=True):
            state, player = self._restart(b)
            states.append(state)
            players.append(player)
            masks += state.legal_actions_mask()
            read(state, player)
        self._states = states
        return self._finish(players, masks, bytearray(self.num_envs), [])

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
        states = self._states
        pools = self._pools
        restart = self._restart
        players = self._new_players()
        masks: list[int] = []  # the slots' 0/1 legal-action masks, one after the other
        done = bytearray(self.num_envs)  # 1 where the episode ended
        paid: list[float] = []  # the returns of the ended episodes, one after the other
        add_player = players.append
        add_mask = masks.extend
        for b, state, action, read in zip(self._slots, states, chosen.tolist(), self._readers, strict=True):
            state.apply_action(action)
            player = state.current_player()
            if player < 0:
                # Chance nodes (the draw of _play_chance, inlined) and restarts: short games such as
                # Leduc meet them every few decisions.
                while player == CHANCE_PLAYER:
                    pool = pools[b]
                    u = pool.pop() if pool else self._refill(b)
                    outcomes = state.chance_outcomes()
                    chosen_outcome = outcomes[-1][0]
                    total = 0.0
                    for outcome, prob in outcomes:
                        total += prob
                        if u < total:
                            chosen_outcome = outcome
                            break
                    state.apply_action(chosen_outcome)
                    player = state.current_player()
                if player == TERMINAL_PLAYER:
                    done[b] = 1
                    paid += state.returns()
                    state, player = restart(b)
                    states[b] = state
                elif player < 0:
                    self._refuse(player)
            add_player(player)
            add_mask(state.legal_actions_mask())  # the player's; faster without the argument
            read(state, player)
        return self._finish(players, masks, done, paid)

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """OpenSpiel's shape of the tensor (``(C, H, W)`` on board games, ``(F,)`` on most others)."""
        return self._shape

    def __repr__(self) -> str:
        return (
            f"OpenSpielVectorEnv({self._name!r}, num_envs={self.num_envs}, "
            f"observation={self.observation_kind!r}, F={self.observation_size}, A={self.num_actions})"
        )

    # ------------------------------------------------------------------ internals
    def _checked(self, actions: ArrayLike) -> NDArray[np.int64]:
        """``actions`` as legal action ids: a few array operations for ``[B]`` int64 arrays."""
        if (
            isinstance(actions, np.ndarray)
            and actions.dtype == np.int64
            and actions.shape == (self.num_envs,)
            # Read as unsigned, a negative id is too large: one comparison checks both bounds.
            and (actions.view(np.uint64) < self.num_actions).all()
            and self._legal_flat[self._row_offsets + actions].all()
        ):
            return actions
        return self.check_actions(actions, self._legal)

    def _new_players(self) -> bytearray | list[int]:
        """An empty list for the slots' players: a bytearray (numpy reads it at once) where ids fit a byte."""
        return bytearray() if self.num_players <= 256 else []

    def _finish(
        self, players: bytearray | list[int], masks: list[int], done: bytearray, paid: list[float]
    ) -> TimeStep:
        """The batch, in new arrays, from the slots' players, legal masks and readers' buffers.

        ``masks`` holds the slots' 0/1 legal-action masks one after the other; ``done`` is 1 at the
        slots whose episodes ended, ``paid`` their returns one after the other.
        """
        B = self.num_envs
        # A bytearray takes the list of 0/1 ints in one C loop; numpy reads its bytes as bools.
        legal = np.frombuffer(bytearray(masks), dtype=np.bool_).reshape(B, self.num_actions)
        self._legal = legal
        self._legal_flat = legal.reshape(-1)
        if isinstance(players, bytearray):
            player = np.frombuffer(players, dtype=np.uint8).astype(np.int64)
        else:  # pragma: no cover - no OpenSpiel game has that many players
            player = np.array(players, dtype=np.int64)
        ended = np.frombuffer(done, dtype=np.bool_)
        reward = np.zeros((B, self.num_players), dtype=np.float64)
        if paid:
            reward[ended] = np.array(paid, dtype=np.float64).reshape(-1, self.num_players)
            self.episodes += len(paid) // self.num_players
        # One join of the buffers' bytes: far cheaper than numpy's concatenation of B small arrays.
        observation = np.frombuffer(bytearray().join(self._views), dtype=np.float32).reshape(
            B, self._base_size
        )
        if self._mover is not None:
            observation = np.concatenate([observation, self._mover[player]], axis=1)
        return TimeStep(
            observation=observation,
            legal=legal.copy(),
            player=player,
            reward=reward,
            done=ended,
        )

    def _restart(self, b: int) -> tuple[Any, int]:
        """A new episode in slot ``b``, at its first decision: the state and the player to act.

        Walks the kept opening with uniforms from the slot's generator, keeping the nodes it meets
        while there is room (:data:`OPENING_NODES`), then plays the rest of the opening, if any.
        """
        node = self._opening
        while node.player == CHANCE_PLAYER:
            pool = self._pools[b]
            u = pool.pop() if pool else self._refill(b)
            chosen = node.outcomes[-1][0]
            total = 0.0
            for outcome, prob in node.outcomes:
                total += prob
                if u < total:
                    chosen = outcome
                    break
            child = node.children.get(chosen)
            if child is None:
                state = node.state.clone()
                state.apply_action(chosen)
                if self._opening_nodes >= OPENING_NODES:  # no room: play on without keeping
                    return state, self._first_decision(b, state)
                child = node.children[chosen] = _Opening(state)
                self._opening_nodes += 1
            node = child
        if node.player < 0:
            self._refuse(node.player)
        return node.state.clone(), node.player

    def _first_decision(self, b: int, state: Any) -> int:
        """Advance a fresh episode to its first decision; the player to act."""
        player = state.current_player()
        if player == CHANCE_PLAYER:
            player = self._play_chance(b, state)
        if player < 0:
            self._refuse(player)
        return int(player)

    def _play_chance(self, b: int, state: Any) -> int:
        """Play chance nodes from slot ``b``'s generator until a decision or the end; the player then."""
        player = CHANCE_PLAYER
        while player == CHANCE_PLAYER:
            pool = self._pools[b]
            u = pool.pop() if pool else self._refill(b)
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
        return int(player)

    def _refill(self, b: int) -> float:
        """Draw slot ``b``'s next :data:`UNIFORM_CHUNK` uniform numbers into its pool; the first of them."""
        pool = self._generators[b].random(UNIFORM_CHUNK)[::-1].tolist()
        self._pools[b] = pool
        return pool.pop()

    def _refuse(self, player: int) -> NoReturn:
        """Raise for a fresh episode that ends before any decision, or a node that is not turn-based."""
        if player == TERMINAL_PLAYER:
            raise MalformedGameError(
                f"OpenSpiel game {self._name!r} has an episode that ends before any decision"
            )
        raise UnsupportedGame(  # pragma: no cover - load_game converts simultaneous-move games
            f"OpenSpiel game {self._name!r} reached a node of player {player}; only turn-based play "
            "is supported"
        )

    def _make_readers(self) -> None:
        """``_readers[b](state, player)`` writes the player's tensor into the buffer ``_views[b]`` shows.

        The readers are OpenSpiel observers, one per slot, each writing into its own buffer, where
        the game has one that gives the states' own tensors; else they copy the state's tensor (a
        list) into a row of one array.
        """
        import pyspiel
        from open_spiel.python.observation import make_observation

        method = self._method
        kind = pyspiel.IIGObservationType(perfect_recall=self.observation_kind == "info_state")
        try:
            observer = make_observation(self._game, kind)
        except Exception:  # games without an observer: read the state's tensors
            observer = None
        if observer is not None and getattr(observer, "tensor", None) is not None:
            if observer.tensor.shape == (self._base_size,) and self._observer_matches(observer):
                observers = [observer, *(make_observation(self._game, kind) for _ in self._slots[1:])]
                # open_spiel.python.observation wraps pyspiel's observation object in a Python
                # method; its pyspiel object, when there, is called directly (one frame less a read).
                self._readers = [getattr(o, "_observation", o).set_from for o in observers]
                self._views = [o.tensor.data.cast("B") for o in observers]
                return
            log.debug("%s: OpenSpiel's observer differs from %s; reading the state", self._name, method)
        rows = np.zeros((self.num_envs, self._base_size), dtype=np.float32)

        def reader(row: NDArray[np.float32]) -> Callable[[Any, int], None]:
            def read(state: Any, player: int) -> None:
                row[:] = getattr(state, method)(player)

            return read

        self._readers = [reader(row) for row in rows]
        self._views = [row.data.cast("B") for row in rows]

    def _observer_matches(self, observer: Any) -> bool:
        """Whether the observer gives the state's own tensors along a few random plays."""
        for state in random_decisions(self._game):
            player = state.current_player()
            observer.set_from(state, player)
            own = np.asarray(getattr(state, self._method)(player), np.float32)
            if not np.array_equal(observer.tensor, own):
                return False
        return True
