"""Batched exact solver for small two-player zero-sum matrix games (dense simplex per game).

Shapley's value iteration (Shapley 1953, "Stochastic games", PNAS 39) and the minimax-Q /
Minimax-DQN targets (Littman 1994, "Markov games as a framework for multi-agent reinforcement
learning"; Fan et al. 2020, "A theoretical analysis of deep Q-learning") solve one small matrix game
per state and sweep, so this module solves ``N`` games ``q [N, A, B]`` at once (the row player
maximizes ``x^T q y``). Each game is one linear program (Dantzig 1951, "A proof of the equivalence
of the programming problem and the game problem"): after ``q' = 1 + (q - min q) / ptp(q)``, with
entries in ``[1, 2]``, the column player's program is ``maximize sum(v) s.t. q' v <= 1, v >= 0``,
whose optimum is ``1 / value(q')``; ``y = v / sum(v)`` and the dual prices give ``x``. The kernel
runs the primal simplex method on the condensed tableau from the all-slack basis, with Dantzig's
pricing and Bland's rule (Bland 1977, "New finite pivoting rules for the simplex method") once
degenerate pivots pile up, so it cannot cycle.

Every answer is certified by its duality gap ``max_i (q y)_i - min_j (x^T q)_j`` and the value
reported is the midpoint. A game that misses ``GAP_TOLERANCE * max(1, ptp(q))`` is re-solved from a
freshly reinverted tableau and, failing that, by HiGHS in :func:`solve_matrix_games` (which logs a
warning if HiGHS misses it too). :func:`simplex_games_parallel` gives identical results over
numba's threads, for callers that own their cores.
"""

from __future__ import annotations

import logging
import math

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import GamesolveError, MalformedGameError
from gamesolve.highs import highs_linprog

__all__ = [
    "GAP_TOLERANCE",
    "STATUS_BREAKDOWN",
    "STATUS_GAP",
    "STATUS_OK",
    "STATUS_PIVOT_CAP",
    "duality_gaps",
    "matrix_game_values",
    "run_simplex",
    "simplex_games",
    "simplex_games_parallel",
    "simplex_pivot_cap",
    "solve_matrix_games",
    "solve_matrix_games_numpy",
    "solve_one_game",
]

log = logging.getLogger(__name__)

#: A game's answer is accepted when ``max(q y) - min(x q) <= GAP_TOLERANCE * max(1, ptp(q))``.
GAP_TOLERANCE = 1e-9

#: Kernel status per game: certified (the gap is within tolerance).
STATUS_OK = 0
#: The pivot cap was hit and the strategies read off the last tableau miss the gap tolerance.
STATUS_PIVOT_CAP = 1
#: No pivot row (rounding made the program look unbounded) or no usable strategy in the tableau.
STATUS_BREAKDOWN = 2
#: The simplex method stopped at a basis whose strategies miss the gap tolerance.
STATUS_GAP = 3

#: A reduced cost below ``-_OPT_TOL`` prices a column in (tableau entries are of order 1).
_OPT_TOL = 1e-12
#: Pivot elements must exceed this (smaller ones are rounding noise on an exact zero).
_PIV_TOL = 1e-11
#: Ratios within ``_TIE_TOL * (1 + min ratio)`` of the minimum count as ties in the ratio test.
_TIE_TOL = 1e-12
#: Pivot cap per game: ``_PIVOTS_PER_ACTION * (A + B) + 50``; Bland's rule needs far fewer.
_PIVOTS_PER_ACTION = 50
#: Reinversions tried (each followed by more pivots) when the final strategies miss the gap.
_REINVERSIONS = 3


# ------------------------------------------------------------------------------ the kernels


