"""Monte Carlo CFR kernels: external sampling and outcome sampling on compiled game arrays.

Each kernel call runs ``count`` iterations; one iteration is one sampled traversal per player as
the *update player* (player 0, then 1, ...). The current strategy at every visited infoset is
regret matching on the cumulative regrets at that moment, computed on the fly. See
:mod:`gamesolve.solvers.mccfr` for the algorithms and what converges (Lanctot et al. 2009).

Randomness is counter-based: every draw is a pure function (a splitmix64-style hash) of a 64-bit
key, the iteration number, the update player, the node id and a draw index. Kernels therefore hold
no generator state, results do not depend on how iterations are split between calls, and a
checkpoint needs only the key and the iteration counter to resume bit-identically. The ``*_numpy``
twins are plain recursive Python implementations of the same estimators with the same draws (a
Python-integer version of the hash); they exist to test the kernels.

* :func:`external_sampling_iterations`: chance and the other players sample one action (chance from
  its distribution, players from the current strategy), the update player enumerates all of its
  actions; ``R(I, a) += v(a) - v``. The average strategy is "simple" averaging: at nodes of player
  ``(i + 1) mod n`` the current strategy is added once per visit.
* :func:`outcome_sampling_iterations`: one trajectory; the update player samples from
  ``q = epsilon * uniform + (1 - epsilon) * sigma``, everyone else from its own distribution. The
  baseline-free estimator ``v(a) = v_child / q(a)`` for the sampled ``a`` (0 otherwise) and
  ``v = sum_a sigma(a) v(a)`` gives ``R(I, a) += (pi_-i / q(h)) (v(a) - v)`` and
  ``avg(I, .) += (pi_i / q(h)) sigma(. | I)`` at the update player's infosets.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.tree import CHANCE, TERMINAL, TreeArrays

__all__ = [
    "draw_uniform",
    "draw_uniform_py",
    "external_sampling_iterations",
    "external_sampling_numpy",
    "max_depth",
    "outcome_sampling_iterations",
    "outcome_sampling_numpy",
    "stream_seed",
    "stream_seed_py",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53

_MASK = (1 << 64) - 1


# ------------------------------------------------------------------------------------ randomness


@numba.njit(cache=True, nogil=True)
def _mix64(z: np.uint64) -> np.uint64:
    """The splitmix64 finalizer: a bijection of 64-bit words with strong avalanche."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@numba.njit(cache=True, nogil=True)
def stream_seed(key: np.uint64, t: int, player: int) -> np.uint64:
    """Hash of ``(key, iteration, update player)``: the seed of one traversal's draws."""
    h = _mix64(np.uint64(key) ^ _GOLDEN)
    h = _mix64(h + np.uint64(t))
    return _mix64(h + np.uint64(player))


@numba.njit(cache=True, nogil=True)
def draw_uniform(seed: np.uint64, node: int, draw: int) -> float:
    """Uniform double in ``[0, 1)`` for draw ``draw`` at ``node`` of the traversal with ``seed``."""
    h = _mix64(np.uint64(seed) + np.uint64(node))
    h = _mix64(h + np.uint64(draw))
    return float(h >> _S11) * _TWO_M53


