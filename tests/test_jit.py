"""The numba helpers: the compiled loops work without a writable cache, and the accrual's running sum is numpy's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest


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



def test_float_bits_is_the_bit_pattern_of_the_double() -> None:
    """``float_bits`` inside a compiled loop gives numpy's ``view(np.uint64)`` of each double: signed zeros,
    subnormals, the largest double, infinities and NaN (with their sign bits) included."""
    import numba

    from condapprove._jit import float_bits

    @numba.njit
    def bits_of(x: np.ndarray, out: np.ndarray) -> None:
        for i in range(x.size):
            out[i] = float_bits(x[i])

    special = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.0, -1.0, 1.7976931348623157e308, np.inf,
               -np.inf, np.nan, -np.nan, 0.1]
    x = np.concatenate([special, np.random.default_rng(5).standard_normal(1000) * 1e3])
    out = np.zeros(x.size, dtype=np.uint64)
    bits_of(x, out)
    np.testing.assert_array_equal(out, x.view(np.uint64))


def test_small_float_is_the_exact_double_of_an_integer_below_2_52() -> None:
    """The log-rank walk's conversion of its counts (an OR with the bits of 2**52, then 2**52 subtracted) gives
    ``float(x)`` exactly for every integer in [0, 2**52): the edges, every power of two and its neighbours, and
    random integers of every size."""
    from condapprove.kernels._tte_jit import _small_float

    rng = np.random.default_rng(11)
    powers = [2**k + d for k in range(52) for d in (-1, 0, 1) if 0 <= 2**k + d < 2**52]
    values = [0, 1, 2**52 - 1, *powers, *rng.integers(0, 2**52, 500).tolist(), *rng.integers(0, 1000, 500).tolist()]
    for v in values:
        assert _small_float(np.uint64(v)) == float(v), v


def test_value_range_passes_over_nan_and_says_it_saw_one() -> None:
    """The smallest and largest numbers of a row (NaN passed over) and whether it holds a NaN: numpy's nanmin and
    nanmax, infinities included; an empty row or one of NaN alone has no numbers (inf, -inf)."""
    from condapprove._jit import value_range

    rng = np.random.default_rng(2)
    rows = [np.array([]), np.array([np.nan]), np.array([3.0, np.nan, -1.0]), np.array([-np.inf, 2.0, np.inf]),
            np.array([0.0, -0.0]), rng.standard_normal(257)]
    for row in rows:
        numbers = row[~np.isnan(row)]
        want = ((numbers.min(), numbers.max()) if numbers.size else (np.inf, -np.inf)) + (bool(np.isnan(row).any()),)
        assert value_range(row) == want


def test_bits_float_is_the_double_of_the_bit_pattern() -> None:
    """``bits_float`` inside a compiled loop gives numpy's ``view(np.float64)`` of each uint64: the inverse of
    ``float_bits`` (NaN payloads compared as bits)."""
    import numba

    from condapprove._jit import bits_float

    @numba.njit
    def doubles_of(k: np.ndarray, out: np.ndarray) -> None:
        for i in range(k.size):
            out[i] = bits_float(k[i])

    x = np.concatenate([[0.0, -0.0, 5e-324, 1.0, np.inf, -np.inf, np.nan],
                        np.random.default_rng(6).standard_normal(1000) * 1e3])
    k = np.concatenate([x.view(np.uint64), np.random.default_rng(7).integers(0, 2**63, 1000, dtype=np.uint64) * 2])
    out = np.zeros(k.size)
    doubles_of(k, out)
    np.testing.assert_array_equal(out.view(np.uint64), k)


def test_arm_cumulative_sums_are_numpys_cumsum_in_either_layout() -> None:
    """The look statistics' cumulative sums of an arm's outcomes and their squares, compiled for both layouts of
    ``y`` (a transposed view of patient-major draws, or replicate-major), equal numpy's cumsum bit for bit,
    infinities and NaN included."""
    from condapprove._jit import running_sums
    from condapprove.simulation.population import ArmData

    rng = np.random.default_rng(11)
    base = rng.standard_normal((37, 53)) * 1e3
    base[3, 5], base[7, 0], base[9, 52] = np.inf, np.nan, -np.inf
    for y in (base, np.ascontiguousarray(base.T).T):  # replicate-major, patient-major
        data = ArmData(arm=None, entry=y, ready=y, y=y, dropout_time=None, x=None)  # type: ignore[arg-type]
        s, ss = data.cumulative()
        np.testing.assert_array_equal(s, np.cumsum(y, axis=1))
        np.testing.assert_array_equal(ss, np.cumsum(y * y, axis=1))
    s, ss = np.empty((2, 0)), np.empty((2, 0))
    running_sums(np.empty((2, 0)), s, ss)  # no patients


# The streams' seeds: the compiled hash of condapprove._seed_jit against numpy's SeedSequence.

from hypothesis import given, settings
from hypothesis import strategies as st

_WORD = st.integers(0, 2**32 - 1)
_BIG = st.integers(0, 2**130)


@settings(max_examples=200, deadline=None)
@given(entropy=st.one_of(_WORD, _BIG), root_key=st.lists(st.one_of(_WORD, _BIG), max_size=3),
       key=st.lists(st.one_of(_WORD, _BIG), max_size=4), pool_size=st.sampled_from([4, 5, 8]))
def test_stream_seeds_are_numpys_bit_for_bit(entropy: int, root_key: list[int], key: list[int],
                                             pool_size: int) -> None:
    """``spawn_streams`` gives the generator numpy's ``SeedSequence(entropy, spawn_key=root key + key)`` gives
    (the same first draws), and its seed sequence the same state words of any length and type; keys of one word
    (the engine's) and of several words (large integers), entropy of one word and of several; from the root as a
    seed sequence and as a :class:`~condapprove._rng.Root` (its entropy, spawn key and pool size, as the engine's
    chunks make it)."""
    from condapprove._rng import Root, spawn_streams

    for root in (np.random.SeedSequence(entropy, spawn_key=tuple(root_key), pool_size=pool_size),
                 Root(entropy, tuple(root_key), pool_size)):
        got = spawn_streams(root, tuple(key))
        ref_seq = np.random.SeedSequence(entropy, spawn_key=tuple(root_key) + tuple(key), pool_size=pool_size)
        ref = np.random.Generator(np.random.PCG64(ref_seq))
        np.testing.assert_array_equal(got.integers(0, 2**63, 8), ref.integers(0, 2**63, 8))
        mine = got.bit_generator.seed_seq
        for n, dtype in ((1, np.uint32), (7, np.uint32), (4, np.uint64), (3, np.uint64), (9, "uint64")):
            a, b = mine.generate_state(n, dtype), ref_seq.generate_state(n, dtype)
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


@settings(max_examples=100, deadline=None)
@given(entropy=st.one_of(_WORD, _BIG), root_key=st.lists(st.one_of(_WORD, _BIG), max_size=2),
       heads=st.lists(st.lists(st.one_of(_WORD, _BIG), max_size=3), max_size=5), last=st.one_of(_WORD, _BIG))
def test_child_states_are_each_childs_seed_state(entropy: int, root_key: list[int], heads: list[list[int]],
                                                 last: int) -> None:
    """``child_states``: the rows numpy's ``SeedSequence(entropy, spawn_key=root key + head + (last,))`` gives
    PCG64 (``generate_state(4, np.uint64)``) for each head, hashed together when the keys' words line up and one by
    one when they do not (a last element or a head of several words); None for a root without integer entropy."""
    from condapprove._rng import Root, child_states

    root = Root(entropy, tuple(root_key))
    got = child_states(root, [tuple(h) for h in heads], last)
    assert got is not None and got.shape == (len(heads), 4) and got.dtype == np.uint64
    for row, head in zip(got, heads):
        ref = np.random.SeedSequence(entropy, spawn_key=(*root_key, *head, last))
        np.testing.assert_array_equal(row, ref.generate_state(4, np.uint64))
    assert child_states(np.random.SeedSequence([1, 2]), [(3,)] * 2, 5) is None


def test_root_of_a_seed_is_its_seed_sequences_entropy_and_key() -> None:
    """``root_of``: a non-negative integer seed gives a :class:`~condapprove._rng.Root` with the entropy, spawn key
    and pool size of ``root_seed_sequence``'s; any other seed that sequence itself; bad seeds numpy's errors."""
    from condapprove._rng import Root, root_of, root_seed_sequence
    from condapprove.errors import DesignError

    for seed in (0, 7, np.int64(2**40), 2**130):
        got, ref = root_of(seed), root_seed_sequence(seed)
        assert isinstance(got, Root)
        assert (got.entropy, got.spawn_key, got.pool_size) == (ref.entropy, tuple(ref.spawn_key), ref.pool_size)
        assert type(got.entropy) is int
    seq = np.random.SeedSequence(5, spawn_key=(2,))
    assert root_of(seq) is seq
    assert isinstance(root_of(None), np.random.SeedSequence)
    for bad in (-1, True, 1.5, "1"):
        with pytest.raises(DesignError, match="seed"):
            root_of(bad)


def test_stream_lead_words_are_kept_per_root_value() -> None:
    """The words every stream of a root starts with are kept per root *value* (entropy, spawn key, pool size):
    roots of equal values share them, whatever their type; the words kept for one root never serve another (each
    root's streams are numpy's); a key whose last element is longer than a word, or negative, takes the general
    path."""
    from condapprove import _rng
    from condapprove.errors import DesignError

    a, b = np.random.SeedSequence(1), np.random.SeedSequence(2)
    _rng.spawn_streams(a, (3, 4))
    for root, key in ((b, (3, 4)), (a, (3, 5)), (b, (3, 2**40)), (_rng.Root(1), (3, 4)), (_rng.Root(2, (7,)), (1,))):
        ref = np.random.Generator(np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=(
            *root.spawn_key, *key))))
        np.testing.assert_array_equal(_rng.spawn_streams(root, key).random(4), ref.random(4))
    assert _rng._lead_words(_rng.Root(1)) is _rng._lead_words(a)  # (equal values: computed once)
    assert not np.array_equal(_rng._lead_words(_rng.Root(1)), _rng._lead_words(b))
    with pytest.raises(DesignError, match="non-negative"):
        _rng.spawn_streams(a, (3, -1))


def test_stream_seeds_from_a_sequence_entropy_take_numpys_own_path() -> None:
    """A root whose entropy is a list (a user's SeedSequence) is handed to numpy unchanged: same stream."""
    from condapprove._rng import spawn_streams

    root = np.random.SeedSequence([1, 2, 3])
    ref = np.random.Generator(np.random.PCG64(np.random.SeedSequence([1, 2, 3], spawn_key=(4, 5))))
    np.testing.assert_array_equal(spawn_streams(root, (4, 5)).random(4), ref.random(4))


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 300), st.integers(0, 4), st.integers(0, 2**32 - 1))
def test_kth_event_from_narrow_order_keys_is_the_sorted_rows_column(m: int, n: int, extra_bits: int,
                                                                   seed: int) -> None:
    """The k-th smallest month of each row, from the sorted narrow order keys (each carrying its column) and the
    exact months of the few that share a key, equals the sorted rows' column k - 1 for every k (inf beyond the
    row): months apart by a relative 1e-7 (one key), exact ties, infinities and the largest doubles, negative
    months and -0.0, with the
    fewest index bits and with more (up to 24: keys without every exponent bit)."""
    from condapprove.kernels._tte_jit import kth_ordered, order_keys

    rng = np.random.default_rng(seed)
    base = rng.uniform(0.0, 60.0, (m, n))
    kind = rng.integers(0, 6, (m, n))
    near = base[:, :1] * (1.0 + rng.integers(0, 3, (m, n)) * 1e-7)  # a relative 1e-7: one narrow key
    huge = np.finfo(np.float64).max * (base / 60.0)  # finite, in the top binade: beside inf in the widest keys
    values = np.select([kind == 0, kind == 1, kind == 2, kind == 3, kind == 4], [np.round(base), near, np.inf, -base,
                                                                                huge], base)
    values[rng.random((m, n)) < 0.05] = -0.0
    want = np.sort(values, axis=1)
    bits = max(1, (n - 1).bit_length()) + (extra_bits if extra_bits < 4 else 24 - max(1, (n - 1).bit_length()))
    order = np.empty((m, n), dtype=np.uint32)
    order_keys(values, bits, order)
    order.sort(axis=1)
    np.testing.assert_array_equal(order & np.uint32((1 << bits) - 1) < n, True)  # every key carries its column
    out = np.empty(m)
    for k in range(1, n + 2):
        kth_ordered(values, order, bits, k, out)
        np.testing.assert_array_equal(out, want[:, k - 1] if k <= n else np.inf)


