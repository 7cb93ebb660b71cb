"""Correlated and coarse correlated equilibria of N-player normal-form games, by LP (cvxpy).

A correlated distribution ``z`` over joint actions is

* a **correlated equilibrium** (CE; Aumann 1974) if no player gains by swapping a recommended
  action ``a_i`` for another ``a_i'``:
  ``sum_{a_-i} z(a_i, a_-i) [u_i(a_i', a_-i) - u_i(a_i, a_-i)] <= epsilon`` for all ``i, a_i, a_i'``;
* a **coarse correlated equilibrium** (CCE; Moulin & Vial 1978) if no player gains by committing
  to a fixed action before seeing the recommendation:
  ``sum_a z(a) [u_i(a_i', a_-i) - u_i(a)] <= epsilon`` for all ``i, a_i'``.

Both sets are polytopes, so any linear objective (maximum welfare by default) is an LP. The LP is
posed in cvxpy and solved by HiGHS; the returned distribution is cleaned (clipped at 0,
renormalized) and its largest deviation gains are recomputed exactly in numpy.

**Constrained equilibria** (Bernasconi, Castiglioni, Marchesi, Trovò & Gatti, ICML 2023,
"Constrained Phi-Equilibria"), in the tractable case where each player's constraints involve only
its *own* actions: player ``i`` has cost vectors ``c_ij`` over its actions (a ``[K_i, m_i]``
array ``C_i``), the distribution must satisfy ``C_i q_i(z) <= 0`` for its marginal ``q_i``, and
only *safe* deviations count, those whose deviating strategies satisfy the constraints. The safe
set is ``S_i = {s in simplex : C_i s <= 0}``, the same whatever ``z`` is:

* CCE: a coarse deviation commits to one ``s in S_i``; ``max_{s in S_i} s^T g_i(z) <= u_i(z)``
  is linear in ``z`` through LP duality (``t 1 + C_i^T lambda >= g_i(z)``, ``t <= u_i(z) +
  epsilon``, ``lambda >= 0``);
* CE: a swap deviation maps every recommended action ``a`` to its own ``s_a in S_i``; the
  condition ``sum_a max_{s_a in S_i} s_a^T G_i(z)[a, :] <= u_i(z)`` (with ``G_i(z)[a, b] =
  sum_{a_-i} z(a, a_-i) u_i(b, a_-i)``) is linear the same way, one dual pair ``(t_a,
  lambda_a)`` per recommended action. Because every ``s_a`` is feasible, so is the deviated
  marginal, for every ``z``.

Without constraints both reduce to the ordinary CE / CCE. (Calling a swap deviation safe when only
its *resulting marginal* is feasible makes the safe set depend on ``z``; the paper shows that
version can be non-convex and hard, so it is not offered.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import GamesolveError, MalformedGameError
from gamesolve.normal_form import TensorGame
from gamesolve.run import SolveResult, one_shot_result
from gamesolve.spec import GameSpec
from solvers._common import check_normal_form, prepare_normal_form

__all__ = ["CorrelatedLP", "CorrelatedSolution", "correlated_equilibrium", "deviation_gains"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorrelatedSolution:
    """A correlated distribution with its figures.

    Attributes:
        kind: ``"ce"`` or ``"cce"``.
        distribution: ``[A0, ..., A_{P-1}]`` probabilities of joint actions (read-only).
        values: ``[P]`` expected payoff of every player.
        welfare: Sum of the players' expected payoffs.
        objective: Value of the LP objective at the distribution.
        max_deviation_gain: Per player, the largest gain of any deviation of the kind (<= epsilon
            up to solver tolerance).
        epsilon: The slack allowed in the incentive constraints.
    """

    kind: str
    distribution: NDArray[np.float64]
    values: tuple[float, ...]
    welfare: float
    objective: float
    max_deviation_gain: tuple[float, ...]
    epsilon: float

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
        }


def _player_views(game: TensorGame, i: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Player ``i``'s payoffs and joint-action indices with ``i``'s axis first: ``[m_i, R]`` each."""
    shape = game.num_actions
    index = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    u = np.moveaxis(game.payoffs[i], i, 0).reshape(shape[i], -1)
    idx = np.moveaxis(index, i, 0).reshape(shape[i], -1)
    return u, idx


