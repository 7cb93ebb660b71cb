"""Benchmark: deep equilibrium learners on Leduc poker, exact exploitability against time.

Every learner runs alone for its own budget of algorithm time (one torch thread, numba and BLAS
single-threaded), driven step by step through the solver contract (``prepare``, ``init``,
``step``, ``policy``). At evaluation marks (a fixed list of algorithm-time points, cut at the
budget) the learner's output policy is read out (for Deep CFR, ESCHER and NFSP that includes
training the average-policy network: the cost of having that policy in hand) and its exact
exploitability is computed; the exact evaluation itself is not counted. Each point records wall
seconds and process CPU seconds of algorithm plus read-out.

Learners (``--learners``, default all) and the issue's targets on ``leduc``:

=========================  ================================  =========================
label                      what                              target
=========================  ================================  =========================
``deep-cfr``               gamesolve ``deep-cfr``, defaults  <= 0.35 within 120 s
``deep-cfr-scratch``       ... networks re-initialised       (as in the paper)
``escher``                 gamesolve ``escher``              (none)
``nfsp``                   gamesolve ``nfsp``                <= 1.0 within 300 s
``ppo``                    gamesolve ``ppo``                 <= 0.5 within 600 s
``neural-mmd``             gamesolve ``neural-mmd``          <= 0.5 within 600 s
``rnad``                   gamesolve ``rnad``                <= 0.5 within 600 s
``neupl``                  gamesolve ``neupl`` on tensors    (none)
``neupl-learned``          ... ``U`` from the estimator phi  (none)
``psro-ppo``               ``psro``, PPO oracles, anytime    (none)
``openspiel-deep-cfr``     OpenSpiel torch Deep CFR          (peer)
``openspiel-nfsp``         OpenSpiel torch NFSP              (peer)
=========================  ================================  =========================

The population learners (``neupl``, ``psro-ppo``) output the mixture of their population; its
exact exploitability is what each mark records, like the other learners' networks.

OpenSpiel's Deep CFR runs with the settings of its own ``deep_cfr_pytorch`` example (advantage and
policy layers (64,), 375 traversals, batches of 256, 375 advantage steps, 2,500 policy steps,
learning rate 1e-3, memories of 100,000), iterated as its ``solve`` does; read-out is its
``_learn_strategy_network`` followed by tabulating ``action_probabilities``, and exploitability is
OpenSpiel's own. Its module imports ``tree`` (dm-tree) only for ``map_structure`` over named
tuples; when dm-tree is not installed the benchmark supplies a minimal stand-in for that one
function. OpenSpiel's NFSP runs with the flags of its ``nfsp_leduc_pytorch`` example (see
:mod:`experiments.peer_openspiel_nfsp`). Peers are skipped, with the reason recorded, when they do
not import.

Each learner's curve is written to ``OUT/<label>.json`` as soon as it finishes, so learners can run
in separate processes (``--learners ppo`` in one, ``--learners rnad`` in another, on separate
cores); ``--plot`` merges every ``OUT/*.json`` into ``OUT/result.json`` and one figure
``OUT/leduc_deep_learners.png`` with every curve. ``--game`` runs another compiled game (e.g.
``"leduc(ranks=13,suits=4)"``; the OpenSpiel peers play ``leduc_poker`` only and are skipped there).

Run: ``python -m experiments.bench_deep_learners [--learners deep-cfr,ppo] [--budget S] [--plot]``.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import platform
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments._common import package_version

#: Algorithm-time marks (seconds) at which the learners are evaluated, cut at the budget.
MARKS = (
    2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 75.0, 90.0, 105.0, 120.0,
    150.0, 180.0, 240.0, 300.0, 360.0, 420.0, 480.0, 540.0, 600.0,
)  # fmt: skip


@dataclass(frozen=True)
class Learner:
    """One row of the benchmark: a gamesolve solver with options, or an OpenSpiel peer."""

    solver: str
    options: dict[str, Any]
    budget: float
    target: float | None = None


#: NeuPL on the batched environment (one conditional network; PSRO-N graph; ``U`` exact from the
#: members' tables every 25 iterations, or from the learned estimator in ``neupl-learned``).
NEUPL_OPTIONS: dict[str, Any] = {
    "backend": "tensor",
    "max_population": 16,
    "episodes": 512,
    "rollout_length": 16,
    "minibatch": 1024,
    "entropy_coef": 0.1,
    "hidden": [128, 128],
    "patience": 2,
    "payoff_every": 25,
}

#: PSRO with PPO responses kept as tables and the anytime meta-solver (the best PSRO setting of
#: ``experiments.reproduce_psro_rl_leduc``).
PSRO_OPTIONS: dict[str, Any] = {
    "oracle": "ppo",
    "oracle_steps": 100_000,
    "meta_solver": "anytime",
    "members": "table",
}

#: The rows (label -> learner); ``solver`` ``"openspiel:..."`` is a peer.
LEARNERS: dict[str, Learner] = {
    "deep-cfr": Learner("deep-cfr", {}, 120.0, 0.35),
    "deep-cfr-scratch": Learner("deep-cfr", {"warm_start": False, "advantage_steps": 150}, 120.0),
    "escher": Learner("escher", {}, 120.0),
    "nfsp": Learner("nfsp", {}, 300.0, 1.0),
    "ppo": Learner("ppo", {}, 600.0, 0.5),
    "neural-mmd": Learner("neural-mmd", {}, 600.0, 0.5),
    "rnad": Learner("rnad", {}, 600.0, 0.5),
    "neupl": Learner("neupl", NEUPL_OPTIONS, 600.0),
    "neupl-learned": Learner("neupl", {**NEUPL_OPTIONS, "payoff_estimate": "learned"}, 600.0),
    "psro-ppo": Learner("psro", PSRO_OPTIONS, 600.0),
    "openspiel-deep-cfr": Learner("openspiel:deep-cfr", {}, 426.0),
    "openspiel-nfsp": Learner("openspiel:nfsp", {}, 530.0),
}


@dataclass(frozen=True)
class Config:
    """What the benchmark runs."""

    learners: tuple[str, ...] = tuple(LEARNERS)
    budget: float | None = None  # None: each learner's own budget
    seed: int = 0
    game: str = "leduc"
    out: str = "runs/bench_deep_learners"
    clock: str = "wall"  # what budgets and marks count: "wall" seconds or this process's "cpu" seconds


def _marks(budget: float) -> list[float]:
    marks = [m for m in MARKS if m < budget]
    return [*marks, budget]


def _run_curve(
    name: str,
    budget: float,
    step: Callable[[], int],
    readout: Callable[[], Any],
    evaluate: Callable[[Any], float],
    clock: str = "wall",
    *,
    marks: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Step until ``budget`` seconds of algorithm time, evaluating at each mark.

    ``clock="wall"`` counts wall seconds; ``"cpu"`` counts this process's CPU seconds, the fair
    measure on a shared machine while every learner, peers included, runs torch on one thread.
    Both are recorded either way.
    """
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
    algo = cpu = 0.0
    curve: dict[str, list[float]] = {
        "seconds": [],
        "cpu_seconds": [],
        "algorithm_seconds": [],
        "iteration": [],
        "exploitability": [],
    }
    iteration = 0
    for mark in _marks(budget) if marks is None else [m for m in marks if m <= budget]:
        while (algo if clock == "wall" else cpu) < mark:
            start, start_cpu = time.perf_counter(), time.process_time()
            iteration = step()
            algo += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
        start, start_cpu = time.perf_counter(), time.process_time()
        policy = readout()
        read, read_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        expl = float(evaluate(policy))
        curve["seconds"].append(algo + read)
        curve["cpu_seconds"].append(cpu + read_cpu)
        curve["algorithm_seconds"].append(algo)
        curve["iteration"].append(iteration)
        curve["exploitability"].append(expl)
        print(
            f"  {name}: {algo + read:7.1f} s (cpu {cpu + read_cpu:7.1f} s)  iteration {iteration:6d}  "
            f"exploitability {expl:.4f}",
            flush=True,
        )
    return curve


