"""Native Kuhn and Leduc poker vs OpenSpiel, and Leduc's fast compiler vs the generic walk.

The native games must be the same games as OpenSpiel's ``kuhn_poker`` / ``leduc_poker`` (same
histories, ids, payoffs and information-state strings), and ``LeducPoker.compile`` (a template
tiled by a numba kernel) must produce exactly the arrays of ``gamesolve.compile_game`` (a walk of
the State protocol) for generalized parameters too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as os_policy
from open_spiel.python.algorithms import exploitability as os_exploitability

import gamesolve
from gamesolve import CompiledGame, GameNotFoundError, TabularPolicy, UnsupportedGame
from gamesolve.compiled import compile_game
from gamesolve.games import kuhn as kuhn_mod
from gamesolve.games import leduc as leduc_mod
from gamesolve.games.openspiel import load as load_openspiel
from gamesolve.games.params import GameParameterError
from gamesolve.protocols import CHANCE, TERMINAL, ExtensiveFormGame, State

ARRAY_FIELDS = (
    "node_player",
    "node_infoset",
    "node_parent",
    "node_first_child",
    "node_num_children",
    "node_action",
    "node_prob",
    "terminal_node",
    "terminal_utility",
    "terminal_seq",
    "infoset_player",
    "infoset_num_actions",
    "infoset_actions",
    "infoset_parent_seq",
    "infoset_first_seq",
    "num_sequences",
)


def assert_same_compiled(a: CompiledGame, b: CompiledGame) -> None:
    """Identical infoset keys in identical order and identical arrays (dtype, shape, values)."""
    assert a.infosets.keys == b.infosets.keys
    for name in ARRAY_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        assert np.array_equal(x, y), f"{name} differs"


def walk_both(native: State, os_state: Any, num_players: int) -> int:
    """Walk two trees in lockstep; compare players, legal moves, payoffs, every player's string."""
    count = 0
    stack = [(native, os_state)]
    while stack:
        a, b = stack.pop()
        count += 1
        assert a.current_player() == b.current_player(), b.history()
        assert a.is_terminal() == b.is_terminal()
        for p in range(num_players):
            assert a.infoset_key(p) == b.information_state_string(p), b.history()
        if b.is_terminal():
            assert list(a.returns()) == list(b.returns()), b.history()
            continue
        if b.is_chance_node():
            assert list(a.chance_outcomes()) == list(b.chance_outcomes())
            moves = [o for o, _ in b.chance_outcomes()]
        else:
            assert list(a.legal_actions()) == list(b.legal_actions()), b.history()
            moves = b.legal_actions()
        stack.extend((a.child(m), b.child(m)) for m in moves)
    return count


def cross_nash_conv(native: Any, other: Any, rng: np.random.Generator) -> tuple[float, float]:
    """NashConv of one random policy of ``other`` on both games, moved by to_dict/from_dict."""
    pol = TabularPolicy.random(other, rng=rng)
    moved = TabularPolicy.from_dict(native, pol.to_dict())
    return gamesolve.nash_conv(native, moved).nash_conv, gamesolve.nash_conv(other, pol).nash_conv


# ---------------------------------------------------------------------------------------------
# Kuhn
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("players", "nodes", "infosets"), [(2, 58, 12), (3, 617, 48)])
def test_kuhn_matches_openspiel(players: int, nodes: int, infosets: int) -> None:
    native = gamesolve.load_game(f"kuhn(players={players})")
    assert isinstance(native, kuhn_mod.KuhnPoker)
    theirs = load_openspiel(f"kuhn_poker(players={players})")
    a, b = native.compile(), theirs.compile()
    assert (a.num_nodes, a.num_infosets) == (nodes, infosets)
    assert set(a.infosets.keys) == set(b.infosets.keys)
    assert_same_compiled(a, b)
    rng = np.random.default_rng(7 + players)
    for _ in range(3):
        mine, ref = cross_nash_conv(native, theirs, rng)
        assert mine == pytest.approx(ref, abs=1e-9)
        assert mine > 1e-3


