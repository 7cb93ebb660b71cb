"""Benchmark: the exact sequence-form LP on Leduc and on a ladder of generalized Leduc games.

Measured in one run, on one machine:

1. Sequence-form LP (``gamesolve.solvers.sequence_lp``; one ladder per HiGHS method, by default ``"auto"``:
   HiGHS's own choice below 10,000 sequences, interior point above) on Leduc and on generalized
   Leduc with more ranks (``leduc(ranks=R, suits=2)``, R = 3, 4, 5, ...), climbing until one solve
   takes longer than ``budget_seconds`` (60 s). For every rung: sequences per player, nonzeros of
   the payoff matrix, seconds to build the sequence form, seconds inside HiGHS, total solve
   seconds, the game value and the NashConv of the returned profile. The figure is the largest
   game solved within the budget. Each LP runs under a HiGHS time limit of ``hard_limit_seconds``
   so that the rung above the budget ends even when it would take much longer.
2. Time per iteration on Leduc relative to CFR+ (``per_iteration``) of the first-order methods
   (dilated OMD/FTRL/OMWU/MMD/mirror-prox/extragradient), PCFR+ and XFP: ``solver.step`` timed
   for any registered iterative solver name (target: first-order methods within 2x of CFR+).

Run: ``python -m experiments.bench_sequence_form``. Writes ``runs/bench_sequence_form/result.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import gamesolve
from gamesolve.errors import GamesolveError
from gamesolve.io import atomic_write_text
from gamesolve.sequence_form import sequence_form
from gamesolve.solvers.sequence_lp import solve_sequence_form_lp

log = logging.getLogger(__name__)


@dataclass
class Config:
    """What to measure."""

    ranks: tuple[int, ...] = tuple(range(3, 17))  # the ladder; stops at the first rung over budget
    suits: int = 2
    methods: tuple[str, ...] = ("auto",)  # one ladder per HiGHS method (add "highs", "highs-ipm")
    budget_seconds: float = 60.0
    hard_limit_seconds: float = 150.0
    per_iteration_solvers: tuple[str, ...] = (
        "cfr+",
        "pcfr+",
        "omd",
        "ftrl",
        "omwu",
        "mmd",
        "mirror-prox",
        "extragradient",
        "xfp",
    )
    per_iteration_game: str = "leduc"
    per_iteration_rounds: int = 5
    per_iteration_seconds: float = 0.5  # target length of one timed round per solver
    out: str = "runs/bench_sequence_form"


# ------------------------------------------------------------------------ 1. the LP ladder


def lp_rung(game_string: str, method: str, cfg: Config) -> dict[str, Any]:
    """Compile one game and solve it by the sequence-form LP; sizes and seconds."""
    start = time.perf_counter()
    compiled = gamesolve.as_compiled(gamesolve.load_game(game_string))
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    form = sequence_form(compiled)
    a0 = form.payoff_matrices[0]
    form_s = time.perf_counter() - start
    row: dict[str, Any] = {
        "game": game_string,
        "nodes": compiled.num_nodes,
        "infosets": compiled.num_infosets,
        "sequences": list(form.num_sequences),
        "total_sequences": int(sum(form.num_sequences)),
        "payoff_nonzeros": int(a0.nnz),
        "compile_seconds": compile_s,
        "sequence_form_seconds": form_s,
    }
    start = time.perf_counter()
    try:
        solution = solve_sequence_form_lp(compiled, method=method, time_limit=cfg.hard_limit_seconds)
    except GamesolveError as exc:
        row.update(solved=False, solve_seconds=time.perf_counter() - start, error=str(exc))
        return row
    row.update(
        solved=True,
        solve_seconds=time.perf_counter() - start,
        lp_seconds=solution.lp_seconds,
        lp_solves=solution.lp_solves,
        value=solution.value,
        nash_conv=solution.nash_conv,
    )
    return row


def lp_ladder(method: str, cfg: Config) -> dict[str, Any]:
    """Leduc, then more ranks until one solve exceeds the budget (or HiGHS's time limit)."""
    print(f"sequence-form LP ({method}), budget {cfg.budget_seconds:g} s per game:", flush=True)
    rows = []
    for ranks in cfg.ranks:
        row = lp_rung(f"leduc(ranks={ranks},suits={cfg.suits})", method, cfg)
        rows.append(row)
        log.info("%s", row)
        print(
            f"  {row['game']:<24} {row['total_sequences']:>7,} sequences  "
            + (
                f"{row['solve_seconds']:8.2f} s  value {row['value']:+.12f}  NashConv {row['nash_conv']:.1e}"
                if row["solved"]
                else f"not solved in {row['solve_seconds']:.0f} s: {row['error']}"
            ),
            flush=True,
        )
        if not row["solved"] or row["solve_seconds"] > cfg.budget_seconds:
            break
    within = [r for r in rows if r["solved"] and r["solve_seconds"] <= cfg.budget_seconds]
    largest = max(within, key=lambda r: r["total_sequences"]) if within else None
    return {
        "method": method,
        "rows": rows,
        "budget_seconds": cfg.budget_seconds,
        "largest_within_budget": largest,
        "first_over_budget": rows[-1] if rows and rows[-1] is not largest else None,
    }


# ==================================================================================================
# 2. Time per iteration relative to CFR+.
# Any registered iterative solver name works (Config.per_iteration_solvers).
# ==================================================================================================


def _make(name: str, game: Any) -> Any:
    return gamesolve.make_solver(name, game=game)


def per_iteration(solver_names: tuple[str, ...] | list[str], cfg: Config) -> dict[str, Any]:
    """Median milliseconds per ``solver.step`` iteration on one game, and the ratio to CFR+.

    Works for any iterative solver name known to :func:`gamesolve.make_solver`: the solver is
    prepared, checked and initialized exactly as :func:`gamesolve.solve` does, warmed up by one
    step (numba compilation and caches), then timed for ``cfg.per_iteration_rounds`` rounds of
    about ``cfg.per_iteration_seconds`` each, all solvers interleaved round by round so that drift
    of the machine affects them alike. Exact solvers (no ``step``) are skipped with a note.
    """
    names = list(dict.fromkeys(["cfr+", *solver_names]))  # CFR+ is the reference
    game = gamesolve.load_game(cfg.per_iteration_game)
    runs: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for name in names:
        solver = _make(name, game)
        if getattr(solver, "exact", False) or not callable(getattr(solver, "step", None)):
            skipped[name] = "exact solver (no step)"
            continue
        prepared = solver.prepare(game)
        solver.check(prepared.spec)
        state = solver.init(prepared, np.random.default_rng(0))
        start = time.perf_counter()
        solver.step(prepared, state, 1)  # warm-up
        first = time.perf_counter() - start
        start = time.perf_counter()
        solver.step(prepared, state, 1)
        once = max(time.perf_counter() - start, 1e-6)
        chunk = max(1, int(cfg.per_iteration_seconds / once))
        runs[name] = {"solver": solver, "game": prepared, "state": state, "chunk": chunk, "ms": []}
        runs[name]["warmup_seconds"] = first
    for _ in range(cfg.per_iteration_rounds):
        for run in runs.values():
            start = time.perf_counter()
            run["solver"].step(run["game"], run["state"], run["chunk"])
            run["ms"].append((time.perf_counter() - start) / run["chunk"] * 1e3)
    reference = statistics.median(runs["cfr+"]["ms"])
    rows = {}
    for name, run in runs.items():
        ms = statistics.median(run["ms"])
        rows[name] = {
            "ms_per_iteration": ms,
            "relative_to_cfr+": ms / reference,
            "iterations_per_round": run["chunk"],
            "rounds": cfg.per_iteration_rounds,
            "first_step_seconds": run["warmup_seconds"],
        }
    return {"game": cfg.per_iteration_game, "solvers": rows, "skipped": skipped}


# ------------------------------------------------------------------------------------ main


def main(cfg: Config) -> dict[str, Any]:
    """Run both measurements, print the figures, write JSON; returns the result."""
    ladders = {method: lp_ladder(method, cfg) for method in cfg.methods}
    timing = per_iteration(cfg.per_iteration_solvers, cfg)
    result = {"config": asdict(cfg), "lp_ladder": ladders, "per_iteration": timing}
    os.makedirs(cfg.out, exist_ok=True)
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result, indent=2))

    print()
    for method, ladder in ladders.items():
        largest = ladder["largest_within_budget"]
        if largest is None:
            print(f"{method}: nothing solved within {cfg.budget_seconds:g} s")
            continue
        over = ladder["first_over_budget"]
        print(
            f"{method}: largest solved within {cfg.budget_seconds:g} s: {largest['game']}, "
            f"{largest['total_sequences']:,} sequences ({largest['sequences'][0]:,} per player), "
            f"{largest['solve_seconds']:.1f} s"
            + (f"; next rung {over['game']} took {over['solve_seconds']:.1f} s" if over else "")
        )
    print(f"\ntime per iteration on {timing['game']} (median of {cfg.per_iteration_rounds} rounds):")
    for name, row in timing["solvers"].items():
        print(f"  {name:<12} {row['ms_per_iteration']:9.3f} ms   {row['relative_to_cfr+']:6.2f} x CFR+")
    for name, why in timing["skipped"].items():
        print(f"  {name:<12} skipped: {why}")
    print(f"\nwrote {cfg.out}/result.json")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-ranks", type=int, default=max(Config.ranks))
    parser.add_argument("--budget", type=float, default=Config.budget_seconds)
    parser.add_argument("--methods", nargs="+", default=list(Config.methods))
    parser.add_argument("--solvers", nargs="*", default=list(Config.per_iteration_solvers))
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    main(
        Config(
            ranks=tuple(range(3, ns.max_ranks + 1)),
            budget_seconds=ns.budget,
            methods=tuple(ns.methods),
            per_iteration_solvers=tuple(ns.solvers),
            out=ns.out,
        )
    )
