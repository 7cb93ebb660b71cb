"""The runs behind ``gamesolve psro`` and ``gamesolve neupl``, without printing.

Each builds its solver by registry name from the parsed arguments (``--set`` options and the flags,
checked before any work), loads the game, runs :func:`gamesolve.solve` with a checkpoint folder
that a rerun resumes from, and summarizes the result as JSON; :mod:`gamesolve.cli` prints.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gamesolve.io import atomic_write_text, json_text
from gamesolve.registry import load_game, make_solver, parse_options
from gamesolve.results import SolveResult

__all__ = [
    "NEUPL_GRAPHS",
    "add_neupl_arguments",
    "neupl_summary",
    "psro_summary",
    "run_neupl_cli",
    "run_psro_cli",
]

#: The interaction graphs ``gamesolve neupl --graph`` offers (those of the ``neupl`` solver).
NEUPL_GRAPHS = ("psro-n", "fsp", "self-play", "cycle")


def _run(
    args: argparse.Namespace,
    solver_name: str,
    flags: dict[str, Any],
    file_name: str,
    summary: Callable[[SolveResult], dict[str, Any]],
) -> SolveResult:
    """Build ``solver_name`` from ``flags`` and ``--set``, run it on ``args.game``, checkpoint and resume.

    With ``args.checkpoint`` (a folder) the run writes ``file_name`` there after every iteration,
    resumes from it when it exists (unless ``args.overwrite``), and writes ``result.json`` at the end.
    """
    from gamesolve.run import solve

    options = parse_options(getattr(args, "set", None), flags=flags)
    solver = make_solver(solver_name, **flags, **options)  # unknown or bad options fail here, in one line
    game = load_game(args.game)
    checkpoint = resume = None
    folder = getattr(args, "checkpoint", None)
    overwrite = bool(getattr(args, "overwrite", False))
    if folder:
        checkpoint = Path(folder) / file_name
        resume = checkpoint if checkpoint.is_file() and not overwrite else None
    result = solve(
        game,
        solver,
        iterations=args.iterations,
        target_exploitability=getattr(args, "target_exploitability", None),
        eval_every=1,
        seed=getattr(args, "seed", 0),
        checkpoint=checkpoint,
        checkpoint_every=1 if checkpoint is not None else None,
        resume=resume,
        overwrite=overwrite,
        progress=None if not getattr(args, "no_progress", False) else False,
    )
    if folder:
        atomic_write_text(Path(folder) / "result.json", json_text(summary(result), indent=2))
    return result


def run_psro_cli(args: argparse.Namespace) -> SolveResult:
    """Run ``gamesolve psro GAME ...`` from parsed arguments (no printing; the CLI prints).

    Expects ``game``, ``oracle``, ``meta_solver``, ``training_meta_solver``, ``iterations``,
    ``target_exploitability``, ``episodes``, ``executor``, ``checkpoint`` (a folder: the run
    writes ``psro.npz`` there after every iteration and resumes from it when it exists, plus
    ``result.json`` at the end), ``seed``, ``set`` (``KEY=VALUE`` options) and ``no_progress``.
    """
    flags = {
        "oracle": args.oracle,
        "meta_solver": args.meta_solver,
        "training_meta_solver": getattr(args, "training_meta_solver", None),
        "episodes": getattr(args, "episodes", None),
        "executor": getattr(args, "executor", None) or "inprocess",
    }
    if getattr(args, "members", None):
        flags["members"] = args.members
    return _run(args, "psro", flags, "psro.npz", psro_summary)


def psro_summary(result: SolveResult) -> dict[str, Any]:
    """A JSON-ready summary of a PSRO result: the result without policies and member arrays."""
    out = {k: v for k, v in result.to_dict().items() if k not in ("population", "profile")}
    meta = result.extras.get("meta_game")  # a gamesolve.population.MetaGame
    if meta is not None:
        out["meta_game"] = {
            "payoffs": np.asarray(meta.payoffs).tolist(),
            "stderr": np.asarray(meta.stderr).tolist(),
            "names": [list(n) for n in meta.names],
        }
    return out


def add_neupl_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``gamesolve neupl GAME ...`` (the CLI adds ``--json`` and printing)."""
    parser.add_argument("game", help="game string: an extensive-form two-player zero-sum game, or rps-like")
    parser.add_argument(
        "--graph", default="psro-n", choices=NEUPL_GRAPHS, help="interaction graph (default psro-n)"
    )
    parser.add_argument("--policy", default="network", choices=("network", "tabular"))
    parser.add_argument(
        "--training", choices=("exact", "rl"), help="default: exact on a compiled game, rl on tensors"
    )
    parser.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "tree", "tensor"),
        help="compiled tree or batched tensors (default auto: tensors when the game does not compile)",
    )
    parser.add_argument(
        "--payoff-estimate",
        default="matches",
        choices=("matches", "learned"),
        help="on tensors, U from matches (default) or the learned payoff estimator phi",
    )
    parser.add_argument("--max-population", type=int, default=8, metavar="N", help="N_max (default 8)")
    parser.add_argument("--iterations", type=int, default=50, help="NeuPL iterations (default 50)")
    parser.add_argument("--target-exploitability", type=float, metavar="E", help="stop once reached")
    parser.add_argument(
        "--meta-episodes", type=int, metavar="K", help="estimate U from K matches per pair (default: exact)"
    )
    parser.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="solver option, e.g. --set episodes=512"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="write DIR/neupl.npz after every iteration (resumed from when present) and DIR/result.json",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run_neupl_cli(args: argparse.Namespace) -> SolveResult:
    """Run ``gamesolve neupl GAME ...`` from parsed arguments (no printing; the CLI prints).

    Expects the attributes added by :func:`add_neupl_arguments`.
    """
    flags = {
        "graph": args.graph,
        "policy": args.policy,
        "training": args.training,
        "backend": getattr(args, "backend", "auto"),
        "payoff_estimate": getattr(args, "payoff_estimate", "matches"),
        "max_population": args.max_population,
        "meta_episodes": getattr(args, "meta_episodes", None),
    }
    return _run(args, "neupl", flags, "neupl.npz", neupl_summary)


def neupl_summary(result: SolveResult) -> dict[str, Any]:
    """A JSON-ready summary of a NeuPL result: no policies; ``U``, ``Sigma`` and the mixture as lists."""
    skip = ("population", "members", "meta_game")
    light = dataclasses.replace(result, extras={k: v for k, v in result.extras.items() if k not in skip})
    out = {k: v for k, v in light.to_dict().items() if k != "profile"}
    meta = result.extras.get("meta_game")  # a gamesolve.population.MetaGame
    if meta is not None:
        out["meta_game_stderr"] = np.asarray(meta.stderr)[0].tolist()
    return out
