"""Tests of condapprove.estimate.survival.

Reference values come from R's survival package (survfit with log-log intervals, quantile.survfit,
survdiff, coxph with Efron ties, survreg) and hand-computed one-sample O - E in R; see
tests/reference/make_reference_survival.R, which writes tests/reference/survival.json.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from condapprove.errors import ConvergenceError, DegenerateDataWarning, DesignError
from condapprove.estimate.survival import (
    CoxResult,
    ExponentialCurve,
    KaplanMeierResult,
    PiecewiseExponentialCurve,
    ReferenceCurve,
    WeibullCurve,
    cox_hazard_ratio,
    exponential_rate,
    kaplan_meier,
    logrank_test,
    one_sample_logrank,
)
from condapprove.results import ConfidenceInterval

REF = json.loads((Path(__file__).resolve().parent / "reference" / "survival.json").read_text())
RTOL = 1e-6
ATOL = 1e-9


def _arr(values):
    """JSON list (nulls allowed) -> float array with NaN for R's NA."""
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values).tolist()], dtype=float)


def _inf(value):
    return math.inf if value is None else value


def _km_fits():
    for case in REF["kaplan_meier"]:
        for fit in case["fits"]:
            yield pytest.param(case, fit, id=f"{case['name']}-{fit['level']}")


def _km(case, level=0.95):
    return kaplan_meier(case["durations"], case["event_observed"], confidence_level=level)


# ------------------------------------------------------------------------------------------ Kaplan-Meier vs R


