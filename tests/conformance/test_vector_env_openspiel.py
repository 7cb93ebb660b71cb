"""Batched environments on OpenSpiel games (pyspiel states stepped directly).

The batched environment must show the player to act, its tensor and its legal actions exactly as
``pyspiel`` states do, deliver the returns when episodes end, reproduce its stream for a seed,
play fixed policies to their exact expected values, and refuse bad input with clear errors. It
must run on games far too large to compile, without walking a tree.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import GamesolveError, InvalidArgumentError, UnsupportedGame
from gamesolve.evaluation import expected_values
from gamesolve.games.openspiel_env import OpenSpielVectorEnv
from gamesolve.policy import TabularPolicy
from gamesolve.vector_env import TimeStep, vector_env

pyspiel = pytest.importorskip("pyspiel")

#: Games far too large to compile, with the observation kind each provides.
LARGE_GAMES = [
    ("connect_four", "observation"),
    ("dark_hex", "info_state"),
    ("phantom_ttt", "info_state"),
    ("universal_poker(betting=limit)", "info_state"),
]
TENSOR = {"info_state": "information_state_tensor", "observation": "observation_tensor"}


def _random_actions(ts: TimeStep, rng: np.random.Generator) -> np.ndarray:
    scores = rng.random(ts.legal.shape)
    scores[~ts.legal] = -1.0
    return scores.argmax(axis=1)


def _check_against_states(env: OpenSpielVectorEnv, ts: TimeStep) -> None:
    """The batch shows exactly what the slots' pyspiel states say (and, on boards, who moves)."""
    method = TENSOR[env.observation_kind]
    for b, state in enumerate(env.states):
        player = state.current_player()
        assert ts.player[b] == player >= 0
        tensor = np.asarray(getattr(state, method)(player), np.float32)
        np.testing.assert_array_equal(ts.observation[b, : tensor.size], tensor)
        _check_mover(state.get_game(), ts.observation[b, tensor.size :], player, env.observation_shape)
        assert np.flatnonzero(ts.legal[b]).tolist() == state.legal_actions()


def _check_mover(game, extra: np.ndarray, player: int, shape: tuple[int, ...]) -> None:
    """What follows OpenSpiel's tensor: nothing, or the mover's one-hot (as planes on a board)."""
    if extra.size == 0:
        return
    players = game.num_players()
    planes = extra.reshape(players, -1)
    assert len(shape) == 3 and planes.shape[1] == shape[1] * shape[2]
    np.testing.assert_array_equal(
        planes, np.eye(players, dtype=np.float32)[player][:, None].repeat(planes.shape[1], 1)
    )


@pytest.mark.parametrize(
    ("name", "kind"), [*LARGE_GAMES, ("leduc_poker", "info_state"), ("kuhn_poker", "observation")]
)
def test_steps_match_pyspiel_states(name: str, kind: str) -> None:
    started = time.perf_counter()
    env = gamesolve.load_game(name).vector_env(num_envs=8, seed=3, observation=kind, backend="pyspiel")
    assert isinstance(env, OpenSpielVectorEnv)
    game = env.states  # nothing played yet
    assert game == ()
    ts = env.reset()
    assert ts.observation.shape == (8, env.observation_size) and ts.observation.dtype == np.float32
    assert ts.legal.shape == (8, env.num_actions) and ts.legal.dtype == np.bool_
    assert ts.player.shape == (8,) and ts.player.dtype == np.int64
    assert ts.reward.shape == (8, env.num_players) and ts.reward.dtype == np.float64
    assert ts.done.shape == (8,) and not ts.done.any()
    _check_against_states(env, ts)
    rng = np.random.default_rng(0)
    for _ in range(60):
        finished = env.states
        ts = env.step(_random_actions(ts, rng))
        _check_against_states(env, ts)
        for b in np.flatnonzero(ts.done):
            assert finished[b].is_terminal()  # the old state ended; the slot holds a new episode
            np.testing.assert_array_equal(ts.reward[b], finished[b].returns())
        assert not ts.reward[~ts.done].any()
    assert env.episodes >= 1 or name == "connect_four"
    assert time.perf_counter() - started < 30  # no tree walk


def test_large_games_run_without_compiling() -> None:
    game = gamesolve.load_game("universal_poker(betting=limit)")
    env = game.vector_env(num_envs=4, seed=0)
    ts = env.reset()
    rng = np.random.default_rng(1)
    for _ in range(100):
        ts = env.step(_random_actions(ts, rng))
    assert env.episodes > 0
    assert game._compiled is None  # the game was never compiled


