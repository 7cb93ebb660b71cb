"""One Nash equilibrium of a bimatrix game by the Lemke-Howson algorithm.

Lemke & Howson 1964, "Equilibrium points of bimatrix games" (SIAM J. Appl. Math. 12), as presented
by von Stengel 2002, "Computing equilibria for two-person games" (Handbook of Game Theory vol. 3,
ch. 45). On the best-response polytopes of :mod:`gamesolve.solvers.bimatrix`, the path starts at
the artificial equilibrium ``(0, 0)`` by letting the variable with the missing label ``k`` enter,
then alternately lets the complement of the duplicate label enter in the other polytope; the path
of almost completely labeled pairs ends at a Nash equilibrium the first time label ``k`` returns.
Lexicographic ratio tests make degenerate games terminate too, and the equilibrium is re-solved
from the payoffs on its supports, so rounding along the path does not reach the result.

Modules: ``kernel`` (the resumable numba path on a small basis inverse, and its numpy twin) and
``paths`` (:func:`lemke_howson` and :func:`all_labels`, which check the time limit and let Ctrl-C
through every few milliseconds; a path cut short raises :class:`~gamesolve.errors.TimeLimitError`,
and :func:`all_labels` returns the equilibria of the paths that ended in time); this package
re-exports their public names.

>>> import gamesolve
>>> from gamesolve.solvers.lemke_howson import lemke_howson
>>> game = gamesolve.bimatrix([[3, 3], [2, 5], [0, 6]], [[3, 2], [2, 6], [3, 1]])
>>> [s.round(4).tolist() for s in lemke_howson(game, initial_label=0)]
[[1.0, 0.0, 0.0], [1.0, 0.0]]
"""

from __future__ import annotations

from gamesolve.errors import TimeLimitError
from gamesolve.solvers.lemke_howson.kernel import (
    lemke_howson_basics,
    lemke_howson_kernel,
    lemke_howson_numpy,
    lemke_howson_resume,
    lemke_howson_state,
)
from gamesolve.solvers.lemke_howson.paths import (
    LemkeHowsonError,
    PivotLimitError,
    all_labels,
    all_labels_within,
    lemke_howson,
)

__all__ = [
    "LemkeHowsonError",
    "PivotLimitError",
    "TimeLimitError",
    "all_labels",
    "all_labels_within",
    "lemke_howson",
    "lemke_howson_basics",
    "lemke_howson_kernel",
    "lemke_howson_numpy",
    "lemke_howson_resume",
    "lemke_howson_state",
]
