"""Neural policies (issue 14, item 2): a torch network as a gamesolve policy.

Exact exploitability of a network equals that of its table; batches, single decisions and
tournaments; one-file save/load with its checks; ``uniform_policy`` on games that do not compile;
devices (the ``gpu`` test runs only where torch sees CUDA).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gamesolve  # noqa: E402
from gamesolve.errors import (  # noqa: E402
    InputFileError,
    InvalidArgumentError,
    InvalidPolicyError,
)
from gamesolve.neural import MLP, InfosetTensors, NeuralPolicy, load_policy, resolve_device  # noqa: E402
from gamesolve.neural.policy import masked_softmax, sample_rows  # noqa: E402
from gamesolve.policy import TabularPolicy, UniformPolicy  # noqa: E402
from gamesolve.population import ActingPolicy  # noqa: E402


def _network(game, *, seed=0, hidden=(32,), scale=1.0, observation="info_state"):
    """A randomly initialised MLP policy over ``game``'s infoset tensors."""
    compiled = gamesolve.as_compiled(game)
    size = InfosetTensors(game, observation).size
    actions = int(compiled.infoset_actions.max()) + 1
    torch.manual_seed(seed)
    module = MLP(size, actions, hidden=hidden)
    with torch.no_grad():
        module.policy.weight.mul_(scale)
    return NeuralPolicy(
        module, num_actions=actions, observation_size=size, observation=observation, game=game
    )


