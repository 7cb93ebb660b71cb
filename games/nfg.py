r"""Read and write Gambit's strategic-game ``.nfg`` format (both the outcome and the payoff version).

A file starts with a prologue: ``NFG 1 R``, the title, the player names in braces, then the
strategies (a nested list of labels per player in the *outcome* version, or one strategy count per
player in the *payoff* version) and an optional comment string. The body of the payoff version is a
flat list of payoffs; that of the outcome version is a braced list of outcomes (``{ "label" p1, p2 }``,
commas optional) followed by one outcome index per profile (``0`` is the null outcome, all zeros).
Profiles are listed with player 1's strategy changing fastest, and inside a profile (payoff
version) the players' payoffs in player order. Numbers may be integers, decimals (``.5``,
``2.5E-1``) or rationals (``3/4``); whitespace is not significant; inside a quoted label ``\"``
stands for a quote.

:func:`read` returns a :class:`~gamesolve.normal_form.TensorGame` (the registry's entry point for
``*.nfg`` paths); :func:`read_document` and :func:`parse` also return the title, player names and
comment. :func:`dumps` / :func:`write` produce either version (writes are atomic). Payoffs are
written in the shortest form that reads back to the same float64, so a write-read round trip is
exact. Malformed input raises :class:`NfgSyntaxError`, a
:class:`~gamesolve.errors.MalformedGameError` that names the line, column and token at fault.

>>> from gamesolve.games import nfg
>>> doc = nfg.parse('NFG 1 R "MP" { "Row" "Col" } { 2 2 } 1 -1 -1 1 -1 1 1 -1')
>>> doc.game.payoffs[0].tolist(), doc.player_names
([[1.0, -1.0], [-1.0, 1.0]], ('Row', 'Col'))
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gamesolve.budget import SizeEstimate
from gamesolve.errors import GameNotFoundError, MalformedGameError
from gamesolve.io import atomic_write_text
from gamesolve.normal_form import TensorGame, normal_form_game
from gamesolve.registry import LoaderEntry

__all__ = ["MAX_PLAYERS", "NfgDocument", "NfgSyntaxError", "dumps", "parse", "read", "read_document", "write"]

Form = Literal["outcome", "payoff"]

# A number, as Gambit reads them: integer, decimal (leading or trailing digits), optional exponent,
# or a rational p/q; a leading "-" but no "+" (Gambit's lexer takes "+3", its number parser not).
_NUMBER = r"-?(?:\d+/\d+|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<punct>[{},])"
    # Gambit ends a label at the first quote not preceded by a backslash (possessive: no retreat).
    r'|"(?P<text>(?:[^"]|(?<=\\)")*+)"'
    rf'|(?P<number>{_NUMBER})(?=[\s{{}},"]|\Z)'
    r'|(?P<word>[^\s{},"]+)'
    r'|(?P<open>")'
)
_INTEGER = re.compile(r"\d+")
#: Most players: the payoff array has one axis per player plus one, and numpy allows 64 axes.
MAX_PLAYERS = 63
#: Peak bytes per payoff entry while reading (the parsed list of floats, the array, its reordered
#: copy) and per profile (outcome indices, outcome rows), measured with tracemalloc on 200 x 200 and
#: 40 x 40 x 40 files: 90 to 212 bytes a profile with two players, 95 with three.
_BYTES_PER_ENTRY = 48
_BYTES_PER_PROFILE = 40
_DOUBLE_SPACE = re.compile(r"\s\s")


class NfgSyntaxError(MalformedGameError):
    """An ``.nfg`` file breaks the format; the message names where and which token.

    Attributes:
        source: The file name (or ``"<string>"``).
        line: 1-based line of the offending token.
        column: 1-based column of the offending token.
        token: The offending token's text (``"end of file"`` at the end).
    """

    def __init__(self, source: str, line: int, column: int, token: str, message: str) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.token = token
        super().__init__(f"{source}:{line}:{column}: {message} (at {token})")


@dataclass(frozen=True)
class _Token:
    kind: Literal["{", "}", ",", "text", "number", "word", "eof"]
    text: str
    line: int
    column: int

    def describe(self) -> str:
        if self.kind == "eof":
            return "end of file"
        shown = (
            repr(self.text)
            if len(self.text) <= 60
            else f"{self.text[:40]!r}...({len(self.text):,} characters)"
        )
        if self.kind == "text":
            return f"string {shown}"
        return f"{self.kind if self.kind in ('number', 'word') else 'token'} {shown}"


def _unescape(raw: str) -> str:
    """A label's text from its quoted form, by Gambit's rule.

    A backslash followed by a quote stands for the quote; a backslash followed by anything else is
    kept together with that character.
    """
    if "\\" not in raw:
        return raw
    out: list[str] = []
    last_slash = False
    for c in raw:
        if last_slash and c == '"':
            out.append('"')
        elif last_slash:
            out.append("\\" + c)
        elif c != "\\":
            out.append(c)
        last_slash = c == "\\"
    return "".join(out)


def _tokens(text: str, source: str) -> Iterator[_Token]:
    """Split ``text`` into tokens, tracking the line and column where each starts."""
    line, line_start = 1, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        column = match.start() - line_start + 1
        if kind == "space" or kind == "text":
            chunk = match.group()
            newlines = chunk.count("\n")
            if newlines:
                start_line = line
                line += newlines
                line_start = match.start() + chunk.rindex("\n") + 1
                if kind == "space":
                    continue
                yield _Token("text", _unescape(match.group("text")), start_line, column)
            elif kind == "text":
                yield _Token("text", _unescape(match.group("text")), line, column)
        elif kind == "punct":
            yield _Token(match.group(), match.group(), line, column)  # type: ignore[arg-type]
        elif kind == "number":
            yield _Token("number", match.group(), line, column)
        elif kind == "word":
            yield _Token("word", match.group(), line, column)
        else:  # an opening quote with no closing one
            raise NfgSyntaxError(source, line, column, "opening quote", "unterminated string label")
    yield _Token("eof", "", line, len(text) - line_start + 1)


class _Parser:
    """Recursive-descent reader over the token stream."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.text = text
        self._tokens = _tokens(text, source)
        self.current = next(self._tokens)

    def advance(self) -> _Token:
        token = self.current
        if token.kind != "eof":
            self.current = next(self._tokens)
        return token

    def error(self, message: str, token: _Token | None = None) -> NfgSyntaxError:
        t = self.current if token is None else token
        return NfgSyntaxError(self.source, t.line, t.column, t.describe(), message)

    def expect(self, kind: str, what: str) -> _Token:
        if self.current.kind != kind:
            raise self.error(f"expected {what}")
        return self.advance()

    def integer(self, what: str) -> tuple[int, _Token]:
        token = self.expect("number", what)
        if not _INTEGER.fullmatch(token.text):
            raise self.error(f"expected {what} (a non-negative integer)", token)
        if len(token.text) > 18:  # beyond any count a file can back (and Python's digit limit)
            raise self.error(f"{what} is too large", token)
        return int(token.text), token

    def payoff(self, what: str) -> float:
        token = self.expect("number", what)
        text = token.text
        try:
            # float() rounds a decimal string correctly; only rationals need Fraction.
            value = float(Fraction(text)) if "/" in text else float(text)
        except ZeroDivisionError:
            raise self.error(f"{what} divides by zero", token) from None
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise self.error(f"{what} is too large for a float64", token)
        return value


