"""Contracts of gamesolve.population: Population, MetaGame, and the three rating methods.

Oracles: alpha-Rank against a stationary distribution built by hand from the chain of Omidshafiei
et al. 2019 ("α-Rank: multi-agent evaluation by evolution") and solved with numpy's eigenvectors;
Elo against meta-games generated from known ratings (exact Bradley-Terry scores, and sampled
win/loss matches); Nash averaging against its defining properties (RPS: uniform p and equal
ratings; a dominated agent gets no mass; a copy of an agent changes nobody's rating, Balduzzi et
al. 2018).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import UnsupportedGame
from gamesolve.population import ELO_SCALE, MetaGame, Population, Ratings

RPS = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])


def _zero_sum_meta(matrix, *, symmetric=False, stderr=None, counts=None, names=None, payoff_range=None):
    a = np.asarray(matrix, dtype=np.float64)
    err = None if stderr is None else np.stack([stderr, stderr])
    return MetaGame.from_payoffs(
        np.stack([a, -a]),
        stderr=err,
        counts=counts,
        names=names,
        symmetric=symmetric,
        payoff_range=payoff_range,
    )


# ------------------------------------------------------------------------------------ Population


def test_population_symmetric_add_and_sizes():
    pop = Population.symmetric({"a": 1, "b": 2})
    assert pop.is_symmetric and pop.sizes == (2, 2) and pop.names == (("a", "b"), ("a", "b"))
    grown = pop.add(None, 3, name="c")
    assert grown.sizes == (3, 3) and grown.names[1] == ("a", "b", "c")
    assert pop.sizes == (2, 2)  # unchanged: populations are values
    seats = Population(members=((1,), (2, 3)))
    assert seats.names == (("pi0",), ("pi0", "pi1")) and seats.size(1) == 2
    assert seats.add(0, 4).sizes == (2, 2)
    with pytest.raises(ValueError, match="player must be"):
        seats.add(2, 4)
    with pytest.raises(ValueError, match="names must give one name"):
        Population(members=((1, 2),), names=(("x",),))
    with pytest.raises(ValueError, match="no policies"):
        Population(members=((1,), ()))
    with pytest.raises(ValueError, match="same policies"):
        Population(members=((1,), (2,)), is_symmetric=True)


# ------------------------------------------------------------------------------------ MetaGame


def test_meta_game_validates_and_round_trips():
    meta = _zero_sum_meta(
        RPS, stderr=np.full((3, 3), 0.1), counts=np.full((3, 3), 10), names=[list("RPS")] * 2
    )
    assert not meta.exact and meta.sizes == (3, 3) and meta.names[0] == ("R", "P", "S")
    assert not meta.payoffs.flags.writeable
    again = MetaGame.from_dict(meta.to_dict())
    assert np.array_equal(again.payoffs, meta.payoffs) and np.array_equal(again.stderr, meta.stderr)
    assert again.names == meta.names and again.exact == meta.exact
    single = MetaGame.from_payoffs(np.zeros((2, 1, 1)), stderr=np.full((2, 1, 1), np.nan), counts=[[1]])
    assert np.isnan(MetaGame.from_dict(single.to_dict()).stderr).all()
    game = meta.to_normal_form()
    assert game.num_actions == (3, 3) and game.action_names[1] == ("R", "P", "S")
    assert game.spec.is_two_player_zero_sum
    sub = meta.prefix((2, 1))
    assert sub.sizes == (2, 1) and sub.payoffs[0, 1, 0] == 1.0
    with pytest.raises(ValueError, match="shape"):
        MetaGame(payoffs=np.zeros((2, 2)), stderr=np.zeros((2, 2)), counts=np.zeros(2), names=(), exact=True)
    with pytest.raises(ValueError, match="counts must have shape"):
        MetaGame.from_payoffs(np.zeros((2, 2, 2)), counts=np.zeros(3))
    with pytest.raises(ValueError, match="one name per member"):
        MetaGame.from_payoffs(np.zeros((2, 2, 2)), names=[["a"], ["b", "c"]])


def test_confidence_interval_uses_student_t():
    from scipy import stats

    counts = np.array([[0, 2], [30, 1]])
    meta = MetaGame.from_payoffs(
        np.stack([np.ones((2, 2)), -np.ones((2, 2))]), stderr=np.full((2, 2, 2), 0.5), counts=counts
    )
    lower, upper = meta.confidence_interval(0.9)
    half = (upper - lower) / 2
    assert half[0, 0, 0] == 0.0  # exact entry (count 0)
    assert half[0, 0, 1] == pytest.approx(stats.t.ppf(0.95, 1) * 0.5)
    assert half[0, 1, 0] == pytest.approx(stats.t.ppf(0.95, 29) * 0.5)
    assert math.isinf(half[1, 1, 1])  # one episode: no interval
    assert np.allclose((upper[:, :, :1] + lower[:, :, :1]) / 2, meta.payoffs[:, :, :1])
    with pytest.raises(ValueError, match="level"):
        meta.confidence_interval(1.0)


def test_heatmap_written_atomically(tmp_path):
    meta = _zero_sum_meta(
        RPS, stderr=np.full((3, 3), 0.05), counts=np.full((3, 3), 100), names=[list("RPS")] * 2
    )
    path = tmp_path / "plots" / "meta.png"
    meta.heatmap(path)
    meta.heatmap(path, player=1)  # overwrite in place
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    assert [p.name for p in path.parent.iterdir()] == ["meta.png"]  # no temporary files left
    three = MetaGame.from_payoffs(np.zeros((3, 1, 1, 1)))
    with pytest.raises(UnsupportedGame, match="two-player"):
        three.heatmap(tmp_path / "x.png")
    with pytest.raises(ValueError, match="player"):
        meta.heatmap(tmp_path / "x.png", player=2)


# ------------------------------------------------------------------------------------ alpha-Rank


def _alpha_rank_by_hand(a, b, alpha, m):
    """The multi-population chain of Omidshafiei et al. 2019, stationary by numpy's eigenvectors."""
    k0, k1 = a.shape
    eta = 1.0 / ((k0 - 1) + (k1 - 1))
    profiles = list(itertools.product(range(k0), range(k1)))
    chain = np.zeros((len(profiles), len(profiles)))

    def rho(df):
        if df == 0.0:
            return 1.0 / m
        return (1.0 - np.exp(-alpha * df)) / (1.0 - np.exp(-m * alpha * df))

    for s, (i, j) in enumerate(profiles):
        for i2 in range(k0):
            if i2 != i:
                chain[s, profiles.index((i2, j))] = eta * rho(a[i2, j] - a[i, j])
        for j2 in range(k1):
            if j2 != j:
                chain[s, profiles.index((i, j2))] = eta * rho(b[i, j2] - b[i, j])
        chain[s, s] = 1.0 - chain[s].sum()
    values, vectors = np.linalg.eig(chain.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    pi = pi / pi.sum()
    return pi.reshape(k0, k1)


def test_alpharank_ratings_equal_the_stationary_distribution_computed_by_hand():
    rng = np.random.default_rng(7)
    a, b = rng.uniform(-1, 1, size=(3, 4)), rng.uniform(-1, 1, size=(3, 4))
    meta = MetaGame.from_payoffs(np.stack([a, b]), names=[["x", "y", "z"], ["p", "q", "r", "s"]])
    ratings = meta.ratings("alpharank", alpha=3.0, population_size=20)
    pi = _alpha_rank_by_hand(a, b, 3.0, 20)
    assert np.allclose(ratings.details["stationary"], pi, atol=1e-10)
    assert np.allclose(ratings.ratings, np.concatenate([pi.sum(axis=1), pi.sum(axis=0)]), atol=1e-10)
    assert ratings.names[0] == "P0:x" and ratings.names[3] == "P1:p" and ratings.seats[3] == 1
    assert np.isnan(ratings.uncertainty).all()
    # a symmetric population rates K agents: the (equal) marginals of the two seats
    sym = _zero_sum_meta(RPS @ np.diag([1.0, 2.0, 0.5]) - (RPS @ np.diag([1.0, 2.0, 0.5])).T, symmetric=True)
    pi = _alpha_rank_by_hand(sym.payoffs[0], sym.payoffs[1], 2.0, 10)
    rated = sym.ratings("alpharank", alpha=2.0, population_size=10)
    assert rated.seats == (None, None, None)
    assert np.allclose(rated.ratings, pi.sum(axis=1), atol=1e-10)
    assert np.allclose(pi.sum(axis=1), pi.sum(axis=0), atol=1e-10)


# ------------------------------------------------------------------------------------ Elo


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_elo_recovers_ratings_from_exact_bradley_terry_scores():
    truth = np.array([1250.0, 1400.0, 1500.0, 1580.0, 1770.0])  # mean 1500
    win = _logistic((truth[:, None] - truth[None, :]) / ELO_SCALE)
    meta = _zero_sum_meta(2 * win - 1, symmetric=True, payoff_range=[[-1, 1], [-1, 1]])
    ratings = meta.ratings("elo")
    assert np.allclose(ratings.ratings, truth, atol=1e-6)
    assert np.allclose(ratings.uncertainty, 0.0)  # exact entries: no sampling noise
    assert ratings.ranking() == [4, 3, 2, 1, 0]
    # the score mapping: win/loss payoffs in [-1, 1] map to win probabilities
    assert np.allclose(ratings.details["scores"], win[np.triu_indices(5, 1)])


def test_elo_recovers_known_ratings_from_sampled_matches_within_stderr():
    rng = np.random.default_rng(11)
    truth = np.array([1300.0, 1450.0, 1500.0, 1550.0, 1700.0])
    k, n = truth.shape[0], 4000
    win = _logistic((truth[:, None] - truth[None, :]) / ELO_SCALE)
    wins = rng.binomial(n, win)  # seat-0 member i against seat-1 member j
    mean = 2 * wins / n - 1
    stderr = 2 * np.sqrt((wins / n) * (1 - wins / n) / (n - 1))
    meta = _zero_sum_meta(
        mean, symmetric=True, stderr=stderr, counts=np.full((k, k), n), payoff_range=[[-1, 1], [-1, 1]]
    )
    ratings = meta.ratings("elo")
    z = (ratings.ratings - truth) / ratings.uncertainty
    assert np.all(np.abs(z) < 3.5), z
    # the delta-method standard errors match the Fisher information of the binomial model
    c = 1.0 / ELO_SCALE
    pairs = win * (1 - win) * (2 * n) * c**2  # both seatings of every pair
    np.fill_diagonal(pairs, 0.0)
    fisher = np.diag(pairs.sum(axis=1)) - pairs
    fisher_se = np.sqrt(np.diag(np.linalg.pinv(fisher)))
    assert np.allclose(ratings.uncertainty, fisher_se, rtol=0.05)
    assert ratings.uncertainty.min() > 1.0 and ratings.uncertainty.max() < 4.0
    assert ratings.ratings.mean() == pytest.approx(1500.0)
    # the bootstrap over the sampling noise agrees with the delta method
    boot = meta.ratings("elo", uncertainty="bootstrap", bootstrap=100, seed=3)
    assert np.allclose(boot.ratings, ratings.ratings)
    assert np.allclose(boot.uncertainty, ratings.uncertainty, rtol=0.35)
    text = ratings.table()
    assert "Elo" in text and "pi4" in text.splitlines()[2]  # best first


def test_elo_with_a_dominant_agent_stays_finite_and_says_why():
    meta = _zero_sum_meta(
        [[0, 1, 1], [-1, 0, 0.2], [-1, -0.2, 0]], symmetric=True, payoff_range=[[-1, 1]] * 2
    )
    ratings = meta.ratings("elo")
    assert np.all(np.isfinite(ratings.ratings)) and ratings.ranking()[0] == 0
    assert "prior" in ratings.note
    with pytest.raises(UnsupportedGame, match="two-player"):
        MetaGame.from_payoffs(np.zeros((3, 1, 1, 1))).ratings("elo")
    with pytest.raises(ValueError, match="unknown rating method"):
        meta.ratings("glicko")


def test_elo_on_a_bipartite_meta_game_rates_both_seats():
    truth = np.array([1400.0, 1600.0, 1450.0, 1500.0, 1550.0])  # rows 0-1, columns 2-4
    diff = truth[:2, None] - truth[None, 2:]
    meta = _zero_sum_meta(2 * _logistic(diff / ELO_SCALE) - 1, payoff_range=[[-1, 1], [-1, 1]])
    ratings = meta.ratings("elo")
    assert ratings.names == ("P0:pi0", "P0:pi1", "P1:pi0", "P1:pi1", "P1:pi2")
    assert np.allclose(ratings.ratings, truth, atol=1e-6)


# ------------------------------------------------------------------------------------ Nash averaging


def test_nash_averaging_on_rps_is_uniform_with_equal_ratings():
    ratings = _zero_sum_meta(RPS, symmetric=True, names=[list("RPS")] * 2).ratings("nash")
    assert np.allclose(ratings.details["p"], 1 / 3, atol=1e-6)
    assert np.allclose(ratings.ratings, 0.0, atol=1e-6)


def test_nash_averaging_gives_a_dominated_agent_no_mass_and_ignores_copies():
    # R, P, S plus D: D loses to everyone (dominated)
    a = np.zeros((4, 4))
    a[:3, :3] = RPS
    a[3, :3], a[:3, 3] = -0.5, 0.5
    ratings = _zero_sum_meta(a, symmetric=True).ratings("nash")
    p = ratings.details["p"]
    assert p[3] == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(p[:3], 1 / 3, atol=1e-6)
    assert np.allclose(ratings.ratings[:3], 0.0, atol=1e-6) and ratings.ratings[3] == pytest.approx(
        -0.5, abs=1e-6
    )
    # a copy of R: R's mass splits between the copies, nobody's rating moves (invariance)
    b = np.zeros((5, 5))
    idx = [0, 1, 2, 3, 0]
    b[:, :] = a[np.ix_(idx, idx)]
    copied = _zero_sum_meta(b, symmetric=True).ratings("nash")
    assert np.allclose(copied.ratings, ratings.ratings[idx], atol=1e-6)
    assert copied.details["p"][0] == pytest.approx(copied.details["p"][4], abs=1e-6)
    assert copied.details["p"][[0, 4]].sum() == pytest.approx(1 / 3, abs=1e-6)


def test_nash_averaging_bipartite_uses_the_maxent_equilibria_of_both_seats():
    # matching pennies with a third, dominated row
    d = np.array([[1.0, -1.0], [-1.0, 1.0], [-2.0, -2.0]])
    ratings = _zero_sum_meta(d).ratings("nash")
    assert np.allclose(ratings.details["p"], [0.5, 0.5, 0.0], atol=1e-6)
    assert np.allclose(ratings.details["q"], [0.5, 0.5], atol=1e-6)
    assert ratings.details["value"] == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(ratings.ratings, [0.0, 0.0, -2.0, 0.0, 0.0], atol=1e-6)
    assert isinstance(ratings, Ratings) and ratings.to_dict()["method"] == "nash"


def test_rating_a_real_tournament(kuhn):
    cfr = gamesolve.solve(kuhn, "cfr+", iterations=200, progress=False).average_policy
    from gamesolve.tournament import tournament

    meta = tournament(kuhn, {"cfr+": cfr, "uniform": gamesolve.uniform_policy(kuhn)})
    for method in ("elo", "alpharank", "nash"):
        ratings = meta.ratings(method)
        assert ratings.names[ratings.ranking()[0]] == "cfr+", method
