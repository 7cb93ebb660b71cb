"""The run loop loses nothing and never hangs: arguments, outputs and budgets are checked first.

Covers the library side of the robustness issue: every numeric argument of :func:`gamesolve.solve`
is validated before any work; the checkpoint path is checked before the game is compiled; an
existing checkpoint is replaced only when resuming it or when asked; writes follow symbolic
links, refuse special files and honour the umask; a checkpoint that fails to write mid-run does
not lose the result; and a time limit bounds the wall clock of the solving, evaluation included.
"""

from __future__ import annotations

import errno
import math
import os
import stat
import time

import numpy as np
import pytest

import gamesolve
import gamesolve.run as run_module
from gamesolve.checkpoint import load_checkpoint
from gamesolve.errors import CheckpointError, InvalidArgumentError, OutputPathError
from gamesolve.io import atomic_write_text, check_output_path, json_text


@pytest.fixture(scope="module")
def kuhn():
    return gamesolve.as_compiled(gamesolve.load_game("kuhn_poker"))


@pytest.fixture(scope="module")
def leduc():
    return gamesolve.as_compiled(gamesolve.load_game("leduc_poker"))


def _solve(game, solver="cfr", **kwargs):
    kwargs.setdefault("progress", False)
    return gamesolve.solve(game, solver, **kwargs)


# ------------------------------------------------------------------------------ numeric arguments


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"iterations": float("nan")}, "iterations must be an integer, got nan"),
        ({"iterations": 1.5}, "iterations must be an integer, got 1.5"),
        ({"iterations": True}, "iterations must be an integer, got True"),
        ({"iterations": "10"}, "iterations must be an integer, got '10'"),
        ({"time_limit": float("nan")}, "time_limit must be a finite number, got nan"),
        ({"time_limit": float("inf")}, "time_limit must be a finite number, got inf"),
        ({"target_exploitability": float("nan")}, "target_exploitability must be a finite number"),
        ({"target_exploitability": -1.0}, "target_exploitability must be >= 0, got -1"),
        ({"iterations": 5, "eval_every": 2.5}, "eval_every must be an integer"),
        ({"iterations": 5, "seed": -1}, "seed must be >= 0, got -1"),
        ({"iterations": 5, "seed": float("nan")}, "seed must be an integer"),
        ({"iterations": 5, "checkpoint_every": 2}, "checkpoint_every needs a checkpoint path"),
        ({"iterations": 5, "callback": 3}, "callback must be callable"),
        ({"iterations": 5, "overwrite": "yes"}, "overwrite must be true or false"),
    ],
)
def test_bad_loop_arguments_fail_at_the_door(kuhn, kwargs, match):
    start = time.perf_counter()
    with pytest.raises(InvalidArgumentError, match=match):
        _solve(kuhn, **kwargs)
    assert time.perf_counter() - start < 5.0


def test_integral_floats_are_accepted_as_counts(kuhn):
    assert _solve(kuhn, iterations=10.0, eval_every=5.0).iterations == 10


def test_a_target_alone_stops_and_zero_iterations_evaluate_the_start(kuhn):
    assert _solve(kuhn, "cfr+", target_exploitability=0.05).converged
    start = _solve(kuhn, iterations=0)
    assert start.iterations == 0
    assert start.exploitability == pytest.approx(11 / 24, abs=1e-12)  # uniform NashConv 11/12


# ------------------------------------------------------------------------------- checkpoint paths


def test_checkpoint_that_is_a_directory_fails_before_any_work(kuhn, tmp_path):
    calls = []
    with pytest.raises(OutputPathError, match="is a directory"):
        _solve(kuhn, iterations=10, checkpoint=tmp_path, callback=lambda it, e: calls.append(it))
    assert calls == []


def test_checkpoint_in_an_unwritable_place_fails_before_the_game_is_compiled(tmp_path):
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc")
    game = gamesolve.load_game("leduc_poker")  # not compiled yet
    start = time.perf_counter()
    with pytest.raises(OutputPathError, match="cannot be written"):
        _solve(game, iterations=10, checkpoint="/proc/gamesolve-test.npz")
    assert time.perf_counter() - start < 2.0


