"""Compiled (numba) loops of a scenario's summary: the counts behind its probabilities and cumulative curves in
one pass over the replicates, instead of about twenty numpy passes over arrays of 10^6 replicates; and the order
statistics of all the decision months that their quartiles read, selected without sorting the months.

Imported with :mod:`condapprove.simulation.summary` (the engine's running summary), not with the results' types
(numba's import costs about 0.3 s).  The counts are integers, so they equal numpy's exactly (tested against the
numpy code).
"""

from __future__ import annotations

import numpy as np

from .._jit import compiled, inlined

__all__ = ["block_moments", "combine_moments", "combine_rows", "fields_moments", "finite_order_statistics",
           "order_statistics", "tally"]


@compiled
def tally(decision: np.ndarray, look: np.ndarray, month: np.ndarray, reached: np.ndarray, whole: int,
          cutoff: float, after_whole: bool, cells: np.ndarray, confirmed_by_look: np.ndarray,
          decisions: np.ndarray) -> int:  # pragma: no cover - compiled
    """Count, in one pass: the replicates by (grid cell of the decision month, decision) (``cells``,
    ``4 * (grid size + 1)``, row-major), each decision code (``decisions``, 4 cells, summed from ``cells``) and the
    confirmations by look (``confirmed_by_look``; looks outside its range are not counted); return the number of
    replicates that did not reach their targets, or -1 at a decision code outside 0..3.  The outputs start at zero.

    The grid is the summary's: whole months ``0 .. whole - 1``, then the cut-off when ``after_whole``.  A month's
    cell is the number of grid months before it (``np.searchsorted(grid, month, side="left")``): ``ceil(month)``
    clipped to ``[0, whole]``, plus one past the cut-off; NaN counts past the end, as numpy sorts it.
    """
    n_looks = confirmed_by_look.size
    size = whole + (1 if after_whole else 0)
    width = cells.size
    # branch-free, into four interleaved copies of the counts (consecutive replicates rarely wait on each other's
    # increment of the same cell), summed at the end; confirmations at no valid look go to a spare cell
    lanes = np.zeros((4, width), dtype=np.int64)
    looks = np.zeros((4, n_looks + 1), dtype=np.int64)
    not_reached = np.int64(0)
    bad = False
    top = float(whole)
    for i in range(decision.size):
        lane = i & 3
        d = np.int64(decision[i])
        if d < 0 or d > 3:
            bad = True
        d &= 3
        j = np.int64(look[i])
        counted = (d == 0) & (j >= 0) & (j < n_looks)  # 0: CONFIRMED
        looks[lane, j if counted else n_looks] += 1
        m = month[i]
        c = size if np.isnan(m) else np.int64(min(max(np.ceil(m), 0.0), top))  # NaN: past the end
        c += np.int64(after_whole & (m > cutoff))
        lanes[lane, c * 4 + d] += 1
        not_reached += 1 - np.int64(reached[i])
    if bad:
        return -1
    for k in range(4):
        for x in range(width):
            cells[x] += lanes[k, x]
        for t in range(n_looks):
            confirmed_by_look[t] += looks[k, t]
    for x in range(width):
        decisions[x & 3] += cells[x]
    return int(not_reached)


@compiled
def _sum_from(x: np.ndarray, lo: int, hi: int, centre: float, square: bool) -> float:  # pragma: no cover
    """``sum((x[lo:hi] - centre) ** (2 if square else 1))`` in four interleaved partial sums (added as ``(s0 + s1) +
    (s2 + s3)``, then the remainder in order): four additions in flight instead of one."""
    s0 = s1 = s2 = s3 = 0.0
    i = lo
    while i + 4 <= hi:
        d0, d1, d2, d3 = x[i] - centre, x[i + 1] - centre, x[i + 2] - centre, x[i + 3] - centre
        if square:
            d0, d1, d2, d3 = d0 * d0, d1 * d1, d2 * d2, d3 * d3
        s0 += d0
        s1 += d1
        s2 += d2
        s3 += d3
        i += 4
    total = (s0 + s1) + (s2 + s3)
    while i < hi:
        d = x[i] - centre
        total += d * d if square else d
        i += 1
    return total


