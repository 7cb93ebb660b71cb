"""Load games by name: native games by short name, everything else through OpenSpiel.

Game strings use OpenSpiel's syntax: ``name`` or ``name(param=value,...)``. Native games
(``kuhn``, ``leduc`` and the normal-form catalog: ``rps``, ``chicken``, ...) are resolved first; a
string ending in ``.nfg`` is read as a Gambit strategic-game file; any other string is handed to
OpenSpiel, so every OpenSpiel game with explicit chance and information-state strings loads.

The registry names no game or solver: they declare themselves (a :class:`GameEntry`,
:class:`SolverEntry` or :class:`LoaderEntry` next to what it declares) and reach it as entry points
of the installed distributions (groups ``gamesolve.games``, ``gamesolve.solvers``,
``gamesolve.loaders``, ...), read on first use; looking a name up imports only the module that
declares it, so importing gamesolve imports no plug-in and not OpenSpiel. A third-party
distribution adds a game or a solver the same way.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from gamesolve.errors import GameNotFoundError, PluginError

__all__ = [
    "ADAPTERS_GROUP",
    "EQUILIBRIA_GROUP",
    "GAMES_GROUP",
    "LOADERS_GROUP",
    "ORACLES_GROUP",
    "SOLVERS_GROUP",
    "GameEntry",
    "LoaderEntry",
    "SolverEntry",
    "available_games",
    "available_solvers",
    "clear_cache",
    "game_entry",
    "game_names",
    "load_game",
    "make_solver",
    "parse_game_string",
    "plugin",
    "solver_entry",
    "solver_names",
]

#: Entry-point group of the games known by name: each entry is a :class:`GameEntry`.
GAMES_GROUP = "gamesolve.games"
#: Entry-point group of the solvers known by name: each entry is a :class:`SolverEntry`.
SOLVERS_GROUP = "gamesolve.solvers"
#: Entry-point group of the loaders of game strings that are not catalog names: each entry is a
#: :class:`LoaderEntry`, named by the pattern it serves (a file suffix such as ``.nfg``, or ``*``).
LOADERS_GROUP = "gamesolve.loaders"
#: Entry-point group of the functions behind :func:`gamesolve.equilibria` (one per ``method``) and
#: :func:`gamesolve.correlated_equilibrium` (``correlated``).
EQUILIBRIA_GROUP = "gamesolve.equilibria"
#: Entry-point group of the reinforcement-learning best-response oracles (``dqn``, ``ppo``): each
#: entry is a factory taking the oracle's configuration as keyword arguments.
ORACLES_GROUP = "gamesolve.oracles"
#: Entry-point group of the adapters the top-level API forwards to (``to_pettingzoo``, ...).
ADAPTERS_GROUP = "gamesolve.adapters"


@dataclass(frozen=True)
class GameEntry:
    """A game the registry knows by name, declared next to its loader.

    A distribution publishes it as an entry point of the group ``gamesolve.games`` whose name is
    :attr:`name`, e.g. ``kuhn = "gamesolve.games.kuhn:KUHN_ENTRY"``.

    Attributes:
        name: The game's short name in game strings (``"kuhn"``).
        loader: Builds the game from the parameters of the game string (as strings) and keyword
            parameters; the names of its parameters are the game's parameters.
        description: One line for listings.
        parameters: The parameters with their defaults, for listings (``"players=2"``).
    """

    name: str
    loader: Callable[..., Any]
    description: str
    parameters: str = ""


@dataclass(frozen=True)
class LoaderEntry:
    """How the game strings that are not catalog names load.

    A distribution publishes it as an entry point of the group ``gamesolve.loaders`` whose name is
    :attr:`pattern`: a file suffix (``".nfg"``: strings ending in it are paths of files that
    :attr:`load` reads) or ``"*"`` (every other string; one such loader may be installed).

    Attributes:
        pattern: ``".suffix"`` or ``"*"``.
        load: Builds the game from the stripped string (the path, for a suffix).
        description: A short label shown next to every game it lists (``"OpenSpiel"``).
        names: The names of the games it can list, when it has a list; ``None`` otherwise.
    """

    pattern: str
    load: Callable[[str], Any]
    description: str
    names: Callable[[], Iterable[str]] | None = None


_GAME_STRING = re.compile(r"^\s*([A-Za-z_][\w\-]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def _shown(text: str, limit: int = 100) -> str:
    """``repr(text)``, shortened so that a message stays one readable line."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit * 2 // 3]!r}...({len(text):,} characters)"


