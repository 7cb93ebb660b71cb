"""Registry wrappers: all equilibria (``"enumerate"``) and Lemke-Howson (``"lemke-howson"``).

Both return a :class:`~gamesolve.run.SolveResult` whose ``policy`` is the first equilibrium found
and whose ``extras["equilibria"]`` lists every equilibrium found (as per-player probability
lists). ``"enumerate"`` adds the extreme strategies and the maximal Nash subsets (see
:meth:`gamesolve.solvers.enumeration.ExtremeEquilibria.extras`).

Both honour the run loop's ``time_limit``: the kernels run in chunks of a few milliseconds and
stop within one chunk of the limit. A run stopped by the limit returns what it found with
``converged=False`` and a message saying so and how many equilibria it found; one that found
none (a single Lemke-Howson path still running, or an enumeration that has paired no vertices
yet) raises :class:`~gamesolve.errors.TimeLimitError`, since there is no equilibrium to hand
back. Every option is checked when the solver is built (``InvalidArgumentError`` naming it);
``initial_label`` is checked against the game's size when it runs.
"""

from __future__ import annotations

import abc
import time
from typing import Any

from gamesolve.errors import TimeLimitError, UnsupportedGame
from gamesolve.normal_form import TensorGame
from gamesolve.progress import progress_bar
from gamesolve.registry import SolverEntry
from gamesolve.results import SolveResult
from gamesolve.solver import ExactSolver
from gamesolve.solvers.bimatrix import check_tolerance
from gamesolve.solvers.common import NormalFormSolver, check_time_limit
from gamesolve.solvers.enumeration import extreme_equilibria
from gamesolve.solvers.lemke_howson import all_labels_within, lemke_howson
from gamesolve.solvers.lp import exact_result
from gamesolve.spec import GameSpec
from gamesolve.validation import check_bool, check_int

__all__ = ["EquilibriumEnumeration", "LemkeHowson"]


def _plural(count: int, word: str) -> str:
    """``1 equilibrium``, ``2 equilibria``, ``3 maximal Nash subsets``."""
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-2] + 'a' if word.endswith('ium') else word + 's'}"


class _TwoPlayerExact(NormalFormSolver, ExactSolver):
    name = "two-player"

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {k: v for k, v in vars(self).items() if k != "name"}

    def check(self, spec: GameSpec) -> None:
        """Two-player normal-form games (any utility)."""
        super().check(spec)
        if spec.num_players != 2:
            raise UnsupportedGame(f"{self.name} solves two-player games; this one has {spec.num_players}")

    @abc.abstractmethod
    def run(
        self,
        game: TensorGame,
        *,
        seed: int = 0,
        time_limit: float | None = None,
        progress: bool | None = None,
    ) -> SolveResult:
        """Compute the equilibria once (deterministic; ``seed`` is only recorded).

        Args:
            game: The prepared game.
            seed: Recorded in the result.
            time_limit: Seconds allowed (None: no limit); see the module docstring.
            progress: Show a tqdm bar (default: when stderr is a terminal).

        Raises:
            TimeLimitError: The time limit ran out before any equilibrium was found.
        """


class EquilibriumEnumeration(_TwoPlayerExact):
    """Every extreme Nash equilibrium and the maximal Nash subsets of a two-player game.

    Vertex enumeration of both best-response polytopes (degenerate games included); see
    :func:`gamesolve.solvers.enumeration.extreme_equilibria`. ``extras`` holds ``equilibria``,
    ``extreme_strategies``, ``equilibrium_pairs``, ``nash_subsets``, ``degenerate``,
    ``vertices`` and ``complete``.

    Args:
        tol: Tie and zero tolerance on the normalized polytopes, in ``(0, 1e-3]``.
        max_vertices: Give up when a polytope has more bases than this (>= 1).
        refactor_every: Pivots between recomputations of the dictionary (>= 1).
        parallel: Enumerate the two polytopes in two threads.
    """

    def __init__(
        self,
        tol: float = 1e-9,
        max_vertices: int = 5_000_000,
        refactor_every: int = 32,
        parallel: bool = False,
    ) -> None:
        self.name = "enumerate"
        self.tol = check_tolerance("tol", tol)
        self.max_vertices = check_int("max_vertices", max_vertices, minimum=1)
        self.refactor_every = check_int("refactor_every", refactor_every, minimum=1)
        self.parallel = check_bool("parallel", parallel)

    def run(
        self,
        game: TensorGame,
        *,
        seed: int = 0,
        time_limit: float | None = None,
        progress: bool | None = None,
    ) -> SolveResult:
        """Enumerate; see :meth:`_TwoPlayerExact.run`."""
        limit = check_time_limit(time_limit, allow_inf=True)
        start = time.perf_counter()
        bar = progress_bar(progress, desc=f"{self.name} on {game.spec.name}", unit="chunk")

        def show(bases_p: int, bases_q: int) -> None:
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"bases P={bases_p} Q={bases_q}")

        try:
            found = extreme_equilibria(
                game,
                tol=self.tol,
                refactor_every=self.refactor_every,
                max_vertices=self.max_vertices,
                parallel=self.parallel,
                time_limit=limit,
                on_progress=show if bar is not None else None,
            )
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - start
        count = len(found.equilibria)
        if count == 0:  # only a time limit leaves nothing: every game has an equilibrium
            raise TimeLimitError(
                f"enumerate reached the time limit of {limit:g} s before pairing any vertices "
                f"(found 0 equilibria; {found.bases[0]} and {found.bases[1]} bases of the two "
                "polytopes visited); raise the time limit or use lemke-howson for one equilibrium"
            )
        subsets = len(found.nash_subsets)
        if found.complete and not found.degenerate:  # finitely many: all of them
            message = f"found {_plural(count, 'equilibrium')}"
        elif found.complete:
            message = (
                f"found {_plural(count, 'extreme equilibrium')} in {_plural(subsets, 'maximal Nash subset')} "
                "(degenerate game)"
            )
        else:
            message = (
                f"time limit of {limit:g} s reached: found {_plural(count, 'extreme equilibrium')} so far "
                f"({found.vertices[0]} and {found.vertices[1]} vertices of the two polytopes visited)"
            )
        return exact_result(
            game,
            solver=self.name,
            config=self.config(),
            seed=seed,
            profile=found.equilibria[0],
            seconds=seconds,
            message=message,
            extras=found.extras(),
            converged=found.complete,
        )


