"""Benchmark: exact bimatrix equilibria against pygambit and QuantEcon.

Measured in one run, on one machine (absolute times drift between runs; ratios are the figure):

1. All equilibria of seeded random ``n x n`` games (payoffs uniform in ``[0, 1)``): our vertex
   enumeration (:func:`gamesolve.solvers.enumeration.enumerate_equilibria`, one thread) against
   ``pygambit.nash.enummixed_solve(rational=False)`` (vertex enumeration in C++) and QuantEcon's
   ``vertex_enumeration`` (the same method in numba); QuantEcon's ``support_enumeration`` (another
   method) is recorded beside them. The sets must coincide (count, and every profile to 1e-6).
2. One equilibrium of larger random games: our Lemke-Howson from label 0 against QuantEcon's
   ``lemke_howson(init_pivot=0)`` (the same path: the pivot counts must agree) and
   ``pygambit.nash.lcp_solve(rational=False, stop_after=1)`` (Lemke's algorithm on the LCP).
   Lemke-Howson path lengths are heavy-tailed on random games (from a hundred to millions of
   pivots at 500x500), so ours and QuantEcon's are both capped at ``lh_max_pivots`` pivots (the
   same work along the same path); pygambit has no pivot cap and gets ``peer_timeout`` seconds.

3. Degenerate games: all extreme equilibria of seeded random ``n x n`` games with integer
   payoffs ``0 .. 3`` (almost all degenerate) against seeded random games of the same sizes with
   payoffs uniform in ``[0, 1)`` (nondegenerate), and against
   ``pygambit.nash.enummixed_solve(rational=False)`` on the same degenerate instances, in this
   process (both warm; Gambit's game objects built beforehand). Statistic for each: per game
   the median of ``repeats`` calls, summed over the ``degenerate_games`` games of a size. Up to
   ``degenerate_rational_up_to`` our extreme-equilibrium sets are checked against Gambit's exact
   ``rational=True`` ones (duplicates merged: Gambit lists a degenerate vertex once per basis),
   and the games where Gambit's float version differs from its exact one are counted.

Every library gets the same treatment (:func:`timed`): one warm-up call that is not counted (JIT
compilation, caches), then the median of ``repeats`` calls (one timed call when a warm call takes a
second or more). Peers of 1 and 2 run so in forked child processes with a wall-clock limit;
building a peer's game object is timed apart and excluded, as building ours is.

Run: ``python -m experiments.bench_equilibria``. Writes ``runs/bench_equilibria/result.json``.
QuantEcon is optional (``pip install quantecon``, benchmark only); without it that peer is
skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np

import gamesolve
from experiments._common import package_version, timed
from gamesolve.io import atomic_write_text
from gamesolve.solvers.enumeration import enumerate_equilibria, extreme_equilibria, normalized_matrices
from gamesolve.solvers.lemke_howson import PivotLimitError, lemke_howson, lemke_howson_kernel


@dataclass
class Config:
    """What to measure."""

    enum_sizes: tuple[int, ...] = (8, 10, 12)
    enum_seeds: tuple[int, ...] = (0, 1, 2)
    lh_sizes: tuple[int, ...] = (200, 500)
    lh_seeds: tuple[int, ...] = (0, 1, 2)
    lh_max_pivots: int = 200_000
    degenerate_sizes: tuple[int, ...] = (4, 6, 8, 10)
    degenerate_games: int = 20
    degenerate_rational_up_to: int = 8
    repeats: int = 5
    peer_timeout: float = 120.0
    build_timeout: float = 180.0
    out: str = "runs/bench_equilibria"


def random_game(n: int, seed: int) -> gamesolve.TensorGame:
    """The seeded random ``n x n`` game (both payoff matrices uniform in ``[0, 1)``)."""
    rng = np.random.default_rng([seed, n])
    return gamesolve.bimatrix(rng.random((n, n)), rng.random((n, n)), name=f"random{n}x{n}-{seed}")


def _in_child(build: Callable[[], Any], solve: Callable[[Any], Any], cfg: Config) -> dict[str, Any]:
    """Time ``solve(build())`` in a forked child, the solve as :func:`timed` does for ours.

    The build is timed apart (excluded from every library's figure); the solve phase (warm-up and
    timed calls) gets ``2 * peer_timeout`` seconds of wall clock.
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def target() -> None:
        try:
            start = time.perf_counter()
            obj = build()
            sender.send(("built", time.perf_counter() - start))
            seconds, payload = timed(lambda: solve(obj), cfg.repeats)
            sender.send(("ok", seconds, payload))
        except BaseException as exc:
            sender.send(("error", repr(exc)))

    proc = ctx.Process(target=target, daemon=True)
    proc.start()
    out: dict[str, Any] = {"status": "timeout", "seconds": None, "build_seconds": None}
    try:
        if not receiver.poll(cfg.build_timeout):
            out["status"] = "build timeout"
            return out
        msg = receiver.recv()
        if msg[0] == "error":
            out.update(status="error", error=msg[1])
            return out
        out["build_seconds"] = msg[1]
        if receiver.poll(2 * cfg.peer_timeout):
            msg = receiver.recv()
            if msg[0] == "ok":
                out.update(status="ok", seconds=msg[1], result=msg[2])
            else:
                out.update(status="error", error=msg[1])
        return out
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def _quantecon() -> Any:
    try:
        import quantecon.game_theory as gt
    except ImportError:
        return None
    return gt


