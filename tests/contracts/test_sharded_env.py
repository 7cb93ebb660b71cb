"""Batched environments stepped by worker processes or Ray actors (``vector_env(..., workers=N)``).

The same seed and worker count give the same episode stream on the local and Ray executors; the
shards' values agree with the exact value of uniform play on Kuhn; bad options and failing workers
give clear errors; pools are reused across environments and closed cleanly.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import GamesolveError, InvalidArgumentError
from gamesolve.vector_env.sharded import ShardedVectorEnv, WorkerPool, shard_sizes


def _play(env, steps, seed=0):
    """``steps`` uniformly random batched steps; the rewards and observations seen."""
    rng = np.random.default_rng(seed)
    ts = env.reset()
    rewards, observations = [], [ts.observation.copy()]
    for _ in range(steps):
        u = rng.random(ts.legal.shape) * ts.legal
        ts = env.step(np.argmax(u, axis=1))
        rewards.append(ts.reward.copy())
        observations.append(ts.observation.copy())
    return np.stack(rewards), np.stack(observations)


def test_shard_sizes():
    assert shard_sizes(10, 3) == [4, 3, 3]
    assert shard_sizes(4, 4) == [1, 1, 1, 1]


@pytest.fixture(scope="module")
def local_pool():
    pool = WorkerPool(2)
    yield pool
    pool.close()


def test_local_shards_match_uniform_value_and_reseed(local_pool):
    kuhn = gamesolve.load_game("kuhn")
    env = ShardedVectorEnv("kuhn_poker", num_envs=64, seed=3, pool=local_pool)
    assert env.num_envs == 64 and env.num_players == 2 and env.observation_size == 11
    rewards, _ = _play(env, 3_000)
    done_rewards = rewards[:, :, 0][rewards[:, :, 0] != 0]
    exact = gamesolve.expected_values(gamesolve.as_compiled(kuhn), gamesolve.uniform_policy(kuhn))[0]
    stderr = done_rewards.std() / np.sqrt(done_rewards.size)
    # Kuhn never pays 0, so the nonzero rewards are every finished episode's
    assert abs(done_rewards.mean() - exact) < 4 * stderr
    assert env.episodes >= done_rewards.size
    # the same pool builds the next environment; the same seed gives the same stream
    first, _ = _play(ShardedVectorEnv("kuhn_poker", num_envs=64, seed=3, pool=local_pool), 50)
    second, _ = _play(ShardedVectorEnv("kuhn_poker", num_envs=64, seed=3, pool=local_pool), 50)
    np.testing.assert_array_equal(first, second)
    other, _ = _play(ShardedVectorEnv("kuhn_poker", num_envs=64, seed=4, pool=local_pool), 50)
    assert not np.array_equal(first, other)


def test_ray_and_local_give_the_same_stream(local_pool, caplog):
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    try:
        local, local_obs = _play(ShardedVectorEnv("leduc_poker", num_envs=32, seed=5, pool=local_pool), 200)
        env = gamesolve.vector_env("leduc_poker", num_envs=32, seed=5, workers=2, executor="ray")
        try:
            remote, remote_obs = _play(env, 200)
        finally:
            env.close()
        np.testing.assert_array_equal(local, remote)
        np.testing.assert_array_equal(local_obs, remote_obs)
        cpus = int(ray.cluster_resources()["CPU"])
        with caplog.at_level(logging.WARNING):
            crowded = gamesolve.vector_env("kuhn_poker", num_envs=8, workers=cpus + 1, executor="ray")
        try:
            assert _play(crowded, 3)[0].shape == (3, 8, 2)  # more actors than CPUs still run
        finally:
            crowded.close()
        assert "share cores" in caplog.text
    finally:
        if started:
            ray.shutdown()


def test_bad_options_and_failures(local_pool):
    with pytest.raises(InvalidArgumentError, match="workers"):
        gamesolve.vector_env("kuhn_poker", num_envs=4, workers=0)
    with pytest.raises(InvalidArgumentError, match="executor"):
        gamesolve.vector_env("kuhn_poker", num_envs=4, workers=2, executor="threads")
    with pytest.raises(InvalidArgumentError, match="workers=N"):
        gamesolve.vector_env("kuhn_poker", num_envs=4, executor="ray")
    with pytest.raises(InvalidArgumentError, match="num_envs"):
        ShardedVectorEnv("kuhn_poker", num_envs=1, seed=0, pool=local_pool)
    with pytest.raises(GamesolveError, match="worker"):
        ShardedVectorEnv("no_such_game_xyz", num_envs=4, seed=0, pool=local_pool)
    env = ShardedVectorEnv("kuhn_poker", num_envs=4, seed=0, pool=local_pool)
    with pytest.raises(InvalidArgumentError, match="reset"):
        env.step(np.zeros(4, dtype=np.int64))
    env.reset()
    with pytest.raises(InvalidArgumentError, match="actions"):
        env.step(np.zeros(3, dtype=np.int64))
    # the pool survives a failed build and keeps working
    assert _play(ShardedVectorEnv("kuhn_poker", num_envs=4, seed=0, pool=local_pool), 5)[0].shape == (5, 4, 2)


def test_games_are_sent_by_name(local_pool):
    from gamesolve.vector_env.sharded import game_name

    assert game_name(gamesolve.load_game("leduc(ranks=4,suits=2)")) == "leduc(ranks=4)"
    env = ShardedVectorEnv(gamesolve.load_game("kuhn_poker"), num_envs=4, seed=0, pool=local_pool)
    assert env.spec.name == "kuhn_poker"
    pettingzoo = pytest.importorskip("pettingzoo.classic")
    game = gamesolve.from_pettingzoo(pettingzoo.tictactoe_v3.env)
    with pytest.raises(InvalidArgumentError, match="load their game by name"):
        ShardedVectorEnv(game, num_envs=4, seed=0, pool=local_pool)


def test_own_pool_is_closed_with_the_environment():
    env = gamesolve.vector_env("kuhn_poker", num_envs=6, seed=0, workers=2)
    _play(env, 3)
    env.close()
    assert env.pool.closed
    with pytest.raises(GamesolveError, match="closed"):
        env.reset()


def test_learner_rollouts_on_workers_match_across_executors():
    pytest.importorskip("torch")
    ray = pytest.importorskip("ray")
    options = {"iterations": 3, "num_envs": 32, "rollout_length": 4, "seed": 0, "progress": False}
    local = gamesolve.solve("kuhn_poker", "ppo", rollout_workers=2, eval_every=1, **options)
    assert local.config["rollout_workers"] == 2 and "rollout_executor" not in local.config
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    try:
        remote = gamesolve.solve(
            "kuhn_poker", "ppo", rollout_workers=2, rollout_executor="ray", eval_every=1, **options
        )
    finally:
        if started:
            ray.shutdown()
    assert remote.history.exploitability == local.history.exploitability
    with pytest.raises(InvalidArgumentError, match="rollout_workers"):
        gamesolve.solve("kuhn_poker", "ppo", rollout_workers=-1, iterations=1)
    with pytest.raises(InvalidArgumentError, match="rollout_executor"):
        gamesolve.solve("kuhn_poker", "ppo", rollout_workers=2, rollout_executor="dask", iterations=1)
