"""The population verbs: ``psro``, ``neupl`` and ``tournament``.

``psro`` and ``neupl`` run through :mod:`gamesolve.population_cli` (one runner: a checkpoint folder
that a rerun resumes from, a JSON summary) and print their populations; ``tournament`` plays every
pairing of given policies and prints ratings.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import gamesolve
from gamesolve.cli.common import (
    EXIT_OUTPUT_FAILED,
    UserError,
    check_checkpoint_folder,
    check_outputs,
    json_output,
    load_any_policy,
    print_curve,
    require_matplotlib,
    run_status,
    user_errors,
    write_outputs,
)
from gamesolve.io import read_json_file
from gamesolve.mcts import MCTSPolicy, parse_mcts_spec
from gamesolve.population_cli import (
    add_neupl_arguments,
    neupl_summary,
    psro_summary,
    run_neupl_cli,
    run_psro_cli,
)
from gamesolve.results import SolveResult

if TYPE_CHECKING:
    from gamesolve.population import MetaGame

__all__ = ["add_parsers", "cmd_neupl", "cmd_psro", "cmd_tournament"]


def _run_population(
    args: argparse.Namespace,
    file_name: str,
    run: Callable[[argparse.Namespace], SolveResult],
    summary: Callable[[SolveResult], dict[str, Any]],
    report: Callable[[argparse.Namespace, SolveResult], None],
) -> tuple[SolveResult, list[str]]:
    """Run ``psro`` or ``neupl``: print the curve and ``report``, write ``--json``; returns the failures.

    The ``--checkpoint`` folder (which holds ``file_name``) and ``--json`` are checked first.
    """
    check_checkpoint_folder(args.checkpoint, file_name)
    check_outputs({"--json": args.json})
    with user_errors():
        result = run(args)
    print_curve(result)
    report(args, result)
    return result, write_outputs([json_output(args.json, summary(result))])


def _print_psro(args: argparse.Namespace, result: SolveResult) -> None:
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
    if math.isnan(result.exploitability):
        print("exploitability  not known (the game does not compile; see the scores against uniform)")
    else:
        print(f"exploitability  {result.exploitability:.6e} (NashConv {result.nash_conv:.6e})")
        print("values          " + ", ".join(f"{v:+.6f}" for v in result.value))
    for p, weights in enumerate(result.extras["meta_strategy"]):
        top = np.argsort(-np.asarray(weights))[:5]
        print(f"meta-strategy {p} " + ", ".join(f"#{k}: {weights[k]:.3f}" for k in top if weights[k] > 1e-9))
    for p, score in enumerate(result.extras.get("scores_vs_uniform", [])):
        print(f"vs uniform {p}    {score['value']:+.4f} +- {score['stderr']:.4f} (seat {p}'s mean return)")


def cmd_psro(args: argparse.Namespace) -> int:
    """Run PSRO and print the exploitability curve, the population and the output's figures."""
    check_outputs({"--members-out": args.members_out})
    result, failures = _run_population(args, "psro.npz", run_psro_cli, psro_summary, _print_psro)
    if args.members_out and not failures:
        failures += _save_members(result, Path(args.members_out))
    if args.checkpoint:
        print(f"checkpoint      {Path(args.checkpoint) / 'psro.npz'} (rerun the command to continue)")
    return run_status(result, failures)


def _save_members(result: SolveResult, folder: Path) -> list[str]:
    """Write every network member as ``p{player}_{name}.pt`` (for ``gamesolve tournament``)."""
    population = result.extras["population"]
    if not all(hasattr(m, "save") for seat in population.members for m in seat):
        print(
            "members-out     skipped: the members are tables "
            "(networks: psro --members network, neupl --backend tensor)"
        )
        return []
    failures = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for p, (seat, names) in enumerate(zip(population.members, population.names, strict=True)):
            for member, name in zip(seat, names, strict=True):
                member.save(folder / f"p{p}_{name}.pt")
    except OSError as exc:
        failures.append(f"--members-out {folder}: {exc}")
    else:
        count = sum(len(s) for s in population.members)
        print(f"members         {folder}/p*_*.pt ({count} networks)")
    return failures


def _print_neupl(args: argparse.Namespace, result: SolveResult) -> None:
    print(f"\nneupl on {args.game}: {result.message}")
    print(
        f"population      {result.extras['population_size']} of {args.max_population} "
        f"(joined at iterations {result.extras['joined']})"
    )
    if math.isnan(result.exploitability):
        print("exploitability  not known (the game does not compile; see the score against uniform)")
    else:
        print(
            f"exploitability  {result.exploitability:.6e} "
            f"(Nash mixture of the population; NashConv {result.nash_conv:.6e})"
        )
    print("meta-strategy   " + ", ".join(f"{w:.3f}" for w in result.extras["meta_strategy"]))
    if "score_vs_uniform" in result.extras:
        print(f"vs uniform      {result.extras['score_vs_uniform']:+.4f} (the mixture's mean return)")
    if result.config.get("training") == "rl":
        print(f"env steps       {result.extras['env_steps']:,}")


