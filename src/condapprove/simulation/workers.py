"""The processes of :func:`~condapprove.simulate` with ``n_jobs > 1``: the calling process and ``n_jobs - 1``
worker processes forked from it (a :class:`Pool`), kept from one call to the next.

Every process of the pool simulates: the workers and the caller claim a call's chunks in order from a counter they
share, the workers send their results back through pipes of their own, and the caller, which needs the results in
order, simulates the next unclaimed chunk whenever the one it needs is not in yet (:meth:`Run.result`).  Until the
twenty-eighth round of docs/performance.md the pool was a ``concurrent.futures.ProcessPoolExecutor`` of
``n_jobs`` workers beside an idle caller; its first submit forked every worker before any began (13-17 ms into a
call), and a thread of the caller, which had to be scheduled on cores the workers kept busy, fed them their chunks
one at a time (a median 0.6 ms between two chunks of a worker).  Here the worker begins 8-11 ms into a call, the caller
as soon as the fork returns, and 0.2 ms pass between two chunks; binary runs of 10^6 replicates with a new pool of
two took 0.85 of the time (ten fresh-process pairs; docs/performance.md, item 81).

Starting workers still costs a run twice: forking them (3-5 ms each for a process that has loaded numba and scipy)
and the page faults that follow in both processes, since every page of the caller's heap is then shared with the
worker (binary 10^6 with a new worker: 4,900-5,100 faults in the caller and 4,400-4,500 in the worker, against 3-6
for a call of one process; about 2 us each here, docs/performance.md, twenty-ninth round).  A worker gives back at
its start the free memory it inherited (:func:`condapprove._alloc.discard_freed_memory`), so that neither process
copies those pages: the caller's first chunk of a binary 10^6 call then took 6.4 ms instead of 10.5, the worker's
8.8 instead of 10.9 (docs/performance.md, item 118).  For one run of 10^6 replicates the start is still several
percent;
for the runs of 10^5 replicates of a design sweep (``condapprove.explore.compare``, a notebook loop) it made
``n_jobs=2`` slower than one process.  So the pool a call starts is kept, idle, for the next call with the same
``n_jobs`` (as joblib keeps its workers); it is replaced when ``n_jobs`` changes, when a worker has died, when it was
shut down, and in a process forked from the one that started it.  The workers end with the interpreter, or earlier
with :func:`shutdown_workers`.  Threads may simulate at the same time: their calls take turns on the pool kept; one
that asks for another ``n_jobs`` replaces it as the pool kept, and the old one is shut down when the calls using it
are done.  A call made inside another on the same thread (from its progress callback) runs in the calling process.
Where processes cannot be forked (Windows: :func:`can_fork`), each call starts a
``concurrent.futures.ProcessPoolExecutor`` of ``n_jobs`` workers for itself instead.

Each pool comes with an :class:`Arena`, shared memory its workers inherit: a call lends a scenario a region of
it, each process writes its chunks' sorted decision months there, and only a few kilobytes of counts and sums go
back through a worker's pipe (where, on two busy cores, a chunk's 8 bytes a replicate waited for the caller to
be scheduled to read them: 1.072 of a binary 10^6 run's time with two new workers, ten fresh-process pairs).

A chunk's design goes to the workers as a :class:`Shipped` value: pickled once per call, and unpickled once per
worker and design (a worker forked during the call inherits it), so that the values a worker derives from a design
(its decision bounds, the sufficient statistics' tables, kept by :func:`condapprove._memo.per_object`) are computed
once, not for every chunk's fresh copy.

Workers are forked, so they see the modules as they were when the pool started: code patched later in the caller
(a test's ``monkeypatch``) does not reach them until :func:`shutdown_workers` lets the next call start afresh.
Their results never depend on which process simulated what, or on the state a worker kept from an earlier call:
every chunk is drawn from its own streams.
"""

from __future__ import annotations

import ctypes
import itertools
import mmap
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

try:
    import fcntl
except ImportError:  # (Windows, where no pool is forked)
    fcntl = None  # type: ignore[assignment]

from .._alloc import discard_freed_memory, keep_freed_memory

__all__ = ["Arena", "BrokenWorkers", "Pool", "Run", "Shipped", "Workers", "arena_view", "can_fork", "in_call",
           "kept_workers", "release", "ship", "shutdown_workers", "worker_pool"]

