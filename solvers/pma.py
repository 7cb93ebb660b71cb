"""Policy Mirror Ascent (PMA) for stationary entropy-regularized mean-field games.

Yardim, Cayci, Geist & He 2023, "Policy Mirror Ascent for Efficient and Independent Learning in Mean
Field Games" (ICML), the exact (model-based) form. Each iteration computes the mean field ``mu_k`` of
the current policy (:func:`~gamesolve.mean_field.stationary_distribution`), evaluates ``Q_k =
Q_tau^{pi_k, mu_k}`` exactly in the MDP it induces (:func:`~gamesolve.mean_field.evaluate_policy`)
and takes one KL-proximal ascent step on the regularized objective, ``pi_{k+1} ∝ pi_k^{1/(1 + eta
tau)} exp(eta Q_k / (1 + eta tau))`` (in log space).

What converges: the fixed points of the step are exactly the regularized mean-field Nash equilibria
``pi* = softmax(Q_tau^{pi*, mu*} / tau)``, whatever ``eta``. Under Lipschitz conditions on the
rewards and transitions in ``mu`` and strong enough regularization ``tau`` (the game's ``tau``) the
step is a contraction, so the *last iterate*, this solver's output, converges linearly; near the
fixed point the error shrinks by about ``1 / (1 + eta tau)`` per step. :func:`gamesolve.solve`
reports its regularized exploitability (:func:`~gamesolve.mean_field.exploitability`). The default
``eta = 1`` is a middle course: large steps approach the soft best-response map, which is faster
under weak mean-field coupling but oscillates under strong coupling; small steps are safer and
slower.

>>> import gamesolve
>>> from gamesolve.games.mean_field import crowd_aversion
>>> result = gamesolve.solve(crowd_aversion(2), PolicyMirrorAscent(), iterations=200,
...                          target_exploitability=1e-10, progress=False)
>>> result.converged, result.policy.shape
(True, (2, 2))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.checkpoint import StateRules
from gamesolve.errors import UnsupportedGame
from gamesolve.mean_field import (
    MeanFieldGame,
    MeanFieldReport,
    evaluate_policy,
    exploitability_report,
    stationary_distribution,
)
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_real

__all__ = ["PolicyMirrorAscent"]

State = dict[str, NDArray[Any]]


class PolicyMirrorAscent(IterativeSolver):
    """Exact Policy Mirror Ascent on a stationary MFG (Yardim et al., ICML 2023; see the module).

    State: ``t`` (0-d int64), ``logits`` ``[S, A]`` float64 (``log pi_k``, normalized per state)
    and ``mu`` ``[S]`` float64 (the mean field of the previous policy, a warm start).

    Args:
        eta: Step size of the mirror-ascent step (> 0, default 1).

    Raises:
        InvalidArgumentError: ``eta`` is not a positive finite number.
    """

    name = "pma"
    output = Iterate.CURRENT

    def __init__(self, eta: float = 1.0) -> None:
        self.eta = check_real("eta", eta, minimum=0.0, min_inclusive=False)

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {"eta": self.eta}

    def prepare(self, game: Any) -> MeanFieldGame:
        """The mean-field game itself.

        Raises:
            UnsupportedGame: ``game`` is not a :class:`~gamesolve.mean_field.MeanFieldGame`.
        """
        if not isinstance(game, MeanFieldGame):
            raise UnsupportedGame(
                f"pma solves stationary mean-field games (gamesolve.mean_field.MeanFieldGame); "
                f"got {type(game).__name__}"
            )
        return game

    def check(self, spec: GameSpec) -> None:
        """One representative agent in a Markov (mean-field) game."""
        if spec.kind is not GameKind.MEAN_FIELD or spec.num_players != 1:
            raise UnsupportedGame(
                f"pma solves mean-field games (one representative agent), not "
                f"{spec.num_players}-player {spec.kind.value} games"
            )

    #: What a resumed state must satisfy before any update sees it.
    state_rules = StateRules(counter="t", nonnegative=frozenset({"mu"}), probabilities=frozenset({"mu"}))

    def init(self, game: MeanFieldGame, rng: np.random.Generator) -> State:
        """Start at the uniform policy (``rng`` is unused: exact PMA is deterministic)."""
        del rng
        logits = np.full((game.num_states, game.num_actions), -math.log(game.num_actions))  # [S, A]
        mu = np.array(stationary_distribution(game, np.exp(logits)))  # [S]
        return {"t": np.zeros((), dtype=np.int64), "logits": logits, "mu": mu}

    def step(self, game: MeanFieldGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` PMA steps in place."""
        shrink = 1.0 / (1.0 + self.eta * game.tau)
        logits = state["logits"]  # [S, A]
        mu = state["mu"]  # [S]
        for _ in range(iterations):
            pi = np.exp(logits)  # [S, A]
            pi /= pi.sum(axis=1, keepdims=True)
            mu = np.array(stationary_distribution(game, pi, mu0=mu))  # [S] mu_k of pi_k
            q = evaluate_policy(game, pi, mu).q  # [S, A] Q_tau^{pi_k, mu_k}
            z = shrink * (logits + self.eta * q)  # [S, A] unnormalized log pi_{k+1}
            top = z.max(axis=1, keepdims=True)
            logits = z - (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))
        state["logits"] = logits
        state["mu"] = mu
        state["t"] = np.asarray(int(state["t"]) + iterations, dtype=np.int64)

    def policy(self, game: MeanFieldGame, state: State, which: Iterate) -> NDArray[np.float64]:
        """The current policy ``[S, A]`` float64, read-only (PMA has no average: both iterates are it)."""
        del game, which
        pi = np.exp(state["logits"])  # [S, A]
        pi /= pi.sum(axis=1, keepdims=True)
        pi.setflags(write=False)
        return pi

    def evaluate(self, game: MeanFieldGame, policy: ArrayLike) -> float:
        """Regularized exploitability of ``policy`` against its own mean field (what ``solve`` records)."""
        return self.report(game, policy).exploitability

    def report(self, game: MeanFieldGame, policy: ArrayLike) -> MeanFieldReport:
        """The mean-field exploitability report; ``report.extras == {"mu": [S] list}``."""
        return exploitability_report(game, policy)


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
PMA_ENTRY = SolverEntry(
    "pma",
    PolicyMirrorAscent,
    "policy mirror ascent, entropy-regularized mean-field games (last iterate, linear rate)",
)
