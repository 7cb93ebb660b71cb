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

Modules: :mod:`gamesolve.solvers.bimatrix` (the polytopes, shared with Lemke-Howson),
``primitives`` (dictionary pivots, label bit sets, the hash table), ``vertices`` (the search of
one polytope and its driver), ``matching`` (pairing vertices into equilibria) and ``equilibria``
(the public functions); this package re-exports their public names.

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

from gamesolve.errors import TimeLimitError
from gamesolve.solvers.bimatrix import normalized_matrices, polytopes, profile_from_supports, sort_key
from gamesolve.solvers.enumeration.equilibria import (
    ExtremeEquilibria,
    enumerate_equilibria,
    extreme_equilibria,
    maximal_nash_subsets,
)
from gamesolve.solvers.enumeration.matching import (
    cover_match_kernel,
    cover_match_numpy,
    distinct_kernel,
    label_index_kernel,
    match_kernel,
    match_numpy,
    vertex_points_kernel,
    vertex_points_numpy,
)
from gamesolve.solvers.enumeration.primitives import OVERFLOW, PAUSED, UNBOUNDED
from gamesolve.solvers.enumeration.vertices import (
    grow_kernel,
    polytope_vertices_kernel,
    polytope_vertices_numpy,
)

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
