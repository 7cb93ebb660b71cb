"""Classic normal-form games by name, and seeded random game generators in the spirit of GAMUT.

Catalog games (:func:`catalog`, :func:`load`, or one function per game; also reachable through
:func:`gamesolve.load_game`, e.g. ``load_game("rps")``):

=====================  ===================================================================
name                   game
=====================  ===================================================================
``rps``                rock-paper-scissors, zero-sum, unique NE uniform, value 0
``brps``               biased RPS (OpenSpiel ``matrix_brps``), NE ``(1, 10, 5) / 16``
``matching_pennies``   matching pennies, zero-sum, NE ``(1/2, 1/2)``
``amp``                asymmetric matching pennies ``[[2, -1], [-1, 1]]``, NE ``(0.4, 0.6)``
``chicken``            chicken (dare/chicken), general-sum
``prisoners_dilemma``  prisoner's dilemma (T=5, R=3, P=1, S=0)
``battle_of_the_sexes``  battle of the sexes (3/2 on the diagonal, 0 off it)
``shapley``            Shapley's 3x3 cyclic general-sum game, unique NE uniform
``stag_hunt``          stag hunt (4, 3, 2, 0)
=====================  ===================================================================

Generators take an explicit ``rng: numpy.random.Generator`` (no global random state), so the same
seed gives the same game: :func:`random_uniform`, :func:`random_zero_sum`,
:func:`random_covariant`, :func:`random_coordination`, :func:`random_dispersion` and
:func:`random_polymatrix` (with the deterministic builder :func:`polymatrix`). Bad arguments raise
:class:`ValueError` naming the argument (:class:`TypeError` when ``rng`` is not a generator).

>>> import numpy as np
>>> from gamesolve.games import normal_form
>>> normal_form.load("chicken").payoffs[0].tolist()
[[0.0, 7.0], [2.0, 6.0]]
>>> normal_form.random_uniform(np.random.default_rng(0), [2, 3, 4]).num_actions
(2, 3, 4)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.budget import SizeEstimate
from gamesolve.errors import GameNotFoundError
from gamesolve.normal_form import TensorGame, bimatrix, normal_form_game, zero_sum
from gamesolve.registry import GameEntry

__all__ = [
    "MAX_PAYOFF_ENTRIES",
    "amp",
    "battle_of_the_sexes",
    "brps",
    "catalog",
    "chicken",
    "load",
    "matching_pennies",
    "polymatrix",
    "prisoners_dilemma",
    "random_coordination",
    "random_covariant",
    "random_dispersion",
    "random_polymatrix",
    "random_uniform",
    "random_zero_sum",
    "rps",
    "shapley",
    "stag_hunt",
]

#: Largest payoff tensor (number of float64 entries, ``P * prod(A_k)``) a generator will build.
MAX_PAYOFF_ENTRIES = 50_000_000


# ====================================================================== catalog


def rps() -> TensorGame:
    """Rock-paper-scissors: zero-sum, win 1, lose -1; unique NE uniform, value 0."""
    return zero_sum(
        [[0, -1, 1], [1, 0, -1], [-1, 1, 0]],
        name="rps",
        action_names=[("Rock", "Paper", "Scissors")] * 2,
    )


def brps() -> TensorGame:
    """Biased rock-paper-scissors (OpenSpiel ``matrix_brps``): symmetric NE ``(1, 10, 5) / 16``."""
    return zero_sum(
        [[0, -25, 50], [25, 0, -5], [-50, 5, 0]],
        name="brps",
        action_names=[("Rock", "Paper", "Scissors")] * 2,
    )


def matching_pennies() -> TensorGame:
    """Matching pennies: the row player wins 1 on a match; NE ``(1/2, 1/2)``, value 0."""
    return zero_sum([[1, -1], [-1, 1]], name="matching_pennies", action_names=[("Heads", "Tails")] * 2)


def amp() -> TensorGame:
    """Asymmetric matching pennies ``[[2, -1], [-1, 1]]``: NE ``(0.4, 0.6)`` for both, value 0.2."""
    return zero_sum([[2, -1], [-1, 1]], name="amp", action_names=[("Heads", "Tails")] * 2)


def chicken() -> TensorGame:
    """Chicken with actions Dare / Chicken: ``u1`` is DD 0, DC 7, CD 2, CC 6 and ``u2 = u1^T``.

    Pure equilibria (D, C) and (C, D); the max-welfare correlated equilibrium puts 1/4 on each of
    them and 1/2 on (C, C) (welfare 10.5).
    """
    u1 = np.array([[0.0, 7.0], [2.0, 6.0]])  # [2, 2] rows: player 1's action D, C
    return bimatrix(u1, u1.T, name="chicken", action_names=[("Dare", "Chicken")] * 2)


def prisoners_dilemma() -> TensorGame:
    """Prisoner's dilemma with T=5, R=3, P=1, S=0; defection dominates, unique NE (D, D)."""
    u1 = np.array([[3.0, 0.0], [5.0, 1.0]])  # [2, 2] rows: Cooperate, Defect
    return bimatrix(u1, u1.T, name="prisoners_dilemma", action_names=[("Cooperate", "Defect")] * 2)