def cmd_neupl(args: argparse.Namespace) -> int:
    """Run NeuPL on a symmetric two-player zero-sum game."""
    check_outputs({"--members-out": args.members_out})
    result, failures = _run_population(args, "neupl.npz", run_neupl_cli, neupl_summary, _print_neupl)
    if args.members_out and not failures:
        failures += _save_members(result, Path(args.members_out))
    return run_status(result, failures)


def _tournament_policy(game: Any, spec: str) -> Any:
    """One ``--policies`` entry, as the policy a tournament plays.

    ``uniform``/``random`` (any game), ``mcts`` or ``mcts:N`` (OpenSpiel's MCTS bot with ``N``
    simulations per move, :class:`gamesolve.mcts.MCTSPolicy`; OpenSpiel games), ``first``, a
    network file (``.pt``, :func:`gamesolve.load_policy`) or a JSON policy file (games that compile).
    """
    simulations = parse_mcts_spec(spec)
    if simulations is not None:
        return MCTSPolicy(game, simulations=simulations)
    return load_any_policy(game, spec)


def _previous_meta_game(path: str, names: list[str]) -> MetaGame:
    """``--previous``: a meta-game JSON whose members are the first of ``--policies``, in order."""
    from gamesolve.population import MetaGame  # scipy.sparse and the population backend: on demand

    data = read_json_file(path, what="--previous meta-game")
    try:
        previous = MetaGame.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise UserError(f"--previous {path!r} is not a meta-game written by --json: {exc}") from None
    if len(set(map(tuple, previous.names))) != 1:
        raise UserError(f"--previous {path!r} is not a tournament of one list of policies")
    old = list(previous.names[0])
    if len(old) > len(names) or names[: len(old)] != old:
        raise UserError(
            f"--previous {path!r} holds {old}; --policies must start with those, in that order (got {names})"
        )
    return previous


def cmd_tournament(args: argparse.Namespace) -> int:
    """Play every pairing of the given policies; print ratings, write a heatmap."""
    if args.heatmap:
        require_matplotlib()
    check_outputs({"--json": args.json, "--heatmap": args.heatmap})
    game = gamesolve.load_game(args.game)
    if len(args.policies) < 2:
        raise UserError("--policies needs at least two policies (files, 'uniform'/'random' or 'first')")
    names = [Path(p).stem if Path(p).is_file() else p for p in args.policies]
    if len(set(names)) != len(names):
        names = [f"{k}:{n}" for k, n in enumerate(names)]
    if args.episodes is None and any(parse_mcts_spec(spec) is not None for spec in args.policies):
        raise UserError("mcts plays sampled matches: pass --episodes N")
    previous = None if args.previous is None else _previous_meta_game(args.previous, names)
    with user_errors():
        policies = {n: _tournament_policy(game, spec) for n, spec in zip(names, args.policies, strict=True)}
        meta = gamesolve.tournament(
            game,
            policies,
            episodes=args.episodes,
            seed=args.seed,
            executor=args.executor,
            address=args.address,
            previous=previous,
            progress=None if not args.no_progress else False,
        )
    how = "exact expected values" if meta.exact else f"{args.episodes:,} sampled episodes per pairing"
    print(f"tournament on {args.game}: {len(names)} policies, {how}")
    if previous is not None:
        seats, kept = previous.num_players, len(previous.names[0])
        new = len(names) ** seats - kept**seats
        print(f"kept the {kept**seats} pairings of {args.previous}; played {new} new")
    print(meta.ratings(args.ratings).table())
    failures = write_outputs(
        [
            ("--heatmap", args.heatmap, meta.heatmap),
            json_output(args.json, meta.to_dict()),
        ]
    )
    return EXIT_OUTPUT_FAILED if failures else 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``psro``, ``neupl`` and ``tournament`` commands."""
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
        "--members",
        choices=("auto", "table", "network"),
        help="member kind: tables (compiled games) or networks (any game; needs --oracle ppo); default "
        "auto: networks where the game does not compile",
    )
    p.add_argument("--members-out", metavar="DIR", help="write the network members as .pt files")
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
    add_neupl_arguments(p)
    p.add_argument("--json", metavar="OUT", help="write the result summary as JSON")
    p.add_argument(
        "--members-out",
        metavar="DIR",
        help="on tensors, save every member (the network at its row) as DIR/p{seat}_{name}.pt",
    )
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
        help="network files (.pt), policy JSON files, 'uniform'/'random', 'first', or 'mcts' / 'mcts:N' "
        "(OpenSpiel's MCTS bot, N simulations per move, default 100; needs --episodes)",
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
    p.add_argument(
        "--previous",
        metavar="META_JSON",
        help="a meta-game written by --json for the first policies: keep its pairings, play only the new",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_tournament)
