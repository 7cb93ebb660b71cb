"""Checkpoints: written atomically, read defensively, validated against the game before use.

A checkpoint is an ``.npz`` archive: one array per entry of the solver's state (entries whose name
starts with ``_`` are scratch space and are not saved) plus ``__meta__``, a JSON header naming the
format, the game's fingerprint, the solver, its configuration, the seed, the iteration, the wall
time and the history of evaluations.

Nothing from a checkpoint reaches a kernel unchecked. :func:`load_checkpoint` parses the archive
itself (never trusting an ``.npy`` header to size an allocation, never unpickling), and
:func:`check_state` compares every array with a fresh state of the same solver on the same
prepared game: the same names, the same dtypes, the same shapes (or, for arrays that grow, such
as a PSRO population, the same shape on every axis that does not), finite numbers where the fresh
state is finite, non-negative numbers where the solver's :class:`StateRules` say so, and the
iteration counter equal to the header's iteration. A solver with invariants that span several
arrays adds them in an optional ``check_state(game, state)`` method.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import math
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format
from numpy.typing import NDArray

from gamesolve.errors import CheckpointError
from gamesolve.io import atomic_output, check_output_path, json_ready, stat_input_file
from gamesolve.spec import GameKind

__all__ = [
    "CHECKPOINT_FORMAT",
    "StateRules",
    "check_distributions",
    "check_resume",
    "check_state",
    "game_fingerprint",
    "guard_checkpoint_target",
    "hash_str",
    "load_checkpoint",
    "read_checkpoint_meta",
    "rng_from_array",
    "rng_to_array",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "gamesolve.checkpoint/1"

#: Largest iteration count a checkpoint header may claim (far beyond any real run).
MAX_ITERATION = 1 << 53

#: Largest magnitude a finite number in a solver's state may have: far above what a run reaches
#: (cumulative regrets and weights after 10^6 iterations of payoffs near 10^19 stay below 10^30;
#: DCFR's t^20 weights below 10^120), far enough below 1.8e308 that sums cannot overflow.
MAX_MAGNITUDE = 1e200

#: dtype kinds a state array may have: booleans, signed and unsigned integers, floats.
_STATE_KINDS = "biuf"


@dataclass(frozen=True)
class StateRules:
    """What a solver's state arrays must satisfy beyond matching a fresh state.

    Attributes:
        counter: Name of the 0-d integer array that counts iterations; it must equal the
            checkpoint's iteration. (A solver whose count lives inside a larger array overrides
            its ``state_counter(state)`` hook instead.)
        nonnegative: Arrays whose entries are never negative (cumulative weights, CFR+ regrets,
            visit counts, probabilities).
        probabilities: Arrays whose entries lie in ``[0, 1]``.
        growing: Arrays whose length may differ from a fresh state's along the listed axes (a
            population that grows); every other axis must still match.
        generators: ``uint8`` arrays holding a random generator's state
            (:func:`rng_to_array`); any length, but they must decode.
    """

    counter: str | None = None
    nonnegative: frozenset[str] = field(default_factory=frozenset)
    probabilities: frozenset[str] = field(default_factory=frozenset)
    growing: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    generators: frozenset[str] = field(default_factory=frozenset)


# ------------------------------------------------------------------------------------ fingerprints


def hash_str(text: str) -> int:
    """A stable (process-independent) 61-bit hash of a string (FNV-1a)."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h % (1 << 61)


def _digest(*parts: Any) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(np.ascontiguousarray(part).tobytes())
    return hasher.hexdigest()[:16]


def game_fingerprint(game: Any) -> dict[str, Any]:
    """Numbers identifying a prepared game, stored in checkpoints to refuse a wrong game.

    The game's :class:`~gamesolve.spec.GameSpec` says which arrays identify it.
    """
    kind = game.spec.kind
    name = game.spec.name
    if kind is GameKind.MEAN_FIELD or callable(getattr(game, "fingerprint", None)):
        return dict(game.fingerprint())  # a prepared game that says what identifies it
    if kind is GameKind.MARKOV:
        matrix = game.transition_matrix
        digest = _digest(matrix.indptr, matrix.indices, matrix.data, game.reward_flat, game.terminal)
        return {"name": name, "states": game.num_states, "sha256": digest}
    if kind is GameKind.PREFERENCE:
        parts = (game.preference, game.reference, np.asarray(float(game.beta)))
        digest = _digest(*(np.asarray(p, dtype=np.float64) for p in parts))
        return {"name": name, "shape": list(np.shape(game.preference)), "sha256": digest}
    if kind is GameKind.NORMAL_FORM:
        return {"name": name, "shape": list(game.payoffs.shape), "payoffs_sha256": _digest(game.payoffs)}
    keys_hash = 0
    for key in game.infosets.keys:
        keys_hash = (keys_hash * 1_000_003 + hash_str(key)) % (1 << 61)
    return {
        "name": name,
        "nodes": game.num_nodes,
        "infosets": game.num_infosets,
        "terminals": game.num_terminals,
        "keys_hash": keys_hash,
    }


