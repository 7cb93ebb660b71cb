"""Every extreme Nash equilibrium of a bimatrix game by vertex enumeration, degenerate games included.

Method: von Stengel 2002, "Computing equilibria for two-person games" (Handbook of Game Theory vol.
3, ch. 45), and Avis, Rosenberg, Savani & von Stengel 2010, "Enumeration of Nash equilibria for
two-player games" (Economic Theory 42). With both payoff matrices made positive, the best-response
polytopes are ``P = {x >= 0 : B^T x <= 1}`` and ``Q = {y >= 0 : A y <= 1}``; a pair of vertices,
rescaled to probability vectors, is an extreme equilibrium exactly when it is completely labeled
(every pure strategy is unplayed or a best response). Each polytope's vertices are listed by a
depth-first search over its bases (one simplex pivot per edge, a hash table of visited bases), in
numba kernels that write into preallocated outputs, have plain-numpy twins for the tests and stop
after a budget of steps, so :func:`extreme_equilibria` checks a time limit every few milliseconds.

Degenerate games are handled by the lexicographic pivoting rule (Dantzig, Orden & Wolfe 1955; Avis
& Fukuda 1992): vertices are grouped by their tight labels and matched by label cover; games within
``tol`` of a degenerate one are solved as that game. Every equilibrium is a convex combination of
extreme ones inside a maximal Nash subset (a maximal biclique of the graph of extreme equilibria;
Winkels 1979, Jansen 1981), and the union of the maximal Nash subsets is the whole equilibrium set.

>>> import gamesolve
>>> from gamesolve.solvers.enumeration import enumerate_equilibria, extreme_equilibria
>>> bos = gamesolve.bimatrix([[3, 0], [0, 2]], [[2, 0], [0, 3]])
>>> [[p.round(3).tolist() for p in eq] for eq in enumerate_equilibria(bos)]
[[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]], [[0.6, 0.4], [0.4, 0.6]]]
>>> row_indifferent = gamesolve.bimatrix([[1, 1], [1, 1]], [[1, 0], [0, 1]])
>>> found = extreme_equilibria(row_indifferent)
>>> [s.round(3).tolist() for s in found.strategies[0]], [s.tolist() for s in found.strategies[1]]
([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], [[1.0, 0.0], [0.0, 1.0]])
>>> found.nash_subsets
(((0, 2), (0,)), ((1, 2), (1,)), ((2,), (0, 1)))
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import TimeLimitError, UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.validation import check_bool, check_int, check_real

__all__ = [
    "OVERFLOW",
    "PAUSED",
    "UNBOUNDED",
    "ExtremeEquilibria",
    "TimeLimitError",
    "cover_match_kernel",
    "cover_match_numpy",
    "distinct_kernel",
    "enumerate_equilibria",
    "extreme_equilibria",
    "grow_kernel",
    "label_index_kernel",
    "match_kernel",
    "match_numpy",
    "maximal_nash_subsets",
    "normalized_matrices",
    "polytope_vertices_kernel",
    "polytope_vertices_numpy",
    "polytopes",
    "profile_from_supports",
    "sort_key",
    "vertex_points_kernel",
    "vertex_points_numpy",
]

log = logging.getLogger(__name__)

#: Kernel status codes (non-negative returns are counts).
OVERFLOW = -1
PAUSED = -2
UNBOUNDED = -3

_PARALLEL_MIN_CELLS = 64  # smaller games run both polytopes in the calling thread
_EPS_COLUMN = 1e-13  # tableau entries at most this are treated as non-positive in ratio tests
_EPS_PIVOT = 1e-9  # the same in the vertex search, where degenerate vertices leave rounding noise
_CHUNK_SECONDS = 0.02  # target length of one kernel call between time-limit checks
_FIRST_BUDGET = 1 << 15  # steps of the first kernel call (small games finish within it)
_FIRST_CAPACITY = (256, 1 << 14)  # bases the buffers hold at first: 2^(min(m, n) + 2) in this range
_HASH_MUL1 = np.uint64(0x9E3779B97F4A7C15)
_HASH_MUL2 = np.uint64(0xBF58476D1CE4E5B9)
_SHIFT = np.uint64(31)
_ONE = np.uint64(1)
_LOW6 = np.uint64(63)


def check_time_limit(value: Any) -> float | None:
    """``None`` (no limit) or positive seconds; ``inf`` means no limit.

    Raises:
        InvalidArgumentError: Anything else (NaN, zero, negative, a string, a bool).
    """
    if value is None:
        return None
    seconds = check_real("time_limit", value, minimum=0.0, min_inclusive=False, allow_inf=True)
    return None if seconds == float("inf") else seconds


def check_tolerance(name: str, value: Any) -> float:
    """A tie tolerance on the normalized polytopes: finite, in ``(0, 1e-3]``."""
    return check_real(name, value, minimum=0.0, min_inclusive=False, maximum=1e-3)


# --------------------------------------------------------------------------------------------
# Polytopes
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Dictionary primitives shared with the Lemke-Howson kernel
#
# A dictionary of {z >= 0 : C z + s = 1} reads x_B[r] + sum_c T[r, c] x_N[c] = T[r, d]. It is
# stored transposed, ``tab[c, r] = T[r, c]`` with ``tab[d, r]`` the basic values, so a column
# (ratio test) and each row of the pivot update are contiguous. ``T = B^{-1} [C | I]``, so the
# column of a nonbasic slack ``s_j`` is column ``j`` of ``B^{-1}``; a basic slack's is a unit
# vector.
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _column_entry(cmat: NDArray[np.float64], var: int, row: int) -> float:
    """Entry ``row`` of variable ``var``'s column in ``[C | I]``."""
    d = cmat.shape[1]
    if var < d:
        return cmat[row, var]
    return 1.0 if var - d == row else 0.0


@numba.njit(cache=True, nogil=True)
def _initial_dictionary(
    cmat: NDArray[np.float64],  # [k, d]
    tab: NDArray[np.float64],  # [d + 1, k] out: transposed dictionary
    basis: NDArray[np.int64],  # [k] out: variable basic in each row
    nonbasis: NDArray[np.int64],  # [d] out: variable nonbasic in each column
    where: NDArray[np.int64],  # [d + k] out: row r >= 0 if basic, -(c + 1) if nonbasic in column c
) -> None:
    """The dictionary at the origin: slacks basic, ``z`` nonbasic."""
    k, d = cmat.shape
    for r in range(k):
        for c in range(d):
            tab[c, r] = cmat[r, c]
        tab[d, r] = 1.0
        basis[r] = d + r
        where[d + r] = r
    for c in range(d):
        nonbasis[c] = c
        where[c] = -(c + 1)


@numba.njit(cache=True, nogil=True)
def _pivot(
    tab: NDArray[np.float64],  # [d + 1, k] transposed dictionary
    basis: NDArray[np.int64],  # [k]
    nonbasis: NDArray[np.int64],  # [d]
    where: NDArray[np.int64],  # [d + k]
    colc: NDArray[np.float64],  # [k] scratch
    p: int,
    c: int,
) -> None:
    """Exchange the basic variable of row ``p`` with the nonbasic variable of column ``c``."""
    width, k = tab.shape
    inv = 1.0 / tab[c, p]
    for r in range(k):
        colc[r] = tab[c, r]
    for j in range(width):
        if j == c:
            continue
        f = tab[j, p] * inv
        if f != 0.0:
            for r in range(k):
                tab[j, r] -= f * colc[r]
        tab[j, p] = f
    for r in range(k):
        tab[c, r] = -colc[r] * inv
    tab[c, p] = inv
    entering = nonbasis[c]
    leaving = basis[p]
    basis[p] = entering
    nonbasis[c] = leaving
    where[entering] = p
    where[leaving] = -(c + 1)


