"""Multi-core tree passes over the breadth-first layers of a compiled game.

Compiled games are laid out breadth first (:mod:`gamesolve.compiled`): the histories of one depth
form a contiguous block of node ids, and the children of a block form the next block. Within a
layer every node writes only its own children (forward pass) or reads only its own children
(backward pass), so the layer is cut into chunks that numba's threads process independently.

The only sums that cross nodes are the counterfactual action values ``cfv[I, a] = sum_{h in I}
opp[h] v[ha]`` (CFR) and the counterfactual terminal mass of every sequence (best responses). Each
chunk adds its terms into a private buffer; the buffers are then added in chunk order. A layer is
cut into the same :attr:`TreeLayers.chunks` pieces whatever the number of threads (the count
depends only on the game), so **the results are bit-identical for every thread count**, one
included. They can differ from the serial kernels of :mod:`gamesolve.kernels.cfr` and
:mod:`gamesolve.kernels.evaluation` in the last bits (the terms are associated differently), which
is why a game uses one kind of kernel or the other by its size alone (:func:`layers_of`), never by
the thread count.

Every layer starts a parallel region, a few microseconds each: on the games these kernels are for
(:data:`LAYERED_MIN_NODES` and up) that is noise next to the millions of nodes. The loops
themselves are those of the serial kernels (:mod:`gamesolve.kernels.passes`), run per chunk.

What it costs and gives (a 2-core machine, ``python -m experiments.bench_cfr`` and
``experiments.bench_evaluation``): exact evaluation is as fast as the serial kernels on one thread
and 1.4-1.8x faster on two, from Liar's Dice (295k nodes) to ``leduc(ranks=13,suits=4)`` (10M);
it runs layered from :data:`LAYERED_MIN_NODES` nodes. A CFR traversal is 1.3-1.5x slower than the
serial one on a single thread (separate passes per layer, private buffers) and about 1.7x faster
than that on two threads: 1.1-1.3x the serial kernel on ``leduc(ranks=13,suits=4)``, no gain below
a few million nodes; it runs layered from :data:`CFR_LAYERED_MIN_NODES` nodes. Machines with more
cores give the chunks more threads (not measured here). The kernel is chosen by the game's size
alone, so a run's numbers never depend on the thread count.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.passes import pull_values, push_opponent_reach, push_reach, terminal_mass
from gamesolve.kernels.tree import TreeArrays

__all__ = [
    "CFR_LAYERED_MIN_NODES",
    "LAYERED_MIN_NODES",
    "SERIAL",
    "TreeLayers",
    "best_response_mass_layered",
    "build_layers",
    "counterfactual_values_layered",
    "forward_reach_layered",
    "kernel_threads",
    "layers_of",
    "use_serial_kernels",
]

#: Exact evaluation runs the layered kernels on games with at least this many nodes (it is as fast
#: as the serial kernels on one thread there, and faster on more).
LAYERED_MIN_NODES = 200_000
#: CFR runs its layered traversal on games with at least this many nodes: it is slower than the
#: serial traversal on one thread, and pays on two only at about this size.
CFR_LAYERED_MIN_NODES = 4_000_000
#: Most chunks a layer is cut into (the private buffers cost ``chunks`` copies of the summed rows).
MAX_CHUNKS = 8


class TreeLayers(NamedTuple):
    """How the layered kernels cut a tree (one kernel argument, built by :func:`build_layers`)."""

    layer_start: NDArray[np.int64]  # [L + 1] first node id of every depth, then N
    chunks: int  # pieces every layer (and the terminals) is cut into


#: The argument that tells :func:`gamesolve.kernels.cfr.cfr_iteration` to run its serial pass.
SERIAL = TreeLayers(layer_start=np.zeros(1, dtype=np.int64), chunks=0)


@numba.njit(cache=True, nogil=True)
def _layer_bounds(
    node_first_child: NDArray[np.int32], node_num_children: NDArray[np.int32]
) -> NDArray[np.int64]:
    """Start of every breadth-first layer, then N; ``[-1]`` on a layout that is not breadth first."""
    n_nodes = node_first_child.shape[0]
    bounds = [0]
    lo = 0
    hi = 1
    while lo < n_nodes:
        nxt = hi
        for n in range(lo, hi):
            if node_num_children[n] > 0:
                if node_first_child[n] != nxt:
                    return np.full(1, -1, dtype=np.int64)
                nxt += node_num_children[n]
        bounds.append(hi)
        lo = hi
        hi = nxt
    return np.array(bounds, dtype=np.int64)


def build_layers(tree: TreeArrays) -> TreeLayers | None:
    """The layer bounds of a breadth-first tree and its chunk count; ``None`` if not breadth first.

    The chunk count is :data:`MAX_CHUNKS`, lowered so that the private buffers (``chunks`` copies of
    the ``[I, A]`` values, or of the sequence values) stay within the size of the node arrays.
    """
    bounds = _layer_bounds(tree.node_first_child, tree.node_num_children)
    if bounds[0] < 0:
        return None
    n_nodes = int(tree.node_player.shape[0])
    rows = max(int(tree.infoset_actions.size), int(tree.num_sequences.sum()), 1)
    chunks = int(min(MAX_CHUNKS, max(2, n_nodes // rows)))
    return TreeLayers(layer_start=bounds, chunks=chunks)


def layers_of(game: Any, *, min_nodes: int | None = None) -> TreeLayers | None:
    """The layers of a compiled game of at least ``min_nodes`` nodes, else ``None`` (serial kernels).

    ``min_nodes`` defaults to :data:`LAYERED_MIN_NODES` (the evaluation's threshold; CFR uses
    :data:`CFR_LAYERED_MIN_NODES`). Built once per game and kept on it.
    """
    threshold = LAYERED_MIN_NODES if min_nodes is None else min_nodes
    cached = game.__dict__.get("_tree_layers", False)
    if cached is None or game.num_nodes < threshold:
        return None
    if cached is False:
        cached = build_layers(game.tree)
        game.__dict__["_tree_layers"] = cached
    return cached


def use_serial_kernels(game: Any) -> None:
    """Run every kernel serially on this compiled game, whatever its size (a baseline to compare)."""
    game.__dict__["_tree_layers"] = None


@contextlib.contextmanager
def kernel_threads(threads: int | None) -> Iterator[int]:
    """Run the enclosed kernels on ``threads`` of numba's threads, then restore the previous count.

    ``None`` leaves numba's count as it is (every core, unless ``numba.set_num_threads`` or the
    ``NUMBA_NUM_THREADS`` environment variable chose fewer). More than
    ``numba.config.NUMBA_NUM_THREADS`` (the cores numba started with) uses that many.
    """
    previous = numba.get_num_threads()
    if threads is None:
        yield previous
        return
    wanted = min(int(threads), int(numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    numba.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        numba.set_num_threads(previous)


@numba.njit(cache=True, nogil=True)
def _span(lo: int, hi: int, c: int, chunks: int) -> tuple[int, int]:
    """Node range of chunk ``c`` of the layer ``[lo, hi)``."""
    size = hi - lo
    return lo + c * size // chunks, lo + (c + 1) * size // chunks


@numba.njit(cache=True, nogil=True, parallel=True)
def counterfactual_values_layered(
    tree: TreeArrays,
    layers: TreeLayers,
    probs: NDArray[np.float64],  # [I, A] current strategy
    player: int,
    opp: NDArray[np.float64],  # [N] scratch
    value: NDArray[np.float64],  # [N] scratch
    cfv: NDArray[np.float64],  # [I, A] out (rows of `player` overwritten)
    part: NDArray[np.float64],  # [chunks, I, A] scratch
) -> float:
    """:func:`gamesolve.kernels.cfr.counterfactual_values` over numba's threads (module docstring)."""
    start = layers.layer_start
    chunks = layers.chunks
    opp[0] = 1.0
    for d in range(start.shape[0] - 1):
        for c in numba.prange(chunks):
            a, b = _span(start[d], start[d + 1], c, chunks)
            push_opponent_reach(tree, probs, player, opp, a, b)
    for c in numba.prange(chunks):
        a, b = _span(0, tree.terminal_node.shape[0], c, chunks)
        for t in range(a, b):
            value[tree.terminal_node[t]] = tree.terminal_utility[t, player]
        part[c] = 0.0
    for d in range(start.shape[0] - 2, -1, -1):
        for c in numba.prange(chunks):
            a, b = _span(start[d], start[d + 1], c, chunks)
            pull_values(tree, probs, player, opp, value, part[c], a, b)
    for infoset in numba.prange(cfv.shape[0]):
        if tree.infoset_player[infoset] == player:
            for j in range(tree.infoset_num_actions[infoset]):
                total = 0.0
                for c in range(chunks):
                    total += part[c, infoset, j]
                cfv[infoset, j] = total
    return value[0]


