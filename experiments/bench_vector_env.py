"""Benchmark: batched environments, random play, decisions per second on one core.

Every row builds a :class:`~gamesolve.vector_env.VectorEnv` (or a peer loop) and plays uniformly
random legal actions, drawn in numpy from the legal mask (``argmax`` of uniforms on the legal
columns), for ``steps`` calls of ``env.step`` after a warm-up (kernel compilation excluded). A
decision is one action of one episode, so a step of ``B`` episodes makes ``B`` decisions. The cost
split reports the share of the time inside ``env.step`` and in drawing the actions. The process is
pinned to one core when the platform allows it.

Rows (add one by writing a function ``Config -> dict`` and listing it in :data:`ROWS`):

* ``tree/leduc/info_state``: native Leduc in numba (:class:`~gamesolve.vector_env.tree.TreeVectorEnv`)
  with OpenSpiel's information-state tensors, ``B = 1,024``. Target: at least 1,000,000 decisions/s.
* ``tree/leduc/observation``, ``tree/kuhn/info_state``: the same with observation tensors, on Kuhn.
* ``tree/leduc/one_hot``: the compiled Leduc tree without its encoder (one-hot infoset ids).
* ``tree/leduc_13x4/info_state``: ``leduc(ranks=13,suits=4)`` (79,872 infosets, about 10M histories),
  with the size of its ``[I, F]`` float32 table and the time to compile and encode it.

* ``openspiel/leduc_poker/info_state``, ``openspiel/connect_four/observation``: OpenSpiel games
  through ``pyspiel`` states (:class:`~gamesolve.games.openspiel_env.OpenSpielVectorEnv`), against a
  bare ``pyspiel`` state loop doing the same work (apply_action, tensor read, legal actions, chance
  sampled by inverse transform) and OpenSpiel's ``rl_environment.Environment``, the same number
  of decisions each, all warm, interleaved several times; rates are decisions per CPU second of
  the process (time the machine's other load takes from it is not counted) and the best run of
  each is kept. Targets: at least 75% of the bare loop and 4 times ``rl_environment``. The bare
  loop replays every episode's opening deal; the env clones the state a kept opening leads to
  (same draws, same outcomes), which on Leduc saves it pyspiel calls the bare loop makes.
* ``openspiel/dark_hex/info_state``, ``openspiel/phantom_ttt/info_state``,
  ``openspiel/universal_poker_limit/info_state``: games far too large to compile, no peers.
* ``pettingzoo/connect_four_v3``, ``pettingzoo/texas_holdem_v4``: PettingZoo AEC environments
  (:class:`~gamesolve.games.pettingzoo.vector.PettingZooVectorEnv`) against a plain loop over one
  environment doing the same work (step, observe, action mask).

Run: ``python -m experiments.bench_vector_env [--rows NAME ...]``. Writes
``runs/bench_vector_env/result.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version
from gamesolve.io import atomic_write_text
from gamesolve.vector_env import VectorEnv
from gamesolve.vector_env.tree import TreeVectorEnv

log = logging.getLogger(__name__)

#: Decisions per second that native Leduc with information-state tensors must reach (B = 1,024).
TARGET = 1_000_000


@dataclass
class Config:
    """What to measure."""

    num_envs: int = 1024
    steps: int = 3_000
    warmup_steps: int = 50
    seed: int = 0
    one_core: bool = True
    rows: list[str] = field(default_factory=list)  # empty: every row
    openspiel_decisions: int = 100_000  # per measurement of an OpenSpiel row (env and each peer)
    openspiel_repeats: int = 5  # interleaved measurements of the env and its peers; the best of each
    pyspiel_num_envs: int = 128  # the states of much larger batches fall out of the CPU caches
    pettingzoo_decisions: int = 20_000
    pettingzoo_num_envs: int = 16
    out: str = "runs/bench_vector_env"


def random_play(env: VectorEnv, cfg: Config) -> dict[str, Any]:
    """Decisions per second of uniformly random legal play, with the cost split."""
    rng = np.random.default_rng(cfg.seed)
    ts = env.reset()

    def draw(legal: np.ndarray) -> np.ndarray:
        u = rng.random(legal.shape)
        u[~legal] = -1.0
        return u.argmax(axis=1)

    for _ in range(cfg.warmup_steps):
        ts = env.step(draw(ts.legal))
    in_step = in_draw = 0.0
    episodes = env.episodes
    start = time.perf_counter()
    for _ in range(cfg.steps):
        t0 = time.perf_counter()
        actions = draw(ts.legal)
        t1 = time.perf_counter()
        ts = env.step(actions)
        in_step += time.perf_counter() - t1
        in_draw += t1 - t0
    seconds = time.perf_counter() - start
    decisions = cfg.steps * env.num_envs
    return {
        "num_envs": env.num_envs,
        "observation_size": env.observation_size,
        "num_actions": env.num_actions,
        "decisions": decisions,
        "episodes": env.episodes - episodes,
        "seconds": seconds,
        "decisions_per_second": decisions / seconds,
        "share_in_step": in_step / seconds,
        "share_drawing_actions": in_draw / seconds,
        "microseconds_per_step": 1e6 * in_step / cfg.steps,
    }


def _tree_row(make_game: Callable[[], Any], observation: str) -> Callable[[Config], dict[str, Any]]:
    def row(cfg: Config) -> dict[str, Any]:
        env = TreeVectorEnv(make_game(), num_envs=cfg.num_envs, seed=cfg.seed, observation=observation)
        return random_play(env, cfg)

    return row


def _one_hot_leduc() -> Any:
    return dataclasses.replace(gamesolve.load_game("leduc").compile(), source=None)


def large_leduc(cfg: Config) -> dict[str, Any]:
    """``leduc(ranks=13,suits=4)``: compile, encode, then random play; the table's size."""
    game = gamesolve.load_game("leduc(ranks=13,suits=4)")
    start = time.perf_counter()
    compiled = game.compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    table = game.infoset_tensors("info_state")
    encode_seconds = time.perf_counter() - start
    row = random_play(TreeVectorEnv(game, num_envs=cfg.num_envs, seed=cfg.seed), cfg)
    row.update(
        infosets=compiled.num_infosets,
        histories=compiled.num_nodes,
        table_shape=list(table.shape),
        table_megabytes=table.nbytes / 1e6,
        compiled_megabytes=compiled.nbytes / 1e6,
        compile_seconds=compile_seconds,
        encode_seconds=encode_seconds,
    )
    return row


