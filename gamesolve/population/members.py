"""Members of a population: who plays each seat, and what a member may be.

* :class:`Population`: ``members[p][k]`` is policy ``k`` of player (seat) ``p``; a symmetric
  population has one list of policies that plays every seat.
* :class:`ActingPolicy`: a member that can only be queried for actions (a network, a bot);
  :class:`TableActor` wraps a table as one. :class:`StateActingPolicy`: one that needs the game
  state itself (a search bot such as :class:`gamesolve.mcts.MCTSPolicy`).
* :func:`prepare_members`: the one place where members become what the backend evaluates (checked
  tables on games with a tabular form, acting policies elsewhere); a member that tabulates itself
  (``tabulate(game)``) is tabulated there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CompiledGame
from gamesolve.errors import InvalidArgumentError, InvalidPolicyError
from gamesolve.kernels.mccfr import pick_py
from gamesolve.normal_form import TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.validation import check_int

__all__ = [
    "ActingPolicy",
    "InfosetTableActor",
    "Population",
    "StateActingPolicy",
    "TableActor",
    "acts_on_states",
    "as_population",
    "default_names",
    "is_acting",
    "prepare_members",
    "table_of",
]

_ROW_ATOL = 1e-6
_NEG_ATOL = 1e-12


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


@runtime_checkable
class StateActingPolicy(Protocol):
    """A policy that acts on the game's state itself (a search bot), not on what a player observes.

    Matches of a population with such a member step the game's states
    (:class:`~gamesolve.population.sampler.StateEpisodes`), also on games that compile.
    """

    def act_state(
        self,
        player: int,
        state: Any,
        legal: NDArray[np.int64],
        rng: np.random.Generator,
    ) -> int:
        """An action among ``legal`` (action ids) for ``player`` at ``state``, drawing from ``rng``."""
        ...


# ---------------------------------------------------------------------------------------------
# Population
# ---------------------------------------------------------------------------------------------


def default_names(count: int, start: int = 0) -> tuple[str, ...]:
    """``pi0``, ``pi1``, ...: the names of ``count`` members numbered from ``start``."""
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
            names = tuple(default_names(len(seat)) for seat in members)
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
        seat_names = tuple(str(n) for n in names) if names is not None else default_names(len(seat))
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
# Members: conversion in one place
# ---------------------------------------------------------------------------------------------


class TableActor:
    """A table as an :class:`ActingPolicy`: acts by sampling the row of the observed infoset or state.

    ``observation`` must be the one-hot encoding of the seat's row (its infoset among
    ``game.infosets_of(player)`` for a :class:`~gamesolve.policy.TabularPolicy`, its state for an
    ``[S, A]`` Markov strategy). :meth:`tabulate` gives the table back, so the backend evaluates
    a wrapped table exactly like the table itself.
    """

    def __init__(self, table: TabularPolicy | NDArray[np.float64]) -> None:
        self.table = table

    def tabulate(self, game: Any = None) -> TabularPolicy | NDArray[np.float64]:
        """The wrapped table."""
        del game
        return self.table

    def act(
        self,
        player: int,
        observation: NDArray[np.float32],
        legal: NDArray[np.int64],
        rng: np.random.Generator,
    ) -> int:
        """An action drawn from the row that ``observation`` (a one-hot vector) selects."""
        if isinstance(self.table, TabularPolicy):
            rows = np.asarray(self.table.probs)[self.table.game.infosets_of(player)]
        else:
            rows = np.asarray(self.table, dtype=np.float64)
        row = rows[int(np.argmax(observation))]
        return int(legal[int(rng.choice(legal.shape[0], p=row[: legal.shape[0]]))])

    def __repr__(self) -> str:
        return f"TableActor({self.table!r})"


class InfosetTableActor:
    """A table of a compiled game as a :class:`StateActingPolicy`: samples the row of the state's infoset.

    Lets tables play matches that step the game's states (next to a search bot): the row is the
    infoset of ``state.infoset_key(player)`` in ``game``, the slot is drawn by inverse CDF
    (:func:`gamesolve.kernels.mccfr.pick_py`) and played as its action id.
    """

    def __init__(self, game: CompiledGame, table: NDArray[np.float64]) -> None:
        self.game = game
        self.table = table

    def act_state(self, player: int, state: Any, legal: NDArray[np.int64], rng: np.random.Generator) -> int:
        """The action id of a slot drawn from the row of ``player``'s infoset at ``state``."""
        del legal
        try:
            row = self.game.infosets.id(state.infoset_key(player))
        except KeyError as exc:
            message = f"player {player}: the table has no row for this history: {exc}"
            raise InvalidPolicyError(message) from None
        width = int(self.game.infoset_num_actions[row])
        slot = pick_py(self.table[row, :width].tolist(), float(rng.random()))
        return int(self.game.infoset_actions[row, slot])

    def __repr__(self) -> str:
        return f"InfosetTableActor({self.game.spec.name})"


