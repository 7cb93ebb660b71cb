"""Two-player zero-sum Markov games: Shapley value iteration and tabular minimax-Q.

**Shapley value iteration** (Shapley 1953): ``V_{k+1}(s) = val[r(s, a, b) + gamma E V_k(s')]``,
the value of the matrix game of one-step lookahead values in every state. The operator is a
``gamma``-contraction in the sup norm, so ``||V_{k+1} - V*|| <= gamma / (1 - gamma) ||V_{k+1} - V_k||``;
we stop when that bound falls below ``tolerance``. All states' matrix games are solved in one
batched call of an exact simplex kernel (:mod:`gamesolve.kernels.matrix_game`), and the
stationary policies are the maximin / minimax strategies of the final lookahead games.

**Minimax-Q** (Littman 1994): ``Q(s, a, b) <- (1 - alpha) Q + alpha (r + gamma V(s'))`` with
``V(s) = val[Q(s, ., .)]``, learned from one stream of play in which both players act
epsilon-greedily around the maximin / minimax strategies of ``Q``. One iteration is one
environment step; the step size of an entry decays with its visit count,
``alpha = max(alpha_min, (1 + n(s, a, b)) ** -omega)``, which satisfies Robbins-Monro when
``alpha_min = 0`` and ``1/2 < omega <= 1``. It converges to ``Q*`` when every entry is visited
infinitely often.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules, check_distributions
from gamesolve.errors import UnsupportedGame
from gamesolve.kernels.matrix_game import solve_matrix_games
from gamesolve.markov import MarkovProfile, TabularMarkovGame, nash_conv
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_bool, check_int, check_real

__all__ = ["MinimaxQ", "ShapleyIteration", "check_markov", "prepare_markov", "shapley_values"]

log = logging.getLogger(__name__)


def prepare_markov(name: str, game: Any) -> TabularMarkovGame:
    """``game`` as a :class:`~gamesolve.markov.TabularMarkovGame`, or :class:`UnsupportedGame`."""
    if isinstance(game, TabularMarkovGame):
        return game
    spec = getattr(game, "spec", None)
    if spec is not None and spec.kind is GameKind.MARKOV:
        raise UnsupportedGame(
            f"{name} needs a tabular Markov game (transition and reward arrays); this one can only be "
            "sampled; use minimax-dqn"
        )
    kind = spec.kind.value if spec is not None else type(game).__name__
    raise UnsupportedGame(f"{name} solves tabular Markov games, not {kind} games")


def check_markov(name: str, spec: GameSpec) -> None:
    """Two-player zero-sum (or constant-sum) Markov games only."""
    if spec.kind is not GameKind.MARKOV:
        raise UnsupportedGame(f"{name} solves Markov games, not {spec.kind.value} games")
    if not spec.is_two_player_zero_sum:
        raise UnsupportedGame(
            f"{name} needs a two-player zero-sum Markov game; {spec.name} has {spec.num_players} players "
            f"and {spec.utility.value} rewards (evaluate profiles of it with gamesolve.markov.nash_conv)"
        )


def _readonly(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _lookahead(game: TabularMarkovGame, values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Player 0's one-step lookahead games ``[S, A, B]`` for values ``[S]``."""
    q = game.reward_flat[0] + game.discount * game.expected_next(values)  # [S, J]
    return q.reshape(game.num_states, *game.num_actions)