def test_auto_backend_steps_the_tree_of_small_games_only() -> None:
    from gamesolve.vector_env.tree import TreeVectorEnv

    assert isinstance(vector_env("leduc_poker", num_envs=2, seed=0), TreeVectorEnv)
    assert isinstance(vector_env("kuhn_poker(players=3)", num_envs=2, seed=0), TreeVectorEnv)
    for name, kind in [*LARGE_GAMES, ("liars_dice", "info_state")]:
        started = time.perf_counter()
        assert isinstance(vector_env(name, num_envs=2, seed=0, observation=kind), OpenSpielVectorEnv)
        assert time.perf_counter() - started < 3.0, name
    # The turn-based goofspiel is not of perfect recall, so it has no tree: states it is.
    assert isinstance(vector_env("goofspiel(num_cards=4)", num_envs=2, seed=0), OpenSpielVectorEnv)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("leduc_poker", "info_state"), ("leduc_poker", "observation"), ("kuhn_poker(players=3)", "info_state")],
)
def test_both_backends_show_the_same_tensors(name: str, kind: str) -> None:
    game = gamesolve.load_game(name)
    compiled = gamesolve.as_compiled(game)
    table = game.infoset_tensors(kind)
    assert table.shape == (
        compiled.num_infosets,
        game.pyspiel_game.information_state_tensor_size()
        if kind == "info_state"
        else game.pyspiel_game.observation_tensor_size(),
    )
    states = game.vector_env(num_envs=16, seed=0, observation=kind, backend="pyspiel")
    tree = game.vector_env(num_envs=16, seed=0, observation=kind, backend="tree")
    assert (tree.num_actions, tree.observation_size) == (states.num_actions, states.observation_size)
    rng = np.random.default_rng(0)
    ts, tt = states.reset(), tree.reset()
    for _ in range(50):
        for b, state in enumerate(states.states):
            row = compiled.infosets.id(state.information_state_string(int(ts.player[b])))
            np.testing.assert_array_equal(ts.observation[b], table[row])
        np.testing.assert_array_equal(tt.observation, table[tree.infoset_ids])
        for b, row in enumerate(tree.infoset_ids):
            ids = compiled.infoset_actions[row]
            assert np.flatnonzero(tt.legal[b]).tolist() == sorted(ids[ids >= 0].tolist())
        ts = states.step(_random_actions(ts, rng))
        tt = tree.step(_random_actions(tt, rng))


def test_time_steps_are_the_callers_own() -> None:
    env = vector_env("leduc_poker", num_envs=4, seed=0)
    first = env.reset()
    kept = first.observation.copy()
    env.step(_random_actions(first, np.random.default_rng(0)))
    np.testing.assert_array_equal(first.observation, kept)