def _same_set(ours: list[list[np.ndarray]], theirs: list[list[np.ndarray]], atol: float = 1e-6) -> bool:
    def close(p: list[np.ndarray], q: list[np.ndarray]) -> bool:
        return all(
            float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) <= atol for u, v in zip(p, q, strict=True)
        )

    return (
        len(ours) == len(theirs)
        and all(any(close(p, q) for q in theirs) for p in ours)
        and all(any(close(q, p) for p in ours) for q in theirs)
    )


# --------------------------------------------------------------------------------------------
# 1. All equilibria
# --------------------------------------------------------------------------------------------


def bench_enumeration(n: int, seed: int, cfg: Config) -> dict[str, Any]:
    """Time all three enumerators on one game and check that they agree."""
    import pygambit

    game = random_game(n, seed)
    a, b = np.array(game.payoffs[0]), np.array(game.payoffs[1])  # writable copies for the peers
    t_ours, eqs = timed(lambda: enumerate_equilibria(game), cfg.repeats)
    ours = [[np.asarray(s) for s in eq] for eq in eqs]
    row: dict[str, Any] = {
        "n": n,
        "seed": seed,
        "equilibria": len(ours),
        "ours_seconds": t_ours,
    }

    def gambit_build() -> Any:
        return pygambit.StrategicGame.from_arrays(a, b)

    def gambit_solve(g: Any) -> list[list[list[float]]]:
        res = pygambit.nash.enummixed_solve(g, rational=False)
        return [[[float(p) for _, p in eq[pl]] for pl in g.players] for eq in res.equilibria]

    gambit = _in_child(gambit_build, gambit_solve, cfg)
    row["gambit"] = _summary(gambit, t_ours)
    if gambit["status"] == "ok":
        row["gambit"]["same_equilibria"] = _same_set(
            ours, [[np.array(s) for s in e] for e in gambit["result"]]
        )
    gt = _quantecon()
    if gt is None:
        row["quantecon"] = {"status": "skipped: quantecon not installed"}
    else:

        def qe_build() -> Any:
            return gt.NormalFormGame([gt.Player(a), gt.Player(b.T)])

        # like for like: QuantEcon's vertex enumeration; its support enumeration (another method,
        # exponential in n) is recorded beside it
        for key, method in (
            ("quantecon", gt.vertex_enumeration),
            ("quantecon_support", gt.support_enumeration),
        ):

            def qe_solve(g: Any, method: Any = method) -> list[list[list[float]]]:
                return [[s.tolist() for s in eq] for eq in method(g)]

            qe = _in_child(qe_build, qe_solve, cfg)
            row[key] = _summary(qe, t_ours)
            if qe["status"] == "ok":
                row[key]["same_equilibria"] = _same_set(
                    ours, [[np.array(s) for s in e] for e in qe["result"]]
                )
    return row


def _summary(peer: dict[str, Any], ours_seconds: float) -> dict[str, Any]:
    out = {k: v for k, v in peer.items() if k != "result"}
    if peer["status"] == "ok":
        out["ratio"] = peer["seconds"] / ours_seconds
    return out


# --------------------------------------------------------------------------------------------
# 2. Lemke-Howson
# --------------------------------------------------------------------------------------------