class _Fixed(torch.nn.Module):
    """Returns the same logits for every observation (a user module without a config)."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.as_tensor(logits, dtype=torch.float32))

    def forward(self, observation, legal=None):
        return self.logits.expand(observation.shape[0], -1)


def _fixed_factory(logits):
    return _Fixed(logits)


# ------------------------------------------------------------------------ exact evaluation


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
def test_exact_exploitability_of_a_network_is_that_of_its_table(request, name):
    game = request.getfixturevalue(name)
    for seed in (0, 1):
        policy = _network(game, seed=seed, scale=3.0)
        table = policy.tabulate(game)
        assert isinstance(table, TabularPolicy)
        assert gamesolve.exploitability(game, policy) == gamesolve.exploitability(game, table)
        report, table_report = gamesolve.nash_conv(game, policy), gamesolve.nash_conv(game, table)
        assert report.nash_conv == table_report.nash_conv > 0
        assert report.on_policy_values == table_report.on_policy_values


@pytest.mark.parametrize("observation", ["info_state", "observation"])
def test_native_games_tensors_are_the_batched_environments(game_loader, observation):
    game = gamesolve.load_game("leduc")  # native Leduc: its own (OpenSpiel-layout) tensors
    env = gamesolve.vector_env(game, num_envs=16, seed=3, observation=observation)
    tensors = InfosetTensors(game, observation)
    assert tensors.size == env.observation_size
    table = tensors.rows(0, tensors.num_infosets)
    policy = _network(game, seed=5, observation=observation)
    assert policy.observation_kind == observation
    rng = np.random.default_rng(1)
    ts = env.reset()
    for _ in range(20):
        np.testing.assert_array_equal(ts.observation, table[env.infoset_ids])
        ts = env.step(policy.act(ts, rng=rng))
    exact = gamesolve.exploitability(game, policy)
    assert exact == gamesolve.exploitability(game, policy.tabulate(game)) > 0


def test_table_rows_are_the_network_on_each_infoset_tensor(leduc):
    compiled = gamesolve.as_compiled(leduc)
    policy = _network(leduc, seed=3)
    tensors = InfosetTensors(leduc, "info_state")
    observation = tensors.rows(0, compiled.num_infosets)
    ids = compiled.infoset_actions
    legal = np.zeros((compiled.num_infosets, policy.num_actions), dtype=bool)
    for i in range(compiled.num_infosets):
        legal[i, ids[i, : compiled.infoset_num_actions[i]]] = True
    probs = policy.action_probs(observation, legal)
    table = policy.tabulate(leduc).probs  # one batch here: the same forward pass
    for i in range(compiled.num_infosets):
        k = compiled.infoset_num_actions[i]
        np.testing.assert_array_equal(table[i, :k], probs[i, ids[i, :k]])
        assert np.all(table[i, k:] == 0)
    # batches that do not divide I (float32 products may round differently per batch shape)
    np.testing.assert_allclose(policy.tabulate(leduc, batch_size=7).probs, table, rtol=1e-5, atol=1e-7)


def test_tabulating_on_another_game_or_size_is_refused(kuhn, leduc):
    policy = _network(kuhn)
    with pytest.raises(InvalidPolicyError, match="plays"):
        policy.tabulate(leduc)
    anonymous = NeuralPolicy(
        policy.module, num_actions=policy.num_actions, observation_size=policy.observation_size
    )
    with pytest.raises(InvalidPolicyError, match="features"):
        anonymous.tabulate(leduc)


# ------------------------------------------------------------------------ probabilities, acting


def test_masked_softmax_illegal_zero_and_no_nan_for_huge_logits():
    legal = np.array([[True, False, True], [True, True, False], [False, True, True], [True, True, True]])
    logits = np.array(
        [[1e300, 5.0, -1e300], [np.inf, np.inf, 0.0], [0.0, -np.inf, -np.inf], [3.0, 3.0, np.nan]]
    )
    probs = masked_softmax(logits[:3], legal[:3])
    assert not np.isnan(probs).any()
    assert np.all(probs[~legal[:3]] == 0)
    np.testing.assert_array_equal(probs, [[1, 0, 0], [0.5, 0.5, 0], [0, 0.5, 0.5]])
    with pytest.raises(InvalidPolicyError, match="NaN"):
        masked_softmax(logits, legal)
    with pytest.raises(InvalidArgumentError, match="no legal action"):
        masked_softmax(logits[:1], np.zeros((1, 3), dtype=bool))


def test_network_probabilities_with_huge_weights(kuhn):
    policy = _network(kuhn, scale=1e30)
    compiled = gamesolve.as_compiled(kuhn)
    obs = InfosetTensors(kuhn, "info_state").rows(0, compiled.num_infosets)
    legal = np.ones((compiled.num_infosets, policy.num_actions), dtype=bool)
    legal[::2, 0] = False
    probs = policy.action_probs(obs, legal)
    assert np.isfinite(probs).all() and np.all(probs[~legal] == 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_batches_and_single_decisions(kuhn):
    policy = _network(kuhn, seed=2)
    assert isinstance(policy, ActingPolicy)
    compiled = gamesolve.as_compiled(kuhn)
    obs = InfosetTensors(kuhn, "info_state").rows(0, compiled.num_infosets)
    legal = np.ones((compiled.num_infosets, policy.num_actions), dtype=bool)
    legal[:, 1] = np.arange(compiled.num_infosets) % 2 == 0
    first = policy.act(obs, legal, np.random.default_rng(5))
    again = policy.act_batch(obs, legal, np.random.default_rng(5))
    assert first.shape == (compiled.num_infosets,) and first.dtype == np.int64
    np.testing.assert_array_equal(first, again)
    assert legal[np.arange(len(first)), first].all()
    greedy = policy.act(obs, legal, greedy=True)
    np.testing.assert_array_equal(greedy, np.argmax(policy.action_probs(obs, legal), axis=1))

    step = SimpleNamespace(observation=obs, legal=legal)  # what a batched environment's TimeStep offers
    np.testing.assert_array_equal(policy.act(step, rng=np.random.default_rng(5)), first)
    rng = np.random.default_rng(0)
    picks = {policy.act(0, obs[0], np.array([1]), rng) for _ in range(5)}
    assert picks == {1}
    picks = {policy.act(1, obs[1], np.array([0, 1]), rng) for _ in range(200)}
    assert picks == {0, 1}
    with pytest.raises(InvalidArgumentError, match="rng"):
        policy.act(obs, legal)
    with pytest.raises(InvalidArgumentError, match="observation must be"):
        policy.action_probs(obs[:, :-1], legal)
    with pytest.raises(InvalidArgumentError, match="outside"):
        policy.act(0, obs[0], np.array([policy.num_actions]), rng)


def test_sample_rows_never_picks_zero_probability():
    probs = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.0, 0.0, 1.0]])
    for u in (0.0, 0.25, 0.5, 0.999999999):
        picks = sample_rows(probs, np.full(3, u))
        assert np.all(probs[np.arange(3), picks] > 0)


# ------------------------------------------------------------------------ tournaments


def test_tournament_of_a_network_against_uniform_on_kuhn(kuhn):
    policy = _network(kuhn, scale=2.0)
    uniform = gamesolve.uniform_policy(kuhn)
    assert isinstance(uniform, TabularPolicy)
    meta = gamesolve.tournament(kuhn, {"net": policy, "uniform": uniform})
    table = gamesolve.tournament(kuhn, {"net": policy.tabulate(kuhn), "uniform": uniform})
    np.testing.assert_array_equal(meta.payoffs, table.payoffs)


def test_tournament_on_a_game_that_does_not_compile():
    pz = pytest.importorskip("gamesolve.games.pettingzoo")
    classic = pytest.importorskip("pettingzoo.classic")
    ttt = pz.from_pettingzoo(classic.tictactoe_v3.env, utility="zero_sum")
    uniform = gamesolve.uniform_policy(ttt)
    assert isinstance(uniform, UniformPolicy) and isinstance(uniform, ActingPolicy)
    torch.manual_seed(0)
    net = NeuralPolicy(MLP(18, 9, hidden=(16,)), num_actions=9, observation_size=18)
    meta = gamesolve.tournament(
        ttt, {"net": net, "uniform": uniform}, episodes=32, seed=0, executor="inprocess"
    )
    again = gamesolve.tournament(
        ttt, {"net": net, "uniform": uniform}, episodes=32, seed=0, executor="inprocess"
    )
    assert meta.counts[0, 1] == 32 and np.all(np.abs(meta.payoffs) <= 1)
    np.testing.assert_array_equal(meta.payoffs, again.payoffs)


def test_uniform_policy_acts_and_tabulates(kuhn):
    uniform = UniformPolicy()
    rng = np.random.default_rng(0)
    assert {uniform.act(0, None, np.array([3, 7]), rng) for _ in range(100)} == {3, 7}
    legal = np.array([[True, False, True], [False, True, False]])
    actions = uniform.act(np.zeros((2, 4)), legal, rng)
    assert legal[np.arange(2), actions].all()
    draws = np.array([uniform.act(np.zeros((2, 4)), legal, rng)[0] for _ in range(400)])
    assert set(draws.tolist()) == {0, 2}
    np.testing.assert_array_equal(uniform.action_probs(None, legal), [[0.5, 0, 0.5], [0, 1, 0]])
    assert uniform.tabulate(kuhn) == gamesolve.uniform_policy(kuhn)
    assert gamesolve.exploitability(kuhn, uniform) == gamesolve.exploitability(
        kuhn, gamesolve.uniform_policy(kuhn)
    )


# ------------------------------------------------------------------------ files


def test_save_load_round_trip_gives_identical_probabilities(leduc, tmp_path):
    policy = _network(leduc, seed=4, hidden=(16, 8))
    path = policy.save(tmp_path / "leduc.pt")
    loaded = gamesolve.load_policy(path, game=leduc)
    assert isinstance(loaded, gamesolve.NeuralPolicy)
    assert (loaded.game, loaded.observation_kind, loaded.observation_size, loaded.num_actions) == (
        policy.game,
        policy.observation_kind,
        policy.observation_size,
        policy.num_actions,
    )
    np.testing.assert_array_equal(loaded.tabulate(leduc).probs, policy.tabulate(leduc).probs)
    assert loaded.config == policy.config
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write leaves no temporary behind


def test_user_modules_load_through_a_factory(kuhn, tmp_path):
    module = _Fixed([0.5, -1.0])
    config = {
        "factory": "tests.contracts.test_neural_policy:_fixed_factory",
        "kwargs": {"logits": [0.0, 0.0]},
    }
    size = InfosetTensors(kuhn, "info_state").size
    policy = NeuralPolicy(module, num_actions=2, observation_size=size, game=kuhn, config=config)
    path = policy.save(tmp_path / "fixed.pt")
    with pytest.raises(InvalidPolicyError, match="factory="):
        load_policy(path)
    loaded = load_policy(path, factory=_fixed_factory)
    np.testing.assert_array_equal(loaded.tabulate(kuhn).probs, policy.tabulate(kuhn).probs)
    bare = NeuralPolicy(_Fixed([0.0, 0.0]), num_actions=2, observation_size=size)
    with pytest.raises(InvalidPolicyError, match="without a config"):
        bare.save(tmp_path / "bare.pt")


def test_mismatched_files_are_refused_naming_the_file(kuhn, leduc, tmp_path):
    path = _network(kuhn).save(tmp_path / "kuhn.pt")
    with pytest.raises(InvalidPolicyError, match=r"kuhn\.pt.*plays 'kuhn_poker'"):
        load_policy(path, game=leduc)
    with pytest.raises(InvalidPolicyError, match=r"kuhn\.pt.*plays"):
        load_policy(path, game="leduc_poker")
    with pytest.raises(InvalidPolicyError, match=r"kuhn\.pt.*observation_size"):
        load_policy(path, game=kuhn, observation_size=999)
    with pytest.raises(InvalidPolicyError, match=r"kuhn\.pt.*num_actions"):
        load_policy(path, num_actions=5)
    with pytest.raises(InvalidPolicyError, match=r"kuhn\.pt.*observation"):
        load_policy(path, observation="observation")
    assert load_policy(path, game="kuhn_poker").game == "kuhn_poker"


def test_bad_files_are_clear_errors(kuhn, tmp_path):
    good = _network(kuhn)
    with pytest.raises(InputFileError, match="does not exist"):
        load_policy(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00not a torch archive" * 10)
    with pytest.raises(InputFileError, match=r"corrupt\.pt"):
        load_policy(corrupt)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.save(tmp_path / "whole.pt").read_bytes()[:200])
    with pytest.raises(InputFileError, match=r"truncated\.pt"):
        load_policy(truncated)
    no_weights = tmp_path / "no_weights.pt"
    torch.save({"meta": "{}"}, no_weights)
    with pytest.raises(InvalidPolicyError, match=r"no_weights\.pt"):
        load_policy(no_weights)
    no_key = tmp_path / "no_key.pt"
    torch.save({"meta": '{"format": "gamesolve.neural_policy/1"}', "weights": {}}, no_key)
    with pytest.raises(InvalidPolicyError, match=r"no_key\.pt' lacks 'config'"):
        load_policy(no_key)
    pickled = tmp_path / "pickled.pt"
    torch.save({"meta": _Fixed([1.0]), "weights": {}}, pickled)  # an object: needs pickle to load
    with pytest.raises(InputFileError, match=r"pickled\.pt"):
        load_policy(pickled)
    payload = torch.load(tmp_path / "whole.pt", weights_only=True)
    payload["weights"]["policy.weight"] = torch.zeros(3, 3)
    torch.save(payload, tmp_path / "wrong_shape.pt")
    with pytest.raises(InvalidPolicyError, match=r"wrong_shape\.pt.*do not fit"):
        load_policy(tmp_path / "wrong_shape.pt")
    payload["weights"]["policy.weight"] = torch.full_like(good.module.policy.weight, float("nan"))
    torch.save(payload, tmp_path / "nan.pt")
    with pytest.raises(InvalidPolicyError, match=r"nan\.pt.*not finite"):
        load_policy(tmp_path / "nan.pt")
    with pytest.raises(InputFileError, match="not a regular file"):
        load_policy(tmp_path)
    with pytest.raises(InvalidArgumentError, match="device"):
        load_policy(tmp_path / "whole.pt", device="tpu")


# ------------------------------------------------------------------------ devices


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "tpu", "", 3, None])
def test_bad_device_strings(bad):
    with pytest.raises(InvalidArgumentError, match="device"):
        resolve_device(bad)


def test_devices_without_cuda(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a machine without CUDA
    assert resolve_device("auto").type == "cpu"
    for device in ("cuda", "CUDA", "cuda:0"):
        with pytest.raises(InvalidArgumentError, match="CUDA"):
            resolve_device(device)
    with pytest.raises(InvalidArgumentError, match="CUDA"):
        NeuralPolicy(MLP(3, 2), num_actions=2, observation_size=3, device="cuda")


@pytest.mark.gpu
def test_cuda_action_probs_equal_cpu(leduc):
    policy = _network(leduc, seed=6, hidden=(64, 64))
    compiled = gamesolve.as_compiled(leduc)
    cpu = policy.tabulate(leduc).probs
    obs = InfosetTensors(leduc, "info_state").rows(0, compiled.num_infosets)
    legal = np.ones((compiled.num_infosets, policy.num_actions), dtype=bool)
    on_cpu = policy.action_probs(obs, legal)
    policy.to("cuda")
    assert policy.device.type == "cuda"
    np.testing.assert_allclose(policy.action_probs(obs, legal), on_cpu, rtol=0, atol=1e-5)
    np.testing.assert_allclose(policy.tabulate(leduc).probs, cpu, rtol=0, atol=1e-5)
    assert (
        abs(
            gamesolve.exploitability(leduc, policy)
            - gamesolve.exploitability(leduc, TabularPolicy(leduc, cpu))
        )
        < 1e-4
    )
