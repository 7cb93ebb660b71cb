"""Contracts of PSRO (gamesolve.solvers.psro) and of policy mixtures (gamesolve.mixture).

Oracles: the known answers of double oracle (McMahan, Gordon & Blum 2003, "Planning in the
presence of cost functions controlled by an adversary"; PSRO with the Nash meta-solver, Lanctot et
al. 2017): RPS from {Rock} gives {R, P, S} after two iterations, uniform meta-Nash, exploitability
0; the exact evaluation of gamesolve.evaluation (independent of the sequence-form route PSRO uses
for its meta-game and best responses), the
realization-equivalence identity of mixtures (expected values against fixed opponents are the
weighted average of the members' values, to 1e-12), a reach-formula twin and Monte Carlo sampling
for gamesolve.mixture, and gamesolve.solvers.dynamics.Replicator for the PRD kernel.

Measured on Kuhn poker with exact best responses, starting from the always-first-action profile:
the Nash meta-solver (PSRO = Double Oracle) reaches an exact equilibrium at iteration 7 and stops
growing (8 members per player); from random starts it takes 6 to 9 iterations. The count depends
on which vertex the LP returns when the restricted game has several equilibria (a change in the
summation order of the meta-game moved it from 8 to 7), so the test asserts the bound 8. Its
exploitability is NOT monotone (1.0 -> 1.25 at iteration 1; from the uniform start 0.0917 ->
0.111 at iteration 4): Double Oracle's restricted Nash need not improve on the full game. The
"anytime" reporting meta-solver (each player's maximin mixture of its population against an
unrestricted opponent, trained with Nash) is non-increasing by construction and exact at
iteration 7.
"""

from __future__ import annotations

import argparse

import numpy as np
import pytest

import gamesolve
from gamesolve import CheckpointError, Iterate, TabularPolicy, UnsupportedGame
from gamesolve.mixture import member_plans, mix_plans, mix_policies, mix_policies_numpy, mix_profile
from gamesolve.population_cli import run_psro_cli
from gamesolve.solvers.psro import (
    PSRO,
    JointMixture,
    MetaStrategy,
    projected_replicator_dynamics,
    solve_meta_game,
)


def _solve(game, solver, **kwargs):
    kwargs.setdefault("eval_every", 1)
    return gamesolve.solve(game, solver, progress=False, **kwargs)


def _expl(result):
    return np.asarray(result.history.exploitability)


def _members(result, player):
    """Player ``player``'s members as arrays (``extras["population"]`` may be a Population)."""
    population = result.extras["population"]
    members = population.members[player] if hasattr(population, "members") else population[player]
    return np.stack([getattr(m, "probs", m) for m in members])


def _payoffs(result):
    meta = result.extras["meta_game"]
    return np.asarray(meta["payoffs"] if isinstance(meta, dict) else meta.payoffs)


# --------------------------------------------------------------------------------- known answers


def test_rps_from_rock_double_oracle():
    rps = gamesolve.load_game("rps")
    result = _solve(rps, PSRO(meta_solver="nash"), iterations=2)
    for p in range(2):
        np.testing.assert_array_equal(_members(result, p), np.eye(3))  # Rock, then Paper, then Scissors
        np.testing.assert_allclose(result.extras["meta_strategy"][p], np.full(3, 1 / 3), atol=1e-12)
    assert result.exploitability < 1e-12
    np.testing.assert_allclose(_expl(result)[:2], [1.0, 1.0])  # {R}: BR gains 1 each; {R, P}: P
    assert result.history.exploitability[-1] < 1e-12
    # the next responses gain nothing: Double Oracle termination, the population stops growing
    later = _solve(rps, PSRO(meta_solver="nash"), iterations=4)
    assert later.extras["psro_converged"] and later.extras["population_sizes"] == [3, 3]
    assert max(later.extras["best_response_gains"]) <= 1e-12


