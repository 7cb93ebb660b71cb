"""The NE loss of Gemp, Marris & Piliouras (2024), its gradient, unbiased estimates, and SGD on it.

The loss ``sum_k ||Pi_T(g_k - tau (ln x_k + 1))||^2`` is zero exactly at the interior logit QREs
at temperature ``tau``; :func:`ne_loss` and :func:`ne_loss_gradient` compute it exactly, the
``*_samples`` / ``*_estimate`` functions estimate it without bias from sampled opponent actions,
and :class:`NashLossSGD` minimizes it by exact or stochastic projected gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate
from gamesolve.solvers.dynamics.base import (
    TINY,
    DynamicsSolver,
    State,
    check_start,
    payoff_gradients,
    payoff_range,
    project_floored,
    real_in,
    safe_log,
    sampling_generator,
)
from gamesolve.validation import check_int

__all__ = [
    "NashLossSGD",
    "ne_loss",
    "ne_loss_estimate",
    "ne_loss_gradient",
    "ne_loss_gradient_estimate",
    "ne_loss_samples",
]


def _cross_jacobian(
    game: TensorGame, strategies: Sequence[NDArray[np.float64]], i: int, j: int
) -> NDArray[np.float64]:
    """``[A_i, A_j]``: ``d g_i / d x_j``, player ``i``'s payoff with ``i`` and ``j`` free (``i != j``)."""
    if game.num_players == 2:
        return game.payoffs[0] if i == 0 else game.payoffs[1].T
    tensor = game.payoffs[i]
    for k in range(game.num_players - 1, -1, -1):
        if k not in (i, j):
            tensor = np.tensordot(tensor, strategies[k], axes=([k], [0]))
    return np.asarray(tensor if i < j else tensor.T, dtype=np.float64)


def _profile_strategies(
    game: TensorGame, profile: MixedProfile | Sequence[ArrayLike]
) -> list[NDArray[np.float64]]:
    strategies = profile.strategies if isinstance(profile, MixedProfile) else profile
    out = [np.asarray(s, dtype=np.float64) for s in strategies]
    if len(out) != game.num_players or any(
        s.shape != (n,) for s, n in zip(out, game.num_actions, strict=False)
    ):
        raise InvalidArgumentError(f"profile must give one vector per player with {game.num_actions} entries")
    return out


def _temperature(value: float) -> float:
    return real_in("temperature", value, low=0.0)


def _projected_gradients(
    game: TensorGame, strategies: Sequence[NDArray[np.float64]], temperature: float
) -> list[NDArray[np.float64]]:
    """Per player ``[A_k]``: ``Pi_T(g_k - tau (ln x_k + 1))`` (tangent projection removes the mean)."""
    out = []
    for gk, xk in zip(payoff_gradients(game, strategies), strategies, strict=True):
        grad = gk - temperature * (safe_log(xk) + 1.0)
        out.append(grad - grad.mean())
    return out


def ne_loss(game: TensorGame, profile: MixedProfile | Sequence[ArrayLike], temperature: float) -> float:
    """Exact loss of Gemp, Marris & Piliouras (2024): ``sum_k || Pi_T (g_k - tau (ln x_k + 1)) ||^2``.

    ``g_k`` is player ``k``'s payoff gradient and ``Pi_T`` the projection onto the simplex's
    tangent space (subtract the mean). The loss is zero exactly at interior logit QREs at
    temperature ``tau`` (at interior Nash equilibria for ``tau = 0``); on asymmetric matching
    pennies it is ``0.25`` at uniform play for every ``tau``.

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player.
        temperature: ``tau >= 0`` in payoff units.

    Returns:
        The loss (all weights ``eta_k = 1``).
    """
    strategies = _profile_strategies(game, profile)
    return float(sum(p @ p for p in _projected_gradients(game, strategies, _temperature(temperature))))


