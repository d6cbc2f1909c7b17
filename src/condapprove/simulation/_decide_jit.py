"""Compiled (numba) loops for the end of :func:`condapprove.simulation.decision.decide`: the first look at which
each replicate stops, and the statistics at that look -- one pass over the rows instead of about twenty
numpy passes over (replicates, looks) arrays.  The decision rules themselves (bounds, posteriors, futility)
stay in numpy; these loops only read off their outcome.  Imported with the engine (:mod:`.decision`).
"""

from __future__ import annotations

import numpy as np

from .._jit import compiled
from ..boundaries import MIN_INFORMATION_STEP

#: A look counts when its information times this exceeds the counting looks' before it (compiled in as a constant):
#: it then adds more than a relative :data:`~condapprove.boundaries.MIN_INFORMATION_STEP`.
KEEP = 1.0 - MIN_INFORMATION_STEP

__all__ = ["KEEP", "compact_looks", "first_decision", "last_bounds", "looks_in_order", "one_pattern", "pick_rows",
           "screen_eligible", "sort_looks", "spread_bounds"]


@compiled
def looks_in_order(times: np.ndarray, z_cols: tuple[np.ndarray, ...], info_cols: tuple[np.ndarray, ...],
                   out_z: np.ndarray, out_info: np.ndarray, out_active: np.ndarray) -> int:  # pragma: no cover
    """Whether every row's looks are in time order (a look that does not happen -- a time that is not finite --
    counting as ``inf``); if so, the looks' statistics side by side (``out_z``, ``out_info``, (m, L) from the
    per-look columns) and which looks count (``out_active``): those that happen and add information to the
    counting looks before them (more than 0 at the first, more than a relative
    :data:`~condapprove.boundaries.MIN_INFORMATION_STEP` later), and the final analysis (the last column) if it
    happens.

    The numpy code it replaces for the usual case (``decide``): ``key = where(isfinite(times), times, inf)``
    non-decreasing along every row, then the running maximum (``np.maximum``, NaN-propagating) of the
    information of the active looks before each look.  Returns 0 (outputs undefined) as soon as a row is out
    of order (``decide`` then sorts each row's looks); else 2 when, moreover, every look of every row counts and
    every row's information equals the first row's, look by look (:func:`one_pattern` of the outputs, the final
    analysis being the last column: found in the same pass), and 1 otherwise.
    """
    m, n_looks = times.shape
    # look by look down the columns (the outputs are column-major, and a tuple indexed by the look is then read
    # once per column, not once per value), each step without a branch: 205 against 1,022 us for 32,768 rows of
    # three looks, 411 against 2,190 us of five (best of seven alternations, one-off); the same outputs
    for j in range(1, n_looks):  # non-decreasing along a row: every pair of neighbours in order
        for i in range(m):
            a = times[i, j - 1]
            b = times[i, j]
            if (b if np.isfinite(b) else np.inf) < (a if np.isfinite(a) else np.inf):
                return 0
    running = np.empty(m)  # each row's information of the counting looks so far (before the first: see below)
    same = True
    for j in range(n_looks):
        z_col = z_cols[j]
        info_col = info_cols[j]
        last = j == n_looks - 1
        first_info = info_col[0] if m > 0 else 0.0
        same_here = True
        for i in range(m):
            info = info_col[i]
            out_z[i, j] = z_col[i]
            out_info[i, j] = info
            r = -np.inf if j == 0 else running[i]
            happens = np.isfinite(times[i, j])
            active = happens & ((info * KEEP > (0.0 if j == 0 else r)) | last)
            out_active[i, j] = active
            same_here &= active & (info == first_info)
            seen = info if happens else -np.inf
            # np.maximum(running, where(active, info, -inf)), NaN kept: a NaN running stays (nothing is above it)
            running[i] = seen if (seen > r) | np.isnan(seen) else r
        same &= same_here
    return 2 if same else 1


