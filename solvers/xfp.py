"""Extensive-form fictitious play (XFP; Heinrich, Lanctot & Silver 2015).

Heinrich, Lanctot & Silver 2015, "Fictitious Self-Play in Extensive-Form Games" (ICML), Algorithm 1
and Theorem 7. Every iteration computes an exact best response of every player to the current
average profile and mixes it into the average in sequence form, ``x_t = (1 - a_t) x_{t-1} + a_t
BR_t`` with ``a_t = 1 / t`` by default; by Theorem 7 this is realization-equivalent to mixing the
behavior strategies with weights proportional to the players' own reach. With ``a_t = 1 / t`` the
average is the uniform mixture of the best responses so far: normal-form fictitious play's
empirical distribution, run in behavior strategies. Best-response values equal up to rounding
(relative ``1e-12``) are ties, split evenly by default (``tie_break="uniform"``), so runs do not
depend on floating-point noise.

Convergence: the *average* profile converges to a Nash equilibrium in two-player zero-sum games
(Robinson 1951, "An iterative method of solving a game") and in potential games, slowly: typically
about ``O(t^{-1/2})`` in exploitability, with exponentially slow worst cases under adversarial
tie-breaking (Daskalakis & Pan 2014, "A counter-example to Karlin's strong conjecture for fictitious
play"). The last iterate is a pure best-response profile and does not converge. With more players
or general-sum payoffs there is no guarantee (fictitious play may cycle; Shapley 1964).

>>> import gamesolve
>>> from gamesolve.solvers.xfp import XFP
>>> result = gamesolve.solve(gamesolve.load_game("kuhn"), XFP(), iterations=100, progress=False)
>>> result.exploitability < 0.025, abs(result.value[0] + 1 / 18) < 1e-3
(True, True)
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules, check_distributions
from gamesolve.compiled import CompiledGame
from gamesolve.errors import UnsupportedGame
from gamesolve.kernels.evaluation import best_responses, forward_reach
from gamesolve.policy import TabularPolicy
from gamesolve.registry import SolverEntry
from gamesolve.sequence_form import behavior_to_plans, plans_to_behavior
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.common import prepare_extensive_form
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_int, check_real

__all__ = ["XFP"]

log = logging.getLogger(__name__)


class XFP(IterativeSolver):
    """Extensive-form fictitious play with exact best responses (see the module docstring).

    Args:
        step_size: ``None`` (default) for the fictitious-play schedule ``a_t = 1 / (t + offset)``,
            or a constant mixing weight in ``(0, 1]`` (a constant weight tracks recent responses
            and does not converge to an equilibrium; it is there for experiments).
        offset: ``0`` (default: the average of the best responses) or ``1`` (the initial profile
            counts as one sample, OpenSpiel's convention).
        tie_break: ``"uniform"`` (split over tied actions, default) or ``"lowest"``.

    The state holds every player's average realization plan (``avg_plan``, ``[S]`` concatenated
    by ``game.sequence_offset``) and the last best-response profile (``br_probs``, ``[I, A]``).
    ``Iterate.AVERAGE`` (what converges) is the average plan in behavior form; ``Iterate.CURRENT``
    is the last best-response profile (uniform before the first iteration).

    Raises:
        InvalidArgumentError: An option outside the values above, naming it.
    """

    output = Iterate.AVERAGE
    name = "xfp"

    def __init__(
        self, *, step_size: float | None = None, offset: int = 0, tie_break: str = "uniform"
    ) -> None:
        self.step_size = (
            None
            if step_size is None
            else check_real("step_size", step_size, minimum=0.0, maximum=1.0, min_inclusive=False)
        )
        self.offset = check_int("offset", offset, minimum=0, maximum=1)
        self.tie_break = check_choice("tie_break", tie_break, ("uniform", "lowest"))

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {"step_size": self.step_size, "offset": self.offset, "tie_break": self.tie_break}

    def prepare(self, game: Any) -> CompiledGame:
        """The compiled form of an extensive-form game."""
        return prepare_extensive_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Any extensive-form game; the Nash guarantee holds for two-player zero-sum games."""
        if spec.kind is not GameKind.EXTENSIVE_FORM:
            raise UnsupportedGame(f"{self.name} solves extensive-form games, not {spec.kind.value} games")
        if not spec.is_two_player_zero_sum:
            log.info(
                "%s on %s: fictitious play is only guaranteed to converge in two-player zero-sum "
                "and potential games",
                self.name,
                spec.name,
            )

    #: What a resumed state must satisfy before any kernel sees it.
    state_rules = StateRules(
        counter="t",
        nonnegative=frozenset({"avg_plan", "br_probs"}),
        probabilities=frozenset({"avg_plan", "br_probs"}),
    )

    def check_state(self, game: CompiledGame, state: dict[str, NDArray[Any]]) -> None:
        """The best response is a distribution over the legal actions of every infoset."""
        check_distributions("br_probs", state["br_probs"], game.legal_mask)

    def init(self, game: CompiledGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """The uniform profile as the initial average; no best response yet."""
        del rng  # deterministic
        uniform = game.legal_mask / game.infoset_num_actions[:, None]
        return {
            "t": np.zeros((), dtype=np.int64),
            "avg_plan": behavior_to_plans(game, uniform),
            "br_probs": np.array(uniform, dtype=np.float64),
        }

    def step(self, game: CompiledGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` iterations: best responses to the average, then a sequence-form mix."""
        scratch = _scratch(game, state)
        plan = state["avg_plan"]
        br_probs = state["br_probs"]
        reach, cf, below = scratch["_reach"], scratch["_cf"], scratch["_below"]
        values, br_values, br_slot = scratch["_values"], scratch["_br_values"], scratch["_br_slot"]
        rows = scratch["_rows"]
        t = int(state["t"])
        for _ in range(iterations):
            t += 1
            avg = plans_to_behavior(game, plan)
            forward_reach(game.tree, avg, reach)
            best_responses(
                game.tree,
                reach,
                cf,
                below,
                values,
                br_values,
                br_slot,
            )
            if self.tie_break == "lowest":
                br_probs[:] = 0.0
                br_probs[rows, br_slot] = 1.0
            else:
                _split_ties(cf, below, scratch["_slots"], game.legal_mask, br_probs)
            a = self.step_size if self.step_size is not None else 1.0 / (t + self.offset)
            plan *= 1.0 - a
            plan += a * behavior_to_plans(game, br_probs)
        state["t"] = np.asarray(t, dtype=np.int64)

    def policy(self, game: CompiledGame, state: dict[str, NDArray[Any]], which: Iterate) -> TabularPolicy:
        """The average profile (what converges) or the last best-response profile."""
        if which is Iterate.AVERAGE:
            return TabularPolicy(game, plans_to_behavior(game, state["avg_plan"]), validate=False)
        return TabularPolicy(game, state["br_probs"].copy(), validate=False)

    def __repr__(self) -> str:
        return f"XFP(step_size={self.step_size})"


def _scratch(game: CompiledGame, state: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """Per-run work arrays, kept in ``state`` under ``_`` names (never checkpointed)."""
    if "_reach" not in state:
        total = int(game.num_sequences.sum())
        state["_reach"] = np.empty((game.num_nodes, game.num_players + 1))
        state["_cf"] = np.empty(total)
        state["_below"] = np.empty(total)
        state["_values"] = np.empty(game.num_players)
        state["_br_values"] = np.empty(game.num_players)
        state["_br_slot"] = np.empty(game.num_infosets, dtype=np.int32)
        state["_rows"] = np.arange(game.num_infosets)
        owner_base = game.sequence_offset[game.infoset_player] + game.infoset_first_seq
        slots = owner_base[:, None] + np.arange(game.max_actions)[None, :]
        state["_slots"] = np.where(game.legal_mask, slots, owner_base[:, None])
    return state


def _split_ties(
    cf: NDArray[np.float64],
    below: NDArray[np.float64],
    slots: NDArray[np.int64],
    legal: NDArray[np.bool_],
    out: NDArray[np.float64],
) -> None:
    """Best responses from the kernel's per-sequence values, split evenly over (near-)ties."""
    values = np.where(legal, cf[slots] + below[slots], -np.inf)
    best = values.max(axis=1, keepdims=True)
    scale = np.maximum(1.0, np.abs(np.where(legal, values, 0.0)).max(axis=1, keepdims=True))
    tied = values >= best - 1e-12 * scale
    out[:] = tied / tied.sum(axis=1, keepdims=True)


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
XFP_ENTRY = SolverEntry("xfp", XFP, "extensive-form fictitious play (average)")
