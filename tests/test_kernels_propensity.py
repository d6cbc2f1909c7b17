"""Tests for condapprove.kernels.propensity (batched propensity-score adjustment).

References:

* row by row, :mod:`condapprove.estimate.external` (``propensity_scores``, ``iptw_weights``,
  ``external_control_comparison`` with ``method="iptw"`` and ``"none"``), itself validated
  against R's glm and sandwich, on 30 random padded data sets;
* R directly: tests/reference/kernels_propensity.json, written by
  tests/reference/make_reference_kernels_propensity.R (glm fitted values, lm + sandwich::vcovHC
  HC0-HC3 for the weighted difference and the regression adjustment, rank-deficient designs);
* statsmodels OLS with HC0-HC3 for the regression adjustment on the random data sets;
* a simulated confounded survey (bias of the unadjusted comparison, none after weighting).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from condapprove.errors import DegenerateDataWarning, DesignError
from condapprove.estimate.external import external_control_comparison, iptw_weights, propensity_scores
from condapprove.kernels.propensity import (
    DifferenceBatch,
    LogisticFitBatch,
    PSWeightsBatch,
    RegressionBatch,
    logistic_fit_batch,
    ps_weights_batch,
    regression_adjusted_batch,
    weighted_difference_batch,
)
from condapprove.results import ConfidenceInterval, MonteCarloEstimate

REF = json.loads((Path(__file__).parent / "reference" / "kernels_propensity.json").read_text())
CASES = {c["name"]: c for c in REF["cases"]}
TOL = 1e-8  # the brief's agreement level with condapprove.estimate.external (both fit to ~1e-10)
RTOL_R = 1e-6  # against the R fixture (15 significant digits; glm stops at epsilon 1e-10)

PROPERTY = settings(derandomize=True, max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------
# random padded blocks, and the same data row by row
# --------------------------------------------------------------------------------------------


def make_block(seed: int, m: int, p: int, n_pad: int = 140, n_range: tuple[int, int] = (30, 130)):
    """A padded block: row i has n_i valid patients at random positions; padding holds garbage.

    Covariate 1 is binary (prevalence 0.4), the others normal; treatment from a logistic
    model in the covariates; outcome binary for the first half of the rows, continuous after.
    """
    rng = np.random.default_rng(seed)
    X = np.empty((m, n_pad, p))
    X[:, :, 0] = rng.random((m, n_pad)) < 0.4
    if p > 1:
        X[:, :, 1:] = rng.normal(0.0, 1.5, size=(m, n_pad, p - 1))
    lin = -0.4 + X @ np.linspace(0.8, -0.4, p)
    t = (rng.random((m, n_pad)) < 1 / (1 + np.exp(-lin))).astype(np.int64)
    y = np.empty((m, n_pad))
    half = m // 2
    y[:half] = rng.random((half, n_pad)) < 0.25 + 0.15 * t[:half] + 0.2 * X[:half, :, 0]
    y[half:] = 1.0 + 0.5 * t[half:] + X[half:] @ np.linspace(1.0, 0.2, p) + rng.normal(size=(m - half, n_pad))
    valid = np.zeros((m, n_pad), dtype=bool)
    for i in range(m):  # building the test data only; the kernels never loop over rows
        k = int(rng.integers(*n_range))
        valid[i, rng.choice(n_pad, size=k, replace=False)] = True
    X[~valid] = np.nan
    y[~valid] = np.nan
    t[~valid] = 7
    binary = np.arange(m) < half
    return X, t, y, valid, binary


BLOCKS = {p: make_block(1000 + p, 10, p) for p in (1, 2, 3)}
ROWS = [(p, i) for p in (1, 2, 3) for i in range(10)]


def row_frame(p: int, i: int) -> tuple[pd.DataFrame, list[str], bool]:
    X, t, y, valid, binary = BLOCKS[p]
    v = valid[i]
    cov = [f"x{j + 1}" for j in range(p)]
    data = {"y": y[i, v], "t": t[i, v]} | {c: X[i, v, j] for j, c in enumerate(cov)}
    return pd.DataFrame(data), cov, bool(binary[i])


@pytest.fixture(scope="module")
def fits() -> dict[int, LogisticFitBatch]:
    return {p: logistic_fit_batch(BLOCKS[p][0], BLOCKS[p][1], BLOCKS[p][3]) for p in (1, 2, 3)}


def close(actual, desired, rtol=TOL, atol=TOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(desired, dtype=float),
                               rtol=rtol, atol=atol)


# --------------------------------------------------------------------------------------------
# agreement with condapprove.estimate.external, row by row
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "i"), ROWS)
def test_logistic_fit_matches_propensity_scores(fits, p, i):
    df, cov, _ = row_frame(p, i)
    ref = propensity_scores(df[cov], df["t"])
    fit = fits[p]
    v = BLOCKS[p][3][i]
    assert fit.converged[i] and fit.full_rank[i]
    close(fit.ps[i, v], ref.scores)
    close(fit.coef[i], ref.coefficients)
    close(fit.deviance[i], ref.deviance, rtol=1e-10)
    assert np.all(fit.ps[i, ~v] == 0.5)


@pytest.mark.parametrize(("p", "i"), ROWS)
@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
@pytest.mark.parametrize("stabilized", [True, False])
def test_weights_match_iptw_weights(fits, p, i, estimand, stabilized):
    df, cov, _ = row_frame(p, i)
    ref = iptw_weights(propensity_scores(df[cov], df["t"]), df["t"], estimand=estimand, stabilized=stabilized)
    _X, t, _y, valid, _ = BLOCKS[p]
    res = ps_weights_batch(fits[p].ps, t, valid, estimand=estimand, stabilized=stabilized)
    close(res.weights[i, valid[i]], ref.weights)
    assert np.all(res.weights[i, ~valid[i]] == 0)
    close(res.ess_treated[i], ref.ess_treated)
    close(res.ess_control[i], ref.ess_control)
    close(res.max_weight[i], ref.max_weight)


@pytest.mark.parametrize(("p", "i"), ROWS)
@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_iptw_difference_matches_external(fits, p, i, estimand):
    df, cov, binary = row_frame(p, i)
    ref = external_control_comparison(df, outcome="y", treatment="t", covariates=cov, method="iptw",
                                      estimand=estimand, endpoint="binary" if binary else "continuous")
    _X, t, y, valid, _ = BLOCKS[p]
    w = ps_weights_batch(fits[p].ps, t, valid, estimand=estimand)
    res = weighted_difference_batch(y, t, w.weights, valid)
    assert res.se_type == ref.se_type == "HC0"
    close(res.estimate[i], ref.effect)
    close(res.standard_error[i], ref.standard_error)
    close(res.statistic[i], ref.statistic, rtol=1e-7)
    close(res.pvalue()[i], ref.pvalue, rtol=1e-7)
    close(res.mean_treated[i], ref.mean_treated)
    close(res.mean_control[i], ref.mean_control)
    ci = res.confidence_interval(0.95)
    close([ci.low[i], ci.high[i]], list(ref.ci))
    assert res.n_treated[i] == ref.n_treated and res.n_control[i] == ref.n_control


@pytest.mark.parametrize(("p", "i"), ROWS)
@pytest.mark.parametrize("se_type", [None, "HC0", "HC1", "HC2", "HC3"])
def test_unadjusted_difference_matches_external(p, i, se_type):
    df, cov, binary = row_frame(p, i)
    ref = external_control_comparison(df, outcome="y", treatment="t", covariates=cov, method="none",
                                      endpoint="binary" if binary else "continuous", se_type=se_type)
    _X, t, y, valid, _ = BLOCKS[p]
    res = weighted_difference_batch(y, t, None, valid, se_type=se_type)
    assert res.se_type == ref.se_type
    close(res.estimate[i], ref.effect)
    close(res.standard_error[i], ref.standard_error)
    if se_type == "HC0":  # w = 1 gives the same as no weights
        ones = weighted_difference_batch(y, t, np.where(valid, 1.0, np.nan), valid)
        assert ones.se_type == "HC0"
        close(ones.standard_error[i], ref.standard_error)


def test_unadjusted_hc2_is_welch():
    _X, t, y, valid, _ = BLOCKS[2]
    res = weighted_difference_batch(y, t, None, valid)
    tb = (t == 1) & valid
    cb = (t == 0) & valid
    y1 = [y[i, tb[i]] for i in range(y.shape[0])]
    y0 = [y[i, cb[i]] for i in range(y.shape[0])]
    welch = [np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size) for a, b in zip(y1, y0, strict=True)]
    close(res.standard_error, welch, rtol=1e-12)


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("se_type", ["HC0", "HC1", "HC2", "HC3"])
def test_regression_adjusted_matches_statsmodels(p, se_type):
    import statsmodels.api as sm

    X, t, y, valid, _ = BLOCKS[p]
    res = regression_adjusted_batch(y, t, X, valid, se_type=se_type)
    for i in range(X.shape[0]):
        v = valid[i]
        design = np.column_stack([np.ones(v.sum()), t[i, v], X[i, v]])
        ols = sm.OLS(y[i, v], design).fit(cov_type=se_type)
        close(res.estimate[i], ols.params[1], rtol=1e-10, atol=1e-12)
        close(res.standard_error[i], ols.bse[1], rtol=1e-10, atol=1e-12)
        assert res.n[i] == v.sum() and res.rank[i] == p + 2


# --------------------------------------------------------------------------------------------
# agreement with R (glm, lm + sandwich)
# --------------------------------------------------------------------------------------------


def ref_block(case: dict, pad: int = 5) -> tuple[np.ndarray, ...]:
    """One R case as a 1-row block, with padding inserted at the front (garbage in it)."""
    n = len(case["y"])
    X = np.array(case["X"], dtype=float).T
    X = np.vstack([np.full((pad, X.shape[1]), 1e9), X])[None]
    t = np.concatenate([np.full(pad, 3), np.array(case["t"])])[None]
    y = np.concatenate([np.full(pad, -1e9), np.array(case["y"], dtype=float)])[None]
    w = np.concatenate([np.full(pad, -5.0), np.array(case["w"], dtype=float)])[None]
    valid = np.concatenate([np.zeros(pad, bool), np.ones(n, bool)])[None]
    return X, t, y, w, valid


@pytest.mark.parametrize("name", sorted(CASES))
def test_logistic_fit_matches_r_glm(name):
    case = CASES[name]
    X, t, _y, _w, valid = ref_block(case)
    fit = logistic_fit_batch(X, t, valid)
    assert fit.converged[0]
    close(fit.ps[0, valid[0]], case["ps_fitted"], rtol=RTOL_R, atol=1e-9)
    aliased = [c is None for c in case["ps_coef"]]
    assert fit.full_rank[0] == (not any(aliased))
    if not any(aliased):
        close(fit.coef[0], case["ps_coef"], rtol=RTOL_R, atol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("se_type", ["HC0", "HC1", "HC2", "HC3"])
def test_differences_match_r_sandwich(name, se_type):
    case = CASES[name]
    _X, t, y, w, valid = ref_block(case)
    weighted = weighted_difference_batch(y, t, w, valid, se_type=se_type)
    close(weighted.estimate[0], case["weighted_difference"]["estimate"], rtol=RTOL_R, atol=1e-12)
    close(weighted.standard_error[0], case["weighted_difference"]["se"][se_type], rtol=RTOL_R, atol=1e-12)
    plain = weighted_difference_batch(y, t, None, valid, se_type=se_type)
    close(plain.estimate[0], case["unweighted_difference"]["estimate"], rtol=RTOL_R, atol=1e-12)
    close(plain.standard_error[0], case["unweighted_difference"]["se"][se_type], rtol=RTOL_R, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("se_type", ["HC0", "HC1", "HC2", "HC3"])
def test_regression_adjusted_matches_r_sandwich(name, se_type):
    case = CASES[name]
    X, t, y, _w, valid = ref_block(case)
    res = regression_adjusted_batch(y, t, X, valid, se_type=se_type)
    close(res.estimate[0], case["regression"]["estimate"], rtol=RTOL_R, atol=1e-12)
    close(res.standard_error[0], case["regression"]["se"][se_type], rtol=RTOL_R, atol=1e-12)
    assert res.rank[0] == case["regression_rank"]


# --------------------------------------------------------------------------------------------
# bias demonstration: a confounded use-results comparison survey
# --------------------------------------------------------------------------------------------


def test_confounded_survey_bias_removed_by_att_weighting():
    """Unadjusted comparison biased, ATT-weighted (and regression-adjusted) comparison not.

    Data-generating model, for each of 20,000 independent replicates:

    * 40 treated patients with a binary confounder ``X ~ Bernoulli(0.3)`` and 80 concurrent
      controls with ``X ~ Bernoulli(0.6)`` (the controls are sicker, say);
    * every patient's binary response ``Y ~ Bernoulli(0.3 + 0.3 X)``, whatever the group: the
      covariate raises the response probability by 0.3 and the treatment has no effect (the
      true ATT and ATE are 0);
    * 10 padding entries per row (``valid`` false) placed at random positions, holding garbage.

    The unadjusted risk difference then has expectation ``0.3 (0.3 - 0.6) = -0.09``.  The
    propensity model ``logit P(t = 1 | X) = b0 + b1 X`` is saturated, so its ATT weights
    post-stratify the controls to the treated covariate distribution, which is unbiased
    whenever every (group, X) cell is occupied (all but a negligible fraction of replicates).
    Pass criteria: ``|mean unadjusted - 0| > 8 MCSE`` and ``|mean ATT-weighted - 0| < 4 MCSE``
    (also ``< 4 MCSE`` for the linear-probability regression adjustment, whose model is
    correct here), MCSE = SD / sqrt(20,000).
    """
    rng = np.random.default_rng(20260611)
    m, n1, n0, pad = 20_000, 40, 80, 10
    n = n1 + n0 + pad
    t = np.zeros((m, n), dtype=np.int64)
    t[:, :n1] = 1
    x = np.where(t == 1, rng.random((m, n)) < 0.3, rng.random((m, n)) < 0.6).astype(float)
    y = (rng.random((m, n)) < 0.3 + 0.3 * x).astype(float)
    valid = np.ones((m, n), dtype=bool)
    valid[:, n1 + n0:] = False
    x[~valid], y[~valid], t[~valid] = -3.0, 9.0, 1
    order = np.argsort(rng.random((m, n)), axis=1)  # shuffle patients and padding within rows
    take = np.take_along_axis
    x, y, t, valid = (take(a, order, axis=1) for a in (x, y, t, valid))
    X = x[:, :, None]

    fit = logistic_fit_batch(X, t, valid)
    assert fit.converged.all()
    w = ps_weights_batch(fit.ps, t, valid, estimand="ATT")
    unadjusted = weighted_difference_batch(y, t, None, valid)
    weighted = weighted_difference_batch(y, t, w.weights, valid)
    adjusted = regression_adjusted_batch(y, t, X, valid)
    for res in (unadjusted, weighted, adjusted):
        assert res.defined.all()

    unadj = MonteCarloEstimate.mean(unadjusted.estimate)
    att = MonteCarloEstimate.mean(weighted.estimate)
    reg = MonteCarloEstimate.mean(adjusted.estimate)
    assert abs(unadj.value) > 8 * unadj.mcse
    assert abs(unadj.value - (-0.09)) < 4 * unadj.mcse
    assert abs(att.value) < 4 * att.mcse
    assert abs(reg.value) < 4 * reg.mcse
    # pinned against itself (same seed, same numbers)
    assert unadj.value == pytest.approx(-0.0889, abs=1e-12)
    assert att.value == pytest.approx(0.000859480426272, abs=1e-12)


# --------------------------------------------------------------------------------------------
# degenerate rows
# --------------------------------------------------------------------------------------------


def test_separated_and_one_group_rows_are_flagged_and_clipped():
    rng = np.random.default_rng(5)
    n = 30
    x = rng.normal(size=(4, n))
    t = (rng.random((4, n)) < 0.5).astype(int)
    t[1] = (x[1] > 0).astype(int)  # complete separation
    t[2] = 1  # no controls
    t[3, :] = 0
    t[3, :2] = 1
    x[3, :2] = [5.0, 6.0]  # quasi-separation by a large covariate value
    x[3, 2:] = rng.normal(size=n - 2) * 0.1
    fit = logistic_fit_batch(x[:, :, None], t)
    assert fit.converged.tolist() == [True, False, False, False]
    assert np.all(fit.ps[1:] >= 1e-6) and np.all(fit.ps[1:] <= 1 - 1e-6)
    assert np.isfinite(fit.coef).all() and np.isfinite(fit.deviance).all()
    w = ps_weights_batch(fit.ps, t)
    assert np.all(w.weights > 0) and np.all(w.weights <= 1e6)
    assert "n_converged=1" in repr(fit)


def test_too_few_patients_and_max_iter_flagged():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(2, 10, 2))
    t = np.array([[1, 0] * 5, [1, 0] * 5])
    valid = np.ones((2, 10), dtype=bool)
    valid[0, 3:] = False  # 3 patients, 3 coefficients
    fit = logistic_fit_batch(X, t, valid)
    assert fit.converged.tolist() == [False, True]
    one = logistic_fit_batch(X, t, valid, max_iter=1)
    assert not one.converged[1] and one.n_iter[1] == 1


def test_rank_deficient_row_gives_reduced_model_scores():
    rng = np.random.default_rng(11)
    n = 50
    x1 = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-x1))).astype(int)
    X = np.stack([np.column_stack([x1, np.ones(n)]), np.column_stack([x1, 2 * x1 + 1])])
    fit = logistic_fit_batch(X, np.stack([t, t]))
    ref = propensity_scores({"x1": x1}, t)
    assert fit.converged.all() and not fit.full_rank.any()
    close(fit.ps[0], ref.scores)
    close(fit.ps[1], ref.scores)
    # the coefficients found reproduce the reduced model's linear predictor
    close(X[0] @ fit.coef[0, 1:] + fit.coef[0, 0], ref.linear_predictor)


def test_hessian_without_precomputed_products(monkeypatch):
    from condapprove.kernels import propensity

    X, t, y, valid, _ = BLOCKS[3]
    a = logistic_fit_batch(X, t, valid)
    ra = regression_adjusted_batch(y, t, X, valid, se_type="HC3")
    monkeypatch.setattr(propensity, "_PAIR_BUDGET", 0)  # large blocks: batched matmul instead
    b = logistic_fit_batch(X, t, valid)
    rb = regression_adjusted_batch(y, t, X, valid, se_type="HC3")
    close(a.ps, b.ps, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(a.converged, b.converged)
    close(ra.estimate, rb.estimate, rtol=1e-12, atol=1e-14)
    close(ra.standard_error, rb.standard_error, rtol=1e-12, atol=1e-14)


def test_row_without_patients():
    X = np.ones((2, 6, 1))
    X[1, :, 0] = [0.1, 0.5, -0.3, 0.8, -1.0, 0.2]
    t = np.array([[1, 0, 1, 0, 1, 0], [1, 1, 0, 0, 1, 0]])
    y = np.array([[1.0] * 6, [1.0, 0.0, 0.0, 1.0, 1.0, 0.0]])
    valid = np.array([[False] * 6, [True] * 6])
    fit = logistic_fit_batch(X, t, valid)
    assert fit.converged.tolist() == [False, True] and np.all(fit.ps[0] == 0.5)
    w = ps_weights_batch(fit.ps, t, valid)
    assert np.all(w.weights[0] == 0) and w.ess_treated[0] == 0 and w.max_weight[0] == 0
    with pytest.warns(DegenerateDataWarning, match="1 of 2"):
        d = weighted_difference_batch(y, t, w.weights, valid)
    assert np.isnan(d.estimate[0]) and d.defined.tolist() == [False, True]
    with pytest.warns(DegenerateDataWarning, match="1 of 2"):
        r = regression_adjusted_batch(y, t, X, valid)
    assert np.isnan(r.estimate[0]) and r.n[0] == 0 and r.rank[0] == 0


def test_intercept_only_model():
    t = np.array([[1, 0, 0, 1, 0, 0, 0, 1]])
    fit = logistic_fit_batch(np.zeros((1, 8, 0)), t)
    close(fit.ps, np.full((1, 8), 3 / 8), rtol=1e-12)
    close(fit.coef[0, 0], np.log(3 / 5), rtol=1e-10)


def test_empty_group_constant_outcome_and_single_unit_rows_warn():
    y = np.array([[1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0], [2.0, 3.0, 4.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    t = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0]])
    with pytest.warns(DegenerateDataWarning, match="4 of 4 replicates"):
        res = weighted_difference_batch(y, t)  # HC2
    assert np.isnan(res.estimate[0]) and np.isnan(res.standard_error[0]) and np.isnan(res.statistic[0])
    assert np.isnan(res.mean_control[0]) and res.n_control[0] == 0
    assert res.estimate[1] == 1.0 and res.standard_error[1] == 0.0 and res.statistic[1] == np.inf
    assert res.estimate[2] == pytest.approx(-2 / 3) and np.isnan(res.standard_error[2])  # one treated: h = 1
    assert res.estimate[3] == 0.0 and res.standard_error[3] == 0.0 and res.statistic[3] == 0.0
    assert res.defined.tolist() == [False, False, False, False]
    with pytest.warns(DegenerateDataWarning, match="3 of 4"):
        hc0 = weighted_difference_batch(y, t, se_type="HC0")
    assert hc0.standard_error[2] == pytest.approx(np.sqrt(42) / 9)  # HC0 defined with one treated
    # rows without a problem do not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weighted_difference_batch(y[2:3], t[2:3], se_type="HC0")


def test_zero_weights_drop_patients():
    y = np.array([[1.0, 3.0, 8.0, 0.0, 2.0, 100.0]])
    t = np.array([[1, 1, 1, 0, 0, 0]])
    w = np.array([[1.0, 1.0, 0.0, 1.0, 1.0, 0.0]])
    res = weighted_difference_batch(y, t, w, se_type="HC1")
    ref = weighted_difference_batch(y[:, [0, 1, 3, 4]], t[:, [0, 1, 3, 4]], np.ones((1, 4)), se_type="HC1")
    close(res.estimate, ref.estimate, rtol=1e-14)
    close(res.standard_error, ref.standard_error, rtol=1e-14)
    assert res.n_treated[0] == 2 and res.n_control[0] == 2


def test_regression_degenerate_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, 12, 1))
    y = rng.normal(size=(3, 12))
    t = np.tile([1, 0], (3, 6))
    t[0] = 1  # t collinear with the intercept: not identified
    y[1] = 1.0  # constant outcome: estimate 0, se 0
    with pytest.warns(DegenerateDataWarning, match="2 of 3"):
        res = regression_adjusted_batch(y, t, X)
    assert np.isnan(res.estimate[0]) and np.isnan(res.standard_error[0])
    assert res.estimate[1] == 0.0 and res.standard_error[1] == 0.0 and res.statistic[1] == 0.0
    assert res.defined.tolist() == [False, False, True]
    assert res.rank.tolist() == [2, 3, 3]


# --------------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------------


def test_input_validation_messages():
    X = np.zeros((2, 5, 1))
    t = np.array([[1, 0, 1, 0, 1], [0, 1, 0, 1, 0]])
    y = np.zeros((2, 5))
    message = r"`t` must be a non-empty 2-d array \(replicates, patients\); got shape \(5,\)\."
    with pytest.raises(DesignError, match=message):
        logistic_fit_batch(X, t[0])
    message = r"`X` must have shape \(2, 5, p\) to match `t`; got shape \(2, 5\)\."
    with pytest.raises(DesignError, match=message):
        logistic_fit_batch(X[..., 0], t)
    message = r"`t` must contain only 0 and 1 at valid entries; got 2\.0\."
    with pytest.raises(DesignError, match=message):
        logistic_fit_batch(X, t * 2)
    message = r"`valid` must have the shape \(2, 5\) of `t`; got shape \(2, 4\)\."
    with pytest.raises(DesignError, match=message):
        logistic_fit_batch(X, t, np.ones((2, 4), bool))
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    message = r"`X` must be finite at valid entries; got NaN or inf\."
    with pytest.raises(DesignError, match=message):
        logistic_fit_batch(bad, t)
    message = r"`max_iter` must be an integer >= 1; got 0\."
    with pytest.raises(DesignError, match=message):
        logistic_fit_batch(X, t, max_iter=0)
    message = r"`ps` must be strictly between 0 and 1 at valid entries; got 1\.0\."
    with pytest.raises(DesignError, match=message):
        ps_weights_batch(np.ones((2, 5)), t)
    message = r"`estimand` must be one of 'ATT', 'ATE'; got 'att'\."
    with pytest.raises(DesignError, match=message):
        ps_weights_batch(np.full((2, 5), 0.5), t, estimand="att")
    message = r"`stabilized` must be True or False; got 1\."
    with pytest.raises(DesignError, match=message):
        ps_weights_batch(np.full((2, 5), 0.5), t, stabilized=1)
    message = r"`w` must be non-negative at valid entries; got -1\.0\."
    with pytest.raises(DesignError, match=message):
        weighted_difference_batch(y, t, -np.ones((2, 5)))
    message = r"`se_type` must be one of 'HC0', 'HC1', 'HC2', 'HC3'; got 'CR1'\."
    with pytest.raises(DesignError, match=message):
        weighted_difference_batch(y, t, se_type="CR1")
    with pytest.raises(DesignError, match=message):
        regression_adjusted_batch(y, t, X, se_type="CR1")
    message = r"`alternative` must be one of 'two-sided', 'less', 'greater'; got 'two'\."
    with pytest.raises(DesignError, match=message):
        weighted_difference_batch(y + np.arange(5), t, se_type="HC0").pvalue("two")


def test_padding_may_hold_anything():
    X, t, y, valid, _ = BLOCKS[2]
    assert np.isnan(X[~valid]).all() and (t[~valid] == 7).all()
    tidy = (np.where(valid[..., None], X, 0.0), np.where(valid, t, 0), np.where(valid, y, 0.0))
    a = logistic_fit_batch(X, t, valid)
    b = logistic_fit_batch(tidy[0], tidy[1], valid)
    np.testing.assert_array_equal(a.ps, b.ps)
    ra = regression_adjusted_batch(y, t, X, valid)
    rb = regression_adjusted_batch(tidy[2], tidy[1], tidy[0], valid)
    np.testing.assert_array_equal(ra.estimate, rb.estimate)


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


def test_result_types_frames_and_intervals(fits):
    X, t, y, valid, _ = BLOCKS[1]
    fit = fits[1]
    w = ps_weights_batch(fit.ps, t, valid, estimand="ATE", stabilized=False)
    d = weighted_difference_batch(y, t, w.weights, valid)
    r = regression_adjusted_batch(y, t, X, valid)
    assert isinstance(fit, LogisticFitBatch) and isinstance(w, PSWeightsBatch)
    assert isinstance(d, DifferenceBatch) and isinstance(r, RegressionBatch)
    frame = d.to_frame()
    assert len(frame) == 10 and {"estimate", "standard_error", "statistic", "se_type"} <= set(frame.columns)
    assert list(fit.to_frame().columns) == ["converged", "full_rank", "n_iter", "deviance"]
    assert len(w.to_frame()) == 10 and (w.to_frame()["estimand"] == "ATE").all()
    assert set(r.to_frame().columns) >= {"estimate", "standard_error", "n", "rank"}
    assert d.to_dict()["se_type"] == "HC0" and len(d.to_dict()["estimate"]) == 10
    assert repr(d).startswith("DifferenceBatch(m=10, se_type='HC0'")
    assert repr(w).startswith("PSWeightsBatch(m=10, n=140, estimand='ATE'")
    assert repr(r).startswith("RegressionBatch(m=10")
    np.testing.assert_array_equal(d.z, d.statistic)
    np.testing.assert_array_equal(r.z, r.statistic)
    ci90, ci95 = d.confidence_interval(0.90), d.confidence_interval(0.95)
    assert isinstance(ci95, ConfidenceInterval)
    assert np.all(ci95.low < ci90.low) and np.all(ci90.low < d.estimate) and np.all(d.estimate < ci90.high)
    low = r.confidence_interval(0.95, alternative="greater")
    assert np.all(np.isinf(low.high)) and np.all(low.low > r.confidence_interval(0.95).low)
    close(d.pvalue("less") + d.pvalue("greater"), np.ones(10), rtol=1e-12)
    close(r.pvalue(), 2 * np.minimum(r.pvalue("less"), r.pvalue("greater")), rtol=1e-12)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------


@st.composite
def score_blocks(draw):
    m = draw(st.integers(1, 4))
    n = draw(st.integers(2, 12))
    cell = st.floats(1e-6, 1 - 1e-6)
    ps = np.array(draw(st.lists(cell, min_size=m * n, max_size=m * n))).reshape(m, n)
    t = np.array(draw(st.lists(st.booleans(), min_size=m * n, max_size=m * n))).reshape(m, n)
    valid = np.array(draw(st.lists(st.booleans(), min_size=m * n, max_size=m * n))).reshape(m, n)
    return ps, t, valid


@PROPERTY
@given(score_blocks(), st.sampled_from(["ATT", "ATE"]), st.booleans())
def test_weights_positive_on_valid_zero_elsewhere(block, estimand, stabilized):
    ps, t, valid = block
    res = ps_weights_batch(ps, t, valid, estimand=estimand, stabilized=stabilized)
    assert np.all(np.isfinite(res.weights))
    assert np.all(res.weights[valid] > 0)
    assert np.all(res.weights[~valid] == 0)
    assert np.all(res.ess_treated >= 0) and np.all(res.ess_control >= 0)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 2), st.sampled_from(["ATT", "ATE"]),
       st.sampled_from(["HC0", "HC1", "HC2", "HC3"]))
def test_invariant_to_permuting_patients_within_rows(seed, m, p, estimand, se_type):
    X, t, y, valid, _ = make_block(seed, m=2 * m, p=p, n_pad=40, n_range=(20, 38))
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random(valid.shape), axis=1)  # each row its own permutation, padding included
    take = np.take_along_axis
    Xp = take(X, order[:, :, None], axis=1)
    tp, yp, vp = (take(a, order, axis=1) for a in (t, y, valid))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        fit, fitp = logistic_fit_batch(X, t, valid), logistic_fit_batch(Xp, tp, vp)
        np.testing.assert_array_equal(fit.converged, fitp.converged)
        np.testing.assert_allclose(take(fit.ps, order, axis=1), fitp.ps, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fit.coef, fitp.coef, rtol=1e-8, atol=1e-9)
        w = ps_weights_batch(fit.ps, t, valid, estimand=estimand)
        wp = ps_weights_batch(fitp.ps, tp, vp, estimand=estimand)
        np.testing.assert_allclose(take(w.weights, order, axis=1), wp.weights, rtol=1e-8)
        d, dp = (weighted_difference_batch(yy, tt, ww.weights, vv, se_type=se_type)
                 for yy, tt, ww, vv in ((y, t, w, valid), (yp, tp, wp, vp)))
        np.testing.assert_allclose(d.estimate, dp.estimate, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(d.standard_error, dp.standard_error, rtol=1e-8, atol=1e-12)
        r, rp = regression_adjusted_batch(y, t, X, valid, se_type=se_type), regression_adjusted_batch(
            yp, tp, Xp, vp, se_type=se_type)
        np.testing.assert_allclose(r.estimate, rp.estimate, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(r.standard_error, rp.standard_error, rtol=1e-9, atol=1e-12)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(["ATT", "ATE"]))
def test_stabilization_changes_neither_estimate_nor_se(seed, estimand):
    X, t, y, valid, _ = make_block(seed, m=3, p=1, n_pad=30, n_range=(20, 30))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        fit = logistic_fit_batch(X, t, valid)
        a, b = (weighted_difference_batch(y, t, ps_weights_batch(fit.ps, t, valid, estimand=estimand,
                                                                 stabilized=s).weights, valid)
                for s in (True, False))
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(a.standard_error, b.standard_error, rtol=1e-10, atol=1e-13)


def test_binary_covariates_grouped_into_cells(monkeypatch):
    """Binary covariates: the fit over cells of patients (covariate pattern x treatment, counts as weights) equals
    the fit over the patients themselves, row by row, including rows that separate, are rank deficient or cannot
    be fitted."""
    from condapprove.kernels import propensity

    rng = np.random.default_rng(11)
    m, n, p = 240, 50, 3
    X = (rng.random((m, n, p)) < rng.uniform(0.1, 0.6, p)).astype(np.float64)
    t = rng.random((m, n)) < 1 / (1 + np.exp(-(X @ np.array([1.0, -0.7, 0.4]) - 0.3)))
    valid = rng.random((m, n)) < 0.85
    X[:20, :, 2] = 1.0  # a constant covariate: rank deficient
    t[20:30] = X[20:30, :, 0] == 1  # treatment follows a covariate: separation
    t[30:35] = True  # no controls
    valid[35:40, 6:] = False  # fewer patients than coefficients
    X[~valid] = np.nan  # the padding may hold anything
    seen = []
    cells = propensity._binary_cells
    monkeypatch.setattr(propensity, "_binary_cells", lambda *a: seen.append(cells(*a)) or seen[-1])
    grouped = logistic_fit_batch(X, t, valid)
    assert seen[-1] is not None and seen[-1][2].shape == (m, 2 ** (p + 1))  # the cells were used
    monkeypatch.setattr(propensity, "_MAX_GROUPED", -1)
    each = logistic_fit_batch(X, t, valid)
    assert seen[-1] is None
    np.testing.assert_array_equal(grouped.converged, each.converged)
    np.testing.assert_array_equal(grouped.full_rank, each.full_rank)
    ok = each.converged
    assert 150 < ok.sum() < m and (~each.full_rank[:20]).all() and not ok[20:40].any()
    np.testing.assert_array_equal(grouped.n_iter[ok], each.n_iter[ok])
    close(grouped.coef[ok & each.full_rank], each.coef[ok & each.full_rank], rtol=1e-9, atol=1e-9)
    close(grouped.ps, each.ps, rtol=1e-9, atol=1e-7)  # not converged: diverging coefficients, clipped scores
    close(grouped.ps[ok], each.ps[ok], rtol=1e-12, atol=1e-14)
    close(grouped.deviance, each.deviance, rtol=1e-12, atol=1e-12)
    assert (grouped.ps[~valid] == 0.5).all()
    # a cell without patients is not tested for separation: here the three populated cells fit 0.001 and 0.999
    # (1,000 patients each), and the empty cell (1, 1) would extrapolate to 1 - 1e-9
    x = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 1000, axis=0)
    tt = np.zeros(3000, dtype=bool)
    tt[:1] = tt[1000:1999] = tt[2000:2999] = True
    assert logistic_fit_batch(x[None], tt[None]).converged[0]  # each patient (_MAX_GROUPED is -1 here)
    monkeypatch.undo()
    one = logistic_fit_batch(x[None], tt[None])
    assert one.converged[0] and cells(x[None], tt[None], np.ones((1, 3000), dtype=bool)) is not None
    close(one.ps[0, [0, 1000, 2000]], [0.001, 0.999, 0.999], rtol=1e-9)


@pytest.mark.parametrize("per_patient_fit", [False, True])
def test_att_difference_over_cells_is_the_three_kernels(monkeypatch, per_patient_fit):
    """The simulation's weighted comparison of a binary outcome from counts of cells equals logistic_fit_batch,
    ps_weights_batch (ATT, stabilised) and weighted_difference_batch (HC0) one after the other, patient by
    patient: rows with no controls, no treated patients, an outcome constant in both groups or in one, the
    outcome equal to the treatment, separation and fewer patients than coefficients included; None unless every
    covariate and outcome is 0 or 1."""
    from condapprove.kernels import propensity
    from condapprove.kernels.propensity import att_difference_over_cells

    rng = np.random.default_rng(21)
    m, n, p = 400, 120, 2
    X = (rng.random((m, n, p)) < rng.uniform(0.1, 0.6, p)).astype(np.float64)
    t = rng.random((m, n)) < 1 / (1 + np.exp(-(X @ np.array([0.9, -0.5]) + 0.2)))
    y = (rng.random((m, n)) < 1 / (1 + np.exp(-(X @ np.array([0.6, 0.3]) - 1.0 + 0.4 * t)))).astype(np.float64)
    valid = rng.random((m, n)) < 0.8
    t[:10] = True  # no controls
    t[10:14] = False  # no treated patients
    y[14:24] = 1.0  # constant in both groups
    y[24:34] = np.where(t[24:34], y[24:34], 0.0)  # constant among the controls
    t[34:40] = X[34:40, :, 0] == 1  # separation
    valid[40:43, 3:] = False  # fewer patients than coefficients
    y[43:48] = t[43:48]  # the outcome is the treatment
    t &= valid
    X[~valid], y[~valid] = 0.0, 0.0
    if per_patient_fit:
        monkeypatch.setattr(propensity, "_MAX_GROUPED", -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = logistic_fit_batch(X, t, valid)
        w = ps_weights_batch(fit.ps, t, valid, estimand="ATT", stabilized=True)
        want = weighted_difference_batch(y, t, w.weights, valid, se_type="HC0")
    monkeypatch.undo()
    got = att_difference_over_cells(X, t, y, valid)
    assert got is not None
    estimate, z, defined = got
    np.testing.assert_array_equal(defined, want.defined)
    assert 300 < defined.sum() < m and not defined[:14].any() and not defined[14:24].any()
    close(estimate, want.estimate, rtol=1e-12, atol=1e-14)
    close(z, want.statistic, rtol=1e-10, atol=1e-12)
    assert defined[24:34].all()  # one group constant: the other's variance
    x2, y2 = X.copy(), y.copy()
    x2[0, np.flatnonzero(valid[0])[0], 0] = 0.5
    y2[0, np.flatnonzero(valid[0])[0]] = 2.0
    assert att_difference_over_cells(x2, t, y, valid) is None
    assert att_difference_over_cells(X, t, y2, valid) is None


def _moments_of_cells(X: np.ndarray, t: np.ndarray, y: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each row's number, mean and sum of squared deviations of the valid outcomes in the cells ``t + 2 pattern``
    (two passes, numpy), and each group's smallest and largest (m, 2): what att_difference_from_moments takes."""
    m, _, p = X.shape
    cell = t.astype(np.int64) + 2 * (X.astype(np.int64) << np.arange(p)).sum(axis=2)
    n, mean, m2 = (np.zeros((m, 2 ** (p + 1))) for _ in range(3))
    lo, hi = np.full((m, 2), np.inf), np.full((m, 2), -np.inf)
    for c in range(2 ** (p + 1)):
        inside = valid & (cell == c)
        n[:, c] = inside.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[:, c] = np.where(n[:, c] > 0, np.where(inside, y, 0.0).sum(axis=1) / n[:, c], 0.0)
        m2[:, c] = np.where(inside, (y - mean[:, c][:, None]) ** 2, 0.0).sum(axis=1)
    for g in (0, 1):
        inside = valid & (t == g)
        lo[:, g] = np.where(inside, y, np.inf).min(axis=1)
        hi[:, g] = np.where(inside, y, -np.inf).max(axis=1)
    return n, mean, m2, lo, hi


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_att_difference_from_moments_is_the_three_kernels(scale):
    """The simulation's weighted comparison of any outcome from each cell's number, mean and squared deviations
    equals logistic_fit_batch, ps_weights_batch (ATT, stabilised) and weighted_difference_batch (HC0) one after the
    other, patient by patient, for continuous outcomes (far from 0 too: the squared deviations are centred): rows
    with no controls, no treated patients, an outcome constant in both groups or in one, separation and fewer
    patients than coefficients included."""
    from condapprove.kernels.propensity import att_difference_from_moments

    rng = np.random.default_rng(22)
    m, n, p = 400, 120, 2
    X = (rng.random((m, n, p)) < rng.uniform(0.1, 0.6, p)).astype(np.float64)
    t = rng.random((m, n)) < 1 / (1 + np.exp(-(X @ np.array([0.9, -0.5]) + 0.2)))
    y = scale + X @ np.array([0.6, 0.3]) + 0.4 * t + rng.standard_normal((m, n))
    valid = rng.random((m, n)) < 0.8
    t[:10] = True  # no controls
    t[10:14] = False  # no treated patients
    y[14:24] = 2.5  # constant in both groups
    y[24:34] = np.where(t[24:34], y[24:34], -1.0)  # constant among the controls
    t[34:40] = X[34:40, :, 0] == 1  # separation
    valid[40:43, 3:] = False  # fewer patients than coefficients
    t &= valid
    X[~valid], y[~valid] = 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = logistic_fit_batch(X, t, valid)
        w = ps_weights_batch(fit.ps, t, valid, estimand="ATT", stabilized=True)
        want = weighted_difference_batch(y, t, w.weights, valid, se_type="HC0")
        estimate, z, defined = att_difference_from_moments(*_moments_of_cells(X, t, y, valid), p)
    np.testing.assert_array_equal(defined, want.defined)
    assert 300 < defined.sum() < m and not defined[:14].any() and not defined[14:24].any()
    assert defined[24:34].all() and not fit.converged[34:40].any()  # one group constant; separation
    close(estimate, want.estimate, rtol=1e-9, atol=1e-11 * scale)
    close(z, want.statistic, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="4 cells a row"):
        att_difference_from_moments(np.zeros((2, 8)), np.zeros((2, 8)), np.zeros((2, 8)), np.zeros((2, 2)),
                                    np.zeros((2, 2)), 1)


