"""Correlated and coarse correlated equilibria by LP, plain, epsilon, weighted and constrained.

The distributions are checked against the incentive constraints written out by explicit loops over
joint actions (independent of the solver's sparse construction), and the constrained versions
against a brute-force maximum over the vertices of each player's safe strategy set.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import GamesolveError
from gamesolve.solvers.correlated import correlated_equilibrium, deviation_gains


def random_game(shape: tuple[int, ...], seed: int) -> gamesolve.TensorGame:
    rng = np.random.default_rng(seed)
    return gamesolve.normal_form_game(rng.integers(-5, 6, size=(len(shape), *shape)).astype(float))


def swap_gains(game: gamesolve.TensorGame, z: np.ndarray) -> list[np.ndarray]:
    """Per player ``[m, m]``: gain of playing b whenever a is recommended, by explicit loops."""
    out = []
    for i, m in enumerate(game.num_actions):
        gains = np.zeros((m, m))
        for joint in itertools.product(*(range(k) for k in game.num_actions)):
            a = joint[i]
            for b in range(m):
                dev = list(joint)
                dev[i] = b
                gains[a, b] += z[joint] * (game.payoffs[i][tuple(dev)] - game.payoffs[i][joint])
        out.append(gains)
    return out


SHAPES = [(3, 3), (4, 3), (2, 2, 2), (3, 2, 3)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_ce_and_cce_constraints_hold_on_the_returned_distribution(shape, seed):
    game = random_game(shape, seed)
    ce = correlated_equilibrium(game, kind="ce")
    cce = correlated_equilibrium(game, kind="cce")
    for sol in (ce, cce):
        assert sol.distribution.shape == game.num_actions
        assert np.all(sol.distribution >= 0) and sol.distribution.sum() == pytest.approx(1.0)
        assert sol.welfare == pytest.approx(sum(sol.values))
    for gains in swap_gains(game, ce.distribution):
        assert gains.max() <= 1e-7  # every swap a -> b
    for gains in swap_gains(game, cce.distribution):
        assert gains.sum(axis=0).max() <= 1e-7  # committing to b in advance
    # CE is a subset of CCE, so the CCE optimum is at least as good.
    assert cce.welfare >= ce.welfare - 1e-7
    assert max(ce.max_deviation_gain) <= 1e-7 and max(cce.max_deviation_gain) <= 1e-7


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_welfare_ce_beats_every_nash_equilibrium(seed):
    rng = np.random.default_rng(seed)
    game = gamesolve.bimatrix(rng.normal(size=(4, 4)), rng.normal(size=(4, 4)))  # generic: nondegenerate
    ce = correlated_equilibrium(game, kind="ce")
    for eq in gamesolve.equilibria(game):
        product = np.multiply.outer(eq.strategies[0], eq.strategies[1])
        assert ce.welfare >= float((game.payoffs.sum(axis=0) * product).sum()) - 1e-7


def test_epsilon_relaxes_the_constraints_and_bounds_the_gains():
    game = random_game((3, 3, 2), 4)
    welfare = []
    for eps in (0.0, 0.1, 0.5, 2.0):
        sol = correlated_equilibrium(game, kind="ce", epsilon=eps)
        welfare.append(sol.welfare)
        assert max(sol.max_deviation_gain) <= eps + 1e-7
        assert max(g.max() for g in swap_gains(game, sol.distribution)) <= eps + 1e-7
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(welfare))


def test_weighted_objectives():
    game = gamesolve.load_game("battle_of_the_sexes")
    for player in range(2):
        weights = np.eye(2)[player]
        sol = correlated_equilibrium(game, kind="ce", objective=weights)
        full = correlated_equilibrium(game, kind="ce", objective=game.payoffs[player])
        assert sol.objective == pytest.approx(sol.values[player])
        assert sol.values[player] == pytest.approx(full.values[player])
        # the player's favorite pure equilibrium (on the diagonal) is a CE: it does at least as well
        assert sol.values[player] >= max(game.payoffs[player][a, a] for a in range(2)) - 1e-7


def test_chicken_known_answers():
    game = gamesolve.load_game("chicken")
    assert correlated_equilibrium(game, kind="ce").welfare == pytest.approx(10.5)
    # without incentive constraints the best joint action (6, 6) would have welfare 12
    assert correlated_equilibrium(game, kind="cce").welfare <= 12.0 + 1e-9


# ---------------------------------------------------------------------------- constrained


def safe_vertices(cost: np.ndarray | None, m: int) -> list[np.ndarray]:
    """Vertices of ``{s in simplex: cost @ s <= 0}`` for a single cost row, by hand."""
    if cost is None:
        return list(np.eye(m))
    c = np.asarray(cost, dtype=float).reshape(-1)
    verts = [np.eye(m)[b] for b in range(m) if c[b] <= 0]
    for b, d in itertools.combinations(range(m), 2):
        if c[b] < 0 < c[d] or c[d] < 0 < c[b]:
            s = np.zeros(m)
            s[b], s[d] = c[d] / (c[d] - c[b]), -c[b] / (c[d] - c[b])
            verts.append(s)
    return verts


def brute_safe_gain(game, z, i, kind, cost):
    gains = swap_gains(game, z)[i]  # gain[a, b] = G[a, b] - G[a, a]
    u, m = game.payoffs[i], game.num_actions[i]
    follow = float((u * z).sum())
    zi = np.moveaxis(z, i, 0).reshape(m, -1)
    ui = np.moveaxis(u, i, 0).reshape(m, -1)
    big = zi @ ui.T  # [a, b]
    assert np.allclose(big - np.diag(big)[:, None], gains)
    verts = safe_vertices(cost, m)
    if kind == "cce":
        return max(float(v @ big.sum(axis=0)) for v in verts) - follow
    return sum(max(float(v @ big[a]) for v in verts) for a in range(m)) - follow


@pytest.mark.parametrize("kind", ["ce", "cce"])
@pytest.mark.parametrize("shape,seed", [((3, 3), 0), ((3, 4), 1), ((3, 2, 2), 2)])
def test_constrained_equilibria_against_vertex_brute_force(kind, shape, seed):
    game = random_game(shape, seed)
    # player 0 may play its action 0 with probability at most 0.25: cost (0.75, -0.25, -0.25)
    cost0 = np.array([[0.75] + [-0.25] * (shape[0] - 1)])
    constraints = [cost0] + [None] * (len(shape) - 1)
    sol = correlated_equilibrium(game, kind=kind, constraints=constraints)
    z = sol.distribution
    marginal0 = z.reshape(shape[0], -1).sum(axis=1)
    assert marginal0[0] <= 0.25 + 1e-8
    for i in range(len(shape)):
        brute = brute_safe_gain(game, z, i, kind, constraints[i])
        assert brute <= 1e-7
        assert sol.max_deviation_gain[i] == pytest.approx(brute, abs=1e-7)
    # Constraints on player 0 shrink its safe deviations but also the feasible set; with trivial
    # constraints the answer is the plain equilibrium.
    trivial = correlated_equilibrium(game, kind=kind, constraints=[None] * len(shape))
    plain = correlated_equilibrium(game, kind=kind)
    assert trivial.welfare == pytest.approx(plain.welfare, abs=1e-7)


def test_constrained_ce_can_beat_the_unconstrained_optimum():
    # chicken: forbidding player 0 from 'dare' more than 30% of the time removes its tempting
    # deviation, so a higher-welfare distribution becomes stable.
    game = gamesolve.load_game("chicken")
    cost0 = np.array([[0.7, -0.3]])
    for kind in ("ce", "cce"):
        sol = correlated_equilibrium(game, kind=kind, constraints=[cost0, None])
        assert sol.welfare > 10.5 + 1e-6
        assert sol.distribution.sum(axis=1)[0] <= 0.3 + 1e-9
        assert max(deviation_gains(game, sol.distribution, kind, constraints=[cost0, None])) <= 1e-7


def test_constrained_bad_input():
    game = gamesolve.load_game("chicken")
    with pytest.raises(ValueError, match="one entry per player"):
        correlated_equilibrium(game, constraints=[None])
    with pytest.raises(ValueError, match=r"constraints\[0\]"):
        correlated_equilibrium(game, constraints=[np.ones((1, 3)), None])
    with pytest.raises(ValueError, match=r"constraints\[1\]"):
        correlated_equilibrium(game, constraints=[None, [[np.nan, 1.0]]])
    # no strategy of player 0 satisfies a strictly positive cost
    with pytest.raises(GamesolveError, match="infeasible"):
        correlated_equilibrium(game, constraints=[[[1.0, 1.0]], None])
    with pytest.raises(ValueError, match="kind"):
        deviation_gains(game, np.full((2, 2), 0.25), "nash")


def test_registry_solver_takes_constraints_and_reports_safe_gains():
    game = gamesolve.load_game("chicken")
    result = gamesolve.solve(game, "ce", constraints=[[[0.7, -0.3]], None])
    assert result.extras["welfare"] > 10.5
    assert result.nash_conv <= 1e-7
    assert result.config["constraints"] == [[[0.7, -0.3]], None]


def test_games_where_every_player_has_one_action():
    game = gamesolve.normal_form_game(np.array([[[1.0]], [[2.0]]]))
    for kind in ("ce", "cce"):
        result = gamesolve.correlated_equilibrium(game, kind=kind)
        np.testing.assert_allclose(result.distribution, [[1.0]])
        assert result.values == pytest.approx((1.0, 2.0))
