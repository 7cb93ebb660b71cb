"""Contracts of the CFR family (gamesolve.solvers.cfr) and of the run loop (gamesolve.solve).

Convergence numbers are deterministic (CFR has no randomness); the budgets below were measured
and carry a margin so that a legitimate change of floating-point order cannot break them.
"""

from __future__ import annotations

import io
import json
import os
import signal
import time

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import discounted_cfr

import gamesolve
from gamesolve import (
    CheckpointError,
    GameKind,
    GameSpec,
    History,
    Stop,
    TabularPolicy,
    UnsupportedGame,
    Utility,
)
from gamesolve.checkpoint import load_checkpoint
from gamesolve.solvers.cfr import CFR, VARIANTS

KUHN_VALUE = (-1.0 / 18.0, 1.0 / 18.0)


def _solve(game, solver, **kwargs):
    return gamesolve.solve(game, solver, progress=False, **kwargs)


# ------------------------------------------------------------------------------ known answers


@pytest.mark.parametrize(("variant", "iterations"), [("cfr", 300), ("cfr+", 200), ("dcfr", 300)])
def test_kuhn_average_policy_value(kuhn, variant, iterations):
    result = _solve(kuhn, variant, iterations=iterations)
    assert result.iterations == iterations
    np.testing.assert_allclose(result.value, KUHN_VALUE, rtol=0, atol=1e-3)
    # ``value`` is the value of the average policy, which is the solver's output.
    assert result.policy == result.average_policy
    np.testing.assert_allclose(
        result.value, gamesolve.expected_values(kuhn, result.average_policy), rtol=0, atol=1e-14
    )


def test_kuhn_cfr_plus_exploitability(kuhn):
    result = _solve(kuhn, "cfr+", iterations=200)
    assert result.exploitability <= 1e-3
    assert result.exploitability == pytest.approx(
        gamesolve.exploitability(kuhn, result.average_policy), abs=1e-15
    )
    assert result.nash_conv == pytest.approx(2 * result.exploitability, abs=1e-15)
    # The current iterate is not what converges: it is a different policy.
    assert not np.allclose(result.current_policy.probs, result.average_policy.probs, atol=1e-6)


# ------------------------------------------------------------ equal algorithms, equal numbers

OPENSPIEL_CPP = {"cfr": pyspiel.CFRSolver, "cfr+": pyspiel.CFRPlusSolver}


@pytest.mark.parametrize("variant", sorted(OPENSPIEL_CPP))
@pytest.mark.parametrize("game_name", ["kuhn", "leduc"])
def test_matches_openspiel_cpp_solvers(request, game_name, variant):
    game = request.getfixturevalue(game_name)
    compiled = game.compile()
    os_game = game.pyspiel_game
    solver = OPENSPIEL_CPP[variant](os_game)
    for _ in range(100):
        solver.evaluate_and_update_policy()
    os_average = solver.average_policy()
    theirs_exploitability = pyspiel.exploitability(os_game, os_average)
    theirs = TabularPolicy.from_dict(
        compiled, {key: dict(os_average.get_state_policy(key)) for key in compiled.infosets.keys}
    )

    ours = _solve(game, variant, iterations=100, eval_every=100)
    assert ours.exploitability == pytest.approx(theirs_exploitability, abs=1e-8)
    np.testing.assert_allclose(ours.average_policy.probs, theirs.probs, rtol=0, atol=1e-8)
    assert ours.history.exploitability[-1] == pytest.approx(theirs_exploitability, abs=1e-8)


@pytest.mark.parametrize(
    ("variant", "factory"),
    [("lcfr", discounted_cfr.LCFRSolver), ("dcfr", discounted_cfr.DCFRSolver)],
)
def test_discounted_variants_match_openspiel_python(kuhn, variant, factory):
    """OpenSpiel's Python LCFR and DCFR(1.5, 0, 2) are the same algorithms as ours."""
    solver = factory(kuhn.pyspiel_game)
    for _ in range(50):
        solver.evaluate_and_update_policy()
    theirs = TabularPolicy.from_openspiel(kuhn, solver.average_policy())
    ours = _solve(kuhn, variant, iterations=50)
    np.testing.assert_allclose(ours.average_policy.probs, theirs.probs, rtol=0, atol=1e-10)


