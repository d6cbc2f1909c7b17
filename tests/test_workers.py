"""The worker processes of ``simulate(n_jobs > 1)``, kept from one call to the next (`condapprove.simulation.workers`):
``n_jobs - 1`` of them beside the calling process, reused while ``n_jobs`` stays the same, replaced when it changes or
a worker died, never the source of a different result."""

from __future__ import annotations

import os
import pathlib
import pickle
import signal
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import condapprove
from condapprove import _alloc
from condapprove.simulation import workers

from .conftest import DESIGNS

DESIGN = DESIGNS / "two_arm_trial.yaml"


def _pids(pool: Any) -> set[int]:
    return set(pool.pids)


def _kept() -> workers.Workers:
    kept = workers.kept_workers()
    assert kept is not None
    return kept


def _run(n_jobs: int, **kw: Any) -> Any:
    design = condapprove.load_design(DESIGN)
    return condapprove.simulate(design, replicates=8192, seed=5, chunk_size=2048, scenarios=["as hoped"],
                                n_jobs=n_jobs, **kw)


def _gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether process ``pid`` has exited (and been reaped) within ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def test_workers_are_kept_for_the_next_call_with_as_many() -> None:
    serial = _run(1)
    first = _run(2)
    pool = _kept().pool
    pids = _pids(pool)
    assert len(pids) == 1  # (beside this process)
    second = _run(2)
    assert _kept().pool is pool and _pids(pool) == pids  # the same processes
    assert _kept().users == 0  # no call holds it
    assert first.scenarios == second.scenarios == serial.scenarios


def test_another_number_of_workers_replaces_them() -> None:
    _run(2)
    old = _kept().pool
    old_pids = _pids(old)
    res = _run(3)
    new = _kept().pool
    assert new is not old and len(_pids(new)) == 2
    assert all(_gone(p) for p in old_pids)  # the old workers exit once their work is done
    assert res.scenarios == _run(1).scenarios


