"""numba, in one place: the decorator of every compiled loop, and the accrual's running sum.

The compiled loops of condapprove live in the ``*_jit`` modules, which the rest of the package imports lazily
(numba's import costs about 0.3 s and 55 MiB, and LLVM about 120 MiB more once a loop is loaded).  Each loop is
compiled on first use and cached on disk, next to the package or, where that folder is read-only, in
``NUMBA_CACHE_DIR`` or the user's cache folder; where no folder is writable (a read-only installation run by a
user without a home folder, say) :func:`compiled` still works and compiles in memory on each run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

__all__ = ["arrival_months", "compiled", "cumsum_rows"]


def compiled(fn: Callable[..., Any]) -> Any:
    """``numba.njit(cache=True, nogil=True)``, or without the disk cache where no cache folder is writable."""
    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # numba found no writable cache location
        return njit(nogil=True)(fn)


@compiled
def cumsum_rows(x: np.ndarray) -> None:  # pragma: no cover - compiled
    """In place: ``x[j] += x[j - 1]`` for ``j = 1 .. k - 1`` of a (k, m) array.

    The arrival times of the accrual: running sums down the patients of the patient-major gaps.  Adding whole
    rows lets the compiler vectorise across the replicates (about ten times faster than ``np.cumsum`` along
    either axis) with the same additions in the same order, so the same numbers.
    """
    k, m = x.shape
    for j in range(1, k):
        for i in range(m):
            x[j, i] += x[j - 1, i]


@compiled
def arrival_months(x: np.ndarray, keep: float, rate: float, start: float) -> None:  # pragma: no cover - compiled
    """In place: the arrival months of a constant-rate accrual from its (k, m) patient-major exponential gaps.

    The same operations, in the same order, as :func:`cumsum_rows` followed by the thinning (``/ keep``, only
    when ``keep != 1``) and the constant-rate inverse (``start + sum / rate``), in one pass instead of three or
    four over the array: the same numbers.
    """
    k, m = x.shape
    run = np.zeros(m)
    thin = keep != 1.0
    for j in range(k):
        for i in range(m):
            s = run[i] + x[j, i] if j > 0 else x[j, i]
            run[i] = s
            v = s / keep if thin else s
            x[j, i] = start + v / rate
