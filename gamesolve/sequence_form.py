"""Sequence form of a compiled extensive-form game (Koller, Megiddo & von Stengel 1996).

A player's mixed behavior is represented by a *realization plan* ``x_p`` over that player's
sequences: ``x_p[s]`` is the product of ``p``'s own action probabilities along sequence ``s``.
Sequence ids are the compiled game's (``0`` is the empty sequence; infoset ``I`` owns
``infoset_first_seq[I] + j`` for its slots ``j``). Realization plans are exactly the vectors with

* ``x_p >= 0`` and ``E_p x_p = e_p``: ``x_p[0] = 1`` and, for every infoset ``I`` of ``p``,
  ``sum_a x_p[I a] - x_p[parent_seq(I)] = 0`` (von Stengel 1996, "Efficient Computation of Behavior
  Strategies", Section 3).

Expected utilities are multilinear in the plans: with ``c(z)`` the chance probability of terminal
``z`` and ``s_q(z)`` player ``q``'s last sequence at ``z``,
``u_p = sum_z c(z) u_p(z) prod_q x_q[s_q(z)]``. For two players this is ``x_0^T A_p x_1`` with the
sparse ``[S_0, S_1]`` payoff matrix ``A_p[s0, s1] = sum_{z: s(z) = (s0, s1)} c(z) u_p(z)``; for any
number of players :class:`SequenceForm` keeps the per-terminal form.

Conversions run over infosets in id order, which is topological (a parent sequence's infoset has
a smaller id), so behavior -> plan is one forward loop (``x(Ia) = x(p(I)) b(a|I)``) and plan ->
behavior is one pass of local normalizations (``b(a|I) = x(Ia) / x(p(I))``, uniform where the
infoset is unreachable by the player's own play). Both are numba kernels with numpy twins.

>>> import gamesolve
>>> from gamesolve.sequence_form import expected_utility, policy_to_plans
>>> game = gamesolve.as_compiled(gamesolve.load_game("kuhn"))
>>> x0, x1 = policy_to_plans(gamesolve.uniform_policy(game))
>>> [round(float(v), 12) for v in expected_utility(game, x0, x1)]
[0.125, -0.125]
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import readonly
from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import InvalidPolicyError, UnsupportedGame
from gamesolve.kernels.dilated import sequence_form as _behavior_to_plans_kernel  # x(Ia) = x(p(I)) b(a|I)
from gamesolve.kernels.evaluation import forward_reach
from gamesolve.policy import TabularPolicy

__all__ = [
    "SequenceForm",
    "behavior_to_plan",
    "behavior_to_plans",
    "behavior_to_plans_numpy",
    "constraint_matrices",
    "expected_utilities",
    "expected_utility",
    "payoff_matrices",
    "plan_to_behavior",
    "plans_to_behavior",
    "plans_to_behavior_numpy",
    "plans_to_policy",
    "policy_to_plans",
    "sequence_form",
]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------- kernels


@numba.njit(cache=True, nogil=True)
def _plans_to_behavior_kernel(
    infoset_player: NDArray[np.int32],  # [I]
    infoset_num_actions: NDArray[np.int32],  # [I]
    infoset_first_seq: NDArray[np.int32],  # [I]
    seq_offset: NDArray[np.int64],  # [P]
    plan: NDArray[np.float64],  # [S] every player's plan, concatenated
    probs: NDArray[np.float64],  # [I, A] out (illegal slots are left untouched)
) -> None:
    """Local normalization ``b(a|I) = x(Ia) / sum_b x(Ib)``; uniform where the sum is 0."""
    for infoset in range(infoset_player.shape[0]):
        first = seq_offset[infoset_player[infoset]] + infoset_first_seq[infoset]
        n = infoset_num_actions[infoset]
        total = 0.0
        for j in range(n):
            v = plan[first + j]
            if v > 0.0:
                total += v
        if total > 0.0:
            for j in range(n):
                v = plan[first + j]
                probs[infoset, j] = v / total if v > 0.0 else 0.0
        else:
            for j in range(n):
                probs[infoset, j] = 1.0 / n


def behavior_to_plans_numpy(game: CompiledGame, probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Numpy twin of the behavior -> plan kernel: ``[S]`` by pointer jumping over infosets.

    Each sequence's value is the product of the behavior probabilities on the chain of sequences
    above it, computed by repeated squaring of the parent pointers (no dependence on infoset order).
    """
    offset = game.sequence_offset
    total = int(game.num_sequences.sum())
    widths = game.infoset_num_actions
    owner = np.repeat(np.arange(game.num_infosets), widths)
    slots = _ranges(widths)
    base = offset[game.infoset_player[owner]]
    seq = base + game.infoset_first_seq[owner] + slots
    factor = np.ones(total)
    factor[seq] = probs[owner, slots]
    parent = np.full(total, -1, dtype=np.int64)
    parent[seq] = base + game.infoset_parent_seq[owner]
    while (parent >= 0).any():
        live = parent >= 0
        factor[live] *= factor[parent[live]]
        parent[live] = parent[parent[live]]
    return factor


