"""Markov (stochastic) game instances in tabular form.

- :func:`two_state`: the two-state test game of Shapley value iteration (known value).
- :func:`repeated`: a matrix game played forever (one state); its value is ``val / (1 - gamma)``.
- :func:`soccer`: Littman's (1994) grid soccer, made point-symmetric so the kickoff value is 0.
- :func:`pursuit_evasion`: a pursuer and an evader moving at once on a grid.
- :func:`random_markov`: seeded random stochastic games with sparse transitions.
- :func:`fishery`: an N-player general-sum commons game (harvesting a shared stock).

Every function returns a validated :class:`~gamesolve.markov.TabularMarkovGame`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gamesolve.budget import SizeEstimate
from gamesolve.errors import GameNotFoundError
from gamesolve.games.params import parse_bool, parse_float, parse_int
from gamesolve.markov import TabularMarkovGame, markov_game
from gamesolve.registry import GameEntry

__all__ = ["fishery", "pursuit_evasion", "random_markov", "repeated", "soccer", "two_state"]

#: Grid moves shared by soccer and pursuit-evasion: (row step, column step).
_MOVES = ((-1, 0), (1, 0), (0, 1), (0, -1), (0, 0))
_MOVE_NAMES = ("N", "S", "E", "W", "stand")
#: Most players: the dense arrays have one axis per player plus two (numpy allows 64 axes).
_MAX_PLAYERS = 62


def _require(what: str, nbytes: int, states: int, joint: int) -> None:
    """Refuse (GameTooLargeError) a game whose arrays would not fit in the memory budget.

    ``nbytes`` is the builder's peak, estimated from the parameters before anything is allocated
    (the constants below were measured with tracemalloc on small and medium instances).
    """
    extra = (
        f"{joint:,} joint actions each" if joint < 10**15 else f"10^{len(str(joint)) - 1} joint actions each"
    )
    SizeEstimate(what, "build", nbytes, states, "states", extra=extra).require()


def _tabular_bytes(states: int, joint: int, players: int, nonzeros: int, feature_bytes: int) -> int:
    """Peak bytes of :func:`gamesolve.markov.markov_game` on arrays of these sizes.

    The sparse transition is copied a few times (deduplicated, renormalized, sorted: about 48
    bytes per nonzero), the rewards twice more (``[P, S, J]`` float64), and every state gets a name
    and a feature row.
    """
    return 48 * nonzeros + 40 * players * states * joint + 24 * states * joint + 100 * states + feature_bytes


def _default_features(states: int) -> int:
    """Bytes of markov_game's default features: one-hot up to 4096 states, an index above."""
    return 4 * states * states if states <= 4096 else 4 * states


def two_state(discount: Any = 0.9) -> TabularMarkovGame:
    """A two-state test game for Shapley's value iteration (Shapley 1953, "Stochastic games").

    State ``s0`` plays asymmetric matching pennies ``[[2, -1], [-1, 1]]``; joint action (0, 0)
    moves to the absorbing, zero-reward ``s1``, every other joint action stays in ``s0``. With
    ``gamma = 0.9``: ``V(s0) = (70 - 20 sqrt(10)) / 9 ~ 0.750494``, row policy
    ``(0.462475, 0.537525)``.
    """
    gamma = parse_float("two_state", "discount", discount)
    transition = np.zeros((2, 2, 2, 2))
    transition[0, :, :, 0] = 1.0
    transition[0, 0, 0] = (0.0, 1.0)
    transition[1, :, :, 1] = 1.0
    reward = np.zeros((2, 2, 2))
    reward[0] = [[2.0, -1.0], [-1.0, 1.0]]
    return markov_game(transition, reward, gamma, terminal=[False, True], name="two_state")


