"""Lower bounds on NashConv / exploitability where the exact value is out of reach.

Any valid strategy ``sigma_i`` of player ``i`` gives ``u_i(sigma_i, pi_-i) - u_i(pi) <=
max_{pi_i'} u_i(pi_i', pi_-i) - u_i(pi)``, so the sum of these gains is at most NashConv
(:func:`gamesolve.nash_conv`). Two ways to find good ``sigma_i``, both returning an
:class:`ExploitabilityBound` of ``kind`` ``"lower bound"``:

* :func:`rl_exploitability_bound` (Timbers et al. 2022, "Approximate exploitability: learning a best
  response"): a torch DQN or PPO best response (:mod:`gamesolve.solvers.rl_oracles`) trained against
  the fixed policy, its value estimated from sampled episodes with a confidence interval.
* :func:`lbr_exploitability_bound`: local best response (Lisý & Bowling 2017, "Equilibrium
  approximation quality of current no-limit poker bots"), generalized to any compiled
  perfect-recall game and evaluated exactly, so its gain is a true bound, not an estimate.

Local best response. At every infoset ``I`` of player ``i`` LBR plays ``argmax_a Q(I, a)`` (ties to
the lowest slot), ``Q(I, a) = sum_{h in I} w(h) V_rollout(h a)``, where ``w(h)`` is the probability
of ``h`` under the others' policy and chance, and ``V_rollout(h a)`` is ``i``'s exact expected
utility when ``i`` follows a fixed rollout policy after ``a`` and the others keep their actual
policy (the paper has both players check/call to the end): one action of look-ahead instead of a
whole subtree. The rollout is configurable:

* ``"call"`` (default, the paper's): the lowest legal slot that does not fold, where a fold is an
  action whose child is terminal with a payoff for the actor that is the same for every chance
  outcome (check or call in Kuhn and Leduc poker; the lowest slot in games without chance);
* ``"uniform"``: uniform over legal actions;
* an ``int``: that action id wherever it is legal, the ``"call"`` action elsewhere;
* a :class:`~gamesolve.policy.TabularPolicy`: its rows of player ``i``.

When each episode holds at most one decision of ``i`` (Kuhn's second player, a normal-form game)
the rollout never matters, LBR is a best response and the bound is tight.

>>> import gamesolve
>>> game = gamesolve.load_game("kuhn")
>>> bound = lbr_exploitability_bound(game, gamesolve.uniform_policy(game))
>>> bound.kind, bound.nash_conv <= gamesolve.nash_conv(game, gamesolve.uniform_policy(game)).nash_conv
('lower bound', True)
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CHANCE_NODE, TERMINAL_NODE, CompiledGame, as_compiled
from gamesolve.errors import InvalidArgumentError, InvalidPolicyError, UnsupportedGame
from gamesolve.evaluation import expected_values
from gamesolve.kernels.evaluation import forward_reach
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.registry import ORACLES_GROUP, plugin
from gamesolve.rl_env import ResponseEnv, normal_form_tree, sample_returns, tabular_actor
from gamesolve.validation import check_choice, check_int, check_real

__all__ = [
    "BACKENDS",
    "TABLE_MAX_INFOSETS",
    "ExploitabilityBound",
    "call_slots",
    "check_policy",
    "lbr_exploitability_bound",
    "local_best_response",
    "players_of",
    "rl_exploitability_bound",
]

log = logging.getLogger(__name__)

LOWER_BOUND = "lower bound"

#: The backends of :func:`rl_exploitability_bound`.
BACKENDS = ("auto", "table", "tensor")

#: ``backend="auto"`` picks the tensor backend above this many infosets of one player: the table
#: backend's observation features hold an ``[n, n]`` one-hot block per player (256 MiB at 8,192).
TABLE_MAX_INFOSETS = 8_192


@dataclass(frozen=True)
class ExploitabilityBound:
    """A LOWER BOUND on NashConv and exploitability of a profile: never read it as the exact value.

    ``gains[i]`` is the gain of one particular strategy of player ``i`` (an RL response or LBR)
    over ``i``'s own policy, and ``nash_conv`` their sum (for exactly evaluated bounds, the sum of
    ``max(0, gains[i])``: a best-response gain is never negative). The true NashConv (best
    responses) is at least the true value of this sum.

    Attributes:
        method: How the responses were found: ``"rl-br/dqn"``, ``"rl-br/ppo"`` (table backend),
            ``"rl-br/tensor-ppo"`` (tensor backend), ``"lbr/call"``, ...
        nash_conv: The bound on NashConv (an estimate when ``exact_evaluation`` is false).
        exploitability: ``nash_conv / num_players``.
        ci_low: Lower end of the confidence interval of ``nash_conv`` (equal to it when exact).
        ci_high: Upper end.
        confidence: Level of the interval (e.g. 0.95).
        gains: ``[P]`` per-player gains of the responses over the policy.
        gain_stderr: ``[P]`` standard errors of the gains (0 when exact).
        response_values: ``[P]`` value of each player's response against the others' policy.
        on_policy_values: ``[P]`` value of the profile itself.
        exact_evaluation: Whether the responses' values were computed exactly (LBR) rather than
            estimated from episodes (RL-BR). The bound is a bound either way.
        episodes: Evaluation episodes per player (0 when exact).
        steps: Training transitions per player (0 for LBR).
        seconds: Wall time.
        responses: Per player, the full profile with that player's rows replaced by its response
            (a :class:`~gamesolve.policy.TabularPolicy`; table backend).
        kind: Always ``"lower bound"``.
        networks: Per player, the trained response acting on observation tensors (a
            :class:`~gamesolve.vector_env.response.TensorResponse`; tensor backend).
    """

    method: str
    nash_conv: float
    exploitability: float
    ci_low: float
    ci_high: float
    confidence: float
    gains: tuple[float, ...]
    gain_stderr: tuple[float, ...]
    response_values: tuple[float, ...]
    on_policy_values: tuple[float, ...]
    exact_evaluation: bool
    episodes: int
    steps: int
    seconds: float
    responses: tuple[TabularPolicy, ...] = field(default=(), repr=False, compare=False)
    kind: str = LOWER_BOUND
    networks: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind != LOWER_BOUND:
            raise ValueError(f"an ExploitabilityBound is always a {LOWER_BOUND!r}, got kind={self.kind!r}")

    @property
    def num_players(self) -> int:
        """Number of players."""
        return len(self.gains)

    def __str__(self) -> str:
        level = f"{100 * self.confidence:g}%"
        ci = (
            "evaluated exactly"
            if self.exact_evaluation
            else f"{level} CI [{self.ci_low:.6g}, {self.ci_high:.6g}], {self.episodes} episodes per player"
        )
        return (
            f"NashConv >= {self.nash_conv:.6g} and exploitability >= {self.exploitability:.6g} "
            f"(a LOWER BOUND, not the exact value; method {self.method}, {ci})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (without the response policies)."""
        return {
            "kind": self.kind,
            "method": self.method,
            "nash_conv": self.nash_conv,
            "exploitability": self.exploitability,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "gains": list(self.gains),
            "gain_stderr": list(self.gain_stderr),
            "response_values": list(self.response_values),
            "on_policy_values": list(self.on_policy_values),
            "exact_evaluation": self.exact_evaluation,
            "episodes": self.episodes,
            "steps": self.steps,
            "seconds": self.seconds,
        }


