"""Markov games: the tabular form, exact evaluation, Shapley value iteration and minimax-Q.

Known answers (fixed points of Shapley's value iteration, Shapley 1953, "Stochastic games"; soccer
from Littman 1994, "Markov games as a framework for multi-agent reinforcement learning"):
- one state, stage game AMP ``[[2, -1], [-1, 1]]`` (value 0.2), gamma 0.9: ``V = 0.2 / (1 - 0.9) = 2``;
- the two-state game: ``V(s0) = (70 - 20 sqrt(10)) / 9 ~ 0.750494``, row policy ``(0.462475, 0.537525)``;
- Littman's soccer with a point-symmetric start: kickoff value 0, and the value of every state
  is minus the value of its mirror image with the roles swapped.

Independent oracles: the Bellman equations checked with scipy's HiGHS LP per state (not the
simplex kernel Shapley uses), profile values from a dense ``numpy.linalg.solve`` and from Monte
Carlo episodes, and best responses by brute force over deterministic stationary policies.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp

import gamesolve
from gamesolve.errors import InvalidPolicyError, MalformedGameError, UnsupportedGame
from gamesolve.games import markov as M
from gamesolve.markov import (
    MarkovProfile,
    best_response_values,
    markov_game,
    nash_conv,
    policy_values,
)
from gamesolve.solvers.lp import solve_zero_sum_lp

V_TWO_STATE = (70.0 - 20.0 * math.sqrt(10.0)) / 9.0


def _val_highs(matrix: np.ndarray) -> float:
    return solve_zero_sum_lp(gamesolve.zero_sum(matrix)).value


# ------------------------------------------------------------------------------ Shapley: known values


def test_two_state_game_value_and_policy():
    result = gamesolve.solve(M.two_state(), "shapley")
    assert result.value.shape == (2,)
    assert result.value[0] == pytest.approx(V_TWO_STATE, abs=1e-8)
    assert result.value[1] == 0.0
    # The 2x2 lookahead game at V(s0) = v has an interior equilibrium x0 = (d - c) / (a - b - c + d).
    v, g = V_TWO_STATE, 0.9
    a, b, c, d = 2.0, -1.0 + g * v, -1.0 + g * v, 1.0 + g * v
    x0 = (d - c) / (a - b - c + d)
    np.testing.assert_allclose(result.policy[0][0], [x0, 1 - x0], atol=1e-8)
    np.testing.assert_allclose(result.policy[0][0], [0.462475, 0.537525], atol=1e-6)
    assert result.nash_conv < 1e-8
    assert result.converged


@pytest.mark.parametrize(("stage", "value"), [("amp", 0.2), ("rps", 0.0), ("matching_pennies", 0.0)])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99])
def test_one_state_game_is_the_matrix_value_over_one_minus_gamma(stage, value, gamma):
    result = gamesolve.solve(M.repeated(stage, discount=gamma), "shapley")
    assert result.value[0] == pytest.approx(value / (1.0 - gamma), abs=1e-8)
    assert result.nash_conv < 1e-7


def _mirror_index(game):
    """Map every soccer state to its point-mirror with the players' roles swapped."""
    rows, cols = 4, 5
    index = {name: i for i, name in enumerate(game.state_names)}
    out = {}
    for name, i in index.items():
        if name in ("kickoff", "goal"):
            out[i] = i
            continue
        a_part, b_part, ball = name.split(" ")
        pa = tuple(int(t) for t in a_part[2:-1].split(","))
        pb = tuple(int(t) for t in b_part[2:-1].split(","))
        ma = (rows - 1 - pb[0], cols - 1 - pb[1])
        mb = (rows - 1 - pa[0], cols - 1 - pa[1])
        other = "B" if ball.endswith("A") else "A"
        out[i] = index[f"A({ma[0]},{ma[1]}) B({mb[0]},{mb[1]}) ball={other}"]
    return out


def test_soccer_value_is_symmetric():
    game = M.soccer()
    assert game.num_states == 762 and game.num_actions == (5, 5)
    result = gamesolve.solve(game, "shapley")
    kickoff = game.state_names.index("kickoff")
    assert abs(result.value[kickoff]) < 1e-8
    mirror = _mirror_index(game)
    for s, m in mirror.items():
        assert result.value[s] == pytest.approx(-result.value[m], abs=1e-8)
    # Holding the ball is worth something: the carrier's value is positive in the start position.
    start_a = game.state_names.index("A(1,3) B(2,1) ball=A")
    assert result.value[start_a] > 0.1
    assert result.nash_conv < 1e-8


