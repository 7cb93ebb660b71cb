"""The treeplex of a two-player zero-sum game, as the dilated-entropy methods use it.

Depth, infoset weights of the dilated entropy (Hoda, Gilpin, Peña & Sandholm 2010, "Smoothing
techniques for computing Nash equilibria of sequential games"; Kroer, Waugh, Kılınç-Karzan & Sandholm
2020, "Faster algorithms for extensive-form game solving via improved smoothing functions"), payoff
scales for default step sizes, the sparse payoff matrices the kernels take, the dilated entropy of a
profile and the duality gap of the regularized game. :mod:`gamesolve.solvers.dilated` builds its
solvers on these.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CompiledGame
from gamesolve.errors import InvalidArgumentError, InvalidPolicyError
from gamesolve.kernels.dilated import (
    SparsePayoffs,
    chance_and_uniform_reach,
    local_softmax,
    sequence_form,
    sequence_losses,
)
from gamesolve.policy import TabularPolicy
from gamesolve.sequence_form import sequence_form as sequence_form_of
from gamesolve.solvers.common import prepare_extensive_form
from gamesolve.validation import check_choice, check_real

__all__ = [
    "WEIGHT_SCHEMES",
    "dilated_entropy",
    "infoset_weights",
    "payoff_scale",
    "regularized_gap",
    "treeplex_depth",
    "treeplex_setup",
    "typical_payoff",
    "weights_config",
]

#: Names of the built-in infoset weight schemes (see :func:`infoset_weights`).
WEIGHT_SCHEMES = ("uniform", "kroer", "chance")


def treeplex_depth(game: CompiledGame) -> int:
    """The largest number of own decisions any player makes on one path (>= 1)."""
    cached = _DEPTH.get(game)
    if cached is None:
        cached = _DEPTH[game] = _treeplex_depth(game)
    return cached


_DEPTH: weakref.WeakKeyDictionary[CompiledGame, int] = weakref.WeakKeyDictionary()


def _treeplex_depth(game: CompiledGame) -> int:
    depth = np.ones(game.num_infosets, dtype=np.int64)
    owner = _sequence_owner(game)
    offset = game.sequence_offset
    for infoset in range(game.num_infosets):
        parent = int(game.infoset_parent_seq[infoset])
        if parent > 0:
            depth[infoset] = depth[owner[offset[game.infoset_player[infoset]] + parent]] + 1
    return int(depth.max()) if depth.size else 1


def _sequence_owner(game: CompiledGame) -> NDArray[np.int64]:
    """``[S]`` infoset owning each global sequence (-1 for the empty sequences)."""
    owner = np.full(int(game.num_sequences.sum()), -1, dtype=np.int64)
    for infoset in range(game.num_infosets):
        first = int(game.sequence_offset[game.infoset_player[infoset]] + game.infoset_first_seq[infoset])
        owner[first : first + int(game.infoset_num_actions[infoset])] = infoset
    return owner


def _chance_and_uniform_reach(game: CompiledGame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``([N], [N])``: each node's chance reach, and its reach when every player plays uniformly."""
    chance = np.zeros(game.num_nodes)
    uniform = np.zeros(game.num_nodes)
    chance_and_uniform_reach(game.tree, chance, uniform)
    return chance, uniform


def typical_payoff(game: CompiledGame) -> float:
    """``E|u_0|`` at the terminals under chance and uniform play (at least ``1e-12``).

    The step-size unit of the ``"chance"`` presets: Kuhn 1.375, Leduc 3.36, Liar's dice 1.
    """
    cached = _TYPICAL.get(game)
    if cached is None:
        if game.terminal_utility.size == 0:
            cached = 1.0
        else:
            _, uniform = _chance_and_uniform_reach(game)
            cached = max(float(uniform[game.terminal_node] @ np.abs(game.terminal_utility[:, 0])), 1e-12)
        _TYPICAL[game] = cached
    return cached


_TYPICAL: weakref.WeakKeyDictionary[CompiledGame, float] = weakref.WeakKeyDictionary()