@pytest.mark.parametrize("players", [2, 3])
def test_kuhn_states_and_strings_match_openspiel(players: int) -> None:
    game = kuhn_mod.load(players)
    os_game = pyspiel.load_game(f"kuhn_poker(players={players})")
    count = walk_both(game.initial_state(), os_game.new_initial_state(), players)
    assert count == {2: 58, 3: 617}[players]


@pytest.mark.parametrize("players", [2, 3])
def test_kuhn_nash_conv_agrees_with_openspiel_algorithm(players: int) -> None:
    native = kuhn_mod.load(str(players))
    os_game = pyspiel.load_game(f"kuhn_poker(players={players})")
    pol = TabularPolicy.random(native, rng=np.random.default_rng(players))
    ref = os_exploitability.nash_conv(os_game, pol.to_openspiel(os_game))
    assert gamesolve.nash_conv(native, pol).nash_conv == pytest.approx(ref, abs=1e-9)
    uniform = os_exploitability.nash_conv(os_game, os_policy.UniformRandomPolicy(os_game))
    assert gamesolve.nash_conv(native, gamesolve.uniform_policy(native)).nash_conv == pytest.approx(
        uniform, abs=1e-9
    )


def test_kuhn_four_players_identical_to_openspiel() -> None:
    a = kuhn_mod.load(4).compile()
    b = load_openspiel("kuhn_poker(players=4)").compile()
    assert a.num_nodes == 7886
    assert_same_compiled(a, b)


def test_kuhn_state_rules_by_hand() -> None:
    game = kuhn_mod.load()
    s = game.initial_state()
    assert s.current_player() == CHANCE
    assert s.chance_outcomes() == [(0, 1 / 3), (1, 1 / 3), (2, 1 / 3)]
    s = s.child(2).child(0)
    assert s.infoset_key(0) == "2" and s.infoset_key(1) == "0"
    pb = s.child(kuhn_mod.PASS).child(kuhn_mod.BET)
    assert pb.infoset_key(0) == "2pb" and pb.current_player() == 0
    assert list(pb.child(kuhn_mod.BET).returns()) == [2.0, -2.0]  # call, higher card wins 2
    assert list(pb.child(kuhn_mod.PASS).returns()) == [-1.0, 1.0]  # fold loses the ante
    assert s.actions == ()  # children never mutate their parent
    with pytest.raises(ValueError, match="illegal"):
        s.child(2)
    with pytest.raises(ValueError, match="card 2"):
        game.initial_state().child(2).child(2)


# ---------------------------------------------------------------------------------------------
# Leduc at the default parameters == OpenSpiel leduc_poker
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def os_leduc() -> Any:
    game = load_openspiel("leduc_poker")
    game.compile()
    return game


@pytest.fixture(scope="module")
def native_leduc() -> leduc_mod.LeducPoker:
    game = gamesolve.load_game("leduc")
    assert isinstance(game, leduc_mod.LeducPoker)
    game.compile()
    return game


def test_leduc_defaults_identical_to_openspiel(native_leduc: Any, os_leduc: Any) -> None:
    a, b = native_leduc.compile(), os_leduc.compile()
    assert (a.num_nodes, a.num_terminals, a.num_infosets) == (9457, 5520, 936)
    assert (b.num_nodes, b.num_terminals, b.num_infosets) == (9457, 5520, 936)
    assert set(a.infosets.keys) == set(b.infosets.keys)
    assert_same_compiled(a, b)
    assert (
        "[Observer: 0][Private: 0][Round 1][Player: 0][Pot: 2][Money: 99 99][Round1: ][Round2: ]"
        in a.infosets
    )
    assert (
        "[Observer: 1][Private: 5][Round 2][Player: 1][Pot: 10][Money: 95 95][Public: 3]"
        "[Round1: 2 2 1][Round2: 1]"
    ) in a.infosets


