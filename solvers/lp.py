"""Two-player zero-sum Nash equilibria by linear programming (scipy's HiGHS).

For a zero-sum game with row payoff matrix ``A`` (row maximizes ``x^T A y``) the value and a
maximin strategy solve ``max v`` subject to ``A^T x >= v 1``, ``sum(x) = 1``, ``x >= 0``. We pose
the equivalent positive form (von Neumann's reduction): shift ``A`` so that every entry is at least
1, then ``min 1^T u`` subject to ``B^T u >= 1``, ``u >= 0``; ``x = u / sum(u)`` and the value is
``1 / sum(u) - shift``. The column player's minimax strategy is read from the dual multipliers of
the same LP, so one solve yields both strategies (nashpy solves two LPs).

Exact up to the LP tolerance; the returned profile is checked: its duality gap is reported in the
result, and a gap above ``gap_tolerance`` raises.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from gamesolve.errors import GamesolveError
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.normal_form import nash_conv as normal_form_nash_conv
from gamesolve.run import SolveResult, one_shot_result
from gamesolve.spec import GameSpec
from solvers._common import check_normal_form, prepare_normal_form, require_two_player_zero_sum

__all__ = ["ZeroSumLP", "ZeroSumSolution", "exact_result", "solve_zero_sum_lp"]

log = logging.getLogger(__name__)

#: Above this many matrix entries the interior-point method beats dual simplex on dense games.
_IPM_ENTRIES = 250_000


@dataclass(frozen=True)
class ZeroSumSolution:
    """An equilibrium of a two-player zero-sum game.

    Attributes:
        profile: Maximin strategy of the row player and minimax strategy of the column player.
        value: The game value for the row player.
        gap: Duality gap of ``profile`` (``max (A y) - min (A^T x)``), ideally ~1e-12.
        method: The HiGHS method used.
    """

    profile: MixedProfile
    value: float
    gap: float
    method: str


def _clean(vec: NDArray[np.float64]) -> NDArray[np.float64]:
    vec = np.maximum(vec, 0.0)
    total = vec.sum()
    if not total > 0:
        raise GamesolveError("LP returned an empty strategy; the solver failed")
    return vec / total


def solve_zero_sum_lp(
    game: TensorGame, *, method: str | None = None, gap_tolerance: float = 1e-7
) -> ZeroSumSolution:
    """Solve a two-player zero-sum (or constant-sum) game exactly by one LP.

    Args:
        game: A two-player zero-sum or constant-sum :class:`~gamesolve.normal_form.TensorGame`.
        method: ``"highs-ds"`` (dual simplex), ``"highs-ipm"`` (interior point) or ``None`` to
            choose by size.
        gap_tolerance: Largest acceptable duality gap, relative to the payoff range.

    Raises:
        UnsupportedGame: The game is not two-player zero-sum or constant-sum.
        GamesolveError: HiGHS fails, or the returned profile's gap exceeds the tolerance.
    """
    require_two_player_zero_sum("the zero-sum LP", game.spec)
    a = game.payoffs[0]  # [m, n] row payoffs
    m, n = a.shape
    if method is None:
        method = "highs-ipm" if m * n > _IPM_ENTRIES else "highs-ds"
    shift = 1.0 - float(a.min())
    b = a + shift  # every entry >= 1, so the value of the shifted game is >= 1 > 0
    res = linprog(
        np.ones(m),
        A_ub=-b.T,
        b_ub=-np.ones(n),
        bounds=(0.0, None),
        method=method,
    )
    if res.status != 0 or res.x is None:
        raise GamesolveError(f"HiGHS could not solve the zero-sum LP: {res.message}")
    u = np.asarray(res.x)  # [m]
    x = _clean(u)
    y = _clean(-np.asarray(res.ineqlin.marginals))  # [n] duals of B^T u >= 1
    value = 1.0 / float(u.sum()) - shift
    gap = float((a @ y).max() - (x @ a).min())
    scale = max(1.0, float(np.ptp(a)))
    if gap > gap_tolerance * scale:
        raise GamesolveError(f"LP solution has duality gap {gap:.3e}; HiGHS tolerance too loose")
    log.debug("zero-sum LP %dx%d by %s: value %.12g, gap %.2e", m, n, method, value, gap)
    return ZeroSumSolution(
        profile=MixedProfile.of(game, [x, y]), value=value, gap=max(gap, 0.0), method=method
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
) -> SolveResult:
    """A :class:`~gamesolve.run.SolveResult` for a one-shot normal-form solver."""
    report = normal_form_nash_conv(game, profile)
    return one_shot_result(
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


class ZeroSumLP:
    """The registry's ``"lp"`` solver: :func:`solve_zero_sum_lp` through :func:`gamesolve.solve`.

    Args:
        method: HiGHS method (``"highs-ds"``, ``"highs-ipm"``) or ``None`` to choose by size.
    """

    exact = True
    name = "lp"

    def __init__(self, method: str | None = None) -> None:
        if method not in (None, "highs-ds", "highs-ipm", "highs"):
            raise ValueError(f"method must be 'highs-ds', 'highs-ipm', 'highs' or None, got {method!r}")
        self.method = method

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {"method": self.method}

    def prepare(self, game: Any) -> TensorGame:
        """The game as a tensor game."""
        return prepare_normal_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum or constant-sum normal-form games only."""
        check_normal_form(self.name, spec)
        require_two_player_zero_sum(self.name, spec)

    def run(self, game: TensorGame, *, seed: int) -> SolveResult:
        """Solve once; the value is in ``result.extras['game_value']``."""
        start = time.perf_counter()
        solution = solve_zero_sum_lp(game, method=self.method)
        seconds = time.perf_counter() - start
        return exact_result(
            game,
            solver=self.name,
            config=self.config(),
            seed=seed,
            profile=solution.profile,
            seconds=seconds,
            message=f"solved by HiGHS ({solution.method}), game value {solution.value:.12g}",
            extras={"game_value": solution.value},
        )