def test_kuhn_nash_reaches_an_exact_equilibrium_within_8_iterations(kuhn):
    result = _solve(kuhn, PSRO(meta_solver="nash"), iterations=12)
    expl = _expl(result)
    assert expl[0] == pytest.approx(1.0)  # always check/fold: NashConv 2
    below = int(np.argmax(expl < 0.01))
    assert 0 < below <= 8, expl  # measured: 7 (1e-15); 8 with other LP vertices in degenerate ties
    assert expl[below] < 1e-12  # Double Oracle lands on an exact equilibrium, not near one
    assert result.exploitability < 1e-12
    np.testing.assert_allclose(result.value, (-1 / 18, 1 / 18), atol=1e-12)
    assert result.extras["psro_converged"]
    sizes = result.extras["population_sizes"]
    assert sizes[0] == sizes[1] == below + 1  # the population stopped growing at termination
    assert (expl[below:] == expl[below]).all()  # nothing changes once converged
    done = {"done": np.ones((), np.int8), "gains": np.zeros(2)}
    assert "converged" in PSRO(meta_solver="nash").finished(None, done)


def test_kuhn_meta_nash_exploitability_is_not_monotone(kuhn):
    # Double Oracle's restricted Nash can be more exploitable than the previous one (documented).
    expl = _expl(_solve(kuhn, PSRO(meta_solver="nash"), iterations=2))
    assert expl[1] == pytest.approx(1.25) and expl[0] == pytest.approx(1.0)


@pytest.mark.parametrize("initial", ["first", "uniform"])
def test_kuhn_anytime_reporting_is_monotone(kuhn, initial):
    result = _solve(kuhn, PSRO(meta_solver="anytime", initial=initial), iterations=9)
    expl = _expl(result)
    assert (np.diff(expl) <= 1e-12).all(), expl
    assert expl[7] < 0.01 and result.exploitability < 1e-12  # measured: 0 at iteration 7
    assert result.config["training_meta_solver"] == "nash"


def test_kuhn_fictitious_self_play_decreases(kuhn):
    result = _solve(kuhn, PSRO(meta_solver="uniform"), iterations=30)
    expl = _expl(result)
    assert expl[-1] < 0.09 < expl[10] < 0.25 < expl[1]  # measured 0.0833, 0.2197, 1.125
    for p in range(2):
        np.testing.assert_allclose(result.extras["meta_strategy"][p], np.full(31, 1 / 31))
    # uniform weights over a population of pure responses: fictitious play in behavior form
    assert result.extras["population_sizes"] == [31, 31]


def test_fictitious_self_play_matches_openspiel_psro_v2(leduc):
    """OpenSpiel's PSROSolver, uniform meta-strategy, exact C++ best responses, uniform start."""
    pytest.importorskip("open_spiel")
    import pyspiel
    from open_spiel.python import policy as os_policy
    from open_spiel.python.algorithms import exploitability
    from open_spiel.python.algorithms.policy_aggregator import PolicyAggregator
    from open_spiel.python.algorithms.psro_v2 import best_response_oracle, psro_v2, strategy_selectors

    os_game = pyspiel.load_game("leduc_poker")
    reference = psro_v2.PSROSolver(
        os_game,
        best_response_oracle.BestResponseOracle(game=os_game, best_response_backend="cpp"),
        sims_per_entry=1,  # the uniform meta-strategy ignores the (sampled) meta-game
        initial_policies=[os_policy.UniformRandomPolicy(os_game)] * 2,
        meta_strategy_method="uniform",
        training_strategy_selector=strategy_selectors.probabilistic,
        symmetric_game=False,
    )
    expected = []
    for _ in range(3):
        reference.iteration()
        mixture = PolicyAggregator(os_game).aggregate(
            range(2), reference.get_policies(), reference.get_meta_strategies()
        )
        expected.append(exploitability.exploitability(os_game, mixture))
    ours = _solve(leduc, PSRO(meta_solver="uniform", initial="uniform"), iterations=3)
    np.testing.assert_allclose(_expl(ours)[1:], expected, rtol=0, atol=1e-12)  # 2.603, 2.631, 2.369


def test_training_and_reporting_meta_solvers_differ(kuhn):
    nash = _solve(kuhn, PSRO(meta_solver="nash"), iterations=5)
    mixed = _solve(kuhn, PSRO(meta_solver="uniform", training_meta_solver="nash"), iterations=5)
    # the training solver alone drives the population ...
    for p in range(2):
        np.testing.assert_array_equal(_members(nash, p), _members(mixed, p))
        np.testing.assert_allclose(mixed.extras["training_meta_strategy"][p], nash.extras["meta_strategy"][p])
        np.testing.assert_allclose(mixed.extras["meta_strategy"][p], np.full(6, 1 / 6))
    # ... and the reporting solver picks the output: its exploitability is the uniform mixture's
    uniform_mix = mix_profile(kuhn, [_members(nash, p) for p in range(2)], [np.ones(6), np.ones(6)])
    assert mixed.exploitability == pytest.approx(gamesolve.exploitability(kuhn, uniform_mix), abs=1e-12)
    assert abs(mixed.exploitability - nash.exploitability) > 1e-3


