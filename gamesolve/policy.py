"""Tabular behavior policies on compiled games.

A :class:`TabularPolicy` is a read-only ``[I, A]`` matrix of action probabilities indexed by
infoset id and action *slot* (slot ``j`` of infoset ``I`` is action id
``game.infoset_actions[I, j]``). It covers every player's infosets at once, so one object is a
full behavior profile. At the boundary it converts to and from ``{infoset_key: {action_id: prob}}``
dictionaries, JSON files and OpenSpiel's ``TabularPolicy``.
"""

from __future__ import annotations

import json
import logging
import numbers
import os
import re
from collections.abc import Mapping
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import GameTooLargeError, InvalidArgumentError, InvalidPolicyError, UnsupportedGame
from gamesolve.io import atomic_write_text, read_policy_file
from gamesolve.normal_form import json_number, numeric_array, preview
from gamesolve.validation import check_choice

__all__ = ["POLICY_FORMAT", "TabularPolicy", "UniformPolicy", "uniform_policy"]

log = logging.getLogger(__name__)

#: Format tag written into policy JSON files.
POLICY_FORMAT = "gamesolve.tabular_policy/1"

#: Tolerance for a row of probabilities to count as summing to one.
ROW_SUM_ATOL = 1e-6

#: An action id written as text (JSON object keys are strings): decimal digits only.
_DIGITS = re.compile(r"-?[0-9]+")

#: Action ids are int32; anything beyond this is out of range before it is converted.
_MAX_ID = 1 << 31


