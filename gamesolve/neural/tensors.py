"""The tensor of every infoset of a compiled game, the observations a network is evaluated on.

Tabulating a network (:meth:`gamesolve.neural.NeuralPolicy.tabulate`) evaluates it on one tensor
per infoset, the same tensors the batched environment of that game shows (the table of
:func:`gamesolve.vector_env.tree.infoset_table`). A game that encodes no tensors has the one-hot of
the infoset id as its information state, exact for a game of perfect recall (an infoset determines
everything its player has seen and done); one-hot rows are built a block at a time, never as an
``[I, I]`` table.
"""

from __future__ import annotations

from gamesolve.vector_env.tree import InfosetTensors

__all__ = ["InfosetTensors"]
