"""Deep CFR: convergence on Kuhn, traversal targets against brute force, reservoirs, resume, options."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("torch")

import gamesolve
from gamesolve.errors import InvalidArgumentError
from gamesolve.kernels.deep_cfr import external_sampling_traversals, traverse_numpy
from gamesolve.kernels.mccfr import max_depth
from gamesolve.kernels.tree import CHANCE, TERMINAL
from gamesolve.neural import NeuralPolicy
from gamesolve.solvers.deep.deep_cfr import DeepCFR, regret_matching_table, reservoir_insert

SMALL = {
    "traversals": 50,
    "advantage_hidden": [32, 32],
    "policy_hidden": [32, 32],
    "advantage_steps": 60,
    "policy_steps": 300,
    "buffer_size": 4000,
    "strategy_buffer_size": 4000,
}


def _random_sigma(game, rng, pure_players=()):
    """A random policy table; the players in ``pure_players`` play one action per infoset."""
    raw = rng.random((game.num_infosets, game.max_actions)) * game.legal_mask
    for p in pure_players:
        rows = game.infosets_of(p)
        best = np.argmax(raw[rows], axis=1)
        raw[rows] = 0.0
        raw[rows, best] = 1.0
    return raw / raw.sum(axis=1, keepdims=True)


def _run_kernel(game, sigma, key, player, count, cap=4096):
    tree = game.tree
    depth = max_depth(game.node_parent) + 1
    reg_i = np.zeros(cap, dtype=np.int32)
    reg_v = np.zeros((cap, game.max_actions))
    opp_i = np.zeros(cap, dtype=np.int32)
    n_reg, n_opp = external_sampling_traversals(
        tree,
        game.node_terminal,
        sigma,
        np.uint64(key),
        player,
        count,
        reg_i,
        reg_v,
        opp_i,
        np.zeros(depth, dtype=np.int32),
        np.zeros(depth, dtype=np.int32),
        np.zeros((depth, game.max_actions)),
    )
    assert n_reg <= cap and n_opp <= cap
    return reg_i[:n_reg], reg_v[:n_reg], opp_i[:n_opp]


# ------------------------------------------------------------------------------------ convergence


def test_kuhn_reaches_a_generous_bound_with_a_neural_policy(kuhn):
    result = gamesolve.solve(kuhn, "deep-cfr", iterations=10, eval_every=10, seed=0, progress=False, **SMALL)
    assert isinstance(result.policy, NeuralPolicy)
    assert result.iterations == 10
    assert result.exploitability < 0.2
    # The reported number is the exact exploitability of the network's table.
    table = result.policy.tabulate(kuhn)
    assert gamesolve.exploitability(kuhn, table) == pytest.approx(result.exploitability, abs=1e-12)
    assert result.extras["regret_samples"][0] > 0 and result.extras["strategy_samples"] > 0


# ------------------------------------------------------------------------------- traversal targets


def test_kernel_matches_its_python_twin_on_leduc(leduc):
    game = leduc.compile()
    rng = np.random.default_rng(1)
    sigma = _random_sigma(game, rng)
    for player in (0, 1):
        key = int(rng.integers(0, 2**63))
        reg_i, reg_v, opp_i = _run_kernel(game, sigma, key, player, 25)
        twin_i, twin_v, twin_o = traverse_numpy(game.tree, sigma, key, player, 25)
        assert reg_i.tolist() == twin_i
        assert opp_i.tolist() == twin_o
        np.testing.assert_allclose(reg_v, np.array(twin_v), rtol=0, atol=1e-12)
        assert np.all(game.infoset_player[reg_i] == player)
        assert np.all(game.infoset_player[opp_i] != player)


def _brute_force_regrets(game, sigma, player, deal_path):
    """Regrets of ``player``'s infosets when chance plays ``deal_path`` and the others are pure."""
    tree = game.tree
    terminal_index = {int(n): t for t, n in enumerate(tree.terminal_node)}
    out: dict[int, np.ndarray] = {}
    chance_moves = iter(deal_path)

    def value(n):
        pl = int(tree.node_player[n])
        if pl == TERMINAL:
            return float(tree.terminal_utility[terminal_index[n], player])
        first, m = int(tree.node_first_child[n]), int(tree.node_num_children[n])
        if pl == CHANCE:
            return value(first + next(chance_moves))
        infoset = int(tree.node_infoset[n])
        if pl != player:
            return value(first + int(np.argmax(sigma[infoset, :m])))
        child = np.array([value(first + a) for a in range(m)])
        v = float(sigma[infoset, :m] @ child)
        row = np.zeros(game.max_actions)
        row[:m] = child - v
        out[infoset] = row
        return v

    value(0)
    return out


def _deals(game):
    """Every sequence of chance outcomes from the root of Kuhn (chance acts only before play)."""
    tree = game.tree
    paths = [((), 0)]
    while tree.node_player[paths[0][1]] == CHANCE:
        paths = [
            ((*path, j), int(tree.node_first_child[n]) + j)
            for path, n in paths
            for j in range(int(tree.node_num_children[n]))
            if tree.node_prob[int(tree.node_first_child[n]) + j] > 0
        ]
    return [path for path, _ in paths]


