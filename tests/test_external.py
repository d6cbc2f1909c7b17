"""Tests for condapprove.estimate.external against R (glm, sandwich, MatchIt-style greedy matching).

Reference values: tests/reference/external.json, written by tests/reference/make_reference_external.R
(base glm for the propensity model, an independent greedy-matching implementation cross-checked
with MatchIt 4.5.1, lm/glm with sandwich::vcovCL/vcovHC for the standard errors).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from condapprove.errors import ConvergenceError, DegenerateDataWarning, DesignError
from condapprove.estimate.external import (
    ExternalControlResult,
    IPTWResult,
    MatchResult,
    PropensityScoreResult,
    balance_table,
    external_control_comparison,
    iptw_weights,
    match_nearest,
    propensity_scores,
)
from condapprove.results import ConfidenceInterval

REF = json.loads((Path(__file__).parent / "reference" / "external.json").read_text())
DATASETS = REF["datasets"]
NAMES = sorted(DATASETS)
RTOL = 1e-6  # the brief's agreement level; the PS fits agree to ~1e-10 (both IRLS to 1e-10 or tighter)
ATOL = 1e-9

MATCH_CASES = [(name, i) for name in NAMES for i in range(len(DATASETS[name]["matching"]))]
IPTW_CASES = [(name, i) for name in NAMES for i in range(len(DATASETS[name]["iptw"]))]

PROPERTY = settings(derandomize=True, max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
PROPERTY_FIT = settings(PROPERTY, max_examples=25)  # each example fits propensity models


def frame(name: str) -> pd.DataFrame:
    return pd.DataFrame(DATASETS[name]["data"])


def covariates(name: str) -> list[str]:
    c = DATASETS[name]["covariates"]
    return [c] if isinstance(c, str) else list(c)


def close(actual, desired, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(desired, dtype=float), rtol=rtol, atol=atol)


def r_match_matrix(cfg: dict) -> np.ndarray:
    mm = np.asarray(cfg["match_matrix"], dtype=np.int64).reshape(-1, cfg["ratio"])
    return mm - 1  # R: 1-based rows, 0 for no match -> 0-based rows, -1


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Two labelings (negative/0 = unmatched) define the same matched sets."""
    pairs = {(int(x), int(y)) for x, y in zip(a, b, strict=True)}
    left = {}
    right = {}
    for x, y in pairs:
        if left.setdefault(x, y) != y or right.setdefault(y, x) != x:
            return False
    return True


# ------------------------------------------------------------------------------------------
# propensity scores
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_propensity_scores_match_r_glm(name):
    df = frame(name)
    ref = DATASETS[name]["ps"]
    fit = propensity_scores(df[covariates(name)], df["treat"])
    assert isinstance(fit, PropensityScoreResult)
    assert fit.converged
    assert len(fit.coefficient_names) == len(np.atleast_1d(ref["coef_names"]))
    close(fit.coefficients, ref["coef"])
    close(fit.standard_errors, ref["se"])
    close(fit.scores, ref["scores"])
    close(fit.linear_predictor, ref["linear_predictor"])
    close(fit.log_likelihood, ref["log_likelihood"])
    close(fit.deviance, ref["deviance"])
    assert fit.n == len(df) and fit.n_treated == int(df["treat"].sum())


def test_propensity_scores_categorical_names_and_inputs():
    df = frame("cohort120")
    fit = propensity_scores(df[covariates("cohort120")], df["treat"])
    assert fit.coefficient_names == ("(Intercept)", "age", "male", "ecog1", "centre[B]", "centre[C]")
    # a dict of arrays and a pandas Categorical give the same fit
    as_dict = {c: df[c].to_numpy() for c in covariates("cohort120")}
    close(propensity_scores(as_dict, df["treat"].to_numpy()).coefficients, fit.coefficients, rtol=1e-12)
    cat = df[covariates("cohort120")].assign(centre=pd.Categorical(df["centre"], categories=["A", "B", "C"]))
    close(propensity_scores(cat, df["treat"] == 1).coefficients, fit.coefficients, rtol=1e-12)
    # a 2-d array
    two_d = propensity_scores(df[["age", "male"]].to_numpy(), df["treat"])
    assert two_d.coefficient_names == ("(Intercept)", "x1", "x2")
    assert "PropensityScoreResult(n=120" in repr(fit)


def test_propensity_scores_perfect_separation_is_a_design_error():
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    t = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    with pytest.raises(DesignError, match="must not separate treated from control") as exc:
        propensity_scores({"x": x}, t)
    assert "common support" in str(exc.value)


def test_propensity_scores_quasi_separation_is_a_design_error():
    # a binary covariate present only among treated units: quasi-complete separation
    rng = np.random.default_rng(3)
    t = np.r_[np.ones(15), np.zeros(25)].astype(int)
    flag = np.r_[np.ones(5), np.zeros(35)]
    age = rng.normal(60, 8, 40)
    with pytest.raises(DesignError, match="separation"):
        propensity_scores({"age": age, "flag": flag}, t)


