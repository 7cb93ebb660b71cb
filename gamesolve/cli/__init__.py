"""The ``gamesolve`` command line.

Verbs:

* ``gamesolve games`` - list the games that can be loaded.
* ``gamesolve info GAME`` - players, nodes, infosets, sequences, compile time and memory.
* ``gamesolve evaluate GAME --policy POLICY.json|uniform|first [--json OUT]`` - exact NashConv,
  exploitability and per-player values of a policy.
* ``gamesolve solve GAME --solver cfr+ --iterations N ...`` - run an iterative solver, print the
  exploitability curve, write JSON / policy / plot / checkpoints.
* ``gamesolve psro GAME ...`` / ``gamesolve neupl GAME ...`` - train a population, print its
  meta-strategy, checkpoint into a folder that a rerun resumes from.
* ``gamesolve tournament GAME --policies ...`` - play every pairing; ratings and a heatmap.
* ``gamesolve demo`` - the README's first command: solve Leduc poker and write a plot and JSON.

User errors (bad game names, bad policy files) print one line to stderr and exit with status 2.
Each group of verbs has its module (:mod:`~gamesolve.cli.inspection`, :mod:`~gamesolve.cli.solve`,
:mod:`~gamesolve.cli.population`, :mod:`~gamesolve.cli.demo`), which adds its own subcommands;
:mod:`~gamesolve.cli.common` holds what they share.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import gamesolve
from gamesolve.cli import demo, inspection, population, solve
from gamesolve.cli.common import EXIT_INTERRUPTED, EXIT_USER_ERROR, UserError
from gamesolve.errors import GamesolveError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gamesolve`` command."""
    parser = argparse.ArgumentParser(
        prog="gamesolve", description="Game-theoretic solving from the command line."
    )
    parser.add_argument("--version", action="version", version=f"gamesolve {gamesolve.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument(
        "--memory-budget",
        metavar="SIZE",
        help="memory the work may use, e.g. 8G, 512M or 75%% (default: half the machine's; "
        "also settable as GAMESOLVE_MEMORY_BUDGET); larger games are refused up front with an estimate",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for verbs in (inspection, solve, population, demo):
        verbs.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.memory_budget is not None:
            from gamesolve.budget import set_memory_budget

            set_memory_budget(args.memory_budget)
        return int(args.func(args))
    except (GamesolveError, UserError, OSError) as exc:
        print(f"gamesolve: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("gamesolve: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
