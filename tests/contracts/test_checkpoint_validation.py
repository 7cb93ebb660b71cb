"""Checkpoints of every iterative solver are validated before any kernel sees them.

For every iterative solver in the registry, a short run writes a checkpoint; the untouched file
resumes to the numbers of an uninterrupted run, and every damaged variant (an array with another
shape or dtype, NaN, a negative count, a missing or extra array, a header claiming another
iteration) is refused with a :class:`~gamesolve.errors.CheckpointError` naming the array, never a
crash or a silently wrong result.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
import pytest

import gamesolve
from gamesolve.checkpoint import StateRules, load_checkpoint, read_checkpoint_meta
from gamesolve.errors import CheckpointError

# (registry name, game, options): every iterative solver once, on a game it accepts.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    *[(n, "kuhn", {}) for n in ("cfr", "cfr+", "lcfr", "dcfr", "pcfr+", "mccfr-es", "mccfr-os", "xfp")],
    *[(n, "kuhn", {}) for n in ("balanced-ftrl", "adaptive-ftrl", "omd", "ftrl", "omwu", "extragradient")],
    *[(n, "kuhn", {}) for n in ("mirror-prox", "mmd", "psro", "fsp", "self-play")],
    ("neupl", "kuhn", {"policy": "tabular"}),
    ("psro", "rps", {}),
    ("psro", "kuhn_poker(players=3)", {}),
    *[(n, "rps", {}) for n in ("regret-matching", "rm+", "hedge", "omd", "ftrl", "omwu", "extragradient")],
    *[(n, "rps", {}) for n in ("mirror-prox", "ogda", "aog", "mmd", "fictitious-play", "smooth-fp")],
    *[
        (n, "rps", {})
        for n in ("replicator", "projected-replicator", "qre", "ne-loss-sgd", "internal-regret")
    ],
    ("minimax-q", "two_state", {}),
    ("pma", "crowd_aversion", {}),
]
IDS = [f"{name}-{game}" for name, game, _ in CASES]

PREFERENCE = [[0.5, 0.9, 0.2], [0.1, 0.5, 0.7], [0.8, 0.3, 0.5]]


def _game(name: str) -> Any:
    return gamesolve.load_game(name)


def _solve(game: Any, name: str, options: dict[str, Any], **kwargs: Any) -> gamesolve.SolveResult:
    return gamesolve.solve(game, name, progress=False, **options, **kwargs)


def _write(path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    header = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    np.savez(buffer, **arrays, __meta__=header)
    path.write_bytes(buffer.getvalue())


def _rules(solver: Any) -> StateRules:
    return getattr(solver, "state_rules", None) or StateRules()


def _corruptions(
    meta: dict[str, Any], arrays: dict[str, np.ndarray], rules: StateRules, fresh: dict[str, np.ndarray]
):
    """(label, meta, arrays) for every damage that must be refused.

    NaN is legal only where a fresh state holds it too ("not computed yet"), so that is not damage.
    """
    for key, value in arrays.items():
        if key in rules.generators:
            yield f"{key}: not a generator", meta, {**arrays, key: np.frombuffer(b"{bad", dtype=np.uint8)}
            continue
        wider = np.concatenate([value.reshape(-1), value.reshape(-1)[:1]]) if value.ndim else value[None]
        if value.ndim >= 2:
            wider = np.concatenate([value, value[..., :1]], axis=-1)  # a trailing axis never grows
        yield f"{key}: shape", meta, {**arrays, key: wider}
        other = np.float32 if value.dtype != np.float32 else np.float64
        yield f"{key}: dtype", meta, {**arrays, key: value.astype(other)}
        if value.dtype.kind == "f" and value.size and np.isfinite(fresh[key]).all():
            bad = value.copy()
            bad.reshape(-1)[0] = np.nan
            yield f"{key}: NaN", meta, {**arrays, key: bad}
        if key in rules.nonnegative and value.size and value.dtype.kind in "if":
            neg = value.copy()
            neg.reshape(-1)[-1] = -1
            yield f"{key}: negative", meta, {**arrays, key: neg}
    first = sorted(arrays)[0]
    yield "missing array", meta, {k: v for k, v in arrays.items() if k != first}
    yield "extra array", meta, {**arrays, "intruder": np.zeros(3)}
    for label, value in (
        ("1e12", 10**12),
        ("float", 5.5),
        ("string", "50"),
        ("negative", -1),
        ("bool", True),
    ):
        yield f"iteration {label}", {**meta, "iteration": value}, arrays
    yield "wall time NaN", {**meta, "wall_time": None}, arrays
    yield "history ragged", {**meta, "history": {**meta["history"], "wall_time": []}}, arrays


@pytest.mark.parametrize(("name", "game_name", "options"), CASES, ids=IDS)
def test_every_damaged_checkpoint_is_refused_and_the_intact_one_resumes(tmp_path, name, game_name, options):
    game = _game(game_name)
    path = tmp_path / "run.npz"
    _solve(game, name, options, iterations=3, checkpoint=path, eval_every=1)
    full = _solve(game, name, options, iterations=5, eval_every=1)
    resumed = _solve(game, name, options, iterations=5, eval_every=1, resume=path)
    assert resumed.iterations == full.iterations
    assert resumed.history.exploitability == full.history.exploitability
    assert resumed.exploitability == full.exploitability

    meta, arrays = load_checkpoint(path)
    solver = gamesolve.make_solver(name, game=game, **options)
    prepared = solver.prepare(game)
    fresh = solver.init(prepared, np.random.default_rng(0))
    bad = tmp_path / "bad.npz"
    labels = []
    for label, bad_meta, bad_arrays in _corruptions(meta, arrays, _rules(solver), fresh):
        _write(bad, bad_meta, bad_arrays)
        try:
            _solve(game, name, options, iterations=5, resume=bad)
        except CheckpointError as exc:
            assert "bad.npz" in str(exc), label
        else:
            pytest.fail(f"{label}: the damaged checkpoint was accepted")
        labels.append(label)
    assert len(labels) >= 3 * len(arrays)


def test_the_issue_repro_wrong_regrets_shape_is_refused_before_the_kernel(tmp_path):
    kuhn = _game("kuhn_poker")
    path = tmp_path / "c.npz"
    _solve(kuhn, "cfr", {}, iterations=50, checkpoint=path)
    meta, arrays = load_checkpoint(path)
    for regrets in (np.zeros((1000, 5)), np.zeros((3, 2)), arrays["regrets"].astype(np.int32)):
        _write(path, meta, {**arrays, "regrets": regrets})
        with pytest.raises(CheckpointError, match=r"array 'regrets' has (shape|dtype)"):
            _solve(kuhn, "cfr", {}, iterations=60, resume=path)


def test_header_iteration_must_match_the_state_counter(tmp_path):
    kuhn = _game("kuhn_poker")
    path = tmp_path / "c.npz"
    _solve(kuhn, "cfr+", {}, iterations=50, checkpoint=path)
    meta, arrays = load_checkpoint(path)
    _write(path, {**meta, "iteration": 10**12}, arrays)
    with pytest.raises(
        CheckpointError, match="header says iteration 1000000000000 but the state's counter says 50"
    ):
        _solve(kuhn, "cfr+", {}, iterations=60, resume=path)


def test_probabilities_that_do_not_sum_to_one_are_refused(tmp_path):
    kuhn = _game("kuhn_poker")
    path = tmp_path / "c.npz"
    _solve(kuhn, "cfr", {}, iterations=5, checkpoint=path)
    meta, arrays = load_checkpoint(path)
    probs = arrays["probs"].copy()
    probs[0] = [0.2, 0.2]
    _write(path, meta, {**arrays, "probs": probs})
    with pytest.raises(CheckpointError, match="rows that do not sum to 1"):
        _solve(kuhn, "cfr", {}, iterations=10, resume=path)


def test_minimax_q_current_state_out_of_range_is_refused(tmp_path):
    game = _game("two_state")
    path = tmp_path / "q.npz"
    _solve(game, "minimax-q", {}, iterations=20, checkpoint=path)
    meta, arrays = load_checkpoint(path)
    counters = arrays["counters"].copy()
    counters[0] = 10**9
    _write(path, meta, {**arrays, "counters": counters})
    with pytest.raises(CheckpointError, match="current state 1000000000 is not a state"):
        _solve(game, "minimax-q", {}, iterations=30, resume=path)


def test_preference_solver_checkpoint_is_validated(tmp_path):
    game = gamesolve.preference_game(PREFERENCE, beta=0.1)
    path = tmp_path / "p.npz"
    _solve(game, "nash-mp", {}, iterations=4, checkpoint=path)
    meta, arrays = load_checkpoint(path)
    _write(path, meta, {**arrays, "pi": -arrays["pi"]})
    with pytest.raises(CheckpointError, match="array 'pi' holds negative values"):
        _solve(game, "nash-mp", {}, iterations=8, resume=path)


# ---------------------------------------------------------------------------- damaged archives


def _npy_header_replaced(raw: bytes, header: bytes) -> bytes:
    """The checkpoint with the ``.npy`` header of its ``regrets`` member replaced."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "regrets.npy":
                length = int.from_bytes(data[8:10], "little")
                body = data[10 + length :]
                padded = header.ljust(length - 1) + b"\n"
                data = data[:8] + len(padded).to_bytes(2, "little") + padded + body
            target.writestr(info.filename, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "header",
    [
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (10**12, 2), }",
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (12, 2",  # an unclosed tuple (TokenError)
        b"{'descr': 'O', 'fortran_order': False, 'shape': (12, 2), }",
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }",
        b"\xff\xfe not a header",
    ],
    ids=["huge shape", "unclosed", "object dtype", "negative shape", "binary"],
)
def test_damaged_npy_header_gives_checkpoint_error(tmp_path, header):
    kuhn = _game("kuhn_poker")
    path = tmp_path / "c.npz"
    _solve(kuhn, "cfr", {}, iterations=5, checkpoint=path)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(_npy_header_replaced(path.read_bytes(), header))
    with pytest.raises(CheckpointError, match=r"bad\.npz"):
        _solve(kuhn, "cfr", {}, iterations=10, resume=bad)


