"""Compiled OpenSpiel games have the documented structure and match the games they came from."""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve import CHANCE, TERMINAL, TabularPolicy, Utility

ALL_GAMES = [
    "kuhn_poker",
    "kuhn_poker(players=3)",
    "leduc_poker",
    "liars_dice",
    "goofspiel(num_cards=3)",  # simultaneous-move, converted to turn-based on load
    "matrix_rps",  # simultaneous-move normal-form game, converted likewise
]
SMALL_GAMES = [
    "kuhn_poker",
    "kuhn_poker(players=3)",
    "leduc_poker",
    "goofspiel(num_cards=3)",
    "matrix_rps",
]

# (decision nodes, chance nodes, terminal nodes, infosets). Kuhn, Leduc and Liar's Dice as counted
# on OpenSpiel 2.0.2's trees; the others are recounted in
# test_counts_match_a_walk_of_the_pyspiel_tree below.
KNOWN_SIZES = {
    "kuhn_poker": (24, 4, 30, 12),
    "leduc_poker": (3780, 157, 5520, 936),
    "liars_dice": (147456, 7, 147420, 24576),
}


@pytest.fixture(params=ALL_GAMES)
def name(request):
    return request.param


@pytest.fixture
def compiled(name, game_loader):
    return game_loader(name).compile()


# ------------------------------------------------------------------ sizes


@pytest.mark.parametrize("game_name", sorted(KNOWN_SIZES))
def test_node_counts_match_known_numbers(game_name, game_loader):
    g = game_loader(game_name).compile()
    decision, chance, terminal, infosets = KNOWN_SIZES[game_name]
    assert g.num_decision_nodes == decision
    assert g.num_chance_nodes == chance
    assert g.num_terminals == terminal
    assert g.num_infosets == infosets
    assert g.num_nodes == decision + chance + terminal


def _walk_counts(state, counts, keys):
    if state.is_terminal():
        counts[2] += 1
        return
    if state.is_chance_node():
        counts[1] += 1
        for action, _ in state.chance_outcomes():
            _walk_counts(state.child(action), counts, keys)
        return
    counts[0] += 1
    keys.add(state.information_state_string(state.current_player()))
    for action in state.legal_actions():
        _walk_counts(state.child(action), counts, keys)


@pytest.mark.parametrize("game_name", SMALL_GAMES)
def test_counts_match_a_walk_of_the_pyspiel_tree(game_name, game_loader):
    game = game_loader(game_name)
    counts, keys = [0, 0, 0], set()
    _walk_counts(game.pyspiel_game.new_initial_state(), counts, keys)
    g = game.compile()
    assert (g.num_decision_nodes, g.num_chance_nodes, g.num_terminals) == tuple(counts)
    assert set(g.infosets.keys) == keys


def test_simultaneous_games_are_turn_based(game_loader):
    rps = game_loader("matrix_rps")
    assert rps.spec.simultaneous is False
    assert rps.spec.num_players == 2
    g = rps.compile()
    assert (g.num_nodes, g.num_infosets, g.max_actions) == (13, 2, 3)
    assert list(g.infoset_player) == [0, 1]
    # Rock-paper-scissors: the uniform profile is the equilibrium (value 0); both always playing
    # the first action lets each player gain 1 (by switching to paper).
    assert gamesolve.nash_conv(g, gamesolve.uniform_policy(g)).nash_conv == pytest.approx(0.0, abs=1e-15)
    assert gamesolve.nash_conv(g, TabularPolicy.first_action(g)).nash_conv == pytest.approx(2.0, abs=1e-15)
    goof = game_loader("goofspiel(num_cards=3)")
    assert goof.spec.simultaneous is False
    assert goof.pyspiel_game.get_type().dynamics.name == "SEQUENTIAL"


# ------------------------------------------------------------------ layout


def test_parents_precede_children_and_children_are_contiguous(compiled):
    g = compiled
    n = g.num_nodes
    assert g.node_parent[0] == -1 and g.node_action[0] == -1
    assert np.all(g.node_parent[1:] < np.arange(1, n))
    assert np.all(g.node_parent[1:] >= 0)
    internal = np.flatnonzero(g.node_player != TERMINAL)
    width = g.node_num_children[internal]
    assert np.all(width >= 1)
    assert np.all(g.node_first_child[internal] > internal)
    # Child blocks [first, first + m) tile the ids 1..N-1 exactly, each pointing back to its parent.
    starts = np.repeat(g.node_first_child[internal].astype(np.int64), width)
    offsets = np.arange(starts.size) - np.repeat(np.cumsum(width) - width, width)
    children = starts + offsets
    np.testing.assert_array_equal(np.sort(children), np.arange(1, n))
    np.testing.assert_array_equal(g.node_parent[children], np.repeat(internal, width))
    terminals = np.flatnonzero(g.node_player == TERMINAL)
    np.testing.assert_array_equal(terminals, g.terminal_node)
    assert np.all(g.node_first_child[terminals] == -1)
    assert np.all(g.node_num_children[terminals] == 0)


