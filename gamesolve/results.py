"""The result type of every solver: :class:`SolveResult` with its :class:`History` of evaluations."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["History", "SolveResult", "one_shot_result"]


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
        """Inverse of :meth:`to_dict` (``None``, which JSON writes for NaN, reads back as NaN)."""

        def floats(key: str) -> tuple[float, ...]:
            return tuple(math.nan if x is None else float(x) for x in data.get(key, ()))

        return cls(
            iteration=tuple(int(x) for x in data.get("iteration", ())),
            wall_time=floats("wall_time"),
            exploitability=floats("exploitability"),
            nash_conv=floats("nash_conv"),
            average_exploitability=floats("average_exploitability"),
            current_exploitability=floats("current_exploitability"),
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
        extras: Solver-specific figures (JSON-ready where possible).
        interrupted: Whether the run ended on Ctrl-C (the result holds the last iterate).
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
    interrupted: bool = False

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
