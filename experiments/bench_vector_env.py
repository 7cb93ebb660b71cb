"""Benchmark: batched environments, random play, decisions per second on one core.

Every row builds a :class:`~gamesolve.vector_env.VectorEnv` (or a peer loop) and plays uniformly
random legal actions, drawn in numpy from the legal mask (``argmax`` of uniforms on the legal
columns), for ``steps`` calls of ``env.step`` after a warm-up (kernel compilation excluded). A
decision is one action of one episode, so a step of ``B`` episodes makes ``B`` decisions. The cost
split reports the share of the time inside ``env.step`` and in drawing the actions. The process is
pinned to one core when the platform allows it.

Rows (add one by writing a function ``Config -> dict`` and listing it in :data:`ROWS`):

* ``tree/leduc/info_state``: native Leduc in numba (:class:`~gamesolve.vector_env.tree.TreeVectorEnv`)
  with OpenSpiel's information-state tensors, ``B = 1,024``. Target: at least 1,000,000 decisions/s.
* ``tree/leduc/observation``, ``tree/kuhn/info_state``: the same with observation tensors, on Kuhn.
* ``tree/leduc/one_hot``: the compiled Leduc tree without its encoder (one-hot infoset ids).
* ``tree/leduc_13x4/info_state``: ``leduc(ranks=13,suits=4)`` (79,872 infosets, about 10M histories),
  with the size of its ``[I, F]`` float32 table and the time to compile and encode it.

Run: ``python -m experiments.bench_vector_env [--rows NAME ...]``. Writes
``runs/bench_vector_env/result.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version
from gamesolve.io import atomic_write_text
from gamesolve.vector_env import VectorEnv
from gamesolve.vector_env.tree import TreeVectorEnv

log = logging.getLogger(__name__)

#: Decisions per second that native Leduc with information-state tensors must reach (B = 1,024).
TARGET = 1_000_000


@dataclass
class Config:
    """What to measure."""

    num_envs: int = 1024
    steps: int = 3_000
    warmup_steps: int = 50
    seed: int = 0
    one_core: bool = True
    rows: list[str] = field(default_factory=list)  # empty: every row
    out: str = "runs/bench_vector_env"


def random_play(env: VectorEnv, cfg: Config) -> dict[str, Any]:
    """Decisions per second of uniformly random legal play, with the cost split."""
    rng = np.random.default_rng(cfg.seed)
    ts = env.reset()

    def draw(legal: np.ndarray) -> np.ndarray:
        u = rng.random(legal.shape)
        u[~legal] = -1.0
        return u.argmax(axis=1)

    for _ in range(cfg.warmup_steps):
        ts = env.step(draw(ts.legal))
    in_step = in_draw = 0.0
    episodes = env.episodes
    start = time.perf_counter()
    for _ in range(cfg.steps):
        t0 = time.perf_counter()
        actions = draw(ts.legal)
        t1 = time.perf_counter()
        ts = env.step(actions)
        in_step += time.perf_counter() - t1
        in_draw += t1 - t0
    seconds = time.perf_counter() - start
    decisions = cfg.steps * env.num_envs
    return {
        "num_envs": env.num_envs,
        "observation_size": env.observation_size,
        "num_actions": env.num_actions,
        "decisions": decisions,
        "episodes": env.episodes - episodes,
        "seconds": seconds,
        "decisions_per_second": decisions / seconds,
        "share_in_step": in_step / seconds,
        "share_drawing_actions": in_draw / seconds,
        "microseconds_per_step": 1e6 * in_step / cfg.steps,
    }


def _tree_row(make_game: Callable[[], Any], observation: str) -> Callable[[Config], dict[str, Any]]:
    def row(cfg: Config) -> dict[str, Any]:
        env = TreeVectorEnv(make_game(), num_envs=cfg.num_envs, seed=cfg.seed, observation=observation)
        return random_play(env, cfg)

    return row


def _one_hot_leduc() -> Any:
    return dataclasses.replace(gamesolve.load_game("leduc").compile(), source=None)


def large_leduc(cfg: Config) -> dict[str, Any]:
    """``leduc(ranks=13,suits=4)``: compile, encode, then random play; the table's size."""
    game = gamesolve.load_game("leduc(ranks=13,suits=4)")
    start = time.perf_counter()
    compiled = game.compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    table = game.infoset_tensors("info_state")
    encode_seconds = time.perf_counter() - start
    row = random_play(TreeVectorEnv(game, num_envs=cfg.num_envs, seed=cfg.seed), cfg)
    row.update(
        infosets=compiled.num_infosets,
        histories=compiled.num_nodes,
        table_shape=list(table.shape),
        table_megabytes=table.nbytes / 1e6,
        compiled_megabytes=compiled.nbytes / 1e6,
        compile_seconds=compile_seconds,
        encode_seconds=encode_seconds,
    )
    return row