@numba.njit(cache=True, nogil=True)
def _refactor(
    cmat: NDArray[np.float64],  # [k, d]
    basis: NDArray[np.int64],  # [k]
    nonbasis: NDArray[np.int64],  # [d]
    tab: NDArray[np.float64],  # [d + 1, k] out
    work: NDArray[np.float64],  # [k, k + d + 1] scratch
) -> bool:
    """Recompute the dictionary of a basis from scratch (Gauss-Jordan, partial pivoting).

    Returns:
        False if the basis matrix is numerically singular (``tab`` is then unchanged).
    """
    k, d = cmat.shape
    width = k + d + 1
    for r in range(k):
        for q in range(k):
            work[r, q] = _column_entry(cmat, basis[q], r)
        for c in range(d):
            work[r, k + c] = _column_entry(cmat, nonbasis[c], r)
        work[r, k + d] = 1.0
    for q in range(k):
        best = q
        best_abs = abs(work[q, q])
        for r in range(q + 1, k):
            v = abs(work[r, q])
            if v > best_abs:
                best, best_abs = r, v
        if best_abs < 1e-300:
            return False
        if best != q:
            for j in range(q, width):
                tmp = work[q, j]
                work[q, j] = work[best, j]
                work[best, j] = tmp
        inv = 1.0 / work[q, q]
        for j in range(q, width):
            work[q, j] *= inv
        for r in range(k):
            if r == q:
                continue
            f = work[r, q]
            if f != 0.0:
                for j in range(q, width):
                    work[r, j] -= f * work[q, j]
    for r in range(k):
        for j in range(d + 1):
            tab[j, r] = work[r, k + j]
    return True


@numba.njit(cache=True, nogil=True)
def _min_ratio(
    tab: NDArray[np.float64],  # [d + 1, k]
    c: int,
) -> int:
    """Row of the minimum ratio ``value / entry`` over positive entries of column ``c`` (-1: none).

    Ties keep the lowest row; callers that care about ties check them separately.
    """
    k = tab.shape[1]
    d = tab.shape[0] - 1
    p = -1
    best_num = 0.0
    best_den = 1.0
    for r in range(k):
        t = tab[c, r]
        if t > _EPS_PIVOT:
            num = tab[d, r]
            if p < 0 or num * best_den < best_num * t:
                p, best_num, best_den = r, num, t
    return p


@numba.njit(cache=True, nogil=True)
def _lex_tie_break(
    tab: NDArray[np.float64],  # [d + 1, k] transposed dictionary
    where: NDArray[np.int64],  # [d + k] row r >= 0 if basic, -(c + 1) if nonbasic in column c
    c: int,  # entering column
    theta: float,  # the minimum ratio
    tol: float,
    ties: NDArray[np.int64],  # [k] scratch
    vals: NDArray[np.float64],  # [k] scratch
) -> int:
    """Leaving row among the rows whose ratio ties with the minimum ``theta`` (within ``tol``).

    The rows of ``B^{-1}`` divided by the entering column are compared entry by entry (initial
    slack ``0, 1, ...``) and the lexicographically smallest is kept: the pivot the right-hand
    side ``1 + (eps, eps^2, ...)`` would give for an infinitesimal ``eps``.
    """
    k = tab.shape[1]
    d = tab.shape[0] - 1
    n_ties = 0
    for r in range(k):
        t = tab[c, r]
        if t > _EPS_PIVOT and tab[d, r] - t * theta <= tol:
            ties[n_ties] = r
            n_ties += 1
    j = 0
    while n_ties > 1 and j < k:
        at = where[d + j]  # slack j: basic in row ``at`` (unit column) or nonbasic in column -(at + 1)
        kept = 0
        if at >= 0:  # entries 0 except 1 / t > 0 in row ``at``: that row is the largest, drop it
            for i in range(n_ties):
                if ties[i] != at:
                    ties[kept] = ties[i]
                    kept += 1
        else:
            col = -(at + 1)
            low = np.inf
            for i in range(n_ties):
                r = ties[i]
                vals[i] = tab[col, r] / tab[c, r]
                low = min(low, vals[i])
            bound = low + tol * max(1.0, abs(low))
            for i in range(n_ties):
                if vals[i] <= bound:
                    ties[kept] = ties[i]
                    kept += 1
        n_ties = kept
        j += 1
    return ties[0]


# --------------------------------------------------------------------------------------------
# Label masks and the hash table
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _flip(words: NDArray[np.uint64], label: int) -> None:
    words[label >> 6] ^= _ONE << (np.uint64(label) & _LOW6)


@numba.njit(cache=True, nogil=True)
def _flip_at(table: NDArray[np.uint64], row: int, offset: int, label: int) -> None:
    table[row, offset + (label >> 6)] ^= _ONE << (np.uint64(label) & _LOW6)


@numba.njit(cache=True, nogil=True)
def _set_at(table: NDArray[np.uint64], row: int, offset: int, label: int) -> None:
    table[row, offset + (label >> 6)] |= _ONE << (np.uint64(label) & _LOW6)


@numba.njit(cache=True, nogil=True)
def _has_at(table: NDArray[np.uint64], row: int, offset: int, label: int) -> bool:
    return (table[row, offset + (label >> 6)] >> (np.uint64(label) & _LOW6)) & _ONE != 0


@numba.njit(cache=True, nogil=True)
def _slot(
    table: NDArray[np.uint64],  # [H, >= W] rows start with a key; an all-zero key is empty
    key: NDArray[np.uint64],  # [W] nonzero
) -> int:
    """Row of ``table`` holding ``key``, or the empty row where it would go (linear probing)."""
    n_words = key.shape[0]
    h = _HASH_MUL1
    for w in range(n_words):
        h = (h ^ key[w]) * _HASH_MUL2
        h ^= h >> _SHIFT
    last = table.shape[0] - 1
    slot = int(np.int64(h & np.uint64(last)))
    while True:
        same = True
        empty = True
        for w in range(n_words):
            v = table[slot, w]
            if v != key[w]:
                same = False
            if v != 0:
                empty = False
        if same or empty:
            return slot
        slot = (slot + 1) & last


