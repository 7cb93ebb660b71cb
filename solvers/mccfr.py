"""Monte Carlo CFR (Lanctot et al. 2009): external sampling and outcome sampling.

Instead of traversing the whole tree, every iteration samples part of it once per player and
updates regrets with importance-weighted estimates of the counterfactual values, so an iteration
costs a small fraction of a CFR iteration. Both variants run as numba kernels on the compiled
arrays (:mod:`gamesolve.kernels.mccfr`).

Convergence: the *average* strategy converges. In two-player zero-sum games its exploitability is
``O(1/sqrt(T))`` with high probability (the constants grow as sampling probabilities shrink),
Lanctot, Waugh, Zinkevich & Bowling 2009, "Monte Carlo Sampling for Regret Minimization in
Extensive Games". With more than two players, or in general-sum games, the average
converges to the set of coarse correlated equilibria, not to a Nash equilibrium.

Randomness comes from a counter-based hash of a 64-bit key drawn once from the run's seed, so a run
is reproducible for a seed and a resumed run is bit-identical to an uninterrupted one.

>>> import gamesolve
>>> result = gamesolve.solve(gamesolve.load_game("kuhn"), "mccfr-es", iterations=2000, progress=False)
>>> result.nash_conv < 0.2
True
"""

from __future__ import annotations

import abc
import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules
from gamesolve.compiled import CompiledGame
from gamesolve.kernels.cfr import regret_matching
from gamesolve.kernels.mccfr import external_sampling_iterations, max_depth, outcome_sampling_iterations
from gamesolve.policy import TabularPolicy
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.cfr import average_strategy
from gamesolve.solvers.common import check_extensive_form, prepare_extensive_form
from gamesolve.spec import GameSpec
from gamesolve.validation import check_real

__all__ = ["ExternalSamplingMCCFR", "OutcomeSamplingMCCFR"]

log = logging.getLogger(__name__)


