"""Batched-environment stepping on compiled game arrays: ``B`` episodes advanced in one call.

Each slot ``b`` of the batch holds one episode at a history (a node id). :func:`step_batch` applies
one action id per slot (mapped to its slot in the infoset), then advances every slot through chance
nodes to the next decision node. An episode that reaches a terminal history adds its payoffs to the
slot's reward row, is marked done, and the slot starts the next episode (the next episode index of
the environment), again advanced to its first decision. The acting player's observation row is
copied from an ``[I, F]`` table of tensors per infoset (or written as the one-hot of the infoset
id), together with its legal mask over action ids.

Randomness is counter-based, as in :mod:`gamesolve.kernels.mccfr`: the ``k``-th chance draw of
episode ``e`` is ``draw_uniform(stream_seed(seed, e, 0), k, 0)``, a pure function of the seed, the
episode index and the draw count. An episode's chance outcomes therefore depend only on
``(seed, e)`` and its own actions, not on the batch size or on which slot plays it.

:func:`step_batch_numpy` is a plain-Python twin with the same draws; it exists to test the kernel.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.mccfr import draw_uniform, draw_uniform_py, pick_span, stream_seed, stream_seed_py
from gamesolve.kernels.tree import CHANCE, TERMINAL, TreeArrays

__all__ = ["reaches_decision", "step_batch", "step_batch_numpy"]


@numba.njit(cache=True, nogil=True)
def reaches_decision(tree: TreeArrays) -> bool:
    """Whether some decision node has positive probability (else no episode ever needs an action)."""
    n_nodes = tree.node_player.shape[0]
    reach = np.zeros(n_nodes, dtype=np.bool_)  # [N] reached with positive probability
    reach[0] = True
    for n in range(n_nodes):
        if not reach[n]:
            continue
        pl = tree.node_player[n]
        if pl >= 0:
            return True
        if pl == TERMINAL:
            continue
        first = tree.node_first_child[n]
        for j in range(tree.node_num_children[n]):
            if tree.node_prob[first + j] > 0.0:
                reach[first + j] = True
    return False


@numba.njit(cache=True, nogil=True)
def _advance(
    tree: TreeArrays,
    seed: np.uint64,
    b: int,
    node: NDArray[np.int32],
    ep_seed: NDArray[np.uint64],
    draws: NDArray[np.int64],
    episode: NDArray[np.int64],
    next_episode: int,
    reward: NDArray[np.float64],
    done: NDArray[np.bool_],
) -> tuple[int, int]:
    """Move slot ``b`` to its next decision node; returns ``(next_episode, episodes finished)``."""
    finished = 0
    n = node[b]
    while True:
        pl = tree.node_player[n]
        if pl >= 0:
            break
        if pl == CHANCE:
            u = draw_uniform(ep_seed[b], draws[b], 0)
            draws[b] += 1
            first = tree.node_first_child[n]
            n = first + pick_span(tree.node_prob, first, tree.node_num_children[n], u)
            continue
        t = np.searchsorted(tree.terminal_node, n)
        for p in range(reward.shape[1]):
            reward[b, p] += tree.terminal_utility[t, p]
        done[b] = True
        finished += 1
        episode[b] = next_episode
        ep_seed[b] = stream_seed(seed, next_episode, 0)
        draws[b] = 0
        next_episode += 1
        n = 0
    node[b] = n
    return next_episode, finished


@numba.njit(cache=True, nogil=True)
def step_batch(
    tree: TreeArrays,
    legal_table: NDArray[np.bool_],
    action_slot: NDArray[np.int32],
    table: NDArray[np.float32],
    one_hot: bool,
    seed: np.uint64,
    node: NDArray[np.int32],
    ep_seed: NDArray[np.uint64],
    draws: NDArray[np.int64],
    episode: NDArray[np.int64],
    next_episode: int,
    actions: NDArray[np.int64],
    apply: bool,
    obs: NDArray[np.float32],
    legal: NDArray[np.bool_],
    player: NDArray[np.int64],
    reward: NDArray[np.float64],
    done: NDArray[np.bool_],
) -> tuple[int, int, int]:
    """Apply ``actions`` (when ``apply``) and advance every slot to its next decision.

    Args:
        tree: The compiled game's arrays.
        legal_table: ``[I, A]`` bool, legal action ids per infoset.
        action_slot: ``[I, A]`` int32, the slot of each action id per infoset, -1 where illegal.
        table: ``[I, F]`` float32 tensor per infoset (unused when ``one_hot``).
        one_hot: Write the one-hot of the infoset id (``F = I``) instead of a table row.
        seed: The environment's seed.
        node: ``[B]`` int32 (in/out): each slot's history.
        ep_seed: ``[B]`` uint64 (in/out): the stream seed of each slot's episode.
        draws: ``[B]`` int64 (in/out): chance draws of each slot's episode so far.
        episode: ``[B]`` int64 (in/out): the index of each slot's episode.
        next_episode: Index of the next episode to start.
        actions: ``[B]`` int64 action ids (read when ``apply``).
        apply: Whether to apply ``actions`` first (``False``: only advance, as after a reset).
        obs: ``[B, F]`` out: the acting player's observation.
        legal: ``[B, A]`` out: its legal action ids.
        player: ``[B]`` out: the acting player.
        reward: ``[B, P]`` in zeroed, out: payoffs of the episodes that ended.
        done: ``[B]`` in zeroed, out: whether an episode ended in the slot.

    Returns:
        ``(next_episode, episodes finished, bad)``: ``bad`` is the first slot whose action is not
        legal (nothing is changed then), or -1.
    """
    n_envs = node.shape[0]
    n_actions = legal_table.shape[1]
    if apply:
        for b in range(n_envs):
            a = actions[b]
            if a < 0 or a >= n_actions or action_slot[tree.node_infoset[node[b]], a] < 0:
                return next_episode, 0, b
    finished = 0
    for b in range(n_envs):
        if apply:
            n = node[b]
            node[b] = tree.node_first_child[n] + action_slot[tree.node_infoset[n], actions[b]]
        next_episode, k = _advance(tree, seed, b, node, ep_seed, draws, episode, next_episode, reward, done)
        finished += k
        n = node[b]
        i = tree.node_infoset[n]
        player[b] = tree.node_player[n]
        for j in range(n_actions):
            legal[b, j] = legal_table[i, j]
        if one_hot:
            for f in range(obs.shape[1]):
                obs[b, f] = 0.0
            obs[b, i] = 1.0
        else:
            for f in range(obs.shape[1]):
                obs[b, f] = table[i, f]
    return next_episode, finished, -1


def step_batch_numpy(
    tree: TreeArrays,
    legal_table: NDArray[np.bool_],
    action_slot: NDArray[np.int32],
    table: NDArray[np.float32],
    one_hot: bool,
    seed: int,
    node: NDArray[np.int32],
    ep_seed: NDArray[np.uint64],
    draws: NDArray[np.int64],
    episode: NDArray[np.int64],
    next_episode: int,
    actions: NDArray[np.int64],
    apply: bool,
    obs: NDArray[np.float32],
    legal: NDArray[np.bool_],
    player: NDArray[np.int64],
    reward: NDArray[np.float64],
    done: NDArray[np.bool_],
) -> tuple[int, int, int]:
    """Plain-Python :func:`step_batch` (same arguments, same results and draws)."""
    n_envs = node.shape[0]
    if apply:
        for b in range(n_envs):
            a = int(actions[b])
            if not 0 <= a < legal_table.shape[1] or action_slot[tree.node_infoset[node[b]], a] < 0:
                return next_episode, 0, b
    finished = 0
    for b in range(n_envs):
        n = int(node[b])
        if apply:
            n = int(tree.node_first_child[n] + action_slot[tree.node_infoset[n], int(actions[b])])
        while tree.node_player[n] < 0:
            if tree.node_player[n] == CHANCE:
                u = draw_uniform_py(int(ep_seed[b]), int(draws[b]), 0)
                draws[b] += 1
                first = int(tree.node_first_child[n])
                width = int(tree.node_num_children[n])
                probs = tree.node_prob[first : first + width]
                cum = 0.0
                pick = int(np.flatnonzero(probs > 0)[-1])
                for k in range(width):
                    if probs[k] > 0:
                        cum += float(probs[k])
                        if u < cum:
                            pick = k
                            break
                n = first + pick
                continue
            t = int(np.searchsorted(tree.terminal_node, n))
            reward[b] += tree.terminal_utility[t]
            done[b] = True
            finished += 1
            episode[b] = next_episode
            ep_seed[b] = np.uint64(stream_seed_py(int(seed), next_episode, 0))
            draws[b] = 0
            next_episode += 1
            n = 0
        node[b] = n
        i = int(tree.node_infoset[n])
        player[b] = int(tree.node_player[n])
        legal[b] = legal_table[i]
        if one_hot:
            obs[b] = 0.0
            obs[b, i] = 1.0
        else:
            obs[b] = table[i]
    return next_episode, finished, -1
