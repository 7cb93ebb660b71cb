"""What the deep equilibrium learners share: the prepared game, evaluation, reports, metric logs.

A deep learner trains a network on the batched environment of any game
(:func:`gamesolve.vector_env`). :func:`prepare_deep_game` wraps the game once: its compiled form
when it compiles (then every evaluation is the exact exploitability of the network, evaluated on
every infoset's tensor), else only its states. Elsewhere exploitability is not known: the history
records NaN, and each evaluation is a head-to-head result against uniform random play over a fixed
set of seeded matches (:func:`head_to_head`: win rate, score, mean return and the *loss rate*
``1 - score``, a win scoring 1 and a shared top return 1/2), written to the metric log and, at the
end, to the result's extras; :attr:`DeepGame.metric` says which it is. :func:`head_to_head_mcts`
plays the same kind of matches against OpenSpiel's MCTS bot (:class:`gamesolve.mcts.MCTSPolicy`);
:func:`report_policy` adds them to the final report when asked (``mcts_matches``: the bot is slow,
so evaluations during training never play it). :func:`evaluate_policy` and :func:`report_policy`
are a learner's ``evaluate`` and ``report`` hooks; :func:`torch_threads` bounds torch's CPU threads
while a learner works.

This module imports no torch; the learners import it lazily.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.budget import IndexLimitError
from gamesolve.checkpoint import game_fingerprint
from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import GameTooLargeError, InvalidArgumentError, MalformedGameError, UnsupportedGame
from gamesolve.evaluation import exploitability as exact_exploitability
from gamesolve.evaluation import nash_conv as exact_nash_conv
from gamesolve.kernels.mccfr import pick_py
from gamesolve.mcts import DEFAULT_SIMULATIONS
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env import OBSERVATION_KINDS, VectorEnv, vector_env

__all__ = [
    "EXPLOITABILITY",
    "LOSS_RATE",
    "OBSERVATION_CHOICES",
    "DeepGame",
    "DeepReport",
    "HeadToHead",
    "evaluate_policy",
    "head_to_head",
    "head_to_head_mcts",
    "prepare_deep_game",
    "report_policy",
    "torch_threads",
]

log = logging.getLogger(__name__)

#: ``observation=`` values a deep learner accepts (``"auto"``: info-state tensors when the game has them).
OBSERVATION_CHOICES = ("auto", *OBSERVATION_KINDS)

#: What the history holds on a compiled game: the exact exploitability of the network.
EXPLOITABILITY = "exploitability"

#: What it holds elsewhere: ``1 - score`` against uniform random over fixed seeded matches.
LOSS_RATE = "loss_rate_vs_uniform"


@dataclass(eq=False)
class DeepGame:
    """A game as a deep learner sees it (the learners' prepared game).

    Attributes:
        spec: The game's spec.
        source: The game as loaded (what the batched environment is built from).
        compiled: Its compiled form, or ``None`` when it does not compile.
        observation: The tensor kind the network reads (``"info_state"`` or ``"observation"``).
        observation_size: ``F``.
        num_actions: ``A``, the number of action ids.
        num_players: ``P``.
        observation_shape: The observation's shape (``(C, H, W)`` for OpenSpiel's boards, else
            ``(F,)``).
    """

    spec: GameSpec
    source: Any
    compiled: CompiledGame | None
    observation: str
    observation_size: int
    num_actions: int
    num_players: int
    observation_shape: tuple[int, ...] = ()
    rollout_workers: int = 0
    rollout_executor: str = "local"
    pools: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.observation_shape:
            self.observation_shape = (int(self.observation_size),)

    @property
    def metric(self) -> str:
        """What an evaluation measures: :data:`EXPLOITABILITY` or :data:`LOSS_RATE`."""
        return EXPLOITABILITY if self.compiled is not None else LOSS_RATE

    def env(self, num_envs: int, seed: int) -> VectorEnv:
        """A batched environment of this game (chance seeded by ``seed``).

        With ``rollout_workers`` above 0 (and at least that many slots) the batch is stepped by
        the workers of a pool kept in ``pools`` (started on first use, loaded by the game's name).
        """
        if self.rollout_workers and num_envs >= self.rollout_workers:
            from gamesolve.vector_env.sharded import ShardedVectorEnv, WorkerPool

            live = [p for p in self.pools if not p.closed]
            if not live:
                live = [WorkerPool(self.rollout_workers, executor=self.rollout_executor)]
                self.pools.append(live[0])
            return ShardedVectorEnv(
                self.spec.name, num_envs=num_envs, seed=seed, observation=self.observation, pool=live[0]
            )
        return vector_env(self.source, num_envs=num_envs, seed=seed, observation=self.observation)

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the game in checkpoints (the compiled game's fingerprint when it compiles)."""
        if self.compiled is not None:
            return game_fingerprint(self.compiled)
        return {
            "name": self.spec.name,
            "observation": self.observation,
            "observation_size": self.observation_size,
            "num_actions": self.num_actions,
            "num_players": self.num_players,
        }


def prepare_deep_game(game: Any, observation: str = "auto") -> DeepGame:
    """Load, try to compile, and size the batched environment of ``game``.

    Args:
        game: Anything :func:`gamesolve.load_game` returns, or a game string.
        observation: ``"auto"`` (information-state tensors when the game has them, else
            observation tensors), ``"info_state"`` or ``"observation"``.

    Raises:
        InvalidArgumentError: A bad ``observation``.
        UnsupportedGame: Not an extensive-form game, or no tensors of the asked kind.
    """
    observation = check_choice("observation", observation, OBSERVATION_CHOICES)
    if isinstance(game, DeepGame):
        return game
    if isinstance(game, str):
        from gamesolve.registry import load_game

        game = load_game(game)
    spec = getattr(game, "spec", None)
    if not isinstance(spec, GameSpec) or spec.kind is not GameKind.EXTENSIVE_FORM:
        raise UnsupportedGame(
            f"deep learners play extensive-form games, got {type(game).__name__}"
            + (f" ({spec.kind.value})" if isinstance(spec, GameSpec) else "")
        )
    compiled: CompiledGame | None
    try:
        compiled = as_compiled(game)
    except (GameTooLargeError, IndexLimitError, UnsupportedGame, MalformedGameError) as exc:
        if isinstance(game, CompiledGame):
            raise
        log.info("%s does not compile (%s); evaluations are head-to-head against uniform", spec.name, exc)
        compiled = None
    kinds = OBSERVATION_KINDS if observation == "auto" else (observation,)
    env: VectorEnv | None = None
    error: UnsupportedGame | None = None
    for kind in kinds:
        try:
            env = vector_env(game, num_envs=1, seed=0, observation=kind)
            break
        except UnsupportedGame as exc:
            error = exc if error is None else error
    if env is None:
        assert error is not None
        raise error
    try:
        return DeepGame(
            spec=spec,
            source=game,
            compiled=compiled,
            observation=env.observation_kind,
            observation_size=int(env.observation_size),
            num_actions=int(env.num_actions),
            num_players=int(env.num_players),
            observation_shape=tuple(int(n) for n in env.observation_shape),
        )
    finally:
        env.close()


# ------------------------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class HeadToHead:
    """A policy against a fixed opponent (uniform random, MCTS), over seeded matches in every seat.

    Attributes:
        matches: Matches played (per seat times seats).
        score: Mean score of the policy (a win 1, a top return shared with ``k - 1`` others ``1/k``).
        win_rate: Share of matches the policy won outright.
        mean_return: The policy's mean return.
        per_seat: Mean return in each seat.
        wins_per_seat: Share of each seat's matches the policy won outright (top return alone).
        draws_per_seat: Share it drew (top return shared).
        losses_per_seat: Share it lost (below the top return); not :attr:`loss_rate`.
        opponent: Who played the other seats (``"uniform"``, ``"mcts(100)"``).
    """

    matches: int
    score: float
    win_rate: float
    mean_return: float
    per_seat: tuple[float, ...]
    wins_per_seat: tuple[float, ...] = ()
    draws_per_seat: tuple[float, ...] = ()
    losses_per_seat: tuple[float, ...] = ()
    opponent: str = "uniform"

    @property
    def loss_rate(self) -> float:
        """``1 - score``: what the history records (lower is better)."""
        return 1.0 - self.score


def head_to_head(
    game: DeepGame, act: Any, *, matches: int, seed: int, max_steps: int = 100_000
) -> HeadToHead:
    """Play ``act`` in every seat against uniform random opponents, ``matches`` episodes per seat.

    Args:
        game: The prepared game.
        act: ``act(observation [B, F], legal [B, A], rng) -> [B]`` action ids (the policy's seat).
        matches: Episodes per seat (played as one batch).
        seed: Seeds the environments and both sides' draws: the same seed gives the same matches.
        max_steps: Batched steps after which unfinished episodes are an error.

    Raises:
        InvalidArgumentError: ``matches`` below 1; episodes longer than ``max_steps``.
    """
    matches = check_int("matches", matches, minimum=1)
    finals = []
    for seat in range(game.num_players):
        rng = np.random.default_rng([seed, seat])
        env = game.env(matches, int(rng.integers(1 << 31)))
        try:
            ts = env.reset()
            finished = np.zeros(matches, dtype=np.bool_)
            final = np.zeros((matches, game.num_players))
            for _ in range(max_steps):
                mine = ts.player == seat
                actions = _uniform(ts.legal, rng)
                if mine.any():
                    actions[mine] = act(ts.observation[mine], ts.legal[mine], rng)
                ts = env.step(actions)
                new = ts.done & ~finished
                final[new] = ts.reward[new]
                finished |= ts.done
                if finished.all():
                    break
            else:
                raise InvalidArgumentError(f"head-to-head episodes ran past max_steps={max_steps}")
        finally:
            env.close()
        finals.append(final)
    return _figures(finals, "uniform")


def _figures(finals: list[NDArray[np.float64]], opponent: str) -> HeadToHead:
    """Head-to-head figures from the final returns ``[matches, P]`` of the policy in each seat."""
    seats = len(finals)
    matches = finals[0].shape[0]
    returns = np.zeros((seats, matches))
    scores = np.zeros((seats, matches))
    wins = np.zeros((seats, matches))
    draws = np.zeros((seats, matches))
    for seat, final in enumerate(finals):
        mine_return = final[:, seat]
        top = final.max(axis=1)
        at_top = np.isclose(final, top[:, None]).sum(axis=1)
        is_top = np.isclose(mine_return, top)
        returns[seat] = mine_return
        scores[seat] = np.where(is_top, 1.0 / at_top, 0.0)
        wins[seat] = is_top & (at_top == 1)
        draws[seat] = is_top & (at_top > 1)
    return HeadToHead(
        matches=matches * seats,
        score=float(scores.mean()),
        win_rate=float(wins.mean()),
        mean_return=float(returns.mean()),
        per_seat=tuple(float(r) for r in returns.mean(axis=1)),
        wins_per_seat=tuple(float(w) for w in wins.mean(axis=1)),
        draws_per_seat=tuple(float(d) for d in draws.mean(axis=1)),
        losses_per_seat=tuple(float(x) for x in (1.0 - wins - draws).mean(axis=1)),
        opponent=opponent,
    )


def head_to_head_mcts(
    game: Any,
    policy: Any,
    *,
    matches: int,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = 0,
    uct_c: float | None = None,
    rollouts: int = 1,
    max_steps: int = 100_000,
) -> HeadToHead:
    """Play ``policy`` in every seat against OpenSpiel's MCTS bot in the others, ``matches`` per seat.

    The bot is :class:`gamesolve.mcts.MCTSPolicy` (``pyspiel.MCTSBot`` with random rollouts). The
    matches of a seat step ``matches`` ``pyspiel`` states side by side: the policy acts on the
    batch of those where it is to move (the tensors of the prepared game's observation kind), the
    bot on each of the others; chance, the policy's draws and the bot's seeds come from one
    generator per seat seeded by ``(seed, seat)``, so the same seed gives the same matches.

    Args:
        game: A :class:`DeepGame` or anything :func:`prepare_deep_game` takes (an OpenSpiel game;
            prepared for the policy's ``observation_kind`` when it has one).
        policy: A :class:`~gamesolve.neural.NeuralPolicy` (its ``act_batch``) or a callable
            ``act(observation [B, F], legal [B, A], rng) -> [B]`` action ids.
        matches: Matches per seat.
        simulations: The bot's simulations per move.
        seed: Seeds everything (a non-negative integer).
        uct_c: The bot's exploration constant (default: :data:`gamesolve.mcts.DEFAULT_UCT_C`).
        rollouts: Random rollouts per leaf evaluation.
        max_steps: Moves after which unfinished matches are an error.

    Raises:
        UnsupportedGame: Not an OpenSpiel game, or one the bot cannot play.
        InvalidArgumentError: ``matches`` below 1, other options out of range, or matches longer
            than ``max_steps``.
    """
    from gamesolve.games.openspiel_env import check_tensor_kind
    from gamesolve.games.openspiel_tensors import with_mover
    from gamesolve.mcts import DEFAULT_UCT_C, MCTSPolicy

    matches = check_int("matches", matches, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    max_steps = check_int("max_steps", max_steps, minimum=1)
    kind = getattr(policy, "observation_kind", "auto")  # a network reads the tensors it was trained on
    deep = game if isinstance(game, DeepGame) else prepare_deep_game(game, observation=kind)
    bot = MCTSPolicy(
        deep.source,
        simulations=simulations,
        uct_c=DEFAULT_UCT_C if uct_c is None else uct_c,
        rollouts=rollouts,
        seed=seed,
    )
    act = getattr(policy, "act_batch", policy)
    if not callable(act):
        raise InvalidArgumentError(f"policy must have act_batch or be callable, got {type(policy).__name__}")
    method = check_tensor_kind(deep.source, deep.observation)
    root = deep.source.pyspiel_game
    finals = []
    for seat in range(deep.num_players):
        rng = np.random.default_rng([seed, seat])
        states = [root.new_initial_state() for _ in range(matches)]
        for _ in range(max_steps):
            for state in states:
                while state.is_chance_node():
                    outcomes = state.chance_outcomes()
                    pick = pick_py([float(q) for _, q in outcomes], float(rng.random()))
                    state.apply_action(int(outcomes[pick][0]))
            live = [s for s in states if not s.is_terminal()]
            if not live:
                break
            mine = [s for s in live if s.current_player() == seat]
            theirs = [s for s in live if s.current_player() != seat]
            if mine:
                observation = with_mover(
                    [getattr(s, method)(seat) for s in mine], [seat] * len(mine), root, method
                )
                legal = np.zeros((len(mine), deep.num_actions), dtype=np.bool_)
                for row, s in enumerate(mine):
                    legal[row, s.legal_actions()] = True
                chosen = np.asarray(act(observation, legal, rng), dtype=np.int64).reshape(-1)
                for s, a in zip(mine, chosen.tolist(), strict=True):
                    s.apply_action(int(a))
            for s in theirs:
                s.apply_action(bot.act_pyspiel(s, rng))
        else:
            raise InvalidArgumentError(f"matches against mcts ran past max_steps={max_steps}")
        finals.append(np.asarray([s.returns() for s in states], dtype=np.float64))
    return _figures(finals, f"mcts({bot.simulations})")


def _uniform(legal: NDArray[np.bool_], rng: np.random.Generator) -> NDArray[np.int64]:
    counts = legal.sum(axis=1)
    pick = np.minimum((rng.random(legal.shape[0]) * counts).astype(np.int64), counts - 1)
    order = np.cumsum(legal, axis=1) - 1
    hit = legal & (order == pick[:, None])
    out: NDArray[np.int64] = np.argmax(hit, axis=1).astype(np.int64)
    return out


@dataclass(frozen=True)
class DeepReport:
    """The final report of a deep learner on a game that does not compile.

    ``exploitability`` and ``nash_conv`` are NaN: neither is known without the tree. ``extras`` has
    the head-to-head figures against uniform random (see the module doc).
    """

    exploitability: float = math.nan
    nash_conv: float = math.nan
    on_policy_values: tuple[float, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)


def evaluate_policy(game: DeepGame, policy: Any, *, matches: int, seed: int) -> tuple[float, dict[str, Any]]:
    """What a deep learner records at an evaluation: ``(value, figures for the log)``.

    On a compiled game the value is the exact exploitability of ``policy`` (a
    :class:`~gamesolve.neural.NeuralPolicy`, tabulated on every infoset); elsewhere NaN (not
    known), with the head-to-head figures against uniform random over ``matches`` seeded matches
    per seat (:func:`head_to_head`) for the log.
    """
    if game.compiled is not None:
        value = float(exact_exploitability(game.compiled, policy.tabulate(game.compiled)))
        return value, {EXPLOITABILITY: value}
    h2h = head_to_head(game, policy.act_batch, matches=matches, seed=seed)
    figures = {
        LOSS_RATE: h2h.loss_rate,
        "win_rate": h2h.win_rate,
        "score": h2h.score,
        "mean_return": h2h.mean_return,
    }
    return math.nan, figures


def report_policy(
    game: DeepGame,
    policy: Any,
    *,
    matches: int,
    seed: int,
    mcts_matches: int = 0,
    mcts_simulations: int = DEFAULT_SIMULATIONS,
) -> Any:
    """A deep learner's final report: exact NashConv on a compiled game, else a :class:`DeepReport`.

    With ``mcts_matches`` above 0, the report of an OpenSpiel game that does not compile also
    holds the head-to-head figures against OpenSpiel's MCTS bot with ``mcts_simulations``
    simulations, ``mcts_matches`` matches per seat (:func:`head_to_head_mcts`, keys ending in
    ``_vs_mcts``).
    """
    mcts_matches = check_int("mcts_matches", mcts_matches, minimum=0)
    if game.compiled is not None:
        return exact_nash_conv(game.compiled, policy.tabulate(game.compiled))
    h2h = head_to_head(game, policy.act_batch, matches=matches, seed=seed)
    extras: dict[str, Any] = {
        "win_rate_vs_uniform": h2h.win_rate,
        "score_vs_uniform": h2h.score,
        "mean_return_vs_uniform": h2h.mean_return,
        "return_per_seat_vs_uniform": list(h2h.per_seat),
        "evaluation_matches": h2h.matches,
    }
    if mcts_matches:
        vs = head_to_head_mcts(game, policy, matches=mcts_matches, simulations=mcts_simulations, seed=seed)
        extras.update(
            {
                "win_rate_vs_mcts": vs.win_rate,
                "score_vs_mcts": vs.score,
                "mean_return_vs_mcts": vs.mean_return,
                "return_per_seat_vs_mcts": list(vs.per_seat),
                "wins_per_seat_vs_mcts": list(vs.wins_per_seat),
                "draws_per_seat_vs_mcts": list(vs.draws_per_seat),
                "losses_per_seat_vs_mcts": list(vs.losses_per_seat),
                "mcts_simulations": int(mcts_simulations),
                "mcts_matches": vs.matches,
            }
        )
    return DeepReport(extras=extras)


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads, restoring the previous number afterwards."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