def gamesolve_curve(cfg: Config, label: str, learner: Learner, budget: float) -> dict[str, Any]:
    """A gamesolve learner on ``cfg.game``, step by step through the solver contract."""
    import gamesolve
    from gamesolve.registry import make_solver

    source = gamesolve.load_game(cfg.game)
    solver = make_solver(learner.solver, game=source, **learner.options)
    game = solver.prepare(source)
    solver.warm_up(game)
    state = solver.init(game, np.random.default_rng(cfg.seed))
    solver.step(game, {k: v.copy() for k, v in state.items()}, 1)  # compile kernels, warm torch
    count = 0

    def step() -> int:
        nonlocal count
        solver.step(game, state, 1)
        counter = solver.state_counter(state)
        count += 1
        return int(counter) if counter is not None else count

    curve = _run_curve(
        label,
        budget,
        step,
        lambda: solver.policy(game, state, solver.output),
        lambda policy: solver.evaluate(game, policy),
        cfg.clock,
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
        # torch looks every loaded module up by its spec when an optimizer is built
        module.__spec__ = importlib.machinery.ModuleSpec("tree", None)
        sys.modules["tree"] = module


def openspiel_deep_cfr_curve(cfg: Config, budget: float) -> dict[str, Any]:
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
        "openspiel-deep-cfr",
        budget,
        step,
        readout,
        lambda table: os_exploitability.exploitability(game, table),
        cfg.clock,
    )
    return {"config": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}, **curve}


