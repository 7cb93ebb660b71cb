"""Every registered Markov game: a valid tabular form that can also be played as episodes."""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve.markov import MarkovEpisode, SampledMarkovGame, TabularMarkovGame
from gamesolve.registry import game_entry, game_names

NAMES = [name for name in game_names() if game_entry(name).loader.__module__ == "gamesolve.games.markov"]


@pytest.fixture(params=NAMES)
def game(request) -> TabularMarkovGame:
    return gamesolve.load_game(request.param)


def test_tabular_form_is_consistent(game):
    assert game.spec.kind is gamesolve.GameKind.MARKOV
    s, j = game.num_states, game.num_joint_actions
    m = game.transition_matrix
    assert m.shape == (s * j, s)
    sums = np.asarray(m.sum(axis=1)).reshape(s, j)
    np.testing.assert_allclose(sums[~game.terminal], 1.0, atol=1e-12)
    assert np.all(sums[game.terminal] == 0.0)
    assert np.all(m.data >= 0)
    assert game.reward.shape == (game.num_players, s, *game.num_actions)
    assert np.all(game.reward_flat[:, game.terminal] == 0.0)
    assert game.initial.sum() == pytest.approx(1.0)
    assert game.features.shape[0] == s and game.features.dtype == np.float32
    assert len(game.state_names) == s and len(set(game.state_names)) == s
    assert not game.reward.flags.writeable and not game.initial.flags.writeable
    assert isinstance(game, SampledMarkovGame)


def test_random_play_reaches_the_end_and_is_seeded(game):
    def play(seed: int) -> tuple[list[int], np.ndarray]:
        rng = np.random.default_rng(seed)
        episode = game.new_episode(rng=rng, max_steps=60)
        assert isinstance(episode, MarkovEpisode)
        visited = []
        while not episode.done:
            obs = episode.observation(0)
            assert obs.shape == (game.features.shape[1],)
            acts = [int(rng.choice(episode.legal_actions(p))) for p in episode.players_to_move]
            rewards = episode.step(acts)
            assert rewards.shape == (game.num_players,)
            visited.append(episode.state)
        assert episode.players_to_move == ()
        with pytest.raises(RuntimeError, match="over"):
            episode.step([0] * game.num_players)
        return visited, episode.returns

    first, returns = play(5)
    again, returns_again = play(5)
    assert first == again
    np.testing.assert_array_equal(returns, returns_again)


def test_uniform_profile_has_finite_nonnegative_nash_conv(game):
    report = gamesolve.nash_conv(game, gamesolve.MarkovProfile.uniform(game))
    assert np.isfinite(report.nash_conv) and report.nash_conv >= 0.0
    assert np.all(report.state_nash_conv >= 0.0)