def test_resume_from_a_policy_file_or_dev_null_says_what_it_is(tmp_path):
    kuhn = _game("kuhn_poker")
    policy = tmp_path / "policy.json"
    gamesolve.TabularPolicy.uniform(gamesolve.as_compiled(kuhn)).to_json(policy)
    with pytest.raises(CheckpointError, match="is a JSON file"):
        _solve(kuhn, "cfr", {}, iterations=5, resume=policy)
    with pytest.raises(CheckpointError, match=r"is a character device, not a regular file"):
        _solve(kuhn, "cfr", {}, iterations=5, resume="/dev/null")
    with pytest.raises(CheckpointError, match="is a directory"):
        _solve(kuhn, "cfr", {}, iterations=5, resume=tmp_path)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="is empty"):
        read_checkpoint_meta(empty)


def test_huge_finite_values_and_psro_gains_after_the_start_are_refused(tmp_path):
    kuhn = _game("kuhn_poker")
    path = tmp_path / "os.npz"
    _solve(kuhn, "mccfr-os", {}, iterations=200, checkpoint=path)
    meta, arrays = load_checkpoint(path)
    _write(path, meta, {**arrays, "regrets": np.full_like(arrays["regrets"], 1e300)})
    with pytest.raises(CheckpointError, match="beyond 1e\\+200 in magnitude"):
        _solve(kuhn, "mccfr-os", {}, iterations=260, resume=path)

    psro = tmp_path / "psro.npz"
    _solve(kuhn, "psro", {}, iterations=3, checkpoint=psro)
    meta, arrays = load_checkpoint(psro)
    for gains in (np.full(2, np.nan), np.full(2, np.inf)):
        _write(psro, meta, {**arrays, "gains": gains})
        with pytest.raises(CheckpointError, match="gains"):
            _solve(kuhn, "psro", {}, iterations=4, resume=psro)


def test_a_dynamics_profile_without_mass_is_refused(tmp_path):
    rps = _game("rps")
    path = tmp_path / "rm.npz"
    _solve(rps, "regret-matching", {}, iterations=20, checkpoint=path)
    meta, arrays = load_checkpoint(path)
    _write(path, meta, {**arrays, "avg": -arrays["avg"]})  # finite, but no positive mass
    with pytest.raises(CheckpointError, match="array 'avg' gives player 0 no probability mass"):
        _solve(rps, "regret-matching", {}, iterations=30, resume=path)
