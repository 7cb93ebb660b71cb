"""Exact evaluation of a stationary profile: values, best responses and NashConv.

A profile's values solve ``V = r_pi + gamma P_pi V`` exactly (:func:`policy_values`); a player's
best response is the optimal policy of the MDP the others induce, found by policy iteration
(:func:`best_response_values`), and :func:`nash_conv` sums the gains (Shapley 1953, "Stochastic
games"; Howard 1960, "Dynamic Programming and Markov Processes").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import readonly
from gamesolve.errors import GamesolveError, InvalidPolicyError
from gamesolve.markov.game import TabularMarkovGame
from gamesolve.markov.profile import MarkovProfile

__all__ = ["MarkovExploitabilityReport", "best_response_values", "nash_conv", "policy_values"]

#: Should the Krylov solve of a policy evaluation fail, up to this many states sparse LU takes over
#: (beyond, LU fill-in on random transition graphs costs more than iterating the contraction).
_DIRECT_STATES = 3_000

#: Value-iteration sweeps that start policy iteration in :func:`best_response_values`.
_VALUE_SWEEPS = 200


def _check_profile(game: TabularMarkovGame, profile: MarkovProfile | Sequence[ArrayLike]) -> MarkovProfile:
    if isinstance(profile, MarkovProfile):
        shapes = tuple(s.shape for s in profile.strategies)
        expected = tuple((game.num_states, n) for n in game.num_actions)
        if shapes != expected:
            raise InvalidPolicyError(f"profile shapes {shapes} do not fit the game; expected {expected}")
        return profile
    return MarkovProfile.of(game, profile)


def _solve_linear(
    game: TabularMarkovGame,
    p_pi: sp.csr_matrix,
    r_pi: NDArray[np.float64],
    start: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Solve ``(I - gamma P_pi) V = r_pi`` for ``r_pi [S]`` or ``[S, K]``.

    A Krylov solver (LGMRES) from ``start`` (if given) to a residual of 1e-14 of the reward scale
    (or float64's floor), which bounds the error by ``residual / (1 - gamma)``: milliseconds, where
    sparse LU suffers fill-in on random transition graphs (seconds at 3,000 states) and the Neumann
    series needs ``log(1e-13) / log(gamma)`` sweeps (tens of thousands at ``gamma = 0.999``). Should it
    not converge, sparse LU (up to ``_DIRECT_STATES`` states) or the Neumann iteration finishes the
    job.
    """
    s = game.num_states
    gamma = game.discount
    rhs = np.asarray(r_pi, dtype=np.float64)
    columns = rhs.reshape(s, -1)
    system = sp.csr_matrix(sp.identity(s, format="csr") - gamma * p_pi)
    out = np.empty_like(columns)
    for k in range(columns.shape[1]):
        b = columns[:, k]
        # A max-norm residual r bounds the error by r / (1 - gamma). The target is 1e-14 of the
        # reward scale, or float64's attainable floor (a few ulps of the solution) when that is
        # larger; scipy's stopping rule is on the 2-norm, so it is tightened until the max norm holds.
        scale_b = max(1.0, float(np.abs(b).max(initial=0.0)))
        guess = start if start is not None and np.ndim(start) == 1 and columns.shape[1] == 1 else None
        x = guess
        solved = False
        for target in (1e-14 * scale_b * math.sqrt(s), 1e-14 * scale_b, 1e-15 * scale_b, 1e-16 * scale_b):
            x, _ = spla.lgmres(system, b, x0=x, rtol=0.0, atol=target, maxiter=200)
            if not np.all(np.isfinite(x)):
                break
            floor = 32.0 * np.finfo(np.float64).eps * float(np.abs(x).max(initial=0.0))
            if float(np.abs(system @ x - b).max(initial=0.0)) <= max(1e-14 * scale_b, floor):
                solved = True
                break
        out[:, k] = x if solved else _solve_linear_fallback(game, p_pi, system, b, guess)
    return out.reshape(rhs.shape)