def is_acting(member: Any) -> bool:
    """Whether ``member`` acts (``act``, ``act_state`` or a plain callable), rather than being a table."""
    return (
        callable(getattr(member, "act", None))
        or acts_on_states(member)
        or (callable(member) and not isinstance(member, np.ndarray))
    )


def acts_on_states(member: Any) -> bool:
    """Whether ``member`` acts on game states (a :class:`StateActingPolicy`)."""
    return callable(getattr(member, "act_state", None))


def as_population(policies: Any, players: int) -> Population:
    """``policies`` as a :class:`Population`.

    ``policies`` is a population, a list or ``{name: policy}`` mapping (a symmetric population),
    or one list of policies per seat.

    Raises:
        TypeError: Not one of these.
        ValueError: An empty list.
    """
    if isinstance(policies, Population):
        return policies
    if isinstance(policies, Mapping):
        return Population.symmetric(policies, players=players)
    if isinstance(policies, str) or not isinstance(policies, Sequence):
        raise TypeError(
            "policies must be a Population, a list or mapping of policies (symmetric), or one list per "
            f"player, got {type(policies).__name__}"
        )
    items = list(policies)
    if not items:
        raise ValueError("a tournament needs at least one policy")
    if all(isinstance(x, list | tuple) for x in items) and not all(
        all(isinstance(v, int | float | np.integer | np.floating) for v in x) for x in items
    ):
        return Population(members=tuple(tuple(x) for x in items))
    return Population.symmetric(items, players=players)


def prepare_members(kind: str, game: Any, population: Population, *, acting: bool = False) -> list[list[Any]]:
    """Every member as the backend evaluates it, checked against ``game`` of ``kind``.

    ``kind`` is :func:`gamesolve.population.backend.game_kind`'s: ``"compiled"`` (``game`` a
    :class:`~gamesolve.compiled.CompiledGame`; members become ``[I, A]`` arrays, or stay acting
    policies when ``acting`` allows it, for sampled entries), ``"normal"`` (probability vectors),
    ``"markov"`` (``[S, A_p]`` arrays or acting policies) or ``"sampled"`` (acting policies).

    Raises:
        InvalidPolicyError: A member does not fit (the message names the player and member index).
    """
    out: list[list[Any]] = []
    tables: dict[int, Any] = {}  # a member shared by several seats is tabulated once
    for p, seat in enumerate(population.members):
        prepared = []
        for k, member in enumerate(seat):
            if kind == "compiled":
                if id(member) not in tables:
                    tables[id(member)] = _tabulated(member, game)
                tabulated = tables[id(member)]
                if acting and is_acting(tabulated):
                    prepared.append(tabulated)
                else:
                    prepared.append(_compiled_member(game, tabulated, p, k))
            elif kind == "normal":
                prepared.append(_normal_member(game, member, p, k))
            elif kind == "markov":
                prepared.append(_markov_member(game, member, p, k))
            else:
                prepared.append(_sampled_member(member, p, k))
        out.append(prepared)
    return out


def _where(player: int, k: int) -> str:
    return f"player {player} member {k}"


def _check_rows(rows: NDArray[np.float64], widths: NDArray[np.int32], where: str, what: str) -> None:
    """Rows of probabilities: finite, non-negative, no illegal mass, summing to 1."""
    if not np.all(np.isfinite(rows)):
        bad = int(np.argwhere(~np.isfinite(rows))[0, 0])
        raise InvalidPolicyError(f"{where}: non-finite probability at {what} {bad}")
    if np.any(rows < -_NEG_ATOL):
        bad = int(np.argwhere(rows < -_NEG_ATOL)[0, 0])
        raise InvalidPolicyError(f"{where}: negative probability at {what} {bad}")
    legal = np.arange(rows.shape[1])[None, :] < widths[:, None]
    illegal = np.abs(np.where(legal, 0.0, rows)).max(axis=1, initial=0.0) > _NEG_ATOL
    if illegal.any():
        raise InvalidPolicyError(
            f"{where}: mass on an illegal action at {what} {int(np.flatnonzero(illegal)[0])}"
        )
    sums = np.where(legal, rows, 0.0).sum(axis=1)
    off = np.abs(sums - 1.0) > _ROW_ATOL
    if off.any():
        bad = int(np.flatnonzero(off)[0])
        raise InvalidPolicyError(f"{where}: probabilities at {what} {bad} sum to {sums[bad]:.9g}, expected 1")


