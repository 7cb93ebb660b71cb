"""What the verbs of the ``gamesolve`` command share.

Exit statuses, the one-line user error, policy arguments, checks of the output paths before any
work, writing every output even if one fails, and the exploitability curve printed after a run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import gamesolve
from gamesolve.errors import GamesolveError, OutputPathError
from gamesolve.io import atomic_write_text, check_output_paths, json_text
from gamesolve.registry import parse_options

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OUTPUT_FAILED",
    "EXIT_USER_ERROR",
    "UserError",
    "Writer",
    "check_checkpoint_folder",
    "check_outputs",
    "json_output",
    "load_policy",
    "parse_user_options",
    "print_curve",
    "require_existing",
    "require_matplotlib",
    "run_status",
    "user_errors",
    "write_outputs",
]

EXIT_USER_ERROR = 2
EXIT_OUTPUT_FAILED = 1
EXIT_INTERRUPTED = 130

#: ``(what, path, write)``: an output flag, its path (``None``: not asked for) and its writer.
Writer = tuple[str, str | None, Callable[[str], Any]]


class UserError(Exception):
    """A problem with what the user typed; reported in one line."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a plain ``ValueError`` (a bad option or flag) into a :class:`UserError`.

    Typed errors of :mod:`gamesolve.errors` pass through unchanged; :func:`gamesolve.cli.main`
    reports both in one line.
    """
    try:
        yield
    except ValueError as exc:
        if isinstance(exc, GamesolveError):
            raise
        raise UserError(str(exc)) from None


def require_existing(spec: str, what: str) -> None:
    """A policy argument that is neither a keyword nor an existing path: say what else it may be."""
    if not os.path.lexists(spec):
        raise UserError(f"{what} {spec!r} does not exist (or use 'uniform' / 'first')")


def load_policy(compiled: gamesolve.CompiledGame, spec: str) -> gamesolve.TabularPolicy:
    """A ``--policy`` of an extensive-form game: ``uniform``, ``first`` or a policy file."""
    if spec == "uniform":
        return gamesolve.TabularPolicy.uniform(compiled)
    if spec == "first":
        return gamesolve.TabularPolicy.first_action(compiled)
    require_existing(spec, "policy file")
    return gamesolve.TabularPolicy.from_json(compiled, spec)


def load_any_policy(game: Any, spec: str) -> Any:
    """A ``--policy`` of any game (uniform/random and ``.pt`` anywhere; first and JSON if it compiles)."""
    if spec in ("uniform", "random"):
        return gamesolve.uniform_policy(game)
    if spec != "first":
        require_existing(spec, "policy file")
        if Path(spec).suffix == ".pt":
            return gamesolve.load_policy(spec, game=game)
    return load_policy(gamesolve.as_compiled(game), spec)


def parse_user_options(items: Sequence[str] | None) -> dict[str, Any]:
    """The ``--set KEY=VALUE`` options; a malformed one is a :class:`UserError`."""
    try:
        return parse_options(list(items or ()))
    except ValueError as exc:
        raise UserError(str(exc)) from None


def require_matplotlib() -> None:
    """Refuse a plot up front when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install 'gamesolve[plot]'") from None


def check_outputs(
    outputs: dict[str, str | None],
    *,
    inputs: dict[str, str | None] | None = None,
    may_replace_inputs: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Check every output path before any work; outputs must differ from each other and the inputs.

    Raises:
        OutputPathError: A path that cannot be written, or two that collide.
    """
    targets = check_output_paths(outputs)
    for what, path in (inputs or {}).items():
        if path is None:
            continue
        source = Path(os.path.realpath(path))
        for out, target in targets.items():
            if target == source and out not in may_replace_inputs:
                raise OutputPathError(
                    f"{out} {outputs[out]!r} would overwrite the {what} file; give another path"
                )


def check_checkpoint_folder(folder: str | None, file_name: str) -> None:
    """A ``--checkpoint DIR`` of psro / neupl must be a folder (or not exist yet) that can be written."""
    if not folder:
        return
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise UserError(f"--checkpoint expects a folder, got the file {folder!r}")
    check_outputs({"--checkpoint": str(path / file_name)})


def json_output(path: str | None, value: Any) -> Writer:
    """The ``--json`` output: ``value`` as indented strict JSON at ``path``."""
    return ("--json", path, lambda p: atomic_write_text(p, json_text(value, indent=2), what="--json"))


def write_outputs(writers: list[Writer]) -> list[str]:
    """Write every output even if one fails; returns the one-line failures (also printed).

    Args:
        writers: ``(what, path, write)`` triples; entries with no path are skipped.
    """
    failures = []
    for what, path, write in writers:
        if path is None:
            continue
        try:
            write(path)
        except (OSError, GamesolveError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            failures.append(f"could not write {what} {path!r}: {reason}")
            print(f"gamesolve: error: {failures[-1]}", file=sys.stderr)
        else:
            print(f"wrote {path}")
    return failures


def run_status(result: gamesolve.SolveResult, failures: list[str], *, count_failures: bool = False) -> int:
    """The exit status of a finished run: 130 after Ctrl-C, 1 if an output failed, else 0.

    A checkpoint that failed to write during the run counts as a failed output. With
    ``count_failures`` a last line says how many outputs failed and that the printed result is
    complete.
    """
    if "checkpoint_error" in result.extras:
        print(f"gamesolve: error: {result.extras['checkpoint_error']}", file=sys.stderr)
        failures = [*failures, str(result.extras["checkpoint_error"])]
    if failures and count_failures:
        print(
            f"gamesolve: {len(failures)} output(s) failed; the result above is complete "
            "(rerun with other paths to save it)",
            file=sys.stderr,
        )
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OUTPUT_FAILED if failures else 0


def print_curve(result: gamesolve.SolveResult, rows: int = 15) -> None:
    """Print up to ``rows`` points of the exploitability curve, spaced geometrically."""
    hist = result.history
    n = len(hist)
    if n == 0:
        return
    picks = sorted({round(x) for x in np.geomspace(1, n, num=min(rows, n))} | {n})
    print(f"{'iteration':>10}  {'seconds':>9}  {'exploitability':>14}")
    for k in picks:
        i = k - 1
        print(f"{hist.iteration[i]:>10}  {hist.wall_time[i]:>9.3f}  {hist.exploitability[i]:>14.6e}")
