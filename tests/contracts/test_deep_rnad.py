"""Regularized Nash Dynamics, the ``"rnad"`` solver (issue 14, item 3).

Known answers for the pieces (v-trace of the regularised game on a hand-computed episode, the
NeuRD loss's gradient with its threshold and clip, the entropy schedule, the episode returns of a
rollout); the solver learns on Kuhn from the uniform start, runs on a game that does not compile
(connect_four, head-to-head evaluation), resumes a CPU run to the same numbers, refuses bad options
naming them, stops on a non-finite loss naming the step and keeping the previous state, and logs.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gamesolve  # noqa: E402
from gamesolve.checkpoint import load_checkpoint  # noqa: E402
from gamesolve.errors import GamesolveError, InvalidArgumentError, UnsupportedGame  # noqa: E402
from gamesolve.neural import NeuralPolicy, load_policy  # noqa: E402
from gamesolve.registry import make_solver  # noqa: E402
from gamesolve.solvers.deep.common import EXPLOITABILITY, LOSS_RATE, prepare_deep_game  # noqa: E402
from gamesolve.solvers.deep.rnad import RNAD, EntropySchedule, episode_returns, neurd_loss, v_trace  # noqa: E402
from gamesolve.solvers.deep.rollout import collect_episodes  # noqa: E402

#: Small and quick: the tests check behaviour, not strength.
SMALL = {"num_envs": 32, "hidden": [32], "entropy_schedule_size": [3]}


# ------------------------------------------------------------------------------------ v-trace


def _episode(batch: int = 1) -> dict[str, torch.Tensor]:
    """Player 0 acts, then player 1, then player 0, and the episode ends (action 0 every time).

    pi = (1/2, 1/2) and log(pi / pi_reg) = (0.4, 0) at every step, so KL(pi || pi_reg) = 0.2; the
    behaviour probabilities 1/4, 1/4, 1 give the ratios pi(a) / mu(a) = 2, 2, 1/2. Player 0's return
    is 3, player 1's -3.
    """
    t = 3
    return {
        "value": torch.tensor([1.0, 9.0, 2.0])[:, None].repeat(1, batch),
        "valid": torch.ones(t, batch, dtype=torch.bool),
        "player": torch.tensor([0, 1, 0])[:, None].repeat(1, batch),
        "pi": torch.full((t, batch, 2), 0.5),
        "log_ratio": torch.tensor([0.4, 0.0]).repeat(t, batch, 1),
        "action": torch.zeros(t, batch, dtype=torch.int64),
        "behaviour": torch.tensor([0.25, 0.25, 1.0])[:, None].repeat(1, batch),
        "end": torch.tensor([False, False, True])[:, None].repeat(1, batch),
    }


def test_v_trace_matches_a_hand_computed_episode_for_player_0():
    ep = _episode()
    reward = torch.tensor([[0.0], [0.0], [3.0]])
    v_target, q = v_trace(**ep, reward=reward, learner=0, eta=0.5, c=1.0, rho=1.0)
    # eta KL = 0.1. Step 2 (own, ratio 1/2): R = 3 - 0.1, v_target = 2 + 0.5 (2.9 + 0 - 2) = 2.45;
    # q(a) = 2 - 0.5 log_ratio(a) + [a = 0] (3 + 0 - 2) / 1 = (2.8, 2.0).
    # Step 1 (player 1's, ratio 2): +0.1 joins the rewards, the ratio 2 the trace.
    # Step 0 (own, ratio 2, traced 2 * 2 = 4, clipped to 1): R = -0.1 + 0.1 = 0,
    # v_target = 1 + (0 + 2 - 1) + (2.45 - 2) = 2.45; q(0) = 1 - 0.2 + (0.1 + 2 * 2.45 - 1) / 0.25 = 16.8.
    np.testing.assert_allclose(v_target[:, 0].numpy(), [2.45, 0.0, 2.45], rtol=1e-6)
    np.testing.assert_allclose(q[:, 0].numpy(), [[16.8, 1.0], [0.0, 0.0], [2.8, 2.0]], rtol=1e-6)


def test_v_trace_matches_a_hand_computed_episode_for_player_1():
    ep = _episode()
    reward = torch.tensor([[0.0], [0.0], [-3.0]])
    v_target, q = v_trace(**ep, reward=reward, learner=1, eta=0.5, c=1.0, rho=1.0)
    # Step 2 (player 0's, ratio 1/2): R = -3 + 0.1 uncorrected; the corrected carry 0.1 + 0.5 (-3) = -1.4.
    # Step 1 (own, ratio 2 times the carried 1/2 = 1): R = -2.9 - 0.1 = -3, v_target = 9 + (-3 - 9) = -3;
    # q(0) = 9 - 0.2 + (-1.4 + 0.5 * 0 - 9) / 0.25 = -32.8.
    np.testing.assert_allclose(v_target[:, 0].numpy(), [0.0, -3.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(q[:, 0].numpy(), [[0.0, 0.0], [-32.8, 9.0], [0.0, 0.0]], rtol=1e-6)


def test_v_trace_clips_bind_and_without_eta_on_policy_targets_are_the_return():
    ep = _episode()
    reward = torch.tensor([[0.0], [0.0], [3.0]])
    unclipped, _ = v_trace(**ep, reward=reward, learner=0, eta=0.5, c=10.0, rho=10.0)
    # step 0 traced ratio 4: v_target = 1 + 4 (0 + 2 - 1) + 4 (2.45 - 2) = 6.8
    assert float(unclipped[0, 0]) == pytest.approx(6.8)
    on_policy = dict(ep, behaviour=torch.full((3, 1), 0.5))
    v_target, q = v_trace(**on_policy, reward=reward, learner=0, eta=0.0)
    np.testing.assert_allclose(v_target[:, 0].numpy(), [3.0, 0.0, 3.0], rtol=1e-6)
    # q of the action taken: v + (return - v) / mu; the other keeps v
    np.testing.assert_allclose(q[0, 0].numpy(), [1.0 + (3.0 - 1.0) / 0.5, 1.0], rtol=1e-6)


def test_v_trace_keeps_episodes_in_one_column_apart():
    one = _episode()
    reward = torch.tensor([[0.0], [0.0], [3.0]])
    alone, q_alone = v_trace(**one, reward=reward, learner=0, eta=0.5)
    # the same episode twice in one column, an invalid step after it, and a different return
    two = {k: torch.cat([v, v, v[:1]]) for k, v in one.items()}
    two["valid"][-1] = False
    rewards = torch.tensor([[0.0], [0.0], [-5.0], [0.0], [0.0], [3.0], [7.0]])
    both, q_both = v_trace(**two, reward=rewards, learner=0, eta=0.5)
    np.testing.assert_allclose(both[3:6].numpy(), alone.numpy(), rtol=1e-6)
    np.testing.assert_allclose(q_both[3:6].numpy(), q_alone.numpy(), rtol=1e-6)
    assert float(both[6, 0]) == 0.0 and not q_both[6].any()
    assert float(both[2, 0]) == pytest.approx(2 + 0.5 * (-5.1 - 2))  # no credit from the next episode


# ------------------------------------------------------------------------------------- NeuRD


def _neurd_grad(logits, legal, advantage, *, beta=100.0, clip=100.0):
    x = torch.tensor(logits, requires_grad=True)
    loss = neurd_loss(
        x, torch.tensor(legal), torch.tensor(advantage), torch.ones(len(logits)), beta=beta, clip=clip
    )
    loss.backward()
    assert x.grad is not None
    return x.grad.numpy()


def test_neurd_gradient_is_minus_the_centred_advantage():
    grad = _neurd_grad([[1.0, 0.0, -1.0]], [[True, True, True]], [[1.0, -2.0, 0.0]])
    # d loss / d logit = -(A - mean A) over the legal actions: descent raises the logit of a
    # better-than-average action, whatever its probability (no pi factor, unlike softmax PG)
    np.testing.assert_allclose(grad, [[-(1 + 1 / 3), 2 - 1 / 3, -1 / 3]], rtol=1e-6)


def test_neurd_ignores_illegal_actions_and_centres_over_the_legal_ones():
    grad = _neurd_grad([[5.0, 0.0, -1.0]], [[False, True, True]], [[9.0, 1.0, -1.0]])
    np.testing.assert_allclose(grad, [[0.0, -1.0, 1.0]], rtol=1e-6)


def test_neurd_threshold_stops_pushing_logits_past_beta_and_clip_bounds_the_force():
    # centred logits (2.5, 0, -2.5): the first may not rise and the last may not fall past beta = 2
    grad = _neurd_grad([[2.5, 0.0, -2.5]], [[True, True, True]], [[1.0, 1.0, -1.0]], beta=2.0)
    np.testing.assert_allclose(grad, [[1 / 3, -2 / 3, 1 / 3]], rtol=1e-6)
    # pushed back towards the centre, they move
    grad = _neurd_grad([[2.5, 0.0, -2.5]], [[True, True, True]], [[-1.0, 0.0, 1.0]], beta=2.0)
    np.testing.assert_allclose(grad, [[1.0, 0.0, -1.0]], rtol=1e-6)
    grad = _neurd_grad([[0.0, 0.0]], [[True, True]], [[50.0, -50.0]], clip=2.0)
    np.testing.assert_allclose(grad, [[-2.0, 2.0]], rtol=1e-6)


# ----------------------------------------------------------------------- schedule and returns


def test_entropy_schedule_starts_alpha_and_switches():
    schedule = EntropySchedule((3, 5), (2, 1))
    assert schedule.starts == (0, 3, 6, 11)  # 3 twice, then 5 forever
    assert [schedule.iteration(s) for s in (0, 2, 3, 5, 6, 10, 11, 15, 16, 21)] == [
        (0, 0, 3),
        (0, 0, 3),
        (1, 3, 3),
        (1, 3, 3),
        (2, 6, 5),
        (2, 6, 5),
        (3, 11, 5),
        (3, 11, 5),
        (4, 16, 5),
        (5, 21, 5),
    ]
    assert schedule(0) == (0.0, False)  # the first outer iteration keeps the initial regulariser
    assert schedule(6) == (0.0, True)
    assert schedule(7) == (pytest.approx(0.4), False)
    assert schedule(9) == (1.0, False)  # alpha reaches 1 half way through
    assert schedule(16) == (0.0, True)


@pytest.mark.parametrize(
    ("sizes", "repeats", "name"),
    [
        ((), (), "entropy_schedule_size"),
        ((3, 0), (1, 1), r"entropy_schedule_size\[1\]"),
        ((3,), (1, 1), "entropy_schedule_repeats"),
        ((3, 4), (1, 2), "entropy_schedule_repeats"),
        ((3,), (0,), r"entropy_schedule_repeats\[0\]"),
        ("30", (1,), "entropy_schedule_size"),
    ],
)
def test_entropy_schedule_refuses_bad_lists_naming_them(sizes, repeats, name):
    with pytest.raises(InvalidArgumentError, match=name):
        EntropySchedule(sizes, repeats)


def test_episode_returns_credit_each_episode_once_at_its_end():
    game = prepare_deep_game("kuhn_poker")

    def uniform(observation, legal):
        return np.log(legal / legal.sum(axis=1, keepdims=True)), None

    rollout = collect_episodes(
        game, uniform, num_envs=8, min_steps=5, rng=np.random.default_rng(0), name="t", update=1
    )
    rewards, end = episode_returns(rollout, game.num_players)
    t, b = rollout.steps, rollout.num_envs
    serial = rollout.serial.reshape(t, b)
    valid = rollout.valid.reshape(t, b)
    assert int(end.sum()) == rollout.episodes
    for e in range(b):
        for k in np.unique(serial[valid[:, e], e]):
            rows = np.flatnonzero(valid[:, e] & (serial[:, e] == k))
            assert end[rows, e].tolist() == [False] * (rows.size - 1) + [True]
    assert np.all(rewards[~end] == 0.0)
    np.testing.assert_allclose(rewards[end].sum(axis=1), 0.0)  # zero-sum, both players credited
    assert np.all(np.abs(rewards[end]) >= 1.0)
    assert rewards[end].sum() == 0.0 and np.abs(rewards).sum() == pytest.approx(np.abs(rollout.reward).sum())


# ---------------------------------------------------------------------------------- the solver


def test_kuhn_exploitability_falls_from_the_uniform_start(tmp_path):
    result = gamesolve.solve(
        "kuhn_poker",
        "rnad",
        iterations=40,
        eval_every=20,
        seed=0,
        progress=False,
        num_envs=64,
        hidden=[32],
        learning_rate=5e-3,
        entropy_schedule_size=[20],
        target_network_avg=0.1,
    )
    history = result.history.exploitability
    assert history[0] == pytest.approx(0.4583, abs=0.02)  # the networks start near uniform
    assert result.exploitability == pytest.approx(history[-1])
    assert history[-1] <= 0.7 * history[0]
    assert result.extras["evaluation"] == EXPLOITABILITY
    assert result.iterations == 40 and result.extras["updates"] == 40
    assert result.extras["regularisations"] == 1  # the regulariser moved at step 20
    assert result.extras["output_network"] == "target"
    policy = result.policy
    assert isinstance(policy, NeuralPolicy)
    path = policy.save(tmp_path / "kuhn.pt")
    again = load_policy(path)
    assert gamesolve.exploitability(gamesolve.load_game("kuhn_poker"), again) == pytest.approx(
        result.exploitability, abs=1e-9
    )


def test_registered_and_output_reads_the_chosen_network():
    assert isinstance(make_solver("rnad"), RNAD)
    opts = {"iterations": 3, "seed": 0, "progress": False, **SMALL, "target_network_avg": 0.5}
    target = gamesolve.solve("kuhn_poker", "rnad", **opts)
    online = gamesolve.solve("kuhn_poker", "rnad", output="online", **opts)
    assert target.extras["output_network"] == "target" and online.extras["output_network"] == "online"
    assert target.exploitability != online.exploitability  # the same run, two different networks


def test_leduc_native_one_step():
    result = gamesolve.solve("leduc", "rnad", iterations=1, seed=0, progress=False, **SMALL)
    assert result.iterations == 1
    assert result.exploitability == pytest.approx(2.37, abs=0.05)  # still near uniform
    assert result.extras["last_update"]["episodes"] == 32


def test_connect_four_two_steps_without_compiling():
    pytest.importorskip("pyspiel")
    result = gamesolve.solve(
        "connect_four",
        "rnad",
        iterations=2,
        eval_every=2,
        seed=1,
        progress=False,
        eval_matches=4,
        num_envs=4,
        hidden=[16],
    )
    assert result.iterations == 2
    assert result.extras["evaluation"] == LOSS_RATE
    assert len(result.history) == 1  # evaluated once, at the end: no evaluation was asked before it
    assert all(math.isnan(value) for value in result.history.exploitability)
    assert math.isnan(result.exploitability)
    assert 0.0 <= result.extras["win_rate_vs_uniform"] <= 1.0
    assert isinstance(result.policy, NeuralPolicy)
    assert result.policy.observation_kind == "observation"


def test_resume_repeats_an_uninterrupted_cpu_run_exactly(tmp_path):
    # the regulariser moves at steps 3 and 6, inside the first and the resumed half
    opts = {"seed": 3, "progress": False, "eval_every": 1, **SMALL}
    straight, first, second = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    full = gamesolve.solve("kuhn_poker", "rnad", iterations=7, checkpoint=straight, **opts)
    gamesolve.solve("kuhn_poker", "rnad", iterations=4, checkpoint=first, **opts)
    resumed = gamesolve.solve("kuhn_poker", "rnad", iterations=7, resume=first, checkpoint=second, **opts)
    _, a = load_checkpoint(straight)
    _, b = load_checkpoint(second)
    assert set(a) == set(b)
    for prefix in ("net.", "target.", "reg.", "reg_prev."):
        assert any(name.startswith(prefix) for name in a)
    assert int(a["opt.p0.step"]) == 7 and int(a["regularisations"]) == 2
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert resumed.history.exploitability == full.history.exploitability


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("device", "tpu"),
        ("learning_rate", -1.0),
        ("num_envs", 0),
        ("hidden", "wide"),
        ("observation", "pixels"),
        ("adam_b1", 1.0),
        ("target_network_avg", 0.0),
        ("eta", -0.1),
        ("neurd_beta", 0.0),
        ("neurd_clip", float("nan")),
        ("c_vtrace", 0.0),
        ("rho_vtrace", -1.0),
        ("clip_gradient", float("inf")),
        ("entropy_schedule_size", [0]),
        ("entropy_schedule_repeats", [2]),
        ("output", "average"),
        ("eval_matches", 0),
        ("tensorboard", True),  # without a log_dir
        ("log_dir", 3),
        ("neurd_betta", 2.0),  # a typo: unknown option
    ],
)
def test_bad_options_name_the_argument(option, value):
    with pytest.raises(InvalidArgumentError, match=option):
        gamesolve.solve("kuhn_poker", "rnad", iterations=1, progress=False, **{option: value})


def test_log_dir_that_is_a_file_is_refused_before_the_run(tmp_path):
    from gamesolve.errors import OutputPathError

    taken = tmp_path / "taken"
    taken.write_text("x")
    with pytest.raises(OutputPathError, match="log_dir"):
        gamesolve.solve("kuhn_poker", "rnad", iterations=1, progress=False, log_dir=taken)


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a machine without CUDA
    with pytest.raises(InvalidArgumentError, match="cuda"):
        gamesolve.solve("kuhn_poker", "rnad", iterations=1, progress=False, device="cuda")


def test_normal_form_games_are_refused():
    with pytest.raises(UnsupportedGame, match="extensive-form"):
        gamesolve.solve("rps", "rnad", iterations=1, progress=False)


def test_non_finite_loss_stops_naming_the_step_and_keeps_the_state():
    solver = RNAD(**SMALL)
    game = solver.prepare("kuhn_poker")
    state = solver.init(game, np.random.default_rng(0))
    solver.step(game, state, 1)
    good = {name: value.copy() for name, value in state.items()}
    state["net.value.bias"][...] = np.nan  # the value head blows up: the loss is NaN
    with pytest.raises(GamesolveError, match="update 2"):
        solver.step(game, state, 1)
    assert int(state["t"]) == 1
    for name in ("opt.p0.exp_avg", "target.value.bias", "rng"):
        np.testing.assert_array_equal(state[name], good[name], err_msg=name)


def test_a_huge_learning_rate_stops_the_run_with_a_clear_error():
    with pytest.raises(GamesolveError, match=r"update \d+"):
        gamesolve.solve(
            "kuhn_poker", "rnad", iterations=20, progress=False, learning_rate=1e30, adam_b1=0.9, **SMALL
        )


def test_log_dir_writes_one_csv_row_per_evaluation(tmp_path):
    logs = tmp_path / "runs" / "kuhn"
    result = gamesolve.solve(
        "kuhn_poker", "rnad", iterations=4, eval_every=2, progress=False, log_dir=logs, **SMALL
    )
    with (logs / "evaluations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(result.history) == 3
    assert [int(r["iteration"]) for r in rows] == list(result.history.iteration)
    assert [float(r["exploitability"]) for r in rows] == pytest.approx(list(result.history.exploitability))
    with (logs / "updates.csv").open(newline="") as handle:
        updates = list(csv.DictReader(handle))
    assert [int(r["update"]) for r in updates] == [1, 2, 3, 4]
    assert [float(r["regularisations"]) for r in updates] == [0, 0, 0, 1]
    assert all(np.isfinite(float(r["policy_loss"])) and float(r["kl_to_reg"]) >= 0 for r in updates)


@pytest.mark.gpu
def test_cuda_steps_and_a_cpu_policy_file(tmp_path):
    result = gamesolve.solve("kuhn_poker", "rnad", iterations=2, progress=False, device="cuda", **SMALL)
    assert result.extras["device"].startswith("cuda")
    assert 0.0 <= result.exploitability <= 1.0
    loaded = load_policy(result.policy.save(tmp_path / "kuhn.pt"))
    assert gamesolve.exploitability(gamesolve.load_game("kuhn_poker"), loaded) == pytest.approx(
        result.exploitability, abs=1e-6
    )
