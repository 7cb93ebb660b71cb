"""Reproduction: Balanced FTRL and Adaptive FTRL with trajectory feedback (Fiegel et al., ICML 2023).

On Kuhn and Leduc poker, every method learns from sampled episodes only: Balanced FTRL and
Adaptive FTRL (one episode per iteration) and outcome-sampling MCCFR (``"mccfr-os"``, two episodes
per iteration, one per update player, so its x-coordinate is ``2 x iterations``). We record the
exact NashConv of the average profile at log-spaced episode counts, averaged over a few seeds,
and fit the log-log slope over the last two decades; the claim (Fiegel et al. 2023, "Adapting to
game trees in zero-sum imperfect information games": ``O~(1/epsilon^2)`` episodes for an
``epsilon``-equilibrium) is that the NashConv of the average falls roughly like ``T^(-1/2)``.

As in the paper, the rate multiplier is grid-searched: ``eta = c`` and ``gamma = c *
gamma_ratio`` (multipliers of the theory scale ``sqrt(iota / (H A_X t))``), one run per ``c`` on a
separate seed at the full budget; the ``c`` with the smallest final NashConv is then run on the
evaluation seeds.

Run: ``python -m experiments.reproduce_trajectory_feedback`` (about 3 minutes); writes
``runs/reproduce_trajectory_feedback/`` (``result.json``, ``nashconv.png``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import gamesolve
from gamesolve.io import atomic_write_text
from gamesolve.solver import Iterate
from gamesolve.solvers.bandit_ftrl import AdaptiveFTRL, BalancedFTRL
from gamesolve.solvers.mccfr import OutcomeSamplingMCCFR


@dataclass
class Config:
    """What to run."""

    games: tuple[str, ...] = ("kuhn_poker", "leduc_poker")
    #: Episode budget per game. Leduc needs more: at 1e6 episodes the FTRL curves are still
    #: pre-asymptotic (slope about -0.23); 1e7 episodes take about 10 s per FTRL run.
    episodes: dict[str, int] = field(
        default_factory=lambda: {"kuhn_poker": 1_000_000, "leduc_poker": 10_000_000}
    )
    first_point: int = 1000
    points: int = 25
    seeds: tuple[int, ...] = (0, 1, 2)
    grid_seed: int = 1000
    multipliers: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0)
    gamma_ratio: float = 0.1
    methods: tuple[str, ...] = ("balanced-ftrl", "adaptive-ftrl", "mccfr-os")
    #: Slopes are fitted on episodes >= budget / fit_span.
    fit_span: float = 100.0
    out: str = "runs/reproduce_trajectory_feedback"


def make_solver(method: str, multiplier: float, cfg: Config) -> tuple[Any, int]:
    """The solver of one curve and its episodes per iteration."""
    if method == "balanced-ftrl":
        return BalancedFTRL(eta=multiplier, gamma=multiplier * cfg.gamma_ratio), 1
    if method == "adaptive-ftrl":
        return AdaptiveFTRL(eta=multiplier, gamma=multiplier * cfg.gamma_ratio), 1
    if method == "mccfr-os":
        return OutcomeSamplingMCCFR(), 2
    raise ValueError(f"unknown method {method!r}")


def curve(game: Any, method: str, multiplier: float, budget: int, seed: int, cfg: Config) -> dict[str, Any]:
    """NashConv of the average profile at log-spaced episode counts for one seed."""
    solver, per_iteration = make_solver(method, multiplier, cfg)
    marks = sorted({int(x) for x in np.geomspace(cfg.first_point, budget // per_iteration, cfg.points)})
    state = solver.init(game, np.random.default_rng(seed))
    done = 0
    seconds = 0.0
    values = []
    for mark in marks:
        start = time.perf_counter()
        solver.step(game, state, mark - done)
        seconds += time.perf_counter() - start
        done = mark
        values.append(gamesolve.nash_conv(game, solver.policy(game, state, Iterate.AVERAGE)).nash_conv)
    return {"episodes": [m * per_iteration for m in marks], "nash_conv": values, "seconds": seconds}


def slope(episodes: list[int], values: list[float], lowest: float) -> float:
    """Least-squares slope of log NashConv against log episodes on ``episodes >= lowest``."""
    x = np.asarray(episodes, dtype=float)
    y = np.asarray(values, dtype=float)
    keep = (x >= lowest) & (y > 0)
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def main(cfg: Config) -> dict[str, Any]:
    """Grid-search the multiplier, run every method on every game; write JSON and a PNG."""
    data: dict[str, Any] = {}
    for name in cfg.games:
        game = gamesolve.load_game(name).compile()
        budget = int(cfg.episodes[name])
        lowest = budget / cfg.fit_span
        per_game: dict[str, Any] = {}
        for method in cfg.methods:
            grid: dict[str, float] = {}
            chosen = 1.0
            if method != "mccfr-os":
                for c in cfg.multipliers:
                    run = curve(game, method, c, budget, cfg.grid_seed, cfg)
                    grid[repr(c)] = float(np.mean(run["nash_conv"][-3:]))
                chosen = min(cfg.multipliers, key=lambda c: grid[repr(c)])
            runs = [curve(game, method, chosen, budget, s, cfg) for s in cfg.seeds]
            mean = np.mean([r["nash_conv"] for r in runs], axis=0)
            episodes = runs[0]["episodes"]
            per_game[method] = {
                "multiplier": chosen if method != "mccfr-os" else None,
                "grid": grid,
                "episodes": episodes,
                "nash_conv_mean": mean.tolist(),
                "nash_conv_per_seed": [r["nash_conv"] for r in runs],
                "slope": slope(episodes, mean.tolist(), lowest),
                "final_nash_conv": float(mean[-1]),
                "seconds_per_run": float(np.mean([r["seconds"] for r in runs])),
            }
        data[name] = per_game
    result = {"config": asdict(cfg), "games": data}
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result, indent=1))
    plot(data, f"{cfg.out}/nashconv.png")
    for name, per_game in data.items():
        print(f"{name}: {cfg.episodes[name]:,} episodes, mean of {len(cfg.seeds)} seeds")
        for method, r in per_game.items():
            note = "" if r["multiplier"] is None else f" (multiplier {r['multiplier']:g})"
            print(
                f"  {method:<14} NashConv {r['final_nash_conv']:.4f}  slope {r['slope']:+.2f}"
                f"  {r['seconds_per_run']:.1f} s/run{note}"
            )
    print(f"wrote {cfg.out}/result.json and nashconv.png")
    return result


def plot(data: dict[str, Any], path: str) -> None:
    """One log-log panel per game with a T^(-1/2) reference line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(data), figsize=(6 * len(data), 4.5), squeeze=False)
    for ax, (name, per_game) in zip(axes[0], data.items(), strict=True):
        for k, (method, r) in enumerate(per_game.items()):
            x = np.asarray(r["episodes"], dtype=float)
            runs = np.asarray(r["nash_conv_per_seed"])
            label = method if r["multiplier"] is None else f"{method} (c={r['multiplier']:g})"
            ax.loglog(x, r["nash_conv_mean"], "-", color=f"C{k}", label=f"{label}, slope {r['slope']:+.2f}")
            ax.fill_between(x, runs.min(axis=0), runs.max(axis=0), color=f"C{k}", alpha=0.15)
        first = next(iter(per_game.values()))
        x0, y0 = float(first["episodes"][0]), float(first["nash_conv_mean"][0])
        xs = np.geomspace(x0, float(first["episodes"][-1]), 10)
        ax.loglog(xs, y0 * (xs / x0) ** -0.5, "k:", label="T^(-1/2) reference")
        ax.set_title(f"{name}: NashConv of the average (trajectory feedback)")
        ax.set_xlabel("episodes")
        ax.set_ylabel("NashConv")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=Config.out)
    parser.add_argument("--kuhn-episodes", type=int, default=1_000_000)
    parser.add_argument("--leduc-episodes", type=int, default=10_000_000)
    ns = parser.parse_args()
    main(
        Config(
            episodes={"kuhn_poker": ns.kuhn_episodes, "leduc_poker": ns.leduc_episodes},
            out=ns.out,
        )
    )
