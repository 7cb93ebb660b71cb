"""The PSRO solver: populations grown by best-response oracles against a meta-strategy.

Lanctot, Zambaldi, Gruslys, Lazaridou, Tuyls, Pérolat, Silver & Graepel 2017, "A Unified
Game-Theoretic Approach to Multiagent Reinforcement Learning" (NeurIPS), Algorithm 1, as an
:class:`~gamesolve.solver.IterativeSolver` whose state holds every number as arrays and derives every
random draw from the run's seed, so a resumed run repeats an uninterrupted one exactly. The
meta-solvers are in :mod:`gamesolve.solvers.psro.meta_solvers`, the populations and their exact
meta-game in :mod:`gamesolve.solvers.psro.backends`.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.budget import IndexLimitError
from gamesolve.checkpoint import StateRules, check_distributions
from gamesolve.compiled import CompiledGame
from gamesolve.errors import (
    GamesolveError,
    GameTooLargeError,
    InvalidArgumentError,
    MalformedGameError,
    UnsupportedGame,
)
from gamesolve.evaluation import exploitability as exact_exploitability
from gamesolve.evaluation import nash_conv as exact_nash_conv
from gamesolve.executors import check_executor
from gamesolve.normal_form import TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.population import MetaGame, Population, meta_game_entries
from gamesolve.registry import ORACLES_GROUP, SolverEntry, plugin
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.common import prepare_extensive_form
from gamesolve.solvers.deep.common import DeepGame
from gamesolve.solvers.psro.backends import Backend, ExtensiveBackend, State, joint_opponents, make_backend
from gamesolve.solvers.psro.meta_solvers import (
    JOINT_META_SOLVERS,
    WEIGHT_FLOOR,
    MetaConfig,
    MetaStrategy,
    check_meta_name,
    solve_meta_game,
)
from gamesolve.solvers.psro.mixture import JointMixture, PSROReport
from gamesolve.solvers.psro.networks import (
    NetworkMixture,
    NetworkPopulation,
    check_meta_shapes,
    refine_support,
    state_seed,
    write_meta,
)
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_int, check_real

__all__ = ["FSP_ENTRY", "PSRO", "PSRO_ENTRY", "SELF_PLAY_ENTRY"]

log = logging.getLogger(__name__)

#: Players and meta-game axes whose arrays a resumed state is checked for.
_MAX_CHECKED_AXES = 16

_ORACLES = ("exact", "dqn", "ppo")
_INITIAL = ("first", "uniform", "random")
_MEMBERS = ("auto", "table", "network")

#: What a derived seed is for (the first word after the base seed).
_SEED_INITIAL, _SEED_ORACLE, _SEED_MATCHES = 0, 1, 2  # refining matches: SEED_REFINE


def _psro_state_rules() -> StateRules:
    """What a resumed PSRO state must satisfy: populations may have grown along their first axes."""
    every_axis = tuple(range(_MAX_CHECKED_AXES))
    growing: dict[str, tuple[int, ...]] = {
        key: every_axis for key in ("payoffs", "stderr", "counts", "meta_joint", "train_joint")
    }
    per_player = {
        f"{prefix}{p}" for prefix in ("pop", "born", "meta", "train") for p in range(_MAX_CHECKED_AXES)
    }
    growing.update({key: (0,) for key in per_player})
    probabilities = {key for key in per_player if not key.startswith("born")} | {
        "meta_joint",
        "train_joint",
    }
    return StateRules(
        counter="t",
        nonnegative=frozenset({"stderr", "counts", "done", *probabilities, *per_player}),
        probabilities=frozenset(probabilities),
        growing=growing,
    )


class PSRO(IterativeSolver):
    """Policy-Space Response Oracles (see the module docstring).

    Meta-solvers (``meta_solver`` reports the output, ``training_meta_solver`` picks the oracle's
    opponents):

    * ``"nash"``: the LP on two-player zero-sum games (Double Oracle), otherwise one equilibrium by
      the logit homotopy of :mod:`gamesolve.solvers.homotopy`; members with identical payoffs are
      merged first.
    * ``"uniform"``: every member equally, i.e. fictitious self-play (Heinrich, Lanctot & Silver
      2015, "Fictitious self-play in extensive-form games").
    * ``"prd"``: projected replicator dynamics (Lanctot et al. 2017) with OpenSpiel's defaults on
      payoffs scaled to ``max |u| = 1``, time average.
    * ``"alpharank"``: the per-player marginals of alpha-Rank's stationary distribution
      (:func:`gamesolve.alpha_rank`).
    * ``"ce"`` / ``"cce"``: the maximum-welfare (coarse) correlated equilibrium of the meta-game
      (JPSRO; Marris et al. 2021, "Multi-agent training beyond zero-sum with correlated equilibrium
      meta-solvers"), a joint distribution over profiles. Training against ``"cce"`` best-responds
      to the other players' joint marginal; against ``"ce"``, to ``sigma`` conditioned on each
      recommended member. Reporting outputs a :class:`JointMixture` whose exploitability is the
      (C)CE gap with deviations to any policy of the full game.
    * ``"self-play"``: the newest member only (iterated best response; it cycles in games like RPS).
    * ``"anytime"`` (two-player zero-sum, reporting): each player's maximin mixture of its own
      population against an unrestricted opponent (Anytime Double Oracle; McAleer, Wang, Lanier,
      Baldi & Fox 2022). Its exploitability never increases; training then defaults to ``"nash"``.
    * any normal-form solver of the registry (``"lp"``, ``"homotopy"``, ``"regret-matching"``, ...),
      iterative ones for ``meta_iterations`` iterations.

    On compiled games a member of player ``p`` is an ``[I, A]`` probability array (only ``p``'s rows
    matter) and the output a :class:`~gamesolve.policy.TabularPolicy`; on normal-form games a member
    is a probability vector and the output a :class:`~gamesolve.normal_form.MixedProfile`. RL
    responses are kept as their tabulated policy, so checkpoints hold no network weights.

    With network members (``members="network"``, and ``"auto"`` with ``oracle="ppo"`` on games that
    do not compile: OpenSpiel's ``connect_four``, ``dark_hex``, ...) every member is an MLP over
    the game's observation tensors, the first one uniform, each response a PPO network trained on
    the batched environment against whole opponent members drawn per episode, and the meta-game
    comes from seeded matches with standard errors (exact on compiled games without ``episodes``);
    the output is a :class:`~gamesolve.solvers.psro.networks.NetworkMixture` (exact exploitability
    where the game compiles, NaN elsewhere, with each seat's score against uniform play in the
    report's extras). The meta-solvers ``anytime``, ``ce`` and ``cce`` need tabular members.

    Args:
        oracle: ``"exact"`` (default), ``"dqn"``, ``"ppo"`` (torch, :mod:`gamesolve.solvers.rl_oracles`),
            or an object with that module's ``train(game, player, opponents, weights, *, seed,
            steps)`` method whose result has ``tabulate() -> TabularPolicy``.
        meta_solver: The meta-solver whose mixture is the output (default ``"nash"``).
        training_meta_solver: The meta-solver that picks the oracle's opponents (default: the
            same as ``meta_solver``).
        initial: The first member of every population: ``"first"`` (slot 0 everywhere, e.g. Rock;
            default), ``"uniform"`` or ``"random"`` (seeded).
        episodes: ``None`` (default) for the exact meta-game; a number (an integer >= 1) of sampled
            matches per new profile (seeded, through the population backend).
        executor: Where sampled matches run (:mod:`gamesolve.executors`; a name or an executor
            object; default in-process). Results do not depend on it, so it is not part of
            :meth:`config`.
        epsilon: A response must improve on the meta-strategy by more than this (utility units;
            finite, >= 0) to count; when none does, the population stops growing (Double Oracle
            termination).
        oracle_steps: Environment steps per RL response (an integer >= 1).
        oracle_options: Keyword options of the RL oracle factory (``dqn_oracle`` / ``ppo_oracle``),
            checked when the solver is built; only with ``oracle="dqn"`` or ``"ppo"``.
        prd_iterations, prd_dt, prd_gamma: Projected replicator dynamics (Lanctot et al. 2017):
            iterations >= 1, ``dt`` finite and > 0, ``gamma`` in ``[0, 1)``.
        alpharank_alpha, alpharank_population_size: alpha-Rank's ``alpha`` (finite, > 0) and ``m``
            (an integer >= 2).
        meta_iterations: Iterations (>= 1) of an iterative registry solver used as meta-solver.
        refine_episodes: Sampled meta-games only: after each meta-solve, this many more matches
            (an integer >= 0; default 0) for every profile in the support of the meta-strategies,
            pooled with the entries' earlier matches, and the meta-game solved again (the entries
            that decide the meta-strategy get the smallest errors).
        members: ``"table"`` (tabulated members on a compiled game), ``"network"`` (networks, any
            game with a batched environment; needs ``oracle="ppo"`` or an oracle object with
            ``train_vector``) or ``"auto"`` (default: networks where the game does not compile and
            the oracle trains on tensors, tables otherwise). Network populations start from the
            uniform policy whatever ``initial`` says.

    ``Iterate.AVERAGE`` (the output) is the reporting meta-strategy's mixture; ``Iterate.CURRENT``
    is the profile of every player's newest member.

    Raises:
        InvalidArgumentError: An unknown oracle, meta-solver, initial member or oracle option, or
            a value out of the ranges above, naming the option.
    """

    name = "psro"
    output = Iterate.AVERAGE

    def __init__(
        self,
        *,
        oracle: str | Any = "exact",
        meta_solver: str = "nash",
        training_meta_solver: str | None = None,
        initial: str = "first",
        episodes: int | None = None,
        executor: Any = "inprocess",
        epsilon: float = 1e-9,
        oracle_steps: int = 20_000,
        oracle_options: dict[str, Any] | None = None,
        prd_iterations: int = 100_000,
        prd_dt: float = 1e-3,
        prd_gamma: float = 1e-6,
        alpharank_alpha: float = 100.0,
        alpharank_population_size: int = 50,
        meta_iterations: int = 10_000,
        members: str = "auto",
        refine_episodes: int = 0,
    ) -> None:
        if isinstance(oracle, str):
            oracle = check_choice("oracle", oracle.strip(), _ORACLES)
        elif not callable(getattr(oracle, "train", None)):
            raise InvalidArgumentError(
                f"oracle must be one of {', '.join(_ORACLES)} or an object with a train() method"
            )
        self.oracle = oracle
        self.members = check_choice("members", members, _MEMBERS)
        self.refine_episodes = check_int("refine_episodes", refine_episodes, minimum=0)
        if self.members == "network" and (oracle in ("exact", "dqn") or not _trains_on_tensors(oracle)):
            raise InvalidArgumentError(
                f"members='network' needs an oracle that trains on tensors: oracle='ppo' (got {oracle!r})"
            )
        self.meta_solver = check_meta_name("meta_solver", meta_solver)
        if training_meta_solver is None:
            # anytime is a reporting solver: training against it repeats the same responses
            training_meta_solver = "nash" if self.meta_solver == "anytime" else self.meta_solver
        self.training_meta_solver = check_meta_name("training_meta_solver", training_meta_solver)
        self.initial = check_choice("initial", initial, _INITIAL)
        self.episodes = None if episodes is None else check_int("episodes", episodes, minimum=1)
        self.executor = check_executor(executor)
        self.epsilon = check_real("epsilon", epsilon, minimum=0.0)
        self.oracle_steps = check_int("oracle_steps", oracle_steps, minimum=1)
        if oracle_options is not None and not isinstance(oracle_options, dict):
            raise InvalidArgumentError(
                f"oracle_options must be a mapping of option names to values, got {oracle_options!r}"
            )
        self.oracle_options = dict(oracle_options or {})
        self._rl: Any = None
        if self.oracle_options and not (isinstance(oracle, str) and oracle in ("dqn", "ppo")):
            raise InvalidArgumentError(
                "oracle_options configure the dqn and ppo oracles; "
                f"oracle={oracle if isinstance(oracle, str) else type(oracle).__name__!r} takes none"
            )
        if isinstance(oracle, str) and oracle != "exact":
            self._rl = self._rl_oracle()  # checks oracle_options now, before any work
        meta = {
            "prd_iterations": prd_iterations,
            "prd_dt": prd_dt,
            "prd_gamma": prd_gamma,
            "alpharank_alpha": alpharank_alpha,
            "alpharank_population_size": alpharank_population_size,
            "meta_iterations": meta_iterations,
        }
        meta = dict(vars(MetaConfig.of(meta)))
        self._meta_options = meta
        self._stash: tuple[Any, State] | None = None
        self._networks: NetworkPopulation | None = None
        self._zero_sum: bool | None = None  # set by check(spec); None classifies the meta-game

    # ------------------------------------------------------------------------ protocol
    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values (the executor is left out: it changes no number)."""
        oracle = self.oracle if isinstance(self.oracle, str) else type(self.oracle).__name__
        return {
            "oracle": oracle,
            "meta_solver": self.meta_solver,
            "training_meta_solver": self.training_meta_solver,
            "initial": self.initial,
            "episodes": self.episodes,
            "epsilon": self.epsilon,
            "oracle_steps": self.oracle_steps,
            "oracle_options": dict(self.oracle_options),
            "members": self.members,
            "refine_episodes": self.refine_episodes,
            **self._meta_options,
        }

    def prepare(self, game: Any) -> CompiledGame | TensorGame | DeepGame:
        """The game as PSRO plays it (a normal-form game as it is).

        An extensive-form game is compiled, or prepared as a batched environment for network
        members (see ``members``).
        """
        if isinstance(game, TensorGame):
            if self.members == "network":
                raise UnsupportedGame(
                    "members='network' plays extensive-form games; normal-form games use tables"
                )
            return game
        spec = getattr(game, "spec", None)
        if spec is not None and spec.kind is not GameKind.EXTENSIVE_FORM:
            raise UnsupportedGame(
                f"psro runs on extensive-form games (compiled) and normal-form games, not "
                f"{spec.kind.value} games"
                + (
                    ": a mixture of stationary strategies is not a stationary strategy, so its exact "
                    "exploitability is out of reach here (use shapley or minimax-q)"
                    if spec.kind is GameKind.MARKOV
                    else ""
                )
            )
        if self.members == "network":
            return self._network_game(game)
        try:
            return prepare_extensive_form(self.name, game)
        except (GameTooLargeError, IndexLimitError, MalformedGameError) as exc:
            if self.members == "auto" and _trains_on_tensors(self.oracle):
                log.info(
                    "psro: %s does not compile (%s); the members are networks",
                    spec.name if spec else "the game",
                    exc,
                )
                return self._network_game(game)
            raise type(exc)(
                f"{exc} (PSRO with oracle='ppo' trains network members on games that do not compile)"
            ) from None

    def _network_game(self, game: Any) -> DeepGame:
        blocked = {"anytime", "ce", "cce"} & {self.meta_solver, self.training_meta_solver}
        if blocked:
            raise UnsupportedGame(
                f"the {sorted(blocked)[0]} meta-solver needs tabular members (a compiled game, "
                "members='table'); with network members use nash, uniform, prd, alpharank or self-play"
            )
        deep = NetworkPopulation.prepare(game)
        self._network_engine()
        return deep

    def _network_engine(self) -> NetworkPopulation:
        if self._networks is None:
            self._networks = NetworkPopulation(
                oracle=self._rl_oracle(),
                oracle_steps=self.oracle_steps,
                episodes=self.episodes,
                executor=self.executor,
                solve_meta=lambda name, state: solve_meta_game(
                    name, state["payoffs"], zero_sum_game=self._zero_sum, **self._meta_options
                ),
                meta_solver=self.meta_solver,
                training_meta_solver=self.training_meta_solver,
                refine_episodes=self.refine_episodes,
            )
        return self._networks

    def check(self, spec: GameSpec) -> None:
        """Extensive-form and normal-form games, any number of players and utilities."""
        self._zero_sum = spec.is_two_player_zero_sum
        if spec.kind not in (GameKind.EXTENSIVE_FORM, GameKind.NORMAL_FORM):
            raise UnsupportedGame(
                f"psro runs on extensive-form and normal-form games, not {spec.kind.value} games"
            )
        if self.oracle != "exact" and spec.kind is GameKind.NORMAL_FORM:
            raise UnsupportedGame(
                f"oracle={self.oracle if isinstance(self.oracle, str) else 'object'!r} trains on "
                "extensive-form games; normal-form games use oracle='exact' (the best pure action)"
            )
        if self.episodes is not None and spec.kind is GameKind.NORMAL_FORM:
            raise UnsupportedGame(
                "episodes applies to extensive-form games; normal-form meta-games are exact"
            )
        if not spec.is_two_player_zero_sum and "anytime" in (self.meta_solver, self.training_meta_solver):
            raise UnsupportedGame(
                f"the anytime meta-solver needs a two-player zero-sum game; {spec.name!r} is "
                f"{spec.utility.value.replace('_', '-')} with {spec.num_players} players (use nash, prd, "
                "alpharank, uniform, ce or cce)"
            )
        if not spec.is_two_player_zero_sum and "nash" in (self.meta_solver, self.training_meta_solver):
            log.info(
                "psro on %s: the Nash meta-solver uses the logit homotopy (%d players, %s)",
                spec.name,
                spec.num_players,
                spec.utility.value,
            )

    #: What a resumed state must satisfy: populations may have grown along their first axes.
    state_rules = _psro_state_rules()
    #: The run ends by itself once :meth:`finished` says so.
    can_finish = True

    def check_state(self, game: CompiledGame | TensorGame | DeepGame, state: State) -> None:
        """Every population, meta-game and meta-strategy agrees on the population sizes."""
        if isinstance(game, DeepGame):
            self._network_engine().check_state(game, state)
            return
        sizes = check_meta_shapes(state, game.spec.num_players, "pop")
        legal = game.legal_mask if isinstance(game, CompiledGame) else None
        for p, k in enumerate(sizes):
            for prefix in ("born", "meta", "train"):
                if state[f"{prefix}{p}"].shape != (k,):
                    raise ValueError(
                        f"array '{prefix}{p}' has shape {state[f'{prefix}{p}'].shape}, expected ({k},)"
                    )
            check_distributions(f"pop{p}", state[f"pop{p}"], legal)
            for prefix in ("meta", "train"):
                check_distributions(f"{prefix}{p}", state[f"{prefix}{p}"])
        for key in ("meta_joint", "train_joint"):
            if key in state:
                if state[key].shape != sizes:
                    raise ValueError(f"array {key!r} has shape {state[key].shape}, expected {sizes}")
                check_distributions(key, state[key].reshape(1, -1))
        if int(state["done"]) not in (0, 1):
            raise ValueError(f"array 'done' must be 0 or 1, got {int(state['done'])}")
        gains = state["gains"]
        if int(state["t"]) > 0 and not np.isfinite(gains).all():
            raise ValueError("array 'gains' must hold the last iteration's best-response gains, not NaN")

    def init(self, game: CompiledGame | TensorGame | DeepGame, rng: np.random.Generator) -> State:
        """One initial member per player, its meta-game and meta-strategies."""
        seed = int(rng.integers(0, 2**62))
        if isinstance(game, DeepGame):
            engine = self._network_engine()
            self.state_rules = engine.state_rules
            return engine.init(game, seed)
        backend = make_backend(game)
        state: State = {
            "t": np.zeros((), dtype=np.int64),
            "seed": np.asarray(seed, dtype=np.int64),
            "done": np.zeros((), dtype=np.int8),
            "gains": np.full(backend.num_players, np.nan),
        }
        init_rng = np.random.default_rng(state_seed(state, _SEED_INITIAL, 0))
        for p in range(backend.num_players):
            member = backend.initial(self.initial, init_rng, p)
            state[f"pop{p}"] = member[None].copy()
            state[f"born{p}"] = np.zeros(1, dtype=np.int64)
        self._update_meta_game(game, backend, state, previous=None)
        self._solve_meta(game, state)
        self._refine_tables(game, backend, state)
        return state

    def step(self, game: CompiledGame | TensorGame | DeepGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` PSRO iterations in place (no-ops once the population stopped growing)."""
        if isinstance(game, DeepGame):
            for _ in range(iterations):
                t = int(state["t"]) + 1
                state["t"] = np.asarray(t, dtype=np.int64)
                self._network_engine().step(game, state, t)
            return
        backend = make_backend(game)
        for _ in range(iterations):
            t = int(state["t"]) + 1
            state["t"] = np.asarray(t, dtype=np.int64)
            if int(state["done"]):
                continue
            self._iterate(game, backend, state, t)

    def policy(self, game: CompiledGame | TensorGame | DeepGame, state: State, which: Iterate) -> Any:
        """The reporting meta-strategy's mixture, or every player's newest member."""
        out: Any
        if isinstance(game, DeepGame):
            engine = self._network_engine()
            out = engine.latest(game, state) if which is Iterate.CURRENT else engine.mixture(game, state)
            self._stash = (out, state)
            return out
        backend = make_backend(game)
        if which is Iterate.CURRENT:
            out = backend.latest(state)
        else:
            sigma = self._read(state, "meta")
            if sigma.joint is not None:
                members = tuple(np.array(state[f"pop{p}"]) for p in range(backend.num_players))
                out = JointMixture(game, members, sigma.joint.copy(), sigma.kind)
            else:
                out = backend.mixture(state, sigma.marginals)
        self._stash = (out, state)
        return out

    def evaluate(self, game: CompiledGame | TensorGame | DeepGame, policy: Any) -> float:
        """Exact exploitability of ``policy`` (the (C)CE gap / P for a :class:`JointMixture`)."""
        if isinstance(policy, JointMixture):
            gain, _, _ = policy.gains()
            return float(gain.sum()) / len(policy.members)
        if isinstance(policy, NetworkMixture):
            if policy.game.compiled is None:
                return math.nan  # not known without the tree; the report has the scores vs uniform
            return float(exact_exploitability(policy.game.compiled, policy.tabulate()))
        return float(exact_exploitability(game, policy))

    def report(self, game: CompiledGame | TensorGame | DeepGame, policy: Any) -> PSROReport:
        """Exact NashConv (or (C)CE gap) of ``policy``, with the population figures as ``extras``."""
        if isinstance(policy, JointMixture):
            gain, value, deviation = policy.gains()
            total = float(gain.sum())
            base = PSROReport(
                nash_conv=total,
                exploitability=total / len(policy.members),
                on_policy_values=tuple(float(v) for v in value),
                best_response_values=tuple(float(v) for v in deviation),
            )
        elif isinstance(policy, NetworkMixture) and policy.game.compiled is None:
            n = policy.game.num_players
            base = PSROReport(math.nan, math.nan, (math.nan,) * n, (math.nan,) * n)
        else:
            if isinstance(policy, NetworkMixture):
                raw = exact_nash_conv(policy.game.compiled, policy.tabulate())
            else:
                raw = exact_nash_conv(game, policy)
            base = PSROReport(
                nash_conv=float(raw.nash_conv),
                exploitability=float(raw.exploitability),
                on_policy_values=tuple(raw.on_policy_values),
                best_response_values=tuple(raw.best_response_values),
            )
        extras: dict[str, Any] = {}
        if self._stash is not None and self._stash[0] is policy:
            extras = self.extras(game, self._stash[1])
        return PSROReport(
            base.nash_conv, base.exploitability, base.on_policy_values, base.best_response_values, extras
        )

    # ----------------------------------------------------------------------- extra hooks
    def finished(self, game: Any, state: State) -> str | None:
        """Why the run can stop (the population stopped growing), or ``None``."""
        del game
        if not int(state["done"]):
            return None
        gains = ", ".join(f"{g:.3g}" for g in state["gains"])
        return (
            f"PSRO converged: no best response improves on the meta-strategy by more than "
            f"{self.epsilon:g} (gains {gains})"
        )

    def progress_info(self, game: Any, state: State) -> dict[str, str]:
        """Short figures for a progress bar: population sizes."""
        del game
        prefix = "net" if "net0" in state else "pop"
        n = sum(1 for k in state if k.startswith(prefix))
        sizes = [int(state[f"{prefix}{p}"].shape[0]) for p in range(n)]
        return {"pop": "x".join(str(s) for s in sizes)}

    def extras(self, game: CompiledGame | TensorGame | DeepGame, state: State) -> dict[str, Any]:
        """The run's figures: ``population``, ``meta_game``, ``meta_strategy``, ... (see :class:`PSRO`)."""
        if isinstance(game, DeepGame):
            return self._network_engine().extras(game, state)
        backend = make_backend(game)
        n = backend.num_players
        report = self._read(state, "meta")
        training = self._read(state, "train")
        out: dict[str, Any] = {
            "population": self._population(backend, state),
            "meta_game": self._meta_game(state, n, exact=self.episodes is None),
            "meta_strategy": tuple(np.array(m) for m in report.marginals),
            "training_meta_strategy": tuple(np.array(m) for m in training.marginals),
            "population_sizes": [int(state[f"pop{p}"].shape[0]) for p in range(n)],
            "best_response_gains": [float(g) if math.isfinite(g) else None for g in state["gains"].tolist()],
            "psro_converged": bool(int(state["done"])),
        }
        if report.joint is not None:
            out["meta_joint"] = np.array(report.joint)
        return out

    # ---------------------------------------------------------------------------- internals
    def _names(self, state: State, n: int) -> tuple[tuple[str, ...], ...]:
        out = []
        for p in range(n):
            born = state[f"born{p}"]
            names = []
            seen: dict[int, int] = {}
            for b in born.tolist():
                if b == 0:
                    names.append(self.initial)
                    continue
                seen[b] = seen.get(b, 0) + 1
                names.append(f"br{b}" if seen[b] == 1 else f"br{b}.{seen[b]}")
            out.append(tuple(names))
        return tuple(out)

    def _population(self, backend: Backend, state: State) -> Population:
        """Every player's members as policies, with their names."""
        n = backend.num_players
        members = tuple(tuple(backend.as_policy(m) for m in state[f"pop{p}"]) for p in range(n))
        return Population(members=members, names=self._names(state, n))

    def _meta_game(self, state: State, n: int, *, exact: bool) -> MetaGame:
        """The meta-game of ``state`` (copies of its arrays) with the members' names."""
        return MetaGame(
            payoffs=np.array(state["payoffs"]),
            stderr=np.array(state["stderr"]),
            counts=np.array(state["counts"]),
            names=self._names(state, n),
            exact=exact,
        )

    def _read(self, state: State, prefix: str) -> MetaStrategy:
        n = sum(1 for k in state if k.startswith("pop"))
        joint = state.get(f"{prefix}_joint")
        marginals = tuple(state[f"{prefix}{p}"] for p in range(n))
        if joint is not None:
            kind = self.meta_solver if prefix == "meta" else self.training_meta_solver
            return MetaStrategy(marginals, joint, kind if kind in JOINT_META_SOLVERS else "cce")
        return MetaStrategy(marginals)

    def _write(self, state: State, prefix: str, sigma: MetaStrategy) -> None:
        for p, m in enumerate(sigma.marginals):
            state[f"{prefix}{p}"] = np.array(m, dtype=np.float64)
        if sigma.joint is not None:
            state[f"{prefix}_joint"] = np.array(sigma.joint, dtype=np.float64)
        else:
            state.pop(f"{prefix}_joint", None)

    def _meta_strategy(self, name: str, game: CompiledGame | TensorGame, state: State) -> MetaStrategy:
        if name == "anytime":
            backend = make_backend(game)
            return MetaStrategy.product([backend.maximin(state, p) for p in range(backend.num_players)])
        zs = game.spec.is_two_player_zero_sum
        return solve_meta_game(name, state["payoffs"], zero_sum_game=zs, **self._meta_options)

    def _solve_meta(self, game: CompiledGame | TensorGame, state: State) -> None:
        report = self._meta_strategy(self.meta_solver, game, state)
        self._write(state, "meta", report)
        if self.training_meta_solver == self.meta_solver:
            training = report
        else:
            training = self._meta_strategy(self.training_meta_solver, game, state)
        self._write(state, "train", training)

    def _update_meta_game(
        self, game: CompiledGame | TensorGame, backend: Backend, state: State, previous: MetaGame | None
    ) -> None:
        """Fill the meta-game's new entries through the population backend: exact, or seeded matches."""
        sampled = self.episodes is not None
        meta = meta_game_entries(
            game,
            self._population(backend, state),
            episodes=self.episodes,
            seed=state_seed(state, _SEED_MATCHES, int(state["t"])) if sampled else 0,
            previous=previous,
            executor=self.executor,
            exact=not sampled,
            progress=False,
        )
        write_meta(state, meta)

    def _refine_tables(self, game: CompiledGame | TensorGame, backend: Backend, state: State) -> None:
        """``refine_episodes`` more matches for the support's profiles of a sampled meta-game."""
        if self.episodes is None:
            return
        n = backend.num_players
        current = self._meta_game(state, n, exact=False)
        population = self._population(backend, state)
        if refine_support(
            state, current, game, population, episodes=self.refine_episodes, executor=self.executor
        ):
            self._solve_meta(game, state)

    def _iterate(self, game: CompiledGame | TensorGame, backend: Backend, state: State, t: int) -> None:
        sigma = self._read(state, "train")
        n = backend.num_players
        exact = self.oracle == "exact"
        new: list[list[NDArray[np.float64]]] = [[] for _ in range(n)]
        gains = np.zeros(n)
        improving = False
        for p in range(n):
            if exact and sigma.kind == "ce" and sigma.joint is not None:
                for k in np.flatnonzero(sigma.marginals[p] > WEIGHT_FLOOR):
                    member, br, on = backend.best_response(state, p, sigma, int(k))
                    gain = br - on
                    gains[p] += float(sigma.marginals[p][k]) * max(gain, 0.0)
                    if gain > self.epsilon and not any(np.array_equal(member, m) for m in new[p]):
                        new[p].append(member)
                        improving = True
            elif exact:
                member, br, on = backend.best_response(state, p, sigma, None)
                gains[p] = br - on
                improving |= gains[p] > self.epsilon
                new[p].append(member)
            else:
                member = self._rl_response(game, backend, state, p, sigma, t)
                on = self._on_value(backend, state, p, sigma)
                gains[p] = backend.value_against(state, p, member, sigma) - on
                improving = True
                new[p].append(member)
        state["gains"] = gains
        if exact and not improving:
            state["done"] = np.ones((), dtype=np.int8)
            log.info("psro iteration %d: converged (best-response gains %s)", t, np.round(gains, 12).tolist())
            return
        previous = self._meta_game(state, n, exact=self.episodes is None)
        for p in range(n):
            if not new[p]:
                continue
            state[f"pop{p}"] = np.concatenate([state[f"pop{p}"], np.stack(new[p])])
            state[f"born{p}"] = np.concatenate([state[f"born{p}"], np.full(len(new[p]), t, dtype=np.int64)])
        self._update_meta_game(game, backend, state, previous)
        self._solve_meta(game, state)
        self._refine_tables(game, backend, state)
        log.info(
            "psro iteration %d: population %s, best-response gains %s",
            t,
            "x".join(str(state[f"pop{p}"].shape[0]) for p in range(n)),
            ", ".join(f"{g:.4g}" for g in gains),
        )

    def _on_value(self, backend: Backend, state: State, player: int, sigma: MetaStrategy) -> float:
        _, _, on = backend.best_response(state, player, sigma, None)
        return on

    # -- RL oracles
    def _rl_oracle(self) -> Any:
        if self._rl is not None:
            return self._rl
        if not isinstance(self.oracle, str):
            self._rl = self.oracle
            return self._rl
        factory = plugin(ORACLES_GROUP, self.oracle)  # torch loads when the oracle trains
        try:
            self._rl = factory(**self.oracle_options)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"oracle_options: {exc}") from None
        return self._rl

    def _rl_response(
        self, game: Any, backend: Backend, state: State, player: int, sigma: MetaStrategy, t: int
    ) -> NDArray[np.float64]:
        """An RL response of ``player`` to ``sigma``'s opponents, tabulated into a member."""
        if not isinstance(backend, ExtensiveBackend):
            raise UnsupportedGame("RL oracles train on extensive-form games")
        oracle = self._rl_oracle()
        if sigma.joint is None:
            # The realization-equivalent mixture: the same episode distribution as drawing a
            # member of every opponent from sigma at the start of each episode.
            opponents = [backend.mixture(state, sigma.marginals)]
            weights = np.ones(1)
        else:
            opponents, weights = joint_opponents(backend, state, sigma, player)
        trained = oracle.train(
            game,
            player,
            opponents,
            weights,
            seed=state_seed(state, _SEED_ORACLE, t, player),
            steps=self.oracle_steps,
        )
        tabulate = getattr(trained, "tabulate", None)
        policy = tabulate() if callable(tabulate) else None
        if not isinstance(policy, TabularPolicy):
            raise GamesolveError(
                "the oracle's trained response must have a tabulate() method returning a TabularPolicy "
                f"of this compiled game, got {type(trained).__name__}"
            )
        return backend.member_of(policy, player)

    def __repr__(self) -> str:
        return f"PSRO(oracle={self.config()['oracle']!r}, meta_solver={self.meta_solver!r})"


def _trains_on_tensors(oracle: Any) -> bool:
    """``"ppo"`` by name, or an oracle object with a ``train_vector`` method."""
    if isinstance(oracle, str):
        return oracle == "ppo"
    return callable(getattr(oracle, "train_vector", None))


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
PSRO_ENTRY = SolverEntry(
    "psro",
    PSRO,
    "PSRO: best-response oracles + meta-solver (nash = Double Oracle, uniform, prd, alpharank, "
    "ce, cce, anytime)",
)
FSP_ENTRY = SolverEntry(
    "fsp",
    PSRO,
    "fictitious self-play: PSRO with the uniform meta-solver",
    (("meta_solver", "uniform"),),
)
SELF_PLAY_ENTRY = SolverEntry(
    "self-play",
    PSRO,
    "iterated best response: PSRO against the newest member",
    (("meta_solver", "self-play"),),
)
