"""The ``gamesolve`` command line.

Verbs:

* ``gamesolve games`` - list the games that can be loaded.
* ``gamesolve info GAME`` - players, nodes, infosets, sequences, compile time and memory.
* ``gamesolve evaluate GAME --policy POLICY.json|uniform|first [--json OUT]`` - exact NashConv,
  exploitability and per-player values of a policy.
* ``gamesolve solve GAME --solver cfr+ --iterations N ...`` - run an iterative solver, print the
  exploitability curve, write JSON / policy / plot / checkpoints.
* ``gamesolve demo`` - the README's first command: solve Leduc poker and write a plot and JSON.

User errors (bad game names, bad policy files) print one line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import gamesolve
from gamesolve.errors import GamesolveError, OutputPathError
from gamesolve.io import atomic_write_text, atomic_write_with, check_output_paths, json_text
from gamesolve.registry import parse_options, solver_names
from gamesolve.solver import ExactSolver

__all__ = ["main"]

EXIT_USER_ERROR = 2
EXIT_OUTPUT_FAILED = 1
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """A problem with what the user typed; reported in one line."""


def _load_policy(compiled: gamesolve.CompiledGame, spec: str) -> gamesolve.TabularPolicy:
    if spec == "uniform":
        return gamesolve.TabularPolicy.uniform(compiled)
    if spec == "first":
        return gamesolve.TabularPolicy.first_action(compiled)
    _require_existing(spec, "policy file")
    return gamesolve.TabularPolicy.from_json(compiled, spec)


def _require_existing(spec: str, what: str) -> None:
    """A policy argument that is neither a keyword nor an existing path: say what else it may be."""
    if not os.path.lexists(spec):
        raise UserError(f"{what} {spec!r} does not exist (or use 'uniform' / 'first')")


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


def cmd_games(args: argparse.Namespace) -> int:
    """Print every loadable game."""
    rows = gamesolve.available_games(include_openspiel=not args.native_only)
    width = max(len(name) for name, _ in rows)
    print("Native games (parameters in the game string, e.g. leduc(ranks=13,suits=4)):")
    for name, desc in rows:
        if desc != "OpenSpiel":
            print(f"  {name:<{width}}  {desc}")
    openspiel = [name for name, desc in rows if desc == "OpenSpiel"]
    if openspiel:
        print("\nOpenSpiel games with explicit chance and infoset strings (any game string works):")
        line = "  "
        for name in openspiel:
            if len(line) + len(name) + 2 > 100:
                print(line.rstrip())
                line = "  "
            line += name + ", "
        print(line.rstrip(", "))
    return 0


def _normal_form_info(name: str, game: gamesolve.TensorGame, seconds: float) -> dict[str, Any]:
    return {
        "game": name,
        "kind": "normal_form",
        "players": game.num_players,
        "utility": game.spec.utility.value,
        "actions": list(game.num_actions),
        "action_names": [list(a) for a in game.action_names],
        "load_seconds": seconds,
    }


def _markov_info(name: str, game: gamesolve.TabularMarkovGame, seconds: float) -> dict[str, Any]:
    return {
        "game": name,
        "kind": "markov",
        "players": game.num_players,
        "utility": game.spec.utility.value,
        "states": game.num_states,
        "terminal_states": int(game.terminal.sum()),
        "actions": list(game.num_actions),
        "transitions": int(game.transition_matrix.nnz),
        "discount": game.discount,
        "load_seconds": seconds,
    }


def info_dict(name: str) -> dict[str, Any]:
    """Size figures of a game, as printed by ``gamesolve info``."""
    start = time.perf_counter()
    game = gamesolve.load_game(name)
    if isinstance(game, gamesolve.TensorGame):
        return _normal_form_info(name, game, time.perf_counter() - start)
    if isinstance(game, gamesolve.TabularMarkovGame):
        return _markov_info(name, game, time.perf_counter() - start)
    compiled = gamesolve.as_compiled(game)
    seconds = time.perf_counter() - start
    spec = compiled.spec
    return {
        "game": name,
        "kind": "extensive_form",
        "players": spec.num_players,
        "utility": spec.utility.value,
        "chance": spec.has_chance,
        "nodes": compiled.num_nodes,
        "decision_nodes": compiled.num_decision_nodes,
        "chance_nodes": compiled.num_chance_nodes,
        "terminal_nodes": compiled.num_terminals,
        "infosets": compiled.num_infosets,
        "infosets_per_player": [len(compiled.infosets_of(p)) for p in range(spec.num_players)],
        "sequences_per_player": [int(s) for s in compiled.num_sequences],
        "max_actions": compiled.max_actions,
        "compile_seconds": seconds,
        "memory_bytes": compiled.nbytes,
        "bytes_per_node": compiled.nbytes / max(compiled.num_nodes, 1),
    }


def cmd_info(args: argparse.Namespace) -> int:
    """Print size figures of a game."""
    check_outputs({"--json": args.json})
    info = info_dict(args.game)
    if args.json:
        atomic_write_text(args.json, json_text(info, indent=2), what="--json")
    if info["kind"] == "markov":
        print(f"game            {info['game']} (Markov game)")
        print(f"players         {info['players']} ({info['utility'].replace('_', '-')})")
        print(f"states          {info['states']:,} ({info['terminal_states']:,} terminal)")
        print(f"actions         {' x '.join(map(str, info['actions']))} per state")
        print(f"transitions     {info['transitions']:,} nonzero probabilities")
        print(f"discount        {info['discount']:g}")
        return 0
    if info["kind"] == "normal_form":
        print(f"game            {info['game']} (normal form)")
        print(f"players         {info['players']} ({info['utility'].replace('_', '-')})")
        for p, names in enumerate(info["action_names"]):
            print(
                f"player {p} actions {len(names)}: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}"
            )
        return 0
    print(f"game            {info['game']}")
    print(
        f"players         {info['players']} ({info['utility'].replace('_', '-')}, chance: {info['chance']})"
    )
    print(
        f"nodes           {info['nodes']:,} ({info['decision_nodes']:,} decision, "
        f"{info['chance_nodes']:,} chance, {info['terminal_nodes']:,} terminal)"
    )
    per = ", ".join(f"{n:,}" for n in info["infosets_per_player"])
    print(f"infosets        {info['infosets']:,} (per player: {per})")
    print(f"sequences       {', '.join(f'{n:,}' for n in info['sequences_per_player'])} (per player)")
    print(f"max actions     {info['max_actions']}")
    print(f"load + compile  {info['compile_seconds']:.3f} s")
    print(f"memory          {_fmt_bytes(info['memory_bytes'])} ({info['bytes_per_node']:.1f} bytes per node)")
    return 0


def _load_profile(game: gamesolve.TensorGame, spec: str) -> gamesolve.MixedProfile:
    if spec == "uniform":
        return gamesolve.MixedProfile.uniform(game)
    if spec == "first":
        return gamesolve.MixedProfile.pure(game, [0] * game.num_players)
    _require_existing(spec, "profile file")
    return gamesolve.MixedProfile.from_json(game, spec)


def _evaluate_markov(name: str, game: gamesolve.TabularMarkovGame, spec: str) -> dict[str, Any]:
    if spec == "uniform":
        profile = gamesolve.MarkovProfile.uniform(game)
    elif spec == "first":
        profile = gamesolve.MarkovProfile.of(
            game, [np.eye(n)[np.zeros(game.num_states, dtype=int)] for n in game.num_actions]
        )
    else:
        _require_existing(spec, "policy file")
        profile = gamesolve.MarkovProfile.from_file(game, spec)
    start = time.perf_counter()
    report = gamesolve.nash_conv(game, profile)
    seconds = time.perf_counter() - start
    start_br = report.best_response_values @ game.initial
    return {
        "game": name,
        "policy": spec,
        "nash_conv": report.nash_conv,
        "exploitability": report.exploitability,
        "on_policy_values": list(report.on_policy_values),
        "best_response_values": [float(v) for v in start_br],
        "state_values": report.values.tolist(),
        "state_nash_conv": report.state_nash_conv.tolist(),
        "seconds": seconds,
    }


def evaluate_dict(name: str, policy_spec: str) -> dict[str, Any]:
    """Exact evaluation of a policy, as printed by ``gamesolve evaluate``."""
    game = gamesolve.load_game(name)
    if isinstance(game, gamesolve.TensorGame):
        profile = _load_profile(game, policy_spec)
        start = time.perf_counter()
        nf_report = gamesolve.nash_conv(game, profile)
        seconds = time.perf_counter() - start
        return {"game": name, "policy": policy_spec, **nf_report.to_dict(), "seconds": seconds}
    if isinstance(game, gamesolve.TabularMarkovGame):
        return _evaluate_markov(name, game, policy_spec)
    compiled = gamesolve.as_compiled(game)
    policy = _load_policy(compiled, policy_spec)
    start = time.perf_counter()
    report = gamesolve.nash_conv(compiled, policy)
    seconds = time.perf_counter() - start
    return {"game": name, "policy": policy_spec, **report.to_dict(), "seconds": seconds}


def _print_bound(result: dict[str, Any]) -> None:
    print(f"game            {result['game']}")
    print(f"policy          {result['policy']}")
    print(result["text"])
    print("player  value          response value       gain (lower bound on the best-response gain)")
    rows = zip(result["on_policy_values"], result["response_values"], result["gain_stderr"], strict=True)
    for p, (v, b, s) in enumerate(rows):
        err = f" +- {s:.3g}" if s > 0 else ""
        print(f"{p:<7} {v:<+14.9f} {b:<+20.9f} {b - v:.9f}{err}")
    print(f"computed in     {result['seconds']:.2f} s")


def bound_dict(args: argparse.Namespace) -> dict[str, Any]:
    """A lower bound on NashConv (``gamesolve evaluate --bound rl|lbr``)."""
    from gamesolve.lower_bounds import lbr_exploitability_bound, rl_exploitability_bound

    compiled = gamesolve.as_compiled(gamesolve.load_game(args.game))
    policy = _load_policy(compiled, args.policy)
    if args.bound == "lbr":
        rollout: Any = int(args.rollout) if args.rollout.lstrip("-").isdigit() else args.rollout
        bound = lbr_exploitability_bound(compiled, policy, rollout=rollout)
    else:
        bound = rl_exploitability_bound(
            compiled, policy, oracle=args.oracle, steps=args.steps, episodes=args.episodes, seed=args.seed
        )
    return {"game": args.game, "policy": args.policy, **bound.to_dict(), "text": str(bound)}


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print NashConv, exploitability and per-player values of a policy (or a lower bound)."""
    check_outputs({"--json": args.json}, inputs={"--policy": args.policy})
    if args.bound:
        bound = bound_dict(args)
        _print_bound(bound)
        failures = write_outputs(
            [("--json", args.json, lambda p: atomic_write_text(p, json_text(bound, indent=2), what="--json"))]
        )
        return EXIT_OUTPUT_FAILED if failures else 0
    result = evaluate_dict(args.game, args.policy)
    _print_evaluation(result)
    failures = write_outputs(
        [("--json", args.json, lambda p: atomic_write_text(p, json_text(result, indent=2), what="--json"))]
    )
    return EXIT_OUTPUT_FAILED if failures else 0


