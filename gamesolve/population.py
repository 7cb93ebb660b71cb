"""Populations of policies, the meta-games a tournament fills, and ratings of their members.

* :class:`Population`: ``members[p][k]`` is policy ``k`` of player (seat) ``p``; a symmetric
  population has one list of policies that plays every seat.
* :class:`MetaGame`: the normal-form game between members, ``payoffs [P, K0, K1, ...]`` (each
  player's mean payoff per profile), with standard errors and episode counts when sampled;
  :func:`gamesolve.tournament.tournament` fills it.
* :class:`Ratings`: one number per agent with an uncertainty, from :meth:`MetaGame.ratings`: Elo /
  Bradley-Terry by maximum likelihood (Bradley & Terry 1952, "Rank analysis of incomplete block
  designs"; Elo 1978, "The Rating of Chessplayers, Past and Present"), alpha-Rank mass (Omidshafiei
  et al. 2019, "α-Rank: Multi-agent evaluation by evolution") or Nash averaging (Balduzzi, Tuyls,
  Perolat & Graepel 2018, "Re-evaluating evaluation").
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import GamesolveError, InvalidArgumentError, UnsupportedGame
from gamesolve.io import atomic_write_bytes
from gamesolve.normal_form import TensorGame, normal_form_game
from gamesolve.validation import check_choice, check_int, check_real

__all__ = [
    "META_GAME_FORMAT",
    "ActingPolicy",
    "MetaGame",
    "Population",
    "Ratings",
    "elo_scale",
]

log = logging.getLogger(__name__)

#: Format tag of :meth:`MetaGame.to_dict`.
META_GAME_FORMAT = "gamesolve.meta_game/1"

#: Elo points per unit of log-odds: ``400 / ln(10)``.
ELO_SCALE = 400.0 / math.log(10.0)

#: Mean of Elo ratings.
ELO_MEAN = 1500.0

#: Standard deviation (Elo points) of the prior used when the maximum-likelihood ratings diverge.
ELO_FALLBACK_PRIOR = 1000.0

RATING_METHODS = ("elo", "alpharank", "nash")


def elo_scale() -> float:
    """Elo points per unit of log-odds, ``400 / ln 10`` (about 173.7)."""
    return ELO_SCALE


@runtime_checkable
class ActingPolicy(Protocol):
    """A policy that can only be queried for actions (RL networks, scripted bots).

    Plain callables with the same signature as :meth:`act` are accepted wherever an
    ``ActingPolicy`` is.
    """

    def act(
        self,
        player: int,
        observation: NDArray[np.float32],
        legal: NDArray[np.int64],
        rng: np.random.Generator,
    ) -> int:
        """An action among ``legal`` for ``player`` seeing ``observation``; draw randomness from ``rng``."""
        ...


# ---------------------------------------------------------------------------------------------
# Population
# ---------------------------------------------------------------------------------------------


def _default_names(count: int, start: int = 0) -> tuple[str, ...]:
    return tuple(f"pi{k}" for k in range(start, start + count))


@dataclass(frozen=True)
class Population:
    """Policies per seat: ``members[p][k]`` is policy ``k`` of player ``p``.

    What a member is depends on the game (see :func:`gamesolve.tournament.tournament`): a
    :class:`~gamesolve.policy.TabularPolicy` on compiled games (only seat ``p``'s rows are used),
    a probability vector on normal-form games, an ``[S, A_p]`` strategy on tabular Markov games,
    an :class:`ActingPolicy` (or callable) on games that can only be sampled.

    Attributes:
        members: Per player, a tuple of policies.
        names: Per player, a name per member (default ``pi0``, ``pi1``, ...).
        is_symmetric: One list of policies plays every seat (``members[p]`` are all the same);
            build such a population with :meth:`symmetric`.

    Raises:
        ValueError: No players, an empty seat, or names that do not match the members.
    """

    members: tuple[tuple[Any, ...], ...]
    names: tuple[tuple[str, ...], ...] = ()
    is_symmetric: bool = False

    def __post_init__(self) -> None:
        members = tuple(tuple(seat) for seat in self.members)
        if not members:
            raise ValueError("a population needs at least one player")
        for p, seat in enumerate(members):
            if not seat:
                raise ValueError(f"player {p} has no policies; every seat needs at least one")
        if not self.names:
            names = tuple(_default_names(len(seat)) for seat in members)
        else:
            names = tuple(tuple(str(n) for n in seat) for seat in self.names)
            if len(names) != len(members) or any(
                len(n) != len(m) for n, m in zip(names, members, strict=False)
            ):
                raise ValueError(
                    f"names must give one name per member of every player: sizes "
                    f"{[len(m) for m in members]}, names {[len(n) for n in names]}"
                )
        if self.is_symmetric and any(
            len(seat) != len(members[0]) or any(a is not b for a, b in zip(seat, members[0], strict=True))
            for seat in members
        ):
            raise ValueError("a symmetric population must hold the same policies for every seat")
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "names", names)

    @classmethod
    def symmetric(
        cls,
        policies: Sequence[Any] | Mapping[str, Any],
        names: Sequence[str] | None = None,
        players: int = 2,
    ) -> Population:
        """One list of policies for every seat (a mapping gives names and policies at once).

        Raises:
            InvalidArgumentError: ``players`` not an integer >= 1.
            ValueError: No policies, or names of the wrong length.
        """
        players = check_int("players", players, minimum=1)
        if isinstance(policies, Mapping):
            if names is not None:
                raise ValueError("names are taken from the mapping's keys; do not pass names too")
            names = [str(k) for k in policies]
            policies = list(policies.values())
        seat = tuple(policies)
        if not seat:
            raise ValueError("a population needs at least one policy")
        seat_names = tuple(str(n) for n in names) if names is not None else _default_names(len(seat))
        if len(seat_names) != len(seat):
            raise ValueError(f"names must have one entry per policy ({len(seat)}), got {len(seat_names)}")
        return cls(members=(seat,) * players, names=(seat_names,) * players, is_symmetric=True)

    @property
    def num_players(self) -> int:
        """Number of seats."""
        return len(self.members)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of members of every player."""
        return tuple(len(seat) for seat in self.members)

    def size(self, player: int) -> int:
        """Number of members of ``player``."""
        return len(self.members[player])

    def add(self, player: int | None, policy: Any, name: str | None = None) -> Population:
        """A new population with ``policy`` appended to ``player``'s members (every seat if symmetric).

        Raises:
            InvalidArgumentError: ``player`` out of range (``None`` is allowed only for symmetric
                populations).
        """
        seats = range(self.num_players) if self.is_symmetric else None
        if seats is None:
            if player is None:
                raise InvalidArgumentError("player must be given (None only for a symmetric population)")
            player = check_int("player", player, minimum=0, maximum=self.num_players - 1)
            seats = range(player, player + 1)
        members = [list(seat) for seat in self.members]
        names = [list(seat) for seat in self.names]
        for p in seats:
            label = name if name is not None else f"pi{len(members[p])}"
            members[p].append(policy)
            names[p].append(str(label))
        return Population(
            members=tuple(tuple(m) for m in members),
            names=tuple(tuple(n) for n in names),
            is_symmetric=self.is_symmetric,
        )

    def __repr__(self) -> str:
        kind = "symmetric, " if self.is_symmetric else ""
        return f"Population({kind}sizes={self.sizes})"


# ---------------------------------------------------------------------------------------------
# MetaGame
# ---------------------------------------------------------------------------------------------


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class MetaGame:
    """The normal-form game between population members, with the sampling error of every entry.

    Build one with :func:`gamesolve.tournament.tournament`, :meth:`from_payoffs` or
    :meth:`from_dict`. Arrays are stored read-only.

    Attributes:
        payoffs: ``[P, K0, ..., K_{P-1}]`` float64: mean payoff of each player for each profile.
        stderr: ``[P, K0, ...]`` float64: standard error of each mean (0 where exact, NaN where a
            single episode was played).
        counts: ``[K0, ...]`` int64: episodes per profile (0 where exact).
        names: Per player, a name per member.
        exact: Whether every entry is an exact expected value.
        symmetric: Members of every seat are the same agents (a symmetric population).
        payoff_range: ``[P, 2]`` float64 ``(lowest, highest)`` payoff one episode can give each
            player, or ``None`` when unknown (used to map payoffs to Elo scores).
    """

    payoffs: NDArray[np.float64]
    stderr: NDArray[np.float64]
    counts: NDArray[np.int64]
    names: tuple[tuple[str, ...], ...]
    exact: bool
    symmetric: bool = False
    payoff_range: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        payoffs = np.array(self.payoffs, dtype=np.float64)
        if payoffs.ndim < 2 or payoffs.shape[0] != payoffs.ndim - 1:
            raise ValueError(f"payoffs must have shape [P, K0, ..., K_(P-1)], got {payoffs.shape}")
        if min(payoffs.shape[1:]) < 1:
            raise ValueError(f"every player needs at least one member, got shape {payoffs.shape}")
        stderr = np.array(self.stderr, dtype=np.float64)
        if stderr.shape != payoffs.shape:
            raise ValueError(f"stderr must have the shape of payoffs {payoffs.shape}, got {stderr.shape}")
        counts = np.array(self.counts, dtype=np.int64)
        if counts.shape != payoffs.shape[1:]:
            raise ValueError(f"counts must have shape {payoffs.shape[1:]}, got {counts.shape}")
        sizes = payoffs.shape[1:]
        if self.names:
            names = tuple(tuple(str(n) for n in seat) for seat in self.names)
            if len(names) != len(sizes) or any(len(n) != k for n, k in zip(names, sizes, strict=False)):
                raise ValueError(f"names must give one name per member: sizes {list(sizes)}")
        else:
            names = tuple(_default_names(k) for k in sizes)
        if self.symmetric and (len(set(sizes)) != 1):
            raise ValueError(f"a symmetric meta-game needs the same number of members per seat, got {sizes}")
        payoff_range = None
        if self.payoff_range is not None:
            payoff_range = np.array(self.payoff_range, dtype=np.float64)
            if payoff_range.shape != (payoffs.shape[0], 2) or np.any(payoff_range[:, 0] > payoff_range[:, 1]):
                raise ValueError(
                    f"payoff_range must be [P, 2] (low, high) per player, got {payoff_range.tolist()}"
                )
            payoff_range = _readonly(payoff_range)
        object.__setattr__(self, "payoffs", _readonly(payoffs))
        object.__setattr__(self, "stderr", _readonly(stderr))
        object.__setattr__(self, "counts", _readonly(counts))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "exact", bool(self.exact))
        object.__setattr__(self, "symmetric", bool(self.symmetric))
        object.__setattr__(self, "payoff_range", payoff_range)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_payoffs(
        cls,
        payoffs: ArrayLike,
        *,
        stderr: ArrayLike | None = None,
        counts: ArrayLike | None = None,
        names: Sequence[Sequence[str]] | None = None,
        symmetric: bool = False,
        payoff_range: ArrayLike | None = None,
    ) -> MetaGame:
        """A meta-game from a payoff tensor; exact unless ``counts`` are given."""
        arr = np.asarray(payoffs, dtype=np.float64)
        err = np.zeros_like(arr) if stderr is None else np.asarray(stderr, dtype=np.float64)
        cnt = np.zeros(arr.shape[1:], dtype=np.int64) if counts is None else np.asarray(counts)
        return cls(
            payoffs=arr,
            stderr=err,
            counts=cnt,
            names=tuple(tuple(n) for n in names) if names is not None else (),
            exact=counts is None or not np.any(np.asarray(counts) > 0),
            symmetric=symmetric,
            payoff_range=None if payoff_range is None else np.asarray(payoff_range, dtype=np.float64),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetaGame:
        """Read :meth:`to_dict` output.

        Raises:
            ValueError: Not a meta-game dictionary, or inconsistent shapes.
        """
        if not isinstance(data, Mapping) or "payoffs" not in data:
            raise ValueError("a meta-game dictionary needs at least a 'payoffs' entry")
        fmt = data.get("format", META_GAME_FORMAT)
        if fmt != META_GAME_FORMAT:
            raise ValueError(f"unknown meta-game format {fmt!r}; expected {META_GAME_FORMAT!r}")
        payoffs = np.asarray(data["payoffs"], dtype=np.float64)
        stderr = data.get("stderr")
        err = np.zeros_like(payoffs) if stderr is None else np.asarray(_nan_in(stderr), dtype=np.float64)
        counts = data.get("counts")
        cnt = np.zeros(payoffs.shape[1:], dtype=np.int64) if counts is None else np.asarray(counts)
        rng = data.get("payoff_range")
        return cls(
            payoffs=payoffs,
            stderr=err,
            counts=cnt,
            names=tuple(tuple(n) for n in data.get("names", ())),
            exact=bool(data.get("exact", counts is None)),
            symmetric=bool(data.get("symmetric", False)),
            payoff_range=None if rng is None else np.asarray(rng, dtype=np.float64),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN standard errors become ``null``)."""
        return {
            "format": META_GAME_FORMAT,
            "payoffs": self.payoffs.tolist(),
            "stderr": _nan_out(self.stderr),
            "counts": self.counts.tolist(),
            "names": [list(n) for n in self.names],
            "exact": self.exact,
            "symmetric": self.symmetric,
            "payoff_range": None if self.payoff_range is None else self.payoff_range.tolist(),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict())

    # ------------------------------------------------------------------ shape
    @property
    def num_players(self) -> int:
        """Number of seats ``P``."""
        return int(self.payoffs.shape[0])

    @property
    def sizes(self) -> tuple[int, ...]:
        """Members per seat ``(K0, ..., K_{P-1})``."""
        return tuple(int(k) for k in self.payoffs.shape[1:])

    def prefix(self, sizes: Sequence[int]) -> MetaGame:
        """The sub-meta-game of the first ``sizes[p]`` members of every seat.

        Raises:
            ValueError: ``sizes`` has the wrong length or exceeds the meta-game.
        """
        sizes = tuple(int(k) for k in sizes)
        if len(sizes) != self.num_players or any(
            not 1 <= k <= n for k, n in zip(sizes, self.sizes, strict=True)
        ):
            raise ValueError(f"sizes must be between 1 and {self.sizes} per seat, got {sizes}")
        index = tuple(slice(0, k) for k in sizes)
        return MetaGame(
            payoffs=self.payoffs[(slice(None), *index)],
            stderr=self.stderr[(slice(None), *index)],
            counts=self.counts[index],
            names=tuple(n[:k] for n, k in zip(self.names, sizes, strict=True)),
            exact=self.exact,
            symmetric=self.symmetric and len(set(sizes)) == 1,
            payoff_range=self.payoff_range,
        )

    # ------------------------------------------------------------------ statistics
    def confidence_interval(self, level: float = 0.95) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Two-sided interval for every entry: ``(lower, upper)``, each ``[P, K0, ...]``.

        The half-width is ``t * stderr`` with ``t`` the Student-t quantile for ``counts - 1``
        degrees of freedom (the normal quantile for large counts). Exact entries (``counts == 0``)
        have zero width; entries from a single episode are ``(-inf, inf)``.

        Raises:
            InvalidArgumentError: ``level`` not a number in ``(0, 1)``.
        """
        level = _level(level)
        from scipy import stats

        counts = np.broadcast_to(self.counts, self.payoffs.shape)
        q = (1.0 + level) / 2.0
        dof = np.maximum(counts - 1, 1).astype(np.float64)
        quantile = np.where(counts > 1, stats.t.ppf(q, dof), np.inf)
        with np.errstate(invalid="ignore"):  # inf * 0 on exact entries; masked out just below
            half = np.where(counts == 0, 0.0, quantile * np.nan_to_num(self.stderr, nan=np.inf))
        return self.payoffs - half, self.payoffs + half

    def to_normal_form(self, name: str = "meta_game") -> TensorGame:
        """The meta-game as a :class:`~gamesolve.normal_form.TensorGame` (members as actions)."""
        return normal_form_game(self.payoffs, name=name, action_names=self.names)

    # ------------------------------------------------------------------ ratings
    def agent_payoffs(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Two-player meta-games: the zero-sum part ``d = (u_0 - u_1) / 2`` and its standard error.

        Returns ``([K0, K1], [K0, K1])``; ``d`` is the row player's payoff in zero-sum games. The
        standard error is ``(se_0 + se_1) / 2``, an upper bound (equal in zero-sum games).

        Raises:
            UnsupportedGame: Not a two-player meta-game.
        """
        self._require_two_players("agent_payoffs")
        d = (self.payoffs[0] - self.payoffs[1]) / 2.0
        se = (self.stderr[0] + self.stderr[1]) / 2.0
        return d, se

    def _require_two_players(self, what: str) -> None:
        if self.num_players != 2:
            raise UnsupportedGame(f"{what} needs a two-player meta-game; this one has {self.num_players}")

    def ratings(self, method: str = "elo", **options: Any) -> Ratings:
        """Rate the members.

        * ``"elo"``: ratings ``r`` with win probability ``1 / (1 + 10 ** (-(r_i - r_j) / 400))``,
          shifted to mean 1500, fitted by Newton's method to the Bernoulli log-likelihood with
          fractional outcomes weighted by episode counts. A pair's score maps the zero-sum part of
          its payoff, ``d = (u_0 - u_1) / 2``, from the range one episode's ``d`` can take
          (``payoff_range``, else the range the tournament recorded, else ``[-M, M]`` with ``M``
          the largest ``|d|``) into ``[0, 1]``; win/loss payoffs give the win rate with draws
          counted half. When some group of agents wins every match against the rest the estimate
          does not exist, and a weak ``N(1500, 1000^2)`` prior per rating keeps it finite
          (``Ratings.note`` says so). Uncertainty: the delta method from the entries' standard
          errors (0 for exact meta-games), or a seeded parametric bootstrap.
        * ``"alpharank"``: each member's mass in alpha-Rank's stationary distribution
          (:func:`gamesolve.alpharank.alpha_rank`, multi-population); a symmetric population
          reports the average of the seats' marginals.
        * ``"nash"``: Nash averaging: the maximum-entropy Nash equilibrium ``p`` of the
          antisymmetrized zero-sum meta-game ``A`` (one LP for the value, then an
          exponential-cone program in cvxpy) and ``rating_i = (A p)_i``, 0 on the support and
          negative elsewhere; for a non-symmetric population, with equilibria ``(p, q)`` of ``D``
          between the seats, row member ``i`` gets ``(D q)_i`` and column member ``j`` gets
          ``-(p^T D)_j``. Adding copies of an agent changes no rating.

        Args:
            method: ``"elo"``, ``"alpharank"`` or ``"nash"``.
            **options: ``elo``: ``payoff_range=(lo, hi)`` of ``d`` per episode, ``prior_std``
                (Elo points), ``uncertainty="delta"|"bootstrap"``, ``bootstrap=200``, ``seed=0``.
                ``alpharank``: ``alpha=100.0``, ``population_size=50``. ``nash``: ``tol``.

        Raises:
            InvalidArgumentError: Unknown method, unknown option (the message lists the known
                ones) or an option value out of range.
            UnsupportedGame: Elo and Nash averaging need two players.
        """
        key = method.strip().lower().replace("-", "").replace("_", "") if isinstance(method, str) else ""
        rate: dict[str, Callable[..., Ratings]] = {
            "elo": _elo,
            "alpharank": _alpharank,
            "nash": _nash_averaging,
            "nashaveraging": _nash_averaging,
        }
        if key not in rate:
            raise InvalidArgumentError(
                f"unknown rating method {method!r}; expected one of {', '.join(RATING_METHODS)}"
            )
        known = [name for name in inspect.signature(rate[key]).parameters if name != "meta"]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise InvalidArgumentError(
                f"unknown option {unknown[0]!r} of the {method} ratings; known options: {', '.join(known)}"
            )
        return rate[key](self, **options)

    # ------------------------------------------------------------------ plots
    def heatmap(
        self, path: str | os.PathLike[str], player: int = 0, *, title: str | None = None, level: float = 0.95
    ) -> None:
        """Write a PNG heatmap of ``player``'s payoffs (rows: seat 0's members, columns: seat 1's).

        Cells show the mean (and the confidence half-width at ``level`` when sampled) for
        meta-games up to 12 x 12. The file is written atomically (matplotlib, Agg canvas).

        Raises:
            UnsupportedGame: Not a two-player meta-game.
            InvalidArgumentError: ``player`` not 0 or 1, or ``level`` not in ``(0, 1)``.
            GamesolveError: matplotlib is not installed.
        """
        self._require_two_players("heatmap")
        player = check_int("player", player, minimum=0, maximum=1)
        level = _level(level)
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.colors import TwoSlopeNorm
            from matplotlib.figure import Figure
        except ImportError:
            raise GamesolveError(
                "heatmap needs matplotlib; install it with `pip install gamesolve[plot]`"
            ) from None

        values = self.payoffs[player]
        k0, k1 = values.shape
        size = (min(2.0 + 0.7 * k1, 16.0), min(1.5 + 0.6 * k0, 14.0))
        fig = Figure(figsize=size, dpi=110, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        lo, hi = float(values.min()), float(values.max())
        if lo < 0.0 < hi:
            norm: Any = TwoSlopeNorm(vcenter=0.0, vmin=lo, vmax=hi)
        else:
            norm = None
        image = ax.imshow(values, cmap="RdBu", norm=norm, aspect="auto")
        fig.colorbar(image, ax=ax, label=f"payoff of player {player}")
        ax.set_xticks(range(k1), labels=list(self.names[1]), rotation=45, ha="right")
        ax.set_yticks(range(k0), labels=list(self.names[0]))
        ax.set_xlabel("player 1 member")
        ax.set_ylabel("player 0 member")
        kind = "exact" if self.exact else f"sampled, {int(self.counts.max())} episodes"
        ax.set_title(title or f"meta-game payoffs of player {player} ({kind})", fontsize=9)
        if k0 <= 12 and k1 <= 12:
            lower, upper = self.confidence_interval(level)
            half = (upper - lower)[player] / 2.0
            for i in range(k0):
                for j in range(k1):
                    text = f"{values[i, j]:.3g}"
                    if self.counts[i, j] > 0 and np.isfinite(half[i, j]):
                        text += f"\n±{half[i, j]:.2g}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        atomic_write_bytes(path, buffer.getvalue(), what="heatmap")

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "sampled"
        sym = ", symmetric" if self.symmetric else ""
        return f"MetaGame({'x'.join(map(str, self.sizes))}, {kind}{sym})"


def _level(level: Any) -> float:
    """A confidence level: a number strictly between 0 and 1."""
    return check_real("level", level, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False)


def _nan_out(a: NDArray[np.float64]) -> Any:
    """Nested lists with ``None`` for non-finite entries (JSON has no NaN)."""
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def _nan_in(nested: Any) -> Any:
    if isinstance(nested, list):
        return [_nan_in(x) for x in nested]
    return np.nan if nested is None else nested


# ---------------------------------------------------------------------------------------------
# Ratings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Ratings:
    """One rating per agent, with its uncertainty.

    Attributes:
        method: ``"elo"``, ``"alpharank"`` or ``"nash"``.
        names: Agent names (``"P0:name"`` / ``"P1:name"`` when the seats hold different agents).
        ratings: ``[K]`` float64.
        uncertainty: ``[K]`` float64 standard errors (NaN where the method gives none).
        seats: The seat of every agent, or ``None`` for agents of a symmetric population.
        details: Method-specific arrays (``"p"``/``"q"``/``"value"`` for Nash averaging,
            ``"stationary"`` for alpha-Rank, ``"scores"`` for Elo).
        note: A sentence about how the numbers were obtained (priors, fallbacks).
    """

    method: str
    names: tuple[str, ...]
    ratings: NDArray[np.float64]
    uncertainty: NDArray[np.float64]
    seats: tuple[int | None, ...]
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ratings", _readonly(np.asarray(self.ratings, dtype=np.float64)))
        object.__setattr__(self, "uncertainty", _readonly(np.asarray(self.uncertainty, dtype=np.float64)))

    def ranking(self) -> list[int]:
        """Agent indices from the highest rating to the lowest (ties by index)."""
        return sorted(range(len(self.names)), key=lambda k: (-float(self.ratings[k]), k))

    def as_mapping(self) -> dict[str, float]:
        """``{name: rating}``."""
        return {n: float(r) for n, r in zip(self.names, self.ratings, strict=True)}

    def table(self) -> str:
        """An aligned text table, best first: rank, name, rating, uncertainty."""
        header = {
            "elo": "Elo (400/ln 10 per unit log-odds, mean 1500)",
            "alpharank": "alpha-Rank stationary mass",
            "nash": "Nash averaging (A p of the max-entropy Nash)",
        }.get(self.method, self.method)
        digits = 1 if self.method == "elo" else 4
        rows = [("rank", "name", "rating", "± stderr")]
        for rank, k in enumerate(self.ranking(), start=1):
            err = float(self.uncertainty[k])
            rows.append(
                (
                    str(rank),
                    self.names[k],
                    f"{float(self.ratings[k]):.{digits}f}",
                    "n/a" if math.isnan(err) else f"{err:.{digits}f}",
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = [header]
        for r in rows:
            lines.append(
                f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}".rstrip()
            )
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        details = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.details.items()}
        return {
            "method": self.method,
            "names": list(self.names),
            "ratings": self.ratings.tolist(),
            "uncertainty": [None if math.isnan(x) else x for x in self.uncertainty.tolist()],
            "seats": list(self.seats),
            "details": details,
            "note": self.note,
        }

    def __repr__(self) -> str:
        return f"Ratings({self.method!r}, agents={len(self.names)})"


def _agents(meta: MetaGame) -> tuple[tuple[str, ...], tuple[int | None, ...]]:
    if meta.symmetric:
        return meta.names[0], (None,) * meta.sizes[0]
    names = tuple(f"P{p}:{n}" for p in range(meta.num_players) for n in meta.names[p])
    seats: tuple[int | None, ...] = tuple(p for p in range(meta.num_players) for _ in meta.names[p])
    return names, seats


def _pairs(
    meta: MetaGame,
) -> tuple[
    int, NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]
]:
    """Comparisons for Bradley-Terry: agents, ``(i, j)`` pairs, zero-sum payoff, its stderr, weights.

    Symmetric meta-games: unordered pairs ``i < j`` of the ``K`` agents, ``d`` averaged over the
    two seatings. Otherwise all ``(row i, column K0 + j)`` pairs.
    """
    d, se = meta.agent_payoffs()
    counts = meta.counts.astype(np.float64)
    use_counts = bool(np.all(meta.counts > 0))
    if meta.symmetric:
        k = meta.sizes[0]
        ii, jj = np.triu_indices(k, 1)
        value = (d[ii, jj] - d[jj, ii]) / 2.0
        err = np.sqrt(se[ii, jj] ** 2 + se[jj, ii] ** 2) / 2.0
        weight = counts[ii, jj] + counts[jj, ii] if use_counts else np.ones(ii.shape[0])
        return k, ii.astype(np.int64), jj.astype(np.int64), value, err, weight
    k0, k1 = meta.sizes
    rows, cols = np.meshgrid(np.arange(k0), np.arange(k1), indexing="ij")
    ri, ci = rows.ravel(), cols.ravel()
    weight = counts[ri, ci] if use_counts else np.ones(ri.shape[0])
    return k0 + k1, ri.astype(np.int64), (k0 + ci).astype(np.int64), d[ri, ci], se[ri, ci], weight


def _score_range(meta: MetaGame, d: NDArray[np.float64], payoff_range: Any) -> tuple[float, float]:
    if payoff_range is not None:
        if (
            isinstance(payoff_range, str | bytes)
            or not hasattr(payoff_range, "__len__")
            or len(payoff_range) != 2
        ):
            raise InvalidArgumentError(f"payoff_range must be (low, high), got {payoff_range!r}")
        lo = check_real("payoff_range[0]", payoff_range[0])
        hi = check_real("payoff_range[1]", payoff_range[1])
        if not hi > lo:
            raise InvalidArgumentError(f"payoff_range must be (low, high) with low < high, got {(lo, hi)}")
    elif meta.payoff_range is not None:
        r = meta.payoff_range
        lo = (float(r[0, 0]) - float(r[1, 1])) / 2.0
        hi = (float(r[0, 1]) - float(r[1, 0])) / 2.0
        if meta.symmetric:  # either seat's d: the union of both ranges
            lo, hi = min(lo, -hi), max(hi, -lo)
    else:
        m = float(np.abs(d).max(initial=0.0))
        lo, hi = -m, m
    if not hi > lo:
        if hi == lo:
            return lo - 1.0, hi + 1.0
        raise ValueError(f"payoff_range must be (low, high) with low < high, got {(lo, hi)}")
    return lo, hi


def _strongly_connected(k: int, ii: NDArray[np.int64], jj: NDArray[np.int64], s: NDArray[np.float64]) -> bool:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    rows = np.concatenate([ii[s > 0.0], jj[s < 1.0]])
    cols = np.concatenate([jj[s > 0.0], ii[s < 1.0]])
    graph = csr_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=(k, k))
    n, _ = connected_components(graph, directed=True, connection="strong")
    return bool(n == 1)


def _fit_bradley_terry(
    k: int,
    ii: NDArray[np.int64],
    jj: NDArray[np.int64],
    s: NDArray[np.float64],
    w: NDArray[np.float64],
    precision: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log-odds strengths ``x`` (mean 0) maximizing the weighted likelihood (+ Gaussian prior).

    Returns ``x [K]`` and the pseudo-inverse of the negative Hessian ``[K, K]`` at ``x``.
    """
    wn = w / w.mean()
    x = np.zeros(k)

    def objective(x: NDArray[np.float64]) -> float:
        z = x[ii] - x[jj]
        # s log sigma(z) + (1 - s) log sigma(-z), stably
        ll = -(s * np.logaddexp(0.0, -z) + (1.0 - s) * np.logaddexp(0.0, z))
        return float(np.dot(wn, ll) - 0.5 * precision * np.dot(x, x))

    current = objective(x)
    ones = np.full((k, k), 1.0 / k)
    for _ in range(200):
        z = x[ii] - x[jj]
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # logistic(z)
        r = wn * (s - p)
        grad = np.zeros(k)
        np.add.at(grad, ii, r)
        np.add.at(grad, jj, -r)
        grad -= precision * x
        curv = wn * p * (1.0 - p)
        lap = np.zeros((k, k))
        np.add.at(lap, (ii, ii), curv)
        np.add.at(lap, (jj, jj), curv)
        np.add.at(lap, (ii, jj), -curv)
        np.add.at(lap, (jj, ii), -curv)
        lap += precision * np.eye(k)
        step = np.linalg.solve(lap + ones, grad)
        step -= step.mean()
        t = 1.0
        while True:
            trial = x + t * step
            value = objective(trial)
            if value >= current - 1e-15 * abs(current) or t < 1e-8:
                break
            t *= 0.5
        x, current = trial, value
        if float(np.abs(t * step).max()) < 1e-12:
            break
    z = x[ii] - x[jj]
    p = 0.5 * (1.0 + np.tanh(0.5 * z))
    curv = wn * p * (1.0 - p)
    lap = np.zeros((k, k))
    np.add.at(lap, (ii, ii), curv)
    np.add.at(lap, (jj, jj), curv)
    np.add.at(lap, (ii, jj), -curv)
    np.add.at(lap, (jj, ii), -curv)
    lap += precision * np.eye(k)
    return np.asarray(x - x.mean(), dtype=np.float64), np.asarray(np.linalg.pinv(lap), dtype=np.float64)


def _elo(
    meta: MetaGame,
    *,
    payoff_range: Sequence[float] | None = None,
    prior_std: float | None = None,
    uncertainty: str = "delta",
    bootstrap: int = 200,
    seed: int = 0,
) -> Ratings:
    meta._require_two_players("Elo ratings")
    uncertainty = check_choice("uncertainty", uncertainty, ("delta", "bootstrap"))
    if prior_std is not None:
        prior_std = check_real("prior_std", prior_std, minimum=0.0, min_inclusive=False)
    bootstrap = check_int("bootstrap", bootstrap, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    names, seats = _agents(meta)
    k, ii, jj, d, se, w = _pairs(meta)
    if ii.shape[0] == 0:  # a single agent: nothing to compare
        return Ratings("elo", names, np.full(k, ELO_MEAN), np.full(k, np.nan), seats, note="one agent")
    lo, hi = _score_range(meta, d, payoff_range)
    scores = np.clip((d - lo) / (hi - lo), 0.0, 1.0)
    score_se = se / (hi - lo)
    note = ""
    if prior_std is None and not _strongly_connected(k, ii, jj, scores):
        prior_std = ELO_FALLBACK_PRIOR
        note = (
            "maximum-likelihood ratings diverge (some agents win every match against the rest); "
            f"a N(1500, {ELO_FALLBACK_PRIOR:g}^2) prior keeps them finite"
        )
    # prior N(0, sigma^2) on the log-odds strengths, sigma = prior_std / ELO_SCALE, on the scale of
    # the weighted likelihood the fit uses (weights normalized to mean 1)
    precision = 0.0 if prior_std is None else (ELO_SCALE / prior_std) ** 2 / float(w.mean())
    x, cov_inv = _fit_bradley_terry(k, ii, jj, scores, w, precision)
    if uncertainty == "delta":
        wn = w / w.mean()
        jac = np.zeros((k, ii.shape[0]))  # d x / d s_pair
        jac[ii, np.arange(ii.shape[0])] = wn
        jac[jj, np.arange(ii.shape[0])] = -wn
        sens = cov_inv @ jac
        var = (sens**2) @ np.nan_to_num(score_se**2, nan=np.inf)
        std = np.sqrt(var) * ELO_SCALE
    else:
        rng = np.random.default_rng(seed)
        draws = np.empty((int(bootstrap), k))
        for b in range(int(bootstrap)):
            noisy = np.clip(scores + rng.standard_normal(scores.shape) * np.nan_to_num(score_se), 0.0, 1.0)
            draws[b], _ = _fit_bradley_terry(k, ii, jj, noisy, w, precision)
        std = draws.std(axis=0, ddof=1) * ELO_SCALE
    return Ratings(
        method="elo",
        names=names,
        ratings=ELO_MEAN + ELO_SCALE * x,
        uncertainty=std,
        seats=seats,
        details={"scores": scores, "score_range": (lo, hi), "prior_std": prior_std},
        note=note,
    )


def _alpharank(meta: MetaGame, *, alpha: float = 100.0, population_size: int = 50) -> Ratings:
    from gamesolve.alpharank import alpha_rank

    alpha = check_real("alpha", alpha, minimum=0.0, min_inclusive=False)
    population_size = check_int("population_size", population_size, minimum=2)
    result = alpha_rank(meta.to_normal_form(), alpha=alpha, population_size=population_size)
    names, seats = _agents(meta)
    # a symmetric population: the seats' marginals are equal up to sampling noise; average them
    mass = np.mean(np.stack(result.marginals), axis=0) if meta.symmetric else np.concatenate(result.marginals)
    return Ratings(
        method="alpharank",
        names=names,
        ratings=mass,
        uncertainty=np.full(mass.shape[0], np.nan),
        seats=seats,
        details={"stationary": result.stationary, "alpha": alpha, "population_size": population_size},
        note=f"alpha={alpha:g}, m={population_size}",
    )


def _zero_sum_value(matrix: NDArray[np.float64]) -> float:
    """Value of the zero-sum game where the row player maximizes ``x^T M y`` (one HiGHS LP)."""
    from scipy.optimize import linprog

    m, n = matrix.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    res = linprog(
        c,
        A_ub=np.hstack([-matrix.T, np.ones((n, 1))]),
        b_ub=np.zeros(n),
        A_eq=np.hstack([np.ones((1, m)), np.zeros((1, 1))]),
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"the meta-game LP failed: {res.message}")
    return float(-res.fun)


def _max_entropy_maximin(matrix: NDArray[np.float64], value: float, tol: float) -> NDArray[np.float64]:
    """The maximum-entropy ``p`` in the simplex with ``M^T p >= value - tol`` (cvxpy, exp cone)."""
    import cvxpy as cp

    m = matrix.shape[0]
    if m == 1:
        return np.ones(1)
    p = cp.Variable(m, nonneg=True)
    problem = cp.Problem(cp.Maximize(cp.sum(cp.entr(p))), [matrix.T @ p >= value - tol, cp.sum(p) == 1])
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError:
        problem.solve(solver=cp.SCS, eps=1e-10)
    if p.value is None:
        raise RuntimeError(f"max-entropy Nash: the convex program failed ({problem.status})")
    out = np.maximum(np.asarray(p.value, dtype=np.float64), 0.0)
    return out / out.sum()


def _nash_averaging(meta: MetaGame, *, tol: float | None = None) -> Ratings:
    meta._require_two_players("Nash averaging")
    names, seats = _agents(meta)
    d, _ = meta.agent_payoffs()
    scale = max(1.0, float(np.abs(d).max(initial=0.0)))
    tol = 1e-9 * scale if tol is None else check_real("tol", tol, minimum=0.0, min_inclusive=False)
    if meta.symmetric:
        a = (d - d.T) / 2.0  # a_ij = (d_ij - d_ji) / 2: antisymmetric
        p = _max_entropy_maximin(a, 0.0, tol)
        ratings = a @ p
        details: dict[str, Any] = {"p": p, "value": 0.0, "matrix": a}
    else:
        value = _zero_sum_value(d)
        p = _max_entropy_maximin(d, value, tol)
        q = _max_entropy_maximin(-d.T, -value, tol)
        ratings = np.concatenate([d @ q, -(p @ d)])
        details = {"p": p, "q": q, "value": value, "matrix": d}
    return Ratings(
        method="nash",
        names=names,
        ratings=ratings,
        uncertainty=np.full(ratings.shape[0], np.nan),
        seats=seats,
        details=details,
        note="ratings are A p for the maximum-entropy Nash p; 0 means in the equilibrium support",
    )
