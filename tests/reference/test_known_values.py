"""Published reference values of NashConv and game values on Kuhn and Leduc poker.

Sources:
* Kuhn poker equilibrium family and game value -1/18 for player 0: H. W. Kuhn, "A simplified
  two-person poker", Contributions to the Theory of Games I (1950); the same family is in
  OpenSpiel's ``open_spiel/python/games/data.py`` (``kuhn_nash_equilibrium``, citing Wikipedia
  "Kuhn poker", Optimal strategy).
* NashConv (Lanctot et al. 2017, "A unified game-theoretic approach to multiagent reinforcement
  learning") of the uniform (11/12) and always-first-action (2) policies on Kuhn, and of the
  uniform (4.7472222222) and always-first-action (2) policies on Leduc (Southey et al. 2005,
  "Bayes' bluff: opponent modelling in poker"): OpenSpiel (Lanctot et al. 2019, "OpenSpiel: a
  framework for reinforcement learning in games"),
  ``open_spiel/python/algorithms/exploitability_test.py`` (Kuhn uniform exploitability 11/24 =
  NashConv 11/12 / 2; ``test_2p_nash_conv``: Kuhn first-action 2, Leduc uniform 4.7472222222222,
  Leduc first-action 2).
"""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve import TabularPolicy

TOL = 1e-12

PASS, BET = 0, 1  # OpenSpiel kuhn_poker action ids (pass = check/fold, bet = bet/call)


def _bet(p: float) -> dict[int, float]:
    return {PASS: 1.0 - p, BET: p}


def kuhn_nash(alpha: float) -> dict[str, dict[int, float]]:
    """Kuhn's equilibrium family, keyed by OpenSpiel info-state strings (card 0=J, 1=Q, 2=K).

    Source: Kuhn 1950, "A simplified two-person poker". Player 0 keys are ``"c"`` (first move) and ``"cpb"``
    (checked, then faced a bet); player 1 keys are ``"cp"`` (checked to) and ``"cb"`` (faced a bet).
    """
    assert 0.0 <= alpha <= 1.0 / 3.0
    return {
        # Player 0.
        "0": _bet(alpha),  # J: bet (bluff) w.p. alpha
        "0pb": _bet(0.0),  # J: fold to a bet after checking
        "1": _bet(0.0),  # Q: check
        "1pb": _bet(alpha + 1.0 / 3.0),  # Q: call a bet after checking w.p. alpha + 1/3
        "2": _bet(3.0 * alpha),  # K: bet w.p. 3 alpha
        "2pb": _bet(1.0),  # K: call
        # Player 1.
        "2p": _bet(1.0),  # K: bet when checked to
        "2b": _bet(1.0),  # K: call
        "1p": _bet(0.0),  # Q: check when checked to
        "1b": _bet(1.0 / 3.0),  # Q: call a bet w.p. 1/3
        "0p": _bet(1.0 / 3.0),  # J: bet (bluff) w.p. 1/3 when checked to
        "0b": _bet(0.0),  # J: fold to a bet
    }


def test_kuhn_has_the_expected_infoset_keys(kuhn):
    compiled = kuhn.compile()
    assert set(compiled.infosets.keys) == set(kuhn_nash(0.0))
    assert compiled.num_infosets == 12


def test_kuhn_uniform_nash_conv(kuhn):
    # 11/12: OpenSpiel's exploitability_test (exploitability 11/24).
    report = gamesolve.nash_conv(kuhn, gamesolve.uniform_policy(kuhn))
    assert report.nash_conv == pytest.approx(11 / 12, abs=TOL)
    assert report.exploitability == pytest.approx(11 / 24, abs=TOL)
    assert gamesolve.exploitability(kuhn, gamesolve.uniform_policy(kuhn)) == pytest.approx(11 / 24, abs=TOL)


def test_kuhn_uniform_best_response_values(kuhn):
    # Zero-sum: on-policy values sum to 0, so the two BR values sum to NashConv 11/12
    # (NashConv as defined by Lanctot et al. 2017).
    report = gamesolve.nash_conv(kuhn, gamesolve.uniform_policy(kuhn))
    assert sum(report.on_policy_values) == pytest.approx(0.0, abs=TOL)
    assert sum(report.best_response_values) == pytest.approx(11 / 12, abs=TOL)


