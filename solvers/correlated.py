"""Correlated and coarse correlated equilibria of N-player normal-form games, by LP.

A distribution ``z`` over joint actions is a correlated equilibrium (CE; Aumann 1974, "Subjectivity
and correlation in randomized strategies") if no player gains by swapping a recommended action
``a_i`` for another ``a_i'``: ``sum_{a_-i} z(a_i, a_-i) [u_i(a_i', a_-i) - u_i(a_i, a_-i)] <=
epsilon``; a coarse correlated equilibrium (CCE; Moulin & Vial 1978, "Strategically zero-sum games")
if no player gains by committing to a fixed action in advance: ``sum_a z(a) [u_i(a_i', a_-i) -
u_i(a)] <= epsilon``. Both sets are polytopes, so any linear objective (maximum welfare by default)
is one LP, solved by HiGHS through :func:`scipy.optimize.linprog`. The returned distribution is
clipped at 0 and renormalized, and its largest deviation gains are recomputed in numpy and reported
relative to each player's payoff range. Each player's payoffs are scaled by a power of two before
the LP, so payoffs of any finite size solve alike; ``time_limit`` bounds the call.

Constrained equilibria (Bernasconi, Castiglioni, Marchesi, Trovò & Gatti 2023, "Constrained
Phi-equilibria", ICML) are offered in the tractable case where each player's constraints involve
only its own actions: the distribution's marginal must satisfy them, and only safe deviations (into
strategies that satisfy them) count. That case stays one LP through LP duality
(:func:`_constrained_lp`); the version where a deviation is safe when its resulting marginal is
feasible can be non-convex and hard, and is not offered.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gamesolve.certify import binary_exponent, ldexp
from gamesolve.errors import GamesolveError, InvalidArgumentError, MalformedGameError
from gamesolve.highs import highs_linprog, transfer_seconds
from gamesolve.normal_form import TensorGame
from gamesolve.registry import SolverEntry
from gamesolve.results import SolveResult, one_shot_result
from gamesolve.solver import ExactSolver
from gamesolve.solvers.common import NormalFormSolver, check_time_limit
from gamesolve.validation import check_choice, check_real

__all__ = ["CorrelatedLP", "CorrelatedSolution", "correlated_equilibrium", "deviation_gains"]

log = logging.getLogger(__name__)

_KINDS = ("ce", "cce")


@dataclass(frozen=True)
class CorrelatedSolution:
    """A correlated distribution with its figures.

    Attributes:
        kind: ``"ce"`` or ``"cce"``.
        distribution: ``[A0, ..., A_{P-1}]`` probabilities of joint actions (read-only).
        values: ``[P]`` expected payoff of every player.
        welfare: Sum of the players' expected payoffs (``inf`` where it overflows).
        objective: Value of the LP objective at the distribution.
        max_deviation_gain: Per player, the largest gain of any deviation of the kind (<= epsilon
            up to solver tolerance).
        epsilon: The slack allowed in the incentive constraints.
        relative_gains: Per player, ``max_deviation_gain`` as a fraction of that player's payoff
            range (``0`` for a player whose payoffs are all equal).
        converged: ``False`` when the time limit stopped HiGHS (the distribution is then uniform).
        message: One line on how the answer was found.
    """

    kind: str
    distribution: NDArray[np.float64]
    values: tuple[float, ...]
    welfare: float
    objective: float
    max_deviation_gain: tuple[float, ...]
    epsilon: float
    relative_gains: tuple[float, ...] = ()
    converged: bool = True
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "kind": self.kind,
            "distribution": self.distribution.tolist(),
            "values": list(self.values),
            "welfare": self.welfare,
            "objective": self.objective,
            "max_deviation_gain": list(self.max_deviation_gain),
            "epsilon": self.epsilon,
            "relative_gains": list(self.relative_gains),
            "converged": self.converged,
        }


@dataclass(frozen=True)
class _Scaled:
    """Every player's payoffs times ``2^-exponents[i]`` (``[P, A0, ..., A_{P-1}]``, in ``[-1, 1]``)."""

    payoffs: NDArray[np.float64]
    exponents: tuple[int, ...]

    @classmethod
    def of(cls, game: TensorGame) -> _Scaled:
        exponents = tuple(binary_exponent(float(np.abs(u).max(initial=0.0))) for u in game.payoffs)
        scaled = np.stack([np.ldexp(u, -e) for u, e in zip(game.payoffs, exponents, strict=True)])
        return cls(scaled, exponents)

    def unscale(self, i: int, value: float) -> float:
        return ldexp(value, self.exponents[i])


