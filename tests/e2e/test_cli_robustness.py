"""The command line loses nothing: outputs checked first, every output attempted, honest exit codes.

Exit statuses: 0 success, 1 the run finished but an output could not be written (the others were
written and the result printed), 2 a user error caught before the work, 130 Ctrl-C (outputs and
checkpoint still written).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import threading
import time

import pytest

import gamesolve
import gamesolve.cli.common as cli_common
from gamesolve.checkpoint import load_checkpoint
from gamesolve.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> bool:
    return err.strip().count("\n") == 0 and err.startswith("gamesolve: error:")


def strict_json(path) -> object:
    def refuse(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


# ------------------------------------------------------------------------ outputs checked first


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_unwritable_json_fails_before_the_solve_and_writes_nothing(capsys, tmp_path):
    policy = tmp_path / "p.json"
    start = time.perf_counter()
    code, out, err = run(
        capsys,
        "solve",
        "leduc_poker",
        "--iterations",
        "20000",
        "--no-progress",
        "--json",
        "/proc/x.json",
        "--policy-out",
        str(policy),
    )
    assert code == 2 and one_line(err)
    assert "--json path '/proc/x.json' cannot be written" in err
    assert time.perf_counter() - start < 5.0  # no 20,000 iterations first
    assert out == "" and not policy.exists()


@pytest.mark.parametrize(
    ("flag", "make", "needle"),
    [
        ("--json", lambda d: d, "is a directory"),
        ("--policy-out", lambda d: "/dev/null", "is a character device"),
        ("--checkpoint", lambda d: d, "is a directory"),
        ("--plot", lambda d: d, "is a directory"),
    ],
)
def test_special_output_paths_are_refused_up_front(capsys, tmp_path, flag, make, needle):
    code, _, err = run(
        capsys, "solve", "kuhn_poker", "--iterations", "5", "--no-progress", flag, str(make(tmp_path))
    )
    assert code == 2 and one_line(err) and needle in err


def test_two_outputs_on_one_file_or_an_output_on_the_resume_file_are_refused(capsys, tmp_path):
    same = tmp_path / "same.json"
    code, _, err = run(
        capsys, "solve", "kuhn_poker", "--iterations", "5", "--json", str(same), "--policy-out", str(same)
    )
    assert code == 2 and "--json and --policy-out both name" in err
    ck = tmp_path / "c.npz"
    assert run(capsys, "solve", "kuhn_poker", "--iterations", "5", "--checkpoint", str(ck))[0] == 0
    code, _, err = run(
        capsys, "solve", "kuhn_poker", "--iterations", "9", "--resume", str(ck), "--json", str(ck)
    )
    assert code == 2 and "would overwrite the --resume file" in err
    assert load_checkpoint(ck)[0]["iteration"] == 5


def test_json_through_a_symlink_updates_the_target(capsys, tmp_path):
    target = tmp_path / "real.json"
    link = tmp_path / "link.json"
    os.symlink(target, link)
    assert run(capsys, "solve", "kuhn_poker", "--iterations", "5", "--json", str(link))[0] == 0
    assert link.is_symlink() and strict_json(target)["iterations"] == 5


def test_a_failed_write_still_writes_the_others_and_exits_1(capsys, tmp_path, monkeypatch):
    real = cli_common.atomic_write_text  # the --json writer of every verb

    def flaky(path, text, *, what="output"):
        if what == "--json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, text, what=what)

    monkeypatch.setattr(cli_common, "atomic_write_text", flaky)
    policy = tmp_path / "p.json"
    code, out, err = run(
        capsys,
        "solve",
        "rps",
        "--solver",
        "regret-matching",
        "--iterations",
        "50",
        "--json",
        str(tmp_path / "r.json"),
        "--policy-out",
        str(policy),
    )
    assert code == 1
    assert "could not write --json" in err and "No space left on device" in err
    assert "the result above is complete" in err
    assert policy.is_file() and f"wrote {policy}" in out
    assert "exploitability" in out


# ---------------------------------------------------------------------------------- checkpoints


def test_existing_checkpoint_is_kept_unless_overwrite(capsys, tmp_path):
    ck = tmp_path / "c.npz"
    assert (
        run(
            capsys, "solve", "kuhn_poker", "--solver", "cfr+", "--iterations", "3000", "--checkpoint", str(ck)
        )[0]
        == 0
    )
    code, _, err = run(
        capsys, "solve", "kuhn_poker", "--solver", "dcfr", "--iterations", "5", "--checkpoint", str(ck)
    )
    assert code == 2 and one_line(err) and "holds another run" in err and "--overwrite" in err
    assert load_checkpoint(ck)[0]["iteration"] == 3000
    code, _, err = run(
        capsys, "solve", "kuhn_poker", "--solver", "cfr+", "--iterations", "4000", "--checkpoint", str(ck)
    )
    assert code == 2 and f"--resume {ck}" in err
    code, _, _ = run(
        capsys,
        "solve",
        "kuhn_poker",
        "--solver",
        "dcfr",
        "--iterations",
        "5",
        "--checkpoint",
        str(ck),
        "--overwrite",
    )
    assert code == 0 and load_checkpoint(ck)[0]["solver"] == "dcfr"


def test_checkpoint_every_without_checkpoint_is_an_error(capsys):
    code, _, err = run(capsys, "solve", "kuhn_poker", "--iterations", "5", "--checkpoint-every", "2")
    assert code == 2 and one_line(err) and "--checkpoint-every needs --checkpoint" in err


def test_resume_past_the_budget_says_so(capsys, tmp_path):
    ck = tmp_path / "c.npz"
    assert run(capsys, "solve", "kuhn_poker", "--iterations", "50", "--checkpoint", str(ck))[0] == 0
    code, out, _ = run(capsys, "solve", "kuhn_poker", "--iterations", "30", "--resume", str(ck))
    assert code == 0
    assert "nothing to do: the checkpoint is at iteration 50" in out
    assert "completed 30 iterations" not in out
    assert "iterations      50" in out


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: _policy_file(d), "is a JSON file"),
        (lambda d: "/dev/null", "is a character device, not a regular file"),
        (lambda d: str(d / "missing.npz"), "does not exist"),
    ],
)
def test_resume_from_the_wrong_file_says_what_it_is(capsys, tmp_path, make, needle):
    code, _, err = run(capsys, "solve", "kuhn_poker", "--iterations", "5", "--resume", make(tmp_path))
    assert code == 2 and one_line(err) and needle in err


def _policy_file(folder) -> str:
    path = folder / "policy.json"
    compiled = gamesolve.as_compiled(gamesolve.load_game("kuhn_poker"))
    gamesolve.TabularPolicy.uniform(compiled).to_json(path)
    return str(path)


def test_shapley_honours_iterations_and_checkpoint(capsys, tmp_path):
    ck = tmp_path / "s.npz"
    code, out, _ = run(
        capsys, "solve", "soccer", "--solver", "shapley", "--iterations", "7", "--checkpoint", str(ck)
    )
    assert code == 0 and "iterations      7" in out
    assert load_checkpoint(ck)[0]["iteration"] == 7


# ------------------------------------------------------------------------------- numbers and budgets


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--target-exploitability", "nan"], "target_exploitability must be a finite number"),
        (["--target-exploitability", "-1"], "target_exploitability must be >= 0"),
        (["--time-limit", "nan"], "time_limit must be a finite number"),
        (["--time-limit", "-3"], "time_limit must be > 0"),
        (["--iterations", "-5"], "iterations must be >= 0"),
        (["--iterations", "10", "--seed", "-1"], "seed must be >= 0"),
    ],
)
def test_bad_numbers_are_one_line_errors(capsys, args, needle):
    start = time.perf_counter()
    code, _, err = run(capsys, "solve", "kuhn_poker", "--no-progress", *args)
    assert code == 2 and one_line(err) and needle in err
    assert time.perf_counter() - start < 5.0


def test_nan_results_are_written_as_null(capsys, tmp_path):
    out = tmp_path / "r.json"
    code, _, _ = run(
        capsys, "solve", "two_state", "--solver", "shapley", "--set", "evaluate=false", "--json", str(out)
    )
    assert code == 0
    data = strict_json(out)
    assert data["exploitability"] is None and data["nash_conv"] is None


def test_exact_solvers_note_the_options_they_ignore(capsys):
    code, _, err = run(capsys, "solve", "rps", "--solver", "lp", "--iterations", "10")
    assert code == 0
    assert "note: lp answers in one call; --iterations does not apply" in err
    code, _, err = run(capsys, "solve", "rps", "--solver", "lp", "--checkpoint", "x.npz")
    assert code == 2 and "keeps no state" in err


def test_ctrl_c_writes_the_outputs_and_exits_130(capsys, tmp_path):
    ck = tmp_path / "c.npz"
    out_json = tmp_path / "r.json"
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code, out, _ = run(
            capsys,
            "solve",
            "leduc_poker",
            "--iterations",
            "100000000",
            "--no-progress",
            "--checkpoint",
            str(ck),
            "--json",
            str(out_json),
        )
    finally:
        timer.cancel()
    assert code == 130
    data = strict_json(out_json)
    assert data["message"].startswith("interrupted after")
    assert load_checkpoint(ck)[0]["iteration"] == data["iterations"] > 0
    assert "interrupted after" in out


def test_degenerate_games_print_their_maximal_nash_subsets(capsys, tmp_path):
    path = tmp_path / "d.nfg"
    # Column 1 pays both players 1 whatever the row: rows are indifferent, so one subset {1, 2} x {1}.
    path.write_text('NFG 1 R "d" { "1" "2" } { 2 2 }\n1 1 1 1 0 0 0 0\n')
    code, out, _ = run(capsys, "solve", str(path), "--solver", "enumerate")
    assert code == 0
    assert "2 extreme equilibria in 1 maximal Nash subset(s)" in out
    assert out.count("  player 0  ") == 2 and out.count("  player 1  ") == 1