def openspiel_nfsp_curve(cfg: Config, budget: float) -> dict[str, Any]:
    """OpenSpiel's torch NFSP on ``leduc_poker`` (see :mod:`experiments.peer_openspiel_nfsp`)."""
    try:
        from experiments.peer_openspiel_nfsp import openspiel_nfsp_curve as curve
    except Exception as exc:  # report why the peer is missing, do not fail the benchmark
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    result: dict[str, Any] = curve(budget, cfg.seed, _marks(budget), cfg.clock)
    return result


PEERS: dict[str, Callable[[Config, float], dict[str, Any]]] = {
    "openspiel:deep-cfr": openspiel_deep_cfr_curve,
    "openspiel:nfsp": openspiel_nfsp_curve,
}


def run_learner(cfg: Config, label: str) -> dict[str, Any]:
    """One learner's curve (or the reason it was skipped), written to ``OUT/<label>.json``."""
    learner = LEARNERS[label]
    budget = learner.budget if cfg.budget is None else cfg.budget
    print(f"{label}: {budget:g} s on {cfg.game}", flush=True)
    if learner.solver.startswith("openspiel:"):
        if cfg.game != "leduc":
            data: dict[str, Any] = {"skipped": "the OpenSpiel peers play leduc_poker only"}
        else:
            data = PEERS[learner.solver](cfg, budget)
    else:
        data = gamesolve_curve(cfg, label, learner, budget)
    data = {
        "learner": label,
        "game": cfg.game,
        "budget": budget,
        "clock": cfg.clock,
        "target": learner.target,
        **data,
    }
    os.makedirs(cfg.out, exist_ok=True)
    atomic_write_json(os.path.join(cfg.out, f"{label}.json"), data)
    return data


def atomic_write_json(path: str, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a temporary file and a rename)."""
    from gamesolve.io import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2))


def _seconds(data: dict[str, Any]) -> list[float]:
    """The curve's time axis: CPU seconds when its budget counted them, else wall seconds."""
    return list(data["cpu_seconds"] if data.get("clock") == "cpu" else data["seconds"])


