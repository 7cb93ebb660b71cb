"""Exact Nash equilibria of two-player zero-sum extensive-form games by the sequence-form LP.

Koller, Megiddo & von Stengel 1996, "Efficient Computation of Equilibria for Extensive Two-Person
Games", Section 4. With player 0's sequence-form payoff matrix ``A`` and the plan constraints ``E x =
e``, ``F y = f``, player 0's maximin plan solves

    max_{x, v}  f^T v   subject to   F^T v <= A^T x,   E x = e,   x >= 0,   v free,

an LP linear in the number of sequences (the normal form is exponential). Its dual is player 1's
minimax LP, so one HiGHS solve yields both plans (player 1's LP is solved too if the plan read from
the duals is not optimal). The plans are converted to behavior strategies and the profile's exact
NashConv is computed on the tree; above ``tolerance`` times the payoff range the solve raises. The
LP is posed on payoffs mapped exactly onto ``[0, 1)`` (:class:`gamesolve.certify.PayoffScale`), so
any finite payoffs solve alike, and ``time_limit`` bounds the whole call: when it runs out the
result is the best profile available, marked ``converged=False``.

>>> import gamesolve
>>> from gamesolve.solvers.sequence_lp import SequenceFormLP
>>> result = gamesolve.solve(gamesolve.load_game("kuhn"), SequenceFormLP())
>>> round(result.extras["game_value"] * 18, 9), result.nash_conv <= 1e-9
(-1.0, True)
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gamesolve.certify import PayoffScale, ldexp, payoff_scale
from gamesolve.compiled import CompiledGame
from gamesolve.errors import GamesolveError, UnsupportedGame
from gamesolve.evaluation import nash_conv
from gamesolve.highs import FEASIBILITY_TOL, highs_linprog, transfer_seconds
from gamesolve.policy import TabularPolicy, uniform_policy
from gamesolve.registry import SolverEntry
from gamesolve.report import ExploitabilityReport
from gamesolve.results import SolveResult, one_shot_result
from gamesolve.sequence_form import plans_to_policy, policy_to_plans, sequence_form
from gamesolve.solver import ExactSolver
from gamesolve.solvers.common import check_time_limit, prepare_extensive_form, require_two_player_zero_sum
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_real

__all__ = ["SequenceFormLP", "SequenceFormSolution", "solve_sequence_form_lp"]

log = logging.getLogger(__name__)

_METHODS = ("auto", "highs", "highs-ds", "highs-ipm")
#: Above this many sequences (both players) "auto" uses interior point: on generalized Leduc it is
#: 3-5x faster than HiGHS's default choice from about 8 ranks (~12k sequences) up, and slower below.
_IPM_FROM_SEQUENCES = 10_000


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
        relative_nash_conv: ``nash_conv`` divided by the payoff range ``max u_0 - min u_0``.
        converged: ``False`` when the time limit stopped a solve (see the module docstring).
        message: One line on how the answer was found, or why it is not an equilibrium.
        report: The exact evaluation of ``policy``.
    """

    policy: TabularPolicy
    plans: tuple[NDArray[np.float64], NDArray[np.float64]]
    value: float
    nash_conv: float
    method: str
    lp_solves: int
    lp_seconds: float
    relative_nash_conv: float = 0.0
    converged: bool = True
    message: str = ""
    report: ExploitabilityReport | None = None


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


