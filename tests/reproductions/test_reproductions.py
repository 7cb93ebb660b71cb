"""Reproductions of published claims (slow; run with ``make reproduce``)."""

from __future__ import annotations

import itertools

import pytest

from experiments import reproduce_last_iterate, reproduce_preference

pytestmark = pytest.mark.slow


def test_nash_mp_and_egpo_rates(tmp_path):
    result = reproduce_preference.main(reproduce_preference.Config(out=str(tmp_path)))
    assert result["summary"]["nash_mp"]["bound_holds"]
    assert result["summary"]["egpo"]["bound_holds"]
    assert result["summary"]["nash_mp"]["median_contraction"] < 1 / 1.2
    assert (tmp_path / "preference.png").stat().st_size > 1000


def test_last_iterate_versus_average(tmp_path):
    cfg = reproduce_last_iterate.Config(iterations=5000, random_games=1, out=str(tmp_path))
    curves = reproduce_last_iterate.main(cfg)["curves"]["brps/50"]
    # extragradient and OGDA converge in the last iterate (linearly on this polyhedral game)
    assert curves["extragradient"]["last"][-1] < 1e-10
    assert curves["ogda"]["last"][-1] < 1e-10
    # MWU: the last iterate keeps cycling far from the equilibrium; the average keeps improving
    assert min(curves["mwu"]["last"][-10:]) > 1e-2
    assert curves["mwu"]["average"][-1] < curves["mwu"]["average"][10]
    # mirror-prox's average gap obeys its O(1/T) bound shape: it shrinks by 10x over the run
    assert curves["mirror-prox"]["average"][-1] < 0.1 * curves["mirror-prox"]["average"][5]
    assert (tmp_path / "last_iterate.png").stat().st_size > 1000


def test_trajectory_feedback_ftrl_rates(tmp_path):
    from experiments import reproduce_trajectory_feedback as rtf

    cfg = rtf.Config(
        games=("kuhn_poker",),
        episodes={"kuhn_poker": 200_000},
        seeds=(0, 1),
        multipliers=(0.3, 1.0, 3.0),
        points=12,
        out=str(tmp_path),
    )
    kuhn = rtf.main(cfg)["games"]["kuhn_poker"]
    for method in ("balanced-ftrl", "adaptive-ftrl"):
        # The NashConv of the average falls roughly like T^(-1/2) with trajectory feedback.
        assert -0.9 < kuhn[method]["slope"] < -0.25, (method, kuhn[method]["slope"])
        assert kuhn[method]["final_nash_conv"] < 0.06
        assert kuhn[method]["multiplier"] in cfg.multipliers
    assert kuhn["mccfr-os"]["final_nash_conv"] < 0.1
    assert (tmp_path / "nashconv.png").stat().st_size > 1000
    assert (tmp_path / "result.json").exists()


def test_leduc_first_order_methods(tmp_path):
    from experiments import reproduce_leduc_first_order as rlfo

    cfg = rlfo.Config(iterations=2000, eval_every=500, out=str(tmp_path))
    curves = rlfo.main(cfg)["curves"]
    assert set(curves) == {"cfr+", "pcfr+", "dcfr", "omwu", "mmd", "mirror-prox"}
    # every method improves on the uniform policy (exploitability 4.747 / 2)
    for name, c in curves.items():
        assert c["average"][-1] < (0.1 if name != "mmd" else 1.0), name
    assert curves["omwu"]["last"][-1] < curves["omwu"]["last"][0]
    assert curves["mirror-prox"]["average"][-1] < 0.5 * curves["mirror-prox"]["average"][1]
    assert (tmp_path / "exploitability.png").stat().st_size > 1000


def test_psro_leduc_meta_solvers(tmp_path):
    from experiments import reproduce_psro_leduc as rpl

    cfg = rpl.Config(
        iterations={"nash": 80, "anytime": 80, "uniform": 80, "prd": 40, "alpharank": 20},
        prd_iterations=20_000,
        cfr_iterations=500,
        out=str(tmp_path),
    )
    result = rpl.main(cfg)
    psro = result["psro"]
    assert psro["anytime"]["monotone"] and psro["anytime"]["final_exploitability"] < 0.15
    assert psro["nash"]["final_exploitability"] < 0.1 * psro["nash"]["exploitability"][1]
    assert psro["uniform"]["exploitability"][-1] < psro["uniform"]["exploitability"][10]
    assert psro["anytime"]["final_exploitability"] < psro["uniform"]["final_exploitability"]
    assert result["cfr+"]["final_exploitability"] < 1e-3
    assert (tmp_path / "exploitability.png").stat().st_size > 1000


def test_neupl_versus_psro_with_rl_oracles_smoke(tmp_path):
    from experiments import reproduce_neupl as rn

    budget = rn.GameBudget(
        "kuhn",
        neupl_iterations=30,
        neupl_options={"episodes": 256, "max_population": 6, "patience": 3},
        psro_iterations=2,
        psro_oracle_steps=1000,
    )
    result = rn.main(rn.Config(games=(budget,), psro_oracles=("ppo",), out=str(tmp_path)))
    kuhn = result["games"]["kuhn"]
    assert kuhn["neupl"]["summary"]["final"] < 0.4583  # below the uniform policy's 11/24
    assert (tmp_path / "exploitability.png").stat().st_size > 1000


def test_psro_with_ppo_oracles_on_leduc_reaches_the_target(tmp_path):
    """The issue's figure: PSRO(ppo, 100k steps per response, anytime) at most 0.5 within 10 minutes."""
    pytest.importorskip("torch")
    from experiments import reproduce_psro_rl_leduc as rr

    cfg = rr.Config(runs=["ppo:100000:anytime"], time_limit=600, out=str(tmp_path))
    curve = rr.main(cfg)["curves"]["ppo:100000:anytime"]
    expl = curve["exploitability"]
    assert curve["first_seconds_at_target"] is not None and curve["final_exploitability"] <= rr.TARGET
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(expl))  # anytime: never rises
    assert (tmp_path / "exploitability.png").stat().st_size > 1000
