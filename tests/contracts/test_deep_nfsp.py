"""Neural Fictitious Self-Play, the ``"nfsp"`` solver (issue 14, item 3).

It learns on Kuhn (the exact exploitability of the average network falls clearly below uniform's),
reports the exact exploitability of the network's own table, runs on a game that does not compile
(connect_four, head-to-head evaluation), resumes a CPU run to the same state, refuses bad options
naming them, stops on a non-finite loss naming the iteration with the state kept, keeps both buffers
right (circular replay, reservoir), and logs CSV rows.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gamesolve  # noqa: E402
from gamesolve.checkpoint import load_checkpoint  # noqa: E402
from gamesolve.errors import GamesolveError, InvalidArgumentError, OutputPathError  # noqa: E402
from gamesolve.neural import NeuralPolicy, load_policy  # noqa: E402
from gamesolve.registry import make_solver  # noqa: E402
from gamesolve.solver import Iterate  # noqa: E402
from gamesolve.solvers.deep.common import EXPLOITABILITY, LOSS_RATE  # noqa: E402
from gamesolve.solvers.deep.nfsp import NFSP  # noqa: E402

#: Small and quick: the tests check behaviour, not strength.
SMALL = {
    "num_envs": 16,
    "hidden": [16],
    "batch_size": 16,
    "rl_learn_every": 8,
    "sl_learn_every": 8,
    "replay_capacity": 500,
    "reservoir_capacity": 300,
}

#: Kuhn's uniform policy exploitability.
UNIFORM_KUHN = 0.4583


def test_kuhn_exploitability_falls_clearly_below_uniform(tmp_path):
    result = gamesolve.solve(
        "kuhn_poker",
        "nfsp",
        iterations=60,
        eval_every=30,
        seed=0,
        progress=False,
        num_envs=64,
        hidden=[32],
        rl_learning_rate=0.01,
        sl_learning_rate=0.01,
        rl_learn_every=16,
        sl_learn_every=16,
        batch_size=64,
    )
    history = result.history.exploitability
    assert history[0] == pytest.approx(UNIFORM_KUHN, abs=0.1)  # a fresh network plays near uniform
    assert result.exploitability == pytest.approx(history[-1])
    assert history[-1] <= 0.6 * UNIFORM_KUHN
    assert result.extras["evaluation"] == EXPLOITABILITY
    assert result.extras["rl_updates"] > 0 and result.extras["sl_updates"] > 0
    policy = result.policy
    assert isinstance(policy, NeuralPolicy)
    again = load_policy(policy.save(tmp_path / "kuhn.pt"))
    assert gamesolve.exploitability(gamesolve.load_game("kuhn_poker"), again) == pytest.approx(
        result.exploitability, abs=1e-9
    )


def test_the_reported_exploitability_is_that_of_the_networks_table():
    kuhn = gamesolve.load_game("kuhn_poker")
    result = gamesolve.solve(kuhn, "nfsp", iterations=6, eval_every=3, seed=2, progress=False, **SMALL)
    table = result.policy.tabulate(kuhn)
    assert gamesolve.exploitability(kuhn, table) == pytest.approx(result.exploitability, abs=1e-12)
    assert gamesolve.exploitability(kuhn, result.policy) == pytest.approx(result.exploitability, abs=1e-12)


def test_registered_by_name():
    assert isinstance(make_solver("nfsp"), NFSP)
    assert NFSP.output is Iterate.AVERAGE


def test_connect_four_two_iterations_without_compiling():
    pytest.importorskip("pyspiel")
    opts = {**SMALL, "num_envs": 4, "batch_size": 8}
    result = gamesolve.solve(
        "connect_four", "nfsp", iterations=2, eval_every=2, seed=1, progress=False, eval_matches=4, **opts
    )
    assert result.iterations == 2
    assert result.extras["evaluation"] == LOSS_RATE
    assert all(math.isnan(value) for value in result.history.exploitability)
    assert 0.0 <= result.extras["win_rate_vs_uniform"] <= 1.0
    assert isinstance(result.policy, NeuralPolicy)
    assert result.policy.observation_kind == "observation"
    assert result.extras["decisions"] >= 2 * 4 * 7  # every Connect Four game lasts 7 moves or more


def test_resume_repeats_an_uninterrupted_cpu_run_exactly(tmp_path):
    # Tiny buffers so that the replay buffer wraps and the reservoir replaces within the run.
    opts = {"seed": 3, "progress": False, "eval_every": 2, **SMALL, "replay_capacity": 100}
    opts["reservoir_capacity"] = 40
    opts["target_update_every"] = 3
    opts["anticipatory"] = 0.5
    straight, first, second = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    full = gamesolve.solve("kuhn_poker", "nfsp", iterations=8, checkpoint=straight, **opts)
    gamesolve.solve("kuhn_poker", "nfsp", iterations=4, checkpoint=first, **opts)
    resumed = gamesolve.solve("kuhn_poker", "nfsp", iterations=8, resume=first, checkpoint=second, **opts)
    _, a = load_checkpoint(straight)
    _, b = load_checkpoint(second)
    assert set(a) == set(b)
    for prefix in ("q.", "q_target.", "avg.", "q_opt.", "avg_opt.", "replay.", "reservoir."):
        assert any(name.startswith(prefix) for name in a), prefix
    assert int(a["q_opt.p0.step"]) > 0 and int(a["avg_opt.p0.step"]) > 0
    assert int(a["reservoir.count"]) > 40 and int(a["replay.size"]) == 100  # both buffers full
    assert int(a["rl_updates"]) > 3  # the target network was copied
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert resumed.history.exploitability == full.history.exploitability


def test_split_calls_equal_one_call():
    solver = NFSP(**SMALL)
    game = solver.prepare("kuhn_poker")
    one = solver.init(game, np.random.default_rng(5))
    solver.step(game, one, 4)
    other = NFSP(**SMALL)
    two = other.init(game, np.random.default_rng(5))
    for _ in range(4):
        other.step(game, two, 1)
    for name in one:
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)


def test_buffers_circular_replay_and_reservoir():
    solver = NFSP(**{**SMALL, "replay_capacity": 7, "reservoir_capacity": 5, "anticipatory": 1.0})
    game = solver.prepare("kuhn_poker")
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, 3)
    decisions = int(state["decisions"])
    # every decision of a finished Kuhn episode is a transition; all are best responses here
    assert int(state["reservoir.count"]) == decisions
    assert int(state["replay.size"]) == 7 and int(state["replay.pos"]) == decisions % 7
    assert set(np.unique(state["reservoir.action"])) <= {0, 1}
    # terminal transitions have no next legal action; the others have one
    done = state["replay.done"]
    assert not state["replay.next_legal"][done].any()
    assert state["replay.next_legal"][~done].any(axis=1).all()


def test_epsilon_decays_linearly_then_stays():
    solver = NFSP(epsilon_start=0.5, epsilon_end=0.1, epsilon_decay=100)
    assert solver.epsilon(0) == pytest.approx(0.5)
    assert solver.epsilon(50) == pytest.approx(0.3)
    assert solver.epsilon(100) == pytest.approx(0.1)
    assert solver.epsilon(10_000) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("device", "tpu"),
        ("rl_learning_rate", -1.0),
        ("sl_learning_rate", 0.0),
        ("num_envs", 0),
        ("hidden", "wide"),
        ("observation", "pixels"),
        ("anticipatory", 0.0),
        ("anticipatory", 1.5),
        ("optimizer", "rmsprop"),
        ("batch_size", 0),
        ("replay_capacity", 0),
        ("reservoir_capacity", -3),
        ("epsilon_start", float("nan")),
        ("epsilon_end", 2.0),
        ("target_update_every", 0),
        ("eval_matches", 0),
        ("tensorboard", True),  # without a log_dir
        ("log_dir", 3),
        ("anticipatori", 0.1),  # a typo: unknown option
    ],
)
def test_bad_options_name_the_argument(option, value):
    with pytest.raises(InvalidArgumentError, match=option):
        gamesolve.solve("kuhn_poker", "nfsp", iterations=1, progress=False, **{option: value})


def test_log_dir_that_is_a_file_is_refused_before_the_run(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("x")
    with pytest.raises(OutputPathError, match="log_dir"):
        gamesolve.solve("kuhn_poker", "nfsp", iterations=1, progress=False, log_dir=taken)


def test_non_finite_outputs_stop_naming_the_iteration_and_keep_the_state():
    solver = NFSP(**SMALL)
    game = solver.prepare("kuhn_poker")
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, 2)
    good = {name: value.copy() for name, value in state.items()}
    state["q.policy.bias"][...] = np.nan  # the Q-network blows up
    with pytest.raises(GamesolveError, match="iteration 3"):
        solver.step(game, state, 1)
    assert int(state["t"]) == 2
    for name in good:
        if name != "q.policy.bias":
            np.testing.assert_array_equal(state[name], good[name], err_msg=name)


def test_non_finite_loss_stops_naming_the_iteration_and_keeps_the_state():
    solver = NFSP(**SMALL)
    game = solver.prepare("kuhn_poker")
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, 3)
    assert int(state["replay.size"]) >= SMALL["batch_size"]
    good = {name: value.copy() for name, value in state.items()}
    state["replay.reward"][...] = np.inf  # a reward that is not finite: the DQN loss is not
    with pytest.raises(GamesolveError, match=r"loss is not finite at iteration 4 \(DQN step 1\)"):
        solver.step(game, state, 1)
    assert int(state["t"]) == 3
    for name in good:
        if name != "replay.reward":
            np.testing.assert_array_equal(state[name], good[name], err_msg=name)


def test_log_dir_writes_evaluation_and_iteration_rows(tmp_path):
    logs = tmp_path / "runs" / "kuhn"
    result = gamesolve.solve(
        "kuhn_poker",
        "nfsp",
        iterations=4,
        eval_every=2,
        progress=False,
        log_dir=logs,
        **{**SMALL, "anticipatory": 0.5},  # enough best responses for the average network to learn
    )
    with (logs / "evaluations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(result.history) == 3
    assert [int(r["iteration"]) for r in rows] == list(result.history.iteration)
    assert [float(r["exploitability"]) for r in rows] == pytest.approx(list(result.history.exploitability))
    with (logs / "updates.csv").open(newline="") as handle:
        updates = list(csv.DictReader(handle))
    assert [int(r["update"]) for r in updates] == [1, 2, 3, 4]
    assert all(float(r["episodes"]) == SMALL["num_envs"] for r in updates)
    assert np.isfinite(float(updates[-1]["sl_loss"])) and np.isfinite(float(updates[-1]["rl_loss"]))


@pytest.mark.gpu
def test_cuda_updates_and_a_cpu_policy_file(tmp_path):
    result = gamesolve.solve(
        "kuhn_poker", "nfsp", iterations=4, eval_every=2, progress=False, device="cuda", **SMALL
    )
    assert result.extras["device"].startswith("cuda")
    assert result.extras["rl_updates"] > 0
    assert 0.0 <= result.exploitability <= 1.0
    loaded = load_policy(result.policy.save(tmp_path / "kuhn.pt"))
    assert gamesolve.exploitability(gamesolve.load_game("kuhn_poker"), loaded) == pytest.approx(
        result.exploitability, abs=1e-6
    )
