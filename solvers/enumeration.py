"""All Nash equilibria of a nondegenerate bimatrix game, by vertex enumeration.

Method (von Stengel 2002, "Computing equilibria for two-person games", Handbook of Game Theory
vol. 3, ch. 45, on best-response polytopes and equilibrium enumeration; Avis, Rosenberg, Savani &
von Stengel 2010, "Enumeration of Nash equilibria for two-player games", Economic Theory 42):
with both payoff matrices made positive (each by a positive affine map, which keeps the
equilibria), the best-response polytopes are

* ``P = {x in R^m : x >= 0, B^T x <= 1}``, with label ``i`` where ``x_i = 0`` and label ``m + j``
  where ``(B^T x)_j = 1`` (column ``j`` is a best response to ``x``);
* ``Q = {y in R^n : A y <= 1, y >= 0}``, with label ``i`` where ``(A y)_i = 1`` and label ``m + j``
  where ``y_j = 0``.

``(x, y)`` rescaled to probability vectors is a Nash equilibrium exactly when ``(x, y) != (0, 0)``
is a vertex pair that is *completely labeled*: every label ``0 .. m + n - 1`` appears at ``x`` or
at ``y``. In a nondegenerate game a vertex of ``P`` has exactly ``m`` labels and one of ``Q``
exactly ``n``, so the partner of a vertex of ``P`` is the vertex of ``Q`` whose label set is the
complement, and matching is a hash look-up.

Vertices are listed by a depth-first search of each polytope's vertex graph in dictionary form
(one simplex pivot per edge): from every vertex, each of its ``d`` nonbasic variables is tried as
entering variable; the minimum-ratio test names the neighbour, whose tight-label bit mask (the
nonbasic variables) is looked up in an open-addressing hash table and visited if new. Going back
up the search tree pivots back. Every ``refactor_every`` pivots the dictionary is recomputed from
its basis by Gauss-Jordan elimination with partial pivoting, so float rounding cannot drift along
long walks. lrs (the reverse search of Avis and Fukuda used by lrsnash) needs no table but several
pivots per vertex; with the table each vertex costs about two pivots.

Degeneracy. A game is nondegenerate when no mixed strategy with support size ``k`` has more than
``k`` pure best responses; this is the case exactly when every vertex of ``P`` and ``Q`` is simple
(all basic variables positive). A tie in a ratio test means that the neighbour is a point with
more than ``d`` labels, and since the vertex graph of a polytope is connected, a degenerate
polytope always shows such a tie during the search. The search stops at the first one and
:func:`enumerate_equilibria` raises :class:`~gamesolve.errors.UnsupportedGame` naming the
strategy and its best responses. Ties are judged with an absolute tolerance ``tol`` on the
normalized polytopes (payoffs mapped into ``[1, 2]``, so all coordinates lie in ``[0, 1]``):
games within ``tol`` of a degenerate one are reported as (numerically) degenerate, never solved
on a guess.

Every kernel (``@numba.njit(cache=True)``) takes only arrays and scalars and writes into
preallocated outputs; ``*_numpy`` twins compute the same thing another way (brute force over all
bases with batched solves, and a Python dict) and exist for the tests.

>>> import gamesolve
>>> from solvers.enumeration import enumerate_equilibria
>>> bos = gamesolve.bimatrix([[3, 0], [0, 2]], [[2, 0], [0, 3]])
>>> [[p.round(3).tolist() for p in eq] for eq in enumerate_equilibria(bos)]
[[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]], [[0.6, 0.4], [0.4, 0.6]]]
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame

__all__ = [
    "DEGENERATE",
    "OVERFLOW",
    "UNBOUNDED",
    "enumerate_equilibria",
    "match_kernel",
    "match_numpy",
    "normalized_matrices",
    "polytope_vertices_kernel",
    "polytope_vertices_numpy",
    "polytopes",
    "profile_from_supports",
    "sort_key",
]

log = logging.getLogger(__name__)

#: Kernel status codes (non-negative returns are counts).
OVERFLOW = -1
DEGENERATE = -2
UNBOUNDED = -3

_PARALLEL_MIN_CELLS = 64  # smaller games run both polytopes in the calling thread
_EPS_COLUMN = 1e-13  # tableau entries at most this are treated as non-positive in ratio tests
_HASH_MUL1 = np.uint64(0x9E3779B97F4A7C15)
_HASH_MUL2 = np.uint64(0xBF58476D1CE4E5B9)
_SHIFT = np.uint64(31)
_ONE = np.uint64(1)
_LOW6 = np.uint64(63)


# --------------------------------------------------------------------------------------------
# Polytopes
# --------------------------------------------------------------------------------------------


def normalized_matrices(game: TensorGame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both payoff matrices mapped affinely into ``[1, 2]`` (equilibria unchanged).

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
# (ratio test) and each row of the pivot update are contiguous.
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
        if t > _EPS_COLUMN:
            num = tab[d, r]
            if p < 0 or num * best_den < best_num * t:
                p, best_num, best_den = r, num, t
    return p


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
    tol: float,  # basic values at most tol count as zero (degeneracy)
    refactor_every: int,  # recompute the dictionary from its basis after this many pivots
    tab: NDArray[np.float64],  # [d + 1, k] scratch: the current dictionary (transposed)
    work: NDArray[np.float64],  # [k, k + d + 1] scratch for refactorization
    table: NDArray[np.uint64],  # [H, 2W] scratch hash table (key, edges tried), H = 2^h >= 2 cap
    stack: NDArray[np.int64],  # [cap, 4] scratch: next column, arrival row and column, table row
    masks: NDArray[np.uint64],  # [cap, W] out: bit mask of the labels of every vertex
    bad: NDArray[np.uint8],  # [L] out: labels of a point with too many labels (on DEGENERATE)
) -> int:
    """All vertices of a simple polytope by depth-first search of its vertex graph.

    Vertex 0 is the origin. The mask of a vertex has bit ``labels[v]`` set for every nonbasic
    (zero) variable ``v``, that is for every tight constraint. Each edge is ratio-tested once:
    in an undirected depth-first search every non-tree edge joins a vertex to an ancestor still
    on the stack, so finding the edge from below marks it as tried at the ancestor.

    Returns:
        The number of vertices, or ``OVERFLOW`` (more than ``cap`` vertices), ``DEGENERATE`` (a
        ratio-test tie: ``bad`` then flags the labels of a point with more than ``d`` labels) or
        ``UNBOUNDED`` (an edge without end; impossible for positive ``C``).
    """
    k, d = cmat.shape
    cap = masks.shape[0]
    n_words = masks.shape[1]
    basis = np.empty(k, dtype=np.int64)
    nonbasis = np.empty(d, dtype=np.int64)
    where = np.empty(d + k, dtype=np.int64)
    colc = np.empty(k, dtype=np.float64)
    current = np.zeros(n_words, dtype=np.uint64)
    key = np.empty(n_words, dtype=np.uint64)
    table[:, :] = 0
    if cap < 1:
        return OVERFLOW
    _initial_dictionary(cmat, tab, basis, nonbasis, where)
    for c in range(d):
        _flip(current, labels[c])
    slot = _slot(table, current)
    table[slot, :n_words] = current
    masks[0, :] = current
    count = 1
    depth = 0
    stack[0, 0] = 0
    stack[0, 3] = slot
    since_refactor = 0
    while True:
        c = stack[depth, 0]
        here = stack[depth, 3]
        if c == d:  # every edge of this vertex tried: go back to the parent
            if depth == 0:
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
        p = _min_ratio(tab, c)
        if p < 0:
            return UNBOUNDED
        theta = tab[d, p] / tab[c, p]
        tie = theta <= tol
        for r in range(k):
            if r != p and tab[c, r] > _EPS_COLUMN and tab[d, r] - tab[c, r] * theta <= tol:
                tie = True
        if tie:
            bad[:] = 0
            for j in range(d):
                if j != c:
                    bad[labels[nonbasis[j]]] = 1
            for r in range(k):
                if tab[d, r] - tab[c, r] * theta <= tol:
                    bad[labels[basis[r]]] = 1
            return DEGENERATE
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
        if count == cap:
            return OVERFLOW
        _pivot(tab, basis, nonbasis, where, colc, p, c)
        since_refactor += 1
        if since_refactor >= refactor_every:
            _refactor(cmat, basis, nonbasis, tab, work)
            since_refactor = 0
        for w in range(n_words):
            current[w] = key[w]
            masks[count, w] = key[w]
            table[slot, w] = key[w]
        _flip_at(table, slot, n_words, leaving_label)
        count += 1
        depth += 1
        stack[depth, 0] = 0
        stack[depth, 1] = p
        stack[depth, 2] = c
        stack[depth, 3] = slot
    return count


def polytope_vertices_numpy(
    cmat: NDArray[np.float64],  # [k, d]
    labels: NDArray[np.int64],  # [d + k]
    tol: float,
) -> tuple[int, NDArray[np.uint64], NDArray[np.float64]]:
    """Twin of :func:`polytope_vertices_kernel` by brute force over every basis.

    Solves all ``C(d + k, k)`` basis systems in one batched call and keeps the feasible
    solutions. Exponential; for tests on small polytopes only.

    Returns:
        ``(status, masks [V, W], points [V, d])``: ``status`` is the vertex count, or
        ``DEGENERATE`` when a feasible basic solution has a basic value at most ``tol``. The
        origin comes first; the other vertices follow in no particular order.
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
    if np.any(sol <= tol):
        return DEGENERATE, np.zeros((0, n_words), np.uint64), np.zeros((0, d))
    values = np.zeros((bases.shape[0], n_vars))  # [V, d + k]
    np.put_along_axis(values, bases, sol, axis=1)
    masks = np.zeros((bases.shape[0], n_words), dtype=np.uint64)  # [V, W]
    for v in range(n_vars):
        tight = values[:, v] == 0.0
        word, bit = divmod(int(labels[v]), 64)
        masks[tight, word] |= np.uint64(1) << np.uint64(bit)
    points = values[:, :d]  # [V, d]
    order = np.argsort(np.abs(points).sum(axis=1), kind="stable")  # the origin first
    return int(bases.shape[0]), masks[order], np.ascontiguousarray(points[order])


