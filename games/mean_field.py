"""Mean-field game instances: crowd aversion on a ring and seeded random MFGs.

``crowd_aversion(states=N)`` is the standard congestion example of stationary mean-field games
(the 2-state test game of Yardim, Cayci, Geist & He, ICML 2023, and its ring generalization):
agents dislike crowded states and pay for moving,

``r(s, a, mu) = -crowd_weight * mu(s) + bias(s) - move_cost * [a moves]``.

With two states the actions are ``stay`` and ``move`` (to the other state); with ``N >= 3`` states
on a ring they are ``left``, ``stay`` and ``right``. A move fails (the agent stays) with probability
``slip``, and, with ``congestion > 0``, also with probability ``congestion * mu(target)``, which
makes the transitions depend on the mean field. The reward is Lasry-Lions monotone
(``sum_s (mu - mu')(s) (r(s, ., mu) - r(s, ., mu')) = -crowd_weight ||mu - mu'||^2 <= 0``), so the
entropy-regularized equilibrium is unique; with ``bias = 0`` the game is invariant under the
rotations of the ring, so that equilibrium's mean field is uniform.

``random_mean_field_game(rng, S, A)`` draws a random MDP with a crowd-aversion term in the reward
(and, optionally, transitions pushed towards empty states), for tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.budget import SizeEstimate
from gamesolve.games.normal_form import check_rng
from gamesolve.games.params import GameParameterError, parse_float, parse_int
from gamesolve.mean_field import MeanFieldGame, mean_field_game
from gamesolve.registry import GameEntry

__all__ = ["crowd_aversion", "random_mean_field_game"]

_GAME = "crowd_aversion"


def _parse_float(name: str, value: Any, *, minimum: float | None = None, below: float | None = None) -> float:
    """A float parameter of the crowd-aversion game (see :func:`gamesolve.games.params.parse_float`)."""
    return parse_float(_GAME, name, value, minimum=minimum, below=below)


def _parse_bias(value: Any, states: int) -> NDArray[np.float64]:
    """``[S]`` bias: ``None`` (zeros), a number (on state 0 only), a sequence or ``"b0/b1/..."``."""
    if value is None:
        return np.zeros(states)
    if isinstance(value, str) and not any(sep in value for sep in "/:; "):
        value = _parse_float("bias", value)
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        out = np.zeros(states)
        out[0] = _parse_float("bias", value)
        return out
    if isinstance(value, str):
        text = value.strip().strip("()[]")
        for sep in "/:;":
            text = text.replace(sep, " ")
        items: Sequence[Any] = text.split()
    elif isinstance(value, Sequence | np.ndarray):
        items = list(value)
    else:
        raise GameParameterError(
            f"{_GAME}: parameter bias must be a number or {states} numbers, got {value!r}"
        )
    if len(items) != states:
        raise GameParameterError(f"{_GAME}: parameter bias must have {states} entries, got {len(items)}")
    return np.array([_parse_float(f"bias[{i}]", x) for i, x in enumerate(items)])


def crowd_aversion(
    states: Any = 2,
    *,
    crowd_weight: Any = 1.0,
    move_cost: Any = 0.1,
    bias: Any = None,
    slip: Any = 0.0,
    congestion: Any = 0.0,
    tau: Any = 0.5,
    gamma: Any = 0.9,
) -> MeanFieldGame:
    """The crowd-aversion mean-field game on ``states`` states (see the module docstring).

    Every parameter accepts a number or a decimal string (game strings such as
    ``"crowd_aversion(states=5,tau=1)"`` deliver strings).

    Args:
        states: Number of states ``N >= 2`` (2: actions stay/move; ``N >= 3``: a ring with actions
            left/stay/right).
        crowd_weight: Weight ``w >= 0`` of the crowd penalty ``-w mu(s)``.
        move_cost: Cost ``>= 0`` of every action other than ``stay``.
        bias: Extra reward per state: ``None`` (none: the symmetric game), one number (added to
            state 0 only) or ``N`` numbers (``"0.3/0/0"`` in a game string).
        slip: Probability in ``[0, 1)`` that a move fails.
        congestion: In ``[0, 1]``; a move into ``t`` also fails with probability
            ``congestion * mu(t)`` (mean-field-dependent transitions when positive).
        tau: Entropy-regularization weight (> 0).
        gamma: Discount factor in ``[0, 1)``.

    Returns:
        A :class:`~gamesolve.mean_field.MeanFieldGame` named ``crowd_aversion_<N>``.

    Raises:
        GameParameterError: A parameter out of range (named in the message).
        GameTooLargeError: The dense ``[S, A, S]`` transitions would not fit in the memory budget.
    """
    n = parse_int(_GAME, "states", states, minimum=2)
    a_count = 2 if n == 2 else 3
    # The dense transition [S, A, S] float64 exists about five times at once while
    # mean_field_game checks it (measured with tracemalloc: 40 S^2 A bytes at 300 states).
    SizeEstimate(
        f"{_GAME}(states={n})", "build", 40 * n * n * a_count, n, "states", extra=f"{a_count} actions each"
    ).require()
    w = _parse_float("crowd_weight", crowd_weight, minimum=0.0)
    cost = _parse_float("move_cost", move_cost, minimum=0.0)
    b = _parse_bias(bias, n)  # [S]
    p_slip = _parse_float("slip", slip, minimum=0.0, below=1.0)
    c = _parse_float("congestion", congestion, minimum=0.0)
    if c > 1.0:
        raise GameParameterError(f"{_GAME}: parameter congestion must be in [0, 1], got {c}")
    t = _parse_float("tau", tau)
    if t <= 0:
        raise GameParameterError(f"{_GAME}: parameter tau must be > 0, got {t}")
    g = _parse_float("gamma", gamma, minimum=0.0, below=1.0)

    if n == 2:
        action_names: tuple[str, ...] = ("stay", "move")
        offsets: tuple[int, ...] = (0, 1)  # target = s + offset (mod 2)
    else:
        action_names = ("left", "stay", "right")
        offsets = (-1, 0, 1)
    targets = (np.arange(n)[:, None] + np.array(offsets)[None, :]) % n  # [S, A] intended next state
    moves = np.array([off != 0 for off in offsets], dtype=np.float64)  # [A] 1 for a move
    base_reward = b[:, None] - cost * moves[None, :]  # [S, A]
    rows = np.arange(n)[:, None]  # [S, 1]
    cols = np.arange(a_count)[None, :]  # [1, A]

    def reward(mu: NDArray[np.float64]) -> NDArray[np.float64]:
        return base_reward - w * mu[:, None]  # [S, A]

    def transition(mu: NDArray[np.float64]) -> NDArray[np.float64]:
        success = (1.0 - p_slip) * (1.0 - c * mu[targets]) * moves[None, :]  # [S, A] move succeeds
        p = np.zeros((n, a_count, n))  # [S, A, S]
        p[rows, cols, targets] += success
        p[rows, cols, np.broadcast_to(rows, (n, a_count))] += 1.0 - success
        return p

    kwargs: dict[str, Any] = {
        "tau": t,
        "gamma": g,
        "name": f"{_GAME}_{n}",
        "state_names": tuple(f"s{i}" for i in range(n)),
        "action_names": action_names,
    }
    if c == 0.0:
        return mean_field_game(reward, transition(np.full(n, 1.0 / n)), **kwargs)
    return mean_field_game(reward, transition, num_states=n, num_actions=a_count, **kwargs)


def random_mean_field_game(
    rng: np.random.Generator,
    states: int,
    actions: int,
    *,
    crowd_weight: float = 1.0,
    push: float = 0.0,
    tau: float = 1.0,
    gamma: float = 0.9,
) -> MeanFieldGame:
    """A seeded random MFG: ``r(s, a, mu) = R0(s, a) - crowd_weight mu(s)``, Dirichlet transitions.

    ``R0`` is standard normal and ``P0(. | s, a)`` Dirichlet(1). With ``push > 0`` the transitions
    depend on the mean field: ``P(. | s, a, mu) = (1 - push) P0(. | s, a) + push softmax(-S mu)``
    (a share ``push`` of every move heads for the emptier states).

    Args:
        rng: The random generator (the only source of randomness).
        states: Number of states (>= 1).
        actions: Number of actions (>= 1).
        crowd_weight: Weight of the crowd penalty (>= 0).
        push: Mean-field dependence of the transitions, in ``[0, 1]``.
        tau: Entropy-regularization weight (> 0).
        gamma: Discount factor in ``[0, 1)``.

    Raises:
        ValueError: A parameter out of range.
        GameTooLargeError: The dense ``[S, A, S]`` transitions would not fit in the memory budget.
    """
    rng = check_rng(rng)
    if isinstance(states, bool) or not isinstance(states, int) or states < 1:
        raise ValueError(f"states must be a positive integer, got {states!r}")
    if isinstance(actions, bool) or not isinstance(actions, int) or actions < 1:
        raise ValueError(f"actions must be a positive integer, got {actions!r}")
    if not crowd_weight >= 0:
        raise ValueError(f"crowd_weight must be >= 0, got {crowd_weight!r}")
    if not 0 <= push <= 1:
        raise ValueError(f"push must be in [0, 1], got {push!r}")
    SizeEstimate(
        f"random_mean_field_game(states={states},actions={actions})",
        "build",
        40 * states * states * actions,
        states,
        "states",
        extra=f"{actions} actions each",
    ).require()
    base_reward = rng.normal(size=(states, actions))  # [S, A]
    base_p = rng.dirichlet(np.ones(states), size=(states, actions))  # [S, A, S]
    name = f"random_mfg_{states}x{actions}"

    def reward(mu: NDArray[np.float64]) -> NDArray[np.float64]:
        return base_reward - crowd_weight * mu[:, None]  # [S, A]

    if push == 0:
        return mean_field_game(reward, base_p, tau=tau, gamma=gamma, name=name)

    def transition(mu: NDArray[np.float64]) -> NDArray[np.float64]:
        z = -states * mu  # [S]
        target = np.exp(z - z.max())
        target /= target.sum()  # [S] emptier states get more mass
        return (1.0 - push) * base_p + push * target[None, None, :]  # [S, A, S]

    return mean_field_game(
        reward, transition, tau=tau, gamma=gamma, num_states=states, num_actions=actions, name=name
    )


#: Declares ``crowd_aversion`` to the registry (entry point of the group ``gamesolve.games``).
CROWD_AVERSION_ENTRY = GameEntry(
    "crowd_aversion",
    crowd_aversion,
    "Mean-field: crowd aversion on N states (2: stay/move; N >= 3: ring, left/stay/right)",
    "states=2, crowd_weight=1, move_cost=0.1, bias=0, slip=0, congestion=0, tau=0.5, gamma=0.9",
)
