"""League training with exploiters on any two-player game: main agent, main and league exploiters.

The league of Vinyals et al. (2019), "Grandmaster level in StarCraft II using multi-agent
reinforcement learning", on the batched environments of :mod:`gamesolve.vector_env`, with the
Minimax Exploiter of Bairamian, Marcotte, Romoff, Robert and Nowrouzezahrai (2024), "Minimax
Exploiter: A data efficient approach for competitive self-play", as an option. Every round:

1. the **main agent** (one network for both seats, trained on without restarting) plays
   ``oracle_steps`` PPO decisions per seat against the league, each opponent drawn per episode by
   prioritized fictitious self-play (PFSP): a member the main agent beats with probability ``p`` is
   drawn with weight ``(1 - p) ** pfsp_power`` (with a floor, so no member is dropped);
2. ``main_exploiters`` **main exploiters** train from scratch against the main agent as it now is,
   with ``minimax_coef`` > 0 each of their moves also paid minus the main agent's own value at its
   next decision (read from the main agent's value network);
3. ``league_exploiters`` **league exploiters** train from scratch against the whole league (drawn
   uniformly: a fresh exploiter has no win rates yet);
4. a frozen copy of the main agent and every exploiter join the league; the meta-game between the
   members (both seats, seeded matches with standard errors, only new pairs played) is updated, and
   with it the win rates PFSP reads and the Elo ratings of the report.

The output is the main agent (a :class:`gamesolve.neural.NeuralPolicy`); on a compiled game its
exploitability is exact, elsewhere the report gives its scores against uniform random play and,
with ``eval_mcts_matches``, against OpenSpiel's MCTS bot at every evaluation. State is arrays only
(the main agent's actor and critic, every member's weights, the meta-game), so a checkpoint resumes
a run exactly on the CPU.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.arrays import flatten_layers, layer_shapes, layers_width, unflatten_layers
from gamesolve.checkpoint import StateRules
from gamesolve.errors import InvalidArgumentError, UnsupportedGame
from gamesolve.evaluation import exploitability as exact_exploitability
from gamesolve.mcts import DEFAULT_SIMULATIONS
from gamesolve.population import MetaGame, Population, meta_game_entries
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.deep.common import DeepGame, prepare_deep_game, report_policy
from gamesolve.solvers.psro.networks import NetworkCache, state_seed, write_meta
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_int, check_real

__all__ = ["LEAGUE_ENTRY", "League"]

log = logging.getLogger(__name__)

State = dict[str, Any]

#: Member kinds in ``state["kind"]``.
MAIN, MAIN_EXPLOITER, LEAGUE_EXPLOITER = 0, 1, 2
KIND_NAMES = {MAIN: "main", MAIN_EXPLOITER: "main-exploiter", LEAGUE_EXPLOITER: "league-exploiter"}

#: PFSP weight floor: every member keeps at least this share before normalisation.
PFSP_FLOOR = 0.02


def pfsp_weights(win_rates: NDArray[np.float64], power: float) -> NDArray[np.float64]:
    """PFSP ("hard" variant): weight ``(1 - p) ** power`` per opponent, floored, normalised."""
    w = np.clip(1.0 - np.asarray(win_rates, dtype=np.float64), 0.0, 1.0) ** power
    w = np.maximum(w, PFSP_FLOOR * max(float(w.max()), 1e-12)) if w.size else w
    return w / w.sum() if w.sum() > 0 else np.full(w.size, 1.0 / max(w.size, 1))


class League(IterativeSolver):
    """League training (see the module docstring); two-player zero-sum games.

    Args:
        oracle_steps: PPO decisions per seat per round of the main agent and of each exploiter.
        main_exploiters: Main exploiters per round (>= 0).
        league_exploiters: League exploiters per round (>= 0).
        minimax_coef: The Minimax Exploiter's shaping of main exploiters (0: plain PPO exploiters;
            finite, >= 0).
        pfsp_power: Exponent of PFSP's ``(1 - p) ** power`` (finite, >= 0; 0 draws uniformly).
        episodes: Matches per new pair of the league's meta-game, per seat order (>= 1).
        oracle_options: Options of the PPO learners (:class:`~gamesolve.solvers.rl_oracles.PPOOracle`;
            default: ``hidden=[128, 128]``, ``num_envs=256``).
        executor: Where the meta-game's matches run (see :mod:`gamesolve.executors`).
        eval_mcts_matches, eval_mcts_simulations: Matches per seat of the final report against
            OpenSpiel's MCTS bot (0: none) and its simulations per move.

    Raises:
        InvalidArgumentError: An option out of range, naming it.
    """

    name = "league"
    output = Iterate.CURRENT
    default_iterations = 8
    can_finish = False

    def __init__(
        self,
        *,
        oracle_steps: int = 50_000,
        main_exploiters: int = 1,
        league_exploiters: int = 1,
        minimax_coef: float = 0.0,
        pfsp_power: float = 2.0,
        episodes: int = 200,
        oracle_options: dict[str, Any] | None = None,
        executor: Any = "inprocess",
        eval_mcts_matches: int = 0,
        eval_mcts_simulations: int = DEFAULT_SIMULATIONS,
    ) -> None:
        from gamesolve.executors import check_executor

        self.oracle_steps = check_int("oracle_steps", oracle_steps, minimum=1)
        self.main_exploiters = check_int("main_exploiters", main_exploiters, minimum=0)
        self.league_exploiters = check_int("league_exploiters", league_exploiters, minimum=0)
        self.minimax_coef = check_real("minimax_coef", minimax_coef, minimum=0.0)
        self.pfsp_power = check_real("pfsp_power", pfsp_power, minimum=0.0)
        self.episodes = check_int("episodes", episodes, minimum=1)
        if oracle_options is not None and not isinstance(oracle_options, dict):
            raise InvalidArgumentError(f"oracle_options must be a mapping, got {oracle_options!r}")
        if oracle_options and "minimax_coef" in oracle_options:
            raise InvalidArgumentError("set minimax_coef on the league, not in oracle_options")
        self.oracle_options = {"hidden": [128, 128], "num_envs": 256, **(oracle_options or {})}
        self.executor = check_executor(executor)
        self.eval_mcts_matches = check_int("eval_mcts_matches", eval_mcts_matches, minimum=0)
        self.eval_mcts_simulations = check_int("eval_mcts_simulations", eval_mcts_simulations, minimum=1)
        self._nets = NetworkCache()
        self._oracles = self._make_oracles()  # checks the PPO options now, before any work

    def _make_oracles(self) -> tuple[Any, Any]:
        from gamesolve.solvers.rl_oracles import PPOOracle

        try:
            plain = PPOOracle(**self.oracle_options)
            minimax = PPOOracle(**self.oracle_options, minimax_coef=self.minimax_coef)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"oracle_options: {exc}") from None
        return plain, minimax

    # ------------------------------------------------------------------ protocol
    def config(self) -> dict[str, Any]:
        """The options as JSON values (the executor changes no number and is left out)."""
        return {
            "oracle_steps": self.oracle_steps,
            "main_exploiters": self.main_exploiters,
            "league_exploiters": self.league_exploiters,
            "minimax_coef": self.minimax_coef,
            "pfsp_power": self.pfsp_power,
            "episodes": self.episodes,
            "oracle_options": dict(self.oracle_options),
            "eval_mcts_matches": self.eval_mcts_matches,
            "eval_mcts_simulations": self.eval_mcts_simulations,
        }

    def prepare(self, game: Any) -> DeepGame:
        """The game as a batched environment (compiled too where it compiles)."""
        return prepare_deep_game(game)

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum extensive-form games."""
        if spec.kind is not GameKind.EXTENSIVE_FORM or not spec.is_two_player_zero_sum:
            raise UnsupportedGame(
                f"league training plays two-player zero-sum extensive-form games; {spec.name!r} is "
                f"{spec.kind.value} with {spec.num_players} players ({spec.utility.value})"
            )

    def _shapes(self, game: DeepGame) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        hidden = [int(h) for h in self.oracle_options["hidden"]]
        actor = layer_shapes([game.observation_size, *hidden, game.num_actions])
        critic = layer_shapes([game.observation_size, *hidden, 1])
        return actor, critic

    def init(self, game: DeepGame, rng: np.random.Generator) -> State:
        """A first main agent (its first round of self-play against the uniform policy to come)."""
        actor, critic = self._shapes(game)
        seed = int(rng.integers(0, 2**62))
        state: State = {
            "t": np.zeros((), dtype=np.int64),
            "seed": np.asarray(seed, dtype=np.int64),
            # the main agent starts uniform (all-zero weights: equal logits) and joins the league
            "main": np.zeros(layers_width(actor) + layers_width(critic), dtype=np.float32),
            "members": np.zeros((1, layers_width(actor)), dtype=np.float32),
            "kind": np.full(1, MAIN, dtype=np.int64),
            "born": np.zeros(1, dtype=np.int64),
        }
        self._update_meta_game(game, state, previous=None)
        self.state_rules = StateRules(
            counter="t",
            nonnegative=frozenset({"stderr", "counts"}),
            growing={
                "members": (0,),
                "kind": (0,),
                "born": (0,),
                "payoffs": (1, 2),
                "stderr": (1, 2),
                "counts": (0, 1),
            },
        )
        return state

    def check_state(self, game: DeepGame, state: State) -> None:
        """Members, kinds and the meta-game agree; weights are finite."""
        k = int(state["members"].shape[0])
        actor, critic = self._shapes(game)
        if state["members"].shape != (k, layers_width(actor)) or state["main"].shape != (
            layers_width(actor) + layers_width(critic),
        ):
            raise ValueError("the league's weights do not fit this game's network")
        if state["kind"].shape != (k,) or state["born"].shape != (k,):
            raise ValueError(f"arrays 'kind' and 'born' must have shape ({k},)")
        if state["payoffs"].shape != (2, k, k) or state["counts"].shape != (k, k):
            raise ValueError(f"the meta-game must be 2 x {k} x {k}, got {state['payoffs'].shape}")
        if not (np.isfinite(state["members"]).all() and np.isfinite(state["main"]).all()):
            raise ValueError("the league holds non-finite weights")

    # ------------------------------------------------------------------ members
    def _policy(self, game: DeepGame, key: Any, vector: NDArray[np.float32]) -> Any:
        """The actor of ``vector`` (a member's, or the main agent's actor and critic) as a network."""
        actor, _ = self._shapes(game)
        return self._nets.get(key, vector[: layers_width(actor)], actor, game)

    def _main_init(self, game: DeepGame, state: State) -> tuple[Any, Any]:
        actor, critic = self._shapes(game)
        vec = np.asarray(state["main"])
        return unflatten_layers(vec[: layers_width(actor)], actor), unflatten_layers(
            vec[layers_width(actor) :], critic
        )

    def names(self, state: State) -> tuple[str, ...]:
        """``main@t``, ``main-exploiter@t``, ``league-exploiter@t`` (``.n`` for several a round)."""
        out: list[str] = []
        seen: dict[str, int] = {}
        for kind, born in zip(state["kind"].tolist(), state["born"].tolist(), strict=True):
            base = f"{KIND_NAMES[kind]}@{born}"
            seen[base] = seen.get(base, 0) + 1
            out.append(base if seen[base] == 1 else f"{base}.{seen[base]}")
        return tuple(out)

    def population(self, game: DeepGame, state: State) -> Population:
        """Every member in both seats."""
        members = tuple(self._policy(game, k, m) for k, m in enumerate(state["members"]))
        names = self.names(state)
        return Population(members=(members, members), names=(names, names))

    def meta_game(self, state: State) -> MetaGame:
        """The league's meta-game (copies)."""
        names = self.names(state)
        return MetaGame(
            payoffs=np.array(state["payoffs"]),
            stderr=np.array(state["stderr"]),
            counts=np.array(state["counts"]),
            names=(names, names),
            exact=False,
            symmetric=True,  # the same agents in both seats: one rating per agent
        )

    def win_rates(self, state: State, row: int) -> NDArray[np.float64]:
        """Member ``row``'s score against every member, both seats averaged (a draw counts 1/2)."""
        p = np.asarray(state["payoffs"])
        scale = max(1.0, float(np.abs(p).max()))
        value = (p[0][row, :] + p[1][:, row]) / 2.0 / scale
        return (1.0 + value) / 2.0

    # ------------------------------------------------------------------ iteration
    def step(self, game: DeepGame, state: State, iterations: int = 1) -> None:
        """``iterations`` rounds."""
        for _ in range(iterations):
            t = int(state["t"]) + 1
            state["t"] = np.asarray(t, dtype=np.int64)
            self._round(game, state, t)

    def _train_both_seats(
        self, game: DeepGame, oracle: Any, opponents: Any, seed: int, init: Any = None, values: Any = None
    ) -> Any:
        """PPO in seat 0, then on in seat 1 (one network for both seats); the last response."""
        source = game.compiled if game.compiled is not None else game.source
        trained = None
        for seat in (0, 1):
            trained = oracle.train_vector(
                source,
                seat,
                opponents,
                seed=seed + seat,
                steps=self.oracle_steps,
                opponent_values=values,
                init=init,
            )
            init = (trained.layers, trained.critic_layers)
        return trained

    def _round(self, game: DeepGame, state: State, t: int) -> None:
        from gamesolve.vector_env.response import MixturePolicy

        plain, minimax = self._oracles
        league = [self._policy(game, k, m) for k, m in enumerate(state["members"])]
        main_row = int(np.flatnonzero(state["kind"] == MAIN)[-1])
        weights = pfsp_weights(self.win_rates(state, main_row), self.pfsp_power)
        # the all-zero first main agent is uniform but cannot learn (no gradient reaches a hidden
        # layer whose outgoing weights are zero): its first round starts from a fresh network
        init = self._main_init(game, state) if np.any(state["main"]) else None
        main = self._train_both_seats(
            game, plain, MixturePolicy(league, weights), state_seed(state, 1, t), init=init
        )
        state["main"] = np.concatenate([flatten_layers(main.layers), flatten_layers(main.critic_layers)])
        frozen = self._policy(game, "main", state["main"])
        new = [flatten_layers(main.layers)]
        kinds = [MAIN]
        for e in range(self.main_exploiters):
            oracle = minimax if self.minimax_coef > 0 else plain
            ex = self._train_both_seats(
                game,
                oracle,
                frozen,
                state_seed(state, 2, t, e),
                values=main.values if self.minimax_coef else None,
            )
            new.append(flatten_layers(ex.layers))
            kinds.append(MAIN_EXPLOITER)
        for e in range(self.league_exploiters):
            ex = self._train_both_seats(game, plain, MixturePolicy(league), state_seed(state, 3, t, e))
            new.append(flatten_layers(ex.layers))
            kinds.append(LEAGUE_EXPLOITER)
        previous = self.meta_game(state)
        state["members"] = np.concatenate([state["members"], np.stack(new)])
        state["kind"] = np.concatenate([state["kind"], np.asarray(kinds, dtype=np.int64)])
        state["born"] = np.concatenate([state["born"], np.full(len(new), t, dtype=np.int64)])
        self._update_meta_game(game, state, previous)
        row = int(np.flatnonzero(state["kind"] == MAIN)[-1])
        rates = self.win_rates(state, row)
        log.info(
            "league round %d: %d members; the main agent scores %.3f against the league (min %.3f)",
            t,
            len(rates),
            float(rates.mean()),
            float(rates.min()),
        )

    def _update_meta_game(self, game: DeepGame, state: State, previous: MetaGame | None) -> None:
        target = game.compiled if game.compiled is not None else game.source
        meta = meta_game_entries(
            target,
            self.population(game, state),
            episodes=self.episodes,
            seed=state_seed(state, 4, int(state["t"])),
            previous=previous,
            executor=self.executor,
            exact=False,
            progress=False,
        )
        write_meta(state, meta)

    # ------------------------------------------------------------------ outputs
    def policy(self, game: DeepGame, state: State, which: Iterate) -> Any:
        """The main agent as a network policy (both iterates)."""
        del which
        return self._policy(game, "main", state["main"])

    def evaluate(self, game: DeepGame, policy: Any) -> float:
        """Exact exploitability of the main agent on a compiled game, NaN elsewhere."""
        if game.compiled is None:
            return math.nan
        return float(exact_exploitability(game.compiled, policy.tabulate(game.compiled)))

    def report(self, game: DeepGame, policy: Any) -> Any:
        """Exact NashConv where the game compiles, else the scores against uniform play.

        With ``eval_mcts_matches``, also against OpenSpiel's MCTS bot.
        """
        return report_policy(
            game,
            policy,
            matches=200,
            seed=0,
            mcts_matches=self.eval_mcts_matches,
            mcts_simulations=self.eval_mcts_simulations,
        )

    def extras(self, game: DeepGame, state: State) -> dict[str, Any]:
        """The league: members and kinds, meta-game, Elo ratings, PFSP weights of the main agent."""
        meta = self.meta_game(state)
        row = int(np.flatnonzero(state["kind"] == MAIN)[-1])
        return {
            "population": self.population(game, state),
            "meta_game": meta,
            "member_kinds": [KIND_NAMES[k] for k in state["kind"].tolist()],
            "ratings": meta.ratings("elo"),
            "main_win_rates": self.win_rates(state, row).tolist(),
            "pfsp_weights": pfsp_weights(self.win_rates(state, row), self.pfsp_power).tolist(),
            "league_size": int(state["members"].shape[0]),
        }

    def __repr__(self) -> str:
        return f"League(main_exploiters={self.main_exploiters}, league_exploiters={self.league_exploiters})"


LEAGUE_ENTRY = SolverEntry(
    "league",
    League,
    "league training: main agent (PFSP), main and league exploiters, Minimax Exploiter option",
)
