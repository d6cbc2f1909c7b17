"""Compiled (numba) loop of a scenario's summary: the counts behind its probabilities and cumulative curves in
one pass over the replicates, instead of about twenty numpy passes over arrays of 10^6 replicates.

Imported lazily by :func:`condapprove.simulation.results.summarise` (numba's import costs about 0.3 s).  The
counts are integers, so they equal numpy's exactly (tested against the numpy code).
"""

from __future__ import annotations

import numpy as np

from .._jit import compiled

__all__ = ["tally"]


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
