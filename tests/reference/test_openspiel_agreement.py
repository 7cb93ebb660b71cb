"""gamesolve's exact evaluation agrees with OpenSpiel's (Python and C++) on random policies."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as os_policy
from open_spiel.python.algorithms import best_response as os_best_response
from open_spiel.python.algorithms import expected_game_score
from open_spiel.python.algorithms import exploitability as os_exploitability

import gamesolve
from gamesolve import TabularPolicy

TOL = 1e-9
SMALL_GAMES = ["kuhn", "kuhn3", "leduc"]
SEEDS = [0, 1, 2]


def _random_policy(game, seed: int, concentration: float = 1.0) -> TabularPolicy:
    return TabularPolicy.random(game, rng=np.random.default_rng(seed), concentration=concentration)


def _with_exact_zeros(game, seed: int) -> TabularPolicy:
    """A random policy where roughly a third of the legal actions get exactly zero mass."""
    compiled = game.compile()
    rng = np.random.default_rng(seed)
    probs = TabularPolicy.random(compiled, rng=rng).probs.copy()
    drop = (rng.random(probs.shape) < 0.35) & compiled.legal_mask
    drop[np.arange(probs.shape[0]), rng.integers(0, compiled.infoset_num_actions)] = False
    probs[drop] = 0.0
    probs /= probs.sum(axis=1, keepdims=True)
    return TabularPolicy(compiled, probs)


def _policy_table(policy: TabularPolicy) -> dict[str, list[tuple[int, float]]]:
    """The ``{info_state: [(action, prob), ...]}`` mapping pyspiel's C++ functions accept."""
    return {key: list(dist.items()) for key, dist in policy.to_dict().items()}


def _policies(game, seeds=SEEDS) -> list[TabularPolicy]:
    out = [_random_policy(game, s) for s in seeds]
    out.append(_random_policy(game, 100, concentration=0.2))  # close to deterministic
    out.append(_with_exact_zeros(game, 200))
    return out


@pytest.fixture(params=SMALL_GAMES)
def small_game(request):
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------ NashConv and exploitability


def test_nash_conv_matches_openspiel_python(small_game):
    os_game = small_game.pyspiel_game
    for policy in _policies(small_game):
        ours = gamesolve.nash_conv(small_game, policy)
        theirs = os_exploitability.nash_conv(os_game, policy.to_openspiel(), return_only_nash_conv=False)
        assert ours.nash_conv == pytest.approx(theirs.nash_conv, abs=TOL)
        np.testing.assert_allclose(ours.improvements, theirs.player_improvements, atol=TOL, rtol=0)


def test_nash_conv_matches_openspiel_cpp(small_game):
    os_game = small_game.pyspiel_game
    for policy in _policies(small_game):
        ours = gamesolve.nash_conv(small_game, policy).nash_conv
        assert ours == pytest.approx(pyspiel.nash_conv(os_game, _policy_table(policy)), abs=TOL)


def test_exploitability_matches_openspiel(small_game):
    os_game = small_game.pyspiel_game
    n = os_game.num_players()
    for policy in (_random_policy(small_game, 8), _with_exact_zeros(small_game, 9)):
        ours = gamesolve.exploitability(small_game, policy)
        assert ours == pytest.approx(gamesolve.nash_conv(small_game, policy).nash_conv / n, abs=1e-14)
        if n == 2:  # OpenSpiel's exploitability functions accept two-player constant-sum games only
            theirs = os_exploitability.exploitability(os_game, policy.to_openspiel())
            assert ours == pytest.approx(theirs, abs=TOL)
            assert ours == pytest.approx(pyspiel.exploitability(os_game, _policy_table(policy)), abs=TOL)
        else:  # OpenSpiel's convention for n players: NashConv / n
            assert ours == pytest.approx(pyspiel.nash_conv(os_game, _policy_table(policy)) / n, abs=TOL)


def test_uniform_policy_matches_openspiel_uniform(small_game):
    os_game = small_game.pyspiel_game
    uniform = gamesolve.uniform_policy(small_game)
    converted = TabularPolicy.from_openspiel(small_game, os_policy.TabularPolicy(os_game))
    np.testing.assert_array_equal(converted.probs, uniform.probs)
    expected = os_exploitability.nash_conv(os_game, os_policy.UniformRandomPolicy(os_game))
    assert gamesolve.nash_conv(small_game, uniform).nash_conv == pytest.approx(expected, abs=TOL)


def test_liars_dice_nash_conv_matches_pyspiel(liars_dice):
    # The C++ NashConv takes ~4.5 s on Liar's Dice (the Python one far longer): one policy only.
    policy = _with_exact_zeros(liars_dice, 7)
    table = _policy_table(policy)
    expected = pyspiel.nash_conv(liars_dice.pyspiel_game, table)
    report = gamesolve.nash_conv(liars_dice, policy)
    assert report.nash_conv == pytest.approx(expected, abs=TOL)
    assert gamesolve.exploitability(liars_dice, policy) == pytest.approx(expected / 2, abs=TOL)