def ne_loss_gradient(
    game: TensorGame, profile: MixedProfile | Sequence[ArrayLike], temperature: float
) -> list[NDArray[np.float64]]:
    """Exact gradient of :func:`ne_loss` with respect to each player's strategy (ambient coordinates).

    ``d L / d x_i = -2 tau Pi_T(grad_i) / x_i + sum_{j != i} 2 (d g_j / d x_i)^T Pi_T(grad_j)``,
    where ``d g_j / d x_i`` ``[A_j, A_i]`` is player ``j``'s payoff with ``i`` and ``j`` free.

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player (entries > 0).
        temperature: ``tau >= 0``.

    Returns:
        Per player, ``[A_i]``.
    """
    strategies = _profile_strategies(game, profile)
    tau = _temperature(temperature)
    projected = _projected_gradients(game, strategies, tau)
    out = []
    for i, xi in enumerate(strategies):
        grad = -2.0 * tau * projected[i] / np.maximum(xi, TINY)
        for j in range(game.num_players):
            if j != i:
                grad = grad + 2.0 * (_cross_jacobian(game, strategies, j, i).T @ projected[j])
        out.append(grad)
    return out


def _sample_payoffs(
    game: TensorGame,
    strategies: Sequence[NDArray[np.float64]],
    k: int,
    samples: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], list[NDArray[np.int64]]]:
    """``[S, A_k]`` payoffs ``u_k(., a_-k)`` at ``S`` opponent profiles drawn from ``x_-k``, and the draws."""
    draws = [
        rng.choice(len(s), size=samples, p=s) if j != k else np.zeros(samples, dtype=np.int64)
        for j, s in enumerate(strategies)
    ]
    table = np.moveaxis(game.payoffs[k], k, -1)  # [A_-k..., A_k]
    index = tuple(draws[j] for j in range(game.num_players) if j != k)
    return table[index], draws