# ------------------------------------------------------------------------ convergence on Leduc


@pytest.fixture(scope="module")
def leduc_runs(leduc):
    return {v: _solve(leduc, v, iterations=1000, eval_every=50) for v in VARIANTS}


# Measured (eval_every=50): exploitability at 100 / at 1000 iterations.
# cfr 9.6e-2/1.2e-2 (8x), cfr+ 1.3e-2/2.5e-4 (53x), lcfr 3.4e-2/5.6e-3 (6x),
# dcfr 7.8e-3/1.6e-4 (48x), pcfr+ 2.0e-2/7.1e-4 (28x).
MIN_DROP_100_TO_1000 = {"cfr": 5.0, "cfr+": 25.0, "lcfr": 4.0, "dcfr": 25.0, "pcfr+": 15.0}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_leduc_exploitability_decreases(leduc_runs, variant):
    history = leduc_runs[variant].history
    it = np.array(history.iteration)
    expl = np.array(history.exploitability)
    assert it.tolist() == list(range(0, 1001, 50))
    at = dict(zip(it.tolist(), expl.tolist(), strict=True))
    assert at[1000] < at[100] / MIN_DROP_100_TO_1000[variant]
    # Robust trend: every evaluation beats every evaluation 200 or more iterations older ...
    for i in range(len(it)):
        later = it >= it[i] + 200
        assert (expl[later] < expl[i]).all(), f"not below the value at iteration {it[i]}"
    # ... the curve goes up at most 5 times in 20 steps, and never by more than 20% ...
    steps = expl[1:] / expl[:-1]
    assert (steps > 1).sum() <= 5
    assert steps.max() < 1.2
    # ... and it falls faster than the O(1/sqrt(T)) guarantee (log-log slope over 50..1000).
    slope = np.polyfit(np.log(it[1:]), np.log(expl[1:]), 1)[0]
    assert slope < -0.75


# Iterations to reach exploitability 1e-3 on Leduc, measured with eval_every=1:
# pcfr+ 704, dcfr 298, cfr+ 448, lcfr 9190 (vanilla cfr: 26210, not run here).
ITERATIONS_TO_1E3 = {"pcfr+": 704, "dcfr": 298, "cfr+": 448, "lcfr": 9190}


@pytest.mark.parametrize("variant", list(ITERATIONS_TO_1E3))
def test_leduc_reaches_1e3_within_measured_budget(leduc, variant):
    budget = int(1.5 * ITERATIONS_TO_1E3[variant])
    result = _solve(leduc, variant, target_exploitability=1e-3, iterations=budget, eval_every=10)
    assert result.converged
    assert result.exploitability <= 1e-3
    assert result.iterations <= budget
    assert result.message.startswith("reached exploitability")
    # It stopped at the first evaluation at or below the target.
    expl = result.history.exploitability
    assert expl[-1] <= 1e-3 and min(expl[:-1]) > 1e-3
    assert result.iterations == result.history.iteration[-1]


# ------------------------------------------------------------------------------ first iteration


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_fresh_and_first_average_policies_are_uniform(leduc, variant):
    """With no regret yet, regret matching plays uniform (Zinkevich et al. 2007), so the first average is too.

    What holds exactly: a fresh solver's current and average policies are uniform over the legal
    actions (Leduc has infosets with two and with three), and after one iteration the average
    policy is still uniform. The current policy after one iteration has already moved (it is
    regret matching on the first regrets), so "plays uniform" is about the policy *used in* the
    first iteration.
    """
    g = leduc.compile()
    uniform = gamesolve.uniform_policy(g).probs
    solver = CFR(variant)
    state = solver.init(g, np.random.default_rng(0))
    np.testing.assert_array_equal(solver.policy(g, state, gamesolve.Iterate.CURRENT).probs, uniform)
    np.testing.assert_array_equal(solver.policy(g, state, gamesolve.Iterate.AVERAGE).probs, uniform)
    solver.step(g, state, 1)
    np.testing.assert_allclose(
        solver.policy(g, state, gamesolve.Iterate.AVERAGE).probs, uniform, rtol=0, atol=1e-15
    )
    assert not np.allclose(solver.policy(g, state, gamesolve.Iterate.CURRENT).probs, uniform)

    # Through the run loop: zero iterations give uniform policies, one gives a uniform average.
    zero = _solve(leduc, variant, iterations=0)
    np.testing.assert_array_equal(zero.current_policy.probs, uniform)
    np.testing.assert_array_equal(zero.average_policy.probs, uniform)
    assert zero.nash_conv == pytest.approx(4.7472222222, abs=1e-9)  # uniform (OpenSpiel tests)
    one = _solve(leduc, variant, iterations=1)
    np.testing.assert_allclose(one.average_policy.probs, uniform, rtol=0, atol=1e-15)