def _player_views(payoffs: NDArray[np.float64], i: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Player ``i``'s payoffs and joint-action indices with ``i``'s axis first: ``[m_i, R]`` each."""
    shape = payoffs.shape[1:]
    index = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    u = np.moveaxis(payoffs[i], i, 0).reshape(shape[i], -1)
    idx = np.moveaxis(index, i, 0).reshape(shape[i], -1)
    return u, idx


def _incentive_rows(payoffs: NDArray[np.float64], kind: str) -> tuple[sp.csr_matrix, NDArray[np.int64]]:
    """Sparse rows ``G`` with ``G z <= epsilon`` the CE or CCE incentive constraints (z flattened).

    Returns ``G`` ``[K, n]`` and the player of each row ``[K]``.
    """
    n_joint = int(np.prod(payoffs.shape[1:]))
    rows, cols, vals, owners = [], [], [], []
    row = 0
    for i in range(payoffs.shape[0]):
        u, idx = _player_views(payoffs, i)  # [m, R]
        m = u.shape[0]
        for dev in range(m):
            diff = u[dev][None, :] - u  # [m, R]: gain of switching each recommended a to dev
            if kind == "ce":
                for a in range(m):
                    if a == dev:
                        continue
                    rows.append(np.full(idx.shape[1], row))
                    cols.append(idx[a])
                    vals.append(diff[a])
                    owners.append(i)
                    row += 1
            else:
                rows.append(np.full(idx.size, row))
                cols.append(idx.ravel())
                vals.append(diff.ravel())
                owners.append(i)
                row += 1
    if not rows:  # every player has one action: no deviation, no constraint
        return sp.csr_matrix((0, n_joint)), np.zeros(0, dtype=np.int64)
    matrix = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row, n_joint)
    )
    return matrix, np.asarray(owners, dtype=np.int64)


def deviation_gains(
    game: TensorGame,
    distribution: ArrayLike,
    kind: str = "ce",
    *,
    constraints: Sequence[ArrayLike | None] | None = None,
) -> NDArray[np.float64]:
    """``[P]``: each player's largest gain from deviating from ``distribution``.

    Without ``constraints``: for ``kind="ce"`` the largest gain of swapping one recommended action
    for another (the quantity the CE constraints bound), for ``"cce"`` the largest gain of
    committing to one action. With ``constraints`` (per player ``None`` or ``[K_i, m_i]`` costs,
    as in :func:`correlated_equilibrium`): the largest gain of a *safe* deviation, a swap map
    (``"ce"``, total gain over all recommendations) or a committed strategy (``"cce"``) whose
    strategies satisfy the player's constraints; computed by small LPs. Computed on payoffs
    scaled by powers of two, so a gain overflows only where it exceeds the float range.

    Raises:
        MalformedGameError: ``distribution`` has the wrong shape.
        ValueError: Bad ``kind`` or ``constraints``, or a player's constraints admit no strategy.
    """
    kind = check_choice("kind", kind, _KINDS)
    z = np.asarray(distribution, dtype=np.float64)
    if z.shape != game.num_actions:
        raise MalformedGameError(f"distribution must have shape {game.num_actions}, got {z.shape}")
    costs = None if constraints is None else _cost_matrices(game, constraints)
    return np.array(
        [_scaled_gain(_Scaled.of(game), z, kind, costs, i, unscale=True) for i in range(game.num_players)]
    )


def _scaled_gain(
    scaled: _Scaled,
    z: NDArray[np.float64],
    kind: str,
    costs: list[NDArray[np.float64] | None] | None,
    i: int,
    *,
    unscale: bool,
) -> float:
    """Player ``i``'s largest deviation gain, on its scaled payoffs (``unscale``: in payoff units)."""
    u, idx = _player_views(scaled.payoffs, i)
    zi = z.reshape(-1)[idx]  # [m, R]
    follow = float((zi * u).sum())
    swap = zi @ u.T  # [a, b]: payoff of playing b whenever a is recommended
    if costs is None:
        if kind == "ce":
            gain = float((swap - np.diag(swap)[:, None]).max())
        else:
            gain = float(swap.sum(axis=0).max()) - follow
    else:
        rows = swap if kind == "ce" else swap.sum(axis=0, keepdims=True)
        gain = sum(_best_safe_payoff(costs[i], row, i) for row in rows) - follow
    return scaled.unscale(i, gain) if unscale else gain


def _best_safe_payoff(cost: NDArray[np.float64] | None, payoff: NDArray[np.float64], player: int) -> float:
    """``max s^T payoff`` over mixed strategies ``s`` with ``cost @ s <= 0`` (``payoff`` in [-1, 1])."""
    if cost is None:
        return float(payoff.max())
    m = payoff.shape[0]
    try:
        res = highs_linprog(
            -payoff,
            a_ub=cost,
            b_ub=np.zeros(cost.shape[0]),
            a_eq=np.ones((1, m)),
            b_eq=np.ones(1),
            bounds=(0.0, None),
            method="highs",
            what=f"player {player}'s safe best response",
            tolerance=1e-9,
        )
    except GamesolveError:
        raise InvalidArgumentError(
            f"constraints[{player}] admit no mixed strategy of player {player}"
        ) from None
    return float(-res.fun)


def correlated_equilibrium(
    game: TensorGame,
    *,
    kind: str = "ce",
    objective: str | ArrayLike = "welfare",
    epsilon: float = 0.0,
    constraints: Sequence[ArrayLike | None] | None = None,
    time_limit: float | None = None,
) -> CorrelatedSolution:
    """An optimal correlated (``kind="ce"``) or coarse correlated (``"cce"``) equilibrium.

    Args:
        game: An N-player normal-form game.
        kind: ``"ce"`` or ``"cce"``.
        objective: ``"welfare"`` (sum of payoffs, the default), a ``[P]`` vector of finite player
            weights, or a full ``[A0, ..., A_{P-1}]`` array of finite coefficients; always
            maximized.
        epsilon: Allowed gain of any deviation (``epsilon``-CE / CCE), in payoff units; finite
            and ``>= 0``.
        constraints: Per player, ``None`` or a ``[K_i, m_i]`` array of cost vectors over that
            player's own actions: the distribution must satisfy ``E_z[c_ij(a_i)] <= 0`` and only
            safe deviations (into strategies that satisfy the constraints) count (Bernasconi et al.
            2023; see the module docstring).
        time_limit: Seconds for the call (``None``: no limit); when they run out the solution is
            the uniform distribution with ``converged=False``.

    Raises:
        InvalidArgumentError: Bad ``kind``, ``epsilon``, ``objective``, ``constraints`` or
            ``time_limit`` (named in the message; also a ``ValueError``).
        GamesolveError: The LP is infeasible (possible only with constraints) or the solver fails.
    """
    kind = check_choice("kind", kind, _KINDS)
    eps = check_real("epsilon", epsilon, minimum=0.0)
    limit = check_time_limit(time_limit)
    started = time.perf_counter()
    shape = game.num_actions
    n_joint = int(np.prod(shape))
    scaled = _Scaled.of(game)
    coef, coef_exponent = _objective(game, scaled, objective)  # [n] in [-1, 1], times 2^coef_exponent
    costs = None if constraints is None else _cost_matrices(game, constraints)
    eps_scaled = np.array([ldexp(eps, -e) for e in scaled.exponents])  # [P] each player's epsilon
    if costs is None:
        g_mat, owners = _incentive_rows(scaled.payoffs, kind)
        a_ub: sp.csr_matrix = g_mat
        b_ub = eps_scaled[owners]
        n_vars = n_joint
        bounds: Any = (0.0, None)
    else:
        a_ub, b_ub, n_vars, bounds = _constrained_lp(scaled, kind, costs, eps_scaled)
    c = np.zeros(n_vars)
    c[:n_joint] = -coef  # maximize coef @ z
    a_eq = sp.csr_matrix(
        (np.ones(n_joint), (np.zeros(n_joint, dtype=np.int64), np.arange(n_joint))), shape=(1, n_vars)
    )
    budget = None
    if limit is not None:
        budget = limit - (time.perf_counter() - started) - transfer_seconds(a_ub.nnz + n_joint, n_vars) - 0.02
    res = None
    if budget is None or budget > 0:
        res = highs_linprog(
            c,
            a_ub=a_ub,
            b_ub=b_ub,
            a_eq=a_eq,
            b_eq=np.ones(1),
            bounds=bounds,
            method="highs",
            what=f"the {kind.upper()} LP",
            time_limit=budget,
            infeasible="no distribution satisfies the constraints",
        )
    if res is None:
        dist = np.full(n_joint, 1.0 / n_joint)
        where = (
            "too short to start HiGHS on"
            if budget is not None and budget <= 0
            else "reached before HiGHS finished"
        )
        message = (
            f"time limit of {limit:g} s {where} the {kind.upper()} LP; "
            "returned the uniform distribution (an unfinished HiGHS solve gives no point)"
        )
        log.info("%s LP on %s: %s", kind, game.spec.name, message)
    else:
        dist = np.maximum(np.asarray(res.x[:n_joint], dtype=np.float64), 0.0)
        dist /= dist.sum()
        message = ""
    dist_nd = dist.reshape(shape)
    values = tuple(
        scaled.unscale(i, float((scaled.payoffs[i] * dist_nd).sum())) for i in range(game.num_players)
    )
    gains = [_scaled_gain(scaled, dist_nd, kind, costs, i, unscale=False) for i in range(game.num_players)]
    relative = tuple(max(g, 0.0) / _spread(scaled.payoffs[i]) for i, g in enumerate(gains))
    welfare = float(sum(values))
    objective_value = ldexp(float(coef @ dist), coef_exponent)
    if not message:
        message = (
            f"optimal {kind.upper()}: welfare {welfare:.10g}, largest deviation gain "
            f"{max(relative, default=0.0):.1e} of the payoff range"
        )
    dist_nd.setflags(write=False)
    log.debug("%s LP on %s: %s", kind, game.spec.name, message)
    return CorrelatedSolution(
        kind=kind,
        distribution=dist_nd,
        values=values,
        welfare=welfare,
        objective=objective_value,
        max_deviation_gain=tuple(scaled.unscale(i, g) for i, g in enumerate(gains)),
        epsilon=eps,
        relative_gains=relative,
        converged=res is not None,
        message=message,
    )


def _spread(u: NDArray[np.float64]) -> float:
    """``max - min`` of scaled payoffs (1 when they are all equal, so a ratio stays a gain)."""
    spread = float(u.max() - u.min())
    return spread if spread > 0 else 1.0


def _objective(
    game: TensorGame, scaled: _Scaled, objective: str | ArrayLike
) -> tuple[NDArray[np.float64], int]:
    """The objective ``[n]`` scaled into ``[-1, 1]``, and the power of two it was scaled by."""
    weights: NDArray[np.float64] | None = None
    full: NDArray[np.float64] | None = None
    if isinstance(objective, str):
        check_choice("objective", objective, ("welfare",))
        weights = np.ones(game.num_players)
    else:
        try:
            arr = np.asarray(objective, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                "objective must be 'welfare', a [P] weight vector or a payoff-shaped array of numbers"
            ) from None
        if arr.shape not in ((game.num_players,), game.num_actions):
            raise InvalidArgumentError(
                f"objective must be a [P]={game.num_players} weight vector or an array of shape "
                f"{game.num_actions}, got shape {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise InvalidArgumentError(f"objective must hold finite numbers, got {arr.ravel().tolist()[:6]}")
        if arr.shape == (game.num_players,):
            weights = arr
        else:
            full = arr
    if full is not None:
        exponent = binary_exponent(float(np.abs(full).max()))
        return np.ldexp(full, -exponent).ravel(), exponent
    assert weights is not None
    # sum_i w_i u_i = 2^E sum_i (w_i 2^-f_i) (u_i 2^-e_i) 2^(f_i + e_i - E) with E = max_i (f_i + e_i):
    # every factor is in [-1, 1], so nothing overflows and only negligible terms can underflow
    f = [binary_exponent(float(w)) for w in weights]
    top = max(fi + ei for fi, ei in zip(f, scaled.exponents, strict=True))
    coef = sum(
        np.ldexp(weights[i], -f[i]) * np.ldexp(scaled.payoffs[i], f[i] + e - top)
        for i, e in enumerate(scaled.exponents)
    )
    coef = np.asarray(coef, dtype=np.float64).ravel()
    extra = binary_exponent(float(np.abs(coef).max()))  # at most log2(P)
    return np.ldexp(coef, -extra), top + extra


def _cost_matrices(
    game: TensorGame, constraints: Sequence[ArrayLike | None]
) -> list[NDArray[np.float64] | None]:
    """Validate per-player cost arrays: ``None`` or finite ``[K_i, m_i]``; rows scaled to ``max |c| ~ 1``.

    A constraint ``c s <= 0`` is unchanged by scaling its row by a positive number, so each row
    is scaled by a power of two to keep HiGHS's coefficients in range.
    """
    if isinstance(constraints, str | bytes) or not hasattr(constraints, "__len__"):
        raise InvalidArgumentError("constraints must be a sequence with one entry (None or costs) per player")
    if len(constraints) != game.num_players:
        raise InvalidArgumentError(
            f"constraints must have one entry per player ({game.num_players}), got {len(constraints)}"
        )
    out: list[NDArray[np.float64] | None] = []
    for i, raw in enumerate(constraints):
        if raw is None:
            out.append(None)
            continue
        m = game.num_actions[i]
        try:
            c = np.atleast_2d(np.asarray(raw, dtype=np.float64))
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"constraints[{i}] must be a finite [K, {m}] array of numbers"
            ) from None
        if c.ndim != 2 or c.shape[1] != m or not np.all(np.isfinite(c)):
            raise InvalidArgumentError(
                f"constraints[{i}] must be a finite [K, {m}] array over player {i}'s actions, got {c.shape}"
            )
        exps = np.array([binary_exponent(float(np.abs(row).max())) for row in c], dtype=np.int64)
        out.append(np.ldexp(c, -exps[:, None]))
    return out


def _swap_rows(payoffs: NDArray[np.float64], i: int) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Linear maps of the flattened ``z`` for player ``i``.

    Returns ``G`` (``[m*m, n]``: row ``a*m + b`` is ``sum_{a_-i} z(a, a_-i) u_i(b, a_-i)``), ``own``
    (``[1, n]``: ``u_i(z)``) and ``marg`` (``[m, n]``: the marginal ``q_i(z)``).
    """
    u, idx = _player_views(payoffs, i)  # [m, R]
    m, r = u.shape
    n = int(np.prod(payoffs.shape[1:]))
    rows = (np.arange(m)[:, None, None] * m + np.arange(m)[None, :, None]) * np.ones(
        (1, 1, r), dtype=np.int64
    )
    cols = np.broadcast_to(idx[:, None, :], (m, m, r))
    vals = np.broadcast_to(u[None, :, :], (m, m, r))
    big = sp.csr_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(m * m, n))
    own = sp.csr_matrix((u.ravel(), (np.zeros(u.size, dtype=np.int64), idx.ravel())), shape=(1, n))
    marg = sp.csr_matrix((np.ones(idx.size), (np.repeat(np.arange(m), r), idx.ravel())), shape=(m, n))
    return big, own, marg


def _constrained_lp(
    scaled: _Scaled, kind: str, costs: list[NDArray[np.float64] | None], eps: NDArray[np.float64]
) -> tuple[sp.csr_matrix, NDArray[np.float64], int, list[tuple[float | None, float | None]]]:
    """``(A_ub, b_ub, number of variables, bounds)`` of the constrained CE / CCE.

    Player ``i``'s safe set ``S_i = {s in simplex : C_i s <= 0}`` does not depend on ``z``. CCE: a
    coarse deviation commits to one ``s in S_i``, and ``max_{s in S_i} s^T g_i(z) <= u_i(z) +
    epsilon`` is linear in ``z`` by LP duality (``t 1 + C_i^T lambda >= g_i(z)``, ``t <= u_i(z) +
    epsilon``, ``lambda >= 0``). CE: a swap deviation maps each recommended action ``a`` to its own
    ``s_a in S_i``; ``sum_a max_{s_a in S_i} s_a^T G_i(z)[a, :] <= u_i(z)`` (``G_i(z)[a, b] =
    sum_{a_-i} z(a, a_-i) u_i(b, a_-i)``) is linear the same way, one dual pair per recommendation.
    Without constraints both reduce to the ordinary CE / CCE.

    Variables: ``z`` ``[n]``, then per player its dual pair: CCE ``t`` (1, free) and ``lambda``
    (``K_i``, >= 0); CE ``t`` (``m_i``, free) and ``lambda`` (``m_i K_i``, >= 0).
    """
    payoffs = scaled.payoffs
    n = int(np.prod(payoffs.shape[1:]))
    blocks: list[
        tuple[sp.csr_matrix, sp.csr_matrix | None, NDArray[np.float64]]
    ] = []  # (z part, extra part, rhs)
    extra_sizes: list[int] = []
    extra_bounds: list[tuple[float | None, float | None]] = []
    for i in range(payoffs.shape[0]):
        m = payoffs.shape[1 + i]
        big, own, marg = _swap_rows(payoffs, i)
        c = costs[i]
        k = 0 if c is None else c.shape[0]
        if c is not None:
            blocks.append((sp.csr_matrix(c @ marg), None, np.zeros(k)))  # C_i q_i(z) <= 0
        else:
            c = np.zeros((0, m))
        n_t = 1 if kind == "cce" else m
        extra_sizes.append(n_t + n_t * k)
        extra_bounds += [(None, None)] * n_t + [(0.0, None)] * (n_t * k)
        if kind == "cce":
            # g_i(z)[b] = sum_a G[a, b]: committing to b;  g(z) - t 1 - C^T lambda <= 0
            gain = sp.kron(np.ones((1, m)), sp.eye(m), format="csr") @ big  # [m, n]
            t_part = -np.ones((m, 1))
            lam_part = -c.T  # [m, k]
        else:
            # row a*m + b: G[a, b] - t_a - sum_k lambda[a, k] c[k, b] <= 0
            gain = big  # [m*m, n]
            t_part = -sp.kron(sp.eye(m), np.ones((m, 1))).toarray()  # [m*m, m]
            lam_part = -sp.kron(sp.eye(m), c.T).toarray()  # [m*m, m*k]
        extra = sp.csr_matrix(np.hstack([t_part, lam_part]))
        blocks.append((sp.csr_matrix(gain), (i, extra), np.zeros(gain.shape[0])))
        # sum t - u_i(z) <= eps_i
        t_sum = np.zeros((1, n_t + n_t * k))
        t_sum[0, :n_t] = 1.0
        blocks.append((sp.csr_matrix(-own), (i, sp.csr_matrix(t_sum)), np.array([eps[i]])))
    offsets = np.concatenate(([0], np.cumsum(extra_sizes))).astype(int)
    n_extra = int(offsets[-1])
    rows_z, rows_x, rhs = [], [], []
    for z_part, extra_part, b in blocks:
        rows_z.append(z_part)
        if extra_part is None:
            rows_x.append(sp.csr_matrix((z_part.shape[0], n_extra)))
        else:
            i, mat = extra_part
            left = sp.csr_matrix((mat.shape[0], int(offsets[i])))
            right = sp.csr_matrix((mat.shape[0], n_extra - int(offsets[i + 1])))
            rows_x.append(sp.hstack([left, mat, right], format="csr"))
        rhs.append(b)
    a_ub = sp.hstack([sp.vstack(rows_z), sp.vstack(rows_x)], format="csr")
    bounds: list[tuple[float | None, float | None]] = [(0.0, None)] * n + extra_bounds
    return a_ub, np.concatenate(rhs), n + n_extra, bounds


class CorrelatedLP(NormalFormSolver, ExactSolver):
    """The registry's ``"ce"`` and ``"cce"`` solvers through :func:`gamesolve.solve`.

    The result's ``policy`` is the joint distribution ``[A0, ..., A_{P-1}]``; ``nash_conv`` is the
    sum and ``exploitability`` the largest of the players' best deviation gains (0 at an exact
    equilibrium); ``extras`` carries values, welfare, the objective and ``relative_gains`` (each
    player's largest gain as a fraction of its payoff range). With a time limit that runs out,
    ``result.converged`` is ``False`` and the distribution is uniform.

    Args:
        kind: ``"ce"`` or ``"cce"``.
        objective: ``"welfare"``, ``[P]`` finite player weights or a payoff-shaped array.
        epsilon: Allowed deviation gain (payoff units), finite and ``>= 0``.
        constraints: Per player ``None`` or finite ``[K_i, m_i]`` costs (see
            :func:`correlated_equilibrium`).
    """

    def __init__(
        self,
        kind: str = "ce",
        objective: str | ArrayLike = "welfare",
        epsilon: float = 0.0,
        constraints: Sequence[ArrayLike | None] | None = None,
    ) -> None:
        self.kind = check_choice("kind", kind, _KINDS)
        self.name = self.kind
        if isinstance(objective, str):
            check_choice("objective", objective, ("welfare",))
        else:
            _check_numbers("objective", objective)
        self.objective = objective
        self.epsilon = check_real("epsilon", epsilon, minimum=0.0)
        if constraints is not None:
            if isinstance(constraints, str | bytes) or not hasattr(constraints, "__len__"):
                raise InvalidArgumentError(
                    "constraints must be a sequence with one entry (None or costs) per player"
                )
            for i, c in enumerate(constraints):
                if c is not None:
                    _check_numbers(f"constraints[{i}]", c)
        self.constraints = constraints

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        obj = self.objective if isinstance(self.objective, str) else np.asarray(self.objective).tolist()
        cons = (
            None
            if self.constraints is None
            else [None if c is None else np.asarray(c, dtype=float).tolist() for c in self.constraints]
        )
        return {"kind": self.kind, "objective": obj, "epsilon": self.epsilon, "constraints": cons}

    def run(
        self,
        game: TensorGame,
        *,
        seed: int = 0,
        time_limit: float | None = None,
        progress: bool | None = None,
    ) -> SolveResult:
        """Solve the LP once (``time_limit`` bounds the call; ``progress`` is ignored)."""
        del progress
        start = time.perf_counter()
        sol = correlated_equilibrium(
            game,
            kind=self.kind,
            objective=self.objective,
            epsilon=self.epsilon,
            constraints=self.constraints,
            time_limit=time_limit,
        )
        seconds = time.perf_counter() - start
        gains = [max(g, 0.0) for g in sol.max_deviation_gain]
        result = one_shot_result(
            game_name=game.spec.name,
            solver=self.name,
            config=self.config(),
            seed=seed,
            policy=sol.distribution,
            seconds=seconds,
            exploitability=max(gains),
            nash_conv=sum(gains),
            value=sol.values,
            message=sol.message,
            extras={
                "distribution": sol.distribution.tolist(),
                "welfare": sol.welfare,
                "objective": sol.objective,
                "relative_gains": list(sol.relative_gains),
            },
        )
        return result if sol.converged else dataclasses.replace(result, converged=False)


def _check_numbers(name: str, value: Any) -> None:
    """``value`` must be an array of finite numbers (``InvalidArgumentError`` naming ``name``)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} must be an array of numbers, got {value!r:.60}") from None
    if arr.size == 0 or not np.isfinite(arr).all():
        raise InvalidArgumentError(
            f"{name} must be a non-empty array of finite numbers, got {arr.ravel().tolist()[:6]}"
        )


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
CE_ENTRY = SolverEntry("ce", CorrelatedLP, "optimal correlated equilibrium (LP)", (("kind", "ce"),))
CCE_ENTRY = SolverEntry("cce", CorrelatedLP, "optimal coarse correlated equilibrium (LP)", (("kind", "cce"),))
