"""Benchmark: one Nash equilibrium of N-player games, our logit homotopy against pygambit.

Measured in one run, on one machine (absolute times drift between runs; ratios are the figure):
seeded random 3- and 4-player games (payoffs uniform in ``[0, 1)``, every player ``n`` actions),
solved by :class:`gamesolve.solvers.homotopy.NashHomotopy` (principal logit branch, then an exact polish),
``pygambit.nash.logit_solve`` (the same branch, stopped at regret ``1e-8`` times the payoff range)
and ``pygambit.nash.gnm_solve`` (Govindan-Wilson global Newton method from Gambit's default
perturbation; it may return several equilibria). Every time is the median of ``repeats`` calls
after a warm-up; building pygambit's game object is excluded. Recorded per game: the times, the
ratios ``ours / peer``, each answer's NashConv, and the largest difference between our profile and
Gambit's logit limit (small unless the two tracers leave the branch differently).

Run: ``python -m experiments.bench_nplayer``. Writes ``runs/bench_nplayer/result.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version, timed
from gamesolve.games import normal_form as nf
from gamesolve.io import atomic_write_text
from gamesolve.normal_form import nash_conv
from gamesolve.solvers.homotopy import NashHomotopy


@dataclass
class Config:
    """What to measure: ``shapes`` are ``(players, actions)`` pairs."""

    shapes: tuple[tuple[int, int], ...] = ((3, 2), (3, 3), (3, 4), (3, 6), (4, 2), (4, 3))
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    repeats: int = 3
    time_limit: float = 60.0
    out: str = "runs/bench_nplayer"


def _strategies(profile: Any, players: Any) -> list[np.ndarray]:
    return [np.array([float(v) for _, v in profile[p]]) for p in players]


def bench_game(players: int, actions: int, seed: int, cfg: Config) -> dict[str, Any]:
    """Time the three solvers on one seeded random game."""
    import pygambit as gbt

    game = nf.random_uniform(np.random.default_rng([seed, players, actions]), [actions] * players)
    ours_seconds, ours = timed(
        lambda: gamesolve.solve(game, NashHomotopy(), time_limit=cfg.time_limit, progress=False),
        cfg.repeats,
    )
    row: dict[str, Any] = {
        "players": players,
        "actions": actions,
        "seed": seed,
        "ours_seconds": ours_seconds,
        "ours_converged": ours.converged,
        "ours_steps": ours.iterations,
        "ours_nash_conv": ours.nash_conv,
    }
    oracle = gbt.StrategicGame.from_arrays(*[np.asarray(p) for p in game.payoffs])
    logit_seconds, logit = timed(lambda: gbt.nash.logit_solve(oracle), cfg.repeats)
    row["logit_seconds"] = logit_seconds
    if logit.equilibrium is not None:
        theirs = _strategies(logit.equilibrium, oracle.players)
        row["logit_nash_conv"] = nash_conv(game, theirs).nash_conv
        row["max_difference"] = max(
            float(np.abs(a - b).max()) for a, b in zip(ours.policy, theirs, strict=True)
        )
    try:
        gnm_seconds, gnm = timed(lambda: gbt.nash.gnm_solve(oracle), cfg.repeats)
        row["gnm_seconds"] = gnm_seconds
        row["gnm_equilibria"] = len(gnm.equilibria)
        if gnm.equilibria:
            row["gnm_nash_conv"] = nash_conv(game, _strategies(gnm.equilibria[0], oracle.players)).nash_conv
    except Exception as exc:  # a peer failure is recorded, not fatal
        row["gnm_error"] = repr(exc)
    return row


def _ratio(row: dict[str, Any], key: str) -> str:
    peer = row.get(key)
    return f"{row['ours_seconds'] / peer:8.1f}" if peer else "       -"


def main(cfg: Config) -> dict[str, Any]:
    """Run the benchmark, print a table, write the JSON result and return it."""
    rows = [bench_game(p, n, s, cfg) for p, n in cfg.shapes for s in cfg.seeds]
    summary = []
    for p, n in cfg.shapes:
        mine = [r for r in rows if (r["players"], r["actions"]) == (p, n)]
        summary.append(
            {
                "players": p,
                "actions": n,
                "ours_median_seconds": statistics.median(r["ours_seconds"] for r in mine),
                "median_ratio_logit": statistics.median(r["ours_seconds"] / r["logit_seconds"] for r in mine),
                "median_ratio_gnm": statistics.median(
                    r["ours_seconds"] / r["gnm_seconds"] for r in mine if r.get("gnm_seconds")
                )
                if any(r.get("gnm_seconds") for r in mine)
                else None,
                "converged": sum(bool(r["ours_converged"]) for r in mine),
                "same_as_logit": sum(r.get("max_difference", 1.0) <= 1e-5 for r in mine),
                "games": len(mine),
            }
        )
    result = {
        "config": asdict(cfg),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "versions": {d: package_version(d) for d in ("numpy", "scipy", "pygambit")},
        "games": rows,
        "summary": summary,
    }
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result, indent=2))
    print("One equilibrium of random N-player games (ratio = our time / peer time)")
    print(
        f"{'game':<14}{'steps':>6}{'ours ms':>10}{'NashConv':>10}{'logit ms':>10}{'ratio':>8}"
        f"{'gnm ms':>9}{'ratio':>8}{'|ours-logit|':>14}"
    )
    for r in rows:
        name = f"{r['players']}p {r['actions']}^{r['players']} s{r['seed']}"
        gnm_ms = f"{r['gnm_seconds'] * 1e3:9.2f}" if r.get("gnm_seconds") else "        -"
        print(
            f"{name:<14}{r['ours_steps']:>6}{r['ours_seconds'] * 1e3:>10.1f}{r['ours_nash_conv']:>10.1e}"
            f"{r['logit_seconds'] * 1e3:>10.2f}{_ratio(r, 'logit_seconds')}{gnm_ms}{_ratio(r, 'gnm_seconds')}"
            f"{r.get('max_difference', float('nan')):>14.1e}"
        )
    print("\nmedians per shape")
    for s in summary:
        gnm = f"{s['median_ratio_gnm']:.1f}" if s["median_ratio_gnm"] is not None else "-"
        print(
            f"{s['players']}p {s['actions']} actions: ours {s['ours_median_seconds'] * 1e3:.1f} ms, "
            f"x{s['median_ratio_logit']:.1f} logit_solve, x{gnm} gnm_solve; converged "
            f"{s['converged']}/{s['games']}, same limit as Gambit {s['same_as_logit']}/{s['games']}"
        )
    print(f"\nwrote {cfg.out}/result.json")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=list(Config.seeds))
    parser.add_argument("--repeats", type=int, default=Config.repeats)
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    main(Config(seeds=tuple(ns.seeds), repeats=ns.repeats, out=ns.out))