def test_kuhn_first_action_nash_conv(kuhn):
    # Always check/fold: NashConv 2 (OpenSpiel's exploitability_test, test_2p_nash_conv).
    report = gamesolve.nash_conv(kuhn, TabularPolicy.first_action(kuhn))
    assert report.nash_conv == pytest.approx(2.0, abs=TOL)


@pytest.mark.parametrize("alpha", [0.0, 1 / 12, 0.1, 1 / 6, 0.25, 1 / 3])
def test_kuhn_nash_family_is_exact_equilibrium(kuhn, alpha):
    # Kuhn (1950): every member of the family is a Nash equilibrium with value -1/18 for player 0.
    policy = TabularPolicy.from_dict(kuhn, kuhn_nash(alpha))
    report = gamesolve.nash_conv(kuhn, policy)
    assert abs(report.nash_conv) <= TOL
    assert all(abs(g) <= TOL for g in report.improvements)
    assert report.on_policy_values[0] == pytest.approx(-1 / 18, abs=TOL)
    assert report.on_policy_values[1] == pytest.approx(1 / 18, abs=TOL)
    np.testing.assert_allclose(gamesolve.expected_values(kuhn, policy), [-1 / 18, 1 / 18], atol=TOL)
    # At an equilibrium each player's best-response value equals its on-policy value.
    np.testing.assert_allclose(report.best_response_values, [-1 / 18, 1 / 18], atol=TOL)


def test_kuhn_nash_family_matches_openspiel_data(kuhn):
    # OpenSpiel ships the same family (open_spiel/python/games/data.py, kuhn_nash_equilibrium).
    from open_spiel.python.games import data

    for alpha in (0.0, 0.2, 1 / 3):
        ours = TabularPolicy.from_dict(kuhn, kuhn_nash(alpha))
        table = data.kuhn_nash_equilibrium(alpha=alpha).policy_table()  # a pyspiel.TabularPolicy
        theirs = TabularPolicy.from_dict(kuhn, {k: dict(v) for k, v in table.items()})
        np.testing.assert_allclose(ours.probs, theirs.probs, atol=1e-15)


def test_kuhn_best_responses_to_uniform(kuhn):
    # Expected actions from OpenSpiel's exploitability_test.py
    # (test_kuhn_poker_uniform_random_best_response_pid0/pid1); ties go to the lowest action.
    expected = {
        0: {"0": BET, "1": BET, "2": PASS, "0pb": PASS, "1pb": BET, "2pb": BET},
        1: {"0p": BET, "1p": BET, "2p": BET, "0b": PASS, "1b": BET, "2b": BET},
    }
    uniform = gamesolve.uniform_policy(kuhn)
    for player, actions in expected.items():
        response = gamesolve.best_response(kuhn, uniform, player)
        assert response.player == player
        for key, action in actions.items():
            assert response.policy.action_probabilities(key)[action] == 1.0, key
        # The other player's rows are untouched.
        others = kuhn.compile().infosets_of(1 - player)
        np.testing.assert_array_equal(response.policy.probs[others], uniform.probs[others])


def test_kuhn_perturbed_nash_is_exploitable(kuhn):
    # Guard against a NashConv that is always ~0: player 1 with Q calling w.p. 1/2 instead of 1/3
    # is no longer an equilibrium (Kuhn 1950).
    table = kuhn_nash(0.1)
    table["1b"] = _bet(0.5)
    report = gamesolve.nash_conv(kuhn, TabularPolicy.from_dict(kuhn, table))
    assert report.nash_conv > 1e-3


def test_leduc_uniform_nash_conv(leduc):
    # 4.7472222222: OpenSpiel's exploitability_test (Leduc uniform NashConv).
    report = gamesolve.nash_conv(leduc, gamesolve.uniform_policy(leduc))
    assert report.nash_conv == pytest.approx(4.7472222222, abs=1e-9)
    assert report.exploitability == pytest.approx(4.7472222222 / 2, abs=1e-9)


def test_leduc_first_action_nash_conv(leduc):
    # Always fold/check: NashConv 2 (OpenSpiel's exploitability_test, test_2p_nash_conv).
    report = gamesolve.nash_conv(leduc, TabularPolicy.first_action(leduc))
    assert report.nash_conv == pytest.approx(2.0, abs=1e-12)


def test_leduc_sizes(leduc):
    # 936 infosets: the size of OpenSpiel's TabularPolicy(leduc_poker).state_lookup (OpenSpiel 2.0.2).
    assert leduc.compile().num_infosets == 936