@dataclass(frozen=True)
class NfgDocument:
    """A parsed ``.nfg`` file.

    Attributes:
        game: The game; its name is the title (or the file's stem when the title is empty) and its
            action names are the strategy labels (``"1", "2", ...`` in the payoff version).
        title: The title as written.
        player_names: One name per player.
        comment: The optional comment ("" when absent).
        form: ``"outcome"`` or ``"payoff"``: which version of the format the file uses.
    """

    game: TensorGame
    title: str
    player_names: tuple[str, ...]
    comment: str
    form: Form


def parse(text: str, *, source: str = "<string>", default_name: str = "nfg") -> NfgDocument:
    """Parse the text of an ``.nfg`` file.

    Args:
        text: The file's contents.
        source: Name used in error messages.
        default_name: Game name when the title is empty.

    Returns:
        The parsed document.

    Raises:
        NfgSyntaxError: The text breaks the format; the message gives line, column and token.
        MalformedGameError: The game itself is invalid (e.g. no players).
    """
    p = _Parser(text, source)
    header = p.current
    if header.kind != "word" or header.text != "NFG":
        raise p.error("expected the file type 'NFG' at the start of the file")
    p.advance()
    version = p.current
    if version.kind != "number" or version.text != "1":
        raise p.error("expected format version 1 after 'NFG'")
    p.advance()
    data_type = p.current
    if data_type.kind != "word" or data_type.text not in ("R", "D"):
        raise p.error("expected the data type 'R' (or 'D') after the version")
    p.advance()
    title = p.expect("text", "the game title (a quoted string)").text

    # Players.
    p.expect("{", "'{' opening the list of player names")
    players: list[str] = []
    while p.current.kind == "text":
        players.append(p.advance().text)
    closing = p.expect("}", "a quoted player name or '}' closing the list of players")
    if not players:
        raise p.error("the game must have at least one player")
    n_players = len(players)
    if n_players > MAX_PLAYERS:
        raise p.error(
            f"the game has {n_players} players; at most {MAX_PLAYERS} are supported (a payoff array "
            "has one axis per player plus one)",
            closing,
        )

    # Strategies: a nested list of labels, or one count per player.
    p.expect("{", "'{' opening the list of strategies")
    labels: list[tuple[str, ...]] = []
    if p.current.kind == "{":
        for k in range(n_players):
            p.expect("{", f"'{{' opening player {k + 1}'s strategy labels")
            names: list[str] = []
            while p.current.kind == "text":
                names.append(p.advance().text)
            if not names:
                raise p.error(f"player {k + 1} ({players[k]!r}) needs at least one strategy label")
            p.expect("}", f"a quoted strategy label or '}}' closing player {k + 1}'s strategies")
            labels.append(tuple(names))
    counts: list[int] = []
    if not labels:
        for k in range(n_players):
            count, token = p.integer(f"the number of strategies of player {k + 1} ({players[k]!r})")
            if count < 1:
                raise p.error(f"player {k + 1} ({players[k]!r}) needs at least one strategy", token)
            counts.append(count)
    end = p.expect("}", f"'}}' closing the strategies of the {n_players} player(s)")
    shape = tuple(counts) if counts else tuple(len(names) for names in labels)
    num_profiles = math.prod(shape)
    # Refuse from the header, before allocating: every profile needs at least one number (and a
    # separator) in the body, so a file cannot describe more profiles than it has characters.
    if num_profiles > len(text):
        raise p.error(
            f"the strategies give {_count(num_profiles)} profiles, but the file has only "
            f"{len(text):,} characters (at least one number per profile is needed)",
            end,
        )
    SizeEstimate(
        f"game file {source}",
        "read",
        _BYTES_PER_ENTRY * n_players * num_profiles + _BYTES_PER_PROFILE * num_profiles,
        num_profiles,
        "strategy profiles",
        extra=f"{n_players} players",
    ).require()
    if counts:
        labels = [tuple(str(s) for s in range(1, count + 1)) for count in counts]

    comment = p.advance().text if p.current.kind == "text" else ""

    form: Form
    if p.current.kind == "{":
        form = "outcome"
        flat = _outcome_body(p, players, num_profiles)
    elif p.current.kind == "number":
        form = "payoff"
        flat = _payoff_body(p, n_players, num_profiles)
    else:
        raise p.error("expected the outcome list ('{') or the first payoff")
    if p.current.kind != "eof":
        raise p.error(f"unexpected token after the last of the {num_profiles} profiles")

    # flat lists profiles with player 1 fastest and, inside a profile, players in order.
    payoffs = flat.reshape((n_players, *shape), order="F")  # [P, A0, ..., A_{P-1}]
    game = normal_form_game(payoffs, name=title or default_name, action_names=labels)
    return NfgDocument(game=game, title=title, player_names=tuple(players), comment=comment, form=form)


