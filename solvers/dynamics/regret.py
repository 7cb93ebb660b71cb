"""Regret-based dynamics: regret matching (external regret) and internal (swap) regret matching.

:class:`RegretMatching` (Hart & Mas-Colell 2000; RM+ of Tammelin 2014; predictive RM+ of Farina,
Kroer & Sandholm 2021) drives every player's external regret to ``O(sqrt(T))``, so the average
profile converges in two-player zero-sum games; :class:`InternalRegret` (Hart & Mas-Colell 2000;
Blum & Mansour 2007) drives the swap regrets down, so the empirical joint play converges to the
correlated equilibria.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError
from gamesolve.normal_form import TensorGame
from gamesolve.registry import SolverEntry
from gamesolve.report import ExploitabilityReport
from gamesolve.solver import Iterate
from gamesolve.solvers.dynamics.base import (
    MAX_EXPONENT,
    DynamicsSolver,
    State,
    optional_positive,
    payoff_gradients,
    real_in,
    sampling_generator,
)
from gamesolve.validation import check_bool

__all__ = ["InternalRegret", "RegretMatching"]


def _player_gradient(game: TensorGame, parts: Sequence[NDArray[np.float64]], i: int) -> NDArray[np.float64]:
    """``[A_i]``: player ``i``'s payoff gradient against the others' strategies."""
    if game.num_players == 2:
        return game.payoffs[0] @ parts[1] if i == 0 else parts[0] @ game.payoffs[1]
    return game.action_values(list(parts), i)


def _strategy_from_regrets(r: NDArray[np.float64], fallback: NDArray[np.float64]) -> NDArray[np.float64]:
    """Regret matching: ``[r]^+`` normalized, or ``fallback`` when no regret is positive."""
    pos = np.maximum(r, 0.0)
    total = pos.sum()
    return pos / total if total > 0 else fallback


class RegretMatching(DynamicsSolver):
    """Regret matching, RM+ and predictive RM+ (simultaneous or alternating updates).

    Each player plays ``[R]^+ / sum [R]^+`` of its cumulative regrets ``R`` (Hart & Mas-Colell
    2000); RM+ clips ``R`` at zero after every update (Tammelin 2014); predictive RM+ plays
    ``[R + r_last]^+`` (Farina, Kroer & Sandholm 2021).

    Convergence: the **average** profile (weights ``t ** averaging``) converges; each player's
    regret is ``O(sqrt(T))`` (Hart & Mas-Colell 2000; Zinkevich et al. 2007 for the bound), so in
    2p0s games the average's NashConv is ``O(1/sqrt(T))``. With simultaneous updates in N-player
    games the empirical joint play converges to the set of coarse correlated equilibria, not to a
    Nash equilibrium. The current iterate need not converge. Alternating updates (player 0 first,
    then player 1 against the new strategy, as in CFR) are much faster in practice in 2p0s games:
    RM+ with linear averaging and predictive RM+ with quadratic averaging get within ``0.01`` of
    biased RPS's equilibrium in 2000 iterations.

    Args:
        plus: Clip cumulative regrets at zero (RM+).
        predictive: Play ``[R + r_last]^+`` (predictive RM+).
        averaging: Weight of iteration ``t`` in the average is ``t ** averaging`` (0 uniform,
            1 linear, 2 quadratic); a finite number in ``[0, 20]`` (larger weights would overflow
            and already make the average the last iterate).
        alternating: Update the players one after another instead of simultaneously.

    Every option is checked when the solver is built; a bad value raises
    :class:`~gamesolve.errors.InvalidArgumentError` naming it.
    """

    def __init__(
        self, plus: bool = False, predictive: bool = False, averaging: float = 0.0, alternating: bool = False
    ) -> None:
        self.plus = check_bool("plus", plus)
        self.predictive = check_bool("predictive", predictive)
        self.averaging = real_in("averaging", averaging, low=0.0, high=MAX_EXPONENT)
        self.alternating = check_bool("alternating", alternating)
        self.name = "rm+" if plus else "regret-matching"

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Zero regrets; uniform play."""
        del rng
        n = int(sum(game.num_actions))
        return self._new_state(game, regrets=np.zeros(n), last=np.zeros(n))

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        w = float(t) ** self.averaging
        self._accumulate(state, state["x"], w)
        x_parts = [p.copy() for p in self._split(game, state["x"])]
        r_parts = [p.copy() for p in self._split(game, state["regrets"])]
        last_parts = [p.copy() for p in self._split(game, state["last"])]
        if self.alternating:
            # one player at a time against the others' newest strategies (CFR's schedule)
            for i in range(game.num_players):
                self._update_player(i, _player_gradient(game, x_parts, i), x_parts, r_parts, last_parts)
        else:
            grads = payoff_gradients(game, x_parts)
            for i in range(game.num_players):
                self._update_player(i, grads[i], x_parts, r_parts, last_parts)
        state["x"] = np.concatenate(x_parts)
        state["regrets"] = np.concatenate(r_parts)
        state["last"] = np.concatenate(last_parts)

    def _update_player(
        self,
        i: int,
        g: NDArray[np.float64],
        x_parts: list[NDArray[np.float64]],
        r_parts: list[NDArray[np.float64]],
        last_parts: list[NDArray[np.float64]],
    ) -> None:
        inst = g - g @ x_parts[i]  # [A_i] instantaneous regrets
        regrets = r_parts[i] + inst
        if self.plus:
            regrets = np.maximum(regrets, 0.0)
        r_parts[i] = regrets
        last_parts[i] = inst
        n = g.shape[0]
        target = regrets + inst if self.predictive else regrets
        x_parts[i] = _strategy_from_regrets(target, np.full(n, 1.0 / n))


