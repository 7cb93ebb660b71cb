"""The one run loop that drives every iterative solver, and the result type of every solver.

``solve(game, solver, ...)`` resolves a registry name (``"cfr+"``) or takes a configured solver
object, checks the game at the door, and iterates until an iteration budget, a time limit or a
target exploitability is met, the callback returns :data:`Stop`, or the user presses Ctrl-C. It
evaluates the exact exploitability of the solver's output every ``eval_every`` iterations, shows a
progress bar on terminals, and can write a checkpoint every ``checkpoint_every`` iterations from
which :func:`solve` resumes to the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import json
import logging
import os
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CompiledGame
from gamesolve.errors import CheckpointError
from gamesolve.evaluation import exploitability as exact_exploitability
from gamesolve.evaluation import nash_conv as exact_nash_conv
from gamesolve.spec import GameSpec

__all__ = [
    "CheckpointError",
    "History",
    "Iterate",
    "IterativeSolver",
    "SolveResult",
    "Stop",
    "game_fingerprint",
    "solve",
]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "gamesolve.checkpoint/1"


class Iterate(enum.Enum):
    """Which of a solver's policies to read."""

    AVERAGE = "average"
    CURRENT = "current"


class _StopType:
    _instance: _StopType | None = None

    def __new__(cls) -> _StopType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Stop"


#: Return this from a ``solve`` callback to end the run after the current iteration.
Stop = _StopType()


