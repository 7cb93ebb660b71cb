"""Small array helpers shared by the game and result types, and the numpy forward pass of an MLP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["mlp_forward", "readonly"]


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
