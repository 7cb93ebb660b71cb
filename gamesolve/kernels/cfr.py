"""Counterfactual-regret kernels: one traversal, composable local update rules.

A CFR iteration for player ``i`` is

1. a forward pass computing ``opp[n]``, the reach of node ``n`` by chance and every player but ``i``;
2. a backward pass computing ``v[n]``, player ``i``'s expected utility below ``n`` under the current
   profile, while summing the counterfactual action values ``cfv[I, a] = sum_{h in I} opp[h] v[ha]``;
3. an infoset-level update of the cumulative regrets (``r = cfv - <sigma, cfv>``) by the configured
   rule, of the cumulative average strategy (weighted by the player's own reach and ``t**gamma``),
   and of the current strategy by regret matching.

The rule is described by scalars (one :class:`UpdateRule` named tuple) so that CFR, CFR+, linear
CFR, DCFR and predictive CFR+ all run through this one traversal (see :mod:`gamesolve.solvers.cfr`):

* ``floor_zero``: clip cumulative regrets at zero after every update (regret matching+);
* ``discount``: after adding, scale positive regrets by ``t^alpha / (t^alpha + 1)`` and negative
  ones by ``t^beta / (t^beta + 1)`` (DCFR; linear CFR is alpha = beta = 1);
* ``predictive``: play ``[R + r_last]^+`` instead of ``[R]^+`` (PCFR+);
* ``gamma``: the average strategy weight of iteration ``t`` is ``t^gamma``;
* ``alternating``: players update one after another within an iteration (else all at once).

Every kernel has a numpy twin in :mod:`gamesolve.kernels.cfr_numpy` used by the tests.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.layers import TreeLayers, counterfactual_values_layered
from gamesolve.kernels.passes import pull_values, push_opponent_reach
from gamesolve.kernels.tree import TreeArrays

__all__ = ["UpdateRule", "cfr_iteration", "counterfactual_values", "regret_matching"]


class UpdateRule(NamedTuple):
    """The scalars of a CFR variant's update (see the module docstring), one kernel argument."""

    alternating: bool
    floor_zero: bool
    discount: bool
    alpha: float
    beta: float
    gamma: float
    predictive: bool


@numba.njit(cache=True, nogil=True)
def regret_matching(
    tree: TreeArrays,
    regrets: NDArray[np.float64],  # [I, A]
    prediction: NDArray[np.float64],  # [I, A] added before matching when predictive
    predictive: bool,
    player: int,  # -1 for every player
    probs: NDArray[np.float64],  # [I, A] out
) -> None:
    """``probs[I] = [R_I (+ m_I)]^+ / sum``, uniform where no entry is positive."""
    for infoset in range(regrets.shape[0]):
        if player >= 0 and tree.infoset_player[infoset] != player:
            continue
        m = tree.infoset_num_actions[infoset]
        total = 0.0
        for j in range(m):
            r = regrets[infoset, j]
            if predictive:
                r += prediction[infoset, j]
            if r > 0.0:
                total += r
        if total > 0.0:
            for j in range(m):
                r = regrets[infoset, j]
                if predictive:
                    r += prediction[infoset, j]
                probs[infoset, j] = r / total if r > 0.0 else 0.0
        else:
            for j in range(m):
                probs[infoset, j] = 1.0 / m


@numba.njit(cache=True, nogil=True)
def counterfactual_values(
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A] current strategy
    player: int,
    opp: NDArray[np.float64],  # [N] scratch
    value: NDArray[np.float64],  # [N] scratch
    cfv: NDArray[np.float64],  # [I, A] out (rows of `player` overwritten)
) -> float:
    """Fill ``cfv`` for ``player``'s infosets; returns the root value for ``player``."""
    for infoset in range(cfv.shape[0]):
        if tree.infoset_player[infoset] == player:
            for j in range(tree.infoset_num_actions[infoset]):
                cfv[infoset, j] = 0.0
    n_nodes = tree.node_player.shape[0]
    opp[0] = 1.0
    push_opponent_reach(tree, probs, player, opp, 0, n_nodes)
    for t in range(tree.terminal_node.shape[0]):
        value[tree.terminal_node[t]] = tree.terminal_utility[t, player]
    pull_values(tree, probs, player, opp, value, cfv, 0, n_nodes)
    return value[0]


