"""Benchmark: a trained network against OpenSpiel's MCTS bot and against uniform random, per seat.

The issue's target on games too large to compile (``connect_four``, ``dark_hex``): a learner
trained for 10 minutes on the CPU wins at least 95% of its games against uniform random and more
than half against OpenSpiel's MCTS bot (``pyspiel.MCTSBot``, 100 simulations, random rollouts;
:class:`gamesolve.mcts.MCTSPolicy`) *as either player*.

Given a policy file (``gamesolve solve connect_four --solver ppo --policy-out c4.pt``) it plays
``--matches`` games in every seat against MCTS (:func:`~gamesolve.solvers.deep.common.head_to_head_mcts`)
and against uniform random (:func:`~gamesolve.solvers.deep.common.head_to_head`, batched), and
prints win / draw / loss per seat. Without ``--policy`` it first trains one: ``--learner`` (default
``ppo``) for ``--budget`` seconds through the solver contract, torch single-threaded, counting
wall seconds or, with ``--clock cpu``, this process's CPU seconds (the fair count where the machine
is shared); both are recorded. The network samples its actions unless ``--greedy`` (its most
likely legal action).

On imperfect-information games (``dark_hex``) the bot searches the true history, so it sees the
hidden stones: a stronger opponent than a fair one. ``--reference N`` measures how winnable each seat
is at all: the same MCTS bot with ``N`` simulations (and the same omniscience) plays the baseline
bot in every seat. On ``dark_hex`` (3x3 Hex, a first-player win) an omniscient bot with 10,000
simulations wins only about a third of its games as the second player, so the second-seat target
asks a network that cannot see the first player's stones for more than a far stronger search that
can. ``--tactics N`` plays N probe games and reports how often the network takes an immediate win
and avoids handing the opponent one (:func:`classify_move`; two-player games).

Run: ``python -m experiments.bench_vs_mcts --policy c4.pt`` or
``python -m experiments.bench_vs_mcts --game connect_four --budget 600``. Writes
``runs/bench_vs_mcts/<game>.json`` (and the trained network next to it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version
from gamesolve.io import atomic_write_text
from gamesolve.registry import parse_options

log = logging.getLogger(__name__)

#: Share of games to win against uniform random, in each seat.
TARGET_VS_RANDOM = 0.95
#: Share of games to win against MCTS, in each seat (strictly more).
TARGET_VS_MCTS = 0.5


@dataclass
class Config:
    """What to measure."""

    game: str = "connect_four"
    policy: str | None = None  # a policy file; None: train one first
    learner: str = "ppo"
    budget: float = 600.0  # training seconds when no policy file is given
    clock: str = "wall"  # what the budget counts: "wall" seconds or this process's "cpu" seconds
    options: dict[str, Any] = field(default_factory=dict)  # the learner's options (``--set k=v``)
    matches: int = 100  # per seat, against each opponent
    simulations: int = 100
    seed: int = 0
    greedy: bool = False
    reference: int = 0  # > 0: also play MCTS with this many simulations against the baseline bot
    tactics: int = 0  # > 0: games of the tactics probe (immediate wins taken, immediate losses avoided)
    out: str = "runs/bench_vs_mcts"


def train(cfg: Config) -> tuple[str, dict[str, Any]]:
    """Train ``cfg.learner`` on ``cfg.game`` for ``cfg.budget`` seconds; the saved file and figures.

    The learner runs through the solver contract (``init`` then ``step`` one update at a time, no
    evaluation during training) until ``cfg.budget`` seconds of ``cfg.clock`` have passed: wall
    seconds, or this process's CPU seconds (the fair count on a shared machine; torch runs on one
    thread either way).
    """
    import torch

    from gamesolve.registry import make_solver

    torch.set_num_threads(1)
    source = gamesolve.load_game(cfg.game)
    solver = make_solver(cfg.learner, game=source, **cfg.options)
    game = solver.prepare(source)
    solver.warm_up(game)
    state = solver.init(game, np.random.default_rng(cfg.seed))
    clock = time.process_time if cfg.clock == "cpu" else time.perf_counter
    cpu, wall, start = time.process_time(), time.perf_counter(), clock()
    updates = 0
    while clock() - start < cfg.budget:
        solver.step(game, state, 1)
        updates += 1
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    policy = solver.policy(game, state, solver.output)
    os.makedirs(cfg.out, exist_ok=True)
    path = os.path.join(cfg.out, f"{cfg.game.split('(')[0]}_{cfg.learner}.pt")
    policy.save(path)
    figures = {
        "learner": cfg.learner,
        "budget_s": cfg.budget,
        "clock": cfg.clock,
        "train_cpu_s": cpu,
        "train_wall_s": wall,
        "iterations": updates,
        "config": solver.config(),
    }
    log.info("trained %s on %s: %d updates, %.1f s CPU, %.1f s wall", cfg.learner, cfg.game,
             updates, cpu, wall)  # fmt: skip
    return path, figures


def _rows(h2h: Any) -> dict[str, Any]:
    return {
        "opponent": h2h.opponent,
        "matches_per_seat": h2h.matches // len(h2h.per_seat),
        "win": list(h2h.wins_per_seat),
        "draw": list(h2h.draws_per_seat),
        "loss": list(h2h.losses_per_seat),
        "mean_return": list(h2h.per_seat),
        "score": h2h.score,
    }


def evaluate(cfg: Config, path: str) -> dict[str, Any]:
    """The policy in ``path`` against MCTS and against uniform random, ``cfg.matches`` per seat."""
    import torch

    from gamesolve.solvers.deep.common import head_to_head, head_to_head_mcts, prepare_deep_game

    torch.set_num_threads(1)
    policy = gamesolve.load_policy(path, game=cfg.game)
    game = prepare_deep_game(cfg.game, observation=policy.observation_kind)

    def act(observation: Any, legal: Any, rng: np.random.Generator) -> Any:
        return policy.act_batch(observation, legal, rng, greedy=cfg.greedy)

    out: dict[str, Any] = {}
    for name, run in (
        ("random", lambda: head_to_head(game, act, matches=cfg.matches, seed=cfg.seed)),
        (
            "mcts",
            lambda: head_to_head_mcts(
                game, act, matches=cfg.matches, simulations=cfg.simulations, seed=cfg.seed
            ),
        ),
    ):
        cpu, wall = time.process_time(), time.perf_counter()
        h2h = run()
        out[name] = {
            **_rows(h2h),
            "cpu_s": time.process_time() - cpu,
            "wall_s": time.perf_counter() - wall,
        }
    out["targets"] = {
        f"win >= {TARGET_VS_RANDOM} vs random in each seat": bool(
            min(out["random"]["win"]) >= TARGET_VS_RANDOM
        ),
        f"win > {TARGET_VS_MCTS} vs mcts in each seat": bool(min(out["mcts"]["win"]) > TARGET_VS_MCTS),
    }
    return out


def reference(cfg: Config) -> dict[str, Any]:
    """MCTS with ``cfg.reference`` simulations against the baseline MCTS bot, ``cfg.matches`` per seat.

    Both bots search the true history. What the stronger search wins in a seat is a yardstick for
    the network's target in that seat.
    """
    import pyspiel

    from gamesolve.mcts import MCTSPolicy

    game = pyspiel.load_game(cfg.game)
    strong = MCTSPolicy(cfg.game, simulations=cfg.reference, seed=cfg.seed)
    base = MCTSPolicy(cfg.game, simulations=cfg.simulations, seed=cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    players = game.num_players()
    win, draw = [0.0] * players, [0.0] * players
    cpu, wall = time.process_time(), time.perf_counter()
    for seat in range(players):
        for _ in range(cfg.matches):
            state = game.new_initial_state()
            while not state.is_terminal():
                if state.is_chance_node():
                    actions, probs = zip(*state.chance_outcomes(), strict=True)
                    state.apply_action(int(rng.choice(actions, p=probs)))
                    continue
                bot = strong if state.current_player() == seat else base
                state.apply_action(bot.act_pyspiel(state, rng))
            returns = state.returns()
            best = max(returns[p] for p in range(players) if p != seat)
            win[seat] += returns[seat] > best
            draw[seat] += returns[seat] == best
    return {
        "opponent": f"mcts({cfg.simulations})",
        "player": f"mcts({cfg.reference})",
        "matches_per_seat": cfg.matches,
        "win": [w / cfg.matches for w in win],
        "draw": [d / cfg.matches for d in draw],
        "cpu_s": time.process_time() - cpu,
        "wall_s": time.perf_counter() - wall,
    }


def classify_move(state: Any, action: int) -> tuple[str | None, bool]:
    """What ``action`` does at ``state`` (a two-player ``pyspiel.State``), tactically.

    Returns ``("win", taken)`` when some move wins at once (``taken``: ``action`` is one),
    ``("threat", avoided)`` when none does but some moves let the opponent win at once and others
    do not (``avoided``: ``action`` is one of the others), else ``(None, False)``.
    """
    player = state.current_player()

    def wins(at: Any, move: int, who: int) -> bool:
        child = at.child(move)
        return bool(child.is_terminal() and child.returns()[who] > 0)

    legal = state.legal_actions()
    winning = [a for a in legal if wins(state, a, player)]
    if winning:
        return "win", action in winning
    losing = set()
    for a in legal:
        child = state.child(a)
        replies = [] if child.is_terminal() else child.legal_actions()
        if any(wins(child, b, 1 - player) for b in replies):
            losing.add(a)
    if 0 < len(losing) < len(legal):
        return "threat", action not in losing
    return None, False


def tactics(cfg: Config, path: str) -> dict[str, Any]:
    """How often the network takes an immediate win, and avoids handing the opponent one.

    ``cfg.tactics`` games in which the network plays both sides (its most likely action) except
    for 30% uniformly random moves, which vary the positions. At each of its decisions: if a move
    wins at once, did it play one? Otherwise, if some moves let the opponent win at once and others
    do not, did it play one of the others? Two-player games with a terminal reward only.
    """
    import pyspiel
    import torch

    from gamesolve.games.openspiel_env import check_tensor_kind
    from gamesolve.games.openspiel_tensors import with_mover

    torch.set_num_threads(1)
    policy = gamesolve.load_policy(path, game=cfg.game)
    source = gamesolve.load_game(cfg.game)
    method = check_tensor_kind(source, policy.observation_kind)
    game = pyspiel.load_game(cfg.game)
    if game.num_players() != 2:
        raise SystemExit(f"--tactics needs a two-player game; {cfg.game} has {game.num_players()} players")
    rng = np.random.default_rng(cfg.seed)

    counts = {"positions": 0, "win_available": 0, "win_taken": 0, "threat_positions": 0, "threat_avoided": 0}
    for _ in range(cfg.tactics):
        state = game.new_initial_state()
        while not state.is_terminal():
            player, legal = state.current_player(), state.legal_actions()
            if rng.random() < 0.3:
                state.apply_action(int(rng.choice(legal)))
                continue
            obs = with_mover([getattr(state, method)(player)], [player], game, method)
            mask = np.zeros((1, policy.num_actions), dtype=np.bool_)
            mask[0, legal] = True
            action = int(np.argmax(policy.action_probs(obs, mask)[0]))
            counts["positions"] += 1
            kind, good = classify_move(state, action)
            if kind == "win":
                counts["win_available"] += 1
                counts["win_taken"] += good
            elif kind == "threat":
                counts["threat_positions"] += 1
                counts["threat_avoided"] += good
            state.apply_action(action)
    return {
        **counts,
        "win_taken_rate": counts["win_taken"] / max(counts["win_available"], 1),
        "threat_avoided_rate": counts["threat_avoided"] / max(counts["threat_positions"], 1),
    }


def report(cfg: Config, data: dict[str, Any]) -> None:
    """Print win / draw / loss per seat against each opponent."""
    print(f"{cfg.game}: {data['policy']} ({'greedy' if cfg.greedy else 'sampled'} actions), "
          f"{cfg.matches} matches per seat")  # fmt: skip
    if "training" in data:
        t = data["training"]
        print(f"trained {t['learner']}: {t['iterations']} updates, {t['train_cpu_s']:.1f} s CPU, "
              f"{t['train_wall_s']:.1f} s wall")  # fmt: skip
    print(f"{'opponent':<10} {'seat':>4} {'win':>6} {'draw':>6} {'loss':>6} {'return':>7}")
    for name in ("random", "mcts"):
        row = data[name]
        label = row["opponent"]
        columns = zip(row["win"], row["draw"], row["loss"], row["mean_return"], strict=True)
        for seat, (w, d, lost, r) in enumerate(columns):
            print(f"{label:<10} {seat:>4} {w:>6.1%} {d:>6.1%} {lost:>6.1%} {r:>+7.3f}")
    if "reference" in data:
        ref = data["reference"]
        for seat, (w, d) in enumerate(zip(ref["win"], ref["draw"], strict=True)):
            print(f"yardstick: {ref['player']} vs {ref['opponent']}, seat {seat}: win {w:.1%}, draw {d:.1%}")
    if "tactics" in data:
        tac = data["tactics"]
        taken, avoided = tac["win_taken_rate"], tac["threat_avoided_rate"]
        print(f"tactics: immediate wins taken {taken:.1%} of {tac['win_available']}, "
              f"immediate losses avoided {avoided:.1%} of {tac['threat_positions']}")  # fmt: skip
    for name, met in data["targets"].items():
        print(f"target {name}: {'met' if met else 'NOT met'}")


def main(cfg: Config) -> dict[str, Any]:
    """Train when no policy is given, evaluate, print, write ``OUT/<game>.json``."""
    data: dict[str, Any] = {"config": asdict(cfg)}
    path = cfg.policy
    if path is None:
        path, data["training"] = train(cfg)
    data["policy"] = path
    data.update(evaluate(cfg, path))
    if cfg.reference:
        data["reference"] = reference(cfg)
    if cfg.tactics:
        data["tactics"] = tactics(cfg, path)
    data["machine"] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "open_spiel": package_version("open_spiel"),
        "torch": package_version("torch"),
    }
    os.makedirs(cfg.out, exist_ok=True)
    target = os.path.join(cfg.out, f"{cfg.game.split('(')[0]}.json")
    atomic_write_text(target, json.dumps(data, indent=2))
    report(cfg, data)
    print(f"wrote {target}")
    return data


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default=Config.game)
    parser.add_argument("--policy", help="a policy file (.pt); default: train one first")
    parser.add_argument("--learner", default=Config.learner, help="solver to train without --policy")
    parser.add_argument("--budget", type=float, default=Config.budget, help="training seconds")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default=Config.clock, help="what the budget counts"
    )
    parser.add_argument("--matches", type=int, default=Config.matches, help="matches per seat and opponent")
    parser.add_argument(
        "--simulations", type=int, default=Config.simulations, help="MCTS simulations per move"
    )
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--greedy", action="store_true", help="the network plays its most likely action")
    parser.add_argument(
        "--reference", type=int, default=0, metavar="N", help="also play MCTS(N) against the baseline bot"
    )
    parser.add_argument(
        "--tactics", type=int, default=0, metavar="N", help="games of the tactics probe (two-player games)"
    )
    parser.add_argument("--out", default=Config.out)
    parser.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="learner option, e.g. --set hidden=[256]"
    )
    ns = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    fields = vars(ns)
    fields["options"] = parse_options(fields.pop("set") or [])
    main(Config(**fields))
