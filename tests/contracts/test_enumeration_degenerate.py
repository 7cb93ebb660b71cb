"""Vertex enumeration of degenerate bimatrix games, Nash subsets, time limits and option checks.

Oracles: pygambit 17's ``enummixed_solve`` in exact rational arithmetic (its extreme equilibria,
compared as sets, since Gambit lists a degenerate vertex once per basis, and its ``cliques``,
the maximal Nash subsets), the plain-numpy twins of every kernel, brute force over all
subsets for the bicliques, and games whose equilibria are known in closed form.
"""

from __future__ import annotations

import itertools
import re
import time
from fractions import Fraction

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import InvalidArgumentError
from gamesolve.normal_form import MixedProfile
from gamesolve.solvers.enumeration import (
    TimeLimitError,
    cover_match_kernel,
    cover_match_numpy,
    distinct_kernel,
    enumerate_equilibria,
    extreme_equilibria,
    label_index_kernel,
    match_kernel,
    maximal_nash_subsets,
    normalized_matrices,
    polytope_vertices_numpy,
    polytopes,
    vertex_points_kernel,
    vertex_points_numpy,
)
from gamesolve.solvers.enumeration.primitives import table_rows
from gamesolve.solvers.enumeration.vertices import search_vertices
from gamesolve.solvers.lemke_howson import all_labels, all_labels_within, lemke_howson
from gamesolve.solvers.two_player import EquilibriumEnumeration, LemkeHowson

pygambit = pytest.importorskip("pygambit")

ATOL = 1e-9


def _random_integer_game(seed, shape=None, high=3):
    """Payoffs uniform on ``0 .. high``; the shape drawn from 2x2 .. 6x6 unless given."""
    rng = np.random.default_rng([seed, high, 17])
    if shape is None:
        shape = tuple(int(s) for s in rng.integers(2, 7, 2))
    return rng.integers(0, high + 1, shape), rng.integers(0, high + 1, shape)


def _gambit(a, b):
    """Gambit's extreme equilibria (a set: duplicates merged) and cliques, all as Fractions."""
    g = pygambit.StrategicGame.from_arrays(np.asarray(a), np.asarray(b))
    result = pygambit.nash.enummixed_solve(g, rational=True, cliques=True)
    players = list(g.players)

    def exact(eq):
        return tuple(tuple(Fraction(str(p)) for _, p in eq[player]) for player in players)

    equilibria = {exact(eq) for eq in result.equilibria}
    cliques = {frozenset(exact(eq) for eq in clique) for clique in result.cliques}
    return equilibria, cliques


def _close(ours, exact):
    """Float profile within ATOL of a rational one, entry by entry."""
    return all(
        abs(float(u) - float(v)) <= ATOL
        for s, t in zip(ours, exact, strict=True)
        for u, v in zip(s, t, strict=True)
    )


def _assert_same_as_gambit(a, b):
    found = extreme_equilibria(gamesolve.bimatrix(a, b))
    equilibria, cliques = _gambit(a, b)
    ours = [list(eq) for eq in found.equilibria]
    assert len(ours) == len(equilibria)
    # a bijection: every one of ours is close to exactly one of Gambit's and vice versa
    assert all(sum(_close(eq, ex) for ex in equilibria) == 1 for eq in ours)
    assert all(sum(_close(eq, ex) for eq in ours) == 1 for ex in equilibria)
    # the maximal Nash subsets are Gambit's cliques: map our strategies to Gambit's fractions
    exact_of = {}
    for eq in ours:
        (ex,) = [ex for ex in equilibria if _close(eq, ex)]
        exact_of[tuple(map(tuple, eq))] = ex
    rows, cols = found.strategies
    subsets = {
        frozenset(exact_of[(tuple(rows[i]), tuple(cols[j]))] for i in r for j in c)
        for r, c in found.nash_subsets
    }
    assert subsets == cliques
    game = gamesolve.bimatrix(a, b)
    for eq in found.equilibria:
        assert gamesolve.nash_conv(game, eq).nash_conv <= 1e-9
    return found


