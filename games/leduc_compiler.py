"""The fast compiler of generalized Leduc hold'em: one template, tiled over every private deal.

:func:`compile_leduc` never walks states per history: it walks one *template* (the subtree below
one private deal, with the public card as a slot index) through the rules of
:class:`~gamesolve.games.leduc.LeducState`, then a numba kernel tiles that template over all
private deals, writing the node arrays in exactly the order :func:`gamesolve.compiled.compile_game`
would produce, so the fast and the generic compiler give identical arrays.

Node order is compile_game's: a history's children get consecutive ids when the history is
expanded, and histories are expanded depth first. So the root is 0, player 0's deals are 1..n, and
then, for each of player 0's cards c0 in turn, a block of n-1 deal nodes for player 1 followed by
the n-1 subtrees below them, each an identical copy (up to card ids) of one template of S nodes
whose local id 0 is the deal node itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CompiledGame, build_compiled_game
from gamesolve.games.leduc import (
    STARTING_MONEY,
    LeducPoker,
    LeducState,
    deal_subtree_size,
    information_state_string,
)
from gamesolve.protocols import CHANCE, TERMINAL

__all__ = ["compile_leduc"]

log = logging.getLogger(__name__)


def compile_leduc(game: LeducPoker) -> CompiledGame:
    """The compiled game of ``game``, built from one template (no size checks: the caller's).

    Raises:
        MalformedGameError: :func:`gamesolve.compiled.build_compiled_game` rejects the arrays.
    """
    start = time.perf_counter()
    n = game.num_cards
    n_nodes = game.num_histories()
    tpl = _build_template(game)
    if tpl.size != deal_subtree_size(n, game.max_raises):  # pragma: no cover - the closed form is exact
        raise AssertionError(f"leduc history count {n_nodes} disagrees with the template")
    n_pairs = n * (n - 1)
    n_terminals = n_pairs * tpl.num_terminals
    node_player = np.empty(n_nodes, dtype=np.int8)  # [N]
    node_infoset = np.empty(n_nodes, dtype=np.int32)  # [N]
    node_parent = np.empty(n_nodes, dtype=np.int32)  # [N]
    node_first_child = np.empty(n_nodes, dtype=np.int32)  # [N]
    node_num_children = np.empty(n_nodes, dtype=np.int32)  # [N]
    node_action = np.empty(n_nodes, dtype=np.int32)  # [N]
    node_prob = np.empty(n_nodes, dtype=np.float64)  # [N]
    terminal_utility = np.empty((n_terminals, 2), dtype=np.float64)  # [T, 2]
    n_histories = len(tpl.h_player)
    code_to_infoset = np.full(n_histories * (n + 1) * n, -1, dtype=np.int32)  # [codes]
    infoset_code = np.empty(code_to_infoset.shape[0], dtype=np.int64)  # [codes] (first I used)
    n_infosets = _fill_kernel(
        n,
        game.suits,
        game.ranks,
        tpl.player,
        tpl.parent,
        tpl.first_child,
        tpl.num_children,
        tpl.action,
        tpl.public_edge,
        tpl.prob,
        tpl.slot,
        tpl.terminal,
        tpl.fold_u0,
        tpl.stake,
        tpl.history,
        tpl.decision_preorder,
        tpl.h_player,
        tpl.num_terminals,
        node_player,
        node_infoset,
        node_parent,
        node_first_child,
        node_num_children,
        node_action,
        node_prob,
        terminal_utility,
        code_to_infoset,
        infoset_code,
    )
    del code_to_infoset
    codes = infoset_code[:n_infosets]  # [I] int64
    card = codes % n  # [I] private card of the acting player
    rest = codes // n
    pub = rest % (n + 1) - 1  # [I] public card or -1
    hist = rest // (n + 1)  # [I] template betting-history id
    h_player = tpl.h_player.tolist()
    keys = [
        information_state_string(
            h_player[h],
            c,
            tpl.h_round[h],
            h_player[h],
            tpl.h_pot[h],
            tpl.h_money[h],
            None if p < 0 else p,
            tpl.h_actions_taken[h],
        )
        for h, c, p in zip(hist.tolist(), card.tolist(), pub.tolist(), strict=True)
    ]
    compiled = build_compiled_game(
        game.spec,
        node_player=node_player,
        node_infoset=node_infoset,
        node_parent=node_parent,
        node_first_child=node_first_child,
        node_num_children=node_num_children,
        node_action=node_action,
        node_prob=node_prob,
        terminal_utility=terminal_utility,
        infoset_player=tpl.h_player[hist],
        infoset_actions=tpl.h_legal[hist],
        infoset_keys=keys,
        source=game,
    )
    seconds = time.perf_counter() - start
    object.__setattr__(compiled, "compile_seconds", seconds)
    log.info("compiled %s natively: %s in %.3f s", game.spec.name, compiled, seconds)
    return compiled


@dataclass(frozen=True)
class _Template:
    """The subtree below one private deal, public cards as slots ``0 .. n-3`` (local ids)."""

    player: NDArray[np.int8]  # [S] player / CHANCE / TERMINAL
    parent: NDArray[np.int32]  # [S] local parent, -1 at local root
    first_child: NDArray[np.int32]  # [S] local first child, -1 at terminals
    num_children: NDArray[np.int32]  # [S]
    action: NDArray[np.int32]  # [S] action id, or public-card slot on public edges
    public_edge: NDArray[np.bool_]  # [S] edge into the node deals the public card
    prob: NDArray[np.float64]  # [S] chance probability of the edge into the node, else 1
    slot: NDArray[np.int32]  # [S] public-card slot once dealt, else -1
    terminal: NDArray[np.int32]  # [S] index among the template's terminals, else -1
    fold_u0: NDArray[np.float64]  # [S] player 0's payoff at fold terminals (nan elsewhere)
    stake: NDArray[np.float64]  # [S] each player's chips in the pot at showdowns (nan elsewhere)
    history: NDArray[np.int32]  # [S] betting-history id at decision nodes, else -1
    decision_preorder: NDArray[np.int32]  # [D] local ids of decision nodes in depth-first order
    num_terminals: int
    h_player: NDArray[np.int32]  # [H] acting player of each betting history
    h_round: list[int]  # [H] round index
    h_pot: list[int]  # [H]
    h_money: list[tuple[int, int]]  # [H]
    h_actions_taken: list[tuple[tuple[int, ...], tuple[int, ...]]]  # [H] actions per round
    h_legal: NDArray[np.int32]  # [H, A] legal action ids, -1 padding

    @property
    def size(self) -> int:
        """Number of template nodes ``S``."""
        return int(self.player.shape[0])


def _build_template(game: LeducPoker) -> _Template:
    """Walk the subtree below the deal (0, 1) through :class:`LeducState`, as compile_game would."""
    root = game.initial_state().child(0).child(1)
    player: list[int] = [0]
    parent: list[int] = [-1]
    first_child: list[int] = [-1]
    num_children: list[int] = [0]
    action: list[int] = [-1]
    public_edge: list[bool] = [False]
    prob: list[float] = [1.0]
    slot: list[int] = [-1]
    terminal: list[int] = [-1]
    fold_u0: list[float] = [np.nan]
    stake: list[float] = [np.nan]
    history: list[int] = [-1]
    preorder: list[int] = []
    hist_ids: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}
    h_player: list[int] = []
    h_round: list[int] = []
    h_pot: list[int] = []
    h_money: list[tuple[int, int]] = []
    h_taken: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    h_legal: list[list[int]] = []
    n_terminals = 0
    stack: list[tuple[LeducState, int]] = [(root, 0)]
    while stack:
        state, node = stack.pop()
        if len(state.cards) > 2:
            slot[node] = state.cards[2] - 2
        cur = state.current_player()
        player[node] = cur
        if cur == TERMINAL:
            terminal[node] = n_terminals
            n_terminals += 1
            if state.folder >= 0:
                fold_u0[node] = float(state.returns()[0])
            else:
                stake[node] = float(state.contributions[0])
            continue
        if cur == CHANCE:
            outcomes = list(state.chance_outcomes())
            acts = [a for a, _ in outcomes]
            probs = [p for _, p in outcomes]
            edge_actions = [a - 2 for a in acts]  # slots: cards 0 and 1 are the private ones
        else:
            preorder.append(node)
            acts = list(state.legal_actions())
            probs = [1.0] * len(acts)
            edge_actions = acts
            hkey = state.history
            h = hist_ids.get(hkey)
            if h is None:
                h = len(h_player)
                hist_ids[hkey] = h
                c = state.contributions
                h_player.append(cur)
                h_round.append(state.round_index)
                h_pot.append(c[0] + c[1])
                h_money.append((STARTING_MONEY - c[0], STARTING_MONEY - c[1]))
                h_taken.append(hkey)
                h_legal.append(acts)
            history[node] = h
        first = len(player)
        first_child[node] = first
        num_children[node] = len(acts)
        for a, p in zip(edge_actions, probs, strict=True):
            player.append(0)
            parent.append(node)
            first_child.append(-1)
            num_children.append(0)
            action.append(a)
            public_edge.append(cur == CHANCE)
            prob.append(p)
            slot.append(-1)
            terminal.append(-1)
            fold_u0.append(np.nan)
            stake.append(np.nan)
            history.append(-1)
        for j in range(len(acts) - 1, -1, -1):
            stack.append((state.child(acts[j]), first + j))
    width = max(len(acts) for acts in h_legal)
    legal = np.full((len(h_legal), width), -1, dtype=np.int32)  # [H, A]
    for i, acts in enumerate(h_legal):
        legal[i, : len(acts)] = acts
    return _Template(
        player=np.asarray(player, dtype=np.int8),
        parent=np.asarray(parent, dtype=np.int32),
        first_child=np.asarray(first_child, dtype=np.int32),
        num_children=np.asarray(num_children, dtype=np.int32),
        action=np.asarray(action, dtype=np.int32),
        public_edge=np.asarray(public_edge, dtype=np.bool_),
        prob=np.asarray(prob, dtype=np.float64),
        slot=np.asarray(slot, dtype=np.int32),
        terminal=np.asarray(terminal, dtype=np.int32),
        fold_u0=np.asarray(fold_u0, dtype=np.float64),
        stake=np.asarray(stake, dtype=np.float64),
        history=np.asarray(history, dtype=np.int32),
        decision_preorder=np.asarray(preorder, dtype=np.int32),
        num_terminals=n_terminals,
        h_player=np.asarray(h_player, dtype=np.int32),
        h_round=h_round,
        h_pot=h_pot,
        h_money=h_money,
        h_actions_taken=h_taken,
        h_legal=legal,
    )


@numba.njit(cache=True)
def _public_card(slot: int, lo: int, hi: int) -> int:
    """The ``slot``-th smallest card other than the private cards ``lo < hi``."""
    card = slot
    if card >= lo:
        card += 1
    if card >= hi:
        card += 1
    return card


@numba.njit(cache=True)
def _fill_kernel(
    n: int,
    suits: int,
    ranks: int,
    t_player: NDArray[np.int8],  # [S]
    t_parent: NDArray[np.int32],  # [S]
    t_first_child: NDArray[np.int32],  # [S]
    t_num_children: NDArray[np.int32],  # [S]
    t_action: NDArray[np.int32],  # [S]
    t_public_edge: NDArray[np.bool_],  # [S]
    t_prob: NDArray[np.float64],  # [S]
    t_slot: NDArray[np.int32],  # [S]
    t_terminal: NDArray[np.int32],  # [S]
    t_fold_u0: NDArray[np.float64],  # [S]
    t_stake: NDArray[np.float64],  # [S]
    t_history: NDArray[np.int32],  # [S]
    t_decision_preorder: NDArray[np.int32],  # [D]
    h_player: NDArray[np.int32],  # [H]
    t_num_terminals: int,
    node_player: NDArray[np.int8],  # [N] out
    node_infoset: NDArray[np.int32],  # [N] out
    node_parent: NDArray[np.int32],  # [N] out
    node_first_child: NDArray[np.int32],  # [N] out
    node_num_children: NDArray[np.int32],  # [N] out
    node_action: NDArray[np.int32],  # [N] out
    node_prob: NDArray[np.float64],  # [N] out
    terminal_utility: NDArray[np.float64],  # [T, 2] out
    code_to_infoset: NDArray[np.int32],  # [H * (n+1) * n] in: all -1; out: infoset id per code
    infoset_code: NDArray[np.int64],  # [>= I] out: code of each infoset id
) -> int:
    """Tile the template over all private deals; return the number of infosets."""
    s = t_player.shape[0]
    # Root: chance deals player 0's card.
    node_player[0] = CHANCE
    node_infoset[0] = -1
    node_parent[0] = -1
    node_first_child[0] = 1
    node_num_children[0] = n
    node_action[0] = -1
    node_prob[0] = 1.0
    n_infosets = 0
    per_c0 = (n - 1) * s  # ids used below each of player 0's deal nodes
    for c0 in range(n):
        deal0 = 1 + c0
        base = 1 + n + c0 * per_c0
        node_player[deal0] = CHANCE
        node_infoset[deal0] = -1
        node_parent[deal0] = 0
        node_first_child[deal0] = base
        node_num_children[deal0] = n - 1
        node_action[deal0] = c0
        node_prob[deal0] = 1.0 / n
        for k in range(n - 1):
            c1 = k + 1 if k >= c0 else k
            lo = min(c0, c1)
            hi = max(c0, c1)
            pair = c0 * (n - 1) + k
            deal1 = base + k  # template local id 0
            block = base + (n - 1) + k * (s - 1)  # global id of template local id 1
            for i in range(s):
                g = deal1 if i == 0 else block + i - 1
                node_player[g] = t_player[i]
                node_infoset[g] = -1
                par = t_parent[i]
                if i == 0:
                    node_parent[g] = deal0
                elif par == 0:
                    node_parent[g] = deal1
                else:
                    node_parent[g] = block + par - 1
                fc = t_first_child[i]
                node_first_child[g] = -1 if fc < 0 else block + fc - 1
                node_num_children[g] = t_num_children[i]
                if i == 0:
                    node_action[g] = c1
                    node_prob[g] = 1.0 / (n - 1)
                elif t_public_edge[i]:
                    node_action[g] = _public_card(t_action[i], lo, hi)
                    node_prob[g] = t_prob[i]
                else:
                    node_action[g] = t_action[i]
                    node_prob[g] = t_prob[i]
                term = t_terminal[i]
                if term >= 0:
                    row = pair * t_num_terminals + term
                    if not np.isnan(t_fold_u0[i]):  # a fold: the payoff ignores the cards
                        u0 = t_fold_u0[i]
                    else:
                        pub_rank = _public_card(t_slot[i], lo, hi) // suits
                        r0 = c0 // suits
                        r1 = c1 // suits
                        s0 = r0 + (ranks if r0 == pub_rank else 0)
                        s1 = r1 + (ranks if r1 == pub_rank else 0)
                        if s0 > s1:
                            u0 = t_stake[i]
                        elif s0 < s1:
                            u0 = -t_stake[i]
                        else:
                            u0 = 0.0
                    terminal_utility[row, 0] = u0
                    terminal_utility[row, 1] = 0.0 - u0
            # Infosets, numbered on first discovery in depth-first order (as compile_game does).
            for d in range(t_decision_preorder.shape[0]):
                i = t_decision_preorder[d]
                g = deal1 if i == 0 else block + i - 1
                h = t_history[i]
                card = c0 if h_player[h] == 0 else c1
                slot = t_slot[i]
                pub = 0 if slot < 0 else _public_card(slot, lo, hi) + 1
                code = (h * (n + 1) + pub) * n + card
                infoset = code_to_infoset[code]
                if infoset < 0:
                    infoset = n_infosets
                    code_to_infoset[code] = infoset
                    infoset_code[infoset] = code
                    n_infosets += 1
                node_infoset[g] = infoset
    return n_infosets