def _print_evaluation(result: dict[str, Any]) -> None:
    print(f"game            {result['game']}")
    print(f"policy          {result['policy']}")
    print(f"NashConv        {result['nash_conv']:.10g}")
    print(f"exploitability  {result['exploitability']:.10g}")
    print("player  value          best-response value  gain")
    for p, (v, b) in enumerate(zip(result["on_policy_values"], result["best_response_values"], strict=True)):
        print(f"{p:<7} {v:<+14.9f} {b:<+20.9f} {b - v:.9f}")
    print(f"evaluated in    {result['seconds'] * 1e3:.2f} ms")


def _parse_options(items: Sequence[str] | None) -> dict[str, Any]:
    try:
        return parse_options(list(items or ()))
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _print_curve(result: gamesolve.SolveResult, rows: int = 15) -> None:
    hist = result.history
    n = len(hist)
    if n == 0:
        return
    picks = sorted({round(x) for x in np.geomspace(1, n, num=min(rows, n))} | {n})
    print(f"{'iteration':>10}  {'seconds':>9}  {'exploitability':>14}")
    for k in picks:
        i = k - 1
        print(f"{hist.iteration[i]:>10}  {hist.wall_time[i]:>9.3f}  {hist.exploitability[i]:>14.6e}")


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install 'gamesolve[plot]'") from None


