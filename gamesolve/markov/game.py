"""The tabular form of a Markov game: :class:`TabularMarkovGame`, built and checked by :func:`markov_game`.

The transitions are one sparse matrix ``[S * J, S]`` (row ``s * J + j`` for joint action ``j``, the
C-order flattening of ``(a_0, ..., a_{P-1})``), so games with many states and few successors per
state fit in memory; ``transition`` gives the dense ``[S, A0, ..., A_{P-1}, S]`` view for small games.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import readonly
from gamesolve.errors import MalformedGameError
from gamesolve.markov.sampling import TabularEpisode
from gamesolve.normal_form import classify_utility
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = ["TabularMarkovGame", "markov_game", "readonly"]

_PROB_ATOL = 1e-9


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
        return readonly(self.reward_flat.reshape(self.num_players, self.num_states, *self.num_actions))

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
        return readonly(dense.reshape(self.num_states, *self.num_actions, self.num_states))

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
        reward_flat=readonly(r_flat),
        discount=gamma,
        terminal=readonly(term),
        initial=readonly(init),
        features=readonly(feats),
        spec=spec,
        num_actions=actions,
        state_names=names,
        action_names=a_names,
    )
