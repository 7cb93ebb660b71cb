"""PettingZoo adapters: gamesolve games as PettingZoo envs, PettingZoo envs as gamesolve games.

Every env built by ``to_pettingzoo`` must pass PettingZoo's own checkers (``api_test``,
``parallel_api_test``, ``seed_test``), and random play through it must reproduce the exact
expected payoff of the game it came from (within 4 standard errors), so the env is the same game.
The tree expansion is pinned on tic-tac-toe: 549,946 histories, 255,168 complete games and 5,478
reachable positions (the known counts), value 0 (a draw).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.classic import connect_four_v3, rps_v2, tictactoe_v3
from pettingzoo.test import api_test, parallel_api_test, seed_test
from pettingzoo.test.seed_test import parallel_seed_test

import gamesolve
from gamesolve.compiled import TERMINAL_NODE, CompiledGame
from gamesolve.errors import UnsupportedGame
from gamesolve.games.pettingzoo import (
    ExtensiveFormEnv,
    MarkovEnv,
    MarkovParallelEnv,
    PettingZooTree,
    compile_pettingzoo,
    from_pettingzoo,
    to_pettingzoo,
)
from gamesolve.markov import MarkovProfile, TabularMarkovGame, markov_game, policy_values
from gamesolve.spec import GameKind, Utility


@pytest.fixture(autouse=True)
def _quiet_checkers() -> Any:
    """PettingZoo's checkers print and warn about style (e.g. all-zero observations); not errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def two_state_game() -> TabularMarkovGame:
    """s0 plays [[2, -1], [-1, 1]]; joint action (0, 0) moves to the absorbing terminal s1."""
    transition = np.zeros((2, 2, 2, 2))
    transition[0, :, :, 0] = 1.0
    transition[0, 0, 0] = [0.0, 1.0]
    transition[1, :, :, 1] = 1.0
    stage = np.array([[[2.0, -1.0], [-1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]])
    return markov_game(transition, stage, 0.9, terminal=[False, True], name="two_state")


def play_uniform_aec(env: Any, episodes: int, rng: np.random.Generator) -> np.ndarray:
    """Every agent uniform over its mask; returns each agent's total reward ``[episodes, P]``.

    Rewards are read with ``last()``, PettingZoo's own accounting.
    """
    index = {a: i for i, a in enumerate(env.possible_agents)}
    totals = np.zeros((episodes, len(index)))
    for e in range(episodes):
        env.reset(seed=e)
        for agent in env.agent_iter():
            obs, reward, terminated, truncated, _ = env.last()
            totals[e, index[agent]] += reward
            if terminated or truncated:
                env.step(None)
                continue
            env.step(int(rng.choice(np.flatnonzero(obs["action_mask"]))))
    return totals


def play_uniform_markov_returns(env: MarkovEnv, episodes: int, rng: np.random.Generator) -> np.ndarray:
    """Discounted returns ``[episodes, P]`` of uniform play, summing ``env.rewards`` per joint step."""
    gamma = env.discount
    out = np.zeros((episodes, len(env.possible_agents)))
    for e in range(episodes):
        env.reset(seed=e)
        weight = 1.0
        while env.agents:
            agent = env.agent_selection
            if env.terminations[agent] or env.truncations[agent]:
                env.step(None)
                continue
            before = env._steps
            mask = env.observe(agent)["action_mask"]
            env.step(int(rng.choice(np.flatnonzero(mask))))
            if env._steps != before:  # a joint step was applied: stage rewards are in env.rewards
                out[e] += weight * np.array([env.rewards[a] for a in env.possible_agents])
                weight *= gamma
    return out


def assert_within_4se(samples: np.ndarray, exact: np.ndarray) -> None:
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    assert np.all(np.abs(mean - exact) <= 4 * se + 1e-12), (mean, exact, se)


class Nim(AECEnv):
    """Two players take 1 to 3 sticks in turn; taking the last stick wins (+1, the other -1).

    A plain (non-EzPickle) AEC env for the tree expander: its positions merge (``sticks`` and
    the player to move), its tree grows exponentially, and ``sticks % 4 != 0`` is a first-player
    win.
    """

    metadata = {"name": "nim_v0", "render_modes": [], "is_parallelizable": False}  # noqa: RUF012

    def __init__(self, sticks: int = 7, *, action_space: Any = None, lock: bool = False) -> None:
        super().__init__()
        self.sticks = sticks
        self.possible_agents = ["player_0", "player_1"]
        self.action_spaces = {a: action_space or spaces.Discrete(3) for a in self.possible_agents}
        self.observation_spaces = {
            a: spaces.Dict(
                {
                    "observation": spaces.Box(0.0, float(sticks), (1,), np.float32),
                    "action_mask": spaces.Box(0, 1, (3,), np.int8),
                }
            )
            for a in self.possible_agents
        }
        if lock:
            self.lock = threading.Lock()

    def observation_space(self, agent: str) -> Any:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> Any:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: Any = None) -> None:
        self.agents = list(self.possible_agents)
        self.left = self.sticks
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self.agent_selection = "player_0"

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        mask = np.zeros(3, dtype=np.int8)
        if agent == self.agent_selection and not self.terminations[agent]:
            mask[: min(3, self.left)] = 1
        return {"observation": np.array([self.left], dtype=np.float32), "action_mask": mask}

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        other = self.possible_agents[1 - self.possible_agents.index(agent)]
        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        self.left -= int(action) + 1
        if self.left <= 0:
            self.rewards[agent], self.rewards[other] = 1.0, -1.0
            self.terminations = dict.fromkeys(self.agents, True)
        self.agent_selection = other
        self._accumulate_rewards()


