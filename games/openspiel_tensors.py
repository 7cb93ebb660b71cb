"""Which player an OpenSpiel tensor is for: the mover's planes of perfect-information boards.

OpenSpiel's tensors of perfect-information board games show the board and are the same whichever
player asks for them; :func:`mover_features` finds such tensors by seeded random plays
(:func:`random_decisions`) and :func:`with_mover` appends the acting player's one-hot to them, as
every place that makes tensors for gamesolve's networks does (batched environments, infoset
tables, matches on states).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["mover_features", "mover_planes", "random_decisions", "tensor_shape", "with_mover"]


#: Random plays along which :func:`mover_features` compares the players' tensors.
_MOVER_PLAYS = 4
#: Moves per play at most.
_MOVER_DEPTH = 200
_MOVER_CACHE: dict[tuple[str, str], int] = {}
_MOVER_LOCK = threading.Lock()


def mover_features(pyspiel_game: Any, method: str) -> int:
    """Planes (or entries) gamesolve appends to ``method``'s tensors: one per player, or none.

    OpenSpiel's tensors of perfect-information board games (``connect_four``, ``tic_tac_toe``,
    ``hex``, ``breakthrough``...) show the board and are the same whichever player they are asked
    for, so a network shared by the players (self-play) cannot tell whose move it is but by
    counting stones. Where every player's tensor is the same along a few seeded random plays,
    gamesolve's tensors of that kind append the acting player's one-hot: ``P`` entries, or ``P``
    constant planes on a ``(C, H, W)`` board (the colour plane of Silver et al. 2016, "Mastering the
    game of Go with deep neural networks and tree search"). Tensors that already differ between
    players (cards, private views: ``leduc_poker``, ``dark_hex``) are left as OpenSpiel gives them.

    Args:
        pyspiel_game: The ``pyspiel.Game``.
        method: ``"information_state_tensor"`` or ``"observation_tensor"``.

    Returns:
        The number of players when the tensor is the same for every player (and there are two or
        more), else 0. Cached per game string and method.
    """
    key = (str(pyspiel_game), method)
    with _MOVER_LOCK:
        cached = _MOVER_CACHE.get(key)
    if cached is not None:
        return cached
    players = int(pyspiel_game.num_players())
    extra = players if players > 1 and _same_for_every_player(pyspiel_game, method, players) else 0
    with _MOVER_LOCK:
        _MOVER_CACHE[key] = extra
    return extra


def _same_for_every_player(pyspiel_game: Any, method: str, players: int) -> bool:
    decisions = 0
    for state in random_decisions(pyspiel_game, plays=_MOVER_PLAYS, depth=_MOVER_DEPTH):
        if state.is_simultaneous_node():
            return False
        first = getattr(state, method)(0)
        if any(getattr(state, method)(p) != first for p in range(1, players)):
            return False
        decisions += 1
    return decisions > 0


def random_decisions(pyspiel_game: Any, *, plays: int = 4, depth: int = 200, seed: int = 0) -> Iterator[Any]:
    """The decision states met along ``plays`` seeded uniformly random plays of at most ``depth`` moves.

    Chance is sampled uniformly over its outcomes; after each state is yielded a uniformly random
    legal action is played in it (so the caller reads it, and must not change it).
    """
    rng = np.random.default_rng(seed)
    for _ in range(plays):
        state = pyspiel_game.new_initial_state()
        for _ in range(depth):
            if state.is_terminal():
                break
            if state.is_chance_node():
                outcomes = state.chance_outcomes()
                state.apply_action(outcomes[int(rng.integers(len(outcomes)))][0])
                continue
            yield state
            legal = state.legal_actions()
            state.apply_action(legal[int(rng.integers(len(legal)))])


def tensor_shape(pyspiel_game: Any, method: str) -> tuple[int, ...]:
    """The shape of gamesolve's tensors of ``method``: OpenSpiel's, with the mover's planes added.

    ``(C + m, H, W)`` for a board of OpenSpiel shape ``(C, H, W)``, else ``(F + m,)``, where ``m``
    is :func:`mover_features` (0 for most games).
    """
    size = int(getattr(pyspiel_game, f"{method}_size")())
    shape = tuple(int(n) for n in getattr(pyspiel_game, f"{method}_shape")())
    if not shape or int(np.prod(shape)) != size:
        shape = (size,)
    extra = mover_features(pyspiel_game, method)
    if len(shape) == 3:
        return (shape[0] + extra, shape[1], shape[2])
    return (int(np.prod(shape)) + extra,)


def mover_planes(pyspiel_game: Any, method: str) -> NDArray[np.float32] | None:
    """What :func:`with_mover` appends for each player: ``[P, E]`` float32, or ``None`` where nothing is.

    Row ``p`` is player ``p``'s one-hot, each entry repeated ``H * W`` times on a ``(C, H, W)``
    board (``E = P * H * W``), once elsewhere (``E = P``). Batched environments keep it and index it
    by the movers of each step.
    """
    extra = mover_features(pyspiel_game, method)
    if not extra:
        return None
    shape = tuple(int(n) for n in getattr(pyspiel_game, f"{method}_shape")())
    cells = shape[1] * shape[2] if len(shape) == 3 else 1
    return np.repeat(np.eye(extra, dtype=np.float32), cells, axis=1)


def with_mover(rows: Any, players: Any, pyspiel_game: Any, method: str) -> NDArray[np.float32]:
    """``rows`` (``[n, F]`` OpenSpiel tensors of the acting ``players``) with the mover's planes appended.

    Returns ``rows`` itself (as float32) where the game needs none (see :func:`mover_features`).
    """
    out = np.asarray(rows, dtype=np.float32)
    planes = mover_planes(pyspiel_game, method)
    if planes is None:
        return out
    return np.concatenate([out, planes[np.asarray(players, dtype=np.int64)]], axis=1)