def _stationary(rates: NDArray[np.float64], fallback: NDArray[np.float64]) -> NDArray[np.float64]:
    """A stationary distribution ``p`` of the chain with off-diagonal switching rates ``[m, m]``.

    Solves ``sum_j p_j rates[j, k] = p_k sum_l rates[k, l]`` with ``sum p = 1``, ``p >= 0``;
    ``fallback`` when no rate is positive.
    """
    m = rates.shape[0]
    out_rate = rates.sum(axis=1)  # [m]
    if not out_rate.any():
        return fallback
    if m == 2:
        p = np.array([rates[1, 0], rates[0, 1]])
        return p / p.sum() if p.sum() > 0 else fallback
    generator = rates - np.diag(out_rate)  # rows sum to 0
    system = generator.T.copy()
    system[-1] = 1.0
    rhs = np.zeros(m)
    rhs[-1] = 1.0
    try:
        p = np.linalg.solve(system, rhs)
        if np.all(p >= -1e-12) and np.abs(p @ generator).max() <= 1e-9 * max(1.0, out_rate.max()):
            p = np.maximum(p, 0.0)
            return p / p.sum()
    except np.linalg.LinAlgError:
        pass
    # Reducible chain: iterate the lazy chain (self-loop >= 1/2, so aperiodic) by squaring.
    chain = np.eye(m) + generator / (2.0 * out_rate.max())
    for _ in range(64):
        chain = chain @ chain
    p = np.maximum(fallback @ chain, 0.0)
    return p / p.sum()


