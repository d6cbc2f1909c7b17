"""Tests for condapprove.boundaries: spending functions, group-sequential designs, fast path.

Reference values: rpact 3.3.4 (tests/reference/make_reference_boundaries.R ->
tests/reference/boundaries_rpact.json). rpact integrates on a fixed 91-point Newton-Cotes grid
and its values differ from ours (accurate to ~1e-12) by at most ~2e-7 (critical values,
information rates 0.9/1) and ~1e-7 elsewhere, inside the 1e-6 tolerance used here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import ndtr, ndtri
from scipy.stats import multivariate_normal

from condapprove.boundaries import (
    MIN_ALPHA_INCREMENT,
    SPENDING_FUNCTIONS,
    CrossingProbabilities,
    GroupSequentialDesign,
    HwangShihDeCaniSpending,
    KimDeMetsSpending,
    OBrienFlemingSpending,
    PocockSpending,
    _cached_bounds,
    critical_values_from_spending,
    crossing_probabilities,
    efficacy_bounds,
    efficacy_bounds_batch,
    group_sequential,
    spending_function,
)
from condapprove.errors import DesignError

REFERENCE = json.loads((Path(__file__).parent / "reference" / "boundaries_rpact.json").read_text())
RPACT_NAMES = {"asOF": "obrien-fleming", "asP": "pocock", "asKD": "kim-demets", "asHSD": "hwang-shih-decani"}
RPACT_BETA_NAMES = {"bsOF": "obrien-fleming", "bsP": "pocock", "bsKD": "kim-demets", "bsHSD": "hwang-shih-decani"}
ATOL = 1e-6  # rpact's own precision is ~1e-7 (fixed 91-point grid); ours ~1e-12
HYP = settings(derandomize=True, max_examples=40, deadline=None, database=None)


def _design_from_case(case: dict) -> GroupSequentialDesign:
    fut = case["futilityBounds"]
    kwargs: dict = {}
    if fut is not None:
        # rpact's -6 means "no futility bound at this look"
        kwargs["futility"] = [None if v <= -6 else v for v in np.atleast_1d(fut)]
        kwargs["binding"] = case["bindingFutility"]
    if case["typeBetaSpending"] is not None:
        kwargs["beta_spending"] = RPACT_BETA_NAMES[case["typeBetaSpending"]]
        kwargs["beta_parameter"] = case["gammaB"]
        kwargs["binding"] = case["bindingFutility"]
    return group_sequential(
        np.atleast_1d(case["default"]["informationRates"]).tolist(),
        alpha=case["alpha"],
        beta=case["beta"],
        spending=RPACT_NAMES[case["typeOfDesign"]],
        parameter=case["gammaA"],
        **kwargs,
    )


def _close(actual, expected, atol=ATOL):
    np.testing.assert_allclose(np.atleast_1d(actual), np.atleast_1d(expected), rtol=0, atol=atol)


# ----------------------------------------------------------------------------- rpact reference


@pytest.fixture(scope="module")
def designs() -> dict[str, GroupSequentialDesign]:
    return {case["id"]: _design_from_case(case) for case in REFERENCE["cases"]}


def test_reference_covers_the_spread() -> None:
    cases = REFERENCE["cases"]
    assert REFERENCE["rpact_version"] == "3.3.4"
    assert {c["typeOfDesign"] for c in cases} == set(RPACT_NAMES)
    assert {c["kMax"] for c in cases} >= {1, 2, 3, 4, 5}
    assert {c["alpha"] for c in cases} == {0.025, 0.05}
    assert {c["beta"] for c in cases} == {0.1, 0.2}
    assert any(c["futilityBounds"] is not None and c["bindingFutility"] for c in cases)
    assert any(c["futilityBounds"] is not None and not c["bindingFutility"] for c in cases)
    beta_spending = [c for c in cases if c["typeBetaSpending"] is not None]
    assert {c["typeBetaSpending"] for c in beta_spending} == set(RPACT_BETA_NAMES)
    assert {c["bindingFutility"] for c in beta_spending} == {True, False}


@pytest.mark.parametrize("tolerance", ["default", "tight"])
@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: c["id"])
def test_design_matches_rpact(case: dict, tolerance: str, designs) -> None:
    d = designs[case["id"]]
    ref = case[tolerance]
    _close(d.information_rates, ref["informationRates"], atol=1e-15)
    _close(d.critical_values, ref["criticalValues"])
    _close(d.cumulative_alpha, ref["alphaSpent"])
    _close(d.stage_levels, ref["stageLevels"])
    _close(d.inflation_factor, ref["inflationFactor"])
    _close(d.drift**2, ref["shift"], atol=ATOL * 10)  # shift ~ 8-11: relative 1e-7
    if case["kMax"] == 1:
        return
    _close(np.maximum(d.futility_bounds, -6.0), ref["futilityBounds"])  # rpact's -6 is "none"
    ch = d.characteristics()
    if case["typeBetaSpending"] is not None:
        beta_spent = np.cumsum([*ch.futility_probabilities, 1.0 - ch.power[-1] - sum(ch.futility_probabilities)])
        _close(beta_spent, ref["betaSpent"])
        _close(ch.power, ref["designPower"])
    _close(ch.fixed_drift**2, ref["nFixed"], atol=1e-12)
    _close(ch.power, ref["power"])
    _close(ch.rejection_probabilities, ref["rejectionProbabilities"])
    _close(ch.futility_probabilities, ref["futilityProbabilities"])
    _close(ch.asn_ratio_h1, ref["averageSampleNumber1"])
    _close(ch.asn_ratio_h01, ref["averageSampleNumber01"])
    _close(ch.asn_ratio_h0, ref["averageSampleNumber0"])


@pytest.mark.parametrize(
    "case",
    [c for c in REFERENCE["cases"] if c["futilityBounds"] is None and not c["bindingFutility"]],
    ids=lambda c: c["id"],
)
def test_fast_path_matches_rpact(case: dict) -> None:
    spending = spending_function(RPACT_NAMES[case["typeOfDesign"]], case["alpha"], case["gammaA"])
    rates = np.atleast_1d(case["default"]["informationRates"])
    _close(efficacy_bounds(rates, spending=spending), case["default"]["criticalValues"])
    _close(critical_values_from_spending(spending(rates), rates), case["default"]["criticalValues"])


@pytest.mark.parametrize("alpha", [0.001, 0.025, 0.05, 0.2])
def test_fixed_design_limit(alpha: float) -> None:
    d = group_sequential(1, alpha=alpha, beta=0.1)
    z = -float(ndtri(alpha))
    assert d.critical_values == pytest.approx((z,), abs=1e-14)
    assert d.inflation_factor == pytest.approx(1.0, abs=1e-10)
    assert d.drift == pytest.approx(z - float(ndtri(0.1)), abs=1e-10)
    assert d.power(0.0).power == pytest.approx(alpha, abs=1e-14)
    assert d.expected_information(2.0) == 1.0
    assert efficacy_bounds([0.6], alpha=alpha) == pytest.approx([z], abs=1e-14)  # final look: all alpha


# ------------------------------------------------------------------ independent checks (exact)


@pytest.mark.parametrize(
    ("c1", "c2", "t1", "drift"),
    [(2.8, 1.98, 0.4, 0.0), (2.5, 2.0, 0.4, 2.5), (1.5, 2.2, 0.7, 1.0), (4.0, 1.7, 0.1, 3.0), (2.0, 2.0, 0.95, 0.5)],
)
def test_two_looks_match_bivariate_normal(c1: float, c2: float, t1: float, drift: float) -> None:
    r = math.sqrt(t1)
    mean = np.array([drift * r, drift])
    joint = multivariate_normal.cdf([c1, c2], mean=mean, cov=[[1, r], [r, 1]], abseps=1e-13, releps=1e-13)
    cp = crossing_probabilities([c1, c2], [t1, 1.0], drift=drift)
    assert cp.rejection_probabilities[0] == pytest.approx(float(ndtr(mean[0] - c1)), abs=1e-15)
    assert cp.rejection_probabilities[1] == pytest.approx(float(ndtr(c1 - mean[0]) - joint), abs=1e-11)


def test_two_looks_with_futility_match_bivariate_normal() -> None:
    t1, a1, c1, c2, drift = 0.5, 0.3, 2.7, 1.95, 2.0
    r = math.sqrt(t1)
    mean, cov = np.array([drift * r, drift]), [[1, r], [r, 1]]
    cdf = lambda x, y: multivariate_normal.cdf([x, y], mean=mean, cov=cov, abseps=1e-13, releps=1e-13)
    expected = (float(ndtr(c1 - mean[0])) - cdf(c1, c2)) - (float(ndtr(a1 - mean[0])) - cdf(a1, c2))
    cp = crossing_probabilities([c1, c2], [t1, 1.0], futility_bounds=[a1], drift=drift)
    assert cp.rejection_probabilities[1] == pytest.approx(expected, abs=1e-11)
    assert cp.futility_probabilities[0] == pytest.approx(float(ndtr(a1 - mean[0])), abs=1e-15)
    stop1 = cp.rejection_probabilities[0] + cp.futility_probabilities[0]
    assert cp.expected_information == pytest.approx(t1 * stop1 + (1 - stop1), abs=1e-14)


def test_close_looks_stay_accurate() -> None:
    f = OBrienFlemingSpending(alpha=0.025)
    for gap in (1e-2, 1e-4):
        t = np.array([0.3, 0.5, 0.5 + gap, 1.0])
        c = critical_values_from_spending(f(t), t)
        cp = crossing_probabilities(c, t)
        _close(np.cumsum(cp.rejection_probabilities), f(t), atol=1e-11)


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])
def test_looks_closer_than_a_millionth_are_refused_and_those_just_apart_tend_to_the_merged_design(spending) -> None:
    """A look less than a relative 1e-6 of the information after the one before it is refused by every entry point
    (below that the integration's nodes no longer resolve it: with 1e-8 the O'Brien-Fleming bounds spent a type I
    error of 0.042, by mvtnorm, instead of 0.025, unseen by their own recursion); a look 2e-6 apart is accepted and
    adds almost nothing, so the first and final bounds tend to those of the design without it (the middle look's,
    which spends what alpha(t) adds over 2e-6, moves by about its square root)."""
    f = spending_function(spending, 0.025)
    hint = r"more than a millionth \(1e-6\) of the information"
    close = [0.5, 0.5 * (1 + 5e-7), 1.0]
    for call in (lambda: group_sequential(close, spending=spending), lambda: efficacy_bounds(close),
                 lambda: efficacy_bounds_batch([[0.2, 0.6, 1.0], close]),
                 lambda: critical_values_from_spending(f(np.array(close)), [50.0, 50.0 * (1 + 5e-7), 100.0])):
        with pytest.raises(DesignError, match=hint):
            call()
    apart = group_sequential([0.5, 0.5 * (1 + 2e-6), 1.0], spending=spending)
    merged = group_sequential([0.5, 1.0], spending=spending)
    _close(np.array(apart.critical_values)[[0, 2]], merged.critical_values, atol=1e-5)
    assert apart.inflation_factor == pytest.approx(merged.inflation_factor, abs=1e-5)


# ------------------------------------------------------------------------- spending functions


def test_spending_values_and_names() -> None:
    assert set(SPENDING_FUNCTIONS) == {"obrien-fleming", "pocock", "kim-demets", "hwang-shih-decani"}
    of = spending_function("obrien-fleming", 0.025)
    z = -float(ndtri(0.0125))
    assert of(0.25) == pytest.approx(2 * float(ndtr(-z / 0.5)), rel=1e-14)
    assert spending_function("pocock", 0.05)(0.3) == pytest.approx(0.05 * math.log(1 + (math.e - 1) * 0.3), rel=1e-14)
    assert spending_function("kim-demets", 0.05, 2)(0.3) == pytest.approx(0.05 * 0.09, rel=1e-14)
    hsd = spending_function("hwang-shih-decani", 0.05, 1.5)
    assert hsd(0.3) == pytest.approx(0.05 * (1 - math.exp(-0.45)) / (1 - math.exp(-1.5)), rel=1e-14)
    assert spending_function("hwang-shih-decani", 0.05, 0)(0.3) == pytest.approx(0.015, rel=1e-14)
    assert isinstance(of([0.1, 0.5]), np.ndarray) and isinstance(of(0.5), float)
    assert of.to_dict() == {"name": "obrien-fleming", "alpha": 0.025}
    assert KimDeMetsSpending(alpha=0.025, rho=3).to_dict() == {"name": "kim-demets", "alpha": 0.025, "rho": 3.0}
    assert hash(of) == hash(OBrienFlemingSpending(alpha=0.025)) and of == OBrienFlemingSpending(alpha=0.025)
    assert spending_function(of, 0.025) is of


SPENDINGS = st.one_of(
    st.builds(OBrienFlemingSpending, alpha=st.floats(1e-4, 0.5)),
    st.builds(PocockSpending, alpha=st.floats(1e-4, 0.5)),
    st.builds(KimDeMetsSpending, alpha=st.floats(1e-4, 0.5), rho=st.floats(0.1, 10)),
    st.builds(HwangShihDeCaniSpending, alpha=st.floats(1e-4, 0.5), gamma=st.floats(-15, 15)),
)


@HYP
@given(f=SPENDINGS, t=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
@example(f=HwangShihDeCaniSpending(alpha=0.025, gamma=0.0), t=[0.0, 1.0])
def test_spending_monotone_with_endpoints(f, t) -> None:
    ts = np.sort(np.array(t))
    values = f(ts)
    assert f(0.0) == 0.0
    assert f(1.0) == pytest.approx(f.alpha, rel=1e-12)
    assert np.all(np.diff(values) >= -1e-16)
    assert np.all((values >= 0) & (values <= f.alpha * (1 + 1e-12)))


@HYP
@given(
    k=st.integers(2, 5),
    spacing=st.lists(st.floats(0.05, 1.0), min_size=5, max_size=5),
    f=SPENDINGS,
)
def test_type_one_error_is_alpha(k, spacing, f) -> None:
    rates = np.cumsum(spacing[:k])
    rates /= rates[-1]
    d = group_sequential(rates, spending=f)
    cp = d.power(0.0)
    assert cp.power == pytest.approx(f.alpha, abs=1e-9)
    _close(np.cumsum(cp.rejection_probabilities), d.cumulative_alpha, atol=1e-9)


@HYP
@given(
    k=st.integers(2, 5),
    name=st.sampled_from(["obrien-fleming", "pocock", "kim-demets", "hwang-shih-decani"]),
    alphas=st.tuples(st.floats(0.001, 0.2), st.floats(0.001, 0.2)).filter(lambda a: abs(a[0] - a[1]) > 1e-3),
)
def test_critical_values_decrease_with_alpha(k, name, alphas) -> None:
    lo, hi = sorted(alphas)
    param = {"kim-demets": 2.0, "hwang-shih-decani": -2.0}.get(name)
    c_lo = efficacy_bounds(np.arange(1, k + 1) / k, lo, name, param, decimals=None)
    c_hi = efficacy_bounds(np.arange(1, k + 1) / k, hi, name, param, decimals=None)
    assert np.all(c_lo > c_hi)


@HYP
@given(drifts=st.tuples(st.floats(-1.0, 5.0), st.floats(-1.0, 5.0)))
def test_power_monotone_in_drift_and_round_trip(drifts) -> None:
    d = group_sequential([0.3, 0.6, 1.0], spending="pocock", futility=[0.0, 0.5])
    a, b = sorted(drifts)
    pa, pb = d.power(a), d.power(b)
    assert pa.power <= pb.power + 1e-12
    assert 0.3 <= pa.expected_information <= 1.0
    if 0.05 < pb.power < 0.999:
        assert d.drift_for_power(pb.power) == pytest.approx(b, abs=1e-7)


# -------------------------------------------------------------------------------- designs


def test_design_result_type_and_frames() -> None:
    d = group_sequential([0.5, 1.0], alpha=0.025, spending="kim-demets", parameter=3, futility=[0.0])
    assert isinstance(d.critical_values, tuple) and all(type(c) is float for c in d.critical_values)
    assert d.futility_bounds == (0.0,)
    assert d.stage_levels == pytest.approx(tuple(float(ndtr(-c)) for c in d.critical_values), abs=1e-16)
    frame = d.to_frame()
    assert list(frame.columns) == [
        "stage",
        "information_rate",
        "critical_value",
        "cumulative_alpha",
        "stage_level",
        "futility_bound",
    ]
    assert frame.shape == (2, 6)
    dd = d.to_dict()
    assert dd["spending"] == {"name": "kim-demets", "alpha": 0.025, "rho": 3.0}
    cp = d.power(d.drift)
    assert isinstance(cp, CrossingProbabilities) and cp.power == pytest.approx(0.8, abs=1e-10)
    assert cp.to_frame().shape == (2, 5)
    with pytest.raises(AttributeError):
        d.alpha = 0.05  # type: ignore[misc]


def test_design_inflation_factor_definition() -> None:
    d = group_sequential(4, alpha=0.05, beta=0.1, spending="hwang-shih-decani", parameter=-4)
    fixed = -float(ndtri(0.05)) - float(ndtri(0.1))
    assert d.inflation_factor == pytest.approx((d.drift / fixed) ** 2, rel=1e-14)
    assert d.power(d.drift).power == pytest.approx(0.9, abs=1e-10)
    ch = d.characteristics()
    assert ch.asn_ratio_h1 == pytest.approx(d.inflation_factor * d.expected_information(d.drift), rel=1e-14)
    assert ch.expected_information_h0 > ch.expected_information_h1


def test_futility_non_binding_vs_binding() -> None:
    nb = group_sequential(3, futility=[0.0, 0.5])
    none = group_sequential(3)
    b = group_sequential(3, futility=[0.0, 0.5], binding=True)
    assert nb.critical_values == none.critical_values  # non-binding: ignored for the bounds
    assert nb.power(0.0).power < 0.025  # ... but futility stops are counted
    assert b.power(0.0).power == pytest.approx(0.025, abs=1e-10)  # binding: exact alpha
    assert all(cb <= cn + 1e-12 for cb, cn in zip(b.critical_values, nb.critical_values, strict=True))
    assert nb.expected_information(0.0) < none.expected_information(0.0)
    assert math.isinf(group_sequential(3, futility=[None, 0.5]).futility_bounds[0])


@pytest.mark.parametrize("binding", [False, True])
def test_beta_spending_spends_beta_exactly(binding: bool) -> None:
    rates = [0.3, 0.7, 1.0]
    d = group_sequential(rates, beta=0.15, beta_spending="hwang-shih-decani", beta_parameter=-2, binding=binding)
    g = HwangShihDeCaniSpending(alpha=0.15, gamma=-2)
    assert d.beta_spending == g
    cp = d.power(d.drift)
    assert cp.power == pytest.approx(0.85, abs=1e-10)
    _close(np.cumsum(cp.futility_probabilities), g(np.array([0.3, 0.7])), atol=1e-10)
    if binding:
        assert d.power(0.0).power == pytest.approx(0.025, abs=1e-10)
    else:
        assert d.power(0.0).power < 0.025
    assert group_sequential(rates, beta=0.15, beta_spending=g, binding=binding) == d


def test_hwang_shih_decani_spends_for_any_finite_gamma() -> None:
    """Below gamma = -709.8, e^-gamma overflows a double: the same ratio is then computed scaled (no error), and it
    joins the direct formula's values at the switch."""
    t = np.linspace(0.0, 1.0, 11)
    for gamma in (-700.0, -700.5, -800.0, -1e6):
        spent = HwangShihDeCaniSpending(alpha=0.025, gamma=gamma)(t)
        assert np.all(np.isfinite(spent)) and spent[0] == 0.0 and spent[-1] == pytest.approx(0.025, rel=1e-15)
        assert np.all(np.diff(spent) >= 0.0)
    near = HwangShihDeCaniSpending(alpha=0.025, gamma=-700.0 - 1e-9)(t)  # the scaled formula, just past the switch
    direct = 0.025 * np.expm1(700.0 * t) / math.expm1(700.0)  # the direct one at -700
    _close(near, direct, atol=1e-12)
    assert HwangShihDeCaniSpending(alpha=0.025, gamma=-800.0)(0.99) == pytest.approx(0.025 * math.exp(-8.0), rel=1e-9)


