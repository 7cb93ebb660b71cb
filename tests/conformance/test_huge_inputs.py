"""Oversized work is refused at the door, in well under a second, with an estimate (issue 12, item 7).

Every game that allocates from user-given sizes estimates its peak memory from the parameters and
compares it with the memory budget (:mod:`gamesolve.budget`) before allocating. These tests check
that each example of the issue fails fast *and* small (the peak memory of the refusal, measured
with tracemalloc, or with the process's resident size where OpenSpiel's C++ allocates), that the
estimates are honest (within a factor of two of the measured peak on medium sizes, so a budget just
above the peak loads and one just below refuses), and that normal sizes still load.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gamesolve
from gamesolve import budget
from gamesolve.budget import (
    ENV_VAR,
    IndexLimitError,
    format_bytes,
    get_memory_budget,
    machine_memory,
    memory_budget,
    node_budget,
    parse_memory_size,
    require_memory,
    set_memory_budget,
)
from gamesolve.compiled import compile_game
from gamesolve.errors import (
    GameNotFoundError,
    GameTooLargeError,
    InvalidArgumentError,
    MalformedGameError,
    UnsupportedGame,
)
from gamesolve.games import kuhn as kuhn_mod
from gamesolve.games import leduc as leduc_mod
from gamesolve.games import nfg as nfg_mod
from gamesolve.games import normal_form as nf_mod
from gamesolve.games.mean_field import random_mean_field_game

GiB = 1024**3
#: Refusals must be quick even on a loaded two-core machine (they take milliseconds alone).
FAST_SECONDS = 5.0
#: Refusals must not allocate: peak traced memory of the refused call.
SMALL_PEAK = 32 * 1024**2


@pytest.fixture(autouse=True)
def _fixed_budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An 8 GiB budget unless a test sets another, so results do not depend on the machine."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    set_memory_budget(None)
    with memory_budget("8G"):
        yield
    set_memory_budget(None)


def _refusal(fn: Callable[[], Any], error: type[BaseException]) -> tuple[BaseException, float, int]:
    """Run ``fn``, which must raise ``error``; return the error, the seconds and the peak bytes."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(error) as info:
            fn()
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, seconds, peak


