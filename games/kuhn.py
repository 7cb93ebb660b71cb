"""Kuhn poker for ``N >= 2`` players, natively (rules and keys identical to OpenSpiel's kuhn_poker).

Rules: the deck holds cards ``0 .. N`` (higher wins). Every player antes 1; chance deals one card
to each player ``0 .. N-1`` in turn, uniformly from the cards left. Players then act in order with
actions ``pass = 0`` and ``bet = 1``. Before anyone bets, ``bet`` puts 1 chip in; once a bet has
been made, each other player answers once, in seat order after the bettor, with ``bet`` (call, 1
chip) or ``pass`` (fold). If nobody bets, all hands are shown. The highest card among the players
still in wins the pot.

Information-set keys are OpenSpiel's information-state strings: the player's card followed by the
public actions as ``p``/``b`` (``"0"``, ``"2pb"``), so policies move between this game and
``kuhn_poker`` with :meth:`gamesolve.TabularPolicy.to_dict` / ``from_dict``. Tensors
(:meth:`KuhnPoker.infoset_tensors`) are OpenSpiel's too: the information state is the one-hot of
the acting player, of its card, and of each action so far (``pass``, ``bet`` per turn, ``2N - 1``
turns); the observation replaces the actions by every player's chips in the pot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.budget import GENERIC_BYTES_PER_NODE, SizeEstimate
from gamesolve.compiled import CompiledGame, compile_game
from gamesolve.games.params import parse_int
from gamesolve.games.poker import PokerGame, check_deal, deal_outcomes, poker_spec
from gamesolve.protocols import CHANCE, TERMINAL
from gamesolve.registry import GameEntry

__all__ = ["BET", "MAX_PLAYERS", "PASS", "KuhnPoker", "KuhnState", "load"]

#: Action id of pass / check / fold.
PASS = 0
#: Action id of bet / call.
BET = 1
#: Largest supported number of players (OpenSpiel's limit too).
MAX_PLAYERS = 10

_ACTIONS = (PASS, BET)
_LETTER = {PASS: "p", BET: "b"}


class KuhnState:
    """One history of :class:`KuhnPoker` (immutable).

    Args:
        game: The game.
        cards: Cards dealt so far, to players ``0, 1, ...`` in order.
        actions: Betting actions so far.
    """

    __slots__ = ("_actions", "_cards", "_game")

    def __init__(self, game: KuhnPoker, cards: tuple[int, ...] = (), actions: tuple[int, ...] = ()) -> None:
        self._game = game
        self._cards = cards
        self._actions = actions

    # --------------------------------------------------------------- internals
    def _first_bet(self) -> int:
        """Index in ``actions`` of the first bet, or -1."""
        try:
            return self._actions.index(BET)
        except ValueError:
            return -1

    # --------------------------------------------------------------- protocol
    def is_terminal(self) -> bool:
        """Whether every player has acted (after the first bet, every other player has answered)."""
        n = self._game.num_players
        if len(self._cards) < n:
            return False
        first = self._first_bet()
        if first < 0:
            return len(self._actions) == n
        return len(self._actions) == first + n

    def current_player(self) -> int:
        """Player to act, :data:`CHANCE` while dealing, :data:`TERMINAL` at the end."""
        n = self._game.num_players
        if len(self._cards) < n:
            return CHANCE
        if self.is_terminal():
            return TERMINAL
        return len(self._actions) % n

    def legal_actions(self) -> Sequence[int]:
        """``[PASS, BET]`` at every decision node; empty elsewhere."""
        return list(_ACTIONS) if self.current_player() >= 0 else []

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        """The cards not dealt yet, uniformly (empty at decision and terminal nodes)."""
        if self.current_player() != CHANCE:
            return []
        return deal_outcomes(self._game.num_cards, self._cards)

    def child(self, action: int) -> KuhnState:
        """The history after ``action`` (a card at chance nodes, pass/bet otherwise).

        Raises:
            ValueError: ``action`` is not legal here.
        """
        player = self.current_player()
        if player == CHANCE:
            check_deal(action, self._game.num_cards, self._cards)
            return KuhnState(self._game, (*self._cards, int(action)), self._actions)
        if player == TERMINAL:
            raise ValueError("no action is legal at a terminal history")
        if action not in _ACTIONS:
            raise ValueError(f"action {action} is illegal; legal actions are {list(_ACTIONS)}")
        return KuhnState(self._game, self._cards, (*self._actions, int(action)))

    def returns(self) -> Sequence[float]:
        """Chips won minus chips put in, per player (zeros before the end)."""
        n = self._game.num_players
        if not self.is_terminal():
            return [0.0] * n
        first = self._first_bet()
        put_in = [1.0] * n
        if first < 0:
            contenders = list(range(n))
        else:
            contenders = []
            for i, a in enumerate(self._actions):
                if a == BET:
                    put_in[i % n] += 1.0
                    contenders.append(i % n)
        winner = max(contenders, key=lambda p: self._cards[p])
        pot = sum(put_in)
        return [(pot if p == winner else 0.0) - put_in[p] for p in range(n)]

    def infoset_key(self, player: int) -> str:
        """OpenSpiel's information-state string: the player's card then ``p``/``b`` per action."""
        if not 0 <= player < self._game.num_players:
            raise ValueError(f"player must be in [0, {self._game.num_players}), got {player}")
        if player >= len(self._cards):
            return ""
        return str(self._cards[player]) + "".join(_LETTER[a] for a in self._actions)

    @property
    def cards(self) -> tuple[int, ...]:
        """Cards dealt so far, by player."""
        return self._cards

    @property
    def actions(self) -> tuple[int, ...]:
        """Betting actions so far."""
        return self._actions

    def __repr__(self) -> str:
        return f"KuhnState(cards={self._cards}, actions={self._actions})"


class KuhnPoker(PokerGame):
    """Kuhn poker for ``num_players`` players (see the module docstring for the rules).

    Args:
        num_players: Number of players, 2 to :data:`MAX_PLAYERS`.

    Raises:
        GameParameterError: ``num_players`` is out of range.
    """

    def __init__(self, num_players: int = 2) -> None:
        self._num_players = parse_int("kuhn", "players", num_players, minimum=2, maximum=MAX_PLAYERS)
        name = "kuhn" if self._num_players == 2 else f"kuhn(players={self._num_players})"
        super().__init__(poker_spec(name, self._num_players))

    @property
    def num_players(self) -> int:
        """Number of players."""
        return self._num_players

    @property
    def num_cards(self) -> int:
        """Deck size, ``num_players + 1``."""
        return self._num_players + 1

    def initial_state(self) -> KuhnState:
        """The root history (chance deals player 0's card)."""
        return KuhnState(self)

    def num_histories(self) -> int:
        """Number of histories of the tree, counted without building it.

        Chance deals ``N`` of the ``N + 1`` cards one at a time (``(N+1)!/(N+1-k)!`` histories at
        depth ``k``); below each of the ``(N+1)!`` deals the betting tree has ``N + 1`` histories
        without a bet and, for each of the ``N`` seats that may bet first, a complete binary tree
        of the ``N - 1`` answers (``2**N - 1`` histories).
        """
        n = self._num_players
        deals = math.factorial(n + 1)
        chance = sum(deals // math.factorial(n + 1 - k) for k in range(n))
        return chance + deals * (n + 1 + n * (2**n - 1))

    def num_infosets(self) -> int:
        """Number of information sets: a card and a betting sequence where the holder acts."""
        n = self._num_players
        return (n + 1) * n * 2 ** (n - 1)

    def size_estimate(self) -> SizeEstimate:
        """Peak memory of :meth:`compile`, from the exact history and infoset counts."""
        n = self._num_players
        per_node = GENERIC_BYTES_PER_NODE + 4 * n
        key_bytes = 200 + (n + 2) + 16  # per infoset: the key string, map entries, two legal actions
        return SizeEstimate(
            self.spec.name,
            "compile",
            per_node * self.num_histories() + key_bytes * self.num_infosets(),
            self.num_histories(),
            "histories",
        )

    def _build(self, max_nodes: int | None) -> CompiledGame:
        """Walk every history (:func:`gamesolve.compiled.compile_game`)."""
        return compile_game(self, max_nodes=max_nodes)

    def tensor_size(self, observation: str) -> int:
        """``6N - 1`` for ``"info_state"``, ``3N + 1`` for ``"observation"`` (OpenSpiel's sizes)."""
        n = self._num_players
        return 6 * n - 1 if observation == "info_state" else 3 * n + 1

    def _encode(self, keys: Sequence[str], observation: str, out: NDArray[np.float32]) -> None:
        """OpenSpiel's tensors from the keys (the card, then ``p``/``b`` per action)."""
        n = self._num_players
        history_start = 2 * n + 1
        for i, key in enumerate(keys):
            letters = key.lstrip("0123456789")
            card = int(key[: len(key) - len(letters)])
            player = len(letters) % n
            out[i, player] = 1.0
            out[i, n + card] = 1.0
            if observation == "info_state":
                for turn, letter in enumerate(letters):
                    out[i, history_start + 2 * turn + (letter == "b")] = 1.0
            else:
                out[i, history_start : history_start + n] = 1.0  # the antes
                for turn, letter in enumerate(letters):
                    if letter == "b":
                        out[i, history_start + turn % n] += 1.0

    def __repr__(self) -> str:
        return f"KuhnPoker(players={self._num_players})"


def load(players: Any = 2) -> KuhnPoker:
    """Registry entry point: ``load_game("kuhn")`` or ``load_game("kuhn(players=3)")``.

    Args:
        players: Number of players (an int or a decimal string), 2 to :data:`MAX_PLAYERS`.

    Raises:
        GameParameterError: ``players`` is not an integer in range.
    """
    return KuhnPoker(players)


#: Declares ``kuhn`` to the registry (entry point ``kuhn`` of the group ``gamesolve.games``).
KUHN_ENTRY = GameEntry(
    "kuhn",
    load,
    "Kuhn poker for N players (same infoset keys as OpenSpiel's kuhn_poker)",
    "players=2",
)