@pytest.mark.parametrize(
    ("covs", "treated", "message"),
    [
        ({"x": np.ones(6)}, [1, 0, 1, 0, 1, 0], "rank-deficient design \\(constant: x\\)"),
        ({"x": [1.0, 2, 3], "y": [2.0, 4, 6]}, [1, 0, 1], "fewer design columns than rows"),
        ({"x": [1.0, np.nan, 3, 4]}, [1, 0, 1, 0], "no missing values; got missing values in x"),
        ({"x": [1.0, 2, 3, 4]}, [1, 1, 1, 1], "both treated \\(1\\) and control \\(0\\) units"),
        ({"x": [1.0, 2, 3, 4]}, [1, 2, 0, 0], "only 0 and 1; got 2"),
        ({"x": [1.0, 2, 3, 4]}, [1, 0, 1], "one entry per row \\(4\\); got 3"),
    ],
)
def test_propensity_scores_invalid_input(covs, treated, message):
    with pytest.raises(DesignError, match=message):
        propensity_scores(covs, treated)


def test_propensity_scores_non_convergence_raises(monkeypatch):
    import statsmodels.genmod.generalized_linear_model as glm

    original = glm.GLM.fit

    def short_fit(self, *args, **kwargs):
        kwargs["maxiter"] = 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(glm.GLM, "fit", short_fit)
    df = frame("cohort120")
    with pytest.raises(ConvergenceError, match="did not converge"):
        propensity_scores(df[["age", "male"]], df["treat"])


# ------------------------------------------------------------------------------------------
# matching
# ------------------------------------------------------------------------------------------


def _match_kwargs(cfg: dict) -> dict:
    return {
        "caliper": None if cfg["caliper"] is None else cfg["caliper"],
        "caliper_scale": cfg["caliper_scale"],
        "ratio": cfg["ratio"],
        "replace": cfg["replace"],
        "order": cfg["order"],
    }


@pytest.mark.parametrize(("name", "i"), MATCH_CASES)
def test_match_nearest_matches_reference(name, i):
    df = frame(name)
    cfg = DATASETS[name]["matching"][i]
    ps = np.asarray(DATASETS[name]["ps"]["scores"])
    m = match_nearest(ps, df["treat"], **_match_kwargs(cfg))
    assert isinstance(m, MatchResult)
    np.testing.assert_array_equal(m.match_matrix, r_match_matrix(cfg))
    np.testing.assert_array_equal(m.pairs + 1, np.asarray(cfg["pairs"], dtype=np.int64).reshape(-1, 2))
    close(m.weights, cfg["weights"], rtol=1e-12, atol=1e-12)
    assert m.n_unmatched_treated == cfg["n_unmatched_treated"]
    assert m.n_matched_treated + m.n_unmatched_treated == int(df["treat"].sum())
    if cfg["caliper_width"] is None:
        assert m.caliper is None
    else:
        close(m.caliper, cfg["caliper_width"])
    if cfg["replace"]:
        assert m.subclass is None
    else:
        assert same_partition(m.subclass + 1, np.asarray(cfg["subclass"]))


@pytest.mark.parametrize(("name", "i"), MATCH_CASES)
def test_match_from_fitted_model_equals_match_from_scores(name, i):
    df = frame(name)
    cfg = DATASETS[name]["matching"][i]
    fit = propensity_scores(df[covariates(name)], df["treat"])
    m = match_nearest(fit, df["treat"], **_match_kwargs(cfg))
    np.testing.assert_array_equal(m.match_matrix, r_match_matrix(cfg))


def test_match_nearest_doc_example_and_tie_rule():
    # the treated unit with the larger score goes first (order="largest") and takes 0.65
    m = match_nearest([0.70, 0.40, 0.65, 0.30, 0.45, 0.20, 0.62], [1, 1, 0, 0, 0, 0, 0], caliper=None)
    assert m.pairs.tolist() == [[0, 2], [1, 4]]
    # greedy matching depends on the order: one control, two treated units wanting it
    assert match_nearest([0.5, 0.6, 0.55], [1, 1, 0], caliper=None).pairs.tolist() == [[1, 2]]
    assert match_nearest([0.5, 0.6, 0.55], [1, 1, 0], caliper=None, order="data").pairs.tolist() == [[0, 2]]
    assert match_nearest([0.5, 0.6, 0.55], [1, 1, 0], caliper=None, order="smallest").pairs.tolist() == [[0, 2]]
    # equally near below and above: the control with the smaller logit wins
    lp = np.array([0.0, -1.0, 1.0])
    ps = 1 / (1 + np.exp(-lp))
    assert match_nearest(ps, [1, 0, 0], caliper=None).pairs.tolist() == [[0, 1]]
    # identical scores: the control adjacent below in (logit, row) order, i.e. the last earlier row
    ps = np.full(5, 0.3)
    assert match_nearest(ps, [0, 0, 1, 0, 0], caliper=None).pairs.tolist() == [[2, 1]]
    # ... and if none is below, the first later row
    assert match_nearest(ps, [1, 0, 0, 0, 0], caliper=None).pairs.tolist() == [[0, 1]]


