"""Fuzz harness: damaged checkpoints, policy files, ``.nfg`` files and game strings, with timeouts.

Every input a user hands gamesolve must end in one of two ways: a *clean error* (a
:class:`~gamesolve.errors.GamesolveError` with a one-line message, or the CLI exiting with status 2
and exactly one line on stderr) or a *correct result* (success, and the result checks out against
an independent computation). Everything else is a *failure*: another exception type, a traceback
out of the CLI, a multi-line message, a worker killed by a signal (a segfault), a case that runs
past its time limit (a hang), or a result that is silently wrong.

Four families, ``cases`` each (seeded; case ``i`` of a family depends only on ``seed`` and ``i``):

* ``checkpoint``: CFR+ on Kuhn and Leduc, regret matching on rock-paper-scissors, PSRO and
  outcome-sampling MCCFR on Kuhn write a checkpoint; each case damages it (bytes flipped, truncated,
  inserted; ``.npy`` headers edited; arrays replaced by other shapes, dtypes, NaN, negative or huge
  values, removed, renamed or added; header fields edited: ``iteration=1e12``, strings, missing
  keys, another solver, configuration or game) and resumes through ``gamesolve solve --resume``
  or :func:`gamesolve.solve`. A resumed run that succeeds must report an exploitability equal to
  OpenSpiel's NashConv of the policy it wrote (numpy's, for the matrix game), finite values and the
  requested iteration count; an undamaged checkpoint must resume to the uninterrupted run's value.
  Damage that changes what the state means (shapes, NaN, missing or extra arrays, a header from
  another run) must be refused.
* ``policy``: tabular policies for Kuhn and Leduc, mixed profiles for rock-paper-scissors and a
  three-player ``.nfg`` game, a Markov profile for ``two_state``; structured JSON mutations (numbers
  replaced by strings, booleans, ``null``, ``NaN``, ``1e400``, 5,000-digit integers, nested lists;
  keys replaced by ``1.7``, ``-1``, duplicates; entries deleted, duplicated, swapped; envelopes
  edited; deep nesting) and byte mutations (bits flipped, truncation, BOM, UTF-16, random bytes),
  read by ``gamesolve evaluate`` or the library readers. An independent strict reader written here
  decides what each file means; a file it rejects must be refused, and an accepted file must
  evaluate to what its numbers say (OpenSpiel's NashConv on Kuhn and a sample of Leduc cases,
  numpy's on the matrix games).
* ``nfg``: mutations of valid Gambit files (tokens swapped, deleted, duplicated; numbers replaced
  by huge, negative, decimal, rational or garbage tokens; player and strategy counts changed; text
  truncated or salted with random characters; size bombs), loaded, described, evaluated or solved.
  A file gamesolve accepts is read again by pygambit: the payoffs must agree.
* ``game_string``: native and OpenSpiel game names with random parameters (huge, negative, zero,
  float, string and unicode values; unknown and duplicated keys; nested or unbalanced parentheses),
  loaded (and compiled) or described by ``gamesolve info``. Strings with a duplicated or unknown
  key, unbalanced parentheses or a non-numeric value for a numeric parameter must be refused.

Cases run in long-lived worker processes (restarted when one dies, hangs or has run
``restart_every`` cases) under a memory limit, so a crash or a runaway allocation costs one case,
not the run. The report (``runs/<out>/result.json``) gives counts per family and outcome, notes
(valid-looking files refused, warnings printed) and, for every failure, the case, its reproducer
and the error; the damaged inputs of failures are kept under ``runs/<out>/failures/``.

Run: ``python -m experiments.fuzz_inputs --cases N`` (default 2,000 per family; a few minutes on
two cores). Reproduce one case: ``python -m experiments.fuzz_inputs --families policy --case 17``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import logging
import math
import os
import platform
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
import traceback
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FAMILIES = ("checkpoint", "policy", "nfg", "game_string")
_FAMILY_ID = {name: k for k, name in enumerate(FAMILIES)}
_ROOT = Path(__file__).resolve().parents[1]

CLEAN, CORRECT, FAILURE = "clean_error", "correct_result", "failure"


@dataclass
class Config:
    """What to fuzz and how hard.

    Attributes:
        cases: Cases per family.
        families: Families to run (a subset of ``FAMILIES``).
        seed: Root seed; case ``i`` of a family is drawn from ``(seed, family, i)``.
        timeout: Seconds one case may run before it counts as a hang (``game_string`` cases get
            ``game_timeout``, as they may compile a game).
        game_timeout: Per-case limit for the ``game_string`` family.
        workers: Worker processes running cases in parallel.
        memory_gb: Address-space limit of each worker, so a runaway allocation fails one case;
            gamesolve's memory budget (``GAMESOLVE_MEMORY_BUDGET``) is set to half of it unless
            the environment sets one.
        restart_every: Cases a worker runs before it is replaced by a fresh one.
        only: Run only these case indices (reproduction); their inputs are kept.
        out: Output folder (``result.json``, ``failures/``).
    """

    cases: int = 2000
    families: tuple[str, ...] = FAMILIES
    seed: int = 0
    timeout: float = 10.0
    game_timeout: float = 30.0
    workers: int = 2
    memory_gb: float = 4.0
    restart_every: int = 400
    only: tuple[int, ...] | None = None
    out: str = "runs/fuzz_inputs"
    bases: dict[str, Any] = field(default_factory=dict, repr=False)


# =============================================================================================
# Bases: valid inputs every mutation starts from (built by a worker, described by a manifest)
# =============================================================================================

#: (label, game, solver, iterations written to the checkpoint, iterations asked for on resume)
CHECKPOINT_RUNS = (
    ("kuhn-cfr+", "kuhn_poker", "cfr+", 50, 60),
    ("leduc-cfr+", "leduc_poker", "cfr+", 20, 25),
    ("rps-regret-matching", "rps", "regret-matching", 50, 60),
    ("kuhn-psro", "kuhn_poker", "psro", 3, 4),
    ("kuhn-mccfr-os", "kuhn_poker", "mccfr-os", 200, 260),
)

#: OpenSpiel games whose names (and parameters) the game-string family draws from.
OPENSPIEL_NAMES = (
    "kuhn_poker",
    "leduc_poker",
    "liars_dice",
    "goofspiel",
    "tic_tac_toe",
    "matrix_rps",
    "blotto",
    "first_sealed_auction",
    "oshi_zumo",
    "tiny_hanabi",
    "matching_pennies_3p",
    "dark_hex",
    "universal_poker",
    "turn_based_simultaneous_game",
    "chess",
    "go",
)

#: OpenSpiel games that take seconds to compile (or are refused as too large) at their defaults.
_SLOW_GAMES = frozenset({"universal_poker", "tic_tac_toe", "liars_dice", "chess", "go", "dark_hex"})

THREE_PLAYER_NFG = """NFG 1 R "three" { "A" "B" "C" } { 2 3 2 }

