"""First-order methods on the treeplex with the dilated entropy (two-player zero-sum games).

The game is the bilinear saddle point ``max_x min_y x^T A y`` over the players' sequence-form
polytopes (treeplexes). The methods are mirror-descent-type algorithms whose distance-generating
function is the dilated entropy ``psi(x) = sum_I w_I x(p(I)) sum_a b(a|I) ln b(a|I)``, so every prox
step is a closed-form bottom-up pass of local softmaxes (Hoda, Gilpin, Peña & Sandholm 2010,
"Smoothing techniques for computing Nash equilibria of sequential games"; kernels in
:mod:`gamesolve.kernels.dilated`). An iteration costs one pass over the nonzeros of the sparse
sequence-form payoff matrices plus passes over the infosets.

* :class:`DilatedOMD` [``omd``, ``ftrl``, ``omwu``]: online mirror descent / FTRL (identical
  iterates for a constant step) and the optimistic version (Farina, Kroer & Sandholm 2019). Plain:
  the **average** converges at ``O(1/sqrt(T))``; optimistic: the average at ``O(1/T)`` and the
  **last iterate** converges (Lee, Kroer & Luo 2021; linearly under a unique equilibrium).
* :class:`DilatedMMD` [``mmd``]: magnetic mirror descent (Sokota et al. 2023, ICLR): the **last iterate**
  converges linearly to the logit QRE of the reduced normal form at temperature ``alpha``;
  ``DilatedMMD(anneal=1)`` targets a Nash equilibrium in the last iterate.
* :class:`DilatedMirrorProx` [``mirror-prox``, ``extragradient``]: mirror-prox (Nemirovski 2004)
  with the dilated entropy (Kroer, Waugh, Kılınç-Karzan & Sandholm 2020, "Faster algorithms for
  extensive-form game solving via improved smoothing functions"): the **average of the half
  iterates** converges at ``O(1/T)``, and its last iterate converges too.

Default steps are in units of ``1 / (M d)`` (``M = max |u|``, ``d`` the treeplex depth), tuned on
Kuhn and Leduc poker and documented on each class; the infoset weights
(:func:`~gamesolve.solvers.treeplex.infoset_weights`) matter as much as the step. The treeplex
helpers (weights, depth, the regularized gap) live in :mod:`gamesolve.solvers.treeplex`.

>>> import gamesolve
>>> from gamesolve.solvers.dilated import DilatedOMD
>>> kuhn = gamesolve.load_game("kuhn")
>>> result = gamesolve.solve(kuhn, DilatedOMD(optimistic=True), iterations=500, progress=False)
>>> result.exploitability < 1e-4
True
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules, check_distributions
from gamesolve.compiled import CompiledGame
from gamesolve.errors import InvalidArgumentError, UnsupportedGame
from gamesolve.kernels.dilated import (
    MMDRule,
    OMDRule,
    SparsePayoffs,
    Workspace,
    behavior_from_sequence,
    mirror_prox_iterations,
    mmd_iterations,
    omd_iterations,
)
from gamesolve.kernels.tree import TreeArrays
from gamesolve.policy import TabularPolicy
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.common import (
    check_extensive_form,
    prepare_extensive_form,
    require_two_player_zero_sum,
)
from gamesolve.solvers.treeplex import (
    payoff_scale,
    treeplex_depth,
    treeplex_setup,
    typical_payoff,
    weights_config,
)
from gamesolve.spec import GameSpec
from gamesolve.validation import check_bool, check_choice, check_int, check_real

__all__ = [
    "DilatedMMD",
    "DilatedMirrorProx",
    "DilatedOMD",
]

log = logging.getLogger(__name__)

State = dict[str, NDArray[Any]]


def _positive(name: str, value: float | None) -> float | None:
    """``None``, or ``value`` as a finite float > 0 (else InvalidArgumentError naming ``name``)."""
    if value is None:
        return None
    return check_real(name, value, minimum=0.0, min_inclusive=False)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    return check_choice(name, value, allowed)


# ------------------------------------------------------------------------------------- base


class _Dilated(IterativeSolver):
    """Shared plumbing: door checks, uniform start, sequence-form average, scratch arrays."""

    name = "dilated"
    output = Iterate.CURRENT
    track_iterates = True
    weights: str | list[float] = "uniform"

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        out = {k: v for k, v in vars(self).items() if not k.startswith("_") and k not in ("name", "output")}
        out["output"] = self.output.value
        return out

    def prepare(self, game: Any) -> CompiledGame:
        """The compiled form of an extensive-form game."""
        return prepare_extensive_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum (or constant-sum) extensive-form games only."""
        check_extensive_form(self.name, spec)
        try:
            require_two_player_zero_sum(self.name, spec)
        except UnsupportedGame as exc:
            raise UnsupportedGame(
                f"{exc}. First-order methods on the treeplex solve two-player zero-sum games only; "
                'use CFR ("cfr", "cfr+"), whose average converges to a coarse correlated '
                "equilibrium in other games"
            ) from None

    #: What a resumed state must satisfy before any kernel sees it.
    state_rules = StateRules(
        counter="t",
        nonnegative=frozenset({"probs", "half_probs", "avg_seq"}),
        probabilities=frozenset({"probs", "half_probs"}),
    )

    def check_state(self, game: CompiledGame, state: State) -> None:
        """The current strategies are distributions over the legal actions of every infoset."""
        for key in ("probs", "half_probs"):
            if key in state:
                check_distributions(key, state[key], game.legal_mask)

    def init(self, game: CompiledGame, rng: np.random.Generator) -> State:
        """Uniform behavior strategies, an empty average."""
        del rng  # deterministic
        m = game.infoset_num_actions[:, None].astype(np.float64)
        mask = game.legal_mask
        n_seq = int(game.num_sequences.sum())
        return {
            "t": np.zeros((), dtype=np.int64),
            "log_probs": np.where(mask, -np.log(m), 0.0),
            "probs": np.where(mask, 1.0 / m, 0.0),
            "loss": np.zeros(n_seq),
            "avg_seq": np.zeros(n_seq),
        }

    def warm_up(self, game: CompiledGame) -> None:
        """Game-derived setup, cached per game, before a run's clock starts.

        The sequence-form payoff matrices, the infoset weights and the step size depend on the game
        alone (seconds on games with millions of histories), like compiling it.
        """
        treeplex_setup(game, self.weights)
        self.step_size(game)

    @abc.abstractmethod
    def step_size(self, game: CompiledGame) -> float:
        """The base step used on ``game`` (each method defines its own)."""

    def _scratch(self, game: CompiledGame, state: State) -> State:
        """Per-run work arrays, kept in ``state`` under ``_`` names (never checkpointed)."""
        if "_log_start" not in state:  # written last: the scratch is complete
            n_seq = int(game.num_sequences.sum())
            state["_weights"] = treeplex_setup(game, self.weights)[1]
            state["_below"] = np.empty(n_seq)
            state["_seq"] = np.empty(n_seq)
            state["_target"] = np.empty(n_seq)
            state["_below_played"] = np.empty(n_seq)
            state["_root_values"] = np.empty(2)
            m = game.infoset_num_actions[:, None].astype(np.float64)
            state["_log_start"] = np.where(game.legal_mask, -np.log(m), 0.0)
        return state

    def _game_arrays(
        self, game: CompiledGame, scratch: State
    ) -> tuple[SparsePayoffs, TreeArrays, NDArray[np.float64]]:
        """The three game arguments that lead every driver kernel's signature."""
        return treeplex_setup(game, self.weights)[0], game.tree, scratch["_weights"]

    @staticmethod
    def _workspace(scratch: State) -> Workspace:
        """The drivers' scratch arrays (allocated by :meth:`_scratch`), bundled."""
        return Workspace(
            scratch["_below"],
            scratch["_seq"],
            scratch["_target"],
            scratch["_below_played"],
            scratch["_root_values"],
        )

    def policy(self, game: CompiledGame, state: State, which: Iterate) -> TabularPolicy:
        """The reach-weighted average (converted from sequence form) or the current iterate."""
        if which is Iterate.AVERAGE and float(state["avg_seq"].sum()) > 0:
            probs = np.zeros((game.num_infosets, game.max_actions))
            behavior_from_sequence(game.tree, state["avg_seq"], probs)
            return TabularPolicy(game, probs, validate=False)
        return TabularPolicy(game, state["probs"], validate=False)

    def _default_unit(self, game: CompiledGame) -> float:
        """``1 / (M d)``: the step-size unit.

        ``M = max |u|`` and ``d`` is the treeplex depth (the most decisions of one player on a path):
        the sequence-form operator is ``M``-Lipschitz from ``l1`` to ``l_inf`` on each treeplex, and
        the dilated entropy with unit weights is, informally, ``1/d`` strongly convex per unit of
        ``l1`` mass along a path. Theory-safe steps (Kroer et al. 2020) are much smaller.
        """
        return 1.0 / (payoff_scale(game) * treeplex_depth(game))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


