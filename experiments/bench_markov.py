"""Benchmark: Shapley value iteration on seeded random stochastic games, and minimax-Q throughput.

Measured in one run, on one machine:

1. Shapley value iteration (``gamesolve.solvers.markov.shapley_values``) on ``random_markov(states=S,
   actions=5, successors=4, seed=0)`` for S = 100, 1,000 and 10,000 with 5x5 actions per state:
   sweeps and total seconds to a guaranteed sup-norm error of ``tolerance`` (1e-6), seconds per
   sweep, and the exact NashConv of the output profile (and the seconds it takes). Target: the
   10,000-state game in under a minute.
2. The peer in the same run: the textbook implementation, one HiGHS LP per state per sweep
   (``scipy.optimize.linprog``, as a user of scipy or nashpy would write it). It runs
   ``peer_sweeps`` sweeps per size (all of them below ``peer_full_states``), and the report gives
   seconds per sweep and the ratio to ours. Its values after the same number of sweeps are
   compared with ours.
3. Tabular minimax-Q throughput: environment steps per second on soccer.

Run: ``python -m experiments.bench_markov``. Writes ``runs/bench_markov/result.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

import gamesolve
from experiments._common import package_version
from gamesolve.games.markov import random_markov, soccer
from gamesolve.io import atomic_write_text
from gamesolve.markov import TabularMarkovGame
from gamesolve.solvers.markov import shapley_values

log = logging.getLogger(__name__)


@dataclass
class Config:
    """What to measure."""

    states: tuple[int, ...] = (100, 1_000, 10_000)
    actions: int = 5
    successors: int = 4
    discount: float = 0.9
    tolerance: float = 1e-6
    seed: int = 0
    peer_sweeps: int = 3  # sweeps timed for the per-state-LP peer on large games
    peer_full_states: int = 100  # up to this many states the peer runs to the tolerance
    minimax_q_steps: int = 2_000_000
    out: str = "runs/bench_markov"


def _highs_value(q: np.ndarray) -> float:
    """Value of one zero-sum matrix game by one HiGHS LP (the textbook form)."""
    m, n = q.shape
    # max v s.t. q^T x >= v, sum x = 1, x >= 0  ->  min -v over (x, v)
    c = np.zeros(m + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-q.T, np.ones((n, 1))])
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=np.zeros(n),
        A_eq=np.hstack([np.ones((1, m)), np.zeros((1, 1))]),
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    return float(-res.fun)


def peer_sweep(game: TabularMarkovGame, values: np.ndarray) -> np.ndarray:
    """One Shapley sweep with one HiGHS LP per state."""
    q = (game.reward_flat[0] + game.discount * game.expected_next(values)).reshape(
        game.num_states, *game.num_actions
    )
    out = np.zeros_like(values)
    for s in range(game.num_states):
        if not game.terminal[s]:
            out[s] = _highs_value(q[s])
    return out


def shapley_row(states: int, cfg: Config) -> dict[str, Any]:
    """Ours to the tolerance, the exact NashConv of the result, and the per-state-LP peer."""
    game = random_markov(
        states=states, actions=cfg.actions, successors=cfg.successors, seed=cfg.seed, discount=cfg.discount
    )
    _, profile, facts = shapley_values(game, tolerance=cfg.tolerance)
    start = time.perf_counter()
    report = gamesolve.nash_conv(game, profile)
    eval_s = time.perf_counter() - start
    row: dict[str, Any] = {
        "states": states,
        "actions": f"{cfg.actions}x{cfg.actions}",
        "transitions": int(game.transition_matrix.nnz),
        "sweeps": facts["sweeps"],
        "seconds": facts["seconds"],
        "seconds_per_sweep": facts["seconds"] / facts["sweeps"],
        "error_bound": facts["error_bound"],
        "nash_conv": report.nash_conv,
        "nash_conv_seconds": eval_s,
    }
    peer_sweeps = facts["sweeps"] if states <= cfg.peer_full_states else min(cfg.peer_sweeps, facts["sweeps"])
    peer = np.zeros(game.num_states)
    start = time.perf_counter()
    for _ in range(peer_sweeps):
        peer = peer_sweep(game, peer)
    peer_s = time.perf_counter() - start
    ours_again = np.zeros(game.num_states)
    live = ~game.terminal
    from gamesolve.kernels.matrix_game import matrix_game_values

    start = time.perf_counter()
    for _ in range(peer_sweeps):
        q = (game.reward_flat[0] + game.discount * game.expected_next(ours_again)).reshape(
            game.num_states, *game.num_actions
        )
        nxt = np.zeros_like(ours_again)
        nxt[live] = matrix_game_values(q[live])
        ours_again = nxt
    ours_s = time.perf_counter() - start
    ours = ours_again
    row.update(
        {
            "peer": "scipy linprog (HiGHS), one LP per state",
            "peer_sweeps_timed": peer_sweeps,
            "peer_seconds_per_sweep": peer_s / peer_sweeps,
            "ours_seconds_per_sweep_same_sweeps": ours_s / peer_sweeps,
            "peer_estimated_total_seconds": peer_s / peer_sweeps * facts["sweeps"],
            "speedup_per_sweep": (peer_s / peer_sweeps) / max(ours_s / peer_sweeps, 1e-12),
            "max_value_difference_vs_peer": float(np.abs(ours - peer).max()),
        }
    )
    log.info("shapley S=%d: %s", states, row)
    return row


def minimax_q_row(cfg: Config) -> dict[str, Any]:
    """Steps per second of tabular minimax-Q on soccer (compile excluded)."""
    game = soccer()
    gamesolve.solve(game, "minimax-q", iterations=1000, seed=0, eval_every=1000)  # compile
    from gamesolve.solvers.markov import MinimaxQ

    solver = MinimaxQ()
    state = solver.init(game, np.random.default_rng(0))
    start = time.perf_counter()
    solver.step(game, state, cfg.minimax_q_steps)
    seconds = time.perf_counter() - start
    return {
        "game": "soccer",
        "steps": cfg.minimax_q_steps,
        "seconds": seconds,
        "steps_per_second": cfg.minimax_q_steps / seconds,
    }


def main(cfg: Config) -> dict[str, Any]:
    """Run every measurement and write ``result.json``."""
    shapley_values(random_markov(states=10, actions=cfg.actions), tolerance=1e-3)  # compile
    rows = [shapley_row(s, cfg) for s in cfg.states]
    result = {
        "config": asdict(cfg),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "versions": {
            "gamesolve": gamesolve.__version__,
            "scipy": package_version("scipy"),
            "numba": package_version("numba"),
        },
        "shapley": rows,
        "minimax_q": minimax_q_row(cfg),
    }
    os.makedirs(cfg.out, exist_ok=True)
    atomic_write_text(os.path.join(cfg.out, "result.json"), json.dumps(result, indent=2))
    return result


def _print(result: dict[str, Any]) -> None:
    head = ("states", "sweeps", "total s", "ms/sweep", "peer ms/sweep", "x", "NashConv", "eval s")
    widths = (7, 6, 8, 9, 14, 7, 9, 7)
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))
    for r in result["shapley"]:
        print(
            f"{r['states']:>7,} {r['sweeps']:>6} {r['seconds']:>8.3f} {r['seconds_per_sweep'] * 1e3:>9.2f} "
            f"{r['peer_seconds_per_sweep'] * 1e3:>14.1f} {r['speedup_per_sweep']:>7.0f} "
            f"{r['nash_conv']:>9.1e} {r['nash_conv_seconds']:>7.2f}"
        )
    mq = result["minimax_q"]
    print(f"minimax-Q on soccer: {mq['steps_per_second']:,.0f} steps/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, nargs="+", default=list(Config.states))
    parser.add_argument("--tolerance", type=float, default=Config.tolerance)
    parser.add_argument("--peer-sweeps", type=int, default=Config.peer_sweeps)
    parser.add_argument("--out", default=Config.out)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    _print(
        main(
            Config(
                states=tuple(args.states),
                tolerance=args.tolerance,
                peer_sweeps=args.peer_sweeps,
                out=args.out,
            )
        )
    )