class InternalRegret(DynamicsSolver):
    """Internal (swap) regret matching; the empirical joint play converges to correlated equilibria.

    Each player ``i`` keeps conditional regrets ``R_i[j, k] = sum_s x_i^s(j) (g_i^s(k) - g_i^s(j))``
    (the gain, weighted by how often ``j`` was played, of having played ``k`` whenever ``j`` was
    played) and plays the stationary distribution ``p`` of the Markov chain that switches from
    ``j`` to ``k`` at rate ``[R_i[j, k]]^+``: ``sum_j p_j [R_i[j, k]]^+ = p_k sum_l [R_i[k, l]]^+``.
    This is the expected form of Hart & Mas-Colell's (2000) regret matching with inertia (the
    stationary distribution does not depend on the inertia constant) and the Blum & Mansour
    (2007) reduction with one regret-matching learner per action (Cesa-Bianchi & Lugosi
    2003; Greenwald & Jafari 2003). The output is the **empirical joint distribution**
    ``z_T = sum_t w_t (x_0^t ⊗ ... ⊗ x_{P-1}^t) / sum_t w_t``, ``[A_0, ..., A_{P-1}]``: every
    player's internal regret is ``O(range * m sqrt(T))``, so ``z_T`` violates every CE constraint by
    ``O(1/sqrt(T))``. With ``sampled=True`` the players instead draw actions and use Hart &
    Mas-Colell's procedure literally (switch from the last action ``j`` to ``k`` with probability
    ``[D_t(j, k)]^+ / mu``, ``D_t`` the average realized regret); the empirical distribution of the
    sampled joint actions converges almost surely to the CE set, also at ``O(1/sqrt(T))``.

    :func:`gamesolve.solve` reads :meth:`evaluate` and :meth:`report`: the reported "NashConv" of
    this solver is the CE gap (sum over players of the largest swap-deviation gain, computed with
    :func:`gamesolve.solvers.correlated.deviation_gains`).

    Args:
        plus: Clip the conditional regrets at zero after every update (an RM+ variant; faster in
            practice, same guarantee).
        averaging: Weight of round ``t`` in the joint distribution is ``t ** averaging`` (finite,
            in ``[0, 20]``).
        sampled: Sample actions (Hart & Mas-Colell with inertia) instead of mixing.
        inertia: ``mu`` (finite, > 0) of the sampled procedure; default ``2 (m_i - 1) range(u_i)`` per player
            (large enough that switching probabilities sum to at most 1/2).
    """

    output = Iterate.AVERAGE

    def __init__(
        self,
        plus: bool = False,
        averaging: float = 0.0,
        sampled: bool = False,
        inertia: float | None = None,
    ) -> None:
        self.plus = check_bool("plus", plus)
        self.averaging = real_in("averaging", averaging, low=0.0, high=MAX_EXPONENT)
        self.sampled = check_bool("sampled", sampled)
        self.inertia = optional_positive("inertia", inertia)
        if self.sampled and (self.plus or self.averaging != 0.0):
            raise InvalidArgumentError(
                "sampled=True uses Hart & Mas-Colell's rule: leave plus and averaging at defaults"
            )
        self.name = "internal-regret"

    def _square_offsets(self, game: TensorGame) -> NDArray[np.int64]:
        return np.concatenate(([0], np.cumsum([m * m for m in game.num_actions]))).astype(np.int64)

    def _regret_matrices(self, game: TensorGame, flat: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        off = self._square_offsets(game)
        return [flat[off[i] : off[i + 1]].reshape(m, m) for i, m in enumerate(game.num_actions)]

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Zero regrets, uniform play, empty joint distribution."""
        state = self._new_state(game)
        state["regrets"] = np.zeros(int(self._square_offsets(game)[-1]))
        state["joint"] = np.zeros(game.num_actions)
        if self.sampled:
            state["rng"] = sampling_generator(rng)
            state["last"] = np.zeros(game.num_players, dtype=np.int64)
        return state

    def _inertia(self, game: TensorGame, i: int) -> float:
        if self.inertia is not None:
            return self.inertia
        spread = max(float(game.payoffs[i].max() - game.payoffs[i].min()), 1e-12)
        return 2.0 * max(game.num_actions[i] - 1, 1) * spread

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        w = float(t) ** self.averaging
        parts = self._split(game, state["x"])
        joint = parts[0]
        for p in parts[1:]:
            joint = np.multiply.outer(joint, p)
        state["joint"] += w * joint
        state["weight"] = np.asarray(float(state["weight"]) + w)
        state["avg"] += w * state["x"]
        grads = payoff_gradients(game, parts)
        regrets = self._regret_matrices(game, state["regrets"].copy())
        new_parts = []
        for i, (xi, gi) in enumerate(zip(parts, grads, strict=True)):
            r = regrets[i] + xi[:, None] * (gi[None, :] - gi[:, None])  # [m, m]: j -> k
            if self.plus:
                r = np.maximum(r, 0.0)
            regrets[i] = r
            rates = np.maximum(r, 0.0)
            np.fill_diagonal(rates, 0.0)
            new_parts.append(_stationary(rates, xi))
        state["regrets"] = np.concatenate([r.reshape(-1) for r in regrets])
        state["x"] = np.concatenate(new_parts)

    def _sampled_advance(self, game: TensorGame, state: State, t: int, rng: np.random.Generator) -> None:
        """One round of Hart & Mas-Colell's procedure with sampled actions."""
        last = [int(a) for a in state["last"]]
        if t == 1:
            last = [int(rng.integers(m)) for m in game.num_actions]
        else:
            regrets = self._regret_matrices(game, state["regrets"])
            for i, m in enumerate(game.num_actions):
                j = last[i]
                probs = np.maximum(regrets[i][j] / (t - 1), 0.0) / self._inertia(game, i)  # [m]
                probs[j] = 0.0
                probs[j] = max(1.0 - probs.sum(), 0.0)
                cdf = np.cumsum(probs)
                last[i] = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), m - 1)
        state["joint"][tuple(last)] += 1.0
        state["weight"] = np.asarray(float(state["weight"]) + 1.0)
        state["last"] = np.asarray(last, dtype=np.int64)
        x = np.zeros(int(sum(game.num_actions)))
        off = self._offsets(game)
        for i, a in enumerate(last):
            x[off[i] + a] = 1.0
        state["x"] = x
        state["avg"] += x
        regrets = self._regret_matrices(game, state["regrets"].copy())
        for i, a in enumerate(last):
            index = tuple(slice(None) if k == i else last[k] for k in range(game.num_players))
            u = game.payoffs[i][index]  # [A_i]: u_i(., a_-i)
            regrets[i][a] += u - u[a]
        state["regrets"] = np.concatenate([r.reshape(-1) for r in regrets])

    def policy(self, game: TensorGame, state: State, which: Iterate) -> NDArray[np.float64]:  # type: ignore[override]
        """``[A_0, ..., A_{P-1}]``: the empirical joint distribution, or the current product one."""
        if which is Iterate.AVERAGE and float(state["weight"]) > 0:
            return np.asarray(state["joint"] / float(state["weight"]))
        parts = self._split(game, state["x"])
        joint = parts[0]
        for p in parts[1:]:
            joint = np.multiply.outer(joint, p)
        return np.asarray(joint)

    def report(self, game: TensorGame, policy: ArrayLike) -> ExploitabilityReport:
        """CE gap of a joint distribution ``[A_0, ..., A_{P-1}]``, in the run loop's report type.

        ``nash_conv`` is the sum over players of the largest swap-deviation gain (clipped at 0),
        zero exactly at a correlated equilibrium; ``best_response_values`` are the values after
        each player's best swap ``a -> a'``, and ``best_responses`` those swaps as pairs.
        """
        from gamesolve.solvers.correlated import deviation_gains

        z = np.asarray(policy, dtype=np.float64)
        gains = np.maximum(deviation_gains(game, z, "ce"), 0.0)  # [P]
        values = tuple(float((game.payoffs[i] * z).sum()) for i in range(game.num_players))
        swaps = []
        for i, m in enumerate(game.num_actions):
            u = np.moveaxis(game.payoffs[i], i, 0).reshape(m, -1)  # [A_i, R]
            zi = np.moveaxis(z, i, 0).reshape(m, -1)  # [A_i, R]
            gain = zi @ u.T - (zi * u).sum(axis=1, keepdims=True)  # [A_i, A_i]: a -> a'
            j, k = np.unravel_index(int(np.argmax(gain)), gain.shape)
            swaps.append((int(j), int(k)))
        total = float(gains.sum())
        return ExploitabilityReport(
            nash_conv=total,
            exploitability=total / game.num_players,
            on_policy_values=values,
            best_response_values=tuple(v + float(g) for v, g in zip(values, gains, strict=True)),
            best_responses=tuple(swaps),
        )

    def evaluate(self, game: TensorGame, policy: ArrayLike) -> float:
        """The CE gap per player (``report(...).exploitability``), what the run loop records."""
        return self.report(game, policy).exploitability


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
REGRET_MATCHING_ENTRY = SolverEntry("regret-matching", RegretMatching, "regret matching (average converges)")
RM_PLUS_ENTRY = SolverEntry(
    "rm+",
    RegretMatching,
    "regret matching+, alternating updates, linear averaging (CFR+ on a matrix game)",
    (("plus", True), ("averaging", 1.0), ("alternating", True)),
)
INTERNAL_REGRET_ENTRY = SolverEntry(
    "internal-regret",
    InternalRegret,
    "internal regret matching (empirical joint play -> correlated equilibrium)",
)