@compiled
def _nonfinite_mean(x: np.ndarray, lo: int, hi: int) -> float:  # pragma: no cover - compiled
    """numpy's mean of ``x[lo:hi]`` when it is not finite: NaN with a NaN or both infinities, else the infinity
    (a sum that overflows counts as its sign's infinity)."""
    up = down = False
    s = 0.0
    for i in range(lo, hi):
        v = x[i]
        if np.isnan(v):
            return np.nan
        up |= v == np.inf
        down |= v == -np.inf
        s += v
    if up and down:
        return np.nan
    if up or (not down and s > 0):
        return np.inf
    return -np.inf


@compiled
def block_moments(x: np.ndarray, block: int, finite_only: bool, count: np.ndarray, mean: np.ndarray,
                  m2: np.ndarray) -> None:  # pragma: no cover - compiled
    """For each block of ``block`` consecutive values of ``x`` (the last may be shorter): how many values it has
    (only the finite ones when ``finite_only``), their mean and their sum of squared deviations from it (two passes
    over the block), into ``count``, ``mean`` and ``m2`` (one cell per block; 0, NaN and NaN for a block without
    values).

    The mean is the block's first value plus the mean of the differences from it: a block of equal values (a
    fixed scenario's true effect) has exactly that mean and a sum of squares of 0, as numpy's mean and standard
    deviation give them.  Without ``finite_only`` the sums are :func:`_sum_from`'s, and a block whose mean is not
    finite (a NaN or an infinite value) has numpy's mean of it (:func:`_nonfinite_mean`) and a NaN sum of squares,
    as numpy's standard deviation of it is NaN.
    """
    n = x.size
    for b in range(count.size):
        lo = b * block
        hi = min(lo + block, n)
        if not finite_only:
            c = hi - lo
            count[b] = c
            if c == 0:
                mean[b] = np.nan
                m2[b] = np.nan
                continue
            first = x[lo]
            mu = first + _sum_from(x, lo, hi, first, False) / c
            if not np.isfinite(mu):  # a NaN or an infinity in the block: numpy's mean of it, and no spread
                mean[b] = _nonfinite_mean(x, lo, hi)
                m2[b] = np.nan
                continue
            mean[b] = mu
            m2[b] = _sum_from(x, lo, hi, mu, True)
            continue
        c = 0
        s = 0.0
        first = 0.0
        for i in range(lo, hi):
            v = x[i]
            if np.isfinite(v):
                if c == 0:
                    first = v
                c += 1
                s += v - first
        count[b] = c
        if c == 0:
            mean[b] = np.nan
            m2[b] = np.nan
            continue
        mu = first + s / c
        d2 = 0.0
        for i in range(lo, hi):
            v = x[i]
            if np.isfinite(v):
                d = v - mu
                d2 += d * d
        mean[b] = mu
        m2[b] = d2


@compiled
def fields_moments(xs: tuple[np.ndarray, ...], block: int, finite_only: np.ndarray, count: np.ndarray,
                   mean: np.ndarray, m2: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`block_moments` of each array ``xs[k]`` (with ``finite_only[k]``) into row ``k`` of ``count``, ``mean``
    and ``m2`` (fields, blocks): a chunk's means in one call instead of one per field (numba's dispatch of a call
    with a few arrays took 0.7-2.6 us, timeit, and more in a run whose caches the rest of the run has filled)."""
    for k in range(len(xs)):
        block_moments(xs[k], block, finite_only[k], count[k], mean[k], m2[k])


@compiled
def combine_rows(count: np.ndarray, mean: np.ndarray, m2: np.ndarray, n: np.ndarray, mu: np.ndarray,
                 s2: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`combine_moments` of each row of ``count``, ``mean`` and ``m2`` (fields, blocks) into ``n[k]``,
    ``mu[k]`` and ``s2[k]``: every field's mean in one call."""
    for k in range(count.shape[0]):
        n[k], mu[k], s2[k] = combine_moments(count[k], mean[k], m2[k])