# --------------------------------------------------------------------------------------------
# Matching kernel and its twin
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


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _labels_of(mask: NDArray[np.uint64], n_labels: int) -> list[int]:
    return [lab for lab in range(n_labels) if (int(mask[lab >> 6]) >> (lab & 63)) & 1]


def _vertices(
    cmat: NDArray[np.float64],  # [k, d]
    labels: NDArray[np.int64],  # [d + k]
    tol: float,
    refactor_every: int,
    max_vertices: int,
    initial_capacity: int = 1 << 14,
) -> tuple[int, NDArray[np.uint64], NDArray[np.uint8]]:
    """Run the vertex kernel, growing its buffers (eightfold) until they fit."""
    k, d = cmat.shape
    n_labels = d + k
    n_words = (n_labels + 63) // 64
    tab = np.empty((d + 1, k))
    work = np.empty((k, k + d + 1))
    bad = np.zeros(n_labels, dtype=np.uint8)
    cap = max(1, min(max_vertices, initial_capacity))
    while True:
        table = np.empty((_table_rows(cap), 2 * n_words), dtype=np.uint64)
        stack = np.empty((cap, 4), dtype=np.int64)
        masks = np.empty((cap, n_words), dtype=np.uint64)
        status = int(
            polytope_vertices_kernel(cmat, labels, tol, refactor_every, tab, work, table, stack, masks, bad)
        )
        if status != OVERFLOW:
            return status, masks[: max(status, 0)], bad
        if cap >= max_vertices:
            return status, masks[:0], bad
        cap = min(max_vertices, cap * 8)


