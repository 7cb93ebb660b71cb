"""Small helpers shared by the studies in ``experiments/``."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def package_version(dist: str) -> str:
    """The installed version of distribution ``dist``, or ``"not installed"``."""
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 110) -> None:
    """Write a matplotlib figure to ``path`` atomically (a temporary file, then a rename); close it."""
    import matplotlib.pyplot as plt

    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp{target.suffix}")
    fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    tmp.replace(target)


#: A call that takes this long warm is timed once (after its warm-up), not as a median of repeats.
LONG_CALL = 1.0


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Time ``fn`` as every library is timed, ours and the peers alike.

    One warm-up call (JIT compilation, caches; not counted), then the median of ``repeats`` calls,
    or one timed call when the warm call took :data:`LONG_CALL` seconds or more.
    """
    start = time.perf_counter()
    result = fn()
    if time.perf_counter() - start >= LONG_CALL:
        repeats = 1
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