@settings(derandomize=True, max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 3), st.integers(0, 2**32 - 1), st.booleans())
def test_cell_moments_counted_arm_by_arm_are_those_of_the_joined_arms(p: int, seed: int, half: bool) -> None:
    """The engine's moments of a propensity comparison's cells, added arm by arm in compiled passes (Welford's
    updates, from each arm's covariates, outcomes and patients seen at the look, in the engine's layout): the numbers
    of patients and ranges of the joined arrays exactly, the means and squared deviations to rounding; a covariate
    neither 0 nor 1 in a valid patient is reported, and does not matter outside them."""
    from condapprove.simulation._counts_jit import add_cell_moments

    rng = np.random.default_rng(seed)
    m, arms = 30, (25, 17)
    xs = [(rng.random((n, m, p)) < 0.4).astype(np.float64).transpose(1, 0, 2) for n in arms]  # the engine's layout
    ys = [50.0 + rng.standard_normal((m, n)) for n in arms]
    valid = [rng.random((m, n)) < 0.7 for n in arms]
    for x, y, v in zip(xs, ys, valid):  # what invalid patients hold does not matter
        x[~v] = 0.5
        y[~v] = np.nan
    if half and p > 0:
        i, j = 4, int(np.flatnonzero(valid[1][4])[0])
        xs[1][i, j, p - 1] = 0.5
    n, mean, m2 = (np.zeros((m, 2 ** (p + 1))) for _ in range(3))
    lo, hi = np.full((m, 2), np.inf), np.full((m, 2), -np.inf)
    ok = (add_cell_moments(xs[0], ys[0], valid[0], True, n, mean, m2, lo[:, 1], hi[:, 1])
          & add_cell_moments(xs[1], ys[1], valid[1], False, n, mean, m2, lo[:, 0], hi[:, 0]))
    assert ok == (not (half and p > 0))
    if ok:
        v = np.concatenate(valid, axis=1)
        X = np.where(v[:, :, None], np.concatenate(xs, axis=1), 0.0)
        y = np.where(v, np.concatenate(ys, axis=1), 0.0)
        t = np.concatenate([np.ones((m, arms[0]), dtype=bool), np.zeros((m, arms[1]), dtype=bool)], axis=1) & v
        want = _moments_of_cells(X, t, y, v)
        np.testing.assert_array_equal(n, want[0])
        np.testing.assert_array_equal(lo, want[3])
        np.testing.assert_array_equal(hi, want[4])
        close(mean, want[1], rtol=1e-14, atol=0)
        close(m2, want[2], rtol=1e-9, atol=1e-12)


