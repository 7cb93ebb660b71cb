"""Properties of NashConv and best responses that hold for every policy and payoff scaling."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gamesolve
from gamesolve import CompiledGame, TabularPolicy, Utility

FAST = settings(max_examples=25, deadline=None)
FEWER = settings(max_examples=12, deadline=None)

GAMES = ["kuhn_poker", "kuhn_poker(players=3)", "leduc_poker", "goofspiel(num_cards=3)"]

seeds = st.integers(min_value=0, max_value=2**32 - 1)
game_names = st.sampled_from(GAMES)
concentrations = st.sampled_from([0.05, 0.3, 1.0, 5.0])
scales = st.floats(min_value=0.01, max_value=100.0, allow_nan=False, allow_infinity=False)
shifts = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)


def _random(compiled: CompiledGame, seed: int, concentration: float = 1.0) -> TabularPolicy:
    rng = np.random.default_rng(seed)
    return TabularPolicy.random(compiled, rng=rng, concentration=concentration)


def _with_utility(compiled: CompiledGame, utility: np.ndarray) -> CompiledGame:
    """A copy of ``compiled`` with other payoffs (general-sum), arrays kept read-only."""
    u = np.array(utility, dtype=np.float64)
    assert u.shape == compiled.terminal_utility.shape
    u.setflags(write=False)
    spec = dataclasses.replace(compiled.spec, utility=Utility.GENERAL_SUM)
    return dataclasses.replace(compiled, spec=spec, terminal_utility=u)


def _affine(compiled: CompiledGame, a, b) -> CompiledGame:
    a = np.broadcast_to(np.asarray(a, dtype=np.float64), (compiled.num_players,))
    b = np.broadcast_to(np.asarray(b, dtype=np.float64), (compiled.num_players,))
    return _with_utility(compiled, compiled.terminal_utility * a + b)


# ------------------------------------------------------------------ random policies


@FAST
@given(
    name=game_names,
    seed=seeds,
    concentration=st.floats(min_value=1e-4, max_value=100.0, allow_nan=False),
)
def test_random_policies_are_valid_for_any_concentration(game_loader, name, seed, concentration):
    # Small concentrations used to underflow every Gamma draw of a row to 0 (rows of NaN).
    compiled = game_loader(name).compile()
    policy = _random(compiled, seed, concentration)
    probs = policy.probs
    assert np.all(np.isfinite(probs))
    assert np.all(probs[~compiled.legal_mask] == 0.0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    TabularPolicy(compiled, probs)  # passes full validation
    assert gamesolve.nash_conv(compiled, policy).nash_conv >= -1e-12


@pytest.mark.parametrize("concentration", [0.01, 0.5, 20.0])
def test_random_policy_rows_have_dirichlet_moments(leduc, concentration):
    # Symmetric Dirichlet(c) over A actions: E[x] = 1/A, E[x^2] = (c + 1) / (A (A c + 1)).
    compiled = leduc.compile()
    rng = np.random.default_rng(99)
    rows = compiled.infoset_num_actions == 3
    x = np.concatenate(
        [TabularPolicy.random(compiled, rng=rng, concentration=concentration).probs[rows] for _ in range(40)]
    )
    np.testing.assert_allclose(x.mean(axis=0), 1 / 3, atol=0.015)
    second = (concentration + 1) / (3 * (3 * concentration + 1))
    np.testing.assert_allclose((x**2).mean(axis=0), second, atol=0.015)


@pytest.mark.parametrize("concentration", [0.0, -1.0, float("nan"), float("inf")])
def test_random_policy_rejects_bad_concentration(kuhn, concentration):
    with pytest.raises(ValueError, match="concentration"):
        TabularPolicy.random(kuhn, rng=np.random.default_rng(0), concentration=concentration)


# ------------------------------------------------------------------ non-negativity


@FAST
@given(name=game_names, seed=seeds, concentration=concentrations)
def test_nash_conv_is_nonnegative(game_loader, name, seed, concentration):
    compiled = game_loader(name).compile()
    report = gamesolve.nash_conv(compiled, _random(compiled, seed, concentration))
    assert report.nash_conv >= -1e-12
    assert all(g >= -1e-12 for g in report.improvements)
    assert report.nash_conv == pytest.approx(sum(report.improvements), abs=1e-12)
    assert report.exploitability == pytest.approx(report.nash_conv / compiled.num_players, abs=1e-15)


@FAST
@given(name=game_names, seed=seeds)
def test_best_response_beats_on_policy_and_any_deviation(game_loader, name, seed):
    compiled = game_loader(name).compile()
    policy = _random(compiled, seed)
    deviation = _random(compiled, seed ^ 0x5EED, concentration=0.2)
    report = gamesolve.nash_conv(compiled, policy)
    for player in range(compiled.num_players):
        br = report.best_response_values[player]
        assert br >= report.on_policy_values[player] - 1e-12
        deviated = gamesolve.expected_values(compiled, policy.with_player(player, deviation))
        assert deviated[player] <= br + 1e-12
        achieved = gamesolve.expected_values(compiled, report.best_responses[player])
        assert achieved[player] == pytest.approx(br, abs=1e-10)
        # Switching to the best response changes only the responder's rows.
        others = compiled.infoset_player != player
        np.testing.assert_array_equal(report.best_responses[player].probs[others], policy.probs[others])


# ------------------------------------------------------------------ affine payoff transforms


@FAST
@given(name=game_names, seed=seeds, a=scales, b=shifts)
def test_nash_conv_scales_with_common_affine_transform(game_loader, name, seed, a, b):
    compiled = game_loader(name).compile()
    policy = _random(compiled, seed)
    base = gamesolve.nash_conv(compiled, policy)
    moved = gamesolve.nash_conv(_affine(compiled, a, b), policy.probs)
    assert moved.nash_conv == pytest.approx(a * base.nash_conv, rel=1e-9, abs=1e-9 * (1 + a))
    assert moved.exploitability == pytest.approx(a * base.exploitability, rel=1e-9, abs=1e-9 * (1 + a))


@FAST
@given(
    name=game_names,
    seed=seeds,
    a=st.lists(scales, min_size=3, max_size=3),
    b=st.lists(shifts, min_size=3, max_size=3),
)
def test_per_player_affine_transform_scales_each_improvement(game_loader, name, seed, a, b):
    compiled = game_loader(name).compile()
    n = compiled.num_players
    a, b = np.array(a[:n]), np.array(b[:n])
    policy = _random(compiled, seed)
    base = gamesolve.nash_conv(compiled, policy)
    moved_game = _affine(compiled, a, b)
    moved = gamesolve.nash_conv(moved_game, policy.probs)
    tol = 1e-9 * (1 + np.abs(a) + np.abs(b))
    np.testing.assert_allclose(moved.improvements, a * np.array(base.improvements), rtol=1e-9, atol=tol.max())
    np.testing.assert_allclose(
        moved.on_policy_values, a * np.array(base.on_policy_values) + b, rtol=1e-9, atol=tol.max()
    )
    np.testing.assert_allclose(
        moved.best_response_values,
        a * np.array(base.best_response_values) + b,
        rtol=1e-9,
        atol=tol.max(),
    )
    assert moved.nash_conv == pytest.approx(float(a @ np.array(base.improvements)), rel=1e-9, abs=tol.max())
    # A best response stays a best response after a positive affine change of that player's payoff.
    for player in range(n):
        value = gamesolve.expected_values(moved_game, base.best_responses[player].probs)[player]
        assert value == pytest.approx(moved.best_response_values[player], rel=1e-9, abs=tol.max())


def test_transformed_game_arrays_stay_readonly(kuhn):
    moved = _affine(kuhn.compile(), 2.0, 1.0)
    assert not moved.terminal_utility.flags.writeable
    np.testing.assert_array_equal(moved.terminal_utility, 2.0 * kuhn.compile().terminal_utility + 1.0)
    uniform = gamesolve.uniform_policy(kuhn)
    assert gamesolve.nash_conv(moved, uniform.probs).nash_conv == pytest.approx(2 * 11 / 12, abs=1e-12)


# ------------------------------------------------------------------ general sum, brute force


def _player_paths(compiled: CompiledGame):
    """Per terminal: the (infoset, slot) decisions of each actor and the chance probability."""
    parent, first = compiled.node_parent, compiled.node_first_child
    out = []
    for t in compiled.terminal_node:
        node, steps, chance = int(t), [], 1.0
        while node > 0:
            up = int(parent[node])
            if compiled.node_player[up] == gamesolve.CHANCE:
                chance *= float(compiled.node_prob[node])
            else:
                steps.append(
                    (
                        int(compiled.node_player[up]),
                        int(compiled.node_infoset[up]),
                        node - int(first[up]),
                    )
                )
            node = up
        out.append((chance, steps))
    return out


def _brute_force(compiled: CompiledGame, probs: np.ndarray):
    """On-policy values and best-response values by enumerating every pure strategy."""
    n = compiled.num_players
    u = compiled.terminal_utility
    paths = _player_paths(compiled)
    chance = np.array([c for c, _ in paths])
    own = np.ones((len(paths), n))  # each player's own reach of every terminal
    for t, (_, steps) in enumerate(paths):
        for p, i, s in steps:
            own[t, p] *= probs[i, s]
    values = ((chance * own.prod(axis=1))[:, None] * u).sum(axis=0)
    br_values = np.zeros(n)
    for player in range(n):
        rows = compiled.infosets_of(player)
        local = {int(r): k for k, r in enumerate(rows)}
        widths = compiled.infoset_num_actions[rows]
        assert np.prod(widths.astype(np.int64)) <= 2**17, "too many pure strategies to enumerate"
        digits = np.array(list(itertools.product(*[range(w) for w in widths])), dtype=np.int8)
        others = chance * np.prod(np.delete(own, player, axis=1), axis=1)
        # Terminal mass grouped by the player's own decisions on the path (its sequence).
        weight: dict[tuple[tuple[int, int], ...], float] = {}
        for t, (_, steps) in enumerate(paths):
            seq = tuple(sorted((local[i], s) for (p, i, s) in steps if p == player))
            weight[seq] = weight.get(seq, 0.0) + others[t] * u[t, player]
        total = np.zeros(digits.shape[0])
        for seq, w in weight.items():
            consistent = np.ones(digits.shape[0], dtype=bool)
            for k, s in seq:
                consistent &= digits[:, k] == s
            total += consistent * w
        br_values[player] = total.max()
    return values, br_values


@FEWER
@given(name=st.sampled_from(["kuhn_poker", "kuhn_poker(players=3)"]), seed=seeds)
def test_general_sum_best_responses_match_brute_force(game_loader, name, seed):
    compiled = game_loader(name).compile()
    rng = np.random.default_rng(seed)
    game = _with_utility(compiled, rng.normal(size=compiled.terminal_utility.shape))
    probs = TabularPolicy.random(game, rng=rng, concentration=0.5).probs
    report = gamesolve.nash_conv(game, probs)
    values, br_values = _brute_force(game, probs)
    np.testing.assert_allclose(report.on_policy_values, values, atol=1e-12, rtol=0)
    np.testing.assert_allclose(report.best_response_values, br_values, atol=1e-12, rtol=0)
    assert report.nash_conv == pytest.approx(float((br_values - values).sum()), abs=1e-12)
    assert report.nash_conv >= -1e-12
