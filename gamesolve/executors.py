"""Executors: where independent jobs (tournament matches, oracle trainings) run.

An executor maps a picklable, module-level function over a list of tasks and returns the results
in task order. Three are provided:

* ``"inprocess"`` (:class:`InProcessExecutor`): a plain loop in the calling process.
* ``"local"`` (:class:`LocalExecutor`, the default of :func:`gamesolve.tournament.tournament`): a
  pool of worker processes on this machine. Workers are not forked from the caller (numba's
  threading layers and torch's thread pools are not safe to fork once running): on Linux they
  fork from a clean *fork server* that has imported :mod:`gamesolve.tournament` and loaded the
  match kernels once, so the first pool of a session starts in one to two seconds and later pools
  in a few milliseconds, with warm kernels (``"spawn"`` re-imports and reloads everything in
  every worker: 2 to 4 s per pool on two cores). The pool
  starts on the first :meth:`~LocalExecutor.map` and lives until :meth:`~LocalExecutor.close`.
  As with any process pool, a script that uses it must guard its entry point with
  ``if __name__ == "__main__":``.
* ``"ray"`` (:class:`RayExecutor`, ``pip install gamesolve[ray]``): Ray tasks, on a cluster given
  by ``address`` (``"host:port"``, ``"ray://host:port"``, ``"auto"``) or on a local Ray instance
  started on first use. If Ray is already initialized in this process it is used as is.

Jobs that draw their randomness from their own seed (as the tournament's do) give identical
results on every executor. Executors are context managers; :func:`make_executor` builds one from
a name.

>>> from gamesolve.executors import make_executor
>>> with make_executor("inprocess") as ex:
...     ex.map(abs, [-1, 2, -3])
[1, 2, 3]
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

from gamesolve.errors import GamesolveError

__all__ = [
    "EXECUTORS",
    "Executor",
    "InProcessExecutor",
    "LocalExecutor",
    "RayExecutor",
    "make_executor",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: Executor names accepted by :func:`make_executor`.
EXECUTORS = ("inprocess", "local", "ray")

#: Seconds to wait for a TCP connection to a Ray address before declaring it unreachable.
RAY_CONNECT_TIMEOUT = 3.0


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
        ValueError: ``workers`` < 1 or an unknown ``start_method``.
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

        if workers is None:
            workers = _available_cpus()
        if int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers!r}")
        if start_method is None:
            start_method = (
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            )
        if start_method not in ("spawn", "forkserver", "fork"):
            raise ValueError(f"start_method must be 'spawn', 'forkserver' or 'fork', got {start_method!r}")
        self.workers = int(workers)
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

    Args:
        address: ``None`` (``RAY_ADDRESS`` if set, else start a local instance; an instance
            already initialized in this process is reused either way), ``"auto"``,
            ``"host:port"`` of a running cluster's head, or ``"ray://host:port"`` (Ray client).
        workers: CPUs for a locally started instance (default: all); ignored on a cluster.
        connect_timeout: Seconds to wait for a TCP connection to ``address``.

    Raises:
        GamesolveError: Ray is not installed, or ``address`` cannot be reached (the message names
            the address).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        connect_timeout: float = RAY_CONNECT_TIMEOUT,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise GamesolveError(
                "the Ray executor needs ray; install it with `pip install gamesolve[ray]`"
            ) from None
        if address is None and os.environ.get("RAY_ADDRESS"):
            address = os.environ["RAY_ADDRESS"]  # what ray.init() would join anyway
        self.address = address
        self._remote: dict[Any, Any] = {}
        self._owns_ray = False
        if address not in (None, "auto", "local"):
            _check_reachable(str(address), connect_timeout)
        if ray.is_initialized():
            log.debug("using the Ray instance already initialized in this process")
            return
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
        if address in (None, "local"):
            kwargs["num_cpus"] = workers if workers is not None else _available_cpus()
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


def _available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _check_reachable(address: str, timeout: float) -> None:
    """Raise :class:`GamesolveError` unless a TCP connection to ``address`` opens within ``timeout``."""
    text = address if "://" in address else f"tcp://{address}"
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host:
        raise GamesolveError(f"Ray address {address!r} is not of the form host:port or ray://host:port")
    if port is None:
        port = 10001 if text.startswith("ray://") else 6379
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise GamesolveError(
            f"cannot reach the Ray cluster at {address!r} ({host}:{port}): {exc or 'connection failed'}"
        ) from None


def make_executor(
    spec: str | Executor | None = None, *, workers: int | None = None, address: str | None = None
) -> Executor:
    """An executor from a name (``"inprocess"``, ``"local"``, ``"ray"``), or ``spec`` itself.

    Args:
        spec: A name, an executor object (returned unchanged), or ``None`` for ``"local"``.
        workers: Processes for ``"local"``; CPUs of a locally started Ray instance.
        address: Ray cluster address for ``"ray"`` (see :class:`RayExecutor`).

    Raises:
        ValueError: Unknown name.
        GamesolveError: Ray missing or unreachable.
    """
    if spec is None:
        spec = "local"
    if not isinstance(spec, str):
        if not callable(getattr(spec, "map", None)):
            raise TypeError(f"executor must be a name or an object with map(fn, tasks), got {spec!r}")
        return spec
    name = spec.strip().lower()
    if name == "inprocess":
        return InProcessExecutor()
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(address, workers=workers)
    raise ValueError(f"unknown executor {spec!r}; expected one of {list(EXECUTORS)} or an executor object")
