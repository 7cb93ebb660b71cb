"""Populations on extensive-form games too large to compile: matches step the game's states.

Oracles: the exact expected value of a fixed policy on a small game (gamesolve.evaluation, on the
compiled tree) against episodes played through the states of the same game; the zero-sum identity
of sampled payoffs; reproducibility for a seed.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import InvalidPolicyError
from gamesolve.evaluation import expected_values
from gamesolve.policy import UniformPolicy
from gamesolve.population.backend import resolve_game
from gamesolve.population.sampler import StateEpisodes

pytest.importorskip("pyspiel")


def _play(game, rng, episodes):
    """Mean returns and standard errors of uniform-random play through the game's states."""
    view = StateEpisodes(game)
    returns = []
    for _ in range(episodes):
        play = view.new_episode(rng=rng)
        while not play.done:
            (player,) = play.players_to_move
            legal = play.legal_actions(player)
            play.step([int(rng.choice(legal))])
        returns.append(play.returns)
    values = np.asarray(returns)
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(episodes)


@pytest.mark.parametrize("name", ["kuhn_poker", "leduc_poker", "kuhn_poker(players=3)"])
def test_state_episodes_reproduce_the_exact_value_of_uniform_play(name):
    game = gamesolve.load_game(name)
    exact = expected_values(game, gamesolve.uniform_policy(game))
    mean, stderr = _play(game, np.random.default_rng(1), 4000)
    assert np.all(np.abs(mean - exact) <= 4 * stderr + 1e-12)


def test_a_game_too_large_to_compile_is_played_through_its_states():
    game = gamesolve.load_game("connect_four")
    kind, compiled, view = resolve_game(game)
    assert kind == "sampled" and compiled is None and isinstance(view, StateEpisodes)
    uniform = gamesolve.uniform_policy(game)
    assert isinstance(uniform, UniformPolicy)  # no tree walk
    meta = gamesolve.tournament(game, [uniform, uniform], episodes=40, seed=3, progress=False)
    assert meta.counts.tolist() == [[40, 40], [40, 40]]  # two members, both seats
    np.testing.assert_allclose(meta.payoffs[0], -meta.payoffs[1])  # zero-sum per episode
    assert np.all(np.abs(meta.payoffs) <= 1.0)
    again = gamesolve.tournament(game, [uniform, uniform], episodes=40, seed=3, progress=False)
    np.testing.assert_array_equal(meta.payoffs, again.payoffs)


def test_acting_policies_see_the_information_state_tensor():
    game = gamesolve.load_game("dark_hex")
    seen = []

    def first_legal(player, observation, legal, rng):
        seen.append(observation.shape)
        return int(legal[0])

    gamesolve.tournament(game, [first_legal, first_legal], episodes=2, seed=0, progress=False)
    pyspiel_size = game.pyspiel_game.information_state_tensor_size()
    assert seen and set(seen) == {(pyspiel_size,)}


def test_a_table_cannot_play_a_game_that_does_not_compile():
    game = gamesolve.load_game("connect_four")
    table = np.full((3, 7), 1 / 7)
    with pytest.raises(InvalidPolicyError):
        gamesolve.tournament(game, [table, table], episodes=2, seed=0, progress=False)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_a_network_plays_a_game_that_does_not_compile():
    import torch

    from gamesolve.neural import MLP, NeuralPolicy

    game = gamesolve.load_game("connect_four")
    # connect_four has no information-state tensor; its board tensor gets the mover's planes
    size = gamesolve.vector_env(game, num_envs=1, seed=0, observation="observation").observation_size
    assert size == game.pyspiel_game.observation_tensor_size() + 2 * 6 * 7
    torch.manual_seed(0)
    network = NeuralPolicy(MLP(size, 7, hidden=(16,)), num_actions=7, observation_size=size, game=game)
    meta = gamesolve.tournament(
        game, [network, gamesolve.uniform_policy(game)], episodes=20, seed=0, progress=False
    )
    assert meta.payoffs.shape == (2, 2, 2) and np.isfinite(meta.payoffs).all()


def test_a_tournament_takes_a_game_string():
    uniform = gamesolve.uniform_policy("kuhn_poker")
    by_name = gamesolve.tournament("kuhn_poker", [uniform, uniform], progress=False)
    by_object = gamesolve.tournament(gamesolve.load_game("kuhn_poker"), [uniform, uniform], progress=False)
    np.testing.assert_array_equal(by_name.payoffs, by_object.payoffs)
    assert by_name.payoffs[0, 0, 0] == pytest.approx(0.125)  # uniform Kuhn: the first player's value 1/8


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_cli_tournament_of_a_network_file_on_a_game_that_does_not_compile(tmp_path, capsys):
    import torch

    from gamesolve.cli import main
    from gamesolve.neural import MLP, NeuralPolicy

    game = gamesolve.load_game("connect_four")
    size = gamesolve.vector_env(game, num_envs=1, seed=0, observation="observation").observation_size
    torch.manual_seed(0)
    net = NeuralPolicy(
        MLP(size, 7, hidden=(8,)), num_actions=7, observation_size=size, observation="observation", game=game
    )
    path = net.save(tmp_path / "c4.pt")
    out = tmp_path / "meta.json"
    argv = [
        "tournament",
        "connect_four",
        "--policies",
        str(path),
        "random",
        "--episodes",
        "6",
        "--no-progress",
    ]
    assert main([*argv, "--json", str(out)]) == 0
    assert "c4" in capsys.readouterr().out and out.exists()
    # without --episodes there is nothing exact to compute: a one-line user error, exit 2
    assert main(["tournament", "connect_four", "--policies", str(path), "random", "--no-progress"]) == 2
    # a network of another game is refused by name
    assert main(["tournament", "kuhn_poker", "--policies", str(path), "random", "--episodes", "2"]) == 2
    assert "plays 'connect_four'" in capsys.readouterr().err


def test_cli_tournament_previous_keeps_old_pairings_and_plays_only_new(tmp_path, capsys):
    """--previous: the grown tournament equals one played from scratch with the same seed."""
    from gamesolve.cli import main

    common = ["--episodes", "30", "--seed", "4", "--executor", "inprocess", "--no-progress"]
    small, grown, full = tmp_path / "small.json", tmp_path / "grown.json", tmp_path / "full.json"
    two = ["tournament", "kuhn_poker", "--policies", "uniform", "first", *common]
    assert main([*two, "--json", str(small)]) == 0
    argv = ["tournament", "kuhn_poker", "--policies", "uniform", "first", "random", *common]
    capsys.readouterr()
    assert main([*argv, "--previous", str(small), "--json", str(grown)]) == 0
    assert "kept the 4 pairings of" in capsys.readouterr().out
    assert main([*argv, "--json", str(full)]) == 0
    g, f, s = (json.loads(p.read_text()) for p in (grown, full, small))
    np.testing.assert_array_equal(np.asarray(g["payoffs"]), np.asarray(f["payoffs"]))
    np.testing.assert_array_equal(np.asarray(g["payoffs"])[:, :2, :2], np.asarray(s["payoffs"]))
    # the old members must come first, in order: a one-line user error, exit 2
    capsys.readouterr()
    swapped = ["tournament", "kuhn_poker", "--policies", "first", "uniform", *common]
    assert main([*swapped, "--previous", str(small)]) == 2
    assert "--policies must start with" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"payoffs": "x"}')
    assert main([*argv, "--previous", str(tmp_path / "bad.json")]) == 2
    assert "--previous" in capsys.readouterr().err
