"""Metric logs people read: a CSV file per run, and TensorBoard scalars when asked.

:class:`MetricsLogger` writes one CSV row per :meth:`~MetricsLogger.write` call to
``log_dir/<name>.csv`` (the header is the first row's keys; later rows may add no new keys), and
with ``tensorboard=True`` the same numbers as TensorBoard scalars (``torch.utils.tensorboard``, which
needs the ``tensorboard`` package). A run resumed into the same directory appends to its CSV files.
Rows are flushed as they are written, so a run that stops early keeps every row it logged.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from gamesolve.errors import InvalidArgumentError, OutputPathError
from gamesolve.validation import check_bool

__all__ = ["MetricsLogger"]


class MetricsLogger:
    """CSV files (and TensorBoard scalars) of a run's metrics under ``log_dir``.

    Args:
        log_dir: The directory (created if missing).
        tensorboard: Also write TensorBoard event files into ``log_dir``.

    Raises:
        OutputPathError: ``log_dir`` cannot be created or is not a directory.
        InvalidArgumentError: ``tensorboard=True`` without the ``tensorboard`` package.
    """

    def __init__(self, log_dir: str | os.PathLike[str], *, tensorboard: bool = False) -> None:
        check_bool("tensorboard", tensorboard)
        self.log_dir = Path(log_dir)
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputPathError(
                f"log_dir {os.fspath(log_dir)!r} cannot be created: {exc.strerror}"
            ) from None
        self._files: dict[str, tuple[TextIO, csv.DictWriter[str], list[str]]] = {}
        self._tb: Any = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise InvalidArgumentError(
                    "tensorboard=True needs the tensorboard package: pip install tensorboard "
                    "(the CSV logs need nothing)"
                ) from None
            self._tb = SummaryWriter(log_dir=str(self.log_dir))

    def path(self, name: str) -> Path:
        """The CSV file of the table ``name``."""
        return self.log_dir / f"{name}.csv"

    def write(self, name: str, row: Mapping[str, Any], *, step: int | None = None) -> None:
        """Append ``row`` to ``log_dir/<name>.csv`` (and, with TensorBoard, scalars ``<name>/<key>``).

        Raises:
            InvalidArgumentError: A key the table's header does not have.
        """
        entry = self._files.get(name)
        if entry is None:
            entry = self._open(name, list(row))
        handle, writer, header = entry
        extra = [k for k in row if k not in header]
        if extra:
            raise InvalidArgumentError(f"log table {name!r} has no column {extra[0]!r} (columns: {header})")
        writer.writerow({k: _cell(row.get(k)) for k in header})
        handle.flush()
        if self._tb is not None:
            for key, value in row.items():
                if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                    self._tb.add_scalar(f"{name}/{key}", value, global_step=step)

    def _open(self, name: str, keys: list[str]) -> tuple[TextIO, csv.DictWriter[str], list[str]]:
        path = self.path(name)
        header = keys
        fresh = True
        if path.exists() and path.stat().st_size > 0:
            with path.open(newline="") as old:
                existing = next(csv.reader(old), None)
            if existing:
                header, fresh = existing, False
        try:
            handle = path.open("a", newline="")
        except OSError as exc:
            raise OutputPathError(f"log file {os.fspath(path)!r} cannot be written: {exc.strerror}") from None
        writer = csv.DictWriter(handle, fieldnames=header)
        if fresh:
            writer.writeheader()
        entry = (handle, writer, header)
        self._files[name] = entry
        return entry

    def close(self) -> None:
        """Close every file (the logger may be used again: files reopen in append mode)."""
        for handle, _, _ in self._files.values():
            handle.close()
        self._files.clear()
        if self._tb is not None:
            self._tb.flush()

    def __enter__(self) -> MetricsLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else value