# --------------------------------------------------------------------------------------------
# Vertex enumeration kernel and its twin
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def polytope_vertices_kernel(
    cmat: NDArray[np.float64],  # [k, d] positive constraint matrix of {z >= 0 : C z <= 1}
    labels: NDArray[np.int64],  # [d + k] label of every variable (z first, then slacks)
    tol: float,  # ratios within tol tie; basic values at most tol count as zero
    refactor_every: int,  # recompute the dictionary from its basis after this many pivots
    budget: int,  # return PAUSED after this many steps (ratio tests and pivots)
    tab: NDArray[np.float64],  # [d + 1, k] state: the current dictionary (transposed)
    work: NDArray[np.float64],  # [k, k + d + 1] scratch for refactorization
    dic: NDArray[np.int64],  # [3, d + k] state: basis [:k], nonbasis [:d], where (see _pivot)
    table: NDArray[np.uint64],  # [H, 2W] state: hash table (key, edges tried), H = 2^h >= 2 cap
    stack: NDArray[np.int64],  # [cap, 4] state: next column, arrival row and column, table row
    masks: NDArray[np.uint64],  # [cap, W] out: nonbasic labels of every basis visited
    tight: NDArray[np.uint64],  # [cap, W] out: tight labels (nonbasic, or basic at zero) of each
    state: NDArray[
        np.int64
    ],  # [4] state: count, depth, pivots since refactor, flags (1 started, 2 degenerate)
) -> int:
    """All lexicographically feasible bases of a polytope, by depth-first search (resumable).

    Basis 0 is the origin. The mask of a basis has bit ``labels[v]`` set for every nonbasic
    variable ``v``; its tight mask adds the labels of basic variables at most ``tol`` (a
    degenerate vertex); in a nondegenerate polytope both agree. Each edge is ratio-tested once:
    in an undirected depth-first search every non-tree edge joins a basis to an ancestor still
    on the stack, so finding the edge from below marks it as tried at the ancestor. Call with
    ``state`` zeroed to start; a ``PAUSED`` return keeps everything needed to continue in the
    state arrays, and the next call goes on where this one stopped.

    Degenerate polytopes: tied ratio tests are broken lexicographically (:func:`_lex_tie_break`;
    Dantzig, Orden & Wolfe 1955, "The generalized simplex method for minimizing a linear form under
    linear inequality restraints"; Avis & Fukuda 1992, "A pivoting algorithm for convex hulls and
    vertex enumeration of arrangements and polyhedra"), which pivots as on the perturbed right-hand
    side ``1 + (eps, eps^2, ...)``: that polytope is simple, its graph of lexicographically
    feasible bases is connected and every vertex is the point of at least one basis, so the search
    visits no more bases than McMullen's upper bound allows. Dictionary entries up to ``1e-9``
    count as zero in ratio tests: at a degenerate vertex they are rounding noise, and the entering
    variable never exceeds 1 on the normalized polytopes. Every ``refactor_every`` pivots the
    dictionary is recomputed from its basis, so rounding cannot drift along long walks.

    Returns:
        The number of bases once the search is complete, or ``PAUSED`` (``budget`` steps done),
        ``OVERFLOW`` (more than ``cap`` bases: resumable once :func:`grow_kernel` has moved the
        state into larger buffers) or ``UNBOUNDED`` (an edge without end; impossible for
        positive ``C``).
    """
    k, d = cmat.shape
    cap = masks.shape[0]
    n_words = masks.shape[1]
    basis = dic[0, :k]
    nonbasis = dic[1, :d]
    where = dic[2, :]
    colc = np.empty(k, dtype=np.float64)
    ties = np.empty(k, dtype=np.int64)
    vals = np.empty(k, dtype=np.float64)
    current = np.zeros(n_words, dtype=np.uint64)
    key = np.empty(n_words, dtype=np.uint64)
    if state[3] & 1 == 0:
        table[:, :] = 0
        if cap < 1:
            return OVERFLOW
        _initial_dictionary(cmat, tab, basis, nonbasis, where)
        for c in range(d):
            _flip(current, labels[c])
        slot = _slot(table, current)
        table[slot, :n_words] = current
        masks[0, :] = current
        tight[0, :] = current  # the slacks are 1 at the origin
        stack[0, 0] = 0
        stack[0, 3] = slot
        state[0] = 1
        state[1] = 0
        state[2] = 0
        state[3] = 1
    else:
        for w in range(n_words):
            current[w] = table[stack[state[1], 3], w]
    count = state[0]
    depth = state[1]
    since_refactor = state[2]
    flags = state[3]
    status = PAUSED
    steps = 0
    while steps < budget:
        steps += 1
        c = stack[depth, 0]
        here = stack[depth, 3]
        if c == d:  # every edge of this basis tried: go back to the parent
            if depth == 0:
                status = count
                break
            p_back = stack[depth, 1]
            c_back = stack[depth, 2]
            _flip(current, labels[basis[p_back]])
            _flip(current, labels[nonbasis[c_back]])
            _pivot(tab, basis, nonbasis, where, colc, p_back, c_back)
            since_refactor += 1
            if since_refactor >= refactor_every:
                _refactor(cmat, basis, nonbasis, tab, work)
                since_refactor = 0
            depth -= 1
            continue
        stack[depth, 0] = c + 1
        entering_label = labels[nonbasis[c]]
        if _has_at(table, here, n_words, entering_label):
            continue
        _flip_at(table, here, n_words, entering_label)
        p = _min_ratio(tab, c)  # the lexicographic ratio test, inlined for the common case
        if p < 0:
            status = UNBOUNDED
            break
        theta = tab[d, p] / tab[c, p]
        for r in range(k):
            if r != p and tab[c, r] > _EPS_PIVOT and tab[d, r] - tab[c, r] * theta <= tol:
                p = _lex_tie_break(tab, where, c, theta, tol, ties, vals)
                break
        leaving_label = labels[basis[p]]
        for w in range(n_words):
            key[w] = current[w]
        _flip(key, entering_label)
        _flip(key, leaving_label)
        slot = _slot(table, key)
        seen = False
        for w in range(n_words):
            if table[slot, w] != 0:
                seen = True
        if seen:
            _flip_at(table, slot, n_words, leaving_label)  # the edge back from there is tried
            continue
        if count == cap:  # undo this step so that the search resumes here in larger buffers
            stack[depth, 0] = c
            _flip_at(table, here, n_words, entering_label)
            status = OVERFLOW
            break
        _pivot(tab, basis, nonbasis, where, colc, p, c)
        since_refactor += 1
        if since_refactor >= refactor_every:
            _refactor(cmat, basis, nonbasis, tab, work)
            since_refactor = 0
        for w in range(n_words):
            current[w] = key[w]
            masks[count, w] = key[w]
            tight[count, w] = key[w]
            table[slot, w] = key[w]
        for r in range(k):
            if tab[d, r] <= tol:  # a basic variable at zero: a degenerate vertex
                _set_at(tight, count, 0, labels[basis[r]])
                flags |= 2
        _flip_at(table, slot, n_words, leaving_label)
        count += 1
        depth += 1
        stack[depth, 0] = 0
        stack[depth, 1] = p
        stack[depth, 2] = c
        stack[depth, 3] = slot
    state[0] = count
    state[1] = depth
    state[2] = since_refactor
    state[3] = flags
    return status


@numba.njit(cache=True, nogil=True)
def grow_kernel(
    table: NDArray[np.uint64],  # [H, 2W] the full hash table
    new_table: NDArray[np.uint64],  # [H', 2W] out: the same entries rehashed, H' > H a power of two
    stack: NDArray[np.int64],  # [>= depth + 1, 4] the search stack (its table rows are remapped)
    depth: int,
) -> None:
    """Move a paused search's hash table into a larger one, keeping the stack's table rows valid."""
    n_words = table.shape[1] // 2
    new_table[:, :] = 0
    remap = np.full(table.shape[0], -1, dtype=np.int64)
    for row in range(table.shape[0]):
        empty = True
        for w in range(n_words):
            if table[row, w] != 0:
                empty = False
        if empty:
            continue
        slot = _slot(new_table, table[row, :n_words])
        for w in range(2 * n_words):
            new_table[slot, w] = table[row, w]
        remap[row] = slot
    for level in range(depth + 1):
        stack[level, 3] = remap[stack[level, 3]]