# ------------------------------------------------------------------------------ inputs


def _game_and_policy(game: Any, policy: Any) -> tuple[CompiledGame, TabularPolicy]:
    """The compiled game and the profile as a TabularPolicy of it (errors in words)."""
    if isinstance(game, TensorGame):
        compiled = normal_form_tree(game)
        if isinstance(policy, TabularPolicy):
            return compiled, check_policy(compiled, policy)
        try:
            strategies = list(policy.strategies if isinstance(policy, MixedProfile) else policy)
        except TypeError:
            raise InvalidPolicyError(
                "policy must be a MixedProfile or one probability vector per player"
            ) from None
        if len(strategies) != 2:
            raise InvalidPolicyError(f"policy must hold 2 strategies, got {len(strategies)}")
        probs = np.zeros((2, compiled.max_actions))
        for p, s in enumerate(strategies):
            vec = np.asarray(s, dtype=np.float64)
            if vec.shape != (game.num_actions[p],):
                raise InvalidPolicyError(
                    f"player {p}'s strategy must have {game.num_actions[p]} entries, got shape {vec.shape}"
                )
            probs[p, : vec.size] = vec
        return compiled, TabularPolicy(compiled, probs)
    try:
        compiled = as_compiled(game)
    except UnsupportedGame:
        raise UnsupportedGame(
            "exploitability bounds need an extensive-form game (compiled or compilable) or a "
            f"two-player normal-form game, got {type(game).__name__}"
        ) from None
    if isinstance(policy, TabularPolicy):
        return compiled, check_policy(compiled, policy)
    tabulate = getattr(policy, "tabulate", None)
    if callable(tabulate):
        return compiled, check_policy(compiled, tabulate(compiled))
    try:
        arr = None if isinstance(policy, dict) else np.asarray(policy, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (compiled.num_infosets, compiled.max_actions):
        raise InvalidPolicyError(
            f"policy must be a TabularPolicy of {compiled.spec.name} or a "
            f"[{compiled.num_infosets}, {compiled.max_actions}] array"
        )
    return compiled, TabularPolicy(compiled, arr)


def check_policy(game: CompiledGame, policy: TabularPolicy) -> TabularPolicy:
    """``policy`` if it is a table of ``game`` (same infosets and actions), else InvalidPolicyError."""
    other = policy.game
    if other is not game and (
        other.infosets.keys != game.infosets.keys
        or not np.array_equal(other.infoset_actions, game.infoset_actions)
    ):
        raise InvalidPolicyError(
            f"policy belongs to a different game ({other.spec.name}; infosets or actions differ from "
            f"{game.spec.name})"
        )
    return policy


def _players(game: CompiledGame, players: Sequence[int] | None) -> list[int]:
    return players_of(game.num_players, players)


def _check_confidence(confidence: float) -> float:
    return check_real(
        "confidence", confidence, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False
    )


def _check_on_policy(on_policy: Any) -> str:
    key = on_policy.strip().lower() if isinstance(on_policy, str) else None
    if key not in ("auto", "exact", "sampled"):
        raise InvalidArgumentError(
            f"on_policy must be one of exact, sampled; got {on_policy!r} (or 'auto', the default: "
            "exact where the game compiles and the policy tabulates, else sampled)"
        )
    return key


def players_of(num_players: int, players: Sequence[int] | None) -> list[int]:
    """``players`` checked against ``num_players`` (default: all of them), in the given order.

    Raises:
        InvalidArgumentError: Not a list of distinct player indices in range.
    """
    if players is None:
        return list(range(num_players))
    if isinstance(players, str | bytes) or not hasattr(players, "__iter__"):
        raise InvalidArgumentError(f"players must be a list of player indices, got {players!r}")
    out = [check_int("players", p, minimum=0, maximum=num_players - 1) for p in players]
    if not out or len(set(out)) != len(out):
        raise InvalidArgumentError(f"players must be distinct and non-empty, got {list(players)}")
    return out


def _pick_backend(game: Any, policy: Any, oracle: Any) -> str:
    """``backend="auto"``: see :func:`rl_exploitability_bound`."""
    if isinstance(game, TensorGame):
        return "table"
    if oracle is not None and not isinstance(oracle, str):
        return "tensor" if callable(getattr(oracle, "train_vector", None)) else "table"
    named = oracle.strip().lower() if isinstance(oracle, str) else None
    if named == "mc":
        return "tensor"  # the Monte Carlo oracle learns on the batched environment only
    named_dqn = named == "dqn"
    tabular = isinstance(policy, TabularPolicy | np.ndarray | list | tuple) or callable(
        getattr(policy, "tabulate", None)
    )
    if not tabular:
        return "tensor"
    from gamesolve.vector_env.response import compiled_or_none

    compiled = compiled_or_none(game)
    if compiled is None:
        return "tensor"
    if named_dqn:
        return "table"  # DQN learns on the table backend only
    counts = np.bincount(compiled.infoset_player, minlength=compiled.num_players)
    return "tensor" if int(counts.max()) > TABLE_MAX_INFOSETS else "table"


# ------------------------------------------------------------------------------ RL-BR


def rl_exploitability_bound(
    game: Any,
    policy: Any,
    *,
    oracle: str | Any | None = None,
    steps: int = 100_000,
    episodes: int = 100_000,
    seed: int = 0,
    confidence: float = 0.95,
    oracle_options: dict[str, Any] | None = None,
    on_policy: str = "auto",
    players: Sequence[int] | None = None,
    backend: str = "auto",
) -> ExploitabilityBound:
    """A lower bound on NashConv from RL best responses, with a confidence interval.

    For every player ``i`` an RL oracle trains a response to the others' part of ``policy``
    (``steps`` transitions), and its value is estimated from ``episodes`` sampled episodes (not
    computed exactly, as it would have to be where exact evaluation is impossible). The gain
    ``value - u_i(policy)`` is a noisy estimate of a quantity that is at most player ``i``'s
    best-response gain, so ``sum_i gain_i`` estimates a lower bound on NashConv. The interval is
    ``estimate +- z * sqrt(sum_i stderr_i^2)`` with the normal quantile ``z`` of ``confidence``
    (players are evaluated on independent episodes).

    Two backends train and evaluate the responses:

    * ``"table"``: the single-agent view of the compiled tree
      (:class:`gamesolve.rl_env.ResponseEnv`), observations built per infoset of the responder
      (one-hot or known-token features, a table of ``[infosets, F]``), for compiled games and
      two-player normal-form games;
    * ``"tensor"``: the batched environment of any game (:func:`gamesolve.vector_env`, through
      :class:`~gamesolve.vector_env.response.VectorResponseEnv`): the responder reads
      the environment's observation tensors and the other seats are played by ``policy``, so no
      tree is needed and memory is that of the environment. Trains with PPO
      (:meth:`~gamesolve.solvers.rl_oracles.PPOOracle.train_vector`), or with ``oracle="mc"`` a
      tabular Monte Carlo best response (:class:`~gamesolve.vector_env.mc_response.MonteCarloOracle`:
      no torch, exact in the limit, far more sample-efficient where the responder's information
      states recur, as in poker; its table grows with the states seen); the value of the response
      is always estimated from episodes, ``u_i(policy)`` exactly when the game compiles and the
      policy tabulates (``on_policy="auto"``), else from episodes too;
    * ``"auto"`` (default): ``"tensor"`` when the game does not compile, when ``policy`` is not a
      table (a function), when ``oracle="mc"``, or when a player has more than
      :data:`TABLE_MAX_INFOSETS` infosets (the
      table backend's per-infoset features grow with the square of that count) and the oracle is
      not ``"dqn"`` by name; else ``"table"`` (so every result on games that small, and every
      explicit DQN bound on a game that compiles, is the table backend's, as before).

    Args:
        game: A compiled or compilable extensive-form game, or a two-player normal-form game; with
            the tensor backend anything :func:`gamesolve.vector_env` takes (an OpenSpiel or
            PettingZoo game too large to compile, a game string).
        policy: The fixed profile: a :class:`~gamesolve.policy.TabularPolicy` of the game (or its
            ``[I, A]`` array; a :class:`~gamesolve.normal_form.MixedProfile` on normal-form games);
            anything with ``tabulate(game)`` (a :class:`gamesolve.neural.NeuralPolicy`,
            :func:`gamesolve.uniform_policy`) on games that compile; with the tensor backend also a
            network or the uniform policy of a game that does not compile, or a function
            ``(observation [n, F], legal [n, A], player [n], rng) -> action ids [n]``.
        oracle: ``"dqn"`` (the table backend's default), ``"ppo"`` (the tensor backend's
            default), ``"mc"`` (tensor backend: the tabular Monte Carlo response, whose
            ``oracle_options`` are those of
            :class:`~gamesolve.vector_env.mc_response.MonteCarloOracle`), or an object with the
            :mod:`gamesolve.solvers.rl_oracles` ``train`` method (table) or ``train_vector``
            method (tensor).
        steps: Training transitions per player (an integer >= 1; for ``"mc"``, responder
            decisions sampled: millions are cheap, a few microseconds each).
        episodes: Evaluation episodes per player (an integer >= 2: the interval needs a sample
            variance).
        seed: Seed of training and evaluation (an integer >= 0; independent streams per player).
        confidence: Level of the confidence interval, in ``(0, 1)``.
        oracle_options: Keyword options of the oracle (``DQNOracle`` / ``PPOOracle``). On the
            tensor backend they override :data:`TENSOR_PPO_DEFAULTS`, then the oracle's own.
        on_policy: ``"auto"`` (default: ``"exact"`` where the game compiles and the policy
            tabulates, else ``"sampled"``), ``"exact"`` (``u_i(policy)`` by
            :func:`gamesolve.expected_values`) or ``"sampled"`` (``episodes`` more episodes per
            player with everyone on ``policy``).
        players: Which players to respond for (default all; the sum then runs over these only).
        backend: ``"auto"`` (default), ``"table"`` or ``"tensor"`` (see above).

    Raises:
        InvalidArgumentError: Bad ``steps``, ``episodes``, ``seed``, ``confidence``,
            ``on_policy``, ``backend``, ``oracle``, ``oracle_options`` or ``players`` (checked
            before any training; the message names the argument and what it accepts), or
            ``on_policy="exact"`` where the exact value needs a tree the game does not have.
        InvalidPolicyError: ``policy`` does not fit the game.
        UnsupportedGame: The game is neither extensive-form nor two-player normal-form (table
            backend), or has no batched environment (tensor backend).
    """
    start = time.perf_counter()
    steps = check_int("steps", steps, minimum=1)
    episodes = check_int("episodes", episodes, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    level = _check_confidence(confidence)
    on_policy = _check_on_policy(on_policy)
    backend = check_choice("backend", backend, BACKENDS)
    if isinstance(game, str):
        from gamesolve.registry import load_game

        game = load_game(game)
    if backend == "auto":
        backend = _pick_backend(game, policy, oracle)
    if backend == "tensor":
        from gamesolve.lower_bounds_tensor import tensor_rl_bound

        return tensor_rl_bound(
            game,
            policy,
            oracle=oracle,
            steps=steps,
            episodes=episodes,
            seed=seed,
            confidence=level,
            oracle_options=oracle_options,
            on_policy=on_policy,
            players=players,
            start=start,
        )
    if on_policy == "auto":
        on_policy = "exact"
    compiled, profile = _game_and_policy(game, policy)
    who = _players(compiled, players)
    trainer, name = _oracle("dqn" if oracle is None else oracle, oracle_options)
    exact_values = expected_values(compiled, profile)
    streams = np.random.SeedSequence(seed).spawn(compiled.num_players)
    gains, errors, values, on_values, responses = [], [], [], [], []
    used_steps = 0
    for p in who:
        train_seed, eval_seed, on_seed = (int(s.generate_state(1)[0]) for s in streams[p].spawn(3))
        trained = trainer.train(compiled, p, [profile], np.ones(1), seed=train_seed, steps=int(steps))
        used_steps = max(used_steps, int(getattr(trained, "steps", steps)))
        feats = getattr(trained, "features", None)
        env = ResponseEnv(compiled, p, [profile], num_envs=1, features=feats)
        actor = getattr(trained, "act_batch", None)
        if not callable(actor):
            raise TypeError("the oracle's response must provide act_batch(timestep, rng) (a BatchActor)")
        returns = sample_returns(env, actor, int(episodes), np.random.default_rng(eval_seed))
        value = float(returns.mean())
        var = float(returns.var(ddof=1)) / returns.size
        if on_policy == "exact":
            base = float(exact_values[p])
        else:
            own = sample_returns(env, tabular_actor(profile), int(episodes), np.random.default_rng(on_seed))
            base = float(own.mean())
            var += float(own.var(ddof=1)) / own.size
        gains.append(value - base)
        errors.append(math.sqrt(var))
        values.append(value)
        on_values.append(base)
        tab = getattr(trained, "tabulate", None)
        if callable(tab):
            responses.append(tab(compiled, base=profile))
        log.info("rl-br player %d: response %.6g vs on-policy %.6g (+- %.3g)", p, value, base, errors[-1])
    total = float(sum(gains))
    half = NormalDist().inv_cdf(0.5 + level / 2) * math.sqrt(sum(e * e for e in errors))
    return ExploitabilityBound(
        method=f"rl-br/{name}",
        nash_conv=total,
        exploitability=total / compiled.num_players,
        ci_low=total - half,
        ci_high=total + half,
        confidence=level,
        gains=tuple(gains),
        gain_stderr=tuple(errors),
        response_values=tuple(values),
        on_policy_values=tuple(on_values),
        exact_evaluation=False,
        episodes=int(episodes),
        steps=used_steps,
        seconds=time.perf_counter() - start,
        responses=tuple(responses),
    )


def _oracle(oracle: str | Any, options: dict[str, Any] | None) -> tuple[Any, str]:
    if options is not None and not isinstance(options, dict):
        raise InvalidArgumentError(
            f"oracle_options must be a mapping of option names to values, got {options!r}"
        )
    if isinstance(oracle, str):
        if oracle.strip().lower() == "mc":
            raise InvalidArgumentError("oracle 'mc' learns on the batched environment: use backend='tensor'")
        if oracle.strip().lower() not in ("dqn", "ppo"):
            raise InvalidArgumentError(
                f"oracle must be 'dqn', 'ppo' or an object with train(), got {oracle!r}"
            )
        key = oracle.strip().lower()
        try:
            factory = plugin(ORACLES_GROUP, key)
        except ImportError as exc:  # pragma: no cover - torch missing
            raise ImportError(f"the RL bound needs torch and the {key} oracle ({exc})") from None
        try:
            return factory(**(options or {})), key
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"oracle_options: {exc}") from None
    if not callable(getattr(oracle, "train", None)):
        raise InvalidArgumentError("oracle must be 'dqn', 'ppo' or an object with a train() method")
    if options:
        raise InvalidArgumentError("oracle_options apply to the named oracles 'dqn' and 'ppo' only")
    return oracle, type(oracle).__name__


# ----------------------------------------------------------------------------------- LBR


def _depths(game: CompiledGame) -> NDArray[np.int64]:
    """``[N]`` depth of every node (pointer jumping on the parent array)."""
    parent = game.node_parent.astype(np.int64)
    depth = (parent >= 0).astype(np.int64)
    anc = parent.copy()
    live = anc >= 0
    while live.any():
        nxt = np.where(live, parent[np.maximum(anc, 0)], -1)
        live = nxt >= 0
        depth += live
        anc = nxt
    return depth


def _edge_probs(game: CompiledGame, probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """``[N]`` probability of the edge into every node under ``probs`` (chance included)."""
    parent = game.node_parent.astype(np.int64)
    out = np.ones(game.num_nodes)
    kids = np.arange(1, game.num_nodes)
    par = parent[kids]
    is_chance = game.node_player[par] == CHANCE_NODE
    out[kids[is_chance]] = game.node_prob[kids[is_chance]]
    dec = ~is_chance
    slot = kids[dec] - game.node_first_child[par[dec]]
    out[kids[dec]] = probs[game.node_infoset[par[dec]], slot]
    return out


def _node_values(
    game: CompiledGame, probs: NDArray[np.float64], player: int, depth: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``[N]`` ``player``'s expected utility from every node when everyone follows ``probs``."""
    value = np.zeros(game.num_nodes)
    value[game.terminal_node] = game.terminal_utility[:, player]
    edge = _edge_probs(game, probs)
    parent = game.node_parent.astype(np.int64)
    order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max()) + 2))
    for d in range(int(depth.max()), 0, -1):
        nodes = order[bounds[d] : bounds[d + 1]]
        np.add.at(value, parent[nodes], edge[nodes] * value[nodes])
    return value


