"""The worker processes of :func:`~condapprove.simulate` with ``n_jobs > 1``: one pool per process, kept from one
call to the next.

Starting workers costs a run twice: forking them (the first submit, which forks two, took 18-32 ms on the virtual
machine of ``docs/performance.md``, for a process that has loaded numba and scipy) and, in each worker, the page
faults of its first chunk's memory (about 6,250 pages: a binary worker's first chunk took 50-100 ms there, the next
ones 21-24 ms). For one run of 10^6 replicates that is a few percent; for the runs of 10^5 replicates of a design
sweep (``condapprove.explore.compare``, a notebook loop) it made ``n_jobs=2`` slower than one process. So the pool a
call starts is kept, idle, for the next call with the same ``n_jobs`` (as joblib keeps its workers); it is replaced
when ``n_jobs`` changes, when a worker has died, when it was shut down, and in a process forked from the one that
started it. The workers end with the interpreter, or earlier with :func:`shutdown_workers`. Threads may simulate at
the same time: they share the pool; one that asks for another ``n_jobs`` replaces it as the pool kept, and the old
one is shut down when the calls using it are done.

Each pool comes with an :class:`Arena`, shared memory its workers inherit: a call lends a scenario a region of
it, each worker writes its chunks' sorted decision months there, and only a few kilobytes of counts and sums go
back through the executor's pipe (where, on two busy cores, a chunk's 8 bytes a replicate waited for the caller to
be scheduled to read them: 1.072 of a binary 10^6 run's time with two new workers, ten fresh-process pairs).

A chunk's design goes to the workers as a :class:`Shipped` value: pickled once per call, and unpickled once per
worker and design (a worker forked after the call began finds it without unpickling), so that the values a
worker derives from a design (its decision bounds, the sufficient statistics' tables, kept by
:func:`condapprove._memo.per_object`) are computed once, not for every chunk's fresh copy.

Workers are forked, so they see the modules as they were when the pool started: code patched later in the caller
(a test's ``monkeypatch``) does not reach them until :func:`shutdown_workers` lets the next call start afresh.
Their results never depend on which worker simulated what, or on the state a worker kept from an earlier call:
every chunk is drawn from its own streams.
"""

from __future__ import annotations

import itertools
import mmap
import os
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._alloc import keep_freed_memory

__all__ = ["Arena", "Shipped", "Workers", "arena_view", "kept_workers", "release", "ship", "shutdown_workers",
           "worker_pool"]

#: Bytes of each pool's arena: the sorted months of 8 million replicates in flight (only pages written take memory).
ARENA_BYTES = 64 << 20