@compiled
def combine_moments(count: np.ndarray, mean: np.ndarray, m2: np.ndarray) -> tuple[int, float, float]:
    """The count, mean and sum of squared deviations of all the values of the blocks described by ``count``,
    ``mean`` and ``m2`` (:func:`block_moments`), combined one block after another in order (Chan, Golub and
    LeVeque's update): ``n = n_a + n_b``, ``mean = mean_a + delta n_b / n``, ``m2 = m2_a + m2_b + delta^2 n_a n_b /
    n`` with ``delta = mean_b - mean_a``; blocks without values are skipped.  A block with a mean that is not finite
    makes the whole mean numpy's (NaN with a NaN or both infinities, else the infinity) and ``m2`` NaN."""
    nan = up = down = False
    for b in range(count.size):
        if count[b] > 0 and not np.isfinite(mean[b]):
            nan |= np.isnan(mean[b])
            up |= mean[b] == np.inf
            down |= mean[b] == -np.inf
    if nan or up or down:
        total = 0
        for b in range(count.size):
            total += count[b]
        return total, (np.nan if nan or (up and down) else (np.inf if up else -np.inf)), np.nan
    n = 0
    mu = 0.0
    s2 = 0.0
    for b in range(count.size):
        nb = count[b]
        if nb == 0:
            continue
        if n == 0:
            n, mu, s2 = nb, mean[b], m2[b]
            continue
        total = n + nb
        delta = mean[b] - mu
        mu = mu + delta * (nb / total)
        s2 = s2 + m2[b] + delta * delta * (n * (nb / total))
        n = total
    return n, mu, s2


#: A bucket of :func:`order_statistics` of at most this many values is sorted; a larger one (values that cluster,
#: decision months near one look's) is spread again, once, unless its values are all equal (a look at a fixed month).
_SORT_MAX = 2048
#: At most this many buckets a spreading (a counter each: 512 KiB).
_BUCKETS_MAX = 65536


@inlined
def _bucket(v: float, lo: float, scale: float, top: int) -> np.int64:  # pragma: no cover - compiled
    """The bucket of the finite ``v``: ``floor((v - lo) * scale)``, at most ``top`` (NaN, from a span that is not a
    number, goes to ``top``).  It never decreases as ``v`` grows (a difference and a product by a positive number
    round monotonically), so the buckets hold the values in order."""
    x = (v - lo) * scale
    return np.int64(x) if x < top else np.int64(top)


