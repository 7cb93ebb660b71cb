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

from games._params import parse_bool, parse_float, parse_int
from gamesolve.budget import SizeEstimate
from gamesolve.errors import GameNotFoundError
from gamesolve.markov import TabularMarkovGame, markov_game

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
    """The two-state game of ``algorithms.md`` 9(b).

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
        from games import normal_form

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
        # Python lists of the sparse entries (~180 bytes a nonzero), the state index and names
        # (~400 bytes a state), the features (one-hot squares) and the rewards.
        180 * nonzeros + 400 * n_states + 4 * n_states * (2 * n_squares + 3) + 600 * n_states,
        n_states,
        25,
    )
    cells = [(r, c) for r in range(n_rows) for c in range(n_cols)]
    goal_rows = {n_rows // 2 - 1, n_rows // 2} if n_rows % 2 == 0 else {n_rows // 2}
    states: list[tuple[int, int, int]] = [
        (a, b, ball) for a in range(len(cells)) for b in range(len(cells)) if a != b for ball in (0, 1)
    ]
    index = {st: i + 1 for i, st in enumerate(states)}
    kickoff, goal = 0, len(states) + 1
    s_count = len(states) + 2
    a_start = (n_rows // 2 - 1, n_cols - 2)
    b_start = _reflect(a_start, n_rows, n_cols)
    start = (a_start[0] * n_cols + a_start[1], b_start[0] * n_cols + b_start[1])

    rows_idx: list[int] = []
    cols_idx: list[int] = []
    probs: list[float] = []
    reward = np.zeros((s_count, 5, 5))
    for a in range(5):
        for b in range(5):
            j = a * 5 + b
            for ball in (0, 1):
                rows_idx.append(kickoff * 25 + j)
                cols_idx.append(index[(start[0], start[1], ball)])
                probs.append(0.5)

    def move(pos: list[int], ball: int, who: int, action: int) -> tuple[int, int]:
        """Apply one player's move in place; returns (new ball holder, scorer or -1)."""
        r, c = cells[pos[who]]
        dr, dc = _MOVES[action]
        nr, nc = r + dr, c + dc
        if ball == who and r in goal_rows and dr == 0:
            if who == 0 and nc < 0:
                return ball, 0
            if who == 1 and nc >= n_cols:
                return ball, 1
        if not (0 <= nr < n_rows and 0 <= nc < n_cols):
            return ball, -1
        target = nr * n_cols + nc  # cells lists the squares row by row
        if target == pos[1 - who]:
            return 1 - who, -1
        pos[who] = target
        return ball, -1

    for (pa, pb, ball), s in index.items():
        for a in range(5):
            for b in range(5):
                j = a * 5 + b
                outcome: dict[int, float] = {}
                for order in ((0, 1), (1, 0)):
                    pos, holder, scorer = [pa, pb], ball, -1
                    for who in order:
                        holder, scorer = move(pos, holder, who, (a, b)[who])
                        if scorer >= 0:
                            break
                    if scorer >= 0:
                        reward[s, a, b] += 0.5 * (1.0 if scorer == 0 else -1.0)
                        nxt = goal
                    else:
                        nxt = index[(pos[0], pos[1], holder)]
                    outcome[nxt] = outcome.get(nxt, 0.0) + 0.5
                for nxt, pr in outcome.items():
                    rows_idx.append(s * 25 + j)
                    cols_idx.append(nxt)
                    probs.append(pr)
    transition = sp.csr_matrix((probs, (rows_idx, cols_idx)), shape=(s_count * 25, s_count))
    n_cells = len(cells)
    features = np.zeros((s_count, 2 * n_cells + 3), dtype=np.float32)
    features[kickoff, -1] = 1.0
    for (pa, pb, ball), s in index.items():
        features[s, pa] = 1.0
        features[s, n_cells + pb] = 1.0
        features[s, 2 * n_cells + ball] = 1.0
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
        # Python lists of the 25 transitions of every state (~190 bytes each), the one-hot
        # features (2 n^2 float32 per state) and the names and rewards.
        190 * 25 * n_states + 8 * n * n * n_states + 300 * n_states,
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
    rows_idx: list[int] = []
    cols_idx: list[int] = []
    reward = np.zeros((s_count, 5, 5))
    for p in range(cells):
        for e in range(cells):
            s = p * cells + e
            if p == e:  # never reached (a capture ends the game); kept so the indexing is simple
                rows_idx.extend(s * 25 + np.arange(25))
                cols_idx.extend([caught] * 25)
                continue
            for a in range(5):
                for b in range(5):
                    np_, ne = next_cell[p, a], next_cell[e, b]
                    (pr, pc), (er, ec) = divmod(int(np_), n), divmod(int(ne), n)
                    if abs(pr - er) + abs(pc - ec) <= reach or (np_ == e and ne == p):
                        nxt = caught
                        reward[s, a, b] = 1.0
                    else:
                        nxt = np_ * cells + ne
                    rows_idx.append(s * 25 + a * 5 + b)
                    cols_idx.append(nxt)
    transition = sp.csr_matrix((np.ones(len(rows_idx)), (rows_idx, cols_idx)), shape=(s_count * 25, s_count))
    terminal = np.zeros(s_count, dtype=bool)
    terminal[caught] = True
    features = np.zeros((s_count, 2 * cells), dtype=np.float32)
    for p in range(cells):
        for e in range(cells):
            features[p * cells + e, p] = 1.0
            features[p * cells + e, cells + e] = 1.0
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
    for stock in range(top):
        for j in range(joint):
            total = int(asks[j].sum())
            taken = min(total, stock)
            if total:
                reward[:, stock, j] = asks[j] * (taken / total)
            left = stock - taken
            if left == 0:
                transition[stock, j, 0] = 1.0
            else:
                up = min(top - 1, left + 1)
                transition[stock, j, up] += grow
                transition[stock, j, left] += 1.0 - grow
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
