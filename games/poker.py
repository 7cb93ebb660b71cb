"""What the poker games share: their description, dealing cards, and compiling once.

Kuhn poker (Kuhn 1950, "A simplified two-person poker") and Leduc hold'em (Southey et al. 2005,
"Bayes' bluff: opponent modelling in poker") are both zero-sum games of imperfect information in
which chance deals cards uniformly from a deck without replacement, and both compile to a cached
:class:`~gamesolve.CompiledGame` after checking the tree's size against the memory budget. Both
encode every information set as a tensor, in the layouts of OpenSpiel's ``information_state_tensor``
and ``observation_tensor`` (Lanctot et al. 2019, "OpenSpiel: A framework for reinforcement learning
in games"), for the batched environments of :mod:`gamesolve.vector_env`.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from gamesolve.arrays import readonly
from gamesolve.budget import MAX_INDEX, SizeEstimate, require_memory
from gamesolve.compiled import CompiledGame
from gamesolve.errors import UnsupportedGame
from gamesolve.spec import GameKind, GameSpec, Utility
from gamesolve.validation import check_choice
from gamesolve.vector_env.base import OBSERVATION_KINDS

__all__ = ["PokerGame", "check_deal", "deal_outcomes", "poker_spec"]


def poker_spec(name: str, num_players: int) -> GameSpec:
    """The description of a poker game: extensive form, zero-sum, chance deals, hidden cards."""
    return GameSpec(
        name=name,
        kind=GameKind.EXTENSIVE_FORM,
        num_players=num_players,
        utility=Utility.ZERO_SUM,
        has_chance=True,
        simultaneous=False,
        perfect_recall=True,
        perfect_information=False,
    )


def deal_outcomes(num_cards: int, dealt: Sequence[int]) -> list[tuple[int, float]]:
    """``(card, probability)`` for every card of the deck not dealt yet, uniformly, in card order."""
    left = [c for c in range(num_cards) if c not in dealt]
    p = 1.0 / len(left)
    return [(c, p) for c in left]


def check_deal(card: int, num_cards: int, dealt: Sequence[int]) -> None:
    """Refuse a card that is not in the deck or was dealt already.

    Raises:
        ValueError: ``card`` cannot be dealt.
    """
    if not 0 <= card < num_cards or card in dealt:
        raise ValueError(f"card {card} cannot be dealt at this history")


class PokerGame(abc.ABC):
    """Base of the poker games: the spec, and :meth:`compile` once, thread-safely, with a cache.

    Subclasses give the exact size of the tree (:meth:`num_histories`, :meth:`size_estimate`) and
    the builder (:meth:`_build`), which runs at most once per game.

    Args:
        spec: The game's description (see :func:`poker_spec`).
    """

    def __init__(self, spec: GameSpec) -> None:
        self._spec = spec
        self._compiled: CompiledGame | None = None
        self._tensors: dict[str, NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    @property
    def spec(self) -> GameSpec:
        """The game's static description."""
        return self._spec

    @abc.abstractmethod
    def num_histories(self) -> int:
        """Number of histories (nodes) of the game tree, counted without building it."""

    @abc.abstractmethod
    def size_estimate(self) -> SizeEstimate:
        """Peak memory of :meth:`compile`, from the exact history and infoset counts."""

    @abc.abstractmethod
    def _build(self, max_nodes: int | None) -> CompiledGame:
        """Build the compiled game (called once, after the size checks)."""

    @abc.abstractmethod
    def tensor_size(self, observation: str) -> int:
        """``F``: the length of the ``"info_state"`` or ``"observation"`` tensor."""

    @abc.abstractmethod
    def _encode(self, keys: Sequence[str], observation: str, out: NDArray[np.float32]) -> None:
        """Write the tensor of the infoset with key ``keys[i]`` into the zeroed row ``out[i]``."""

    def infoset_tensors(self, observation: str = "info_state") -> NDArray[np.float32]:
        """``[I, F]`` float32, read-only: the tensor of every infoset of :meth:`compile`, row by id.

        ``"info_state"`` is OpenSpiel's ``information_state_tensor`` and ``"observation"`` its
        ``observation_tensor`` (both functions of the acting player's infoset in these games),
        built once per kind and cached.

        Raises:
            InvalidArgumentError: ``observation`` is not a tensor kind.
            GameTooLargeError: The game or its table does not fit in the memory budget.
        """
        kind = check_choice("observation", observation, OBSERVATION_KINDS)
        cached = self._tensors.get(kind)
        if cached is not None:
            return cached
        compiled = self.compile()
        size = self.tensor_size(kind)
        require_memory(
            self._spec.name,
            4 * compiled.num_infosets * size,
            doing=f"build the {kind} tensors",
            detail=f"{compiled.num_infosets:,} infosets x {size:,} floats",
        )
        out = np.zeros((compiled.num_infosets, size), dtype=np.float32)
        self._encode(compiled.infosets.keys, kind, out)
        with self._lock:
            return self._tensors.setdefault(kind, readonly(out))

    def compile(self, *, max_nodes: int | None = None) -> CompiledGame:
        """Compile once and cache the result.

        The size is checked first, from the exact history count: a game beyond the memory budget
        (:mod:`gamesolve.budget`) is refused before anything is allocated.

        Args:
            max_nodes: Refuse games with more histories than this (``None``: no limit).

        Raises:
            UnsupportedGame: The game has more than ``max_nodes`` histories.
            GameTooLargeError: The compiled game would not fit in the memory budget, or has more
                than ``2**31 - 1`` histories.
        """
        with self._lock:
            if self._compiled is None:
                histories = self.num_histories()
                if max_nodes is not None and histories > max_nodes:
                    raise UnsupportedGame(
                        f"{self._spec.name} has {histories:,} histories, more than max_nodes={max_nodes}"
                    )
                self.size_estimate().require(max_index=MAX_INDEX)
                self._compiled = self._build(max_nodes)
            elif max_nodes is not None and self._compiled.num_nodes > max_nodes:
                raise UnsupportedGame(f"{self._spec.name} has more than max_nodes={max_nodes} histories")
            return self._compiled
