"""Benchmark: normal-form solving against nashpy and pygambit, and first-order vs LP at scale.

Measured in one run on one machine; the figures are ratios.

1. Zero-sum games on seeded random ``n x n`` games (payoffs uniform in [-1, 1]), 2 x 2 to
   2000 x 2000: gamesolve's :func:`~gamesolve.solvers.lp.solve_zero_sum_lp` (``method="auto"``:
   the certified dense simplex kernel on small and medium games, HiGHS on large ones; the full
   call, scaling, certificate and profile object included) and its batched kernel call
   :func:`~gamesolve.kernels.matrix_game.solve_matrix_games` (one game) against QuantEcon's
   ``optimize.minmax`` (a dense simplex in numba), nashpy's ``linear_program`` (two LPs) and
   pygambit's ``lp_solve``. Every library is timed alike (:func:`experiments._common.timed`: one
   uncounted warm-up call, then the median of ``repeats`` calls, one call when a warm call takes a
   second or more), the peers in a child process each; building a peer's game object (pygambit's,
   nashpy's, QuantEcon's array) happens before the timer, as building ours does. Every value is
   checked against ours. A peer that exceeds ``peer_timeout`` seconds is stopped and reported so.
2. A first-order method (the library's ``rm+``: alternating regret matching+ with linear averaging,
   numpy/BLAS matrix-vector products) reaching duality gap <= ``target_gap`` on a random
   ``big x big`` zero-sum game (wall time including its gap evaluations), against the HiGHS LP on
   the same game.

Run: ``python -m experiments.bench_normal_form`` (or ``make bench``). Writes
``runs/bench_normal_form/result.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import gamesolve
from experiments._common import timed
from gamesolve.io import atomic_write_text
from gamesolve.kernels.matrix_game import solve_matrix_games
from gamesolve.solvers.lp import solve_zero_sum_lp


@dataclass
class Config:
    """What to measure."""

    lp_sizes: tuple[int, ...] = (2, 5, 10, 50, 200, 1000, 2000)
    repeats: int = 5
    big: int = 2000
    target_gap: float = 1e-4
    peer_timeout: float = 300.0
    seed: int = 0
    out: str = "runs/bench_normal_form"


def _matrix(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, n))


PEERS = ("quantecon", "nashpy", "pygambit")


def _peer_call(name: str, a: np.ndarray) -> Callable[[], float]:
    """The peer's solve of ``a`` as a call returning the game value (its game object built here)."""
    if name == "quantecon":
        import quantecon

        return lambda: float(quantecon.optimize.minmax(a)[0])
    if name == "nashpy":
        import nashpy

        game = nashpy.Game(a, -a)

        def nashpy_call() -> float:
            x, y = game.linear_program()
            return float(np.asarray(x) @ a @ np.asarray(y))

        return nashpy_call
    import pygambit

    gambit = pygambit.StrategicGame.from_arrays(a, -a)
    first = next(iter(gambit.players))
    return lambda: float(pygambit.nash.lp_solve(gambit, rational=False).equilibrium.payoffs[first])


def _peer_worker(name: str, n: int, seed: int, repeats: int, queue: Any) -> None:
    try:
        call = _peer_call(name, _matrix(n, seed))
    except ImportError as exc:
        queue.put(("skipped", f"{name} is not installed ({exc})"))
        return
    queue.put(("ok", *timed(call, repeats)))


