"""Normal-form (strategic-form) games with N players, mixed profiles and their exact evaluation.

A :class:`TensorGame` holds one payoff tensor ``[P, A0, ..., A_{P-1}]`` (float64, read-only):
``payoffs[i, a0, ..., a_{P-1}]`` is player ``i``'s payoff when each player ``k`` plays ``a_k``.
A :class:`MixedProfile` holds one probability vector per player.

For two-player zero-sum games the row player (0) maximizes ``x^T A y`` with ``A = payoffs[0]``.
NashConv of a profile is the sum over players of the gain from the best pure deviation; for
two-player zero-sum games it equals the duality gap ``max_i (A y)_i - min_j (A^T x)_j``.

>>> import numpy as np, gamesolve
>>> rps = gamesolve.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
>>> gamesolve.nash_conv(rps, gamesolve.MixedProfile.uniform(rps)).nash_conv
0.0
"""

from __future__ import annotations

import math
import numbers
import os
import reprlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import readonly
from gamesolve.errors import InvalidPolicyError, MalformedGameError
from gamesolve.io import read_policy_file
from gamesolve.report import ExploitabilityReport
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = [
    "MixedProfile",
    "TensorGame",
    "bimatrix",
    "normal_form_game",
    "profile_strategies",
    "zero_sum",
]

_ATOL = 1e-9


def classify_utility(payoffs: NDArray[np.float64], atol: float = 1e-12) -> Utility:
    """The utility kind of a payoff tensor ``[P, ...]`` (zero, constant, identical or general sum)."""
    # In units of a power of two at least the largest payoff (exact), so that sums of payoffs
    # near 1e308 cannot overflow; the tolerance is relative to max(1, max |u|) as before.
    largest = float(np.abs(payoffs).max(initial=0.0))
    exponent = math.frexp(max(1.0, largest))[1]
    units = np.ldexp(payoffs, -exponent)  # [P, ...] entries in [-1, 1]
    tol = atol * math.ldexp(max(1.0, largest), -exponent)  # the same tolerance, in those units
    total = units.sum(axis=0)
    if np.allclose(total, 0.0, atol=tol, rtol=0.0):
        return Utility.ZERO_SUM
    if np.allclose(total, total.flat[0], atol=tol, rtol=0.0):
        return Utility.CONSTANT_SUM
    if payoffs.shape[0] > 1 and np.allclose(units, units[:1], atol=tol, rtol=0.0):
        return Utility.IDENTICAL
    return Utility.GENERAL_SUM


@dataclass(frozen=True, eq=False)
class TensorGame:
    """An N-player normal-form game.

    Build one with :func:`normal_form_game`, :func:`zero_sum` or :func:`bimatrix`, which validate
    their input. Attributes are read-only.

    Attributes:
        payoffs: ``[P, A0, ..., A_{P-1}]`` float64.
        spec: The game's static description.
        action_names: Per player, a name for every action.
    """

    payoffs: NDArray[np.float64]
    spec: GameSpec
    action_names: tuple[tuple[str, ...], ...]

    @property
    def num_players(self) -> int:
        """Number of players."""
        return self.spec.num_players

    @property
    def num_actions(self) -> tuple[int, ...]:
        """Number of pure strategies of every player."""
        return tuple(int(n) for n in self.payoffs.shape[1:])

    @property
    def matrix(self) -> NDArray[np.float64]:
        """Row player's payoff matrix ``A`` (two-player games only)."""
        self._require_two_players("matrix")
        return self.payoffs[0]

    def _require_two_players(self, what: str) -> None:
        if self.num_players != 2:
            raise MalformedGameError(
                f"{what} is defined for two-player games; this one has {self.num_players}"
            )

    def action_values(self, profile: MixedProfile | Sequence[ArrayLike], player: int) -> NDArray[np.float64]:
        """``[A_player]``: expected payoff of each pure action of ``player`` against the others."""
        strategies = profile_strategies(self, profile)
        tensor = self.payoffs[player]
        # contract every other player's axis with its strategy, from the last axis down
        for k in range(self.num_players - 1, -1, -1):
            if k != player:
                tensor = np.tensordot(tensor, strategies[k], axes=([k], [0]))
        return np.asarray(tensor, dtype=np.float64)

    def expected_payoffs(self, profile: MixedProfile | Sequence[ArrayLike]) -> NDArray[np.float64]:
        """``[P]``: every player's expected payoff under the profile."""
        strategies = profile_strategies(self, profile)
        out = np.empty(self.num_players)
        for i in range(self.num_players):
            out[i] = float(self.action_values(strategies, i) @ strategies[i])
        return out

    def __repr__(self) -> str:
        shape = "x".join(str(n) for n in self.num_actions)
        return f"TensorGame({self.spec.name!r}, {shape}, {self.spec.utility.value})"