def battle_of_the_sexes() -> TensorGame:
    """Battle of the sexes: (Opera, Opera) pays 3/2, (Football, Football) 2/3, a mismatch 0/0.

    Equilibria: both pure coordinations, and the mixed one where player 1 plays Opera with
    probability 3/5 and player 2 with probability 2/5.
    """
    u1 = np.array([[3.0, 0.0], [0.0, 2.0]])  # [2, 2] rows: Opera, Football
    u2 = np.array([[2.0, 0.0], [0.0, 3.0]])  # [2, 2]
    return bimatrix(u1, u2, name="battle_of_the_sexes", action_names=[("Opera", "Football")] * 2)


def shapley() -> TensorGame:
    """Shapley's (1964) 3x3 cyclic general-sum game: unique NE uniform; fictitious play cycles.

    Each player scores 1 on one cell per row and column and 0 elsewhere, arranged so that every
    pure profile invites a profitable deviation.
    """
    u1 = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # [3, 3]
    u2 = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # [3, 3]
    return bimatrix(u1, u2, name="shapley", action_names=[("A", "B", "C")] * 2)


def stag_hunt() -> TensorGame:
    """Stag hunt: (Stag, Stag) 4, Hare against Stag 3, (Hare, Hare) 2, Stag against Hare 0.

    Equilibria: (Stag, Stag), (Hare, Hare) and the mixed one with Stag played with probability 2/3.
    """
    u1 = np.array([[4.0, 0.0], [3.0, 2.0]])  # [2, 2] rows: Stag, Hare
    return bimatrix(u1, u1.T, name="stag_hunt", action_names=[("Stag", "Hare")] * 2)


_CATALOG: dict[str, tuple[Callable[[], TensorGame], str]] = {
    "rps": (rps, "Rock-paper-scissors (zero-sum; NE uniform, value 0)"),
    "brps": (brps, "Biased rock-paper-scissors (zero-sum; NE (1,10,5)/16, value 0)"),
    "matching_pennies": (matching_pennies, "Matching pennies (zero-sum; NE (1/2,1/2), value 0)"),
    "amp": (amp, "Asymmetric matching pennies [[2,-1],[-1,1]] (zero-sum; NE (0.4,0.6), value 0.2)"),
    "chicken": (chicken, "Chicken, dare/chicken: u1 DD 0, DC 7, CD 2, CC 6; u2 = u1^T"),
    "prisoners_dilemma": (prisoners_dilemma, "Prisoner's dilemma (T=5, R=3, P=1, S=0; NE defect)"),
    "battle_of_the_sexes": (battle_of_the_sexes, "Battle of the sexes (3/2 and 2/3 on the diagonal)"),
    "shapley": (shapley, "Shapley's 3x3 cyclic general-sum game (unique NE uniform)"),
    "stag_hunt": (stag_hunt, "Stag hunt (stag 4, hare 3 or 2, lone stag 0)"),
}


def catalog() -> dict[str, str]:
    """``{name: description}`` of every catalog game, in a fixed order."""
    return {name: description for name, (_, description) in _CATALOG.items()}