class Arena:
    """Shared memory lent to a call's scenarios for their sorted decision months, written by the workers that
    inherited it (an anonymous shared mapping made before they are forked).  Regions are lent first-fit on 64-byte
    boundaries and given back after the call; a call that finds no room sends its months through the pipe."""

    _ids = itertools.count(1)

    def __init__(self, nbytes: int = ARENA_BYTES) -> None:
        self.key = (os.getpid(), next(Arena._ids))
        self.nbytes = nbytes
        self._buf = mmap.mmap(-1, nbytes)
        self._lock = threading.Lock()
        self._lent: dict[int, int] = {}  # offset -> bytes

    def lend(self, n: int) -> int | None:
        """The byte offset of a region of ``n`` float64 lent to the caller, or None when there is no room."""
        need = max(-(-n * 8 // 64) * 64, 64)
        with self._lock:
            at = 0
            for offset, size in sorted(self._lent.items()):
                if offset - at >= need:
                    break
                at = offset + size
            if at + need > self.nbytes:
                return None
            self._lent[at] = need
            return at

    def give_back(self, offset: int) -> None:
        """Give back the region lent at ``offset``."""
        with self._lock:
            del self._lent[offset]

    def view(self, offset: int, n: int) -> np.ndarray:
        """``n`` float64 of the arena from byte ``offset`` (shared with the workers)."""
        return np.frombuffer(self._buf, dtype=np.float64, count=n, offset=offset)


#: The arenas made in this process (or inherited from the process that forked it), by key.
_ARENAS: dict[tuple[int, int], Arena] = {}


def arena_view(key: tuple[int, int], offset: int, n: int) -> np.ndarray | None:
    """In a worker: ``n`` float64 at byte ``offset`` of the arena ``key`` if this process has it (it was forked
    after the arena was made), else None (a worker of another executor: the caller gets the months by pipe)."""
    arena = _ARENAS.get(key)
    return None if arena is None else arena.view(offset, n)


@dataclass(eq=False)
class Workers:
    """A pool of worker processes and the arena they share with the process that started them; ``users``: the calls
    using it now (:func:`worker_pool` to :func:`release`); ``retired``: replaced as the pool kept, to be shut down
    when its last user releases it."""

    pool: ProcessPoolExecutor
    arena: Arena
    users: int = 0
    retired: bool = False


_LOCK = threading.Lock()
#: The pool kept: the process that started it, its number of workers, the pool and its arena.
_POOL: tuple[int, int, Workers] | None = None


def _broken(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker of ``pool`` died (the executor then refuses new work)."""
    return bool(getattr(pool, "_broken", False))


def _unusable(pool: ProcessPoolExecutor) -> bool:
    """Whether ``pool`` refuses new work: a worker died, or it was shut down."""
    return _broken(pool) or bool(getattr(pool, "_shutdown_thread", False))


def _retire(workers: Workers) -> bool:
    """(Holding the lock.) ``workers`` is no longer the pool kept: its last user shuts it down when it releases it
    (:func:`release`); returns whether no call uses it now, so that the caller shuts it down itself."""
    workers.retired = True
    _ARENAS.pop(workers.arena.key, None)  # (its workers have it; a new pool's would not need it)
    return workers.users == 0


def worker_pool(n_jobs: int) -> Workers:
    """This process's pool of ``n_jobs`` worker processes, with its arena, for one call (give it back with
    :func:`release`): the one kept from an earlier call when it has as many workers and takes work (no worker
    died, it was not shut down), else a new one, kept in its place.  A pool replaced while other calls (threads)
    use it goes on until they release it, so a call never finds its pool shut down by another.  The arena is
    made before the pool forks its workers (at its first task), so they inherit it."""
    global _POOL
    with _LOCK:
        if _POOL is not None:
            pid, n, old = _POOL
            if pid != os.getpid():  # inherited by a fork: the pool's threads are not in this process
                _POOL = None
            elif n != n_jobs or _unusable(old.pool):
                # shut down now if no call uses it, or if a worker died (its users then get BrokenProcessPool and
                # move on)
                if _retire(old) or _broken(old.pool):
                    old.pool.shutdown(wait=False, cancel_futures=_broken(old.pool))
                _POOL = None
        if _POOL is None:
            arena = Arena()
            _ARENAS[arena.key] = arena
            pool = ProcessPoolExecutor(max_workers=n_jobs, initializer=keep_freed_memory)
            _POOL = (os.getpid(), n_jobs, Workers(pool, arena))
        workers = _POOL[2]
        workers.users += 1
        return workers


def release(workers: Workers) -> None:
    """A call is done with ``workers`` (from :func:`worker_pool`): a pool replaced meanwhile is shut down once its
    last user has released it."""
    with _LOCK:
        workers.users -= 1
        if workers.retired and workers.users == 0:
            workers.pool.shutdown(wait=False)


def shutdown_workers(wait: bool = True) -> None:
    """End the worker processes :func:`~condapprove.simulate` keeps for its next call with ``n_jobs > 1`` (they
    hold a chunk's working set each, a few tens of MiB); the next such call starts new ones.  Calls using them at
    the time (other threads) finish first, and the workers end then.  Does nothing when there are none.

    Examples
    --------
    >>> import condapprove
    >>> design = condapprove.load_design("designs/two_arm_trial.yaml")
    >>> res = condapprove.simulate(design, replicates=8192, seed=1, chunk_size=2048, n_jobs=2)
    >>> condapprove.shutdown_workers()
    """
    global _POOL
    with _LOCK:
        kept, _POOL = _POOL, None
        if kept is None:
            return
        workers = kept[2]
        now = _retire(workers) and kept[0] == os.getpid()  # (else a call still using it does: release)
    if now:
        workers.pool.shutdown(wait=wait)


def kept_workers() -> Workers | None:
    """The pool kept for the next call, if any (without taking it for a call)."""
    with _LOCK:
        return _POOL[2] if _POOL is not None and _POOL[0] == os.getpid() else None


#: Values shipped to workers (see :class:`Shipped`), by key, in this process: made here by :func:`ship` (so that
#: workers forked later have them) or received; cleared when :data:`MAX_SHIPPED` are kept.
_SHIPPED: dict[str, Any] = {}
#: Values kept in :data:`_SHIPPED` before it is cleared.
MAX_SHIPPED = 16


def _keep(key: str, value: Any) -> None:
    if len(_SHIPPED) >= MAX_SHIPPED and key not in _SHIPPED:
        _SHIPPED.clear()  # (atomic: threads may share it)
    _SHIPPED[key] = value


class Shipped:
    """An immutable value (a design) sent with each of a call's tasks, identified by ``key`` (a hash of its content:
    values with the same key must be interchangeable).  Pickled, it is its key and its pickle (made once per call); a
    process that already has a value under that key (it received it before, or was forked from the process that
    shipped it) takes that one instead of unpickling another copy, so the value is the same object from one task to
    the next.

    Examples
    --------
    >>> import pickle
    >>> value = ("a design", 1.5)
    >>> got = pickle.loads(pickle.dumps(ship("key-1", value)))
    >>> got.value is value  # in the process that shipped it: the value itself
    True
    """

    __slots__ = ("_blob", "key", "value")

    def __init__(self, key: str, value: Any) -> None:
        self.key, self.value = key, value
        self._blob: bytes | None = None  # its pickle, made when it is first pickled

    def __reduce__(self) -> tuple[Any, tuple[str, bytes]]:
        if self._blob is None:  # (two threads pickling at once would make the same bytes)
            self._blob = pickle.dumps(self.value, protocol=pickle.HIGHEST_PROTOCOL)
        return _received, (self.key, self._blob)


def ship(key: str, value: Any) -> Shipped:
    """``value`` ready to be sent to workers under ``key`` (kept in this process, so that workers forked from it
    later have it)."""
    _keep(key, value)
    return Shipped(key, value)


def _received(key: str, blob: bytes) -> Shipped:
    """Unpickling a :class:`Shipped`: the value this process keeps under ``key``, else ``blob`` unpickled and kept."""
    value = _SHIPPED.get(key)
    if value is None:
        value = pickle.loads(blob)  # (our own pickle, from the process that started this worker)
        _keep(key, value)
    return Shipped(key, value)
