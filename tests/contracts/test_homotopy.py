"""Contracts of the N-player Nash homotopy (gamesolve.solvers.homotopy) run through gamesolve.solve.

Known answers: the catalog games' equilibria (matching pennies and rock-paper-scissors uniform,
asymmetric matching pennies (0.4, 0.6) for both players) and a three-player cyclic game whose
unique equilibrium is derived by hand below. Oracle: Gambit's ``logit_solve`` (pygambit), which
traces the same principal branch; it stops at a regret of ``maxregret`` times the payoff range, so
its answer is compared with ours to 1e-6 at ``maxregret=1e-10``. Exactness is checked in rational
arithmetic with :func:`gamesolve.certify`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import gamesolve
from gamesolve.certify import certify
from gamesolve.errors import GamesolveError, MalformedGameError, UnsupportedGame
from gamesolve.games import normal_form as nf
from gamesolve.normal_form import normal_form_game
from gamesolve.solvers.homotopy import NashHomotopy
from gamesolve.solvers.logit_path import LogitPath


def _solve(game, **kwargs):
    options = {k: kwargs.pop(k) for k in ("tolerance", "max_steps", "first_step") if k in kwargs}
    return gamesolve.solve(game, NashHomotopy(**options), progress=False, **kwargs)


def _cyclic_game():
    """Three players, each caring about one other: 1 matches 2, 2 matches 3, 3 mismatches 1.

    ``u1 = (2, 1)[a1]`` if ``a1 == a2``, ``u2 = (1, 3)[a2]`` if ``a2 == a3``, ``u3 = (1, 4)[a3]`` if
    ``a3 != a1`` (else 0). No pure equilibrium exists (``a1 = a2 = a3 != a1``), and a player at a
    pure strategy makes the next one in the cycle strict, so everyone mixes; the indifference
    conditions give the unique equilibrium ``x2 = (1/3, 2/3)`` (``2 x2_0 = x2_1``), ``x3 = (3/4,
    1/4)`` (``x3_0 = 3 x3_1``) and ``x1 = (1/5, 4/5)`` (``x1_1 = 4 x1_0``).
    """
    payoffs = np.zeros((3, 2, 2, 2))
    for a1, a2, a3 in np.ndindex(2, 2, 2):
        payoffs[0, a1, a2, a3] = (2.0, 1.0)[a1] if a1 == a2 else 0.0
        payoffs[1, a1, a2, a3] = (1.0, 3.0)[a2] if a2 == a3 else 0.0
        payoffs[2, a1, a2, a3] = (1.0, 4.0)[a3] if a3 != a1 else 0.0
    return normal_form_game(payoffs, name="cyclic_pennies_3")


CYCLIC_NE = ((1 / 5, 4 / 5), (1 / 3, 2 / 3), (3 / 4, 1 / 4))


# ------------------------------------------------------------------------------ known answers


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("matching_pennies", ((0.5, 0.5), (0.5, 0.5))),
        ("amp", ((0.4, 0.6), (0.4, 0.6))),
        ("rps", ((1 / 3,) * 3, (1 / 3,) * 3)),
        ("brps", ((1 / 16, 10 / 16, 5 / 16), (1 / 16, 10 / 16, 5 / 16))),
    ],
)
def test_known_two_player_equilibria(name, expected):
    game = nf.load(name)
    result = _solve(game)
    assert result.converged, result.message
    assert result.solver == "homotopy"
    for ours, theirs in zip(result.policy, expected, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert result.nash_conv <= 1e-12
    assert certify(game, result.policy, max_denominator=100) == 0


def test_three_player_cyclic_game_has_its_unique_mixed_equilibrium():
    game = _cyclic_game()
    result = _solve(game)
    assert result.converged, result.message
    assert result.iterations > 3  # the branch has to leave uniform play
    for ours, theirs in zip(result.policy, CYCLIC_NE, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert certify(game, result.policy, max_denominator=100) == Fraction(0)
    assert result.extras["supports"] == [[0, 1], [0, 1], [0, 1]]


def test_pure_equilibrium_and_single_action_players():
    # prisoner's dilemma: the branch leaves uniform play for (defect, defect)
    pd = nf.prisoners_dilemma()
    result = _solve(pd)
    assert result.converged
    assert result.nash_conv == 0.0
    assert [int(np.argmax(s)) for s in result.policy] == [1, 1]
    assert all(s.max() == 1.0 for s in result.policy)
    lone = nf.random_uniform(np.random.default_rng(9), [3, 1, 2])
    result = _solve(lone)
    assert result.converged and result.nash_conv <= 1e-10


# ------------------------------------------------------------------------------ Gambit oracle


def _gambit_limit(game):
    gbt = pytest.importorskip("pygambit")
    oracle = gbt.StrategicGame.from_arrays(*[np.asarray(p) for p in game.payoffs])
    equilibrium = gbt.nash.logit_solve(oracle, maxregret=1e-10).equilibrium
    assert equilibrium is not None
    return [np.array([float(v) for _, v in equilibrium[p]]) for p in oracle.players]


@pytest.mark.parametrize(
    ("shape", "seed"),
    [
        *[([2, 2, 2], s) for s in range(4)],
        *[([3, 3, 3], s) for s in range(3)],
        *[([2, 2, 2, 2], s) for s in range(3)],
    ],
)
def test_matches_gambits_logit_limit(shape, seed):
    game = nf.random_uniform(np.random.default_rng(seed), shape)
    result = _solve(game)
    assert result.converged, result.message
    assert result.nash_conv <= 1e-10
    assert certify(game, result.policy) <= Fraction(1, 10**10)  # exact rationals of the floats
    for ours, theirs in zip(result.policy, _gambit_limit(game), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "seed"),
    [
        # the branch passes within 0.03 of another equilibrium near lambda = 110 before turning to
        # its limit: the polish must not take the nearby one (the heading check rejects it)
        ([2, 2, 2], 20),
        # a hairpin near lambda = 5.5 (the lambda-component of the tangent drops to about 0.13):
        # steps that turn the tangent by 15 degrees jumped over it onto another branch
        ([3, 3, 3], 49),
    ],
)
def test_stays_on_the_principal_branch_where_it_is_easy_to_leave(shape, seed):
    game = nf.random_uniform(np.random.default_rng(seed), shape)
    result = _solve(game)
    assert result.converged and result.nash_conv <= 1e-10
    for ours, theirs in zip(result.policy, _gambit_limit(game), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


# ------------------------------------------------------------------- limits, progress, options


def test_time_limit_returns_the_best_branch_point_unconverged():
    game = nf.random_uniform(np.random.default_rng(0), [7, 7, 7])
    result = gamesolve.solve(game, NashHomotopy(), time_limit=1e-3, progress=False)
    assert not result.converged
    assert "time limit" in result.message
    assert result.extras["supports"] == []
    assert math.isfinite(result.nash_conv) and result.nash_conv > 1e-6
    assert result.nash_conv == pytest.approx(min(result.history.nash_conv[:-1]))
    for strategy in result.policy:
        assert strategy.sum() == pytest.approx(1.0)


def test_max_steps_stops_with_a_message():
    game = _cyclic_game()
    result = _solve(game, max_steps=2)
    assert not result.converged
    assert result.iterations == 2
    assert "max_steps=2" in result.message
    assert len(result.history) == 4  # start, two steps, the returned profile


def test_progress_bar_and_history(capsys):
    game = _cyclic_game()
    result = gamesolve.solve(game, NashHomotopy(), progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""  # library code never prints; the bar goes to stderr
    assert "lambda=" in captured.err and "NashConv=" in captured.err
    assert result.converged
    assert len(result.history) == result.iterations + 2
    assert result.history.nash_conv[-1] == result.nash_conv
    assert result.extras["lambda"] > 0 and result.extras["polish_attempts"] >= 1


def test_equilibria_entry_point_and_determinism():
    game = nf.random_uniform(np.random.default_rng(3), [2, 2, 2])
    found = gamesolve.equilibria(game, method="homotopy")
    assert len(found) == 1
    again = _solve(game).policy
    assert found[0] == again
    with pytest.raises(GamesolveError, match="max_steps"):
        gamesolve.equilibria(_cyclic_game(), method="homotopy", max_steps=1)


def test_logit_path_starts_at_uniform_play_along_the_payoff_differences():
    game = _cyclic_game()
    path = LogitPath(game)
    theta, tangent = path.start()
    assert theta.tolist() == [0.0, 0.0, 0.0]
    h, _, d_lam = path.equations(theta, 0.0)
    assert np.all(h == 0.0)
    np.testing.assert_allclose(tangent, np.append(-d_lam, 1.0) / np.linalg.norm(np.append(-d_lam, 1.0)))


# ---------------------------------------------------------------------------------- bad input


def test_non_finite_payoffs_are_refused_at_construction():
    payoffs = np.zeros((3, 2, 2, 2))
    payoffs[1, 0, 1, 0] = np.nan
    with pytest.raises(MalformedGameError, match="finite"):
        normal_form_game(payoffs)


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"tolerance": -1e-10}, "tolerance"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"tolerance": float("nan")}, "tolerance"),
        ({"tolerance": "1e-10"}, "tolerance"),
        ({"max_steps": 0}, "max_steps"),
        ({"max_steps": 2.5}, "max_steps"),
        ({"first_step": -0.1}, "first_step"),
        ({"first_step": float("inf")}, "first_step"),
    ],
)
def test_bad_options_name_the_argument(options, argument):
    with pytest.raises(ValueError, match=argument):
        NashHomotopy(**options)


def test_bad_time_limit_and_unsupported_games():
    game = _cyclic_game()
    with pytest.raises(ValueError, match="time_limit"):
        gamesolve.solve(game, NashHomotopy(), time_limit=-1.0, progress=False)
    with pytest.raises(ValueError, match="time_limit"):
        NashHomotopy().run(game, seed=0, time_limit=float("nan"))
    kuhn = pytest.importorskip("gamesolve.games.kuhn")
    with pytest.raises(UnsupportedGame, match="normal-form"):
        gamesolve.solve(kuhn.KuhnPoker(), NashHomotopy(), progress=False)
