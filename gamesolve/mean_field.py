"""Stationary, entropy-regularized mean-field games (MFGs) and their exact evaluation.

A continuum of identical, anonymous agents: each is in a state ``s`` of ``S``, picks an action ``a``
of ``A`` with its stationary policy ``pi(a | s)``, earns ``r(s, a, mu)`` and moves to ``s'`` with
probability ``P(s' | s, a, mu)``, where the mean field ``mu [S]`` is the population's distribution
over the states. Rewards are discounted by ``gamma`` and regularized by the policy's entropy with
weight ``tau > 0``, as in Yardim, Cayci, Geist & He 2023 ("Policy Mirror Ascent for Efficient and
Independent Learning in Mean Field Games", ICML, Section 2). This module computes, exactly:

* :func:`evaluate_policy`: the ``tau``-regularized ``Q`` and ``V`` of ``pi`` in the MDP that a fixed
  ``mu`` induces (one linear solve);
* :func:`best_response`: the regularized best response ``softmax(Q* / tau)`` to ``mu``;
* :func:`stationary_distribution`: the mean field of ``pi``, the fixed point ``mu = mu P_pi(mu)``;
* :func:`equilibrium_residuals`: how far ``pi`` is from a regularized mean-field Nash equilibrium,
  ``pi* = softmax(Q_tau^{pi*, mu*} / tau)`` with ``mu*`` the mean field of ``pi*``;
* :func:`exploitability`: what one agent gains by best-responding to the population playing ``pi``
  (``>= 0``, zero exactly at an equilibrium on the support of its own mean field).

A stationary MFG is a game of one representative agent against its population, so its
:class:`~gamesolve.spec.GameSpec` has ``kind = GameKind.MEAN_FIELD``, ``num_players = 1`` and
``utility = Utility.IDENTICAL``.

>>> import numpy as np, gamesolve.mean_field as mf
>>> stay_move = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])  # [S, A, S]
>>> game = mf.mean_field_game(lambda mu: -np.repeat(mu[:, None], 2, axis=1), stay_move, tau=1.0)
>>> mf.stationary_distribution(game, game.uniform_policy()).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import readonly
from gamesolve.errors import GamesolveError, InvalidPolicyError, MalformedGameError
from gamesolve.report import ExploitabilityReport
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = [
    "ConvergenceError",
    "MeanFieldGame",
    "MeanFieldReport",
    "PolicyEvaluation",
    "StationaryDistributionError",
    "best_response",
    "equilibrium_residuals",
    "evaluate_policy",
    "exploitability",
    "exploitability_report",
    "mean_field_game",
    "stationary_distribution",
]

log = logging.getLogger(__name__)

#: Absolute tolerance on probabilities summing to 1 (transitions, policies, mean fields).
_PROB_ATOL = 1e-9

RewardFn = Callable[[NDArray[np.float64]], ArrayLike]
"""``mu [S] -> r [S, A]``: the reward of every state-action pair against the mean field ``mu``."""

TransitionFn = Callable[[NDArray[np.float64]], ArrayLike]
"""``mu [S] -> P [S, A, S]``: ``P[s, a, s']`` the probability of moving from ``s`` to ``s'``."""


class ConvergenceError(GamesolveError, RuntimeError):
    """An iterative evaluation (best response, stationary distribution) ran out of iterations."""


class StationaryDistributionError(ConvergenceError):
    """The fixed point ``mu = mu P_pi(mu)`` was not found within the iteration budget."""


def _describe_mu(mu: NDArray[np.float64]) -> str:
    return "mu = [" + ", ".join(f"{x:.3g}" for x in mu[:8]) + (", ...]" if mu.size > 8 else "]")


def _check_reward_values(r: Any, num_states: int, num_actions: int, where: str) -> NDArray[np.float64]:
    """``r`` as a float64 ``[S, A]`` array with finite entries, or a MalformedGameError."""
    try:
        arr = np.array(r, dtype=np.float64)  # [S, A] float64 (a fresh copy)
    except (TypeError, ValueError) as exc:
        raise MalformedGameError(f"reward{where} is not a numeric array: {exc}") from None
    if arr.shape != (num_states, num_actions):
        raise MalformedGameError(
            f"reward{where} must have shape [S, A] = {(num_states, num_actions)}, got {arr.shape}"
        )
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        s, a = (int(x) for x in bad[0])
        raise MalformedGameError(f"reward{where} is not finite at state {s}, action {a}: {float(arr[s, a])}")
    return arr


def _check_transition_values(p: Any, num_states: int, num_actions: int, where: str) -> NDArray[np.float64]:
    """``p`` as a float64 ``[S, A, S]`` stochastic array, or a MalformedGameError naming (s, a)."""
    try:
        arr = np.array(p, dtype=np.float64)  # [S, A, S] float64 (a fresh copy)
    except (TypeError, ValueError) as exc:
        raise MalformedGameError(f"transition{where} is not a numeric array: {exc}") from None
    shape = (num_states, num_actions, num_states)
    if arr.shape != shape:
        raise MalformedGameError(f"transition{where} must have shape [S, A, S] = {shape}, got {arr.shape}")
    bad = np.argwhere(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        s, a, t = (int(x) for x in bad[0])
        raise MalformedGameError(
            f"transition{where} at state {s}, action {a}, next state {t} is {float(arr[s, a, t])}; "
            "expected a probability in [0, 1]"
        )
    sums = arr.sum(axis=2)  # [S, A]
    off = np.argwhere(np.abs(sums - 1.0) > _PROB_ATOL)
    if off.size:
        s, a = (int(x) for x in off[0])
        raise MalformedGameError(
            f"transition{where} at state {s}, action {a} sums to {float(sums[s, a])!r} over next "
            "states; expected 1"
        )
    return arr


@dataclass(frozen=True, eq=False)
class MeanFieldGame:
    """A stationary, entropy-regularized mean-field game (see the module docstring).

    Build one with :func:`mean_field_game`, which validates it. The reward and the transitions are
    read through :meth:`reward` and :meth:`transition`, which evaluate the (vectorized) callables at
    a mean field, check the result and return read-only arrays.

    Attributes:
        num_states: Number of states ``S``.
        num_actions: Number of actions ``A`` (the same in every state).
        tau: Entropy-regularization weight (> 0).
        gamma: Discount factor in ``[0, 1)``.
        spec: The static description (``kind = MARKOV``, one representative player, identical
            utility).
        state_names: A name per state.
        action_names: A name per action.
        static_transition: Whether the transitions do not depend on the mean field (then the
            stationary distribution of a policy is that of one fixed Markov chain).
    """

    num_states: int
    num_actions: int
    tau: float
    gamma: float
    spec: GameSpec
    state_names: tuple[str, ...]
    action_names: tuple[str, ...]
    static_transition: bool
    _reward_fn: RewardFn
    _transition_fn: TransitionFn

    def check_mean_field(self, mu: ArrayLike, name: str = "mu") -> NDArray[np.float64]:
        """``mu`` as a validated distribution over the states ``[S]`` float64 (a fresh array).

        Raises:
            ValueError: Wrong shape, negative or non-finite entries, or a sum other than 1.
        """
        arr = np.array(mu, dtype=np.float64)  # [S] float64
        if arr.shape != (self.num_states,):
            raise ValueError(f"{name} must be a vector of {self.num_states} probabilities, got {arr.shape}")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must have finite non-negative entries, got {_describe_mu(arr)}")
        if abs(float(arr.sum()) - 1.0) > _PROB_ATOL:
            raise ValueError(f"{name} sums to {float(arr.sum())!r}; expected 1")
        return arr

    def check_policy(self, policy: ArrayLike, name: str = "policy") -> NDArray[np.float64]:
        """``policy`` as a validated stationary policy ``[S, A]`` float64 (a fresh array).

        Raises:
            InvalidPolicyError: Wrong shape, negative or non-finite entries, or a row whose sum is
                not 1 (the message names the state).
        """
        try:
            arr = np.array(policy, dtype=np.float64)  # [S, A] float64
        except (TypeError, ValueError) as exc:
            raise InvalidPolicyError(f"{name} is not a numeric array: {exc}") from None
        shape = (self.num_states, self.num_actions)
        if arr.shape != shape:
            raise InvalidPolicyError(f"{name} must have shape [S, A] = {shape}, got {arr.shape}")
        bad = np.argwhere(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            s, a = (int(x) for x in bad[0])
            raise InvalidPolicyError(
                f"{name} at state {s}, action {a} is {float(arr[s, a])}; expected a probability"
            )
        sums = arr.sum(axis=1)  # [S]
        off = np.flatnonzero(np.abs(sums - 1.0) > _PROB_ATOL)
        if off.size:
            s = int(off[0])
            raise InvalidPolicyError(f"{name} at state {s} sums to {float(sums[s])!r}; expected 1")
        return arr

    def reward(self, mu: ArrayLike) -> NDArray[np.float64]:
        """``r(., ., mu)``: ``[S, A]`` float64, read-only, checked (finite, right shape)."""
        m = self.check_mean_field(mu)
        return readonly(
            _check_reward_values(
                self._reward_fn(m), self.num_states, self.num_actions, f" at {_describe_mu(m)}"
            )
        )

    def transition(self, mu: ArrayLike) -> NDArray[np.float64]:
        """``P(. | ., ., mu)``: ``[S, A, S]`` float64, read-only, checked (rows are distributions)."""
        m = self.check_mean_field(mu)
        return readonly(
            _check_transition_values(
                self._transition_fn(m), self.num_states, self.num_actions, f" at {_describe_mu(m)}"
            )
        )

    def fingerprint(self) -> dict[str, Any]:
        """Numbers identifying the game (for checkpoints): sizes, ``tau``, ``gamma`` and a digest.

        The digest hashes the reward and transitions at the uniform mean field and at the point
        mass on state 0 (callables cannot be hashed themselves).
        """
        digest = hashlib.sha256()
        for mu in (self.uniform_mean_field(), np.eye(self.num_states)[0]):
            digest.update(self.reward(mu).tobytes())
            digest.update(self.transition(mu).tobytes())
        return {
            "name": self.spec.name,
            "states": self.num_states,
            "actions": self.num_actions,
            "tau": self.tau,
            "gamma": self.gamma,
            "sha256": digest.hexdigest()[:16],
        }

    def uniform_policy(self) -> NDArray[np.float64]:
        """The uniform policy ``[S, A]`` float64, read-only."""
        return readonly(np.full((self.num_states, self.num_actions), 1.0 / self.num_actions))

    def uniform_mean_field(self) -> NDArray[np.float64]:
        """The uniform distribution over the states ``[S]`` float64, read-only."""
        return readonly(np.full(self.num_states, 1.0 / self.num_states))


def mean_field_game(
    reward: RewardFn | ArrayLike,
    transition: TransitionFn | ArrayLike,
    *,
    tau: float,
    gamma: float = 0.9,
    num_states: int | None = None,
    num_actions: int | None = None,
    name: str = "mean_field_game",
    state_names: Sequence[str] | None = None,
    action_names: Sequence[str] | None = None,
) -> MeanFieldGame:
    """Build and validate a stationary entropy-regularized mean-field game.

    ``reward`` and ``transition`` are each either a constant array (the quantity does not depend on
    the mean field) or a *vectorized* callable of the mean field: ``reward(mu [S]) -> [S, A]`` and
    ``transition(mu [S]) -> [S, A, S]``. Callables must be pure (same ``mu``, same output); they
    are evaluated again at every mean field the algorithms visit.

    Validation evaluates the callables at test mean fields (uniform, the point masses on the first
    and last state, and one fixed Dirichlet draw) and checks shapes, finiteness, that transition
    probabilities are non-negative and sum to 1 for every state and action, ``tau > 0`` and
    ``0 <= gamma < 1``. The same checks run on every later evaluation.

    Args:
        reward: ``[S, A]`` array or callable ``mu -> [S, A]``.
        transition: ``[S, A, S]`` array or callable ``mu -> [S, A, S]``.
        tau: Entropy-regularization weight (> 0).
        gamma: Discount factor in ``[0, 1)``.
        num_states: ``S``; needed only when both ``reward`` and ``transition`` are callables.
        num_actions: ``A``; needed only when both are callables.
        name: Name of the game (its ``spec.name``).
        state_names: A name per state (default ``"s0", "s1", ...``).
        action_names: A name per action (default ``"a0", "a1", ...``).

    Returns:
        A :class:`MeanFieldGame`.

    Raises:
        MalformedGameError: A shape, probability, reward, ``tau`` or ``gamma`` is wrong; the
            message names the argument (and the state and action where it applies).
    """
    if isinstance(tau, bool) or not isinstance(tau, int | float | np.floating | np.integer):
        raise MalformedGameError(f"tau must be a positive number, got {tau!r}")
    if not (math.isfinite(float(tau)) and float(tau) > 0):
        raise MalformedGameError(f"tau must be a positive finite number (entropy weight), got {tau!r}")
    if isinstance(gamma, bool) or not isinstance(gamma, int | float | np.floating | np.integer):
        raise MalformedGameError(f"gamma must be a number in [0, 1), got {gamma!r}")
    if not (0.0 <= float(gamma) < 1.0):
        raise MalformedGameError(f"gamma must be in [0, 1) (discount factor), got {gamma!r}")

    try:
        reward_array = None if callable(reward) else np.array(reward, dtype=np.float64)  # [S, A]
    except (TypeError, ValueError) as exc:
        raise MalformedGameError(f"reward must be a numeric [S, A] array or a callable: {exc}") from None
    try:
        transition_array = (
            None if callable(transition) else np.array(transition, dtype=np.float64)
        )  # [S, A, S]
    except (TypeError, ValueError) as exc:
        raise MalformedGameError(
            f"transition must be a numeric [S, A, S] array or a callable: {exc}"
        ) from None
    if transition_array is not None:
        if transition_array.ndim != 3:
            raise MalformedGameError(f"transition must be [S, A, S], got shape {transition_array.shape}")
        inferred = transition_array.shape[:2]
    elif reward_array is not None:
        if reward_array.ndim != 2:
            raise MalformedGameError(f"reward must be [S, A], got shape {reward_array.shape}")
        inferred = reward_array.shape
    else:
        if num_states is None or num_actions is None:
            raise MalformedGameError(
                "num_states and num_actions are required when reward and transition are both callables"
            )
        inferred = (num_states, num_actions)
    s_count = int(inferred[0]) if num_states is None else num_states
    a_count = int(inferred[1]) if num_actions is None else num_actions
    for label, value, seen in (("num_states", s_count, inferred[0]), ("num_actions", a_count, inferred[1])):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < 1:
            raise MalformedGameError(f"{label} must be a positive integer, got {value!r}")
        if int(value) != int(seen):
            raise MalformedGameError(f"{label} = {value} disagrees with the arrays' shape ({seen})")
    s_count, a_count = int(s_count), int(a_count)

    reward_fn: RewardFn
    transition_fn: TransitionFn
    if reward_array is not None:
        fixed_r = readonly(_check_reward_values(reward_array, s_count, a_count, ""))

        def reward_fn(mu: NDArray[np.float64]) -> NDArray[np.float64]:
            return fixed_r

    else:
        reward_fn = reward  # type: ignore[assignment]
    if transition_array is not None:
        fixed_p = readonly(_check_transition_values(transition_array, s_count, a_count, ""))

        def transition_fn(mu: NDArray[np.float64]) -> NDArray[np.float64]:
            return fixed_p

    else:
        transition_fn = transition  # type: ignore[assignment]

    names_s = tuple(state_names) if state_names is not None else tuple(f"s{i}" for i in range(s_count))
    names_a = tuple(action_names) if action_names is not None else tuple(f"a{i}" for i in range(a_count))
    if len(names_s) != s_count:
        raise MalformedGameError(f"state_names has {len(names_s)} names for {s_count} states")
    if len(names_a) != a_count:
        raise MalformedGameError(f"action_names has {len(names_a)} names for {a_count} actions")

    spec = GameSpec(
        name=name,
        kind=GameKind.MEAN_FIELD,
        num_players=1,
        utility=Utility.IDENTICAL,
        has_chance=True,
        simultaneous=False,
        perfect_recall=True,
        perfect_information=True,
    )
    game = MeanFieldGame(
        num_states=s_count,
        num_actions=a_count,
        tau=float(tau),
        gamma=float(gamma),
        spec=spec,
        state_names=names_s,
        action_names=names_a,
        static_transition=transition_array is not None,
        _reward_fn=reward_fn,
        _transition_fn=transition_fn,
    )
    # Evaluate the callables at test mean fields (fixed draw: validation is deterministic).
    tests = [np.full(s_count, 1.0 / s_count), np.eye(s_count)[0], np.eye(s_count)[-1]]
    tests.append(np.random.default_rng(0).dirichlet(np.ones(s_count)))
    for mu in tests:
        for label, fn in (("reward", game.reward), ("transition", game.transition)):
            try:
                fn(mu)
            except MalformedGameError:
                raise
            except Exception as exc:
                raise MalformedGameError(
                    f"{label}({_describe_mu(mu)}) raised {type(exc).__name__}: {exc}"
                ) from exc
    return game


# ---------------------------------------------------------------------------------------------
# Exact evaluation
# ---------------------------------------------------------------------------------------------


def _xlogx(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """``p log p`` elementwise with ``0 log 0 = 0``."""
    safe = np.where(p > 0, p, 1.0)
    out: NDArray[np.float64] = np.where(p > 0, p * np.log(safe), 0.0)
    return out


def _log_softmax(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise ``log softmax`` of ``[S, A]``."""
    top = x.max(axis=1, keepdims=True)
    z = x - top
    out: NDArray[np.float64] = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return out


@dataclass(frozen=True)
class PolicyEvaluation:
    """The ``tau``-regularized values of a policy in the MDP induced by a fixed mean field.

    Attributes:
        q: ``[S, A]`` float64, ``Q(s, a) = r(s, a, mu) + gamma sum_s' P(s'|s, a, mu) V(s')``.
        v: ``[S]`` float64, ``V(s) = sum_a pi(a|s) (Q(s, a) - tau log pi(a|s))``.
    """

    q: NDArray[np.float64]
    v: NDArray[np.float64]


def _evaluate(
    game: MeanFieldGame,
    pi: NDArray[np.float64],
    r: NDArray[np.float64],
    p: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(Q [S, A], V [S])`` of ``pi`` for fixed ``r [S, A]`` and ``P [S, A, S]`` (one linear solve)."""
    p_pi = np.einsum("sa,sat->st", pi, p)  # [S, S] state-to-state kernel under pi
    r_pi = (pi * r).sum(axis=1) - game.tau * _xlogx(pi).sum(axis=1)  # [S] reward + tau * entropy
    v = np.linalg.solve(np.eye(game.num_states) - game.gamma * p_pi, r_pi)  # [S]
    q = r + game.gamma * (p @ v)  # [S, A]
    return q, v


def evaluate_policy(game: MeanFieldGame, policy: ArrayLike, mu: ArrayLike) -> PolicyEvaluation:
    """The ``tau``-regularized ``Q`` and ``V`` of ``policy`` with the mean field frozen at ``mu``.

    Solves ``V = r_pi + tau H(pi) + gamma P_pi V`` exactly, then ``Q = r + gamma P V``
    (Yardim et al. 2023, Section 2, the regularized Q-function ``Q_h^{pi, mu}``).

    Raises:
        InvalidPolicyError: ``policy`` is not a stationary policy ``[S, A]``.
        ValueError: ``mu`` is not a distribution over the states.
    """
    pi = game.check_policy(policy)
    m = game.check_mean_field(mu)
    q, v = _evaluate(game, pi, game.reward(m), game.transition(m))
    return PolicyEvaluation(q=readonly(q), v=readonly(v))


def best_response(
    game: MeanFieldGame, mu: ArrayLike, *, tol: float = 1e-12, max_iter: int = 200
) -> tuple[NDArray[np.float64], PolicyEvaluation]:
    """The ``tau``-regularized best response to a frozen mean field, by soft policy iteration.

    Starting from the uniform policy, each iteration evaluates the policy exactly
    (:func:`evaluate_policy`) and replaces it by ``softmax(Q / tau)``. This is Newton's method on
    the soft Bellman equation ``V* = tau logsumexp((r + gamma P V*) / tau)``: the values increase
    monotonically and converge quadratically near the optimum (and at least at rate ``gamma``, like
    soft value iteration). Once the soft Bellman residual ``max_s |T V(s) - V(s)|`` is at most
    ``tol * max(1, max|V|)`` it returns the improved policy ``softmax(Q / tau)`` with its exact
    values, whose optimality gap is at most that residual times ``gamma / (1 - gamma)``.

    Args:
        game: The mean-field game.
        mu: The frozen mean field ``[S]``.
        tol: Relative tolerance on the soft Bellman residual.
        max_iter: Iteration budget.

    Returns:
        ``(policy [S, A], evaluation)``: the best response (read-only) and its exact values.

    Raises:
        ConvergenceError: The residual is still above ``tol`` after ``max_iter`` iterations.
    """
    m = game.check_mean_field(mu)
    r = game.reward(m)  # [S, A]
    p = game.transition(m)  # [S, A, S]
    pi = np.full((game.num_states, game.num_actions), 1.0 / game.num_actions)  # [S, A]
    residual = math.inf
    for _ in range(max_iter):
        q, v = _evaluate(game, pi, r, p)
        z = q / game.tau  # [S, A]
        top = z.max(axis=1, keepdims=True)  # [S, 1]
        log_norm = top + np.log(np.exp(z - top).sum(axis=1, keepdims=True))  # [S, 1] logsumexp(Q/tau)
        soft_v = game.tau * log_norm[:, 0]  # [S]: the soft Bellman update T V
        residual = float(np.abs(soft_v - v).max())
        pi = np.exp(z - log_norm)  # [S, A] softmax(Q / tau), the improved policy
        if residual <= tol * max(1.0, float(np.abs(v).max())):
            # The values are near-stationary in the policy, so a small Bellman residual can leave
            # an O(sqrt(residual)) policy error; the improved policy's error is O(residual).
            q, v = _evaluate(game, pi, r, p)
            return readonly(pi), PolicyEvaluation(q=readonly(q), v=readonly(v))
    raise ConvergenceError(
        f"soft policy iteration did not converge in {max_iter} iterations (Bellman residual {residual:.3g})"
    )


def _chain_limit(p_pi: NDArray[np.float64], mu: NDArray[np.float64]) -> NDArray[np.float64]:
    """``lim_n mu M^n`` for the lazy chain ``M = (I + P_pi) / 2``: the stationary law reached from ``mu``.

    Computed by repeated squaring of ``M`` (``M^(2^k)``, rows renormalized against rounding) until
    it stops changing: ``O(S^3 log t_mix)``. The lazy chain is aperiodic and has the stationary
    distributions of ``P_pi``, so this is the unique one for unichain ``P_pi`` and, for several
    recurrent classes, the one the chain started at ``mu`` ends in.
    """
    n = p_pi.shape[0]
    m = 0.5 * (np.eye(n) + p_pi)  # [S, S]
    for _ in range(80):  # 2^80 steps: any chain with a spectral gap above ~1e-24 has mixed
        m2 = m @ m
        m2 /= m2.sum(axis=1, keepdims=True)
        done = float(np.abs(m2 - m).max()) <= 1e-15
        m = m2
        if done:
            break
    nu = mu @ m  # [S]
    nu = np.maximum(nu, 0.0)
    out: NDArray[np.float64] = nu / nu.sum()
    return out


def stationary_distribution(
    game: MeanFieldGame,
    policy: ArrayLike,
    *,
    mu0: ArrayLike | None = None,
    damping: float = 1.0,
    tol: float = 1e-13,
    max_iter: int = 1000,
) -> NDArray[np.float64]:
    """The mean field of ``policy``: a fixed point ``mu = mu P_pi(mu)`` of the population dynamics.

    ``P_pi(mu)[s, s'] = sum_a pi(a|s) P(s'|s, a, mu)`` (Yardim et al. 2023, the population update
    ``Gamma_pop``). For transitions that do not depend on the mean field this is the stationary
    distribution of one Markov chain, computed in one go (:func:`_chain_limit`; unique when the
    chain is unichain, else the one reached from ``mu0``). Otherwise a damped fixed-point iteration
    runs on the map ``mu -> (1 - alpha) mu + alpha nu(mu)``, ``nu(mu)`` the stationary distribution
    of the chain frozen at ``mu``; its fixed points are exactly the solutions of
    ``mu = mu P_pi(mu)``. The damping ``alpha`` starts at ``damping`` and halves whenever the step
    ``||nu(mu) - mu||_1`` fails to shrink (the map oscillates), down to ``1/1024``.

    Args:
        game: The mean-field game.
        policy: The stationary policy ``[S, A]``.
        mu0: Starting mean field (default uniform); a good guess (the previous iterate's mean field)
            saves iterations.
        damping: Initial damping ``alpha`` in ``(0, 1]``.
        tol: Stop when ``||nu(mu) - mu||_1 <= tol``.
        max_iter: Budget of outer iterations.

    Returns:
        ``[S]`` float64, read-only.

    Raises:
        StationaryDistributionError: No fixed point within ``max_iter`` iterations (the message
            gives the last residual and damping).
        InvalidPolicyError: ``policy`` is not a stationary policy.
        ValueError: Bad ``mu0``, ``damping``, ``tol`` or ``max_iter``.
    """
    pi = game.check_policy(policy)
    mu = game.uniform_mean_field().copy() if mu0 is None else game.check_mean_field(mu0, "mu0")
    if not (0 < damping <= 1):
        raise ValueError(f"damping must be in (0, 1], got {damping!r}")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")
    if game.static_transition:
        p_pi = np.einsum("sa,sat->st", pi, game.transition(mu))  # [S, S]
        return readonly(_chain_limit(p_pi, mu))
    alpha = float(damping)
    previous = math.inf
    residual = math.inf
    for it in range(max_iter):
        p_pi = np.einsum("sa,sat->st", pi, game.transition(mu))  # [S, S] chain frozen at mu
        nu = _chain_limit(p_pi, mu)  # [S]
        residual = float(np.abs(nu - mu).sum())
        if residual <= tol:
            log.debug("stationary distribution after %d iterations (residual %.3g)", it + 1, residual)
            return readonly(nu)
        if residual >= previous and alpha > 1.0 / 1024:
            alpha /= 2.0
        previous = residual
        mu = (1.0 - alpha) * mu + alpha * nu
        mu /= mu.sum()
    raise StationaryDistributionError(
        f"no stationary mean field mu = mu P_pi(mu) for this policy after {max_iter} damped iterations "
        f"(last step ||nu - mu||_1 = {residual:.3g}, damping {alpha:g}); raise max_iter, lower damping "
        "or check that the population dynamics have a fixed point"
    )


@dataclass(frozen=True)
class MeanFieldReport(ExploitabilityReport):
    """The exploitability report of a mean-field policy, with its mean field.

    The shared fields read, for the one representative agent: ``on_policy_values = (mu . V^pi,)``,
    ``best_response_values = (mu . V*,)``, ``best_responses = (best-response policy [S, A],)`` and
    ``nash_conv = exploitability``.

    Attributes:
        mean_field: ``[S]`` float64, the stationary distribution ``mu`` of the policy (read-only).
    """

    mean_field: NDArray[np.float64]

    @property
    def extras(self) -> dict[str, Any]:
        """JSON-ready extras for a :class:`~gamesolve.run.SolveResult`: ``{"mu": [S] list}``."""
        return {"mu": [float(x) for x in self.mean_field]}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary including the mean field."""
        return {**super().to_dict(), **self.extras}


def exploitability_report(
    game: MeanFieldGame, policy: ArrayLike, *, mu: ArrayLike | None = None
) -> MeanFieldReport:
    """Regularized exploitability of ``policy`` against its own mean field, with its parts.

    ``E(pi) = sum_s mu(s) (V*_mu(s) - V^pi_mu(s))`` with ``mu`` the stationary distribution of
    ``pi`` (Yardim et al. 2023, the exploitability of a policy in a stationary MFG), ``V^pi_mu``
    its regularized value and ``V*_mu`` the regularized optimal value in the MDP ``mu`` induces.

    Args:
        game: The mean-field game.
        policy: Stationary policy ``[S, A]``.
        mu: The mean field to evaluate against (default: the stationary distribution of
            ``policy``, which is what the exploitability of an MFG means).
    """
    pi = game.check_policy(policy)
    m = stationary_distribution(game, pi) if mu is None else game.check_mean_field(mu)
    _, v = _evaluate(game, pi, game.reward(m), game.transition(m))  # v: [S]
    br, best = best_response(game, m)
    on_policy = float(m @ v)
    br_value = float(m @ best.v)
    gap = max(0.0, br_value - on_policy)  # >= 0 up to rounding; clipped
    return MeanFieldReport(
        nash_conv=gap,
        exploitability=gap,
        on_policy_values=(on_policy,),
        best_response_values=(br_value,),
        best_responses=(br,),
        mean_field=readonly(np.asarray(m)),
    )


def exploitability(game: MeanFieldGame, policy: ArrayLike) -> float:
    """``sum_s mu(s) (V*_mu(s) - V^pi_mu(s))``, ``mu`` the policy's own mean field (>= 0)."""
    return exploitability_report(game, policy).exploitability


def equilibrium_residuals(
    game: MeanFieldGame, policy: ArrayLike, mu: ArrayLike | None = None
) -> tuple[float, float]:
    """How far ``(policy, mu)`` is from the regularized MFNE fixed-point equations.

    Returns:
        ``(policy_residual, mean_field_residual)``: ``max |pi - softmax(Q_tau^{pi, mu} / tau)|``
        (``pi`` against the soft-greedy response to its own values) and
        ``||mu - mu P_pi(mu)||_1`` (``mu`` against one population step). ``mu`` defaults to the
        stationary distribution of ``policy`` (then the second residual is ~0 by construction).
    """
    pi = game.check_policy(policy)
    m = stationary_distribution(game, pi) if mu is None else game.check_mean_field(mu)
    p = game.transition(m)  # [S, A, S]
    q, _ = _evaluate(game, pi, game.reward(m), p)
    response = np.exp(_log_softmax(q / game.tau))  # [S, A]
    step = m @ np.einsum("sa,sat->st", pi, p)  # [S]
    return float(np.abs(pi - response).max()), float(np.abs(step - m).sum())