# Declarations of the catalog games to the registry (entry points of the group ``gamesolve.games``).
RPS_ENTRY = GameEntry("rps", *_CATALOG["rps"])
BRPS_ENTRY = GameEntry("brps", *_CATALOG["brps"])
MATCHING_PENNIES_ENTRY = GameEntry("matching_pennies", *_CATALOG["matching_pennies"])
AMP_ENTRY = GameEntry("amp", *_CATALOG["amp"])
CHICKEN_ENTRY = GameEntry("chicken", *_CATALOG["chicken"])
PRISONERS_DILEMMA_ENTRY = GameEntry("prisoners_dilemma", *_CATALOG["prisoners_dilemma"])
BATTLE_OF_THE_SEXES_ENTRY = GameEntry("battle_of_the_sexes", *_CATALOG["battle_of_the_sexes"])
SHAPLEY_ENTRY = GameEntry("shapley", *_CATALOG["shapley"])
STAG_HUNT_ENTRY = GameEntry("stag_hunt", *_CATALOG["stag_hunt"])


def load(name: str) -> TensorGame:
    """Build the catalog game called ``name`` (see :func:`catalog`).

    Raises:
        GameNotFoundError: ``name`` is not in the catalog (the message lists the known names).
    """
    entry = _CATALOG.get(name.strip().lower()) if isinstance(name, str) else None
    if entry is None:
        raise GameNotFoundError(f"unknown normal-form game {name!r}; catalog games: {', '.join(_CATALOG)}")
    return entry[0]()


# ====================================================================== argument checks


def check_rng(rng: Any) -> np.random.Generator:
    """``rng`` if it is a ``numpy.random.Generator``; a ``TypeError`` naming it otherwise."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def _check_int(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {int(value)}")
    return int(value)


def _check_shape(name: str, num_actions: Any, *, min_players: int = 1) -> tuple[int, ...]:
    if isinstance(num_actions, str | bytes) or not isinstance(num_actions, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a sequence of action counts, one per player, got {num_actions!r}")
    shape = tuple(_check_int(f"{name}[{k}]", n, minimum=1) for k, n in enumerate(num_actions))
    if len(shape) < min_players:
        raise ValueError(f"{name} must list at least {min_players} player(s), got {len(shape)}")
    _check_size(name, len(shape), shape)
    return shape


def _check_size(name: str, num_players: int, shape: tuple[int, ...]) -> None:
    entries = num_players * math.prod(shape)
    if entries > MAX_PAYOFF_ENTRIES:
        raise ValueError(
            f"{name} gives a payoff tensor of {entries} entries, more than MAX_PAYOFF_ENTRIES "
            f"({MAX_PAYOFF_ENTRIES})"
        )
    # The draws, the payoff tensor and the game's checked copy: about 33 bytes an entry (measured).
    SizeEstimate(
        f"a {'x'.join(map(str, shape))} game", "build", 40 * entries, entries, "payoff entries"
    ).require()


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return out


def _check_range(low: Any, high: Any) -> tuple[float, float]:
    lo, hi = _check_real("low", low), _check_real("high", high)
    if not lo < hi:
        raise ValueError(f"low must be smaller than high, got low={lo!r}, high={hi!r}")
    return lo, hi


def _check_symmetric(
    num_players: Any, num_actions: Any, low: Any, high: Any
) -> tuple[tuple[int, ...], float, float]:
    """The payoff shape ``(num_actions,) * num_players`` (at least two players) and ``(low, high)``."""
    n_players = _check_int("num_players", num_players, minimum=2)
    n = _check_int("num_actions", num_actions, minimum=1)
    shape = (n,) * n_players
    _check_size("num_players, num_actions", n_players, shape)
    return shape, *_check_range(low, high)


def _shape_name(prefix: str, shape: Sequence[int]) -> str:
    return f"{prefix}_{'x'.join(str(n) for n in shape)}"


# ====================================================================== generators


def random_uniform(
    rng: np.random.Generator, num_actions: Sequence[int], *, low: float = 0.0, high: float = 1.0
) -> TensorGame:
    """Every payoff of every player drawn independently and uniformly from ``[low, high)``.

    Args:
        rng: Source of randomness.
        num_actions: Number of actions of each player; its length is the number of players.
        low: Smallest payoff.
        high: Upper bound of the payoffs (exclusive).

    Returns:
        A game with payoffs ``[P, A0, ..., A_{P-1}]``.

    Raises:
        ValueError: Bad ``num_actions``, ``low`` or ``high``.
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    rng = check_rng(rng)
    shape = _check_shape("num_actions", num_actions)
    lo, hi = _check_range(low, high)
    payoffs = rng.uniform(lo, hi, size=(len(shape), *shape))  # [P, A0, ..., A_{P-1}]
    return normal_form_game(payoffs, name=_shape_name("random_uniform", shape))


