"""Generalized Leduc hold'em, natively, with a vectorized compiler for decks of any size.

At the default parameters this is exactly OpenSpiel's ``leduc_poker``: same histories, action and
chance-outcome ids, payoffs, and information-set keys (OpenSpiel's information-state strings), so
policies move between the two with :meth:`gamesolve.TabularPolicy.to_dict` / ``from_dict``.

Rules (two players):

* The deck has ``ranks * suits`` cards; card ``c`` has rank ``c // suits`` (OpenSpiel's numbering:
  cards ``0, 1`` are the two lowest cards at the defaults). Both players ante ``ante``.
* Chance deals player 0's private card, then player 1's, uniformly from the cards left.
* Two betting rounds; player 0 acts first in each. Actions: ``fold = 0`` (legal only when facing a
  raise), ``call = 1`` (check when not facing a raise), ``raise = 2`` (legal while fewer than
  ``raises`` raises were made this round). A raise calls and adds ``raise_sizes[round]`` chips.
  A round ends with a call that is not the round's first action (check-check, or a call of a
  raise); a fold ends the game and the folder loses what it put in.
* Between the rounds chance deals one public card from the cards left.
* Showdown: a private card pairing the public card beats any unpaired hand; otherwise the higher
  rank wins; equal hands split the pot.

Keys look like ``[Observer: 0][Private: 5][Round 2][Player: 0][Pot: 10][Money: 95 95]``
``[Public: 3][Round1: 2 2 1][Round2: ]`` (one string), with ``Money = 100 - chips put in``.

:meth:`LeducPoker.compile` never walks states per history: it walks one *template* (the subtree
below one private deal, with the public card as a slot index) through the state rules, then a
numba kernel tiles that template over all private deals, writing the node arrays in exactly the
order :func:`gamesolve.compiled.compile_game` would produce (so the fast and generic compilers give
identical arrays). ``leduc(ranks=13,suits=4)`` (about 10 million histories) compiles in seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from gamesolve.budget import MAX_INDEX, SizeEstimate
from gamesolve.compiled import CompiledGame, build_compiled_game
from gamesolve.errors import UnsupportedGame
from gamesolve.games._params import GameParameterError, parse_int, parse_int_tuple
from gamesolve.protocols import CHANCE, TERMINAL
from gamesolve.registry import GameEntry
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = [
    "CALL",
    "DEFAULTS",
    "FOLD",
    "RAISE",
    "STARTING_MONEY",
    "LeducPoker",
    "LeducState",
    "load",
]

log = logging.getLogger(__name__)

#: Action id of fold.
FOLD = 0
#: Action id of call / check.
CALL = 1
#: Action id of raise / bet.
RAISE = 2
#: Chips each player starts with; only used to print ``Money`` in keys (as OpenSpiel does).
STARTING_MONEY = 100
#: Default parameters (OpenSpiel's leduc_poker).
DEFAULTS: dict[str, Any] = {
    "ranks": 3,
    "suits": 2,
    "raises": 2,
    "raise_sizes": (2, 4),
    "ante": 1,
    "players": 2,
}

_NO_CARD = -10000  # what OpenSpiel prints for a private card not dealt yet
_NUM_ROUNDS = 2
_INT32_MAX = int(np.iinfo(np.int32).max)
#: Largest ante or raise size: the pot of any tree that fits in memory (fewer than 10**5 raises a
#: round) then stays an exact float64 integer.
_MAX_CHIPS = 2**32
#: Peak bytes per history of the vectorized compiler (node arrays, the tiled payoffs, the
#: breadth-first relayout and sequence pass of build_compiled_game), measured with tracemalloc on
#: decks of 6 to 32 cards: 107 to 113.
_BYTES_PER_NODE = 112
#: Bytes per information set besides the key's characters (string, list and index entries).
_BYTES_PER_INFOSET = 200


def _format_key(
    observer: int,
    private: int,
    round_index: int,
    player: int,
    pot: int,
    money: tuple[int, int],
    public: int | None,
    history: tuple[tuple[int, ...], tuple[int, ...]],
) -> str:
    """OpenSpiel's leduc information-state string."""
    pub = "" if public is None else f"[Public: {public}]"
    r1 = " ".join(map(str, history[0]))
    r2 = " ".join(map(str, history[1]))
    return (
        f"[Observer: {observer}][Private: {private}][Round {round_index + 1}][Player: {player}]"
        f"[Pot: {pot}][Money: {money[0]} {money[1]}]{pub}[Round1: {r1}][Round2: {r2}]"
    )


