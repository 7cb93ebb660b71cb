"""The loops of the tree kernels over a range of node (or terminal) ids, shared by every kernel.

The serial kernels of :mod:`gamesolve.kernels.cfr` and :mod:`gamesolve.kernels.evaluation` run
each loop once over the whole tree; the layered kernels of :mod:`gamesolve.kernels.layers` run it
over one chunk of one breadth-first layer per thread. The arithmetic is the same either way; only
the sums that cross nodes are grouped differently (see :mod:`gamesolve.kernels.layers`).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.tree import CHANCE, TERMINAL, TreeArrays

__all__ = ["pull_values", "push_opponent_reach", "push_reach", "terminal_mass"]


@numba.njit(cache=True, nogil=True)
def push_opponent_reach(
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A]
    player: int,
    opp: NDArray[np.float64],  # [N] in/out: reach by chance and every player but `player`
    a: int,
    b: int,
) -> None:
    """Write ``opp`` of the children of nodes ``[a, b)`` from ``opp`` of the nodes."""
    for n in range(a, b):
        pl = tree.node_player[n]
        if pl == TERMINAL:
            continue
        first = tree.node_first_child[n]
        w = opp[n]
        if pl == CHANCE:
            for j in range(tree.node_num_children[n]):
                opp[first + j] = w * tree.node_prob[first + j]
        elif pl == player:
            for j in range(tree.node_num_children[n]):
                opp[first + j] = w
        else:
            infoset = tree.node_infoset[n]
            for j in range(tree.node_num_children[n]):
                opp[first + j] = w * probs[infoset, j]


@numba.njit(cache=True, nogil=True)
def pull_values(
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A]
    player: int,
    opp: NDArray[np.float64],  # [N] from push_opponent_reach
    value: NDArray[np.float64],  # [N] in/out: `player`'s values (children already in place)
    cfv: NDArray[np.float64],  # [I, A] in/out: `player`'s counterfactual action values, added to
    a: int,
    b: int,
) -> None:
    """``value`` of nodes ``[a, b)`` (from ``b - 1`` down) and ``player``'s terms ``opp v(ha)``."""
    for n in range(b - 1, a - 1, -1):
        pl = tree.node_player[n]
        if pl == TERMINAL:
            continue
        if opp[n] == 0.0:
            # Every path to n has a zero-probability chance or opponent edge, so n's value is
            # multiplied by zero above and its counterfactual terms vanish: skip the subtree's work.
            value[n] = 0.0
            continue
        first = tree.node_first_child[n]
        total = 0.0
        if pl == CHANCE:
            for j in range(tree.node_num_children[n]):
                total += tree.node_prob[first + j] * value[first + j]
        else:
            infoset = tree.node_infoset[n]
            if pl == player:
                w = opp[n]
                for j in range(tree.node_num_children[n]):
                    vj = value[first + j]
                    cfv[infoset, j] += w * vj
                    total += probs[infoset, j] * vj
            else:
                for j in range(tree.node_num_children[n]):
                    total += probs[infoset, j] * value[first + j]
        value[n] = total


@numba.njit(cache=True, nogil=True)
def push_reach(
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A]
    reach: NDArray[np.float64],  # [N, P + 1] in/out: each actor's own reach; column P is chance
    a: int,
    b: int,
) -> None:
    """Copy ``reach`` of nodes ``[a, b)`` to their children, times each edge's probability."""
    width = reach.shape[1]
    for n in range(a, b):
        pl = tree.node_player[n]
        if pl == TERMINAL:
            continue
        first = tree.node_first_child[n]
        for j in range(tree.node_num_children[n]):
            c = first + j
            for k in range(width):
                reach[c, k] = reach[n, k]
            if pl == CHANCE:
                reach[c, width - 1] *= tree.node_prob[c]
            else:
                reach[c, pl] *= probs[tree.node_infoset[n], j]


@numba.njit(cache=True, nogil=True)
def terminal_mass(
    tree: TreeArrays,
    reach: NDArray[np.float64],  # [N, P + 1] from push_reach
    cf: NDArray[np.float64],  # [S] in/out: counterfactual terminal mass per sequence, added to
    values: NDArray[np.float64],  # [P] in/out: expected utility of every player, added to
    a: int,
    b: int,
) -> None:
    """Add the terms of terminals ``[a, b)`` to ``cf`` (by each player's last sequence) and ``values``."""
    n_players = tree.terminal_utility.shape[1]
    chance_col = reach.shape[1] - 1
    for t in range(a, b):
        node = tree.terminal_node[t]
        chance = reach[node, chance_col]
        if chance == 0.0:
            continue
        for i in range(n_players):
            others = chance
            for k in range(n_players):
                if k != i:
                    others *= reach[node, k]
            u = tree.terminal_utility[t, i]
            cf[tree.seq_offset[i] + tree.terminal_seq[t, i]] += others * u
            values[i] += others * reach[node, i] * u
