"""The solver contract: every hook :func:`gamesolve.solve` calls, declared once with its default.

Two kinds of solvers exist, and every solver derives from one of these classes:

* :class:`IterativeSolver` runs a number of iterations on a state. The solver object holds
  configuration only; all mutable numbers live in the state it returns from :meth:`~IterativeSolver.init`,
  a dict of named numpy arrays (0-d arrays for scalars), so that a checkpoint is a plain ``.npz``
  file. Names that start with ``_`` are scratch space, rebuilt when missing and never saved.
* :class:`ExactSolver` computes its answer in one call (LPs, enumeration, homotopy).

A subclass must implement the abstract methods; every other hook has a default that suits most
solvers. The smallest complete iterative solver (regret matching on a matrix game) is in
``tests/contracts/test_solver_contract.py``; "How to add a solver" in the README walks through it.
"""

from __future__ import annotations

import abc
import enum
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules
from gamesolve.evaluation import exploitability as exact_exploitability
from gamesolve.evaluation import nash_conv as exact_nash_conv
from gamesolve.spec import GameSpec

if TYPE_CHECKING:
    from gamesolve.results import SolveResult

__all__ = ["ExactSolver", "Iterate", "IterativeSolver", "Solver", "State", "Stop"]

#: A solver's state: named numpy arrays (``_``-prefixed names are scratch, never checkpointed).
State = dict[str, NDArray[Any]]


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


class Solver(abc.ABC):
    """What every solver has: a name, a configuration, and a door check of the game."""

    #: The registry name (``"cfr+"``), recorded in results and checkpoints.
    name: str = "solver"

    @abc.abstractmethod
    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values (recorded in results and checkpoints)."""

    @abc.abstractmethod
    def prepare(self, game: Any) -> Any:
        """The solver's representation of ``game`` (a compiled game, a tensor game, ...)."""

    @abc.abstractmethod
    def check(self, spec: GameSpec) -> None:
        """Raise :class:`~gamesolve.errors.UnsupportedGame` if the game is outside the solver's scope."""


class IterativeSolver(Solver):
    """A solver that improves a state one iteration at a time, driven by :func:`gamesolve.solve`.

    Abstract: :meth:`config`, :meth:`prepare`, :meth:`check`, :meth:`init`, :meth:`step`,
    :meth:`policy`. Every other member has a default.
    """

    #: The iterate whose exploitability converges (reported as the result's policy).
    output: Iterate = Iterate.AVERAGE
    #: Record the exploitability of both iterates at every evaluation (first-order methods).
    track_iterates: ClassVar[bool] = False
    #: :meth:`finished` may end the run; the loop then asks after every iteration.
    can_finish: ClassVar[bool] = False
    #: Iterations to run when the caller gives no stopping rule (``None``: one is required).
    default_iterations: int | None = None
    #: What a resumed state must satisfy beyond matching a fresh state (see :meth:`check_state`).
    state_rules: StateRules = StateRules()
    #: Cores for the run's numba kernels, iterations and exact evaluations alike (``None``: numba's
    #: count, every core unless ``numba.set_num_threads`` chose fewer). Solvers with multi-core
    #: kernels take it as an option.
    threads: int | None = None

    @abc.abstractmethod
    def init(self, game: Any, rng: np.random.Generator) -> State:
        """Fresh solver state for the prepared ``game``; random draws come from ``rng`` only."""

    @abc.abstractmethod
    def step(self, game: Any, state: State, iterations: int = 1) -> None:
        """Advance ``state`` by ``iterations`` iterations, in place."""

    @abc.abstractmethod
    def policy(self, game: Any, state: State, which: Iterate) -> Any:
        """The requested iterate: a tabular policy, a mixed profile, a Markov profile, ..."""

    def warm_up(self, game: Any) -> None:
        """Game-derived setup (cached per game) done before a run's clock starts; none by default."""
        del game

    def check_state(self, game: Any, state: State) -> None:
        """Raise ``ValueError`` if a loaded state breaks an invariant across arrays; none by default.

        Runs after the generic checks of :func:`gamesolve.checkpoint.check_state` (names, dtypes,
        shapes against a fresh state, finiteness and :attr:`state_rules`).
        """
        del game, state

    def state_counter(self, state: State) -> int | None:
        """Iterations done, when they live inside a larger array; ``None`` uses ``state_rules.counter``."""
        del state
        return None

    def evaluate(self, game: Any, policy: Any) -> float:
        """The exploitability recorded in the history (default: exact, on the prepared game)."""
        return float(exact_exploitability(game, policy))

    def report(self, game: Any, policy: Any) -> Any:
        """The final report of the output policy (default: exact NashConv).

        Any object with ``exploitability``, ``nash_conv`` and ``on_policy_values``; an ``extras``
        mapping, if it has one, is merged into the result's extras.
        """
        return exact_nash_conv(game, policy)

    def finished(self, game: Any, state: State) -> str | None:
        """A message once the solver knows it is done (set :attr:`can_finish`); ``None`` otherwise."""
        del game, state
        return None

    def progress_info(self, game: Any, state: State) -> dict[str, Any]:
        """Extra fields for the progress bar (population sizes, ...); none by default."""
        del game, state
        return {}

    def values(self, game: Any, state: State) -> Any:
        """The result's ``value`` when the report's on-policy values do not say it; ``None`` by default."""
        del game, state
        return None

    def extras(self, game: Any, state: State) -> dict[str, Any]:
        """Solver-specific figures for the result's ``extras``; none by default."""
        del game, state
        return {}

    def measures_itself(self) -> bool:
        """Whether :meth:`evaluate` or :meth:`report` is overridden (then neither stands in for the other)."""
        cls = type(self)
        return cls.evaluate is not IterativeSolver.evaluate or cls.report is not IterativeSolver.report


class ExactSolver(Solver):
    """A solver that computes its answer in one call (LPs, enumeration, homotopy).

    Abstract: :meth:`config`, :meth:`prepare`, :meth:`check` and :meth:`run`.
    """

    @abc.abstractmethod
    def run(
        self, game: Any, *, seed: int = 0, time_limit: float | None = None, progress: bool | None = None
    ) -> SolveResult:
        """Solve the prepared game within ``time_limit`` seconds (``None``: no limit).

        When the time runs out, return the best answer found with ``converged=False`` and a
        message that says so, or raise :class:`~gamesolve.errors.TimeLimitError` if there is none.
        """
