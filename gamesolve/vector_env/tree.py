"""The batched environment of a compiled game: ``B`` episodes stepped in one numba call.

:class:`TreeVectorEnv` keeps one history (a node id of the compiled tree) per slot and advances all
of them at once with :func:`gamesolve.kernels.vector_env.step_batch`: actions applied, chance
sampled, finished episodes paid and restarted, every slot moved to its next decision. Observations
are rows of an ``[I, F]`` float32 table per infoset, so producing them is a gather:

* games that encode their own tensors (native Kuhn and Leduc: OpenSpiel's
  ``information_state_tensor`` and ``observation_tensor`` layouts) provide the table through
  ``infoset_tensors(kind)``;
* a table given to the constructor (``table=``), for instance OpenSpiel's tensors of every infoset
  of a compiled OpenSpiel game;
* otherwise the information state is the one-hot of the infoset id, which is exact for a game of
  perfect recall (an infoset determines everything its player has seen and done), and such a game
  has no ``"observation"`` tensor.

Episodes: slot ``b`` starts with episode ``b``; whenever episodes end in one call, the slots that
finished start the next unused episode indices in increasing slot order (and :meth:`reset` gives
every slot a fresh index). Chance draws of episode ``e`` depend only on ``(seed, e)``
(counter-based, see :mod:`gamesolve.kernels.vector_env`), so for the same per-episode actions the
stream of episodes is identical for every batch size; :attr:`TreeVectorEnv.episode_ids` says which
episode each slot holds.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import readonly
from gamesolve.budget import format_bytes, require_memory
from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import InvalidArgumentError, UnsupportedGame
from gamesolve.kernels.mccfr import stream_seed_py
from gamesolve.kernels.vector_env import reaches_decision, step_batch
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env.base import OBSERVATION_KINDS, TimeStep, VectorEnv

__all__ = ["InfosetTensors", "TreeVectorEnv", "infoset_table", "tabulate_probs"]

log = logging.getLogger(__name__)


def _tensor_source(game: Any, compiled: CompiledGame) -> Any:
    """The object that encodes this game's tensors (the game or the compiled game's source)."""
    for candidate in (game, compiled.source):
        if callable(getattr(candidate, "infoset_tensors", None)):
            return candidate
    return None


def infoset_table(game: Any, observation: str) -> NDArray[np.float32] | None:
    """The game's ``[I, F]`` float32 tensor table of kind ``observation``, row ``i`` for infoset ``i``.

    ``None`` when ``observation`` is ``"info_state"`` and the game encodes no tensors (the one-hot
    of the infoset id is then the information state).

    Raises:
        UnsupportedGame: The game has no ``"observation"`` tensor (the message names
            ``"info_state"`` as the alternative).
    """
    compiled = as_compiled(game)
    source = _tensor_source(game, compiled)
    if source is not None:
        return np.asarray(source.infoset_tensors(observation), dtype=np.float32)
    if observation == "info_state":
        return None
    raise UnsupportedGame(
        f"{compiled.spec.name} has no {observation!r} tensor; use observation='info_state' (the "
        "one-hot of the information set, exact for perfect recall)"
    )


class TreeVectorEnv(VectorEnv):
    """``num_envs`` episodes of a compiled game, stepped together in numba.

    Args:
        game: A :class:`~gamesolve.CompiledGame` or anything that compiles (native Kuhn and Leduc of
            any size, an OpenSpiel game small enough). A game too large to compile is refused by the
            compile checks, up front, with an estimate of its size.
        num_envs: ``B``.
        seed: Seeds chance (>= 0).
        observation: ``"info_state"`` or ``"observation"``.
        table: An ``[I, F]`` table of finite tensors, row ``i`` for infoset ``i`` of the compiled
            game, used instead of the game's own (for ``observation`` of either kind).
        num_actions: ``A``, the number of distinct action ids (at least one more than the largest
            action id of the game, which is the default).

    Raises:
        InvalidArgumentError: A bad ``num_envs``, ``seed``, ``observation``, ``table`` or
            ``num_actions``.
        UnsupportedGame: No ``"observation"`` tensor, or no decision that any episode reaches.
        GameTooLargeError: The game, its table or the batch's outputs do not fit in the memory
            budget.
    """

    def __init__(
        self,
        game: Any,
        *,
        num_envs: int = 1,
        seed: int = 0,
        observation: str = "info_state",
        table: ArrayLike | None = None,
        num_actions: int | None = None,
    ) -> None:
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        self.seed = check_int("seed", seed, minimum=0, maximum=2**64 - 1)
        self.observation_kind = check_choice("observation", observation, OBSERVATION_KINDS)
        compiled = as_compiled(game)
        self.game = compiled
        self.spec = compiled.spec
        self.num_players = compiled.num_players
        tree = compiled.tree
        if compiled.num_decision_nodes == 0 or not reaches_decision(tree):
            raise UnsupportedGame(f"{self.spec.name}: no player ever acts, so there is nothing to step")
        used = int(compiled.infoset_actions.max()) + 1
        if num_actions is None:
            self.num_actions = used
        else:
            self.num_actions = check_int("num_actions", num_actions, minimum=used)
        n_infosets = compiled.num_infosets
        width = self.num_actions
        require_memory(
            self.spec.name,
            n_infosets * width * 5 + self.num_envs * (width + 8 * self.num_players + 40),
            doing="build the legal-action tables of a batched environment",
            detail=f"{n_infosets:,} infosets, {width:,} action ids",
        )
        self._table, self._one_hot = self._make_table(game, compiled, table)
        self.observation_size = n_infosets if self._one_hot else int(self._table.shape[1])
        require_memory(
            self.spec.name,
            4 * self.num_envs * self.observation_size,
            doing="hold a batch of observations",
            detail=f"{self.num_envs:,} x {self.observation_size:,} float32",
        )
        rows = np.repeat(np.arange(n_infosets), compiled.infoset_num_actions)
        slots = np.concatenate([np.arange(k) for k in compiled.infoset_num_actions]).astype(np.int32)
        ids = compiled.infoset_actions[rows, slots]
        action_slot = np.full((n_infosets, width), -1, dtype=np.int32)
        action_slot[rows, ids] = slots
        self._action_slot = readonly(action_slot)
        self._legal_table = readonly(action_slot >= 0)
        self._tree = tree
        self._seed64 = np.uint64(self.seed)
        self.episodes = 0
        self._next_episode = 0
        self._node = np.zeros(self.num_envs, dtype=np.int32)
        self._ep_seed = np.zeros(self.num_envs, dtype=np.uint64)
        self._draws = np.zeros(self.num_envs, dtype=np.int64)
        self._episode = np.full(self.num_envs, -1, dtype=np.int64)
        self._started = False
        self._no_actions = np.zeros(self.num_envs, dtype=np.int64)
        log.debug(
            "batched env of %s: B=%d, F=%d (%s table), A=%d",
            self.spec.name,
            self.num_envs,
            self.observation_size,
            "one-hot" if self._one_hot else format_bytes(self._table.nbytes),
            self.num_actions,
        )

    def _make_table(
        self, game: Any, compiled: CompiledGame, table: ArrayLike | None
    ) -> tuple[NDArray[np.float32], bool]:
        if table is None:
            own = infoset_table(game, self.observation_kind)
            if own is None:
                return np.zeros((1, 1), dtype=np.float32), True
            return readonly(np.ascontiguousarray(own, dtype=np.float32)), False
        arr = np.asarray(table)
        if arr.ndim != 2 or arr.shape[0] != compiled.num_infosets or arr.shape[1] < 1:
            raise InvalidArgumentError(
                f"table must be [num_infosets, F] = [{compiled.num_infosets}, F], got shape {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise InvalidArgumentError(f"table must hold real numbers, got dtype {arr.dtype}")
        out = np.ascontiguousarray(arr, dtype=np.float32)
        if not np.all(np.isfinite(out)):
            row = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
            raise InvalidArgumentError(f"table must be finite; row {row} is not")
        return readonly(out), False

    # ------------------------------------------------------------------ state
    @property
    def episode_ids(self) -> NDArray[np.int64]:
        """``[B]``: the index of the episode each slot holds (-1 before :meth:`reset`)."""
        return self._episode.copy()

    @property
    def infoset_ids(self) -> NDArray[np.int32]:
        """``[B]``: the infoset id (of the compiled game, :attr:`game`) where each slot's player acts."""
        return self._tree.node_infoset[self._node].copy()

    @property
    def table(self) -> NDArray[np.float32] | None:
        """The read-only ``[I, F]`` observation table, or ``None`` for one-hot information states."""
        return None if self._one_hot else self._table

    # ------------------------------------------------------------------ stepping
    def reset(self) -> TimeStep:
        """Start ``B`` fresh episodes (the next unused episode indices, in slot order)."""
        start = self._next_episode
        self._episode[:] = np.arange(start, start + self.num_envs, dtype=np.int64)
        self._ep_seed[:] = [stream_seed_py(self.seed, int(e), 0) for e in self._episode]
        self._next_episode = start + self.num_envs
        self._node[:] = 0
        self._draws[:] = 0
        self._started = True
        return self._run(self._no_actions, apply=False)

    def step(self, actions: ArrayLike) -> TimeStep:
        """Play one action id per slot and advance every slot to its next decision.

        Raises:
            InvalidArgumentError: ``actions`` is not ``[B]`` integer action ids, or one is illegal
                (the message names the slot and its legal ids); nothing is played then.
        """
        if not self._started:
            raise InvalidArgumentError("call reset() before step(actions)")
        arr = np.asarray(actions)
        if arr.shape != (self.num_envs,) or arr.dtype.kind not in "iu":
            self.check_actions(arr, self._current_legal())
        return self._run(arr.astype(np.int64, copy=False), apply=True)

    def _current_legal(self) -> NDArray[np.bool_]:
        return self._legal_table[self._tree.node_infoset[self._node]]

    def _run(self, actions: NDArray[np.int64], *, apply: bool) -> TimeStep:
        b, f, a = self.num_envs, self.observation_size, self.num_actions
        obs = np.empty((b, f), dtype=np.float32)
        legal = np.empty((b, a), dtype=np.bool_)
        player = np.empty(b, dtype=np.int64)
        reward = np.zeros((b, self.num_players), dtype=np.float64)
        done = np.zeros(b, dtype=np.bool_)
        next_episode, finished, bad = step_batch(
            self._tree,
            self._legal_table,
            self._action_slot,
            self._table,
            self._one_hot,
            self._seed64,
            self._node,
            self._ep_seed,
            self._draws,
            self._episode,
            self._next_episode,
            actions,
            apply,
            obs,
            legal,
            player,
            reward,
            done,
        )
        if bad >= 0:
            self.check_actions(actions, self._current_legal())
            raise AssertionError("unreachable: the kernel and check_actions disagree")  # pragma: no cover
        self._next_episode = int(next_episode)
        self.episodes += int(finished)
        return TimeStep(observation=obs, legal=legal, player=player, reward=reward, done=done)

    def __repr__(self) -> str:
        return (
            f"TreeVectorEnv({self.spec.name!r}, num_envs={self.num_envs}, "
            f"observation={self.observation_kind!r}, F={self.observation_size}, A={self.num_actions})"
        )


