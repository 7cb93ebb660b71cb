"""Counterfactual regret minimization: CFR, CFR+, linear CFR, DCFR and predictive CFR+.

All five are configurations of one numba traversal (:mod:`gamesolve.kernels.cfr`): a regret rule
(how cumulative regrets are updated and matched) and an averaging schedule (the weight of
iteration ``t`` in the average strategy), with alternating (default) or simultaneous updates.

Convergence: the *average* strategy converges; the current iterate need not. In two-player
zero-sum games the average's exploitability is ``O(1/sqrt(T))`` for every variant (Zinkevich et al.
2007, "Regret Minimization in Games with Incomplete Information", Theorem 4), and CFR+, DCFR and
PCFR+ are usually much faster in practice. With more than two players, or in general-sum games,
the average converges to the set of coarse correlated equilibria, not to a Nash equilibrium.

References:
    * CFR+: Tammelin 2014, "Solving Large Imperfect Information Games Using CFR+".
    * Linear CFR and DCFR(alpha, beta, gamma): Brown & Sandholm 2019, "Solving Imperfect-Information
      Games via Discounted Regret Minimization", Section 3.
    * PCFR+: Farina, Kroer & Sandholm 2021, "Faster Game Solving via Predictive Blackwell
      Approachability: Connecting Regret Matching and Mirror Descent".

>>> import gamesolve
>>> result = gamesolve.solve(gamesolve.load_game("kuhn"), "cfr+", iterations=200, progress=False)
>>> result.exploitability < 1e-3
True
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules, check_distributions
from gamesolve.compiled import CompiledGame
from gamesolve.errors import InvalidArgumentError
from gamesolve.kernels import layers as _layers
from gamesolve.kernels.cfr import UpdateRule, cfr_iteration
from gamesolve.kernels.layers import SERIAL, kernel_threads
from gamesolve.policy import TabularPolicy
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.common import check_extensive_form, prepare_extensive_form
from gamesolve.spec import GameSpec
from gamesolve.validation import check_bool, check_int, check_real

__all__ = [
    "CFR",
    "LINEAR",
    "PREDICTIVE_RM_PLUS",
    "QUADRATIC",
    "RM",
    "RM_PLUS",
    "UNIFORM",
    "VARIANTS",
    "Averaging",
    "RegretRule",
    "average_strategy",
    "discounted",
]

log = logging.getLogger(__name__)

#: Largest exponent accepted for alpha, beta and gamma. The kernel computes ``t ** exponent``,
#: which must stay finite for any feasible iteration count (``t ** 20`` overflows only past
#: ``t = 1e15``); above 20 a discount factor ``t^a / (t^a + 1)`` is 1 to within 1e-6 from ``t = 2``,
#: and the average is the last iterate to within rounding, so larger values change nothing.
MAX_EXPONENT = 20.0


def _alpha(value: Any) -> float:
    return check_real("alpha", value, minimum=0.0, maximum=MAX_EXPONENT)


def _beta(value: Any) -> float:
    return check_real("beta", value, maximum=MAX_EXPONENT)


def _gamma(value: Any) -> float:
    return check_real("gamma", value, minimum=0.0, maximum=MAX_EXPONENT)


@dataclass(frozen=True)
class RegretRule:
    """How cumulative regrets are updated and turned into a strategy.

    Attributes:
        floor_zero: Clip cumulative regrets at 0 after every update (regret matching+).
        alpha: DCFR exponent for positive regrets (scale by ``t^alpha/(t^alpha+1)``), a finite
            number in ``[0, 20]``; ``None`` disables discounting. A negative ``alpha`` would make
            the factor tend to 0, forgetting all accumulated positive regret (the method then
            follows the last regret and stalls: 0.095 on Kuhn after 500 iterations at
            ``alpha = -1``, against 4e-4 at 1.5); Brown & Sandholm (2019) study ``alpha >= 0``.
        beta: DCFR exponent for negative regrets, a finite number <= 20 of either sign (negative
            values forget negative regrets faster, towards regret matching+'s reset).
        predictive: Play ``[R + r_last]^+`` (the last instantaneous regret as prediction).

    Raises:
        InvalidArgumentError: A value outside these ranges (NaN, infinities, strings included).
    """

    floor_zero: bool = False
    alpha: float | None = None
    beta: float | None = None
    predictive: bool = False

    def __post_init__(self) -> None:
        check_bool("floor_zero", self.floor_zero)
        check_bool("predictive", self.predictive)
        if (self.alpha is None) != (self.beta is None):
            raise InvalidArgumentError("RegretRule: alpha and beta must be given together")
        if self.alpha is not None:
            object.__setattr__(self, "alpha", _alpha(self.alpha))
            object.__setattr__(self, "beta", _beta(self.beta))


@dataclass(frozen=True)
class Averaging:
    """Average-strategy schedule: iteration ``t`` has weight ``t ** gamma``, ``gamma`` in ``[0, 20]``."""

    gamma: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", _gamma(self.gamma))


#: Regret matching (vanilla CFR).
RM = RegretRule()
#: Regret matching+ (CFR+).
RM_PLUS = RegretRule(floor_zero=True)
#: Predictive regret matching+ (PCFR+).
PREDICTIVE_RM_PLUS = RegretRule(floor_zero=True, predictive=True)
#: Uniform, linear and quadratic averaging.
UNIFORM = Averaging(0.0)
LINEAR = Averaging(1.0)
QUADRATIC = Averaging(2.0)


def discounted(alpha: float = 1.5, beta: float = 0.0) -> RegretRule:
    """The DCFR regret rule (Brown & Sandholm 2019); ``discounted(1, 1)`` is linear CFR."""
    return RegretRule(alpha=_alpha(alpha), beta=_beta(beta))


#: The named configurations: variant -> (regret rule, averaging).
VARIANTS: dict[str, tuple[RegretRule, Averaging]] = {
    "cfr": (RM, UNIFORM),
    "cfr+": (RM_PLUS, LINEAR),
    "lcfr": (discounted(1.0, 1.0), LINEAR),
    "dcfr": (discounted(1.5, 0.0), QUADRATIC),
    "pcfr+": (PREDICTIVE_RM_PLUS, QUADRATIC),
}


def average_strategy(game: CompiledGame, cumulative: NDArray[np.float64]) -> NDArray[np.float64]:
    """Normalize a cumulative ``[I, A]`` strategy by row; rows with no mass become uniform."""
    totals = cumulative.sum(axis=1, keepdims=True)
    uniform = game.legal_mask / game.infoset_num_actions[:, None]
    safe = np.where(totals > 0, totals, 1.0)
    return np.where(totals > 0, cumulative / safe, uniform)


class CFR(IterativeSolver):
    """Full-traversal CFR with a configurable regret rule and averaging schedule.

    Args:
        variant: A preset from :data:`VARIANTS` (``"cfr"``, ``"cfr+"``, ``"lcfr"``, ``"dcfr"``,
            ``"pcfr+"``) supplying the defaults.
        rule: Override the preset's regret rule.
        averaging: Override the preset's averaging schedule.
        alpha, beta, gamma: Shorthand overrides of the DCFR exponents and the averaging exponent:
            ``alpha`` finite in ``[0, 20]``, ``beta`` finite and <= 20 (either sign), ``gamma``
            finite in ``[0, 20]`` (see :class:`RegretRule` for why). Given ``alpha`` or ``beta``
            alone, the other defaults to the preset's value, or 1 for presets without discounting.
        alternating: Alternating updates (default, as in OpenSpiel): player 0 updates, then
            player 1 traverses against player 0's new strategy, and so on. ``False`` gives
            simultaneous updates.
        threads: Cores for the run's numba kernels: the iterations on games of at least
            :data:`~gamesolve.kernels.layers.CFR_LAYERED_MIN_NODES` nodes and the exact
            evaluations from :data:`~gamesolve.kernels.layers.LAYERED_MIN_NODES` (smaller games
            run on one). ``None`` (default) uses numba's count, every core unless set lower. The
            numbers do not depend on it: a game's iterates are bit-identical for every thread
            count (:mod:`gamesolve.kernels.layers`).

    Works for any number of players and utility kind; see the module docstring for what converges.

    Raises:
        InvalidArgumentError: An unknown variant or an option outside its range (NaN, an
            infinity, a string where a number belongs), naming the option.
    """

    output = Iterate.AVERAGE

    def __init__(
        self,
        variant: str = "cfr",
        *,
        rule: RegretRule | None = None,
        averaging: Averaging | None = None,
        alpha: float | None = None,
        beta: float | None = None,
        gamma: float | None = None,
        alternating: bool = True,
        threads: int | None = None,
    ) -> None:
        if not isinstance(variant, str) or variant.lower() not in VARIANTS:
            raise InvalidArgumentError(f"unknown CFR variant {variant!r}; known: {', '.join(VARIANTS)}")
        key = variant.lower()
        if rule is not None and not isinstance(rule, RegretRule):
            raise InvalidArgumentError(f"rule must be a RegretRule, got {type(rule).__name__}")
        if averaging is not None and not isinstance(averaging, Averaging):
            raise InvalidArgumentError(f"averaging must be an Averaging, got {type(averaging).__name__}")
        alpha = None if alpha is None else _alpha(alpha)
        beta = None if beta is None else _beta(beta)
        gamma = None if gamma is None else _gamma(gamma)
        base_rule, base_avg = VARIANTS[key]
        rule = rule or base_rule
        if alpha is not None or beta is not None:
            rule = RegretRule(
                floor_zero=rule.floor_zero,
                alpha=alpha if alpha is not None else (rule.alpha if rule.alpha is not None else 1.0),
                beta=beta if beta is not None else (rule.beta if rule.beta is not None else 1.0),
                predictive=rule.predictive,
            )
        averaging = averaging or base_avg
        if gamma is not None:
            averaging = Averaging(gamma)
        self.variant = key
        self.rule = rule
        self.averaging = averaging
        self.alternating = check_bool("alternating", alternating)
        self.threads = None if threads is None else check_int("threads", threads, minimum=1)
        custom = (rule, averaging) != (base_rule, base_avg) or not alternating
        self.name = key if not custom else f"{key}(custom)"
        # A resumed state: counter t, non-negative averages, RM+ regrets floored at zero.
        floored = {"regrets"} if self.rule.floor_zero else set()
        self.state_rules = StateRules(
            counter="t",
            nonnegative=frozenset({"avg", "probs", *floored}),
            probabilities=frozenset({"probs"}),
        )

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {
            "variant": self.variant,
            "rule": asdict(self.rule),
            "averaging_gamma": self.averaging.gamma,
            "alternating": self.alternating,
        }

    def prepare(self, game: Any) -> CompiledGame:
        """The compiled form of an extensive-form game."""
        return prepare_extensive_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Any extensive-form game (any number of players, any utility)."""
        check_extensive_form(self.name, spec)

    def check_state(self, game: CompiledGame, state: dict[str, NDArray[Any]]) -> None:
        """The current strategy is a distribution over the legal actions of every infoset."""
        check_distributions("probs", state["probs"], game.legal_mask)

    def init(self, game: CompiledGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Uniform current strategy, zero regrets and zero cumulative strategy."""
        del rng  # deterministic
        shape = (game.num_infosets, game.max_actions)
        return {
            "t": np.zeros((), dtype=np.int64),
            "probs": game.legal_mask / game.infoset_num_actions[:, None],
            "regrets": np.zeros(shape),
            "last_regret": np.zeros(shape),
            "avg": np.zeros(shape),
        }

    def warm_up(self, game: CompiledGame) -> None:
        """Compile the iteration kernel before the clock starts (numba caches it on disk afterwards).

        A call that runs zero iterations on one-entry arrays of the run's types: the first run on a
        machine spends its compilation here, outside the run's wall time and budget.
        """
        one = np.zeros((1, 1))
        flat = np.zeros(1)
        cfr_iteration(
            game.tree, self.update_rule(), 1, 0, one, one, one, one, one, flat, flat, flat, flat,
            _cfr_layers(game), np.zeros((0, 1, 1)),
        )  # fmt: skip

    def update_rule(self) -> UpdateRule:
        """The kernel's scalars for this variant (:class:`~gamesolve.kernels.cfr.UpdateRule`)."""
        rule = self.rule
        return UpdateRule(
            alternating=bool(self.alternating),
            floor_zero=bool(rule.floor_zero),
            discount=rule.alpha is not None,
            alpha=float(rule.alpha or 0.0),
            beta=float(rule.beta or 0.0),
            gamma=float(self.averaging.gamma),
            predictive=bool(rule.predictive),
        )

    def step(self, game: CompiledGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` iterations (every player updates once per iteration) in one kernel call."""
        scratch = _scratch(game, state)
        t = int(state["t"]) + 1
        with kernel_threads(self.threads):
            cfr_iteration(
                game.tree,
                self.update_rule(),
                t,
                iterations,
                state["probs"],
                state["regrets"],
                state["last_regret"],
                state["avg"],
                scratch["_cfv"],
                scratch["_opp"],
                scratch["_value"],
                scratch["_seq_reach"],
                scratch["_root_values"],
                _cfr_layers(game),
                scratch["_part"],
            )
        state["t"] = np.asarray(t + iterations - 1, dtype=np.int64)

    def policy(self, game: CompiledGame, state: dict[str, NDArray[Any]], which: Iterate) -> TabularPolicy:
        """The average strategy (what converges) or the current iterate."""
        if which is Iterate.AVERAGE:
            return TabularPolicy(game, average_strategy(game, state["avg"]), validate=False)
        return TabularPolicy(game, state["probs"], validate=False)

    def __repr__(self) -> str:
        return (
            f"CFR({self.variant!r}, rule={self.rule}, averaging={self.averaging}, "
            f"alternating={self.alternating})"
        )


def _cfr_layers(game: CompiledGame) -> _layers.TreeLayers:
    """The traversal's layers (``SERIAL`` below ``CFR_LAYERED_MIN_NODES`` nodes; kernels.layers)."""
    return _layers.layers_of(game, min_nodes=_layers.CFR_LAYERED_MIN_NODES) or SERIAL


def _scratch(game: CompiledGame, state: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """Per-run work arrays, kept in ``state`` under ``_`` names (never checkpointed)."""
    if "_cfv" not in state:
        state["_cfv"] = np.zeros((game.num_infosets, game.max_actions))
        state["_opp"] = np.empty(game.num_nodes)
        state["_value"] = np.empty(game.num_nodes)
        state["_seq_reach"] = np.empty(int(game.num_sequences.max()))
        state["_root_values"] = np.empty(game.num_players)
        state["_part"] = np.empty((_cfr_layers(game).chunks, game.num_infosets, game.max_actions))
    return state


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
CFR_ENTRY = SolverEntry("cfr", CFR, "vanilla CFR (regret matching, uniform average)", (("variant", "cfr"),))
CFR_PLUS_ENTRY = SolverEntry("cfr+", CFR, "CFR+ (regret matching+, linear average)", (("variant", "cfr+"),))
LCFR_ENTRY = SolverEntry("lcfr", CFR, "linear CFR (DCFR with alpha=beta=gamma=1)", (("variant", "lcfr"),))
DCFR_ENTRY = SolverEntry("dcfr", CFR, "discounted CFR (alpha=1.5, beta=0, gamma=2)", (("variant", "dcfr"),))
PCFR_PLUS_ENTRY = SolverEntry("pcfr+", CFR, "predictive CFR+ (quadratic average)", (("variant", "pcfr+"),))
