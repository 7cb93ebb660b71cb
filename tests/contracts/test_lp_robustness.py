"""Exact solvers on any finite payoffs, silent, bounded by time limits (issue 12, items 6, 8, 9, 10).

Before this change ``solve(zero_sum([[1e15, 1], [-1, 0]]), "lp")`` and the sequence-form LP on
utilities of 1e19 failed inside HiGHS ("Model error"); payoffs near 1e308 gave raw scipy / cvxpy
``ValueError``s from ``lp``, ``ce`` and ``cce``; payoffs near 1e-300 were solved as if they were
all equal (``lp`` returned a pure profile of matching pennies, the homotopy stopped at uniform
play); ``ce`` / ``cce`` printed HiGHS's banner on stdout; the sequence-form LP sat in HiGHS far
past its time limit; and bad options raised bare ``ValueError``s or none at all.

Reference answers come from an independent oracle: support enumeration of small zero-sum games in
rational arithmetic (:func:`_exact_equilibrium`), every float payoff taken at its exact value, so
"the equilibrium" of a game whose payoffs span many orders of magnitude is the exact one.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import subprocess
import sys
import time
import warnings
from fractions import Fraction

import numpy as np
import pytest

import gamesolve
from gamesolve.certify import exact_zero_sum, payoff_scale
from gamesolve.errors import GamesolveError, InvalidArgumentError
from gamesolve.solvers.correlated import CorrelatedLP, correlated_equilibrium
from gamesolve.solvers.homotopy import NashHomotopy
from gamesolve.solvers.lp import ZeroSumLP, solve_zero_sum_lp
from gamesolve.solvers.sequence_lp import SequenceFormLP, solve_sequence_form_lp

KUHN_VALUE = -1.0 / 18.0  # Kuhn (1950)


# ------------------------------------------------------------------- an independent exact oracle


def _solve_exact(rows: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """Gauss-Jordan elimination in fractions; ``None`` when the system is singular."""
    n = len(rows)
    m = [[*r, b] for r, b in zip(rows, rhs, strict=True)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if m[r][col] != 0), None)
        if pivot is None:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        m[col] = [v / m[col][col] for v in m[col]]
        for r in range(n):
            if r != col and m[r][col] != 0:
                f = m[r][col]
                m[r] = [a - f * b for a, b in zip(m[r], m[col], strict=True)]
    return [row[-1] for row in m]


def _exact_equilibrium(matrix: list[list[float]]) -> tuple[list[Fraction], list[Fraction], Fraction]:
    """An exact equilibrium of a zero-sum game by support enumeration (square supports).

    For each pair of equal-size supports, solves the equalizing equations exactly and checks
    nonnegativity and both best-response conditions in fractions.
    """
    a = [[Fraction(v) for v in row] for row in matrix]
    m, n = len(a), len(a[0])
    for k in range(1, min(m, n) + 1):
        for rows in itertools.combinations(range(m), k):
            for cols in itertools.combinations(range(n), k):
                # x on rows: sum_i x_i a[i][j] - v = 0 (j in cols), sum x = 1
                sx = _solve_exact(
                    [[a[i][j] for i in rows] + [Fraction(-1)] for j in cols]
                    + [[Fraction(1)] * k + [Fraction(0)]],
                    [Fraction(0)] * k + [Fraction(1)],
                )
                sy = _solve_exact(
                    [[a[i][j] for j in cols] + [Fraction(-1)] for i in rows]
                    + [[Fraction(1)] * k + [Fraction(0)]],
                    [Fraction(0)] * k + [Fraction(1)],
                )
                if sx is None or sy is None or min(sx[:k]) < 0 or min(sy[:k]) < 0 or sx[k] != sy[k]:
                    continue
                x = [Fraction(0)] * m
                y = [Fraction(0)] * n
                for i, p in zip(rows, sx, strict=False):
                    x[i] = p
                for j, p in zip(cols, sy, strict=False):
                    y[j] = p
                v = sx[k]
                if all(sum(a[i][j] * y[j] for j in range(n)) <= v for i in range(m)) and all(
                    sum(x[i] * a[i][j] for i in range(m)) >= v for j in range(n)
                ):
                    return x, y, v
    raise AssertionError("no equilibrium found (degenerate game?)")


#: Small zero-sum games with a unique equilibrium whose payoffs span many orders of magnitude;
#: the strategies depend on the small payoffs, which a floating-point LP cannot resolve.
MULTI_SCALE = {
    "1e15 next to 1 (the issue's example)": [[1e15, 1.0], [-1.0, 0.0]],
    "tiny corner decides the mix": [[1.0, 0.0], [0.0, 1e-15]],
    "huge corner decides the mix": [[1e15, 0.0], [0.0, 1.0]],
    "near the float maximum": [[1.7e308, 1.0], [-1.7e308, 0.0]],
    "three scales": [[1e12, -1.0, 3e-6], [-2e12, 2.0, -1e-6], [5e11, 0.5, 1e-6]],
}


@pytest.mark.parametrize("matrix", list(MULTI_SCALE.values()), ids=list(MULTI_SCALE))
def test_lp_matches_the_exact_equilibrium_on_payoffs_of_many_scales(matrix):
    x, y, v = _exact_equilibrium(matrix)
    result = gamesolve.solve(gamesolve.zero_sum(matrix), "lp")
    np.testing.assert_allclose(result.policy.strategies[0], [float(p) for p in x], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.policy.strategies[1], [float(p) for p in y], rtol=0, atol=1e-12)
    assert result.extras["game_value"] == pytest.approx(float(v), rel=1e-12, abs=1e-300)
    assert result.extras["exact"] is True
    assert result.converged


def test_lp_offset_payoffs_are_normalized_away():
    # 1e15 + pennies: the shift to [0, 1) recovers the pennies exactly, no rational solve needed
    result = gamesolve.solve(gamesolve.zero_sum([[1e15 + 1, 1e15], [1e15, 1e15 + 1]]), "lp")
    np.testing.assert_allclose(result.policy.strategies, [[0.5, 0.5], [0.5, 0.5]], rtol=0, atol=1e-15)
    assert result.extras["game_value"] == 1e15 + 0.5
    assert result.extras["exact"] is False and result.extras["relative_gap"] <= 1e-15


def test_the_issue_example_is_solved_exactly():
    result = gamesolve.solve(gamesolve.zero_sum([[1e15, 1], [-1, 0]]), "lp")
    assert [s.tolist() for s in result.policy.strategies] == [[1.0, 0.0], [0.0, 1.0]]
    assert result.extras["game_value"] == 1.0
    assert result.nash_conv == 0.0
    assert "exactly in rational arithmetic" in result.message


def test_exact_zero_sum_agrees_with_the_oracle_on_random_games():
    rng = np.random.default_rng(3)
    for _ in range(20):
        m, n = rng.integers(2, 5, size=2)
        matrix = (rng.standard_normal((m, n)) * 10.0 ** rng.integers(-20, 20, size=(m, n))).tolist()
        x, y, v = _exact_equilibrium(matrix)
        exact = exact_zero_sum(matrix)
        assert exact is not None and exact.value == v
        assert exact.row == tuple(x) and exact.column == tuple(y)  # random games: unique equilibrium


def test_exact_zero_sum_gives_up_at_its_deadline():
    assert exact_zero_sum(np.random.default_rng(0).random((12, 12)), deadline=time.perf_counter() - 1) is None


def test_payoff_scale_is_exact_and_never_overflows():
    values = np.array([1.7e308, -1.7e308, 1.0, 0.0])
    scale = payoff_scale(values)
    normalized = scale.normalize(values)
    assert normalized.min() == 0.0 and 0.5 <= normalized.max() < 1.0
    assert scale.value(float(normalized[0])) == 1.7e308 and scale.value(0.0) == -1.7e308
    assert scale.spread == np.inf  # 3.4e308 is beyond the float range, and says so
    t = math.ldexp(1.0, -1000)  # about 9e-302, exactly representable
    tiny = payoff_scale([3 * t, -t])
    assert tiny.normalize([3 * t, t, -t]).tolist() == [0.5, 0.25, 0.0]
    assert tiny.spread == 4 * t


# ---------------------------------------------------------------------- payoffs near the limits


HUGE_AND_TINY = {
    "1e308 pennies": [[1e308, -1e308], [-1e308, 1e308]],
    "1.7e308 dominance": [[1.7e308, 1.0], [-1.7e308, 0.0]],
    "1e-300 mixed": [[1e-300, -1e-300], [-2e-300, 1e-300]],
    "subnormal": [[5e-320, -5e-320], [-1e-319, 5e-320]],
}


@pytest.mark.parametrize("matrix", list(HUGE_AND_TINY.values()), ids=list(HUGE_AND_TINY))
@pytest.mark.parametrize("solver", ["lp", "homotopy"])
def test_nash_solvers_on_payoffs_near_the_float_limits(solver, matrix):
    game = gamesolve.zero_sum(matrix)
    x, y, _ = _exact_equilibrium(matrix)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        result = gamesolve.solve(game, solver, progress=False)
    assert result.converged
    np.testing.assert_allclose(result.policy.strategies[0], [float(p) for p in x], rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.policy.strategies[1], [float(p) for p in y], rtol=0, atol=1e-9)


@pytest.mark.parametrize("matrix", list(HUGE_AND_TINY.values()), ids=list(HUGE_AND_TINY))
@pytest.mark.parametrize("kind", ["ce", "cce"])
def test_correlated_lp_on_payoffs_near_the_float_limits(kind, matrix):
    game = gamesolve.zero_sum(matrix)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gamesolve.solve(game, kind)
    dist = np.asarray(result.policy)
    assert dist.shape == (2, 2) and dist.min() >= 0 and dist.sum() == pytest.approx(1.0)
    assert max(result.extras["relative_gains"]) <= 1e-9
    assert np.isfinite(result.value).all()


def test_correlated_lp_scales_each_player_separately():
    # player 0's payoffs near 1e308, player 1's near 1e-300: the CE set is chicken's; weights that
    # undo the scaling make the objective chicken's welfare, so the optimum is chicken's too
    chicken = gamesolve.load_game("chicken")
    base = correlated_equilibrium(chicken)
    game = gamesolve.bimatrix(chicken.payoffs[0] / 7 * 1.7e308, chicken.payoffs[1] * 1e-300)
    solution = correlated_equilibrium(game, objective=[7 / 1.7e308, 1e300])
    np.testing.assert_allclose(solution.distribution, base.distribution, rtol=0, atol=1e-9)
    assert solution.values[0] == pytest.approx(base.values[0] / 7 * 1.7e308, rel=1e-9)
    assert solution.values[1] == pytest.approx(base.values[1] * 1e-300, rel=1e-9)
    assert solution.objective == pytest.approx(base.welfare, rel=1e-9)
    assert max(solution.relative_gains) <= 1e-9


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # building the game
def test_welfare_beyond_the_float_range_is_inf_not_an_error():
    game = gamesolve.bimatrix([[1.5e308, 0.0], [0.0, 1.0]], [[1.5e308, 0.0], [0.0, 1.0]])
    solution = correlated_equilibrium(game)
    assert solution.values == (1.5e308, 1.5e308)
    assert solution.welfare == np.inf


# ------------------------------------------------------------------ the sequence-form LP, scaled


def _kuhn_times(factor: float, offset: float = 0.0) -> gamesolve.CompiledGame:
    kuhn = gamesolve.as_compiled(gamesolve.load_game("kuhn"))
    utility = kuhn.terminal_utility * factor + np.array([offset, -offset])
    utility.setflags(write=False)
    return dataclasses.replace(kuhn, terminal_utility=utility)


@pytest.mark.parametrize("factor", [1e19, 1e300, 1e-300])
def test_sequence_lp_solves_utilities_of_any_size(factor):
    game = _kuhn_times(factor)
    result = gamesolve.solve(game, "sequence-lp")
    assert result.converged
    assert result.extras["game_value"] == pytest.approx(KUHN_VALUE * factor, rel=1e-9)
    assert result.extras["relative_nash_conv"] <= 1e-12
    assert result.nash_conv <= 1e-12 * factor


def test_sequence_lp_certificate_is_relative_to_the_range_not_the_offset():
    # utilities 1e15 + Kuhn's: an ulp of 1e15 is 0.125, so NashConv evaluated on them is rounding
    solution = solve_sequence_form_lp(_kuhn_times(1.0, offset=1e15))
    assert solution.relative_nash_conv <= 1e-12
    assert solution.value == pytest.approx(1e15, rel=1e-15)


# ------------------------------------------------------------------- scale invariance, 10^-300..300


def _random_zero_sum(seed: int, shape: tuple[int, int]) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("k", range(-300, 301, 25))
def test_lp_strategies_are_invariant_to_powers_of_ten(k):
    for seed, shape in ((0, (4, 5)), (1, (7, 3))):
        matrix = _random_zero_sum(seed, shape)
        base = solve_zero_sum_lp(gamesolve.zero_sum(matrix))
        scaled = solve_zero_sum_lp(gamesolve.zero_sum(matrix * 10.0**k))
        for s, b in zip(scaled.profile.strategies, base.profile.strategies, strict=True):
            np.testing.assert_allclose(s, b, rtol=0, atol=1e-9)
        assert scaled.value == pytest.approx(base.value * 10.0**k, rel=1e-9)
        assert scaled.relative_gap <= 1e-12


@pytest.mark.parametrize("k", range(-300, 301, 50))
def test_correlated_and_homotopy_are_invariant_to_powers_of_ten(k):
    rng = np.random.default_rng(5)
    a, b = rng.random((3, 3)), rng.random((3, 3))
    base = correlated_equilibrium(gamesolve.bimatrix(a, b))
    scaled = correlated_equilibrium(gamesolve.bimatrix(a * 10.0**k, b * 10.0**k))
    np.testing.assert_allclose(scaled.distribution, base.distribution, rtol=0, atol=1e-9)
    assert scaled.welfare == pytest.approx(base.welfare * 10.0**k, rel=1e-9)
    game = gamesolve.bimatrix(a, b)
    home = NashHomotopy().run(game, progress=False)
    away = NashHomotopy().run(gamesolve.bimatrix(a * 10.0**k, b * 10.0**k), progress=False)
    assert home.converged and away.converged
    for s, t in zip(away.policy.strategies, home.policy.strategies, strict=True):
        np.testing.assert_allclose(s, t, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------- silence


@pytest.mark.parametrize("solver", ["ce", "cce", "lp"])
def test_lp_solvers_print_nothing(capfd, monkeypatch, solver):
    import highspy

    # highspy's Highs() prints the banner (once per process): no solver may make one
    made = []
    real = highspy.Highs
    monkeypatch.setattr(highspy, "Highs", lambda *args, **kwargs: made.append(1) or real(*args, **kwargs))
    game = gamesolve.load_game("rps")
    gamesolve.solve(game, solver)
    gamesolve.solve(game, solver, time_limit=5.0)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert made == []


def test_sequence_lp_prints_nothing(capfd):
    gamesolve.solve(gamesolve.load_game("kuhn"), "sequence-lp", time_limit=5.0)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_no_highs_banner_in_a_fresh_process():
    # HiGHS prints its banner once per process, so only a fresh one shows whether any call does
    code = (
        "import gamesolve; g = gamesolve.load_game('rps'); "
        "[gamesolve.solve(g, s) for s in ('ce', 'cce', 'lp')]"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "HiGHS" not in done.stdout and done.stdout == ""
    assert "HiGHS" not in done.stderr


# -------------------------------------------------------------------------------- time limits


def test_lp_time_limit_bounds_the_call():
    game = gamesolve.zero_sum(_random_zero_sum(0, (600, 600)))  # about 4 s to solve here
    started = time.perf_counter()
    result = gamesolve.solve(game, "lp", time_limit=0.4)
    assert time.perf_counter() - started < 0.4 + 1.0
    assert not result.converged
    assert "time limit of 0.4 s" in result.message and "uniform" in result.message
    np.testing.assert_array_equal(result.policy.strategies[0], np.full(600, 1 / 600))


def test_correlated_time_limit_bounds_the_call():
    rng = np.random.default_rng(0)
    game = gamesolve.bimatrix(rng.random((100, 100)), rng.random((100, 100)))  # about 2 s to solve
    started = time.perf_counter()
    result = gamesolve.solve(game, "ce", time_limit=0.3)
    assert time.perf_counter() - started < 0.3 + 1.0
    assert not result.converged and "time limit of 0.3 s" in result.message
    np.testing.assert_allclose(np.asarray(result.policy), np.full((100, 100), 1e-4))


def test_sequence_lp_time_limit_bounds_the_call():
    # generalized Leduc with 5 ranks: 13,441 sequences each, about 18 s in HiGHS here
    game = gamesolve.as_compiled(gamesolve.load_game("leduc(ranks=5,suits=4)"))
    started = time.perf_counter()
    result = SequenceFormLP().run(game, seed=0, time_limit=1.5)
    seconds = time.perf_counter() - started
    assert seconds < 1.5 + 1.0
    assert not result.converged
    assert "time limit of 1.5 s" in result.message and "uniform policy" in result.message
    assert result.nash_conv == pytest.approx(
        gamesolve.nash_conv(game, gamesolve.uniform_policy(game)).nash_conv
    )


def test_sequence_lp_second_lp_out_of_time_returns_the_dual_plans(monkeypatch):
    import gamesolve.solvers.sequence_lp as module

    real = module._maximin
    calls = []

    def spoiled(*args, **kwargs):
        calls.append(args[4])  # the time HiGHS was given
        if len(calls) == 2:
            return None  # player 1's LP stopped by the time limit
        x, y, value = real(*args, **kwargs)
        return x, np.zeros_like(y), value  # duals that are not a minimax plan

    monkeypatch.setattr(module, "_maximin", spoiled)
    solution = solve_sequence_form_lp(gamesolve.load_game("kuhn"), time_limit=30.0)
    assert not solution.converged and solution.lp_solves == 1
    assert "player 1's LP" in solution.message
    assert 0 < calls[1] < calls[0] < 30.0  # each call gets what remains, not the full budget


def test_too_short_a_limit_does_not_start_highs():
    solution = solve_sequence_form_lp(gamesolve.load_game("leduc"), time_limit=1e-3)
    assert not solution.converged and "too short to start HiGHS" in solution.message
    assert solution.lp_seconds == 0.0


# ------------------------------------------------------------------------ options at the door


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: ZeroSumLP(method="revised-simplex"), "method"),
        (lambda: ZeroSumLP(gap_tolerance=float("nan")), "gap_tolerance"),
        (lambda: ZeroSumLP(gap_tolerance=0.0), "gap_tolerance"),
        (lambda: ZeroSumLP(gap_tolerance=True), "gap_tolerance"),
        (lambda: SequenceFormLP(method="dual"), "method"),
        (lambda: SequenceFormLP(tolerance=float("inf")), "tolerance"),
        (lambda: SequenceFormLP(tolerance=-1e-9), "tolerance"),
        (lambda: SequenceFormLP(tolerance="abc"), "tolerance"),
        (lambda: CorrelatedLP(kind="nash"), "kind"),
        (lambda: CorrelatedLP(epsilon=float("nan")), "epsilon"),
        (lambda: CorrelatedLP(epsilon=-0.1), "epsilon"),
        (lambda: CorrelatedLP(objective="fairness"), "objective"),
        (lambda: CorrelatedLP(objective=[1.0, float("nan")]), "objective"),
        (lambda: CorrelatedLP(objective=[1.0, float("inf")]), "objective"),
        (lambda: CorrelatedLP(constraints=[[[float("nan"), 1.0]], None]), "constraints[0]"),
        (lambda: NashHomotopy(tolerance=1.0), "tolerance"),
        (lambda: NashHomotopy(max_steps=1.5), "max_steps"),
        (lambda: NashHomotopy(first_step=0.0), "first_step"),
    ],
)
def test_bad_options_are_refused_naming_them(make, name):
    with pytest.raises(InvalidArgumentError) as caught:
        make()
    message = str(caught.value)
    assert message.startswith(name) and "\n" not in message


@pytest.mark.parametrize("bad", [float("nan"), -1.0, 0.0, float("inf"), "3"])
def test_bad_time_limits_are_refused(bad):
    pennies = gamesolve.zero_sum([[1, -1], [-1, 1]])
    calls = [
        lambda: solve_zero_sum_lp(pennies, time_limit=bad),
        lambda: correlated_equilibrium(pennies, time_limit=bad),
        lambda: solve_sequence_form_lp(gamesolve.load_game("kuhn"), time_limit=bad),
        lambda: NashHomotopy().run(pennies, time_limit=bad),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError, match=r"^time_limit"):
            call()


def test_unknown_method_of_equilibria_is_refused():
    with pytest.raises(InvalidArgumentError, match=r"^method must be one of enumerate"):
        gamesolve.equilibria(gamesolve.zero_sum([[1, 0], [0, 1]]), "simplex")


def test_objective_with_the_wrong_shape_is_refused_at_solve_time():
    with pytest.raises(InvalidArgumentError, match=r"objective must be a \[P\]=2 weight vector"):
        correlated_equilibrium(gamesolve.load_game("chicken"), objective=[1.0, 2.0, 3.0])


def test_infeasible_constraints_are_one_clean_error():
    with pytest.raises(GamesolveError, match="infeasible") as caught:
        correlated_equilibrium(gamesolve.load_game("chicken"), constraints=[[[1.0, 1.0]], None])
    assert "\n" not in str(caught.value)


def test_building_games_near_the_float_limit_warns_about_nothing():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in the utility check would be a RuntimeWarning
        general = gamesolve.bimatrix([[1.7e308, 1], [-1.7e308, 0]], [[0, 1e308], [1, 0]])
        zero = gamesolve.zero_sum([[1.7e308, 1], [-1.7e308, 0]])
    assert general.spec.utility is gamesolve.Utility.GENERAL_SUM
    assert zero.spec.utility is gamesolve.Utility.ZERO_SUM


def test_auto_takes_the_dense_simplex_and_falls_back_to_highs(monkeypatch):
    """Small and medium games go to the certified dense simplex; HiGHS answers when it misses."""
    import gamesolve.solvers.lp as lp

    rng = np.random.default_rng(5)
    for m, n in ((2, 2), (7, 3), (40, 40)):
        game = gamesolve.zero_sum(rng.uniform(-1.0, 1.0, (m, n)))
        auto = lp.solve_zero_sum_lp(game)
        highs = lp.solve_zero_sum_lp(game, method="highs-ds")
        assert auto.method == "simplex" and highs.method == "highs-ds"
        assert auto.value == pytest.approx(highs.value, abs=1e-9)
        assert auto.relative_gap <= 1e-9
    import gamesolve.kernels.matrix_game as kernel

    monkeypatch.setattr(kernel, "simplex_pivot_cap", lambda a, b: 0)  # no pivot: no certificate
    fallback = lp.solve_zero_sum_lp(game)
    assert fallback.method == "highs-ds" and fallback.value == pytest.approx(highs.value, abs=1e-9)
    assert not lp._takes_simplex("auto", 900**3, None)  # large games stay with HiGHS
    assert not lp._takes_simplex("auto", 300**3, deadline=1.0)  # with a time limit, HiGHS (interruptible)