3 -1 0 1/2 2 -2 .5 0 1 4 -3 2.5E-1
0 0 0 1 1 1 -1 2 3 3/4 -2 0
2 2 -1 0 1 1 1 0 -1 -1 -1 2
"""


def build_bases(folder: Path) -> dict[str, Any]:
    """Write the valid inputs (checkpoints, policy files, ``.nfg`` files) and describe them."""
    import pyspiel

    import gamesolve
    from gamesolve.games import nfg

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest: dict[str, Any] = {"checkpoints": [], "policies": [], "nfg": [], "games": {}}
    for label, game_name, solver, written, total in CHECKPOINT_RUNS:
        game = gamesolve.load_game(game_name)
        path = folder / f"{label}.npz"
        gamesolve.solve(game, solver, iterations=written, checkpoint=path, progress=False)
        reference = gamesolve.solve(game, solver, iterations=total, progress=False)
        resumed = gamesolve.solve(game, solver, iterations=total, resume=path, progress=False)
        manifest["checkpoints"].append(
            {
                "label": label,
                "game": game_name,
                "solver": solver,
                "written": written,
                "total": total,
                "path": str(path),
                "reference": reference.exploitability,
                "exact_resume": resumed.exploitability == reference.exploitability,
                "kind": "nf" if isinstance(game, gamesolve.TensorGame) else "efg",
            }
        )
    rng = np.random.default_rng(1)
    three = folder / "three.nfg"
    three.write_text(THREE_PLAYER_NFG)
    for label, game_name in (("kuhn", "kuhn_poker"), ("leduc", "leduc_poker")):
        compiled = gamesolve.as_compiled(gamesolve.load_game(game_name))
        path = folder / f"{label}_policy.json"
        gamesolve.TabularPolicy.random(compiled, rng=rng).to_json(path)
        manifest["policies"].append({"label": label, "game": game_name, "kind": "tabular", "path": str(path)})
    for label, game_name in (("rps", "rps"), ("three", str(three))):
        game = gamesolve.load_game(game_name)
        profile = [rng.dirichlet(np.ones(n)).tolist() for n in game.num_actions]
        path = folder / f"{label}_profile.json"
        path.write_text(json.dumps({"profile": profile}))
        manifest["policies"].append({"label": label, "game": game_name, "kind": "profile", "path": str(path)})
    markov = gamesolve.load_game("two_state")
    strategies = [rng.dirichlet(np.ones(n), size=markov.num_states).tolist() for n in markov.num_actions]
    path = folder / "two_state_policy.json"
    path.write_text(json.dumps({"strategies": strategies}))
    manifest["policies"].append(
        {"label": "two_state", "game": "two_state", "kind": "markov", "path": str(path)}
    )
    texts = {
        "rps-outcome": nfg.dumps(gamesolve.load_game("rps"), form="outcome"),
        "rps-payoff": nfg.dumps(gamesolve.load_game("rps"), form="payoff"),
        "chicken-outcome": nfg.dumps(gamesolve.load_game("chicken"), form="outcome"),
        "three-payoff": THREE_PLAYER_NFG,
    }
    for label, text in texts.items():
        manifest["nfg"].append({"label": label, "text": text})
    for name, description in gamesolve.available_games():
        short, _, rest = name.partition("(")
        params: dict[str, Any] = {}
        for part in rest.rstrip(")").split(","):
            key, _, value = part.strip().partition("=")
            if key:
                params[key] = value
        if description != "OpenSpiel":
            manifest["games"][short] = {"source": "native", "params": params}
    specs = {t.short_name: dict(t.parameter_specification) for t in pyspiel.registered_games()}
    for short in OPENSPIEL_NAMES:
        params = {
            k: v if isinstance(v, str | bool | int | float) else str(v) for k, v in specs[short].items()
        }
        manifest["games"][short] = {"source": "openspiel", "params": params}
    return manifest


# =============================================================================================
# Case generation (parent side): deterministic in (seed, family, index)
# =============================================================================================


def _rng(cfg: Config, family: str, index: int) -> np.random.Generator:
    return np.random.default_rng([cfg.seed, _FAMILY_ID[family], index])


def _pick(rng: np.random.Generator, options: Any, weights: Any = None) -> Any:
    seq = list(options)
    if weights is None:
        return seq[int(rng.integers(len(seq)))]
    w = np.asarray(weights, dtype=float)
    return seq[int(rng.choice(len(seq), p=w / w.sum()))]


# ------------------------------------------------------------------ byte mutations (all families)


def mutate_bytes(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """One random byte-level mutation of ``data`` and a description of it."""
    kind = _pick(
        rng,
        ["flip", "truncate", "append", "insert", "overwrite", "zero", "empty", "random", "bom", "nul"],
        [30, 15, 8, 10, 10, 5, 3, 5, 4, 4],
    )
    n = len(data)
    if kind == "flip" and n:
        buf = bytearray(data)
        flips = int(rng.integers(1, 9))
        where = sorted(int(rng.integers(n)) for _ in range(flips))
        for pos in where:
            buf[pos] ^= 1 << int(rng.integers(8))
        return bytes(buf), f"flip {flips} bit(s) at byte(s) {where[:4]}"
    if kind == "truncate" and n:
        cut = int(rng.integers(n))
        return data[:cut], f"truncate to {cut} of {n} bytes"
    if kind == "append":
        extra = rng.bytes(int(rng.integers(1, 64)))
        return data + extra, f"append {len(extra)} random bytes"
    if kind == "insert":
        pos, extra = int(rng.integers(n + 1)), rng.bytes(int(rng.integers(1, 16)))
        return data[:pos] + extra + data[pos:], f"insert {len(extra)} random bytes at {pos}"
    if kind in ("overwrite", "zero") and n:
        pos, length = int(rng.integers(n)), int(rng.integers(1, 32))
        fill = rng.bytes(length) if kind == "overwrite" else bytes(length)
        return data[:pos] + fill + data[pos + length :], f"{kind} {length} bytes at {pos}"
    if kind == "empty":
        return b"", "empty file"
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, "UTF-8 byte-order mark prepended"
    if kind == "nul" and n:
        pos = int(rng.integers(n))
        return data[:pos] + b"\x00" + data[pos:], f"NUL byte inserted at {pos}"
    size = int(rng.integers(1, 256))
    return rng.bytes(size), f"{size} random bytes"


# ------------------------------------------------------------------ checkpoints


def _read_npz(path: Path) -> tuple[list[str], dict[str, np.ndarray], dict[str, Any] | None]:
    with np.load(path, allow_pickle=False) as data:
        names = list(data.files)
        arrays = {k: np.array(data[k]) for k in names}
    header = None
    if "__meta__" in arrays:
        with contextlib.suppress(ValueError):
            header = json.loads(bytes(arrays["__meta__"]).decode("utf-8"))
    return names, arrays, header


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=False)
    return buf.getvalue()


def _write_npz(path: Path, members: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, blob in members:
            zf.writestr(f"{name}.npy", blob)


def _header_array(header: Any) -> np.ndarray:
    text = header if isinstance(header, str) else json.dumps(header)
    return np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)


_MUST_MATCH_KEYS = ("format", "game", "solver", "config", "seed", "iteration")


def _other_value(value: Any, rng: np.random.Generator) -> Any:
    """A different value of a header field (same type where possible)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + int(rng.integers(1, 5)) * _pick(rng, [-1, 1])
    if isinstance(value, float):
        return value * 2 + 1
    if isinstance(value, str):
        return value + "x" if value else "x"
    if isinstance(value, dict) and value:
        key = _pick(rng, sorted(value))
        out = dict(value)
        out[key] = _other_value(value[key], rng)
        return out
    if isinstance(value, list):
        return [*value, 0]
    return "changed"