def _depths(c: CompiledGame) -> np.ndarray:
    depth = np.zeros(c.num_nodes, dtype=np.int64)
    parent = c.node_parent.astype(np.int64)
    while True:
        nxt = np.where(parent >= 0, depth[np.maximum(parent, 0)] + 1, 0)
        if np.array_equal(nxt, depth):
            return depth
        depth = nxt


def _backward(c: CompiledGame, utility: np.ndarray, rule: Callable[[np.ndarray], np.ndarray]) -> tuple:
    """Backward pass on a perfect-information compiled game (an oracle independent of gamesolve).

    ``rule(node_player)`` gives per node 0 (max), 1 (min) or 2 (mean). Returns node values and the
    first optimal slot per node (-1 where the rule is the mean).
    """
    values = np.zeros(c.num_nodes)
    values[c.terminal_node] = utility
    best = np.full(c.num_nodes, -1, dtype=np.int64)
    depth = _depths(c)
    for d in range(int(depth.max()) - 1, -1, -1):
        nodes = np.flatnonzero((depth == d) & (c.node_player != TERMINAL_NODE))
        if nodes.size == 0:
            continue
        starts = c.node_first_child[nodes].astype(np.int64)
        widths = c.node_num_children[nodes].astype(np.int64)
        assert np.all(starts[1:] == starts[:-1] + widths[:-1])  # breadth-first layout
        kids = values[starts[0] : starts[-1] + widths[-1]]
        offsets = starts - starts[0]
        hi = np.maximum.reduceat(kids, offsets)
        lo = np.minimum.reduceat(kids, offsets)
        mean = np.add.reduceat(kids, offsets) / widths
        which = rule(c.node_player[nodes])
        values[nodes] = np.select([which == 0, which == 1], [hi, lo], mean)
        slot = np.arange(kids.size) - np.repeat(offsets, widths)
        target = np.repeat(values[nodes], widths)
        first_best = np.minimum.reduceat(np.where(kids == target, slot, 1 << 30), offsets)
        best[nodes] = np.where(which == 2, -1, first_best)
    return values, best


# ---------------------------------------------------------------------------------------------
# 1. gamesolve -> PettingZoo
# ---------------------------------------------------------------------------------------------

EXTENSIVE = ["kuhn", "kuhn(players=3)", "leduc", "kuhn_poker", "leduc_poker"]


@pytest.mark.parametrize("name", EXTENSIVE)
def test_extensive_form_env_passes_api_and_seed_tests(name: str, game_loader: Callable[[str], Any]) -> None:
    game = game_loader(name)
    env = to_pettingzoo(game)
    assert isinstance(env, ExtensiveFormEnv)
    assert env.possible_agents == [f"player_{i}" for i in range(game.spec.num_players)]
    api_test(env, num_cycles=200, verbose_progress=False)
    seed_test(lambda: to_pettingzoo(game), num_cycles=50)


