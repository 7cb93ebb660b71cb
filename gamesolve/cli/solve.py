"""The ``solve`` verb: run any registry solver, print the curve and the solution, write the outputs.

Outputs: ``--json`` (the result), ``--policy-out`` (the output policy), ``--plot`` (the
exploitability curve as a PNG, with matplotlib) and ``--checkpoint`` (resumed with ``--resume``).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import gamesolve
from gamesolve.cli.common import (
    UserError,
    check_outputs,
    json_output,
    parse_user_options,
    print_curve,
    require_matplotlib,
    run_status,
    user_errors,
    write_outputs,
)
from gamesolve.errors import GamesolveError
from gamesolve.io import atomic_write_text, atomic_write_with, json_text
from gamesolve.registry import solver_names

__all__ = ["add_parsers", "cmd_solve", "run_solve", "write_plot"]


def write_plot(result: gamesolve.SolveResult, path: str | Path) -> None:
    """Exploitability against iterations and wall time, as a PNG (needs matplotlib)."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = result.history
    keep = [i for i, it in enumerate(hist.iteration) if it > 0 and np.isfinite(hist.exploitability[i])]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ys = [max(hist.exploitability[i], 1e-16) for i in keep]
    axes[0].loglog([hist.iteration[i] for i in keep], ys, label=result.solver)
    axes[0].set_xlabel("iterations")
    axes[1].semilogy([hist.wall_time[i] for i in keep], ys, label=result.solver)
    axes[1].set_xlabel("seconds (evaluation excluded)")
    for ax in axes:
        ax.set_ylabel("exploitability")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"{result.solver} on {result.game}")
    fig.tight_layout()
    try:
        atomic_write_with(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"), what="--plot")
    finally:
        plt.close(fig)


def _policy_payload(result: gamesolve.SolveResult) -> str:
    if isinstance(result.policy, gamesolve.MarkovProfile):
        return result.policy.to_json()
    payload = result.to_dict().get("profile") or result.to_dict().get("distribution")
    return json_text({"profile": payload})


def _write_policy(result: gamesolve.SolveResult, path: str) -> None:
    neural = sys.modules.get("gamesolve.neural.policy")  # loaded only if the run made a network
    if isinstance(result.policy, gamesolve.TabularPolicy):
        result.policy.to_json(path)
    elif neural is not None and isinstance(result.policy, neural.NeuralPolicy):
        result.policy.save(path)  # weights + config + game, read back by gamesolve.load_policy
    else:
        atomic_write_text(path, _policy_payload(result), what="--policy-out")


def run_solve(args: argparse.Namespace) -> tuple[gamesolve.SolveResult, int]:
    """Run ``gamesolve solve`` and write its outputs; returns the result and the exit status.

    Every output path is checked before the game is loaded. If an output cannot be written after
    the run, the others are still written, the result is still printed, and the status is 1;
    after Ctrl-C it is 130.
    """
    if args.plot:
        require_matplotlib()
    check_outputs(
        {
            "--json": args.json,
            "--policy-out": args.policy_out,
            "--plot": args.plot,
            "--checkpoint": args.checkpoint,
        },
        inputs={"--resume": args.resume},
        may_replace_inputs={"--checkpoint"},  # continuing a run in place
    )
    if args.checkpoint_every is not None and not args.checkpoint:
        raise UserError("--checkpoint-every needs --checkpoint FILE")
    game = gamesolve.load_game(args.game)
    with user_errors():
        options = parse_user_options(args.set)
        if getattr(args, "log_dir", None):
            if "log_dir" in options:
                raise UserError("--set log_dir=... repeats the --log-dir flag; give it once, as --log-dir")
            options["log_dir"] = args.log_dir
        solver = gamesolve.make_solver(args.solver, game=game, **options)
    from gamesolve.solver import ExactSolver  # numba and the kernels: only once a run starts

    exact = isinstance(solver, ExactSolver)
    if exact:
        given = [
            flag
            for flag, value in (
                ("--iterations", args.iterations),
                ("--target-exploitability", args.target_exploitability),
                ("--eval-every", args.eval_every),
            )
            if value is not None
        ]
        if args.checkpoint or args.resume:
            raise UserError(
                f"{solver.name} answers in one call and keeps no state: drop --checkpoint / --resume"
            )
        if given:
            print(
                f"note: {solver.name} answers in one call; {', '.join(given)} does not apply", file=sys.stderr
            )
    elif (
        args.iterations is None
        and args.time_limit is None
        and args.target_exploitability is None
        and solver.default_iterations is None
    ):
        raise UserError("give --iterations, --time-limit or --target-exploitability")
    with user_errors():
        result = gamesolve.solve(
            game,
            solver,
            iterations=None if exact else args.iterations,
            time_limit=args.time_limit,
            target_exploitability=None if exact else args.target_exploitability,
            eval_every=None if exact else args.eval_every,
            seed=args.seed,
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            resume=args.resume,
            overwrite=getattr(args, "overwrite", False),
            progress=None if not args.no_progress else False,
        )
    if result.iterations > 1:
        print_curve(result)
    _print_solution(game, result)
    print(f"\n{result.solver} on {args.game}: {result.message}")
    print(f"iterations      {result.iterations}")
    print(f"wall time       {result.wall_time:.3f} s (evaluation excluded)")
    warm_up = float(result.extras.get("warm_up_seconds", 0.0))
    if warm_up >= 0.01:
        print(f"warm-up         {warm_up:.3f} s before the clock (kernels loaded, or compiled at first)")
    if math.isnan(result.exploitability):
        print("exploitability  not known (the game does not compile)")
        for key in ("win_rate_vs_uniform", "mean_return_vs_uniform"):
            if key in result.extras:
                print(f"{key.replace('_', ' '):<15} {float(result.extras[key]):.4f}")
    else:
        print(f"exploitability  {result.exploitability:.6e} (NashConv {result.nash_conv:.6e})")
    if isinstance(game, gamesolve.TabularMarkovGame):
        _print_markov_solution(game, result)
    elif len(result.value):
        print("values          " + ", ".join(f"{v:+.6f}" for v in result.value))
    failures = write_outputs(
        [
            json_output(args.json, result.to_dict()),
            ("--policy-out", args.policy_out, lambda p: _write_policy(result, p)),
            ("--plot", args.plot, lambda p: write_plot(result, p)),
        ]
    )
    return result, run_status(result, failures, count_failures=True)


def _print_markov_solution(game: gamesolve.TabularMarkovGame, result: gamesolve.SolveResult) -> None:
    """Player 0's value at the start and the strategies of the first states."""
    values = np.asarray(result.value)
    print(f"start value     {float(values @ game.initial):+.9f} (player 0, at the initial distribution)")
    shown = [s for s in range(game.num_states) if not game.terminal[s]][:8]
    print(f"{'state':<28} {'value':>12}  strategies (player 0 | player 1)")
    for s in shown:
        parts = []
        for p in range(game.num_players):
            probs = result.policy[p][s]
            parts.append(
                " ".join(f"{game.action_names[p][a]}:{q:.3f}" for a, q in enumerate(probs) if q > 5e-4)
            )
        print(f"{game.state_names[s]:<28} {values[s]:>+12.6f}  {' | '.join(parts)}")
    if game.num_states > len(shown):
        print(f"... {game.num_states - len(shown)} more states (--policy-out / --json for all)")


def _print_nash_subsets(names: Sequence[Sequence[str]], extras: dict[str, Any]) -> None:
    """Print a degenerate game's maximal Nash subsets with their extreme strategies.

    Any mixture of a subset's player-0 strategies against any mixture of its player-1 strategies
    is an equilibrium; the subsets are the maximal such sets.
    """
    strategies = extras["extreme_strategies"]

    def show(player: int, k: int) -> str:
        parts = [f"{names[player][a]}: {q:.6f}" for a, q in enumerate(strategies[player][k]) if q > 1e-9]
        return ", ".join(parts)

    subsets = extras["nash_subsets"]
    print(
        f"{len(extras['equilibria'])} extreme equilibria in {len(subsets)} maximal Nash subset(s): any "
        "mixture of a subset's player-0 strategies against any mixture of its player-1 strategies is "
        "an equilibrium"
    )
    for k, (rows, columns) in enumerate(subsets):
        print(f"subset {k + 1}:")
        for player, members in ((0, rows), (1, columns)):
            for index in members:
                print(f"  player {player}  {show(player, index)}")


def _print_solution(game: Any, result: gamesolve.SolveResult) -> None:
    """Print a normal-form solution: the profile (or joint distribution) with action names."""
    if not isinstance(game, gamesolve.TensorGame):
        try:  # OpenSpiel one-shot games read as normal-form games
            game = game.to_normal_form()
        except (AttributeError, GamesolveError):
            return
    names = game.action_names
    if isinstance(result.policy, gamesolve.MixedProfile) and result.extras.get("degenerate"):
        _print_nash_subsets(names, result.extras)
        return
    if isinstance(result.policy, gamesolve.MixedProfile):
        profiles = result.extras.get("equilibria") or [result.policy.to_lists()]
        for k, profile in enumerate(profiles):
            if len(profiles) > 1:
                print(f"equilibrium {k + 1}:")
            for p, strategy in enumerate(profile):
                parts = [f"{names[p][a]}: {q:.6f}" for a, q in enumerate(strategy) if q > 1e-9]
                print(f"player {p}  " + ", ".join(parts))
    else:
        dist = np.asarray(result.policy)
        print("joint distribution (nonzero entries):")
        for index in zip(*np.nonzero(dist > 1e-9), strict=True):
            label = ", ".join(names[p][a] for p, a in enumerate(index))
            print(f"  ({label}): {dist[index]:.6f}")


def cmd_solve(args: argparse.Namespace) -> int:
    """Solve a game (any solver); 0 on success, 1 if an output failed, 130 after Ctrl-C."""
    _, status = run_solve(args)
    return status


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``solve`` command."""
    p = sub.add_parser("solve", help="solve a game (CFR family, LPs, Shapley iteration, ...)")
    p.add_argument("game", help="game string")
    known = ", ".join(solver_names())
    p.add_argument("--solver", default="cfr+", help=f"one of: {known} (default: cfr+)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="solver option, e.g. --set alpha=2")
    p.add_argument("--iterations", type=int, help="iteration budget")
    p.add_argument(
        "--time-limit",
        type=float,
        metavar="S",
        help="seconds of solving allowed, evaluations included (loading the game is not counted)",
    )
    p.add_argument("--target-exploitability", type=float, metavar="E", help="stop once reached")
    p.add_argument("--eval-every", type=int, metavar="K", help="evaluate every K iterations")
    p.add_argument("--seed", type=int, default=0, help="seed (sampling solvers)")
    p.add_argument("--json", metavar="OUT", help="write the result (config, history) as JSON")
    p.add_argument(
        "--policy-out", metavar="POLICY", help="write the output policy (JSON; a network's one-file format)"
    )
    p.add_argument("--log-dir", metavar="DIR", help="write metric logs here, CSV (deep learners)")
    p.add_argument("--plot", metavar="PNG", help="write the exploitability curve as a PNG")
    p.add_argument(
        "--checkpoint", metavar="FILE", help="write a checkpoint here (at the end, and --checkpoint-every)"
    )
    p.add_argument("--checkpoint-every", type=int, metavar="K", help="iterations between checkpoints")
    p.add_argument("--resume", metavar="FILE", help="continue from a checkpoint")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing checkpoint (even of another run)"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_solve)
