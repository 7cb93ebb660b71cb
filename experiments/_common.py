"""Small helpers shared by the studies in ``experiments/``."""

from __future__ import annotations

import os
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