@pytest.mark.parametrize(("case", "fit"), list(_km_fits()))
def test_km_table_matches_survfit(case, fit):
    km = _km(case, fit["level"])
    np.testing.assert_allclose(km.times, _arr(fit["time"]), rtol=RTOL)
    np.testing.assert_array_equal(km.at_risk, _arr(fit["n_risk"]))
    np.testing.assert_array_equal(km.events, _arr(fit["n_event"]))
    np.testing.assert_array_equal(km.censored, _arr(fit["n_censor"]))
    np.testing.assert_allclose(km.survival, _arr(fit["surv"]), rtol=RTOL, atol=ATOL)
    # R's std.err is on the log scale: sigma = SE(S) / S (NA/Inf once S = 0)
    r_se = _arr(fit["std_err_log"])
    pos = km.survival > 0
    np.testing.assert_allclose(km.std_err[pos] / km.survival[pos], r_se[pos], rtol=RTOL, atol=ATOL)
    assert np.all(km.std_err[~pos] == 0)
    frame = km.to_frame()
    lower, upper = _arr(fit["lower"]), _arr(fit["upper"])
    defined = ~np.isnan(lower)
    np.testing.assert_allclose(frame["lower"].to_numpy()[defined], lower[defined], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(frame["upper"].to_numpy()[defined], upper[defined], rtol=RTOL, atol=ATOL)
    # documented convention where R gives NA (survival 0 or 1): a degenerate interval at the estimate
    np.testing.assert_array_equal(frame["lower"].to_numpy()[~defined], km.survival[~defined])
    np.testing.assert_array_equal(frame["upper"].to_numpy()[~defined], km.survival[~defined])
    assert np.all(np.isin(km.survival[~defined], (0.0, 1.0)))


@pytest.mark.parametrize(("case", "fit"), list(_km_fits()))
def test_km_median_matches_quantile_survfit(case, fit):
    km = _km(case, fit["level"])
    expected = _inf(fit["median"])
    ctx = pytest.warns(DegenerateDataWarning, match="not reached") if math.isinf(expected) else nullcontext()
    with ctx:
        median = km.median
    assert median == pytest.approx(expected, rel=RTOL)
    undefined = fit["median_lower"] is None and fit["median"] is not None
    ctx = pytest.warns(DegenerateDataWarning, match="undefined") if undefined else nullcontext()
    with ctx:
        low, high = km.median_interval()
    assert low == pytest.approx(_inf(fit["median_lower"]), rel=RTOL)
    assert high == pytest.approx(_inf(fit["median_upper"]), rel=RTOL)
    # the level passed explicitly gives the same answer as the default stored in the result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        assert km.median_interval(fit["level"]) == (low, high)


def test_print_survfit_median_differs_only_when_curve_ends_at_one_half():
    """print(fit) (survmean) and quantile(fit) disagree only when S ends at exactly 0.5; we follow quantile."""
    for case in REF["kaplan_meier"]:
        fit = case["fits"][0]
        same = (fit["median"] == fit["print_median"]) and (fit["median_lower"] == fit["print_lcl"])
        same = same and fit["median_upper"] == fit["print_ucl"]
        assert same == (case["name"] != "median_at_end"), case["name"]
    case = next(c for c in REF["kaplan_meier"] if c["name"] == "median_at_end")
    assert _km(case).median == 3.0  # (2 + last follow-up 4) / 2; print(fit) shows 2


@pytest.mark.parametrize(("case", "fit"), list(_km_fits()))
def test_km_landmarks_match_summary_extend(case, fit):
    km = _km(case, fit["level"])
    last = km.times[-1]
    for t, s, lo, hi in zip(
        _arr(fit["landmarks"]), _arr(fit["landmark_surv"]), _arr(fit["landmark_lower"]), _arr(fit["landmark_upper"])
    ):
        beyond = t > last and km.survival[-1] > 0
        ctx = pytest.warns(DegenerateDataWarning, match="beyond the last follow-up") if beyond else nullcontext()
        with ctx:
            assert km.survival_at(t) == pytest.approx(s, rel=RTOL, abs=ATOL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateDataWarning)
            ci = km.interval_at(t)
        if np.isnan(lo):  # R: NA where S is 0 (or 1 in fit$lower); ours is the degenerate (s, s)
            assert ci == (s, s)
        else:
            assert ci.low == pytest.approx(lo, rel=RTOL, abs=ATOL)
            assert ci.high == pytest.approx(hi, rel=RTOL, abs=ATOL)


def test_delytact_like_case_has_16_of_19_alive_at_12_months():
    case = next(c for c in REF["kaplan_meier"] if c["name"] == "delytact_like")
    km = _km(case)
    assert km.n == 19
    assert km.survival_at(12) == pytest.approx(16 / 19)
    lo, hi = km.interval_at(12)
    fit = case["fits"][0]
    idx = fit["landmarks"].index(12)
    assert (lo, hi) == pytest.approx((fit["landmark_lower"][idx], fit["landmark_upper"][idx]), rel=RTOL)


# ------------------------------------------------------------------------------------------ two-sample vs R


@pytest.mark.parametrize("case", REF["two_sample"], ids=lambda c: c["name"])
def test_logrank_matches_survdiff(case):
    res = logrank_test(case["durations"], case["event_observed"], case["group"])
    assert res.groups == (0, 1)
    assert res.chi2 == pytest.approx(case["chisq"], rel=RTOL)
    assert res.pvalue == pytest.approx(case["pvalue"], rel=RTOL)
    assert res.observed == tuple(int(v) for v in case["observed"])
    assert res.expected == pytest.approx(case["expected"], rel=RTOL)
    assert res.variance == pytest.approx(case["variance"], rel=RTOL)
    # signed z of group 1: positive when group 1 has more events than expected
    assert np.sign(res.statistic) == np.sign(case["observed"][1] - case["expected"][1])
    assert res.statistic**2 == pytest.approx(res.chi2)


@pytest.mark.parametrize("case", [c for c in REF["two_sample"] if "cox" in c], ids=lambda c: c["name"])
def test_cox_matches_coxph_efron(case):
    res = cox_hazard_ratio(case["durations"], case["event_observed"], case["group"])
    ref = case["cox"]
    # R stops at a relative change of the log-likelihood below 1e-10, within 1e-8 of the maximum here; condapprove
    # solves the score equation (lifelines' Newton-Raphson, used before, returned +0.886 for three_controls_36)
    assert res.log_hr == pytest.approx(ref["coef"], rel=1e-8, abs=1e-8)
    assert res.se == pytest.approx(ref["se"], rel=1e-9)
    assert res.statistic == pytest.approx(ref["z"], rel=1e-8, abs=1e-8)
    assert res.pvalue == pytest.approx(ref["pvalue"], rel=1e-8)
    assert res.interval() == pytest.approx((ref["lower95"], ref["upper95"]), rel=1e-8)
    assert res.interval(0.90) == pytest.approx((ref["lower90"], ref["upper90"]), rel=1e-8)
    assert res.hazard_ratio == pytest.approx(math.exp(ref["coef"]), rel=1e-8)


def test_cox_and_logrank_orientation_with_control_label():
    case = next(c for c in REF["two_sample"] if c["name"] == "aml")
    labels = np.where(np.asarray(case["group"]) == 1, "nonmaintained", "maintained")
    t, e = case["durations"], case["event_observed"]
    res = cox_hazard_ratio(t, e, labels)  # "maintained" sorts first: control
    assert res.groups == ("maintained", "nonmaintained")
    assert res.log_hr == pytest.approx(case["cox"]["coef"], rel=RTOL, abs=1e-8)
    flipped = cox_hazard_ratio(t, e, labels, control="nonmaintained")
    assert flipped.log_hr == pytest.approx(-res.log_hr, abs=1e-8)
    lr = logrank_test(t, e, labels)
    lr_flipped = logrank_test(t, e, labels, control="nonmaintained")
    assert lr_flipped.statistic == pytest.approx(-lr.statistic)
    assert lr_flipped.groups == ("nonmaintained", "maintained")
    assert lr_flipped.observed == lr.observed[::-1]
    # one-sided: Nonmaintained has the higher hazard, so 'greater' is small and 'less' large
    assert lr.statistic > 0
    g = logrank_test(t, e, labels, alternative="greater").pvalue
    lo = logrank_test(t, e, labels, alternative="less").pvalue
    assert g == pytest.approx(lr.pvalue / 2) and lo == pytest.approx(1 - g)
    assert cox_hazard_ratio(t, e, labels, alternative="greater").pvalue == pytest.approx(res.pvalue / 2)


# ------------------------------------------------------------------------------------------ one-sample vs R


def _curve(spec):
    if spec["kind"] == "exponential":
        return ExponentialCurve(spec["rate"])
    if spec["kind"] == "piecewise":
        return PiecewiseExponentialCurve(spec["breaks"], spec["rates"])
    return WeibullCurve(spec["shape"], spec["scale"])


@pytest.mark.parametrize(
    "case",
    REF["one_sample_logrank"],
    ids=[f"{c['name']}-{c['curve']['kind']}-{i}" for i, c in enumerate(REF["one_sample_logrank"])],
)
def test_one_sample_logrank_matches_r(case):
    ref = _curve(case["curve"])
    t, e = case["durations"], case["event_observed"]
    for method, z_key, p_key in (("wu", "z_wu", "p_wu"), ("standard", "z_standard", "p_standard"),
                                 ("exact", "z_standard", "p_exact")):
        for alternative, a_key in (("less", "less"), ("greater", "greater"), ("two-sided", "two_sided")):
            res = one_sample_logrank(t, e, ref, alternative=alternative, method=method)
            assert res.observed == case["observed"]
            assert res.expected == pytest.approx(case["expected"], rel=RTOL)
            assert res.statistic == pytest.approx(case[z_key], rel=RTOL)
            assert res.pvalue == pytest.approx(case[p_key][a_key], rel=RTOL, abs=1e-300)
    res = one_sample_logrank(t, e, ref)
    assert (res.method, res.alternative) == ("wu", "less")
    assert res.hazard_ratio == pytest.approx(case["ratio"], rel=RTOL)
    assert res.interval() == pytest.approx((case["ratio_lower95"], case["ratio_upper95"]), rel=RTOL)
    assert res.interval(0.90) == pytest.approx((case["ratio_lower90"], case["ratio_upper90"]), rel=RTOL)


@pytest.mark.parametrize("case", REF["exponential"], ids=lambda c: c["name"])
def test_exponential_rate_matches_poisson_test_and_survreg(case):
    ctx = pytest.warns(DegenerateDataWarning, match="no events") if case["events"] == 0 else nullcontext()
    with ctx:
        fit = exponential_rate(case["durations"], case["event_observed"])
    assert fit.events == case["events"]
    assert fit.exposure == pytest.approx(case["exposure"], rel=RTOL)
    assert fit.rate == pytest.approx(case["rate"], rel=RTOL)
    if "survreg_rate" in case:
        assert fit.rate == pytest.approx(case["survreg_rate"], rel=1e-5)  # survreg's own convergence tolerance
    assert fit.interval() == pytest.approx((case["lower95"], case["upper95"]), rel=RTOL, abs=ATOL)
    assert fit.interval(0.90) == pytest.approx((case["lower90"], case["upper90"]), rel=RTOL, abs=ATOL)
    lo, hi = fit.median_interval()
    assert lo == pytest.approx(math.log(2) / case["upper95"], rel=RTOL)
    assert hi == (math.inf if case["events"] == 0 else pytest.approx(math.log(2) / case["lower95"], rel=RTOL))


# ------------------------------------------------------------------------------------------ edge cases


def test_all_censored():
    km = kaplan_meier([1, 2, 3, 4, 5], [0, 0, 0, 0, 0])
    assert np.all(km.survival == 1.0)
    assert np.all(km.std_err == 0.0)
    assert km.interval_at(3) == (1.0, 1.0)
    with pytest.warns(DegenerateDataWarning, match="median survival not reached"):
        assert km.median == math.inf
    assert km.median_interval() == (math.inf, math.inf)
    with pytest.warns(DegenerateDataWarning):
        lr = logrank_test([1, 2, 3, 4], [0, 0, 0, 0], [0, 0, 1, 1])
    assert (lr.statistic, lr.chi2, lr.pvalue) == (0.0, 0.0, 1.0)
    with pytest.raises(ConvergenceError, match="no finite maximum"):
        cox_hazard_ratio([1, 2, 3, 4], [0, 0, 0, 0], [0, 0, 1, 1])
    with pytest.warns(DegenerateDataWarning, match="no events"):
        fit = exponential_rate([1, 2, 3, 4], [0, 0, 0, 0])
    assert (fit.rate, fit.median) == (0.0, math.inf)
    assert fit.interval().low == 0.0
    res = one_sample_logrank([1, 2, 3, 4], [0, 0, 0, 0], ExponentialCurve(0.1))
    assert res.observed == 0 and res.statistic == pytest.approx(-math.sqrt(2 * 1.0))


def test_single_patient():
    km = kaplan_meier([5.0], [1])
    assert km.survival.tolist() == [0.0]
    assert km.survival_at(4.9) == 1.0 and km.survival_at(5) == 0.0 and km.survival_at(100) == 0.0
    assert km.interval_at(5) == (0.0, 0.0)
    assert km.median == 5.0
    with pytest.warns(DegenerateDataWarning, match="interval of the median is undefined"):
        assert km.median_interval() == (math.inf, math.inf)  # R: NA, NA (log-log bounds undefined at S = 0)
    km = kaplan_meier([5.0], [0])
    assert km.survival.tolist() == [1.0] and km.n_events == 0
    with pytest.warns(DegenerateDataWarning, match="beyond the last follow-up"):
        assert km.survival_at(6) == 1.0


def test_no_events_in_one_group_logrank_defined_cox_raises():
    case = next(c for c in REF["two_sample"] if c["name"] == "no_events_group1")
    res = logrank_test(case["durations"], case["event_observed"], case["group"])
    assert res.observed == (4, 0)
    with pytest.raises(ConvergenceError, match="logrank_test"):
        cox_hazard_ratio(case["durations"], case["event_observed"], case["group"])


def test_zero_variance_when_groups_never_overlap_at_events():
    with pytest.warns(DegenerateDataWarning, match="variance is 0"):
        res = logrank_test([1, 2, 5, 6], [0, 0, 1, 1], [0, 0, 1, 1])
    assert res.pvalue == 1.0 and res.observed == (0, 2)


def test_km_ties_censoring_at_event_time_counts_at_risk():
    km = kaplan_meier([2, 2, 2, 3], [1, 0, 0, 1])
    assert km.at_risk.tolist() == [4, 1]
    assert km.survival.tolist() == [0.75, 0.0]


def test_times_equal_up_to_rounding_are_ties_as_r_timefix():
    km = kaplan_meier([0.1 + 0.2, 0.3, 1.0], [1, 1, 0])
    assert km.times.tolist() == [0.3, 1.0] and km.events.tolist() == [2, 0]
    lr = logrank_test([0.1 + 0.2, 0.3, 1.0, 2.0], [1, 1, 0, 1], [0, 1, 0, 1])
    assert lr.variance == pytest.approx(0.5 * 0.5 * 2 * 2 / 3)


def test_km_zero_durations_allowed():
    km = kaplan_meier([0, 0, 1, 2], [1, 0, 1, 0])
    assert km.times[0] == 0.0 and km.survival[0] == 0.75


@pytest.mark.parametrize(
    ("durations", "events", "match"),
    [
        ([1, -2, 3], [1, 0, 1], "`durations` must be non-negative times; got -2.0"),
        ([1, np.nan, 3], [1, 0, 1], "`durations` must be an array of finite numbers"),
        ([1, np.inf, 3], [1, 0, 1], "`durations` must be an array of finite numbers"),
        ([], [], "`durations` must be an array with at least 1 entries"),
        ([[1, 2]], [[1, 0]], "`durations` must be a 1-d array"),
        ([1, 2, 3], [1, 2, 0], "`event_observed` must be 0/1 event indicators .*; got 2"),
        ([1, 2, 3], [1, 0.5, 0], "`event_observed` must be 0/1 event indicators .*; got 0.5"),
        ([1, 2, 3], ["a", "b", "c"], "`event_observed` must be a 1-d array of 0/1"),
        ([1, 2, 3], [1, 0], r"`event_observed` must have the same length as `durations` \(3\); got length 2"),
        ([1, 2, 3], [[1, 0, 1]], "`event_observed` must be a 1-d array"),
    ],
)
def test_invalid_data_raise(durations, events, match):
    for fn in (kaplan_meier, exponential_rate):
        with pytest.raises(DesignError, match=match):
            fn(durations, events)
    with pytest.raises(DesignError, match=match):
        one_sample_logrank(durations, events, ExponentialCurve(0.1))
    with pytest.raises(DesignError, match=match):
        logrank_test(durations, events, [0, 1, 1][: max(len(durations), 1)])


def test_boolean_events_accepted():
    a = kaplan_meier([1, 2, 3], [True, False, True])
    b = kaplan_meier([1, 2, 3], [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(a.survival, b.survival)


@pytest.mark.parametrize(
    ("group", "kwargs", "match"),
    [
        ([0, 1, 2, 1], {}, "`group` must be an array with exactly two distinct labels; got \\[0, 1, 2\\]"),
        ([0, 0, 0, 0], {}, "exactly two distinct labels"),
        ([0, 1, 1], {}, r"`group` must have the same length as `durations` \(4\)"),
        ([0, 1, np.nan, 1], {}, "without NaN"),
        ([0, 1, 0, 1], {"control": 5}, r"`control` must be one of the labels in `group` \[0, 1\]; got 5"),
        ([0, 1, 0, 1], {"alternative": "lesser"}, "`alternative` must be one of"),
    ],
)
def test_invalid_group_raise(group, kwargs, match):
    with pytest.raises(DesignError, match=match):
        logrank_test([1, 2, 3, 4], [1, 1, 0, 1], group, **kwargs)


def test_invalid_options_raise_with_hints():
    with pytest.raises(DesignError, match="`alternative` must be one of") as info:
        one_sample_logrank([1, 2], [1, 0], ExponentialCurve(0.1), alternative="two_sided")
    assert "did you mean 'two-sided'" in str(info.value)
    with pytest.raises(DesignError, match="`method` must be one of 'wu', 'standard', 'exact'"):
        one_sample_logrank([1, 2], [1, 0], ExponentialCurve(0.1), method="finkelstein")
    with pytest.raises(DesignError, match="`ties` must be one of 'efron'; got 'breslow'"):
        cox_hazard_ratio([1, 2, 3, 4], [1, 1, 1, 1], [0, 1, 0, 1], ties="breslow")
    with pytest.raises(DesignError, match="`confidence_level` must be a probability in \\(0, 1\\)"):
        kaplan_meier([1, 2], [1, 0], confidence_level=1.0)
    km = kaplan_meier([1, 2], [1, 0])
    with pytest.raises(DesignError, match="`confidence_level`"):
        km.interval_at(1, confidence_level=0)
    with pytest.raises(DesignError, match="`t` must be a finite time >= 0; got -1"):
        km.survival_at(-1)
    with pytest.raises(DesignError, match="`reference` must be a reference curve") as info:
        one_sample_logrank([1, 2], [1, 0], 0.1)
    assert "ExponentialCurve" in str(info.value)
    with pytest.raises(DesignError, match="expected events E = 0"):
        one_sample_logrank([0, 0], [1, 0], ExponentialCurve(0.1))
    with pytest.raises(DesignError, match="positive total follow-up"):
        exponential_rate([0, 0], [1, 0])


def test_custom_reference_curve_and_bad_reference_values():
    class Linear:
        def cumulative_hazard(self, t):
            return 0.1 * np.asarray(t)

    assert isinstance(Linear(), ReferenceCurve)
    a = one_sample_logrank([1, 5, 9], [1, 0, 1], Linear())
    b = one_sample_logrank([1, 5, 9], [1, 0, 1], ExponentialCurve(0.1))
    assert a == b

    class Negative:
        def cumulative_hazard(self, t):
            return -np.asarray(t)

    with pytest.raises(DesignError, match="finite values >= 0, one per patient"):
        one_sample_logrank([1, 2], [1, 0], Negative())


# ------------------------------------------------------------------------------------------ reference curves


def test_curves_agree_in_the_exponential_case():
    t = np.array([0.0, 0.5, 3.0, 10.0, 40.0])
    ref = ExponentialCurve(0.2)
    others = (WeibullCurve(1.0, 5.0), PiecewiseExponentialCurve([], [0.2]), PiecewiseExponentialCurve([1, 4], [0.2] * 3))
    for other in others:
        np.testing.assert_allclose(other.cumulative_hazard(t), ref.cumulative_hazard(t), rtol=1e-12)
        np.testing.assert_allclose(other.survival(t), ref.survival(t), rtol=1e-12)
        np.testing.assert_allclose(other.hazard(t[1:]), ref.hazard(t[1:]), rtol=1e-12)
        np.testing.assert_allclose(other.quantile([0.1, 0.5, 0.9]), ref.quantile([0.1, 0.5, 0.9]), rtol=1e-12)


@pytest.mark.parametrize(
    "curve",
    [
        ExponentialCurve(0.07),
        WeibullCurve(1.5, 14.0),
        WeibullCurve(0.6, 3.0),
        PiecewiseExponentialCurve([6, 12], [0.05, 0.15, 0.08]),
        PiecewiseExponentialCurve([2, 5], [0.0, 0.3, 0.1]),
    ],
    ids=repr,
)
def test_curve_identities(curve):
    q = np.array([0.0, 0.05, 0.3, 0.5, 0.8, 0.99])
    t = curve.quantile(q)
    np.testing.assert_allclose(curve.survival(t), 1 - q, rtol=1e-10, atol=1e-12)
    # hazard is the derivative of the cumulative hazard (away from change points)
    grid = np.array([0.7, 3.3, 7.1, 15.2])
    h = 1e-6
    numeric = (curve.cumulative_hazard(grid + h) - curve.cumulative_hazard(grid - h)) / (2 * h)
    np.testing.assert_allclose(curve.hazard(grid), numeric, rtol=1e-5, atol=1e-9)
    # scalar in, float out; array in, array out
    assert isinstance(curve.survival(2.0), float) and isinstance(curve.quantile(0.5), float)
    assert curve.survival([1.0, 2.0]).shape == (2,)
    assert curve.median == pytest.approx(curve.quantile(0.5))
    assert curve.cumulative_hazard(0.0) == 0.0
    assert curve.survival(math.inf) == 0.0 and curve.quantile(1.0) == math.inf


def test_curve_constructors():
    ref = ExponentialCurve.from_median(10)
    assert ref.survival(10) == pytest.approx(0.5)
    assert ExponentialCurve.from_survival_at(12, 0.15).survival(12) == pytest.approx(0.15)
    w = WeibullCurve.from_survival_at(12, 0.15, shape=2.0)
    assert w.survival(12) == pytest.approx(0.15) and w.shape == 2.0
    assert WeibullCurve.from_median(8, shape=0.7).median == pytest.approx(8)
    pw = PiecewiseExponentialCurve.from_survival_at([6, 12, 24], [0.6, 0.15, 0.1])
    np.testing.assert_allclose(pw.survival([6, 12, 24]), [0.6, 0.15, 0.1])
    assert pw.breaks == (6.0, 12.0) and len(pw.rates) == 3
    plateau = PiecewiseExponentialCurve([5], [0.2, 0.0])
    assert plateau.survival(100) == pytest.approx(math.exp(-1.0))
    assert plateau.quantile(0.9) == math.inf
    assert plateau.cumulative_hazard(math.inf) == pytest.approx(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.rate = 1.0  # type: ignore[misc]
    assert isinstance(ref.rate, float)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: ExponentialCurve(0), "`rate` must be a finite number > 0; got 0"),
        (lambda: ExponentialCurve(-1), "`rate` must be a finite number > 0"),
        (lambda: ExponentialCurve.from_survival_at(12, 1.0), "`survival` must be a probability in \\(0, 1\\)"),
        (lambda: ExponentialCurve.from_median(0), "`median` must be a finite number > 0"),
        (lambda: WeibullCurve(0, 1), "`shape` must be a finite number > 0"),
        (lambda: WeibullCurve(1, -1), "`scale` must be a finite number > 0"),
        (lambda: PiecewiseExponentialCurve([6, 6], [0.1, 0.1, 0.1]), "`breaks` must be strictly increasing"),
        (lambda: PiecewiseExponentialCurve([0, 6], [0.1, 0.1, 0.1]), "`breaks` must be strictly increasing"),
        (lambda: PiecewiseExponentialCurve([6], [0.1]), r"`rates` must have len\(breaks\) \+ 1 = 2 entries; got 1"),
        (lambda: PiecewiseExponentialCurve([6], [0.1, -0.1]), "`rates` must be hazards >= 0"),
        (lambda: PiecewiseExponentialCurve([6], [0.0, 0.0]), "at least one > 0"),
        (lambda: PiecewiseExponentialCurve.from_survival_at([6, 12], [0.2, 0.5]), "`survival` must be non-increasing"),
        (lambda: ExponentialCurve(0.1).survival(-1.0), "`t` must be times >= 0"),
        (lambda: ExponentialCurve(0.1).quantile(1.5), "`q` must be probabilities in \\[0, 1\\]"),
    ],
)
def test_curve_validation(factory, match):
    with pytest.raises(DesignError, match=match):
        factory()


def test_exponential_fit_feeds_one_sample_test():
    fit = exponential_rate([3, 5, 8, 12, 12, 12], [1, 1, 1, 0, 0, 0])
    curve = fit.to_curve()
    assert curve.rate == fit.rate
    res = one_sample_logrank([3, 5, 8, 12, 12, 12], [1, 1, 1, 0, 0, 0], curve)
    assert res.expected == pytest.approx(res.observed)  # the MLE makes O = E
    assert res.statistic == pytest.approx(0.0, abs=1e-12)
    with pytest.warns(DegenerateDataWarning):
        empty = exponential_rate([1, 2], [0, 0])
    with pytest.raises(DesignError, match="at least one event"):
        empty.to_curve()


# ------------------------------------------------------------------------------------------ result objects


def test_results_are_frozen_tables_and_dicts():
    km = kaplan_meier([1, 1, 2, 2, 2, 3, 4, 4, 5, 6], [1, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    assert isinstance(km, KaplanMeierResult)
    frame = km.to_frame()
    assert list(frame.columns) == ["time", "n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper"]
    assert len(frame) == km.times.size
    wider = km.to_frame(0.99)
    assert np.all(wider["lower"] <= frame["lower"]) and np.all(wider["upper"] >= frame["upper"])
    d = km.to_dict()
    assert d["survival"][0] == 0.9 and isinstance(d["at_risk"][0], int)
    json.dumps(d)
    with pytest.raises(dataclasses.FrozenInstanceError):
        km.n = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        km.survival[0] = 0.1
    lr = logrank_test([1, 2, 3, 4], [1, 1, 0, 1], ["b", "a", "b", "a"])
    assert lr.groups == ("a", "b")
    assert lr.to_frame().shape[0] == 1 and "pvalue" in lr.to_frame().columns
    json.dumps(lr.to_dict())
    cox = cox_hazard_ratio([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 1], [0, 1, 0, 1, 0, 1])
    assert isinstance(cox, CoxResult) and isinstance(cox.hazard_ratio, float)
    assert isinstance(cox.interval(), ConfidenceInterval)
    json.dumps(cox.to_dict())
    res = one_sample_logrank([1, 2], [1, 0], ExponentialCurve(0.1))
    assert isinstance(res.observed, int) and isinstance(res.expected, float)
    assert res.to_frame()["method"].iloc[0] == "wu"


# ------------------------------------------------------------------------------------------ properties

survival_data = st.integers(min_value=1, max_value=25).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 12).map(float), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
    )
)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(data=survival_data, level=st.sampled_from([0.8, 0.9, 0.95]))
@example(data=([5.0], [1]), level=0.95)
@example(data=([1.0, 1.0, 1.0], [0, 0, 0]), level=0.95)
def test_km_properties(data, level):
    t, e = data
    km = kaplan_meier(t, e, confidence_level=level)
    s = km.survival
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 0)
    assert np.all(np.diff(km.times) > 0)
    assert km.at_risk[0] == len(t) and km.events.sum() == sum(e)
    frame = km.to_frame()
    wider = km.to_frame(0.99)
    assert np.all(frame["lower"] <= s + 1e-12) and np.all(s <= frame["upper"] + 1e-12)
    assert np.all(wider["lower"] <= frame["lower"] + 1e-12) and np.all(wider["upper"] >= frame["upper"] - 1e-12)
    assert np.all((frame["lower"] >= 0) & (frame["upper"] <= 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        median = km.median
        for probe in (0.0, 3.5, 12.0, 13.0):
            lo, hi = km.interval_at(probe)
            assert lo <= km.survival_at(probe) <= hi
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        low, high = km.median_interval()
    undefined = math.isfinite(median) and math.isinf(low)
    assert len(caught) == int(undefined)  # warned exactly when the interval is (inf, inf) around a finite median
    if math.isfinite(median) and not undefined:
        assert low <= median <= high
    if math.isinf(median):
        assert high == math.inf


two_group_data = st.integers(min_value=2, max_value=24).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 10).map(float), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda g: 0 < sum(g) < len(g)),
        st.randoms(use_true_random=False),
    )
)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(data=two_group_data)
def test_logrank_invariant_to_permuting_patients(data):
    t, e, g, rnd = data
    perm = list(range(len(t)))
    rnd.shuffle(perm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        a = logrank_test(t, e, g)
        b = logrank_test([t[i] for i in perm], [e[i] for i in perm], [g[i] for i in perm])
        c = logrank_test(t, e, g, control=1)
    assert a.observed == b.observed and a.n == b.n
    assert a.statistic == pytest.approx(b.statistic, abs=1e-12)
    assert a.expected == pytest.approx(b.expected) and a.pvalue == pytest.approx(b.pvalue)
    assert c.statistic == pytest.approx(-a.statistic, abs=1e-12) and c.pvalue == pytest.approx(a.pvalue)
    assert sum(a.expected) == pytest.approx(sum(e))
    assert 0.0 <= a.pvalue <= 1.0


@settings(derandomize=True, max_examples=60, deadline=None)
@given(data=survival_data, rate=st.floats(0.01, 2.0), level=st.sampled_from([0.8, 0.95]))
def test_one_sample_and_exponential_properties(data, rate, level):
    t, e = data
    if sum(t) == 0:
        return
    ref = ExponentialCurve(rate)
    res = {m: one_sample_logrank(t, e, ref, method=m, confidence_level=level) for m in ("wu", "standard", "exact")}
    assert np.sign(res["wu"].statistic) == np.sign(res["standard"].statistic)
    # Wu's variance (O + E) / 2 is below E exactly when O < E: larger |z| for benefit
    if res["wu"].observed < res["wu"].expected:
        assert res["wu"].pvalue <= res["standard"].pvalue + 1e-15
    for r in res.values():
        lo, hi = r.interval()
        wide = r.interval(0.99)
        assert lo <= r.hazard_ratio <= hi and wide.low <= lo and wide.high >= hi
        assert 0.0 <= r.pvalue <= 1.0
    two = one_sample_logrank(t, e, ref, alternative="two-sided", method="standard")
    assert two.pvalue == pytest.approx(2 * min(res["standard"].pvalue, 1 - res["standard"].pvalue))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        fit = exponential_rate(t, e, confidence_level=level)
    lo, hi = fit.interval()
    assert lo <= fit.rate <= hi
    mlo, mhi = fit.median_interval()
    assert mlo <= fit.median <= mhi


def _efron_loglik(t, e, g, beta):
    """Efron's log partial likelihood of a 0/1 covariate, term by term from its definition (independent of
    condapprove's score): at each event time, the tied events' linear predictors minus, for l = 0..d-1, the log of
    the risk set's sum of exp(beta x) less l/d of the tied events' sum."""
    t, e, g = np.asarray(t, float), np.asarray(e), np.asarray(g)
    total = 0.0
    for s in np.unique(t[e == 1]):
        risk = np.exp(beta * g[t >= s])
        tied = (t == s) & (e == 1)
        d = int(tied.sum())
        total += beta * g[tied].sum()
        for l in range(d):
            total -= math.log(risk.sum() - l / d * np.exp(beta * g[tied]).sum())
    return total


cox_data = st.integers(min_value=3, max_value=30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 12).map(float), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda g: 0 < sum(g) < len(g)),
    )
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(data=cox_data)
@example(data=([1.0, 1.0, 2.0, 2.0, 3.0, 4.0], [1, 1, 1, 0, 1, 1], [1, 0, 0, 0, 0, 0]))  # one compared patient, tied
@example(data=([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1], [0, 0, 1, 1]))  # every control event before any compared one
def test_cox_maximises_the_efron_likelihood(data):
    """The estimate is the maximum of Efron's partial likelihood computed from its definition (a step of 1e-4 either
    way lowers it, and the curvature there is the information the standard error inverts), and a finite maximum is
    refused exactly when the likelihood keeps rising towards beta = +inf or -inf."""
    t, e, g = data
    try:
        res = cox_hazard_ratio(t, e, g)
    except ConvergenceError:
        # no finite maximum: the likelihood rises monotonically towards one end (checked far out on both sides)
        values = [_efron_loglik(t, e, g, b) for b in (-40.0, -20.0, 0.0, 20.0, 40.0)]
        assert values == sorted(values) or values == sorted(values, reverse=True)
        return
    b, h = res.log_hr, 1e-4
    centre, left, right = (_efron_loglik(t, e, g, x) for x in (b, b - h, b + h))
    assert centre >= left and centre >= right
    curvature = -(left - 2 * centre + right) / h**2
    assert curvature == pytest.approx(1 / res.se**2, rel=1e-3)


def test_one_sample_sums_use_each_patients_own_time_without_merging_near_ties() -> None:
    """The one-sample log-rank's E = sum of the reference cumulative hazard at each patient's own time, and the
    exponential rate's exposure = the sum of the times: no merge of near-ties there (a merge, which only orders
    need, moved 1e-12 to 0, where a Weibull hazard of shape 0.3 is steepest: E 1.3795255 against R's
    sum((t / 8.5)^0.3) = 1.3796577, found by a randomised comparison)."""
    t = np.array([0.0, 1e-12, 2.0, 3.0])
    e = np.array([1, 1, 1, 0])
    res = one_sample_logrank(t, e, WeibullCurve(0.3, 8.5), method="standard")
    assert res.expected == pytest.approx(float(np.sum((t / 8.5) ** 0.3)), rel=1e-14)
    assert res.expected == pytest.approx(1.3796577312981237, rel=1e-12)
    near = np.array([0.1 + 0.2, 0.3, 5.0])
    assert exponential_rate(near, [1, 1, 0]).exposure == float(np.sum(near))
