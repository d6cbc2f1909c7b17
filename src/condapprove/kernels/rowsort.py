"""Sorting each row of a uint32 array in place, fast for rows longer than numpy's sorting networks.

numpy (2.x, x86-simd-sort) sorts a row of up to :data:`SORT_NETWORK_KEYS` uint32 keys with sorting networks in
vector registers, and a longer row by partitioning it first.  On some processors the partitioning costs several
times as much a key: on the AMD EPYC with AVX-512 of docs/performance.md (item 115) a row of 512 keys took 0.43 us,
513 keys 2.56 us and 1,024 keys 6.8 us.  :func:`sort_rows` then splits each long row by value into short rows
(:mod:`._rowsort_jit`), has numpy sort those, and joins them: the same order, exactly, in 0.50-0.77 of the time for
rows of 1,200-2,048 keys there (rows of up to :data:`SPLIT_MIN_KEYS` keys are left to numpy).  Whether the split
pays is measured once per process (:func:`split_pays`), so a processor whose numpy partitions fast keeps numpy's
sort; the keys come out the same either way.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["SORT_NETWORK_KEYS", "SPLIT_MIN_KEYS", "sort_rows", "split_pays"]

#: The longest rows of uint32 keys numpy sorts with its sorting networks alone (x86-simd-sort's bitonic networks).
SORT_NETWORK_KEYS = 512
#: Rows of more keys than this are split where that pays.  Between :data:`SORT_NETWORK_KEYS` and this, numpy's sort
#: was faster than the split here, or as fast: 1.03-1.45 of its time for 600-900 keys, 0.86-0.91 for 1,000, 0.66-0.77
#: for 1,200 and 0.50-0.51 for 2,048 (512 rows, random keys and a look's keys, best of 7; docs/performance.md, item
#: 115).
SPLIT_MIN_KEYS = 1024
#: The keys of each short row (a size numpy's networks sort at their best: 0.19 us for 256 keys against 0.43 us for
#: 512 and 0.37 us for 257, docs/performance.md, item 115) ...
WIDTH = 256
#: ... of which each part is planned to hold this share on average (a part of more than ``WIDTH`` keys sends its
#: row to numpy's sort: with 192 expected, 4.6 standard deviations away).
FILL = 0.75
#: Rows split at once, so that their short rows (64 x parts x 1 KiB) stay in the processor's cache.
SUB_ROWS = 64

#: Whether splitting pays on this processor (None: not measured yet).
_pays: bool | None = None


def sort_rows(keys: np.ndarray) -> None:
    """Sort each row of ``keys`` (uint32, (m, n), C-contiguous) in place: ``keys.sort(axis=1)``, faster for rows
    of more than :data:`SPLIT_MIN_KEYS` keys on a processor where :func:`split_pays`.

    Each long row is split by value into parts of about ``WIDTH * FILL`` keys (the plan made from the block's first
    rows), each part sorted by numpy as a short row padded with the largest uint32, and the parts joined in order;
    a row whose part overflows its short row, or a block whose keys cluster more than any split can spread (many
    equal keys), is sorted by numpy.  The result is ``np.sort(keys, axis=1)`` in every case.

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.kernels.rowsort import sort_rows
    >>> keys = np.random.default_rng(1).integers(0, 2**32, (4, 2000), dtype=np.uint32)
    >>> expected = np.sort(keys, axis=1)
    >>> sort_rows(keys)
    >>> bool(np.array_equal(keys, expected))
    True
    """
    m, n = keys.shape
    if n <= SPLIT_MIN_KEYS or m == 0 or not split_pays():
        keys.sort(axis=1)
        return
    _split_sort(keys)


def _split_sort(keys: np.ndarray) -> None:
    """:func:`sort_rows` by splitting the rows, whatever their length."""
    from ._rowsort_jit import FINE_BINS, join_parts, plan_parts, split_rows

    m, n = keys.shape
    fine_part = np.empty(FINE_BINS, dtype=np.int64)
    low, shift, parts = plan_parts(keys, int(WIDTH * FILL), fine_part)
    if parts == 0 or parts * WIDTH > 4 * n:  # the keys cluster (or there are none): numpy's sort
        keys.sort(axis=1)
        return
    sub = min(SUB_ROWS, m)
    flat = np.empty(sub * (parts + 1) * WIDTH + n, dtype=np.uint32)  # (n at the end: where a part may run on)
    out = flat[:sub * (parts + 1) * WIDTH].reshape(sub, parts + 1, WIDTH)
    count = np.empty((sub, parts), dtype=np.int64)
    over = np.empty(sub, dtype=bool)
    part_of = np.empty(n, dtype=np.int64)
    for lo in range(0, m, sub):
        rows = keys[lo:lo + sub]
        r = rows.shape[0]
        split_rows(rows, low, shift, fine_part, parts, WIDTH, flat, count[:r], over[:r], part_of)
        out[:r, :parts].sort(axis=2)
        join_parts(out[:r], count[:r], over[:r], rows)
        if over[:r].any():
            rows[over[:r]] = np.sort(rows[over[:r]], axis=1)


#: Rounds of :func:`split_pays`'s measurement ...
_ROUNDS = 5
#: ... and the share of numpy's time the split must take less than, for rows of ``2 * SPLIT_MIN_KEYS`` keys (0.50-0.51
#: here; a processor whose numpy partitions fast would sort them in about twice the time of two rows of half as many).
_PAYS_BELOW = 0.75


def _numpy_sort(keys: np.ndarray) -> None:
    keys.sort(axis=1)


def split_pays() -> bool:
    """Whether :func:`sort_rows` splits long rows on this processor: measured once per process, by sorting 64 rows
    of 2,048 random keys both ways, best of five alternating rounds each (about 10 ms once the compiled loops are
    loaded); the split must take less than :data:`_PAYS_BELOW` of numpy's time.  A worker process forked after the
    measurement inherits it."""
    global _pays
    if _pays is None:
        keys = np.random.default_rng(20261204).integers(0, 2**32 - 1, (SUB_ROWS, 2 * SPLIT_MIN_KEYS),
                                                         dtype=np.uint32)
        _split_sort(keys.copy())  # (loads or compiles the loops)
        best = {"numpy": np.inf, "split": np.inf}
        for _ in range(_ROUNDS):  # alternating, so that a pause of the machine does not favour one
            for name, fn in (("numpy", _numpy_sort), ("split", _split_sort)):
                a = keys.copy()
                t0 = time.perf_counter()
                fn(a)
                best[name] = min(best[name], time.perf_counter() - t0)
        _pays = bool(best["split"] < _PAYS_BELOW * best["numpy"])
    return _pays
