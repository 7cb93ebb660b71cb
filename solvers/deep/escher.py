"""ESCHER, the outcome-sampling successor of Deep CFR, the ``"escher"`` solver.

McAleer, Farina, Lanctot & Sandholm 2023, "ESCHER: Eschewing Importance Sampling in Games by
Computing a History Value Function to Estimate Regret". Deep CFR (Brown, Lerer, Gross & Sandholm
2019) needs external-sampling traversals, which enumerate every traverser action and so copy game
states; outcome sampling avoids that but divides by sampling probabilities, whose variance ruins
the networks. ESCHER samples single forward trajectories and never divides: a *history value
network* ``Q(h, a)`` (one value per player) stands in for the subtree below each action.

One iteration ``t``:

1. **History value.** ``value_traversals`` trajectories in which every player plays the current
   policy table mixed with ``value_epsilon`` uniform exploration; each decision ``(h, a)`` reached
   is a training pair whose target is the one-step corrected return: the terminal payoffs when
   ``a`` (and the chance events after it) ends the game, else ``sum_b sigma(h', b) Q(h', b)`` at the
   next decision history ``h'`` (an expectation under the current policy, not under the exploring
   behaviour, recomputed from the network at every step). The network is warm-started from one
   iteration to the next and takes ``value_steps`` Adam steps on minibatches of ``value_batch``.
2. **Regret samples.** For each player ``p``, ``traversals`` trajectories in which ``p`` samples
   uniformly over its legal actions (ESCHER's fixed sampling policy), chance its distribution and
   the others the current policy table. At each of ``p``'s histories ``h`` on them the regret
   sample of ``h``'s infoset is ``Q_p(h, a) - sum_b sigma(b) Q_p(h, b)`` for every legal ``a``,
   with weight ``t`` and no importance weight; the other players' infosets reached give strategy
   samples (their current policy, weight ``t``).
3. **Advantages and average policy** exactly as in Deep CFR
   (:class:`~gamesolve.solvers.deep.deep_cfr.DeepCFR`, whose reservoir buffers, weighted fits,
   regret matching and average-policy network this class inherits).

The history features must show hidden information: a history's tensor is its acting player's
infoset tensor followed by a one-hot of the whole path, ``(depth, edge id)`` for every edge from
the root (chance outcomes included), which identifies the history.

What runs where: the sampling runs on the compiled tree
(:func:`gamesolve.kernels.escher.sample_trajectories`, numba, forward only: no state is ever
copied), the networks in torch on ``device``. Only games that compile are played for now, so every
evaluation is the exact exploitability of the average-policy network. A game that does not
compile would need the same trajectories stepped through its states (every player's
information-state tensor as the history feature, regret-matched advantages queried per decision
instead of a policy table, buffers of tensors instead of infoset ids); :meth:`ESCHER._samples` and
:meth:`ESCHER._begin_iteration` are the two places that would change.

The state holds Deep CFR's buffers, policy table, generator and (with ``warm_start``) advantage
networks, plus the history value network and its Adam state (``val.`` / ``val.opt.``), so a
resumed run repeats an uninterrupted one (on the same machine and torch build). An iteration
works on a copy of the state: a non-finite loss raises :class:`~gamesolve.errors.GamesolveError`
naming the network and the iteration, and the state keeps the previous iteration.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import rng_from_array, rng_to_array
from gamesolve.compiled import CompiledGame
from gamesolve.errors import GamesolveError
from gamesolve.kernels.escher import NO_TRAVERSER, sample_trajectories
from gamesolve.mcts import DEFAULT_SIMULATIONS
from gamesolve.registry import SolverEntry
from gamesolve.solver import State
from gamesolve.solvers.deep.deep_cfr import DeepCFR, InfosetData, check_loss, seeded_mlp
from gamesolve.solvers.rl_oracles.base import check_widths
from gamesolve.validation import check_int, check_real

__all__ = ["ESCHER", "ESCHER_ENTRY", "HistoryFeatures"]

VALUE = "val."
VALUE_OPT = "val.opt."


class ESCHER(DeepCFR):
    """ESCHER on a compiled game (McAleer et al. 2023); the options of :class:`DeepCFR` and more.

    Args:
        traversals: Regret trajectories per player per iteration.
        value_traversals: Trajectories per iteration that train the history value network.
        value_hidden: Hidden widths of the history value network.
        value_steps: Adam steps of the history value network per iteration.
        value_batch: Decisions per minibatch of those steps.
        value_learning_rate: Adam's learning rate for the history value network.
        value_epsilon: Uniform exploration of the value trajectories' behaviour, in ``[0, 1]``.
        advantage_hidden, policy_hidden, advantage_steps, policy_steps, learning_rate, buffer_size,
            strategy_buffer_size, observation, warm_start and the shared options (device, threads,
            eval_*, log_dir, tensorboard): As in :class:`DeepCFR`.

    Raises:
        InvalidArgumentError: An option outside its range, naming it.
    """

    name = "escher"

    def __init__(
        self,
        traversals: int = 1000,
        value_traversals: int = 1000,
        value_hidden: Sequence[int] = (64, 64),
        value_steps: int = 100,
        value_batch: int = 512,
        value_learning_rate: float = 1e-3,
        value_epsilon: float = 0.1,
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
        super().__init__(
            traversals=traversals,
            advantage_hidden=advantage_hidden,
            policy_hidden=policy_hidden,
            advantage_steps=advantage_steps,
            policy_steps=policy_steps,
            learning_rate=learning_rate,
            buffer_size=buffer_size,
            strategy_buffer_size=strategy_buffer_size,
            observation=observation,
            device=device,
            threads=threads,
            warm_start=warm_start,
            eval_matches=eval_matches,
            eval_seed=eval_seed,
            eval_mcts_matches=eval_mcts_matches,
            eval_mcts_simulations=eval_mcts_simulations,
            eval_rl_bound_steps=eval_rl_bound_steps,
            log_dir=log_dir,
            tensorboard=tensorboard,
        )
        self.value_traversals = check_int("value_traversals", value_traversals, minimum=1)
        self.value_hidden = check_widths("value_hidden", value_hidden)
        self.value_steps = check_int("value_steps", value_steps, minimum=1)
        self.value_batch = check_int("value_batch", value_batch, minimum=1)
        self.value_learning_rate = check_real(
            "value_learning_rate", value_learning_rate, minimum=0.0, min_inclusive=False
        )
        self.value_epsilon = check_real("value_epsilon", value_epsilon, minimum=0.0, maximum=1.0)
        self._features: HistoryFeatures | None = None
        self._last_value_loss = float("nan")

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {
            **super().config(),
            "value_traversals": self.value_traversals,
            "value_hidden": list(self.value_hidden),
            "value_steps": self.value_steps,
            "value_batch": self.value_batch,
            "value_learning_rate": self.value_learning_rate,
            "value_epsilon": self.value_epsilon,
        }

    def warm_up(self, game: CompiledGame) -> None:
        """Infoset tensors, action-id maps and history features (before the clock starts)."""
        self._history(game)

    def _history(self, game: CompiledGame) -> HistoryFeatures:
        data = self._data(game)
        if self._features is None or self._features.data is not data:
            self._features = HistoryFeatures(data)
        return self._features

    # ------------------------------------------------------------------ state
    def init(self, game: CompiledGame, rng: np.random.Generator) -> State:
        """Deep CFR's fresh state plus a fresh history value network and its Adam."""
        from gamesolve.neural.state import pack_module, pack_optimizer

        state = super().init(game, rng)
        child = rng_from_array(state["rng"])
        with self.torch_scope():
            module, optimizer = self._value_network(game, state, int(child.integers(0, 2**63)))
            pack_module(state, VALUE, module)
            pack_optimizer(state, VALUE_OPT, optimizer)
        state["rng"] = rng_to_array(child)
        return state

    def _value_network(self, game: CompiledGame, state: State, seed: int) -> tuple[Any, Any]:
        """The history value network and its Adam: fresh from ``seed``, or restored from the state."""
        import torch

        from gamesolve.neural.state import unpack_module, unpack_optimizer

        hist = self._history(game)
        module = seeded_mlp(hist.size, hist.outputs, self.value_hidden, seed, self.device)
        optimizer = torch.optim.Adam(module.parameters(), lr=self.value_learning_rate)
        if f"{VALUE_OPT}g0.lr" in state:
            unpack_module(state, VALUE, module)
            unpack_optimizer(state, VALUE_OPT, optimizer)
        return module, optimizer

    # ------------------------------------------------------------------ iterations
    def step(self, game: CompiledGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` ESCHER iterations, each on a copy of the state committed when it succeeds."""
        for _ in range(iterations):
            work = {name: value.copy() for name, value in state.items()}
            try:
                super().step(game, work, 1)
            except GamesolveError as exc:
                raise GamesolveError(f"{exc}; the state keeps iteration {int(state['t'])}") from exc
            state.update(work)

    def _begin_iteration(self, data: InfosetData, state: State, rng: np.random.Generator, t: int) -> None:
        """Train the history value network on fresh trajectories of the current policy table."""
        import torch

        from gamesolve.neural.state import pack_module, pack_optimizer

        game = data.game
        hist = self._history(game)
        module, optimizer = self._value_network(game, state, 0)
        key = np.uint64(rng.integers(0, 2**63))
        nodes, slots, nxt = hist.trajectories(
            state["sigma"], key, NO_TRAVERSER, self.value_epsilon, self.value_traversals
        )
        dev = self.device
        m = nodes.shape[0]
        x = torch.as_tensor(hist.features(nodes), device=dev)
        taken = torch.as_tensor(data.safe_ids[game.node_infoset[nodes], slots], device=dev)
        ends = nxt < 0
        target_end = torch.as_tensor(
            np.where(ends[:, None], game.terminal_utility[np.where(ends, -1 - nxt, 0)], 0.0), device=dev
        ).float()
        # Where the game goes on: the next decision history, its policy row and action ids.
        later = np.where(ends, nodes, nxt)  # any decision node where the game ended (masked out)
        later_infosets = game.node_infoset[later]
        x_next = torch.as_tensor(hist.features(later), device=dev)
        ids_next = torch.as_tensor(data.safe_ids[later_infosets], device=dev)
        sigma_next = torch.as_tensor(state["sigma"][later_infosets], dtype=torch.float32, device=dev)
        goes_on = torch.as_tensor(~ends, device=dev)
        batch = min(self.value_batch, m)
        players = game.num_players
        loss_sum = 0.0
        for k in range(self.value_steps):
            idx = torch.as_tensor(rng.integers(0, m, size=batch), device=dev)
            with torch.no_grad():
                q_next = hist.q_slots(module(x_next[idx]), ids_next[idx], players)  # [b, P, A]
                boot = (q_next * sigma_next[idx, None, :]).sum(dim=2)
                target = torch.where(goes_on[idx, None], boot, target_end[idx])
            q = module(x[idx]).view(batch, players, -1)
            pred = torch.gather(q, 2, taken[idx, None, None].expand(batch, players, 1))[:, :, 0]
            loss = ((pred - target) ** 2).mean()
            check_loss(loss, f"{self.name}: the history value network at iteration {t}", k)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += float(loss.detach())
        self._last_value_loss = loss_sum / self.value_steps
        pack_module(state, VALUE, module)
        pack_optimizer(state, VALUE_OPT, optimizer)

    def _samples(
        self, data: InfosetData, state: State, rng: np.random.Generator, player: int, t: int
    ) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.int32]]:
        """Regret samples from ``Q`` along uniform-sampling trajectories, and other players' infosets."""
        import torch

        del t
        game = data.game
        hist = self._history(game)
        sigma = state["sigma"]
        key = np.uint64(rng.integers(0, 2**63))
        nodes, _, _ = hist.trajectories(sigma, key, player, 0.0, self.traversals)
        own = game.node_player[nodes] == player
        mine = nodes[own]
        infosets = game.node_infoset[mine].astype(np.int32)
        module, _ = self._value_network(game, state, 0)
        with torch.inference_mode():
            x = torch.as_tensor(hist.features(mine), device=self.device)
            ids = torch.as_tensor(data.safe_ids[infosets], device=self.device)
            q_all = hist.q_slots(module(x), ids, game.num_players)[:, player]
            q = q_all.to("cpu", torch.float64).numpy()
        legal = data.legal[infosets]
        q = np.where(legal, q, 0.0)
        v = (sigma[infosets] * q).sum(axis=1, keepdims=True)
        regrets = np.where(legal, q - v, 0.0)
        others = game.node_infoset[nodes[~own]].astype(np.int32)
        return infosets, regrets, others

    def _iteration_figures(self, state: State) -> dict[str, float]:
        """Deep CFR's sample counts and this iteration's history value loss (mean over its steps)."""
        return {**super()._iteration_figures(state), "value_loss": self._last_value_loss}

    def extras(self, game: CompiledGame, state: State) -> dict[str, Any]:
        """Deep CFR's sample counts and the last history value loss (mean over its steps)."""
        return {**super().extras(game, state), "value_loss": self._last_value_loss}

    def __repr__(self) -> str:
        return (
            f"ESCHER(traversals={self.traversals}, value_traversals={self.value_traversals}, "
            f"advantage_hidden={list(self.advantage_hidden)})"
        )


class HistoryFeatures:
    """History tensors of a compiled game and the trajectory sampler's scratch (see the module doc).

    Attributes:
        data: The game's :class:`~gamesolve.solvers.deep.deep_cfr.InfosetData`.
        size: Features per history: the infoset tensor's, plus ``depth * edge ids`` path one-hots.
        outputs: Outputs of the history value network: ``players * action ids`` (``[P, A]`` rows).
    """

    def __init__(self, data: InfosetData) -> None:
        game = data.game
        self.data = data
        self.game = game
        parent = game.node_parent
        depth = np.zeros(game.num_nodes, dtype=np.int32)
        up = parent.copy()
        while (live := up >= 0).any():
            depth[live] += 1
            up[live] = parent[up[live]]
        self.depth = depth
        self.max_depth = int(depth.max())
        self.edge_ids = int(game.node_action.max()) + 1
        self.size = data.size + self.max_depth * self.edge_ids
        self.outputs = game.num_players * data.num_ids
        self._node = np.zeros(4096, dtype=np.int32)
        self._slot = np.zeros(4096, dtype=np.int32)
        self._next = np.zeros(4096, dtype=np.int32)

    def features(self, nodes: NDArray[Any]) -> NDArray[np.float32]:
        """``[len(nodes), size]`` float32: the acting infoset's tensor, then the path one-hot."""
        game = self.game
        nodes = np.asarray(nodes, dtype=np.int64)
        out = np.zeros((nodes.shape[0], self.size), dtype=np.float32)
        out[:, : self.data.size] = self.data.x[game.node_infoset[nodes]]
        rows = np.arange(nodes.shape[0])
        cur = nodes.copy()
        base = self.data.size
        while (live := cur > 0).any():
            c = cur[live]
            out[rows[live], base + (self.depth[c] - 1) * self.edge_ids + game.node_action[c]] = 1.0
            cur[live] = game.node_parent[c]
        return out

    @staticmethod
    def q_slots(output: Any, ids: Any, players: int) -> Any:
        """``[B, P, A]`` values per slot from the network's ``[B, P * action ids]`` output."""
        import torch

        q = output.view(output.shape[0], players, -1)
        return torch.gather(q, 2, ids[:, None, :].expand(-1, players, -1))

    def trajectories(
        self, sigma: NDArray[np.float64], key: np.uint64, traverser: int, epsilon: float, count: int
    ) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
        """The decision records of ``count`` trajectories (see :func:`sample_trajectories`)."""
        game = self.game
        while True:
            n = sample_trajectories(
                game.tree,
                game.node_terminal,
                sigma,
                key,
                traverser,
                epsilon,
                count,
                self._node,
                self._slot,
                self._next,
            )
            if n <= self._node.shape[0]:
                return self._node[:n].copy(), self._slot[:n].copy(), self._next[:n].copy()
            self._node = np.zeros(2 * n, dtype=np.int32)
            self._slot = np.zeros(2 * n, dtype=np.int32)
            self._next = np.zeros(2 * n, dtype=np.int32)


# The registry name this module serves (an entry point of the group gamesolve.solvers).
ESCHER_ENTRY = SolverEntry(
    "escher", ESCHER, "ESCHER (trajectory sampling, history value network, no importance weights)"
)