# ------------------------------------------------------------------------------ three players


def test_three_player_kuhn_nash_conv_decreases(kuhn3):
    result = _solve(kuhn3, "cfr", iterations=500, eval_every=50)
    nash_conv = np.array(result.history.nash_conv)
    assert result.history.iteration == tuple(range(0, 501, 50))
    # Measured: 2.06 at 0, 7.3e-2 at 50, 7.2e-3 at 500, strictly decreasing at every evaluation.
    assert (np.diff(nash_conv) < 0).all()
    assert nash_conv[-1] < nash_conv[1] / 5
    assert nash_conv[-1] < 0.01
    assert result.nash_conv == pytest.approx(nash_conv[-1], abs=1e-12)
    assert result.exploitability == pytest.approx(nash_conv[-1] / 3, abs=1e-12)
    assert len(result.value) == 3
    assert sum(result.value) == pytest.approx(0.0, abs=1e-12)  # zero-sum


# ------------------------------------------------------------------------------ the run loop


def test_time_limit_stops_the_run(leduc):
    start = time.perf_counter()
    result = _solve(leduc, "cfr+", time_limit=0.3, eval_every=100)
    elapsed = time.perf_counter() - start
    assert result.message == "time limit of 0.3 s reached"
    assert not result.converged
    assert result.iterations > 0
    # The limit bounds the whole call, evaluations included (within 10% or 1 s), and the
    # iterating itself used most of it.
    assert 0.15 <= result.wall_time <= 0.3
    assert elapsed < 0.3 + 1.0
    assert result.history.iteration[-1] == result.iterations


def test_target_exploitability_converges_and_stops_early(kuhn):
    result = _solve(kuhn, "cfr+", target_exploitability=1e-2, iterations=10_000, eval_every=5)
    assert result.converged
    assert result.message.startswith("reached exploitability")
    assert result.iterations < 10_000
    assert result.iterations % 5 == 0
    expl = result.history.exploitability
    assert expl[-1] <= 1e-2 < min(expl[:-1])
    assert result.exploitability == pytest.approx(expl[-1], abs=1e-15)

    # Reached exactly at the end of the budget: still converged.
    again = _solve(kuhn, "cfr+", target_exploitability=1e-2, iterations=result.iterations, eval_every=5)
    assert again.converged
    assert again.iterations == result.iterations

    # Not reached: the budget ends the run, and converged says so.
    short = _solve(kuhn, "cfr+", target_exploitability=1e-2, iterations=result.iterations - 5, eval_every=5)
    assert not short.converged
    assert short.message == f"completed {result.iterations - 5} iterations"


def test_callback_stop_ends_the_run(kuhn):
    seen: list[tuple[int, float | None]] = []

    def callback(iteration, exploitability):
        seen.append((iteration, exploitability))
        return Stop if iteration == 7 else None

    result = _solve(kuhn, "cfr", iterations=100, eval_every=5, callback=callback)
    assert result.iterations == 7
    assert result.message == "stopped by callback"
    assert [it for it, _ in seen] == list(range(1, 8))
    # The callback sees the latest evaluation: the initial one until iteration 5.
    history = result.history
    assert history.iteration == (0, 5, 7)
    assert all(expl == history.exploitability[0] for _, expl in seen[:4])
    assert seen[4][1] == history.exploitability[1]
    # Anything but Stop keeps going.
    result = _solve(kuhn, "cfr", iterations=10, callback=lambda it, e: False)
    assert result.iterations == 10