def _pivots(game: gamesolve.TensorGame, max_pivots: int) -> tuple[int, bool]:
    """Length of the label-0 path (capped), from the kernel directly."""
    a, b = normalized_matrices(game)
    m, n = a.shape
    basic_p = np.empty(m + n, dtype=np.uint8)
    basic_q = np.empty(n + m, dtype=np.uint8)
    info = np.zeros(1, dtype=np.int64)
    status = lemke_howson_kernel(
        np.ascontiguousarray(b), np.ascontiguousarray(a.T), 0, max_pivots, 1e-12, 16, basic_p, basic_q, info
    )
    return int(info[0]), status == 0


def bench_lemke_howson(n: int, seed: int, cfg: Config) -> dict[str, Any]:
    """Time the three single-equilibrium solvers on one game."""
    import pygambit

    game = random_game(n, seed)
    a, b = np.array(game.payoffs[0]), np.array(game.payoffs[1])  # writable copies for the peers
    pivots, finished = _pivots(game, cfg.lh_max_pivots)

    def ours_call() -> Any:
        try:
            return lemke_howson(game, 0, max_pivots=cfg.lh_max_pivots)
        except PivotLimitError:
            return None

    t_ours, eq = timed(ours_call, cfg.repeats)
    row: dict[str, Any] = {
        "n": n,
        "seed": seed,
        "pivots": pivots,
        "finished": finished,
        "ours_seconds": t_ours,
        "ours_nash_conv": None if eq is None else gamesolve.nash_conv(game, eq).nash_conv,
        "ours_support": None if eq is None else [int(np.count_nonzero(s)) for s in eq],
    }
    gt = _quantecon()
    if gt is None:
        row["quantecon"] = {"status": "skipped: quantecon not installed"}
    else:

        def qe_build() -> Any:
            return gt.NormalFormGame([gt.Player(a), gt.Player(b.T)])

        def qe_solve(g: Any) -> dict[str, Any]:
            ne, res = gt.lemke_howson(g, init_pivot=0, max_iter=cfg.lh_max_pivots, full_output=True)
            return {
                "profile": [s.tolist() for s in ne],
                "pivots": int(res.num_iter),
                "converged": bool(res.converged),
            }

        qe = _in_child(qe_build, qe_solve, cfg)
        row["quantecon"] = _summary(qe, t_ours)
        if qe["status"] == "ok":
            res = qe["result"]
            row["quantecon"].update(pivots=res["pivots"], converged=res["converged"])
            row["quantecon"]["same_path"] = res["pivots"] == pivots and res["converged"] == finished
            if eq is not None and res["converged"]:
                row["quantecon"]["max_abs_difference"] = max(
                    float(np.max(np.abs(np.asarray(u) - np.asarray(v))))
                    for u, v in zip(eq, res["profile"], strict=True)
                )

    def gambit_build() -> Any:
        return pygambit.StrategicGame.from_arrays(a, b)

    def gambit_solve(g: Any) -> dict[str, Any]:
        res = pygambit.nash.lcp_solve(g, rational=False, stop_after=1)
        return {"profiles": [[[float(p) for _, p in e[pl]] for pl in g.players] for e in res.equilibria]}

    gambit = _in_child(gambit_build, gambit_solve, cfg)
    row["gambit"] = _summary(gambit, t_ours)
    if gambit["status"] == "ok" and gambit["result"]["profiles"]:
        profile = gambit["result"]["profiles"][0]
        row["gambit"]["nash_conv"] = gamesolve.nash_conv(game, profile).nash_conv
    return row


# --------------------------------------------------------------------------------------------
# 3. Degenerate games
# --------------------------------------------------------------------------------------------


def integer_game(n: int, seed: int) -> gamesolve.TensorGame:
    """The seeded random ``n x n`` game with integer payoffs ``0 .. 3`` (nearly always degenerate)."""
    rng = np.random.default_rng([seed, n, 3])
    return gamesolve.bimatrix(
        rng.integers(0, 4, (n, n)), rng.integers(0, 4, (n, n)), name=f"int{n}x{n}-{seed}"
    )


def _gambit_set(g: Any, result: Any) -> list[list[np.ndarray]]:
    """Gambit's equilibria as float vectors, duplicates merged (it lists a degenerate vertex per basis)."""
    distinct = {tuple(tuple(float(p) for _, p in eq[pl]) for pl in g.players) for eq in result.equilibria}
    return [[np.array(s) for s in eq] for eq in distinct]


