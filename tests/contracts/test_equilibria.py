"""Exact bimatrix equilibria: vertex enumeration, Lemke-Howson, exact certification.

Oracles: pygambit 17's ``enummixed_solve`` (all extreme equilibria), the plain-numpy twins of
every kernel, and games whose equilibria are known in closed form.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import gamesolve
from gamesolve.certify import certify
from gamesolve.solvers.enumeration import (
    enumerate_equilibria,
    match_kernel,
    match_numpy,
    normalized_matrices,
    polytope_vertices_numpy,
    polytopes,
)
from gamesolve.solvers.enumeration.primitives import table_rows
from gamesolve.solvers.enumeration.vertices import search_vertices
from gamesolve.solvers.lemke_howson import (
    PivotLimitError,
    all_labels,
    lemke_howson,
    lemke_howson_kernel,
    lemke_howson_numpy,
)

pygambit = pytest.importorskip("pygambit")

ATOL = 1e-6
SHAPES = [(4, 4), (6, 6), (8, 8), (5, 7), (7, 5), (2, 9)]
SEEDS = [0, 1, 2]

#: The 3x2 example of von Stengel (2002), Handbook of Game Theory ch. 45: three equilibria.
VS_A = [[3, 3], [2, 5], [0, 6]]
VS_B = [[3, 2], [2, 6], [3, 1]]
VS_EQUILIBRIA = [
    ([1, 0, 0], [1, 0]),
    ([4 / 5, 1 / 5, 0], [2 / 3, 1 / 3]),
    ([0, 1 / 3, 2 / 3], [1 / 3, 2 / 3]),
]


def _random_game(shape, seed):
    rng = np.random.default_rng([seed, *shape])
    return gamesolve.bimatrix(rng.standard_normal(shape), rng.standard_normal(shape), name=f"rand{shape}")


def _gambit_equilibria(game):
    g = pygambit.StrategicGame.from_arrays(np.asarray(game.payoffs[0]), np.asarray(game.payoffs[1]))
    result = pygambit.nash.enummixed_solve(g, rational=False)
    return [[np.array([float(p) for _, p in eq[player]]) for player in g.players] for eq in result.equilibria]


def _same(profile, other, atol=ATOL):
    return all(
        np.max(np.abs(np.asarray(u) - np.asarray(v))) <= atol for u, v in zip(profile, other, strict=True)
    )


def _index_of(profile, profiles, atol=ATOL):
    hits = [i for i, other in enumerate(profiles) if _same(profile, other, atol)]
    assert len(hits) <= 1, "two listed equilibria coincide"
    return hits[0] if hits else None


# --------------------------------------------------------------------------------------------
# Vertex enumeration against pygambit and closed forms
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_enumeration_equals_gambit_enummixed(shape, seed):
    game = _random_game(shape, seed)
    ours = enumerate_equilibria(game)
    theirs = _gambit_equilibria(game)
    assert len(ours) == len(theirs)
    assert len(ours) % 2 == 1  # nondegenerate games have an odd number of equilibria
    matched = {_index_of(list(eq), theirs) for eq in ours}
    assert None not in matched and len(matched) == len(theirs)
    for eq in ours:
        assert gamesolve.nash_conv(game, eq).nash_conv <= 1e-9


def test_enumeration_known_game():
    game = gamesolve.bimatrix(VS_A, VS_B)
    ours = enumerate_equilibria(game)
    assert len(ours) == 3
    for expected in VS_EQUILIBRIA:
        assert _index_of(expected, [list(e) for e in ours], atol=1e-12) is not None
    assert [tuple(len(np.flatnonzero(s)) for s in eq) for eq in ours] == [(1, 1), (2, 2), (2, 2)]


def test_enumeration_is_sorted_and_deterministic():
    game = _random_game((8, 8), 1)
    first = enumerate_equilibria(game)
    assert first == enumerate_equilibria(game, parallel=False)
    sizes = [max(int(np.count_nonzero(s)) for s in eq) for eq in first]
    assert sizes == sorted(sizes)


def test_enumeration_on_games_with_one_action():
    rng = np.random.default_rng(5)
    game = gamesolve.bimatrix(rng.random((1, 4)), rng.random((1, 4)))
    (eq,) = enumerate_equilibria(game)
    assert eq[0].tolist() == [1.0]
    assert int(np.argmax(eq[1])) == int(np.argmax(game.payoffs[1][0])) and eq[1].max() == 1.0


def test_enumeration_grows_its_buffers():
    a, b = normalized_matrices(_random_game((6, 6), 0))
    (c_p, labels_p), _ = polytopes(a, b)
    status, masks, _ = search_vertices(c_p, labels_p, 1e-9, 32, 10**6, initial_capacity=4)
    reference, ref_masks, _ = polytope_vertices_numpy(c_p, labels_p, 1e-9)
    assert status == reference > 4
    assert sorted(masks[:, 0].tolist()) == sorted(ref_masks[:, 0].tolist())


def test_enumeration_vertex_limit_is_reported():
    with pytest.raises(gamesolve.UnsupportedGame, match="max_vertices"):
        enumerate_equilibria(_random_game((6, 6), 0), max_vertices=10)


# --------------------------------------------------------------------------------------------
# Degenerate games (vertex enumeration of them: tests/contracts/test_enumeration_degenerate.py)
# --------------------------------------------------------------------------------------------

DEGENERATE_GAMES = {
    "constant": ([[1, 1], [1, 1]], [[1, 1], [1, 1]]),
    # von Stengel's degenerate variant: the column player's payoffs against row 0 tie
    "pure_two_best_responses": ([[3, 3], [2, 5], [0, 6]], [[3, 3], [2, 6], [3, 1]]),
    # the same tie on the other side: row player indifferent against column 0
    "column_side": ([[2, 0], [2, 1]], [[1, 0], [0, 1]]),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE_GAMES))
def test_lemke_howson_solves_degenerate_games(name):
    game = gamesolve.bimatrix(*DEGENERATE_GAMES[name])
    for label in range(sum(game.num_actions)):
        assert gamesolve.nash_conv(game, lemke_howson(game, label)).nash_conv <= 1e-9


def test_non_bimatrix_games_are_unsupported():
    three = gamesolve.normal_form_game(np.zeros((3, 2, 2, 2)))
    with pytest.raises(gamesolve.UnsupportedGame, match="two-player"):
        enumerate_equilibria(three)
    with pytest.raises(gamesolve.UnsupportedGame, match="two-player"):
        lemke_howson(three)


# --------------------------------------------------------------------------------------------
# Lemke-Howson
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_lemke_howson_result_is_an_enumerated_equilibrium(shape, seed):
    game = _random_game(shape, seed)
    everything = [list(e) for e in enumerate_equilibria(game)]
    for label in range(sum(shape)):
        eq = lemke_howson(game, initial_label=label)
        assert gamesolve.nash_conv(game, eq).nash_conv <= 1e-9
        assert _index_of(list(eq), everything, atol=1e-9) is not None
    found = all_labels(game)
    assert 0 < len(found) <= len(everything)
    assert len({_index_of(list(e), everything) for e in found}) == len(found)


def test_lemke_howson_known_paths():
    game = gamesolve.bimatrix(VS_A, VS_B)
    # labels 1 and 4 reach the (0, 1/3, 2/3) equilibrium, the others the pure one (QuantEcon agrees);
    # the third equilibrium is not reachable from the artificial one
    reached = [int(np.argmax(lemke_howson(game, label)[0])) for label in range(5)]
    assert reached == [0, 2, 0, 0, 2]
    assert len(all_labels(game)) == 2


def test_lemke_howson_pivot_limit_and_arguments():
    game = _random_game((8, 8), 0)
    with pytest.raises(PivotLimitError, match="max_pivots"):
        lemke_howson(game, max_pivots=1)
    with pytest.raises(ValueError, match="initial_label"):
        lemke_howson(game, initial_label=16)
    with pytest.raises(ValueError, match="max_pivots"):
        lemke_howson(game, max_pivots=0)


def test_lemke_howson_large_game():
    game = _random_game((60, 80), 0)
    eq = lemke_howson(game, 3)
    assert gamesolve.nash_conv(game, eq).nash_conv <= 1e-9


# --------------------------------------------------------------------------------------------
# Kernels against their plain-numpy twins
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 3), (4, 4), (5, 7), (7, 5), (6, 6), (2, 8)], ids=str)
def test_vertex_kernel_matches_brute_force_twin(shape):
    a, b = normalized_matrices(_random_game(shape, 7))
    for c, labels in polytopes(a, b):
        status, masks, _ = search_vertices(c, labels, 1e-9, 32, 10**6)
        twin_status, twin_masks, _ = polytope_vertices_numpy(c, labels, 1e-9)
        assert status == twin_status > 0
        assert masks[0, 0] == twin_masks[0, 0]  # the origin first
        assert sorted(masks[:, 0].tolist()) == sorted(twin_masks[:, 0].tolist())
        # no drift without refactorization on these sizes either
        status_raw, masks_raw, _ = search_vertices(c, labels, 1e-9, 10**9, 10**6)
        assert status_raw == status and sorted(masks_raw[:, 0].tolist()) == sorted(masks[:, 0].tolist())


def test_vertex_kernel_with_many_labels_uses_several_words():
    # 2 + 68 labels need two 64-bit words per mask; two rows keep the polytope small
    rng = np.random.default_rng(3)
    game = gamesolve.bimatrix(rng.random((2, 68)), rng.random((2, 68)))
    a, b = normalized_matrices(game)
    (c_p, labels_p), _ = polytopes(a, b)
    status, masks, _ = search_vertices(c_p, labels_p, 1e-9, 32, 10**6)
    twin_status, twin_masks, _ = polytope_vertices_numpy(c_p, labels_p, 1e-9)
    assert masks.shape[1] == 2 and status == twin_status
    assert sorted(map(tuple, masks.tolist())) == sorted(map(tuple, twin_masks.tolist()))
    ours = enumerate_equilibria(game)
    theirs = _gambit_equilibria(game)
    assert len(ours) == len(theirs)
    assert all(_index_of(list(e), theirs) is not None for e in ours)


@pytest.mark.parametrize("shape", [(4, 4), (6, 6), (5, 7)], ids=str)
def test_match_kernel_matches_twin(shape):
    a, b = normalized_matrices(_random_game(shape, 2))
    masks = [search_vertices(c, lab, 1e-9, 32, 10**6)[1] for c, lab in polytopes(a, b)]
    n_labels = sum(shape)
    full = np.array([(1 << n_labels) - 1], dtype=np.uint64)
    table = np.empty((table_rows(masks[1].shape[0]), 2), dtype=np.uint64)
    pairs = np.empty((masks[0].shape[0], 2), dtype=np.int64)
    count = match_kernel(masks[0], masks[1], full, table, pairs)
    twin = match_numpy(masks[0], masks[1], full)
    assert count == twin.shape[0] >= 1
    assert sorted(map(tuple, pairs[:count].tolist())) == sorted(map(tuple, twin.tolist()))


def _lh_games():
    for shape in [(4, 4), (6, 6), (5, 7), (9, 3)]:
        yield shape, _random_game(shape, 4)
    for name in sorted(DEGENERATE_GAMES):
        game = gamesolve.bimatrix(*DEGENERATE_GAMES[name])
        yield name, game
    rng = np.random.default_rng(11)
    yield "integer", gamesolve.bimatrix(rng.integers(0, 3, (5, 5)), rng.integers(0, 3, (5, 5)))


@pytest.mark.parametrize("name_game", list(_lh_games()), ids=lambda ng: str(ng[0]))
def test_lemke_howson_kernel_matches_twin(name_game):
    _, game = name_game
    a, b = normalized_matrices(game)
    m, n = a.shape
    (c_p, _), (c_q, _) = polytopes(a, b)
    for label in range(m + n):
        basic_p = np.empty(m + n, dtype=np.uint8)
        basic_q = np.empty(n + m, dtype=np.uint8)
        info = np.zeros(1, dtype=np.int64)
        status = lemke_howson_kernel(
            np.ascontiguousarray(b),
            np.ascontiguousarray(a.T),
            label,
            10_000,
            1e-12,
            16,
            basic_p,
            basic_q,
            info,
        )
        twin = lemke_howson_numpy(c_p, c_q, label, 10_000, 1e-12)
        assert status == twin[0] == 0
        assert info[0] == twin[3]
        np.testing.assert_array_equal(basic_p, twin[1])
        np.testing.assert_array_equal(basic_q, twin[2])


def test_lemke_howson_refactorization_does_not_change_the_path():
    game = _random_game((40, 40), 1)
    a, b = normalized_matrices(game)
    runs = []
    for every in (1, 16, 10**9):
        basic_p = np.empty(80, dtype=np.uint8)
        basic_q = np.empty(80, dtype=np.uint8)
        info = np.zeros(1, dtype=np.int64)
        status = lemke_howson_kernel(
            np.ascontiguousarray(b), np.ascontiguousarray(a.T), 0, 10**6, 1e-12, every, basic_p, basic_q, info
        )
        runs.append((status, int(info[0]), basic_p.tolist(), basic_q.tolist()))
    assert runs[0] == runs[1] == runs[2]


# --------------------------------------------------------------------------------------------
# Exact certification
# --------------------------------------------------------------------------------------------


def test_certify_matching_pennies():
    pennies = gamesolve.zero_sum([[1, -1], [-1, 1]])
    assert certify(pennies, [[0.5, 0.5], [0.5, 0.5]]) == Fraction(0)
    regret = certify(pennies, [[0.6, 0.4], [0.5, 0.5]])
    assert isinstance(regret, Fraction) and regret > 0
    assert certify(pennies, [[1, 0], [1, 0]]) == Fraction(2)


def test_certify_rational_equilibria_of_an_integer_game():
    game = gamesolve.bimatrix(VS_A, VS_B)
    for eq in enumerate_equilibria(game):
        assert certify(game, eq, max_denominator=100) == 0
    off = [[0.0, 0.3, 0.7], [1 / 3, 2 / 3]]
    assert certify(game, off, max_denominator=100) > 0


def test_certify_float_equilibrium_is_small_and_exact():
    game = _random_game((5, 5), 0)
    eq = lemke_howson(game)
    regret = certify(game, eq)
    assert isinstance(regret, Fraction)
    assert 0 <= regret < Fraction(1, 10**9)


def test_certify_three_players():
    # three-player coordination: everyone on action 0 is an equilibrium, a mixed deviation is not
    payoffs = np.zeros((3, 2, 2, 2))
    payoffs[:, 0, 0, 0] = 1.0
    payoffs[:, 1, 1, 1] = 1.0
    game = gamesolve.normal_form_game(payoffs)
    assert certify(game, [[1, 0], [1, 0], [1, 0]]) == 0
    assert certify(game, [[1, 0], [0.5, 0.5], [1, 0]]) > 0
    with pytest.raises(ValueError, match="max_denominator"):
        certify(game, [[1, 0], [1, 0], [1, 0]], max_denominator=0)
