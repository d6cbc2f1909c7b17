"""Tests of condapprove.kernels.rowsort: each row of a uint32 array sorted, by numpy or by splitting long rows by
value into short rows (reference: numpy's own ``np.sort(keys, axis=1)``, exactly)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condapprove.kernels import rowsort
from condapprove.kernels._rowsort_jit import TOP, plan_parts

_LAYOUTS = ("uniform", "padded", "look", "few values", "clustered", "sorted", "reversed", "narrow", "top only")


def _keys(layout: str, m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Rows of uint32 keys of one kind: random over the whole range, half padding (the largest uint32, as a
    look's patients not yet entered), a look's keys (times linear in the key, events and censorings, padding),
    a few distinct values, one value for most keys, in order, in reverse order, within a range of 1,000, or padding
    alone."""
    if layout == "uniform":
        return rng.integers(0, 2**32, (m, n), dtype=np.uint32)
    if layout == "padded":
        keys = rng.integers(0, 2**32, (m, n), dtype=np.uint32)
        keys[rng.random((m, n)) < 0.5] = TOP
        return keys
    if layout == "look":
        entry = np.sort(rng.uniform(0.0, 24.0, (m, n)), axis=1)
        event = rng.exponential(26.0, (m, n))
        c = 30.0 - entry
        t = np.minimum(event, c)
        q = np.floor(np.clip(t, 0.0, None) / 30.0 * 2**29).astype(np.uint32)
        keys = (q << np.uint32(2)) | ((t < event) * 2 + rng.integers(0, 2, (m, n))).astype(np.uint32)
        keys[c < 0] = TOP
        return keys
    if layout == "few values":
        return rng.integers(0, 5, (m, n)).astype(np.uint32) * np.uint32(1_000_003)
    if layout == "clustered":
        return np.where(rng.random((m, n)) < 0.8, np.uint32(77), rng.integers(0, 2**32, (m, n), dtype=np.uint32))
    if layout == "sorted":
        return np.sort(rng.integers(0, 2**32, (m, n), dtype=np.uint32), axis=1)
    if layout == "reversed":
        return np.sort(rng.integers(0, 2**32, (m, n), dtype=np.uint32), axis=1)[:, ::-1].copy()
    if layout == "narrow":
        return rng.integers(10**9, 10**9 + 1000, (m, n), dtype=np.uint32)
    return np.full((m, n), TOP)


@settings(derandomize=True, max_examples=80, deadline=None)
@given(st.integers(1, 150), st.integers(1, 2600), st.sampled_from(_LAYOUTS), st.integers(0, 2**32 - 1))
def test_split_sort_is_numpys_sort(m: int, n: int, layout: str, seed: int) -> None:
    """The split (``_split_sort``, whatever the rows' length) gives ``np.sort(keys, axis=1)`` exactly: rows of one
    key to 2,600, more rows than one pass splits (64), padding, a look's keys, ties, keys that cluster (sorted by
    numpy instead), keys already in order or reversed, and rows that differ from the first eight (which the plan
    samples) so that some parts overflow."""
    rng = np.random.default_rng(seed)
    keys = _keys(layout, m, n, rng)
    if m > 8 and layout in ("uniform", "look"):  # later rows unlike the sampled ones: parts overflow
        keys[8:] >>= np.uint32(rng.integers(0, 8))
    want = np.sort(keys, axis=1)
    rowsort._split_sort(keys)
    np.testing.assert_array_equal(keys, want)


@pytest.mark.parametrize("pays", [False, True])
@pytest.mark.parametrize("n", [100, rowsort.SPLIT_MIN_KEYS, rowsort.SPLIT_MIN_KEYS + 1, 3000])
def test_sort_rows_is_numpys_sort_either_way(n: int, pays: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sort_rows`` sorts like numpy whether the split pays on this processor or not, for rows short and long."""
    monkeypatch.setattr(rowsort, "_pays", pays)
    keys = _keys("look", 200, n, np.random.default_rng(n))
    want = np.sort(keys, axis=1)
    rowsort.sort_rows(keys)
    np.testing.assert_array_equal(keys, want)


def test_plan_parts_spreads_the_keys_and_gives_up_on_a_cluster() -> None:
    """The plan's parts hold about the target number of keys of a row each (every fine bin in one part, the parts
    in the order of the keys), and no parts (0) when one value alone holds more than the target (no split can
    spread it); a block of padding alone has none either."""
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 2**32 - 1, (16, 2000), dtype=np.uint32)
    fine_part = np.empty(1024, dtype=np.int64)
    low, shift, parts = plan_parts(keys, 192, fine_part)
    assert 2000 / 192 <= parts <= 2 * 2000 / 192
    assert np.all(np.diff(fine_part) >= 0) and fine_part[0] == 0 and fine_part[-1] == parts - 1
    part = fine_part[np.minimum((np.maximum(keys[:8], low) - low) >> shift, 1023)]
    held = np.array([(part == s).sum() / 8 for s in range(parts)])
    assert held.max() <= 192 and held[:-1].min() > 192 / 2
    clustered = np.where(rng.random((16, 2000)) < 0.2, np.uint32(5), keys)
    assert plan_parts(clustered, 192, fine_part)[2] == 0
    assert plan_parts(np.full((4, 600), TOP), 192, fine_part)[2] == 0


def test_split_pays_is_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``split_pays`` measures once per process and then answers from memory (a bool either way)."""
    monkeypatch.setattr(rowsort, "_pays", None)
    first = rowsort.split_pays()
    assert isinstance(first, bool) and rowsort._pays is first
    monkeypatch.setattr(rowsort, "_split_sort", None)  # not called again
    assert rowsort.split_pays() is first
