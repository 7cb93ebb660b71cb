"""Preference games, Nash mirror-prox, EGPO and the self-play baselines.

Nash mirror-prox: Tiapkin et al. 2025, "Accelerating Nash learning from human feedback via mirror
prox". EGPO: Zhou, Fazel & Du 2025, "Extragradient preference optimization (EGPO): beyond
last-iterate convergence for Nash learning from human feedback".
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import gamesolve
from gamesolve.games.preference import cyclic_preference_game, random_preference_game
from gamesolve.preference import kl_divergence
from gamesolve.solvers.preference import EGPO, NashMirrorProx


def instance(seed: int = 0, n: int = 6, beta: float = 0.1) -> gamesolve.PreferenceGame:
    return random_preference_game(np.random.default_rng(seed), n, beta=beta)


def test_generator_is_complementary_and_seeded():
    g = instance(3)
    assert np.allclose(g.preference + g.preference.T, 1.0, atol=1e-15)
    assert np.allclose(np.diag(g.preference), 0.5)
    assert np.array_equal(instance(3).preference, g.preference)
    assert not np.array_equal(instance(4).preference, g.preference)
    assert g.reference.min() > 0 and g.reference.sum() == pytest.approx(1.0)


def test_regularized_equilibrium_solves_its_fixed_point():
    g = instance(1)
    star = g.regularized_equilibrium()
    target = g.reference * np.exp(g.preference @ star / g.beta)
    assert np.allclose(star, target / target.sum(), atol=1e-12)
    assert g.regularized_exploitability(star) == pytest.approx(0.0, abs=1e-12)
    assert g.regularized_exploitability(g.reference) > 1e-3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nash_mp_kl_contracts_at_the_claimed_rate(seed):
    # Tiapkin et al. 2025: KL(pi* || pi_k) <= (1 + 2 beta)^-k KL(pi* || pi_0) with eta = 2 beta.
    g = instance(seed)
    star = g.regularized_equilibrium()
    solver = NashMirrorProx()
    state = solver.init(g, np.random.default_rng(0))
    kl0 = kl_divergence(star, state["pi"])
    assert kl0 > 1e-3
    for k in range(1, 61):
        solver.step(g, state)
        kl = kl_divergence(star, state["pi"])
        assert kl <= (1 + 2 * g.beta) ** (-k) * kl0 + 1e-14, k


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_egpo_kl_contracts_at_the_claimed_rate(seed):
    # Zhou, Fazel & Du 2025: KL_t <= (1 - eta beta)^t KL_0 with eta = 1 / (beta + 1).
    g = instance(seed)
    star = g.regularized_equilibrium()
    solver = EGPO()
    state = solver.init(g, np.random.default_rng(0))
    eta = 1 / (g.beta + 1)
    kl0 = kl_divergence(star, state["pi"])
    solver.step(g, state, 300)
    assert kl_divergence(star, state["pi"]) <= (1 - eta * g.beta) ** 300 * kl0 + 1e-14


def test_solve_runs_every_preference_solver_and_reports_gaps():
    g = instance(5)
    for name in ("nash-mp", "egpo"):
        result = gamesolve.solve(g, name, iterations=200, eval_every=50, progress=False)
        assert result.exploitability < 1e-10
        assert result.history.exploitability[0] > 1e-3
        assert json.loads(json.dumps(result.to_dict()))["solver"] == name
    base = gamesolve.solve(g, "preference-omwu", iterations=4000, progress=False)
    assert base.exploitability < 0.5 * base.history.exploitability[0]
    avg = gamesolve.solve(g, "preference-mwu", iterations=4000, progress=False)
    assert avg.exploitability < avg.history.exploitability[0]


def test_cyclic_game_von_neumann_winner_is_uniform():
    g = cyclic_preference_game(5, beta=0.0)
    assert g.exploitability(np.full(5, 0.2)) == pytest.approx(0.0, abs=1e-15)
    assert g.exploitability(np.eye(5)[0]) == pytest.approx(0.5)
    result = gamesolve.solve(g, "preference-omwu", iterations=20000, progress=False)
    assert result.exploitability < 1e-6
    lp = gamesolve.solve(g.matrix_game, "lp")
    assert np.allclose(lp.profile[0], 0.2, atol=1e-9)


def test_regularized_solvers_refuse_beta_zero_and_bad_input():
    with pytest.raises(gamesolve.UnsupportedGame, match="beta > 0"):
        gamesolve.solve(cyclic_preference_game(3, beta=0.0), "nash-mp", iterations=3, progress=False)
    with pytest.raises(gamesolve.MalformedGameError, match="P\\[i, j\\] \\+ P\\[j, i\\] = 1"):
        gamesolve.preference_game([[0.5, 0.9], [0.9, 0.5]])
    with pytest.raises(gamesolve.MalformedGameError, match="full-support"):
        gamesolve.preference_game([[0.5, 0.6], [0.4, 0.5]], reference=[1.0, 0.0])
    with pytest.raises(ValueError, match="eta"):
        NashMirrorProx(eta=-1.0)
    with pytest.raises(gamesolve.UnsupportedGame, match="preference games"):
        gamesolve.solve(gamesolve.zero_sum([[1, -1], [-1, 1]]), "egpo", iterations=3, progress=False)
