"""Adapter for OpenSpiel games (module ``pyspiel``).

:func:`load` accepts any OpenSpiel game string, e.g. ``"leduc_poker"`` or
``"kuhn_poker(players=3)"``. Simultaneous-move games are converted to turn-based form with
OpenSpiel's own conversion. Infoset keys are OpenSpiel information-state strings and action ids
are OpenSpiel action ids, so policies round-trip exactly to ``open_spiel.python.policy``.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from gamesolve.budget import GENERIC_BYTES_PER_NODE, MAX_INDEX, SizeEstimate, get_memory_budget
from gamesolve.compiled import CompiledGame, compile_game
from gamesolve.errors import GameNotFoundError, GameTooLargeError, MalformedGameError, UnsupportedGame
from gamesolve.games.openspiel_tensors import mover_features, with_mover
from gamesolve.protocols import State
from gamesolve.registry import LoaderEntry
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = [
    "DEFAULT_MAX_NODES",
    "OpenSpielGame",
    "OpenSpielState",
    "load",
]

#: Largest tree :meth:`OpenSpielGame.compile` walks unless told otherwise (seconds to a minute, by game).
DEFAULT_MAX_NODES = 2_000_000
#: A game whose longest allowed history is this many times deeper than any sampled one has a tree
#: the rollouts did not explore; its estimate is a lower bound.
UNEXPLORED_DEPTH_FACTOR = 8

#: Wall-clock seconds :meth:`OpenSpielGame.size_estimate` may spend on random rollouts.
ESTIMATE_SECONDS = 0.25
#: Most rollouts :meth:`OpenSpielGame.size_estimate` runs (small trees stop here, well under a second).
ESTIMATE_ROLLOUTS = 2000
#: Most time and rollouts per round that :meth:`OpenSpielGame.compile` adds to the sample when the
#: first estimate lies between ``max_nodes`` and ten times it.
REFINE_SECONDS = 2.0
REFINE_CHUNK = 1000
#: A tree whose trimmed estimate is this many standard errors above ``max_nodes`` is refused
#: without a walk (:meth:`TreeSample.lower_bound`).
REFUSE_SIGMAS = 4.0
#: Decisions with at most this many actions have their terminal children counted exactly by the
#: size estimate's rollouts (which clone every child to find them).
PRUNE_MAX_ACTIONS = 16
#: Share of the largest rollouts :meth:`TreeSample.lower_bound` leaves out.
TRIM_FRACTION = 0.01
#: Backends of :meth:`OpenSpielGame.vector_env`: chosen by size, ``pyspiel`` states, the compiled tree.
VECTOR_ENV_BACKENDS = ("auto", "pyspiel", "tree")
#: ``backend="auto"`` steps the compiled tree of games estimated under this many histories.
AUTO_TREE_HISTORIES = 100_000
#: Bytes per information set besides its key's characters (string object, map and list entries).
_KEY_OVERHEAD = 200

log = logging.getLogger(__name__)

_UTILITY = {
    "ZERO_SUM": Utility.ZERO_SUM,
    "CONSTANT_SUM": Utility.CONSTANT_SUM,
    "GENERAL_SUM": Utility.GENERAL_SUM,
    "IDENTICAL": Utility.IDENTICAL,
}


def _pyspiel() -> Any:
    try:
        import pyspiel
    except ImportError as exc:  # pragma: no cover - open_spiel is a declared dependency
        raise UnsupportedGame("OpenSpiel games need the open_spiel package: pip install open_spiel") from exc
    return pyspiel


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence OpenSpiel's C++ error printing (file descriptor 2) while it raises."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # pytest capture or no real stderr
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


class TreeSample:
    """Knuth rollouts of a tree (:meth:`OpenSpielGame.size_estimate`): the mean and a lower bound.

    Every rollout gives an unbiased estimate of the number of histories (Knuth 1975, "Estimating
    the efficiency of backtrack programs"), but a heavy-tailed one: rare deep paths weigh millions
    of times more than the rest, so one of them moves the mean and its standard error by a factor.
    A tree is refused as too large only when even the mean without the largest
    :data:`TRIM_FRACTION` of the rollouts is several standard errors above the limit
    (:meth:`lower_bound`): trimming only lowers the estimate, so the bound stays on the safe side.
    """

    __slots__ = ("key_bytes", "nodes", "per_node", "values")

    def __init__(self, per_node: int) -> None:
        self.per_node = per_node
        self.values: list[int] = []  # exact Python integers: the weights of deep trees pass 2**63
        self.nodes = 0
        self.key_bytes = 0

    @property
    def rollouts(self) -> int:
        """Rollouts so far."""
        return len(self.values)

    def add(self, nodes: int, key_bytes: int) -> None:
        """Count one rollout's Knuth-weighted histories and key bytes."""
        self.values.append(nodes)
        self.nodes += nodes
        self.key_bytes += key_bytes

    def merge(self, other: TreeSample) -> None:
        """Add another sample's rollouts to this one."""
        self.values.extend(other.values)
        self.nodes += other.nodes
        self.key_bytes += other.key_bytes

    @property
    def count(self) -> int:
        """Estimated histories (at least 1)."""
        return max(1, self.nodes // max(1, self.rollouts))

    @property
    def nbytes(self) -> int:
        """Estimated peak bytes of compiling the tree."""
        return (self.nodes * self.per_node + self.key_bytes) // max(1, self.rollouts)

    @property
    def stderr(self) -> float:
        """Standard error of :attr:`count` (infinite below two rollouts)."""
        return _mean_and_stderr(self.values)[1]

    def lower_bound(self, sigmas: float) -> float:
        """The mean without the largest :data:`TRIM_FRACTION` of the rollouts, less ``sigmas`` errors."""
        kept = sorted(self.values)[: len(self.values) - int(TRIM_FRACTION * len(self.values))]
        mean, stderr = _mean_and_stderr(kept)
        return mean - sigmas * stderr

    def estimate(self, name: str) -> SizeEstimate:
        """The sample as a :class:`~gamesolve.budget.SizeEstimate` of compiling ``name``."""
        return SizeEstimate(name, "compile", self.nbytes, self.count, "histories", exact=False)


def _mean_and_stderr(values: Sequence[int]) -> tuple[float, float]:
    """Mean and standard error of exact integers (infinite error below two values)."""
    n = len(values)
    if n < 2:
        return (float(values[0]) if n else 0.0), float("inf")
    total = sum(values)
    variance = (sum(v * v for v in values) - total * total // n) // (n - 1)
    return total / n, float(max(0, variance)) ** 0.5 / n**0.5


class OpenSpielState:
    """A :class:`~gamesolve.protocols.State` view of a ``pyspiel.State`` (never mutated)."""

    __slots__ = ("_state",)

    def __init__(self, state: Any) -> None:
        self._state = state

    def current_player(self) -> int:
        """Player to move (OpenSpiel's convention: -1 chance, -4 terminal)."""
        return int(self._state.current_player())

    def is_terminal(self) -> bool:
        """Whether the history is complete."""
        return bool(self._state.is_terminal())

    def legal_actions(self) -> Sequence[int]:
        """OpenSpiel's legal action ids (increasing)."""
        return self._state.legal_actions()

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        """OpenSpiel's explicit chance outcomes."""
        return self._state.chance_outcomes()

    def child(self, action: int) -> State:
        """The history after ``action``."""
        return OpenSpielState(self._state.child(action))

    def returns(self) -> Sequence[float]:
        """Total payoffs."""
        return self._state.returns()

    def infoset_key(self, player: int) -> str:
        """OpenSpiel's information-state string for ``player``."""
        return self._state.information_state_string(player)

    def information_state_tensor(self, player: int) -> Sequence[float]:
        """OpenSpiel's information-state tensor of ``player``.

        Games without one give their observation tensor, and games with neither an empty vector:
        what acting policies see when matches step states (:mod:`gamesolve.population`). Tensors
        that are the same for every player get the mover's planes, as the batched environments'
        do (see :func:`mover_features`).
        """
        game = self._state.get_game()
        kind = game.get_type()
        if kind.provides_information_state_tensor:
            method = "information_state_tensor"
        elif kind.provides_observation_tensor:
            method = "observation_tensor"
        else:
            return []
        tensor = getattr(self._state, method)(player)
        if not mover_features(game, method):
            return tensor
        return list(with_mover([tensor], [player], game, method)[0])

    @property
    def pyspiel_state(self) -> Any:
        """The wrapped ``pyspiel.State``."""
        return self._state


class OpenSpielGame:
    """An OpenSpiel game seen through gamesolve's extensive-form protocol.

    Args:
        game: A ``pyspiel.Game``. Simultaneous-move games must already be turn-based
            (:func:`load` converts them).
        name: The game string it was loaded from.
        simultaneous: The simultaneous-move original of a converted game (kept so that one-shot
            games can be read back as normal-form games by :meth:`to_normal_form`).
    """

    def __init__(self, game: Any, name: str, *, simultaneous: Any = None) -> None:
        pyspiel = _pyspiel()
        gtype = game.get_type()
        if gtype.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL:
            raise UnsupportedGame(f"OpenSpiel game {name!r} must be sequential (use load())")
        if gtype.chance_mode == pyspiel.GameType.ChanceMode.SAMPLED_STOCHASTIC:
            raise UnsupportedGame(
                f"OpenSpiel game {name!r} has sampled chance; exact compilation needs explicit "
                "chance outcomes"
            )
        if not gtype.provides_information_state_string:
            raise UnsupportedGame(
                f"OpenSpiel game {name!r} provides no information-state strings, so its infosets "
                "cannot be identified"
            )
        self._game = game
        self._name = name
        self._simultaneous = simultaneous
        self._normal_form: Any = None
        self._compiled: CompiledGame | None = None
        self._tables: dict[str, Any] = {}  # infoset tensor tables by pyspiel method
        self._lock = threading.Lock()
        self._deepest_sample = 0  # deepest history reached by the size estimate's rollouts
        self._spec = GameSpec(
            name=name,
            kind=GameKind.EXTENSIVE_FORM,
            num_players=int(game.num_players()),
            utility=_UTILITY.get(gtype.utility.name, Utility.GENERAL_SUM),
            has_chance=gtype.chance_mode != pyspiel.GameType.ChanceMode.DETERMINISTIC,
            simultaneous=False,
            perfect_recall=True,
            perfect_information=gtype.information == pyspiel.GameType.Information.PERFECT_INFORMATION,
        )

    @property
    def spec(self) -> GameSpec:
        """The game's static description."""
        return self._spec

    @property
    def name(self) -> str:
        """The OpenSpiel game string."""
        return self._name

    @property
    def pyspiel_game(self) -> Any:
        """The wrapped ``pyspiel.Game``."""
        return self._game

    def initial_state(self) -> State:
        """The root history."""
        return OpenSpielState(self._game.new_initial_state())

    def size_estimate(
        self, *, seconds: float = ESTIMATE_SECONDS, rollouts: int = ESTIMATE_ROLLOUTS, seed: int = 0
    ) -> SizeEstimate:
        """Estimate the size of the tree (and the memory to compile it) by random rollouts.

        Knuth's estimator (Knuth 1975, "Estimating the efficiency of backtrack programs"): along a
        path drawn at random (every legal action and every chance outcome equally likely), the
        product of the branching factors down to depth ``d`` is an unbiased estimate
        of the number of histories at depth ``d``; the mean over rollouts estimates the tree size,
        and the same weights applied to the information-state strings met on the way estimate the
        memory the keys take (counting every decision history as its own infoset: an upper bound).
        Every other rollout counts the children that end the game exactly and follows only the
        others (see :meth:`_rollout`).
        Rollouts stop after ``seconds``, after ``rollouts`` paths, or as soon as every rollout so
        far puts the tree at a hundred times the memory budget (chess is refused after one
        rollout, while one rare deep path of a heavy-tailed tree does not end the sample).

        Args:
            seconds: Time allowed for the rollouts.
            rollouts: Most rollouts.
            seed: Seed of the rollouts' generator (the estimate is reproducible for a given seed).

        Returns:
            The estimate (``exact=False``): histories and peak bytes of :meth:`compile`.

        Raises:
            MalformedGameError: OpenSpiel fails while playing the game (bad parameters).
        """
        return self._sample_tree(seconds=seconds, rollouts=rollouts, seed=seed).estimate(self._name)

    def _sample_tree(self, *, seconds: float, rollouts: int, seed: int) -> TreeSample:
        """The Knuth rollouts of :meth:`size_estimate`, with the sums its standard error needs."""
        pyspiel = _pyspiel()
        rng = np.random.default_rng(seed)
        per_node = GENERIC_BYTES_PER_NODE + 4 * self._spec.num_players
        stop_at = 100 * get_memory_budget()
        deadline = time.perf_counter() + seconds
        max_steps = _max_history_length(self._game)
        sample = TreeSample(per_node)
        smallest = 0  # the fewest histories a rollout of this sample found
        try:
            with _quiet_stderr():
                while sample.rollouts < rollouts:
                    prune = sample.rollouts % 2 == 1  # every other rollout
                    nodes, key_bytes, depth = self._rollout(rng, max_steps, deadline, prune=prune)
                    if not prune:  # how deep uniform random play goes
                        self._deepest_sample = max(self._deepest_sample, depth)
                    sample.add(nodes, key_bytes)
                    smallest = nodes if sample.rollouts == 1 else min(smallest, nodes)
                    if time.perf_counter() > deadline:
                        break
                    if smallest * per_node > stop_at:
                        break
        except pyspiel.SpielError as exc:
            hint = _parameter_hint(self._name)
            raise MalformedGameError(
                f"OpenSpiel fails while playing {self._name!r}: {_first_line(exc)}{hint}"
            ) from None
        log.debug(
            "estimated %s at %d histories, %d bytes, from %d rollouts",
            self._name,
            sample.count,
            sample.nbytes,
            sample.rollouts,
        )
        return sample

    def _refine(self, sample: TreeSample, max_nodes: int) -> None:
        """Add rollouts to ``sample`` until it is clearly above ``max_nodes``, or not above it.

        An estimate between the limit and ten times it is sampled further, :data:`REFINE_CHUNK`
        rollouts at a time, for at most :data:`REFINE_SECONDS`: the walk costs seconds per million
        histories, the rollouts a small fraction of that.
        """
        deadline = time.perf_counter() + REFINE_SECONDS
        seed = 1
        while time.perf_counter() < deadline:
            if sample.count <= max_nodes or sample.lower_bound(REFUSE_SIGMAS) > max_nodes:
                return
            left = deadline - time.perf_counter()
            sample.merge(self._sample_tree(seconds=max(left, 0.0), rollouts=REFINE_CHUNK, seed=seed))
            seed += 1

    def _rollout(
        self, rng: np.random.Generator, max_steps: int, deadline: float, *, prune: bool
    ) -> tuple[int, int, int]:
        """One random path: Knuth-weighted counts of histories and of key bytes, and its depth.

        With ``prune``, at a decision with at most :data:`PRUNE_MAX_ACTIONS` actions the children
        that end the game are counted exactly and the path goes on among the others only
        (uniformly). Both kinds of path give unbiased estimates; the pruned ones keep trees that
        are thin and deep (betting rounds where most actions end the game and raises have no cap)
        from hiding almost all of their histories behind paths that uniform play takes with
        vanishing probability, and the uniform ones measure how deep random play goes.
        """
        state = self._game.new_initial_state()
        weight = 1  # 1 / probability of reaching this history along this path (exact int)
        nodes = 1
        key_bytes = 0
        depth = 0
        for step in range(max_steps):
            depth = step
            if state.is_terminal():
                break
            if state.is_chance_node():
                choices = [a for a, _ in state.chance_outcomes()]
            else:
                choices = state.legal_actions()
                player = state.current_player()
                key_bytes += weight * (_KEY_OVERHEAD + len(state.information_state_string(player)))
            if not choices:
                raise MalformedGameError(
                    f"OpenSpiel game {self._name!r} has a history that is not terminal but offers no "
                    f"action{_parameter_hint(self._name)}"
                )
            nodes += weight * len(choices)
            if prune and not state.is_chance_node() and len(choices) <= PRUNE_MAX_ACTIONS:
                children = [state.child(a) for a in choices]
                live = [child for child in children if not child.is_terminal()]
                if not live:
                    depth = step + 1
                    break
                weight *= len(live)
                state = live[int(rng.integers(len(live)))]
            else:
                weight *= len(choices)
                state.apply_action(int(choices[int(rng.integers(len(choices)))]))
            if step % 64 == 63 and time.perf_counter() > deadline:
                break
        return nodes, key_bytes, depth

    def compile(self, *, max_nodes: int | None = DEFAULT_MAX_NODES) -> CompiledGame:
        """Compile once (walking every history) and cache the result.

        The tree's size is estimated first (:meth:`size_estimate`, a fraction of a second): a game
        that would need more than the memory budget (:mod:`gamesolve.budget`), or far more
        histories than ``max_nodes``, is refused before the walk starts; the walk itself stops as
        soon as it passes either limit.

        Args:
            max_nodes: Refuse games with more histories than this (walking OpenSpiel states costs
                a few microseconds each); ``None`` lifts the limit.

        Raises:
            UnsupportedGame: The tree is larger than ``max_nodes``.
            GameTooLargeError: The tree would not fit in the memory budget.
            MalformedGameError: OpenSpiel fails while playing the game.
        """
        with self._lock:
            if self._compiled is None:
                sample = self._sample_tree(seconds=ESTIMATE_SECONDS, rollouts=ESTIMATE_ROLLOUTS, seed=0)
                estimate = sample.estimate(self._name)
                if estimate.count > MAX_INDEX:
                    estimate.require(max_index=MAX_INDEX)
                longest = _max_history_length(self._game)
                unexplored = longest > max(50, UNEXPLORED_DEPTH_FACTOR * max(self._deepest_sample, 1))
                if max_nodes is not None and unexplored and estimate.count > max_nodes // 100:
                    # Random play never came near the longest histories OpenSpiel allows, so the
                    # estimate only counts the shallow part of the tree (oshi_zumo's horizon).
                    raise UnsupportedGame(
                        f"{self._name}: random play reaches depth {self._deepest_sample} of the "
                        f"{longest} OpenSpiel allows, so the sampled {estimate.detail} is only a lower "
                        f"bound and the tree may be far larger than max_nodes={max_nodes:,}; too large "
                        "to compile exactly (pass a larger max_nodes to compile() to try anyway)"
                    )
                estimate.require()
                if max_nodes is not None and max_nodes < sample.count <= 10 * max_nodes:
                    self._refine(sample, max_nodes)
                    estimate = sample.estimate(self._name)
                if max_nodes is not None and (
                    sample.count > 10 * max_nodes or sample.lower_bound(REFUSE_SIGMAS) > max_nodes
                ):
                    raise UnsupportedGame(
                        f"{self._name} has {estimate.detail} (estimated by sampling, standard error "
                        f"{sample.stderr:,.0f}), more than max_nodes={max_nodes:,}; too large to "
                        "compile exactly (pass a larger max_nodes to compile() to try anyway)"
                    )
                pyspiel = _pyspiel()
                # With an unexplored depth the walk itself is the only measure: give it a tenth of
                # the node limit (seconds, not minutes) before calling the tree too large.
                walk_limit = max_nodes if max_nodes is None or not unexplored else max_nodes // 10
                try:
                    with _quiet_stderr():
                        self._compiled = compile_game(self, max_nodes=walk_limit)
                except UnsupportedGame:
                    if walk_limit == max_nodes:
                        raise
                    raise UnsupportedGame(
                        f"{self._name}: random play reaches depth {self._deepest_sample} of the "
                        f"{longest} OpenSpiel allows, and walking the tree passed {walk_limit:,} "
                        f"histories; it may be far larger than max_nodes={max_nodes:,}, too large to "
                        "compile exactly (pass a larger max_nodes to compile() to try anyway)"
                    ) from None
                except pyspiel.SpielError as exc:
                    raise MalformedGameError(
                        f"OpenSpiel fails while walking {self._name!r}: {_first_line(exc)}"
                        f"{_parameter_hint(self._name)}"
                    ) from None
            return self._compiled

    def vector_env(
        self, *, num_envs: int, seed: int, observation: str = "info_state", backend: str = "auto"
    ) -> Any:
        """``num_envs`` episodes of this game stepped together (:func:`gamesolve.vector_env`).

        Args:
            num_envs: ``B``.
            seed: Seeds the environment's generators (chance).
            observation: ``"info_state"`` (``information_state_tensor``) or ``"observation"``
                (``observation_tensor``), of the player to act.
            backend: ``"pyspiel"`` steps ``pyspiel`` states
                (:class:`~gamesolve.games.openspiel_env.OpenSpielVectorEnv`: any game, no tree
                walk); ``"tree"`` compiles the game and steps the compiled tree in numba
                (:class:`~gamesolve.vector_env.tree.TreeVectorEnv`, with OpenSpiel's tensor of
                every infoset in a table: small games only); ``"auto"`` (default) takes
                ``"tree"`` when :meth:`size_estimate` is under :data:`AUTO_TREE_HISTORIES`
                histories and the tree compiles with a table of infosets, else ``"pyspiel"``.

        Raises:
            InvalidArgumentError: An unknown ``backend`` or ``observation``.
            UnsupportedGame: The game has no tensor of that kind (the message names the other).
        """
        from gamesolve.games.openspiel_env import OpenSpielVectorEnv, check_tensor_kind
        from gamesolve.validation import check_choice

        backend = check_choice("backend", backend, VECTOR_ENV_BACKENDS)
        check_tensor_kind(self, observation)
        if backend == "auto":
            if self.size_estimate().count < AUTO_TREE_HISTORIES:
                try:
                    return self._tree_vector_env(num_envs, seed, observation)
                except (UnsupportedGame, MalformedGameError) as exc:
                    # Stepping states needs neither perfect recall nor a table of infosets.
                    log.info(
                        "%s: stepping pyspiel states, the compiled tree cannot be used: %s", self._name, exc
                    )
        elif backend == "tree":
            return self._tree_vector_env(num_envs, seed, observation)
        return OpenSpielVectorEnv(self, num_envs=num_envs, seed=seed, observation=observation)

    def _tree_vector_env(self, num_envs: int, seed: int, observation: str) -> Any:
        from gamesolve.vector_env.tree import TreeVectorEnv

        return TreeVectorEnv(
            self,
            num_envs=num_envs,
            seed=seed,
            observation=observation,
            num_actions=int(self._game.num_distinct_actions()),
        )

    def infoset_tensors(self, observation: str) -> Any:
        """OpenSpiel's tensor of every infoset: ``[I, F]`` float32, row ``i`` for infoset ``i``.

        Infoset ids are those of :meth:`compile`; the table is computed once per kind.

        Raises:
            UnsupportedGame: The game has no tensor of that kind (the message names the other), or
                its ``observation_tensor`` differs between histories of one infoset.
        """
        from gamesolve.games.openspiel_env import check_tensor_kind, infoset_tensor_table

        kind = check_tensor_kind(self, observation)
        with self._lock:
            table = self._tables.get(kind)
        if table is None:
            table = infoset_tensor_table(self, observation)
            table.setflags(write=False)
            with self._lock:
                self._tables[kind] = table
        return table

    def to_normal_form(self) -> Any:
        """The game as a :class:`~gamesolve.normal_form.TensorGame`, for one-shot matrix games.

        OpenSpiel's normal-form games (``matrix_rps``, ``matching_pennies_3p``, ...) are
        simultaneous-move games with a single joint move; their payoff tensor is read by playing
        every joint action once.

        Raises:
            UnsupportedGame: The game is not a one-shot simultaneous-move game without chance.
        """
        from gamesolve.normal_form import normal_form_game

        if self._normal_form is not None:
            return self._normal_form
        original = self._simultaneous
        root = None if original is None else original.new_initial_state()
        if root is None or root.is_chance_node() or not root.is_simultaneous_node():
            raise UnsupportedGame(
                f"OpenSpiel game {self._name!r} is not a one-shot simultaneous-move (normal-form) game"
            )
        n = int(original.num_players())
        legal = [list(root.legal_actions(p)) for p in range(n)]
        payoffs = np.zeros((n, *(len(a) for a in legal)))
        for index in np.ndindex(*payoffs.shape[1:]):
            state = root.clone()
            state.apply_actions([legal[p][k] for p, k in enumerate(index)])
            if not state.is_terminal():
                raise UnsupportedGame(
                    f"OpenSpiel game {self._name!r} continues after the first joint move; it is not "
                    "a normal-form game"
                )
            payoffs[(slice(None), *index)] = state.returns()
        names = [[root.action_to_string(p, a) for a in legal[p]] for p in range(n)]
        self._normal_form = normal_form_game(payoffs, name=self._name, action_names=names)
        return self._normal_form

    def __repr__(self) -> str:
        return f"OpenSpielGame({self._name!r})"


def _max_history_length(game: Any) -> int:
    """Most moves in one history: OpenSpiel's longest game plus its most chance moves (and one)."""
    length = int(game.max_game_length())
    with contextlib.suppress(Exception):
        length += int(game.max_chance_nodes_in_history())
    return max(1, length) + 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _parameter_hint(name: str) -> str:
    """``"; check its parameters numdice=0"`` for a game string with parameters, else ``""``."""
    if "(" not in name:
        return ""
    from gamesolve.registry import parse_game_string

    try:
        _, params = parse_game_string(name)
    except GameNotFoundError:
        return ""
    shown = ", ".join(f"{k}={v if len(v) <= 30 else v[:20] + '...'}" for k, v in params.items())
    return f"; check its parameters {shown}" if shown else ""


def _shown(name: str) -> str:
    """``repr(name)``, shortened so that a message stays one readable line."""
    return repr(name) if len(name) <= 100 else f"{name[:60]!r}...({len(name):,} characters)"


def _probe(game: Any, name: str) -> None:
    """Play one short random game, so that parameters OpenSpiel accepts but cannot play fail here.

    OpenSpiel checks few parameter values when it loads a game: ``liars_dice(numdice=0)`` loads and
    then fails on the first die roll, ``numdice=-1`` on the first state. One rollout (at most a few
    hundred moves) finds these at once.

    Raises:
        GameNotFoundError: The game cannot be played with these parameters.
    """
    pyspiel = _pyspiel()
    hint = _parameter_hint(name)
    if int(game.num_distinct_actions()) < 1 or int(game.max_game_length()) < 1:
        raise GameNotFoundError(
            f"OpenSpiel game {_shown(name)} has no actions or no moves with these parameters{hint}"
        )
    rng = np.random.default_rng(0)
    try:
        with _quiet_stderr():
            state = game.new_initial_state()
            for _ in range(min(_max_history_length(game), 1000)):
                if state.is_terminal():
                    break
                if state.is_chance_node():
                    choices = [a for a, _ in state.chance_outcomes()]
                elif state.is_simultaneous_node():
                    joint = [list(state.legal_actions(p)) for p in range(game.num_players())]
                    if any(not acts for acts in joint):
                        raise GameNotFoundError(
                            f"OpenSpiel game {_shown(name)} offers a player no action{hint}"
                        )
                    state.apply_actions([int(acts[int(rng.integers(len(acts)))]) for acts in joint])
                    continue
                else:
                    choices = state.legal_actions()
                if not choices:
                    raise GameNotFoundError(
                        f"OpenSpiel game {_shown(name)} reaches a history that is not terminal but offers no "
                        f"action{hint}"
                    )
                state.apply_action(int(choices[int(rng.integers(len(choices)))]))
    except (pyspiel.SpielError, RuntimeError, ValueError, IndexError, OverflowError, MemoryError) as exc:
        raise GameNotFoundError(f"OpenSpiel cannot play {_shown(name)}: {_first_line(exc)}{hint}") from None


def load(name: str) -> OpenSpielGame:
    """Load an OpenSpiel game by its game string.

    The game is played once at random right away, so that parameter values OpenSpiel accepts but
    cannot play (``liars_dice(numdice=0)``) fail here, naming the game and its parameters.

    Raises:
        GameNotFoundError: OpenSpiel does not know the name, rejects its parameters, or fails
            when playing it.
        UnsupportedGame: The game cannot be compiled exactly (sampled chance, no infoset strings).
    """
    pyspiel = _pyspiel()
    short = name.split("(", 1)[0].strip()
    known = pyspiel.registered_names()
    if short not in known:
        close = difflib.get_close_matches(short, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; run 'gamesolve games' for the list"
        raise GameNotFoundError(f"unknown game {_shown(name)}{hint}")
    _check_integer_parameters(pyspiel, short, name)
    try:
        with _quiet_stderr():
            game = pyspiel.load_game(name)
    except Exception as exc:  # pyspiel raises plain RuntimeError/SpielError
        raise GameNotFoundError(f"OpenSpiel cannot load {_shown(name)}: {_first_line(exc)}") from exc
    _probe(game, name)
    try:
        if game.get_type().dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
            log.info("converting simultaneous-move game %s to turn-based form", name)
            return OpenSpielGame(pyspiel.convert_to_turn_based(game), name, simultaneous=game)
        return OpenSpielGame(game, name)
    except ValueError as exc:  # the spec refuses what OpenSpiel built (no players, ...)
        raise GameNotFoundError(f"OpenSpiel game {_shown(name)} cannot be used: {exc}") from None


#: Integer parameters of OpenSpiel games may be at most this many times their default (seeds
#: excepted): OpenSpiel builds some games eagerly (blotto's action list: 5 s at 100 times the
#: default coins, over a minute at 1,000 times) in C++ that holds the interpreter.
PARAMETER_FACTOR = 100

#: Parameter names that count players (checked against the game's player range before loading).
_PLAYER_PARAMETERS = frozenset({"players", "numplayers", "num_players"})


def _check_integer_parameters(pyspiel: Any, short: str, name: str) -> None:
    """Refuse integer parameters OpenSpiel may crash on (a segfault, not an error) before loading.

    A player count outside the game's declared range, a value below 1 for an integer whose default
    is at least 1 and a negative value for one whose default is not negative
    (``universal_poker(numPlayers=-5)`` and ``numRanks=0`` end the process inside OpenSpiel),
    and a value more than :data:`PARAMETER_FACTOR` times the default (``blotto(coins=10000000)``
    holds the interpreter inside OpenSpiel's C++ indefinitely).
    """
    from gamesolve.registry import parse_game_string

    gtype = next((t for t in pyspiel.registered_games() if t.short_name == short), None)
    if gtype is None:
        return
    _, params = parse_game_string(name)
    spec = dict(gtype.parameter_specification)
    for key, raw in params.items():
        default = spec.get(key)
        if isinstance(default, bool) or not isinstance(default, int):
            continue
        try:
            value = int(raw)
        except ValueError:
            continue  # OpenSpiel reports values of the wrong type itself
        given = raw if len(raw) <= 40 else f"{raw[:37]}..."
        low, high = int(gtype.min_num_players), int(gtype.max_num_players)
        if key.lower() in _PLAYER_PARAMETERS and not low <= value <= high:
            raise GameNotFoundError(
                f"bad parameter {key}={given} in {_shown(name)}: OpenSpiel's {short} takes {low} to "
                f"{high} players"
            )
        if "seed" not in key.lower() and abs(value) > PARAMETER_FACTOR * max(abs(default), 1):
            raise GameTooLargeError(
                f"parameter {key}={given} of OpenSpiel game {short!r} is more than {PARAMETER_FACTOR} times "
                f"its default ({default}); OpenSpiel may build such a game for minutes inside its C++, "
                "where it cannot be interrupted, so it is refused"
            )
        if default >= 1 and value < 1 and "seed" not in key.lower():
            raise GameNotFoundError(
                f"bad parameter {key}={given} in {_shown(name)}: OpenSpiel's {short} expects an integer >= 1 "
                f"(default {default})"
            )
        if default >= 0 and value < 0:
            raise GameNotFoundError(
                f"bad parameter {key}={given} in {_shown(name)}: OpenSpiel's {short} expects an integer >= 0 "
                f"(default {default})"
            )


def registered_names() -> list[str]:
    """Short names of the OpenSpiel games that can be compiled exactly."""
    pyspiel = _pyspiel()
    names = []
    for gtype in pyspiel.registered_games():
        if gtype.chance_mode == pyspiel.GameType.ChanceMode.SAMPLED_STOCHASTIC:
            continue
        if not gtype.provides_information_state_string:
            continue
        names.append(gtype.short_name)
    return sorted(names)


#: Declares OpenSpiel as the loader of every other game string (entry point ``*`` of the group
#: ``gamesolve.loaders``); it lists the games of :func:`registered_names`.
OPENSPIEL_LOADER = LoaderEntry("*", load, "OpenSpiel", registered_names)