def polytope_vertices_numpy(
    cmat: NDArray[np.float64],  # [k, d]
    labels: NDArray[np.int64],  # [d + k]
    tol: float,
) -> tuple[int, NDArray[np.uint64], NDArray[np.float64]]:
    """Twin of :func:`polytope_vertices_kernel` by brute force over every basis.

    Solves all ``C(d + k, k)`` basis systems in one batched call, keeps the feasible solutions
    and merges bases at the same point (same tight labels). Exponential; for tests on small
    polytopes only.

    Returns:
        ``(count, masks [V, W], points [V, d])``: the number of distinct vertices, the tight
        labels (variables at most ``tol``) of each and its coordinates; the origin first, the
        other vertices in no particular order.
    """
    k, d = cmat.shape
    n_vars = d + k
    n_words = (int(labels.max()) + 64) // 64
    full = np.hstack([cmat, np.eye(k)])  # [k, d + k]
    bases = np.array(list(itertools.combinations(range(n_vars), k)), dtype=np.int64)  # [S, k]
    mats = full[:, bases].transpose(1, 0, 2)  # [S, k, k]
    ok = np.abs(np.linalg.det(mats)) > 1e-12
    bases, mats = bases[ok], mats[ok]
    sol = np.linalg.solve(mats, np.ones((mats.shape[0], k, 1)))[..., 0]  # [S', k]
    feasible = np.all(sol >= -tol, axis=1)
    bases, sol = bases[feasible], sol[feasible]
    values = np.zeros((bases.shape[0], n_vars))  # [S'', d + k]
    np.put_along_axis(values, bases, sol, axis=1)
    masks = np.zeros((bases.shape[0], n_words), dtype=np.uint64)  # [S'', W]
    for v in range(n_vars):
        at_zero = values[:, v] <= tol
        word, bit = divmod(int(labels[v]), 64)
        masks[at_zero, word] |= np.uint64(1) << np.uint64(bit)
    _, first = np.unique(masks, axis=0, return_index=True)
    masks, points = masks[first], values[first, :d]  # [V, W], [V, d]
    order = np.argsort(np.abs(points).sum(axis=1), kind="stable")  # the origin first
    return int(masks.shape[0]), masks[order], np.ascontiguousarray(points[order])


# --------------------------------------------------------------------------------------------
# Matching kernels and their twins
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def match_kernel(
    masks_p: NDArray[np.uint64],  # [VP, W] label masks of P's vertices (vertex 0 the origin)
    masks_q: NDArray[np.uint64],  # [VQ, W] label masks of Q's vertices (vertex 0 the origin)
    full: NDArray[np.uint64],  # [W] mask of all m + n labels
    table: NDArray[np.uint64],  # [H, W + 1] scratch hash table, H a power of two >= 2 * VQ
    pairs: NDArray[np.int64],  # [cap, 2] out: (vertex of P, vertex of Q) of every equilibrium
) -> int:
    """Completely labeled vertex pairs other than the origin pair (nondegenerate polytopes).

    Returns:
        The number of pairs, or ``OVERFLOW`` if more than ``cap``.
    """
    n_words = full.shape[0]
    key = np.empty(n_words, dtype=np.uint64)
    table[:, :] = 0
    for j in range(1, masks_q.shape[0]):
        slot = _slot(table, masks_q[j])
        for w in range(n_words):
            table[slot, w] = masks_q[j, w]
        table[slot, n_words] = np.uint64(j)
    count = 0
    for i in range(1, masks_p.shape[0]):
        for w in range(n_words):
            key[w] = full[w] ^ masks_p[i, w]
        slot = _slot(table, key)
        j = int(np.int64(table[slot, n_words]))
        if j > 0:
            if count == pairs.shape[0]:
                return OVERFLOW
            pairs[count, 0] = i
            pairs[count, 1] = j
            count += 1
    return count


def match_numpy(
    masks_p: NDArray[np.uint64],  # [VP, W]
    masks_q: NDArray[np.uint64],  # [VQ, W]
    full: NDArray[np.uint64],  # [W]
) -> NDArray[np.int64]:
    """Twin of :func:`match_kernel` with a Python dict; returns ``[E, 2]`` pairs."""
    index = {masks_q[j].tobytes(): j for j in range(1, masks_q.shape[0])}
    wanted = np.bitwise_xor(masks_p, full[None, :])  # [VP, W]
    out = [
        (i, index[wanted[i].tobytes()]) for i in range(1, masks_p.shape[0]) if wanted[i].tobytes() in index
    ]
    return np.array(out, dtype=np.int64).reshape(-1, 2)


@numba.njit(cache=True, nogil=True)
def label_index_kernel(
    tight: NDArray[np.uint64],  # [V, W] tight labels of a polytope's vertices (vertex 0 the origin)
    index: NDArray[np.uint64],  # [L, ceil(V / 64)] out: bit v of row l set when vertex v >= 1 has label l
) -> None:
    """For every label, the bit set of the vertices (origin excluded) that carry it."""
    index[:, :] = 0
    for v in range(1, tight.shape[0]):
        bit = _ONE << (np.uint64(v) & _LOW6)
        for lab in range(index.shape[0]):
            if _has_at(tight, v, 0, lab):
                index[lab, v >> 6] |= bit


@numba.njit(cache=True, nogil=True)
def cover_match_kernel(
    tight_p: NDArray[np.uint64],  # [VP, W] tight labels of P's vertices (vertex 0 the origin)
    index_q: NDArray[np.uint64],  # [L, WQ] label_index_kernel of Q's vertices
    start: int,  # first vertex of P to scan (>= 1)
    stop: int,  # one past the last vertex of P to scan
    pairs: NDArray[np.int64],  # [cap, 2] out: (vertex of P, vertex of Q) of every equilibrium
) -> int:
    """Vertex pairs whose tight labels together cover every label (any polytopes).

    For each vertex of ``P`` in ``start .. stop - 1``, the vertices of ``Q`` that carry every
    label missing at it are the intersection of those labels' rows of ``index_q``: a few word
    operations per label instead of a test per pair.

    Returns:
        The number of pairs, or ``OVERFLOW`` if more than ``cap``.
    """
    n_labels, n_blocks = index_q.shape
    acc = np.empty(n_blocks, dtype=np.uint64)
    count = 0
    for i in range(start, stop):
        for w in range(n_blocks):
            acc[w] = ~np.uint64(0)
        acc[0] &= ~_ONE  # not Q's origin
        alive = True
        for lab in range(n_labels):
            if _has_at(tight_p, i, 0, lab):
                continue
            alive = False
            for w in range(n_blocks):
                acc[w] &= index_q[lab, w]
                if acc[w] != 0:
                    alive = True
            if not alive:
                break
        if not alive:
            continue
        for w in range(n_blocks):
            word = acc[w]
            while word != 0:
                low = word & (~word + _ONE)  # the lowest set bit
                j = w * 64 + _bit_position(low)
                word ^= low
                if count == pairs.shape[0]:
                    return OVERFLOW
                pairs[count, 0] = i
                pairs[count, 1] = j
                count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _bit_position(single: np.uint64) -> int:
    """Index of the only set bit of ``single``."""
    pos = 0
    while single > _ONE:
        single >>= _ONE
        pos += 1
    return pos


def cover_match_numpy(
    tight_p: NDArray[np.uint64],  # [VP, W]
    tight_q: NDArray[np.uint64],  # [VQ, W]
    full: NDArray[np.uint64],  # [W]
) -> NDArray[np.int64]:
    """Twin of :func:`cover_match_kernel` over all of ``P`` by broadcasting; ``[E, 2]`` pairs."""
    union = tight_p[1:, None, :] | tight_q[None, 1:, :]  # [VP - 1, VQ - 1, W]
    hit = np.all(union == full[None, None, :], axis=2)  # [VP - 1, VQ - 1]
    return (np.argwhere(hit) + 1).astype(np.int64).reshape(-1, 2)


