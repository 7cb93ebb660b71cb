"""Sampled-match kernels: whole episodes on compiled game trees, normal-form and tabular Markov games.

The population backend (:mod:`gamesolve.population.backend`) estimates a meta-game entry by playing
``E`` seeded episodes of one profile (one policy per seat) and averaging each player's payoff.
These kernels play the episodes and return, for fixed-size *blocks* of consecutive episodes, each
player's mean and sum of squared deviations (Welford's update in episode order). The caller
combines blocks in block order (Chan et al.'s pairwise formula), so the result depends only on the
block size, never on how blocks are split between calls, processes or machines.

Randomness is counter-based (:func:`gamesolve.kernels.mccfr.stream_seed` and
:func:`~gamesolve.kernels.mccfr.draw_uniform`): episode ``e`` of the profile with 64-bit key
``key`` uses ``seed = stream_seed(key, e, 0)``, and every draw is a hash of that seed and a
counter:

* compiled games: ``draw_uniform(seed, node, 0)`` at each chance or decision node on the path
  (a path visits a node at most once);
* normal-form games: ``draw_uniform(seed, player, 0)`` for each player's action;
* tabular Markov games: ``draw_uniform(seed, step, 0)`` for the state (the initial one at step 0,
  the next one after step ``t`` at ``t + 1``) and ``draw_uniform(seed, step, 1 + player)`` for
  each player's action at ``step``.

Sampling is by inverse CDF over the row (zero-probability entries are never chosen). Each kind of
game has one episode function; the block loop around it is shared. The ``*_numpy`` twins are
plain-Python versions with the same draws; they exist to test the kernels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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

__all__ = [
    "compiled_match_blocks",
    "compiled_match_blocks_numpy",
    "fold_blocks_py",
    "markov_match_blocks",
    "markov_match_blocks_numpy",
    "normal_form_match_blocks",
    "normal_form_match_blocks_numpy",
    "warm_up",
]


# ------------------------------------------------------------------------------ block loop


@numba.njit(cache=True, nogil=True)
def _open_block(
    mean: NDArray[np.float64], m2: NDArray[np.float64], b: int, first_block: int, block_size: int, total: int
) -> tuple[int, int]:
    """Zero block ``b`` of ``mean`` / ``m2``; its episodes ``range(start, stop)``."""
    for p in range(mean.shape[1]):
        mean[b, p] = 0.0
        m2[b, p] = 0.0
    start = (first_block + b) * block_size
    return start, min(start + block_size, total)


@numba.njit(cache=True, nogil=True)
def _welford(
    value: NDArray[np.float64], n: int, mean: NDArray[np.float64], m2: NDArray[np.float64], b: int
) -> None:
    """Fold ``value [P]`` into block ``b`` of the running ``mean`` / ``m2`` (``n`` includes it)."""
    for p in range(value.shape[0]):
        delta = value[p] - mean[b, p]
        mean[b, p] += delta / n
        m2[b, p] += delta * (value[p] - mean[b, p])


# ------------------------------------------------------------------------------ episodes


@numba.njit(cache=True, nogil=True)
def _compiled_episode(
    tree: TreeArrays, node_terminal: NDArray[np.int32], probs: NDArray[np.float64], seed: np.uint64
) -> int:
    """Walk one episode from the root; the index of the terminal reached."""
    node_player = tree.node_player
    node_first_child = tree.node_first_child
    node_num_children = tree.node_num_children
    node = 0
    while node_player[node] != TERMINAL:
        u = draw_uniform(seed, node, 0)
        first = node_first_child[node]
        m = node_num_children[node]
        if node_player[node] == CHANCE:
            node = first + pick_span(tree.node_prob, first, m, u)
        else:
            node = first + pick_span(probs[tree.node_infoset[node]], 0, m, u)
    return node_terminal[node]


@numba.njit(cache=True, nogil=True)
def _normal_form_joint(probs: NDArray[np.float64], num_actions: NDArray[np.int64], seed: np.uint64) -> int:
    """One joint action (C-order index) of a normal-form match."""
    j = 0
    for p in range(probs.shape[0]):
        a = pick_span(probs[p], 0, num_actions[p], draw_uniform(seed, p, 0))
        j = j * num_actions[p] + a
    return j


@numba.njit(cache=True, nogil=True)
def _markov_episode(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    reward: NDArray[np.float64],
    terminal: NDArray[np.bool_],
    initial: NDArray[np.float64],
    discount: float,
    max_steps: int,
    strategies: NDArray[np.float64],
    num_actions: NDArray[np.int64],
    seed: np.uint64,
    value: NDArray[np.float64],  # [P] out: discounted returns
) -> None:
    """One episode of a tabular Markov game."""
    n_players = reward.shape[0]
    n_joint = reward.shape[2]
    state = pick_span(initial, 0, terminal.shape[0], draw_uniform(seed, 0, 0))
    for p in range(n_players):
        value[p] = 0.0
    weight = 1.0
    step = 0
    while not terminal[state] and step < max_steps:
        j = 0
        for p in range(n_players):
            a = pick_span(strategies[p, state], 0, num_actions[p], draw_uniform(seed, step, 1 + p))
            j = j * num_actions[p] + a
        for p in range(n_players):
            value[p] += weight * reward[p, state, j]
        weight *= discount
        row = state * n_joint + j
        lo = indptr[row]
        k = pick_span(data, lo, indptr[row + 1] - lo, draw_uniform(seed, step + 1, 0))
        state = indices[lo + k]
        step += 1


# ------------------------------------------------------------------------------ kernels


@numba.njit(cache=True, nogil=True)
def compiled_match_blocks(
    tree: TreeArrays,
    node_terminal: NDArray[np.int32],  # [N] terminal index of terminal nodes, -1 elsewhere
    probs: NDArray[np.float64],  # [I, A] the profile (each seat's rows from its member)
    key: np.uint64,
    first_block: int,
    block_size: int,
    num_episodes: int,  # episodes of the whole profile (the last block may be short)
    mean: NDArray[np.float64],  # [B, P] out
    m2: NDArray[np.float64],  # [B, P] out
) -> None:
    """Play blocks ``first_block .. first_block + B - 1`` of a profile on a compiled game."""
    for b in range(mean.shape[0]):
        start, stop = _open_block(mean, m2, b, first_block, block_size, num_episodes)
        for e in range(start, stop):
            t = _compiled_episode(tree, node_terminal, probs, stream_seed(key, e, 0))
            _welford(tree.terminal_utility[t], e - start + 1, mean, m2, b)


@numba.njit(cache=True, nogil=True)
def normal_form_match_blocks(
    payoffs: NDArray[np.float64],  # [P, J] payoff of every joint action (C order)
    probs: NDArray[np.float64],  # [P, A] each seat's strategy (zero padded)
    num_actions: NDArray[np.int64],  # [P]
    key: np.uint64,
    first_block: int,
    block_size: int,
    num_episodes: int,
    mean: NDArray[np.float64],  # [B, P] out
    m2: NDArray[np.float64],  # [B, P] out
) -> None:
    """Play blocks of one-shot matches of a normal-form game."""
    for b in range(mean.shape[0]):
        start, stop = _open_block(mean, m2, b, first_block, block_size, num_episodes)
        for e in range(start, stop):
            j = _normal_form_joint(probs, num_actions, stream_seed(key, e, 0))
            _welford(payoffs[:, j], e - start + 1, mean, m2, b)


@numba.njit(cache=True, nogil=True)
def markov_match_blocks(
    indptr: NDArray[np.int64],  # [S * J + 1] CSR transition rows
    indices: NDArray[np.int64],  # [nnz] next states
    data: NDArray[np.float64],  # [nnz] their probabilities
    reward: NDArray[np.float64],  # [P, S, J]
    terminal: NDArray[np.bool_],  # [S]
    initial: NDArray[np.float64],  # [S]
    discount: float,
    max_steps: int,
    strategies: NDArray[np.float64],  # [P, S, A] each seat's stationary strategy (zero padded)
    num_actions: NDArray[np.int64],  # [P]
    key: np.uint64,
    first_block: int,
    block_size: int,
    num_episodes: int,
    mean: NDArray[np.float64],  # [B, P] out
    m2: NDArray[np.float64],  # [B, P] out
) -> None:
    """Play blocks of episodes of a tabular Markov game (discounted returns, ``max_steps`` cap)."""
    value = np.empty(reward.shape[0])
    for b in range(mean.shape[0]):
        start, stop = _open_block(mean, m2, b, first_block, block_size, num_episodes)
        for e in range(start, stop):
            _markov_episode(
                indptr, indices, data, reward, terminal, initial, discount, max_steps, strategies,
                num_actions, stream_seed(key, e, 0), value,
            )  # fmt: skip
            _welford(value, e - start + 1, mean, m2, b)


def warm_up() -> None:
    """Load (or compile) every kernel for the argument types worker processes pass.

    Tasks reach workers pickled, so their arrays are writeable (a different numba specialization
    from the read-only arrays of a compiled game in the parent). The local executor's fork server
    runs this once (see :mod:`gamesolve.kernels.matches_warm`), so every worker forked from it
    starts with the kernels loaded instead of spending about a second per pool loading them.
    """
    mean = np.empty((1, 2))
    m2 = np.empty((1, 2))
    key = np.uint64(1)
    i32 = np.int32
    tree = TreeArrays(
        node_player=np.array([CHANCE, TERMINAL, TERMINAL], dtype=np.int8),
        node_infoset=np.array([-1, -1, -1], dtype=i32),
        node_parent=np.array([-1, 0, 0], dtype=i32),
        node_first_child=np.array([1, -1, -1], dtype=i32),
        node_num_children=np.array([2, 0, 0], dtype=i32),
        node_action=np.array([-1, 0, 1], dtype=i32),
        node_prob=np.array([1.0, 0.5, 0.5]),
        terminal_node=np.array([1, 2], dtype=i32),
        terminal_utility=np.array([[1.0, -1.0], [-1.0, 1.0]]),
        terminal_seq=np.zeros((2, 2), dtype=i32),
        infoset_player=np.zeros(0, dtype=i32),
        infoset_num_actions=np.zeros(0, dtype=i32),
        infoset_actions=np.zeros((0, 1), dtype=i32),
        infoset_parent_seq=np.zeros(0, dtype=i32),
        infoset_first_seq=np.zeros(0, dtype=i32),
        num_sequences=np.ones(2, dtype=i32),
        seq_offset=np.array([0, 1], dtype=np.int64),
    )
    compiled_match_blocks(tree, np.array([-1, 0, 1], dtype=i32), np.ones((1, 1)), key, 0, 4, 4, mean, m2)
    normal_form_match_blocks(
        np.zeros((2, 1)), np.ones((2, 1)), np.ones(2, dtype=np.int64), key, 0, 4, 4, mean, m2
    )
    markov_match_blocks(
        np.array([0, 1, 1], dtype=np.int64),
        np.array([1], dtype=np.int64),
        np.array([1.0]),
        np.zeros((2, 2, 1)),
        np.array([False, True]),
        np.array([1.0, 0.0]),
        0.9, 5, np.ones((2, 2, 1)), np.ones(2, dtype=np.int64), key, 0, 4, 4, mean, m2,
    )  # fmt: skip


# ------------------------------------------------------------------------------ numpy twins


def fold_blocks_py(
    episode: Callable[[int], Sequence[float]],
    first_block: int,
    block_size: int,
    num_episodes: int,
    mean: NDArray[np.float64],
    m2: NDArray[np.float64],
) -> None:
    """Block statistics of ``episode(e) -> [P]`` values in plain Python, Welford in episode order.

    Block ``b`` of ``mean`` / ``m2`` holds episodes ``(first_block + b) * block_size`` onward (the
    last block of ``num_episodes`` may be short), as the kernels fill them.
    """
    n_players = mean.shape[1]
    for b in range(mean.shape[0]):
        start = (first_block + b) * block_size
        mu = [0.0] * n_players
        ss = [0.0] * n_players
        for n, e in enumerate(range(start, min(start + block_size, num_episodes)), start=1):
            v = episode(e)
            for p in range(n_players):
                delta = v[p] - mu[p]
                mu[p] += delta / n
                ss[p] += delta * (v[p] - mu[p])
        mean[b] = mu
        m2[b] = ss


def compiled_match_blocks_numpy(
    tree: TreeArrays,
    node_terminal: NDArray[np.int32],
    probs: NDArray[np.float64],
    key: int,
    first_block: int,
    block_size: int,
    num_episodes: int,
    mean: NDArray[np.float64],
    m2: NDArray[np.float64],
) -> None:
    """Plain-Python twin of :func:`compiled_match_blocks` (same draws, same results)."""

    def episode(seed: int) -> list[float]:
        node = 0
        while tree.node_player[node] != TERMINAL:
            u = draw_uniform_py(seed, node, 0)
            first = int(tree.node_first_child[node])
            m = int(tree.node_num_children[node])
            if tree.node_player[node] == CHANCE:
                node = first + pick_py(tree.node_prob[first : first + m].tolist(), u)
            else:
                node = first + pick_py(probs[tree.node_infoset[node], :m].tolist(), u)
        return list(tree.terminal_utility[node_terminal[node]].tolist())

    fold_blocks_py(
        lambda e: episode(stream_seed_py(int(key), e, 0)), first_block, block_size, num_episodes, mean, m2
    )


def normal_form_match_blocks_numpy(
    payoffs: NDArray[np.float64],
    probs: NDArray[np.float64],
    num_actions: NDArray[np.int64],
    key: int,
    first_block: int,
    block_size: int,
    num_episodes: int,
    mean: NDArray[np.float64],
    m2: NDArray[np.float64],
) -> None:
    """Plain-Python twin of :func:`normal_form_match_blocks`."""

    def episode(seed: int) -> list[float]:
        j = 0
        for p in range(payoffs.shape[0]):
            m = int(num_actions[p])
            j = j * m + pick_py(probs[p, :m].tolist(), draw_uniform_py(seed, p, 0))
        return list(payoffs[:, j].tolist())

    fold_blocks_py(
        lambda e: episode(stream_seed_py(int(key), e, 0)), first_block, block_size, num_episodes, mean, m2
    )


def markov_match_blocks_numpy(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    reward: NDArray[np.float64],
    terminal: NDArray[np.bool_],
    initial: NDArray[np.float64],
    discount: float,
    max_steps: int,
    strategies: NDArray[np.float64],
    num_actions: NDArray[np.int64],
    key: int,
    first_block: int,
    block_size: int,
    num_episodes: int,
    mean: NDArray[np.float64],
    m2: NDArray[np.float64],
) -> None:
    """Plain-Python twin of :func:`markov_match_blocks`."""
    n_players = reward.shape[0]
    n_joint = reward.shape[2]

    def episode(seed: int) -> list[float]:
        state = pick_py(initial.tolist(), draw_uniform_py(seed, 0, 0))
        ret = [0.0] * n_players
        weight = 1.0
        step = 0
        while not terminal[state] and step < max_steps:
            j = 0
            for p in range(n_players):
                m = int(num_actions[p])
                u = draw_uniform_py(seed, step, 1 + p)
                j = j * m + pick_py(strategies[p, state, :m].tolist(), u)
            for p in range(n_players):
                ret[p] += weight * float(reward[p, state, j])
            weight *= discount
            row = state * n_joint + j
            lo, hi = int(indptr[row]), int(indptr[row + 1])
            k = pick_py(data[lo:hi].tolist(), draw_uniform_py(seed, step + 1, 0))
            state = int(indices[lo + k])
            step += 1
        return ret

    fold_blocks_py(
        lambda e: episode(stream_seed_py(int(key), e, 0)), first_block, block_size, num_episodes, mean, m2
    )