def test_output_policy_is_the_meta_mixture(kuhn):
    result = _solve(kuhn, PSRO(meta_solver="nash"), iterations=4)
    members = [_members(result, p) for p in range(2)]
    expected = mix_profile(kuhn, members, result.extras["meta_strategy"])
    np.testing.assert_allclose(result.policy.probs, expected.probs, atol=1e-15)
    assert result.policy == result.average_policy
    # its value is the meta-game value under the meta-strategy (exact meta-game)
    payoffs = _payoffs(result)
    s0, s1 = result.extras["meta_strategy"]
    np.testing.assert_allclose(result.value, [s0 @ payoffs[p] @ s1 for p in range(2)], atol=1e-12)
    # the current iterate is every player's newest best response
    for p in range(2):
        rows = gamesolve.as_compiled(kuhn).infosets_of(p)
        np.testing.assert_array_equal(result.current_policy.probs[rows], members[p][-1][rows])


def test_meta_game_matches_direct_evaluation(kuhn3):
    result = _solve(kuhn3, PSRO(meta_solver="uniform"), iterations=2)
    members = [_members(result, p) for p in range(3)]
    payoffs = _payoffs(result)
    game = gamesolve.as_compiled(kuhn3)
    for index in np.ndindex(*payoffs.shape[1:]):
        probs = np.zeros((game.num_infosets, game.max_actions))
        for p, k in enumerate(index):
            rows = game.infosets_of(p)
            probs[rows] = members[p][k][rows]
        np.testing.assert_allclose(
            payoffs[(slice(None), *index)], gamesolve.expected_values(game, probs), atol=1e-12
        )


# --------------------------------------------------------------------------- N players, JPSRO


def test_three_player_kuhn(kuhn3):
    nash = _solve(kuhn3, PSRO(meta_solver="nash"), iterations=6)  # logit homotopy on the meta-game
    expl = _expl(nash)
    assert expl[0] == pytest.approx(2.0) and expl[-1] < 0.25  # measured 0.1865
    cce = _solve(kuhn3, PSRO(meta_solver="cce"), iterations=4)
    assert isinstance(cce.policy, JointMixture) and cce.policy.joint.shape == tuple(
        cce.extras["population_sizes"]
    )
    assert cce.exploitability < 0.5 * _expl(cce)[0]  # the CCE gap falls (measured 0.36 from 2.0)
    np.testing.assert_allclose(cce.policy.joint.sum(), 1.0)


def test_joint_mixture_gap_of_a_product_is_nash_conv(kuhn):
    result = _solve(kuhn, PSRO(meta_solver="uniform"), iterations=3)
    members = tuple(_members(result, p) for p in range(2))
    rng = np.random.default_rng(3)
    s0, s1 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    game = gamesolve.as_compiled(kuhn)
    product = mix_profile(game, members, [s0, s1])
    for kind in ("cce", "ce"):  # against a product distribution both gaps are the NashConv
        gain, value, _ = JointMixture(game, members, np.outer(s0, s1), kind).gains()
        report = gamesolve.nash_conv(game, product)
        assert gain.sum() == pytest.approx(report.nash_conv, abs=1e-12)
        np.testing.assert_allclose(value, report.on_policy_values, atol=1e-12)


def test_jpsro_ce_on_chicken_finds_the_max_welfare_ce():
    # Aumann 1974's chicken: the max-welfare CE is DC 1/4, CD 1/4, CC 1/2 (welfare 10.5)
    game = gamesolve.load_game("chicken")
    result = _solve(game, PSRO(meta_solver="ce"), iterations=3)
    assert isinstance(result.policy, JointMixture) and result.policy.kind == "ce"
    for p in range(2):  # from {Dare}, the response to the recommendation "Dare" is Chicken
        np.testing.assert_array_equal(_members(result, p), np.eye(2))
    np.testing.assert_allclose(result.extras["meta_joint"], [[0, 0.25], [0.25, 0.5]], atol=1e-8)
    np.testing.assert_allclose(result.value, (5.25, 5.25), atol=1e-8)
    assert result.exploitability < 1e-9 and result.extras["psro_converged"]
    np.testing.assert_allclose(_expl(result)[:2], [2.0, 0.0], atol=1e-8)  # (D, D): each gains 2


