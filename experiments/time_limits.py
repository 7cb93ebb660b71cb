"""Study: does ``time_limit`` bound the wall clock of every solver, evaluation included?

For every registry solver that accepts a game from the list, one ``gamesolve.solve(game, solver,
time_limit=T)`` call is timed from the outside. The game is loaded and compiled before the clock
starts (the budget covers the solving: the solver's one-time setup excluded, iterations,
evaluations, checkpoints and the final report included). A call passes when it returns within
10% of ``T`` or within one second of it, whichever is larger; solvers that finish early
(converged, or an exact answer) pass trivially and are reported as such. A run stops only between
iterations, so a solver whose single iteration outlasts the budget (NeuPL on large games) is
reported with that iteration's time.

Run: ``python -m experiments.time_limits`` (``--limit 3 --games "leduc(ranks=13,suits=4)"`` for
the large case of the issue). Writes ``runs/time_limits/result.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import platform
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import gamesolve
from gamesolve.errors import UnsupportedGame
from gamesolve.io import atomic_write_text, json_text

log = logging.getLogger(__name__)

#: Solvers tried on every game (those that do not take a game are skipped).
SOLVERS = tuple(name for name, _ in gamesolve.available_solvers())


@dataclass
class Config:
    """What to measure."""

    games: tuple[str, ...] = ("leduc_poker", "rps", "soccer", "crowd_aversion")
    limit: float = 1.0
    out: str = "runs/time_limits"


def within(elapsed: float, limit: float) -> bool:
    """The acceptance rule: within 10% of the limit, or within one second of it."""
    return elapsed <= max(1.1 * limit, limit + 1.0)


def time_one(game: Any, solver: str, limit: float) -> dict[str, Any] | None:
    """One timed call, or ``None`` when the solver does not take this game."""
    try:
        algo = gamesolve.make_solver(solver, game=game)
        prepared = algo.prepare(game)
        algo.check(prepared.spec)
    except UnsupportedGame:
        return None
    start = time.perf_counter()
    result = gamesolve.solve(prepared, algo, time_limit=limit, progress=False)
    elapsed = time.perf_counter() - start
    stopped = "time limit" in result.message.lower()
    return {
        "solver": solver,
        "elapsed": elapsed,
        "iterations": result.iterations,
        "evaluations": len(result.history),
        "iterating_seconds": result.wall_time,
        "stopped_by_limit": stopped,
        "within": within(elapsed, limit),
        # A run can only stop between iterations: one iteration longer than the whole budget.
        "one_iteration_over_limit": result.iterations <= 1 and result.wall_time > limit,
        "message": result.message,
    }


def main(cfg: Config) -> dict[str, Any]:
    """Time every solver on every game; write and return the table."""
    rows = []
    for name in cfg.games:
        game = gamesolve.load_game(name)
        with contextlib.suppress(UnsupportedGame):  # normal-form, Markov, mean-field games as they are
            game = gamesolve.as_compiled(game)
        for solver in SOLVERS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row = time_one(game, solver, cfg.limit)
            if row is None:
                continue
            row["game"] = name
            rows.append(row)
            log.info("%s %s: %.2f s", name, solver, row["elapsed"])
    result = {
        "config": asdict(cfg),
        "machine": platform.platform(),
        "rows": rows,
        "all_within": all(r["within"] for r in rows),
        "worst_ratio": max((r["elapsed"] / cfg.limit for r in rows), default=0.0),
    }
    atomic_write_text(f"{cfg.out}/result.json", json_text(result, indent=2))
    return result


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=Config.limit)
    parser.add_argument("--games", nargs="+", default=list(Config.games))
    parser.add_argument("--out", default=Config.out)
    args = parser.parse_args()
    result = main(Config(games=tuple(args.games), limit=args.limit, out=args.out))
    print(f"{'game':<26} {'solver':<22} {'seconds':>8}  {'limit hit':<9} within")
    for r in result["rows"]:
        print(
            f"{r['game']:<26} {r['solver']:<22} {r['elapsed']:>8.2f}  "
            f"{'yes' if r['stopped_by_limit'] else 'no':<9} {'yes' if r['within'] else 'NO'}"
            + (
                f" (one iteration took {r['iterating_seconds']:.1f} s)"
                if r["one_iteration_over_limit"]
                else ""
            )
        )
    print(
        f"all within 10% (or 1 s): {result['all_within']}; worst elapsed / limit {result['worst_ratio']:.2f}"
    )


if __name__ == "__main__":
    _cli()
