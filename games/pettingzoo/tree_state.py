"""A compiled game walked as states: :class:`TreeState` reads a history from the arrays alone.

Environments and tools use it to play games that exist only in compiled form (a bare
:class:`~gamesolve.CompiledGame`, or the tree :func:`~gamesolve.games.pettingzoo.compile_pettingzoo`
builds).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gamesolve.compiled import CompiledGame
from gamesolve.protocols import CHANCE, TERMINAL

__all__ = ["TreeState"]


class TreeState:
    """A history of a :class:`~gamesolve.CompiledGame`, read from its arrays (implements ``State``).

    Lets environments and tools walk games that exist only in compiled form. Only the acting
    player's information set is recorded in a compiled game, so :meth:`infoset_key` answers for
    the acting player only.

    Args:
        game: The compiled game.
        node: Node id of the history (0 is the root).
    """

    __slots__ = ("_game", "_node")

    def __init__(self, game: CompiledGame, node: int = 0) -> None:
        self._game = game
        self._node = int(node)

    @property
    def node(self) -> int:
        """Node id of this history in the compiled game."""
        return self._node

    def current_player(self) -> int:
        """Player to act, :data:`~gamesolve.CHANCE` or :data:`~gamesolve.TERMINAL`."""
        return int(self._game.node_player[self._node])

    def is_terminal(self) -> bool:
        """Whether the history is complete."""
        return self.current_player() == TERMINAL

    def legal_actions(self) -> Sequence[int]:
        """Legal action ids of the acting player (empty at chance and terminal nodes)."""
        if self.current_player() < 0:
            return []
        infoset = int(self._game.node_infoset[self._node])
        width = int(self._game.infoset_num_actions[infoset])
        return [int(a) for a in self._game.infoset_actions[infoset, :width]]

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        """``(outcome, probability)`` pairs at a chance node (empty elsewhere)."""
        if self.current_player() != CHANCE:
            return []
        first = int(self._game.node_first_child[self._node])
        width = int(self._game.node_num_children[self._node])
        kids = range(first, first + width)
        return [(int(self._game.node_action[c]), float(self._game.node_prob[c])) for c in kids]

    def child(self, action: int) -> TreeState:
        """The history after ``action``.

        Raises:
            ValueError: ``action`` is not an edge out of this history.
        """
        if self.is_terminal():
            raise ValueError("no action is legal at a terminal history")
        first = int(self._game.node_first_child[self._node])
        width = int(self._game.node_num_children[self._node])
        hits = np.flatnonzero(self._game.node_action[first : first + width] == int(action))
        if hits.size == 0:
            raise ValueError(f"action {action} is not legal at node {self._node}")
        return TreeState(self._game, first + int(hits[0]))

    def returns(self) -> Sequence[float]:
        """Every player's payoff at a terminal history (zeros elsewhere)."""
        if not self.is_terminal():
            return [0.0] * self._game.num_players
        t = int(np.searchsorted(self._game.terminal_node, self._node))
        return [float(x) for x in self._game.terminal_utility[t]]

    def infoset_key(self, player: int) -> str:
        """Information-set key of ``player``, who must be the acting player.

        Raises:
            ValueError: ``player`` does not act here (a compiled game does not record it).
        """
        if player != self.current_player() or player < 0:
            raise ValueError(
                f"a compiled game records only the acting player's information set; player {player} "
                f"does not act at node {self._node}"
            )
        return self._game.infosets.key(int(self._game.node_infoset[self._node]))

    def __repr__(self) -> str:
        return f"TreeState(node={self._node}, history={self._game.history(self._node)})"
