"""The NeuPL solver: one conditional policy trained for a whole population, grown over iterations.

Liu, Marris, Hennes, Merel, Heess & Graepel 2022, "NeuPL: Neural Population Learning" (ICLR),
Algorithm 1, as an :class:`~gamesolve.solver.IterativeSolver` whose state holds every number (weights,
Adam moments, the generator), so a checkpointed run resumes to exactly the numbers of an
uninterrupted one. The interaction graphs are in :mod:`gamesolve.solvers.neupl.graphs`, the games
the policies play in :mod:`gamesolve.solvers.neupl.arenas`, the network in
:mod:`gamesolve.solvers.neupl.network`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.checkpoint import StateRules, rng_from_array, rng_to_array
from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import GameTooLargeError, InvalidArgumentError, UnsupportedGame
from gamesolve.evaluation import nash_conv
from gamesolve.normal_form import TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.population import MetaGame, Population
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.deep.common import DeepGame
from gamesolve.solvers.neupl.arenas import (
    Arena,
    MatrixArena,
    check_symmetric_matrix,
    make_arena,
    sampled_payoffs,
)
from gamesolve.solvers.neupl.graphs import GRAPHS, meta_nash
from gamesolve.solvers.neupl.growth import COUNTERS, grow, growth_check, run_arrays, update_graph
from gamesolve.solvers.neupl.network import ConditionalNetwork, import_torch, init_weights
from gamesolve.solvers.neupl.tensor import TensorNeuPL, refuse_tabular
from gamesolve.solvers.rl_oracles import check_widths
from gamesolve.spec import GameKind, GameSpec, Utility
from gamesolve.validation import check_choice, check_int, check_real

__all__ = ["NEUPL_ENTRY", "NeuPL", "NeuPLReport"]

log = logging.getLogger(__name__)

#: What :meth:`NeuPL.prepare` returns: a compiled tree, a symmetric matrix game, or tensors.
Prepared = CompiledGame | TensorGame | DeepGame


def _name(game: Any) -> str:
    spec = getattr(game, "spec", None)
    return str(getattr(spec, "name", type(game).__name__))


@dataclass(frozen=True)
class NeuPLReport:
    """Exact NashConv of the population's Nash mixture, with the population in ``extras``."""

    nash_conv: float
    exploitability: float
    on_policy_values: tuple[float, ...]
    best_response_values: tuple[float, ...]
    extras: dict[str, Any] = field(default_factory=dict)


