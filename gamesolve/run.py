"""The one run loop that drives every solver: :func:`solve`.

``solve(game, solver, ...)`` resolves a registry name (``"cfr+"``) or takes a configured solver
object, checks the game at the door, and iterates until an iteration budget, a time limit or a
target exploitability is met, the callback returns :data:`Stop`, or the user presses Ctrl-C. It
evaluates the exact exploitability of the solver's output every ``eval_every`` iterations, shows a
progress bar on terminals, and can write a checkpoint every ``checkpoint_every`` iterations from
which :func:`solve` resumes to the same numbers as an uninterrupted run.

The hooks it calls are declared once in :mod:`gamesolve.solver`; results are
:mod:`gamesolve.results`, checkpoints :mod:`gamesolve.checkpoint`. The names of those modules are
re-exported here for code written against the older layout.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import (
    CHECKPOINT_FORMAT,
    StateRules,
    check_resume,
    check_state,
    game_fingerprint,
    guard_checkpoint_target,
    hash_str,
    load_checkpoint,
    read_checkpoint_meta,
    rng_from_array,
    rng_to_array,
    save_checkpoint,
)
from gamesolve.errors import CheckpointError, InvalidArgumentError, OutputPathError
from gamesolve.io import check_output_path
from gamesolve.progress import progress_bar
from gamesolve.results import History, SolveResult, one_shot_result
from gamesolve.solver import ExactSolver, Iterate, IterativeSolver, Solver, Stop
from gamesolve.validation import check_bool, check_int, check_real

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "ExactSolver",
    "History",
    "Iterate",
    "IterativeSolver",
    "SolveResult",
    "Solver",
    "StateRules",
    "Stop",
    "game_fingerprint",
    "hash_str",
    "load_checkpoint",
    "one_shot_result",
    "rng_from_array",
    "rng_to_array",
    "save_checkpoint",
    "solve",
]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------- the loop


def _resolve_solver(solver: str | Solver, options: Mapping[str, Any], game: Any = None) -> Solver:
    if isinstance(solver, str):
        from gamesolve.registry import make_solver

        made = make_solver(solver, game=game, **options)
        if not isinstance(made, Solver):
            raise TypeError(f"registry solver {solver!r} does not derive from gamesolve.solver.Solver")
        return made
    if options:
        raise TypeError("solver options apply only when the solver is given by name")
    if not isinstance(solver, IterativeSolver | ExactSolver):
        raise TypeError(
            "solver must be a registry name or an object deriving from gamesolve.solver.IterativeSolver "
            f"or ExactSolver, got {type(solver).__name__}"
        )
    return solver


#: With a time limit and no evaluation schedule, evaluations may take this share of the time spent.
EVAL_TIME_SHARE = 0.1

#: ... and are spaced so that each comes at least this factor later than the previous one.
EVAL_SPACING = 1.05


def _check_loop_arguments(
    *,
    iterations: Any,
    time_limit: Any,
    target_exploitability: Any,
    eval_every: Any,
    seed: Any,
    callback: Any,
    checkpoint: Any,
    checkpoint_every: Any,
    overwrite: Any,
    progress: Any,
) -> tuple[int | None, float | None, float | None, int | None, int, int | None]:
    """Every argument of :func:`solve` that is not the game or the solver, checked at the door."""
    iterations = None if iterations is None else check_int("iterations", iterations, minimum=0)
    time_limit = (
        None if time_limit is None else check_real("time_limit", time_limit, minimum=0.0, min_inclusive=False)
    )
    target = (
        None
        if target_exploitability is None
        else check_real("target_exploitability", target_exploitability, minimum=0.0)
    )
    eval_every = None if eval_every is None else check_int("eval_every", eval_every, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    checkpoint_every = (
        None if checkpoint_every is None else check_int("checkpoint_every", checkpoint_every, minimum=1)
    )
    if checkpoint_every is not None and checkpoint is None:
        raise InvalidArgumentError("checkpoint_every needs a checkpoint path (checkpoint=...)")
    if callback is not None and not callable(callback):
        raise InvalidArgumentError(f"callback must be callable, got {type(callback).__name__}")
    check_bool("overwrite", overwrite)
    if progress is not None:
        check_bool("progress", progress)
    return iterations, time_limit, target, eval_every, seed, checkpoint_every


def solve(
    game: Any,
    solver: str | Solver,
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
    overwrite: bool = False,
    progress: bool | None = None,
    **solver_options: Any,
) -> SolveResult:
    """Run a solver on a game.

    Every argument is checked before any work starts (numbers, paths, the checkpoint to resume),
    so a bad option fails in a second with an error naming it, not after a long run.

    Args:
        game: A game the solver accepts: extensive-form (anything :func:`~gamesolve.as_compiled`
            accepts) for the CFR family, a :class:`~gamesolve.normal_form.TensorGame` for
            normal-form solvers, a tabular Markov game for the Markov solvers; or a game string
            (``"kuhn_poker"``, ``"leduc(ranks=13,suits=4)"``), loaded with
            :func:`~gamesolve.load_game` before any work.
        solver: A registry name (``"cfr"``, ``"cfr+"``, ``"lcfr"``, ``"dcfr"``, ``"pcfr+"``,
            ``"mccfr-es"``, ``"mccfr-os"``, ``"lp"``, ...; see
            :func:`~gamesolve.registry.available_solvers`) or a configured solver object. Exact
            solvers (LPs, enumeration) answer in one call: they honour ``time_limit`` and ignore
            the other budget options (with a logged warning).
        iterations: Total iteration budget (counting iterations done before a resume).
        time_limit: Seconds of wall clock for the solving: everything after the game is prepared
            (compiled, and game-derived matrices built by the solver's ``warm_up``), the solver's
            initial state (or the resumed checkpoint), evaluations, checkpoints and the final
            report included. With no
            ``eval_every`` and no ``iterations``, evaluations are scheduled to take at most about
            10% of the time.
        target_exploitability: Stop as soon as an evaluation reaches this exploitability (>= 0).
        eval_every: Evaluate the exact exploitability every this many iterations (default: about
            50 evaluations over the iteration budget, or every 20 iterations without one). The
            final iterate is always evaluated, once; the starting point (iteration 0) only when an
            evaluation is scheduled before the last iteration or a target or time limit is set.
        seed: Seed of the solver's random generator (sampling solvers), an integer >= 0.
        callback: Called after every iteration with ``(iteration, last exploitability or None)``;
            return :data:`Stop` to end the run.
        checkpoint: Path of a checkpoint file to write every ``checkpoint_every`` iterations and at
            the end (also on Ctrl-C). An existing file there is replaced only when it is the
            ``resume`` file or when ``overwrite`` is true.
        checkpoint_every: Iterations between checkpoints (default: only at the end).
        resume: A checkpoint to continue from; it must come from the same game, solver,
            configuration and seed, and every array in it is checked against the game first.
        overwrite: Replace an existing file at ``checkpoint`` (another run's checkpoint included).
        progress: Show a progress bar (default: when stderr is a terminal).
        **solver_options: Options passed to the solver when it is given by name.

    Returns:
        A :class:`SolveResult`. If a checkpoint write fails during the run, the run goes on, the
        error is logged, and the result's ``extras["checkpoint_error"]`` and message say so.

    Raises:
        InvalidArgumentError: A bad number (NaN, negative, not an integer), no stopping rule, or
            options that do not fit together.
        OutputPathError: ``checkpoint`` cannot be written.
        UnsupportedGame: The solver does not handle this game.
        CheckpointError: ``resume`` is damaged or does not match this run, or ``checkpoint`` holds
            a file that would be lost.
    """
    iterations, time_limit, target, eval_every, seed, checkpoint_every = _check_loop_arguments(
        iterations=iterations,
        time_limit=time_limit,
        target_exploitability=target_exploitability,
        eval_every=eval_every,
        seed=seed,
        callback=callback,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        overwrite=overwrite,
        progress=progress,
    )
    if isinstance(game, str):
        from gamesolve.registry import load_game

        game = load_game(game)
    algo = _resolve_solver(solver, solver_options, game)
    if isinstance(algo, ExactSolver):
        if checkpoint is not None or resume is not None:
            raise InvalidArgumentError(
                f"{algo.name} computes its answer in one call and keeps no state to checkpoint or "
                "resume; drop checkpoint= / resume="
            )
        prepared = algo.prepare(game)
        algo.check(prepared.spec)
        ignored = [
            name
            for name, value in (
                ("iterations", iterations),
                ("target_exploitability", target),
                ("eval_every", eval_every),
                ("callback", callback),
            )
            if value is not None
        ]
        if ignored:
            log.warning("%s answers in one call; %s does not apply", algo.name, ", ".join(ignored))
        return algo.run(prepared, seed=seed, time_limit=time_limit, progress=progress)
    assert isinstance(algo, IterativeSolver)
    if checkpoint is not None:
        check_output_path(checkpoint, what="checkpoint")  # before the game is compiled
    if resume is not None:
        read_checkpoint_meta(resume)  # a missing or foreign file fails before the work too
    prepared = algo.prepare(game)
    algo.check(prepared.spec)
    if iterations is None and time_limit is None and target is None:
        default = algo.default_iterations
        if default is None:
            raise InvalidArgumentError("give at least one of iterations, time_limit or target_exploitability")
        iterations = int(default)
    if checkpoint is not None:
        guard_checkpoint_target(
            checkpoint, resume=resume, overwrite=bool(overwrite), game=prepared, solver=algo, seed=seed
        )
    loop = _Loop(
        algo,
        prepared,
        seed=seed,
        iterations=iterations,
        time_limit=time_limit,
        target=target,
        eval_every=eval_every,
        callback=callback,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        progress=progress,
    )
    started = time.perf_counter()
    algo.warm_up(prepared)  # game-derived setup, like compiling (cached per game)
    loop.warm_up_seconds = time.perf_counter() - started
    # The budget starts now: it bounds the solver's own work (its state, iterations, evaluations,
    # checkpoints, the final report), not loading or compiling the game.
    loop.deadline = None if time_limit is None else time.perf_counter() + time_limit
    if resume is not None:
        loop.restore(resume)
    else:
        loop.state = algo.init(prepared, np.random.default_rng(seed))
    if algo.threads is None:
        return loop.run()
    from gamesolve.kernels.layers import kernel_threads

    with kernel_threads(algo.threads):  # the run's evaluations on the solver's cores too
        return loop.run()


class _Loop:
    """The iteration loop of :func:`solve`, with its clocks, schedule and history."""

    def __init__(
        self,
        algo: Any,
        prepared: Any,
        *,
        seed: int,
        iterations: int | None,
        time_limit: float | None,
        target: float | None,
        eval_every: int | None,
        callback: Callable[[int, float | None], Any] | None,
        checkpoint: str | os.PathLike[str] | None,
        checkpoint_every: int | None,
        progress: bool | None,
    ) -> None:
        self.algo = algo
        self.prepared = prepared
        self.seed = seed
        self.iterations = iterations
        self.deadline: float | None = None  # set by solve() once the state is ready
        self.time_limit = time_limit
        self.target = target
        # Only a time limit: evaluate on a clock schedule that keeps evaluation cheap.
        self.adaptive = eval_every is None and iterations is None and time_limit is not None
        self.eval_every = eval_every if eval_every is not None else max(1, (iterations or 1000) // 50)
        self.callback = callback
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.progress = progress
        self.state: dict[str, NDArray[Any]] = {}
        self.start_iteration = 0
        self.elapsed_before = 0.0
        self.hist: dict[str, list[Any]] = {k: list(v) for k, v in History().to_dict().items()}
        self.track_iterates = algo.track_iterates
        self.it = 0
        self.iter_time = 0.0
        self.eval_cost = 0.0  # seconds of the last evaluation
        self.warm_up_seconds = 0.0  # the solver's warm_up (kernel compilation, set-up): not counted
        self.eval_spent = 0.0  # seconds of every evaluation in this call
        self.checkpoint_cost = 0.0
        self.checkpoint_error: str | None = None
        self.last_eval_it = -1

    def restore(self, resume: str | os.PathLike[str]) -> None:
        """Load and check a checkpoint; nothing in it reaches the solver unchecked."""
        meta, loaded = load_checkpoint(resume)
        self.start_iteration = check_resume(meta, self.prepared, self.algo, self.seed, resume)
        template = self.algo.init(self.prepared, np.random.default_rng(self.seed))
        check_state(self.algo, self.prepared, template, loaded, iteration=self.start_iteration, path=resume)
        self.state = loaded
        self.elapsed_before = float(meta["wall_time"])
        self.hist = {k: list(v) for k, v in History.from_dict(meta.get("history", {})).to_dict().items()}
        self.it = self.start_iteration
        if self.hist["iteration"]:
            self.last_eval_it = self.hist["iteration"][-1]

    # ------------------------------------------------------------------------------ measurement

    def _measure(self, policy: Any) -> float:
        return float(self.algo.evaluate(self.prepared, policy))

    def evaluate(self, output_value: float | None = None) -> float:
        """Append one history row for the current iterate; returns the output's exploitability."""
        t0 = time.perf_counter()
        algo, prepared, state = self.algo, self.prepared, self.state
        measured = output_value is None
        value = (
            output_value
            if output_value is not None
            else self._measure(algo.policy(prepared, state, algo.output))
        )
        if self.track_iterates:
            self.hist.setdefault("average_exploitability", [])
            self.hist.setdefault("current_exploitability", [])
            for which, key in ((Iterate.AVERAGE, "average"), (Iterate.CURRENT, "current")):
                other = value if which == algo.output else self._measure(algo.policy(prepared, state, which))
                self.hist[f"{key}_exploitability"].append(other)
        self.hist["iteration"].append(self.it)
        self.hist["wall_time"].append(self.elapsed_before + self.iter_time)
        self.hist["exploitability"].append(value)
        self.hist["nash_conv"].append(value * prepared.spec.num_players)
        self.last_eval_it = self.it
        seconds = time.perf_counter() - t0
        if measured:  # a reused figure says nothing about what an evaluation costs
            self.eval_cost = seconds
        self.eval_spent += seconds
        return value

    def write_checkpoint(self) -> None:
        """Write the checkpoint; a failure is logged and reported, never fatal to the run."""
        if self.checkpoint is None:
            return
        t0 = time.perf_counter()
        try:
            save_checkpoint(
                self.checkpoint,
                game=self.prepared,
                solver=self.algo,
                seed=self.seed,
                iteration=self.it,
                wall_time=self.elapsed_before + self.iter_time,
                history=History.from_dict(self.hist),
                state=self.state,
            )
            self.checkpoint_error = None
        except (OSError, OutputPathError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.checkpoint_error = f"could not write checkpoint {os.fspath(self.checkpoint)!r}: {reason}"
            log.error("%s (at iteration %d); the run goes on", self.checkpoint_error, self.it)
        self.checkpoint_cost = time.perf_counter() - t0

    # ---------------------------------------------------------------------------------- clocks

    def _reserve(self) -> float:
        """Seconds to keep for the final report (an evaluation and a bit more) and checkpoint."""
        evaluations = 2.5 if self.track_iterates else 1.5
        return evaluations * self.eval_cost + self.checkpoint_cost + 0.01

    def _out_of_time(self, per_iteration: float) -> bool:
        if self.deadline is None:
            return False
        return time.perf_counter() + self._reserve() + per_iteration >= self.deadline

    def _starts_with_evaluation(self) -> bool:
        """Whether iteration 0 is evaluated.

        It is when the schedule evaluates before the end, or a target or time limit may stop the
        run; a run with no evaluation asked before its last iteration is evaluated once, at the end.
        """
        if self.adaptive or self.iterations is None or self.target is not None or self.deadline is not None:
            return True
        return self.eval_every < self.iterations

    def _evaluation_due(self, loop_started: float) -> bool:
        if self.iterations is not None and self.it >= self.iterations and self.target is None:
            return False  # the last iteration is evaluated once, by the final report
        if self.adaptive:
            spent = time.perf_counter() - loop_started
            last_wall = self.hist["wall_time"][-1] - self.elapsed_before if self.hist["wall_time"] else 0.0
            cheap = self.eval_spent + self.eval_cost <= EVAL_TIME_SHARE * spent
            spaced = self.iter_time >= EVAL_SPACING * last_wall
            due = cheap and spaced
        else:
            due = self.it % self.eval_every == 0
        if due and self.deadline is not None:
            # An evaluation that would run into the time kept for the final one is skipped.
            due = time.perf_counter() + self.eval_cost + self._reserve() < self.deadline
        return due

    def _chunk(self, per_iteration: float) -> int:
        """Iterations to run in one call: up to the next boundary, about 50 ms at a time."""
        it = self.it
        chunk = 1 << 30 if self.adaptive else self.eval_every - it % self.eval_every
        if self.checkpoint is not None and self.checkpoint_every is not None:
            chunk = min(chunk, self.checkpoint_every - it % self.checkpoint_every)
        if self.iterations is not None:
            chunk = min(chunk, self.iterations - it)
        if self.callback is not None or per_iteration <= 0 or self.algo.can_finish:
            return 1  # a solver that can tell it is done is asked after every iteration
        chunk = max(1, min(chunk, int(0.05 / per_iteration)))
        if self.deadline is not None:
            room = self.deadline - time.perf_counter() - self._reserve()
            chunk = max(1, min(chunk, int(room / per_iteration)))
        return chunk

    # ------------------------------------------------------------------------------------ loop

    def run(self) -> SolveResult:
        """Iterate until a stopping rule holds, then evaluate, checkpoint and report."""
        algo, prepared = self.algo, self.prepared
        bar = progress_bar(self.progress, desc=f"{algo.name} on {prepared.spec.name}", total=self.iterations)
        if bar is not None and self.start_iteration:
            bar.update(min(self.start_iteration, self.iterations or self.start_iteration))
        hist = self.hist
        last_expl: float | None = hist["exploitability"][-1] if hist["exploitability"] else None
        if last_expl is not None and not math.isfinite(last_expl):
            last_expl = None
        converged = False
        interrupted = False
        message = ""
        per_iteration = 0.0
        loop_started = time.perf_counter()
        with _deferred_sigint() as was_interrupted:
            try:
                if self.it == 0 and self.last_eval_it < 0 and self._starts_with_evaluation():
                    last_expl = self.evaluate()
                while True:
                    if was_interrupted():
                        raise KeyboardInterrupt
                    if self.target is not None and last_expl is not None and last_expl <= self.target:
                        converged = True
                        message = f"reached exploitability {last_expl:.3g} <= {self.target:g}"
                        break
                    done = algo.finished(prepared, self.state)
                    if done:
                        converged, message = True, str(done)
                        break
                    if self.iterations is not None and self.it >= self.iterations:
                        if self.it == self.start_iteration and self.start_iteration > 0:
                            message = (
                                f"nothing to do: the checkpoint is at iteration {self.it}, at or past the "
                                f"budget of {self.iterations} iterations"
                            )
                        else:
                            message = f"completed {self.iterations} iterations"
                        break
                    if self._out_of_time(per_iteration):
                        message = f"time limit of {self.time_limit:g} s reached"
                        break
                    chunk = self._chunk(per_iteration)
                    t0 = time.perf_counter()
                    algo.step(prepared, self.state, chunk)
                    spent = time.perf_counter() - t0
                    self.iter_time += spent
                    per_iteration = spent / chunk
                    self.it += chunk
                    if self._evaluation_due(loop_started):
                        last_expl = self.evaluate()
                    if bar is not None:
                        bar.update(chunk)
                        if last_expl is not None:
                            extra = algo.progress_info(prepared, self.state)
                            bar.set_postfix(expl=f"{last_expl:.3e}", **extra, refresh=False)
                    every = self.checkpoint_every
                    if every is not None and self.it % every == 0:
                        self.write_checkpoint()
                    if self.callback is not None and self.callback(self.it, last_expl) is Stop:
                        message = "stopped by callback"
                        break
            except KeyboardInterrupt:
                interrupted = True
                message = f"interrupted after {self.it} iterations"
                log.warning("run interrupted by the user after %d iterations", self.it)
            finally:
                if bar is not None:
                    bar.close()
        return self._finish(converged=converged, interrupted=interrupted, message=message)

    def _finish(self, *, converged: bool, interrupted: bool, message: str) -> SolveResult:
        algo, prepared, state = self.algo, self.prepared, self.state
        policy = algo.policy(prepared, state, algo.output)
        report = algo.report(prepared, policy)
        if self.last_eval_it != self.it:
            # The report already holds the output's exploitability unless the solver measures its own.
            reuse = None if algo.measures_itself() else report.exploitability
            value = self.evaluate(reuse)
            if self.target is not None and value <= self.target and not converged and not interrupted:
                converged = True
        self.write_checkpoint()
        extras = dict(getattr(report, "extras", None) or {})  # reports may carry figures of their own
        extras.update(algo.extras(prepared, state))
        extras["warm_up_seconds"] = self.warm_up_seconds
        if self.checkpoint_error is not None:
            extras["checkpoint_error"] = self.checkpoint_error
            message = f"{message}; {self.checkpoint_error}" if message else self.checkpoint_error
        values = algo.values(prepared, state)
        return SolveResult(
            game=prepared.spec.name,
            solver=algo.name,
            config=algo.config(),
            seed=self.seed,
            iterations=self.it,
            wall_time=self.elapsed_before + self.iter_time,
            average_policy=algo.policy(prepared, state, Iterate.AVERAGE),
            current_policy=algo.policy(prepared, state, Iterate.CURRENT),
            policy=policy,
            exploitability=report.exploitability,
            nash_conv=report.nash_conv,
            history=History.from_dict(self.hist),
            converged=converged,
            message=message,
            value=report.on_policy_values if values is None else values,
            extras=extras,
            interrupted=interrupted,
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