def test_spending_object_and_alpha_resolution() -> None:
    f = PocockSpending(alpha=0.05)
    assert group_sequential(2, spending=f).alpha == 0.05
    assert efficacy_bounds([0.5, 1.0], spending=f).tolist() == efficacy_bounds([0.5, 1.0], 0.05, "pocock").tolist()
    message = r"`alpha` must equal the spending function's alpha \(0.05\)"
    with pytest.raises(DesignError, match=message):
        group_sequential(2, alpha=0.025, spending=f)


# -------------------------------------------------------------------------------- fast path


def test_efficacy_bounds_deadline_spends_remaining_alpha() -> None:
    f = OBrienFlemingSpending(alpha=0.025)
    planned = efficacy_bounds([40, 80, 120], max_information=120)
    _close(planned, group_sequential(3).critical_values, atol=1e-8)  # 40/120 rounded to 10 decimals
    # stopped at the deadline with 90 of 120 events: the last look is final, spends everything
    c = efficacy_bounds([40, 90], max_information=120)
    assert c[0] == planned[0]
    cp = crossing_probabilities(c, [40 / 90, 1.0])
    assert cp.power == pytest.approx(0.025, abs=1e-11)
    # same look as an interim (not final): spends only alpha(0.75)
    c_interim = efficacy_bounds([40, 90], max_information=120, final=False)
    cp = crossing_probabilities(c_interim, [40 / 90, 1.0])
    assert cp.power == pytest.approx(f(0.75), abs=1e-11)
    assert c_interim[1] > c[1]
    # fractions without max_information
    _close(efficacy_bounds([1 / 3, 0.75]), c, atol=1e-7)