def test_a_worker_killed_between_calls_is_replaced() -> None:
    serial = _run(1)
    _run(2)
    pool = _kept().pool
    victim = min(_pids(pool))
    os.kill(victim, signal.SIGKILL)
    end = time.monotonic() + 10
    while not pool.broken() and time.monotonic() < end:  # (which reaps it)
        time.sleep(0.02)
    assert pool.broken() and not pool.usable() and _gone(victim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # noticed at the submit or at a result: either is fine
        res = _run(2)
    assert res.scenarios == serial.scenarios
    assert _kept().pool is not pool


def test_an_interrupted_call_leaves_no_work_queued_for_the_next() -> None:
    serial = _run(1)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        design = condapprove.load_design(DESIGN)
        condapprove.simulate(design, replicates=2048 * 40, seed=5, chunk_size=2048, n_jobs=2, progress=stop)
    pool = _kept().pool
    # of the 40 chunks, the processes had claimed a few when the call was interrupted (this process had simulated the
    # first), and the worker claims no more: it would have claimed all 40 in this time
    claimed = pool._control[1]
    time.sleep(0.5)
    assert pool._control[1] == claimed < 40
    assert _run(2).scenarios == serial.scenarios


def test_shutdown_workers_ends_them() -> None:
    _run(2)
    pids = _pids(_kept().pool)
    condapprove.shutdown_workers()
    assert all(_gone(p) for p in pids)
    assert workers._POOL is None
    condapprove.shutdown_workers()  # nothing to end: nothing happens


def _in_a_forked_child(kept: workers.Workers) -> None:
    """In a process forked while ``kept`` is the pool kept, with the module's locks held: exit 0 if no pool is kept
    here and the locks are free, so that a call makes a pool of its own (the parent's workers are not this
    process's children), leaving the inherited one alone."""
    ok = (workers.kept_workers() is None and not workers._LOCK.locked() and not workers._FORKING.locked()
          and not kept.pool.closed)
    fresh = workers.worker_pool(2)
    ok = ok and fresh is not kept
    workers.release(fresh)
    os._exit(0 if ok else 1)


def test_a_process_forked_from_one_with_a_pool_makes_its_own() -> None:
    """A process forked from one that keeps a pool, while a thread of it holds the module's locks (a worker is
    always forked so), keeps no pool and finds the locks free."""
    import multiprocessing

    _run(2)
    kept = _kept()
    with workers._LOCK, workers._FORKING:
        child = multiprocessing.get_context("fork").Process(target=_in_a_forked_child, args=(kept,), daemon=True)
        child.start()
    child.join(20)
    if child.exitcode is None:  # (waiting for a lock it inherited held)
        child.kill()
    assert child.exitcode == 0
    assert _kept() is kept and not kept.pool.closed


def test_a_pool_in_use_is_shut_down_only_when_its_last_call_is_done() -> None:
    """A call (another thread's) that asks for another number of workers keeps a new pool in place of the one a
    running call uses; that one still takes work, and is shut down when its call releases it."""
    a = workers.worker_pool(2)  # a call running with two processes
    b = workers.worker_pool(3)  # another thread's call, with three
    assert _kept() is b and a.retired and not a.pool.closed
    run = a.pool.start(pow, [(2, 10), (3, 4), (5, 2)])  # still takes work
    try:
        assert [run.result(k) for k in range(3)] == [1024, 81, 25]
    finally:
        run.close()
    workers.release(b)
    assert not a.pool.closed
    workers.release(a)
    assert a.pool.closed  # by its last user
    assert not b.pool.closed and b.users == 0  # kept for the next call


def test_the_workers_write_the_months_into_the_arena(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each scenario's decision months are lent a region of the pool's arena, which the processes write (what a worker
    sends back has no months); the regions are given back after the call.  Without room in the arena the months come
    with the chunks' summaries: the same results."""
    from condapprove.simulation.summary import ChunkSummary, Running

    serial = _run(1)
    into: list[Any] = []
    piped: list[bool] = []
    start, add = workers.Pool.start, Running.add_summary

    def spy_start(self: Any, fn: Any, tasks: Any) -> Any:
        into.extend(t[1] for t in tasks)
        return start(self, fn, tasks)

    def spy_add(self: Any, part: ChunkSummary, rows: int) -> None:
        piped.append(part.months is not None)
        add(self, part, rows)

    monkeypatch.setattr(workers.Pool, "start", spy_start)
    monkeypatch.setattr(Running, "add_summary", spy_add)
    in_arena = _run(2)
    arena = _kept().arena
    assert in_arena.scenarios == serial.scenarios
    assert len(into) == 4 and all(x is not None and x[0] == arena.key for x in into)
    assert piped.count(False) == 4  # every chunk (this process's and the worker's) wrote its months into the arena
    assert arena._lent == {}  # given back
    into.clear()
    piped.clear()
    monkeypatch.setattr(arena, "lend", lambda n: None)  # no room
    by_pipe = _run(2)
    assert by_pipe.scenarios == serial.scenarios
    assert len(into) == 4 and all(x is None for x in into)
    assert piped.count(True) == 4


def test_arena_regions_are_lent_first_fit_and_given_back() -> None:
    arena = workers.Arena(1024)
    a, b, c = arena.lend(8), arena.lend(1), arena.lend(16)  # 64, 64 and 128 bytes
    assert (a, b, c) == (0, 64, 128)
    assert arena.lend(100) is None  # 800 bytes: no room left after 256
    arena.give_back(b)
    assert arena.lend(5) == 64  # the hole
    assert arena.lend(96) == 256 and arena.lend(1) is None
    v = arena.view(128, 16)
    v[:] = 7.0
    assert arena.view(128, 16).sum() == 112.0


def test_a_run_to_a_precision_target_and_a_checkpointed_run_with_kept_workers(tmp_path: Any) -> None:
    """Runs that simulate in several rounds (``mcse_target``: each round lends the arena new regions, all given back
    at the end) and runs that keep their rows for a checkpoint (rows through the pipe, no arena) give the serial
    results with kept workers, twice in a row."""
    design = condapprove.load_design(DESIGN)
    kw: dict[str, Any] = {"replicates": 2048, "seed": 3, "chunk_size": 2048, "scenarios": ["as hoped"]}
    serial = condapprove.simulate(design, mcse_target=0.006, **kw)
    assert serial.scenarios[0].p_confirmed.n_sims > 2048  # several rounds
    for _ in range(2):
        assert condapprove.simulate(design, mcse_target=0.006, n_jobs=2, **kw).scenarios == serial.scenarios
        assert _kept().arena._lent == {}
    plain = condapprove.simulate(design, **{**kw, "replicates": 8192})
    for i in range(2):
        saved = condapprove.simulate(design, n_jobs=2, checkpoint=tmp_path / f"ckpt{i}", **{**kw, "replicates": 8192})
        assert saved.scenarios == plain.scenarios


def test_a_kept_pool_shut_down_behind_the_callers_back_is_replaced() -> None:
    """A kept pool that no longer takes work (shut down by another thread's call that replaced it, say) is
    replaced by the next call, with the serial results."""
    serial = _run(1)
    _run(2)
    pool = _kept().pool
    pool.shutdown()
    assert _run(2).scenarios == serial.scenarios
    assert _kept().pool is not pool


def test_threads_simulating_at_once_with_different_numbers_of_workers() -> None:
    """Two threads, one asking for two workers and one for three, four calls each: they replace each other's pool,
    every call gives the serial results and none fails."""
    import threading

    serial = _run(1)
    got: list[Any] = []
    errors: list[BaseException] = []

    def work(n_jobs: int) -> None:
        for _ in range(4):
            try:
                got.append(_run(n_jobs).scenarios)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(got) == 8 and all(s == serial.scenarios for s in got)


def test_a_shipped_value_is_unpickled_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A :class:`~condapprove.simulation.workers.Shipped` value pickles as its key and its pickle; a process that has
    the key (the one that shipped it) takes its own value, one that has not unpickles it once and then keeps it."""
    monkeypatch.setattr(workers, "_SHIPPED", {})  # (this test's values kept apart from the session's)
    value = {"design": [1.5, 2.5]}
    blob = pickle.dumps(workers.ship("k", value))
    assert pickle.loads(blob).value is value  # the process that shipped it: no copy
    monkeypatch.setattr(workers, "_SHIPPED", {})  # as a worker that has not seen it
    first, second = pickle.loads(blob).value, pickle.loads(blob).value
    assert first == value and first is not value
    assert second is first  # kept from the first time
    monkeypatch.setattr(workers, "MAX_SHIPPED", 2)
    for k in ("a", "b", "c"):
        pickle.loads(pickle.dumps(workers.ship(k, k)))
    assert "c" in workers._SHIPPED and len(workers._SHIPPED) <= 2  # cleared when full


def _received_logged(log: pathlib.Path) -> Callable[[str, bytes], Any]:
    """``workers._received``, writing a line (process, key) to ``log`` whenever it unpickles a value."""
    original = workers._received

    def received(key: str, blob: bytes) -> Any:
        if key not in workers._SHIPPED:
            with log.open("a") as f:
                f.write(f"{os.getpid()} {key}\n")
        return original(key, blob)

    received.__module__, received.__qualname__ = workers.__name__, "_received"  # pickled by that name
    return received


def test_each_worker_unpickles_a_design_once_whatever_its_chunks(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: pathlib.Path) -> None:
    """The chunks' tasks carry their design as a shipped value: workers forked after the call began have it,
    kept workers unpickle a design they have not seen once each, not once per chunk (so the values they derive
    from it are computed once)."""
    condapprove.shutdown_workers()
    log = tmp_path / "unpickled.txt"
    log.touch()
    monkeypatch.setattr(workers, "_received", _received_logged(log))  # (inherited by the workers forked next)
    design = condapprove.load_design(DESIGN)
    kw: dict[str, Any] = {"replicates": 16384, "seed": 5, "chunk_size": 2048, "scenarios": ["as hoped"]}
    try:
        first = condapprove.simulate(design, n_jobs=2, **kw)
        assert log.read_text() == ""  # forked after the call shipped it
        # the same design under another key (its own seed, unused here): eight chunks of a design the workers have
        # not seen
        other = design.model_copy(update={"simulation": design.simulation.model_copy(update={"seed": 99})})
        condapprove.simulate(other, n_jobs=2, **kw)
        for _ in range(200):  # (the worker unpickles the call's tasks when it reads them: soon after they are sent)
            if log.read_text():
                break
            time.sleep(0.025)
        lines = log.read_text().split()
        assert lines[::2] == [str(pid) for pid in _kept().pool.pids]  # once, in the worker
        assert first.scenarios == condapprove.simulate(design, n_jobs=1, **kw).scenarios
    finally:
        condapprove.shutdown_workers()


def _fail_in_a_worker(design: Any, scenario_index: int, blocks: Any, *args: Any) -> Any:
    """A chunk function that raises in the worker processes (the calling process simulates as usual)."""
    from condapprove.simulation import engine

    if os.getpid() != int(os.environ["CONDAPPROVE_TEST_CALLER"]):
        raise ValueError(f"a chunk that fails in a worker (blocks {blocks[0]}-{blocks[-1]})")
    time.sleep(0.05)  # (so that the worker surely gets a chunk)
    return engine._real_run_chunk(design, scenario_index, blocks, *args)


def test_an_error_in_a_worker_propagates_with_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error raised by a worker's chunk is raised again in the calling process, as itself, with the worker's
    traceback as its cause; the pool is still usable for the next call."""
    from condapprove.simulation import engine

    serial = _run(1)
    monkeypatch.setenv("CONDAPPROVE_TEST_CALLER", str(os.getpid()))
    monkeypatch.setattr(engine, "_real_run_chunk", engine._run_chunk, raising=False)
    monkeypatch.setattr(engine, "_run_chunk", _fail_in_a_worker)
    with pytest.raises(ValueError, match=r"a chunk that fails in a worker \(blocks \d+-\d+\)") as err:
        _run(2)
    assert "_fail_in_a_worker" in str(err.value.__cause__)  # the worker's traceback
    pool = _kept().pool
    assert pool.usable()
    run = pool.start(pow, [(2, 3), (3, 3)])
    try:
        assert [run.result(0), run.result(1)] == [8, 27]
    finally:
        run.close()
    monkeypatch.setattr(engine, "_run_chunk", engine._real_run_chunk)
    condapprove.shutdown_workers()  # (its worker has the failing function: a new pool forks one without it)
    assert pool.closed
    assert _run(2).scenarios == serial.scenarios


def test_a_call_inside_a_call_runs_in_this_process() -> None:
    """A progress callback that simulates again with workers (the pool is busy with the call it reports on) runs
    that call in this process instead of waiting for the pool: no deadlock, the same results."""
    serial = _run(1)
    inner: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not inner:
            assert workers.in_call()
            inner.append(_run(2).scenarios)

    design = condapprove.load_design(DESIGN)
    outer = condapprove.simulate(design, replicates=8192, seed=5, chunk_size=2048, scenarios=["as hoped"], n_jobs=2,
                                 progress=progress)
    assert outer.scenarios == serial.scenarios and inner == [serial.scenarios]
    assert not workers.in_call()


def test_a_call_forks_no_more_workers_than_it_has_tasks_beside_one() -> None:
    """With more processes than a call's chunks, the pool forks one worker fewer than the chunks (this process takes
    a chunk too); a later call with more chunks forks the others.  The same results."""
    design = condapprove.load_design(DESIGN)
    kw: dict[str, Any] = {"seed": 5, "chunk_size": 2048, "scenarios": ["as hoped"]}
    small = condapprove.simulate(design, replicates=3 * 2048, n_jobs=5, **kw)
    pool = _kept().pool
    assert len(pool.pids) == 2
    large = condapprove.simulate(design, replicates=8 * 2048, n_jobs=5, **kw)
    assert _kept().pool is pool and len(pool.pids) == 4
    assert small.scenarios == condapprove.simulate(design, replicates=3 * 2048, **kw).scenarios
    assert large.scenarios == condapprove.simulate(design, replicates=8 * 2048, **kw).scenarios


def test_the_calling_process_simulates_chunks_beside_its_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``n_jobs=2`` the calling process and one worker share a call's chunks: each simulates some of the 40
    (the worker begins at once, and the caller claims the next chunk whenever the one it needs is not in)."""
    from condapprove.simulation import engine

    design = condapprove.load_design(DESIGN)
    kw: dict[str, Any] = {"replicates": 40 * 2048, "seed": 5, "chunk_size": 2048, "scenarios": ["as hoped"]}
    serial = condapprove.simulate(design, **kw)
    here: list[int] = []
    real = engine._run_chunk

    def spy(design: Any, s: int, blocks: Any, *args: Any) -> Any:
        if os.getpid() == parent:
            here.append(blocks[0])
        return real(design, s, blocks, *args)

    parent = os.getpid()
    monkeypatch.setattr(engine, "_run_chunk", spy)
    both = condapprove.simulate(design, n_jobs=2, **kw)
    assert both.scenarios == serial.scenarios
    assert 0 < len(here) < 40 and len(set(here)) == len(here)


def _slow_big(n: int) -> bytes:
    """A task that takes a while and returns ``n`` bytes (more than a pipe holds)."""
    time.sleep(0.2)
    return b"x" * n


def _within(seconds: float, fn: Callable[[], Any]) -> Any:
    """``fn()`` in a thread, failing the test if it has not returned within ``seconds`` (a deadlock)."""
    import threading

    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "deadlocked"
    return out[0]


def _claimed(pool: workers.Pool, count: int) -> None:
    end = time.monotonic() + 10
    while pool._control[1] < count and time.monotonic() < end:
        time.sleep(0.005)
    assert pool._control[1] >= count


def test_a_worker_still_on_a_cancelled_call_takes_the_next_one() -> None:
    """A call cancelled while its worker simulates (here: a task whose result is larger than the worker's pipe
    holds) does not block the next call, whose tasks are larger than the task pipe holds: the pool reads the
    worker's late result first (dropped), then sends it the new call's tasks."""
    pool = workers.Pool(2)
    try:
        run = pool.start(_slow_big, [(2 * workers.RESULT_PIPE_BYTES,)] * 3)
        _claimed(pool, 1)  # the worker is on the first, this process has not begun
        run.close()

        def second() -> list[int]:
            nxt = pool.start(len, [(b"y" * (1 << 17),)] * 3)
            try:
                return [nxt.result(k) for k in range(3)]
            finally:
                nxt.close()

        assert _within(20, second) == [1 << 17] * 3
    finally:
        pool.shutdown()


def test_shutting_down_a_pool_whose_worker_is_sending_a_result() -> None:
    """A pool shut down while its worker is blocked sending a result no one reads (a cancelled call's) ends: the
    worker's pipe is closed first, and it exits."""
    pool = workers.Pool(2)
    run = pool.start(_slow_big, [(2 * workers.RESULT_PIPE_BYTES,)] * 3)
    _claimed(pool, 1)
    run.close()
    pids = pool.pids
    _within(20, lambda: pool.shutdown(wait=True))
    assert all(_gone(p) for p in pids)


def _pipe_max() -> int:
    try:
        return int(pathlib.Path("/proc/sys/fs/pipe-max-size").read_text())
    except OSError:
        return 0


def _big(n: int) -> bytes:
    """A task that returns ``n`` bytes at once."""
    return b"x" * n


def _claimed(pool: workers.Pool, count: int, timeout: float = 10.0) -> bool:
    """Whether a call's ``count`` tasks are all claimed within ``timeout`` seconds, this process claiming none (it
    does not ask for a result meanwhile)."""
    end = time.monotonic() + timeout
    while pool._control[workers._NEXT] < count and time.monotonic() < end:
        time.sleep(0.01)
    return bool(pool._control[workers._NEXT] == count)


def _anonymous_kib(_: int) -> tuple[int, int]:
    """A task: this process's id and its resident anonymous memory (KiB, Linux's ``RssAnon``)."""
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return os.getpid(), int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


@pytest.mark.skipif(not _alloc._is_glibc(), reason="glibc on Linux")
def test_a_new_worker_gives_back_the_free_memory_it_inherited() -> None:
    """A worker forked from a process whose heap keeps 64 MiB free (written, then freed: kept for the next chunk by
    :func:`condapprove._alloc.keep_freed_memory`) gives that memory back at its start
    (:func:`condapprove._alloc.discard_freed_memory`), so that neither process copies those pages at its first
    writes: its resident anonymous memory is then at least 48 MiB below the caller's.  Without it, the two share
    every page and count the same."""
    assert _alloc.keep_freed_memory()
    blocks = [np.ones(1 << 20) for _ in range(8)]  # 8 x 8 MiB from the heap (below the mmap threshold), written
    del blocks
    _, here = _anonymous_kib(0)
    pool = workers.Pool(2)
    try:
        run = pool.start(_anonymous_kib, [(0,), (1,)])  # (the worker is forked and begins at once)
        assert _claimed(pool, 2)  # both by the worker, before this process read a result
        pid, worker = run.result(0)
        run.close()
    finally:
        pool.shutdown()
    assert pid != os.getpid()
    assert worker < here - 48 * 1024, (worker, here)


@pytest.mark.skipif(not hasattr(workers.fcntl, "F_SETPIPE_SZ") or _pipe_max() < workers.RESULT_PIPE_BYTES,
                    reason="a pipe's size is set only on Linux, up to pipe-max-size")
def test_a_worker_sends_results_larger_than_a_default_pipe_without_waiting_for_the_caller() -> None:
    """A worker's result pipe holds :data:`workers.RESULT_PIPE_BYTES` (a chunk's decision months beyond the arena are
    131,072 bytes, twice Linux's default 64 KiB): while the calling process reads nothing (as when it simulates a
    chunk of its own), the worker sends four results of 200,000 bytes and so claims every task.  With the default
    pipe it stayed in its first send, having claimed one."""
    fcntl = workers.fcntl
    pool = workers.Pool(2)
    try:
        run = pool.start(_big, [(200_000,)] * 4)  # (the worker is forked and begins at once)
        assert fcntl.fcntl(pool._results[0].fileno(), fcntl.F_GETPIPE_SZ) >= workers.RESULT_PIPE_BYTES
        assert _claimed(pool, 4)  # by the worker, before this process read any result
        assert [run.result(k) for k in range(4)] == [b"x" * 200_000] * 4
        run.close()
    finally:
        pool.shutdown()


def test_where_processes_cannot_be_forked_a_call_starts_a_process_pool_of_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where there is no ``fork`` (Windows), ``n_jobs > 1`` runs the chunks on a ``ProcessPoolExecutor`` started for
    the call (here with ``spawn``, Windows' way: the workers import condapprove afresh) and keeps no pool; the
    results are the serial ones."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from condapprove.simulation import engine

    started: list[int] = []

    class Spawned(ProcessPoolExecutor):
        def __init__(self, max_workers: int, **kw: Any) -> None:
            started.append(max_workers)
            super().__init__(max_workers, mp_context=multiprocessing.get_context("spawn"), **kw)

    serial = _run(1)
    monkeypatch.setattr(engine, "can_fork", lambda: False)
    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor", Spawned)
    assert _run(2).scenarios == serial.scenarios
    assert started == [2] and workers.kept_workers() is None


def test_a_shut_down_pools_worker_does_not_claim_a_new_pools_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker of a pool shut down without waiting (replaced by another thread's call, say) may be held up between
    sending a result and looking at its pool's counter again, while its pool is freed and a new one made.  The
    counter must stay its own pool's alone: a new pool's counter made where the old one was (both calls number 1)
    let the old worker claim a task of the new call and send its result to a pipe no one reads, and the new call
    found that task lost ("task k of the call was cancelled", seen in CI with two threads replacing each other's
    pools).  Here the worker is held up 0.8 s before its second claim, in the new call's first half."""
    import gc

    parent, claims = os.getpid(), [0]
    claim_next = workers._claim_next

    def held_up(*args: Any) -> Any:
        if os.getpid() != parent:  # (in the worker: its second claim, after its first task's result is sent)
            claims[0] += 1
            if claims[0] == 2:
                time.sleep(0.8)
        return claim_next(*args)

    monkeypatch.setattr(workers, "_claim_next", held_up)
    old = workers.Pool(2)
    run = old.start(_nap, [(0.02,)] * 24)
    assert {run.result(k) for k in range(24)} - {parent}  # the worker took one or more tasks, then was held up
    run.close()
    old.shutdown(wait=False)
    del old, run
    gc.collect()
    new = workers.Pool(2)
    try:
        nxt = new.start(_nap, [(0.08,)] * 24)  # about 1 s: the old worker looks in the first half
        try:
            assert len([nxt.result(k) for k in range(24)]) == 24
        finally:
            nxt.close()
    finally:
        new.shutdown()


def _nap(seconds: float) -> int:
    """A task that takes ``seconds``, returning the id of the process that ran it."""
    time.sleep(seconds)
    return os.getpid()


def _forked_meanwhile(pool: workers.Pool, made: Any, forked: Any) -> set[str]:
    """Once another thread is held (it sets ``made``, then waits for ``forked``): a call on ``pool`` that forks its
    worker, run to the end; what the worker holds open (``/proc``), once it has closed the caller's ends it
    inherited."""
    assert made.wait(10)
    run = pool.start(_nap, [(0.0,)] * 2)
    forked.set()
    [run.result(k) for k in range(2)]
    run.close()
    pool._wait_idle(0)  # (the worker says so after it closed them)
    return {os.readlink(f) for f in pathlib.Path(f"/proc/{pool.pids[0]}/fd").iterdir()}


@pytest.mark.skipif(not pathlib.Path("/proc/self/fd").is_dir(), reason="reads a process's open files in /proc")
def test_a_worker_forked_by_another_thread_holds_no_end_of_a_new_workers_pipes() -> None:
    """Two threads starting workers of two pools at once: a worker forked by one thread while the other has made
    its worker's pipes, and not forked it yet, must not keep their ends open (a worker keeping the caller's end of
    another worker's result pipe would leave that worker blocked on a result no one reads, and the pool's shutdown
    waiting for it).  Here thread A stops, for up to 1 s, between making its worker's pipes and forking it, and the
    main thread forks a worker of another pool meanwhile."""
    import threading

    made, forked = threading.Event(), threading.Event()

    class HeldUp:
        """The fork context, but waiting after making a worker's second pipe (its result pipe)."""

        def __init__(self, ctx: Any) -> None:
            self.ctx, self.pipes = ctx, list[Any]()

        def __getattr__(self, name: str) -> Any:
            return getattr(self.ctx, name)

        def Pipe(self, duplex: bool) -> Any:
            ends = self.ctx.Pipe(duplex=duplex)
            self.pipes.append(ends)
            if len(self.pipes) == 2:
                made.set()
                forked.wait(1.0)
            return ends

    a, b = workers.Pool(2), workers.Pool(2)
    held = HeldUp(a._ctx)
    a._ctx = held  # type: ignore[assignment]
    runs: list[Any] = []
    thread = threading.Thread(target=lambda: runs.append(a.start(_nap, [(0.0,)] * 2)))
    try:
        thread.start()
        open_in_b = _forked_meanwhile(b, made, forked)
        thread.join()
        [runs[0].result(k) for k in range(2)]
        runs[0].close()
        result_r = held.pipes[1][0]
        assert f"pipe:[{os.fstat(result_r.fileno()).st_ino}]" not in open_in_b
    finally:
        thread.join()
        a.shutdown()
        b.shutdown()


@pytest.mark.skipif(not pathlib.Path("/proc/self/fd").is_dir(), reason="reads a process's open files in /proc")
def test_a_worker_forked_while_another_pool_shuts_down_holds_none_of_its_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool shutting down in one thread while another thread forks a worker of another pool: the new worker must
    not keep the ends the first pool is closing (here its result pipe's: a worker of the first pool blocked sending
    a result would then never fail, and a shutdown that waits would wait for ever).  The shutdown stops, for up to
    1 s, between taking the end out of the caller's ends and closing it."""
    import threading

    made, forked = threading.Event(), threading.Event()
    a = workers.Pool(2)
    run = a.start(_nap, [(0.0,)] * 2)
    [run.result(k) for k in range(2)]
    run.close()
    closing = a._results[0]
    inode = f"pipe:[{os.fstat(closing.fileno()).st_ino}]"

    class Pausing(set):  # type: ignore[type-arg]
        def discard(self, conn: Any) -> None:
            super().discard(conn)
            if conn is closing:
                made.set()
                forked.wait(1.0)

    ends = workers._PARENT_ENDS
    monkeypatch.setattr(workers, "_PARENT_ENDS", Pausing(ends))
    thread = threading.Thread(target=lambda: a.shutdown(wait=False))
    b = workers.Pool(2)
    try:
        thread.start()
        assert inode not in _forked_meanwhile(b, made, forked)
    finally:
        thread.join()
        b.shutdown()
        ends.intersection_update(workers._PARENT_ENDS)  # (the ends closed meanwhile, out of the set put back)

