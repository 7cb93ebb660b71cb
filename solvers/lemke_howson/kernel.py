"""The Lemke-Howson numba kernel: a resumable path on a small basis inverse, and its numpy twin.

Lemke & Howson 1964, "Equilibrium points of bimatrix games", with the lexicographic ratio test of
von Stengel 2002 ("Computing equilibria for two-person games", Handbook of Game Theory vol. 3,
ch. 45). The kernel keeps the inverse of the current basis restricted to the support and updates
it by rank-one formulas (:func:`_small_pivot`), so a pivot costs ``O(k s + s^2)`` for support size
``s`` rather than a full tableau's ``O(k d)``; its state lives in arrays
(:func:`lemke_howson_state`) so a path can pause after a budget of pivots and resume.
:func:`lemke_howson_numpy` follows the same path on a full dictionary, for the tests.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DONE",
    "PAUSED",
    "PIVOT_LIMIT",
    "UNBOUNDED",
    "lemke_howson_basics",
    "lemke_howson_kernel",
    "lemke_howson_numpy",
    "lemke_howson_resume",
    "lemke_howson_state",
]

#: Kernel status codes.
DONE = 0
PIVOT_LIMIT = 1
UNBOUNDED = 2
PAUSED = 3

_EPS_COLUMN = 1e-13  # tableau entries at most this are treated as non-positive in ratio tests


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
    """One pivot with lexicographic ratio test; returns the leaving variable id (-1: unbounded).

    A basis of ``{z >= 0 : C z <= 1}`` is its basic ``z``-variables ``Z`` and as many tight
    constraints ``T``; with ``K = C[T, Z]`` the basic values are ``z_Z = K^{-1} 1``. ``K^{-1}`` is
    updated by rank-one formulas as a variable enters or leaves (the kernel recomputes it from
    scratch every ``max(refactor_every, s)`` pivots). Ratio-test ties (another basic value within
    ``tol`` of zero on the normalized polytopes) are broken by the rows of the basis inverse divided
    by the entering column, as a generic perturbation of the right-hand side would; ``tol`` must
    stay small, or near-ties on long nondegenerate paths are taken for ties and the path is lost.
    """
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


def lemke_howson_state(
    m: int, n: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Zeroed state arrays of :func:`lemke_howson_resume` for an ``m x n`` game.

    Returns:
        ``(ints [2, 4, m + n], reals [2, 3, m + n], kinv [2, S, S], scalars [8])`` with
        ``S = min(m, n)``: per polytope (P, then Q) the basic z-variables, tight constraints
        and both position maps; the basic values, slack values and a scratch column; the
        basis inverse; and the path's label, side, pivot counts and support sizes.
    """
    size = max(1, min(m, n))
    return (
        np.zeros((2, 4, m + n), dtype=np.int64),
        np.zeros((2, 3, m + n), dtype=np.float64),
        np.zeros((2, size, size), dtype=np.float64),
        np.zeros(8, dtype=np.int64),
    )


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def lemke_howson_resume(
    ct_p: NDArray[np.float64],  # [m, n] P's constraint matrix transposed (B, positive)
    ct_q: NDArray[np.float64],  # [n, m] Q's constraint matrix transposed (A^T, positive)
    initial_label: int,  # the missing label, 0 .. m + n - 1
    budget: int,  # pivots allowed in this call
    tol: float,  # ratio-test tie tolerance on the normalized polytopes
    refactor_every: int,  # recompute K^{-1} from scratch after max(refactor_every, s) pivots
    ints: NDArray[np.int64],  # [2, 4, m + n] state: zset, tset, zpos, tpos of P and of Q
    reals: NDArray[np.float64],  # [2, 3, m + n] state: zval, sval, rate of P and of Q
    kinv: NDArray[np.float64],  # [2, S, S] state: K^{-1} of P and of Q
    scalars: NDArray[np.int64],  # [8] state: label, in P, pivots, since P, since Q, |Z_P|, |Z_Q|, started
) -> int:
    """Follow the Lemke-Howson path that drops ``initial_label`` for up to ``budget`` pivots.

    Call with zeroed state (:func:`lemke_howson_state`) to start; after ``PAUSED`` the state
    arrays hold the path so far and the next call goes on from there.

    Returns:
        ``DONE``, ``PAUSED`` (``budget`` pivots made) or ``UNBOUNDED`` (a column without a
        positive entry, which positive constraint matrices rule out except through rounding).
    """
    m, n = ct_p.shape
    cap = min(m, n)
    # P: d = m, k = n; Q: d = n, k = m
    zset_p = ints[0, 0, :cap]
    tset_p = ints[0, 1, :cap]
    zpos_p = ints[0, 2, :m]
    tpos_p = ints[0, 3, :n]
    zval_p = reals[0, 0, :cap]
    sval_p = reals[0, 1, :n]
    rate_p = reals[0, 2, :n]
    zset_q = ints[1, 0, :cap]
    tset_q = ints[1, 1, :cap]
    zpos_q = ints[1, 2, :n]
    tpos_q = ints[1, 3, :m]
    zval_q = reals[1, 0, :cap]
    sval_q = reals[1, 1, :m]
    rate_q = reals[1, 2, :m]
    kinv_p = kinv[0]
    kinv_q = kinv[1]
    size_p = scalars[5:6]
    size_q = scalars[6:7]
    if scalars[7] == 0:
        zpos_p[:] = -1
        tpos_p[:] = -1
        sval_p[:] = 1.0
        zpos_q[:] = -1
        tpos_q[:] = -1
        sval_q[:] = 1.0
        scalars[0] = initial_label
        scalars[1] = 1 if initial_label < m else 0
        scalars[2] = 0
        scalars[3] = 0
        scalars[4] = 0
        size_p[0] = 0
        size_q[0] = 0
        scalars[7] = 1
    u = np.empty(cap)
    v = np.empty(cap)
    work = np.empty((cap, 2 * cap))
    ties = np.empty(cap + max(m, n), np.int64)
    label = scalars[0]
    in_p = scalars[1] == 1
    pivots = scalars[2]
    since_p = scalars[3]
    since_q = scalars[4]
    status = PAUSED
    made = 0
    while made < budget:
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
        made += 1
        label = new_label
        if label == initial_label:
            status = DONE
            break
        in_p = not in_p
    scalars[0] = label
    scalars[1] = 1 if in_p else 0
    scalars[2] = pivots
    scalars[3] = since_p
    scalars[4] = since_q
    return status


