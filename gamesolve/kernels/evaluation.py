"""Exact evaluation kernels: reach probabilities, expected values and best responses.

Every kernel takes the game's :class:`~gamesolve.kernels.tree.TreeArrays`, other arrays and scalars,
and writes into preallocated outputs. The plain-numpy
twins (``*_numpy``) compute the same quantities a different way (pointer jumping for reach,
``np.add.at`` scatters, a Python loop over infosets) and exist to test the kernels.

Best responses use the sequence form: with ``w(z)`` the reach of terminal ``z`` by everyone except
player ``i`` (chance included), ``c_i[s] = sum_{z: seq_i(z)=s} w(z) u_i(z)``. A reverse pass over
infosets (ids are topologically ordered) computes
``V(I) = max_a (c_i[s_Ia] + sum_{I' below s_Ia} V(I'))``, and the best-response value of player
``i`` is ``c_i[0] + sum_{root infosets} V(I)``. Ties go to the lowest slot.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.passes import push_reach, terminal_mass
from gamesolve.kernels.tree import CHANCE, TreeArrays

__all__ = [
    "best_from_mass",
    "best_response_numpy",
    "best_responses",
    "forward_reach",
    "reach_numpy",
]


@numba.njit(cache=True, nogil=True)
def forward_reach(
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A]
    reach: NDArray[np.float64],  # [N, P + 1] out: each player's own reach; column P is chance
) -> None:
    """Forward pass: ``reach[n, k]`` is the product of actor ``k``'s probabilities on the path."""
    for k in range(reach.shape[1]):
        reach[0, k] = 1.0
    push_reach(tree, probs, reach, 0, tree.node_player.shape[0])


@numba.njit(cache=True, nogil=True)
def best_responses(
    tree: TreeArrays,
    reach: NDArray[np.float64],  # [N, P + 1] from forward_reach
    cf: NDArray[np.float64],  # [S] scratch: counterfactual terminal mass per sequence
    below: NDArray[np.float64],  # [S] scratch: best values of the infosets under each sequence
    values: NDArray[np.float64],  # [P] out: expected utility of every player under the profile
    br_values: NDArray[np.float64],  # [P] out: best-response value of every player
    br_slot: NDArray[np.int32],  # [I] out: best-response slot at every infoset (owner's BR)
) -> None:
    """Expected values and every player's best response, from a reach matrix."""
    cf[:] = 0.0
    values[:] = 0.0
    terminal_mass(tree, reach, cf, values, 0, tree.terminal_node.shape[0])
    best_from_mass(tree, cf, below, br_values, br_slot)


@numba.njit(cache=True, nogil=True)
def best_from_mass(
    tree: TreeArrays,
    cf: NDArray[np.float64],  # [S] counterfactual terminal mass per sequence
    below: NDArray[np.float64],  # [S] out: best values of the infosets under each sequence
    br_values: NDArray[np.float64],  # [P] out: best-response value of every player
    br_slot: NDArray[np.int32],  # [I] out: best-response slot at every infoset
) -> None:
    """Every player's best response, bottom-up over the infosets, from the terminal mass ``cf``."""
    n_players = br_values.shape[0]
    below[:] = 0.0
    for infoset in range(tree.infoset_player.shape[0] - 1, -1, -1):
        base = tree.seq_offset[tree.infoset_player[infoset]]
        first = base + tree.infoset_first_seq[infoset]
        best = cf[first] + below[first]
        best_j = 0
        for j in range(1, tree.infoset_num_actions[infoset]):
            v = cf[first + j] + below[first + j]
            if v > best:
                best = v
                best_j = j
        br_slot[infoset] = best_j
        below[base + tree.infoset_parent_seq[infoset]] += best
    for p in range(n_players):
        br_values[p] = cf[tree.seq_offset[p]] + below[tree.seq_offset[p]]


# ------------------------------------------------------------------------------ numpy twins


def reach_numpy(tree: TreeArrays, probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """``[N, P + 1]`` reach matrix by pointer jumping (no dependence on node order)."""
    node_player, node_parent, node_prob = tree.node_player, tree.node_parent, tree.node_prob
    num_players = tree.terminal_utility.shape[1]
    n_nodes = node_player.shape[0]
    factor = np.ones((n_nodes, num_players + 1))
    nodes = np.arange(1, n_nodes)
    parents = node_parent[1:]
    actor = node_player[parents].astype(np.int64)
    is_chance = actor == CHANCE
    factor[nodes[is_chance], num_players] = node_prob[nodes[is_chance]]
    dec = ~is_chance
    slots = nodes[dec] - tree.node_first_child[parents[dec]]
    factor[nodes[dec], actor[dec]] = probs[tree.node_infoset[parents[dec]], slots]
    ancestor = node_parent.astype(np.int64).copy()
    while (ancestor >= 0).any():
        live = ancestor >= 0
        factor[live] *= factor[ancestor[live]]
        ancestor[live] = ancestor[ancestor[live]]
    return factor


def best_response_numpy(
    tree: TreeArrays, reach: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32]]:
    """``(values [P], br_values [P], br_slot [I])``, the same outputs as the kernel pair."""
    terminal_node, terminal_seq = tree.terminal_node, tree.terminal_seq
    terminal_utility = tree.terminal_utility
    infoset_player, infoset_num_actions = tree.infoset_player, tree.infoset_num_actions
    infoset_first_seq, infoset_parent_seq = tree.infoset_first_seq, tree.infoset_parent_seq
    num_sequences = tree.num_sequences
    n_players = terminal_utility.shape[1]
    r = reach[terminal_node]  # [T, P + 1]
    total = r.prod(axis=1)
    values = (total[:, None] * terminal_utility).sum(axis=0)
    br_values = np.zeros(n_players)
    br_slot = np.zeros(infoset_player.shape[0], dtype=np.int32)
    for i in range(n_players):
        others = np.delete(r, i, axis=1).prod(axis=1)
        cf = np.zeros(int(num_sequences[i]))
        np.add.at(cf, terminal_seq[:, i], others * terminal_utility[:, i])
        below = np.zeros_like(cf)
        for infoset in np.flatnonzero(infoset_player == i)[::-1]:
            first = infoset_first_seq[infoset]
            q = (
                cf[first : first + infoset_num_actions[infoset]]
                + below[first : first + infoset_num_actions[infoset]]
            )
            j = int(np.argmax(q))
            br_slot[infoset] = j
            below[infoset_parent_seq[infoset]] += q[j]
        br_values[i] = cf[0] + below[0]
    return values, br_values, br_slot
