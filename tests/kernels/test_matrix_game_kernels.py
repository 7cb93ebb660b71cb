"""The batched simplex solver of zero-sum matrix games agrees with HiGHS and with known games.

Oracle: ``solve_matrix_games_numpy`` (one HiGHS linear program per game, the row player's
program with a free value variable, strategies of the column player from its marginals). Optimal
strategies need not be unique, so strategies are checked through the duality gap
``max(q y) - min(x q)`` (zero exactly when ``(x, y)`` is a saddle point), not entry by entry.
Reference values: matching pennies and rock-paper-scissors 0 with uniform play; the 2x2 game
``[[2, -1], [-1, 1]]`` has value ``(2 - 1) / (2 + 1 + 1 + 1) = 0.2`` with ``x = y = (0.4, 0.6)``
(the 2x2 formula for games without a saddle point, e.g. Owen, *Game Theory*, 1995, sec. II.3).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gamesolve.errors import MalformedGameError
from gamesolve.kernels import matrix_game as M

TOL = 1e-9
SHAPES = [(1, 1), (1, 4), (4, 1), (2, 2), (3, 5), (5, 5), (8, 8), (10, 3)]


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([20240607, *key])


def _check_certified(q, values, x, y, tol=TOL):
    """Shapes, probability vectors, gap within tolerance, value between both best-response values."""
    q = np.asarray(q, dtype=np.float64)
    n, a, b = q.shape
    assert values.shape == (n,) and x.shape == (n, a) and y.shape == (n, b)
    assert values.dtype == x.dtype == y.dtype == np.float64
    assert np.all(x >= 0.0) and np.all(y >= 0.0)
    np.testing.assert_allclose(x.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    scale = np.maximum(1.0, np.ptp(q.reshape(n, -1), axis=1))  # [N]
    gaps = M.duality_gaps(q, x, y)  # [N]
    assert np.all(gaps <= tol * scale), gaps.max()
    upper = np.einsum("nab,nb->na", q, y).max(axis=1)  # what y concedes at most
    lower = np.einsum("na,nab->nb", x, q).min(axis=1)  # what x secures at least
    assert np.all(lower - tol * scale <= values) and np.all(values <= upper + tol * scale)


def _solve_checked(q):
    values, x, y = M.solve_matrix_games(q)
    _check_certified(q, values, x, y)
    return values, x, y


# ---------------------------------------------------------------------------- against the twin


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_kernel_matches_highs_twin_on_random_games(shape):
    rng = _rng(*shape)
    q = np.concatenate(
        [
            rng.standard_normal((12, *shape)),
            rng.integers(-3, 4, (12, *shape)).astype(np.float64),  # degenerate: ties everywhere
        ]
    )
    values = _solve_checked(q)[0]
    want_values, want_x, want_y = M.solve_matrix_games_numpy(q)
    _check_certified(q, want_values, want_x, want_y)
    np.testing.assert_allclose(values, want_values, rtol=0, atol=TOL)


def test_kernel_statuses_and_preallocated_outputs():
    q = _rng(1).standard_normal((300, 5, 5))
    values = np.full(300, np.nan)
    x = np.full((300, 5), np.nan)
    y = np.full((300, 5), np.nan)
    status = np.full(300, -1, dtype=np.int8)
    M.simplex_games(q, values, x, y, status, M.simplex_pivot_cap(5, 5), M.GAP_TOLERANCE)
    assert np.all(status == M.STATUS_OK)
    _check_certified(q, values, x, y)
    np.testing.assert_allclose(values[:40], M.solve_matrix_games_numpy(q[:40])[0], rtol=0, atol=TOL)


def test_parallel_kernel_is_identical_to_serial_kernel():
    rng = _rng(2)
    q = np.concatenate([rng.standard_normal((500, 4, 6)), rng.integers(-1, 2, (500, 4, 6))]).astype(float)
    outs = []
    for chunks in (None, 1, 7, 64):
        values, x, y = np.empty(1000), np.empty((1000, 4)), np.empty((1000, 6))
        status = np.empty(1000, dtype=np.int8)
        if chunks is None:
            M.simplex_games(q, values, x, y, status, M.simplex_pivot_cap(4, 6), M.GAP_TOLERANCE)
        else:
            M.simplex_games_parallel(
                q, values, x, y, status, M.simplex_pivot_cap(4, 6), M.GAP_TOLERANCE, chunks
            )
        assert np.all(status == M.STATUS_OK)
        outs.append((values, x, y))
    for got in outs[1:]:
        for g, w in zip(got, outs[0], strict=True):
            np.testing.assert_array_equal(g, w)
    for g, w in zip(M.solve_matrix_games(q), outs[0], strict=True):
        np.testing.assert_array_equal(g, w)


def test_values_only_matches_full_solve():
    q = _rng(3).standard_normal((50, 3, 4))
    got = M.matrix_game_values(q)
    assert got.shape == (50,)
    np.testing.assert_array_equal(got, M.solve_matrix_games(q)[0])


# -------------------------------------------------------------------------------- known games


def test_matching_pennies():
    values, x, y = _solve_checked([[[1.0, -1.0], [-1.0, 1.0]]])
    assert values[0] == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(x[0], [0.5, 0.5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(y[0], [0.5, 0.5], rtol=0, atol=1e-15)


def test_asymmetric_matching_pennies():
    values, x, y = _solve_checked([[[2.0, -1.0], [-1.0, 1.0]]])
    assert values[0] == pytest.approx(0.2, abs=1e-14)
    np.testing.assert_allclose(x[0], [0.4, 0.6], rtol=0, atol=1e-14)
    np.testing.assert_allclose(y[0], [0.4, 0.6], rtol=0, atol=1e-14)


def test_rock_paper_scissors():
    rps = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    values, x, y = _solve_checked(rps[None])
    assert values[0] == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(x[0], np.full(3, 1 / 3), rtol=0, atol=1e-14)
    np.testing.assert_allclose(y[0], np.full(3, 1 / 3), rtol=0, atol=1e-14)


def test_saddle_point_and_dominated_strategies():
    # row 1 dominates row 2, column 2 dominates column 3 (for the minimizer); row 1 secures
    # min(3, 4, 2, 7) = 2 and column 2 concedes max(0, 2, 1) = 2: the unique saddle point (1, 2)
    q = np.array([[[1.0, 5.0, 0.0, 9.0], [3.0, 4.0, 2.0, 7.0], [0.0, 3.0, 1.0, 6.0]]])
    values, x, y = _solve_checked(q)
    assert values[0] == 2.0
    np.testing.assert_array_equal(x[0], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(y[0], [0.0, 0.0, 1.0, 0.0])


def test_one_sided_games_are_pure_optimization():
    rng = _rng(4)
    row = rng.standard_normal((20, 1, 6))  # the row player has one action: column player minimizes
    values, x, y = _solve_checked(row)
    np.testing.assert_allclose(values, row[:, 0, :].min(axis=1), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(x, 1.0)
    np.testing.assert_array_equal(y.argmax(axis=1), row[:, 0, :].argmin(axis=1))
    col = rng.standard_normal((20, 6, 1))  # the column player has one action: row player maximizes
    values, x, y = _solve_checked(col)
    np.testing.assert_allclose(values, col[:, :, 0].max(axis=1), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(y, 1.0)
    single = np.array([[[3.5]], [[-2.0]]])
    values, x, y = _solve_checked(single)
    np.testing.assert_array_equal(values, [3.5, -2.0])


def test_constant_and_repeated_games():
    const = np.full((3, 4, 5), 7.25)
    const[1] = -1e6
    const[2] = 0.0
    values, x, y = _solve_checked(const)
    np.testing.assert_array_equal(values, [7.25, -1e6, 0.0])
    np.testing.assert_array_equal(x, 0.25)  # every strategy is optimal: uniform ones are returned
    np.testing.assert_array_equal(y, 0.2)
    # repeating rows and columns of a game changes neither its value nor the gap
    rng = _rng(5)
    base = rng.integers(-2, 3, (60, 3, 3)).astype(np.float64)
    repeated = base[:, [0, 2, 0, 1, 2, 2], :][:, :, [1, 1, 0, 2, 0]]
    np.testing.assert_allclose(_solve_checked(repeated)[0], _solve_checked(base)[0], rtol=0, atol=1e-12)


def test_degenerate_integer_games_match_twin():
    rng = _rng(6)
    for q in (rng.integers(-1, 2, (80, 5, 5)), rng.integers(0, 2, (40, 4, 6))):
        values, _, _ = _solve_checked(q)
        np.testing.assert_allclose(values, M.solve_matrix_games_numpy(q)[0], rtol=0, atol=TOL)
    # skew-symmetric integer games (many ties and degenerate pivots) are fair: value 0
    skew = rng.integers(-3, 4, (200, 6, 6)).astype(np.float64)
    skew -= skew.transpose(0, 2, 1)  # symmetric games: value 0
    np.testing.assert_allclose(_solve_checked(skew)[0], 0.0, rtol=0, atol=1e-13)


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1.0, 1e3, 1e6])
def test_scaled_and_shifted_games(scale):
    rng = _rng(7)
    q = rng.standard_normal((100, 5, 5))
    base = _solve_checked(q)[0]
    shift = 3.0 * scale
    values, x, y = _solve_checked(scale * q + shift)
    np.testing.assert_allclose(values, scale * base + shift, rtol=0, atol=1e-12 * scale)
    # the exact relative gap does not depend on the scale (the kernel normalizes by ptp)
    gaps = M.duality_gaps(scale * q + shift, x, y) / (scale * np.ptp(q.reshape(100, -1), axis=1))
    assert gaps.max() <= 1e-12
    # swapping the players' roles: value(-q^T) = -value(q)
    np.testing.assert_allclose(
        _solve_checked(-(scale * q).transpose(0, 2, 1))[0], -scale * base, rtol=0, atol=1e-12 * scale
    )


def test_huge_common_offset_keeps_precision():
    q = 1e6 + 1e-6 * _rng(8).standard_normal((50, 4, 4))  # payoffs agree in their first 12 digits
    values, x, y = _solve_checked(q)
    # subtracting the offset is exact (Sterbenz), so the shifted game is the same game
    want_values, want_x, want_y = _solve_checked(q - 1e6)
    np.testing.assert_allclose(values, 1e6 + want_values, rtol=0, atol=np.spacing(1e6))
    np.testing.assert_allclose(x, want_x, rtol=0, atol=1e-15)
    np.testing.assert_allclose(y, want_y, rtol=0, atol=1e-15)
    gaps = M.duality_gaps(q, x, y) / np.ptp(q.reshape(50, -1), axis=1)  # relative to the payoff range
    assert gaps.max() <= 1e-12


def test_payoffs_spanning_twelve_magnitudes_are_certified():
    rng = _rng(9)
    q = rng.standard_normal((400, 5, 5)) * 10.0 ** rng.integers(-6, 7, (400, 5, 5))
    values, x, y = M.solve_matrix_games(q)
    _check_certified(q, values, x, y)
    want = M.solve_matrix_games_numpy(q[:60])[0]
    scale = np.maximum(1.0, np.ptp(q[:60].reshape(60, -1), axis=1))
    assert np.all(np.abs(values[:60] - want) <= 2 * TOL * scale)


def test_reinversion_repairs_rounding_grown_along_the_pivot_path():
    rng = _rng(9)
    q = rng.standard_normal((400, 5, 5)) * 10.0 ** rng.integers(-6, 7, (400, 5, 5))
    t, rowlab, collab = np.empty((6, 6)), np.empty(5, dtype=np.int64), np.empty(5, dtype=np.int64)
    x, y = np.empty(5), np.empty(5)
    repaired = 0
    for qg in q:
        lo, ptp = qg.min(), np.ptp(qg)
        M._fill_tableau(qg, lo, 1.0 / ptp, t, rowlab, collab)
        status, _ = M._simplex(t, rowlab, collab, M.simplex_pivot_cap(5, 5), 0)
        assert status == M.STATUS_OK
        if M._certify(qg, lo, ptp, t, rowlab, collab, x, y, M.GAP_TOLERANCE)[1]:
            continue
        # the plain simplex run missed the tolerance: the full kernel (reinversion, dual and
        # primal pivots) certifies the game anyway
        value, status = M._solve_game(qg, t, rowlab, collab, x, y, M.simplex_pivot_cap(5, 5), M.GAP_TOLERANCE)
        assert status == M.STATUS_OK
        _check_certified(qg[None], np.array([value]), x[None], y[None])
        repaired += 1
    assert repaired >= 1


# ------------------------------------------------------------------------ fallback and errors


def test_unconverged_games_are_flagged_and_resolved_with_highs(monkeypatch, caplog):
    rng = _rng(10)
    q = rng.standard_normal((6, 3, 4))
    q[2] = 5.0  # constant: solved without pivoting, never flagged
    values, x, y = np.empty(6), np.empty((6, 3)), np.empty((6, 4))
    status = np.empty(6, dtype=np.int8)
    M.simplex_games(q, values, x, y, status, 0, M.GAP_TOLERANCE)  # no pivot allowed
    assert status.tolist() == [M.STATUS_PIVOT_CAP] * 2 + [M.STATUS_OK] + [M.STATUS_PIVOT_CAP] * 3
    np.testing.assert_allclose(x.sum(axis=1), 1.0)

    want = M.solve_matrix_games(q)
    monkeypatch.setattr(M, "simplex_pivot_cap", lambda a, b: 0)
    with caplog.at_level(logging.DEBUG, logger=M.__name__):
        got = _solve_checked(q)
    resolved = [r.getMessage() for r in caplog.records if "re-solved with HiGHS" in r.getMessage()]
    assert len(resolved) == 5 and "matrix game 2:" not in " ".join(resolved)
    np.testing.assert_allclose(got[0], want[0], rtol=0, atol=TOL)


@pytest.mark.parametrize(
    ("q", "match"),
    [
        (np.zeros((2, 2)), r"q must be a 3-D array \[N, A, B\].*\(2, 2\)"),
        (np.zeros((1, 2, 2, 2)), r"q must be a 3-D array"),
        (np.zeros((3, 0, 2)), r"at least one action per player"),
        (np.zeros((3, 2, 0)), r"at least one action per player"),
        (np.array([[["a", "b"]]]), r"real numbers"),
        (np.ones((3, 2, 2), dtype=complex), r"real numbers"),
    ],
)
def test_bad_shapes_and_dtypes_raise(q, match):
    for solve in (M.solve_matrix_games, M.matrix_game_values, M.solve_matrix_games_numpy):
        with pytest.raises(MalformedGameError, match=match):
            solve(q)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_payoffs_name_the_first_bad_game(bad):
    q = np.zeros((5, 2, 3))
    q[3, 1, 2] = bad
    q[4, 0, 0] = bad
    for solve in (M.solve_matrix_games, M.matrix_game_values, M.solve_matrix_games_numpy):
        with pytest.raises(ValueError, match=r"game 3 \(q\[3\]\)"):
            solve(q)


def test_no_games_and_other_dtypes():
    values, x, y = M.solve_matrix_games(np.zeros((0, 2, 3)))
    assert values.shape == (0,) and x.shape == (0, 2) and y.shape == (0, 3)
    ints = [[[1, -1], [-1, 1]], [[0, 1], [1, 0]]]
    np.testing.assert_allclose(M.matrix_game_values(ints), [0.0, 0.5], atol=1e-15)
    np.testing.assert_allclose(M.matrix_game_values(np.eye(3, dtype=bool)[None]), [1 / 3], atol=1e-15)


# -------------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(
        np.int64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
        elements=st.integers(-4, 4),
    )
)
def test_property_small_integer_games(game):
    q = game.astype(np.float64)[None]
    values = _solve_checked(q)[0]
    maxmin = q[0].min(axis=1).max()  # best pure security level of the row player
    minmax = q[0].max(axis=0).min()  # best pure security level of the column player
    assert maxmin - TOL <= values[0] <= minmax + TOL
    assert values[0] == pytest.approx(M.solve_matrix_games_numpy(q)[0][0], abs=TOL)