@settings(derandomize=True, max_examples=80, deadline=None)
@given(st.integers(1, 12), st.integers(0, 700), st.integers(0, 7), st.integers(0, 2**32 - 1), st.data())
def test_kth_binned_is_the_sorted_rows_column(m: int, n: int, layout: int, seed: int, data: st.DataObject) -> None:
    """``kth_binned``'s selection of ranks equals the sorted rows' columns ``k - 1`` (inf beyond the row, NaN where
    numpy sorts a NaN): event months with infinities, exact ties, NaN and -inf, negative months and -0.0, rows
    unlike the first eight (whose finite values set the bins' range), a range of one value, of subnormal width or
    of the whole double range, rows without a finite value, and one bin holding most of a row."""
    from condapprove.simulation._counts_jit import kth_binned

    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 60.0, (m, n))
    if layout == 0:  # events and infinities (no event), with exact ties
        values = np.where(rng.random((m, n)) < 0.2, np.round(values), values)
        values[rng.random((m, n)) < 0.3] = np.inf
    elif layout == 1:  # NaN, -inf, -0.0 and negative months
        kind = rng.integers(0, 5, (m, n))
        values = np.select([kind == 0, kind == 1, kind == 2, kind == 3], [np.nan, -np.inf, -0.0, -values], values)
    elif layout == 2:  # later rows far outside the first rows' range
        values[8:] = values[8:] * 1e6 - 3e7
    elif layout == 3:  # one value, and a step of one ulp
        values = np.where(rng.random((m, n)) < 0.5, 3.0, np.nextafter(3.0, 4.0))
    elif layout == 4:  # a subnormal span
        values = rng.integers(0, 4, (m, n)) * 5e-324
    elif layout == 5:  # the whole double range
        values = rng.choice([-1.0, 1.0], (m, n)) * np.finfo(np.float64).max * rng.random((m, n))
    elif layout == 6:  # no finite value in the first rows
        values[:8] = np.inf
    else:  # most of each row in one bin, beside a few far values
        values = np.where(rng.random((m, n)) < 0.9, 7.0 + rng.random((m, n)) * 1e-9, values)
    ks = np.array(sorted(set(data.draw(st.lists(st.integers(1, n + 3), min_size=1, max_size=6)))), dtype=np.int64)
    out = np.empty((m, ks.size))
    kth_binned(values, ks, out)
    want = np.sort(values, axis=1)
    for t, k in enumerate(ks):
        np.testing.assert_array_equal(out[:, t], want[:, k - 1] if k <= n else np.inf)


