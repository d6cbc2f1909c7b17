"""A compiled (numba) running sum down the rows of a 2-d array: the patient-major arrival gaps of the accrual.

``np.cumsum`` along either axis of a (patients, replicates) array advances element by element; adding whole
rows lets the compiler vectorise across the replicates (about ten times faster here), with the same additions
in the same order, so the same numbers.  Imported lazily by
:meth:`condapprove.accrual.PoissonAccrual.first_arrivals` (numba's import costs about 0.3 s).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["cumsum_rows"]


@njit(cache=True, nogil=True)
def cumsum_rows(x: np.ndarray) -> None:  # pragma: no cover - compiled
    """In place: ``x[j] += x[j - 1]`` for ``j = 1 .. k - 1`` of a (k, m) array."""
    k, m = x.shape
    for j in range(1, k):
        for i in range(m):
            x[j, i] += x[j - 1, i]
