"""One Nash equilibrium of a bimatrix game by the Lemke-Howson algorithm.

Method (Lemke & Howson 1964, "Equilibrium points of bimatrix games", SIAM J. Appl. Math. 12;
as presented by von Stengel 2002, "Computing equilibria for two-person games", Handbook of Game
Theory vol. 3, ch. 45): with both payoff matrices mapped into ``[1, 2]``, take the
best-response polytopes ``P = {x >= 0 : B^T x <= 1}`` and ``Q = {y >= 0 : A y <= 1}`` with labels
``0 .. m + n - 1`` (see :mod:`solvers.enumeration`). Starting at the artificial equilibrium
``(0, 0)``, the variable with the *missing* label ``k`` enters in its polytope; whichever
variable leaves carries a label that is now *duplicate*, and its complement enters in the other
polytope. The path of almost completely labeled pairs ends at a Nash equilibrium the first time
label ``k`` comes back.

Pivoting (numba kernel). A basis of ``{z >= 0 : C z <= 1}`` is determined by its basic
``z``-variables ``Z`` (a support) and as many tight constraints ``T``; with ``K = C[T, Z]`` the
basic values are ``z_Z = K^{-1} 1``. Rather than a full tableau (``O(k d)`` per pivot, as in
textbook implementations) the kernel keeps ``K^{-1}`` and updates it by rank-one formulas as a
variable enters or leaves, so a pivot costs ``O(k s + s^2)`` with ``s = |Z|``, the support size
of the current vertex, which stays far below ``d`` along Lemke-Howson paths in practice.
``K^{-1}`` is recomputed from scratch every ``max(refactor_every, s)`` pivots. The ratio test is
*lexicographic* (von Stengel 2002, on degenerate games): ties in the minimum ratio are broken by
the rows of the basis inverse divided by the entering column, which simulates a generic
perturbation of the right-hand side, so degenerate games terminate too. A tie is a step that
leaves another basic value within ``tol`` of zero on the normalized polytopes; ``tol`` must stay
small (default ``1e-12``): on long paths of nondegenerate games a loose tolerance treats
near-ties as ties and leaves the path. After the last pivot the equilibrium is re-solved from the
payoffs on its supports, so rounding along the path does not reach the result.

>>> import gamesolve
>>> from solvers.lemke_howson import lemke_howson
>>> game = gamesolve.bimatrix([[3, 3], [2, 5], [0, 6]], [[3, 2], [2, 6], [3, 1]])
>>> [s.round(4).tolist() for s in lemke_howson(game, initial_label=0)]
[[1.0, 0.0, 0.0], [1.0, 0.0]]
"""

from __future__ import annotations

import logging

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import GamesolveError
from gamesolve.normal_form import MixedProfile, TensorGame
from solvers.enumeration import (
    _EPS_COLUMN,
    normalized_matrices,
    profile_from_supports,
    sort_key,
)

__all__ = [
    "LemkeHowsonError",
    "PivotLimitError",
    "all_labels",
    "lemke_howson",
    "lemke_howson_kernel",
    "lemke_howson_numpy",
]

log = logging.getLogger(__name__)

#: Kernel status codes.
DONE = 0
PIVOT_LIMIT = 1
UNBOUNDED = 2


class LemkeHowsonError(GamesolveError, RuntimeError):
    """Lemke-Howson stopped without an equilibrium (numerical trouble)."""


class PivotLimitError(LemkeHowsonError):
    """Lemke-Howson did not finish within ``max_pivots`` pivots."""


