"""Where PSRO's populations live: the members of compiled and normal-form games, and their best responses.

A backend keeps every player's population as arrays in the solver state (``pop{p}``: ``[K_p, I, A]``
behavior policies on a compiled game, ``[K_p, A_p]`` mixed strategies on a normal-form game) and
answers what the solver asks of them: a best response to a meta-strategy with its value and the
meta-strategy's own value, the maximin mixture of the anytime meta-solver, and the output mixture
(realization-equivalent on compiled games, :mod:`gamesolve.mixture`). The meta-game between the
members comes from the population backend (:func:`gamesolve.population.meta_game_entries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CompiledGame
from gamesolve.kernels.evaluation import best_responses
from gamesolve.mixture import mix_profile_from_plans
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.population.backend import chance_at_terminals, terminal_reach
from gamesolve.solvers.psro.meta_solvers import WEIGHT_FLOOR, MetaStrategy, maximin_mixture, normalized

__all__ = ["Backend", "ExtensiveBackend", "NormalFormBackend", "State", "joint_opponents", "make_backend"]

#: A PSRO solver state: named arrays (populations, meta-game, meta-strategies, counters).
State = dict[str, NDArray[Any]]


def _opponent_weights(
    own: Sequence[NDArray[np.float64]], sigma: MetaStrategy, player: int, conditional: int | None
) -> NDArray[np.float64]:
    """``[X]``: the opponents' weight of every outcome ``x`` (terminal or own action profile).

    ``own[j]`` is ``[K_j, X]``: how much member ``k`` of player ``j`` contributes to outcome
    ``x`` (its own reach of a terminal, or its probability of an action). The result is
    ``sum_k sigma(k_{-i} | ...) prod_{j != i} own[j][k_j, x]``: against the product of marginals,
    the marginal of the joint over ``-i``, or the joint conditioned on ``k_i = conditional``.
    """
    n_players = len(own)
    if sigma.joint is None:
        out = np.ones(own[0].shape[1])
        for j in range(n_players):
            if j != player:
                out *= sigma.marginals[j] @ own[j]
        return out
    joint = sigma.joint
    if conditional is not None:
        mass = float(sigma.marginals[player][conditional])
        joint = np.take(joint, conditional, axis=player) / mass
    else:
        joint = joint.sum(axis=player)
    letters = "abcdefghijklmnopqrstuvwxy"
    others = [j for j in range(n_players) if j != player]
    spec = letters[: len(others)]
    operands: list[Any] = [joint]
    terms = [spec]
    for pos, j in enumerate(others):
        operands.append(own[j])
        terms.append(f"{spec[pos]}z")
    return np.asarray(np.einsum(",".join(terms) + "->z", *operands, optimize=True))


class ExtensiveBackend:
    """Populations of tabular policies on a compiled game."""

    def __init__(self, game: CompiledGame) -> None:
        self.game = game
        self.num_players = game.num_players
        self.chance = chance_at_terminals(game)  # [T]

    # -- members
    def initial(self, how: str, rng: np.random.Generator, player: int) -> NDArray[np.float64]:
        """``[I, A]``: a first member (``"first"``, ``"uniform"`` or seeded ``"random"``); every row set."""
        del player  # a member holds every row; only the player's own rows are read
        game = self.game
        if how == "uniform":
            return np.asarray(TabularPolicy.uniform(game).probs, dtype=np.float64).copy()
        if how == "random":
            return np.asarray(TabularPolicy.random(game, rng=rng).probs, dtype=np.float64).copy()
        return np.asarray(TabularPolicy.first_action(game).probs, dtype=np.float64).copy()

    def uniform(self) -> NDArray[np.float64]:
        """``[I, A]`` the uniform policy (the rows of players a member does not set)."""
        return np.asarray(self.game.legal_mask / self.game.infoset_num_actions[:, None], dtype=np.float64)

    # -- scratch: members' own plans and their reach of every terminal
    def reach(self, state: State, player: int) -> NDArray[np.float64]:
        """``[K_p, T]`` every member's own reach of every terminal (cached in ``state``)."""
        pop = state[f"pop{player}"]
        plans = state.get(f"_plans{player}")
        known = 0 if plans is None else plans.shape[0]
        if known < pop.shape[0]:
            fresh, fresh_reach = terminal_reach(self.game, list(pop[known:]), player)
            if plans is None:
                state[f"_plans{player}"], state[f"_reach{player}"] = fresh, fresh_reach
            else:
                state[f"_plans{player}"] = np.concatenate([plans, fresh])
                state[f"_reach{player}"] = np.concatenate([state[f"_reach{player}"], fresh_reach])
        return state[f"_reach{player}"]

    def plans(self, state: State, player: int) -> NDArray[np.float64]:
        """``[K_p, S_p]`` every member's realization plan (cached in ``state``)."""
        self.reach(state, player)
        return state[f"_plans{player}"]

    # -- best responses
    def best_response(
        self, state: State, player: int, sigma: MetaStrategy, conditional: int | None
    ) -> tuple[NDArray[np.float64], float, float]:
        """``(member [I, A], best-response value, value of sigma's own play)`` for ``player``."""
        game = self.game
        reach = [self.reach(state, p) for p in range(self.num_players)]
        weight = self.chance * _opponent_weights(reach, sigma, player, conditional)  # [T]
        own = (
            reach[player][conditional] if conditional is not None else sigma.marginals[player] @ reach[player]
        )
        on_value = float((weight * own) @ game.terminal_utility[:, player])
        fake = np.ones((game.num_nodes, self.num_players + 1))
        fake[game.terminal_node, self.num_players] = weight
        total = int(game.num_sequences.sum())
        values, br_values = np.empty(self.num_players), np.empty(self.num_players)
        slots = np.empty(game.num_infosets, dtype=np.int32)
        best_responses(game.tree, fake, np.empty(total), np.empty(total), values, br_values, slots)
        member = self.uniform()
        rows = game.infosets_of(player)
        member[rows] = 0.0
        member[rows, slots[rows]] = 1.0
        return member, float(br_values[player]), on_value

    def value_against(
        self, state: State, player: int, member: NDArray[np.float64], sigma: MetaStrategy
    ) -> float:
        """Exact value of ``member`` (``player``'s rows) against ``sigma_{-player}``."""
        reach = [self.reach(state, p) for p in range(self.num_players)]
        weight = self.chance * _opponent_weights(reach, sigma, player, None)
        own = terminal_reach(self.game, [member], player)[1][0]
        return float((weight * own) @ self.game.terminal_utility[:, player])

    def maximin(self, state: State, player: int) -> NDArray[np.float64]:
        """``[K_p]``: the mixture of ``player``'s members with the best worst case (two players)."""
        from gamesolve.sequence_form import constraint_matrices, payoff_matrices

        a0, a1 = payoff_matrices(self.game)  # [S_0, S_1] each
        plans = self.plans(state, player)  # [K_p, S_p]
        gains = np.asarray((a0.T @ plans.T).T) if player == 0 else np.asarray((a1 @ plans.T).T)
        e_mat, e_vec = constraint_matrices(self.game, 1 - player)
        return maximin_mixture(gains, e_mat, e_vec)

    # -- output
    def mixture(self, state: State, marginals: Sequence[NDArray[np.float64]]) -> TabularPolicy:
        """The members mixed by ``marginals`` as one behavior policy (realization-equivalent)."""
        plans = [self.plans(state, p) for p in range(self.num_players)]
        return mix_profile_from_plans(self.game, plans, list(marginals))

    def latest(self, state: State) -> TabularPolicy:
        """The profile of every player's newest member."""
        probs = self.uniform()
        for p in range(self.num_players):
            rows = self.game.infosets_of(p)
            probs[rows] = state[f"pop{p}"][-1][rows]
        return TabularPolicy(self.game, probs, validate=False)

    def as_policy(self, member: NDArray[np.float64]) -> TabularPolicy:
        """The member as a :class:`~gamesolve.policy.TabularPolicy` (no copy)."""
        return TabularPolicy(self.game, member, validate=False)

    def member_of(self, policy: TabularPolicy, player: int) -> NDArray[np.float64]:
        """``[I, A]``: ``player``'s rows of ``policy`` as a member (uniform elsewhere)."""
        member = self.uniform()
        rows = self.game.infosets_of(player)
        member[rows] = policy.probs[rows]
        return member


