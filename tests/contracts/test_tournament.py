"""Contracts of gamesolve.tournament and the match kernels of gamesolve.kernels.matches.

Oracles: gamesolve.expected_values for exact entries on compiled games (an independent route:
reach and sequence-form kernels per profile, where the tournament multiplies realization plans);
payoff-tensor contraction and gamesolve.markov.policy_values for normal-form and Markov games;
the exact values as the target of sampled entries (within a 99.9% confidence interval, fixed
seed); the plain-Python twins for the numba kernels (same draws, same block statistics).
"""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve import InvalidPolicyError, TabularPolicy
from gamesolve.kernels import matches
from gamesolve.population import MetaGame, Population
from gamesolve.tournament import tournament

RPS = gamesolve.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], name="rps")


@pytest.fixture(scope="module")
def kuhn_pair(kuhn):
    cfr = gamesolve.solve(kuhn, "cfr+", iterations=200, progress=False).average_policy
    return {"cfr+": cfr, "uniform": gamesolve.uniform_policy(kuhn)}


@pytest.fixture(scope="module")
def leduc_pair(leduc):
    cfr = gamesolve.solve(leduc, "cfr+", iterations=200, progress=False).average_policy
    return {"cfr+": cfr, "uniform": gamesolve.uniform_policy(leduc)}


def _profile_values(game, seat0, seat1):
    return gamesolve.expected_values(game, seat1.with_player(0, seat0))


# ------------------------------------------------------------------------------------ exact


def test_exact_kuhn_tournament_equals_expected_values(kuhn, kuhn_pair):
    meta = tournament(kuhn, kuhn_pair)
    assert meta.exact and meta.symmetric and meta.names == (("cfr+", "uniform"),) * 2
    assert np.all(meta.counts == 0) and np.all(meta.stderr == 0)
    pols = list(kuhn_pair.values())
    for i in range(2):
        for j in range(2):
            assert np.allclose(meta.payoffs[:, i, j], _profile_values(kuhn, pols[i], pols[j]), atol=1e-12)
    assert meta.payoffs[0, 0, 0] == pytest.approx(-1 / 18, abs=2e-3)  # CFR+ self-play ~ the game value
    assert np.allclose(meta.payoff_range, [[-2, 2], [-2, 2]])


def test_exact_three_player_kuhn(kuhn3):
    rng = np.random.default_rng(0)
    pols = [TabularPolicy.random(kuhn3, rng=rng) for _ in range(2)]
    meta = tournament(kuhn3, [pols, pols[:1], pols])
    assert meta.payoffs.shape == (3, 2, 1, 2)
    profile = pols[1].with_player(1, pols[0]).with_player(2, pols[1])
    assert np.allclose(meta.payoffs[:, 1, 0, 1], gamesolve.expected_values(kuhn3, profile), atol=1e-12)


def test_exact_normal_form_and_markov():
    meta = tournament(RPS, {"rock": 0, "paper": 1, "mix": [0.5, 0.25, 0.25]})
    assert meta.payoffs[0, 1, 0] == 1.0 and meta.payoffs[0, 2, 0] == pytest.approx(0.0)
    assert meta.payoffs[0, 0, 2] == pytest.approx(0.0)
    assert meta.payoffs[0, 1, 2] == pytest.approx(0.5 - 0.25)
    from gamesolve.games.markov import random_markov
    from gamesolve.markov import policy_values

    game = random_markov(states=4, actions=2, successors=2, seed=1, discount=0.7)
    rng = np.random.default_rng(1)
    members = [[rng.dirichlet(np.ones(2), size=4) for _ in range(2)] for _ in range(2)]
    meta = tournament(game, members)
    expected = policy_values(game, [members[0][1], members[1][0]]) @ game.initial
    assert np.allclose(meta.payoffs[:, 1, 0], expected, atol=1e-12)


# ------------------------------------------------------------------------------------ sampled


