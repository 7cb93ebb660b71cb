"""Lemke-Howson paths to Nash equilibria of a bimatrix game, with time limits and every label.

:func:`lemke_howson` follows one path (from a dropped label) in chunks of the kernel of
:mod:`gamesolve.solvers.lemke_howson.kernel`, checking the time limit and letting Ctrl-C through
every few milliseconds, and re-solves the equilibrium it ends at from the payoffs on its supports;
:func:`all_labels` follows the path of every label and returns the distinct equilibria found
(Lemke & Howson 1964; von Stengel 2002, Handbook of Game Theory ch. 45).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import GamesolveError, TimeLimitError
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.solvers.bimatrix import (
    CHUNK_SECONDS,
    check_tolerance,
    normalized_matrices,
    profile_from_supports,
    sort_key,
)
from gamesolve.solvers.common import check_time_limit
from gamesolve.solvers.lemke_howson.kernel import (
    DONE,
    PAUSED,
    PIVOT_LIMIT,
    lemke_howson_basics,
    lemke_howson_resume,
    lemke_howson_state,
)
from gamesolve.validation import check_int, check_real

__all__ = ["LemkeHowsonError", "PivotLimitError", "all_labels", "all_labels_within", "lemke_howson"]

log = logging.getLogger(__name__)

_FIRST_BUDGET = 1 << 12  # pivots of the first chunk; later chunks aim at CHUNK_SECONDS


class LemkeHowsonError(GamesolveError, RuntimeError):
    """Lemke-Howson stopped without an equilibrium (numerical trouble)."""


class PivotLimitError(LemkeHowsonError):
    """Lemke-Howson did not finish within ``max_pivots`` pivots."""


def _profile(
    game: TensorGame,
    a: NDArray[np.float64],  # [m, n]
    b: NDArray[np.float64],  # [m, n]
    basic_p: NDArray[np.uint8],  # [m + n] x_i -> i, s_j -> m + j
    basic_q: NDArray[np.uint8],  # [n + m] y_j -> j, r_i -> n + i
) -> MixedProfile:
    m, n = a.shape
    rows_x = np.flatnonzero(basic_p[:m])
    tight_cols = np.flatnonzero(basic_p[m:] == 0)
    cols_y = np.flatnonzero(basic_q[:n])
    tight_rows = np.flatnonzero(basic_q[n:] == 0)
    return profile_from_supports(game, a, b, rows_x, tight_cols, cols_y, tight_rows)


def _check_options(max_pivots: Any, tol: Any, refactor_every: Any) -> tuple[int, float, int]:
    return (
        check_int("max_pivots", max_pivots, minimum=1),
        check_tolerance("tol", tol),
        check_int("refactor_every", refactor_every, minimum=1),
    )


def lemke_howson(
    game: TensorGame,
    initial_label: int = 0,
    *,
    max_pivots: int = 10_000_000,
    tol: float = 1e-12,
    refactor_every: int = 16,
    check: float | None = 1e-7,
    time_limit: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> MixedProfile:
    """One Nash equilibrium of a two-player game by Lemke-Howson with lexicographic pivoting.

    Lemke & Howson 1964; von Stengel 2002 (Handbook of Game Theory ch. 45, the Lemke-Howson
    algorithm and its lexicographic version for degenerate games). Labels ``0 .. m - 1`` are the
    row player's actions and ``m .. m + n - 1`` the column player's. Every path ends at an
    equilibrium, also in degenerate games thanks to the lexicographic rule; different labels may
    reach different equilibria, and some equilibria may be reachable from no label.

    The kernel pivots in chunks of a few milliseconds; between chunks the time limit is checked
    and ``on_progress`` is called, and Ctrl-C is honoured.

    Args:
        game: A two-player :class:`~gamesolve.normal_form.TensorGame`.
        initial_label: The label dropped first, an integer with ``0 <= initial_label < m + n``.
        max_pivots: Stop with :class:`PivotLimitError` after this many pivots (>= 1; paths can
            be exponentially long, Savani & von Stengel 2006).
        tol: Ratio-test tie tolerance on the normalized polytopes (coordinates in ``[0, 1]``),
            in ``(0, 1e-3]``.
        refactor_every: Recompute the basis inverse from scratch after ``max(refactor_every, s)``
            pivots, ``s`` the current support size (the recomputation costs ``O(s^3)``; >= 1).
        check: Raise :class:`LemkeHowsonError` if the result's NashConv, with each player's
            payoffs scaled to ``[1, 2]``, exceeds this (positive; ``None`` skips the check).
        time_limit: Seconds allowed (positive; ``None`` or ``inf``: no limit).
        on_progress: Called with the number of pivots so far after every chunk.

    Returns:
        The equilibrium, re-solved from the payoffs on its supports.

    Raises:
        UnsupportedGame: Not a two-player game.
        InvalidArgumentError: An option is out of range (the message names it).
        PivotLimitError: More than ``max_pivots`` pivots.
        TimeLimitError: The time limit ran out before the path ended (the message gives the
            pivots made).
        LemkeHowsonError: Numerical failure (an unbounded ratio test, or a result that fails the
            NashConv check).
    """
    max_pivots, tol, refactor_every = _check_options(max_pivots, tol, refactor_every)
    if check is not None:
        check = check_real("check", check, minimum=0.0, min_inclusive=False)
    limit = check_time_limit(time_limit, allow_inf=True)
    a, b = normalized_matrices(game)
    m, n = a.shape
    label = check_int("initial_label", initial_label, minimum=0, maximum=m + n - 1)
    started = time.perf_counter()
    ct_p = np.ascontiguousarray(b)  # [m, n] = C_P^T
    ct_q = np.ascontiguousarray(a.T)  # [n, m] = C_Q^T
    ints, reals, kinv, scalars = lemke_howson_state(m, n)
    budget = _FIRST_BUDGET
    status = PAUSED
    while status == PAUSED:
        left = max_pivots - int(scalars[2])
        if left <= 0:
            status = PIVOT_LIMIT
            break
        if limit is not None and time.perf_counter() - started >= limit:
            raise TimeLimitError(
                f"Lemke-Howson from label {label} reached the time limit of {limit:g} s after "
                f"{int(scalars[2])} pivots on a {m}x{n} game without an equilibrium (found 0)"
            )
        chunk_start = time.perf_counter()
        step = min(budget, left)
        status = int(
            lemke_howson_resume(
                ct_p, ct_q, label, step, float(tol), refactor_every, ints, reals, kinv, scalars
            )
        )
        spent = max(time.perf_counter() - chunk_start, 1e-6)
        budget = int(min(max(budget * min(CHUNK_SECONDS / spent, 4.0), 16), 1 << 40))
        if on_progress is not None:
            on_progress(int(scalars[2]))
    pivots = int(scalars[2])
    if status == PIVOT_LIMIT:
        raise PivotLimitError(
            f"Lemke-Howson from label {label} did not finish within {max_pivots} pivots on a "
            f"{m}x{n} game; raise max_pivots, try another initial_label, or (small games) use "
            "gamesolve.solvers.enumeration.enumerate_equilibria"
        )
    if status != DONE:
        raise LemkeHowsonError(
            f"Lemke-Howson from label {label} hit an unbounded ratio test after {pivots} pivots "
            "(numerical trouble: payoffs too close to degenerate for float64)"
        )
    log.debug("Lemke-Howson from label %d: %d pivots", label, pivots)
    basic_p = np.empty(m + n, dtype=np.uint8)  # [m + n]
    basic_q = np.empty(n + m, dtype=np.uint8)  # [n + m]
    lemke_howson_basics(ints, m, n, basic_p, basic_q)
    profile = _profile(game, a, b, basic_p, basic_q)
    if check is not None:
        # the regrets on the normalized matrices (payoffs mapped into [1, 2] per player)
        x, y = profile
        ay = a @ y  # [m]
        xb = x @ b  # [n]
        conv = float(ay.max() - x @ ay + xb.max() - xb @ y)
        if conv > check:
            raise LemkeHowsonError(
                f"Lemke-Howson from label {label} ended at a profile with NashConv {conv:.3g} "
                "(payoffs scaled to [1, 2]); the game is too close to degenerate for float64"
            )
    return profile


def all_labels(
    game: TensorGame,
    *,
    max_pivots: int = 10_000_000,
    tol: float = 1e-12,
    atol: float = 1e-6,
    refactor_every: int = 16,
    time_limit: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[MixedProfile]:
    """The distinct equilibria that Lemke-Howson reaches from each of the ``m + n`` labels.

    Args:
        game: A two-player game.
        max_pivots: Per run, as in :func:`lemke_howson`.
        tol: Ratio-test tolerance, as in :func:`lemke_howson`.
        atol: Two results within this (max absolute difference) are the same equilibrium
            (positive).
        refactor_every: As in :func:`lemke_howson`.
        time_limit: Seconds allowed for all the runs together (``None``: no limit). When it
            runs out the equilibria found so far are returned; use :func:`all_labels_within` to
            learn whether every label was tried.
        on_progress: Called with the number of labels done after each run.

    Returns:
        Distinct equilibria in the deterministic order of
        :func:`gamesolve.solvers.enumeration.enumerate_equilibria` (by support size, supports,
        probabilities).

    Raises:
        TimeLimitError: The time limit ran out before any path ended.
    """
    found, _ = all_labels_within(
        game,
        max_pivots=max_pivots,
        tol=tol,
        atol=atol,
        refactor_every=refactor_every,
        time_limit=time_limit,
        on_progress=on_progress,
    )
    return found


def all_labels_within(
    game: TensorGame,
    *,
    max_pivots: int = 10_000_000,
    tol: float = 1e-12,
    atol: float = 1e-6,
    refactor_every: int = 16,
    time_limit: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[list[MixedProfile], int]:
    """:func:`all_labels`, also returning how many labels were followed to the end.

    Returns:
        ``(equilibria, labels_done)``; ``labels_done < m + n`` when the time limit stopped the
        runs (the equilibria found are exact).

    Raises:
        TimeLimitError: The time limit ran out before any path ended.
    """
    max_pivots, tol, refactor_every = _check_options(max_pivots, tol, refactor_every)
    atol = check_real("atol", atol, minimum=0.0, min_inclusive=False)
    limit = check_time_limit(time_limit, allow_inf=True)
    m, n = normalized_matrices(game)[0].shape  # raises UnsupportedGame unless two players
    started = time.perf_counter()
    found: list[MixedProfile] = []
    done = 0
    for label in range(m + n):
        left = None if limit is None else limit - (time.perf_counter() - started)
        if left is not None and left <= 0:
            break
        try:
            eq = lemke_howson(
                game, label, max_pivots=max_pivots, tol=tol, refactor_every=refactor_every, time_limit=left
            )
        except TimeLimitError:
            break
        done += 1
        if on_progress is not None:
            on_progress(done)
        if not any(all(np.max(np.abs(u - v)) <= atol for u, v in zip(eq, old, strict=True)) for old in found):
            found.append(eq)
    if not found:
        raise TimeLimitError(
            f"Lemke-Howson reached the time limit of {limit:g} s on a {m}x{n} game before any path "
            "ended (found 0 equilibria)"
        )
    found.sort(key=sort_key)
    return found, done