# --------------------------------------------------------------------------------------------
# Kernel
#
# A basis of {z >= 0 : C z <= 1} (C of shape [k, d]) is a set Z of basic z-variables and an
# equally large set T of tight constraints (nonbasic slacks); every other slack is basic. With
# K = C[T, Z] the basic values are z_Z = K^{-1} 1 and s_j = 1 - C[j, Z] z_Z. The kernel keeps
# K^{-1} (rows: positions in Z, columns: positions in T) and updates it by rank-one formulas, so
# a pivot costs O(k s + s^2) with s = |Z| instead of the O(k d) of a full dictionary. Along
# Lemke-Howson paths s stays small (the supports of the visited vertex pairs), which is where
# the speed comes from. ``ct`` is C transposed ([d, k]): column z of C is the row ct[z].
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _refactor_small(
    ct: NDArray[np.float64],  # [d, k]
    zset: NDArray[np.int64],  # [S] basic z-variables (first s used)
    tset: NDArray[np.int64],  # [S] tight constraints (first s used)
    s: int,
    kinv: NDArray[np.float64],  # [S, S] out: K^{-1}
    work: NDArray[np.float64],  # [S, 2S] scratch
) -> None:
    """``kinv = C[T, Z]^{-1}`` by Gauss-Jordan elimination with partial pivoting."""
    for t in range(s):
        for q in range(s):
            work[t, q] = ct[zset[q], tset[t]]
            work[t, s + q] = 1.0 if q == t else 0.0
    for q in range(s):
        best = q
        best_abs = abs(work[q, q])
        for r in range(q + 1, s):
            if abs(work[r, q]) > best_abs:
                best, best_abs = r, abs(work[r, q])
        if best_abs < 1e-300:
            return
        # columns left of q are zero in rows q and below, and in row q: start every loop at q
        if best != q:
            for j in range(q, 2 * s):
                tmp = work[q, j]
                work[q, j] = work[best, j]
                work[best, j] = tmp
        inv = 1.0 / work[q, q]
        for j in range(q, 2 * s):
            work[q, j] *= inv
        for r in range(s):
            if r != q:
                f = work[r, q]
                if f != 0.0:
                    for j in range(q, 2 * s):
                        work[r, j] -= f * work[q, j]
    for q in range(s):
        for t in range(s):
            kinv[q, t] = work[q, s + t]


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _values(
    ct: NDArray[np.float64],  # [d, k]
    zset: NDArray[np.int64],  # [S]
    tpos: NDArray[np.int64],  # [k]
    s: int,
    kinv: NDArray[np.float64],  # [S, S]
    zval: NDArray[np.float64],  # [S] out: values of the basic z-variables
    sval: NDArray[np.float64],  # [k] out: slack values (0 on tight constraints)
) -> None:
    """Basic values recomputed from ``K^{-1}``: ``z_Z = K^{-1} 1``, ``s = 1 - C[:, Z] z_Z``."""
    k = ct.shape[1]
    for q in range(s):
        acc = 0.0
        for t in range(s):
            acc += kinv[q, t]
        zval[q] = acc
    for j in range(k):
        sval[j] = 1.0
    for q in range(s):
        f = zval[q]
        row = zset[q]
        for j in range(k):
            sval[j] -= f * ct[row, j]
    for j in range(k):
        if tpos[j] >= 0:
            sval[j] = 0.0


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _lex_entry(
    ct: NDArray[np.float64],  # [d, k]
    zset: NDArray[np.int64],  # [S]
    zpos: NDArray[np.int64],  # [d]
    tpos: NDArray[np.int64],  # [k]
    s: int,
    kinv: NDArray[np.float64],  # [S, S]
    row_var: int,
    slack: int,
) -> float:
    """Entry of ``B^{-1}`` in the row of basic variable ``row_var``, column of initial slack ``slack``."""
    d = ct.shape[0]
    t = tpos[slack]
    if t < 0:  # the slack is basic: its column is a unit vector
        return 1.0 if row_var == d + slack else 0.0
    if row_var < d:
        return kinv[zpos[row_var], t]
    j = row_var - d
    acc = 0.0
    for q in range(s):
        acc += kinv[q, t] * ct[zset[q], j]
    return -acc


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _row_times_kinv(
    ct: NDArray[np.float64],  # [d, k]
    zset: NDArray[np.int64],  # [S]
    s: int,
    kinv: NDArray[np.float64],  # [S, S]
    row: int,
    out: NDArray[np.float64],  # [S] out: C[row, Z] K^{-1}
) -> None:
    for t in range(s):
        out[t] = 0.0
    for q in range(s):
        w = ct[zset[q], row]
        if w != 0.0:
            for t in range(s):
                out[t] += w * kinv[q, t]


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _small_pivot(
    ct: NDArray[np.float64],  # [d, k] constraint matrix transposed
    entering: int,  # variable id: z_e = e < d, slack j = d + j
    tol: float,
    zset: NDArray[np.int64],  # [S] basic z-variables by position
    tset: NDArray[np.int64],  # [S] tight constraints by position
    zpos: NDArray[np.int64],  # [d] position in zset, -1 if nonbasic
    tpos: NDArray[np.int64],  # [k] position in tset, -1 if the slack is basic
    size: NDArray[np.int64],  # [1] s = |Z| = |T|
    kinv: NDArray[np.float64],  # [S, S] K^{-1}
    zval: NDArray[np.float64],  # [S] values of basic z-variables
    sval: NDArray[np.float64],  # [k] slack values
    u: NDArray[np.float64],  # [S] scratch: rates of decrease of z_Z
    v: NDArray[np.float64],  # [S] scratch
    rate: NDArray[np.float64],  # [k] scratch: rates of decrease of the slacks
    ties: NDArray[np.int64],  # [S + k] scratch
) -> int:
    """One pivot with lexicographic ratio test; returns the leaving variable id (-1: unbounded)."""
    d, k = ct.shape
    s = size[0]
    z_entering = entering < d
    t_in = -1
    if z_entering:
        for t in range(s):
            v[t] = ct[entering, tset[t]]  # g = C[T, e]
        for q in range(s):
            acc = 0.0
            for t in range(s):
                acc += kinv[q, t] * v[t]
            u[q] = acc
        for j in range(k):
            rate[j] = ct[entering, j]
    else:
        t_in = tpos[entering - d]
        for q in range(s):
            u[q] = kinv[q, t_in]
        for j in range(k):
            rate[j] = 0.0
    for q in range(s):
        f = u[q]
        if f != 0.0:
            row = zset[q]
            for j in range(k):
                rate[j] -= f * ct[row, j]
    # minimum ratio over basic rows: z rows (ids zset[q]) and basic slack rows (ids d + j)
    best = -1
    best_num = 0.0
    best_den = 1.0
    for q in range(s):
        t = u[q]
        if t > _EPS_COLUMN and (best < 0 or zval[q] * best_den < best_num * t):
            best, best_num, best_den = zset[q], zval[q], t
    for j in range(k):
        t = rate[j]
        if tpos[j] < 0 and t > _EPS_COLUMN and (best < 0 or sval[j] * best_den < best_num * t):
            best, best_num, best_den = d + j, sval[j], t
    if best < 0:
        return -1
    theta = best_num / best_den
    n_ties = 0
    for q in range(s):
        if u[q] > _EPS_COLUMN and zval[q] - u[q] * theta <= tol:
            ties[n_ties] = zset[q]
            n_ties += 1
    for j in range(k):
        if tpos[j] < 0 and rate[j] > _EPS_COLUMN and sval[j] - rate[j] * theta <= tol:
            ties[n_ties] = d + j
            n_ties += 1
    slack = 0
    while n_ties > 1 and slack < k:
        low = np.inf
        for i in range(n_ties):
            r = ties[i]
            den = u[zpos[r]] if r < d else rate[r - d]
            low = min(low, _lex_entry(ct, zset, zpos, tpos, s, kinv, r, slack) / den)
        kept = 0
        for i in range(n_ties):
            r = ties[i]
            den = u[zpos[r]] if r < d else rate[r - d]
            if _lex_entry(ct, zset, zpos, tpos, s, kinv, r, slack) / den <= low + tol:
                ties[kept] = r
                kept += 1
        n_ties = kept
        slack += 1
    leaving = ties[0] if n_ties >= 1 else best
    # step along the edge, then exchange the variables in (Z, T, K^{-1})
    step = (zval[zpos[leaving]] / u[zpos[leaving]]) if leaving < d else sval[leaving - d] / rate[leaving - d]
    for q in range(s):
        zval[q] -= step * u[q]
    for j in range(k):
        if tpos[j] < 0:
            sval[j] -= step * rate[j]
    if z_entering and leaving < d:  # column q of K becomes C[T, e]
        q = zpos[leaving]
        piv = u[q]
        for t in range(s):
            kinv[q, t] /= piv
        for i in range(s):
            if i != q and u[i] != 0.0:
                f = u[i]
                for t in range(s):
                    kinv[i, t] -= f * kinv[q, t]
        zset[q] = entering
        zpos[entering] = q
        zpos[leaving] = -1
        zval[q] = step
    elif not z_entering and leaving >= d:  # row t of K becomes C[l, Z]
        lrow = leaving - d
        _row_times_kinv(ct, zset, s, kinv, lrow, v)
        piv = v[t_in]
        for q in range(s):
            f = kinv[q, t_in] / piv
            if f != 0.0:
                for t in range(s):
                    kinv[q, t] -= f * v[t]
            kinv[q, t_in] = f
        sval[entering - d] = step
        tpos[entering - d] = -1
        tset[t_in] = lrow
        tpos[lrow] = t_in
        sval[lrow] = 0.0
    elif z_entering:  # grow: z_e joins Z, constraint l joins T
        lrow = leaving - d
        _row_times_kinv(ct, zset, s, kinv, lrow, v)
        delta = rate[lrow]
        for q in range(s):
            f = u[q] / delta
            for t in range(s):
                kinv[q, t] += f * v[t]
            kinv[q, s] = -f
        for t in range(s):
            kinv[s, t] = -v[t] / delta
        kinv[s, s] = 1.0 / delta
        zset[s] = entering
        zpos[entering] = s
        tset[s] = lrow
        tpos[lrow] = s
        zval[s] = step
        sval[lrow] = 0.0
        size[0] = s + 1
    else:  # shrink: z_l leaves Z, the entering slack's constraint leaves T
        q = zpos[leaving]
        piv = kinv[q, t_in]
        for i in range(s):
            if i != q:
                f = kinv[i, t_in] / piv
                if f != 0.0:
                    for t in range(s):
                        kinv[i, t] -= f * kinv[q, t]
        last = s - 1
        if q != last:  # move the last row into the freed position
            for t in range(s):
                kinv[q, t] = kinv[last, t]
            zset[q] = zset[last]
            zpos[zset[q]] = q
            zval[q] = zval[last]
        if t_in != last:  # and the last column
            for i in range(last):
                kinv[i, t_in] = kinv[i, last]
            tset[t_in] = tset[last]
            tpos[tset[t_in]] = t_in
        zpos[leaving] = -1
        sval[entering - d] = step
        tpos[entering - d] = -1
        size[0] = last
    return leaving


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def lemke_howson_kernel(
    ct_p: NDArray[np.float64],  # [m, n] P's constraint matrix transposed (B, positive)
    ct_q: NDArray[np.float64],  # [n, m] Q's constraint matrix transposed (A^T, positive)
    initial_label: int,  # the missing label, 0 .. m + n - 1
    max_pivots: int,
    tol: float,  # ratio-test tie tolerance on the normalized polytopes
    refactor_every: int,  # recompute K^{-1} from scratch after max(refactor_every, s) pivots
    basic_p: NDArray[np.uint8],  # [m + n] out: 1 where P's variable is basic (x_i = i, s_j = m + j)
    basic_q: NDArray[np.uint8],  # [n + m] out: 1 where Q's variable is basic (y_j = j, r_i = n + i)
    info: NDArray[np.int64],  # [1] out: number of pivots
) -> int:
    """Follow the Lemke-Howson path that drops ``initial_label``.

    Returns:
        ``DONE``, ``PIVOT_LIMIT`` or ``UNBOUNDED`` (a column without a positive entry, which
        positive constraint matrices rule out except through rounding).
    """
    m, n = ct_p.shape
    cap = min(m, n)
    # P: d = m, k = n; Q: d = n, k = m
    zset_p = np.empty(cap, np.int64)
    tset_p = np.empty(cap, np.int64)
    zpos_p = np.full(m, -1, np.int64)
    tpos_p = np.full(n, -1, np.int64)
    size_p = np.zeros(1, np.int64)
    kinv_p = np.empty((cap, cap))
    zval_p = np.empty(cap)
    sval_p = np.ones(n)
    rate_p = np.empty(n)
    zset_q = np.empty(cap, np.int64)
    tset_q = np.empty(cap, np.int64)
    zpos_q = np.full(n, -1, np.int64)
    tpos_q = np.full(m, -1, np.int64)
    size_q = np.zeros(1, np.int64)
    kinv_q = np.empty((cap, cap))
    zval_q = np.empty(cap)
    sval_q = np.ones(m)
    rate_q = np.empty(m)
    u = np.empty(cap)
    v = np.empty(cap)
    work = np.empty((cap, 2 * cap))
    ties = np.empty(cap + max(m, n), np.int64)
    label = initial_label
    in_p = label < m
    pivots = 0
    status = PIVOT_LIMIT
    since_p = 0
    since_q = 0
    while pivots < max_pivots:
        if in_p:  # P's variable of label l has id l
            leaving = _small_pivot(
                ct_p, label, tol, zset_p, tset_p, zpos_p, tpos_p, size_p,
                kinv_p, zval_p, sval_p, u, v, rate_p, ties,
            )  # fmt: skip
            since_p += 1
            if since_p >= max(refactor_every, size_p[0]):
                _refactor_small(ct_p, zset_p, tset_p, size_p[0], kinv_p, work)
                _values(ct_p, zset_p, tpos_p, size_p[0], kinv_p, zval_p, sval_p)
                since_p = 0
            new_label = leaving
        else:  # Q's variable of label l: r_l = n + l if l < m, y_{l - m} = l - m otherwise
            leaving = _small_pivot(
                ct_q, n + label if label < m else label - m, tol, zset_q, tset_q, zpos_q, tpos_q,
                size_q, kinv_q, zval_q, sval_q, u, v, rate_q, ties,
            )  # fmt: skip
            since_q += 1
            if since_q >= max(refactor_every, size_q[0]):
                _refactor_small(ct_q, zset_q, tset_q, size_q[0], kinv_q, work)
                _values(ct_q, zset_q, tpos_q, size_q[0], kinv_q, zval_q, sval_q)
                since_q = 0
            new_label = leaving - n if leaving >= n else leaving + m
        if leaving < 0:
            status = UNBOUNDED
            break
        pivots += 1
        label = new_label
        if label == initial_label:
            status = DONE
            break
        in_p = not in_p
    info[0] = pivots
    basic_p[:] = 0
    basic_q[:] = 0
    for i in range(m):
        if zpos_p[i] >= 0:
            basic_p[i] = 1
    for j in range(n):
        if tpos_p[j] < 0:
            basic_p[m + j] = 1
        if zpos_q[j] >= 0:
            basic_q[j] = 1
    for i in range(m):
        if tpos_q[i] < 0:
            basic_q[n + i] = 1
    return status


