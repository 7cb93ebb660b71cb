"""Benchmark: sampled tournament matches per second on Leduc poker, against a plain pyspiel loop.

Measured in one run, on one machine:

1. Ours: :func:`gamesolve.tournament.tournament` with a CFR+ policy (``cfr_iterations`` of CFR+)
   and the uniform policy as a symmetric population, so all four seatings are played
   (CFR+ vs CFR+, CFR+ vs uniform, uniform vs CFR+, uniform vs uniform), ``episodes`` matches each.
   Executors: in process (one core); a local process pool (:class:`~gamesolve.executors.
   LocalExecutor`), timed on its first use in the session (including the start of the fork server,
   which loads the kernels once) and warm; the default ``executor="local"`` string (a new pool per
   call, forked from the warm server); and Ray on a local instance (start-up excluded). Kernel
   compilation is excluded (one warm-up run first); the meta-games of all executors are checked
   to be bit-identical.
2. The peer in the same run: a plain Python loop over ``pyspiel`` states
   (``pyspiel.load_game("leduc_poker")``) playing the same policies: chance outcomes sampled from
   ``state.chance_outcomes()``, actions from the policy row looked up by
   ``state.information_state_string()`` (precomputed cumulative probabilities, ``random.random``
   and ``bisect``; the loop a careful user would write). Its mean payoffs are compared with the
   exact values. Target: ours (local processes) at least 10x the peer's matches per second.
3. Ray overhead per task: ``ray_tasks`` trivial tasks (``abs``) through
   :class:`gamesolve.executors.RayExecutor` on a local Ray instance versus in process, per task
   (Ray start-up reported separately); the same for the local process pool.

Run: ``python -m experiments.bench_tournament``. Writes ``runs/bench_tournament/result.json``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import os
import platform
import random
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version
from gamesolve.executors import InProcessExecutor, LocalExecutor, RayExecutor
from gamesolve.io import atomic_write_text
from gamesolve.policy import TabularPolicy
from gamesolve.population import MetaGame
from gamesolve.tournament import tournament

log = logging.getLogger(__name__)


@dataclass
class Config:
    """What to measure."""

    game: str = "leduc_poker"
    cfr_iterations: int = 200
    episodes: int = 1_000_000  # per seating for ours (4 seatings)
    peer_episodes: int = 10_000  # per seating for the pyspiel loop
    workers: int | None = None  # local pool size (default: available CPUs)
    ray: bool = True
    ray_tasks: int = 1_000
    seed: int = 0
    out: str = "runs/bench_tournament"


def _policies(cfg: Config) -> tuple[Any, dict[str, TabularPolicy]]:
    game = gamesolve.load_game(cfg.game)
    cfr = gamesolve.solve(game, "cfr+", iterations=cfg.cfr_iterations, progress=False).average_policy
    return game, {"cfr+": cfr, "uniform": gamesolve.uniform_policy(game)}


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def ours(game: Any, pols: dict[str, TabularPolicy], cfg: Config) -> tuple[dict[str, Any], MetaGame]:
    """Matches per second of our tournament on every executor (compile excluded)."""
    tournament(game, pols, episodes=2_000, seed=cfg.seed, executor="inprocess")  # compile / load cache
    matches = 4 * cfg.episodes
    rows: dict[str, Any] = {}
    reference, seconds = _timed(
        lambda: tournament(game, pols, episodes=cfg.episodes, seed=cfg.seed, executor="inprocess")
    )
    rows["inprocess"] = {"seconds": seconds, "matches_per_second": matches / seconds}
    pool = LocalExecutor(cfg.workers)
    identical = True
    try:
        cold, seconds = _timed(
            lambda: tournament(game, pols, episodes=cfg.episodes, seed=cfg.seed, executor=pool)
        )
        warm, warm_seconds = _timed(
            lambda: tournament(game, pols, episodes=cfg.episodes, seed=cfg.seed, executor=pool)
        )
    finally:
        pool.close()
    identical &= np.array_equal(cold.payoffs, reference.payoffs) and np.array_equal(
        warm.stderr, reference.stderr
    )
    rows["local"] = {
        "workers": pool.workers,
        "start_method": pool.start_method,
        "seconds_cold": seconds,
        "matches_per_second_cold": matches / seconds,
        "seconds": warm_seconds,
        "matches_per_second": matches / warm_seconds,
    }
    default, seconds = _timed(lambda: tournament(game, pols, episodes=cfg.episodes, seed=cfg.seed))
    identical &= np.array_equal(default.payoffs, reference.payoffs)
    rows["default_local_string"] = {"seconds": seconds, "matches_per_second": matches / seconds}
    rows["identical_across_executors"] = bool(identical)
    return rows, reference


def _tables(game: Any, policy: TabularPolicy) -> dict[str, tuple[list[int], list[float]]]:
    """``{information_state_string: (legal actions, cumulative probabilities)}`` of a policy."""
    compiled = gamesolve.as_compiled(game)
    out = {}
    for infoset, key in enumerate(compiled.infosets.keys):
        m = int(compiled.infoset_num_actions[infoset])
        actions = [int(a) for a in compiled.infoset_actions[infoset, :m]]
        cum = np.cumsum(policy.probs[infoset, :m]).tolist()
        cum[-1] = 1.0
        out[key] = (actions, cum)
    return out


def _pyspiel_matches(
    os_game: Any, seat0: dict[str, Any], seat1: dict[str, Any], episodes: int, rng: random.Random
) -> tuple[float, float, float]:
    """The plain loop: mean and stderr of player 0's payoff over ``episodes`` matches."""
    tables = (seat0, seat1)
    total = 0.0
    total_sq = 0.0
    for _ in range(episodes):
        state = os_game.new_initial_state()
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes = state.chance_outcomes()
                u = rng.random()
                acc = 0.0
                action = outcomes[-1][0]
                for a, p in outcomes:
                    acc += p
                    if u < acc:
                        action = a
                        break
                state.apply_action(action)
            else:
                player = state.current_player()
                actions, cum = tables[player][state.information_state_string(player)]
                k = min(bisect.bisect_right(cum, rng.random()), len(actions) - 1)
                state.apply_action(actions[k])
        value = state.returns()[0]
        total += value
        total_sq += value * value
    mean = total / episodes
    var = max(total_sq / episodes - mean * mean, 0.0) * episodes / max(episodes - 1, 1)
    return mean, (var / episodes) ** 0.5, float(episodes)


