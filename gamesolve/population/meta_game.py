"""The meta-game between population members: payoffs, their sampling error, and serialization.

:class:`MetaGame` is the normal-form game between members, ``payoffs [P, K0, K1, ...]`` (each
player's mean payoff per profile), with standard errors and episode counts when sampled; the
population backend (:func:`gamesolve.population.meta_game_entries`) fills it.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import readonly
from gamesolve.errors import GamesolveError, UnsupportedGame
from gamesolve.io import atomic_write_bytes
from gamesolve.normal_form import TensorGame, normal_form_game
from gamesolve.population.members import default_names
from gamesolve.validation import check_int, check_real

if TYPE_CHECKING:
    from gamesolve.population.ratings import Ratings

__all__ = ["META_GAME_FORMAT", "MetaGame"]

#: Format tag of :meth:`MetaGame.to_dict`.
META_GAME_FORMAT = "gamesolve.meta_game/1"


# ---------------------------------------------------------------------------------------------
# MetaGame
# ---------------------------------------------------------------------------------------------


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
            names = tuple(default_names(k) for k in sizes)
        if self.symmetric and (len(set(sizes)) != 1):
            raise ValueError(f"a symmetric meta-game needs the same number of members per seat, got {sizes}")
        payoff_range = None
        if self.payoff_range is not None:
            payoff_range = np.array(self.payoff_range, dtype=np.float64)
            if payoff_range.shape != (payoffs.shape[0], 2) or np.any(payoff_range[:, 0] > payoff_range[:, 1]):
                raise ValueError(
                    f"payoff_range must be [P, 2] (low, high) per player, got {payoff_range.tolist()}"
                )
            payoff_range = readonly(payoff_range)
        object.__setattr__(self, "payoffs", readonly(payoffs))
        object.__setattr__(self, "stderr", readonly(stderr))
        object.__setattr__(self, "counts", readonly(counts))
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
    def pooled(self, more: MetaGame) -> MetaGame:
        """This meta-game with ``more``'s sampled matches added to the same profiles.

        Where ``more`` played a profile (count above 0) the two means are pooled by their episode
        counts and their standard errors combined as those of independent means; elsewhere the
        entries are kept. Both must be sampled meta-games over the same populations.

        Raises:
            ValueError: Shapes differ, or either meta-game is exact.
        """
        if more.payoffs.shape != self.payoffs.shape:
            raise ValueError(
                f"cannot pool meta-games of shapes {self.payoffs.shape} and {more.payoffs.shape}"
            )
        if self.exact or more.exact:
            raise ValueError("only sampled meta-games pool their matches")
        n1 = self.counts.astype(np.float64)
        n2 = more.counts.astype(np.float64)
        total = n1 + n2
        played = n2 > 0
        safe = np.where(total > 0, total, 1.0)
        mean = np.where(played, (n1 * self.payoffs + n2 * more.payoffs) / safe, self.payoffs)
        err1 = np.nan_to_num(self.stderr)
        err2 = np.nan_to_num(more.stderr)
        pooled_err = np.sqrt((n1 * err1) ** 2 + (n2 * err2) ** 2) / safe
        stderr = np.where(played, pooled_err, self.stderr)
        return MetaGame(
            payoffs=mean,
            stderr=stderr,
            counts=(n1 + n2).astype(np.int64),
            names=self.names,
            exact=False,
            symmetric=self.symmetric,
            payoff_range=self.payoff_range,
        )

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
        self.require_two_players("agent_payoffs")
        d = (self.payoffs[0] - self.payoffs[1]) / 2.0
        se = (self.stderr[0] + self.stderr[1]) / 2.0
        return d, se

    def require_two_players(self, what: str) -> None:
        """Raise :class:`~gamesolve.errors.UnsupportedGame` naming ``what`` unless there are two players."""
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
        from gamesolve.population.ratings import rate

        return rate(self, method, **options)

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
        self.require_two_players("heatmap")
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