def _columns_by_numpy(entry: np.ndarray, y: np.ndarray, dropout: np.ndarray | None, recruited: bool,
                      treated: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What ``patient_columns`` writes (entry, first key, calendar), computed with numpy operations (an arm not
    recruited writes no calendar: 7.0, the test's fill, is left)."""
    e = entry if recruited else np.full(y.shape, -1e12)
    first = y if dropout is None else np.minimum(y, dropout)
    event = (y < np.inf) & (True if dropout is None else y <= dropout)
    calendar = np.where(event, e + first, np.inf) if recruited else np.full(y.shape, 7.0)
    code_t = np.uint64(treated)
    bits = (first + 0.0).view(np.uint64)
    key = np.where(bits < np.uint64(0x7FF0_0000_0000_0000),
                   (bits & ~np.uint64(3)) | np.where(event, code_t, np.uint64(2) | code_t),
                   np.uint64(0xFFFF_FFFF_FFFF_FFFF))
    return e, key, calendar


def test_patient_columns_read_either_layout() -> None:
    """The time-to-event columns' pass writes what numpy's operations give, for replicate-major draws (the
    engine's) and for patient-major ones seen through a transpose, with and without dropout, recruited or not (an
    arm not recruited leaves the calendar as it was): ties of event and dropout, infinities (no event) included."""
    from condapprove.kernels._tte_jit import _STAGED_ROWS, patient_columns

    rng = np.random.default_rng(9)
    assert 300 > _STAGED_ROWS and 300 % _STAGED_ROWS  # (several staged tiles of entries, and a part of one)
    for m, n in ((1, 3), (37, 11), (300, 24)):
        entry = np.sort(rng.uniform(0, 12, (n, m)), axis=0)  # patient-major, as drawn
        y = rng.standard_exponential((n, m)) * 10
        dropout = rng.standard_exponential((n, m)) * 30
        y[0, 0], dropout[min(1, n - 1), -1] = np.inf, y[min(1, n - 1), -1]  # no event; an event tied with dropout
        for layout in ("patient-major", "replicate-major"):
            e_v, y_v, d_v = (a.T if layout == "patient-major" else np.ascontiguousarray(a.T)
                             for a in (entry, y, dropout))
            for has_dropout in (True, False):
                for recruited, treated in ((True, True), (True, False), (False, False)):
                    out_entry, out_cal = np.full((m, n + 2), 7.0), np.full((m, n + 2), 7.0)
                    out_key = np.zeros((m, n + 2), dtype=np.uint64)
                    patient_columns(e_v, y_v, d_v if has_dropout else np.empty((0, 0)), has_dropout, recruited,
                                    treated, 2, False, out_entry, np.empty((0, 0)), np.empty((0, 0), dtype=bool),
                                    out_key, out_cal, False, np.ones(0), 1.0, 1.0)
                    want = _columns_by_numpy(e_v, y_v, d_v if has_dropout else None, recruited, treated)
                    for got, expected in zip((out_entry, out_key, out_cal), want):
                        np.testing.assert_array_equal(got[:, 2:], expected)
                    np.testing.assert_array_equal(out_entry[:, :2], 7.0)  # columns before col0 untouched


@pytest.mark.parametrize("has_dropout", [True, False])
def test_patient_columns_scale_the_draws_and_write_the_full_columns(has_dropout: bool) -> None:
    """With ``scaled`` (standard exponential draws read as ``y * y_mult[i] / y_rate`` and ``dropout / dropout_rate``)
    and ``full`` (also the time to the first of event and dropout, and whether it is the event), the pass writes
    what numpy's operations on the scaled times give, bit for bit, for either layout of the draws."""
    from condapprove.kernels._tte_jit import patient_columns

    rng = np.random.default_rng(10)
    m, n = 45, 13
    entry = np.sort(rng.uniform(0, 12, (n, m)), axis=0).T
    y = rng.standard_exponential((m, n))
    dropout = rng.standard_exponential((m, n))
    y[3, 4] = np.inf
    mult, y_rate, d_rate = rng.uniform(0.5, 2.0, m), 0.0578, 0.0043
    dropout[5, 6] = (y[5, 6] * mult[5]) / y_rate * d_rate  # (near) a tie of event and dropout
    t = (y * mult[:, None]) / y_rate
    d = dropout / d_rate
    for layout in ("patient-major", "replicate-major"):
        y_v, d_v = (np.ascontiguousarray(a.T).T if layout == "patient-major" else a for a in (y, dropout))
        outs = [np.full((m, n + 1), 7.0), np.full((m, n + 1), 7.0), np.zeros((m, n + 1), dtype=bool),
                np.zeros((m, n + 1), dtype=np.uint64), np.full((m, n + 1), 7.0)]
        patient_columns(entry, y_v, d_v if has_dropout else np.empty((0, 0)), has_dropout, True, False, 1, True,
                        *outs, True, mult, y_rate, d_rate)
        out_entry, out_first, out_is_event, out_key, out_cal = outs
        want = _columns_by_numpy(entry, t, d if has_dropout else None, True, False)
        for got, expected in zip((out_entry, out_key, out_cal), want):
            np.testing.assert_array_equal(got[:, 1:], expected)
        np.testing.assert_array_equal(out_first[:, 1:], np.minimum(t, d) if has_dropout else t)
        np.testing.assert_array_equal(out_is_event[:, 1:], (t < np.inf) & (t <= d) if has_dropout else t < np.inf)
        np.testing.assert_array_equal(out_first[:, 0], 7.0)  # the column before col0 untouched


@pytest.mark.parametrize("has_dropout", [True, False])
@pytest.mark.parametrize("m", [37, 150])
def test_two_arm_columns_are_those_of_the_arms_one_by_one(has_dropout: bool, m: int) -> None:
    """``two_arm_columns`` (a randomised trial's arms in one pass over the rows) writes what
    ``patient_columns`` writes for each arm in turn, the treated first: arms of different sizes, multipliers
    and rates, scaled or not, entries read through transposes of one patient-major array (as the engine's
    alternate); fewer rows than a staged tile of entries, and several tiles with a part of one."""
    from condapprove.kernels._tte_jit import _STAGED_ROWS, patient_columns, two_arm_columns

    assert 37 < _STAGED_ROWS < 150 and 150 % _STAGED_ROWS
    rng = np.random.default_rng(12)
    n_t, n_c = 9, 6
    entry = np.sort(rng.uniform(0, 12, (n_t + n_c, m)), axis=0)  # patient-major
    e_t, e_c = entry.T[:, :n_t], entry.T[:, n_t:]
    y_t, y_c, d_t, d_c = (rng.standard_exponential((m, n)) for n in (n_t, n_c, n_t, n_c))
    y_t[2, 3] = np.inf
    mult_t, mult_c = rng.uniform(0.5, 2.0, m), rng.uniform(0.5, 2.0, m)
    rates = (0.05, 0.004, 0.08, 0.007)  # each arm's event and dropout rates
    no_drop = np.empty((0, 0))
    want = [np.full((m, n_t + n_c), 7.0), np.zeros((m, n_t + n_c), dtype=np.uint64), np.full((m, n_t + n_c), 7.0)]
    for treated, e, y, d, mult, (y_rate, d_rate), col in ((True, e_t, y_t, d_t, mult_t, rates[:2], 0),
                                                          (False, e_c, y_c, d_c, mult_c, rates[2:], n_t)):
        patient_columns(e, y, d if has_dropout else no_drop, has_dropout, True, treated, col, False, want[0],
                             no_drop, np.empty((0, 0), dtype=bool), want[1], want[2], True, mult, y_rate, d_rate)
    got = [np.full((m, n_t + n_c), 7.0), np.zeros((m, n_t + n_c), dtype=np.uint64), np.full((m, n_t + n_c), 7.0)]
    two_arm_columns(e_t, y_t, d_t if has_dropout else no_drop, e_c, y_c, d_c if has_dropout else no_drop,
                         has_dropout, *got, True, mult_t, *rates[:2], True, mult_c, *rates[2:])
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    # an arm whose draws are the times already (patient-level effects, another baseline): read unscaled
    patient_columns(e_c, y_c, d_c if has_dropout else no_drop, has_dropout, True, False, n_t, False, want[0],
                         no_drop, np.empty((0, 0), dtype=bool), want[1], want[2], False, np.ones(0), 1.0, 1.0)
    two_arm_columns(e_t, y_t, d_t if has_dropout else no_drop, e_c, y_c, d_c if has_dropout else no_drop,
                         has_dropout, *got, True, mult_t, *rates[:2], False, np.ones(0), 1.0, 1.0)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert np.isfinite(got[2][:, :n_t]).any() and np.isfinite(got[2][:, n_t:]).any()


# The log-rank at a look from narrow (uint32) keys, against the wide (uint64) keys it stands in for.


def _logrank_both_ways(entry: np.ndarray, tau: np.ndarray, first_key: np.ndarray, n_t: int,
                       beyond: bool = True) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """The sums of ``walk_sorted`` (n_valid, n1, e1, var, o1, events) from the wide keys and from the narrow ones,
    and which rows ``unsure_rows`` reports; checks that the engine's narrow keys in buffers by width
    (:func:`_by_width`) give the narrow keys' sums and report the same rows."""
    from condapprove.kernels._tte_jit import look_keys, look_keys32, unsure_rows, walk_sorted

    m, n = entry.shape
    code = np.uint64(2) | (np.arange(n) < n_t).astype(np.uint64)
    out = []
    for dtype in (np.uint64, np.uint32):
        key = np.empty((m, n), dtype=dtype)
        sums = [np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty(m), np.empty(m),
                np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)]
        if dtype is np.uint64:
            look_keys(entry, tau, first_key, code, key, sums[0], sums[1])
        else:
            look_keys32(entry, tau, first_key, code, np.arange(m), key, sums[0], sums[1], beyond)
        (key.view(np.float64) if dtype is np.uint64 else key).sort(axis=1)
        walk_sorted(key, *sums)
        out.append(sums)
    unsure = np.empty(m, dtype=bool)
    assert unsure_rows(key, out[1][0], unsure) == np.count_nonzero(unsure)
    by_width, reported = _by_width(entry, tau, first_key, n_t, beyond, np.arange(m))
    for got, want in zip(by_width, out[1]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.sort(reported), np.flatnonzero(unsure))
    return out[0], out[1], unsure


def _by_width(entry: np.ndarray, tau: np.ndarray, first_key: np.ndarray, n_t: int, beyond: bool,
              rows: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The engine's narrow keys of ``rows`` in buffers by width (``look_keys32_by_width``, ``KeyBuffers.sort``,
    ``walk_by_width``): the sums (n_valid, n1, e1, var, o1, events; NaN or -1 in the rows not asked for) and the
    rows reported unsure."""
    from condapprove.kernels._tte_jit import look_keys32_by_width, walk_by_width
    from condapprove.simulation.statistics import KeyBuffers

    m, n = entry.shape
    code = np.uint64(2) | (np.arange(n) < n_t).astype(np.uint64)
    keys = KeyBuffers(rows.size, n)
    sums = [np.full(m, -1, dtype=np.int64), np.full(m, -1, dtype=np.int64), np.full(m, np.nan),
            np.full(m, np.nan), np.full(m, -1, dtype=np.int64), np.full(m, -1, dtype=np.int64)]
    keys.clear()
    look_keys32_by_width(entry, tau, first_key, code, rows, n_t, keys.bounds, keys.starts, keys.cap, keys.flat,
                         keys.counts, keys.widest, keys.dest, sums[0], sums[1], beyond)
    assert keys.counts.sum() == rows.size
    keys.sort()
    reported = walk_by_width(keys.flat, keys.bounds, keys.starts, keys.cap, keys.counts, keys.dest, *sums,
                             keys.unsure)
    return sums, keys.unsure[:reported].copy()


def _first_keys(first: np.ndarray, censored: np.ndarray, n_t: int) -> np.ndarray:
    from condapprove.kernels.survival import logrank_keys

    treated = np.broadcast_to(np.arange(first.shape[1]) < n_t, first.shape)
    return np.where(np.isfinite(first), logrank_keys(np.where(np.isfinite(first), first, 0.0), censored, treated),
                    np.uint64(0xFFFF_FFFF_FFFF_FFFF))


@pytest.mark.parametrize("beyond", [True, False])
def test_narrow_look_keys_give_the_wide_keys_logrank_or_say_they_may_not(beyond: bool) -> None:
    """Narrow keys (``look_keys32``) sorted and walked give the wide keys' sums bit for bit in every row that
    ``unsure_rows`` does not report, and it reports every row where they may differ: exact ties of events, and an
    event and another time closer than the narrow keys resolve (a dropout an instant before an event, where the
    narrow order would put the event first); looks an instant after month 0 or a million months on included.
    Censorings that merge (two dropouts an instant apart; patients entered together and censored at a look at
    month 0) are not reported: the sums are the same.  Events beyond the look's month (patients entered long
    before, as a historical cohort) keep their order when ``beyond`` is set, and merge with the other times there
    (reported) when it is not.  Patients not yet entered and patients with neither event nor dropout included."""
    rng = np.random.default_rng(11)
    m, n, n_t = 400, 60, 30
    entry = np.sort(rng.uniform(0.0, 12.0, (m, n)), axis=1)
    entry[:, n_t:] = np.sort(rng.uniform(0.0, 12.0, (m, n - n_t)), axis=1)
    first = rng.exponential(10.0, (m, n))
    first[rng.random((m, n)) < 0.1] = np.inf
    censored = rng.random((m, n)) < 0.3
    tau = rng.uniform(3.0, 30.0, m)
    # rows 0-9: an exact tie of two events, both observed by the look; rows 10-19: a dropout (patient 2) a relative
    # 1e-12 before an event (patient 40, the other arm), both observed by the look; rows 20-23: looks at odd months
    first[:10, [5, 45]] = 2.0
    censored[:10, [5, 45]] = False
    entry[:20, [2, 5, 40, 45]] = 0.0
    tau[:20] = 30.0
    first[10:20, 2] = 7.0
    first[10:20, 40] = 7.0 * (1 + 1e-12)
    censored[10:20, 2], censored[10:20, 40] = True, False
    tau[20:24] = [0.0, 1e-9, 1e6, -1.0]
    entry[20, [0, 1, 40]] = 0.0  # entered at month 0, censored together at a look at month 0
    # rows 24-33: two dropouts a relative 1e-12 apart, in the two arms
    entry[24:34, [3, 41]] = 0.0
    tau[24:34] = 30.0
    first[24:34, 3], first[24:34, 41] = 6.0 * (1 + 1e-12), 6.0
    censored[24:34, [3, 41]] = True
    # rows 34-43: five control patients entered long before month 0, two with events beyond the look's month
    entry[34:44, 50:55] = -1e12
    first[34:44, 50:55] = [40.0, 55.0, np.inf, np.inf, np.inf]
    censored[34:44, 50:52] = False
    wide, narrow, unsure = _logrank_both_ways(entry, tau, _first_keys(first, censored, n_t), n_t, beyond)
    assert unsure[:20].all()
    assert not unsure[20] and not unsure[23]  # only censorings at month 0; a look before month 0 sees nobody
    assert unsure[34:44].all() != beyond
    assert not unsure[24:34].any() and not unsure[44:].any()  # merged censorings, continuous times: not reported
    differs = np.zeros(m, dtype=bool)
    for w, v in zip(wide, narrow):
        differs |= ~((w == v) | (np.isnan(w.astype(float)) & np.isnan(v.astype(float))))
    assert differs[10:20].all()  # the narrow order really is wrong there: the check matters
    assert not differs[~unsure].any()
    np.testing.assert_array_equal(wide[0], narrow[0])  # patients in the analysis: counted the same way
    np.testing.assert_array_equal(wide[1], narrow[1])


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.sampled_from([1, 7, 40, 300, 700, 1300]), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_narrow_keys_by_width_are_the_whole_rows_sorted(n: int, seed: int, beyond: bool, subset: bool) -> None:
    """The engine's narrow keys in buffers by width (``look_keys32_by_width``: each row in the narrowest buffer
    that holds its patients entered by the look, compacted; the buffers sorted only as far as their widest rows;
    ``walk_by_width``) give the sums of whole rows sorted and walked (``look_keys32``, ``walk_sorted``) and report
    the same rows (``unsure_rows``): rows of every buffer's width, including those numpy sorts by partitioning and
    those split by value (``sort_rows``); entries in column order in each arm, or out of it (a patient entered
    before one in an earlier column, as a ramp-up's rounding can give: the last entered is then searched for);
    nobody or everybody entered; a historical cohort (entered long before) as the second arm; only some rows
    asked for, in any order."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 90))
    n_t = int(rng.integers(0, n + 1))
    entry = np.empty((m, n))
    entry[:, :n_t] = np.sort(rng.uniform(0.0, 24.0, (m, n_t)), axis=1)
    entry[:, n_t:] = np.sort(rng.uniform(0.0, 24.0, (m, n - n_t)), axis=1)
    shuffled = rng.random(m) < 0.2  # some rows' entries out of column order
    for i in np.flatnonzero(shuffled):
        j = rng.integers(0, n, size=max(2, n // 10))
        entry[i, j] = entry[i, rng.permutation(j)]
    if beyond:
        entry[:, n_t:] = -1e12
    first = rng.exponential(rng.choice([3.0, 30.0, 300.0]), (m, n))
    first[rng.random((m, n)) < 0.1] = np.inf
    censored = rng.random((m, n)) < 0.2
    tau = rng.choice(np.array([0.0, 1e-9, 1.0, 6.0, 12.0, 18.0, 30.0, np.inf]), m)
    tau = np.where(rng.random(m) < 0.5, rng.uniform(0.0, 30.0, m), tau)
    first_key = _first_keys(first, censored, n_t)
    code = np.uint64(2) | (np.arange(n) < n_t).astype(np.uint64)
    rows = rng.permutation(m)[:int(rng.integers(1, m + 1))] if subset else np.arange(m)
    from condapprove.kernels._tte_jit import look_keys32, unsure_rows, walk_sorted, walk_unsure

    key = np.empty((m, n), dtype=np.uint32)
    want = [np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty(m), np.empty(m),
            np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)]
    look_keys32(entry, tau, first_key, code, np.arange(m), key, want[0], want[1], beyond)
    key.sort(axis=1)
    walk_sorted(key, *want)
    unsure = np.empty(m, dtype=bool)
    unsure_rows(key, want[0], unsure)
    # the engine's whole rows: the walk and the check in one pass (walk_unsure), the same sums and flags
    both = [want[0].copy(), want[1].copy(), np.empty(m), np.empty(m), np.empty(m, dtype=np.int64),
            np.empty(m, dtype=np.int64)]
    flags = np.empty(m, dtype=bool)
    assert walk_unsure(key, *both, flags) == np.count_nonzero(unsure)
    for g, w in zip(both, want):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(flags, unsure)
    got, reported = _by_width(entry, tau, first_key, n_t, beyond, rows)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g[rows], w[rows])
    np.testing.assert_array_equal(np.sort(reported), np.sort(rows[unsure[rows]]))


def test_a_look_at_an_infinite_month_is_a_look_after_every_time() -> None:
    """A look at ``tau = inf`` counts what a look at a month after every time counts, from the wide keys as from
    the narrow ones: every entered patient is in the analysis, observed to the event or censored.  (The wide
    censoring keys were the bit patterns of ``c = inf`` with the codes in their lowest bits, which are NaNs:
    numpy's sort of the keys as doubles rewrote them as control events, 4 events for 2.)"""
    rng = np.random.default_rng(5)
    m, n, n_t = 64, 12, 6
    entry = rng.uniform(0.0, 12.0, (m, n))
    first = rng.exponential(10.0, (m, n))
    first[rng.random((m, n)) < 0.4] = np.inf  # neither event nor dropout: censored at the look
    censored = rng.random((m, n)) < 0.2
    keys = _first_keys(first, censored, n_t)
    at_inf = _logrank_both_ways(entry, np.full(m, np.inf), keys, n_t)
    late = _logrank_both_ways(entry, np.full(m, 1e300), keys, n_t)
    for got, want in zip(at_inf[0], late[0]):  # wide keys
        np.testing.assert_array_equal(got, want)
    events = np.count_nonzero(np.isfinite(first) & ~censored, axis=1)
    np.testing.assert_array_equal(at_inf[0][5], events)
    np.testing.assert_array_equal(at_inf[0][0], n)
    for got, want in zip(at_inf[1], at_inf[0]):  # narrow keys: the rows they do not report unsure
        np.testing.assert_array_equal(got[~at_inf[2]], want[~at_inf[2]])


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 30), st.integers(0, 2**32 - 1), st.booleans())
def test_binary_outcomes_are_scipys_expit_compared_with_the_uniforms(m: int, n: int, seed: int,
                                                                    transposed: bool) -> None:
    """A patient-level binary response, compiled in one pass, is numpy's ``u < expit(logit(base) + lin)`` with
    scipy's expit: the same bits for moderate and extreme effects, rates of 0 and 1 (logits of -inf and inf) and
    NaN, whatever the arrays' layouts."""
    from scipy import special

    from condapprove._jit import binary_outcomes

    rng = np.random.default_rng(seed)
    u = rng.random((n, m)).T if transposed else rng.random((m, n))
    base = rng.choice(np.array([0.0, 1.0, 0.3, 0.5, 0.97, 1e-300]), size=(m, 1))
    lin = rng.choice(np.array([0.0, -0.0, 0.7, -0.9, 40.0, -745.0, 800.0, np.inf, -np.inf, np.nan]), size=(m, n))
    lin = np.where(rng.random((m, n)) < 0.5, lin, rng.normal(0.0, 3.0, (m, n)))
    with np.errstate(divide="ignore", invalid="ignore"):
        logit_base = special.logit(base)
        want = (u < special.expit(logit_base + lin)).astype(np.float64)
    out = np.full((m, n), -1.0)
    binary_outcomes(u, np.ascontiguousarray(logit_base[:, 0]), lin, out)
    np.testing.assert_array_equal(out, want)