# --------------------------------------------------------------------------------------------
# Driving the kernels: buffers, chunks and deadlines
# --------------------------------------------------------------------------------------------


def _table_rows(n_keys: int) -> int:
    """A power of two at least twice ``n_keys`` (load factor at most one half)."""
    return 1 << int(2 * max(n_keys, 1) - 1).bit_length()


class _Walk:
    """One polytope's resumable vertex search: its kernel state and output buffers.

    The buffers start at ``capacity`` bases and grow fourfold, with the search going on where
    it stopped, until they fit or ``max_vertices`` is reached.
    """

    def __init__(
        self,
        cmat: NDArray[np.float64],  # [k, d]
        labels: NDArray[np.int64],  # [d + k]
        tol: float,
        refactor_every: int,
        max_vertices: int,
        capacity: int,
    ) -> None:
        k, d = cmat.shape
        self.cmat, self.labels = cmat, labels
        self.tol, self.refactor_every, self.max_vertices = tol, refactor_every, max_vertices
        self.n_words = (d + k + 63) // 64
        self.tab = np.empty((d + 1, k))  # [d + 1, k]
        self.work = np.empty((k, k + d + 1))  # [k, k + d + 1]
        self.dic = np.empty((3, d + k), dtype=np.int64)  # [3, d + k]
        self.budget = _FIRST_BUDGET
        self.status = PAUSED
        self.cap = max(1, min(max_vertices, capacity))
        self.table = np.empty((_table_rows(self.cap), 2 * self.n_words), dtype=np.uint64)  # [H, 2W]
        self.stack = np.empty((self.cap, 4), dtype=np.int64)  # [cap, 4]
        self.masks = np.empty((self.cap, self.n_words), dtype=np.uint64)  # [cap, W]
        self.tight = np.empty((self.cap, self.n_words), dtype=np.uint64)  # [cap, W]
        self.state = np.zeros(4, dtype=np.int64)  # [4]

    def _grow(self) -> None:
        """Fourfold buffers holding everything found so far; the search resumes where it stopped."""
        cap = min(self.max_vertices, self.cap * 4)
        count = self.count
        table = np.empty((_table_rows(cap), self.table.shape[1]), dtype=np.uint64)
        grow_kernel(self.table, table, self.stack, int(self.state[1]))
        self.table = table
        for name in ("stack", "masks", "tight"):
            old = getattr(self, name)
            new = np.empty((cap, old.shape[1]), dtype=old.dtype)
            new[:count] = old[:count]
            setattr(self, name, new)
        self.cap = cap

    @property
    def count(self) -> int:
        """Bases found so far (the origin included)."""
        return int(self.state[0])

    @property
    def degenerate(self) -> bool:
        """Whether a degenerate vertex has been seen."""
        return bool(self.state[3] & 2)

    def advance(self, seconds: float | None = None) -> int:
        """Run one chunk (about ``seconds`` long, or to the end when None); returns the status."""
        budget = self.budget if seconds is not None else np.iinfo(np.int64).max
        start = time.perf_counter()
        status = int(
            polytope_vertices_kernel(
                self.cmat, self.labels, self.tol, self.refactor_every, budget, self.tab, self.work,
                self.dic, self.table, self.stack, self.masks, self.tight, self.state,
            )
        )  # fmt: skip
        if seconds is not None and status == PAUSED:  # a full chunk: aim the next at ``seconds``
            spent = max(time.perf_counter() - start, 1e-6)
            self.budget = int(min(max(self.budget * min(seconds / spent, 4.0), 64), 1 << 40))
        if status == OVERFLOW and self.cap < self.max_vertices:
            self._grow()
            status = PAUSED
        self.status = status
        return status


def _vertices(
    cmat: NDArray[np.float64],  # [k, d]
    labels: NDArray[np.int64],  # [d + k]
    tol: float,
    refactor_every: int,
    max_vertices: int,
    initial_capacity: int = 256,
) -> tuple[int, NDArray[np.uint64], NDArray[np.uint64]]:
    """Run one polytope's search to the end, growing its buffers until they fit.

    Returns:
        ``(status, masks [V, W], tight [V, W])``: the number of bases (or ``OVERFLOW``), and the
        nonbasic and tight labels of each basis.
    """
    walk = _Walk(cmat, labels, tol, refactor_every, max_vertices, initial_capacity)
    while walk.advance() == PAUSED:
        pass
    return walk.status, walk.masks[: walk.count], walk.tight[: walk.count]