@numba.njit(cache=True, nogil=True)
def _pivot(
    t: NDArray[np.float64],  # [A + 1, B + 1] condensed tableau, updated in place
    r: int,
    c: int,
    clamp: bool,
) -> None:
    """Exchange the basic variable of row ``r`` with the nonbasic variable of column ``c``.

    Rows ``0..A-1`` read ``x_basic(i) + sum_j t[i, j] x_nonbasic(j) = t[i, B]``; row ``A`` is the
    objective ``z + sum_j t[A, j] x_nonbasic(j) = t[A, B]``. With ``clamp`` (primal pivots),
    right-hand sides that rounding pushes below zero (exact zeros after a degenerate pivot) are
    reset to zero.
    """
    a = t.shape[0] - 1
    b = t.shape[1] - 1
    inv = 1.0 / t[r, c]
    for j in range(b + 1):
        if j != c:
            t[r, j] *= inv
    for i in range(a + 1):
        if i == r:
            continue
        f = t[i, c]
        if f != 0.0:
            for j in range(b + 1):
                if j != c:
                    t[i, j] -= f * t[r, j]
        t[i, c] = -f * inv
        if clamp and i < a and t[i, b] < 0.0:
            t[i, b] = 0.0
    t[r, c] = inv


@numba.njit(cache=True, nogil=True)
def _fill_tableau(
    qg: NDArray[np.float64],  # [A, B] one game
    lo: float,
    scale: float,
    t: NDArray[np.float64],  # [A + 1, B + 1] out: the all-slack tableau of q' = 1 + (q - lo) * scale
    rowlab: NDArray[np.int64],  # [A] out
    collab: NDArray[np.int64],  # [B] out
) -> None:
    """The starting tableau of ``max sum(v)`` s.t. ``q' v <= 1``, ``v >= 0`` (basis: the slacks)."""
    a, b = qg.shape
    for i in range(a):
        for j in range(b):
            t[i, j] = 1.0 + (qg[i, j] - lo) * scale
        t[i, b] = 1.0
        rowlab[i] = b + i
    for j in range(b):
        t[a, j] = -1.0
        collab[j] = j
    t[a, b] = 0.0


@numba.njit(cache=True, nogil=True)
def _reinvert(
    qg: NDArray[np.float64],  # [A, B] one game
    lo: float,
    scale: float,
    t: NDArray[np.float64],  # [A + 1, B + 1] in/out: tableau rebuilt for the basis in rowlab
    rowlab: NDArray[np.int64],  # [A] in/out: basic variables (reordered to match the rows)
    collab: NDArray[np.int64],  # [B] nonbasic variables
) -> bool:
    """Rebuild the tableau of the current basis from ``q`` by Gauss-Jordan with partial pivoting.

    Pivoting along the simplex path can grow rounding errors (pivot multipliers of ``1e9`` on
    games whose payoffs span many magnitudes); a fresh elimination of ``[q' | I | 1]`` on the
    final basis removes them. The rebuilt basis may turn out slightly infeasible (negative
    right-hand sides, left as they are for :func:`_dual_simplex`). Returns ``False`` when the basis
    matrix is numerically singular.
    """
    a, b = qg.shape
    width = a + b + 1
    m = np.zeros((a, width))  # [A, A + B + 1] float64: [q' | I | 1]
    for i in range(a):
        for j in range(b):
            m[i, j] = 1.0 + (qg[i, j] - lo) * scale
        m[i, b + i] = 1.0
        m[i, width - 1] = 1.0
    basic = rowlab.copy()  # [A] the basic variables, in any order
    used = np.zeros(a, dtype=np.bool_)  # [A] rows already holding a basic variable
    for k in range(a):
        col = basic[k]
        r = -1
        best = 0.0
        for i in range(a):
            if not used[i] and abs(m[i, col]) > best:
                best = abs(m[i, col])
                r = i
        if r < 0 or best < _PIV_TOL:
            return False
        used[r] = True
        rowlab[r] = col
        inv = 1.0 / m[r, col]
        for j in range(width):
            m[r, j] *= inv
        for i in range(a):
            f = m[i, col]
            if i != r and f != 0.0:
                for j in range(width):
                    m[i, j] -= f * m[r, j]
    for j in range(b):
        c = collab[j]
        reduced = -1.0 if c < b else 0.0
        for i in range(a):
            t[i, j] = m[i, c]
            if rowlab[i] < b:
                reduced += m[i, c]
        t[a, j] = reduced
    objective = 0.0
    for i in range(a):
        t[i, b] = m[i, width - 1]
        if rowlab[i] < b:
            objective += t[i, b]
    t[a, b] = objective
    return True