# --------------------------------------------------------------------------------------------
# Against Gambit
# --------------------------------------------------------------------------------------------

RANDOM_SEEDS = range(300)


@pytest.mark.parametrize("block", range(6))
def test_random_integer_games_match_gambit(block):
    """300 seeded games with payoffs 0..3, shapes 2x2 .. 6x6 (square and rectangular)."""
    degenerate = 0
    for seed in RANDOM_SEEDS[block::6]:
        a, b = _random_integer_game(seed)
        degenerate += _assert_same_as_gambit(a, b).degenerate
    assert degenerate >= 40  # most of these 50 games are degenerate


@pytest.mark.parametrize(
    ("shape", "high"), [((7, 7), 3), ((3, 9), 2), ((9, 3), 2), ((8, 5), 1), ((1, 6), 2), ((6, 1), 2)], ids=str
)
def test_larger_rectangular_and_binary_games_match_gambit(shape, high):
    for seed in range(4):
        _assert_same_as_gambit(*_random_integer_game(seed, shape, high))


CLASSIC = {
    # every profile is an equilibrium: Gambit lists the 12 pure ones, one clique
    "zero": (np.zeros((4, 3), int), np.zeros((4, 3), int)),
    # a continuum: the row player is indifferent, the column player coordinates
    "row_indifferent": ([[1, 1], [1, 1]], [[1, 0], [0, 1]]),
    # a column of equal payoffs for the column player against row 0 (von Stengel's degenerate variant)
    "two_best_responses": ([[3, 3], [2, 5], [0, 6]], [[3, 3], [2, 6], [3, 1]]),
    # the row player indifferent against column 0
    "column_side": ([[2, 0], [2, 1]], [[1, 0], [0, 1]]),
    # a weakly dominated row and identical payoffs
    "weak_dominance": ([[1, 1], [0, 0]], [[1, 1], [0, 0]]),
    "one_by_one": ([[0]], [[5]]),
    "identity_coordination": (np.ones((3, 3), int), np.eye(3, dtype=int)),
}


@pytest.mark.parametrize("name", sorted(CLASSIC))
def test_classic_degenerate_games_match_gambit(name):
    _assert_same_as_gambit(*CLASSIC[name])


def _duplicated_columns_game():
    """9 x 27, payoffs 0 .. 12, seven distinct columns repeated (like a reduced normal form)."""
    values = np.array([0, 1, 2, 3, 4, 6, 7, 8, 9, 12])
    rng = np.random.default_rng([228, 11])
    distinct = int(rng.integers(4, 10))
    b = rng.choice(values, (9, distinct))
    a = rng.choice(values, (9, distinct))
    cols = rng.integers(0, distinct, 27)
    return a[:, cols], b[:, cols]


def test_game_with_many_duplicated_columns():
    """Ratio tests at its degenerate vertices see rounding noise: with a pivot threshold of 1e-13
    instead of 1e-9 the search pivoted on noise and derailed (an unbounded ratio test or a
    division by zero). 1923 extreme equilibria: pygambit 17.0.0b2's enummixed in rational
    arithmetic lists the same set (in 453 s; its cliques stop at 700 columns, so they differ)."""
    game = gamesolve.bimatrix(*_duplicated_columns_game())
    found = extreme_equilibria(game)
    assert len(found.equilibria) == 1923
    assert found.bases == (318, 27788) and found.vertices == (235, 26659)
    accurate = extreme_equilibria(game, refactor_every=1)  # the dictionary recomputed at every pivot
    assert accurate.equilibria == found.equilibria and accurate.nash_subsets == found.nash_subsets
    assert max(gamesolve.nash_conv(game, eq).nash_conv for eq in found.equilibria) <= 1e-9
    # every extreme equilibrium lies in a maximal Nash subset, and every subset is a biclique
    pairs = set(map(tuple, found.pairs.tolist()))
    assert sorted(len(c) for r, c in found.nash_subsets) == [2, 4, 18, 20, 129, 180, 400, 450, 720]
    assert all(len(r) == 1 for r, _ in found.nash_subsets)
    assert {(i, j) for r, c in found.nash_subsets for i in r for j in c} == pairs


