"""Self-play PPO, the ``"ppo"`` solver (issue 14, items 3 and 5).

It learns on Kuhn (exact exploitability of the network falls from the uniform start), runs on a game
that does not compile (connect_four, head-to-head evaluation), resumes a CPU run to the same weights,
refuses bad options naming them, stops on a non-finite loss naming the update, and logs one CSV row
per evaluation.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gamesolve  # noqa: E402
from gamesolve.checkpoint import load_checkpoint  # noqa: E402
from gamesolve.errors import GamesolveError, InvalidArgumentError, UnsupportedGame  # noqa: E402
from gamesolve.neural import NeuralPolicy, load_policy  # noqa: E402
from gamesolve.registry import available_solvers, make_solver  # noqa: E402
from gamesolve.solvers.deep.common import EXPLOITABILITY, LOSS_RATE  # noqa: E402
from gamesolve.solvers.deep.ppo import PPO  # noqa: E402

#: Small and quick: the tests check behaviour, not strength.
SMALL = {"num_envs": 32, "rollout_length": 8, "hidden": [32], "epochs": 2, "minibatches": 2}


def test_kuhn_exploitability_falls_from_the_uniform_start(tmp_path):
    result = gamesolve.solve(
        "kuhn_poker", "ppo", iterations=30, eval_every=10, seed=0, progress=False, num_envs=64
    )
    history = result.history.exploitability
    assert history[0] == pytest.approx(0.4583, abs=0.02)  # the network starts near uniform
    assert result.exploitability == pytest.approx(history[-1])
    assert history[-1] <= 0.75 * history[0]
    assert result.extras["evaluation"] == EXPLOITABILITY
    assert result.iterations == 30 and result.extras["updates"] == 30
    policy = result.policy
    assert isinstance(policy, NeuralPolicy)
    path = policy.save(tmp_path / "kuhn.pt")
    again = load_policy(path)
    assert gamesolve.exploitability(gamesolve.load_game("kuhn_poker"), again) == pytest.approx(
        result.exploitability, abs=1e-9
    )


def test_ppo_solver_and_ppo_oracle_are_different_registry_names():
    names = [name for name, _ in available_solvers()]
    assert names.count("ppo") == 1
    assert isinstance(make_solver("ppo"), PPO)
    from gamesolve.registry import ORACLES_GROUP, plugin

    assert plugin(ORACLES_GROUP, "ppo") is not PPO  # the PSRO oracle keeps its name in its group


def test_connect_four_two_updates_without_compiling():
    pytest.importorskip("pyspiel")
    result = gamesolve.solve(
        "connect_four", "ppo", iterations=2, eval_every=2, seed=1, progress=False, eval_matches=8, **SMALL
    )
    assert result.iterations == 2
    assert result.extras["evaluation"] == LOSS_RATE
    assert len(result.history) == 1  # evaluated once, at the end: no evaluation was asked before it
    # exploitability is not known without the tree: NaN, never a stand-in number
    assert all(math.isnan(value) for value in result.history.exploitability)
    assert math.isnan(result.exploitability)
    assert 0.0 <= result.extras["win_rate_vs_uniform"] <= 1.0
    assert isinstance(result.policy, NeuralPolicy)
    assert result.policy.observation_kind == "observation"  # connect_four has no info-state tensor


def test_connect_four_checkpoint_resumes(tmp_path):
    pytest.importorskip("pyspiel")
    ckpt = tmp_path / "c4.npz"
    opts = {"seed": 0, "progress": False, "eval_matches": 4, **SMALL, "rollout_length": 2}
    gamesolve.solve("connect_four", "ppo", iterations=1, checkpoint=ckpt, **opts)
    resumed = gamesolve.solve("connect_four", "ppo", iterations=2, resume=ckpt, checkpoint=ckpt, **opts)
    assert resumed.iterations == 2


def test_resume_repeats_an_uninterrupted_cpu_run_exactly(tmp_path):
    opts = {"seed": 3, "progress": False, "eval_every": 1, **SMALL}
    straight, first, second = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    full = gamesolve.solve("kuhn_poker", "ppo", iterations=4, checkpoint=straight, **opts)
    gamesolve.solve("kuhn_poker", "ppo", iterations=2, checkpoint=first, **opts)
    resumed = gamesolve.solve("kuhn_poker", "ppo", iterations=4, resume=first, checkpoint=second, **opts)
    _, a = load_checkpoint(straight)
    _, b = load_checkpoint(second)
    assert set(a) == set(b)
    assert any(name.startswith("net.") for name in a) and int(a["opt.p0.step"]) > 0
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert resumed.history.exploitability == full.history.exploitability


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("device", "tpu"),
        ("learning_rate", -1.0),
        ("num_envs", 0),
        ("hidden", "wide"),
        ("observation", "pixels"),
        ("gae_lambda", 1.5),
        ("clip", float("nan")),
        ("eval_matches", 0),
        ("tensorboard", True),  # without a log_dir
        ("log_dir", 3),
        ("rollout_lenght", 4),  # a typo: unknown option
    ],
)
def test_bad_options_name_the_argument(option, value):
    with pytest.raises(InvalidArgumentError, match=option):
        gamesolve.solve("kuhn_poker", "ppo", iterations=1, progress=False, **{option: value})


def test_log_dir_that_is_a_file_is_refused_before_the_run(tmp_path):
    from gamesolve.errors import OutputPathError

    taken = tmp_path / "taken"
    taken.write_text("x")
    with pytest.raises(OutputPathError, match="log_dir"):
        gamesolve.solve("kuhn_poker", "ppo", iterations=1, progress=False, log_dir=taken)


def test_tensorboard_without_its_package_is_a_clear_error(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(  # as on a machine without tensorboard, installed here or not
        importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a)
    )
    with pytest.raises(InvalidArgumentError, match="pip install tensorboard"):
        gamesolve.solve("kuhn_poker", "ppo", iterations=1, progress=False, log_dir=tmp_path, tensorboard=True)


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a machine without CUDA
    with pytest.raises(InvalidArgumentError, match="cuda"):
        gamesolve.solve("kuhn_poker", "ppo", iterations=1, progress=False, device="cuda")


def test_normal_form_games_are_refused():
    with pytest.raises(UnsupportedGame, match="extensive-form"):
        gamesolve.solve("rps", "ppo", iterations=1, progress=False)


def test_non_finite_loss_stops_naming_the_update(tmp_path):
    solver = PPO(**SMALL)
    game = solver.prepare("kuhn_poker")
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, 1)
    good = {name: value.copy() for name, value in state.items()}
    state["net.value.bias"][...] = np.nan  # the value head blows up: the loss is NaN
    with pytest.raises(GamesolveError, match="update 2"):
        solver.step(game, state, 1)
    assert int(state["t"]) == 1
    np.testing.assert_array_equal(state["opt.p0.exp_avg"], good["opt.p0.exp_avg"])


def test_a_huge_learning_rate_stops_the_run_with_a_clear_error():
    with pytest.raises(GamesolveError, match=r"update \d+"):
        gamesolve.solve("kuhn_poker", "ppo", iterations=20, progress=False, learning_rate=1e30, **SMALL)


def test_log_dir_writes_one_csv_row_per_evaluation(tmp_path):
    logs = tmp_path / "runs" / "kuhn"
    result = gamesolve.solve(
        "kuhn_poker", "ppo", iterations=4, eval_every=2, progress=False, log_dir=logs, **SMALL
    )
    with (logs / "evaluations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(result.history) == 3
    assert [int(r["iteration"]) for r in rows] == list(result.history.iteration)
    assert [float(r["exploitability"]) for r in rows] == pytest.approx(list(result.history.exploitability))
    assert {r["metric"] for r in rows} == {EXPLOITABILITY}
    with (logs / "updates.csv").open(newline="") as handle:
        updates = list(csv.DictReader(handle))
    assert [int(r["update"]) for r in updates] == [1, 2, 3, 4]
    assert all(np.isfinite(float(r["policy_loss"])) for r in updates)


@pytest.mark.gpu
def test_cuda_updates_and_a_cpu_policy_file(tmp_path):
    result = gamesolve.solve("kuhn_poker", "ppo", iterations=2, progress=False, device="cuda", **SMALL)
    assert result.extras["device"].startswith("cuda")
    assert 0.0 <= result.exploitability <= 1.0
    loaded = load_policy(result.policy.save(tmp_path / "kuhn.pt"))
    assert gamesolve.exploitability(gamesolve.load_game("kuhn_poker"), loaded) == pytest.approx(
        result.exploitability, abs=1e-6
    )


def test_cli_log_dir_and_policy_file(tmp_path, capsys):
    from gamesolve.cli import main

    logs, out = tmp_path / "runs", tmp_path / "kuhn.pt"
    argv = ["solve", "kuhn_poker", "--solver", "ppo", "--iterations", "2", "--eval-every", "1"]
    argv += ["--log-dir", str(logs), "--policy-out", str(out), "--set", "num_envs=16", "--no-progress"]
    assert main(argv) == 0
    assert "ppo on kuhn_poker" in capsys.readouterr().out
    assert isinstance(load_policy(out), NeuralPolicy)
    with (logs / "evaluations.csv").open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 3
