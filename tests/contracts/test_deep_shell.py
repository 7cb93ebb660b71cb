"""The options every deep learner shares (gamesolve.solvers.deep.shell), checked on each learner."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

import gamesolve
from gamesolve.errors import InvalidArgumentError
from gamesolve.registry import make_solver

PPO_SMALL = {"num_envs": 8, "rollout_length": 4, "hidden": [8], "epochs": 1, "minibatches": 1}
#: Small settings of the learners that play any game (batched environment).
SMALL = {
    "ppo": PPO_SMALL,
    "neural-mmd": PPO_SMALL,
    "rnad": {"num_envs": 8, "rollout_length": 4, "hidden": [8]},
    "nfsp": {"num_envs": 8, "hidden": [8], "batch_size": 8, "rl_learn_every": 4, "sl_learn_every": 4},
}
ON_POLICY = list(SMALL)
LEARNERS = [*ON_POLICY, "deep-cfr", "escher"]


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("eval_matches", 0),
        ("eval_mcts_matches", -1),
        ("eval_mcts_simulations", 0),
        ("eval_rl_bound_steps", -5),
        ("threads", 0),
        ("device", "tpu"),
        ("tensorboard", True),
    ],
)
def test_bad_shared_options_are_named_before_any_work(learner, option, value):
    with pytest.raises(InvalidArgumentError, match=option):
        make_solver(learner, **{option: value})


@pytest.mark.parametrize("learner", LEARNERS)
def test_shared_options_are_part_of_the_config(learner):
    config = make_solver(learner, eval_mcts_matches=3).config()
    assert config["eval_mcts_matches"] == 3 and config["eval_rl_bound_steps"] == 0


@pytest.mark.parametrize("learner", ON_POLICY)
def test_final_report_plays_mcts_when_asked(learner):
    pytest.importorskip("pyspiel")
    result = gamesolve.solve(
        "connect_four",
        learner,
        iterations=1,
        seed=0,
        progress=False,
        eval_matches=2,
        eval_mcts_matches=2,
        eval_mcts_simulations=5,
        **SMALL[learner],
    )
    extras = result.extras
    assert extras["mcts_matches"] == 4 and extras["mcts_simulations"] == 5
    for seat in range(2):
        shares = (
            extras["wins_per_seat_vs_mcts"][seat]
            + extras["draws_per_seat_vs_mcts"][seat]
            + extras["losses_per_seat_vs_mcts"][seat]
        )
        assert shares == pytest.approx(1.0)


@pytest.mark.parametrize("learner", ["deep-cfr", "escher"])
def test_compiled_learners_write_logs(learner, tmp_path):
    opts = {"traversals": 5, "advantage_steps": 2, "policy_steps": 2}
    gamesolve.solve(
        "kuhn", learner, iterations=2, eval_every=1, seed=0, progress=False, log_dir=tmp_path, **opts
    )
    updates = (tmp_path / "updates.csv").read_text().splitlines()
    evaluations = (tmp_path / "evaluations.csv").read_text().splitlines()
    assert len(updates) == 3 and updates[0].startswith("update")
    assert len(evaluations) == 4 and "exploitability" in evaluations[0]


def test_final_report_adds_the_rl_bound_when_asked(monkeypatch):
    pytest.importorskip("pyspiel")
    from gamesolve.solvers.deep import shell

    monkeypatch.setattr(shell, "RL_BOUND_EPISODES", 64)
    result = gamesolve.solve(
        "connect_four",
        "ppo",
        iterations=1,
        seed=0,
        progress=False,
        eval_matches=2,
        eval_rl_bound_steps=256,
        **SMALL["ppo"],
    )
    extras = result.extras
    low, high = extras["rl_bound_interval"]
    assert low <= extras["rl_bound_nash_conv"] <= high
    assert extras["rl_bound_steps"] == 256 and extras["rl_bound_episodes"] == 64


# ------------------------------------------------------------------------- convolutional torso
@pytest.mark.parametrize("learner", ON_POLICY)
def test_conv_torso_trains_saves_and_loads_on_a_board(learner, tmp_path):
    pytest.importorskip("pyspiel")
    import numpy as np
    import torch

    from gamesolve.neural import ConvNet

    options = {**SMALL[learner], "torso": "conv", "channels": [4, 4]}
    result = gamesolve.solve(
        "connect_four", learner, iterations=1, seed=0, progress=False, eval_matches=2, **options
    )
    policy = result.policy
    # OpenSpiel's three planes (stones of each player, empty) and one plane per player: who moves
    assert isinstance(policy.module, ConvNet) and policy.module.observation_shape == (5, 6, 7)
    assert make_solver(learner, **options).config()["torso"] == "conv"
    path = policy.save(tmp_path / "c4.pt")
    loaded = gamesolve.load_policy(path, game="connect_four")
    assert isinstance(loaded.module, ConvNet)
    rng = np.random.default_rng(0)
    obs = (rng.random((5, 210)) < 0.3).astype(np.float32)
    legal = np.ones((5, 7), dtype=bool)
    with torch.no_grad():
        np.testing.assert_array_equal(policy.action_probs(obs, legal), loaded.action_probs(obs, legal))


def test_conv_sees_the_board_not_the_flat_vector():
    """Translation equivariance of the convolution: a stone moved one column moves its feature map."""
    import torch

    from gamesolve.neural import ConvNet

    torch.manual_seed(0)
    net = ConvNet((3, 6, 7), 7, channels=[2], hidden=[])
    board = torch.zeros(1, 3, 6, 7)
    board[0, 1, 2, 3] = 1.0
    moved = torch.roll(board, shifts=1, dims=3)
    conv = net.body[0]
    with torch.no_grad():
        a, b = conv(board), conv(moved)
    torch.testing.assert_close(torch.roll(a, shifts=1, dims=3)[..., 1:-1], b[..., 1:-1])
    with torch.no_grad():
        logits, values = ConvNet((3, 6, 7), 7, value_head=True)(board.reshape(1, -1))
    assert logits.shape == (1, 7) and values.shape == (1, 1)


@pytest.mark.parametrize("learner", ON_POLICY)
def test_conv_torso_on_a_flat_observation_is_refused_naming_the_shape(learner):
    with pytest.raises(InvalidArgumentError, match=r"torso='conv'.*\(30,\).*torso='mlp'"):
        gamesolve.solve("leduc_poker", learner, iterations=1, torso="conv", progress=False)


@pytest.mark.parametrize(("option", "value"), [("torso", "cnn"), ("channels", []), ("channels", [0])])
def test_bad_network_options_are_named(option, value):
    with pytest.raises(InvalidArgumentError, match=option):
        make_solver("ppo", **{option: value})
