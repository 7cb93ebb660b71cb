"""Treeplex kernels for first-order methods with the dilated entropy (two-player zero-sum games).

The prox step of the dilated entropy ``psi(x) = sum_I w_I x(p(I)) sum_a b(a|I) ln b(a|I)`` splits
into one softmax per infoset, taken bottom-up (Hoda, Gilpin, Peña & Sandholm 2010, "Smoothing
techniques for computing Nash equilibria of sequential games", Mathematics of Operations Research
35; Farina, Kroer & Sandholm 2019, "Optimistic regret minimization for extensive-form games via
dilated distance-generating functions", NeurIPS). The kernels are the pieces of that computation on
the compiled game's :class:`~gamesolve.kernels.tree.TreeArrays` (``S`` sequences of both players,
numbered globally with ``tree.seq_offset``; ``I`` infosets; ``A`` slots) and the sparse payoff
matrices (:class:`SparsePayoffs`):

* :func:`sequence_losses`, :func:`sequence_losses_sparse`: each player's sequence-form loss against
  the other's strategy (``<loss_i, x_i>`` is minus player ``i``'s expected utility);
* :func:`local_softmax`: the bottom-up update shared by OMD, FTRL, magnetic mirror descent and the
  regularized best response;
* :func:`sequence_form`, :func:`behavior_from_sequence`: ``x(Ia) = x(p(I)) b(a|I)`` and back;
  averages are taken in sequence form (reach-weighted);
* :func:`omd_iterations`, :func:`mmd_iterations`, :func:`mirror_prox_iterations`: ``count``
  iterations of a method in one call, for :mod:`gamesolve.solvers.dilated`.

Strategies are kept as log-probabilities next to the probabilities, so repeated multiplicative steps
never underflow into an absorbing zero; padding slots are never read or written. Every kernel has a
plain-numpy twin (``*_numpy``) used by the tests.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.evaluation import reach_numpy
from gamesolve.kernels.tree import CHANCE, TERMINAL, TreeArrays

__all__ = [
    "MMDRule",
    "OMDRule",
    "SparsePayoffs",
    "Workspace",
    "behavior_from_sequence",
    "behavior_from_sequence_numpy",
    "chance_and_uniform_reach",
    "chance_and_uniform_reach_numpy",
    "local_softmax",
    "local_softmax_numpy",
    "mirror_prox_iterations",
    "mmd_iterations",
    "mmd_step_numpy",
    "moving_magnet",
    "omd_iterations",
    "sequence_form",
    "sequence_form_numpy",
    "sequence_losses",
    "sequence_losses_numpy",
    "sequence_losses_sparse",
]


class SparsePayoffs(NamedTuple):
    """The chance-weighted sequence-form payoff matrices ``A_0`` [S0, S1] and ``A_1^T`` [S1, S0] in CSR.

    Indices are unsigned (``indptr`` uint64, ``indices`` uint32 or uint64), so numba emits no
    negative-index checks in the inner loops; ``data`` is float64.
    """

    a0_indptr: NDArray[np.uint64]  # [S0 + 1]
    a0_indices: NDArray[np.unsignedinteger[Any]]  # [nnz] column (player 1 sequence)
    a0_data: NDArray[np.float64]  # [nnz] chance-weighted utility of player 0
    a1t_indptr: NDArray[np.uint64]  # [S1 + 1]
    a1t_indices: NDArray[np.unsignedinteger[Any]]  # [nnz] column (player 0 sequence)
    a1t_data: NDArray[np.float64]  # [nnz] chance-weighted utility of player 1


class Workspace(NamedTuple):
    """Scratch arrays of the drivers (``S`` sequences); their contents are never read back."""

    below: NDArray[np.float64]  # [S] values of the infosets below each sequence
    seq: NDArray[np.float64]  # [S] realization plans
    target: NDArray[np.float64]  # [S] FTRL's cumulative (+ predicted) loss
    below_played: NDArray[np.float64]  # [S] values below each sequence, optimistic played update
    root_values: NDArray[np.float64]  # [2]


class OMDRule(NamedTuple):
    """The scalars of :func:`omd_iterations`."""

    eta: float
    sqrt_schedule: bool  # eta_t = eta / sqrt(t) instead of eta
    lazy: bool  # FTRL (cumulative loss from log_start) instead of OMD (current loss from the iterate)
    optimistic: bool  # add the last loss as a prediction
    alternating: bool  # player 1 responds to player 0's new strategy within an iteration


class MMDRule(NamedTuple):
    """The scalars of :func:`mmd_iterations`."""

    eta: float
    alpha: float
    alpha_power: float  # alpha_t = alpha / t ** alpha_power (0: fixed temperature)
    magnet_rate: float  # moving magnet rate lambda (0: fixed magnet)
    magnet_every: int  # move the magnet after every magnet_every-th iteration (t % magnet_every == 0)
    optimistic: bool  # optimistic MMD: play prox(base_t, l_t), base_t = prox(base_{t-1}, l_t)
    alternating: bool  # player 1 responds to player 0's new strategy within an iteration


# ----------------------------------------------------------------------------- building blocks


@numba.njit(cache=True, nogil=True)
def chance_and_uniform_reach(
    tree: TreeArrays,
    chance: NDArray[np.float64],  # [N] out: product of the chance probabilities above each node
    uniform: NDArray[np.float64],  # [N] out: reach when every player plays uniformly
) -> None:
    """Each node's chance reach and uniform-play reach, in one forward pass (``parent < child``)."""
    n_nodes = tree.node_player.shape[0]
    if n_nodes == 0:
        return
    chance[0] = 1.0
    uniform[0] = 1.0
    for n in range(n_nodes):
        player = tree.node_player[n]
        if player == TERMINAL:
            continue
        first = tree.node_first_child[n]
        k = tree.node_num_children[n]
        for c in range(first, first + k):
            if player == CHANCE:
                chance[c] = chance[n] * tree.node_prob[c]
                uniform[c] = uniform[n] * tree.node_prob[c]
            else:
                chance[c] = chance[n]
                uniform[c] = uniform[n] / k