def _patients_of_cells(counts: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row's patients (X (1, n, p), t, y) from its numbers in the cells ``t + 2 y + 4 pattern``."""
    cell = np.repeat(np.arange(counts.size), counts.astype(np.int64))
    X = ((cell[:, None] >> (2 + np.arange(p))) & 1).astype(np.float64)
    return X[None], (cell & 1).astype(bool)[None], ((cell >> 1) & 1).astype(np.float64)[None]


@pytest.mark.parametrize("counts, p", [
    # the first Newton step from 0 raises the deviance (halved); the fit does not converge (scores clipped)
    ([0, 3, 0, 0, 4, 462, 0, 0, 1, 0, 0, 94, 0, 4, 0, 0, 11, 0, 317, 0, 1, 0, 0, 1, 0, 2, 5, 7447, 0, 0, 14, 0], 3),
    # quasi-complete separation: patterns 0 and 2 have no treated patient, pattern 1 no control
    ([5, 0, 2, 0, 0, 7, 0, 3, 4, 0, 1, 0, 3, 3, 2, 2], 2),
    ([9, 4, 3, 6, 2, 8, 5, 1], 1),  # an ordinary fit (converged in three iterations)
])
def test_att_difference_from_cells_on_awkward_rows(counts, p):
    """att_difference_from_cells on rows whose fit halves a step or separates (and on an ordinary one): the numbers
    of the three patient kernels, run on the row's patients."""
    from condapprove.kernels.propensity import att_difference_from_cells

    c = np.array(counts, dtype=np.float64)
    X, t, y = _patients_of_cells(c, p)
    valid = np.ones(t.shape, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = logistic_fit_batch(X, t, valid)
        w = ps_weights_batch(fit.ps, t, valid, estimand="ATT", stabilized=True)
        want = weighted_difference_batch(y, t, w.weights, valid, se_type="HC0")
        estimate, z, defined = att_difference_from_cells(c[None], p)
    assert defined[0] == want.defined[0]
    close(estimate, want.estimate, rtol=1e-9, atol=1e-12)
    close(z, want.statistic, rtol=1e-9, atol=1e-12)


@settings(derandomize=True, max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(0, 2**32 - 1), st.sampled_from(["binary", "covariate 0.5", "outcome 2"]))
def test_cells_counted_arm_by_arm_are_those_of_the_joined_arms(p: int, seed: int, value: str) -> None:
    """The engine counts a propensity comparison's cells arm by arm (compiled, from each arm's covariates, outcomes
    and patients seen at the look, of any layout) instead of joining and masking the two arms' arrays: the same
    counts, so the same comparison as att_difference_over_cells; a covariate or outcome that is neither 0 nor 1
    in a valid patient is reported (the caller then takes the general path), and does not matter outside them."""
    from condapprove.kernels.propensity import _count_cells, att_difference_from_cells, att_difference_over_cells
    from condapprove.simulation._counts_jit import add_cells

    rng = np.random.default_rng(seed)
    m, arms = 30, (25, 17)
    xs = [(rng.random((n, m, p)) < 0.4).astype(np.float64).transpose(1, 0, 2) for n in arms]  # the engine's layout
    ys = [(rng.random((m, n)) < 0.3).astype(np.float64) for n in arms]
    valid = [rng.random((m, n)) < 0.7 for n in arms]
    for x, y, v in zip(xs, ys, valid):  # what invalid patients hold does not matter
        x[~v] = 0.5
        y[~v] = 3.0
    if value != "binary":
        i, j = 4, int(np.flatnonzero(valid[1][4])[0])
        if value == "covariate 0.5":
            xs[1][i, j, p - 1] = 0.5
        else:
            ys[1][i, j] = 2.0
    counts = np.zeros((m, 2 ** (p + 2)))
    ok = add_cells(xs[0], ys[0], valid[0], True, counts) and add_cells(xs[1], ys[1], valid[1], False, counts)
    v = np.concatenate(valid, axis=1)
    X = np.where(v[:, :, None], np.concatenate(xs, axis=1), 0.0)
    y = np.where(v, np.concatenate(ys, axis=1), 0.0)
    t = np.concatenate([np.ones((m, arms[0]), dtype=bool), np.zeros((m, arms[1]), dtype=bool)], axis=1) & v
    joined = att_difference_over_cells(X, t, y, v)
    assert ok == (value == "binary") == (joined is not None)
    if ok:
        _, want = _count_cells(X, t.astype(np.int64) + 2 * y.astype(np.int64), 2, v)
        np.testing.assert_array_equal(counts, want)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = att_difference_from_cells(counts, p)
        for a, b in zip(got, joined):
            np.testing.assert_array_equal(a, b)