class InfosetTensors:
    """Rows of the ``[I, F]`` tensor table of a compiled game (row ``i``: infoset ``i``).

    Args:
        game: A compiled or compilable game.
        observation: ``"info_state"`` or ``"observation"``.

    Attributes:
        num_infosets: ``I``.
        size: ``F``.

    Raises:
        UnsupportedGame: The game has no tensor of that kind.
    """

    def __init__(self, game: Any, observation: str) -> None:
        compiled = as_compiled(game)
        self.num_infosets = compiled.num_infosets
        self._table = infoset_table(game, observation)
        self.size = self.num_infosets if self._table is None else int(self._table.shape[1])

    def rows(self, start: int, stop: int) -> NDArray[np.float32]:
        """``[stop - start, F]`` float32: the tensors of infosets ``start .. stop - 1``."""
        if self._table is not None:
            return np.ascontiguousarray(self._table[start:stop], dtype=np.float32)
        out = np.zeros((stop - start, self.size), dtype=np.float32)
        out[np.arange(stop - start), np.arange(start, stop)] = 1.0
        return out


def tabulate_probs(
    game: Any,
    action_probs: Any,
    observation: str,
    num_actions: int,
    *,
    batch_size: int = 16_384,
) -> Any:
    """A policy over action ids, evaluated on every infoset's tensor of a compiled game, as a table.

    ``action_probs(observation [n, F], legal [n, A]) -> [n, A]`` is called on blocks of
    ``batch_size`` infosets (their tensors of kind ``observation``, their legal action ids as the
    mask); action ids become the table's slots.

    Raises:
        InvalidPolicyError: The game has an action id at or above ``num_actions``.
        UnsupportedGame: The game has no tensor of that kind.
    """
    from gamesolve.errors import InvalidPolicyError
    from gamesolve.policy import TabularPolicy

    compiled = as_compiled(game)
    tensors = InfosetTensors(game, observation)
    ids = compiled.infoset_actions
    widths = compiled.infoset_num_actions
    slot_legal = np.arange(ids.shape[1])[None, :] < widths[:, None]
    safe_ids = np.where(slot_legal, ids, 0).astype(np.int64)
    top = int(safe_ids.max()) if safe_ids.size else 0
    if top >= num_actions:
        raise InvalidPolicyError(
            f"{compiled.spec.name} has action id {top}, but the policy has only {num_actions} action ids"
        )
    out = np.zeros((compiled.num_infosets, compiled.max_actions))
    for start in range(0, compiled.num_infosets, batch_size):
        stop = min(start + batch_size, compiled.num_infosets)
        mask = np.zeros((stop - start, num_actions), dtype=np.bool_)
        r, s = np.nonzero(slot_legal[start:stop])
        mask[r, safe_ids[start + r, s]] = True
        probs = np.asarray(action_probs(tensors.rows(start, stop), mask))
        gathered = np.take_along_axis(probs, safe_ids[start:stop], axis=1)
        out[start:stop] = np.where(slot_legal[start:stop], gathered, 0.0)
    return TabularPolicy(compiled, out)