def bench_degenerate(n: int, cfg: Config) -> dict[str, Any]:
    """Degenerate against nondegenerate games of one size, and against pygambit, in this process."""
    import pygambit

    seeds = range(cfg.degenerate_games)
    degenerate = [integer_game(n, s) for s in seeds]
    generic = [random_game(n, s) for s in seeds]
    gambit_games = [
        pygambit.StrategicGame.from_arrays(np.array(g.payoffs[0]), np.array(g.payoffs[1])) for g in degenerate
    ]
    t_deg = t_gen = t_gambit = 0.0
    flagged = equilibria = generic_equilibria = 0
    same_as_rational: bool | None = True if n <= cfg.degenerate_rational_up_to else None
    float_gambit_differs = 0
    for game, g in zip(degenerate, gambit_games, strict=True):
        seconds, found = timed(partial(extreme_equilibria, game), cfg.repeats)
        t_deg += seconds
        flagged += found.degenerate
        equilibria += len(found.equilibria)
        ours = [[np.asarray(s) for s in eq] for eq in found.equilibria]
        seconds, res = timed(partial(pygambit.nash.enummixed_solve, g, rational=False), cfg.repeats)
        t_gambit += seconds
        if same_as_rational is not None:  # the exact oracle (slow: seconds per 10x10 game)
            exact = pygambit.nash.enummixed_solve(g, rational=True)
            same_as_rational &= _same_set(ours, _gambit_set(g, exact), atol=1e-9)
            float_gambit_differs += not _same_set(_gambit_set(g, res), _gambit_set(g, exact), atol=1e-9)
    for game in generic:
        seconds, found = timed(partial(extreme_equilibria, game), cfg.repeats)
        t_gen += seconds
        generic_equilibria += len(found.equilibria)
    return {
        "n": n,
        "games": cfg.degenerate_games,
        "degenerate_games": flagged,
        "extreme_equilibria": equilibria,
        "nondegenerate_equilibria": generic_equilibria,
        "ours_degenerate_seconds": t_deg,
        "ours_nondegenerate_seconds": t_gen,
        "gambit_degenerate_seconds": t_gambit,
        "degenerate_over_nondegenerate": t_deg / t_gen,
        "per_equilibrium_degenerate_over_nondegenerate": (t_deg / equilibria) / (t_gen / generic_equilibria),
        "gambit_over_ours": t_gambit / t_deg,
        "same_as_gambit_rational": same_as_rational,
        "float_gambit_wrong_games": float_gambit_differs if same_as_rational is not None else None,
    }


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def _warm_up() -> None:
    small = random_game(4, 0)
    enumerate_equilibria(small)
    lemke_howson(small)
    gt = _quantecon()
    if gt is not None:  # compile QuantEcon's numba code in the parent, inherited by the children
        g = gt.NormalFormGame(
            [gt.Player(np.array(small.payoffs[0])), gt.Player(np.array(small.payoffs[1]).T)]
        )
        gt.vertex_enumeration(g)
        gt.support_enumeration(g)
        gt.lemke_howson(g, init_pivot=0)


def _fmt(peer: dict[str, Any]) -> str:
    if peer.get("status") != "ok":
        return f"{peer.get('status', '?')}"
    return f"{peer['seconds'] * 1e3:.2f} ms ({peer['ratio']:.2f}x)"