# ---------------------------------------------------------------------- Shapley: independent oracles


@pytest.mark.parametrize("seed", range(3))
def test_shapley_fixed_point_satisfies_bellman_by_highs(seed):
    game = M.random_markov(states=12, actions="3x4", successors=3, seed=seed, discount=0.8)
    result = gamesolve.solve(game, "shapley", tolerance=1e-11)
    v = np.asarray(result.value)
    q = (game.reward_flat[0] + 0.8 * game.expected_next(v)).reshape(12, 3, 4)
    for s in range(12):
        assert v[s] == pytest.approx(_val_highs(q[s]), abs=1e-9)
    report = nash_conv(game, result.policy)
    assert report.nash_conv < 1e-9
    np.testing.assert_allclose(report.values[0], v, atol=1e-9)


def test_tolerance_is_a_guarantee_on_the_values():
    game = M.random_markov(states=30, actions=4, seed=7, discount=0.95)
    tight = gamesolve.solve(game, "shapley", tolerance=1e-12)
    loose = gamesolve.solve(game, "shapley", tolerance=1e-3)
    assert loose.extras["sweeps"] < tight.extras["sweeps"]
    err = np.abs(np.asarray(loose.value) - np.asarray(tight.value)).max()
    assert 0 < err <= 1e-3
    assert loose.extras["error_bound"] <= 1e-3


def test_shapley_time_limit_returns_unconverged():
    game = M.random_markov(states=200, actions=5, seed=0, discount=0.999)
    result = gamesolve.solve(game, "shapley", time_limit=0.05, evaluate=False)
    assert not result.converged
    assert "time limit" in result.message
    assert math.isnan(result.nash_conv)


def test_terminal_states_are_worth_zero_and_constant_sum_is_accepted():
    game = M.pursuit_evasion(size=3)
    result = gamesolve.solve(game, "shapley")
    caught = game.state_names.index("caught")
    assert result.value[caught] == 0.0
    start = int(np.argmax(game.initial))
    assert 0.0 < result.value[start] < 1.0  # a discounted chance of capture
    base = M.random_markov(states=10, actions=3, seed=1)
    shifted = markov_game(
        base.transition_matrix,
        base.reward + np.array([0.0, 1.0])[:, None, None, None],
        0.9,
        initial=base.initial,
    )
    assert shifted.spec.utility is gamesolve.Utility.CONSTANT_SUM
    np.testing.assert_allclose(
        gamesolve.solve(shifted, "shapley").value, gamesolve.solve(base, "shapley").value, atol=1e-9
    )
    # With terminal states the sum of the returns depends on play: not zero-sum.
    stopping = markov_game(game.transition_matrix, game.reward + 1.0, 0.95, terminal=game.terminal)
    assert stopping.spec.utility is gamesolve.Utility.GENERAL_SUM


# ------------------------------------------------------------------------------ evaluation oracles


def _dense_values(game, profile):
    t = game.transition.reshape(game.num_states, -1, game.num_states)
    joint = profile.joint()
    p_pi = np.einsum("sj,sjt->st", joint, t)
    out = []
    for p in range(game.num_players):
        r_pi = np.einsum("sj,sj->s", joint, game.reward_flat[p])
        live = ~game.terminal
        a = np.eye(game.num_states) - game.discount * p_pi
        v = np.zeros(game.num_states)
        v[live] = np.linalg.solve(a[np.ix_(live, live)], r_pi[live])
        out.append(v)
    return np.array(out)


def _random_profile(game, rng):
    return MarkovProfile.of(game, [rng.dirichlet(np.ones(n), size=game.num_states) for n in game.num_actions])


@pytest.mark.parametrize(
    "maker",
    [
        lambda: M.random_markov(states=8, actions="2x3", seed=3),
        M.two_state,
        lambda: M.fishery(players=3, levels=4),
        lambda: M.pursuit_evasion(size=2),
    ],
)
def test_policy_values_match_a_dense_solve(maker):
    game = maker()
    prof = _random_profile(game, np.random.default_rng(0))
    np.testing.assert_allclose(policy_values(game, prof), _dense_values(game, prof), atol=1e-10)


def test_policy_values_match_monte_carlo_episodes():
    game = M.random_markov(states=5, actions=2, successors=2, seed=11, discount=0.6)
    prof = _random_profile(game, np.random.default_rng(1))
    exact = policy_values(game, prof)[0] @ game.initial
    rng = np.random.default_rng(2)
    returns = []
    for _ in range(3000):
        ep = game.new_episode(rng=rng)
        while not ep.done:
            u = rng.random(2)
            ep.step([int(np.searchsorted(np.cumsum(prof[p][ep.state]), u[p])) for p in range(2)])
        returns.append(ep.returns[0])
    mean, se = float(np.mean(returns)), float(np.std(returns) / math.sqrt(len(returns)))
    assert abs(mean - exact) < 4 * se + 0.6**game.default_horizon * 10


