"""Two-player zero-sum Nash equilibria by linear programming (scipy's HiGHS), certified.

The row player's maximin strategy and the value solve ``max v`` subject to ``A^T x >= v 1``, ``1^T x
= 1``, ``x >= 0``; the multipliers of ``A^T x >= v 1`` are a minimax strategy of the column player
(LP duality; von Neumann 1928, "Zur Theorie der Gesellschaftsspiele"), so one HiGHS solve yields
both. The LP is posed on the payoffs mapped exactly onto ``[0, 1)``
(:class:`gamesolve.certify.PayoffScale`), so payoffs of any finite size solve alike. The answer is
polished on its supports and certified by its duality gap ``max_i (A y)_i - min_j (x^T A)_j``,
reported in payoff units and relative to the payoff range (a relative gap above ``gap_tolerance``
raises). A floating-point LP cannot resolve payoff differences far below the payoff range, so small
games (at most 256 entries) whose payoffs differ by less than ``1e-8`` of the range are solved
exactly in rational arithmetic (:func:`gamesolve.certify.exact_zero_sum`). ``time_limit`` bounds the
whole call; when it runs out the result is the uniform profile, marked not converged.

>>> import gamesolve
>>> solution = solve_zero_sum_lp(gamesolve.zero_sum([[1e15, 1], [-1, 0]]))
>>> [s.tolist() for s in solution.profile.strategies], solution.value, solution.exact
([[1.0, 0.0], [0.0, 1.0]], 1.0, True)
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gamesolve.arrays import readonly
from gamesolve.certify import exact_zero_sum, ldexp, payoff_scale
from gamesolve.errors import GamesolveError
from gamesolve.highs import highs_linprog, transfer_seconds
from gamesolve.kernels.matrix_game import STATUS_OK, run_simplex
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.normal_form import nash_conv as normal_form_nash_conv
from gamesolve.registry import SolverEntry
from gamesolve.results import SolveResult, one_shot_result
from gamesolve.solver import ExactSolver
from gamesolve.solvers.common import NormalFormSolver, check_time_limit, require_two_player_zero_sum
from gamesolve.spec import GameSpec
from gamesolve.validation import check_choice, check_real

__all__ = [
    "ZeroSumLP",
    "ZeroSumSolution",
    "exact_result",
    "solve_zero_sum_lp",
]

log = logging.getLogger(__name__)

#: Above this many matrix entries the interior-point method beats dual simplex on dense games.
_IPM_ENTRIES = 250_000
_METHODS = ("auto", "simplex", "highs", "highs-ds", "highs-ipm")
#: ``method="auto"`` takes the dense simplex kernel while ``min(m, n) * m * n`` stays below this
#: (its work grows about so; measured against HiGHS on random square games: 1.1 s against 1.7 s at
#: 600 x 600, 3.7 s against 2.2 s at 800 x 800), or below :data:`_SIMPLEX_WITH_DEADLINE` when a
#: time limit is set (the kernel cannot be interrupted; HiGHS can).
_SIMPLEX_WORK = 600**3
_SIMPLEX_WITH_DEADLINE = 200**3
#: Two distinct normalized payoffs closer than this are below what the LP resolves reliably.
_RESOLUTION = 1e-8
#: Largest game (entries) solved in rational arithmetic when its payoffs are on many scales.
_EXACT_ENTRIES = 256
#: Support threshold of the polish (probabilities below it are taken as zero).
_SUPPORT = 1e-9


# ------------------------------------------------------------------------------ the zero-sum LP


@dataclass(frozen=True)
class ZeroSumSolution:
    """An equilibrium of a two-player zero-sum game.

    Attributes:
        profile: Maximin strategy of the row player and minimax strategy of the column player.
        value: The game value for the row player.
        gap: Duality gap of ``profile`` (``max (A y) - min (A^T x)``) in payoff units.
        method: ``"simplex"`` (the dense simplex kernel), the HiGHS method used, ``"exact"`` when
            the rational solve gave the answer, or ``"none"`` for a game whose payoffs are all equal.
        relative_gap: ``gap`` divided by the payoff range (``max A - min A``).
        exact: Whether the strategies are the exact rational equilibrium, rounded to floats.
        converged: ``False`` when the time limit stopped the solve (the profile is then uniform).
        message: One line on how the answer was found and certified.
    """

    profile: MixedProfile
    value: float
    gap: float
    method: str
    relative_gap: float = 0.0
    exact: bool = False
    converged: bool = True
    message: str = ""


def _clean(vec: NDArray[np.float64]) -> NDArray[np.float64]:
    vec = np.maximum(vec, 0.0)
    total = vec.sum()
    if not total > 0:
        raise GamesolveError("the zero-sum LP returned an empty strategy; HiGHS failed")
    return vec / total


def _gap(a: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Duality gap ``max_i (a y)_i - min_j (x^T a)_j`` of a profile on payoffs ``a`` ``[m, n]``."""
    return max(float((a @ y).max()) - float((x @ a).min()), 0.0)