def lemke_howson_numpy(
    c_p: NDArray[np.float64],  # [n, m]
    c_q: NDArray[np.float64],  # [m, n]
    initial_label: int,
    max_pivots: int,
    tol: float,
) -> tuple[int, NDArray[np.int64], NDArray[np.int64], int]:
    """Twin of :func:`lemke_howson_kernel` on full tableaux ``[C | I | 1]`` with numpy row ops.

    Basic variables are tracked by label (P: ``x_i -> i``, ``s_j -> m + j``; Q: ``r_i -> i``,
    ``y_j -> m + j``); the lexicographic test compares whole rows ``[value | B^{-1}] / entry``.

    Returns:
        ``(status, basic_p [m + n], basic_q [n + m], pivots)``: basic-variable indicators in the
        kernel's numbering (P: ``x_i -> i``, ``s_j -> m + j``; Q: ``y_j -> j``, ``r_i -> n + i``).
    """
    n, m = c_p.shape
    # columns by label: P [x_0..x_{m-1} | s_0..s_{n-1} | rhs], Q [r_0..r_{m-1} | y_0..y_{n-1} | rhs]
    tp = np.hstack([c_p, np.eye(n), np.ones((n, 1))])  # [n, m + n + 1]
    tq = np.hstack([np.eye(m), c_q, np.ones((m, 1))])  # [m, m + n + 1]
    bp = m + np.arange(n)  # [n] basic labels of P
    bq = np.arange(m)  # [m] basic labels of Q
    slack_cols = {0: m + np.arange(n), 1: np.arange(m)}

    def step(t: NDArray[np.float64], basis: NDArray[np.int64], col: int, side: int) -> int:
        entries = t[:, col]
        ok = entries > _EPS_COLUMN
        if not ok.any():
            return -1
        ratios = np.where(ok, t[:, -1] / np.where(ok, entries, 1.0), np.inf)
        theta = ratios.min()
        tied = np.flatnonzero(ok & (t[:, -1] - entries * theta <= tol))
        for q in slack_cols[side]:
            if tied.size <= 1:
                break
            vals = t[tied, q] / entries[tied]
            tied = tied[vals <= vals.min() + tol]
        p = int(tied[0])
        t[p] /= t[p, col]
        others = np.arange(t.shape[0]) != p
        t[others] -= np.outer(t[others, col], t[p])
        leaving = int(basis[p])
        basis[p] = col
        return leaving

    label = initial_label
    side = 0 if label < m else 1
    pivots = 0
    status = PIVOT_LIMIT
    while pivots < max_pivots:
        leaving = step(tp, bp, label, 0) if side == 0 else step(tq, bq, label, 1)
        if leaving < 0:
            status = UNBOUNDED
            break
        pivots += 1
        label = leaving
        if label == initial_label:
            status = DONE
            break
        side = 1 - side
    basic_p = np.zeros(m + n, dtype=np.uint8)
    basic_p[bp] = 1
    basic_q = np.zeros(n + m, dtype=np.uint8)
    basic_q[np.where(bq >= m, bq - m, bq + n)] = 1
    return status, basic_p, basic_q, pivots


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


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