def shapley_values(
    game: TabularMarkovGame,
    *,
    tolerance: float = 1e-10,
    max_sweeps: int = 1_000_000,
    time_limit: float | None = None,
    progress: Any = None,
) -> tuple[NDArray[np.float64], MarkovProfile, dict[str, Any]]:
    """Shapley value iteration to ``||V - V*||_inf <= tolerance``.

    Args:
        game: A two-player zero-sum tabular Markov game.
        tolerance: Sup-norm distance to the fixed point guaranteed by the contraction bound
            (finite, > 0).
        max_sweeps: Largest number of sweeps (an integer >= 1).
        time_limit: Seconds allowed, > 0 (the run stops early, unconverged); ``None`` or
            ``inf``: no limit.
        progress: A tqdm-like bar to update once per sweep, or ``None``.

    Raises:
        InvalidArgumentError: ``tolerance``, ``max_sweeps`` or ``time_limit`` out of range.

    Returns:
        Player 0's values ``[S]``, the stationary maximin/minimax profile of the final lookahead
        games, and facts about the run (``sweeps``, ``residual``, ``error_bound``, ``converged``,
        ``seconds``).
    """
    tolerance = check_real("tolerance", tolerance, minimum=0.0, min_inclusive=False)
    max_sweeps = check_int("max_sweeps", max_sweeps, minimum=1)
    if time_limit is not None:
        time_limit = check_real("time_limit", time_limit, minimum=0.0, min_inclusive=False, allow_inf=True)
    gamma = game.discount
    live = ~game.terminal  # [S]
    values = np.zeros(game.num_states)  # [S]
    threshold = tolerance * (1.0 - gamma) / gamma if gamma > 0 else np.inf
    start = time.perf_counter()
    residual = np.inf
    sweeps = 0
    converged = False
    while sweeps < max_sweeps:
        nxt = np.zeros_like(values)
        nxt[live] = solve_matrix_games(_lookahead(game, values)[live])[0]
        residual = float(np.abs(nxt - values).max(initial=0.0))
        values = nxt
        sweeps += 1
        if progress is not None:
            progress.update(1)
            progress.set_postfix(residual=f"{residual:.2e}", refresh=False)
        if residual < threshold or gamma == 0.0:
            converged = True
            break
        if time_limit is not None and time.perf_counter() - start >= time_limit:
            break
    bound = residual * gamma / (1.0 - gamma)
    x = np.zeros((game.num_states, game.num_actions[0]))
    y = np.zeros((game.num_states, game.num_actions[1]))
    x[:] = 1.0 / game.num_actions[0]
    y[:] = 1.0 / game.num_actions[1]
    if live.any():
        _, x[live], y[live] = solve_matrix_games(_lookahead(game, values)[live])
    facts = {
        "sweeps": sweeps,
        "residual": residual,
        "error_bound": bound,
        "converged": converged,
        "seconds": time.perf_counter() - start,
    }
    return values, MarkovProfile.of(game, [x, y]), facts


@dataclass(frozen=True)
class _Unevaluated:
    """The report of a run with ``evaluate=False``: NaN where the exact figures would be."""

    exploitability: float = math.nan
    nash_conv: float = math.nan
    on_policy_values: tuple[float, ...] = ()


