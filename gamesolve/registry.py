"""Load games by name: native games by short name, everything else through OpenSpiel.

Game strings use OpenSpiel's syntax: ``name`` or ``name(param=value,...)``. Native games
(``kuhn``, ``leduc``) are resolved first; any other string is handed to OpenSpiel, so every
OpenSpiel game with explicit chance and information-state strings loads.

Entry points are strings (``"module:function"``) resolved on first use, so importing gamesolve
imports neither the ``games`` package nor OpenSpiel.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gamesolve.errors import GameNotFoundError

__all__ = [
    "GameEntry",
    "SolverEntry",
    "available_games",
    "available_solvers",
    "load_game",
    "make_solver",
    "parse_game_string",
]


@dataclass(frozen=True)
class GameEntry:
    """A native game the registry knows by name."""

    name: str
    entry_point: str
    description: str
    parameters: str = ""


_NATIVE: dict[str, GameEntry] = {
    e.name: e
    for e in (
        GameEntry(
            "kuhn",
            "games.kuhn:load",
            "Kuhn poker for N players (same infoset keys as OpenSpiel's kuhn_poker)",
            "players=2",
        ),
        GameEntry(
            "leduc",
            "games.leduc:load",
            "Generalized Leduc hold'em (same infoset keys as OpenSpiel's leduc_poker at defaults)",
            "ranks=3, suits=2, raises=2, raise_sizes=2/4, ante=1",
        ),
    )
}

_GAME_STRING = re.compile(r"^\s*([A-Za-z_][\w\-]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def parse_game_string(text: str) -> tuple[str, dict[str, str]]:
    """Split ``"name(a=1,b=x)"`` into ``("name", {"a": "1", "b": "x"})`` (values stay strings).

    Raises:
        GameNotFoundError: The string is not of that form.
    """
    match = _GAME_STRING.match(text)
    if not match:
        raise GameNotFoundError(f"cannot parse game string {text!r}; expected name or name(k=v,...)")
    name, body = match.group(1), match.group(2)
    params: dict[str, str] = {}
    if body and body.strip():
        for part in body.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise GameNotFoundError(
                    f"bad parameter {part.strip()!r} in game string {text!r}; expected k=v"
                )
            params[key.strip()] = value.strip()
    return name, params


def _resolve(entry_point: str) -> Callable[..., Any]:
    module, _, attr = entry_point.partition(":")
    return getattr(importlib.import_module(module), attr)


def load_game(name: str, **params: Any) -> Any:
    """Load a game from a game string.

    Args:
        name: A native game (``"kuhn"``, ``"leduc(ranks=13,suits=4)"``) or any OpenSpiel game
            string (``"leduc_poker"``, ``"kuhn_poker(players=3)"``, ``"liars_dice"``).
        **params: Extra parameters for native games (merged over those in the string).

    Returns:
        A game object implementing the extensive-form protocol with a cached ``compile()``.

    Raises:
        GameNotFoundError: Unknown name or bad parameters.
    """
    if not isinstance(name, str) or not name.strip():
        raise GameNotFoundError(f"game must be a non-empty game string, got {name!r}")
    short, string_params = parse_game_string(name)
    entry = _NATIVE.get(short)
    if entry is not None:
        merged: dict[str, Any] = {**string_params, **params}
        try:
            return _resolve(entry.entry_point)(**merged)
        except TypeError as exc:
            raise GameNotFoundError(f"bad parameters for game {short!r}: {exc}") from None
    if params:
        raise GameNotFoundError("keyword parameters apply only to native games; put them in the game string")
    openspiel = importlib.import_module("games.openspiel")
    return openspiel.load(name.strip())


def available_games(*, include_openspiel: bool = True) -> list[tuple[str, str]]:
    """``(name, description)`` of every loadable game: native ones, then OpenSpiel's."""
    out = [(f"{e.name}({e.parameters})" if e.parameters else e.name, e.description) for e in _NATIVE.values()]
    if include_openspiel:
        openspiel = importlib.import_module("games.openspiel")
        out.extend((n, "OpenSpiel") for n in openspiel.registered_names())
    return out


@dataclass(frozen=True)
class SolverEntry:
    """A solver the registry knows by name: an entry point and fixed keyword arguments."""

    name: str
    entry_point: str
    description: str
    kwargs: tuple[tuple[str, Any], ...] = ()


_SOLVERS: dict[str, SolverEntry] = {
    e.name: e
    for e in (
        SolverEntry(
            "cfr", "solvers.cfr:CFR", "vanilla CFR (regret matching, uniform average)", (("variant", "cfr"),)
        ),
        SolverEntry(
            "cfr+", "solvers.cfr:CFR", "CFR+ (regret matching+, linear average)", (("variant", "cfr+"),)
        ),
        SolverEntry(
            "lcfr", "solvers.cfr:CFR", "linear CFR (DCFR with alpha=beta=gamma=1)", (("variant", "lcfr"),)
        ),
        SolverEntry(
            "dcfr", "solvers.cfr:CFR", "discounted CFR (alpha=1.5, beta=0, gamma=2)", (("variant", "dcfr"),)
        ),
        SolverEntry(
            "pcfr+", "solvers.cfr:CFR", "predictive CFR+ (quadratic average)", (("variant", "pcfr+"),)
        ),
        SolverEntry("mccfr-es", "solvers.mccfr:ExternalSamplingMCCFR", "Monte Carlo CFR, external sampling"),
        SolverEntry("mccfr-os", "solvers.mccfr:OutcomeSamplingMCCFR", "Monte Carlo CFR, outcome sampling"),
    )
}


def available_solvers() -> list[tuple[str, str]]:
    """``(name, description)`` of every registered solver."""
    return [(e.name, e.description) for e in _SOLVERS.values()]


def make_solver(name: str, **options: Any) -> Any:
    """Build a configured solver from its registry name (``"cfr+"``, ``"mccfr-os"``, ...).

    Raises:
        ValueError: Unknown name (the message lists the known ones) or bad options.
    """
    entry = _SOLVERS.get(name.strip().lower())
    if entry is None:
        known = ", ".join(sorted(_SOLVERS))
        raise ValueError(f"unknown solver {name!r}; known solvers: {known}")
    factory = _resolve(entry.entry_point)
    try:
        return factory(**dict(entry.kwargs), **options)
    except TypeError as exc:
        raise ValueError(f"bad options for solver {name!r}: {exc}") from None