def _walk_polytopes(
    walks: list[_Walk],
    deadline: float | None,
    parallel: bool,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Advance both searches until they end or ``deadline`` (``perf_counter`` seconds) passes.

    Without a deadline or progress callback each search runs in one call. Otherwise the calls
    last about ``_CHUNK_SECONDS`` and alternate between the two polytopes, so a search stopped
    by the deadline has found vertices of both.
    """
    chunked = deadline is not None or on_progress is not None
    seconds = _CHUNK_SECONDS if chunked else None

    def finish(walk: _Walk) -> None:
        while walk.advance(seconds) == PAUSED:
            if deadline is not None and time.perf_counter() >= deadline:
                return

    if parallel:
        errors: list[BaseException] = []

        def helper_run() -> None:
            try:
                finish(walks[1])
            except BaseException as exc:  # re-raised in the calling thread
                errors.append(exc)

        helper = threading.Thread(target=helper_run, name="enumerate-Q")
        helper.start()
        try:
            finish(walks[0])
        finally:
            helper.join()
        if errors:
            raise errors[0]
        if on_progress is not None:
            on_progress(walks[0].count, walks[1].count)
        return
    while True:
        active = [w for w in walks if w.status == PAUSED]
        if not active:
            return
        for walk in active:
            walk.advance(seconds)
        if on_progress is not None:
            on_progress(walks[0].count, walks[1].count)
        if deadline is not None and time.perf_counter() >= deadline:
            return


def _bits(masks: NDArray[np.uint64], n_labels: int) -> NDArray[np.bool_]:
    """``[V, L]`` booleans: label ``l`` is set in mask ``v``."""
    labs = np.arange(n_labels)
    return ((masks[:, labs >> 6] >> (labs & 63).astype(np.uint64)) & _ONE).astype(bool)


@numba.njit(cache=True, nogil=True)
def distinct_kernel(
    masks: NDArray[np.uint64],  # [B, W] nonbasic labels of every basis
    tight: NDArray[np.uint64],  # [B, W] tight labels of every basis (never all zero)
    table: NDArray[np.uint64],  # [H, W] scratch hash table, H a power of two >= 2 B
    first: NDArray[np.int64],  # [B] out: the first basis of each vertex, in the order visited
) -> int:
    """One basis per vertex (the first visited); returns the number of vertices.

    A basis whose tight labels are its nonbasic ones (no basic variable at zero) is the only
    basis of its simple vertex; the others are grouped by their tight labels in a hash table.
    """
    n_words = tight.shape[1]
    table[:, :] = 0
    count = 0
    for row in range(tight.shape[0]):
        simple = True
        for w in range(n_words):
            if tight[row, w] != masks[row, w]:
                simple = False
        if not simple:
            slot = _slot(table, tight[row])
            for w in range(n_words):
                if table[slot, w] != 0:
                    simple = True  # seen: the slot holds this very key
            if simple:
                continue
            for w in range(n_words):
                table[slot, w] = tight[row, w]
        first[count] = row
        count += 1
    return count


def _distinct_vertices(walk: _Walk) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """One basis per vertex: ``(masks [V, W], tight [V, W])`` in the order first visited."""
    masks, tight = walk.masks[: walk.count], walk.tight[: walk.count]
    if not walk.degenerate:
        return masks, tight
    first = np.empty(tight.shape[0], dtype=np.int64)  # [B]
    table = np.empty((_table_rows(tight.shape[0]), tight.shape[1]), dtype=np.uint64)  # [H, W]
    count = distinct_kernel(masks, tight, table, first)
    return masks[first[:count]], tight[first[:count]]  # the origin (basis 0) first


def _pairs(
    found: list[tuple[NDArray[np.uint64], NDArray[np.uint64]]],
    n_labels: int,
    degenerate: bool,
    deadline: float | None,
) -> tuple[NDArray[np.int64], bool]:
    """Completely labeled vertex pairs ``[E, 2]``, and whether every pair was checked in time."""
    (masks_p, tight_p), (masks_q, tight_q) = found
    if not degenerate:
        n_words = masks_p.shape[1]
        full = np.full(n_words, ~np.uint64(0), dtype=np.uint64)  # [W] all m + n labels
        if n_labels % 64:
            full[-1] = (np.uint64(1) << np.uint64(n_labels % 64)) - _ONE
        table = np.empty((_table_rows(masks_q.shape[0]), n_words + 1), dtype=np.uint64)
        pairs = np.empty((min(masks_p.shape[0], masks_q.shape[0]), 2), dtype=np.int64)  # [cap, 2]
        count = int(match_kernel(masks_p, masks_q, full, table, pairs))
        return pairs[:count], True
    vp, vq = tight_p.shape[0], tight_q.shape[0]
    index_q = np.empty((n_labels, (vq + 63) // 64), dtype=np.uint64)  # [L, WQ]
    label_index_kernel(tight_q, index_q)
    rows = max(1, (1 << 20) // max(n_labels * index_q.shape[1], 1))  # P vertices per kernel call
    chunks: list[NDArray[np.int64]] = []
    pairs = np.empty((max(16, vp + vq), 2), dtype=np.int64)  # [cap, 2]
    start = 1
    while start < vp:
        stop = min(vp, start + rows)
        count = int(cover_match_kernel(tight_p, index_q, start, stop, pairs))
        if count == OVERFLOW:
            pairs = np.empty((pairs.shape[0] * 8, 2), dtype=np.int64)
            continue
        chunks.append(pairs[:count].copy())
        start = stop
        if deadline is not None and start < vp and time.perf_counter() >= deadline:
            return np.concatenate(chunks), False
    return (np.concatenate(chunks) if chunks else np.zeros((0, 2), dtype=np.int64)), True


def _solve_support(
    mat: NDArray[np.float64],  # [s, s] restricted payoff matrix (rows: equations)
) -> NDArray[np.float64]:
    """Solve ``mat @ v = 1`` (square, nonsingular by construction)."""
    return np.asarray(np.linalg.solve(mat, np.ones(mat.shape[0])), dtype=np.float64)


@numba.njit(cache=True, nogil=True)
def vertex_points_kernel(
    cmat: NDArray[np.float64],  # [k, d] constraint matrix of {z >= 0 : C z <= 1} (normalized payoffs)
    labels: NDArray[np.int64],  # [d + k] label of every variable (z first, then slacks)
    masks: NDArray[np.uint64],  # [V, W] nonbasic labels of one basis per vertex
    tight: NDArray[np.uint64],  # [V, W] tight labels of each vertex
    which: NDArray[np.int64],  # [U] the vertices wanted
    out: NDArray[np.float64],  # [U, d] out: each vertex scaled to a probability vector
    failed: NDArray[np.uint8],  # [U] out: 1 where the basis system is singular or its solution negative
) -> int:
    """The points of the vertices ``which``, re-solved from ``C`` and scaled to sum to one.

    The basic z-variables of a vertex's basis solve ``C[T, Z] z_Z = 1`` (``T`` the rows whose
    slack is nonbasic); variables with a tight label are set to exactly zero. Gaussian elimination
    with partial pivoting, ``O(s^3)`` for support size ``s``.

    Returns:
        The number of failed vertices.
    """
    k, d = cmat.shape
    size = min(k, d)
    zs = np.empty(size, dtype=np.int64)
    ts = np.empty(size, dtype=np.int64)
    mat = np.empty((size, size + 1), dtype=np.float64)
    n_failed = 0
    for u in range(which.shape[0]):
        vertex = which[u]
        s = 0
        t = 0
        for v in range(d):
            if not _has_at(masks, vertex, 0, labels[v]):
                zs[s] = v
                s += 1
        for j in range(k):
            if _has_at(masks, vertex, 0, labels[d + j]):
                ts[t] = j
                t += 1
        failed[u] = 0
        for v in range(d):
            out[u, v] = 0.0
        if s != t or s == 0:
            failed[u] = 1
            n_failed += 1
            continue
        for r in range(s):
            for q in range(s):
                mat[r, q] = cmat[ts[r], zs[q]]
            mat[r, s] = 1.0
        singular = False
        for q in range(s):
            best = q
            best_abs = abs(mat[q, q])
            for r in range(q + 1, s):
                if abs(mat[r, q]) > best_abs:
                    best, best_abs = r, abs(mat[r, q])
            if best_abs < 1e-300:
                singular = True
                break
            if best != q:
                for j in range(q, s + 1):
                    tmp = mat[q, j]
                    mat[q, j] = mat[best, j]
                    mat[best, j] = tmp
            for r in range(q + 1, s):
                f = mat[r, q] / mat[q, q]
                if f != 0.0:
                    for j in range(q, s + 1):
                        mat[r, j] -= f * mat[q, j]
        if singular:
            failed[u] = 1
            n_failed += 1
            continue
        total = 0.0
        low = 0.0
        for q in range(s - 1, -1, -1):
            acc = mat[q, s]
            for j in range(q + 1, s):
                acc -= mat[q, j] * out[u, zs[j]]
            value = acc / mat[q, q]
            out[u, zs[q]] = value
        for q in range(s):
            v = zs[q]
            if _has_at(tight, vertex, 0, labels[v]):
                out[u, v] = 0.0
            value = out[u, v]
            if not np.isfinite(value):
                low = -np.inf
            low = min(low, value)
            if value > 0.0:
                total += value
            else:
                out[u, v] = 0.0
        if low < -1e-9 or not total > 0.0:
            failed[u] = 1
            n_failed += 1
            continue
        for q in range(s):
            out[u, zs[q]] /= total
    return n_failed


def vertex_points_numpy(
    cmat: NDArray[np.float64],  # [k, d]
    labels: NDArray[np.int64],  # [d + k]
    masks: NDArray[np.uint64],  # [V, W]
    tight: NDArray[np.uint64],  # [V, W]
    which: NDArray[np.int64],  # [U]
) -> tuple[NDArray[np.float64], NDArray[np.uint8]]:
    """Twin of :func:`vertex_points_kernel` with ``numpy.linalg.solve``; ``(out [U, d], failed [U])``."""
    k, d = cmat.shape
    nonbasic = _bits(masks[which], d + k)[:, labels]  # [U, d + k] by variable
    zero = _bits(tight[which], d + k)[:, labels[:d]]  # [U, d]
    out = np.zeros((which.shape[0], d))
    failed = np.zeros(which.shape[0], dtype=np.uint8)
    for u in range(which.shape[0]):
        basic = np.flatnonzero(~nonbasic[u, :d])
        rows = np.flatnonzero(nonbasic[u, d:])
        try:
            out[u, basic] = np.linalg.solve(cmat[np.ix_(rows, basic)], np.ones(basic.size))
        except np.linalg.LinAlgError:
            failed[u] = 1
            continue
        out[u, zero[u]] = 0.0
        if not np.all(np.isfinite(out[u])) or out[u].min() < -1e-9 or out[u].sum() <= 0.0:
            failed[u] = 1
            out[u] = 0.0
            continue
        out[u] = np.clip(out[u], 0.0, None)
        out[u] /= out[u].sum()
    return out, failed


def _strategies_of(
    player: int,
    polytope: tuple[NDArray[np.float64], NDArray[np.int64]],
    masks: NDArray[np.uint64],  # [V, W] nonbasic labels of one basis per vertex
    tight: NDArray[np.uint64],  # [V, W] tight labels of each vertex
    which: NDArray[np.int64],  # [U] the vertices wanted
) -> dict[int, tuple[tuple[Any, ...], NDArray[np.float64]]]:
    """Strategies of the vertices ``which`` of player ``player``'s polytope, re-solved from payoffs.

    Returns:
        Per vertex, its sort key (support size, support, probabilities) and read-only strategy.

    Raises:
        UnsupportedGame: A basis system is singular or its solution clearly negative.
    """
    cmat, labels = polytope
    out = np.empty((which.shape[0], cmat.shape[1]))  # [U, d]
    failed = np.empty(which.shape[0], dtype=np.uint8)  # [U]
    if vertex_points_kernel(cmat, labels, masks, tight, which, out, failed):
        vertex = int(which[np.flatnonzero(failed)[0]])
        raise UnsupportedGame(
            f"vertex {vertex} of player {player}'s best-response polytope cannot be solved accurately "
            "in float64 (ill-conditioned basis system); the game is too close to degenerate"
        )
    out.setflags(write=False)
    return {int(v): (_strategy_key(out[u]), out[u]) for u, v in enumerate(which.tolist())}


def maximal_nash_subsets(
    pairs: list[tuple[int, int]] | NDArray[np.int64],
    deadline: float | None = None,
) -> tuple[list[tuple[tuple[int, ...], tuple[int, ...]]], bool]:
    """The maximal bicliques ``(rows, columns)`` of the bipartite graph with edges ``pairs``.

    A biclique is a pair of sets with every ``(row, column)`` an edge; maximal ones are the
    closed sets ``columns = common neighbours of rows``, ``rows = common neighbours of
    columns``. The closed column sets are the intersections of row neighbourhoods, built one
    row at a time; an isolated edge (both ends of degree one) is a biclique by itself.

    Args:
        pairs: ``[E, 2]`` edges (row index, column index).
        deadline: ``perf_counter`` seconds after which the listing stops.

    Returns:
        ``(subsets, complete)``: the maximal bicliques, each as two sorted index tuples, sorted;
        ``complete`` is False if the deadline stopped the listing.
    """
    edges = [(int(row), int(col)) for row, col in pairs]
    row_degree: dict[int, int] = {}
    col_degree: dict[int, int] = {}
    for row, col in edges:
        row_degree[row] = row_degree.get(row, 0) + 1
        col_degree[col] = col_degree.get(col, 0) + 1
    subsets: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    neighbours: dict[int, int] = {}  # rows of the edges that are not isolated: column bit sets
    for row, col in edges:
        if row_degree[row] == 1 and col_degree[col] == 1:  # an isolated equilibrium
            subsets.append(((row,), (col,)))
        else:
            neighbours[row] = neighbours.get(row, 0) | (1 << col)
    closed: set[int] = set()
    complete = True
    for step, cols in enumerate(neighbours.values()):
        if deadline is not None and step % 16 == 15 and time.perf_counter() >= deadline:
            complete = False
            break
        new = {cols}
        for other in closed:
            both = other & cols
            if both:
                new.add(both)
        closed |= new
    for cols in closed:
        rows = tuple(sorted(r for r, nb in neighbours.items() if nb & cols == cols))
        members = tuple(c for c in range(cols.bit_length()) if (cols >> c) & 1)
        subsets.append((rows, members))
    subsets.sort()
    return subsets, complete


def sort_key(profile: MixedProfile) -> tuple[Any, ...]:
    """Deterministic order: by support size, then supports, then probabilities."""
    supports = tuple(tuple(np.flatnonzero(s > 0).tolist()) for s in profile)
    return (max(len(s) for s in supports), supports, tuple(tuple(s.tolist()) for s in profile))


def _strategy_key(strategy: NDArray[np.float64]) -> tuple[Any, ...]:
    values = tuple(strategy.tolist())
    support = tuple(i for i, p in enumerate(values) if p > 0)
    return (len(support), support, values)


def _profile_key(row: tuple[Any, ...], col: tuple[Any, ...]) -> tuple[Any, ...]:
    """:func:`sort_key` of a profile from its strategies' :func:`_strategy_key`."""
    return (max(row[0], col[0]), (row[1], col[1]), (row[2], col[2]))


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


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


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtremeEquilibria:
    """The extreme Nash equilibria of a bimatrix game and its maximal Nash subsets.

    Attributes:
        equilibria: Every extreme equilibrium, sorted by support size, then supports, then
            probabilities.
        strategies: Per player, the distinct extreme strategies that occur in ``equilibria``,
            ``[X, m]`` and ``[Y, n]`` float64 (read-only), each sorted by support size, support,
            probabilities.
        pairs: ``[E, 2]`` int64 (read-only): row ``e`` holds the indices into ``strategies[0]``
            and ``strategies[1]`` of ``equilibria[e]``.
        nash_subsets: The maximal Nash subsets, sorted; each is ``(rows, columns)``, two sorted
            tuples of indices into ``strategies[0]`` and ``strategies[1]`` such that every
            ``(row, column)`` pair is an extreme equilibrium and no index can be added to either
            side. Every profile in ``conv(rows) x conv(columns)`` is an equilibrium; these
            products are the maximal convex sets of equilibria and cover the equilibrium set. A
            nondegenerate game has one subset per equilibrium, each ``((i,), (j,))``.
        complete: False when the time limit stopped the search; the fields then hold what was
            found (every listed equilibrium is exact, the lists may miss some).
        degenerate: Whether a best-response polytope has a vertex with more labels than its
            dimension (then ties in ratio tests were broken lexicographically).
        vertices: ``(VP, VQ)``, the numbers of vertices of ``P`` and ``Q`` found (origins
            included).
        bases: ``(BP, BQ)``, the numbers of lexicographically feasible bases visited (equal to
            ``vertices`` in nondegenerate games).
    """

    equilibria: tuple[MixedProfile, ...]
    strategies: tuple[NDArray[np.float64], NDArray[np.float64]]
    pairs: NDArray[np.int64]
    nash_subsets: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    complete: bool
    degenerate: bool
    vertices: tuple[int, int]
    bases: tuple[int, int]

    def extras(self) -> dict[str, Any]:
        """JSON-ready lists for :attr:`~gamesolve.run.SolveResult.extras`.

        Keys: ``equilibria`` (per equilibrium, per player, probabilities), ``extreme_strategies``
        (per player, the distinct extreme strategies), ``equilibrium_pairs`` (per equilibrium,
        its two indices into ``extreme_strategies``), ``nash_subsets`` (per maximal Nash subset,
        ``[rows, columns]`` index lists into ``extreme_strategies``), ``degenerate``,
        ``vertices`` and ``complete``.
        """
        return {
            "equilibria": [e.to_lists() for e in self.equilibria],
            "extreme_strategies": [[s.tolist() for s in self.strategies[k]] for k in range(2)],
            "equilibrium_pairs": self.pairs.tolist(),
            "nash_subsets": [[list(rows), list(cols)] for rows, cols in self.nash_subsets],
            "degenerate": self.degenerate,
            "vertices": list(self.vertices),
            "complete": self.complete,
        }


