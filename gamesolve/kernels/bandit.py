"""Trajectory-feedback FTRL kernels: Balanced FTRL and Adaptive FTRL on compiled game arrays.

:func:`ftrl_episodes` runs ``count`` episodes of self-play with trajectory (bandit) feedback
(Fiegel, Ménard, Kozuno, Munos, Perchet & Valko 2023, "Adapting to game trees in zero-sum imperfect
information games", ICML); :mod:`gamesolve.solvers.bandit_ftrl` describes the algorithms and what
converges. An episode samples one trajectory from both players' current policies, charges each
player's implicit-exploration loss estimate to its last visited pair and updates the visited
infosets only, bottom-up along the trajectory. The average plan is kept lazily (:func:`_sync`), so
an episode costs ``O(path length)`` and reading the average (:func:`average_plan`) ``O(#sequences)``.

Randomness is counter-based (the hash of :mod:`gamesolve.kernels.mccfr`): an episode's draws are a
function of the key, the episode number and the node, so results do not depend on how episodes are
split between calls and a checkpoint resumes bit-identically. :func:`ftrl_episodes_py` is a
plain-Python twin with the same draws, used to test the kernel.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.mccfr import draw_uniform, draw_uniform_py, stream_seed, stream_seed_py
from gamesolve.kernels.mccfr import pick_py as _pick
from gamesolve.kernels.tree import CHANCE, TERMINAL, TreeArrays

__all__ = [
    "EpisodeSetup",
    "average_plan",
    "average_plan_py",
    "ftrl_episodes",
    "ftrl_episodes_py",
]


class EpisodeSetup(NamedTuple):
    """The per-run constants of :func:`ftrl_episodes` (read only), one kernel argument."""

    node_terminal: NDArray[np.int32]  # [N] terminal index of terminal nodes, -1 elsewhere
    global_seq: NDArray[np.int64]  # [I] global sequence id of each infoset's slot 0
    parent_global: NDArray[np.int64]  # [I] global id of the parent sequence, -1 if empty
    utility_min: NDArray[np.float64]  # [P] smallest terminal utility of each player
    utility_max: NDArray[np.float64]  # [P] largest
    eta_scale: NDArray[np.float64]  # [P] learning-rate scale of each player
    gamma_scale: NDArray[np.float64]  # [P] implicit-exploration scale of each player
    inv_pstar: NDArray[np.float64]  # [I] 1 / p*_{1:}(x) (balanced; ignored when adaptive)
    ref_logits: NDArray[np.float64]  # [I, A] ln of the reference policy (rescaling target)
    adaptive: bool  # Adaptive FTRL (else Balanced FTRL)
    horizon: int  # known number of episodes, or 0 for anytime rates


# ---------------------------------------------------------------------------------------- kernels


@numba.njit(cache=True, nogil=True)
def _sync(
    cum: NDArray[np.float64],  # [S] in/out: cumulative plan by global sequence id
    logits: NDArray[np.float64],  # [I, A]
    infoset: int,
    m: int,
    first: int,  # global sequence id of slot 0
    parent_total: float,  # current cumulative plan of the parent sequence
) -> None:
    """Bring ``cum`` of ``infoset``'s sequences up to date (the lazy, exact average).

    The policy at an infoset changes only when the infoset is visited, so between two visits every
    episode adds ``mu_{1:}(p(x)) mu(. | x)`` with the same ``mu(. | x)``. The missing mass is
    therefore ``cum[p(x)] - sum_b cum[x, b]``, spread by ``mu(. | x)``; this is exact when
    ``cum[p(x)]`` is itself current, which synchronizing top-down (parents first) guarantees.
    """
    have = 0.0
    for k in range(m):
        have += cum[first + k]
    missing = parent_total - have
    for k in range(m):
        cum[first + k] += missing * math.exp(logits[infoset, k])


@numba.njit(cache=True, nogil=True)
def ftrl_episodes(
    tree: TreeArrays,
    setup: EpisodeSetup,
    key: np.uint64,
    t_first: int,  # number of the first episode to run (episodes count from 1)
    count: int,  # how many episodes to run
    logits: NDArray[np.float64],  # [I, A] in/out: normalized log-policy
    rate: NDArray[np.float64],  # [I] in/out: eta_x the logits are expressed in (0: never visited)
    cum: NDArray[np.float64],  # [S] in/out: lazily synchronized cumulative plan
    count_x: NDArray[np.float64],  # [I] in/out (adaptive): P[x]
    count_xa: NDArray[np.float64],  # [I, A] in/out (adaptive): P[x, a]
    path_infoset: NDArray[np.int32],  # [D] scratch: visited infosets
    path_slot: NDArray[np.int32],  # [D] scratch: sampled slot at each
    path_plan: NDArray[np.float64],  # [D] scratch: mu_{1:}(x, a) of the visited pair
) -> None:
    """Run ``count`` episodes of Balanced FTRL (``adaptive=False``) or Adaptive FTRL.

    Per episode ``t``: sample a trajectory (synchronizing each visited infoset's average on the way
    down and recording the visited pairs with their plan ``mu_{1:}(x, a)``); turn each player's
    terminal reward into the loss ``l = (r_max - r) / (r_max - r_min)`` and charge ``l / (mu_{1:}(x,
    a) + gamma_x)`` to its last visited pair; then, bottom-up along the trajectory, rescale the
    logits toward ``ref_logits`` when the infoset's rate changed (``theta <- rho theta + (1 - rho)
    theta_ref``, ``rho = eta_new / eta_old``), add ``-eta_x (l_tilde - V)`` to the visited logit
    (``V`` passed up by the player's next infoset), renormalize and pass ``V = ln Z / eta_x`` up.
    With fixed rates this is the local closed form of FTRL with the dilated KL regularizer weighted
    by ``1 / eta_x``.

    Rates (``T_eff`` is ``horizon`` when positive, else ``t``): balanced ``eta_x = eta_scale /
    sqrt(T_eff) / p*_{1:}(x)`` and the same for ``gamma_x``; adaptive ``eta_x = eta_scale sqrt(T_eff)
    / P[x]`` and ``gamma_{x,a} = gamma_scale sqrt(T_eff) / P[x, a]`` with the importance-weighted
    counts ``P[x, a] = 1 + sum_s 1{(x, a) visited} / (mu^s_{1:}(x, a) + gamma^s_{x,a})`` and ``P[x]
    = 1 + sum_s (1 / |A_x|) 1{x visited} / (...)``, which grow at visits only.
    """
    n_players = tree.terminal_utility.shape[1]
    reach = np.ones(n_players)  # [P]
    value = np.zeros(n_players)  # [P]
    charged = np.zeros(n_players, dtype=np.bool_)  # [P]
    for t in range(t_first, t_first + count):
        seed = stream_seed(key, t, 0)
        t_eff = setup.horizon if setup.horizon > 0 else t
        root_t = math.sqrt(t_eff)
        for p in range(n_players):
            reach[p] = 1.0
            value[p] = 0.0
            charged[p] = False
        # ---- sample the episode top-down, synchronizing the visited infosets' averages
        depth = 0
        n = 0
        while tree.node_player[n] != TERMINAL:
            first = tree.node_first_child[n]
            m = tree.node_num_children[n]
            u = draw_uniform(seed, n, 0)
            if tree.node_player[n] == CHANCE:
                cumulative = 0.0
                j = 0
                for k in range(m):
                    pk = tree.node_prob[first + k]
                    if pk > 0.0:
                        cumulative += pk
                        j = k
                        if u < cumulative:
                            break
                n = first + j
                continue
            x = tree.node_infoset[n]
            p = tree.infoset_player[x]
            parent = setup.parent_global[x]
            total = float(t) if parent < 0 else cum[parent]
            _sync(cum, logits, x, m, setup.global_seq[x], total)
            cumulative = 0.0
            j = 0
            for k in range(m):
                pk = math.exp(logits[x, k])
                if pk > 0.0:
                    cumulative += pk
                    j = k
                    if u < cumulative:
                        break
            reach[p] *= math.exp(logits[x, j])
            path_infoset[depth] = x
            path_slot[depth] = j
            path_plan[depth] = reach[p]
            depth += 1
            n = first + j
        utility = tree.terminal_utility[setup.node_terminal[n]]
        # ---- update bottom-up along the trajectory
        for d in range(depth - 1, -1, -1):
            x = path_infoset[d]
            j = path_slot[d]
            plan = path_plan[d]
            p = tree.infoset_player[x]
            m = tree.infoset_num_actions[x]
            loss = 0.0
            if not charged[p]:
                charged[p] = True
                spread = setup.utility_max[p] - setup.utility_min[p]
                if spread > 0.0:
                    loss = (setup.utility_max[p] - utility[p]) / spread
            if setup.adaptive:
                gamma_x = setup.gamma_scale[p] * root_t / count_xa[x, j]
                bump = 1.0 / (plan + gamma_x)
                count_xa[x, j] += bump
                count_x[x] += bump / m
                eta_x = setup.eta_scale[p] * root_t / count_x[x]
            else:
                gamma_x = setup.gamma_scale[p] / root_t * setup.inv_pstar[x]
                eta_x = setup.eta_scale[p] / root_t * setup.inv_pstar[x]
            estimate = loss / (plan + gamma_x)
            old = rate[x]
            if old > 0.0 and old != eta_x:
                rho = eta_x / old
                for k in range(m):
                    logits[x, k] = rho * logits[x, k] + (1.0 - rho) * setup.ref_logits[x, k]
            rate[x] = eta_x
            logits[x, j] -= eta_x * (estimate - value[p])
            top = logits[x, 0]
            for k in range(1, m):
                top = max(top, logits[x, k])
            z = 0.0
            for k in range(m):
                z += math.exp(logits[x, k] - top)
            log_z = top + math.log(z)
            for k in range(m):
                logits[x, k] -= log_z
            value[p] = log_z / eta_x


@numba.njit(cache=True, nogil=True)
def average_plan(
    infoset_num_actions: NDArray[np.int32],  # [I]
    infoset_global_seq: NDArray[np.int64],  # [I]
    infoset_parent_global: NDArray[np.int64],  # [I]
    logits: NDArray[np.float64],  # [I, A]
    t: int,  # episodes done
    cum: NDArray[np.float64],  # [S] in/out: synchronized in place (pass a copy)
    out: NDArray[np.float64],  # [I, A] out: average behavior policy
) -> None:
    """Synchronize every infoset's cumulative plan (parents first) and normalize it by infoset.

    Rows with no mass (only before the first episode) get the current policy.
    """
    for x in range(infoset_num_actions.shape[0]):
        m = infoset_num_actions[x]
        first = infoset_global_seq[x]
        parent = infoset_parent_global[x]
        total = float(t) if parent < 0 else cum[parent]
        _sync(cum, logits, x, m, first, total)
        mass = 0.0
        for k in range(m):
            mass += max(cum[first + k], 0.0)
        for k in range(m):
            out[x, k] = max(cum[first + k], 0.0) / mass if mass > 0.0 else math.exp(logits[x, k])


# ------------------------------------------------------------------------------------------ twins


def _sync_py(cum: NDArray[np.float64], row: list[float], first: int, total: float) -> None:
    missing = total - sum(float(cum[first + k]) for k in range(len(row)))
    for k, pk in enumerate(row):
        cum[first + k] += missing * pk


def ftrl_episodes_py(
    tree: TreeArrays,
    setup: EpisodeSetup,
    key: int,
    t_first: int,
    count: int,
    logits: NDArray[np.float64],  # [I, A] in/out
    rate: NDArray[np.float64],  # [I] in/out
    cum: NDArray[np.float64],  # [S] in/out
    count_x: NDArray[np.float64],  # [I] in/out
    count_xa: NDArray[np.float64],  # [I, A] in/out
    record: list[tuple[list[tuple[int, int, float]], NDArray[np.float64]]] | None = None,
) -> None:
    """Plain-Python twin of :func:`ftrl_episodes` (same draws), written as the textbook episode.

    The episode is a list of visited pairs ``(infoset, slot, mu_{1:}(x, a))``; when ``record`` is a
    list, each episode's pairs and terminal utilities are appended to it (for tests).
    """
    node_player, node_infoset, node_prob = tree.node_player, tree.node_infoset, tree.node_prob
    node_first_child, node_num_children = tree.node_first_child, tree.node_num_children
    terminal_utility = tree.terminal_utility
    infoset_player, infoset_num_actions = tree.infoset_player, tree.infoset_num_actions
    n_players = terminal_utility.shape[1]
    for t in range(t_first, t_first + count):
        seed = stream_seed_py(key, t, 0)
        t_eff = setup.horizon if setup.horizon > 0 else t
        root_t = math.sqrt(t_eff)
        reach = [1.0] * n_players
        visited: list[tuple[int, int, float]] = []
        n = 0
        while int(node_player[n]) != TERMINAL:
            first = int(node_first_child[n])
            u = draw_uniform_py(seed, n, 0)
            if int(node_player[n]) == CHANCE:
                probs = [float(node_prob[first + k]) for k in range(int(node_num_children[n]))]
                n = first + _pick(probs, u)
                continue
            x = int(node_infoset[n])
            p = int(infoset_player[x])
            m = int(infoset_num_actions[x])
            row = [math.exp(float(logits[x, k])) for k in range(m)]
            parent = int(setup.parent_global[x])
            _sync_py(cum, row, int(setup.global_seq[x]), float(t) if parent < 0 else float(cum[parent]))
            j = _pick(row, u)
            reach[p] *= row[j]
            visited.append((x, j, reach[p]))
            n = first + j
        utility = terminal_utility[int(setup.node_terminal[n])]
        if record is not None:
            record.append((list(visited), np.array(utility, dtype=np.float64)))
        value = [0.0] * n_players
        charged = [False] * n_players
        for x, j, plan in reversed(visited):
            p = int(infoset_player[x])
            m = int(infoset_num_actions[x])
            loss = 0.0
            if not charged[p]:
                charged[p] = True
                spread = float(setup.utility_max[p] - setup.utility_min[p])
                if spread > 0.0:
                    loss = float(setup.utility_max[p] - utility[p]) / spread
            if setup.adaptive:
                gamma_x = float(setup.gamma_scale[p]) * root_t / float(count_xa[x, j])
                bump = 1.0 / (plan + gamma_x)
                count_xa[x, j] += bump
                count_x[x] += bump / m
                eta_x = float(setup.eta_scale[p]) * root_t / float(count_x[x])
            else:
                gamma_x = float(setup.gamma_scale[p]) / root_t * float(setup.inv_pstar[x])
                eta_x = float(setup.eta_scale[p]) / root_t * float(setup.inv_pstar[x])
            estimate = loss / (plan + gamma_x)
            old = float(rate[x])
            theta = [float(logits[x, k]) for k in range(m)]
            if old > 0.0 and old != eta_x:
                rho = eta_x / old
                theta = [rho * theta[k] + (1.0 - rho) * float(setup.ref_logits[x, k]) for k in range(m)]
            rate[x] = eta_x
            theta[j] -= eta_x * (estimate - value[p])
            top = max(theta)
            log_z = top + math.log(sum(math.exp(v - top) for v in theta))
            for k in range(m):
                logits[x, k] = theta[k] - log_z
            value[p] = log_z / eta_x


def average_plan_py(
    infoset_num_actions: NDArray[np.int32],
    infoset_global_seq: NDArray[np.int64],
    infoset_parent_global: NDArray[np.int64],
    logits: NDArray[np.float64],
    t: int,
    cum: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Plain-Python twin of :func:`average_plan` (returns the ``[I, A]`` average policy)."""
    out = np.zeros_like(logits)
    for x in range(infoset_num_actions.shape[0]):
        m = int(infoset_num_actions[x])
        first = int(infoset_global_seq[x])
        parent = int(infoset_parent_global[x])
        row = [math.exp(float(logits[x, k])) for k in range(m)]
        _sync_py(cum, row, first, float(t) if parent < 0 else float(cum[parent]))
        plan = np.maximum(cum[first : first + m], 0.0)
        out[x, :m] = plan / plan.sum() if plan.sum() > 0 else row
    return out