#: Bytes of each pool's arena: the decision months of 8 million replicates in flight (only pages written take memory).
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


class BrokenWorkers(RuntimeError):
    """A worker of a :class:`Pool` died (killed, out of memory): the pool takes no more work."""


class _RemoteTraceback(Exception):
    """The traceback of an error raised in a worker (the ``__cause__`` of the error re-raised in the caller)."""


#: The caller's ends of the pipes of every pool made in this process (a worker forked later closes its copies, so
#: that a pool's workers see the end of their task pipe when the caller closes it, or exits).
_PARENT_ENDS: set[Connection] = set()
#: Held by a thread from making a worker's pipes until it has forked the worker and closed the worker's ends, and
#: while a pool closes its ends: a worker forked by another thread in between would keep them open, unknown to it
#: (the caller's ends not yet in :data:`_PARENT_ENDS`, or out of it and not yet closed; the worker's ends and those
#: of its ``Process`` not yet closed), so that a worker blocked sending a result no one reads would never fail, nor
#: the death of a worker be seen.
_FORKING = threading.Lock()


def _close_ends(conns: list[Connection]) -> None:
    """(Holding :data:`_FORKING`.) Close the caller's ends ``conns``, taking them out of :data:`_PARENT_ENDS`."""
    for conn in conns:
        _PARENT_ENDS.discard(conn)
        conn.close()


# the shared control words of a pool: the current call's number, the next task to claim, whether it was cancelled
_GENERATION, _NEXT, _CANCELLED = 0, 1, 2
#: The task number of a worker's message that it has claimed the last task of a call it can (it then waits for the
#: next call's).
_IDLE = -1


