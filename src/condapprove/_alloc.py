"""Keep freed memory for reuse (glibc): the simulation allocates and frees the same few MiB in every chunk.

By default glibc serves allocations above 128 KiB (a threshold it raises as it goes) with fresh ``mmap``
pages and gives memory at the top of the heap back to the operating system when it is freed.  A chunk of
the simulation allocates tens of arrays of a few MiB and frees them; with the default settings the next
chunk can page-fault all of that memory back in (measured: about 29,000 page faults, 115 MiB, per 10^4
time-to-event replicates in one process, and in every fresh worker process), which costs up to a third of
the run time on a virtual machine.  :func:`keep_freed_memory` raises the two thresholds once per process,
so freed chunk memory is reused; peak memory is unchanged (it is still one chunk's working set), but the
process keeps that memory until it exits.  Elsewhere than glibc (macOS, musl, Windows) it does nothing.

A worker process forked from a process that has simulated inherits that kept memory, shared with its parent
until either writes to it; :func:`discard_freed_memory` lets the worker give its copy back at its start (see the
function).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

__all__ = ["discard_freed_memory", "keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Freed memory kept at the top of the heap before glibc returns it to the system.
TRIM_THRESHOLD = 1 << 30
#: Allocations served from the heap (reusable) rather than fresh pages: glibc's maximum on 64-bit systems.
MMAP_THRESHOLD = 32 << 20

_done = False
#: glibc's C library (None until :func:`_glibc` first loads it).
_libc: ctypes.CDLL | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds once per process; True if they are set (False: not glibc)."""
    global _done
    if _done:
        return True
    if not _is_glibc():
        return False
    try:
        libc = _glibc()
        ok = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(libc.mallopt(_M_MMAP_THRESHOLD,
                                                                                          MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
    _done = ok
    return ok


def discard_freed_memory() -> bool:
    """Give the memory this process's heap holds free back to the system (glibc's ``malloc_trim(0)``); True if done
    (False: not glibc).

    For a worker process at its start.  A fork shares every page of the parent's heap with the worker, copy on
    write, the free memory that :func:`keep_freed_memory` keeps for the next chunk included: the first chunk of
    each process then pays a copy of each such page it writes.  Given back in the worker, those pages are the
    parent's alone again, and the parent's first write to one only marks it writable, while the worker's chunks
    get fresh pages: 0.75-0.89 us a page for the one and about 2 us for the other here, against 2.4-2.6 us for
    each copy (docs/performance.md, item 118).  The live objects' pages stay shared.
    """
    if not _is_glibc():
        return False
    try:
        _glibc().malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def _is_glibc() -> bool:
    """Whether this process runs on Linux with glibc."""
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _glibc() -> ctypes.CDLL:
    """glibc's C library (loaded once)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return _libc