def _action_paths(game: CompiledGame, depth: NDArray[np.int64]) -> NDArray[np.int64]:
    """``[N]`` id of the sequence of player moves (chance outcomes left out) leading to each node."""
    parent = game.node_parent.astype(np.int64)
    path = np.zeros(game.num_nodes, dtype=np.int64)
    order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max()) + 2))
    for d in range(1, int(depth.max()) + 1):
        nodes = order[bounds[d] : bounds[d + 1]]
        par = parent[nodes]
        actor = game.node_player[par].astype(np.int64)
        is_chance = actor == CHANCE_NODE
        keys = np.stack(
            [path[par], np.where(is_chance, -1, actor), np.where(is_chance, -1, game.node_action[nodes])],
            axis=1,
        )
        _, inverse = np.unique(keys, axis=0, return_inverse=True)
        path[nodes] = inverse.reshape(-1) + int(path.max()) + 1
    return path


def call_slots(game: Any, player: int) -> NDArray[np.int64]:
    """``[I]`` the passive ("check/call") slot at every infoset of ``player`` (-1 elsewhere).

    The lowest legal slot that is not a fold; a fold is an action whose child is a terminal
    history at which the actor's payoff is the same for every chance outcome (every terminal
    reached by the same sequence of player moves, at least two of them). If every slot folds,
    slot 0. See the module docstring.
    """
    compiled = as_compiled(game) if not isinstance(game, TensorGame) else normal_form_tree(game)
    player = check_int("player", player, minimum=0, maximum=compiled.num_players - 1)
    depth = _depths(compiled)
    path = _action_paths(compiled, depth)
    util = compiled.terminal_utility[:, player]
    groups = path[compiled.terminal_node]
    n_groups = int(path.max()) + 1
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    count = np.zeros(n_groups, dtype=np.int64)
    np.minimum.at(lo, groups, util)
    np.maximum.at(hi, groups, util)
    np.add.at(count, groups, 1)
    scale = max(1.0, float(np.abs(util).max()) if util.size else 1.0)
    fold_group = (count >= 2) & (hi - lo <= 1e-12 * scale)
    fold = np.zeros((compiled.num_infosets, compiled.max_actions), dtype=bool)
    nodes = np.flatnonzero(compiled.node_player == player)
    for j in range(compiled.max_actions):
        has = compiled.node_num_children[nodes] > j
        kids = compiled.node_first_child[nodes[has]] + j
        folds = (compiled.node_player[kids] == TERMINAL_NODE) & fold_group[path[kids]]
        fold[compiled.node_infoset[nodes[has]][folds], j] = True
    out = np.full(compiled.num_infosets, -1, dtype=np.int64)
    mine = compiled.infosets_of(player)
    legal = compiled.legal_mask[mine]
    ok = legal & ~fold[mine]
    out[mine] = np.where(ok.any(axis=1), np.argmax(ok, axis=1), 0)
    return out