def _peak(fn: Callable[[], Any]) -> int:
    """Peak traced bytes of ``fn()``."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def _load_and_compile(name: str) -> Callable[[], Any]:
    def run() -> Any:
        game = gamesolve.load_game(name)
        return (
            game
            if isinstance(game, gamesolve.TabularMarkovGame | gamesolve.MeanFieldGame)
            else (gamesolve.as_compiled(game))
        )

    return run


# ---------------------------------------------------------------------------------------------
# The budget itself
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8G", 8 * GiB),
        ("8g", 8 * GiB),
        ("8GiB", 8 * GiB),
        ("8 GB", 8 * GiB),
        ("512M", 512 * 1024**2),
        ("1.5T", int(1.5 * 1024**4)),
        ("1e3k", 1024_000),
        ("123456", 123456),
        (4096, 4096),
        (2.5e9, 2_500_000_000),
    ],
)
def test_memory_sizes_parse(text: Any, expected: int) -> None:
    assert parse_memory_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0", "0%", "150%", "nan", "inf", "8X", True, None, [8]])
def test_bad_memory_sizes_are_refused_naming_the_variable(text: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=ENV_VAR):
        parse_memory_size(text)


def test_percent_is_a_share_of_the_machine() -> None:
    total = machine_memory()
    assert total is not None and total > 0
    assert parse_memory_size("25%") == total // 4 or abs(parse_memory_size("25%") - total / 4) <= 1


def test_precedence_scope_then_process_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    total = machine_memory()
    assert total is not None
    with memory_budget("1G"):
        assert get_memory_budget() == GiB
        with memory_budget("2M"):
            assert get_memory_budget() == 2 * 1024**2
        assert get_memory_budget() == GiB
    # Outside every scope (the fixture's too): the process setting, then the environment.
    token = budget._scoped_budget.set(None)
    try:
        assert get_memory_budget() == int(budget.DEFAULT_FRACTION * total)
        monkeypatch.setenv(ENV_VAR, "3G")
        assert get_memory_budget() == 3 * GiB
        set_memory_budget("5G")
        assert get_memory_budget() == 5 * GiB
        set_memory_budget(None)
        assert get_memory_budget() == 3 * GiB
        monkeypatch.setenv(ENV_VAR, "plenty")
        with pytest.raises(InvalidArgumentError, match=f"{ENV_VAR}.*'plenty'"):
            get_memory_budget()
    finally:
        budget._scoped_budget.reset(token)


def test_node_budget_follows_the_memory_budget() -> None:
    with memory_budget("128M"):
        assert node_budget() == 128 * 1024**2 // budget.GENERIC_BYTES_PER_NODE
        assert node_budget(bytes_per_node=1024) == 128 * 1024


def test_refusal_message_gives_estimate_budget_and_the_way_out() -> None:
    with memory_budget("1G"), pytest.raises(GameTooLargeError) as info:
        require_memory("game(x=1)", 3 * GiB, doing="compile", detail="about 5 histories")
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("game(x=1) needs about 3.0 GiB to compile (about 5 histories)")
    assert "memory budget of 1.0 GiB" in text and f"set {ENV_VAR}=4G" in text
    with memory_budget("1G"):
        require_memory("game", GiB, doing="build")  # exactly the budget fits


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (11.2 * GiB, "11.2 GiB"),
        (3**1000, "10^477 B"),
        (1e200, "10^200 B"),
    ],
)
def test_format_bytes(n: float, text: str) -> None:
    assert format_bytes(n) == text


# ---------------------------------------------------------------------------------------------
# The examples of the issue: refused at once, without allocating
# ---------------------------------------------------------------------------------------------

HUGE = [
    (
        "leduc(ranks=40,suits=4)",
        GameTooLargeError,
        r"needs about 3\d\.\d GiB to compile \(301,845,761 histories\)",
    ),
    ("kuhn(players=10)", IndexLimitError, r"408,816,620,312 histories.*2\*\*31 - 1"),
    ("kuhn(players=9)", IndexLimitError, r"16,727,745,701 histories"),
    ("kuhn(players=8)", GameTooLargeError, r"needs about \d+\.\d GiB to compile \(743,801,770 histories\)"),
    ("leduc(raises=1000)", GameTooLargeError, r"1,441,620,457 histories"),
    ("random_markov(states=100000000)", GameTooLargeError, r"100,000,000 states, 25 joint actions each"),
    ("soccer(rows=1000,cols=1000)", GameTooLargeError, r"1,999,998,000,002 states"),
    ("pursuit_evasion(size=200)", GameTooLargeError, r"1,600,000,001 states"),
    ("crowd_aversion(states=100000000)", GameTooLargeError, r"100,000,000 states, 3 actions each"),
    ("fishery(players=50)", GameTooLargeError, r"10\^23 joint actions each"),
]


@pytest.mark.parametrize(("name", "error", "pattern"), HUGE, ids=[h[0] for h in HUGE])
def test_huge_native_games_are_refused_at_the_door(name: str, error: type[Exception], pattern: str) -> None:
    exc, seconds, peak = _refusal(_load_and_compile(name), error)
    text = str(exc)
    assert re.search(pattern, text), text
    assert "\n" not in text and text.startswith(name.split("(")[0])
    assert seconds < FAST_SECONDS
    assert peak < SMALL_PEAK, format_bytes(peak)


def test_leduc_absurd_deck_is_a_parameter_error() -> None:
    exc, seconds, peak = _refusal(
        lambda: gamesolve.load_game("leduc(ranks=99999999999999999999)"), GameNotFoundError
    )
    assert "parameter ranks" in str(exc) and "99999999999999999999" in str(exc)
    assert seconds < FAST_SECONDS and peak < SMALL_PEAK


def test_chess_is_refused_by_sampling_without_memory_growth() -> None:
    """OpenSpiel allocates in C++, which tracemalloc cannot see: measure the resident size instead."""
    script = textwrap.dedent(
        """
        import resource, sys, time
        import gamesolve
        from gamesolve.errors import GameTooLargeError
        game = gamesolve.load_game("chess")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        try:
            gamesolve.as_compiled(game)
        except GameTooLargeError as exc:
            seconds = time.perf_counter() - start
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            print(f"{seconds:.3f} {grown} {exc}")
        else:
            print("compiled")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    seconds, grown_kib, message = out.stdout.strip().split(" ", 2)
    assert message.startswith("chess has about 10^") and "2**31 - 1" in message
    assert float(seconds) < FAST_SECONDS
    assert int(grown_kib) < 64 * 1024  # KiB: under 64 MiB of growth (the unguarded walk took 6.3 GB)


