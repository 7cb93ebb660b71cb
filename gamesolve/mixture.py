"""Mixtures of behavior policies as one behavior policy (realization weights).

A population learner (PSRO, fictitious self-play) ends with a mixture of each player's policies:
"pick member ``k`` with probability ``w_k``, then follow it". By Kuhn's theorem (perfect recall) it
has a realization-equivalent behavior strategy, whose realization plan is the weighted mixture of
the members' plans (Heinrich, Lanctot & Silver 2015, "Fictitious self-play in extensive-form games",
Theorem 7; von Stengel 1996, "Efficient computation of behavior strategies"): ``pi(a|I) = sum_k w_k
x_k(I) pi_k(a|I) / sum_k w_k x_k(I)`` with ``x_k(I)`` member ``k``'s own reach of ``I`` (uniform
where no weighted member reaches). Against any opponents every expected value is then the weighted
average of the members' values. The computation reuses the sequence-form kernels of
:mod:`gamesolve.sequence_form`; callers that mix the same members repeatedly keep the plans from
:func:`member_plans` and call :func:`mix_plans` or :func:`mix_profile_from_plans`.

>>> import gamesolve
>>> from gamesolve.mixture import mix_policies
>>> game = gamesolve.as_compiled(gamesolve.load_game("kuhn"))
>>> a, b = gamesolve.TabularPolicy.first_action(game), gamesolve.uniform_policy(game)
>>> mixed = mix_policies(game, [a, b], [0.25, 0.75], player=0, base=b)  # player 1 plays b
>>> each = [gamesolve.expected_values(game, b.with_player(0, m))[0] for m in (a, b)]
>>> value = gamesolve.expected_values(game, mixed)[0]
>>> bool(abs(value - (0.25 * each[0] + 0.75 * each[1])) < 1e-12)
True
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import InvalidPolicyError
from gamesolve.kernels.evaluation import forward_reach
from gamesolve.policy import TabularPolicy
from gamesolve.sequence_form import behavior_to_plans, plans_to_behavior

__all__ = [
    "member_plans",
    "mix_plans",
    "mix_policies",
    "mix_policies_numpy",
    "mix_profile",
    "mix_profile_from_plans",
]

log = logging.getLogger(__name__)


def _members_array(
    game: CompiledGame, members: Sequence[TabularPolicy | ArrayLike] | NDArray[Any]
) -> NDArray[np.float64]:
    """``[K, I, A]`` float64 from a stacked array or a sequence of policies / ``[I, A]`` arrays."""
    expected = (game.num_infosets, game.max_actions)
    if isinstance(members, np.ndarray):
        arr = np.asarray(members, dtype=np.float64)
        if arr.ndim != 3 or arr.shape[1:] != expected:
            raise InvalidPolicyError(
                f"members must have shape [K, {expected[0]}, {expected[1]}], got {arr.shape}"
            )
        return arr
    rows = []
    for k, member in enumerate(members):
        if isinstance(member, TabularPolicy):
            other = member.game
            if other is not game and other.infosets.keys != game.infosets.keys:
                raise InvalidPolicyError(f"member {k} belongs to a different game (infoset keys differ)")
            rows.append(member.probs)
        else:
            arr = np.asarray(member, dtype=np.float64)
            if arr.shape != expected:
                raise InvalidPolicyError(
                    f"member {k} must have shape {expected} (infosets, slots), got {arr.shape}"
                )
            rows.append(arr)
    if not rows:
        raise InvalidPolicyError("a mixture needs at least one member")
    return np.stack(rows)


def _weights(weights: ArrayLike, count: int) -> NDArray[np.float64]:
    """Validated weights ``[K]`` normalized to sum 1."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"weights must be a numeric vector, got {weights!r}") from None
    if w.shape != (count,):
        raise ValueError(f"weights must have one entry per member ({count}), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"weights must be finite and >= 0, got {w.tolist()}")
    total = float(w.sum())
    if not total > 0:
        raise ValueError("weights must not all be 0")
    return w / total


def member_plans(
    game: Any, members: Sequence[TabularPolicy | ArrayLike] | NDArray[Any], player: int
) -> NDArray[np.float64]:
    """Every member's own realization plan for ``player``: ``[K, S_p]`` float64.

    Args:
        game: The game (compiled or compilable).
        members: ``[K, I, A]`` probabilities, or a sequence of policies / ``[I, A]`` arrays; only
            ``player``'s rows are read.
        player: Whose plan.
    """
    compiled = as_compiled(game)
    compiled.check_player(player)
    probs = _members_array(compiled, members)
    start = int(compiled.sequence_offset[player])
    stop = start + int(compiled.num_sequences[player])
    out = np.empty((probs.shape[0], stop - start))
    for k in range(probs.shape[0]):
        out[k] = behavior_to_plans(compiled, probs[k])[start:stop]
    return out


def _mixed_plan(
    game: CompiledGame, plans: NDArray[np.float64], weights: ArrayLike, player: int
) -> NDArray[np.float64]:
    arr = np.asarray(plans, dtype=np.float64)
    expected = int(game.num_sequences[player])
    if arr.ndim != 2 or arr.shape[1] != expected:
        raise ValueError(f"plans of player {player} must have shape [K, {expected}], got {arr.shape}")
    return np.asarray(_weights(weights, arr.shape[0]) @ arr)


def mix_plans(game: Any, plans: NDArray[np.float64], weights: ArrayLike, player: int) -> NDArray[np.float64]:
    """Behavior probabilities ``[I, A]`` of the mixture of ``player``'s plans ``[K, S_p]``.

    Only ``player``'s rows are the mixture; the other players' rows are uniform.
    """
    compiled = as_compiled(game)
    compiled.check_player(player)
    total = np.zeros(int(compiled.num_sequences.sum()))
    start = int(compiled.sequence_offset[player])
    mixed = _mixed_plan(compiled, plans, weights, player)
    total[start : start + mixed.shape[0]] = mixed
    return plans_to_behavior(compiled, total)


def mix_profile_from_plans(
    game: Any, plans: Sequence[NDArray[np.float64]], weights: Sequence[ArrayLike]
) -> TabularPolicy:
    """The profile whose player-``p`` rows mix ``plans[p]`` ``[K_p, S_p]`` with ``weights[p]``."""
    compiled = as_compiled(game)
    if len(plans) != compiled.num_players or len(weights) != compiled.num_players:
        raise ValueError(f"expected plans and weights for each of the {compiled.num_players} players")
    joined = np.concatenate(
        [_mixed_plan(compiled, plans[p], weights[p], p) for p in range(compiled.num_players)]
    )
    return TabularPolicy(compiled, plans_to_behavior(compiled, joined), validate=False)


def mix_profile(
    game: Any,
    populations: Sequence[Sequence[TabularPolicy | ArrayLike] | NDArray[Any]],
    weights: Sequence[ArrayLike],
) -> TabularPolicy:
    """One behavior profile from a mixture of policies per player.

    Args:
        game: The game (compiled or compilable).
        populations: Per player ``p``, its members (``[K_p, I, A]`` or a sequence of policies);
            only player ``p``'s rows of its members are read.
        weights: Per player, ``[K_p]`` nonnegative weights (normalized here).

    Returns:
        The :class:`~gamesolve.policy.TabularPolicy` whose rows at player ``p``'s infosets are the
        realization-equivalent behavior strategy of player ``p``'s mixture. The players mix
        independently (a product of mixtures, not a correlated distribution over profiles).
    """
    compiled = as_compiled(game)
    if len(populations) != compiled.num_players:
        raise ValueError(
            f"expected one population per player ({compiled.num_players}), got {len(populations)}"
        )
    plans = [member_plans(compiled, populations[p], p) for p in range(compiled.num_players)]
    return mix_profile_from_plans(compiled, plans, weights)


def mix_policies(
    game: Any,
    policies: Sequence[TabularPolicy | ArrayLike] | NDArray[Any],
    weights: ArrayLike,
    *,
    player: int | None = None,
    base: TabularPolicy | ArrayLike | None = None,
) -> TabularPolicy:
    """The behavior policy equivalent to playing ``policies[k]`` with probability ``weights[k]``.

    Args:
        game: The game (compiled or compilable).
        policies: The members: policies or ``[I, A]`` arrays, or one ``[K, I, A]`` array.
        weights: ``[K]`` nonnegative weights (normalized here).
        player: Mix only this player's rows and take the other rows from ``base``; ``None``
            (default) mixes every player's rows, each player independently.
        base: Where the other players' rows come from when ``player`` is given (default uniform).

    Raises:
        InvalidPolicyError: A member does not fit the game.
        ValueError: Bad weights or player.
    """
    compiled = as_compiled(game)
    probs = _members_array(compiled, policies)
    w = _weights(weights, probs.shape[0])
    if player is None:
        return mix_profile(compiled, [probs] * compiled.num_players, [w] * compiled.num_players)
    compiled.check_player(player)
    out = mix_plans(compiled, member_plans(compiled, probs, player), w, player)
    if base is not None:
        base_probs = base.probs if isinstance(base, TabularPolicy) else np.asarray(base, dtype=np.float64)
        if base_probs.shape != out.shape:
            raise InvalidPolicyError(f"base must have shape {out.shape}, got {base_probs.shape}")
        rows = compiled.infoset_player != player
        out[rows] = base_probs[rows]
    return TabularPolicy(compiled, out, validate=False)


def mix_policies_numpy(
    game: Any, policies: Sequence[TabularPolicy | ArrayLike] | NDArray[Any], weights: ArrayLike
) -> NDArray[np.float64]:
    """Numpy twin of :func:`mix_policies` (every player's rows) by the reach formula directly.

    ``pi(a|I) = sum_k w_k x_k(I) pi_k(a|I) / sum_k w_k x_k(I)`` with the own reach ``x_k(I)`` read
    from the reach kernel's per-player columns at one history of ``I`` (perfect recall: it is the
    same at every history of ``I``). No sequence form is involved.
    """
    compiled = as_compiled(game)
    probs = _members_array(compiled, policies)
    w = _weights(weights, probs.shape[0])
    decision = np.flatnonzero(compiled.node_player >= 0)
    infoset_of = compiled.node_infoset[decision]
    first_node = np.full(compiled.num_infosets, -1, dtype=np.int64)
    first_node[infoset_of[::-1]] = decision[::-1]  # some history of every infoset
    owner = compiled.infoset_player
    reach = np.empty((compiled.num_nodes, compiled.num_players + 1))
    num = np.zeros((compiled.num_infosets, compiled.max_actions))
    den = np.zeros(compiled.num_infosets)
    for k in range(probs.shape[0]):
        forward_reach(compiled.tree, np.ascontiguousarray(probs[k]), reach)
        own = w[k] * reach[first_node, owner]  # [I] w_k x_k(I)
        num += own[:, None] * probs[k]
        den += own
    uniform = compiled.legal_mask / compiled.infoset_num_actions[:, None]
    safe = np.where(den > 0, den, 1.0)
    return np.where((den > 0)[:, None], num / safe[:, None], uniform)
