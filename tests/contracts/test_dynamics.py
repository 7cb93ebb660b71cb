"""Contracts of the normal-form learning dynamics (gamesolve.solvers.dynamics) run through gamesolve.solve.

Known answers come from the rates and fixed points of the papers cited in gamesolve.solvers.dynamics;
the logit QREs (McKelvey & Palfrey 1995, "Quantal response equilibria for normal form games") were
derived here by a Newton solve, and the homotopy is cross-checked against Gambit's logit path
follower. All runs are deterministic (sampling methods carry their generator in the solver state),
so thresholds are measured values with a margin.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gamesolve
from gamesolve import UnsupportedGame
from gamesolve.games import normal_form as nf
from gamesolve.normal_form import MixedProfile, nash_conv, zero_sum
from gamesolve.solver import Iterate
from gamesolve.solvers.correlated import deviation_gains
from gamesolve.solvers.dynamics import (
    AcceleratedOptimisticGradient,
    ExtraGradient,
    FictitiousPlay,
    InternalRegret,
    LogitQRE,
    MagneticMirrorDescent,
    MirrorDescent,
    NashLossSGD,
    RegretMatching,
    Replicator,
    ne_loss,
    ne_loss_estimate,
    ne_loss_gradient,
    ne_loss_gradient_estimate,
    ne_loss_samples,
    project_simplex,
)

DYNAMICS = (
    "regret-matching",
    "rm+",
    "hedge",
    "omd",
    "ftrl",
    "omwu",
    "extragradient",
    "mirror-prox",
    "ogda",
    "aog",
    "mmd",
    "fictitious-play",
    "smooth-fp",
    "replicator",
    "projected-replicator",
    "qre",
    "ne-loss-sgd",
    "internal-regret",
)

BRPS_NE = np.array([1.0, 10.0, 5.0]) / 16.0

# Logit QREs (row maximizes, column minimizes), derived by a Newton solve to 1e-8.
AMP_QRE = {
    1.0: ((0.488674, 0.511326), (0.390938, 0.609062)),
    0.1: ((0.408727, 0.591273), (0.392615, 0.607385)),
}
BRPS_QRE = {1.0: (0.07264, 0.64210, 0.28526), 10.0: (0.21283, 0.60533, 0.18184)}


def _solve(game, solver, **kwargs):
    return gamesolve.solve(game, solver, progress=False, **kwargs)


def _gap(game, profile) -> float:
    return nash_conv(game, profile).nash_conv


def _brps50():
    return zero_sum(nf.brps().payoffs[0] / 50.0, name="brps_over_50")


def _zero_sum_polymatrix():
    """Three players, every edge a zero-sum game: a monotone game where no-regret dynamics converge."""
    rng = np.random.default_rng(0)
    edges = {}
    for edge in ((0, 1), (1, 2), (0, 2)):
        m = rng.uniform(-1.0, 1.0, size=(3, 3))
        edges[edge] = (m, -m)
    return nf.polymatrix([3, 3, 3], edges, name="zero_sum_polymatrix")


def _product(parts):
    joint = np.asarray(parts[0])
    for p in parts[1:]:
        joint = np.multiply.outer(joint, p)
    return joint


def _qre_residual(game, strategies, tau) -> float:
    return LogitQRE(temperature=tau).residual(game, strategies)


# ------------------------------------------------------------------------ every registered name


def test_every_dynamics_is_registered():
    names = {n for n, _ in gamesolve.available_solvers()}
    assert set(DYNAMICS) <= names


@pytest.mark.parametrize("name", DYNAMICS)
@pytest.mark.parametrize("game_name", ["amp", "brps", "zero_sum_polymatrix"])
def test_output_nash_conv_decreases(name, game_name):
    game = _zero_sum_polymatrix() if game_name == "zero_sum_polymatrix" else nf.load(game_name)
    iterations = 2000 if name == "omwu" else 1000  # OMWU's last iterate spirals in slowly on BRPS
    result = _solve(game, name, iterations=iterations)
    assert result.iterations == iterations
    assert result.history.iteration[0] == 0
    assert math.isfinite(result.nash_conv)
    assert result.nash_conv < result.history.nash_conv[0]
    assert result.nash_conv == pytest.approx(result.history.nash_conv[-1], abs=1e-12)
    if name != "internal-regret":
        assert result.nash_conv == pytest.approx(_gap(game, result.policy), abs=1e-12)


@pytest.mark.parametrize("name", DYNAMICS)
def test_rps_stays_near_its_equilibrium(name):
    # Uniform play is RPS's equilibrium and every method starts there; only FP moves away (ties).
    result = _solve(nf.rps(), name, iterations=500)
    assert result.nash_conv <= (0.1 if name == "fictitious-play" else 1e-12)


@pytest.mark.parametrize("name", DYNAMICS)
def test_runs_on_a_random_three_player_game(name):
    game = nf.random_uniform(np.random.default_rng(1), [3, 2, 3])
    result = _solve(game, name, iterations=200)
    assert math.isfinite(result.nash_conv) and result.nash_conv >= 0
    if name == "internal-regret":
        assert result.policy.shape == (3, 2, 3)
        assert result.policy.sum() == pytest.approx(1.0)
    else:
        assert [len(s) for s in result.policy] == [3, 2, 3]


# ------------------------------------------------------------------------------ regret matching


@pytest.mark.parametrize(
    ("options", "gap_bound"),
    [
        ({"plus": True, "averaging": 1.0}, 1e-2),  # RM+ with linear averaging (observed 6e-3)
        ({"plus": True, "predictive": True, "averaging": 2.0}, 1e-5),  # PRM+ quadratic (1e-6)
    ],
)
def test_rm_plus_on_brps_matrix_version(options, gap_bound):
    result = _solve(nf.brps(), RegretMatching(alternating=True, **options), iterations=2000)
    for strategy in result.average_policy:
        np.testing.assert_allclose(strategy, BRPS_NE, atol=0.01)
    assert result.nash_conv <= gap_bound


def test_regret_matching_play_is_an_approximate_cce():
    # External regret -> the empirical joint play is an eps-CCE with eps = max regret / T.
    for game in (nf.chicken(), nf.random_uniform(np.random.default_rng(2), [2, 3, 2])):
        solver = RegretMatching()
        state = solver.init(game, np.random.default_rng(0))
        joint = np.zeros(game.num_actions)
        rounds = 4000
        for _ in range(rounds):
            joint += _product(solver._split(game, state["x"]))  # the profile played this round
            solver.step(game, state, 1)
        gains = deviation_gains(game, joint / rounds, "cce")
        assert gains.max() <= 5e-3


# ---------------------------------------------------------------------------- FTRL / OMD family


def test_omwu_last_iterate_on_rps_returns_to_uniform():
    result = _solve(nf.rps(), "omwu", start=[[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], iterations=20_000)
    assert result.history.nash_conv[0] > 0.3
    for strategy in result.current_policy:
        np.testing.assert_allclose(strategy, np.full(3, 1 / 3), atol=1e-10)
    assert result.nash_conv < 1e-10


def test_omwu_last_iterate_on_amp():
    result = _solve(nf.amp(), "omwu", iterations=20_000)
    assert result.policy == result.current_policy
    for strategy in result.policy:
        np.testing.assert_allclose(strategy, [0.4, 0.6], atol=1e-10)
    assert result.nash_conv < 1e-10


def test_hedge_average_converges_but_last_iterate_does_not():
    result = _solve(nf.amp(), "hedge", iterations=5000)
    assert result.policy == result.average_policy
    assert result.nash_conv < 0.01
    assert _gap(nf.amp(), result.current_policy) > 10 * result.nash_conv


# ---------------------------------------------------------------------------------- mirror-prox


@pytest.mark.parametrize("game", [nf.amp(), _brps50()], ids=["amp", "brps_over_50"])
def test_mirror_prox_rates(game):
    iterations = 20_000
    eta = 0.5 / float(np.abs(game.payoffs).max())
    result = _solve(game, "mirror-prox", iterations=iterations)
    m, n = game.num_actions
    assert result.policy == result.average_policy  # ergodic average of the half-iterates
    assert result.nash_conv <= (math.log(m) + math.log(n)) / (eta * iterations)
    assert _gap(game, result.current_policy) < 1e-12


# ------------------------------------------------------------------------------------------ AOG


@pytest.mark.parametrize(
    ("game", "start"),
    [
        (nf.rps(), [[0.6, 0.2, 0.2], [1 / 3, 1 / 3, 1 / 3]]),  # off-equilibrium anchor
        (nf.amp(), None),
        (_brps50(), None),
    ],
    ids=["rps", "amp", "brps_over_50"],
)
def test_aog_last_iterate_gap_is_order_one_over_t(game, start):
    solver = AcceleratedOptimisticGradient(start=start)
    state = solver.init(game, np.random.default_rng(0))
    scaled = []
    for horizon in (100, 1000, 10_000):
        solver.step(game, state, horizon - int(state["t"]))
        scaled.append(horizon * _gap(game, solver.policy(game, state, Iterate.CURRENT)))
    # observed T * gap: RPS 1.38, 1.15, 1.15; AMP 1.90, 2.09, 2.09; BRPS/50 1.27, 1.49, 1.49
    assert max(scaled) <= 3.0
    assert scaled[-1] > 0.5  # Theta(1/T): the anchor keeps it from converging faster


# ------------------------------------------------------------------------------------------ MMD


def test_mmd_converges_linearly_to_the_brps_qre():
    brps = nf.brps()
    alpha, eta = 1.0, 1.0 / 50**2
    solver = MagneticMirrorDescent(alpha=alpha, eta=eta)
    state = solver.init(brps, np.random.default_rng(0))
    residuals = []
    chunk = 10_000
    for _ in range(4):
        solver.step(brps, state, chunk)
        residuals.append(_qre_residual(brps, solver.policy(brps, state, Iterate.CURRENT).strategies, alpha))
    # KL(x*, x_t) <= (1 + eta alpha)^-t KL(x*, x_0): per chunk the residual shrinks by about that
    contraction = (1.0 + eta * alpha) ** -chunk
    for before, after in itertools.pairwise(residuals):
        assert after <= 3.0 * contraction * before
    assert residuals[-1] < 1e-6
    final = solver.policy(brps, state, Iterate.CURRENT)
    for strategy in final:
        np.testing.assert_allclose(strategy, BRPS_QRE[1.0], atol=1e-5)


def test_mmd_one_step():
    rps = nf.rps()
    x, y = np.array([0.2, 0.2, 0.6]), np.array([0.5, 0.3, 0.2])
    alpha, eta = 0.5, 0.1
    solver = MagneticMirrorDescent(alpha=alpha, eta=eta, start=[x, y])
    state = solver.init(rps, np.random.default_rng(0))
    solver.step(rps, state, 1)
    got = solver.policy(rps, state, Iterate.CURRENT)
    a = rps.payoffs[0]
    expected_x = (x * np.exp(eta * (a @ y))) ** (1.0 / (1.0 + eta * alpha))
    expected_y = (y * np.exp(-eta * (a.T @ x))) ** (1.0 / (1.0 + eta * alpha))
    np.testing.assert_allclose(got[0], expected_x / expected_x.sum(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(got[1], expected_y / expected_y.sum(), rtol=0, atol=1e-15)


@pytest.mark.parametrize("alpha", [0.01, 0.3, 2.0])
def test_rps_uniform_is_an_mmd_fixed_point(alpha):
    result = _solve(nf.rps(), "mmd", alpha=alpha, iterations=50)
    for strategy in result.policy:
        np.testing.assert_array_equal(strategy, np.full(3, 1 / 3))
    assert result.nash_conv == 0.0


# -------------------------------------------------------------------- FP, smooth FP, replicator


def test_fictitious_play_on_amp():
    result = _solve(nf.amp(), "fictitious-play", iterations=10_000, eval_every=1000)
    assert result.nash_conv < 0.03  # observed 0.017
    for strategy in result.policy:
        np.testing.assert_allclose(strategy, [0.4, 0.6], atol=0.02)


@pytest.mark.parametrize(("tau", "tolerance"), [(1.0, 1e-4), (0.1, 2e-3)])
def test_smooth_fictitious_play_reaches_the_amp_qre(tau, tolerance):
    result = _solve(nf.amp(), "smooth-fp", temperature=tau, iterations=10_000)
    (x, y) = AMP_QRE[tau]
    np.testing.assert_allclose(result.policy[0], x, atol=tolerance)
    np.testing.assert_allclose(result.policy[1], y, atol=tolerance)


def test_replicator_time_average_on_rps():
    rps = nf.rps()
    start = [[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]
    result = _solve(rps, Replicator(dt=0.01, start=start), iterations=20_000)
    assert result.policy == result.average_policy
    assert result.nash_conv < 0.03  # observed 0.010
    # The orbit cycles around the equilibrium: the last iterate is no solution.
    assert _gap(rps, result.current_policy) > 0.3


def test_projected_replicator_respects_its_floor():
    game = nf.prisoners_dilemma()  # cooperation is strictly dominated and dies out
    gamma = 0.01
    solver = Replicator(dt=0.1, projected=True, gamma=gamma)
    state = solver.init(game, np.random.default_rng(0))
    lowest = 1.0
    for _ in range(40):
        solver.step(game, state, 50)
        lowest = min(lowest, float(state["x"].min()))
    assert lowest == pytest.approx(gamma, abs=1e-12)
    assert np.all(state["x"] >= gamma - 1e-15)
    for strategy in solver.policy(game, state, Iterate.CURRENT):
        assert strategy.sum() == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------------------------- logit QRE


@pytest.mark.parametrize(
    ("method", "tau"),
    [("prox", 1.0), ("prox", 0.1), ("homotopy", 1.0), ("homotopy", 0.1), ("fixed-point", 1.0)],
)
def test_qre_on_amp(method, tau):
    result = _solve(nf.amp(), "qre", temperature=tau, method=method, iterations=2000)
    x, y = AMP_QRE[tau]
    np.testing.assert_allclose(result.policy[0], x, atol=1e-5)
    np.testing.assert_allclose(result.policy[1], y, atol=1e-5)
    assert _qre_residual(nf.amp(), result.policy.strategies, tau) < 1e-12
    # NE-exploitability of the QRE is at most tau * sum_i ln m_i
    assert result.nash_conv <= tau * 2 * math.log(2)


@pytest.mark.parametrize("method", ["prox", "homotopy", "fixed-point"])
@pytest.mark.parametrize("tau", [1.0, 10.0])
def test_qre_on_brps(method, tau):
    iterations = {"prox": 4000, "homotopy": 200, "fixed-point": 8000}[method]
    result = _solve(nf.brps(), "qre", temperature=tau, method=method, iterations=iterations)
    for strategy in result.policy:
        np.testing.assert_allclose(strategy, BRPS_QRE[tau], atol=1e-5)
    assert _qre_residual(nf.brps(), result.policy.strategies, tau) < 1e-11


def test_damped_fixed_point_converges_at_low_temperature_on_amp():
    # The damping is halved whenever the residual stalls, so even the rotating case converges.
    result = _solve(nf.amp(), "qre", temperature=0.1, method="fixed-point", iterations=12_000)
    np.testing.assert_allclose(result.policy[0], AMP_QRE[0.1][0], atol=1e-5)


def test_qre_prox_converges_linearly():
    amp = nf.amp()
    solver = LogitQRE(temperature=0.1, method="prox")
    state = solver.init(amp, np.random.default_rng(0))
    residuals = []
    for _ in range(4):
        solver.step(amp, state, 50)
        residuals.append(float(state["residual"]))
    # (1 - eta tau)^50 with eta = 1 / (tau + 2 * 1.5): about 0.2 per 50 steps
    for before, after in itertools.pairwise(residuals):
        assert after <= 0.3 * before


def _gambit_qre(game, tau):
    pygambit = pytest.importorskip("pygambit")
    oracle = pygambit.StrategicGame.from_arrays(*[np.asarray(p) for p in game.payoffs])
    profile = pygambit.qre.logit_solve_lambda(oracle, lam=[1.0 / tau])[0].profile
    return [np.array([float(v) for _, v in profile[p]]) for p in oracle.players]


@pytest.mark.parametrize(
    ("shape", "seed", "tau"),
    [([4, 4], 3, 0.01), ([3, 3, 3], 4, 0.005), ([2, 5], 5, 0.002), ([2, 2, 2, 2], 6, 0.01)],
)
def test_qre_homotopy_follows_the_principal_branch_like_gambit(shape, seed, tau):
    game = nf.random_uniform(np.random.default_rng(seed), shape)
    result = _solve(game, "qre", temperature=tau, iterations=300)  # general-sum: homotopy
    assert _qre_residual(game, result.policy.strategies, tau) < 1e-10
    for ours, theirs in zip(result.policy, _gambit_qre(game, tau), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-8)


@pytest.mark.parametrize("seed", [8, 70])
def test_qre_homotopy_passes_turning_points(seed):
    # On these games the principal branch folds back in lambda before reaching the target.
    game = nf.random_uniform(np.random.default_rng(seed), [2, 2, 2])
    solver = LogitQRE(temperature=0.01, method="homotopy")
    state = solver.init(game, np.random.default_rng(0))
    lams = [0.0]
    while not int(state["done"]):
        solver.step(game, state, 1)
        lams.append(float(state["lam"]))
        assert len(lams) < 300
    assert any(b < a for a, b in itertools.pairwise(lams)), "expected a fold on this game"
    profile = solver.policy(game, state, Iterate.CURRENT)
    assert solver.residual(game, profile) < 1e-12
    for ours, theirs in zip(profile, _gambit_qre(game, 0.01), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-8)


def test_qre_homotopy_keeps_the_symmetric_branch_and_handles_single_action_players():
    chicken = nf.chicken()
    result = _solve(chicken, "qre", temperature=0.07, iterations=100)
    np.testing.assert_allclose(result.policy[0], result.policy[1], atol=1e-12)
    assert _qre_residual(chicken, result.policy.strategies, 0.07) < 1e-12
    lone = nf.random_uniform(np.random.default_rng(9), [3, 1, 2])
    result = _solve(lone, "qre", temperature=0.05, iterations=100)
    assert _qre_residual(lone, result.policy.strategies, 0.05) < 1e-12


# -------------------------------------------------------------------------------------- NE loss


def test_ne_loss_at_the_amp_qres_and_at_uniform():
    amp = nf.amp()
    for tau, (x, y) in AMP_QRE.items():
        assert ne_loss(amp, [np.array(x), np.array(y)], tau) < 1e-10  # six-digit inputs
        exact = _solve(amp, "qre", temperature=tau, method="homotopy", iterations=50).policy
        assert ne_loss(amp, exact, tau) < 1e-25
    for tau in (0.0, 0.05, 0.5, 1.0, 7.0):
        assert ne_loss(amp, MixedProfile.uniform(amp), tau) == pytest.approx(0.25, abs=1e-15)


def test_ne_loss_estimator_is_unbiased():
    amp = nf.amp()
    x = [np.array([0.3, 0.7]), np.array([0.8, 0.2])]
    exact = ne_loss(amp, x, 0.5)
    assert exact == pytest.approx(2.95569, abs=5e-6)
    draws = ne_loss_samples(amp, x, 0.5, 200_000, rng=np.random.default_rng(0))
    mean = float(draws.mean())
    stderr = float(draws.std(ddof=1)) / math.sqrt(draws.size)
    assert stderr == pytest.approx(0.011, abs=0.002)  # Gemp et al. 2024's estimator: 2.957 +- 0.011
    assert abs(mean - exact) <= 4.0 * stderr
    one = ne_loss_estimate(amp, x, 0.5, rng=np.random.default_rng(1))
    assert math.isfinite(one)


def _directional_check(game, strategies, tau):
    rng = np.random.default_rng(0)
    grads = ne_loss_gradient(game, strategies, tau)
    h = 1e-6
    for _ in range(6):
        direction = [rng.normal(size=s.shape) for s in strategies]
        direction = [d - d.mean() for d in direction]  # tangent: stays on the simplex
        plus = [s + h * d for s, d in zip(strategies, direction, strict=True)]
        minus = [s - h * d for s, d in zip(strategies, direction, strict=True)]
        numeric = (ne_loss(game, plus, tau) - ne_loss(game, minus, tau)) / (2 * h)
        analytic = sum(float(g @ d) for g, d in zip(grads, direction, strict=True))
        assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-7)


def test_ne_loss_gradient_matches_finite_differences():
    _directional_check(nf.amp(), [np.array([0.3, 0.7]), np.array([0.8, 0.2])], 0.5)
    _directional_check(nf.brps(), [np.array([0.2, 0.5, 0.3]), np.array([0.1, 0.3, 0.6])], 2.0)
    game = nf.random_uniform(np.random.default_rng(4), [3, 2, 4])
    strategies = [np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.4]), np.array([0.1, 0.2, 0.3, 0.4])]
    _directional_check(game, strategies, 0.1)


@pytest.mark.parametrize("shape", [[3, 3], [3, 2, 4]])
def test_ne_loss_gradient_estimate_is_unbiased(shape):
    game = nf.random_uniform(np.random.default_rng(4), shape)
    rng = np.random.default_rng(5)
    strategies = [rng.dirichlet(np.ones(m)) for m in shape]
    exact = np.concatenate(ne_loss_gradient(game, strategies, 0.2))
    pairs = 200_000
    estimate = np.concatenate(ne_loss_gradient_estimate(game, strategies, 0.2, pairs, rng=rng))
    # per-pair spread is O(payoff scale / x_min); 4 standard errors with a generous spread bound
    spread = 4.0 * (1.0 + 0.2 / min(float(s.min()) for s in strategies))
    np.testing.assert_allclose(estimate, exact, atol=4.0 * spread / math.sqrt(pairs))


@pytest.mark.parametrize("game", [nf.amp(), nf.brps()], ids=["amp", "brps"])
def test_exact_ne_loss_descent_is_monotone_and_reaches_the_qre(game):
    tau = 0.05
    solver = NashLossSGD(temperature=tau)
    state = solver.init(game, np.random.default_rng(0))
    losses = [float(state["loss"])]
    for _ in range(300):
        solver.step(game, state, 1)
        losses.append(float(state["loss"]))
        assert losses[-1] == pytest.approx(ne_loss(game, solver._split(game, state["x"]), tau), rel=1e-12)
    assert all(b <= a for a, b in itertools.pairwise(losses))
    assert losses[-1] < 1e-20 * max(1.0, losses[0])
    reference = _solve(game, "qre", temperature=tau, method="homotopy", iterations=200).policy
    for ours, theirs in zip(solver.policy(game, state, Iterate.CURRENT), reference, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_sampled_ne_loss_sgd_makes_progress_and_is_reproducible():
    amp = nf.amp()
    first = _solve(amp, "ne-loss-sgd", samples=4, iterations=2000, seed=3)
    again = _solve(amp, "ne-loss-sgd", samples=4, iterations=2000, seed=3, eval_every=7)
    assert first.policy == again.policy  # independent of how the run loop chunks the steps
    assert ne_loss(amp, first.policy, 0.05) < 0.01 * ne_loss(amp, MixedProfile.uniform(amp), 0.05)
    assert first.nash_conv < 0.1


def test_sampled_runs_resume_to_the_same_numbers(tmp_path):
    game = nf.random_uniform(np.random.default_rng(2), [3, 3])
    for solver in ("ne-loss-sgd", "internal-regret"):
        options = {"samples": 2} if solver == "ne-loss-sgd" else {"sampled": True}
        straight = _solve(game, solver, iterations=400, seed=5, **options)
        path = tmp_path / f"{solver}.npz"
        _solve(game, solver, iterations=200, seed=5, checkpoint=path, **options)
        resumed = _solve(game, solver, iterations=400, seed=5, resume=path, **options)
        if solver == "ne-loss-sgd":
            assert straight.policy == resumed.policy
        else:
            np.testing.assert_array_equal(straight.policy, resumed.policy)
        assert straight.nash_conv == resumed.nash_conv


# ------------------------------------------------------------------------ correlated equilibria


def test_internal_regret_play_on_chicken_is_an_approximate_ce():
    # Expected (mixed) play has no sampling noise: the CE gap is 1.3e-4 after 1e4 rounds and
    # 1.3e-5 after 1e5, so 2e4 rounds already land far inside a 0.02 tolerance (Hart & Mas-Colell
    # 2000, "A simple adaptive procedure leading to correlated equilibrium").
    chicken = nf.chicken()
    result = _solve(chicken, "internal-regret", iterations=20_000)
    z = result.policy
    assert z.shape == (2, 2) and z.sum() == pytest.approx(1.0)
    gains = deviation_gains(chicken, z, "ce")
    assert gains.max() <= 0.02
    # the run loop reports the CE gap through the solver's evaluate/report hooks
    assert result.nash_conv == pytest.approx(float(np.maximum(gains, 0).sum()), abs=1e-15)
    assert result.exploitability == pytest.approx(result.nash_conv / 2)
    assert result.history.exploitability[-1] == pytest.approx(result.exploitability)
    values = [float((chicken.payoffs[i] * z).sum()) for i in range(2)]
    np.testing.assert_allclose(result.value, values, atol=1e-12)


@pytest.mark.parametrize("game", [nf.chicken(), nf.random_uniform(np.random.default_rng(5), [3, 3])])
def test_hart_mas_colell_sampled_play_is_an_approximate_ce(game):
    result = _solve(game, "internal-regret", sampled=True, iterations=20_000, seed=1)
    z = result.policy
    assert z.sum() == pytest.approx(1.0) and np.all(z >= 0)
    assert deviation_gains(game, z, "ce").max() <= 0.02


def test_internal_regret_reaches_a_correlated_not_just_coarse_equilibrium():
    # The expected swap regret drives every CE constraint down in a 3-player game as well.
    game = nf.random_uniform(np.random.default_rng(7), [2, 3, 2])
    result = _solve(game, InternalRegret(), iterations=5000)
    assert deviation_gains(game, result.policy, "ce").max() <= 2e-3


# ---------------------------------------------------------------------------- door checks


@pytest.mark.parametrize(
    ("factory", "kwargs", "argument"),
    [
        (RegretMatching, {"averaging": -1}, "averaging"),
        (MirrorDescent, {"eta": 0.0}, "eta"),
        (MirrorDescent, {"geometry": "hyperbolic"}, "geometry"),
        (MirrorDescent, {"output": "best"}, "output"),
        (MirrorDescent, {"schedule": "cosine"}, "schedule"),
        (MirrorDescent, {"start": [[0.5, 0.6], [1.0, 0.0]]}, "start"),
        (ExtraGradient, {"eta": -1.0}, "eta"),
        (AcceleratedOptimisticGradient, {"eta": float("nan")}, "eta"),
        (MagneticMirrorDescent, {"alpha": 0.0}, "alpha"),
        (MagneticMirrorDescent, {"magnet_rate": 1.5}, "magnet_rate"),
        (FictitiousPlay, {"temperature": -0.1}, "temperature"),
        (Replicator, {"dt": 0.0}, "dt"),
        (Replicator, {"gamma": 1.0}, "gamma"),
        (LogitQRE, {"temperature": 0.0}, "temperature"),
        (LogitQRE, {"method": "newton"}, "method"),
        (LogitQRE, {"damping": 0.0}, "damping"),
        (LogitQRE, {"temperature": 0.5, "eta": 3.0}, "eta"),
        (NashLossSGD, {"lr": 0.0}, "lr"),
        (NashLossSGD, {"samples": 0}, "samples"),
        (NashLossSGD, {"temperature": "warm"}, "temperature"),
        (InternalRegret, {"inertia": -2.0}, "inertia"),
        (InternalRegret, {"sampled": True, "plus": True}, "sampled"),
    ],
)
def test_bad_arguments_name_the_argument(factory, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        factory(**kwargs)


def test_bad_options_through_the_registry_and_start_of_the_wrong_shape():
    with pytest.raises(ValueError, match="eta"):
        _solve(nf.amp(), "omwu", eta=-1.0, iterations=1)
    with pytest.raises(ValueError, match="start"):
        _solve(nf.amp(), "aog", start=[[0.2, 0.3, 0.5], [0.5, 0.5]], iterations=1)
    with pytest.raises(ValueError, match="samples"):
        ne_loss_samples(nf.amp(), MixedProfile.uniform(nf.amp()), 0.1, 0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="temperature"):
        ne_loss(nf.amp(), MixedProfile.uniform(nf.amp()), -1.0)


def test_zero_sum_only_method_refuses_a_general_sum_game():
    with pytest.raises(UnsupportedGame, match="zero-sum"):
        _solve(nf.chicken(), "qre", method="prox", iterations=10)
    # "auto" picks the homotopy there instead
    assert _solve(nf.chicken(), "qre", iterations=50).nash_conv >= 0


@pytest.mark.parametrize("name", ["hedge", "qre", "internal-regret"])
def test_extensive_form_games_are_refused(kuhn, name):
    with pytest.raises(UnsupportedGame, match="normal-form"):
        _solve(kuhn, name, iterations=1)


def test_project_simplex():
    np.testing.assert_allclose(project_simplex(np.array([0.5, 0.5, 0.5])), np.full(3, 1 / 3))
    np.testing.assert_allclose(project_simplex(np.array([2.0, 0.0, -1.0])), [1.0, 0.0, 0.0])