class NormalFormBackend:
    """Populations of mixed strategies (probability vectors) on a normal-form game."""

    def __init__(self, game: TensorGame) -> None:
        self.game = game
        self.num_players = game.num_players

    def initial(self, how: str, rng: np.random.Generator, player: int) -> NDArray[np.float64]:
        """``[A_player]``: a first member (``"first"`` action, ``"uniform"`` or seeded ``"random"``)."""
        n = self.game.num_actions[player]
        if how == "uniform":
            return np.full(n, 1.0 / n)
        if how == "random":
            return np.asarray(rng.dirichlet(np.ones(n)), dtype=np.float64)
        return np.eye(n)[0]

    def reach(self, state: State, player: int) -> NDArray[np.float64]:
        """``[K_p, A_p]``: every member's weight on each own action (the population itself)."""
        return state[f"pop{player}"]

    def _action_values(self, state: State, player: int, sigma: MetaStrategy, conditional: int | None) -> Any:
        """``[A_player]`` payoff of each pure action against ``sigma``'s opponents."""
        n_players = self.num_players
        pops = [state[f"pop{p}"] for p in range(n_players)]
        if sigma.joint is None:
            mixed = [sigma.marginals[p] @ pops[p] for p in range(n_players)]
            return self.game.action_values(mixed, player)
        # joint: weight of every opponents' action profile, then contract player's payoff tensor
        tensor = self.game.payoffs[player]  # [A_0, ..., A_{P-1}]
        joint = sigma.joint
        if conditional is not None:
            joint = np.take(joint, conditional, axis=player) / float(sigma.marginals[player][conditional])
        else:
            joint = joint.sum(axis=player)
        letters = "abcdefghijklm"[:n_players]
        others = [j for j in range(n_players) if j != player]
        members = "NOPQRSTUVWXYZ"[: len(others)]
        terms = [letters, members] + [f"{members[pos]}{letters[j]}" for pos, j in enumerate(others)]
        return np.einsum(",".join(terms) + f"->{letters[player]}", tensor, joint, *[pops[j] for j in others])

    def best_response(
        self, state: State, player: int, sigma: MetaStrategy, conditional: int | None
    ) -> tuple[NDArray[np.float64], float, float]:
        """``(pure best action [A_p], its value, value of sigma's own play)`` for ``player``."""
        q = np.asarray(self._action_values(state, player, sigma, conditional), dtype=np.float64)
        pop = state[f"pop{player}"]
        own = pop[conditional] if conditional is not None else sigma.marginals[player] @ pop
        best = int(np.argmax(q))
        return np.eye(q.shape[0])[best], float(q[best]), float(q @ own)

    def value_against(
        self, state: State, player: int, member: NDArray[np.float64], sigma: MetaStrategy
    ) -> float:
        """Exact value of the mixed strategy ``member`` against ``sigma_{-player}``."""
        return float(np.asarray(self._action_values(state, player, sigma, None)) @ member)

    def maximin(self, state: State, player: int) -> NDArray[np.float64]:
        """``[K_p]``: the mixture of ``player``'s members with the best worst case (two players)."""
        pop = state[f"pop{player}"]
        gains = pop @ self.game.payoffs[0] if player == 0 else pop @ self.game.payoffs[1].T
        n = gains.shape[1]
        return maximin_mixture(gains, np.ones((1, n)), np.ones(1))

    def mixture(self, state: State, marginals: Sequence[NDArray[np.float64]]) -> MixedProfile:
        """Every player's members averaged by ``marginals``."""
        parts = [normalized(marginals[p] @ state[f"pop{p}"]) for p in range(self.num_players)]
        return MixedProfile.of(self.game, parts)

    def latest(self, state: State) -> MixedProfile:
        """The profile of every player's newest member."""
        return MixedProfile.of(self.game, [state[f"pop{p}"][-1] for p in range(self.num_players)])

    def as_policy(self, member: NDArray[np.float64]) -> NDArray[np.float64]:
        """A read-only copy of the member."""
        out = member.copy()
        out.setflags(write=False)
        return out


#: Either backend (the solver treats them alike).
Backend = ExtensiveBackend | NormalFormBackend


def make_backend(game: Any) -> Backend:
    """The backend of a prepared game: normal-form for a :class:`TensorGame`, else extensive-form."""
    if isinstance(game, TensorGame):
        return NormalFormBackend(game)
    return ExtensiveBackend(game)


def joint_opponents(
    backend: ExtensiveBackend, state: State, sigma: MetaStrategy, player: int
) -> tuple[list[TabularPolicy], NDArray[np.float64]]:
    """The support of the others' joint distribution as whole profiles with their weights."""
    assert sigma.joint is not None
    joint = sigma.joint.sum(axis=player)
    others = [j for j in range(backend.num_players) if j != player]
    profiles, weights = [], []
    for index in zip(*np.nonzero(joint > WEIGHT_FLOOR), strict=True):
        probs = backend.uniform()
        for pos, j in enumerate(others):
            rows = backend.game.infosets_of(j)
            probs[rows] = state[f"pop{j}"][index[pos]][rows]
        profiles.append(TabularPolicy(backend.game, probs, validate=False))
        weights.append(float(joint[index]))
    return profiles, np.asarray(weights) / sum(weights)
