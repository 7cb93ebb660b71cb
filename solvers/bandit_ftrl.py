"""Balanced FTRL and Adaptive FTRL: learning from trajectory (bandit) feedback in 2p0s games.

Fiegel, Ménard, Kozuno, Munos, Perchet & Valko 2023, "Adapting to game trees in zero-sum imperfect
information games" (ICML). Each iteration is one episode of self-play in which each player observes
only its own terminal reward: no counterfactual values, no traversal of unvisited branches. Both
methods run FTRL on each player's treeplex with a dilated-KL regularizer, implicit-exploration (IX)
loss estimates and per-infoset rates, updating the visited infosets only
(:mod:`gamesolve.kernels.bandit`). :class:`BalancedFTRL` knows the infoset tree and centers the
regularizer on the balanced policy (every trajectory endpoint equally likely, :class:`TreeplexGeometry`);
:class:`AdaptiveFTRL` starts from the uniform policy and learns the weights from importance-weighted
visit counts. ``eta`` and ``gamma`` multiply the theory's scale ``sqrt(iota / (H A_X T))``; the
defaults (1 and 0.1) came best or near best in a small grid on Kuhn and Leduc poker
(``experiments/reproduce_trajectory_feedback.py``).

What converges: the *average* profile, with high probability, not the last iterate. The paper's
sample complexity for an ``epsilon``-equilibrium is ``O~(H (A_X + B_Y) / epsilon^2)`` episodes for
Balanced FTRL (matching its lower bound) and ``O~(H^2 (A_X + B_Y) / epsilon^2)`` for Adaptive FTRL,
i.e. exploitability ``O~(1/sqrt(T))``. An episode costs ``O(path length)``; a seeded run is
reproducible and a resumed run bit-identical.

>>> import gamesolve
>>> from gamesolve.solvers.bandit_ftrl import BalancedFTRL
>>> kuhn = gamesolve.load_game("kuhn")
>>> result = gamesolve.solve(kuhn, BalancedFTRL(), iterations=20_000, progress=False)
>>> result.nash_conv < 0.5
True
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules
from gamesolve.compiled import CompiledGame
from gamesolve.kernels.bandit import EpisodeSetup, average_plan, ftrl_episodes
from gamesolve.kernels.mccfr import max_depth
from gamesolve.policy import TabularPolicy
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.common import (
    check_extensive_form,
    prepare_extensive_form,
    require_two_player_zero_sum,
)
from gamesolve.spec import GameSpec
from gamesolve.validation import check_int, check_real

__all__ = ["AdaptiveFTRL", "BalancedFTRL", "TreeplexGeometry", "treeplex_geometry"]

log = logging.getLogger(__name__)


class TreeplexGeometry:
    """Balanced quantities of both players' infoset trees (Fiegel et al. 2023, Balanced FTRL).

    Subtree sizes ``A(x, a) = 1 + sum_{x' below (x, a)} A(x')`` and ``A(x) = sum_a A(x, a)``; the
    balanced policy ``mu*(a | x) = A(x, a) / A(x)``; the balanced transition ``p*(x' | x, a) = A(x') /
    A(x, a)`` (``A(x_1) / A_X`` at a root), so that ``mu*_{1:}(x, a) p*_{1:}(x) = A(x, a) / A_X``.

    Attributes:
        global_seq: ``[I]`` int64, global sequence id of each infoset's slot 0.
        parent_global: ``[I]`` int64, global id of the parent sequence, ``-1`` for the empty one.
        subtree: ``[I, A]`` float64, ``A(x, a)`` (0 on illegal slots).
        infoset_size: ``[I]`` float64, ``A(x)``.
        total_actions: ``[P]`` float64, ``A_X`` of each player.
        horizon: ``[P]`` int64, each player's largest number of own decisions on a trajectory.
        balanced_policy: ``[I, A]`` float64, ``mu*(a | x)``.
        balanced_plan: ``[I, A]`` float64, ``mu*_{1:}(x, a)``.
        balanced_transition: ``[I]`` float64, ``p*_{1:}(x)``.
    """

    def __init__(self, game: CompiledGame) -> None:
        n_inf, width = game.num_infosets, game.max_actions
        offset = game.sequence_offset  # [P]
        player = game.infoset_player
        num = game.infoset_num_actions
        self.global_seq = (offset[player] + game.infoset_first_seq).astype(np.int64)  # [I]
        parent = game.infoset_parent_seq.astype(np.int64)
        self.parent_global = np.where(parent > 0, offset[player] + parent, -1).astype(np.int64)  # [I]
        n_seq = int(game.num_sequences.sum())
        seq_size = np.zeros(n_seq)  # [S] A(sequence); the empty sequences accumulate A_X
        for x in range(n_inf):
            seq_size[self.global_seq[x] : self.global_seq[x] + num[x]] = 1.0
        infoset_size = np.zeros(n_inf)  # [I]
        for x in range(n_inf - 1, -1, -1):  # children have larger ids: bottom-up
            g = self.global_seq[x]
            infoset_size[x] = seq_size[g : g + num[x]].sum()
            up = self.parent_global[x] if self.parent_global[x] >= 0 else offset[player[x]]
            seq_size[up] += infoset_size[x]
        self.infoset_size = infoset_size
        self.total_actions = seq_size[offset].copy()  # [P]
        mask = game.legal_mask
        cols = np.arange(width)
        gather = np.minimum(self.global_seq[:, None] + cols[None, :], n_seq - 1)
        self.subtree = np.where(mask, seq_size[gather], 0.0)  # [I, A]
        self.balanced_policy = self.subtree / infoset_size[:, None]  # [I, A]
        seq_plan = np.ones(n_seq)  # [S] mu*_{1:}
        seq_depth = np.zeros(n_seq, dtype=np.int64)  # [S] own decisions to reach the sequence
        transition = np.zeros(n_inf)  # [I]
        for x in range(n_inf):  # parents first
            g, pg = self.global_seq[x], self.parent_global[x]
            above = seq_plan[pg] if pg >= 0 else 1.0
            seq_plan[g : g + num[x]] = above * self.balanced_policy[x, : num[x]]
            seq_depth[g : g + num[x]] = (seq_depth[pg] if pg >= 0 else 0) + 1
            transition[x] = infoset_size[x] / (self.total_actions[player[x]] * above)
        self.balanced_plan = np.where(mask, seq_plan[gather], 0.0)  # [I, A]
        self.balanced_transition = transition
        spans = [(int(offset[p]), int(offset[p] + game.num_sequences[p])) for p in range(game.num_players)]
        self.horizon = np.array([int(seq_depth[a:b].max()) for a, b in spans], dtype=np.int64)  # [P]


def treeplex_geometry(game: CompiledGame) -> TreeplexGeometry:
    """The balanced policy, transition and subtree sizes of ``game`` (computed once per game)."""
    cached = getattr(game, "_bandit_geometry", None)
    if isinstance(cached, TreeplexGeometry):
        return cached
    geometry = TreeplexGeometry(game)
    object.__setattr__(game, "_bandit_geometry", geometry)
    return geometry


class _TrajectoryFTRL(IterativeSolver):
    """The shared core: state layout, door checks, one kernel; subclasses only pick the rates."""

    name = ""
    adaptive: ClassVar[bool] = False
    output = Iterate.AVERAGE
    track_iterates = True

    def __init__(self, eta: float = 1.0, gamma: float = 0.1, *, horizon_episodes: int | None = None) -> None:
        self.eta = check_real("eta", eta, minimum=0.0, min_inclusive=False)
        self.gamma = check_real("gamma", gamma, minimum=0.0, min_inclusive=False)
        self.horizon_episodes = (
            None if horizon_episodes is None else check_int("horizon_episodes", horizon_episodes, minimum=1)
        )

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {"eta": self.eta, "gamma": self.gamma, "horizon_episodes": self.horizon_episodes}

    def prepare(self, game: Any) -> CompiledGame:
        """The compiled form of an extensive-form game."""
        return prepare_extensive_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum (or constant-sum) extensive-form games only."""
        check_extensive_form(self.name, spec)
        require_two_player_zero_sum(self.name, spec)

    def scales(self, game: CompiledGame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``[P]`` theory scales ``c sqrt(iota / (H A_X))`` of eta and gamma for each player."""
        geo = treeplex_geometry(game)
        total = geo.total_actions
        iota = np.maximum(1.0, np.log(np.maximum(total, 1.0)))
        base = np.sqrt(iota / (np.maximum(geo.horizon, 1) * np.maximum(total, 1.0)))
        return self.eta * base, self.gamma * base

    def reference_policy(self, game: CompiledGame) -> NDArray[np.float64]:
        """``[I, A]`` the regularizer's center and first iterate."""
        if self.adaptive:
            return game.legal_mask / game.infoset_num_actions[:, None]
        return treeplex_geometry(game).balanced_policy

    #: What a resumed state must satisfy before any kernel sees it.
    state_rules = StateRules(counter="t", nonnegative=frozenset({"rate", "count_x", "count_xa"}))

    def init(self, game: CompiledGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Logits at the reference policy, no visits, and the sampling key drawn from ``rng``."""
        ref = self.reference_policy(game)
        with np.errstate(divide="ignore"):
            logits = np.where(game.legal_mask, np.log(ref), 0.0)  # [I, A]
        state: dict[str, NDArray[Any]] = {
            "t": np.zeros((), dtype=np.int64),  # episodes done
            "key": np.asarray(rng.integers(0, 2**63, dtype=np.int64), dtype=np.uint64),  # 0-d hash key
            "logits": logits,  # [I, A] normalized log-policy of the current iterate
            "rate": np.zeros(game.num_infosets),  # [I] eta_x of the logits (0: never visited)
            "cum": np.zeros(int(game.num_sequences.sum())),  # [S] lazily synced cumulative plan
        }
        if self.adaptive:
            state["count_x"] = np.ones(game.num_infosets)  # [I] P(x)
            state["count_xa"] = np.ones((game.num_infosets, game.max_actions))  # [I, A] P(x, a)
        return state

    def step(self, game: CompiledGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` episodes in one kernel call."""
        if iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {iterations}")
        scratch = self._scratch(game, state)
        t = int(state["t"]) + 1
        state["t"] = np.asarray(t + iterations - 1, dtype=np.int64)
        empty_i = scratch["empty_i"]
        empty_ia = scratch["empty_ia"]
        ftrl_episodes(
            game.tree,
            scratch["setup"],
            np.uint64(state["key"]),
            t,
            iterations,
            state["logits"],
            state["rate"],
            state["cum"],
            state["count_x"] if self.adaptive else empty_i,
            state["count_xa"] if self.adaptive else empty_ia,
            scratch["path_infoset"],
            scratch["path_slot"],
            scratch["path_plan"],
        )

    def policy(self, game: CompiledGame, state: dict[str, NDArray[Any]], which: Iterate) -> TabularPolicy:
        """The average sequence-form plan in behavior form (what converges), or the current iterate."""
        mask = game.legal_mask
        if which is Iterate.AVERAGE:
            geo = treeplex_geometry(game)
            probs = np.zeros((game.num_infosets, game.max_actions))  # [I, A]
            average_plan(
                game.infoset_num_actions,
                geo.global_seq,
                geo.parent_global,
                state["logits"],
                int(state["t"]),
                state["cum"].copy(),
                probs,
            )
        else:
            probs = np.where(mask, np.exp(np.where(mask, state["logits"], 0.0)), 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
        return TabularPolicy(game, probs, validate=False)

    def _scratch(self, game: CompiledGame, state: dict[str, NDArray[Any]]) -> dict[str, Any]:
        """Per-run constants and work arrays, kept in ``state`` under ``_`` names (never saved)."""
        cached = state.get("_bandit")
        if isinstance(cached, dict):
            return cached
        geo = treeplex_geometry(game)
        depth = max(1, max_depth(game.node_parent))
        eta_scale, gamma_scale = self.scales(game)
        with np.errstate(divide="ignore"):
            ref_logits = np.where(game.legal_mask, np.log(self.reference_policy(game)), 0.0)
        scratch: dict[str, Any] = {
            "setup": EpisodeSetup(
                node_terminal=game.node_terminal,  # [N]
                global_seq=geo.global_seq,  # [I]
                parent_global=geo.parent_global,  # [I]
                utility_min=game.terminal_utility.min(axis=0).astype(np.float64),  # [P]
                utility_max=game.terminal_utility.max(axis=0).astype(np.float64),  # [P]
                eta_scale=eta_scale,  # [P]
                gamma_scale=gamma_scale,  # [P]
                inv_pstar=1.0 / geo.balanced_transition,  # [I]
                ref_logits=ref_logits,  # [I, A]
                adaptive=bool(self.adaptive),
                horizon=int(self.horizon_episodes or 0),
            ),
            "empty_i": np.zeros(0),
            "empty_ia": np.zeros((0, 0)),
            "path_infoset": np.zeros(depth, dtype=np.int32),  # [D]
            "path_slot": np.zeros(depth, dtype=np.int32),  # [D]
            "path_plan": np.zeros(depth),  # [D]
        }
        state["_bandit"] = scratch  # type: ignore[assignment]
        return scratch

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(eta={self.eta}, gamma={self.gamma}, "
            f"horizon_episodes={self.horizon_episodes})"
        )


class BalancedFTRL(_TrajectoryFTRL):
    """Balanced FTRL with trajectory feedback (Fiegel et al., ICML 2023).

    One sampled episode per iteration; FTRL on each treeplex with the balanced dilated-KL
    regularizer (centered on the balanced policy ``mu*``, weighted by ``p*_{1:}``), IX loss
    estimates and updates along the trajectory only. The first iterate is ``mu*``. The *average*
    profile converges (exploitability ``O~(sqrt(H (A_X + B_Y) / T))`` with high probability, which
    matches the lower bound); the last iterate need not. See the module docstring.

    Args:
        eta: Multiplier of the theoretical learning rate ``sqrt(iota / (H A_X T))`` (finite, > 0).
        gamma: Multiplier of the theoretical implicit exploration (same scale; finite, > 0;
            default 0.1).
        horizon_episodes: The number of episodes ``T`` of the run (an integer >= 1), for the
            fixed-rate tuning; ``None`` (default) uses the anytime rates with ``T`` replaced by the
            episode number.

    Raises:
        InvalidArgumentError: ``eta`` or ``gamma`` is not a finite positive number, or
            ``horizon_episodes`` is not a positive integer.
    """

    name = "balanced-ftrl"
    adaptive = False


class AdaptiveFTRL(_TrajectoryFTRL):
    """Adaptive FTRL with trajectory feedback (Fiegel et al., ICML 2023).

    Balanced FTRL without knowing the infoset tree: the regularizer is centered on the uniform
    policy (the first iterate) and the balanced transition ``p*_{1:}(x)`` is replaced by the
    importance-weighted estimate ``P(x) / T_eff``, refreshed at every visit (logits rescaled toward
    uniform when the rate changes). The *average* profile converges (exploitability
    ``O~(sqrt(H^2 (A_X + B_Y) / T))`` with high probability); the last iterate need not.

    Args:
        eta: Multiplier of the theoretical learning rate (see :class:`BalancedFTRL`).
        gamma: Multiplier of the theoretical implicit exploration (default 0.1).
        horizon_episodes: The number of episodes ``T`` of the run (the authors' tuning
            ``eta_x = eta T / P(x)``); ``None`` (default) uses ``T_eff = t``, the episode number.

    Raises:
        InvalidArgumentError: As for :class:`BalancedFTRL`.
    """

    name = "adaptive-ftrl"
    adaptive = True


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
BALANCED_FTRL_ENTRY = SolverEntry(
    "balanced-ftrl",
    BalancedFTRL,
    "Balanced FTRL, trajectory feedback (average; 2p0s extensive form)",
)
ADAPTIVE_FTRL_ENTRY = SolverEntry(
    "adaptive-ftrl",
    AdaptiveFTRL,
    "Adaptive FTRL, trajectory feedback (average; 2p0s extensive form)",
)
