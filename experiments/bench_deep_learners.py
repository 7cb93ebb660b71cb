"""Benchmark: deep equilibrium learners on Leduc poker, exact exploitability against wall time.

Each learner runs for the same wall-clock budget of algorithm time (``--budget`` seconds, one torch
thread each, in the same process, one after the other). At evaluation marks (a fixed list of
algorithm-time points) the learner's average policy is read out and its exact exploitability is
computed. A point's time is the algorithm time so far plus the time of that read-out (training the
average-policy network: the cost of having that policy in hand); the exact evaluation itself is not
counted. Learners:

* ``gamesolve deep-cfr``: :class:`gamesolve.solvers.deep.deep_cfr.DeepCFR` with its defaults
  (advantage networks warm-started, 50 Adam steps each per iteration), driven step by step;
  read-out is :meth:`~gamesolve.solvers.deep.deep_cfr.DeepCFR.average_policy`.
* ``gamesolve deep-cfr scratch``: the same with ``warm_start=False`` and 150 advantage steps per
  iteration (networks re-initialised every iteration, as in the paper).
* ``openspiel deep-cfr``: OpenSpiel's torch Deep CFR (``open_spiel.python.pytorch.deep_cfr``) with
  the settings of OpenSpiel's own ``deep_cfr_pytorch`` example (advantage and policy layers (64,),
  375 traversals, batches of 256, 375 advantage steps, 2,500 policy steps, learning rate 1e-3,
  memories of 100,000), iterated as its ``solve`` does; read-out is its ``_learn_strategy_network``
  followed by tabulating ``action_probabilities`` (as its ``print_nash_convs`` mode does), and
  exploitability is OpenSpiel's own. Skipped, with the reason recorded, when it does not import.
  Its module imports ``tree`` (dm-tree) only for ``map_structure`` over named tuples; when dm-tree
  is not installed the benchmark supplies a minimal stand-in for that one function.

Target (issue 14): gamesolve's ``deep-cfr`` at exploitability <= 0.35 within 120 s.

Run: ``python -m experiments.bench_deep_learners [--budget 120] [--no-openspiel]``. Writes
``runs/bench_deep_learners/result.json`` and ``leduc_deep_learners.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import types
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from experiments._common import package_version

#: Algorithm-time marks (seconds) at which the learners are evaluated, cut at the budget.
MARKS = (2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 75.0, 90.0, 105.0, 120.0, 180.0, 240.0, 300.0)


@dataclass(frozen=True)
class Config:
    """What the benchmark runs."""

    budget: float = 120.0
    seed: int = 0
    openspiel: bool = True
    target: float = 0.35
    out: str = "runs/bench_deep_learners"


def _marks(budget: float) -> list[float]:
    marks = [m for m in MARKS if m < budget]
    return [*marks, budget]


def _run_curve(
    name: str,
    budget: float,
    step: Callable[[], int],
    readout: Callable[[], Any],
    evaluate: Callable[[Any], float],
) -> dict[str, Any]:
    """Step until ``budget`` seconds of algorithm time, evaluating at each mark."""
    marks = _marks(budget)
    algo = 0.0
    curve: dict[str, list[float]] = {
        "seconds": [],
        "algorithm_seconds": [],
        "iteration": [],
        "exploitability": [],
    }
    iteration = 0
    for mark in marks:
        while algo < mark:
            start = time.perf_counter()
            iteration = step()
            algo += time.perf_counter() - start
        start = time.perf_counter()
        policy = readout()
        read = time.perf_counter() - start
        expl = float(evaluate(policy))
        curve["seconds"].append(algo + read)
        curve["algorithm_seconds"].append(algo)
        curve["iteration"].append(iteration)
        curve["exploitability"].append(expl)
        print(
            f"  {name}: {algo + read:7.1f} s  iteration {iteration:5d}  exploitability {expl:.4f}", flush=True
        )
    return curve


#: gamesolve rows: label -> DeepCFR options.
GAMESOLVE_ROWS: dict[str, dict[str, Any]] = {
    "gamesolve deep-cfr": {},
    "gamesolve deep-cfr scratch": {"warm_start": False, "advantage_steps": 150},
}


def gamesolve_curve(cfg: Config, label: str, options: dict[str, Any]) -> dict[str, Any]:
    """``deep-cfr`` on native Leduc with ``options``, step by step."""
    import gamesolve
    from gamesolve.solver import Iterate
    from gamesolve.solvers.deep.deep_cfr import DeepCFR

    game = gamesolve.as_compiled(gamesolve.load_game("leduc"))
    solver = DeepCFR(**options)
    solver.warm_up(game)
    state = solver.init(game, np.random.default_rng(cfg.seed))
    solver.step(game, {k: v.copy() for k, v in state.items()}, 1)  # compile kernels, warm torch

    def step() -> int:
        solver.step(game, state, 1)
        return int(state["t"])

    curve = _run_curve(
        label,
        cfg.budget,
        step,
        lambda: solver.policy(game, state, Iterate.AVERAGE),
        lambda policy: gamesolve.exploitability(game, policy),
    )
    return {"config": solver.config(), **curve}


def _tree_stand_in() -> None:
    """A minimal ``tree`` module (dm-tree's ``map_structure``) when dm-tree is not installed."""
    try:
        import tree  # noqa: F401
    except ModuleNotFoundError:

        def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
            first = structures[0]
            if isinstance(first, tuple) and hasattr(first, "_fields"):
                return type(first)(*(map_structure(fn, *parts) for parts in zip(*structures, strict=True)))
            if isinstance(first, list | tuple):
                return type(first)(map_structure(fn, *parts) for parts in zip(*structures, strict=True))
            if isinstance(first, dict):
                return {k: map_structure(fn, *(s[k] for s in structures)) for k in first}
            return fn(*structures)

        module = types.ModuleType("tree")
        module.map_structure = map_structure  # type: ignore[attr-defined]
        sys.modules["tree"] = module


def openspiel_curve(cfg: Config) -> dict[str, Any]:
    """OpenSpiel's torch Deep CFR on ``leduc_poker``, iterated as its ``solve`` does."""
    _tree_stand_in()
    try:
        import pyspiel
        from open_spiel.python import policy as os_policy
        from open_spiel.python.algorithms import exploitability as os_exploitability
        from open_spiel.python.pytorch import deep_cfr
    except Exception as exc:  # report why the peer is missing, do not fail the benchmark
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    traversals = 375
    settings: dict[str, Any] = {
        "policy_network_layers": (64,),
        "advantage_network_layers": (64,),
        "num_iterations": 1,
        "num_traversals": traversals,
        "reinitialize_advantage_networks": True,
        "learning_rate": 1e-3,
        "batch_size_advantage": 256,
        "batch_size_strategy": 256,
        "memory_capacity": 100_000,
        "policy_network_train_steps": 2500,
        "advantage_network_train_steps": 375,
        "seed": cfg.seed,
    }
    game = pyspiel.load_game("leduc_poker")
    solver = deep_cfr.DeepCFRSolver(game, **settings)

    def step() -> int:
        for p in range(game.num_players()):
            for _ in range(traversals):
                solver._traverse_game_tree(solver._root_node, p)
            solver._reinitialize_advantage_network(p)
            solver._learn_advantage_network(p)
        solver._iteration += 1
        return int(solver._iteration) - 1

    def readout() -> Any:
        solver._learn_strategy_network()
        table = os_policy.tabular_policy_from_callable(game, solver.action_probabilities)
        solver._reinitialize_policy_network()
        return table

    curve = _run_curve(
        "openspiel deep-cfr",
        cfg.budget,
        step,
        readout,
        lambda table: os_exploitability.exploitability(game, table),
    )
    return {"config": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}, **curve}