class TabularPolicy:
    """A behavior profile: one distribution over legal actions per infoset, for every player.

    Args:
        game: The game (compiled or compilable) the policy belongs to.
        probs: ``[I, A]`` array of probabilities by infoset id and slot. Illegal slots must be 0.
        validate: Check shape, finiteness, signs, illegal mass and row sums (default ``True``).

    Raises:
        InvalidPolicyError: The array is malformed; the message names the first bad infoset.
    """

    __slots__ = ("_game", "_probs")

    def __init__(self, game: Any, probs: ArrayLike, *, validate: bool = True) -> None:
        compiled = as_compiled(game)
        arr = np.array(numeric_array("policy probs", probs), dtype=np.float64, copy=True)
        if validate:
            _validate(compiled, arr)
        arr.setflags(write=False)
        self._game = compiled
        self._probs = arr

    # -------------------------------------------------------------- constructors
    @classmethod
    def uniform(cls, game: Any) -> TabularPolicy:
        """Uniform over legal actions at every infoset."""
        compiled = as_compiled(game)
        mask = compiled.legal_mask
        probs = mask / compiled.infoset_num_actions[:, None]
        return cls(compiled, probs, validate=False)

    @classmethod
    def first_action(cls, game: Any) -> TabularPolicy:
        """Deterministic policy playing slot 0 (the smallest legal action id) everywhere."""
        compiled = as_compiled(game)
        probs = np.zeros((compiled.num_infosets, compiled.max_actions))
        probs[:, 0] = 1.0
        return cls(compiled, probs, validate=False)

    @classmethod
    def random(cls, game: Any, *, rng: np.random.Generator, concentration: float = 1.0) -> TabularPolicy:
        """A random policy: each infoset's row drawn from a Dirichlet over its legal actions.

        Raises:
            ValueError: ``concentration`` is not a positive finite number.
        """
        if not (np.isfinite(concentration) and concentration > 0):
            raise ValueError(f"concentration must be a positive number, got {concentration!r}")
        compiled = as_compiled(game)
        mask = compiled.legal_mask
        # Gamma(c) draws in log space, as log Gamma(c + 1) + log(U) / c: for small c plain draws
        # underflow to 0 and whole rows would become 0/0.
        log_draws = np.log(rng.gamma(concentration + 1.0, size=mask.shape))
        log_draws += np.log1p(-rng.random(size=mask.shape)) / concentration
        log_draws = np.where(mask, log_draws, -np.inf)
        draws = np.exp(log_draws - log_draws.max(axis=1, keepdims=True))
        return cls(compiled, draws / draws.sum(axis=1, keepdims=True), validate=False)

    @classmethod
    def from_dict(
        cls, game: Any, table: Mapping[str, Mapping[Any, float]], *, missing: str = "error"
    ) -> TabularPolicy:
        """Build a policy from ``{infoset_key: {action_id: probability}}``.

        Action ids may be ints or strings of decimal digits (as read back from JSON); ``1.7``,
        ``"1.0"``, ``True`` and ids that are no action of the game are refused, not truncated or
        guessed, and so are negative ids and ids past the int32 range. Probabilities must be real
        numbers (not strings, booleans or ``null``). Legal actions absent from an infoset's
        mapping get probability 0; an action id that is not legal at the infoset may appear only
        with probability 0 (as in tables that list every action of the game).

        Args:
            game: The game the keys belong to.
            table: The mapping.
            missing: What to do with infosets absent from ``table``: ``"error"`` (default) or
                ``"uniform"``.

        Raises:
            InvalidPolicyError: Unknown keys, missing infosets, bad or illegal action ids, an
                action given twice, probabilities that are not finite non-negative numbers, rows
                that do not sum to 1. The message names the infoset (and the action).
        """
        missing = check_choice("missing", missing, ("error", "uniform"))
        compiled = as_compiled(game)
        if not isinstance(table, Mapping):
            raise InvalidPolicyError(
                "policy must be a mapping of infoset keys to action distributions, "
                f"got {preview(table)} ({type(table).__name__})"
            )
        probs = np.zeros((compiled.num_infosets, compiled.max_actions))
        seen = np.zeros(compiled.num_infosets, dtype=bool)
        index = compiled.infosets
        for key, dist in table.items():
            infoset = index.get(key) if isinstance(key, str) else -1
            if infoset < 0:
                name = compiled.spec.name
                raise InvalidPolicyError(
                    f"policy names infoset {preview(key)}, which this game ({name}) does not have"
                )
            if not isinstance(dist, Mapping):
                raise InvalidPolicyError(
                    f"infoset {key!r}: expected a mapping of action id to probability, got {preview(dist)}"
                )
            actions = compiled.infoset_actions[infoset, : compiled.infoset_num_actions[infoset]]
            slot_of = {int(a): j for j, a in enumerate(actions)}
            given: set[int] = set()
            for action, p in dist.items():
                a = _action_id(key, action)
                value = json_number(f"infoset {key!r}: probability of action {a}", p)
                if a in given:
                    raise InvalidPolicyError(f"infoset {key!r}: action {a} is given twice")
                given.add(a)
                slot = slot_of.get(a)
                if slot is None:
                    if value != 0.0:
                        raise InvalidPolicyError(
                            f"infoset {key!r}: action {preview(a)} is illegal here (legal: {sorted(slot_of)})"
                        )
                    continue
                probs[infoset, slot] = value
            seen[infoset] = True
        if not seen.all():
            absent = np.flatnonzero(~seen)
            if missing == "error":
                raise InvalidPolicyError(
                    f"policy has no entry for {absent.size} infoset(s), e.g. {index.key(int(absent[0]))!r}"
                )
            mask = compiled.legal_mask
            probs[absent] = mask[absent] / compiled.infoset_num_actions[absent, None]
        return cls(compiled, probs)

    @classmethod
    def from_json(cls, game: Any, path: str | os.PathLike[str], *, missing: str = "error") -> TabularPolicy:
        """Read a policy file written by :meth:`to_json` (or a bare key -> action -> prob mapping).

        The file is read by :func:`gamesolve.io.read_policy_file` (one clear error for each way
        a file can fail to be JSON) and its content is checked by :meth:`from_dict` before any
        array is built.

        Raises:
            InputFileError: The file cannot be read as JSON.
            InvalidPolicyError: The JSON is not a policy for this game (the message names the
                file and the infoset).
        """
        compiled = as_compiled(game)
        return read_policy_file(
            path,
            what="policy file",
            parse=lambda data: cls.from_dict(compiled, _policy_table(compiled, data), missing=missing),
        )

    @classmethod
    def from_openspiel(cls, game: Any, os_policy: Any) -> TabularPolicy:
        """Convert an ``open_spiel.python.policy.TabularPolicy`` (keys must match this game's)."""
        compiled = as_compiled(game)
        table = {}
        for key, row in os_policy.state_lookup.items():
            if key in compiled.infosets:
                vec = os_policy.action_probability_array[row]
                table[key] = {int(a): float(vec[a]) for a in np.flatnonzero(vec)}
        return cls.from_dict(compiled, table)

    # ------------------------------------------------------------------ accessors
    @property
    def game(self) -> CompiledGame:
        """The compiled game."""
        return self._game

    @property
    def probs(self) -> NDArray[np.float64]:
        """``[I, A]`` float64, read-only: probabilities by infoset id and action slot."""
        return self._probs

    def action_probabilities(self, key: str) -> dict[int, float]:
        """``{action_id: probability}`` at the infoset with key ``key``."""
        infoset = self._game.infosets.id(key)
        n = self._game.infoset_num_actions[infoset]
        actions = self._game.infoset_actions[infoset, :n]
        return {int(a): float(p) for a, p in zip(actions, self._probs[infoset, :n], strict=True)}

    def with_player(self, player: int, other: TabularPolicy | NDArray[np.float64]) -> TabularPolicy:
        """A copy whose rows at ``player``'s infosets come from ``other``."""
        rows = self._game.infosets_of(player)
        src = other.probs if isinstance(other, TabularPolicy) else np.asarray(other)
        probs = self._probs.copy()
        probs[rows] = src[rows]
        return TabularPolicy(self._game, probs)

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, dict[int, float]]:
        """``{infoset_key: {action_id: probability}}`` over every infoset and legal action."""
        game = self._game
        out: dict[str, dict[int, float]] = {}
        actions = game.infoset_actions
        widths = game.infoset_num_actions
        probs = self._probs
        for infoset, key in enumerate(game.infosets.keys):
            n = int(widths[infoset])
            out[key] = dict(zip(actions[infoset, :n].tolist(), probs[infoset, :n].tolist(), strict=True))
        return out

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the policy as JSON, atomically (a temporary file renamed into place)."""
        payload = {"format": POLICY_FORMAT, "game": self._game.spec.name, "policy": self.to_dict()}
        atomic_write_text(path, json.dumps(payload))

    def to_openspiel(self, os_game: Any | None = None) -> Any:
        """Convert to ``open_spiel.python.policy.TabularPolicy`` for the same OpenSpiel game.

        Args:
            os_game: The ``pyspiel.Game``; defaults to the one this game was loaded from.
        """
        from open_spiel.python import policy as os_policy_mod

        if os_game is None:
            os_game = getattr(self._game.source, "pyspiel_game", None)
            if os_game is None:
                raise ValueError("os_game is required: this game was not loaded from OpenSpiel")
        out = os_policy_mod.TabularPolicy(os_game)
        table = out.action_probability_array
        table[:] = 0.0
        game = self._game
        for key, row in out.state_lookup.items():
            infoset = game.infosets.get(key)
            if infoset < 0:
                raise ValueError(f"OpenSpiel infoset {key!r} is unknown to this compiled game")
            n = game.infoset_num_actions[infoset]
            table[row, game.infoset_actions[infoset, :n]] = self._probs[infoset, :n]
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TabularPolicy):
            return NotImplemented
        return self._game is other._game and np.array_equal(self._probs, other._probs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TabularPolicy({self._game.spec.name!r}, infosets={self._game.num_infosets})"


def _policy_table(game: CompiledGame, data: Any) -> Any:
    """The ``{infoset: {action: prob}}`` part of a parsed policy file."""
    if not isinstance(data, Mapping):
        return data  # from_dict names the type
    if "format" in data and "format" not in game.infosets:
        if data["format"] != POLICY_FORMAT:
            raise InvalidPolicyError(
                f"format is {preview(data['format'])}, expected {POLICY_FORMAT!r} (a gamesolve policy file)"
            )
        if "policy" not in data:
            raise InvalidPolicyError(f'a {POLICY_FORMAT} file needs a "policy" mapping')
        return data["policy"]
    if "solver" in data and "history" in data and "solver" not in game.infosets:
        raise InvalidPolicyError(
            "this is a result file (--json); tabular policies are written by --policy-out"
        )
    return data


def _action_id(key: str, action: Any) -> int:
    """An action id of a policy table, checked: an integer, or a string of decimal digits.

    Ids far outside the int32 range of action ids are refused here, before they are formatted.
    """
    if isinstance(action, bool | np.bool_):
        raise InvalidPolicyError(f"infoset {key!r}: action id {action!r} is a boolean, expected an integer")
    integral = isinstance(action, numbers.Integral) or (
        isinstance(action, numbers.Real) and float(action).is_integer()
    )
    digits = isinstance(action, str) and _DIGITS.fullmatch(action) is not None
    if not (integral or digits):
        raise InvalidPolicyError(f"infoset {key!r}: action id {preview(action)} is not an integer")
    # bounded before int() and before formatting: a 5,000-digit id must not reach either
    small = len(action) <= 12 if digits else -_MAX_ID < action < _MAX_ID
    a = int(action) if small else -1
    if not 0 <= a < _MAX_ID:
        shown = preview(action) if not small else str(a)
        raise InvalidPolicyError(
            f"infoset {key!r}: action id {shown} is out of range (ids are 0 .. 2**31 - 1)"
        )
    return a


class UniformPolicy:
    """Uniform over the legal actions, on any game: acts without a tree, tabulates where there is one.

    The uniform baseline of games too large to compile (:func:`uniform_policy` returns it there).
    It is an :class:`~gamesolve.population.ActingPolicy` (``act(player, observation, legal_ids,
    rng)``), acts on batches (``act(timestep, rng=rng)`` or ``act(observation, legal_mask, rng)``),
    and :meth:`tabulate` gives the uniform :class:`TabularPolicy` of a compiled game, so exact
    evaluation treats it as the table.
    """

    def act(self, *args: Any, **kwargs: Any) -> Any:
        """One action id (``act(player, observation, legal_ids, rng)``) or ``[B]`` of them (batches)."""
        if args and isinstance(args[0], numbers.Integral) and not isinstance(args[0], bool):
            return self.act_one(*args, **kwargs)
        return self.act_batch(*args, **kwargs)

    def act_one(self, player: int, observation: Any, legal: ArrayLike, rng: np.random.Generator) -> int:
        """A legal action id drawn uniformly (``observation`` is not looked at)."""
        del player, observation
        ids = np.asarray(legal, dtype=np.int64).reshape(-1)
        if ids.size == 0:
            raise InvalidArgumentError("no legal action to choose from")
        return int(ids[int(rng.integers(ids.size))])

    def action_probs(self, observation: Any, legal: ArrayLike) -> NDArray[np.float64]:
        """``[B, A]``: uniform over each row's legal action ids (a ``[B, A]`` bool mask)."""
        del observation
        mask = np.asarray(legal, dtype=bool)
        counts = mask.sum(axis=1, keepdims=True)
        if mask.ndim != 2 or not counts.all():
            raise InvalidArgumentError("legal must be a [B, A] bool mask with a legal action in every row")
        probs: NDArray[np.float64] = mask / counts
        return probs

    def act_batch(
        self, batch: Any, legal: ArrayLike | None = None, rng: np.random.Generator | None = None
    ) -> NDArray[np.int64]:
        """``[B]`` legal action ids drawn uniformly, for a ``TimeStep`` or observations with ``legal``."""
        if legal is None:
            legal = getattr(batch, "legal", None)
        if legal is None:
            raise InvalidArgumentError("legal (the [B, A] mask) is required with an observation array")
        if not isinstance(rng, np.random.Generator):
            raise InvalidArgumentError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        mask = np.asarray(legal, dtype=bool)
        self.action_probs(None, mask)  # checks the mask
        counts = mask.sum(axis=1)
        picks = np.minimum((rng.random(mask.shape[0]) * counts).astype(np.int64), counts - 1)
        ranks = np.cumsum(mask, axis=1) - 1
        hits = mask & (ranks == picks[:, None])
        return np.argmax(hits, axis=1).astype(np.int64)

    def tabulate(self, game: Any) -> TabularPolicy:
        """The uniform :class:`TabularPolicy` of a compiled (or compilable) game."""
        return TabularPolicy.uniform(game)

    def __repr__(self) -> str:
        return "UniformPolicy()"