# ------------------------------------------------------------------------------- meta-solvers


def test_meta_solvers_on_rps_meta_game():
    payoffs = gamesolve.load_game("rps").payoffs
    for name in ("nash", "prd", "alpharank", "lp", "uniform"):
        sigma = solve_meta_game(name, payoffs, prd_iterations=20_000)
        for m in sigma.marginals:
            np.testing.assert_allclose(m, np.full(3, 1 / 3), atol=2e-2 if name == "prd" else 1e-9)
    np.testing.assert_array_equal(solve_meta_game("self-play", payoffs).marginals[0], [0, 0, 1])
    joint = solve_meta_game("cce", payoffs)
    assert joint.joint is not None and joint.kind == "cce"


def test_prd_kernel_matches_replicator_class():
    from gamesolve.solvers.dynamics import Replicator

    rng = np.random.default_rng(7)
    game = gamesolve.bimatrix(rng.normal(size=(4, 5)), rng.normal(size=(4, 5)))
    fast = projected_replicator_dynamics(game, iterations=3000, dt=1e-2, gamma=1e-3)
    slow = Replicator(dt=1e-2, projected=True, gamma=1e-3)
    state = slow.init(game, rng)
    slow.step(game, state, 3000)
    for a, b in zip(fast, slow.policy(game, state, Iterate.AVERAGE), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_meta_strategy_correlated_marginals():
    joint = np.array([[0.1, 0.2], [0.3, 0.4]])
    sigma = MetaStrategy.correlated(joint, "cce")
    np.testing.assert_allclose(sigma.marginals[0], [0.3, 0.7])
    np.testing.assert_allclose(sigma.marginals[1], [0.4, 0.6])


# ------------------------------------------------------------------------------------ mixtures


@pytest.mark.parametrize("name", ["kuhn", "kuhn3", "leduc"])
def test_mixture_values_are_the_weighted_average(request, name):
    game = gamesolve.as_compiled(request.getfixturevalue(name))
    rng = np.random.default_rng(11)
    members = [TabularPolicy.random(game, rng=rng, concentration=0.5) for _ in range(4)]
    weights = rng.dirichlet(np.ones(4))
    opponents = TabularPolicy.random(game, rng=rng)
    for player in range(game.num_players):
        mixed = mix_policies(game, members, weights, player=player, base=opponents)
        value = gamesolve.expected_values(game, mixed)
        each = np.stack([gamesolve.expected_values(game, opponents.with_player(player, m)) for m in members])
        np.testing.assert_allclose(value, weights @ each, rtol=0, atol=1e-12)
        # the same identity for the realization weights of every terminal (sequence form)
        plan = member_plans(game, [mixed], player)[0]
        np.testing.assert_allclose(plan, weights @ member_plans(game, members, player), atol=1e-12)
    np.testing.assert_allclose(
        mix_policies(game, members, weights).probs, mix_policies_numpy(game, members, weights), atol=1e-14
    )


def test_mixture_against_sampling(kuhn):
    """Draw a member, then play it: the empirical action frequencies at an infoset match."""
    game = gamesolve.as_compiled(kuhn)
    rng = np.random.default_rng(5)
    members = np.stack([TabularPolicy.random(game, rng=rng).probs for _ in range(3)])
    weights = np.array([0.2, 0.5, 0.3])
    mixed = mix_policies(game, members, weights, player=0).probs
    # player 0's second decision (after check, bet) is reached with own prob x_k(I) = pi_k(check)
    key = next(k for k in game.infosets.keys if k.endswith("pb") or k.endswith("cb"))
    infoset = game.infosets.id(key)
    parent = game.infoset_parent_seq[infoset]
    assert parent > 0
    draws = rng.choice(3, size=200_000, p=weights)
    plans = member_plans(game, members, 0)
    reach = rng.random(draws.shape[0]) < plans[draws, parent]  # reached I under member k
    act = rng.random(draws.shape[0]) < members[draws, infoset, 0]
    freq = (act & reach).sum() / reach.sum()
    assert abs(freq - mixed[infoset, 0]) < 4 * np.sqrt(0.25 / reach.sum())


def test_mixture_unreached_infosets_are_uniform(kuhn):
    game = gamesolve.as_compiled(kuhn)
    probs = TabularPolicy.first_action(game).probs.copy()
    opening = [i for i in game.infosets_of(0) if game.infoset_parent_seq[i] == 0]
    probs[opening] = [0.0, 1.0]  # always bet first, so never reach "check, then facing a bet"
    first = TabularPolicy(game, probs)
    mixed = mix_policies(game, [first, first], [1, 3], player=0)
    plans = member_plans(game, [first], 0)[0]
    rows = game.infosets_of(0)
    unreached = [i for i in rows if plans[game.infoset_parent_seq[i]] == 0]
    reached = [i for i in rows if plans[game.infoset_parent_seq[i]] > 0]
    assert unreached and reached
    np.testing.assert_allclose(mixed.probs[unreached], 0.5)
    np.testing.assert_allclose(mixed.probs[reached], first.probs[reached])
    np.testing.assert_allclose(mix_plans(game, np.stack([plans]), [1.0], 0)[reached], first.probs[reached])


def test_mixture_bad_input(kuhn, leduc):
    game = gamesolve.as_compiled(kuhn)
    with pytest.raises(ValueError, match="one entry per member"):
        mix_policies(game, [TabularPolicy.uniform(game)], [0.5, 0.5])
    with pytest.raises(ValueError, match="not all be 0"):
        mix_policies(game, [TabularPolicy.uniform(game)], [0.0])
    with pytest.raises(ValueError, match=">= 0"):
        mix_policies(game, [TabularPolicy.uniform(game)] * 2, [1.0, -0.5])
    with pytest.raises(gamesolve.InvalidPolicyError, match="different game"):
        mix_policies(game, [TabularPolicy.uniform(leduc)], [1.0])
    with pytest.raises(gamesolve.InvalidPolicyError, match="shape"):
        mix_policies(game, [np.zeros((3, 2))], [1.0])


# ---------------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize(
    ("game_name", "options"),
    [
        ("kuhn", {"meta_solver": "nash", "initial": "random"}),
        ("rps", {"meta_solver": "prd", "prd_iterations": 500}),
    ],
)
def test_checkpoint_resume_is_identical(request, tmp_path, game_name, options):
    game = request.getfixturevalue(game_name) if game_name == "kuhn" else gamesolve.load_game(game_name)
    path = tmp_path / "psro.npz"
    whole = _solve(game, PSRO(**options), iterations=6, seed=3)
    _solve(game, PSRO(**options), iterations=3, seed=3, checkpoint=path, checkpoint_every=1)
    resumed = _solve(game, PSRO(**options), iterations=6, seed=3, resume=path)
    assert resumed.history.exploitability == whole.history.exploitability
    assert resumed.extras["population_sizes"] == whole.extras["population_sizes"]
    for p in range(2):
        np.testing.assert_array_equal(_members(whole, p), _members(resumed, p))
        np.testing.assert_array_equal(whole.extras["meta_strategy"][p], resumed.extras["meta_strategy"][p])
    # another configuration is refused, naming what differs
    with pytest.raises(CheckpointError, match="meta_solver"):
        _solve(game, PSRO(**{**options, "meta_solver": "uniform"}), iterations=6, seed=3, resume=path)