def test_leduc_defaults_nash_conv_matches(native_leduc: Any, os_leduc: Any) -> None:
    uniform = gamesolve.nash_conv(native_leduc, gamesolve.uniform_policy(native_leduc)).nash_conv
    assert uniform == pytest.approx(4.7472222222, abs=1e-9)
    rng = np.random.default_rng(11)
    for _ in range(3):
        mine, ref = cross_nash_conv(native_leduc, os_leduc, rng)
        assert mine == pytest.approx(ref, abs=1e-9)
        assert mine > 1e-2
    # And the other way round, against OpenSpiel's own best-response code.
    pol = TabularPolicy.random(native_leduc, rng=rng)
    os_game = os_leduc.pyspiel_game
    ref = os_exploitability.nash_conv(os_game, pol.to_openspiel(os_game))
    assert gamesolve.nash_conv(native_leduc, pol).nash_conv == pytest.approx(ref, abs=1e-9)


def test_leduc_states_and_strings_match_openspiel(native_leduc: Any) -> None:
    os_game = pyspiel.load_game("leduc_poker")
    assert walk_both(native_leduc.initial_state(), os_game.new_initial_state(), 2) == 9457


def test_leduc_generic_walk_equals_openspiel(native_leduc: Any, os_leduc: Any) -> None:
    assert_same_compiled(compile_game(native_leduc), os_leduc.compile())


def test_leduc_state_rules_by_hand() -> None:
    game = leduc_mod.load()
    s = game.initial_state().child(0).child(2)  # ranks 0 and 1
    assert s.legal_actions() == [leduc_mod.CALL, leduc_mod.RAISE]
    r = s.child(leduc_mod.RAISE)
    assert r.legal_actions() == [leduc_mod.FOLD, leduc_mod.CALL, leduc_mod.RAISE]
    assert r.contributions == (3, 1)
    rr = r.child(leduc_mod.RAISE)
    assert rr.legal_actions() == [leduc_mod.FOLD, leduc_mod.CALL] and rr.contributions == (3, 5)
    assert list(rr.child(leduc_mod.FOLD).returns()) == [-3.0, 3.0]
    chance = rr.child(leduc_mod.CALL)
    assert chance.current_player() == CHANCE
    assert chance.chance_outcomes() == [(1, 0.25), (3, 0.25), (4, 0.25), (5, 0.25)]
    # Round 2: player 0 acts first again; raises are 4 chips.
    r2 = chance.child(1)
    assert r2.current_player() == 0 and r2.round_index == 1
    assert r2.child(leduc_mod.RAISE).contributions == (9, 5)
    end = r2.child(leduc_mod.CALL).child(leduc_mod.CALL)
    assert end.current_player() == TERMINAL
    assert list(end.returns()) == [5.0, -5.0]  # player 0 pairs the public card 1 (rank 0)
    assert list(chance.child(4).child(1).child(1).returns()) == [-5.0, 5.0]  # higher rank
    tie = game.initial_state().child(0).child(1).child(1).child(1).child(2).child(1).child(1)
    assert list(tie.returns()) == [0.0, 0.0]  # cards 0 and 1 share rank 0
    assert r.history == ((2,), ())  # children never mutate their parent
    with pytest.raises(ValueError, match="illegal"):
        s.child(leduc_mod.FOLD)


def test_protocols_and_compile_cache() -> None:
    for game in (kuhn_mod.load(), leduc_mod.load(ranks=2, suits=2)):
        assert isinstance(game, ExtensiveFormGame)
        assert isinstance(game.initial_state(), State)
        first = game.compile()
        assert game.compile() is first
        assert gamesolve.as_compiled(game) is first
        with pytest.raises(UnsupportedGame, match="max_nodes"):
            game.compile(max_nodes=10)
    with pytest.raises(UnsupportedGame, match="max_nodes"):
        leduc_mod.load().compile(max_nodes=9456)


# ---------------------------------------------------------------------------------------------
# Generalized Leduc: the vectorized compiler equals the generic State walk
# ---------------------------------------------------------------------------------------------