@compiled
def sort_looks(times: np.ndarray, z_cols: tuple[np.ndarray, ...], info_cols: tuple[np.ndarray, ...],
               out_times: np.ndarray, out_z: np.ndarray, out_info: np.ndarray, out_active: np.ndarray,
               out_order: np.ndarray, out_final: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`looks_in_order`'s outputs for rows whose looks are not all in time order: each row's looks sorted by
    time (a time that is not finite as inf; ties in the design's order, as numpy's stable argsort leaves them), the
    design's column of each (``out_order``), their times, z and information, which is the final analysis (the
    design's last column) and which looks count (those that happen and add information, as a relative
    :data:`KEEP`, to every look that happened before them -- more than 0 at the first -- and the final analysis if it
    happens).  One pass over the rows instead of numpy's (``decide`` before the thirty-fifth round)::

        order = np.argsort(np.where(np.isfinite(times), times, np.inf), axis=1, kind="stable")
        z, info, times = (np.take_along_axis(a, order, 1) for a in (z, info, times))
        is_final = order == n - 1
        prev = the running np.maximum (NaN kept) of np.where(np.isfinite(times), info, -np.inf) before each look, 0
               before the first
        active = np.isfinite(times) & ((info * KEEP > prev) | is_final)
    """
    m, n = times.shape
    key = np.empty(n)
    idx = np.empty(n, dtype=np.int64)
    for i in range(m):
        for j in range(n):
            t = times[i, j]
            key[j] = t if np.isfinite(t) else np.inf
            idx[j] = j
        for j in range(1, n):  # insertion sort of a few looks: stable (a later look passes only greater keys)
            kj, ij = key[j], idx[j]
            c = j - 1
            while c >= 0 and key[c] > kj:
                key[c + 1], idx[c + 1] = key[c], idx[c]
                c -= 1
            key[c + 1], idx[c + 1] = kj, ij
        running = -np.inf
        for c in range(n):
            j = idx[c]
            t, v = times[i, j], info_cols[j][i]
            happens, final = np.isfinite(t), j == n - 1
            out_order[i, c], out_times[i, c], out_z[i, c], out_info[i, c], out_final[i, c] = j, t, z_cols[j][i], v, final
            out_active[i, c] = happens and (v * KEEP > (0.0 if c == 0 else running) or final)
            seen = v if happens else -np.inf
            if not np.isnan(running) and (np.isnan(seen) or seen > running):  # np.maximum, NaN kept
                running = seen


@compiled
def one_pattern(info: np.ndarray, active: np.ndarray, is_final: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Whether every look of every row counts (``active``), the last is each row's final analysis, and every row's
    information equals the first row's, look by look (``==``: a NaN equals nothing): ``active.all() and
    is_final[:, -1].all() and np.all(info == info[0])`` in one pass that stops at the first row that differs (the
    numpy expression took about 38 us for 2,048 rows of three looks, once per chunk)."""
    m, n_looks = info.shape
    for i in range(m):
        if not is_final[i, n_looks - 1]:
            return False
        for j in range(n_looks):
            if not (active[i, j] and info[i, j] == info[0, j]):
                return False
    return True


@compiled
def compact_looks(info: np.ndarray, active: np.ndarray, is_final: np.ndarray, stale: np.ndarray, info_c: np.ndarray,
                  pos: np.ndarray) -> None:  # pragma: no cover - compiled
    """Each row's counting looks moved to its front, for the bounds of rows whose looks vary
    (:func:`condapprove.simulation.decision._group_sequential_bounds`): whether the row's final analysis (its one
    ``is_final`` look) adds nothing to the counting interims before it (``stale``: its information times
    :data:`KEEP` at most theirs), and the information of the looks that count (``active``, less a stale final
    analysis), in time order and at least 1e-12, then NaN (``info_c``), with the looks' columns (``pos``: the
    counting looks', then the others', each in order).  One pass over the rows instead of numpy's::

        prior = np.where(active & ~is_final, info, -np.inf).max(axis=1)
        stale = info[is_final] * KEEP <= prior
        act = active & ~(stale[:, None] & is_final)
        pos = np.argsort(np.where(act, j, n + j), axis=1, kind="stable")
        info_c = np.where(np.take_along_axis(act, pos, 1), np.maximum(np.take_along_axis(info, pos, 1), 1e-12), nan)

    (a NaN information propagating as in numpy's maximum), whose dozen calls on arrays of a block's 2,048 rows and a
    few looks took most of the bounds' time in a design with a month interim (``designs/delytact_external.yaml``).
    """
    m, n = info.shape
    for i in range(m):
        prior, final_info = -np.inf, np.nan
        for j in range(n):
            v = info[i, j]
            if is_final[i, j]:
                final_info = v
            elif active[i, j] and not np.isnan(prior) and (np.isnan(v) or v > prior):
                prior = v
        st = final_info * KEEP <= prior
        stale[i] = st
        c = 0
        for j in range(n):
            if active[i, j] and not (st and is_final[i, j]):
                v = info[i, j]
                pos[i, c] = j
                info_c[i, c] = v if np.isnan(v) or v > 1e-12 else 1e-12
                c += 1
        for j in range(n):
            if not (active[i, j] and not (st and is_final[i, j])):
                pos[i, c] = j
                info_c[i, c] = np.nan
                c += 1


