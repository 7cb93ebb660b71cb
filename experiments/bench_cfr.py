"""Benchmark: the CFR family on compiled games against OpenSpiel's and LiteEFG's C++ CFR+.

Measured in one run, on one machine (absolute times drift between runs; ratios are the figure).
Every library is warm before it is timed, and gets the same number of rounds and the same statistic.

1. Per-iteration time of our CFR+, ``pyspiel.CFRPlusSolver`` and (when installed) LiteEFG's CFR+
   on Leduc and Liar's Dice, interleaved over several rounds, median per iteration (ours runs its
   iterations in one kernel call, as :func:`gamesolve.solve` does between evaluations).
2. Start-up: ``gamesolve solve kuhn_poker --solver cfr+ --iterations 1000`` in a fresh process,
   with a cold numba cache (an empty cache folder) and then warm.
3. Wall time to Leduc exploitability <= ``target`` for every variant, OpenSpiel's C++ CFR+ and
   LiteEFG's CFR+, every one evaluated after every iteration (evaluation time excluded on all sides).
4. A generalized Leduc with millions of nodes: compile, CFR+ iterations and exact evaluation on
   one thread and on every core (interleaved, medians; the iterates checked bit-identical) against
   the serial kernels, peak memory.
5. A plot of exploitability against iterations and wall time, every curve on the same axes.

LiteEFG builds from source and is optional: without it its columns say why they are empty.

Run: ``python -m experiments.bench_cfr`` (or ``make bench``). Writes ``runs/bench_cfr/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version
from experiments._liteefg import CFRPlus
from experiments._liteefg import load as load_liteefg
from gamesolve.io import atomic_write_text
from gamesolve.kernels.layers import kernel_threads, use_serial_kernels
from gamesolve.solvers.cfr import CFR

LITEEFG, LITEEFG_VERSION = load_liteefg()


@dataclass
class Config:
    """What to measure."""

    games: tuple[str, ...] = ("leduc_poker", "liars_dice")
    rounds: int = 5
    our_iterations: dict[str, int] | None = None  # per round; defaults below
    openspiel_iterations: dict[str, int] | None = None
    variants: tuple[str, ...] = ("cfr", "cfr+", "lcfr", "dcfr", "pcfr+")
    target: float = 1e-3
    curve_iterations: int = 2000
    eval_every: int = 1  # every library is evaluated after every iteration on the way to the target
    big_game: str = "leduc(ranks=13,suits=4)"
    big_iterations: int = 100
    startup: bool = True
    out: str = "runs/bench_cfr"


def _defaults(cfg: Config) -> tuple[dict[str, int], dict[str, int]]:
    ours = cfg.our_iterations or {"leduc_poker": 500, "liars_dice": 20}
    theirs = cfg.openspiel_iterations or {"leduc_poker": 20, "liars_dice": 2}
    return ours, theirs


def per_iteration(name: str, cfg: Config) -> dict[str, Any]:
    """Interleaved per-iteration medians of our CFR+, OpenSpiel's C++ CFR+ and LiteEFG's CFR+.

    Every library is warm (one untimed iteration first) and runs the same number of rounds; within
    a round each library runs its own count of iterations (so that a round takes about as long),
    and the figure is the median over rounds of the time per iteration.
    """
    import pyspiel

    ours_n, theirs_n = _defaults(cfg)
    game = gamesolve.load_game(name)
    compiled = gamesolve.as_compiled(game)
    solver = CFR("cfr+")
    state = solver.init(compiled, np.random.default_rng(0))
    solver.step(compiled, state, 1)  # warm-up (numba cache load)
    os_solver = pyspiel.CFRPlusSolver(game.pyspiel_game)
    os_solver.evaluate_and_update_policy()
    lite = CFRPlus(name) if LITEEFG is not None else None
    if lite is not None:
        lite.step(1)
    ours, theirs, lite_times = [], [], []
    for _ in range(cfg.rounds):
        k = ours_n.get(name, 10)
        start = time.perf_counter()
        solver.step(compiled, state, k)
        ours.append((time.perf_counter() - start) / k)
        m = theirs_n.get(name, 2)
        start = time.perf_counter()
        for _ in range(m):
            os_solver.evaluate_and_update_policy()
        theirs.append((time.perf_counter() - start) / m)
        if lite is not None:
            start = time.perf_counter()
            lite.step(m)
            lite_times.append((time.perf_counter() - start) / m)
    ours_ms = statistics.median(ours) * 1e3
    theirs_ms = statistics.median(theirs) * 1e3
    lite_ms = statistics.median(lite_times) * 1e3 if lite_times else None
    return {
        "game": name,
        "nodes": compiled.num_nodes,
        "gamesolve_cfr+_ms_per_iteration": ours_ms,
        "openspiel_cfr+_ms_per_iteration": theirs_ms,
        "liteefg_cfr+_ms_per_iteration": lite_ms,
        "speedup": theirs_ms / ours_ms,
        "speedup_vs_liteefg": None if lite_ms is None else lite_ms / ours_ms,
        "rounds": cfg.rounds,
    }


def startup_times() -> dict[str, float]:
    """Seconds for the CLI to run 1000 CFR+ iterations on Kuhn in a fresh process."""
    cmd = [sys.executable, "-m", "gamesolve.cli", "solve", "kuhn_poker", "--solver", "cfr+"]
    cmd += ["--iterations", "1000", "--no-progress"]
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        # Python writes its bytecode caches as on a user's machine (a sandbox may turn that off,
        # which makes every start compile every module from source).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["NUMBA_CACHE_DIR"] = cache
        for label in ("cold", "warm", "warm_again"):
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            out[f"{label}_seconds"] = time.perf_counter() - start
    return out


def curves(cfg: Config) -> dict[str, Any]:
    """Exploitability curves on Leduc for every variant and OpenSpiel's C++ CFR+."""
    import pyspiel

    game = gamesolve.load_game("leduc_poker")
    compiled = gamesolve.as_compiled(game)
    out: dict[str, Any] = {}
    for variant in cfg.variants:
        gamesolve.solve(compiled, variant, iterations=2, progress=False)  # warm-up
        result = gamesolve.solve(
            compiled, variant, iterations=cfg.curve_iterations, eval_every=cfg.eval_every, progress=False
        )
        hist = result.history
        reached = next((i for i, e in enumerate(hist.exploitability) if e <= cfg.target), None)
        out[variant] = {
            "iteration": list(hist.iteration),
            "wall_time": list(hist.wall_time),
            "exploitability": list(hist.exploitability),
            "iterations_to_target": hist.iteration[reached] if reached is not None else None,
            "seconds_to_target": hist.wall_time[reached] if reached is not None else None,
        }
    os_solver = pyspiel.CFRPlusSolver(game.pyspiel_game)
    os_solver.evaluate_and_update_policy()  # warm, and iteration 1 of the curve (timed below)
    os_solver = pyspiel.CFRPlusSolver(game.pyspiel_game)
    out["openspiel cfr+"] = _every_iteration(
        os_solver.evaluate_and_update_policy,
        lambda: pyspiel.exploitability(game.pyspiel_game, os_solver.average_policy()),
        cfg,
    )
    if LITEEFG is not None:
        CFRPlus("leduc_poker").step(1)  # warm
        lite = CFRPlus("leduc_poker")
        out["liteefg cfr+"] = _every_iteration(lambda: lite.step(1), lite.exploitability, cfg)
    return out


