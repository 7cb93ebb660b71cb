"""Small array helpers shared by the game and result types, and the numpy forward pass of an MLP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import InvalidArgumentError, InvalidPolicyError

__all__ = ["masked_softmax", "mlp_forward", "readonly", "sample_rows"]


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
