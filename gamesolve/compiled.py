"""Compiled extensive-form games: the integer-indexed arrays every solver runs on.

A game is walked once (through the :class:`~gamesolve.protocols.State` protocol, or by a native
game's own vectorized builder) and stored as flat arrays. Strings (information-set keys) live only
in an :class:`InfosetIndex` at the boundary.

Layout (``N`` nodes, ``T`` terminals, ``I`` infosets, ``P`` players, ``A`` = the largest action
count of any infoset):

* Node ids satisfy ``parent < child`` and the children of a node are contiguous, so one forward loop
  computes reach probabilities and one backward loop computes values, with no recursion.
* The ``j``-th child of a decision node corresponds to slot ``j`` of its infoset, whose action id is
  ``infoset_actions[infoset, j]``. A policy is a ``[I, A]`` matrix indexed by slot.
* Sequences: for player ``p`` sequence 0 is the empty sequence; infoset ``I`` owns the sequences
  ``infoset_first_seq[I] + j``. ``infoset_parent_seq[I]`` is the player's own last sequence before
  ``I`` (identical for all histories in ``I``, which is perfect recall), and ``terminal_seq[t, p]``
  is player ``p``'s last sequence at terminal ``t``.
* Infoset ids are topologically ordered: the infoset owning a parent sequence has a smaller id than
  the infosets below it, so a reverse loop over infosets is a bottom-up pass on every treeplex.
"""

from __future__ import annotations

import array
import dataclasses
import functools
import logging
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.arrays import readonly
from gamesolve.budget import GENERIC_BYTES_PER_NODE, get_memory_budget, require_memory
from gamesolve.errors import MalformedGameError, NotPerfectRecallError, UnsupportedGame
from gamesolve.kernels.tree import CHANCE, TERMINAL, TreeArrays
from gamesolve.protocols import ExtensiveFormGame, State
from gamesolve.spec import GameKind, GameSpec

__all__ = [
    "CHANCE_NODE",
    "TERMINAL_NODE",
    "CompiledGame",
    "InfosetIndex",
    "as_compiled",
    "build_compiled_game",
    "compile_game",
]

log = logging.getLogger(__name__)

#: ``node_player`` value of chance nodes.
CHANCE_NODE = CHANCE
#: ``node_player`` value of terminal nodes.
TERMINAL_NODE = TERMINAL

_PROB_TOL = 1e-9
#: Bytes held per information set besides its key's characters: the string object, the id map
#: entry, the key list entry and the legal-action tuple (measured; see :mod:`gamesolve.budget`).
_KEY_OVERHEAD = 200


class InfosetIndex:
    """Two-way map between information-set keys (strings) and dense integer ids.

    Args:
        keys: The key of every infoset, in id order. Keys must be unique.
    """

    __slots__ = ("_ids", "_keys")

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys: tuple[str, ...] = tuple(keys)
        self._ids: dict[str, int] = {k: i for i, k in enumerate(self._keys)}
        if len(self._ids) != len(self._keys):
            raise MalformedGameError("infoset keys must be unique; found duplicates")

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def id(self, key: str) -> int:
        """Dense id of ``key``; raises :class:`KeyError` naming the key if it is unknown."""
        try:
            return self._ids[key]
        except KeyError:
            raise KeyError(f"unknown infoset key {key!r}") from None

    def get(self, key: str, default: int = -1) -> int:
        """Dense id of ``key``, or ``default`` when it is unknown."""
        return self._ids.get(key, default)

    def key(self, infoset: int) -> str:
        """Key of infoset id ``infoset``."""
        return self._keys[infoset]

    @property
    def keys(self) -> tuple[str, ...]:
        """All keys in id order."""
        return self._keys


