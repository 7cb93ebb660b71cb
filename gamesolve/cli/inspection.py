"""The verbs that look at a game or a policy: ``games``, ``info`` and ``evaluate``.

``info`` prints a game's size (players, nodes, infosets, sequences, compile time and memory);
``evaluate`` prints a policy's exact NashConv, exploitability and per-player values, or with
``--bound rl|lbr`` a lower bound on NashConv.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import gamesolve
from gamesolve.cli.common import (
    EXIT_OUTPUT_FAILED,
    check_outputs,
    json_output,
    load_any_policy,
    load_policy,
    require_existing,
    write_outputs,
)
from gamesolve.io import atomic_write_text, json_text

__all__ = ["add_parsers", "bound_dict", "cmd_evaluate", "cmd_games", "cmd_info", "evaluate_dict", "info_dict"]


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
    require_existing(spec, "profile file")
    return gamesolve.MixedProfile.from_json(game, spec)


def _evaluate_markov(name: str, game: gamesolve.TabularMarkovGame, spec: str) -> dict[str, Any]:
    if spec == "uniform":
        profile = gamesolve.MarkovProfile.uniform(game)
    elif spec == "first":
        profile = gamesolve.MarkovProfile.of(
            game, [np.eye(n)[np.zeros(game.num_states, dtype=int)] for n in game.num_actions]
        )
    else:
        require_existing(spec, "policy file")
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
    policy = load_policy(compiled, policy_spec)
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

    game = gamesolve.load_game(args.game)
    if args.bound == "lbr":
        compiled = gamesolve.as_compiled(game)
        rollout: Any = int(args.rollout) if args.rollout.lstrip("-").isdigit() else args.rollout
        bound = lbr_exploitability_bound(compiled, load_policy(compiled, args.policy), rollout=rollout)
    else:  # any game: trained on its batched environment where it does not compile
        bound = rl_exploitability_bound(
            game,
            load_any_policy(game, args.policy),
            oracle=args.oracle,
            steps=args.steps,
            episodes=args.episodes,
            seed=args.seed,
        )
    return {"game": args.game, "policy": args.policy, **bound.to_dict(), "text": str(bound)}


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print NashConv, exploitability and per-player values of a policy (or a lower bound)."""
    check_outputs({"--json": args.json}, inputs={"--policy": args.policy})
    if args.bound:
        result = bound_dict(args)
        _print_bound(result)
    else:
        result = evaluate_dict(args.game, args.policy)
        _print_evaluation(result)
    failures = write_outputs([json_output(args.json, result)])
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


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``games``, ``info`` and ``evaluate`` commands."""
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
        help="policy JSON file, or 'uniform' / 'first' (first legal action); with --bound rl also a "
        "network file (.pt) or 'uniform'/'random' on games that do not compile",
    )
    p.add_argument("--json", metavar="OUT", help="also write the result as JSON")
    p.add_argument(
        "--bound",
        choices=("rl", "lbr"),
        help="report a LOWER BOUND instead of exact NashConv: rl = torch RL best responses "
        "(sampled, with a confidence interval), lbr = local best response (exact)",
    )
    p.add_argument(
        "--oracle",
        choices=("dqn", "ppo", "mc"),
        default=None,
        help="RL oracle of --bound rl (default: chosen with the backend: the table backend's DQN on "
        "games that compile and are small, PPO on the batched environment elsewhere; mc = tabular "
        "Monte Carlo best response on the batched environment, for games whose states recur)",
    )
    p.add_argument("--steps", type=int, default=100_000, help="training transitions per player (--bound rl)")
    p.add_argument(
        "--episodes", type=int, default=100_000, help="evaluation episodes per player (--bound rl)"
    )
    p.add_argument(
        "--rollout", default="call", help="LBR continuation: call | uniform | ACTION_ID (--bound lbr)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed (--bound rl)")
    p.set_defaults(func=cmd_evaluate)
