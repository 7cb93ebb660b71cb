"""Plain-numpy twin of :func:`gamesolve.kernels.cfr.cfr_iteration`, used only by the tests.

It computes the same iteration a different way, so that agreement between the two is evidence
that both are right:

* reach probabilities come from walking every node's path *up* to the root (following
  ``node_parent``, independent of node order) instead of a forward loop over node ids;
* counterfactual action values are accumulated *from the terminals upwards*: every terminal ``z``
  walks its path to the root, and at each decision node ``h`` of the updating player ``i`` on that
  path, entered through slot ``a``, it adds ``pi_{-i}(z) * pi_i(ha -> z) * u_i(z)`` to
  ``cfv[I(h), a]`` (``pi_i(ha -> z)`` is the product of ``i``'s own probabilities strictly below
  ``ha``). Summed over ``z`` this is ``sum_{h in I} pi_{-i}(h) v_i(ha)``, the definition, with no
  backward value pass;
* the own reach of an infoset (for the average strategy) is the owner's reach of any history of
  the infoset (perfect recall) instead of a sequence-form pass;
* regret updates and regret matching are whole-array expressions over the rows of one player.

Products and sums of the values pass are formed in extended precision (``np.longdouble``) and
rounded once. Regret matching is discontinuous where a regret is exactly 0, and games have many
exact ties between actions (3-player Kuhn under the uniform profile, for instance): a
one-ulp difference there would send the twin and the kernel down different paths, while values
that are rounded once come out exactly tied, as in the kernel.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels.cfr import UpdateRule
from gamesolve.kernels.tree import CHANCE, TreeArrays

__all__ = [
    "cfr_iteration_numpy",
    "counterfactual_values_numpy",
    "edge_probabilities",
    "path_reach",
    "regret_matching_numpy",
]


def edge_probabilities(
    tree: TreeArrays, probs: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.longdouble]]:
    """Who chooses the edge into every node, and with what probability.

    Args:
        tree: The compiled game's arrays.
        probs: ``[I, A]`` strategy of every player.

    Returns:
        ``(actor, prob)``: ``actor[n]`` is the player choosing the edge into ``n`` (``P`` for
        chance, -1 at the root); ``prob[n]`` its probability in extended precision (1 at the root).
    """
    num_players = tree.terminal_utility.shape[1]
    n_nodes = tree.node_player.shape[0]
    nodes = np.arange(1, n_nodes)
    parents = tree.node_parent[1:].astype(np.int64)
    parent_player = tree.node_player[parents].astype(np.int64)
    actor = np.full(n_nodes, -1, dtype=np.int64)
    actor[1:] = np.where(parent_player == CHANCE, num_players, parent_player)
    prob = np.ones(n_nodes, dtype=np.longdouble)
    chance = parent_player == CHANCE
    prob[nodes[chance]] = tree.node_prob[nodes[chance]]
    decision = ~chance
    slots = nodes[decision] - tree.node_first_child[parents[decision]]
    prob[nodes[decision]] = probs[tree.node_infoset[parents[decision]], slots]
    return actor, prob


def path_reach(
    nodes: NDArray[np.int64],
    node_parent: NDArray[np.int32],
    actor: NDArray[np.int64],
    prob: NDArray[np.longdouble],
    num_players: int,
) -> NDArray[np.longdouble]:
    """``[K, P + 1]`` reach of each of ``nodes`` by every player (column ``P``: chance).

    Walks every node's path up to the root at once, multiplying each edge probability into its
    chooser's column, in extended precision.

    Args:
        nodes: ``[K]`` node ids.
        node_parent: ``[N]`` parent id, -1 at the root.
        actor: ``[N]`` from :func:`edge_probabilities`.
        prob: ``[N]`` from :func:`edge_probabilities`.
        num_players: Number of players ``P``.

    Returns:
        The reach matrix of ``nodes``.
    """
    reach = np.ones((nodes.shape[0], num_players + 1), dtype=np.longdouble)
    current = nodes.astype(np.int64)
    live = np.flatnonzero(current > 0)
    while live.size:
        child = current[live]
        reach[live, actor[child]] *= prob[child]
        current[live] = node_parent[child]
        live = live[current[live] > 0]
    return reach


def counterfactual_values_numpy(
    tree: TreeArrays, probs: NDArray[np.float64], player: int
) -> tuple[NDArray[np.float64], float]:
    """Counterfactual action values of one player by walking up from every terminal.

    Sums are formed in extended precision and rounded once, so values that are mathematically
    equal (ties between actions, which decide regret matching) come out equal.

    Args:
        tree: The compiled game's arrays.
        probs: ``[I, A]`` current strategy of every player.
        player: The player whose values are computed.

    Returns:
        ``(cfv, root_value)``: ``cfv`` is ``[I, A]`` with ``player``'s rows filled (other rows 0),
        ``root_value`` is ``player``'s expected utility under ``probs``.
    """
    node_parent, node_infoset, node_first_child = tree.node_parent, tree.node_infoset, tree.node_first_child
    terminal_node, terminal_utility = tree.terminal_node, tree.terminal_utility
    num_players = terminal_utility.shape[1]
    actor, prob = edge_probabilities(tree, probs)
    reach = path_reach(terminal_node.astype(np.int64), node_parent, actor, prob, num_players)
    utility = terminal_utility[:, player].astype(np.longdouble)
    others = np.delete(reach, player, axis=1).prod(axis=1)
    root_value = float(np.sum(others * reach[:, player] * utility))
    base = others * utility  # pi_{-i}(z) u_i(z)
    below = np.ones(terminal_node.shape[0], dtype=np.longdouble)  # pi_i from the current node to z
    cfv = np.zeros(probs.shape, dtype=np.longdouble)
    current = terminal_node.astype(np.int64)
    live = np.flatnonzero(current > 0)
    while live.size:
        child = current[live]
        parent = node_parent[child]
        mine = actor[child] == player
        if mine.any():
            rows = live[mine]
            infoset = node_infoset[parent[mine]]
            slot = child[mine] - node_first_child[parent[mine]]
            np.add.at(cfv, (infoset, slot), base[rows] * below[rows])
            below[rows] *= prob[child[mine]]
        current[live] = parent
        live = live[current[live] > 0]
    return cfv.astype(np.float64), root_value


def regret_matching_numpy(
    regrets: NDArray[np.float64],
    prediction: NDArray[np.float64] | None,
    legal_mask: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """``[R (+ m)]^+`` normalized by row; rows without positive entries are uniform over legal slots.

    Args:
        regrets: ``[K, A]`` cumulative regrets.
        prediction: ``[K, A]`` added to ``regrets`` before matching, or ``None``.
        legal_mask: ``[K, A]`` legal slots.

    Returns:
        ``[K, A]`` strategy rows.
    """
    target = regrets if prediction is None else regrets + prediction
    positive = np.where(legal_mask & (target > 0.0), target, 0.0)
    total = positive.sum(axis=1, keepdims=True)
    uniform = legal_mask / legal_mask.sum(axis=1, keepdims=True)
    return np.where(total > 0.0, positive / np.where(total > 0.0, total, 1.0), uniform)


def _update(
    rows: NDArray[np.intp],
    own_reach: NDArray[np.float64],
    cfv: NDArray[np.float64],
    legal: NDArray[np.bool_],
    t: int,
    rule: UpdateRule,
    probs: NDArray[np.float64],
    regrets: NDArray[np.float64],
    last_regret: NDArray[np.float64],
    avg: NDArray[np.float64],
) -> None:
    """Regret and average-strategy update of the infoset rows ``rows``, in place."""
    sigma = probs[rows]
    values = cfv[rows]
    mask = legal[rows]
    instant = np.where(mask, values - (sigma * values).sum(axis=1, keepdims=True), 0.0)
    acc = regrets[rows] + instant
    if rule.floor_zero:
        acc = np.maximum(acc, 0.0)
    if rule.discount:
        t_alpha = float(t) ** rule.alpha
        t_beta = float(t) ** rule.beta
        acc = acc * np.where(acc > 0.0, t_alpha / (t_alpha + 1.0), t_beta / (t_beta + 1.0))
    regrets[rows] = np.where(mask, acc, regrets[rows])
    last_regret[rows] = np.where(mask, instant, last_regret[rows])
    avg[rows] += float(t) ** rule.gamma * own_reach[rows, None] * sigma


def cfr_iteration_numpy(
    tree: TreeArrays,
    rule: UpdateRule,
    *,
    t_first: int,
    count: int,
    probs: NDArray[np.float64],
    regrets: NDArray[np.float64],
    last_regret: NDArray[np.float64],
    avg: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Run ``count`` CFR iterations numbered from ``t_first``, updating the state arrays in place.

    Same rule parameters and state as :func:`gamesolve.kernels.cfr.cfr_iteration`; see
    :mod:`gamesolve.kernels.cfr` for their meaning.

    Args:
        tree: The compiled game's arrays.
        rule: The variant's update scalars (alternation, floor, discounting, averaging, prediction).
        t_first: Number of the first iteration (iterations count from 1).
        count: How many iterations to run.
        probs: ``[I, A]`` current strategy, in/out.
        regrets: ``[I, A]`` cumulative regrets, in/out.
        last_regret: ``[I, A]`` last instantaneous regrets, in/out.
        avg: ``[I, A]`` cumulative weighted strategy, in/out.

    Returns:
        ``[P]`` each player's expected utility under the strategy it updated from, in the last
        iteration.
    """
    infoset_player, infoset_num_actions = tree.infoset_player, tree.infoset_num_actions
    num_players = tree.terminal_utility.shape[1]
    width = probs.shape[1]
    legal = np.arange(width)[None, :] < infoset_num_actions[:, None]
    decision = np.flatnonzero(tree.node_player >= 0)
    representative = np.zeros(infoset_player.shape[0], dtype=np.int64)
    representative[tree.node_infoset[decision]] = decision
    rows_of = [np.flatnonzero(infoset_player == p) for p in range(num_players)]
    root_values = np.zeros(num_players)

    def own_reach() -> NDArray[np.float64]:
        actor, prob = edge_probabilities(tree, probs)
        reach = path_reach(representative, tree.node_parent, actor, prob, num_players)
        return reach[np.arange(representative.shape[0]), infoset_player].astype(np.float64)

    def update(p: int, cfv: NDArray[np.float64], own: NDArray[np.float64], t: int) -> None:
        _update(rows_of[p], own, cfv, legal, t, rule, probs, regrets, last_regret, avg)

    def match(rows: NDArray[np.intp]) -> None:
        probs[rows] = regret_matching_numpy(
            regrets[rows], last_regret[rows] if rule.predictive else None, legal[rows]
        )

    for t in range(t_first, t_first + count):
        if rule.alternating:
            for p in range(num_players):
                cfv, root_values[p] = counterfactual_values_numpy(tree, probs, p)
                update(p, cfv, own_reach(), t)
                match(rows_of[p])
        else:
            values = [counterfactual_values_numpy(tree, probs, p) for p in range(num_players)]
            own = own_reach()
            for p in range(num_players):
                root_values[p] = values[p][1]
                update(p, values[p][0], own, t)
            match(np.arange(infoset_player.shape[0]))
    return root_values