def test_best_response_matches_brute_force_over_deterministic_policies():
    game = M.random_markov(states=3, actions=2, successors=2, seed=5, players=3, zero_sum=False)
    prof = _random_profile(game, np.random.default_rng(4))
    for player in range(3):
        br_values, br_policy = best_response_values(game, prof, player)
        best = -np.inf
        for choice in itertools.product(range(2), repeat=3):
            own = np.eye(2)[list(choice)]
            strategies = list(prof.strategies)
            strategies[player] = own
            best = np.maximum(best, policy_values(game, strategies)[player])
        np.testing.assert_allclose(br_values, best, atol=1e-10)
        assert set(np.unique(br_policy)) <= {0.0, 1.0}


def test_nash_conv_of_an_n_player_general_sum_game():
    game = M.fishery(players=3, levels=5)
    assert game.spec.utility is gamesolve.Utility.GENERAL_SUM and game.num_players == 3
    uniform = MarkovProfile.uniform(game)
    report = nash_conv(game, uniform)
    assert report.nash_conv > 0.1
    assert report.exploitability == pytest.approx(report.nash_conv / 3)
    assert np.all(report.best_response_values >= report.values - 1e-12)
    with pytest.raises(UnsupportedGame, match="two-player zero-sum"):
        gamesolve.solve(game, "shapley")


# --------------------------------------------------------------------------------------- minimax-Q


def test_minimax_q_converges_on_the_two_state_game():
    result = gamesolve.solve(M.two_state(), "minimax-q", iterations=200_000, seed=0)
    assert result.value[0] == pytest.approx(V_TWO_STATE, abs=1e-2)
    assert result.exploitability < 1e-2


def test_minimax_q_learns_a_stochastic_game():
    game = M.random_markov(states=6, actions=3, successors=3, seed=1)
    exact = np.asarray(gamesolve.solve(game, "shapley").value)
    result = gamesolve.solve(game, "minimax-q", iterations=1_000_000, seed=0, eval_every=250_000)
    assert np.abs(np.asarray(result.value) - exact).max() < 0.05
    history = result.history.exploitability
    assert history[-1] < 0.1 * history[0]


def test_minimax_q_is_seeded_and_resumes_exactly(tmp_path):
    game = M.random_markov(states=4, actions=2, successors=2, seed=2)
    full = gamesolve.solve(game, "minimax-q", iterations=20_000, seed=3)
    again = gamesolve.solve(game, "minimax-q", iterations=20_000, seed=3)
    np.testing.assert_array_equal(full.value, again.value)
    ckpt = tmp_path / "mq.npz"
    gamesolve.solve(game, "minimax-q", iterations=8_000, seed=3, checkpoint=ckpt)
    resumed = gamesolve.solve(game, "minimax-q", iterations=20_000, seed=3, resume=ckpt)
    np.testing.assert_array_equal(resumed.value, full.value)
    other = gamesolve.solve(game, "minimax-q", iterations=20_000, seed=4)
    assert not np.array_equal(other.value, full.value)


def test_minimax_q_kernel_matches_its_twin():
    from gamesolve.kernels.markov import minimax_q_steps, minimax_q_steps_numpy
    from gamesolve.solvers.markov import MinimaxQ

    game = M.random_markov(states=5, actions="2x3", successors=2, seed=9)
    solver = MinimaxQ(epsilon=0.3)
    states = [solver.init(game, np.random.default_rng(0)) for _ in range(2)]
    m = game.transition_matrix
    args = (
        m.indptr.astype(np.int64),
        m.indices.astype(np.int64),
        m.data,
        game.reward_flat[0],
        game.terminal,
        game.initial,
        game.discount,
    )
    for fn, st in zip((minimax_q_steps, minimax_q_steps_numpy), states, strict=True):
        fn(
            *args,
            st["q"],
            st["visits"],
            st["values"],
            st["x"],
            st["y"],
            st["counters"],
            np.uint64(st["key"]),
            300,
            0.3,
            0.6,
            0.0,
            50,
        )
    for key in ("q", "visits", "values", "x", "y", "counters"):
        np.testing.assert_allclose(states[0][key], states[1][key], atol=1e-10, err_msg=key)