def _count(n: int) -> str:
    """``"1,000,000"``, or ``"10^18"`` for numbers beyond 10**15."""
    return f"{n:,}" if n < 10**15 else f"10^{len(str(n)) - 1}"


def _payoff_body(p: _Parser, n_players: int, num_profiles: int) -> NDArray[np.float64]:
    values: list[float] = []
    expected = n_players * num_profiles
    if expected > len(p.text) // 2 + 1:
        raise p.error(
            f"expected {_count(expected)} payoffs ({n_players} player(s) x {_count(num_profiles)} "
            f"profile(s)), but the file has only {len(p.text):,} characters"
        )
    while p.current.kind == "number" and len(values) < expected:
        values.append(p.payoff(f"payoff #{len(values) + 1}"))
    if len(values) < expected:
        raise p.error(
            f"expected {expected} payoffs ({n_players} player(s) x {num_profiles} profile(s)), "
            f"found {len(values)}"
        )
    return np.asarray(values, dtype=np.float64)  # [P * prod(A)] player fastest, then player 1's action


def _outcome_body(p: _Parser, players: Sequence[str], num_profiles: int) -> NDArray[np.float64]:
    n_players = len(players)
    p.expect("{", "'{' opening the outcome list")
    outcomes: list[list[float]] = [[0.0] * n_players]  # index 0: the null outcome
    while p.current.kind == "{":
        p.advance()
        number = len(outcomes)
        p.expect("text", f"the label of outcome {number} (a quoted string)")
        vector: list[float] = []
        while p.current.kind == "number":
            if len(vector) == n_players:
                raise p.error(f"outcome {number} has more than {n_players} payoff(s), one per player")
            vector.append(p.payoff(f"outcome {number}'s payoff to player {len(vector) + 1}"))
            if p.current.kind == ",":
                p.advance()
        if len(vector) < n_players:
            raise p.error(
                f"outcome {number} has {len(vector)} payoff(s); expected {n_players}, one per player"
            )
        p.expect("}", f"'}}' closing outcome {number}")
        outcomes.append(vector)
    p.expect("}", "'{' opening an outcome or '}' closing the outcome list")
    table = np.asarray(outcomes, dtype=np.float64)  # [K + 1, P] row 0 the null outcome
    indices: list[int] = []
    while p.current.kind == "number" and len(indices) < num_profiles:
        index, token = p.integer(f"the outcome index of profile #{len(indices) + 1}")
        if index >= len(outcomes):
            raise p.error(
                f"outcome index {index} out of range: the file defines outcomes 1..{len(outcomes) - 1} "
                "(0 is the null outcome)",
                token,
            )
        indices.append(index)
    if len(indices) < num_profiles:
        raise p.error(f"expected {num_profiles} outcome indices (one per profile), found {len(indices)}")
    # [prod(A), P] -> profile-major with players fastest, the payoff version's order.
    return table[np.asarray(indices, dtype=np.int64)].reshape(-1)


