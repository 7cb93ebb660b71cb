"""Benchmark: batched environments stepped by worker processes and Ray actors, decisions per second.

Random play on one game (uniformly random legal action ids drawn in the calling process, as a
learner's sampling would be) through :func:`gamesolve.vector_env` with ``workers=N``: each worker
steps one shard of the ``B`` episodes. Rows: the environment in the calling process (no workers),
then ``N`` = 1, 2 and every core, on the local executor (processes started with ``spawn``) and on
Ray (actors of a local Ray instance). Every configuration is built and warmed once, then measured
``--repeats`` times interleaved with the others (the machine's load drifts alike for all); the best
rate of each is kept. The target of issue 15: at least 1.7 times the decisions per second with 2
workers as with 1 on a 2-core machine, in one run.

Run: ``python -m experiments.bench_rollout_workers [--game connect_four] [--num-envs 4096]
[--steps 60] [--repeats 3]``. Writes ``runs/bench_rollout_workers/result.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version
from gamesolve.io import atomic_write_text

log = logging.getLogger(__name__)

#: Decisions per second with 2 workers over 1 (issue 15, on a 2-core machine).
TARGET_RATIO = 1.7


def _observation(game: str) -> str:
    try:
        gamesolve.vector_env(game, num_envs=1, observation="info_state").close()
        return "info_state"
    except gamesolve.UnsupportedGame:
        return "observation"


def _rate(env: Any, steps: int, rng: np.random.Generator) -> float:
    """Decisions per wall second over ``steps`` batched steps of random play."""
    ts = env.reset()
    start = time.perf_counter()
    for _ in range(steps):
        u = rng.random(ts.legal.shape) * ts.legal
        ts = env.step(np.argmax(u, axis=1))
    return steps * env.num_envs / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--game", default="connect_four")
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=60, help="batched steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--executors", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--out", default="runs/bench_rollout_workers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cores = os.cpu_count() or 1
    counts = sorted({1, 2, cores})
    kind = _observation(args.game)
    configs: dict[str, Any] = {"in-process": {}}
    for ex in args.executors:
        for n in counts:
            configs[f"{ex}/{n}"] = {"workers": n, "executor": ex}
    envs = {}
    try:
        for name, kw in configs.items():
            start = time.perf_counter()
            envs[name] = gamesolve.vector_env(
                args.game, num_envs=args.num_envs, seed=0, observation=kind, **kw
            )
            _rate(envs[name], 5, np.random.default_rng(0))  # warm-up
            log.info("%s ready in %.1f s", name, time.perf_counter() - start)
        rates: dict[str, list[float]] = {name: [] for name in configs}
        for r in range(args.repeats):
            for name, env in envs.items():
                rates[name].append(_rate(env, args.steps, np.random.default_rng(r)))
    finally:
        for env in envs.values():
            env.close()
    best = {name: max(v) for name, v in rates.items()}
    rows = []
    for name, rate in best.items():
        rows.append({"config": name, "decisions_per_second": rate, "all": rates[name]})
        log.info("%-12s %12s decisions/s", name, f"{rate:,.0f}")
    ratios = {}
    for ex in args.executors:
        if f"{ex}/2" in best:
            ratios[ex] = best[f"{ex}/2"] / best[f"{ex}/1"]
            met = "met" if ratios[ex] >= TARGET_RATIO else "not met"
            log.info("%s: 2 workers / 1 worker = %.2fx (target %.1fx: %s)", ex, ratios[ex], TARGET_RATIO, met)
    result = {
        "benchmark": "bench_rollout_workers",
        "game": args.game,
        "observation": kind,
        "num_envs": args.num_envs,
        "steps": args.steps,
        "repeats": args.repeats,
        "rows": rows,
        "two_over_one": ratios,
        "target_ratio": TARGET_RATIO,
        "machine": {
            "platform": platform.platform(),
            "cpus": cores,
            "python": platform.python_version(),
            "ray": package_version("ray"),
            "gamesolve": package_version("gamesolve"),
        },
    }
    os.makedirs(args.out, exist_ok=True)
    atomic_write_text(os.path.join(args.out, "result.json"), json.dumps(result, indent=2) + "\n")
    log.info("wrote %s", os.path.join(args.out, "result.json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