def test_existing_checkpoint_of_the_same_run_offers_resume(kuhn, tmp_path):
    path = tmp_path / "c.npz"
    _solve(kuhn, iterations=30, checkpoint=path)
    with pytest.raises(CheckpointError, match="already holds iteration 30 of this run; resume it"):
        _solve(kuhn, iterations=50, checkpoint=path)
    assert load_checkpoint(path)[0]["iteration"] == 30  # untouched
    resumed = _solve(kuhn, iterations=50, checkpoint=path, resume=path)
    assert resumed.iterations == 50
    assert load_checkpoint(path)[0]["iteration"] == 50


def test_existing_checkpoint_of_another_run_is_not_overwritten(kuhn, tmp_path):
    path = tmp_path / "c.npz"
    _solve(kuhn, "cfr+", iterations=300, checkpoint=path)
    with pytest.raises(CheckpointError, match=r"holds another run \(cfr\+ on 'kuhn_poker', iteration 300\)"):
        _solve(kuhn, "dcfr", iterations=5, checkpoint=path)
    assert load_checkpoint(path)[0]["iteration"] == 300
    _solve(kuhn, "dcfr", iterations=5, checkpoint=path, overwrite=True)
    meta = load_checkpoint(path)[0]
    assert (meta["solver"], meta["iteration"]) == ("dcfr", 5)