@dataclass(frozen=True, eq=False, repr=False)
class CompiledGame:
    """An extensive-form game as flat, read-only, integer-indexed arrays.

    Build one with :func:`compile_game` (any game implementing the protocol) or
    :func:`build_compiled_game` (native builders that produce node arrays directly). See the module
    docstring for the layout. All arrays are read-only.
    """

    spec: GameSpec
    node_player: NDArray[np.int8]  # [N] player id, CHANCE_NODE or TERMINAL_NODE
    node_infoset: NDArray[np.int32]  # [N] infoset id at decision nodes, -1 elsewhere
    node_parent: NDArray[np.int32]  # [N] parent id, -1 at the root
    node_first_child: NDArray[np.int32]  # [N] first child id, -1 at terminals
    node_num_children: NDArray[np.int32]  # [N]
    node_action: NDArray[np.int32]  # [N] action/outcome id on the edge into the node, -1 at root
    node_prob: NDArray[np.float64]  # [N] chance probability of the edge into the node, else 1
    terminal_node: NDArray[np.int32]  # [T] node id of each terminal
    terminal_utility: NDArray[np.float64]  # [T, P] payoff of every player
    terminal_seq: NDArray[np.int32]  # [T, P] each player's last own sequence
    infoset_player: NDArray[np.int32]  # [I]
    infoset_num_actions: NDArray[np.int32]  # [I]
    infoset_actions: NDArray[np.int32]  # [I, A] action id per slot, -1 padding
    infoset_parent_seq: NDArray[np.int32]  # [I] owner's parent sequence
    infoset_first_seq: NDArray[np.int32]  # [I] owner's sequence id of slot 0
    num_sequences: NDArray[np.int32]  # [P] including the empty sequence
    infosets: InfosetIndex
    compile_seconds: float = 0.0
    source: Any = field(default=None, compare=False)

    # ------------------------------------------------------------------ sizes
    @property
    def num_players(self) -> int:
        """Number of players."""
        return self.spec.num_players

    @property
    def num_nodes(self) -> int:
        """Number of histories (decision, chance and terminal)."""
        return int(self.node_player.shape[0])

    @property
    def num_terminals(self) -> int:
        """Number of terminal histories."""
        return int(self.terminal_node.shape[0])

    @property
    def num_infosets(self) -> int:
        """Number of information sets of all players."""
        return int(self.infoset_player.shape[0])

    @property
    def max_actions(self) -> int:
        """Width ``A`` of policy matrices: the largest number of legal actions at an infoset."""
        return int(self.infoset_actions.shape[1])

    @property
    def num_decision_nodes(self) -> int:
        """Number of histories where a player acts."""
        return int(np.count_nonzero(self.node_player >= 0))

    @property
    def num_chance_nodes(self) -> int:
        """Number of histories where chance acts."""
        return int(np.count_nonzero(self.node_player == CHANCE_NODE))

    @functools.cached_property
    def legal_mask(self) -> NDArray[np.bool_]:
        """``[I, A]`` bool, read-only: which slots are legal actions."""
        mask = np.arange(self.max_actions)[None, :] < self.infoset_num_actions[:, None]
        return readonly(mask)

    @functools.cached_property
    def sequence_offset(self) -> NDArray[np.int64]:
        """``[P]`` int64: where each player's sequences start in a global sequence numbering."""
        counts = self.num_sequences.astype(np.int64)
        return readonly(np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64))

    @functools.cached_property
    def node_terminal(self) -> NDArray[np.int32]:
        """``[N]`` int32, read-only: index into ``terminal_utility`` of each terminal node, -1 elsewhere."""
        out = np.full(self.num_nodes, -1, dtype=np.int32)
        out[self.terminal_node] = np.arange(self.num_terminals, dtype=np.int32)
        return readonly(out)

    @functools.cached_property
    def tree(self) -> TreeArrays:
        """The arrays bundled as one kernel argument (built once; see :mod:`gamesolve.kernels.tree`)."""
        return TreeArrays(
            node_player=self.node_player,
            node_infoset=self.node_infoset,
            node_parent=self.node_parent,
            node_first_child=self.node_first_child,
            node_num_children=self.node_num_children,
            node_action=self.node_action,
            node_prob=self.node_prob,
            terminal_node=self.terminal_node,
            terminal_utility=self.terminal_utility,
            terminal_seq=self.terminal_seq,
            infoset_player=self.infoset_player,
            infoset_num_actions=self.infoset_num_actions,
            infoset_actions=self.infoset_actions,
            infoset_parent_seq=self.infoset_parent_seq,
            infoset_first_seq=self.infoset_first_seq,
            num_sequences=self.num_sequences,
            seq_offset=self.sequence_offset,
        )

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (the key index is not counted)."""
        values = (getattr(self, f.name) for f in dataclasses.fields(self))
        return sum(int(v.nbytes) for v in values if isinstance(v, np.ndarray))

    def infosets_of(self, player: int) -> NDArray[np.int32]:
        """Ids of the infosets where ``player`` acts."""
        self.check_player(player)
        return np.flatnonzero(self.infoset_player == player).astype(np.int32)

    def check_player(self, player: int) -> None:
        """Raise ``ValueError`` unless ``player`` is a player index of this game."""
        if not 0 <= player < self.num_players:
            raise ValueError(f"player must be in [0, {self.num_players}), got {player}")

    def history(self, node: int) -> list[int]:
        """Action/outcome ids from the root to ``node``."""
        path: list[int] = []
        while node > 0:
            path.append(int(self.node_action[node]))
            node = int(self.node_parent[node])
        return path[::-1]

    def __repr__(self) -> str:
        return (
            f"CompiledGame({self.spec.name!r}, players={self.num_players}, nodes={self.num_nodes}, "
            f"terminals={self.num_terminals}, infosets={self.num_infosets})"
        )


# ---------------------------------------------------------------------------------------------
# Finalization: derive sequences and check the structure (one numba pass over the nodes).
# ---------------------------------------------------------------------------------------------

_OK = 0
_ERR_PARENT_ORDER = 1
_ERR_INFOSET_PLAYER = 2
_ERR_INFOSET_WIDTH = 3
_ERR_PERFECT_RECALL = 4
_ERR_CHANCE_SUM = 5
_ERR_INFOSET_ORDER = 6
_ERR_CHILD_RANGE = 7


@numba.njit(cache=True)
def _finalize_kernel(
    node_player: NDArray[np.int8],
    node_infoset: NDArray[np.int32],
    node_first_child: NDArray[np.int32],
    node_num_children: NDArray[np.int32],
    node_prob: NDArray[np.float64],
    infoset_player: NDArray[np.int32],
    infoset_num_actions: NDArray[np.int32],
    infoset_first_seq: NDArray[np.int32],
    infoset_parent_seq: NDArray[np.int32],  # out, prefilled with -1
    seq_owner: NDArray[np.int32],  # [total seqs] out: infoset owning each global sequence
    seq_offset: NDArray[np.int32],  # [P] offset of each player's sequences in global numbering
    node_seq: NDArray[np.int32],  # [N, P] scratch: each player's last sequence at each node
    terminal_node: NDArray[np.int32],
    terminal_seq: NDArray[np.int32],  # [T, P] out
    prob_tol: float,
) -> tuple[int, int]:
    n_nodes = node_player.shape[0]
    n_players = node_seq.shape[1]
    for p in range(n_players):
        node_seq[0, p] = 0
    for n in range(n_nodes):
        pl = node_player[n]
        if pl == TERMINAL:
            continue
        first = node_first_child[n]
        m = node_num_children[n]
        if first <= n or first + m > n_nodes:
            return _ERR_CHILD_RANGE, n
        if pl == CHANCE:
            total = 0.0
            for j in range(m):
                total += node_prob[first + j]
            if abs(total - 1.0) > prob_tol:
                return _ERR_CHANCE_SUM, n
            for j in range(m):
                for p in range(n_players):
                    node_seq[first + j, p] = node_seq[n, p]
            continue
        infoset = node_infoset[n]
        if infoset_player[infoset] != pl:
            return _ERR_INFOSET_PLAYER, n
        if infoset_num_actions[infoset] != m:
            return _ERR_INFOSET_WIDTH, n
        own = node_seq[n, pl]
        if infoset_parent_seq[infoset] == -1:
            infoset_parent_seq[infoset] = own
            if own != 0 and seq_owner[seq_offset[pl] + own] >= infoset:
                return _ERR_INFOSET_ORDER, n
        elif infoset_parent_seq[infoset] != own:
            return _ERR_PERFECT_RECALL, n
        for j in range(m):
            c = first + j
            for p in range(n_players):
                node_seq[c, p] = node_seq[n, p]
            node_seq[c, pl] = infoset_first_seq[infoset] + j
    for t in range(terminal_node.shape[0]):
        for p in range(n_players):
            terminal_seq[t, p] = node_seq[terminal_node[t], p]
    return _OK, -1


@numba.njit(cache=True)
def _bfs_order(
    node_player: NDArray[np.int8],
    node_first_child: NDArray[np.int32],
    node_num_children: NDArray[np.int32],
    order: NDArray[np.int32],  # [N] out: old id of the node with each new id
    new_id: NDArray[np.int32],  # [N] out: new id of each old node
) -> int:
    """Breadth-first numbering; returns the number of nodes reached from the root."""
    order[0] = 0
    new_id[0] = 0
    filled = 1
    for k in range(node_player.shape[0]):
        if k >= filled:
            break
        n = order[k]
        if node_player[n] == TERMINAL:
            continue
        first = node_first_child[n]
        for j in range(node_num_children[n]):
            c = first + j
            order[filled] = c
            new_id[c] = filled
            filled += 1
    return filled


def _check_child_ranges(
    node_player: NDArray[np.int8], node_first_child: NDArray[np.int32], node_num_children: NDArray[np.int32]
) -> None:
    """Every non-terminal node has children with larger ids inside the array (checked before use)."""
    n_nodes = node_player.shape[0]
    if node_first_child.shape != (n_nodes,) or node_num_children.shape != (n_nodes,):
        raise MalformedGameError("node arrays must all have one entry per node")
    inner = np.flatnonzero(node_player != TERMINAL_NODE)
    first = node_first_child[inner].astype(np.int64)
    width = node_num_children[inner].astype(np.int64)
    bad = (first <= inner) | (width < 1) | (first + width > n_nodes)
    if bad.any():
        raise MalformedGameError(
            f"node layout broken at node {int(inner[np.flatnonzero(bad)[0]])}: children must be a "
            "non-empty block of larger ids"
        )


def _relayout_breadth_first(
    arrays: dict[str, NDArray[Any]], terminal_utility: NDArray[np.float64]
) -> tuple[dict[str, NDArray[Any]], NDArray[np.float64]]:
    """Renumber nodes breadth first, so both passes of every kernel stream through memory.

    In breadth-first order the children blocks of consecutive nodes are consecutive, so a forward
    loop over node ids writes children sequentially and a backward loop reads them sequentially.
    """
    player = arrays["node_player"]
    n_nodes = player.shape[0]
    order = np.empty(n_nodes, dtype=np.int32)
    new_id = np.full(n_nodes, -1, dtype=np.int32)
    reached = _bfs_order(player, arrays["node_first_child"], arrays["node_num_children"], order, new_id)
    if reached != n_nodes:
        raise MalformedGameError(f"{n_nodes - reached} nodes are not reachable from the root")
    names = ("node_player", "node_infoset", "node_num_children", "node_action", "node_prob")
    out = {name: arrays[name][order] for name in names}
    old_first = arrays["node_first_child"][order]
    first = np.where(old_first >= 0, new_id[np.maximum(old_first, 0)], -1).astype(np.int32)
    out["node_first_child"] = first
    parent = np.full(n_nodes, -1, dtype=np.int32)
    widths = out["node_num_children"]
    owners = np.flatnonzero(out["node_player"] != TERMINAL_NODE)
    parent[np.repeat(first[owners], widths[owners]) + _ranges(widths[owners]).astype(np.int32)] = np.repeat(
        owners.astype(np.int32), widths[owners]
    )
    out["node_parent"] = parent
    old_terminals = np.flatnonzero(player == TERMINAL_NODE)
    terminal_utility = terminal_utility[np.argsort(new_id[old_terminals], kind="stable")]
    return out, terminal_utility


def build_compiled_game(
    spec: GameSpec,
    *,
    node_player: NDArray[Any],
    node_infoset: NDArray[Any],
    node_parent: NDArray[Any],
    node_first_child: NDArray[Any],
    node_num_children: NDArray[Any],
    node_action: NDArray[Any],
    node_prob: NDArray[Any],
    terminal_utility: NDArray[Any],
    infoset_player: NDArray[Any],
    infoset_actions: NDArray[Any],
    infoset_keys: Sequence[str],
    compile_seconds: float = 0.0,
    source: Any = None,
) -> CompiledGame:
    """Assemble a :class:`CompiledGame` from node arrays and check its structure.

    The node arrays must already follow the layout in the module docstring (``parent < child``,
    contiguous children). ``terminal_utility`` is ``[T, P]`` in increasing terminal node id order.
    ``infoset_actions`` is ``[I, A]`` with -1 padding. This derives the sequence arrays, verifies
    chance probabilities, infoset consistency, topological infoset order and perfect recall.

    Raises:
        MalformedGameError: A structural rule is broken (the message names the history).
        NotPerfectRecallError: Two histories of one infoset have different own pasts.
    """
    node_player = np.ascontiguousarray(node_player, dtype=np.int8)
    n_nodes = node_player.shape[0]
    if n_nodes >= np.iinfo(np.int32).max:
        raise UnsupportedGame(f"game has {n_nodes} nodes; at most 2**31 - 1 are supported")
    node_infoset = np.ascontiguousarray(node_infoset, dtype=np.int32)
    node_parent = np.ascontiguousarray(node_parent, dtype=np.int32)
    node_first_child = np.ascontiguousarray(node_first_child, dtype=np.int32)
    node_num_children = np.ascontiguousarray(node_num_children, dtype=np.int32)
    node_action = np.ascontiguousarray(node_action, dtype=np.int32)
    node_prob = np.ascontiguousarray(node_prob, dtype=np.float64)
    infoset_player = np.ascontiguousarray(infoset_player, dtype=np.int32)
    infoset_actions = np.ascontiguousarray(infoset_actions, dtype=np.int32)
    if infoset_actions.ndim != 2 or infoset_actions.shape[0] != infoset_player.shape[0]:
        raise MalformedGameError("infoset_actions must be [num_infosets, max_actions]")
    if infoset_actions.shape[1] == 0:
        infoset_actions = np.full((infoset_player.shape[0], 1), -1, dtype=np.int32)
    infoset_num_actions = np.count_nonzero(infoset_actions >= 0, axis=1).astype(np.int32)
    n_players = spec.num_players
    terminal_node = np.flatnonzero(node_player == TERMINAL_NODE).astype(np.int32)
    terminal_utility = np.ascontiguousarray(terminal_utility, dtype=np.float64)
    if terminal_utility.shape != (terminal_node.shape[0], n_players):
        raise MalformedGameError(
            f"terminal_utility must have shape {(terminal_node.shape[0], n_players)}, "
            f"got {terminal_utility.shape}"
        )
    _check_child_ranges(node_player, node_first_child, node_num_children)
    relaid, terminal_utility = _relayout_breadth_first(
        {
            "node_player": node_player,
            "node_infoset": node_infoset,
            "node_first_child": node_first_child,
            "node_num_children": node_num_children,
            "node_action": node_action,
            "node_prob": node_prob,
        },
        terminal_utility,
    )
    node_player = relaid["node_player"]
    node_infoset = relaid["node_infoset"]
    node_parent = relaid["node_parent"]
    node_first_child = relaid["node_first_child"]
    node_num_children = relaid["node_num_children"]
    node_action = relaid["node_action"]
    node_prob = relaid["node_prob"]
    terminal_node = np.flatnonzero(node_player == TERMINAL_NODE).astype(np.int32)
    if not np.all(np.isfinite(terminal_utility)):
        bad = int(terminal_node[np.flatnonzero(~np.isfinite(terminal_utility).all(axis=1))[0]])
        raise MalformedGameError(
            f"non-finite payoff at terminal history {_path(node_parent, node_action, bad)}"
        )
    if node_player.shape[0] and (np.any(node_prob < 0) or not np.all(np.isfinite(node_prob))):
        raise MalformedGameError("chance probabilities must be finite and non-negative")
    if np.any((infoset_player < 0) | (infoset_player >= n_players)):
        raise MalformedGameError(f"infoset players must lie in [0, {n_players})")

    # Sequence numbering: per player, in infoset id order, starting after the empty sequence.
    counts = np.zeros(n_players, dtype=np.int64)
    infoset_first_seq = np.empty(infoset_player.shape[0], dtype=np.int32)
    for p in range(n_players):
        mine = np.flatnonzero(infoset_player == p)
        widths = infoset_num_actions[mine].astype(np.int64)
        infoset_first_seq[mine] = 1 + np.concatenate(([0], np.cumsum(widths)[:-1])).astype(np.int32)
        counts[p] = 1 + int(widths.sum())
    num_sequences = counts.astype(np.int32)
    seq_offset = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int32)
    seq_owner = np.full(int(counts.sum()), -1, dtype=np.int32)
    owners = np.repeat(np.arange(infoset_player.shape[0], dtype=np.int32), infoset_num_actions)
    global_first = seq_offset[infoset_player] + infoset_first_seq
    seq_owner[np.repeat(global_first, infoset_num_actions) + _ranges(infoset_num_actions)] = owners

    infoset_parent_seq = np.full(infoset_player.shape[0], -1, dtype=np.int32)
    terminal_seq = np.zeros((terminal_node.shape[0], n_players), dtype=np.int32)
    node_seq = np.empty((n_nodes, n_players), dtype=np.int32)
    status, where = _finalize_kernel(
        node_player,
        node_infoset,
        node_first_child,
        node_num_children,
        node_prob,
        infoset_player,
        infoset_num_actions,
        infoset_first_seq,
        infoset_parent_seq,
        seq_owner,
        seq_offset,
        node_seq,
        terminal_node,
        terminal_seq,
        _PROB_TOL,
    )
    del node_seq
    if status != _OK:
        _raise_finalize_error(status, where, node_parent, node_action, node_infoset, infoset_keys)
    if np.any(infoset_parent_seq < 0):
        missing = int(np.flatnonzero(infoset_parent_seq < 0)[0])
        raise MalformedGameError(f"infoset {infoset_keys[missing]!r} is never reached")

    return CompiledGame(
        spec=spec,
        node_player=readonly(node_player),
        node_infoset=readonly(node_infoset),
        node_parent=readonly(node_parent),
        node_first_child=readonly(node_first_child),
        node_num_children=readonly(node_num_children),
        node_action=readonly(node_action),
        node_prob=readonly(node_prob),
        terminal_node=readonly(terminal_node),
        terminal_utility=readonly(terminal_utility),
        terminal_seq=readonly(terminal_seq),
        infoset_player=readonly(infoset_player),
        infoset_num_actions=readonly(infoset_num_actions),
        infoset_actions=readonly(infoset_actions),
        infoset_parent_seq=readonly(infoset_parent_seq),
        infoset_first_seq=readonly(infoset_first_seq),
        num_sequences=readonly(num_sequences),
        infosets=InfosetIndex(infoset_keys),
        compile_seconds=compile_seconds,
        source=source,
    )


def _ranges(widths: NDArray[np.int32]) -> NDArray[np.int64]:
    """``concatenate([arange(w) for w in widths])`` without a Python loop."""
    total = int(widths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(widths) - widths, widths)
    return np.arange(total, dtype=np.int64) - starts


def _path(node_parent: NDArray[np.int32], node_action: NDArray[np.int32], node: int) -> str:
    path: list[int] = []
    while node > 0:
        path.append(int(node_action[node]))
        node = int(node_parent[node])
    return "[" + ", ".join(map(str, path[::-1])) + "]"


def _raise_finalize_error(
    status: int,
    node: int,
    node_parent: NDArray[np.int32],
    node_action: NDArray[np.int32],
    node_infoset: NDArray[np.int32],
    keys: Sequence[str],
) -> None:
    where = f"history {_path(node_parent, node_action, node)}"
    key = keys[node_infoset[node]] if node_infoset[node] >= 0 else ""
    if status == _ERR_CHANCE_SUM:
        raise MalformedGameError(f"chance probabilities at {where} do not sum to 1")
    if status == _ERR_PERFECT_RECALL:
        raise NotPerfectRecallError(
            f"infoset {key!r} is not perfect recall: at {where} the acting player's own past "
            "differs from another history in the same infoset"
        )
    if status == _ERR_INFOSET_PLAYER:
        raise MalformedGameError(f"infoset {key!r} is shared by different players (at {where})")
    if status == _ERR_INFOSET_WIDTH:
        raise MalformedGameError(
            f"infoset {key!r} has histories with different numbers of legal actions (at {where})"
        )
    if status == _ERR_INFOSET_ORDER:
        raise MalformedGameError(f"infoset {key!r} is numbered before its parent infoset")
    raise MalformedGameError(f"node layout broken at {where}: children must follow their parent")


# ---------------------------------------------------------------------------------------------
# Generic compiler: walk any game implementing the State protocol.
# ---------------------------------------------------------------------------------------------


def compile_game(game: ExtensiveFormGame, *, max_nodes: int | None = None) -> CompiledGame:
    """Walk ``game`` once and compile it into a :class:`CompiledGame`.

    Time and memory are linear in the number of histories. Each history is expanded exactly once,
    depth first, with all children of a history given consecutive ids. Child states are made one
    at a time as the walk reaches them, so the states held at once are those on one path from the
    root (not every pending sibling).

    The walk keeps a running estimate of the memory it will need (bytes per history, plus the
    information-set keys) and stops with :class:`~gamesolve.errors.GameTooLargeError` as soon as
    it passes the memory budget (:mod:`gamesolve.budget`), instead of exhausting the machine.

    Args:
        game: Any object implementing :class:`~gamesolve.protocols.ExtensiveFormGame`.
        max_nodes: Refuse (with :class:`~gamesolve.errors.UnsupportedGame`) games with more
            histories than this. ``None`` means no limit but the memory budget.

    Raises:
        MalformedGameError: Inconsistent infosets, bad chance probabilities or payoffs.
        NotPerfectRecallError: The game is not perfect recall.
        GameTooLargeError: The tree does not fit in the memory budget.
    """
    spec = game.spec
    if spec.kind is not GameKind.EXTENSIVE_FORM:
        raise UnsupportedGame(f"compile_game needs an extensive-form game, got a {spec.kind.value} game")
    start = time.perf_counter()
    n_players = spec.num_players
    budget = get_memory_budget()
    per_node = GENERIC_BYTES_PER_NODE + 4 * n_players
    node_player = array.array("b", [0])
    node_infoset = array.array("i", [-1])
    node_parent = array.array("i", [-1])
    node_first_child = array.array("i", [-1])
    node_num_children = array.array("i", [0])
    node_action = array.array("i", [-1])
    node_prob = array.array("d", [1.0])
    utilities = array.array("d")  # [T * P] payoffs, terminals in discovery order
    terminal_ids = array.array("q")  # [T] node id of each terminal, in discovery order
    infoset_ids: dict[str, int] = {}
    infoset_keys: list[str] = []
    infoset_player: list[int] = []
    infoset_legal: list[tuple[int, ...]] = []
    key_bytes = 0

    # Frames of the depth-first walk: a history, its actions, the id of its first child and how
    # many children have been visited.
    frames: list[list[Any]] = []
    pending: tuple[State, int] | None = (game.initial_state(), 0)
    n_nodes = 1
    while pending is not None or frames:
        if pending is None:
            frame = frames[-1]
            if frame[3] == len(frame[1]):
                frames.pop()
                continue
            j = frame[3]
            frame[3] = j + 1
            pending = (frame[0].child(frame[1][j]), frame[2] + j)
            continue
        state, node = pending
        pending = None
        if state.is_terminal():
            node_player[node] = TERMINAL_NODE
            returns = state.returns()
            if len(returns) != n_players:
                raise MalformedGameError(
                    f"returns() has {len(returns)} entries at a terminal history, expected {n_players}"
                )
            terminal_ids.append(node)
            utilities.extend([float(r) for r in returns])
            continue
        player = state.current_player()
        if player == CHANCE:
            outcomes = state.chance_outcomes()
            actions = [a for a, _ in outcomes]
            probs = [p for _, p in outcomes]
        else:
            if not 0 <= player < n_players:
                raise MalformedGameError(f"current_player() returned {player}, not a player id")
            actions = list(state.legal_actions())
            probs = [1.0] * len(actions)
            key = state.infoset_key(player)
            infoset = infoset_ids.get(key)
            legal = tuple(actions)
            if infoset is None:
                infoset = len(infoset_keys)
                infoset_ids[key] = infoset
                infoset_keys.append(key)
                infoset_player.append(player)
                infoset_legal.append(legal)
                key_bytes += _KEY_OVERHEAD + len(key) + 8 * len(legal)
            elif infoset_legal[infoset] != legal:
                raise MalformedGameError(
                    f"infoset {key!r} has different legal actions in different histories: "
                    f"{list(infoset_legal[infoset])} and {list(legal)}"
                )
            node_infoset[node] = infoset
        if not actions:
            raise MalformedGameError("a non-terminal history has no legal actions or chance outcomes")
        node_player[node] = player
        node_first_child[node] = n_nodes
        node_num_children[node] = len(actions)
        for a, p in zip(actions, probs, strict=True):
            node_player.append(0)
            node_infoset.append(-1)
            node_parent.append(node)
            node_first_child.append(-1)
            node_num_children.append(0)
            node_action.append(int(a))
            node_prob.append(float(p))
        frames.append([state, actions, n_nodes, 0])
        n_nodes += len(actions)
        if max_nodes is not None and n_nodes > max_nodes:
            raise UnsupportedGame(
                f"{spec.name} has more than max_nodes={max_nodes:,} histories; too large to "
                "compile exactly (pass a larger max_nodes to compile() to try anyway)"
            )
        if n_nodes * per_node + key_bytes > budget:
            require_memory(
                spec.name,
                n_nodes * per_node + key_bytes,
                doing="compile",
                detail=f"expansion stopped after {n_nodes:,} histories",
                at_least=True,
            )

    terminal_order = np.argsort(np.frombuffer(terminal_ids, dtype=np.int64), kind="stable")
    terminal_utility = np.frombuffer(utilities, dtype=np.float64).reshape(-1, n_players)[terminal_order]
    del utilities, terminal_ids
    width = max((len(a) for a in infoset_legal), default=1)
    infoset_actions = np.full((len(infoset_legal), width), -1, dtype=np.int32)
    for i, legal in enumerate(infoset_legal):
        infoset_actions[i, : len(legal)] = legal
    compiled = build_compiled_game(
        spec,
        node_player=np.frombuffer(node_player, dtype=np.int8),
        node_infoset=np.frombuffer(node_infoset, dtype=np.int32),
        node_parent=np.frombuffer(node_parent, dtype=np.int32),
        node_first_child=np.frombuffer(node_first_child, dtype=np.int32),
        node_num_children=np.frombuffer(node_num_children, dtype=np.int32),
        node_action=np.frombuffer(node_action, dtype=np.int32),
        node_prob=np.frombuffer(node_prob, dtype=np.float64),
        terminal_utility=terminal_utility,
        infoset_player=np.asarray(infoset_player, dtype=np.int32),
        infoset_actions=infoset_actions,
        infoset_keys=infoset_keys,
        source=game,
    )
    seconds = time.perf_counter() - start
    object.__setattr__(compiled, "compile_seconds", seconds)
    log.info("compiled %s: %s in %.3f s", spec.name, compiled, seconds)
    return compiled


_CACHE: weakref.WeakKeyDictionary[Any, CompiledGame] = weakref.WeakKeyDictionary()


def as_compiled(game: Any) -> CompiledGame:
    """Return the compiled form of ``game``, compiling it at most once per game object.

    Accepts a :class:`CompiledGame` (returned as is), an object with a ``compile()`` method (native
    games and adapters, which cache their own result), or any
    :class:`~gamesolve.protocols.ExtensiveFormGame`.

    Raises:
        UnsupportedGame: ``game`` is not an extensive-form game.
    """
    if isinstance(game, CompiledGame):
        return game
    compile_method = getattr(game, "compile", None)
    if callable(compile_method):
        compiled = compile_method()
        if not isinstance(compiled, CompiledGame):
            raise TypeError(f"{type(game).__name__}.compile() must return a CompiledGame")
        return compiled
    if not isinstance(game, ExtensiveFormGame):
        raise UnsupportedGame(f"expected an extensive-form game or CompiledGame, got {type(game).__name__}")
    try:
        cached = _CACHE.get(game)
    except TypeError:  # not weak-referenceable
        return compile_game(game)
    if cached is None:
        cached = compile_game(game)
        _CACHE[game] = cached
    return cached