@dataclass(frozen=True)
class MixedProfile:
    """One mixed strategy per player (each a read-only probability vector).

    Args:
        strategies: Per player, a probability vector over its actions.
    """

    strategies: tuple[NDArray[np.float64], ...]

    @classmethod
    def of(cls, game: TensorGame, strategies: Sequence[ArrayLike]) -> MixedProfile:
        """Validate ``strategies`` against ``game`` and build a profile.

        Raises:
            InvalidPolicyError: Wrong count or lengths, negative or NaN entries, sums not 1.
        """
        return cls(tuple(readonly(s) for s in profile_strategies(game, strategies)))

    @classmethod
    def from_data(cls, game: TensorGame, data: Any) -> MixedProfile:
        """Build a profile from parsed JSON: ``{"profile": [[...], ...]}`` or a bare list.

        The list holds one list of numbers per player. A mapping may be a ``--policy-out`` file
        (``{"profile": ...}``) or a ``--json`` result file of a normal-form solve (which also has
        a ``"profile"`` entry). Every entry is checked before any array is built: numbers only
        (no strings, booleans or ``null``), finite, one list per player and one entry per action.

        Raises:
            InvalidPolicyError: The content does not describe a mixed profile of ``game``; the
                message names the player and action at fault.
        """
        if isinstance(data, Mapping):
            if "profile" not in data:
                raise InvalidPolicyError(
                    'a profile must be {"profile": [[...], ...]} or a list of per-player probability '
                    f"lists; this mapping has keys {preview(sorted(map(str, data))[:6])}"
                )
            data = data["profile"]
        players = game.num_players
        if not isinstance(data, list):
            raise InvalidPolicyError(
                f"a profile must be a list of {players} per-player probability lists, got "
                f"{preview(data)} ({type(data).__name__})"
            )
        if len(data) != players:
            hint = ""
            if _is_joint_distribution(game, data):
                hint = " (this looks like a joint distribution over action profiles, as ce/cce write)"
            raise InvalidPolicyError(
                f"a profile must have one strategy per player ({players}), got {len(data)} lists{hint}"
            )
        try:
            vectors = [
                json_numbers(f"player {k} strategy", row, n, item="action")
                for k, (row, n) in enumerate(zip(data, game.num_actions, strict=True))
            ]
            return cls.of(game, vectors)
        except InvalidPolicyError as exc:
            if _is_joint_distribution(game, data):
                raise InvalidPolicyError(
                    f"{exc} (this looks like a joint distribution, not a profile)"
                ) from None
            raise

    @classmethod
    def from_json(cls, game: TensorGame, path: str | os.PathLike[str]) -> MixedProfile:
        """Read a profile file: ``{"profile": [[...], ...]}``, a bare list, or a ``--json`` result.

        The file is read by :func:`gamesolve.io.read_policy_file` (one clear error for each way
        a file can fail to be JSON) and its content is checked by :meth:`from_data`.

        Raises:
            InputFileError: The file cannot be read as JSON.
            InvalidPolicyError: The JSON is not a profile of ``game`` (the message names the file,
                the player and the action).
        """
        return read_policy_file(path, what="profile file", parse=lambda data: cls.from_data(game, data))

    @classmethod
    def uniform(cls, game: TensorGame) -> MixedProfile:
        """Every player uniform over its actions."""
        return cls(tuple(readonly(np.full(n, 1.0 / n)) for n in game.num_actions))

    @classmethod
    def pure(cls, game: TensorGame, actions: Sequence[int]) -> MixedProfile:
        """The pure profile where player ``k`` plays ``actions[k]``."""
        if len(actions) != game.num_players:
            raise InvalidPolicyError(f"pure profile needs {game.num_players} actions, got {len(actions)}")
        out = []
        for k, (a, n) in enumerate(zip(actions, game.num_actions, strict=True)):
            if not 0 <= a < n:
                raise InvalidPolicyError(f"player {k}: action {a} out of range [0, {n})")
            vec = np.zeros(n)
            vec[a] = 1.0
            out.append(readonly(vec))
        return cls(tuple(out))

    def __iter__(self) -> Iterator[NDArray[np.float64]]:
        return iter(self.strategies)

    def __len__(self) -> int:
        return len(self.strategies)

    def __getitem__(self, player: int) -> NDArray[np.float64]:
        return self.strategies[player]

    def to_lists(self) -> list[list[float]]:
        """Plain nested lists (JSON-ready)."""
        return [s.tolist() for s in self.strategies]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MixedProfile):
            return NotImplemented
        return len(self) == len(other) and all(
            np.array_equal(a, b) for a, b in zip(self.strategies, other.strategies, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]


def nash_conv(game: TensorGame, profile: MixedProfile | Sequence[ArrayLike]) -> ExploitabilityReport:
    """Exact NashConv of a mixed profile; ``best_responses`` holds each player's best pure action."""
    strategies = profile_strategies(game, profile)
    values, brs, br_values = [], [], []
    for i in range(game.num_players):
        q = game.action_values(strategies, i)
        values.append(float(q @ strategies[i]))
        best = int(np.argmax(q))
        brs.append(best)
        br_values.append(float(q[best]))
    total = float(sum(b - v for b, v in zip(br_values, values, strict=True)))
    total = max(total, 0.0) if total > -1e-12 else total
    return ExploitabilityReport(
        nash_conv=total,
        exploitability=total / game.num_players,
        on_policy_values=tuple(values),
        best_response_values=tuple(br_values),
        best_responses=tuple(brs),
    )


def profile_strategies(
    game: TensorGame, profile: MixedProfile | Sequence[ArrayLike]
) -> tuple[NDArray[np.float64], ...]:
    """The checked strategies of ``profile`` (one probability vector per player of ``game``).

    Raises:
        InvalidPolicyError: not one finite, non-negative vector summing to 1 per player, each with
            that player's number of actions.
    """
    if isinstance(profile, MixedProfile):
        items: Sequence[ArrayLike] = profile.strategies
    else:
        items = profile
    if isinstance(items, str | bytes | Mapping) or not hasattr(items, "__len__"):
        raise InvalidPolicyError(
            f"profile must be a sequence of {game.num_players} strategies, got {type(items).__name__}"
        )
    if len(items) != game.num_players:
        raise InvalidPolicyError(
            f"profile must have one strategy per player ({game.num_players}), got {len(items)}"
        )
    out = []
    for k, (s, n) in enumerate(zip(items, game.num_actions, strict=True)):
        vec = numeric_array(f"player {k}: strategy", s)
        if vec.shape != (n,):
            raise InvalidPolicyError(f"player {k}: strategy must have {n} entries, got shape {vec.shape}")
        if not np.all(np.isfinite(vec)):
            raise InvalidPolicyError(f"player {k}: strategy has non-finite entries {vec.tolist()}")
        if np.any(vec < -_ATOL):
            raise InvalidPolicyError(f"player {k}: strategy has negative entries {vec.tolist()}")
        total = float(vec.sum())
        if abs(total - 1.0) > 1e-6:
            raise InvalidPolicyError(f"player {k}: strategy sums to {total!r}, expected 1")
        out.append(vec)
    return tuple(out)


# ------------------------------------------------------------------ checks of policy input


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 4, 4, 30, 30
_REPR.maxlong = 30


def preview(value: Any, limit: int = 40) -> str:
    """A short one-line ``repr`` for messages (long or deep values are cut, never fully printed)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):  # integers past the digit limit inside a container
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


_NONE = object()


def numeric_array(where: str, values: Any) -> NDArray[np.float64]:
    """``values`` as a float64 array, or :class:`InvalidPolicyError` naming ``where``.

    Unlike ``np.asarray(values, dtype=float)`` this refuses strings (``"0.5"``), booleans,
    ragged nesting and integers too large for a float, instead of converting them silently or
    failing with a numpy traceback. Shape and value checks are the caller's.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        return np.asarray(values, dtype=np.float64)
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError, OverflowError):  # ragged nesting
        raise InvalidPolicyError(f"{where} must be a numeric array with rows of equal length") from None
    kind = raw.dtype.kind
    if kind == "O":
        odd = next((x for x in raw.flat if isinstance(x, str | bytes | bool | np.bool_) or x is None), _NONE)
        if odd is not _NONE:
            raise InvalidPolicyError(
                f"{where} must be a numeric array, found {preview(odd)} ({type(odd).__name__})"
            )
    elif kind not in "iuf":
        sample = raw.flat[0] if raw.size else raw
        raise InvalidPolicyError(
            f"{where} must be a numeric array, found {preview(sample.item() if raw.size else values)} "
            f"({'boolean' if kind == 'b' else raw.dtype})"
        )
    try:
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise InvalidPolicyError(f"{where} must be a numeric array of numbers that fit a float") from None


