"""NeuPL (Liu et al. 2022): interaction graphs, tabular NeuPL = PSRO, the torch conditional policy.

Known answers: with exact best responses and the PSRO-N graph, NeuPL follows PSRO (Liu et al.
2022, "NeuPL: Neural population learning", Section 3), so tabular NeuPL on rock-paper-scissors from
{Rock} builds {Rock, Paper, Scissors} in two iterations with the uniform meta-Nash (exploitability
0), as PSRO (double oracle) does. Kuhn's uniform profile has exploitability 11/24 (NashConv 11/12,
OpenSpiel's exploitability_test).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from typing import Any

import numpy as np
import pytest

import gamesolve
from gamesolve.errors import CheckpointError, UnsupportedGame
from gamesolve.evaluation import expected_values
from gamesolve.solvers.neupl import (
    NeuPL,
    cycle_graph,
    fictitious_play_graph,
    interaction_graph,
    meta_nash,
    psro_n_graph,
    self_play_graph,
)

RPS_U = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])  # rock, paper, scissors
KUHN_UNIFORM_EXPLOITABILITY = 11.0 / 24.0
HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="the conditional network needs torch")


@pytest.fixture(scope="module")
def kuhn():
    return gamesolve.as_compiled(gamesolve.load_game("kuhn"))


@pytest.fixture(scope="module")
def rps():
    return gamesolve.load_game("rps")


# ------------------------------------------------------------------------------ graphs


def test_interaction_graph_constructors():
    third, half = 1.0 / 3.0, 0.5
    np.testing.assert_array_equal(self_play_graph(3), np.full((3, 3), third))
    np.testing.assert_array_equal(self_play_graph(1), [[1.0]])
    np.testing.assert_array_equal(
        fictitious_play_graph(3), [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [half, half, 0.0]]
    )
    np.testing.assert_array_equal(cycle_graph(3), [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    # PSRO-N on rock, paper, scissors: paper answers Nash({rock}), scissors answers Nash({rock, paper})
    np.testing.assert_allclose(
        psro_n_graph(RPS_U), [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], atol=1e-9
    )
    np.testing.assert_allclose(meta_nash(RPS_U), [third] * 3, atol=1e-9)
    # zero padding up to N_max, and the dispatcher F
    padded = fictitious_play_graph(2, 4)
    assert padded.shape == (4, 4) and padded.sum() == 1.0 and padded[1, 0] == 1.0
    np.testing.assert_allclose(interaction_graph("psro-n", RPS_U, 5)[:3, :3], psro_n_graph(RPS_U))
    np.testing.assert_array_equal(interaction_graph("fsp", RPS_U), fictitious_play_graph(3))
    np.testing.assert_array_equal(interaction_graph("self-play", RPS_U[:2, :2]), self_play_graph(2))
    np.testing.assert_array_equal(interaction_graph("cycle", RPS_U), cycle_graph(3))
    # every trained row is a distribution over earlier policies (lower-triangular)
    random_u = np.random.default_rng(0).normal(size=(6, 6))
    graph = psro_n_graph(random_u - random_u.T)
    np.testing.assert_allclose(graph[1:].sum(axis=1), 1.0, atol=1e-9)
    assert np.all(np.triu(graph) == 0.0) and np.all(graph >= -1e-12)


def test_interaction_graph_bad_input():
    with pytest.raises(ValueError, match="unknown interaction graph"):
        interaction_graph("league", RPS_U)
    with pytest.raises(ValueError, match="square"):
        psro_n_graph(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n_max"):
        fictitious_play_graph(4, 2)
    with pytest.raises(ValueError, match=">= 1"):
        self_play_graph(0)


# ------------------------------------------------------------------- tabular NeuPL = PSRO


def test_tabular_rps_reproduces_psro(rps):
    solver = NeuPL(policy="tabular", initial="first", max_population=3)
    result = gamesolve.solve(rps, solver, iterations=2, progress=False)
    members = [np.asarray(m) for m in result.extras["members"]]
    np.testing.assert_array_equal(members, np.eye(3))  # {R, P, S}: rock, then BR(R), then BR(P)
    np.testing.assert_allclose(result.extras["meta_strategy"], [1 / 3] * 3, atol=1e-9)
    np.testing.assert_allclose(result.policy.strategies[0], [1 / 3] * 3, atol=1e-9)
    assert result.exploitability == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(result.history.exploitability, [1.0, 1.0, 0.0], atol=1e-12)
    assert result.extras["joined"] == [0, 0, 1]  # the population grew after the first iteration
    np.testing.assert_allclose(result.extras["payoffs"], RPS_U, atol=1e-12)
    meta = result.meta_game  # a MetaGame [2, 3, 3] (or its fields before gamesolve.population exists)
    payoffs = np.asarray(meta["payoffs"] if isinstance(meta, dict) else meta.payoffs)
    np.testing.assert_allclose(payoffs, np.stack([RPS_U, -RPS_U]), atol=1e-12)
    if hasattr(result.population, "sizes"):
        assert result.population.sizes == (3, 3)  # one symmetric population, seen from both seats
    if importlib.util.find_spec("gamesolve.solvers.psro") is not None:
        from gamesolve.solvers.psro import PSRO

        psro = gamesolve.solve(rps, PSRO(oracle="exact", meta_solver="nash", initial="first"), iterations=2)
        population = psro.extras["population"]
        for player_population in getattr(population, "members", population):
            np.testing.assert_array_equal([np.asarray(m) for m in player_population], members)
        assert psro.exploitability == pytest.approx(result.exploitability, abs=1e-12)


def test_tabular_kuhn_reaches_an_exact_equilibrium(kuhn):
    """PSRO-N with exact best responses terminates like double oracle: exploitability 0."""
    solver = NeuPL(policy="tabular", max_population=12)
    result = gamesolve.solve(kuhn, solver, iterations=11, progress=False)
    history = np.asarray(result.history.exploitability)
    assert history[0] == pytest.approx(KUHN_UNIFORM_EXPLOITABILITY, abs=1e-12)  # {uniform, uniform}
    assert result.exploitability < 1e-9 and history[-1] < 1e-9
    assert result.extras["population_size"] == 12
    assert result.extras["joined"] == [0, 0, *range(1, 11)]  # an exact BR triggers growth at once
    assert isinstance(result.policy, gamesolve.TabularPolicy)
    assert result.value[0] == pytest.approx(-1.0 / 18.0, abs=1e-9)  # the Nash mixture's value
    # every member is a pure behavior profile over both seats' infosets
    for member in result.extras["members"][1:]:
        assert set(np.unique(member.probs)) <= {0.0, 1.0}


# ------------------------------------------------------------------ the torch network


@needs_torch
def test_network_exact_training_lowers_exploitability_on_kuhn(kuhn):
    solver = NeuPL(max_population=10)
    result = gamesolve.solve(kuhn, solver, iterations=25, seed=0, progress=False)
    history = np.asarray(result.history.exploitability)
    assert len(history) == 26  # evaluated at every iteration
    assert history[0] > 0.3
    assert history[-5:].min() < 0.1 and result.exploitability < 0.15
    assert result.extras["population_size"] >= 5  # the population grew
    joined = result.extras["joined"]
    assert joined == sorted(joined) and len(set(joined[2:])) == len(joined) - 2
    # members are different policies produced by one network, conditioned on their rows of Sigma
    probs = np.stack([m.probs for m in result.extras["members"]])
    distinct = {tuple(np.round(p.ravel(), 2)) for p in probs}
    assert len(distinct) >= 4
    np.testing.assert_allclose(probs[0], gamesolve.uniform_policy(kuhn).probs, atol=1e-6)  # sigma = 0


@needs_torch
def test_members_are_the_network_conditioned_on_their_rows(kuhn):
    """Policy ``i`` is ``Pi_theta(. | sigma_i)``; ``sigma = 0`` is the fixed initial policy."""
    solver = NeuPL(max_population=5, train_steps=5, initial="first")
    state = solver.init(kuhn, np.random.default_rng(0))
    solver.step(kuhn, state, 4)
    n = int(state["size"])
    for i in range(n):
        policy = solver.conditional_policy(kuhn, state, state["graph"][i, :n])
        np.testing.assert_allclose(policy.probs, state["probs"][i], atol=1e-6)
    first = gamesolve.TabularPolicy.first_action(kuhn).probs
    np.testing.assert_allclose(solver.conditional_policy(kuhn, state, np.zeros(5)).probs, first, atol=1e-9)
    np.testing.assert_allclose(state["probs"][0], first, atol=1e-9)  # untouched by training
    with pytest.raises(ValueError, match="sigma"):
        solver.conditional_policy(kuhn, state, [0.5, 0.6])
    with pytest.raises(ValueError, match="sigma"):
        solver.conditional_policy(kuhn, state, np.full(6, 1 / 6))


@needs_torch
def test_network_on_biased_rps():
    game = gamesolve.load_game("brps")
    result = gamesolve.solve(game, NeuPL(max_population=6), iterations=12, seed=1, progress=False)
    history = np.asarray(result.history.exploitability)
    assert history[-1] < 0.2 * history[0]
    assert isinstance(result.policy, gamesolve.MixedProfile)
    np.testing.assert_array_equal(result.policy.strategies[0], result.policy.strategies[1])


@needs_torch
def test_rl_training_counts_steps_and_improves(kuhn):
    solver = NeuPL(training="rl", max_population=6, episodes=256, patience=3)
    result = gamesolve.solve(kuhn, solver, iterations=24, seed=0, progress=False)
    history = np.asarray(result.history.exploitability)
    assert history[-1] < history[0] - 0.1
    assert result.extras["population_size"] >= 3
    steps = result.extras["env_steps"]
    # the learner acts once or twice per Kuhn episode
    assert 24 * 256 <= steps <= 2 * 24 * 256
    assert result.extras["evaluation_steps"] == 0  # exact meta-game


def test_sampled_meta_game(rps):
    solver = NeuPL(policy="tabular", initial="first", max_population=3, meta_episodes=400)
    result = gamesolve.solve(rps, solver, iterations=2, seed=0, progress=False)
    payoffs, meta = result.extras["payoffs"], result.extras["meta_game"]
    np.testing.assert_allclose(payoffs, -payoffs.T)
    np.testing.assert_allclose(payoffs, RPS_U, atol=1e-12)  # pure members: every match is exact
    counts = meta["counts"] if isinstance(meta, dict) else meta.counts
    assert counts[0, 1] == 400 and counts[0, 0] == 0
    assert result.extras["evaluation_steps"] > 0


def _exact_seat_averaged(game: Any, members: Any) -> np.ndarray:
    """``U[i, j]``: member i's mean payoff against j over both seatings, by exact evaluation."""
    compiled = gamesolve.as_compiled(game)
    seat0 = (compiled.infoset_player == 0)[:, None]
    k = len(members)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            a, b = np.asarray(members[i].probs), np.asarray(members[j].probs)
            first = expected_values(compiled, np.where(seat0, a, b))[0]  # i in seat 0
            second = expected_values(compiled, np.where(seat0, b, a))[1]  # i in seat 1
            out[i, j] = 0.5 * (first + second)
    return out