def checkpoint_case(cfg: Config, index: int, case_dir: Path) -> dict[str, Any]:
    """A damaged checkpoint and how to resume from it."""
    rng = _rng(cfg, "checkpoint", index)
    base = _pick(rng, cfg.bases["checkpoints"], [30, 20, 20, 15, 15])
    source = Path(base["path"])
    names, arrays, header = _read_npz(source)
    state_names = [k for k in names if k != "__meta__"]
    target = case_dir / "checkpoint.npz"
    expect = "either"
    group = _pick(rng, ["none", "bytes", "npy_header", "array", "members", "header"], [3, 27, 10, 27, 10, 23])
    members = [(k, _npy_bytes(arrays[k])) for k in names]
    if group == "none":
        shutil.copyfile(source, target)
        mutation = "undamaged checkpoint (control)"
        expect = "exact" if base["exact_resume"] else "either"
    elif group == "bytes":
        data, mutation = mutate_bytes(source.read_bytes(), rng)
        target.write_bytes(data)
    elif group == "npy_header":
        name = _pick(rng, names)
        blob = _npy_bytes(arrays[name])
        start = 10  # magic (6) + version (2) + header length (2)
        end = start + int.from_bytes(blob[8:10], "little")
        head = blob[start:end].decode("latin-1")
        edit = _pick(rng, ["shape", "descr", "fortran", "magic", "length", "version", "garbage"])
        if edit == "shape":
            shape = tuple(int(x) for x in rng.integers(0, 2000, size=int(rng.integers(0, 4))))
            shape = _pick(rng, [shape, (10**12,), (-1,), (2**62, 2**62)])
            head = re.sub(r"'shape': \([^)]*\)", f"'shape': {shape!r}", head)
        elif edit == "descr":
            descr = _pick(rng, ["<i4", ">f8", "<f4", "|b1", "<c16", "|O", "<U8", "garbage", "<M8[s]", "|V8"])
            head = re.sub(r"'descr': '[^']*'", f"'descr': '{descr}'", head)
        elif edit == "fortran":
            head = head.replace("'fortran_order': False", "'fortran_order': True")
        elif edit == "garbage":
            head = "{" + "'x': " * int(rng.integers(1, 200)) + "}"
        head_bytes = head.encode("latin-1")
        prefix = blob[:8] + len(head_bytes).to_bytes(2, "little")
        if edit == "magic":
            prefix = b"\x93NUMPX" + prefix[6:]
        elif edit == "length":
            prefix = blob[:8] + int(rng.integers(0, 65536)).to_bytes(2, "little")
        elif edit == "version":
            prefix = blob[:6] + bytes([int(rng.integers(0, 256)), 0]) + prefix[8:]
        new_blob = prefix + head_bytes + blob[end:]
        members = [(k, new_blob if k == name else b) for k, b in members]
        _write_npz(target, members)
        mutation = f".npy header of {name!r}: {edit} -> {head[:80]!r}"
    elif group == "array":
        name = _pick(rng, state_names)
        arr = arrays[name]
        edit = _pick(
            rng,
            [
                "shape",
                "scalar",
                "empty",
                "dtype",
                "nan",
                "inf",
                "negative",
                "huge",
                "zeros",
                "scale",
                "string",
            ],
            [14, 5, 5, 14, 10, 6, 12, 8, 8, 8, 5],
        )
        new: np.ndarray
        if edit == "shape":
            dims = int(rng.integers(1, 4))
            shape = tuple(int(x) for x in rng.integers(1, [1200, 40, 12][dims - 1], size=dims))
            shape = _pick(rng, [shape, (1000, 5), (arr.size + 1,), tuple(reversed(arr.shape)) or (2,)])
            if shape == arr.shape:
                shape = (*arr.shape, 1)
            new = np.zeros(shape, dtype=arr.dtype if arr.dtype.kind in "iuf" else np.float64)
            expect = "refuse"
        elif edit == "scalar":
            new = np.array(arr.flat[0] if arr.size else 0) if arr.ndim else np.zeros(2, dtype=arr.dtype)
            expect = "refuse"
        elif edit == "empty":
            new = np.zeros((0,) * max(arr.ndim, 1), dtype=arr.dtype)
            expect = "refuse"
        elif edit == "dtype":
            dtype = _pick(rng, ["int32", "float32", "int64", "bool", "complex128", "uint8", "float16"])
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                new = arr.astype(dtype)
            if dtype == "complex128":
                expect = "refuse"
        elif edit == "string":
            new = np.full(arr.shape, "abc", dtype="<U3")
            expect = "refuse"
        elif arr.dtype.kind not in "fc":
            # integer state (counters, generator bytes): other integers, same shape
            value = {"nan": -1, "inf": 2**62, "negative": -3, "huge": 2**40, "zeros": 0, "scale": 7}[edit]
            new = np.full(arr.shape, value).astype(arr.dtype) if arr.dtype.kind in "iu" else arr.copy()
            expect = "either"
        else:
            new = arr.astype(np.float64).copy()
            flat = new.reshape(-1)
            spots: list[int] = (
                rng.integers(0, flat.size, size=max(1, flat.size // 8)).tolist() if flat.size else []
            )
            if edit in ("nan", "inf"):
                for s in spots:
                    flat[s] = np.nan if edit == "nan" else _pick(rng, [np.inf, -np.inf])
                expect = "refuse" if flat.size else "either"
            elif edit == "negative":
                for s in spots:
                    flat[s] = -abs(flat[s]) - 1.0
            elif edit == "huge":
                for s in spots:
                    flat[s] = _pick(rng, [1e308, -1e308, 1e300])
            elif edit == "zeros":
                flat[:] = 0.0
            else:
                flat *= _pick(rng, [1e6, -1.0, 1e-300, 0.5])
            new = new.astype(arr.dtype)
        members = [(k, _npy_bytes(new) if k == name else b) for k, b in members]
        _write_npz(target, members)
        mutation = f"array {name!r} {arr.dtype}{list(arr.shape)}: {edit} -> {new.dtype}{list(new.shape)}"
    elif group == "members":
        edit = _pick(rng, ["remove", "extra", "rename", "duplicate_meta", "no_meta"])
        name = _pick(rng, state_names)
        if edit == "remove":
            members = [(k, b) for k, b in members if k != name]
        elif edit == "extra":
            extra = _pick(rng, [name + "_2", "bogus", "regrets_old", "x" * 200])
            members = [*members, (extra, _npy_bytes(np.zeros(3)))]
        elif edit == "rename":
            members = [(k + "_renamed" if k == name else k, b) for k, b in members]
        elif edit == "duplicate_meta":
            members = [*members, ("__meta2__", _npy_bytes(arrays.get("__meta__", np.zeros(1))))]
        else:
            members = [(k, b) for k, b in members if k != "__meta__"]
        _write_npz(target, members)
        mutation = f"members: {edit} {name!r}"
        expect = "refuse"
    else:
        meta: dict[str, Any] = dict(header or {})
        replaced = False
        edit = _pick(rng, ["field", "delete", "add", "garbage"], [55, 20, 10, 15])
        if edit == "field" and meta:
            key = _pick(rng, sorted(meta))
            if key == "iteration":
                value = _pick(
                    rng,
                    [1e12, -1, "abc", 1.5, None, True, 10**30, 0, base["written"] - 1, base["total"] + 50],
                )
                ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= base["written"]
                expect = "either" if ok else "refuse"
            else:
                value = _pick(
                    rng,
                    [_other_value(meta[key], rng), "abc", None, -1, 1e12, [], {}, True, "NaN-token"],
                    [40, 10, 10, 8, 8, 6, 6, 6, 6],
                )
                expect = "refuse" if key in _MUST_MATCH_KEYS else "either"
            meta[key] = value
            mutation = f"header {key!r} = {value!r}"[:160]
        elif edit == "delete" and meta:
            key = _pick(rng, sorted(meta))
            del meta[key]
            mutation = f"header without {key!r}"
            expect = "refuse" if key in _MUST_MATCH_KEYS else "either"
        elif edit == "add":
            meta[_pick(rng, ["extra", "regrets", "note"])] = _pick(rng, [1, "x", [1, 2], None])
            mutation = "header with an extra key"
        else:
            replaced = True
            mutation = "header replaced"
            expect = "refuse"
        if replaced:
            raw = _pick(
                rng,
                [
                    b"\xff\xfe\x00",
                    b"[1, 2, 3]",
                    b"[" * 100000,
                    b"null",
                    b"",
                    b'{"format": NaN}',
                    rng.bytes(40),
                ],
            )
            header_arr = np.frombuffer(raw, dtype=np.uint8)
            mutation += f": {raw[:20]!r}"
        else:
            text = json.dumps(meta).replace('"NaN-token"', "NaN")
            header_arr = _header_array(text)
        members = [(k, _npy_bytes(header_arr) if k == "__meta__" else b) for k, b in members]
        _write_npz(target, members)
    mode = "api" if base["solver"] == "psro" else _pick(rng, ["cli", "api"], [60, 40])
    return {
        "family": "checkpoint",
        "op": mode,
        "base": base["label"],
        "game": base["game"],
        "solver": base["solver"],
        "total": base["total"],
        "reference": base["reference"],
        "kind": base["kind"],
        "path": str(target),
        "out_json": str(case_dir / "result.json"),
        "out_policy": str(case_dir / "policy.json"),
        "expect": expect,
        "mutation": mutation,
    }


# ------------------------------------------------------------------ JSON mutations (policy files)

_RAW_TOKENS = (
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1" + "0" * 5000,
    "1" + "0" * 4000,
    "1e-400",
    "-0.0",
    "0.5e0",
    "1E+0",
)


def _json_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _json_paths(v, (*path, k))
    elif isinstance(value, list):
        for k, v in enumerate(value):
            yield from _json_paths(v, (*path, k))


def _json_set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = root
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return root


def mutate_json(data: Any, rng: np.random.Generator) -> tuple[str, list[str]]:
    """Apply 1-3 structured mutations; returns the JSON text (with raw tokens) and descriptions."""
    doc = copy.deepcopy(data)
    raws: dict[str, str] = {}
    notes: list[str] = []

    def raw(token: str) -> str:
        marker = f"@@RAW{len(raws)}@@"
        raws[marker] = token
        return marker

    for _ in range(int(rng.integers(1, 4))):
        nodes = list(_json_paths(doc))
        leaves = [(p, v) for p, v in nodes if not isinstance(v, dict | list)]
        dicts = [(p, v) for p, v in nodes if isinstance(v, dict) and v]
        lists = [(p, v) for p, v in nodes if isinstance(v, list) and v]
        op = _pick(
            rng,
            [
                "leaf",
                "raw",
                "key",
                "delete",
                "duplicate",
                "swap",
                "extend",
                "wrap",
                "envelope",
                "scale",
                "deep",
            ],
            [24, 12, 12, 10, 6, 4, 6, 5, 7, 10, 4],
        )
        if op in ("leaf", "raw") and leaves:
            path, old = _pick(rng, leaves)
            if op == "raw":
                token = _pick(rng, _RAW_TOKENS)
                new: Any = raw(token)
                shown = token[:12]
            else:
                new = _pick(
                    rng,
                    [
                        str(old),
                        True,
                        False,
                        None,
                        -abs(old) if isinstance(old, int | float) else -1,
                        0,
                        1,
                        2,
                        10**300,
                        1e-320,
                        [old],
                        {"p": old},
                        "",
                        "\u0661",
                        1.7,
                        0.5,
                    ],
                )
                shown = repr(new)[:20]
            doc = _json_set(doc, path, new)
            notes.append(f"{op} {list(path)[:4]} -> {shown}")
        elif op == "key" and dicts:
            path, node = _pick(rng, dicts)
            key = _pick(rng, list(node))
            other = _pick(
                rng, ["1.7", "-1", "99999999999999999999", "true", "", "\u0661", "01", " 0", "1e0", "x"]
            )
            if other == "" and rng.random() < 0.5 and len(node) > 1:
                other = _pick(rng, [k for k in node if k != key])  # the same key twice, as raw text
                marker = raw(json.dumps(other))
                items = [(marker if k == key else k, v) for k, v in node.items()]
                notes.append(f"key {key!r} -> duplicate of {other!r}")
            else:
                items = [(other if k == key else k, v) for k, v in node.items()]
                notes.append(f"key {key!r} -> {other!r}")
            doc = _json_set(doc, path, dict(items))
        elif op == "delete" and (dicts or lists):
            path, node = _pick(rng, dicts + lists)
            if isinstance(node, dict):
                key = _pick(rng, list(node))
                del node[key]
                notes.append(f"delete key {key!r} at {list(path)[:3]}")
            else:
                del node[int(rng.integers(len(node)))]
                notes.append(f"delete an element at {list(path)[:3]}")
        elif op == "duplicate" and lists:
            path, node = _pick(rng, lists)
            node.append(copy.deepcopy(node[int(rng.integers(len(node)))]))
            notes.append(f"duplicate an element at {list(path)[:3]}")
        elif op == "swap" and lists:
            path, node = _pick(rng, lists)
            i, j = int(rng.integers(len(node))), int(rng.integers(len(node)))
            node[i], node[j] = node[j], node[i]
            notes.append(f"swap elements {i}, {j} at {list(path)[:3]}")
        elif op == "extend" and lists:
            path, node = _pick(rng, lists)
            node.append(_pick(rng, [0.0, 0.5, [], "x", None]))
            notes.append(f"extend list at {list(path)[:3]}")
        elif op == "wrap":
            path, node = _pick(rng, nodes)
            doc = _json_set(doc, path, _pick(rng, [[node], {"profile": node}, {"strategies": node}]))
            notes.append(f"wrap {list(path)[:3]}")
        elif op == "envelope" and isinstance(doc, dict):
            key = _pick(rng, ["format", "policy", "profile", "strategies", "solver", "history", "game"])
            if key in doc and rng.random() < 0.6:
                del doc[key]
                notes.append(f"envelope: delete {key!r}")
            else:
                doc[key] = _pick(rng, ["gamesolve.tabular_policy/2", {}, [], 1, None, "kuhn_poker"])
                notes.append(f"envelope: set {key!r}")
            if len(doc) == 1 and rng.random() < 0.5:
                doc = next(iter(doc.values()))
                notes.append("unwrap the envelope")
        elif op == "scale" and (dicts or lists):
            path, node = _pick(rng, dicts + lists)
            factor = _pick(rng, [2.0, 0.5, -1.0, 1 + 1e-7, 1 + 1e-5, 0.0])
            entries: list[tuple[Any, Any]] = list(node.items() if isinstance(node, dict) else enumerate(node))
            for k, v in entries:
                if isinstance(v, float | int) and not isinstance(v, bool):
                    node[k] = v * factor
            notes.append(f"scale numbers at {list(path)[:3]} by {factor}")
        elif op == "deep" and leaves:
            path, old = _pick(rng, leaves)
            depth = int(_pick(rng, [10, 500, 3000, 100000]))
            doc = _json_set(doc, path, raw("[" * depth + json.dumps(old) + "]" * depth))
            notes.append(f"nest {list(path)[:3]} {depth} deep")
        else:
            notes.append(f"{op}: no target")
    text = json.dumps(doc)
    for marker, token in raws.items():
        text = text.replace(json.dumps(marker), token)
    return text, notes


def policy_case(cfg: Config, index: int, case_dir: Path) -> dict[str, Any]:
    """A mutated policy / profile file and how to read it."""
    rng = _rng(cfg, "policy", index)
    base = _pick(rng, cfg.bases["policies"], [25, 15, 20, 15, 25])
    source = Path(base["path"])
    data = json.loads(source.read_text())
    group = _pick(rng, ["none", "json", "bytes"], [3, 67, 30])
    if group == "none":
        blob, mutation = source.read_bytes(), "undamaged file (control)"
    elif group == "json":
        if rng.random() < 0.3:  # the bare form of the same content
            data = data.get("policy") or data.get("profile") or data.get("strategies") or data
        text, notes = mutate_json(data, rng)
        blob, mutation = text.encode("utf-8"), "; ".join(notes)
    else:
        raw_bytes = source.read_bytes()
        if rng.random() < 0.15:
            blob, mutation = source.read_text().encode("utf-16"), "encoded as UTF-16"
        else:
            blob, mutation = mutate_bytes(raw_bytes, rng)
    target = case_dir / "policy.json"
    target.write_bytes(blob)
    return {
        "family": "policy",
        "op": _pick(rng, ["cli", "api"], [70, 30]),
        "base": base["label"],
        "game": base["game"],
        "kind": base["kind"],
        "path": str(target),
        "out_json": str(case_dir / "evaluation.json"),
        "independent": bool(base["label"] != "leduc" or rng.random() < 0.1),
        "mutation": mutation[:300],
    }


# ------------------------------------------------------------------ .nfg files

_NFG_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|[{},]|[^\s{},"]+|"')
_NFG_NUMBERS = (
    "1e308",
    "1e309",
    "-1e308",
    "9" * 400,
    "9" * 5000,
    "1/0",
    "0/0",
    "-0",
    "1.5",
    "-3",
    "3/4",
    ".5",
    "5.",
    "2.5E-1",
    "+3",
    "0x10",
    "nan",
    "inf",
    "1e-400",
    "\u0661",
    "1/3",
    "4294967297",
    "1e",
    "--1",
)


def nfg_case(cfg: Config, index: int, case_dir: Path) -> dict[str, Any]:
    """A mutated ``.nfg`` file and what to do with it."""
    rng = _rng(cfg, "nfg", index)
    base = _pick(rng, cfg.bases["nfg"])
    text: str = base["text"]
    tokens = [m.group(0) for m in _NFG_TOKEN.finditer(text)]
    solid = [k for k, t in enumerate(tokens) if not t.isspace()]
    numbers = [k for k in solid if re.fullmatch(r"-?[\d./eE+-]+", tokens[k])]
    group = _pick(rng, ["none", "tokens", "counts", "text", "bomb"], [3, 50, 17, 22, 8])
    notes: list[str] = []
    blob: bytes | None = None
    if group == "none":
        notes.append("undamaged file (control)")
    elif group == "tokens":
        for _ in range(int(rng.integers(1, 4))):
            op = _pick(
                rng, ["number", "swap", "delete", "duplicate", "word", "label"], [40, 15, 15, 10, 10, 10]
            )
            if op == "number" and numbers:
                k = _pick(rng, numbers)
                tokens[k] = _pick(rng, _NFG_NUMBERS)
                notes.append(f"number #{k} -> {tokens[k][:12]}")
            elif op == "swap":
                i, j = _pick(rng, solid), _pick(rng, solid)
                tokens[i], tokens[j] = tokens[j], tokens[i]
                notes.append(f"swap tokens {i}, {j}")
            elif op == "delete":
                k = _pick(rng, solid)
                notes.append(f"delete token {tokens[k][:12]!r}")
                tokens[k] = ""
            elif op == "duplicate":
                k = _pick(rng, solid)
                tokens[k] = tokens[k] + " " + tokens[k]
                notes.append(f"duplicate token {tokens[k][:12]!r}")
            elif op == "word":
                k = _pick(rng, solid)
                tokens[k] = _pick(rng, ["NFG", "R", "D", "{", "}", '"', "x", "\\", "\u00e9", "\x00", ","])
                notes.append(f"token #{k} -> {tokens[k]!r}")
            else:
                quoted = [k for k in solid if tokens[k].startswith('"')]
                if quoted:
                    k = _pick(rng, quoted)
                    tokens[k] = _pick(
                        rng, ['"a\\"b"', '"' + "x" * 5000 + '"', '""', '"\u00e9\u4e2d"', '"a\nb"']
                    )
                    notes.append(f"label #{k} replaced")
    elif group == "counts":
        header_end = text.index("}", text.index("}") + 1) + 1
        head, body = text[:header_end], text[header_end:]
        op = _pick(rng, ["players", "counts", "many_players"])
        if op == "players":
            head = (
                head.replace('" }', '" "Extra" }', 1)
                if rng.random() < 0.5
                else re.sub(r'"[^"]*" }', "}", head, count=1)
            )
            notes.append("player list changed")
        elif op == "many_players":
            players = int(_pick(rng, [63, 64, 65, 100]))
            head = 'NFG 1 R "many" { ' + " ".join(f'"P{k}"' for k in range(players)) + " } { "
            head += " ".join("1" for _ in range(players)) + " }"
            body = " " + " ".join("0" for _ in range(players)) + "\n"
            notes.append(f"{players} players with one strategy each")
        else:
            counts = re.findall(r"\{ ([\d ]+) \}", head)
            if counts:
                values = counts[0].split()
                k = int(rng.integers(len(values)))
                values[k] = str(_pick(rng, [0, -1, 1, 4, 10**9, 10**18, 2**31]))
                head = head.replace(counts[0], " ".join(values), 1)
                notes.append(f"strategy count {k} -> {values[k]}")
            else:
                notes.append("outcome form: counts unchanged; body truncated")
                body = body[: len(body) // 2]
        tokens = [head + body]
    elif group == "text":
        op = _pick(rng, ["truncate", "salt", "random_text", "bytes", "crlf"], [25, 25, 15, 25, 10])
        joined = "".join(tokens)
        if op == "truncate":
            cut = int(rng.integers(len(joined)))
            tokens = [joined[:cut]]
            notes.append(f"truncate at {cut}")
        elif op == "salt":
            chars = list(joined)
            for _ in range(int(rng.integers(1, 6))):
                chars.insert(int(rng.integers(len(chars) + 1)), _pick(rng, list('{}",/\\-.eE0\u00e9\x00 x')))
            tokens = ["".join(chars)]
            notes.append("random characters inserted")
        elif op == "random_text":
            vocab = ["NFG", "1", "R", '"t"', "{", "}", '"P"', "2", "3", "-1", "0", "1/2", ","]
            tokens = [" ".join(_pick(rng, vocab) for _ in range(int(rng.integers(1, 60))))]
            notes.append("random tokens")
        elif op == "bytes":
            blob, note = mutate_bytes(joined.encode("utf-8"), rng)
            notes.append(note)
        else:
            tokens = [joined.replace("\n", "\r\n")]
            notes.append("CRLF line endings")
    else:
        dims = [str(_pick(rng, [10**9, 10**6, 2**31, 10**18, 50000])) for _ in range(int(rng.integers(2, 4)))]
        names = " ".join(f'"P{p}"' for p in range(len(dims)))
        tokens = [f'NFG 1 R "bomb" {{ {names} }} {{ {" ".join(dims)} }}\n1 2 3 4\n']
        notes.append(f"size bomb {'x'.join(dims)}")
    if blob is None:
        blob = "".join(tokens).encode("utf-8", "surrogatepass")
    target = case_dir / "game.nfg"
    target.write_bytes(blob)
    return {
        "family": "nfg",
        "op": _pick(rng, ["load", "info", "evaluate", "solve"], [40, 20, 20, 20]),
        "base": base["label"],
        "path": str(target),
        "out_json": str(case_dir / "out.json"),
        "out_policy": str(case_dir / "profile.json"),
        "mutation": "; ".join(notes)[:300],
    }


# ------------------------------------------------------------------ game strings


def _param_value(rng: np.random.Generator, default: Any) -> tuple[str, bool]:
    """A parameter value and whether it must be refused (non-numeric text for a number)."""
    numeric = isinstance(default, int | float) and not isinstance(default, bool)
    kind = _pick(
        rng,
        ["valid", "huge", "negative", "zero", "float", "string", "special", "nested", "unicode", "empty"],
        [35, 10, 10, 8, 8, 8, 7, 4, 5, 5],
    )
    if kind == "valid":
        if isinstance(default, bool):
            return _pick(rng, ["true", "false"]), False
        if isinstance(default, int):
            top = int(default) if 1 <= int(default) <= 4 else 4
            return str(int(rng.integers(max(1, top - 2), top + 1))), False
        if isinstance(default, float):
            return repr(round(float(default) * float(rng.uniform(0.5, 1.0)), 3)), False
        text = str(default)
        return text if text and "(" not in text else "1", False
    if kind == "huge":
        return _pick(
            rng, ["99999999999999999999", "1e308", "2147483648", "1" + "0" * 5000, "10000000"]
        ), False
    if kind == "negative":
        return _pick(rng, ["-1", "-5", "-0.5", "-99999999999"]), False
    if kind == "zero":
        return _pick(rng, ["0", "0.0", "-0"]), False
    if kind == "float":
        return _pick(rng, ["1.5", "0.1", "2.0", "1e-9"]), False
    if kind == "string":
        return _pick(rng, ["abc", "'x'", '"y"', "true", "None"]), numeric
    if kind == "special":
        value = _pick(rng, ["nan", "inf", "-inf", "NaN"])
        return value, numeric and value.lower() == "nan"
    if kind == "nested":
        return _pick(rng, ["kuhn_poker(players=2)", "leduc(ranks=3)", "(1)", "f(x=g(y=1))"]), numeric
    if kind == "unicode":
        return _pick(rng, ["\u0661", "\u00bd", "\u2167", "3\u00a0"]), False
    return "", numeric


def game_string_case(cfg: Config, index: int, case_dir: Path) -> dict[str, Any]:
    """A random game string and what to do with it."""
    rng = _rng(cfg, "game_string", index)
    games = cfg.bases["games"]
    reasons: list[str] = []
    if rng.random() < 0.85:
        native = [g for g in games if games[g]["source"] == "native"]
        spiel = [g for g in games if games[g]["source"] == "openspiel"]
        if rng.random() < 0.55:
            name = _pick(rng, native)
        else:  # games that take seconds to compile at their defaults are drawn less often
            name = _pick(rng, spiel, [1 if g in _SLOW_GAMES else 4 for g in spiel])
        known = games[name]["params"]
    else:
        name = _pick(
            rng,
            [
                "kuhn_pokr",
                "LEDUC",
                "",
                " ",
                "x" * 5000,
                "kühn",
                "../etc/passwd",
                "missing.nfg",
                "kuhn poker",
                "nfg",
            ],
        )
        known = {}
        reasons.append("unknown game name")
    params: list[tuple[str, str]] = []
    for _ in range(int(_pick(rng, [0, 1, 2, 3], [25, 35, 25, 15]))):
        if known and rng.random() < 0.8:
            key = _pick(rng, sorted(known))
            value, bad = _param_value(rng, known[key])
            if bad:
                reasons.append(f"non-numeric value for {key}")
        else:
            key = _pick(rng, ["bogus", "Players", "players ", "x" * 300, "1", "\u00e9"])
            value, _ = _param_value(rng, 1)
            if key.strip() not in known:
                reasons.append(f"unknown parameter {key[:20]!r}")
        params.append((key, value))
    if params and rng.random() < 0.12:
        params.append(params[int(rng.integers(len(params)))])
        reasons.append("duplicated parameter")
    body = ",".join(f"{k}={v}" for k, v in params)
    shape = _pick(rng, ["plain", "unbalanced", "trailing", "double", "spaces", "noeq"], [70, 7, 6, 5, 7, 5])
    text = f"{name}({body})" if params else _pick(rng, [name, f"{name}()"])
    if shape == "unbalanced":
        text = _pick(rng, [f"{name}({body}", f"{name}{body})", f"{name}(({body})"])
        reasons.append("unbalanced parentheses")
    elif shape == "trailing" and params:
        text = f"{name}({body},)"
    elif shape == "double":
        text = f"{name}(({body}))"
        reasons.append("doubled parentheses")
    elif shape == "spaces":
        text = f"  {name} ( {body.replace(',', ' , ')} ) "
    elif shape == "noeq" and params:
        text = f"{name}({body.replace('=', '', 1)})"
        reasons.append("parameter without '='")
    return {
        "family": "game_string",
        "op": _pick(rng, ["load", "info"], [50, 50]),
        "string": text,
        "expect": "refuse" if reasons else "either",
        "reasons": reasons,
        "out_json": str(case_dir / "info.json"),
        "mutation": repr(text)[:300],
    }


GENERATORS: dict[str, Callable[[Config, int, Path], dict[str, Any]]] = {
    "checkpoint": checkpoint_case,
    "policy": policy_case,
    "nfg": nfg_case,
    "game_string": game_string_case,
}


# =============================================================================================
# The worker: runs cases and classifies what happened
# =============================================================================================


class _Verdict(Exception):
    """Raised by checks inside the worker to end a case with an outcome."""

    def __init__(self, outcome: str, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome, self.kind, self.detail = outcome, kind, detail


def _wrong(detail: str) -> _Verdict:
    return _Verdict(FAILURE, "wrong_result", detail)


class Worker:
    """Runs cases in this process: calls the library or the CLI, then checks the answer."""

    def __init__(self) -> None:
        import pyspiel

        import gamesolve
        from gamesolve.cli import main as cli_main

        self.gs = gamesolve
        self.pyspiel = pyspiel
        self.cli_main = cli_main
        self._spiel_games: dict[str, Any] = {}
        self._games: dict[str, Any] = {}

    # ------------------------------------------------------------------ calling the library
    def api(self, fn: Callable[[], Any]) -> Any:
        """``fn()``; a GamesolveError ends the case as a clean error (one line) or a failure."""
        try:
            return fn()
        except self.gs.GamesolveError as exc:
            message = str(exc)
            if "\n" in message.strip() or not message.strip():
                raise _Verdict(
                    FAILURE, "multiline_message", f"{type(exc).__name__}: {message[:2000]}"
                ) from None
            raise _Verdict(CLEAN, type(exc).__name__, message[:500]) from None
        except _Verdict:
            raise
        except BaseException as exc:
            tb = traceback.format_exc(limit=-8)
            raise _Verdict(
                FAILURE, f"exception:{type(exc).__name__}", f"{str(exc)[:500]}\n{tb[-3000:]}"
            ) from None

    def cli(self, argv: list[str]) -> dict[str, Any]:
        """Run ``gamesolve ARGV`` in-process; exit 2 with one stderr line is a clean error."""
        out, err = io.StringIO(), io.StringIO()
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        code: Any
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            try:
                code = self.cli_main(argv)
            except SystemExit as exc:
                code = exc.code
            except BaseException as exc:
                tb = traceback.format_exc(limit=-8)
                raise _Verdict(
                    FAILURE, f"traceback:{type(exc).__name__}", f"{str(exc)[:500]}\n{tb[-3000:]}"
                ) from None
        lines = [f"{w.category.__name__}: {w.message}" for w in caught] + err.getvalue().strip().splitlines()
        if code == 0:
            return {"stdout": out.getvalue(), "warnings": [str(w.message)[:200] for w in caught]}
        if code == 2 and len(lines) == 1 and lines[0].startswith("gamesolve: error:"):
            raise _Verdict(CLEAN, "exit 2", lines[0][:500])
        kind = "multiline_stderr" if code == 2 else f"exit {code}"
        raise _Verdict(FAILURE, kind, "\n".join(lines)[-3000:])

    # ------------------------------------------------------------------ independent checks
    def spiel(self, name: str) -> Any:
        """The OpenSpiel game ``name`` (loaded once)."""
        if name not in self._spiel_games:
            self._spiel_games[name] = self.pyspiel.load_game(name)
        return self._spiel_games[name]

    def game(self, name: str) -> Any:
        """The gamesolve game ``name`` (loaded once)."""
        if name not in self._games:
            self._games[name] = self.gs.load_game(name)
        return self._games[name]

    def spiel_nash_conv(self, name: str, table: dict[str, dict[int, float]]) -> float:
        """OpenSpiel's NashConv of ``{infoset: {action: prob}}`` (C++ best responses)."""
        policy = {key: sorted(row.items()) for key, row in table.items()}
        return float(self.pyspiel.nash_conv(self.spiel(name), policy))

    @staticmethod
    def matrix_nash_conv(payoffs: np.ndarray, strategies: list[np.ndarray]) -> float:
        """NashConv of a mixed profile by direct contraction (numpy only)."""
        total = 0.0
        players = payoffs.shape[0]
        for i in range(players):
            tensor = payoffs[i]
            for k in range(players - 1, -1, -1):
                if k != i:
                    tensor = np.tensordot(tensor, strategies[k], axes=([k], [0]))
            total += float(np.max(tensor) - tensor @ strategies[i])
        return total

    # ------------------------------------------------------------------ families
    def run(self, case: dict[str, Any]) -> dict[str, Any]:
        """Run one case: ``{"outcome", "kind", "detail"}``."""
        handler = getattr(self, f"case_{case['family']}")
        try:
            note = handler(case)
        except _Verdict as verdict:
            return {"outcome": verdict.outcome, "kind": verdict.kind, "detail": verdict.detail}
        except Exception as exc:
            return {
                "outcome": "harness_error",
                "kind": type(exc).__name__,
                "detail": traceback.format_exc()[-3000:],
            }
        return {"outcome": CORRECT, "kind": "ok", "detail": note or ""}

    def case_checkpoint(self, case: dict[str, Any]) -> str:
        """Resume from a damaged checkpoint; a run that succeeds must check out."""
        game = self.game(case["game"])
        total = case["total"]
        if case["op"] == "cli":
            argv = ["solve", case["game"], "--solver", case["solver"], "--iterations", str(total)]
            argv += ["--resume", case["path"], "--json", case["out_json"], "--policy-out", case["out_policy"]]
            ran = self.cli([*argv, "--no-progress"])
            report = json.loads(Path(case["out_json"]).read_text())
            policy_doc = json.loads(Path(case["out_policy"]).read_text())
            reported, iterations = report["exploitability"], report["iterations"]
            wall = report.get("wall_time")
            if case["kind"] == "efg":
                table = {
                    k: {int(a): float(p) for a, p in row.items()} for k, row in policy_doc["policy"].items()
                }
            else:
                profile = policy_doc["profile"]
            warned = ran["warnings"]
        else:
            result = self.api(
                lambda: self.gs.solve(
                    game, case["solver"], iterations=total, resume=case["path"], progress=False
                )
            )
            reported, iterations, wall = result.exploitability, result.iterations, result.wall_time
            if case["kind"] == "efg":
                table = result.policy.to_dict()
            else:
                profile = result.policy.to_lists()
            warned = []
        if case["expect"] == "refuse":
            raise _wrong(f"resumed from a damaged checkpoint ({case['mutation']}); exploitability {reported}")
        if not (isinstance(reported, float | int) and math.isfinite(reported)):
            raise _wrong(f"reported exploitability {reported!r} is not finite")
        if iterations != total:
            raise _wrong(f"asked for {total} iterations, the result reports {iterations}")
        if wall is not None and not (math.isfinite(wall) and wall >= 0):
            raise _wrong(f"wall time {wall!r} is not a finite non-negative number")
        if case["kind"] == "efg":
            exact = self.spiel_nash_conv(case["game"], table) / self.spiel(case["game"]).num_players()
        else:
            strategies = [np.asarray(s, dtype=float) for s in profile]
            exact = self.matrix_nash_conv(np.asarray(game.payoffs), strategies) / len(strategies)
        if abs(exact - reported) > 1e-9 + 1e-9 * abs(exact):
            raise _wrong(f"reported exploitability {reported!r}, independent evaluation {exact!r}")
        if case["expect"] == "exact" and abs(reported - case["reference"]) > 1e-12:
            raise _wrong(f"undamaged resume gives {reported!r}, the uninterrupted run {case['reference']!r}")
        return "warnings: " + "; ".join(warned)[:300] if warned else ""

    def case_policy(self, case: dict[str, Any]) -> str:
        """Read and evaluate a damaged policy file; compare with the strict reader."""
        game = self.game(case["game"])
        verdict = strict_policy_file(Path(case["path"]).read_bytes(), case["kind"], game, self.gs)
        kind = case["kind"]
        try:
            if case["op"] == "cli":
                argv = ["evaluate", case["game"], "--policy", case["path"], "--json", case["out_json"]]
                self.cli(argv)
                reported = json.loads(Path(case["out_json"]).read_text())["nash_conv"]
                loaded = None
            else:
                if kind == "tabular":
                    reader: Any = self.gs.TabularPolicy.from_json
                elif kind == "profile":
                    reader = self.gs.MixedProfile.from_json
                else:
                    reader = self.gs.MarkovProfile.from_file
                loaded = self.api(lambda: reader(game, case["path"]))
                reported = self.api(lambda: self.gs.nash_conv(game, loaded).nash_conv)
        except _Verdict as v:
            if v.outcome == CLEAN and verdict.valid:
                v.kind = f"{v.kind} (refused a file the strict reader accepts)"
            raise
        if not verdict.valid:
            raise _wrong(f"accepted an invalid file ({verdict.reason}); NashConv {reported!r}")
        if not math.isfinite(reported):
            raise _wrong(f"NashConv {reported!r} is not finite")
        if loaded is not None:
            _compare_loaded(kind, loaded, verdict.value)
        if kind == "tabular":
            if case["independent"]:
                exact = self.spiel_nash_conv(case["game"], verdict.value)
            else:
                exact = self.gs.nash_conv(
                    game, self.gs.TabularPolicy.from_dict(game, verdict.value)
                ).nash_conv
        elif kind == "profile":
            strategies = [np.asarray(s, dtype=float) for s in verdict.value]
            exact = self.matrix_nash_conv(np.asarray(game.payoffs), strategies)
        else:
            exact = self.gs.nash_conv(game, self.gs.MarkovProfile.of(game, verdict.value)).nash_conv
        if abs(exact - reported) > 1e-8 + 1e-8 * abs(exact):
            raise _wrong(f"reported NashConv {reported!r}, evaluation of the file's numbers {exact!r}")
        return ""

    def case_nfg(self, case: dict[str, Any]) -> str:
        """Load, describe, evaluate or solve a damaged ``.nfg`` file."""
        path, op = case["path"], case["op"]
        if op == "load":
            game = self.api(lambda: self.gs.load_game(path))
        elif op == "info":
            self.cli(["info", path, "--json", case["out_json"]])
            game = self.gs.load_game(path)
        elif op == "evaluate":
            self.cli(["evaluate", path, "--policy", "uniform", "--json", case["out_json"]])
            game = self.gs.load_game(path)
        else:
            argv = ["solve", path, "--solver", "regret-matching", "--iterations", "20", "--no-progress"]
            self.cli([*argv, "--json", case["out_json"], "--policy-out", case["out_policy"]])
            game = self.gs.load_game(path)
        if not isinstance(game, self.gs.TensorGame):
            raise _wrong(f"an .nfg file loaded as {type(game).__name__}")
        payoffs = np.asarray(game.payoffs)
        if not np.isfinite(payoffs).all():
            raise _wrong("accepted non-finite payoffs")
        if op == "evaluate":
            reported = json.loads(Path(case["out_json"]).read_text())["nash_conv"]
            uniform = [np.full(n, 1.0 / n) for n in payoffs.shape[1:]]
            exact = self.matrix_nash_conv(payoffs, uniform)
            if not (math.isfinite(reported) and abs(exact - reported) <= 1e-9 * max(1.0, abs(exact))):
                raise _wrong(f"evaluate reports NashConv {reported!r}, direct evaluation {exact!r}")
        if op == "solve":
            report = json.loads(Path(case["out_json"]).read_text())
            profile = json.loads(Path(case["out_policy"]).read_text())["profile"]
            strategies = [np.asarray(s, dtype=float) for s in profile]
            exact = self.matrix_nash_conv(payoffs, strategies) / payoffs.shape[0]
            reported = report["exploitability"]
            if not (math.isfinite(reported) and abs(exact - reported) <= 1e-9 * max(1.0, abs(exact))):
                raise _wrong(f"solve reports exploitability {reported!r}, direct evaluation {exact!r}")
        return self._against_gambit(path, payoffs)

    def _against_gambit(self, path: str, payoffs: np.ndarray) -> str:
        """Read the file with pygambit too; accepted payoffs must agree."""
        if payoffs.size > 200_000:
            return "too large for the Gambit cross-check"
        try:
            import pygambit
        except ImportError:
            return "pygambit not installed"
        try:
            other = pygambit.read_nfg(path)
            arrays = other.to_arrays()
            theirs = np.stack(
                [np.vectorize(float, otypes=[float])(np.asarray(a, dtype=object)) for a in arrays]
            )
        except Exception as exc:
            return f"gamesolve accepts, Gambit refuses: {type(exc).__name__}: {str(exc)[:120]}"
        if theirs.shape != payoffs.shape or not np.array_equal(theirs, payoffs):
            raise _wrong(f"payoffs differ from Gambit's reading (shapes {payoffs.shape} and {theirs.shape})")
        return ""

    def case_selftest(self, case: dict[str, Any]) -> str:
        """Cases that check the harness itself: each op ends in a known way."""
        op = case["op"]
        if op == "crash":
            os.abort()
        if op == "hang":
            time.sleep(3600)
        if op == "clean":
            self.api(lambda: self.gs.load_game("no_such_game_at_all"))
        if op == "raise":
            empty: dict[str, int] = {}
            self.api(lambda: empty["missing"])
        if op == "cli_clean":
            self.cli(["info", "no_such_game_at_all"])
        return ""

    def case_game_string(self, case: dict[str, Any]) -> str:
        """Load (and compile) or describe a random game string."""
        text = case["string"]
        if case["op"] == "load":
            game = self.api(lambda: self.gs.load_game(text))
            if hasattr(game, "compile"):
                compiled = self.api(game.compile)
                if compiled.num_infosets < 0:
                    raise _wrong("negative infoset count")
            elif isinstance(game, self.gs.TensorGame) and not np.isfinite(game.payoffs).all():
                raise _wrong("non-finite payoffs")
        else:
            self.cli(["info", text, "--json", case["out_json"]])
            info = json.loads(Path(case["out_json"]).read_text())
            bad = [k for k, v in info.items() if isinstance(v, float) and not math.isfinite(v)]
            if bad:
                raise _wrong(f"info reports non-finite {bad}")
        if case["expect"] == "refuse":
            raise _wrong(f"accepted {text!r} ({'; '.join(case['reasons'])})")
        return ""


# ------------------------------------------------------------------ the strict reader (oracle)


@dataclass
class StrictVerdict:
    """What the strict reader makes of a policy file: valid (with its numbers) or why not."""

    valid: bool
    reason: str = ""
    value: Any = None


_ID = re.compile(r"-?[0-9]+")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _strict_json(blob: bytes) -> Any:
    text = blob.decode("utf-8-sig")  # UnicodeDecodeError: not UTF-8

    def refuse(token: str) -> Any:
        raise ValueError(token)

    return json.loads(text, parse_constant=refuse)


def strict_policy_file(blob: bytes, kind: str, game: Any, gs: Any) -> StrictVerdict:
    """Decide, independently of gamesolve's readers, whether a file is a valid policy of ``game``.

    The rules are the documented file formats: strict UTF-8 JSON (a BOM allowed; no ``NaN``), one
    finite number (not a boolean) per entry, probabilities >= 0 summing to 1 within 1e-6.
    Tabular: ``{infoset: {action id: p}}`` (optionally in a ``gamesolve.tabular_policy/1``
    envelope) naming every infoset once, action ids as decimal text in ``0 .. 2**31 - 1``, ids not
    legal at the infoset only with probability 0. Profiles: ``{"profile": [...]}`` or a list, one
    vector per player. Markov: ``{"strategies": ...}`` (or ``"profile"``) or a list
    ``[player][state][action]``.
    """
    try:
        data = _strict_json(blob)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return StrictVerdict(False, f"not strict JSON: {type(exc).__name__}")
    try:
        if kind == "tabular":
            return _strict_tabular(data, gs.as_compiled(game))
        if kind == "profile":
            return _strict_profile(data, game)
        return _strict_markov(data, game)
    except RecursionError:
        return StrictVerdict(False, "nested too deeply")


def _strict_tabular(data: Any, compiled: Any) -> StrictVerdict:
    from gamesolve.policy import POLICY_FORMAT

    keys = set(compiled.infosets)
    if isinstance(data, dict) and "format" in data and "format" not in keys:
        if data["format"] != POLICY_FORMAT or "policy" not in data:
            return StrictVerdict(False, "bad envelope")
        data = data["policy"]
    elif isinstance(data, dict) and "solver" in data and "history" in data:
        return StrictVerdict(False, "a result file")
    if not isinstance(data, dict):
        return StrictVerdict(False, "not a mapping")
    if set(data) != keys:
        return StrictVerdict(False, "infoset keys differ from the game's")
    table: dict[str, dict[int, float]] = {}
    for key, row in data.items():
        infoset = compiled.infosets.id(key)
        n = int(compiled.infoset_num_actions[infoset])
        legal = [int(a) for a in compiled.infoset_actions[infoset, :n]]
        if not isinstance(row, dict):
            return StrictVerdict(False, f"{key}: not a mapping")
        out = dict.fromkeys(legal, 0.0)
        seen: set[int] = set()
        for action, p in row.items():
            if not _ID.fullmatch(action) or len(action) > 12:
                return StrictVerdict(False, f"{key}: action id {action!r}")
            a = int(action)
            if not 0 <= a < 2**31 or a in seen:
                return StrictVerdict(False, f"{key}: action id {action!r} out of range or repeated")
            seen.add(a)
            number = _number(p)
            if number is None:
                return StrictVerdict(False, f"{key}: probability {p!r}")
            if a not in out:
                if number != 0.0:
                    return StrictVerdict(False, f"{key}: mass on illegal action {a}")
                continue
            out[a] = number
        values = list(out.values())
        if min(values) < 0 or abs(math.fsum(values) - 1.0) > 1e-6:
            return StrictVerdict(False, f"{key}: not a distribution")
        table[key] = out
    return StrictVerdict(True, value=table)


def _vector(row: Any, n: int, floor: float) -> list[float] | None:
    if not isinstance(row, list) or len(row) != n:
        return None
    numbers = [_number(v) for v in row]
    if any(v is None for v in numbers):
        return None
    values = [float(v) for v in numbers if v is not None]
    if min(values) < floor or abs(math.fsum(values) - 1.0) > 1e-6:
        return None
    return values


def _strict_profile(data: Any, game: Any) -> StrictVerdict:
    if isinstance(data, dict):
        if "profile" not in data:
            return StrictVerdict(False, "no profile entry")
        data = data["profile"]
    if not isinstance(data, list) or len(data) != game.num_players:
        return StrictVerdict(False, "not one strategy per player")
    out = []
    for k, (row, n) in enumerate(zip(data, game.num_actions, strict=True)):
        vec = _vector(row, n, -1e-9)
        if vec is None:
            return StrictVerdict(False, f"player {k}: not a distribution over {n} actions")
        out.append(vec)
    return StrictVerdict(True, value=out)


def _strict_markov(data: Any, game: Any) -> StrictVerdict:
    if isinstance(data, dict):
        key = "strategies" if "strategies" in data else "profile" if "profile" in data else None
        if key is None:
            return StrictVerdict(False, "no strategies entry")
        data = data[key]
    if not isinstance(data, list) or len(data) != game.num_players:
        return StrictVerdict(False, "not one strategy per player")
    out = []
    for p, rows in enumerate(data):
        if not isinstance(rows, list) or len(rows) != game.num_states:
            return StrictVerdict(False, f"player {p}: not one row per state")
        block = []
        for s, row in enumerate(rows):
            vec = _vector(row, game.num_actions[p], -1e-12)
            if vec is None:
                return StrictVerdict(False, f"player {p}, state {s}: not a distribution")
            block.append(vec)
        out.append(block)
    return StrictVerdict(True, value=out)


def _compare_loaded(kind: str, loaded: Any, value: Any) -> None:
    """The object a reader built must hold the numbers the strict reader found."""
    if kind == "tabular":
        for key, row in value.items():
            got = loaded.action_probabilities(key)
            if set(got) != set(row) or any(abs(got[a] - row[a]) > 1e-12 for a in row):
                raise _wrong(f"infoset {key!r}: read as {got}, the file says {row}")
    else:
        for k, (got, want) in enumerate(zip(loaded.strategies, value, strict=True)):
            if np.asarray(got).shape != np.asarray(want).shape or not np.allclose(got, want, atol=1e-6):
                raise _wrong(f"player {k}: read as {np.asarray(got).tolist()}, the file says {want}")


def worker_main(memory_gb: float) -> None:
    """Serve cases from stdin (one JSON object a line), answer on the original stdout."""
    import faulthandler
    import resource

    limit = int(memory_gb * (1 << 30))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints of C libraries go to the log, not into the protocol
    faulthandler.enable(file=sys.stderr)
    worker = Worker()
    channel.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        case = json.loads(line)
        if case.get("op") == "setup":
            try:
                answer: dict[str, Any] = {"manifest": build_bases(Path(case["folder"]))}
            except Exception:
                answer = {"error": traceback.format_exc()[-4000:]}
        else:
            print(
                f"--- case {case['family']} #{case['index']}: {case['mutation'][:200]}",
                file=sys.stderr,
                flush=True,
            )
            start = time.perf_counter()
            answer = worker.run(case)
            answer["seconds"] = time.perf_counter() - start
        channel.write(json.dumps(answer) + "\n")


# =============================================================================================
# The parent: a pool of workers with timeouts and restarts
# =============================================================================================


class _Process:
    """One worker process and the case it is running."""

    def __init__(self, cfg: Config, log_path: Path) -> None:
        self.cfg = cfg
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.buffer = b""
        self.eof = False
        self.case: dict[str, Any] | None = None
        self.deadline = math.inf
        self.log_offset = 0
        self.served = 0

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        # gamesolve's own size budget sits below the worker's address-space limit, so a game too
        # large for the worker is refused by the library (a clean error), not by the limit.
        env.setdefault("GAMESOLVE_MEMORY_BUDGET", str(int(self.cfg.memory_gb * (1 << 30)) // 2))
        command = [sys.executable, "-m", "experiments.fuzz_inputs", "--worker"]
        with open(self.log_path, "ab") as log_file:
            self.proc = subprocess.Popen(
                [*command, "--memory-gb", str(self.cfg.memory_gb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                cwd=_ROOT,
                env=env,
                start_new_session=True,
            )
        self.buffer, self.eof, self.served = b"", False, 0
        line = self.read_line(time.monotonic() + 180)
        if line is None or not json.loads(line).get("ready"):
            self.kill()
            raise RuntimeError(f"fuzz worker did not start; see {self.log_path}: {self.log_tail()}")

    def poll_line(self, wait: float = 0.0) -> str | None:
        """A complete protocol line if one has arrived (waiting at most ``wait`` seconds)."""
        if b"\n" not in self.buffer and not self.eof and self.proc is not None:
            assert self.proc.stdout is not None
            fd = self.proc.stdout.fileno()
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                ready = sel.select(max(0.0, wait))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if chunk:
                    self.buffer += chunk
                else:
                    self.eof = True
        if b"\n" in self.buffer:
            line, _, self.buffer = self.buffer.partition(b"\n")
            return line.decode("utf-8")
        return None

    def read_line(self, deadline: float) -> str | None:
        """The next protocol line, or ``None`` on end of file or when ``deadline`` passes."""
        while True:
            line = self.poll_line(min(1.0, deadline - time.monotonic()))
            if line is not None or self.eof or time.monotonic() >= deadline:
                return line

    def send(self, case: dict[str, Any], timeout: float) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.case = case
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.deadline = time.monotonic() + timeout
        self.proc.stdin.write((json.dumps(case) + "\n").encode("utf-8"))
        self.proc.stdin.flush()
        self.served += 1

    def kill(self) -> int | None:
        """Kill the worker (and anything it started); returns its exit status."""
        if self.proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.proc = None
        return code

    def stop(self) -> None:
        """Let the worker finish (stdin closed); kill it if it does not."""
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.kill()

    def log_tail(self, since: int = 0, limit: int = 3000) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(since)
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return text[-limit:]


def _timeout(cfg: Config, family: str) -> float:
    return cfg.game_timeout if family == "game_string" else cfg.timeout


def _run_cases(
    cfg: Config,
    pool: list[_Process],
    cases: Iterator[dict[str, Any]],
    record: Callable[[dict[str, Any], dict[str, Any]], None],
) -> None:
    """Feed ``cases`` to the pool; ``record(case, answer)`` gets every outcome."""
    queue = iter(cases)
    exhausted = False
    while True:
        for worker in pool:
            if worker.case is None and not exhausted:
                case = next(queue, None)
                if case is None:
                    exhausted = True
                    break
                if worker.proc is None or worker.served >= cfg.restart_every:
                    worker.stop()
                    worker.start()
                worker.send(case, _timeout(cfg, case["family"]))
        busy = [w for w in pool if w.case is not None]
        if not busy:
            return
        if not any(b"\n" in w.buffer or w.eof for w in busy):
            with selectors.DefaultSelector() as sel:
                for worker in busy:
                    assert worker.proc is not None and worker.proc.stdout is not None
                    sel.register(worker.proc.stdout.fileno(), selectors.EVENT_READ)
                sel.select(max(0.0, min(w.deadline for w in busy) - time.monotonic()))
        for worker in busy:
            case = worker.case
            assert case is not None
            line = worker.poll_line()
            if line is not None:
                answer = json.loads(line)
            elif worker.eof:
                code = worker.kill()
                name = signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}"
                answer = {
                    "outcome": FAILURE,
                    "kind": f"crash:{name}",
                    "detail": worker.log_tail(worker.log_offset),
                }
            elif time.monotonic() >= worker.deadline:
                worker.kill()
                limit = _timeout(cfg, case["family"])
                tail = worker.log_tail(worker.log_offset, 500)
                answer = {
                    "outcome": FAILURE,
                    "kind": "timeout",
                    "detail": f"no answer within {limit:g} s; {tail}",
                }
            else:
                continue
            worker.case = None
            worker.deadline = math.inf
            record(case, answer)


def run_cases(cfg: Config, cases: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Run prepared cases on a fresh pool of ``cfg.workers`` workers; ``[(case, answer)]``."""
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    pool = [_Process(cfg, Path(cfg.out) / f"worker{k}.log") for k in range(max(1, cfg.workers))]
    answers: list[tuple[dict[str, Any], dict[str, Any]]] = []
    try:
        _run_cases(cfg, pool, iter(cases), lambda case, answer: answers.append((case, answer)))
    finally:
        for worker in pool:
            worker.stop()
    return answers


def _case_stream(cfg: Config, family: str, case_root: Path) -> Iterator[dict[str, Any]]:
    indices = cfg.only if cfg.only is not None else range(cfg.cases)
    for index in indices:
        case_dir = case_root / f"{family}-{index:05d}"
        shutil.rmtree(case_dir, ignore_errors=True)
        case_dir.mkdir(parents=True)
        try:
            case = GENERATORS[family](cfg, index, case_dir)
        except Exception:
            case = {"family": family, "op": "broken", "mutation": traceback.format_exc()[-1500:]}
        case.update(index=index, seed=cfg.seed, case_dir=str(case_dir))
        yield case


def _reproducer(cfg: Config, case: dict[str, Any]) -> str:
    family, index = case["family"], case["index"]
    return f"python -m experiments.fuzz_inputs --families {family} --seed {cfg.seed} --case {index}"


def _command(case: dict[str, Any]) -> str:
    """The call the case made, for the report."""
    family, op = case["family"], case.get("op")
    if family == "checkpoint":
        if op == "cli":
            return (
                f"gamesolve solve {case['game']} --solver {case['solver']} --iterations {case['total']} "
                f"--resume {case['path']} --json OUT --policy-out OUT"
            )
        call = f"load_game({case['game']!r}), {case['solver']!r}, iterations={case['total']}"
        return f"gamesolve.solve({call}, resume=PATH)"
    if family == "policy":
        if op == "cli":
            return f"gamesolve evaluate {case['game']} --policy {case['path']} --json OUT"
        reader = {"tabular": "TabularPolicy.from_json", "profile": "MixedProfile.from_json"}.get(
            case["kind"], "MarkovProfile.from_file"
        )
        return f"{reader}(load_game({case['game']!r}), {case['path']!r}) then nash_conv"
    if family == "nfg":
        return {
            "load": f"gamesolve.load_game({case['path']!r})",
            "info": f"gamesolve info {case['path']}",
            "evaluate": f"gamesolve evaluate {case['path']} --policy uniform",
            "solve": f"gamesolve solve {case['path']} --solver regret-matching --iterations 20",
        }.get(str(op), str(op))
    if family == "game_string":
        return (
            f"gamesolve info {case['string']!r}"
            if op == "info"
            else f"gamesolve.load_game({case['string']!r})"
        )
    return str(op)


def main(cfg: Config) -> dict[str, Any]:
    """Run every family and write ``result.json``; returns the report."""
    from gamesolve.io import atomic_write_text

    unknown = set(cfg.families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown families {sorted(unknown)}; choose from {FAMILIES}")
    out = Path(cfg.out)
    case_root, failure_root = out / "cases", out / "failures"
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(case_root, ignore_errors=True)
    if cfg.only is None:
        shutil.rmtree(failure_root, ignore_errors=True)
    started = time.perf_counter()
    pool = [_Process(cfg, out / f"worker{k}.log") for k in range(max(1, cfg.workers))]
    for worker in pool:
        worker.log_path.write_bytes(b"")
    counts: dict[str, Counter[str]] = {f: Counter() for f in cfg.families}
    notes: dict[str, Counter[str]] = {f: Counter() for f in cfg.families}
    examples: dict[str, list[dict[str, Any]]] = {f: [] for f in cfg.families}
    failures: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    case_seconds: dict[str, list[float]] = {f: [] for f in cfg.families}
    clean_examples: dict[str, list[dict[str, Any]]] = {f: [] for f in cfg.families}
    slowest: dict[str, list[tuple[float, int, str]]] = {f: [] for f in cfg.families}
    try:
        pool[0].start()
        pool[0].send({"op": "setup", "folder": str(out / "bases")}, 900)
        line = pool[0].read_line(pool[0].deadline)
        pool[0].case, pool[0].served = None, 0
        answer: dict[str, Any] = json.loads(line) if line else {"error": pool[0].log_tail()}
        if "manifest" not in answer:
            raise RuntimeError(f"building the valid inputs failed:\n{answer.get('error')}")
        cfg.bases = answer["manifest"]

        def record(case: dict[str, Any], answer: dict[str, Any]) -> None:
            family = case["family"]
            outcome = answer["outcome"]
            counts[family][outcome] += 1
            spent = answer.get("seconds")
            if spent is not None:
                case_seconds[family].append(float(spent))
                slowest[family] = sorted([*slowest[family], (float(spent), case["index"], _command(case))])[
                    -5:
                ]
            kind = str(answer.get("kind", ""))
            detail = str(answer.get("detail", ""))
            if outcome == CLEAN and len(clean_examples[family]) < 25:
                head = detail[:50]
                if all(not x["message"].startswith(head) for x in clean_examples[family]):
                    clean_examples[family].append(
                        {
                            "index": case["index"],
                            "mutation": str(case.get("mutation"))[:120],
                            "message": detail[:300],
                        }
                    )
            if outcome == CLEAN and "refused a file the strict reader accepts" in kind:
                notes[family]["refused a file the strict reader accepts"] += 1
                if len(examples[family]) < 20:
                    examples[family].append({"index": case["index"], "note": kind, "message": detail[:300]})
            if outcome == CORRECT and detail:
                note = detail.split(":")[0]
                notes[family][note] += 1
                if len(examples[family]) < 20:
                    examples[family].append({"index": case["index"], "note": detail[:300]})
            case_dir = Path(case["case_dir"])
            if outcome in (FAILURE, "harness_error") or cfg.only is not None:
                kept = failure_root / case_dir.name
                shutil.rmtree(kept, ignore_errors=True)
                failure_root.mkdir(parents=True, exist_ok=True)
                shutil.move(str(case_dir), kept)
                entry = {
                    "family": family,
                    "index": case["index"],
                    "seed": cfg.seed,
                    "outcome": outcome,
                    "kind": kind,
                    "base": case.get("base"),
                    "mutation": case.get("mutation"),
                    "call": _command(case),
                    "expect": case.get("expect"),
                    "error": detail[-3000:],
                    "input": str(kept),
                    "reproducer": _reproducer(cfg, case),
                    "seconds": answer.get("seconds"),
                }
                if outcome != CORRECT or cfg.only is not None:
                    failures.append(entry)
            else:
                shutil.rmtree(case_dir, ignore_errors=True)

        for family in cfg.families:
            t0 = time.perf_counter()
            _run_cases(cfg, pool, _case_stream(cfg, family, case_root), record)
            seconds[family] = time.perf_counter() - t0
            log.info("%s: %s", family, dict(counts[family]))
    finally:
        for worker in pool:
            worker.stop()
    result = {
        "config": {k: v for k, v in asdict(cfg).items() if k != "bases"},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "seconds": time.perf_counter() - started,
        "seconds_per_family": seconds,
        "counts": {f: dict(c) for f, c in counts.items()},
        "failures_per_family": {f: counts[f][FAILURE] + counts[f]["harness_error"] for f in cfg.families},
        "failure_kinds": {
            f: dict(Counter(x["kind"] for x in failures if x["family"] == f and x["outcome"] != CORRECT))
            for f in cfg.families
        },
        "case_seconds": {
            f: {
                "mean": float(np.mean(v)) if v else None,
                "p99": float(np.quantile(v, 0.99)) if v else None,
                "slowest": [{"seconds": t, "index": i, "call": c} for t, i, c in reversed(slowest[f])],
            }
            for f, v in case_seconds.items()
        },
        "notes": {f: dict(c) for f, c in notes.items()},
        "clean_error_examples": clean_examples,
        "note_examples": examples,
        "failures": failures,
    }
    shutil.rmtree(case_root, ignore_errors=True)
    atomic_write_text(out / "result.json", json.dumps(result, indent=2, default=str))
    return result


def _print(result: dict[str, Any]) -> None:
    outcomes = (CLEAN, CORRECT, FAILURE, "harness_error")
    print(f"{'family':<12} " + " ".join(f"{o:>15}" for o in outcomes) + f" {'seconds':>8}")
    for family, counts in result["counts"].items():
        row = " ".join(f"{counts.get(o, 0):>15}" for o in outcomes)
        print(f"{family:<12} {row} {result['seconds_per_family'].get(family, 0):>8.1f}")
    for family, kinds in result["failure_kinds"].items():
        if kinds:
            print(
                f"{family} failures: "
                + ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items(), key=lambda x: -x[1]))
            )
    for failure in result["failures"][:40]:
        first = failure["error"].strip().splitlines()[:1]
        print(
            f"  [{failure['family']} #{failure['index']}] {failure['kind']}: {failure['mutation'][:90]}\n"
            f"      {failure['call'][:140]}\n      {(first[0] if first else '')[:200]}"
        )
    if len(result["failures"]) > 40:
        print(f"  ... {len(result['failures']) - 40} more in result.json")


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=Config.cases, help="cases per family")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--timeout", type=float, default=Config.timeout)
    parser.add_argument("--game-timeout", type=float, default=Config.game_timeout)
    parser.add_argument("--workers", type=int, default=Config.workers)
    parser.add_argument("--memory-gb", type=float, default=Config.memory_gb)
    parser.add_argument("--case", type=int, nargs="+", help="run only these case indices (inputs kept)")
    parser.add_argument("--out", default=Config.out)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.memory_gb)
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = Config(
        cases=args.cases,
        families=tuple(args.families),
        seed=args.seed,
        timeout=args.timeout,
        game_timeout=args.game_timeout,
        workers=args.workers,
        memory_gb=args.memory_gb,
        only=tuple(args.case) if args.case else None,
        out=args.out,
    )
    result = main(cfg)
    _print(result)
    if cfg.only is not None:
        print(json.dumps(result["failures"], indent=2))


if __name__ == "__main__":
    _cli()
