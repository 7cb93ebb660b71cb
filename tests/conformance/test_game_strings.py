"""Game strings: one clear line for every bad parameter, native or OpenSpiel (issue 12, items 8-9).

A parameter given twice, a value that is not a number, a size that is absurd or zero, a parameter
the game does not have, parentheses that do not match, and OpenSpiel parameters that OpenSpiel
accepts but cannot play all fail at :func:`gamesolve.load_game` with a
:class:`~gamesolve.errors.GameNotFoundError` (or another ``GamesolveError``) whose one-line message
names the game and the parameter, never with a traceback from inside a game or from OpenSpiel.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import gamesolve
from gamesolve.errors import GameNotFoundError, GameTooLargeError
from gamesolve.registry import parse_game_string

# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kuhn", ("kuhn", {})),
        (" leduc ( ranks = 13 , suits=4 ) ", ("leduc", {"ranks": "13", "suits": "4"})),
        ("leduc(raise_sizes=(2,4))", ("leduc", {"raise_sizes": "(2,4)"})),
        (
            "turn_based_simultaneous_game(game=goofspiel(num_cards=3,players=2))",
            ("turn_based_simultaneous_game", {"game": "goofspiel(num_cards=3,players=2)"}),
        ),
        ("a(x=b(y=1),y=2)", ("a", {"x": "b(y=1)", "y": "2"})),  # the same name at two levels is fine
    ],
)
def test_parameters_split_at_top_level_commas(text: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_game_string(text) == expected


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("kuhn(players=2,players=3)", r"parameter 'players' is given twice .*\(players=2 and players=3\)"),
        ("kuhn_poker(players=2,players=3)", r"parameter 'players' is given twice"),
        ("leduc(ranks=3,suits=2,ranks=3)", r"parameter 'ranks' is given twice"),
        ("leduc( ranks =3, ranks= 4)", r"parameter 'ranks' is given twice"),
        (
            "turn_based_simultaneous_game(game=goofspiel(num_cards=3,num_cards=4))",
            r"parameter 'num_cards' is given twice in game string 'goofspiel\(num_cards=3,num_cards=4\)'",
        ),
        ("kuhn(players=2))", r"unbalanced '\)'"),
        ("kuhn((players=2)", r"unbalanced '\('"),
        ("kuhn(players=2,)", r"bad parameter ''"),
        ("kuhn(2)", r"bad parameter '2'.*expected k=v"),
        ("kuhn(=2)", r"bad parameter '=2'"),
        ("(players=2)", r"cannot parse game string"),
    ],
)
def test_malformed_game_strings_are_refused(text: str, pattern: str) -> None:
    with pytest.raises(GameNotFoundError, match=pattern) as info:
        gamesolve.load_game(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "kuhn(bogus=1,bogus=" + "9" * 5000 + ")",
        "soccer(discount=" + "9" * 5000,
        "liars_dice(dice_sides=" + "9" * 5000 + ")",
        "kuhn_poker(players=" + "9" * 5000 + ")",
    ],
)
def test_messages_stay_short_for_huge_strings(text: str) -> None:
    with pytest.raises(GameNotFoundError) as info:
        gamesolve.load_game(text)
    assert "\n" not in str(info.value) and len(str(info.value)) < 300, str(info.value)[:400]


def test_duplicates_are_refused_before_openspiel_sees_them() -> None:
    """OpenSpiel itself keeps the last value silently; the registry refuses either way."""
    with pytest.raises(GameNotFoundError, match="'players' is given twice"):
        gamesolve.load_game("leduc_poker(players=2,players=2)")


def test_keyword_parameters_still_override_the_string() -> None:
    assert gamesolve.load_game("kuhn(players=2)", players=3).num_players == 3


# ---------------------------------------------------------------------------------------------
# Native games: bad values name the parameter
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parameter"),
    [
        ("leduc(ranks=99999999999999999999)", "ranks"),
        ("leduc(ranks=" + "9" * 5000 + ")", "ranks"),  # beyond Python's int-parsing limit
        ("leduc(ranks=0)", "ranks"),
        ("leduc(ranks=-3)", "ranks"),
        ("leduc(ranks=2.5)", "ranks"),
        ("leduc(suits=abc)", "suits"),
        ("leduc(suits=3000000000)", "suits"),
        ("leduc(ranks=100000,suits=100000)", "ranks \\* suits"),
        ("leduc(raises=-1)", "raises"),
        ("leduc(raises=1e3)", "raises"),
        ("leduc(raise_sizes=2/0)", "raise_sizes"),
        ("leduc(raise_sizes=2/99999999999999)", "raise_sizes"),
        ("leduc(ante=0)", "ante"),
        ("leduc(players=3)", "players"),
        ("kuhn(players=0)", "players"),
        ("kuhn(players=1.7)", "players"),
        ("kuhn(players=11)", "players"),
        ("kuhn(players=)", "players"),
        ("random_markov(states=0)", "states"),
        ("random_markov(states=1.5)", "states"),
        ("random_markov(players=100,zero_sum=false)", "players"),
        ("random_markov(actions=0)", "actions"),
        ("random_markov(discount=nan)", "discount"),
        ("soccer(rows=1)", "rows"),
        ("soccer(cols=-4)", "cols"),
        ("pursuit_evasion(size=abc)", "size"),
        ("pursuit_evasion(size=1)", "size"),
        ("fishery(players=0)", "players"),
        ("fishery(players=1000000000)", "players"),
        ("fishery(levels=1)", "levels"),
        ("crowd_aversion(states=1)", "states"),
        ("crowd_aversion(states=" + "9" * 5000 + ")", "states"),
        ("crowd_aversion(tau=0)", "tau"),
    ],
)
def test_bad_native_values_name_the_parameter(text: str, parameter: str) -> None:
    start = time.perf_counter()
    with pytest.raises(GameNotFoundError, match=f"parameter {parameter}|{parameter}") as info:
        gamesolve.load_game(text)
    message = str(info.value)
    assert "\n" not in message and len(message) < 250, message
    assert time.perf_counter() - start < 5.0


def test_unknown_native_parameter_lists_the_known_ones() -> None:
    with pytest.raises(GameNotFoundError, match=r"game 'kuhn' has no parameter 'foo'; it takes players"):
        gamesolve.load_game("kuhn(foo=1)")
    with pytest.raises(GameNotFoundError, match=r"game 'rps' has no parameter 'x'; it takes no parameters"):
        gamesolve.load_game("rps(x=1)")
    with pytest.raises(
        GameNotFoundError, match=r"game 'leduc' has no parameter 'colour'; it takes ranks, suits"
    ):
        gamesolve.load_game("leduc(colour=red)")


# ---------------------------------------------------------------------------------------------
# OpenSpiel: parameters it accepts but cannot play
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("liars_dice(numdice=0)", "numdice=0"),
        ("liars_dice(numdice=-1)", "numdice=-1"),
        ("goofspiel(num_cards=0)", "num_cards=0"),
        ("kuhn_poker(players=20)", "kuhn_poker"),
        ("leduc_poker(players=1)", "leduc_poker"),
        # OpenSpiel ends the process on these (a segfault): refused before it sees them
        ("universal_poker(numPlayers=-5)", "numPlayers=-5"),
        ("goofspiel(players=-0)", "players=-0"),
        ("goofspiel(num_cards=-3)", "num_cards=-3"),
        ("universal_poker(numRanks=0)", "numRanks=0"),
    ],
)
def test_openspiel_parameter_errors_are_one_line(text: str, shown: str) -> None:
    with pytest.raises(GameNotFoundError) as info:
        gamesolve.load_game(text)
    message = str(info.value)
    assert "\n" not in message and shown in message and text.split("(")[0] in message, message


def test_negative_defaults_stay_legal() -> None:
    game = gamesolve.load_game("goofspiel(num_turns=-1,num_cards=3)")  # -1: every card is played
    assert game.spec.num_players == 2


@pytest.mark.parametrize(
    "text",
    ["kuhn_poker(players=3)", "goofspiel(num_cards=4)", "liars_dice(numdice=2)", "leduc_poker", "chess"],
)
def test_playable_openspiel_games_still_load(text: str) -> None:
    assert gamesolve.load_game(text).spec.num_players >= 2


def test_cli_reports_openspiel_parameter_errors_in_one_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gamesolve.cli", "info", "liars_dice(numdice=0)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.returncode == 2
    assert len(lines) == 1 and "liars_dice(numdice=0)" in lines[0] and "numdice=0" in lines[0], lines


def test_openspiel_parameters_far_beyond_their_default_are_refused_before_loading() -> None:
    # OpenSpiel builds blotto's action list inside C++ that holds the interpreter: 10,000,000
    # coins never returned. The refusal is immediate and names the parameter.
    start = time.perf_counter()
    with pytest.raises(
        GameTooLargeError, match=r"coins=10000000 of OpenSpiel game 'blotto' is more than 100 times"
    ):
        gamesolve.load_game("blotto(coins=10000000,players=2)")
    assert time.perf_counter() - start < 5.0
    assert gamesolve.load_game("blotto(coins=12)").spec.num_players == 2