def repeated(stage: Any = "amp", discount: Any = 0.9) -> TabularMarkovGame:
    """A two-player zero-sum matrix game played forever: one state, value ``val / (1 - gamma)``.

    Args:
        stage: The row player's payoff matrix, or a name from the normal-form catalog
            (``"amp"``, ``"rps"``, ``"matching_pennies"``, ...).
        discount: Discount factor.
    """
    gamma = parse_float("repeated", "discount", discount)
    if isinstance(stage, str):
        from gamesolve.games import normal_form

        maker = getattr(normal_form, stage, None)
        if maker is None:
            raise GameNotFoundError(f"stage must be a payoff matrix or a catalog game name, got {stage!r}")
        matrix = np.asarray(maker().payoffs[0], dtype=np.float64)
        name = f"repeated_{stage}"
    else:
        matrix = np.asarray(stage, dtype=np.float64)
        name = "repeated"
    if matrix.ndim != 2:
        raise GameNotFoundError(f"stage must be a 2-D payoff matrix, got shape {matrix.shape}")
    transition = np.ones((1, *matrix.shape, 1))
    return markov_game(transition, matrix[None], gamma, name=name)


def _reflect(cell: tuple[int, int], rows: int, cols: int) -> tuple[int, int]:
    return rows - 1 - cell[0], cols - 1 - cell[1]