def test_compiled_game_env_walks_the_arrays(kuhn: Any) -> None:
    env = to_pettingzoo(kuhn.compile())  # a bare CompiledGame has no states: TreeState walks it
    api_test(env, num_cycles=100, verbose_progress=False)
    assert_within_4se(
        play_uniform_aec(env, 1500, np.random.default_rng(3)),
        gamesolve.expected_values(kuhn, gamesolve.uniform_policy(kuhn)),
    )


@pytest.mark.parametrize(("name", "episodes"), [("kuhn", 4000), ("kuhn(players=3)", 2000), ("leduc", 1500)])
def test_uniform_play_reproduces_the_exact_expected_payoff(
    name: str, episodes: int, game_loader: Callable[[str], Any]
) -> None:
    game = game_loader(name)
    env = to_pettingzoo(game)
    exact = gamesolve.expected_values(game, gamesolve.uniform_policy(game))
    totals = play_uniform_aec(env, episodes, np.random.default_rng(11))
    assert np.allclose(totals.sum(axis=1), 0.0)  # poker is zero-sum in every episode
    assert_within_4se(totals, exact)


def test_observation_is_the_acting_players_infoset(game_loader: Callable[[str], Any]) -> None:
    game = game_loader("leduc")
    env = to_pettingzoo(game)
    rng = np.random.default_rng(5)
    seen = 0
    for episode in range(30):
        env.reset(seed=episode)
        for agent in env.agent_iter():
            obs, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                assert not obs["observation"].any() and not obs["action_mask"].any()
                env.step(None)
                continue
            state = env.state_object
            player = env.possible_agents.index(agent)
            assert state.current_player() == player
            assert obs["observation"].dtype == np.float32 and obs["observation"].sum() == 1.0
            assert env.infoset_key(obs) == state.infoset_key(player) == info["infoset"]
            assert np.flatnonzero(obs["action_mask"]).tolist() == list(state.legal_actions())
            for other in env.possible_agents:
                if other != agent:
                    assert not env.observe(other)["observation"].any()
            seen += 1
            env.step(int(rng.choice(np.flatnonzero(obs["action_mask"]))))
    assert seen > 60


def test_chance_is_drawn_from_the_seeded_env_generator(kuhn: Any) -> None:
    env = to_pettingzoo(kuhn)
    deals = set()
    for seed in range(20):
        env.reset(seed=seed)
        first = env.infoset_key(env.observe(env.agent_selection))
        env.reset(seed=seed)
        assert env.infoset_key(env.observe(env.agent_selection)) == first
        deals.add(first)
    assert len(deals) == 3  # player 0 holds each of the three cards for some seed


