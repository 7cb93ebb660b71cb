"""Benchmark: the CFR family on compiled games against OpenSpiel's C++ CFR solvers.

Measured in one run, on one machine (absolute times drift between runs; ratios are the figure):

1. Per-iteration time of our CFR+ and ``pyspiel.CFRPlusSolver`` on Leduc and Liar's Dice,
   interleaved over several rounds, median per iteration (ours runs its iterations in one kernel
   call, as :func:`gamesolve.solve` does between evaluations).
2. Start-up: ``gamesolve solve kuhn_poker --solver cfr+ --iterations 1000`` in a fresh process,
   with a cold numba cache (an empty cache folder) and then warm.
3. Wall time to Leduc exploitability <= ``target`` for every variant and for OpenSpiel's C++ CFR+
   (evaluation time excluded on both sides; both evaluated every ``eval_every`` iterations).
4. A generalized Leduc with millions of nodes: compile, 100 CFR+ iterations, peak memory.
5. A plot of exploitability against iterations and wall time, every variant plus OpenSpiel.

Run: ``python -m experiments.bench_cfr`` (or ``make bench``). Writes ``runs/bench_cfr/``.
"""

from __future__ import annotations

import argparse
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
from gamesolve.io import atomic_write_text
from gamesolve.solvers.cfr import CFR


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
    eval_every: int = 10
    big_game: str = "leduc(ranks=13,suits=4)"
    big_iterations: int = 100
    startup: bool = True
    out: str = "runs/bench_cfr"


def _defaults(cfg: Config) -> tuple[dict[str, int], dict[str, int]]:
    ours = cfg.our_iterations or {"leduc_poker": 500, "liars_dice": 20}
    theirs = cfg.openspiel_iterations or {"leduc_poker": 20, "liars_dice": 2}
    return ours, theirs


def per_iteration(name: str, cfg: Config) -> dict[str, Any]:
    """Interleaved per-iteration medians of our CFR+ and OpenSpiel's C++ CFR+."""
    import pyspiel

    ours_n, theirs_n = _defaults(cfg)
    game = gamesolve.load_game(name)
    compiled = gamesolve.as_compiled(game)
    solver = CFR("cfr+")
    state = solver.init(compiled, np.random.default_rng(0))
    solver.step(compiled, state, 1)  # warm-up (numba cache load)
    os_solver = pyspiel.CFRPlusSolver(game.pyspiel_game)
    os_solver.evaluate_and_update_policy()
    ours, theirs = [], []
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
    ours_ms = statistics.median(ours) * 1e3
    theirs_ms = statistics.median(theirs) * 1e3
    return {
        "game": name,
        "nodes": compiled.num_nodes,
        "gamesolve_cfr+_ms_per_iteration": ours_ms,
        "openspiel_cfr+_ms_per_iteration": theirs_ms,
        "speedup": theirs_ms / ours_ms,
        "rounds": cfg.rounds,
    }


def startup_times() -> dict[str, float]:
    """Seconds for the CLI to run 1000 CFR+ iterations on Kuhn in a fresh process."""
    cmd = [sys.executable, "-m", "gamesolve.cli", "solve", "kuhn_poker", "--solver", "cfr+"]
    cmd += ["--iterations", "1000", "--no-progress"]
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
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
    it, spent = 0, 0.0
    xs, ts, es = [], [], []
    reached_it = reached_s = None
    checkpoints = sorted({int(x) for x in np.geomspace(1, cfg.curve_iterations, 40)})
    for stop in checkpoints:
        start = time.perf_counter()
        while it < stop:
            os_solver.evaluate_and_update_policy()
            it += 1
        spent += time.perf_counter() - start
        value = pyspiel.exploitability(game.pyspiel_game, os_solver.average_policy())
        xs.append(it)
        ts.append(spent)
        es.append(value)
        if value <= cfg.target and reached_it is None:
            reached_it, reached_s = it, spent
            break
    out["openspiel cfr+"] = {
        "iteration": xs,
        "wall_time": ts,
        "exploitability": es,
        "iterations_to_target": reached_it,
        "seconds_to_target": reached_s,
        "note": "evaluated at log-spaced iterations; stops once the target is reached",
    }
    return out


def big_game(cfg: Config) -> dict[str, Any]:
    """Compile a large generalized Leduc and run CFR+ on it."""
    start = time.perf_counter()
    compiled = gamesolve.as_compiled(gamesolve.load_game(cfg.big_game))
    compile_s = time.perf_counter() - start
    solver = CFR("cfr+")
    state = solver.init(compiled, np.random.default_rng(0))
    solver.step(compiled, state, 1)
    start = time.perf_counter()
    solver.step(compiled, state, cfg.big_iterations)
    per_iter = (time.perf_counter() - start) / cfg.big_iterations
    expl = gamesolve.exploitability(compiled, solver.policy(compiled, state, solver.output))
    return {
        "game": cfg.big_game,
        "nodes": compiled.num_nodes,
        "infosets": compiled.num_infosets,
        "compile_seconds": compile_s,
        "cfr+_ms_per_iteration": per_iter * 1e3,
        "iterations": cfg.big_iterations + 1,
        "exploitability": expl,
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
        "per_iteration": rows,
        "startup": startup,
        "curves": curve_data,
        "big": big,
    }
    os.makedirs(cfg.out, exist_ok=True)
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result, indent=2))
    plot(curve_data, f"{cfg.out}/leduc_curves.png")

    print(f"{'game':<14}{'gamesolve CFR+ ms/it':>22}{'OpenSpiel C++ CFR+ ms/it':>26}{'speedup':>10}")
    for r in rows:
        print(
            f"{r['game']:<14}{r['gamesolve_cfr+_ms_per_iteration']:>22.4f}"
            f"{r['openspiel_cfr+_ms_per_iteration']:>26.2f}{r['speedup']:>9.0f}x"
        )
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
        print(
            f"\n{big['game']}: {big['nodes']:,} nodes, compiled in {big['compile_seconds']:.2f} s, "
            f"CFR+ {big['cfr+_ms_per_iteration']:.1f} ms per iteration, exploitability after "
            f"{big['iterations']} iterations {big['exploitability']:.3e}, "
            f"peak RSS {big['peak_rss_mib']:.0f} MiB"
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
