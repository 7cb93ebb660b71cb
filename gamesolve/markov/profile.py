"""Stationary profiles of a tabular Markov game: :class:`MarkovProfile` and its JSON form."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import readonly
from gamesolve.errors import InvalidPolicyError
from gamesolve.io import read_policy_file
from gamesolve.markov.game import TabularMarkovGame
from gamesolve.normal_form import json_numbers, numeric_array, preview

__all__ = ["MarkovProfile"]


@dataclass(frozen=True, eq=False)
class MarkovProfile:
    """A stationary strategy per player: ``strategies[i]`` is ``[S, A_i]`` (rows sum to 1)."""

    strategies: tuple[NDArray[np.float64], ...]

    @classmethod
    def of(cls, game: TabularMarkovGame, strategies: Sequence[ArrayLike]) -> MarkovProfile:
        """Validate one ``[S, A_i]`` array per player for ``game``.

        Raises:
            InvalidPolicyError: Wrong count or shapes, negative or non-finite entries, or a row
                that does not sum to 1 (the message names the player and state).
        """
        if isinstance(strategies, str | bytes | dict) or not hasattr(strategies, "__len__"):
            kind = type(strategies).__name__
            raise InvalidPolicyError(
                f"a profile must be a sequence of {game.num_players} strategies, got {kind}"
            )
        if len(strategies) != game.num_players:
            raise InvalidPolicyError(
                f"a profile needs one strategy per player ({game.num_players}), got {len(strategies)}"
            )
        out = []
        for p, raw in enumerate(strategies):
            arr = numeric_array(f"strategy of player {p}", raw)
            expected = (game.num_states, game.num_actions[p])
            if arr.shape != expected:
                raise InvalidPolicyError(
                    f"strategy of player {p} must have shape {expected}, got {arr.shape}"
                )
            if not np.all(np.isfinite(arr)) or np.any(arr < -1e-12):
                state, action = (int(i) for i in np.argwhere(~np.isfinite(arr) | (arr < -1e-12))[0])
                value = float(arr[state, action])
                raise InvalidPolicyError(
                    f"strategy of player {p} in state {state}, action {action} is {value!r}; "
                    "probabilities must be finite and >= 0"
                )
            sums = arr.sum(axis=1)
            bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
            if bad.size:
                raise InvalidPolicyError(
                    f"strategy of player {p} in state {int(bad[0])} sums to {sums[bad[0]]:.9g}, expected 1"
                )
            arr = np.maximum(arr, 0.0)
            out.append(readonly(arr / arr.sum(axis=1, keepdims=True)))
        return cls(tuple(out))

    @classmethod
    def uniform(cls, game: TabularMarkovGame) -> MarkovProfile:
        """Every player uniform in every state."""
        return cls(tuple(readonly(np.full((game.num_states, n), 1.0 / n)) for n in game.num_actions))

    def __getitem__(self, player: int) -> NDArray[np.float64]:
        return self.strategies[player]

    def __len__(self) -> int:
        return len(self.strategies)

    def joint(self) -> NDArray[np.float64]:
        """Probability of every joint action in every state ``[S, J]``."""
        out = self.strategies[0]
        for strat in self.strategies[1:]:
            out = (out[:, :, None] * strat[:, None, :]).reshape(out.shape[0], -1)
        return out

    def to_lists(self) -> list[list[list[float]]]:
        """Nested lists ``[player][state][action]`` for JSON."""
        return [s.tolist() for s in self.strategies]

    def to_json(self) -> str:
        """JSON text ``{"strategies": [player][state][action]}``."""
        return json.dumps({"strategies": self.to_lists()})

    @classmethod
    def from_data(cls, game: TabularMarkovGame, data: Any) -> MarkovProfile:
        """Build a profile from parsed JSON: ``{"strategies": [player][state][action]}`` or a list.

        A mapping may also be a ``--json`` result file of a Markov solve (its ``"profile"`` entry
        holds the same nested lists). Every entry is checked before any array is built: one list
        per player, one row per state, one number per action (no strings, booleans or ``null``;
        finite), then the rows are checked as distributions by :meth:`of`.

        Raises:
            InvalidPolicyError: The content does not describe a stationary profile of ``game``;
                the message names the player, state and action at fault.
        """
        if isinstance(data, dict):
            key = "strategies" if "strategies" in data else "profile" if "profile" in data else None
            if key is None:
                raise InvalidPolicyError(
                    'a Markov policy must be {"strategies": [player][state][action]} or a bare list; '
                    f"this mapping has keys {preview(sorted(map(str, data))[:6])}"
                )
            data = data[key]
        players, states = game.num_players, game.num_states
        if not isinstance(data, list):
            raise InvalidPolicyError(
                f"a Markov policy must be a list [player][state][action] of {players} players, got "
                f"{preview(data)} ({type(data).__name__})"
            )
        if len(data) != players:
            raise InvalidPolicyError(
                f"a Markov policy needs one strategy per player ({players}), got {len(data)}"
            )
        strategies = []
        for p, rows in enumerate(data):
            n = game.num_actions[p]
            shape = f"{states} rows (one per state) of {n} probabilities, shape ({states}, {n})"
            if not isinstance(rows, list):
                raise InvalidPolicyError(
                    f"strategy of player {p} must be {shape}; got {preview(rows)} ({type(rows).__name__})"
                )
            if len(rows) != states:
                raise InvalidPolicyError(f"strategy of player {p} must be {shape}; got {len(rows)} rows")
            block = np.empty((states, n))
            for state, row in enumerate(rows):
                block[state] = json_numbers(f"player {p}, state {state}", row, n, item="action")
            strategies.append(block)
        return cls.of(game, strategies)

    @classmethod
    def from_json(cls, game: TabularMarkovGame, text: str | bytes) -> MarkovProfile:
        """Read :meth:`to_json` output (or a bare ``[player][state][action]`` list) for ``game``.

        Raises:
            InvalidPolicyError: The text is not strict JSON (``NaN`` tokens, nesting too deep to
                read, integers past Python's digit limit, bytes that are not UTF-8 count too) or
                not a profile of ``game`` (see :meth:`from_data`).
        """
        if isinstance(text, bytes | bytearray):
            try:
                text = bytes(text).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InvalidPolicyError(
                    f"Markov policy is not UTF-8 text (byte 0x{text[exc.start]:02x} at offset {exc.start})"
                ) from None
        if not isinstance(text, str):
            raise InvalidPolicyError(f"Markov policy must be JSON text, got {type(text).__name__}")
        try:
            data = json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise InvalidPolicyError(
                f"Markov policy is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        except RecursionError:
            raise InvalidPolicyError(
                "Markov policy nests JSON arrays or objects too deeply to read"
            ) from None
        except ValueError as exc:  # integers past Python's digit limit, NaN / Infinity tokens
            raise InvalidPolicyError(f"Markov policy cannot be read: {exc}") from None
        return cls.from_data(game, data)

    @classmethod
    def from_file(cls, game: TabularMarkovGame, path: str | os.PathLike[str]) -> MarkovProfile:
        """Read a Markov policy file (``--policy-out`` output, a bare list or a ``--json`` result).

        The file is read by :func:`gamesolve.io.read_policy_file` (one clear error for each way
        a file can fail to be JSON) and its content is checked by :meth:`from_data`.

        Raises:
            InputFileError: The file cannot be read as JSON.
            InvalidPolicyError: The JSON is not a profile of ``game`` (the message names the file,
                the player, the state and the action).
        """
        return read_policy_file(path, what="Markov policy file", parse=lambda data: cls.from_data(game, data))


def _reject_constant(token: str) -> Any:
    raise ValueError(f"the token {token} is not JSON (write null or a number)")
