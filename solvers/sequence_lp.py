"""Exact Nash equilibria of two-player zero-sum extensive-form games by the sequence-form LP.

Koller, Megiddo & von Stengel 1996 ("Efficient Computation of Equilibria for Extensive Two-Person
Games", Section 4): with the sequence-form payoff matrix ``A`` of player 0 (``u_0 = x^T A y``) and
the realization-plan constraints ``E x = e`` (player 0) and ``F y = f`` (player 1), player 0's
maximin plan solves

    max_{x, v}  f^T v   subject to   F^T v <= A^T x,   E x = e,   x >= 0,   v free.

The inner ``min_y x^T A y`` over player 1's plans has been replaced by its LP dual (``v`` are the
dual variables of ``F y = f``), so the LP is linear in the number of sequences, not exponential like
the normal form. Its dual is player 1's minimax LP, and the multipliers of ``F^T v <= A^T x`` are a
minimax plan ``y``: one HiGHS solve yields both strategies. The plans are converted to behavior
(``b(a|I) = x(Ia) / x(p(I))``) and the profile's exact NashConv is computed on the tree; if the
plan read from the duals is not optimal to ``tolerance``, player 1's LP is solved as well.

Exact up to HiGHS's tolerances (tightened to 1e-10 here); the result records the NashConv of the
returned profile (typically below 1e-12 on poker games).

>>> import gamesolve
>>> from solvers.sequence_lp import SequenceFormLP
>>> result = gamesolve.solve(gamesolve.load_game("kuhn"), SequenceFormLP())
>>> round(result.extras["game_value"] * 18, 9), result.nash_conv <= 1e-9
(-1.0, True)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog

from gamesolve.compiled import CompiledGame
from gamesolve.errors import GamesolveError, UnsupportedGame
from gamesolve.evaluation import nash_conv
from gamesolve.policy import TabularPolicy
from gamesolve.run import SolveResult, one_shot_result
from gamesolve.sequence_form import plans_to_policy, sequence_form
from gamesolve.spec import GameKind, GameSpec
from solvers._common import prepare_extensive_form, require_two_player_zero_sum

__all__ = ["SequenceFormLP", "SequenceFormSolution", "solve_sequence_form_lp"]

log = logging.getLogger(__name__)

_METHODS = ("auto", "highs", "highs-ds", "highs-ipm")
#: Above this many sequences (both players) "auto" uses interior point: on generalized Leduc it is
#: 3-5x faster than HiGHS's default choice from about 8 ranks (~12k sequences) up, and slower below.
_IPM_FROM_SEQUENCES = 10_000
#: HiGHS feasibility tolerances (its default, 1e-7, leaves NashConv around 1e-8 on Leduc).
_FEASIBILITY_TOL = 1e-10


@dataclass(frozen=True)
class SequenceFormSolution:
    """A Nash equilibrium of a two-player zero-sum extensive-form game.

    Attributes:
        policy: Both players' equilibrium behavior strategies.
        plans: The realization plans ``(x [S_0], y [S_1])`` the LP returned.
        value: The game value for player 0 (the LP optimum).
        nash_conv: Exact NashConv of ``policy`` (evaluated on the tree).
        method: The HiGHS method used.
        lp_solves: 1 when player 1's plan came from the duals, 2 when its own LP was solved.
        lp_seconds: Seconds spent inside HiGHS.
    """

    policy: TabularPolicy
    plans: tuple[NDArray[np.float64], NDArray[np.float64]]
    value: float
    nash_conv: float
    method: str
    lp_solves: int
    lp_seconds: float


def alternatives_for(spec: GameSpec) -> str:
    """A sentence naming what to use for a game this solver refuses."""
    if spec.num_players != 2:
        return (
            "For more than two players use CFR ('cfr', 'cfr+': the average converges to a coarse "
            "correlated equilibrium) or extensive-form fictitious play ('xfp')."
        )
    return (
        "For general-sum games compute a correlated or coarse correlated equilibrium "
        "(gamesolve.correlated_equilibrium with kind='ce' or 'cce' on the normal form), or run CFR "
        "('cfr', 'cfr+'), whose average converges to a coarse correlated equilibrium."
    )


def _check(name: str, spec: GameSpec) -> None:
    if spec.kind is not GameKind.EXTENSIVE_FORM:
        raise UnsupportedGame(
            f"{name} solves extensive-form games, not {spec.kind.value} games (use 'lp' for matrix games)"
        )
    require_two_player_zero_sum(name, spec, alternatives=alternatives_for(spec))


def _linprog(
    c: NDArray[np.float64],
    a_ub: sp.csr_matrix,
    a_eq: sp.csr_matrix,
    b_eq: NDArray[np.float64],
    bounds: list[tuple[float | None, float | None]],
    method: str,
    time_limit: float | None,
) -> Any:
    options: dict[str, Any] = {
        "primal_feasibility_tolerance": _FEASIBILITY_TOL,
        "dual_feasibility_tolerance": _FEASIBILITY_TOL,
    }
    if method == "highs-ipm":
        options["ipm_optimality_tolerance"] = 1e-12
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=np.zeros(a_ub.shape[0]),
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method=method,
        options=options,
    )
    if res.status == 1:
        raise GamesolveError(f"the sequence-form LP hit its limit before finishing: {res.message}")
    if res.status != 0 or res.x is None:
        raise GamesolveError(f"HiGHS could not solve the sequence-form LP: {res.message}")
    return res


def _maximin(
    a: sp.csr_matrix,
    own: tuple[sp.csr_matrix, NDArray[np.float64]],
    other: tuple[sp.csr_matrix, NDArray[np.float64]],
    method: str,
    time_limit: float | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """``max_{x, v} f^T v`` s.t. ``F^T v <= A^T x``, ``E x = e``, ``x >= 0``: ``(x, y from duals, value)``.

    ``a`` is ``[S_own, S_other]``: the maximizer's payoff ``x^T a y``.
    """
    e_mat, e_vec = own
    f_mat, f_vec = other
    n_x, n_v = a.shape[0], f_mat.shape[0]
    c = np.concatenate((np.zeros(n_x), -f_vec))  # minimize -f^T v
    a_ub = sp.hstack([-a.T, f_mat.T], format="csr")  # [S_other, S_own + R_other]
    a_eq = sp.hstack([e_mat, sp.csr_matrix((e_mat.shape[0], n_v))], format="csr")
    bounds: list[tuple[float | None, float | None]] = [(0.0, None)] * n_x + [(None, None)] * n_v
    res = _linprog(c, a_ub, a_eq, e_vec, bounds, method, time_limit)
    x = np.maximum(np.asarray(res.x[:n_x]), 0.0)
    y = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)  # multipliers of F^T v <= A^T x
    return x, y, -float(res.fun)


def solve_sequence_form_lp(
    game: Any,
    *,
    method: str = "auto",
    tolerance: float = 1e-9,
    time_limit: float | None = None,
) -> SequenceFormSolution:
    """Solve a two-player zero-sum extensive-form game exactly by the sequence-form LP.

    Args:
        game: A two-player zero-sum or constant-sum extensive-form game (compiled or compilable).
        method: HiGHS method: ``"auto"`` (default: ``"highs-ipm"`` from 10,000 sequences up,
            else ``"highs"``), ``"highs"`` (HiGHS chooses), ``"highs-ds"`` (dual simplex) or
            ``"highs-ipm"`` (interior point with crossover).
        tolerance: Largest acceptable NashConv of the returned profile, relative to
            ``max(1, max |u|)``. Above it player 1's LP is solved too; if still above, this raises.
        time_limit: Seconds HiGHS may spend on each LP (``None``: no limit).

    Raises:
        UnsupportedGame: The game is not a two-player zero-sum extensive-form game.
        GamesolveError: HiGHS fails or hits the time limit, or the profile misses ``tolerance``.
        ValueError: Unknown ``method`` or a non-positive ``tolerance``.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, _METHODS))}, got {method!r}")
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive number, got {tolerance!r}")
    compiled = prepare_extensive_form("the sequence-form LP", game)
    _check("the sequence-form LP", compiled.spec)
    form = sequence_form(compiled)
    if method == "auto":
        method = "highs-ipm" if int(compiled.num_sequences.sum()) >= _IPM_FROM_SEQUENCES else "highs"
    # Player 0's matrix is all the LP needs: in a constant-sum game player 1's utility is a
    # constant minus u_0, so minimizing x^T A_0 y is player 1's best response either way.
    a0 = form.payoff_matrices[0]
    own, other = form.constraints
    scale = max(1.0, float(np.abs(compiled.terminal_utility).max(initial=0.0)))

    start = time.perf_counter()
    x, y, value = _maximin(a0, own, other, method, time_limit)
    lp_seconds = time.perf_counter() - start
    policy = plans_to_policy(compiled, [x, y])
    report = nash_conv(compiled, policy)
    lp_solves = 1
    if report.nash_conv > tolerance * scale:
        log.info("player 1's plan from the duals has NashConv %.3e; solving player 1's LP", report.nash_conv)
        start = time.perf_counter()
        # Player 1 maximizes -x^T A_0 y = y^T (-A_0^T) x.
        y, _, _ = _maximin(sp.csr_matrix(-a0.T), other, own, method, time_limit)
        lp_seconds += time.perf_counter() - start
        policy = plans_to_policy(compiled, [x, y])
        report = nash_conv(compiled, policy)
        lp_solves = 2
        if report.nash_conv > tolerance * scale:
            raise GamesolveError(
                f"sequence-form LP solution has NashConv {report.nash_conv:.3e} > "
                f"{tolerance * scale:.1e}; HiGHS's tolerances are too loose for this game"
            )
    log.debug(
        "sequence-form LP on %s (%s sequences) by %s: value %.12g, NashConv %.2e, %d LP(s)",
        compiled.spec.name,
        form.num_sequences,
        method,
        value,
        report.nash_conv,
        lp_solves,
    )
    return SequenceFormSolution(
        policy=policy,
        plans=(x, y),
        value=value,
        nash_conv=max(report.nash_conv, 0.0),
        method=method,
        lp_solves=lp_solves,
        lp_seconds=lp_seconds,
    )