def _short(value: str) -> str:
    """A parameter value for a message: itself, or its start when it is long."""
    return value if len(value) <= 30 else f"{value[:20]}..."


def _split_parameters(body: str, text: str) -> list[str]:
    """Split ``body`` at the commas outside parentheses (values may be nested game strings)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise GameNotFoundError(f"unbalanced ')' in game string {_shown(text)}")
        elif char == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    if depth != 0:
        raise GameNotFoundError(f"unbalanced '(' in game string {_shown(text)}")
    parts.append(body[start:])
    return parts


def parse_game_string(text: str) -> tuple[str, dict[str, str]]:
    """Split ``"name(a=1,b=x)"`` into ``("name", {"a": "1", "b": "x"})`` (values stay strings).

    A value may itself be a game string (``"turn_based_simultaneous_game(game=goofspiel(num_cards=
    3,players=2))"``): commas inside parentheses do not separate parameters.

    Raises:
        GameNotFoundError: The string is not of that form, or names a parameter twice (at any
            level of nesting).
    """
    if not isinstance(text, str):
        raise GameNotFoundError(f"game must be a game string, got {type(text).__name__}")
    match = _GAME_STRING.match(text)
    if not match:
        raise GameNotFoundError(f"cannot parse game string {_shown(text)}; expected name or name(k=v,...)")
    name, body = match.group(1), match.group(2)
    params: dict[str, str] = {}
    if body and body.strip():
        for part in _split_parameters(body, text):
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key:
                raise GameNotFoundError(
                    f"bad parameter {_shown(part.strip(), 40)} in game string {_shown(text)}; expected k=v"
                )
            if key in params:
                raise GameNotFoundError(
                    f"parameter {key!r} is given twice in game string {_shown(text)} "
                    f"({key}={_short(params[key])} and {key}={_short(value)})"
                )
            nested = _GAME_STRING.match(value)
            if nested and nested.group(2) is not None:
                parse_game_string(value)  # a nested game string: same rules
            params[key] = value
    return name, params


@dataclass(frozen=True)
class SolverEntry:
    """A solver the registry knows by name, declared next to its class.

    A distribution publishes it as an entry point of the group ``gamesolve.solvers`` whose name is
    :attr:`name`, e.g. ``"cfr+" = "gamesolve.solvers.cfr:CFR_PLUS_ENTRY"``.

    Some names (``"mmd"``, ``"omwu"``, ``"mirror-prox"``, ...) denote one method that exists for
    normal-form and for extensive-form games; ``extensive`` then is the entry used when the game
    is extensive-form (``factory`` serves normal-form games).

    Attributes:
        name: The registry name (``"cfr+"``).
        factory: Builds the configured solver from keyword options (usually the solver class).
        description: One line for listings.
        kwargs: Options the name fixes, passed before the user's (``(("variant", "cfr+"),)``).
        extensive: The extensive-form side of a name shared with a normal-form method.
    """

    name: str
    factory: Callable[..., Any]
    description: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    extensive: SolverEntry | None = None

    def for_game(self, game: Any) -> SolverEntry:
        """The entry that applies to ``game`` (``None``: the normal-form one)."""
        if self.extensive is None or game is None or _is_normal_form(game):
            return self
        return self.extensive


def _is_normal_form(game: Any) -> bool:
    from gamesolve.normal_form import TensorGame
    from gamesolve.preference import PreferenceGame

    return isinstance(game, TensorGame | PreferenceGame)


# ------------------------------------------------------------------------------ discovery

_T = TypeVar("_T")

#: group -> {name: the entry points of that name}, read from the installed distributions.
_DISCOVERED: dict[str, dict[str, tuple[importlib.metadata.EntryPoint, ...]]] = {}
#: (group, name) -> the loaded entry.
_LOADED: dict[tuple[str, str], Any] = {}


def clear_cache() -> None:
    """Forget the discovered entry points and the loaded entries.

    The registry reads the installed distributions' entry points once, on first use. Call this
    after installing or removing a plug-in in a running process (tests that add a distribution to
    ``sys.path`` do); the next lookup reads them again.
    """
    _DISCOVERED.clear()
    _LOADED.clear()
    importlib.invalidate_caches()


def _discovered(group: str) -> dict[str, tuple[importlib.metadata.EntryPoint, ...]]:
    found = _DISCOVERED.get(group)
    if found is None:
        by_name: dict[str, list[importlib.metadata.EntryPoint]] = {}
        for point in importlib.metadata.entry_points(group=group):
            by_name.setdefault(point.name, []).append(point)
        found = {name: tuple(points) for name, points in by_name.items()}
        _DISCOVERED[group] = found
    return found


def _names(group: str) -> list[str]:
    """The names published in ``group``, in the order the distributions declare them (no import)."""
    return list(_discovered(group))


def _origin(point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    return f"{dist.name if dist is not None else 'an unknown distribution'} ({point.value})"


def plugin(group: str, name: str, kind: type[_T] | None = None) -> Any:
    """The object published as entry point ``name`` of ``group``, imported on first use and cached.

    Args:
        group: The entry-point group (:data:`GAMES_GROUP`, :data:`SOLVERS_GROUP`, ...).
        name: The entry point's name.
        kind: When given, the class the object must be an instance of.

    Raises:
        LookupError: No installed distribution publishes ``name`` in ``group``.
        PluginError: Two distributions publish ``name`` in ``group`` (the message names both), or
            the object is not a ``kind``.
    """
    key = (group, name)
    if key in _LOADED:
        return _LOADED[key]
    points = _discovered(group).get(name)
    if not points:
        raise LookupError(f"no installed distribution publishes {name!r} in the entry-point group {group}")
    if len(points) > 1:
        raise PluginError(
            f"{name!r} in the entry-point group {group} is published by more than one distribution: "
            + " and ".join(sorted(_origin(p) for p in points))
            + "; uninstall all but one of them"
        )
    value = points[0].load()
    if kind is not None:
        if not isinstance(value, kind):
            raise PluginError(
                f"entry point {name!r} of the group {group}, {_origin(points[0])}, is a "
                f"{type(value).__name__}, not a {kind.__name__}"
            )
        declared = getattr(value, "name", getattr(value, "pattern", name))
        if declared != name:
            raise PluginError(
                f"entry point {name!r} of the group {group}, {_origin(points[0])}, declares the name "
                f"{declared!r}; the two must be the same"
            )
    _LOADED[key] = value
    return value


def game_names() -> list[str]:
    """The names of the games of the catalog (installed entry points), without importing them."""
    return _names(GAMES_GROUP)


def solver_names() -> list[str]:
    """The registry names of the installed solvers, without importing them."""
    return _names(SOLVERS_GROUP)


def game_entry(name: str) -> GameEntry:
    """The :class:`GameEntry` of the catalog game ``name``.

    Raises:
        GameNotFoundError: No installed distribution declares ``name``.
        PluginError: Two do, or the entry point is not a :class:`GameEntry`.
    """
    if name not in _discovered(GAMES_GROUP):
        raise GameNotFoundError(f"unknown game {name!r}; catalog games: {', '.join(game_names())}")
    entry: GameEntry = plugin(GAMES_GROUP, name, GameEntry)
    return entry


def solver_entry(name: str) -> SolverEntry:
    """The :class:`SolverEntry` of the registry name ``name`` (lower case, as listed).

    Raises:
        InvalidArgumentError: No installed distribution declares ``name`` (the message lists the
            known names).
        PluginError: Two do, or the entry point is not a :class:`SolverEntry`.
    """
    from gamesolve.errors import InvalidArgumentError

    if not isinstance(name, str) or name.strip().lower() not in _discovered(SOLVERS_GROUP):
        known = ", ".join(sorted(solver_names()))
        raise InvalidArgumentError(f"unknown solver {name!r}; known solvers: {known}")
    entry: SolverEntry = plugin(SOLVERS_GROUP, name.strip().lower(), SolverEntry)
    return entry


def _loader(pattern: str) -> LoaderEntry:
    entry: LoaderEntry = plugin(LOADERS_GROUP, pattern, LoaderEntry)
    return entry


def _suffix_loader(text: str) -> str | None:
    """The pattern of the file loader whose suffix ends ``text``, if one does."""
    lower = text.lower()
    for pattern in _names(LOADERS_GROUP):
        if pattern.startswith(".") and lower.endswith(pattern.lower()):
            return pattern
    return None


def _fallback_loader() -> LoaderEntry:
    """The loader of every string that is neither a file nor a catalog name (``*``)."""
    if "*" not in _discovered(LOADERS_GROUP):
        raise GameNotFoundError(
            "no loader of game strings is installed (entry-point group gamesolve.loaders, name '*'); "
            f"catalog games: {', '.join(game_names())}"
        )
    return _loader("*")


# ------------------------------------------------------------------------------ games


def load_game(name: str | os.PathLike[str], **params: Any) -> Any:
    """Load a game from a game string.

    Args:
        name: A native game (``"kuhn"``, ``"leduc(ranks=13,suits=4)"``, ``"rps"``), the path of a
            Gambit ``.nfg`` file, or any OpenSpiel game string (``"leduc_poker"``,
            ``"kuhn_poker(players=3)"``, ``"liars_dice"``). More generally: a file whose suffix a
            loader of the group ``gamesolve.loaders`` serves, a name of the group
            ``gamesolve.games``, or a string for the ``*`` loader.
        **params: Extra parameters for native games (merged over those in the string).

    Returns:
        A game object implementing the extensive-form protocol with a cached ``compile()``, or a
        :class:`~gamesolve.normal_form.TensorGame` for normal-form catalog games and ``.nfg`` files.

    Raises:
        GameNotFoundError: Unknown name, missing ``.nfg`` file, or bad parameters.
        MalformedGameError: An ``.nfg`` file that breaks the format.
        PluginError: Two installed distributions declare the game's name.
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or not name.strip():
        raise GameNotFoundError(f"game must be a non-empty game string, got {name!r}")
    suffix = _suffix_loader(name.strip())
    if suffix is not None:
        if params:
            raise GameNotFoundError(f"keyword parameters do not apply to the game file {name!r}")
        if not os.path.isfile(name.strip()):
            raise GameNotFoundError(f"game file {name!r} does not exist or is not a file")
        return _loader(suffix).load(name.strip())
    short, string_params = parse_game_string(name)
    if short in _discovered(GAMES_GROUP):
        merged: dict[str, Any] = {**string_params, **params}
        factory = game_entry(short).loader
        _check_parameter_names(short, factory, merged)
        try:
            return factory(**merged)
        except TypeError as exc:
            raise GameNotFoundError(f"bad parameters for game {short!r}: {exc}") from None
    if params:
        raise GameNotFoundError("keyword parameters apply only to native games; put them in the game string")
    return _fallback_loader().load(name.strip())


