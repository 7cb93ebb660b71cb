"""A seeded slice of the input fuzz harness (experiments/fuzz_inputs.py) runs with every ``make test``.

Twenty cases of each family (damaged checkpoints, damaged policy files, damaged ``.nfg`` files,
random game strings) must all end in a clean one-line error or a result that checks out. The
harness itself is checked first: a worker that aborts, hangs, raises a foreign exception or
returns a clean error must be classified as such, and its strict policy reader must refuse what
the file formats forbid. The full run (a few thousand cases per family) is marked slow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import gamesolve
from experiments import fuzz_inputs as fuzz

SMOKE_CASES = 20


def _summary(result: dict[str, Any], family: str) -> str:
    rows = [f for f in result["failures"] if f["family"] == family]
    return "\n".join(
        f"#{f['index']} {f['kind']}: {f['mutation'][:100]} | {f['call'][:100]} | {f['error'][:300]}"
        for f in rows
    )


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("fuzz_smoke")
    cfg = fuzz.Config(cases=SMOKE_CASES, seed=2024, timeout=8.0, game_timeout=15.0, workers=2, out=str(out))
    return fuzz.main(cfg)


@pytest.mark.parametrize("family", fuzz.FAMILIES)
def test_smoke_slice_has_no_failures(smoke, family):
    counts = smoke["counts"][family]
    assert sum(counts.values()) == SMOKE_CASES
    assert counts.get(fuzz.FAILURE, 0) + counts.get("harness_error", 0) == 0, _summary(smoke, family)


def test_smoke_slice_sees_both_outcomes(smoke):
    # A slice where nothing is ever accepted, or nothing refused, would test nothing.
    total = sum((fuzz.Counter(c) for c in smoke["counts"].values()), fuzz.Counter())
    assert total[fuzz.CLEAN] >= 20 and total[fuzz.CORRECT] >= 8, total


def test_harness_classifies_crashes_hangs_and_errors(tmp_path):
    cfg = fuzz.Config(timeout=3.0, workers=1, out=str(tmp_path))
    ops = ["clean", "raise", "crash", "cli_clean", "hang", "nothing"]
    cases = [{"family": "selftest", "op": op, "index": k, "mutation": op} for k, op in enumerate(ops)]
    answers = {case["op"]: answer for case, answer in fuzz.run_cases(cfg, cases)}
    assert answers["clean"]["outcome"] == fuzz.CLEAN and answers["clean"]["kind"] == "GameNotFoundError"
    assert answers["raise"]["outcome"] == fuzz.FAILURE and answers["raise"]["kind"] == "exception:KeyError"
    assert answers["crash"]["outcome"] == fuzz.FAILURE and answers["crash"]["kind"] == "crash:SIGABRT"
    assert answers["cli_clean"]["outcome"] == fuzz.CLEAN and answers["cli_clean"]["kind"] == "exit 2"
    assert answers["hang"]["outcome"] == fuzz.FAILURE and answers["hang"]["kind"] == "timeout"
    assert answers["nothing"]["outcome"] == fuzz.CORRECT  # the worker restarted after the hang


def _verdict(kind: str, game: Any, content: Any) -> fuzz.StrictVerdict:
    blob = content if isinstance(content, bytes) else json.dumps(content).encode()
    return fuzz.strict_policy_file(blob, kind, game, gamesolve)


def test_strict_reader_follows_the_file_formats():
    kuhn = gamesolve.as_compiled(gamesolve.load_game("kuhn_poker"))
    table = {
        k: {str(a): p for a, p in row.items()} for k, row in gamesolve.uniform_policy(kuhn).to_dict().items()
    }
    assert _verdict("tabular", kuhn, table).valid
    assert _verdict("tabular", kuhn, {"format": "gamesolve.tabular_policy/1", "policy": table}).valid
    for row in ({"0": 0.5, "1.7": 0.5}, {"0": "0.5", "1": 0.5}, {"0": True, "1": 0}, {"0": 0.6, "1": 0.6}):
        assert not _verdict("tabular", kuhn, {**table, "0": row}).valid
    assert not _verdict("tabular", kuhn, b"\xff" + json.dumps(table).encode()).valid
    assert _verdict("tabular", kuhn, b"\xef\xbb\xbf" + json.dumps(table).encode()).valid
    rps = gamesolve.load_game("rps")
    assert _verdict("profile", rps, [[1, 0, 0], [0.5, 0.5, 0]]).valid
    assert not _verdict("profile", rps, [[1, 0, 0], [0.5, "0.5", 0]]).valid
    assert not _verdict("profile", rps, b"[[NaN, 1, 0], [1, 0, 0]]").valid
    two_state = gamesolve.load_game("two_state")
    half = [[0.5, 0.5], [0.5, 0.5]]
    assert _verdict("markov", two_state, {"strategies": [half, half]}).valid
    assert not _verdict("markov", two_state, [half, [[0.5, 0.5]]]).valid


def test_cases_are_reproducible(tmp_path):
    cfg = fuzz.Config(out=str(tmp_path))
    cfg.bases = {
        "games": {
            "kuhn_poker": {"source": "openspiel", "params": {"players": 2}},
            "leduc": {"source": "native", "params": {"ranks": "3", "suits": "2"}},
        }
    }
    first = [fuzz.game_string_case(cfg, k, tmp_path)["string"] for k in range(30)]
    again = [fuzz.game_string_case(cfg, k, tmp_path)["string"] for k in range(30)]
    assert first == again and len(set(first)) > 10


@pytest.mark.slow
def test_full_fuzz_run_has_no_failures(tmp_path):
    result = fuzz.main(fuzz.Config(out=str(tmp_path / "fuzz")))
    for family in fuzz.FAMILIES:
        assert result["failures_per_family"][family] == 0, _summary(result, family)


def test_reproducer_names_the_case(smoke):
    assert all(Path(f["input"]).name.startswith(f["family"]) for f in smoke["failures"])
    assert all(f"--case {f['index']}" in f["reproducer"] for f in smoke["failures"])
