"""PSRO with network members (``members="network"``, and ``"auto"`` on games that do not compile).

On Kuhn (compiled) the first member is exactly the uniform policy (NashConv 11/12), the output is
the realization-equivalent mixture of the tabulated networks, and sampled meta-game entries agree
with the exact ones within their intervals; a checkpointed run resumes to the same numbers; on
Connect Four (does not compile) the members are networks, the meta-game is sampled and each seat's
score against uniform play is reported; bad combinations are named before any work.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gamesolve
from gamesolve import CheckpointError, InvalidArgumentError, UnsupportedGame

torch = pytest.importorskip("torch")

from gamesolve.population import meta_game_entries  # noqa: E402
from gamesolve.solvers.psro import PSRO  # noqa: E402
from gamesolve.solvers.psro.networks import NetworkMixture  # noqa: E402

SMALL = {"hidden": [16], "num_envs": 32}


def _solve(game, iterations, **options):
    solver = PSRO(oracle="ppo", oracle_steps=1_500, oracle_options=SMALL, **options)
    return gamesolve.solve(game, solver, iterations=iterations, seed=0, progress=False, eval_every=1)


@pytest.fixture(scope="module")
def kuhn():
    return gamesolve.as_compiled(gamesolve.load_game("kuhn"))


@pytest.fixture(scope="module")
def kuhn_run(kuhn):
    return _solve(kuhn, 2, members="network")


def test_kuhn_network_members_start_uniform_and_mix_exactly(kuhn, kuhn_run):
    r = kuhn_run
    assert r.extras["members"] == "network"
    assert r.history.nash_conv[0] == pytest.approx(11 / 12)  # the all-zero network is uniform
    assert isinstance(r.policy, NetworkMixture) and r.extras["population_sizes"] == [3, 3]
    members = r.extras["population"].members
    np.testing.assert_allclose(members[0][0].tabulate(kuhn).probs, gamesolve.uniform_policy(kuhn).probs)
    # the output's exploitability is that of the realization-equivalent table of the mixture
    table = r.policy.tabulate()
    assert r.exploitability == pytest.approx(gamesolve.exploitability(kuhn, table), abs=1e-12)
    sigma = r.extras["meta_strategy"]
    for p in range(2):
        assert sigma[p].shape == (3,) and sigma[p].sum() == pytest.approx(1.0)
    # the exact meta-game is the members' exact values
    meta = r.extras["meta_game"]
    assert meta.exact
    again = meta_game_entries(kuhn, r.extras["population"])
    np.testing.assert_allclose(meta.payoffs, again.payoffs, atol=1e-12)


def test_sampled_meta_game_matches_exact_values(kuhn, kuhn_run):
    population = kuhn_run.extras["population"]
    exact = meta_game_entries(kuhn, population).payoffs
    sampled = meta_game_entries(kuhn, population, episodes=4_000, seed=1, exact=False)
    assert np.all(sampled.stderr > 0)
    z = np.abs(sampled.payoffs - exact) / sampled.stderr
    assert z.max() < 4.5  # 18 entries, 4.5 standard errors


def test_sampled_run_on_a_compiled_game(kuhn):
    r = _solve(kuhn, 1, members="network", episodes=300)
    assert not r.extras["meta_game"].exact
    assert np.all(r.extras["meta_game"].stderr[:, 1:, :] > 0)
    assert math.isfinite(r.exploitability)  # still exact: the game compiles


def test_checkpoint_resume_is_identical(kuhn, tmp_path):
    path = tmp_path / "psro.npz"
    whole = _solve(kuhn, 3, members="network")
    solver = PSRO(oracle="ppo", oracle_steps=1_500, oracle_options=SMALL, members="network")
    gamesolve.solve(kuhn, solver, iterations=2, seed=0, progress=False, checkpoint=path, checkpoint_every=1)
    solver = PSRO(oracle="ppo", oracle_steps=1_500, oracle_options=SMALL, members="network")
    resumed = gamesolve.solve(kuhn, solver, iterations=3, seed=0, progress=False, resume=path, eval_every=1)
    assert resumed.history.exploitability[-1] == whole.history.exploitability[-1]
    for p in range(2):
        np.testing.assert_array_equal(whole.extras["meta_strategy"][p], resumed.extras["meta_strategy"][p])
    with pytest.raises(CheckpointError, match="members"):
        gamesolve.solve(
            kuhn,
            PSRO(oracle="ppo", oracle_steps=1_500, oracle_options=SMALL, members="table"),
            iterations=3,
            seed=0,
            progress=False,
            resume=path,
        )


def test_connect_four_trains_network_members():
    r = _solve("connect_four", 1, episodes=20)
    assert r.extras["members"] == "network"
    assert math.isnan(r.exploitability)
    meta = r.extras["meta_game"]
    assert not meta.exact and meta.payoffs.shape == (2, 2, 2)
    assert np.all(meta.counts >= 20)
    scores = r.extras["scores_vs_uniform"]
    assert len(scores) == 2 and all(math.isfinite(s["value"]) and s["stderr"] > 0 for s in scores)


def test_bad_combinations_are_named(kuhn):
    with pytest.raises(InvalidArgumentError, match="members"):
        PSRO(members="nets")
    with pytest.raises(InvalidArgumentError, match="oracle='ppo'"):
        PSRO(oracle="exact", members="network")
    with pytest.raises(InvalidArgumentError, match="oracle='ppo'"):
        PSRO(oracle="dqn", members="network")
    with pytest.raises(UnsupportedGame, match="anytime"):
        gamesolve.solve(kuhn, PSRO(oracle="ppo", members="network", meta_solver="anytime"), iterations=1)
    with pytest.raises(UnsupportedGame, match="normal-form"):
        gamesolve.solve(gamesolve.load_game("rps"), PSRO(oracle="ppo", members="network"), iterations=1)
    with pytest.raises(gamesolve.GamesolveError, match="oracle='ppo'"):
        gamesolve.solve("connect_four", PSRO(oracle="exact"), iterations=1)


def test_cli_writes_network_members_a_tournament_loads(tmp_path, capsys):
    from gamesolve.cli import main

    out = tmp_path / "members"
    code = main(
        [
            "psro",
            "kuhn",
            "--oracle",
            "ppo",
            "--members",
            "network",
            "--iterations",
            "1",
            "--set",
            "oracle_steps=1000",
            "--members-out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "p0_br1.pt",
        "p0_uniform.pt",
        "p1_br1.pt",
        "p1_uniform.pt",
    ]
    assert "vs uniform 0" in capsys.readouterr().out
    policy = gamesolve.load_policy(out / "p0_uniform.pt")
    kuhn = gamesolve.as_compiled(gamesolve.load_game("kuhn"))
    np.testing.assert_allclose(policy.tabulate(kuhn).probs, gamesolve.uniform_policy(kuhn).probs)


@pytest.mark.parametrize("members", ["table", "network"])
def test_refine_episodes_add_matches_to_the_support(kuhn, members):
    r = _solve(kuhn, 1, members=members, episodes=200, refine_episodes=300)
    meta = r.extras["meta_game"]
    sigma = r.extras["training_meta_strategy"]
    support = np.outer(sigma[0] > 1e-9, sigma[1] > 1e-9)
    # the support of the last solve was refined at least once (the support may move after it)
    assert np.all(meta.counts[support] >= 200) and (meta.counts == 500).any()
    assert set(np.unique(meta.counts).tolist()) <= {200, 500, 800}
    with pytest.raises(InvalidArgumentError, match="refine_episodes"):
        PSRO(refine_episodes=-1)


def test_pooled_meta_game_combines_means_and_errors():
    from gamesolve.population import MetaGame

    a = MetaGame.from_payoffs(
        [[[1.0, 2.0]], [[-1.0, -2.0]]], stderr=np.full((2, 1, 2), 0.3), counts=[[100, 100]]
    )
    b = MetaGame.from_payoffs(
        [[[3.0, 0.0]], [[-3.0, 0.0]]], stderr=np.full((2, 1, 2), 0.1), counts=[[300, 0]]
    )
    c = a.pooled(b)
    np.testing.assert_allclose(c.payoffs[0], [[(100 * 1 + 300 * 3) / 400, 2.0]])
    np.testing.assert_allclose(c.stderr[0, 0, 0], np.sqrt((100 * 0.3) ** 2 + (300 * 0.1) ** 2) / 400)
    np.testing.assert_array_equal(c.counts, [[400, 100]])
    with pytest.raises(ValueError, match="sampled"):
        a.pooled(MetaGame.from_payoffs(np.zeros((2, 1, 2))))