def test_efficacy_bounds_overrun_spends_everything_once() -> None:
    c = efficacy_bounds([50, 130, 150], max_information=120, final=False)
    assert math.isinf(c[2])
    cp = crossing_probabilities(c, [50 / 150, 130 / 150, 1.0])
    assert cp.power == pytest.approx(0.025, abs=1e-11)


def test_efficacy_bounds_cache_and_rounding() -> None:
    _cached_bounds.cache_clear()
    a = efficacy_bounds([0.3, 0.61, 1.0], decimals=3)
    b = efficacy_bounds([0.30001, 0.61002, 1.0], decimals=3)
    assert _cached_bounds.cache_info().hits == 1
    assert a.tolist() == b.tolist()
    a[0] = 0.0  # callers get a copy, never the cached value
    assert efficacy_bounds([0.3, 0.61, 1.0], decimals=3)[0] > 3.0
    message = "`decimals` must keep the looks' information fractions distinct"
    with pytest.raises(DesignError, match=message):
        efficacy_bounds([0.3, 0.3001, 1.0], decimals=3)


def test_efficacy_bounds_batch_matches_single() -> None:
    rng = np.random.default_rng(20240401)
    events = np.sort(rng.integers(10, 200, size=(40, 3)), axis=1).astype(float)
    events[:, 1] += 1
    events[:, 2] += 2
    events[::5, 2] = np.nan  # some replicates stopped at the deadline after 2 looks
    out = efficacy_bounds_batch(events, 0.025, "hwang-shih-decani", -4, max_information=150)
    assert out.shape == events.shape
    assert np.array_equal(np.isnan(out), np.isnan(events))
    for row, c in zip(events, out, strict=True):
        k = int(np.sum(~np.isnan(row)))
        single = efficacy_bounds(row[:k], 0.025, "hwang-shih-decani", -4, max_information=150)
        _close(single, c[:k], atol=1e-9)


