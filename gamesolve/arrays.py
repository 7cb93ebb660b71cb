"""Small array helpers shared by the game and result types."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["readonly"]


def readonly(a: NDArray[Any]) -> NDArray[Any]:
    """``a`` as a C-contiguous array that cannot be written (a view when ``a`` already is one)."""
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a
