"""A tabular Monte Carlo best response on the batched environment of any game (no torch, no tree).

Against a fixed policy in the other seats, the responder's information state is a Markov state
(perfect recall): given that the responder stands at information state ``I`` and plays ``a``,
what happens until its next decision or the end of the episode does not depend on how it played
before, because every history of ``I`` carries the same product of the responder's own action
probabilities. So the best-response value satisfies

``Q(I, a) = P(end | I, a) * E[return | I, a, end] + sum_J P(J | I, a) * max_b Q(J, b)``

over the responder's next information states ``J``, and estimating the transition frequencies and
mean terminal returns from sampled episodes, then solving that recursion from the deepest states
back (a certainty-equivalence, or model-based, Monte Carlo control: Sutton and Barto 2018,
"Reinforcement learning: an introduction", chapters 5 and 8), gives a deterministic response whose
decisions converge to a best response as every state is visited often. The estimate is consistent
under any exploration policy that tries every legal action, so episodes are gathered in rounds:
uniform play first, then epsilon-greedy play around the response solved so far (which spends the
samples where the response goes, where its decisions matter).

Information states are told apart by their observation tensors (the environment's
``"info_state"`` tensors identify them exactly; with ``"observation"`` tensors, states that look
alike are merged and the response is an approximation). The table grows with the states visited,
so the method suits games whose responder revisits its states (poker-like games, including
trees of millions of histories); on boards of astronomically many states it learns little and a
network (:meth:`gamesolve.solvers.rl_oracles.PPOOracle.train_vector`) generalizes better. Its
answers are used as a lower bound, so the noise of the estimates can only make the bound smaller,
never invalid: :func:`gamesolve.rl_exploitability_bound` evaluates the response on fresh episodes.

>>> import gamesolve
>>> from gamesolve.vector_env.mc_response import MonteCarloOracle
>>> game = gamesolve.load_game("kuhn")
>>> oracle = MonteCarloOracle(num_envs=256)
>>> response = oracle.train_vector(game, 0, gamesolve.uniform_policy(game), steps=20_000)
>>> response.num_states
6
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError
from gamesolve.validation import check_int
from gamesolve.vector_env.response import ResponseStep, VectorResponseEnv
from gamesolve.vector_env.tree import TreeVectorEnv

__all__ = ["MonteCarloOracle", "MonteCarloResponse"]

log = logging.getLogger(__name__)


class MonteCarloResponse:
    """A deterministic response: the best action id of every information state seen in training.

    It acts on the environment it was trained on (and any with the same observation tensors):
    :meth:`act_batch` plays the responder's slots of a
    :class:`~gamesolve.vector_env.response.ResponseStep`; states never seen in training get a
    uniformly random legal action. :meth:`action_probs` gives the same as probabilities over action
    ids, and :meth:`tabulate` the response as a table of a compiled game.

    Attributes:
        kind: ``"mc"``.
        player: The responding seat.
        game: The game's name.
        observation_kind: The tensors it reads.
        num_actions: ``A``.
        observation_size: ``F``.
        num_states: Information states in the table.
        steps: Responder decisions sampled in training.
        values: ``[num_states]`` the estimated best-response value of each state.
        seconds: Training wall time.
        config: The oracle's configuration.
    """

    kind = "mc"
    greedy = True

    def __init__(
        self,
        *,
        player: int,
        game: str,
        observation_kind: str,
        keys: dict[bytes, int],
        best: NDArray[np.int64],
        values: NDArray[np.float64],
        num_actions: int,
        observation_size: int,
        steps: int,
        seconds: float,
        config: dict[str, Any],
    ) -> None:
        self.player = int(player)
        self.game = game
        self.observation_kind = observation_kind
        self._keys = keys
        self._best = np.asarray(best, dtype=np.int64)
        self.values = np.asarray(values, dtype=np.float64)
        self.num_actions = int(num_actions)
        self.observation_size = int(observation_size)
        self.steps = int(steps)
        self.seconds = float(seconds)
        self.config = dict(config)

    @property
    def num_states(self) -> int:
        """Information states in the table."""
        return len(self._keys)

    def _lookup(self, observation: NDArray[np.float32]) -> NDArray[np.int64]:
        """``[n]`` the best action id of each row's state, ``-1`` for states never seen."""
        rows = _row_keys(observation)
        ids = np.fromiter((self._keys.get(key, -1) for key in rows), dtype=np.int64, count=len(rows))
        if not self._best.size:
            return np.full(len(rows), -1, dtype=np.int64)
        return np.where(ids >= 0, self._best[np.maximum(ids, 0)], -1)

    def action_probs(self, observation: ArrayLike, legal: ArrayLike) -> NDArray[np.float64]:
        """``[n, A]``: one on the state's best action, uniform over the legal ids where unseen."""
        obs = np.asarray(observation, dtype=np.float32).reshape(-1, self.observation_size)
        mask = np.asarray(legal, dtype=bool).reshape(obs.shape[0], self.num_actions)
        best = self._lookup(obs)
        out = mask / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        seen = np.flatnonzero(best >= 0)
        out[seen] = 0.0
        out[seen, best[seen]] = 1.0
        return out

    def act_batch(self, step: ResponseStep, rng: np.random.Generator) -> NDArray[np.int64]:
        """``[B]`` action ids for the slots where the responder acts (0 elsewhere)."""
        out = np.zeros(step.mine.shape[0], dtype=np.int64)
        rows = np.flatnonzero(step.mine)
        if rows.size:
            best = self._lookup(step.observation[rows])
            unseen = best < 0
            if unseen.any():
                best[unseen] = _uniform_legal(step.legal[rows[unseen]], rng)
            out[rows] = best
        return out

    def __call__(self, step: ResponseStep, rng: np.random.Generator) -> NDArray[np.int64]:
        """Same as :meth:`act_batch`."""
        return self.act_batch(step, rng)

    def tabulate(self, game: Any) -> Any:
        """The response as a :class:`~gamesolve.policy.TabularPolicy` of a compiled game.

        Every infoset's tensor is looked up: the responder's rows play the response (rows of
        states it never saw, and the other players' rows, are uniform).
        """
        from gamesolve.vector_env.tree import tabulate_probs

        return tabulate_probs(game, self.action_probs, self.observation_kind, self.num_actions)

    def __repr__(self) -> str:
        return f"MonteCarloResponse(player={self.player}, game={self.game!r}, states={self.num_states})"