def test_openspiel_estimate_is_refused_against_the_budget_too() -> None:
    game = gamesolve.load_game("liars_dice")
    estimate = game.size_estimate()
    assert 100_000 < estimate.count < 3_000_000  # 294,883 histories; sampled, so within a factor
    with memory_budget("1M"):  # the tree takes about 40 MB
        exc, seconds, _ = _refusal(game.compile, GameTooLargeError)
    assert re.search(r"^liars_dice needs about .* to compile \(about [\d,]+ histories\)", str(exc)), str(exc)
    assert seconds < FAST_SECONDS


def test_openspiel_estimate_is_close_on_known_trees() -> None:
    for name, histories in (("kuhn_poker", 58), ("leduc_poker", 9457), ("tic_tac_toe", 549_946)):
        estimate = gamesolve.load_game(name).size_estimate()
        assert histories / 2 < estimate.count < 2 * histories, (name, estimate.count)
        assert not estimate.exact


def test_openspiel_far_beyond_max_nodes_is_refused_before_walking() -> None:
    game = gamesolve.load_game("liars_dice")
    exc, seconds, _ = _refusal(lambda: game.compile(max_nodes=1_000), UnsupportedGame)
    assert "max_nodes=1,000" in str(exc) and "estimated" in str(exc)
    assert seconds < FAST_SECONDS


def test_openspiel_thin_deep_tree_is_refused_before_walking() -> None:
    # Limit universal_poker (no cap on raises) hides almost all of its histories behind long betting
    # sequences that uniform random play takes with vanishing probability: its uniform estimate was
    # 5.6 million, so the walk passed 2,000,000 histories (12.7 s) before refusing. Rollouts that
    # count the children ending the game exactly see hundreds of millions and refuse it at once.
    game = gamesolve.load_game("universal_poker(betting=limit)")
    exc, seconds, _ = _refusal(game.compile, (UnsupportedGame, GameTooLargeError))
    message = str(exc)
    assert re.search(r"about [\d,]+ histories", message), message
    assert "max_nodes=2,000,000" in message or "to compile" in message, message
    assert seconds < 3.0


@pytest.mark.parametrize(
    "name", ["kuhn_poker(players=3)", "leduc_poker", "liars_dice", "goofspiel(num_cards=3)"]
)
def test_openspiel_tree_of_exactly_max_nodes_compiles(name: str) -> None:
    # Estimates above max_nodes within sampling doubt (liars_dice's rollouts are heavy-tailed: about
    # 1.1 million of 294,883) must not refuse a tree that fits.
    histories = gamesolve.load_game(name).compile(max_nodes=None).num_nodes
    assert gamesolve.load_game(name).compile(max_nodes=histories).num_nodes == histories


def test_openspiel_tree_deeper_than_random_play_reaches_is_refused_up_front() -> None:
    # oshi_zumo's horizon allows histories of 2,000 moves; random play ends within a few dozen, so
    # sampling sees only the shallow part of a tree that exceeds any max_nodes (the walk took 65 s
    # to find that out).
    game = gamesolve.load_game("oshi_zumo(coins=3)")
    exc, seconds, _ = _refusal(game.compile, UnsupportedGame)
    assert re.search(r"random play reaches depth \d+ of the 2001 OpenSpiel allows", str(exc)), str(exc)
    assert "lower bound" in str(exc)
    assert seconds < FAST_SECONDS
    short = gamesolve.load_game("oshi_zumo(coins=4,horizon=5)")  # a short horizon still compiles
    assert short.compile().num_nodes == 31_159