def test_efficacy_bounds_batch_close_looks_and_spending_fractions() -> None:
    info = np.array([[0.5, 0.5001, 1.0], [0.2, 0.6, 0.9], [0.3, 0.6, np.nan]])
    out = efficacy_bounds_batch(info, 0.05, "pocock", final=False)
    for row, c in zip(info, out, strict=True):
        k = int(np.sum(~np.isnan(row)))
        _close(efficacy_bounds(row[:k], 0.05, "pocock", final=False), c[:k], atol=1e-9)


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])
def test_efficacy_bounds_batch_gives_a_row_the_same_bits_whatever_rows_share_the_call(spending: str) -> None:
    """A row's critical values are its own, bit for bit, alone or among hundreds of other rows, before or after
    them: the simulation computes the bounds of the rows each chunk meets first, so otherwise the chunk size or
    the number of workers could move a bound (by up to about 1e-12 with a node count common to a block and a
    search run until every row had converged) and decide a z that close to it differently."""
    rng = np.random.default_rng(50)
    for k in (2, 3, 5):
        rows = np.sort(rng.uniform(3.0, 140.0, (400, k)), axis=1)
        rows = rows[np.all(np.diff(rows, axis=1) > 0.5, axis=1)]
        together = efficacy_bounds_batch(rows, 0.025, spending, max_information=120.0)
        for i in (0, 7, rows.shape[0] - 1):
            alone = efficacy_bounds_batch(rows[i : i + 1], 0.025, spending, max_information=120.0)
            np.testing.assert_array_equal(alone[0], together[i])
        flipped = efficacy_bounds_batch(rows[::-1], 0.025, spending, max_information=120.0)
        np.testing.assert_array_equal(flipped[::-1], together)


