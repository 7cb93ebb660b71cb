"""Pairing the vertices of the two polytopes into extreme equilibria, degenerate games included.

A pair of vertices is an extreme equilibrium when its labels together are complete (von
Stengel 2002). Nondegenerate games match nonbasic-label masks through a hash table
(:func:`match_kernel`); degenerate ones group bases into vertices by their tight labels
(:func:`distinct_kernel`) and match by label cover (:func:`cover_match_kernel`). The matched
vertices are then re-solved from the payoffs (:func:`vertex_points_kernel`). Every kernel has a
plain-numpy twin for the tests.
"""

from __future__ import annotations

import time
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import UnsupportedGame
from gamesolve.solvers.bimatrix import strategy_key
from gamesolve.solvers.enumeration.primitives import OVERFLOW, has_at, hash_slot, table_rows
from gamesolve.solvers.enumeration.vertices import VertexSearch

__all__ = [
    "cover_match_kernel",
    "cover_match_numpy",
    "distinct_kernel",
    "distinct_vertices",
    "equilibrium_pairs",
    "label_index_kernel",
    "match_kernel",
    "match_numpy",
    "vertex_points_kernel",
    "vertex_points_numpy",
    "vertex_strategies",
]

_ONE = np.uint64(1)
_LOW6 = np.uint64(63)


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
        slot = hash_slot(table, masks_q[j])
        for w in range(n_words):
            table[slot, w] = masks_q[j, w]
        table[slot, n_words] = np.uint64(j)
    count = 0
    for i in range(1, masks_p.shape[0]):
        for w in range(n_words):
            key[w] = full[w] ^ masks_p[i, w]
        slot = hash_slot(table, key)
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
            if has_at(tight, v, 0, lab):
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
            if has_at(tight_p, i, 0, lab):
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
            slot = hash_slot(table, tight[row])
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


def distinct_vertices(walk: VertexSearch) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """One basis per vertex: ``(masks [V, W], tight [V, W])`` in the order first visited."""
    masks, tight = walk.masks[: walk.count], walk.tight[: walk.count]
    if not walk.degenerate:
        return masks, tight
    first = np.empty(tight.shape[0], dtype=np.int64)  # [B]
    table = np.empty((table_rows(tight.shape[0]), tight.shape[1]), dtype=np.uint64)  # [H, W]
    count = distinct_kernel(masks, tight, table, first)
    return masks[first[:count]], tight[first[:count]]  # the origin (basis 0) first


def equilibrium_pairs(
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
        table = np.empty((table_rows(masks_q.shape[0]), n_words + 1), dtype=np.uint64)
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
            if not has_at(masks, vertex, 0, labels[v]):
                zs[s] = v
                s += 1
        for j in range(k):
            if has_at(masks, vertex, 0, labels[d + j]):
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
            if has_at(tight, vertex, 0, labels[v]):
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


def vertex_strategies(
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
    return {int(v): (strategy_key(out[u]), out[u]) for u, v in enumerate(which.tolist())}