# ---------------------------------------------------------------------------------------------
# The walk itself stops at the budget when nothing is known in advance
# ---------------------------------------------------------------------------------------------


def test_generic_compile_stops_at_the_budget() -> None:
    game = gamesolve.load_game("leduc_poker")  # 9,457 histories, about 1.5 MB to compile
    with memory_budget("300K"):
        exc, seconds, peak = _refusal(lambda: compile_game(game), GameTooLargeError)
    assert seconds < FAST_SECONDS
    assert re.search(
        r"leduc_poker needs at least 3\d\d\.\d KiB to compile \(expansion stopped after", str(exc)
    )
    assert peak < 1024**2  # stopped before holding the tree
    with memory_budget("4M"):
        assert compile_game(game).num_nodes == 9457


def test_generic_compile_holds_one_path_not_every_sibling() -> None:
    """A deep, wide tree: the old walk held every pending sibling state (width x depth states)."""

    class WideState:
        def __init__(self, depth: int, padding: bytes, path: str = "") -> None:
            self.depth = depth
            self.padding = padding
            self.path = path

        def current_player(self) -> int:
            return gamesolve.TERMINAL if self.depth == 0 else 0

        def is_terminal(self) -> bool:
            return self.depth == 0

        def legal_actions(self) -> list[int]:
            return list(range(50)) if self.depth > 1 else [0]

        def chance_outcomes(self) -> list[tuple[int, float]]:
            return []

        def child(self, action: int) -> WideState:
            # Only the first action leads deeper: a comb 200 deep, 50 wide.
            return WideState(self.depth - 1 if action == 0 else 1, bytes(20_000), f"{self.path}.{action}")

        def returns(self) -> list[float]:
            return [1.0, -1.0]

        def infoset_key(self, player: int) -> str:
            return self.path  # perfect information: every history is its own infoset

    class Comb:
        spec = gamesolve.GameSpec(
            name="comb",
            kind=gamesolve.GameKind.EXTENSIVE_FORM,
            num_players=2,
            utility=gamesolve.Utility.ZERO_SUM,
            has_chance=False,
            simultaneous=False,
            perfect_recall=True,
            perfect_information=True,
        )

        def initial_state(self) -> WideState:
            return WideState(200, b"")

    game = Comb()
    peak = _peak(lambda: compile_game(game))
    # 200 levels x 49 siblings x 20 kB would be 196 MB held at once; one path is 4 MB.
    assert peak < 40 * 1024**2, format_bytes(peak)


# ---------------------------------------------------------------------------------------------
# Neighbours: estimates are honest, so a budget just above the real peak loads, just below refuses
# ---------------------------------------------------------------------------------------------

MEDIUM = [
    "kuhn(players=4)",
    "leduc(ranks=4,suits=3)",
    "leduc(raises=6)",
    "random_markov(states=3000)",
    "random_markov(states=500,actions=3,successors=2,players=3,zero_sum=false)",
    "soccer",
    "pursuit_evasion(size=5)",
    "fishery(players=6)",
    "crowd_aversion(states=300)",
]