def test_env_refuses_illegal_actions_and_bad_arguments(kuhn: Any) -> None:
    env = to_pettingzoo(kuhn, render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "player_0 to act at infoset '0'" or "player_0 to act" in env.render()
    with pytest.raises(ValueError, match="illegal for player_0"):
        env.step(5)
    with pytest.raises(ValueError, match="integer action id"):
        env.step(0.5)
    with pytest.raises(ValueError, match="render_mode"):
        to_pettingzoo(kuhn, render_mode="human")
    with pytest.raises(UnsupportedGame, match="parallel=True"):
        to_pettingzoo(kuhn, parallel=True)
    with pytest.raises(ValueError, match="max_steps"):
        to_pettingzoo(kuhn, max_steps=3)
    with pytest.raises(UnsupportedGame):
        to_pettingzoo(object())


NORMAL_FORM = {
    "rps": lambda: gamesolve.load_game("rps"),
    "three_player": lambda: gamesolve.normal_form_game(
        np.random.default_rng(0).integers(-3, 4, size=(3, 2, 3, 2)).astype(float), name="three_player"
    ),
}


@pytest.mark.parametrize("key", sorted(NORMAL_FORM))
def test_normal_form_envs_pass_api_and_seed_tests(key: str) -> None:
    game = NORMAL_FORM[key]()
    env = to_pettingzoo(game)
    assert isinstance(env, MarkovEnv)
    api_test(env, num_cycles=20, verbose_progress=False)
    seed_test(lambda: to_pettingzoo(game), num_cycles=10)
    penv = to_pettingzoo(game, parallel=True)
    assert isinstance(penv, MarkovParallelEnv)
    parallel_api_test(penv, num_cycles=20)
    parallel_seed_test(lambda: to_pettingzoo(game, parallel=True), num_cycles=10)


@pytest.mark.parametrize("key", sorted(NORMAL_FORM))
def test_normal_form_payoffs_and_hidden_choices(key: str) -> None:
    game = NORMAL_FORM[key]()
    n = game.num_players
    env = to_pettingzoo(game)
    rng = np.random.default_rng(2)
    for _ in range(10):
        env.reset()
        choices = []
        first_view = {a: env.observe(a)["observation"].copy() for a in env.possible_agents}
        for agent in env.possible_agents:
            assert env.agent_selection == agent
            # later movers see exactly what they saw before anyone chose
            assert np.array_equal(env.observe(agent)["observation"], first_view[agent])
            a = int(rng.integers(game.num_actions[env.possible_agents.index(agent)]))
            choices.append(a)
            env.step(a)
        assert all(env.terminations.values())
        paid = [env.rewards[a] for a in env.possible_agents]
        assert np.allclose(paid, game.payoffs[(slice(None), *choices)])
    totals = play_uniform_aec(to_pettingzoo(game), 3000, np.random.default_rng(8))
    assert_within_4se(totals, game.payoffs.reshape(n, -1).mean(axis=1))
    # the parallel env pays the same for the same joint action
    penv = to_pettingzoo(game, parallel=True)
    penv.reset(seed=0)
    joint = {a: 1 for a in penv.possible_agents}
    _, rewards, terminations, _, _ = penv.step(joint)
    assert np.allclose([rewards[a] for a in penv.possible_agents], game.payoffs[(slice(None),) + (1,) * n])
    assert all(terminations.values()) and penv.agents == []


def test_two_state_markov_envs_pass_api_and_seed_tests() -> None:
    game = two_state_game()
    env = to_pettingzoo(game)
    assert env.max_steps == game.default_horizon
    api_test(env, num_cycles=300, verbose_progress=False)
    seed_test(lambda: to_pettingzoo(game), num_cycles=50)
    parallel_api_test(to_pettingzoo(game, parallel=True), num_cycles=300)
    parallel_seed_test(lambda: to_pettingzoo(game, parallel=True), num_cycles=50)


def test_two_state_uniform_returns_match_exact_policy_values() -> None:
    game = two_state_game()
    exact = policy_values(game, MarkovProfile.uniform(game))[:, 0]  # [P] at s0
    returns = play_uniform_markov_returns(to_pettingzoo(game), 3000, np.random.default_rng(4))
    assert_within_4se(returns, exact)


def test_markov_aec_hides_same_step_moves_and_pays_stage_rewards() -> None:
    game = two_state_game()
    env = to_pettingzoo(game)
    env.reset(seed=0)
    before = env.observe("player_1")["observation"].copy()
    env.step(1)  # player_0 plays 1
    assert env.agent_selection == "player_1"
    assert np.array_equal(env.observe("player_1")["observation"], before)
    assert env.rewards == {"player_0": 0.0, "player_1": 0.0}  # nothing is paid mid-step
    env.step(0)  # joint (1, 0): stage reward -1 for player 0, stay in s0
    assert env.rewards == {"player_0": -1.0, "player_1": 1.0}
    assert not any(env.terminations.values())
    env.step(0)
    env.step(0)  # joint (0, 0): reward 2, absorbing terminal
    assert env.rewards == {"player_0": 2.0, "player_1": -2.0}
    assert all(env.terminations.values()) and not any(env.truncations.values())


def test_markov_truncates_at_max_steps() -> None:
    game = two_state_game()
    penv = to_pettingzoo(game, parallel=True, max_steps=3)
    penv.reset(seed=0)
    for step in range(3):
        _, _, terminations, truncations, _ = penv.step({"player_0": 1, "player_1": 1})  # never ends
        assert not any(terminations.values())
        assert all(truncations.values()) == (step == 2)
    assert penv.agents == []
    env = to_pettingzoo(game, max_steps=2)
    env.reset(seed=0)
    for _ in range(4):
        env.step(0 if env.agent_selection == "player_0" else 1)
    assert all(env.truncations.values()) and not any(env.terminations.values())
    with pytest.raises(ValueError, match="max_steps"):
        to_pettingzoo(game, max_steps=0)


def test_soccer_envs_pass_api_tests() -> None:
    from gamesolve.games.markov import soccer

    game = soccer()
    api_test(to_pettingzoo(game, max_steps=40), num_cycles=200, verbose_progress=False)
    parallel_api_test(to_pettingzoo(game, parallel=True, max_steps=40), num_cycles=200)
    seed_test(lambda: to_pettingzoo(game, max_steps=40), num_cycles=50)


# ---------------------------------------------------------------------------------------------
# 2. PettingZoo -> gamesolve
# ---------------------------------------------------------------------------------------------

ENVS: dict[str, Callable[[], Any]] = {
    "rps_v2": rps_v2.env,
    "rps_v2_parallel": rps_v2.parallel_env,
    "tictactoe_v3": tictactoe_v3.env,
    "connect_four_v3": connect_four_v3.env,
}


def random_match(game: Any, seed: int) -> tuple[list[tuple[tuple[int, ...], tuple[int, ...]]], np.ndarray]:
    rng = np.random.default_rng(seed)
    episode = game.new_episode(rng=np.random.default_rng(seed))
    trajectory = []
    while not episode.done:
        movers = episode.players_to_move
        for p in range(game.spec.num_players):
            assert episode.observation(p).shape == (game.observation_sizes[p],)
            assert episode.observation(p).dtype == np.float32
        actions = tuple(int(rng.choice(episode.legal_actions(p))) for p in movers)
        episode.step(list(actions))
        trajectory.append((movers, actions))
        assert len(trajectory) < 200
    assert episode.players_to_move == ()
    return trajectory, episode.returns


@pytest.mark.parametrize("name", sorted(ENVS))
def test_seeded_random_matches_are_reproducible(name: str) -> None:
    game = from_pettingzoo(ENVS[name])
    assert game.spec.kind is GameKind.MARKOV and game.spec.utility is Utility.GENERAL_SUM
    assert game.spec.simultaneous == name.endswith("parallel")
    first, returns = random_match(game, 7)
    again, returns_again = random_match(game, 7)
    assert first == again and np.array_equal(returns, returns_again)
    others = [random_match(game, s)[0] for s in range(3)]
    assert any(t != first for t in others)


def test_tictactoe_returns_are_a_zero_sum_result() -> None:
    game = from_pettingzoo(tictactoe_v3.env, utility="zero_sum")
    assert game.spec.utility is Utility.ZERO_SUM and game.num_actions == (9, 9)
    outcomes = set()
    for seed in range(25):
        trajectory, returns = random_match(game, seed)
        assert set(returns.tolist()) <= {-1.0, 0.0, 1.0} and returns.sum() == 0.0
        assert [movers for movers, _ in trajectory] == [((k % 2),) for k in range(len(trajectory))]
        outcomes.add(tuple(returns))
    assert len(outcomes) >= 2


def test_aec_and_parallel_rps_agree_and_masks_are_read() -> None:
    aec = from_pettingzoo(rps_v2.env)
    par = from_pettingzoo(rps_v2.parallel_env)
    ep_a = aec.new_episode(rng=np.random.default_rng(0))
    ep_p = par.new_episode(rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    while not ep_p.done:
        joint = [int(a) for a in rng.integers(3, size=2)]
        ep_p.step(joint)
        ep_a.step([joint[0]])
        ep_a.step([joint[1]])
    assert ep_a.done and np.array_equal(ep_a.returns, ep_p.returns)
    assert ep_a.returns.sum() == 0.0
    ttt = from_pettingzoo(tictactoe_v3.env).new_episode(rng=np.random.default_rng(0))
    ttt.step([4])
    assert 4 not in ttt.legal_actions(1).tolist() and ttt.legal_actions(1).size == 8
    with pytest.raises(ValueError, match="illegal"):
        ttt.step([4])


def test_discounted_returns() -> None:
    game = from_pettingzoo(rps_v2.parallel_env, discount=0.5)
    episode = game.new_episode(rng=np.random.default_rng(0))
    total = np.zeros(2)
    weight = 1.0
    while not episode.done:
        total += weight * episode.step([0, 1])  # paper beats rock every round
        weight *= 0.5
    assert np.allclose(episode.returns, total) and total[1] > 1.9
    with pytest.raises(ValueError, match="discount"):
        from_pettingzoo(rps_v2.env, discount=1.5)


def test_shared_instance_episodes_and_max_steps() -> None:
    game = from_pettingzoo(connect_four_v3.env())
    old = game.new_episode(rng=np.random.default_rng(0))
    game.new_episode(rng=np.random.default_rng(1))
    with pytest.raises(RuntimeError, match="factory"):
        _ = old.done
    short = game.new_episode(rng=np.random.default_rng(2), max_steps=3)
    for _ in range(3):
        short.step([int(short.legal_actions(short.players_to_move[0])[0])])
    assert short.done and short.players_to_move == ()


def test_roundtrip_through_both_adapters() -> None:
    # a PettingZoo env wrapped as a gamesolve game, then offered back as a PettingZoo env
    env = to_pettingzoo(from_pettingzoo(tictactoe_v3.env, utility="zero_sum"), max_steps=20)
    api_test(env, num_cycles=100, verbose_progress=False)
    game = from_pettingzoo(lambda: to_pettingzoo(two_state_game(), parallel=True))
    assert game.spec.simultaneous and game.num_actions == (2, 2)
    _, returns = random_match(game, 3)
    assert returns.shape == (2,) and returns.sum() == 0.0


def test_non_discrete_or_foreign_envs_are_refused() -> None:
    with pytest.raises(UnsupportedGame, match="Discrete"):
        from_pettingzoo(Nim(action_space=spaces.Box(0.0, 1.0, (1,))))
    with pytest.raises(UnsupportedGame, match="AECEnv or ParallelEnv"):
        from_pettingzoo(42)


# ---------------------------------------------------------------------------------------------
# 3. PettingZoo -> exact game trees
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tictactoe() -> PettingZooTree:
    return compile_pettingzoo(tictactoe_v3.env())


def test_tictactoe_tree_has_the_known_size(tictactoe: PettingZooTree) -> None:
    c = gamesolve.as_compiled(tictactoe)
    assert c is tictactoe.compiled and c.num_players == 2
    assert c.num_nodes == 549_946
    assert c.num_terminals == 255_168  # complete games of tic-tac-toe
    assert c.num_decision_nodes == 549_946 - 255_168 and c.num_chance_nodes == 0
    # observations reveal the board, so infosets keyed by the own history are single histories
    assert c.num_infosets == c.num_decision_nodes
    assert tictactoe.num_states == 5_478  # reachable positions, each stepped from once
    assert c.spec.utility is Utility.ZERO_SUM and c.spec.perfect_information and not c.spec.has_chance
    assert set(np.unique(c.terminal_utility).tolist()) == {-1.0, 0.0, 1.0}
    assert c.infosets.keys[0] == "player_1|o0"
    agent, obs, legal = tictactoe.observation(0)
    assert agent == "player_1" and not obs["observation"].any() and legal == tuple(range(9))
    assert tictactoe.explore_seconds > 0 and tictactoe.unroll_seconds > 0


def test_tictactoe_value_is_a_draw(tictactoe: PettingZooTree) -> None:
    c = tictactoe.compiled
    # Exact: backward induction (an independent oracle) gives a pure strategy profile ...
    values, best = _backward(c, c.terminal_utility[:, 0], lambda pl: np.where(pl == 0, 0, 1))
    assert values[0] == 0.0
    probs = np.zeros((c.num_infosets, c.max_actions))
    decision = np.flatnonzero(c.node_player >= 0)
    probs[c.node_infoset[decision], best[decision]] = 1.0
    minimax = gamesolve.TabularPolicy(tictactoe, probs)
    # ... that gamesolve's exact best responses cannot exploit: the value is exactly 0.
    assert gamesolve.exploitability(tictactoe, minimax) == 0.0
    assert np.array_equal(gamesolve.expected_values(tictactoe, minimax), [0.0, 0.0])
    # CFR+ converges to it.
    result = gamesolve.solve(tictactoe, "cfr+", iterations=40, eval_every=40, progress=False)
    assert result.exploitability < 0.02
    assert abs(result.value[0]) <= result.nash_conv + 1e-12


def test_tictactoe_uniform_exploitability_is_exact(tictactoe: PettingZooTree) -> None:
    c = tictactoe.compiled
    exploit = gamesolve.exploitability(tictactoe, gamesolve.uniform_policy(tictactoe))
    gains = []

    def everyone_uniform(players: np.ndarray) -> np.ndarray:
        return np.full(players.shape, 2)

    for p in (0, 1):

        def p_best_replies(players: np.ndarray, p: int = p) -> np.ndarray:
            return np.where(players == p, 0, 2)

        on_policy, _ = _backward(c, c.terminal_utility[:, p], everyone_uniform)
        best_reply, _ = _backward(c, c.terminal_utility[:, p], p_best_replies)
        gains.append(best_reply[0] - on_policy[0])
    assert exploit > 0.9
    assert exploit == pytest.approx(sum(gains) / 2, abs=1e-12)


def test_tree_env_roundtrip(tictactoe: PettingZooTree) -> None:
    env = to_pettingzoo(tictactoe)
    api_test(env, num_cycles=30, verbose_progress=False)
    env.reset(seed=0)
    assert env.infoset_key(env.observe("player_0")) == "player_1|o0"


def test_merge_modes_give_the_same_tree() -> None:
    def position(env: Any) -> tuple[int, str]:
        return env.left, env.agent_selection

    modes: list[Any] = [True, "observations", False, position]
    trees = [compile_pettingzoo(Nim(7), merge_transpositions=m) for m in modes]
    ref = trees[0].compiled
    for tree in trees[1:]:
        c = tree.compiled
        assert c.infosets.keys == ref.infosets.keys
        for name in ("node_player", "node_action", "node_first_child", "terminal_utility", "infoset_actions"):
            assert np.array_equal(getattr(c, name), getattr(ref, name)), name
    assert trees[1].num_states < trees[2].num_states == ref.num_nodes
    # taking the last stick wins: 7 sticks is a first-player win, 8 a second-player win
    for sticks, value in ((7, 1.0), (8, -1.0)):
        c = compile_pettingzoo(Nim(sticks)).compiled
        values, _ = _backward(c, c.terminal_utility[:, 0], lambda pl: np.where(pl == 0, 0, 1))
        assert values[0] == value


def test_hidden_state_is_not_merged_away() -> None:
    # rps_v2 hides player_0's pending move from both observations: the default state
    # fingerprint keeps those histories apart, so the tree is the real one-shot game.
    tree = compile_pettingzoo(rps_v2.env(max_cycles=1))
    c = tree.compiled
    assert c.num_nodes == 13 and c.num_infosets == 2  # player_1 does not see player_0's move
    payoff = c.terminal_utility[:, 0].reshape(3, 3)
    assert np.array_equal(payoff, [[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    assert gamesolve.exploitability(tree, gamesolve.uniform_policy(tree)) == pytest.approx(0.0, abs=1e-12)
    parallel = compile_pettingzoo(rps_v2.parallel_env(max_cycles=1))  # via parallel_to_aec
    assert np.array_equal(parallel.compiled.terminal_utility, c.terminal_utility)
    two_rounds = compile_pettingzoo(rps_v2.env(max_cycles=2))
    unmerged = compile_pettingzoo(rps_v2.env(max_cycles=2), merge_transpositions=False)
    assert two_rounds.compiled.infosets.keys == unmerged.compiled.infosets.keys
    assert np.array_equal(two_rounds.compiled.terminal_utility, unmerged.compiled.terminal_utility)


def test_budget_refusals_name_the_count() -> None:
    def tree_size(left: int) -> int:  # histories of Nim with `left` sticks
        return 1 + sum(tree_size(left - k) for k in range(1, min(3, left) + 1))

    assert tree_size(12) == 2_031
    with pytest.raises(
        UnsupportedGame, match=r"has 2,031 nodes \(from \d+ distinct states\).*max_nodes=1,000"
    ):
        compile_pettingzoo(Nim(12), max_nodes=1_000)  # a few dozen states, a tree of 2,031 nodes
    with pytest.raises(UnsupportedGame, match=r"more than max_nodes=300 distinct states"):
        compile_pettingzoo(connect_four_v3.env(), max_nodes=300)


class ForgetfulNim(Nim):
    """Its copies start a new game (as a plain deepcopy of an EzPickle env would)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> ForgetfulNim:
        fresh = ForgetfulNim(self.sticks)
        fresh.reset()
        return fresh


def test_uncopyable_and_non_discrete_envs_are_refused() -> None:
    with pytest.raises(UnsupportedGame, match=r"copy\.deepcopy.*lock"):
        compile_pettingzoo(Nim(lock=True))
    with pytest.raises(UnsupportedGame, match="does not copy the state"):
        compile_pettingzoo(ForgetfulNim(5))
    with pytest.raises(UnsupportedGame, match="Discrete action spaces; agent 'player_0'"):
        compile_pettingzoo(Nim(action_space=spaces.Box(0.0, 1.0, (1,))))
    with pytest.raises(UnsupportedGame, match="AECEnv"):
        compile_pettingzoo(gamesolve.load_game("kuhn"))