@numba.njit(cache=True, nogil=True)
def _simplex(
    t: NDArray[np.float64],  # [A + 1, B + 1] in/out: a feasible tableau, left optimal
    rowlab: NDArray[np.int64],  # [A] in/out
    collab: NDArray[np.int64],  # [B] in/out
    max_pivots: int,
    pivots: int,
) -> tuple[int, int]:
    """Pivot until no reduced cost is negative; return ``(status, pivots so far)``.

    Dantzig's most negative reduced cost enters, the ratio test's ties go to the largest pivot;
    after more than ``A + B`` degenerate pivots, Bland's smallest labels choose both.
    """
    a = t.shape[0] - 1
    b = t.shape[1] - 1
    degenerate = 0
    bland = False
    while True:
        c = -1
        if bland:
            label = a + b
            for j in range(b):
                if t[a, j] < -_OPT_TOL and collab[j] < label:
                    label = collab[j]
                    c = j
        else:
            most = -_OPT_TOL
            for j in range(b):
                if t[a, j] < most:
                    most = t[a, j]
                    c = j
        if c < 0:
            return STATUS_OK, pivots
        if pivots >= max_pivots:
            return STATUS_PIVOT_CAP, pivots
        rmin = math.inf
        for i in range(a):
            if t[i, c] > _PIV_TOL:
                rmin = min(rmin, max(t[i, b], 0.0) / t[i, c])
        if rmin == math.inf:
            return STATUS_BREAKDOWN, pivots
        limit = rmin + _TIE_TOL * (1.0 + rmin)
        r = -1
        best = -1.0
        label = a + b
        for i in range(a):
            p = t[i, c]
            if p > _PIV_TOL and max(t[i, b], 0.0) / p <= limit:
                if bland:
                    if rowlab[i] < label:
                        label = rowlab[i]
                        r = i
                elif p > best:
                    best = p
                    r = i
        if rmin <= _TIE_TOL:
            degenerate += 1
            if degenerate > a + b:
                bland = True
        _pivot(t, r, c, True)
        k = rowlab[r]
        rowlab[r] = collab[c]
        collab[c] = k
        pivots += 1


@numba.njit(cache=True, nogil=True)
def _dual_simplex(
    t: NDArray[np.float64],  # [A + 1, B + 1] in/out: a dual feasible tableau, left primal feasible
    rowlab: NDArray[np.int64],  # [A] in/out
    collab: NDArray[np.int64],  # [B] in/out
    max_pivots: int,
    pivots: int,
) -> tuple[int, int]:
    """Dual simplex pivots until no right-hand side is below ``-_OPT_TOL``; ``(status, pivots)``.

    The most negative right-hand side leaves; the entering column minimizes ``t[A, j] / -t[r, j]``
    over ``t[r, j] < 0`` (negative reduced costs, which the primal phase then removes, count as 0),
    ties going to the largest ``|t[r, j]|``.
    """
    a = t.shape[0] - 1
    b = t.shape[1] - 1
    while True:
        r = -1
        most = -_OPT_TOL
        for i in range(a):
            if t[i, b] < most:
                most = t[i, b]
                r = i
        if r < 0:
            return STATUS_OK, pivots
        if pivots >= max_pivots:
            return STATUS_PIVOT_CAP, pivots
        rmin = math.inf
        for j in range(b):
            if t[r, j] < -_PIV_TOL:
                rmin = min(rmin, max(t[a, j], 0.0) / -t[r, j])
        if rmin == math.inf:
            return STATUS_BREAKDOWN, pivots
        limit = rmin + _TIE_TOL * (1.0 + rmin)
        c = -1
        best = -1.0
        for j in range(b):
            p = -t[r, j]
            if p > _PIV_TOL and max(t[a, j], 0.0) / p <= limit and p > best:
                best = p
                c = j
        _pivot(t, r, c, False)
        k = rowlab[r]
        rowlab[r] = collab[c]
        collab[c] = k
        pivots += 1


