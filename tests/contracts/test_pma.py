"""Mean-field games and exact Policy Mirror Ascent.

Yardim, Cayci, Geist & He 2023, "Policy Mirror Ascent for Efficient and Independent Learning in Mean
Field Games" (ICML).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import brentq

import gamesolve
import gamesolve.mean_field as mf
from gamesolve.errors import InvalidPolicyError, MalformedGameError, UnsupportedGame
from gamesolve.games.mean_field import crowd_aversion, random_mean_field_game
from gamesolve.solvers.pma import PolicyMirrorAscent


def run_pma(game: mf.MeanFieldGame, eta: float = 1.0, iterations: int = 100) -> np.ndarray:
    """The PMA policy after ``iterations`` steps, driven directly (no evaluation)."""
    solver = PolicyMirrorAscent(eta)
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, iterations)
    return solver.policy(game, state, gamesolve.Iterate.CURRENT)


# ------------------------------------------------------------------ independent oracles (numpy)


def direct_q(r, p, pi, gamma, tau):
    """Q from one [S*A, S*A] linear solve: Q = r + gamma P (Pi Q - tau sum_a pi log pi)."""
    s, a = r.shape
    pflat = p.reshape(s * a, s)  # [SA, S]
    avg = np.zeros((s, s * a))  # [S, SA]: (avg @ q)(s) = sum_a pi(a|s) q(s, a)
    for i in range(s):
        avg[i, i * a : (i + 1) * a] = pi[i]
    neg_entropy = (pi * np.log(pi)).sum(axis=1)  # [S]
    lhs = np.eye(s * a) - gamma * pflat @ avg
    rhs = r.reshape(-1) - gamma * tau * pflat @ neg_entropy
    return np.linalg.solve(lhs, rhs).reshape(s, a)


def soft_value_iteration(r, p, gamma, tau, sweeps=4000):
    """V* of the soft Bellman equation by plain fixed-point iteration (a gamma-contraction)."""
    v = np.zeros(r.shape[0])
    for _ in range(sweeps):
        z = (r + gamma * p @ v) / tau
        top = z.max(axis=1)
        v = tau * (top + np.log(np.exp(z - top[:, None]).sum(axis=1)))
    z = (r + gamma * p @ v) / tau
    pi = np.exp(z - z.max(axis=1, keepdims=True))
    return v, pi / pi.sum(axis=1, keepdims=True)


def two_state_equilibrium(game):
    """(pi*, mu*) of a 2-state stay/move game with fixed transitions, by 1-D root finding on mu(0)."""
    p = game.transition(game.uniform_mean_field())

    def response(m0):
        mu = np.array([m0, 1.0 - m0])
        _, pi = soft_value_iteration(np.asarray(game.reward(mu)), p, game.gamma, game.tau)
        return pi

    def gap(m0):
        pi = response(m0)
        # The stationary law of the 2-state chain: mu(0) q0 = mu(1) q1, q_s = P(leave s).
        q0 = pi[0] @ p[0, :, 1]
        q1 = pi[1] @ p[1, :, 0]
        return q1 / (q0 + q1) - m0

    m0 = brentq(gap, 0.0, 1.0, xtol=1e-15, rtol=1e-15)
    return response(m0), np.array([m0, 1.0 - m0])


# ------------------------------------------------------------------------------------ the tests


def test_two_state_pma_reaches_the_regularized_mfne():
    game = crowd_aversion(2, bias=0.3, tau=0.5)
    result = gamesolve.solve(
        game, PolicyMirrorAscent(), iterations=100, target_exploitability=1e-12, progress=False
    )
    assert result.converged and result.iterations <= 40  # measured: 30 with eta = 1
    assert result.exploitability < 1e-8
    assert result.history.exploitability[0] > 0.05  # the uniform start is far from equilibrium
    # The fixed-point equations, with numbers computed here rather than by the library.
    pi = run_pma(game, iterations=100)
    mu = mf.stationary_distribution(game, pi)
    p = np.asarray(game.transition(mu))
    q = direct_q(np.asarray(game.reward(mu)), p, pi, game.gamma, game.tau)
    soft = np.exp(q / game.tau) / np.exp(q / game.tau).sum(axis=1, keepdims=True)
    assert np.abs(pi - soft).max() < 1e-6  # pi = softmax(Q_tau^{pi, mu} / tau)
    step = mu @ np.einsum("sa,sat->st", pi, p)
    assert np.abs(step - mu).sum() < 1e-6  # mu = mu P_pi(mu)
    assert mf.exploitability(game, pi) < 1e-8
    # Against an independent equilibrium: brentq on mu(0) with soft value iteration.
    pi_star, mu_star = two_state_equilibrium(game)
    assert np.abs(pi - pi_star).max() < 1e-6
    assert np.abs(mu - mu_star).max() < 1e-6
    assert mu[0] > 0.55  # the bias draws the crowd to state 0 (measured mu* = (0.5778, 0.4222))


@pytest.mark.parametrize("states", [2, 5])
def test_symmetric_crowd_aversion_equilibrium_mean_field_is_uniform(states):
    game = crowd_aversion(states, tau=0.5, move_cost=0.2)
    pi = run_pma(game, iterations=80)
    mu = mf.stationary_distribution(game, pi)
    assert np.abs(mu - 1.0 / states).max() < 1e-6
    assert np.abs(pi - pi[0]).max() < 1e-9  # the same policy in every state (rotation invariance)
    if states > 2:
        assert pi[0, 0] == pytest.approx(pi[0, 2], abs=1e-9)  # left and right are mirror images
    assert mf.exploitability(game, pi) < 1e-8


def test_symmetric_game_from_an_asymmetric_start_still_ends_uniform():
    game = crowd_aversion(4, tau=0.5)
    solver = PolicyMirrorAscent()
    state = solver.init(game, np.random.default_rng(0))
    rng = np.random.default_rng(7)
    state["logits"] = np.log(rng.dirichlet(np.ones(3), size=4))
    state["mu"] = rng.dirichlet(np.ones(4))
    before = mf.stationary_distribution(game, np.exp(state["logits"]))
    assert np.abs(before - 0.25).max() > 0.05
    solver.step(game, state, 80)
    pi = solver.policy(game, state, gamesolve.Iterate.CURRENT)
    assert np.abs(mf.stationary_distribution(game, pi) - 0.25).max() < 1e-6


@pytest.mark.parametrize("push", [0.0, 0.4])
def test_regularized_q_matches_a_direct_linear_solve(push):
    rng = np.random.default_rng(11)
    game = random_mean_field_game(rng, 6, 3, push=push, tau=0.7, gamma=0.85)
    mu = rng.dirichlet(np.ones(6))
    pi = rng.dirichlet(np.ones(3), size=6)
    r, p = np.asarray(game.reward(mu)), np.asarray(game.transition(mu))
    ev = mf.evaluate_policy(game, pi, mu)
    expected = direct_q(r, p, pi, game.gamma, game.tau)
    assert np.abs(ev.q - expected).max() < 1e-10
    v_expected = (pi * (expected - game.tau * np.log(pi))).sum(axis=1)
    assert np.abs(ev.v - v_expected).max() < 1e-10
    assert not ev.q.flags.writeable and not ev.v.flags.writeable
    # The regularized best response against soft value iteration.
    v_star, pi_star = soft_value_iteration(r, p, game.gamma, game.tau)
    br, best = mf.best_response(game, mu)
    assert np.abs(best.v - v_star).max() < 1e-9
    assert np.abs(br - pi_star).max() < 1e-9
    assert np.all(best.v >= ev.v - 1e-12)  # the best response is at least as good everywhere
    # Exploitability is the mu-weighted gap against the policy's own mean field.
    own = mf.stationary_distribution(game, pi)
    report = mf.exploitability_report(game, pi)
    v_own_star, _ = soft_value_iteration(
        np.asarray(game.reward(own)), np.asarray(game.transition(own)), game.gamma, game.tau
    )
    v_own = mf.evaluate_policy(game, pi, own).v
    assert report.exploitability == pytest.approx(float(own @ (v_own_star - v_own)), abs=1e-9)
    assert report.exploitability > 1e-3
    assert np.allclose(report.extras["mu"], own)


def test_pma_converges_linearly_with_strong_regularization():
    # Yardim et al. 2023: exact PMA is a contraction for strong enough tau (linear rate).
    rates = {}
    for tau in (0.5, 1.0):
        game = crowd_aversion(6, bias=0.3, tau=tau)
        solver = PolicyMirrorAscent(eta=1.0)
        state = solver.init(game, np.random.default_rng(0))
        logits = [state["logits"].copy()]
        for _ in range(120):
            solver.step(game, state)
            logits.append(state["logits"].copy())
        star = logits[-1]
        dist = np.array([np.abs(x - star).max() for x in logits[:40]])  # ||log pi_k - log pi*||_inf
        k = np.arange(40)
        keep = (k >= 3) & (dist > 1e-11)
        slope, intercept = np.polyfit(k[keep], np.log(dist[keep]), 1)
        fit = slope * k[keep] + intercept
        r2 = 1 - np.sum((np.log(dist[keep]) - fit) ** 2) / np.sum(
            (np.log(dist[keep]) - np.log(dist[keep]).mean()) ** 2
        )
        rates[tau] = float(np.exp(slope))
        assert rates[tau] < 0.9 and r2 > 0.99, (tau, rates[tau], r2)
        ratios = dist[keep][1:] / dist[keep][:-1]
        assert np.all(ratios < 1.0)  # every step gets closer
        # The exploitability falls geometrically too (about rate^2 per step: it is quadratic).
        e5, e15 = (mf.exploitability(game, np.exp(logits[i])) for i in (5, 15))
        assert e15 < e5 * rates[tau] ** 10
    assert rates[1.0] < rates[0.5]  # stronger regularization, faster contraction
    # Measured: rates 0.666 (tau 0.5) and 0.495 (tau 1.0), i.e. about 1 / (1 + eta tau).


def test_best_response_iteration_cycles_where_pma_converges():
    # The paper's point: the PMA map contracts where the (soft) best-response map does not.
    game = crowd_aversion(2, bias=0.3, tau=0.5)
    pi = game.uniform_policy()
    late = []
    for k in range(60):
        pi, _ = mf.best_response(game, mf.stationary_distribution(game, pi))
        if k >= 40:
            late.append(mf.exploitability(game, pi))
    assert min(late) > 0.1  # measured: oscillates with exploitability ~1.1-1.2
    assert mf.exploitability(game, run_pma(game, iterations=60)) < 1e-8


def test_fixed_point_does_not_depend_on_eta():
    game = crowd_aversion(5, bias=(0.4, 0.0, 0.1, 0.0, 0.0), tau=0.5)
    slow = run_pma(game, eta=0.5, iterations=200)
    fast = run_pma(game, eta=3.0, iterations=80)
    assert np.abs(slow - fast).max() < 1e-6
    mu_slow = mf.stationary_distribution(game, slow)
    mu_fast = mf.stationary_distribution(game, fast)
    assert np.abs(mu_slow - mu_fast).max() < 1e-6
    assert np.abs(mu_slow - 0.2).max() > 0.01  # a non-trivial equilibrium


def test_mean_field_dependent_transitions():
    game = crowd_aversion(5, bias=0.5, congestion=0.6, tau=0.5)
    assert not game.static_transition
    pi = run_pma(game, iterations=60)
    mu = mf.stationary_distribution(game, pi)
    p = np.asarray(game.transition(mu))  # P evaluated at the fixed point itself
    assert np.abs(mu @ np.einsum("sa,sat->st", pi, p) - mu).sum() < 1e-10
    policy_res, mean_field_res = mf.equilibrium_residuals(game, pi, mu)
    assert policy_res < 1e-6 and mean_field_res < 1e-10
    assert mf.exploitability(game, pi) < 1e-8
    with pytest.raises(mf.StationaryDistributionError, match=r"after 1 damped iterations"):
        mf.stationary_distribution(game, np.random.default_rng(1).dirichlet(np.ones(3), size=5), max_iter=1)


def test_stationary_distribution_of_reducible_and_periodic_chains():
    stay = np.zeros((2, 1, 2))
    stay[0, 0, 0] = stay[1, 0, 1] = 1.0  # two absorbing states: every mu is stationary
    game = mf.mean_field_game(np.zeros((2, 1)), stay, tau=1.0)
    assert np.allclose(mf.stationary_distribution(game, np.ones((2, 1)), mu0=[0.3, 0.7]), [0.3, 0.7])
    swap = stay[:, :, ::-1].copy()  # a period-2 chain: power iteration alone would cycle
    game = mf.mean_field_game(np.zeros((2, 1)), swap, tau=1.0)
    assert np.allclose(mf.stationary_distribution(game, np.ones((2, 1)), mu0=[0.9, 0.1]), [0.5, 0.5])


def test_solve_result_contract():
    game = crowd_aversion(4, bias=0.2)
    solver = PolicyMirrorAscent(eta=2.0)
    result = gamesolve.solve(game, solver, iterations=60, eval_every=10, progress=False)
    assert result.solver == "pma" and result.config == {"eta": 2.0}
    assert result.policy.shape == (4, 3) and not result.policy.flags.writeable
    assert np.allclose(result.policy.sum(axis=1), 1.0)
    assert result.exploitability < 1e-8 and result.nash_conv == result.exploitability
    assert result.history.exploitability[0] > result.history.exploitability[-1]
    report = solver.report(game, result.policy)
    mu = np.asarray(report.extras["mu"])
    assert np.allclose(mu, mf.stationary_distribution(game, result.policy))
    assert result.value == pytest.approx(
        (float(mu @ mf.evaluate_policy(game, result.policy, mu).v),), abs=1e-12
    )
    json.dumps(result.to_dict())
    json.dumps(report.to_dict())
    assert game.fingerprint() == crowd_aversion(4, bias=0.2).fingerprint()
    assert game.fingerprint() != crowd_aversion(4, bias=0.2, tau=0.4).fingerprint()
    assert game.fingerprint()["sha256"] != crowd_aversion(4, bias=0.3).fingerprint()["sha256"]
    # Same configuration, same numbers.
    again = gamesolve.solve(game, PolicyMirrorAscent(eta=2.0), iterations=60, eval_every=10, progress=False)
    assert np.array_equal(again.policy, result.policy)


def test_registry_names():
    assert "pma" in dict(gamesolve.available_solvers())
    game = gamesolve.load_game("crowd_aversion(states=3,bias=0.2)")
    result = gamesolve.solve(game, "pma", iterations=60, progress=False)
    assert result.exploitability < 1e-8


def test_bad_inputs_raise_clear_errors():
    p = np.zeros((2, 2, 2))
    p[:, 0, 0] = p[:, 1, 1] = 1.0
    r = np.zeros((2, 2))
    with pytest.raises(MalformedGameError, match="tau"):
        mf.mean_field_game(r, p, tau=0.0)
    with pytest.raises(MalformedGameError, match="gamma"):
        mf.mean_field_game(r, p, tau=1.0, gamma=1.0)
    with pytest.raises(MalformedGameError, match=r"transition.*\[S, A, S\]"):
        mf.mean_field_game(r, p[:, :, :1], tau=1.0)
    bad = p.copy()
    bad[1, 0, 0] = 0.9
    with pytest.raises(MalformedGameError, match="state 1, action 0 sums to"):
        mf.mean_field_game(r, bad, tau=1.0)
    neg = p.copy()
    neg[0, 1, :] = (1.5, -0.5)
    with pytest.raises(MalformedGameError, match="state 0, action 1, next state 1"):
        mf.mean_field_game(r, neg, tau=1.0)
    with pytest.raises(MalformedGameError, match=r"reward.*not finite at state 1, action 0"):
        mf.mean_field_game(np.array([[0.0, 0.0], [np.nan, 0.0]]), p, tau=1.0)
    with pytest.raises(MalformedGameError, match=r"reward.*shape \[S, A\]"):
        mf.mean_field_game(lambda mu: np.zeros(2), p, tau=1.0)
    with pytest.raises(MalformedGameError, match="reward must be a numeric"):
        mf.mean_field_game([[0.0, 1.0], [0.0]], p, tau=1.0)
    with pytest.raises(MalformedGameError, match="num_states and num_actions"):
        mf.mean_field_game(lambda mu: r, lambda mu: p, tau=1.0)

    def fragile(mu):
        if mu[0] == 1.0:
            raise ZeroDivisionError("no one in state 1")
        return p

    with pytest.raises(MalformedGameError, match=r"transition\(mu = \[1, 0\]\) raised ZeroDivisionError"):
        mf.mean_field_game(r, fragile, tau=1.0)

    def leaky(mu):  # fine at the uniform mean field, broken at a point mass
        out = p.copy()
        out[0, 0, 0] = 1.0 + abs(mu[0] - mu[1])
        return out

    with pytest.raises(MalformedGameError, match=r"at mu = \[1, 0\] at state 0, action 0 sums to 2.0"):
        mf.mean_field_game(r, leaky, tau=1.0)

    game = mf.mean_field_game(r, p, tau=1.0)
    with pytest.raises(InvalidPolicyError, match="state 1 sums to"):
        mf.exploitability(game, [[0.5, 0.5], [0.5, 0.6]])
    with pytest.raises(InvalidPolicyError, match="shape"):
        mf.exploitability(game, [0.5, 0.5])
    with pytest.raises(ValueError, match="mu must"):
        mf.evaluate_policy(game, game.uniform_policy(), [0.5, 0.6, -0.1])
    with pytest.raises(ValueError, match="eta"):
        PolicyMirrorAscent(eta=0.0)
    with pytest.raises(UnsupportedGame, match="mean-field"):
        gamesolve.solve(gamesolve.load_game("rps"), PolicyMirrorAscent(), iterations=1, progress=False)
    with pytest.raises(ValueError, match="states"):
        crowd_aversion(1)
    with pytest.raises(ValueError, match="congestion"):
        crowd_aversion(3, congestion=2.0)
    with pytest.raises(ValueError, match="bias must have 3 entries"):
        crowd_aversion(3, bias=(1.0, 2.0))
    with pytest.raises(ValueError, match="tau"):
        crowd_aversion(3, tau="-1")
    assert crowd_aversion("3", tau="0.25", bias="0.3/0/0").tau == 0.25  # game-string values