def test_the_compiled_expit_is_scipys_bit_for_bit() -> None:
    """:func:`condapprove._jit.binary_outcomes` computes ``1 / (1 + exp(-x))``, which is scipy's ``expit`` for
    doubles: its probability of response is compared with scipy's through uniforms equal to scipy's value (no
    response: the compiled probability is not above it) and one ulp below it (a response: it is not below it)."""
    from scipy import special

    from condapprove._jit import binary_outcomes

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0.0, s, 200_000) for s in (1.0, 10.0, 300.0)])
    p = special.expit(x)
    lb = np.zeros(x.size)
    at, above = np.empty((x.size, 1)), np.empty((x.size, 1))
    binary_outcomes(p[:, None], lb, x[:, None], at)
    binary_outcomes(np.nextafter(p, -1.0)[:, None], lb, x[:, None], above)
    assert not at.any()  # u = scipy's p is never below the compiled p: it is not larger
    np.testing.assert_array_equal(above[p > 0.0], 1.0)  # and it is not smaller


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.integers(1, 20), st.integers(1, 40), st.integers(0, 12), st.integers(0, 2**32 - 1), st.booleans())
def test_continuous_outcomes_are_numpys(m: int, n: int, lot_size: int, seed: int, transposed: bool) -> None:
    """Continuous outcomes in one compiled pass are numpy's ``mean + lin + sd * z`` bit for bit, ``lin`` the lots'
    effects repeated patient by patient and added to 0 (as the engine adds them) or no effects at all (``lot_size``
    0 here): signed zeros, infinities and NaN included, the draws in either layout."""
    from condapprove._jit import continuous_outcomes

    rng = np.random.default_rng(seed)
    specials = np.array([0.0, -0.0, 1e300, np.inf, -np.inf, np.nan])
    mean = np.where(rng.random(m) < 0.2, rng.choice(specials, m), rng.normal(5.0, 3.0, m))
    z = rng.normal(size=(n, m)).T if transposed else rng.normal(size=(m, n))
    z[rng.random((m, n)) < 0.05] = -0.0
    sd = float(rng.choice(np.array([9.5, 0.0, 1e-3])))
    mean[0], z[0, 0] = -0.0, -0.0  # (with a lot's effect of -0.0: 0.0 + lin, not lin, gives the sign of 0)
    if lot_size:
        n_lots = -(-n // lot_size)
        lot = np.where(rng.random((m, n_lots)) < 0.2, -0.0, rng.normal(0.0, 3.0, (m, n_lots)))
        lot[0, 0] = -0.0
        lin = np.broadcast_to(0.0, (m, n)) + np.repeat(lot, lot_size, axis=1)[:, :n]
    else:
        lot, lin = np.empty((m, 0)), np.broadcast_to(0.0, (m, n))
    with np.errstate(invalid="ignore", over="ignore"):
        want = mean[:, None] + lin + sd * z
    got = np.full((m, n), -1.0)
    continuous_outcomes(mean, lot, max(lot_size, 1), sd, z, got)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 20), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_covariates_and_their_effects_are_the_comparisons_and_the_ordered_sums(k: int, m: int, n: int,
                                                                              seed: int) -> None:
    """Binary covariates from patient-major uniforms and their summed effects, in one compiled pass: numpy's
    comparison, and each patient's effects added in the covariates' order (which, for up to two covariates, is
    numpy's ``0.0 + x @ effects``, the engine's sum before, whatever order the BLAS library adds them in: a sum of
    two exact products rounds once); the same effects when the covariates are not asked for.  The patterns asked
    for are the covariates' bits, and each pattern's summed effect (``pattern_effects``) is the effect of every
    patient with that pattern, bit for bit."""
    from condapprove._jit import covariate_effects, pattern_effects

    rng = np.random.default_rng(seed)
    u = rng.random((n, m, k))
    prev = rng.choice(np.array([0.0, 1.0, 0.5, 0.25]), size=k)
    effects = rng.normal(0.0, 1.0, k) * rng.choice(np.array([1.0, 1e-3, 1e3]), size=k)
    x_all = (u < prev).astype(np.float64)
    for with_x, with_pattern in ((True, False), (True, True), (False, True), (False, False)):
        x, lin = np.full((n, m, k) if with_x else (0, 0, 0), -1.0), np.full((n, m), np.nan)
        bits = np.full((n, m) if with_pattern else (0, 0), 255, dtype=np.uint8)
        covariate_effects(u, prev, effects, x, lin, bits)
        if with_x:
            np.testing.assert_array_equal(x, x_all)
        x = x_all
        ordered = np.zeros((n, m))
        for c in range(k):
            ordered = ordered + x[:, :, c] * effects[c]
        np.testing.assert_array_equal(lin, 0.0 + ordered)
        if k <= 2:
            np.testing.assert_array_equal(lin.T, 0.0 + x.transpose(1, 0, 2) @ effects)
        if with_pattern:
            np.testing.assert_array_equal(bits, (x * (1 << np.arange(k))).sum(axis=2))
            summed = np.full(1 << k, np.nan)
            pattern_effects(effects, summed)
            np.testing.assert_array_equal(summed[bits], lin)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 40), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_binary_outcomes_by_pattern_are_binary_outcomes(k: int, m: int, n: int, seed: int) -> None:
    """Responses whose probabilities are computed once per replicate and pattern of covariates are the responses
    of :func:`condapprove._jit.binary_outcomes` on each patient's effect, bit for bit: effects of every size,
    uniforms equal to a probability (no response) and rates of 0 and 1 (logits of -inf and inf) included."""
    from scipy import special

    from condapprove._jit import binary_outcomes, binary_outcomes_by_pattern, covariate_effects, pattern_effects

    rng = np.random.default_rng(seed)
    effects = rng.normal(0.0, 1.0, k) * rng.choice(np.array([1.0, 1e-3, 30.0]), size=k)
    bits = np.empty((n, m), dtype=np.uint8)
    x, lin = np.empty((n, m, k)), np.empty((n, m))
    covariate_effects(rng.random((n, m, k)), np.full(k, 0.5), effects, x, lin, bits)
    summed = np.empty(1 << k)
    pattern_effects(effects, summed)
    base = rng.choice(np.array([0.0, 1.0, 0.3, 0.5, 0.97]), size=m)
    with np.errstate(divide="ignore"):
        logit_base = special.logit(base)
    u = rng.random((n, m))
    u[0] = special.expit(logit_base + lin[0])  # (a uniform at the probability: no response)
    want, got = np.full((m, n), -1.0), np.full((m, n), -1.0)
    binary_outcomes(u.T, logit_base, lin.T, want)
    binary_outcomes_by_pattern(u.T, logit_base, bits.T, summed, got)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("lin_kind", ["zero", "covariates"])