@compiled
def last_bounds(bounds_c: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Each row's bound at its last counting look, from the bounds of :func:`compact_looks`' rows (NaN after its
    counting looks): ``bounds_c[i, max(count of non-NaN - 1, 0)]``."""
    m, n = bounds_c.shape
    for i in range(m):
        k = 0
        for c in range(n):
            k += not np.isnan(bounds_c[i, c])
        out[i] = bounds_c[i, max(k - 1, 0)]


@compiled
def spread_bounds(bounds_c: np.ndarray, pos: np.ndarray, is_final: np.ndarray, stale: np.ndarray, last: np.ndarray,
                  out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The bounds of :func:`compact_looks`' rows back at their looks' columns (inf for a look that does not count),
    a stale final analysis taking ``last`` (the last interim's bound, at which it spends what is left):
    ``np.put_along_axis(out, pos, np.where(np.isnan(bounds_c), np.inf, bounds_c), axis=1)``, then
    ``out[is_final] = np.where(stale, last, out[is_final])``."""
    m, n = bounds_c.shape
    for i in range(m):
        for c in range(n):
            b = bounds_c[i, c]
            out[i, pos[i, c]] = np.inf if np.isnan(b) else b
        if stale[i]:
            for j in range(n):
                if is_final[i, j]:
                    out[i, j] = last[i]


@compiled
def first_decision(crossing: np.ndarray, futile: np.ndarray, is_final: np.ndarray, times: np.ndarray,
                   final: np.ndarray, order: np.ndarray, reached: np.ndarray, n_interims: int, codes: np.ndarray,
                   out_decision: np.ndarray, out_look: np.ndarray, out_month: np.ndarray,
                   out_sel: np.ndarray) -> None:  # pragma: no cover - compiled
    """Each row's decision, look, month and the (design-order) look whose statistics are reported.

    Looks are in time order along each row.  The first look that crosses (``crossing``) or stops for futility
    (``futile``) decides; without one, the final analysis (``is_final``) does.  ``codes`` holds the outcome
    codes (confirmed, futility, not confirmed, undecided); a replicate that never stops is "not confirmed" if
    it ``reached`` its targets, else "undecided".  ``order[i, j]`` is the design-order index of time-ordered
    look ``j`` (the final is the last, ``L - 1``, reported as ``n_interims``; ``order`` (m, L), or (1, L) when every
    row has the same); the month is that look's time, or ``final`` when the look never happened.
    """
    m, n_looks = crossing.shape
    shared = order.shape[0] == 1
    for i in range(m):
        pos = -1
        for j in range(n_looks):
            if crossing[i, j] or futile[i, j]:
                pos = j
                break
        if pos >= 0:
            dec = codes[0] if crossing[i, pos] else codes[1]
        else:
            for j in range(n_looks):
                if is_final[i, j]:
                    pos = j
                    break
            dec = codes[2] if reached[i] else codes[3]
        sel = order[0 if shared else i, pos]
        out_decision[i] = dec
        out_look[i] = n_interims if sel == n_looks - 1 else sel
        t = times[i, pos]
        out_month[i] = t if np.isfinite(t) else final[i]
        out_sel[i] = sel


@compiled
def pick_rows(fields: tuple[tuple[np.ndarray, ...], ...], sel: np.ndarray,
              out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[k, i] = fields[k][sel[i]][i]``: each row's value of each statistic at its selected look (``fields``: per
    statistic, a tuple of like 1-d arrays, one per look; ``out`` (statistics, rows)).

    Every look's value is read and the selected one kept without a branch (a tuple indexed by a row's look became
    a jump that mispredicted wherever rows stop at different looks: 863 against 86 us for 32,768 rows of four
    statistics at three looks chosen at random, best of five, one-off)."""
    m = sel.size
    for k in range(len(fields)):
        columns = fields[k]
        row = out[k]
        for i in range(m):
            s = sel[i]
            v = columns[0][i]
            for j in range(1, len(columns)):
                w = columns[j][i]
                v = w if s == j else v
            row[i] = v


@compiled
def screen_eligible(times: np.ndarray, target_time: np.ndarray, cutoff: float,
                    out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out = (target_time <= cutoff) & np.isfinite(times[:, :-1]).all(axis=1)`` in one pass over the rows (numpy's
    reduction along a row of two or three looks took most of that expression's time)."""
    for i in range(times.shape[0]):
        ok = target_time[i] <= cutoff
        for j in range(times.shape[1] - 1):
            ok = ok and np.isfinite(times[i, j])
        out[i] = ok
