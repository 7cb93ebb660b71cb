"""Policy-Space Response Oracles (PSRO), with Double Oracle and fictitious self-play as cases.

Lanctot, Zambaldi, Gruslys, Lazaridou, Tuyls, Pérolat, Silver & Graepel 2017, "A Unified
Game-Theoretic Approach to Multiagent Reinforcement Learning" (NeurIPS), Algorithm 1. Each player
keeps a population of policies and the empirical meta-game ``U [P, K_0, ..., K_{P-1}]`` holds the
expected utility of every profile of members. One iteration: a meta-solver maps ``U`` to a
meta-strategy ``sigma``; an oracle computes each player's best response to ``sigma_{-i}`` (exact on
compiled and normal-form games, or a torch DQN / PPO response from
:mod:`gamesolve.solvers.rl_oracles`); the responses join the populations and the new entries of
``U`` are filled, exactly or by seeded sampled matches. The output is the reporting meta-solver's
mixture as one policy (realization-equivalent, :mod:`gamesolve.mixture`), whose exact exploitability
the run loop records. The meta-solvers (Nash, uniform, projected replicator dynamics, alpha-Rank,
(coarse) correlated equilibria, anytime maximin, any registry normal-form solver) are listed on
:class:`PSRO`.

What converges: with exact responses and the Nash meta-solver on a two-player zero-sum game PSRO is
Double Oracle (McMahan, Gordon & Blum 2003): when no response improves on ``sigma`` by more than
``epsilon`` the population stops growing and ``sigma`` is an ``epsilon``-equilibrium of the full game,
after finitely many iterations. The meta-Nash mixture's exploitability is *not* monotone; the
``"anytime"`` report is. With ``"uniform"`` it decreases like fictitious play's, slowly; with more
players or general-sum payoffs there is no guarantee. The state holds every number as arrays and
every random draw derives from the run's seed, so a resumed run repeats an uninterrupted one exactly.

>>> import gamesolve
>>> result = gamesolve.solve(gamesolve.load_game("rps"), PSRO(), iterations=2, progress=False)
>>> result.extras["population_sizes"], result.exploitability < 1e-12
([3, 3], True)
"""

from __future__ import annotations

import importlib
import logging
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.checkpoint import StateRules, check_distributions
from gamesolve.compiled import CompiledGame
from gamesolve.errors import GamesolveError, InvalidArgumentError, UnsupportedGame
from gamesolve.evaluation import exploitability as exact_exploitability
from gamesolve.evaluation import nash_conv as exact_nash_conv
from gamesolve.executors import check_executor
from gamesolve.kernels.evaluation import best_response_kernel, reach_kernel
from gamesolve.mixture import mix_profile_from_plans
from gamesolve.normal_form import MixedProfile, TensorGame, normal_form_game, zero_sum
from gamesolve.policy import TabularPolicy
from gamesolve.registry import SolverEntry
from gamesolve.sequence_form import behavior_to_plans
from gamesolve.solver import ExactSolver, Iterate, IterativeSolver
from gamesolve.solvers._common import prepare_extensive_form
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_int, check_real

__all__ = [
    "META_SOLVERS",
    "PSRO",
    "JointMixture",
    "MetaStrategy",
    "PSROReport",
    "projected_replicator_dynamics",
    "solve_meta_game",
]

log = logging.getLogger(__name__)

#: Players and meta-game axes whose arrays a resumed state is checked for.
_MAX_CHECKED_AXES = 16

State = dict[str, NDArray[Any]]

#: The meta-solvers known by name (any normal-form registry solver is accepted too).
META_SOLVERS: tuple[str, ...] = ("nash", "uniform", "prd", "alpharank", "ce", "cce", "self-play", "anytime")
_JOINT = ("ce", "cce")
_ORACLES = ("exact", "dqn", "ppo")
_INITIAL = ("first", "uniform", "random")

#: Recommendations (CE training, joint supports) with at most this probability are ignored.
_WEIGHT_FLOOR = 1e-12


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
        return cls(tuple(_normalized(np.asarray(m, dtype=np.float64)) for m in marginals))

    @classmethod
    def correlated(cls, joint: ArrayLike, kind: str) -> MetaStrategy:
        """A joint distribution over member profiles, with its marginals."""
        dist = _normalized(np.asarray(joint, dtype=np.float64))
        axes = range(dist.ndim)
        marginals = tuple(dist.sum(axis=tuple(a for a in axes if a != p)) for p in axes)
        return cls(marginals, dist, kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"kind": self.kind, "marginals": [m.tolist() for m in self.marginals]}
        if self.joint is not None:
            out["joint"] = self.joint.tolist()
        return out


def _normalized(v: NDArray[np.float64]) -> NDArray[np.float64]:
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
        return MixedProfile.of(game, [_normalized(avg_x), _normalized(avg_y)])
    from gamesolve.solvers.dynamics import Replicator

    solver = Replicator(dt=dt, projected=True, gamma=gamma)
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, int(iterations))
    return solver.policy(game, state, Iterate.AVERAGE)


@dataclass(frozen=True)
class _MetaConfig:
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
    def of(cls, options: dict[str, Any]) -> _MetaConfig:
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


def _maximin_lp(gains: NDArray[np.float64], e_mat: Any, e_vec: NDArray[np.float64]) -> NDArray[np.float64]:
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
    return _normalized(np.asarray(res.x[:k]))


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
    cfg = _MetaConfig.of(options)
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
            if key in _JOINT
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
    if key in _JOINT:
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


def _check_meta_name(option: str, name: Any) -> str:
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


# ----------------------------------------------------------------------------------- backends


_CHANCE_AT_TERMINALS: weakref.WeakKeyDictionary[CompiledGame, NDArray[np.float64]] = (
    weakref.WeakKeyDictionary()
)


def _chance_at_terminals(game: CompiledGame) -> NDArray[np.float64]:
    """``[T]`` chance reach of every terminal (cached per compiled game)."""
    cached = _CHANCE_AT_TERMINALS.get(game)
    if cached is None:
        reach = np.empty((game.num_nodes, game.num_players + 1))
        reach_kernel(
            game.node_player,
            game.node_infoset,
            game.node_first_child,
            game.node_num_children,
            game.node_prob,
            np.ascontiguousarray(game.legal_mask, dtype=np.float64),
            reach,
        )
        cached = np.ascontiguousarray(reach[game.terminal_node, game.num_players])
        cached.setflags(write=False)
        _CHANCE_AT_TERMINALS[game] = cached
    return cached


