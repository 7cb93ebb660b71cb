"""Exact evaluation of behavior profiles on compiled extensive-form games.

All functions work for any number of players and any utility kind (general-sum included): the
best response of each player is computed against the others' fixed policies, chance included.

NashConv is ``sum_i (max_{pi_i'} u_i(pi_i', pi_-i) - u_i(pi))`` and exploitability is
``NashConv / num_players`` (OpenSpiel's convention; for two-player zero-sum games it is the mean
of the two best-response values).

>>> import gamesolve
>>> game = gamesolve.load_game("kuhn")
>>> round(gamesolve.nash_conv(game, gamesolve.uniform_policy(game)).nash_conv, 10)
0.9166666667
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve import normal_form
from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import InvalidPolicyError
from gamesolve.kernels.evaluation import best_from_mass, best_responses, forward_reach
from gamesolve.kernels.layers import best_response_mass_layered, forward_reach_layered, layers_of
from gamesolve.normal_form import TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.report import ExploitabilityReport

__all__ = [
    "BestResponse",
    "ExploitabilityReport",
    "best_response",
    "evaluate",
    "expected_values",
    "exploitability",
    "nash_conv",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BestResponse:
    """A pure best response of one player to the others' fixed policies.

    Attributes:
        player: The responding player.
        value: Its expected utility when it best-responds.
        policy: The full profile with ``player``'s rows replaced by the deterministic response.
    """

    player: int
    value: float
    policy: TabularPolicy


@dataclass(frozen=True)
class _Raw:
    values: NDArray[np.float64]  # [P]
    br_values: NDArray[np.float64]  # [P]
    br_slot: NDArray[np.int32]  # [I]


def _probs_of(game: CompiledGame, policy: Any) -> NDArray[np.float64]:
    tabulate = getattr(policy, "tabulate", None)
    if callable(tabulate) and not isinstance(policy, TabularPolicy | np.ndarray):
        policy = tabulate(game)  # a policy that tabulates itself (e.g. a NeuralPolicy)
    if isinstance(policy, TabularPolicy):
        other = policy.game
        if other is not game and (
            other.infosets.keys != game.infosets.keys
            or not np.array_equal(other.infoset_actions, game.infoset_actions)
        ):
            raise InvalidPolicyError("policy belongs to a different game (infosets or actions differ)")
        return policy.probs
    return TabularPolicy(game, policy).probs


def evaluate(game: Any, policy: TabularPolicy | NDArray[np.float64]) -> _Raw:
    """Run both kernels once: expected values, best-response values and slots (internal).

    Games of at least :data:`~gamesolve.kernels.layers.LAYERED_MIN_NODES` nodes run on every core
    numba has (``numba.set_num_threads`` or the ``NUMBA_NUM_THREADS`` environment variable choose
    fewer), with the same numbers for every thread count.
    """
    compiled = as_compiled(game)
    return _evaluate_probs(compiled, _probs_of(compiled, policy))


def _evaluate_probs(compiled: CompiledGame, probs: NDArray[np.float64]) -> _Raw:
    """:func:`evaluate` on a checked ``[I, A]`` profile of ``compiled`` (the kernels only)."""
    n_players = compiled.num_players
    tree = compiled.tree
    reach = np.empty((compiled.num_nodes, n_players + 1))
    total_seqs = int(compiled.num_sequences.sum())
    cf = np.empty(total_seqs)
    values = np.empty(n_players)
    br_values = np.empty(n_players)
    br_slot = np.empty(compiled.num_infosets, dtype=np.int32)
    layers = layers_of(compiled)
    if layers is None:
        forward_reach(tree, probs, reach)
        best_responses(tree, reach, cf, np.empty(total_seqs), values, br_values, br_slot)
    else:
        forward_reach_layered(tree, layers, probs, reach)
        part = np.empty((layers.chunks, total_seqs + n_players))
        best_response_mass_layered(tree, layers, reach, cf, values, part)
        best_from_mass(tree, cf, np.empty(total_seqs), br_values, br_slot)
    return _Raw(values, br_values, br_slot)


def expected_values(game: Any, policy: TabularPolicy | NDArray[np.float64]) -> NDArray[np.float64]:
    """``[P]`` expected utility of every player when all follow ``policy``."""
    return evaluate(game, policy).values.copy()


def _br_profile(
    compiled: CompiledGame, probs: NDArray[np.float64], player: int, slots: NDArray[np.int32]
) -> TabularPolicy:
    rows = compiled.infosets_of(player)
    out = probs.copy()
    out[rows] = 0.0
    out[rows, slots[rows]] = 1.0
    return TabularPolicy(compiled, out, validate=False)


def best_response(game: Any, policy: TabularPolicy | NDArray[np.float64], player: int) -> BestResponse:
    """The best response of ``player`` to the other players' parts of ``policy``.

    Ties between actions go to the lowest legal action slot.
    """
    compiled = as_compiled(game)
    compiled.check_player(player)
    probs = _probs_of(compiled, policy)
    raw = _evaluate_probs(compiled, probs)
    return BestResponse(
        player, float(raw.br_values[player]), _br_profile(compiled, probs, player, raw.br_slot)
    )


def nash_conv(game: Any, policy: Any) -> Any:
    """Exact NashConv of a profile, with values and best responses of every player.

    Args:
        game: An extensive-form game (compiled or compilable), a normal-form
            :class:`~gamesolve.normal_form.TensorGame`, or a tabular Markov game.
        policy: For extensive-form games a :class:`~gamesolve.policy.TabularPolicy` of that game,
            its ``[I, A]`` array, or a policy with ``tabulate(game)`` (a
            :class:`~gamesolve.neural.NeuralPolicy`: a network is evaluated exactly as its table);
            for normal-form games a :class:`~gamesolve.normal_form.MixedProfile` or one probability
            vector per player; for Markov games a :class:`~gamesolve.markov.MarkovProfile` or one
            ``[S, A_i]`` array per player.

    Returns:
        An :class:`ExploitabilityReport` (see its ``best_responses`` for the two cases), or a
        :class:`~gamesolve.markov.MarkovExploitabilityReport` for Markov games.
    """
    if isinstance(game, TensorGame):
        return normal_form.nash_conv(game, policy)
    if getattr(game, "transition_matrix", None) is not None:
        from gamesolve import markov

        return markov.nash_conv(game, policy)
    compiled = as_compiled(game)
    probs = _probs_of(compiled, policy)
    raw = _evaluate_probs(compiled, probs)
    gains = raw.br_values - raw.values
    total = float(gains.sum())
    n_players = compiled.num_players
    return ExploitabilityReport(
        nash_conv=total,
        exploitability=total / n_players,
        on_policy_values=tuple(float(v) for v in raw.values),
        best_response_values=tuple(float(v) for v in raw.br_values),
        best_responses=tuple(_br_profile(compiled, probs, p, raw.br_slot) for p in range(n_players)),
    )


def exploitability(game: Any, policy: Any) -> float:
    """``nash_conv(game, policy).exploitability`` without building the best-response policies."""
    if isinstance(game, TensorGame):
        return normal_form.nash_conv(game, policy).exploitability
    compiled = as_compiled(game)
    raw = _evaluate_probs(compiled, _probs_of(compiled, policy))
    return float((raw.br_values - raw.values).sum()) / compiled.num_players