def _every_iteration(step: Any, measure: Any, cfg: Config) -> dict[str, Any]:
    """A peer's curve evaluated after every iteration (evaluation excluded), up to the target."""
    xs, ts, es = [], [], []
    spent = 0.0
    reached_it = reached_s = None
    for it in range(1, cfg.curve_iterations + 1):
        start = time.perf_counter()
        step()
        spent += time.perf_counter() - start
        value = measure()
        xs.append(it)
        ts.append(spent)
        es.append(value)
        if value <= cfg.target:
            reached_it, reached_s = it, spent
            break
    return {
        "iteration": xs,
        "wall_time": ts,
        "exploitability": es,
        "iterations_to_target": reached_it,
        "seconds_to_target": reached_s,
        "note": "evaluated after every iteration (not timed); stops once the target is reached",
    }


def big_game(cfg: Config) -> dict[str, Any]:
    """Compile a large generalized Leduc; CFR+ and exact evaluation on one core and on every core.

    The two thread counts are interleaved round by round (the median of ``cfg.rounds`` rounds each)
    from the same starting state, and their iterates are checked to be bit-identical.
    """
    import numba

    start = time.perf_counter()
    compiled = gamesolve.as_compiled(gamesolve.load_game(cfg.big_game))
    compile_s = time.perf_counter() - start
    all_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    counts: tuple[int | str, ...] = (1, all_threads) if all_threads > 1 else (1,)
    # The serial kernels on a copy of the game that is not marked large: the one-core baseline of
    # the code before the layered kernels existed.
    serial_game = dataclasses.replace(compiled)
    use_serial_kernels(serial_game)
    counts = ("serial", *counts)
    games = {k: (serial_game if k == "serial" else compiled) for k in counts}
    solvers = {k: CFR("cfr+", threads=1 if k == "serial" else int(k)) for k in counts}
    states = {k: solvers[k].init(games[k], np.random.default_rng(0)) for k in counts}
    for k in counts:
        solvers[k].step(games[k], states[k], 1)  # warm-up (numba cache load, scratch arrays)
    per_iter: dict[int | str, list[float]] = {k: [] for k in counts}
    per_eval: dict[int | str, list[float]] = {k: [] for k in counts}
    steps = max(1, cfg.big_iterations // cfg.rounds)
    expl: dict[int | str, float] = {}
    for _ in range(cfg.rounds):
        for k in counts:
            start = time.perf_counter()
            solvers[k].step(games[k], states[k], steps)
            per_iter[k].append((time.perf_counter() - start) / steps)
            policy = solvers[k].policy(games[k], states[k], solvers[k].output)
            with kernel_threads(solvers[k].threads):
                start = time.perf_counter()
                expl[k] = gamesolve.exploitability(games[k], policy)
                per_eval[k].append(time.perf_counter() - start)
    layered = [k for k in counts if k != "serial"]
    identical = (
        all(
            np.array_equal(states[k][key], states[1][key])
            for k in layered
            for key in ("regrets", "avg", "probs")
        )
        and len({expl[k] for k in layered}) == 1
    )
    gap = np.abs(states["serial"]["avg"] - states[1]["avg"]).max()
    serial_gap = float(gap / np.abs(states[1]["avg"]).max())
    ms = {str(k): statistics.median(per_iter[k]) * 1e3 for k in counts}
    ev = {str(k): statistics.median(per_eval[k]) * 1e3 for k in counts}
    top = str(counts[-1])
    return {
        "game": cfg.big_game,
        "nodes": compiled.num_nodes,
        "infosets": compiled.num_infosets,
        "compile_seconds": compile_s,
        "threads": [str(k) for k in counts],
        "cfr+_ms_per_iteration": ms,
        "evaluation_ms": ev,
        "cfr+_speedup_vs_one_thread": ms["1"] / ms[top],
        "cfr+_speedup_vs_serial_kernel": ms["serial"] / ms[top],
        "evaluation_speedup_vs_one_thread": ev["1"] / ev[top],
        "evaluation_speedup_vs_serial_kernel": ev["serial"] / ev[top],
        "bit_identical_across_threads": bool(identical),
        "serial_kernel_relative_gap": serial_gap,
        "iterations": 1 + steps * cfg.rounds,
        "exploitability": expl[1],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def plot(curve_data: dict[str, Any], path: str) -> None:
    """Exploitability against iterations and wall time, every curve on the same axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, data in curve_data.items():
        pts = [
            (i, t, e)
            for i, t, e in zip(data["iteration"], data["wall_time"], data["exploitability"], strict=True)
            if i > 0
        ]
        style = "k--" if label.startswith("openspiel") else "-"
        axes[0].loglog([p[0] for p in pts], [p[2] for p in pts], style, label=label)
        axes[1].loglog([p[1] for p in pts], [p[2] for p in pts], style, label=label)
    axes[0].set_xlabel("iterations")
    axes[1].set_xlabel("seconds (evaluation excluded)")
    for ax in axes:
        ax.set_ylabel("exploitability")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend()
    fig.suptitle("CFR family on Leduc poker: gamesolve vs OpenSpiel C++ CFR+")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(cfg: Config) -> dict[str, Any]:
    """Run every measurement, print the figures, write JSON and PNG; returns the result."""
    rows = [per_iteration(name, cfg) for name in cfg.games]
    startup = startup_times() if cfg.startup else {}
    curve_data = curves(cfg)
    big = big_game(cfg) if cfg.big_game else {}
    result = {
        "config": asdict(cfg),
        "versions": {
            "gamesolve": package_version("gamesolve"),
            "open_spiel": package_version("open_spiel"),
            "LiteEFG": LITEEFG_VERSION,
        },
        "per_iteration": rows,
        "startup": startup,
        "curves": curve_data,
        "big": big,
    }
    os.makedirs(cfg.out, exist_ok=True)
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result, indent=2))
    plot(curve_data, f"{cfg.out}/leduc_curves.png")

    print(f"{'game':<14}{'gamesolve CFR+ ms/it':>22}{'OpenSpiel C++ ms/it':>21}{'speedup':>9}"
          f"{'LiteEFG ms/it':>15}{'speedup':>9}")  # fmt: skip
    for r in rows:
        lite = r["liteefg_cfr+_ms_per_iteration"]
        lite_cols = f"{'-':>15}{'-':>9}"
        if lite is not None:
            lite_cols = f"{lite:>15.3f}{r['speedup_vs_liteefg']:>8.1f}x"
        print(
            f"{r['game']:<14}{r['gamesolve_cfr+_ms_per_iteration']:>22.4f}"
            f"{r['openspiel_cfr+_ms_per_iteration']:>21.2f}{r['speedup']:>8.0f}x{lite_cols}"
        )
    if LITEEFG is None:
        print(f"(LiteEFG columns empty: {LITEEFG_VERSION})")
    if startup:
        print(
            "\nstart-up, 'gamesolve solve kuhn_poker --solver cfr+ --iterations 1000' in a fresh process: "
            f"cold {startup['cold_seconds']:.2f} s, warm {startup['warm_seconds']:.2f} s / "
            f"{startup['warm_again_seconds']:.2f} s"
        )
    print(f"\nLeduc, time to exploitability <= {cfg.target:g} (evaluation excluded):")
    for label, data in curve_data.items():
        its, secs = data["iterations_to_target"], data["seconds_to_target"]
        shown = f"{its} iterations, {secs:.3f} s" if its is not None else "not reached"
        print(f"  {label:<16} {shown}   (final {data['exploitability'][-1]:.2e})")
    if big:
        top = big["threads"][-1]
        its, evs = big["cfr+_ms_per_iteration"], big["evaluation_ms"]
        print(
            f"\n{big['game']}: {big['nodes']:,} nodes, compiled in {big['compile_seconds']:.2f} s, "
            f"peak RSS {big['peak_rss_mib']:.0f} MiB"
        )
        print(f"  {'':<34}{'serial kernel':>14}{'layered, 1 thread':>19}{f'layered, {top} threads':>20}")
        print(f"  {'CFR+ ms per iteration':<34}{its['serial']:>14.1f}{its['1']:>19.1f}{its[top]:>20.1f}")
        print(f"  {'exact evaluation ms':<34}{evs['serial']:>14.1f}{evs['1']:>19.1f}{evs[top]:>20.1f}")
        print(
            f"  {top} threads: CFR+ {big['cfr+_speedup_vs_one_thread']:.2f}x one thread, "
            f"{big['cfr+_speedup_vs_serial_kernel']:.2f}x the serial kernel; evaluation "
            f"{big['evaluation_speedup_vs_one_thread']:.2f}x / "
            f"{big['evaluation_speedup_vs_serial_kernel']:.2f}x; bit-identical across thread counts: "
            f"{big['bit_identical_across_threads']}; serial kernel's average strategy within "
            f"{big['serial_kernel_relative_gap']:.1e} (relative); exploitability after "
            f"{big['iterations']} iterations {big['exploitability']:.3e}"
        )
    print(f"\nwrote {cfg.out}/result.json and {cfg.out}/leduc_curves.png")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=Config.rounds)
    parser.add_argument("--curve-iterations", type=int, default=Config.curve_iterations)
    parser.add_argument("--big-game", default=Config.big_game, help="'' to skip")
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    main(
        Config(
            rounds=ns.rounds,
            curve_iterations=ns.curve_iterations,
            big_game=ns.big_game,
            startup=not ns.no_startup,
            out=ns.out,
        )
    )