def infoset_weights(
    game: CompiledGame, scheme: str | Sequence[float] | NDArray[np.float64]
) -> NDArray[np.float64]:
    """``[I]`` dilated-entropy weights ``w_I``.

    Args:
        game: The compiled game.
        scheme: ``"uniform"`` (``w_I = 1``, the regularizer whose MMD fixed point is the QRE of
            the reduced normal form), ``"kroer"`` (depth-growing weights ``w_I = 2 + 2 sum_a
            max_{I' below Ia} w_I'``, the recursion of Kroer et al. 2020 for which the dilated
            entropy is strongly convex on the treeplex; ⚠ constants as we read the paper),
            ``"chance"`` (``w_I = c(I) h(I)``: ``c(I)`` the chance probability of reaching ``I``,
            summed over its histories, and ``h(I)`` the height of ``I`` in its player's treeplex,
            1 at infosets with no own decision below), or an explicit array of positive weights.

    Why ``"chance"``: the sequence-form loss at ``I`` carries the chance reach of its histories,
    so with ``w_I = c(I)`` the local step ``eta l_hat / w_I`` is in units of the payoff *given*
    the deal, the same at every depth (with ``w_I = 1`` one global ``eta`` is too large at
    shallow infosets and too small at deep ones; Leduc's chance reaches are 1/6 and 1/30). The
    factor ``h(I)`` damps shallow infosets, whose ``l_hat`` accumulates the values of ``h(I)``
    levels of decisions: measured on Leduc, MMD at a fixed temperature stays stable up to
    ``eta ~ 1`` with ``c h`` versus ``eta ~ 0.3`` with ``c`` alone.
    """
    if isinstance(scheme, str):
        if scheme not in WEIGHT_SCHEMES:
            raise InvalidArgumentError(
                f"weights must be one of {', '.join(WEIGHT_SCHEMES)} or an array, got {scheme!r}"
            )
        if scheme == "uniform":
            return np.ones(game.num_infosets)
        if scheme == "chance":
            return _chance_weights(game)
        owner = _sequence_owner(game)
        offset = game.sequence_offset
        heaviest = np.zeros(owner.shape[0])  # max weight of the infosets right below each sequence
        weights = np.zeros(game.num_infosets)
        for infoset in range(game.num_infosets - 1, -1, -1):
            base = int(offset[game.infoset_player[infoset]])
            first = base + int(game.infoset_first_seq[infoset])
            m = int(game.infoset_num_actions[infoset])
            weights[infoset] = 2.0 + 2.0 * heaviest[first : first + m].sum()
            parent = base + int(game.infoset_parent_seq[infoset])
            heaviest[parent] = max(heaviest[parent], weights[infoset])
        return weights
    weights = np.asarray(scheme, dtype=np.float64)
    if weights.shape != (game.num_infosets,) or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise InvalidArgumentError(
            f"weights must be {game.num_infosets} positive finite numbers (one per infoset)"
        )
    return weights


def _chance_weights(game: CompiledGame) -> NDArray[np.float64]:
    """``w_I = c(I) h(I)`` (see :func:`infoset_weights`), floored at ``1e-300`` for unreachable ``I``."""
    chance, _ = _chance_and_uniform_reach(game)
    decision = game.node_player >= 0
    reach = np.zeros(game.num_infosets)
    np.add.at(reach, game.node_infoset[decision], chance[decision])
    owner = _sequence_owner(game)
    offset = game.sequence_offset
    height = np.ones(game.num_infosets)
    for infoset in range(game.num_infosets - 1, -1, -1):
        above = int(owner[offset[game.infoset_player[infoset]] + game.infoset_parent_seq[infoset]])
        if above >= 0:
            height[above] = max(height[above], height[infoset] + 1.0)
    return np.maximum(reach * height, 1e-300)


def payoff_scale(game: CompiledGame) -> float:
    """``M = max |u|`` over terminals and players (at least ``1e-12``)."""
    if game.terminal_utility.size == 0:
        return 1.0
    return max(float(np.abs(game.terminal_utility).max()), 1e-12)


def _payoff_arrays(game: CompiledGame) -> SparsePayoffs:
    """The CSR arrays of ``A_0`` and ``A_1^T`` that lead the driver kernels' arguments.

    ``A_p`` [S0, S1] are the chance-weighted sequence-form payoff matrices of the (cached)
    :func:`gamesolve.sequence_form.sequence_form`; the drivers compute ``l_0 = -A_0 y`` and
    ``l_1 = -A_1^T x`` from them (indptr uint64, indices uint32, data float64: unsigned indices
    spare numba's negative-index checks in the inner loop).
    """
    a0, a1 = sequence_form_of(game).payoff_matrices
    out: list[NDArray[Any]] = []
    for m in (a0.tocsr(), a1.T.tocsr()):
        m.sum_duplicates()
        index = np.uint32 if max(m.shape) < 2**32 else np.uint64
        out += [
            np.ascontiguousarray(m.indptr, dtype=np.uint64),
            np.ascontiguousarray(m.indices, dtype=index),
            np.ascontiguousarray(m.data, dtype=np.float64),
        ]
    return SparsePayoffs(*out)


def treeplex_setup(
    game: CompiledGame, weights: str | list[float]
) -> tuple[SparsePayoffs, NDArray[np.float64]]:
    """``(payoffs, weights)``: the sparse payoff matrices and the infoset weights of ``game``.

    Computed once per game (and weight scheme) and shared between runs: the kernels only read them
    (they stay writeable arrays so the kernels' compiled signatures do not change).
    """
    per_game = _SETUP.setdefault(game, {})
    if "payoffs" not in per_game:
        per_game["payoffs"] = _payoff_arrays(game)
    key = f"weights:{weights}"
    if key not in per_game:
        per_game[key] = infoset_weights(game, weights)
    return per_game["payoffs"], per_game[key]