# -------------------------------------------------------------------------------- OMD / FTRL


class DilatedOMD(_Dilated):
    """Online mirror descent / FTRL with the dilated entropy, plain or optimistic.

    Each player runs, on its treeplex, against the sequence-form loss ``l_t`` of the opponent's
    current strategy:

    * OMD (``lazy=False``): ``x_{t+1} = argmin eta <l_t, x> + D_psi(x, x_t)``, i.e. the local
      softmax with ``b_ref = b_t`` (Farina, Kroer & Sandholm 2019).
    * FTRL (``lazy=True``): ``x_{t+1} = argmin eta <L_t, x> + D_psi(x, x_1)`` with ``L_t`` the
      cumulative loss and ``x_1`` uniform (``b_ref = b_1``). For a constant step the two produce
      identical iterates (the dilated entropy is Legendre on the treeplex interior).
    * Optimistic (``optimistic=True``; OMWU / optimistic FTRL): the last loss is added once more as
      a prediction, ``argmin eta <L_t + l_t, x> + D_psi(x, x_1)``; the greedy form keeps a
      secondary sequence ``base_t = prox(base_{t-1}, l_t)`` and plays ``prox(base_t, l_t)``.

    Convergence (two-player zero-sum):

    * Plain: each player's regret is ``O(sqrt(T))`` with ``eta_t = eta / sqrt(t)`` (Hoda et al.
      2010; Kroer et al. 2020 for the strong-convexity constants), so the **average** (reach-
      weighted, sequence form) has exploitability ``O(1/sqrt(T))``. The last iterate cycles.
    * Optimistic: RVU bounds give ``O(1)`` total regret, so the **average** converges at ``O(1/T)``
      (Farina, Kroer & Sandholm 2019, "Optimistic regret minimization for extensive-form games via
      dilated distance-generating functions"), and the **last iterate** converges to a Nash
      equilibrium, linearly when the equilibrium is unique (Lee, Kroer & Luo 2021, "Last-iterate
      convergence in extensive-form games", DOMWU, Theorem 5). The last iterate is the output.

    Measured last iterate of the optimistic default on Leduc, every 50k iterations: 2.7e-2,
    4.4e-3, 6.4e-3, 2.0e-3, 1.4e-3, 8.4e-4 (300k, about a minute), 6.5e-4, 5.7e-4: it converges,
    slowly and not monotonically. For a faster last iterate use the annealed optimistic MMD
    preset, ``DilatedMMD(anneal=1)`` (< 1e-3 after 16k iterations on Leduc). On Kuhn the
    optimistic default reaches 5e-6 in 200 iterations. Plain defaults after 2,000 iterations
    (average): Kuhn 9e-3, Leduc 0.13, ``liars_dice(dice_sides=3)`` 3.7e-3.

    Args:
        eta: Step size (finite, > 0). Default with the ``"chance"`` weights: ``2 / E|u|`` optimistic, ``5 /
            E|u|`` plain (``E|u|`` = mean absolute payoff under chance and uniform play; Leduc
            3.36, Kuhn 1.375); with other weights ``10 / (M d)`` optimistic and ``1 / (M d)``
            plain (``M = max |u|``, ``d`` = treeplex depth; Leduc ``M = 13``, ``d = 4``).
        lazy: FTRL form (cumulative loss from the uniform start) instead of OMD steps.
        optimistic: Optimistic (predictive) version.
        schedule: ``"constant"`` (default for optimistic) or ``"sqrt"`` (``eta_t = eta /
            sqrt(t)``, default for plain). FTRL and OMD coincide only for ``"constant"``.
        alternating: Player 1 responds to player 0's new strategy within an iteration.
        weights: Dilated-entropy weights (see :func:`~gamesolve.solvers.treeplex.infoset_weights`).
            Default ``"chance"``.
        output: ``"last"`` (default for optimistic) or ``"average"`` (default for plain).
    """

    def __init__(
        self,
        eta: float | None = None,
        *,
        lazy: bool = False,
        optimistic: bool = False,
        schedule: str | None = None,
        alternating: bool = False,
        weights: str | Sequence[float] | None = None,
        output: str | None = None,
    ) -> None:
        self.eta = _positive("eta", eta)
        self.lazy = lazy = check_bool("lazy", lazy)
        self.optimistic = optimistic = check_bool("optimistic", optimistic)
        self.schedule = _choice(
            "schedule", schedule or ("constant" if optimistic else "sqrt"), ("constant", "sqrt")
        )
        self.alternating = check_bool("alternating", alternating)
        self.weights = weights_config(weights if weights is not None else "chance")
        out = _choice("output", output or ("last" if optimistic else "average"), ("average", "last"))
        self.output = Iterate.CURRENT if out == "last" else Iterate.AVERAGE
        self.name = "omwu" if optimistic else ("ftrl" if lazy else "omd")

    def step_size(self, game: CompiledGame) -> float:
        """The base step ``eta`` used on ``game``."""
        if self.eta is not None:
            return self.eta
        if self.weights == "chance":
            return (2.0 if self.optimistic else 5.0) / typical_payoff(game)
        return (10.0 if self.optimistic else 1.0) * self._default_unit(game)

    def init(self, game: CompiledGame, rng: np.random.Generator) -> State:
        """Uniform start (also the FTRL center), zero cumulative loss."""
        state = super().init(game, rng)
        state["cum_loss"] = np.zeros_like(state["loss"])
        state["log_base"] = state["log_probs"].copy()
        return state

    def step(self, game: CompiledGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` iterations in one kernel call."""
        scratch = self._scratch(game, state)
        t = int(state["t"]) + 1
        rule = OMDRule(
            eta=float(self.step_size(game)),
            sqrt_schedule=self.schedule == "sqrt",
            lazy=bool(self.lazy),
            optimistic=bool(self.optimistic),
            alternating=bool(self.alternating),
        )
        omd_iterations(
            *self._game_arrays(game, scratch),
            rule,
            t,
            iterations,
            scratch["_log_start"],
            state["log_probs"],
            state["probs"],
            state["log_base"],
            state["cum_loss"],
            state["loss"],
            state["avg_seq"],
            self._workspace(scratch),
        )
        state["t"] = np.asarray(t + iterations - 1, dtype=np.int64)


# ------------------------------------------------------------------------------------- MMD


class DilatedMMD(_Dilated):
    """Magnetic mirror descent with the dilated entropy (Sokota et al., ICLR 2023), plain or optimistic.

    ``x_{t+1} = argmin eta <l_t, x> + eta alpha_t R(x) + D_psi(x, x_t)`` per player, with
    ``R = psi`` (magnet uniform over the reduced pure strategies) or ``R = D_psi(., rho)`` for a
    behavior magnet ``rho``. It is the local softmax with ``b_ref = b_t``, exponents ``1 / (1 + eta
    alpha)`` on ``b_t`` and ``eta alpha / (1 + eta alpha)`` on ``rho``, and step ``eta / (1 + eta
    alpha)`` (Sokota et al. 2023, as OpenSpiel's ``mmd_dilated`` computes it). The optimistic version
    (``optimistic=True``; regularized dilated OMWU, cf. Liu, Ozdaglar, Yu & Zhang 2023, "The power
    of regularization in solving extensive-form games") keeps a secondary sequence ``base_t =
    mmd(base_{t-1}, l_t)`` and plays ``mmd(base_t, l_t)``, as :class:`DilatedOMD` does.

    Convergence:

    * Fixed ``alpha`` (default): with ``eta <= alpha / L^2`` the **last iterate** converges
      linearly, ``D_psi(z*, z_{t+1}) <= (1 + eta alpha)^-t D_psi(z*, z_1)`` (Sokota et al. 2023,
      Theorem 3.4), to the equilibrium of the regularized game: with uniform weights and the
      ``psi`` magnet this is the logit QRE of the reduced normal form at temperature ``alpha``
      (Ling, Fang & Kolter 2018), whose exploitability is ``O(alpha)``.
    * **Annealed, the Nash preset** (``anneal=1``, i.e. ``alpha_t = alpha / t``): with the
      defaults below (optimistic, ``"chance"`` weights, uniform behavior magnet, ``eta = 2 /
      E|u|``, ``alpha = 5 / eta``) the **last iterate** tracks the regularized equilibrium at
      temperature ``alpha_t`` and its exploitability falls like ``O(alpha_t) = O(1/t)``
      (empirical; no rate is proven). Measured: Leduc < 1e-3 after 16k iterations (7.9e-4 at
      20k, ~4 s), Leduc with 4 ranks 1.1e-3 at 20k, Liar's dice (1 die, 3 sides) 2.8e-4 at 20k,
      Kuhn 9e-4 at 1k. Optimism is what makes the small temperatures reachable: the plain
      update needs ``eta <= alpha_t / L^2`` (it is mirror descent, whose last iterate spirals
      out, once ``eta alpha_t`` is small), so plain MMD with an annealed ``alpha`` and a fixed
      step goes unstable (observed on Leduc for every ``eta`` we tried); the optimistic update
      is stable at a fixed ``eta ~ 1 / L``. Slower annealing (``anneal=0.5`` or ``0.75``) is
      safe but proportionally slower (Leduc: ``0.75`` gave 6.8e-3 at 40k).
    * Moving magnet (``magnet_rate = lambda``: ``rho <- normalize(rho^(1-lambda) b^lambda)``
      after every ``magnet_every``-th iteration; ``lambda = 1`` with ``magnet_every = K`` is the
      slingshot / proximal-point scheme of Abe et al. 2023 and Perolat et al. 2021): converges
      empirically, but slowly; on Leduc it stayed above 2e-2 at 40k iterations in every setting
      we tried, so annealing is the recommended route to a Nash equilibrium.

    Args:
        alpha: Temperature in payoff units (finite, > 0; the initial one when annealing). Default ``0.05
            M`` for a fixed temperature (``M = max |u|``), ``0.25 M`` with a moving magnet, ``5 /
            eta`` when annealing (tracking needs ``eta alpha >> anneal``).
        eta: Step size (finite, > 0). Default ``alpha / M^2`` for a fixed temperature (OpenSpiel's default);
            ``10 / (M d)`` with a moving magnet (``d`` = treeplex depth); ``2 / E|u|`` when
            annealing (``E|u|`` = mean absolute payoff under chance and uniform play: Kuhn 1.375,
            Leduc 3.36), which with the ``"chance"`` weights was stable on every game we tried
            (Kuhn became unstable at ``eta = 2``, i.e. ``2.75 / E|u|``).
        anneal: Exponent ``p`` in ``[0, 1]`` of ``alpha_t = alpha / t^p`` (``0``: fixed; ``True``
            means 1).
        optimistic: Optimistic version. Default: ``True`` when annealing, else ``False``.
        magnet_rate: Moving-magnet rate ``lambda`` in ``[0, 1]`` (0: fixed magnet).
        magnet_every: Move the magnet after every ``magnet_every``-th iteration (an integer >= 1;
            default 1).
        magnet: ``None`` (default: ``psi`` itself, or the uniform behavior magnet when annealing
            or with a moving magnet), ``"psi"`` or ``"uniform"`` (uniform behavior magnet
            ``D_psi(., uniform)``; differs from ``psi`` by a linear term that is not constant on
            the treeplex).
        alternating: Player 1 responds to player 0's new strategy within an iteration.
        weights: Dilated-entropy weights (see :func:`~gamesolve.solvers.treeplex.infoset_weights`).
            Default ``"chance"`` when annealing, else ``"uniform"``.
        output: ``"last"`` (default) or ``"average"``.
    """

    def __init__(
        self,
        alpha: float | None = None,
        eta: float | None = None,
        *,
        anneal: float | bool = 0.0,
        optimistic: bool | None = None,
        magnet_rate: float = 0.0,
        magnet_every: int = 1,
        magnet: str | None = None,
        alternating: bool = False,
        weights: str | Sequence[float] | None = None,
        output: str = "last",
    ) -> None:
        self.alpha = _positive("alpha", alpha)
        self.eta = _positive("eta", eta)
        # anneal: True/False are legal by design (the exponents 1 and 0)
        power = (
            float(anneal) if isinstance(anneal, bool) else check_real("anneal", anneal, minimum=0, maximum=1)
        )
        self.anneal = power
        self.optimistic = power > 0 if optimistic is None else check_bool("optimistic", optimistic)
        rate = check_real("magnet_rate", magnet_rate, minimum=0.0, maximum=1.0)
        self.magnet_rate = rate
        self.magnet_every = check_int("magnet_every", magnet_every, minimum=1)
        if magnet is not None:
            magnet = check_choice("magnet", magnet, ("psi", "uniform"))
        else:
            magnet = "uniform" if (power > 0 or rate > 0) else "psi"
        if magnet == "psi" and rate > 0:
            raise InvalidArgumentError("a moving magnet needs a behavior magnet (magnet='uniform')")
        self.magnet = magnet
        self.alternating = check_bool("alternating", alternating)
        self.weights = weights_config(
            weights if weights is not None else ("chance" if power > 0 else "uniform")
        )
        out = _choice("output", output, ("average", "last"))
        self.output = Iterate.CURRENT if out == "last" else Iterate.AVERAGE
        self.name = "mmd"

    def temperature(self, game: CompiledGame) -> float:
        """The (initial) temperature ``alpha`` used on ``game``."""
        if self.alpha is not None:
            return self.alpha
        if self.anneal > 0:
            return 5.0 / self.step_size(game)
        return (0.25 if self.magnet_rate > 0 else 0.05) * payoff_scale(game)

    def step_size(self, game: CompiledGame) -> float:
        """The step ``eta`` used on ``game``."""
        if self.eta is not None:
            return self.eta
        if self.anneal > 0:
            return 2.0 / typical_payoff(game)
        if self.magnet_rate > 0:
            return 10.0 * self._default_unit(game)
        return self.temperature(game) / payoff_scale(game) ** 2

    def init(self, game: CompiledGame, rng: np.random.Generator) -> State:
        """Uniform start; the magnet ``psi`` (zeros) or the uniform behavior strategy."""
        state = super().init(game, rng)
        uniform = self.magnet == "uniform"
        state["log_magnet"] = state["log_probs"].copy() if uniform else np.zeros_like(state["log_probs"])
        state["log_base"] = state["log_probs"].copy()
        return state

    def step(self, game: CompiledGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` iterations in one kernel call."""
        scratch = self._scratch(game, state)
        t = int(state["t"]) + 1
        rule = MMDRule(
            eta=float(self.step_size(game)),
            alpha=float(self.temperature(game)),
            alpha_power=float(self.anneal),
            magnet_rate=float(self.magnet_rate),
            magnet_every=int(self.magnet_every),
            optimistic=bool(self.optimistic),
            alternating=bool(self.alternating),
        )
        mmd_iterations(
            *self._game_arrays(game, scratch),
            rule,
            t,
            iterations,
            state["log_magnet"],
            state["log_probs"],
            state["probs"],
            state["log_base"],
            state["loss"],
            state["avg_seq"],
            self._workspace(scratch),
        )
        state["t"] = np.asarray(t + iterations - 1, dtype=np.int64)


# ------------------------------------------------------------------------------ mirror-prox


class DilatedMirrorProx(_Dilated):
    """Mirror-prox / extragradient with the dilated entropy, simultaneous for both players.

    ``z_{t+1/2} = argmin eta <F(z_t), z> + D_psi(z, z_t)``, ``z_{t+1} = argmin eta <F(z_{t+1/2}),
    z> + D_psi(z, z_t)``, with ``F`` the sequence-form losses of both players (two tree passes per
    iteration).

    Convergence (two-player zero-sum): with ``eta <= 1 / L`` (``L`` the Lipschitz constant of ``F``
    relative to the strong convexity of ``psi``) the **average of the half iterates** has duality
    gap ``<= Omega / (eta T)``, i.e. ``O(1/T)`` (Nemirovski 2004; on the treeplex with dilated
    DGFs: Hoda et al. 2010, Kroer et al. 2020, which also give the weights making ``psi`` strongly
    convex). Read as dilated extragradient (``output="last"``), the **last iterate** ``z_t``
    converges to a Nash equilibrium as well (Lee, Kroer & Luo 2021 prove it for the optimistic
    variant; linear in practice when the equilibrium is unique), at no proven rate here.

    Measured with the defaults after 2,000 iterations: mirror-prox's average Kuhn 1.2e-4, Leduc
    2.4e-3, ``leduc(ranks=4)`` 2.5e-3, ``liars_dice(dice_sides=3)`` 8.1e-4, halving with every
    doubling of the iterations; extragradient's last iterate Kuhn 7e-18, Leduc 0.15,
    ``leduc(ranks=4)`` 8e-2, ``liars_dice(dice_sides=3)`` 3e-17.

    Args:
        eta: Step size (finite, > 0); default with the ``"chance"`` weights ``5 / E|u|`` for the average
            (mirror-prox) and ``2 / E|u|`` for the last iterate (extragradient; at ``5 / E|u|``
            it cycles on Kuhn), ``E|u|`` = mean absolute payoff under chance and uniform play;
            ``10 / (M d)`` with other weights.
        weights: Dilated-entropy weights (see :func:`~gamesolve.solvers.treeplex.infoset_weights`);
            default ``"chance"``.
        output: ``"average"`` (name ``"mirror-prox"``) or ``"last"`` (name ``"extragradient"``).
    """

    def __init__(
        self,
        eta: float | None = None,
        *,
        weights: str | Sequence[float] = "chance",
        output: str = "average",
    ) -> None:
        self.eta = _positive("eta", eta)
        self.weights = weights_config(weights)
        out = _choice("output", output, ("average", "last"))
        self.output = Iterate.CURRENT if out == "last" else Iterate.AVERAGE
        self.name = "mirror-prox" if out == "average" else "extragradient"

    def step_size(self, game: CompiledGame) -> float:
        """The step ``eta`` used on ``game``."""
        if self.eta is not None:
            return self.eta
        if self.weights == "chance":  # the last iterate wants the smaller step (Kuhn cycles at 5)
            return (5.0 if self.output is Iterate.AVERAGE else 2.0) / typical_payoff(game)
        return 10.0 * self._default_unit(game)

    def init(self, game: CompiledGame, rng: np.random.Generator) -> State:
        """Uniform start; the half iterate starts equal to it."""
        state = super().init(game, rng)
        state["half_log_probs"] = state["log_probs"].copy()
        state["half_probs"] = state["probs"].copy()
        return state

    def step(self, game: CompiledGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` iterations in one kernel call."""
        scratch = self._scratch(game, state)
        mirror_prox_iterations(
            *self._game_arrays(game, scratch),
            iterations,
            self.step_size(game),
            state["log_probs"],
            state["probs"],
            state["half_log_probs"],
            state["half_probs"],
            state["loss"],
            state["avg_seq"],
            self._workspace(scratch),
        )
        state["t"] = np.asarray(int(state["t"]) + iterations, dtype=np.int64)


# The extensive-form sides of registry names shared with normal-form methods (declared in
# gamesolve.solvers.dynamics, whose entries the group gamesolve.solvers publishes).
OMD_EXTENSIVE_ENTRY = SolverEntry("omd", DilatedOMD, "dilated-entropy online mirror descent (average)")
FTRL_EXTENSIVE_ENTRY = SolverEntry("ftrl", DilatedOMD, "dilated-entropy FTRL (average)", (("lazy", True),))
OMWU_EXTENSIVE_ENTRY = SolverEntry(
    "omwu",
    DilatedOMD,
    "dilated optimistic OMD (last iterate)",
    (("optimistic", True),),
)
EXTRAGRADIENT_EXTENSIVE_ENTRY = SolverEntry(
    "extragradient",
    DilatedMirrorProx,
    "dilated-entropy extragradient (last iterate)",
    (("output", "last"),),
)
MIRROR_PROX_EXTENSIVE_ENTRY = SolverEntry(
    "mirror-prox",
    DilatedMirrorProx,
    "dilated-entropy mirror-prox (average)",
)
MMD_EXTENSIVE_ENTRY = SolverEntry(
    "mmd",
    DilatedMMD,
    "dilated MMD, annealed temperature (last iterate -> Nash; anneal=0 for a QRE)",
    (("anneal", 1),),
)
