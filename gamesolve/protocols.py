"""Structural interfaces that connect every game class to every solver that accepts it.

These are :class:`typing.Protocol` classes: a game needs no base class, only the attributes and
methods below. Extensive-form games are walked once through the :class:`State` protocol and
compiled into integer arrays (:mod:`gamesolve.compiled`); solvers never walk states in hot loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.tree import CHANCE, TERMINAL
from gamesolve.spec import GameSpec

__all__ = [
    "CHANCE",
    "TERMINAL",
    "ExtensiveFormGame",
    "MarkovGame",
    "NormalFormGame",
    "State",
    "TensorState",
]


@runtime_checkable
class State(Protocol):
    """One history of an extensive-form game. States are treated as immutable values."""

    def current_player(self) -> int:
        """Index of the player to move, :data:`CHANCE` at chance nodes, :data:`TERMINAL` at the end."""
        ...

    def is_terminal(self) -> bool:
        """Whether the history is complete."""
        ...

    def legal_actions(self) -> Sequence[int]:
        """Legal action ids at a decision node, in increasing order."""
        ...

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        """``(outcome id, probability)`` pairs at a chance node; probabilities sum to 1."""
        ...

    def child(self, action: int) -> State:
        """The history extended by ``action`` (a new object; ``self`` is unchanged)."""
        ...

    def returns(self) -> Sequence[float]:
        """Total payoff of every player at a terminal history."""
        ...

    def infoset_key(self, player: int) -> str:
        """The information-set key of ``player`` at this history (what the player knows)."""
        ...


@runtime_checkable
class TensorState(Protocol):
    """A :class:`State` that also encodes what a player knows as a vector (OpenSpiel's states do)."""

    def information_state_tensor(self, player: int) -> Sequence[float]:
        """``player``'s information state as a flat vector of floats (same length at every history)."""
        ...


@runtime_checkable
class ExtensiveFormGame(Protocol):
    """A finite extensive-form game with a root :class:`State`."""

    @property
    def spec(self) -> GameSpec:
        """The game's static description."""
        ...

    def initial_state(self) -> State:
        """The root history."""
        ...


@runtime_checkable
class NormalFormGame(Protocol):
    """A finite N-player game in strategic form."""

    @property
    def spec(self) -> GameSpec:
        """The game's static description."""
        ...

    @property
    def payoffs(self) -> NDArray[np.float64]:
        """Payoff tensor ``[P, A0, ..., A_{P-1}]`` float64: ``payoffs[i, a0, ...]`` is player i's."""
        ...


@runtime_checkable
class MarkovGame(Protocol):
    """A finite stochastic game in tabular form (:class:`gamesolve.TabularMarkovGame` is one).

    Shapes are written for two players; with ``P`` players the joint action has ``P`` axes.
    """

    @property
    def spec(self) -> GameSpec:
        """The game's static description."""
        ...

    @property
    def transition(self) -> NDArray[np.float64]:
        """Transition probabilities ``[S, A0, A1, S]`` float64; each ``[s, a, b, :]`` sums to 1."""
        ...

    @property
    def reward(self) -> NDArray[np.float64]:
        """Stage rewards ``[P, S, A0, A1]`` float64."""
        ...

    @property
    def discount(self) -> float:
        """Discount factor in ``[0, 1)``."""
        ...