def _opponent_weights(
    own: Sequence[NDArray[np.float64]], sigma: MetaStrategy, player: int, conditional: int | None
) -> NDArray[np.float64]:
    """``[X]``: the opponents' weight of every outcome ``x`` (terminal or own action profile).

    ``own[j]`` is ``[K_j, X]``: how much member ``k`` of player ``j`` contributes to outcome
    ``x`` (its own reach of a terminal, or its probability of an action). The result is
    ``sum_k sigma(k_{-i} | ...) prod_{j != i} own[j][k_j, x]``: against the product of marginals,
    the marginal of the joint over ``-i``, or the joint conditioned on ``k_i = conditional``.
    """
    n_players = len(own)
    if sigma.joint is None:
        out = np.ones(own[0].shape[1])
        for j in range(n_players):
            if j != player:
                out *= sigma.marginals[j] @ own[j]
        return out
    joint = sigma.joint
    if conditional is not None:
        mass = float(sigma.marginals[player][conditional])
        joint = np.take(joint, conditional, axis=player) / mass
    else:
        joint = joint.sum(axis=player)
    letters = "abcdefghijklmnopqrstuvwxy"
    others = [j for j in range(n_players) if j != player]
    spec = letters[: len(others)]
    operands: list[Any] = [joint]
    terms = [spec]
    for pos, j in enumerate(others):
        operands.append(own[j])
        terms.append(f"{spec[pos]}z")
    return np.asarray(np.einsum(",".join(terms) + "->z", *operands, optimize=True))


def _fill_new_entries(
    previous: NDArray[np.float64] | None,
    sizes: Sequence[int],
    block: Any,
) -> NDArray[np.float64]:
    """``[P, K_0, ...]``: ``previous`` where it exists, new entries from ``block(slices)``.

    The new profiles (some member index beyond ``previous``) are cut into one block per player
    ``p``: ``k_p`` new, ``k_q`` old for ``q < p`` and any for ``q > p``.
    """
    n = len(sizes)
    out = np.empty((n, *sizes))
    old = [0] * n if previous is None else list(previous.shape[1:])
    if previous is not None:
        out[(slice(None), *(slice(0, k) for k in old))] = previous
    for p in range(n):
        if old[p] == sizes[p]:
            continue
        slices = [slice(0, old[q]) if q < p else slice(0, sizes[q]) for q in range(n)]
        slices[p] = slice(old[p], sizes[p])
        if any(sl.stop == sl.start for sl in slices):
            continue
        out[(slice(None), *slices)] = block(slices)
    return out


class _ExtensiveBackend:
    """Populations of tabular policies on a compiled game."""

    def __init__(self, game: CompiledGame) -> None:
        self.game = game
        self.num_players = game.num_players
        self.chance = _chance_at_terminals(game)  # [T]
        self.weighted_utility = self.chance[:, None] * game.terminal_utility  # [T, P]

    # -- members
    def initial(self, how: str, rng: np.random.Generator) -> NDArray[np.float64]:
        game = self.game
        if how == "uniform":
            return np.asarray(TabularPolicy.uniform(game).probs, dtype=np.float64).copy()
        if how == "random":
            return np.asarray(TabularPolicy.random(game, rng=rng).probs, dtype=np.float64).copy()
        return np.asarray(TabularPolicy.first_action(game).probs, dtype=np.float64).copy()

    def _uniform(self) -> NDArray[np.float64]:
        return np.asarray(self.game.legal_mask / self.game.infoset_num_actions[:, None], dtype=np.float64)

    # -- scratch: members' own plans and their reach of every terminal
    def reach(self, state: State, player: int) -> NDArray[np.float64]:
        """``[K_p, T]`` every member's own reach of every terminal (cached in ``state``)."""
        pop = state[f"pop{player}"]
        plans = state.get(f"_plans{player}")
        known = 0 if plans is None else plans.shape[0]
        if known < pop.shape[0]:
            start = int(self.game.sequence_offset[player])
            stop = start + int(self.game.num_sequences[player])
            fresh = np.stack(
                [behavior_to_plans(self.game, pop[k])[start:stop] for k in range(known, pop.shape[0])]
            )
            plans = fresh if plans is None else np.concatenate([plans, fresh])
            state[f"_plans{player}"] = plans
            terminal = np.ascontiguousarray(plans[:, self.game.terminal_seq[:, player]])
            state[f"_reach{player}"] = terminal
        return state[f"_reach{player}"]

    def plans(self, state: State, player: int) -> NDArray[np.float64]:
        self.reach(state, player)
        return state[f"_plans{player}"]

    # -- meta-game
    def meta_game(self, state: State, previous: NDArray[np.float64] | None) -> NDArray[np.float64]:
        """Exact ``[P, K_0, ...]``: ``sum_z c(z) u_q(z) prod_p x_{k_p}(z)``; only new entries computed."""
        reach = [self.reach(state, p) for p in range(self.num_players)]
        letters = "abcdefghijklmnopqrstuvwxy"[: self.num_players]
        terms = ",".join(f"{c}z" for c in letters)

        def block(slices: Sequence[slice]) -> NDArray[np.float64]:
            parts = [r[s] for r, s in zip(reach, slices, strict=True)]
            if self.num_players == 2:
                return np.stack([(parts[0] * self.weighted_utility[:, q]) @ parts[1].T for q in range(2)])
            return np.einsum(f"zq,{terms}->q{letters}", self.weighted_utility, *parts, optimize=True)

        return _fill_new_entries(previous, [r.shape[0] for r in reach], block)

    # -- best responses
    def best_response(
        self, state: State, player: int, sigma: MetaStrategy, conditional: int | None
    ) -> tuple[NDArray[np.float64], float, float]:
        """``(member [I, A], best-response value, value of sigma's own play)`` for ``player``."""
        game = self.game
        reach = [self.reach(state, p) for p in range(self.num_players)]
        weight = self.chance * _opponent_weights(reach, sigma, player, conditional)  # [T]
        own = (
            reach[player][conditional] if conditional is not None else sigma.marginals[player] @ reach[player]
        )
        on_value = float((weight * own) @ game.terminal_utility[:, player])
        fake = np.ones((game.num_nodes, self.num_players + 1))
        fake[game.terminal_node, self.num_players] = weight
        total = int(game.num_sequences.sum())
        values, br_values = np.empty(self.num_players), np.empty(self.num_players)
        slots = np.empty(game.num_infosets, dtype=np.int32)
        best_response_kernel(
            game.terminal_node,
            game.terminal_utility,
            game.terminal_seq,
            fake,
            game.infoset_player,
            game.infoset_num_actions,
            game.infoset_first_seq,
            game.infoset_parent_seq,
            game.sequence_offset,
            np.empty(total),
            np.empty(total),
            values,
            br_values,
            slots,
        )
        member = self._uniform()
        rows = game.infosets_of(player)
        member[rows] = 0.0
        member[rows, slots[rows]] = 1.0
        return member, float(br_values[player]), on_value

    def value_against(
        self, state: State, player: int, member: NDArray[np.float64], sigma: MetaStrategy
    ) -> float:
        """Exact value of ``member`` (``player``'s rows) against ``sigma_{-player}``."""
        reach = [self.reach(state, p) for p in range(self.num_players)]
        weight = self.chance * _opponent_weights(reach, sigma, player, None)
        start = int(self.game.sequence_offset[player])
        plan = behavior_to_plans(self.game, member)[start : start + int(self.game.num_sequences[player])]
        own = plan[self.game.terminal_seq[:, player]]
        return float((weight * own) @ self.game.terminal_utility[:, player])

    def maximin(self, state: State, player: int) -> NDArray[np.float64]:
        """``[K_p]``: the mixture of ``player``'s members with the best worst case (two players)."""
        from gamesolve.sequence_form import constraint_matrices, payoff_matrices

        a0, a1 = payoff_matrices(self.game)  # [S_0, S_1] each
        plans = self.plans(state, player)  # [K_p, S_p]
        gains = np.asarray((a0.T @ plans.T).T) if player == 0 else np.asarray((a1 @ plans.T).T)
        e_mat, e_vec = constraint_matrices(self.game, 1 - player)
        return _maximin_lp(gains, e_mat, e_vec)

    # -- output
    def mixture(self, state: State, marginals: Sequence[NDArray[np.float64]]) -> TabularPolicy:
        plans = [self.plans(state, p) for p in range(self.num_players)]
        return mix_profile_from_plans(self.game, plans, list(marginals))

    def latest(self, state: State) -> TabularPolicy:
        probs = self._uniform()
        for p in range(self.num_players):
            rows = self.game.infosets_of(p)
            probs[rows] = state[f"pop{p}"][-1][rows]
        return TabularPolicy(self.game, probs, validate=False)

    def as_policy(self, member: NDArray[np.float64]) -> TabularPolicy:
        return TabularPolicy(self.game, member, validate=False)


