"""Batched environments stepped by worker processes or Ray actors: rollouts on every core.

:class:`WorkerPool` keeps ``N`` workers alive (processes of this machine, ``executor="local"``, or
Ray actors on this machine or a cluster, ``executor="ray"``); each holds one shard of the batch.
:class:`ShardedVectorEnv` is a :class:`~gamesolve.vector_env.VectorEnv` over a pool: ``B`` episodes
cut into ``N`` contiguous shards of ``B // N`` or ``B // N + 1`` slots, every call sent to all
workers at once and the shards' time steps joined in slot order. The learner (and its network)
stays in the calling process, so on a GPU machine the workers step environments while the
learner's device does the rest.

When every worker runs on this machine (always on the local executor; Ray actors placed on this
node) the workers write their time steps into two shared-memory blocks used in turn, and the
environment's :class:`~gamesolve.vector_env.TimeStep` arrays are views of one of them: valid
until the step after the next (copy what must live longer).

Shard ``i`` is seeded from ``(seed, i)``, so the same seed and the same number of workers give the
same episode stream on either executor and on any machine (a stream of its own: it differs from
the unsharded environment's for the same seed, whose slots share one generator).

>>> import gamesolve
>>> env = gamesolve.vector_env("kuhn_poker", num_envs=8, seed=0, workers=2)   # doctest: +SKIP
>>> env.reset().observation.shape                                              # doctest: +SKIP
(8, 11)
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import GamesolveError, InvalidArgumentError
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env.base import TimeStep, VectorEnv

__all__ = ["EXECUTORS", "ShardedVectorEnv", "WorkerPool", "game_name", "shard_sizes"]

log = logging.getLogger(__name__)

#: Where the workers run.
EXECUTORS = ("local", "ray")


def shard_sizes(num_envs: int, workers: int) -> list[int]:
    """``workers`` contiguous shard sizes of ``num_envs`` slots (the first ones one larger)."""
    base, extra = divmod(num_envs, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


def _layout(b: int, f: int, a: int, p: int) -> list[tuple[str, tuple[int, ...], Any]]:
    """The arrays of a shared time-step block, in order: name, shape, dtype."""
    return [
        ("observation", (b, f), np.float32),
        ("reward", (b, p), np.float64),
        ("player", (b,), np.int64),
        ("legal", (b, a), np.bool_),
        ("done", (b,), np.bool_),
    ]


def _aligned_bytes(shape: tuple[int, ...], dtype: Any) -> int:
    """Bytes an array of ``shape`` takes in a block, rounded up to 8 (the next array's alignment)."""
    return -(-int(np.prod(shape)) * np.dtype(dtype).itemsize // 8) * 8


def _views(buffer: Any, b: int, f: int, a: int, p: int) -> dict[str, NDArray[Any]]:
    """The arrays of :func:`_layout` over one buffer (8-byte aligned)."""
    out, at = {}, 0
    for name, shape, dtype in _layout(b, f, a, p):
        out[name] = np.ndarray(shape, dtype=dtype, buffer=buffer, offset=at)
        at += _aligned_bytes(shape, dtype)
    return out


def _block_size(b: int, f: int, a: int, p: int) -> int:
    return sum(_aligned_bytes(shape, dtype) for _, shape, dtype in _layout(b, f, a, p))


class _Shard:
    """What a worker holds: one batched environment (built by :meth:`make`).

    Local workers also map a shared-memory block (:meth:`attach`) and write their time steps into
    their rows of it, so only a count crosses the pipe (:meth:`reset_shared`, :meth:`step_shared`).
    """

    def __init__(self) -> None:
        self.env: VectorEnv | None = None
        self._shm: Any = None
        self._blocks: list[dict[str, NDArray[Any]]] = []
        self._turn = 0

    def attach(self, name: str, dims: tuple[int, int, int, int], lo: int, hi: int) -> None:
        from multiprocessing import shared_memory

        self.detach()
        self._shm = shared_memory.SharedMemory(name=name)
        size = _block_size(*dims)
        self._blocks = [
            {k: v[lo:hi] for k, v in _views(self._shm.buf[i * size : (i + 1) * size], *dims).items()}
            for i in range(2)
        ]
        self._turn = 0

    def detach(self) -> None:
        self._blocks = []
        if self._shm is not None:
            self._shm.close()
            self._shm = None

    def _write(self, ts: TimeStep) -> int:
        rows = self._blocks[self._turn]
        self._turn ^= 1  # two blocks in turn: the caller's previous time step stays intact
        for key, target in rows.items():
            target[...] = getattr(ts, key)
        assert self.env is not None
        return self.env.episodes

    def reset_shared(self) -> int:
        assert self.env is not None
        return self._write(self.env.reset())

    def step_shared(self, actions: NDArray[np.int64]) -> int:
        assert self.env is not None
        return self._write(self.env.step(actions))

    def make(self, game: Any, num_envs: int, seed: int, observation: str) -> dict[str, Any]:
        from gamesolve.vector_env import vector_env

        if self.env is not None:
            self.env.close()
        self.env = vector_env(game, num_envs=num_envs, seed=seed, observation=observation)
        env = self.env
        return {
            "spec": env.spec,
            "num_players": env.num_players,
            "num_actions": env.num_actions,
            "observation_size": env.observation_size,
            "observation_kind": env.observation_kind,
            "observation_shape": tuple(env.observation_shape),
        }

    def reset(self) -> tuple[TimeStep, int]:
        assert self.env is not None
        return self.env.reset(), self.env.episodes

    def step(self, actions: NDArray[np.int64]) -> tuple[TimeStep, int]:
        assert self.env is not None
        return self.env.step(actions), self.env.episodes

    def node(self) -> str:
        """The Ray node this worker runs on (empty outside Ray)."""
        try:
            import ray

            return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else ""
        except ImportError:  # pragma: no cover - local workers without ray
            return ""

    def release(self) -> None:
        self.detach()
        if self.env is not None:
            self.env.close()
            self.env = None

    def stop(self) -> None:
        self.release()


def _serve(conn: Any) -> None:
    """A local worker: apply ``(method, args)`` messages to a :class:`_Shard` until ``stop``."""
    shard = _Shard()
    while True:
        method, args = conn.recv()
        try:
            out = getattr(shard, method)(*args)
        except BaseException as exc:  # sent back: the caller raises it
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("ok", out))
        if method == "stop":
            conn.close()
            return


class WorkerPool:
    """``workers`` long-lived workers that each step one shard of a batched environment.

    A pool serves one environment at a time: building a :class:`ShardedVectorEnv` on it replaces
    the shards of the previous one (whose calls then reach the new shards), so environments on one
    pool are used one after the other, as a learner's rollouts and evaluations are.

    Args:
        workers: How many (an integer >= 1).
        executor: ``"local"`` (processes of this machine, started with ``spawn``) or ``"ray"``
            (Ray actors: this machine's Ray instance, or the cluster at ``address``).
        address: Ray cluster address (``executor="ray"`` only; see
            :class:`gamesolve.executors.RayExecutor`: an unreachable address fails at once,
            naming it).

    Raises:
        InvalidArgumentError: A bad ``workers``, ``executor`` or ``address``.
        GamesolveError: Ray is not installed or the cluster cannot be reached.
    """

    def __init__(self, workers: int, *, executor: str = "local", address: str | None = None) -> None:
        self.workers = check_int("workers", workers, minimum=1)
        self.executor = check_choice("executor", executor, EXECUTORS)
        if address is not None and self.executor != "ray":
            raise InvalidArgumentError("address applies to executor='ray' only")
        self._closed = False
        #: Whether every worker runs on this machine (shared memory then carries the time steps).
        self.same_machine = True
        if self.executor == "ray":
            from gamesolve.executors import RayExecutor, available_cpus

            # a local instance started here gets every core (later pools may want more workers)
            self._ray_executor = RayExecutor(address, workers=max(self.workers, available_cpus()))
            import ray

            cpus = float(ray.cluster_resources().get("CPU", 0.0))
            if cpus < self.workers:
                log.warning(
                    "workers=%d Ray actors on %g CPUs: they will share cores (ask for fewer workers)",
                    self.workers,
                    cpus,
                )
            # no CPU reserved (a reservation the cluster cannot meet would leave actors pending
            # forever); SPREAD places them over the nodes of a cluster
            actor = ray.remote(num_cpus=0, scheduling_strategy="SPREAD")(_Shard)
            self._actors: list[Any] = [actor.remote() for _ in range(self.workers)]
            here = str(ray.get_runtime_context().get_node_id())
            nodes = ray.get([a.node.remote() for a in self._actors])
            self.same_machine = all(n == here for n in nodes)
        else:
            ctx = multiprocessing.get_context("spawn")
            self._conns = []
            self._procs = []
            for i in range(self.workers):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_serve, args=(child,), daemon=True, name=f"gamesolve-rollout-{i}")
                proc.start()
                child.close()
                self._conns.append(parent)
                self._procs.append(proc)

    def call(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Call ``method`` on every worker (``args[i]`` for worker ``i``) at once; their results.

        Raises:
            GamesolveError: A worker failed (its error is named) or the pool is closed.
        """
        if self._closed:
            raise GamesolveError("the worker pool is closed")
        if self.executor == "ray":
            import ray

            refs = [getattr(a, method).remote(*arg) for a, arg in zip(self._actors, args, strict=True)]
            try:
                return list(ray.get(refs))
            except Exception as exc:
                raise GamesolveError(f"a rollout worker failed in {method}: {exc}") from None
        for conn, arg in zip(self._conns, args, strict=True):
            conn.send((method, arg))
        out = []
        errors = []
        for i, conn in enumerate(self._conns):
            try:
                status, value = conn.recv()
            except (EOFError, OSError):
                status, value = (
                    "error",
                    (
                        "the worker process ended (a script that starts workers must guard its main code "
                        "with `if __name__ == '__main__':`)"
                    ),
                )
            if status == "error":
                errors.append(f"worker {i}: {value}")
            out.append(value)
        if errors:
            raise GamesolveError(f"a rollout worker failed in {method}: {errors[0]}")
        return out

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.executor == "ray":
            import ray

            for a in self._actors:
                with contextlib.suppress(Exception):  # Ray may be gone already
                    ray.kill(a)
            # Ray itself stays up (other pools or executors of this process may be using it; it
            # stops when the process exits)
            return
        for conn in self._conns:
            try:
                conn.send(("stop", ()))
                conn.recv()
            except (OSError, EOFError):
                pass
            conn.close()
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()

    def __del__(self) -> None:  # a pool dropped without close() still stops its workers
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()

    def __repr__(self) -> str:
        return f"WorkerPool({self.workers} {self.executor} workers)"


def game_name(game: Any) -> str:
    """The string the workers load ``game`` by.

    That is ``game`` itself when it is a string, else its spec's name when loading that name gives
    the same game.

    Raises:
        InvalidArgumentError: A game object that cannot be loaded by name (a PettingZoo wrapper, a
            game built in code): workers live in other processes and load their game themselves.
    """
    if isinstance(game, str):
        return game
    spec = getattr(game, "spec", None)
    name = getattr(spec, "name", None)
    if isinstance(name, str):
        from gamesolve.registry import load_game

        try:
            same = load_game(name).spec == spec
        except Exception:  # any failure means "not loadable by name"
            same = False
        if same:
            return name
    raise InvalidArgumentError(
        f"workers load their game by name, and {type(game).__name__} "
        f"{name!r} cannot be loaded so; pass a game string (`gamesolve games` lists them), or step it "
        "without workers"
    )


class ShardedVectorEnv(VectorEnv):
    """A batched environment whose shards are stepped by the workers of a :class:`WorkerPool`.

    Args:
        game: A game string, or a game loadable by its spec's name (see :func:`game_name`).
        num_envs: ``B`` (at least the number of workers).
        seed: Seeds shard ``i`` with ``(seed, i)``.
        observation: The tensor kind.
        pool: The workers; ``None`` starts ``workers`` of ``executor`` and closes them with the
            environment.
        workers, executor, address: For a pool of its own.

    Raises:
        InvalidArgumentError: Fewer slots than workers, or a bad pool option.
        GamesolveError: A worker could not build its shard (the message names why).
    """

    def __init__(
        self,
        game: Any,
        *,
        num_envs: int,
        seed: int,
        observation: str = "info_state",
        pool: WorkerPool | None = None,
        workers: int = 2,
        executor: str = "local",
        address: str | None = None,
    ) -> None:
        self._own = pool is None
        self.pool = WorkerPool(workers, executor=executor, address=address) if pool is None else pool
        try:
            self.num_envs = check_int("num_envs", num_envs, minimum=self.pool.workers)
            seeds = np.random.SeedSequence(check_int("seed", seed, minimum=0)).spawn(self.pool.workers)
            self.sizes = shard_sizes(self.num_envs, self.pool.workers)
            name = game_name(game)
            args = [
                (name, size, int(s.generate_state(1)[0] >> 1), observation)
                for size, s in zip(self.sizes, seeds, strict=True)
            ]
            meta = self.pool.call("make", args)[0]
        except BaseException:
            if self._own:
                self.pool.close()
            raise
        self.spec = meta["spec"]
        self.num_players = int(meta["num_players"])
        self.num_actions = int(meta["num_actions"])
        self.observation_size = int(meta["observation_size"])
        self.observation_kind = str(meta["observation_kind"])
        self._shape = tuple(meta["observation_shape"])
        self.episodes = 0
        self._bounds = np.cumsum([0, *self.sizes])
        self._legal: NDArray[np.bool_] | None = None
        self._shm: Any = None
        self._blocks: list[dict[str, NDArray[Any]]] = []
        self._turn = 0
        if self.pool.same_machine:  # time steps through shared memory, not pipes or the object store
            self._share()

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """The shards' observation shape."""
        return self._shape

    def _share(self) -> None:
        from multiprocessing import shared_memory

        dims = (self.num_envs, self.observation_size, self.num_actions, self.num_players)
        size = _block_size(*dims)
        self._shm = shared_memory.SharedMemory(create=True, size=max(2 * size, 8))
        self._blocks = [_views(self._shm.buf[i * size : (i + 1) * size], *dims) for i in range(2)]
        self._turn = 0
        b = self._bounds
        try:
            self.pool.call(
                "attach", [(self._shm.name, dims, int(b[i]), int(b[i + 1])) for i in range(self.pool.workers)]
            )
        except BaseException:
            self._unlink()
            raise

    def _unlink(self) -> None:
        if self._shm is not None:
            self._blocks = []
            self._shm.close()
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._shm = None

    def _shared(self, counts: list[int]) -> TimeStep:
        self.episodes = int(sum(counts))
        v = self._blocks[self._turn]
        self._turn ^= 1
        ts = TimeStep(
            observation=v["observation"],
            legal=v["legal"],
            player=v["player"],
            reward=v["reward"],
            done=v["done"],
        )
        self._legal = ts.legal
        return ts

    def _join(self, parts: list[tuple[TimeStep, int]]) -> TimeStep:
        steps = [p[0] for p in parts]
        self.episodes = int(sum(p[1] for p in parts))
        ts = TimeStep(
            observation=np.concatenate([s.observation for s in steps]),
            legal=np.concatenate([s.legal for s in steps]),
            player=np.concatenate([s.player for s in steps]),
            reward=np.concatenate([s.reward for s in steps]),
            done=np.concatenate([s.done for s in steps]),
        )
        self._legal = ts.legal
        return ts

    def reset(self) -> TimeStep:
        """Reset every shard."""
        if self._shm is not None:
            return self._shared(self.pool.call("reset_shared", [()] * self.pool.workers))
        return self._join(self.pool.call("reset", [()] * self.pool.workers))

    def step(self, actions: ArrayLike) -> TimeStep:
        """Send each shard its slice of ``actions`` and join the shards' next steps."""
        if self._legal is None:
            raise InvalidArgumentError("call reset() before step(actions)")
        acts = self.check_actions(actions, self._legal)
        b = self._bounds
        parts = [(acts[b[i] : b[i + 1]],) for i in range(self.pool.workers)]
        if self._shm is not None:
            return self._shared(self.pool.call("step_shared", parts))
        return self._join(self.pool.call("step", parts))

    def close(self) -> None:
        """Close the shards' environments; stop the pool if this environment started it."""
        if self._own:
            self.pool.close()
        elif not self.pool.closed:
            self.pool.call("release", [()] * self.pool.workers)
        self._unlink()

    def __repr__(self) -> str:
        return f"ShardedVectorEnv({self.spec.name}, num_envs={self.num_envs}, {self.pool!r})"
