"""The tensor of every infoset of a compiled game, the observations a network is evaluated on.

Tabulating a network (:meth:`gamesolve.neural.NeuralPolicy.tabulate`) evaluates it on one tensor
per infoset, the same tensors the batched environment of that game shows (the table of
:func:`gamesolve.vector_env.tree.infoset_table`). A game that encodes no tensors has the one-hot of
the infoset id as its information state, exact for a game of perfect recall (an infoset determines
everything its player has seen and done); one-hot rows are built a block at a time, never as an
``[I, I]`` table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import as_compiled
from gamesolve.vector_env.tree import infoset_table

__all__ = ["InfosetTensors"]


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