class ShapleyIteration(IterativeSolver):
    """The registry's ``"shapley"`` solver: Shapley value iteration through :func:`gamesolve.solve`.

    One iteration is one sweep, so ``iterations``, ``time_limit``, checkpoints and resume work as
    for every iterative solver; the run stops by itself once the contraction bound guarantees
    ``tolerance`` (at most ``max_sweeps`` sweeps when no budget is given). The state is the value
    vector ``values [S]`` (player 0's), the last sweep's ``residual`` and the sweep counter ``t``.

    The result's ``value`` is player 0's value in every state ``[S]``, its ``policy`` the
    stationary :class:`~gamesolve.markov.MarkovProfile` (maximin / minimax strategies of the
    lookahead games), its ``nash_conv`` the exact NashConv of that profile at the initial
    distribution (best responses by policy iteration), and ``extras`` the ``sweeps``, the last
    ``residual`` and the ``error_bound`` on the values.

    Args:
        tolerance: Guaranteed sup-norm distance of the values to the game's values (finite, > 0).
        max_sweeps: Sweeps allowed when the caller gives no other budget (an integer >= 1).
        evaluate: Compute the exact NashConv of the profiles (on by default; off gives NaN).

    Raises:
        InvalidArgumentError: An option out of range, naming it.
    """

    name = "shapley"
    output = Iterate.CURRENT
    state_rules = StateRules(counter="t")
    #: The run ends by itself once :meth:`finished` says so.
    can_finish = True

    def __init__(self, tolerance: float = 1e-10, max_sweeps: int = 1_000_000, evaluate: bool = True) -> None:
        self.tolerance = check_real("tolerance", tolerance, minimum=0.0, min_inclusive=False)
        self.max_sweeps = check_int("max_sweeps", max_sweeps, minimum=1)
        self.evaluate_profiles = check_bool("evaluate", evaluate)
        self._cache: tuple[int, int, MarkovProfile] | None = None
        self.default_iterations = self.max_sweeps  # the sweep budget when no stopping rule is given

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {
            "tolerance": self.tolerance,
            "max_sweeps": self.max_sweeps,
            "evaluate": self.evaluate_profiles,
        }

    def prepare(self, game: Any) -> TabularMarkovGame:
        """The tabular Markov game."""
        return prepare_markov(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum Markov games only."""
        check_markov(self.name, spec)

    def init(self, game: TabularMarkovGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Zero values; no sweep yet."""
        del rng  # deterministic
        return {
            "t": np.zeros((), dtype=np.int64),
            "values": np.zeros(game.num_states),  # [S] player 0's values
            "residual": np.asarray(np.inf),  # sup-norm change of the last sweep
        }

    def _threshold(self, game: TabularMarkovGame) -> float:
        gamma = game.discount
        return self.tolerance * (1.0 - gamma) / gamma if gamma > 0 else math.inf

    def step(self, game: TabularMarkovGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` sweeps (none once converged: they are counted but change nothing)."""
        live = ~game.terminal  # [S]
        values = state["values"]
        residual = float(state["residual"])
        threshold = self._threshold(game)
        for _ in range(iterations):
            if residual < threshold:
                continue
            nxt = np.zeros_like(values)
            nxt[live] = solve_matrix_games(_lookahead(game, values)[live])[0]
            residual = float(np.abs(nxt - values).max(initial=0.0))
            values = nxt
        state["values"] = values
        state["residual"] = np.asarray(residual)
        state["t"] = np.asarray(int(state["t"]) + iterations, dtype=np.int64)

    def finished(self, game: TabularMarkovGame, state: dict[str, NDArray[Any]]) -> str | None:
        """A message once the values are within ``tolerance`` of the game's values."""
        residual = float(state["residual"])
        if residual < self._threshold(game):
            bound = residual * game.discount / (1.0 - game.discount)
            return f"converged in {int(state['t'])} sweeps: values within {bound:.2e} of the game's values"
        return None

    def policy(
        self, game: TabularMarkovGame, state: dict[str, NDArray[Any]], which: Iterate
    ) -> MarkovProfile:
        """The maximin / minimax strategies of the current lookahead games (every iterate alike)."""
        del which
        key = (id(state["values"]), int(state["t"]))
        if self._cache is not None and self._cache[:2] == key:
            return self._cache[2]
        live = ~game.terminal
        x = np.full((game.num_states, game.num_actions[0]), 1.0 / game.num_actions[0])
        y = np.full((game.num_states, game.num_actions[1]), 1.0 / game.num_actions[1])
        if live.any():
            _, x[live], y[live] = solve_matrix_games(_lookahead(game, state["values"])[live])
        profile = MarkovProfile.of(game, [x, y])
        self._cache = (*key, profile)
        return profile

    def evaluate(self, game: TabularMarkovGame, policy: MarkovProfile) -> float:
        """Exact exploitability of ``policy`` (NaN with ``evaluate=False``)."""
        return nash_conv(game, policy).exploitability if self.evaluate_profiles else math.nan

    def report(self, game: TabularMarkovGame, policy: MarkovProfile) -> Any:
        """The exact NashConv report of ``policy`` (NaN figures with ``evaluate=False``)."""
        return nash_conv(game, policy) if self.evaluate_profiles else _Unevaluated()

    def values(self, game: TabularMarkovGame, state: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        """Player 0's values ``[S]`` (read-only)."""
        return _readonly(state["values"])

    def extras(self, game: TabularMarkovGame, state: dict[str, NDArray[Any]]) -> dict[str, Any]:
        """Sweeps done, the last residual and the guaranteed error bound on the values."""
        residual = float(state["residual"])
        gamma = game.discount
        bound = residual * gamma / (1.0 - gamma) if math.isfinite(residual) else math.inf
        return {"sweeps": int(state["t"]), "residual": residual, "error_bound": bound}


class MinimaxQ(IterativeSolver):
    """The registry's ``"minimax-q"`` solver: tabular minimax-Q from one stream of self-play.

    One iteration is one environment step. Both players act epsilon-greedily around the
    maximin / minimax strategies of the learned ``Q`` (Littman used ``epsilon = 0.2``). The
    result's ``value`` is the learned ``val Q(s)`` of every state, its ``policy`` the stationary
    profile read from ``Q``, and the exploitability is exact (best responses on the tabular game).

    Args:
        epsilon: Exploration probability of each player at each step, in ``[0, 1]``.
        omega: Step-size exponent in ``(0, 1]``: ``alpha = max(alpha_min, (1 + visits) ** -omega)``.
        alpha_min: Floor of the step size, in ``[0, 1]`` (0 keeps the Robbins-Monro conditions).
        horizon: Steps before an episode is cut and restarted from the initial distribution (an
            integer >= 1; default: the game's ``default_horizon``).

    Raises:
        InvalidArgumentError: An option out of range, naming it.
    """

    name = "minimax-q"
    output = Iterate.CURRENT

    def __init__(
        self, epsilon: float = 0.2, omega: float = 0.6, alpha_min: float = 0.0, horizon: int | None = None
    ) -> None:
        self.epsilon = check_real("epsilon", epsilon, minimum=0.0, maximum=1.0)
        self.omega = check_real("omega", omega, minimum=0.0, maximum=1.0, min_inclusive=False)
        self.alpha_min = check_real("alpha_min", alpha_min, minimum=0.0, maximum=1.0)
        self.horizon = None if horizon is None else check_int("horizon", horizon, minimum=1)

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {
            "epsilon": self.epsilon,
            "omega": self.omega,
            "alpha_min": self.alpha_min,
            "horizon": self.horizon,
        }

    def prepare(self, game: Any) -> TabularMarkovGame:
        """The tabular Markov game."""
        return prepare_markov(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum Markov games only."""
        check_markov(self.name, spec)

    #: What a resumed state must satisfy before the kernel sees it.
    state_rules = StateRules(
        nonnegative=frozenset({"visits", "counters"}), probabilities=frozenset({"x", "y"})
    )

    def check_state(self, game: TabularMarkovGame, state: dict[str, NDArray[Any]]) -> None:
        """The current state is a state of the game; strategies are distributions."""
        s, in_episode, _ = (int(v) for v in state["counters"])
        if not 0 <= s < game.num_states:
            raise ValueError(f"the current state {s} is not a state of this game (0..{game.num_states - 1})")
        if in_episode < 0:
            raise ValueError(f"the episode step {in_episode} is negative")
        check_distributions("x", state["x"])
        check_distributions("y", state["y"])

    def state_counter(self, state: dict[str, NDArray[Any]]) -> int:
        """Iterations done (environment steps), as a checkpoint's header must say."""
        return int(state["counters"][2])

    def init(self, game: TabularMarkovGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Zero ``Q``, uniform strategies, a start state drawn from the initial distribution."""
        s, (n_a, n_b) = game.num_states, game.num_actions
        start = int(rng.choice(s, p=game.initial))
        return {
            "q": np.zeros((s, n_a, n_b)),
            "visits": np.zeros((s, n_a, n_b), dtype=np.int64),
            "values": np.zeros(s),
            "x": np.full((s, n_a), 1.0 / n_a),
            "y": np.full((s, n_b), 1.0 / n_b),
            "counters": np.array([start, 0, 0], dtype=np.int64),
            "key": np.asarray(rng.integers(0, 2**63, dtype=np.int64), dtype=np.uint64),
        }

    def step(self, game: TabularMarkovGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Advance by ``iterations`` environment steps."""
        from gamesolve.kernels.markov import minimax_q_steps

        m = game.transition_matrix
        minimax_q_steps(
            m.indptr.astype(np.int64),
            m.indices.astype(np.int64),
            m.data,
            game.reward_flat[0],
            game.terminal,
            game.initial,
            game.discount,
            state["q"],
            state["visits"],
            state["values"],
            state["x"],
            state["y"],
            state["counters"],
            np.uint64(state["key"]),
            int(iterations),
            self.epsilon,
            self.omega,
            self.alpha_min,
            self.horizon or game.default_horizon,
        )

    def policy(
        self, game: TabularMarkovGame, state: dict[str, NDArray[Any]], which: Iterate
    ) -> MarkovProfile:
        """The stationary profile read from ``Q`` (every iterate is the current one)."""
        return MarkovProfile.of(game, [state["x"], state["y"]])

    def evaluate(self, game: TabularMarkovGame, policy: MarkovProfile) -> float:
        """Exact exploitability of ``policy``."""
        return nash_conv(game, policy).exploitability

    def report(self, game: TabularMarkovGame, policy: MarkovProfile) -> Any:
        """Exact NashConv report of ``policy``."""
        return nash_conv(game, policy)

    def values(self, game: TabularMarkovGame, state: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        """Player 0's learned values ``val Q(s)`` ``[S]`` (0 at terminal states)."""
        out = np.where(game.terminal, 0.0, state["values"])
        out.setflags(write=False)
        return out


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
SHAPLEY_ENTRY = SolverEntry("shapley", ShapleyIteration, "Shapley value iteration (Markov games)")
MINIMAX_Q_ENTRY = SolverEntry("minimax-q", MinimaxQ, "tabular minimax-Q self-play (Markov games)")