def ne_loss_samples(
    game: TensorGame,
    profile: MixedProfile | Sequence[ArrayLike],
    temperature: float,
    samples: int,
    *,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """``[samples]`` independent unbiased estimates of :func:`ne_loss` (two-sample estimator).

    For each player ``k`` two *independent* opponent joint actions ``a_-k, b_-k ~ x_-k`` give
    ``<Pi_T(u_k(., a_-k) - tau (ln x_k + 1)), Pi_T(u_k(., b_-k) - tau (ln x_k + 1))>``, whose
    expectation is the exact term because ``Pi_T`` is linear and the draws are independent
    (Gemp, Marris & Piliouras 2024).

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player.
        temperature: ``tau >= 0``.
        samples: Number of estimates (>= 1).
        rng: Source of randomness.

    Returns:
        ``[samples]`` estimates; their mean is unbiased for the loss.
    """
    strategies = _profile_strategies(game, profile)
    tau = _temperature(temperature)
    count = check_int("samples", samples, minimum=1)
    total = np.zeros(count)
    for k, xk in enumerate(strategies):
        entropy = tau * (safe_log(xk) + 1.0)  # [A_k]
        first, _ = _sample_payoffs(game, strategies, k, count, rng)
        second, _ = _sample_payoffs(game, strategies, k, count, rng)
        pa = first - entropy
        pb = second - entropy
        pa -= pa.mean(axis=1, keepdims=True)
        pb -= pb.mean(axis=1, keepdims=True)
        total += (pa * pb).sum(axis=1)
    return total


def ne_loss_estimate(
    game: TensorGame,
    profile: MixedProfile | Sequence[ArrayLike],
    temperature: float,
    *,
    rng: np.random.Generator,
) -> float:
    """One unbiased sample of :func:`ne_loss` from two independent opponent action samples.

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player.
        temperature: ``tau >= 0``.
        rng: Source of randomness.

    Returns:
        The estimate (it can be negative; its expectation is the loss).
    """
    return float(ne_loss_samples(game, profile, temperature, 1, rng=rng)[0])


def ne_loss_gradient_estimate(
    game: TensorGame,
    profile: MixedProfile | Sequence[ArrayLike],
    temperature: float,
    samples: int = 1,
    *,
    rng: np.random.Generator,
) -> list[NDArray[np.float64]]:
    """Unbiased estimate of :func:`ne_loss_gradient` from independent pairs of opponent samples.

    For each player ``j``, two independent opponent joint actions ``a, b ~ x_-j`` (``samples``
    pairs, averaged) give unbiased projected gradients ``Pi_T grad_j^a`` and ``Pi_T grad_j^b``.
    Player ``j``'s own block gets ``-tau (Pi_T grad_j^a + Pi_T grad_j^b) / x_j``; player ``i != j``
    gets ``J_ji^b . Pi_T grad_j^a + J_ji^a . Pi_T grad_j^b``, where the Jacobian ``J_ji = d g_j /
    d x_i`` is read at the *other* draw's actions of the remaining players (exact in two-player
    games), so every product is of independent unbiased factors (Gemp, Marris & Piliouras 2024).

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player (entries > 0).
        temperature: ``tau >= 0``.
        samples: Pairs of draws per player (>= 1).
        rng: Source of randomness.

    Returns:
        Per player, ``[A_i]``; the expectation is the exact gradient.
    """
    strategies = _profile_strategies(game, profile)
    tau = _temperature(temperature)
    s = check_int("samples", samples, minimum=1)
    n = game.num_players
    grads = [np.zeros(m) for m in game.num_actions]
    for j, xj in enumerate(strategies):
        entropy = tau * (safe_log(xj) + 1.0)
        first, draws_a = _sample_payoffs(game, strategies, j, s, rng)  # [S, A_j]
        second, draws_b = _sample_payoffs(game, strategies, j, s, rng)
        pa = first - entropy
        pb = second - entropy
        pa -= pa.mean(axis=1, keepdims=True)
        pb -= pb.mean(axis=1, keepdims=True)
        # own block: -tau diag(1/x_j) times the projected gradient, symmetrized over the pair
        grads[j] += -tau * (pa + pb).mean(axis=0) / np.maximum(xj, TINY)
        for i in range(n):
            if i == j:
                continue
            if n == 2:  # d g_j / d x_i is exact in two-player games
                jac = _cross_jacobian(game, strategies, j, i)  # [A_j, A_i]
                grads[i] += jac.T @ (pa + pb).mean(axis=0)
                continue
            # [S, A_j, A_i]: u_j with j and i free at the other players' draws of each sample
            table = np.moveaxis(game.payoffs[j], (j, i), (-2, -1))
            rest = [k for k in range(n) if k not in (i, j)]
            jac_a = table[tuple(draws_a[k] for k in rest)]
            jac_b = table[tuple(draws_b[k] for k in rest)]
            # Jacobian from one draw times the projected gradient from the other
            grads[i] += (np.einsum("sji,sj->i", jac_b, pa) + np.einsum("sji,sj->i", jac_a, pb)) / s
    return grads


class NashLossSGD(DynamicsSolver):
    """Minimize the Gemp, Marris & Piliouras (2024) NE loss by (stochastic) projected gradient.

    The loss ``L(x) = sum_k ||Pi_T(g_k - tau (ln x_k + 1))||^2`` is zero exactly at the interior
    logit QREs at temperature ``tau``. Each step moves every strategy along ``-grad L`` and projects
    onto ``{x_k : x_k >= floor_k}``, with ``floor_k = exp(-range(u_k) / tau) / m_k`` (every QRE
    lies above it; at least ``1e-12``).

    * ``samples=None``: exact gradients with an Armijo backtracking step, so the exact loss
      **decreases monotonically**; the **current iterate** converges to a stationary point of the
      loss, linearly near a nondegenerate QRE (a zero of the loss). The loss is non-convex, so in
      general-sum games a stationary point need not be a QRE.
    * ``samples=S``: unbiased two-sample estimates of the gradient (``S`` pairs per player and
      step; the Jacobian and the projected gradient come from independent draws) and the step
      ``lr / sqrt(t)``: projected SGD on a non-convex loss, whose expected stationarity measure
      decays like ``O(log t / sqrt(t))``; the iterate hovers around a QRE with noise that shrinks
      with the step.

    The QRE's NE-exploitability is at most ``tau * sum_k ln m_k``.

    Args:
        temperature: Entropy temperature ``tau`` (> 0) in payoff units.
        lr: Initial learning rate on payoffs scaled to ``range(u) = 1`` (default 0.1, OpenSpiel's);
            exact runs adapt it by backtracking.
        samples: ``None`` for exact gradients, or the number of sampled pairs per player and step.
        start: Start profile, one probability vector per player (default uniform).
    """

    output = Iterate.CURRENT

    def __init__(
        self,
        temperature: float = 0.05,
        lr: float = 0.1,
        samples: int | None = None,
        start: Sequence[ArrayLike] | None = None,
    ) -> None:
        self.temperature = real_in("temperature", temperature, low=0.0, low_open=True)
        self.lr = real_in("lr", lr, low=0.0, low_open=True)
        self.samples = None if samples is None else check_int("samples", samples, minimum=1)
        self.start = check_start(start)
        self.name = "ne-loss-sgd"

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Start profile, initial step and (sampled mode) a sampling generator."""
        state = self._new_state(game)
        state["x"] = np.concatenate(
            [
                project_floored(p, f)
                for p, f in zip(self._split(game, state["x"]), self._floors(game), strict=True)
            ]
        )
        state["lr"] = np.asarray(self.lr / payoff_range(game) ** 2)
        state["loss"] = np.asarray(ne_loss(game, self._split(game, state["x"]), self.temperature))
        if self.samples is not None:
            state["rng"] = sampling_generator(rng)
        return state

    def _floors(self, game: TensorGame) -> list[float]:
        out = []
        for k, m in enumerate(game.num_actions):
            spread = float(game.payoffs[k].max() - game.payoffs[k].min())
            out.append(min(max(math.exp(-spread / self.temperature) / m, 1e-12), 1.0 / m))
        return out

    def _move(
        self, game: TensorGame, x: NDArray[np.float64], grad: NDArray[np.float64], lr: float
    ) -> NDArray[np.float64]:
        parts = zip(self._split(game, x - lr * grad), self._floors(game), strict=True)
        return np.concatenate([project_floored(p, f) for p, f in parts])

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        """Exact gradient step with Armijo backtracking (the exact loss never increases)."""
        x = state["x"]
        parts = self._split(game, x)
        loss = ne_loss(game, parts, self.temperature)
        grad = np.concatenate(ne_loss_gradient(game, parts, self.temperature))
        lr = float(state["lr"])
        for _ in range(60):
            candidate = self._move(game, x, grad, lr)
            new_loss = ne_loss(game, self._split(game, candidate), self.temperature)
            if new_loss <= loss + 1e-4 * float(grad @ (candidate - x)):
                state["x"] = candidate
                state["loss"] = np.asarray(new_loss)
                state["lr"] = np.asarray(min(lr * 1.5, 100.0 * self.lr / payoff_range(game) ** 2))
                self._accumulate(state, candidate)
                return
            lr *= 0.5
        state["lr"] = np.asarray(lr)  # no decrease found: x is stationary to working precision
        state["loss"] = np.asarray(loss)
        self._accumulate(state, x)

    def _sampled_advance(self, game: TensorGame, state: State, t: int, rng: np.random.Generator) -> None:
        """Projected SGD step on the unbiased two-sample gradient estimate."""
        assert self.samples is not None
        strategies = self._split(game, state["x"])
        grads = ne_loss_gradient_estimate(game, strategies, self.temperature, self.samples, rng=rng)
        lr = float(state["lr"]) / math.sqrt(t)
        state["x"] = self._move(game, state["x"], np.concatenate(grads), lr)
        self._accumulate(state, state["x"])


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
NE_LOSS_SGD_ENTRY = SolverEntry("ne-loss-sgd", NashLossSGD, "Gemp et al. NE loss minimized by SGD")