def extreme_equilibria(
    game: TensorGame,
    *,
    tol: float = 1e-9,
    refactor_every: int = 32,
    max_vertices: int = 5_000_000,
    parallel: bool = False,
    time_limit: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExtremeEquilibria:
    """Every extreme Nash equilibrium of a two-player game and its maximal Nash subsets.

    Enumerates the vertices of both best-response polytopes (lexicographic pivoting where the
    game is degenerate) and pairs those whose labels together are complete (von Stengel 2002,
    Handbook of Game Theory ch. 45; Avis, Rosenberg, Savani & von Stengel 2010). The extreme
    equilibria are the ones Gambit's ``enummixed`` lists. See the module docstring.

    Args:
        game: A two-player :class:`~gamesolve.normal_form.TensorGame`.
        tol: Tie and zero tolerance on the normalized polytopes (coordinates in ``[0, 1]``), in
            ``(0, 1e-3]``.
        refactor_every: Pivots between recomputations of the dictionary from its basis (>= 1).
        max_vertices: Give up (raise) when a polytope has more bases than this (>= 1).
        parallel: Enumerate the two polytopes in two threads (the kernels release the GIL), for
            games with at least 64 cells. Pays off only where two cores are really free.
        time_limit: Seconds allowed (None: no limit). The search stops between chunks of a few
            milliseconds and the result lists what was found, with ``complete=False``.
        on_progress: Called with the numbers of bases of ``P`` and ``Q`` found so far, after
            every chunk (chunks last about 20 ms when given).

    Returns:
        The equilibria, their extreme strategies and the maximal Nash subsets.

    Raises:
        InvalidArgumentError: An option is out of range.
        UnsupportedGame: Not a two-player game; a polytope has more than ``max_vertices`` bases;
            or a vertex cannot be solved accurately in float64.
    """
    tol = check_tolerance("tol", tol)
    refactor_every = check_int("refactor_every", refactor_every, minimum=1)
    max_vertices = check_int("max_vertices", max_vertices, minimum=1)
    parallel = check_bool("parallel", parallel)
    limit = check_time_limit(time_limit)
    started = time.perf_counter()
    deadline = None if limit is None else started + limit
    search_deadline = None if limit is None else started + 0.85 * limit
    a, b = normalized_matrices(game)
    m, n = a.shape
    both = polytopes(a, b)
    low, high = _FIRST_CAPACITY  # vertex counts grow about as 2^min(m, n); the buffers grow fourfold
    capacity = min(high, max(low, 1 << min(min(m, n) + 2, 30)))
    walks = [_Walk(c, lab, tol, refactor_every, max_vertices, capacity) for c, lab in both]
    _walk_polytopes(walks, search_deadline, parallel and m * n >= _PARALLEL_MIN_CELLS, on_progress)
    complete = True
    for player, walk in enumerate(walks):
        if walk.status == OVERFLOW:
            raise UnsupportedGame(
                f"the best-response polytope of player {player} has more than {max_vertices} bases; "
                "raise max_vertices or use gamesolve.solvers.lemke_howson for one equilibrium"
            )
        if walk.status == UNBOUNDED:
            raise UnsupportedGame(
                f"vertex enumeration hit an unbounded ratio test on player {player}'s polytope "
                "(numerical trouble: payoffs too close to degenerate for float64)"
            )
        complete &= walk.status >= 0
    degenerate = walks[0].degenerate or walks[1].degenerate
    found = [_distinct_vertices(walk) for walk in walks]
    log.debug(
        "vertex enumeration: %d vertices (%d bases) of P, %d (%d) of Q%s",
        found[0][0].shape[0], walks[0].count, found[1][0].shape[0], walks[1].count,
        ", degenerate" if degenerate else "",
    )  # fmt: skip
    pairs, matched_all = _pairs(found, m + n, degenerate, deadline)
    complete &= matched_all
    solved = [
        _strategies_of(k, both[k], *found[k], np.unique(pairs[:, k])) for k in range(2)
    ]  # vertex -> (sort key, read-only strategy)
    listed = pairs.tolist()
    orders: list[dict[int, int]] = []  # per player: vertex -> index among sorted extreme strategies
    for k in range(2):
        keyed = solved[k]
        used = sorted({pair[k] for pair in listed}, key=lambda v: keyed[v][0])
        orders.append({v: i for i, v in enumerate(used)})
    strategies = tuple(
        _readonly(np.array([solved[k][v][1] for v in orders[k]]).reshape(len(orders[k]), (m, n)[k]))
        for k in range(2)
    )
    keys = [[solved[k][v][0] for v in orders[k]] for k in range(2)]
    indexed = [(orders[0][u], orders[1][v]) for u, v in listed]
    indexed.sort(key=lambda e: _profile_key(keys[0][e[0]], keys[1][e[1]]))
    rows, cols = list(strategies[0]), list(strategies[1])  # read-only views, shared by the profiles
    profiles = tuple(MixedProfile((rows[i], cols[j])) for i, j in indexed)
    subsets, listed_all = maximal_nash_subsets(indexed, deadline)
    complete &= listed_all
    if not complete:
        log.info("vertex enumeration stopped by the time limit of %g s", limit)
    return ExtremeEquilibria(
        equilibria=profiles,
        strategies=(strategies[0], strategies[1]),
        pairs=_readonly(np.array(indexed, dtype=np.int64).reshape(-1, 2)),
        nash_subsets=tuple(subsets),
        complete=complete,
        degenerate=degenerate,
        vertices=(int(found[0][0].shape[0]), int(found[1][0].shape[0])),
        bases=(walks[0].count, walks[1].count),
    )


def enumerate_equilibria(
    game: TensorGame,
    *,
    tol: float = 1e-9,
    refactor_every: int = 32,
    max_vertices: int = 5_000_000,
    parallel: bool = False,
) -> list[MixedProfile]:
    """Every extreme Nash equilibrium of a two-player game (vertex enumeration).

    :func:`extreme_equilibria` without a time limit, returning only the equilibria. In a
    nondegenerate game these are all its equilibria, an odd number; in a degenerate game every
    equilibrium is a convex combination of extreme ones (see
    :attr:`ExtremeEquilibria.nash_subsets`).

    Args:
        game: A two-player :class:`~gamesolve.normal_form.TensorGame`.
        tol: Tie and zero tolerance on the normalized polytopes, in ``(0, 1e-3]``.
        refactor_every: Pivots between recomputations of the dictionary from its basis.
        max_vertices: Give up (raise) when a polytope has more bases than this.
        parallel: Enumerate the two polytopes in two threads, for games with at least 64 cells.

    Returns:
        Every extreme equilibrium, sorted by support size, then supports, then probabilities.

    Raises:
        InvalidArgumentError: An option is out of range.
        UnsupportedGame: Not a two-player game; a polytope has more than ``max_vertices`` bases;
            or a vertex cannot be solved accurately in float64.
    """
    found = extreme_equilibria(
        game, tol=tol, refactor_every=refactor_every, max_vertices=max_vertices, parallel=parallel
    )
    return list(found.equilibria)