@numba.njit(cache=True, nogil=True)
def lemke_howson_basics(
    ints: NDArray[np.int64],  # [2, 4, m + n] state of lemke_howson_resume
    m: int,
    n: int,
    basic_p: NDArray[np.uint8],  # [m + n] out: 1 where P's variable is basic (x_i = i, s_j = m + j)
    basic_q: NDArray[np.uint8],  # [n + m] out: 1 where Q's variable is basic (y_j = j, r_i = n + i)
) -> None:
    """The basic variables of both polytopes at the current point of a path."""
    zpos_p = ints[0, 2, :m]
    tpos_p = ints[0, 3, :n]
    zpos_q = ints[1, 2, :n]
    tpos_q = ints[1, 3, :m]
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


@numba.njit(cache=True, nogil=True)
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
    """Follow the Lemke-Howson path that drops ``initial_label`` in one call.

    Returns:
        ``DONE``, ``PIVOT_LIMIT`` or ``UNBOUNDED`` (see :func:`lemke_howson_resume`).
    """
    m, n = ct_p.shape
    size = max(1, min(m, n))
    ints = np.zeros((2, 4, m + n), dtype=np.int64)
    reals = np.zeros((2, 3, m + n), dtype=np.float64)
    kinv = np.zeros((2, size, size), dtype=np.float64)
    scalars = np.zeros(8, dtype=np.int64)
    status = lemke_howson_resume(
        ct_p, ct_q, initial_label, max_pivots, tol, refactor_every, ints, reals, kinv, scalars
    )
    if status == PAUSED:
        status = PIVOT_LIMIT
    info[0] = scalars[2]
    lemke_howson_basics(ints, m, n, basic_p, basic_q)
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
