"""ESCHER (the ``"escher"`` solver): Kuhn learning, trajectory kernel, history features, resume, options."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("torch")

import gamesolve
from gamesolve.errors import GamesolveError, InvalidArgumentError
from gamesolve.kernels.escher import NO_TRAVERSER, sample_trajectories, sample_trajectories_numpy
from gamesolve.kernels.tree import TERMINAL
from gamesolve.neural import NeuralPolicy
from gamesolve.registry import make_solver
from gamesolve.solvers.deep.escher import ESCHER, HistoryFeatures

SMALL = {
    "traversals": 300,
    "value_traversals": 300,
    "value_hidden": [32, 32],
    "value_steps": 60,
    "advantage_hidden": [32, 32],
    "policy_hidden": [32, 32],
    "advantage_steps": 50,
    "policy_steps": 300,
    "buffer_size": 20_000,
    "strategy_buffer_size": 20_000,
}

UNIFORM_KUHN = 0.4583  # exploitability of uniform play in Kuhn poker


def _random_sigma(game, rng):
    raw = rng.random((game.num_infosets, game.max_actions)) * game.legal_mask
    return raw / raw.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------------------------ learning


def test_kuhn_falls_clearly_below_uniform_with_an_exact_network_evaluation(kuhn):
    options = {"traversals": 500, "value_traversals": 500, "policy_steps": 300}  # default networks
    result = gamesolve.solve(kuhn, "escher", iterations=10, eval_every=5, seed=0, progress=False, **options)
    assert isinstance(result.policy, NeuralPolicy)
    assert result.iterations == 10
    assert result.history.exploitability[0] == pytest.approx(UNIFORM_KUHN, abs=1e-3)
    # Loose on purpose (a short run of a sampled method): 0.10-0.15 over seeds 0 and 1 here.
    assert result.exploitability < 0.25
    table = result.policy.tabulate(kuhn)
    assert gamesolve.exploitability(kuhn, table) == pytest.approx(result.exploitability, abs=1e-12)
    assert result.extras["regret_samples"][0] > 0 and result.extras["strategy_samples"] > 0
    assert np.isfinite(result.extras["value_loss"])


def test_escher_is_registered():
    assert isinstance(make_solver("escher"), ESCHER)


# ---------------------------------------------------------------------------------- trajectories


@pytest.mark.parametrize(("traverser", "epsilon"), [(0, 0.0), (1, 0.0), (NO_TRAVERSER, 0.3)])
def test_kernel_matches_its_python_twin_on_leduc(leduc, traverser, epsilon):
    game = leduc.compile()
    rng = np.random.default_rng(3)
    sigma = _random_sigma(game, rng)
    key = int(rng.integers(0, 2**63))
    cap = 8  # too small: the kernel reports the overflow and a second call repeats the draws
    for size in (cap, 4096):
        node = np.zeros(size, dtype=np.int32)
        slot = np.zeros(size, dtype=np.int32)
        nxt = np.zeros(size, dtype=np.int32)
        n = sample_trajectories(
            game.tree, game.node_terminal, sigma, np.uint64(key), traverser, epsilon, 40, node, slot, nxt
        )
    assert cap < n <= 4096
    twin = sample_trajectories_numpy(game.tree, game.node_terminal, sigma, key, traverser, epsilon, 40)
    assert node[:n].tolist() == twin[0] and slot[:n].tolist() == twin[1] and nxt[:n].tolist() == twin[2]
    # Each record's successor is its child's next decision node, or the terminal it ends in.
    for k in range(n):
        child = int(game.node_first_child[node[k]]) + int(slot[k])
        if nxt[k] < 0:
            terminal = int(game.tree.terminal_node[-1 - nxt[k]])
            assert game.node_player[terminal] == TERMINAL
            here = terminal
        else:
            here = int(nxt[k])
        while here != child:  # only chance nodes lie between
            here = int(game.node_parent[here])
            assert here == child or game.node_player[here] < 0


def test_traverser_samples_uniformly_and_others_follow_the_table(kuhn):
    game = kuhn.compile()
    sigma = np.where(game.legal_mask, 0.0, 0.0)
    sigma[:, 0] = 1.0  # everyone passes/checks unless sampling uniformly
    node = np.zeros(20_000, dtype=np.int32)
    slot = np.zeros_like(node)
    nxt = np.zeros_like(node)
    n = sample_trajectories(game.tree, game.node_terminal, sigma, np.uint64(9), 0, 0.0, 4000, node, slot, nxt)
    player = game.node_player[node[:n]]
    assert np.all(slot[:n][player == 1] == 0)
    assert abs(slot[:n][player == 0].mean() - 0.5) < 0.03


def test_history_features_tell_every_decision_history_apart(leduc):
    solver = ESCHER()
    game = leduc.compile()
    features = HistoryFeatures(solver._data(game))
    decision = np.flatnonzero(game.node_player >= 0)
    x = features.features(decision)
    assert x.shape == (decision.size, features.size)
    assert np.unique(x, axis=0).shape[0] == decision.size
    # Two histories of one infoset differ only in what the acting player cannot see.
    infoset = int(game.node_infoset[decision[0]])
    same = decision[game.node_infoset[decision] == infoset]
    assert same.size > 1
    rows = features.features(same)
    head = rows[:, : features.data.size]
    assert (head == head[:1]).all() and not (rows == rows[:1]).all()


# ------------------------------------------------------------------------------------------ resume


def test_resumed_run_equals_an_uninterrupted_one(kuhn, tmp_path):
    total, every = 4, 2
    path, snapshot = tmp_path / "run.npz", tmp_path / "at_2.npz"
    options = dict(
        SMALL, traversals=50, value_traversals=50, value_steps=10, advantage_steps=10, policy_steps=30
    )

    def keep_first(iteration, _expl):
        if iteration == every:
            shutil.copy(path, snapshot)

    common = {"iterations": total, "eval_every": every, "seed": 5, "progress": False}
    full = gamesolve.solve(
        kuhn, "escher", checkpoint=path, checkpoint_every=every, callback=keep_first, **common, **options
    )
    with np.load(snapshot) as data:
        assert int(data["t"]) == every
        assert {"val.body.0.weight", "val.opt.p0.exp_avg_sq", "adv0.body.0.weight"} <= set(data.files)
        assert int(data["val.opt.p0.step"]) == every * options["value_steps"]
    resumed = gamesolve.solve(kuhn, "escher", resume=snapshot, **common, **options)
    plain = gamesolve.solve(kuhn, "escher", **common, **options)
    reference = full.policy.tabulate(kuhn).probs
    for other in (resumed, plain):
        assert other.iterations == total
        assert np.array_equal(other.policy.tabulate(kuhn).probs, reference)
        assert np.array_equal(other.current_policy.probs, full.current_policy.probs)
        assert other.exploitability == full.exploitability


def test_split_into_calls_does_not_change_the_state(kuhn):
    game = kuhn.compile()
    solver = ESCHER(**dict(SMALL, traversals=30, value_traversals=30, value_steps=5, advantage_steps=5))
    one = solver.init(game, np.random.default_rng(2))
    many = {k: v.copy() for k, v in one.items()}
    solver.step(game, one, 3)
    for chunk in (1, 2):
        solver.step(game, many, chunk)
    assert set(one) == set(many)
    for name in one:
        assert np.array_equal(one[name], many[name]), name


# ----------------------------------------------------------------------------------- bad numbers


def test_non_finite_loss_stops_naming_the_iteration_and_keeps_the_state(kuhn):
    game = kuhn.compile()
    solver = ESCHER(**dict(SMALL, traversals=30, value_traversals=30, value_steps=5, advantage_steps=5))
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, 1)
    state["val.body.0.bias"][...] = np.nan  # the value network blows up: its loss is NaN
    good = {name: value.copy() for name, value in state.items()}
    with pytest.raises(GamesolveError, match=r"history value network at iteration 2.*keeps iteration 1"):
        solver.step(game, state, 1)
    assert set(state) == set(good)
    for name in good:
        np.testing.assert_array_equal(state[name], good[name], err_msg=name)


def test_a_huge_learning_rate_stops_with_a_clear_error(kuhn):
    with pytest.raises(GamesolveError, match=r"iteration \d+.*not finite"):
        gamesolve.solve(
            kuhn, "escher", iterations=10, progress=False, seed=0, **dict(SMALL, value_learning_rate=1e30)
        )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("traversals", 0),
        ("value_traversals", 0),
        ("value_hidden", "64"),
        ("value_steps", 0),
        ("value_batch", -1),
        ("value_learning_rate", 0.0),
        ("value_epsilon", 1.5),
        ("advantage_hidden", []),
        ("buffer_size", 0),
        ("observation", "pixels"),
        ("device", "tpu"),
        ("warm_start", "yes"),
        ("value_travresals", 10),  # a typo: unknown option
    ],
)
def test_bad_options_are_named(kuhn, option, value):
    with pytest.raises(InvalidArgumentError, match=option):
        gamesolve.solve(kuhn, "escher", iterations=1, progress=False, **{option: value})
