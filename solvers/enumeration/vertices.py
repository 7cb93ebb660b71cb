"""Vertex enumeration of one best-response polytope: the numba search, its twin and its driver.

:func:`polytope_vertices_kernel` lists the lexicographically feasible bases of ``{z >= 0 : C z
<= 1}`` by a depth-first search (one simplex pivot per edge, a hash table of visited bases;
Avis, Rosenberg, Savani & von Stengel 2010), writing into preallocated buffers and stopping after
a budget of steps; :func:`polytope_vertices_numpy` is its brute-force twin for the tests.
:class:`VertexSearch` drives one search in chunks (growing its buffers) and
:func:`search_polytopes` both, so a time limit is checked every few milliseconds.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.solvers.bimatrix import CHUNK_SECONDS
from gamesolve.solvers.enumeration.primitives import (
    EPS_PIVOT,
    OVERFLOW,
    PAUSED,
    UNBOUNDED,
    flip,
    flip_at,
    has_at,
    hash_slot,
    initial_dictionary,
    lex_tie_break,
    min_ratio,
    pivot,
    refactor,
    set_at,
    table_rows,
)

__all__ = [
    "VertexSearch",
    "grow_kernel",
    "polytope_vertices_kernel",
    "polytope_vertices_numpy",
    "search_polytopes",
    "search_vertices",
]

_FIRST_BUDGET = 1 << 15  # steps of the first kernel call (small games finish within it)


@numba.njit(cache=True, nogil=True)
def polytope_vertices_kernel(
    cmat: NDArray[np.float64],  # [k, d] positive constraint matrix of {z >= 0 : C z <= 1}
    labels: NDArray[np.int64],  # [d + k] label of every variable (z first, then slacks)
    tol: float,  # ratios within tol tie; basic values at most tol count as zero
    refactor_every: int,  # recompute the dictionary from its basis after this many pivots
    budget: int,  # return PAUSED after this many steps (ratio tests and pivots)
    tab: NDArray[np.float64],  # [d + 1, k] state: the current dictionary (transposed)
    work: NDArray[np.float64],  # [k, k + d + 1] scratch for refactorization
    dic: NDArray[np.int64],  # [3, d + k] state: basis [:k], nonbasis [:d], where (see pivot)
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

    Degenerate polytopes: tied ratio tests are broken lexicographically (:func:`lex_tie_break`;
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
        initial_dictionary(cmat, tab, basis, nonbasis, where)
        for c in range(d):
            flip(current, labels[c])
        slot = hash_slot(table, current)
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
            flip(current, labels[basis[p_back]])
            flip(current, labels[nonbasis[c_back]])
            pivot(tab, basis, nonbasis, where, colc, p_back, c_back)
            since_refactor += 1
            if since_refactor >= refactor_every:
                refactor(cmat, basis, nonbasis, tab, work)
                since_refactor = 0
            depth -= 1
            continue
        stack[depth, 0] = c + 1
        entering_label = labels[nonbasis[c]]
        if has_at(table, here, n_words, entering_label):
            continue
        flip_at(table, here, n_words, entering_label)
        p = min_ratio(tab, c)  # the lexicographic ratio test, inlined for the common case
        if p < 0:
            status = UNBOUNDED
            break
        theta = tab[d, p] / tab[c, p]
        for r in range(k):
            if r != p and tab[c, r] > EPS_PIVOT and tab[d, r] - tab[c, r] * theta <= tol:
                p = lex_tie_break(tab, where, c, theta, tol, ties, vals)
                break
        leaving_label = labels[basis[p]]
        for w in range(n_words):
            key[w] = current[w]
        flip(key, entering_label)
        flip(key, leaving_label)
        slot = hash_slot(table, key)
        seen = False
        for w in range(n_words):
            if table[slot, w] != 0:
                seen = True
        if seen:
            flip_at(table, slot, n_words, leaving_label)  # the edge back from there is tried
            continue
        if count == cap:  # undo this step so that the search resumes here in larger buffers
            stack[depth, 0] = c
            flip_at(table, here, n_words, entering_label)
            status = OVERFLOW
            break
        pivot(tab, basis, nonbasis, where, colc, p, c)
        since_refactor += 1
        if since_refactor >= refactor_every:
            refactor(cmat, basis, nonbasis, tab, work)
            since_refactor = 0
        for w in range(n_words):
            current[w] = key[w]
            masks[count, w] = key[w]
            tight[count, w] = key[w]
            table[slot, w] = key[w]
        for r in range(k):
            if tab[d, r] <= tol:  # a basic variable at zero: a degenerate vertex
                set_at(tight, count, 0, labels[basis[r]])
                flags |= 2
        flip_at(table, slot, n_words, leaving_label)
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
        slot = hash_slot(new_table, table[row, :n_words])
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
# Driving the kernel: buffers, chunks and deadlines
# --------------------------------------------------------------------------------------------


class VertexSearch:
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
        self.table = np.empty((table_rows(self.cap), 2 * self.n_words), dtype=np.uint64)  # [H, 2W]
        self.stack = np.empty((self.cap, 4), dtype=np.int64)  # [cap, 4]
        self.masks = np.empty((self.cap, self.n_words), dtype=np.uint64)  # [cap, W]
        self.tight = np.empty((self.cap, self.n_words), dtype=np.uint64)  # [cap, W]
        self.state = np.zeros(4, dtype=np.int64)  # [4]

    def _grow(self) -> None:
        """Fourfold buffers holding everything found so far; the search resumes where it stopped."""
        cap = min(self.max_vertices, self.cap * 4)
        count = self.count
        table = np.empty((table_rows(cap), self.table.shape[1]), dtype=np.uint64)
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


def search_vertices(
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
    walk = VertexSearch(cmat, labels, tol, refactor_every, max_vertices, initial_capacity)
    while walk.advance() == PAUSED:
        pass
    return walk.status, walk.masks[: walk.count], walk.tight[: walk.count]


def search_polytopes(
    walks: list[VertexSearch],
    deadline: float | None,
    parallel: bool,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Advance both searches until they end or ``deadline`` (``perf_counter`` seconds) passes.

    Without a deadline or progress callback each search runs in one call. Otherwise the calls
    last about ``CHUNK_SECONDS`` and alternate between the two polytopes, so a search stopped
    by the deadline has found vertices of both.
    """
    chunked = deadline is not None or on_progress is not None
    seconds = CHUNK_SECONDS if chunked else None

    def finish(walk: VertexSearch) -> None:
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