def random_zero_sum(
    rng: np.random.Generator, num_rows: int, num_cols: int, *, low: float = -1.0, high: float = 1.0
) -> TensorGame:
    """Two-player zero-sum game whose row-player matrix is uniform on ``[low, high)``.

    Args:
        rng: Source of randomness.
        num_rows: Number of actions of the row player.
        num_cols: Number of actions of the column player.
        low: Smallest row payoff.
        high: Upper bound of the row payoffs (exclusive).

    Raises:
        ValueError: Bad sizes or range.
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    rng = check_rng(rng)
    shape = (_check_int("num_rows", num_rows, minimum=1), _check_int("num_cols", num_cols, minimum=1))
    _check_size("num_rows * num_cols", 2, shape)
    lo, hi = _check_range(low, high)
    matrix = rng.uniform(lo, hi, size=shape)  # [A0, A1] row player's payoff
    return zero_sum(matrix, name=_shape_name("random_zero_sum", shape))


def random_covariant(
    rng: np.random.Generator,
    num_actions: Sequence[int],
    rho: float,
    *,
    mean: float = 0.0,
    std: float = 1.0,
) -> TensorGame:
    """GAMUT's covariant game: at each outcome the payoff vector is multivariate normal.

    At every pure profile the players' payoffs are jointly normal with mean ``mean``, standard
    deviation ``std`` and pairwise correlation ``rho``, independently across profiles. ``rho = 1``
    gives identical interests; ``rho = -1/(N-1)`` gives payoffs summing to ``N * mean`` at every
    profile (zero-sum when ``mean = 0``); ``rho = 0`` is an independent normal random game.

    The draw uses the eigen-decomposition of the covariance ``(1 - rho) I + rho 11^T``, which is
    exact at both ends of the admissible range (where the covariance is singular).

    Args:
        rng: Source of randomness.
        num_actions: Number of actions of each player (at least two players).
        rho: Pairwise correlation, in ``[-1/(N-1), 1]``.
        mean: Mean of every payoff.
        std: Standard deviation of every payoff (``> 0``).

    Raises:
        ValueError: Bad ``num_actions``, ``rho`` outside its range, bad ``mean`` or ``std``.
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    rng = check_rng(rng)
    shape = _check_shape("num_actions", num_actions, min_players=2)
    n_players = len(shape)
    r = _check_real("rho", rho)
    lowest = -1.0 / (n_players - 1)
    if not lowest <= r <= 1.0:
        raise ValueError(
            f"rho must lie in [-1/(N-1), 1] = [{lowest:.6g}, 1] for N={n_players} players, got {r}"
        )
    mu = _check_real("mean", mean)
    sigma = _check_real("std", std)
    if sigma <= 0.0:
        raise ValueError(f"std must be positive, got {sigma}")
    z = rng.standard_normal(size=(n_players, *shape))  # [P, A0, ..., A_{P-1}] iid N(0, 1)
    zbar = z.mean(axis=0, keepdims=True)  # [1, A0, ..., A_{P-1}]
    # Covariance (1 - rho) I + rho 11^T: eigenvalue 1 + (N-1) rho along 11^T, 1 - rho across it.
    along = math.sqrt(max(1.0 + (n_players - 1) * r, 0.0))
    across = math.sqrt(max(1.0 - r, 0.0))
    x = across * (z - zbar) + along * zbar  # [P, A0, ..., A_{P-1}] unit variance, correlation rho
    payoffs = mu + sigma * x  # [P, A0, ..., A_{P-1}]
    return normal_form_game(payoffs, name=_shape_name("random_covariant", shape))