@pytest.mark.parametrize("seed", [0, 2, 5])
def test_sampled_meta_game_on_kuhn_is_close(kuhn, seed):
    # The sampled meta-game of the run's own population against its exact value (an evaluator
    # independent of the population backend that sampled it): within 5 standard errors.
    sampled = gamesolve.solve(
        kuhn,
        NeuPL(policy="tabular", max_population=4, meta_episodes=4000),
        iterations=3,
        seed=seed,
        progress=False,
    )
    meta = sampled.extras["meta_game"]
    stderr = np.asarray(meta["stderr"] if isinstance(meta, dict) else meta.stderr)[0]
    exact = _exact_seat_averaged(kuhn, sampled.extras["members"])
    diff = np.abs(sampled.extras["payoffs"] - exact)
    assert diff.max() > 0  # sampled, not exact
    assert np.all(diff <= 5 * stderr + 1e-12)


# ------------------------------------------------------------------- growth and graphs


def test_growth_and_graph_shapes(rps):
    fsp = gamesolve.solve(rps, NeuPL(policy="tabular", graph="fsp", max_population=4), iterations=5)
    graph = fsp.extras["interaction_graph"]
    np.testing.assert_array_equal(graph, fictitious_play_graph(4))
    assert fsp.extras["population_size"] == 4  # capped at N_max
    sp = gamesolve.solve(rps, NeuPL(policy="tabular", graph="self-play", max_population=1), iterations=3)
    assert sp.extras["population_size"] == 1
    np.testing.assert_array_equal(sp.extras["interaction_graph"], [[1.0]])
    # iterated best response to itself: uniform -> R (ties to the first action) -> P -> S
    np.testing.assert_array_equal(np.asarray(sp.extras["members"][0]), [0.0, 0.0, 1.0])
    one = gamesolve.solve(rps, NeuPL(policy="tabular", max_population=1, initial="first"), iterations=2)
    assert one.extras["population_size"] == 1 and one.exploitability == pytest.approx(1.0)