def test_match_nearest_caliper_scales():
    ps = np.array([0.5, 0.45, 0.3, 0.6, 0.2, 0.55])
    t = np.array([1, 1, 0, 0, 0, 0])
    d = np.log(ps / (1 - ps))
    m = match_nearest(ps, t, caliper=0.2, caliper_scale="logit-sd")
    close(m.caliper, 0.2 * np.std(d, ddof=1), rtol=1e-12)
    m = match_nearest(ps, t, caliper=0.2, caliper_scale="logit-pooled-sd")
    close(m.caliper, 0.2 * math.sqrt((np.var(d[:2], ddof=1) + np.var(d[2:], ddof=1)) / 2), rtol=1e-12)
    m = match_nearest(ps, t, caliper=0.01, caliper_scale="logit")
    assert m.caliper == 0.01 and m.n_matched_treated == 0 and m.pairs.shape == (0, 2)
    assert "MatchResult(n_matched_treated=0" in repr(m)


def test_match_with_replacement_reuses_controls_and_weights_sum():
    ps = np.array([0.6, 0.61, 0.62, 0.3, 0.605])
    t = np.array([1, 1, 1, 0, 0])
    m = match_nearest(ps, t, caliper=None, replace=True)
    assert set(m.match_matrix[:, 0]) == {4}
    assert m.subclass is None
    assert m.weights[4] == pytest.approx(1.0)  # control weights add up to the distinct matched controls
    assert m.matched.tolist() == [True, True, True, False, True]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"caliper": -1}, "`caliper` must be a finite number > 0"),
        ({"caliper_scale": "sd"}, "`caliper_scale` must be one of"),
        ({"ratio": 0}, "`ratio` must be an integer >= 1"),
        ({"replace": "no"}, "`replace` must be True or False"),
        ({"order": "random"}, "`order` must be one of"),
    ],
)
def test_match_nearest_invalid_options(kwargs, message):
    with pytest.raises(DesignError, match=message):
        match_nearest([0.2, 0.4, 0.5], [1, 0, 0], **kwargs)


@pytest.mark.parametrize(
    ("ps", "message"),
    [([0.2, 1.0, 0.5], "strictly between 0 and 1; got 1.0"), ([[0.2, 0.3]], "1-d array"), (["a"], "propensity")],
)
def test_match_nearest_invalid_scores(ps, message):
    with pytest.raises(DesignError, match=message):
        match_nearest(ps, [1, 0, 0][: len(np.ravel(ps))] if ps != ["a"] else [1], caliper=None)


def test_match_nearest_model_and_indicator_must_agree():
    df = frame("small40")
    fit = propensity_scores(df[["age", "kps"]], df["treat"])
    with pytest.raises(DesignError, match="the propensity model was fitted to"):
        match_nearest(fit, 1 - df["treat"])


# ------------------------------------------------------------------------------------------
# IPTW
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "i"), IPTW_CASES)
def test_iptw_weights_match_reference(name, i):
    df = frame(name)
    cfg = DATASETS[name]["iptw"][i]
    ps = np.asarray(DATASETS[name]["ps"]["scores"])
    res = iptw_weights(ps, df["treat"], estimand=cfg["estimand"], stabilized=cfg["stabilized"])
    assert isinstance(res, IPTWResult)
    close(res.weights, cfg["weights"], rtol=1e-12)
    close(res.ess_treated, cfg["ess_treated"], rtol=1e-12)
    close(res.ess_control, cfg["ess_control"], rtol=1e-12)
    assert res.max_weight == pytest.approx(max(cfg["weights"]))
    assert "IPTWResult(estimand=" in repr(res)


def test_iptw_invalid_options():
    with pytest.raises(DesignError, match="`estimand` must be one of 'ATT', 'ATE'"):
        iptw_weights([0.3, 0.6], [1, 0], estimand="ATC")
    with pytest.raises(DesignError, match="`stabilized` must be True or False"):
        iptw_weights([0.3, 0.6], [1, 0], stabilized=1)


# ------------------------------------------------------------------------------------------
# balance
# ------------------------------------------------------------------------------------------


def _check_balance(tab: pd.DataFrame, ref: dict, *, after: bool, denominator: str) -> None:
    names = list(np.atleast_1d(ref["names"]))
    assert list(tab.index) == names
    sfx = "after" if after else "before"
    close(tab[f"mean_treated_{sfx}"], np.atleast_1d(ref["mean_treated"]))
    close(tab[f"mean_control_{sfx}"], np.atleast_1d(ref["mean_control"]))
    close(tab[f"smd_{sfx}"], np.atleast_1d(ref[f"smd_{denominator}"]))
    assert tab["binary"].tolist() == list(np.atleast_1d(ref["binary"]))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("denominator", ["pooled", "treated"])
def test_balance_table_before_and_after_matching(name, denominator):
    df = frame(name)
    ds = DATASETS[name]
    cfg = ds["matching"][0]
    ps = np.asarray(ds["ps"]["scores"])
    m = match_nearest(ps, df["treat"], **_match_kwargs(cfg))
    tab = balance_table(df[covariates(name)], df["treat"], matched=m, smd_denominator=denominator)
    _check_balance(tab, ds["balance_before"], after=False, denominator=denominator)
    _check_balance(tab, cfg["balance_after"], after=True, denominator=denominator)


@pytest.mark.parametrize(("name", "i"), IPTW_CASES)
def test_balance_table_after_weighting(name, i):
    df = frame(name)
    cfg = DATASETS[name]["iptw"][i]
    tab = balance_table(df[covariates(name)], df["treat"], weights=cfg["weights"])
    _check_balance(tab, cfg["balance_after"], after=True, denominator="pooled")