def test_sampled_leduc_payoffs_lie_in_their_confidence_interval(leduc, leduc_pair):
    exact = tournament(leduc, leduc_pair)
    sampled = tournament(leduc, leduc_pair, episodes=20_000, seed=5, executor="inprocess")
    assert not sampled.exact and np.all(sampled.counts == 20_000)
    lower, upper = sampled.confidence_interval(0.999)
    assert np.all((lower <= exact.payoffs) & (exact.payoffs <= upper)), (sampled.payoffs, exact.payoffs)
    assert np.all(sampled.stderr > 0) and np.all(sampled.stderr < 0.05)
    # Leduc is zero-sum: every episode's payoffs cancel, so the means do too
    assert np.allclose(sampled.payoffs[0], -sampled.payoffs[1], atol=1e-12)


def test_sampled_normal_form_and_markov_agree_with_exact():
    members = {"rock": 0, "mix": [0.2, 0.3, 0.5]}
    exact = tournament(RPS, members)
    sampled = tournament(RPS, members, episodes=5000, seed=1, executor="inprocess")
    lower, upper = sampled.confidence_interval(0.999)
    assert np.all((lower <= exact.payoffs) & (exact.payoffs <= upper))
    assert sampled.payoffs[0, 0, 0] == 0.0 and sampled.stderr[0, 0, 0] == 0.0  # pure vs pure
    from gamesolve.games.markov import random_markov

    game = random_markov(states=4, actions=2, successors=2, seed=2, discount=0.6)
    rng = np.random.default_rng(2)
    members = [[rng.dirichlet(np.ones(2), size=4)] for _ in range(2)]
    exact = tournament(game, members)
    sampled = tournament(game, members, episodes=4000, seed=3, executor="inprocess")
    lower, upper = sampled.confidence_interval(0.999)
    assert np.all((lower <= exact.payoffs) & (exact.payoffs <= upper))


def test_same_seed_same_meta_game_whatever_the_chunking(leduc, leduc_pair):
    a = tournament(leduc, leduc_pair, episodes=70_000, seed=9, executor="inprocess", workers=1)
    b = tournament(leduc, leduc_pair, episodes=70_000, seed=9, executor="inprocess", workers=64)
    assert np.array_equal(a.payoffs, b.payoffs) and np.array_equal(a.stderr, b.stderr)
    c = tournament(leduc, leduc_pair, episodes=70_000, seed=10, executor="inprocess")
    assert not np.array_equal(a.payoffs, c.payoffs)


def test_previous_meta_game_keeps_its_entries_and_only_new_ones_are_played(kuhn, kuhn_pair):
    cfr, uni = kuhn_pair["cfr+"], kuhn_pair["uniform"]
    first = TabularPolicy.first_action(kuhn)
    small = Population(members=((cfr,), (uni,)), names=(("cfr+",), ("uniform",)))
    big = small.add(0, first, "first").add(1, cfr, "cfr+")
    prev = tournament(kuhn, small, episodes=3000, seed=4, executor="inprocess")
    grown = tournament(kuhn, big, episodes=3000, seed=4, executor="inprocess", previous=prev)
    full = tournament(kuhn, big, episodes=3000, seed=4, executor="inprocess")
    assert np.array_equal(grown.payoffs, full.payoffs) and np.array_equal(grown.counts, full.counts)
    # entries of `previous` are taken as given, not replayed
    doctored = MetaGame(
        payoffs=prev.payoffs + 100.0, stderr=prev.stderr, counts=prev.counts, names=prev.names, exact=False
    )
    kept = tournament(kuhn, big, episodes=3000, seed=4, executor="inprocess", previous=doctored)
    assert kept.payoffs[0, 0, 0] == prev.payoffs[0, 0, 0] + 100.0
    assert np.array_equal(kept.payoffs[:, 1:, :], full.payoffs[:, 1:, :])
    with pytest.raises(ValueError, match="prefix"):
        tournament(kuhn, small, episodes=10, previous=full, executor="inprocess")
    renamed = MetaGame(
        payoffs=prev.payoffs, stderr=prev.stderr, counts=prev.counts, names=(("x",), ("y",)), exact=False
    )
    with pytest.raises(ValueError, match="names"):
        tournament(kuhn, big, episodes=10, previous=renamed, executor="inprocess")


