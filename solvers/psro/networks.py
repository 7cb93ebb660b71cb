"""PSRO whose members are networks: any game with a batched environment, compiled or not.

The engine behind ``gamesolve.solve(game, "psro", oracle="ppo", members="network")`` (and
``members="auto"`` on games that do not compile). Every member of player ``p`` is an MLP over the
game's observation tensors; the first member is the uniform policy (an MLP whose weights are all
zero: equal logits on every legal action). Each iteration trains, for every player, a PPO response
(:meth:`gamesolve.solvers.rl_oracles.PPOOracle.train_vector`) on the batched environment against
the training meta-strategy of the others, drawn as one whole member per episode
(:class:`~gamesolve.vector_env.response.MixturePolicy`, as in Lanctot et al. 2017, "A Unified
Game-Theoretic Approach to Multiagent Reinforcement Learning"), and adds it to the population.

The meta-game comes from the population backend (:func:`gamesolve.population.meta_game_entries`):
seeded matches with standard errors on games that do not compile (only the new profiles are played),
exact values of the tabulated networks on games that do when ``episodes`` is ``None``. The
best-response gain of a new member is read from its row of the new meta-game (its value against
the meta-strategy it was trained against, less the meta-strategy's own value), with the members'
uniform first member as column ``0`` giving every member's score against uniform random play.

State (all arrays, so checkpoints resume a run exactly on the CPU): the meta-game, the meta
strategies, and ``net{p}`` ``[K_p, W]`` float32: every member's weights flattened, growing along
its first axis.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.arrays import flatten_layers, layer_shapes, layers_width, unflatten_layers
from gamesolve.checkpoint import StateRules, check_distributions
from gamesolve.errors import InvalidArgumentError, UnsupportedGame
from gamesolve.population import MetaGame, Population, meta_game_entries
from gamesolve.solvers.deep.common import DeepGame, prepare_deep_game

__all__ = [
    "DEFAULT_EPISODES",
    "NetworkCache",
    "NetworkMixture",
    "NetworkPopulation",
    "check_meta_shapes",
    "network_state_rules",
    "refine_support",
    "state_seed",
    "write_meta",
]

log = logging.getLogger(__name__)

State = dict[str, Any]

#: Matches per new profile of the meta-game where exact values are out of reach and ``episodes``
#: is not given.
DEFAULT_EPISODES = 400

#: Opponent profiles a response trains against at most (more: the heaviest are kept).
MAX_OPPONENT_PROFILES = 256

_MAX_CHECKED_AXES = 16


def network_state_rules() -> StateRules:
    """What a resumed state must satisfy: members and the meta-game grow along their first axes."""
    every_axis = tuple(range(_MAX_CHECKED_AXES))
    growing: dict[str, tuple[int, ...]] = {key: every_axis for key in ("payoffs", "stderr", "counts")}
    per_player = {
        f"{prefix}{p}" for prefix in ("net", "born", "meta", "train") for p in range(_MAX_CHECKED_AXES)
    }
    growing.update({key: (0,) for key in per_player})
    probabilities = {key for key in per_player if key.startswith(("meta", "train"))}
    return StateRules(
        counter="t",
        nonnegative=frozenset({"stderr", "counts", "done", *probabilities}),
        probabilities=frozenset(probabilities),
        growing=growing,
    )


def state_seed(state: State, *parts: int) -> int:
    """A 63-bit seed for one random draw: the run's base seed and what the draw is for.

    Derived from ``state["seed"]`` and ``parts``, so a resumed run repeats an uninterrupted one.
    """
    base = int(np.asarray(state["seed"]).reshape(-1)[0])
    return int(np.random.SeedSequence([base, *parts]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def check_meta_shapes(state: State, players: int, prefix: str) -> tuple[int, ...]:
    """Population sizes (first axes of ``{prefix}{p}``), checked against the meta-game's arrays.

    Raises:
        ValueError: An empty population, or a meta-game of another shape.
    """
    sizes = tuple(int(state[f"{prefix}{p}"].shape[0]) for p in range(players))
    if min(sizes) < 1:
        raise ValueError("every player's population must hold at least one member")
    if state["payoffs"].shape != (players, *sizes) or state["stderr"].shape != (players, *sizes):
        raise ValueError(f"the meta-game has shape {state['payoffs'].shape}, expected {(players, *sizes)}")
    if state["counts"].shape != sizes:
        raise ValueError(f"the meta-game counts have shape {state['counts'].shape}, expected {sizes}")
    return sizes


#: What the refining matches' seed is derived for (PSRO's tables and networks alike).
SEED_REFINE = 3


def refine_support(
    state: State, current: MetaGame, game: Any, population: Population, *, episodes: int, executor: Any
) -> bool:
    """Add ``episodes`` matches to every profile the meta-strategies put weight on.

    The entries that decide the meta-strategy are those of its support; their sampling error is
    what can mislead the meta-solver, so they get more matches of ``population`` on ``game``
    (seeded from the run and its iteration), pooled with the ones ``current`` had
    (:meth:`~gamesolve.population.MetaGame.pooled`) and written into ``state``. Returns whether
    anything was added (the caller then solves the meta-game again).
    """
    if episodes <= 0:
        return False
    support = []
    for p in range(len(population.members)):
        weight = np.maximum(np.asarray(state[f"meta{p}"]), np.asarray(state[f"train{p}"]))
        support.append(np.flatnonzero(weight > 1e-9))
    profiles = [tuple(int(k) for k in prof) for prof in itertools.product(*support)]
    if not profiles:
        return False
    more = meta_game_entries(
        game,
        population,
        episodes=episodes,
        seed=state_seed(state, SEED_REFINE, int(state["t"])),
        profiles=profiles,
        executor=executor,
        exact=False,
        progress=False,
    )
    write_meta(state, current.pooled(more))
    return True


def _shapes(game: DeepGame, hidden: tuple[int, ...]) -> list[tuple[int, int]]:
    return layer_shapes([game.observation_size, *hidden, game.num_actions])


class NetworkCache:
    """Network policies built from flat weight vectors, kept while a key's weights stay the same.

    Members are frozen once added, so each is built once per run instead of at every meta-game
    update, opponent draw and report; a key whose weights changed (a main agent trained on, a
    state resumed from another run) is rebuilt.
    """

    def __init__(self) -> None:
        self._nets: dict[Any, tuple[NDArray[np.float32], Any]] = {}

    def get(
        self, key: Any, vector: NDArray[np.float32], shapes: list[tuple[int, int]], game: DeepGame
    ) -> Any:
        """The network of ``vector`` (layers of ``shapes``) for ``game``, cached under ``key``."""
        from gamesolve.vector_env.response import mlp_policy

        hit = self._nets.get(key)
        if hit is not None and np.array_equal(hit[0], vector):
            return hit[1]
        weights = np.array(vector, dtype=np.float32, copy=True)
        policy = mlp_policy(unflatten_layers(weights, shapes), game.observation, game.spec.name)
        self._nets[key] = (weights, policy)
        return policy


@dataclass(eq=False)
class NetworkMixture:
    """PSRO's output on network members: each player's members and the weights to draw them with.

    Play it by drawing one member per player at the start of each episode (:meth:`sample`). On a
    compiled game :meth:`tabulate` gives the realization-equivalent behavior policy (exact
    evaluation); elsewhere evaluate it with matches.

    Attributes:
        members: Per player, the members as :class:`gamesolve.neural.NeuralPolicy` networks.
        weights: Per player, ``[K_p]`` probabilities.
        game: The prepared game.
    """

    members: tuple[tuple[Any, ...], ...]
    weights: tuple[NDArray[np.float64], ...]
    game: DeepGame

    def sample(self, rng: np.random.Generator) -> tuple[Any, ...]:
        """One member per player, drawn from the weights."""
        return tuple(m[int(rng.choice(len(m), p=w))] for m, w in zip(self.members, self.weights, strict=True))

    def tabulate(self, game: Any = None) -> Any:
        """The realization-equivalent :class:`~gamesolve.policy.TabularPolicy` (compiled games only).

        Raises:
            UnsupportedGame: The game does not compile.
        """
        from gamesolve.mixture import mix_policies
        from gamesolve.policy import TabularPolicy

        compiled = self.game.compiled
        if compiled is None:
            raise UnsupportedGame(
                f"{self.game.spec.name} does not compile: a mixture of networks has no table"
            )
        probs = TabularPolicy.uniform(compiled).probs.copy()
        for p, (members, w) in enumerate(zip(self.members, self.weights, strict=True)):
            tables = [m.tabulate(compiled) for m in members]
            mixed = mix_policies(compiled, tables, w, player=p, base=tables[0])
            rows = compiled.infosets_of(p)
            probs[rows] = mixed.probs[rows]
        return TabularPolicy(compiled, probs)

    def __repr__(self) -> str:
        sizes = "x".join(str(len(m)) for m in self.members)
        return f"NetworkMixture({self.game.spec.name}, members {sizes})"


class NetworkPopulation:
    """The network-member engine of :class:`~gamesolve.solvers.psro.PSRO` (see the module docstring).

    Args:
        oracle: The trained-on-tensors oracle (an object with ``train_vector``; PPO by default).
        oracle_steps: Responder transitions per response.
        episodes: Matches per new profile (``None``: exact on compiled games, else
            :data:`DEFAULT_EPISODES`).
        executor: Where matches run.
        solve_meta: ``(name, state) -> MetaStrategy`` (the solver's meta-solver call).
        meta_solver, training_meta_solver: Their names.
    """

    def __init__(
        self,
        *,
        oracle: Any,
        oracle_steps: int,
        episodes: int | None,
        executor: Any,
        solve_meta: Any,
        meta_solver: str,
        training_meta_solver: str,
        refine_episodes: int = 0,
    ) -> None:
        if not callable(getattr(oracle, "train_vector", None)):
            raise InvalidArgumentError(
                "members='network' needs an oracle that trains on tensors (oracle='ppo')"
            )
        self.oracle = oracle
        self.oracle_steps = oracle_steps
        self.episodes = episodes
        self.executor = executor
        self.solve_meta = solve_meta
        self.meta_solver = meta_solver
        self.training_meta_solver = training_meta_solver
        self.refine_episodes = refine_episodes
        self.hidden = tuple(int(h) for h in oracle.config().get("hidden", ()))
        self._nets = NetworkCache()
        self.state_rules = network_state_rules()

    # ------------------------------------------------------------------ game and state
    @staticmethod
    def prepare(game: Any) -> DeepGame:
        """The game as a batched environment (compiled too when it compiles)."""
        return prepare_deep_game(game)

    def exact(self, game: DeepGame) -> bool:
        """Whether the meta-game is exact (a compiled game and no ``episodes``)."""
        return game.compiled is not None and self.episodes is None

    def init(self, game: DeepGame, seed: int) -> State:
        """The uniform member for every player, its meta-game and meta-strategies."""
        width = layers_width(_shapes(game, self.hidden))
        state: State = {
            "t": np.zeros((), dtype=np.int64),
            "seed": np.asarray(seed, dtype=np.int64),
            "done": np.zeros((), dtype=np.int8),
            "gains": np.full(game.num_players, np.nan),
        }
        for p in range(game.num_players):
            state[f"net{p}"] = np.zeros((1, width), dtype=np.float32)
            state[f"born{p}"] = np.zeros(1, dtype=np.int64)
        self._update_meta_game(game, state, previous=None)
        self._solve(state)
        self._refine(game, state)
        return state

    def check_state(self, game: DeepGame, state: State) -> None:
        """Members, meta-game and meta-strategies agree on the population sizes; weights are finite."""
        width = layers_width(_shapes(game, self.hidden))
        sizes = check_meta_shapes(state, game.num_players, "net")
        for p, k in enumerate(sizes):
            if state[f"net{p}"].shape != (k, width):
                raise ValueError(
                    f"array 'net{p}' has shape {state[f'net{p}'].shape}, expected ({k}, {width})"
                )
            if not np.isfinite(state[f"net{p}"]).all():
                raise ValueError(f"array 'net{p}' holds non-finite weights")
            for prefix in ("born", "meta", "train"):
                if state[f"{prefix}{p}"].shape != (k,):
                    raise ValueError(
                        f"array '{prefix}{p}' has shape {state[f'{prefix}{p}'].shape}, expected ({k},)"
                    )
            for prefix in ("meta", "train"):
                check_distributions(f"{prefix}{p}", state[f"{prefix}{p}"])

    # ------------------------------------------------------------------ members
    def member(self, game: DeepGame, state: State, player: int, k: int) -> Any:
        """Member ``k`` of ``player`` as a :class:`gamesolve.neural.NeuralPolicy`."""
        return self._nets.get((player, k), state[f"net{player}"][k], _shapes(game, self.hidden), game)

    def members(self, game: DeepGame, state: State) -> tuple[tuple[Any, ...], ...]:
        """Every player's members as networks."""
        return tuple(
            tuple(self.member(game, state, p, k) for k in range(state[f"net{p}"].shape[0]))
            for p in range(game.num_players)
        )

    def names(self, state: State, players: int) -> tuple[tuple[str, ...], ...]:
        """``uniform``, then ``br{t}`` for the member added at iteration ``t``."""
        return tuple(
            tuple("uniform" if b == 0 else f"br{b}" for b in state[f"born{p}"].tolist())
            for p in range(players)
        )

    def population(self, game: DeepGame, state: State) -> Population:
        """The members with their names."""
        return Population(members=self.members(game, state), names=self.names(state, game.num_players))

    def meta_game(self, game: DeepGame, state: State) -> MetaGame:
        """The meta-game of ``state`` (copies), with the members' names."""
        return MetaGame(
            payoffs=np.array(state["payoffs"]),
            stderr=np.array(state["stderr"]),
            counts=np.array(state["counts"]),
            names=self.names(state, game.num_players),
            exact=self.exact(game),
        )

    # ------------------------------------------------------------------ iteration
    def step(self, game: DeepGame, state: State, t: int) -> None:
        """One PSRO iteration: a response per player against the training meta-strategy."""
        from gamesolve.vector_env.response import MixturePolicy

        players = game.num_players
        sigma = [np.asarray(state[f"train{p}"]) for p in range(players)]
        new = []
        for p in range(players):
            opponents, weights = self._opponents(game, state, p, sigma)
            trained = self.oracle.train_vector(
                game.source if game.compiled is None else game.compiled,
                p,
                MixturePolicy(opponents, weights),
                seed=state_seed(state, 1, t, p),
                steps=self.oracle_steps,
            )
            new.append(flatten_layers(list(trained.layers)))
        previous = self.meta_game(game, state)
        for p in range(players):
            state[f"net{p}"] = np.concatenate([state[f"net{p}"], new[p][None]])
            state[f"born{p}"] = np.concatenate([state[f"born{p}"], np.full(1, t, dtype=np.int64)])
        self._update_meta_game(game, state, previous)
        state["gains"] = self._gains(state, sigma)
        self._solve(state)
        self._refine(game, state)
        log.info(
            "psro (networks) iteration %d: population %s, best-response gains %s",
            t,
            "x".join(str(state[f"net{p}"].shape[0]) for p in range(players)),
            ", ".join(f"{g:.4g}" for g in state["gains"]),
        )

    def _opponents(
        self, game: DeepGame, state: State, player: int, sigma: list[NDArray[np.float64]]
    ) -> tuple[list[Any], NDArray[np.float64]]:
        """The other seats' member profiles with positive weight under ``sigma`` (product)."""
        others = [q for q in range(game.num_players) if q != player]
        support = [np.flatnonzero(sigma[q] > 0) for q in others]
        profiles = list(itertools.product(*support))
        weights = np.array(
            [math.prod(float(sigma[q][k]) for q, k in zip(others, prof, strict=True)) for prof in profiles]
        )
        if len(profiles) > MAX_OPPONENT_PROFILES:
            keep = np.argsort(-weights, kind="stable")[:MAX_OPPONENT_PROFILES]
            profiles = [profiles[i] for i in keep]
            weights = weights[keep]
        if len(others) == 1:
            members: list[Any] = [self.member(game, state, others[0], int(prof[0])) for prof in profiles]
        else:
            members = [
                {q: self.member(game, state, q, int(k)) for q, k in zip(others, prof, strict=True)}
                for prof in profiles
            ]
        return members, weights

    def _gains(self, state: State, sigma: list[NDArray[np.float64]]) -> NDArray[np.float64]:
        """Each new member's value against ``sigma`` (padded with 0 for it) less ``sigma``'s own value."""
        payoffs = np.asarray(state["payoffs"])
        players = payoffs.shape[0]
        padded = [np.append(s, 0.0) for s in sigma]
        gains = np.zeros(players)
        for p in range(players):
            weights = list(padded)
            on = _expected(payoffs[p], weights)
            weights[p] = np.eye(padded[p].size)[-1]
            gains[p] = _expected(payoffs[p], weights) - on
        return gains

    def _update_meta_game(self, game: DeepGame, state: State, previous: MetaGame | None) -> None:
        exact = self.exact(game)
        target = game.compiled if game.compiled is not None else game.source
        meta = meta_game_entries(
            target,
            self.population(game, state),
            episodes=None if exact else (self.episodes or DEFAULT_EPISODES),
            seed=0 if exact else state_seed(state, 2, int(state["t"])),
            previous=previous,
            executor=self.executor,
            exact=exact,
            progress=False,
        )
        write_meta(state, meta)

    def _refine(self, game: DeepGame, state: State) -> None:
        """More matches for the meta-strategies' support (``refine_episodes``), then solve again."""
        if self.exact(game):
            return
        target = game.compiled if game.compiled is not None else game.source
        current = self.meta_game(game, state)
        population = self.population(game, state)
        if refine_support(
            state, current, target, population, episodes=self.refine_episodes, executor=self.executor
        ):
            self._solve(state)

    def _solve(self, state: State) -> None:
        report = self.solve_meta(self.meta_solver, state)
        training = (
            report
            if self.training_meta_solver == self.meta_solver
            else self.solve_meta(self.training_meta_solver, state)
        )
        for prefix, sigma in (("meta", report), ("train", training)):
            for p, m in enumerate(sigma.marginals):
                state[f"{prefix}{p}"] = np.array(m, dtype=np.float64)

    # ------------------------------------------------------------------ outputs
    def extras(self, game: DeepGame, state: State) -> dict[str, Any]:
        """The run's figures (those of tabular PSRO, plus ``members`` and ``scores_vs_uniform``)."""
        n = game.num_players
        return {
            "population": self.population(game, state),
            "meta_game": self.meta_game(game, state),
            "meta_strategy": tuple(np.array(state[f"meta{p}"]) for p in range(n)),
            "training_meta_strategy": tuple(np.array(state[f"train{p}"]) for p in range(n)),
            "population_sizes": [int(state[f"net{p}"].shape[0]) for p in range(n)],
            "best_response_gains": [float(g) if math.isfinite(g) else None for g in state["gains"].tolist()],
            "psro_converged": False,
            "members": "network",
            "scores_vs_uniform": self.scores_vs_uniform(state),
        }

    def mixture(self, game: DeepGame, state: State, prefix: str = "meta") -> NetworkMixture:
        """The members weighted by the reporting meta-strategy."""
        weights = tuple(np.array(state[f"{prefix}{p}"]) for p in range(game.num_players))
        return NetworkMixture(self.members(game, state), weights, game)

    def latest(self, game: DeepGame, state: State) -> NetworkMixture:
        """Every player's newest member (weight one)."""
        members = self.members(game, state)
        weights = tuple(np.eye(len(m))[-1] for m in members)
        return NetworkMixture(members, weights, game)

    def scores_vs_uniform(self, state: State) -> list[dict[str, float]]:
        """Each seat's meta-strategy against the uniform first member of the others (two players).

        The value is linear in whole strategies, so it is the weighted sum of the members' entries
        in column (or row) 0 of the meta-game, its standard error the weighted root sum of squares.
        """
        payoffs, stderr = np.asarray(state["payoffs"]), np.asarray(state["stderr"])
        if payoffs.shape[0] != 2:
            return []
        out = []
        for p in range(2):
            w = np.asarray(state[f"meta{p}"])
            column = payoffs[p][:, 0] if p == 0 else payoffs[p][0, :]
            errors = stderr[p][:, 0] if p == 0 else stderr[p][0, :]
            out.append({"value": float(w @ column), "stderr": float(np.sqrt((w**2) @ (errors**2)))})
        return out


def write_meta(state: State, meta: MetaGame) -> None:
    """The meta-game's arrays into the state (``payoffs``, ``stderr``, ``counts``)."""
    state["payoffs"] = np.array(meta.payoffs, dtype=np.float64)
    state["stderr"] = np.array(meta.stderr, dtype=np.float64)
    state["counts"] = np.array(meta.counts, dtype=np.int64)


def _expected(payoff: NDArray[np.float64], weights: list[NDArray[np.float64]]) -> float:
    """``payoff`` ``[K_0, ..., K_{P-1}]`` contracted with one weight vector per axis."""
    out = payoff
    for w in reversed(weights):
        out = out @ w
    return float(out)