# ------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"max_population": 6, "train_steps": 5}, marks=needs_torch, id="network-exact"),
        pytest.param(
            {"training": "rl", "max_population": 4, "episodes": 64, "patience": 1}, marks=needs_torch, id="rl"
        ),
    ],
)
def test_resume_equals_uninterrupted(kuhn, tmp_path, options):
    full = gamesolve.solve(kuhn, NeuPL(**options), iterations=6, seed=5, progress=False)
    ckpt = tmp_path / "neupl.npz"
    gamesolve.solve(kuhn, NeuPL(**options), iterations=3, seed=5, checkpoint=ckpt, progress=False)
    resumed = gamesolve.solve(kuhn, NeuPL(**options), iterations=6, seed=5, resume=ckpt, progress=False)
    np.testing.assert_array_equal(resumed.policy.probs, full.policy.probs)
    np.testing.assert_array_equal(resumed.history.exploitability, full.history.exploitability)
    np.testing.assert_array_equal(resumed.extras["payoffs"], full.extras["payoffs"])
    assert resumed.extras["env_steps"] == full.extras["env_steps"]
    assert resumed.extras["joined"] == full.extras["joined"]
    other = gamesolve.solve(kuhn, NeuPL(**options), iterations=6, seed=6, progress=False)
    assert not np.array_equal(other.policy.probs, full.policy.probs)
    with pytest.raises(CheckpointError, match="config"):
        gamesolve.solve(kuhn, NeuPL(**{**options, "max_population": 5}), iterations=6, seed=5, resume=ckpt)