def _table_rows(n_keys: int) -> int:
    """A power of two at least twice ``n_keys`` (load factor at most one half)."""
    return 1 << int(2 * max(n_keys, 1) - 1).bit_length()


def _degeneracy_message(player: int, bad: NDArray[np.uint8], m: int, n: int) -> str:
    flagged = np.flatnonzero(bad).tolist()
    if player == 0:
        support = [i for i in range(m) if i not in flagged]
        responses = [lab - m for lab in flagged if lab >= m]
        other = 1
    else:
        support = [lab - m for lab in range(m, m + n) if lab not in flagged]
        responses = [lab for lab in flagged if lab < m]
        other = 0
    return (
        f"the game is degenerate: a mixed strategy of player {player} with support {support} "
        f"({len(support)} actions) has {len(responses)} pure best responses {responses} of player "
        f"{other}; vertex enumeration handles nondegenerate games only (perturb the payoffs, or "
        "use solvers.lemke_howson for one equilibrium)"
    )


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


def sort_key(profile: MixedProfile) -> tuple[Any, ...]:
    """Deterministic order: by support size, then supports, then probabilities."""
    supports = tuple(tuple(np.flatnonzero(s > 0).tolist()) for s in profile)
    return (max(len(s) for s in supports), supports, tuple(tuple(s.tolist()) for s in profile))