def random_coordination(
    rng: np.random.Generator,
    num_players: int,
    num_actions: int,
    *,
    low: float = 0.0,
    high: float = 1.0,
) -> TensorGame:
    """Coordination game: everyone choosing the same action pays more than any miscoordination.

    Every player's payoff at a profile where all players choose the same action is drawn uniformly
    from ``[mid, high)`` with ``mid = (low + high) / 2``; every other payoff is drawn uniformly from
    ``[low, mid)``. Hence each of the ``num_actions`` coordinated profiles is a strict pure NE.

    Args:
        rng: Source of randomness.
        num_players: Number of players (at least 2).
        num_actions: Number of actions of every player.
        low: Smallest payoff.
        high: Upper bound of the payoffs (exclusive).

    Raises:
        ValueError: Bad counts or range.
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    rng = check_rng(rng)
    shape, lo, hi = _check_symmetric(num_players, num_actions, low, high)
    n_players, n = len(shape), shape[0]
    mid = 0.5 * (lo + hi)
    u = rng.random(size=(n_players, *shape))  # [P, n, ..., n] in [0, 1)
    payoffs = lo + (mid - lo) * u  # [P, n, ..., n] miscoordination payoffs in [low, mid)
    diag = rng.random(size=(n_players, n))  # [P, n] one value per player and common action
    diagonal = np.arange(n)  # [n] the coordinated profiles (k, k, ..., k)
    cells: tuple[Any, ...] = (slice(None), *([diagonal] * n_players))
    payoffs[cells] = mid + (hi - mid) * diag  # [P, n] the coordinated cells
    return normal_form_game(payoffs, name=_shape_name("random_coordination", shape))


def random_dispersion(
    rng: np.random.Generator,
    num_players: int,
    num_actions: int,
    *,
    low: float = 0.0,
    high: float = 1.0,
) -> TensorGame:
    """Dispersion game: a player's payoff falls as more players share its action.

    Player ``i`` receives ``h_i[c - 1]``, where ``c`` is the number of players (``i`` included)
    choosing ``i``'s action and ``h_i`` holds ``num_players`` values drawn uniformly from
    ``[low, high)`` and sorted in decreasing order (strictly, with probability one). When
    ``num_actions >= num_players`` every profile of pairwise distinct actions is a pure NE.

    Args:
        rng: Source of randomness.
        num_players: Number of players (at least 2).
        num_actions: Number of actions of every player.
        low: Smallest payoff.
        high: Upper bound of the payoffs (exclusive).

    Raises:
        ValueError: Bad counts or range.
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    rng = check_rng(rng)
    shape, lo, hi = _check_symmetric(num_players, num_actions, low, high)
    n_players = len(shape)
    crowd_values = -np.sort(-rng.uniform(lo, hi, size=(n_players, n_players)), axis=1)  # [P, P] decreasing
    actions = np.indices(shape)  # [P, n, ..., n]: actions[k] is player k's action at each profile
    counts = (actions[:, None] == actions[None, :]).sum(axis=1)  # [P, n, ..., n] players sharing
    payoffs = np.take_along_axis(
        crowd_values.reshape(n_players, -1), (counts - 1).reshape(n_players, -1), axis=1
    ).reshape(n_players, *shape)  # [P, n, ..., n]
    return normal_form_game(payoffs, name=_shape_name("random_dispersion", shape))