def plot(curves: dict[str, Any], path: str, target: float) -> None:
    """Exploitability against seconds, every learner on one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, data in curves.items():
        if "seconds" not in data:
            continue
        style = "k--" if label.startswith("openspiel") else ("-s" if "scratch" in label else "-o")
        ax.semilogy(data["seconds"], data["exploitability"], style, label=label, markersize=3)
    ax.axhline(target, color="grey", linewidth=0.8, linestyle=":", label=f"target {target:g}")
    ax.set_xlabel("seconds (algorithm + read-out of the policy; exact evaluation excluded)")
    ax.set_ylabel("exploitability")
    ax.set_title("Deep learners on Leduc poker (one torch thread)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(cfg: Config) -> dict[str, Any]:
    """Run the learners, print the curves, write JSON and PNG; returns the result."""
    import torch

    torch.set_num_threads(1)
    curves = {label: gamesolve_curve(cfg, label, options) for label, options in GAMESOLVE_ROWS.items()}
    if cfg.openspiel:
        curves["openspiel deep-cfr"] = openspiel_curve(cfg)
    result = {
        "config": asdict(cfg),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": package_version("torch"),
            "open_spiel": package_version("open_spiel"),
        },
        "curves": curves,
    }
    os.makedirs(cfg.out, exist_ok=True)
    with open(f"{cfg.out}/result.json", "w") as fh:
        json.dump(result, fh, indent=2)
    plot(curves, f"{cfg.out}/leduc_deep_learners.png", cfg.target)
    print(f"\nLeduc, first point at exploitability <= {cfg.target:g}:")
    for label, data in curves.items():
        if "skipped" in data:
            print(f"  {label:<24} skipped ({data['skipped']})")
            continue
        hit = [s for s, e in zip(data["seconds"], data["exploitability"], strict=True) if e <= cfg.target]
        shown = f"{hit[0]:.1f} s" if hit else "not reached"
        print(
            f"  {label:<24} {shown}   (final {data['exploitability'][-1]:.3f} at {data['seconds'][-1]:.1f} s)"
        )
    print(f"\nwrote {cfg.out}/result.json and {cfg.out}/leduc_deep_learners.png")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=Config.budget)
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--no-openspiel", action="store_true")
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    main(Config(budget=ns.budget, seed=ns.seed, openspiel=not ns.no_openspiel, out=ns.out))
