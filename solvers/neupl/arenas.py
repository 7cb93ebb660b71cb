"""Where NeuPL's policies play: exact values, best responses and sampled episodes.

A :class:`TreeArena` is a compiled two-player zero-sum game played from both seats (a policy is one
``[I, A]`` table covering both players' infosets); a :class:`MatrixArena` is a symmetric zero-sum
normal-form game (one infoset). Both give the population's payoff matrix ``U`` (exact, from the
population backend :func:`gamesolve.population.meta_game_entries`), the realization-weight mixture
of members (:mod:`gamesolve.mixture`), counterfactual action values against a mixture, exact best
responses, and batches of sampled episodes for the RL training and sampled ``U`` (on trees through
the backend's :class:`~gamesolve.population.sampler.TreeSampler`).
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
from gamesolve.kernels.cfr import counterfactual_values
from gamesolve.mixture import member_plans, mix_profile_from_plans
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.population import MetaGame, Population, meta_game_entries
from gamesolve.population.sampler import TreeSampler, cumulative_tables
from gamesolve.spec import Utility

__all__ = [
    "Arena",
    "Episodes",
    "MatrixArena",
    "TreeArena",
    "check_symmetric_matrix",
    "make_arena",
    "sampled_matrix",
    "sampled_payoffs",
    "seat_average",
]


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
        self.node_player = np.asarray(game.node_player, dtype=np.int64)
        self.node_infoset = np.asarray(game.node_infoset, dtype=np.int64)
        self.sampler = TreeSampler(game)  # the population backend's chance/action sampler
        self.utility = np.asarray(game.terminal_utility, dtype=np.float64)
        self.decision_nodes = [np.flatnonzero(self.node_player == seat) for seat in (0, 1)]
        self.scale = max(1e-12, float(np.abs(game.terminal_utility).max()))
        self._opp = np.empty(game.num_nodes)
        self._value = np.empty(game.num_nodes)

    def plans(self, probs: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each member's realization plans ``([K, S0], [K, S1])``."""
        return member_plans(self.game, probs, 0), member_plans(self.game, probs, 1)

    def population(self, probs: NDArray[np.float64]) -> Population:
        """The ``[K, I, A]`` tables as a symmetric population of the game."""
        return Population.symmetric(list(probs))

    def payoffs(self, probs: NDArray[np.float64]) -> NDArray[np.float64]:
        """``U [K, K]``: member ``i``'s payoff against ``j``, averaged over the two seats (exact)."""
        return seat_average(meta_game_entries(self.game, self.population(probs), executor="inprocess"))

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
            counterfactual_values(game.tree, np.ascontiguousarray(profile), seat, self._opp, self._value, cfv)
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
        cdf = cumulative_tables(self.game, tables)  # [K, I, A]
        node = np.zeros(batch, dtype=np.int64)
        parts: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]] = []
        while True:
            player = self.node_player[node]
            live = np.flatnonzero(player != TERMINAL_NODE)
            if live.size == 0:
                break
            u = rng.random((batch,))[live]
            at = node[live]
            mine = player[live] == seat[live]  # never at chance nodes
            node[live], slot = self.sampler.move(at, u, cdf, np.where(mine, learner[live], opponent[live]))
            parts.append((live[mine], self.node_infoset[at[mine]], slot[mine]))
        returns = self.utility[self.sampler.terminal_index[node], seat]
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

    def population(self, probs: NDArray[np.float64]) -> Population:
        """The members' mixed strategies as a symmetric population of the game."""
        return Population.symmetric(list(np.asarray(probs[:, 0, :], dtype=np.float64)))

    def payoffs(self, probs: NDArray[np.float64]) -> NDArray[np.float64]:
        """``U [K, K]``: member ``i``'s payoff against ``j``, averaged over the two seats (exact)."""
        return seat_average(meta_game_entries(self.game, self.population(probs), executor="inprocess"))

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


def seat_average(meta: MetaGame) -> NDArray[np.float64]:
    """``U [K, K]`` of a symmetric two-seat meta-game: ``(u_0(i, j) + u_1(j, i)) / 2``."""
    return 0.5 * (meta.payoffs[0] + meta.payoffs[1].T)


def sampled_payoffs(
    arena: Arena, probs: NDArray[np.float64], episodes: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Seat-averaged ``U``, its standard error and episode counts ``[K, K]`` of an arena's tables.

    See :func:`sampled_matrix`.
    """
    return sampled_matrix(arena.game, arena.population(probs), episodes, seed)


def sampled_matrix(
    game: Any, population: Population, episodes: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Seat-averaged ``U``, its standard error and episode counts ``[K, K]`` from seeded matches.

    Every pair ``i < j`` of the symmetric ``population`` plays ``ceil(episodes / 2)`` episodes in
    each seating through the population backend; the diagonal (0 in a symmetric zero-sum game) is
    not played.
    """
    k = len(population.members[0])
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    out = np.zeros((k, k))
    stderr = np.zeros((k, k))
    counts = np.zeros((k, k), dtype=np.int64)
    if not pairs:
        return out, stderr, counts
    half = -(-int(episodes) // 2)
    profiles = pairs + [(j, i) for i, j in pairs]
    meta = meta_game_entries(
        game, population, episodes=half, seed=seed, profiles=profiles, executor="inprocess", progress=False
    )
    value = seat_average(meta)
    error = 0.5 * np.sqrt(meta.stderr[0] ** 2 + meta.stderr[1].T ** 2)
    for i, j in pairs:
        out[i, j], out[j, i] = value[i, j], -value[i, j]
        stderr[i, j] = stderr[j, i] = error[i, j]
        counts[i, j] = counts[j, i] = 2 * half
    return out, stderr, counts


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