@HYP
@given(
    rows=st.lists(
        st.lists(st.integers(1, 60), min_size=2, max_size=4).map(lambda v: np.cumsum(v).astype(float)),
        min_size=1,
        max_size=6,
    ),
    final=st.booleans(),
)
def test_efficacy_bounds_batch_equals_single_property(rows, final) -> None:
    width = max(len(r) for r in rows)
    info = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        info[i, : len(r)] = r
    out = efficacy_bounds_batch(info, max_information=120, final=final, decimals=None)
    for r, c in zip(rows, out, strict=True):
        _close(efficacy_bounds(r, max_information=120, final=final, decimals=None), c[: len(r)], atol=1e-9)
        cp = crossing_probabilities(c[: len(r)], r / r[-1])
        spent = OBrienFlemingSpending(alpha=0.025)(min(r[-1] / 120, 1.0))
        assert cp.power == pytest.approx(0.025 if final else spent, abs=1e-9)


def test_critical_values_from_spending_binding_futility() -> None:
    d = group_sequential([0.4, 0.7, 1.0], futility=[0.0, 0.8], binding=True)
    c = critical_values_from_spending(d.cumulative_alpha, [0.4, 0.7, 1.0], futility_bounds=[0.0, 0.8])
    _close(c, d.critical_values, atol=1e-12)
    assert math.isinf(critical_values_from_spending([0.0, 0.025], [1, 2])[0])