class _MonteCarloCFR(IterativeSolver):
    """What both sampling schemes share: state layout, scope check and policies."""

    name: str = ""
    output = Iterate.AVERAGE

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {}

    def prepare(self, game: Any) -> CompiledGame:
        """The compiled form of an extensive-form game."""
        return prepare_extensive_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Any extensive-form game (any number of players, any utility)."""
        check_extensive_form(self.name, spec)

    #: What a resumed state must satisfy before any kernel sees it.
    state_rules = StateRules(counter="t", nonnegative=frozenset({"avg"}))

    def init(self, game: CompiledGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Zero regrets and cumulative strategy, and the sampling key drawn from ``rng``."""
        shape = (game.num_infosets, game.max_actions)
        return {
            "t": np.zeros((), dtype=np.int64),  # iterations done
            "key": np.asarray(rng.integers(0, 2**63, dtype=np.int64), dtype=np.uint64),  # 0-d hash key
            "regrets": np.zeros(shape),  # [I, A] cumulative regrets
            "avg": np.zeros(shape),  # [I, A] cumulative strategy
        }

    @abc.abstractmethod
    def step(self, game: CompiledGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` iterations (one sampled traversal per player each) in one kernel call."""

    def policy(self, game: CompiledGame, state: dict[str, NDArray[Any]], which: Iterate) -> TabularPolicy:
        """The average strategy (what converges) or the current iterate (regret matching)."""
        if which is Iterate.AVERAGE:
            return TabularPolicy(game, average_strategy(game, state["avg"]), validate=False)
        regrets = state["regrets"]
        probs = np.zeros_like(regrets)  # [I, A]
        regret_matching(game.tree, regrets, regrets, False, -1, probs)
        return TabularPolicy(game, probs, validate=False)


def _advance(state: dict[str, NDArray[Any]], iterations: int) -> tuple[int, np.uint64]:
    """First iteration number to run (iterations count from 1) and the key; bumps the counter."""
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    t = int(state["t"]) + 1
    state["t"] = np.asarray(t + iterations - 1, dtype=np.int64)
    return t, np.uint64(state["key"])


class ExternalSamplingMCCFR(_MonteCarloCFR):
    """Monte Carlo CFR with external sampling (Lanctot et al. 2009).

    Each iteration traverses the tree once per player ``i`` (player 0 first). Chance and the other
    players sample one action (chance from its distribution, players from their current strategy);
    player ``i`` tries every action and adds ``v(a) - v`` to its regrets, where the sampled values
    need no importance weights. The average strategy uses "simple" averaging as in OpenSpiel and
    Pluribus: at the nodes of player ``(i + 1) mod n`` the current strategy is added once per visit.

    The average strategy converges: in two-player zero-sum games its exploitability is
    ``O(1/sqrt(T))`` with high probability; with more players or general-sum payoffs it converges to
    the set of coarse correlated equilibria.
    """

    name = "mccfr-es"

    def step(self, game: CompiledGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` external-sampling iterations in one kernel call."""
        _es_scratch(game, state)
        t, key = _advance(state, iterations)
        external_sampling_iterations(
            game.tree,
            state["_node_terminal"],
            key,
            t,
            iterations,
            state["regrets"],
            state["avg"],
            state["_frame_node"],
            state["_frame_next"],
            state["_frame_policy"],
            state["_frame_values"],
        )

    def __repr__(self) -> str:
        return "ExternalSamplingMCCFR()"


class OutcomeSamplingMCCFR(_MonteCarloCFR):
    """Monte Carlo CFR with outcome sampling (Lanctot et al. 2009).

    Each iteration samples one trajectory per player ``i`` (player 0 first). Player ``i`` samples
    from the epsilon-on-policy distribution ``q = epsilon * uniform + (1 - epsilon) * sigma``, the
    others from their current strategy and chance from its distribution. Values are estimated with
    the baseline-free importance-sampling estimator; at ``i``'s infosets on the trajectory the
    regrets get ``(pi_-i / q(h)) (v(a) - v)`` and the cumulative strategy ``(pi_i / q(h)) sigma``.

    The average strategy converges: in two-player zero-sum games its exploitability is
    ``O(1/sqrt(T))`` with high probability (more slowly than external sampling per iteration, with
    constants that grow as ``epsilon`` shrinks); with more players or general-sum payoffs it
    converges to the set of coarse correlated equilibria.

    Args:
        epsilon: Exploration weight of the uniform distribution at the update player's nodes, in
            ``(0, 1]`` (OpenSpiel's default 0.6).

    Raises:
        InvalidArgumentError: ``epsilon`` is not a number in ``(0, 1]``.
    """

    name = "mccfr-os"

    def __init__(self, epsilon: float = 0.6) -> None:
        self.epsilon = check_real("epsilon", epsilon, minimum=0.0, maximum=1.0, min_inclusive=False)

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {"epsilon": self.epsilon}

    def step(self, game: CompiledGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` outcome-sampling iterations in one kernel call."""
        _os_scratch(game, state)
        t, key = _advance(state, iterations)
        outcome_sampling_iterations(
            game.tree,
            state["_node_terminal"],
            key,
            t,
            iterations,
            self.epsilon,
            state["regrets"],
            state["avg"],
            state["_path_infoset"],
            state["_path_slot"],
            state["_path_q"],
            state["_path_own"],
            state["_path_opp"],
            state["_path_sample"],
            state["_path_policy"],
        )

    def __repr__(self) -> str:
        return f"OutcomeSamplingMCCFR(epsilon={self.epsilon})"


def _es_scratch(game: CompiledGame, state: dict[str, NDArray[Any]]) -> None:
    """Per-run work arrays, kept in ``state`` under ``_`` names (never checkpointed)."""
    if "_frame_node" in state:
        return
    depth = max_depth(game.node_parent)
    width = game.max_actions
    state["_node_terminal"] = game.node_terminal  # [N] int32
    state["_frame_node"] = np.zeros(depth, dtype=np.int32)  # [D]
    state["_frame_next"] = np.zeros(depth, dtype=np.int32)  # [D]
    state["_frame_policy"] = np.zeros((depth + 1, width))  # [D + 1, A]
    state["_frame_values"] = np.zeros((depth, width))  # [D, A]


def _os_scratch(game: CompiledGame, state: dict[str, NDArray[Any]]) -> None:
    """Per-run work arrays, kept in ``state`` under ``_`` names (never checkpointed)."""
    if "_path_infoset" in state:
        return
    depth = max_depth(game.node_parent)
    state["_node_terminal"] = game.node_terminal  # [N] int32
    state["_path_infoset"] = np.zeros(depth, dtype=np.int32)  # [D]
    state["_path_slot"] = np.zeros(depth, dtype=np.int32)  # [D]
    state["_path_q"] = np.zeros(depth)  # [D]
    state["_path_own"] = np.zeros(depth)  # [D]
    state["_path_opp"] = np.zeros(depth)  # [D]
    state["_path_sample"] = np.zeros(depth)  # [D]
    state["_path_policy"] = np.zeros((depth + 1, game.max_actions))  # [D + 1, A]


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
MCCFR_ES_ENTRY = SolverEntry("mccfr-es", ExternalSamplingMCCFR, "Monte Carlo CFR, external sampling")
MCCFR_OS_ENTRY = SolverEntry("mccfr-os", OutcomeSamplingMCCFR, "Monte Carlo CFR, outcome sampling")