@compiled
def _spread(values: np.ndarray, ranks: np.ndarray, lo: float, hi: float, n_finite: int,
            all_finite: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """The finite numbers of ``values`` (``n_finite`` of them, from ``lo`` to ``hi``, ``lo < hi``) counted into
    about a quarter as many buckets of equal width (at most :data:`_BUCKETS_MAX`), and the values of the buckets of
    the increasing ``ranks`` copied out, in two passes: ``kept`` (those values, bucket after bucket), ``start`` (where
    each bucket's are in ``kept``; -1 for a bucket no rank is in), ``before`` (the finite values in the buckets
    before each) and ``which`` (each rank's bucket).  A span too wide (its width overflows) or too narrow (the scale
    does) for buckets makes one bucket of all.

    ``all_finite``: every value is finite, so the passes test none (0.77 against 1.22 ms for the count of 10^6
    decision months here; docs/performance.md, item 121).  ``lo`` and ``hi`` are then the values' own smallest and
    largest, as always: a bucket is an index, and a value outside them would count outside the counters."""
    nb = max(1, min(n_finite // 4, _BUCKETS_MAX))
    span = hi - lo
    scale = nb / span
    top = nb - 1
    if not (span < np.inf and scale < np.inf):
        nb, scale, top = 1, 0.0, 0
    before = np.zeros(nb + 1, dtype=np.int64)
    for i in range(values.size):
        v = values[i]
        if all_finite or -np.inf < v < np.inf:
            before[_bucket(v, lo, scale, top) + 1] += 1
    for b in range(nb):
        before[b + 1] += before[b]
    which = np.searchsorted(before, ranks, side="right") - 1
    start = np.full(nb, -1, dtype=np.int64)
    size = 0
    for i in range(ranks.size):
        b = which[i]
        if start[b] < 0:
            start[b] = size
            size += before[b + 1] - before[b]
    kept = np.empty(size)
    fill = start.copy()
    for i in range(values.size):
        v = values[i]
        if all_finite or -np.inf < v < np.inf:
            b = _bucket(v, lo, scale, top)
            at = fill[b]
            if at >= 0:
                kept[at] = v
                fill[b] = at + 1
    return kept, start, before, which


@inlined
def _run_end(which: np.ndarray, i: int) -> int:  # pragma: no cover - compiled
    """The end of the run of equal ``which`` that starts at ``i`` (the ranks of one bucket)."""
    j = i
    while j < which.size and which[j] == which[i]:
        j += 1
    return j


@compiled
def _read_bucket(part: np.ndarray, local: np.ndarray, out: np.ndarray,
                 sort_any: bool) -> tuple[bool, float, float]:  # pragma: no cover - compiled
    """``out[:] = np.sort(part)[local]`` when ``part``'s values are all equal or it has at most :data:`_SORT_MAX` of
    them (any number with ``sort_any``), sorting ``part`` in place; whether it did, and ``part``'s smallest and
    largest."""
    low, high = part[0], part[0]
    for v in part:
        low = min(low, v)
        high = max(high, v)
    if low == high:
        out[:] = low
    elif part.size <= _SORT_MAX or sort_any:
        part.sort()
        for k in range(local.size):
            out[k] = part[local[k]]
    else:
        return False, low, high
    return True, low, high


@compiled
def _select_finite(values: np.ndarray, ranks: np.ndarray, out: np.ndarray, lo: float, hi: float, n_finite: int,
                   all_finite: bool) -> None:  # pragma: no cover - compiled
    """``out[i]``: the ``ranks[i]``-th smallest (0-based) of the ``n_finite`` finite numbers of ``values`` (the others
    are skipped), for increasing ``ranks``; ``lo`` and ``hi``: the smallest and the largest of them; ``all_finite``:
    ``values`` has no others.

    The values are spread into buckets (:func:`_spread`), and only the ranks' buckets are read: a bucket whose values
    are all equal is that number (a look at a fixed month), one of at most :data:`_SORT_MAX` values is sorted, and a
    larger one (months that cluster) is spread again, its buckets then sorted whatever their size.  (Not a recursive
    function: numba's cache does not load those back safely.)"""
    if lo == hi:
        out[:] = lo
        return
    kept, start, before, which = _spread(values, ranks, lo, hi, n_finite, all_finite)
    i = 0
    while i < ranks.size:  # the ranks of each wanted bucket together
        b, j = which[i], _run_end(which, i)
        part = kept[start[b]:start[b] + before[b + 1] - before[b]]
        local = ranks[i:j] - before[b]
        done, low, high = _read_bucket(part, local, out[i:j], False)
        if not done:
            kept2, start2, before2, which2 = _spread(part, local, low, high, part.size, True)  # (finite: kept)
            i2 = 0
            while i2 < local.size:
                b2, j2 = which2[i2], _run_end(which2, i2)
                _read_bucket(kept2[start2[b2]:start2[b2] + before2[b2 + 1] - before2[b2]], local[i2:j2] - before2[b2],
                             out[i + i2:i + j2], True)
                i2 = j2
        i = j


@compiled
def order_statistics(values: np.ndarray, ranks: np.ndarray, out: np.ndarray) -> bool:  # pragma: no cover - compiled
    """``out[:] = np.sort(values)[ranks]`` for increasing ``ranks`` (int64, in ``[0, values.size)``), without sorting
    ``values``; False (``out`` not filled) if ``values`` has a NaN.

    -inf and inf take the ranks at the ends; the finite values' ranks are selected by :func:`_select_finite` (three
    passes over the values, then the few values of the ranks' buckets): 0.3-0.4 ms for 10^5 decision months here,
    against 2.0 ms for sorting them in chunks of 16,384 (item 101 of docs/performance.md).  Equal values are one
    number, so the values are numpy's (0.0 and -0.0 compare equal: either is numpy's).
    """
    n_low = 0
    n_high = 0
    lo, hi = np.inf, -np.inf
    for i in range(values.size):
        v = values[i]
        if np.isnan(v):
            return False
        if v == -np.inf:
            n_low += 1
        elif v == np.inf:
            n_high += 1
        else:
            lo = min(lo, v)
            hi = max(hi, v)
    n_finite = values.size - n_low - n_high
    a = np.searchsorted(ranks, n_low)
    b = np.searchsorted(ranks, n_low + n_finite)
    out[:a] = -np.inf
    out[b:] = np.inf
    if b > a:
        got = np.empty(b - a)
        _select_finite(values, ranks[a:b] - n_low, got, lo, hi, n_finite, n_finite == values.size)
        out[a:b] = got
    return True


@compiled
def finite_order_statistics(values: np.ndarray, ranks: np.ndarray, out: np.ndarray, lo: float,
                            hi: float) -> bool:  # pragma: no cover - compiled
    """:func:`order_statistics` of ``values`` that are all finite, ``lo`` and ``hi`` their smallest and largest,
    which the caller has (numpy's ``min`` and ``max``: 0.19 ms for 10^6 decision months here, in vector registers,
    against 0.81 ms for the scan of :func:`order_statistics`, one value at a time); the passes then test no value
    for being finite (:func:`_spread`).  True, as :func:`order_statistics` returns for values without a NaN."""
    _select_finite(values, ranks, out, lo, hi, values.size, True)
    return True