# ------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: group_sequential([0.5, 0.4, 1.0]), "`information_rates` must be strictly increasing"),
        (lambda: group_sequential([0.5, 0.9]), "ending at 1"),
        (lambda: group_sequential(0), r"`information_rates` must be an integer >= 1; got 0\."),
        (lambda: group_sequential(2, alpha=1.5), r"`alpha` must be a probability in \(0, 1\); got 1\.5\."),
        (lambda: group_sequential(2, beta=0.99), r"`beta` must be below 1 - alpha"),
        (lambda: group_sequential(2, spending="obf"), "`spending` must be one of"),
        (lambda: group_sequential(2, spending="kim-demets"), "`parameter` must be given for spending 'kim-demets'"),
        (lambda: group_sequential(2, parameter=2.0), "`parameter` must be None for spending 'obrien-fleming'"),
        (lambda: group_sequential(3, futility=[0.0]), "`futility` must be a sequence of 2 z-values"),
        (lambda: group_sequential(2, binding=True), "`binding` must be False when there are no futility bounds"),
        (lambda: group_sequential(2, futility=[3.0]), r"`futility` must be below the critical value at each look"),
        (lambda: group_sequential(2, futility=[0.0], beta_spending="pocock"), "`futility` must be None when"),
        (lambda: group_sequential(1, beta_spending="pocock"), "`beta_spending` must be None for a single look"),
        (lambda: group_sequential(2, beta_parameter=2.0), "`beta_parameter` must be None when there is no"),
        (lambda: group_sequential(2, beta_spending="kim-demets"), "`beta_parameter` must be given for beta"),
        (lambda: group_sequential(2, beta_spending=PocockSpending(alpha=0.1)), r"`beta` must equal the total"),
        (lambda: group_sequential(2, beta_spending="bsOF"), "`beta_spending` must be one of"),
        (lambda: group_sequential(2, alpha=0.4, futility=[1.0], binding=True), "`futility` must leave enough"),
        (lambda: KimDeMetsSpending(alpha=0.025, rho=-1), r"`rho` must be a finite number > 0; got -1\."),
        # (through the functions, an error names the argument given, not the field it fills)
        (lambda: group_sequential(3, spending="kim-demets", parameter=0), r"`parameter` must be a finite number > 0"),
        (lambda: group_sequential(3, spending="hwang-shih-decani", parameter=math.inf), r"`parameter` must be a fin"),
        (lambda: group_sequential(2, beta_spending="kim-demets", beta_parameter=-1), r"`beta_parameter` must be a"),
        (lambda: group_sequential(2, alpha="0.025"), r"`alpha` must be a probability in \(0, 1\); got '0\.025'\."),
        (lambda: critical_values_from_spending([0.01, 0.02], [1, 0.5]),
         r"`information_rates` must be strictly increasing positive information values, one per look; got \[1, 0\.5\]"),
        (lambda: HwangShihDeCaniSpending(alpha=0.025, gamma=math.nan), "`gamma` must be a finite number"),
        (lambda: OBrienFlemingSpending(alpha=0.025)(1.2), r"`t` must be an information fraction"),
        (lambda: efficacy_bounds([0.5, 0.5, 1.0]), "`information_rates` must be strictly increasing positive"),
        (lambda: efficacy_bounds([50, 100]), "information fractions in \\(0, 1\\] when `max_information` is not"),
        (lambda: efficacy_bounds([0.5, 1.0], max_information=0), r"`max_information` must be a finite number > 0"),
        (lambda: efficacy_bounds_batch([[1.0, np.nan, 2.0]]), "NaN only as trailing padding"),
        (lambda: efficacy_bounds_batch([1.0, 2.0]), "`information` must be a 2-d array"),
        (lambda: critical_values_from_spending([0.02, 0.01], [0.5, 1]), "`cumulative_alpha` must be 2 non-decreasing"),
        (lambda: crossing_probabilities([2.0], [1.0], drift=math.inf), "`drift` must be a finite number"),
        (lambda: crossing_probabilities([2.0, 2.0], [0.5, 1.0], futility_bounds=[2.5]), "`futility_bounds` must be"),
        (lambda: group_sequential(2).drift_for_power(0.01), "`power` must exceed"),
    ],
)
def test_invalid_input_raises(call, message: str) -> None:
    with pytest.raises(DesignError, match=message):
        call()