@numba.njit(cache=True, nogil=True)
def _certify(
    qg: NDArray[np.float64],  # [A, B] one game
    lo: float,
    ptp: float,
    t: NDArray[np.float64],  # [A + 1, B + 1] final tableau
    rowlab: NDArray[np.int64],  # [A]
    collab: NDArray[np.int64],  # [B]
    xg: NDArray[np.float64],  # [A] out
    yg: NDArray[np.float64],  # [B] out
    gap_tol: float,
) -> tuple[float, bool]:
    """Read ``x``, ``y`` off the tableau; return ``(value, gap within tolerance)``.

    ``y`` comes from the basic ``v``'s, ``x`` from the slacks' reduced costs (the dual prices),
    both clipped at zero and normalized. The value is the midpoint of the two best-response values
    ``max_i (q y)_i`` and ``min_j (x^T q)_j``, computed relative to ``lo`` (exact for shifted
    games); it is NaN when the tableau holds no usable strategy.
    """
    a, b = qg.shape
    for j in range(b):
        yg[j] = 0.0
    for i in range(a):
        xg[i] = 0.0
    for i in range(a):
        k = rowlab[i]
        if k < b:
            yg[k] = max(t[i, b], 0.0)
    for j in range(b):
        k = collab[j]
        if k >= b:
            xg[k - b] = max(t[a, j], 0.0)
    sy = 0.0
    for j in range(b):
        sy += yg[j]
    sx = 0.0
    for i in range(a):
        sx += xg[i]
    if not (sy > 0.0 and sx > 0.0 and math.isfinite(sy) and math.isfinite(sx)):
        for i in range(a):
            xg[i] = 1.0 / a
        for j in range(b):
            yg[j] = 1.0 / b
        return math.nan, False
    for j in range(b):
        yg[j] /= sy
    for i in range(a):
        xg[i] /= sx
    upper = -math.inf
    for i in range(a):
        s = 0.0
        for j in range(b):
            s += (qg[i, j] - lo) * yg[j]
        upper = max(upper, s)
    lower = math.inf
    for j in range(b):
        s = 0.0
        for i in range(a):
            s += xg[i] * (qg[i, j] - lo)
        lower = min(lower, s)
    return lo + 0.5 * (upper + lower), upper - lower <= gap_tol * max(1.0, ptp)


@numba.njit(cache=True, nogil=True)
def _solve_game(
    qg: NDArray[np.float64],  # [A, B] one game, row player maximizes
    t: NDArray[np.float64],  # [A + 1, B + 1] scratch: condensed tableau
    rowlab: NDArray[np.int64],  # [A] scratch: variable basic in each row (v_k is k, slack i is B + i)
    collab: NDArray[np.int64],  # [B] scratch: variable nonbasic in each column
    xg: NDArray[np.float64],  # [A] out: row player's maximin strategy
    yg: NDArray[np.float64],  # [B] out: column player's minimax strategy
    max_pivots: int,
    gap_tol: float,
) -> tuple[float, int]:
    """Solve one game into ``xg``, ``yg``; return ``(value, status)``.

    Prices with the most negative reduced cost and breaks ratio-test ties by the largest pivot;
    after more than ``A + B`` degenerate pivots it switches to Bland's smallest-index rule, and a
    pivot cap stops any game that still runs on. ``x`` is read from the reduced costs of the slack
    columns (the dual prices). When the strategies of the final tableau miss the gap tolerance
    (rounding grown along the pivot path, seen only when payoffs span about twelve orders of
    magnitude), the tableau is rebuilt from ``q`` for the final basis (:func:`_reinvert`),
    feasibility is restored by dual simplex pivots, the simplex method resumes, and the strategies
    are certified again.
    """
    a, b = qg.shape
    lo = qg[0, 0]
    hi = lo
    for i in range(a):
        for j in range(b):
            v = qg[i, j]
            lo = min(lo, v)
            hi = max(hi, v)
    ptp = hi - lo
    if not ptp > 0.0:  # a constant game: every strategy is optimal
        for i in range(a):
            xg[i] = 1.0 / a
        for j in range(b):
            yg[j] = 1.0 / b
        return lo, STATUS_OK
    scale = 1.0 / ptp
    _fill_tableau(qg, lo, scale, t, rowlab, collab)
    status, pivots = _simplex(t, rowlab, collab, max_pivots, 0)
    value, certified = _certify(qg, lo, ptp, t, rowlab, collab, xg, yg, gap_tol)
    if certified:
        return value, STATUS_OK
    for _ in range(_REINVERSIONS):
        if not _reinvert(qg, lo, scale, t, rowlab, collab):
            break
        status, pivots = _dual_simplex(t, rowlab, collab, max_pivots, pivots)
        if status == STATUS_OK:
            status, pivots = _simplex(t, rowlab, collab, max_pivots, pivots)
        value, certified = _certify(qg, lo, ptp, t, rowlab, collab, xg, yg, gap_tol)
        if certified:
            return value, STATUS_OK
    return value, STATUS_GAP if status == STATUS_OK else status