def plans_to_behavior_numpy(game: CompiledGame, plan: NDArray[np.float64]) -> NDArray[np.float64]:
    """Numpy twin of the plan -> behavior kernel: ``[I, A]`` by one masked gather."""
    offset = game.sequence_offset
    mask = game.legal_mask
    first = offset[game.infoset_player] + game.infoset_first_seq  # [I]
    index = first[:, None] + np.arange(game.max_actions)[None, :]
    values = np.where(mask, np.maximum(plan[np.where(mask, index, 0)], 0.0), 0.0)
    totals = values.sum(axis=1, keepdims=True)
    uniform = mask / game.infoset_num_actions[:, None]
    return np.where(totals > 0, values / np.where(totals > 0, totals, 1.0), uniform)


def _ranges(widths: NDArray[np.int32]) -> NDArray[np.int64]:
    total = int(widths.sum())
    starts = np.repeat(np.cumsum(widths) - widths, widths)
    return np.arange(total, dtype=np.int64) - starts


# ------------------------------------------------------------------------------ conversions


def _compiled(game: Any) -> CompiledGame:
    if isinstance(game, SequenceForm):
        return game.game
    return as_compiled(game)


def _probs_array(game: CompiledGame, probs: TabularPolicy | ArrayLike) -> NDArray[np.float64]:
    if isinstance(probs, TabularPolicy):
        if probs.game is not game and probs.game.infosets.keys != game.infosets.keys:
            raise InvalidPolicyError("policy belongs to a different game (infoset keys differ)")
        return probs.probs
    arr = np.ascontiguousarray(probs, dtype=np.float64)
    expected = (game.num_infosets, game.max_actions)
    if arr.shape != expected:
        raise ValueError(f"probs must have shape {expected} (infosets, slots), got {arr.shape}")
    return arr


def behavior_to_plans(game: Any, probs: TabularPolicy | ArrayLike) -> NDArray[np.float64]:
    """Every player's realization plan of a behavior profile, concatenated.

    Args:
        game: The game (compiled, compilable or a :class:`SequenceForm`).
        probs: A :class:`~gamesolve.policy.TabularPolicy` or its ``[I, A]`` probability array.

    Returns:
        ``[S]`` float64 with ``S = sum(game.num_sequences)``; player ``p``'s plan is the block
        starting at ``game.sequence_offset[p]``.
    """
    compiled = _compiled(game)
    arr = _probs_array(compiled, probs)
    plan = np.empty(int(compiled.num_sequences.sum()))
    _behavior_to_plans_kernel(compiled.tree, arr, plan)
    return plan