@pytest.mark.parametrize("call", [
    lambda: efficacy_bounds([0.5, 1.0], 1e-200, spending="pocock"),  # gave [30.22, 0.0]: a bound of 0
    lambda: efficacy_bounds([0.3, 0.6, 1.0], 1e-80),  # divided by zero
    lambda: OBrienFlemingSpending(alpha=1e-7),
])
def test_a_total_below_min_alpha_is_refused(call: Any) -> None:
    with pytest.raises(DesignError, match=r"^`alpha` must be >= 1e-06 \(the boundaries of a smaller total"):
        call()


def test_a_beta_below_min_alpha_is_refused_by_its_name() -> None:
    with pytest.raises(DesignError, match=r"^`beta` must be >= 1e-06 "):
        group_sequential(3, alpha=0.025, beta=1e-9, beta_spending="obrien-fleming")


def test_min_alpha_itself_gives_the_fixed_design_bound() -> None:
    """At the smallest total accepted, one look's bound is z_{1 - alpha}, and three O'Brien-Fleming-type looks end
    above it (the last bound spends what the earlier ones left)."""
    from condapprove._validation import MIN_ALPHA

    assert float(efficacy_bounds([1.0], MIN_ALPHA)[0]) == pytest.approx(float(-ndtri(MIN_ALPHA)), rel=1e-12)
    bounds = efficacy_bounds([0.3, 0.6, 1.0], MIN_ALPHA)
    assert bounds[0] > bounds[1] > bounds[2] >= float(-ndtri(MIN_ALPHA))


