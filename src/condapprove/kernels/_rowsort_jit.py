"""Compiled (numba) loops of :func:`condapprove.kernels.rowsort.sort_rows`: long rows of uint32 keys split by value
into short rows that numpy's sorting networks sort, and joined again.

Imported lazily by :mod:`condapprove.kernels.rowsort`; compiled on first use and cached by
:func:`condapprove._jit.compiled`.
"""

from __future__ import annotations

import numpy as np

from .._jit import compiled

__all__ = ["FINE_BINS", "TOP", "join_parts", "plan_parts", "split_rows"]

#: The largest uint32: such keys are not split, only counted, and written at each row's end (where they sort).
TOP = np.uint32(0xFFFF_FFFF)
#: The fine bins of :func:`plan_parts`, over the range of the keys of the rows it samples.
FINE_BINS = 1024
#: The rows :func:`plan_parts` samples.
_SAMPLED = 8


@compiled
def plan_parts(keys: np.ndarray, target: int,
               fine_part: np.ndarray) -> tuple[np.uint32, np.uint32, int]:  # pragma: no cover - compiled
    """How to split rows like the first few of ``keys`` (uint32, (m, n)) into parts of about ``target`` keys each.

    The keys below :data:`TOP` of the first :data:`_SAMPLED` rows are counted in :data:`FINE_BINS` bins of equal width
    over their range, ``[low, low + 2**shift * FINE_BINS)``, and neighbouring bins are gathered into parts of at most
    ``target`` keys a row on average (``fine_part[f]``: the part of fine bin ``f``).  Returns ``(low, shift,
    parts)``; ``parts`` is 0 when some fine bin alone holds more than ``target`` keys a row (many equal keys,
    say), which no split can spread: the caller then sorts the rows whole.  A key's part never decreases as the key
    grows (:func:`split_rows`), so sorting each part and joining them in order sorts the row."""
    m, n = keys.shape
    rows = min(m, _SAMPLED)
    low, high = TOP, np.uint32(0)
    for i in range(rows):
        for j in range(n):
            k = keys[i, j]
            if k != TOP:
                low = min(low, k)
                high = max(high, k)
    if high < low:  # nothing below TOP in the sample
        return np.uint32(0), np.uint32(0), 0
    shift = np.uint32(0)
    while (np.uint64(high - low) >> np.uint64(shift)) >= np.uint64(FINE_BINS):
        shift += np.uint32(1)
    hist = np.zeros(FINE_BINS, np.int64)
    for i in range(rows):
        for j in range(n):
            k = keys[i, j]
            if k != TOP:
                hist[np.intp((k - low) >> shift)] += 1
    budget = target * rows
    part, held = 0, 0
    for f in range(FINE_BINS):
        if hist[f] > budget:
            return low, shift, 0
        if held > 0 and held + hist[f] > budget:
            part += 1
            held = 0
        fine_part[f] = part
        held += hist[f]
    return low, shift, part + 1


@compiled
def split_rows(keys: np.ndarray, low: np.uint32, shift: np.uint32, fine_part: np.ndarray, parts: int, width: int,
               out: np.ndarray, count: np.ndarray, over: np.ndarray,
               part_of: np.ndarray) -> None:  # pragma: no cover - compiled
    """Each row ``i`` of ``keys`` (uint32, (m, n)) into ``parts`` short rows of ``width`` keys, by
    :func:`plan_parts`'s plan: key ``k`` below :data:`TOP` to part ``fine_part[min(max(k, low) - low >> shift,
    FINE_BINS - 1)]``, in the order met, the rest of each short row filled with :data:`TOP`.  ``out`` (uint32, flat):
    row ``i``'s short row ``s`` from ``(i * (parts + 1) + s) * width``, then a scratch short row, and ``n`` more keys
    at the end; ``count`` (m, parts): the keys of each part.  A row with a part of more than ``width`` keys is
    flagged in ``over``: that part ran on into the next ones' places (or the next row's, which are written after
    it, or the ``n`` keys at the end), so the row's short rows hold nothing useful.  The keys equal to :data:`TOP`
    are only counted (written one on top of another in the scratch row).  ``part_of`` (n,): scratch."""
    m, n = keys.shape
    last = np.uint32(FINE_BINS - 1)
    pos = np.empty(parts + 1, np.int64)
    for i in range(m):
        row = keys[i]
        for j in range(n):  # (a pass of its own: the next one waits on its stores)
            k = row[j]
            part_of[j] = parts if k == TOP else fine_part[np.intp(min((max(k, low) - low) >> shift, last))]
        base = i * (parts + 1) * width
        for s in range(parts + 1):
            pos[s] = base + s * width
        for j in range(n):
            s = part_of[j]
            p = pos[s]
            out[p] = row[j]
            pos[s] = p + (s < parts)
        full = False
        for s in range(parts):
            start = base + s * width
            c = pos[s] - start
            count[i, s] = c
            full |= c > width
            if c < width:
                out[pos[s]:start + width] = TOP
        over[i] = full


@compiled
def join_parts(parts_sorted: np.ndarray, count: np.ndarray, over: np.ndarray,
               keys: np.ndarray) -> None:  # pragma: no cover - compiled
    """Each row of ``keys`` not flagged in ``over``: its parts' sorted short rows (``parts_sorted``, (m, parts + 1,
    width); the first ``count[i, s]`` keys of each) one after another, then :data:`TOP` to the row's end."""
    m = keys.shape[0]
    parts = count.shape[1]
    for i in range(m):
        if over[i]:
            continue
        row = keys[i]
        p = 0
        for s in range(parts):
            c = count[i, s]
            row[p:p + c] = parts_sorted[i, s, :c]
            p += c
        row[p:] = TOP
