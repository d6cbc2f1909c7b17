"""Tests of condapprove.kernels.survival (vectorised time-to-event kernels of the Monte-Carlo engine).

References:
* R's survival::survdiff and pweibull/pexp, via tests/reference/make_reference_kernels_survival.R, which
  writes tests/reference/kernels_survival.json;
* row by row, the single-data-set functions of condapprove.estimate.survival (themselves validated against R
  in tests/test_survival.py) on 50 random padded batches with ties, heavy censoring and unequal arms;
* exact distributions for the event-time draws (KS tests, landmark proportions within 4 SE) and the null
  distribution of the log-rank z (mean 0, variance 1, within 4 SE).
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from condapprove.errors import DegenerateDataWarning, DesignError
from condapprove.estimate.survival import (
    ExponentialCurve,
    PiecewiseExponentialCurve,
    WeibullCurve,
    logrank_test,
    one_sample_logrank,
)
from condapprove.kernels.survival import (
    Baseline,
    Exponential,
    HazardRatioBatchResult,
    LogrankBatchResult,
    ObservedData,
    OneSampleLogrankBatchResult,
    PiecewiseExponential,
    Weibull,
    draw_event_times,
    hazard_ratio_estimate,
    logrank_batch,
    observe_at,
    one_sample_logrank_batch,
)
from condapprove.results import ConfidenceInterval

REF = json.loads((Path(__file__).resolve().parent / "reference" / "kernels_survival.json").read_text())
# R writes 15 significant digits; the kernels and survdiff sum the same terms in a different order.
RTOL = 1e-9
ATOL = 1e-12

BASELINES = {
    "exponential": Exponential.from_median(12.0),
    "piecewise": PiecewiseExponential(breaks=(3.0, 12.0), rates=(0.02, 0.12, 0.05)),
    "weibull_decreasing": Weibull(0.7, 10.0),
    "weibull_increasing": Weibull.from_median(14.0, shape=1.5),
}


def _pad(rows, rng, n_cols=None):
    """Stack (time, event, treated) rows into padded (m, n) arrays, padding at random positions with junk."""
    n = n_cols or max(len(r[0]) for r in rows) + 3
    m = len(rows)
    time = np.full((m, n), np.nan)
    event = np.ones((m, n), dtype=bool)  # junk in the padding: must be ignored
    treated = np.ones((m, n), dtype=bool)
    valid = np.zeros((m, n), dtype=bool)
    for i, (t, e, x) in enumerate(rows):
        cols = np.sort(rng.choice(n, size=len(t), replace=False))
        time[i, cols] = t
        event[i, cols] = np.asarray(e, dtype=bool)
        treated[i, cols] = np.asarray(x, dtype=bool)
        valid[i, cols] = True
    return time, event, treated, valid


def _random_rows(rng, m):
    """Random two-arm data sets: ties (times on a 0.5 grid), heavy censoring, unequal or empty arms."""
    rows = []
    for _ in range(m):
        n0 = int(rng.integers(0, 30))
        n1 = int(rng.integers(0, 30)) if n0 else int(rng.integers(1, 30))
        hr = rng.choice([0.5, 1.0, 1.5])
        t = np.concatenate([rng.exponential(10.0, n0), rng.exponential(10.0 / hr, n1)])
        c = rng.uniform(0.0, rng.choice([4.0, 15.0, 60.0]), n0 + n1)
        time = np.round(np.minimum(t, c) * 2.0) / 2.0
        event = (t <= c).astype(int)
        rows.append((time, event, np.r_[np.zeros(n0), np.ones(n1)].astype(int)))
    return rows


# --------------------------------------------------------------------------------------------- R references


def test_logrank_batch_matches_survdiff():
    cases = REF["logrank"]
    rng = np.random.default_rng(11)
    rows = [(np.array(c["time"], float), c["status"], c["treated"]) for c in cases]
    res = logrank_batch(*_pad(rows, rng))
    for i, c in enumerate(cases):
        assert res.observed_treated[i] == c["observed_treated"], c["name"]
        assert res.events[i] == c["events"], c["name"]
        np.testing.assert_allclose(res.expected_treated[i], c["expected_treated"], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(res.variance[i], c["variance"], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(res.z[i], c["z"], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(res.z[i] ** 2, c["chisq"], rtol=1e-8, atol=ATOL)
    assert len(cases) == 30


@pytest.mark.parametrize("case", REF["weibull"], ids=lambda c: f"k{c['shape']}")
def test_weibull_is_r_pweibull(case):
    base = Weibull(case["shape"], case["scale"])
    np.testing.assert_allclose(base.cumulative_hazard(case["t"]), case["cumulative_hazard"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(base.median, case["median"], rtol=1e-12)
    h = np.asarray(case["cumulative_hazard"])
    np.testing.assert_allclose(base.inverse_cumulative_hazard(h), case["t"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", REF["exponential"], ids=lambda c: f"rate{c['rate']}")
def test_exponential_is_r_pexp(case):
    base = Exponential(case["rate"])
    np.testing.assert_allclose(base.cumulative_hazard(case["t"]), case["cumulative_hazard"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(base.median, case["median"], rtol=1e-12)


@pytest.mark.parametrize("shape", [1.5, 0.3, 0.05, 30.0])
def test_weibull_inverse_is_the_power_formula_up_to_the_rounding_of_log_h(shape: float) -> None:
    """The engine's inverse (exp(log(h) / k + log(sigma)), in place) against sigma * h**(1/k) on exponential draws:
    within the rounding of log(h) times |log h| / k, plus 2 units of 2**-52 for the other operations; 0 at 0 and
    inf at inf, without warnings; ``h`` is left alone unless ``reuse``."""
    base = Weibull(shape, 15.0)
    h = np.concatenate([np.random.default_rng(11).standard_exponential(200_000) / 0.7, [0.0, np.inf]])
    kept = h.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = base._inverse_of(h)
        assert np.array_equal(h, kept)
        again = base._inverse_of(h, reuse=True)
    assert np.array_equal(got, again) and again is h
    exact = 15.0 * kept[:-2] ** (1.0 / shape)
    bound = (np.max(np.abs(np.log(kept[:-2]))) / shape + 2.0) * 2.0**-52
    assert np.max(np.abs(got[:-2] / exact - 1.0)) <= bound
    assert got[-2] == 0.0 and got[-1] == np.inf


# --------------------------------------------------------------------------------------------- against estimate


def _reference_logrank(t, e, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        return logrank_test(t, e, x)


def test_logrank_batch_equals_estimate_logrank_row_by_row():
    rng = np.random.default_rng(2024)
    compared = 0
    for _ in range(50):
        rows = _random_rows(rng, int(rng.integers(1, 8)))
        res = logrank_batch(*_pad(rows, rng))
        for i, (t, e, x) in enumerate(rows):
            assert res.n_treated[i] == int(np.sum(x)) and res.n_control[i] == len(x) - int(np.sum(x))
            assert res.events[i] == int(np.sum(e))
            assert res.observed_treated[i] == int(np.sum(e * x))
            if np.sum(x) in (0, len(x)):  # one arm empty: no comparison, zero variance
                assert res.degenerate[i] and res.z[i] == 0.0 and res.variance[i] == 0.0
                continue
            ref = _reference_logrank(t, e, x)
            np.testing.assert_allclose(res.expected_treated[i], ref.expected[1], rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(res.variance[i], ref.variance, rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(res.z[i], -ref.statistic, rtol=1e-10, atol=1e-10)
            assert res.degenerate[i] == (ref.variance == 0.0)
            compared += 1
    assert compared > 150


@pytest.mark.parametrize("method", ["wu", "standard"])
def test_one_sample_batch_equals_estimate_one_sample_row_by_row(method):
    rng = np.random.default_rng(7)
    curves = [
        (BASELINES["exponential"], ExponentialCurve.from_median(12.0)),
        (BASELINES["piecewise"], PiecewiseExponentialCurve((3.0, 12.0), (0.02, 0.12, 0.05))),
        (BASELINES["weibull_increasing"], WeibullCurve.from_median(14.0, shape=1.5)),
    ]
    compared = 0
    for k in range(50):
        kernel_base, estimate_curve = curves[k % 3]
        rows = _random_rows(rng, int(rng.integers(1, 8)))
        time, event, _, valid = _pad(rows, rng)
        res = one_sample_logrank_batch(time, event, valid, kernel_base, method=method)
        # the estimate module's curves serve as baselines too
        res2 = one_sample_logrank_batch(time, event, valid, estimate_curve, method=method)
        np.testing.assert_allclose(res2.expected, res.expected, rtol=1e-12)
        for i, (t, e, _) in enumerate(rows):
            if np.sum(t) == 0:
                assert res.degenerate[i] == (method == "standard" or np.sum(e) == 0)
                continue
            ref = one_sample_logrank(t, e, kernel_base, method=method)
            assert res.observed[i] == ref.observed
            np.testing.assert_allclose(res.expected[i], ref.expected, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(res.z[i], -ref.statistic, rtol=1e-10, atol=1e-10)
            compared += 1
    assert compared > 150


def test_piecewise_matches_estimate_curve():
    base = PiecewiseExponential(breaks=(2.0, 5.0, 9.0), rates=(0.3, 0.0, 0.1, 0.02))
    curve = PiecewiseExponentialCurve((2.0, 5.0, 9.0), (0.3, 0.0, 0.1, 0.02))
    t = np.linspace(0.0, 30.0, 121)
    np.testing.assert_allclose(base.cumulative_hazard(t), curve.cumulative_hazard(t), rtol=1e-14, atol=1e-15)
    q = np.linspace(0.0, 0.9, 19)
    np.testing.assert_allclose(base.inverse_cumulative_hazard(-np.log1p(-q)), curve.quantile(q), rtol=1e-12)
    # inside the flat stretch [2, 5) the generalised inverse returns its start
    assert base.inverse_cumulative_hazard(0.6) == pytest.approx(2.0)


# --------------------------------------------------------------------------------------------- event-time draws


def _draw_cases():
    for k, name in enumerate(BASELINES):
        for j, hr in enumerate((1.0, 0.6)):
            yield pytest.param(name, hr, 100 + 2 * k + j, id=f"{name}-hr{hr}")


@pytest.mark.parametrize(("name", "hr", "seed"), list(_draw_cases()))
def test_draws_follow_proportional_hazards(name, hr, seed):
    base = BASELINES[name]
    n = 20_000
    t = draw_event_times(np.random.default_rng(seed), base, (4, n // 4), log_hr=math.log(hr))
    assert t.shape == (4, n // 4)

    def cdf(x):
        return -np.expm1(-hr * base.cumulative_hazard(np.asarray(x)))

    assert stats.kstest(t.ravel(), cdf).pvalue > 0.001
    for landmark in (base.median / 2, base.median, 2 * base.median):
        p = float(cdf(landmark))
        est = float(np.mean(t <= landmark))
        assert abs(est - p) <= 4.0 * math.sqrt(p * (1 - p) / n)


def test_draws_with_per_patient_log_hr():
    base = BASELINES["weibull_increasing"]
    rng = np.random.default_rng(5)
    m, n = 40, 500
    lot = rng.normal(0.0, 0.5, size=(m, 1))  # one effect per replicate (lot)
    confounder = rng.normal(0.0, 0.3, size=(m, n))  # one per patient
    beta = lot + confounder
    t = draw_event_times(np.random.default_rng(6), base, (m, n), log_hr=beta)
    # probability integral transform: S_i(T_i) = exp(-exp(beta_i) Lambda0(T_i)) ~ U(0, 1)
    u = np.exp(-np.exp(beta) * base.cumulative_hazard(t))
    assert stats.kstest(u.ravel(), "uniform").pvalue > 0.001
    # broadcasting a per-replicate column only
    t2 = draw_event_times(np.random.default_rng(6), base, (m, n), log_hr=lot)
    u2 = np.exp(-np.exp(lot) * base.cumulative_hazard(t2))
    assert stats.kstest(u2.ravel(), "uniform").pvalue > 0.001


def test_draws_are_reproducible_and_use_one_exponential_per_patient():
    base = BASELINES["exponential"]
    a = draw_event_times(np.random.default_rng(3), base, (3, 4), log_hr=0.2)
    b = draw_event_times(np.random.default_rng(3), base, (3, 4), log_hr=0.2)
    np.testing.assert_array_equal(a, b)
    e = np.random.default_rng(3).standard_exponential((3, 4))
    np.testing.assert_allclose(a, e * math.exp(-0.2) / base.rate, rtol=1e-14)
    assert draw_event_times(3, base, 5).shape == (5,)
    assert draw_event_times(3, base, (0, 5)).shape == (0, 5)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_transposed_draws_are_the_draws_transposed(name: str) -> None:
    """``transposed=True``: the same event times, bit for bit, as the transpose of the draw of ``size``,
    C-contiguous, for every baseline (the compiled exponentials included: 2,400 draws reach the piecewise
    baseline's compiled inverse) and every broadcast of ``log_hr`` (none, a scalar, one per replicate laid out
    as the engine's, one per patient), and the generator left in the same state."""
    base = BASELINES[name]
    n, m = 40, 60
    rng = np.random.default_rng(21)
    for log_hr in (0.0, -0.3, rng.normal(0, 0.4, (1, m)), rng.normal(0, 0.4, (n, m)), rng.normal(0, 0.4, m)):
        ours, theirs = np.random.default_rng(22), np.random.default_rng(22)
        got = draw_event_times(ours, base, (n, m), log_hr=log_hr, transposed=True)
        want = draw_event_times(theirs, base, (n, m), log_hr=log_hr)
        assert got.shape == (m, n) and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want.T)
        assert ours.bit_generator.state == theirs.bit_generator.state
    with pytest.raises(DesignError, match="2-d"):
        draw_event_times(np.random.default_rng(1), base, (5,), transposed=True)


