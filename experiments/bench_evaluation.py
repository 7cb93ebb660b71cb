"""Benchmark: exact NashConv in gamesolve against OpenSpiel's and LiteEFG's C++ evaluators.

Both libraries evaluate the *same* seeded random policy on the same game in one run. Numba
compilation is excluded (one warm-up call; kernels are cached on disk across runs), and so is the
conversion of the policy into OpenSpiel's C++ ``TabularPolicy``. Each figure is the median of
``repeats`` timed calls; the ratio is OpenSpiel's median over ours. LiteEFG (optional: it builds
from source) is raced on the uniform profile, the one it can be given without a conversion, with
ours timed on that same profile. The run also records compile time and bytes per node of every
game in ``size_games``.

Run: ``python -m experiments.bench_evaluation`` (or ``make bench``). Writes
``runs/bench_evaluation/result.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version, timed
from experiments._liteefg import CFRPlus
from experiments._liteefg import load as load_liteefg
from gamesolve.io import atomic_write_text

LITEEFG, LITEEFG_VERSION = load_liteefg()


@dataclass
class Config:
    """What to measure."""

    games: tuple[str, ...] = ("leduc_poker", "liars_dice")
    size_games: tuple[str, ...] = ("leduc", "leduc_poker", "liars_dice", "leduc(ranks=13,suits=4)")
    repeats: int = 20
    openspiel_repeats: dict[str, int] = field(default_factory=lambda: {"liars_dice": 3})
    seed: int = 0
    out: str = "runs/bench_evaluation"


def bench_game(name: str, cfg: Config) -> dict[str, Any]:
    """Time both evaluators on one game and check that they agree."""
    import pyspiel

    game = gamesolve.load_game(name)
    compiled = gamesolve.as_compiled(game)
    policy = gamesolve.TabularPolicy.random(compiled, rng=np.random.default_rng(cfg.seed))
    cpp_policy = pyspiel.TabularPolicy(policy.to_openspiel().to_dict())
    os_game = game.pyspiel_game

    ours_s, report = timed(lambda: gamesolve.nash_conv(compiled, policy), cfg.repeats)
    ours_expl_s, _ = timed(lambda: gamesolve.exploitability(compiled, policy), cfg.repeats)
    os_repeats = cfg.openspiel_repeats.get(name, cfg.repeats)
    os_s, os_value = timed(lambda: pyspiel.nash_conv(os_game, cpp_policy), os_repeats)
    diff = abs(report.nash_conv - os_value)
    if diff > 1e-9:
        raise AssertionError(
            f"{name}: NashConv disagrees: gamesolve {report.nash_conv} vs OpenSpiel {os_value}"
        )
    lite = liteefg_row(compiled, name, cfg)
    return {
        **lite,
        "game": name,
        "nash_conv": report.nash_conv,
        "openspiel_nash_conv": os_value,
        "abs_difference": diff,
        "gamesolve_nash_conv_ms": ours_s * 1e3,
        "gamesolve_exploitability_ms": ours_expl_s * 1e3,
        "openspiel_nash_conv_ms": os_s * 1e3,
        "speedup": os_s / ours_s,
    }


def liteefg_row(compiled: Any, name: str, cfg: Config) -> dict[str, Any]:
    """LiteEFG's exact NashConv of the uniform profile against ours on the same profile.

    LiteEFG evaluates strategies that live in its own computation graph; the one every library can
    be given without a conversion is the uniform profile (its CFR+ graph before any update), so
    this column races both evaluators on that profile. LiteEFG returns numbers only, so ours is
    timed by the call that returns numbers only (:func:`gamesolve.exploitability`, NashConv over
    the player count); :func:`gamesolve.nash_conv` also builds every best-response policy.
    """
    if LITEEFG is None:
        return {"liteefg_nash_conv_ms": None, "liteefg_note": LITEEFG_VERSION}
    lite = CFRPlus(name)
    lite.show_uniform()
    uniform = gamesolve.uniform_policy(compiled)
    players = compiled.num_players
    ours_s, ours = timed(lambda: gamesolve.exploitability(compiled, uniform) * players, cfg.repeats)
    lite_s, theirs = timed(lambda: lite.nash_conv("last-iterate"), cfg.repeats)
    if abs(ours - theirs) > 1e-9:
        raise AssertionError(f"{name}: uniform NashConv disagrees: gamesolve {ours} vs LiteEFG {theirs}")
    return {
        "uniform_nash_conv": ours,
        "gamesolve_uniform_exploitability_ms": ours_s * 1e3,
        "liteefg_nash_conv_ms": lite_s * 1e3,
        "speedup_vs_liteefg": lite_s / ours_s,
    }


def size_of(name: str) -> dict[str, Any]:
    """Compile time and memory of one game."""
    start = time.perf_counter()
    compiled = gamesolve.as_compiled(gamesolve.load_game(name))
    seconds = time.perf_counter() - start
    policy = gamesolve.uniform_policy(compiled)
    eval_s, _ = timed(lambda: gamesolve.exploitability(compiled, policy), 3)
    return {
        "game": name,
        "nodes": compiled.num_nodes,
        "infosets": compiled.num_infosets,
        "compile_seconds": seconds,
        "bytes": compiled.nbytes,
        "bytes_per_node": compiled.nbytes / compiled.num_nodes,
        "uniform_exploitability_ms": eval_s * 1e3,
    }


def main(cfg: Config) -> dict[str, Any]:
    """Run the benchmark, print a table, write the JSON result and return it."""
    rows = [bench_game(name, cfg) for name in cfg.games]
    sizes = [size_of(name) for name in cfg.size_games]
    result = {
        "config": asdict(cfg),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "python": platform.python_version(),
        },
        "openspiel_version": package_version("open_spiel"),
        "liteefg_version": LITEEFG_VERSION,
        "evaluation": rows,
        "sizes": sizes,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result, indent=2))
    print(f"{'game':<14}{'gamesolve ms':>14}{'OpenSpiel C++ ms':>18}{'speedup':>10}   NashConv (|diff|)")
    for r in rows:
        print(
            f"{r['game']:<14}{r['gamesolve_nash_conv_ms']:>14.3f}{r['openspiel_nash_conv_ms']:>18.1f}"
            f"{r['speedup']:>9.0f}x   {r['nash_conv']:.9f} ({r['abs_difference']:.1e})"
        )
    if LITEEFG is None:
        print(f"(no LiteEFG column: {LITEEFG_VERSION})")
    else:
        print(f"\nuniform profile: {'game':<14}{'gamesolve ms':>14}{'LiteEFG C++ ms':>16}{'speedup':>10}")
        for r in rows:
            print(
                f"{'':<17}{r['game']:<14}{r['gamesolve_uniform_exploitability_ms']:>14.3f}"
                f"{r['liteefg_nash_conv_ms']:>16.3f}{r['speedup_vs_liteefg']:>9.1f}x"
            )
    print(f"\n{'game':<26}{'nodes':>12}{'infosets':>10}{'compile s':>11}{'bytes/node':>12}{'expl ms':>9}")
    for s in sizes:
        print(
            f"{s['game']:<26}{s['nodes']:>12,}{s['infosets']:>10,}{s['compile_seconds']:>11.2f}"
            f"{s['bytes_per_node']:>12.1f}{s['uniform_exploitability_ms']:>9.2f}"
        )
    print(f"\npeak RSS {result['peak_rss_mib']:.0f} MiB; wrote {cfg.out}/result.json")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=Config.repeats)
    parser.add_argument("--games", nargs="+", default=list(Config.games))
    parser.add_argument("--size-games", nargs="*", default=list(Config.size_games))
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    main(Config(games=tuple(ns.games), size_games=tuple(ns.size_games), repeats=ns.repeats, out=ns.out))
