"""Compiled (numba) loops of counts: where a count falls among the known points, each arm's new patients at each
look, binomial counts by inversion (with their running sums along the looks) and binary look statistics looked up by
the counts of responders (the sufficient-statistics simulation), and the patients entered by a month (the
patient-level simulation).

Imported with the simulation's engine (:mod:`condapprove.simulation.sufficient` and the engine import it at module
level; numba's import costs about 0.3 s). They perform the numpy code's operations in the same order, so the counts
are the same.
"""

from __future__ import annotations

import numpy as np

from .._jit import compiled, inlined

__all__ = ["add_cell_moments", "add_cells", "between_known", "binomial_sums", "by_outcomes", "count_at_most",
           "count_at_most_sorted", "distinct_rows", "distinct_values", "invert_cdf", "kth_binned", "kth_of_ordered",
           "look_steps"]


@compiled
def between_known(entry_pos: np.ndarray, entry_n: np.ndarray, pos: np.ndarray, count: np.ndarray, n_points: int,
                  n: int, u: np.ndarray, out_left: np.ndarray, out_between: np.ndarray,
                  out_frac: np.ndarray) -> int:  # pragma: no cover - compiled
    """For a count of arrivals in [0, u] of each row: the count at the nearest known point on the left
    (``out_left``), the number of arrivals between it and the nearest known point on the right
    (``out_between``) and where ``u`` lies between the two (``out_frac``, in [0, 1]).

    The known points of row ``i``: the entries of patients ``entry_n[j]`` at ``entry_pos[i, j]`` (``entry_n[j]``
    arrivals at or before, one fewer strictly before; the last column is the ``n``-th, last patient's), and the
    counts ``k < n_points`` remembered, ``count[k, i]`` arrivals in ``[0, pos[k, i]]``.  A point counts as on the
    left when it is at or before ``u`` widened by rounding (``u (1 + 1e-12) + 1e-12``: a query at a patient's own
    entry counts them), and ``u`` is *at* the left point (``out_frac`` 0) when within the same rounding of it: a
    query at a patient's entry computed back from the calendar month lands an ulp or so either side of the known
    point, and none of the ``out_between`` arrivals falls in that width.  At or after the last patient the count is
    ``n``: nothing between.  Returns the number of rows with arrivals to draw (``out_between > 0`` and ``out_frac >
    0``).
    """
    draws = 0
    k0 = entry_n.size
    for i in range(u.size):
        ui = u[i]
        cut = ui * (1.0 + 1e-12) + 1e-12
        if not cut < entry_pos[i, k0 - 1]:
            out_left[i] = n
            out_between[i] = 0
            out_frac[i] = 0.0
            continue
        left_pos = 0.0
        left_n = 0
        right_pos = np.inf
        right_n = n + 1
        for k in range(k0):  # a row's entries lie side by side
            p = entry_pos[i, k]
            if p <= cut:
                left_pos = max(left_pos, p)
                left_n = max(left_n, entry_n[k])
            else:
                right_pos = min(right_pos, p)
                right_n = min(right_n, entry_n[k] - 1)
        for k in range(n_points):
            p = pos[k, i]
            if p <= cut:
                left_pos = max(left_pos, p)
                left_n = max(left_n, count[k, i])
            else:
                right_pos = min(right_pos, p)
                right_n = min(right_n, count[k, i])
        frac = (ui - left_pos) / (right_pos - left_pos)
        if frac < 0.0 or ui <= left_pos * (1.0 + 1e-12) + 1e-12:  # at the left point, up to rounding
            frac = 0.0
        elif frac > 1.0:
            frac = 1.0
        out_left[i] = left_n
        out_between[i] = right_n - left_n
        out_frac[i] = frac
        draws += right_n > left_n and frac > 0.0
    return draws


