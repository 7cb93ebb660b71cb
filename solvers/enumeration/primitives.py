"""Numba primitives of the vertex search: the lexicographic simplex dictionary, label bit sets, hashing.

The dictionary pivots and the lexicographic ratio test (Dantzig, Orden & Wolfe 1955; Avis &
Fukuda 1992) that walk a best-response polytope's bases, the bit-set label masks of a basis, and
the open-addressing hash table in which the kernels of :mod:`gamesolve.solvers.enumeration`
record visited bases and group vertices. The kernels' status codes live here too.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "EPS_PIVOT",
    "OVERFLOW",
    "PAUSED",
    "UNBOUNDED",
    "flip",
    "flip_at",
    "has_at",
    "hash_slot",
    "initial_dictionary",
    "lex_tie_break",
    "min_ratio",
    "pivot",
    "refactor",
    "set_at",
    "table_rows",
]

#: Kernel status codes (non-negative returns are counts).
OVERFLOW = -1
PAUSED = -2
UNBOUNDED = -3

#: Tableau entries at most this are treated as non-positive in the vertex search's ratio tests
#: (degenerate vertices leave rounding noise).
EPS_PIVOT = 1e-9
_HASH_MUL1 = np.uint64(0x9E3779B97F4A7C15)
_HASH_MUL2 = np.uint64(0xBF58476D1CE4E5B9)
_SHIFT = np.uint64(31)
_ONE = np.uint64(1)
_LOW6 = np.uint64(63)


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
def initial_dictionary(
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
def pivot(
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
def refactor(
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
def min_ratio(
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
        if t > EPS_PIVOT:
            num = tab[d, r]
            if p < 0 or num * best_den < best_num * t:
                p, best_num, best_den = r, num, t
    return p


@numba.njit(cache=True, nogil=True)
def lex_tie_break(
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
        if t > EPS_PIVOT and tab[d, r] - t * theta <= tol:
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
def flip(words: NDArray[np.uint64], label: int) -> None:
    """Toggle ``label`` in the bit set ``words`` ``[W]``."""
    words[label >> 6] ^= _ONE << (np.uint64(label) & _LOW6)


@numba.njit(cache=True, nogil=True)
def flip_at(table: NDArray[np.uint64], row: int, offset: int, label: int) -> None:
    """Toggle ``label`` in the bit set stored at ``table[row, offset:]``."""
    table[row, offset + (label >> 6)] ^= _ONE << (np.uint64(label) & _LOW6)


@numba.njit(cache=True, nogil=True)
def set_at(table: NDArray[np.uint64], row: int, offset: int, label: int) -> None:
    """Add ``label`` to the bit set stored at ``table[row, offset:]``."""
    table[row, offset + (label >> 6)] |= _ONE << (np.uint64(label) & _LOW6)


@numba.njit(cache=True, nogil=True)
def has_at(table: NDArray[np.uint64], row: int, offset: int, label: int) -> bool:
    """Whether ``label`` is in the bit set stored at ``table[row, offset:]``."""
    return (table[row, offset + (label >> 6)] >> (np.uint64(label) & _LOW6)) & _ONE != 0


@numba.njit(cache=True, nogil=True)
def hash_slot(
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


def table_rows(n_keys: int) -> int:
    """A power of two at least twice ``n_keys`` (load factor at most one half)."""
    return 1 << int(2 * max(n_keys, 1) - 1).bit_length()
