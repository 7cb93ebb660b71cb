"""Neural magnetic mirror descent, the ``"neural-mmd"`` solver (issue 14, item 3).

It learns on Kuhn (exact exploitability of the network falls well below the uniform start), its exact
exploitability is its tabulated policy's, it runs on a game that does not compile (connect_four,
head-to-head evaluation), resumes a CPU run to the same numbers with either magnet, refuses bad
options naming them, and stops on a non-finite loss naming the update with the state kept.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gamesolve  # noqa: E402
from gamesolve.checkpoint import load_checkpoint  # noqa: E402
from gamesolve.errors import GamesolveError, InvalidArgumentError  # noqa: E402
from gamesolve.neural import NeuralPolicy, load_policy  # noqa: E402
from gamesolve.registry import make_solver  # noqa: E402
from gamesolve.solver import Iterate  # noqa: E402
from gamesolve.solvers.deep.common import EXPLOITABILITY, LOSS_RATE  # noqa: E402
from gamesolve.solvers.deep.mmd import NeuralMMD  # noqa: E402
from gamesolve.solvers.deep.ppo import PPO  # noqa: E402

#: Small and quick: the tests check behaviour, not strength.
SMALL = {"num_envs": 32, "rollout_length": 8, "hidden": [32], "epochs": 2, "minibatches": 2}


def test_registered_as_a_ppo_with_another_objective():
    solver = make_solver("neural-mmd")
    assert isinstance(solver, NeuralMMD) and isinstance(solver, PPO)
    assert solver.output is Iterate.CURRENT
    assert "clip" not in solver.config() and solver.config()["magnet"] == "uniform"


def test_kuhn_exploitability_falls_well_below_uniform(tmp_path):
    result = gamesolve.solve(
        "kuhn_poker", "neural-mmd", iterations=30, eval_every=10, seed=0, progress=False, num_envs=64
    )
    history = result.history.exploitability
    assert history[0] == pytest.approx(0.4583, abs=0.02)  # the network starts near uniform
    assert result.exploitability == pytest.approx(history[-1])
    assert history[-1] <= 0.5 * history[0]
    assert result.extras["evaluation"] == EXPLOITABILITY
    assert result.extras["updates"] == 30
    last = result.extras["last_update"]
    assert last["alpha"] < 0.2 and last["kl_magnet"] >= 0.0 and last["kl_prev"] >= 0.0
    path = result.policy.save(tmp_path / "kuhn.pt")
    assert gamesolve.exploitability(gamesolve.load_game("kuhn_poker"), load_policy(path)) == pytest.approx(
        result.exploitability, abs=1e-9
    )


def test_exact_exploitability_is_the_tabulated_policys():
    result = gamesolve.solve("leduc", "neural-mmd", iterations=2, seed=2, progress=False, **SMALL)
    game = gamesolve.load_game("leduc")
    policy = result.policy
    assert isinstance(policy, NeuralPolicy)
    table = policy.tabulate(game)
    assert gamesolve.exploitability(game, table) == pytest.approx(result.exploitability, abs=1e-6)
    assert gamesolve.exploitability(game, policy) == pytest.approx(result.exploitability, abs=1e-9)


def test_the_magnet_weight_anneals_towards_alpha_final():
    solver = NeuralMMD(alpha=0.4, alpha_final=0.1, anneal_updates=10)
    assert solver.alpha_at(1) == pytest.approx(0.4)
    assert solver.alpha_at(11) == pytest.approx(0.25)  # half way down after anneal_updates
    assert solver.alpha_at(10**9) == pytest.approx(0.1, abs=1e-6)
    assert NeuralMMD(alpha=0.3, anneal_updates=0).alpha_at(500) == 0.3


@pytest.mark.parametrize("magnet", ["uniform", "moving"])
def test_resume_repeats_an_uninterrupted_cpu_run_exactly(tmp_path, magnet):
    opts = {"seed": 3, "progress": False, "eval_every": 1, "magnet": magnet, "anneal_updates": 2, **SMALL}
    straight, first, second = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    full = gamesolve.solve("kuhn_poker", "neural-mmd", iterations=4, checkpoint=straight, **opts)
    gamesolve.solve("kuhn_poker", "neural-mmd", iterations=2, checkpoint=first, **opts)
    resumed = gamesolve.solve(
        "kuhn_poker", "neural-mmd", iterations=4, resume=first, checkpoint=second, **opts
    )
    _, a = load_checkpoint(straight)
    _, b = load_checkpoint(second)
    assert set(a) == set(b)
    assert any(name.startswith("mag.") for name in a) == (magnet == "moving")
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert resumed.history.exploitability == full.history.exploitability


def test_the_moving_magnet_follows_the_policy():
    solver = NeuralMMD(magnet="moving", magnet_rate=0.5, **SMALL)
    game = solver.prepare("kuhn_poker")
    state = solver.init(game, np.random.default_rng(0))
    names = [k for k in state if k.startswith("net.")]
    for k in names:
        np.testing.assert_array_equal(state[k], state["mag." + k[4:]])  # it starts as the network
    before = {k: state[k].copy() for k in names}
    solver.step(game, state, 1)
    for k in names:  # then moves half way to the updated network
        np.testing.assert_allclose(state["mag." + k[4:]], 0.5 * (before[k] + state[k]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("alpha", -0.1),
        ("alpha", float("nan")),
        ("alpha_final", 5.0),  # above alpha
        ("anneal_updates", -1),
        ("kl_coef", -1.0),
        ("magnet", "previous"),
        ("magnet_rate", 0.0),
        ("normalize_advantages", "yes"),
        ("learning_rate", 0.0),
        ("device", "tpu"),
        ("clip", 0.2),  # PPO's option: not this learner's
        ("entropy_coef", 0.1),  # replaced by the uniform magnet
    ],
)
def test_bad_options_name_the_argument(option, value):
    with pytest.raises(InvalidArgumentError, match=option):
        gamesolve.solve("kuhn_poker", "neural-mmd", iterations=1, progress=False, **{option: value})


def test_non_finite_loss_stops_naming_the_update():
    solver = NeuralMMD(**SMALL)
    game = solver.prepare("kuhn_poker")
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, 1)
    good = {name: value.copy() for name, value in state.items()}
    solver.kl_coef = math.inf  # inf times a zero KL on the first minibatch: the loss is NaN
    with pytest.raises(GamesolveError, match=r"neural-mmd: the loss is not finite at update 2 \(epoch 1"):
        solver.step(game, state, 1)
    assert int(state["t"]) == 1
    for name in good:
        np.testing.assert_array_equal(state[name], good[name], err_msg=name)
    state["net.value.bias"][...] = np.nan  # non-finite outputs are caught in the rollout
    with pytest.raises(GamesolveError, match=r"neural-mmd: the network gives non-finite outputs at update 2"):
        solver.step(game, state, 1)


def test_connect_four_without_compiling_with_head_to_head_extras(tmp_path):
    pytest.importorskip("pyspiel")
    ckpt = tmp_path / "c4.npz"
    opts = {"seed": 1, "progress": False, "eval_matches": 4, "magnet": "moving", **SMALL, "rollout_length": 2}
    gamesolve.solve("connect_four", "neural-mmd", iterations=1, checkpoint=ckpt, **opts)
    result = gamesolve.solve("connect_four", "neural-mmd", iterations=2, resume=ckpt, eval_every=1, **opts)
    assert result.iterations == 2
    assert result.extras["evaluation"] == LOSS_RATE
    assert math.isnan(result.exploitability)
    assert 0.0 <= result.extras["win_rate_vs_uniform"] <= 1.0
    assert isinstance(result.policy, NeuralPolicy)


def test_bench_learner_updates_times_both_learners_on_the_cpu(tmp_path):
    from experiments.bench_learner_updates import main

    data = main(batch=64, updates=1, warmup=1, cpu_threads=(1,), out=str(tmp_path))
    assert set(data["rows"]) == {"ppo", "neural-mmd"}
    assert all(row["cpu x1"] > 0 for row in data["rows"].values())
    assert json.loads((tmp_path / "result.json").read_text())["batch"] == 64