class LemkeHowson(_TwoPlayerExact):
    """Lemke-Howson from ``initial_label``, or from every label when ``initial_label`` is None.

    Args:
        initial_label: The label dropped first (``0 <= initial_label < m + n``, checked when it
            runs), or None for every label.
        max_pivots: Pivots allowed per path (>= 1).
        tol: Ratio-test tie tolerance, in ``(0, 1e-3]``.
        refactor_every: Pivots between recomputations of the basis inverse (>= 1).
    """

    def __init__(
        self,
        initial_label: int | None = 0,
        max_pivots: int = 10_000_000,
        tol: float = 1e-12,
        refactor_every: int = 16,
    ) -> None:
        self.name = "lemke-howson"
        self.initial_label = (
            None if initial_label is None else check_int("initial_label", initial_label, minimum=0)
        )
        self.max_pivots = check_int("max_pivots", max_pivots, minimum=1)
        self.tol = check_tolerance("tol", tol)
        self.refactor_every = check_int("refactor_every", refactor_every, minimum=1)

    def run(
        self,
        game: TensorGame,
        *,
        seed: int = 0,
        time_limit: float | None = None,
        progress: bool | None = None,
    ) -> SolveResult:
        """Follow the path(s); see :meth:`_TwoPlayerExact.run`."""
        limit = check_time_limit(time_limit, allow_inf=True)
        start = time.perf_counter()
        options: dict[str, Any] = {
            "max_pivots": self.max_pivots,
            "tol": self.tol,
            "refactor_every": self.refactor_every,
        }
        labels = sum(game.num_actions)
        bar = progress_bar(
            progress,
            desc=f"{self.name} on {game.spec.name}",
            unit="pivot" if self.initial_label is not None else "label",
        )
        extras: dict[str, Any] = {}
        try:
            if self.initial_label is None:
                found, done = all_labels_within(
                    game,
                    **options,
                    time_limit=limit,
                    on_progress=None if bar is None else lambda k: bar.update(1),
                )
                extras["labels_done"] = done
                complete = done == labels
                message = (
                    f"found {_plural(len(found), 'equilibrium')} from {labels} labels"
                    if complete
                    else f"time limit of {limit:g} s reached after {done} of {labels} labels: "
                    f"found {_plural(len(found), 'equilibrium')} so far"
                )
            else:
                shown = [0]

                def update(pivots: int) -> None:
                    bar.update(pivots - shown[0])
                    shown[0] = pivots

                # lemke_howson checks initial_label against the game's m + n labels
                found = [
                    lemke_howson(
                        game,
                        self.initial_label,
                        **options,
                        time_limit=limit,
                        on_progress=None if bar is None else update,
                    )
                ]
                complete = True
                message = f"found 1 equilibrium from label {self.initial_label}"
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - start
        extras["equilibria"] = [e.to_lists() for e in found]
        return exact_result(
            game,
            solver=self.name,
            config=self.config(),
            seed=seed,
            profile=found[0],
            seconds=seconds,
            message=message,
            extras=extras,
            converged=complete,
        )


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
ENUMERATE_ENTRY = SolverEntry("enumerate", EquilibriumEnumeration, "all equilibria (2 players)")
LEMKE_HOWSON_ENTRY = SolverEntry("lemke-howson", LemkeHowson, "one equilibrium by Lemke-Howson")