def _maximin(
    a: sp.csr_matrix,
    own: tuple[sp.csr_matrix, NDArray[np.float64]],
    other: tuple[sp.csr_matrix, NDArray[np.float64]],
    method: str,
    time_limit: float | None,
    scale: PayoffScale,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float] | None:
    """``max_{x, v} f^T v`` s.t. ``F^T v <= A^T x``, ``E x = e``, ``x >= 0``: ``(x, y from duals, value)``.

    ``a`` is ``[S_own, S_other]``: the maximizer's payoff ``x^T a y`` on payoffs normalized by
    ``scale``; the value is returned in the original units. ``None`` when the time limit stopped
    HiGHS.
    """
    e_mat, e_vec = own
    f_mat, f_vec = other
    n_x, n_v = a.shape[0], f_mat.shape[0]
    c = np.concatenate((np.zeros(n_x), -f_vec))  # minimize -f^T v
    a_ub = sp.hstack([-a.T, f_mat.T], format="csr")  # [S_other, S_own + R_other]
    a_eq = sp.hstack([e_mat, sp.csr_matrix((e_mat.shape[0], n_v))], format="csr")
    bounds = np.array([(0.0, np.inf)] * n_x + [(-np.inf, np.inf)] * n_v)
    res = highs_linprog(
        c,
        a_ub=a_ub,
        b_ub=np.zeros(a_ub.shape[0]),
        a_eq=a_eq,
        b_eq=e_vec,
        bounds=bounds,
        method=method,
        what="the sequence-form LP",
        time_limit=time_limit,
        tolerance=FEASIBILITY_TOL,
    )
    if res is None:
        return None
    x = np.maximum(np.asarray(res.x[:n_x]), 0.0)
    y = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)  # multipliers of F^T v <= A^T x
    return x, y, scale.value(-float(res.fun))


