"""Reproduction: PSRO with exact best responses on Leduc poker, per meta-solver, next to CFR+.

Runs :class:`gamesolve.solvers.psro.PSRO` (exact sequence-form best responses, exact meta-game) with the
meta-solvers of Lanctot et al. 2017 (Nash by LP = Double Oracle, uniform = fictitious self-play,
projected replicator dynamics with OpenSpiel's defaults, alpha-Rank marginals) plus the "anytime"
reporting meta-solver (each player's maximin mixture of its population against an unrestricted
opponent, trained with Nash; McAleer et al. 2022), and CFR+ through the same run loop. The left
panel shows the exact exploitability of each output mixture against PSRO iterations, the right
one against wall time (evaluation excluded) with CFR+ for scale.

The expected picture (Lanctot et al. 2017, "A unified game-theoretic approach to multiagent
reinforcement learning"; McAleer et al. 2022): Double Oracle's meta-Nash mixture falls from
the always-first-action start but not monotonically (a new restricted equilibrium can be more
exploitable); the anytime mixture is non-increasing by construction and lowest per iteration;
fictitious self-play improves slowly (about ``1/sqrt(t)``); PRD tracks Nash closely (it is a
smoothed Nash); alpha-Rank is not an equilibrium concept and stalls higher. CFR+ is orders of
magnitude faster per second of compute on a game this small: PSRO's strength is that each oracle
call can be an RL agent on games where CFR's full traversals are impossible.

Measured with the defaults (two loaded cores): exploitability 0.0044 after 300 Nash iterations
(below 0.1 from iteration 128; 21 s), 0.0068 after 200 anytime iterations (monotone, below 0.1
from 85; 44 s), 0.21 after 300 uniform iterations (4 s), 0.061 after 100 PRD iterations (30 s),
0.24 after 50 alpha-Rank iterations (40 s); CFR+ 8e-5 after 2000 iterations in 0.2 s.

Run: ``python -m experiments.reproduce_psro_leduc``; writes ``runs/reproduce_psro_leduc/``
(result.json, exploitability.png). About 2.5 minutes on two cores with the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version, save_figure
from gamesolve.io import atomic_write_text
from gamesolve.solvers.psro import PSRO


@dataclass
class Config:
    """What to run."""

    game: str = "leduc"
    #: PSRO iterations per meta-solver (alpha-Rank builds a dense chain over K^2 profiles and PRD
    #: integrates 10^5 steps per meta-solve, so they get fewer).
    iterations: dict[str, int] = field(
        default_factory=lambda: {"nash": 300, "anytime": 200, "uniform": 300, "prd": 100, "alpharank": 50}
    )
    prd_iterations: int = 100_000
    cfr_iterations: int = 2000
    cfr_eval_every: int = 10
    seed: int = 0
    out: str = "runs/reproduce_psro_leduc"


def run_psro(game: Any, meta_solver: str, cfg: Config) -> dict[str, Any]:
    """One PSRO run evaluated every iteration."""
    solver = PSRO(meta_solver=meta_solver, prd_iterations=cfg.prd_iterations)
    started = time.perf_counter()
    result = gamesolve.solve(
        game, solver, iterations=cfg.iterations[meta_solver], eval_every=1, seed=cfg.seed, progress=False
    )
    seconds = time.perf_counter() - started
    h = result.history
    expl = np.asarray(h.exploitability)
    below = {f"{t:g}": _first_below(h.iteration, expl, t) for t in (0.5, 0.1, 0.05, 0.01)}
    return {
        "iteration": list(h.iteration),
        "wall_time": list(h.wall_time),
        "exploitability": expl.tolist(),
        "final_exploitability": float(expl[-1]),
        "best_exploitability": float(expl.min()),
        "monotone": bool((np.diff(expl) <= 1e-12).all()),
        "first_iteration_below": below,
        "population_sizes": result.extras["population_sizes"],
        "psro_converged": result.extras["psro_converged"],
        "seconds_solving": result.wall_time,
        "seconds_total": seconds,
        "config": result.config,
    }


def run_cfr(game: Any, cfg: Config) -> dict[str, Any]:
    """CFR+ (average iterate) through the same run loop."""
    result = gamesolve.solve(
        game, "cfr+", iterations=cfg.cfr_iterations, eval_every=cfg.cfr_eval_every, progress=False
    )
    h = result.history
    expl = np.asarray(h.exploitability)
    return {
        "iteration": list(h.iteration),
        "wall_time": list(h.wall_time),
        "exploitability": expl.tolist(),
        "final_exploitability": float(expl[-1]),
        "first_iteration_below": {f"{t:g}": _first_below(h.iteration, expl, t) for t in (0.1, 0.01, 0.001)},
        "seconds_solving": result.wall_time,
    }


def _first_below(iterations: Any, expl: np.ndarray, threshold: float) -> int | None:
    hits = np.flatnonzero(expl < threshold)
    return int(iterations[hits[0]]) if hits.size else None


def main(cfg: Config) -> dict[str, Any]:
    """Run every meta-solver and CFR+; write JSON and a PNG; return the data."""
    game = gamesolve.as_compiled(gamesolve.load_game(cfg.game))
    curves: dict[str, Any] = {}
    for name in cfg.iterations:
        curves[name] = run_psro(game, name, cfg)
        c = curves[name]
        print(
            f"psro/{name:<10} {cfg.iterations[name]:>4} iterations: "
            f"exploitability {c['final_exploitability']:.4f} "
            f"(best {c['best_exploitability']:.4f}) in {c['seconds_solving']:.1f} s, "
            f"below 0.1 at {c['first_iteration_below']['0.1']}, monotone {c['monotone']}",
            flush=True,
        )
    cfr = run_cfr(game, cfg)
    print(
        f"cfr+        {cfg.cfr_iterations:>4} iterations: exploitability {cfr['final_exploitability']:.2e} "
        f"in {cfr['seconds_solving']:.2f} s, below 0.01 at {cfr['first_iteration_below']['0.01']}"
    )
    result = {
        "config": asdict(cfg),
        "environment": {
            "numpy": package_version("numpy"),
            "numba": package_version("numba"),
            "cpus": os.cpu_count(),
        },
        "psro": curves,
        "cfr+": cfr,
    }
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result))
    plot(curves, cfr, cfg, f"{cfg.out}/exploitability.png")
    print(f"wrote {cfg.out}/result.json and exploitability.png")
    return result


def plot(curves: dict[str, Any], cfr: dict[str, Any], cfg: Config, path: str) -> None:
    """Left: exploitability against PSRO iterations; right: against seconds, with CFR+."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for k, (name, c) in enumerate(curves.items()):
        expl = np.maximum(np.asarray(c["exploitability"]), 1e-16)
        axes[0].semilogy(c["iteration"], expl, color=f"C{k}", label=f"PSRO {name}")
        t = np.asarray(c["wall_time"])
        pos = t > 0
        axes[1].loglog(t[pos], expl[pos], color=f"C{k}", label=f"PSRO {name}")
    t = np.asarray(cfr["wall_time"])
    pos = t > 0
    cfr_expl = np.maximum(np.asarray(cfr["exploitability"]), 1e-16)
    axes[1].loglog(t[pos], cfr_expl[pos], "k--", label="CFR+ (average)")
    axes[0].set_xlabel("PSRO iterations (one exact best response per player each)")
    axes[1].set_xlabel("seconds (evaluation excluded)")
    for ax in axes:
        ax.set_ylabel("exploitability of the output")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"PSRO with exact oracles on {cfg.game}, per meta-solver; CFR+ for scale")
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every PSRO iteration budget")
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    base = Config()
    main(
        Config(
            iterations={k: max(1, round(v * ns.scale)) for k, v in base.iterations.items()},
            out=ns.out,
        )
    )