def json_number(where: str, value: Any) -> float:
    """One probability read from JSON: a finite real number (no string, boolean or ``null``).

    Raises:
        InvalidPolicyError: Naming ``where`` and what was found.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidPolicyError(f"{where} must be a number, got {preview(value)} ({type(value).__name__})")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidPolicyError(f"{where} must be a probability in [0, 1], got {preview(value)}") from None
    if not math.isfinite(number):
        raise InvalidPolicyError(f"{where} must be a finite number, got {number}")
    return number


def json_numbers(where: str, row: Any, length: int, *, item: str) -> NDArray[np.float64]:
    """A list of ``length`` numbers read from JSON (one per ``item``), as a float64 vector.

    Raises:
        InvalidPolicyError: Not a list, a wrong length, or an entry that is not a finite number;
            the message names ``where`` and, for entries, the ``item`` index.
    """
    if type(row) is list and len(row) == length and all(type(v) is float or type(v) is int for v in row):
        try:  # the common case: plain numbers; the slow path below names the culprit otherwise
            vec = np.array(row, dtype=np.float64)
        except OverflowError:
            pass
        else:
            if np.isfinite(vec).all():
                return vec
    if not isinstance(row, list):
        raise InvalidPolicyError(
            f"{where} must be a list of {length} numbers (one per {item}), got {preview(row)} "
            f"({type(row).__name__})"
        )
    if len(row) != length:
        raise InvalidPolicyError(f"{where} must have {length} entries (one per {item}), got {len(row)}")
    return np.array([json_number(f"{where}, {item} {a}", v) for a, v in enumerate(row)], dtype=np.float64)


def _is_joint_distribution(game: TensorGame, data: list[Any]) -> bool:
    """Whether ``data`` has the shape of a joint distribution over ``game``'s action profiles."""
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return False
    if arr.shape != game.num_actions or not np.isfinite(arr).all() or (arr < 0).any():
        return False
    return abs(float(arr.sum()) - 1.0) <= 1e-6