class NeuPL(IterativeSolver):
    """The registry's ``"neupl"`` solver (see the module docstring).

    Interaction graphs: ``"psro-n"`` (default): ``sigma_1 = 0`` and ``sigma_{i+1} = Nash(U[1:i,
    1:i])``; ``"fsp"``: ``sigma_i`` uniform over ``1 .. i-1``; ``"self-play"``: every row uniform over
    the active population; ``"cycle"``: ``sigma_i = e_{i-1}``, ``sigma_1 = e_N``.

    Conventions the paper leaves open: a row ``sigma = 0`` is the initial policy, never trained: the
    network's logits are ``s f_theta(o, sigma) + (1 - s) log pi_0(o)`` with ``s = sum(sigma)``, so
    policy 1 of PSRO-N and FSP stays ``pi_0`` however the shared weights move. The population grows by
    one (up to ``max_population``) when the newest policy is an ``epsilon``-best response to its
    mixture (``training="exact"``, exact values) or its return against its mixture improved by at
    most ``epsilon`` over ``patience`` iterations (``epsilon = growth_tolerance * max |u|``).

    Training: ``"exact"`` takes ``train_steps`` Adam steps toward the soft best response
    ``softmax(q_i(I, .) / tau)`` with exact action values against each row's mixture (MPO's M-step
    with an exact critic; the table takes the exact best response); ``"rl"`` samples ``episodes``
    episodes and runs PPO on the learner's transitions (``env_steps``; matches used only to
    estimate ``U`` count as ``evaluation_steps``). On extensive-form games ``U[i, j]`` averages
    ``i``'s expected payoff against ``j`` over both seats.

    Backends: ``"tree"`` runs on the compiled game (policies are tables read from the network at
    every infoset; exact or sampled training); ``"tensor"`` runs on the batched environment of any
    game (:mod:`gamesolve.solvers.neupl.tensor`: the network reads observation tensors followed by
    ``sigma``, learns by PPO from sampled matches, and ``U`` comes from matches or from the learned
    payoff estimator ``phi``); ``"auto"`` (default) picks the tree when the game compiles and the
    tensors when it does not. On tensors the shared defaults are small; on Leduc-sized games wider
    batches and more entropy worked better (``episodes=512, rollout_length=16, minibatch=1024,
    entropy_coef=0.1, hidden=(128, 128), patience=2, payoff_every=25``, measured on
    ``leduc(ranks=13,suits=4)`` by ``experiments.bench_deep_learners``).

    ``Iterate.AVERAGE`` (the output) is the Nash mixture of the population as one behavior policy
    (:mod:`gamesolve.mixture`); ``Iterate.CURRENT`` is the newest policy. ``extras`` hold
    ``members``, ``population``, ``meta_game``, ``payoffs`` (``U``), ``interaction_graph``
    (``Sigma``), ``meta_strategy``, ``population_size``, ``joined``, ``env_steps``,
    ``evaluation_steps`` and ``newest_gap``; :meth:`conditional_policy` reads the network at any
    ``sigma``.

    Args:
        graph: The meta-graph solver: ``"psro-n"`` (default), ``"fsp"``, ``"self-play"`` or
            ``"cycle"``.
        policy: ``"network"`` (default: the torch conditional policy) or ``"tabular"`` (a lookup
            table indexed by the row of ``Sigma``, trained by exact best responses).
        training: ``"exact"`` (exact counterfactual policy gradient, or exact best responses for
            the table; the default on the tree) or ``"rl"`` (sampled episodes and PPO; the only
            choice and the default on tensors).
        backend: ``"auto"`` (default), ``"tree"`` or ``"tensor"`` (see above).
        learner: On tensors, ``"ppo"`` (default: the clipped surrogate) or ``"neural-mmd"``
            (magnetic mirror descent with a uniform magnet, the ``"neural-mmd"`` solver's defaults
            for its magnet weight, its annealing and its KL to the previous policy; implies
            tensors).
        max_population: ``N_max``, the largest population (the conditioning vector's length; an
            integer >= 1).
        initial: The initial policy (row ``sigma = 0``): ``"uniform"`` or ``"first"`` (first legal
            action everywhere; rock in rock-paper-scissors).
        hidden: Hidden layer widths of the network (ReLU), a non-empty list of integers >= 1.
        learning_rate: Adam step size (finite, > 0; default 3e-3 on the tree, 3e-4 on tensors).
        train_steps: Gradient steps per iteration with ``training="exact"`` (>= 1).
        temperature: Temperature of the soft best-response targets of ``training="exact"``, as a
            fraction of the largest absolute payoff of the game (finite, > 0).
        episodes: Episodes sampled per iteration with ``training="rl"`` (>= 1); on tensors, the
            environments stepped together.
        rollout_length: On tensors, batched steps per iteration before the episodes under way
            are finished (>= 1).
        payoff_every: On tensors, iterations between refreshes of ``U`` (and growth checks;
            ``patience`` then counts refreshes); ``Sigma`` follows ``U`` (>= 1, default 1).
        ppo_epochs: Passes over each iteration's transitions (>= 1).
        minibatch: PPO minibatch size (transitions; >= 1).
        clip: PPO ratio clip (finite, > 0).
        entropy_coef: Entropy bonus weight (finite, >= 0).
        value_coef: Value-loss weight (finite, >= 0).
        max_grad_norm: Global gradient-norm clip (finite, > 0).
        meta_episodes: ``None`` (default): exact payoff matrix (on tensors: when the game
            compiles, else 200 matches). An even number (>= 2): matches per pair of policies to
            estimate ``U`` by sampling (zero-sum: ``U[j, i] = -U[i, j]``).
        payoff_estimate: On tensors, where ``U`` comes from: ``"matches"`` (default; see
            ``meta_episodes``) or ``"learned"`` (the payoff estimator ``phi`` fitted to the training
            matches' outcomes; no evaluation matches).
        observation: On tensors, ``"auto"`` (information-state tensors when the game has them),
            ``"info_state"`` or ``"observation"``.
        rollout_workers: On tensors, worker processes that step the training environments (0:
            in this process).
        rollout_executor: Where those workers run: ``"local"`` or ``"ray"``.
        growth_tolerance: Tolerance of the growth trigger, as a fraction of the game's largest
            absolute payoff (finite, >= 0).
        patience: Iterations of the plateau test (>= 1).
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
        threads: torch CPU threads during a step (>= 1; default 1).

    Raises:
        InvalidArgumentError: An unknown choice or a value outside these ranges, naming the option.
    """

    name = "neupl"
    output = Iterate.AVERAGE

    def __init__(
        self,
        *,
        graph: str = "psro-n",
        policy: str = "network",
        training: str | None = None,
        backend: str = "auto",
        learner: str = "ppo",
        max_population: int = 8,
        initial: str = "uniform",
        hidden: tuple[int, ...] | list[int] = (64, 64),
        learning_rate: float | None = None,
        train_steps: int = 20,
        temperature: float = 0.02,
        episodes: int = 256,
        rollout_length: int = 8,
        payoff_every: int = 1,
        ppo_epochs: int = 4,
        minibatch: int = 256,
        clip: float = 0.2,
        entropy_coef: float = 0.01,
        value_coef: float = 0.5,
        max_grad_norm: float = 1.0,
        meta_episodes: int | None = None,
        growth_tolerance: float = 0.005,
        patience: int = 5,
        payoff_estimate: str = "matches",
        observation: str = "auto",
        rollout_workers: int = 0,
        rollout_executor: str = "local",
        device: str = "cpu",
        threads: int = 1,
    ) -> None:
        self.graph = check_choice("graph", graph, GRAPHS)
        self.policy_kind = check_choice("policy", policy, ("network", "tabular"))
        self.training_choice = (
            None if training is None else check_choice("training", training, ("exact", "rl"))
        )
        self.backend = check_choice("backend", backend, ("auto", "tree", "tensor"))
        self.learner = check_choice("learner", learner, ("ppo", "neural-mmd"))
        if self.learner != "ppo":
            if self.backend == "tree":
                raise InvalidArgumentError("learner='neural-mmd' trains on tensors: use backend='tensor'")
            self.backend = "tensor"
        if self.backend == "tensor":
            refuse_tabular(self.policy_kind, self.training_choice)
        self.training = self.training_choice or "exact"
        if self.policy_kind == "tabular" and self.training != "exact":
            raise InvalidArgumentError(
                "the tabular policy trains by exact best responses only (training='exact')"
            )
        self.max_population = check_int("max_population", max_population, minimum=1)
        self.initial = check_choice("initial", initial, ("uniform", "first"))
        self.hidden = check_widths("hidden", hidden)
        self.learning_rate_choice = (
            None
            if learning_rate is None
            else check_real("learning_rate", learning_rate, minimum=0.0, min_inclusive=False)
        )
        self.learning_rate = self.learning_rate_choice or 3e-3
        self.train_steps = check_int("train_steps", train_steps, minimum=1)
        self.temperature = check_real("temperature", temperature, minimum=0.0, min_inclusive=False)
        self.episodes = check_int("episodes", episodes, minimum=1)
        self.rollout_length = check_int("rollout_length", rollout_length, minimum=1)
        self.payoff_every = check_int("payoff_every", payoff_every, minimum=1)
        self.ppo_epochs = check_int("ppo_epochs", ppo_epochs, minimum=1)
        self.minibatch = check_int("minibatch", minibatch, minimum=1)
        self.clip = check_real("clip", clip, minimum=0.0, min_inclusive=False)
        self.entropy_coef = check_real("entropy_coef", entropy_coef, minimum=0.0)
        self.value_coef = check_real("value_coef", value_coef, minimum=0.0)
        self.max_grad_norm = check_real("max_grad_norm", max_grad_norm, minimum=0.0, min_inclusive=False)
        self.meta_episodes = (
            None if meta_episodes is None else check_int("meta_episodes", meta_episodes, minimum=2)
        )
        if self.meta_episodes is not None and self.meta_episodes % 2:
            raise InvalidArgumentError(
                f"meta_episodes must be even (half the matches from each seat), got {self.meta_episodes}"
            )
        self.growth_tolerance = check_real("growth_tolerance", growth_tolerance, minimum=0.0)
        self.patience = check_int("patience", patience, minimum=1)
        self.payoff_estimate = check_choice("payoff_estimate", payoff_estimate, ("matches", "learned"))
        self.observation = check_choice("observation", observation, ("auto", "info_state", "observation"))
        self.rollout_workers = check_int("rollout_workers", rollout_workers, minimum=0)
        self.rollout_executor = check_choice("rollout_executor", rollout_executor, ("local", "ray"))
        self.device = check_choice("device", device, ("cpu", "cuda", "auto"))
        self.threads = check_int("threads", threads, minimum=1)
        self._arena: tuple[Any, Arena] | None = None
        self._last_state: dict[str, NDArray[Any]] | None = None
        self._tensor: TensorNeuPL | None = None

    # ------------------------------------------------------------------------- protocol

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {
            "graph": self.graph,
            "policy": self.policy_kind,
            "training": self.training,
            "max_population": self.max_population,
            "initial": self.initial,
            "hidden": list(self.hidden),
            "learning_rate": self.learning_rate,
            "train_steps": self.train_steps,
            "temperature": self.temperature,
            "episodes": self.episodes,
            "ppo_epochs": self.ppo_epochs,
            "minibatch": self.minibatch,
            "clip": self.clip,
            "entropy_coef": self.entropy_coef,
            "value_coef": self.value_coef,
            "max_grad_norm": self.max_grad_norm,
            "meta_episodes": self.meta_episodes,
            "growth_tolerance": self.growth_tolerance,
            "patience": self.patience,
            "device": self.device,
            **self._tensor_config(),
        }

    def _tensor_config(self) -> dict[str, Any]:
        """The tensor engine's options (only when it runs, so tree checkpoints keep their identity)."""
        if self._tensor is None:
            return {}
        return {
            "backend": "tensor",
            "learner": self.learner,
            "rollout_length": self.rollout_length,
            "payoff_every": self.payoff_every,
            "payoff_estimate": self.payoff_estimate,
            "observation": self.observation,
            "rollout_workers": self.rollout_workers,
        }

    def prepare(self, game: Any) -> CompiledGame | TensorGame | DeepGame:
        """The compiled game, the symmetric normal-form game, or the batched environment (tensors)."""
        if isinstance(game, TensorGame):
            if self.backend == "tensor":
                raise UnsupportedGame(
                    "backend='tensor' plays extensive-form games; a normal-form game is solved on its "
                    "payoff matrix (backend='auto' or 'tree')"
                )
            check_symmetric_matrix(game)
            return game
        if self.backend == "tensor":
            return self._tensor_game(game)
        try:
            return as_compiled(game)
        except GameTooLargeError as exc:
            if self.backend == "auto" and self.policy_kind == "network" and self.training_choice != "exact":
                log.info("neupl: %s does not compile (%s); it runs on tensors", _name(game), exc)
                return self._tensor_game(game)
            hint = (
                " (neupl runs on games that do not compile with backend='tensor': policy='network', "
                "training='rl')"
            )
            raise type(exc)(f"{exc}{hint}") from None
        except UnsupportedGame as exc:
            raise UnsupportedGame(
                f"neupl solves two-player zero-sum extensive-form or symmetric normal-form games: {exc}"
            ) from None

    def _tensor_game(self, game: Any) -> DeepGame:
        """``game`` as a batched environment, with the tensor engine (and its defaults) set up."""
        refuse_tabular(self.policy_kind, self.training_choice)
        self.training = "rl"
        self.learning_rate = self.learning_rate_choice or 3e-4
        if self._tensor is None:
            self._tensor = TensorNeuPL(self)
        return self._tensor.prepare(game)

    def _engine(self) -> TensorNeuPL:
        assert self._tensor is not None  # set by prepare before any DeepGame exists
        return self._tensor

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum games only (extensive-form ones are played from both seats)."""
        if spec.kind not in (GameKind.EXTENSIVE_FORM, GameKind.NORMAL_FORM):
            raise UnsupportedGame(
                f"neupl solves extensive-form or normal-form games, not {spec.kind.value} games"
            )
        if spec.num_players != 2 or spec.utility is not Utility.ZERO_SUM:
            raise UnsupportedGame(
                f"neupl needs a symmetric two-player zero-sum game; {spec.name!r} is "
                f"{spec.utility.value.replace('_', '-')} with {spec.num_players} players"
            )

    def warm_up(self, game: Prepared) -> None:
        """Game-derived setup before a run's clock starts: the arena's payoff matrices and samplers."""
        if not isinstance(game, DeepGame):
            self._arena_of(game)

    def _arena_of(self, game: CompiledGame | TensorGame) -> Arena:
        if self._arena is None or self._arena[0] is not game:
            self._arena = (game, make_arena(game))
        return self._arena[1]

    def _initial_probs(self, arena: Arena) -> NDArray[np.float64]:
        """``[I, A]`` the initial policy (row ``sigma = 0``)."""
        if self.initial == "first":
            out = np.zeros((arena.num_infosets, arena.max_actions))
            out[:, 0] = 1.0
            return out
        return arena.legal / arena.legal.sum(axis=1, keepdims=True)

    def initial_size(self) -> int:
        """Policies active at the start: 1 for self-play and the cycle, else 2 (initial, its answer)."""
        return 1 if self.graph in ("self-play", "cycle") else min(2, self.max_population)

    #: What a resumed state must satisfy before any update sees it.
    state_rules = StateRules(
        counter="iteration",
        nonnegative=COUNTERS | {"adam_t", "probs"},
        probabilities=frozenset({"probs", "table"}),
        generators=frozenset({"rng"}),
    )

    def check_state(self, game: Prepared, state: dict[str, NDArray[Any]]) -> None:
        """The population size lies in ``[1, max_population]`` (on tensors: the weights are finite)."""
        if isinstance(game, DeepGame):
            self._engine().check_state(game, state)
            return
        size = int(state["size"])
        if not 1 <= size <= self.max_population:
            raise ValueError(f"the population size {size} is outside [1, {self.max_population}]")

    def init(self, game: Prepared, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Fresh weights (or table), the first ``Sigma`` and ``U``; nothing trained yet."""
        if isinstance(game, DeepGame):
            fresh = self._engine().init(game, rng)
            rules = self._engine().state_rules
            assert rules is not None  # init names the optimizers' arrays
            self.state_rules = rules
            return fresh
        arena = self._arena_of(game)
        n_max = self.max_population
        state: dict[str, NDArray[Any]] = {}
        if self.policy_kind == "network":
            init_weights(state, [arena.num_infosets + n_max, *self.hidden, arena.max_actions + 1], rng)
        else:
            state["table"] = np.broadcast_to(
                self._initial_probs(arena), (n_max, arena.num_infosets, arena.max_actions)
            ).copy()
        state.update(run_arrays(self.initial_size(), n_max, self.patience))
        state["probs"] = np.zeros((n_max, arena.num_infosets, arena.max_actions))
        self._refresh(arena, state, rng)
        self._refresh(arena, state, rng)  # U of the initial policies, then Sigma from it and U again
        state["rng"] = rng_to_array(rng)
        return state

    def step(self, game: Prepared, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` NeuPL iterations (graph, training, payoffs, growth)."""
        if isinstance(game, DeepGame):
            self._engine().step(game, state, iterations)
            return
        arena = self._arena_of(game)
        rng = rng_from_array(state["rng"])
        torch = import_torch() if self.policy_kind == "network" else None
        previous_threads = torch.get_num_threads() if torch is not None else 0
        if torch is not None:
            torch.set_num_threads(self.threads)
        try:
            for _ in range(iterations):
                self._one_iteration(arena, state, rng)
        finally:
            if torch is not None:
                torch.set_num_threads(previous_threads)
        state["rng"] = rng_to_array(rng)

    def _one_iteration(self, arena: Arena, state: dict[str, NDArray[Any]], rng: np.random.Generator) -> None:
        update_graph(state, self.graph)
        state["probs"][...] = self._tabulate(arena, state)
        if self.policy_kind == "tabular":
            self._train_tabular(arena, state)
        elif self.training == "exact":
            self._train_exact(arena, state)
        else:
            self._train_rl(arena, state, rng)
        state["probs"][...] = self._tabulate(arena, state)
        self._estimate_payoffs(arena, state, rng)
        state["iteration"] += 1
        self._maybe_grow(arena, state, rng)

    # --------------------------------------------------------------------------- growth

    def _maybe_grow(self, arena: Arena, state: dict[str, NDArray[Any]], rng: np.random.Generator) -> None:
        n = int(state["size"])
        tolerance = self.growth_tolerance * arena.scale
        ret, grow_now = growth_check(state, tolerance, self.patience)
        if ret is None:  # the newest row is not trained (the initial policy alone)
            state["gap"][...] = np.nan
            return
        if self.training == "exact":
            plans = arena.plans(state["probs"][:n])
            _, br_value = arena.best_response(arena.mixture(plans, state["graph"][n - 1, :n]))
            gap = max(0.0, br_value - ret)
            state["gap"][...] = gap
            grow_now = grow_now or gap <= tolerance
        if grow_now and n < self.max_population:
            log.debug("neupl: population grows to %d after iteration %d", n + 1, int(state["iteration"]))
            grow(state)
            self._refresh(arena, state, rng)

    def _refresh(self, arena: Arena, state: dict[str, NDArray[Any]], rng: np.random.Generator) -> None:
        """``Sigma <- F(U)``, re-tabulate, ``U <-`` payoffs (after a change of the population)."""
        update_graph(state, self.graph)
        state["probs"][...] = self._tabulate(arena, state)
        self._estimate_payoffs(arena, state, rng)

    # -------------------------------------------------------------------------- payoffs

    def _estimate_payoffs(
        self, arena: Arena, state: dict[str, NDArray[Any]], rng: np.random.Generator
    ) -> None:
        n = int(state["size"])
        probs = state["probs"][:n]
        out = np.zeros((self.max_population, self.max_population))
        stderr = np.zeros_like(out)
        counts = np.zeros(out.shape, dtype=np.int64)
        if self.meta_episodes is None:
            out[:n, :n] = arena.payoffs(probs)  # exact, through the population backend
        elif n > 1:  # seeded matches through the population backend
            seed = int(rng.integers(0, 2**63 - 1))
            sampled = sampled_payoffs(arena, probs, self.meta_episodes, seed)
            out[:n, :n], stderr[:n, :n], counts[:n, :n] = sampled
            state["evaluation_steps"] += int(counts.sum()) // 2  # matches (not learning)
        state["payoffs"][...] = out
        state["stderr"][...] = stderr
        state["counts"][...] = counts

    # ------------------------------------------------------------------------- policies

    def _network(
        self, arena: Arena, state: dict[str, NDArray[Any]], *, requires_grad: bool
    ) -> ConditionalNetwork:
        """The conditional network over the weights in ``state``."""
        return ConditionalNetwork(
            state,
            layers=len(self.hidden) + 1,
            legal=arena.legal,
            initial=self._initial_probs(arena),
            device=self.device,
            learning_rate=self.learning_rate,
            max_grad_norm=self.max_grad_norm,
            requires_grad=requires_grad,
        )

    def _tabulate(self, arena: Arena, state: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        """``[N_max, I, A]`` every row's policy (float64, rows summing to 1)."""
        if self.policy_kind == "tabular":
            return np.array(state["table"], dtype=np.float64)
        torch = import_torch()
        net = self._network(arena, state, requires_grad=False)
        with torch.no_grad():
            probs = net.table(torch.as_tensor(state["graph"], dtype=torch.float32, device=net.device))
        out = np.asarray(probs.cpu().numpy(), dtype=np.float64) * arena.legal[None]
        return out / out.sum(axis=2, keepdims=True)

    def _trained_rows(self, state: dict[str, NDArray[Any]]) -> NDArray[np.int64]:
        n = int(state["size"])
        return np.flatnonzero(state["graph"][:n, :n].sum(axis=1) > 0).astype(np.int64)

    def _train_tabular(self, arena: Arena, state: dict[str, NDArray[Any]]) -> None:
        """Every trained row becomes the exact best response to its mixture."""
        n = int(state["size"])
        probs = state["probs"][:n]
        plans = arena.plans(probs)
        table = state["table"]
        for i in self._trained_rows(state):
            br, _ = arena.best_response(arena.mixture(plans, state["graph"][i, :n]))
            table[i] = br

    def _train_exact(self, arena: Arena, state: dict[str, NDArray[Any]]) -> None:
        """``train_steps`` Adam steps toward the soft best responses (exact values) of every trained row."""
        torch = import_torch()
        rows = self._trained_rows(state)
        if rows.size == 0:
            return
        n = int(state["size"])
        net = self._network(arena, state, requires_grad=True)
        legal = arena.legal
        tau = self.temperature * arena.scale
        rows_t = torch.as_tensor(rows, device=net.device)
        every = torch.as_tensor(state["graph"], dtype=torch.float32, device=net.device)
        for _ in range(self.train_steps):
            table = net.table(every)  # [N_max, I, A] with gradients
            probs_np = np.asarray(table.detach().cpu().numpy(), dtype=np.float64) * legal[None]
            probs_np /= probs_np.sum(axis=2, keepdims=True)
            plans = arena.plans(probs_np[:n])
            target = np.zeros((rows.size, arena.num_infosets, arena.max_actions))
            weight = np.zeros((rows.size, arena.num_infosets))
            for r, i in enumerate(rows):
                q, reach = arena.counterfactual(probs_np[i], arena.mixture(plans, state["graph"][i, :n]))
                z = np.where(legal, q / tau, -np.inf)
                z = np.exp(z - z.max(axis=1, keepdims=True))
                target[r] = z / z.sum(axis=1, keepdims=True)
                weight[r] = reach > 0
            target_t = torch.as_tensor(target, dtype=torch.float32, device=net.device)
            weight_t = torch.as_tensor(
                weight / max(1.0, weight.sum()), dtype=torch.float32, device=net.device
            )
            log_table = torch.log(table[rows_t].clamp_min(1e-30))
            loss = -((target_t * log_table).sum(dim=-1) * weight_t).sum()
            net.adam_step(loss)
        net.store()

    def _train_rl(self, arena: Arena, state: dict[str, NDArray[Any]], rng: np.random.Generator) -> None:
        """Sampled episodes against ``j ~ sigma_i``, then PPO on the learner's transitions."""
        torch = import_torch()
        rows = self._trained_rows(state)
        if rows.size == 0:
            return
        n = int(state["size"])
        graph = state["graph"]
        batch = self.episodes
        learner = rows[rng.integers(0, rows.size, size=batch)]
        seat = rng.integers(0, 2, size=batch).astype(np.int64)
        cum = np.cumsum(graph[learner, :n], axis=1)
        opponent = np.minimum((cum < rng.random(batch)[:, None] * cum[:, -1:]).sum(axis=1), n - 1)
        tables = state["probs"][:n]
        played = arena.sample(tables, learner, opponent.astype(np.int64), seat, rng)
        count = played.episode.size
        state["env_steps"] += count
        state["episodes"] += batch
        if count == 0:
            return
        rows_of = learner[played.episode]
        old_logp = np.log(np.maximum(tables[rows_of, played.infoset, played.slot], 1e-30))
        ret = played.returns[played.episode] / arena.scale  # payoffs scaled to [-1, 1] for the critic
        net = self._network(arena, state, requires_grad=True)
        dev = net.device
        inf_t = torch.as_tensor(played.infoset, device=dev)
        sig_t = torch.as_tensor(graph[rows_of], dtype=torch.float32, device=dev)
        slot_t = torch.as_tensor(played.slot, device=dev)
        old_t = torch.as_tensor(old_logp, dtype=torch.float32, device=dev)
        ret_t = torch.as_tensor(ret, dtype=torch.float32, device=dev)
        with torch.no_grad():
            _, value = net.forward(inf_t, sig_t)
        adv = ret_t - value
        if count > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        for _ in range(self.ppo_epochs):
            order = rng.permutation(count)
            for start in range(0, count, self.minibatch):
                idx = torch.as_tensor(order[start : start + self.minibatch], device=dev)
                logits, value = net.forward(inf_t[idx], sig_t[idx])
                logp_all = torch.log_softmax(logits, dim=-1)
                logp = logp_all.gather(1, slot_t[idx][:, None])[:, 0]
                ratio = torch.exp(logp - old_t[idx])
                a = adv[idx]
                surrogate = torch.minimum(ratio * a, torch.clamp(ratio, 1 - self.clip, 1 + self.clip) * a)
                entropy = -(logp_all.exp() * logp_all).sum(dim=-1)
                loss = (
                    -surrogate.mean()
                    + self.value_coef * ((value - ret_t[idx]) ** 2).mean()
                    - self.entropy_coef * entropy.mean()
                )
                net.adam_step(loss)
        net.store()

    # --------------------------------------------------------------------------- outputs

    def policy(self, game: Prepared, state: dict[str, NDArray[Any]], which: Iterate) -> Any:
        """The population's Nash mixture (``AVERAGE``, the output) or the newest policy (``CURRENT``)."""
        self._last_state = state
        if isinstance(game, DeepGame):
            return self._engine().mixture(game, state, newest=which is Iterate.CURRENT)
        arena = self._arena_of(game)
        n = int(state["size"])
        probs = state["probs"][:n]
        if which is Iterate.AVERAGE:
            weights = meta_nash(state["payoffs"][:n, :n])
            mixed = arena.mixture(arena.plans(probs), weights)
            return arena.output(game, mixed)  # type: ignore[arg-type]
        return arena.output(game, np.array(probs[n - 1]))  # type: ignore[arg-type]

    def conditional_policy(self, game: Prepared, state: dict[str, NDArray[Any]], sigma: ArrayLike) -> Any:
        """``Pi_theta(. | ., sigma)`` for any opponent mixture ``sigma`` (zero-padded to ``max_population``).

        Policy ``i`` of the population is ``conditional_policy(game, state, graph[i])``. Only for
        ``policy="network"`` (the table has no entry for an arbitrary ``sigma``).

        Raises:
            ValueError: ``sigma`` is not a vector of at most ``max_population`` nonnegative
                entries summing to 1 (or all zero: the initial policy), or the policy is tabular.
        """
        if self.policy_kind != "network":
            raise ValueError("conditional_policy needs policy='network'; a table answers only its rows")
        vec = np.asarray(sigma, dtype=np.float64).ravel()
        total = float(vec.sum()) if vec.size else 0.0
        if (
            vec.size > self.max_population
            or not np.all(np.isfinite(vec))
            or np.any(vec < 0)
            or not (abs(total - 1.0) < 1e-9 or total == 0.0)
        ):
            raise ValueError(
                f"sigma must hold at most {self.max_population} nonnegative weights summing to 1 (or 0)"
            )
        padded = np.zeros((1, self.max_population))
        padded[0, : vec.size] = vec
        if isinstance(game, DeepGame):
            return self._engine().conditional(game, state, padded[0])
        arena = self._arena_of(game)
        torch = import_torch()
        net = self._network(arena, state, requires_grad=False)
        with torch.no_grad():
            probs = net.table(torch.as_tensor(padded, dtype=torch.float32, device=net.device))
        out = np.asarray(probs.cpu().numpy()[0], dtype=np.float64) * arena.legal
        return arena.output(game, out / out.sum(axis=1, keepdims=True))  # type: ignore[arg-type]

    def progress_info(self, game: Any, state: dict[str, NDArray[Any]]) -> dict[str, str]:
        """Progress-bar fields: population size (and learner steps with ``training="rl"``)."""
        del game
        info = {"pop": f"{int(state['size'])}/{self.max_population}"}
        if self.training == "rl":
            info["steps"] = f"{int(state['env_steps']):,}"
        return info

    def evaluate(self, game: Prepared, policy: Any) -> float:
        """Exact exploitability of the Nash mixture (recorded by the run loop every evaluation).

        On tensors: exact when the game compiles, else NaN (``extras`` hold the score against
        uniform random play).
        """
        if isinstance(game, DeepGame):
            return self._engine().evaluate(game, policy)
        return self._arena_of(game).exploitability(game, policy)

    def report(self, game: Prepared, policy: Any) -> NeuPLReport:
        """Exact NashConv of ``policy``; ``extras`` describe the population of the last state read."""
        extras = self.describe(game, self._last_state) if self._last_state is not None else {}
        if isinstance(game, DeepGame):
            rep = self._engine().nash_conv(game, policy)
        else:
            rep = nash_conv(game, policy)
        if rep is None:  # tensors on a game that does not compile
            nan2 = (math.nan, math.nan)
            return NeuPLReport(math.nan, math.nan, nan2, nan2, extras)
        return NeuPLReport(
            nash_conv=float(rep.nash_conv),
            exploitability=float(rep.exploitability),
            on_policy_values=tuple(rep.on_policy_values),
            best_response_values=tuple(rep.best_response_values),
            extras=extras,
        )

    def describe(self, game: Prepared, state: dict[str, NDArray[Any]]) -> dict[str, Any]:
        """Population, meta-game, interaction graph, meta-strategy and counters of ``state``."""
        if isinstance(game, DeepGame):
            return self._engine().describe(game, state)
        arena = self._arena_of(game)
        n = int(state["size"])
        probs = state["probs"][:n]
        members: tuple[Any, ...]
        if isinstance(arena, MatrixArena):
            members = tuple(_readonly(np.array(p[0])) for p in probs)
        else:
            members = tuple(TabularPolicy(game, p, validate=False) for p in probs)
        graph = np.array(state["graph"][:n, :n])
        names = tuple("initial" if graph[k].sum() <= 0 else f"pi{k + 1}" for k in range(n))
        payoffs = np.array(state["payoffs"][:n, :n])
        meta_game = MetaGame(
            payoffs=np.stack([payoffs, -payoffs]),
            stderr=np.stack([state["stderr"][:n, :n]] * 2),
            counts=np.array(state["counts"][:n, :n]),
            names=(names, names),
            exact=self.meta_episodes is None,
        )
        return {
            "population": Population.symmetric(members, names=names),
            "members": members,
            "meta_game": meta_game,
            "payoffs": _readonly(payoffs),
            "interaction_graph": _readonly(graph),
            "meta_strategy": _readonly(meta_nash(payoffs)),
            "population_size": n,
            "joined": [int(x) for x in state["joined"][:n]],
            "env_steps": int(state["env_steps"]),
            "evaluation_steps": int(state["evaluation_steps"]),
            "newest_gap": float(state["gap"]),
        }

    def __repr__(self) -> str:
        return (
            f"NeuPL(graph={self.graph!r}, policy={self.policy_kind!r}, training={self.training!r}, "
            f"max_population={self.max_population})"
        )


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
NEUPL_ENTRY = SolverEntry(
    "neupl",
    NeuPL,
    "NeuPL: one conditional network for a whole population (PSRO-N / FSP / self-play graphs; "
    "symmetric 2p zero-sum)",
)