def _rollout_rows(
    game: CompiledGame, player: int, rollout: str | int | TabularPolicy
) -> tuple[NDArray[np.float64], str]:
    """``[I, A]`` rollout probabilities (only ``player``'s rows are meaningful) and a label.

    Raises:
        InvalidArgumentError: ``rollout`` is not ``"call"``, ``"uniform"``, an action id of
            ``player`` or a policy; the message lists the legal values.
    """
    mine = game.infosets_of(player)
    probs = np.zeros((game.num_infosets, game.max_actions))
    if isinstance(rollout, TabularPolicy):
        probs[mine] = check_policy(game, rollout).probs[mine]
        return probs, "policy"
    actions = game.infoset_actions[mine]
    legal_ids = sorted({int(a) for a in actions[game.legal_mask[mine]]})
    legal = (
        f"rollout must be 'call', 'uniform', an action id of player {player} "
        f"({', '.join(map(str, legal_ids))}) or a TabularPolicy"
    )
    if isinstance(rollout, str) and re.fullmatch(r"\s*[+-]?\d+\s*", rollout):
        rollout = int(rollout)  # an action id as text (a command line gives it so)
    if isinstance(rollout, str):
        key = rollout.strip().lower()
        if key == "uniform":
            probs[mine] = game.legal_mask[mine] / game.infoset_num_actions[mine][:, None]
            return probs, "uniform"
        if key != "call":
            raise InvalidArgumentError(f"{legal}; got {rollout!r}")
        probs[mine, call_slots(game, player)[mine]] = 1.0
        return probs, "call"
    if isinstance(rollout, bool) or not isinstance(rollout, int | np.integer):
        raise InvalidArgumentError(f"{legal}; got {rollout!r}")
    action = int(rollout)
    has = ((actions == action) & game.legal_mask[mine]).any(axis=1)
    if not has.any():
        raise InvalidArgumentError(
            f"{legal}; action id {action} is legal at none of player {player}'s infosets"
        )
    slots = np.where(has, np.argmax(actions == action, axis=1), call_slots(game, player)[mine])
    probs[mine, slots] = 1.0
    return probs, f"action {action}"