def chance_and_uniform_reach_numpy(tree: TreeArrays) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Twin of :func:`chance_and_uniform_reach`: the same products, one depth level at a time."""
    node_player, node_prob = tree.node_player, tree.node_prob
    node_first_child, node_num_children = tree.node_first_child, tree.node_num_children
    n_nodes = node_player.shape[0]
    chance = np.zeros(n_nodes)
    uniform = np.zeros(n_nodes)
    if n_nodes == 0:
        return chance, uniform
    chance[0] = uniform[0] = 1.0
    parent = np.full(n_nodes, -1, dtype=np.int64)
    inner = np.flatnonzero(node_player != TERMINAL)
    counts = np.asarray(node_num_children)[inner].astype(np.int64)
    children = np.repeat(np.asarray(node_first_child)[inner].astype(np.int64), counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    parent[children] = np.repeat(inner, counts)
    frontier = np.array([0])
    while frontier.size:
        kids = np.flatnonzero(np.isin(parent, frontier))
        if not kids.size:
            break
        up = parent[kids]
        at_chance = node_player[up] == CHANCE
        factor = np.where(at_chance, node_prob[kids], 1.0)
        chance[kids] = chance[up] * factor
        width = np.asarray(node_num_children)[up]
        uniform[kids] = uniform[up] * np.where(at_chance, node_prob[kids], 1.0 / width)
        frontier = kids
    return chance, uniform


@numba.njit(cache=True, nogil=True)
def sequence_losses(
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A] behavior profile of both players
    player: int,  # 0, 1, or -1 for both
    weight: NDArray[np.float64],  # [N, 2] scratch: chance x opponent reach, per player
    loss: NDArray[np.float64],  # [S] out (the blocks of the requested players are overwritten)
) -> None:
    """Sequence-form loss of ``player`` (or both) against the other's behavior in ``probs``.

    ``loss[s] = -sum_{z: seq_i(z) = s} chance(z) reach_{-i}(z) u_i(z)``: one forward reach pass over
    the nodes (``parent < child``) and one scatter over the terminals, no recursion, no allocation.
    """
    n_nodes = tree.node_player.shape[0]
    for p in range(2):
        if player == -1 or player == p:
            end = loss.shape[0] if p == 1 else tree.seq_offset[1]
            for s in range(tree.seq_offset[p], end):
                loss[s] = 0.0
    weight[0, 0] = 1.0
    weight[0, 1] = 1.0
    for n in range(n_nodes):
        pl = tree.node_player[n]
        if pl == TERMINAL:
            continue
        first = tree.node_first_child[n]
        w0 = weight[n, 0]
        w1 = weight[n, 1]
        if pl == CHANCE:
            for j in range(tree.node_num_children[n]):
                q = tree.node_prob[first + j]
                weight[first + j, 0] = w0 * q
                weight[first + j, 1] = w1 * q
        elif pl == 0:
            infoset = tree.node_infoset[n]
            for j in range(tree.node_num_children[n]):
                weight[first + j, 0] = w0
                weight[first + j, 1] = w1 * probs[infoset, j]
        else:
            infoset = tree.node_infoset[n]
            for j in range(tree.node_num_children[n]):
                weight[first + j, 0] = w0 * probs[infoset, j]
                weight[first + j, 1] = w1
    for t in range(tree.terminal_node.shape[0]):
        node = tree.terminal_node[t]
        for p in range(2):
            if player == -1 or player == p:
                loss[tree.seq_offset[p] + tree.terminal_seq[t, p]] -= (
                    weight[node, p] * tree.terminal_utility[t, p]
                )


@numba.njit(cache=True, nogil=True, inline="always")
def _csr_neg_matvec(
    indptr: NDArray[np.unsignedinteger[Any]],  # [R + 1]
    indices: NDArray[np.unsignedinteger[Any]],  # [nnz]
    data: NDArray[np.float64],  # [nnz]
    vec: NDArray[np.float64],  # [S] the input is vec[vec_base:]
    vec_base: int,
    out: NDArray[np.float64],  # [S] out: out[out_base + r] = -(M @ vec[vec_base:])[r]
    out_base: int,
) -> None:
    """``out[out_base:out_base + R] = -(M @ v)`` for a CSR matrix ``M`` (no allocation).

    All indices in the inner loop are unsigned, so numba emits no negative-index wraparound
    check there (measured 2x on Leduc).
    """
    base = np.uint64(vec_base)
    for r in range(indptr.shape[0] - 1):
        acc = 0.0
        for k in range(indptr[r], indptr[r + 1]):
            acc += data[k] * vec[base + indices[k]]
        out[out_base + r] = -acc


@numba.njit(cache=True, nogil=True)
def sequence_losses_sparse(
    payoffs: SparsePayoffs,
    seq_offset: NDArray[np.int64],  # [2]
    seq: NDArray[np.float64],  # [S] realization plans of both players (see sequence_form)
    player: int,  # 0, 1, or -1 for both
    loss: NDArray[np.float64],  # [S] out (the blocks of the requested players are overwritten)
) -> None:
    """:func:`sequence_losses` from the realization plans: ``l_0 = -A_0 y``, ``l_1 = -A_1^T x``.

    ``A_p`` are the chance-weighted sequence-form payoff matrices
    (:attr:`gamesolve.sequence_form.SequenceForm.payoff_matrices`); one pass over their nonzeros
    (at most one per terminal) instead of a pass over every node.
    """
    if player == -1 or player == 0:
        _csr_neg_matvec(
            payoffs.a0_indptr, payoffs.a0_indices, payoffs.a0_data, seq, seq_offset[1], loss, seq_offset[0]
        )
    if player == -1 or player == 1:
        _csr_neg_matvec(
            payoffs.a1t_indptr, payoffs.a1t_indices, payoffs.a1t_data, seq, seq_offset[0], loss, seq_offset[1]
        )


@numba.njit(cache=True, nogil=True, inline="always")
def _infoset_softmax(
    infoset: int,
    first: int,  # global id of the infoset's first sequence
    m: int,  # number of actions
    scale: float,  # step / w_I
    loss: NDArray[np.float64],  # [S]
    below: NDArray[np.float64],  # [S] sum of child infoset values per sequence (children done)
    log_ref: NDArray[np.float64],  # [I, A] ln b_ref (may be the same array as log_probs)
    c_ref: float,
    log_mag: NDArray[np.float64],  # [I, A] ln rho
    c_mag: float,
    want_probs: bool,  # also write probs = exp(log_probs)
    finish: bool,  # normalize now (else leave the logits parked for _infoset_finish)
    log_probs: NDArray[np.float64],  # [I, A] out
    probs: NDArray[np.float64],  # [I, A] out (untouched unless want_probs)
) -> float:
    """One infoset of :func:`local_softmax`; returns its log-sum-exp ``-V(I) / (w_I / step)``.

    Each logit ``c_ref ln b_ref + c_mag ln rho - scale l_hat`` is computed once and parked in
    ``log_probs`` (slot ``j`` reads only slot ``j`` of ``log_ref``, so the two may alias).
    """
    top = -np.inf
    for j in range(m):
        z = (
            c_ref * log_ref[infoset, j]
            + c_mag * log_mag[infoset, j]
            - scale * (loss[first + j] + below[first + j])
        )
        log_probs[infoset, j] = z
        if z > top:
            top = z
    total = 0.0
    for j in range(m):
        total += math.exp(log_probs[infoset, j] - top)
    lse = top + math.log(total)
    if finish:
        _infoset_finish(infoset, m, lse, want_probs, log_probs, probs)
    return lse


@numba.njit(cache=True, nogil=True, inline="always")
def _infoset_finish(
    infoset: int,
    m: int,
    lse: float,
    want_probs: bool,
    log_probs: NDArray[np.float64],  # [I, A] in: the logits; out: ln b
    probs: NDArray[np.float64],  # [I, A] out (untouched unless want_probs)
) -> None:
    """Normalize the parked logits of one infoset (see :func:`_infoset_softmax`)."""
    for j in range(m):
        lp = log_probs[infoset, j] - lse
        log_probs[infoset, j] = lp
        if want_probs:
            probs[infoset, j] = math.exp(lp)


@numba.njit(cache=True, nogil=True)
def local_softmax(
    tree: TreeArrays,
    weights: NDArray[np.float64],  # [I] w_I > 0
    loss: NDArray[np.float64],  # [S]
    log_ref: NDArray[np.float64],  # [I, A] ln b_ref (may be the same array as log_probs)
    c_ref: float,
    log_mag: NDArray[np.float64],  # [I, A] ln rho (zeros: psi itself)
    c_mag: float,
    step: float,
    player: int,  # 0, 1, or -1 for both
    below: NDArray[np.float64],  # [S] scratch: sum of child infoset values per sequence
    log_probs: NDArray[np.float64],  # [I, A] out
    probs: NDArray[np.float64],  # [I, A] out
    root_values: NDArray[np.float64],  # [2] out: loss[0] + sum of root infoset values
) -> None:
    """Bottom-up local softmax update of ``player``'s infosets (reverse id order: children first).

    Per infoset ``I``: ``l_hat(I, a) = loss[Ia] + sum_{I' below Ia} V(I')``, ``logit(I, a) = c_ref
    ln b_ref(a|I) + c_mag ln rho(a|I) - step l_hat(I, a) / w_I``, ``b(.|I) = softmax(logit(I, .))``
    and ``V(I) = -(w_I / step) ln sum_a exp(logit(I, a))``. OMD: ``b_ref`` the previous iterate,
    ``c_ref = 1``, the current loss; FTRL: ``b_ref`` the start, the cumulative loss; regularized best
    response: ``c_ref = c_mag = 0``, ``step = 1 / alpha``; magnetic mirror descent: ``c_ref = 1 / (1 +
    eta alpha)``, ``c_mag = eta alpha / (1 + eta alpha)``, ``step = eta / (1 + eta alpha)`` (the
    gradient of ``psi`` is ``w_I ln b(a|I)`` plus a vector constant on the treeplex). The root value
    ``loss[0] + sum_{root I} V(I)`` is ``min_x <loss, x> + D(x) / step`` for the matching regularizer.
    """
    for s in range(below.shape[0]):
        below[s] = 0.0
    pending = -1  # the infoset whose logits await normalization
    pending_lse = 0.0
    for infoset in range(tree.infoset_player.shape[0] - 1, -1, -1):
        p = tree.infoset_player[infoset]
        if player != -1 and p != player:
            continue
        base = tree.seq_offset[p]
        scale = step / weights[infoset]
        lse = _infoset_softmax(
            infoset,
            base + tree.infoset_first_seq[infoset],
            tree.infoset_num_actions[infoset],
            scale,
            loss,
            below,
            log_ref,
            c_ref,
            log_mag,
            c_mag,
            True,
            False,
            log_probs,
            probs,
        )
        below[base + tree.infoset_parent_seq[infoset]] -= lse / scale
        # Normalize the previous infoset only now: its exps are independent of this one's chain.
        if pending >= 0:
            _infoset_finish(pending, tree.infoset_num_actions[pending], pending_lse, True, log_probs, probs)
        pending = infoset
        pending_lse = lse
    if pending >= 0:
        _infoset_finish(pending, tree.infoset_num_actions[pending], pending_lse, True, log_probs, probs)
    for p in range(2):
        if player == -1 or player == p:
            root_values[p] = loss[tree.seq_offset[p]] + below[tree.seq_offset[p]]


@numba.njit(cache=True, nogil=True)
def sequence_form(
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A]
    seq: NDArray[np.float64],  # [S] out: x(Ia) = x(p(I)) b(a|I), x(empty) = 1
) -> None:
    """Behavior to sequence form, top-down over infosets (parents first), every player.

    Also :mod:`gamesolve.sequence_form`'s behavior -> realization-plan kernel (any number of players).
    """
    for p in range(tree.seq_offset.shape[0]):
        seq[tree.seq_offset[p]] = 1.0
    for infoset in range(tree.infoset_player.shape[0]):
        base = tree.seq_offset[tree.infoset_player[infoset]]
        parent = seq[base + tree.infoset_parent_seq[infoset]]
        first = base + tree.infoset_first_seq[infoset]
        for j in range(tree.infoset_num_actions[infoset]):
            seq[first + j] = parent * probs[infoset, j]


@numba.njit(cache=True, nogil=True)
def behavior_from_sequence(
    tree: TreeArrays,
    seq: NDArray[np.float64],  # [S] a (possibly unnormalized) sequence-form strategy
    probs: NDArray[np.float64],  # [I, A] out; uniform where the infoset has no mass
) -> None:
    """``b(a|I) = x(Ia) / sum_a' x(Ia')``; uniform at infosets the strategy never reaches."""
    for infoset in range(tree.infoset_player.shape[0]):
        first = tree.seq_offset[tree.infoset_player[infoset]] + tree.infoset_first_seq[infoset]
        m = tree.infoset_num_actions[infoset]
        total = 0.0
        for j in range(m):
            total += seq[first + j]
        for j in range(m):
            probs[infoset, j] = seq[first + j] / total if total > 0.0 else 1.0 / m


@numba.njit(cache=True, nogil=True)
def moving_magnet(
    infoset_num_actions: NDArray[np.int32],  # [I]
    log_probs: NDArray[np.float64],  # [I, A]
    rate: float,
    log_magnet: NDArray[np.float64],  # [I, A] in/out
) -> None:
    """``rho(.|I) <- normalize(rho^(1 - rate) b^rate)`` at every infoset (geometric interpolation)."""
    for infoset in range(log_magnet.shape[0]):
        m = infoset_num_actions[infoset]
        top = -np.inf
        for j in range(m):
            z = (1.0 - rate) * log_magnet[infoset, j] + rate * log_probs[infoset, j]
            log_magnet[infoset, j] = z
            if z > top:
                top = z
        total = 0.0
        for j in range(m):
            total += math.exp(log_magnet[infoset, j] - top)
        lse = top + math.log(total)
        for j in range(m):
            log_magnet[infoset, j] -= lse


@numba.njit(cache=True, nogil=True, inline="always")
def _accumulate_sequence_form(
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A]
    seq: NDArray[np.float64],  # [S] scratch
    avg_seq: NDArray[np.float64],  # [S] in/out: += sequence form of probs
) -> None:
    """Add the sequence form of ``probs`` to the running (uniform-weight) sum ``avg_seq``."""
    sequence_form(tree, probs, seq)
    for s in range(seq.shape[0]):
        avg_seq[s] += seq[s]


@numba.njit(cache=True, nogil=True, inline="always")
def _turn_loss(
    payoffs: SparsePayoffs,
    tree: TreeArrays,
    probs: NDArray[np.float64],  # [I, A] current profile
    k: int,  # the turn within the iteration: 0, or 1 when alternating
    alternating: bool,
    seq: NDArray[np.float64],  # [S] in: plans at the start of the iteration; out: plans the loss used
    loss: NDArray[np.float64],  # [S] out: the moving player's block (both blocks when simultaneous)
) -> int:
    """The loss of whoever moves in turn ``k`` of an OMD/MMD iteration; returns that player (-1: both).

    Simultaneous: one turn, both players' losses at the plans in ``seq``. Alternating: player 0's
    loss at ``seq``, then player 1's against player 0's new plan (``seq`` recomputed from ``probs``).
    """
    player = -1 if not alternating else k
    if k == 1:
        sequence_form(tree, probs, seq)
    sequence_losses_sparse(payoffs, tree.seq_offset, seq, player, loss)
    return player


@numba.njit(cache=True, nogil=True, inline="always")
def _prox(
    tree: TreeArrays,
    weights: NDArray[np.float64],  # [I]
    loss: NDArray[np.float64],  # [S]
    c_ref: float,
    log_mag: NDArray[np.float64],  # [I, A]
    c_mag: float,
    step_base: float,  # step of the optimistic secondary update
    step: float,  # step of the played update
    player: int,
    optimistic: bool,  # base_t = prox(base_{t-1}, l_t), play prox(base_t, l_t); else prox(x_t, l_t)
    log_base: NDArray[np.float64],  # [I, A] in/out: the optimistic secondary sequence
    log_probs: NDArray[np.float64],  # [I, A] in/out
    probs: NDArray[np.float64],  # [I, A] in/out
    work: Workspace,  # below, below_played (optimistic only), root_values
) -> None:
    """The (optimistic) prox step shared by OMD and MMD: local softmaxes from ``x_t`` or ``base``.

    Optimistic (Rakhlin & Sridharan 2013): ``base_t = prox(base_{t-1}, l_t)``, then play
    ``prox(base_t, l_t)``. The two bottom-up passes run fused in one loop over the infosets (the
    played update at ``I`` needs ``base_t`` at ``I`` only, and its own values below ``I``, kept
    in ``below_played``), and the secondary sequence's probabilities are never formed: the same
    arithmetic as two :func:`local_softmax` calls, less one ``exp`` per slot.
    """
    below = work.below
    below_played = work.below_played
    if not optimistic:
        local_softmax(
            tree,
            weights,
            loss,
            log_probs,
            c_ref,
            log_mag,
            c_mag,
            step,
            player,
            below,
            log_probs,
            probs,
            work.root_values,
        )
        return
    for s in range(below.shape[0]):
        below[s] = 0.0
        below_played[s] = 0.0
    for infoset in range(tree.infoset_player.shape[0] - 1, -1, -1):
        p = tree.infoset_player[infoset]
        if player != -1 and p != player:
            continue
        m = tree.infoset_num_actions[infoset]
        base = tree.seq_offset[p]
        first = base + tree.infoset_first_seq[infoset]
        parent = base + tree.infoset_parent_seq[infoset]
        scale = step_base / weights[infoset]
        lse = _infoset_softmax(
            infoset,
            first,
            m,
            scale,
            loss,
            below,
            log_base,
            c_ref,
            log_mag,
            c_mag,
            False,
            True,
            log_base,
            probs,
        )
        below[parent] -= lse / scale
        scale = step / weights[infoset]
        lse = _infoset_softmax(
            infoset,
            first,
            m,
            scale,
            loss,
            below_played,
            log_base,
            c_ref,
            log_mag,
            c_mag,
            True,
            True,
            log_probs,
            probs,
        )
        below_played[parent] -= lse / scale
    for p in range(2):
        if player == -1 or player == p:
            work.root_values[p] = loss[tree.seq_offset[p]] + below_played[tree.seq_offset[p]]


@numba.njit(cache=True, nogil=True, inline="always")
def _md_step(
    payoffs: SparsePayoffs,
    tree: TreeArrays,
    weights: NDArray[np.float64],  # [I]
    seq: NDArray[np.float64],  # [S] realization plans the loss is taken at
    log_ref: NDArray[np.float64],  # [I, A] ln b_ref
    eta: float,
    loss: NDArray[np.float64],  # [S] out
    log_probs: NDArray[np.float64],  # [I, A] out: prox(b_ref, eta loss(at)), both players
    probs: NDArray[np.float64],  # [I, A] out
    work: Workspace,  # below, root_values
) -> None:
    """A simultaneous mirror-descent step of both players: loss at ``seq``, then the prox from ``b_ref``."""
    sequence_losses_sparse(payoffs, tree.seq_offset, seq, -1, loss)
    local_softmax(
        tree,
        weights,
        loss,
        log_ref,
        1.0,
        log_ref,
        0.0,
        eta,
        -1,
        work.below,
        log_probs,
        probs,
        work.root_values,
    )


# ------------------------------------------------------------------------------------ drivers


@numba.njit(cache=True, nogil=True)
def omd_iterations(
    payoffs: SparsePayoffs,
    tree: TreeArrays,
    weights: NDArray[np.float64],  # [I]
    rule: OMDRule,
    t_first: int,  # number of the first iteration to run (from 1)
    count: int,
    log_start: NDArray[np.float64],  # [I, A] ln b_0 (FTRL center)
    log_probs: NDArray[np.float64],  # [I, A] in/out: current iterate
    probs: NDArray[np.float64],  # [I, A] in/out
    log_base: NDArray[np.float64],  # [I, A] in/out: optimistic OMD's secondary sequence
    cum_loss: NDArray[np.float64],  # [S] in/out: cumulative loss (FTRL)
    loss: NDArray[np.float64],  # [S] out: the last loss
    avg_seq: NDArray[np.float64],  # [S] in/out: sum of the iterates in sequence form
    work: Workspace,
) -> None:
    """``count`` iterations of dilated-entropy OMD / FTRL, plain or optimistic."""
    eta = rule.eta
    optimistic = rule.optimistic
    n_seq = loss.shape[0]
    for t in range(t_first, t_first + count):
        eta_now = eta / math.sqrt(t) if rule.sqrt_schedule else eta
        eta_next = eta / math.sqrt(t + 1) if rule.sqrt_schedule else eta
        _accumulate_sequence_form(tree, probs, work.seq, avg_seq)
        for k in range(1 if not rule.alternating else 2):
            player = _turn_loss(payoffs, tree, probs, k, rule.alternating, work.seq, loss)
            lo = 0 if player <= 0 else tree.seq_offset[1]
            hi = n_seq if player != 0 else tree.seq_offset[1]
            for s in range(lo, hi):
                cum_loss[s] += loss[s]
            if rule.lazy:
                # FTRL centered at b_0: argmin <L_t (+ l_t), x> + D_psi(x, x_0) / eta_{t+1}.
                target = work.target
                for s in range(lo, hi):
                    target[s] = cum_loss[s] + (loss[s] if optimistic else 0.0)
                local_softmax(
                    tree,
                    weights,
                    target,
                    log_start,
                    1.0,
                    log_start,
                    0.0,
                    eta_next,
                    player,
                    work.below,
                    log_probs,
                    probs,
                    work.root_values,
                )
            else:
                _prox(
                    tree,
                    weights,
                    loss,
                    1.0,
                    log_base if optimistic else log_probs,
                    0.0,
                    eta_now,
                    eta_next if optimistic else eta_now,
                    player,
                    optimistic,
                    log_base,
                    log_probs,
                    probs,
                    work,
                )


@numba.njit(cache=True, nogil=True)
def mmd_iterations(
    payoffs: SparsePayoffs,
    tree: TreeArrays,
    weights: NDArray[np.float64],  # [I]
    rule: MMDRule,
    t_first: int,
    count: int,
    log_magnet: NDArray[np.float64],  # [I, A] in/out: ln rho (zeros: psi itself)
    log_probs: NDArray[np.float64],  # [I, A] in/out
    probs: NDArray[np.float64],  # [I, A] in/out
    log_base: NDArray[np.float64],  # [I, A] in/out: the optimistic secondary sequence (unused otherwise)
    loss: NDArray[np.float64],  # [S] out: the last loss
    avg_seq: NDArray[np.float64],  # [S] in/out
    work: Workspace,
) -> None:
    """``count`` iterations of magnetic mirror descent with the dilated entropy, plain or optimistic."""
    eta = rule.eta
    for t in range(t_first, t_first + count):
        alpha_t = rule.alpha / float(t) ** rule.alpha_power if rule.alpha_power != 0.0 else rule.alpha
        shrink = 1.0 / (1.0 + eta * alpha_t)
        _accumulate_sequence_form(tree, probs, work.seq, avg_seq)
        for k in range(1 if not rule.alternating else 2):
            player = _turn_loss(payoffs, tree, probs, k, rule.alternating, work.seq, loss)
            _prox(
                tree,
                weights,
                loss,
                shrink,
                log_magnet,
                eta * alpha_t * shrink,
                eta * shrink,
                eta * shrink,
                player,
                rule.optimistic,
                log_base,
                log_probs,
                probs,
                work,
            )
        if rule.magnet_rate > 0.0 and t % rule.magnet_every == 0:
            moving_magnet(tree.infoset_num_actions, log_probs, rule.magnet_rate, log_magnet)


@numba.njit(cache=True, nogil=True)
def mirror_prox_iterations(
    payoffs: SparsePayoffs,
    tree: TreeArrays,
    weights: NDArray[np.float64],  # [I]
    count: int,
    eta: float,
    log_probs: NDArray[np.float64],  # [I, A] in/out: z_t
    probs: NDArray[np.float64],  # [I, A] in/out
    half_log_probs: NDArray[np.float64],  # [I, A] out: z_{t+1/2}
    half_probs: NDArray[np.float64],  # [I, A] out
    loss: NDArray[np.float64],  # [S] out: the loss at the last half iterate
    avg_seq: NDArray[np.float64],  # [S] in/out: sum of the half iterates in sequence form
    work: Workspace,  # below, seq, root_values
) -> None:
    """``count`` iterations of mirror-prox / extragradient with the dilated entropy (simultaneous)."""
    seq = work.seq
    for _ in range(count):
        sequence_form(tree, probs, seq)
        _md_step(payoffs, tree, weights, seq, log_probs, eta, loss, half_log_probs, half_probs, work)
        _accumulate_sequence_form(tree, half_probs, seq, avg_seq)  # seq = the half iterate's plans
        _md_step(payoffs, tree, weights, seq, log_probs, eta, loss, log_probs, probs, work)


# ------------------------------------------------------------------------------ numpy twins


def sequence_losses_numpy(tree: TreeArrays, probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """``[S]`` both players' sequence-form losses, from the pointer-jumping reach matrix."""
    reach = reach_numpy(tree, probs)
    r = reach[tree.terminal_node]  # [T, 3]: own reach of player 0, of player 1, chance
    blocks = []
    for p in range(2):
        block = np.zeros(int(tree.num_sequences[p]))
        np.add.at(block, tree.terminal_seq[:, p], -r[:, 2] * r[:, 1 - p] * tree.terminal_utility[:, p])
        blocks.append(block)
    return np.concatenate(blocks)