def enumerate_equilibria(
    game: TensorGame,
    *,
    tol: float = 1e-9,
    refactor_every: int = 32,
    max_vertices: int = 5_000_000,
    parallel: bool = False,
) -> list[MixedProfile]:
    """All Nash equilibria of a nondegenerate two-player game (vertex enumeration).

    Enumerates the vertices of both best-response polytopes and matches completely labeled
    pairs (von Stengel 2002, Handbook of Game Theory ch. 45; Avis, Rosenberg,
    Savani & von Stengel 2010). See the module docstring for the method.

    Args:
        game: A two-player :class:`~gamesolve.normal_form.TensorGame`.
        tol: Degeneracy tolerance on the normalized polytopes (coordinates in ``[0, 1]``).
        refactor_every: Pivots between recomputations of the dictionary from its basis.
        max_vertices: Give up (raise) when a polytope has more vertices than this.
        parallel: Enumerate the two polytopes in two threads (the kernels release the GIL), for
            games with at least 64 cells. Pays off only where two cores are really free.

    Returns:
        Every equilibrium, sorted by support size, then supports, then probabilities. A
        nondegenerate game has finitely many, an odd number.

    Raises:
        UnsupportedGame: Not a two-player game; the game is degenerate (the message names a
            mixed strategy with more pure best responses than its support size); or a polytope
            has more than ``max_vertices`` vertices.
    """
    a, b = normalized_matrices(game)
    m, n = a.shape
    both = polytopes(a, b)
    results: list[Any] = [None, None]

    def run(player: int) -> None:
        try:
            results[player] = _vertices(*both[player], tol, refactor_every, max_vertices)
        except BaseException as exc:  # re-raised in the calling thread
            results[player] = exc

    if parallel and m * n >= _PARALLEL_MIN_CELLS:
        helper = threading.Thread(target=run, args=(1,), name="enumerate-Q")
        helper.start()
        run(0)
        helper.join()
    else:
        run(0)
        run(1)
    found = []
    for player in range(2):
        if isinstance(results[player], BaseException):
            raise results[player]
        status, masks, bad = results[player]
        if status == DEGENERATE:
            raise UnsupportedGame(_degeneracy_message(player, bad, m, n))
        if status == OVERFLOW:
            raise UnsupportedGame(
                f"the best-response polytope of player {player} has more than {max_vertices} vertices; "
                "raise max_vertices or use solvers.lemke_howson for one equilibrium"
            )
        if status < 0:
            raise UnsupportedGame(f"vertex enumeration failed with status {status} on player {player}")
        found.append(masks)
    masks_p, masks_q = found
    log.debug("vertex enumeration: %d vertices of P, %d of Q", masks_p.shape[0], masks_q.shape[0])
    n_words = masks_p.shape[1]
    full = np.zeros(n_words, dtype=np.uint64)  # [W]
    for lab in range(m + n):
        full[lab >> 6] |= np.uint64(1) << np.uint64(lab & 63)
    table = np.empty((_table_rows(masks_q.shape[0]), n_words + 1), dtype=np.uint64)
    pairs = np.empty((min(masks_p.shape[0], masks_q.shape[0]), 2), dtype=np.int64)  # [cap, 2]
    count = int(match_kernel(masks_p, masks_q, full, table, pairs))
    out = []
    for i, j in pairs[:count]:
        labels_at_p = set(_labels_of(masks_p[i], m + n))
        labels_at_q = set(_labels_of(masks_q[j], m + n))
        rows_x = np.array([r for r in range(m) if r not in labels_at_p], dtype=np.int64)
        tight_cols = np.array([lab - m for lab in sorted(labels_at_p) if lab >= m], dtype=np.int64)
        cols_y = np.array([c for c in range(n) if m + c not in labels_at_q], dtype=np.int64)
        tight_rows = np.array([lab for lab in sorted(labels_at_q) if lab < m], dtype=np.int64)
        out.append(profile_from_supports(game, a, b, rows_x, tight_cols, cols_y, tight_rows))
    out.sort(key=sort_key)
    return out