def plot(curves: dict[str, Any], path: str, game: str) -> None:
    """Exploitability against seconds, every learner on one figure (targets as dotted lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for label, data in curves.items():
        if "seconds" not in data:
            continue
        style = "--" if label.startswith("openspiel") else "-"
        (line,) = ax.semilogy(
            _seconds(data), data["exploitability"], style, marker="o", label=label, markersize=3
        )
        if data.get("target") is not None:
            ax.plot([data["budget"]], [data["target"]], marker="*", color=line.get_color(), markersize=10)
    clocks = {data.get("clock", "wall") for data in curves.values() if "seconds" in data}
    unit = (
        "CPU seconds" if clocks == {"cpu"} else "seconds" if clocks == {"wall"} else "seconds (mixed clocks)"
    )
    ax.set_xlabel(f"{unit} (algorithm + read-out of the policy; exact evaluation excluded)")
    ax.set_ylabel("exact exploitability")
    ax.set_title(f"Deep learners on {game} (one CPU thread each; stars: targets)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def merge(cfg: Config) -> dict[str, Any]:
    """Every ``OUT/<label>.json`` into ``OUT/result.json`` and one figure; prints the targets."""
    curves: dict[str, Any] = {}
    for label in LEARNERS:
        path = os.path.join(cfg.out, f"{label}.json")
        if os.path.exists(path):
            with open(path) as fh:
                curves[label] = json.load(fh)
    result = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": package_version("torch"),
            "open_spiel": package_version("open_spiel"),
        },
        "curves": curves,
    }
    atomic_write_json(os.path.join(cfg.out, "result.json"), result)
    games = {data.get("game", cfg.game) for data in curves.values()}
    plot(curves, os.path.join(cfg.out, "leduc_deep_learners.png"), ", ".join(sorted(games)))
    print("\nfinal exploitability, and the first point at the target:")
    for label, data in curves.items():
        if "skipped" in data:
            print(f"  {label:<20} skipped ({data['skipped']})")
            continue
        final = (
            f"{data['exploitability'][-1]:.3f} at {data['seconds'][-1]:.1f} s "
            f"(cpu {data['cpu_seconds'][-1]:.1f} s)"
        )
        target = data.get("target")
        hit = ""
        if target is not None:
            at = [s for s, e in zip(_seconds(data), data["exploitability"], strict=True) if e <= target]
            unit = "cpu s" if data.get("clock") == "cpu" else "s"
            hit = f"   target <= {target:g}: " + (f"{at[0]:.1f} {unit}" if at else "not reached")
        print(f"  {label:<20} {final}{hit}")
    print(f"\nwrote {cfg.out}/result.json and {cfg.out}/leduc_deep_learners.png")
    return result


def main(cfg: Config, *, plot_only: bool = False) -> dict[str, Any]:
    """Run the chosen learners one after the other, then merge every curve in ``OUT``."""
    if not plot_only:
        import torch

        torch.set_num_threads(1)
        for label in cfg.learners:
            run_learner(cfg, label)
    return merge(cfg)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", default=",".join(LEARNERS), help="comma-separated labels")
    parser.add_argument("--budget", type=float, default=None, help="seconds each (default: each one's own)")
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--game", default=Config.game)
    parser.add_argument("--out", default=Config.out)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default=Config.clock,
        help="budgets count wall seconds or this process's CPU seconds (fair on a shared machine)",
    )
    parser.add_argument(
        "--plot", action="store_true", help="only merge OUT/*.json into one result and figure"
    )
    ns = parser.parse_args()
    chosen = tuple(x for x in ns.learners.split(",") if x)
    unknown = [x for x in chosen if x not in LEARNERS]
    if unknown:
        parser.error(f"unknown learners {unknown}; known: {', '.join(LEARNERS)}")
    config = Config(learners=chosen, budget=ns.budget, seed=ns.seed, game=ns.game, out=ns.out, clock=ns.clock)
    main(config, plot_only=ns.plot)