def test_site_effects_added_are_numpys_gather(lin_kind: str) -> None:
    """Each patient's site effect added in one compiled pass down the patient-major draws: numpy's ``lin +
    np.take_along_axis(effects, site, axis=1)`` bit for bit, onto a broadcast 0 (no covariates) or onto the
    covariates' effects (a transposed view), signed zeros included."""
    from condapprove._jit import add_site_effects

    rng = np.random.default_rng(3)
    m, n, sites = 257, 35, 7
    effects = rng.normal(0.0, 0.5, (m, sites))
    effects[::5, 2] = -0.0
    site = rng.integers(0, sites, (n, m)).T  # (m, n): a view of patient-major draws, as Streams.patients gives
    lin = np.broadcast_to(0.0, (m, n)) if lin_kind == "zero" else rng.normal(0.0, 1.0, (n, m)).T
    out = np.empty((n, m))
    add_site_effects(lin.T, site.T, effects, out)
    want = lin + np.take_along_axis(effects, site, axis=1)
    np.testing.assert_array_equal(out.T, want)
    assert np.array_equal(np.signbit(out.T), np.signbit(want))


def test_screen_stops_finds_the_rows_that_certainly_stopped() -> None:
    """``screen_stops`` marks a row stopped only where it is still alive, eligible, regular (every look so far at its
    planned events) and its log-rank z, ``(e1 - o1) / sqrt(var)``, reaches the bound (equality counts); a row whose
    events differ from the plan is irregular from then on; rows already stopped are left alone; it returns how
    many rows are still alive."""
    from condapprove.kernels._tte_jit import screen_stops

    e1 = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0])
    var = np.array([4.0, 4.0, 4.0, 4.0, 4.0, 0.0, 4.0])
    o1 = np.array([4.0, 5.0, 4.0, 4.0, 4.0, 0.0, 0.0])  # z = 3, 2.5, 3, 3, 3, (degenerate), 5
    events = np.array([60, 60, 61, 60, 60, 60, 60])
    eligible = np.array([True, True, True, False, True, True, True])
    regular = np.array([True, True, True, True, False, True, True])
    alive = np.array([True, True, True, True, True, True, False])
    left = screen_stops(e1, var, o1, events, 60, 3.0, eligible, regular, alive)
    assert alive.tolist() == [False, True, True, True, True, True, False]
    assert regular.tolist() == [True, True, False, True, False, True, True]
    assert left == 5