def peer(game: Any, pols: dict[str, TabularPolicy], exact: MetaGame, cfg: Config) -> dict[str, Any]:
    """Matches per second of the pyspiel loop, and its payoffs against the exact values."""
    import pyspiel

    os_game = pyspiel.load_game(cfg.game)
    tables = [_tables(game, p) for p in pols.values()]
    rng = random.Random(cfg.seed)
    start = time.perf_counter()
    worst_z = 0.0
    for i in range(2):
        for j in range(2):
            mean, err, _ = _pyspiel_matches(os_game, tables[i], tables[j], cfg.peer_episodes, rng)
            worst_z = max(worst_z, abs(mean - float(exact.payoffs[0, i, j])) / max(err, 1e-12))
    seconds = time.perf_counter() - start
    matches = 4 * cfg.peer_episodes
    return {
        "peer": "plain Python loop over pyspiel states (chance_outcomes, information_state_string lookups)",
        "matches": matches,
        "seconds": seconds,
        "matches_per_second": matches / seconds,
        "worst_z_vs_exact": worst_z,
    }


def overhead(cfg: Config, ray_executor: RayExecutor | None) -> dict[str, Any]:
    """Seconds per trivial task through Ray and the local pool, minus in process."""
    tasks = list(range(cfg.ray_tasks))
    inproc = InProcessExecutor()
    inproc.map(abs, tasks)
    _, base = _timed(lambda: inproc.map(abs, tasks))
    out: dict[str, Any] = {"tasks": cfg.ray_tasks, "inprocess_seconds_per_task": base / cfg.ray_tasks}
    with LocalExecutor(cfg.workers) as pool:
        _, start = _timed(lambda: pool.map(abs, [0]))
        _, seconds = _timed(lambda: pool.map(abs, tasks))
    out["local_start_seconds"] = start
    out["local_seconds_per_task"] = (seconds - base) / cfg.ray_tasks
    if ray_executor is not None:
        ray_executor.map(abs, tasks[:10])  # workers up, function exported
        _, seconds = _timed(lambda: ray_executor.map(abs, tasks))
        out["ray_seconds_per_task"] = (seconds - base) / cfg.ray_tasks
    return out


def ours_ray(
    game: Any, pols: dict[str, TabularPolicy], reference: MetaGame, cfg: Config, executor: RayExecutor
) -> dict[str, Any]:
    """Matches per second through Ray on a local instance (start-up excluded)."""
    tournament(game, pols, episodes=20_000, seed=cfg.seed, executor=executor)  # workers warm
    meta, seconds = _timed(
        lambda: tournament(game, pols, episodes=cfg.episodes, seed=cfg.seed, executor=executor)
    )
    return {
        "seconds": seconds,
        "matches_per_second": 4 * cfg.episodes / seconds,
        "identical_to_inprocess": bool(np.array_equal(meta.payoffs, reference.payoffs)),
    }


