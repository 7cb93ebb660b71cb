"""Minimax-DQN (torch, CPU): the two-state game's value within 5e-2, seeded and resumable.

Known value (the fixed point of Shapley 1953, "Stochastic games", solved in closed form for
:func:`gamesolve.games.markov.two_state`): ``V(s0) = (70 - 20 sqrt(10)) / 9 ~ 0.750494``, row policy
``(0.462475, 0.537525)``; the one-state AMP game is worth ``0.2 / (1 - 0.9) = 2``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")

import gamesolve
from gamesolve.errors import UnsupportedGame
from gamesolve.games import markov as M

V_TWO_STATE = (70.0 - 20.0 * math.sqrt(10.0)) / 9.0


def test_two_state_value_and_policy():
    result = gamesolve.solve(M.two_state(), "minimax-dqn", iterations=5_000, seed=0, eval_every=5_000)
    assert result.value[0] == pytest.approx(V_TWO_STATE, abs=5e-2)
    np.testing.assert_allclose(result.policy[0][0], [0.462475, 0.537525], atol=0.05)
    assert result.exploitability < 0.05
    assert result.config["device"] == "cpu"


def test_one_state_game_value():
    result = gamesolve.solve(M.repeated("amp"), "minimax-dqn", iterations=6_000, seed=1, eval_every=6_000)
    assert result.value[0] == pytest.approx(2.0, abs=0.1)


def test_seeded_and_resumes_exactly(tmp_path):
    game = M.two_state()
    options = {"warmup": 32, "batch_size": 16, "target_sync": 50}
    full = gamesolve.solve(game, "minimax-dqn", iterations=400, seed=3, eval_every=400, **options)
    again = gamesolve.solve(game, "minimax-dqn", iterations=400, seed=3, eval_every=400, **options)
    np.testing.assert_array_equal(full.value, again.value)
    ckpt = tmp_path / "dqn.npz"
    gamesolve.solve(game, "minimax-dqn", iterations=150, seed=3, eval_every=400, checkpoint=ckpt, **options)
    resumed = gamesolve.solve(
        game, "minimax-dqn", iterations=400, seed=3, eval_every=400, resume=ckpt, **options
    )
    np.testing.assert_array_equal(resumed.value, full.value)
    other = gamesolve.solve(game, "minimax-dqn", iterations=400, seed=4, eval_every=400, **options)
    assert not np.array_equal(other.value, full.value)


def test_bad_options_and_games():
    for option, value in (("learning_rate", 0.0), ("batch_size", 0), ("epsilon_end", 1.5), ("hidden", ())):
        with pytest.raises(ValueError, match=option):
            gamesolve.make_solver("minimax-dqn", **{option: value})
    with pytest.raises(ValueError, match="device"):
        gamesolve.make_solver("minimax-dqn", device="tpu")
    with pytest.raises(UnsupportedGame, match="two-player zero-sum"):
        gamesolve.solve(M.fishery(players=2, levels=3), "minimax-dqn", iterations=10)
    with pytest.raises(UnsupportedGame, match="Markov"):
        gamesolve.solve(gamesolve.load_game("kuhn"), "minimax-dqn", iterations=10)
