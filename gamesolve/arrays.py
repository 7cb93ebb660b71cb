"""Small array helpers shared by the game and result types, and the numpy forward pass of an MLP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import InvalidArgumentError, InvalidPolicyError

__all__ = [
    "flatten_layers",
    "layer_shapes",
    "layers_width",
    "masked_softmax",
    "mlp_forward",
    "readonly",
    "sample_rows",
    "unflatten_layers",
]


def readonly(a: NDArray[Any]) -> NDArray[Any]:
    """``a`` as a C-contiguous array that cannot be written (a view when ``a`` already is one)."""
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def mlp_forward(layers: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]], x: NDArray[Any]) -> Any:
    """A ReLU MLP given as ``(weight [out, in], bias [out])`` pairs, in numpy: ``[n, F] -> [n, out]`` float64.

    How trained responses act without torch (their weights copied out of the network).
    """
    h = np.asarray(x, dtype=np.float64)
    for k, (w, b) in enumerate(layers):
        h = h @ w.T.astype(np.float64) + b.astype(np.float64)
        if k < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def masked_softmax(logits: NDArray[np.float64], legal: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Row-wise softmax over the legal entries; illegal entries exactly 0.

    Huge logits are safe (the row maximum is subtracted first); a row whose largest legal logit
    is ``+inf`` splits its mass among those entries, a row of ``-inf`` legal logits is uniform
    over its legal entries.

    Raises:
        InvalidArgumentError: A row without a legal entry.
        InvalidPolicyError: A NaN logit on a legal entry.
    """
    empty = ~legal.any(axis=1)
    if empty.any():
        raise InvalidArgumentError(f"legal row {int(np.flatnonzero(empty)[0])} has no legal action")
    nan = np.isnan(logits) & legal
    if nan.any():
        b, a = np.argwhere(nan)[0]
        raise InvalidPolicyError(f"the network gave a NaN logit (row {int(b)}, action id {int(a)})")
    z = np.where(legal, logits, -np.inf)
    top = z.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        e = np.exp(z - top)
    pos = np.isposinf(top[:, 0])
    e[pos] = z[pos] == np.inf
    neg = np.isneginf(top[:, 0])
    e[neg] = legal[neg]
    e = np.where(legal, e, 0.0)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def sample_rows(probs: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.int64]:
    """One column per row drawn by inverse CDF with uniforms ``u`` ``[B]``; never a zero-probability one."""
    cdf = np.cumsum(probs, axis=1)
    idx = (cdf <= (u * cdf[:, -1])[:, None]).sum(axis=1)
    last = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    idx = np.minimum(idx, last)
    return idx.astype(np.int64)


def layer_shapes(sizes: Sequence[int]) -> list[tuple[int, int]]:
    """``(out, in)`` weight shapes of dense layers of widths ``sizes`` (input first)."""
    return [(int(sizes[i + 1]), int(sizes[i])) for i in range(len(sizes) - 1)]


def layers_width(shapes: Sequence[tuple[int, int]]) -> int:
    """Numbers in the flat vector of layers of these weight shapes (weights and biases)."""
    return sum(o * i + o for o, i in shapes)


def flatten_layers(layers: Sequence[tuple[Any, Any]]) -> NDArray[np.float32]:
    """``(weight, bias)`` layers as one float32 vector, each weight then its bias."""
    return np.concatenate([np.concatenate([np.ravel(w), np.ravel(b)]) for w, b in layers]).astype(np.float32)


def unflatten_layers(
    vector: NDArray[np.float32], shapes: Sequence[tuple[int, int]]
) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    """The layers of :func:`flatten_layers`'s vector (views into it)."""
    out, at = [], 0
    for o, i in shapes:
        out.append((vector[at : at + o * i].reshape(o, i), vector[at + o * i : at + o * i + o]))
        at += o * i + o
    return out
