"""Numerical edge cases: each has a defined, documented result and never a NaN in the JSON output."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest

import condapprove
from condapprove.boundaries import efficacy_bounds
from condapprove.errors import DesignError, DesignWarning
from condapprove.spec import design_from_mapping


def _sim(post: dict[str, Any], scenarios: list[dict[str, Any]], n: int = 2048) -> condapprove.SimulationResult:
    d = design_from_mapping({"name": "edge", "approval": {"date": "2020-01-01", "time_limit_years": 5},
                             "post_marketing": post, "scenarios": scenarios})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        res = condapprove.simulate(d, replicates=n, seed=1)
    json.loads(res.to_json(), parse_constant=lambda c: pytest.fail(f"non-finite {c} in the JSON"))
    return res


BIN = {"study": "clinical_trial", "endpoint": {"type": "binary"}}


def test_all_responders_in_both_arms_confirms_nothing() -> None:
    """No variance: the pooled z is 0 and Fisher's p-value is 1."""
    res = _sim({**BIN, "treated": {"accrual": {"rate_per_month": 50}, "target_n": 20},
                "control": {"kind": "concurrent", "ratio": 1}},
               [{"name": "all", "treated_rate": 1.0, "control_rate": 1.0}])
    assert res["all"].p_confirmed.value == 0.0
    assert res["all"].mean_estimate is not None and res["all"].mean_estimate.value == 0.0


def test_a_single_patient() -> None:
    """One patient against a benchmark of 0.3: a responder gives p = 0.3 > alpha, so never confirmed."""
    res = _sim({**BIN, "treated": {"accrual": {"rate_per_month": 1}, "target_n": 1},
                "control": {"kind": "benchmark", "rate": 0.3}}, [{"name": "one", "treated_rate": 0.9}])
    assert res["one"].p_confirmed.value == 0.0
    assert res["one"].expected_treated_evaluable.value == 1.0


def test_one_lot_for_everybody() -> None:
    """lot_size larger than the arm: every patient shares one lot effect; the figures stay defined."""
    res = _sim({**BIN, "treated": {"accrual": {"rate_per_month": 50}, "target_n": 30},
                "control": {"kind": "benchmark", "rate": 0.3}, "heterogeneity": {"lot_size": 100, "lot_sd": 1.0}},
               [{"name": "a", "treated_rate": 0.5}])
    assert 0 < res["a"].p_confirmed.value < 1


def test_no_events_by_the_cut_off() -> None:
    """Events so rare that none happen: undecided at the cut-off, log-rank z = 0, no estimate."""
    res = _sim({"study": "clinical_trial",
                "endpoint": {"type": "time_to_event", "baseline": {"median_months": 1e9}},
                "treated": {"accrual": {"rate_per_month": 5}, "target_n": 20},
                "control": {"kind": "concurrent", "ratio": 1}, "target_events": 10},
               [{"name": "none", "hazard_ratio": 1.0}])
    s = res["none"]
    assert s.p_undecided.value == 1.0 and s.p_confirmed.value == 0.0
    assert s.expected_events is not None and s.expected_events.value == 0.0
    assert s.mean_estimate is None  # no replicate has a defined log hazard ratio
    assert s.decision_month_median.value == pytest.approx(60.0)  # the cut-off: 5 years, no filing lead


def test_the_largest_event_target_is_never_reached() -> None:
    """An event target of MAX_COUNT (10^7; 10^20 overflowed the compiled simulation's integers before it was capped)
    with 60 patients: never reached, so the final analysis is at the cut-off with the events by then, as with a
    target of 61, one more than the patients (the same draws, so the same results to the bit)."""
    from condapprove.spec._base import MAX_COUNT

    post = {"study": "clinical_trial", "endpoint": {"type": "time_to_event", "baseline": {"median_months": 12}},
            "treated": {"accrual": {"rate_per_month": 2}, "target_n": 30}, "control": {"kind": "concurrent", "ratio": 1}}
    largest, just_out = (_sim({**post, "target_events": k}, [{"name": "a", "hazard_ratio": 0.6}])["a"]
                         for k in (MAX_COUNT, 61))
    assert largest.p_target_not_reached.value == 1.0
    assert largest.to_frame().equals(just_out.to_frame())
    assert 0.0 < largest.p_confirmed.value < 1.0


@pytest.mark.parametrize("hr", [1e-3, 1e3])
def test_extreme_hazard_ratios(hr: float) -> None:
    res = _sim({"study": "clinical_trial",
                "endpoint": {"type": "time_to_event", "baseline": {"median_months": 12}},
                "treated": {"accrual": {"rate_per_month": 10}, "target_n": 60},
                "control": {"kind": "concurrent", "ratio": 1}, "target_events": 40},
               [{"name": "x", "hazard_ratio": hr}])
    p = res["x"].p_confirmed.value
    assert (p > 0.99) if hr < 1 else (p == 0.0)