def time_peer(name: str, n: int, cfg: Config) -> dict[str, Any]:
    """A peer's median seconds (in a child process, stopped after ``peer_timeout``)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peer_worker, args=(name, n, cfg.seed, cfg.repeats, queue))
    proc.start()
    proc.join(cfg.peer_timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return {"seconds": None, "value": None, "note": f"stopped after {cfg.peer_timeout:g} s"}
    if queue.empty():
        return {"seconds": None, "value": None, "note": "failed"}
    msg = queue.get()
    if msg[0] != "ok":
        return {"seconds": None, "value": None, "note": msg[1]}
    return {"seconds": msg[1], "value": msg[2]}


def lp_row(n: int, cfg: Config) -> dict[str, Any]:
    """Ours (full call and batched kernel) and every peer on one size."""
    a = _matrix(n, cfg.seed)
    game = gamesolve.zero_sum(a)
    ours, sol = timed(lambda: solve_zero_sum_lp(game), cfg.repeats)
    batch = np.ascontiguousarray(a[None])
    kernel, (values, _, _) = timed(lambda: solve_matrix_games(batch), cfg.repeats)
    if abs(float(values[0]) - sol.value) > 1e-6:
        raise AssertionError(f"the batched kernel's value {values[0]} differs from ours {sol.value} at n={n}")
    row: dict[str, Any] = {
        "n": n,
        "gamesolve_seconds": ours,
        "gamesolve_kernel_seconds": kernel,
        "value": sol.value,
        "gap": sol.gap,
        "method": sol.method,
    }
    for peer in PEERS:
        res = time_peer(peer, n, cfg)
        row[peer] = res
        if res["value"] is not None and abs(res["value"] - sol.value) > 1e-6:
            raise AssertionError(f"{peer} value {res['value']} differs from ours {sol.value} at n={n}")
    fastest = min((row[p]["seconds"] for p in PEERS if row[p]["seconds"] is not None), default=None)
    row["fastest_peer_over_ours"] = fastest / ours if fastest is not None else None
    row["fastest_peer_over_kernel"] = fastest / kernel if fastest is not None else None
    return row


def first_order_vs_lp(cfg: Config) -> dict[str, Any]:
    """The library's ``rm+`` (alternating, linear averaging) to ``target_gap`` against HiGHS."""
    game = gamesolve.zero_sum(_matrix(cfg.big, cfg.seed))
    gamesolve.solve(gamesolve.zero_sum(_matrix(8, 1)), "rm+", iterations=3, progress=False)  # warm-up
    start = time.perf_counter()
    result = gamesolve.solve(
        game,
        "rm+",
        target_exploitability=cfg.target_gap / 2,
        eval_every=25,
        iterations=100_000,
        progress=False,
    )
    first_order = time.perf_counter() - start  # evaluation included
    start = time.perf_counter()
    sol = solve_zero_sum_lp(game)
    lp = time.perf_counter() - start
    return {
        "n": cfg.big,
        "target_gap": cfg.target_gap,
        "rm+_iterations": result.iterations,
        "rm+_seconds": first_order,
        "rm+_gap": result.gap,
        "highs_seconds": lp,
        "highs_method": sol.method,
        "highs_value": sol.value,
        "rm+_value": result.value[0],
        "lp_over_rm+": lp / first_order,
    }


def main(cfg: Config) -> dict[str, Any]:
    """Run everything, print the table, write JSON."""
    rows = [lp_row(n, cfg) for n in cfg.lp_sizes]
    big = first_order_vs_lp(cfg) if cfg.big else {}
    result = {"config": asdict(cfg), "lp": rows, "first_order": big}
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result, indent=2))

    def fmt(res: dict[str, Any]) -> str:
        return f"{res['seconds'] * 1e3:>10.3f}" if res["seconds"] is not None else f"{'-':>10}"

    print(
        f"{'n':>6}{'ours ms':>11}{'method':>10}{'kernel ms':>11}{'QuantEcon ms':>14}{'nashpy ms':>11}"
        f"{'pygambit ms':>13}{'fastest/ours':>14}{'fastest/kernel':>16}"
    )
    for r in rows:
        ratio = f"{r['fastest_peer_over_ours']:.2f}x" if r["fastest_peer_over_ours"] else "-"
        kratio = f"{r['fastest_peer_over_kernel']:.2f}x" if r["fastest_peer_over_kernel"] else "-"
        print(
            f"{r['n']:>6}{r['gamesolve_seconds'] * 1e3:>11.3f}{r['method']:>10}"
            f"{r['gamesolve_kernel_seconds'] * 1e3:>11.3f}{fmt(r['quantecon']):>14}{fmt(r['nashpy'])}"
            f"  {fmt(r['pygambit'])}{ratio:>14}{kratio:>16}"
        )
    if big:
        print(
            f"\n{big['n']}x{big['n']} zero-sum: alternating RM+ reached gap {big['rm+_gap']:.1e} in "
            f"{big['rm+_iterations']} iterations, {big['rm+_seconds']:.1f} s; HiGHS ({big['highs_method']}) "
            f"{big['highs_seconds']:.1f} s -> {big['lp_over_rm+']:.1f}x"
        )
    print(f"\nwrote {cfg.out}/result.json")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lp-sizes", type=int, nargs="+", default=list(Config.lp_sizes))
    parser.add_argument("--big", type=int, default=Config.big, help="0 to skip")
    parser.add_argument("--peer-timeout", type=float, default=Config.peer_timeout)
    parser.add_argument("--repeats", type=int, default=Config.repeats)
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    main(
        Config(
            lp_sizes=tuple(ns.lp_sizes),
            big=ns.big,
            peer_timeout=ns.peer_timeout,
            repeats=ns.repeats,
            out=ns.out,
        )
    )
