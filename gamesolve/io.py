"""File helpers shared by the library: safe JSON input, atomic output, output checks at the door.

Every file gamesolve writes goes through :func:`atomic_write_bytes` (or its text and callback
forms), which

* writes to a temporary file beside the target and renames it over the target, so a reader never
  sees a torn file and a crash leaves the old file intact;
* follows symbolic links, so a link keeps pointing at its (updated) target instead of being
  replaced by a regular file;
* refuses directories and special files (FIFOs, devices, sockets) instead of replacing them;
* gives a new file the permissions the user's umask allows (``0o666 & ~umask``, as ``open`` does)
  and an existing file keeps its own.

:func:`check_output_path` runs the same checks, plus a probe write in the target folder, before a
long computation starts, so that a bad ``--json`` path fails in a second rather than after the work.
:func:`read_json_file` reads user-supplied JSON (policies, profiles) with one clear error for each
way it can be wrong: missing, not a regular file, too large, not UTF-8, invalid or too deeply nested
JSON, numbers too long to convert, ``NaN`` / ``Infinity`` (not JSON).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from gamesolve.errors import InputFileError, InvalidPolicyError, OutputPathError

__all__ = [
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_path",
    "check_output_paths",
    "file_kind",
    "json_ready",
    "json_text",
    "read_json_file",
    "read_policy_file",
    "resolve_output",
    "stat_input_file",
]

#: Largest JSON input read by :func:`read_json_file` unless the caller allows more.
MAX_JSON_BYTES = 1 << 30

_UMASK_LOCK = threading.Lock()


def file_kind(mode: int) -> str:
    """A word for the kind of file ``mode`` (from ``os.stat``) describes."""
    if stat.S_ISREG(mode):
        return "regular file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # the portable way: set and restore
        current = os.umask(0o022)
        os.umask(current)
    return current


# ------------------------------------------------------------------------------------------ output


def resolve_output(path: str | os.PathLike[str], *, what: str = "output") -> Path:
    """The file a write to ``path`` lands in: links followed, special files and folders refused.

    Args:
        path: The path the user gave.
        what: How the user knows this path (``"--json"``, ``"checkpoint"``), used in messages.

    Returns:
        The absolute path of the final target (which may not exist yet).

    Raises:
        OutputPathError: The path is empty, names a directory or a special file, or a link loop.
    """
    text = os.fspath(path)
    if not isinstance(text, str) or not text:
        raise OutputPathError(f"{what} path must be a non-empty file name, got {text!r}")
    if text.endswith(os.sep):
        raise OutputPathError(f"{what} path {text!r} names a directory; expected a file name")
    try:
        target = Path(os.path.realpath(text, strict=False))
    except OSError as exc:  # a symbolic-link loop
        raise OutputPathError(f"{what} path {text!r} cannot be resolved: {exc.strerror or exc}") from None
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputPathError(f"{what} path {text!r} cannot be inspected: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        shown = text if str(target) == os.path.abspath(text) else f"{text} -> {target}"
        raise OutputPathError(
            f"{what} path {shown!r} is a {file_kind(info.st_mode)}; expected a regular file to "
            "create or replace"
        )
    return target


def _nearest_existing_folder(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_output_path(path: str | os.PathLike[str], *, what: str = "output") -> Path:
    """Check, before any work, that ``path`` can be written; returns the resolved target.

    Beyond :func:`resolve_output`, creates and deletes a probe file in the nearest existing
    folder on the way to the target, which catches read-only places, ``/proc`` and missing
    permissions exactly as the real write will meet them.

    Raises:
        OutputPathError: The path cannot be written, with the reason.
    """
    target = resolve_output(path, what=what)
    shown = os.fspath(path)
    folder = _nearest_existing_folder(target.parent)
    if not folder.is_dir():
        raise OutputPathError(f"{what} path {shown!r} lies under {str(folder)!r}, which is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".gamesolve-probe.", dir=folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputPathError(
            f"{what} path {shown!r} cannot be written: {reason} (in {str(folder)!r})"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return target


def check_output_paths(paths: Mapping[str, str | os.PathLike[str] | None]) -> dict[str, Path]:
    """Check several outputs at once (``{what: path}``); ``None`` entries are skipped.

    Raises:
        OutputPathError: One path cannot be written, or two outputs name the same file.
    """
    seen: dict[Path, str] = {}
    out: dict[str, Path] = {}
    for what, path in paths.items():
        if path is None:
            continue
        target = check_output_path(path, what=what)
        if target in seen:
            raise OutputPathError(
                f"{seen[target]} and {what} both name {os.fspath(path)!r}; give distinct files"
            )
        seen[target] = what
        out[what] = target
    return out


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, what: str = "output") -> Iterator[Path]:
    """A temporary path to write; on success it replaces the target in one rename.

    Use it for writers that want a file name (``savefig``, ``np.savez``); for bytes or text,
    :func:`atomic_write_bytes` and :func:`atomic_write_text` are shorter.

    Yields:
        A path in the target's folder; whatever is written there becomes the target.

    Raises:
        OutputPathError: The target is a directory or a special file.
        OSError: The write itself failed (disk full, permissions); the target is untouched.
    """
    target = resolve_output(path, what=what)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):  # make the rename durable where the platform allows
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, what: str = "output") -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns the target."""
    with atomic_output(path, what=what) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
    return resolve_output(path, what=what)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, what: str = "output") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the target."""
    return atomic_write_bytes(path, text.encode("utf-8"), what=what)


def atomic_write_with(
    path: str | os.PathLike[str], writer: Callable[[Path], None], *, what: str = "output"
) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically; returns the target."""
    with atomic_output(path, what=what) as tmp:
        writer(tmp)
    return resolve_output(path, what=what)


