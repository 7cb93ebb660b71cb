"""Best-response polytopes of bimatrix games and what the two-player equilibrium solvers share.

With both payoff matrices mapped into ``[1, 2]`` (:func:`normalized_matrices`), the best-response
polytopes are ``P = {x >= 0 : B^T x <= 1}`` and ``Q = {y >= 0 : A y <= 1}`` (von Stengel 2002,
"Computing equilibria for two-person games", Handbook of Game Theory vol. 3, ch. 45); vertex
enumeration (:mod:`gamesolve.solvers.enumeration`) and Lemke-Howson
(:mod:`gamesolve.solvers.lemke_howson`) both work on them. This module also holds the option
checks, the re-solve of an equilibrium from its supports and the deterministic order of
equilibria that both report in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.validation import check_real

__all__ = [
    "CHUNK_SECONDS",
    "check_tolerance",
    "normalized_matrices",
    "polytopes",
    "profile_from_supports",
    "profile_key",
    "sort_key",
    "strategy_key",
]

#: Target length in seconds of one kernel call between time-limit checks.
CHUNK_SECONDS = 0.02


def check_tolerance(name: str, value: Any) -> float:
    """A tie tolerance on the normalized polytopes: finite, in ``(0, 1e-3]``."""
    return check_real(name, value, minimum=0.0, min_inclusive=False, maximum=1e-3)


def normalized_matrices(game: TensorGame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both payoff matrices mapped affinely into ``[1, 2]`` (equilibria unchanged).

    Payoffs are divided by their largest magnitude first, so any finite payoffs (up to the
    largest float) map without overflow.

    Returns:
        ``(A, B)``, each ``[m, n]``; a constant matrix becomes all ones.

    Raises:
        UnsupportedGame: The game does not have exactly two players.
    """
    if game.num_players != 2:
        raise UnsupportedGame(
            f"bimatrix equilibrium solvers need a two-player game; {game!r} has {game.num_players} players"
        )
    out = []
    for k in range(2):
        mat = np.asarray(game.payoffs[k], dtype=np.float64)  # [m, n]
        scale = float(np.abs(mat).max(initial=0.0))
        if scale > 0.0:
            mat = mat / scale
        lo, hi = float(mat.min()), float(mat.max())
        span = hi - lo
        out.append(np.ones_like(mat) if span <= 0.0 else 1.0 + (mat - lo) / span)
    return out[0], out[1]


def polytopes(
    a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[tuple[NDArray[np.float64], NDArray[np.int64]], tuple[NDArray[np.float64], NDArray[np.int64]]]:
    """Constraint matrices and variable labels of ``P`` and ``Q`` in the kernels' layout.

    A polytope is ``{z >= 0 : C z <= 1}`` with ``C`` of shape ``[k, d]``; its variables are
    ``z_0 .. z_{d-1}`` followed by the slacks ``s_0 .. s_{k-1}``, and ``labels[v]`` is the label
    of variable ``v`` (a label is present where its variable is zero).

    Args:
        a: ``[m, n]`` positive row-player payoffs.
        b: ``[m, n]`` positive column-player payoffs.

    Returns:
        ``((C_P, labels_P), (C_Q, labels_Q))`` with ``C_P = B^T`` ``[n, m]``, ``C_Q = A`` ``[m, n]``.
    """
    m, n = a.shape
    c_p = np.ascontiguousarray(b.T, dtype=np.float64)  # [n, m]
    labels_p = np.arange(m + n, dtype=np.int64)  # [m + n]: x_i -> i, s_j -> m + j
    c_q = np.ascontiguousarray(a, dtype=np.float64)  # [m, n]
    labels_q = np.concatenate([m + np.arange(n), np.arange(m)]).astype(np.int64)  # y_j -> m+j, r_i -> i
    return (c_p, labels_p), (c_q, labels_q)


def sort_key(profile: MixedProfile) -> tuple[Any, ...]:
    """Deterministic order: by support size, then supports, then probabilities."""
    supports = tuple(tuple(np.flatnonzero(s > 0).tolist()) for s in profile)
    return (max(len(s) for s in supports), supports, tuple(tuple(s.tolist()) for s in profile))


def strategy_key(strategy: NDArray[np.float64]) -> tuple[Any, ...]:
    """:func:`sort_key`'s order for one strategy: support size, support, probabilities."""
    values = tuple(strategy.tolist())
    support = tuple(i for i, p in enumerate(values) if p > 0)
    return (len(support), support, values)


def profile_key(row: tuple[Any, ...], col: tuple[Any, ...]) -> tuple[Any, ...]:
    """:func:`sort_key` of a profile from its strategies' :func:`strategy_key`."""
    return (max(row[0], col[0]), (row[1], col[1]), (row[2], col[2]))


def _solve_support(
    mat: NDArray[np.float64],  # [s, s] restricted payoff matrix (rows: equations)
) -> NDArray[np.float64]:
    """Solve ``mat @ v = 1`` (square, nonsingular by construction)."""
    return np.asarray(np.linalg.solve(mat, np.ones(mat.shape[0])), dtype=np.float64)


def profile_from_supports(
    game: TensorGame,
    a: NDArray[np.float64],  # [m, n] normalized row payoffs
    b: NDArray[np.float64],  # [m, n] normalized column payoffs
    rows_x: NDArray[np.int64],  # [s] basic x variables (player 0's support, maybe with zeros)
    tight_cols: NDArray[np.int64],  # [s] player 1 actions tight at x (best responses)
    cols_y: NDArray[np.int64],  # [t] basic y variables
    tight_rows: NDArray[np.int64],  # [t] player 0 actions tight at y
) -> MixedProfile:
    """The equilibrium of a completely labeled basis pair, re-solved from the payoffs.

    ``x_I`` solves ``B[I, J]^T x_I = 1`` and ``y_J'`` solves ``A[I', J'] y_J' = 1`` (the basis
    matrices of ``P`` and ``Q`` reduced to their structural part); the results are rescaled to
    probabilities. Solving afresh removes any rounding accumulated along pivoting paths.

    Raises:
        UnsupportedGame: A support system is singular or its solution has clearly negative
            entries (the game is too close to degenerate for float64).
    """
    m, n = a.shape
    x = np.zeros(m)  # [m]
    y = np.zeros(n)  # [n]
    try:
        x[rows_x] = _solve_support(b[np.ix_(rows_x, tight_cols)].T)
        y[cols_y] = _solve_support(a[np.ix_(tight_rows, cols_y)])
    except np.linalg.LinAlgError:
        x[:] = np.nan
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and min(x.min(), y.min()) >= -1e-9):
        raise UnsupportedGame(
            f"the equilibrium on supports {rows_x.tolist()} and {cols_y.tolist()} cannot be solved "
            "accurately in float64 (ill-conditioned support system); the game is too close to degenerate"
        )
    x = np.clip(x, 0.0, None)
    y = np.clip(y, 0.0, None)
    return MixedProfile.of(game, [x / x.sum(), y / y.sum()])
