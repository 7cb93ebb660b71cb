"""Markov (stochastic) games: the tabular form, episodes, stationary profiles and exact evaluation.

A discounted stochastic game has states ``s``, one action set per player, a stage reward
``r_i(s, a)`` for every player ``i`` and joint action ``a = (a_0, ..., a_{P-1})``, transition
probabilities ``P(s' | s, a)`` and a discount ``gamma`` in ``[0, 1)``. Players maximize the
expected discounted sum of their rewards. Terminal states are absorbing with value 0.

:class:`TabularMarkovGame` stores the transitions as one sparse matrix ``[S * J, S]`` (row
``s * J + j`` for joint action ``j``, the C-order flattening of ``(a_0, ..., a_{P-1})``), so games
with many states and few successors per state fit in memory; ``transition`` gives the dense
``[S, A0, ..., A_{P-1}, S]`` view for small games. Build one with :func:`markov_game`.

Every tabular game is also a *sampling* game (:class:`SampledMarkovGame`): ``new_episode(rng=...)``
plays it step by step, which is all that sampled tournaments, RL best responses and the PettingZoo
adapters need. Games too large to tabulate implement the same protocol.

A stationary profile (:class:`MarkovProfile`) gives each player a strategy ``[S, A_i]`` per state.
Its values solve ``V = r_pi + gamma P_pi V`` exactly (:func:`policy_values`); a player's best
response is the optimal policy of the MDP the others induce, found by policy iteration
(:func:`best_response_values`), and :func:`nash_conv` sums the gains.

>>> import numpy as np, gamesolve
>>> amp = np.array([[2.0, -1.0], [-1.0, 1.0]])
>>> game = gamesolve.markov_game(np.ones((1, 2, 2, 1)), amp[None], 0.9)  # one state, forever
>>> round(float(gamesolve.solve(game, "shapley").value[0]), 9)  # 0.2 / (1 - 0.9)
2.0
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidPolicyError, MalformedGameError
from gamesolve.io import read_json_file
from gamesolve.normal_form import _shown, classify_utility, json_numbers, numeric_array
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = [
    "MarkovEpisode",
    "MarkovExploitabilityReport",
    "MarkovProfile",
    "SampledMarkovGame",
    "TabularEpisode",
    "TabularMarkovGame",
    "best_response_values",
    "markov_game",
    "nash_conv",
    "policy_values",
]

log = logging.getLogger(__name__)

_PROB_ATOL = 1e-9
#: Should the Krylov solve of a policy evaluation fail, up to this many states sparse LU takes over
#: (beyond, LU fill-in on random transition graphs costs more than iterating the contraction).
_DIRECT_STATES = 3_000

#: Value-iteration sweeps that start policy iteration in :func:`best_response_values`.
_VALUE_SWEEPS = 200


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


# ---------------------------------------------------------------------------------------------
# The sampling protocol
# ---------------------------------------------------------------------------------------------


@runtime_checkable
class MarkovEpisode(Protocol):
    """One play of a Markov game, advanced by :meth:`step`.

    At each step the players in :attr:`players_to_move` (all players in a simultaneous game, one
    in a turn-based one) choose an action each; the episode is over when :attr:`done`.
    """

    @property
    def players_to_move(self) -> tuple[int, ...]:
        """Players who act at this step (empty once the episode is over)."""
        ...

    @property
    def done(self) -> bool:
        """Whether the episode has ended (a terminal state or the step limit)."""
        ...

    @property
    def returns(self) -> NDArray[np.float64]:
        """Discounted sum of each player's rewards so far ``[P]``."""
        ...

    def observation(self, player: int) -> NDArray[np.float32]:
        """What ``player`` knows now, as a flat float32 vector of fixed length."""
        ...

    def legal_actions(self, player: int) -> NDArray[np.int64]:
        """The actions ``player`` may take now (sorted)."""
        ...

    def step(self, actions: Sequence[int]) -> NDArray[np.float64]:
        """Apply one action per player in :attr:`players_to_move` (same order); rewards ``[P]``."""
        ...


@runtime_checkable
class SampledMarkovGame(Protocol):
    """A Markov game that can be played, though perhaps not tabulated."""

    @property
    def spec(self) -> GameSpec:
        """The game's static description (``kind`` is :attr:`GameKind.MARKOV`)."""
        ...

    @property
    def num_actions(self) -> tuple[int, ...]:
        """Size of each player's action set."""
        ...

    @property
    def discount(self) -> float:
        """Discount factor in ``[0, 1]`` applied to the returns."""
        ...

    def new_episode(self, *, rng: np.random.Generator, max_steps: int | None = None) -> MarkovEpisode:
        """Start an episode whose chance events are drawn from ``rng``."""
        ...


# ---------------------------------------------------------------------------------------------
# The tabular form
# ---------------------------------------------------------------------------------------------


def _joint_name(index: int, shape: tuple[int, ...]) -> str:
    return str(tuple(int(a) for a in np.unravel_index(index, shape)))