@pytest.mark.parametrize(
    ("iterations", "eval_every", "expected"),
    [
        (50, 10, (0, 10, 20, 30, 40, 50)),
        (45, 10, (0, 10, 20, 30, 40, 45)),  # the final iterate is always evaluated
        (200, None, tuple(range(0, 201, 4))),  # default: about 50 evaluations over the budget
        (3, 1, (0, 1, 2, 3)),
    ],
)
def test_eval_every_sets_the_history_iterations(kuhn, iterations, eval_every, expected):
    result = _solve(kuhn, "cfr", iterations=iterations, eval_every=eval_every)
    history = result.history
    assert history.iteration == expected
    assert len(history.wall_time) == len(history.exploitability) == len(history.nash_conv) == len(expected)
    np.testing.assert_allclose(history.nash_conv, 2 * np.array(history.exploitability), rtol=1e-15)


def test_history_wall_time_is_non_decreasing(leduc):
    result = _solve(leduc, "dcfr", iterations=200, eval_every=10)
    wall = np.array(result.history.wall_time)
    assert wall[0] == 0.0
    assert (np.diff(wall) >= 0).all()
    assert wall[-1] > 0.0
    assert wall[-1] == result.wall_time


def test_result_to_dict_is_json(kuhn):
    result = _solve(kuhn, "pcfr+", iterations=20, eval_every=5)
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back == data
    assert back["solver"] == "pcfr+"
    assert back["game"] == result.game
    assert back["iterations"] == 20
    assert back["config"] == result.config
    assert back["value"] == list(result.value)
    assert back["history"]["iteration"] == [0, 5, 10, 15, 20]


def test_history_json_round_trip(kuhn):
    history = _solve(kuhn, "cfr", iterations=30, eval_every=10).history
    back = History.from_dict(json.loads(history.to_json()))
    assert back == history
    assert len(back) == 4
    assert History.from_dict({}) == History()


# ------------------------------------------------------------------------------ checkpoints


@pytest.mark.parametrize("variant", ["pcfr+", "dcfr"])
def test_checkpoint_and_resume_reproduce_an_uninterrupted_run(leduc, tmp_path, variant):
    """PCFR+ needs the stored last regrets, DCFR the iteration number: both must survive a resume."""
    full = _solve(leduc, variant, iterations=60, eval_every=10)

    path = tmp_path / "run.npz"
    first = _solve(leduc, variant, iterations=40, eval_every=10, checkpoint=path, checkpoint_every=20)
    assert first.iterations == 40
    resumed = _solve(leduc, variant, iterations=60, eval_every=10, resume=path)
    assert resumed.iterations == 60

    np.testing.assert_array_equal(resumed.average_policy.probs, full.average_policy.probs)
    np.testing.assert_array_equal(resumed.current_policy.probs, full.current_policy.probs)
    assert resumed.exploitability == full.exploitability
    assert resumed.history.iteration == full.history.iteration
    assert resumed.history.exploitability == full.history.exploitability
    assert resumed.history.nash_conv == full.history.nash_conv
    # Times before the resume are carried over, and the clock keeps running from there.
    assert resumed.history.wall_time[: len(first.history)] == first.history.wall_time
    assert resumed.wall_time >= first.wall_time


def test_periodic_checkpoint_resumes_mid_run(leduc, tmp_path):
    """A checkpoint written by ``checkpoint_every`` (not the final one) resumes to the same numbers."""
    path = tmp_path / "run.npz"
    snapshot = tmp_path / "at20.npz"

    def keep_iteration_20(iteration, _):
        if iteration == 20:  # the periodic checkpoint is written before the callback runs
            snapshot.write_bytes(path.read_bytes())

    full = _solve(
        leduc,
        "cfr+",
        iterations=50,
        eval_every=10,
        checkpoint=path,
        checkpoint_every=20,
        callback=keep_iteration_20,
    )
    meta, state = load_checkpoint(snapshot)
    assert meta["iteration"] == 20
    assert int(state["t"]) == 20
    assert not any(key.startswith("_") for key in state)  # scratch arrays are not saved
    assert load_checkpoint(path)[0]["iteration"] == 50  # the final checkpoint

    resumed = _solve(leduc, "cfr+", iterations=50, eval_every=10, resume=snapshot)
    np.testing.assert_array_equal(resumed.average_policy.probs, full.average_policy.probs)
    assert resumed.history.exploitability == full.history.exploitability


