"""Tabular minimax-Q (Littman 1994) as one numba loop over environment steps, and its numpy twin.

Both players act epsilon-greedily around the maximin / minimax strategies of the current
``Q[s]``; after each step the visited entry moves toward ``r + gamma V(s')`` and the matrix game
of ``Q[s]`` is solved again, so ``V``, ``x`` and ``y`` always match ``Q``.

Randomness is counter-based (the splitmix64 hash of :mod:`gamesolve.kernels.mccfr`): the draws of
step ``t`` are a function of ``(key, t)``, so a run resumed from a checkpoint continues exactly.
Draw slots per step: 0/1/2 explore, random action, policy action of player 0; 3/4/5 the same for
player 1; 6 the next state; 7 the restart state after an episode ends.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.matrix_game import solve_matrix_games
from gamesolve.kernels.matrix_game import solve_one_game as _solve_one
from gamesolve.kernels.mccfr import (
    draw_uniform,
    draw_uniform_py,
    pick_py,
    pick_span,
    stream_seed,
    stream_seed_py,
)

__all__ = ["minimax_q_steps", "minimax_q_steps_numpy"]

#: Pivot cap of the per-state simplex solve.
_MAX_PIVOTS = 10_000


@numba.njit(cache=True, nogil=True)
def minimax_q_steps(
    indptr: NDArray[np.int64],  # [S * J + 1] CSR transition rows
    indices: NDArray[np.int64],  # [nnz] next states
    data: NDArray[np.float64],  # [nnz] probabilities
    reward: NDArray[np.float64],  # [S, J] player 0's stage reward
    terminal: NDArray[np.bool_],  # [S]
    initial: NDArray[np.float64],  # [S] start distribution
    gamma: float,
    q: NDArray[np.float64],  # [S, A, B] in/out
    visits: NDArray[np.int64],  # [S, A, B] in/out
    values: NDArray[np.float64],  # [S] in/out: val Q[s]
    x: NDArray[np.float64],  # [S, A] in/out: maximin strategy of Q[s]
    y: NDArray[np.float64],  # [S, B] in/out: minimax strategy of Q[s]
    counters: NDArray[np.int64],  # [3] in/out: current state, step within episode, global step
    key: np.uint64,
    steps: int,
    epsilon: float,
    omega: float,
    alpha_min: float,
    horizon: int,
) -> None:
    """Advance minimax-Q by ``steps`` environment steps, in place."""
    n_a, n_b = q.shape[1], q.shape[2]
    joint = n_a * n_b
    t_scratch = np.empty((n_a + 1, n_b + 1))
    rowlab = np.empty(n_a, dtype=np.int64)
    collab = np.empty(n_b, dtype=np.int64)
    s = counters[0]
    in_episode = counters[1]
    t = counters[2]
    for _ in range(steps):
        seed = stream_seed(key, t, 0)
        if draw_uniform(seed, 0, 0) < epsilon:
            a = min(n_a - 1, int(draw_uniform(seed, 1, 0) * n_a))
        else:
            a = pick_span(x[s], 0, n_a, draw_uniform(seed, 2, 0))
        if draw_uniform(seed, 3, 0) < epsilon:
            b = min(n_b - 1, int(draw_uniform(seed, 4, 0) * n_b))
        else:
            b = pick_span(y[s], 0, n_b, draw_uniform(seed, 5, 0))
        row = s * joint + a * n_b + b
        lo = indptr[row]
        k = lo + pick_span(data, lo, indptr[row + 1] - lo, draw_uniform(seed, 6, 0))
        nxt = indices[k]
        target = reward[s, a * n_b + b]
        if not terminal[nxt]:
            target += gamma * values[nxt]
        alpha = max(alpha_min, (1.0 + visits[s, a, b]) ** (-omega))
        visits[s, a, b] += 1
        q[s, a, b] += alpha * (target - q[s, a, b])
        v, _status = _solve_one(q[s], t_scratch, rowlab, collab, x[s], y[s], _MAX_PIVOTS, 1e-9)
        values[s] = v
        in_episode += 1
        t += 1
        if terminal[nxt] or in_episode >= horizon:
            nxt = pick_span(initial, 0, initial.shape[0], draw_uniform(seed, 7, 0))
            in_episode = 0
        s = nxt
    counters[0] = s
    counters[1] = in_episode
    counters[2] = t


def minimax_q_steps_numpy(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    reward: NDArray[np.float64],
    terminal: NDArray[np.bool_],
    initial: NDArray[np.float64],
    gamma: float,
    q: NDArray[np.float64],
    visits: NDArray[np.int64],
    values: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    counters: NDArray[np.int64],
    key: int,
    steps: int,
    epsilon: float,
    omega: float,
    alpha_min: float,
    horizon: int,
) -> None:
    """Plain-Python twin of :func:`minimax_q_steps` (same draws; games solved by the batched wrapper)."""
    n_a, n_b = q.shape[1], q.shape[2]
    s, in_episode, t = (int(c) for c in counters)

    def pick(probs: NDArray[np.float64], u: float) -> int:
        return pick_py(probs.tolist(), u)

    for _ in range(steps):
        seed = stream_seed_py(int(key), t, 0)
        a = (
            min(n_a - 1, int(draw_uniform_py(seed, 1, 0) * n_a))
            if draw_uniform_py(seed, 0, 0) < epsilon
            else pick(x[s], draw_uniform_py(seed, 2, 0))
        )
        b = (
            min(n_b - 1, int(draw_uniform_py(seed, 4, 0) * n_b))
            if draw_uniform_py(seed, 3, 0) < epsilon
            else pick(y[s], draw_uniform_py(seed, 5, 0))
        )
        row = s * n_a * n_b + a * n_b + b
        lo, hi = int(indptr[row]), int(indptr[row + 1])
        nxt = int(indices[lo + pick(data[lo:hi], draw_uniform_py(seed, 6, 0))])
        target = reward[s, a * n_b + b] + (0.0 if terminal[nxt] else gamma * values[nxt])
        alpha = max(alpha_min, (1.0 + visits[s, a, b]) ** (-omega))
        visits[s, a, b] += 1
        q[s, a, b] += alpha * (target - q[s, a, b])
        v, xs, ys = solve_matrix_games(q[s][None])
        values[s], x[s], y[s] = v[0], xs[0], ys[0]
        in_episode += 1
        t += 1
        if terminal[nxt] or in_episode >= horizon:
            nxt = pick(initial, draw_uniform_py(seed, 7, 0))
            in_episode = 0
        s = nxt
    counters[:] = (s, in_episode, t)
