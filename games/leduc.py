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

Tensors (:meth:`LeducPoker.infoset_tensors`) are OpenSpiel's at the defaults and the same layout
generalized: the information state is the one-hot of the acting player (2), of its private card
(``n`` cards) and of the public card once dealt (``n``), then for each round ``raises + 2`` turns
of two bits (call, raise); the observation ends instead with both players' chips in the pot.

:meth:`LeducPoker.compile` never walks states per history: it uses the template compiler of
:mod:`gamesolve.games.leduc_compiler`, which gives the same arrays as
:func:`gamesolve.compiled.compile_game` for decks of any size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.budget import MAX_INDEX, SizeEstimate
from gamesolve.compiled import CompiledGame
from gamesolve.games.params import GameParameterError, parse_int, parse_int_tuple
from gamesolve.games.poker import PokerGame, check_deal, deal_outcomes, poker_spec
from gamesolve.protocols import CHANCE, TERMINAL
from gamesolve.registry import GameEntry

__all__ = [
    "CALL",
    "DEFAULTS",
    "FOLD",
    "RAISE",
    "STARTING_MONEY",
    "LeducPoker",
    "LeducState",
    "deal_subtree_size",
    "information_state_string",
    "load",
]

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
#: Largest ante or raise size: the pot of any tree that fits in memory (fewer than 10**5 raises a
#: round) then stays an exact float64 integer.
_MAX_CHIPS = 2**32
#: Peak bytes per history of the vectorized compiler (node arrays, the tiled payoffs, the
#: breadth-first relayout and sequence pass of build_compiled_game), measured with tracemalloc on
#: decks of 6 to 32 cards: 107 to 113.
_BYTES_PER_NODE = 112
#: Bytes per information set besides the key's characters (string, list and index entries).
_BYTES_PER_INFOSET = 200


_KEY_PATTERN = re.compile(
    r"\[Observer: (?P<player>\d+)\]\[Private: (?P<private>\d+)\]\[Round \d+\]\[Player: -?\d+\]"
    r"\[Pot: -?\d+\]\[Money: (?P<money0>-?\d+) (?P<money1>-?\d+)\](?:\[Public: (?P<public>\d+)\])?"
    r"\[Round1: (?P<round1>[\d ]*)\]\[Round2: (?P<round2>[\d ]*)\]"
)


def deal_subtree_size(num_cards: int, max_raises: int) -> int:
    """Histories of the subtree rooted at the first betting history (right after the private deals).

    A betting round with at most ``R`` raises spans ``6R + 3`` histories, its first one and its
    ends included (see :meth:`LeducPoker.num_histories`); in round 1, ``2R + 1`` of the ends deal
    one of the ``num_cards - 2`` public cards, each followed by a round-2 tree.
    """
    round_nodes = 6 * max_raises + 3
    return round_nodes + (2 * max_raises + 1) * (num_cards - 2) * round_nodes


def information_state_string(
    observer: int,
    private: int,
    round_index: int,
    player: int,
    pot: int,
    money: tuple[int, int],
    public: int | None,
    history: tuple[tuple[int, ...], tuple[int, ...]],
) -> str:
    """OpenSpiel's leduc information-state string (the information-set key of ``observer``)."""
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
        return deal_outcomes(self._game.num_cards, self._cards)

    def child(self, action: int) -> LeducState:
        """The history after ``action`` (a card id at chance nodes).

        Raises:
            ValueError: ``action`` is not legal here.
        """
        action = int(action)
        game = self._game
        if self._player == CHANCE:
            check_deal(action, game.num_cards, self._cards)
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
        return information_state_string(
            player, private, self._round, shown, pot, money, public, self._history
        )

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


class LeducPoker(PokerGame):
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
        super().__init__(poker_spec(name, 2))

    # --------------------------------------------------------------- description
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
        n = self.num_cards
        return 1 + n + n * (n - 1) * deal_subtree_size(n, self._max_raises)

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
        return SizeEstimate(self.spec.name, "compile", nbytes, nodes, "histories")

    def _build(self, max_nodes: int | None) -> CompiledGame:
        """The template compiler of :mod:`gamesolve.games.leduc_compiler` (imported on first use)."""
        from gamesolve.games.leduc_compiler import compile_leduc

        return compile_leduc(self)

    # --------------------------------------------------------------- tensors
    def tensor_size(self, observation: str) -> int:
        """``2 + 2n + 4(raises + 2)`` for ``"info_state"``, ``2 + 2n + 2`` for ``"observation"``.

        At the defaults these are OpenSpiel's 30 and 16.
        """
        cards = 2 + 2 * self.num_cards
        if observation == "info_state":
            return cards + 2 * _NUM_ROUNDS * (self._max_raises + 2)
        return cards + 2

    def _encode(self, keys: Sequence[str], observation: str, out: NDArray[np.float32]) -> None:
        """OpenSpiel's tensors from the keys (its information-state strings)."""
        n = self.num_cards
        turns = self._max_raises + 2  # the longest round: check, every raise, call
        rows: list[int] = []
        cols: list[int] = []
        for i, key in enumerate(keys):
            found = _KEY_PATTERN.fullmatch(key)
            if found is None:  # pragma: no cover - keys come from this game's own compiler
                raise ValueError(f"not a leduc information-state string: {key!r}")
            player = int(found["player"])
            rows += (i, i)
            cols += (player, 2 + int(found["private"]))
            if found["public"] is not None:
                rows.append(i)
                cols.append(2 + n + int(found["public"]))
            if observation == "observation":
                for p, money in enumerate((found["money0"], found["money1"])):
                    out[i, 2 + 2 * n + p] = STARTING_MONEY - int(money)
                continue
            for r, acts in enumerate((found["round1"], found["round2"])):
                base = 2 + 2 * n + 2 * turns * r
                for turn, action in enumerate(acts.split()):
                    if int(action) != FOLD:
                        rows.append(i)
                        cols.append(base + 2 * turn + (int(action) == RAISE))
        out[rows, cols] = 1.0

    def __repr__(self) -> str:
        return (
            f"LeducPoker(ranks={self._ranks}, suits={self._suits}, raises={self._max_raises}, "
            f"raise_sizes={self._raise_sizes}, ante={self._ante})"
        )


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