def _infoset_slices(tree: TreeArrays) -> list[tuple[int, int, slice]]:
    """Per infoset: ``(global parent sequence, width, global slice of its sequences)``.

    Global ids are recomputed from ``num_sequences`` (not read from ``seq_offset``).
    """
    offset = np.concatenate(([0], np.cumsum(tree.num_sequences)[:-1]))
    out = []
    for infoset in range(tree.infoset_player.shape[0]):
        base = int(offset[tree.infoset_player[infoset]])
        first = base + int(tree.infoset_first_seq[infoset])
        m = int(tree.infoset_num_actions[infoset])
        out.append((base + int(tree.infoset_parent_seq[infoset]), m, slice(first, first + m)))
    return out


def local_softmax_numpy(
    tree: TreeArrays,
    weights: NDArray[np.float64],
    loss: NDArray[np.float64],
    ref: NDArray[np.float64],
    step: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(probs [I, A], root_values [2])`` of the plain local update ``b ∝ b_ref exp(-step l_hat / w)``.

    Written as the recursion of Hoda, Gilpin, Peña & Sandholm (2010) with probabilities (not logits).
    """
    slices = _infoset_slices(tree)
    probs = np.zeros_like(ref)
    value_below = np.zeros_like(loss)
    for infoset in range(len(slices) - 1, -1, -1):
        parent, m, sl = slices[infoset]
        l_hat = loss[sl] + value_below[sl]
        w = weights[infoset]
        unnormalized = ref[infoset, :m] * np.exp(-step * (l_hat - l_hat.min()) / w)
        probs[infoset, :m] = unnormalized / unnormalized.sum()
        value_below[parent] += l_hat.min() - (w / step) * np.log(unnormalized.sum())
    offset = np.concatenate(([0], np.cumsum(tree.num_sequences)[:-1]))
    roots = np.array([loss[o] + value_below[o] for o in offset])
    return probs, roots


def mmd_step_numpy(
    tree: TreeArrays,
    weights: NDArray[np.float64],
    loss: NDArray[np.float64],
    probs: NDArray[np.float64],
    eta: float,
    alpha: float,
) -> NDArray[np.float64]:
    """One MMD step with the magnet ``psi`` (uniform over reduced pure strategies), literally.

    The OpenSpiel ``mmd_dilated`` computation (Sokota et al. 2023), against which the tests check
    :func:`local_softmax` with MMD's coefficients:

    1. ``x = sequence form of probs``; ``grad psi(x)[Ia] = w_I (ln(x(Ia) / x(p(I))) + 1) - sum_{I'
       below Ia} w_I'`` (the exact sequence-form gradient of the dilated entropy);
    2. ``g = (eta loss - grad psi(x)) / (1 + eta alpha)``;
    3. bottom-up: ``b(.|I) = softmax(-g_I / w_I)``, then ``<g_I, b> + w_I sum_a b ln b`` is added
       to ``g`` of the parent sequence.
    """
    slices = _infoset_slices(tree)
    x = sequence_form_numpy(tree, probs)
    grad = np.zeros_like(x)
    for infoset, (parent, _, sl) in enumerate(slices):
        w = weights[infoset]
        grad[sl] += w * (np.log(x[sl] / x[parent]) + 1.0)
        grad[parent] -= w
    g = (eta * loss - grad) / (1.0 + eta * alpha)
    out = np.zeros_like(probs)
    for infoset in range(len(slices) - 1, -1, -1):
        parent, m, sl = slices[infoset]
        w = weights[infoset]
        z = -g[sl] / w
        b = np.exp(z - z.max())
        b /= b.sum()
        out[infoset, :m] = b
        g[parent] += float(g[sl] @ b) + w * float(b @ np.log(np.maximum(b, 1e-300)))
    return out


def sequence_form_numpy(
    tree: TreeArrays,
    probs: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``[S]`` sequence form of a behavior profile, by walking each sequence up to the root."""
    slices = _infoset_slices(tree)
    owner = {}
    for infoset, (_, m, sl) in enumerate(slices):
        for j in range(m):
            owner[sl.start + j] = (infoset, j)
    x = np.ones(int(np.sum(tree.num_sequences)))
    for s in range(x.shape[0]):
        cursor = s
        while cursor in owner:
            infoset, j = owner[cursor]
            x[s] *= probs[infoset, j]
            cursor = slices[infoset][0]
    return x


def behavior_from_sequence_numpy(
    tree: TreeArrays,
    seq: NDArray[np.float64],
    width: int,
) -> NDArray[np.float64]:
    """``[I, width]`` behavior strategy of a sequence-form vector (uniform where unreached)."""
    slices = _infoset_slices(tree)
    probs = np.zeros((len(slices), width))
    for infoset, (_, m, sl) in enumerate(slices):
        total = seq[sl].sum()
        probs[infoset, :m] = seq[sl] / total if total > 0 else 1.0 / m
    return probs