class SequenceFormLP:
    """The ``"sequence-lp"`` solver: :func:`solve_sequence_form_lp` through :func:`gamesolve.solve`.

    Returns both players' equilibrium strategies as ``result.policy`` (also ``average_policy`` and
    ``current_policy``), their values in ``result.value`` and the LP optimum in
    ``result.extras['game_value']``.

    Args:
        method: HiGHS method, ``"auto"`` (default; interior point for large games), ``"highs"``,
            ``"highs-ds"`` or ``"highs-ipm"``.
        tolerance: Largest acceptable NashConv, relative to ``max(1, max |u|)`` (default 1e-9).
    """

    exact = True
    accepts_limits = True
    name = "sequence-lp"

    def __init__(self, method: str = "auto", *, tolerance: float = 1e-9) -> None:
        if method not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(map(repr, _METHODS))}, got {method!r}")
        if not (np.isfinite(tolerance) and tolerance > 0):
            raise ValueError(f"tolerance must be a positive number, got {tolerance!r}")
        self.method = method
        self.tolerance = float(tolerance)

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {"method": self.method, "tolerance": self.tolerance}

    def prepare(self, game: Any) -> CompiledGame:
        """The compiled form of an extensive-form game."""
        return prepare_extensive_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum or constant-sum extensive-form games only."""
        _check(self.name, spec)

    def run(
        self,
        game: CompiledGame,
        *,
        seed: int,
        time_limit: float | None = None,
        progress: bool | None = None,
    ) -> SolveResult:
        """Solve once (``time_limit`` bounds each HiGHS call; ``progress`` is ignored)."""
        del progress
        start = time.perf_counter()
        solution = solve_sequence_form_lp(
            game, method=self.method, tolerance=self.tolerance, time_limit=time_limit
        )
        seconds = time.perf_counter() - start
        report = nash_conv(game, solution.policy)
        return one_shot_result(
            game_name=game.spec.name,
            solver=self.name,
            config=self.config(),
            seed=seed,
            policy=solution.policy,
            seconds=seconds,
            exploitability=report.exploitability,
            nash_conv=report.nash_conv,
            value=report.on_policy_values,
            message=(
                f"solved by HiGHS ({solution.method}, {solution.lp_solves} LP(s)), "
                f"game value {solution.value:.12g}"
            ),
            extras={
                "game_value": solution.value,
                "lp_seconds": solution.lp_seconds,
                "lp_solves": solution.lp_solves,
                "num_sequences": [int(n) for n in game.num_sequences],
            },
        )