def normal_form_game(
    payoffs: ArrayLike,
    *,
    name: str = "normal_form",
    action_names: Sequence[Sequence[str]] | None = None,
) -> TensorGame:
    """Build an N-player game from a payoff tensor ``[P, A0, ..., A_{P-1}]``.

    Raises:
        MalformedGameError: Not numeric, wrong shape (the leading axis must equal the number of
            remaining axes, each at least 1), or non-finite payoffs.
    """
    try:
        arr = np.array(payoffs, dtype=np.float64)
    except (TypeError, ValueError):
        raise MalformedGameError("payoffs must be a numeric array [P, A0, ..., A_{P-1}]") from None
    if arr.ndim < 2 or arr.shape[0] != arr.ndim - 1:
        raise MalformedGameError(
            f"payoffs must have shape [P, A0, ..., A_(P-1)] with P = number of action axes, got {arr.shape}"
        )
    if min(arr.shape[1:]) < 1:
        raise MalformedGameError(f"every player needs at least one action, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise MalformedGameError("payoffs must be finite (found NaN or infinity)")
    n_players = arr.shape[0]
    if action_names is None:
        names = tuple(tuple(str(a) for a in range(n)) for n in arr.shape[1:])
    else:
        if len(action_names) != n_players or any(
            len(a) != n for a, n in zip(action_names, arr.shape[1:], strict=False)
        ):
            raise MalformedGameError("action_names must give one name per action of every player")
        names = tuple(tuple(str(x) for x in a) for a in action_names)
    spec = GameSpec(
        name=name,
        kind=GameKind.NORMAL_FORM,
        num_players=n_players,
        utility=classify_utility(arr),
        simultaneous=True,
        perfect_information=False,
    )
    return TensorGame(payoffs=readonly(arr), spec=spec, action_names=names)


def zero_sum(
    matrix: ArrayLike, *, name: str = "zero_sum", action_names: Sequence[Sequence[str]] | None = None
) -> TensorGame:
    """Two-player zero-sum game: the row player receives ``matrix``, the column player its negative."""
    try:
        a = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise MalformedGameError("matrix must be a numeric 2-D array") from None
    if a.ndim != 2:
        raise MalformedGameError(f"matrix must be 2-D [rows, columns], got shape {a.shape}")
    return normal_form_game(np.stack([a, -a]), name=name, action_names=action_names)


def bimatrix(
    a: ArrayLike, b: ArrayLike, *, name: str = "bimatrix", action_names: Sequence[Sequence[str]] | None = None
) -> TensorGame:
    """Two-player game with row payoffs ``a`` and column payoffs ``b`` (same shape)."""
    try:
        ma = np.array(a, dtype=np.float64)
        mb = np.array(b, dtype=np.float64)
    except (TypeError, ValueError):
        raise MalformedGameError("a and b must be numeric 2-D arrays") from None
    if ma.ndim != 2 or ma.shape != mb.shape:
        raise MalformedGameError(
            f"a and b must be 2-D arrays of the same shape, got {ma.shape} and {mb.shape}"
        )
    return normal_form_game(np.stack([ma, mb]), name=name, action_names=action_names)