@runtime_checkable
class IterativeSolver(Protocol):
    """What :func:`solve` needs from an iterative solver.

    The solver object holds configuration only; all mutable numbers live in the state it returns
    from :meth:`init`, a mapping of named numpy arrays (and 0-d arrays for scalars) so that a
    checkpoint is a plain ``.npz`` file.
    """

    name: str

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values (recorded in results and checkpoints)."""
        ...

    def prepare(self, game: Any) -> Any:
        """The solver's representation of ``game`` (a compiled game, a tensor game, ...)."""
        ...

    def check(self, spec: GameSpec) -> None:
        """Raise :class:`~gamesolve.errors.UnsupportedGame` if the game is outside the solver's scope."""
        ...

    def init(self, game: Any, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Fresh solver state for the prepared ``game``."""
        ...

    def step(self, game: Any, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Advance ``state`` by ``iterations`` iterations, in place."""
        ...

    def policy(self, game: Any, state: dict[str, NDArray[Any]], which: Iterate) -> Any:
        """The requested iterate: a tabular policy, or a mixed profile for normal-form games."""
        ...

    @property
    def output(self) -> Iterate:
        """The iterate whose exploitability converges (reported as the result's policy)."""
        ...


@runtime_checkable
class ExactSolver(Protocol):
    """A solver that computes its answer in one call (LPs, enumeration)."""

    name: str
    exact: bool

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        ...

    def prepare(self, game: Any) -> Any:
        """The solver's representation of ``game``."""
        ...

    def check(self, spec: GameSpec) -> None:
        """Raise :class:`~gamesolve.errors.UnsupportedGame` if the game is outside the solver's scope."""
        ...

    def run(self, game: Any, *, seed: int) -> SolveResult:
        """Solve the prepared game."""
        ...


@dataclass(frozen=True)
class History:
    """Metrics recorded at each evaluation, by column.

    Attributes:
        iteration: ``[K]`` iteration numbers.
        wall_time: ``[K]`` seconds since the start of the run (evaluation time excluded).
        exploitability: ``[K]`` exploitability of the solver's output policy.
        nash_conv: ``[K]`` NashConv of the same policy.
        average_exploitability: ``[K]`` exploitability of the average iterate, for solvers that
            report both iterates (``track_iterates = True``: the first-order methods); else empty.
        current_exploitability: ``[K]`` the same for the last (current) iterate.
    """

    iteration: tuple[int, ...] = ()
    wall_time: tuple[float, ...] = ()
    exploitability: tuple[float, ...] = ()
    nash_conv: tuple[float, ...] = ()
    average_exploitability: tuple[float, ...] = ()
    current_exploitability: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.iteration)

    def to_dict(self) -> dict[str, list[float] | list[int]]:
        """Columns as lists (the per-iterate columns only when recorded)."""
        out: dict[str, list[float] | list[int]] = {
            "iteration": list(self.iteration),
            "wall_time": list(self.wall_time),
            "exploitability": list(self.exploitability),
            "nash_conv": list(self.nash_conv),
        }
        if self.average_exploitability:
            out["average_exploitability"] = list(self.average_exploitability)
            out["current_exploitability"] = list(self.current_exploitability)
        return out

    def to_json(self) -> str:
        """The columns as a JSON object."""
        return json.dumps(self.to_dict())

    def to_frame(self) -> Any:
        """A ``pandas.DataFrame`` with one row per evaluation (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("History.to_frame() needs pandas: pip install pandas") from exc
        return pd.DataFrame(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        return cls(
            iteration=tuple(int(x) for x in data.get("iteration", ())),
            wall_time=tuple(float(x) for x in data.get("wall_time", ())),
            exploitability=tuple(float(x) for x in data.get("exploitability", ())),
            nash_conv=tuple(float(x) for x in data.get("nash_conv", ())),
            average_exploitability=tuple(float(x) for x in data.get("average_exploitability", ())),
            current_exploitability=tuple(float(x) for x in data.get("current_exploitability", ())),
        )


@dataclass(frozen=True)
class SolveResult:
    """What every solver returns.

    Attributes:
        game: Name of the game.
        solver: Registry name of the solver.
        config: The solver's configuration.
        seed: The seed of the run.
        iterations: Iterations performed (including those before a resume).
        wall_time: Seconds spent iterating (evaluation excluded), including before a resume.
        average_policy: The average strategy (for solvers whose average converges).
        current_policy: The last iterate.
        policy: The solver's output (the iterate that converges for it): a
            :class:`~gamesolve.policy.TabularPolicy` for extensive-form games, a
            :class:`~gamesolve.normal_form.MixedProfile` for normal-form games.
        exploitability: Exact exploitability of ``policy`` at the end.
        nash_conv: Exact NashConv of ``policy`` at the end (the duality gap in 2p0s games).
        history: Metrics at every evaluation.
        converged: Whether ``target_exploitability`` was reached.
        message: Why the run stopped.
        value: Expected utility of every player under ``policy``; for Markov games, player 0's
            value in every state ``[S]`` (a read-only array).
    """

    game: str
    solver: str
    config: dict[str, Any]
    seed: int
    iterations: int
    wall_time: float
    average_policy: Any
    current_policy: Any
    policy: Any
    exploitability: float
    nash_conv: float
    history: History
    converged: bool
    message: str
    value: tuple[float, ...] | NDArray[np.float64] = field(default=())
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def last_policy(self) -> Any:
        """The last iterate (alias of ``current_policy``)."""
        return self.current_policy

    @property
    def population(self) -> Any:
        """The population a population-learning solver (PSRO, NeuPL) ended with, else ``None``."""
        return self.extras.get("population")

    @property
    def meta_game(self) -> Any:
        """The meta-game of a population-learning solver (PSRO, NeuPL), else ``None``."""
        return self.extras.get("meta_game")

    @property
    def profile(self) -> Any:
        """The output policy (alias used for normal-form games)."""
        return self.policy

    @property
    def gap(self) -> float:
        """NashConv of the output policy (the duality gap in two-player zero-sum games)."""
        return self.nash_conv

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (tabular policies are left out; write them with ``policy.to_json``)."""
        profile = self.policy.to_lists() if hasattr(self.policy, "to_lists") else None
        if profile is None and isinstance(self.policy, np.ndarray):
            profile = self.policy.tolist()
        return {
            "game": self.game,
            "solver": self.solver,
            "config": self.config,
            "seed": self.seed,
            "iterations": self.iterations,
            "wall_time": self.wall_time,
            "exploitability": self.exploitability,
            "nash_conv": self.nash_conv,
            "value": list(self.value),
            "converged": self.converged,
            "message": self.message,
            "history": self.history.to_dict(),
            **({"profile": profile} if profile is not None else {}),
            **{k: _jsonable(v) for k, v in self.extras.items()},
        }


