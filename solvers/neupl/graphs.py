"""NeuPL's interaction graphs: which mixture of the population each policy best-responds to.

Liu, Marris, Hennes, Merel, Heess & Graepel 2022, "NeuPL: Neural Population Learning" (ICLR),
Section 3: row ``i`` of the interaction graph ``Sigma [N, N]`` is the mixture of the population that
policy ``i`` must best-respond to, and a meta-graph solver maps the payoff matrix ``U [N, N]`` to
``Sigma`` (PSRO-N, fictitious self-play, population self-play, the strategic cycle). :func:`meta_nash`
is the Nash equilibrium of the symmetric zero-sum meta-game that PSRO-N and the output use.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError
from gamesolve.normal_form import zero_sum
from gamesolve.solvers.lp import solve_zero_sum_lp
from gamesolve.validation import check_int

__all__ = [
    "GRAPHS",
    "cycle_graph",
    "fictitious_play_graph",
    "interaction_graph",
    "meta_nash",
    "psro_n_graph",
    "self_play_graph",
]

#: The meta-graph solvers by name.
GRAPHS = ("psro-n", "fsp", "self-play", "cycle")


def _check_sizes(n: int, n_max: int | None) -> int:
    n = check_int("n", n, minimum=1)
    return n if n_max is None else check_int("n_max", n_max, minimum=n)


def self_play_graph(n: int, n_max: int | None = None) -> NDArray[np.float64]:
    """Population self-play: every active row uniform over the ``n`` active policies.

    Returns ``[n_max, n_max]`` (rows and columns past ``n`` are 0), e.g. for ``n = 2``
    ``[[1/2, 1/2], [1/2, 1/2]]``.
    """
    size = _check_sizes(n, n_max)
    out = np.zeros((size, size))
    out[:n, :n] = 1.0 / n
    return out


def fictitious_play_graph(n: int, n_max: int | None = None) -> NDArray[np.float64]:
    """Fictitious self-play: ``sigma_1 = 0`` (the initial policy), ``sigma_i`` uniform over ``1..i-1``.

    The lower-triangular uniform matrix, e.g. for ``n = 3`` ``[[0, 0, 0], [1, 0, 0], [1/2, 1/2, 0]]``.
    """
    size = _check_sizes(n, n_max)
    out = np.zeros((size, size))
    for i in range(1, n):
        out[i, :i] = 1.0 / i
    return out


def cycle_graph(n: int, n_max: int | None = None) -> NDArray[np.float64]:
    """The strategic cycle: ``sigma_i = e_{i-1}`` and ``sigma_1 = e_n`` (``n = 1``: self-play).

    For ``n = 3``: ``[[0, 0, 1], [1, 0, 0], [0, 1, 0]]``.
    """
    size = _check_sizes(n, n_max)
    out = np.zeros((size, size))
    for i in range(n):
        out[i, (i - 1) % n] = 1.0
    return out


def _antisymmetric(payoffs: ArrayLike) -> NDArray[np.float64]:
    u = np.asarray(payoffs, dtype=np.float64)
    if u.ndim != 2 or u.shape[0] != u.shape[1] or u.shape[0] < 1:
        raise ValueError(f"payoffs must be a square [N, N] matrix, got shape {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError("payoffs must be finite")
    return 0.5 * (u - u.T)


def meta_nash(payoffs: ArrayLike) -> NDArray[np.float64]:
    """A Nash equilibrium ``[N]`` of the symmetric zero-sum meta-game ``U [N, N]`` (one LP).

    ``U[i, j]`` is policy ``i``'s payoff against ``j``; only its antisymmetric part
    ``(U - U^T) / 2`` matters. The maximin strategy of the row player is returned (HiGHS; the
    same vertex for the same input).
    """
    anti = _antisymmetric(payoffs)
    if anti.shape[0] == 1:
        return np.ones(1)
    solution = solve_zero_sum_lp(zero_sum(anti, name="meta-game"))
    return np.array(solution.profile.strategies[0], dtype=np.float64)


def psro_n_graph(payoffs: ArrayLike, n_max: int | None = None) -> NDArray[np.float64]:
    """PSRO-N: ``sigma_1 = 0`` and ``sigma_{i+1} = Nash(U[1:i, 1:i])`` (lower-triangular).

    Args:
        payoffs: ``[n, n]`` payoff matrix of the active population.
        n_max: Size of the returned (zero-padded) matrix (default ``n``).

    With ``U`` from rock, paper, scissors in that order the result is
    ``[[0, 0, 0], [1, 0, 0], [0, 1, 0]]``: paper answers rock, scissors answers paper.
    """
    u = np.asarray(payoffs, dtype=np.float64)
    _antisymmetric(u)
    n = u.shape[0]
    size = _check_sizes(n, n_max)
    out = np.zeros((size, size))
    for i in range(1, n):
        out[i, :i] = meta_nash(u[:i, :i])
    return out


def interaction_graph(name: str, payoffs: ArrayLike, n_max: int | None = None) -> NDArray[np.float64]:
    """The meta-graph solver ``F``: the interaction graph ``[n_max, n_max]`` of ``U [n, n]`` by name.

    Args:
        name: One of :data:`GRAPHS`.
        payoffs: The active population's payoff matrix ``[n, n]``.
        n_max: Size of the returned zero-padded matrix (default ``n``).
    """
    u = np.asarray(payoffs, dtype=np.float64)
    _antisymmetric(u)
    n = u.shape[0]
    if name == "psro-n":
        return psro_n_graph(u, n_max)
    if name == "fsp":
        return fictitious_play_graph(n, n_max)
    if name == "self-play":
        return self_play_graph(n, n_max)
    if name == "cycle":
        return cycle_graph(n, n_max)
    raise InvalidArgumentError(f"unknown interaction graph {name!r}; known: {', '.join(GRAPHS)}")