def test_progress_bar_goes_to_stderr(kuhn, kuhn_pair, capsys):
    tournament(kuhn, kuhn_pair, episodes=2000, executor="inprocess", progress=True)
    captured = capsys.readouterr()
    assert "tournament" in captured.err and captured.out == ""


# ------------------------------------------------------------------------------------ kernels vs twins


def _compiled_args(game, probs):
    g = gamesolve.as_compiled(game)
    node_terminal = np.full(g.num_nodes, -1, dtype=np.int32)
    node_terminal[g.terminal_node] = np.arange(g.num_terminals, dtype=np.int32)
    return g.tree, node_terminal, probs


@pytest.mark.parametrize("first_block", [0, 3])
def test_compiled_kernel_matches_its_python_twin(kuhn, first_block):
    probs = np.asarray(TabularPolicy.random(kuhn, rng=np.random.default_rng(3)).probs)
    args = _compiled_args(kuhn, probs)
    key = 0xDEADBEEF12345678
    out = [np.empty((3, 2)) for _ in range(4)]
    matches.compiled_match_blocks(
        *args, np.uint64(key), first_block, 16, 16 * first_block + 40, out[0], out[1]
    )
    matches.compiled_match_blocks_numpy(*args, key, first_block, 16, 16 * first_block + 40, out[2], out[3])
    assert np.array_equal(out[0], out[2]) and np.array_equal(out[1], out[3])


def test_normal_form_and_markov_kernels_match_their_twins():
    payoffs = np.ascontiguousarray(RPS.payoffs.reshape(2, -1))
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.0, 0.4]])
    acts = np.array([3, 3], dtype=np.int64)
    out = [np.empty((2, 2)) for _ in range(4)]
    matches.normal_form_match_blocks(payoffs, probs, acts, np.uint64(77), 1, 8, 30, out[0], out[1])
    matches.normal_form_match_blocks_numpy(payoffs, probs, acts, 77, 1, 8, 30, out[2], out[3])
    assert np.array_equal(out[0], out[2]) and np.array_equal(out[1], out[3])
    from gamesolve.games.markov import random_markov

    game = random_markov(states=3, actions=2, successors=2, seed=0, discount=0.9)
    m = game.transition_matrix
    rng = np.random.default_rng(0)
    strategies = np.stack([rng.dirichlet(np.ones(2), size=3) for _ in range(2)])
    args = (
        m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data, game.reward_flat.reshape(2, 3, -1),
        game.terminal, game.initial, 0.9, 25, strategies, np.array([2, 2], dtype=np.int64),
    )  # fmt: skip
    out = [np.empty((2, 2)) for _ in range(4)]
    matches.markov_match_blocks(*args, np.uint64(5), 0, 8, 12, out[0], out[1])
    matches.markov_match_blocks_numpy(*args, 5, 0, 8, 12, out[2], out[3])
    assert np.allclose(out[0], out[2], rtol=1e-12, atol=1e-12) and np.allclose(
        out[1], out[3], rtol=1e-9, atol=1e-12
    )


# ------------------------------------------------------------------------------------ PettingZoo


def _rock(player, observation, legal, rng):
    return 0


def _paper(player, observation, legal, rng):
    return 1


def _random(player, observation, legal, rng):
    return int(rng.choice(legal))


