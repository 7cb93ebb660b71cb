"""The single-agent environment view (gamesolve.rl_env) and the torch DQN / PPO oracles.

Reference values: the environment's mean returns are checked against exact expected values
(gamesolve.expected_values); the oracles' responses are tabulated and evaluated exactly against the
exact best-response value (gamesolve.best_response). Budgets are small (CPU, a few seconds each).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import InvalidPolicyError, UnsupportedGame
from gamesolve.rl_env import ResponseEnv, infoset_features, sample_returns, tabular_actor

torch = pytest.importorskip("torch")
rl = pytest.importorskip("gamesolve.solvers.rl_oracles")


@pytest.fixture(scope="module")
def kuhn_game():
    return gamesolve.as_compiled(gamesolve.load_game("kuhn"))


@pytest.fixture(scope="module")
def leduc_game():
    return gamesolve.as_compiled(gamesolve.load_game("leduc"))


@pytest.fixture(scope="module")
def kuhn_cfr50(kuhn_game):
    return gamesolve.solve(kuhn_game, "cfr", iterations=50, progress=False).average_policy


def _within_4_se(returns, exact):
    se = returns.std(ddof=1) / np.sqrt(returns.size)
    assert se > 0
    assert abs(returns.mean() - exact) <= 4 * se, (returns.mean(), exact, se)


# ------------------------------------------------------------------------------ environment


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
@pytest.mark.parametrize("player", [0, 1])
def test_env_uniform_return_matches_exact_value(name, player):
    game = gamesolve.as_compiled(gamesolve.load_game(name))
    uniform = gamesolve.uniform_policy(game)
    env = ResponseEnv(game, player, [uniform])
    returns = sample_returns(env, tabular_actor(uniform), 100_000, np.random.default_rng(player))
    _within_4_se(returns, gamesolve.expected_values(game, uniform)[player])


def test_env_mixture_return_is_the_weighted_value(kuhn_game):
    # BR-to-a-mixture: one opponent member per episode, drawn with the weights.
    uniform = gamesolve.uniform_policy(kuhn_game)
    first = gamesolve.TabularPolicy.first_action(kuhn_game)
    learner = gamesolve.TabularPolicy.random(kuhn_game, rng=np.random.default_rng(3))
    w = np.array([0.3, 0.7])
    exact = sum(
        wk * gamesolve.expected_values(kuhn_game, opp.with_player(1, learner))[1]
        for wk, opp in zip(w, (uniform, first), strict=True)
    )
    env = ResponseEnv(kuhn_game, 1, [uniform, first], w, num_envs=7)
    returns = sample_returns(env, tabular_actor(learner), 100_000, np.random.default_rng(0))
    _within_4_se(returns, exact)
    # and far from either member alone (the test would be vacuous otherwise)
    alone = [gamesolve.expected_values(kuhn_game, o.with_player(1, learner))[1] for o in (uniform, first)]
    assert min(abs(a - exact) for a in alone) > 0.05


@pytest.mark.parametrize("draw", ["profile", "seat"])
def test_env_three_players_profile_or_seat_draws(draw):
    game = gamesolve.as_compiled(gamesolve.load_game("kuhn(players=3)"))
    a = gamesolve.TabularPolicy.first_action(game)  # always pass
    bet = np.zeros((game.num_infosets, 2))
    bet[:, 1] = 1.0
    b = gamesolve.TabularPolicy(game, bet)  # always bet
    learner = gamesolve.uniform_policy(game)
    w = [0.5, 0.5]

    def value(seat1, seat2):
        return gamesolve.expected_values(game, seat1.with_player(2, seat2).with_player(0, learner))[0]

    correlated = 0.5 * value(a, a) + 0.5 * value(b, b)
    independent = sum(0.25 * value(x, y) for x in (a, b) for y in (a, b))
    assert abs(correlated - independent) > 0.1  # 0.375 and 0.25
    env = ResponseEnv(game, 0, [a, b], w, draw=draw)
    returns = sample_returns(env, tabular_actor(learner), 100_000, np.random.default_rng(1))
    _within_4_se(returns, correlated if draw == "profile" else independent)


def test_env_autoreset_batches_and_counts(leduc_game):
    uniform = gamesolve.uniform_policy(leduc_game)
    env = ResponseEnv(leduc_game, 0, [uniform], num_envs=16)
    rng = np.random.default_rng(0)
    step = env.reset(rng)
    assert step.observation.shape == (16, 468) and step.observation.dtype == np.float32
    assert step.legal.shape == (16, 3) and step.legal.any(axis=1).all()
    assert np.all(step.observation.sum(axis=1) == 1.0)  # one-hot of the infoset
    done = 0
    for _ in range(200):
        step = env.step(tabular_actor(uniform)(step, rng), rng)
        assert step.legal.any(axis=1).all()  # autoreset: every slot waits on a decision
        assert np.all(step.reward[~step.done] == 0.0)
        done += int(step.done.sum())
    assert done == env.finished_episodes > 0


def test_env_rejects_illegal_actions_and_bad_input(kuhn_game, leduc_game):
    uniform = gamesolve.uniform_policy(kuhn_game)
    env = ResponseEnv(kuhn_game, 0, [uniform], num_envs=2)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="reset"):
        env.step(np.zeros(2, dtype=np.int64), rng)
    env.reset(rng)
    with pytest.raises(ValueError, match="illegal"):
        env.step(np.array([0, 2]), rng)
    with pytest.raises(ValueError, match="player"):
        ResponseEnv(kuhn_game, 2, [uniform])
    with pytest.raises(InvalidPolicyError, match="different game"):
        ResponseEnv(leduc_game, 0, [uniform])
    with pytest.raises(InvalidPolicyError):
        ResponseEnv(kuhn_game, 0, [np.ones((12, 3))])
    with pytest.raises(ValueError, match="weights"):
        ResponseEnv(kuhn_game, 0, [uniform], [0.5, 0.5])
    with pytest.raises(ValueError, match="features"):
        ResponseEnv(kuhn_game, 0, [uniform], features=np.zeros((5, 3)))
    with pytest.raises(ValueError, match="features"):
        ResponseEnv(kuhn_game, 0, [uniform], features="pixels")
    with pytest.raises(UnsupportedGame):
        ResponseEnv(object(), 0, [uniform])


def test_infoset_features(kuhn_game, leduc_game):
    for game in (kuhn_game, leduc_game):
        for p in range(2):
            n = game.infosets_of(p).size
            assert np.array_equal(infoset_features(game, p, "onehot"), np.eye(n))
            tokens = infoset_features(game, p, "tokens")
            # poker infosets are told apart by (own card, public card, betting): tokens are exact
            assert np.unique(tokens, axis=0).shape[0] == n
            assert np.array_equal(infoset_features(game, p, "auto"), tokens)
            assert infoset_features(game, p, "onehot+tokens").shape == (n, n + tokens.shape[1])
    # Kuhn, player 1: own card (3 values) and player 0's move (2 values) are known
    assert infoset_features(kuhn_game, 1, "tokens").sum(axis=1).tolist() == [2.0] * 6


def test_env_normal_form_game():
    game = gamesolve.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    opponent = np.array([0.5, 0.3, 0.2])  # column player over R, P, S
    env = ResponseEnv(game, 0, [opponent])
    learner = np.array([0.2, 0.2, 0.6])
    exact = float(learner @ game.payoffs[0] @ opponent)
    probs = np.zeros((2, 3))
    probs[0] = learner
    probs[1] = opponent
    returns = sample_returns(env, tabular_actor(probs), 100_000, np.random.default_rng(0))
    _within_4_se(returns, exact)
    trained = rl.DQNOracle().train(game, 0, [opponent], seed=0, steps=3_000)
    assert trained.tabulate().probs[0].tolist() == [0.0, 1.0, 0.0]  # paper beats the rock-heavy mix
    with pytest.raises(UnsupportedGame, match="two-player"):
        ResponseEnv(gamesolve.normal_form_game(np.zeros((3, 2, 2, 2))), 0, [np.ones(2) / 2])


# ---------------------------------------------------------------------------------- oracles


def _gap(game, policy, trained, player):
    value = gamesolve.expected_values(game, trained.tabulate(base=policy))[player]
    best = gamesolve.best_response(game, policy, player).value
    assert value <= best + 1e-9  # a response is never better than the best response
    return best - value


@pytest.mark.parametrize("player", [0, 1])
def test_dqn_kuhn_against_uniform_and_cfr(kuhn_game, kuhn_cfr50, player):
    oracle = rl.dqn_oracle()
    for policy in (gamesolve.uniform_policy(kuhn_game), kuhn_cfr50):
        trained = oracle.train(kuhn_game, player, [policy], np.ones(1), seed=0, steps=20_000)
        assert trained.steps == 20_000 and trained.curve.shape[1] == 2
        assert _gap(kuhn_game, policy, trained, player) <= 0.05


@pytest.mark.parametrize("player", [0, 1])
def test_ppo_kuhn_against_uniform_and_cfr(kuhn_game, kuhn_cfr50, player):
    oracle = rl.ppo_oracle()
    for policy in (gamesolve.uniform_policy(kuhn_game), kuhn_cfr50):
        trained = oracle.train(kuhn_game, player, [policy], seed=0, steps=20_000)
        # the tabulated policy is PPO's own (stochastic) policy, entropy annealed to 0
        assert _gap(kuhn_game, policy, trained, player) <= 0.05


def test_oracle_against_a_mixture_reaches_the_mixture_best_response(kuhn_game):
    first = gamesolve.TabularPolicy.first_action(kuhn_game)
    rng = np.random.default_rng(1)
    other = gamesolve.TabularPolicy.random(kuhn_game, rng=rng)
    from gamesolve.mixture import mix_policies

    w = [0.6, 0.4]
    mixed = mix_policies(kuhn_game, [first, other], w, player=1, base=first)
    trained = rl.DQNOracle().train(kuhn_game, 0, [first, other], w, seed=0, steps=20_000)
    assert _gap(kuhn_game, mixed, trained, 0) <= 0.05


@pytest.mark.parametrize("factory", ["dqn_oracle", "ppo_oracle"])
def test_same_seed_same_weights(kuhn_game, factory):
    oracle = getattr(rl, factory)(num_envs=16)
    uniform = gamesolve.uniform_policy(kuhn_game)
    a = oracle.train(kuhn_game, 1, [uniform], seed=7, steps=2_000).state_arrays()
    b = oracle.train(kuhn_game, 1, [uniform], seed=7, steps=2_000).state_arrays()
    c = oracle.train(kuhn_game, 1, [uniform], seed=8, steps=2_000).state_arrays()
    weights = [k for k in a if k[0] in "wb" and k[1:].isdigit()]
    assert weights
    assert all(np.array_equal(a[k], b[k]) for k in weights)
    assert not all(np.array_equal(a[k], c[k]) for k in weights)


def test_state_arrays_roundtrip_and_acting(kuhn_game, leduc_game):
    uniform = gamesolve.uniform_policy(kuhn_game)
    for kind in ("dqn", "ppo"):
        oracle = rl.dqn_oracle() if kind == "dqn" else rl.ppo_oracle()
        trained = oracle.train(kuhn_game, 0, [uniform], seed=0, steps=2_000)
        arrays = trained.state_arrays()
        assert all(isinstance(v, np.ndarray) for v in arrays.values())
        loaded = rl.load_response(arrays, kuhn_game)
        assert np.array_equal(loaded.tabulate().probs, trained.tabulate().probs)
        assert rl.tabulate(loaded, kuhn_game, 0).probs.shape == (12, 2)
        rng = np.random.default_rng(0)
        obs = trained.features[0]
        slot = trained.act(0, obs, np.array([0, 1]), rng)
        assert slot in (0, 1)
        assert trained.act(0, obs, np.array([1]), rng) == 1  # only slot 1 legal
        with pytest.raises(ValueError, match="player 0"):
            trained.act(1, obs, np.array([0, 1]), rng)
        with pytest.raises(InvalidPolicyError):
            rl.load_response(arrays, leduc_game)
        with pytest.raises(InvalidPolicyError):
            trained.tabulate(leduc_game)
    with pytest.raises(InvalidPolicyError, match="not a saved"):
        rl.load_response({"w0": np.zeros(2)}, kuhn_game)


def test_bad_configuration_and_input(kuhn_game, leduc_game):
    with pytest.raises(ValueError, match="hidden"):
        rl.DQNOracle(hidden=())
    with pytest.raises(ValueError, match="device"):
        rl.PPOOracle(device="tpu")
    with pytest.raises(ValueError, match="features"):
        rl.DQNOracle(features="pixels")
    with pytest.raises(ValueError, match="clip"):
        rl.PPOOracle(clip=-1)
    with pytest.raises(gamesolve.InvalidArgumentError, match=r"'learning_rat'; known options: hidden, "):
        rl.dqn_oracle(learning_rat=1e-3)
    uniform = gamesolve.uniform_policy(kuhn_game)
    with pytest.raises(ValueError, match="steps"):
        rl.DQNOracle().train(kuhn_game, 0, [uniform], seed=0, steps=0)
    with pytest.raises(ValueError, match="player"):
        rl.DQNOracle().train(kuhn_game, 3, [uniform], seed=0, steps=100)
    with pytest.raises(InvalidPolicyError):
        rl.PPOOracle().train(leduc_game, 0, [uniform], seed=0, steps=100)


def test_device_auto_runs_on_cpu_without_cuda(kuhn_game):
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the auto device is tested on the GPU machine")
    trained = rl.DQNOracle(device="auto").train(
        kuhn_game, 0, [gamesolve.uniform_policy(kuhn_game)], seed=0, steps=500
    )
    assert trained.config["device"] == "auto"


def test_env_and_bounds_modules_do_not_import_torch():
    code = (
        "import json, sys, gamesolve, gamesolve.rl_env, gamesolve.lower_bounds\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "gamesolve.lower_bounds" in loaded
    assert not any(m.split(".")[0] in ("torch", "solvers") for m in loaded)