class _Clock:
    """The time left of an optional budget, with the reserve each HiGHS call must leave."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.started = time.perf_counter()
        self.evaluation = 0.0  # the longest exact evaluation so far (seconds)

    def for_highs(self, nonzeros: int, columns: int) -> float | None:
        """Seconds HiGHS may run now: what is left minus moving the data and two evaluations."""
        if self.limit is None:
            return None
        left = self.limit - (time.perf_counter() - self.started)
        return left - transfer_seconds(nonzeros, columns) - 2.5 * self.evaluation - 0.05


def _evaluate(game: CompiledGame, policy: TabularPolicy, clock: _Clock) -> ExploitabilityReport:
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # utilities near 1e308
        report: ExploitabilityReport = nash_conv(game, policy)
    clock.evaluation = max(clock.evaluation, time.perf_counter() - started)
    return report


def _normalized_game(game: CompiledGame, scale: PayoffScale) -> CompiledGame:
    """The game with utilities ``(u_0 normalized, -u_0 normalized)``: same equilibria, no overflow.

    Certificates are computed on it: evaluating on utilities like ``1e15 + 1`` rounds to an ulp
    of ``1e15`` (0.125), on ``1e-320`` to a subnormal step, while here NashConv is resolved to
    ``1e-16`` of the payoff range.
    """
    u0 = scale.normalize(game.terminal_utility[:, 0])  # [T]
    utility = np.ascontiguousarray(np.stack([u0, -u0], axis=1))  # [T, 2]
    utility.setflags(write=False)
    return dataclasses.replace(game, terminal_utility=utility)


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
        tolerance: Largest acceptable NashConv of the returned profile, relative to the payoff
            range ``max u_0 - min u_0``, in ``(0, 1]``. Above it player 1's LP is solved too; if
            still above, this raises.
        time_limit: Seconds for the whole call, building the LP and evaluating the answer included
            (``None``: no limit). Each HiGHS call gets what remains after a reserve for moving the
            data and one evaluation, with presolve off (it does not watch the clock). When the time
            runs out the result has ``converged=False`` and holds the uniform policy if player 0's
            LP did not finish, or player 0's plan with player 1's plan from the duals if only the
            second LP did not.

    Raises:
        UnsupportedGame: The game is not a two-player zero-sum extensive-form game.
        InvalidArgumentError: A bad ``method``, ``tolerance`` or ``time_limit``.
        GamesolveError: HiGHS fails, or the profile misses ``tolerance``.
    """
    method = check_choice("method", method, _METHODS)
    tolerance = _check_tolerance(tolerance)
    clock = _Clock(check_time_limit(time_limit))
    compiled = prepare_extensive_form("the sequence-form LP", game)
    _check("the sequence-form LP", compiled.spec)
    form = sequence_form(compiled)
    if method == "auto":
        method = "highs-ipm" if int(compiled.num_sequences.sum()) >= _IPM_FROM_SEQUENCES else "highs"
    # Player 0's utilities are all the LP needs: in a constant-sum game player 1's utility is a
    # constant minus u_0, so minimizing x^T A_0 y is player 1's best response either way.
    u0 = form.terminal_utility[:, 0]  # [T'] at the terminals chance reaches
    scale = payoff_scale(u0 if u0.size else [0.0])
    uniform = uniform_policy(compiled)
    if scale.constant:  # every profile is an equilibrium
        report = _evaluate(compiled, uniform, clock)
        return _solution(uniform, report, 0.0, report.on_policy_values[0], "none", 0, 0.0,
                         "every terminal utility is the same")  # fmt: skip
    fallback = _evaluate(compiled, uniform, clock) if clock.limit is not None else None
    normalized = _normalized_game(compiled, scale)
    own, other = form.constraints
    lp_seconds = 0.0

    def solve(
        matrix: sp.csr_matrix,
        mine: tuple[sp.csr_matrix, NDArray[np.float64]],
        theirs: tuple[sp.csr_matrix, NDArray[np.float64]],
        lp_scale: PayoffScale,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float] | None:
        nonlocal lp_seconds
        nonzeros = matrix.nnz + mine[0].nnz + theirs[0].nnz
        budget = clock.for_highs(nonzeros, matrix.shape[0] + theirs[0].shape[0])  # LP columns: (x, v)
        if budget is not None and budget <= 0:
            return None
        begun = time.perf_counter()
        try:
            return _maximin(matrix, mine, theirs, method, budget, lp_scale)
        finally:
            lp_seconds += time.perf_counter() - begun

    def certify(policy: TabularPolicy) -> float:
        """NashConv of ``policy`` as a fraction of the payoff range."""
        return max(_evaluate(normalized, policy, clock).nash_conv / scale.top, 0.0)

    first = solve(form.payoff_matrix(scale.normalize(u0)), own, other, scale)  # entries in [0, 1)
    if first is None:
        assert fallback is not None
        where = "before HiGHS finished" if lp_seconds > 0 else "too short to start HiGHS"
        message = (
            f"time limit of {clock.limit:g} s reached ({where} on player 0's LP, {method}); returned the "
            f"uniform policy (NashConv {fallback.nash_conv:.4g}): an unfinished HiGHS solve gives no point"
        )
        log.info("sequence-form LP on %s: %s", compiled.spec.name, message)
        relative = _relative(scale, fallback.nash_conv)
        value = fallback.on_policy_values[0]
        return _solution(uniform, fallback, relative, value, method, 0, lp_seconds, message, converged=False)
    x, y, value = first
    policy = plans_to_policy(compiled, [x, y])
    relative = certify(policy)
    lp_solves = 1
    if relative > tolerance:
        log.info(
            "player 1's plan from the duals has NashConv %.3e of the range; solving player 1's LP", relative
        )
        # Player 1 maximizes -x^T A_0 y = y^T (-A_0^T) x, on -u_0 normalized the same way.
        scale1 = payoff_scale(-u0)
        second = solve(sp.csr_matrix(form.payoff_matrix(scale1.normalize(-u0)).T), other, own, scale1)
        if second is None:
            report = _evaluate(compiled, policy, clock)
            message = (
                f"time limit of {clock.limit:g} s reached in player 1's LP; returned player 0's optimal "
                f"plan with player 1's plan from the duals (NashConv {relative:.3e} of the payoff range)"
            )
            log.info("sequence-form LP on %s: %s", compiled.spec.name, message)
            return _solution(policy, report, relative, value, method, 1, lp_seconds, message, (x, y), False)
        y = second[0]
        policy = plans_to_policy(compiled, [x, y])
        relative = certify(policy)
        lp_solves = 2
        if relative > tolerance:
            raise GamesolveError(
                f"the sequence-form LP's profile has NashConv {relative:.1e} of the payoff range, above "
                f"tolerance={tolerance:g}; HiGHS's tolerances are too loose for this game"
            )
    report = _evaluate(compiled, policy, clock)
    message = (
        f"solved by HiGHS ({method}, {lp_solves} LP(s)), game value {value:.12g}, NashConv "
        f"{ldexp(relative * scale.top, scale.exponent + scale.exponent2):.3g} "
        f"({relative:.1e} of the payoff range)"
    )
    log.debug("sequence-form LP on %s (%s sequences): %s", compiled.spec.name, form.num_sequences, message)
    return _solution(policy, report, relative, value, method, lp_solves, lp_seconds, message, (x, y))