def _check_parameter_names(game: str, factory: Callable[..., Any], params: dict[str, Any]) -> None:
    """Refuse parameters the game's entry point does not take, listing the ones it does."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    accepted = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return
    unknown = [k for k in params if k not in accepted]
    if unknown:
        takes = f"it takes {', '.join(accepted)}" if accepted else "it takes no parameters"
        raise GameNotFoundError(f"game {game!r} has no parameter {unknown[0]!r}; {takes}")


def available_games(*, include_openspiel: bool = True) -> list[tuple[str, str]]:
    """``(name, description)`` of every loadable game: the catalog's, then OpenSpiel's.

    Imports the module of every catalog game; with ``include_openspiel``, also lists the games the
    ``*`` loader names (OpenSpiel's), described by its label.
    """
    out = []
    for name in game_names():
        e = game_entry(name)
        out.append((f"{e.name}({e.parameters})" if e.parameters else e.name, e.description))
    if include_openspiel and "*" in _discovered(LOADERS_GROUP):
        loader = _fallback_loader()
        if loader.names is not None:
            out.extend((n, loader.description) for n in loader.names())
    return out


# ------------------------------------------------------------------------------ solvers


def available_solvers() -> list[tuple[str, str]]:
    """``(name, description)`` of every registered solver (imports every solver's module)."""
    out = []
    for name in solver_names():
        e = solver_entry(name)
        out.append(
            (e.name, e.description + (f"; extensive form: {e.extensive.description}" if e.extensive else ""))
        )
    return out


def parse_options(
    items: list[str] | tuple[str, ...] | None, *, flags: dict[str, Any] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Solver options from ``KEY=VALUE`` strings (values read as JSON when they parse, else text).

    ``nan``, ``inf`` and ``-inf`` (any case) are read as floats, so that the solver's check can say
    that the option must be finite rather than that it got a string.

    Args:
        items: The ``--set`` arguments.
        flags: Options the command sets through flags of its own (``meta_solver`` for
            ``--meta-solver``); ``--set`` may not give them a second time.

    Raises:
        InvalidArgumentError: An item without ``=``, with an empty key, a key given twice, or a key
            that one of ``flags`` sets.
    """
    from gamesolve.errors import InvalidArgumentError

    options: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise InvalidArgumentError(f"--set expects KEY=VALUE, got {item!r}")
        if key in options:
            raise InvalidArgumentError(f"--set {key} is given twice")
        if key in flags:
            flag = "--" + key.replace("_", "-")
            raise InvalidArgumentError(f"--set {key}=... repeats the {flag} flag; give it once, as {flag}")
        if raw.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
            options[key] = float(raw.strip().lower().replace("infinity", "inf"))
            continue
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def make_solver(name: str, *, game: Any = None, **options: Any) -> Any:
    """Build a configured solver from its registry name (``"cfr+"``, ``"mccfr-os"``, ...).

    Args:
        name: Registry name.
        game: The game it will run on, when known. Names shared by a normal-form and an
            extensive-form method (``"mmd"``, ``"omwu"``, ...) pick the extensive-form one for any
            game that is not a normal-form or preference game; without a game the normal-form one.
        **options: The solver's configuration.

    Raises:
        InvalidArgumentError: Unknown name (the message lists the known ones), an unknown option
            (the message lists the solver's options) or an option the solver refuses; the message
            names the solver, e.g. ``bad options for solver 'dcfr': alpha must be a finite number,
            got nan``.
        PluginError: Two installed distributions declare the name.
    """
    import difflib
    import inspect

    from gamesolve.errors import GamesolveError, InvalidArgumentError

    entry = solver_entry(name).for_game(game)
    factory = entry.factory
    fixed = dict(entry.kwargs)
    try:
        parameters = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - a factory without a signature
        parameters = []
    if parameters and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        accepted = [
            p.name
            for p in parameters
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        ]
        unknown = [key for key in options if key not in accepted]
        if unknown:
            close = difflib.get_close_matches(unknown[0], accepted, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listed = ", ".join(p for p in accepted if p not in fixed) or "none"
            raise InvalidArgumentError(
                f"bad options for solver {name!r}: unknown option {unknown[0]!r}{hint}; "
                f"known options: {listed}"
            )
    try:
        return factory(**{**fixed, **options})
    except TypeError as exc:
        if isinstance(exc, GamesolveError):  # UnsupportedGame is a TypeError too
            raise
        raise InvalidArgumentError(f"bad options for solver {name!r}: {exc}") from None
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"bad options for solver {name!r}: {exc}") from None