def test_balance_table_without_weights_has_only_before_columns():
    tab = balance_table({"age": [60, 70, 65, 50, 55, 58]}, [1, 1, 1, 0, 0, 0])
    assert list(tab.columns) == ["binary", "mean_treated_before", "mean_control_before", "smd_before"]


def test_balance_table_multilevel_factor_shows_every_level():
    df = frame("cohort120")
    tab = balance_table(df[["centre"]], df["treat"])
    assert list(tab.index) == ["centre[A]", "centre[B]", "centre[C]"]
    two = balance_table({"sex": ["F", "M", "M", "F"]}, [1, 1, 0, 0])
    assert list(two.index) == ["sex[M]"]


def test_balance_table_degenerate_sds_warn():
    # all treated have x = 1: treated SD 0 -> pooled SD used, with a warning
    x = np.array([1, 1, 1, 0, 1, 0])
    t = np.array([1, 1, 1, 0, 0, 0])
    with pytest.warns(DegenerateDataWarning, match="uses the pooled SD"):
        tab = balance_table({"x": x}, t, smd_denominator="treated")
    assert tab.loc["x", "smd_before"] == pytest.approx((1 - 1 / 3) / math.sqrt((0 + 2 / 9) / 2))
    # constant covariate: SMD 0 with a warning
    with pytest.warns(DegenerateDataWarning, match="constant within both groups"):
        tab = balance_table({"x": np.full(6, 2.0)}, t)
    assert tab.loc["x", "smd_before"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": [1, 1, 1, 0, 0, 0]}, "positive total weight to both groups"),
        ({"weights": [1, 1, -1, 1, 1, 1]}, "finite and non-negative"),
        ({"weights": [1, 1]}, "one entry per row \\(6\\)"),
        ({"smd_denominator": "control"}, "`smd_denominator` must be one of"),
        ({"matched": "m"}, "`matched` must be a MatchResult"),
    ],
)
def test_balance_table_invalid_input(kwargs, message):
    with pytest.raises(DesignError, match=message):
        balance_table({"x": [1.0, 2, 3, 4, 5, 6]}, [1, 1, 1, 0, 0, 0], **kwargs)


def test_balance_table_weights_and_matched_are_exclusive():
    m = match_nearest([0.5, 0.4, 0.45, 0.3], [1, 1, 0, 0], caliper=None)
    with pytest.raises(DesignError, match="must not both be given"):
        balance_table({"x": [1.0, 2, 3, 4]}, [1, 1, 0, 0], weights=[1, 1, 1, 1], matched=m)
    with pytest.raises(DesignError, match="at least 2 units per group"):
        balance_table({"x": [1.0, 2, 3]}, [1, 0, 0])


# ------------------------------------------------------------------------------------------
# effects
# ------------------------------------------------------------------------------------------


def _check_effect(res: ExternalControlResult, ref: dict) -> None:
    close(res.effect, ref["effect"])
    close(res.standard_error, ref["se"])
    close(res.mean_treated, ref["mean_treated"])
    close(res.mean_control, ref["mean_control"])
    if "log_odds_ratio" in ref and res.log_odds_ratio is not None:
        close(res.log_odds_ratio, ref["log_odds_ratio"])
        close(res.log_odds_ratio_se, ref["log_odds_ratio_se"])


@pytest.mark.parametrize(("name", "i"), MATCH_CASES)
def test_matching_comparison_matches_reference(name, i):
    df = frame(name)
    cfg = DATASETS[name]["matching"][i]
    kwargs = _match_kwargs(cfg)
    binary_ref = cfg["binary"]
    want_lor = "log_odds_ratio" in binary_ref
    res = external_control_comparison(df, outcome="y_bin", treatment="treat", covariates=covariates(name),
                                      method="matching", log_odds_ratio=want_lor, **kwargs)
    assert res.se_type == cfg["se_type"]
    assert res.n_unmatched_treated == cfg["n_unmatched_treated"]
    assert res.effect_measure == "risk difference" and res.estimand == "ATT"
    _check_effect(res, binary_ref)
    assert (res.log_odds_ratio is not None) == want_lor
    np.testing.assert_array_equal(res.matching.match_matrix, r_match_matrix(cfg))
    close(res.weights, cfg["weights"], rtol=1e-12, atol=1e-12)
    _check_balance(res.balance, cfg["balance_after"], after=True, denominator="pooled")
    cont = external_control_comparison(df, outcome="y_cont", treatment="treat", covariates=covariates(name),
                                       endpoint="continuous", **kwargs)
    assert cont.effect_measure == "mean difference"
    _check_effect(cont, cfg["continuous"])


