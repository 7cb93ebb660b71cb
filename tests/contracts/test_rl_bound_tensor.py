"""The tensor backend of rl_exploitability_bound: RL best responses on the batched environment.

Kuhn and Leduc (compiled, exact NashConv known): the interval covers or sits below the exact value
and is clearly positive for uniform play; connect_four (does not compile): a tiny budget gives a
finite interval; the response environment's on-policy returns match exact values; bad options are
named; the table backend is still what ``backend="auto"`` picks on small tabular inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import InvalidArgumentError, InvalidPolicyError
from gamesolve.lower_bounds import rl_exploitability_bound

torch = pytest.importorskip("torch")

from gamesolve.neural import MLP, NeuralPolicy  # noqa: E402
from gamesolve.solvers.rl_oracles import DQNOracle, PPOOracle  # noqa: E402
from gamesolve.vector_env.response import (  # noqa: E402
    TensorResponse,
    VectorResponseEnv,
    fixed_learner,
    sample_seat_returns,
)

SMALL = {"hidden": [32], "num_envs": 64}


@pytest.fixture(scope="module")
def kuhn():
    return gamesolve.as_compiled(gamesolve.load_game("kuhn"))


@pytest.fixture(scope="module")
def leduc():
    return gamesolve.as_compiled(gamesolve.load_game("leduc"))


def _uniform_function(observation, legal, player, rng):
    del observation, player
    counts = legal.sum(axis=1)
    picks = np.minimum((rng.random(legal.shape[0]) * counts).astype(np.int64), counts - 1)
    ranks = np.cumsum(legal, axis=1) - 1
    return np.argmax(legal & (ranks == picks[:, None]), axis=1).astype(np.int64)


def test_kuhn_uniform_bound_is_below_exact_and_clearly_positive(kuhn):
    uniform = gamesolve.uniform_policy(kuhn)
    exact = gamesolve.nash_conv(kuhn, uniform).nash_conv  # 11/12
    assert exact == pytest.approx(11 / 12)
    bound = rl_exploitability_bound(kuhn, uniform, backend="tensor", steps=8_000, episodes=20_000, seed=0)
    assert bound.method == "rl-br/tensor-ppo" and bound.kind == "lower bound"
    assert not bound.exact_evaluation and len(bound.networks) == 2 and bound.responses == ()
    assert bound.ci_low < bound.nash_conv < bound.ci_high
    assert bound.ci_low <= exact
    assert bound.nash_conv > 0.6  # measured 0.91 at this budget (exact 0.917)
    # on_policy="auto": the game compiles and the table is known, so the policy's value is exact
    assert bound.on_policy_values == pytest.approx(tuple(gamesolve.expected_values(kuhn, uniform)))
    # every network is a valid strategy: its exact gain is at most the best response's
    for p, net in enumerate(bound.networks):
        assert isinstance(net, TensorResponse) and net.player == p and net.greedy
        table = net.to_policy().tabulate(kuhn)
        probs = uniform.probs.copy()
        mine = kuhn.infosets_of(p)
        probs[mine] = table.probs[mine]
        value = gamesolve.expected_values(kuhn, gamesolve.TabularPolicy(kuhn, probs))[p]
        assert value <= gamesolve.nash_conv(kuhn, uniform).best_response_values[p] + 1e-9


@pytest.mark.slow  # about 13 s on a busy 2-core machine
def test_leduc_uniform_bound_covers_or_sits_below_exact(leduc):
    uniform = gamesolve.uniform_policy(leduc)
    exact = gamesolve.nash_conv(leduc, uniform).nash_conv  # 4.747
    bound = rl_exploitability_bound(
        leduc,
        uniform,
        backend="tensor",
        steps=20_000,
        episodes=10_000,
        seed=0,
        oracle_options={"num_envs": 128},
    )
    assert bound.ci_low <= exact
    assert bound.nash_conv > 2.0


def test_tensor_bound_is_seeded(kuhn):
    policy = gamesolve.uniform_policy(kuhn)
    kw = {"backend": "tensor", "steps": 1_000, "episodes": 500, "seed": 4, "oracle_options": SMALL}
    a, b = rl_exploitability_bound(kuhn, policy, **kw), rl_exploitability_bound(kuhn, policy, **kw)
    assert a.gains == b.gains and a.gain_stderr == b.gain_stderr


def test_network_and_function_policies(kuhn):
    env = gamesolve.vector_env(kuhn, num_envs=1)
    torch.manual_seed(0)
    net = NeuralPolicy(
        MLP(env.observation_size, env.num_actions, [8]),
        num_actions=env.num_actions,
        observation_size=env.observation_size,
        game=kuhn,
    )
    kw = {"steps": 1_000, "episodes": 2_000, "seed": 1, "oracle_options": SMALL}
    bound = rl_exploitability_bound(kuhn, net, backend="tensor", **kw)
    assert bound.on_policy_values == pytest.approx(tuple(gamesolve.expected_values(kuhn, net.tabulate(kuhn))))
    # a function has no table: auto picks the tensor backend and samples the on-policy value
    bound = rl_exploitability_bound(kuhn, _uniform_function, **kw)
    assert bound.method == "rl-br/tensor-ppo" and np.all(np.isfinite([bound.ci_low, bound.ci_high]))
    exact = gamesolve.expected_values(kuhn, gamesolve.uniform_policy(kuhn))
    se = np.array(bound.gain_stderr)
    assert np.all(np.abs(np.array(bound.on_policy_values) - exact) <= 4 * se)


def test_response_env_reproduces_on_policy_values(leduc):
    uniform = gamesolve.uniform_policy(leduc)
    exact = gamesolve.expected_values(leduc, uniform)
    for p, policy in ((0, uniform), (1, gamesolve.policy.UniformPolicy())):
        env = VectorResponseEnv(leduc, p, policy, num_envs=256, seed=3)
        returns = sample_seat_returns(env, fixed_learner(policy, env), 20_000, np.random.default_rng(p))
        assert returns.size >= 20_000
        se = returns.std(ddof=1) / np.sqrt(returns.size)
        assert abs(returns.mean() - exact[p]) <= 4 * se


def test_auto_keeps_the_table_backend_on_small_tables(kuhn):
    uniform = gamesolve.uniform_policy(kuhn)
    bound = rl_exploitability_bound(kuhn, uniform, steps=500, episodes=100, seed=0)
    assert bound.method == "rl-br/dqn" and len(bound.responses) == 2 and bound.networks == ()


def test_auto_picks_the_tensor_backend_above_the_table_limit(kuhn, monkeypatch):
    from gamesolve import lower_bounds

    monkeypatch.setattr(lower_bounds, "TABLE_MAX_INFOSETS", 2)  # Kuhn has 6 infosets per player
    uniform = gamesolve.uniform_policy(kuhn)
    kw = {"steps": 100, "episodes": 100, "seed": 0, "oracle_options": SMALL}
    assert rl_exploitability_bound(kuhn, uniform, **kw).method == "rl-br/tensor-ppo"
    # DQN by name keeps the table backend on a game that compiles, at any size
    kw["oracle_options"] = None
    assert rl_exploitability_bound(kuhn, uniform, oracle="dqn", **kw).method == "rl-br/dqn"


def test_connect_four_without_compiling():
    pytest.importorskip("pyspiel")
    game = gamesolve.load_game("connect_four")
    policy = gamesolve.uniform_policy(game)
    bound = rl_exploitability_bound(
        game, policy, steps=300, episodes=64, seed=0, oracle_options={"hidden": [16], "num_envs": 16}
    )
    assert bound.method == "rl-br/tensor-ppo" and bound.num_players == 2
    assert np.all(np.isfinite([bound.nash_conv, bound.ci_low, bound.ci_high]))
    assert bound.ci_low < bound.ci_high and all(s > 0 for s in bound.gain_stderr)
    with pytest.raises(InvalidArgumentError, match="on_policy='exact' needs a game that compiles"):
        rl_exploitability_bound(game, policy, steps=10, episodes=10, on_policy="exact")
    with pytest.raises(InvalidArgumentError, match="table backend"):
        rl_exploitability_bound(game, policy, steps=10, episodes=10, oracle="dqn")


def test_bad_options_are_named(kuhn, leduc):
    uniform = gamesolve.uniform_policy(kuhn)
    with pytest.raises(InvalidArgumentError, match="backend must be one of auto, table, tensor"):
        rl_exploitability_bound(kuhn, uniform, backend="gpu", steps=10, episodes=10)
    with pytest.raises(InvalidArgumentError, match="on_policy must be one of exact, sampled; got 'guess'"):
        rl_exploitability_bound(kuhn, uniform, backend="tensor", steps=10, episodes=10, on_policy="guess")
    with pytest.raises(InvalidArgumentError, match="oracle must be 'dqn', 'ppo'"):
        rl_exploitability_bound(kuhn, uniform, backend="tensor", steps=10, episodes=10, oracle="a2c")
    with pytest.raises(InvalidArgumentError, match="oracle_options: ppo: clip must be"):
        rl_exploitability_bound(
            kuhn, uniform, backend="tensor", steps=10, episodes=10, oracle_options={"clip": -1.0}
        )
    with pytest.raises(InvalidArgumentError, match="players must be >= 0 and <= 1, got 2"):
        rl_exploitability_bound(kuhn, uniform, backend="tensor", steps=10, episodes=10, players=[2])
    with pytest.raises(InvalidPolicyError, match="different game"):
        rl_exploitability_bound(leduc, uniform, backend="tensor", steps=10, episodes=10)
    env = gamesolve.vector_env(leduc, num_envs=1)
    wrong = NeuralPolicy(
        MLP(env.observation_size + 1, env.num_actions, [4]), num_actions=3, observation_size=31
    )
    with pytest.raises(InvalidPolicyError, match="reads 31 observation features"):
        rl_exploitability_bound(leduc, wrong, backend="tensor", steps=10, episodes=10)
    with pytest.raises(InvalidPolicyError, match="illegal"):
        rl_exploitability_bound(
            kuhn, lambda o, legal, p, rng: np.full(len(p), 7), backend="tensor", steps=10, episodes=10
        )
    with pytest.raises(InvalidArgumentError, match="policy must be a TabularPolicy, a NeuralPolicy"):
        rl_exploitability_bound(kuhn, object(), backend="tensor", steps=10, episodes=10)
    with pytest.raises(InvalidArgumentError, match="the dqn oracle learns on compiled games only"):
        DQNOracle().train_vector(kuhn, 0, uniform, steps=10)
    with pytest.raises(InvalidArgumentError, match="steps must be >= 1"):
        PPOOracle().train_vector(kuhn, 0, uniform, steps=0)


def test_pettingzoo_game_with_uniform_and_function_policies():
    connect_four_v3 = pytest.importorskip("pettingzoo.classic.connect_four_v3")
    from gamesolve.games.pettingzoo import from_pettingzoo

    game = from_pettingzoo(connect_four_v3.env, utility="zero_sum")
    options = {"hidden": [16], "num_envs": 16}
    bound = rl_exploitability_bound(
        game, gamesolve.uniform_policy(game), steps=200, episodes=16, seed=0, oracle_options=options
    )
    assert bound.method == "rl-br/tensor-ppo" and len(bound.networks) == 2
    assert (
        np.all(np.isfinite([bound.nash_conv, bound.ci_low, bound.ci_high])) and bound.ci_low < bound.ci_high
    )

    def leftmost(observation, legal, player, rng):
        return np.argmax(legal, axis=1)

    # no chance and deterministic play on both sides: every episode is the same, the interval a point
    bound = rl_exploitability_bound(
        game, leftmost, steps=50, episodes=4, seed=0, players=[1], oracle_options=options
    )
    assert bound.gains == (bound.response_values[0] - bound.on_policy_values[0],)
    assert bound.ci_low <= bound.nash_conv <= bound.ci_high


def test_minimax_shaping_reads_the_opponents_values(kuhn):
    """Kuhn, player 0 against uniform play: holding the Jack the best response bets (a bluff,
    -0.5 against -1 for checking). With ``minimax_coef`` and an opponent whose value is 5 whenever
    it faces a first-round bet (info-state bit 6), betting costs 5 and the Jack checks instead."""
    uniform = gamesolve.uniform_policy(kuhn)
    calls = []

    def faces_a_bet(observation, legal):
        calls.append(observation.shape[0])
        assert np.all(observation[:, 1] == 1.0)  # only the opponent's (player 1's) decisions
        return 5.0 * observation[:, 6]

    jack = np.array([[1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]], dtype=np.float32)
    legal = np.ones((1, 2), dtype=bool)
    bets = {}
    for coef in (0.0, 1.0):
        oracle = PPOOracle(hidden=[16], num_envs=64, minimax_coef=coef)
        trained = oracle.train_vector(kuhn, 0, uniform, seed=0, steps=30_000, opponent_values=faces_a_bet)
        bets[coef] = float(trained.action_probs(jack, legal)[0, 1])
        assert oracle.config()["minimax_coef"] == coef
        assert bool(calls) == (coef > 0)  # the values are asked for only with the shaping on
    assert bets[0.0] > 0.8 and bets[1.0] < 0.2
    with pytest.raises(InvalidArgumentError, match="minimax_coef"):
        PPOOracle(minimax_coef=-1.0)
