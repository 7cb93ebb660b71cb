"""Executors: where independent jobs (tournament matches, oracle trainings) run.

An executor maps a picklable, module-level function over a list of tasks and returns the results in
task order:

* ``"inprocess"`` (:class:`InProcessExecutor`): a plain loop in the calling process.
* ``"local"`` (:class:`LocalExecutor`, the default of :func:`gamesolve.tournament.tournament`): a
  pool of worker processes on this machine. Workers are not forked from the caller (numba's and
  torch's thread pools are not safe to fork once running): on Linux they fork from a clean fork
  server that has loaded the match kernels once, so later pools start warm. The pool starts on the
  first :meth:`~LocalExecutor.map` and lives until :meth:`~LocalExecutor.close`; a script that uses
  it must guard its entry point with ``if __name__ == "__main__":``.
* ``"ray"`` (:class:`RayExecutor`, ``pip install gamesolve[ray]``): Ray tasks on the cluster at
  ``address`` or on a local Ray instance started on first use.

Jobs that draw their randomness from their own seed (as the tournament's do) give identical results
on every executor. Executors are context managers; :func:`make_executor` builds one from a name.

>>> from gamesolve.executors import make_executor
>>> with make_executor("inprocess") as ex:
...     ex.map(abs, [-1, 2, -3])
[1, 2, 3]
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

from gamesolve.errors import GamesolveError, InvalidArgumentError
from gamesolve.validation import check_choice, check_int, check_real

__all__ = [
    "EXECUTORS",
    "Executor",
    "InProcessExecutor",
    "LocalExecutor",
    "RayExecutor",
    "available_cpus",
    "check_executor",
    "make_executor",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: Executor names accepted by :func:`make_executor`.
EXECUTORS = ("inprocess", "local", "ray")

#: Seconds to wait for a Ray address to answer (a TCP connection, then the cluster's GCS) before
#: declaring it unreachable.
RAY_CONNECT_TIMEOUT = 2.0


@runtime_checkable
class Executor(Protocol):
    """Runs ``fn`` on every task and returns the results in task order."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        """``[fn(t) for t in tasks]``, possibly in parallel; order-preserving."""
        ...

    def close(self) -> None:
        """Release workers (a closed executor may be used again; it restarts them)."""
        ...


class _Base:
    """Context-manager plumbing and ``imap`` on top of ``map`` (subclasses stream results)."""

    name = "executor"

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        return list(self.imap(fn, tasks))

    def imap(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Results in task order, one at a time (this base runs them here, one after another)."""
        return (fn(task) for task in tasks)

    def close(self) -> None:
        return None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessExecutor(_Base):
    """Runs every task in the calling process, one after the other."""

    name = "inprocess"

    def imap(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Yield ``fn(t)`` for each task in order, as each finishes."""
        for task in tasks:
            yield fn(task)

    def __repr__(self) -> str:
        return "InProcessExecutor()"


class LocalExecutor(_Base):
    """A pool of worker processes on this machine.

    Args:
        workers: Number of processes (default: the CPUs available to this process).
        start_method: ``"forkserver"`` (default where available), ``"spawn"`` (default elsewhere)
            or ``"fork"``. Fork starts fastest but is unsafe once numba or torch threads run in
            the parent.
        preload: Modules the fork server imports once, before forking workers.

    Raises:
        InvalidArgumentError: ``workers`` is not an integer >= 1, or an unknown ``start_method``.
    """

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        *,
        start_method: str | None = None,
        preload: Sequence[str] = ("gamesolve.tournament", "gamesolve.kernels.matches_warm"),
    ) -> None:
        import multiprocessing

        workers = available_cpus() if workers is None else check_int("workers", workers, minimum=1)
        if start_method is None:
            start_method = (
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            )
        start_method = check_choice("start_method", start_method, ("spawn", "forkserver", "fork"))
        self.workers = workers
        self.start_method = start_method
        self.preload = tuple(preload)
        self._pool: Any = None

    def _ensure_pool(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context(self.start_method)
            if self.start_method == "forkserver" and self.preload:
                # only takes effect before the session's fork server starts (it is shared)
                context.set_forkserver_preload(list(self.preload))
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def imap(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Yield results in task order as they become available."""
        if not tasks:
            return
        pool = self._ensure_pool()
        futures = [pool.submit(fn, task) for task in tasks]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        """Shut the worker processes down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers}, start_method={self.start_method!r})"


class RayExecutor(_Base):
    """Ray tasks on a cluster (``address``) or on a local Ray instance.

    Ray is connected (or started) when the executor is created, so a wrong address fails at once,
    before any work is done. If this process already has Ray initialized, that instance is used
    and left running by :meth:`close`; otherwise :meth:`close` shuts down what this executor
    started.

    Functions and policies must be importable on the workers (an installed package), or shipped
    by value with ``ray.cloudpickle.register_pickle_by_value(module)`` (scripts, notebooks).

    An explicit address is checked before Ray is asked to join it, because ``ray.init`` retries
    an address that does not answer as a Ray cluster for about 20 s and logs a line per try: the
    address must parse, accept a TCP connection and answer an HTTP/2 preface as gRPC servers do
    (within ``connect_timeout`` seconds), and for ``host:port`` a GCS client handshake must
    succeed (within ``connect_timeout`` seconds more), with Ray's own log lines held back.

    Args:
        address: ``None`` (``RAY_ADDRESS`` if set, else start a local instance; an instance
            already initialized in this process is reused either way), ``"auto"``, ``"local"``,
            ``"host:port"`` of a running cluster's head (a bare ``host`` means port 6379), or
            ``"ray://host:port"`` (Ray client; port 10001 if left out).
        workers: CPUs for a locally started instance (an integer >= 1; default: all); ignored on
            a cluster.
        connect_timeout: Seconds (finite, > 0) to wait for ``address`` to answer, per check.

    Raises:
        InvalidArgumentError: ``address`` does not parse, or ``workers`` or ``connect_timeout`` is
            out of range.
        GamesolveError: Ray is not installed, or ``address`` cannot be reached or is not a Ray
            cluster (the message names the address).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        connect_timeout: float = RAY_CONNECT_TIMEOUT,
    ) -> None:
        workers = None if workers is None else check_int("workers", workers, minimum=1)
        connect_timeout = check_real("connect_timeout", connect_timeout, minimum=0.0, min_inclusive=False)
        if address is None and os.environ.get("RAY_ADDRESS"):
            address = os.environ["RAY_ADDRESS"]  # what ray.init() would join anyway
        remote = address not in (None, "auto", "local")
        if remote:
            host, port, client = _parse_ray_address(address)
            _check_reachable(str(address), host, port, connect_timeout)
        try:
            import ray
        except ImportError:
            raise GamesolveError(
                "the Ray executor needs ray; install it with `pip install gamesolve[ray]`"
            ) from None
        self.address = address
        self._remote: dict[Any, Any] = {}
        self._owns_ray = False
        if remote and not client and not ray.is_initialized():
            _check_gcs(str(address), f"{host}:{port}", connect_timeout)
        if ray.is_initialized():
            log.debug("using the Ray instance already initialized in this process")
            return
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
        if address in (None, "local"):
            kwargs["num_cpus"] = workers if workers is not None else available_cpus()
        else:
            kwargs["address"] = address
        start = time.perf_counter()
        try:
            ray.init(**kwargs)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError from ray's client
            where = (
                "a local Ray instance" if address in (None, "local") else f"the Ray cluster at {address!r}"
            )
            raise GamesolveError(f"could not connect to {where}: {exc}") from None
        self._owns_ray = True
        log.info("ray initialized (%s) in %.2f s", address or "local", time.perf_counter() - start)

    def _remote_fn(self, target: Callable[..., Any]) -> Any:
        import ray

        remote = self._remote.get(target)
        if remote is None:
            remote = ray.remote(target)
            self._remote[target] = remote
        return remote

    def imap(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Submit every task, then yield the results in task order as they arrive."""
        import ray

        if not tasks:
            return
        if inspect.isfunction(fn):
            remote = self._remote_fn(fn)
            refs = [remote.remote(task) for task in tasks]
        else:  # builtins and callable objects go through a trampoline
            remote = self._remote_fn(_apply)
            refs = [remote.remote(fn, task) for task in tasks]
        done = 0
        try:
            for ref in refs:
                yield ray.get(ref)
                done += 1
        finally:
            for ref in refs[done:]:  # stopped early (an error, or the caller stopped iterating)
                with contextlib.suppress(Exception):
                    ray.cancel(ref)

    def close(self) -> None:
        """Shut Ray down if this executor started it."""
        self._remote.clear()
        if self._owns_ray:
            import ray

            ray.shutdown()
            self._owns_ray = False

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r})"


def _apply(fn: Callable[[T], R], task: T) -> R:
    """``fn(task)``: what a Ray task runs for callables Ray cannot wrap directly."""
    return fn(task)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity set where the platform says, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _parse_ray_address(address: Any) -> tuple[str, int, bool]:
    """``(host, port, is_client)`` of a Ray address, or :class:`InvalidArgumentError` naming it."""
    expected = "host:port or ray://host:port (or auto, local)"
    if not isinstance(address, str) or not address.strip():
        raise InvalidArgumentError(f"Ray address {address!r} is not of the form {expected}")
    text = address.strip()
    client = text.startswith("ray://")
    if "://" in text and not client:
        raise InvalidArgumentError(f"Ray address {address!r} is not of the form {expected}")
    try:
        parts = urlsplit(text if client else f"tcp://{text}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number in [0, 65535]
        host, port = None, None
    if not host or (parts.path not in ("", "/")) or any(c.isspace() for c in text) or port == 0:
        raise InvalidArgumentError(f"Ray address {address!r} is not of the form {expected}")
    return host, port if port is not None else (10001 if client else 6379), client


#: An HTTP/2 client connection preface and an empty SETTINGS frame (RFC 9113, section 3.4).
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def _check_reachable(address: str, host: str, port: int, timeout: float) -> None:
    """Raise :class:`GamesolveError` unless ``host:port`` accepts a connection and speaks HTTP/2.

    Ray's GCS and its client server are gRPC servers, so they answer an HTTP/2 connection preface
    with a SETTINGS frame at once; a closed port, a web server or a port that never answers fails
    here, within ``timeout`` seconds in all.
    """
    deadline = time.monotonic() + timeout
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise GamesolveError(
            f"cannot reach the Ray cluster at {address!r} ({host}:{port}): {exc or 'connection failed'}"
        ) from None
    head = b""
    with connection:
        try:
            connection.settimeout(max(deadline - time.monotonic(), 0.05))
            connection.sendall(_HTTP2_PREFACE)
            while len(head) < 9:  # one frame header: length (3), type (1), flags (1), stream (4)
                chunk = connection.recv(9 - len(head))
                if not chunk:
                    break
                head += chunk
        except OSError:  # a timeout or a reset: judged by what arrived
            pass
    if len(head) == 9 and head[3] == 4 and head[5:9] == bytes(4):  # SETTINGS on stream 0
        return
    answer = f"it answered {head[:24]!r}" if head else f"no answer within {timeout:g} s"
    raise GamesolveError(
        f"cannot join a Ray cluster at {address!r} ({host}:{port}): not a Ray (gRPC) port; {answer}"
    )


def _check_gcs(address: str, gcs: str, timeout: float) -> None:
    """Raise :class:`GamesolveError` unless a Ray GCS answers at ``gcs`` within ``timeout`` seconds.

    A port can accept connections without being a Ray cluster (another service, a proxy); one
    GCS client handshake tells the two apart in milliseconds, where ``ray.init`` would retry for
    about 20 s. The handshake runs in a daemon thread (a silent server would hold it for 40 s) with
    this process's stderr pointed at ``/dev/null``: Ray's C++ client logs each failed try there.
    """
    gcs_client = importlib.import_module("ray._raylet").GcsClient

    outcome: dict[str, Any] = {}

    def handshake() -> None:
        try:
            gcs_client(address=gcs)
            outcome["ok"] = True
        except Exception as exc:  # RpcError and friends from Ray's C++ client
            outcome["error"] = exc

    thread = threading.Thread(target=handshake, name="gamesolve-ray-check", daemon=True)
    with _stderr_to_devnull():
        thread.start()
        thread.join(timeout)
    if outcome.get("ok"):
        return
    reason = " ".join(str(outcome.get("error") or f"no answer within {timeout:g} s").split())
    raise GamesolveError(f"cannot join a Ray cluster at {address!r} ({gcs}): {reason}")


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """Point file descriptor 2 at ``/dev/null`` for the duration (C++ logging bypasses Python)."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def check_executor(spec: Any, *, workers: Any = None, address: Any = None) -> str | Executor:
    """Check an executor choice at the door, without starting or connecting anything.

    Args:
        spec: A name (``"inprocess"``, ``"local"``, ``"ray"``), an object with ``map``, or ``None``
            (``"local"``).
        workers: ``None`` or an integer >= 1.
        address: ``None`` or a Ray address that parses (see :class:`RayExecutor`); only with
            ``"ray"``.

    Returns:
        The lower-cased name, or the executor object itself.

    Raises:
        InvalidArgumentError: An unknown name, a bad ``workers``, an address that does not parse,
            or an address without ``"ray"``.
    """
    if workers is not None:
        check_int("workers", workers, minimum=1)
    if spec is None:
        spec = "local"
    if not isinstance(spec, str):
        if not callable(getattr(spec, "map", None)):
            raise InvalidArgumentError(
                f"executor must be one of {', '.join(EXECUTORS)} or an object with map(fn, tasks), "
                f"got {spec!r}"
            )
        return spec
    name = spec.strip().lower()
    if name not in EXECUTORS:
        raise InvalidArgumentError(
            f"unknown executor {spec!r}; expected one of {', '.join(EXECUTORS)} or an executor object"
        )
    if address is not None:
        if name != "ray":
            raise InvalidArgumentError(f"address applies to the ray executor, not {name!r}")
        if address not in ("auto", "local"):
            _parse_ray_address(address)
    return name


def make_executor(
    spec: str | Executor | None = None, *, workers: int | None = None, address: str | None = None
) -> Executor:
    """An executor from a name (``"inprocess"``, ``"local"``, ``"ray"``), or ``spec`` itself.

    Args:
        spec: A name, an executor object (returned unchanged), or ``None`` for ``"local"``.
        workers: Processes for ``"local"``; CPUs of a locally started Ray instance.
        address: Ray cluster address for ``"ray"`` (see :class:`RayExecutor`).

    Raises:
        InvalidArgumentError: Unknown name, or bad ``workers`` or ``address``.
        TypeError: ``spec`` is neither a name nor an object with ``map``.
        GamesolveError: Ray missing or unreachable.
    """
    if spec is None:
        spec = "local"
    if not isinstance(spec, str):
        if not callable(getattr(spec, "map", None)):
            raise TypeError(
                f"executor must be one of {', '.join(EXECUTORS)} or an object with map(fn, tasks), "
                f"got {spec!r}"
            )
        return spec
    name = spec.strip().lower()
    if name == "inprocess":
        return InProcessExecutor()
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(address, workers=workers)
    raise InvalidArgumentError(
        f"unknown executor {spec!r}; expected one of {', '.join(EXECUTORS)} or an executor object"
    )
