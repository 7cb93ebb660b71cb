"""Reproduction: a league with exploiters on a game too large to compile, rated, against MCTS.

:class:`gamesolve.solvers.league.League` on OpenSpiel's ``connect_four`` (or ``--game``) for
``--rounds`` rounds (each adds the main agent's frozen copy, a main exploiter and a league exploiter:
``1 + 3 * rounds`` networks), run one round at a time through checkpoints so that after every round
the main agent plays OpenSpiel's MCTS bot (``pyspiel.MCTSBot``, 100 simulations, random rollouts)
``--mcts-matches`` matches per seat. Reports the league's Elo table with intervals (one rating per
agent, seats pooled), the main agent's win rate against MCTS after each round, and its score
against uniform random play.

Run: ``python -m experiments.reproduce_league [--game connect_four] [--rounds 3]
[--oracle-steps 200000] [--minimax-coef 0.1] [--mcts-matches 20]``; writes
``runs/reproduce_league/`` (result.json, curve.png, league.npz).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import gamesolve
from experiments._common import package_version, save_figure
from gamesolve.io import atomic_write_text

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--game", default="connect_four")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--oracle-steps", type=int, default=200_000)
    parser.add_argument("--minimax-coef", type=float, default=0.1)
    parser.add_argument("--episodes", type=int, default=100, help="matches per new pair and seat order")
    parser.add_argument("--mcts-matches", type=int, default=20, help="per seat, after every round")
    parser.add_argument("--mcts-simulations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/reproduce_league")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch

    from gamesolve.solvers.deep.common import head_to_head, head_to_head_mcts, prepare_deep_game
    from gamesolve.solvers.league import League

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "league.npz"
    if checkpoint.exists():
        checkpoint.unlink()
    deep = prepare_deep_game(args.game)
    curve: list[dict[str, Any]] = []
    result = None
    start = time.perf_counter()
    for r in range(1, args.rounds + 1):
        solver = League(
            oracle_steps=args.oracle_steps, minimax_coef=args.minimax_coef, episodes=args.episodes
        )
        result = gamesolve.solve(
            args.game,
            solver,
            iterations=r,
            seed=args.seed,
            progress=False,
            checkpoint=checkpoint,
            checkpoint_every=1,
            resume=checkpoint if r > 1 else None,
        )
        vs_mcts = head_to_head_mcts(
            deep, result.policy, matches=args.mcts_matches, simulations=args.mcts_simulations, seed=r
        )
        vs_uniform = head_to_head(deep, result.policy.act_batch, matches=200, seed=r)
        curve.append(
            {
                "round": r,
                "wall_seconds": time.perf_counter() - start,
                "league_size": result.extras["league_size"],
                "mcts_wins_per_seat": list(vs_mcts.wins_per_seat),
                "mcts_score": vs_mcts.score,
                "uniform_wins_per_seat": list(vs_uniform.wins_per_seat),
            }
        )
        log.info(
            "round %d (%d networks, %.0f s): main vs MCTS(%d) wins %s, vs uniform wins %s",
            r,
            result.extras["league_size"],
            curve[-1]["wall_seconds"],
            args.mcts_simulations,
            [f"{w:.2f}" for w in vs_mcts.wins_per_seat],
            [f"{w:.2f}" for w in vs_uniform.wins_per_seat],
        )
    assert result is not None
    table = result.extras["ratings"]
    print(table.table())
    ratings = [
        {"name": n, "rating": float(v), "stderr": float(e)}
        for n, v, e in zip(table.names, table.ratings, table.uncertainty, strict=True)
    ]
    payload = {
        "experiment": "reproduce_league",
        "game": args.game,
        "config": result.config,
        "curve": curve,
        "ratings": ratings,
        "member_kinds": result.extras["member_kinds"],
        "environment": {"torch": package_version("torch"), "cpus": os.cpu_count()},
    }
    atomic_write_text(str(out / "result.json"), json.dumps(payload, indent=2))
    plot(curve, args, str(out / "curve.png"))
    log.info("wrote %s/result.json and curve.png", out)
    return 0


def plot(curve: list[dict[str, Any]], args: argparse.Namespace, path: str) -> None:
    """The main agent's win rate against MCTS in each seat after every round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    rounds = [c["round"] for c in curve]
    for seat in range(len(curve[0]["mcts_wins_per_seat"])):
        ax.plot(rounds, [c["mcts_wins_per_seat"][seat] for c in curve], marker="o", label=f"seat {seat}")
    ax.axhline(0.5, color="k", linestyle=":")
    ax.set_xlabel("league round")
    ax.set_ylabel(f"main agent's wins against MCTS({args.mcts_simulations})")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title(f"League on {args.game}")
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