_LOOK_SUMS = st.sampled_from([0.0, -0.0, 1e-320, 5e-324, 0.25, 1.0, 7.5, 1e300, -1.0, np.inf, np.nan])


@settings(derandomize=True, max_examples=200, deadline=None)
@given(looks=st.integers(1, 4), rows=st.integers(0, 9), seed=st.integers(0, 2**32 - 1), special=_LOOK_SUMS,
       recruited=st.booleans())
def test_look_results_are_numpys(looks: int, rows: int, seed: int, special: float, recruited: bool) -> None:
    """``look_results`` gives, bit for bit, the statistics the looks took from numpy before (``logrank_z``, z set to 0
    where not finite, the Peto estimate NaN where degenerate, the information, the counts as floats), whatever the
    variance: zero, negative, subnormal (an infinite z), infinite or NaN."""
    from condapprove.kernels._tte_jit import look_results
    from condapprove.kernels.survival import logrank_z

    rng = np.random.default_rng(seed)
    e1 = rng.random((looks, rows)) * 20
    var = rng.random((looks, rows)) * 5
    var.flat[rng.integers(0, max(1, var.size), size=min(3, var.size))] = special  # (none when there are no rows)
    e1.flat[:1] = special  # (and the first E1: an infinite or NaN sum too)
    o1 = rng.integers(0, 30, size=(looks, rows))
    events = rng.integers(0, 60, size=(looks, rows))
    nv = rng.integers(0, 90, size=(looks, rows))
    nt = rng.integers(0, 45, size=(looks, rows))
    want = {f: np.empty((looks, rows)) for f in ("z", "information", "estimate", "n_treated", "n_control", "events")}
    for j in range(looks):
        with np.errstate(all="ignore"):
            z, degenerate = logrank_z(e1[j], var[j], o1[j])
            want["estimate"][j] = np.where(degenerate, np.nan, (o1[j] - e1[j]) / var[j])
        want["z"][j] = np.where(np.isfinite(z), z, 0.0)
        want["information"][j] = events[j] if recruited else o1[j]
        want["n_treated"][j], want["n_control"][j], want["events"][j] = nt[j], nv[j] - nt[j], events[j]
    got = {f: np.full((looks, rows), -7.0) for f in want}
    look_results(e1, var, o1, events, nv, nt, recruited, got["z"], got["information"], got["estimate"],
                 got["n_treated"], got["n_control"], got["events"])
    for f, value in want.items():
        assert got[f].tobytes() == value.tobytes(), f