@pytest.fixture
def kuhn_checkpoint(kuhn, tmp_path):
    path = tmp_path / "kuhn-cfr.npz"
    _solve(kuhn, "cfr", iterations=5, checkpoint=path, seed=0)
    return path


@pytest.mark.parametrize(
    ("game_name", "solver", "options", "match"),
    [
        ("leduc", "cfr", {}, r"is for game 'kuhn_poker', not this 'leduc_poker'"),
        ("kuhn", "cfr+", {}, r"is for solver 'cfr', not 'cfr\+'"),
        ("kuhn", "cfr", {"alternating": False}, r"is for solver 'cfr', not 'cfr\(custom\)'"),
        ("kuhn", "cfr", {"seed": 1}, r"was written with seed 0, not 1"),
    ],
    ids=["another game", "another solver", "another variant config", "another seed"],
)
def test_resume_refuses_another_run(request, kuhn_checkpoint, game_name, solver, options, match):
    game = request.getfixturevalue(game_name)
    with pytest.raises(CheckpointError, match=match):
        _solve(game, solver, iterations=10, resume=kuhn_checkpoint, **options)


def test_resume_refuses_another_config(kuhn, tmp_path):
    path = tmp_path / "dcfr.npz"
    _solve(kuhn, "dcfr", alpha=2.0, iterations=5, checkpoint=path)
    with pytest.raises(CheckpointError, match="solver config"):
        _solve(kuhn, "dcfr", alpha=3.0, iterations=10, resume=path)
    # The same config resumes.
    assert _solve(kuhn, "dcfr", alpha=2.0, iterations=10, resume=path).iterations == 10


def test_resume_refuses_a_missing_file(kuhn, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        _solve(kuhn, "cfr", iterations=10, resume=tmp_path / "nope.npz")


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _flip_inside(raw: bytes, needle: bytes) -> bytes:
    at = raw.index(needle) + len(needle) // 2
    return raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :]