def _incentive_rows(game: TensorGame, kind: str) -> sp.csr_matrix:
    """Sparse rows ``G`` with ``G z <= epsilon`` the CE or CCE incentive constraints (z flattened)."""
    n_joint = int(np.prod(game.num_actions))
    rows, cols, vals = [], [], []
    row = 0
    for i in range(game.num_players):
        u, idx = _player_views(game, i)  # [m, R]
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
                    row += 1
            else:
                rows.append(np.full(idx.size, row))
                cols.append(idx.ravel())
                vals.append(diff.ravel())
                row += 1
    if not rows:  # every player has one action: no deviation, no constraint
        return sp.csr_matrix((0, n_joint))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row, n_joint)
    )


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
    strategies satisfy the player's constraints; computed by small LPs.

    Raises:
        MalformedGameError: ``distribution`` has the wrong shape.
        ValueError: Bad ``kind`` or ``constraints``, or a player's constraints admit no strategy.
    """
    if kind not in ("ce", "cce"):
        raise ValueError(f"kind must be 'ce' or 'cce', got {kind!r}")
    z = np.asarray(distribution, dtype=np.float64)
    if z.shape != game.num_actions:
        raise MalformedGameError(f"distribution must have shape {game.num_actions}, got {z.shape}")
    costs = None if constraints is None else _cost_matrices(game, constraints)
    out = np.empty(game.num_players)
    for i in range(game.num_players):
        u, idx = _player_views(game, i)
        zi = z.reshape(-1)[idx]  # [m, R]
        follow = float((zi * u).sum())
        swap = zi @ u.T  # [a, b]: payoff of playing b whenever a is recommended
        if costs is None:
            if kind == "ce":
                out[i] = float((swap - np.diag(swap)[:, None]).max())
            else:
                out[i] = float(swap.sum(axis=0).max()) - follow
            continue
        rows = swap if kind == "ce" else swap.sum(axis=0, keepdims=True)
        out[i] = sum(_best_safe_payoff(costs[i], row, i) for row in rows) - follow
    return out


def _best_safe_payoff(cost: NDArray[np.float64] | None, payoff: NDArray[np.float64], player: int) -> float:
    """``max s^T payoff`` over mixed strategies ``s`` with ``cost @ s <= 0``."""
    if cost is None:
        return float(payoff.max())
    from scipy.optimize import linprog

    m = payoff.shape[0]
    res = linprog(
        -payoff, A_ub=cost, b_ub=np.zeros(cost.shape[0]), A_eq=np.ones((1, m)), b_eq=[1.0], method="highs"
    )
    if res.status != 0:
        raise ValueError(f"constraints[{player}] admit no mixed strategy of player {player}")
    return float(-res.fun)


def correlated_equilibrium(
    game: TensorGame,
    *,
    kind: str = "ce",
    objective: str | ArrayLike = "welfare",
    epsilon: float = 0.0,
    constraints: Sequence[ArrayLike | None] | None = None,
) -> CorrelatedSolution:
    """An optimal correlated (``kind="ce"``) or coarse correlated (``"cce"``) equilibrium.

    Args:
        game: An N-player normal-form game.
        kind: ``"ce"`` or ``"cce"``.
        objective: ``"welfare"`` (sum of payoffs, the default), a ``[P]`` vector of player
            weights, or a full ``[A0, ..., A_{P-1}]`` array of coefficients; always maximized.
        epsilon: Allowed gain of any deviation (``epsilon``-CE / CCE); must be >= 0.
        constraints: Per player, ``None`` or a ``[K_i, m_i]`` array of cost vectors over that
            player's own actions: the distribution must satisfy ``E_z[c_ij(a_i)] <= 0`` and only
            safe deviations (into strategies that satisfy the constraints) count. See the module
            docstring.

    Raises:
        ValueError: Bad ``kind``, ``epsilon``, ``objective`` or ``constraints`` (named in the message).
        GamesolveError: The LP is infeasible (possible only with constraints) or the solver fails.
    """
    import cvxpy as cp

    if kind not in ("ce", "cce"):
        raise ValueError(f"kind must be 'ce' or 'cce', got {kind!r}")
    if not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be a finite number >= 0, got {epsilon!r}")
    shape = game.num_actions
    n_joint = int(np.prod(shape))
    coef = _objective(game, objective)
    z = cp.Variable(n_joint, nonneg=True)
    cons = [cp.sum(z) == 1]
    costs = None if constraints is None else _cost_matrices(game, constraints)
    if costs is None:
        cons.append(_incentive_rows(game, kind) @ z <= epsilon)
    else:
        cons.extend(_constrained_rows(game, z, kind, costs, epsilon))
    problem = cp.Problem(cp.Maximize(coef @ z), cons)
    try:
        problem.solve(solver=cp.HIGHS)
    except cp.error.SolverError as exc:
        raise GamesolveError(f"the {kind.upper()} LP failed: {exc}") from None
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or z.value is None:
        raise GamesolveError(
            f"the {kind.upper()} LP is {problem.status}; no equilibrium satisfies the constraints"
        )
    dist = np.maximum(np.asarray(z.value, dtype=np.float64), 0.0)
    dist /= dist.sum()
    dist_nd = dist.reshape(shape)
    values = tuple(float((game.payoffs[i] * dist_nd).sum()) for i in range(game.num_players))
    gains = deviation_gains(game, dist_nd, kind, constraints=costs)
    dist_nd.setflags(write=False)
    log.debug("%s LP on %s: objective %.6g", kind, game.spec.name, float(coef @ dist))
    return CorrelatedSolution(
        kind=kind,
        distribution=dist_nd,
        values=values,
        welfare=float(sum(values)),
        objective=float(coef @ dist),
        max_deviation_gain=tuple(float(g) for g in gains),
        epsilon=float(epsilon),
    )


def _objective(game: TensorGame, objective: str | ArrayLike) -> NDArray[np.float64]:
    if isinstance(objective, str):
        if objective != "welfare":
            raise ValueError(
                "objective must be 'welfare', a [P] weight vector or a payoff-shaped array, "
                f"got {objective!r}"
            )
        return game.payoffs.sum(axis=0).ravel()
    arr = np.asarray(objective, dtype=np.float64)
    if arr.shape == (game.num_players,):
        return np.tensordot(arr, game.payoffs, axes=(0, 0)).ravel()
    if arr.shape == game.num_actions:
        return arr.ravel()
    raise ValueError(
        f"objective must be a [P]={game.num_players} weight vector or an array of shape "
        f"{game.num_actions}, got {arr.shape}"
    )


def _cost_matrices(
    game: TensorGame, constraints: Sequence[ArrayLike | None]
) -> list[NDArray[np.float64] | None]:
    """Validate per-player cost arrays: ``None`` or finite ``[K_i, m_i]``."""
    if len(constraints) != game.num_players:
        raise ValueError(
            f"constraints must have one entry per player ({game.num_players}), got {len(constraints)}"
        )
    out: list[NDArray[np.float64] | None] = []
    for i, raw in enumerate(constraints):
        if raw is None:
            out.append(None)
            continue
        m = game.num_actions[i]
        c = np.atleast_2d(np.asarray(raw, dtype=np.float64))
        if c.ndim != 2 or c.shape[1] != m or not np.all(np.isfinite(c)):
            raise ValueError(
                f"constraints[{i}] must be a finite [K, {m}] array over player {i}'s actions, got {c.shape}"
            )
        out.append(c)
    return out


def _swap_rows(game: TensorGame, i: int) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Linear maps of the flattened ``z`` for player ``i``.

    Returns ``G`` (``[m*m, n]``: row ``a*m + b`` is ``sum_{a_-i} z(a, a_-i) u_i(b, a_-i)``), ``own``
    (``[1, n]``: ``u_i(z)``) and ``marg`` (``[m, n]``: the marginal ``q_i(z)``).
    """
    u, idx = _player_views(game, i)  # [m, R]
    m, r = u.shape
    n = int(np.prod(game.num_actions))
    rows = (np.arange(m)[:, None, None] * m + np.arange(m)[None, :, None]) * np.ones(
        (1, 1, r), dtype=np.int64
    )
    cols = np.broadcast_to(idx[:, None, :], (m, m, r))
    vals = np.broadcast_to(u[None, :, :], (m, m, r))
    big = sp.csr_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(m * m, n))
    own = sp.csr_matrix((u.ravel(), (np.zeros(u.size, dtype=np.int64), idx.ravel())), shape=(1, n))
    marg = sp.csr_matrix((np.ones(idx.size), (np.repeat(np.arange(m), r), idx.ravel())), shape=(m, n))
    return big, own, marg