@settings(derandomize=True, max_examples=200, deadline=None)
@given(rows=st.integers(0, 9), looks=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       special=st.sampled_from([np.inf, -np.inf, np.nan, 24.0]), cutoff=st.sampled_from([24.0, np.inf, 0.0]))
def test_screen_rows_are_numpys(rows: int, looks: int, seed: int, special: float, cutoff: float) -> None:
    """``screen_rows`` (compiled: ``screen_eligible``) is the numpy expression it replaced, with looks and targets
    that do not happen (inf), are NaN or fall on the cut-off, and a design without interims."""
    from condapprove.simulation.decision import screen_rows

    rng = np.random.default_rng(seed)
    times = rng.random((rows, looks)) * 40
    target = rng.random(rows) * 40
    times.flat[rng.integers(0, max(1, times.size), size=min(2, times.size))] = special
    target[:1] = special
    want = (target <= cutoff) & np.isfinite(times[:, :-1]).all(axis=1)
    got = screen_rows(times, target, cutoff)
    assert got.dtype == np.bool_ and got.tolist() == want.tolist()


def _sorted_log_rank_keys(rng: np.random.Generator, m: int, n: int, dtype: Any) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray]:
    """Rows of sorted keys as a look gives them (times with ties, codes ``2 * censored + treated``, the padding
    after each row's ``n_valid`` patients), and each row's numbers of patients and of treated ones."""
    nv = rng.integers(0, n + 1, size=m)
    nv[:4] = [0, n, min(n, 8), min(n, 9)]
    times = rng.integers(1, max(2, n // 3), size=(m, n)).astype(dtype) << dtype(2)  # few distinct times: ties
    codes = rng.integers(0, 4, size=(m, n)).astype(dtype)
    codes[1] &= dtype(1)  # a row of events only
    codes[2] |= dtype(2)  # and one of censorings only
    key = times | codes
    key[np.arange(n)[None, :] >= nv[:, None]] = np.iinfo(dtype).max
    key.sort(axis=1)
    n1 = np.array([np.count_nonzero(key[i, :nv[i]] & dtype(1)) for i in range(m)], dtype=np.int64)
    return key, nv.astype(np.int64), n1


def _walk(key: np.ndarray, nv: np.ndarray, n1: np.ndarray) -> list[np.ndarray]:
    from condapprove.kernels._tte_jit import walk_sorted

    m = key.shape[0]
    out = [np.empty(m), np.empty(m), np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)]
    walk_sorted(key, nv, n1, *out)
    return out


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 23, 160])
def test_walk_eight_positions_at_a_time_same_sums(dtype: Any, n: int) -> None:
    """``walk_sorted`` lists the events of C-contiguous rows eight positions at a time in vector registers
    (``_eight_positions``, where the processor has AVX-512; the vector pass is compared on any processor below) and
    of other rows one position at a time: the same sums to the bit, whatever the row's length and number of
    patients, with ties, with only events and with only censorings; and the sums are the log-rank's (a loop over
    each row's tie groups, written out here)."""
    key, nv, n1 = _sorted_log_rank_keys(np.random.default_rng(n), 64, n, dtype)
    vector = _walk(key, nv, n1)
    scalar = _walk(np.asfortranarray(key), nv, n1)  # rows not C-contiguous: the position-by-position pass
    for a, b in zip(vector, scalar):
        np.testing.assert_array_equal(a, b)
    for i in range(key.shape[0]):
        row, r, at_risk1 = [int(k) for k in key[i, :nv[i]]], int(nv[i]), int(n1[i])
        e1 = var = 0.0
        o1 = events = j = 0
        while j < len(row):
            group = [k for k in row[j:] if k >> 2 == row[j] >> 2]  # patients at this time: events first
            d = sum(1 for k in group if not k & 2)
            d1 = sum(1 for k in group if not k & 2 and k & 1)
            if d:
                f = at_risk1 / r
                e1 += d * f
                var += d * f * (1 - f) * (r - d) / max(r - 1, 1)
                o1, events = o1 + d1, events + d
            at_risk1 -= sum(k & 1 for k in group)
            r -= len(group)
            j += len(group)
        np.testing.assert_allclose([vector[0][i], vector[1][i]], [e1, var], rtol=1e-12, atol=1e-12)
        assert (vector[2][i], vector[3][i]) == (o1, events)


