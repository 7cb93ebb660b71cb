"""What NeuPL's two engines share: the counters of a run and the rule that grows the population.

Both the compiled-tree engine (:mod:`gamesolve.solvers.neupl.solver`) and the tensor engine
(:mod:`gamesolve.solvers.neupl.tensor`) keep these arrays in their state and grow the population the
same way: by one policy when the newest policy's return against its mixture has improved by at
most a tolerance over ``patience`` iterations (the tree engine with exact values also grows when
the newest policy is an exact epsilon-best response).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.solvers.neupl.graphs import interaction_graph

__all__ = ["COUNTERS", "grow", "growth_check", "run_arrays", "update_graph"]

State = dict[str, NDArray[Any]]

#: The counters every NeuPL state holds (never negative).
COUNTERS = frozenset({"env_steps", "evaluation_steps", "episodes", "since_growth", "counts", "stderr"})


def run_arrays(size: int, max_population: int, patience: int) -> State:
    """The shared arrays of a fresh run whose population starts with ``size`` policies."""
    n_max = max_population
    state: State = {
        "size": np.asarray(size, dtype=np.int64),
        "iteration": np.zeros((), dtype=np.int64),
        "since_growth": np.zeros((), dtype=np.int64),
        "window": np.full(patience + 1, np.nan),
        "gap": np.asarray(np.nan),
        "env_steps": np.zeros((), dtype=np.int64),
        "evaluation_steps": np.zeros((), dtype=np.int64),
        "episodes": np.zeros((), dtype=np.int64),
        "joined": np.full(n_max, -1, dtype=np.int64),  # iteration at which each row became active
        "graph": np.zeros((n_max, n_max)),
        "payoffs": np.zeros((n_max, n_max)),
        "stderr": np.zeros((n_max, n_max)),
        "counts": np.zeros((n_max, n_max), dtype=np.int64),
    }
    state["joined"][:size] = 0
    return state


def update_graph(state: State, name: str) -> None:
    """``Sigma <- F(U)``: the interaction graph ``name`` of the active population's payoffs."""
    n = int(state["size"])
    state["graph"][...] = interaction_graph(name, state["payoffs"][:n, :n], state["graph"].shape[0])


def growth_check(state: State, tolerance: float, patience: int) -> tuple[float | None, bool]:
    """One growth test: the newest policy's payoff against its own mixture, and whether it plateaued.

    Counts the test (``since_growth``); returns ``(None, False)`` when the newest row is untrained
    (the initial policy alone). Otherwise records ``sigma_n . U[n]`` in the window and says whether
    it rose by at most ``tolerance`` over ``patience`` tests.
    """
    state["since_growth"] += 1
    n = int(state["size"])
    sigma = state["graph"][n - 1, :n]
    if sigma.sum() <= 0:
        return None, False
    ret = float(sigma @ state["payoffs"][n - 1, :n])
    window = state["window"]
    window[:-1] = window[1:]
    window[-1] = ret
    flat = bool(int(state["since_growth"]) >= patience and window[-1] - window[0] <= tolerance)
    return ret, flat


def grow(state: State) -> None:
    """Add the next policy to the population (the caller checked there is room)."""
    n = int(state["size"])
    state["size"][...] = n + 1
    state["joined"][n] = int(state["iteration"])
    state["since_growth"][...] = 0
    state["window"][:] = np.nan