def _equalize(
    b: NDArray[np.float64], rows: NDArray[np.intp], cols: NDArray[np.intp]
) -> NDArray[np.float64] | None:
    """``x`` on ``rows`` with ``x^T b[rows, cols] = v 1`` and ``1^T x = 1`` (square systems only)."""
    k = rows.size
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = b[np.ix_(rows, cols)].T
    system[:k, k] = -1.0
    system[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    try:
        sol = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        return None
    part = sol[:k]
    if not np.isfinite(part).all() or part.min() < -1e-12:
        return None
    out = np.zeros(b.shape[0])
    out[rows] = np.maximum(part, 0.0)
    return out / out.sum()


def _polish(
    b: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """The profile that equalizes payoffs on the supports of ``(x, y)``, where those are square."""
    rows = np.flatnonzero(x > _SUPPORT)
    cols = np.flatnonzero(y > _SUPPORT)
    if rows.size != cols.size or rows.size == 0:
        return None
    new_x = _equalize(b, rows, cols)
    new_y = _equalize(b.T, cols, rows)
    if new_x is None or new_y is None:
        return None
    return new_x, new_y


def _finest_difference(a: NDArray[np.float64]) -> float:
    """The smallest difference between two distinct payoffs ``a`` (``inf`` when there is none).

    ``a`` must lie in ``[-1, 1]`` (scaled by a power of two), so no difference overflows; two
    distinct payoffs that the scaling took below the smallest subnormal count as ``0`` apart.
    """
    steps = np.diff(np.sort(a, axis=None))
    steps = steps[steps > 0]
    return float(steps.min()) if steps.size else math.inf


def solve_zero_sum_lp(
    game: TensorGame,
    *,
    method: str | None = None,
    gap_tolerance: float = 1e-7,
    time_limit: float | None = None,
) -> ZeroSumSolution:
    """Solve a two-player zero-sum (or constant-sum) game by one LP, for any finite payoffs.

    The LP runs on the payoffs mapped onto ``[0, 1)`` (powers of two and one shift, which change
    neither the equilibria nor, after unscaling, the value): HiGHS refuses entries of ``1e15`` and
    more and works to absolute tolerances around ``1e-7``. The answer is then polished (the
    equalizing equations on its supports, kept when the gap is no larger; exact to rounding on
    nondegenerate games) and certified by its duality gap on the normalized payoffs. Games of at
    most 256 entries with two distinct payoffs closer than ``1e-8`` of the range are solved exactly
    in rational arithmetic; larger games are not scanned and keep the LP answer, certified by its
    relative gap.

    Args:
        game: A two-player zero-sum or constant-sum :class:`~gamesolve.normal_form.TensorGame`.
        method: ``"simplex"`` (a dense simplex method in numba, certified by its duality gap;
            :func:`gamesolve.kernels.matrix_game.simplex_games`), ``"highs-ds"`` (dual simplex),
            ``"highs-ipm"`` (interior point), ``"highs"`` (HiGHS chooses) or ``None`` / ``"auto"``:
            the dense simplex on small and medium games (HiGHS when it misses its certificate),
            HiGHS on large ones.
        gap_tolerance: Largest acceptable duality gap, relative to the payoff range, in ``(0, 1]``.
        time_limit: Seconds for the whole solve (``None``: no limit). When they run out the
            solution is the uniform profile with ``converged=False``.

    Raises:
        UnsupportedGame: The game is not two-player zero-sum or constant-sum.
        InvalidArgumentError: A bad ``method``, ``gap_tolerance`` or ``time_limit``.
        GamesolveError: HiGHS fails, or the returned profile's gap exceeds the tolerance.
    """
    chosen = _check_method(method)
    tol = check_real("gap_tolerance", gap_tolerance, minimum=0.0, maximum=1.0, min_inclusive=False)
    limit = check_time_limit(time_limit)
    require_two_player_zero_sum("the zero-sum LP", game.spec)
    started = time.perf_counter()
    deadline = None if limit is None else started + limit
    a = game.payoffs[0]  # [m, n] row payoffs
    m, n = a.shape
    scale = payoff_scale(a)
    if scale.constant:  # every profile is an equilibrium
        profile = MixedProfile.uniform(game)
        return ZeroSumSolution(profile, float(a.flat[0]), 0.0, "none", message="every payoff is the same")
    a1 = np.ldexp(a, -scale.exponent)  # [m, n] in [-1, 1]: exact, for the certificate and value
    spread = float(a1.max() - a1.min())
    work = min(m, n) * m * n
    dense = _dense_simplex(a1) if _takes_simplex(chosen, work, deadline) else None
    if dense is not None:
        chosen = "simplex"
        x, y = dense
        gap = _gap(a1, x, y)
    else:
        if chosen in ("auto", "simplex"):  # too large, or the kernel missed its certificate
            chosen = "highs-ipm" if m * n > _IPM_ENTRIES else "highs-ds"
        b = scale.normalize(a)  # [m, n] in [0, 1): what HiGHS sees
        x_y = _highs_maximin(b, chosen, deadline)
        if isinstance(x_y, str):
            return _timed_out(game, a1, spread, scale.exponent, f"time limit of {limit:g} s {x_y} ({chosen})")
        x, y = x_y
        gap = _gap(a1, x, y)
        polished = _polish(b, x, y)
        if polished is not None and _gap(a1, *polished) <= gap:
            (x, y), gap = polished, _gap(a1, *polished)
    # Only small games are scanned: among a million random payoffs two are always that close.
    finest = _finest_difference(a1) if m * n <= _EXACT_ENTRIES else math.inf
    fine = finest < _RESOLUTION * spread  # payoff differences below what the LP resolves
    exact_value: float | None = None
    note = ""
    if fine:
        rational = exact_zero_sum(a, deadline=deadline)
        if rational is not None:
            x = np.array([float(p) for p in rational.row])
            y = np.array([float(p) for p in rational.column])
            gap, exact_value = _gap(a1, x, y), float(rational.value)
            chosen = "exact"
    exact = exact_value is not None
    if fine and not exact:  # the time limit stopped the rational solve
        note = (
            f"; payoffs differ by as little as {finest / spread:.1e} of their range, below "
            "what the LP resolves, so the strategies are certified only by the gap"
        )
        log.info("zero-sum LP %dx%d: %s", m, n, note[2:])
    relative = gap / spread
    if relative > tol:
        raise GamesolveError(
            f"the zero-sum LP's profile has duality gap {relative:.3e} of the payoff range, above "
            f"gap_tolerance={tol:g}; HiGHS's tolerances are too loose for this game"
        )
    value = ldexp(float(x @ a1 @ y), scale.exponent) if exact_value is None else exact_value
    gap_units = ldexp(gap, scale.exponent)
    if exact:
        how = "exactly in rational arithmetic"
    elif chosen == "simplex":
        how = "by the dense simplex method"
    else:
        how = f"by HiGHS ({chosen})"
    message = (
        f"solved {how}, game value {value:.12g}, duality gap {gap_units:.3g} "
        f"({relative:.1e} of the payoff range){note}"
    )
    log.debug("zero-sum LP %dx%d: %s", m, n, message)
    return ZeroSumSolution(
        # x and y are probability vectors of the right sizes by construction (certified above).
        profile=MixedProfile((readonly(x), readonly(y))),
        value=value,
        gap=gap_units,
        method=chosen,
        relative_gap=relative,
        exact=exact,
        message=message,
    )


def _takes_simplex(chosen: str, work: int, deadline: float | None) -> bool:
    """Whether the dense simplex kernel runs first (see :data:`_SIMPLEX_WORK`)."""
    if chosen == "simplex":
        return True
    if chosen != "auto":
        return False
    return work <= (_SIMPLEX_WORK if deadline is None else _SIMPLEX_WITH_DEADLINE)


def _dense_simplex(a1: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Maximin and minimax strategies from the dense simplex kernel, or ``None`` if not certified."""
    _, x, y, status = run_simplex(np.ascontiguousarray(a1, dtype=np.float64)[None])
    if int(status[0]) != STATUS_OK:
        log.debug("zero-sum LP %dx%d: the dense simplex missed its certificate; HiGHS solves it", *a1.shape)
        return None
    return x[0], y[0]


def _check_method(method: Any) -> str:
    if method is None:
        return "auto"
    return check_choice("method", method, _METHODS)


def _highs_maximin(
    b: NDArray[np.float64], method: str, deadline: float | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | str:
    """``max v`` s.t. ``b^T x >= v 1``, ``1^T x = 1``, ``x >= 0``.

    Returns ``(x, y)`` with ``y`` read from the duals, or, when the deadline came first, what
    happened ("too short to start HiGHS", "reached before HiGHS finished").
    """
    m, n = b.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0  # minimize -v
    a_ub = sp.csr_matrix(np.hstack([-b.T, np.ones((n, 1))]))  # v - b^T x <= 0
    a_eq = sp.csr_matrix(np.append(np.ones(m), 0.0)[None, :])
    budget = None
    if deadline is not None:
        budget = deadline - time.perf_counter() - transfer_seconds(a_ub.nnz, m + 1)
        if budget <= 0:
            return "too short to start HiGHS"
    res = highs_linprog(
        c,
        a_ub=a_ub,
        b_ub=np.zeros(n),
        a_eq=a_eq,
        b_eq=np.ones(1),
        bounds=[(0.0, None)] * m + [(None, None)],
        method=method,
        what="the zero-sum LP",
        time_limit=budget,
    )
    if res is None:
        return "reached before HiGHS finished"
    x = _clean(np.asarray(res.x[:m]))
    y = _clean(-np.asarray(res.ineqlin.marginals))  # multipliers of v - b^T x <= 0
    return x, y


def _timed_out(
    game: TensorGame, a1: NDArray[np.float64], spread: float, exponent: int, what: str
) -> ZeroSumSolution:
    m, n = a1.shape
    x, y = np.full(m, 1.0 / m), np.full(n, 1.0 / n)
    gap = _gap(a1, x, y)
    message = f"{what}; returned the uniform profile (an unfinished HiGHS solve gives no point)"
    log.info("zero-sum LP %dx%d: %s", m, n, message)
    return ZeroSumSolution(
        profile=MixedProfile.uniform(game),
        value=ldexp(float(x @ a1 @ y), exponent),
        gap=ldexp(gap, exponent),
        method="none",
        relative_gap=gap / spread,
        converged=False,
        message=message,
    )


def exact_result(
    game: TensorGame,
    *,
    solver: str,
    config: dict[str, Any],
    seed: int,
    profile: MixedProfile,
    seconds: float,
    message: str,
    extras: dict[str, Any] | None = None,
    converged: bool = True,
) -> SolveResult:
    """A :class:`~gamesolve.run.SolveResult` for a one-shot normal-form solver.

    ``converged=False`` marks an answer cut short (a time limit, a tolerance not met).
    """
    with np.errstate(over="ignore", invalid="ignore"):  # payoffs near 1e308: a regret may be inf
        report = normal_form_nash_conv(game, profile)
    result = one_shot_result(
        game_name=game.spec.name,
        solver=solver,
        config=config,
        seed=seed,
        policy=profile,
        seconds=seconds,
        exploitability=report.exploitability,
        nash_conv=report.nash_conv,
        value=report.on_policy_values,
        message=message,
        extras=extras,
    )
    return result if converged else dataclasses.replace(result, converged=False)


class ZeroSumLP(NormalFormSolver, ExactSolver):
    """The registry's ``"lp"`` solver: :func:`solve_zero_sum_lp` through :func:`gamesolve.solve`.

    ``result.extras`` holds ``game_value``, ``duality_gap`` (payoff units), ``relative_gap``
    (of the payoff range) and ``exact`` (whether the strategies are the exact rational
    equilibrium). With a time limit that runs out, ``result.converged`` is ``False`` and the
    policy is uniform.

    Args:
        method: ``"simplex"`` (dense simplex in numba), a HiGHS method (``"highs-ds"``,
            ``"highs-ipm"``, ``"highs"``) or ``None`` / ``"auto"`` to choose by size.
        gap_tolerance: Largest acceptable duality gap, relative to the payoff range, in ``(0, 1]``.
    """

    name = "lp"

    def __init__(self, method: str | None = None, gap_tolerance: float = 1e-7) -> None:
        self.method = None if method is None else _check_method(method)
        self.gap_tolerance = check_real(
            "gap_tolerance", gap_tolerance, minimum=0.0, maximum=1.0, min_inclusive=False
        )

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {"method": self.method, "gap_tolerance": self.gap_tolerance}

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum or constant-sum normal-form games only."""
        super().check(spec)
        require_two_player_zero_sum(self.name, spec)

    def run(
        self,
        game: TensorGame,
        *,
        seed: int = 0,
        time_limit: float | None = None,
        progress: bool | None = None,
    ) -> SolveResult:
        """Solve once (``time_limit`` bounds the call; ``progress`` is ignored: one LP shows none)."""
        del progress
        start = time.perf_counter()
        solution = solve_zero_sum_lp(
            game, method=self.method, gap_tolerance=self.gap_tolerance, time_limit=time_limit
        )
        seconds = time.perf_counter() - start
        return exact_result(
            game,
            solver=self.name,
            config=self.config(),
            seed=seed,
            profile=solution.profile,
            seconds=seconds,
            message=solution.message,
            extras={
                "game_value": solution.value,
                "duality_gap": solution.gap,
                "relative_gap": solution.relative_gap,
                "exact": solution.exact,
            },
            converged=solution.converged,
        )


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
LP_ENTRY = SolverEntry("lp", ZeroSumLP, "two-player zero-sum Nash equilibrium by LP (HiGHS)")