@dataclass(frozen=True, eq=False)
class TabularMarkovGame:
    """A finite discounted stochastic game for ``P`` players, stored as arrays.

    Build one with :func:`markov_game`, which validates its input. Attributes are read-only.

    Attributes:
        transition_matrix: Sparse CSR ``[S * J, S]`` float64; row ``s * J + j`` is the
            distribution of the next state after joint action ``j`` in state ``s`` (rows of
            terminal states are empty).
        reward_flat: ``[P, S, J]`` float64 stage rewards (0 at terminal states).
        discount: Discount factor in ``[0, 1)``.
        terminal: ``[S]`` bool; terminal states are absorbing with value 0.
        initial: ``[S]`` float64 distribution of the first state.
        features: ``[S, F]`` float32 observation of each state (one-hot by default).
        spec: The game's static description.
        num_actions: Action-set size per player.
        state_names: A name per state.
    """

    transition_matrix: sp.csr_matrix
    reward_flat: NDArray[np.float64]
    discount: float
    terminal: NDArray[np.bool_]
    initial: NDArray[np.float64]
    features: NDArray[np.float32]
    spec: GameSpec
    num_actions: tuple[int, ...]
    state_names: tuple[str, ...]
    action_names: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def num_players(self) -> int:
        """Number of players."""
        return self.spec.num_players

    @property
    def num_states(self) -> int:
        """Number of states ``S``."""
        return int(self.terminal.shape[0])

    @property
    def num_joint_actions(self) -> int:
        """Number of joint actions ``J`` (the product of the action-set sizes)."""
        return int(np.prod(self.num_actions))

    @property
    def reward(self) -> NDArray[np.float64]:
        """Stage rewards ``[P, S, A0, ..., A_{P-1}]`` float64 (read-only view)."""
        return _readonly(self.reward_flat.reshape(self.num_players, self.num_states, *self.num_actions))

    @property
    def transition(self) -> NDArray[np.float64]:
        """Dense transition probabilities ``[S, A0, ..., A_{P-1}, S]`` (for small games).

        Raises:
            GameTooLargeError: The dense array would exceed the memory budget
                (:mod:`gamesolve.budget`); ``transition_matrix`` holds the same numbers sparsely.
        """
        from gamesolve.budget import require_memory

        entries = self.num_states * self.num_joint_actions * self.num_states
        require_memory(
            f"the dense transition array of {self.spec.name}",
            16.0 * entries,  # the float64 array and the dense copy it is reshaped from
            detail=f"{entries:,} entries; transition_matrix holds them sparsely",
        )
        dense = self.transition_matrix.toarray()
        return _readonly(dense.reshape(self.num_states, *self.num_actions, self.num_states))

    @property
    def default_horizon(self) -> int:
        """Step limit of an episode when none is given: ``gamma ** H < 1e-6`` (1000 if gamma is 0)."""
        if self.discount <= 0.0:
            return 1000
        return max(1, math.ceil(math.log(1e-6) / math.log(self.discount)))

    def expected_next(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """``E[V(s') | s, j]`` for values ``[S]`` or ``[K, S]``; returns ``[S, J]`` or ``[K, S, J]``."""
        s, j = self.num_states, self.num_joint_actions
        if values.ndim == 1:
            return np.asarray(self.transition_matrix @ values).reshape(s, j)
        out = np.asarray(self.transition_matrix @ values.T)  # [S * J, K]
        return out.T.reshape(values.shape[0], s, j)

    def q_values(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """``r_i(s, j) + gamma E[V_i(s')]`` for per-player values ``[P, S]``; returns ``[P, S, J]``."""
        q = self.reward_flat + self.discount * self.expected_next(np.asarray(values, dtype=np.float64))
        q[:, self.terminal, :] = 0.0
        return q

    def new_episode(self, *, rng: np.random.Generator, max_steps: int | None = None) -> TabularEpisode:
        """Start an episode in a state drawn from :attr:`initial` (see :class:`TabularEpisode`)."""
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        return TabularEpisode(self, rng, self.default_horizon if max_steps is None else max_steps)

    def __repr__(self) -> str:
        return (
            f"TabularMarkovGame({self.spec.name!r}, states={self.num_states}, "
            f"actions={self.num_actions}, discount={self.discount:g})"
        )


def markov_game(
    transition: ArrayLike | sp.spmatrix | sp.sparray,
    reward: ArrayLike,
    discount: float,
    *,
    terminal: ArrayLike | None = None,
    initial: ArrayLike | int | None = None,
    features: ArrayLike | None = None,
    name: str = "markov_game",
    state_names: Sequence[str] | None = None,
    action_names: Sequence[Sequence[str]] | None = None,
) -> TabularMarkovGame:
    """Build and validate a tabular Markov game.

    Args:
        transition: Either dense probabilities ``[S, A0, ..., A_{P-1}, S]`` or a sparse matrix
            ``[S * J, S]`` whose row ``s * J + j`` is the next-state distribution after joint
            action ``j`` (C order over ``(a_0, ..., a_{P-1})``) in state ``s``.
        reward: Stage rewards ``[P, S, A0, ..., A_{P-1}]``. For two players, ``[S, A0, A1]`` is
            taken as player 0's reward in a zero-sum game (player 1 gets its negative).
        discount: Discount factor in ``[0, 1)``.
        terminal: ``[S]`` bool mask of terminal (absorbing, value 0) states; their transition rows
            and rewards are ignored. Default: no terminal states.
        initial: Distribution ``[S]`` of the first state, or a state index. Default: state 0.
        features: ``[S, F]`` observation vector of each state (default: one-hot).
        name: Name recorded in the spec.
        state_names: A name per state (default ``"s0", "s1", ...``).
        action_names: Per player, a name per action.

    Raises:
        MalformedGameError: Shapes that disagree, negative or non-finite probabilities, a
            transition row that does not sum to 1 (the message names the state and joint action),
            non-finite rewards, or a discount outside ``[0, 1)``.
    """
    try:
        gamma = float(discount)
    except (TypeError, ValueError):
        raise MalformedGameError(f"discount must be a number in [0, 1), got {discount!r}") from None
    if not 0.0 <= gamma < 1.0:
        raise MalformedGameError(f"discount must be in [0, 1), got {discount!r}")

    r = np.array(reward, dtype=np.float64)
    if sp.issparse(transition):
        matrix = sp.csr_matrix(transition, dtype=np.float64)
        s_count = matrix.shape[1]
        if r.ndim >= 2 and r.shape[1] == s_count and r.ndim >= 3:
            actions = tuple(int(n) for n in r.shape[2:])
        elif r.ndim >= 2 and r.shape[0] == s_count:
            actions = tuple(int(n) for n in r.shape[1:])
        else:
            raise MalformedGameError(
                f"reward must have shape [P, S, A0, ..., A_(P-1)] with S = {s_count}, got {r.shape}"
            )
    else:
        dense = np.asarray(transition, dtype=np.float64)
        if dense.ndim < 3:
            raise MalformedGameError(
                f"transition must have shape [S, A0, ..., A_(P-1), S] (or be a sparse [S*J, S] matrix), "
                f"got {dense.shape}"
            )
        s_count = dense.shape[0]
        actions = tuple(int(n) for n in dense.shape[1:-1])
        if dense.shape[-1] != s_count:
            raise MalformedGameError(
                f"transition must end with the {s_count} next states, got shape {dense.shape}"
            )
        if not np.all(np.isfinite(dense)):
            bad = np.argwhere(~np.isfinite(dense))[0]
            raise MalformedGameError(
                f"transition[state={bad[0]}, actions={tuple(int(x) for x in bad[1:-1])}] is not finite"
            )
        matrix = sp.csr_matrix(dense.reshape(-1, s_count))
    players = len(actions)
    if s_count < 1 or players < 1 or min(actions) < 1:
        raise MalformedGameError(
            f"need at least one state and one action per player; got S={s_count}, {actions}"
        )
    if r.shape == (s_count, *actions) and players == 2:
        r = np.stack([r, -r])
    if r.shape != (players, s_count, *actions):
        raise MalformedGameError(
            f"reward must have shape [P, S, A0, ..., A_(P-1)] = {(players, s_count, *actions)}, got {r.shape}"
        )
    joint = int(np.prod(actions))
    if matrix.shape != (s_count * joint, s_count):
        raise MalformedGameError(
            f"sparse transition must have shape [S * J, S] = {(s_count * joint, s_count)}, got {matrix.shape}"
        )
    if not np.all(np.isfinite(r)):
        bad = np.argwhere(~np.isfinite(r))[0]
        raise MalformedGameError(
            f"reward[player={bad[0]}, state={bad[1]}, actions={tuple(int(x) for x in bad[2:])}] is not finite"
        )

    term = np.zeros(s_count, dtype=bool) if terminal is None else np.asarray(terminal, dtype=bool)
    if term.shape != (s_count,):
        raise MalformedGameError(f"terminal must be a bool mask of shape [{s_count}], got {term.shape}")

    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    data = matrix.data
    if not np.all(np.isfinite(data)):
        row = int(
            np.searchsorted(matrix.indptr, int(np.flatnonzero(~np.isfinite(data))[0]), side="right") - 1
        )
        raise MalformedGameError(
            f"transition[state={row // joint}, actions={_joint_name(row % joint, actions)}] is not finite"
        )
    if np.any(data < 0):
        row = int(np.searchsorted(matrix.indptr, int(np.flatnonzero(data < 0)[0]), side="right") - 1)
        raise MalformedGameError(
            f"transition[state={row // joint}, actions={_joint_name(row % joint, actions)}] has a negative "
            "probability"
        )
    row_sums = np.asarray(matrix.sum(axis=1)).ravel()  # [S * J]
    live = ~np.repeat(term, joint)
    off = np.flatnonzero(live & (np.abs(row_sums - 1.0) > _PROB_ATOL))
    if off.size:
        row = int(off[0])
        raise MalformedGameError(
            f"transition[state={row // joint}, actions={_joint_name(row % joint, actions)}] sums to "
            f"{row_sums[row]:.12g}, expected 1"
        )
    # Terminal rows are dropped and live rows renormalized exactly.
    scale = np.where(live, 1.0 / np.where(row_sums > 0, row_sums, 1.0), 0.0)
    matrix = sp.csr_matrix(sp.diags(scale) @ matrix)
    matrix.eliminate_zeros()
    matrix.sort_indices()

    r_flat = r.reshape(players, s_count, joint).copy()
    r_flat[:, term, :] = 0.0

    if initial is None:
        init = np.zeros(s_count)
        init[0] = 1.0
    elif isinstance(initial, int | np.integer):
        if not 0 <= int(initial) < s_count:
            raise MalformedGameError(f"initial state must be in [0, {s_count}), got {initial}")
        init = np.zeros(s_count)
        init[int(initial)] = 1.0
    else:
        init = np.asarray(initial, dtype=np.float64)
        if init.shape != (s_count,) or not np.all(np.isfinite(init)) or np.any(init < 0):
            raise MalformedGameError(f"initial must be a distribution of shape [{s_count}], got {init!r}")
        if abs(init.sum() - 1.0) > _PROB_ATOL:
            raise MalformedGameError(f"initial must sum to 1, sums to {init.sum():.12g}")
        init = init / init.sum()

    if features is None:
        feats = (
            np.eye(s_count, dtype=np.float32)
            if s_count <= 4096
            else np.arange(s_count, dtype=np.float32)[:, None]
        )
    else:
        feats = np.asarray(features, dtype=np.float32)
        if feats.ndim != 2 or feats.shape[0] != s_count or not np.all(np.isfinite(feats)):
            raise MalformedGameError(
                f"features must be a finite array [S={s_count}, F], got shape {feats.shape}"
            )

    names = tuple(f"s{i}" for i in range(s_count)) if state_names is None else tuple(map(str, state_names))
    if len(names) != s_count:
        raise MalformedGameError(f"state_names must have {s_count} names, got {len(names)}")
    if action_names is None:
        a_names = tuple(tuple(str(a) for a in range(n)) for n in actions)
    else:
        a_names = tuple(tuple(map(str, row)) for row in action_names)
        if tuple(len(row) for row in a_names) != actions:
            raise MalformedGameError(f"action_names must have {actions} names per player")

    utility = classify_utility(r_flat[:, ~term]) if players > 1 and (~term).any() else Utility.IDENTICAL
    if utility is Utility.CONSTANT_SUM and term.any():
        # With stopping, constant-sum stage rewards give returns whose sum depends on play.
        utility = Utility.GENERAL_SUM
    has_chance = bool(np.any(np.diff(matrix.indptr) > 1)) or int(np.count_nonzero(init)) > 1
    spec = GameSpec(
        name=name,
        kind=GameKind.MARKOV,
        num_players=players,
        utility=utility,
        has_chance=has_chance,
        simultaneous=players > 1,
        perfect_recall=True,
        perfect_information=players == 1,
    )
    return TabularMarkovGame(
        transition_matrix=matrix,
        reward_flat=_readonly(r_flat),
        discount=gamma,
        terminal=_readonly(term),
        initial=_readonly(init),
        features=_readonly(feats),
        spec=spec,
        num_actions=actions,
        state_names=names,
        action_names=a_names,
    )


class TabularEpisode:
    """An episode of a :class:`TabularMarkovGame`: all players move at once in every state.

    The episode ends at a terminal state or after ``max_steps`` steps (truncation). ``returns``
    are discounted by the game's discount.
    """

    def __init__(self, game: TabularMarkovGame, rng: np.random.Generator, max_steps: int) -> None:
        self.game = game
        self._rng = rng
        self.max_steps = int(max_steps)
        self.steps = 0
        self.state = int(rng.choice(game.num_states, p=game.initial))
        self._returns = np.zeros(game.num_players)
        self._weight = 1.0
        self._everyone = tuple(range(game.num_players))

    @property
    def done(self) -> bool:
        """Whether the episode reached a terminal state or its step limit."""
        return bool(self.game.terminal[self.state]) or self.steps >= self.max_steps

    @property
    def players_to_move(self) -> tuple[int, ...]:
        """Every player, until the episode is over."""
        return () if self.done else self._everyone

    @property
    def returns(self) -> NDArray[np.float64]:
        """Discounted return of each player so far ``[P]``."""
        return self._returns.copy()

    def observation(self, player: int) -> NDArray[np.float32]:
        """The state's feature vector (states are observed by everyone)."""
        return np.array(self.game.features[self.state])

    def legal_actions(self, player: int) -> NDArray[np.int64]:
        """Every action of ``player`` (the tabular form has fixed action sets)."""
        return np.arange(self.game.num_actions[player], dtype=np.int64)

    def step(self, actions: Sequence[int]) -> NDArray[np.float64]:
        """Apply the joint action; returns the stage rewards ``[P]``."""
        if self.done:
            raise RuntimeError("the episode is over; start a new one")
        game = self.game
        if len(actions) != game.num_players:
            raise ValueError(f"actions must give one action per player ({game.num_players}), got {actions!r}")
        j = 0
        for p, a in enumerate(actions):
            if not 0 <= int(a) < game.num_actions[p]:
                raise ValueError(f"action {a} of player {p} is not in [0, {game.num_actions[p]})")
            j = j * game.num_actions[p] + int(a)
        rewards = game.reward_flat[:, self.state, j].copy()
        row = self.state * game.num_joint_actions + j
        matrix = game.transition_matrix
        lo, hi = int(matrix.indptr[row]), int(matrix.indptr[row + 1])
        u = self._rng.random()
        k = lo
        acc = matrix.data[lo]
        while u >= acc and k < hi - 1:
            k += 1
            acc += matrix.data[k]
        self.state = int(matrix.indices[k])
        self._returns += self._weight * rewards
        self._weight *= game.discount
        self.steps += 1
        return rewards


# ---------------------------------------------------------------------------------------------
# Stationary profiles and their exact evaluation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MarkovProfile:
    """A stationary strategy per player: ``strategies[i]`` is ``[S, A_i]`` (rows sum to 1)."""

    strategies: tuple[NDArray[np.float64], ...]

    @classmethod
    def of(cls, game: TabularMarkovGame, strategies: Sequence[ArrayLike]) -> MarkovProfile:
        """Validate one ``[S, A_i]`` array per player for ``game``.

        Raises:
            InvalidPolicyError: Wrong count or shapes, negative or non-finite entries, or a row
                that does not sum to 1 (the message names the player and state).
        """
        if isinstance(strategies, str | bytes | dict) or not hasattr(strategies, "__len__"):
            kind = type(strategies).__name__
            raise InvalidPolicyError(
                f"a profile must be a sequence of {game.num_players} strategies, got {kind}"
            )
        if len(strategies) != game.num_players:
            raise InvalidPolicyError(
                f"a profile needs one strategy per player ({game.num_players}), got {len(strategies)}"
            )
        out = []
        for p, raw in enumerate(strategies):
            arr = numeric_array(f"strategy of player {p}", raw)
            expected = (game.num_states, game.num_actions[p])
            if arr.shape != expected:
                raise InvalidPolicyError(
                    f"strategy of player {p} must have shape {expected}, got {arr.shape}"
                )
            if not np.all(np.isfinite(arr)) or np.any(arr < -1e-12):
                state, action = (int(i) for i in np.argwhere(~np.isfinite(arr) | (arr < -1e-12))[0])
                value = float(arr[state, action])
                raise InvalidPolicyError(
                    f"strategy of player {p} in state {state}, action {action} is {value!r}; "
                    "probabilities must be finite and >= 0"
                )
            sums = arr.sum(axis=1)
            bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
            if bad.size:
                raise InvalidPolicyError(
                    f"strategy of player {p} in state {int(bad[0])} sums to {sums[bad[0]]:.9g}, expected 1"
                )
            arr = np.maximum(arr, 0.0)
            out.append(_readonly(arr / arr.sum(axis=1, keepdims=True)))
        return cls(tuple(out))

    @classmethod
    def uniform(cls, game: TabularMarkovGame) -> MarkovProfile:
        """Every player uniform in every state."""
        return cls(tuple(_readonly(np.full((game.num_states, n), 1.0 / n)) for n in game.num_actions))

    def __getitem__(self, player: int) -> NDArray[np.float64]:
        return self.strategies[player]

    def __len__(self) -> int:
        return len(self.strategies)

    def joint(self) -> NDArray[np.float64]:
        """Probability of every joint action in every state ``[S, J]``."""
        out = self.strategies[0]
        for strat in self.strategies[1:]:
            out = (out[:, :, None] * strat[:, None, :]).reshape(out.shape[0], -1)
        return out

    def to_lists(self) -> list[list[list[float]]]:
        """Nested lists ``[player][state][action]`` for JSON."""
        return [s.tolist() for s in self.strategies]

    def to_json(self) -> str:
        """JSON text ``{"strategies": [player][state][action]}``."""
        return json.dumps({"strategies": self.to_lists()})

    @classmethod
    def from_data(cls, game: TabularMarkovGame, data: Any) -> MarkovProfile:
        """Build a profile from parsed JSON: ``{"strategies": [player][state][action]}`` or a list.

        A mapping may also be a ``--json`` result file of a Markov solve (its ``"profile"`` entry
        holds the same nested lists). Every entry is checked before any array is built: one list
        per player, one row per state, one number per action (no strings, booleans or ``null``;
        finite), then the rows are checked as distributions by :meth:`of`.

        Raises:
            InvalidPolicyError: The content does not describe a stationary profile of ``game``;
                the message names the player, state and action at fault.
        """
        if isinstance(data, dict):
            key = "strategies" if "strategies" in data else "profile" if "profile" in data else None
            if key is None:
                raise InvalidPolicyError(
                    'a Markov policy must be {"strategies": [player][state][action]} or a bare list; '
                    f"this mapping has keys {_shown(sorted(map(str, data))[:6])}"
                )
            data = data[key]
        players, states = game.num_players, game.num_states
        if not isinstance(data, list):
            raise InvalidPolicyError(
                f"a Markov policy must be a list [player][state][action] of {players} players, got "
                f"{_shown(data)} ({type(data).__name__})"
            )
        if len(data) != players:
            raise InvalidPolicyError(
                f"a Markov policy needs one strategy per player ({players}), got {len(data)}"
            )
        strategies = []
        for p, rows in enumerate(data):
            n = game.num_actions[p]
            shape = f"{states} rows (one per state) of {n} probabilities, shape ({states}, {n})"
            if not isinstance(rows, list):
                raise InvalidPolicyError(
                    f"strategy of player {p} must be {shape}; got {_shown(rows)} ({type(rows).__name__})"
                )
            if len(rows) != states:
                raise InvalidPolicyError(f"strategy of player {p} must be {shape}; got {len(rows)} rows")
            block = np.empty((states, n))
            for state, row in enumerate(rows):
                block[state] = json_numbers(f"player {p}, state {state}", row, n, item="action")
            strategies.append(block)
        return cls.of(game, strategies)

    @classmethod
    def from_json(cls, game: TabularMarkovGame, text: str | bytes) -> MarkovProfile:
        """Read :meth:`to_json` output (or a bare ``[player][state][action]`` list) for ``game``.

        Raises:
            InvalidPolicyError: The text is not strict JSON (``NaN`` tokens, nesting too deep to
                read, integers past Python's digit limit, bytes that are not UTF-8 count too) or
                not a profile of ``game`` (see :meth:`from_data`).
        """
        if isinstance(text, bytes | bytearray):
            try:
                text = bytes(text).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InvalidPolicyError(
                    f"Markov policy is not UTF-8 text (byte 0x{text[exc.start]:02x} at offset {exc.start})"
                ) from None
        if not isinstance(text, str):
            raise InvalidPolicyError(f"Markov policy must be JSON text, got {type(text).__name__}")
        try:
            data = json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise InvalidPolicyError(
                f"Markov policy is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        except RecursionError:
            raise InvalidPolicyError(
                "Markov policy nests JSON arrays or objects too deeply to read"
            ) from None
        except ValueError as exc:  # integers past Python's digit limit, NaN / Infinity tokens
            raise InvalidPolicyError(f"Markov policy cannot be read: {exc}") from None
        return cls.from_data(game, data)

    @classmethod
    def from_file(cls, game: TabularMarkovGame, path: str | os.PathLike[str]) -> MarkovProfile:
        """Read a Markov policy file (``--policy-out`` output, a bare list or a ``--json`` result).

        The file is read with :func:`gamesolve.io.read_json_file` (a clear error for a missing
        file, a directory or device, bytes that are not UTF-8, invalid or too deeply nested JSON,
        numbers too long to convert and ``NaN`` tokens; a UTF-8 byte-order mark is accepted) and
        its content is checked by :meth:`from_data`.

        Raises:
            InputFileError: The file cannot be read as JSON.
            InvalidPolicyError: The JSON is not a profile of ``game`` (the message names the file,
                the player, the state and the action).
        """
        data = read_json_file(path, what="Markov policy file")
        try:
            return cls.from_data(game, data)
        except InvalidPolicyError as exc:
            raise InvalidPolicyError(f"Markov policy file {os.fspath(path)!r}: {exc}") from None


def _reject_constant(token: str) -> Any:
    raise ValueError(f"the token {token} is not JSON (write null or a number)")


def _check_profile(game: TabularMarkovGame, profile: MarkovProfile | Sequence[ArrayLike]) -> MarkovProfile:
    if isinstance(profile, MarkovProfile):
        shapes = tuple(s.shape for s in profile.strategies)
        expected = tuple((game.num_states, n) for n in game.num_actions)
        if shapes != expected:
            raise InvalidPolicyError(f"profile shapes {shapes} do not fit the game; expected {expected}")
        return profile
    return MarkovProfile.of(game, profile)


def _solve_linear(
    game: TabularMarkovGame,
    p_pi: sp.csr_matrix,
    r_pi: NDArray[np.float64],
    start: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Solve ``(I - gamma P_pi) V = r_pi`` for ``r_pi [S]`` or ``[S, K]``.

    A Krylov solver (LGMRES) from ``start`` (if given) to a residual of 1e-14 of the reward scale
    (or float64's floor), which bounds the error by ``residual / (1 - gamma)``: milliseconds, where
    sparse LU suffers fill-in on random transition graphs (seconds at 3,000 states) and the Neumann
    series needs ``log(1e-13) / log(gamma)`` sweeps (tens of thousands at ``gamma = 0.999``). Should it
    not converge, sparse LU (up to ``_DIRECT_STATES`` states) or the Neumann iteration finishes the
    job.
    """
    s = game.num_states
    gamma = game.discount
    rhs = np.asarray(r_pi, dtype=np.float64)
    columns = rhs.reshape(s, -1)
    system = sp.csr_matrix(sp.identity(s, format="csr") - gamma * p_pi)
    out = np.empty_like(columns)
    for k in range(columns.shape[1]):
        b = columns[:, k]
        # A max-norm residual r bounds the error by r / (1 - gamma). The target is 1e-14 of the
        # reward scale, or float64's attainable floor (a few ulps of the solution) when that is
        # larger; scipy's stopping rule is on the 2-norm, so it is tightened until the max norm holds.
        scale_b = max(1.0, float(np.abs(b).max(initial=0.0)))
        guess = start if start is not None and np.ndim(start) == 1 and columns.shape[1] == 1 else None
        x = guess
        solved = False
        for target in (1e-14 * scale_b * math.sqrt(s), 1e-14 * scale_b, 1e-15 * scale_b, 1e-16 * scale_b):
            x, _ = spla.lgmres(system, b, x0=x, rtol=0.0, atol=target, maxiter=200)
            if not np.all(np.isfinite(x)):
                break
            floor = 32.0 * np.finfo(np.float64).eps * float(np.abs(x).max(initial=0.0))
            if float(np.abs(system @ x - b).max(initial=0.0)) <= max(1e-14 * scale_b, floor):
                solved = True
                break
        out[:, k] = x if solved else _solve_linear_fallback(game, p_pi, system, b, guess)
    return out.reshape(rhs.shape)


def _solve_linear_fallback(
    game: TabularMarkovGame,
    p_pi: sp.csr_matrix,
    system: sp.csr_matrix,
    b: NDArray[np.float64],
    start: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Sparse LU up to ``_DIRECT_STATES`` states, else the Neumann iteration to 1e-13."""
    if game.num_states <= _DIRECT_STATES:
        return np.asarray(spla.splu(sp.csc_matrix(system)).solve(b), dtype=np.float64)
    gamma = game.discount
    v = np.array(b if start is None else start, dtype=np.float64)
    scale = max(1.0, float(np.abs(b).max(initial=0.0)) / max(1e-12, 1.0 - gamma))
    for _ in range(1_000_000):
        nxt = b + gamma * (p_pi @ v)
        delta = float(np.abs(nxt - v).max(initial=0.0))
        v = nxt
        if delta * gamma <= 1e-13 * scale * (1.0 - gamma):
            break
    return v


def _induced(game: TabularMarkovGame, joint_probs: NDArray[np.float64]) -> sp.csr_matrix:
    """``P_pi [S, S]`` for joint-action probabilities ``[S, J]``."""
    s, j = game.num_states, game.num_joint_actions
    weights = joint_probs.reshape(-1)  # [S * J]
    agg = sp.csr_matrix((weights, (np.repeat(np.arange(s), j), np.arange(s * j))), shape=(s, s * j))
    return sp.csr_matrix(agg @ game.transition_matrix)


def policy_values(
    game: TabularMarkovGame, profile: MarkovProfile | Sequence[ArrayLike]
) -> NDArray[np.float64]:
    """Exact discounted values ``[P, S]`` of a stationary profile (0 at terminal states).

    Solves ``V = r_pi + gamma P_pi V`` with :func:`_solve_linear` (a Krylov solve to float64 accuracy).
    """
    prof = _check_profile(game, profile)
    joint = prof.joint()  # [S, J]
    r_pi = np.einsum("psj,sj->sp", game.reward_flat, joint)  # [S, P]
    v = _solve_linear(game, _induced(game, joint), r_pi)  # [S, P]
    v = np.asarray(v).reshape(game.num_states, game.num_players).T.copy()
    v[:, game.terminal] = 0.0
    return _readonly(v)


def _others_joint(game: TabularMarkovGame, prof: MarkovProfile, player: int) -> NDArray[np.float64]:
    """``[S, A_player, J]``: probability of joint action j given the player's own action."""
    s, n = game.num_states, game.num_actions[player]
    out = np.ones((s, n, 1))
    for p, strat in enumerate(prof.strategies):
        if p == player:
            factor = np.broadcast_to(np.eye(n)[None], (s, n, n))
        else:
            factor = np.broadcast_to(strat[:, None, :], (s, n, strat.shape[1]))
        out = (out[..., :, None] * factor[..., None, :]).reshape(s, n, -1)
    return np.ascontiguousarray(out)


def best_response_values(
    game: TabularMarkovGame,
    profile: MarkovProfile | Sequence[ArrayLike],
    player: int,
    *,
    max_iterations: int = 10_000,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Optimal values ``[S]`` and a deterministic best response ``[S, A_player]`` of ``player``.

    The other players' stationary strategies induce an MDP for ``player``; it is solved exactly by
    policy iteration (value-iteration sweeps give the start, each policy is evaluated by a linear
    solve, and the loop ends when the greedy policy no longer improves anywhere).

    Raises:
        ValueError: ``player`` out of range.
        GamesolveError: Policy iteration did not settle within ``max_iterations`` improvements.
    """
    prof = _check_profile(game, profile)
    if not 0 <= player < game.num_players:
        raise ValueError(f"player must be in [0, {game.num_players}), got {player}")
    s, n = game.num_states, game.num_actions[player]
    cond = _others_joint(game, prof, player)  # [S, n, J]
    r_own = np.einsum("saj,sj->sa", cond, game.reward_flat[player])  # [S, n]

    def q_of(v: NDArray[np.float64]) -> NDArray[np.float64]:
        cont = game.expected_next(v)  # [S, J]
        q = r_own + game.discount * np.einsum("saj,sj->sa", cond, cont)
        q[game.terminal] = 0.0
        return q

    # Value iteration to near the optimum (the contraction bound), then policy iteration from its
    # greedy policy, which ends at an exactly optimal policy (usually after one evaluation).
    scale = max(1.0, float(np.abs(game.reward_flat[player]).max(initial=0.0))) / max(
        1e-12, 1.0 - game.discount
    )
    v = np.zeros(s)
    gamma = game.discount
    # A few sweeps only: policy iteration is exact from any start, and each of its evaluations is
    # one fast linear solve, while value iteration needs log(eps) / log(gamma) sweeps.
    for _ in range(min(max_iterations, _VALUE_SWEEPS)):
        nxt = q_of(v).max(axis=1)
        delta = float(np.abs(nxt - v).max(initial=0.0))
        v = nxt
        if delta * gamma <= 1e-12 * scale * (1.0 - gamma):
            break
    choice = q_of(v).argmax(axis=1)
    for _ in range(max_iterations):
        own = np.zeros((s, n))
        own[np.arange(s), choice] = 1.0
        joint = np.einsum("sa,saj->sj", own, cond)
        r_pi = np.einsum("sj,sj->s", joint, game.reward_flat[player])
        v = _solve_linear(game, _induced(game, joint), r_pi, start=v)
        v[game.terminal] = 0.0
        q = q_of(v)
        best = q.max(axis=1)
        improve = best > q[np.arange(s), choice] + 1e-12 * scale
        if not improve.any():
            return _readonly(v), _readonly(own)
        choice = np.where(improve, q.argmax(axis=1), choice)
    from gamesolve.errors import GamesolveError

    raise GamesolveError(f"policy iteration for player {player} did not settle in {max_iterations} steps")


@dataclass(frozen=True)
class MarkovExploitabilityReport:
    """Exact NashConv of a stationary profile in a tabular Markov game.

    Attributes:
        nash_conv: ``sum_i (BR_i - V_i)`` at the initial distribution.
        exploitability: ``nash_conv / P``.
        on_policy_values: Each player's value at the initial distribution.
        values: ``[P, S]`` values of the profile.
        best_response_values: ``[P, S]`` values of each player's best response.
        state_nash_conv: ``[S]`` NashConv from every start state.
    """

    nash_conv: float
    exploitability: float
    on_policy_values: tuple[float, ...]
    values: NDArray[np.float64]
    best_response_values: NDArray[np.float64]
    state_nash_conv: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "nash_conv": self.nash_conv,
            "exploitability": self.exploitability,
            "on_policy_values": list(self.on_policy_values),
            "values": self.values.tolist(),
            "best_response_values": self.best_response_values.tolist(),
            "state_nash_conv": self.state_nash_conv.tolist(),
        }


def nash_conv(
    game: TabularMarkovGame, profile: MarkovProfile | Sequence[ArrayLike]
) -> MarkovExploitabilityReport:
    """Exact NashConv of a stationary profile: the sum of the players' best-response gains.

    Values are taken at the initial distribution; ``state_nash_conv`` gives them from every state
    (in a two-player zero-sum game its maximum bounds how far the profile is from a Markov
    perfect equilibrium).
    """
    prof = _check_profile(game, profile)
    values = policy_values(game, prof)  # [P, S]
    br = np.stack([best_response_values(game, prof, p)[0] for p in range(game.num_players)])  # [P, S]
    gains = np.maximum(br - values, 0.0)
    per_state = gains.sum(axis=0)
    total = float(per_state @ game.initial)
    return MarkovExploitabilityReport(
        nash_conv=total,
        exploitability=total / game.num_players,
        on_policy_values=tuple(float(x) for x in values @ game.initial),
        values=values,
        best_response_values=_readonly(br),
        state_nash_conv=_readonly(per_state),
    )