def _tabulated(member: Any, game: Any) -> Any:
    """``member.tabulate(game)`` (or ``tabulate()``) for members that tabulate themselves."""
    tabulate = getattr(member, "tabulate", None)
    if isinstance(member, TabularPolicy | np.ndarray) or not callable(tabulate):
        return member
    try:  # e.g. gamesolve.solvers.rl_oracles' trained responses: tabulate(game) -> TabularPolicy
        return tabulate(game)
    except TypeError:
        return tabulate()


def table_of(
    game: CompiledGame, member: Any, where: str, rows: NDArray[np.int32] | None = None
) -> NDArray[np.float64]:
    """``[I, A]`` probabilities of a table member of ``game``, checked at ``rows`` (default: all).

    ``member`` is a :class:`~gamesolve.policy.TabularPolicy` of ``game`` (or of a game with the
    same infosets and actions), an ``[I, A]`` array, or an object that tabulates itself.

    Raises:
        InvalidPolicyError: The member belongs to another game, has the wrong shape or bad rows
            (the message starts with ``where``).
    """
    member = _tabulated(member, game)
    if isinstance(member, TabularPolicy):
        other = member.game
        if other is not game and (
            other.infosets.keys != game.infosets.keys
            or not np.array_equal(other.infoset_actions, game.infoset_actions)
        ):
            raise InvalidPolicyError(
                f"{where}: the policy belongs to a different game ({other.num_infosets} infosets, "
                f"{other.max_actions} actions; this game has {game.num_infosets} and {game.max_actions})"
            )
        arr = np.asarray(member.probs, dtype=np.float64)
    elif isinstance(member, np.ndarray | list | tuple):
        try:
            arr = np.asarray(member, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidPolicyError(f"{where}: expected a numeric [infosets, actions] array") from None
    else:
        raise InvalidPolicyError(
            f"{where}: a {type(member).__name__} cannot be evaluated on a compiled game; pass a "
            "TabularPolicy (tabulate acting policies first)"
        )
    expected = (game.num_infosets, game.max_actions)
    if arr.shape != expected:
        raise InvalidPolicyError(
            f"{where}: policy has shape {arr.shape}, expected {expected} (infosets, actions) "
            f"for {game.spec.name}"
        )
    index = np.arange(game.num_infosets) if rows is None else rows
    _check_rows(arr[index], game.infoset_num_actions[index], where, "infoset")
    return arr


def _compiled_member(game: CompiledGame, member: Any, player: int, k: int) -> NDArray[np.float64]:
    return table_of(game, member, _where(player, k), game.infosets_of(player))


def _normal_member(game: TensorGame, member: Any, player: int, k: int) -> NDArray[np.float64]:
    where = _where(player, k)
    n = game.num_actions[player]
    member = _tabulated(member, game)
    if isinstance(member, int | np.integer) and not isinstance(member, bool):
        if not 0 <= int(member) < n:
            raise InvalidPolicyError(f"{where}: pure strategy {int(member)} is not in [0, {n})")
        return np.eye(n)[int(member)]
    try:
        arr = np.asarray(member, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidPolicyError(f"{where}: expected a probability vector of length {n}") from None
    if arr.shape != (n,):
        raise InvalidPolicyError(f"{where}: strategy has shape {arr.shape}, expected ({n},) actions")
    _check_rows(arr[None, :], np.array([n], dtype=np.int32), where, "row")
    return arr


def _markov_member(game: Any, member: Any, player: int, k: int) -> Any:
    member = _tabulated(member, game)
    if is_acting(member):
        return member
    where = _where(player, k)
    try:
        arr = np.asarray(member, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidPolicyError(f"{where}: expected an [S, A] strategy or an acting policy") from None
    expected = (game.num_states, game.num_actions[player])
    if arr.shape != expected:
        raise InvalidPolicyError(
            f"{where}: strategy has shape {arr.shape}, expected {expected} (states, actions)"
        )
    widths = np.full(expected[0], expected[1], dtype=np.int32)
    _check_rows(arr, widths, where, "state")
    return arr


def _sampled_member(member: Any, player: int, k: int) -> Any:
    if is_acting(member):
        return member
    raise InvalidPolicyError(
        f"{_where(player, k)}: a {type(member).__name__} cannot act; games that can only be sampled need "
        "an ActingPolicy (an object with act(player, observation, legal, rng)) or such a callable"
    )