def test_zero_game_every_pure_pair_in_one_subset():
    found = extreme_equilibria(gamesolve.bimatrix(*CLASSIC["zero"]))
    assert len(found.equilibria) == 12 and found.degenerate
    assert found.nash_subsets == (((0, 1, 2, 3), (0, 1, 2)),)
    assert [s.tolist() for s in found.strategies[1]] == np.eye(3).tolist()


def test_continuum_is_three_segments():
    """Row indifferent, column coordinating: x in [e0, mid] with y = e0, x in [mid, e1] with y = e1,
    and x = mid with any y."""
    found = extreme_equilibria(gamesolve.bimatrix(*CLASSIC["row_indifferent"]))
    rows = [s.tolist() for s in found.strategies[0]]
    assert np.allclose(rows, [[1, 0], [0, 1], [0.5, 0.5]], atol=1e-12, rtol=0)
    assert found.nash_subsets == (((0, 2), (0,)), ((1, 2), (1,)), ((2,), (0, 1)))
    assert found.pairs.tolist() == [[0, 0], [1, 1], [2, 0], [2, 1]]


def test_von_stengel_degenerate_variant_known_values():
    found = extreme_equilibria(gamesolve.bimatrix(*CLASSIC["two_best_responses"]))
    expected = [([1, 0, 0], [1, 0]), ([1, 0, 0], [2 / 3, 1 / 3]), ([0, 1 / 3, 2 / 3], [1 / 3, 2 / 3])]
    assert len(found.equilibria) == 3
    for x, y in expected:
        assert any(
            np.allclose(e[0], x, atol=1e-12) and np.allclose(e[1], y, atol=1e-12) for e in found.equilibria
        )
    # the pure row strategy pairs with the segment from (1, 0) to (2/3, 1/3)
    assert len(found.nash_subsets) == 2
    assert sorted(len(c) for _, c in found.nash_subsets) == [1, 2]


# --------------------------------------------------------------------------------------------
# Nondegenerate games keep their results
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n", [4, 7])
def test_nondegenerate_games_unchanged(n, seed):
    rng = np.random.default_rng([seed, n])
    game = gamesolve.bimatrix(rng.random((n, n)), rng.random((n, n)))
    found = extreme_equilibria(game)
    assert not found.degenerate
    assert found.vertices == found.bases  # one basis per vertex
    assert len(found.equilibria) % 2 == 1
    # one subset per equilibrium, and extras agree with the list of equilibria
    assert found.nash_subsets == tuple(((int(i),), (int(j),)) for i, j in sorted(found.pairs.tolist()))
    assert enumerate_equilibria(game) == list(found.equilibria)
    g = pygambit.StrategicGame.from_arrays(np.asarray(game.payoffs[0]), np.asarray(game.payoffs[1]))
    theirs = [
        [[float(p) for _, p in eq[pl]] for pl in g.players]
        for eq in pygambit.nash.enummixed_solve(g, rational=False).equilibria
    ]
    assert len(theirs) == len(found.equilibria)
    assert all(sum(_close(eq, t) for t in theirs) == 1 for eq in found.equilibria)


# --------------------------------------------------------------------------------------------
# Kernels against their twins
# --------------------------------------------------------------------------------------------


def _distinct(tight):
    return sorted({tuple(row) for row in tight.tolist()})


@pytest.mark.parametrize("seed", range(8))
def test_vertex_kernel_on_degenerate_polytopes_matches_brute_force(seed):
    a, b = normalized_matrices(gamesolve.bimatrix(*_random_integer_game(seed, (4, 5), 2)))
    for c, labels in polytopes(a, b):
        status, masks, tight = search_vertices(c, labels, 1e-9, 32, 10**6)
        count, twin_masks, _ = polytope_vertices_numpy(c, labels, 1e-9)
        assert status == masks.shape[0] >= count  # at least one basis per vertex
        assert _distinct(tight) == _distinct(twin_masks)
        assert tight[0].tolist() == twin_masks[0].tolist()  # the origin first


