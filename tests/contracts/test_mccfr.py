"""Monte Carlo CFR (external and outcome sampling): convergence, reproducibility, resume, twins."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import gamesolve
from gamesolve.kernels.mccfr import (
    draw_uniform,
    draw_uniform_py,
    external_sampling_iterations,
    external_sampling_numpy,
    outcome_sampling_iterations,
    outcome_sampling_numpy,
    stream_seed,
    stream_seed_py,
)
from gamesolve.solvers.cfr import CFR
from gamesolve.solvers.mccfr import ExternalSamplingMCCFR, OutcomeSamplingMCCFR

SOLVERS = ["mccfr-es", "mccfr-os"]


def _make(name):
    return ExternalSamplingMCCFR() if name == "mccfr-es" else OutcomeSamplingMCCFR()


# ------------------------------------------------------------------------------------ convergence


def test_external_sampling_converges_on_kuhn(kuhn):
    result = gamesolve.solve(kuhn, "mccfr-es", iterations=20_000, seed=0, progress=False)
    assert result.iterations == 20_000
    assert result.nash_conv < 0.05
    assert result.history.nash_conv[0] == pytest.approx(11 / 12)  # uniform at iteration 0


def test_outcome_sampling_converges_on_kuhn(kuhn):
    result = gamesolve.solve(kuhn, "mccfr-os", iterations=100_000, seed=0, progress=False)
    assert result.iterations == 100_000
    assert result.nash_conv < 0.25
    assert result.config == {"epsilon": 0.6}


@pytest.mark.parametrize("name", SOLVERS)
def test_three_player_kuhn_nash_conv_decreases(kuhn3, name):
    iterations = 4000 if name == "mccfr-es" else 20_000
    result = gamesolve.solve(
        kuhn3, name, iterations=iterations, seed=1, eval_every=iterations // 4, progress=False
    )
    history = result.history.nash_conv
    assert history[0] == pytest.approx(2.0625)  # uniform profile
    assert history[-1] < 0.25 * history[0]
    assert result.nash_conv == pytest.approx(history[-1])


# ------------------------------------------------------------------------ unbiased regret estimates


@pytest.mark.parametrize("name", SOLVERS)
def test_first_iteration_regrets_are_unbiased(kuhn, name):
    """Averaged over keys, player 0's sampled regrets after one iteration equal CFR's exactly."""
    g = kuhn.compile()
    cfr = CFR("cfr")
    state = cfr.init(g, np.random.default_rng(0))
    cfr.step(g, state, 1)
    rows = g.infoset_player == 0
    exact = state["regrets"][rows]

    solver = _make(name)
    template = solver.init(g, np.random.default_rng(0))
    samples = []
    for key in range(20_000):
        trial = {k: v.copy() for k, v in template.items()}
        trial["key"] = np.asarray(key * 7919 + 13, dtype=np.uint64)
        solver.step(g, trial, 1)
        samples.append(trial["regrets"][rows])
    stack = np.stack(samples)
    mean = stack.mean(axis=0)
    stderr = stack.std(axis=0) / np.sqrt(stack.shape[0])
    assert np.all(np.abs(mean - exact) <= 5 * stderr + 1e-12), (mean, exact)


# ---------------------------------------------------------------------------------- reproducible


@pytest.mark.parametrize("name", SOLVERS)
def test_same_seed_same_policy_different_seed_different(kuhn, name):
    def run(seed):
        return gamesolve.solve(kuhn, name, iterations=2000, seed=seed, progress=False)

    a, b, c = run(5), run(5), run(6)
    assert np.array_equal(a.average_policy.probs, b.average_policy.probs)
    assert np.array_equal(a.current_policy.probs, b.current_policy.probs)
    assert not np.array_equal(a.average_policy.probs, c.average_policy.probs)


@pytest.mark.parametrize("name", SOLVERS)
def test_split_into_calls_does_not_change_results(leduc, name):
    g = leduc.compile()
    solver = _make(name)
    one = solver.init(g, np.random.default_rng(3))
    many = {k: v.copy() for k, v in one.items()}
    solver.step(g, one, 30)
    for chunk in (1, 2, 7, 20):
        solver.step(g, many, chunk)
    assert int(one["t"]) == int(many["t"]) == 30
    assert np.array_equal(one["regrets"], many["regrets"])
    assert np.array_equal(one["avg"], many["avg"])


@pytest.mark.parametrize("name", SOLVERS)
def test_resume_from_mid_run_checkpoint_is_bit_identical(kuhn, name, tmp_path):
    total, every = 3000, 1000
    path = tmp_path / "run.npz"
    snapshot = tmp_path / "at_1000.npz"

    def keep_first(iteration, _expl):
        if iteration == every:
            shutil.copy(path, snapshot)

    full = gamesolve.solve(
        kuhn,
        name,
        iterations=total,
        seed=11,
        checkpoint=path,
        checkpoint_every=every,
        callback=keep_first,
        progress=False,
    )
    with np.load(snapshot) as data:
        assert set(data.files) == {"__meta__", "t", "key", "regrets", "avg"}
        assert int(data["t"]) == every
        assert data["key"].dtype == np.uint64 and data["key"].shape == ()
    resumed = gamesolve.solve(kuhn, name, iterations=total, seed=11, resume=snapshot, progress=False)
    plain = gamesolve.solve(kuhn, name, iterations=total, seed=11, progress=False)
    assert resumed.iterations == full.iterations == total
    for other in (resumed, plain):
        assert np.array_equal(other.average_policy.probs, full.average_policy.probs)
        assert np.array_equal(other.current_policy.probs, full.current_policy.probs)
        assert other.nash_conv == full.nash_conv


# -------------------------------------------------------------------------------- kernel vs twin


def test_hash_python_version_matches_kernel():
    rng = np.random.default_rng(0)
    for _ in range(200):
        key = int(rng.integers(0, 2**63))
        t, player, node, draw = (int(x) for x in rng.integers(0, 10**6, size=4))
        seed = np.uint64(stream_seed(np.uint64(key), t, player % 5))
        assert int(seed) == stream_seed_py(key, t, player % 5)
        assert draw_uniform(seed, node, draw) == draw_uniform_py(int(seed), node, draw)
    seed1 = np.uint64(stream_seed(np.uint64(1), 1, 0))
    values = np.array([draw_uniform(seed1, n, 0) for n in range(20_000)])
    assert values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.01
    assert np.histogram(values, bins=10, range=(0, 1))[0].min() > 1800


def _kernel_step(g, name, state, t_first, count):
    from gamesolve.solvers.mccfr import _es_scratch, _os_scratch

    (_es_scratch if name == "mccfr-es" else _os_scratch)(g, state)
    common = (
        g.tree,
        state["_node_terminal"],
        np.uint64(state["key"]),
        t_first,
        count,
    )
    if name == "mccfr-es":
        external_sampling_iterations(
            *common,
            state["regrets"],
            state["avg"],
            state["_frame_node"],
            state["_frame_next"],
            state["_frame_policy"],
            state["_frame_values"],
        )
    else:
        outcome_sampling_iterations(
            *common,
            0.6,
            state["regrets"],
            state["avg"],
            state["_path_infoset"],
            state["_path_slot"],
            state["_path_q"],
            state["_path_own"],
            state["_path_opp"],
            state["_path_sample"],
            state["_path_policy"],
        )


def _twin_step(g, name, key, regrets, avg, t_first, count):
    common = (
        g.tree,
        key,
        t_first,
        count,
    )
    if name == "mccfr-es":
        external_sampling_numpy(*common, regrets, avg)
    else:
        outcome_sampling_numpy(*common, 0.6, regrets, avg)


@pytest.mark.parametrize("game_name", ["kuhn_poker", "kuhn_poker(players=3)", "leduc_poker"])
@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("warmup", [0, 300])
def test_kernel_matches_numpy_twin(game_loader, game_name, name, warmup):
    g = game_loader(game_name).compile()
    solver = _make(name)
    state = solver.init(g, np.random.default_rng(17))
    if warmup:
        _kernel_step(g, name, state, 1, warmup)  # non-uniform strategies for the compared steps
    regrets = state["regrets"].copy()
    avg = state["avg"].copy()
    _kernel_step(g, name, state, warmup + 1, 5)
    _twin_step(g, name, int(state["key"]), regrets, avg, warmup + 1, 5)
    assert np.any(state["regrets"] != 0.0)
    np.testing.assert_allclose(state["regrets"], regrets, rtol=0, atol=1e-12)
    np.testing.assert_allclose(state["avg"], avg, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------- interface


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.0000001, 2, float("nan"), float("inf"), "x", None, True])
def test_bad_epsilon_raises(bad):
    with pytest.raises(ValueError, match="epsilon"):
        OutcomeSamplingMCCFR(epsilon=bad)


def test_bad_epsilon_through_registry_and_solve(kuhn):
    with pytest.raises(ValueError, match="epsilon"):
        gamesolve.make_solver("mccfr-os", epsilon=0)
    with pytest.raises(ValueError, match="epsilon"):
        gamesolve.solve(kuhn, "mccfr-os", iterations=1, epsilon=1.5, progress=False)
    assert OutcomeSamplingMCCFR(epsilon=1).config() == {"epsilon": 1.0}
    assert gamesolve.make_solver("mccfr-os", epsilon=0.3).epsilon == 0.3


def test_state_and_policies(kuhn):
    g = kuhn.compile()
    solver = ExternalSamplingMCCFR()
    assert solver.name == "mccfr-es" and solver.config() == {}
    assert solver.output is gamesolve.Iterate.AVERAGE
    state = solver.init(g, np.random.default_rng(0))
    assert set(state) == {"t", "key", "regrets", "avg"}
    assert state["regrets"].shape == state["avg"].shape == (g.num_infosets, g.max_actions)
    uniform = gamesolve.uniform_policy(g).probs
    for which in gamesolve.Iterate:
        assert np.allclose(solver.policy(g, state, which).probs, uniform)
    solver.step(g, state, 50)
    assert int(state["t"]) == 50
    for which in gamesolve.Iterate:
        probs = solver.policy(g, state, which).probs
        assert np.allclose(probs.sum(axis=1), 1.0)
        assert np.all(probs[~g.legal_mask] == 0.0)