def test_decision_nodes_match_their_infosets(compiled):
    g = compiled
    decision = np.flatnonzero(g.node_player >= 0)
    infoset = g.node_infoset[decision]
    assert np.all(infoset >= 0)
    assert np.all(g.node_infoset[g.node_player < 0] == -1)
    np.testing.assert_array_equal(g.infoset_player[infoset], g.node_player[decision])
    np.testing.assert_array_equal(g.infoset_num_actions[infoset], g.node_num_children[decision])
    # Every infoset is reached, and its action ids label its children slot by slot.
    assert set(np.unique(infoset)) == set(range(g.num_infosets))
    for j in range(g.max_actions):
        has = g.infoset_num_actions[infoset] > j
        nodes = decision[has]
        np.testing.assert_array_equal(
            g.node_action[g.node_first_child[nodes] + j], g.infoset_actions[infoset[has], j]
        )
    assert np.all(g.infoset_actions[~g.legal_mask] == -1)
    assert np.all(g.infoset_actions[g.legal_mask] >= 0)


def test_chance_probabilities_sum_to_one(compiled):
    g = compiled
    chance = np.flatnonzero(g.node_player == CHANCE)
    assert (g.num_chance_nodes > 0) == g.spec.has_chance
    for node in chance:
        first, m = g.node_first_child[node], g.node_num_children[node]
        probs = g.node_prob[first : first + m]
        assert np.all(probs > 0.0)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    # Edges out of decision nodes carry probability 1.
    from_decision = g.node_player[g.node_parent[1:]] >= 0
    assert np.all(g.node_prob[1:][from_decision] == 1.0)


def test_perfect_recall_recomputed_by_walking_parents(compiled):
    """Each player's own (infoset, slot) history, rebuilt in Python, is identical across an infoset.

    It also reproduces the compiled sequence numbering: ``infoset_parent_seq`` and ``terminal_seq``.
    """
    g = compiled
    n_players = g.num_players
    player = g.node_player.tolist()
    parent = g.node_parent.tolist()
    infoset = g.node_infoset.tolist()
    first = g.node_first_child.tolist()
    own: list[tuple[tuple[tuple[int, int], ...], ...]] = [((),) * n_players]
    for node in range(1, g.num_nodes):
        up = parent[node]
        actor = player[up]
        if actor < 0:
            own.append(own[up])
        else:
            past = list(own[up])
            past[actor] = (*past[actor], (infoset[up], node - first[up]))
            own.append(tuple(past))

    seen: dict[int, tuple[tuple[int, int], ...]] = {}
    for node in np.flatnonzero(g.node_player >= 0).tolist():
        i, actor = infoset[node], player[node]
        history = own[node][actor]
        if i in seen:
            assert seen[i] == history, f"infoset {g.infosets.key(i)!r} is not perfect recall"
        else:
            seen[i] = history

    def seq_id(history):
        if not history:
            return 0
        last_infoset, slot = history[-1]
        return int(g.infoset_first_seq[last_infoset]) + slot

    for i, history in seen.items():
        assert g.infoset_parent_seq[i] == seq_id(history)
        if history:  # topological infoset order: the parent sequence's owner comes first
            assert history[-1][0] < i
    for t, node in enumerate(g.terminal_node.tolist()):
        assert g.terminal_seq[t].tolist() == [seq_id(own[node][p]) for p in range(n_players)]


def test_sequence_numbering(compiled):
    g = compiled
    for p in range(g.num_players):
        rows = g.infosets_of(p)
        widths = g.infoset_num_actions[rows]
        assert g.num_sequences[p] == 1 + widths.sum()
        # Slots of the player's infosets number the sequences 1..S-1 once each.
        seqs = np.concatenate(
            [g.infoset_first_seq[i] + np.arange(w) for i, w in zip(rows, widths, strict=True)]
        )
        np.testing.assert_array_equal(np.sort(seqs), np.arange(1, g.num_sequences[p]))