def test_looks_without_new_information_are_skipped() -> None:
    """Interims at months 1 and 2, before any outcome is observable (6-month follow-up): both skipped,
    all the alpha goes to the final analysis (the group-sequential test then equals the fixed z test)."""
    res = _sim({**BIN, "endpoint": {"type": "binary", "followup_months": 6},
                "treated": {"accrual": {"rate_per_month": 20}, "target_n": 40},
                "control": {"kind": "benchmark", "rate": 0.3},
                "analyses": [{"month": 1}, {"month": 2}], "decision": {"rule": "group_sequential"}},
               [{"name": "a", "treated_rate": 0.5}])
    s = res["a"]
    assert s.p_confirmed_by_look[0].value == 0.0 and s.p_confirmed_by_look[1].value == 0.0
    assert s.p_confirmed_by_look[2].value == s.p_confirmed.value > 0


def test_spending_with_everything_at_the_first_look() -> None:
    """Information fraction 1 at the first look: the bound is the fixed-design z_{1-alpha}."""
    from scipy.special import ndtri

    assert float(efficacy_bounds([1.0], 0.025)[0]) == pytest.approx(float(ndtri(0.975)), abs=1e-9)


def test_a_single_replicate_has_null_mcse() -> None:
    d = condapprove.load_design("designs/two_arm_trial.yaml")
    doc = json.loads(condapprove.simulate(d, replicates=1, seed=1).to_json())
    means = doc["scenarios"][0]["expected_treated_enrolled"]
    assert means["mcse"] is None and math.isfinite(means["value"])


def test_zero_rate_scenarios() -> None:
    res = _sim({**BIN, "treated": {"accrual": {"rate_per_month": 50}, "target_n": 20},
                "control": {"kind": "concurrent", "ratio": 1}, "heterogeneity": {"dilution": 0.5}},
               [{"name": "zero", "treated_rate": 0.0, "control_rate": 0.0}])
    assert res["zero"].p_confirmed.value == 0.0
    assert np.isfinite(res["zero"].mean_true_effect.value)


@pytest.mark.parametrize("value, expected", [(3, 3), (3.0, 3), (np.int64(3), 3), (np.int32(-2), -2),
                                             (np.float64(4.0), 4), (np.float32(5.0), 5)])
def test_check_int_takes_python_and_numpy_integers(value: object, expected: int) -> None:
    """check_int recognises numpy's scalars without importing numpy itself (it looks for a loaded numpy)."""
    from condapprove._validation import check_int

    got = check_int(value, "n")
    assert got == expected and type(got) is int


@pytest.mark.parametrize("value", [True, 2.5, np.float64(2.5), np.float64("nan"), "3", None, np.array([3])])
def test_check_int_refuses_non_integers(value: object) -> None:
    from condapprove._validation import check_int

    with pytest.raises(DesignError, match=r"`n` must be an integer; got "):
        check_int(value, "n")


@pytest.mark.parametrize("call", [
    lambda: condapprove.estimate.two_proportions(9, 2**63, 3, 11),  # (an OverflowError in numpy)
    lambda: condapprove.estimate.binomial_test(12, 10**30, 0.5),  # (a TypeError of a ufunc's loop)
])
def test_integers_beyond_2_to_53_are_refused(call: Any) -> None:
    with pytest.raises(DesignError, match=r"^`n1?` must be an integer >= 1 of at most 2\*\*53 in magnitude; got "):
        call()


def test_check_int_takes_2_to_53() -> None:
    from condapprove._validation import MAX_INT, check_int

    assert check_int(MAX_INT, "n") == 2**53 and check_int(-MAX_INT, "n") == -(2**53)
    with pytest.raises(DesignError, match=r"^`n` must be an integer of at most 2\*\*53 in magnitude; got -"):
        check_int(-MAX_INT - 1, "n")


def test_an_integer_beyond_the_doubles_in_an_array_is_refused() -> None:
    with pytest.raises(DesignError, match=r"^`durations` must be a 1-d array of finite numbers; got "):  # (OverflowError)
        condapprove.estimate.kaplan_meier([3, 10**400, 8], [1, 0, 1])


@pytest.mark.parametrize("value", ["0.5", b"0.5", np.str_("0.5"), True, None, "nan"])
def test_numbers_given_as_strings_are_refused(value: object) -> None:
    """A probability or a finite number given as text (or a bool) is refused, not read as the number it spells."""
    from condapprove._validation import check_finite, check_probability

    with pytest.raises(DesignError, match=r"`p` must be a probability in \[0, 1\]; got "):
        check_probability(value, "p")
    with pytest.raises(DesignError, match=r"`x` must be a finite number; got "):
        check_finite(value, "x")


def test_an_error_showing_a_long_array_stays_on_one_line() -> None:
    """numpy wraps a long array's repr after commas: the message shows it on one line, with spaces; other line breaks
    echoed from the input stay visible, escaped."""
    from condapprove.errors import Problem
    from condapprove.estimate.heterogeneity import random_effects

    with pytest.raises(DesignError) as info:
        random_effects(np.arange(40.0), -np.ones(40))
    text = str(info.value)
    assert "\n" not in text and "\\n" not in text and "-1., -1., -1." in text and text.endswith("-1.]).")
    assert Problem(loc="a", message='key "x\ny" is unknown').format() == 'a: key "x\\ny" is unknown'