CORRUPTIONS = {
    "empty": lambda raw, state: b"",
    "garbage": lambda raw, state: b"not a checkpoint at all" * 20,
    "truncated": lambda raw, state: raw[: len(raw) // 2],
    "tail cut": lambda raw, state: raw[:-5],
    # A flipped byte inside the stored regrets: the zip CRC catches it.
    "flipped data": lambda raw, state: _flip_inside(raw, state["regrets"].tobytes()),
    "npy file": lambda raw, state: _npy(np.arange(4.0)),
    "npz without header": lambda raw, state: _npz(probs=np.zeros(3)),
    "header not an object": lambda raw, state: _npz(__meta__=np.frombuffer(b"[1, 2]", dtype=np.uint8)),
    "header not json": lambda raw, state: _npz(__meta__=np.frombuffer(b"{oops", dtype=np.uint8)),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_corrupt_checkpoint_raises_checkpoint_error(kuhn, kuhn_checkpoint, tmp_path, corruption):
    raw = kuhn_checkpoint.read_bytes()
    _, state = load_checkpoint(kuhn_checkpoint)
    assert np.abs(state["regrets"]).max() > 0  # the flipped bytes are real numbers
    bad = tmp_path / "bad.npz"
    bad.write_bytes(CORRUPTIONS[corruption](raw, state))
    with pytest.raises(CheckpointError, match=r"bad\.npz"):
        _solve(kuhn, "cfr", iterations=10, resume=bad)


def test_ctrl_c_stops_after_the_current_iteration(kuhn, tmp_path):
    path = tmp_path / "interrupted.npz"
    k = 6

    def press_ctrl_c(iteration, _):
        if iteration == k:
            os.kill(os.getpid(), signal.SIGINT)

    leaked: list[int] = []

    def guard(signum, frame):
        leaked.append(signum)

    previous = signal.signal(signal.SIGINT, guard)
    try:
        result = _solve(kuhn, "cfr", iterations=100, eval_every=5, callback=press_ctrl_c, checkpoint=path)
    finally:
        restored = signal.signal(signal.SIGINT, previous)
    assert leaked == []  # solve handled the signal itself ...
    assert restored is guard  # ... and put the previous handler back
    assert result.message == f"interrupted after {k} iterations"
    assert "interrupted" in result.message
    assert result.iterations == k
    assert not result.converged
    assert result.history.iteration == (0, 5, k)  # the final iterate is evaluated
    meta, state = load_checkpoint(path)  # the checkpoint is written on Ctrl-C too
    assert meta["iteration"] == k
    assert int(state["t"]) == k

    # The interrupted run continues to the numbers of an uninterrupted one.
    resumed = _solve(kuhn, "cfr", iterations=20, resume=path)
    full = _solve(kuhn, "cfr", iterations=20)
    np.testing.assert_array_equal(resumed.average_policy.probs, full.average_policy.probs)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "iterations, time_limit or target_exploitability"),
        ({"iterations": -1}, "iterations must be >= 0, got -1"),
        ({"iterations": 10, "eval_every": 0}, "eval_every must be >= 1, got 0"),
        ({"iterations": 10, "checkpoint_every": 0}, "checkpoint_every must be >= 1, got 0"),
        ({"time_limit": 0.0}, "time_limit must be > 0, got 0"),
        ({"time_limit": -1.0}, "time_limit must be > 0, got -1"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kuhn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _solve(kuhn, "cfr", **kwargs)


def test_unknown_solver_and_bad_options(kuhn):
    with pytest.raises(ValueError, match=r"unknown solver 'cfr-plus'; known solvers: .*cfr\+"):
        _solve(kuhn, "cfr-plus", iterations=1)
    with pytest.raises(ValueError, match=r"bad options for solver 'dcfr'.*alpah"):
        _solve(kuhn, "dcfr", iterations=1, alpah=2.0)
    with pytest.raises(ValueError, match=r"unknown CFR variant 'cfr\+\+'"):
        CFR("cfr++")
    with pytest.raises(TypeError, match="only when the solver is given by name"):
        _solve(kuhn, CFR("dcfr"), iterations=1, alpha=2.0)


def test_solver_options_by_name_reach_the_config(kuhn):
    result = _solve(kuhn, "dcfr", alpha=2.0, iterations=10)
    assert result.solver == "dcfr(custom)"
    assert result.config["rule"] == {"floor_zero": False, "alpha": 2.0, "beta": 0.0, "predictive": False}
    assert result.config["averaging_gamma"] == 2.0
    assert result.config["alternating"] is True
    # The option changes the numbers, exactly as the configured object does.
    by_object = _solve(kuhn, CFR("dcfr", alpha=2.0), iterations=10)
    default = _solve(kuhn, "dcfr", iterations=10)
    np.testing.assert_array_equal(result.average_policy.probs, by_object.average_policy.probs)
    assert not np.array_equal(result.average_policy.probs, default.average_policy.probs)
    assert default.config["rule"]["alpha"] == 1.5

    simultaneous = _solve(kuhn, "cfr+", alternating=False, gamma=2.0, iterations=10)
    assert simultaneous.config["alternating"] is False
    assert simultaneous.config["averaging_gamma"] == 2.0


@pytest.mark.parametrize("kind", [k for k in GameKind if k is not GameKind.EXTENSIVE_FORM])
def test_cfr_refuses_games_that_are_not_extensive_form(kind):
    spec = GameSpec("some game", kind, 2, Utility.ZERO_SUM)
    for variant in VARIANTS:
        with pytest.raises(UnsupportedGame, match=f"not {kind.value} games"):
            CFR(variant).check(spec)
    CFR().check(GameSpec("efg", GameKind.EXTENSIVE_FORM, 3, Utility.GENERAL_SUM))  # accepted


def test_solve_refuses_a_normal_form_game():
    class MatchingPennies:
        spec = GameSpec("matching pennies", GameKind.NORMAL_FORM, 2, Utility.ZERO_SUM)
        payoffs = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])

    with pytest.raises(UnsupportedGame):
        _solve(MatchingPennies(), "cfr", iterations=1)


def test_history_to_frame_has_one_row_per_evaluation(kuhn):
    result = gamesolve.solve(kuhn, "cfr+", iterations=40, eval_every=10, progress=False)
    frame = result.history.to_frame()
    assert list(frame.columns) == ["iteration", "wall_time", "exploitability", "nash_conv"]
    assert frame["iteration"].tolist() == [0, 10, 20, 30, 40]
    assert frame["exploitability"].iloc[-1] == pytest.approx(result.exploitability, abs=1e-15)
    assert (frame["nash_conv"] == 2 * frame["exploitability"]).all()