def soccer(rows: Any = 4, cols: Any = 5, discount: Any = 0.9) -> TabularMarkovGame:
    """Littman's grid soccer (Littman 1994, "Markov games as a framework for multi-agent RL").

    Player A (0) and player B (1) move on a ``rows x cols`` grid with actions N, S, E, W, stand,
    chosen simultaneously and executed in a random order (each order with probability 1/2). A
    move onto the other player's square does not happen and the ball goes to the player who
    stood still. The ball carrier scores by moving out of the grid through the middle rows of
    the opponent's end: A scores to the west, B to the east; the scorer gets +1, the other -1,
    and the game ends (a terminal state). A move out of the grid elsewhere does nothing.

    The start is point-symmetric: A at ``(rows//2 - 1, cols - 2)``, B at the mirror square, the
    ball given to either with probability 1/2 from a ``kickoff`` state, so the kickoff value is 0.

    States: ``kickoff``, every ``(A square, B square, ball holder)`` with distinct squares, and the
    terminal ``goal``. Observations: one-hot A square, one-hot B square, ball holder, kickoff flag.
    """
    n_rows, n_cols = (
        parse_int("soccer", "rows", rows, minimum=2),
        parse_int("soccer", "cols", cols, minimum=3),
    )
    gamma = parse_float("soccer", "discount", discount)
    if n_rows < 2 or n_cols < 3:
        raise GameNotFoundError(f"soccer needs at least 2 rows and 3 columns, got {n_rows}x{n_cols}")
    n_squares = n_rows * n_cols
    n_states = 2 * n_squares * (n_squares - 1) + 2
    nonzeros = 28 * n_states  # 25 joint actions, a few with two outcomes (random move order)
    _require(
        f"soccer(rows={n_rows},cols={n_cols})",
        # The moves of every state and joint action in both orders, and the sparse transition
        # built from them (~180 bytes a nonzero), the names (~400 bytes a state), the one-hot
        # features and the rewards (measured up to 10 x 10: within 15%).
        180 * nonzeros + 400 * n_states + 4 * n_states * (2 * n_squares + 3) + 600 * n_states,
        n_states,
        25,
    )
    cells = [(r, c) for r in range(n_rows) for c in range(n_cols)]
    goal_rows = [n_rows // 2 - 1, n_rows // 2] if n_rows % 2 == 0 else [n_rows // 2]
    n_cells = len(cells)
    # Live states (A square, B square, ball holder) with distinct squares, in the order
    # a = 0.., b = 0.. (b != a), ball = 0, 1; state id = 1 + position in that order.
    pair_a = np.repeat(np.arange(n_cells), n_cells - 1)  # [C(C-1)]
    others = np.tile(np.arange(n_cells - 1), n_cells)  # [C(C-1)] rank of b among the squares != a
    pair_b = others + (others >= pair_a)
    st_a = np.repeat(pair_a, 2)  # [L] L = 2 C (C-1)
    st_b = np.repeat(pair_b, 2)
    st_ball = np.tile(np.array([0, 1]), n_cells * (n_cells - 1))
    n_live = st_a.shape[0]
    kickoff, goal = 0, n_live + 1
    s_count = n_live + 2
    a_start = (n_rows // 2 - 1, n_cols - 2)
    b_start = _reflect(a_start, n_rows, n_cols)
    start = (a_start[0] * n_cols + a_start[1], b_start[0] * n_cols + b_start[1])

    def state_id(pa: NDArray[np.int64], pb: NDArray[np.int64], ball: NDArray[np.int64]) -> NDArray[np.int64]:
        return 1 + 2 * (pa * (n_cells - 1) + pb - (pb > pa)) + ball

    move_dr = np.array([dr for dr, _ in _MOVES])
    move_dc = np.array([dc for _, dc in _MOVES])

    def move(
        pos: list[NDArray[np.int64]], holder: NDArray[np.int64], who: int, action: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """One player's move for every row at once: updates ``pos``; returns (holder, scored).

        A ball carrier in a goal row moving out through the opponent's end scores; a move out of
        the grid elsewhere does nothing; a move onto the other player's square does not happen
        and the ball goes to the player who stood still.
        """
        mine = pos[who]
        r, c = mine // n_cols, mine % n_cols
        dr, dc = move_dr[action], move_dc[action]
        nr, nc = r + dr, c + dc
        through = nc < 0 if who == 0 else nc >= n_cols
        scored = (holder == who) & np.isin(r, goal_rows) & (dr == 0) & through
        inside = (nr >= 0) & (nr < n_rows) & (nc >= 0) & (nc < n_cols) & ~scored
        target = nr * n_cols + nc
        bumped = inside & (target == pos[1 - who])
        pos[who] = np.where(inside & ~bumped, target, mine)
        return np.where(bumped, 1 - who, holder), scored

    # Every live state and joint action j = a * 5 + b, in both move orders (probability 1/2 each).
    s_rep = np.repeat(np.arange(1, n_live + 1), 25)  # [L * 25]
    act_a = np.tile(np.repeat(np.arange(5), 5), n_live)
    act_b = np.tile(np.tile(np.arange(5), 5), n_live)
    reward = np.zeros((s_count, 5, 5))
    entries_next: list[NDArray[np.int64]] = []
    order_reward: list[NDArray[np.float64]] = []
    for order in ((0, 1), (1, 0)):
        pos = [np.repeat(st_a, 25), np.repeat(st_b, 25)]
        holder = np.repeat(st_ball, 25)
        scorer = np.full(s_rep.shape[0], -1)
        for who in order:
            live = scorer < 0
            sub = [pos[0][live], pos[1][live]]
            new_holder, scored = move(sub, holder[live], who, (act_a, act_b)[who][live])
            pos[0][live], pos[1][live] = sub
            holder[live] = new_holder
            scorer[np.flatnonzero(live)[scored]] = who
        entries_next.append(np.where(scorer >= 0, goal, state_id(pos[0], pos[1], holder)))
        order_reward.append(np.where(scorer < 0, 0.0, 0.5 * np.where(scorer == 0, 1.0, -1.0)))
    reward[1 : n_live + 1] = (order_reward[0] + order_reward[1]).reshape(n_live, 5, 5)
    kick_rows = np.repeat(np.arange(25), 2)  # kickoff * 25 + j, for ball 0 and 1
    kick_next = state_id(np.full(50, start[0]), np.full(50, start[1]), np.tile(np.array([0, 1]), 25))
    live_rows = s_rep * 25 + act_a * 5 + act_b
    transition = sp.csr_matrix(
        (
            np.full(50 + 2 * live_rows.shape[0], 0.5),
            (
                np.concatenate([kick_rows, live_rows, live_rows]),
                np.concatenate([kick_next, entries_next[0], entries_next[1]]),
            ),
        ),
        shape=(s_count * 25, s_count),
    )  # the two orders' entries for one row are summed when they reach the same state
    del entries_next, order_reward, s_rep, act_a, act_b, live_rows
    features = np.zeros((s_count, 2 * n_cells + 3), dtype=np.float32)
    features[kickoff, -1] = 1.0
    live_ids = np.arange(1, n_live + 1)
    features[live_ids, st_a] = 1.0
    features[live_ids, n_cells + st_b] = 1.0
    features[live_ids, 2 * n_cells + st_ball] = 1.0
    states = zip(st_a.tolist(), st_b.tolist(), st_ball.tolist(), strict=True)
    names = ["kickoff"]
    names += [
        f"A({cells[pa][0]},{cells[pa][1]}) B({cells[pb][0]},{cells[pb][1]}) ball={'AB'[ball]}"
        for (pa, pb, ball) in states
    ]
    names.append("goal")
    terminal = np.zeros(s_count, dtype=bool)
    terminal[goal] = True
    return markov_game(
        transition,
        reward,
        gamma,
        terminal=terminal,
        initial=kickoff,
        features=features,
        name="soccer" if (n_rows, n_cols) == (4, 5) else f"soccer({n_rows}x{n_cols})",
        state_names=names,
        action_names=[_MOVE_NAMES, _MOVE_NAMES],
    )


def pursuit_evasion(size: Any = 4, discount: Any = 0.95, radius: Any = 1) -> TabularMarkovGame:
    """A pursuer (player 0) and an evader (player 1) move at once on a ``size x size`` grid.

    Actions N, S, E, W, stand; moves off the grid do nothing. The pursuer catches the evader
    when their squares after the move are at most ``radius`` apart (Manhattan distance) or they
    swap squares: the pursuer gets +1, the evader -1, and the game ends. No other rewards, so the
    value is the discounted probability of a capture. They start in opposite corners. (With
    ``radius=0`` an evader on an open grid can dodge forever and the value is 0.)
    """
    n = parse_int("pursuit_evasion", "size", size, minimum=2)
    reach = parse_int("pursuit_evasion", "radius", radius, minimum=0)
    gamma = parse_float("pursuit_evasion", "discount", discount)
    if n < 2:
        raise GameNotFoundError(f"pursuit_evasion needs size >= 2, got {n}")
    n_states = n**4 + 1
    _require(
        f"pursuit_evasion(size={n})",
        # The [S, 5, 5] index arithmetic and the sparse transition built from it (~130 bytes a
        # joint move), the one-hot features (2 n^2 float32 a state), the names and rewards.
        130 * 25 * n_states + 8 * n * n * n_states + 300 * n_states,
        n_states,
        25,
    )
    cells = n * n
    s_count = cells * cells + 1
    caught = cells * cells
    next_cell = np.empty((cells, 5), dtype=np.int64)
    for cell in range(cells):
        r, c = divmod(cell, n)
        for k, (dr, dc) in enumerate(_MOVES):
            nr, nc = r + dr, c + dc
            next_cell[cell, k] = nr * n + nc if 0 <= nr < n and 0 <= nc < n else cell
    # Every (pursuer square, evader square) pair, vectorized over the 25 joint moves; state
    # s = p * cells + e, row s * 25 + a * 5 + b of the transition.
    pursuer = np.repeat(np.arange(cells), cells)  # [C^2] p of each live state
    evader = np.tile(np.arange(cells), cells)  # [C^2] e of each live state
    p_next = next_cell[pursuer][:, :, None]  # [C^2, 5, 1] after the pursuer's move a
    e_next = next_cell[evader][:, None, :]  # [C^2, 1, 5] after the evader's move b
    distance = np.abs(p_next // n - e_next // n) + np.abs(p_next % n - e_next % n)  # [C^2, 5, 5]
    swapped = (p_next == evader[:, None, None]) & (e_next == pursuer[:, None, None])
    capture = (distance <= reach) | swapped  # [C^2, 5, 5]
    # p == e is never reached (a capture ends the game); kept, moving to caught, so the indexing
    # is simple.
    same = pursuer == evader
    capture[same] = False
    next_state = np.where(capture, caught, p_next * cells + e_next)  # [C^2, 5, 5]
    next_state[same] = caught
    reward = np.zeros((s_count, 5, 5))
    reward[:caught][capture] = 1.0
    del distance, swapped, p_next, e_next
    rows = np.arange(caught * 25)  # [C^2 * 25]
    transition = sp.csr_matrix(
        (np.ones(rows.shape[0]), (rows, next_state.ravel())), shape=(s_count * 25, s_count)
    )
    del next_state, rows, capture
    terminal = np.zeros(s_count, dtype=bool)
    terminal[caught] = True
    features = np.zeros((s_count, 2 * cells), dtype=np.float32)
    live = np.arange(caught)
    features[live, pursuer] = 1.0
    features[live, cells + evader] = 1.0
    names = [f"P{divmod(p, n)} E{divmod(e, n)}" for p in range(cells) for e in range(cells)] + ["caught"]
    return markov_game(
        transition,
        reward,
        gamma,
        terminal=terminal,
        initial=cells - 1,  # pursuer at (0, 0), evader at (n-1, n-1)
        features=features,
        name=f"pursuit_evasion({n}x{n})",
        state_names=names,
        action_names=[_MOVE_NAMES, _MOVE_NAMES],
    )


def random_markov(
    states: Any = 100,
    actions: Any = 5,
    successors: Any = 4,
    seed: Any = 0,
    discount: Any = 0.9,
    players: Any = 2,
    zero_sum: Any = True,
) -> TabularMarkovGame:
    """A seeded random stochastic game with sparse transitions.

    Every (state, joint action) moves to ``successors`` states drawn uniformly (with repetition)
    with Dirichlet(1) probabilities; stage rewards are uniform on ``[-1, 1]`` (player 0's, negated
    for player 1 when ``zero_sum``, independent per player otherwise). The first state is uniform.

    Args:
        states: Number of states.
        actions: Actions per player (an int, or ``"AxB"`` for two players).
        successors: Next states per (state, joint action).
        seed: Seed of the generator.
        discount: Discount factor.
        players: Number of players.
        zero_sum: Two-player zero-sum rewards (needs ``players == 2``).
    """
    s_count = parse_int("random_markov", "states", states, minimum=1)
    n_players = parse_int("random_markov", "players", players, minimum=1, maximum=_MAX_PLAYERS)
    k = parse_int("random_markov", "successors", successors, minimum=1)
    gamma = parse_float("random_markov", "discount", discount)
    zs = parse_bool("random_markov", "zero_sum", zero_sum)
    if isinstance(actions, str) and "x" in actions:
        counts = tuple(parse_int("random_markov", "actions", part, minimum=1) for part in actions.split("x"))
    elif isinstance(actions, Sequence) and not isinstance(actions, str):
        counts = tuple(parse_int("random_markov", "actions", part, minimum=1) for part in actions)
    else:
        counts = (parse_int("random_markov", "actions", actions, minimum=1),) * n_players
    if len(counts) != n_players:
        raise GameNotFoundError(f"actions gives {len(counts)} action counts for {n_players} players")
    if s_count < 1 or k < 1 or min(counts) < 1:
        raise GameNotFoundError("random_markov needs states, successors and actions >= 1")
    if zs and n_players != 2:
        raise GameNotFoundError("zero_sum random games need players=2")
    joint = math.prod(counts)
    _require(
        f"random_markov(states={s_count},actions={'x'.join(map(str, counts))},successors={k})",
        _tabular_bytes(s_count, joint, n_players, s_count * joint * k, _default_features(s_count)),
        s_count,
        joint,
    )
    rng = np.random.default_rng(parse_int("random_markov", "seed", seed, minimum=0))
    rows = s_count * joint
    nxt = rng.integers(0, s_count, size=(rows, k))  # [S * J, k]
    probs = rng.dirichlet(np.ones(k), size=rows) if k > 1 else np.ones((rows, 1))  # [S * J, k]
    transition = sp.csr_matrix(
        (probs.ravel(), nxt.ravel(), np.arange(0, rows * k + 1, k)), shape=(rows, s_count)
    )
    if zs:
        r0 = rng.uniform(-1.0, 1.0, size=(s_count, *counts))
        reward: NDArray[np.float64] = np.stack([r0, -r0])
    else:
        reward = rng.uniform(-1.0, 1.0, size=(n_players, s_count, *counts))
    return markov_game(
        transition,
        reward,
        gamma,
        initial=np.full(s_count, 1.0 / s_count),
        name=f"random_markov(states={s_count},actions={'x'.join(map(str, counts))},seed={seed})",
    )


def fishery(players: Any = 3, levels: Any = 6, discount: Any = 0.9, regrowth: Any = 0.6) -> TabularMarkovGame:
    """An N-player general-sum commons game: the players harvest a shared fish stock.

    The state is the stock ``0 .. levels-1``. Each player asks for 0, 1 or 2 fish; when the total
    ask exceeds the stock, the stock is shared in proportion to the asks. A player's reward is
    its catch. What is left regrows by one with probability ``regrowth`` (up to the cap); an
    empty stock never recovers (the terminal collapse). Greedy play empties the sea, so the game
    has the tension of the tragedy of the commons.
    """
    n = parse_int("fishery", "players", players, minimum=1, maximum=_MAX_PLAYERS)
    top = parse_int("fishery", "levels", levels, minimum=2)
    gamma = parse_float("fishery", "discount", discount)
    grow = parse_float("fishery", "regrowth", regrowth, minimum=0.0, maximum=1.0)
    if n < 1 or top < 2 or not 0.0 <= grow <= 1.0:
        raise GameNotFoundError("fishery needs players >= 1, levels >= 2 and regrowth in [0, 1]")
    counts = (3,) * n
    joint = 3**n
    _require(
        f"fishery(players={n},levels={top})",
        # The dense transition [T, J, T] and its finiteness mask, the rewards [n, T, J] (built,
        # reshaped, copied), the asks [J, n] and markov_game's sparse copies.
        16 * top * top * joint + 36 * n * top * joint + 16 * n * joint + _default_features(top),
        top,
        joint,
    )
    asks = np.array(np.unravel_index(np.arange(joint), counts)).T  # [J, n]
    transition = np.zeros((top, joint, top))
    reward = np.zeros((n, top, joint))
    total = asks.sum(axis=1)  # [J] fish asked for
    share = np.where(total > 0, 1.0, 0.0)  # [J] 0 when nobody asks
    safe_total = np.maximum(total, 1)  # [J]
    columns = np.arange(joint)
    for stock in range(top):  # vectorized over the joint actions
        taken = np.minimum(total, stock)  # [J]
        reward[:, stock, :] = (asks * (taken / safe_total)[:, None]).T * share  # [n, J]
        left = stock - taken  # [J]
        empty = left == 0
        transition[stock, columns[empty], 0] = 1.0
        alive = columns[~empty]
        up = np.minimum(top - 1, left[~empty] + 1)
        transition[stock, alive, up] += grow
        np.add.at(transition[stock], (alive, left[~empty]), 1.0 - grow)
    terminal = np.zeros(top, dtype=bool)
    terminal[0] = True
    shaped_t: ArrayLike = transition.reshape(top, *counts, top)
    return markov_game(
        shaped_t,
        reward.reshape(n, top, *counts),
        gamma,
        terminal=terminal,
        initial=top - 1,
        name=f"fishery(players={n},levels={top})",
        state_names=[f"stock={k}" for k in range(top)],
        action_names=[("ask0", "ask1", "ask2")] * n,
    )


# Declarations of the Markov games to the registry (entry points of the group gamesolve.games).
TWO_STATE_ENTRY = GameEntry(
    "two_state",
    two_state,
    "Markov: two-state zero-sum test game (V(s0) = (70 - 20 sqrt 10) / 9)",
    "discount=0.9",
)
REPEATED_ENTRY = GameEntry(
    "repeated",
    repeated,
    "Markov: a matrix game played forever (value val / (1 - gamma))",
    "stage=amp, discount=0.9",
)
SOCCER_ENTRY = GameEntry(
    "soccer",
    soccer,
    "Markov: Littman's grid soccer, point-symmetric start (kickoff value 0)",
    "rows=4, cols=5, discount=0.9",
)
PURSUIT_EVASION_ENTRY = GameEntry(
    "pursuit_evasion",
    pursuit_evasion,
    "Markov: pursuer and evader on a grid (zero-sum)",
    "size=4, discount=0.95, radius=1",
)
RANDOM_MARKOV_ENTRY = GameEntry(
    "random_markov",
    random_markov,
    "Markov: seeded random stochastic game with sparse transitions",
    "states=100, actions=5, successors=4, seed=0, discount=0.9, players=2, zero_sum=true",
)
FISHERY_ENTRY = GameEntry(
    "fishery",
    fishery,
    "Markov: N-player general-sum commons (harvesting a shared stock)",
    "players=3, levels=6",
)