@pytest.mark.parametrize("name", MEDIUM)
def test_estimates_are_within_a_factor_of_two_of_the_peak(name: str) -> None:
    with memory_budget("8G"):
        _load_and_compile(name)()  # warm-up: imports and kernel caches are not the game's memory
        measured = _peak(_load_and_compile(name))
    with memory_budget(2 * measured):
        _load_and_compile(name)()  # just above the real peak: loads
    with memory_budget(measured // 2):
        exc, seconds, peak = _refusal(_load_and_compile(name), GameTooLargeError)
    assert "memory budget" in str(exc)
    assert seconds < FAST_SECONDS and peak < measured / 2


def test_native_counts_are_exact() -> None:
    for players in (2, 3, 4):
        game = kuhn_mod.load(players)
        compiled = game.compile()
        assert (game.num_histories(), game.num_infosets()) == (compiled.num_nodes, compiled.num_infosets)
    for params in (
        {},
        {"raises": 0},
        {"raises": 5},
        {"ranks": 5, "suits": 1, "raises": 3},
        {"ranks": 4, "suits": 3},
    ):
        leduc = leduc_mod.load(**params)
        compiled = leduc.compile()
        assert (leduc.num_histories(), leduc.num_infosets()) == (compiled.num_nodes, compiled.num_infosets)


def test_a_budget_equal_to_the_estimate_is_enough() -> None:
    """The up-front estimate and the walk's running estimate agree: no refusal half way."""
    for players in (3, 4):
        game = kuhn_mod.load(players)
        with memory_budget(game.size_estimate().nbytes):
            assert game.compile().num_nodes == game.num_histories()
        with memory_budget(game.size_estimate().nbytes - 1), pytest.raises(GameTooLargeError):
            kuhn_mod.load(players).compile()


def test_mean_field_generator_checks_the_budget_too() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(GameTooLargeError, match=r"random_mean_field_game\(states=100000,actions=4\)"):
        random_mean_field_game(rng, 100_000, 4)
    assert random_mean_field_game(rng, 20, 3).num_states == 20


def test_normal_form_generators_check_the_budget() -> None:
    rng = np.random.default_rng(0)
    with (
        memory_budget("1M"),
        pytest.raises(GameTooLargeError, match=r"a 300x300 game needs about .* payoff entries"),
    ):
        nf_mod.random_uniform(rng, (300, 300))
    with memory_budget("16M"):
        assert nf_mod.random_uniform(rng, (300, 300)).payoffs.shape == (2, 300, 300)


def _fingerprint(game: gamesolve.TabularMarkovGame) -> str:
    digest = hashlib.sha256()
    m = game.transition_matrix
    for array in (
        m.indptr.astype(np.int64),
        m.indices.astype(np.int64),
        m.data,
        game.reward_flat,
        game.features,
    ):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("soccer(rows=3,cols=4)", "ef93922553ef4bcf"),
        ("pursuit_evasion(size=4,radius=1)", "333f0d976e54fc36"),
        ("fishery(players=4,levels=5,regrowth=0.3)", "5506d9865c3764ea"),
    ],
)
def test_vectorized_markov_builders_keep_their_tables(name: str, expected: str) -> None:
    """Soccer, pursuit-evasion and fishery are built with array operations instead of per-state
    Python loops (5 to 12 times faster); the tables are bit-identical to the loops' (digests taken
    from the loop implementation)."""
    assert _fingerprint(gamesolve.load_game(name)) == expected


def test_environment_variable_sets_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    token = budget._scoped_budget.set(None)  # leave the fixture's scope: the environment decides
    try:
        monkeypatch.setenv(ENV_VAR, "1M")
        with pytest.raises(
            GameTooLargeError, match=r"memory budget of 1\.0 MiB; set GAMESOLVE_MEMORY_BUDGET="
        ):
            gamesolve.load_game("random_markov(states=3000)")
        monkeypatch.setenv(ENV_VAR, "1G")
        assert gamesolve.load_game("random_markov(states=3000)").num_states == 3000
    finally:
        budget._scoped_budget.reset(token)


# ---------------------------------------------------------------------------------------------
# .nfg files: refused from the header
# ---------------------------------------------------------------------------------------------


def test_nfg_declaring_huge_counts_is_refused_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "huge.nfg"
    path.write_text('NFG 1 R "" { "1" "2" } { 1000000000 1000000000 }\n0 0\n')
    assert path.stat().st_size < 60
    exc, seconds, peak = _refusal(lambda: gamesolve.load_game(str(path)), MalformedGameError)
    assert f"{path}:1:" in str(exc) and "10^18 profiles" in str(exc)
    assert seconds < FAST_SECONDS and peak < SMALL_PEAK