@overload
def uniform_policy(game: CompiledGame) -> TabularPolicy: ...


@overload
def uniform_policy(game: Any) -> TabularPolicy | UniformPolicy: ...


def uniform_policy(game: Any) -> TabularPolicy | UniformPolicy:
    """The uniform policy of ``game``: uniform over legal actions at every decision.

    A :class:`TabularPolicy` where the game compiles (a compiled game, or one its compile checks
    let through), otherwise a :class:`UniformPolicy`, which acts on every game without walking a
    tree (games too large to compile are refused by their size estimate before any walk).
    """
    try:
        return TabularPolicy.uniform(game)
    except (GameTooLargeError, UnsupportedGame) as exc:
        log.info("uniform policy of a game that does not compile (%s): acting uniformly", exc)
        return UniformPolicy()


def _validate(game: CompiledGame, probs: NDArray[np.float64]) -> None:
    expected = (game.num_infosets, game.max_actions)
    if probs.shape != expected:
        raise InvalidPolicyError(
            f"policy probs must have shape {expected} (infosets, slots), got {probs.shape}"
        )
    keys = game.infosets
    bad = ~np.isfinite(probs)
    if bad.any():
        i = int(np.flatnonzero(bad.any(axis=1))[0])
        raise InvalidPolicyError(
            f"infoset {keys.key(i)!r}: probabilities must be finite, got {probs[i].tolist()}"
        )
    if (probs < 0).any():
        i = int(np.flatnonzero((probs < 0).any(axis=1))[0])
        raise InvalidPolicyError(f"infoset {keys.key(i)!r}: negative probability in {probs[i].tolist()}")
    illegal = (probs != 0) & ~game.legal_mask
    if illegal.any():
        i = int(np.flatnonzero(illegal.any(axis=1))[0])
        raise InvalidPolicyError(f"infoset {keys.key(i)!r}: probability mass on an illegal action slot")
    sums = probs.sum(axis=1)
    off = np.abs(sums - 1.0) > ROW_SUM_ATOL
    if off.any():
        i = int(np.flatnonzero(off)[0])
        total = float(sums[i])
        raise InvalidPolicyError(f"infoset {keys.key(i)!r}: probabilities sum to {total!r}, expected 1")