def _row_keys(observation: ArrayLike) -> list[bytes]:
    """Each row's float32 bytes: the key of its information state."""
    obs = np.ascontiguousarray(observation, dtype=np.float32)
    width = obs.shape[1] * 4
    buf = obs.tobytes()
    return [buf[k * width : (k + 1) * width] for k in range(obs.shape[0])]


def _uniform_legal(legal: NDArray[np.bool_], rng: np.random.Generator) -> NDArray[np.int64]:
    """``[n]`` a uniformly random legal action id per row."""
    cum = np.cumsum(legal, axis=1)
    pick = np.floor(rng.random(legal.shape[0]) * cum[:, -1]).astype(np.int64)
    return np.argmax(cum > pick[:, None], axis=1).astype(np.int64)


def _solved(best: NDArray[np.int64], ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """``[n]`` the solved best action of each state id (``-1``: unknown, new or unsolved)."""
    inside = (ids >= 0) & (ids < best.size)
    out = np.full(ids.shape[0], -1, dtype=np.int64)
    out[inside] = best[ids[inside]]
    return out


class _Statistics:
    """Visit counts, terminal returns and transitions of the responder's (state, action) pairs."""

    def __init__(self, num_actions: int, max_states: int) -> None:
        self.num_actions = num_actions
        self.max_states = max_states
        self.keys: dict[bytes, int] = {}
        capacity = 1024
        self.legal = np.zeros((capacity, num_actions), dtype=np.bool_)
        self.depth = np.zeros(capacity, dtype=np.int64)
        self.count = np.zeros(capacity * num_actions)
        self.returns = np.zeros(capacity * num_actions)
        self.edges: list[NDArray[np.int64]] = []
        self.edge_code = np.zeros(0, dtype=np.int64)
        self.edge_count: NDArray[np.float64] = np.zeros(0)
        self.dropped = 0
        self.by_label = np.full(0, -1, dtype=np.int64)

    def _grow(self, needed: int) -> None:
        capacity = self.depth.shape[0]
        if needed <= capacity:
            return
        new = max(needed, 2 * capacity)
        a = self.num_actions
        self.legal = np.concatenate([self.legal, np.zeros((new - capacity, a), dtype=np.bool_)])
        self.depth = np.concatenate([self.depth, np.zeros(new - capacity, dtype=np.int64)])
        self.count = np.concatenate([self.count, np.zeros((new - capacity) * a)])
        self.returns = np.concatenate([self.returns, np.zeros((new - capacity) * a)])

    def ids(
        self,
        observation: NDArray[np.float32],
        legal: NDArray[np.bool_],
        depth: NDArray[np.int64],
        labels: NDArray[np.int64] | None = None,
    ) -> NDArray[np.int64]:
        """``[n]`` the state id of each row, registering new states (``-1`` past ``max_states``).

        ``labels`` (optional, the compiled tree's infoset ids of the rows) only make the lookup a
        gather: a label seen before maps to its state, a new label is resolved by its tensor once.
        """
        if labels is None:
            return self._by_tensor(observation, legal, depth)
        top = int(labels.max()) + 1
        if top > self.by_label.size:
            grown = np.full(max(top, 2 * self.by_label.size), -1, dtype=np.int64)
            grown[: self.by_label.size] = self.by_label
            self.by_label = grown
        out = self.by_label[labels]
        new = np.flatnonzero(out < 0)
        if new.size:
            out[new] = self._by_tensor(observation[new], legal[new], depth[new])
            self.by_label[labels[new]] = out[new]
        return out

    def _by_tensor(
        self, observation: NDArray[np.float32], legal: NDArray[np.bool_], depth: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        row_keys = _row_keys(observation)
        keys = self.keys
        out = np.empty(len(row_keys), dtype=np.int64)
        new_rows: list[int] = []
        for k, key in enumerate(row_keys):
            i = keys.get(key)
            if i is None:
                if len(keys) >= self.max_states:
                    out[k] = -1
                    continue
                i = len(keys)
                keys[key] = i
                new_rows.append(k)
            out[k] = i
        if new_rows:
            rows = np.asarray(new_rows, dtype=np.int64)
            self._grow(len(keys))
            self.legal[out[rows]] = legal[rows]
            self.depth[out[rows]] = depth[rows]
        return out

    def add_edges(self, src: NDArray[np.int64], dst: NDArray[np.int64]) -> None:
        """Pairs ``src`` (state * A + action) were followed by the responder's state ``dst``."""
        np.add.at(self.count, src, 1.0)
        self.edges.append((src << 31) + dst)

    def add_ends(self, src: NDArray[np.int64], returns: NDArray[np.float64]) -> None:
        """Pairs ``src`` were followed by the end of the episode with these returns."""
        np.add.at(self.count, src, 1.0)
        np.add.at(self.returns, src, returns)

    def _fold(self) -> None:
        if not self.edges:
            return
        codes = np.concatenate([self.edge_code, *self.edges])
        weights = np.concatenate([self.edge_count, np.ones(codes.size - self.edge_code.size)])
        unique, inverse = np.unique(codes, return_inverse=True)
        self.edge_code = unique.astype(np.int64)
        counts = np.bincount(inverse.reshape(-1), weights=weights, minlength=unique.size)
        self.edge_count = counts.astype(np.float64)
        self.edges = []

    def solve(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Backward induction over the estimated model: ``(best action id [S], value [S])``.

        States are solved from the deepest (most responder decisions before them) to the root;
        under perfect recall every transition goes deeper, so each ``Q(I, a)`` uses the solved
        values of the states after it. A state none of whose actions has an outcome yet gets
        ``-1`` (played uniformly).
        """
        self._fold()
        s, a = len(self.keys), self.num_actions
        best = np.full(s, -1, dtype=np.int64)
        value = np.zeros(s)
        if s == 0:
            return best, value
        count = self.count[: s * a].reshape(s, a)
        total = self.returns[: s * a].copy()
        src = self.edge_code >> 31
        dst = self.edge_code & ((1 << 31) - 1)
        depth = self.depth[:s]
        edge_depth = depth[src // a]
        for d in range(int(depth.max()), -1, -1):
            take = edge_depth == d
            np.add.at(total, src[take], self.edge_count[take] * value[dst[take]])
            states = np.flatnonzero(depth == d)
            n = count[states]
            q = np.where(n > 0, total.reshape(s, a)[states] / np.maximum(n, 1.0), -np.inf)
            pick = np.argmax(q, axis=1)
            top = q[np.arange(states.size), pick]
            known = np.isfinite(top)
            best[states] = np.where(known, pick, -1)
            value[states] = np.where(known, top, 0.0)
        return best, value


class MonteCarloOracle:
    """Trains :class:`MonteCarloResponse` best responses on the batched environment (``oracle="mc"``).

    Args:
        num_envs: Episodes stepped together.
        rounds: Rounds of sampling; the model is solved after each and the next round explores
            around the response solved so far (the first round plays uniformly).
        exploration: Probability of a uniformly random legal action in rounds after the first.
        max_states: Most information states kept (about ``F * 4 + 100`` bytes each); states seen
            after the table is full are not learned (their samples are dropped, with a warning).

    Raises:
        InvalidArgumentError: An option outside its range.
    """

    name = "mc"

    def __init__(
        self,
        *,
        num_envs: int = 1024,
        rounds: int = 4,
        exploration: float = 0.3,
        max_states: int = 4_000_000,
    ) -> None:
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        self.rounds = check_int("rounds", rounds, minimum=1)
        if not isinstance(exploration, int | float) or not 0.0 < float(exploration) <= 1.0:
            raise InvalidArgumentError(f"exploration must be a number in (0, 1], got {exploration!r}")
        self.exploration = float(exploration)
        self.max_states = check_int("max_states", max_states, minimum=1)

    def config(self) -> dict[str, Any]:
        """The options, as given."""
        return {
            "num_envs": self.num_envs,
            "rounds": self.rounds,
            "exploration": self.exploration,
            "max_states": self.max_states,
        }

    def train_vector(
        self, game: Any, player: int, policy: Any, *, seed: int = 0, steps: int = 200_000
    ) -> MonteCarloResponse:
        """Sample ``steps`` responder decisions against ``policy`` and solve for the best response.

        Args:
            game: Anything :func:`gamesolve.vector_env` takes.
            player: The responding seat.
            policy: The fixed policy of the other seats (see
                :func:`~gamesolve.vector_env.response.fixed_actor`).
            seed: Seeds the environment and every draw.
            steps: Responder decisions to sample (rounded up to whole batched steps).

        Raises:
            InvalidArgumentError: Bad ``player``, ``steps`` or ``seed``.
            InvalidPolicyError: ``policy`` does not fit the game.
        """
        steps = check_int("steps", steps, minimum=1)
        seed = check_int("seed", seed, minimum=0)
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        env = VectorResponseEnv(game, player, policy, num_envs=self.num_envs, seed=int(rng.integers(1 << 31)))
        start = time.perf_counter()
        try:
            stats = _Statistics(env.num_actions, self.max_states)
            best = np.zeros(0, dtype=np.int64)
            value = np.zeros(0)
            taken = 0
            for r in range(self.rounds):
                quota = steps * (r + 1) // self.rounds
                epsilon = 1.0 if r == 0 else self.exploration
                taken = self._sample(env, stats, best, epsilon, quota, taken, rng)
                best, value = stats.solve()
                log.debug("mc response of player %d, round %d: %d states", player, r, len(stats.keys))
        finally:
            env.close()
        if stats.dropped:
            log.warning(
                "mc response of player %d: the table reached max_states=%d; %d samples of later "
                "states were not learned",
                player,
                self.max_states,
                stats.dropped,
            )
        seconds = time.perf_counter() - start
        log.info(
            "mc response of player %d: %d decisions, %d states in %.2f s",
            player,
            taken,
            len(stats.keys),
            seconds,
        )
        return MonteCarloResponse(
            player=env.player,
            game=env.spec.name,
            observation_kind=env.env.observation_kind,
            keys=stats.keys,
            best=best,
            values=value,
            num_actions=env.num_actions,
            observation_size=env.observation_size,
            steps=taken,
            seconds=seconds,
            config=self.config(),
        )

    def _sample(
        self,
        env: VectorResponseEnv,
        stats: _Statistics,
        best: NDArray[np.int64],
        epsilon: float,
        quota: int,
        taken: int,
        rng: np.random.Generator,
    ) -> int:
        """Play whole episodes until ``quota`` decisions are taken; record them in ``stats``."""
        a = env.num_actions
        last = np.full(env.num_envs, -1, dtype=np.int64)
        depth = np.zeros(env.num_envs, dtype=np.int64)
        step = env.reset()
        started = np.ones(env.num_envs, dtype=np.bool_)  # the slot's episode counts
        # a compiled tree names each slot's infoset: a gather instead of hashing every tensor
        tree = (
            env.env
            if isinstance(env.env, TreeVectorEnv) and env.env.observation_kind == "info_state"
            else None
        )
        while True:
            mine = np.flatnonzero(step.mine)
            actions = np.zeros(env.num_envs, dtype=np.int64)
            if mine.size:
                actions[mine] = _uniform_legal(step.legal[mine], rng)
            rows = np.flatnonzero(step.mine & started)
            if rows.size:
                labels = None if tree is None else tree.infoset_ids[rows].astype(np.int64)
                ids = stats.ids(step.observation[rows], step.legal[rows], depth[rows], labels)
                prev = last[rows]
                known = ids >= 0
                link = (prev >= 0) & known
                if link.any():
                    stats.add_edges(prev[link], ids[link])
                stats.dropped += int(((prev >= 0) & ~known).sum())
                choice = actions[rows]
                solved = _solved(best, ids)
                greedy = (solved >= 0) & (rng.random(rows.size) >= epsilon)
                choice[greedy] = solved[greedy]
                actions[rows] = choice
                last[rows] = np.where(known, ids * a + choice, -1)
                depth[rows] += 1
                taken += rows.size
            step = env.step(actions, rng)
            ended = np.flatnonzero(step.done)
            if ended.size:
                src = last[ended]
                ok = src >= 0
                if ok.any():
                    stats.add_ends(src[ok], step.reward[ended][ok])
                last[ended] = -1
                depth[ended] = 0
                if taken >= quota:
                    started[ended] = False  # finish the episodes in flight, start no new ones
            if taken >= quota and not (last >= 0).any():
                return taken
