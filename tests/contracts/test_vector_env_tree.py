"""The batched environment of compiled games (TreeVectorEnv): values, reproducibility, tensors, errors."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import GameTooLargeError, InvalidArgumentError, UnsupportedGame
from gamesolve.kernels.mccfr import draw_uniform_py, stream_seed_py
from gamesolve.kernels.vector_env import step_batch, step_batch_numpy
from gamesolve.vector_env import TimeStep, VectorEnv, vector_env
from gamesolve.vector_env.tree import TreeVectorEnv

NATIVE = ["kuhn", "kuhn(players=3)", "leduc"]


@pytest.fixture(scope="module")
def native():
    games = {name: gamesolve.load_game(name) for name in NATIVE}
    for game in games.values():
        game.compile()
    return games


def _pick(compiled, probs, infosets, u):
    """Slot sampled from the policy rows by inverse CDF with uniforms ``u``, as action ids."""
    cum = np.cumsum(probs[infosets], axis=1)
    slot = (u[:, None] >= cum).sum(axis=1)
    slot = np.minimum(slot, compiled.infoset_num_actions[infosets] - 1)
    return compiled.infoset_actions[infosets, slot].astype(np.int64)


def _mean_returns(env, policy, episodes, rng):
    compiled = env.game
    probs = policy.probs
    ts = env.reset()
    got = []
    count = 0
    while count < episodes:
        actions = _pick(compiled, probs, env.infoset_ids, rng.random(env.num_envs))
        ts = env.step(actions)
        if ts.done.any():
            got.append(ts.reward[ts.done])
            count += int(ts.done.sum())
    returns = np.concatenate(got)
    return returns.mean(axis=0), returns.std(axis=0) / np.sqrt(len(returns))


# ------------------------------------------------------------------------------------ the interface


def test_the_dispatcher_builds_a_tree_env_for_native_games(native):
    env = gamesolve.vector_env("leduc", num_envs=5, seed=3)
    assert isinstance(env, TreeVectorEnv) and isinstance(env, VectorEnv)
    ts = env.reset()
    assert isinstance(ts, TimeStep)
    assert ts.observation.shape == (5, 30) and ts.observation.dtype == np.float32
    assert ts.legal.shape == (5, 3) and ts.legal.dtype == np.bool_
    assert ts.player.shape == (5,) and ts.player.dtype == np.int64
    assert ts.reward.shape == (5, 2) and ts.reward.dtype == np.float64
    assert ts.done.shape == (5,) and not ts.done.any()
    assert (ts.player == 0).all()  # player 0 opens Leduc
    # At the first decision: call and raise are legal, fold is not (column j is action id j).
    assert (ts.legal == [False, True, True]).all()
    assert env.num_actions == 3 and env.observation_size == 30 and env.num_players == 2
    assert env.episode_ids.tolist() == [0, 1, 2, 3, 4]
    assert gamesolve.vector_env is vector_env and gamesolve.VectorEnv is VectorEnv


def test_observation_rows_are_the_table_rows_of_the_acting_infoset(native):
    game = native["leduc"]
    for kind in ("info_state", "observation"):
        env = TreeVectorEnv(game, num_envs=16, seed=1, observation=kind)
        table = game.infoset_tensors(kind)
        ts = env.reset()
        rng = np.random.default_rng(0)
        for _ in range(20):
            infosets = env.infoset_ids
            assert np.array_equal(ts.observation, table[infosets])
            assert np.array_equal(ts.legal, env._legal_table[infosets])
            assert np.array_equal(ts.player, game.compile().infoset_player[infosets])
            u = rng.random(ts.legal.shape)
            u[~ts.legal] = -1
            ts = env.step(u.argmax(axis=1))


def test_rewards_arrive_when_episodes_end_and_slots_restart(native):
    env = TreeVectorEnv(native["kuhn"], num_envs=3, seed=0)
    env.reset()
    # Kuhn: bet then call ends every episode after two decisions.
    ts = env.step(np.ones(3, dtype=np.int64))
    assert not ts.done.any() and (ts.reward == 0).all() and (ts.player == 1).all()
    ts = env.step(np.ones(3, dtype=np.int64))
    assert ts.done.all() and env.episodes == 3
    assert (np.abs(ts.reward[:, 0]) == 2).all() and (ts.reward.sum(axis=1) == 0).all()
    assert (ts.player == 0).all()  # the slots hold fresh episodes at their first decision
    assert env.episode_ids.tolist() == [3, 4, 5]


# ------------------------------------------------------------------- expected values of fixed policies


@pytest.mark.parametrize("name", NATIVE)
def test_mean_returns_match_the_exact_expected_values(native, name):
    game = native[name]
    policy = gamesolve.TabularPolicy.random(game, rng=np.random.default_rng(7))
    exact = gamesolve.expected_values(game, policy)
    env = TreeVectorEnv(game, num_envs=1024, seed=11)
    mean, stderr = _mean_returns(env, policy, 150_000, np.random.default_rng(5))
    assert np.all(np.abs(mean - exact) <= 4 * stderr), (mean, exact, stderr)


def test_compiled_openspiel_game_without_tensors_matches_its_value():
    pytest.importorskip("pyspiel")
    game = gamesolve.load_game("kuhn_poker")
    compiled = gamesolve.as_compiled(game)
    policy = gamesolve.TabularPolicy.random(compiled, rng=np.random.default_rng(3))
    env = TreeVectorEnv(compiled, num_envs=512, seed=2)
    mean, stderr = _mean_returns(env, policy, 100_000, np.random.default_rng(4))
    exact = gamesolve.expected_values(compiled, policy)
    assert np.all(np.abs(mean - exact) <= 4 * stderr), (mean, exact, stderr)


# --------------------------------------------------------------------------------- reproducibility


def _episode_stream(game, num_envs, episodes, seed=4, policy_key=99):
    """Trace of every episode 0..episodes-1: its decisions and its payoffs, with per-episode draws."""
    env = TreeVectorEnv(game, num_envs=num_envs, seed=seed)
    compiled = env.game
    probs = gamesolve.TabularPolicy.random(game, rng=np.random.default_rng(1)).probs
    traces: dict[int, list] = {}
    finished: dict[int, tuple] = {}
    ts = env.reset()
    while not all(e in finished for e in range(episodes)):
        ids = env.episode_ids
        infosets = env.infoset_ids
        u = np.empty(num_envs)
        for b, e in enumerate(ids):
            k = len(traces.setdefault(int(e), []))
            u[b] = draw_uniform_py(stream_seed_py(policy_key, int(e), 1), k, 0)
        actions = _pick(compiled, probs, infosets, u)
        for b, e in enumerate(ids):
            traces[int(e)].append((int(ts.player[b]), int(infosets[b]), int(actions[b])))
        ts = env.step(actions)
        for b in np.flatnonzero(ts.done):
            e = int(ids[b])
            finished[e] = (tuple(traces[e]), tuple(ts.reward[b].tolist()))
    return [finished[e] for e in range(episodes)]


@pytest.mark.parametrize("name", ["kuhn(players=3)", "leduc"])
def test_the_episode_stream_is_the_same_for_every_batch_size(native, name):
    game = native[name]
    one = _episode_stream(game, 1, 150)
    assert one == _episode_stream(game, 7, 150)
    assert one == _episode_stream(game, 64, 150)
    assert len({trace for trace, _ in one}) > 20  # the stream really varies
    assert one != _episode_stream(game, 7, 150, seed=5)


def test_the_same_seed_and_actions_give_the_same_batches(native):
    def run(seed):
        env = TreeVectorEnv(native["leduc"], num_envs=32, seed=seed)
        ts = env.reset()
        rng = np.random.default_rng(0)
        out = []
        for _ in range(30):
            u = rng.random(ts.legal.shape)
            u[~ts.legal] = -1
            ts = env.step(u.argmax(axis=1))
            out.append((ts.observation.copy(), ts.reward.copy(), ts.done.copy()))
        return out

    a, b, c = run(0), run(0), run(1)
    assert all(
        all(np.array_equal(x, y) for x, y in zip(s, t, strict=True)) for s, t in zip(a, b, strict=True)
    )
    assert not all(np.array_equal(s[0], t[0]) for s, t in zip(a, c, strict=True))


@pytest.mark.parametrize("name", [*NATIVE, "one-hot"])
def test_the_kernel_equals_its_numpy_twin(native, name):
    game = native["leduc"] if name == "one-hot" else native[name]
    if name == "one-hot":
        game = dataclasses.replace(game.compile(), source=None)
    env = TreeVectorEnv(game, num_envs=9, seed=123)
    env.reset()
    rng = np.random.default_rng(2)
    tree = env.game.tree
    for _ in range(40):
        legal = env._current_legal()
        u = rng.random(legal.shape)
        u[~legal] = -1
        actions = u.argmax(axis=1).astype(np.int64)
        results = []
        for kernel in (step_batch, step_batch_numpy):
            state = [env._node.copy(), env._ep_seed.copy(), env._draws.copy(), env._episode.copy()]
            outs = [
                np.empty((9, env.observation_size), np.float32),
                np.empty((9, env.num_actions), np.bool_),
                np.empty(9, np.int64),
                np.zeros((9, env.num_players)),
                np.zeros(9, np.bool_),
            ]
            ret = kernel(
                tree,
                env._legal_table,
                env._action_slot,
                env._table,
                env._one_hot,
                np.uint64(env.seed),
                *state,
                env._next_episode,
                actions,
                True,
                *outs,
            )
            results.append((tuple(int(r) for r in ret), state, outs))
        (ret_a, state_a, outs_a), (ret_b, state_b, outs_b) = results
        assert ret_a == ret_b
        for x, y in zip(state_a + outs_a, state_b + outs_b, strict=True):
            assert np.array_equal(x, y)
        env.step(actions)
        assert np.array_equal(env._node, state_a[0])


# -------------------------------------------------------------------------------------- tensors


@pytest.mark.parametrize(
    ("name", "os_name"),
    [
        ("kuhn", "kuhn_poker"),
        ("kuhn(players=3)", "kuhn_poker(players=3)"),
        ("leduc", "leduc_poker"),
    ],
)
def test_native_tensors_equal_openspiels_infoset_by_infoset(native, name, os_name):
    pyspiel = pytest.importorskip("pyspiel")
    game = native[name]
    compiled = game.compile()
    os_game = pyspiel.load_game(os_name)
    info = game.infoset_tensors("info_state")
    obs = game.infoset_tensors("observation")
    assert info.shape == (compiled.num_infosets, os_game.information_state_tensor_shape()[0])
    assert obs.shape == (compiled.num_infosets, os_game.observation_tensor_shape()[0])
    ids, first = np.unique(compiled.node_infoset, return_index=True)
    for i, node in zip(ids[1:], first[1:], strict=True):  # ids[0] is -1 (no infoset)
        state = os_game.new_initial_state()
        for action in compiled.history(int(node)):  # matched by history
            state.apply_action(action)
        assert state.information_state_string() == compiled.infosets.key(int(i))
        assert np.array_equal(np.asarray(state.information_state_tensor(), np.float32), info[i])
        assert np.array_equal(np.asarray(state.observation_tensor(), np.float32), obs[i])


def test_generalized_leduc_tensors_keep_the_layout_and_tell_infosets_apart():
    game = gamesolve.load_game("leduc(ranks=4,suits=3,raises=3)")
    compiled = game.compile()
    n = game.num_cards
    info = game.infoset_tensors("info_state")
    obs = game.infoset_tensors("observation")
    assert info.shape == (compiled.num_infosets, 2 + 2 * n + 2 * 2 * (3 + 2))
    assert obs.shape == (compiled.num_infosets, 2 + 2 * n + 2)
    assert len(np.unique(info, axis=0)) == compiled.num_infosets  # perfect recall: one row per infoset
    assert np.array_equal(info[:, :2].argmax(axis=1), compiled.infoset_player)
    assert (info[:, 2 : 2 + n].sum(axis=1) == 1).all()
    assert np.array_equal(info[:, : 2 + 2 * n], obs[:, : 2 + 2 * n])
    env = TreeVectorEnv(game, num_envs=4, observation="observation")
    assert env.observation_size == obs.shape[1]
    assert info.flags.writeable is False and game.infoset_tensors("info_state") is info  # cached


def test_a_game_without_tensors_uses_the_infoset_one_hot(native):
    bare = dataclasses.replace(native["kuhn"].compile(), source=None)
    env = TreeVectorEnv(bare, num_envs=6)
    ts = env.reset()
    assert env.observation_size == bare.num_infosets and env.table is None
    assert np.array_equal(ts.observation.argmax(axis=1), env.infoset_ids)
    assert (ts.observation.sum(axis=1) == 1).all()
    with pytest.raises(UnsupportedGame, match="info_state"):
        TreeVectorEnv(bare, num_envs=2, observation="observation")


def test_a_given_table_is_used_for_either_kind(native):
    compiled = native["kuhn"].compile()
    table = np.arange(compiled.num_infosets * 2, dtype=np.float64).reshape(-1, 2)
    env = TreeVectorEnv(compiled, num_envs=4, observation="observation", table=table)
    ts = env.reset()
    assert np.array_equal(ts.observation, table[env.infoset_ids].astype(np.float32))
    with pytest.raises(InvalidArgumentError, match="table"):
        TreeVectorEnv(compiled, num_envs=4, table=table[:-1])
    bad = table.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InvalidArgumentError, match="table must be finite; row 3"):
        TreeVectorEnv(compiled, num_envs=4, table=bad)


# ------------------------------------------------------------------------------------ bad input


def test_bad_arguments_name_the_argument(native):
    with pytest.raises(InvalidArgumentError, match="observation"):
        vector_env("leduc", num_envs=2, observation="pixels")
    with pytest.raises(InvalidArgumentError, match="observation"):
        TreeVectorEnv(native["leduc"], num_envs=2, observation="pixels")
    with pytest.raises(InvalidArgumentError, match="num_envs"):
        vector_env("leduc", num_envs=0)
    with pytest.raises(InvalidArgumentError, match="seed"):
        TreeVectorEnv(native["leduc"], seed=-1)
    with pytest.raises(InvalidArgumentError, match="num_actions"):
        TreeVectorEnv(native["leduc"], num_actions=2)


def test_bad_actions_are_refused_and_nothing_is_played(native):
    env = TreeVectorEnv(native["leduc"], num_envs=3, seed=0)
    twin = TreeVectorEnv(native["leduc"], num_envs=3, seed=0)
    with pytest.raises(InvalidArgumentError, match="reset"):
        env.step([1, 1, 1])
    env.reset()
    twin.reset()
    with pytest.raises(InvalidArgumentError, match=r"actions must be 3 integer action ids.*\(4,\)"):
        env.step([1, 1, 1, 1])
    with pytest.raises(InvalidArgumentError, match=r"actions must be 3 integer action ids.*float64"):
        env.step(np.ones(3))
    with pytest.raises(InvalidArgumentError, match="actions must be 3 integer"):
        env.step(np.ones((3, 1), dtype=np.int64))
    with pytest.raises(
        InvalidArgumentError, match=r"actions\[1\] = 0 is not legal in slot 1; legal action ids: \[1, 2\]"
    ):
        env.step([1, 0, 1])  # fold is not legal before a raise
    with pytest.raises(InvalidArgumentError, match=r"actions\[2\] = 7 is not legal"):
        env.step([1, 1, 7])
    with pytest.raises(InvalidArgumentError, match=r"actions\[0\] = -1 is not legal"):
        env.step([-1, 1, 1])
    a, b = env.step([2, 1, 2]), twin.step(np.array([2, 1, 2], dtype=np.int32))
    assert np.array_equal(a.observation, b.observation) and np.array_equal(a.legal, b.legal)


def test_a_game_too_large_to_compile_is_refused_up_front_with_an_estimate():
    start = time.perf_counter()
    with pytest.raises(GameTooLargeError, match=r"leduc\(ranks=200,suits=4\) has 38,265,708,801 histories"):
        vector_env("leduc(ranks=200,suits=4)", num_envs=4)
    with (
        gamesolve.memory_budget("64M"),
        pytest.raises(
            GameTooLargeError,
            match=r"leduc\(ranks=13,suits=4\) needs about 1.1 GiB to compile \(9,984,833 histories\)",
        ),
    ):
        vector_env("leduc(ranks=13,suits=4)", num_envs=4)
    assert time.perf_counter() - start < 1.0


def test_the_observation_batch_is_checked_against_the_memory_budget(native):
    bare = dataclasses.replace(native["leduc"].compile(), source=None)  # one-hot: F = 936
    with gamesolve.memory_budget("1M"), pytest.raises(GameTooLargeError, match="observations"):
        TreeVectorEnv(bare, num_envs=1024)