def test_walk_vector_pass_same_sums_on_any_processor(tmp_path: Any) -> None:
    """The vector pass (``_eight_positions``) forced on in a fresh process and compiled for a processor without
    AVX-512 (``NUMBA_CPU_NAME=generic``: LLVM lowers the compress to its own sequence, which runs anywhere) gives
    the same sums as this process's compiled walk (the vector pass where this processor has AVX-512, the
    position-by-position one elsewhere: ``_VECTOR_PASS``), for rows of every length about the groups of eight."""
    import os
    import pathlib
    import subprocess
    import sys

    from condapprove.kernels import _tte_jit

    if not _tte_jit._VECTOR_COMPRESS:  # (numba >= 0.60 is allowed; its LLVM before 19 has no vector compress)
        pytest.skip("this LLVM has no vector compress: the walk never takes the vector pass")
    cases = [(n, dtype) for n in (1, 7, 8, 9, 16, 23, 160) for dtype in (np.uint32, np.uint64)]
    for c, (n, dtype) in enumerate(cases):
        key, nv, n1 = _sorted_log_rank_keys(np.random.default_rng(100 + n), 64, n, dtype)
        np.savez(tmp_path / f"in{c}.npz", key=key, nv=nv, n1=n1)
    script = ("import sys, numpy as np\n"
              "from condapprove.kernels import _tte_jit\n"
              "_tte_jit._VECTOR_PASS = True  # (before the first compile: no cache in this folder)\n"
              "for c in range(int(sys.argv[2])):\n"
              "    d = np.load(f'{sys.argv[1]}/in{c}.npz')\n"
              "    m = d['key'].shape[0]\n"
              "    out = [np.empty(m), np.empty(m), np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)]\n"
              "    _tte_jit.walk_sorted(d['key'], d['nv'], d['n1'], *out)\n"
              "    np.savez(f'{sys.argv[1]}/out{c}.npz', *out)\n"
              "ir = _tte_jit.walk_sorted.inspect_llvm()\n"
              "print(sorted(str(sig) for sig, text in ir.items() if 'vector.compress' in text))\n")
    env = {**os.environ, "NUMBA_CPU_NAME": "generic", "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("NUMBA_CPU_FEATURES", None)
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(len(cases))], env=env,
                          capture_output=True, text=True, check=False, cwd=pathlib.Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    # (the vector pass was compiled there, for both key widths: the compress is in both kernels)
    assert "Array(uint32, 2, 'C'" in proc.stdout and "Array(uint64, 2, 'C'" in proc.stdout, proc.stdout
    for c in range(len(cases)):
        d, got = np.load(tmp_path / f"in{c}.npz"), np.load(tmp_path / f"out{c}.npz")
        for i, want in enumerate(_walk(d["key"], d["nv"], d["n1"])):
            np.testing.assert_array_equal(got[f"arr_{i}"], want)


def test_vector_pass_only_with_a_compress_instruction(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk passes eight positions at a time only where the features numba compiles for include AVX-512F (those
    of ``NUMBA_CPU_FEATURES`` where set, else the host's, as llvmlite reports them), and only on an LLVM with the
    vector compress."""
    from llvmlite import binding
    from numba.core import config

    from condapprove.kernels import _tte_jit

    host = bool(binding.get_host_cpu_features().get("avx512f", False)) and bool(config.ENABLE_AVX)
    if config.CPU_FEATURES is None:
        assert _tte_jit._VECTOR_PASS == (_tte_jit._VECTOR_COMPRESS and host)
    monkeypatch.setattr(config, "CPU_FEATURES", None)
    assert _tte_jit._compress_instruction() is host
    monkeypatch.setattr(config, "CPU_FEATURES", "")  # (numba's default for NUMBA_CPU_NAME=generic)
    assert _tte_jit._compress_instruction() is False
    monkeypatch.setattr(config, "CPU_FEATURES", "+avx2,+avx512f,+avx512bw")
    assert _tte_jit._compress_instruction() is True
    monkeypatch.setattr(config, "CPU_FEATURES", "+avx2,-avx512f,+avx512bw")
    assert _tte_jit._compress_instruction() is False
    monkeypatch.setattr(config, "CPU_FEATURES", None)
    monkeypatch.setattr(config, "ENABLE_AVX", 0)  # (NUMBA_ENABLE_AVX=0: numba leaves out every AVX feature)
    assert _tte_jit._compress_instruction() is False


def _dispatchers() -> list[Any]:
    """Every compiled loop of the package's ``*_jit`` modules."""
    import importlib

    from numba.core.registry import CPUDispatcher

    from condapprove import _jit

    out = []
    for path in sorted(_jit._PACKAGE.rglob("*_jit.py")):
        name = "condapprove." + ".".join(path.relative_to(_jit._PACKAGE).with_suffix("").parts)
        module = importlib.import_module(name)
        out += [v for v in vars(module).values() if isinstance(v, CPUDispatcher) and v.__module__ == name]
    return out


def test_every_cached_loop_is_stamped_by_all_the_compiled_modules() -> None:
    """numba stamps a cached loop with its own module only: a loop that inlines another module's loop kept stale
    machine code when that module changed (the Philox rows' normals kept item 109's predecessor)."""
    from condapprove import _jit

    loops = _dispatchers()
    assert len(loops) > 40
    for loop in loops:
        locator = loop._cache._impl.locator
        assert isinstance(locator, _jit._PackageStamp), loop
        assert locator.get_source_stamp() == _jit.jit_sources_stamp()


def test_the_stamp_changes_with_any_compiled_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from condapprove import _jit

    for path in _jit._PACKAGE.rglob("*_jit.py"):
        target = tmp_path / path.relative_to(_jit._PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    (tmp_path / "other.py").write_text("x = 1\n")
    monkeypatch.setattr(_jit, "_PACKAGE", tmp_path)
    _jit.jit_sources_stamp.cache_clear()
    try:
        same = _jit.jit_sources_stamp()
        (tmp_path / "other.py").write_text("x = 2\n")  # not a compiled module
        _jit.jit_sources_stamp.cache_clear()
        assert _jit.jit_sources_stamp() == same
        draw = tmp_path / "_draw_jit.py"
        draw.write_text(draw.read_text() + "\n# a change\n")
        _jit.jit_sources_stamp.cache_clear()
        assert _jit.jit_sources_stamp() != same
    finally:
        _jit.jit_sources_stamp.cache_clear()
