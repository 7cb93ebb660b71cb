"""Layered multi-core passes: the same numbers for every thread count, and the serial numbers to 1e-12."""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
import pytest

import gamesolve
from gamesolve.errors import InvalidArgumentError
from gamesolve.kernels import layers as layers_mod
from gamesolve.kernels.cfr import counterfactual_values
from gamesolve.kernels.evaluation import best_responses, forward_reach
from gamesolve.kernels.layers import (
    SERIAL,
    _layer_bounds,
    best_response_mass_layered,
    build_layers,
    counterfactual_values_layered,
    forward_reach_layered,
    kernel_threads,
    layers_of,
    use_serial_kernels,
)

TWO_THREADS = numba.config.NUMBA_NUM_THREADS >= 2


def _random_profile(g, rng) -> np.ndarray:
    probs = rng.random((g.num_infosets, g.max_actions)) * g.legal_mask
    probs[rng.random(probs.shape) < 0.2] = 0.0  # exact zeros: the skipped subtrees are skipped alike
    probs = np.where(probs.sum(axis=1, keepdims=True) > 0, probs, g.legal_mask)
    return probs / probs.sum(axis=1, keepdims=True)


def test_layer_bounds_follow_depth(leduc):
    g = leduc.compile()
    bounds = build_layers(g.tree).layer_start
    depth = np.zeros(g.num_nodes, dtype=np.int64)
    for n in range(1, g.num_nodes):
        depth[n] = depth[g.node_parent[n]] + 1
    assert bounds[0] == 0 and bounds[-1] == g.num_nodes
    np.testing.assert_array_equal(np.diff(bounds), np.bincount(depth))
    # A layout that is not breadth first is recognised (the caller then keeps the serial kernels).
    width = np.array([2, 2, 2, 0, 0, 0, 0], dtype=np.int32)
    breadth_first = np.array([1, 3, 5, -1, -1, -1, -1], dtype=np.int32)
    np.testing.assert_array_equal(_layer_bounds(breadth_first, width), [0, 1, 3, 7])
    children_of_2_first = np.array([1, 5, 3, -1, -1, -1, -1], dtype=np.int32)
    assert _layer_bounds(children_of_2_first, width)[0] == -1


@pytest.mark.parametrize("name", ["leduc_poker", "kuhn_poker(players=3)"])
def test_counterfactual_values_match_serial_and_ignore_threads(name, game_loader, rng):
    g = game_loader(name).compile()
    lay = build_layers(g.tree)
    probs = _random_profile(g, rng)
    shape = (g.num_infosets, g.max_actions)
    for player in range(g.num_players):
        serial = np.zeros(shape)
        scratch = (np.empty(g.num_nodes), np.empty(g.num_nodes))
        root = counterfactual_values(g.tree, probs, player, *scratch, serial)
        outs = []
        for threads in (1, 2) if TWO_THREADS else (1,):
            cfv = np.where(g.legal_mask, np.nan, 0.0)  # every legal slot of the player is written
            cfv[g.infoset_player != player] = 0.0
            with kernel_threads(threads):
                r = counterfactual_values_layered(
                    g.tree, lay, probs, player, np.empty(g.num_nodes), np.empty(g.num_nodes), cfv,
                    np.empty((lay.chunks, *shape)),
                )  # fmt: skip
            assert r == root  # the values pass adds the same terms in the same order
            outs.append(cfv)
        np.testing.assert_allclose(outs[0], serial, rtol=1e-12, atol=1e-13)
        for other in outs[1:]:
            np.testing.assert_array_equal(other, outs[0])


def test_evaluation_matches_serial_and_ignores_threads(leduc, rng):
    g = leduc.compile()
    lay = build_layers(g.tree)
    probs = _random_profile(g, rng)
    width = g.num_players + 1
    reach = np.empty((g.num_nodes, width))
    forward_reach(g.tree, probs, reach)
    seqs = int(g.num_sequences.sum())
    values, br_values, slots = np.empty(2), np.empty(2), np.empty(g.num_infosets, dtype=np.int32)
    best_responses(g.tree, reach, np.empty(seqs), np.empty(seqs), values, br_values, slots)
    runs = []
    for threads in (1, 2) if TWO_THREADS else (1,):
        with kernel_threads(threads):
            layered = np.empty((g.num_nodes, width))
            forward_reach_layered(g.tree, lay, probs, layered)
            np.testing.assert_array_equal(layered, reach)  # the forward pass is the same arithmetic
            cf, v = np.empty(seqs), np.empty(2)
            best_response_mass_layered(g.tree, lay, layered, cf, v, np.empty((lay.chunks, seqs + 2)))
            runs.append((cf, v))
    np.testing.assert_allclose(runs[0][1], values, rtol=1e-12, atol=1e-13)
    for cf, v in runs[1:]:
        np.testing.assert_array_equal(cf, runs[0][0])
        np.testing.assert_array_equal(v, runs[0][1])


@pytest.fixture
def layered_leduc(leduc, monkeypatch):
    """A fresh compiled Leduc that counts as large (the layered kernels run on it)."""
    monkeypatch.setattr(layers_mod, "LAYERED_MIN_NODES", 1)
    monkeypatch.setattr(layers_mod, "CFR_LAYERED_MIN_NODES", 1)
    g = dataclasses.replace(leduc.compile())
    assert layers_of(g) is not None
    return g


@pytest.mark.parametrize("solver", ["cfr+", "dcfr", "pcfr+"])
def test_solve_is_bit_identical_for_every_thread_count(layered_leduc, solver):
    runs = [
        gamesolve.solve(layered_leduc, solver, iterations=30, eval_every=10, threads=threads)
        for threads in ((1, 2) if TWO_THREADS else (1, 1))
    ]
    np.testing.assert_array_equal(runs[0].policy.probs, runs[1].policy.probs)
    assert runs[0].history.exploitability == runs[1].history.exploitability
    assert len(runs[0].history) == 4
    # And it is the serial kernels' run up to rounding.
    serial = gamesolve.solve(gamesolve.load_game("leduc_poker"), solver, iterations=30, eval_every=10)
    np.testing.assert_allclose(runs[0].policy.probs, serial.policy.probs, atol=1e-9)
    assert runs[0].exploitability == pytest.approx(serial.exploitability, rel=1e-9)


def test_threads_option_is_checked_and_restores_numba(layered_leduc):
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(InvalidArgumentError, match="threads"):
            gamesolve.solve(layered_leduc, "cfr+", iterations=1, threads=bad)
    before = numba.get_num_threads()
    gamesolve.solve(layered_leduc, "cfr+", iterations=2, threads=1)
    assert numba.get_num_threads() == before


def test_small_games_keep_the_serial_kernels(kuhn, leduc):
    assert layers_of(dataclasses.replace(kuhn.compile())) is None
    g = leduc.compile()
    assert layers_of(g, min_nodes=g.num_nodes + 1) is None
    assert layers_of(g, min_nodes=g.num_nodes) is not None
    copy = dataclasses.replace(g)
    use_serial_kernels(copy)
    assert layers_of(copy, min_nodes=1) is None
    assert SERIAL.chunks == 0