# ------------------------------------------------------------------------------------ bad input


def test_bad_options_and_games(kuhn3):
    with pytest.raises(ValueError, match=r"unknown meta_solver 'nosuch'.*nash"):
        PSRO(meta_solver="nosuch")
    with pytest.raises(ValueError, match="unknown training_meta_solver"):
        PSRO(training_meta_solver="bogus")
    with pytest.raises(ValueError, match="oracle must be one of exact, dqn, ppo"):
        PSRO(oracle="sarsa")
    with pytest.raises(ValueError, match="initial"):
        PSRO(initial="last")
    with pytest.raises(ValueError, match="episodes"):
        PSRO(episodes=0)
    with pytest.raises(ValueError, match="epsilon"):
        PSRO(epsilon=-1)
    with pytest.raises(ValueError, match="prd_iterations"):
        PSRO(prd_iterations=0)
    with pytest.raises(UnsupportedGame, match="two-player zero-sum"):
        _solve(kuhn3, PSRO(meta_solver="anytime"), iterations=1)
    with pytest.raises(UnsupportedGame, match=r"not markov games.*stationary"):
        _solve(gamesolve.load_game("two_state"), PSRO(), iterations=1)
    with pytest.raises(UnsupportedGame, match="oracle='exact'"):
        _solve(gamesolve.load_game("rps"), PSRO(oracle="dqn"), iterations=1)


