"""Contracts of gamesolve.executors: in-process, local process pool and Ray give identical results.

The Ray tests share one local Ray instance (2 CPUs, no dashboard) started by a module fixture and
shut down after the module. Oracle: the in-process executor; the same tournament seed must give
bit-identical meta-games on every executor.
"""

from __future__ import annotations

import logging
import socket
import sys
import time

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import GamesolveError
from gamesolve.executors import InProcessExecutor, LocalExecutor, RayExecutor, make_executor
from gamesolve.tournament import tournament


@pytest.fixture(scope="module")
def leduc_pair(leduc):
    cfr = gamesolve.solve(leduc, "cfr+", iterations=100, progress=False).average_policy
    return {"cfr+": cfr, "uniform": gamesolve.uniform_policy(leduc)}


@pytest.fixture(scope="module")
def local_pool():
    with LocalExecutor(2) as pool:
        yield pool


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    from ray import cloudpickle

    # Ray workers cannot import this test module: ship its functions (the policies) by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    yield ray
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    if started:
        ray.shutdown()


def _random(player, observation, legal, rng):
    return int(rng.choice(legal))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_executor_names_and_objects():
    assert isinstance(make_executor("inprocess"), InProcessExecutor)
    local = make_executor("local", workers=2)
    assert isinstance(local, LocalExecutor) and local.workers == 2
    local.close()  # never started: a no-op
    custom = InProcessExecutor()
    assert make_executor(custom) is custom
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("threads")
    with pytest.raises(ValueError, match="workers"):
        LocalExecutor(0)
    with pytest.raises(TypeError, match="map"):
        make_executor(42)  # type: ignore[arg-type]


def test_local_pool_preserves_order(local_pool):
    tasks = list(range(-30, 0))
    assert local_pool.map(abs, tasks) == [abs(t) for t in tasks]
    assert local_pool.map(abs, []) == []


def test_compiled_tournament_is_identical_in_process_and_in_a_pool(leduc, leduc_pair, local_pool):
    reference = tournament(leduc, leduc_pair, episodes=100_000, seed=3, executor="inprocess")
    pooled = tournament(leduc, leduc_pair, episodes=100_000, seed=3, executor=local_pool)
    assert np.array_equal(reference.payoffs, pooled.payoffs)
    assert np.array_equal(reference.stderr, pooled.stderr)


def test_python_loop_tournament_is_identical_in_a_pool(local_pool):
    pz = pytest.importorskip("gamesolve.games.pettingzoo")
    classic = pytest.importorskip("pettingzoo.classic")
    game = pz.from_pettingzoo(classic.tictactoe_v3.env, utility="zero_sum")
    reference = tournament(game, {"random": _random}, episodes=64, seed=1, executor="inprocess")
    pooled = tournament(game, {"random": _random}, episodes=64, seed=1, executor=local_pool)
    assert np.array_equal(reference.payoffs, pooled.payoffs)


def test_small_jobs_skip_the_pool_and_unpicklable_policies_fall_back(kuhn, monkeypatch, caplog):
    module = sys.modules["gamesolve.population.backend"]  # where tournaments plan their matches

    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started for a tiny tournament")

    monkeypatch.setattr(module, "make_executor", no_pool)
    pair = {"u": gamesolve.uniform_policy(kuhn), "f": gamesolve.TabularPolicy.first_action(kuhn)}
    meta = tournament(kuhn, pair, episodes=5000)  # default executor "local"
    assert np.all(meta.counts == 5000)
    from gamesolve.games.markov import random_markov

    game = random_markov(states=3, actions=2, successors=2, seed=0, discount=0.5)
    monkeypatch.setattr(module, "_POOL_MIN_SECONDS", 0.0)
    with caplog.at_level(logging.WARNING, logger="gamesolve.population.backend"):
        meta = tournament(game, {"lambda": lambda p, o, legal, rng: int(legal[0])}, episodes=100)
    assert "cannot be pickled" in caplog.text and meta.counts[0, 0] == 100


def test_unreachable_ray_address_fails_fast_and_names_it(kuhn):
    pytest.importorskip("ray")
    address = f"127.0.0.1:{_free_port()}"
    start = time.perf_counter()
    with pytest.raises(GamesolveError, match=address.replace(".", r"\.")):
        RayExecutor(address)
    with pytest.raises(GamesolveError, match="cannot reach the Ray cluster"):
        tournament(kuhn, [gamesolve.uniform_policy(kuhn)], episodes=10, executor="ray", address=address)
    with pytest.raises(GamesolveError, match=r"192\.0\.2\.1"):  # TEST-NET-1: never routed
        RayExecutor("ray://192.0.2.1:10001", connect_timeout=0.5)
    with pytest.raises(GamesolveError, match="host:port"):
        RayExecutor("not an address:x")
    assert time.perf_counter() - start < 10.0


def test_ray_executor_gives_identical_results(ray_instance, leduc, leduc_pair):
    executor = RayExecutor()  # joins the instance started by the fixture
    assert executor.map(abs, list(range(-12, 0))) == list(range(12, 0, -1))
    reference = tournament(leduc, leduc_pair, episodes=100_000, seed=3, executor="inprocess")
    on_ray = tournament(leduc, leduc_pair, episodes=100_000, seed=3, executor=executor)
    assert np.array_equal(reference.payoffs, on_ray.payoffs)
    assert np.array_equal(reference.stderr, on_ray.stderr)
    by_name = tournament(leduc, leduc_pair, episodes=100_000, seed=3, executor="ray")
    assert np.array_equal(reference.payoffs, by_name.payoffs)
    executor.close()
    assert ray_instance.is_initialized()  # the executor did not start it, so it leaves it running


def test_ray_python_loop_tournament(ray_instance):
    pz = pytest.importorskip("gamesolve.games.pettingzoo")
    classic = pytest.importorskip("pettingzoo.classic")
    game = pz.from_pettingzoo(classic.tictactoe_v3.env, utility="zero_sum")
    reference = tournament(game, {"random": _random}, episodes=64, seed=2, executor="inprocess")
    on_ray = tournament(game, {"random": _random}, episodes=64, seed=2, executor="ray")
    assert np.array_equal(reference.payoffs, on_ray.payoffs)