# ---------------------------------------------------------------------------- bad input


def test_bad_options():
    bad: tuple[Any, ...] = (0, -1, 2.5, True)
    for value in bad:
        with pytest.raises(ValueError, match="max_population"):
            NeuPL(max_population=value)
    with pytest.raises(ValueError, match="graph"):
        NeuPL(graph="league")
    with pytest.raises(ValueError, match="tabular"):
        NeuPL(policy="tabular", training="rl")
    with pytest.raises(ValueError, match="initial"):
        NeuPL(initial="random")
    with pytest.raises(ValueError, match="meta_episodes"):
        NeuPL(meta_episodes=3)
    with pytest.raises(ValueError, match="learning_rate"):
        NeuPL(learning_rate=0.0)
    with pytest.raises(ValueError, match="device"):
        NeuPL(device="tpu")


def test_bad_games():
    with pytest.raises(UnsupportedGame, match="symmetric"):
        gamesolve.solve(
            gamesolve.load_game("amp"), NeuPL(policy="tabular"), iterations=1
        )  # not square-symmetric
    with pytest.raises(UnsupportedGame, match="zero-sum"):
        gamesolve.solve(gamesolve.load_game("prisoners_dilemma"), NeuPL(policy="tabular"), iterations=1)
    with pytest.raises(UnsupportedGame, match="zero-sum"):
        gamesolve.solve(gamesolve.load_game("kuhn(players=3)"), NeuPL(policy="tabular"), iterations=1)
    with pytest.raises(UnsupportedGame):
        gamesolve.solve(gamesolve.load_game("two_state"), NeuPL(policy="tabular"), iterations=1)


def test_cli_function(tmp_path):
    from gamesolve.population_cli import add_neupl_arguments, run_neupl_cli

    parser = argparse.ArgumentParser()
    add_neupl_arguments(parser)
    argv = ["kuhn", "--policy", "tabular", "--max-population", "6", "--checkpoint", str(tmp_path)]
    first = run_neupl_cli(parser.parse_args([*argv, "--iterations", "2", "--no-progress"]))
    assert (tmp_path / "neupl.npz").is_file()
    summary = json.loads((tmp_path / "result.json").read_text())
    assert summary["iterations"] == 2 and len(summary["payoffs"]) == first.extras["population_size"]
    resumed = run_neupl_cli(parser.parse_args([*argv, "--iterations", "4", "--no-progress"]))
    straight = gamesolve.solve(
        gamesolve.load_game("kuhn"), NeuPL(policy="tabular", max_population=6), iterations=4
    )
    assert resumed.iterations == 4
    np.testing.assert_array_equal(resumed.policy.probs, straight.policy.probs)
    with pytest.raises(ValueError, match="KEY=VALUE"):
        run_neupl_cli(parser.parse_args(["kuhn", "--set", "oops", "--no-progress"]))


def test_cli_graph_choices_are_the_solvers():
    from gamesolve.population_cli import NEUPL_GRAPHS
    from gamesolve.solvers.neupl import GRAPHS

    assert NEUPL_GRAPHS == GRAPHS


def test_registry_name(rps):
    assert "neupl" in dict(gamesolve.available_solvers())
    result = gamesolve.solve(rps, "neupl", policy="tabular", initial="first", max_population=3, iterations=2)
    assert result.solver == "neupl" and result.exploitability == pytest.approx(0.0, abs=1e-12)