def _solve_linear_fallback(
    game: TabularMarkovGame,
    p_pi: sp.csr_matrix,
    system: sp.csr_matrix,
    b: NDArray[np.float64],
    start: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Sparse LU up to ``_DIRECT_STATES`` states, else the Neumann iteration to 1e-13."""
    if game.num_states <= _DIRECT_STATES:
        return np.asarray(spla.splu(sp.csc_matrix(system)).solve(b), dtype=np.float64)
    gamma = game.discount
    v = np.array(b if start is None else start, dtype=np.float64)
    scale = max(1.0, float(np.abs(b).max(initial=0.0)) / max(1e-12, 1.0 - gamma))
    for _ in range(1_000_000):
        nxt = b + gamma * (p_pi @ v)
        delta = float(np.abs(nxt - v).max(initial=0.0))
        v = nxt
        if delta * gamma <= 1e-13 * scale * (1.0 - gamma):
            break
    return v


def _induced(game: TabularMarkovGame, joint_probs: NDArray[np.float64]) -> sp.csr_matrix:
    """``P_pi [S, S]`` for joint-action probabilities ``[S, J]``."""
    s, j = game.num_states, game.num_joint_actions
    weights = joint_probs.reshape(-1)  # [S * J]
    agg = sp.csr_matrix((weights, (np.repeat(np.arange(s), j), np.arange(s * j))), shape=(s, s * j))
    return sp.csr_matrix(agg @ game.transition_matrix)


def policy_values(
    game: TabularMarkovGame, profile: MarkovProfile | Sequence[ArrayLike]
) -> NDArray[np.float64]:
    """Exact discounted values ``[P, S]`` of a stationary profile (0 at terminal states).

    Solves ``V = r_pi + gamma P_pi V`` with :func:`_solve_linear` (a Krylov solve to float64 accuracy).
    """
    prof = _check_profile(game, profile)
    joint = prof.joint()  # [S, J]
    r_pi = np.einsum("psj,sj->sp", game.reward_flat, joint)  # [S, P]
    v = _solve_linear(game, _induced(game, joint), r_pi)  # [S, P]
    v = np.asarray(v).reshape(game.num_states, game.num_players).T.copy()
    v[:, game.terminal] = 0.0
    return readonly(v)


def _others_joint(game: TabularMarkovGame, prof: MarkovProfile, player: int) -> NDArray[np.float64]:
    """``[S, A_player, J]``: probability of joint action j given the player's own action."""
    s, n = game.num_states, game.num_actions[player]
    out = np.ones((s, n, 1))
    for p, strat in enumerate(prof.strategies):
        if p == player:
            factor = np.broadcast_to(np.eye(n)[None], (s, n, n))
        else:
            factor = np.broadcast_to(strat[:, None, :], (s, n, strat.shape[1]))
        out = (out[..., :, None] * factor[..., None, :]).reshape(s, n, -1)
    return np.ascontiguousarray(out)


def best_response_values(
    game: TabularMarkovGame,
    profile: MarkovProfile | Sequence[ArrayLike],
    player: int,
    *,
    max_iterations: int = 10_000,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Optimal values ``[S]`` and a deterministic best response ``[S, A_player]`` of ``player``.

    The other players' stationary strategies induce an MDP for ``player``; it is solved exactly by
    policy iteration (value-iteration sweeps give the start, each policy is evaluated by a linear
    solve, and the loop ends when the greedy policy no longer improves anywhere).

    Raises:
        ValueError: ``player`` out of range.
        GamesolveError: Policy iteration did not settle within ``max_iterations`` improvements.
    """
    prof = _check_profile(game, profile)
    if not 0 <= player < game.num_players:
        raise ValueError(f"player must be in [0, {game.num_players}), got {player}")
    s, n = game.num_states, game.num_actions[player]
    cond = _others_joint(game, prof, player)  # [S, n, J]
    r_own = np.einsum("saj,sj->sa", cond, game.reward_flat[player])  # [S, n]

    def q_of(v: NDArray[np.float64]) -> NDArray[np.float64]:
        cont = game.expected_next(v)  # [S, J]
        q = r_own + game.discount * np.einsum("saj,sj->sa", cond, cont)
        q[game.terminal] = 0.0
        return q

    # Value iteration to near the optimum (the contraction bound), then policy iteration from its
    # greedy policy, which ends at an exactly optimal policy (usually after one evaluation).
    scale = max(1.0, float(np.abs(game.reward_flat[player]).max(initial=0.0))) / max(
        1e-12, 1.0 - game.discount
    )
    v = np.zeros(s)
    gamma = game.discount
    # A few sweeps only: policy iteration is exact from any start, and each of its evaluations is
    # one fast linear solve, while value iteration needs log(eps) / log(gamma) sweeps.
    for _ in range(min(max_iterations, _VALUE_SWEEPS)):
        nxt = q_of(v).max(axis=1)
        delta = float(np.abs(nxt - v).max(initial=0.0))
        v = nxt
        if delta * gamma <= 1e-12 * scale * (1.0 - gamma):
            break
    choice = q_of(v).argmax(axis=1)
    for _ in range(max_iterations):
        own = np.zeros((s, n))
        own[np.arange(s), choice] = 1.0
        joint = np.einsum("sa,saj->sj", own, cond)
        r_pi = np.einsum("sj,sj->s", joint, game.reward_flat[player])
        v = _solve_linear(game, _induced(game, joint), r_pi, start=v)
        v[game.terminal] = 0.0
        q = q_of(v)
        best = q.max(axis=1)
        improve = best > q[np.arange(s), choice] + 1e-12 * scale
        if not improve.any():
            return readonly(v), readonly(own)
        choice = np.where(improve, q.argmax(axis=1), choice)
    raise GamesolveError(f"policy iteration for player {player} did not settle in {max_iterations} steps")


@dataclass(frozen=True)
class MarkovExploitabilityReport:
    """Exact NashConv of a stationary profile in a tabular Markov game.

    Attributes:
        nash_conv: ``sum_i (BR_i - V_i)`` at the initial distribution.
        exploitability: ``nash_conv / P``.
        on_policy_values: Each player's value at the initial distribution.
        values: ``[P, S]`` values of the profile.
        best_response_values: ``[P, S]`` values of each player's best response.
        state_nash_conv: ``[S]`` NashConv from every start state.
    """

    nash_conv: float
    exploitability: float
    on_policy_values: tuple[float, ...]
    values: NDArray[np.float64]
    best_response_values: NDArray[np.float64]
    state_nash_conv: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "nash_conv": self.nash_conv,
            "exploitability": self.exploitability,
            "on_policy_values": list(self.on_policy_values),
            "values": self.values.tolist(),
            "best_response_values": self.best_response_values.tolist(),
            "state_nash_conv": self.state_nash_conv.tolist(),
        }


def nash_conv(
    game: TabularMarkovGame, profile: MarkovProfile | Sequence[ArrayLike]
) -> MarkovExploitabilityReport:
    """Exact NashConv of a stationary profile: the sum of the players' best-response gains.

    Values are taken at the initial distribution; ``state_nash_conv`` gives them from every state
    (in a two-player zero-sum game its maximum bounds how far the profile is from a Markov
    perfect equilibrium).
    """
    prof = _check_profile(game, profile)
    values = policy_values(game, prof)  # [P, S]
    br = np.stack([best_response_values(game, prof, p)[0] for p in range(game.num_players)])  # [P, S]
    gains = np.maximum(br - values, 0.0)
    per_state = gains.sum(axis=0)
    total = float(per_state @ game.initial)
    return MarkovExploitabilityReport(
        nash_conv=total,
        exploitability=total / game.num_players,
        on_policy_values=tuple(float(x) for x in values @ game.initial),
        values=values,
        best_response_values=readonly(br),
        state_nash_conv=readonly(per_state),
    )
