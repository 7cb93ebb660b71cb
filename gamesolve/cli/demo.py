"""The ``demo`` verb: the README's first command (solve Leduc poker, write a plot and JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gamesolve.cli.inspection import cmd_info
from gamesolve.cli.solve import run_solve

__all__ = ["add_parsers", "cmd_demo"]


def cmd_demo(args: argparse.Namespace) -> int:
    """Solve Leduc poker with DCFR, print the exploitability curve, write a plot and a JSON result."""
    name = args.game
    out = Path(args.out)
    print(f"== {name}: compiling the game tree")
    cmd_info(argparse.Namespace(game=name, json=None))
    print(f"\n== {name}: solving with {args.solver} to exploitability {args.target:g}")
    has_plot = True
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        has_plot = False
    solve_args = argparse.Namespace(
        game=name,
        solver=args.solver,
        set=None,
        iterations=args.iterations,
        time_limit=None,
        target_exploitability=args.target,
        eval_every=10,
        seed=0,
        json=str(out / "result.json"),
        policy_out=str(out / "policy.json"),
        plot=str(out / "exploitability.png") if has_plot else None,
        checkpoint=None,
        checkpoint_every=None,
        resume=None,
        overwrite=False,
        no_progress=False,
    )
    _, status = run_solve(solve_args)
    if not has_plot:
        print("(matplotlib is not installed, so no plot was written)")
    return status


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``demo`` command."""
    p = sub.add_parser("demo", help="the demonstration run by 'make demo': solve Leduc poker")
    p.add_argument("--game", default="leduc_poker", help="game string (default: leduc_poker)")
    p.add_argument("--solver", default="dcfr", help="solver (default: dcfr)")
    p.add_argument("--target", type=float, default=1e-4, help="target exploitability (default: 1e-4)")
    p.add_argument("--iterations", type=int, default=20000, help="iteration cap (default: 20000)")
    p.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    p.set_defaults(func=cmd_demo)