def local_best_response(
    game: Any, policy: Any, player: int, *, rollout: str | int | TabularPolicy = "call"
) -> TabularPolicy:
    """Player ``player``'s local best response to ``policy`` (the profile with its rows replaced).

    See the module docstring for the definition and the ``rollout`` options.

    Raises:
        InvalidPolicyError: ``policy`` (or a rollout policy) does not fit the game.
        InvalidArgumentError: Bad ``player`` or ``rollout`` (the message lists the legal values).
    """
    compiled, profile = _game_and_policy(game, policy)
    player = check_int("player", player, minimum=0, maximum=compiled.num_players - 1)
    return _lbr(compiled, profile, player, rollout)[0]


def _lbr(
    game: CompiledGame, profile: TabularPolicy, player: int, rollout: str | int | TabularPolicy
) -> tuple[TabularPolicy, str]:
    probs = profile.probs
    roll, label = _rollout_rows(game, player, rollout)
    mine = game.infosets_of(player)
    rolled = probs.copy()
    rolled[mine] = roll[mine]
    depth = _depths(game)
    value = _node_values(game, rolled, player, depth)  # [N] player's value with the rollout
    reach = np.empty((game.num_nodes, game.num_players + 1))
    forward_reach(game.tree, probs, reach)
    nodes = np.flatnonzero(game.node_player == player)
    weight = np.delete(reach[nodes], player, axis=1).prod(axis=1)  # others' and chance's reach
    q = np.zeros((game.num_infosets, game.max_actions))
    infoset = game.node_infoset[nodes]
    for j in range(game.max_actions):
        has = game.node_num_children[nodes] > j
        kids = game.node_first_child[nodes[has]] + j
        np.add.at(q[:, j], infoset[has], weight[has] * value[kids])
    q = np.where(game.legal_mask, q, -np.inf)
    best = np.argmax(q[mine], axis=1)
    out = probs.copy()
    out[mine] = 0.0
    out[mine, best] = 1.0
    return TabularPolicy(game, out, validate=False), label