class Pool:
    """``n`` processes simulating one call's chunks at a time: the calling process and ``n - 1`` worker processes
    forked from it.

    A call (:meth:`start`) gives the pool a function and the argument tuples of its tasks.  Every process takes the
    tasks in order, claiming the next one from a counter they share (in a shared mapping of the pool's own, under a
    lock); the workers send each result back through a pipe of their own, and the calling process, asked for the
    results in order (:meth:`Run.result`), simulates the next unclaimed task itself whenever the one it needs is not
    in yet.  So no thread of the caller sits between it and the workers, and the caller does its share of the work
    instead of waiting (``concurrent.futures.ProcessPoolExecutor`` has a thread in the caller that forks every
    worker, queues the tasks one or two ahead and reads the results: on two busy cores it waits to be scheduled, and
    its workers with it; docs/performance.md, twenty-eighth round).

    The workers are forked at the first call, one after the other, and each begins on that call's tasks at once
    (it inherits them: nothing is pickled); later calls send their function and tasks to every worker through its
    task pipe, pickled once.  A call takes no more workers than it has tasks beside one (a call of one task none:
    this process simulates it; a later call with more tasks forks the others).  One call runs at a time (others
    wait for it); :meth:`Run.cancel` stops the workers from claiming more of a call's tasks (the results of the ones
    they were running are dropped).  A worker that
    dies breaks the pool: the call gets :class:`BrokenWorkers`, and so does any later call.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._ctx = multiprocessing.get_context("fork")
        # (in a shared mapping of its own, not multiprocessing's shared heap: the heap gives a freed block to the
        # next array, and a worker of a pool shut down without waiting, on its way to one more look at its counter,
        # would then claim a task of the next pool's call and send its result to a pipe no one reads)
        self._control = (ctypes.c_int64 * 3).from_buffer(mmap.mmap(-1, 3 * 8))
        self._claim = self._ctx.Lock()
        self._call = threading.Lock()  # one call at a time
        self._procs: list[Any] = []
        self._tasks: list[Connection] = []
        self._results: list[Connection] = []
        self._busy: list[bool] = []  # whether each worker may still be on a call's tasks (until it says it is not)
        self.closed = False

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (none before the first call)."""
        return [p.pid for p in self._procs]

    def broken(self) -> bool:
        """Whether a worker has died."""
        return any(p.exitcode is not None for p in self._procs)

    def usable(self) -> bool:
        """Whether the pool takes work: not shut down, and no worker died."""
        return not self.closed and not self.broken()

    def start(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Run:
        """Start ``fn(*args)`` for each tuple of ``tasks`` on the workers; the :class:`Run` gives the results
        back in order, simulating tasks in this process meanwhile (close it when done: another thread's call waits
        for that; a call of this thread's inside it is refused, see :func:`in_call`).  Raises
        :class:`BrokenWorkers` when a worker died, :class:`RuntimeError` after :meth:`shutdown`."""
        if in_call():
            raise RuntimeError("this thread is already running a call on a worker pool")
        self._call.acquire()
        _CALLER.open = True
        try:
            if self.closed:
                raise RuntimeError("the worker pool was shut down")
            if self.broken():
                raise BrokenWorkers("a worker process of the pool died")
            with self._claim:
                generation = self._control[_GENERATION] + 1
                self._control[_GENERATION], self._control[_NEXT], self._control[_CANCELLED] = generation, 0, 0
            job = (generation, fn, list(tasks))
            # no more workers on the call than it has tasks beside the one this process takes first (none for a
            # call of one task; a later call with more tasks forks the others)
            want = min(self.n - 1, len(job[2]) - 1)
            if want > 0 and self._procs:
                blob = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
                try:
                    for w in range(min(want, len(self._procs))):
                        self._wait_idle(w)  # (so that it reads this job: it is not blocked sending a result)
                        self._tasks[w].send_bytes(blob)
                        self._busy[w] = True
                except OSError as e:  # a worker's end is closed: it died
                    raise BrokenWorkers("a worker process of the pool died") from e
            self._fork(job, want - len(self._procs))
            return Run(self, job)
        except BaseException:
            _CALLER.open = False
            self._call.release()
            raise

    def _fork(self, job: tuple[int, Callable[..., Any], list[tuple[Any, ...]]], count: int) -> None:
        """Fork ``count`` more workers (none when ``count`` is 0 or less), each beginning on ``job`` at once."""
        for _ in range(count):
            with _FORKING:  # (a worker forked meanwhile by another thread would keep this one's ends open)
                task_r, task_w = self._ctx.Pipe(duplex=False)
                result_r, result_w = self._ctx.Pipe(duplex=False)
                _widen(result_w)
                _PARENT_ENDS.update((task_w, result_r))  # (before the fork: the worker closes its copies)
                proc = self._ctx.Process(target=_serve, args=(task_r, result_w, self._control, self._claim, job),
                                         daemon=True, name="condapprove-worker")
                proc.start()  # (it begins on the job at once)
                task_r.close()
                result_w.close()
            self._procs.append(proc)
            self._tasks.append(task_w)
            self._results.append(result_r)
            self._busy.append(True)

    def _wait_idle(self, w: int) -> None:
        """Read worker ``w``'s results (those of a cancelled call: dropped) until it says it has no task left."""
        while self._busy[w]:
            try:
                _, i, _, _ = pickle.loads(self._results[w].recv_bytes())  # (an earlier call's: dropped)
            except (EOFError, OSError) as e:
                raise BrokenWorkers("a worker process of the pool died") from e
            self._busy[w] = i != _IDLE

    def shutdown(self, wait: bool = True) -> None:
        """End the workers once they are done with the chunk they are running; ``wait``: until they have exited."""
        if self.closed:
            return
        self.closed = True
        with _FORKING:  # (first: a worker sending a result then gets an error, and ends)
            _close_ends(self._results)
        for conn in self._tasks:
            try:
                conn.send_bytes(pickle.dumps(None))
            except OSError:
                pass
        with _FORKING:
            _close_ends(self._tasks)
        procs = list(self._procs)
        if wait:
            for p in procs:
                p.join()
        else:  # reaped in the background (a worker may still finish a chunk of a cancelled call)
            threading.Thread(target=lambda: [p.join() for p in procs], daemon=True).start()


#: Bytes a worker's result pipe holds (Linux; elsewhere the system's size).  A chunk whose decision months do not fit
#: the arena sends them through the pipe (8 bytes a replicate: 131,072 for 8 blocks), which at Linux's default of
#: 64 KiB made the worker wait, at every chunk, for this process to come back from simulating a chunk of its own
#: to read it (binary, 10^7 replicates with two processes: 2.3 ms of 6 per worker chunk).
RESULT_PIPE_BYTES = 1 << 20


def _widen(conn: Connection) -> None:
    """Make ``conn``'s pipe hold :data:`RESULT_PIPE_BYTES` where the system allows it (Linux's ``F_SETPIPE_SZ``, up
    to ``/proc/sys/fs/pipe-max-size``); elsewhere, or when refused (a user over its pipe pages), leave it."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)  # (None without fcntl, on Windows)
    if setsize is None:
        return
    try:
        fcntl.fcntl(conn.fileno(), setsize, RESULT_PIPE_BYTES)
    except OSError:
        pass


class Run:
    """One call's tasks on a :class:`Pool` (:meth:`Pool.start`): their results in order (:meth:`result`),
    :meth:`cancel`, :meth:`close`."""

    def __init__(self, pool: Pool, job: tuple[int, Callable[..., Any], list[tuple[Any, ...]]]) -> None:
        self._pool = pool
        self._generation, self._fn, self._args = job
        self.count = len(self._args)
        self._got: dict[int, tuple[bool, Any]] = {}
        self._open = True
        # (the pool's workers do not change during a call)
        self._sentinels = {p.sentinel: p for p in pool._procs}
        self._worker = {conn: w for w, conn in enumerate(pool._results)}

    def result(self, k: int) -> Any:
        """The result of task ``k``: received from a worker, or simulated here (this process simulates the next
        unclaimed task while ``k`` is not in, and waits only when none is left).  Re-raises the task's error, or
        :class:`BrokenWorkers` when a worker died."""
        while k not in self._got:
            self._receive(block=False)
            if k in self._got:
                break
            i = _claim_next(self._pool._control, self._pool._claim, self._generation, self.count)
            if i is not None:
                self._got[i] = (True, self._fn(*self._args[i]))  # (an error here propagates as itself)
            elif not any(self._pool._busy):  # (every worker done with the call, and k not in: it was cancelled)
                raise RuntimeError(f"task {k} of the call was cancelled")
            else:
                self._receive(block=True)
        ok, value = self._got.pop(k)
        if not ok:
            error, text = value
            raise error from _RemoteTraceback(text)
        return value

    def _receive(self, block: bool) -> None:
        """Read the workers' results that are in (``block``: waiting for one at least)."""
        pool = self._pool
        ready = wait([*pool._results, *self._sentinels], timeout=None if block else 0)
        for conn in ready:
            if isinstance(conn, int):  # a worker ended: died (its results already sent are read first)
                if not any(c.poll() for c in pool._results):
                    raise BrokenWorkers(f"a worker process died (exit code {self._sentinels[conn].exitcode})")
                continue
            assert isinstance(conn, Connection)
            try:
                generation, i, ok, value = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError) as e:
                raise BrokenWorkers("a worker process died") from e
            if i == _IDLE:
                pool._busy[self._worker[conn]] = False
            elif generation == self._generation:  # (else a late result of a cancelled call)
                self._got[i] = (ok, value)

    def cancel(self) -> None:
        """Let the workers claim no more of this call's tasks."""
        with self._pool._claim:
            if self._pool._control[_GENERATION] == self._generation:
                self._pool._control[_CANCELLED] = 1

    def close(self) -> None:
        """Done with the call (its tasks not claimed yet are cancelled): the pool takes the next."""
        if self._open:
            self._open = False
            self.cancel()
            _CALLER.open = False
            self._pool._call.release()