def _constrained_rows(
    game: TensorGame, z: Any, kind: str, costs: list[NDArray[np.float64] | None], epsilon: float
) -> list[Any]:
    """The cvxpy constraints of the constrained CE / CCE (module docstring), dualized per player."""
    import cvxpy as cp

    out = []
    for i in range(game.num_players):
        m = game.num_actions[i]
        big, own, marg = _swap_rows(game, i)
        c = costs[i]
        if c is None:
            c = np.zeros((0, m))
        else:
            out.append(c @ (marg @ z) <= 0)  # the distribution satisfies i's constraints
        if kind == "cce":
            # g_i(z)[b] = sum_a G[a, b]: the payoff of committing to b
            gain = sp.kron(np.ones((1, m)), sp.eye(m), format="csr") @ big
            t = cp.Variable()
            if c.shape[0]:
                lam = cp.Variable(c.shape[0], nonneg=True)
                out.append(t + c.T @ lam >= gain @ z)
            else:
                out.append(t >= gain @ z)
            out.append(t <= own @ z + epsilon)
        else:
            # row a*m + b: t_a + sum_k lambda[a, k] c[k, b] >= G[a, b]
            t_vec = cp.Variable(m)
            lhs = sp.kron(sp.eye(m), np.ones((m, 1)), format="csr") @ t_vec
            if c.shape[0]:
                lam = cp.Variable(m * c.shape[0], nonneg=True)
                lhs = lhs + sp.kron(sp.eye(m), c.T, format="csr") @ lam
            out.append(lhs >= big @ z)
            out.append(cp.sum(t_vec) <= own @ z + epsilon)
    return out