# ------------------------------------------------------------------------------------------ tiny alpha increments
# A randomised comparison with rpact found looks spending a positive but astronomically small alpha (O'Brien-Fleming-
# type spending at information fractions of 0.001-0.009) given a critical value of 0.0 (a type I error of 0.5), a
# ZeroDivisionError from the root finder, or a ConvergenceError from the batch search.  Increments of at most
# MIN_ALPHA_INCREMENT are now not spent (inf, as rpact's Inf below its tolerance); larger ones are resolved exactly.

FINAL = float(-ndtri(0.025))


@pytest.mark.parametrize("rates", [[0.001, 0.005, 1.0], [0.0027, 0.0089, 1.0]])
def test_looks_spending_almost_nothing_cannot_stop(rates: list[float]) -> None:
    d = group_sequential(rates)
    assert d.critical_values[:2] == (math.inf, math.inf)
    assert d.critical_values[2] == pytest.approx(FINAL, rel=1e-12)  # rpact: Inf 7.3117 1.959964 (its cap at 7.3)
    assert d.power(0.0).power == pytest.approx(0.025, rel=1e-12)
    assert efficacy_bounds(rates) == pytest.approx(np.array(d.critical_values), rel=1e-12)
    assert efficacy_bounds_batch([rates]) == pytest.approx(np.array([d.critical_values]), rel=1e-12)


def test_tiny_increments_from_every_entry_point() -> None:
    assert critical_values_from_spending([0.0, 1e-300, 0.025], [0.3, 0.6, 1.0]) == pytest.approx([math.inf, math.inf, FINAL])
    hsd = group_sequential(4, spending="hwang-shih-decani", parameter=-750)
    assert hsd.critical_values == pytest.approx((math.inf, math.inf, math.inf, FINAL), rel=1e-12)
    rates = [0.0006360505, 0.0034235705, 0.0052848979, 0.7530969336]
    expected = [math.inf, math.inf, math.inf, float(-ndtri(0.0338))]  # rpact asUser: Inf Inf Inf 1.827664
    assert efficacy_bounds(rates, 0.0338) == pytest.approx(expected, rel=1e-12)
    assert efficacy_bounds_batch([rates], 0.0338)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("increment", [1e-12, 1e-20, 1e-29, 2e-30])
def test_small_increments_above_the_minimum_are_spent_exactly(increment: float) -> None:
    """With nothing spent at the first look, the second spends P(Z_2 >= c) = increment: c = Phi^-1(1 - increment)."""
    assert increment > MIN_ALPHA_INCREMENT
    c = critical_values_from_spending([0.0, increment, 0.025], [0.3, 0.6, 1.0])
    assert c[0] == math.inf and c[1] == pytest.approx(float(-ndtri(increment)), rel=1e-9)
    assert critical_values_from_spending([0.0, MIN_ALPHA_INCREMENT, 0.025], [0.3, 0.6, 1.0])[1] == math.inf


@pytest.mark.parametrize("gamma", [5e-324, -5e-324, 1e-320, 1e-310, 1e-300, 1e-30])
def test_hsd_spending_of_a_tiny_gamma_is_linear_spending(gamma: float) -> None:
    """As gamma tends to 0 Hwang-Shih-DeCani spending tends to alpha t (its first-order term gamma (1 - t) / 2 is
    below the last digit here); expm1 of a subnormal -gamma t lost its digits: gamma 5e-324 spent nothing at t = 1/2
    and made the first bound infinite (found by a randomised check against rpact)."""
    t = np.array([1e-9, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(HwangShihDeCaniSpending(alpha=0.025, gamma=gamma)(t), 0.025 * t, rtol=1e-15, atol=0)
    assert (group_sequential(2, spending="hwang-shih-decani", parameter=gamma).critical_values
            == group_sequential(2, spending="hwang-shih-decani", parameter=0.0).critical_values)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_hsd_spending_is_continuous_where_its_series_takes_over(sign: float) -> None:
    """Below |gamma| = 1e-8 the series of the ratio to gamma^2 replaces expm1's ratio: on either side the two agree
    with each other (the ratio is accurate there) to the last digits."""
    t = np.array([1e-6, 0.1, 0.5, 0.9, 1.0])
    for gamma in (0.99e-8, 1.01e-8, 1e-9, 1e-7):
        g = sign * gamma
        ratio = 0.025 * np.expm1(-g * t) / math.expm1(-g)
        np.testing.assert_allclose(HwangShihDeCaniSpending(alpha=0.025, gamma=g)(t), ratio, rtol=4e-16, atol=0)