# --------------------------------------------------------------------------------------- bad input


def _two_state_arrays():
    t = np.array(M.two_state().transition)
    r = np.array(M.two_state().reward)
    return t, r


def test_bad_transition_rows_name_the_state_and_action():
    t, r = _two_state_arrays()
    t[0, 1, 0, 0] = 0.7
    with pytest.raises(MalformedGameError, match=r"state=0, actions=\(1, 0\)\] sums to 0.7"):
        markov_game(t, r, 0.9)
    t, r = _two_state_arrays()
    t[0, 0, 1] = (1.5, -0.5)
    with pytest.raises(MalformedGameError, match=r"state=0, actions=\(0, 1\)\] has a negative"):
        markov_game(t, r, 0.9)
    t, r = _two_state_arrays()
    t[1, 1, 1, 0] = np.nan
    with pytest.raises(MalformedGameError, match=r"state=1, actions=\(1, 1\)\] is not finite"):
        markov_game(t, r, 0.9)


def test_bad_rewards_discount_and_shapes():
    t, r = _two_state_arrays()
    r[1, 0, 1, 1] = np.inf
    with pytest.raises(
        MalformedGameError, match=r"reward\[player=1, state=0, actions=\(1, 1\)\] is not finite"
    ):
        markov_game(t, r, 0.9)
    t, r = _two_state_arrays()
    for bad in (1.0, -0.1, float("nan"), "x"):
        with pytest.raises(MalformedGameError, match="discount must be"):
            markov_game(t, r, bad)
    with pytest.raises(MalformedGameError, match="reward must have shape"):
        markov_game(t, r[:, :, :1], 0.9)
    with pytest.raises(MalformedGameError, match="transition must"):
        markov_game(t[..., :1], r, 0.9)
    with pytest.raises(MalformedGameError, match="sparse transition must have shape"):
        markov_game(sp.csr_matrix(np.ones((3, 2)) / 2), r, 0.9)
    with pytest.raises(MalformedGameError, match="initial"):
        markov_game(t, r, 0.9, terminal=[False, True], initial=[0.5, 0.6])


def test_terminal_rows_may_be_empty_and_zero_sum_shorthand():
    t, r = _two_state_arrays()
    t[1] = 0.0
    game = markov_game(t, r[0], 0.9, terminal=[False, True])
    np.testing.assert_array_equal(game.reward[1], -game.reward[0])
    assert gamesolve.solve(game, "shapley").value[0] == pytest.approx(V_TWO_STATE, abs=1e-8)
    with pytest.raises(MalformedGameError, match="state=1"):
        markov_game(t, r, 0.9)  # not terminal, so its rows must be distributions


def test_bad_profiles_are_refused():
    game = M.two_state()
    with pytest.raises(InvalidPolicyError, match="one strategy per player"):
        MarkovProfile.of(game, [np.full((2, 2), 0.5)])
    with pytest.raises(InvalidPolicyError, match=r"player 1 in state 1 sums to"):
        MarkovProfile.of(game, [np.full((2, 2), 0.5), [[0.5, 0.5], [0.2, 0.2]]])
    with pytest.raises(InvalidPolicyError, match="shape"):
        policy_values(game, [np.full((2, 3), 1 / 3), np.full((2, 2), 0.5)])
    with pytest.raises(InvalidPolicyError, match="not JSON"):
        MarkovProfile.from_json(game, "{")


def test_profile_json_round_trip():
    game = M.random_markov(states=3, actions=2, seed=0)
    prof = _random_profile(game, np.random.default_rng(0))
    again = MarkovProfile.from_json(game, prof.to_json())
    for a, b in zip(prof.strategies, again.strategies, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-15)


def test_solvers_refuse_other_game_kinds():
    with pytest.raises(UnsupportedGame, match="Markov"):
        gamesolve.solve(gamesolve.load_game("rps"), "shapley")
    with pytest.raises(UnsupportedGame, match="Markov"):
        gamesolve.solve(gamesolve.load_game("kuhn"), "minimax-q", iterations=10)


def test_registry_loads_markov_games_by_string():
    game = gamesolve.load_game("random_markov(states=7,actions=3,seed=4)")
    assert game.num_states == 7 and game.num_actions == (3, 3)
    assert gamesolve.load_game("soccer").spec.name == "soccer"
    assert gamesolve.load_game("fishery(players=2,levels=3)").num_players == 2
    with pytest.raises(gamesolve.GameNotFoundError, match="states"):
        gamesolve.load_game("random_markov(states=0)")
