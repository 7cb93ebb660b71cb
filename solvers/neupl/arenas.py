"""Where NeuPL's policies play: exact values, best responses and sampled episodes.

A :class:`TreeArena` is a compiled two-player zero-sum game played from both seats (a policy is one
``[I, A]`` table covering both players' infosets); a :class:`MatrixArena` is a symmetric zero-sum
normal-form game (one infoset). Both give the population's payoff matrix ``U``, the realization-weight
mixture of members (:mod:`gamesolve.mixture`), counterfactual action values against a mixture, exact
best responses, and batches of sampled episodes for the RL training and sampled ``U``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import TERMINAL_NODE, CompiledGame
from gamesolve.errors import UnsupportedGame
from gamesolve.evaluation import evaluate as evaluate_profile
from gamesolve.evaluation import exploitability as tree_exploitability
from gamesolve.evaluation import nash_conv
from gamesolve.kernels.cfr import _counterfactual_values
from gamesolve.mixture import member_plans, mix_profile_from_plans
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.sequence_form import payoff_matrices
from gamesolve.spec import Utility

__all__ = ["Arena", "Episodes", "MatrixArena", "TreeArena", "check_symmetric_matrix", "make_arena"]


@dataclass(frozen=True)
class Episodes:
    """Learner transitions of a batch of sampled episodes."""

    episode: NDArray[np.int64]  # [T] episode of each transition
    infoset: NDArray[np.int64]  # [T]
    slot: NDArray[np.int64]  # [T] action slot taken
    returns: NDArray[np.float64]  # [B] learner's payoff of every episode


class TreeArena:
    """A compiled two-player zero-sum game played from both seats (exact values and sampling)."""

    def __init__(self, game: CompiledGame) -> None:
        self.game = game
        self.num_infosets = game.num_infosets
        self.max_actions = game.max_actions
        self.legal = np.asarray(game.legal_mask)
        self.owner = np.asarray(game.infoset_player, dtype=np.int64)
        self.num_actions = np.asarray(game.infoset_num_actions, dtype=np.int64)
        a0, a1 = payoff_matrices(game)
        self.a0 = a0.tocsr()
        self.a1 = a1.tocsr()
        # sampler tables
        self.node_player = np.asarray(game.node_player, dtype=np.int64)
        self.node_infoset = np.asarray(game.node_infoset, dtype=np.int64)
        self.first_child = np.asarray(game.node_first_child, dtype=np.int64)
        self.num_children = np.asarray(game.node_num_children, dtype=np.int64)
        width = max(1, int(self.num_children.max()))
        cum = np.ones((game.num_nodes, width))
        chance = np.flatnonzero(self.node_player == -1)
        for j in range(width):
            has = self.num_children[chance] > j
            rows = chance[has]
            cum[rows, j] = game.node_prob[self.first_child[rows] + j]
        cum[chance] = np.cumsum(
            np.where(np.arange(width)[None, :] < self.num_children[chance, None], cum[chance], 0.0), axis=1
        )
        self.chance_cum = cum  # [N, W] cumulative child probabilities at chance nodes
        self.terminal_of = np.full(game.num_nodes, -1, dtype=np.int64)
        self.terminal_of[game.terminal_node] = np.arange(game.num_terminals)
        self.utility = np.asarray(game.terminal_utility, dtype=np.float64)
        self.decision_nodes = [np.flatnonzero(self.node_player == seat) for seat in (0, 1)]
        self.scale = max(1e-12, float(np.abs(game.terminal_utility).max()))
        self._opp = np.empty(game.num_nodes)
        self._value = np.empty(game.num_nodes)

    def plans(self, probs: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each member's realization plans ``([K, S0], [K, S1])``."""
        return member_plans(self.game, probs, 0), member_plans(self.game, probs, 1)

    def payoffs(self, probs: NDArray[np.float64]) -> NDArray[np.float64]:
        """``U [K, K]``: member ``i``'s payoff against ``j``, averaged over the two seats."""
        x0, x1 = self.plans(probs)
        m0 = x0 @ np.asarray(self.a0 @ x1.T)  # [K, K] u_0(i at seat 0, j at seat 1)
        m1 = x0 @ np.asarray(self.a1 @ x1.T)  # [K, K] u_1(i at seat 0, j at seat 1)
        return 0.5 * (m0 + m1.T)

    def mixture(
        self, plans: tuple[NDArray[np.float64], NDArray[np.float64]], weights: ArrayLike
    ) -> NDArray[np.float64]:
        """``[I, A]``: the realization-weight mixture of the members, at both seats."""
        w = np.asarray(weights, dtype=np.float64)
        return np.array(mix_profile_from_plans(self.game, list(plans), [w, w]).probs)

    def counterfactual(
        self, probs: NDArray[np.float64], mix: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Action values of ``probs`` against ``mix`` at every infoset, given the infoset is reached.

        Returns ``(q [I, A], reach [I])``: ``q[I, a]`` is the expected payoff of taking ``a`` at
        ``I`` and following ``probs`` below, conditional on reaching ``I`` (the counterfactual
        value divided by the chance-and-opponent reach ``reach[I]``; 0 where ``reach`` is 0).
        """
        game = self.game
        cfv = np.zeros((self.num_infosets, self.max_actions))
        reach = np.zeros(self.num_infosets)
        for seat in (0, 1):
            profile = np.where((self.owner == seat)[:, None], probs, mix)
            _counterfactual_values(
                game.node_player,
                game.node_infoset,
                game.node_first_child,
                game.node_num_children,
                game.node_prob,
                game.terminal_node,
                game.terminal_utility,
                game.infoset_player,
                game.infoset_num_actions,
                np.ascontiguousarray(profile),
                seat,
                self._opp,
                self._value,
                cfv,
            )
            nodes = self.decision_nodes[seat]
            reach += np.bincount(
                self.node_infoset[nodes], weights=self._opp[nodes], minlength=self.num_infosets
            )
        safe = np.where(reach > 0, reach, 1.0)
        return np.where((reach > 0)[:, None], cfv / safe[:, None], 0.0), reach

    def best_response(self, mix: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
        """A pure best response ``[I, A]`` to ``mix`` at both seats and its seat-averaged value."""
        raw = evaluate_profile(self.game, mix)
        out = np.zeros((self.num_infosets, self.max_actions))
        out[np.arange(self.num_infosets), raw.br_slot] = 1.0
        return out, 0.5 * float(raw.br_values.sum())

    def output(self, game: CompiledGame, probs: NDArray[np.float64]) -> TabularPolicy:
        """The ``[I, A]`` table ``probs`` as a policy of ``game``."""
        return TabularPolicy(game, probs, validate=False)

    def exploitability(self, game: Any, policy: Any) -> float:
        """Exact exploitability of ``policy`` (both seats)."""
        return tree_exploitability(game, policy)

    def sample(
        self,
        tables: NDArray[np.float64],
        learner: NDArray[np.int64],
        opponent: NDArray[np.int64],
        seat: NDArray[np.int64],
        rng: np.random.Generator,
    ) -> Episodes:
        """Play a batch of episodes: row ``learner[b]`` at ``seat[b]`` against row ``opponent[b]``."""
        batch = learner.shape[0]
        cum_tables = np.cumsum(tables, axis=2)  # [K, I, A]
        node = np.zeros(batch, dtype=np.int64)
        parts: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]] = []
        while True:
            player = self.node_player[node]
            live = np.flatnonzero(player != TERMINAL_NODE)
            if live.size == 0:
                break
            u = rng.random((batch,))[live]
            at = node[live]
            who = player[live]
            slot = np.empty(live.size, dtype=np.int64)
            chance = who == -1
            if chance.any():
                c_nodes = at[chance]
                picked = (self.chance_cum[c_nodes] < u[chance, None]).sum(axis=1)
                slot[chance] = np.minimum(picked, self.num_children[c_nodes] - 1)
            decide = ~chance
            if decide.any():
                eps = live[decide]
                inf = self.node_infoset[at[decide]]
                mine = who[decide] == seat[eps]
                row = np.where(mine, learner[eps], opponent[eps])
                picked = (cum_tables[row, inf] < u[decide, None]).sum(axis=1)
                chosen = np.minimum(picked, self.num_actions[inf] - 1)
                slot[decide] = chosen
                parts.append((eps[mine], inf[mine], chosen[mine]))
            node[live] = self.first_child[at] + slot
        returns = self.utility[self.terminal_of[node], seat]
        return _join(parts, returns)


class MatrixArena:
    """A symmetric zero-sum normal-form game: one infoset, both seats alike."""

    def __init__(self, game: TensorGame) -> None:
        self.game = game
        self.p0 = np.asarray(game.payoffs[0], dtype=np.float64)
        self.p1 = np.asarray(game.payoffs[1], dtype=np.float64)
        n = self.p0.shape[0]
        self.num_infosets = 1
        self.max_actions = n
        self.legal = np.ones((1, n), dtype=bool)
        self.owner = np.zeros(1, dtype=np.int64)
        self.num_actions = np.array([n], dtype=np.int64)
        self.scale = max(1e-12, float(np.abs(self.p0).max()))

    def plans(self, probs: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each member's mixed strategy ``[K, A]``, the same at both seats."""
        x = np.asarray(probs[:, 0, :], dtype=np.float64)
        return x, x

    def payoffs(self, probs: NDArray[np.float64]) -> NDArray[np.float64]:
        """``U [K, K]``: member ``i``'s payoff against ``j``, averaged over the two seats."""
        x = probs[:, 0, :]
        return 0.5 * (x @ self.p0 @ x.T + (x @ self.p1 @ x.T).T)

    def mixture(
        self, plans: tuple[NDArray[np.float64], NDArray[np.float64]], weights: ArrayLike
    ) -> NDArray[np.float64]:
        """``[1, A]``: the members' strategies averaged by ``weights``."""
        w = np.asarray(weights, dtype=np.float64)
        return ((w / w.sum()) @ plans[0])[None, :]

    def counterfactual(
        self, probs: NDArray[np.float64], mix: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(q [1, A], reach [1])``: each action's seat-averaged payoff against ``mix``."""
        del probs
        m = mix[0]
        return (0.5 * (self.p0 @ m + self.p1.T @ m))[None, :], np.ones(1)

    def best_response(self, mix: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
        """A pure best response ``[1, A]`` to ``mix`` and its value."""
        q = self.counterfactual(mix, mix)[0][0]
        out = np.zeros((1, self.max_actions))
        best = int(np.argmax(q))
        out[0, best] = 1.0
        return out, float(q[best])

    def output(self, game: TensorGame, probs: NDArray[np.float64]) -> MixedProfile:
        """The symmetric profile in which both players play ``probs[0]``."""
        x = np.maximum(probs[0], 0.0)
        x = x / x.sum()
        return MixedProfile.of(game, [x, x])

    def exploitability(self, game: Any, policy: Any) -> float:
        """Exact exploitability of ``policy``."""
        return float(nash_conv(game, policy).exploitability)

    def sample(
        self,
        tables: NDArray[np.float64],
        learner: NDArray[np.int64],
        opponent: NDArray[np.int64],
        seat: NDArray[np.int64],
        rng: np.random.Generator,
    ) -> Episodes:
        """One round per episode: the learner's action (seat ``seat[b]``) and its payoff."""
        batch = learner.shape[0]
        u = rng.random((batch, 2))
        cum = np.cumsum(tables[:, 0, :], axis=1)  # [K, A]
        last = self.max_actions - 1
        mine = np.minimum((cum[learner] < u[:, :1]).sum(axis=1), last)
        theirs = np.minimum((cum[opponent] < u[:, 1:]).sum(axis=1), last)
        returns = np.where(seat == 0, self.p0[mine, theirs], self.p1[theirs, mine])
        eps = np.arange(batch, dtype=np.int64)
        return Episodes(eps, np.zeros(batch, dtype=np.int64), mine.astype(np.int64), returns)


def _join(
    parts: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]], returns: NDArray[np.float64]
) -> Episodes:
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Episodes(empty, empty, empty, returns)
    eps, inf, slot = (np.concatenate(column).astype(np.int64) for column in zip(*parts, strict=True))
    order = np.argsort(eps, kind="stable")  # group each episode's transitions, in time order
    return Episodes(eps[order], inf[order], slot[order], returns)


Arena = TreeArena | MatrixArena


def make_arena(game: CompiledGame | TensorGame) -> Arena:
    """The arena of a prepared game: a :class:`MatrixArena` for a :class:`TensorGame`, else a tree."""
    return MatrixArena(game) if isinstance(game, TensorGame) else TreeArena(game)


def check_symmetric_matrix(game: TensorGame) -> None:
    """Refuse a normal-form game that is not symmetric two-player zero-sum (a :class:`MatrixArena`'s games).

    Raises:
        UnsupportedGame: More than two players, not zero-sum, or ``payoffs[1] != payoffs[0].T``.
    """
    spec = game.spec
    if spec.num_players != 2 or spec.utility is not Utility.ZERO_SUM:
        raise UnsupportedGame(
            f"neupl needs a symmetric two-player zero-sum game; {spec.name!r} is "
            f"{spec.utility.value.replace('_', '-')} with {spec.num_players} players"
        )
    a0, a1 = game.payoffs[0], game.payoffs[1]
    scale = max(1.0, float(np.abs(a0).max()))
    if a0.shape[0] != a0.shape[1] or not np.allclose(a1, a0.T, atol=1e-12 * scale, rtol=0.0):
        raise UnsupportedGame(
            f"neupl needs a symmetric game (both players with the same actions and "
            f"payoffs[1] == payoffs[0].T); {spec.name!r} is not symmetric"
        )
