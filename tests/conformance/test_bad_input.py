"""Bad games, bad names and bad policies fail at the door with a typed error naming the culprit."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import gamesolve
from gamesolve import (
    CHANCE,
    TERMINAL,
    ExtensiveFormGame,
    GameKind,
    GameNotFoundError,
    GamesolveError,
    GameSpec,
    InvalidPolicyError,
    MalformedGameError,
    NotPerfectRecallError,
    State,
    TabularPolicy,
    UnsupportedGame,
    Utility,
)

# ------------------------------------------------------------------ hand-written games
#
# A tree is nested tuples:
#   ("T", returns)                                   terminal
#   ("C", [(outcome, prob, subtree), ...])           chance
#   ("D", player, infoset_key, [(action, subtree), ...])   decision


@dataclass(frozen=True)
class TreeState:
    node: tuple

    def current_player(self) -> int:
        kind = self.node[0]
        if kind == "T":
            return TERMINAL
        if kind == "C":
            return CHANCE
        return int(self.node[1])

    def is_terminal(self) -> bool:
        return self.node[0] == "T"

    def legal_actions(self) -> Sequence[int]:
        return [a for a, _ in self.node[3]]

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        return [(o, p) for o, p, _ in self.node[1]]

    def child(self, action: int) -> TreeState:
        if self.node[0] == "C":
            return TreeState(next(sub for o, _, sub in self.node[1] if o == action))
        return TreeState(next(sub for a, sub in self.node[3] if a == action))

    def returns(self) -> Sequence[float]:
        return list(self.node[1])

    def infoset_key(self, player: int) -> str:
        assert player == self.node[1]
        return str(self.node[2])


@dataclass(frozen=True, eq=False)
class TreeGame:
    root: tuple
    num_players: int = 2
    name: str = "tree"

    @property
    def spec(self) -> GameSpec:
        return GameSpec(
            self.name,
            GameKind.EXTENSIVE_FORM,
            self.num_players,
            Utility.GENERAL_SUM,
            has_chance=True,
        )

    def initial_state(self) -> State:
        return TreeState(self.root)


def T(*returns: float) -> tuple:
    return ("T", returns)


def D(player: int, key: str, *branches: tuple[int, tuple]) -> tuple:
    return ("D", player, key, list(branches))


def C(*outcomes: tuple[int, float, tuple]) -> tuple:
    return ("C", list(outcomes))


def _matching_pennies_like(second_key_left: str, second_key_right: str) -> TreeGame:
    """Player 0 moves (infoset "a"), player 1 moves, then player 0 moves again."""

    def tail(key: str, sign: float) -> tuple:
        return D(0, key, (0, T(sign, -sign)), (1, T(-sign, sign)))

    return TreeGame(
        D(
            0,
            "a",
            (0, D(1, "x", (0, tail(second_key_left, 1.0)), (1, tail(second_key_left, -1.0)))),
            (1, D(1, "x", (0, tail(second_key_right, 2.0)), (1, tail(second_key_right, -2.0)))),
        )
    )


def test_hand_written_games_implement_the_protocols():
    game = _matching_pennies_like("b-after-0", "b-after-1")
    assert isinstance(game, ExtensiveFormGame)
    assert isinstance(game.initial_state(), State)
    compiled = gamesolve.compile_game(game)  # control: a perfect-recall version compiles
    assert compiled.num_infosets == 4
    assert compiled.num_terminals == 8
    assert gamesolve.nash_conv(compiled, gamesolve.uniform_policy(compiled)).nash_conv >= 0.0


def test_forgetting_own_action_is_not_perfect_recall():
    # Player 0 forgets its first move: one infoset "b" after both of its actions.
    game = _matching_pennies_like("b", "b")
    with pytest.raises(NotPerfectRecallError, match="'b'") as info:
        gamesolve.compile_game(game)
    assert isinstance(info.value, MalformedGameError)
    assert "perfect recall" in str(info.value)
    with pytest.raises(NotPerfectRecallError, match="'b'"):  # also through the public entry points
        gamesolve.nash_conv(game, np.zeros((4, 2)))


def test_forgetting_own_action_without_opponent_in_between():
    game = TreeGame(
        D(
            0,
            "first",
            (0, D(0, "second", (0, T(1, -1)), (1, T(0, 0)))),
            (1, D(0, "second", (0, T(2, -2)), (1, T(3, -3)))),
        )
    )
    with pytest.raises(NotPerfectRecallError, match="'second'"):
        gamesolve.compile_game(game)


def test_absent_minded_player_is_not_perfect_recall():
    # The same infoset twice on one path (Piccione-Rubinstein absent-minded driver).
    game = TreeGame(D(0, "junction", (0, T(0, 0)), (1, D(0, "junction", (0, T(4, 0)), (1, T(1, 0))))))
    with pytest.raises(NotPerfectRecallError, match="'junction'"):
        gamesolve.compile_game(game)


def test_chance_probabilities_not_summing_to_one():
    game = TreeGame(C((0, 0.5, T(1, -1)), (1, 0.4, T(-1, 1))))
    with pytest.raises(MalformedGameError, match="sum to 1"):
        gamesolve.compile_game(game)
    over = TreeGame(D(0, "a", (0, C((0, 0.7, T(1, -1)), (1, 0.7, T(-1, 1)))), (1, T(0, 0))))
    with pytest.raises(MalformedGameError, match=r"history \[0\]"):
        gamesolve.compile_game(over)


def test_negative_chance_probability():
    game = TreeGame(C((0, 1.5, T(1, -1)), (1, -0.5, T(-1, 1))))
    with pytest.raises(MalformedGameError, match="non-negative"):
        gamesolve.compile_game(game)


def test_non_finite_payoff():
    game = TreeGame(D(0, "a", (0, T(1, -1)), (1, T(math.nan, 0))))
    with pytest.raises(MalformedGameError, match=r"non-finite payoff at terminal history \[1\]"):
        gamesolve.compile_game(game)


def test_wrong_number_of_returns():
    game = TreeGame(D(0, "a", (0, T(1, -1)), (1, T(1, -1, 0))))
    with pytest.raises(MalformedGameError, match="3 entries"):
        gamesolve.compile_game(game)


def test_infoset_with_different_legal_actions():
    game = TreeGame(
        C(
            (0, 0.5, D(0, "a", (0, T(1, -1)), (1, T(0, 0)))),
            (1, 0.5, D(0, "a", (0, T(1, -1)), (2, T(0, 0)))),
        )
    )
    with pytest.raises(MalformedGameError, match=r"'a'.*different legal actions"):
        gamesolve.compile_game(game)


def test_infoset_shared_by_two_players():
    game = TreeGame(
        C(
            (0, 0.5, D(0, "a", (0, T(1, -1)), (1, T(0, 0)))),
            (1, 0.5, D(1, "a", (0, T(1, -1)), (1, T(0, 0)))),
        )
    )
    with pytest.raises(MalformedGameError, match="'a'"):
        gamesolve.compile_game(game)


def test_bad_player_id_and_dead_end():
    with pytest.raises(MalformedGameError, match="current_player"):
        gamesolve.compile_game(TreeGame(D(5, "a", (0, T(0, 0)))))
    with pytest.raises(MalformedGameError, match="no legal actions"):
        gamesolve.compile_game(TreeGame(D(0, "a")))


def test_malformed_errors_are_value_errors():
    for cls in (MalformedGameError, NotPerfectRecallError, InvalidPolicyError):
        assert issubclass(cls, GamesolveError) and issubclass(cls, ValueError)
    assert issubclass(GameNotFoundError, LookupError)
    assert issubclass(UnsupportedGame, TypeError)


# ------------------------------------------------------------------ names and unsupported games


@pytest.mark.parametrize(
    "name", ["no_such_game_xyz", "kuhn_pokr", "leduc_poker(foo=1)", "kuhn_poker(players=abc)"]
)
def test_unknown_game_names_the_game(name):
    with pytest.raises(GameNotFoundError) as info:
        gamesolve.load_game(name)
    assert name in str(info.value)


@pytest.mark.parametrize("bad", ["", "   ", "kuhn_poker(players", "kuhn_poker(3)"])
def test_unparseable_game_strings(bad):
    with pytest.raises(GameNotFoundError):
        gamesolve.load_game(bad)


def test_keyword_parameters_for_openspiel_games_are_refused():
    with pytest.raises(GameNotFoundError, match="game string"):
        gamesolve.load_game("kuhn_poker", players=3)


def test_sampled_chance_is_unsupported():
    # OpenSpiel's tarok has SAMPLED_STOCHASTIC chance: no explicit outcome probabilities.
    with pytest.raises(UnsupportedGame, match=r"'tarok'.*sampled chance"):
        gamesolve.load_game("tarok")


def test_missing_information_state_strings_is_unsupported():
    # OpenSpiel's catch provides no information-state strings.
    with pytest.raises(UnsupportedGame, match=r"'catch'.*information-state"):
        gamesolve.load_game("catch")


def test_simultaneous_pyspiel_game_needs_load():
    import pyspiel

    from gamesolve.games.openspiel import OpenSpielGame

    with pytest.raises(UnsupportedGame, match="sequential"):
        OpenSpielGame(pyspiel.load_game("matrix_rps"), "matrix_rps")


def test_too_many_nodes_is_unsupported():
    with pytest.raises(UnsupportedGame, match="max_nodes"):
        gamesolve.compile_game(gamesolve.load_game("leduc_poker"), max_nodes=1000)


def test_not_an_extensive_form_game():
    with pytest.raises(UnsupportedGame):
        gamesolve.as_compiled(object())

    class Matrix:
        spec = GameSpec("m", GameKind.NORMAL_FORM, 2, Utility.ZERO_SUM)

        def initial_state(self) -> Any:
            raise AssertionError("must not be walked")

    with pytest.raises(UnsupportedGame, match="extensive-form"):
        gamesolve.compile_game(Matrix())


# ------------------------------------------------------------------ policies


def _kuhn_table(kuhn) -> dict[str, dict[int, float]]:
    return gamesolve.uniform_policy(kuhn).to_dict()


def test_policy_missing_infoset(kuhn):
    table = _kuhn_table(kuhn)
    del table["1pb"]
    with pytest.raises(InvalidPolicyError, match="'1pb'"):
        TabularPolicy.from_dict(kuhn, table)
    filled = TabularPolicy.from_dict(kuhn, table, missing="uniform")
    assert filled.action_probabilities("1pb") == {0: 0.5, 1: 0.5}
    with pytest.raises(ValueError, match="missing"):
        TabularPolicy.from_dict(kuhn, table, missing="zero")


@pytest.mark.parametrize(
    ("key", "dist", "fragment"),
    [
        ("0", {0: 0.5, 2: 0.5}, "illegal"),
        ("1p", {0: math.nan, 1: 1.0}, "finite"),
        ("2b", {0: -0.5, 1: 1.5}, "negative"),
        ("0pb", {0: 0.3, 1: 0.3}, "sum to"),
        ("2pb", {0: 1.2}, "sum to"),
        ("1", {0: "half", 1: 0.5}, "number"),
        ("0b", [0.5, 0.5], "mapping"),
    ],
)
def test_policy_bad_rows_name_the_infoset(kuhn, key, dist, fragment):
    table: dict[str, Any] = dict(_kuhn_table(kuhn))
    table[key] = dist
    with pytest.raises(InvalidPolicyError) as info:
        TabularPolicy.from_dict(kuhn, table)
    assert repr(key) in str(info.value)
    assert fragment in str(info.value)


def test_policy_unknown_key(kuhn):
    table: dict[str, Any] = dict(_kuhn_table(kuhn))
    table["3pbb"] = {0: 1.0}
    with pytest.raises(InvalidPolicyError, match="'3pbb'"):
        TabularPolicy.from_dict(kuhn, table)


def test_policy_not_a_mapping(kuhn):
    with pytest.raises(InvalidPolicyError, match="mapping"):
        TabularPolicy.from_dict(kuhn, [("0", {0: 1.0})])  # type: ignore[arg-type]


def test_policy_zero_on_illegal_action_is_accepted(kuhn):
    table = _kuhn_table(kuhn)
    table["0"] = {0: 0.25, 1: 0.75, 7: 0.0}
    assert TabularPolicy.from_dict(kuhn, table).action_probabilities("0") == {0: 0.25, 1: 0.75}


def test_policy_array_wrong_shape(kuhn):
    compiled = kuhn.compile()
    for shape in [(12, 3), (11, 2), (24,), (12, 2, 1)]:
        probs = np.full(shape, 0.5)
        with pytest.raises(InvalidPolicyError, match="shape"):
            TabularPolicy(compiled, probs)
        with pytest.raises(InvalidPolicyError, match="shape"):
            gamesolve.nash_conv(compiled, probs)
        with pytest.raises(InvalidPolicyError, match="shape"):
            gamesolve.expected_values(compiled, probs)


def test_policy_array_not_numeric_or_ragged(kuhn):
    ragged = [[0.5, 0.5]] * 11 + [[1.0]]
    for bad in (ragged, [["a", "b"]] * 12):
        with pytest.raises(InvalidPolicyError, match="numeric"):
            TabularPolicy(kuhn, bad)
        with pytest.raises(InvalidPolicyError, match="numeric"):
            gamesolve.nash_conv(kuhn, bad)


def test_policy_array_bad_values_name_the_infoset(kuhn, leduc):
    compiled = kuhn.compile()
    probs = np.full((12, 2), 0.5)
    probs[3] = [np.inf, 0.0]
    with pytest.raises(InvalidPolicyError, match=re.escape(repr(compiled.infosets.key(3)))):
        TabularPolicy(compiled, probs)
    probs[3] = [0.6, 0.6]
    with pytest.raises(InvalidPolicyError, match=re.escape(repr(compiled.infosets.key(3)))):
        gamesolve.exploitability(compiled, probs)
    # Leduc: mass on the padding slot of an infoset with only two legal actions.
    lg = leduc.compile()
    narrow = int(np.flatnonzero(lg.infoset_num_actions < lg.max_actions)[0])
    bad = gamesolve.uniform_policy(lg).probs.copy()
    bad[narrow] = [0.25, 0.25, 0.5]
    with pytest.raises(InvalidPolicyError, match=re.escape(repr(lg.infosets.key(narrow))) + ".*illegal"):
        TabularPolicy(lg, bad)


def test_policy_of_another_game_is_refused(kuhn, leduc):
    with pytest.raises(InvalidPolicyError, match="different game"):
        gamesolve.nash_conv(kuhn, gamesolve.uniform_policy(leduc))


def test_policy_json_errors(kuhn, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(gamesolve.InputFileError, match="not valid JSON"):
        TabularPolicy.from_json(kuhn, broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"no such infoset": {"0": 1.0}}))
    with pytest.raises(InvalidPolicyError, match="'no such infoset'"):
        TabularPolicy.from_json(kuhn, other)


def test_best_response_player_out_of_range(kuhn):
    uniform = gamesolve.uniform_policy(kuhn)
    for player in (-1, 2):
        with pytest.raises(ValueError, match="player"):
            gamesolve.best_response(kuhn, uniform, player)
