"""One-line errors, before any work, for exploitability bounds, executors, PSRO and NeuPL options.

Issue 12, items 8 and 9: ``--rollout 99|-1|bogus``, ``--steps 0``, ``--episodes 0``, ``psro --set
bogus=1`` and ``neupl --set lr=nan`` gave tracebacks; a Ray address that does not answer as a Ray
cluster took 22 s and 21 log lines (``ray.init`` retries the GCS for about 20 s, once a second,
after a TCP check that any listening port passes); a silent port held it for 40 s.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

import gamesolve
from gamesolve.cli import main
from gamesolve.errors import GamesolveError, InvalidArgumentError
from gamesolve.executors import RayExecutor, check_executor, make_executor
from gamesolve.lower_bounds import lbr_exploitability_bound, local_best_response, rl_exploitability_bound
from gamesolve.tournament import tournament

KUHN_LEGAL = r"rollout must be 'call', 'uniform', an action id of player 0 \(0, 1\) or a TabularPolicy"


@pytest.fixture(scope="module")
def uniform(kuhn):
    return gamesolve.uniform_policy(kuhn)


# ------------------------------------------------------------------------------- LBR rollout


@pytest.mark.parametrize(
    ("rollout", "detail"),
    [
        (99, "action id 99 is legal at none of player 0's infosets"),
        (-1, "action id -1 is legal at none of player 0's infosets"),
        ("99", "action id 99 is legal at none"),
        ("bogus", "got 'bogus'"),
        (1.5, "got 1.5"),
        (None, "got None"),
        (True, "got True"),
    ],
)
def test_lbr_bad_rollout_names_the_legal_values(kuhn, uniform, rollout, detail):
    with pytest.raises(InvalidArgumentError, match=f"{KUHN_LEGAL}; {detail}"):
        lbr_exploitability_bound(kuhn, uniform, rollout=rollout)
    with pytest.raises(InvalidArgumentError, match=KUHN_LEGAL):
        local_best_response(kuhn, uniform, 0, rollout=rollout)


def test_lbr_bad_rollout_in_a_list_fails_before_any_response(kuhn, uniform):
    with pytest.raises(InvalidArgumentError, match="action id 7"):
        lbr_exploitability_bound(kuhn, uniform, rollout=["call", 7])
    with pytest.raises(InvalidArgumentError, match="at least one rollout"):
        lbr_exploitability_bound(kuhn, uniform, rollout=[])


def test_lbr_accepts_action_ids_as_text_and_names_case_insensitively(kuhn, uniform):
    as_text = lbr_exploitability_bound(kuhn, uniform, rollout="1")
    as_int = lbr_exploitability_bound(kuhn, uniform, rollout=1)
    assert as_text.nash_conv == as_int.nash_conv and as_text.method == as_int.method == "lbr/action 1"
    assert lbr_exploitability_bound(kuhn, uniform, rollout="Uniform").method == "lbr/uniform"
    # a lower bound: never above the exact NashConv of uniform Kuhn, 11/12
    assert 0.0 < as_int.nash_conv <= gamesolve.nash_conv(kuhn, uniform).nash_conv + 1e-12


@pytest.mark.parametrize("players", [[2], [0, 0], [], "0", [0.5]])
def test_lbr_bad_players(kuhn, uniform, players):
    with pytest.raises(InvalidArgumentError, match="players"):
        lbr_exploitability_bound(kuhn, uniform, players=players)


# ----------------------------------------------------------------------------------- RL bound


class _CountingOracle:
    """An oracle object that only counts calls: a bad argument must stop the bound before it."""

    def __init__(self) -> None:
        self.calls = 0

    def train(self, *args, **kwargs):
        self.calls += 1
        raise AssertionError("training started despite a bad argument")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"steps": 0}, "steps must be >= 1, got 0"),
        ({"steps": -5}, "steps must be >= 1, got -5"),
        ({"steps": 2.5}, r"steps must be an integer, got 2\.5"),
        ({"episodes": 0}, "episodes must be >= 2, got 0"),
        ({"episodes": 1}, "episodes must be >= 2, got 1"),
        ({"episodes": "many"}, "episodes must be an integer, got 'many'"),
        ({"seed": -1}, "seed must be >= 0, got -1"),
        ({"confidence": 1.0}, "confidence must be > 0 and < 1, got 1"),
        ({"confidence": float("nan")}, "confidence must be a finite number, got nan"),
        ({"on_policy": "guess"}, "on_policy must be one of exact, sampled; got 'guess'"),
        ({"players": [5]}, "players must be >= 0 and <= 1, got 5"),
        ({"oracle_options": {"steps": 3}}, "oracle_options apply to the named oracles"),
    ],
)
def test_rl_bound_bad_arguments_fail_before_training(kuhn, uniform, kwargs, expected):
    oracle = _CountingOracle()
    with pytest.raises(InvalidArgumentError, match=expected):
        rl_exploitability_bound(kuhn, uniform, oracle=oracle, **kwargs)
    assert oracle.calls == 0


def test_rl_bound_named_oracle_options_are_checked():
    kuhn = gamesolve.load_game("kuhn_poker")
    pi = gamesolve.uniform_policy(kuhn)
    with pytest.raises(InvalidArgumentError, match="oracle must be 'dqn', 'ppo'"):
        rl_exploitability_bound(kuhn, pi, oracle="a2c")
    with pytest.raises(InvalidArgumentError, match=r"oracle_options: unknown dqn oracle option 'lr'; known"):
        rl_exploitability_bound(kuhn, pi, oracle="dqn", oracle_options={"lr": 1e-3})
    with pytest.raises(
        InvalidArgumentError, match="oracle_options: ppo: clip must be a finite number, got nan"
    ):
        rl_exploitability_bound(kuhn, pi, oracle="ppo", oracle_options={"clip": float("nan")})


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--bound", "lbr", "--rollout", "99"], "action id 99 is legal at none"),
        (["--bound", "lbr", "--rollout", "-1"], "action id -1 is legal at none"),
        (["--bound", "lbr", "--rollout", "bogus"], "got 'bogus'"),
        (["--bound", "rl", "--steps", "0"], "steps must be >= 1, got 0"),
        (["--bound", "rl", "--episodes", "0"], "episodes must be >= 2, got 0"),
    ],
)
def test_cli_bound_errors_are_one_line(capsys, argv, expected):
    code = main(["evaluate", "kuhn_poker", "--policy", "uniform", *argv])
    _, err = capsys.readouterr()
    assert code == 2
    assert expected in err and err.strip().count("\n") == 0


# ------------------------------------------------------------------------------------ executors


@pytest.mark.parametrize(
    "address", ["host:notaport", "10.0.0.1:99999", "http://10.0.0.1:6379", "a b:6379", "", "10.0.0.1:6379/x"]
)
def test_unparsable_ray_address_is_an_invalid_argument_at_once(address):
    start = time.perf_counter()
    with pytest.raises(InvalidArgumentError, match="is not of the form host:port or ray://host:port"):
        RayExecutor(address)
    with pytest.raises(InvalidArgumentError, match="host:port"):
        check_executor("ray", address=address)
    assert time.perf_counter() - start < 0.5


def test_executor_choices_are_checked_without_starting_anything():
    assert check_executor(None) == "local"
    assert check_executor(" Ray ", address="ray://head:10001") == "ray"
    with pytest.raises(InvalidArgumentError, match="unknown executor 'threads'"):
        check_executor("threads")
    with pytest.raises(InvalidArgumentError, match="workers must be >= 1, got 0"):
        check_executor("local", workers=0)
    with pytest.raises(InvalidArgumentError, match="address applies to the ray executor, not 'local'"):
        check_executor("local", address="10.0.0.1:6379")
    with pytest.raises(InvalidArgumentError, match=r"workers must be an integer, got 2\.5"):
        make_executor("local", workers=2.5)
    with pytest.raises(InvalidArgumentError, match="connect_timeout must be a finite number, got nan"):
        RayExecutor("10.0.0.1:6379", connect_timeout=float("nan"))


def _serve(reply: bytes | None) -> Iterator[int]:
    """A local TCP port that accepts connections and answers ``reply`` (``None``: stays silent)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)
                conn.close()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        for conn in held:
            conn.close()