def test_a_file_that_is_not_a_checkpoint_is_not_replaced(kuhn, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("precious")
    with pytest.raises(CheckpointError, match="not a gamesolve checkpoint; refusing to replace it"):
        _solve(kuhn, iterations=5, checkpoint=path)
    assert path.read_text() == "precious"


def test_resume_into_another_existing_checkpoint_is_refused(kuhn, tmp_path):
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    _solve(kuhn, iterations=10, checkpoint=first)
    _solve(kuhn, iterations=20, checkpoint=second)
    with pytest.raises(CheckpointError, match="already holds iteration 20"):
        _solve(kuhn, iterations=30, checkpoint=second, resume=first)


def test_resume_past_the_budget_says_there_is_nothing_to_do(kuhn, tmp_path):
    path = tmp_path / "c.npz"
    _solve(kuhn, iterations=50, checkpoint=path)
    result = _solve(kuhn, iterations=30, resume=path)
    assert result.iterations == 50
    assert result.message == (
        "nothing to do: the checkpoint is at iteration 50, at or past the budget of 30 iterations"
    )


# ------------------------------------------------------------------------------------ the writers


def test_writes_follow_symbolic_links(kuhn, tmp_path):
    target = tmp_path / "real.npz"
    link = tmp_path / "link.npz"
    os.symlink(target, link)  # dangling until the first write
    _solve(kuhn, iterations=5, checkpoint=link)
    assert link.is_symlink() and target.is_file()
    _solve(kuhn, iterations=8, checkpoint=link, resume=link)
    assert link.is_symlink()
    assert load_checkpoint(target)[0]["iteration"] == 8

    text_link = tmp_path / "out.json"
    text_target = tmp_path / "elsewhere.json"
    text_target.write_text("{}")
    os.symlink(text_target, text_link)
    atomic_write_text(text_link, '{"a": 1}')
    assert text_link.is_symlink() and text_target.read_text() == '{"a": 1}'


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_special_files_are_refused_not_replaced(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        word = "FIFO"
    elif kind == "device":
        path = "/dev/null"
        word = "character device"
    else:
        path = tmp_path
        word = "directory"
    with pytest.raises(OutputPathError, match=word):
        check_output_path(path, what="--json")
    with pytest.raises(OutputPathError, match=word):
        atomic_write_text(path, "x")
    mode = os.stat(path).st_mode
    assert not stat.S_ISREG(mode)  # still the special file it was


def test_new_files_get_the_umask_and_existing_files_keep_their_mode(tmp_path):
    previous = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.json"
        atomic_write_text(fresh, "{}")
        assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o640
        kept = tmp_path / "kept.json"
        kept.write_text("old")
        os.chmod(kept, 0o604)
        atomic_write_text(kept, "new")
        assert stat.S_IMODE(os.stat(kept).st_mode) == 0o604
        assert kept.read_text() == "new"
    finally:
        os.umask(previous)


def test_json_text_writes_null_for_non_finite_numbers():
    text = json_text({"a": math.nan, "b": [1.0, math.inf], "c": np.float64("-inf")})
    assert text == '{"a": null, "b": [1.0, null], "c": null}'


def test_a_checkpoint_that_fails_to_write_does_not_lose_the_result(kuhn, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_module, "save_checkpoint", disk_full)
    result = _solve(kuhn, iterations=40, checkpoint=tmp_path / "c.npz", checkpoint_every=10)
    assert result.iterations == 40
    assert result.exploitability < 0.05
    assert "No space left on device" in result.extras["checkpoint_error"]
    assert result.message.startswith("completed 40 iterations; could not write checkpoint")


# ------------------------------------------------------------------------------------ time limits


# (game, solver, whether one exact evaluation is cheap next to the 0.5 s budget)
TIMED = [
    ("leduc", "cfr+", True),
    ("leduc", "mccfr-os", True),
    ("leduc", "mccfr-es", True),
    ("leduc", "xfp", True),
    ("leduc", "omwu", True),
    ("leduc", "mmd", True),
    ("leduc", "balanced-ftrl", True),
    ("leduc", "psro", True),
    ("rps", "regret-matching", True),
    ("rps", "qre", True),
    ("soccer", "minimax-q", False),
    ("random_markov(states=1000,actions=5,discount=0.999)", "shapley", False),
]


@pytest.mark.parametrize(("game_name", "solver", "cheap"), TIMED)
def test_time_limit_bounds_the_wall_clock_evaluation_included(leduc, game_name, solver, cheap):
    game = leduc if game_name == "leduc" else gamesolve.load_game(game_name)
    limit = 0.5
    start = time.perf_counter()
    result = _solve(game, solver, time_limit=limit)
    elapsed = time.perf_counter() - start
    assert elapsed <= limit + 1.0, result.message
    assert result.iterations > 0 or not cheap
    if not result.converged:
        assert result.message == "time limit of 0.5 s reached"
        if cheap:  # evaluations were scheduled to stay a small share of the budget
            assert result.wall_time >= 0.5 * limit


def test_only_a_time_limit_keeps_the_history_short_and_iterating_dominant(leduc):
    result = _solve(leduc, "mccfr-os", time_limit=1.0)
    assert result.iterations > 10_000
    assert 2 <= len(result.history) <= 150
    assert result.wall_time >= 0.75  # iterating, not evaluating, used the time
    iterations = result.history.iteration
    assert list(iterations) == sorted(iterations) and iterations[-1] == result.iterations


def test_shapley_honours_iterations_and_checkpoints(tmp_path):
    game = gamesolve.load_game("soccer")
    path = tmp_path / "s.npz"
    partial = _solve(game, "shapley", iterations=20, checkpoint=path)
    assert partial.iterations == 20 and partial.extras["sweeps"] == 20
    assert not partial.converged and partial.message == "completed 20 iterations"
    assert load_checkpoint(path)[0]["iteration"] == 20
    finished = _solve(game, "shapley", resume=path)
    direct = _solve(game, "shapley")
    assert finished.converged and finished.iterations == direct.iterations
    np.testing.assert_array_equal(np.asarray(finished.value), np.asarray(direct.value))


def test_warm_up_runs_before_the_clock_and_is_reported(kuhn, monkeypatch):
    """A solver's warm_up (kernel compilation on a first run) is timed apart from the wall time."""
    from gamesolve.solvers.cfr import CFR

    calls = []

    def slow_warm_up(self, game):
        calls.append(game.num_nodes)
        time.sleep(0.3)

    monkeypatch.setattr(CFR, "warm_up", slow_warm_up)
    result = gamesolve.solve(kuhn, "cfr+", iterations=5, eval_every=1)
    assert calls == [gamesolve.as_compiled(kuhn).num_nodes]
    assert result.extras["warm_up_seconds"] >= 0.3
    assert result.wall_time < 0.3  # five Kuhn iterations; the sleep is not in the clock
    assert result.history.wall_time[0] < 0.3