# ------------------------------------------------------------------ on-policy values


def test_on_policy_values_match_openspiel(small_game):
    os_game = small_game.pyspiel_game
    root = os_game.new_initial_state()
    n = os_game.num_players()
    for policy in _policies(small_game):
        theirs = expected_game_score.policy_value(root, [policy.to_openspiel()] * n)
        np.testing.assert_allclose(gamesolve.expected_values(small_game, policy), theirs, atol=TOL, rtol=0)
        report = gamesolve.nash_conv(small_game, policy)
        np.testing.assert_allclose(report.on_policy_values, theirs, atol=TOL, rtol=0)


@pytest.mark.parametrize("name", [*SMALL_GAMES, "liars_dice"])
def test_on_policy_values_match_pyspiel_expected_returns(name, request):
    game = request.getfixturevalue(name)
    os_game = game.pyspiel_game
    for policy in (_random_policy(game, 11), _with_exact_zeros(game, 12)):
        cpp_policy = pyspiel.TabularPolicy(_policy_table(policy))
        theirs = pyspiel.expected_returns(os_game.new_initial_state(), cpp_policy, -1, True)
        np.testing.assert_allclose(gamesolve.expected_values(game, policy), theirs, atol=TOL, rtol=0)


# ------------------------------------------------------------------ best responses


def test_best_response_values_match_openspiel(small_game):
    os_game = small_game.pyspiel_game
    root = os_game.new_initial_state()
    for policy in _policies(small_game, seeds=[3, 4]):
        os_pol = policy.to_openspiel()
        report = gamesolve.nash_conv(small_game, policy)
        for player in range(os_game.num_players()):
            theirs = os_best_response.BestResponsePolicy(os_game, player, os_pol).value(root)
            ours = gamesolve.best_response(small_game, policy, player)
            assert ours.value == pytest.approx(theirs, abs=TOL)
            assert report.best_response_values[player] == pytest.approx(theirs, abs=TOL)


def test_best_response_policy_achieves_its_value(small_game):
    # The returned profile (player's rows replaced by the pure response) earns the reported value,
    # and OpenSpiel's own best-response policy earns the same against the same opponents.
    os_game = small_game.pyspiel_game
    root = os_game.new_initial_state()
    for policy in _policies(small_game, seeds=[5]):
        for player in range(os_game.num_players()):
            response = gamesolve.best_response(small_game, policy, player)
            probs = response.policy.probs[small_game.compile().infosets_of(player)]
            assert set(np.unique(probs)) <= {0.0, 1.0}
            value = gamesolve.expected_values(small_game, response.policy)[player]
            assert value == pytest.approx(response.value, abs=TOL)
            os_br = os_best_response.BestResponsePolicy(os_game, player, policy.to_openspiel())
            their_profile = [policy.to_openspiel()] * os_game.num_players()
            their_profile[player] = os_br
            theirs = expected_game_score.policy_value(root, their_profile)[player]
            assert theirs == pytest.approx(response.value, abs=TOL)


def test_liars_dice_best_response_matches_pyspiel(liars_dice):
    # pyspiel's C++ tabular best response: ~2 s per player on Liar's Dice, so player 1 only.
    policy = _random_policy(liars_dice, 13)
    br = pyspiel.TabularBestResponse(liars_dice.pyspiel_game, 1, _policy_table(policy))
    theirs = br.value_from_state(liars_dice.pyspiel_game.new_initial_state())
    assert gamesolve.best_response(liars_dice, policy, 1).value == pytest.approx(theirs, abs=TOL)


# ------------------------------------------------------------------ policy round trips


def test_openspiel_round_trip(small_game):
    for policy in _policies(small_game):
        back = TabularPolicy.from_openspiel(small_game, policy.to_openspiel())
        np.testing.assert_array_equal(back.probs, policy.probs)
        assert back == policy


def test_openspiel_tables_hold_the_same_probabilities(kuhn):
    policy = _random_policy(kuhn, 21)
    os_pol = policy.to_openspiel()
    for key, row in os_pol.state_lookup.items():
        expected = policy.action_probabilities(key)
        got = os_pol.action_probability_array[row]
        assert {a: float(got[a]) for a in expected} == expected
        assert got.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", [*SMALL_GAMES, "liars_dice"])
def test_dict_round_trip(name, request):
    game = request.getfixturevalue(name)
    for policy in (_random_policy(game, 30), _with_exact_zeros(game, 31)):
        table = policy.to_dict()
        assert set(table) == set(game.compile().infosets.keys)
        back = TabularPolicy.from_dict(game, table)
        np.testing.assert_array_equal(back.probs, policy.probs)
        assert back == policy


def test_json_round_trip(small_game, tmp_path):
    for i, policy in enumerate(_policies(small_game)):
        path = tmp_path / f"policy_{i}.json"
        policy.to_json(path)
        back = TabularPolicy.from_json(small_game, path)
        np.testing.assert_array_equal(back.probs, policy.probs)
        assert back == policy
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
