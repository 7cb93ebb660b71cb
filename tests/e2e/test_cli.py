"""End-to-end tests of the ``gamesolve`` command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import gamesolve
from gamesolve.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_reports_leduc_sizes(capsys, tmp_path):
    code, out, _ = run(capsys, "info", "leduc_poker", "--json", str(tmp_path / "info.json"))
    assert code == 0
    assert "9,457 (3,780 decision, 157 chance, 5,520 terminal)" in out
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["infosets"] == 936
    assert info["sequences_per_player"] == [1093, 1093]
    assert info["bytes_per_node"] > 0


def test_evaluate_uniform_kuhn_prints_reference_nash_conv(capsys, tmp_path):
    out_json = tmp_path / "eval.json"
    code, out, _ = run(capsys, "evaluate", "kuhn_poker", "--policy", "uniform", "--json", str(out_json))
    assert code == 0
    assert "NashConv        0.9166666667" in out
    result = json.loads(out_json.read_text())
    assert result["nash_conv"] == pytest.approx(11 / 12, abs=1e-12)
    assert result["exploitability"] == pytest.approx(11 / 24, abs=1e-12)


def test_evaluate_reads_policy_file_written_by_library(capsys, tmp_path):
    game = gamesolve.load_game("leduc_poker")
    policy = gamesolve.TabularPolicy.random(game, rng=np.random.default_rng(3))
    path = tmp_path / "policy.json"
    policy.to_json(path)
    out_json = tmp_path / "eval.json"
    code, _, _ = run(capsys, "evaluate", "leduc_poker", "--policy", str(path), "--json", str(out_json))
    assert code == 0
    expected = gamesolve.nash_conv(game, policy)
    result = json.loads(out_json.read_text())
    assert result["nash_conv"] == pytest.approx(expected.nash_conv, abs=1e-12)
    assert result["on_policy_values"] == pytest.approx(list(expected.on_policy_values), abs=1e-12)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("evaluate", "no_such_game", "--policy", "uniform"), "unknown game 'no_such_game'"),
        (("info", "kuhn_pokr"), "did you mean kuhn_poker"),
        (("info", "leduc(ranks=0)"), "ranks"),
        (("evaluate", "kuhn_poker", "--policy", "missing.json"), "does not exist"),
    ],
)
def test_user_errors_exit_2_with_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("gamesolve: error:")
    assert needle in lines[0]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('{"0": {"0": 0.5, "1": 0.5}}', "no entry for"),
        ('{"nonsense": {"0": 1.0}}', "'nonsense'"),
    ],
)
def test_bad_policy_files_exit_2(capsys, tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, _, err = run(capsys, "evaluate", "kuhn_poker", "--policy", str(path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert needle in err


def test_policy_file_with_illegal_action_names_the_infoset(capsys, tmp_path):
    game = gamesolve.load_game("kuhn_poker")
    table = gamesolve.uniform_policy(game).to_dict()
    table["0pb"] = {0: 0.5, 1: 0.25, 7: 0.25}
    path = tmp_path / "illegal.json"
    path.write_text(json.dumps(table))
    code, _, err = run(capsys, "evaluate", "kuhn_poker", "--policy", str(path))
    assert code == 2
    assert "'0pb'" in err and "illegal" in err


def test_games_lists_native_and_openspiel(capsys):
    code, out, _ = run(capsys, "games")
    assert code == 0
    assert "leduc(" in out and "kuhn(" in out
    assert "leduc_poker" in out and "liars_dice" in out


def test_demo_solves_leduc_and_writes_outputs(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--out", str(tmp_path), "--target", "1e-2")
    assert code == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["game"] == "leduc_poker"
    assert result["converged"] is True
    assert result["exploitability"] <= 1e-2
    assert result["history"]["exploitability"][0] == pytest.approx(4.7472222222 / 2, abs=1e-9)
    policy = gamesolve.TabularPolicy.from_json(gamesolve.load_game("leduc_poker"), tmp_path / "policy.json")
    assert gamesolve.exploitability(gamesolve.load_game("leduc_poker"), policy) == pytest.approx(
        result["exploitability"], abs=1e-12
    )
    assert (tmp_path / "exploitability.png").stat().st_size > 1000
    assert "exploitability" in out


def test_solve_writes_json_policy_and_resumes(capsys, tmp_path):
    ck = tmp_path / "run.npz"
    args = ["solve", "kuhn_poker", "--solver", "cfr+", "--no-progress", "--checkpoint", str(ck)]
    code, _, _ = run(capsys, *args, "--iterations", "50")
    assert code == 0
    code, _, _ = run(
        capsys, *args, "--iterations", "200", "--resume", str(ck), "--json", str(tmp_path / "r.json")
    )
    assert code == 0
    resumed = json.loads((tmp_path / "r.json").read_text())
    direct = gamesolve.solve(gamesolve.load_game("kuhn_poker"), "cfr+", iterations=200, progress=False)
    assert resumed["iterations"] == 200
    assert resumed["exploitability"] == pytest.approx(direct.exploitability, abs=1e-15)
    code, _, err = run(
        capsys, "solve", "kuhn_poker", "--solver", "cfr", "--iterations", "10", "--resume", str(ck)
    )
    assert code == 2 and "solver" in err


def test_solve_user_errors(capsys):
    code, _, err = run(capsys, "solve", "kuhn_poker", "--solver", "nope", "--iterations", "3")
    assert code == 2 and "unknown solver 'nope'" in err
    code, _, err = run(capsys, "solve", "kuhn_poker")
    assert code == 2 and "--iterations" in err


def test_console_script_runs_as_a_process():
    proc = subprocess.run(
        [sys.executable, "-m", "gamesolve.cli", "evaluate", "kuhn_poker(players=3)", "--policy", "first"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "NashConv" in proc.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "gamesolve.cli", "info", "nope_game"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0


def test_solve_enumerate_and_lemke_howson_on_catalog_games(capsys, tmp_path):
    out_json = tmp_path / "bos.json"
    code, out, _ = run(
        capsys, "solve", "battle_of_the_sexes", "--solver", "enumerate", "--json", str(out_json)
    )
    assert code == 0
    assert "found 3 equilibria" in out
    result = json.loads(out_json.read_text())
    assert len(result["equilibria"]) == 3
    assert [[0.6, 0.4], [0.4, 0.6]] in [[[round(p, 12) for p in s] for s in e] for e in result["equilibria"]]
    direct = gamesolve.solve(gamesolve.load_game("chicken"), "lemke-howson", initial_label=None)
    assert direct.gap <= 1e-12
    assert len(direct.extras["equilibria"]) >= 1
    code, _, err = run(capsys, "solve", "matching_pennies_3p", "--solver", "enumerate")
    assert code == 2 and "two-player" in err


@pytest.mark.parametrize(
    "solver,extra",
    [
        ("lp", []),
        ("ce", []),
        ("cce", []),
        ("enumerate", []),
        ("lemke-howson", []),
        ("mirror-prox", ["--iterations", "3000"]),
        ("rm+", ["--iterations", "3000"]),
        ("qre", ["--iterations", "50", "--set", "temperature=0.01"]),
    ],
)
def test_solve_nfg_file_with_every_kind_of_solver(capsys, tmp_path, solver, extra):
    from gamesolve.games.nfg import write

    path = tmp_path / "amp.nfg"
    write(gamesolve.load_game("amp"), path)
    out_json = tmp_path / "out.json"
    code, out, err = run(capsys, "solve", str(path), "--solver", solver, "--json", str(out_json), *extra)
    assert code == 0, err
    result = json.loads(out_json.read_text())
    assert result["solver"] == solver
    assert "exploitability" in out and "values" in out
    if solver in ("ce", "cce"):
        # in a two-player zero-sum game the marginals of any CCE are Nash strategies (unique here)
        dist = np.asarray(result["distribution"])
        assert dist.shape == (2, 2)
        assert dist.sum(axis=1) == pytest.approx([0.4, 0.6], abs=1e-7)
        assert result["nash_conv"] <= 1e-7
    else:
        row = result["profile"][0]
        tol = 1e-6 if solver in ("lp", "enumerate", "lemke-howson") else 2e-2
        assert row == pytest.approx([0.4, 0.6], abs=tol)
        assert result["value"][0] == pytest.approx(0.2, abs=tol)


# ------------------------------------------------------------------------------------ Markov games


def test_solve_soccer_with_shapley_writes_a_policy_that_evaluate_reads(capsys, tmp_path):
    policy = tmp_path / "soccer.json"
    out_json = tmp_path / "solve.json"
    code, out, _ = run(
        capsys,
        "solve",
        "soccer",
        "--solver",
        "shapley",
        "--policy-out",
        str(policy),
        "--json",
        str(out_json),
        "--no-progress",
    )
    assert code == 0
    assert "start value     -0.000000000" in out or "start value     +0.000000000" in out
    assert "converged in" in out
    result = json.loads(out_json.read_text())
    assert len(result["value"]) == 762 and abs(result["value"][0]) < 1e-8
    code, out, _ = run(
        capsys, "evaluate", "soccer", "--policy", str(policy), "--json", str(tmp_path / "e.json")
    )
    assert code == 0
    evaluated = json.loads((tmp_path / "e.json").read_text())
    assert evaluated["nash_conv"] < 1e-8
    assert len(evaluated["state_values"][0]) == 762


def test_evaluate_uniform_markov_profile_matches_the_library(capsys, tmp_path):
    code, _, _ = run(
        capsys, "evaluate", "two_state", "--policy", "uniform", "--json", str(tmp_path / "e.json")
    )
    assert code == 0
    game = gamesolve.load_game("two_state")
    expected = gamesolve.nash_conv(game, gamesolve.MarkovProfile.uniform(game))
    assert json.loads((tmp_path / "e.json").read_text())["nash_conv"] == pytest.approx(
        expected.nash_conv, abs=1e-12
    )
    assert expected.nash_conv == pytest.approx(10 / 11, abs=1e-12)  # = 0.909090..., exact rational


def test_markov_cli_errors_are_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "solve", "fishery", "--solver", "shapley")
    assert code != 0 and "two-player zero-sum" in err and err.count("\n") == 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"strategies": [[[1.0, 0.0]], [[1.0, 0.0]]]}))
    code, _, err = run(capsys, "evaluate", "two_state", "--policy", str(bad))
    assert code != 0 and "shape" in err and err.count("\n") == 1


def test_info_describes_a_markov_game(capsys):
    code, out, _ = run(capsys, "info", "soccer")
    assert code == 0
    assert "states          762 (1 terminal)" in out and "5 x 5" in out


def test_psro_on_kuhn_converges_checkpoints_and_resumes(capsys, tmp_path):
    code, out, _ = run(
        capsys, "psro", "kuhn", "--iterations", "10", "--checkpoint", str(tmp_path), "--no-progress"
    )
    assert code == 0
    assert "population      8 x 8" in out and "converged" in out
    assert (tmp_path / "psro.npz").is_file() and (tmp_path / "result.json").is_file()
    summary = json.loads((tmp_path / "result.json").read_text())
    assert summary["exploitability"] < 1e-9
    code, _, err = run(capsys, "psro", "kuhn", "--iterations", "3", "--meta-solver", "bogus")
    assert code == 2 and "unknown meta_solver 'bogus'" in err


def test_tournament_prints_ratings_and_writes_a_heatmap(capsys, tmp_path):
    game = gamesolve.load_game("kuhn")
    policy = gamesolve.solve(game, "cfr+", iterations=200).policy
    path = tmp_path / "cfr.json"
    policy.to_json(path)
    heat, out_json = tmp_path / "heat.png", tmp_path / "meta.json"
    code, out, _ = run(
        capsys,
        "tournament",
        "kuhn",
        "--policies",
        str(path),
        "uniform",
        "--heatmap",
        str(heat),
        "--json",
        str(out_json),
        "--executor",
        "inprocess",
        "--no-progress",
    )
    assert code == 0
    lines = [line for line in out.splitlines() if line.strip().startswith(("1 ", "2 "))]
    assert lines[0].split()[1] == "cfr"  # the CFR+ policy is rated above the uniform one
    assert heat.stat().st_size > 1000
    meta = json.loads(out_json.read_text())
    expected = gamesolve.expected_values(game, policy.with_player(1, gamesolve.uniform_policy(game)))
    assert meta["payoffs"][0][0][1] == pytest.approx(float(expected[0]), abs=1e-12)
    code, _, err = run(capsys, "tournament", "kuhn", "--policies", "uniform")
    assert code == 2 and "at least two" in err