def rng_to_array(rng: np.random.Generator) -> NDArray[np.uint8]:
    """A generator's exact state as a byte array, so solver states stay plain ``.npz`` arrays."""
    return np.frombuffer(json.dumps(rng.bit_generator.state).encode(), dtype=np.uint8).copy()


def rng_from_array(data: NDArray[Any]) -> np.random.Generator:
    """The generator saved by :func:`rng_to_array`, continuing exactly where it stopped."""
    state = json.loads(bytes(np.asarray(data, dtype=np.uint8)).decode())
    bit = getattr(np.random, state["bit_generator"])()
    bit.state = state
    return np.random.Generator(bit)


def _jsonable(value: Any) -> Any:
    """A JSON-ready form of an ``extras`` value (objects with ``to_dict``, arrays, containers)."""
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)  # an object with no JSON form (a population of policies, a network)


def one_shot_result(
    *,
    game_name: str,
    solver: str,
    config: dict[str, Any],
    seed: int,
    policy: Any,
    seconds: float,
    exploitability: float,
    nash_conv: float,
    value: tuple[float, ...] | NDArray[np.float64],
    message: str,
    extras: dict[str, Any] | None = None,
) -> SolveResult:
    """The :class:`SolveResult` of an exact solver that answers in one call (one history row)."""
    history = History(
        iteration=(1,), wall_time=(seconds,), exploitability=(exploitability,), nash_conv=(nash_conv,)
    )
    return SolveResult(
        game=game_name,
        solver=solver,
        config=config,
        seed=seed,
        iterations=1,
        wall_time=seconds,
        average_policy=policy,
        current_policy=policy,
        policy=policy,
        exploitability=exploitability,
        nash_conv=nash_conv,
        history=history,
        converged=True,
        message=message,
        value=value,
        extras=extras or {},
    )


def game_fingerprint(game: Any) -> dict[str, Any]:
    """Numbers identifying a game, stored in checkpoints to refuse a wrong game."""
    custom = getattr(game, "fingerprint", None)
    if callable(custom):
        return dict(custom())
    matrix = getattr(game, "transition_matrix", None)
    if matrix is not None:  # a tabular Markov game
        hasher = hashlib.sha256()
        for part in (matrix.indptr, matrix.indices, matrix.data, game.reward_flat, game.terminal):
            hasher.update(np.ascontiguousarray(part).tobytes())
        return {"name": game.spec.name, "states": game.num_states, "sha256": hasher.hexdigest()[:16]}
    payoffs = getattr(game, "payoffs", None)
    if payoffs is not None and not isinstance(game, CompiledGame):
        digest = hashlib.sha256(np.ascontiguousarray(payoffs).tobytes()).hexdigest()[:16]
        return {"name": game.spec.name, "shape": list(payoffs.shape), "payoffs_sha256": digest}
    keys_hash = 0
    for key in game.infosets.keys:
        keys_hash = (keys_hash * 1_000_003 + hash_str(key)) % (1 << 61)
    return {
        "name": game.spec.name,
        "nodes": game.num_nodes,
        "infosets": game.num_infosets,
        "terminals": game.num_terminals,
        "keys_hash": keys_hash,
    }