# -------------------------------------------------------------------------------- generator states


def rng_to_array(rng: np.random.Generator) -> NDArray[np.uint8]:
    """A generator's exact state as a byte array, so solver states stay plain ``.npz`` arrays."""
    return np.frombuffer(json.dumps(rng.bit_generator.state).encode(), dtype=np.uint8).copy()


def rng_from_array(data: NDArray[Any]) -> np.random.Generator:
    """The generator saved by :func:`rng_to_array`, continuing exactly where it stopped.

    Raises:
        CheckpointError: The bytes are not a saved generator state.
    """
    try:
        state = json.loads(bytes(np.asarray(data, dtype=np.uint8)).decode("utf-8"))
        name = state["bit_generator"]
        if name not in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"):
            raise ValueError(f"unknown bit generator {name!r}")
        bit = getattr(np.random, name)()
        bit.state = state
    except Exception as exc:  # untrusted bytes: any failure means a damaged state
        raise CheckpointError(
            f"a saved random-generator state is damaged ({type(exc).__name__}: {exc})"
        ) from None
    return np.random.Generator(bit)


# ------------------------------------------------------------------------------------------ writing


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    game: Any,
    solver: Any,
    seed: int,
    iteration: int,
    wall_time: float,
    history: Any,
    state: Mapping[str, NDArray[Any]],
) -> None:
    """Write a checkpoint atomically (an ``.npz`` with the state arrays and a JSON header)."""
    meta = {
        "format": CHECKPOINT_FORMAT,
        "game": game_fingerprint(game),
        "solver": solver.name,
        "config": solver.config(),
        "seed": seed,
        "iteration": iteration,
        "wall_time": wall_time,
        "history": history.to_dict(),
    }
    persistent = {k: np.asarray(v) for k, v in state.items() if not k.startswith("_")}
    header = json.dumps(json_ready(meta), allow_nan=False).encode("utf-8")
    persistent["__meta__"] = np.frombuffer(header, dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **persistent)  # type: ignore[arg-type]
    with atomic_output(path, what="checkpoint") as tmp:
        tmp.write_bytes(buffer.getvalue())


# ------------------------------------------------------------------------------------------ reading


def _available_memory() -> int:
    """Bytes a checkpoint may occupy once loaded: the memory budget (:mod:`gamesolve.budget`)."""
    from gamesolve.budget import get_memory_budget

    return int(get_memory_budget())