@numba.njit(cache=True, nogil=True)
def _update_player(
    tree: TreeArrays,
    rule: UpdateRule,
    player: int,
    t: int,
    cfv: NDArray[np.float64],  # [I, A]
    probs: NDArray[np.float64],  # [I, A] strategy used this iteration
    regrets: NDArray[np.float64],  # [I, A] in/out
    last_regret: NDArray[np.float64],  # [I, A] out: this iteration's instantaneous regret
    avg: NDArray[np.float64],  # [I, A] in/out: cumulative (weighted) strategy
    seq_reach: NDArray[np.float64],  # [S_player] scratch: own reach of each sequence
) -> None:
    """Regret and average-strategy update for one player's infosets (topological infoset order)."""
    floor_zero = rule.floor_zero
    discount = rule.discount
    weight = float(t) ** rule.gamma
    pos_scale = 1.0
    neg_scale = 1.0
    if discount:
        ta = float(t) ** rule.alpha
        tb = float(t) ** rule.beta
        pos_scale = ta / (ta + 1.0)
        neg_scale = tb / (tb + 1.0)
    seq_reach[0] = 1.0
    for infoset in range(tree.infoset_player.shape[0]):
        if tree.infoset_player[infoset] != player:
            continue
        m = tree.infoset_num_actions[infoset]
        own = seq_reach[tree.infoset_parent_seq[infoset]]
        first = tree.infoset_first_seq[infoset]
        ev = 0.0
        for j in range(m):
            ev += probs[infoset, j] * cfv[infoset, j]
        for j in range(m):
            p = probs[infoset, j]
            seq_reach[first + j] = own * p
            avg[infoset, j] += weight * own * p
            r = cfv[infoset, j] - ev
            last_regret[infoset, j] = r
            acc = regrets[infoset, j] + r
            if floor_zero and acc < 0.0:
                acc = 0.0
            if discount:
                acc *= pos_scale if acc > 0.0 else neg_scale
            regrets[infoset, j] = acc


@numba.njit(cache=True, nogil=True)
def cfr_iteration(
    tree: TreeArrays,
    rule: UpdateRule,
    t_first: int,  # number of the first iteration to run (iterations count from 1)
    count: int,  # how many iterations to run
    probs: NDArray[np.float64],  # [I, A] in/out: current strategy
    regrets: NDArray[np.float64],  # [I, A] in/out
    last_regret: NDArray[np.float64],  # [I, A] in/out
    avg: NDArray[np.float64],  # [I, A] in/out
    cfv: NDArray[np.float64],  # [I, A] scratch
    opp: NDArray[np.float64],  # [N] scratch
    value: NDArray[np.float64],  # [N] scratch
    seq_reach: NDArray[np.float64],  # [max sequences of a player] scratch
    root_values: NDArray[np.float64],  # [P] out: each player's value of the strategy it updated from
    layers: TreeLayers,  # chunks == 0: the serial pass; else the layered pass over numba's threads
    part: NDArray[np.float64],  # [chunks, I, A] scratch of the layered pass
) -> None:
    """``count`` full CFR iterations over every player (alternating or simultaneous updates).

    With ``layers.chunks > 0`` the traversal is
    :func:`~gamesolve.kernels.layers.counterfactual_values_layered` (the same numbers for every
    thread count; see :mod:`gamesolve.kernels.layers`); the updates are the same either way.
    """
    n_players = tree.terminal_utility.shape[1]
    alternating = rule.alternating
    layered = layers.chunks > 0
    for t in range(t_first, t_first + count):
        for p in range(n_players):
            if layered:
                root_values[p] = counterfactual_values_layered(tree, layers, probs, p, opp, value, cfv, part)
            else:
                root_values[p] = counterfactual_values(tree, probs, p, opp, value, cfv)
            # Alternating: player p updates right after its own pass. Simultaneous: every player
            # updates after the last pass (updating p only touches p's rows, so order is irrelevant).
            if not alternating and p < n_players - 1:
                continue
            for q in range(p if alternating else 0, p + 1):
                _update_player(tree, rule, q, t, cfv, probs, regrets, last_regret, avg, seq_reach)
                regret_matching(tree, regrets, last_regret, rule.predictive, q, probs)