@compiled
def add_cells(x: np.ndarray, y: np.ndarray, valid: np.ndarray, treated: bool,
              counts: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Add one arm's valid patients to each row's numbers in the cells ``t + 2 y + 4 pattern`` (``t``: ``treated``;
    pattern bit ``j``: covariate ``j``): ``x`` (m, n, p), ``y`` and ``valid`` (m, n), of any layout; ``counts``
    (m, ``2**(p + 2)``), floats.  Returns False (the counts then meaningless) when a valid patient's covariate or
    outcome is neither 0 nor 1 (the propensity comparison's cells do not apply)."""
    m, n, p = x.shape
    bad = False
    t = 1 if treated else 0
    for i in range(m):  # along the rows; without branches (which patient is valid, and its cell, vary at random)
        row = counts[i]
        for j in range(n):
            ok = valid[i, j]
            v = y[i, j]
            bad |= ok & (v != 0.0) & (v != 1.0)
            cell = t + 2 * (v == 1.0)
            for c in range(p):
                v = x[i, j, c]
                bad |= ok & (v != 0.0) & (v != 1.0)
                cell += (v == 1.0) << (c + 2)
            row[cell] += ok
    return not bad


@compiled
def add_cell_moments(x: np.ndarray, y: np.ndarray, valid: np.ndarray, treated: bool, n: np.ndarray, mean: np.ndarray,
                     m2: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Add one arm's valid patients to each row's cells ``t + 2 pattern`` (``t``: ``treated``; pattern bit ``j``:
    covariate ``j``): their number ``n``, their outcomes' mean ``mean`` and sum of squared deviations from it ``m2``
    (Welford's updates; (m, ``2**(p + 1)``) each, zero to start), and the arm's smallest and largest outcome in
    ``lo`` and ``hi`` (m,; inf and -inf to start).  ``x`` (m, n, p), ``y`` and ``valid`` (m, n), of any layout,
    read patient by patient, a patient's replicates one after another: in memory order for the engine's patient-major
    arrays (2,048 x 120 patients in 1.7-1.9 against 2.0-2.4 ms replicate by replicate, medians of 30; the same
    numbers: each cell's updates come in the same order).
    Returns False (the sums then meaningless) when a valid patient's covariate is neither 0 nor 1."""
    rows, cols, p = x.shape
    bad = False
    t = 1 if treated else 0
    for j in range(cols):
        for i in range(rows):
            if not valid[i, j]:
                continue
            cell = t
            for c in range(p):
                v = x[i, j, c]
                bad |= (v != 0.0) & (v != 1.0)
                cell += (v == 1.0) << (c + 1)
            v = y[i, j]
            k = n[i, cell] + 1.0
            n[i, cell] = k
            delta = v - mean[i, cell]
            mean[i, cell] += delta / k
            m2[i, cell] += delta * (v - mean[i, cell])
            lo[i] = min(lo[i], v)
            hi[i] = max(hi[i], v)
    return not bad


@compiled
def count_at_most(x: np.ndarray, bound: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[i] = #{j : x[i, j] <= bound[i]}`` for an (m, n) array of any layout (``(x <= bound[:, None]).sum(1)``).

    The loop runs down the rows for each column, so the engine's patient-major entry months (transposed views)
    are read in memory order; NaN is never counted.
    """
    m, n = x.shape
    out[:] = 0
    for j in range(n):
        for i in range(m):
            out[i] += x[i, j] <= bound[i]


@compiled
def count_at_most_sorted(x: np.ndarray, bound: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`count_at_most` for rows that are nondecreasing (NaN-free): the last entry when it is within the
    bound (then the whole row is), else a binary search; a few reads per row instead of the whole row.
    A NaN bound counts nothing, as in :func:`count_at_most`."""
    m, n = x.shape
    for i in range(m):
        b = bound[i]
        if n > 0 and x[i, n - 1] <= b:
            out[i] = n
            continue
        lo, hi = 0, n  # the first position whose value exceeds b (or is compared false with NaN)
        while lo < hi:
            mid = (lo + hi) // 2
            if x[i, mid] <= b:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo


@compiled
def invert_cdf(u: np.ndarray, n: np.ndarray, v: int, cdf: np.ndarray, guide: np.ndarray,
               out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Where ``n == v``: ``out = min(#{x : cdf[x] <= u}, v)`` (``np.searchsorted(cdf, u, side="right")``, the
    inversion of a binomial CDF), found from a guide table instead of a binary search.

    ``guide[g]`` is the number of CDF values ``<= (g - 1) / G`` (``G = guide.size``): a uniform ``u`` in cell
    ``g = floor(u G)`` exceeds ``(g - 1) / G``, so its count is at least ``guide[g]``, and the search steps up
    from there (rarely a second step with the engine's tables of 32 cells per value).  Uniforms are in [0, 1).
    """
    m, cols = u.shape
    for i in range(m):
        for j in range(cols):
            if n[i, j] == v:
                out[i, j] = _inverted(u[i, j], v, cdf, 0, cdf.size, guide, 0, guide.size)


@compiled
def _inverted(x: float, v: int, cdf: np.ndarray, c0: int, size: int, guide: np.ndarray, g0: int,
              cells: int) -> int:  # pragma: no cover - compiled
    """:func:`invert_cdf`'s count for one uniform ``x`` (in [0, 1)) and ``v`` trials, the CDF in ``cdf[c0:c0 + size]``
    and its guide in ``guide[g0:g0 + cells]``."""
    g = np.int64(x * cells)  # x >= 0
    k = int(guide[g0 + (g if g < cells else cells - 1)])
    while k < size and cdf[c0 + k] <= x:
        k += 1
    return min(k, v)


@compiled
def kth_of_ordered(a: np.ndarray, b: np.ndarray, k: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The ``k``-th smallest (1-based) of each replicate's values in ``a`` and ``b`` together (``k`` at most their
    patients), as ``np.partition`` of the two side by side gives it.

    ``a`` (na, m) and ``b`` (nb, m; possibly no patients) are patient-major, one column per replicate, and each
    part's columns are normally nondecreasing (arrival months): the two are then merged up to the k-th value.  A
    replicate whose values are not in order in either part, or hold a NaN, is sorted whole instead (numpy's order,
    NaN last), so the value is the k-th order statistic either way.
    """
    na, m = a.shape
    nb = b.shape[0]
    ok = np.ones(m, dtype=np.bool_)
    for part in (a, b):  # down the patients, across the replicates
        n = part.shape[0]
        for j in range(n):
            for i in range(m):
                ok[i] &= part[j, i] == part[j, i]  # not NaN
        for j in range(1, n):
            for i in range(m):
                ok[i] &= part[j, i] >= part[j - 1, i]
    buf = np.empty(na + nb)
    for i in range(m):
        if ok[i]:
            p = 0
            q = 0
            v = 0.0
            for _ in range(k):
                if q >= nb or (p < na and a[p, i] <= b[q, i]):
                    v = a[p, i]
                    p += 1
                else:
                    v = b[q, i]
                    q += 1
            out[i] = v
        else:
            for j in range(na):
                buf[j] = a[j, i]
            for j in range(nb):
                buf[na + j] = b[j, i]
            out[i] = np.sort(buf)[k - 1]


@inlined
def _value_bin(x: float, lo: float, scale: float, bins: int) -> int:  # pragma: no cover - compiled
    """:func:`kth_binned`'s bin of ``x``: ``floor((x - lo) * scale) + 1`` clipped to ``[0, bins + 1]`` (below ``lo``
    0), ``bins + 2`` for inf and ``bins + 3`` for NaN.  Never decreasing as ``x`` grows (each step rounds
    monotonically), which is all the selection needs; branch-free, so the pass over a row vectorises."""
    t = min(max(np.floor((x - lo) * scale), -1.0), np.float64(bins))  # (x - lo) * scale: NaN only when x is NaN
    b = int(t) + 1
    b = 0 if x == -np.inf else b
    b = bins + 2 if x == np.inf else b
    return bins + 3 if np.isnan(x) else b


@compiled
def kth_binned(values: np.ndarray, ks: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[:, t] = np.sort(values, axis=1)[:, ks[t] - 1]`` (inf where ``ks[t]`` exceeds a row's values; NaN
    sorts last, as in numpy) without sorting the rows: for long rows, where numpy's sort leaves its sorting networks.

    ``values`` (m, n) float64; ``ks`` (int64) increasing, each at least 1; ``out`` (m, ``ks.size``).  Each row's
    values are counted into ``n // 2`` bins (at least 16, at most 4,096) of equal width over the range of the finite
    values of its block's first rows (a bin for the values below, one above, one for inf and one for NaN; the bin
    never decreases as the value grows), the bin that holds each rank is found from the counts, and only those
    bins' values are gathered and sorted.  The values are numpy's for any input (a row whose values all fall in one
    bin is sorted whole, only slower), though a 0.0 may come out as -0.0 where a row holds both, which numpy does
    not order either, and a NaN as ``np.nan``.  Two passes over a row and a sort of a few values, against numpy's
    sort of the whole row: for 2,048 rows and three ranks, 0.68 of the time of the sorted order keys for rows of 513
    months, 0.37 for 1,000 and 0.21 for 2,000, but 4.1 times it for rows of 240, which numpy's networks sort
    (docs/performance.md, item 116).  The summary's :func:`._summary_jit.order_statistics`, called row by row,
    took 4.4-4.7 times as long as this for rows of 513-2,000."""
    m, n = values.shape
    nk = ks.size
    lo, hi = np.inf, -np.inf
    for i in range(min(m, 8)):  # the bins' range: the finite values of a few rows (the rows are alike)
        for j in range(n):
            x = values[i, j]
            if abs(x) < np.inf:
                lo = min(lo, x)
                hi = max(hi, x)
    bins = max(16, min(4096, n // 2))
    scale = bins / (hi - lo) if lo < hi else 1.0
    if not (scale > 0.0 and scale < np.inf):  # (a span that is 0, subnormal or not finite)
        scale = 1.0
    if not abs(lo) < np.inf:
        lo = 0.0
    count = np.empty(bins + 4, np.int64)
    slot = np.full(bins + 4, -1, np.int64)  # a bin's place among the row's gathered bins, or -1
    which = np.empty(n, np.int64)
    buf = np.empty(n)
    first = np.empty(nk + 1, np.int64)  # the gathered bins' places in buf, and their ranks before them
    below = np.empty(nk, np.int64)
    at = np.empty(nk, np.int64)
    gathered = np.empty(nk, np.int64)
    rank_slot = np.empty(nk, np.int64)  # for each rank: its bin's slot, or -2 (inf) or -3 (NaN)
    for i in range(m):
        row = values[i]
        for j in range(n):
            which[j] = _value_bin(row[j], lo, scale, bins)
        count[:] = 0
        for j in range(n):
            count[which[j]] += 1
        c, b, used = 0, 0, 0
        first[0] = 0
        for t in range(nk):
            k = ks[t]
            while b < bins + 4 and c + count[b] < k:
                c += count[b]
                b += 1
            if b >= bins + 2:  # inf (or fewer than k values), or NaN
                rank_slot[t] = -3 if b == bins + 3 else -2
                continue
            if slot[b] < 0:
                slot[b] = used
                gathered[used] = b
                below[used] = c
                first[used + 1] = first[used] + count[b]
                at[used] = first[used]
                used += 1
            rank_slot[t] = slot[b]
        if used:
            for j in range(n):
                s = slot[which[j]]
                if s >= 0:
                    buf[at[s]] = row[j]
                    at[s] += 1
            for s in range(used):
                slot[gathered[s]] = -1
                a, z = first[s], first[s + 1]
                if z - a > 32:
                    buf[a:z].sort()
                else:  # a few values: insertion sort
                    for p in range(a + 1, z):
                        v = buf[p]
                        q = p - 1
                        while q >= a and buf[q] > v:
                            buf[q + 1] = buf[q]
                            q -= 1
                        buf[q + 1] = v
        for t in range(nk):
            s = rank_slot[t]
            out[i, t] = np.inf if s == -2 else np.nan if s == -3 else buf[first[s] + ks[t] - 1 - below[s]]


@compiled
def by_outcomes(xt: np.ndarray, xc: np.ndarray, b: int, z: np.ndarray, info: np.ndarray, est: np.ndarray,
                out_z: np.ndarray, out_info: np.ndarray, out_est: np.ndarray) -> None:  # pragma: no cover - compiled
    """Each row's look statistics from tables indexed by its two counts of responders: entry ``xt * b + xc`` of
    ``z``, ``info`` and ``est`` (``xt``, ``xc``: the counts as doubles, whole numbers from 0; ``xc`` all 0 without
    a control arm), into the outputs: numpy's ``table[xt.astype(int64) * b + xc.astype(int64)]`` for the three
    tables in one pass instead of eight numpy calls."""
    for i in range(xt.size):
        k = np.int64(xt[i]) * b + np.int64(xc[i])
        out_z[i] = z[k]
        out_info[i] = info[k]
        out_est[i] = est[k]


@compiled
def look_steps(counts: np.ndarray, treated_before: np.ndarray, paired: bool, d_t: np.ndarray,
               d_c: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Each arm's new patients at each look from the recruited stream's counts at the looks, in one pass.

    ``counts`` (m, L): patients recruited by each look; ``treated_before[c]``: treated among the first ``c``.  Fills
    ``d_t[:, j] = treated_before[counts[:, j]] - treated_before[counts[:, j - 1]]`` (from 0 at the first look) and,
    when ``paired``, ``d_c`` with the other patients (the numpy steps of ``sufficient._sums_sorted`` for counts in
    order).  False, with the outputs unspecified, when some row's counts decrease (its looks are then sorted first).
    """
    m, n_looks = counts.shape
    for j in range(n_looks):
        for i in range(m):
            c = counts[i, j]
            t = treated_before[c]
            c0 = 0
            t0 = 0
            if j > 0:
                c0 = counts[i, j - 1]
                if c < c0:
                    return False
                t0 = treated_before[c0]
            d_t[i, j] = t - t0
            if paired:
                d_c[i, j] = (c - c0) - (t - t0)
    return True


@compiled
def distinct_values(x: np.ndarray, out: np.ndarray) -> int:  # pragma: no cover - compiled
    """The distinct values of the 2-D integer array ``x``, ascending in ``out[:k]``, and their number ``k``; when
    there are more than ``out.size``, ``out.size + 1`` (the first ones found are then in ``out``, unsorted)."""
    k = 0
    rows, cols = x.shape
    for j in range(cols):
        for i in range(rows):
            v = x[i, j]
            found = False
            for h in range(k):
                if out[h] == v:
                    found = True
                    break
            if not found:
                if k == out.size:
                    return k + 1
                out[k] = v
                k += 1
    for h in range(1, k):  # insertion sort of the few values
        v = out[h]
        g = h - 1
        while g >= 0 and out[g] > v:
            out[g + 1] = out[g]
            g -= 1
        out[g + 1] = v
    return k


@compiled
def distinct_rows(bits: np.ndarray, first: np.ndarray, inverse: np.ndarray) -> int:  # pragma: no cover - compiled
    """Group the rows of the 2-D uint64 array ``bits`` (float64 rows seen as their bit patterns) by equal rows: the
    number ``k`` of distinct rows, the first row of each in ``first[:k]`` (in order of first appearance) and each
    row's group in ``inverse``.  One pass with a hash table of twice the rows (open addressing, linear probing) instead
    of a sort: rows compare equal exactly when their bits do.  A row equal to the one before it joins its group
    without hashing (runs of equal rows are the usual case: most rows of a block share their looks' information)."""
    m, cols = bits.shape
    size = 1
    while size < 2 * m:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    k = 0
    for i in range(m):
        if i > 0:
            again = True
            for j in range(cols):
                if bits[i, j] != bits[i - 1, j]:
                    again = False
                    break
            if again:
                inverse[i] = inverse[i - 1]
                continue
        h = np.uint64(0x9E3779B97F4A7C15)
        for j in range(cols):  # each word mixed in by splitmix64's finaliser (every bit reaches the low bits)
            h ^= bits[i, j]
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
        slot = np.int64(h & np.uint64(size - 1))
        while True:
            g = table[slot]
            if g < 0:
                table[slot] = k
                first[k] = i
                inverse[i] = k
                k += 1
                break
            f = first[g]
            same = True
            for j in range(cols):
                if bits[f, j] != bits[i, j]:
                    same = False
                    break
            if same:
                inverse[i] = g
                break
            slot = (slot + 1) & (size - 1)
    return k


@compiled
def binomial_sums(d: np.ndarray, u: np.ndarray, slot: np.ndarray, cdf: np.ndarray, cdf_start: np.ndarray,
                  guide: np.ndarray, guide_start: np.ndarray, n_out: np.ndarray, s_out: np.ndarray,
                  constant: np.ndarray) -> None:  # pragma: no cover - compiled
    """Running sums along the looks of ``d`` (m, L: patients added at each look) and of their responders, drawn by
    inversion of the uniforms ``u`` (m, L), as doubles into ``n_out`` and ``s_out``; ``constant[j]``: whether every
    row has the same ``n_out[:, j]``.

    The responders among ``v = d[i, j] > 0`` patients are :func:`invert_cdf`'s count with table ``slot[v]``: its
    CDF is ``cdf[cdf_start[t]:cdf_start[t + 1]]``, its guide ``guide[guide_start[t]:guide_start[t + 1]]``; none
    for ``v = 0``.  The same counts as :func:`invert_cdf` for each number of patients and the same sums (whole
    numbers, exact in doubles) as numpy's column-by-column running sums, in one pass instead of a dozen numpy calls.

    Look by look, on 1-d views of the columns: where every row adds the same patients (looks at fixed numbers of
    patients) the table is looked up once for the column, not once per row; the counts go into the column, and the
    running sums are added in a loop of their own (6.7-7.2 against 11.9-12.9 ns an element here: 32,768 x 3
    column-major uniforms, fresh at every call, 30 patients a look at p = 0.30 and 0.45; the same numbers).
    """
    m, n_looks = d.shape
    for j in range(n_looks):
        dj, uj, nj, sj = d[:, j], u[:, j], n_out[:, j], s_out[:, j]
        v0 = dj[0] if m > 0 else 0
        one_table = v0 > 0
        for i in range(m):
            one_table &= dj[i] == v0
        if one_table:  # every row adds v0 > 0 patients: one table for the column
            t = slot[v0]
            c0, g0 = cdf_start[t], guide_start[t]
            size, cells = cdf_start[t + 1] - c0, guide_start[t + 1] - g0
            for i in range(m):
                sj[i] = np.float64(_inverted(uj[i], v0, cdf, c0, size, guide, g0, cells))
        else:
            for i in range(m):
                v = dj[i]
                x = 0
                if v > 0:
                    t = slot[v]
                    x = _inverted(uj[i], v, cdf, cdf_start[t], cdf_start[t + 1] - cdf_start[t], guide, guide_start[t],
                                  guide_start[t + 1] - guide_start[t])
                sj[i] = np.float64(x)
        if j == 0:
            for i in range(m):
                nj[i] = np.float64(dj[i])
        else:
            n_prev, s_prev = n_out[:, j - 1], s_out[:, j - 1]
            for i in range(m):
                nj[i] = n_prev[i] + np.float64(dj[i])
                sj[i] = s_prev[i] + sj[i]
        same = True
        for i in range(m):
            same &= nj[i] == nj[0]
        constant[j] = same
