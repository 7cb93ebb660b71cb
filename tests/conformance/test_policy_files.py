"""Policy and profile files cannot crash the library: every bad file is one typed, one-line error.

Three file kinds, read by three functions:

* tabular policies of extensive-form games, ``TabularPolicy.from_json(game, path)``;
* mixed profiles of normal-form games, ``MixedProfile.from_json(game, path)``;
* stationary Markov profiles, ``MarkovProfile.from_file(game, path)`` (and ``from_json(game, text)``).

A damaged file (not UTF-8, empty, a directory, a device, nested too deeply, a 5,000-digit number,
``NaN`` tokens) is an :class:`InputFileError`; well-formed JSON that is not a policy of the game
(strings, booleans or ``null`` for numbers, ragged rows, wrong counts, negative or unnormalized
probabilities, non-integer action ids, unknown infosets) is an :class:`InvalidPolicyError` naming
the player, state or infoset. Reference values: uniform Kuhn NashConv 11/12, uniform RPS NashConv 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gamesolve
from gamesolve import (
    InputFileError,
    InvalidPolicyError,
    MarkovProfile,
    MixedProfile,
    TabularPolicy,
)
from gamesolve.cli import main
from gamesolve.policy import POLICY_FORMAT

THIRD = 1.0 / 3.0

#: Written as the JSON literal 1e400, which Python's reader turns into infinity.
OVERFLOW = 1.2345e300


def _dumps(content: Any) -> str:
    return json.dumps(content).replace("1.2345e+300", "1e400")


@pytest.fixture(scope="module")
def kuhn() -> Any:
    return gamesolve.as_compiled(gamesolve.load_game("kuhn_poker"))


@pytest.fixture(scope="module")
def rps() -> Any:
    return gamesolve.load_game("rps")


@pytest.fixture(scope="module")
def three_player() -> Any:
    payoffs = np.arange(3 * 2 * 3 * 2, dtype=float).reshape(3, 2, 3, 2) % 5
    return gamesolve.normal_form_game(payoffs, name="three")


@pytest.fixture(scope="module")
def two_state() -> Any:
    return gamesolve.load_game("two_state")


def _kuhn_table(kuhn: Any) -> dict[str, dict[str, float]]:
    return {k: {str(a): p for a, p in v.items()} for k, v in TabularPolicy.uniform(kuhn).to_dict().items()}


# Each file kind: (game fixture, reader, valid JSON content).
KINDS: dict[str, tuple[str, Callable[[Any, Path], Any]]] = {
    "policy": ("kuhn", TabularPolicy.from_json),
    "profile": ("rps", MixedProfile.from_json),
    "markov": ("two_state", MarkovProfile.from_file),
}


def _valid(kind: str, game: Any) -> Any:
    if kind == "policy":
        return {"format": POLICY_FORMAT, "game": "kuhn_poker", "policy": _kuhn_table(game)}
    if kind == "profile":
        return {"profile": [[THIRD] * 3, [THIRD] * 3]}
    return {"strategies": [[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]]}


def _read(request: pytest.FixtureRequest, kind: str, path: Path) -> Any:
    fixture, reader = KINDS[kind]
    return reader(request.getfixturevalue(fixture), path)


def _refused(
    request: pytest.FixtureRequest, kind: str, path: Path, error: type[Exception], *needles: str
) -> str:
    with pytest.raises(error) as info:
        _read(request, kind, path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for needle in needles:
        assert needle in message, message
    return message


# ------------------------------------------------------------------ damaged files, all three kinds


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"0": \xff\xfe}', "not UTF-8"),
        (b"\x80\x81garbage", "not UTF-8"),
        (b"", "not valid JSON"),
        (b"[" * 100_000, "too deeply"),
        (b"{" * 50_000, "not valid JSON"),
        (b"[[1" + b"0" * 5000 + b", 0, 0], [1, 0, 0]]", "4300 digits"),
        (b"[[NaN, 0.5, 0.5], [1, 0, 0]]", "NaN"),
        (b'{"strategies": [Infinity]}', "Infinity"),
        (b"PK\x03\x04rest-of-a-zip", "zip archive"),
    ],
)
def test_damaged_files_are_input_file_errors(request, tmp_path, kind, content, needle):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    _refused(request, kind, path, InputFileError, needle)


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_utf8_byte_order_mark_is_accepted(request, tmp_path, kind):
    path = tmp_path / "bom.json"
    game = request.getfixturevalue(KINDS[kind][0])
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_valid(kind, game)).encode())
    read = _read(request, kind, path)
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(_valid(kind, game)))
    again = _read(request, kind, plain)
    if kind == "markov":
        assert all(np.array_equal(a, b) for a, b in zip(read.strategies, again.strategies, strict=True))
    else:
        assert read == again


@pytest.mark.parametrize("kind", list(KINDS))
def test_not_a_regular_file(request, tmp_path, kind):
    _refused(request, kind, tmp_path, InputFileError, "is a directory")
    _refused(request, kind, Path("/dev/null"), InputFileError, "character device")
    _refused(request, kind, tmp_path / "absent.json", InputFileError, "does not exist")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("content", ["a string", 7, None, True, 1.5])
def test_top_level_of_the_wrong_type(request, tmp_path, kind, content):
    path = tmp_path / "top.json"
    path.write_text(json.dumps(content))
    _refused(request, kind, path, InvalidPolicyError)


# ------------------------------------------------------------------ tabular policies (extensive form)


def _policy_file(tmp_path: Path, table: Any) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(_dumps(table))
    return path


def test_policy_file_written_by_to_json_round_trips(kuhn, tmp_path):
    policy = TabularPolicy.random(kuhn, rng=np.random.default_rng(0))
    policy.to_json(tmp_path / "p.json")
    assert TabularPolicy.from_json(kuhn, tmp_path / "p.json") == policy
    bare = _policy_file(tmp_path, _kuhn_table(kuhn))
    assert gamesolve.nash_conv(kuhn, TabularPolicy.from_json(kuhn, bare)).nash_conv == pytest.approx(11 / 12)


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        ({"0": 0.5, "1.7": 0.5}, ["'1.7'", "not an integer"]),
        ({"0": 0.5, "1.0": 0.5}, ["'1.0'", "not an integer"]),
        ({"0": 0.5, "one": 0.5}, ["'one'", "not an integer"]),
        ({"0": 0.5, " 1": 0.5}, ["' 1'", "not an integer"]),
        ({"0": 0.5, "1": 0.5, "-1": 0.0}, ["-1", "out of range"]),
        ({"0": 0.5, "1": 0.5, "99999999999999999999": 0.0}, ["out of range"]),
        ({"0": 0.5, "1": 0.5, "01": 0.0}, ["action 1 is given twice"]),
        ({"0": "0.5", "1": 0.5}, ["action 0", "must be a number", "'0.5'"]),
        ({"0": True, "1": False}, ["action 0", "must be a number", "bool"]),
        ({"0": None, "1": 1.0}, ["action 0", "must be a number"]),
        ({"0": [0.5], "1": 0.5}, ["action 0", "must be a number"]),
        ({"0": {"p": 1}, "1": 0.5}, ["action 0", "must be a number"]),
        ({"0": OVERFLOW, "1": 0.0}, ["action 0", "finite"]),
        ({"0": 10**4000, "1": 0.0}, ["action 0", "about 4001 digits"]),
        ({"0": -0.5, "1": 1.5}, ["negative"]),
        ({"0": 0.3, "1": 0.3}, ["sum to"]),
        ({}, ["sum to 0.0"]),
        ({"0": 0.5, "2": 0.5}, ["action 2 is illegal"]),
        ([0.5, 0.5], ["expected a mapping"]),
        ("uniform", ["expected a mapping"]),
    ],
)
def test_bad_policy_rows_name_the_infoset_and_action(kuhn, tmp_path, row, needles):
    table: dict[str, Any] = _kuhn_table(kuhn)
    table["0pb"] = row
    path = _policy_file(tmp_path, {"format": POLICY_FORMAT, "game": "kuhn_poker", "policy": table})
    with pytest.raises(InvalidPolicyError) as info:
        TabularPolicy.from_json(kuhn, path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "'0pb'" in message
    for needle in needles:
        assert needle in message, message


def test_policy_file_structure_errors(kuhn, tmp_path):
    table = _kuhn_table(kuhn)
    cases: list[tuple[Any, str]] = [
        ({**table, "3pbb": {"0": 1.0}}, "'3pbb'"),
        ({k: v for k, v in table.items() if k != "1pb"}, "no entry for 1 infoset"),
        ({"format": "tabular/99", "policy": table}, "format is 'tabular/99'"),
        ({"format": POLICY_FORMAT, "game": "kuhn_poker"}, 'needs a "policy" mapping'),
        ({"format": POLICY_FORMAT, "policy": [table]}, "mapping of infoset keys"),
        ({"game": "kuhn_poker", "solver": "cfr+", "history": {}, "iterations": 3}, "result file"),
        ([table], "mapping of infoset keys"),
        ({"x" * 10_000: {"0": 1.0}}, "which this game (kuhn_poker) does not have"),
    ]
    for content, needle in cases:
        path = _policy_file(tmp_path, content)
        with pytest.raises(InvalidPolicyError) as info:
            TabularPolicy.from_json(kuhn, path)
        message = str(info.value)
        assert needle in message and "\n" not in message and len(message) < 400, message


def test_from_dict_refuses_non_integer_boolean_and_huge_action_ids(kuhn):
    """``from_dict`` used to truncate 1.7 to 1 and read True as action 1."""
    for action, needle in [
        (1.7, "action id 1.7 is not an integer"),
        (True, "action id True is a boolean"),
        (np.bool_(True), "is a boolean"),
        ("1.5", "action id '1.5' is not an integer"),
        (float("nan"), "not an integer"),
        (-3, "action id -3 is out of range"),
        (2**40, "out of range"),
        (10**5000, "action id an integer of about 5001 digits is out of range"),
    ]:
        table: dict[str, Any] = _kuhn_table(kuhn)
        table["1b"] = {"0": 0.5, action: 0.5}
        with pytest.raises(InvalidPolicyError) as info:
            TabularPolicy.from_dict(kuhn, table)
        assert "'1b'" in str(info.value) and needle in str(info.value), str(info.value)
    # integral floats, numpy integers and digit strings are the same ids
    table = _kuhn_table(kuhn)
    table["1b"] = {0.0: 0.25, np.int64(1): 0.75}  # type: ignore[dict-item]
    assert TabularPolicy.from_dict(kuhn, table).action_probabilities("1b") == {0: 0.25, 1: 0.75}


def test_from_dict_refuses_huge_and_string_probabilities(kuhn):
    cases = [(10**400, "about 401 digits"), ("0.5", "must be a number"), (None, "must be a number")]
    for value, needle in cases:
        table: dict[str, Any] = _kuhn_table(kuhn)
        table["2p"] = {"0": value, "1": 0.5}
        with pytest.raises(InvalidPolicyError, match="'2p'") as info:
            TabularPolicy.from_dict(kuhn, table)
        assert needle in str(info.value)


def test_policy_array_of_strings_or_huge_integers_is_refused(kuhn):
    with pytest.raises(InvalidPolicyError, match="numeric"):
        TabularPolicy(kuhn, [["0.5", "0.5"]] * 12)
    with pytest.raises(InvalidPolicyError, match="numeric"):
        TabularPolicy(kuhn, [[10**400, 0]] + [[0.5, 0.5]] * 11)
    with pytest.raises(InvalidPolicyError, match="numeric"):
        TabularPolicy(kuhn, np.ones((12, 2), dtype=bool))


# ------------------------------------------------------------------ normal-form profiles


def _profile_file(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(_dumps(content))
    return path


def test_profile_formats(rps, three_player, tmp_path):
    for content in ({"profile": [[THIRD] * 3] * 2}, [[THIRD] * 3] * 2):
        profile = MixedProfile.from_json(rps, _profile_file(tmp_path, content))
        assert gamesolve.nash_conv(rps, profile).nash_conv == pytest.approx(0.0, abs=1e-12)
    three = [[0.5, 0.5], [0.2, 0.3, 0.5], [1, 0]]
    profile = MixedProfile.from_json(three_player, _profile_file(tmp_path, {"profile": three}))
    assert profile.to_lists() == [[0.5, 0.5], [0.2, 0.3, 0.5], [1.0, 0.0]]


def test_profile_from_cli_policy_out_and_json(rps, tmp_path, capsys):
    out, res = tmp_path / "p.json", tmp_path / "r.json"
    argv = ["solve", "rps", "--solver", "regret-matching", "--iterations", "40", "--no-progress"]
    assert main([*argv, "--policy-out", str(out), "--json", str(res)]) == 0
    capsys.readouterr()
    written = json.loads(res.read_text())
    for path in (out, res):
        profile = MixedProfile.from_json(rps, path)
        assert gamesolve.nash_conv(rps, profile).nash_conv == pytest.approx(written["nash_conv"], abs=1e-12)


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ([[THIRD] * 3], ["one strategy per player (2), got 1"]),
        ([[THIRD] * 3] * 4, ["one strategy per player (2), got 4"]),
        ([[THIRD] * 3, [0.5, 0.5]], ["player 1 strategy must have 3 entries", "got 2"]),
        ([[THIRD] * 3, [0.25] * 4], ["player 1 strategy must have 3 entries", "got 4"]),
        ([[THIRD] * 3, ["0.3", 0.3, 0.4]], ["player 1 strategy, action 0", "'0.3'"]),
        ([[THIRD] * 3, [True, False, False]], ["player 1 strategy, action 0", "bool"]),
        ([[THIRD] * 3, [None, 1, 0]], ["player 1 strategy, action 0", "None"]),
        ([[THIRD] * 3, [[1], 0, 0]], ["player 1 strategy, action 0", "must be a number"]),
        ([[THIRD] * 3, [OVERFLOW, 0, 0]], ["player 1 strategy, action 0", "finite"]),
        ([[THIRD] * 3, [10**4000, 0, 0]], ["player 1 strategy, action 0", "about 4001 digits"]),
        ([[THIRD] * 3, [2, -1, 0]], ["player 1", "negative"]),
        ([[THIRD] * 3, [0.2, 0.2, 0.2]], ["player 1", "sums to"]),
        ([[THIRD] * 3, {"0": 1}], ["player 1 strategy must be a list of 3 numbers"]),
        ([[THIRD] * 3, "uniform"], ["player 1 strategy must be a list of 3 numbers"]),
        ({"strategies": [[THIRD] * 3] * 2}, ['{"profile"', "'strategies'"]),
        ({"profile": "uniform"}, ["list of 2 per-player probability lists"]),
        ([[1 / 9] * 3] * 3, ["got 3 lists", "joint distribution"]),
    ],
)
def test_bad_profiles_name_the_player(rps, tmp_path, content, needles):
    path = _profile_file(tmp_path, content)
    with pytest.raises(InvalidPolicyError) as info:
        MixedProfile.from_json(rps, path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for needle in needles:
        assert needle in message, message


def test_joint_distribution_of_a_2x2_game_is_named(tmp_path):
    pennies = gamesolve.load_game("matching_pennies")
    path = _profile_file(tmp_path, {"profile": [[0.25, 0.25], [0.25, 0.25]]})
    with pytest.raises(InvalidPolicyError, match=r"sums to 0\.5.*joint distribution"):
        MixedProfile.from_json(pennies, path)


def test_three_player_profile_counts(three_player, tmp_path):
    for content, needle in [
        ([[0.5, 0.5], [THIRD] * 3], "one strategy per player (3), got 2"),
        ([[0.5, 0.5], [0.5, 0.5], [1, 0]], "player 1 strategy must have 3 entries"),
        ([[0.5, 0.5], [THIRD] * 3, [1, 0, 0]], "player 2 strategy must have 2 entries"),
    ]:
        with pytest.raises(InvalidPolicyError, match=r"\(3\)|player") as info:
            MixedProfile.from_json(three_player, _profile_file(tmp_path, content))
        assert needle in str(info.value)


def test_mixed_profile_of_refuses_strings_and_booleans(rps):
    """``MixedProfile.of`` used to convert ``"0.5"`` and ``True`` to numbers silently."""
    with pytest.raises(InvalidPolicyError, match=r"player 1.*numeric"):
        MixedProfile.of(rps, [[THIRD] * 3, ["0.5", "0.5", "0"]])
    with pytest.raises(InvalidPolicyError, match=r"player 0.*numeric"):
        MixedProfile.of(rps, [[True, False, False], [THIRD] * 3])
    with pytest.raises(InvalidPolicyError, match=r"player 0.*numeric"):
        MixedProfile.of(rps, [[10**400, 0, 0], [THIRD] * 3])
    with pytest.raises(InvalidPolicyError, match="sequence of 2 strategies"):
        MixedProfile.of(rps, 3)  # type: ignore[arg-type]


# ------------------------------------------------------------------ Markov profiles


def _markov_file(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "markov.json"
    path.write_text(_dumps(content))
    return path


HALF = [[0.5, 0.5], [0.5, 0.5]]


def test_markov_formats_and_cli_policy_out(two_state, tmp_path, capsys):
    for content in ({"strategies": [HALF, HALF]}, [HALF, HALF], {"profile": [HALF, HALF]}):
        profile = MarkovProfile.from_file(two_state, _markov_file(tmp_path, content))
        assert profile.to_lists() == [HALF, HALF]
    out, res = tmp_path / "p.json", tmp_path / "r.json"
    argv = ["solve", "two_state", "--solver", "shapley", "--no-progress"]
    assert main([*argv, "--policy-out", str(out), "--json", str(res)]) == 0
    capsys.readouterr()
    written = json.loads(res.read_text())
    for path in (out, res):
        profile = MarkovProfile.from_file(two_state, path)
        report = gamesolve.nash_conv(two_state, profile)
        assert report.nash_conv == pytest.approx(written["nash_conv"], abs=1e-9)


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ([HALF], ["one strategy per player (2), got 1"]),
        ([HALF, HALF, HALF], ["one strategy per player (2), got 3"]),
        ([HALF, [[0.5, 0.5]]], ["player 1 must be 2 rows", "shape (2, 2)", "got 1 rows"]),
        ([HALF, [[0.5, 0.5]] * 3], ["player 1 must be 2 rows", "got 3 rows"]),
        ([HALF, [[0.5, 0.5], [1, 0, 0]]], ["player 1, state 1 must have 2 entries", "got 3"]),
        ([HALF, [[0.5], [1, 0]]], ["player 1, state 0 must have 2 entries", "got 1"]),
        ([HALF, [[0.5, "0.5"], [1, 0]]], ["player 1, state 0, action 1", "'0.5'"]),
        ([HALF, [["abc", 0.5], [1, 0]]], ["player 1, state 0, action 0", "'abc'"]),
        ([HALF, [[True, False], [1, 0]]], ["player 1, state 0, action 0", "bool"]),
        ([HALF, [[None, 1], [1, 0]]], ["player 1, state 0, action 0", "None"]),
        ([HALF, [[OVERFLOW, 0], [1, 0]]], ["player 1, state 0, action 0", "finite"]),
        ([HALF, [[10**4000, 0], [1, 0]]], ["player 1, state 0, action 0", "4001 digits"]),
        ([HALF, [[-1, 2], [1, 0]]], ["player 1 in state 0, action 0 is -1.0", ">= 0"]),
        ([HALF, [[0.4, 0.4], [1, 0]]], ["player 1 in state 0 sums to 0.8"]),
        ([HALF, [0.5, 0.5]], ["player 1, state 0 must be a list of 2 numbers"]),
        ([HALF, {"0": [0.5, 0.5]}], ["player 1 must be 2 rows"]),
        ({"policy": [HALF, HALF]}, ['"strategies"', "'policy'"]),
    ],
)
def test_bad_markov_profiles_name_player_and_state(two_state, tmp_path, content, needles):
    path = _markov_file(tmp_path, content)
    with pytest.raises(InvalidPolicyError) as info:
        MarkovProfile.from_file(two_state, path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for needle in needles:
        assert needle in message, message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[" * 100_000, "too deeply"),
        ("[[[NaN, 0], [1, 0]], [[1, 0], [1, 0]]]", "NaN"),
        ("[[[1" + "0" * 5000 + ", 0], [1, 0]], [[1, 0], [1, 0]]]", "4300 digits"),
        (b"\xff[[", "not UTF-8"),
        ("", "not JSON"),
        ('[[["0.5", 0.5], [1, 0]], [[1, 0], [1, 0]]]', "player 0, state 0, action 0"),
        ("[[[0.5, 0.5], [1, 0]], [[1, 0], [1]]]", "player 1, state 1 must have 2 entries"),
    ],
)
def test_markov_from_json_text(two_state, text, needle):
    with pytest.raises(InvalidPolicyError) as info:
        MarkovProfile.from_json(two_state, text)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_markov_from_json_text_with_bom(two_state):
    profile = MarkovProfile.from_json(two_state, "\ufeff" + json.dumps([HALF, HALF]))
    assert profile.to_lists() == [HALF, HALF]
    again = MarkovProfile.from_json(two_state, b"\xef\xbb\xbf" + json.dumps([HALF, HALF]).encode())
    assert again.to_lists() == [HALF, HALF]


def test_markov_profile_of_refuses_strings_and_ragged_arrays(two_state):
    """``MarkovProfile.of`` used to raise numpy's ValueError for these (a traceback in the CLI)."""
    with pytest.raises(InvalidPolicyError, match=r"player 1.*numeric"):
        MarkovProfile.of(two_state, [HALF, [["a", "b"], ["c", "d"]]])
    with pytest.raises(InvalidPolicyError, match=r"player 1.*equal length"):
        MarkovProfile.of(two_state, [HALF, [[0.5, 0.5], [1.0]]])
    with pytest.raises(InvalidPolicyError, match="sequence of 2 strategies"):
        MarkovProfile.of(two_state, "[[0.5]]")  # type: ignore[arg-type]