@numba.njit(cache=True, nogil=True, parallel=True)
def forward_reach_layered(
    tree: TreeArrays,
    layers: TreeLayers,
    probs: NDArray[np.float64],  # [I, A]
    reach: NDArray[np.float64],  # [N, P + 1] out
) -> None:
    """:func:`gamesolve.kernels.evaluation.forward_reach` over numba's threads (the same numbers)."""
    start = layers.layer_start
    chunks = layers.chunks
    for k in range(reach.shape[1]):
        reach[0, k] = 1.0
    for d in range(start.shape[0] - 1):
        for c in numba.prange(chunks):
            a, b = _span(start[d], start[d + 1], c, chunks)
            push_reach(tree, probs, reach, a, b)


@numba.njit(cache=True, nogil=True, parallel=True)
def best_response_mass_layered(
    tree: TreeArrays,
    layers: TreeLayers,
    reach: NDArray[np.float64],  # [N, P + 1] from forward_reach_layered
    cf: NDArray[np.float64],  # [S] out: counterfactual terminal mass per sequence
    values: NDArray[np.float64],  # [P] out: expected utility of every player
    part: NDArray[np.float64],  # [chunks, S + P] scratch
) -> None:
    """The terminal loop of :func:`gamesolve.kernels.evaluation.best_responses` over threads."""
    n_players = tree.terminal_utility.shape[1]
    n_seqs = cf.shape[0]
    chunks = layers.chunks
    for c in numba.prange(chunks):
        part[c] = 0.0
        a, b = _span(0, tree.terminal_node.shape[0], c, chunks)
        terminal_mass(tree, reach, part[c, :n_seqs], part[c, n_seqs:], a, b)
    for s in numba.prange(n_seqs + n_players):
        total = 0.0
        for c in range(chunks):
            total += part[c, s]
        if s < n_seqs:
            cf[s] = total
        else:
            values[s - n_seqs] = total