GENERALIZED = [
    pytest.param({"ranks": 2, "suits": 2}, 1985, id="2x2"),
    pytest.param({"ranks": 4, "suits": 1, "raises": 1}, 761, id="4x1-raises1"),
    pytest.param({"raise_sizes": (1, 3)}, 9457, id="sizes1-3"),
    pytest.param(
        {"ranks": "2", "suits": "3", "raises": "3", "raise_sizes": "3/5", "ante": "2"},
        18277,
        id="strings",
    ),
    pytest.param({"ranks": 3, "suits": 1, "raises": 0}, 40, id="no-raises"),
    pytest.param({"ranks": 1, "suits": 3}, 544, id="one-rank"),
]


@pytest.mark.parametrize(("params", "nodes"), GENERALIZED)
def test_fast_compile_equals_generic_walk(params: dict[str, Any], nodes: int) -> None:
    game = leduc_mod.load(**params)
    fast = game.compile()
    slow = compile_game(game)
    assert fast.num_nodes == nodes == game.num_histories()
    assert_same_compiled(fast, slow)
    rng = np.random.default_rng(3)
    for _ in range(2):
        pol = TabularPolicy.random(fast, rng=rng)
        a = gamesolve.nash_conv(fast, pol).nash_conv
        b = gamesolve.nash_conv(slow, TabularPolicy.from_dict(slow, pol.to_dict())).nash_conv
        assert a == pytest.approx(b, abs=1e-12)
        # Without raises nobody ever has a choice, so every profile is an equilibrium.
        assert (a > 1e-3) if game.max_raises > 0 else (a == 0.0)


def test_generalized_changes_the_game() -> None:
    base = leduc_mod.load().compile()
    sizes = leduc_mod.load(raise_sizes="1/3").compile()
    # Same tree shape and keys up to pot sizes, different payoffs.
    assert sizes.num_nodes == base.num_nodes
    assert not np.array_equal(sizes.terminal_utility, base.terminal_utility)
    # The most a player can lose: ante + two raises in each round.
    assert float(np.abs(sizes.terminal_utility).max()) == 1 + 2 * 1 + 2 * 3
    assert float(np.abs(base.terminal_utility).max()) == 1 + 2 * 2 + 2 * 4
    ante = leduc_mod.load(ante=3).compile()
    assert float(np.abs(ante.terminal_utility).min()) == 0.0
    assert (
        "[Observer: 0][Private: 0][Round 1][Player: 0][Pot: 6][Money: 97 97][Round1: ][Round2: ]"
        in ante.infosets
    )


def test_registry_strings_reach_native_leduc() -> None:
    game = gamesolve.load_game("leduc(ranks=4,suits=1,raises=1,raise_sizes=1/3)")
    assert isinstance(game, leduc_mod.LeducPoker)
    assert (game.ranks, game.suits, game.max_raises, game.raise_sizes) == (4, 1, 1, (1, 3))
    assert game.spec.name == "leduc(ranks=4,suits=1,raises=1,raise_sizes=1/3)"
    assert gamesolve.load_game("leduc").spec.name == "leduc"
    assert gamesolve.load_game("kuhn(players=3)").spec.num_players == 3


def test_medium_leduc_histories_replay_through_states() -> None:
    """Sampled terminal histories of a 6x2 deck replay through LeducState: same keys, payoffs."""
    game = leduc_mod.load(ranks=6, suits=2)
    compiled = game.compile()
    n = 12
    assert compiled.num_nodes == 1 + n + n * (n - 1) * (15 + 5 * (n - 2) * 15)
    _replay_sample(game, compiled, np.random.default_rng(5), 300)


