"""gamesolve: game-theoretic multi-agent solving on compiled game arrays.

The top-level names below are the public API. ``import gamesolve`` stays light: games and solvers
are imported on first use, and torch, ray and open_spiel are never imported here.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gamesolve.alpharank import AlphaRankResult, alpha_rank
    from gamesolve.budget import get_memory_budget, memory_budget, set_memory_budget
    from gamesolve.certify import certify
    from gamesolve.compiled import CompiledGame, InfosetIndex, as_compiled, compile_game
    from gamesolve.errors import (
        CheckpointError,
        GameNotFoundError,
        GamesolveError,
        GameTooLargeError,
        InputFileError,
        InvalidArgumentError,
        InvalidPolicyError,
        MalformedGameError,
        NotPerfectRecallError,
        OutputPathError,
        PluginError,
        TimeLimitError,
        UnsupportedGame,
    )
    from gamesolve.evaluation import (
        BestResponse,
        ExploitabilityReport,
        best_response,
        expected_values,
        exploitability,
        nash_conv,
    )
    from gamesolve.exact import correlated_equilibrium, equilibria
    from gamesolve.executors import Executor, make_executor
    from gamesolve.lower_bounds import ExploitabilityBound, lbr_exploitability_bound, rl_exploitability_bound
    from gamesolve.markov import (
        MarkovEpisode,
        MarkovProfile,
        SampledMarkovGame,
        TabularMarkovGame,
        markov_game,
    )
    from gamesolve.mean_field import MeanFieldGame, mean_field_game
    from gamesolve.neural import NeuralPolicy, load_policy
    from gamesolve.normal_form import (
        MixedProfile,
        TensorGame,
        bimatrix,
        normal_form_game,
        zero_sum,
    )
    from gamesolve.policy import TabularPolicy, uniform_policy
    from gamesolve.population import ActingPolicy, MetaGame, Population, Ratings
    from gamesolve.preference import PreferenceGame, kl_divergence, preference_game
    from gamesolve.protocols import (
        CHANCE,
        TERMINAL,
        ExtensiveFormGame,
        MarkovGame,
        NormalFormGame,
        State,
    )
    from gamesolve.registry import available_games, available_solvers, load_game, make_solver
    from gamesolve.results import History, SolveResult
    from gamesolve.run import solve
    from gamesolve.solver import ExactSolver, Iterate, IterativeSolver, Stop
    from gamesolve.spec import GameKind, GameSpec, Utility
    from gamesolve.tournament import tournament
    from gamesolve.vector_env import VectorEnv, vector_env

__version__ = "0.1.0"

#: Every public name and the module that defines it, imported on first use (module ``__getattr__``),
#: so ``import gamesolve`` loads neither numba nor scipy (nor torch, ray, open_spiel).
_LAZY: dict[str, str] = {
    "ActingPolicy": "gamesolve.population",
    "AlphaRankResult": "gamesolve.alpharank",
    "BestResponse": "gamesolve.evaluation",
    "CHANCE": "gamesolve.protocols",
    "CheckpointError": "gamesolve.errors",
    "CompiledGame": "gamesolve.compiled",
    "ExactSolver": "gamesolve.solver",
    "Executor": "gamesolve.executors",
    "ExploitabilityBound": "gamesolve.lower_bounds",
    "ExploitabilityReport": "gamesolve.evaluation",
    "ExtensiveFormGame": "gamesolve.protocols",
    "GameKind": "gamesolve.spec",
    "GameNotFoundError": "gamesolve.errors",
    "GameSpec": "gamesolve.spec",
    "GameTooLargeError": "gamesolve.errors",
    "GamesolveError": "gamesolve.errors",
    "History": "gamesolve.results",
    "InfosetIndex": "gamesolve.compiled",
    "InputFileError": "gamesolve.errors",
    "InvalidArgumentError": "gamesolve.errors",
    "InvalidPolicyError": "gamesolve.errors",
    "Iterate": "gamesolve.solver",
    "IterativeSolver": "gamesolve.solver",
    "MalformedGameError": "gamesolve.errors",
    "MarkovEpisode": "gamesolve.markov",
    "MarkovGame": "gamesolve.protocols",
    "MarkovProfile": "gamesolve.markov",
    "MeanFieldGame": "gamesolve.mean_field",
    "MetaGame": "gamesolve.population",
    "MixedProfile": "gamesolve.normal_form",
    "NeuralPolicy": "gamesolve.neural",
    "NormalFormGame": "gamesolve.protocols",
    "NotPerfectRecallError": "gamesolve.errors",
    "OutputPathError": "gamesolve.errors",
    "PluginError": "gamesolve.errors",
    "Population": "gamesolve.population",
    "PreferenceGame": "gamesolve.preference",
    "Ratings": "gamesolve.population",
    "SampledMarkovGame": "gamesolve.markov",
    "SolveResult": "gamesolve.results",
    "State": "gamesolve.protocols",
    "Stop": "gamesolve.solver",
    "TERMINAL": "gamesolve.protocols",
    "TabularMarkovGame": "gamesolve.markov",
    "TabularPolicy": "gamesolve.policy",
    "TensorGame": "gamesolve.normal_form",
    "TimeLimitError": "gamesolve.errors",
    "UnsupportedGame": "gamesolve.errors",
    "Utility": "gamesolve.spec",
    "VectorEnv": "gamesolve.vector_env",
    "alpha_rank": "gamesolve.alpharank",
    "as_compiled": "gamesolve.compiled",
    "available_games": "gamesolve.registry",
    "available_solvers": "gamesolve.registry",
    "best_response": "gamesolve.evaluation",
    "bimatrix": "gamesolve.normal_form",
    "certify": "gamesolve.certify",
    "compile_game": "gamesolve.compiled",
    "correlated_equilibrium": "gamesolve.exact",
    "equilibria": "gamesolve.exact",
    "expected_values": "gamesolve.evaluation",
    "exploitability": "gamesolve.evaluation",
    "get_memory_budget": "gamesolve.budget",
    "kl_divergence": "gamesolve.preference",
    "lbr_exploitability_bound": "gamesolve.lower_bounds",
    "load_game": "gamesolve.registry",
    "load_policy": "gamesolve.neural",
    "make_executor": "gamesolve.executors",
    "make_solver": "gamesolve.registry",
    "markov_game": "gamesolve.markov",
    "mean_field_game": "gamesolve.mean_field",
    "memory_budget": "gamesolve.budget",
    "nash_conv": "gamesolve.evaluation",
    "normal_form_game": "gamesolve.normal_form",
    "preference_game": "gamesolve.preference",
    "rl_exploitability_bound": "gamesolve.lower_bounds",
    "set_memory_budget": "gamesolve.budget",
    "solve": "gamesolve.run",
    "tournament": "gamesolve.tournament",
    "uniform_policy": "gamesolve.policy",
    "vector_env": "gamesolve.vector_env",
    "zero_sum": "gamesolve.normal_form",
}

__all__ = [
    "CHANCE",
    "TERMINAL",
    "ActingPolicy",
    "AlphaRankResult",
    "BestResponse",
    "CheckpointError",
    "CompiledGame",
    "ExactSolver",
    "Executor",
    "ExploitabilityBound",
    "ExploitabilityReport",
    "ExtensiveFormGame",
    "GameKind",
    "GameNotFoundError",
    "GameSpec",
    "GameTooLargeError",
    "GamesolveError",
    "History",
    "InfosetIndex",
    "InputFileError",
    "InvalidArgumentError",
    "InvalidPolicyError",
    "Iterate",
    "IterativeSolver",
    "MalformedGameError",
    "MarkovEpisode",
    "MarkovGame",
    "MarkovProfile",
    "MeanFieldGame",
    "MetaGame",
    "MixedProfile",
    "NeuralPolicy",
    "NormalFormGame",
    "NotPerfectRecallError",
    "OutputPathError",
    "PluginError",
    "Population",
    "PreferenceGame",
    "Ratings",
    "SampledMarkovGame",
    "SolveResult",
    "State",
    "Stop",
    "TabularMarkovGame",
    "TabularPolicy",
    "TensorGame",
    "TimeLimitError",
    "UnsupportedGame",
    "Utility",
    "VectorEnv",
    "__version__",
    "alpha_rank",
    "as_compiled",
    "available_games",
    "available_solvers",
    "best_response",
    "bimatrix",
    "certify",
    "compile_game",
    "compile_pettingzoo",
    "correlated_equilibrium",
    "equilibria",
    "expected_values",
    "exploitability",
    "from_pettingzoo",
    "get_memory_budget",
    "kl_divergence",
    "lbr_exploitability_bound",
    "load_game",
    "load_policy",
    "make_executor",
    "make_solver",
    "markov_game",
    "mean_field_game",
    "memory_budget",
    "nash_conv",
    "normal_form_game",
    "preference_game",
    "rl_exploitability_bound",
    "set_memory_budget",
    "solve",
    "to_pettingzoo",
    "tournament",
    "uniform_policy",
    "vector_env",
    "zero_sum",
]

#: Public functions named like the submodule that defines them: the function is the package's
#: attribute, and importing the submodule does not replace it (an eager package had it so).
_SHADOWED = frozenset({"certify", "tournament", "vector_env"})


class _Package(types.ModuleType):
    """The package's module type: keeps a shadowed name (see :data:`_SHADOWED`) a function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return  # the import system binding the submodule; the lazy function stays the attribute
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then kept in the package namespace).

    A submodule's name (``gamesolve.markov``) imports the submodule, as an eager package would have.
    """
    module = _LAZY.get(name)
    if module is None:
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module 'gamesolve' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def to_pettingzoo(
    game: Any,
    *,
    parallel: bool = False,
    render_mode: str | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
) -> Any:
    """A PettingZoo env (AEC, or ``ParallelEnv`` with ``parallel=True``) that plays ``game``.

    See :func:`gamesolve.games.pettingzoo.to_pettingzoo`; PettingZoo is imported on first use.
    """
    from gamesolve.registry import ADAPTERS_GROUP, plugin

    return plugin(ADAPTERS_GROUP, "to_pettingzoo")(
        game, parallel=parallel, render_mode=render_mode, max_steps=max_steps, seed=seed
    )


def from_pettingzoo(
    env_or_factory: Any,
    *,
    discount: float = 1.0,
    utility: Any = None,
    name: str | None = None,
    has_chance: bool = True,
) -> Any:
    """A PettingZoo env (or env factory) as a sampled Markov game.

    See :func:`gamesolve.games.pettingzoo.from_pettingzoo`; PettingZoo is imported on first use.
    """
    from gamesolve.registry import ADAPTERS_GROUP, plugin

    return plugin(ADAPTERS_GROUP, "from_pettingzoo")(
        env_or_factory, discount=discount, utility=utility, name=name, has_chance=has_chance
    )


def compile_pettingzoo(
    env: Any,
    *,
    seed: int = 0,
    max_nodes: int = 1_000_000,
    merge_transpositions: Any = True,
    name: str | None = None,
) -> Any:
    """The exact game tree of a small, deep-copyable PettingZoo AEC env (for the reset ``seed``).

    See :func:`gamesolve.games.pettingzoo.compile_pettingzoo`; PettingZoo is imported on first use.
    """
    from gamesolve.registry import ADAPTERS_GROUP, plugin

    return plugin(ADAPTERS_GROUP, "compile_pettingzoo")(
        env, seed=seed, max_nodes=max_nodes, merge_transpositions=merge_transpositions, name=name
    )