#: The single-game kernel, for other kernels that solve one game at a time (minimax-Q):
#: ``solve_one_game(q [A, B], t [A+1, B+1], rowlab [A], collab [B], x [A], y [B], max_pivots,
#: gap_tol) -> (value, status)``, writing the strategies into ``x`` and ``y``.
solve_one_game = _solve_game


@numba.njit(cache=True, nogil=True)
def simplex_games(
    q: NDArray[np.float64],  # [N, A, B] C-contiguous, finite, A >= 1, B >= 1
    values: NDArray[np.float64],  # [N] out: game values
    x: NDArray[np.float64],  # [N, A] out: row player's maximin strategies
    y: NDArray[np.float64],  # [N, B] out: column player's minimax strategies
    status: NDArray[np.int8],  # [N] out: STATUS_* of each game
    max_pivots: int,
    gap_tol: float,
) -> None:
    """Solve every game of ``q`` by the simplex method, one after another, into the outputs.

    Games whose ``status`` is not :data:`STATUS_OK` missed the gap tolerance and need another
    solver; their outputs are still probability vectors (the value may be NaN).
    """
    n, a, b = q.shape
    t = np.empty((a + 1, b + 1))  # [A + 1, B + 1] float64 tableau, reused
    rowlab = np.empty(a, dtype=np.int64)  # [A]
    collab = np.empty(b, dtype=np.int64)  # [B]
    for g in range(n):
        v, s = _solve_game(q[g], t, rowlab, collab, x[g], y[g], max_pivots, gap_tol)
        values[g] = v
        status[g] = s


@numba.njit(cache=True, nogil=True, parallel=True)
def simplex_games_parallel(
    q: NDArray[np.float64],  # [N, A, B] C-contiguous, finite, A >= 1, B >= 1
    values: NDArray[np.float64],  # [N] out
    x: NDArray[np.float64],  # [N, A] out
    y: NDArray[np.float64],  # [N, B] out
    status: NDArray[np.int8],  # [N] out
    max_pivots: int,
    gap_tol: float,
    chunks: int,
) -> None:
    """:func:`simplex_games` with the games split into ``chunks`` contiguous runs over numba's threads.

    Every game runs the same code as in the serial kernel, so the outputs are identical. A few
    chunks per thread (``chunks >= 1``) even out the games' unequal pivot counts.
    """
    n, a, b = q.shape
    chunks = max(1, min(n, chunks))
    for ch in numba.prange(chunks):
        start = ch * n // chunks
        stop = (ch + 1) * n // chunks
        t = np.empty((a + 1, b + 1))  # [A + 1, B + 1] float64, one per chunk
        rowlab = np.empty(a, dtype=np.int64)  # [A]
        collab = np.empty(b, dtype=np.int64)  # [B]
        for g in range(start, stop):
            v, s = _solve_game(q[g], t, rowlab, collab, x[g], y[g], max_pivots, gap_tol)
            values[g] = v
            status[g] = s


# ------------------------------------------------------------------------- the public wrappers