def test_pettingzoo_rps_and_tic_tac_toe():
    pz = pytest.importorskip("gamesolve.games.pettingzoo")
    classic = pytest.importorskip("pettingzoo.classic")
    rps = pz.from_pettingzoo(classic.rps_v2.env, utility="zero_sum")
    meta = tournament(rps, {"rock": _rock, "paper": _paper}, episodes=6, executor="inprocess")
    assert meta.payoffs[0, 0, 0] == 0.0 and meta.payoffs[0, 1, 0] > 0 and meta.payoffs[0, 0, 1] < 0
    assert np.all(meta.stderr == 0)  # deterministic bots: every episode is the same
    ttt = pz.from_pettingzoo(classic.tictactoe_v3.env, utility="zero_sum")
    first = tournament(ttt, {"random": _random}, episodes=256, seed=0, executor="inprocess")
    again = tournament(ttt, {"random": _random}, episodes=256, seed=0, executor="inprocess")
    assert np.array_equal(first.payoffs, again.payoffs)
    assert first.counts[0, 0] == 256 and np.all(np.abs(first.payoffs) <= 1)
    assert first.payoffs[0, 0, 0] > 0  # the first mover's advantage (about +0.3 for random play)
    with pytest.raises(ValueError, match="episodes"):
        tournament(ttt, {"random": _random}, executor="inprocess")


# ------------------------------------------------------------------------------------ bad input


def test_policies_that_do_not_fit_the_game_are_named(kuhn, leduc, kuhn_pair):
    leduc_uniform = gamesolve.uniform_policy(leduc)
    with pytest.raises(InvalidPolicyError, match="player 1 member 1: the policy belongs to a different game"):
        tournament(kuhn, [[kuhn_pair["cfr+"]], [kuhn_pair["cfr+"], leduc_uniform]])
    with pytest.raises(InvalidPolicyError, match=r"player 0 member 0: policy has shape \(3, 2\)"):
        tournament(kuhn, [np.full((3, 2), 0.5)])
    bad = np.array(kuhn_pair["uniform"].probs)
    g = gamesolve.as_compiled(kuhn)
    row = int(g.infosets_of(1)[0])
    bad[row] = [0.7, 0.7]
    with pytest.raises(InvalidPolicyError, match="player 1 member 0: probabilities at infoset"):
        tournament(kuhn, [[kuhn_pair["uniform"]], [bad]])
    with pytest.raises(InvalidPolicyError, match=r"player 0 member 1: strategy has shape \(2,\)"):
        tournament(RPS, Population(members=((0, [0.5, 0.5]), (0,))))
    with pytest.raises(InvalidPolicyError, match="player 1 member 0: pure strategy 5"):
        tournament(RPS, Population(members=((0,), (5,))))
    with pytest.raises(InvalidPolicyError, match="cannot be evaluated on a compiled game"):
        tournament(kuhn, [_random])
    with pytest.raises(InvalidPolicyError, match="3 seat"):
        tournament(RPS, Population.symmetric([0], players=3))


def test_bad_arguments(kuhn, kuhn_pair):
    with pytest.raises(ValueError, match="episodes"):
        tournament(kuhn, kuhn_pair, episodes=0)
    with pytest.raises(ValueError, match="episodes"):
        tournament(kuhn, kuhn_pair, episodes=-5)
    with pytest.raises(ValueError, match="do not pass episodes"):
        tournament(kuhn, kuhn_pair, episodes=10, exact=True)
    with pytest.raises(ValueError, match="needs episodes"):
        tournament(kuhn, kuhn_pair, exact=False)
    with pytest.raises(ValueError, match="seed"):
        tournament(kuhn, kuhn_pair, episodes=10, seed=-1)
    with pytest.raises(ValueError, match="unknown executor"):
        tournament(kuhn, kuhn_pair, episodes=10, executor="threads")
    with pytest.raises(gamesolve.UnsupportedGame):
        tournament(object(), kuhn_pair)


def test_members_that_tabulate_themselves(kuhn, kuhn_pair):
    class Net:
        """Stands in for a trained network: acts, and tabulates itself for exact evaluation."""

        def __init__(self, policy):
            self.policy = policy

        def act(self, player, observation, legal, rng):
            raise AssertionError("compiled games evaluate the tabulated policy")

        def tabulate(self, game):
            return self.policy

    meta = tournament(kuhn, [Net(kuhn_pair["cfr+"]), kuhn_pair["uniform"]])
    assert np.array_equal(meta.payoffs, tournament(kuhn, list(kuhn_pair.values())).payoffs)