@pytest.mark.parametrize(("name", "i"), IPTW_CASES)
def test_iptw_comparison_matches_reference(name, i):
    df = frame(name)
    cfg = DATASETS[name]["iptw"][i]
    binary_ref = cfg["binary"]
    want_lor = "log_odds_ratio" in binary_ref
    common = {"treatment": "treat", "covariates": covariates(name), "method": "iptw", "estimand": cfg["estimand"],
              "stabilized": cfg["stabilized"]}
    res = external_control_comparison(df, outcome="y_bin", log_odds_ratio=want_lor, **common)
    assert res.se_type == "HC0" and res.n_unmatched_treated == 0
    assert res.n_treated + res.n_control == len(df)
    _check_effect(res, binary_ref)
    close(res.weights, cfg["weights"])
    close(res.ess_treated, cfg["ess_treated"])
    close(res.ess_control, cfg["ess_control"])
    _check_effect(external_control_comparison(df, outcome="y_cont", endpoint="continuous", **common),
                  cfg["continuous"])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("se_type", ["HC0", "HC1", "HC2", "HC3"])
def test_unadjusted_comparison_matches_reference(name, se_type):
    df = frame(name)
    ref = DATASETS[name]["none"][se_type]
    want_lor = "log_odds_ratio" in ref["binary"]
    res = external_control_comparison(df, outcome="y_bin", treatment="treat", covariates=covariates(name),
                                      method="none", se_type=se_type, log_odds_ratio=want_lor)
    assert res.propensity is None and res.matching is None
    assert list(res.balance.columns) == ["binary", "mean_treated_before", "mean_control_before", "smd_before"]
    _check_effect(res, ref["binary"])
    cont = external_control_comparison(df, outcome="y_cont", treatment="treat", covariates=covariates(name),
                                       method="none", endpoint="continuous", se_type=se_type)
    _check_effect(cont, ref["continuous"])


def test_unadjusted_default_is_welch():
    df = frame("small40")
    res = external_control_comparison(df, outcome="y_cont", treatment="treat", covariates=["age"],
                                      endpoint="continuous", method="none")
    y1 = df.loc[df.treat == 1, "y_cont"]
    y0 = df.loc[df.treat == 0, "y_cont"]
    assert res.se_type == "HC2"
    assert res.standard_error == pytest.approx(math.sqrt(y1.var() / len(y1) + y0.var() / len(y0)), rel=1e-12)


def test_log_odds_ratio_degenerate_with_zero_control_events():
    df = frame("zero50")
    with pytest.warns(DegenerateDataWarning, match="log odds ratio is not estimable"):
        res = external_control_comparison(df, outcome="y_bin", treatment="treat", covariates=["sev"],
                                          log_odds_ratio=True)
    assert res.mean_control == 0.0 and res.log_odds_ratio is None and res.log_odds_ratio_se is None
    _check_effect(res, DATASETS["zero50"]["matching"][0]["binary"])
    with pytest.raises(DesignError, match="`log_odds_ratio` must have been computed"):
        res.log_odds_ratio_interval()


def test_result_interface():
    df = frame("cohort120")
    res = external_control_comparison(df, outcome="y_bin", treatment="treat", covariates=covariates("cohort120"),
                                      log_odds_ratio=True)
    z = 1.959963984540054
    assert res.ci == ConfidenceInterval(res.effect - z * res.standard_error, res.effect + z * res.standard_error)
    assert res.confidence_interval() == res.ci
    lo, hi = res.log_odds_ratio_interval(0.9)
    assert lo < res.log_odds_ratio < hi
    assert res.statistic == pytest.approx(res.effect / res.standard_error)
    d = res.to_dict()
    json.dumps(d)
    assert d["balance"][0]["covariate"] == "age" and d["ci"]["low"] == res.ci.low
    row = res.to_frame()
    assert row.loc[0, "effect"] == res.effect and row.loc[0, "ci_high"] == res.ci.high
    assert repr(res).startswith("ExternalControlResult(method='matching', risk difference=")
    with pytest.raises(DesignError, match="`confidence_level` must be a probability"):
        res.confidence_interval(1.5)


@pytest.mark.parametrize("alternative", ["less", "greater"])
def test_one_sided_alternatives(alternative):
    df = frame("cohort120")
    two = external_control_comparison(df, outcome="y_cont", treatment="treat", covariates=["age"],
                                      endpoint="continuous")
    one = external_control_comparison(df, outcome="y_cont", treatment="treat", covariates=["age"],
                                      endpoint="continuous", alternative=alternative)
    assert one.effect == two.effect
    if alternative == "greater":
        assert one.pvalue == pytest.approx(two.pvalue / 2) and one.ci.high == math.inf
        assert one.ci.low > two.ci.low
    else:
        assert one.pvalue == pytest.approx(1 - two.pvalue / 2) and one.ci.low == -math.inf


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "y_bn"}, "`outcome` must name a column of `data`; got 'y_bn'. \\(help: did you mean 'y_bin'\\?\\)"),
        ({"covariates": "age"}, "`covariates` must be a non-empty sequence of column names"),
        ({"covariates": ["age", "age"]}, "must not repeat a column"),
        ({"covariates": ["age", "treat"]}, "must be different columns"),
        ({"outcome": "y_cont"}, "must be 0/1 for a binary endpoint"),
        ({"endpoint": "survival"}, "`endpoint` must be one of"),
        ({"method": "weighting"}, "`method` must be one of"),
        ({"method": "iptw", "caliper": 0.1}, "`caliper` applies only to method='matching'"),
        ({"method": "iptw", "ratio": 2}, "`ratio` applies only to method='matching'"),
        ({"method": "none", "stabilized": False}, "`stabilized` applies only to method='iptw'"),
        ({"estimand": "ATE"}, "`estimand` must be 'ATT' for method='matching'"),
        ({"method": "none", "estimand": "ATE"}, "`estimand` applies only to"),
        ({"method": "iptw", "se_type": "CR1"}, "`se_type` 'CR1' needs matched sets"),
        ({"se_type": "HC4"}, "`se_type` must be one of"),
        ({"caliper": 1e-9, "caliper_scale": "logit"}, "at least one matched pair"),
        ({"endpoint": "continuous", "log_odds_ratio": True, "outcome": "y_cont"}, "`log_odds_ratio` must be False"),
        ({"confidence_level": 95}, "`confidence_level` must be a probability"),
        ({"alternative": "two_sided"}, "`alternative` must be one of"),
    ],
)
def test_comparison_invalid_input(kwargs, message):
    df = frame("cohort120")
    args = {"outcome": "y_bin", "treatment": "treat", "covariates": ["age", "male"]} | kwargs
    with pytest.raises(DesignError, match=message):
        external_control_comparison(df, **args)


