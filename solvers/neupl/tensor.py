"""NeuPL on batched tensor environments: one conditional network for a population, on any game.

Liu, Marris, Hennes, Merel, Heess & Graepel 2022, "NeuPL: Neural Population Learning" (ICLR),
Algorithm 1, on the observation tensors of :func:`gamesolve.vector_env` (native games, any
OpenSpiel game, PettingZoo), so it runs on games far too large to compile. The engine behind
``gamesolve.solve(game, "neupl", backend="tensor")`` (and ``backend="auto"`` on a game that does not
compile).

The network is :class:`~gamesolve.neural.nets.ConditionalMLP`: ``Pi(a | o, sigma)`` and
``V(o, sigma)`` over the observation followed by the conditioning vector ``sigma``, the mixture of
the population the policy answers (row ``i`` of the interaction graph for policy ``i``). One
iteration:

1. ``Sigma <- F(U)`` (the meta-graph solver: PSRO-N, FSP, self-play or the cycle);
2. ``episodes`` slots of the batched environment each play matches of a learner ``i`` (uniform over
   the trained rows) at a random seat against an opponent ``j ~ Sigma_i``; one forward pass acts for
   both seats, each reading its own row's ``sigma`` (:class:`ConditionedEnv`); ``rollout_length``
   batched steps, then the episodes under way are finished;
3. PPO (Schulman et al. 2017), or neural magnetic mirror descent (Sokota et al. 2023) with
   ``learner="neural-mmd"``, on the learners' decisions only (GAE along each learner's own
   decisions; the opponent is part of the environment);
4. every ``payoff_every`` iterations, ``U`` is refreshed: by seeded matches between the members
   through the population backend (exact values when the game compiles and ``meta_episodes`` is
   ``None``), or, with
   ``payoff_estimate="learned"``, by the paper's payoff estimator ``phi(sigma_i, sigma_j)``: a small
   network regressed on the outcomes of the training matches (both orientations, zero-sum; each
   pair's outcomes averaged with those of earlier iterations, their weight decaying by
   :data:`PAIR_DECAY` per iteration; a share :data:`PROBE_SHARE` of the slots plays uniformly drawn
   pairs, not trained on, so every pair is seen), read as ``U[i, j] = (phi(sigma_i, sigma_j) -
   phi(sigma_j, sigma_i)) / 2``, so pairs that never meet in training get a value too, and no
   evaluation matches are played;
5. at each refresh, the population grows by one when the newest policy's return against its
   mixture has stopped improving over ``patience`` refreshes
   (:mod:`gamesolve.solvers.neupl.growth`).

The output is the population's Nash mixture, a
:class:`~gamesolve.solvers.psro.networks.NetworkMixture` of
:class:`~gamesolve.neural.nets.ConditionedMember` networks (one member drawn per episode); on a
compiled game it is evaluated exactly (realization-weight mixing of the tabulated members). Every
number lives in the state (weights, Adam moments, the generator), so a CPU run resumes exactly.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.checkpoint import StateRules, rng_from_array, rng_to_array
from gamesolve.errors import InvalidArgumentError
from gamesolve.evaluation import exploitability as exact_exploitability
from gamesolve.evaluation import nash_conv as exact_nash_conv
from gamesolve.population import MetaGame, Population, meta_game_entries
from gamesolve.solvers.deep.common import DeepGame, prepare_deep_game
from gamesolve.solvers.deep.rollout import collect_episodes, gae, training_batch
from gamesolve.solvers.neupl.arenas import sampled_matrix, seat_average
from gamesolve.solvers.neupl.graphs import meta_nash
from gamesolve.solvers.neupl.growth import COUNTERS, grow, growth_check, run_arrays, update_graph
from gamesolve.solvers.psro.networks import NetworkMixture
from gamesolve.vector_env import TimeStep, VectorEnv

if TYPE_CHECKING:
    from gamesolve.solvers.neupl.solver import NeuPL

__all__ = ["DEFAULT_META_EPISODES", "PHI_STEPS", "ConditionedEnv", "TensorNeuPL"]

log = logging.getLogger(__name__)

State = dict[str, NDArray[Any]]

#: Matches per pair of policies when ``U`` is sampled and ``meta_episodes`` is not given.
DEFAULT_META_EPISODES = 200
#: Full-batch Adam steps of the payoff estimator per iteration (``payoff_estimate="learned"``).
PHI_STEPS = 50
#: With ``payoff_estimate="learned"``, the share of slots that play a uniformly drawn pair of
#: policies (probe matches, not trained on) so the estimator sees pairs that training never meets.
PROBE_SHARE = 0.25
#: Per iteration, the weight that earlier matches keep in the estimator's per-pair targets.
PAIR_DECAY = 0.85
#: Hidden widths of the payoff estimator.
PHI_HIDDEN = (64, 64)
NET, OPT, PHI, PHI_OPT = "net.", "opt.", "phi.", "phiopt."


class ConditionedEnv(VectorEnv):
    """A two-player batched environment whose slots play NeuPL matches, ``sigma`` appended.

    Each slot plays learner row ``i`` (uniform over ``rows``) at a random seat against row
    ``j ~ graph[i, :n]``; every observation is followed by the conditioning vector of the row that
    acts (``graph[i]`` at the learner's seat, ``graph[j]`` at the other), so one network acts for
    both. A finished episode's slot draws a new match. :attr:`history` keeps the learner's seat
    behind every returned step (row ``s * B + e`` of a rollout is ``history[s][e]``);
    :attr:`outcomes` the learner, opponent and learner's return of every episode that started
    before ``min_steps`` steps (those a rollout of ``min_steps`` records) and ended. With ``probe``
    above 0, that share of the matches pairs two different policies drawn uniformly from the ``n`` active ones
    (their seat in :attr:`history` is -1: no decision of theirs is a learner's).
    """

    def __init__(
        self,
        env: VectorEnv,
        graph: NDArray[np.float64],
        rows: NDArray[np.int64],
        n: int,
        rng: np.random.Generator,
        min_steps: int,
        probe: float = 0.0,
    ) -> None:
        self.env = env
        self.probe = probe
        self.spec = env.spec
        self.num_envs = env.num_envs
        self.num_players = env.num_players
        self.num_actions = env.num_actions
        self.observation_kind = env.observation_kind
        self.observation_size = env.observation_size + graph.shape[1]
        self.episodes = 0
        self.graph = np.asarray(graph, dtype=np.float32)
        self.cum = np.cumsum(graph[:, :n], axis=1)
        self.rows, self.n, self.rng, self.min_steps = rows, n, rng, min_steps
        b = env.num_envs
        self.learner = np.zeros(b, dtype=np.int64)
        self.opponent = np.zeros(b, dtype=np.int64)
        self.seat = np.zeros(b, dtype=np.int64)
        self.trained = np.ones(b, dtype=np.bool_)
        self.start = np.zeros(b, dtype=np.int64)
        self.count = 0
        self.history: list[NDArray[np.int64]] = []
        self.outcomes: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []

    def _draw(self, slots: NDArray[np.int64]) -> None:
        k = slots.size
        learner = self.rows[self.rng.integers(0, self.rows.size, size=k)]
        u = self.rng.random(k)[:, None] * self.cum[learner, -1:]
        self.learner[slots] = learner
        self.opponent[slots] = np.minimum((self.cum[learner] < u).sum(axis=1), self.n - 1)
        self.seat[slots] = self.rng.integers(0, 2, size=k)
        self.start[slots] = self.count
        if self.probe > 0:
            probe = self.rng.random(k) < self.probe
            pairs = self.rng.integers(0, self.n, size=(k, 2))
            if self.n > 1:  # two different policies (a policy against itself scores 0)
                pairs[:, 1] = (pairs[:, 0] + self.rng.integers(1, self.n, size=k)) % self.n
            self.learner[slots] = np.where(probe, pairs[:, 0], self.learner[slots])
            self.opponent[slots] = np.where(probe, pairs[:, 1], self.opponent[slots])
            self.trained[slots] = ~probe

    def _wrap(self, ts: TimeStep) -> TimeStep:
        self.history.append(np.where(self.trained, self.seat, -1))
        mine = ts.player == self.seat
        cond = self.graph[np.where(mine, self.learner, self.opponent)]
        obs = np.concatenate([ts.observation, cond], axis=1)
        return TimeStep(obs, ts.legal, ts.player, ts.reward, ts.done)

    def reset(self) -> TimeStep:
        """Fresh episodes and matches in every slot."""
        ts = self.env.reset()
        self.count = 0
        self._draw(np.arange(self.num_envs))
        return self._wrap(ts)

    def step(self, actions: ArrayLike) -> TimeStep:
        """Step every slot; finished slots record their outcome and draw a new match."""
        ts = self.env.step(actions)
        self.count += 1
        ended = np.flatnonzero(ts.done)
        if ended.size:
            self.episodes += int(ended.size)
            kept = ended[self.start[ended] < self.min_steps]
            seat = self.seat[kept]
            self.outcomes.append((self.learner[kept], self.opponent[kept], ts.reward[kept, seat]))
            self._draw(ended)
        return self._wrap(ts)

    def learner_seats(self, steps: int) -> NDArray[np.int64]:
        """Per rollout row (``steps`` batched steps): the learner's seat (-1 in probe matches)."""
        return np.concatenate(self.history[:steps])

    def match_outcomes(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """``(learner, opponent, learner's return)`` of every recorded match that ended."""
        if not self.outcomes:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        learner, opponent, ret = (np.concatenate(part) for part in zip(*self.outcomes, strict=True))
        return learner, opponent, ret.astype(np.float64)

    def close(self) -> None:
        """Close the wrapped environment."""
        self.env.close()


class TensorNeuPL:
    """The tensor engine of :class:`~gamesolve.solvers.neupl.NeuPL` (see the module docstring).

    Args:
        solver: The NeuPL solver whose options it runs.
    """

    def __init__(self, solver: NeuPL) -> None:
        from gamesolve.solvers.deep.mmd import NeuralMMD
        from gamesolve.solvers.deep.ppo import PPO

        self.solver = solver
        common: dict[str, Any] = {
            "hidden": solver.hidden,
            "learning_rate": solver.learning_rate,
            "num_envs": solver.episodes,
            "rollout_length": solver.rollout_length,
            "epochs": solver.ppo_epochs,
            "value_coef": solver.value_coef,
            "max_grad_norm": solver.max_grad_norm,
            "observation": solver.observation,
            "device": solver.device,
            "threads": solver.threads,
            "rollout_workers": solver.rollout_workers,
            "rollout_executor": solver.rollout_executor,
        }
        # the deep learner whose objective (hooks policy_targets / policy_loss) and minibatch loop
        # train the network; its acting, device, threads, workers and logs serve the engine too
        self.learner = (
            NeuralMMD(magnet="uniform", **common)
            if solver.learner == "neural-mmd"
            else PPO(clip=solver.clip, entropy_coef=solver.entropy_coef, **common)
        )
        self._modules: tuple[DeepGame, Any, Any, Any, Any] | None = None
        self.state_rules: StateRules | None = None  # set by init (it names the optimizers' arrays)

    # ------------------------------------------------------------------ game and state
    def prepare(self, game: Any) -> DeepGame:
        """The game as a batched environment (compiled too when it compiles)."""
        return self.learner.with_workers(prepare_deep_game(game, self.solver.observation))

    def exact(self, game: DeepGame) -> bool:
        """Whether ``U`` is exact (a compiled game, matches, and no ``meta_episodes``)."""
        return (
            game.compiled is not None
            and self.solver.meta_episodes is None
            and self.solver.payoff_estimate == "matches"
        )

    def _build(self, game: DeepGame) -> tuple[Any, Any, Any, Any]:
        """The conditional network, its Adam, the payoff estimator and its Adam (cached per game)."""
        import torch

        from gamesolve.neural.nets import MLP, ConditionalMLP

        if self._modules is None or self._modules[0] is not game:
            s = self.solver
            net = ConditionalMLP(
                game.observation_size, game.num_actions, s.max_population, s.hidden, s.initial
            ).to(self.learner.device)
            opt = torch.optim.Adam(net.parameters(), lr=s.learning_rate, eps=1e-5)
            phi = MLP(2 * s.max_population, 1, PHI_HIDDEN).to(self.learner.device)
            phi_opt = torch.optim.Adam(phi.parameters(), lr=1e-3)
            self._modules = (game, net, opt, phi, phi_opt)
        return self._modules[1:]

    def init(self, game: DeepGame, rng: np.random.Generator) -> State:
        """Fresh networks (policy head scaled down: a near-uniform start), ``Sigma`` and ``U``."""
        import torch

        from gamesolve.neural.state import optimizer_nonnegative, pack_module, pack_optimizer

        s = self.solver
        seed = int(rng.integers(1 << 62))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._modules = None
            net, opt, phi, phi_opt = self._build(game)
        with torch.no_grad():
            net.torso.policy.weight.mul_(0.01)
            net.torso.policy.bias.zero_()
        state = run_arrays(s.initial_size(), s.max_population, s.patience)
        # the unit of growth_tolerance: the game's largest |payoff| when it compiles, else the
        # largest |return| seen so far
        scale = 0.0 if game.compiled is None else float(np.abs(game.compiled.terminal_utility).max())
        state["scale"] = np.asarray(scale)
        state["pair_sum"] = np.zeros((s.max_population, s.max_population))
        state["pair_weight"] = np.zeros((s.max_population, s.max_population))
        for prefix, module in ((NET, net), (PHI, phi)):
            pack_module(state, prefix, module)
        for prefix, optimizer in ((OPT, opt), (PHI_OPT, phi_opt)):
            pack_optimizer(state, prefix, optimizer)
        self.state_rules = StateRules(
            counter="iteration",
            nonnegative=COUNTERS
            | {"scale", "pair_weight"}
            | optimizer_nonnegative(OPT, opt)
            | optimizer_nonnegative(PHI_OPT, phi_opt),
            generators=frozenset({"rng"}),
        )
        self._refresh(game, state, rng)
        self._refresh(game, state, rng)  # U of the initial policies, then Sigma from it and U again
        state["rng"] = rng_to_array(rng)
        return state

    def check_state(self, game: DeepGame, state: State) -> None:
        """The population size lies in ``[1, max_population]``; the weights are finite."""
        del game
        size = int(state["size"])
        if not 1 <= size <= self.solver.max_population:
            raise ValueError(f"the population size {size} is outside [1, {self.solver.max_population}]")
        for key, value in state.items():
            if key.startswith((NET, PHI)) and not np.isfinite(value).all():
                raise ValueError(f"array {key!r} holds non-finite weights")

    # ------------------------------------------------------------------ iterations
    def step(self, game: DeepGame, state: State, iterations: int) -> None:
        """``iterations`` NeuPL iterations (graph, rollouts and PPO, payoffs, growth)."""
        from gamesolve.neural.state import pack_module, pack_optimizer, unpack_module, unpack_optimizer

        with self.learner.torch_scope():
            net, opt, phi, phi_opt = self._build(game)
            unpack_module(state, NET, net)
            unpack_optimizer(state, OPT, opt)
            unpack_module(state, PHI, phi)
            unpack_optimizer(state, PHI_OPT, phi_opt)
            rng = rng_from_array(state["rng"])
            for _ in range(iterations):
                outcomes = self._train(game, state, net, opt, rng)
                pack_module(state, NET, net)  # the members read the trained weights from the state
                if self.solver.payoff_estimate == "learned" and outcomes is not None and outcomes[0].size:
                    self._fit_phi(state, outcomes)
                state["iteration"] += 1
                if int(state["iteration"]) % self.solver.payoff_every == 0:
                    self._refresh(game, state, rng, graph=False)
                    self._maybe_grow(game, state, rng)
            pack_optimizer(state, OPT, opt)
            pack_module(state, PHI, phi)
            pack_optimizer(state, PHI_OPT, phi_opt)
            state["rng"] = rng_to_array(rng)

    def _train(
        self, game: DeepGame, state: State, net: Any, opt: Any, rng: np.random.Generator
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]] | None:
        """``Sigma <- F(U)``, one rollout of matches, PPO on the learners' decisions; the match outcomes."""
        s = self.solver
        n = int(state["size"])
        if int(state["iteration"]) % s.payoff_every == 0:  # U changed at the last refresh (or init)
            update_graph(state, s.graph)
        graph = state["graph"]
        rows = np.flatnonzero(graph[:n, :n].sum(axis=1) > 0).astype(np.int64)
        if rows.size == 0:
            return None
        t = int(state["iteration"]) + 1
        b, length = s.episodes, s.rollout_length
        probe = PROBE_SHARE if s.payoff_estimate == "learned" else 0.0
        env = ConditionedEnv(game.env(b, int(rng.integers(1 << 31))), graph, rows, n, rng, length, probe)
        rollout = collect_episodes(
            game,
            self.learner.acting(net),
            num_envs=b,
            min_steps=length,
            rng=rng,
            name="neupl",
            update=t,
            env=env,
        )
        seat = env.learner_seats(rollout.steps)
        adv = gae(rollout, rollout.value, gamma=1.0, lam=self.learner.gae_lambda)
        keep = np.flatnonzero(rollout.valid & (rollout.player == seat))
        state["episodes"] += int(rollout.episodes)
        state["env_steps"] += int(keep.size)
        if keep.size:
            batch = training_batch(rollout, adv, keep)
            targets = self.learner.policy_targets(game, state, net, batch, t)  # MMD: pi_t, alpha_t
            stats = self.learner.fit_rollout(
                net, opt, batch, rng, t, targets, minibatches=math.ceil(keep.size / s.minibatch)
            )
            self.learner.log_update(t, stats)
        outcomes = env.match_outcomes()
        if outcomes[2].size:
            state["scale"][...] = max(float(state["scale"]), float(np.abs(outcomes[2]).max()))
        return outcomes

    def _maybe_grow(self, game: DeepGame, state: State, rng: np.random.Generator) -> None:
        s = self.solver
        n = int(state["size"])
        tolerance = s.growth_tolerance * max(1e-12, float(state["scale"]))
        _, flat = growth_check(state, tolerance, s.patience)
        if flat and n < s.max_population:
            log.debug("neupl: population grows to %d after iteration %d", n + 1, int(state["iteration"]))
            grow(state)
            self._refresh(game, state, rng)

    # ------------------------------------------------------------------ payoffs
    def _refresh(
        self,
        game: DeepGame,
        state: State,
        rng: np.random.Generator,
        *,
        graph: bool = True,
    ) -> None:
        """``Sigma <- F(U)`` (unless ``graph`` is false), then ``U`` from matches or the estimator."""
        s = self.solver
        n = int(state["size"])
        if graph:
            update_graph(state, s.graph)
        out = np.zeros((s.max_population, s.max_population))
        stderr = np.zeros_like(out)
        counts = np.zeros(out.shape, dtype=np.int64)
        if s.payoff_estimate == "learned":  # no standard errors; counts: the decayed match weights
            out[:n, :n] = self._predict_phi(state, n)
            counts[:n, :n] = np.rint(state["pair_weight"][:n, :n]).astype(np.int64)
        elif self.exact(game):
            assert game.compiled is not None
            population = self.population(game, state)
            out[:n, :n] = seat_average(
                meta_game_entries(game.compiled, population, executor="inprocess", exact=True, progress=False)
            )
        elif n > 1:
            target = game.compiled if game.compiled is not None else game.source
            episodes = s.meta_episodes or DEFAULT_META_EPISODES
            seed = int(rng.integers(0, 2**63 - 1))
            sampled = sampled_matrix(target, self.population(game, state), episodes, seed)
            out[:n, :n], stderr[:n, :n], counts[:n, :n] = sampled
            state["evaluation_steps"] += int(counts.sum()) // 2
        state["payoffs"][...] = out
        state["stderr"][...] = stderr
        state["counts"][...] = counts

    def _fit_phi(
        self,
        state: State,
        outcomes: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    ) -> None:
        """Add the outcomes to the per-pair averages, then ``PHI_STEPS`` weighted Adam steps of ``phi``."""
        import torch

        assert self._modules is not None  # built by init and step before any refresh
        phi, phi_opt = self._modules[3], self._modules[4]
        learner, opponent, ret = outcomes
        size = state["pair_sum"].shape[0]
        flat = np.concatenate([learner * size + opponent, opponent * size + learner])
        total = np.bincount(flat, weights=np.concatenate([ret, -ret]), minlength=size * size)
        count = np.bincount(flat, minlength=size * size)
        state["pair_sum"] *= PAIR_DECAY
        state["pair_weight"] *= PAIR_DECAY
        state["pair_sum"] += total.reshape(size, size)
        state["pair_weight"] += count.reshape(size, size)
        i, j = np.nonzero(state["pair_weight"] > 0)
        weight = state["pair_weight"][i, j]
        graph = state["graph"]
        dev = self.learner.device
        x_t = torch.as_tensor(np.concatenate([graph[i], graph[j]], axis=1), dtype=torch.float32, device=dev)
        y_t = torch.as_tensor(state["pair_sum"][i, j] / weight, dtype=torch.float32, device=dev)
        w_t = torch.as_tensor(weight / weight.sum(), dtype=torch.float32, device=dev)
        phi.train()
        for _ in range(PHI_STEPS):
            loss = (w_t * (phi(x_t)[:, 0] - y_t) ** 2).sum()
            phi_opt.zero_grad(set_to_none=True)
            loss.backward()
            phi_opt.step()
        phi.eval()

    def _predict_phi(self, state: State, n: int) -> NDArray[np.float64]:
        """``U [n, n]``: the antisymmetric part of ``phi(sigma_i, sigma_j)``."""
        import torch

        assert self._modules is not None  # built by init and step before any refresh
        phi = self._modules[3]
        sigma = np.asarray(state["graph"][:n], dtype=np.float32)
        pairs = np.concatenate(
            [np.repeat(sigma, n, axis=0), np.tile(sigma, (n, 1))], axis=1
        )  # row i * n + j: (sigma_i, sigma_j)
        with torch.inference_mode():
            raw = phi(torch.as_tensor(pairs, device=self.learner.device))[:, 0]
        u = raw.to("cpu", torch.float64).numpy().reshape(n, n)
        return 0.5 * (u - u.T)

    # ------------------------------------------------------------------ members and outputs
    def members(self, game: DeepGame, state: State) -> tuple[Any, ...]:
        """Every active policy as a :class:`~gamesolve.neural.NeuralPolicy` (the network at its row)."""
        import torch

        from gamesolve.neural.nets import ConditionalMLP, ConditionedMember
        from gamesolve.neural.policy import NeuralPolicy
        from gamesolve.neural.state import unpack_module

        s = self.solver
        net = ConditionalMLP(game.observation_size, game.num_actions, s.max_population, s.hidden, s.initial)
        unpack_module(state, NET, net)
        out = []
        for i in range(int(state["size"])):
            member = ConditionedMember(
                game.observation_size,
                game.num_actions,
                s.max_population,
                s.hidden,
                s.initial,
                sigma=state["graph"][i].tolist(),
            )
            with torch.no_grad():
                member.torso.load_state_dict(net.torso.state_dict())
            out.append(
                NeuralPolicy(
                    member,
                    num_actions=game.num_actions,
                    observation_size=game.observation_size,
                    observation=game.observation,
                    game=game.spec.name,
                    device=self.learner.device,
                )
            )
        return tuple(out)

    def names(self, state: State) -> tuple[str, ...]:
        """``initial`` for an untrained row (``sigma = 0``), else ``pi{k}``."""
        graph = state["graph"]
        return tuple("initial" if graph[k].sum() <= 0 else f"pi{k + 1}" for k in range(int(state["size"])))

    def population(self, game: DeepGame, state: State) -> Population:
        """The active policies as a symmetric population."""
        return Population.symmetric(self.members(game, state), names=self.names(state))

    def mixture(self, game: DeepGame, state: State, newest: bool = False) -> NetworkMixture:
        """The population's Nash mixture (or the newest policy), as both seats' mixture."""
        n = int(state["size"])
        weights = np.eye(n)[-1] if newest else meta_nash(state["payoffs"][:n, :n])
        members = self.members(game, state)
        return NetworkMixture((members, members), (weights, weights.copy()), game)

    def conditional(self, game: DeepGame, state: State, sigma: NDArray[np.float64]) -> Any:
        """The network at ``sigma`` (zero-padded) as a policy."""
        trial = dict(state)
        graph = np.zeros_like(state["graph"])
        graph[0] = sigma
        trial["graph"], trial["size"] = graph, np.asarray(1, dtype=np.int64)
        return self.members(game, trial)[0]

    def evaluate(self, game: DeepGame, policy: NetworkMixture) -> float:
        """Exact exploitability on a compiled game, else NaN (``extras`` hold the scores vs uniform)."""
        if game.compiled is None:
            return math.nan
        return float(exact_exploitability(game.compiled, policy.tabulate()))

    def nash_conv(self, game: DeepGame, policy: NetworkMixture) -> Any:
        """The exact NashConv report of ``policy`` on a compiled game, else ``None``."""
        if game.compiled is None:
            return None
        return exact_nash_conv(game.compiled, policy.tabulate())

    def describe(self, game: DeepGame, state: State) -> dict[str, Any]:
        """Population, meta-game, interaction graph, meta-strategy, counters, scores vs uniform.

        Called for the run's report: the rollout workers stop here (a later step starts new ones).
        """
        self.learner.close_logs()
        n = int(state["size"])
        names = self.names(state)
        payoffs = np.array(state["payoffs"][:n, :n])
        meta_game = MetaGame(
            payoffs=np.stack([payoffs, -payoffs]),
            stderr=np.stack([np.array(state["stderr"][:n, :n])] * 2),
            counts=np.array(state["counts"][:n, :n]),
            names=(names, names),
            exact=self.exact(game),
        )
        weights = meta_nash(payoffs)
        members = self.members(game, state)
        out: dict[str, Any] = {
            "population": Population.symmetric(members, names=names),
            "members": members,
            "meta_game": meta_game,
            "payoffs": payoffs,
            "interaction_graph": np.array(state["graph"][:n, :n]),
            "meta_strategy": weights,
            "population_size": n,
            "joined": [int(x) for x in state["joined"][:n]],
            "env_steps": int(state["env_steps"]),
            "evaluation_steps": int(state["evaluation_steps"]),
            "episodes": int(state["episodes"]),
            "newest_gap": math.nan,
            "backend": "tensor",
            "payoff_estimate": self.solver.payoff_estimate,
        }
        if self.solver.initial == "uniform":  # row 0 is uniform random play
            out["score_vs_uniform"] = float(weights @ payoffs[:, 0])
        return out


def refuse_tabular(policy: str, training: str | None) -> None:
    """The tensor engine trains the network by PPO only.

    Raises:
        InvalidArgumentError: ``policy="tabular"`` or ``training="exact"`` (options the tensors
            cannot honour).
    """
    if policy != "network":
        raise InvalidArgumentError(
            "neupl on tensors (backend='tensor') trains the network: use policy='network'"
        )
    if training == "exact":
        raise InvalidArgumentError(
            "neupl on tensors (backend='tensor') learns from sampled episodes: use training='rl' "
            "(exact training needs a compiled game, backend='tree')"
        )