def test_nfg_beyond_the_budget_is_refused_before_reading_payoffs(tmp_path: Path) -> None:
    payoffs = " ".join(["1 -1"] * 120 * 120)
    path = tmp_path / "big.nfg"
    path.write_text(f'NFG 1 R "big" {{ "a" "b" }} {{ 120 120 }}\n{payoffs}\n')
    gamesolve.load_game(str(path))  # warm-up
    measured = _peak(lambda: gamesolve.load_game(str(path)))
    with memory_budget(measured // 3):
        exc, _, _ = _refusal(lambda: gamesolve.load_game(str(path)), GameTooLargeError)
    assert re.search(
        r"game file .*big\.nfg needs about .* to read \(14,400 strategy profiles, 2 players\)", str(exc)
    )
    with memory_budget(2 * measured):
        assert gamesolve.load_game(str(path)).payoffs.shape == (2, 120, 120)


@pytest.mark.parametrize("players", [63, 64, 200])
def test_nfg_player_limit(tmp_path: Path, players: int) -> None:
    names = " ".join(f'"p{k}"' for k in range(players))
    path = tmp_path / "many.nfg"
    path.write_text(
        f'NFG 1 R "many"\n{{ {names} }}\n{{ {" ".join(["1"] * players)} }}\n{" ".join(["0"] * players)}\n'
    )
    if players <= nfg_mod.MAX_PLAYERS:
        assert gamesolve.load_game(str(path)).num_players == players
    else:
        with pytest.raises(
            MalformedGameError, match=rf"many\.nfg:2:\d+: the game has {players} players; at most 63"
        ):
            gamesolve.load_game(str(path))


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("{ 2 2 } 1 2 3", r":1:\d+: expected 8 payoffs"),
        (
            "{ 2 " + "9" * 5000 + " } 1",
            r":1:\d+: the number of strategies of player 2 \('b'\) is too large \(at number '9999",
        ),
        ("{ 300 300 } 1 2 3 4", r":1:\d+: the strategies give 90,000 profiles, but the file has only"),
        (
            '{ { "x" } { "y" } } "" { { "" 1 2 } } 99999999999999999999',
            r":1:\d+: the outcome index of profile #1 is too large",
        ),
    ],
)
def test_malformed_nfg_names_the_line(tmp_path: Path, body: str, pattern: str) -> None:
    path = tmp_path / "bad.nfg"
    path.write_text(f'NFG 1 R "t" {{ "a" "b" }} {body}')
    with pytest.raises(MalformedGameError) as info:
        gamesolve.load_game(str(path))
    assert re.search(pattern, str(info.value)), str(info.value)
    assert len(str(info.value)) < 300


# ---------------------------------------------------------------------------------------------
# Normal sizes still load
# ---------------------------------------------------------------------------------------------


def test_normal_sizes_still_load() -> None:
    with memory_budget("4G"):
        assert leduc_mod.load(ranks=13, suits=4).size_estimate().nbytes < 2 * GiB
        leduc_mod.load(ranks=13, suits=4).size_estimate().require()
        assert kuhn_mod.load(5).compile().num_nodes == 116_437
        assert gamesolve.load_game("soccer").num_states == 762
        assert gamesolve.load_game("random_markov(states=10000)").num_states == 10_000
        assert gamesolve.as_compiled(gamesolve.load_game("leduc_poker")).num_nodes == 9457


@pytest.mark.slow
def test_leduc_13x4_compiles_within_its_estimate() -> None:
    game = leduc_mod.load(ranks=13, suits=4)
    with memory_budget("4G"):
        peak = _peak(game.compile)
    assert peak < game.size_estimate().nbytes < 2 * peak


def test_cli_prints_one_line_and_exits_2() -> None:
    env = {**os.environ, ENV_VAR: "8G"}
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "gamesolve.cli", "info", "leduc(ranks=40,suits=4)"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    seconds = time.perf_counter() - start
    assert out.returncode == 2
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "needs about" in lines[0] and "memory budget of 8.0 GiB" in lines[0], lines
    assert seconds < 60  # interpreter start-up included; the refusal itself takes milliseconds