def _checked_games(q: ArrayLike) -> NDArray[np.float64]:
    """``q`` as a C-contiguous float64 array ``[N, A, B]``, or a :class:`MalformedGameError`."""
    arr = np.asarray(q)
    if arr.ndim != 3:
        raise MalformedGameError(
            f"q must be a 3-D array [N, A, B] of N games' row-player payoffs; got shape {arr.shape}"
        )
    if arr.shape[1] == 0 or arr.shape[2] == 0:
        raise MalformedGameError(
            f"q must have at least one action per player (A >= 1, B >= 1); got shape {arr.shape}"
        )
    if arr.dtype.kind not in "biuf":
        raise MalformedGameError(f"q must hold real numbers; got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(np.flatnonzero(~finite.all(axis=(1, 2)))[0])
        raise MalformedGameError(f"q must be finite; game {bad} (q[{bad}]) holds a NaN or infinite payoff")
    return arr


def duality_gaps(
    q: NDArray[np.float64],  # [N, A, B]
    x: NDArray[np.float64],  # [N, A]
    y: NDArray[np.float64],  # [N, B]
) -> NDArray[np.float64]:
    """``max_i (q y)_i - min_j (x^T q)_j`` per game ``[N]``: zero exactly at a saddle point.

    Both terms are best-response values, so the value of each game lies between them. They are
    computed on ``q - min(q)`` per game, so a large common offset costs no precision.
    """
    q = np.asarray(q, dtype=np.float64)
    shifted = q - q.min(axis=(1, 2), keepdims=True)  # [N, A, B]
    upper = np.einsum("nab,nb->na", shifted, y).max(axis=1)  # [N]
    lower = np.einsum("na,nab->nb", x, shifted).min(axis=1)  # [N]
    return np.asarray(upper - lower, dtype=np.float64)


def _gap_tolerances(q: NDArray[np.float64]) -> NDArray[np.float64]:
    """``GAP_TOLERANCE * max(1, ptp(q[n]))`` per game ``[N]``."""
    ptp = np.ptp(q.reshape(q.shape[0], -1), axis=1)  # [N]
    return np.asarray(GAP_TOLERANCE * np.maximum(1.0, ptp), dtype=np.float64)


def _linprog_game(qg: NDArray[np.float64]) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Value, ``x [A]``, ``y [B]`` of one game ``qg [A, B]`` by HiGHS on the row player's program.

    The row player's program (maximize ``t`` s.t. ``q^T x >= t``, ``sum(x) = 1``, ``x >= 0``) is
    solved on ``(q - min q) / ptp(q)``; ``y`` is minus the marginals of the ``B`` inequalities.
    """
    a, b = qg.shape
    lo = float(qg.min())
    ptp = float(qg.max()) - lo
    if not ptp > 0.0:
        return lo, np.full(a, 1.0 / a), np.full(b, 1.0 / b)
    m = (qg - lo) / ptp  # [A, B] in [0, 1]
    cost = np.zeros(a + 1)  # [A + 1]: variables (x, t); minimize -t
    cost[a] = -1.0
    a_ub = np.hstack([-m.T, np.ones((b, 1))])  # [B, A + 1]: t - (q^T x)_j <= 0
    a_eq = np.ones((1, a + 1))  # [1, A + 1]: sum(x) = 1
    a_eq[0, a] = 0.0
    bounds = [(0.0, None)] * a + [(None, None)]
    what = f"a matrix game of shape {qg.shape}"
    res = highs_linprog(
        cost,
        bounds=bounds,
        method="highs",
        what=what,
        a_ub=a_ub,
        b_ub=np.zeros(b),
        a_eq=a_eq,
        b_eq=np.ones(1),
    )
    if res is None:  # no time limit was set: an iteration limit stopped HiGHS
        raise GamesolveError(f"HiGHS stopped before solving {what}")
    x = np.clip(res.x[:a], 0.0, None)  # [A]
    y = np.clip(-np.asarray(res.ineqlin.marginals), 0.0, None)  # [B]
    return lo + ptp * float(res.x[a]), x / x.sum(), y / y.sum()


def solve_matrix_games_numpy(
    q: ArrayLike,  # [N, A, B]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Twin of :func:`solve_matrix_games`: one HiGHS linear program per game (slow, for tests).

    Args:
        q: ``[N, A, B]`` row player's payoffs of ``N`` zero-sum games; the row player maximizes.

    Returns:
        ``(values [N], x [N, A], y [N, B])``: game values, maximin and minimax strategies.

    Raises:
        MalformedGameError: ``q`` is not 3-D, has an empty action set or a non-finite payoff.
    """
    games = _checked_games(q)
    n, a, b = games.shape
    values = np.empty(n)  # [N]
    x = np.empty((n, a))  # [N, A]
    y = np.empty((n, b))  # [N, B]
    for g in range(n):
        values[g], x[g], y[g] = _linprog_game(games[g])
    return values, x, y


def simplex_pivot_cap(a: int, b: int) -> int:
    """Pivot cap of one ``a x b`` game (simplex and dual simplex pivots together)."""
    return _PIVOTS_PER_ACTION * (a + b) + 50


def run_simplex(
    games: NDArray[np.float64],  # [N, A, B] C-contiguous float64, finite
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int8]]:
    """:func:`simplex_games` on fresh outputs: ``(values, x, y, status)``, no HiGHS fallback."""
    n, a, b = games.shape
    values = np.empty(n)  # [N]
    x = np.empty((n, a))  # [N, A]
    y = np.empty((n, b))  # [N, B]
    status = np.empty(n, dtype=np.int8)  # [N]
    simplex_games(games, values, x, y, status, simplex_pivot_cap(a, b), GAP_TOLERANCE)
    return values, x, y, status


