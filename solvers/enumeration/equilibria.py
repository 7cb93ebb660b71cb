"""Every extreme Nash equilibrium of a bimatrix game and its maximal Nash subsets.

:func:`extreme_equilibria` enumerates the vertices of both best-response polytopes, pairs the
completely labeled ones and groups the pairs into maximal Nash subsets (maximal bicliques of the
graph of extreme equilibria; Winkels 1979, Jansen 1981), whose union is the equilibrium set;
:func:`enumerate_equilibria` returns just the equilibria.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.arrays import readonly
from gamesolve.errors import UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.solvers.bimatrix import (
    check_tolerance,
    normalized_matrices,
    polytopes,
    profile_key,
)
from gamesolve.solvers.common import check_time_limit
from gamesolve.solvers.enumeration.matching import distinct_vertices, equilibrium_pairs, vertex_strategies
from gamesolve.solvers.enumeration.primitives import OVERFLOW, UNBOUNDED
from gamesolve.solvers.enumeration.vertices import VertexSearch, search_polytopes
from gamesolve.validation import check_bool, check_int

__all__ = ["ExtremeEquilibria", "enumerate_equilibria", "extreme_equilibria", "maximal_nash_subsets"]

log = logging.getLogger(__name__)

_PARALLEL_MIN_CELLS = 64  # smaller games run both polytopes in the calling thread
_FIRST_CAPACITY = (256, 1 << 14)  # bases the buffers hold at first: 2^(min(m, n) + 2) in this range


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
    limit = check_time_limit(time_limit, allow_inf=True)
    started = time.perf_counter()
    deadline = None if limit is None else started + limit
    search_deadline = None if limit is None else started + 0.85 * limit
    a, b = normalized_matrices(game)
    m, n = a.shape
    both = polytopes(a, b)
    low, high = _FIRST_CAPACITY  # vertex counts grow about as 2^min(m, n); the buffers grow fourfold
    capacity = min(high, max(low, 1 << min(min(m, n) + 2, 30)))
    walks = [VertexSearch(c, lab, tol, refactor_every, max_vertices, capacity) for c, lab in both]
    search_polytopes(walks, search_deadline, parallel and m * n >= _PARALLEL_MIN_CELLS, on_progress)
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
    found = [distinct_vertices(walk) for walk in walks]
    log.debug(
        "vertex enumeration: %d vertices (%d bases) of P, %d (%d) of Q%s",
        found[0][0].shape[0], walks[0].count, found[1][0].shape[0], walks[1].count,
        ", degenerate" if degenerate else "",
    )  # fmt: skip
    pairs, matched_all = equilibrium_pairs(found, m + n, degenerate, deadline)
    complete &= matched_all
    solved = [
        vertex_strategies(k, both[k], *found[k], np.unique(pairs[:, k])) for k in range(2)
    ]  # vertex -> (sort key, read-only strategy)
    listed = pairs.tolist()
    orders: list[dict[int, int]] = []  # per player: vertex -> index among sorted extreme strategies
    for k in range(2):
        keyed = solved[k]
        used = sorted({pair[k] for pair in listed}, key=lambda v: keyed[v][0])
        orders.append({v: i for i, v in enumerate(used)})
    strategies = tuple(
        readonly(np.array([solved[k][v][1] for v in orders[k]]).reshape(len(orders[k]), (m, n)[k]))
        for k in range(2)
    )
    keys = [[solved[k][v][0] for v in orders[k]] for k in range(2)]
    indexed = [(orders[0][u], orders[1][v]) for u, v in listed]
    indexed.sort(key=lambda e: profile_key(keys[0][e[0]], keys[1][e[1]]))
    rows, cols = list(strategies[0]), list(strategies[1])  # read-only views, shared by the profiles
    profiles = tuple(MixedProfile((rows[i], cols[j])) for i, j in indexed)
    subsets, listed_all = maximal_nash_subsets(indexed, deadline)
    complete &= listed_all
    if not complete:
        log.info("vertex enumeration stopped by the time limit of %g s", limit)
    return ExtremeEquilibria(
        equilibria=profiles,
        strategies=(strategies[0], strategies[1]),
        pairs=readonly(np.array(indexed, dtype=np.int64).reshape(-1, 2)),
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