def _relative(scale: PayoffScale, difference: float) -> float:
    """A payoff difference as a fraction of the payoff range, without overflow."""
    return ldexp(difference, -(scale.exponent + scale.exponent2)) / scale.top


def _check_tolerance(value: Any) -> float:
    return check_real("tolerance", value, minimum=0.0, maximum=1.0, min_inclusive=False)


def _solution(
    policy: TabularPolicy,
    report: ExploitabilityReport,
    relative: float,
    value: float,
    method: str,
    lp_solves: int,
    lp_seconds: float,
    message: str,
    plans: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    converged: bool = True,
) -> SequenceFormSolution:
    if plans is None:
        first, second = policy_to_plans(policy)
        plans = (first, second)
    return SequenceFormSolution(
        policy=policy,
        plans=plans,
        value=float(value),
        nash_conv=max(report.nash_conv, 0.0),
        method=method,
        lp_solves=lp_solves,
        lp_seconds=lp_seconds,
        relative_nash_conv=max(relative, 0.0),
        converged=converged,
        message=message,
        report=report,
    )


class SequenceFormLP(ExactSolver):
    """The ``"sequence-lp"`` solver: :func:`solve_sequence_form_lp` through :func:`gamesolve.solve`.

    Returns both players' equilibrium strategies as ``result.policy`` (also ``average_policy`` and
    ``current_policy``), their values in ``result.value`` and the LP optimum in
    ``result.extras['game_value']``. With a time limit that runs out, ``result.converged`` is
    ``False`` and the message says which policy was returned (see :func:`solve_sequence_form_lp`).

    Args:
        method: HiGHS method, ``"auto"`` (default; interior point for large games), ``"highs"``,
            ``"highs-ds"`` or ``"highs-ipm"``.
        tolerance: Largest acceptable NashConv, relative to the payoff range (default 1e-9).
    """

    name = "sequence-lp"

    def __init__(self, method: str = "auto", *, tolerance: float = 1e-9) -> None:
        self.method = check_choice("method", method, _METHODS)
        self.tolerance = _check_tolerance(tolerance)

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
        seed: int = 0,
        time_limit: float | None = None,
        progress: bool | None = None,
    ) -> SolveResult:
        """Solve once (``time_limit`` bounds the whole call; ``progress`` is ignored)."""
        del progress
        start = time.perf_counter()
        solution = solve_sequence_form_lp(
            game, method=self.method, tolerance=self.tolerance, time_limit=time_limit
        )
        seconds = time.perf_counter() - start
        report = solution.report
        assert report is not None
        result = one_shot_result(
            game_name=game.spec.name,
            solver=self.name,
            config=self.config(),
            seed=seed,
            policy=solution.policy,
            seconds=seconds,
            exploitability=report.exploitability,
            nash_conv=report.nash_conv,
            value=report.on_policy_values,
            message=solution.message,
            extras={
                "game_value": solution.value,
                "lp_seconds": solution.lp_seconds,
                "lp_solves": solution.lp_solves,
                "num_sequences": [int(n) for n in game.num_sequences],
                "relative_nash_conv": solution.relative_nash_conv,
            },
        )
        return result if solution.converged else dataclasses.replace(result, converged=False)


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
SEQUENCE_LP_ENTRY = SolverEntry(
    "sequence-lp",
    SequenceFormLP,
    "two-player zero-sum extensive-form Nash equilibrium by sequence-form LP (HiGHS)",
)
