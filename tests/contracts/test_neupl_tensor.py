"""NeuPL on batched tensor environments (``backend="tensor"``): any game, one conditional network.

Checks: the matches a :class:`ConditionedEnv` deals follow the interaction graph and each seat reads
its own row's ``sigma``; the exact meta-game on a compiled game equals the exact values of the
members the run reports (and sampled entries fall within their stated intervals); the learned
payoff estimator agrees with exact values; training beats uniform play on Kuhn (exploitability
11/24); a resumed run equals an uninterrupted one; a game that does not compile runs (``auto``);
members save and load as policy files; bad input is refused before any work.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import CheckpointError, GameTooLargeError, InvalidArgumentError, UnsupportedGame
from gamesolve.population import meta_game_entries
from gamesolve.solvers.neupl import NeuPL
from gamesolve.solvers.neupl.arenas import seat_average

pytest.importorskip("torch")

KUHN_UNIFORM_EXPLOITABILITY = 11.0 / 24.0
SMALL = {"backend": "tensor", "max_population": 4, "episodes": 64, "patience": 1}


@pytest.fixture(scope="module")
def kuhn():
    return gamesolve.load_game("kuhn_poker")


def _exact_payoffs(game, result):
    compiled = gamesolve.as_compiled(game)
    population = result.extras["population"]
    return seat_average(meta_game_entries(compiled, population, executor="inprocess", exact=True))


def test_conditioned_env_follows_the_graph(kuhn):
    from gamesolve.solvers.neupl.tensor import ConditionedEnv

    graph = np.zeros((3, 3))
    graph[1, 0] = 1.0  # row 1 answers row 0
    graph[2, :2] = [0.25, 0.75]  # row 2 answers a mixture of rows 0 and 1
    rng = np.random.default_rng(0)
    env = ConditionedEnv(gamesolve.vector_env(kuhn, num_envs=256, seed=0), graph, np.array([1, 2]), 3, rng, 4)
    base = env.env.observation_size
    ts = env.reset()
    assert ts.observation.shape == (256, base + 3)
    opponents = {1: set(), 2: set()}
    for _ in range(12):
        learner, seat = env.learner.copy(), env.history[-1]
        assert set(np.unique(learner)) <= {1, 2}
        mine = ts.player == seat
        sigma = ts.observation[:, base:]
        np.testing.assert_array_equal(sigma[mine], graph[learner[mine]].astype(np.float32))
        np.testing.assert_array_equal(sigma[~mine], graph[env.opponent[~mine]].astype(np.float32))
        for row in (1, 2):
            opponents[row] |= set(env.opponent[learner == row].tolist())
        legal = ts.legal
        ts = env.step(np.argmax(legal, axis=1))
    assert opponents[1] == {0} and opponents[2] == {0, 1}
    learner, opponent, ret = env.match_outcomes()
    assert learner.size == opponent.size == ret.size > 0
    assert np.all((opponent == 0) | (learner == 2))
    env.close()


def test_exact_meta_game_is_that_of_the_reported_members(kuhn):
    result = gamesolve.solve(kuhn, NeuPL(**SMALL), iterations=6, seed=3, progress=False)
    assert result.extras["backend"] == "tensor" and result.config["training"] == "rl"
    assert result.extras["meta_game"].exact
    np.testing.assert_allclose(result.extras["payoffs"], _exact_payoffs(kuhn, result), atol=1e-9)
    assert result.exploitability == pytest.approx(gamesolve.exploitability(kuhn, result.policy.tabulate()))


def test_sampled_meta_game_within_its_intervals(kuhn):
    result = gamesolve.solve(kuhn, NeuPL(**SMALL, meta_episodes=2000), iterations=4, seed=4, progress=False)
    meta = result.extras["meta_game"]
    assert not meta.exact
    exact = _exact_payoffs(kuhn, result)
    n = exact.shape[0]
    off = ~np.eye(n, dtype=bool)
    assert np.all(meta.counts[off] == 2000)
    z = np.abs(result.extras["payoffs"] - exact)[off] / meta.stderr[0][off]
    assert z.max() < 4.5, z


def test_learned_payoffs_track_exact_values(kuhn):
    result = gamesolve.solve(
        kuhn,
        NeuPL(backend="tensor", payoff_estimate="learned", max_population=3, episodes=256, patience=2),
        iterations=25,
        seed=1,
        progress=False,
    )
    exact = _exact_payoffs(kuhn, result)
    assert result.extras["population_size"] == 3
    assert result.extras["evaluation_steps"] == 0  # no evaluation matches
    assert np.abs(result.extras["payoffs"] - exact).max() < 0.15  # the payoffs span about 0.4
    assert np.sign(result.extras["payoffs"][1, 0]) == np.sign(exact[1, 0]) == 1.0


def test_training_beats_uniform_play(kuhn):
    result = gamesolve.solve(kuhn, NeuPL(**SMALL), iterations=25, seed=0, progress=False)
    assert result.exploitability < KUHN_UNIFORM_EXPLOITABILITY - 0.05
    assert result.extras["env_steps"] > 0 and result.extras["episodes"] > 0
    assert result.history.exploitability[0] == pytest.approx(KUHN_UNIFORM_EXPLOITABILITY, abs=0.02)


@pytest.mark.parametrize(("estimate", "every"), [("matches", 1), ("learned", 1), ("matches", 2)])
def test_resume_equals_uninterrupted(kuhn, tmp_path, estimate, every):
    options = {**SMALL, "payoff_estimate": estimate, "payoff_every": every}
    full = gamesolve.solve(kuhn, NeuPL(**options), iterations=6, seed=5, progress=False)
    ckpt = tmp_path / "neupl.npz"
    gamesolve.solve(kuhn, NeuPL(**options), iterations=3, seed=5, checkpoint=ckpt, progress=False)
    resumed = gamesolve.solve(kuhn, NeuPL(**options), iterations=6, seed=5, resume=ckpt, progress=False)
    np.testing.assert_array_equal(resumed.extras["payoffs"], full.extras["payoffs"])
    np.testing.assert_array_equal(resumed.history.exploitability, full.history.exploitability)
    assert resumed.extras["joined"] == full.extras["joined"]
    assert resumed.extras["env_steps"] == full.extras["env_steps"]
    with pytest.raises(CheckpointError, match="config"):
        gamesolve.solve(kuhn, NeuPL(**{**options, "rollout_length": 3}), iterations=6, seed=5, resume=ckpt)


def test_a_game_that_does_not_compile_runs_on_tensors(tmp_path):
    game = gamesolve.load_game("connect_four")
    result = gamesolve.solve(
        game,
        NeuPL(max_population=3, episodes=16, rollout_length=3, meta_episodes=4),
        iterations=2,
        seed=0,
        progress=False,
    )
    assert result.extras["backend"] == "tensor"
    assert np.isnan(result.exploitability) and np.isnan(result.nash_conv)
    assert -1.0 <= result.extras["score_vs_uniform"] <= 1.0
    member = result.extras["members"][-1]
    path = member.save(tmp_path / "member.pt")
    loaded = gamesolve.load_policy(path, game="connect_four")
    env = gamesolve.vector_env(game, num_envs=4, seed=1, observation=loaded.observation_kind)
    ts = env.reset()
    np.testing.assert_allclose(
        loaded.action_probs(ts.observation, ts.legal), member.action_probs(ts.observation, ts.legal)
    )


def test_conditional_policy_on_tensors(kuhn):
    solver = NeuPL(**SMALL)
    game = solver.prepare(kuhn)
    solver.check(game.spec)
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, 2)
    env = gamesolve.vector_env(kuhn, num_envs=8, seed=0)
    ts = env.reset()
    row = solver.conditional_policy(game, state, state["graph"][1][:2])
    member = solver.describe(game, state)["members"][1]
    np.testing.assert_allclose(
        row.action_probs(ts.observation, ts.legal), member.action_probs(ts.observation, ts.legal), atol=1e-6
    )
    initial = solver.conditional_policy(game, state, [0.0])
    probs = initial.action_probs(ts.observation, ts.legal)
    np.testing.assert_allclose(probs, ts.legal / ts.legal.sum(axis=1, keepdims=True), atol=1e-6)


def test_bad_input_is_refused_before_work(kuhn):
    with pytest.raises(InvalidArgumentError, match="policy='network'"):
        NeuPL(backend="tensor", policy="tabular")
    with pytest.raises(InvalidArgumentError, match="training='rl'"):
        NeuPL(backend="tensor", training="exact")
    with pytest.raises(InvalidArgumentError, match="backend"):
        NeuPL(backend="gpu")
    with pytest.raises(InvalidArgumentError, match="payoff_estimate"):
        NeuPL(payoff_estimate="guess")
    with pytest.raises(InvalidArgumentError, match="rollout_length"):
        NeuPL(rollout_length=0)
    with pytest.raises(UnsupportedGame, match="extensive-form"):
        gamesolve.solve(gamesolve.load_game("rps"), NeuPL(backend="tensor"), iterations=1)
    with pytest.raises(GameTooLargeError, match="backend='tensor'"):
        gamesolve.solve(gamesolve.load_game("connect_four"), NeuPL(backend="tree"), iterations=1)
    with pytest.raises(GameTooLargeError, match="backend='tensor'"):
        gamesolve.solve(gamesolve.load_game("connect_four"), NeuPL(training="exact"), iterations=1)


def test_cli_on_tensors(tmp_path, capsys):
    from gamesolve.cli import main

    out = tmp_path / "result.json"
    members = tmp_path / "members"
    code = main(
        [
            "neupl",
            "kuhn_poker",
            "--backend",
            "tensor",
            "--payoff-estimate",
            "learned",
            "--iterations",
            "2",
            "--max-population",
            "3",
            "--set",
            "episodes=32",
            "--no-progress",
            "--json",
            str(out),
            "--members-out",
            str(members),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "exploitability" in printed and "env steps" in printed
    summary = json.loads(out.read_text())
    assert summary["backend"] == "tensor" and summary["config"]["payoff_estimate"] == "learned"
    assert sorted(p.name for p in members.iterdir())[:2] == ["p0_initial.pt", "p0_pi2.pt"]


def test_neural_mmd_learner(kuhn):
    solver = NeuPL(learner="neural-mmd", max_population=3, episodes=64)
    result = gamesolve.solve(kuhn, solver, iterations=10, seed=0, progress=False)
    assert result.extras["backend"] == "tensor" and result.config["learner"] == "neural-mmd"
    assert result.exploitability < KUHN_UNIFORM_EXPLOITABILITY
    with pytest.raises(InvalidArgumentError, match="learner"):
        NeuPL(learner="neural-mmd", backend="tree")
    with pytest.raises(InvalidArgumentError, match="learner"):
        NeuPL(learner="dqn")


def test_rl_bound_of_the_population_mixture(kuhn):
    """The RL lower bound takes a mixture per seat (one member drawn per episode), as on big games."""
    from gamesolve.solvers.psro.networks import NetworkMixture

    result = gamesolve.solve(kuhn, NeuPL(**SMALL), iterations=8, seed=0, progress=False)
    members = result.extras["members"]
    weights = np.full(len(members), 1.0 / len(members))  # every member drawn: a real mixture
    mixture = NetworkMixture((members, members), (weights, weights), result.policy.game)
    exact = gamesolve.nash_conv(kuhn, mixture.tabulate())
    bound = gamesolve.rl_exploitability_bound(
        kuhn, mixture, oracle="mc", steps=200_000, episodes=20_000, on_policy="sampled", seed=0
    )
    assert bound.ci_low <= exact.nash_conv + 0.02
    assert bound.nash_conv == pytest.approx(exact.nash_conv, abs=0.08)
    np.testing.assert_allclose(bound.on_policy_values, exact.on_policy_values, atol=0.05)


def test_rollout_workers_give_the_same_run_and_stop_with_the_report(kuhn):
    import multiprocessing as mp

    options = {**SMALL, "max_population": 3}
    workers = gamesolve.solve(kuhn, NeuPL(**options, rollout_workers=2), iterations=3, seed=0, progress=False)
    assert workers.extras["env_steps"] > 0 and workers.config["rollout_workers"] == 2
    assert not [p.name for p in mp.active_children() if p.name.startswith("gamesolve-rollout")]
    again = gamesolve.solve(kuhn, NeuPL(**options, rollout_workers=2), iterations=3, seed=0, progress=False)
    np.testing.assert_array_equal(again.extras["payoffs"], workers.extras["payoffs"])