# -------------------------------------------------------------------------------------------- JSON


def json_ready(value: Any) -> Any:
    """``value`` with numpy types converted and non-finite floats replaced by ``None``.

    JSON has no NaN or infinity; Python's ``json`` would write the non-standard tokens ``NaN`` and
    ``Infinity``, which strict readers reject. ``null`` is what they read.
    """
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        return json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(value: Any, *, indent: int | None = None) -> str:
    """Strict JSON text of ``value`` (non-finite floats written as ``null``)."""
    return json.dumps(json_ready(value), indent=indent, allow_nan=False)


def stat_input_file(
    path: str | os.PathLike[str], *, what: str, error: type[InputFileError] = InputFileError
) -> os.stat_result:
    """``os.stat`` of an input file that must exist and be a regular file, else ``error`` in words.

    Args:
        path: The file.
        what: How the user knows the file (``"checkpoint"``), used in messages.
        error: The :class:`~gamesolve.errors.InputFileError` subclass to raise.
    """
    shown = os.fspath(path)
    try:
        info = os.stat(shown)
    except FileNotFoundError:
        raise error(f"{what} {shown!r} does not exist") from None
    except OSError as exc:
        raise error(f"{what} {shown!r} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {shown!r} is a {file_kind(info.st_mode)}, not a regular file")
    return info


def _reject_constant(token: str) -> Any:
    raise ValueError(f"the token {token} is not JSON (write null or a number)")


def read_json_file(
    path: str | os.PathLike[str], *, what: str = "JSON file", max_bytes: int = MAX_JSON_BYTES
) -> Any:
    """Parse a user-supplied JSON file, with one clear error for each way it can be wrong.

    Args:
        path: The file.
        what: How the user knows the file (``"policy file"``), used in messages.
        max_bytes: Refuse larger files before reading them.

    Raises:
        InputFileError: Missing, not a regular file, unreadable, too large, not UTF-8, not valid
            JSON, nested too deeply, or holding a number Python refuses to convert.
    """
    shown = os.fspath(path)
    info = stat_input_file(path, what=what)
    if info.st_size > max_bytes:
        raise InputFileError(
            f"{what} {shown!r} holds {info.st_size:,} bytes, more than the {max_bytes:,} allowed"
        )
    try:
        with open(shown, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputFileError(f"{what} {shown!r} cannot be read: {exc.strerror or exc}") from None
    if raw[:4] == b"PK\x03\x04":
        raise InputFileError(f"{what} {shown!r} is a zip archive (a checkpoint?), not a JSON file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{what} {shown!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "expected a JSON file"
        ) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{what} {shown!r} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise InputFileError(f"{what} {shown!r} nests JSON arrays or objects too deeply to read") from None
    except ValueError as exc:  # integers past Python's digit limit, NaN / Infinity tokens
        reason = str(exc)
        if "digits" in reason:  # Python's own text advises programmers to raise the limit
            limit = sys.get_int_max_str_digits()
            reason = f"it holds an integer with more than {limit} digits, far beyond any count or probability"
        raise InputFileError(f"{what} {shown!r} cannot be read: {reason}") from None


_T = TypeVar("_T")


def read_policy_file(path: str | os.PathLike[str], *, what: str, parse: Callable[[Any], _T]) -> _T:
    """Read a policy or profile file: :func:`read_json_file`, then ``parse`` of its content.

    The reading gives a clear error for a missing file, a directory or device, bytes that are not
    UTF-8, invalid or too deeply nested JSON, numbers too long to convert and ``NaN`` tokens; a
    UTF-8 byte-order mark is accepted.

    Args:
        path: The file.
        what: How the user knows the file (``"policy file"``), used in messages.
        parse: Builds the object from the parsed JSON; raises :class:`InvalidPolicyError`.

    Raises:
        InputFileError: The file cannot be read as JSON.
        InvalidPolicyError: The content is refused by ``parse``; the message starts with ``what``
            and the path.
    """
    data = read_json_file(path, what=what)
    try:
        return parse(data)
    except InvalidPolicyError as exc:
        raise InvalidPolicyError(f"{what} {os.fspath(path)!r}: {exc}") from None
