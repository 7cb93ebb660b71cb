"""alpha-Rank against OpenSpiel's implementation and known cases."""

from __future__ import annotations

import numpy as np
import pytest
from open_spiel.python.egt import alpharank as os_alpharank

import gamesolve
from gamesolve.alpharank import alpha_rank, fixation_probability


@pytest.mark.parametrize(
    ("seed", "shape", "alpha", "m"), [(0, (3, 4), 5.0, 20), (1, (4, 4), 3.0, 50), (2, (2, 5), 0.5, 10)]
)
def test_matches_openspiel_multipopulation(seed, shape, alpha, m):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(size=shape), rng.uniform(size=shape)
    ours = alpha_rank(gamesolve.bimatrix(a, b), alpha=alpha, population_size=m)
    _, _, pi, _, _ = os_alpharank.compute([a, b], m=m, alpha=alpha)
    assert np.allclose(ours.stationary.ravel(), pi, atol=1e-10)
    assert ours.stationary.sum() == pytest.approx(1.0)


def test_rps_ranks_uniformly_and_dominance_wins():
    rps = gamesolve.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    result = alpha_rank(rps)
    for marginal in result.marginals:
        assert np.allclose(marginal, 1 / 3, atol=1e-9)
    pd = gamesolve.bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])  # defect (1) strictly dominates
    result = alpha_rank(pd)
    assert result.stationary[1, 1] == pytest.approx(1.0, abs=1e-9)
    assert result.ranking(0) == [1, 0]
    limit = alpha_rank(pd, alpha=float("inf"))
    assert limit.stationary[1, 1] > 0.999


def test_fixation_probability_is_stable_and_correct():
    assert fixation_probability(0.0, 100.0, 50) == pytest.approx(1 / 50)
    x = 0.3 * 2.0
    assert fixation_probability(0.3, 2.0, 10) == pytest.approx((1 - np.exp(-x)) / (1 - np.exp(-10 * x)))
    assert fixation_probability(-0.3, 2.0, 10) == pytest.approx((1 - np.exp(x)) / (1 - np.exp(10 * x)))
    assert (
        0.0 <= fixation_probability(-50.0, 1000.0, 50) < 1e-300
        or fixation_probability(-50.0, 1000.0, 50) == 0.0
    )
    assert fixation_probability(50.0, 1000.0, 50) == pytest.approx(1.0)


def test_bad_parameters():
    g = gamesolve.zero_sum([[1, -1], [-1, 1]])
    with pytest.raises(ValueError, match="alpha"):
        alpha_rank(g, alpha=0.0)
    with pytest.raises(ValueError, match="population_size"):
        alpha_rank(g, population_size=1)


def test_large_alpha_stays_finite_where_naive_formula_overflows():
    # OpenSpiel's closed form overflows here (exp of a large argument); ours works in logs.
    rng = np.random.default_rng(1)
    result = alpha_rank(gamesolve.bimatrix(rng.uniform(size=(4, 4)), rng.uniform(size=(4, 4))), alpha=500.0)
    assert np.all(np.isfinite(result.stationary))
    assert result.stationary.sum() == pytest.approx(1.0)
    assert np.allclose(result.transition.sum(axis=1), 1.0)