def test_buffers_grow_in_place():
    a, b = normalized_matrices(gamesolve.bimatrix(*_random_integer_game(3, (6, 6), 3)))
    c, labels = polytopes(a, b)[1]
    reference = search_vertices(c, labels, 1e-9, 32, 10**6, initial_capacity=1 << 14)
    for capacity in (1, 3, 17):
        grown = search_vertices(c, labels, 1e-9, 32, 10**6, initial_capacity=capacity)
        assert grown[0] == reference[0] > 17
        assert grown[1].tolist() == reference[1].tolist()  # same bases in the same order
        assert grown[2].tolist() == reference[2].tolist()


def test_vertex_limit_is_reported():
    with pytest.raises(gamesolve.UnsupportedGame, match="max_vertices"):
        extreme_equilibria(gamesolve.bimatrix(*_random_integer_game(3, (6, 6), 3)), max_vertices=5)


def _vertex_masks(tight):
    """One row per vertex, in the order first visited (the origin first)."""
    _, first = np.unique(tight, axis=0, return_index=True)
    return tight[np.sort(first)]


@pytest.mark.parametrize("seed", range(5))
def test_cover_match_kernel_matches_twin(seed):
    a, b = normalized_matrices(gamesolve.bimatrix(*_random_integer_game(seed, (5, 4), 2)))
    tight_p, tight_q = (
        _vertex_masks(search_vertices(c, lab, 1e-9, 32, 10**6)[2]) for c, lab in polytopes(a, b)
    )
    full = np.array([(1 << 9) - 1], dtype=np.uint64)
    index_q = np.empty((9, (tight_q.shape[0] + 63) // 64), dtype=np.uint64)
    label_index_kernel(tight_q, index_q)
    for v in range(1, tight_q.shape[0]):  # the index lists each vertex under each of its labels
        for lab in range(9):
            in_index = bool((int(index_q[lab, v >> 6]) >> (v & 63)) & 1)
            assert in_index == bool((int(tight_q[v, 0]) >> lab) & 1)
    pairs = np.empty((tight_p.shape[0] * tight_q.shape[0], 2), dtype=np.int64)
    count = cover_match_kernel(tight_p, index_q, 1, tight_p.shape[0], pairs)
    twin = cover_match_numpy(tight_p, tight_q, full)
    assert count == twin.shape[0] >= 1
    assert sorted(map(tuple, pairs[:count].tolist())) == sorted(map(tuple, twin.tolist()))
    # a buffer too small says so; a range of rows gives the pairs of those rows
    assert cover_match_kernel(tight_p, index_q, 1, tight_p.shape[0], pairs[: count - 1]) == -1
    part = cover_match_kernel(tight_p, index_q, 2, 4, pairs)
    assert sorted(map(tuple, pairs[:part].tolist())) == sorted(
        t for t in map(tuple, twin.tolist()) if 2 <= t[0] < 4
    )


def test_cover_match_over_many_vertices_uses_several_index_words():
    """Over 64 vertices of Q: the label index needs several 64-bit words per label."""
    a, b = normalized_matrices(gamesolve.bimatrix(*_random_integer_game(1, (8, 8), 3)))
    tight_p, tight_q = (
        _vertex_masks(search_vertices(c, lab, 1e-9, 32, 10**6)[2]) for c, lab in polytopes(a, b)
    )
    assert tight_q.shape[0] > 128  # 200 vertices: four words per label
    index_q = np.empty((16, (tight_q.shape[0] + 63) // 64), dtype=np.uint64)
    label_index_kernel(tight_q, index_q)
    pairs = np.empty((tight_p.shape[0] * tight_q.shape[0], 2), dtype=np.int64)
    count = cover_match_kernel(tight_p, index_q, 1, tight_p.shape[0], pairs)
    twin = cover_match_numpy(tight_p, tight_q, np.array([(1 << 16) - 1], dtype=np.uint64))
    assert count == twin.shape[0] >= 1
    assert sorted(map(tuple, pairs[:count].tolist())) == sorted(map(tuple, twin.tolist()))


def test_cover_match_equals_hash_match_on_nondegenerate_polytopes():
    rng = np.random.default_rng(4)
    a, b = normalized_matrices(gamesolve.bimatrix(rng.random((5, 6)), rng.random((5, 6))))
    masks = [search_vertices(c, lab, 1e-9, 32, 10**6)[1] for c, lab in polytopes(a, b)]
    full = np.array([(1 << 11) - 1], dtype=np.uint64)
    index_q = np.empty((11, (masks[1].shape[0] + 63) // 64), dtype=np.uint64)
    label_index_kernel(masks[1], index_q)
    pairs = np.empty((masks[0].shape[0] * masks[1].shape[0], 2), dtype=np.int64)
    count = cover_match_kernel(masks[0], index_q, 1, masks[0].shape[0], pairs)
    table = np.empty((table_rows(masks[1].shape[0]), 2), dtype=np.uint64)
    hashed = np.empty((masks[0].shape[0], 2), dtype=np.int64)
    hashed_count = match_kernel(masks[0], masks[1], full, table, hashed)
    assert count == hashed_count >= 1
    assert sorted(map(tuple, pairs[:count].tolist())) == sorted(map(tuple, hashed[:hashed_count].tolist()))


def test_distinct_kernel_keeps_first_bases_in_order():
    a, b = normalized_matrices(gamesolve.bimatrix(*CLASSIC["zero"]))
    for c, lab in polytopes(a, b):
        _, masks, tight = search_vertices(c, lab, 1e-9, 32, 10**6)
        first = np.empty(tight.shape[0], dtype=np.int64)
        table = np.empty((table_rows(tight.shape[0]), 1), dtype=np.uint64)
        count = distinct_kernel(masks, tight, table, first)
        _, reference = np.unique(tight, axis=0, return_index=True)
        assert first[:count].tolist() == sorted(reference.tolist())
        assert first[0] == 0 and count == c.shape[1] + 1  # a simplex: the origin and d unit vectors


@pytest.mark.parametrize("seed", range(4))
def test_distinct_kernel_on_mixed_simple_and_degenerate_vertices(seed):
    a, b = normalized_matrices(gamesolve.bimatrix(*_random_integer_game(seed, (6, 5), 3)))
    for c, lab in polytopes(a, b):
        _, masks, tight = search_vertices(c, lab, 1e-9, 32, 10**6)
        first = np.empty(tight.shape[0], dtype=np.int64)
        table = np.empty((table_rows(tight.shape[0]), 1), dtype=np.uint64)
        count = distinct_kernel(masks, tight, table, first)
        _, reference = np.unique(tight, axis=0, return_index=True)
        assert first[:count].tolist() == sorted(reference.tolist())


@pytest.mark.parametrize("seed", range(6))
def test_vertex_points_kernel_matches_twin(seed):
    a, b = normalized_matrices(gamesolve.bimatrix(*_random_integer_game(seed, (5, 6), 3)))
    for c, lab in polytopes(a, b):
        _, masks, tight = search_vertices(c, lab, 1e-9, 32, 10**6)
        which = np.arange(1, masks.shape[0], dtype=np.int64)  # every basis but the origin
        out = np.empty((which.shape[0], c.shape[1]))
        failed = np.empty(which.shape[0], dtype=np.uint8)
        assert vertex_points_kernel(c, lab, masks, tight, which, out, failed) == 0
        twin, twin_failed = vertex_points_numpy(c, lab, masks, tight, which)
        assert not twin_failed.any()
        np.testing.assert_allclose(out, twin, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        # bases of one vertex give one point
        for v in range(which.shape[0]):
            same = np.flatnonzero((tight[which] == tight[which[v]]).all(axis=1))
            np.testing.assert_allclose(out[same], np.repeat(out[v : v + 1], same.size, axis=0), atol=1e-12)


def test_vertex_points_kernel_reports_a_singular_basis():
    c = np.array([[1.0, 1.0], [1.0, 1.0]])  # two equal rows: the basis {x0, x1} is singular
    lab = np.arange(4, dtype=np.int64)
    masks = np.array([[0b1100]], dtype=np.uint64)  # both slacks nonbasic
    out = np.empty((1, 2))
    failed = np.empty(1, dtype=np.uint8)
    assert vertex_points_kernel(c, lab, masks, masks, np.array([0]), out, failed) == 1
    assert failed[0] == 1
    assert vertex_points_numpy(c, lab, masks, masks, np.array([0]))[1][0] == 1


def _bicliques_brute_force(edges):
    rows = sorted({r for r, _ in edges})
    cols = sorted({c for _, c in edges})
    found = []
    for size in range(1, len(rows) + 1):
        for rs in itertools.combinations(rows, size):
            common = tuple(c for c in cols if all((r, c) in edges for r in rs))
            if not common:
                continue
            closure = tuple(r for r in rows if all((r, c) in edges for c in common))
            if closure == rs:
                found.append((rs, common))
    return sorted(found)


@pytest.mark.parametrize("seed", range(20))
def test_maximal_nash_subsets_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    edges = {(int(r), int(c)) for r, c in zip(rng.integers(0, 6, 14), rng.integers(0, 5, 14), strict=True)}
    subsets, complete = maximal_nash_subsets(sorted(edges))
    assert complete
    assert subsets == _bicliques_brute_force(edges)
    # every edge lies in some maximal biclique
    assert all(any(r in rs and c in cs for rs, cs in subsets) for r, c in edges)


def test_parallel_search_gives_the_same_answer():
    game = gamesolve.bimatrix(*_random_integer_game(9, (8, 8), 2))
    one = extreme_equilibria(game)
    two = extreme_equilibria(game, parallel=True)
    assert one.equilibria == two.equilibria and one.nash_subsets == two.nash_subsets


def test_huge_payoffs_are_rescaled_not_overflowed():
    a, b = CLASSIC["two_best_responses"]
    small = extreme_equilibria(gamesolve.bimatrix(a, b))
    huge = extreme_equilibria(gamesolve.bimatrix(np.array(a) * 1e307 - 1e308, np.array(b) * 1e307))
    assert len(huge.equilibria) == len(small.equilibria) == 3
    assert all(
        np.allclose(u, v, atol=1e-12)
        for e, f in zip(small.equilibria, huge.equilibria, strict=True)
        for u, v in zip(e, f, strict=True)
    )


# --------------------------------------------------------------------------------------------
# Time limits
# --------------------------------------------------------------------------------------------


#: A game whose full enumeration takes far longer than the limits below (each polytope has
#: well over 150,000 bases; the search visits about that many in 2 s).
def _slow_game():
    rng = np.random.default_rng(0)
    extreme_equilibria(gamesolve.bimatrix(rng.random((8, 8)), rng.random((8, 8))))  # every kernel loaded
    return gamesolve.bimatrix(rng.random((25, 25)), rng.random((25, 25)))


def test_enumeration_stops_at_the_time_limit_with_what_it_found():
    game = _slow_game()
    start = time.perf_counter()
    found = extreme_equilibria(game, time_limit=0.5)
    elapsed = time.perf_counter() - start
    assert elapsed <= 0.5 + 1.0  # within 10% or 1 s (a loaded test machine gets the second)
    assert not found.complete
    assert found.vertices[0] > 1000 and found.vertices[1] > 1000  # both polytopes advanced
    for eq in found.equilibria:
        assert gamesolve.nash_conv(game, eq).nash_conv <= 1e-9


def test_enumerate_solver_reports_the_time_limit():
    game = _slow_game()
    start = time.perf_counter()
    try:
        result = gamesolve.solve(game, "enumerate", time_limit=0.6)
    except TimeLimitError as exc:  # nothing paired yet: also a clear answer
        assert "time limit" in str(exc) and "found 0" in str(exc)
        return
    assert time.perf_counter() - start <= 0.6 + 1.0
    assert not result.converged
    # the run loop may pass the seconds left after preparing the game (0.59...)
    assert re.match(r"time limit of 0\.[56]\d* s reached: found \d+ extreme equilibri", result.message)
    assert f"found {len(result.extras['equilibria'])} extreme equilibri" in result.message
    assert result.extras["complete"] is False


def test_enumerate_solver_raises_when_nothing_was_paired():
    game = _slow_game()
    with pytest.raises(TimeLimitError, match="found 0 equilibria"):
        EquilibriumEnumeration().run(game, time_limit=1e-6, progress=False)


def test_enumerate_solver_messages():
    bos = gamesolve.bimatrix([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    assert gamesolve.solve(bos, "enumerate").message == "found 3 equilibria"
    pure = gamesolve.bimatrix([[1, 0], [0, 0]], [[1, 0], [0, 0]])  # weakly dominant: degenerate
    assert gamesolve.solve(pure, "enumerate").message.endswith("(degenerate game)")


def test_enumerate_solver_without_limit_converges_with_subsets():
    result = gamesolve.solve(gamesolve.bimatrix(*CLASSIC["row_indifferent"]), "enumerate")
    assert result.converged
    assert result.message == "found 4 extreme equilibria in 3 maximal Nash subsets (degenerate game)"
    assert result.extras["nash_subsets"] == [[[0, 2], [0]], [[1, 2], [1]], [[2], [0, 1]]]
    assert result.extras["equilibrium_pairs"] == [[0, 0], [1, 1], [2, 0], [2, 1]]
    assert len(result.extras["equilibria"]) == 4 and result.extras["degenerate"] is True


#: Lemke-Howson on this game: label 0 ends after 188 pivots, label 1 after 283,525 (seconds).
def _long_path_game():
    rng = np.random.default_rng([1, 200])
    return gamesolve.bimatrix(rng.random((200, 200)), rng.random((200, 200)))


def test_lemke_howson_raises_at_the_time_limit():
    game = _long_path_game()
    lemke_howson(game, 0)  # compiled, and label 0 is quick
    start = time.perf_counter()
    with pytest.raises(TimeLimitError, match=r"time limit of 0\.3 s after \d+ pivots") as info:
        lemke_howson(game, 1, time_limit=0.3)
    assert time.perf_counter() - start <= 0.3 + 1.0
    assert "found 0" in str(info.value)
    with pytest.raises(TimeLimitError):
        LemkeHowson(initial_label=1).run(game, time_limit=0.3, progress=False)


def test_lemke_howson_every_label_returns_what_it_found_in_time():
    game = _long_path_game()
    start = time.perf_counter()
    found, done = all_labels_within(game, time_limit=0.4)
    assert time.perf_counter() - start <= 0.4 + 1.0
    assert done == 1  # label 0 ended, label 1 ran out of time
    assert len(found) == 1 and found[0] == lemke_howson(game, 0)
    result = LemkeHowson(initial_label=None).run(game, time_limit=0.4, progress=False)
    assert not result.converged
    assert result.message == "time limit of 0.4 s reached after 1 of 400 labels: found 1 equilibrium so far"
    assert result.extras["labels_done"] == 1 and len(result.extras["equilibria"]) == 1


def test_lemke_howson_every_label_without_limit():
    small = gamesolve.bimatrix(*CLASSIC["identity_coordination"])
    result = LemkeHowson(initial_label=None).run(small, progress=False)
    assert result.converged and result.extras["labels_done"] == 6
    assert result.message == f"found {len(result.extras['equilibria'])} equilibri" + (
        "um from 6 labels" if len(result.extras["equilibria"]) == 1 else "a from 6 labels"
    )
    assert all_labels(small) == [MixedProfile.of(small, e) for e in result.extras["equilibria"]]


# --------------------------------------------------------------------------------------------
# Options are checked at the door
# --------------------------------------------------------------------------------------------

BAD_ENUMERATION_OPTIONS = [
    ("tol", float("nan")),
    ("tol", 0.0),
    ("tol", -1e-9),
    ("tol", 0.5),
    ("tol", "abc"),
    ("tol", float("inf")),
    ("max_vertices", 0),
    ("max_vertices", 1.5),
    ("max_vertices", True),
    ("refactor_every", 0),
    ("refactor_every", float("nan")),
    ("parallel", "yes"),
    ("parallel", 2),
]


@pytest.mark.parametrize(("option", "value"), BAD_ENUMERATION_OPTIONS, ids=str)
def test_enumeration_options_are_checked(option, value):
    game = gamesolve.bimatrix(*CLASSIC["column_side"])
    with pytest.raises(InvalidArgumentError, match=option):
        EquilibriumEnumeration(**{option: value})
    with pytest.raises(InvalidArgumentError, match=option):
        extreme_equilibria(game, **{option: value})
    with pytest.raises(InvalidArgumentError, match=option):
        gamesolve.solve(game, "enumerate", **{option: value})


BAD_LEMKE_HOWSON_OPTIONS = [
    ("initial_label", -1),
    ("initial_label", 1.5),
    ("initial_label", "0"),
    ("initial_label", float("nan")),
    ("max_pivots", 0),
    ("max_pivots", float("inf")),
    ("tol", float("nan")),
    ("tol", 0),
    ("refactor_every", -3),
]


@pytest.mark.parametrize(("option", "value"), BAD_LEMKE_HOWSON_OPTIONS, ids=str)
def test_lemke_howson_options_are_checked(option, value):
    game = gamesolve.bimatrix(*CLASSIC["column_side"])
    with pytest.raises(InvalidArgumentError, match=option):
        LemkeHowson(**{option: value})
    with pytest.raises(InvalidArgumentError, match=option):
        gamesolve.solve(game, "lemke-howson", **{option: value})
    if option != "initial_label":
        with pytest.raises(InvalidArgumentError, match=option):
            lemke_howson(game, **{option: value})


def test_initial_label_is_checked_against_the_game():
    game = gamesolve.bimatrix(*CLASSIC["column_side"])  # 2 x 2: labels 0 .. 3
    solver = LemkeHowson(initial_label=4)  # fine until the game is known
    with pytest.raises(InvalidArgumentError, match=r"initial_label must be >= 0 and <= 3, got 4"):
        solver.run(game, progress=False)
    with pytest.raises(InvalidArgumentError, match="initial_label"):
        lemke_howson(game, initial_label=4)


@pytest.mark.parametrize("limit", [0, -1.0, float("nan"), "1", True])
def test_time_limits_are_checked(limit):
    game = gamesolve.bimatrix(*CLASSIC["column_side"])
    for solver in (EquilibriumEnumeration(), LemkeHowson(), LemkeHowson(initial_label=None)):
        with pytest.raises(InvalidArgumentError, match="time_limit"):
            solver.run(game, time_limit=limit, progress=False)
    with pytest.raises(InvalidArgumentError, match="time_limit"):
        extreme_equilibria(game, time_limit=limit)
    with pytest.raises(InvalidArgumentError, match="time_limit"):
        lemke_howson(game, time_limit=limit)


def test_infinite_time_limit_means_none():
    game = gamesolve.bimatrix(*CLASSIC["column_side"])
    assert EquilibriumEnumeration().run(game, time_limit=float("inf"), progress=False).converged
    assert lemke_howson(game, time_limit=float("inf")) == lemke_howson(game)


def test_progress_bars_go_to_stderr(capsys):
    game = gamesolve.bimatrix(*_random_integer_game(2, (6, 6), 3))
    found = EquilibriumEnumeration().run(game, progress=True)
    path = LemkeHowson(initial_label=3).run(game, progress=True)
    every = LemkeHowson(initial_label=None).run(game, progress=True)
    out, err = capsys.readouterr()
    assert out == ""  # library code prints nothing on stdout
    assert "enumerate on" in err and "bases P=" in err
    assert "lemke-howson on" in err and "pivot" in err and "label" in err
    assert found.converged and path.converged and every.converged
    assert every.extras["labels_done"] == 12
