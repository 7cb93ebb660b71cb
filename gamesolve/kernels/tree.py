"""Node codes and the array bundle that every tree kernel takes.

A compiled game (:class:`~gamesolve.compiled.CompiledGame`) reaches numba kernels as one
:class:`TreeArrays` (a named tuple of its read-only arrays), built once per game and read inside the
kernels as ``tree.node_player[n]``. Node codes are defined here once: numba reads these module-level
integers as compile-time constants, and :mod:`gamesolve.protocols` and :mod:`gamesolve.compiled`
re-export them under their public names.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["CHANCE", "TERMINAL", "TreeArrays"]

#: ``node_player`` value (and ``State.current_player()``) at chance nodes, as in OpenSpiel.
CHANCE = -1
#: ``node_player`` value (and ``State.current_player()``) at terminal histories, as in OpenSpiel.
TERMINAL = -4


class TreeArrays(NamedTuple):
    """The arrays of a compiled game, bundled as one kernel argument.

    Fields have the meaning and shapes of the :class:`~gamesolve.compiled.CompiledGame` attributes
    of the same names (``N`` nodes, ``T`` terminals, ``I`` infosets, ``A`` slots, ``P`` players);
    ``seq_offset`` is :attr:`~gamesolve.compiled.CompiledGame.sequence_offset`. Get one with
    :attr:`CompiledGame.tree <gamesolve.compiled.CompiledGame.tree>`.
    """

    node_player: NDArray[np.int8]  # [N] player id, CHANCE or TERMINAL
    node_infoset: NDArray[np.int32]  # [N] infoset id at decision nodes, -1 elsewhere
    node_parent: NDArray[np.int32]  # [N] parent id, -1 at the root
    node_first_child: NDArray[np.int32]  # [N] first child id, -1 at terminals
    node_num_children: NDArray[np.int32]  # [N]
    node_action: NDArray[np.int32]  # [N] action/outcome id on the edge into the node
    node_prob: NDArray[np.float64]  # [N] chance probability of the edge into the node, else 1
    terminal_node: NDArray[np.int32]  # [T] node id of each terminal
    terminal_utility: NDArray[np.float64]  # [T, P] payoff of every player
    terminal_seq: NDArray[np.int32]  # [T, P] each player's last own sequence
    infoset_player: NDArray[np.int32]  # [I]
    infoset_num_actions: NDArray[np.int32]  # [I]
    infoset_actions: NDArray[np.int32]  # [I, A] action id per slot, -1 padding
    infoset_parent_seq: NDArray[np.int32]  # [I] owner's parent sequence
    infoset_first_seq: NDArray[np.int32]  # [I] owner's sequence id of slot 0
    num_sequences: NDArray[np.int32]  # [P] including the empty sequence
    seq_offset: NDArray[np.int64]  # [P] start of each player's block in the global sequence ids