def _mix64_py(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def stream_seed_py(key: int, t: int, player: int) -> int:
    """Pure-Python :func:`stream_seed` (identical values)."""
    h = _mix64_py((int(key) & _MASK) ^ 0x9E3779B97F4A7C15)
    h = _mix64_py((h + t) & _MASK)
    return _mix64_py((h + player) & _MASK)


def draw_uniform_py(seed: int, node: int, draw: int) -> float:
    """Pure-Python :func:`draw_uniform` (identical values)."""
    h = _mix64_py((seed + node) & _MASK)
    h = _mix64_py((h + draw) & _MASK)
    return float(h >> 11) * _TWO_M53


# ---------------------------------------------------------------------------------------- helpers


@numba.njit(cache=True, nogil=True)
def max_depth(node_parent: NDArray[np.int32]) -> int:
    """Number of edges on the longest root-to-node path (needs ``parent < child``)."""
    n_nodes = node_parent.shape[0]
    depth = np.zeros(n_nodes, dtype=np.int32)  # [N]
    deepest = 0
    for n in range(1, n_nodes):
        d = depth[node_parent[n]] + 1
        depth[n] = d
        if d > deepest:
            deepest = d
    return deepest


@numba.njit(cache=True, nogil=True)
def _match(
    regrets: NDArray[np.float64],  # [I, A]
    infoset: int,
    m: int,
    out: NDArray[np.float64],  # [D, A] out: row `row`
    row: int,
) -> None:
    """Regret matching of one infoset into ``out[row, :m]``."""
    total = 0.0
    for k in range(m):
        r = regrets[infoset, k]
        if r > 0.0:
            total += r
    if total > 0.0:
        for k in range(m):
            r = regrets[infoset, k]
            out[row, k] = r / total if r > 0.0 else 0.0
    else:
        for k in range(m):
            out[row, k] = 1.0 / m


@numba.njit(cache=True, nogil=True)
def pick_span(values: NDArray[np.float64], start: int, m: int, u: float) -> int:
    """Inverse-CDF sample of an offset in ``[0, m)`` from ``values[start:start + m]``.

    ``u`` is uniform on ``[0, 1)``; zero-probability entries are never returned (rounding that
    leaves ``u`` above the total falls back to the last positive entry).
    """
    cum = 0.0
    last = 0
    for k in range(m):
        pk = values[start + k]
        if pk > 0.0:
            cum += pk
            last = k
            if u < cum:
                return k
    return last


# ------------------------------------------------------------------------------ external sampling


@numba.njit(cache=True, nogil=True)
def _es_descend(
    node: int,
    tree: TreeArrays,
    player: int,
    avg_player: int,
    seed: np.uint64,
    regrets: NDArray[np.float64],
    avg: NDArray[np.float64],
    policy: NDArray[np.float64],  # [D + 1, A] scratch; row `row` is free
    row: int,
) -> int:
    """Follow sampled chance and opponent edges from ``node`` to a terminal or an update-player node."""
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
            m = tree.infoset_num_actions[infoset]
            _match(regrets, infoset, m, policy, row)
            if pl == avg_player:
                for k in range(m):
                    avg[infoset, k] += policy[row, k]
            n = first + pick_span(policy[row], 0, m, u)


@numba.njit(cache=True, nogil=True)
def external_sampling_iterations(
    tree: TreeArrays,
    node_terminal: NDArray[np.int32],  # [N] terminal index of terminal nodes, -1 elsewhere
    key: np.uint64,
    t_first: int,  # number of the first iteration to run (iterations count from 1)
    count: int,  # how many iterations to run
    regrets: NDArray[np.float64],  # [I, A] in/out: cumulative regrets
    avg: NDArray[np.float64],  # [I, A] in/out: cumulative strategy
    frame_node: NDArray[np.int32],  # [D] scratch: update-player node of each stack frame
    frame_next: NDArray[np.int32],  # [D] scratch: next child slot to expand
    frame_policy: NDArray[np.float64],  # [D + 1, A] scratch: strategy at each frame (+ a spare row)
    frame_values: NDArray[np.float64],  # [D, A] scratch: sampled value of each child
) -> None:
    """``count`` external-sampling MCCFR iterations (one traversal per update player each).

    The traversal is depth first with an explicit stack holding only the update player's nodes:
    chains of chance and opponent nodes are followed by sampling, so a frame's child value is the
    value of the terminal or update-player node the sampled chain reaches.
    """
    n_players = tree.terminal_utility.shape[1]
    for t in range(t_first, t_first + count):
        for p in range(n_players):
            seed = stream_seed(key, t, p)
            avg_player = (p + 1) % n_players
            top = 0
            n = _es_descend(0, tree, p, avg_player, seed, regrets, avg, frame_policy, top)
            if tree.node_player[n] == TERMINAL:
                continue
            frame_node[top] = n
            frame_next[top] = 0
            _match(regrets, tree.node_infoset[n], tree.node_num_children[n], frame_policy, top)
            while top >= 0:
                n = frame_node[top]
                j = frame_next[top]
                m = tree.node_num_children[n]
                if j < m:
                    frame_next[top] = j + 1
                    c = _es_descend(
                        tree.node_first_child[n] + j,
                        tree,
                        p,
                        avg_player,
                        seed,
                        regrets,
                        avg,
                        frame_policy,
                        top + 1,
                    )
                    if tree.node_player[c] == TERMINAL:
                        frame_values[top, j] = tree.terminal_utility[node_terminal[c], p]
                    else:
                        top += 1
                        frame_node[top] = c
                        frame_next[top] = 0
                        _match(regrets, tree.node_infoset[c], tree.node_num_children[c], frame_policy, top)
                else:
                    infoset = tree.node_infoset[n]
                    v = 0.0
                    for k in range(m):
                        v += frame_policy[top, k] * frame_values[top, k]
                    for k in range(m):
                        regrets[infoset, k] += frame_values[top, k] - v
                    top -= 1
                    if top >= 0:
                        frame_values[top, frame_next[top] - 1] = v


# ------------------------------------------------------------------------------- outcome sampling


@numba.njit(cache=True, nogil=True)
def outcome_sampling_iterations(
    tree: TreeArrays,
    node_terminal: NDArray[np.int32],  # [N] terminal index of terminal nodes, -1 elsewhere
    key: np.uint64,
    t_first: int,  # number of the first iteration to run (iterations count from 1)
    count: int,  # how many iterations to run
    epsilon: float,  # exploration at the update player's nodes, in (0, 1]
    regrets: NDArray[np.float64],  # [I, A] in/out: cumulative regrets
    avg: NDArray[np.float64],  # [I, A] in/out: cumulative strategy
    path_infoset: NDArray[np.int32],  # [D] scratch: update-player infosets on the trajectory
    path_slot: NDArray[np.int32],  # [D] scratch: sampled slot at each
    path_q: NDArray[np.float64],  # [D] scratch: sampling probability of that slot
    path_own: NDArray[np.float64],  # [D] scratch: update player's own reach pi_i(h)
    path_opp: NDArray[np.float64],  # [D] scratch: reach of chance and the others pi_-i(h)
    path_sample: NDArray[np.float64],  # [D] scratch: sampling reach q(h)
    path_policy: NDArray[np.float64],  # [D + 1, A] scratch: strategy at each (+ a spare row)
) -> None:
    """``count`` outcome-sampling MCCFR iterations (one trajectory per update player each).

    The trajectory is sampled top-down while the update player's nodes are recorded; the
    baseline-free estimates are then propagated bottom-up through the recorded nodes only (at
    chance and opponent nodes the estimate passes through unchanged, as ``q = sigma`` there).
    """
    n_players = tree.terminal_utility.shape[1]
    for t in range(t_first, t_first + count):
        for p in range(n_players):
            seed = stream_seed(key, t, p)
            own = 1.0
            opp = 1.0
            sample = 1.0
            depth = 0
            n = 0
            while True:
                pl = tree.node_player[n]
                if pl == TERMINAL:
                    break
                first = tree.node_first_child[n]
                u = draw_uniform(seed, n, 0)
                if pl == CHANCE:
                    j = pick_span(tree.node_prob, first, tree.node_num_children[n], u)
                    pr = tree.node_prob[first + j]
                    opp *= pr
                    sample *= pr
                elif pl == p:
                    infoset = tree.node_infoset[n]
                    m = tree.infoset_num_actions[infoset]
                    _match(regrets, infoset, m, path_policy, depth)
                    # Sampling distribution in the spare row, then the sampled slot's weight.
                    spare = path_policy.shape[0] - 1
                    for k in range(m):
                        path_policy[spare, k] = epsilon / m + (1.0 - epsilon) * path_policy[depth, k]
                    j = pick_span(path_policy[spare], 0, m, u)
                    q = path_policy[spare, j]
                    path_infoset[depth] = infoset
                    path_slot[depth] = j
                    path_q[depth] = q
                    path_own[depth] = own
                    path_opp[depth] = opp
                    path_sample[depth] = sample
                    own *= path_policy[depth, j]
                    sample *= q
                    depth += 1
                else:
                    infoset = tree.node_infoset[n]
                    m = tree.infoset_num_actions[infoset]
                    spare = path_policy.shape[0] - 1
                    _match(regrets, infoset, m, path_policy, spare)
                    j = pick_span(path_policy[spare], 0, m, u)
                    pr = path_policy[spare, j]
                    opp *= pr
                    sample *= pr
                n = first + j
            value = tree.terminal_utility[node_terminal[n], p]
            for d in range(depth - 1, -1, -1):
                infoset = path_infoset[d]
                m = tree.infoset_num_actions[infoset]
                j = path_slot[d]
                child = value / path_q[d]
                value = path_policy[d, j] * child
                w = path_opp[d] / path_sample[d]
                for k in range(m):
                    action_value = child if k == j else 0.0
                    regrets[infoset, k] += w * (action_value - value)
                w = path_own[d] / path_sample[d]
                for k in range(m):
                    avg[infoset, k] += w * path_policy[d, k]


# ------------------------------------------------------------------------------------------ twins


def _match_py(regrets: NDArray[np.float64], infoset: int, m: int) -> list[float]:
    row = [float(regrets[infoset, k]) for k in range(m)]
    total = 0.0
    for r in row:
        if r > 0.0:
            total += r
    if total > 0.0:
        return [r / total if r > 0.0 else 0.0 for r in row]
    return [1.0 / m] * m


def pick_py(probs: list[float], u: float) -> int:
    """Plain-Python :func:`pick_span` over a list (same draws, same fallback)."""
    cum = 0.0
    last = 0
    for k, pk in enumerate(probs):
        if pk > 0.0:
            cum += pk
            last = k
            if u < cum:
                return k
    return last


def external_sampling_numpy(
    tree: TreeArrays,
    key: int,
    t_first: int,
    count: int,
    regrets: NDArray[np.float64],  # [I, A] in/out
    avg: NDArray[np.float64],  # [I, A] in/out
) -> None:
    """Recursive pure-Python twin of :func:`external_sampling_iterations` (same draws)."""
    node_player, node_infoset, node_prob = tree.node_player, tree.node_infoset, tree.node_prob
    node_first_child, node_num_children = tree.node_first_child, tree.node_num_children
    terminal_utility = tree.terminal_utility
    n_players = terminal_utility.shape[1]
    terminal_of = {int(n): i for i, n in enumerate(tree.terminal_node)}

    def traverse(n: int, p: int, seed: int) -> float:
        pl = int(node_player[n])
        if pl == TERMINAL:
            return float(terminal_utility[terminal_of[n], p])
        first = int(node_first_child[n])
        m = int(node_num_children[n])
        if pl == CHANCE:
            probs = [float(node_prob[first + k]) for k in range(m)]
            return traverse(first + pick_py(probs, draw_uniform_py(seed, n, 0)), p, seed)
        infoset = int(node_infoset[n])
        policy = _match_py(regrets, infoset, m)
        if pl != p:
            if pl == (p + 1) % n_players:
                for k in range(m):
                    avg[infoset, k] += policy[k]
            return traverse(first + pick_py(policy, draw_uniform_py(seed, n, 0)), p, seed)
        values = [traverse(first + k, p, seed) for k in range(m)]
        v = 0.0
        for k in range(m):
            v += policy[k] * values[k]
        for k in range(m):
            regrets[infoset, k] += values[k] - v
        return v

    for t in range(t_first, t_first + count):
        for p in range(n_players):
            traverse(0, p, stream_seed_py(key, t, p))


def outcome_sampling_numpy(
    tree: TreeArrays,
    key: int,
    t_first: int,
    count: int,
    epsilon: float,
    regrets: NDArray[np.float64],  # [I, A] in/out
    avg: NDArray[np.float64],  # [I, A] in/out
) -> None:
    """Recursive pure-Python twin of :func:`outcome_sampling_iterations` (same draws).

    Written as the textbook episode: every node returns its baseline-free value estimate
    ``sum_a sigma(a) v(a)`` with ``v(a) = v_child / q(a)`` for the sampled action, 0 otherwise.
    """
    node_player, node_infoset, node_prob = tree.node_player, tree.node_infoset, tree.node_prob
    node_first_child, node_num_children = tree.node_first_child, tree.node_num_children
    terminal_utility = tree.terminal_utility
    n_players = terminal_utility.shape[1]
    terminal_of = {int(n): i for i, n in enumerate(tree.terminal_node)}

    def episode(n: int, p: int, seed: int, own: float, opp: float, sample: float) -> float:
        pl = int(node_player[n])
        if pl == TERMINAL:
            return float(terminal_utility[terminal_of[n], p])
        first = int(node_first_child[n])
        m = int(node_num_children[n])
        u = draw_uniform_py(seed, n, 0)
        if pl == CHANCE:
            probs = [float(node_prob[first + k]) for k in range(m)]
            j = pick_py(probs, u)
            return episode(first + j, p, seed, own, opp * probs[j], sample * probs[j])
        infoset = int(node_infoset[n])
        policy = _match_py(regrets, infoset, m)
        if pl != p:
            j = pick_py(policy, u)
            # q = sigma here, so sigma(j) * (v_child / q(j)) is v_child itself.
            return episode(first + j, p, seed, own, opp * policy[j], sample * policy[j])
        q = [epsilon / m + (1.0 - epsilon) * policy[k] for k in range(m)]
        j = pick_py(q, u)
        child = episode(first + j, p, seed, own * policy[j], opp, sample * q[j]) / q[j]
        values: list[Any] = [0.0] * m
        values[j] = child
        v = policy[j] * child
        w = opp / sample
        for k in range(m):
            regrets[infoset, k] += w * (values[k] - v)
        w = own / sample
        for k in range(m):
            avg[infoset, k] += w * policy[k]
        return v

    for t in range(t_first, t_first + count):
        for p in range(n_players):
            episode(0, p, stream_seed_py(key, t, p), 1.0, 1.0, 1.0)