def test_cli_runner_writes_and_resumes(tmp_path):
    args = argparse.Namespace(
        game="rps",
        oracle="exact",
        meta_solver="nash",
        training_meta_solver=None,
        iterations=2,
        target_exploitability=None,
        episodes=None,
        executor=None,
        checkpoint=str(tmp_path),
        seed=0,
        set=["epsilon=1e-10"],
        no_progress=True,
    )
    first = run_psro_cli(args)
    assert (tmp_path / "psro.npz").is_file() and (tmp_path / "result.json").is_file()
    args.iterations = 3
    again = run_psro_cli(args)  # resumes from the folder's checkpoint
    assert again.iterations == 3 and again.history.iteration[: len(first.history)] == first.history.iteration


# ------------------------------------------------------------------------------------ RL oracle


class _NoisyOracle:
    """An oracle object with the RL oracles' interface: a best response mixed with seeded noise."""

    def __init__(self):
        self.calls = []

    def train(self, game, player, opponents, weights, *, seed, steps):
        self.calls.append((player, len(opponents), float(np.sum(weights)), seed, steps))
        best = gamesolve.best_response(game, opponents[0], player).policy
        noise = TabularPolicy.random(game, rng=np.random.default_rng(seed))
        probs = 0.9 * best.probs + 0.1 * noise.probs
        trained = argparse.Namespace(policy=None)
        trained.tabulate = lambda: TabularPolicy(game, probs)
        return trained


def test_oracle_object_path_and_resume(kuhn, tmp_path):
    oracle = _NoisyOracle()
    result = _solve(kuhn, PSRO(oracle=oracle, meta_solver="nash", oracle_steps=123), iterations=4, seed=1)
    assert result.extras["population_sizes"] == [5, 5]
    assert len(oracle.calls) == 8 and {c[4] for c in oracle.calls} == {123}
    assert all(c[1] == 1 and c[2] == pytest.approx(1.0) for c in oracle.calls)  # one mixture opponent
    assert len({c[3] for c in oracle.calls}) == 8  # a fresh seed for every (iteration, player)
    assert not result.extras["psro_converged"]  # only exact oracles can certify termination
    assert result.config["oracle"] == "_NoisyOracle"
    # the noisy responses are stored as tabulated members; resume repeats the seeds exactly
    path = tmp_path / "ck.npz"
    _solve(
        kuhn,
        PSRO(oracle=_NoisyOracle(), oracle_steps=123),
        iterations=2,
        seed=1,
        checkpoint=path,
        checkpoint_every=1,
    )
    resumed = _solve(kuhn, PSRO(oracle=_NoisyOracle(), oracle_steps=123), iterations=4, seed=1, resume=path)
    for p in range(2):
        np.testing.assert_array_equal(_members(result, p), _members(resumed, p))
    assert resumed.history.exploitability == result.history.exploitability


def test_rl_oracle_path(kuhn):
    pytest.importorskip("gamesolve.solvers.rl_oracles")  # helper module; it imports torch lazily
    result = _solve(kuhn, PSRO(oracle="dqn", oracle_steps=2_000), iterations=1)
    assert result.extras["population_sizes"] == [2, 2]
    assert np.isfinite(result.exploitability)


def test_reproduce_psro_rl_leduc_runs_briefly(tmp_path):
    """The reproduction's plumbing on a seconds-long budget (the full run is marked slow)."""
    pytest.importorskip("torch")
    from experiments import reproduce_psro_rl_leduc as rr

    assert rr.parse_run("dqn:500:nash") == ("dqn", 500, "nash", "table")
    assert rr.parse_run("ppo:500:nash:network") == ("ppo", 500, "nash", "network")
    with pytest.raises(SystemExit, match="oracle:steps:meta_solver"):
        rr.parse_run("ppo:many:nash")
    with pytest.raises(SystemExit, match="oracle:steps:meta_solver"):
        rr.parse_run("ppo:500:nash:nets")
    result = rr.main(rr.Config(runs=["ppo:1000:anytime"], time_limit=3, out=str(tmp_path)))
    curve = result["curves"]["ppo:1000:anytime"]
    assert curve["iteration"][0] == 0 and len(curve["exploitability"]) == len(curve["wall_time"]) >= 2
    assert curve["exploitability"][0] == pytest.approx(1.0)  # the first-action start of every population
    assert (tmp_path / "result.json").exists() and (tmp_path / "exploitability.png").exists()