def test_one_traversal_equals_brute_force_on_kuhn(kuhn):
    game = kuhn.compile()
    rng = np.random.default_rng(7)
    deals = _deals(game)
    for trial in range(40):
        player = trial % 2
        sigma = _random_sigma(game, rng, pure_players=(1 - player,))
        key = int(rng.integers(0, 2**63))
        reg_i, reg_v, _ = _run_kernel(game, sigma, key, player, 1)
        got = {int(i): v for i, v in zip(reg_i, reg_v, strict=True)}
        assert len(got) == len(reg_i) > 0  # each infoset at most once per traversal
        candidates = [_brute_force_regrets(game, sigma, player, deal) for deal in deals]
        matches = [
            c for c in candidates if c.keys() == got.keys() and all(np.allclose(c[i], got[i]) for i in c)
        ]
        assert matches, f"trial {trial}: the traversal's regrets match no deal's brute-force regrets"


def test_regret_matching_table_plays_the_best_when_none_is_positive():
    adv = np.array([[1.0, 3.0, 6.0], [-1.0, -0.5, 7.0], [0.0, -2.0, 0.0]])
    widths = np.array([3, 2, 2], dtype=np.int32)
    out = regret_matching_table(adv, widths)
    np.testing.assert_allclose(out[0], [0.1, 0.3, 0.6])
    np.testing.assert_allclose(out[1], [0.0, 1.0, 0.0])  # the 7 is not a legal slot
    np.testing.assert_allclose(out[2], [1.0, 0.0, 0.0])


# ---------------------------------------------------------------------------------------- reservoir


def test_reservoir_fills_then_samples_uniformly():
    cap, offered = 50, 400
    counts = np.zeros(offered)
    rng = np.random.default_rng(0)
    for _ in range(400):
        ids = np.zeros(cap, dtype=np.int32)
        rows = np.zeros((cap, 1), dtype=np.float32)
        w = np.zeros(cap, dtype=np.float32)
        seen = 0
        for chunk in (30, 70, 300):
            new = np.arange(seen, seen + chunk, dtype=np.int32)
            reservoir_insert(
                rng, seen, new, new[:, None].astype(np.float32), new.astype(np.float32), ids, rows, w
            )
            seen += chunk
            if seen <= cap:
                assert ids[:seen].tolist() == list(range(seen))
        assert len(set(ids.tolist())) == cap
        assert np.array_equal(rows[:, 0], ids) and np.array_equal(w, ids)
        counts[ids] += 1
    # Every offered sample is kept with probability cap / offered = 1/8.
    share = counts / 400
    assert abs(share[:200].mean() - 0.125) < 0.01 and abs(share[200:].mean() - 0.125) < 0.01


# ------------------------------------------------------------------------------------------ resume


@pytest.mark.parametrize("warm_start", [False, True])
def test_resumed_run_equals_an_uninterrupted_one(kuhn, tmp_path, warm_start):
    total, every = 6, 3
    path = tmp_path / "run.npz"
    snapshot = tmp_path / "at_3.npz"
    options = dict(SMALL, traversals=20, advantage_steps=20, policy_steps=50, warm_start=warm_start)

    def keep_first(iteration, _expl):
        if iteration == every:
            shutil.copy(path, snapshot)

    common = {"iterations": total, "eval_every": every, "seed": 5, "progress": False}
    full = gamesolve.solve(
        kuhn, "deep-cfr", checkpoint=path, checkpoint_every=every, callback=keep_first, **common, **options
    )
    with np.load(snapshot) as data:
        assert int(data["t"]) == every
        networks = {name for name in data.files if name.startswith("adv0.")}
        assert bool(networks) == warm_start  # the warm networks and their Adam moments are saved
        if warm_start:
            assert {"adv0.body.0.weight", "adv0.opt.p0.exp_avg_sq", "adv0.opt.p0.step"} <= networks
            assert int(data["adv0.opt.p0.step"]) == every * options["advantage_steps"]
    resumed = gamesolve.solve(kuhn, "deep-cfr", resume=snapshot, **common, **options)
    plain = gamesolve.solve(kuhn, "deep-cfr", **common, **options)
    reference = full.policy.tabulate(kuhn).probs
    for other in (resumed, plain):
        assert other.iterations == total
        assert np.array_equal(other.policy.tabulate(kuhn).probs, reference)
        assert np.array_equal(other.current_policy.probs, full.current_policy.probs)
        assert other.exploitability == full.exploitability


@pytest.mark.parametrize("warm_start", [False, True])
def test_split_into_calls_does_not_change_the_state(kuhn, warm_start):
    game = kuhn.compile()
    solver = DeepCFR(**dict(SMALL, traversals=10, advantage_steps=10, warm_start=warm_start))
    one = solver.init(game, np.random.default_rng(2))
    many = {k: v.copy() for k, v in one.items()}
    solver.step(game, one, 3)
    for chunk in (1, 2):
        solver.step(game, many, chunk)
    for name in one:
        assert np.array_equal(one[name], many[name]), name


# -------------------------------------------------------------------------------------- bad options


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("traversals", 0),
        ("advantage_hidden", []),
        ("policy_hidden", "64"),
        ("advantage_steps", 0),
        ("policy_steps", -1),
        ("learning_rate", 0.0),
        ("buffer_size", 0),
        ("strategy_buffer_size", 1.5),
        ("observation", "pixels"),
        ("device", "tpu"),
        ("threads", 0),
        ("warm_start", "yes"),
    ],
)
def test_bad_options_are_named(kuhn, option, value):
    with pytest.raises(InvalidArgumentError, match=option if option != "device" else "device"):
        gamesolve.solve(kuhn, "deep-cfr", iterations=1, progress=False, **{option: value})
