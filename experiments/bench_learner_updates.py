"""Benchmark: learner updates per second at batch 4,096, CPU against GPU, in one run.

Environments stay on the CPU; what moves to CUDA is the learner's update. This benchmark times
exactly that: one update is one gradient step of a learner's own update code on a minibatch of
``--batch`` transitions (default 4,096) of Leduc poker information-state tensors (a recorded
self-play rollout, so observations, legal masks and actions are real), on every device present:
the CPU (one thread, as the learners run by default, and ``--cpu-threads`` more when asked) and
CUDA when torch sees a device. Rows:

* ``ppo``: :meth:`gamesolve.solvers.deep.ppo.PPO.fit_rollout` with one epoch of one minibatch (the
  clipped surrogate, value loss, entropy, Adam step), the default (128, 128) network;
* ``neural-mmd``: the same step with neural MMD's objective (its ``policy_targets``, the previous
  policy's log-probabilities on the batch, computed inside the timed update, and the two KL terms).

Every row is warmed up (``--warmup`` updates) before ``--updates`` timed updates; CUDA timings
synchronise the device before reading the clock. The result lists updates per second per device
and the GPU/CPU ratio measured in the same process.

Run: ``python -m experiments.bench_learner_updates [--batch 4096] [--updates 50]``. Writes
``runs/bench_learner_updates/result.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np

from experiments._common import package_version
from gamesolve.io import atomic_write_text


def _ppo_batch(batch: int) -> tuple[Any, Any, dict[str, Any]]:
    """A PPO solver, its prepared Leduc game and one recorded rollout cut to ``batch`` transitions."""
    import gamesolve
    from gamesolve.solvers.deep.ppo import PPO

    solver = PPO(num_envs=max(64, batch // 4), rollout_length=8)
    game = solver.prepare(gamesolve.load_game("leduc"))
    state = solver.init(game, np.random.default_rng(0))
    from gamesolve.neural.state import unpack_module

    net, _ = solver._cached(game)
    unpack_module(state, "net.", net)
    rng = np.random.default_rng(1)
    parts: list[dict[str, Any]] = []
    total = 0
    while total < batch:
        part = solver._rollout(game, net, rng, 1)
        parts.append(part)
        total += int(part["action"].shape[0])
    keys = ("obs", "legal", "action", "logp", "adv", "ret")
    data = {k: np.concatenate([p[k] for p in parts])[:batch] for k in keys}
    data["episodes"] = np.asarray(0)
    data["steps"] = np.asarray(0)
    return solver, game, data


def time_updates(learner: str, device: str, batch: int, updates: int, warmup: int, threads: int) -> float:
    """Updates per second of ``learner`` (``"ppo"`` or ``"neural-mmd"``) on ``device``."""
    import torch

    from gamesolve.solvers.deep.mmd import NeuralMMD
    from gamesolve.solvers.deep.ppo import PPO

    _, game, data = _ppo_batch(batch)
    cls = {"ppo": PPO, "neural-mmd": NeuralMMD}[learner]
    solver = cls(epochs=1, minibatches=1, device=device, threads=threads)
    state = solver.init(game, np.random.default_rng(0))
    net = solver._network(game)
    opt = solver._optimizer(net)
    rng = np.random.default_rng(2)
    cuda = solver.device.type == "cuda"
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)

    def one() -> None:
        targets = solver.policy_targets(game, state, net, data, 1)
        solver.fit_rollout(net, opt, data, rng, 1, targets)

    try:
        for _ in range(warmup):
            one()
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(updates):
            one()
        if cuda:
            torch.cuda.synchronize()
        return updates / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(saved)


def main(batch: int, updates: int, warmup: int, cpu_threads: tuple[int, ...], out: str) -> dict[str, Any]:
    """Time every row on every device present; print and write the result."""
    import torch

    devices: list[tuple[str, int]] = [("cpu", t) for t in cpu_threads]
    gpu = torch.cuda.is_available()
    if gpu:
        devices.append(("cuda", 1))
    rows: dict[str, dict[str, float]] = {}
    for label in ("ppo", "neural-mmd"):
        rows[label] = {}
        for device, threads in devices:
            key = device if device == "cuda" else f"cpu x{threads}"
            rate = time_updates(label, device, batch, updates, warmup, threads)
            rows[label][key] = rate
            print(f"{label:<10} {key:<8} {rate:10.1f} updates/s at batch {batch}", flush=True)
        if gpu:
            rows[label]["cuda / cpu x1"] = rows[label]["cuda"] / rows[label]["cpu x1"]
            print(f"{label:<10} cuda / cpu x1: {rows[label]['cuda / cpu x1']:.1f}x", flush=True)
    if not gpu:
        print("no CUDA device here: CPU rows only", flush=True)
    result = {
        "batch": batch,
        "updates": updates,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": package_version("torch"),
            "cuda_device": torch.cuda.get_device_name(0) if gpu else None,
        },
        "rows": rows,
    }
    os.makedirs(out, exist_ok=True)
    atomic_write_text(os.path.join(out, "result.json"), json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--cpu-threads", default="1", help="comma-separated CPU thread counts")
    parser.add_argument("--out", default="runs/bench_learner_updates")
    ns = parser.parse_args()
    threads = tuple(int(x) for x in ns.cpu_threads.split(","))
    main(ns.batch, ns.updates, ns.warmup, threads, ns.out)
