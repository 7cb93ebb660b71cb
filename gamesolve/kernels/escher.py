"""Forward-only sampled trajectories on compiled game arrays, the data ESCHER learns from.

ESCHER (McAleer, Farina, Lanctot & Sandholm 2023, "ESCHER: Eschewing Importance Sampling in Games
by Computing a History Value Function to Estimate Regret") never enumerates a subtree: every sample
comes from one trajectory played from the root to a terminal history, so a game whose states cannot
be copied cheaply can be sampled the same way. :func:`sample_trajectories` plays ``count`` such
trajectories: chance samples its distribution, a designated *traverser* samples uniformly over its
legal actions (ESCHER's fixed sampling policy), and every other player samples the policy table
mixed with ``epsilon`` uniform exploration. It records each decision node visited, the slot played
there and what came next (the next decision node, or the terminal reached).

Randomness is counter-based (:func:`gamesolve.kernels.mccfr.stream_seed`), as in the other sampling
kernels: a trajectory's draws are a pure function of the key, the trajectory number and the
traverser, so rerunning with larger output arrays after an overflow repeats the same trajectories.
:func:`sample_trajectories_numpy` is a plain Python twin with the same draws, to test the kernel.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.mccfr import (
    draw_uniform,
    draw_uniform_py,
    pick_py,
    pick_span,
    stream_seed,
    stream_seed_py,
)
from gamesolve.kernels.tree import CHANCE, TERMINAL, TreeArrays

__all__ = ["NO_TRAVERSER", "sample_trajectories", "sample_trajectories_numpy"]

#: ``traverser`` value meaning every player follows the (explored) policy table.
NO_TRAVERSER = -1


@numba.njit(cache=True, nogil=True)
def _uniform_slot(u: float, m: int) -> int:
    j = int(u * m)
    return j if j < m else m - 1


@numba.njit(cache=True, nogil=True)
def sample_trajectories(
    tree: TreeArrays,
    node_terminal: NDArray[np.int32],  # [N] terminal index of terminal nodes, -1 elsewhere
    sigma: NDArray[np.float64],  # [I, A] the policy table (rows sum to 1 on legal slots)
    key: np.uint64,
    traverser: int,  # a player who samples uniformly, or NO_TRAVERSER
    epsilon: float,  # the other players' uniform exploration in [0, 1]
    count: int,  # trajectories
    out_node: NDArray[np.int32],  # [M] out: decision node of each record
    out_slot: NDArray[np.int32],  # [M] out: slot played there
    out_next: NDArray[np.int32],  # [M] out: next decision node, or -1 - terminal index
) -> int:
    """Play ``count`` trajectories; returns the number of decision records they made.

    A count above the length of the output arrays means they overflowed (only the first entries
    were written): call again with larger arrays (the draws do not change).
    """
    cap = out_node.shape[0]
    k_out = 0
    for k in range(count):
        seed = stream_seed(key, k, traverser + 1)
        n = 0
        prev = -1
        while True:
            pl = tree.node_player[n]
            if pl == TERMINAL:
                if 0 <= prev < cap:
                    out_next[prev] = -1 - node_terminal[n]
                break
            first = tree.node_first_child[n]
            m = tree.node_num_children[n]
            u = draw_uniform(seed, n, 0)
            if pl == CHANCE:
                n = first + pick_span(tree.node_prob, first, m, u)
                continue
            if pl == traverser or (epsilon > 0.0 and draw_uniform(seed, n, 1) < epsilon):
                j = _uniform_slot(u, m)
            else:
                j = pick_span(sigma[tree.node_infoset[n]], 0, m, u)
            if 0 <= prev < cap:
                out_next[prev] = n
            if k_out < cap:
                out_node[k_out] = n
                out_slot[k_out] = j
            prev = k_out
            k_out += 1
            n = first + j
    return k_out


def sample_trajectories_numpy(
    tree: TreeArrays,
    node_terminal: NDArray[np.int32],
    sigma: NDArray[np.float64],
    key: int,
    traverser: int,
    epsilon: float,
    count: int,
) -> tuple[list[int], list[int], list[int]]:
    """Plain Python twin of :func:`sample_trajectories`: the records' nodes, slots and successors."""
    nodes: list[int] = []
    slots: list[int] = []
    nexts: list[int] = []
    for k in range(count):
        seed = stream_seed_py(key, k, traverser + 1)
        n = 0
        while True:
            pl = int(tree.node_player[n])
            if pl == TERMINAL:
                if len(nexts) < len(nodes):
                    nexts.append(-1 - int(node_terminal[n]))
                break
            first = int(tree.node_first_child[n])
            m = int(tree.node_num_children[n])
            u = draw_uniform_py(seed, n, 0)
            if pl == CHANCE:
                n = first + pick_py([float(x) for x in tree.node_prob[first : first + m]], u)
                continue
            if pl == traverser or (epsilon > 0.0 and draw_uniform_py(seed, n, 1) < epsilon):
                j = min(int(u * m), m - 1)
            else:
                j = pick_py([float(x) for x in sigma[int(tree.node_infoset[n]), :m]], u)
            if len(nexts) < len(nodes):
                nexts.append(n)
            nodes.append(n)
            slots.append(j)
            n = first + j
    return nodes, slots, nexts