def test_comparison_data_problems():
    df = frame("small40")
    with pytest.raises(DesignError, match="`data` must be a pandas DataFrame or a mapping"):
        external_control_comparison(df.to_numpy(), outcome="y_bin", treatment="treat", covariates=["age"])
    bad = df.assign(y_cont=df.y_cont.where(df.index != 3))
    with pytest.raises(DesignError, match="no missing or infinite values"):
        external_control_comparison(bad, outcome="y_cont", treatment="treat", covariates=["age"],
                                    endpoint="continuous")
    bad = df.assign(age=df.age.where(df.index != 3))
    with pytest.raises(DesignError, match="no missing values; got missing values in age"):
        external_control_comparison(bad, outcome="y_bin", treatment="treat", covariates=["age"])
    bad = df.assign(treat=df.treat.where(df.index != 3))
    with pytest.raises(DesignError, match="`treatment` column 'treat' must have no missing values"):
        external_control_comparison(bad, outcome="y_bin", treatment="treat", covariates=["age"])
    const = df.assign(y_bin=0)
    with pytest.raises(DesignError, match="sandwich standard error is 0"):
        external_control_comparison(const, outcome="y_bin", treatment="treat", covariates=["age"])


def test_hc3_with_a_single_unit_group_is_an_error():
    data = {"y": [1.0, 2.0, 3.0, 4.0], "t": [1, 0, 0, 0], "x": [0.1, 0.4, 0.2, 0.3]}
    with pytest.raises(DesignError, match="leverages below 1"):
        external_control_comparison(data, outcome="y", treatment="t", covariates=["x"], endpoint="continuous",
                                    method="none", se_type="HC3")


def test_cr1_needs_two_matched_sets():
    data = {"y": [1.0, 2.0, 3.0, 5.0], "t": [1, 0, 0, 0], "x": [0.3, 0.1, 0.4, 0.2]}
    with pytest.raises(DesignError, match="at least 2 matched sets; got 1"):
        external_control_comparison(data, outcome="y", treatment="t", covariates=["x"], endpoint="continuous",
                                    caliper=None)


def test_dict_input_equals_dataframe_input():
    df = frame("small40")
    a = external_control_comparison(df, outcome="y_bin", treatment="treat", covariates=["age", "kps"])
    b = external_control_comparison({c: df[c].to_numpy() for c in df}, outcome="y_bin", treatment="treat",
                                    covariates=("age", "kps"))
    assert (a.effect, a.standard_error) == (b.effect, b.standard_error)


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------


@st.composite
def scores_and_groups(draw, min_size=3, max_size=40):
    n = draw(st.integers(min_size, max_size))
    ps = draw(st.lists(st.floats(0.001, 0.999), min_size=n, max_size=n))
    t = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda v: 0 < sum(v) < len(v)))
    return np.asarray(ps), np.asarray(t)


@PROPERTY
@given(scores_and_groups(), st.sampled_from(["ATT", "ATE"]), st.booleans())
def test_property_iptw_weights_positive_and_finite(data, estimand, stabilized):
    ps, t = data
    w = iptw_weights(ps, t, estimand=estimand, stabilized=stabilized).weights
    assert np.all(np.isfinite(w)) and np.all(w > 0)
    if estimand == "ATT" and not stabilized:
        assert np.all(w[t] == 1.0)


@PROPERTY
@given(scores_and_groups(), st.sampled_from([None, 0.1, 0.2, 0.5]), st.integers(1, 3), st.booleans(),
       st.sampled_from(["largest", "smallest", "data"]))
