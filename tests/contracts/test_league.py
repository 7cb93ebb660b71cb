"""League training (``gamesolve.solve(game, "league")``): main agent, exploiters, PFSP, ratings.

On Kuhn (compiled: the main agent's exploitability is exact) two rounds give a league of seven
members of the right kinds, one Elo rating per agent, PFSP weights that favour the opponents the
main agent does not beat; a checkpointed run resumes to the same league; the Minimax Exploiter
option trains; bad options and games are named.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gamesolve
from gamesolve import InvalidArgumentError, UnsupportedGame

pytest.importorskip("torch")

from gamesolve.solvers.league import PFSP_FLOOR, League, pfsp_weights

SMALL = {"hidden": [16], "num_envs": 32}


def _league(**options):
    return League(oracle_steps=1_500, episodes=60, oracle_options=SMALL, **options)


@pytest.fixture(scope="module")
def kuhn_league():
    return gamesolve.solve(
        "kuhn", _league(minimax_coef=0.5), iterations=2, seed=0, progress=False, eval_every=1
    )


def test_two_rounds_on_kuhn(kuhn_league):
    r = kuhn_league
    kinds = r.extras["member_kinds"]
    assert kinds == [
        "main",
        "main",
        "main-exploiter",
        "league-exploiter",
        "main",
        "main-exploiter",
        "league-exploiter",
    ]
    assert r.history.exploitability[0] == pytest.approx(11 / 24)  # the all-zero first main agent is uniform
    assert math.isfinite(r.exploitability) and r.exploitability < 11 / 24
    kuhn = gamesolve.as_compiled(gamesolve.load_game("kuhn"))
    assert r.exploitability == pytest.approx(
        gamesolve.exploitability(kuhn, r.policy.tabulate(kuhn)), abs=1e-12
    )
    meta = r.extras["meta_game"]
    assert meta.payoffs.shape == (2, 7, 7) and meta.symmetric and np.all(meta.counts == 60)
    table = r.extras["ratings"]
    assert len(table.names) == 7  # one rating per agent, both seats pooled
    weights = np.asarray(r.extras["pfsp_weights"])
    assert weights.shape == (7,) and weights.sum() == pytest.approx(1.0)
    rates = np.asarray(r.extras["main_win_rates"])
    assert np.all((rates >= 0) & (rates <= 1))


def test_pfsp_weights():
    w = pfsp_weights(np.array([1.0, 0.5, 0.0]), 2.0)
    np.testing.assert_allclose(w, np.array([PFSP_FLOOR, 0.25, 1.0]) / (PFSP_FLOOR + 1.25))
    np.testing.assert_allclose(pfsp_weights(np.array([0.2, 0.9]), 0.0), [0.5, 0.5])


def test_resume_continues_to_the_same_league(tmp_path, kuhn_league):
    path = tmp_path / "league.npz"
    gamesolve.solve("kuhn", _league(minimax_coef=0.5), iterations=1, seed=0, progress=False, checkpoint=path)
    resumed = gamesolve.solve(
        "kuhn", _league(minimax_coef=0.5), iterations=2, seed=0, progress=False, resume=path
    )
    np.testing.assert_array_equal(
        resumed.extras["meta_game"].payoffs, kuhn_league.extras["meta_game"].payoffs
    )
    np.testing.assert_array_equal(
        resumed.policy.tabulate(gamesolve.load_game("kuhn")).probs,
        kuhn_league.policy.tabulate(gamesolve.load_game("kuhn")).probs,
    )


def test_bad_options_and_games():
    with pytest.raises(InvalidArgumentError, match="oracle_steps"):
        League(oracle_steps=0)
    with pytest.raises(InvalidArgumentError, match="minimax_coef"):
        League(minimax_coef=-1.0)
    with pytest.raises(InvalidArgumentError, match="minimax_coef"):
        League(oracle_options={"minimax_coef": 1.0})
    with pytest.raises(InvalidArgumentError, match="oracle_options"):
        League(oracle_options={"hidden": [0]})
    with pytest.raises(UnsupportedGame, match="two-player zero-sum"):
        gamesolve.solve("kuhn_poker(players=3)", _league(), iterations=1, progress=False)