def lbr_exploitability_bound(
    game: Any,
    policy: Any,
    *,
    rollout: str | int | TabularPolicy | Sequence[str | int | TabularPolicy] = "call",
    players: Sequence[int] | None = None,
) -> ExploitabilityBound:
    """A lower bound on NashConv from local best responses (Lisý & Bowling 2017), exactly evaluated.

    Every player's LBR (see the module docstring) is evaluated exactly against the others' part of
    ``policy``. A best-response gain is never negative (the player may keep its own policy), so
    ``nash_conv = sum_i max(0, gains[i])``: at most the exact NashConv, and equal to it when every
    player's best response is local (one decision per episode). ``gains`` keeps the raw values
    (LBR can be worse than the policy itself, typically near an equilibrium).

    Args:
        game: A compiled or compilable extensive-form game, or a two-player normal-form game.
        policy: The fixed profile (as for :func:`rl_exploitability_bound`).
        rollout: The LBR player's continuation: ``"call"`` (default), ``"uniform"``, an action id
            (an ``int``, or its decimal text as a command line gives it: ``"2"``) legal at one of
            the player's infosets at least (elsewhere the player calls), or a
            :class:`~gamesolve.policy.TabularPolicy`; or a list of these, in which case every
            player keeps the LBR of the rollout with the largest (exact) gain: each is a valid
            strategy, so the best of them is still a bound.
        players: Which players to respond for (default all).

    Raises:
        InvalidPolicyError: ``policy`` does not fit the game.
        InvalidArgumentError: Bad ``rollout`` (the message lists the legal values: ``call``,
            ``uniform`` and the player's action ids) or ``players``; checked for every player
            before any response is computed.
    """
    start = time.perf_counter()
    compiled, profile = _game_and_policy(game, policy)
    who = _players(compiled, players)
    if isinstance(rollout, str | int | np.integer | TabularPolicy) or not hasattr(rollout, "__iter__"):
        rollouts: list[Any] = [rollout]
    else:
        rollouts = list(rollout)
        if not rollouts:
            raise InvalidArgumentError("rollout must name at least one rollout policy")
    for p in who:  # every rollout is checked before the first response is computed
        for r in rollouts:
            _rollout_rows(compiled, p, r)
    on = expected_values(compiled, profile)
    gains, values, responses, labels = [], [], [], []
    for p in who:
        best: tuple[float, TabularPolicy, str] | None = None
        for r in rollouts:
            response, label = _lbr(compiled, profile, p, r)
            v = float(expected_values(compiled, response)[p])
            if best is None or v > best[0]:
                best = (v, response, label)
        assert best is not None
        values.append(best[0])
        gains.append(best[0] - float(on[p]))
        responses.append(best[1])
        labels.append(best[2])
    total = float(sum(max(0.0, g) for g in gains))
    method = "lbr/" + (labels[0] if len(set(labels)) == 1 else "+".join(labels))
    return ExploitabilityBound(
        method=method,
        nash_conv=total,
        exploitability=total / compiled.num_players,
        ci_low=total,
        ci_high=total,
        confidence=1.0,
        gains=tuple(gains),
        gain_stderr=tuple(0.0 for _ in who),
        response_values=tuple(values),
        on_policy_values=tuple(float(on[p]) for p in who),
        exact_evaluation=True,
        episodes=0,
        steps=0,
        seconds=time.perf_counter() - start,
        responses=tuple(responses),
    )