@example((np.array([0.3, 0.3, 0.3, 0.3]), np.array([True, False, True, False])), 0.2, 1, False, "largest")
def test_property_matching_invariants(data, caliper, ratio, replace, order):
    ps, t = data
    m = match_nearest(ps, t, caliper=caliper, ratio=ratio, replace=replace, order=order)
    d = np.log(ps) - np.log1p(-ps)
    # every pair is a treated and a control unit within the caliper
    for tr, c in m.pairs:
        assert t[tr] and not t[c]
        if m.caliper is not None:
            assert abs(d[tr] - d[c]) <= m.caliper
    # no control is used twice without replacement; no treated unit gets a control twice
    if not replace:
        assert len(set(m.pairs[:, 1])) == len(m.pairs)
    for row in m.match_matrix:
        got = row[row >= 0]
        assert len(set(got)) == len(got) <= ratio
    # greedy: an unmatched treated unit has no unused control within the caliper
    used = set(m.pairs[:, 1].tolist())
    for i, tr in enumerate(m.treated_rows):
        if m.match_matrix[i, 0] < 0:
            for c in np.flatnonzero(~t):
                if replace or c not in used:
                    assert m.caliper is not None and abs(d[tr] - d[c]) > m.caliper
    # weights: 1 for matched treated; controls add up to the number of distinct matched controls
    assert np.all(m.weights >= 0)
    assert np.sum(m.weights[t]) == m.n_matched_treated
    assert np.sum(m.weights[~t]) == pytest.approx(m.n_matched_control)
    # deterministic
    again = match_nearest(ps, t, caliper=caliper, ratio=ratio, replace=replace, order=order)
    np.testing.assert_array_equal(again.pairs, m.pairs)


@PROPERTY
@given(scores_and_groups(min_size=4), st.randoms(use_true_random=False))
def test_property_matching_by_score_order_ignores_row_order_without_ties(data, rnd):
    """With distinct scores, matching in descending-score order does not depend on the row order."""
    ps, t = data
    ps = np.unique(ps)[: len(ps)]
    t = t[: len(ps)]
    if not 0 < t.sum() < len(t):
        return
    perm = np.asarray(rnd.sample(range(len(ps)), len(ps)))
    a = match_nearest(ps, t, caliper=0.2)
    b = match_nearest(ps[perm], t[perm], caliper=0.2)
    pairs_a = {(int(x), int(y)) for x, y in a.pairs}
    pairs_b = {(int(perm[x]), int(perm[y])) for x, y in b.pairs}
    assert pairs_a == pairs_b


def _simulated(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n)
    male = rng.integers(0, 2, n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 0.04 * (age - 60) + 0.3 * male)))).astype(int)
    t[:2] = [0, 1]
    y = (rng.random(n) < 0.3 + 0.25 * t).astype(int)
    y[:4] = [0, 1, 1, 0]
    return pd.DataFrame({"y": y, "t": t, "age": age, "male": male, "yc": rng.normal(t, 1)})


@PROPERTY_FIT
@given(st.integers(0, 10_000), st.integers(30, 80), st.randoms(use_true_random=False),
       st.sampled_from(["ATT", "ATE"]))
def test_property_iptw_comparison_invariant_to_row_order(seed, n, rnd, estimand):
    df = _simulated(seed, n)
    try:
        a = external_control_comparison(df, outcome="y", treatment="t", covariates=["age", "male"], method="iptw",
                                        estimand=estimand)
    except DesignError:
        return  # a separated or degenerate draw
    perm = rnd.sample(range(n), n)
    b = external_control_comparison(df.iloc[perm].reset_index(drop=True), outcome="y", treatment="t",
                                    covariates=["age", "male"], method="iptw", estimand=estimand)
    assert b.effect == pytest.approx(a.effect, rel=1e-8, abs=1e-10)
    assert b.standard_error == pytest.approx(a.standard_error, rel=1e-8)
    np.testing.assert_allclose(b.weights, a.weights[perm], rtol=1e-8)


@PROPERTY_FIT
@given(st.integers(0, 10_000), st.sampled_from(["matching", "iptw", "none"]),
       st.floats(0.5, 0.99), st.floats(0.5, 0.99))
