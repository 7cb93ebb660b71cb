"""Reproduction: NeuPL versus PSRO with RL best responses on Kuhn and Leduc poker.

Liu et al. (ICLR 2022) claim that one conditional network trained on the PSRO-N interaction
graph learns a population whose Nash mixture approaches an equilibrium with less experience than
PSRO, which trains a fresh best response per iteration, thanks to skill transfer through shared
weights. Here both learn from sampled episodes only, and we record the *exact* exploitability of the
population's Nash mixture (realization-weight mixture of the members, evaluated on the compiled
game) against the number of environment steps (decisions of the learning agent):

* NeuPL: :class:`gamesolve.solvers.neupl.NeuPL` with ``training="rl"`` (PPO on the conditional policy,
  PSRO-N graph, exact meta-game), one curve point per iteration;
* PSRO: :class:`gamesolve.solvers.psro.PSRO` with the Nash meta-solver, the uniform initial policy (as
  NeuPL's) and the torch RL oracles (``"ppo"`` and ``"dqn"``, :mod:`gamesolve.solvers.rl_oracles`, default
  settings), one point per iteration, the steps counted by wrapping the oracle (each iteration
  trains one response per player, ``psro_oracle_steps`` learner transitions each).

Both count the learner's decisions the same way (:mod:`gamesolve.solvers.rl_oracles` counts transitions of
its single-agent environment view) and both use the exact meta-game.

A curve whose parts are missing (no torch, no ``gamesolve.solvers.rl_oracles``) is recorded with the reason
instead of numbers. The default budgets run in about ten minutes on two CPU cores.

Run: ``python -m experiments.reproduce_neupl``; writes ``runs/reproduce_neupl/result.json`` and
``runs/reproduce_neupl/exploitability.png``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version, save_figure
from gamesolve.io import atomic_write_text
from gamesolve.solver import Iterate

log = logging.getLogger(__name__)


@dataclass
class GameBudget:
    """What to run on one game (NeuPL's options go to :class:`gamesolve.solvers.neupl.NeuPL`)."""

    game: str
    neupl_iterations: int
    neupl_options: dict[str, Any]
    psro_iterations: int
    psro_oracle_steps: int
    eval_every: int = 1


def _default_games() -> tuple[GameBudget, ...]:
    return (
        GameBudget(
            "kuhn",
            neupl_iterations=150,
            neupl_options={"episodes": 256, "max_population": 10, "patience": 3},
            psro_iterations=10,
            psro_oracle_steps=2_000,
        ),
        GameBudget(
            "leduc",
            neupl_iterations=300,
            neupl_options={"episodes": 1024, "max_population": 12, "patience": 5, "growth_tolerance": 0.002},
            psro_iterations=20,
            psro_oracle_steps=15_000,
            eval_every=5,
        ),
    )


@dataclass
class Config:
    """What to run (defaults: about ten minutes on two CPU cores)."""

    games: tuple[GameBudget, ...] = field(default_factory=_default_games)
    psro_oracles: tuple[str, ...] = ("ppo", "dqn")
    oracle_options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    out: str = "runs/reproduce_neupl"


class CountingOracle:
    """Wraps an RL oracle and adds up the environment steps of every response it trains."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.steps = 0

    def train(self, game: Any, player: int, opponents: Any, weights: Any, *, seed: int, steps: int) -> Any:
        """Train one response through the wrapped oracle; count its steps."""
        trained = self.inner.train(game, player, opponents, weights, seed=seed, steps=steps)
        used = getattr(trained, "steps", None)
        self.steps += int(used) if used is not None else int(steps)
        return trained


def neupl_curve(game: Any, budget: GameBudget, cfg: Config) -> dict[str, Any]:
    """NeuPL with PPO on the PSRO-N graph: exploitability of the Nash mixture per env steps."""
    from gamesolve.solvers.neupl import NeuPL

    solver = NeuPL(training="rl", **budget.neupl_options)
    compiled = solver.prepare(game)
    state = solver.init(compiled, np.random.default_rng(cfg.seed))
    curve: dict[str, list[Any]] = {
        "iteration": [],
        "env_steps": [],
        "exploitability": [],
        "population_size": [],
        "seconds": [],
    }
    start = time.perf_counter()
    spent = 0.0

    def record(iteration: int) -> None:
        policy = solver.policy(compiled, state, Iterate.AVERAGE)
        curve["iteration"].append(iteration)
        curve["env_steps"].append(int(state["env_steps"]))
        curve["exploitability"].append(float(solver.evaluate(compiled, policy)))
        curve["population_size"].append(int(state["size"]))
        curve["seconds"].append(spent)

    record(0)
    for it in range(1, budget.neupl_iterations + 1):
        t0 = time.perf_counter()
        solver.step(compiled, state, 1)
        spent += time.perf_counter() - t0
        if it % budget.eval_every == 0 or it == budget.neupl_iterations:
            record(it)
    log.info("neupl on %s: %.1f s", budget.game, time.perf_counter() - start)
    return {"config": solver.config(), **curve}


def psro_curve(game: Any, budget: GameBudget, oracle_name: str, cfg: Config) -> dict[str, Any]:
    """PSRO (Nash meta-solver) with an RL oracle: exploitability of the meta-Nash per env steps."""
    try:
        rl_oracles = importlib.import_module("gamesolve.solvers.rl_oracles")
        from gamesolve.solvers.psro import PSRO
    except ImportError as exc:
        return {"skipped": f"PSRO with RL oracles is not available: {exc}"}
    factory = rl_oracles.dqn_oracle if oracle_name == "dqn" else rl_oracles.ppo_oracle
    oracle = CountingOracle(factory(**cfg.oracle_options))
    solver = PSRO(oracle=oracle, meta_solver="nash", initial="uniform", oracle_steps=budget.psro_oracle_steps)
    compiled = solver.prepare(game)
    state = solver.init(compiled, np.random.default_rng(cfg.seed))
    curve: dict[str, list[Any]] = {"iteration": [], "env_steps": [], "exploitability": [], "seconds": []}
    spent = 0.0
    for it in range(budget.psro_iterations + 1):
        if it > 0:
            t0 = time.perf_counter()
            solver.step(compiled, state, 1)
            spent += time.perf_counter() - t0
        policy = solver.policy(compiled, state, Iterate.AVERAGE)
        curve["iteration"].append(it)
        curve["env_steps"].append(oracle.steps)
        curve["exploitability"].append(float(solver.evaluate(compiled, policy)))
        curve["seconds"].append(spent)
    return {"config": solver.config(), **curve}


def main(cfg: Config) -> dict[str, Any]:
    """Run every curve on every game; write JSON and a PNG; return the data."""
    results: dict[str, Any] = {
        "config": asdict(cfg),
        "versions": {"torch": package_version("torch"), "numpy": np.__version__},
        "games": {},
    }
    for budget in cfg.games:
        game = gamesolve.as_compiled(gamesolve.load_game(budget.game))
        entry: dict[str, Any] = {
            "uniform_exploitability": gamesolve.exploitability(game, gamesolve.uniform_policy(game)),
        }
        try:
            entry["neupl"] = neupl_curve(game, budget, cfg)
        except ImportError as exc:
            entry["neupl"] = {"skipped": f"NeuPL's network needs torch: {exc}"}
        for name in cfg.psro_oracles:
            entry[f"psro-{name}"] = psro_curve(game, budget, name, cfg)
        for curve in entry.values():
            if isinstance(curve, dict) and "exploitability" in curve:
                curve["summary"] = _summary(curve)
        results["games"][budget.game] = entry
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "result.json", json.dumps(results, indent=2))
    _plot(results, out / "exploitability.png")
    return results


def _summary(curve: dict[str, Any]) -> dict[str, float]:
    """Final, best and last-quarter mean exploitability of a curve (the curves are noisy)."""
    values = np.asarray(curve["exploitability"], dtype=float)
    quarter = values[-max(1, len(values) // 4) :]
    return {
        "env_steps": float(curve["env_steps"][-1]),
        "initial": float(values[0]),
        "final": float(values[-1]),
        "best": float(values.min()),
        "mean_last_quarter": float(quarter.mean()),
        "seconds": float(curve["seconds"][-1]),
    }


def _plot(results: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plot")
        return
    games = results["games"]
    fig, axes = plt.subplots(1, len(games), figsize=(6 * len(games), 4.2), squeeze=False)
    for ax, (name, entry) in zip(axes[0], games.items(), strict=True):
        for label, curve in entry.items():
            if not isinstance(curve, dict) or "env_steps" not in curve:
                continue
            ax.semilogy(
                curve["env_steps"], np.maximum(curve["exploitability"], 1e-6), marker=".", label=label
            )
        ax.axhline(entry["uniform_exploitability"], color="gray", ls=":", lw=1, label="uniform policy")
        ax.set_title(name)
        ax.set_xlabel("environment steps (learner decisions)")
        ax.set_ylabel("exploitability of the Nash mixture")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def _parse(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=Config.out)
    parser.add_argument("--oracles", nargs="*", default=list(Config.psro_oracles), help="ppo, dqn")
    parser.add_argument("--games", nargs="*", default=None, help="subset of: kuhn leduc")
    args = parser.parse_args(argv)
    cfg = Config(seed=args.seed, out=args.out, psro_oracles=tuple(args.oracles))
    if args.games:
        cfg.games = tuple(b for b in cfg.games if b.game in args.games)
    return cfg


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    summary = main(_parse())
    for game_name, data in summary["games"].items():
        for label, curve in data.items():
            if isinstance(curve, dict) and "summary" in curve:
                facts = curve["summary"]
                print(
                    f"{game_name:6s} {label:10s} steps {int(facts['env_steps']):>9,d}  exploitability "
                    f"{facts['initial']:.4f} -> {facts['final']:.4f} (best {facts['best']:.4f}, mean of "
                    f"the last quarter {facts['mean_last_quarter']:.4f}, {facts['seconds']:.0f} s)"
                )
            elif isinstance(curve, dict):
                print(f"{game_name:6s} {label:10s} {curve.get('skipped')}")