def _replay_sample(game: Any, compiled: CompiledGame, rng: np.random.Generator, count: int) -> None:
    for t in rng.choice(compiled.num_terminals, size=count, replace=False):
        node = int(compiled.terminal_node[t])
        path = compiled.history(node)
        state = game.initial_state()
        cur = 0
        for action in path:
            pl = state.current_player()
            assert int(compiled.node_player[cur]) == pl
            if pl >= 0:
                infoset = int(compiled.node_infoset[cur])
                assert compiled.infosets.key(infoset) == state.infoset_key(pl)
                legal = compiled.infoset_actions[infoset, : compiled.infoset_num_actions[infoset]]
                assert legal.tolist() == list(state.legal_actions())
            child = int(compiled.node_first_child[cur]) + list(
                compiled.node_action[
                    compiled.node_first_child[cur] : compiled.node_first_child[cur]
                    + compiled.node_num_children[cur]
                ]
            ).index(action)
            assert int(compiled.node_parent[child]) == cur
            state = state.child(action)
            cur = child
        assert cur == node and state.is_terminal()
        assert compiled.terminal_utility[t].tolist() == list(state.returns())


# ---------------------------------------------------------------------------------------------
# Parameter validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"ranks": 0}, "ranks"),
        ({"ranks": "x"}, "ranks"),
        ({"suits": -1}, "suits"),
        ({"suits": 2.5}, "suits"),
        ({"ranks": 1, "suits": 2}, "at least 3 cards"),
        ({"raises": -1}, "raises"),
        ({"raise_sizes": "2"}, "raise_sizes"),
        ({"raise_sizes": (0, 4)}, "raise_sizes"),
        ({"raise_sizes": "2/4/8"}, "raise_sizes"),
        ({"raise_sizes": 3}, "raise_sizes"),
        ({"ante": 0}, "ante"),
        ({"players": 3}, "players"),
        ({"players": True}, "players"),
    ],
)
def test_leduc_rejects_bad_parameters(params: dict[str, Any], mentions: str) -> None:
    with pytest.raises(GameParameterError, match=mentions) as info:
        leduc_mod.load(**params)
    assert isinstance(info.value, ValueError) and isinstance(info.value, GameNotFoundError)


@pytest.mark.parametrize("players", [1, 0, "two", 11, "1.5"])
def test_kuhn_rejects_bad_players(players: Any) -> None:
    with pytest.raises(GameParameterError, match="players"):
        kuhn_mod.load(players)


def test_registry_reports_bad_parameters() -> None:
    with pytest.raises(GameNotFoundError, match="ranks"):
        gamesolve.load_game("leduc(ranks=0)")
    with pytest.raises(GameNotFoundError, match="raise_sizes"):
        gamesolve.load_game("leduc(raise_sizes=2)")
    with pytest.raises(GameNotFoundError):
        gamesolve.load_game("leduc(colour=red)")  # unknown keyword
    with pytest.raises(GameNotFoundError, match="players"):
        gamesolve.load_game("kuhn(players=1)")


def test_too_large_deck_is_refused_before_allocating() -> None:
    game = leduc_mod.load(ranks=100, suits=4)
    assert game.num_histories() > 2**31
    with pytest.raises(gamesolve.GameTooLargeError, match="2\\*\\*31"):
        game.compile()


# ---------------------------------------------------------------------------------------------
# Scale
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_leduc_13x4_builds_millions_of_nodes() -> None:
    game = gamesolve.load_game("leduc(ranks=13,suits=4)")
    compiled = game.compile()
    n = 52
    assert compiled.num_nodes == 1 + n + n * (n - 1) * (15 + 5 * (n - 2) * 15) == 9_984_833
    assert compiled.num_terminals == n * (n - 1) * (4 + 5 * (n - 2) * 9) == 5_977_608
    assert compiled.num_infosets == 6 * n + 5 * 6 * n * (n - 1) == 79_872
    assert compiled.nbytes / compiled.num_nodes < 64
    assert compiled.compile_seconds < 60
    _replay_sample(game, compiled, np.random.default_rng(13), 200)
    report = gamesolve.nash_conv(compiled, gamesolve.uniform_policy(compiled))
    assert 0.0 < report.nash_conv < 100.0
    assert report.on_policy_values[0] == pytest.approx(-report.on_policy_values[1], abs=1e-9)