def lemke_howson(
    game: TensorGame,
    initial_label: int = 0,
    *,
    max_pivots: int = 10_000_000,
    tol: float = 1e-12,
    refactor_every: int = 16,
    check: float | None = 1e-7,
) -> MixedProfile:
    """One Nash equilibrium of a two-player game by Lemke-Howson with lexicographic pivoting.

    Lemke & Howson 1964; von Stengel 2002 (Handbook of Game Theory ch. 45, the Lemke-Howson
    algorithm and its lexicographic version for degenerate games). Labels ``0 .. m - 1`` are the
    row player's actions and ``m .. m + n - 1`` the column player's. Every path ends at an
    equilibrium, also in degenerate games thanks to the lexicographic rule; different labels may
    reach different equilibria, and some equilibria may be reachable from no label.

    Args:
        game: A two-player :class:`~gamesolve.normal_form.TensorGame`.
        initial_label: The label dropped first, ``0 <= initial_label < m + n``.
        max_pivots: Stop with :class:`PivotLimitError` after this many pivots (paths can be
            exponentially long, Savani & von Stengel 2006).
        tol: Ratio-test tie tolerance on the normalized polytopes (coordinates in ``[0, 1]``).
        refactor_every: Recompute the basis inverse from scratch after ``max(refactor_every, s)``
            pivots, ``s`` the current support size (the recomputation costs ``O(s^3)``).
        check: Raise :class:`LemkeHowsonError` if the result's NashConv, with each player's
            payoffs scaled to ``[1, 2]``, exceeds this (``None`` skips the check).

    Returns:
        The equilibrium, re-solved from the payoffs on its supports.

    Raises:
        UnsupportedGame: Not a two-player game.
        ValueError: ``initial_label`` out of range, or ``max_pivots`` < 1.
        PivotLimitError: More than ``max_pivots`` pivots.
        LemkeHowsonError: Numerical failure (an unbounded ratio test, or a result that fails the
            NashConv check).
    """
    a, b = normalized_matrices(game)
    m, n = a.shape
    if not 0 <= int(initial_label) < m + n:
        raise ValueError(f"initial_label must be in [0, {m + n}) for a {m}x{n} game, got {initial_label!r}")
    if max_pivots < 1:
        raise ValueError(f"max_pivots must be at least 1, got {max_pivots!r}")
    ct_p = np.ascontiguousarray(b)  # [m, n] = C_P^T
    ct_q = np.ascontiguousarray(a.T)  # [n, m] = C_Q^T
    basic_p = np.empty(m + n, dtype=np.uint8)  # [m + n]
    basic_q = np.empty(n + m, dtype=np.uint8)  # [n + m]
    info = np.zeros(1, dtype=np.int64)
    status = int(
        lemke_howson_kernel(
            ct_p, ct_q, int(initial_label), int(max_pivots), float(tol), int(refactor_every),
            basic_p, basic_q, info,
        )
    )  # fmt: skip
    if status == PIVOT_LIMIT:
        raise PivotLimitError(
            f"Lemke-Howson from label {initial_label} did not finish within {max_pivots} pivots on a "
            f"{m}x{n} game; raise max_pivots, try another initial_label, or (small games) use "
            "solvers.enumeration.enumerate_equilibria"
        )
    if status != DONE:
        raise LemkeHowsonError(
            f"Lemke-Howson from label {initial_label} hit an unbounded ratio test after {info[0]} pivots "
            "(numerical trouble: payoffs too close to degenerate for float64)"
        )
    log.debug("Lemke-Howson from label %d: %d pivots", initial_label, int(info[0]))
    profile = _profile(game, a, b, basic_p, basic_q)
    if check is not None:
        # the regrets on the normalized matrices (payoffs mapped into [1, 2] per player)
        x, y = profile
        ay = a @ y  # [m]
        xb = x @ b  # [n]
        conv = float(ay.max() - x @ ay + xb.max() - xb @ y)
        if conv > check:
            raise LemkeHowsonError(
                f"Lemke-Howson from label {initial_label} ended at a profile with NashConv {conv:.3g} "
                "(payoffs scaled to [1, 2]); the game is too close to degenerate for float64"
            )
    return profile


def all_labels(
    game: TensorGame,
    *,
    max_pivots: int = 10_000_000,
    tol: float = 1e-12,
    atol: float = 1e-6,
) -> list[MixedProfile]:
    """The distinct equilibria that Lemke-Howson reaches from each of the ``m + n`` labels.

    Args:
        game: A two-player game.
        max_pivots: Per run, as in :func:`lemke_howson`.
        tol: Ratio-test tolerance, as in :func:`lemke_howson`.
        atol: Two results within this (max absolute difference) are the same equilibrium.

    Returns:
        Distinct equilibria in the deterministic order of
        :func:`solvers.enumeration.enumerate_equilibria` (by support size, supports,
        probabilities).
    """
    m, n = normalized_matrices(game)[0].shape  # raises UnsupportedGame unless two players
    found: list[MixedProfile] = []
    for label in range(m + n):
        eq = lemke_howson(game, label, max_pivots=max_pivots, tol=tol)
        if not any(all(np.max(np.abs(u - v)) <= atol for u, v in zip(eq, old, strict=True)) for old in found):
            found.append(eq)
    found.sort(key=sort_key)
    return found