class _NormalFormBackend:
    """Populations of mixed strategies (probability vectors) on a normal-form game."""

    def __init__(self, game: TensorGame) -> None:
        self.game = game
        self.num_players = game.num_players

    def initial(self, how: str, rng: np.random.Generator, player: int) -> NDArray[np.float64]:
        n = self.game.num_actions[player]
        if how == "uniform":
            return np.full(n, 1.0 / n)
        if how == "random":
            return np.asarray(rng.dirichlet(np.ones(n)), dtype=np.float64)
        return np.eye(n)[0]

    def reach(self, state: State, player: int) -> NDArray[np.float64]:
        return state[f"pop{player}"]  # [K_p, A_p]: a member's weight on each own action

    def meta_game(self, state: State, previous: NDArray[np.float64] | None) -> NDArray[np.float64]:
        """``[P, K_0, ...]``: the payoff tensor contracted with the members; only new entries computed."""
        pops = [state[f"pop{p}"] for p in range(self.num_players)]
        letters = "abcdefghijklm"[: self.num_players]
        upper = letters.upper()
        terms = ",".join(f"{k}{a}" for k, a in zip(upper, letters, strict=True))

        def block(slices: Sequence[slice]) -> NDArray[np.float64]:
            parts = [m[s] for m, s in zip(pops, slices, strict=True)]
            if self.num_players == 2:
                return np.stack([parts[0] @ self.game.payoffs[q] @ parts[1].T for q in range(2)])
            return np.einsum(f"q{letters},{terms}->q{upper}", self.game.payoffs, *parts, optimize=True)

        return _fill_new_entries(previous, [m.shape[0] for m in pops], block)

    def _action_values(self, state: State, player: int, sigma: MetaStrategy, conditional: int | None) -> Any:
        """``[A_player]`` payoff of each pure action against ``sigma``'s opponents."""
        n_players = self.num_players
        pops = [state[f"pop{p}"] for p in range(n_players)]
        if sigma.joint is None:
            mixed = [sigma.marginals[p] @ pops[p] for p in range(n_players)]
            return self.game.action_values(mixed, player)
        # joint: weight of every opponents' action profile, then contract player's payoff tensor
        tensor = self.game.payoffs[player]  # [A_0, ..., A_{P-1}]
        joint = sigma.joint
        if conditional is not None:
            joint = np.take(joint, conditional, axis=player) / float(sigma.marginals[player][conditional])
        else:
            joint = joint.sum(axis=player)
        letters = "abcdefghijklm"[:n_players]
        others = [j for j in range(n_players) if j != player]
        members = "NOPQRSTUVWXYZ"[: len(others)]
        terms = [letters, members] + [f"{members[pos]}{letters[j]}" for pos, j in enumerate(others)]
        return np.einsum(",".join(terms) + f"->{letters[player]}", tensor, joint, *[pops[j] for j in others])

    def best_response(
        self, state: State, player: int, sigma: MetaStrategy, conditional: int | None
    ) -> tuple[NDArray[np.float64], float, float]:
        q = np.asarray(self._action_values(state, player, sigma, conditional), dtype=np.float64)
        pop = state[f"pop{player}"]
        own = pop[conditional] if conditional is not None else sigma.marginals[player] @ pop
        best = int(np.argmax(q))
        return np.eye(q.shape[0])[best], float(q[best]), float(q @ own)

    def value_against(
        self, state: State, player: int, member: NDArray[np.float64], sigma: MetaStrategy
    ) -> float:
        return float(np.asarray(self._action_values(state, player, sigma, None)) @ member)

    def maximin(self, state: State, player: int) -> NDArray[np.float64]:
        """``[K_p]``: the mixture of ``player``'s members with the best worst case (two players)."""
        pop = state[f"pop{player}"]
        gains = pop @ self.game.payoffs[0] if player == 0 else pop @ self.game.payoffs[1].T
        n = gains.shape[1]
        return _maximin_lp(gains, np.ones((1, n)), np.ones(1))

    def mixture(self, state: State, marginals: Sequence[NDArray[np.float64]]) -> MixedProfile:
        parts = [_normalized(marginals[p] @ state[f"pop{p}"]) for p in range(self.num_players)]
        return MixedProfile.of(self.game, parts)

    def latest(self, state: State) -> MixedProfile:
        return MixedProfile.of(self.game, [state[f"pop{p}"][-1] for p in range(self.num_players)])

    def as_policy(self, member: NDArray[np.float64]) -> NDArray[np.float64]:
        out = member.copy()
        out.setflags(write=False)
        return out


_Backend = _ExtensiveBackend | _NormalFormBackend


def _backend(game: Any) -> _Backend:
    if isinstance(game, TensorGame):
        return _NormalFormBackend(game)
    return _ExtensiveBackend(game)


