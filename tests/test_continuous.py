"""Tests of condapprove.estimate.continuous against R's t.test (tests/reference/continuous.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condapprove.errors import DegenerateDataWarning, DesignError
from condapprove.estimate.continuous import (
    TTestResult,
    mean_interval,
    mean_interval_from_summary,
    one_sample_t,
    one_sample_t_from_summary,
    welch_t,
    welch_t_from_summary,
)

REF = json.loads((Path(__file__).parent / "reference" / "continuous.json").read_text())
SAMPLES = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in REF["samples"].items()}
RTOL, ATOL = 1e-6, 1e-9
PROPS = settings(derandomize=True, max_examples=100, deadline=None)


def _check(res: TTestResult, ref: dict) -> None:
    for field in ("statistic", "pvalue", "df", "estimate", "se"):
        np.testing.assert_allclose(getattr(res, field), ref[field], rtol=RTOL, atol=ATOL, err_msg=f"{field}: {ref}")
    low = -math.inf if ref["low"] is None else ref["low"]
    high = math.inf if ref["high"] is None else ref["high"]
    np.testing.assert_allclose(res.ci, (low, high), rtol=RTOL, atol=ATOL, err_msg=str(ref))
    assert res.alternative == ref["alternative"] and res.confidence_level == ref["confidence_level"]


def test_one_sample_matches_r() -> None:
    rows = REF["one_sample"]
    assert len(rows) == 8 * 3 * 3 * 2
    for r in rows:
        res = one_sample_t(
            SAMPLES[r["sample"]], r["mu0"], alternative=r["alternative"], confidence_level=r["confidence_level"]
        )
        _check(res, r)
        assert res.interval() == res.ci
        if r["alternative"] == "two-sided":
            np.testing.assert_allclose(
                mean_interval(SAMPLES[r["sample"]], confidence_level=r["confidence_level"]), res.ci, rtol=1e-12
            )


def test_welch_matches_r() -> None:
    rows = REF["welch"]
    assert len(rows) == 6 * 2 * 3 * 2
    for r in rows:
        res = welch_t(
            SAMPLES[r["x"]],
            SAMPLES[r["y"]],
            mu0=r["mu0"],
            alternative=r["alternative"],
            confidence_level=r["confidence_level"],
        )
        _check(res, r)
        assert res.method == "Welch two-sample t"


def test_summary_variants_match_r() -> None:
    """R ran t.test on data constructed to have exactly the published means and SDs (SD = SE sqrt(n))."""
    for r in REF["summary"]:
        alt = r["welch"]["alternative"]
        res = welch_t_from_summary(
            r["mean1"], r["se1"], r["n1"], r["mean2"], r["se2"], r["n2"], spread="se", alternative=alt
        )
        _check(res, r["welch"])
        one = one_sample_t_from_summary(r["mean1"], r["se1"], r["n1"], spread="se", alternative=alt)
        _check(one, r["one_sample"])
        # SD parametrisation gives the same answer
        sd1, sd2 = r["se1"] * math.sqrt(r["n1"]), r["se2"] * math.sqrt(r["n2"])
        res_sd = welch_t_from_summary(r["mean1"], sd1, r["n1"], r["mean2"], sd2, r["n2"], alternative=alt)
        assert res_sd.pvalue == pytest.approx(res.pvalue, rel=1e-12)


def test_akuugo() -> None:
    res = welch_t_from_summary(8.3, 1.4, 46, 2.3, 2.5, 15, spread="se")
    assert res.estimate == pytest.approx(6.0)
    assert res.se == pytest.approx(math.sqrt(1.4**2 + 2.5**2))
    ref = next(r["welch"] for r in REF["summary"] if r["name"] == "Akuugo" and r["welch"]["alternative"] == "two-sided")
    assert res.pvalue == pytest.approx(ref["pvalue"], rel=RTOL)
    lo, hi = mean_interval_from_summary(8.3, 1.4, 46, spread="se")
    assert (lo + hi) / 2 == pytest.approx(8.3)


def test_result_is_frozen_with_builtin_scalars() -> None:
    res = one_sample_t([1.0, 2.0, 4.0], 0.0)
    assert all(isinstance(getattr(res, f), float) for f in ("statistic", "pvalue", "df", "estimate", "se"))
    with pytest.raises(AttributeError):
        res.pvalue = 0.0  # type: ignore[misc]
    frame = res.to_frame()
    assert {"statistic", "pvalue", "df", "ci_low", "ci_high"} <= set(frame.columns)
    assert res.to_dict()["ci"] == {"low": res.ci.low, "high": res.ci.high}


def test_one_sided_intervals_are_half_open() -> None:
    res = one_sample_t([1.0, 2.0, 4.0], alternative="greater")
    assert res.ci.high == math.inf
    assert mean_interval([1.0, 2.0, 4.0], alternative="less").low == -math.inf


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: one_sample_t([1.0]), r"`values` must be an array with at least 2 entries"),
        (lambda: one_sample_t([1.0, float("nan")]), r"`values` must be an array of finite numbers"),
        (lambda: one_sample_t([3.0, 3.0, 3.0]), r"`values` must not be constant"),
        (lambda: welch_t([1.0, 1.0], [2.0, 2.0]), r"both samples must not be constant"),
        (lambda: welch_t([1.0, 2.0], [2.0]), r"`y` must be an array with at least 2 entries"),
        (lambda: one_sample_t([1.0, 2.0], mu0=float("inf")), r"`mu0` must be a finite number"),
        (lambda: one_sample_t([1.0, 2.0], alternative="bigger"), r"`alternative` must be one of"),
        (lambda: mean_interval([1.0, 2.0], confidence_level=95), r"`confidence_level` must be a probability"),
        (lambda: mean_interval_from_summary(1.0, 0.5, 1), r"`n` must be an integer >= 2; got 1\."),
        (lambda: welch_t_from_summary(1, -1, 5, 0, 1, 5), r"`sd1` must be a finite number >= 0; got -1\."),
        (lambda: welch_t_from_summary(1, 1, 5, 0, 1, 5, spread="sem"), r"`spread` must be one of 'sd', 'se'"),
        (lambda: one_sample_t_from_summary(1.0, 0.0, 5), r"`sd` must be a finite number > 0; got 0\.0\."),
        # (the message states what is refused: > 0, not >= 0)
        (lambda: one_sample_t_from_summary(1.0, -1.0, 5), r"`sd` must be a finite number > 0; got -1\.0\."),
        (lambda: one_sample_t_from_summary(1.0, -0.1, 5, spread="se"), r"`se` must be a finite number > 0"),
    ],
)
def test_validation(call, match: str) -> None:
    with pytest.raises(DesignError, match=match):
        call()


def test_constant_values_give_a_zero_width_interval_with_a_warning() -> None:
    # R's t.test stops on such data; the interval is the mean itself, and said to be degenerate
    with pytest.warns(DegenerateDataWarning, match=r"`values`: standard deviation 0"):
        ci = mean_interval([2.5, 2.5, 2.5])
    assert (ci.low, ci.high) == (2.5, 2.5)
    with pytest.warns(DegenerateDataWarning, match=r"`se`: standard deviation 0"):
        ci = mean_interval_from_summary(1.0, 0.0, 4, spread="se", alternative="greater")
    assert (ci.low, ci.high) == (1.0, math.inf)


def test_values_constant_up_to_rounding_count_as_constant() -> None:
    """1e8, 1e8 + 1 ulp, 1e8: the SD is rounding error (a standard error below 10 units of rounding of the mean, where
    R's t.test stops with "data are essentially constant"); it gave t = 0 and p = 1 (found by a randomised comparison
    with R).  One unit of rounding more spread than that threshold is a sample."""
    ulp = math.ulp(1e8)
    near = [1e8, 1e8 + ulp, 1e8]
    with pytest.raises(DesignError, match=r"`values` must not be constant \(standard deviation 0, or constant up to"):
        one_sample_t(near, 1e8)
    with pytest.warns(DegenerateDataWarning, match=r"`values`: standard deviation 0"):
        assert mean_interval(near) == (1e8, 1e8)
    with pytest.raises(DesignError, match=r"both samples must not be constant"):
        welch_t(near, [5e7, 5e7 - ulp / 2])
    assert welch_t(near, [1.0, 2.0, 4.0]).df == pytest.approx(2.0)  # all variance from y, as with constant x
    # a spread of 1e-6 around 1e8 (a standard error of 5.8e-7, against the threshold of 2.2e-7) is kept
    spread = [1e8 - 1e-6, 1e8, 1e8 + 1e-6]
    assert one_sample_t(spread, 1e8).se == pytest.approx(1e-6 / math.sqrt(3), rel=1e-2)


def test_welch_allows_one_constant_group() -> None:
    res = welch_t([1.0, 2.0, 3.0], [0.0, 0.0])
    assert res.df == pytest.approx(2.0)  # all variance from x


# ------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------
samples = st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=30).filter(
    lambda v: np.std(v) > 1e-6 * (1 + np.max(np.abs(v)))
)


@PROPS
@given(samples, st.floats(0.5, 0.999), st.floats(0.5, 0.999))
def test_interval_contains_mean_and_widens(values: list[float], l1: float, l2: float) -> None:
    small, big = sorted((l1, l2))
    a = mean_interval(values, confidence_level=small)
    b = mean_interval(values, confidence_level=big)
    m = float(np.mean(values))
    assert a.low <= m + 1e-9 * (1 + abs(m)) and m - 1e-9 * (1 + abs(m)) <= a.high
    assert b.low <= a.low + 1e-12 * (1 + abs(m)) and a.high <= b.high + 1e-12 * (1 + abs(m))


@PROPS
@given(samples, samples, st.floats(0.8, 0.99))
def test_welch_antisymmetric_and_dual(x: list[float], y: list[float], level: float) -> None:
    xy = welch_t(x, y, confidence_level=level)
    yx = welch_t(y, x, confidence_level=level)
    assert xy.estimate == pytest.approx(-yx.estimate, abs=1e-9)
    assert xy.pvalue == pytest.approx(yx.pvalue, rel=1e-9, abs=1e-15)
    assert 0.0 <= xy.pvalue <= 1.0
    alpha = 1.0 - level
    if abs(xy.pvalue - alpha) > 1e-7:  # test/interval duality (0 outside the CI <=> p < alpha)
        assert (xy.pvalue < alpha) == (not (xy.ci.low <= 0.0 <= xy.ci.high))


@PROPS
@given(samples)
def test_summary_path_equals_data_path(values: list[float]) -> None:
    arr = np.asarray(values)
    data = one_sample_t(arr, 1.0, alternative="less")
    summ = one_sample_t_from_summary(arr.mean(), arr.std(ddof=1), arr.size, 1.0, alternative="less")
    assert summ.pvalue == pytest.approx(data.pvalue, rel=1e-9, abs=1e-300)
    assert summ.statistic == pytest.approx(data.statistic, rel=1e-9)


@pytest.mark.parametrize("scale", [1e-160, 1.0, 1e155, 1e300])
def test_welch_df_is_free_of_the_scale(scale: float) -> None:
    """The Welch-Satterthwaite df depends on the SDs' ratio only: SDs of 4.1e155 and 2.5e155 gave an OverflowError
    (and 1e308 a df of NaN) when the variances were squared."""
    base = welch_t_from_summary(8.3, 4.1, 46, 2.3, 2.5, 15)
    scaled = welch_t_from_summary(8.3 * scale, 4.1 * scale, 46, 2.3 * scale, 2.5 * scale, 15)
    assert scaled.df == pytest.approx(base.df, rel=1e-13)
    assert scaled.statistic == pytest.approx(base.statistic, rel=1e-13)


def test_summaries_that_overflow_are_refused() -> None:
    with pytest.raises(DesignError, match=r"^`se1` is too large: the SD it gives, se \* sqrt\(n\), overflows; "):
        welch_t_from_summary(8.3, 1e308, 46, 2.3, 2.5, 15, spread="se")  # (gave a df and an interval of NaN)
    with pytest.raises(DesignError, match=r"^`x` is too large to summarise \(its mean or SD overflows\)"):
        welch_t([1e300, -1e300], [1.0, 2.0, 3.0])  # (NaN, with numpy's RuntimeWarning only)
