"""Deep CFR (Brown, Lerer, Gross & Sandholm 2019, "Deep Counterfactual Regret Minimization").

Every iteration ``t`` runs, for each player ``p``, ``traversals`` external-sampling traversals of the
compiled game (Lanctot et al. 2009) in which everyone plays the current policy table
(:mod:`gamesolve.kernels.deep_cfr`, one numba call per player). Each traverser infoset reached gives
a regret sample (infoset, instantaneous regrets ``v(a) - v``, weight ``t``) for ``p``'s reservoir
buffer; each other player's infoset reached gives a strategy sample (infoset, the current policy
there, weight ``t``) for the strategy reservoir buffer. Then each player's advantage network is
trained on the ``t``-weighted squared error over its whole buffer, and the next policy table is
regret matching on the network's predicted advantages at every infoset (the highest predicted
advantage is played when none is positive, as in the paper): the networks are evaluated on every
infoset's tensor in one batch, so traversals need no network queries. By default the advantage
networks are warm-started: each keeps its weights and Adam state from one iteration to the next and
takes a few steps on the grown buffer, which reaches a given exploitability in a fraction of the
time; ``warm_start=False`` re-initialises them every iteration and trains from scratch, as in the
paper (give it more ``advantage_steps``).

Samples are stored by infoset id: on a compiled game the observation tensor is a function of the
infoset (:class:`~gamesolve.neural.InfosetTensors`), so storing the id loses nothing. The weighted
squared error over a buffer equals, up to a constant, the error against each infoset's weighted
mean target with the infoset's total weight, so every gradient step is a full-batch step over the
whole buffer computed on at most one row per infoset.

The output (``result.policy``) is a :class:`~gamesolve.neural.NeuralPolicy`: an average-policy
network trained on the strategy buffer (``t``-weighted cross-entropy against the buffer's weighted
mean policy per infoset) whenever the policy is asked for; its exploitability is evaluated exactly
(by tabulating the network on every infoset). The network, not the exact reach-weighted average of
the policy tables, is the output because the output must be a policy that acts from observations
alone, as the paper's is. The current iterate is the policy table itself. The state holds the
buffers, the policy table and the generator; fresh networks are drawn from the generator (with
``warm_start`` the advantage networks and their optimizers live in the state too), so a resumed
run repeats an uninterrupted one (on the same machine and torch build).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules, rng_from_array, rng_to_array
from gamesolve.compiled import CompiledGame
from gamesolve.errors import GamesolveError
from gamesolve.kernels.deep_cfr import external_sampling_traversals
from gamesolve.kernels.mccfr import max_depth
from gamesolve.mcts import DEFAULT_SIMULATIONS
from gamesolve.policy import TabularPolicy
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, State
from gamesolve.solvers.common import check_extensive_form, prepare_extensive_form
from gamesolve.solvers.deep.shell import DeepLearner
from gamesolve.solvers.rl_oracles.base import check_widths
from gamesolve.spec import GameSpec
from gamesolve.validation import check_bool, check_choice, check_int, check_real
from gamesolve.vector_env import OBSERVATION_KINDS

__all__ = [
    "DEEP_CFR_ENTRY",
    "DeepCFR",
    "InfosetData",
    "check_loss",
    "regret_matching_table",
    "reservoir_insert",
    "seeded_mlp",
]

#: Optimizer arrays (last name part) that are never negative: step counts, second moments, rates.
_NONNEGATIVE = frozenset({"step", "exp_avg_sq", "max_exp_avg_sq", "lr"})

log = logging.getLogger(__name__)


class DeepCFR(DeepLearner):
    """Deep CFR with external-sampling traversals on a compiled game (Brown et al. 2019).

    Args:
        traversals: External-sampling traversals per player per iteration (``K``).
        advantage_hidden: Hidden widths of each player's advantage network.
        policy_hidden: Hidden widths of the average-policy network.
        advantage_steps: Adam steps per advantage network per iteration.
        policy_steps: Adam steps of the average-policy network each time the policy is asked for.
        learning_rate: Adam's learning rate for both networks.
        buffer_size: Capacity of each player's regret reservoir buffer (samples).
        strategy_buffer_size: Capacity of the strategy reservoir buffer (samples).
        observation: The infoset tensor the networks read, ``"info_state"`` or ``"observation"``.
        device, threads, eval_matches, eval_seed, eval_mcts_matches, eval_mcts_simulations,
        eval_rl_bound_steps, log_dir, tensorboard: The options every deep learner shares (see
            :mod:`gamesolve.solvers.deep.shell`); ``updates.csv`` gets one row per iteration (the
            samples offered to the buffers so far).
        warm_start: Keep each advantage network (and its Adam state) from one iteration to the next
            (default; the networks then live in the state through :mod:`gamesolve.neural.state`, so
            checkpoints hold them); ``False`` re-initialises them every iteration, as in the paper.

    Raises:
        InvalidArgumentError: An option outside its range, naming it.
    """

    name = "deep-cfr"
    output = Iterate.AVERAGE
    state_rules = StateRules(
        counter="t",
        nonnegative=frozenset({"adv_weight", "adv_seen", "strat_weight", "strat_seen"}),
        probabilities=frozenset({"sigma", "strat_probs"}),
        generators=frozenset({"rng"}),
    )

    def __init__(
        self,
        traversals: int = 200,
        advantage_hidden: Sequence[int] = (64, 64),
        policy_hidden: Sequence[int] = (64, 64),
        advantage_steps: int = 50,
        policy_steps: int = 1000,
        learning_rate: float = 3e-3,
        buffer_size: int = 1_000_000,
        strategy_buffer_size: int = 1_000_000,
        observation: str = "info_state",
        device: str = "cpu",
        threads: int = 1,
        warm_start: bool = True,
        eval_matches: int = 100,
        eval_seed: int = 0,
        eval_mcts_matches: int = 0,
        eval_mcts_simulations: int = DEFAULT_SIMULATIONS,
        eval_rl_bound_steps: int = 0,
        log_dir: str | os.PathLike[str] | None = None,
        tensorboard: bool = False,
    ) -> None:
        self.setup_shell(
            device=device,
            threads=threads,
            eval_matches=eval_matches,
            eval_seed=eval_seed,
            eval_mcts_matches=eval_mcts_matches,
            eval_mcts_simulations=eval_mcts_simulations,
            eval_rl_bound_steps=eval_rl_bound_steps,
            log_dir=log_dir,
            tensorboard=tensorboard,
        )
        self.traversals = check_int("traversals", traversals, minimum=1)
        self.advantage_hidden = check_widths("advantage_hidden", advantage_hidden)
        self.policy_hidden = check_widths("policy_hidden", policy_hidden)
        self.advantage_steps = check_int("advantage_steps", advantage_steps, minimum=1)
        self.policy_steps = check_int("policy_steps", policy_steps, minimum=1)
        self.learning_rate = check_real("learning_rate", learning_rate, minimum=0.0, min_inclusive=False)
        self.buffer_size = check_int("buffer_size", buffer_size, minimum=1)
        self.strategy_buffer_size = check_int("strategy_buffer_size", strategy_buffer_size, minimum=1)
        self.observation = check_choice("observation", observation, OBSERVATION_KINDS)
        self.warm_start = check_bool("warm_start", warm_start)
        self._games: dict[int, InfosetData] = {}
        self._policy_cache: tuple[int, int, Any] | None = None

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {
            "traversals": self.traversals,
            "advantage_hidden": list(self.advantage_hidden),
            "policy_hidden": list(self.policy_hidden),
            "advantage_steps": self.advantage_steps,
            "policy_steps": self.policy_steps,
            "learning_rate": self.learning_rate,
            "buffer_size": self.buffer_size,
            "strategy_buffer_size": self.strategy_buffer_size,
            "observation": self.observation,
            "device": self.device_name,
            "threads": self.threads,
            "warm_start": self.warm_start,
            **self.shell_config(),
        }

    def prepare(self, game: Any) -> CompiledGame:
        """The compiled form of an extensive-form game."""
        return prepare_extensive_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Any extensive-form game that compiles."""
        check_extensive_form(self.name, spec)

    def warm_up(self, game: CompiledGame) -> None:
        """The infoset tensors and action-id maps of the game (before the clock starts)."""
        self._data(game)

    def _data(self, game: CompiledGame) -> InfosetData:
        data = self._games.get(id(game))
        if data is None or data.game is not game:
            data = InfosetData(game, self.observation)
            self._games = {id(game): data}
        return data

    # ------------------------------------------------------------------ state
    def init(self, game: CompiledGame, rng: np.random.Generator) -> State:
        """Empty buffers, the uniform policy table and the generator."""
        players, width = game.num_players, game.max_actions
        child = np.random.Generator(np.random.PCG64(int(rng.integers(0, 2**63))))
        state: State = {
            "t": np.zeros((), dtype=np.int64),
            "rng": rng_to_array(child),
            "sigma": _uniform(game),  # [I, A] current policy table
            "adv_ids": np.zeros((players, self.buffer_size), dtype=np.int32),
            "adv_regrets": np.zeros((players, self.buffer_size, width), dtype=np.float32),
            "adv_weight": np.zeros((players, self.buffer_size), dtype=np.float32),
            "adv_seen": np.zeros(players, dtype=np.int64),  # samples offered to each buffer
            "strat_ids": np.zeros(self.strategy_buffer_size, dtype=np.int32),
            "strat_probs": np.zeros((self.strategy_buffer_size, width), dtype=np.float32),
            "strat_weight": np.zeros(self.strategy_buffer_size, dtype=np.float32),
            "strat_seen": np.zeros((), dtype=np.int64),
        }
        if self.warm_start:
            data = self._data(game)
            with self.torch_scope():
                for p in range(players):
                    module, optimizer = self._advantage_network(data, state, p, int(child.integers(0, 2**63)))
                    _pack(state, p, module, optimizer)
            state["rng"] = rng_to_array(child)
        return state

    def check_state(self, game: CompiledGame, state: State) -> None:
        """Buffer ids must name infosets; optimizer step counts, second moments and rates are >= 0."""
        for name in ("adv_ids", "strat_ids"):
            ids = state[name]
            if ids.size and (ids.min() < 0 or ids.max() >= game.num_infosets):
                raise ValueError(f"array {name!r} holds infoset ids outside [0, {game.num_infosets})")
        for name, values in state.items():
            if ".opt." in name and name.rsplit(".", 1)[1] in _NONNEGATIVE and (values < 0).any():
                raise ValueError(f"array {name!r} holds negative values")

    # ------------------------------------------------------------------ iterations
    def step(self, game: CompiledGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` Deep CFR iterations."""
        with self.torch_scope():
            self._steps(game, state, iterations)

    def _steps(self, game: CompiledGame, state: State, iterations: int) -> None:
        data = self._data(game)
        rng = rng_from_array(state["rng"])
        for _ in range(iterations):
            t = int(state["t"]) + 1
            sigma = state["sigma"]
            self._begin_iteration(data, state, rng, t)
            for p in range(game.num_players):
                reg_i, reg_v, opp_i = self._samples(data, state, rng, p, t)
                n_seen = int(state["adv_seen"][p])
                reservoir_insert(
                    rng,
                    n_seen,
                    reg_i,
                    reg_v.astype(np.float32),
                    np.full(reg_i.shape[0], t, dtype=np.float32),
                    state["adv_ids"][p],
                    state["adv_regrets"][p],
                    state["adv_weight"][p],
                )
                state["adv_seen"][p] = n_seen + reg_i.shape[0]
                n_seen = int(state["strat_seen"])
                reservoir_insert(
                    rng,
                    n_seen,
                    opp_i,
                    sigma[opp_i].astype(np.float32),
                    np.full(opp_i.shape[0], t, dtype=np.float32),
                    state["strat_ids"],
                    state["strat_probs"],
                    state["strat_weight"],
                )
                state["strat_seen"] = np.asarray(n_seen + opp_i.shape[0], dtype=np.int64)
            new_sigma = sigma.copy()
            for p in range(game.num_players):
                filled = min(int(state["adv_seen"][p]), self.buffer_size)
                seed = int(rng.integers(0, 2**63))
                module, optimizer = self._advantage_network(data, state, p, seed)
                rows, advantages = data.fit(
                    state["adv_ids"][p, :filled],
                    state["adv_regrets"][p, :filled],
                    state["adv_weight"][p, :filled],
                    game.infosets_of(p),
                    module=module,
                    optimizer=optimizer,
                    steps=self.advantage_steps,
                    device=self.device,
                    label=f"{self.name}: the advantage network of player {p} at iteration {t}",
                )
                if self.warm_start:
                    _pack(state, p, module, optimizer)
                if rows.size:
                    new_sigma[rows] = regret_matching_table(advantages, game.infoset_num_actions[rows])
            state["sigma"] = new_sigma
            state["t"] = np.asarray(t, dtype=np.int64)
            self.log_update(t, self._iteration_figures(state))
        state["rng"] = rng_to_array(rng)

    def _iteration_figures(self, state: State) -> dict[str, float]:
        """What ``updates.csv`` records after an iteration: the samples offered to the buffers so far."""
        figures = {f"regret_samples_{p}": float(n) for p, n in enumerate(state["adv_seen"])}
        figures["strategy_samples"] = float(state["strat_seen"])
        return figures

    def _begin_iteration(self, data: InfosetData, state: State, rng: np.random.Generator, t: int) -> None:
        """Work before iteration ``t``'s samples (none here; ESCHER trains its value network)."""
        del data, state, rng, t

    def _samples(
        self, data: InfosetData, state: State, rng: np.random.Generator, player: int, t: int
    ) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.int32]]:
        """Iteration ``t``'s regret samples (infosets, regret rows) and other players' infosets reached."""
        del t
        key = np.uint64(rng.integers(0, 2**63))
        return data.traverse(state["sigma"], key, player, self.traversals)

    def _advantage_network(self, data: InfosetData, state: State, player: int, seed: int) -> tuple[Any, Any]:
        """Player's advantage network and its Adam: fresh from ``seed``, or restored from the state."""
        import torch

        from gamesolve.neural.state import unpack_module, unpack_optimizer

        module = data.module(self.advantage_hidden, seed, self.device)
        optimizer = torch.optim.Adam(module.parameters(), lr=self.learning_rate)
        if self.warm_start and f"adv{player}.opt.g0.lr" in state:
            unpack_module(state, f"adv{player}.", module)
            unpack_optimizer(state, f"adv{player}.opt.", optimizer)
        return module, optimizer

    # ------------------------------------------------------------------ policies
    def policy(self, game: CompiledGame, state: State, which: Iterate) -> Any:
        """The average-policy network (a NeuralPolicy) or the current policy table."""
        if which is Iterate.CURRENT:
            return TabularPolicy(game, state["sigma"].copy(), validate=False)
        t = int(state["t"])
        cache = self._policy_cache
        if cache is not None and cache[0] == id(state) and cache[1] == t:
            return cache[2]
        with self.torch_scope():
            policy = self.average_policy(game, state)
        self._policy_cache = (id(state), t, policy)
        return policy

    def average_policy(self, game: CompiledGame, state: State) -> Any:
        """Train the average-policy network on the strategy buffer (the state is not changed).

        The network's initial weights come from a generator seeded by the state's generator and
        the iteration, so asking twice gives the same network.
        """
        from gamesolve.neural import NeuralPolicy

        data = self._data(game)
        filled = min(int(state["strat_seen"]), self.strategy_buffer_size)
        seed = int(rng_from_array(state["rng"]).integers(0, 2**63))
        module = data.train_policy(
            state["strat_ids"][:filled],
            state["strat_probs"][:filled],
            state["strat_weight"][:filled],
            hidden=self.policy_hidden,
            steps=self.policy_steps,
            lr=self.learning_rate,
            seed=seed,
            device=self.device,
            label=f"{self.name}: the average-policy network at iteration {int(state['t'])}",
        )
        return NeuralPolicy(
            module,
            num_actions=data.num_ids,
            observation_size=data.size,
            observation=self.observation,
            game=game,
            device=self.device,
        )

    def extras(self, game: CompiledGame, state: State) -> dict[str, Any]:
        """Samples offered to the buffers so far."""
        self.close_logs()
        return {
            "regret_samples": [int(x) for x in state["adv_seen"]],
            "strategy_samples": int(state["strat_seen"]),
        }

    def __repr__(self) -> str:
        return f"DeepCFR(traversals={self.traversals}, advantage_hidden={list(self.advantage_hidden)})"


# ---------------------------------------------------------------------------------------- helpers


def _pack(state: State, player: int, module: Any, optimizer: Any) -> None:
    """Player's advantage network and its Adam into the state (``adv{p}.`` and ``adv{p}.opt.``)."""
    from gamesolve.neural.state import pack_module, pack_optimizer

    pack_module(state, f"adv{player}.", module)
    pack_optimizer(state, f"adv{player}.opt.", optimizer)


def _uniform(game: CompiledGame) -> NDArray[np.float64]:
    legal = game.legal_mask
    return np.where(legal, 1.0 / np.maximum(game.infoset_num_actions, 1)[:, None], 0.0)


def regret_matching_table(advantages: NDArray[np.float64], widths: NDArray[np.int32]) -> NDArray[np.float64]:
    """Regret matching per row over the first ``widths[r]`` slots; the largest one when none is positive."""
    legal = np.arange(advantages.shape[1])[None, :] < widths[:, None]
    pos = np.where(legal, np.maximum(advantages, 0.0), 0.0)
    total = pos.sum(axis=1, keepdims=True)
    out = np.divide(pos, total, out=np.zeros_like(pos), where=total > 0)
    none = total[:, 0] <= 0
    if none.any():
        best = np.argmax(np.where(legal[none], advantages[none], -np.inf), axis=1)
        out[np.flatnonzero(none), best] = 1.0
    return out


def reservoir_insert(
    rng: np.random.Generator,
    seen: int,
    ids: NDArray[np.int32],
    rows: NDArray[np.float32],
    weights: NDArray[np.float32],
    buf_ids: NDArray[np.int32],
    buf_rows: NDArray[np.float32],
    buf_weights: NDArray[np.float32],
) -> None:
    """Offer samples to a reservoir buffer (Vitter 1985, "Random Sampling with a Reservoir"), in place.

    Sample ``k`` is the ``seen + k``-th offered: it fills the next free slot while there is one, and
    otherwise replaces a uniform slot with probability ``capacity / (seen + k + 1)``; a later sample
    that picks the same slot as an earlier one in the batch wins, as one at a time would.
    """
    m = ids.shape[0]
    if m == 0:
        return
    cap = buf_ids.shape[0]
    pos = seen + np.arange(m, dtype=np.int64)
    draw = np.floor(rng.random(m) * (pos + 1)).astype(np.int64)
    slot = np.where(pos < cap, pos, draw)
    src = np.flatnonzero(slot < cap)
    slot = slot[src]
    # Keep the last sample per slot.
    last_rev = np.unique(slot[::-1], return_index=True)[1]
    keep = src[::-1][last_rev]
    where = slot[::-1][last_rev]
    buf_ids[where] = ids[keep]
    buf_rows[where] = rows[keep]
    buf_weights[where] = weights[keep]


def seeded_mlp(inputs: int, outputs: int, hidden: Sequence[int], seed: int, device: Any) -> Any:
    """A fresh :class:`~gamesolve.neural.MLP` whose weights come from ``seed`` alone.

    Weights and biases are uniform in ``+-1/sqrt(fan_in)``, as torch's default layers draw them;
    torch's global generator is left untouched.
    """
    import torch

    from gamesolve.neural import MLP

    with torch.random.fork_rng(devices=[]):
        module = MLP(inputs, outputs, hidden)
    gen = torch.Generator().manual_seed(seed % (2**63))
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear):
                bound = 1.0 / float(layer.in_features) ** 0.5
                layer.weight.uniform_(-bound, bound, generator=gen)
                layer.bias.uniform_(-bound, bound, generator=gen)
    return module.to(device)


def check_loss(loss: Any, label: str, step: int) -> None:
    """Raise :class:`~gamesolve.errors.GamesolveError` when a training loss is not finite."""
    import torch

    if not bool(torch.isfinite(loss)):
        raise GamesolveError(
            f"{label}: the loss is not finite (Adam step {step + 1}); lower learning_rate or check "
            "the game's payoffs"
        )


class InfosetData:
    """What the solver derives from a game once: tensors, action ids, traversal scratch."""

    def __init__(self, game: CompiledGame, observation: str) -> None:
        from gamesolve.neural import InfosetTensors

        self.game = game
        tensors = InfosetTensors(game, observation)
        self.size = tensors.size
        self.x = tensors.rows(0, game.num_infosets)  # [I, F] float32
        ids = game.infoset_actions
        self.legal = game.legal_mask  # [I, A]
        self.safe_ids = np.where(self.legal, ids, 0).astype(np.int64)  # [I, A] action id per slot
        self.num_ids = int(self.safe_ids.max()) + 1
        self.tree = game.tree
        self.node_terminal = game.node_terminal
        depth = max_depth(game.node_parent) + 1
        self.frame_node = np.zeros(depth, dtype=np.int32)
        self.frame_next = np.zeros(depth, dtype=np.int32)
        self.frame_values = np.zeros((depth, game.max_actions))
        self.reg_i = np.zeros(1024, dtype=np.int32)
        self.reg_v = np.zeros((1024, game.max_actions))
        self.opp_i = np.zeros(1024, dtype=np.int32)

    def traverse(
        self, sigma: NDArray[np.float64], key: np.uint64, player: int, count: int
    ) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.int32]]:
        """Regret samples (infosets, regrets) and other players' infosets of ``count`` traversals."""
        while True:
            self.reg_v[:] = 0.0
            n_reg, n_opp = external_sampling_traversals(
                self.tree,
                self.node_terminal,
                sigma,
                key,
                player,
                count,
                self.reg_i,
                self.reg_v,
                self.opp_i,
                self.frame_node,
                self.frame_next,
                self.frame_values,
            )
            if n_reg <= self.reg_i.shape[0] and n_opp <= self.opp_i.shape[0]:
                return self.reg_i[:n_reg].copy(), self.reg_v[:n_reg].copy(), self.opp_i[:n_opp].copy()
            grow = 2 * max(n_reg, n_opp)
            self.reg_i = np.zeros(grow, dtype=np.int32)
            self.reg_v = np.zeros((grow, self.reg_v.shape[1]))
            self.opp_i = np.zeros(grow, dtype=np.int32)

    def _aggregate(
        self, ids: NDArray[np.int32], rows: NDArray[np.float32], weights: NDArray[np.float32]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Infosets with samples, their total weights and weighted mean rows."""
        n = self.game.num_infosets
        w = weights.astype(np.float64)
        total = np.bincount(ids, weights=w, minlength=n).astype(np.float64)
        sums = np.stack(
            [np.bincount(ids, weights=w * rows[:, a], minlength=n) for a in range(rows.shape[1])], axis=1
        )
        present = np.flatnonzero(total > 0).astype(np.int64)
        return present, total[present], sums[present] / total[present, None]

    def module(self, hidden: Sequence[int], seed: int, device: Any) -> Any:
        """A fresh MLP (observation -> one output per action id) with weights drawn from ``seed``."""
        return seeded_mlp(self.size, self.num_ids, hidden, seed, device)

    def _inputs(self, rows: NDArray[np.int64], device: Any) -> tuple[Any, Any, Any]:
        import torch

        x = torch.as_tensor(self.x[rows], device=device)
        ids = torch.as_tensor(self.safe_ids[rows], device=device)
        legal = torch.as_tensor(self.legal[rows], device=device)
        return x, ids, legal

    def fit(
        self,
        ids: NDArray[np.int32],
        regrets: NDArray[np.float32],
        weights: NDArray[np.float32],
        infosets: NDArray[np.int32],
        *,
        module: Any,
        optimizer: Any,
        steps: int,
        device: Any,
        label: str = "advantage network",
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Train an advantage network ``steps`` Adam steps; its advantages ``[len(infosets), A]`` per slot."""
        import torch

        rows = np.asarray(infosets, dtype=np.int64)
        if ids.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.legal.shape[1]))
        present, total, target = self._aggregate(ids, regrets, weights)
        x, slot_ids, legal = self._inputs(present, device)
        w = torch.as_tensor(total / total.sum(), dtype=torch.float32, device=device)
        y = torch.as_tensor(target, dtype=torch.float32, device=device)
        for k in range(steps):
            pred = torch.gather(module(x), 1, slot_ids)
            err = torch.where(legal, pred - y, torch.zeros_like(pred))
            loss = (w * (err * err).sum(dim=1)).sum()
            check_loss(loss, label, k)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.inference_mode():
            x_all, ids_all, _ = self._inputs(rows, device)
            out = torch.gather(module(x_all), 1, ids_all).to("cpu", torch.float64).numpy()
        return rows, out

    def train_policy(
        self,
        ids: NDArray[np.int32],
        probs: NDArray[np.float32],
        weights: NDArray[np.float32],
        *,
        hidden: Sequence[int],
        steps: int,
        lr: float,
        seed: int,
        device: Any,
        label: str = "average-policy network",
    ) -> Any:
        """A fresh average-policy network trained on the strategy samples (weighted cross-entropy)."""
        import torch

        module = self.module(hidden, seed, device)
        if ids.size == 0:
            with torch.no_grad():  # no samples yet: the uniform policy
                for p in module.parameters():
                    p.zero_()
            return module.eval()
        present, total, target = self._aggregate(ids, probs, weights)
        x, slot_ids, legal = self._inputs(present, device)
        w = torch.as_tensor(total / total.sum(), dtype=torch.float32, device=device)
        y = torch.as_tensor(target, dtype=torch.float32, device=device)
        optimizer = torch.optim.Adam(module.parameters(), lr=lr)
        for k in range(steps):
            logits = torch.gather(module(x), 1, slot_ids).masked_fill(~legal, float("-inf"))
            logp = torch.log_softmax(logits, dim=1).masked_fill(~legal, 0.0)
            loss = -(w * (y * logp).sum(dim=1)).sum()
            check_loss(loss, label, k)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return module.eval()


# The registry name this module serves (an entry point of the group gamesolve.solvers).
DEEP_CFR_ENTRY = SolverEntry(
    "deep-cfr", DeepCFR, "Deep CFR (external-sampling traversals, neural advantages)"
)
