"""The numba evaluation kernels agree with their plain-numpy twins."""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve import TabularPolicy
from gamesolve.evaluation import evaluate
from gamesolve.kernels.evaluation import (
    best_response_numpy,
    best_responses,
    forward_reach,
    reach_numpy,
)

TOL = 1e-12
GAMES = [
    "kuhn_poker",
    "kuhn_poker(players=3)",
    "leduc_poker",
    "goofspiel(num_cards=3)",
    "matrix_rps",
]


@pytest.fixture(params=GAMES)
def compiled(request, game_loader):
    return game_loader(request.param).compile()


def _sparse_random(compiled, rng, drop: float = 0.4):
    """Random rows with exact zeros (at least one legal action keeps mass in every row)."""
    probs = TabularPolicy.random(compiled, rng=rng).probs.copy()
    zero = (rng.random(probs.shape) < drop) & compiled.legal_mask
    keep = rng.integers(0, compiled.infoset_num_actions)
    zero[np.arange(probs.shape[0]), keep] = False
    probs[zero] = 0.0
    return probs / probs.sum(axis=1, keepdims=True)


def _policies(compiled, rng):
    yield gamesolve.uniform_policy(compiled).probs
    yield TabularPolicy.first_action(compiled).probs  # deterministic: zeros everywhere else
    for _ in range(3):
        yield TabularPolicy.random(compiled, rng=rng).probs
    yield TabularPolicy.random(compiled, rng=rng, concentration=0.1).probs
    for _ in range(3):
        yield _sparse_random(compiled, rng)


def _reach_both(g, probs):
    fast = np.full((g.num_nodes, g.num_players + 1), np.nan)
    forward_reach(g.tree, probs, fast)
    slow = reach_numpy(g.tree, probs)
    return fast, slow


def _br_kernel(g, reach):
    total = int(g.num_sequences.sum())
    values = np.full(g.num_players, np.nan)
    br_values = np.full(g.num_players, np.nan)
    br_slot = np.full(g.num_infosets, -7, dtype=np.int32)
    best_responses(
        g.tree,
        reach,
        np.full(total, np.nan),  # scratch must be reset by the kernel
        np.full(total, np.nan),
        values,
        br_values,
        br_slot,
    )
    return values, br_values, br_slot


def _br_numpy(g, reach):
    return best_response_numpy(g.tree, reach)


def _check_slots(g, probs, slot_a, slot_b, br_values):
    """Equal best-response slots, or, where they differ, both choices are optimal (a tie)."""
    for player in range(g.num_players):
        rows = g.infosets_of(player)
        if np.array_equal(slot_a[rows], slot_b[rows]):
            continue
        for slots in (slot_a, slot_b):
            profile = probs.copy()
            profile[rows] = 0.0
            profile[rows, slots[rows]] = 1.0
            value = gamesolve.expected_values(g, profile)[player]
            assert value == pytest.approx(br_values[player], abs=1e-10)


def test_reach_kernel_matches_numpy(compiled, rng):
    for probs in _policies(compiled, rng):
        fast, slow = _reach_both(compiled, probs)
        assert not np.isnan(fast).any()
        np.testing.assert_allclose(fast, slow, rtol=TOL, atol=TOL)
        assert fast.min() >= 0.0 and fast.max() <= 1.0
        # The product of all columns at the terminals is a probability distribution.
        assert fast[compiled.terminal_node].prod(axis=1).sum() == pytest.approx(1.0, abs=1e-12)


def test_reach_with_exact_zeros_is_exactly_zero_below(compiled, rng):
    probs = _sparse_random(compiled, rng, drop=0.5)
    fast, slow = _reach_both(compiled, probs)
    np.testing.assert_array_equal(fast == 0.0, slow == 0.0)
    # A node below a zero-probability edge has zero reach for the acting player.
    dec = np.flatnonzero(compiled.node_player >= 0)
    for n in dec:
        first, m = compiled.node_first_child[n], compiled.node_num_children[n]
        p = compiled.node_player[n]
        zero_slots = np.flatnonzero(probs[compiled.node_infoset[n], :m] == 0.0)
        assert np.all(fast[first + zero_slots, p] == 0.0)


def test_best_response_kernel_matches_numpy(compiled, rng):
    for probs in _policies(compiled, rng):
        fast_reach, slow_reach = _reach_both(compiled, probs)
        values, br_values, br_slot = _br_kernel(compiled, fast_reach)
        values_np, br_values_np, br_slot_np = _br_numpy(compiled, slow_reach)
        np.testing.assert_allclose(values, values_np, rtol=TOL, atol=TOL)
        np.testing.assert_allclose(br_values, br_values_np, rtol=TOL, atol=TOL)
        assert br_slot.min() >= 0
        assert np.all(br_slot < compiled.infoset_num_actions)
        _check_slots(compiled, probs, br_slot, br_slot_np, br_values)


def test_best_response_slots_identical_on_generic_policies(game_loader, rng):
    # Dirichlet policies without zeros make exact ties unlikely: the slots must match one for one.
    for name in ("kuhn_poker", "leduc_poker"):
        g = game_loader(name).compile()
        for _ in range(3):
            probs = TabularPolicy.random(g, rng=rng).probs
            fast_reach, slow_reach = _reach_both(g, probs)
            np.testing.assert_array_equal(_br_kernel(g, fast_reach)[2], _br_numpy(g, slow_reach)[2])


def test_kernels_match_numpy_on_liars_dice(liars_dice, rng):
    g = liars_dice.compile()
    for probs in (TabularPolicy.random(g, rng=rng).probs, _sparse_random(g, rng)):
        fast_reach, slow_reach = _reach_both(g, probs)
        np.testing.assert_allclose(fast_reach, slow_reach, rtol=TOL, atol=TOL)
        values, br_values, br_slot = _br_kernel(g, fast_reach)
        values_np, br_values_np, br_slot_np = _br_numpy(g, slow_reach)
        np.testing.assert_allclose(values, values_np, rtol=TOL, atol=TOL)
        np.testing.assert_allclose(br_values, br_values_np, rtol=TOL, atol=TOL)
        _check_slots(g, probs, br_slot, br_slot_np, br_values)


def test_evaluate_wrapper_uses_the_kernels(compiled, rng):
    probs = TabularPolicy.random(compiled, rng=rng).probs
    _, slow_reach = _reach_both(compiled, probs)
    values_np, br_values_np, br_slot_np = _br_numpy(compiled, slow_reach)
    raw = evaluate(compiled, probs)
    np.testing.assert_allclose(raw.values, values_np, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(raw.br_values, br_values_np, rtol=TOL, atol=TOL)
    _check_slots(compiled, probs, raw.br_slot, br_slot_np, raw.br_values)