class CorrelatedLP:
    """The registry's ``"ce"`` and ``"cce"`` solvers through :func:`gamesolve.solve`.

    The result's ``policy`` is the joint distribution ``[A0, ..., A_{P-1}]``; ``nash_conv`` is the
    sum and ``exploitability`` the largest of the players' best deviation gains (0 at an exact
    equilibrium); ``extras`` carries values, welfare and the objective.
    """

    exact = True

    def __init__(
        self,
        kind: str = "ce",
        objective: str | ArrayLike = "welfare",
        epsilon: float = 0.0,
        constraints: Sequence[ArrayLike | None] | None = None,
    ) -> None:
        if kind not in ("ce", "cce"):
            raise ValueError(f"kind must be 'ce' or 'cce', got {kind!r}")
        self.kind = kind
        self.name = kind
        self.objective = objective
        self.epsilon = float(epsilon)
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

    def prepare(self, game: Any) -> TensorGame:
        """The game as a tensor game."""
        return prepare_normal_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Any normal-form game."""
        check_normal_form(self.name, spec)

    def run(self, game: TensorGame, *, seed: int) -> SolveResult:
        """Solve the LP once."""
        start = time.perf_counter()
        sol = correlated_equilibrium(
            game, kind=self.kind, objective=self.objective, epsilon=self.epsilon, constraints=self.constraints
        )
        seconds = time.perf_counter() - start
        gains = [max(g, 0.0) for g in sol.max_deviation_gain]
        return one_shot_result(
            game_name=game.spec.name,
            solver=self.name,
            config=self.config(),
            seed=seed,
            policy=sol.distribution,
            seconds=seconds,
            exploitability=max(gains),
            nash_conv=sum(gains),
            value=sol.values,
            message=f"optimal {self.kind.upper()}: welfare {sol.welfare:.10g}",
            extras={
                "distribution": sol.distribution.tolist(),
                "welfare": sol.welfare,
                "objective": sol.objective,
            },
        )