_SETUP: weakref.WeakKeyDictionary[CompiledGame, dict[str, Any]] = weakref.WeakKeyDictionary()


def dilated_entropy(
    game: CompiledGame, probs: NDArray[np.float64], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``[2]`` each player's ``psi(x_i) = sum_I w_I x(p(I)) sum_a b ln b`` (<= 0) for behavior ``probs``."""
    seq = np.empty(int(game.num_sequences.sum()))
    offset = game.sequence_offset
    sequence_form(game.tree, probs, seq)
    parent_mass = seq[offset[game.infoset_player] + game.infoset_parent_seq]
    mask = game.legal_mask
    safe = np.where(mask & (probs > 0), probs, 1.0)
    local = np.where(mask, probs * np.log(safe), 0.0).sum(axis=1)
    per_infoset = weights * parent_mass * local
    return np.array([per_infoset[game.infoset_player == p].sum() for p in range(2)])


def regularized_gap(
    game: Any,
    policy: TabularPolicy | NDArray[np.float64],
    alpha: float,
    weights: str | Sequence[float] | NDArray[np.float64] = "uniform",
) -> float:
    """Duality gap of the ``alpha``-regularized game at a behavior profile (>= 0; 0 at its equilibrium).

    The regularized game has payoffs ``u_i(x, y) - alpha psi(x_i) + alpha psi(x_-i)``; its gap is
    ``sum_i [max_x' (u_i(x', x_-i) - alpha psi(x')) - (u_i(x) - alpha psi(x_i))]``, twice the
    regularized exploitability (Sokota et al. 2023, "A unified approach to reinforcement learning,
    quantal response equilibria, and two-player zero-sum games", ICLR), with the regularized best
    responses computed by the same bottom-up softmax as the solvers. With uniform weights its
    unique zero is the logit QRE of the reduced normal form at temperature ``alpha``.
    """
    compiled = prepare_extensive_form("regularized_gap", game)
    alpha = check_real("alpha", alpha, minimum=0.0, min_inclusive=False)
    try:
        probs = np.ascontiguousarray(
            policy.probs if isinstance(policy, TabularPolicy) else policy, dtype=np.float64
        )
    except (TypeError, ValueError):
        raise InvalidPolicyError("policy must be a TabularPolicy or a numeric [I, A] array") from None
    expected = (compiled.num_infosets, compiled.max_actions)
    if probs.shape != expected or not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise InvalidPolicyError(
            f"policy must be a [I, A] = {list(expected)} array of finite probabilities >= 0, "
            f"got shape {list(probs.shape)}"
        )
    w = infoset_weights(compiled, weights)
    offset = compiled.sequence_offset
    n_seq = int(compiled.num_sequences.sum())
    loss = np.empty(n_seq)
    sequence_losses(compiled.tree, probs, -1, np.empty((compiled.num_nodes, 2)), loss)
    seq = np.empty(n_seq)
    sequence_form(compiled.tree, probs, seq)
    zeros = np.zeros_like(probs)
    best = np.empty(2)
    local_softmax(
        compiled.tree,
        w,
        loss,
        zeros,
        0.0,
        zeros,
        0.0,
        1.0 / alpha,
        -1,
        np.empty(n_seq),
        np.empty_like(probs),
        np.empty_like(probs),
        best,
    )
    psi = dilated_entropy(compiled, probs, w)
    gap = 0.0
    for p in range(2):
        block = slice(int(offset[p]), int(offset[p]) + int(compiled.num_sequences[p]))
        current = float(loss[block] @ seq[block]) + alpha * float(psi[p])
        gap += current - float(best[p])
    return max(gap, 0.0)


def weights_config(weights: str | Sequence[float] | NDArray[np.float64]) -> str | list[float]:
    """A weight scheme name, or explicit weights as a list of finite positive floats."""
    if isinstance(weights, str):
        return check_choice("weights", weights, WEIGHT_SCHEMES)
    expected = f"one of {', '.join(WEIGHT_SCHEMES)} or a list of positive finite numbers (one per infoset)"
    if isinstance(weights, bool | int | float | np.number) or weights is None:
        raise InvalidArgumentError(f"weights must be {expected}, got {weights!r}")
    values = list(np.asarray(weights, dtype=object).ravel())
    if not values:
        raise InvalidArgumentError(f"weights must be {expected}, got an empty list")
    return [check_real(f"weights[{k}]", w, minimum=0.0, min_inclusive=False) for k, w in enumerate(values)]
