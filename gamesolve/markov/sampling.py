"""Playing a Markov game step by step: the sampling protocols and the tabular episode.

A game that implements :class:`SampledMarkovGame` can be played (``new_episode(rng=...)``) even if
it is too large to tabulate; that is all that sampled tournaments, RL best responses and the
PettingZoo adapters need. :class:`TabularEpisode` plays a :class:`~gamesolve.markov.TabularMarkovGame`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from gamesolve.spec import GameSpec

if TYPE_CHECKING:
    from gamesolve.markov.game import TabularMarkovGame

__all__ = ["MarkovEpisode", "SampledMarkovGame", "TabularEpisode"]


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