def test_cure_fraction_draws():
    base = PiecewiseExponential(breaks=(6.0,), rates=(0.2, 0.0))
    n = 20_000
    t = draw_event_times(np.random.default_rng(8), base, n)
    cured = float(np.exp(-1.2))
    frac = float(np.mean(np.isinf(t)))
    assert abs(frac - cured) <= 4 * math.sqrt(cured * (1 - cured) / n)
    assert np.all(t[np.isfinite(t)] <= 6.0)
    assert base.median == pytest.approx(math.log(2.0) / 0.2)
    assert base.cumulative_hazard(math.inf) == pytest.approx(1.2)
    assert base.inverse_cumulative_hazard(1.3) == math.inf


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    h=st.floats(0.0, 50.0),
    which=st.sampled_from(sorted(BASELINES)),
)
@example(h=0.0, which="piecewise")
def test_inverse_cumulative_hazard_round_trip(h, which):
    base = BASELINES[which]
    t = base.inverse_cumulative_hazard(h)
    assert t >= 0.0
    assert base.cumulative_hazard(t) == pytest.approx(h, rel=1e-10, abs=1e-12)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    widths=st.lists(st.floats(0.01, 20.0), min_size=0, max_size=5),
    rates=st.lists(st.sampled_from([0.0, 0.003, 0.05, 0.2, 1.7]), min_size=6, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_piecewise_inverse_compiled_equals_numpy(widths, rates, seed):
    """From _COMPILED_MIN hazards on the inverse runs compiled: the same numbers, bit for bit, as the numpy
    formula (zero rates in the middle and at the end included: flat stretches, a cure fraction's plateau)."""
    from unittest import mock

    import condapprove.kernels.survival as ks

    breaks = tuple(np.cumsum(widths))
    r = list(rates[: len(breaks) + 1])
    if not any(r):
        r[0] = 0.05
    base = PiecewiseExponential(breaks=breaks, rates=tuple(r))
    _, _, h_edges = ks.piecewise_edges(base.breaks, base.rates)
    rng = np.random.default_rng(seed)
    # exponential draws scaled as the engine's are, the knots themselves, 0, -0.0, inf and NaN
    h = np.concatenate([rng.standard_exponential(3000) * rng.choice([0.1, 1.0, 30.0]), h_edges,
                        [0.0, -0.0, np.inf, np.nan, 1e-300, 1e300]])
    assert h.size >= ks._COMPILED_MIN
    compiled = base._inverse_of(h.copy())
    in_place = h.copy()
    assert base._inverse_of(in_place, reuse=True) is in_place
    with mock.patch.object(ks, "_COMPILED_MIN", h.size + 1):
        numpy_path = base._inverse_of(h.copy())
    np.testing.assert_array_equal(compiled, numpy_path)
    np.testing.assert_array_equal(in_place, numpy_path)
    assert compiled.view(np.uint64).tolist() == numpy_path.view(np.uint64).tolist()  # -0.0 and NaN payloads too
    # each of the special values and knots alone, and just above each knot: tiles that reach one interval (the
    # compiled pass skips the intervals a tile does not reach)
    from condapprove.kernels._tte_jit import piecewise_inverse

    edges, r_arr, _ = ks.piecewise_edges(base.breaks, base.rates)
    for v in np.concatenate([h[3000:], np.nextafter(h_edges, np.inf)]):
        one = np.array([v])
        got = np.full(1, -1.0)
        piecewise_inverse(one, edges, r_arr, h_edges, got)
        with mock.patch.object(ks, "_COMPILED_MIN", 2):
            want = base._inverse_of(one.copy())
        assert got.view(np.uint64).tolist() == want.view(np.uint64).tolist(), v


def test_baseline_constructors_and_protocol():
    assert isinstance(Exponential(0.1), Baseline)
    assert not isinstance(WeibullCurve(1.0, 2.0), Baseline)  # no inverse_cumulative_hazard
    assert Exponential.from_survival_at(12.0, 0.5).median == pytest.approx(12.0)
    assert Weibull.from_survival_at(12.0, 0.5, shape=2.0).median == pytest.approx(12.0)
    pe = PiecewiseExponential.from_survival_at([12.0, 24.0], [0.6, 0.45])
    np.testing.assert_allclose(pe.survival([12.0, 24.0]), [0.6, 0.45], rtol=1e-12)
    assert pe.breaks == (12.0,) and len(pe.rates) == 2
    assert PiecewiseExponential((), (0.1,)).cumulative_hazard(2.0) == pytest.approx(0.2)
    assert isinstance(Exponential(0.1).cumulative_hazard(1.0), float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Exponential(0.1).rate = 0.2  # type: ignore[misc]


# --------------------------------------------------------------------------------------------- observe_at


def test_observe_at_censors_and_excludes():
    entry = np.array([[0.0, 2.0, 5.0, 9.0, np.inf], [1.0, 1.0, 1.0, 1.0, 1.0]])
    event_time = np.array([[3.0, 10.0, 1.0, 1.0, 1.0], [0.5, 2.0, 4.0, 8.0, 3.0]])
    dropout = np.array([[np.inf, np.inf, 0.5, np.inf, np.inf], [np.inf, 1.0, np.inf, np.inf, np.inf]])
    obs = observe_at(entry, event_time, dropout, [8.0, 5.0])
    np.testing.assert_array_equal(obs.time, [[3.0, 6.0, 0.5, 0.0, 0.0], [0.5, 1.0, 4.0, 4.0, 3.0]])
    np.testing.assert_array_equal(obs.event, [[1, 0, 0, 0, 0], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(obs.valid, [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    # no dropout, scalar cut-off, a padding mask (NaN allowed there), entry exactly at the cut-off
    entry2 = np.array([[0.0, 4.0, np.nan]])
    obs2 = observe_at(entry2, np.array([[5.0, 1.0, np.nan]]), None, 4.0, valid=[[True, True, False]])
    time, event, valid = obs2
    np.testing.assert_array_equal(time, [[4.0, 0.0, 0.0]])
    np.testing.assert_array_equal(event, [[False, False, False]])
    np.testing.assert_array_equal(valid, [[True, True, False]])
    assert isinstance(obs2, ObservedData)
    frame = obs.to_frame()
    assert list(frame.columns) == ["replicate", "patient", "time", "event"] and len(frame) == 8


@settings(derandomize=True, max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), c1=st.floats(0.0, 30.0), extra=st.floats(0.0, 30.0))
def test_observe_at_properties(seed, c1, extra):
    rng = np.random.default_rng(seed)
    m, n = 3, 20
    entry = rng.uniform(0.0, 24.0, (m, n))
    t = rng.exponential(10.0, (m, n))
    d = rng.exponential(40.0, (m, n))
    early = observe_at(entry, t, d, c1)
    late = observe_at(entry, t, d, c1 + extra)
    v = early.valid
    assert np.all(early.time[v] <= (c1 - entry)[v] + 1e-12)
    assert np.all(early.time[v] <= np.minimum(t, d)[v])
    np.testing.assert_array_equal(early.time[early.event], t[early.event])
    # more follow-up: the enrolled set and the seen events only grow, times only lengthen
    assert np.all(late.valid[v]) and np.all(late.event[early.event])
    assert np.all(late.time[v] >= early.time[v])


# --------------------------------------------------------------------------------------------- null distribution


def test_logrank_z_is_standard_normal_under_h0():
    rng = np.random.default_rng(20240611)
    m, n = 10_000, 200
    base = Weibull.from_median(12.0, shape=1.3)
    entry = rng.uniform(0.0, 18.0, (m, n))
    treated = np.zeros((m, n), dtype=bool)
    treated[:, : n // 2] = True
    t = draw_event_times(rng, base, (m, n))
    d = rng.exponential(60.0, (m, n))
    obs = observe_at(entry, t, d, rng.uniform(20.0, 30.0, m))
    res = logrank_batch(obs.time, obs.event, treated, obs.valid)
    z = res.z
    assert not np.any(res.degenerate)
    mean_se = z.std(ddof=1) / math.sqrt(m)
    assert abs(z.mean()) <= 4 * mean_se
    var = z.var(ddof=1)
    var_se = math.sqrt((np.mean((z - z.mean()) ** 4) - var**2) / m)
    assert abs(var - 1.0) <= 4 * var_se
    # the one-sample statistic against the true baseline is centred too (standard version: E[E - O] = 0)
    one = one_sample_logrank_batch(obs.time, obs.event, obs.valid, base, method="standard")
    diff = one.expected - one.observed
    assert abs(diff.mean()) <= 4 * diff.std(ddof=1) / math.sqrt(m)


def test_hazard_ratio_estimate_near_truth_and_formula():
    rng = np.random.default_rng(4)
    m, n = 2000, 300
    treated = np.zeros((m, n), dtype=bool)
    treated[:, ::2] = True
    base = Exponential.from_median(10.0)
    t = draw_event_times(rng, base, (m, n), log_hr=np.where(treated, math.log(0.8), 0.0))
    obs = observe_at(rng.uniform(0.0, 12.0, (m, n)), t, None, 24.0)
    lr = logrank_batch(obs.time, obs.event, treated, obs.valid)
    hr = hazard_ratio_estimate(lr)
    np.testing.assert_allclose(hr.log_hazard_ratio, (lr.observed_treated - lr.expected_treated) / lr.variance)
    np.testing.assert_allclose(hr.standard_error, 1.0 / np.sqrt(lr.variance))
    # Peto's one-step estimate is nearly unbiased close to the null
    mean = hr.log_hazard_ratio.mean()
    mcse = hr.log_hazard_ratio.std(ddof=1) / math.sqrt(m)
    assert abs(mean - math.log(0.8)) <= 0.01 + 4 * mcse
    assert np.all(np.sign(hr.log_hazard_ratio) == -np.sign(lr.z))
    ci = hr.interval(0.95)
    assert isinstance(ci, ConfidenceInterval)
    assert np.all(ci.low < hr.hazard_ratio) and np.all(hr.hazard_ratio < ci.high)
    wide = hr.interval(0.99)
    assert np.all(wide.low < ci.low) and np.all(ci.high < wide.high)
    assert isinstance(hr, HazardRatioBatchResult)


# --------------------------------------------------------------------------------------------- invariants


def _batch_strategy():
    return st.integers(0, 2**32 - 1).map(
        lambda seed: _pad(_random_rows(np.random.default_rng(seed), 4), np.random.default_rng(seed + 1))
    )


@settings(derandomize=True, max_examples=80, deadline=None)
@given(data=_batch_strategy(), perm_seed=st.integers(0, 2**32 - 1))
def test_logrank_invariant_to_permuting_patients(data, perm_seed):
    time, event, treated, valid = data
    rng = np.random.default_rng(perm_seed)
    perm = np.argsort(rng.random(time.shape), axis=1)  # a different permutation in every row
    res = logrank_batch(time, event, treated, valid)
    res_p = logrank_batch(*(np.take_along_axis(a, perm, axis=1) for a in (time, event, treated, valid)))
    np.testing.assert_allclose(res_p.z, res.z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res_p.variance, res.variance, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(res_p.observed_treated, res.observed_treated)
    one = one_sample_logrank_batch(time, event, valid, BASELINES["piecewise"])
    one_p = one_sample_logrank_batch(
        *(np.take_along_axis(a, perm, axis=1) for a in (time, event, valid)), BASELINES["piecewise"]
    )
    np.testing.assert_allclose(one_p.z, one.z, rtol=1e-12, atol=1e-12)


@settings(derandomize=True, max_examples=80, deadline=None)
@given(data=_batch_strategy())
def test_swapping_arms_flips_the_sign(data):
    time, event, treated, valid = data
    res = logrank_batch(time, event, treated, valid)
    swapped = logrank_batch(time, event, ~treated, valid)
    np.testing.assert_allclose(swapped.z, -res.z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(swapped.variance, res.variance, rtol=1e-12, atol=1e-12)
    # E_control = events - E_treated
    np.testing.assert_allclose(swapped.expected_treated, res.events - res.expected_treated, atol=1e-9)
    assert np.all(res.z[res.degenerate] == 0.0)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(data=_batch_strategy(), scale=st.sampled_from([0.25, 3.0, 1e3]))
def test_logrank_invariant_to_time_scale(data, scale):
    time, event, treated, valid = data
    a = logrank_batch(time, event, treated, valid)
    b = logrank_batch(time * scale, event, treated, valid)
    np.testing.assert_allclose(b.z, a.z, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------------- degenerate cases


def test_degenerate_rows_give_zero():
    time = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    event = np.array([[0, 0, 0], [1, 1, 0], [1, 0, 1], [0, 0, 0]])
    treated = np.array([[1, 0, 1], [1, 1, 1], [0, 1, 0], [0, 1, 0]])
    valid = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 0], [0, 0, 0]], dtype=bool)
    res = logrank_batch(time, event, treated, valid)
    # no events; all treated; one event while both arms at risk (V > 0) ; nobody valid
    np.testing.assert_array_equal(res.degenerate, [True, True, False, True])
    np.testing.assert_array_equal(res.z[res.degenerate], 0.0)
    assert res.z[2] == pytest.approx(1.0)  # the only event is in the control arm: benefit
    one = one_sample_logrank_batch(time, event, valid, Exponential(0.1))
    np.testing.assert_array_equal(one.degenerate, [False, False, False, True])
    assert one.z[3] == 0.0 and one.expected[3] == 0.0
    empty = logrank_batch(np.empty((2, 0)), np.empty((2, 0)), np.empty((2, 0)))
    assert empty.z.shape == (2,) and np.all(empty.degenerate)


def test_results_are_frozen_with_frames():
    rng = np.random.default_rng(1)
    time, event, treated, valid = _pad(_random_rows(rng, 3), rng)
    res = logrank_batch(time, event, treated, valid)
    assert isinstance(res, LogrankBatchResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.z = res.z  # type: ignore[misc]
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 3
    assert list(frame.columns)[:2] == ["z", "observed_treated"]
    assert set(res.to_dict()) >= {"z", "variance", "events", "degenerate"}
    one = one_sample_logrank_batch(time, event, valid, Exponential(0.1), method="standard")
    assert isinstance(one, OneSampleLogrankBatchResult) and one.method == "standard"
    assert len(one.to_frame()) == 3
    assert len(hazard_ratio_estimate(res).to_frame()) == 3
    assert len(observe_at(np.zeros((2, 3)), np.ones((2, 3)), None, 1.0).to_dict()["time"]) == 2


# --------------------------------------------------------------------------------------------- validation


def test_input_validation_messages():
    ok_t = np.ones((2, 3))
    ok_e = np.zeros((2, 3), dtype=bool)
    with pytest.raises(DesignError, match=r"`time` must be a 2-d array \(replicates x patients\); got shape \(3,\)"):
        logrank_batch(np.ones(3), np.zeros(3), np.zeros(3))
    with pytest.raises(DesignError, match=r"`event` must have the shape of `time` \(2, 3\); got shape \(2, 2\)"):
        logrank_batch(ok_t, np.zeros((2, 2)), ok_e)
    with pytest.raises(DesignError, match=r"`treated` must be booleans or 0/1 indicators; got 2"):
        logrank_batch(ok_t, ok_e, np.full((2, 3), 2))
    bad_t = ok_t.copy()
    bad_t[1, 2] = -1.0
    with pytest.raises(DesignError, match=r"`time` must be finite times >= 0 where `valid`; got -1.0"):
        logrank_batch(bad_t, ok_e, ok_e)
    logrank_batch(bad_t, ok_e, ok_e, valid=[[1, 1, 1], [1, 1, 0]])  # masked: fine
    with pytest.raises(DesignError, match=r"`method` must be one of 'wu', 'standard'; got 'exact'"):
        one_sample_logrank_batch(ok_t, ok_e, None, Exponential(0.1), method="exact")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match=r"`baseline` must be a baseline with cumulative_hazard\(\) methods"):
        one_sample_logrank_batch(ok_t, ok_e, None, object())  # type: ignore[arg-type]
    with pytest.raises(DesignError, match=r"`log_hr` must be a scalar or broadcastable to `size` \(2, 3\)"):
        draw_event_times(1, Exponential(0.1), (2, 3), log_hr=np.zeros(2))
    with pytest.raises(DesignError, match=r"`log_hr` must be finite log hazard ratios"):
        draw_event_times(1, Exponential(0.1), 3, log_hr=math.inf)
    with pytest.raises(DesignError, match=r"`size` must be a non-negative integer or a tuple of them; got -1"):
        draw_event_times(1, Exponential(0.1), -1)
    with pytest.raises(DesignError, match=r"`baseline` must be a baseline with cumulative_hazard\(\) and "):
        draw_event_times(1, ExponentialCurve(0.1), 3)  # type: ignore[arg-type]
    with pytest.raises(DesignError, match=r"`cutoff` must be a scalar or have one entry per replicate \(2\)"):
        observe_at(ok_t, ok_t, None, [1.0, 2.0, 3.0])
    with pytest.raises(DesignError, match=r"`event_time` must be times >= 0 \(no NaN\) for enrolled patients"):
        observe_at(np.zeros((1, 2)), np.array([[1.0, np.nan]]), None, 5.0)
    with pytest.raises(DesignError, match=r"`entry` must be calendar times \(no NaN or -inf\) where `valid`; got nan"):
        observe_at(np.array([[0.0, np.nan]]), np.ones((1, 2)), None, 5.0)
    with pytest.raises(DesignError, match=r"`cutoff` must be finite calendar times; got inf"):
        observe_at(np.zeros((1, 2)), np.ones((1, 2)), None, math.inf)
    with pytest.raises(DesignError, match=r"`rate` must be a finite number > 0; got 0"):
        Exponential(0)
    with pytest.raises(DesignError, match=r"`rates` must have len\(breaks\) \+ 1 = 2 entries; got 3"):
        PiecewiseExponential((1.0,), (0.1, 0.2, 0.3))
    with pytest.raises(DesignError, match=r"`breaks` must be strictly increasing finite times > 0"):
        PiecewiseExponential((2.0, 1.0), (0.1, 0.2, 0.3))
    with pytest.raises(DesignError, match=r"`t` must be times >= 0 \(no NaN\); got -1.0"):
        Weibull(1.0, 2.0).cumulative_hazard([1.0, -1.0])
    with pytest.raises(DesignError, match=r"`h` must be cumulative hazards >= 0 \(no NaN\); got nan"):
        Weibull(1.0, 2.0).inverse_cumulative_hazard(np.nan)
    with pytest.raises(DesignError, match=r"`logrank` must be a LogrankBatchResult from logrank_batch\(\)"):
        hazard_ratio_estimate(None)  # type: ignore[arg-type]
    with pytest.raises(DesignError, match=r"`confidence_level` must be a probability in \(0, 1\); got 1.5"):
        hazard_ratio_estimate(logrank_batch(ok_t, ok_e, ok_e)).interval(1.5)
