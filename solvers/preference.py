"""Nash learning from preferences: Nash mirror-prox, EGPO and unregularized self-play baselines.

All three play one policy against itself in a :class:`~gamesolve.preference.PreferenceGame`.

* :class:`NashMirrorProx` (Tiapkin et al. 2025, "Accelerating Nash Learning from Human Feedback
  via Mirror Prox"): two proximal steps per iteration, both anchored at ``pi_k``, on the
  ``beta``-regularized game. With ``eta <= 2 beta`` the last iterate converges linearly,
  ``KL(pi*_beta || pi_k) <= (1 + eta)^-k KL(pi*_beta || pi_0)``.
* :class:`EGPO` (Zhou, Fazel & Du 2025, "Extragradient Preference Optimization"): entropy-
  regularized extragradient with ``pi_ref`` as magnet (Cen et al. 2021);
  ``KL(pi*_beta || pi_t) <= (1 - eta beta)^t KL(pi*_beta || pi_0)`` for ``eta <= 1/(beta + 1)``.
* :class:`PreferenceSelfPlay`: the unregularized baselines (``beta = 0``): multiplicative weights
  self-play (the average converges to the von Neumann winner at ``O(1/sqrt(T))``; the last iterate
  cycles) and its optimistic variant (last iterate converges).

Exploitability reported by :func:`gamesolve.solve` is the regularized one for the regularized
methods and the unregularized one (``max_y P(y > pi) - 1/2``) for the baselines.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules
from gamesolve.errors import InvalidArgumentError, UnsupportedGame
from gamesolve.preference import PreferenceGame
from gamesolve.registry import SolverEntry
from gamesolve.report import ExploitabilityReport
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_bool, check_real

__all__ = ["EGPO", "NashMirrorProx", "PreferenceSelfPlay"]


def _normalize_log(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    z = np.exp(logits - logits.max())
    return z / z.sum()


class _PreferenceSolver(IterativeSolver):
    """Shared plumbing: one policy vector ``pi`` in the state; evaluation by the game's gap."""

    name = "preference"
    output = Iterate.CURRENT
    regularized = True

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k not in ("name", "output")}

    def prepare(self, game: Any) -> PreferenceGame:
        """The preference game itself."""
        if not isinstance(game, PreferenceGame):
            raise UnsupportedGame(f"{self.name} solves preference games; got {type(game).__name__}")
        return game

    def check(self, spec: GameSpec) -> None:
        """Preference games only."""
        if spec.kind is not GameKind.PREFERENCE:
            raise UnsupportedGame(f"{self.name} solves preference games, not {spec.kind.value} games")

    #: What a resumed state must satisfy before any update sees it.
    state_rules = StateRules(
        counter="t", nonnegative=frozenset({"pi", "avg"}), probabilities=frozenset({"pi"})
    )

    def init(self, game: PreferenceGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Start at the reference policy."""
        del rng
        pi = game.reference.copy()
        return {"t": np.zeros((), dtype=np.int64), "pi": pi, "avg": np.zeros_like(pi)}

    def step(self, game: PreferenceGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` updates."""
        for _ in range(iterations):
            state["t"] = np.asarray(int(state["t"]) + 1)
            state["avg"] = state["avg"] + state["pi"]
            state["pi"] = self._update(game, state)

    @abc.abstractmethod
    def _update(self, game: PreferenceGame, state: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        """One iteration's new policy from the state (``state["pi"]`` is the current one)."""

    def policy(
        self, game: PreferenceGame, state: dict[str, NDArray[Any]], which: Iterate
    ) -> NDArray[np.float64]:
        """The last iterate, or the average of the iterates."""
        if which is Iterate.AVERAGE and int(state["t"]) > 0:
            avg = state["avg"] / float(state["avg"].sum())
            return np.asarray(avg)
        return np.asarray(state["pi"]).copy()

    def evaluate(self, game: PreferenceGame, policy: NDArray[np.float64]) -> float:
        """Regularized exploitability (unregularized for the baselines)."""
        if self.regularized:
            return game.regularized_exploitability(policy)
        return game.exploitability(policy)

    def report(self, game: PreferenceGame, policy: NDArray[np.float64]) -> ExploitabilityReport:
        """The symmetric game's report: both players play ``policy`` and each could gain the gap."""
        gap = self.evaluate(game, policy)
        if self.regularized:
            logits = np.log(game.reference) + game.preference @ policy / game.beta
            response: NDArray[np.float64] = _normalize_log(logits)
        else:
            response = np.zeros(game.num_responses)
            response[int(np.argmax(game.preference @ policy))] = 1.0
        return ExploitabilityReport(
            nash_conv=2.0 * gap,
            exploitability=gap,
            on_policy_values=(0.5, 0.5),
            best_response_values=(0.5 + gap, 0.5 + gap),
            best_responses=(response, response),
        )


class NashMirrorProx(_PreferenceSolver):
    """Nash mirror-prox on the ``beta``-regularized preference game (Tiapkin et al. 2025).

    ``ln pi_{k+1/2} = ((1/eta) ln pi_k + ln pi_ref + P(. > pi_k) / beta) / (1 + 1/eta) + c`` and
    ``pi_{k+1}`` the same with ``P(. > pi_{k+1/2})``, still anchored at ``pi_k``. Last-iterate
    linear convergence ``(1 + eta)^-k`` for ``eta <= 2 beta`` (default ``eta = 2 beta``).

    Args:
        eta: Step size, finite and > 0 (default ``2 beta``).

    Raises:
        InvalidArgumentError: ``eta`` is not a finite positive number.
    """

    def __init__(self, eta: float | None = None) -> None:
        self.eta = None if eta is None else check_real("eta", eta, minimum=0.0, min_inclusive=False)
        self.name = "nash-mp"

    def check(self, spec: GameSpec) -> None:
        """Preference games with ``beta > 0`` are checked at :meth:`init`."""
        super().check(spec)

    def init(self, game: PreferenceGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Start at the reference policy; needs ``beta > 0``."""
        if game.beta <= 0:
            raise UnsupportedGame("nash-mp needs a regularized preference game (beta > 0)")
        return super().init(game, rng)

    def _update(self, game: PreferenceGame, state: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        pi = state["pi"]
        eta = self.eta if self.eta is not None else 2.0 * game.beta
        log_pi = np.log(np.maximum(pi, 1e-300))
        log_ref = np.log(game.reference)

        def prox(opponent: NDArray[np.float64]) -> NDArray[np.float64]:
            logits = (log_pi / eta + log_ref + game.preference @ opponent / game.beta) / (1.0 + 1.0 / eta)
            return _normalize_log(logits)

        half = prox(pi)
        return prox(half)


class EGPO(_PreferenceSolver):
    """Extragradient preference optimization (Zhou, Fazel & Du 2025), tabular form.

    ``pi_{t+1/2} ∝ pi_t^(1 - eta beta) pi_ref^(eta beta) exp(eta P(. > pi_t))`` and
    ``pi_{t+1}`` the same from ``pi_t`` with ``P(. > pi_{t+1/2})``. Linear last-iterate rate
    ``(1 - eta beta)^t`` for ``eta <= 1 / (beta + 1)`` (the default).

    Args:
        eta: Step size, finite and > 0 with ``eta * beta < 1`` (default ``1 / (beta + 1)``).

    Raises:
        InvalidArgumentError: ``eta`` is not a finite positive number (when built), or
            ``eta * beta >= 1`` for the game (when the run starts).
    """

    def __init__(self, eta: float | None = None) -> None:
        self.eta = None if eta is None else check_real("eta", eta, minimum=0.0, min_inclusive=False)
        self.name = "egpo"

    def init(self, game: PreferenceGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Start at the reference policy; needs ``beta > 0``."""
        if game.beta <= 0:
            raise UnsupportedGame("egpo needs a regularized preference game (beta > 0)")
        if self.eta is not None and self.eta * game.beta >= 1:
            raise InvalidArgumentError(f"egpo needs eta * beta < 1, got eta={self.eta} and beta={game.beta}")
        return super().init(game, rng)

    def _update(self, game: PreferenceGame, state: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        pi = state["pi"]
        eta = self.eta if self.eta is not None else 1.0 / (game.beta + 1.0)
        base = (1.0 - eta * game.beta) * np.log(np.maximum(pi, 1e-300)) + eta * game.beta * np.log(
            game.reference
        )
        half = _normalize_log(base + eta * (game.preference @ pi))
        return _normalize_log(base + eta * (game.preference @ half))


class PreferenceSelfPlay(_PreferenceSolver):
    """Unregularized self-play baselines on ``P - 1/2``: MWU (average) or optimistic MWU (last).

    Args:
        eta: Step size, finite and > 0 (default 0.1).
        optimistic: Optimistic multiplicative weights (last iterate converges when the von Neumann
            winner is unique); otherwise plain MWU whose average converges at ``O(1/sqrt(T))``.
    """

    regularized = False

    def __init__(self, eta: float = 0.1, optimistic: bool = False) -> None:
        self.eta = check_real("eta", eta, minimum=0.0, min_inclusive=False)
        self.optimistic = optimistic = check_bool("optimistic", optimistic)
        self.name = "preference-omwu" if optimistic else "preference-mwu"
        self.output = Iterate.CURRENT if optimistic else Iterate.AVERAGE

    def init(self, game: PreferenceGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Start at the reference policy with zero cumulative win rates."""
        state = super().init(game, rng)
        state["cumulative"] = np.zeros_like(state["pi"])
        state["last"] = np.zeros_like(state["pi"])
        return state

    def _update(self, game: PreferenceGame, state: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        """FTRL with entropy: ``pi ∝ pi_ref exp(eta (G + m))`` (``m`` = last win rates if optimistic)."""
        g = game.preference @ state["pi"]
        state["cumulative"] = state["cumulative"] + g
        target = state["cumulative"] + (g if self.optimistic else 0.0)
        return _normalize_log(np.log(game.reference) + self.eta * target)


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
NASH_MP_ENTRY = SolverEntry("nash-mp", NashMirrorProx, "Nash mirror-prox on a preference game")
EGPO_ENTRY = SolverEntry("egpo", EGPO, "extragradient preference optimization")
PREFERENCE_MWU_ENTRY = SolverEntry("preference-mwu", PreferenceSelfPlay, "unregularized MWU self-play")
PREFERENCE_OMWU_ENTRY = SolverEntry(
    "preference-omwu",
    PreferenceSelfPlay,
    "unregularized optimistic MWU self-play",
    (("optimistic", True),),
)