def behavior_to_plan(game: Any, probs: TabularPolicy | ArrayLike, player: int) -> NDArray[np.float64]:
    """Player ``player``'s realization plan ``[S_p]`` of a behavior profile (see ``behavior_to_plans``)."""
    compiled = _compiled(game)
    compiled.check_player(player)
    return _split(compiled, behavior_to_plans(compiled, probs))[player]


def _split(game: CompiledGame, plan: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    bounds = np.cumsum(game.num_sequences.astype(np.int64))[:-1]
    return [np.ascontiguousarray(part) for part in np.split(plan, bounds)]


def _joined(game: CompiledGame, plans: Sequence[ArrayLike] | NDArray[np.float64]) -> NDArray[np.float64]:
    total = int(game.num_sequences.sum())
    if isinstance(plans, np.ndarray) and plans.ndim == 1:
        if plans.shape != (total,):
            raise ValueError(f"a concatenated plan must have shape ({total},), got {plans.shape}")
        return np.ascontiguousarray(plans, dtype=np.float64)
    parts = list(plans)
    if len(parts) != game.num_players:
        raise ValueError(f"expected one realization plan per player ({game.num_players}), got {len(parts)}")
    out = []
    for p, part in enumerate(parts):
        arr = np.asarray(part, dtype=np.float64)
        expected = (int(game.num_sequences[p]),)
        if arr.shape != expected:
            raise ValueError(f"player {p}'s plan must have shape {expected}, got {arr.shape}")
        out.append(arr)
    return np.ascontiguousarray(np.concatenate(out))


def plans_to_behavior(game: Any, plans: Sequence[ArrayLike] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Behavior probabilities ``[I, A]`` of every player's realization plan.

    ``b(a|I) = x(Ia) / x(p(I))``, computed as ``x(Ia) / sum_b x(Ib)`` (equal for a valid plan,
    and a proper distribution even when an LP returns a plan that is feasible only to its
    tolerance; negative entries count as 0). Infosets the player's own plan never reaches get the
    uniform distribution.

    Args:
        game: The game (compiled, compilable or a :class:`SequenceForm`).
        plans: One plan per player (``[S_p]`` each), or all of them concatenated (``[S]``).
    """
    compiled = _compiled(game)
    plan = _joined(compiled, plans)
    probs = np.zeros((compiled.num_infosets, compiled.max_actions))
    _plans_to_behavior_kernel(
        compiled.infoset_player,
        compiled.infoset_num_actions,
        compiled.infoset_first_seq,
        compiled.sequence_offset,
        plan,
        probs,
    )
    return probs


def plan_to_behavior(game: Any, plan: ArrayLike, player: int) -> NDArray[np.float64]:
    """Behavior probabilities ``[I_p, A]`` at ``player``'s infosets (in id order) from its plan."""
    compiled = _compiled(game)
    compiled.check_player(player)
    arr = np.asarray(plan, dtype=np.float64)
    expected = (int(compiled.num_sequences[player]),)
    if arr.shape != expected:
        raise ValueError(f"player {player}'s plan must have shape {expected}, got {arr.shape}")
    full = np.zeros(int(compiled.num_sequences.sum()))
    start = int(compiled.sequence_offset[player])
    full[start : start + expected[0]] = arr
    return plans_to_behavior(compiled, full)[compiled.infosets_of(player)]


def policy_to_plans(policy: TabularPolicy) -> list[NDArray[np.float64]]:
    """One realization plan ``[S_p]`` per player of a tabular behavior profile."""
    game = policy.game
    return _split(game, behavior_to_plans(game, policy.probs))


def plans_to_policy(game: Any, plans: Sequence[ArrayLike] | NDArray[np.float64]) -> TabularPolicy:
    """The :class:`~gamesolve.policy.TabularPolicy` of realization plans (see :func:`plans_to_behavior`)."""
    compiled = _compiled(game)
    return TabularPolicy(compiled, plans_to_behavior(compiled, plans), validate=False)


# ---------------------------------------------------------------------------------- matrices


def constraint_matrices(game: Any, player: int) -> tuple[sp.csr_matrix, NDArray[np.float64]]:
    """``(E, e)`` with ``E x = e, x >= 0`` exactly the realization plans of ``player``.

    ``E`` is ``[1 + I_p, S_p]`` CSR: row 0 is ``x[0] = 1``; row ``k + 1`` is the ``k``-th infoset
    ``I`` of the player (id order), ``sum_a x[I a] - x[parent_seq(I)] = 0``.
    """
    compiled = _compiled(game)
    compiled.check_player(player)
    mine = compiled.infosets_of(player)
    widths = compiled.infoset_num_actions[mine]
    n_rows = 1 + mine.shape[0]
    rows_children = np.repeat(np.arange(1, n_rows), widths)
    cols_children = np.repeat(compiled.infoset_first_seq[mine], widths) + _ranges(widths)
    rows = np.concatenate(([0], np.arange(1, n_rows), rows_children))
    cols = np.concatenate(([0], compiled.infoset_parent_seq[mine], cols_children))
    data = np.concatenate(([1.0], -np.ones(mine.shape[0]), np.ones(rows_children.shape[0])))
    e_mat = sp.csr_matrix((data, (rows, cols)), shape=(n_rows, int(compiled.num_sequences[player])))
    e_vec = np.zeros(n_rows)
    e_vec[0] = 1.0
    return e_mat, e_vec


@dataclass(frozen=True, eq=False)
class SequenceForm:
    """The sequence form of a compiled game: constraints and the per-terminal payoff form.

    Build it with :func:`sequence_form` (cached per compiled game). All arrays are read-only.

    Attributes:
        game: The compiled game.
        terminal_seq: ``[T', P]`` int64, every player's last sequence at each terminal reached with
            positive chance probability.
        terminal_chance: ``[T']`` float64, the chance probability of reaching each such terminal.
        terminal_utility: ``[T', P]`` float64, the players' payoffs there.
    """

    game: CompiledGame
    terminal_seq: NDArray[np.int64]
    terminal_chance: NDArray[np.float64]
    terminal_utility: NDArray[np.float64]

    @property
    def num_players(self) -> int:
        """Number of players."""
        return self.game.num_players

    @property
    def num_sequences(self) -> tuple[int, ...]:
        """Sequences per player (the empty sequence included)."""
        return tuple(int(n) for n in self.game.num_sequences)

    @functools.cached_property
    def constraints(self) -> tuple[tuple[sp.csr_matrix, NDArray[np.float64]], ...]:
        """``(E_p, e_p)`` for every player (see :func:`constraint_matrices`)."""
        return tuple(constraint_matrices(self.game, p) for p in range(self.num_players))

    @functools.cached_property
    def payoff_matrices(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """``(A_0, A_1)``, each ``[S_0, S_1]`` CSR: ``u_p = x_0^T A_p x_1`` (two players only).

        Raises:
            UnsupportedGame: The game does not have exactly two players.
        """
        return self.payoff_matrix(self.terminal_utility[:, 0]), self.payoff_matrix(
            self.terminal_utility[:, 1]
        )

    def payoff_matrix(self, values: ArrayLike) -> sp.csr_matrix:
        """``[S_0, S_1]`` CSR ``A[s0, s1] = sum_{z: s(z) = (s0, s1)} c(z) values[z]`` (two players).

        ``values`` ``[T']`` are payoffs at the form's terminals (those of ``terminal_utility``),
        e.g. one player's utilities rescaled for an LP
        (:meth:`gamesolve.certify.PayoffScale.normalize`).

        Raises:
            UnsupportedGame: The game does not have exactly two players.
            ValueError: ``values`` has the wrong shape.
        """
        if self.num_players != 2:
            raise UnsupportedGame(
                f"payoff matrices exist for two-player games; {self.game.spec.name!r} has "
                f"{self.num_players} players (use SequenceForm.expected_utilities, the per-terminal form)"
            )
        weights = np.asarray(values, dtype=np.float64)
        if weights.shape != self.terminal_chance.shape:
            raise ValueError(f"values must have shape {self.terminal_chance.shape}, got {weights.shape}")
        shape = (int(self.game.num_sequences[0]), int(self.game.num_sequences[1]))
        rows, cols = self.terminal_seq[:, 0], self.terminal_seq[:, 1]
        # COO -> CSR sums the entries of terminals that share a sequence pair.
        return sp.csr_matrix(sp.coo_matrix((self.terminal_chance * weights, (rows, cols)), shape=shape))

    def expected_utilities(self, plans: Sequence[ArrayLike] | NDArray[np.float64]) -> NDArray[np.float64]:
        """``[P]`` expected utility of every player, for any number of players.

        Args:
            plans: One realization plan per player, or all of them concatenated.
        """
        plan = _joined(self.game, plans)
        offset = self.game.sequence_offset
        reach = self.terminal_chance.copy()  # [T']
        for p in range(self.num_players):
            reach *= plan[offset[p] + self.terminal_seq[:, p]]
        return np.asarray(reach @ self.terminal_utility, dtype=np.float64)


_FORMS: weakref.WeakKeyDictionary[CompiledGame, SequenceForm] = weakref.WeakKeyDictionary()


def sequence_form(game: Any) -> SequenceForm:
    """The :class:`SequenceForm` of ``game``, built once per compiled game (then cached)."""
    if isinstance(game, SequenceForm):
        return game
    compiled = as_compiled(game)
    cached = _FORMS.get(compiled)
    if cached is not None:
        return cached
    n_players = compiled.num_players
    reach = np.empty((compiled.num_nodes, n_players + 1))
    forward_reach(
        compiled.tree,
        np.ascontiguousarray(compiled.legal_mask, dtype=np.float64),  # any policy: we read chance
        reach,
    )
    chance = reach[compiled.terminal_node, n_players]  # [T]
    keep = chance > 0.0
    form = SequenceForm(
        game=compiled,
        terminal_seq=readonly(compiled.terminal_seq[keep].astype(np.int64)),
        terminal_chance=readonly(chance[keep]),
        terminal_utility=readonly(compiled.terminal_utility[keep]),
    )
    _FORMS[compiled] = form
    log.debug("sequence form of %s: %s sequences", compiled.spec.name, form.num_sequences)
    return form


def payoff_matrices(game: Any) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(A_0, A_1)`` of a two-player game (see :attr:`SequenceForm.payoff_matrices`)."""
    return sequence_form(game).payoff_matrices


def expected_utility(game: Any, x0: ArrayLike, x1: ArrayLike) -> NDArray[np.float64]:
    """``[2]`` expected utilities ``(x0^T A_0 x1, x0^T A_1 x1)`` of two realization plans.

    Raises:
        UnsupportedGame: The game does not have two players (use :func:`expected_utilities`).
        ValueError: A plan has the wrong length.
    """
    form = sequence_form(game)
    a0, a1 = form.payoff_matrices
    v0 = np.asarray(x0, dtype=np.float64)
    v1 = np.asarray(x1, dtype=np.float64)
    if v0.shape != (a0.shape[0],) or v1.shape != (a0.shape[1],):
        raise ValueError(
            f"plans must have shapes ({a0.shape[0]},) and ({a0.shape[1]},), got {v0.shape} and {v1.shape}"
        )
    return np.array([v0 @ (a0 @ v1), v0 @ (a1 @ v1)], dtype=np.float64)


def expected_utilities(game: Any, plans: Sequence[ArrayLike] | NDArray[np.float64]) -> NDArray[np.float64]:
    """``[P]`` expected utilities of one realization plan per player, for any number of players."""
    return sequence_form(game).expected_utilities(plans)