def main(cfg: Config) -> dict[str, Any]:
    """Run every measurement and write ``result.json``."""
    game, pols = _policies(cfg)
    exact = tournament(game, pols)
    rows, reference = ours(game, pols, cfg)
    ray_executor = None
    ray_start = None
    if cfg.ray:
        try:
            ray_executor, ray_start = _timed(lambda: RayExecutor(workers=cfg.workers))
        except gamesolve.GamesolveError as exc:  # ray not installed
            rows["ray"] = f"unavailable: {exc}"
    try:
        if ray_executor is not None:
            rows["ray"] = ours_ray(game, pols, reference, cfg, ray_executor)
        costs = overhead(cfg, ray_executor)
    finally:
        if ray_executor is not None:
            ray_executor.close()
    if ray_start is not None:
        costs["ray_start_seconds"] = ray_start
    lower, upper = reference.confidence_interval(0.999)
    peer_row = peer(game, pols, exact, cfg)
    result = {
        "config": asdict(cfg),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "versions": {
            "gamesolve": gamesolve.__version__,
            "numba": package_version("numba"),
            "open_spiel": package_version("open_spiel"),
            "ray": package_version("ray"),
        },
        "exact_payoffs_player0": exact.payoffs[0].tolist(),
        "ours_sampled_payoffs_player0": reference.payoffs[0].tolist(),
        "ours_within_999_ci_of_exact": bool(np.all((lower <= exact.payoffs) & (exact.payoffs <= upper))),
        "ours": rows,
        "pyspiel": peer_row,
        "speedup_local_vs_pyspiel": rows["local"]["matches_per_second"] / peer_row["matches_per_second"],
        "speedup_local_cold_vs_pyspiel": rows["local"]["matches_per_second_cold"]
        / peer_row["matches_per_second"],
        "speedup_inprocess_vs_pyspiel": rows["inprocess"]["matches_per_second"]
        / peer_row["matches_per_second"],
        "overhead_per_task": costs,
    }
    os.makedirs(cfg.out, exist_ok=True)
    atomic_write_text(os.path.join(cfg.out, "result.json"), json.dumps(result, indent=2))
    return result


def _print(result: dict[str, Any]) -> None:
    ours_rows = result["ours"]
    peer_row = result["pyspiel"]
    print(f"{'runner':<38} {'matches/s':>14} {'vs pyspiel':>11}")
    lines = [
        ("ours, in process (1 core)", ours_rows["inprocess"]["matches_per_second"]),
        (
            f"ours, local pool x{ours_rows['local']['workers']} (warm)",
            ours_rows["local"]["matches_per_second"],
        ),
        ("ours, first pool (incl. fork server)", ours_rows["local"]["matches_per_second_cold"]),
        ('ours, executor="local" (new pool)', ours_rows["default_local_string"]["matches_per_second"]),
    ]
    if isinstance(ours_rows.get("ray"), dict):
        lines.append(("ours, Ray local instance", ours_rows["ray"]["matches_per_second"]))
    lines.append(("pyspiel Python loop", peer_row["matches_per_second"]))
    for name, rate in lines:
        print(f"{name:<38} {rate:>14,.0f} {rate / peer_row['matches_per_second']:>10.0f}x")
    ov = result["overhead_per_task"]
    print(f"identical across executors: {ours_rows['identical_across_executors']}")
    print(
        f"local pool: start {ov['local_start_seconds']:.2f} s, "
        f"{ov['local_seconds_per_task'] * 1e6:,.0f} us/task"
    )
    if "ray_seconds_per_task" in ov:
        print(f"Ray: start {ov['ray_start_seconds']:.2f} s, {ov['ray_seconds_per_task'] * 1e6:,.0f} us/task")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=Config.episodes)
    parser.add_argument("--peer-episodes", type=int, default=Config.peer_episodes)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--ray-tasks", type=int, default=Config.ray_tasks)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--out", default=Config.out)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    _print(
        main(
            Config(
                episodes=args.episodes,
                peer_episodes=args.peer_episodes,
                workers=args.workers,
                ray=not args.no_ray,
                ray_tasks=args.ray_tasks,
                out=args.out,
            )
        )
    )