def test_seed_reproduces_the_stream_and_slots_do_not_depend_on_the_batch_size() -> None:
    def play(num_envs: int, seed: int) -> list[TimeStep]:
        env = gamesolve.load_game("leduc_poker").vector_env(num_envs=num_envs, seed=seed, backend="pyspiel")
        out = [env.reset()]
        for _ in range(40):
            # A rule that looks only at the slot's own observation keeps slots independent.
            ts = out[-1]
            actions = np.array(
                [
                    np.flatnonzero(row)[int(obs.sum()) % row.sum()]
                    for row, obs in zip(ts.legal, ts.observation, strict=True)
                ]
            )
            out.append(env.step(actions))
        return out

    a, b = play(4, 7), play(4, 7)
    for x, y in zip(a, b, strict=True):
        for field in ("observation", "legal", "player", "reward", "done"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
    c = play(4, 8)
    assert any(not np.array_equal(x.observation, y.observation) for x, y in zip(a, c, strict=True))
    one = play(1, 7)
    for x, y in zip(a, one, strict=True):
        for field in ("observation", "legal", "player", "reward", "done"):
            np.testing.assert_array_equal(getattr(x, field)[:1], getattr(y, field))


def _policy_table(policy: TabularPolicy, compiled) -> dict[str, tuple[list[int], np.ndarray]]:
    table = {}
    for row, key in enumerate(compiled.infosets.keys):
        ids = compiled.infoset_actions[row]
        n = int((ids >= 0).sum())
        table[key] = (ids[:n].tolist(), policy.probs[row, :n] / policy.probs[row, :n].sum())
    return table


@pytest.mark.parametrize("backend", ["pyspiel", "tree"])
@pytest.mark.parametrize("name", ["kuhn_poker", "leduc_poker", "kuhn_poker(players=3)"])
def test_fixed_policy_plays_to_its_exact_expected_value(name: str, backend: str) -> None:
    game = gamesolve.load_game(name)
    compiled = gamesolve.as_compiled(game)
    policy = TabularPolicy.random(compiled, rng=np.random.default_rng(5))
    exact = expected_values(compiled, policy)
    table = _policy_table(policy, compiled)
    keys = compiled.infosets.keys
    env = game.vector_env(num_envs=64, seed=11, backend=backend)
    rng = np.random.default_rng(12)
    ts = env.reset()
    returns = []
    while len(returns) < 20_000:
        if backend == "pyspiel":
            infosets = [
                state.information_state_string(int(ts.player[b])) for b, state in enumerate(env.states)
            ]
        else:
            infosets = [keys[i] for i in env.infoset_ids]
        actions = np.empty(env.num_envs, dtype=np.int64)
        for b, key in enumerate(infosets):
            ids, probs = table[key]
            actions[b] = ids[int(rng.choice(len(ids), p=probs))]
        ts = env.step(actions)
        returns.extend(ts.reward[ts.done])
    values = np.asarray(returns)
    mean = values.mean(axis=0)
    stderr = values.std(axis=0, ddof=1) / np.sqrt(len(values))
    assert np.all(np.abs(mean - exact) <= 4 * stderr + 1e-12), (mean, exact, stderr)


def test_simultaneous_move_games_are_played_turn_based() -> None:
    env = vector_env("goofspiel(num_cards=4)", num_envs=4, seed=0)
    ts = env.reset()
    rng = np.random.default_rng(0)
    players = set()
    for _ in range(40):
        players.update(ts.player.tolist())
        ts = env.step(_random_actions(ts, rng))
        _check_against_states(env, ts)
    assert players == {0, 1} and env.episodes > 0


def test_a_game_without_the_tensor_names_the_other() -> None:
    with pytest.raises(UnsupportedGame, match=r'observation_tensor: use observation="observation"'):
        vector_env("connect_four", num_envs=2, seed=0, observation="info_state")
    with pytest.raises(UnsupportedGame, match=r'information_state_tensor: use observation="info_state"'):
        vector_env("battleship", num_envs=2, seed=0, observation="observation")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"observation": "pixels"}, "observation must be one of info_state, observation"),
        ({"num_envs": 0}, "num_envs"),
        ({"seed": -1}, "seed"),
        ({"backend": "gpu"}, "backend must be one of auto, pyspiel, tree"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, message: str) -> None:
    game = gamesolve.load_game("kuhn_poker")
    args = {"num_envs": 2, "seed": 0, "observation": "info_state", **kwargs}
    with pytest.raises(InvalidArgumentError, match=message):
        game.vector_env(**args)


def test_bad_actions_are_refused() -> None:
    env = vector_env("connect_four", num_envs=3, seed=0, observation="observation")
    ts = env.reset()
    with pytest.raises(InvalidArgumentError, match=r"actions must be 3 integer action ids \(shape \(3,\)\)"):
        env.step([0, 1])
    with pytest.raises(InvalidArgumentError, match="actions must be 3 integer action ids"):
        env.step(np.zeros(3, dtype=float))
    with pytest.raises(InvalidArgumentError, match=r"actions\[1\] = 9 is not legal in slot 1"):
        env.step([0, 9, 0])
    # int64 arrays take a faster check, which must refuse negative ids as well.
    with pytest.raises(InvalidArgumentError, match=r"actions\[1\] = -1 is not legal in slot 1"):
        env.step(np.array([0, -1, 0], dtype=np.int64))
    with pytest.raises(InvalidArgumentError, match=r"actions\[2\] = 7 is not legal in slot 2"):
        env.step(np.array([0, 1, 7], dtype=np.int64))
    assert env.step(np.array([0, 1, 2], dtype=np.int32)).player.tolist() == [1, 1, 1]
    with pytest.raises(InvalidArgumentError, match=r"call reset\(\) before step"):
        vector_env("connect_four", num_envs=3, seed=0, observation="observation").step([0, 0, 0])
    env2 = gamesolve.load_game("leduc_poker").vector_env(num_envs=2, seed=0, backend="pyspiel")
    ts = env2.reset()
    illegal = int(np.flatnonzero(~ts.legal[0])[0])
    with pytest.raises(
        GamesolveError, match=rf"actions\[0\] = {illegal} is not legal in slot 0; legal action ids"
    ):
        env2.step([illegal, int(np.flatnonzero(ts.legal[1])[0])])
    # A refused step changes nothing.
    ts2 = env2.step([int(np.flatnonzero(ts.legal[b])[0]) for b in range(2)])
    assert ts2.observation.shape == (2, env2.observation_size)