def can_fork() -> bool:
    """Whether this platform forks processes (not Windows), which a :class:`Pool`'s workers need: they inherit the
    calling process's state (its loaded kernels, the call's chunks, the arena)."""
    return "fork" in multiprocessing.get_all_start_methods()


#: Whether this thread has a call open on a pool (:meth:`Pool.start` to :meth:`Run.close`).
_CALLER = threading.local()


def in_call() -> bool:
    """Whether this thread is running a call on a worker pool (a progress callback, say, calling
    :func:`~condapprove.simulate` again): such a call runs in this process, since the pool would wait for the call
    that waits for it."""
    return bool(getattr(_CALLER, "open", False))


def _claim_next(control: Any, claim: Any, generation: int, count: int) -> int | None:
    """Claim the next task of call ``generation`` (of ``count``) from a pool's shared counter, or None when none is
    left (or the call was cancelled, or another began)."""
    with claim:
        i = int(control[_NEXT])
        if control[_GENERATION] != generation or control[_CANCELLED] or i >= count:
            return None
        control[_NEXT] = i + 1
        return i


def _serve(tasks: Connection, results: Connection, control: Any, claim: Any,
           job: tuple[int, Callable[..., Any], list[tuple[Any, ...]]] | None) -> None:
    """A worker's life: ``job`` (its first call's, inherited), then each call's job from its task pipe, until the
    pool shuts down (None) or the caller's end is closed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle (it cancels the call)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (the command's own handler, inherited, is the caller's)
    keep_freed_memory()
    discard_freed_memory()  # (the free memory inherited, shared with the caller: see condapprove._alloc)
    for conn in list(_PARENT_ENDS):  # (the caller's ends of this pool's and other pools' pipes, inherited)
        conn.close()
    _PARENT_ENDS.clear()
    while True:
        if job is None:
            try:
                job = pickle.loads(tasks.recv_bytes())
            except (EOFError, OSError):
                return
            if job is None:
                return
        generation, fn, args = job
        job = None
        while (i := _claim_next(control, claim, generation, len(args))) is not None:
            try:
                out: tuple[int, int, bool, Any] = (generation, i, True, fn(*args[i]))
            except BaseException as e:  # noqa: BLE001 - sent to the caller, which raises it
                out = (generation, i, False, (e, "".join(traceback.format_exception(e))))
            try:
                blob = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # noqa: BLE001 - an error or a result that does not pickle
                error = RuntimeError(f"a worker's result did not pickle: {e!r}")
                blob = pickle.dumps((generation, i, False, (error, "")))
            try:
                results.send_bytes(blob)
            except OSError:  # the caller closed its end (the pool was shut down)
                return
        try:
            results.send_bytes(pickle.dumps((generation, _IDLE, True, None)))
        except OSError:
            return


@dataclass(eq=False)
class Workers:
    """A pool of worker processes and the arena they share with the process that started them; ``users``: the calls
    using it now (:func:`worker_pool` to :func:`release`); ``retired``: replaced as the pool kept, to be shut down
    when its last user releases it."""

    pool: Pool
    arena: Arena
    users: int = 0
    retired: bool = False


_LOCK = threading.Lock()
#: The pool kept: its number of workers, the pool and its arena.
_POOL: tuple[int, Workers] | None = None


def _after_fork_in_child() -> None:
    """(In a forked process: a worker, or any process forked from one that used a pool.)  No pool kept, since the
    parent's workers are not this process's children (the inherited one is left alone), and this module's locks
    its own and free: the process may have been forked while a thread of its parent held one (a worker always is,
    while its caller holds :data:`_FORKING`), and a pool made here would have waited for it for ever."""
    global _FORKING, _LOCK, _POOL
    _FORKING, _LOCK, _POOL = threading.Lock(), threading.Lock(), None


if hasattr(os, "register_at_fork"):  # (not on Windows, where nothing is forked)
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _retire(workers: Workers) -> bool:
    """(Holding the lock.) ``workers`` is no longer the pool kept: its last user shuts it down when it releases it
    (:func:`release`); returns whether no call uses it now, so that the caller shuts it down itself."""
    workers.retired = True
    _ARENAS.pop(workers.arena.key, None)  # (its workers have it; a new pool's would not need it)
    return workers.users == 0


def worker_pool(n_jobs: int) -> Workers:
    """This process's pool of ``n_jobs`` processes (itself and ``n_jobs - 1`` workers), with its arena, for one call (give it back with
    :func:`release`): the one kept from an earlier call when it has as many workers and takes work (no worker
    died, it was not shut down), else a new one, kept in its place.  A pool replaced while other calls (threads)
    use it goes on until they release it, so a call never finds its pool shut down by another.  The arena is
    made before the pool forks its workers (at its first call), so they inherit it."""
    global _POOL
    with _LOCK:
        if _POOL is not None:
            n, old = _POOL
            if n != n_jobs or not old.pool.usable():
                # shut down now if no call uses it (else its last user does, in release)
                if _retire(old):
                    old.pool.shutdown(wait=False)
                _POOL = None
        if _POOL is None:
            arena = Arena()
            _ARENAS[arena.key] = arena
            pool = Pool(n_jobs)
            _POOL = (n_jobs, Workers(pool, arena))
        workers = _POOL[1]
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
        workers = kept[1]
        now = _retire(workers)  # (else a call still using it does: release)
    if now:
        workers.pool.shutdown(wait=wait)


def kept_workers() -> Workers | None:
    """The pool kept for the next call, if any (without taking it for a call)."""
    with _LOCK:
        return None if _POOL is None else _POOL[1]


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
