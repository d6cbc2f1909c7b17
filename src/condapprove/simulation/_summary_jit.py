"""Compiled (numba) loops of a scenario's summary: the counts behind its probabilities and cumulative curves in
one pass over the replicates, instead of about twenty numpy passes over arrays of 10^6 replicates; and an order
statistic of numbers sorted chunk by chunk (the decision months' quartiles), without sorting them all again.

Imported with :mod:`condapprove.simulation.summary` (the engine's running summary), not with the results' types
(numba's import costs about 0.3 s).  The counts are integers, so they equal numpy's exactly (tested against the
numpy code).
"""

from __future__ import annotations

import numpy as np

from .._jit import compiled

__all__ = ["block_moments", "combine_moments", "combine_rows", "fields_moments", "kth_of_runs", "sort_values", "tally"]


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
def _count_below(values: np.ndarray, lo: int, hi: int, x: float, inclusive: bool) -> int:  # pragma: no cover
    """How many of the increasing ``values[lo:hi]`` are below ``x`` (at most ``x`` when ``inclusive``)."""
    a, b = lo, hi
    while a < b:
        mid = (a + b) >> 1
        v = values[mid]
        if v < x or (inclusive and v == x):
            a = mid + 1
        else:
            b = mid
    return a - lo


@compiled
def kth_of_runs(values: np.ndarray, bounds: np.ndarray, k: int) -> float:  # pragma: no cover - compiled
    """The ``k``-th smallest (0-based) of ``values``, a concatenation of increasing runs ``values[bounds[r]:
    bounds[r + 1]]`` without NaN: ``np.sort(values)[k]``, a number of the sample, found without merging the runs.

    Each run keeps a window of candidates (at first the whole run) and ``k`` counts within the windows.  The middle
    of the largest window is the pivot: binary searches count the candidates below it and at most it in every
    window; if ``k`` falls between the two counts the pivot is the answer, else every window keeps only its
    candidates below the pivot, or only those above it (``k`` less those dropped below).  Each step halves the
    largest window at least, so about (runs x log2 run length) steps at most, each a binary search per run.
    """
    runs = bounds.size - 1
    lo = bounds[:-1].copy()
    hi = bounds[1:].copy()
    below = np.empty(runs, dtype=np.int64)
    at_most = np.empty(runs, dtype=np.int64)
    while True:
        widest = 0
        for r in range(1, runs):
            if hi[r] - lo[r] > hi[widest] - lo[widest]:
                widest = r
        x = values[(lo[widest] + hi[widest]) >> 1]
        n_below = 0
        n_at_most = 0
        for r in range(runs):
            below[r] = _count_below(values, lo[r], hi[r], x, False)
            at_most[r] = _count_below(values, lo[r], hi[r], x, True)
            n_below += below[r]
            n_at_most += at_most[r]
        if n_below <= k < n_at_most:
            return float(x)
        if k < n_below:
            for r in range(runs):
                hi[r] = lo[r] + below[r]
        else:
            k -= n_at_most
            for r in range(runs):
                lo[r] += at_most[r]


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


#: Buckets of at most this many values are sorted by insertion (a few comparisons a value).
_INSERTION_MAX = 16


@compiled
def _sort_bucket(a: np.ndarray, start: int, end: int) -> None:  # pragma: no cover - compiled
    """Sort ``a[start:end]`` in place: by insertion when short, else numba's sort unless already in order (a bucket
    of equal values, say)."""
    if end - start <= _INSERTION_MAX:
        for i in range(start + 1, end):
            v = a[i]
            j = i - 1
            while j >= start and a[j] > v:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = v
        return
    ordered = True
    for i in range(start + 1, end):
        ordered &= a[i - 1] <= a[i]
    if not ordered:
        a[start:end] = np.sort(a[start:end])


@compiled
def _spread(a: np.ndarray, tmp: np.ndarray, start: int, end: int) -> np.ndarray:  # pragma: no cover - compiled
    """Reorder the finite ``a[start:end]`` by value into about half as many buckets as values, each a stretch of equal
    width between their smallest and largest (``tmp[start:end]``: scratch); return the buckets' ends.  A bucket's
    index never decreases as the value grows, so the buckets come in order and only need sorting within.  When all
    the values are equal, or their range is too wide for the buckets' width to be a number, it is one bucket."""
    lo, hi = np.inf, -np.inf
    for i in range(start, end):
        lo = min(lo, a[i])
        hi = max(hi, a[i])
    buckets = max((end - start) // 2, 2)
    span = hi - lo  # (inf when the values reach past half the largest double's range either way)
    scale = (buckets - 1) / span if hi > lo and span < np.inf else np.inf
    if not scale < np.inf:
        return np.full(1, end, dtype=np.int64)
    top = np.float64(buckets - 1)
    ends = np.zeros(buckets, dtype=np.int64)
    for i in range(start, end):
        ends[np.int64(min((a[i] - lo) * scale, top))] += 1
    at = start
    for b in range(buckets):
        at += ends[b]
        ends[b] = at - ends[b]  # (the bucket's start, for the pass below, which leaves its end)
    for i in range(start, end):
        v = a[i]
        k = np.int64(min((v - lo) * scale, top))  # (its bucket)
        tmp[ends[k]] = v
        ends[k] += 1
    a[start:end] = tmp[start:end]
    return ends


@compiled
def sort_values(x: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[:] = np.sort(x)`` (float64): -inf first, then the finite values in increasing order, inf, and NaN last.

    A bucket sort: the finite values spread by value into about half as many buckets as values (:func:`_spread`),
    a bucket of more than a few spread again within its own range (decision months cluster around the looks), and
    the buckets sorted by insertion (numba's sort for what is still larger and out of order).  Four to six passes
    over the values.  numpy's sort partitions with AVX-512's compressing stores where it can, and those are slow on
    some processors (AMD Zen 4: 1.0-1.3 ms for 32,768 decision months, against 0.18-0.29 ms through numpy's AVX2 code
    and 0.35-0.58 ms here), hence :func:`condapprove.simulation.summary.sort_months`, which uses whichever is the
    faster.  Equal values may come in another order than numpy's (only 0.0 and -0.0 differ in their bits).
    """
    n = x.size
    n_low = 0
    n_high = 0
    n_nan = 0
    for i in range(n):
        v = x[i]
        n_low += v == -np.inf
        n_high += v == np.inf
        n_nan += np.isnan(v)
    first, stop = n_low, n - n_high - n_nan
    if first == 0 and stop == n:
        out[:] = x
    else:
        out[:first] = -np.inf
        out[stop:stop + n_high] = np.inf
        j, k = first, stop + n_high
        for i in range(n):
            v = x[i]
            if np.isnan(v):
                out[k] = v
                k += 1
            elif -np.inf < v < np.inf:
                out[j] = v
                j += 1
    tmp = np.empty(n, dtype=np.float64)
    ends = _spread(out, tmp, first, stop)
    s = first
    for e in ends:
        if e - s > _INSERTION_MAX:  # a crowded bucket: spread again, within its own range
            inner = _spread(out, tmp, s, e)
            s2 = s
            for e2 in inner:
                _sort_bucket(out, s2, e2)
                s2 = e2
        else:
            _sort_bucket(out, s, e)
        s = e
