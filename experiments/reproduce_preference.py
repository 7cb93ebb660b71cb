"""Reproduction: Nash mirror-prox and EGPO converge linearly to the regularized equilibrium.

On seeded random preference games (``beta = 0.1``, random reference policy), record
``KL(pi*_beta || pi_k)`` for Nash-MP (``eta = 2 beta``) and EGPO (``eta = 1 / (beta + 1)``), and
draw the theoretical rates ``(1 + 2 beta)^-k KL_0`` (Tiapkin et al. 2025) and
``(1 - eta beta)^k KL_0`` (Zhou, Fazel & Du 2025) on the same axes. Each curve must stay below
its bound; the script reports the observed per-iteration contraction factors.

Run: ``python -m experiments.reproduce_preference``; writes ``runs/preference/`` (JSON, PNG).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gamesolve.games.preference import random_preference_game
from gamesolve.io import atomic_write_text
from gamesolve.preference import kl_divergence
from gamesolve.solvers.preference import EGPO, NashMirrorProx


@dataclass
class Config:
    """What to run."""

    games: int = 5
    size: int = 6
    beta: float = 0.1
    iterations: int = 120
    seed: int = 0
    out: str = "runs/preference"


def trace(solver: Any, game: Any, star: np.ndarray, iterations: int) -> list[float]:
    """KL(pi* || pi_k) for k = 0..iterations."""
    state = solver.init(game, np.random.default_rng(0))
    out = [kl_divergence(star, state["pi"])]
    for _ in range(iterations):
        solver.step(game, state)
        out.append(kl_divergence(star, state["pi"]))
    return out


def main(cfg: Config) -> dict[str, Any]:
    """Run both methods on every game; check the bounds; write JSON and a PNG."""
    rng = np.random.default_rng(cfg.seed)
    runs = []
    for _ in range(cfg.games):
        game = random_preference_game(rng, cfg.size, beta=cfg.beta)
        star = game.regularized_equilibrium()
        mp = trace(NashMirrorProx(), game, star, cfg.iterations)
        eg = trace(EGPO(), game, star, cfg.iterations)
        runs.append({"nash_mp": mp, "egpo": eg})
    k = np.arange(cfg.iterations + 1)
    eta_eg = 1.0 / (cfg.beta + 1.0)
    rate_mp = (1 + 2 * cfg.beta) ** (-k)
    rate_eg = (1 - eta_eg * cfg.beta) ** k
    summary = {}
    for key, rate in (("nash_mp", rate_mp), ("egpo", rate_eg)):
        ratios, holds = [], True
        for run in runs:
            kl = np.asarray(run[key])
            live = kl[1:] > 1e-13
            ratios.extend((kl[1:][live] / kl[:-1][live]).tolist())
            holds &= bool(np.all(kl <= rate * kl[0] + 1e-13))
        summary[key] = {"median_contraction": float(np.median(ratios)), "bound_holds": holds}
    result = {"config": asdict(cfg), "runs": runs, "summary": summary}
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result))
    plot(runs, rate_mp, rate_eg, f"{cfg.out}/preference.png")
    for key, s in summary.items():
        bound = 1 / (1 + 2 * cfg.beta) if key == "nash_mp" else 1 - eta_eg * cfg.beta
        print(
            f"{key}: median KL contraction per iteration {s['median_contraction']:.3f} (bound {bound:.3f}), "
            f"bound holds on every game: {s['bound_holds']}"
        )
    print(f"wrote {cfg.out}/result.json and preference.png")
    return result


def plot(runs: list[dict[str, list[float]]], rate_mp: np.ndarray, rate_eg: np.ndarray, path: str) -> None:
    """KL curves with the theoretical rates (dashed) for the first game's KL_0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, run in enumerate(runs):
        ax.semilogy(
            np.maximum(run["nash_mp"], 1e-17), color="C0", alpha=0.7, label="Nash-MP" if i == 0 else None
        )
        ax.semilogy(np.maximum(run["egpo"], 1e-17), color="C1", alpha=0.7, label="EGPO" if i == 0 else None)
    kl0 = runs[0]["nash_mp"][0]
    ax.semilogy(rate_mp * kl0, "C0--", label="(1 + 2 beta)^-k KL0")
    ax.semilogy(rate_eg * kl0, "C1--", label="(1 - eta beta)^k KL0")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("KL(pi*_beta || pi_k)")
    ax.set_ylim(1e-17, None)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=Config.games)
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    main(Config(games=ns.games, out=ns.out))