def test_property_intervals_contain_estimate_and_widen(seed, method, lvl1, lvl2):
    df = _simulated(seed, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        try:
            res = external_control_comparison(df, outcome="yc", treatment="t", covariates=["age"],
                                              endpoint="continuous", method=method)
        except DesignError:
            return
    lo1, hi1 = res.confidence_interval(min(lvl1, lvl2))
    lo2, hi2 = res.confidence_interval(max(lvl1, lvl2))
    assert lo2 <= lo1 <= res.effect <= hi1 <= hi2
    assert 0 <= res.pvalue <= 1


def test_categorical_dtype_level_order_is_kept_from_a_dataframe():
    df = frame("cohort120")
    cat = df.assign(centre=pd.Categorical(df["centre"], categories=["C", "B", "A"]))
    res = external_control_comparison(cat, outcome="y_bin", treatment="treat", covariates=["age", "centre"])
    assert res.propensity.coefficient_names == ("(Intercept)", "age", "centre[B]", "centre[A]")
    plain = external_control_comparison(df, outcome="y_bin", treatment="treat", covariates=["age", "centre"])
    # a reparametrised model gives the same scores
    np.testing.assert_allclose(res.propensity.scores, plain.propensity.scores, rtol=1e-9)


def test_a_ratio_beyond_the_units_is_refused() -> None:
    """A ratio of 10^5 for four units ran 10^5 rounds of a Python loop (minutes) before it was refused."""
    with pytest.raises(DesignError, match=r"^`ratio` must be at most the 4 units; got 100000\.$"):
        match_nearest([0.7, 0.4, 0.6, 0.3], [1, 1, 0, 0], ratio=10**5, caliper=None)


@pytest.mark.parametrize("replace", [False, True])
def test_rounds_stop_when_one_matches_nobody(replace: bool) -> None:
    """Seeking more controls than there are gives the matches of as many rounds as there are controls, then -1s."""
    ps, t = [0.7, 0.4, 0.6, 0.3, 0.5, 0.45], [1, 1, 0, 0, 0, 1]
    full = match_nearest(ps, t, caliper=None, ratio=6, replace=replace)
    enough = match_nearest(ps, t, caliper=None, ratio=3, replace=replace)
    np.testing.assert_array_equal(full.match_matrix[:, :3], enough.match_matrix)
    assert np.all(full.match_matrix[:, 3:] == -1)
    np.testing.assert_array_equal(full.pairs, enough.pairs)


def test_a_zero_standard_error_with_a_varying_outcome_says_why() -> None:
    """Two matched pairs with the same difference: the outcome varies, so "a constant outcome in both groups" (the
    message before) was wrong."""
    data = {"y": [1, 0, 1, 0], "t": [1, 1, 0, 0], "age": [1.0, 2.0, 1.5, 2.5]}
    with pytest.raises(DesignError, match=r"^the sandwich standard error is 0 for these data: the 4 units the matched "
                                          r"pairs keep leave no residual variation"):
        external_control_comparison(data, outcome="y", treatment="t", covariates=["age"], caliper=None)


def test_standard_errors_of_rounding_error_are_refused() -> None:
    """Found by a randomised comparison with R (lm + sandwich): a constant outcome gave se 1.4e-16 and p = 0.007,
    matched pairs with the same difference (0.49, in decimal: 0.71 + 0.49 and so on, in floating point) a variance of 4.4e-16 left by the cancellation of terms
    of order 1 (se 2.1e-8, p = 0), and one matched pair with se_type='HC1' a ZeroDivisionError (n - p = 0)."""
    constant = {"y": [1] * 10, "t": [1] * 6 + [0] * 4, "x": [0.0, 1, 2, 0, 1, 2, 0, 1, 2, 0.5]}
    with pytest.raises(DesignError, match=r"^`outcome` must vary within at least one group; got a constant outcome"):
        external_control_comparison(constant, outcome="y", treatment="t", covariates=["x"], method="none")
    same = {"y": [1.2, 2.8899999999999997, 2.24, 0.77, 0.71, 2.4, 1.75, 0.28], "t": [1] * 4 + [0] * 4,
            "age": [0.0, 1.0, 2.0, 3.0, 0.01, 1.01, 2.01, 3.01]}
    with pytest.raises(DesignError, match=r"^the sandwich standard error is 0 for these data: the 8 units"):
        external_control_comparison(same, outcome="y", treatment="t", covariates=["age"], caliper=None,
                                    endpoint="continuous")
    one_pair = {"y": [0, 1, 0, 1, 1, 0, 1, 0], "t": [1, 0, 0, 0, 0, 0, 0, 0],
                "x": [0.3, 0.2, -1.0, 1.5, -0.4, 0.9, -2.0, 2.2]}
    with pytest.raises(DesignError, match=r"^`se_type` 'HC1' must have more units than the 2 coefficients"):
        external_control_comparison(one_pair, outcome="y", treatment="t", covariates=["x"], method="matching",
                                    se_type="HC1")
    # one difference changed by 0.01: a real standard error, kept.  CR1 over G = 4 pairs of differences d_g (0.49,
    # 0.49, 0.49, 0.50): sum (d_g - mean)^2 / (G (G - 1)) times (n - 1) / (n - 2), n = 8 units
    varied = dict(same, y=[1.2, 2.8899999999999997, 2.24, 0.78, 0.71, 2.4, 1.75, 0.28])
    res = external_control_comparison(varied, outcome="y", treatment="t", covariates=["age"], caliper=None,
                                      endpoint="continuous")
    assert res.standard_error == pytest.approx(math.sqrt(7.5e-5 / 12 * 7 / 6), rel=1e-9)


def test_propensity_standard_errors_are_the_inverse_information_at_the_estimate() -> None:
    """Five patients: statsmodels' bse (the weights of the iteration before the last) gave 9.79983 for the intercept,
    as R's glm does with its default epsilon = 1e-8; at the estimate itself the inverse information gives 9.79988, as
    R does once it has converged:

        d <- data.frame(x1 = c(78.04, 57.3, 51.05, 46.0, 52.8), x2 = c(-1.38, -1.09, 1.92, -0.28, -0.55),
                        treat = c(1, 0, 0, 0, 1))
        summary(glm(treat ~ x1 + x2, family = binomial, data = d,
                    control = glm.control(epsilon = 1e-12, maxit = 100)))$coefficients[, 2]   # R 4.2.2
    """
    covs = {"x1": [78.04, 57.3, 51.05, 46.0, 52.8], "x2": [-1.38, -1.09, 1.92, -0.28, -0.55]}
    fit = propensity_scores(covs, [1, 0, 0, 0, 1])
    close(fit.standard_errors, [9.799880228940101, 0.183611364643034, 1.505796479443040], rtol=1e-9)