def read_document(path: str | os.PathLike[str]) -> NfgDocument:
    """Read an ``.nfg`` file with its title, player names and comment.

    Raises:
        GameNotFoundError: No such file.
        NfgSyntaxError: The file breaks the format (the message names path, line and token).
        MalformedGameError: The file is not UTF-8 text, or describes an invalid game.
    """
    file = Path(path)
    if not file.is_file():
        raise GameNotFoundError(f"game file {str(path)!r} does not exist or is not a file")
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedGameError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse(text, source=str(path), default_name=file.stem)


def read(path: str | os.PathLike[str]) -> TensorGame:
    """Read an ``.nfg`` file as a :class:`~gamesolve.normal_form.TensorGame` (see :func:`read_document`)."""
    return read_document(path).game


def _quote(label: str, what: str) -> str:
    if not isinstance(label, str):
        raise ValueError(f"{what} must be a string, got {label!r}")
    if label.endswith("\\") or '\\"' in label or "\\\\" in label:
        raise ValueError(
            f"{what} {label!r} cannot be written: Gambit's format cannot represent a backslash "
            "before a quote, another backslash or the end of a label"
        )
    return '"' + label.replace('"', '\\"') + '"'


def _label(label: str, what: str) -> str:
    """Quote a player name or strategy label, refusing what Gambit 17 rejects in labels."""
    if isinstance(label, str) and (
        label != label.strip()
        or _DOUBLE_SPACE.search(label)
        or any(unicodedata.category(c) == "Cc" for c in label)
    ):
        raise ValueError(
            f"{what} {label!r} cannot be written: Gambit reads labels only without control "
            "characters, leading or trailing whitespace, or two whitespace characters in a row"
        )
    return _quote(label, what)


def _number(x: float) -> str:
    """Shortest text that Gambit and :func:`parse` read back as exactly ``x``."""
    if x == 0.0:
        return "0"
    if x.is_integer() and abs(x) < 2.0**53:
        return str(int(x))
    return repr(float(x))