def _open_archive(path: str | os.PathLike[str]) -> tuple[str, zipfile.ZipFile]:
    where = os.fspath(path)
    info = stat_input_file(path, what="checkpoint", error=CheckpointError)
    if info.st_size == 0:
        raise CheckpointError(f"checkpoint {where!r} is empty")
    try:
        with open(where, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise CheckpointError(f"checkpoint {where!r} cannot be read: {exc.strerror or exc}") from None
    if head[:4] != b"PK\x03\x04":
        if head[:6] == b"\x93NUMPY":
            kind = "a single .npy array"
        elif head.lstrip()[:1] in (b"{", b"["):
            kind = "a JSON file (a policy or a result?)"
        else:
            kind = "not a zip archive"
        raise CheckpointError(
            f"{where!r} is not a gamesolve checkpoint: it is {kind}; checkpoints are the .npz files "
            "written by checkpoint= (--checkpoint)"
        )
    try:
        return where, zipfile.ZipFile(where)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise CheckpointError(f"checkpoint {where!r} is a damaged archive: {exc}") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> NDArray[Any]:
    """One ``.npy`` member, its header checked against its size before anything is allocated."""
    name = info.filename[:-4]
    try:
        raw = archive.read(info)
    except Exception as exc:  # zlib, CRC, truncation: the archive is damaged
        raise CheckpointError(f"checkpoint {where!r}: array {name!r} is damaged ({exc})") from None
    stream = io.BytesIO(raw)
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # tokenizer, syntax and value errors from an untrusted header
        raise CheckpointError(
            f"checkpoint {where!r}: the header of array {name!r} is damaged ({type(exc).__name__})"
        ) from None
    if dtype.hasobject or dtype.kind not in _STATE_KINDS + "c" or dtype.names is not None:
        raise CheckpointError(f"checkpoint {where!r}: array {name!r} has the unsupported dtype {dtype}")
    if not isinstance(shape, tuple) or any(not isinstance(n, int) or n < 0 for n in shape):
        raise CheckpointError(f"checkpoint {where!r}: array {name!r} declares a bad shape {shape!r}")
    expected = math.prod(shape) * dtype.itemsize
    data = raw[stream.tell() :]
    if len(data) != expected:
        raise CheckpointError(
            f"checkpoint {where!r}: array {name!r} declares shape {shape} of {dtype} ({expected:,} bytes) "
            f"but holds {len(data):,} bytes"
        )
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def _read_meta(archive: zipfile.ZipFile, where: str) -> dict[str, Any]:
    try:
        info = archive.getinfo("__meta__.npy")
    except KeyError:
        raise CheckpointError(f"{where!r} is not a gamesolve checkpoint (it has no header)") from None
    if info.file_size > 64 << 20:
        raise CheckpointError(f"checkpoint {where!r}: the header is implausibly large")
    raw = _read_member(archive, info, where)
    try:
        meta = json.loads(bytes(np.asarray(raw, dtype=np.uint8)).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CheckpointError(f"{where!r} is not a gamesolve checkpoint (its header is not JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{where!r} is not a gamesolve checkpoint (unknown header format)")
    return meta


def read_checkpoint_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a checkpoint, without reading its arrays.

    Raises:
        CheckpointError: The file is missing, unreadable or not a gamesolve checkpoint.
    """
    where, archive = _open_archive(path)
    with archive:
        return _read_meta(archive, where)


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Read a checkpoint: ``(metadata, state arrays)``.

    Only the structure is checked here (a readable archive of plain numeric arrays whose sizes
    match their headers, a JSON header of the right format); :func:`check_resume` and
    :func:`check_state` check the contents against a run.

    Raises:
        CheckpointError: The file is missing, not a regular file, damaged, larger than memory
            allows, or not a gamesolve checkpoint.
    """
    where, archive = _open_archive(path)
    with archive:
        meta = _read_meta(archive, where)
        members = [info for info in archive.infolist() if info.filename != "__meta__.npy"]
        total = sum(info.file_size for info in members)
        limit = _available_memory()
        if total > limit:
            raise CheckpointError(
                f"checkpoint {where!r} would take {total / 2**30:.2f} GiB to load, more than the "
                f"{limit / 2**30:.2f} GiB memory budget (GAMESOLVE_MEMORY_BUDGET)"
            )
        arrays: dict[str, NDArray[Any]] = {}
        for info in members:
            if not info.filename.endswith(".npy") or "/" in info.filename:
                raise CheckpointError(f"checkpoint {where!r} holds an unexpected member {info.filename!r}")
            arrays[info.filename[:-4]] = _read_member(archive, info, where)
    return meta, arrays


# ---------------------------------------------------------------------------------------- checking


def _as_count(value: Any, what: str, where: str, *, maximum: int = MAX_ITERATION) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise CheckpointError(
            f"checkpoint {where!r}: {what} must be an integer in [0, {maximum:,}], got {str(value)[:40]}"
        )
    return value


def _check_history(history: Any, iteration: int, where: str) -> None:
    if not isinstance(history, dict):
        raise CheckpointError(f"checkpoint {where!r}: the history must be an object of columns")
    lengths = set()
    known = {
        "iteration",
        "wall_time",
        "exploitability",
        "nash_conv",
        "average_exploitability",
        "current_exploitability",
    }
    for key, column in history.items():
        if key not in known:
            raise CheckpointError(f"checkpoint {where!r}: unknown history column {str(key)[:40]!r}")
        if not isinstance(column, list):
            raise CheckpointError(f"checkpoint {where!r}: history column {key!r} must be a list")
        for x in column:
            if x is not None and (isinstance(x, bool) or not isinstance(x, int | float)):
                raise CheckpointError(f"checkpoint {where!r}: history column {key!r} holds {str(x)[:40]!r}")
        if key in ("iteration", "wall_time", "exploitability", "nash_conv"):
            lengths.add(len(column))
    if len(lengths) > 1:
        raise CheckpointError(f"checkpoint {where!r}: the history columns have different lengths")
    steps = history.get("iteration", [])
    for a, b in itertools.pairwise(steps):
        if not (isinstance(a, int) and isinstance(b, int) and a <= b):
            raise CheckpointError(f"checkpoint {where!r}: the history's iterations are not increasing")
    if steps and not (isinstance(steps[-1], int) and 0 <= steps[-1] <= iteration):
        raise CheckpointError(
            f"checkpoint {where!r}: the history runs past the checkpoint's iteration {iteration}"
        )
    times = history.get("wall_time", [])
    if any(x is None or not math.isfinite(x) or x < 0 for x in times):
        raise CheckpointError(f"checkpoint {where!r}: the history holds a bad wall time")


def check_resume(meta: Mapping[str, Any], game: Any, solver: Any, seed: int, path: Any) -> int:
    """Check a checkpoint's header against a run; returns its iteration.

    Raises:
        CheckpointError: Another game, solver, configuration or seed, or a damaged header.
    """
    where = os.fspath(path)
    fingerprint = meta.get("game")
    if fingerprint != game_fingerprint(game):
        name = fingerprint.get("name", "?") if isinstance(fingerprint, dict) else "?"
        raise CheckpointError(f"checkpoint {where!r} is for game {name!r}, not this {game.spec.name!r}")
    if meta.get("solver") != solver.name:
        raise CheckpointError(
            f"checkpoint {where!r} is for solver {str(meta.get('solver'))[:60]!r}, not {solver.name!r}"
        )
    if meta.get("config") != json_ready(solver.config()):
        raise CheckpointError(
            f"checkpoint {where!r} was written with solver config {str(meta.get('config'))[:200]}, "
            f"not {solver.config()}"
        )
    if meta.get("seed") != seed:
        raise CheckpointError(
            f"checkpoint {where!r} was written with seed {str(meta.get('seed'))[:40]}, not {seed}"
        )
    iteration = _as_count(meta.get("iteration"), "the iteration", where)
    wall = meta.get("wall_time")
    if isinstance(wall, bool) or not isinstance(wall, int | float) or not math.isfinite(wall) or wall < 0:
        raise CheckpointError(
            f"checkpoint {where!r}: the wall time must be a number >= 0, got {str(wall)[:40]}"
        )
    _check_history(meta.get("history", {}), iteration, where)
    return iteration


def check_state(
    solver: Any,
    game: Any,
    template: Mapping[str, NDArray[Any]],
    state: Mapping[str, NDArray[Any]],
    *,
    iteration: int,
    path: Any,
) -> None:
    """Check loaded state arrays against a fresh state of the same solver on the same game.

    Args:
        solver: The :class:`~gamesolve.solver.IterativeSolver` (its ``state_rules``,
            ``state_counter`` and ``check_state`` apply).
        game: The prepared game.
        template: A fresh ``solver.init(game, rng)``.
        state: The arrays read from the checkpoint.
        iteration: The checkpoint's iteration (the counter must agree).
        path: The checkpoint, for messages.

    Raises:
        CheckpointError: Naming the first array that does not fit and why.
    """
    where = os.fspath(path)
    rules: StateRules = solver.state_rules
    expected = {k for k in template if not k.startswith("_")}
    missing = sorted(expected - set(state))
    extra = sorted(set(state) - expected)
    if missing:
        raise CheckpointError(f"checkpoint {where!r} lacks the state array(s) {', '.join(missing)}")
    if extra:
        raise CheckpointError(f"checkpoint {where!r} holds unexpected array(s) {', '.join(extra[:5])}")
    for key in sorted(expected):
        fresh, got = np.asarray(template[key]), state[key]
        if got.dtype != fresh.dtype:
            raise CheckpointError(
                f"checkpoint {where!r}: array {key!r} has dtype {got.dtype}, expected {fresh.dtype}"
            )
        if key in rules.generators:
            try:
                rng_from_array(got)
            except CheckpointError as exc:
                raise CheckpointError(f"checkpoint {where!r}: array {key!r}: {exc}") from None
            continue
        free_axes = rules.growing.get(key, ())
        same_rank = got.ndim == fresh.ndim
        fixed_ok = same_rank and all(
            a in free_axes or got.shape[a] == fresh.shape[a] for a in range(fresh.ndim)
        )
        if not fixed_ok:
            want = tuple("*" if a in free_axes else n for a, n in enumerate(fresh.shape))
            raise CheckpointError(
                f"checkpoint {where!r}: array {key!r} has shape {got.shape}, expected {want} for this game"
            )
        if got.dtype.kind in "fc" and got.size:
            # NaN or an infinity is legal only where a fresh state holds the same ("not yet").
            same = fresh.shape == got.shape
            nan_ok = np.isnan(fresh) if same else np.zeros(got.shape, dtype=bool)
            inf_ok = np.isinf(fresh) & (got == fresh) if same else np.zeros(got.shape, dtype=bool)
            bad = (np.isnan(got) & ~nan_ok) | (np.isinf(got) & ~inf_ok)
            if bad.any():
                raise CheckpointError(f"checkpoint {where!r}: array {key!r} holds NaN or infinite values")
            # float32 arrays (network weights) overflow far sooner: keep 8 decades of headroom.
            bound = min(MAX_MAGNITUDE, float(np.finfo(got.dtype).max) * 1e-8)
            if (np.abs(got[np.isfinite(got)].astype(np.float64)) > bound).any():
                raise CheckpointError(
                    f"checkpoint {where!r}: array {key!r} holds values beyond {bound:.3g} in "
                    "magnitude, which no run reaches (their sums would overflow)"
                )
        if key in rules.nonnegative and got.size and got.dtype.kind != "b" and (got < 0).any():
            raise CheckpointError(f"checkpoint {where!r}: array {key!r} holds negative values")
        if key in rules.probabilities and got.size and ((got < 0).any() or (got > 1 + 1e-9).any()):
            raise CheckpointError(f"checkpoint {where!r}: array {key!r} holds values outside [0, 1]")
    try:
        count = solver.state_counter(state)
        if count is None and rules.counter is not None:
            count = int(state[rules.counter])
    except (TypeError, ValueError, IndexError) as exc:
        raise CheckpointError(f"checkpoint {where!r}: the iteration counter is damaged ({exc})") from None
    if count is not None and int(count) != iteration:
        raise CheckpointError(
            f"checkpoint {where!r}: the header says iteration {iteration} but the state's counter "
            f"says {count}"
        )
    try:
        solver.check_state(game, state)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {where!r}: {exc}") from None


def check_distributions(name: str, probs: NDArray[Any], legal: NDArray[Any] | None = None) -> None:
    """Raise ``ValueError`` unless every row of ``probs`` (last axis) is a probability distribution.

    For solvers' ``check_state`` hooks. With ``legal`` (a boolean mask broadcastable to ``probs``),
    illegal entries must be zero.
    """
    if probs.size == 0:
        return
    if (probs < 0).any() or (probs > 1 + 1e-9).any():
        raise ValueError(f"array {name!r} holds probabilities outside [0, 1]")
    if legal is not None and (np.where(legal, 0.0, probs) != 0).any():
        raise ValueError(f"array {name!r} puts probability on illegal actions")
    sums = probs.sum(axis=-1)
    off = np.abs(sums - 1.0) > 1e-6
    if off.any():
        raise ValueError(
            f"array {name!r} has rows that do not sum to 1 (one sums to {sums[off].flat[0]:.6g})"
        )


def guard_checkpoint_target(
    checkpoint: str | os.PathLike[str],
    *,
    resume: str | os.PathLike[str] | None,
    overwrite: bool,
    game: Any,
    solver: Any,
    seed: int,
) -> Path:
    """Check, before a run, that writing ``checkpoint`` loses nothing; returns the resolved target.

    A file already at ``checkpoint`` is replaced only when it is the file being resumed or when
    ``overwrite`` is true. Otherwise the error says what the file holds and, when it is a
    checkpoint of this same run, how to continue it.

    Raises:
        OutputPathError: The path cannot be written (a directory, a special file, no permission).
        CheckpointError: The path holds something that would be lost.
    """
    target = check_output_path(checkpoint, what="checkpoint")
    if not target.exists() or overwrite:
        return target
    if resume is not None:
        with contextlib.suppress(OSError):
            if os.path.samefile(target, resume):
                return target
    shown = os.fspath(checkpoint)
    try:
        meta = read_checkpoint_meta(target)
    except CheckpointError:
        raise CheckpointError(
            f"checkpoint path {shown!r} already exists and is not a gamesolve checkpoint; refusing to "
            "replace it (choose another path, or pass overwrite=True / --overwrite)"
        ) from None
    held = meta.get("iteration")
    try:
        check_resume(meta, game, solver, seed, target)
    except CheckpointError:
        other = meta.get("game")
        name = other.get("name", "?") if isinstance(other, dict) else "?"
        raise CheckpointError(
            f"checkpoint path {shown!r} holds another run ({str(meta.get('solver'))[:40]} on {name!r}, "
            f"iteration {str(held)[:20]}); refusing to overwrite it (choose another path, or pass "
            "overwrite=True / --overwrite)"
        ) from None
    raise CheckpointError(
        f"checkpoint path {shown!r} already holds iteration {held} of this run; resume it with "
        f"resume={shown!r} (--resume {shown}), or pass overwrite=True (--overwrite) to start over"
    )