def write_plot(result: gamesolve.SolveResult, path: str | Path) -> None:
    """Exploitability against iterations and wall time, as a PNG (needs matplotlib)."""
    _require_matplotlib()
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


def check_outputs(
    outputs: dict[str, str | None],
    *,
    inputs: dict[str, str | None] | None = None,
    may_replace_inputs: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Check every output path before any work; outputs must differ from each other and the inputs.

    Raises:
        OutputPathError: A path that cannot be written, or two that collide.
    """
    targets = check_output_paths(outputs)
    for what, path in (inputs or {}).items():
        if path is None:
            continue
        source = Path(os.path.realpath(path))
        for out, target in targets.items():
            if target == source and out not in may_replace_inputs:
                raise OutputPathError(
                    f"{out} {outputs[out]!r} would overwrite the {what} file; give another path"
                )


def write_outputs(writers: list[tuple[str, str | None, Callable[[str], Any]]]) -> list[str]:
    """Write every output even if one fails; returns the one-line failures (also printed).

    Args:
        writers: ``(what, path, write)`` triples; entries with no path are skipped.
    """
    failures = []
    for what, path, write in writers:
        if path is None:
            continue
        try:
            write(path)
        except (OSError, GamesolveError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            failures.append(f"could not write {what} {path!r}: {reason}")
            print(f"gamesolve: error: {failures[-1]}", file=sys.stderr)
        else:
            print(f"wrote {path}")
    return failures


def _policy_payload(result: gamesolve.SolveResult) -> str:
    if isinstance(result.policy, gamesolve.MarkovProfile):
        return result.policy.to_json()
    payload = result.to_dict().get("profile") or result.to_dict().get("distribution")
    return json_text({"profile": payload})


def _write_policy(result: gamesolve.SolveResult, path: str) -> None:
    if isinstance(result.policy, gamesolve.TabularPolicy):
        result.policy.to_json(path)
    else:
        atomic_write_text(path, _policy_payload(result), what="--policy-out")


def run_solve(args: argparse.Namespace) -> tuple[gamesolve.SolveResult, int]:
    """Run ``gamesolve solve`` and write its outputs; returns the result and the exit status.

    Every output path is checked before the game is loaded. If an output cannot be written after
    the run, the others are still written, the result is still printed, and the status is 1;
    after Ctrl-C it is 130.
    """
    if args.plot:
        _require_matplotlib()
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
    try:
        solver = gamesolve.make_solver(args.solver, game=game, **_parse_options(args.set))
    except ValueError as exc:
        if isinstance(exc, GamesolveError):
            raise
        raise UserError(str(exc)) from None
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
    time_limit = args.time_limit
    try:
        result = gamesolve.solve(
            game,
            solver,
            iterations=None if exact else args.iterations,
            time_limit=time_limit,
            target_exploitability=None if exact else args.target_exploitability,
            eval_every=None if exact else args.eval_every,
            seed=args.seed,
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            resume=args.resume,
            overwrite=getattr(args, "overwrite", False),
            progress=None if not args.no_progress else False,
        )
    except ValueError as exc:
        if isinstance(exc, GamesolveError):
            raise
        raise UserError(str(exc)) from None
    if result.iterations > 1:
        _print_curve(result)
    _print_solution(game, result)
    print(f"\n{result.solver} on {args.game}: {result.message}")
    print(f"iterations      {result.iterations}")
    print(f"wall time       {result.wall_time:.3f} s (evaluation excluded)")
    print(f"exploitability  {result.exploitability:.6e} (NashConv {result.nash_conv:.6e})")
    if isinstance(game, gamesolve.TabularMarkovGame):
        _print_markov_solution(game, result)
    else:
        print("values          " + ", ".join(f"{v:+.6f}" for v in result.value))
    failures = write_outputs(
        [
            (
                "--json",
                args.json,
                lambda p: atomic_write_text(p, json_text(result.to_dict(), indent=2), what="--json"),
            ),
            ("--policy-out", args.policy_out, lambda p: _write_policy(result, p)),
            ("--plot", args.plot, lambda p: write_plot(result, p)),
        ]
    )
    if "checkpoint_error" in result.extras:
        failures.append(str(result.extras["checkpoint_error"]))
        print(f"gamesolve: error: {result.extras['checkpoint_error']}", file=sys.stderr)
    if failures:
        print(
            f"gamesolve: {len(failures)} output(s) failed; the result above is complete "
            "(rerun with other paths to save it)",
            file=sys.stderr,
        )
    if result.interrupted:
        return result, EXIT_INTERRUPTED
    return result, (EXIT_OUTPUT_FAILED if failures else 0)


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


def _check_checkpoint_folder(folder: str | None, file_name: str) -> None:
    """A ``--checkpoint DIR`` of psro / neupl must be a folder (or not exist yet) that can be written."""
    if not folder:
        return
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise UserError(f"--checkpoint expects a folder, got the file {folder!r}")
    check_outputs({"--checkpoint": str(path / file_name)})


def _status(result: gamesolve.SolveResult, failures: list[str]) -> int:
    """The exit status of a finished run: 130 after Ctrl-C, 1 if an output failed, else 0."""
    if "checkpoint_error" in result.extras:
        print(f"gamesolve: error: {result.extras['checkpoint_error']}", file=sys.stderr)
        failures = [*failures, str(result.extras["checkpoint_error"])]
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OUTPUT_FAILED if failures else 0


def cmd_psro(args: argparse.Namespace) -> int:
    """Run PSRO and print the exploitability curve, the population and the output's figures."""
    from gamesolve.population_cli import psro_summary as result_summary
    from gamesolve.population_cli import run_psro_cli

    _check_checkpoint_folder(args.checkpoint, "psro.npz")
    check_outputs({"--json": args.json})
    try:
        result = run_psro_cli(args)
    except ValueError as exc:
        if isinstance(exc, GamesolveError):
            raise
        raise UserError(str(exc)) from None
    _print_curve(result)
    sizes = " x ".join(str(k) for k in result.extras["population_sizes"])
    print(
        f"\npsro ({result.config['meta_solver']}, oracle {result.config['oracle']}) on {args.game}: "
        f"{result.message}"
    )
    print(f"iterations      {result.iterations}")
    print(
        f"population      {sizes}"
        + ("  (converged: no response improves)" if result.extras["psro_converged"] else "")
    )
    print(f"wall time       {result.wall_time:.3f} s (evaluation excluded)")
    print(f"exploitability  {result.exploitability:.6e} (NashConv {result.nash_conv:.6e})")
    print("values          " + ", ".join(f"{v:+.6f}" for v in result.value))
    for p, weights in enumerate(result.extras["meta_strategy"]):
        top = np.argsort(-np.asarray(weights))[:5]
        print(f"meta-strategy {p} " + ", ".join(f"#{k}: {weights[k]:.3f}" for k in top if weights[k] > 1e-9))
    failures = write_outputs(
        [
            (
                "--json",
                args.json,
                lambda p: atomic_write_text(p, json_text(result_summary(result), indent=2), what="--json"),
            )
        ]
    )
    if args.checkpoint:
        print(f"checkpoint      {Path(args.checkpoint) / 'psro.npz'} (rerun the command to continue)")
    return _status(result, failures)


def cmd_neupl(args: argparse.Namespace) -> int:
    """Run NeuPL on a symmetric two-player zero-sum game."""
    from gamesolve.population_cli import neupl_summary as result_summary
    from gamesolve.population_cli import run_neupl_cli

    _check_checkpoint_folder(getattr(args, "checkpoint", None), "neupl.npz")
    check_outputs({"--json": args.json})
    try:
        result = run_neupl_cli(args)
    except ValueError as exc:
        if isinstance(exc, GamesolveError):
            raise
        raise UserError(str(exc)) from None
    _print_curve(result)
    print(f"\nneupl on {args.game}: {result.message}")
    print(
        f"population      {result.extras['population_size']} of {args.max_population} "
        f"(joined at iterations {result.extras['joined']})"
    )
    print(
        f"exploitability  {result.exploitability:.6e} "
        f"(Nash mixture of the population; NashConv {result.nash_conv:.6e})"
    )
    print("meta-strategy   " + ", ".join(f"{w:.3f}" for w in result.extras["meta_strategy"]))
    if args.training == "rl":
        print(f"env steps       {result.extras['env_steps']:,}")
    failures = write_outputs(
        [
            (
                "--json",
                args.json,
                lambda p: atomic_write_text(p, json_text(result_summary(result), indent=2), what="--json"),
            )
        ]
    )
    return _status(result, failures)


def cmd_tournament(args: argparse.Namespace) -> int:
    """Play every pairing of the given policies; print ratings, write a heatmap."""
    if args.heatmap:
        _require_matplotlib()
    check_outputs({"--json": args.json, "--heatmap": args.heatmap})
    game = gamesolve.load_game(args.game)
    if len(args.policies) < 2:
        raise UserError("--policies needs at least two policies (files, 'uniform' or 'first')")
    compiled = gamesolve.as_compiled(game)
    names = [Path(p).stem if Path(p).is_file() else p for p in args.policies]
    if len(set(names)) != len(names):
        names = [f"{k}:{n}" for k, n in enumerate(names)]
    policies = {n: _load_policy(compiled, spec) for n, spec in zip(names, args.policies, strict=True)}
    try:
        meta = gamesolve.tournament(
            compiled,
            policies,
            episodes=args.episodes,
            seed=args.seed,
            executor=args.executor,
            address=args.address,
            progress=None if not args.no_progress else False,
        )
    except ValueError as exc:
        if isinstance(exc, GamesolveError):
            raise
        raise UserError(str(exc)) from None
    how = "exact expected values" if meta.exact else f"{args.episodes:,} sampled episodes per pairing"
    print(f"tournament on {args.game}: {len(names)} policies, {how}")
    print(meta.ratings(args.ratings).table())
    failures = write_outputs(
        [
            ("--heatmap", args.heatmap, meta.heatmap),
            (
                "--json",
                args.json,
                lambda p: atomic_write_text(p, json_text(meta.to_dict(), indent=2), what="--json"),
            ),
        ]
    )
    return EXIT_OUTPUT_FAILED if failures else 0


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

    p = sub.add_parser("games", help="list loadable games")
    p.add_argument("--native-only", action="store_true", help="hide OpenSpiel games")
    p.set_defaults(func=cmd_games)

    p = sub.add_parser("info", help="size of a game: players, nodes, infosets, sequences, memory")
    p.add_argument("game", help="game string, e.g. leduc_poker or 'leduc(ranks=13,suits=4)'")
    p.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("evaluate", help="exact NashConv and exploitability of a policy")
    p.add_argument("game", help="game string")
    p.add_argument(
        "--policy",
        required=True,
        metavar="POLICY",
        help="policy JSON file, or 'uniform' / 'first' (first legal action)",
    )
    p.add_argument("--json", metavar="OUT", help="also write the result as JSON")
    p.add_argument(
        "--bound",
        choices=("rl", "lbr"),
        help="report a LOWER BOUND instead of exact NashConv: rl = torch RL best responses "
        "(sampled, with a confidence interval), lbr = local best response (exact)",
    )
    p.add_argument("--oracle", choices=("dqn", "ppo"), default="dqn", help="RL oracle of --bound rl")
    p.add_argument("--steps", type=int, default=100_000, help="training transitions per player (--bound rl)")
    p.add_argument(
        "--episodes", type=int, default=100_000, help="evaluation episodes per player (--bound rl)"
    )
    p.add_argument(
        "--rollout", default="call", help="LBR continuation: call | uniform | ACTION_ID (--bound lbr)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed (--bound rl)")
    p.set_defaults(func=cmd_evaluate)

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
    p.add_argument("--policy-out", metavar="POLICY", help="write the output policy as JSON")
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

    p = sub.add_parser("psro", help="PSRO: best-response oracles and a meta-solver (Double Oracle, FSP, ...)")
    p.add_argument("game", help="game string")
    p.add_argument(
        "--oracle",
        default="exact",
        choices=("exact", "dqn", "ppo"),
        help="best-response oracle (default: exact)",
    )
    p.add_argument(
        "--meta-solver",
        default="nash",
        help="nash, uniform, prd, alpharank, ce, cce, self-play, anytime, or a normal-form registry solver "
        "(default: nash)",
    )
    p.add_argument(
        "--training-meta-solver",
        help="meta-solver that picks the oracle's opponents (default: --meta-solver)",
    )
    p.add_argument(
        "--iterations", type=int, required=True, help="PSRO iterations (total, counting a resumed run)"
    )
    p.add_argument("--target-exploitability", type=float, metavar="E", help="stop once the output reaches E")
    p.add_argument(
        "--episodes", type=int, metavar="N", help="sampled matches per new meta-game entry (default: exact)"
    )
    p.add_argument("--executor", choices=("inprocess", "local", "ray"), help="where sampled matches run")
    p.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="folder: psro.npz after every iteration (resumed if present), result.json",
    )
    p.add_argument("--seed", type=int, default=0, help="seed")
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="PSRO option, e.g. --set prd_iterations=20000"
    )
    p.add_argument("--json", metavar="OUT", help="write the result summary as JSON")
    p.add_argument(
        "--overwrite", action="store_true", help="start over even if the --checkpoint folder holds a run"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_psro)

    p = sub.add_parser("neupl", help="NeuPL: one conditional network for a whole population")
    from gamesolve.population_cli import add_neupl_arguments

    add_neupl_arguments(p)
    p.add_argument("--json", metavar="OUT", help="write the result summary as JSON")
    p.add_argument(
        "--overwrite", action="store_true", help="start over even if the --checkpoint folder holds a run"
    )
    p.set_defaults(func=cmd_neupl)

    p = sub.add_parser("tournament", help="play every pairing of policies; ratings table and heatmap")
    p.add_argument("game", help="game string")
    p.add_argument(
        "--policies",
        nargs="+",
        required=True,
        metavar="POLICY",
        help="policy JSON files, 'uniform' or 'first'",
    )
    p.add_argument(
        "--episodes", type=int, help="sampled episodes per pairing (default: exact expected values)"
    )
    p.add_argument(
        "--executor", default="local", choices=("inprocess", "local", "ray"), help="where matches run"
    )
    p.add_argument("--address", help="Ray cluster address (with --executor ray)")
    p.add_argument("--ratings", default="elo", choices=("elo", "alpharank", "nash"), help="rating method")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled matches")
    p.add_argument("--heatmap", metavar="PNG", help="write the payoff heatmap")
    p.add_argument("--json", metavar="OUT", help="write the meta-game as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_tournament)

    p = sub.add_parser("demo", help="the demonstration run by 'make demo': solve Leduc poker")
    p.add_argument("--game", default="leduc_poker", help="game string (default: leduc_poker)")
    p.add_argument("--solver", default="dcfr", help="solver (default: dcfr)")
    p.add_argument("--target", type=float, default=1e-4, help="target exploitability (default: 1e-4)")
    p.add_argument("--iterations", type=int, default=20000, help="iteration cap (default: 20000)")
    p.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    p.set_defaults(func=cmd_demo)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