#: Every row, by name, in the order they run.
ROWS: dict[str, Callable[[Config], dict[str, Any]]] = {
    "tree/leduc/info_state": _tree_row(lambda: gamesolve.load_game("leduc"), "info_state"),
    "tree/leduc/observation": _tree_row(lambda: gamesolve.load_game("leduc"), "observation"),
    "tree/kuhn/info_state": _tree_row(lambda: gamesolve.load_game("kuhn"), "info_state"),
    "tree/leduc/one_hot": _tree_row(_one_hot_leduc, "info_state"),
    "tree/leduc_13x4/info_state": large_leduc,
}


def _pin_to_one_core() -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def main(cfg: Config) -> dict[str, Any]:
    """Run the rows and write ``result.json``."""
    core = _pin_to_one_core() if cfg.one_core else None
    names = cfg.rows or list(ROWS)
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; rows are {list(ROWS)}")
    rows = {}
    for name in names:
        log.info("row %s", name)
        rows[name] = ROWS[name](cfg)
    result: dict[str, Any] = {
        "config": asdict(cfg),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pinned_core": core,
            "platform": platform.platform(),
        },
        "versions": {
            "gamesolve": gamesolve.__version__,
            "numpy": package_version("numpy"),
            "numba": package_version("numba"),
            "open_spiel": package_version("open_spiel"),
        },
        "rows": rows,
    }
    if "tree/leduc/info_state" in rows:
        result["target_decisions_per_second"] = TARGET
        result["target_met"] = rows["tree/leduc/info_state"]["decisions_per_second"] >= TARGET
    os.makedirs(cfg.out, exist_ok=True)
    atomic_write_text(os.path.join(cfg.out, "result.json"), json.dumps(result, indent=2))
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"{'row':<30} {'B':>6} {'F':>5} {'decisions/s':>14} {'in step':>8} {'drawing':>8}")
    for name, row in result["rows"].items():
        print(
            f"{name:<30} {row['num_envs']:>6} {row['observation_size']:>5} "
            f"{row['decisions_per_second']:>14,.0f} {row['share_in_step']:>8.0%} "
            f"{row['share_drawing_actions']:>8.0%}"
        )
        if "table_megabytes" in row:
            print(
                f"{'':<30} table {row['table_shape']} float32: {row['table_megabytes']:.1f} MB; "
                f"compile {row['compile_seconds']:.1f} s, encode {row['encode_seconds']:.2f} s"
            )
    if "target_met" in result:
        print(f"target {result['target_decisions_per_second']:,} decisions/s met: {result['target_met']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=Config.num_envs)
    parser.add_argument("--steps", type=int, default=Config.steps)
    parser.add_argument("--rows", nargs="*", default=[], help=f"rows to run (default all): {list(ROWS)}")
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    parser.add_argument("--out", default=Config.out)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    _print(
        main(
            Config(
                num_envs=args.num_envs,
                steps=args.steps,
                rows=list(args.rows),
                one_core=not args.all_cores,
                out=args.out,
            )
        )
    )