def main(cfg: Config) -> dict[str, Any]:
    """Run the benchmark, print a table, write the JSON result and return it."""
    _warm_up()
    enum_rows = [bench_enumeration(n, s, cfg) for n in cfg.enum_sizes for s in cfg.enum_seeds]
    lh_rows = [bench_lemke_howson(n, s, cfg) for n in cfg.lh_sizes for s in cfg.lh_seeds]
    degenerate_rows = [bench_degenerate(n, cfg) for n in cfg.degenerate_sizes]
    result = {
        "config": asdict(cfg),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": multiprocessing.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": {d: package_version(d) for d in ("numba", "numpy", "pygambit", "quantecon")},
        "enumeration": enum_rows,
        "lemke_howson": lh_rows,
        "degenerate": degenerate_rows,
    }
    atomic_write_text(f"{cfg.out}/result.json", json.dumps(result, indent=2))
    print("All equilibria (ratio = peer time / our time)")
    print(
        f"{'game':<14}{'eq':>4}{'ours ms':>10}   {'pygambit enummixed':<26}{'QuantEcon vertex_enum':<26}"
        f"{'(QuantEcon support_enum)':<26}"
    )
    for r in enum_rows:
        support = r.get("quantecon_support", {})
        same = r["gambit"].get("same_equilibria"), r["quantecon"].get("same_equilibria")
        print(
            f"{r['n']}x{r['n']} s{r['seed']:<7}{r['equilibria']:>4}{r['ours_seconds'] * 1e3:>10.2f}   "
            f"{_fmt(r['gambit']):<26}{_fmt(r['quantecon']):<26}{_fmt(support):<26}"
            f" same={same}"
        )
    print(f"\nLemke-Howson from label 0 (ours and QuantEcon capped at {cfg.lh_max_pivots} pivots)")
    print(
        f"{'game':<14}{'pivots':>9}{'ours ms':>10}   {'QuantEcon lemke_howson':<28}{'pygambit lcp_solve':<26}"
    )
    for r in lh_rows:
        qe = r["quantecon"]
        print(
            f"{r['n']}x{r['n']} s{r['seed']:<5}{r['pivots']:>9}{r['ours_seconds'] * 1e3:>10.2f}   "
            f"{_fmt(qe):<28}{_fmt(r['gambit']):<26} same_path={qe.get('same_path')}"
        )
    print(
        f"\nDegenerate games (integer payoffs 0..3) against nondegenerate ones and pygambit enummixed; "
        f"sums over {cfg.degenerate_games} games of per-game medians"
    )
    print(
        f"{'size':<8}{'degen.':>7}{'eq deg/nondeg':>15}{'ours deg ms':>13}{'ours nondeg ms':>16}"
        f"{'deg/nondeg':>12}{'per eq':>8}{'gambit ms':>11}{'gambit/ours':>13}"
    )
    for r in degenerate_rows:
        equilibria = f"{r['extreme_equilibria']}/{r['nondegenerate_equilibria']}"
        print(
            f"{r['n']}x{r['n']:<5}{r['degenerate_games']:>7}{equilibria:>15}"
            f"{r['ours_degenerate_seconds'] * 1e3:>13.2f}{r['ours_nondegenerate_seconds'] * 1e3:>16.2f}"
            f"{r['degenerate_over_nondegenerate']:>12.2f}{r['per_equilibrium_degenerate_over_nondegenerate']:>8.2f}"
            f"{r['gambit_degenerate_seconds'] * 1e3:>11.1f}{r['gambit_over_ours']:>13.1f}"
            f"  exact={r['same_as_gambit_rational']} float gambit wrong on {r['float_gambit_wrong_games']}"
        )
    print(f"\nwrote {cfg.out}/result.json")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enum-sizes", type=int, nargs="*", default=list(Config.enum_sizes))
    parser.add_argument("--enum-seeds", type=int, nargs="*", default=list(Config.enum_seeds))
    parser.add_argument("--lh-sizes", type=int, nargs="*", default=list(Config.lh_sizes))
    parser.add_argument("--lh-seeds", type=int, nargs="*", default=list(Config.lh_seeds))
    parser.add_argument("--lh-max-pivots", type=int, default=Config.lh_max_pivots)
    parser.add_argument("--degenerate-sizes", type=int, nargs="*", default=list(Config.degenerate_sizes))
    parser.add_argument("--degenerate-games", type=int, default=Config.degenerate_games)
    parser.add_argument("--degenerate-rational-up-to", type=int, default=Config.degenerate_rational_up_to)
    parser.add_argument("--repeats", type=int, default=Config.repeats)
    parser.add_argument("--peer-timeout", type=float, default=Config.peer_timeout)
    parser.add_argument("--out", default=Config.out)
    ns = parser.parse_args()
    main(
        Config(
            enum_sizes=tuple(ns.enum_sizes),
            enum_seeds=tuple(ns.enum_seeds),
            lh_sizes=tuple(ns.lh_sizes),
            lh_seeds=tuple(ns.lh_seeds),
            lh_max_pivots=ns.lh_max_pivots,
            degenerate_sizes=tuple(ns.degenerate_sizes),
            degenerate_games=ns.degenerate_games,
            degenerate_rational_up_to=ns.degenerate_rational_up_to,
            repeats=ns.repeats,
            peer_timeout=ns.peer_timeout,
            out=ns.out,
        )
    )
