"""Tabular behavior policies on compiled games.

A :class:`TabularPolicy` is a read-only ``[I, A]`` matrix of action probabilities indexed by
infoset id and action *slot* (slot ``j`` of infoset ``I`` is action id
``game.infoset_actions[I, j]``). It covers every player's infosets at once, so one object is a
full behavior profile. At the boundary it converts to and from ``{infoset_key: {action_id: prob}}``
dictionaries, JSON files and OpenSpiel's ``TabularPolicy``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import InvalidPolicyError
from gamesolve.io import atomic_write_text

__all__ = ["POLICY_FORMAT", "TabularPolicy", "uniform_policy"]

#: Format tag written into policy JSON files.
POLICY_FORMAT = "gamesolve.tabular_policy/1"

#: Tolerance for a row of probabilities to count as summing to one.
ROW_SUM_ATOL = 1e-6


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
        try:
            arr = np.array(probs, dtype=np.float64, copy=True)
        except (TypeError, ValueError) as exc:  # ragged nesting, non-numeric entries
            raise InvalidPolicyError(
                f"policy probs must be a numeric [infosets, slots] array: {exc}"
            ) from None
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

        Action ids may be ints or strings of ints (as read back from JSON). Actions absent from an
        infoset's mapping get probability 0.

        Args:
            game: The game the keys belong to.
            table: The mapping.
            missing: What to do with infosets absent from ``table``: ``"error"`` (default) or
                ``"uniform"``.

        Raises:
            InvalidPolicyError: Unknown keys, missing infosets, illegal actions, negative or NaN
                probabilities, rows that do not sum to 1. The message names the infoset.
        """
        if missing not in ("error", "uniform"):
            raise ValueError(f"missing must be 'error' or 'uniform', got {missing!r}")
        compiled = as_compiled(game)
        if not isinstance(table, Mapping):
            raise InvalidPolicyError(
                "policy must be a mapping of infoset keys to action distributions, "
                f"got {type(table).__name__}"
            )
        probs = np.zeros((compiled.num_infosets, compiled.max_actions))
        seen = np.zeros(compiled.num_infosets, dtype=bool)
        index = compiled.infosets
        for key, dist in table.items():
            infoset = index.get(key)
            if infoset < 0:
                raise InvalidPolicyError(f"policy names infoset {key!r}, which this game does not have")
            if not isinstance(dist, Mapping):
                raise InvalidPolicyError(f"infoset {key!r}: expected a mapping of action id to probability")
            actions = compiled.infoset_actions[infoset, : compiled.infoset_num_actions[infoset]]
            slot_of = {int(a): j for j, a in enumerate(actions)}
            for action, p in dist.items():
                try:
                    a = int(action)
                    value = float(p)
                except (TypeError, ValueError):
                    raise InvalidPolicyError(
                        f"infoset {key!r}: action {action!r} -> {p!r} is not an integer id and a number"
                    ) from None
                slot = slot_of.get(a)
                if slot is None:
                    if value != 0.0:
                        raise InvalidPolicyError(
                            f"infoset {key!r}: action {a} is illegal (legal: {sorted(slot_of)})"
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

        Raises:
            InvalidPolicyError: The file is not valid JSON or not a policy for this game.
        """
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise InvalidPolicyError(f"policy file {os.fspath(path)!r} is not valid JSON: {exc}") from None
        if isinstance(data, Mapping) and "policy" in data and data.get("format") == POLICY_FORMAT:
            data = data["policy"]
        return cls.from_dict(game, data, missing=missing)

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


def uniform_policy(game: Any) -> TabularPolicy:
    """The uniform behavior profile of ``game`` (uniform over legal actions at every infoset)."""
    return TabularPolicy.uniform(game)


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
        raise InvalidPolicyError(f"infoset {keys.key(i)!r}: probabilities sum to {sums[i]!r}, expected 1")