def solve_matrix_games(
    q: ArrayLike,  # [N, A, B]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Values and optimal strategies of ``N`` two-player zero-sum matrix games, exactly.

    Each game is solved by the simplex method on its linear program (see the module docstring)
    and certified by its duality gap; a game that misses ``GAP_TOLERANCE * max(1, ptp)`` is
    re-solved with HiGHS (logged at debug level). Optimal strategies need not be unique; the ones
    returned are basic (vertex) solutions.

    Args:
        q: ``[N, A, B]`` row player's payoffs of ``N`` zero-sum games (column player gets ``-q``);
            the row player maximizes. Any real dtype; converted to float64.

    Returns:
        ``(values [N], x [N, A], y [N, B])`` float64: each game's value, the row player's maximin
        strategy and the column player's minimax strategy (nonnegative, summing to 1).

    Raises:
        MalformedGameError: ``q`` is not 3-D, has an empty action set or a non-finite payoff
            (the message names the first bad game).

    Example:
        >>> v, x, y = solve_matrix_games([[[2.0, -1.0], [-1.0, 1.0]]])
        >>> float(round(v[0], 12)), x[0].round(12).tolist(), y[0].round(12).tolist()
        (0.2, [0.4, 0.6], [0.4, 0.6])
    """
    games = _checked_games(q)
    values, x, y, status = run_simplex(games)
    failed = np.flatnonzero(status != STATUS_OK)
    if failed.size:
        tol = _gap_tolerances(games[failed])  # [F]
        for g, g_tol in zip(failed.tolist(), tol.tolist(), strict=True):
            lp_value, lp_x, lp_y = _linprog_game(games[g])
            gap = float(duality_gaps(games[g : g + 1], lp_x[None], lp_y[None])[0])
            log.debug("matrix game %d: simplex status %d, re-solved with HiGHS (gap %.3g)", g, status[g], gap)
            if not gap <= g_tol:
                log.warning(
                    "matrix game %d: HiGHS duality gap %.3g exceeds the tolerance %.3g", g, gap, g_tol
                )
            values[g], x[g], y[g] = lp_value, lp_x, lp_y
    return values, x, y


def matrix_game_values(q: ArrayLike) -> NDArray[np.float64]:
    """Values ``[N]`` of ``N`` zero-sum games ``q [N, A, B]`` (row player maximizes).

    The same computation as :func:`solve_matrix_games`, strategies dropped.

    Raises:
        MalformedGameError: as :func:`solve_matrix_games`.
    """
    return solve_matrix_games(q)[0]
