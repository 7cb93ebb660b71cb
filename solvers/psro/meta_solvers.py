"""PSRO's meta-solvers: from an empirical meta-game ``U [P, K_0, ..., K_{P-1}]`` to a meta-strategy.

A meta-strategy (:class:`MetaStrategy`) is one distribution per population, or a joint distribution
over member profiles for the correlated meta-solvers. :func:`solve_meta_game` applies a meta-solver by
name: Nash (an LP on two-player zero-sum meta-games, the logit homotopy otherwise), uniform
(fictitious self-play), projected replicator dynamics (Lanctot et al. 2017, "A Unified
Game-Theoretic Approach to Multiagent Reinforcement Learning"; numba kernel for two players),
alpha-Rank, (coarse) correlated equilibria, the newest member, or any normal-form solver of the
registry. :func:`maximin_mixture` is the LP of the anytime meta-solver (McAleer et al. 2022).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import GamesolveError, InvalidArgumentError, UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame, normal_form_game, zero_sum
from gamesolve.solver import ExactSolver, Iterate
from gamesolve.validation import check_int, check_real

__all__ = [
    "JOINT_META_SOLVERS",
    "META_SOLVERS",
    "WEIGHT_FLOOR",
    "MetaConfig",
    "MetaStrategy",
    "check_meta_name",
    "maximin_mixture",
    "normalized",
    "projected_replicator_dynamics",
    "solve_meta_game",
]

log = logging.getLogger(__name__)

#: The meta-solvers known by name (any normal-form registry solver is accepted too).
META_SOLVERS: tuple[str, ...] = ("nash", "uniform", "prd", "alpharank", "ce", "cce", "self-play", "anytime")
#: The meta-solvers whose meta-strategy is a joint distribution over member profiles.
JOINT_META_SOLVERS = ("ce", "cce")

#: Recommendations (CE training, joint supports) with at most this probability are ignored.
WEIGHT_FLOOR = 1e-12

# ------------------------------------------------------------------------------- meta-strategies


@dataclass(frozen=True)
class MetaStrategy:
    """A meta-strategy: one distribution per population, and the joint one for CE/CCE solvers.

    Attributes:
        marginals: Per player, ``[K_p]`` probabilities of its members.
        joint: ``[K_0, ..., K_{P-1}]`` probabilities of member profiles for correlated
            meta-solvers (``"ce"``, ``"cce"``), else ``None`` (the players mix independently).
        kind: ``"product"``, ``"ce"`` or ``"cce"``.
    """

    marginals: tuple[NDArray[np.float64], ...]
    joint: NDArray[np.float64] | None = None
    kind: str = "product"

    @classmethod
    def product(cls, marginals: Sequence[ArrayLike]) -> MetaStrategy:
        """Independent mixtures (normalized, negative rounding noise clipped)."""
        return cls(tuple(normalized(np.asarray(m, dtype=np.float64)) for m in marginals))

    @classmethod
    def correlated(cls, joint: ArrayLike, kind: str) -> MetaStrategy:
        """A joint distribution over member profiles, with its marginals."""
        dist = normalized(np.asarray(joint, dtype=np.float64))
        axes = range(dist.ndim)
        marginals = tuple(dist.sum(axis=tuple(a for a in axes if a != p)) for p in axes)
        return cls(marginals, dist, kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"kind": self.kind, "marginals": [m.tolist() for m in self.marginals]}
        if self.joint is not None:
            out["joint"] = self.joint.tolist()
        return out


def normalized(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """``v`` with negative rounding noise clipped, divided by its sum.

    Raises:
        GamesolveError: The clipped ``v`` sums to zero or is not finite.
    """
    v = np.maximum(v, 0.0)
    total = float(v.sum())
    if not (total > 0 and math.isfinite(total)):
        raise GamesolveError("the meta-solver returned an empty or non-finite distribution")
    return v / total


@numba.njit(cache=True, nogil=True)
def _project_floored_kernel(v: NDArray[np.float64], floor: float, out: NDArray[np.float64]) -> None:
    """Euclidean projection of ``v`` onto ``{x : sum x = 1, x >= floor}`` (sort-based)."""
    n = v.shape[0]
    mass = 1.0 - n * floor
    if mass <= 0.0:
        for a in range(n):
            out[a] = 1.0 / n
        return
    w = (v - floor) / mass
    u = np.sort(w)[::-1]
    css = 0.0
    theta = 0.0
    for j in range(n):
        css += u[j]
        if u[j] - (css - 1.0) / (j + 1) > 0.0:
            theta = (css - 1.0) / (j + 1)
    for a in range(n):
        out[a] = floor + mass * max(w[a] - theta, 0.0)


@numba.njit(cache=True, nogil=True)
def _prd_two_player_kernel(
    a0: NDArray[np.float64],  # [K0, K1] row payoffs, scaled
    a1: NDArray[np.float64],  # [K0, K1] column payoffs, scaled
    iterations: int,
    dt: float,
    gamma: float,
    avg_x: NDArray[np.float64],  # [K0] out: time average
    avg_y: NDArray[np.float64],  # [K1] out: time average
) -> None:
    """Projected replicator dynamics, simultaneous Euler steps, time average of the iterates."""
    m, n = a0.shape
    x = np.full(m, 1.0 / m)
    y = np.full(n, 1.0 / n)
    nx = np.empty(m)
    ny = np.empty(n)
    floor_x = min(gamma, 1.0 / m)
    floor_y = min(gamma, 1.0 / n)
    avg_x[:] = 0.0
    avg_y[:] = 0.0
    for _ in range(iterations):
        avg_x += x
        avg_y += y
        gx = a0 @ y
        gy = x @ a1
        vx = x @ gx
        vy = gy @ y
        _project_floored_kernel(x + dt * x * (gx - vx), floor_x, nx)
        _project_floored_kernel(y + dt * y * (gy - vy), floor_y, ny)
        x[:] = nx
        y[:] = ny
    avg_x /= iterations
    avg_y /= iterations


def projected_replicator_dynamics(
    game: TensorGame, *, iterations: int = 100_000, dt: float = 1e-3, gamma: float = 1e-6
) -> MixedProfile:
    """Time average of projected replicator dynamics from uniform play (PSRO's PRD meta-solver).

    The same iteration as :class:`gamesolve.solvers.dynamics.Replicator` with ``projected=True`` (payoffs
    scaled to ``max |u| = 1``, simultaneous Euler steps, projection onto ``{x : x_a >= gamma}``),
    run in a numba kernel for two players (about 100x faster) and by that class otherwise.

    Raises:
        InvalidArgumentError: ``iterations`` not an integer >= 1, ``dt`` not a finite number > 0,
            or ``gamma`` not in ``[0, 1)``.
    """
    iterations = check_int("iterations", iterations, minimum=1)
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    gamma = check_real("gamma", gamma, minimum=0.0, maximum=1.0, max_inclusive=False)
    scale = max(float(np.abs(game.payoffs).max()), 1e-12)
    if game.num_players == 2:
        m, n = game.num_actions
        avg_x, avg_y = np.empty(m), np.empty(n)
        _prd_two_player_kernel(
            np.ascontiguousarray(game.payoffs[0] / scale),
            np.ascontiguousarray(game.payoffs[1] / scale),
            int(iterations),
            float(dt),
            float(gamma),
            avg_x,
            avg_y,
        )
        return MixedProfile.of(game, [normalized(avg_x), normalized(avg_y)])
    from gamesolve.solvers.dynamics import Replicator

    solver = Replicator(dt=dt, projected=True, gamma=gamma)
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, int(iterations))
    return solver.policy(game, state, Iterate.AVERAGE)


@dataclass(frozen=True)
class MetaConfig:
    """Meta-solver options, checked when built (:class:`InvalidArgumentError` names the option)."""

    prd_iterations: int = 100_000
    prd_dt: float = 1e-3
    prd_gamma: float = 1e-6
    alpharank_alpha: float = 100.0
    alpharank_population_size: int = 50
    meta_iterations: int = 10_000

    def __post_init__(self) -> None:
        checked = {
            "prd_iterations": check_int("prd_iterations", self.prd_iterations, minimum=1),
            "prd_dt": check_real("prd_dt", self.prd_dt, minimum=0.0, min_inclusive=False),
            "prd_gamma": check_real(
                "prd_gamma", self.prd_gamma, minimum=0.0, maximum=1.0, max_inclusive=False
            ),
            "alpharank_alpha": check_real(
                "alpharank_alpha", self.alpharank_alpha, minimum=0.0, min_inclusive=False
            ),
            "alpharank_population_size": check_int(
                "alpharank_population_size", self.alpharank_population_size, minimum=2
            ),
            "meta_iterations": check_int("meta_iterations", self.meta_iterations, minimum=1),
        }
        for key, value in checked.items():
            object.__setattr__(self, key, value)

    @classmethod
    def of(cls, options: dict[str, Any]) -> MetaConfig:
        """The configuration from keyword options; unknown names are refused with the known ones."""
        known = list(cls.__dataclass_fields__)
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise InvalidArgumentError(
                f"unknown meta-solver option {unknown[0]!r}; known options: {', '.join(known)}"
            )
        return cls(**options)


def _dedupe(payoffs: NDArray[np.float64]) -> list[NDArray[np.int64]]:
    """Per player, the index of the first member with identical payoffs (over all players)."""
    n_players = payoffs.shape[0]
    out = []
    for p in range(n_players):
        slabs = np.moveaxis(payoffs, p + 1, 1).reshape(n_players, payoffs.shape[p + 1], -1)
        rows = np.ascontiguousarray(slabs.transpose(1, 0, 2).reshape(payoffs.shape[p + 1], -1))
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        out.append(first[inverse.reshape(-1)].astype(np.int64))
    return out


def _nash(payoffs: NDArray[np.float64], zero_sum_game: bool) -> MetaStrategy:
    """A Nash equilibrium of the meta-game, on the members with distinct payoffs."""
    reps = _dedupe(payoffs)
    keep = [np.unique(r) for r in reps]
    index: tuple[Any, ...] = (slice(None), *np.ix_(*keep))
    reduced = payoffs[index]
    if zero_sum_game:
        from gamesolve.solvers.lp import solve_zero_sum_lp

        profile = solve_zero_sum_lp(zero_sum(reduced[0], name="psro meta-game")).profile
    else:
        from gamesolve.solvers.homotopy import NashHomotopy

        result = NashHomotopy().run(normal_form_game(reduced, name="psro meta-game"), progress=False)
        if not result.converged:
            log.warning(
                "the homotopy found no exact Nash equilibrium of the %s meta-game (%s); using its "
                "best point (NashConv %.3g)",
                "x".join(str(k) for k in reduced.shape[1:]),
                result.message,
                result.nash_conv,
            )
        profile = result.policy
    marginals = []
    for p, kept in enumerate(keep):
        full = np.zeros(payoffs.shape[p + 1])
        full[kept] = profile[p]
        marginals.append(full)
    return MetaStrategy.product(marginals)


def maximin_mixture(
    gains: NDArray[np.float64], e_mat: Any, e_vec: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``argmax_sigma min_y (sigma^T gains) y`` over ``sigma`` in the simplex, ``y`` in ``{E y = e, y >= 0}``.

    LP duality turns the inner minimum into ``max e^T v`` subject to ``E^T v <= gains^T sigma``,
    so one LP in ``(sigma, v)`` gives the maximin mixture (HiGHS).

    Args:
        gains: ``[K, S]`` the player's payoff of member ``k`` against each opponent sequence (or
            action) with unit weight.
        e_mat: ``[R, S]`` the opponent's constraint matrix (sparse or dense).
        e_vec: ``[R]`` its right-hand side.
    """
    import scipy.sparse as sp
    from scipy.optimize import linprog

    k = gains.shape[0]
    e_sparse = sp.csr_matrix(e_mat)
    rows = e_sparse.shape[0]
    a_ub = sp.hstack([sp.csr_matrix(-gains.T), e_sparse.T]).tocsr()  # [S, K + R]
    a_eq = sp.csr_matrix(np.concatenate([np.ones(k), np.zeros(rows)])[None, :])
    cost = np.concatenate([np.zeros(k), -np.asarray(e_vec, dtype=np.float64)])
    bounds = [(0.0, None)] * k + [(None, None)] * rows
    res = linprog(
        cost, A_ub=a_ub, b_ub=np.zeros(a_ub.shape[0]), A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs"
    )
    if res.status != 0 or res.x is None:
        raise GamesolveError(
            f"HiGHS could not solve the maximin LP of the anytime meta-solver: {res.message}"
        )
    return normalized(np.asarray(res.x[:k]))


def solve_meta_game(
    name: str, payoffs: ArrayLike, *, zero_sum_game: bool | None = None, **options: Any
) -> MetaStrategy:
    """Apply a meta-solver to a meta-game ``[P, K_0, ..., K_{P-1}]``.

    Args:
        name: One of :data:`META_SOLVERS` or a normal-form solver of the registry.
        payoffs: The meta-game payoffs.
        zero_sum_game: Whether the underlying game is two-player zero-sum (picks the LP for
            ``"nash"``); ``None`` classifies the meta-game itself.
        **options: ``prd_iterations``, ``prd_dt``, ``prd_gamma``, ``alpharank_alpha``,
            ``alpharank_population_size``, ``meta_iterations``.

    Raises:
        InvalidArgumentError: Unknown meta-solver option or an option out of range.
        ValueError: Unknown meta-solver.
    """
    cfg = MetaConfig.of(options)
    u = np.asarray(payoffs, dtype=np.float64)
    sizes = u.shape[1:]
    key = name.strip().lower()
    if key == "uniform":
        return MetaStrategy.product([np.ones(k) for k in sizes])
    if key == "self-play":
        return MetaStrategy.product([np.eye(k)[-1] for k in sizes])
    if all(k == 1 for k in sizes):  # one profile: every solver agrees (and the CE LP has no rows)
        return (
            MetaStrategy.correlated(np.ones(sizes), key)
            if key in JOINT_META_SOLVERS
            else MetaStrategy.product([np.ones(1) for _ in sizes])
        )
    game = normal_form_game(u, name="psro meta-game")
    if zero_sum_game is None:
        zero_sum_game = game.spec.is_two_player_zero_sum
    if key == "nash":
        return _nash(u, bool(zero_sum_game) and u.shape[0] == 2)
    if key == "anytime":
        raise ValueError("the anytime meta-solver needs the game itself, not only the meta-game (use PSRO)")
    if key == "prd":
        profile = projected_replicator_dynamics(
            game, iterations=cfg.prd_iterations, dt=cfg.prd_dt, gamma=cfg.prd_gamma
        )
        return MetaStrategy.product(list(profile))
    if key == "alpharank":
        from gamesolve.alpharank import alpha_rank

        ranked = alpha_rank(game, alpha=cfg.alpharank_alpha, population_size=cfg.alpharank_population_size)
        return MetaStrategy.product(list(ranked.marginals))
    if key in JOINT_META_SOLVERS:
        from gamesolve.solvers.correlated import correlated_equilibrium

        solution = correlated_equilibrium(game, kind=key, objective="welfare")
        return MetaStrategy.correlated(solution.distribution, key)
    from gamesolve.registry import make_solver

    solver = make_solver(key, game=game)
    try:
        prepared = solver.prepare(game)
    except UnsupportedGame as exc:
        raise ValueError(f"meta-solver {name!r} does not solve normal-form games: {exc}") from None
    if isinstance(solver, ExactSolver):
        result = solver.run(prepared, seed=0)
    else:
        from gamesolve.run import solve

        result = solve(game, solver, iterations=cfg.meta_iterations, progress=False)
    policy = result.policy
    if isinstance(policy, MixedProfile):
        return MetaStrategy.product(list(policy))
    return MetaStrategy.correlated(np.asarray(policy), "cce")


def check_meta_name(option: str, name: Any) -> str:
    """``name`` in lower case: one of :data:`META_SOLVERS` or a normal-form solver of the registry.

    Raises:
        InvalidArgumentError: Not a name, or a name neither knows (the message names ``option``).
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"{option} must be a meta-solver name, got {name!r}")
    key = name.strip().lower()
    if key in META_SOLVERS:
        return key
    from gamesolve.registry import solver_names

    registry = set(solver_names()) - {"psro", "self-play", "fsp"}
    if key in registry:
        return key
    raise InvalidArgumentError(
        f"unknown {option} {name!r}; use one of {', '.join(META_SOLVERS)} or a normal-form solver "
        "of the registry (lp, homotopy, replicator, regret-matching, ...; see gamesolve.available_solvers())"
    )