def polymatrix(
    num_actions: Sequence[int],
    edge_payoffs: Mapping[tuple[int, int], tuple[ArrayLike, ArrayLike]],
    *,
    name: str = "polymatrix",
) -> TensorGame:
    """Polymatrix game: players on a graph, each edge a two-player game, payoffs summed over edges.

    Edge ``(i, j)`` carries matrices ``A`` and ``B`` of shape ``[A_i, A_j]``, both indexed by
    ``(a_i, a_j)``: ``A`` is player ``i``'s payoff and ``B`` player ``j``'s. Player ``i``'s payoff at
    a profile is the sum of its payoffs over the edges it belongs to (0 if none).

    Args:
        num_actions: Number of actions of each player.
        edge_payoffs: ``{(i, j): (A, B)}`` with ``i != j``; each unordered pair at most once.
        name: Name of the game.

    Raises:
        ValueError: Bad ``num_actions``, an edge with bad endpoints or repeated, or matrices of the
            wrong shape or with non-finite entries.
    """
    shape = _check_shape("num_actions", num_actions)
    n_players = len(shape)
    payoffs = np.zeros((n_players, *shape))  # [P, A0, ..., A_{P-1}]
    seen: set[frozenset[int]] = set()
    for edge, pair in edge_payoffs.items():
        if not (isinstance(edge, tuple) and len(edge) == 2):
            raise ValueError(f"edge_payoffs keys must be pairs (i, j) of players, got {edge!r}")
        i, j = (_check_int(f"edge_payoffs key {edge!r} endpoint", v, minimum=0) for v in edge)
        if i >= n_players or j >= n_players or i == j:
            raise ValueError(
                f"edge_payoffs edge {edge!r} must join two different players in [0, {n_players})"
            )
        if frozenset((i, j)) in seen:
            raise ValueError(f"edge_payoffs lists the pair of players {{{i}, {j}}} more than once")
        seen.add(frozenset((i, j)))
        if not (isinstance(pair, Sequence | np.ndarray) and len(pair) == 2):
            raise ValueError(f"edge_payoffs[{edge!r}] must be a pair of matrices (A, B)")
        for player, label, matrix in ((i, "A", pair[0]), (j, "B", pair[1])):
            try:
                m = np.asarray(matrix, dtype=np.float64)  # [A_i, A_j]
            except (TypeError, ValueError):
                raise ValueError(f"edge_payoffs[{edge!r}] {label} is not a numeric matrix") from None
            if m.shape != (shape[i], shape[j]):
                raise ValueError(
                    f"edge_payoffs[{edge!r}] {label} must have shape {(shape[i], shape[j])}, got {m.shape}"
                )
            if not np.all(np.isfinite(m)):
                raise ValueError(f"edge_payoffs[{edge!r}] {label} has non-finite entries")
            # Broadcast [A_i, A_j] over the full profile axes (axis k+1 of payoffs is player k).
            view_shape = [1] * n_players
            view_shape[i], view_shape[j] = shape[i], shape[j]
            oriented = m if i < j else m.T  # axes in increasing player order
            payoffs[player] += oriented.reshape(view_shape)
    return normal_form_game(payoffs, name=name)


def random_polymatrix(
    rng: np.random.Generator,
    num_actions: Sequence[int],
    *,
    edges: Sequence[tuple[int, int]] | None = None,
    low: float = 0.0,
    high: float = 1.0,
) -> TensorGame:
    """Polymatrix game (see :func:`polymatrix`) with uniform random two-player games on its edges.

    For each edge ``(i, j)``, in the order given, the pair ``(A, B) = rng.uniform(low, high,
    size=(2, A_i, A_j))`` is drawn, so the edge games can be regenerated from the same seed.

    Args:
        rng: Source of randomness.
        num_actions: Number of actions of each player (at least two players).
        edges: Pairs of players joined by a game; ``None`` means every pair ``i < j`` in order.
        low: Smallest edge payoff.
        high: Upper bound of the edge payoffs (exclusive).

    Raises:
        ValueError: Bad ``num_actions``, ``edges``, ``low`` or ``high``.
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    rng = check_rng(rng)
    shape = _check_shape("num_actions", num_actions, min_players=2)
    lo, hi = _check_range(low, high)
    if edges is None:
        edge_list = list(itertools.combinations(range(len(shape)), 2))
    else:
        if isinstance(edges, str | bytes) or not isinstance(edges, Sequence):
            raise ValueError(f"edges must be a sequence of player pairs (i, j), got {edges!r}")
        edge_list = []
        for e in edges:
            if not (isinstance(e, Sequence) and len(e) == 2):
                raise ValueError(f"edges must contain pairs of players (i, j), got {e!r}")
            edge_list.append((e[0], e[1]))
    edge_payoffs: dict[tuple[int, int], tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    seen: set[frozenset[int]] = set()
    for i, j in edge_list:
        ok = all(not isinstance(v, bool) and isinstance(v, int | np.integer) for v in (i, j))
        if not ok or not (0 <= i < len(shape) and 0 <= j < len(shape)) or i == j:
            raise ValueError(
                f"edges entry ({i!r}, {j!r}) must join two different players in [0, {len(shape)})"
            )
        if frozenset((i, j)) in seen:
            raise ValueError(f"edges lists the pair of players {{{i}, {j}}} more than once")
        seen.add(frozenset((i, j)))
        pair = rng.uniform(lo, hi, size=(2, shape[i], shape[j]))  # [2, A_i, A_j]: (A, B)
        edge_payoffs[(int(i), int(j))] = (pair[0], pair[1])
    return polymatrix(shape, edge_payoffs, name=_shape_name("random_polymatrix", shape))