@pytest.mark.parametrize(("name", "kind"), [("leduc_poker", "info_state"), ("connect_four", "observation")])
def test_state_tensors_are_read_where_no_observer_matches(
    name: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a matching observer the env reads the states' own tensors: the same stream."""
    game = gamesolve.load_game(name)
    with_observer = OpenSpielVectorEnv(game, num_envs=5, seed=4, observation=kind)
    monkeypatch.setattr(OpenSpielVectorEnv, "_observer_matches", lambda self, observer: False)
    without = OpenSpielVectorEnv(game, num_envs=5, seed=4, observation=kind)
    ts, tt = with_observer.reset(), without.reset()
    rng = np.random.default_rng(1)
    for _ in range(30):
        for field in ("observation", "legal", "player", "reward", "done"):
            np.testing.assert_array_equal(getattr(ts, field), getattr(tt, field))
        _check_against_states(without, tt)
        actions = _random_actions(ts, rng)
        ts, tt = with_observer.step(actions), without.step(actions)
    assert without.episodes == with_observer.episodes


@pytest.mark.parametrize("name", ["leduc_poker", "kuhn_poker(players=3)"])
def test_kept_openings_do_not_change_the_stream(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """New episodes clone kept opening states: the same stream as replaying the opening, at any cap."""
    from gamesolve.games import openspiel_env

    game = gamesolve.load_game(name)
    streams = []
    for cap in (1, 4, openspiel_env.OPENING_NODES):
        monkeypatch.setattr(openspiel_env, "OPENING_NODES", cap)
        env = OpenSpielVectorEnv(game, num_envs=6, seed=9)
        rng = np.random.default_rng(2)
        ts = env.reset()
        stream = [ts]
        for _ in range(40):
            ts = env.step(_random_actions(ts, rng))
            _check_against_states(env, ts)
            stream.append(ts)
        assert env._opening_nodes <= cap
        streams.append(stream)
    for other in streams[1:]:
        for x, y in zip(streams[0], other, strict=True):
            for field in ("observation", "legal", "player", "reward", "done"):
                np.testing.assert_array_equal(getattr(x, field), getattr(y, field))


@pytest.mark.parametrize(
    ("name", "kind", "extra"),
    [
        ("connect_four", "observation", 2),  # a board, the same for both players
        ("tic_tac_toe", "observation", 2),
        ("hex(board_size=5)", "observation", 2),
        ("leduc_poker", "info_state", 0),  # private cards: the players' tensors differ
        ("leduc_poker", "observation", 0),
        ("dark_hex", "info_state", 0),  # each player sees its own view
        ("phantom_ttt", "observation", 0),
        ("kuhn_poker(players=3)", "info_state", 0),
    ],
)
def test_boards_the_same_for_every_player_get_the_movers_planes(name: str, kind: str, extra: int) -> None:
    from gamesolve.games.openspiel_tensors import mover_features, tensor_shape

    game = gamesolve.load_game(name)
    method = TENSOR[kind]
    assert mover_features(game.pyspiel_game, method) == extra
    env = game.vector_env(num_envs=4, seed=0, observation=kind, backend="pyspiel")
    base = list(getattr(game.pyspiel_game, f"{method}_shape")())
    shape = tensor_shape(game.pyspiel_game, method)
    assert env.observation_shape == shape
    assert shape == ((base[0] + extra, *base[1:]) if len(base) == 3 else (int(np.prod(base)) + extra,))
    ts = env.reset()
    assert ts.observation.shape == (4, int(np.prod(shape)))
    _check_against_states(env, ts)


def test_matches_on_states_show_the_same_tensors_as_the_environment() -> None:
    """Tournaments read OpenSpielState.information_state_tensor: the same tensor, mover included."""
    game = gamesolve.load_game("connect_four")
    env = game.vector_env(num_envs=1, seed=0, observation="observation", backend="pyspiel")
    ts = env.reset()
    rng = np.random.default_rng(1)
    for _ in range(6):
        ts = env.step(_random_actions(ts, rng))
        state = env.states[0]
        from gamesolve.games.openspiel import OpenSpielState

        seen = np.asarray(OpenSpielState(state.clone()).information_state_tensor(state.current_player()))
        np.testing.assert_array_equal(seen.astype(np.float32), ts.observation[0])


def test_a_table_of_observations_must_be_one_per_infoset() -> None:
    # tic_tac_toe's observation is its board, a function of the history: one per infoset as well.
    table = gamesolve.load_game("kuhn_poker").infoset_tensors("observation")
    assert table.shape == (12, 7)
    with pytest.raises(UnsupportedGame, match="provides no information_state_tensor"):
        gamesolve.load_game("tic_tac_toe").infoset_tensors("info_state")
