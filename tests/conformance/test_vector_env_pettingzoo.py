"""Batched environments on PettingZoo games (AEC and parallel environments stepped agent by agent).

The batch must show the acting agent, its observation and its action mask as the environment
does, pay each episode's summed rewards when it ends, play a gamesolve game exported to PettingZoo
to its exact expected value, reproduce its stream for a seed, and refuse bad input clearly.
"""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import InvalidArgumentError, UnsupportedGame
from gamesolve.evaluation import expected_values
from gamesolve.games.pettingzoo import from_pettingzoo, to_pettingzoo
from gamesolve.games.pettingzoo.vector import PettingZooVectorEnv
from gamesolve.policy import TabularPolicy
from gamesolve.vector_env import TimeStep, vector_env

classic = pytest.importorskip("pettingzoo.classic")

FIELDS = ("observation", "legal", "player", "reward", "done")


def _random_actions(ts: TimeStep, rng: np.random.Generator) -> np.ndarray:
    scores = rng.random(ts.legal.shape)
    scores[~ts.legal] = -1.0
    return scores.argmax(axis=1)


@pytest.mark.parametrize("name", ["connect_four_v3", "texas_holdem_v4", "tictactoe_v3"])
def test_classic_envs_show_the_acting_agent_and_pay_at_the_end(name: str) -> None:
    module = getattr(classic, name)
    game = from_pettingzoo(module.env, utility="zero_sum")
    env = vector_env(game, num_envs=4, seed=0, observation="observation")
    assert isinstance(env, PettingZooVectorEnv)
    assert (env.num_players, env.num_actions) == (2, max(game.num_actions))
    ts = env.reset()
    assert ts.observation.shape == (4, env.observation_size) and ts.observation.dtype == np.float32
    assert ts.legal.shape == (4, env.num_actions) and ts.legal.dtype == np.bool_
    assert ts.player.dtype == np.int64 and ts.reward.shape == (4, 2) and not ts.done.any()
    rng = np.random.default_rng(0)
    paid = []
    for _ in range(200):
        for b, slot_env in enumerate(env.environments):
            agent = slot_env.agent_selection
            assert ts.player[b] == game.agents.index(agent)
            obs = slot_env.observe(agent)
            np.testing.assert_array_equal(ts.legal[b], np.asarray(obs["action_mask"], bool))
            np.testing.assert_array_equal(ts.observation[b], game.flatten_observation(int(ts.player[b]), obs))
        ts = env.step(_random_actions(ts, rng))
        assert not ts.reward[~ts.done].any()
        paid.extend(ts.reward[ts.done])
    assert env.episodes == len(paid) > 0
    paid_arr = np.asarray(paid)
    np.testing.assert_allclose(paid_arr.sum(axis=1), 0.0, atol=1e-9)  # zero-sum results
    assert np.abs(paid_arr).sum() > 0


@pytest.mark.parametrize("name", ["kuhn", "leduc_poker"])
def test_exported_game_plays_to_its_exact_expected_value(name: str) -> None:
    # A gamesolve game exported to PettingZoo and wrapped back: uniform random play through the
    # batch must reach the exact expected value of the uniform policy.
    source = gamesolve.load_game(name)
    exact = expected_values(source, TabularPolicy.uniform(source))
    game = from_pettingzoo(lambda: to_pettingzoo(source), utility="zero_sum")
    env = game.vector_env(num_envs=32, seed=3)
    ts = env.reset()
    rng = np.random.default_rng(4)
    returns = []
    while len(returns) < 6_000:
        ts = env.step(_random_actions(ts, rng))
        returns.extend(ts.reward[ts.done])
    values = np.asarray(returns)
    mean = values.mean(axis=0)
    stderr = values.std(axis=0, ddof=1) / np.sqrt(len(values))
    assert np.all(np.abs(mean - exact) <= 4 * stderr + 1e-12), (mean, exact, stderr)


def test_parallel_env_is_asked_one_agent_at_a_time() -> None:
    game = from_pettingzoo(classic.rps_v2.parallel_env, utility="zero_sum")
    env = game.vector_env(num_envs=3, seed=0)
    ts = env.reset()
    assert ts.player.tolist() == [0, 0, 0]
    ts = env.step([0, 1, 2])  # player 0's choices (rock, paper, scissors); nothing is played yet
    assert ts.player.tolist() == [1, 1, 1] and not ts.reward.any()
    rounds = 0
    while not ts.done.any():
        ts = env.step([0, 0, 0] if ts.player[0] == 0 else [1, 1, 1])
        rounds += 1
    # Player 1's paper: slot 0 (rock) loses the first round, slot 1 ties, slot 2 (scissors) wins;
    # every later round is rock against paper.
    assert ts.done.all()
    first = np.array([[-1.0, 1.0], [0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(ts.reward, first + (rounds // 2) * np.array([-1.0, 1.0]))
    assert ts.player.tolist() == [0, 0, 0]  # fresh episodes


def test_instances_are_copied_and_seeds_reproduce_per_slot() -> None:
    def play(num_envs: int, seed: int) -> list[TimeStep]:
        game = from_pettingzoo(classic.texas_holdem_v4.env(), utility="zero_sum")
        env = game.vector_env(num_envs=num_envs, seed=seed)
        out = [env.reset()]
        for _ in range(60):
            ts = out[-1]
            # A rule that looks only at the slot's own observation keeps slots independent.
            out.append(
                env.step(
                    [
                        np.flatnonzero(row)[int(o.sum()) % row.sum()]
                        for row, o in zip(ts.legal, ts.observation, strict=True)
                    ]
                )
            )
        return out

    a, b = play(3, 5), play(3, 5)
    for x, y in zip(a, b, strict=True):
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
    assert any(not np.array_equal(x.observation, y.observation) for x, y in zip(a, play(3, 6), strict=True))
    for x, y in zip(a, play(1, 5), strict=True):
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(x, field)[:1], getattr(y, field))


def test_bad_input_is_refused() -> None:
    game = from_pettingzoo(classic.connect_four_v3.env, utility="zero_sum")
    with pytest.raises(UnsupportedGame, match='use observation="observation"'):
        vector_env(game, num_envs=2, seed=0)  # the default asks for information states
    with pytest.raises(InvalidArgumentError, match="observation must be one of"):
        vector_env(game, num_envs=2, seed=0, observation="pixels")
    env = vector_env(game, num_envs=2, seed=0, observation="observation")
    with pytest.raises(InvalidArgumentError, match=r"call reset\(\) before step"):
        env.step([0, 0])
    env.reset()
    with pytest.raises(InvalidArgumentError, match=r"actions must be 2 integer action ids"):
        env.step([0])
    with pytest.raises(InvalidArgumentError, match=r"actions\[0\] = 7 is not legal in slot 0"):
        env.step([7, 0])
    ts = env.step([3, 3])  # a refused step played nothing
    assert ts.player.tolist() == [1, 1]
    env.close()
