"""External-sampling traversals for Deep CFR on compiled game arrays: regret and strategy samples.

Deep CFR (Brown, Lerer, Gross & Sandholm 2019, "Deep Counterfactual Regret Minimization") collects,
per iteration, samples from external-sampling traversals (Lanctot et al. 2009, "Monte Carlo
Sampling for Regret Minimization in Extensive Games") played with a fixed policy table: the
traverser enumerates all of its actions, chance and the other players sample one action each. At
every traverser infoset reached the traversal records the instantaneous regrets ``v(a) - v``; at
every other player's infoset reached it records the infoset (the strategy sample is that infoset's
row of the policy table). Under perfect recall a traversal reaches a traverser infoset at most once.

Randomness is counter-based (:func:`gamesolve.kernels.mccfr.stream_seed` and
:func:`~gamesolve.kernels.mccfr.draw_uniform`): a draw is a pure function of a key, the traversal
number, the traverser and the node, so the kernel holds no generator state. :func:`traverse_numpy`
is a plain recursive Python twin with the same draws, to test the kernel.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.mccfr import draw_uniform, draw_uniform_py, pick_span, stream_seed, stream_seed_py
from gamesolve.kernels.tree import CHANCE, TERMINAL, TreeArrays

__all__ = ["external_sampling_traversals", "traverse_numpy"]


@numba.njit(cache=True, nogil=True)
def _descend(
    node: int,
    tree: TreeArrays,
    player: int,
    seed: np.uint64,
    sigma: NDArray[np.float64],  # [I, A] policy table
    opp_infoset: NDArray[np.int32],  # [M2] out: other players' infosets reached
    n_opp: NDArray[np.int64],  # [1] in/out: count in opp_infoset (may exceed its length)
) -> int:
    """Follow sampled chance and other-player edges from ``node`` to a terminal or a traverser node."""
    n = node
    while True:
        pl = tree.node_player[n]
        if pl == TERMINAL or pl == player:  # noqa: SIM109 (plain compares in numba)
            return n
        first = tree.node_first_child[n]
        m = tree.node_num_children[n]
        u = draw_uniform(seed, n, 0)
        if pl == CHANCE:
            n = first + pick_span(tree.node_prob, first, m, u)
        else:
            infoset = tree.node_infoset[n]
            k = n_opp[0]
            if k < opp_infoset.shape[0]:
                opp_infoset[k] = infoset
            n_opp[0] = k + 1
            n = first + pick_span(sigma[infoset], 0, m, u)


@numba.njit(cache=True, nogil=True)
def external_sampling_traversals(
    tree: TreeArrays,
    node_terminal: NDArray[np.int32],  # [N] terminal index of terminal nodes, -1 elsewhere
    sigma: NDArray[np.float64],  # [I, A] the policy every player plays (rows sum to 1 on legal slots)
    key: np.uint64,
    player: int,  # the traverser
    count: int,  # traversals
    reg_infoset: NDArray[np.int32],  # [M] out: traverser infoset of each regret sample
    reg_values: NDArray[np.float64],  # [M, A] out: instantaneous regrets v(a) - v per slot
    opp_infoset: NDArray[np.int32],  # [M2] out: other players' infosets reached
    frame_node: NDArray[np.int32],  # [D] scratch
    frame_next: NDArray[np.int32],  # [D] scratch
    frame_values: NDArray[np.float64],  # [D, A] scratch
) -> tuple[int, int]:
    """``count`` traversals for ``player``; returns how many regret and strategy samples they made.

    A count above the length of its output array means the output overflowed (only the first
    entries were written): call again with larger arrays (the draws do not change).
    """
    n_reg = 0
    n_opp = np.zeros(1, dtype=np.int64)
    cap = reg_infoset.shape[0]
    for k in range(count):
        seed = stream_seed(key, k, player)
        top = 0
        n = _descend(0, tree, player, seed, sigma, opp_infoset, n_opp)
        if tree.node_player[n] == TERMINAL:
            continue
        frame_node[top] = n
        frame_next[top] = 0
        while top >= 0:
            n = frame_node[top]
            j = frame_next[top]
            m = tree.node_num_children[n]
            if j < m:
                frame_next[top] = j + 1
                c = _descend(tree.node_first_child[n] + j, tree, player, seed, sigma, opp_infoset, n_opp)
                if tree.node_player[c] == TERMINAL:
                    frame_values[top, j] = tree.terminal_utility[node_terminal[c], player]
                else:
                    top += 1
                    frame_node[top] = c
                    frame_next[top] = 0
            else:
                infoset = tree.node_infoset[n]
                v = 0.0
                for a in range(m):
                    v += sigma[infoset, a] * frame_values[top, a]
                if n_reg < cap:
                    reg_infoset[n_reg] = infoset
                    for a in range(m):
                        reg_values[n_reg, a] = frame_values[top, a] - v
                n_reg += 1
                top -= 1
                if top >= 0:
                    frame_values[top, frame_next[top] - 1] = v
    return n_reg, int(n_opp[0])


def traverse_numpy(
    tree: TreeArrays, sigma: NDArray[np.float64], key: int, player: int, count: int
) -> tuple[list[int], list[NDArray[np.float64]], list[int]]:
    """Plain recursive twin of :func:`external_sampling_traversals` (same draws, same sample order).

    Returns the regret samples' infosets, their regret rows (``[A]``, zero beyond the infoset's
    actions) and the other players' infosets reached.
    """
    width = sigma.shape[1]
    reg_i: list[int] = []
    reg_v: list[NDArray[np.float64]] = []
    opp: list[int] = []
    terminal_index = {int(node): t for t, node in enumerate(tree.terminal_node)}

    def value(n: int, seed: int) -> float:
        pl = int(tree.node_player[n])
        if pl == TERMINAL:
            return float(tree.terminal_utility[terminal_index[n], player])
        first = int(tree.node_first_child[n])
        m = int(tree.node_num_children[n])
        if pl != player:
            u = draw_uniform_py(seed, n, 0)
            if pl == CHANCE:
                probs = tree.node_prob[first : first + m]
            else:
                infoset = int(tree.node_infoset[n])
                opp.append(infoset)
                probs = sigma[infoset, :m]
            return value(first + _pick(probs, u), seed)
        infoset = int(tree.node_infoset[n])
        child = np.array([value(first + a, seed) for a in range(m)])
        v = float(sigma[infoset, :m] @ child)
        row = np.zeros(width)
        row[:m] = child - v
        reg_i.append(infoset)
        reg_v.append(row)
        return v

    for k in range(count):
        value(0, stream_seed_py(key, k, player))
    return reg_i, reg_v, opp


def _pick(probs: NDArray[np.float64], u: float) -> int:
    """Pure-Python :func:`~gamesolve.kernels.mccfr.pick_span` (first entry whose CDF exceeds ``u``)."""
    cum = 0.0
    last = 0
    for k, pk in enumerate(probs):
        if pk > 0.0:
            cum += float(pk)
            last = k
            if u < cum:
                return k
    return last