#: Decisions per second the pyspiel backend must reach, as shares of its peers' (same run).
OPENSPIEL_TARGETS = {"bare_pyspiel_loop": 0.75, "rl_environment": 4.0}


def bare_pyspiel_loop(name: str, observation: str, decisions: int, seed: int) -> float:
    """Decisions per second of one ``pyspiel`` state played at random: the work the env does, no more."""
    import random

    import pyspiel

    game = pyspiel.load_game(name)
    tensor = "information_state_tensor" if observation == "info_state" else "observation_tensor"
    draw = random.Random(seed).random
    # The tensor is read the fastest way pyspiel offers, as the env reads it: the set_from method of
    # pyspiel's observer object, called directly, writing into its own buffer (the state's
    # list-returning method where the game has no observer).
    read: Any
    try:
        from open_spiel.python.observation import make_observation

        kind = pyspiel.IIGObservationType(perfect_recall=observation == "info_state")
        observer = make_observation(game, kind)
        read = getattr(observer, "_observation", observer).set_from
    except Exception:  # a game without an observer

        def read(state: Any, player: int) -> None:
            getattr(state, tensor)(player)

    def play(n: int) -> None:
        state = game.new_initial_state()
        done = 0
        while done < n:
            player = state.current_player()
            if player == -1:  # chance: inverse transform of one uniform
                u, total = draw(), 0.0
                outcomes = state.chance_outcomes()
                chosen = outcomes[-1][0]
                for action, prob in outcomes:
                    total += prob
                    if u < total:
                        chosen = action
                        break
                state.apply_action(chosen)
            elif player == -4:
                state.returns()
                state = game.new_initial_state()
            else:
                read(state, player)
                legal = state.legal_actions()
                state.apply_action(legal[int(draw() * len(legal))])
                done += 1

    play(decisions // 20)  # warm
    start = time.process_time()
    play(decisions)
    return decisions / (time.process_time() - start)


def rl_environment_loop(name: str, observation: str, decisions: int, seed: int) -> float:
    """Decisions per second of OpenSpiel's ``rl_environment.Environment`` played at random."""
    import random

    from open_spiel.python import rl_environment

    kind = rl_environment.ObservationType
    env = rl_environment.Environment(
        name,
        observation_type=kind.INFORMATION_STATE if observation == "info_state" else kind.OBSERVATION,
        chance_event_sampler=rl_environment.ChanceEventSampler(seed=seed),
    )
    draw = random.Random(seed).random

    def play(n: int) -> None:
        time_step = env.reset()
        for _ in range(n):
            if time_step.last():
                time_step = env.reset()
            player = time_step.observations["current_player"]
            legal = time_step.observations["legal_actions"][player]
            time_step = env.step([legal[int(draw() * len(legal))]])

    play(decisions // 20)
    start = time.process_time()
    play(decisions)
    return decisions / (time.process_time() - start)


def _cpu_random_play(env: VectorEnv, cfg: Config) -> dict[str, Any]:
    """:func:`random_play`, with the rate also in decisions per CPU second of this process."""
    start = time.process_time()
    out = random_play(env, cfg)
    cpu = time.process_time() - start
    # The warm-up steps run inside the CPU window too; count their decisions.
    out["cpu_decisions_per_second"] = (cfg.steps + cfg.warmup_steps) * env.num_envs / cpu
    return out


def _openspiel_row(name: str, observation: str, *, peers: bool) -> Callable[[Config], dict[str, Any]]:
    def row(cfg: Config) -> dict[str, Any]:
        game = gamesolve.load_game(name)
        env = game.vector_env(
            num_envs=cfg.pyspiel_num_envs, seed=cfg.seed, observation=observation, backend="pyspiel"
        )
        steps = max(1, cfg.openspiel_decisions // env.num_envs)
        decisions = steps * env.num_envs
        runs: list[dict[str, Any]] = []
        rates: dict[str, list[float]] = {"bare_pyspiel_loop": [], "rl_environment": []}
        for _ in range(cfg.openspiel_repeats if peers else 1):  # interleaved, best of each
            runs.append(_cpu_random_play(env, dataclasses.replace(cfg, steps=steps)))
            if peers:
                rates["bare_pyspiel_loop"].append(bare_pyspiel_loop(name, observation, decisions, cfg.seed))
                rates["rl_environment"].append(rl_environment_loop(name, observation, decisions, cfg.seed))
        out = max(runs, key=lambda r: r["cpu_decisions_per_second"])
        if not peers:
            return out
        best = {peer: max(values) for peer, values in rates.items()}
        ratios = {peer: out["cpu_decisions_per_second"] / rate for peer, rate in best.items()}
        out.update(
            repeats=cfg.openspiel_repeats,
            all_cpu_decisions_per_second=[r["cpu_decisions_per_second"] for r in runs],
            peers_all_decisions_per_second=rates,
            peers_decisions_per_second=best,
            ratio_to_peer=ratios,
            targets=OPENSPIEL_TARGETS,
            targets_met={peer: ratios[peer] >= target for peer, target in OPENSPIEL_TARGETS.items()},
        )
        return out

    return row


def plain_pettingzoo_loop(make_env: Callable[[], Any], decisions: int, seed: int) -> float:
    """Decisions per second of one PettingZoo AEC environment played at random (step, observe, mask)."""
    rng = np.random.default_rng(seed)
    env = make_env()

    def play(n: int) -> None:
        env.reset(seed=int(rng.integers(2**31 - 1)))
        done = 0
        while done < n:
            if not env.agents:
                env.reset(seed=int(rng.integers(2**31 - 1)))
                continue
            agent = env.agent_selection
            if env.terminations[agent] or env.truncations[agent]:
                env.step(None)
                continue
            obs = env.observe(agent)
            np.asarray(obs["observation"], dtype=np.float32).reshape(-1)
            legal = np.flatnonzero(obs["action_mask"])
            env.step(int(legal[int(rng.integers(len(legal)))]))
            done += 1

    play(decisions // 20)
    start = time.process_time()
    play(decisions)
    return decisions / (time.process_time() - start)


def _pettingzoo_row(module: str) -> Callable[[Config], dict[str, Any]]:
    def row(cfg: Config) -> dict[str, Any]:
        import importlib

        from gamesolve.games.pettingzoo import from_pettingzoo

        make_env = importlib.import_module(f"pettingzoo.classic.{module}").env
        env = from_pettingzoo(make_env, utility="zero_sum").vector_env(
            num_envs=cfg.pettingzoo_num_envs, seed=cfg.seed
        )
        steps = max(1, cfg.pettingzoo_decisions // env.num_envs)
        out = _cpu_random_play(env, dataclasses.replace(cfg, steps=steps, warmup_steps=5))
        rate = plain_pettingzoo_loop(make_env, out["decisions"], cfg.seed)
        out.update(
            peers_decisions_per_second={"plain_aec_loop": rate},
            ratio_to_peer={"plain_aec_loop": out["cpu_decisions_per_second"] / rate},
        )
        return out

    return row


#: Every row, by name, in the order they run.
ROWS: dict[str, Callable[[Config], dict[str, Any]]] = {
    "tree/leduc/info_state": _tree_row(lambda: gamesolve.load_game("leduc"), "info_state"),
    "tree/leduc/observation": _tree_row(lambda: gamesolve.load_game("leduc"), "observation"),
    "tree/kuhn/info_state": _tree_row(lambda: gamesolve.load_game("kuhn"), "info_state"),
    "tree/leduc/one_hot": _tree_row(_one_hot_leduc, "info_state"),
    "tree/leduc_13x4/info_state": large_leduc,
    "openspiel/leduc_poker/info_state": _openspiel_row("leduc_poker", "info_state", peers=True),
    "openspiel/connect_four/observation": _openspiel_row("connect_four", "observation", peers=True),
    "openspiel/dark_hex/info_state": _openspiel_row("dark_hex", "info_state", peers=False),
    "openspiel/phantom_ttt/info_state": _openspiel_row("phantom_ttt", "info_state", peers=False),
    "openspiel/universal_poker_limit/info_state": _openspiel_row(
        "universal_poker(betting=limit)", "info_state", peers=False
    ),
    "pettingzoo/connect_four_v3": _pettingzoo_row("connect_four_v3"),
    "pettingzoo/texas_holdem_v4": _pettingzoo_row("texas_holdem_v4"),
}


def _pin_to_one_core() -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def main(cfg: Config) -> dict[str, Any]:
    """Run the rows and write ``result.json``."""
    core = _pin_to_one_core() if cfg.one_core else None
    names = cfg.rows or list(ROWS)
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; rows are {list(ROWS)}")
    rows = {}
    for name in names:
        log.info("row %s", name)
        rows[name] = ROWS[name](cfg)
    result: dict[str, Any] = {
        "config": asdict(cfg),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pinned_core": core,
            "platform": platform.platform(),
        },
        "versions": {
            "gamesolve": gamesolve.__version__,
            "numpy": package_version("numpy"),
            "numba": package_version("numba"),
            "open_spiel": package_version("open_spiel"),
        },
        "rows": rows,
    }
    if "tree/leduc/info_state" in rows:
        result["target_decisions_per_second"] = TARGET
        result["target_met"] = rows["tree/leduc/info_state"]["decisions_per_second"] >= TARGET
    os.makedirs(cfg.out, exist_ok=True)
    atomic_write_text(os.path.join(cfg.out, "result.json"), json.dumps(result, indent=2))
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"{'row':<30} {'B':>6} {'F':>5} {'decisions/s':>14} {'in step':>8} {'drawing':>8}")
    for name, row in result["rows"].items():
        print(
            f"{name:<30} {row['num_envs']:>6} {row['observation_size']:>5} "
            f"{row['decisions_per_second']:>14,.0f} {row['share_in_step']:>8.0%} "
            f"{row['share_drawing_actions']:>8.0%}"
        )
        for peer, rate in row.get("peers_decisions_per_second", {}).items():
            met = row.get("targets_met", {}).get(peer)
            target = (
                "" if met is None else f" (target {row['targets'][peer]:g}x: {'met' if met else 'NOT met'})"
            )
            print(
                f"{'':<30} {row['cpu_decisions_per_second']:,.0f} decisions per CPU second; {peer}: "
                f"{rate:,.0f}, ratio {row['ratio_to_peer'][peer]:.2f}{target}"
            )
        if "table_megabytes" in row:
            print(
                f"{'':<30} table {row['table_shape']} float32: {row['table_megabytes']:.1f} MB; "
                f"compile {row['compile_seconds']:.1f} s, encode {row['encode_seconds']:.2f} s"
            )
    if "target_met" in result:
        print(f"target {result['target_decisions_per_second']:,} decisions/s met: {result['target_met']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=Config.num_envs)
    parser.add_argument("--steps", type=int, default=Config.steps)
    parser.add_argument("--rows", nargs="*", default=[], help=f"rows to run (default all): {list(ROWS)}")
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    parser.add_argument("--out", default=Config.out)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    _print(
        main(
            Config(
                num_envs=args.num_envs,
                steps=args.steps,
                rows=list(args.rows),
                one_core=not args.all_cores,
                out=args.out,
            )
        )
    )