def dumps(
    game: TensorGame,
    *,
    form: Form = "outcome",
    title: str | None = None,
    player_names: Sequence[str] | None = None,
    comment: str = "",
) -> str:
    """The ``.nfg`` text of a game.

    Args:
        game: The game.
        form: ``"outcome"`` (keeps strategy labels; identical payoff vectors share one outcome)
            or ``"payoff"`` (a flat payoff list; strategies become ``"1", "2", ...`` on reading).
        title: Title to write (default: the game's name).
        player_names: One name per player (default ``"Player 1"``, ``"Player 2"``, ...).
        comment: Comment written after the strategies.

    Returns:
        The file's text, ending in a newline.

    Raises:
        ValueError: Bad ``form``, ``player_names`` of the wrong length, a text the format cannot
            represent (a backslash before a quote or another backslash, or at the end), or a
            player name or strategy label that Gambit refuses (control characters, leading or
            trailing whitespace, two whitespace characters in a row). Gambit accepts but renames
            empty and repeated labels (``"_1"``, ``"x_1"``, ``"x_2"``); this reader keeps them.
    """
    if not isinstance(game, TensorGame):
        raise ValueError(f"game must be a TensorGame, got {type(game).__name__}")
    if form not in ("outcome", "payoff"):
        raise ValueError(f"form must be 'outcome' or 'payoff', got {form!r}")
    n_players = game.num_players
    if player_names is None:
        names = [f"Player {k + 1}" for k in range(n_players)]
    elif isinstance(player_names, str) or not isinstance(player_names, Sequence):
        raise ValueError(f"player_names must be a sequence of {n_players} names, got {player_names!r}")
    else:
        names = list(player_names)
    if len(names) != n_players:
        raise ValueError(f"player_names must give one name per player ({n_players}), got {player_names!r}")
    head = (
        f"NFG 1 R {_quote(game.spec.name if title is None else title, 'title')} "
        "{ " + " ".join(_label(n, "player name") for n in names) + " }"
    )
    shape = game.num_actions
    # Profiles with player 1 fastest; each row is one profile's payoff vector.
    by_profile = game.payoffs.reshape(n_players, -1, order="F").T  # [prod(A), P]
    lines = [head]
    if form == "payoff":
        lines[0] += " { " + " ".join(str(n) for n in shape) + " }"
        lines.append(_quote(comment, "comment"))
        lines.append("")
        rows = by_profile.reshape(-1, shape[0] * n_players)  # [prod(A) / A0, A0 * P] one line each
        lines.extend(" ".join(_number(float(v)) for v in row) for row in rows)
        return "\n".join(lines) + "\n"
    lines.append("")
    strategy_lines = [
        "{ " + " ".join(_label(s, f"strategy label of player {k + 1}") for s in game.action_names[k]) + " }"
        for k in range(n_players)
    ]
    lines.append("{ " + "\n".join(strategy_lines))
    lines.append("}")
    lines.append(_quote(comment, "comment"))
    lines.append("")
    # One outcome per distinct payoff vector, numbered by first appearance.
    zeroed = by_profile + 0.0  # [prod(A), P] (turns -0.0 into 0.0 so they share an outcome)
    _, first, inverse = np.unique(zeroed, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)  # unique rows in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    lines.append("{")
    for number, row in enumerate(zeroed[first[order]], start=1):
        lines.append(f'{{ "{number}" ' + ", ".join(_number(float(v)) for v in row) + " }")
    lines.append("}")
    indices = rank[np.asarray(inverse).reshape(-1)] + 1  # [prod(A)] 1-based outcome numbers
    per_line = 20
    lines.extend(
        " ".join(str(int(i)) for i in indices[start : start + per_line])
        for start in range(0, indices.size, per_line)
    )
    return "\n".join(lines) + "\n"


def write(
    game: TensorGame,
    path: str | os.PathLike[str],
    *,
    form: Form = "outcome",
    title: str | None = None,
    player_names: Sequence[str] | None = None,
    comment: str = "",
) -> None:
    """Write ``game`` to ``path`` in ``.nfg`` format, atomically (see :func:`dumps` for the options).

    Raises:
        ValueError: As :func:`dumps`.
    """
    atomic_write_text(path, dumps(game, form=form, title=title, player_names=player_names, comment=comment))


#: Declares the ``.nfg`` file loader to the registry (entry point ``.nfg`` of the group
#: ``gamesolve.loaders``): game strings ending in ``.nfg`` are read as Gambit files.
NFG_LOADER = LoaderEntry(".nfg", read, "Gambit strategic-game file")
