"""Progress bars for long runs: shown on a terminal by default, never in library output."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(
    enabled: bool | None,
    *,
    desc: str,
    unit: str = "it",
    total: int | None = None,
    unit_scale: bool = False,
) -> Any:
    """A ``tqdm`` bar on standard error, or ``None`` when progress is off.

    Args:
        enabled: ``True`` / ``False``; ``None`` shows the bar only when standard error is a terminal.
        desc: The label in front of the bar.
        unit: What one step counts.
        total: The expected number of steps (``None``: a counter without a bar).
        unit_scale: Show large counts with SI prefixes (``12.3k``).
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    options = {"total": total, "desc": desc, "unit": unit, "unit_scale": unit_scale}
    return tqdm(**options, dynamic_ncols=True, leave=True, file=sys.stderr)