def test_zero_sum_claims_hold(compiled):
    g = compiled
    u = g.terminal_utility
    assert u.shape == (g.num_terminals, g.num_players)
    assert np.all(np.isfinite(u))
    if g.spec.utility is Utility.ZERO_SUM:
        np.testing.assert_allclose(u.sum(axis=1), 0.0, atol=1e-12)
    elif g.spec.utility is Utility.CONSTANT_SUM:
        np.testing.assert_allclose(u.sum(axis=1), u.sum(axis=1)[0], atol=1e-12)
    assert g.spec.utility is Utility.ZERO_SUM  # all games in this module are zero-sum in OpenSpiel


def test_arrays_are_read_only(compiled):
    for field in ("node_player", "node_parent", "node_prob", "terminal_utility", "infoset_actions"):
        array = getattr(compiled, field)
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[0] = 0


# ------------------------------------------------------------------ agreement with the pyspiel tree


def _replay(os_game, history):
    state = os_game.new_initial_state()
    for action in history:
        state = state.child(action)
    return state


def test_histories_replay_in_pyspiel(name, compiled, game_loader):
    """Replaying compiled histories in pyspiel lands on the same payoffs, players and infosets."""
    os_game = game_loader(name).pyspiel_game
    g = compiled
    rng = np.random.default_rng(5)
    n_terminals = min(g.num_terminals, 150)
    for t in rng.choice(g.num_terminals, size=n_terminals, replace=False):
        state = _replay(os_game, g.history(int(g.terminal_node[t])))
        assert state.is_terminal()
        np.testing.assert_array_equal(state.returns(), g.terminal_utility[t])
    decision = np.flatnonzero(g.node_player >= 0)
    for node in rng.choice(decision, size=min(decision.size, 150), replace=False):
        state = _replay(os_game, g.history(int(node)))
        actor = state.current_player()
        assert actor == g.node_player[node]
        i = g.node_infoset[node]
        assert state.information_state_string(actor) == g.infosets.key(i)
        assert state.legal_actions() == g.infoset_actions[i, : g.infoset_num_actions[i]].tolist()
    for node in np.flatnonzero(g.node_player == CHANCE)[:20]:
        state = _replay(os_game, g.history(int(node)))
        first, m = g.node_first_child[node], g.node_num_children[node]
        outcomes = state.chance_outcomes()
        assert [a for a, _ in outcomes] == g.node_action[first : first + m].tolist()
        np.testing.assert_array_equal([p for _, p in outcomes], g.node_prob[first : first + m])


def _direct_values(state, policy: TabularPolicy) -> np.ndarray:
    """Expected returns by plain recursion over pyspiel states (no compiled arrays)."""
    if state.is_terminal():
        return np.asarray(state.returns(), dtype=np.float64)
    if state.is_chance_node():
        return sum(p * _direct_values(state.child(a), policy) for a, p in state.chance_outcomes())
    actor = state.current_player()
    dist = policy.action_probabilities(state.information_state_string(actor))
    assert sorted(dist) == state.legal_actions()
    return sum(p * _direct_values(state.child(a), policy) for a, p in dist.items() if p > 0.0)


@pytest.mark.parametrize("game_name", ["kuhn_poker", "kuhn_poker(players=3)", "leduc_poker"])
def test_on_policy_values_match_direct_recursion(game_name, game_loader):
    game = game_loader(game_name)
    root = game.pyspiel_game.new_initial_state()
    for seed in (0, 1):
        policy = TabularPolicy.random(game, rng=np.random.default_rng(seed))
        expected = _direct_values(root, policy)
        np.testing.assert_allclose(gamesolve.expected_values(game, policy), expected, atol=1e-12, rtol=0)
        report = gamesolve.nash_conv(game, policy)
        np.testing.assert_allclose(report.on_policy_values, expected, atol=1e-12, rtol=0)


def test_compile_is_cached(game_loader):
    game = game_loader("kuhn_poker")
    assert game.compile() is game.compile()
    assert gamesolve.as_compiled(game) is game.compile()
    assert game.compile().source is game
    assert game.compile().compile_seconds > 0.0


def test_openspiel_one_shot_games_read_as_normal_form_games():
    rps = gamesolve.load_game("matrix_rps").to_normal_form()
    assert isinstance(rps, gamesolve.TensorGame)
    np.testing.assert_array_equal(rps.payoffs, gamesolve.load_game("rps").payoffs)
    assert list(rps.action_names[0]) == ["Rock", "Paper", "Scissors"]
    mp3 = gamesolve.load_game("matching_pennies_3p")
    assert mp3.to_normal_form().num_actions == (2, 2, 2)
    assert gamesolve.solve(mp3, "homotopy").gap <= 1e-12  # normal-form solvers take them directly
    with pytest.raises(gamesolve.UnsupportedGame, match="not a one-shot"):
        gamesolve.load_game("kuhn_poker").to_normal_form()