@pytest.fixture
def junk_port() -> Iterator[int]:
    """A web server, not a Ray cluster: what ``ray.init`` retried for 20 s."""
    yield from _serve(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts and never answers: what held ``ray.init`` for 40 s."""
    yield from _serve(None)


def _fails_fast_in_one_line(capfd, address: str, limit: float) -> str:
    pytest.importorskip("ray")
    import ray

    assert not ray.is_initialized()  # a joined instance would skip the check
    capfd.readouterr()
    start = time.perf_counter()
    with pytest.raises(GamesolveError) as caught:
        RayExecutor(address)
    elapsed = time.perf_counter() - start
    out, err = capfd.readouterr()
    message = str(caught.value)
    assert address in message and "\n" not in message
    assert out == "" and err == ""  # Ray's C++ client logged one line per try before
    assert elapsed < limit, f"{elapsed:.1f} s"
    return message


def test_a_port_that_is_not_a_ray_cluster_fails_fast_and_quietly(capfd, junk_port):
    address = f"127.0.0.1:{junk_port}"
    message = _fails_fast_in_one_line(capfd, address, limit=4.0)
    assert message.startswith(f"cannot join a Ray cluster at '{address}'")
    assert message.endswith("not a Ray (gRPC) port; it answered b'HTTP/1.1 '")


def test_a_silent_port_fails_within_the_connect_timeout(capfd, silent_port):
    address = f"127.0.0.1:{silent_port}"
    message = _fails_fast_in_one_line(capfd, address, limit=5.0)
    assert "not a Ray (gRPC) port; no answer within 2 s" in message


def test_the_issue_address_fails_fast(capfd):
    # not routed (or answered by something that is not Ray); before: 22 s and 21 log lines
    _fails_fast_in_one_line(capfd, "10.255.255.1:6379", limit=5.0)


def test_cli_tournament_with_an_unreachable_ray_cluster_is_one_line(capsys, junk_port):
    pytest.importorskip("ray")
    address = f"127.0.0.1:{junk_port}"
    start = time.perf_counter()
    code = main(
        ["tournament", "kuhn_poker", "--policies", "uniform", "first", "--episodes", "50",
         "--executor", "ray", "--address", address]
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    _, err = capsys.readouterr()
    assert code == 2
    assert address in err and err.strip().count("\n") == 0
    assert elapsed < 8.0, f"{elapsed:.1f} s"


def test_tournament_arguments_are_checked_first(kuhn, uniform):
    pair = [uniform, uniform]
    for kwargs, expected in (
        ({"episodes": 2.5}, "episodes must be an integer"),
        ({"episodes": 10, "seed": float("nan")}, "seed must be an integer"),
        ({"episodes": 10, "max_steps": 0}, "max_steps must be >= 1"),
        ({"exact": "yes"}, "exact must be true or false"),
        ({"episodes": 10, "executor": "ray", "address": "nowhere:port"}, "is not of the form"),
    ):
        with pytest.raises(InvalidArgumentError, match=expected):
            tournament(kuhn, pair, **kwargs)


# ----------------------------------------------------------------------------- PSRO and NeuPL


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"bogus": 1}, r"unknown option 'bogus'; known options: oracle, meta_solver, "),
        ({"oracle_steps": 0}, "oracle_steps must be >= 1, got 0"),
        ({"epsilon": float("nan")}, "epsilon must be a finite number, got nan"),
        ({"prd_gamma": 1.0}, r"prd_gamma must be >= 0 and < 1, got 1"),
        ({"alpharank_population_size": 1}, "alpharank_population_size must be >= 2"),
        ({"meta_solver": "median"}, "unknown meta_solver 'median'"),
        ({"initial": "last"}, "initial must be one of first, uniform, random; got 'last'"),
        ({"executor": "threads"}, "unknown executor 'threads'"),
        ({"oracle_options": {"learning_rate": 1e-3}}, "oracle_options configure the dqn and ppo oracles"),
        ({"oracle": "dqn", "oracle_options": {"lr": 1e-3}}, "oracle_options: unknown dqn oracle option 'lr'"),
        ({"oracle": "ppo", "oracle_options": {"clip": -1}}, "oracle_options: ppo: clip must be > 0, got -1"),
        ({"oracle": "ppo", "oracle_options": [1]}, "oracle_options must be a mapping"),
    ],
)
def test_psro_bad_options(options, expected):
    with pytest.raises(InvalidArgumentError, match=f"bad options for solver 'psro': {expected}"):
        gamesolve.make_solver("psro", **options)


def test_psro_meta_options_are_checked_for_direct_meta_solves_too():
    from gamesolve.solvers.psro import solve_meta_game

    payoffs = np.array([[[0.0, 1.0], [-1.0, 0.0]], [[0.0, -1.0], [1.0, 0.0]]])
    with pytest.raises(InvalidArgumentError, match="unknown meta-solver option 'prd_steps'; known options:"):
        solve_meta_game("prd", payoffs, prd_steps=10)
    with pytest.raises(InvalidArgumentError, match="prd_dt must be a finite number, got inf"):
        solve_meta_game("prd", payoffs, prd_dt=float("inf"))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"lr": float("nan")}, r"unknown option 'lr'; known options: graph, policy, training, "),
        ({"learning_rate": float("nan")}, "learning_rate must be a finite number, got nan"),
        ({"hidden": [64, 0]}, r"hidden\[1\] must be >= 1, got 0"),
        ({"hidden": "64"}, "hidden must be a non-empty list of integers >= 1"),
        ({"meta_episodes": 3}, "meta_episodes must be even"),
        ({"graph": "star"}, "graph must be one of psro-n, fsp, self-play, cycle; got 'star'"),
        ({"policy": "tabular", "training": "rl"}, "the tabular policy trains by exact best responses only"),
        ({"max_population": True}, "max_population must be an integer, got True"),
    ],
)
def test_neupl_bad_options(options, expected):
    with pytest.raises(InvalidArgumentError, match=f"bad options for solver 'neupl': {expected}"):
        gamesolve.make_solver("neupl", **options)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["psro", "kuhn_poker", "--iterations", "3", "--set", "bogus=1"], "unknown option 'bogus'"),
        (
            ["psro", "kuhn_poker", "--iterations", "3", "--set", "prd_dt=nan"],
            "prd_dt must be a finite number",
        ),
        (
            ["psro", "kuhn_poker", "--iterations", "3", "--set", "meta_solver=prd"],
            "repeats the --meta-solver",
        ),
        (["neupl", "kuhn_poker", "--iterations", "2", "--set", "lr=nan"], "unknown option 'lr'"),
        (
            ["neupl", "kuhn_poker", "--iterations", "2", "--set", "learning_rate=nan"],
            "learning_rate must be a",
        ),
        (["neupl", "kuhn_poker", "--iterations", "2", "--set", "graph=fsp"], "repeats the --graph flag"),
    ],
)
def test_cli_psro_and_neupl_bad_options_are_one_line(capsys, tmp_path, argv, expected):
    code = main([*argv, "--checkpoint", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 2
    assert expected in err and err.strip().count("\n") == 0
    assert "exploitability" not in out
    assert not (tmp_path / "run").exists()


def test_call_slots_and_population_players_are_checked(kuhn, uniform):
    from gamesolve.lower_bounds import call_slots
    from gamesolve.population import Population

    with pytest.raises(InvalidArgumentError, match="player must be >= 0 and <= 1, got 2"):
        call_slots(kuhn, 2)
    with pytest.raises(InvalidArgumentError, match="player must be an integer, got 'a'"):
        call_slots(kuhn, "a")
    population = Population(members=((uniform,), (uniform,)))
    with pytest.raises(InvalidArgumentError, match="player must be >= 0 and <= 1, got 2"):
        population.add(2, uniform)
    with pytest.raises(InvalidArgumentError, match=r"player must be an integer, got 1\.5"):
        population.add(1.5, uniform)
    with pytest.raises(InvalidArgumentError, match=r"players must be an integer, got 2\.5"):
        Population.symmetric([uniform], players=2.5)
    assert population.add(1, uniform).sizes == (1, 2)


def test_cli_rl_bound_runs_on_a_game_that_does_not_compile(capsys, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("pyspiel")
    out = tmp_path / "bound.json"
    argv = ["evaluate", "connect_four", "--policy", "random", "--bound", "rl", "--steps", "256"]
    code = main([*argv, "--episodes", "64", "--json", str(out)])
    printed, _ = capsys.readouterr()
    assert code == 0 and "lower bound" in printed.lower()
    result = json.loads(out.read_text())
    assert result["method"] == "rl-br/tensor-ppo"
    assert result["ci_low"] <= result["nash_conv"] <= result["ci_high"]
