"""The numba helpers: the compiled loops work without a writable cache, and the accrual's running sum is numpy's."""

from __future__ import annotations

from typing import Any

import numpy as np


def test_compiled_loops_work_where_no_cache_folder_is_writable(monkeypatch: Any) -> None:
    """A read-only installation without a writable home: numba finds no cache location (it would raise at
    decoration); the loop is then compiled in memory and gives the same result."""
    from numba.core import caching

    from condapprove._jit import compiled

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in numba 0.6x
    monkeypatch.setattr(impl, "_locator_classes", [])

    def twice(x: np.ndarray) -> np.ndarray:
        return 2.0 * x

    f = compiled(twice)
    np.testing.assert_array_equal(f(np.arange(4.0)), [0.0, 2.0, 4.0, 6.0])


def test_running_sum_down_the_patients_is_numpys_cumsum() -> None:
    from condapprove._jit import cumsum_rows

    x = np.random.default_rng(3).standard_exponential((240, 2048))
    expected = np.cumsum(x, axis=0)
    cumsum_rows(x)
    np.testing.assert_array_equal(x, expected)  # the same additions in the same order: bit for bit
