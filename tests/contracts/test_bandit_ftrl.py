"""Balanced FTRL and Adaptive FTRL (trajectory feedback): geometry, exactness, reproducibility, rates."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import UnsupportedGame
from gamesolve.kernels.bandit import average_plan, average_plan_py, ftrl_episodes_py
from gamesolve.solver import Iterate
from gamesolve.solvers.bandit_ftrl import AdaptiveFTRL, BalancedFTRL, treeplex_geometry

SOLVERS = [BalancedFTRL, AdaptiveFTRL]


def _plan(game, probs):
    """``[I, A]`` sequence-form plan mu_{1:}(x, a) of a behavior policy (parents first)."""
    geo = treeplex_geometry(game)
    seq = np.ones(int(game.num_sequences.sum()))
    out = np.zeros_like(probs)
    for x in range(game.num_infosets):
        m = game.infoset_num_actions[x]
        above = seq[geo.parent_global[x]] if geo.parent_global[x] >= 0 else 1.0
        out[x, :m] = above * probs[x, :m]
        seq[geo.global_seq[x] : geo.global_seq[x] + m] = out[x, :m]
    return out


# --------------------------------------------------------------------------------------- geometry


def test_balanced_policy_by_hand_on_kuhn(kuhn):
    g = kuhn.compile()
    geo = treeplex_geometry(g)
    # Player 0 holding the jack ("0"): bet ends its tree (A = 1); check leads to "0pb", where it
    # calls or folds (A = 1 + 2 = 3). So A("0") = 4 and mu*("0") = (check 3/4, bet 1/4).
    x = g.infosets.id("0")
    assert g.infoset_player[x] == 0
    assert geo.subtree[x].tolist() == [3.0, 1.0]
    assert geo.infoset_size[x] == 4.0
    assert geo.balanced_policy[x] == pytest.approx([0.75, 0.25])
    # Three cards, four endpoints each: A_X = B_Y = 12. Player 1's infosets are leaves: uniform.
    assert geo.total_actions.tolist() == [12.0, 12.0]
    assert geo.balanced_policy[g.infosets.id("1b")] == pytest.approx([0.5, 0.5])
    # p*_{1:} of the root infoset is A(x_1) / A_X; below, p*(x' | x, a) = A(x') / A(x, a) = 2 / 3.
    assert geo.balanced_transition[x] == pytest.approx(4 / 12)
    assert geo.balanced_transition[g.infosets.id("0pb")] == pytest.approx(4 / 12 * 2 / 3)
    assert geo.horizon.tolist() == [2, 1]


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
def test_balanced_transition_identity(name, request):
    g = request.getfixturevalue(name).compile()
    geo = treeplex_geometry(g)
    mask = g.legal_mask
    assert np.allclose(geo.balanced_plan, _plan(g, geo.balanced_policy))
    lhs = geo.balanced_plan * geo.balanced_transition[:, None]
    rhs = geo.subtree / geo.total_actions[g.infoset_player][:, None]
    assert np.allclose(lhs[mask], rhs[mask], rtol=1e-12, atol=0)
    # Under (mu*, p*) every trajectory endpoint of a player has probability 1 / A_X.
    for p in range(2):
        rows = g.infoset_player == p
        assert lhs[rows][mask[rows]].sum() * geo.total_actions[p] == pytest.approx(geo.subtree[rows].sum())


# ----------------------------------------------------------------------------------- first iterate


def test_first_iterate_is_the_balanced_policy(kuhn):
    g = kuhn.compile()
    solver = BalancedFTRL()
    state = solver.init(g, np.random.default_rng(0))
    mu_star = treeplex_geometry(g).balanced_policy
    assert np.allclose(solver.policy(g, state, Iterate.CURRENT).probs, mu_star)
    assert np.allclose(solver.policy(g, state, Iterate.AVERAGE).probs, mu_star)
    solver.step(g, state, 1)
    # The average after one episode is the first iterate's plan, whatever was visited.
    assert np.allclose(solver.policy(g, state, Iterate.AVERAGE).probs, mu_star, atol=1e-12)
    assert not np.allclose(solver.policy(g, state, Iterate.CURRENT).probs, mu_star)
    result = gamesolve.solve(kuhn, BalancedFTRL(), iterations=10, progress=False)
    expected = gamesolve.nash_conv(g, gamesolve.TabularPolicy(g, mu_star)).nash_conv
    assert result.history.nash_conv[0] == pytest.approx(expected)


def test_adaptive_starts_uniform(kuhn):
    result = gamesolve.solve(kuhn, AdaptiveFTRL(), iterations=10, progress=False)
    assert result.history.nash_conv[0] == pytest.approx(11 / 12)  # uniform (OpenSpiel's exploitability_test)


# ------------------------------------------------------------------------------------- exactness


def _twin_args(g, solver, state):
    return g.tree, solver._scratch(g, state)["setup"]


def _persistent(state):
    return {k: v.copy() for k, v in state.items() if not k.startswith("_")}


@pytest.mark.parametrize("cls", SOLVERS)
@pytest.mark.parametrize("horizon", [None, 5000])
@pytest.mark.parametrize("name", ["kuhn", "leduc"])
def test_kernel_matches_python_twin(cls, horizon, name, request):
    g = request.getfixturevalue(name).compile()
    solver = cls(eta=0.7, gamma=0.4, horizon_episodes=horizon)
    state = solver.init(g, np.random.default_rng(4))
    twin = _persistent(state)
    solver.step(g, state, 150)
    solver.step(g, state, 250)
    empty = np.zeros(0), np.zeros((0, 0))
    ftrl_episodes_py(
        *_twin_args(g, solver, state),
        int(twin["key"]),
        1,
        400,
        twin["logits"],
        twin["rate"],
        twin["cum"],
        twin.get("count_x", empty[0]),
        twin.get("count_xa", empty[1]),
    )
    for k in set(twin) - {"t", "key"}:
        assert np.allclose(state[k], twin[k], rtol=1e-9, atol=1e-12), k
    geo = treeplex_geometry(g)
    out = np.zeros_like(state["logits"])
    cum = state["cum"].copy()
    average_plan(g.infoset_num_actions, geo.global_seq, geo.parent_global, state["logits"], 400, cum, out)
    py = average_plan_py(
        g.infoset_num_actions, geo.global_seq, geo.parent_global, state["logits"], 400, state["cum"].copy()
    )
    assert np.allclose(out, py, rtol=1e-12, atol=1e-14)


def test_fixed_rate_balanced_ftrl_is_ftrl_on_the_treeplex(leduc):
    """With fixed rates the incremental updates equal the closed-form dilated FTRL iterate."""
    g = leduc.compile()
    solver = BalancedFTRL(eta=2.0, gamma=0.5, horizon_episodes=100)
    state = solver.init(g, np.random.default_rng(1))
    setup = solver._scratch(g, state)["setup"]
    episodes: list = []
    ftrl_episodes_py(
        *_twin_args(g, solver, state),
        int(state["key"]),
        1,
        300,
        state["logits"],
        state["rate"],
        state["cum"],
        np.zeros(0),
        np.zeros((0, 0)),
        record=episodes,
    )
    # Cumulative IX loss estimates per (infoset, slot), from the recorded episodes.
    geo = treeplex_geometry(g)
    player = g.infoset_player
    eta_x = setup.eta_scale[player] / math.sqrt(100) * setup.inv_pstar
    gamma_x = setup.gamma_scale[player] / math.sqrt(100) * setup.inv_pstar
    lo, hi = setup.utility_min, setup.utility_max
    total = np.zeros_like(state["logits"])
    for visited, utility in episodes:
        charged = set()
        for x, j, plan in reversed(visited):
            p = int(player[x])
            if p not in charged:
                charged.add(p)
                total[x, j] += (hi[p] - utility[p]) / (hi[p] - lo[p]) / (plan + gamma_x[x])
    # Closed form, bottom-up: b(.|x) ∝ mu*(.|x) exp(-eta_x Lhat(x, .)), V(x) = -ln(Z) / eta_x.
    seq_value = np.zeros(int(g.num_sequences.sum()))
    expected = np.zeros_like(total)
    for x in range(g.num_infosets - 1, -1, -1):
        m = g.infoset_num_actions[x]
        first = geo.global_seq[x]
        lhat = total[x, :m] + seq_value[first : first + m]
        w = geo.balanced_policy[x, :m] * np.exp(-eta_x[x] * lhat)
        expected[x, :m] = w / w.sum()
        if geo.parent_global[x] >= 0:
            seq_value[geo.parent_global[x]] += -math.log(w.sum()) / eta_x[x]
    current = np.where(g.legal_mask, np.exp(state["logits"]), 0.0)
    assert np.allclose(current, expected, rtol=1e-8, atol=1e-12)
    assert not np.allclose(current, geo.balanced_policy)


@pytest.mark.parametrize("cls", SOLVERS)
def test_lazy_average_equals_full_sequence_form_average(leduc, cls):
    g = leduc.compile()
    solver = cls(eta=3.0, gamma=0.5)
    state = solver.init(g, np.random.default_rng(2))
    total = np.zeros_like(state["logits"])
    for _ in range(300):
        probs = solver.policy(g, state, Iterate.CURRENT).probs
        total += _plan(g, probs)
        solver.step(g, state, 1)
    naive = total / total.sum(axis=1, keepdims=True)
    lazy = solver.policy(g, state, Iterate.AVERAGE).probs
    assert np.allclose(lazy, naive, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------- reproducible


@pytest.mark.parametrize("cls", SOLVERS)
def test_same_seed_same_result_and_split_invariance(kuhn, cls):
    def run(seed):
        return gamesolve.solve(kuhn, cls(), iterations=3000, seed=seed, progress=False)

    a, b, c = run(5), run(5), run(6)
    assert np.array_equal(a.average_policy.probs, b.average_policy.probs)
    assert np.array_equal(a.current_policy.probs, b.current_policy.probs)
    assert not np.array_equal(a.average_policy.probs, c.average_policy.probs)

    g = kuhn.compile()
    solver = cls()
    one = solver.init(g, np.random.default_rng(3))
    many = _persistent(one)
    solver.step(g, one, 100)
    for chunk in (1, 9, 40, 50):
        solver.step(g, many, chunk)
    for k in ("t", "logits", "rate", "cum"):
        assert np.array_equal(one[k], many[k]), k


@pytest.mark.parametrize("cls", SOLVERS)
def test_resume_from_checkpoint_equals_uninterrupted(kuhn, cls, tmp_path):
    total, every = 4000, 1000
    path = tmp_path / "run.npz"
    snapshot = tmp_path / "at_1000.npz"

    def keep_first(iteration, _expl):
        if iteration == every:
            shutil.copy(path, snapshot)

    full = gamesolve.solve(
        kuhn,
        cls(),
        iterations=total,
        seed=11,
        checkpoint=path,
        checkpoint_every=every,
        callback=keep_first,
        progress=False,
    )
    resumed = gamesolve.solve(kuhn, cls(), iterations=total, seed=11, resume=snapshot, progress=False)
    plain = gamesolve.solve(kuhn, cls(), iterations=total, seed=11, progress=False)
    assert resumed.iterations == full.iterations == total
    for other in (resumed, plain):
        assert np.array_equal(other.average_policy.probs, full.average_policy.probs)
        assert np.array_equal(other.current_policy.probs, full.current_policy.probs)
        assert other.nash_conv == full.nash_conv
    assert full.history.current_exploitability  # both iterates are tracked


# ---------------------------------------------------------------------------------------- scope


def test_refuses_three_players(kuhn3):
    with pytest.raises(UnsupportedGame, match="two-player zero-sum"):
        gamesolve.solve(kuhn3, BalancedFTRL(), iterations=10, progress=False)


@pytest.mark.parametrize(
    "kwargs", [{"eta": 0}, {"eta": -1.0}, {"gamma": float("nan")}, {"horizon_episodes": 0}, {"eta": True}]
)
def test_bad_configuration(kwargs):
    with pytest.raises(ValueError):
        AdaptiveFTRL(**kwargs)


# ------------------------------------------------------------------------------------------ rate


def _nash_conv_curve(game, solver, marks, seed):
    g = game.compile()
    state = solver.init(g, np.random.default_rng(seed))
    done, out = 0, []
    for mark in marks:
        solver.step(g, state, mark - done)
        done = mark
        out.append(gamesolve.nash_conv(g, solver.policy(g, state, Iterate.AVERAGE)).nash_conv)
    return np.array(out)


def test_balanced_ftrl_rate_on_kuhn(kuhn):
    """NashConv of the average falls roughly like T^(-1/2) between 1e4 and 1e6 episodes (~1 s)."""
    marks = np.geomspace(1e4, 1e6, 9).astype(int)
    curve = _nash_conv_curve(kuhn, BalancedFTRL(), marks, seed=0)
    slope = np.polyfit(np.log(marks), np.log(curve), 1)[0]
    assert -0.8 < slope < -0.3, (slope, curve)
    assert curve[-1] < 0.05


def test_adaptive_ftrl_decreases_on_kuhn(kuhn):
    marks = np.geomspace(1e4, 1e6, 9).astype(int)
    curve = _nash_conv_curve(kuhn, AdaptiveFTRL(), marks, seed=0)
    slope = np.polyfit(np.log(marks), np.log(curve), 1)[0]
    assert -0.8 < slope < -0.25, (slope, curve)
    assert curve[-1] < 0.3 * curve[0]