class LeducState:
    """One history of :class:`LeducPoker` (immutable; :meth:`child` returns a new state).

    Build the root with :meth:`LeducPoker.initial_state`.
    """

    __slots__ = (
        "_cards",
        "_contrib",
        "_folder",
        "_game",
        "_history",
        "_last",
        "_player",
        "_raises",
        "_round",
    )

    def __init__(
        self,
        game: LeducPoker,
        cards: tuple[int, ...],
        history: tuple[tuple[int, ...], tuple[int, ...]],
        round_index: int,
        contrib: tuple[int, int],
        raises: int,
        player: int,
        folder: int,
        last: int,
    ) -> None:
        self._game = game
        self._cards = cards  # dealt cards: player 0's, player 1's, then the public card
        self._history = history  # actions of round 1 and round 2
        self._round = round_index  # 0 or 1
        self._contrib = contrib  # chips put in by each player (ante included)
        self._raises = raises  # raises made in the current round
        self._player = player  # player to act, CHANCE or TERMINAL
        self._folder = folder  # player who folded, or -1
        self._last = last  # last player to act (printed as "Player" at terminals)

    # --------------------------------------------------------------- protocol
    def current_player(self) -> int:
        """Player to act, :data:`CHANCE` while dealing, :data:`TERMINAL` at the end."""
        return self._player

    def is_terminal(self) -> bool:
        """Whether the hand is over (a fold or the showdown)."""
        return self._player == TERMINAL

    def _facing_raise(self) -> bool:
        me = self._player
        return self._contrib[me] < self._contrib[1 - me]

    def legal_actions(self) -> Sequence[int]:
        """Fold (only when facing a raise), call, and raise (while the round's cap allows)."""
        if self._player < 0:
            return []
        actions = [FOLD] if self._facing_raise() else []
        actions.append(CALL)
        if self._raises < self._game.max_raises:
            actions.append(RAISE)
        return actions

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        """Cards not dealt yet, uniformly (empty at decision and terminal nodes)."""
        if self._player != CHANCE:
            return []
        left = [c for c in range(self._game.num_cards) if c not in self._cards]
        p = 1.0 / len(left)
        return [(c, p) for c in left]

    def child(self, action: int) -> LeducState:
        """The history after ``action`` (a card id at chance nodes).

        Raises:
            ValueError: ``action`` is not legal here.
        """
        action = int(action)
        game = self._game
        if self._player == CHANCE:
            if not 0 <= action < game.num_cards or action in self._cards:
                raise ValueError(f"card {action} cannot be dealt at this history")
            cards = (*self._cards, action)
            player = 0 if len(cards) >= 2 else CHANCE
            return LeducState(
                game,
                cards,
                self._history,
                self._round,
                self._contrib,
                self._raises,
                player,
                -1,
                self._last,
            )
        if self._player == TERMINAL:
            raise ValueError("no action is legal at a terminal history")
        if action not in self.legal_actions():
            raise ValueError(f"action {action} is illegal; legal actions are {list(self.legal_actions())}")
        me = self._player
        other = 1 - me
        r = self._round
        acts = (*self._history[r], action)
        history = (acts, self._history[1]) if r == 0 else (self._history[0], acts)
        contrib = list(self._contrib)
        raises = self._raises
        if action == FOLD:
            return LeducState(game, self._cards, history, r, self._contrib, raises, TERMINAL, me, me)
        if action == CALL:
            contrib[me] = contrib[other]
            if len(acts) >= 2:  # the round is over
                if r + 1 < _NUM_ROUNDS:
                    return LeducState(
                        game,
                        self._cards,
                        history,
                        r + 1,
                        (contrib[0], contrib[1]),
                        0,
                        CHANCE,
                        -1,
                        me,
                    )
                return LeducState(
                    game,
                    self._cards,
                    history,
                    r,
                    (contrib[0], contrib[1]),
                    raises,
                    TERMINAL,
                    -1,
                    me,
                )
        else:
            contrib[me] = contrib[other] + game.raise_sizes[r]
            raises += 1
        return LeducState(game, self._cards, history, r, (contrib[0], contrib[1]), raises, other, -1, me)

    def returns(self) -> Sequence[float]:
        """Chips won minus chips put in (zeros before the end)."""
        if self._player != TERMINAL:
            return [0.0, 0.0]
        if self._folder >= 0:
            lost = float(self._contrib[self._folder])
            return [-lost, lost] if self._folder == 0 else [lost, -lost]
        stake = float(self._contrib[0])  # equal to contrib[1] at a showdown
        s0 = self._game.hand_strength(self._cards[0], self._cards[2])
        s1 = self._game.hand_strength(self._cards[1], self._cards[2])
        if s0 == s1:
            return [0.0, 0.0]
        return [stake, -stake] if s0 > s1 else [-stake, stake]

    def infoset_key(self, player: int) -> str:
        """OpenSpiel's information-state string of ``player`` at this history."""
        if player not in (0, 1):
            raise ValueError(f"player must be 0 or 1, got {player}")
        private = self._cards[player] if player < len(self._cards) else _NO_CARD
        public = self._cards[2] if len(self._cards) > 2 else None
        if self._player == TERMINAL:
            ret = self.returns()
            pot = 0
            money = (STARTING_MONEY + round(ret[0]), STARTING_MONEY + round(ret[1]))
            shown = self._last
        else:
            pot = self._contrib[0] + self._contrib[1]
            money = (STARTING_MONEY - self._contrib[0], STARTING_MONEY - self._contrib[1])
            shown = self._player
        return _format_key(player, private, self._round, shown, pot, money, public, self._history)

    # --------------------------------------------------------------- extras
    @property
    def cards(self) -> tuple[int, ...]:
        """Cards dealt so far: player 0's, player 1's, then the public card."""
        return self._cards

    @property
    def history(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Actions of each betting round."""
        return self._history

    @property
    def contributions(self) -> tuple[int, int]:
        """Chips each player has put in, ante included."""
        return self._contrib

    @property
    def round_index(self) -> int:
        """Current betting round, 0 or 1."""
        return self._round

    @property
    def folder(self) -> int:
        """The player who folded, or -1."""
        return self._folder

    def __repr__(self) -> str:
        return f"LeducState(cards={self._cards}, history={self._history})"


class LeducPoker:
    """Generalized two-player Leduc hold'em (see the module docstring).

    Args:
        ranks: Number of ranks (>= 1).
        suits: Cards per rank (>= 1); the deck needs at least 3 cards.
        raises: Most raises per betting round (>= 0).
        raise_sizes: Chips added by a raise in round 1 and round 2 (each >= 1).
        ante: Chips each player antes (>= 1).

    Raises:
        GameParameterError: A parameter is out of range (the message names it).
    """

    def __init__(
        self,
        ranks: int = 3,
        suits: int = 2,
        raises: int = 2,
        raise_sizes: tuple[int, int] = (2, 4),
        ante: int = 1,
    ) -> None:
        self._ranks = parse_int("leduc", "ranks", ranks, minimum=1, maximum=MAX_INDEX)
        self._suits = parse_int("leduc", "suits", suits, minimum=1, maximum=MAX_INDEX)
        if self._ranks * self._suits < 3:
            raise GameParameterError(
                f"leduc: the deck (ranks * suits = {self._ranks * self._suits}) needs at least 3 cards"
            )
        if self._ranks * self._suits > MAX_INDEX:
            raise GameParameterError(
                f"leduc: the deck (ranks * suits = {self._ranks * self._suits:,}) must have at most "
                f"{MAX_INDEX:,} cards (card ids are int32)"
            )
        self._max_raises = parse_int("leduc", "raises", raises, minimum=0, maximum=MAX_INDEX)
        sizes = parse_int_tuple(
            "leduc", "raise_sizes", raise_sizes, length=_NUM_ROUNDS, minimum=1, maximum=_MAX_CHIPS
        )
        self._raise_sizes = (sizes[0], sizes[1])
        self._ante = parse_int("leduc", "ante", ante, minimum=1, maximum=_MAX_CHIPS)
        params = {
            "ranks": self._ranks,
            "suits": self._suits,
            "raises": self._max_raises,
            "raise_sizes": self._raise_sizes,
            "ante": self._ante,
        }
        changed = [
            f"{k}={'/'.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in params.items()
            if v != DEFAULTS[k]
        ]
        name = f"leduc({','.join(changed)})" if changed else "leduc"
        self._spec = GameSpec(
            name=name,
            kind=GameKind.EXTENSIVE_FORM,
            num_players=2,
            utility=Utility.ZERO_SUM,
            has_chance=True,
            simultaneous=False,
            perfect_recall=True,
            perfect_information=False,
        )
        self._compiled: CompiledGame | None = None
        self._tpl: _Template | None = None
        self._lock = threading.Lock()

    # --------------------------------------------------------------- description
    @property
    def spec(self) -> GameSpec:
        """The game's static description."""
        return self._spec

    @property
    def ranks(self) -> int:
        """Number of ranks."""
        return self._ranks

    @property
    def suits(self) -> int:
        """Number of suits (cards per rank)."""
        return self._suits

    @property
    def num_cards(self) -> int:
        """Deck size, ``ranks * suits``."""
        return self._ranks * self._suits

    @property
    def max_raises(self) -> int:
        """Most raises allowed per betting round."""
        return self._max_raises

    @property
    def raise_sizes(self) -> tuple[int, int]:
        """Chips added by a raise in each round."""
        return self._raise_sizes

    @property
    def ante(self) -> int:
        """Each player's ante."""
        return self._ante

    def rank(self, card: int) -> int:
        """Rank of ``card`` (``card // suits``)."""
        return card // self._suits

    def hand_strength(self, private: int, public: int) -> int:
        """Showdown strength: pairs above every unpaired hand, then by rank."""
        r = self.rank(private)
        return r + (self._ranks if r == self.rank(public) else 0)

    def initial_state(self) -> LeducState:
        """The root history (chance deals player 0's card)."""
        return LeducState(self, (), ((), ()), 0, (self._ante, self._ante), 0, CHANCE, -1, CHANCE)

    # --------------------------------------------------------------- compilation
    def num_histories(self) -> int:
        """Number of histories (nodes) of the game tree, computed without building it.

        A betting round with at most ``R`` raises has ``6R + 3`` histories below its first one
        (two unanswered decisions, then two chains of ``R`` decisions facing a raise, each with a
        fold, and ``2R + 1`` ways to close the round); round 1 ends in a chance node dealing one of
        the ``n - 2`` public cards, each followed by a round-2 tree.
        """
        return _count_nodes(self.num_cards, _template_size(self.num_cards, self._max_raises))

    def num_infosets(self) -> int:
        """Number of information sets, computed without building the tree.

        Round 1: ``2R + 2`` betting histories times the actor's card; round 2: ``(2R + 1)(2R + 2)``
        betting histories times the actor's card and the public card.
        """
        n, r = self.num_cards, self._max_raises
        return (2 * r + 2) * n + (2 * r + 1) * (2 * r + 2) * n * (n - 1)

    def size_estimate(self) -> SizeEstimate:
        """Peak memory of :meth:`compile`, from the exact history and infoset counts."""
        nodes = self.num_histories()
        key_chars = 100 + 4 * min(self._max_raises, 10**6)  # a key prints both rounds' actions
        nbytes = _BYTES_PER_NODE * nodes + (_BYTES_PER_INFOSET + key_chars) * self.num_infosets()
        return SizeEstimate(self._spec.name, "compile", nbytes, nodes, "histories")

    def compile(self, *, max_nodes: int | None = None) -> CompiledGame:
        """Build the compiled game with the vectorized builder, once, and cache it.

        Args:
            max_nodes: Refuse games with more histories than this (``None``: no limit).

        Raises:
            UnsupportedGame: The tree has more than ``max_nodes`` (or ``2**31 - 1``) histories.
            GameTooLargeError: The compiled game would not fit in the memory budget
                (:mod:`gamesolve.budget`); checked from the exact counts before allocating.
        """
        with self._lock:
            if self._compiled is None:
                self._compiled = self._build(max_nodes)
            elif max_nodes is not None and self._compiled.num_nodes > max_nodes:
                raise UnsupportedGame(f"{self._spec.name} has more than max_nodes={max_nodes} histories")
            return self._compiled

    def _template(self) -> _Template:
        if self._tpl is None:
            self._tpl = _build_template(self)
        return self._tpl

    def _build(self, max_nodes: int | None) -> CompiledGame:
        start = time.perf_counter()
        n = self.num_cards
        n_nodes = self.num_histories()
        if max_nodes is not None and n_nodes > max_nodes:
            raise UnsupportedGame(
                f"{self._spec.name} has {n_nodes:,} histories, more than max_nodes={max_nodes}"
            )
        self.size_estimate().require(max_index=_INT32_MAX)
        tpl = self._template()
        if _count_nodes(n, tpl.size) != n_nodes:  # pragma: no cover - the closed form is exact
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
            self._suits,
            self._ranks,
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
            _format_key(
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
            self._spec,
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
            source=self,
        )
        seconds = time.perf_counter() - start
        object.__setattr__(compiled, "compile_seconds", seconds)
        log.info("compiled %s natively: %s in %.3f s", self._spec.name, compiled, seconds)
        return compiled

    def __repr__(self) -> str:
        return (
            f"LeducPoker(ranks={self._ranks}, suits={self._suits}, raises={self._max_raises}, "
            f"raise_sizes={self._raise_sizes}, ante={self._ante})"
        )


# ---------------------------------------------------------------------------------------------
# Vectorized compilation.
#
# Node order is compile_game's: a history's children get consecutive ids when the history is
# expanded, and histories are expanded depth first. So the root is 0, player 0's deals are
# 1..n, and then, for each of player 0's cards c0 in turn, a block of n-1 deal nodes for player 1
# followed by the n-1 subtrees below them, each an identical copy (up to card ids) of one template
# of S nodes whose local id 0 is the deal node itself.
# ---------------------------------------------------------------------------------------------


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


def _count_nodes(num_cards: int, template_size: int) -> int:
    return 1 + num_cards + num_cards * (num_cards - 1) * template_size


def _template_size(num_cards: int, max_raises: int) -> int:
    """Nodes of the subtree below one private deal (see :meth:`LeducPoker.num_histories`)."""
    round_nodes = 6 * max_raises + 3
    return round_nodes + (2 * max_raises + 1) * (num_cards - 2) * round_nodes


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
    node_player[0] = -1
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
        node_player[deal0] = -1
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


def load(
    ranks: Any = 3,
    suits: Any = 2,
    raises: Any = 2,
    raise_sizes: Any = (2, 4),
    ante: Any = 1,
    players: Any = 2,
) -> LeducPoker:
    """Registry entry point: ``load_game("leduc")``, ``load_game("leduc(ranks=13,suits=4)")``.

    Every parameter may be an int or a decimal string; ``raise_sizes`` may be a pair or a string
    such as ``"2/4"``.

    Args:
        ranks: Number of ranks (>= 1).
        suits: Cards per rank (>= 1); ``ranks * suits >= 3``.
        raises: Most raises per betting round (>= 0).
        raise_sizes: Chips added by a raise in rounds 1 and 2.
        ante: Each player's ante (>= 1).
        players: Must be 2 (only two-player Leduc is implemented).

    Raises:
        GameParameterError: A parameter is out of range (the message names it).
    """
    n_players = parse_int("leduc", "players", players, minimum=2)
    if n_players != 2:
        raise GameParameterError(
            f"leduc: parameter players must be 2 (only two-player Leduc is implemented), got {n_players}"
        )
    return LeducPoker(ranks=ranks, suits=suits, raises=raises, raise_sizes=raise_sizes, ante=ante)


#: Declares ``leduc`` to the registry (entry point ``leduc`` of the group ``gamesolve.games``).
LEDUC_ENTRY = GameEntry(
    "leduc",
    load,
    "Generalized Leduc hold'em (same infoset keys as OpenSpiel's leduc_poker at defaults)",
    "ranks=3, suits=2, raises=2, raise_sizes=2/4, ante=1",
)