def hash_str(text: str) -> int:
    """A stable (process-independent) 61-bit hash of a string (FNV-1a)."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h % (1 << 61)


# ------------------------------------------------------------------------------------ checkpoints


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    game: CompiledGame,
    solver: IterativeSolver,
    seed: int,
    iteration: int,
    wall_time: float,
    history: History,
    state: Mapping[str, NDArray[Any]],
) -> None:
    """Write a checkpoint atomically (an ``.npz`` with the state arrays and a JSON header)."""
    meta = {
        "format": CHECKPOINT_FORMAT,
        "game": game_fingerprint(game),
        "solver": solver.name,
        "config": solver.config(),
        "seed": seed,
        "iteration": iteration,
        "wall_time": wall_time,
        "history": history.to_dict(),
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            buffer = io.BytesIO()
            persistent = {k: v for k, v in state.items() if not k.startswith("_")}
            persistent["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
            np.savez(buffer, **persistent)  # type: ignore[arg-type]
            fh.write(buffer.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Read a checkpoint: ``(metadata, state arrays)``.

    Raises:
        CheckpointError: The file is missing, unreadable or not a gamesolve checkpoint.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.array(data[k]) for k in data.files}
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {os.fspath(path)!r} does not exist") from None
    except TypeError:  # np.load gave a bare array (an .npy file): no context manager, no members
        raise CheckpointError(f"{os.fspath(path)!r} is not a gamesolve checkpoint") from None
    except (OSError, ValueError, EOFError, NotImplementedError, zipfile.BadZipFile) as exc:
        # EOFError: empty file or a damaged member header; NotImplementedError: damaged zip flags.
        raise CheckpointError(f"checkpoint {os.fspath(path)!r} is unreadable: {exc}") from None
    raw = arrays.pop("__meta__", None)
    try:
        meta = json.loads(bytes(raw).decode("utf-8")) if raw is not None else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        meta = {}
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{os.fspath(path)!r} is not a gamesolve checkpoint")
    return meta, arrays


# ---------------------------------------------------------------------------------------- the loop


def _resolve_solver(
    solver: str | IterativeSolver | ExactSolver, options: Mapping[str, Any], game: Any = None
) -> Any:
    if isinstance(solver, str):
        from gamesolve.registry import make_solver

        return make_solver(solver, game=game, **options)
    if options:
        raise TypeError("solver options apply only when the solver is given by name")
    if not isinstance(solver, IterativeSolver | ExactSolver):
        raise TypeError(f"solver must be a registry name or a solver object, got {type(solver).__name__}")
    return solver


def _progress_bar(enabled: bool | None, total: int | None, desc: str) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="it", dynamic_ncols=True, leave=True)


def solve(
    game: Any,
    solver: str | IterativeSolver | ExactSolver,
    *,
    iterations: int | None = None,
    time_limit: float | None = None,
    target_exploitability: float | None = None,
    eval_every: int | None = None,
    seed: int = 0,
    callback: Callable[[int, float | None], Any] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    **solver_options: Any,
) -> SolveResult:
    """Run an iterative solver on a game.

    Args:
        game: A game the solver accepts: extensive-form (anything :func:`~gamesolve.as_compiled`
            accepts) for the CFR family, a :class:`~gamesolve.normal_form.TensorGame` for
            normal-form solvers.
        solver: A registry name (``"cfr"``, ``"cfr+"``, ``"lcfr"``, ``"dcfr"``, ``"pcfr+"``,
            ``"mccfr-es"``, ``"mccfr-os"``, ``"lp"``, ...; see
            :func:`~gamesolve.registry.available_solvers`) or a configured solver object. Exact
            solvers (LPs) ignore the iteration options.
        iterations: Total iteration budget (counting iterations done before a resume).
        time_limit: Seconds of iterating allowed in this call.
        target_exploitability: Stop as soon as an evaluation reaches this exploitability.
        eval_every: Evaluate the exact exploitability every this many iterations (default: about
            50 evaluations over the budget). The final iterate is always evaluated.
        seed: Seed of the solver's random generator (sampling solvers).
        callback: Called after every iteration with ``(iteration, last exploitability or None)``;
            return :data:`Stop` to end the run.
        checkpoint: Path of a checkpoint file to write every ``checkpoint_every`` iterations and at
            the end (also on Ctrl-C).
        checkpoint_every: Iterations between checkpoints (default: only at the end).
        resume: A checkpoint to continue from; it must come from the same game, solver,
            configuration and seed.
        progress: Show a progress bar (default: when stderr is a terminal).
        **solver_options: Options passed to the solver when it is given by name.

    Returns:
        A :class:`SolveResult`.

    Raises:
        ValueError: No stopping rule, or a non-positive budget.
        UnsupportedGame: The solver does not handle this game.
        CheckpointError: ``resume`` does not match this run.
    """
    algo = _resolve_solver(solver, solver_options, game)
    prepared = algo.prepare(game)
    algo.check(prepared.spec)
    if getattr(algo, "exact", False):
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be positive seconds, got {time_limit}")
        if getattr(algo, "accepts_limits", False):
            return algo.run(prepared, seed=seed, time_limit=time_limit, progress=progress)
        return algo.run(prepared, seed=seed)
    if iterations is None and time_limit is None and target_exploitability is None:
        raise ValueError("give at least one of iterations, time_limit or target_exploitability")
    if iterations is not None and iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit must be positive seconds, got {time_limit}")
    if eval_every is not None and eval_every < 1:
        raise ValueError(f"eval_every must be >= 1, got {eval_every}")
    if checkpoint_every is not None and checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    if eval_every is None:
        eval_every = max(1, (iterations or 1000) // 50)

    start_iteration = 0
    elapsed_before = 0.0
    history = History()
    if resume is not None:
        meta, state = load_checkpoint(resume)
        _check_resume(meta, prepared, algo, seed, resume)
        start_iteration = int(meta["iteration"])
        elapsed_before = float(meta["wall_time"])
        history = History.from_dict(meta.get("history", {}))
    else:
        state = algo.init(prepared, np.random.default_rng(seed))

    hist: dict[str, list[Any]] = {k: list(v) for k, v in history.to_dict().items()}
    track_iterates = bool(getattr(algo, "track_iterates", False))
    if track_iterates:
        hist.setdefault("average_exploitability", [])
        hist.setdefault("current_exploitability", [])
    bar = _progress_bar(progress, iterations, f"{algo.name} on {prepared.spec.name}")
    if bar is not None and start_iteration:
        bar.update(start_iteration)
    it = start_iteration
    last_expl: float | None = hist["exploitability"][-1] if hist["exploitability"] else None
    converged = False
    message = ""
    iter_time = 0.0
    last_eval_it = hist["iteration"][-1] if hist["iteration"] else -1

    custom = getattr(algo, "evaluate", None)
    finished = getattr(algo, "finished", None)  # a solver that can tell it is done (PSRO)
    postfix = getattr(algo, "progress_info", None)  # extra progress-bar fields (population size)

    def measure(pol: Any) -> float:
        return float(custom(prepared, pol)) if callable(custom) else exact_exploitability(prepared, pol)

    def evaluate_now() -> float:
        nonlocal last_eval_it
        value = measure(algo.policy(prepared, state, algo.output))
        if track_iterates:
            for which, key in ((Iterate.AVERAGE, "average"), (Iterate.CURRENT, "current")):
                other = value if which == algo.output else measure(algo.policy(prepared, state, which))
                hist[f"{key}_exploitability"].append(other)
        hist["iteration"].append(it)
        hist["wall_time"].append(elapsed_before + iter_time)
        hist["exploitability"].append(value)
        hist["nash_conv"].append(value * prepared.spec.num_players)
        last_eval_it = it
        return value

    def write_checkpoint() -> None:
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                game=prepared,
                solver=algo,
                seed=seed,
                iteration=it,
                wall_time=elapsed_before + iter_time,
                history=History.from_dict(hist),
                state=state,
            )

    per_iteration = 0.0
    with _deferred_sigint() as interrupted:
        try:
            if it == 0 and last_eval_it < 0:
                last_expl = evaluate_now()
            while True:
                if interrupted():
                    raise KeyboardInterrupt
                if (
                    target_exploitability is not None
                    and last_expl is not None
                    and last_expl <= target_exploitability
                ):
                    converged = True
                    message = f"reached exploitability {last_expl:.3g} <= {target_exploitability:g}"
                    break
                done = finished(prepared, state) if callable(finished) else None
                if done:
                    converged, message = True, done
                    break
                if iterations is not None and it >= iterations:
                    message = f"completed {iterations} iterations"
                    break
                if time_limit is not None and iter_time >= time_limit:
                    message = f"time limit of {time_limit:g} s reached"
                    break
                # Run up to the next evaluation / checkpoint / budget boundary in one call, in
                # chunks of at most ~50 ms so time limits, progress and Ctrl-C stay responsive.
                chunk = eval_every - it % eval_every
                if checkpoint is not None and checkpoint_every is not None:
                    chunk = min(chunk, checkpoint_every - it % checkpoint_every)
                if iterations is not None:
                    chunk = min(chunk, iterations - it)
                if callback is not None:
                    chunk = 1
                elif per_iteration > 0:
                    chunk = max(1, min(chunk, int(0.05 / per_iteration)))
                else:
                    chunk = 1
                t0 = time.perf_counter()
                algo.step(prepared, state, chunk)
                spent = time.perf_counter() - t0
                iter_time += spent
                per_iteration = spent / chunk
                it += chunk
                if it % eval_every == 0:
                    last_expl = evaluate_now()
                if bar is not None:
                    bar.update(chunk)
                    if last_expl is not None:
                        extra = postfix(prepared, state) if callable(postfix) else {}
                        bar.set_postfix(expl=f"{last_expl:.3e}", **extra, refresh=False)
                if checkpoint is not None and checkpoint_every is not None and it % checkpoint_every == 0:
                    write_checkpoint()
                if callback is not None and callback(it, last_expl) is Stop:
                    message = "stopped by callback"
                    break
        except KeyboardInterrupt:
            message = f"interrupted after {it} iterations"
            log.warning("run interrupted by the user after %d iterations", it)
        finally:
            if bar is not None:
                bar.close()

    if last_eval_it != it:
        last_expl = evaluate_now()
        if target_exploitability is not None and last_expl <= target_exploitability and not converged:
            converged = True
    write_checkpoint()
    policy = algo.policy(prepared, state, algo.output)
    custom_report = getattr(algo, "report", None)
    report = custom_report(prepared, policy) if callable(custom_report) else exact_nash_conv(prepared, policy)
    return SolveResult(
        game=prepared.spec.name,
        solver=algo.name,
        config=algo.config(),
        seed=seed,
        iterations=it,
        wall_time=elapsed_before + iter_time,
        average_policy=algo.policy(prepared, state, Iterate.AVERAGE),
        current_policy=algo.policy(prepared, state, Iterate.CURRENT),
        policy=policy,
        exploitability=report.exploitability,
        nash_conv=report.nash_conv,
        history=History.from_dict(hist),
        converged=converged,
        message=message,
        value=algo.values(prepared, state)
        if callable(getattr(algo, "values", None))
        else report.on_policy_values,
        extras=dict(getattr(report, "extras", None) or {}),
    )


@contextlib.contextmanager
def _deferred_sigint() -> Iterator[Callable[[], bool]]:
    """Turn Ctrl-C into a flag checked between iterations, so solver state is never torn.

    Only possible in the main thread; elsewhere Ctrl-C keeps its default behavior.
    """
    flag = {"hit": False}
    if threading.current_thread() is not threading.main_thread():
        yield lambda: flag["hit"]
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if flag["hit"]:  # a second Ctrl-C interrupts at once
            raise KeyboardInterrupt
        flag["hit"] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: flag["hit"]
    finally:
        signal.signal(signal.SIGINT, previous)


def _check_resume(
    meta: Mapping[str, Any], game: CompiledGame, solver: IterativeSolver, seed: int, path: Any
) -> None:
    where = os.fspath(path)
    if meta.get("game") != game_fingerprint(game):
        name = (meta.get("game") or {}).get("name", "?")
        raise CheckpointError(f"checkpoint {where!r} is for game {name!r}, not this {game.spec.name!r}")
    if meta.get("solver") != solver.name:
        raise CheckpointError(
            f"checkpoint {where!r} is for solver {meta.get('solver')!r}, not {solver.name!r}"
        )
    if meta.get("config") != solver.config():
        raise CheckpointError(
            f"checkpoint {where!r} was written with solver config {meta.get('config')}, not {solver.config()}"
        )
    if int(meta.get("seed", -1)) != seed:
        raise CheckpointError(f"checkpoint {where!r} was written with seed {meta.get('seed')}, not {seed}")