# ------------------------------------------------------------------------------- joint output


@dataclass(frozen=True, eq=False)
class JointMixture:
    """A correlated meta-strategy as the output of PSRO with a CE/CCE meta-solver.

    A mediator draws a profile of members ``k ~ joint`` and tells each player ``p`` to play its
    member ``k_p``. Its exploitability is the (coarse) correlated equilibrium gap: for ``"cce"``
    each player's best gain from ignoring the recommendation (a best response to the joint
    distribution of the others' members), for ``"ce"`` the expected best gain after seeing it.

    Attributes:
        game: The prepared game (compiled or normal-form).
        members: Per player, ``[K_p, I, A]`` (compiled) or ``[K_p, A_p]`` (normal-form) arrays.
        joint: ``[K_0, ..., K_{P-1}]`` probabilities of member profiles.
        kind: ``"ce"`` or ``"cce"``.
    """

    game: Any
    members: tuple[NDArray[np.float64], ...]
    joint: NDArray[np.float64]
    kind: str

    @property
    def strategy(self) -> MetaStrategy:
        """The joint distribution with its marginals."""
        return MetaStrategy.correlated(self.joint, self.kind)

    def marginal_policy(self) -> Any:
        """The product of the players' marginal mixtures (a TabularPolicy or MixedProfile)."""
        state = self._state()
        return _backend(self.game).mixture(state, self.strategy.marginals)

    def _state(self) -> State:
        return {f"pop{p}": m for p, m in enumerate(self.members)}

    def gains(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``(gain [P], on-policy value [P], deviation value [P])`` of every player."""
        backend = _backend(self.game)
        state = self._state()
        sigma = self.strategy
        n = len(self.members)
        gain, value, deviation = np.zeros(n), np.zeros(n), np.zeros(n)
        for p in range(n):
            if self.kind == "ce":
                for k in np.flatnonzero(sigma.marginals[p] > _WEIGHT_FLOOR):
                    mass = float(sigma.marginals[p][k])
                    _, br, on = backend.best_response(state, p, sigma, int(k))
                    gain[p] += mass * max(br - on, 0.0)
                    value[p] += mass * on
                    deviation[p] += mass * br
            else:
                _, br, on = backend.best_response(state, p, sigma, None)
                gain[p], value[p], deviation[p] = max(br - on, 0.0), on, br
        return gain, value, deviation

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the members are left out)."""
        return {
            "kind": self.kind,
            "joint": self.joint.tolist(),
            "sizes": [int(m.shape[0]) for m in self.members],
        }


@dataclass(frozen=True)
class PSROReport:
    """Exploitability of PSRO's output plus the run's population figures (``extras``).

    Attributes:
        nash_conv: Sum of the players' best-response gains against the output.
        exploitability: ``nash_conv / P``.
        on_policy_values: ``[P]`` values of the output.
        best_response_values: ``[P]`` values of each player's best response to the output.
        extras: ``population``, ``meta_game``, ``meta_strategy``, ... (see :class:`PSRO`).
    """

    nash_conv: float
    exploitability: float
    on_policy_values: tuple[float, ...]
    best_response_values: tuple[float, ...]
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (extras are left out)."""
        return {
            "nash_conv": self.nash_conv,
            "exploitability": self.exploitability,
            "on_policy_values": list(self.on_policy_values),
            "best_response_values": list(self.best_response_values),
        }


# ------------------------------------------------------------------------------------- the solver


#: What a derived seed is for (the first word after the base seed).
_SEED_INITIAL, _SEED_ORACLE, _SEED_MATCHES = 0, 1, 2


def _seed_of(state: State, *parts: int) -> int:
    """A 63-bit seed for one random draw, derived from the run's base seed and ``parts``."""
    base = int(np.asarray(state["seed"]).reshape(-1)[0])
    return int(np.random.SeedSequence([base, *parts]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _psro_state_rules() -> StateRules:
    """What a resumed PSRO state must satisfy: populations may have grown along their first axes."""
    every_axis = tuple(range(_MAX_CHECKED_AXES))
    growing: dict[str, tuple[int, ...]] = {
        key: every_axis for key in ("payoffs", "stderr", "counts", "meta_joint", "train_joint")
    }
    per_player = {
        f"{prefix}{p}" for prefix in ("pop", "born", "meta", "train") for p in range(_MAX_CHECKED_AXES)
    }
    growing.update({key: (0,) for key in per_player})
    probabilities = {key for key in per_player if not key.startswith("born")} | {
        "meta_joint",
        "train_joint",
    }
    return StateRules(
        counter="t",
        nonnegative=frozenset({"stderr", "counts", "done", *probabilities, *per_player}),
        probabilities=frozenset(probabilities),
        growing=growing,
    )


class PSRO(IterativeSolver):
    """Policy-Space Response Oracles (see the module docstring).

    Meta-solvers (``meta_solver`` reports the output, ``training_meta_solver`` picks the oracle's
    opponents):

    * ``"nash"``: the LP on two-player zero-sum games (Double Oracle), otherwise one equilibrium by
      the logit homotopy of :mod:`gamesolve.solvers.homotopy`; members with identical payoffs are
      merged first.
    * ``"uniform"``: every member equally, i.e. fictitious self-play (Heinrich, Lanctot & Silver
      2015, "Fictitious self-play in extensive-form games").
    * ``"prd"``: projected replicator dynamics (Lanctot et al. 2017) with OpenSpiel's defaults on
      payoffs scaled to ``max |u| = 1``, time average.
    * ``"alpharank"``: the per-player marginals of alpha-Rank's stationary distribution
      (:func:`gamesolve.alpha_rank`).
    * ``"ce"`` / ``"cce"``: the maximum-welfare (coarse) correlated equilibrium of the meta-game
      (JPSRO; Marris et al. 2021, "Multi-agent training beyond zero-sum with correlated equilibrium
      meta-solvers"), a joint distribution over profiles. Training against ``"cce"`` best-responds
      to the other players' joint marginal; against ``"ce"``, to ``sigma`` conditioned on each
      recommended member. Reporting outputs a :class:`JointMixture` whose exploitability is the
      (C)CE gap with deviations to any policy of the full game.
    * ``"self-play"``: the newest member only (iterated best response; it cycles in games like RPS).
    * ``"anytime"`` (two-player zero-sum, reporting): each player's maximin mixture of its own
      population against an unrestricted opponent (Anytime Double Oracle; McAleer, Wang, Lanier,
      Baldi & Fox 2022). Its exploitability never increases; training then defaults to ``"nash"``.
    * any normal-form solver of the registry (``"lp"``, ``"homotopy"``, ``"regret-matching"``, ...),
      iterative ones for ``meta_iterations`` iterations.

    On compiled games a member of player ``p`` is an ``[I, A]`` probability array (only ``p``'s rows
    matter) and the output a :class:`~gamesolve.policy.TabularPolicy`; on normal-form games a member
    is a probability vector and the output a :class:`~gamesolve.normal_form.MixedProfile`. RL
    responses are kept as their tabulated policy, so checkpoints hold no network weights.

    Args:
        oracle: ``"exact"`` (default), ``"dqn"``, ``"ppo"`` (torch, :mod:`gamesolve.solvers.rl_oracles`),
            or an object with that module's ``train(game, player, opponents, weights, *, seed,
            steps)`` method.
        meta_solver: The meta-solver whose mixture is the output (default ``"nash"``).
        training_meta_solver: The meta-solver that picks the oracle's opponents (default: the
            same as ``meta_solver``).
        initial: The first member of every population: ``"first"`` (slot 0 everywhere, e.g. Rock;
            default), ``"uniform"`` or ``"random"`` (seeded).
        episodes: ``None`` (default) for the exact meta-game; a number (an integer >= 1) of sampled
            matches per new profile (needs :mod:`gamesolve.tournament`).
        executor: Where sampled matches run (:mod:`gamesolve.executors`; a name or an executor
            object; default in-process). Results do not depend on it, so it is not part of
            :meth:`config`.
        epsilon: A response must improve on the meta-strategy by more than this (utility units;
            finite, >= 0) to count; when none does, the population stops growing (Double Oracle
            termination).
        oracle_steps: Environment steps per RL response (an integer >= 1).
        oracle_options: Keyword options of the RL oracle factory (``dqn_oracle`` / ``ppo_oracle``),
            checked when the solver is built; only with ``oracle="dqn"`` or ``"ppo"``.
        prd_iterations, prd_dt, prd_gamma: Projected replicator dynamics (Lanctot et al. 2017):
            iterations >= 1, ``dt`` finite and > 0, ``gamma`` in ``[0, 1)``.
        alpharank_alpha, alpharank_population_size: alpha-Rank's ``alpha`` (finite, > 0) and ``m``
            (an integer >= 2).
        meta_iterations: Iterations (>= 1) of an iterative registry solver used as meta-solver.

    ``Iterate.AVERAGE`` (the output) is the reporting meta-strategy's mixture; ``Iterate.CURRENT``
    is the profile of every player's newest member.

    Raises:
        InvalidArgumentError: An unknown oracle, meta-solver, initial member or oracle option, or
            a value out of the ranges above, naming the option.
    """

    name = "psro"
    output = Iterate.AVERAGE

    def __init__(
        self,
        *,
        oracle: str | Any = "exact",
        meta_solver: str = "nash",
        training_meta_solver: str | None = None,
        initial: str = "first",
        episodes: int | None = None,
        executor: Any = "inprocess",
        epsilon: float = 1e-9,
        oracle_steps: int = 20_000,
        oracle_options: dict[str, Any] | None = None,
        prd_iterations: int = 100_000,
        prd_dt: float = 1e-3,
        prd_gamma: float = 1e-6,
        alpharank_alpha: float = 100.0,
        alpharank_population_size: int = 50,
        meta_iterations: int = 10_000,
    ) -> None:
        if isinstance(oracle, str):
            oracle = check_choice("oracle", oracle.strip(), _ORACLES)
        elif not callable(getattr(oracle, "train", None)):
            raise InvalidArgumentError(
                f"oracle must be one of {', '.join(_ORACLES)} or an object with a train() method"
            )
        self.oracle = oracle
        self.meta_solver = _check_meta_name("meta_solver", meta_solver)
        if training_meta_solver is None:
            # anytime is a reporting solver: training against it repeats the same responses
            training_meta_solver = "nash" if self.meta_solver == "anytime" else self.meta_solver
        self.training_meta_solver = _check_meta_name("training_meta_solver", training_meta_solver)
        self.initial = check_choice("initial", initial, _INITIAL)
        self.episodes = None if episodes is None else check_int("episodes", episodes, minimum=1)
        self.executor = check_executor(executor)
        self.epsilon = check_real("epsilon", epsilon, minimum=0.0)
        self.oracle_steps = check_int("oracle_steps", oracle_steps, minimum=1)
        if oracle_options is not None and not isinstance(oracle_options, dict):
            raise InvalidArgumentError(
                f"oracle_options must be a mapping of option names to values, got {oracle_options!r}"
            )
        self.oracle_options = dict(oracle_options or {})
        self._rl: Any = None
        if self.oracle_options and not (isinstance(oracle, str) and oracle in ("dqn", "ppo")):
            raise InvalidArgumentError(
                "oracle_options configure the dqn and ppo oracles; "
                f"oracle={oracle if isinstance(oracle, str) else type(oracle).__name__!r} takes none"
            )
        if isinstance(oracle, str) and oracle != "exact":
            self._rl = self._rl_oracle()  # checks oracle_options now, before any work
        meta = {
            "prd_iterations": prd_iterations,
            "prd_dt": prd_dt,
            "prd_gamma": prd_gamma,
            "alpharank_alpha": alpharank_alpha,
            "alpharank_population_size": alpharank_population_size,
            "meta_iterations": meta_iterations,
        }
        meta = dict(vars(_MetaConfig.of(meta)))
        self._meta_options = meta
        self._stash: tuple[Any, State] | None = None

    # ------------------------------------------------------------------------ protocol
    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values (the executor is left out: it changes no number)."""
        oracle = self.oracle if isinstance(self.oracle, str) else type(self.oracle).__name__
        return {
            "oracle": oracle,
            "meta_solver": self.meta_solver,
            "training_meta_solver": self.training_meta_solver,
            "initial": self.initial,
            "episodes": self.episodes,
            "epsilon": self.epsilon,
            "oracle_steps": self.oracle_steps,
            "oracle_options": dict(self.oracle_options),
            **self._meta_options,
        }

    def prepare(self, game: Any) -> CompiledGame | TensorGame:
        """A :class:`~gamesolve.normal_form.TensorGame` as it is, anything else compiled."""
        if isinstance(game, TensorGame):
            return game
        spec = getattr(game, "spec", None)
        if spec is not None and spec.kind is not GameKind.EXTENSIVE_FORM:
            raise UnsupportedGame(
                f"psro runs on extensive-form games (compiled) and normal-form games, not "
                f"{spec.kind.value} games"
                + (
                    ": a mixture of stationary strategies is not a stationary strategy, so its exact "
                    "exploitability is out of reach here (use shapley or minimax-q)"
                    if spec.kind is GameKind.MARKOV
                    else ""
                )
            )
        return prepare_extensive_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Extensive-form and normal-form games, any number of players and utilities."""
        if spec.kind not in (GameKind.EXTENSIVE_FORM, GameKind.NORMAL_FORM):
            raise UnsupportedGame(
                f"psro runs on extensive-form and normal-form games, not {spec.kind.value} games"
            )
        if self.oracle != "exact" and spec.kind is GameKind.NORMAL_FORM:
            raise UnsupportedGame(
                f"oracle={self.oracle if isinstance(self.oracle, str) else 'object'!r} trains on "
                "extensive-form games; normal-form games use oracle='exact' (the best pure action)"
            )
        if self.episodes is not None and spec.kind is GameKind.NORMAL_FORM:
            raise UnsupportedGame(
                "episodes applies to extensive-form games; normal-form meta-games are exact"
            )
        if not spec.is_two_player_zero_sum and "anytime" in (self.meta_solver, self.training_meta_solver):
            raise UnsupportedGame(
                f"the anytime meta-solver needs a two-player zero-sum game; {spec.name!r} is "
                f"{spec.utility.value.replace('_', '-')} with {spec.num_players} players (use nash, prd, "
                "alpharank, uniform, ce or cce)"
            )
        if not spec.is_two_player_zero_sum and "nash" in (self.meta_solver, self.training_meta_solver):
            log.info(
                "psro on %s: the Nash meta-solver uses the logit homotopy (%d players, %s)",
                spec.name,
                spec.num_players,
                spec.utility.value,
            )

    #: What a resumed state must satisfy: populations may have grown along their first axes.
    state_rules = _psro_state_rules()
    #: The run ends by itself once :meth:`finished` says so.
    can_finish = True

    def check_state(self, game: CompiledGame | TensorGame, state: State) -> None:
        """Every population, meta-game and meta-strategy agrees on the population sizes."""
        players = game.spec.num_players
        sizes = tuple(int(state[f"pop{p}"].shape[0]) for p in range(players))
        if min(sizes) < 1:
            raise ValueError("every player's population must hold at least one member")
        if state["payoffs"].shape != (players, *sizes) or state["stderr"].shape != (players, *sizes):
            raise ValueError(
                f"the meta-game has shape {state['payoffs'].shape}, expected {(players, *sizes)}"
            )
        if state["counts"].shape != sizes:
            raise ValueError(f"the meta-game counts have shape {state['counts'].shape}, expected {sizes}")
        legal = game.legal_mask if isinstance(game, CompiledGame) else None
        for p, k in enumerate(sizes):
            for prefix in ("born", "meta", "train"):
                if state[f"{prefix}{p}"].shape != (k,):
                    raise ValueError(
                        f"array '{prefix}{p}' has shape {state[f'{prefix}{p}'].shape}, expected ({k},)"
                    )
            check_distributions(f"pop{p}", state[f"pop{p}"], legal)
            for prefix in ("meta", "train"):
                check_distributions(f"{prefix}{p}", state[f"{prefix}{p}"])
        for key in ("meta_joint", "train_joint"):
            if key in state:
                if state[key].shape != sizes:
                    raise ValueError(f"array {key!r} has shape {state[key].shape}, expected {sizes}")
                check_distributions(key, state[key].reshape(1, -1))
        if int(state["done"]) not in (0, 1):
            raise ValueError(f"array 'done' must be 0 or 1, got {int(state['done'])}")
        gains = state["gains"]
        if int(state["t"]) > 0 and not np.isfinite(gains).all():
            raise ValueError("array 'gains' must hold the last iteration's best-response gains, not NaN")

    def init(self, game: CompiledGame | TensorGame, rng: np.random.Generator) -> State:
        """One initial member per player, its meta-game and meta-strategies."""
        backend = _backend(game)
        seed = int(rng.integers(0, 2**62))
        state: State = {
            "t": np.zeros((), dtype=np.int64),
            "seed": np.asarray(seed, dtype=np.int64),
            "done": np.zeros((), dtype=np.int8),
            "gains": np.full(backend.num_players, np.nan),
        }
        init_rng = np.random.default_rng(_seed_of(state, _SEED_INITIAL, 0))
        for p in range(backend.num_players):
            if isinstance(backend, _NormalFormBackend):
                member = backend.initial(self.initial, init_rng, p)
            else:
                member = backend.initial(self.initial, init_rng)
            state[f"pop{p}"] = member[None].copy()
            state[f"born{p}"] = np.zeros(1, dtype=np.int64)
        self._update_meta_game(game, backend, state, previous=None)
        self._solve_meta(game, state)
        return state

    def step(self, game: CompiledGame | TensorGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` PSRO iterations in place (no-ops once the population stopped growing)."""
        backend = _backend(game)
        for _ in range(iterations):
            t = int(state["t"]) + 1
            state["t"] = np.asarray(t, dtype=np.int64)
            if int(state["done"]):
                continue
            self._iterate(game, backend, state, t)

    def policy(self, game: CompiledGame | TensorGame, state: State, which: Iterate) -> Any:
        """The reporting meta-strategy's mixture, or every player's newest member."""
        backend = _backend(game)
        out: Any
        if which is Iterate.CURRENT:
            out = backend.latest(state)
        else:
            sigma = self._read(state, "meta")
            if sigma.joint is not None:
                members = tuple(np.array(state[f"pop{p}"]) for p in range(backend.num_players))
                out = JointMixture(game, members, sigma.joint.copy(), sigma.kind)
            else:
                out = backend.mixture(state, sigma.marginals)
        self._stash = (out, state)
        return out

    def evaluate(self, game: CompiledGame | TensorGame, policy: Any) -> float:
        """Exact exploitability of ``policy`` (the (C)CE gap / P for a :class:`JointMixture`)."""
        if isinstance(policy, JointMixture):
            gain, _, _ = policy.gains()
            return float(gain.sum()) / len(policy.members)
        return float(exact_exploitability(game, policy))

    def report(self, game: CompiledGame | TensorGame, policy: Any) -> PSROReport:
        """Exact NashConv (or (C)CE gap) of ``policy``, with the population figures as ``extras``."""
        if isinstance(policy, JointMixture):
            gain, value, deviation = policy.gains()
            total = float(gain.sum())
            base = PSROReport(
                nash_conv=total,
                exploitability=total / len(policy.members),
                on_policy_values=tuple(float(v) for v in value),
                best_response_values=tuple(float(v) for v in deviation),
            )
        else:
            raw = exact_nash_conv(game, policy)
            base = PSROReport(
                nash_conv=float(raw.nash_conv),
                exploitability=float(raw.exploitability),
                on_policy_values=tuple(raw.on_policy_values),
                best_response_values=tuple(raw.best_response_values),
            )
        extras: dict[str, Any] = {}
        if self._stash is not None and self._stash[0] is policy:
            extras = self.extras(game, self._stash[1])
        return PSROReport(
            base.nash_conv, base.exploitability, base.on_policy_values, base.best_response_values, extras
        )

    # ----------------------------------------------------------------------- extra hooks
    def finished(self, game: Any, state: State) -> str | None:
        """Why the run can stop (the population stopped growing), or ``None``."""
        del game
        if not int(state["done"]):
            return None
        gains = ", ".join(f"{g:.3g}" for g in state["gains"])
        return (
            f"PSRO converged: no best response improves on the meta-strategy by more than "
            f"{self.epsilon:g} (gains {gains})"
        )

    def progress_info(self, game: Any, state: State) -> dict[str, str]:
        """Short figures for a progress bar: population sizes."""
        del game
        n = sum(1 for k in state if k.startswith("pop"))
        sizes = [int(state[f"pop{p}"].shape[0]) for p in range(n)]
        return {"pop": "x".join(str(s) for s in sizes)}

    def extras(self, game: CompiledGame | TensorGame, state: State) -> dict[str, Any]:
        """The run's figures: ``population``, ``meta_game``, ``meta_strategy``, ... (see :class:`PSRO`)."""
        backend = _backend(game)
        n = backend.num_players
        names = self._names(state, n)
        members = tuple(tuple(backend.as_policy(m) for m in state[f"pop{p}"]) for p in range(n))
        population: Any = members
        meta_game: Any = {
            "payoffs": np.array(state["payoffs"]),
            "stderr": np.array(state["stderr"]),
            "counts": np.array(state["counts"]),
            "names": names,
            "exact": self.episodes is None,
        }
        try:
            pop_module = importlib.import_module("gamesolve.population")
        except ImportError:
            pop_module = None
        if pop_module is not None:
            population = _population_object(pop_module, members, names)
            meta_game = _meta_game_object(pop_module, meta_game)
        report = self._read(state, "meta")
        training = self._read(state, "train")
        out: dict[str, Any] = {
            "population": population,
            "meta_game": meta_game,
            "meta_strategy": tuple(np.array(m) for m in report.marginals),
            "training_meta_strategy": tuple(np.array(m) for m in training.marginals),
            "population_sizes": [int(state[f"pop{p}"].shape[0]) for p in range(n)],
            "best_response_gains": [float(g) if math.isfinite(g) else None for g in state["gains"].tolist()],
            "psro_converged": bool(int(state["done"])),
        }
        if report.joint is not None:
            out["meta_joint"] = np.array(report.joint)
        return out

    # ---------------------------------------------------------------------------- internals
    def _names(self, state: State, n: int) -> tuple[tuple[str, ...], ...]:
        out = []
        for p in range(n):
            born = state[f"born{p}"]
            names = []
            seen: dict[int, int] = {}
            for b in born.tolist():
                if b == 0:
                    names.append(self.initial)
                    continue
                seen[b] = seen.get(b, 0) + 1
                names.append(f"br{b}" if seen[b] == 1 else f"br{b}.{seen[b]}")
            out.append(tuple(names))
        return tuple(out)

    def _read(self, state: State, prefix: str) -> MetaStrategy:
        n = sum(1 for k in state if k.startswith("pop"))
        joint = state.get(f"{prefix}_joint")
        marginals = tuple(state[f"{prefix}{p}"] for p in range(n))
        if joint is not None:
            kind = self.meta_solver if prefix == "meta" else self.training_meta_solver
            return MetaStrategy(marginals, joint, kind if kind in _JOINT else "cce")
        return MetaStrategy(marginals)

    def _write(self, state: State, prefix: str, sigma: MetaStrategy) -> None:
        for p, m in enumerate(sigma.marginals):
            state[f"{prefix}{p}"] = np.array(m, dtype=np.float64)
        if sigma.joint is not None:
            state[f"{prefix}_joint"] = np.array(sigma.joint, dtype=np.float64)
        else:
            state.pop(f"{prefix}_joint", None)

    def _meta_strategy(self, name: str, game: CompiledGame | TensorGame, state: State) -> MetaStrategy:
        if name == "anytime":
            backend = _backend(game)
            return MetaStrategy.product([backend.maximin(state, p) for p in range(backend.num_players)])
        zs = game.spec.is_two_player_zero_sum
        return solve_meta_game(name, state["payoffs"], zero_sum_game=zs, **self._meta_options)

    def _solve_meta(self, game: CompiledGame | TensorGame, state: State) -> None:
        report = self._meta_strategy(self.meta_solver, game, state)
        self._write(state, "meta", report)
        if self.training_meta_solver == self.meta_solver:
            training = report
        else:
            training = self._meta_strategy(self.training_meta_solver, game, state)
        self._write(state, "train", training)

    def _update_meta_game(
        self, game: CompiledGame | TensorGame, backend: _Backend, state: State, previous: Any
    ) -> None:
        if self.episodes is None:
            old = state.get("payoffs")
            payoffs = backend.meta_game(state, None if old is None else np.asarray(old))
            state["payoffs"] = payoffs
            state["stderr"] = np.zeros_like(payoffs)
            state["counts"] = np.zeros(payoffs.shape[1:], dtype=np.int64)
            return
        meta = _sampled_meta_game(self, game, backend, state, previous)
        state["payoffs"] = np.array(meta.payoffs, dtype=np.float64)
        state["stderr"] = np.array(meta.stderr, dtype=np.float64)
        state["counts"] = np.array(meta.counts, dtype=np.int64)

    def _iterate(self, game: CompiledGame | TensorGame, backend: _Backend, state: State, t: int) -> None:
        sigma = self._read(state, "train")
        n = backend.num_players
        exact = self.oracle == "exact"
        new: list[list[NDArray[np.float64]]] = [[] for _ in range(n)]
        gains = np.zeros(n)
        improving = False
        for p in range(n):
            if exact and sigma.kind == "ce" and sigma.joint is not None:
                for k in np.flatnonzero(sigma.marginals[p] > _WEIGHT_FLOOR):
                    member, br, on = backend.best_response(state, p, sigma, int(k))
                    gain = br - on
                    gains[p] += float(sigma.marginals[p][k]) * max(gain, 0.0)
                    if gain > self.epsilon and not any(np.array_equal(member, m) for m in new[p]):
                        new[p].append(member)
                        improving = True
            elif exact:
                member, br, on = backend.best_response(state, p, sigma, None)
                gains[p] = br - on
                improving |= gains[p] > self.epsilon
                new[p].append(member)
            else:
                member = self._rl_response(game, backend, state, p, sigma, t)
                on = self._on_value(backend, state, p, sigma)
                gains[p] = backend.value_against(state, p, member, sigma) - on
                improving = True
                new[p].append(member)
        state["gains"] = gains
        if exact and not improving:
            state["done"] = np.ones((), dtype=np.int8)
            log.info("psro iteration %d: converged (best-response gains %s)", t, np.round(gains, 12).tolist())
            return
        previous = _previous_meta(self, state, n) if self.episodes is not None else None
        for p in range(n):
            if not new[p]:
                continue
            state[f"pop{p}"] = np.concatenate([state[f"pop{p}"], np.stack(new[p])])
            state[f"born{p}"] = np.concatenate([state[f"born{p}"], np.full(len(new[p]), t, dtype=np.int64)])
        self._update_meta_game(game, backend, state, previous)
        self._solve_meta(game, state)
        log.info(
            "psro iteration %d: population %s, best-response gains %s",
            t,
            "x".join(str(state[f"pop{p}"].shape[0]) for p in range(n)),
            ", ".join(f"{g:.4g}" for g in gains),
        )

    def _on_value(self, backend: _Backend, state: State, player: int, sigma: MetaStrategy) -> float:
        _, _, on = backend.best_response(state, player, sigma, None)
        return on

    # -- RL oracles
    def _rl_oracle(self) -> Any:
        if self._rl is not None:
            return self._rl
        if not isinstance(self.oracle, str):
            self._rl = self.oracle
            return self._rl
        try:
            rl_oracles = importlib.import_module("gamesolve.solvers.rl_oracles")
        except ImportError as exc:
            raise GamesolveError(
                f"oracle={self.oracle!r} needs gamesolve.solvers.rl_oracles and torch ({exc}); "
                "use oracle='exact'"
            ) from None
        factory = rl_oracles.dqn_oracle if self.oracle == "dqn" else rl_oracles.ppo_oracle
        try:
            self._rl = factory(**self.oracle_options)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"oracle_options: {exc}") from None
        return self._rl

    def _rl_response(
        self, game: Any, backend: _Backend, state: State, player: int, sigma: MetaStrategy, t: int
    ) -> NDArray[np.float64]:
        """An RL response of ``player`` to ``sigma``'s opponents, tabulated into a member."""
        if not isinstance(backend, _ExtensiveBackend):
            raise UnsupportedGame("RL oracles train on extensive-form games")
        oracle = self._rl_oracle()
        if sigma.joint is None:
            # The realization-equivalent mixture: the same episode distribution as drawing a
            # member of every opponent from sigma at the start of each episode.
            opponents = [backend.mixture(state, sigma.marginals)]
            weights = np.ones(1)
        else:
            opponents, weights = _joint_opponents(backend, state, sigma, player)
        trained = oracle.train(
            game,
            player,
            opponents,
            weights,
            seed=_seed_of(state, _SEED_ORACLE, t, player),
            steps=self.oracle_steps,
        )
        tabulate = getattr(trained, "tabulate", None)
        policy = tabulate() if callable(tabulate) else trained.policy
        if not isinstance(policy, TabularPolicy):
            raise GamesolveError("the RL oracle's response could not be tabulated on this compiled game")
        member = backend._uniform()
        rows = backend.game.infosets_of(player)
        member[rows] = policy.probs[rows]
        return member

    def __repr__(self) -> str:
        return f"PSRO(oracle={self.config()['oracle']!r}, meta_solver={self.meta_solver!r})"


def _joint_opponents(
    backend: _ExtensiveBackend, state: State, sigma: MetaStrategy, player: int
) -> tuple[list[TabularPolicy], NDArray[np.float64]]:
    """The support of the others' joint distribution as whole profiles with their weights."""
    assert sigma.joint is not None
    joint = sigma.joint.sum(axis=player)
    others = [j for j in range(backend.num_players) if j != player]
    profiles, weights = [], []
    for index in zip(*np.nonzero(joint > _WEIGHT_FLOOR), strict=True):
        probs = backend._uniform()
        for pos, j in enumerate(others):
            rows = backend.game.infosets_of(j)
            probs[rows] = state[f"pop{j}"][index[pos]][rows]
        profiles.append(TabularPolicy(backend.game, probs, validate=False))
        weights.append(float(joint[index]))
    return profiles, np.asarray(weights) / sum(weights)


# ------------------------------------------------------------------- population module bridges


def _population_object(module: Any, members: Any, names: Any) -> Any:
    try:
        return module.Population(members=members, names=names)
    except TypeError:  # an older/newer signature: fall back to the plain members
        return members


def _meta_game_object(module: Any, data: dict[str, Any]) -> Any:
    try:
        return module.MetaGame(
            payoffs=data["payoffs"],
            stderr=data["stderr"],
            counts=data["counts"],
            names=data["names"],
            exact=data["exact"],
        )
    except TypeError:
        return data


def _previous_meta(solver: PSRO, state: State, n: int) -> Any:
    pop_module = importlib.import_module("gamesolve.population")
    return pop_module.MetaGame(
        payoffs=np.array(state["payoffs"]),
        stderr=np.array(state["stderr"]),
        counts=np.array(state["counts"]),
        names=solver._names(state, n),
        exact=False,
    )


def _sampled_meta_game(solver: PSRO, game: Any, backend: _Backend, state: State, previous: Any) -> Any:
    """The meta-game by seeded sampled matches, new entries only (:func:`gamesolve.tournament.tournament`)."""
    try:
        tournament = importlib.import_module("gamesolve.tournament").tournament
        pop_module = importlib.import_module("gamesolve.population")
    except ImportError as exc:
        raise GamesolveError(f"episodes={solver.episodes} needs gamesolve.tournament ({exc})") from None
    n = backend.num_players
    members = tuple(tuple(backend.as_policy(m) for m in state[f"pop{p}"]) for p in range(n))
    population = pop_module.Population(members=members, names=solver._names(state, n))
    return tournament(
        game,
        population,
        episodes=solver.episodes,
        seed=_seed_of(state, _SEED_MATCHES, int(state["t"])),
        executor=solver.executor,
        exact=False,
        previous=previous,
        progress=False,
    )


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
PSRO_ENTRY = SolverEntry(
    "psro",
    PSRO,
    "PSRO: best-response oracles + meta-solver (nash = Double Oracle, uniform, prd, alpharank, "
    "ce, cce, anytime)",
)
FSP_ENTRY = SolverEntry(
    "fsp",
    PSRO,
    "fictitious self-play: PSRO with the uniform meta-solver",
    (("meta_solver", "uniform"),),
)
SELF_PLAY_ENTRY = SolverEntry(
    "self-play",
    PSRO,
    "iterated best response: PSRO against the newest member",
    (("meta_solver", "self-play"),),
)
