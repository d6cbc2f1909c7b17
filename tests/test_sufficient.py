"""The sufficient-statistics path against the patient-level path (the reference model).

Both simulate the same model; they use different random numbers, so every reported figure must agree
within Monte-Carlo error: |a - b| <= 4 sqrt(se_a^2 + se_b^2) for probabilities and means (about 6e-5
chance of a false alarm per comparison under independence).  The designs exercise what the sufficient
path has to get right: month looks and the cut-off (conditional binomial counts), dropout (thinning),
ramp-up and rate changes, unequal allocation, an external cohort, futility rules, Bayesian rules,
assurance and dilution.
"""

from __future__ import annotations

import math
import random
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import condapprove
from condapprove.errors import DesignError, DesignErrors, DesignWarning
from condapprove.simulation import sufficient
from condapprove.simulation.statistics import _t_to_z, _t_to_z_exact
from condapprove.spec import design_from_mapping

FIGURES = ("p_confirmed", "p_futility", "p_not_confirmed", "p_undecided", "p_target_not_reached",
           "mean_decision_month", "expected_treated_enrolled", "expected_treated_evaluable",
           "expected_controls_enrolled", "expected_controls_evaluable", "mean_estimate", "mean_true_effect")

BIN = {"type": "binary", "followup_months": 6}
CONT = {"type": "continuous", "sd": 10.0, "followup_months": 6}

CASES: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "benchmark-binary-gs-cutoff": (
        {"study": "use_results_survey", "endpoint": BIN,
         "treated": {"accrual": {"rate_per_month": 0.9, "ramp_up_months": 12}, "target_n": 60, "dropout": 0.1},
         "control": {"kind": "benchmark", "rate": 0.3},
         "analyses": [{"patients": 20}, {"patients": 40}],
         "decision": {"rule": "group_sequential", "spending": "obrien-fleming"}},
        [{"name": "modest", "treated_rate": 0.45}]),
    "paired-binary-month-look-cp-futility": (
        {"study": "clinical_trial", "endpoint": BIN,
         "treated": {"accrual": {"rate_per_month": 1.0, "ramp_up_months": 6,
                                 "rate_changes": [{"month": 30, "rate_per_month": 0.5}]},
                     "target_n": 50, "dropout": 0.15},
         "control": {"kind": "concurrent", "ratio": 1, "dropout": 0.15},
         "analyses": [{"month": 30}],
         "decision": {"rule": "group_sequential", "futility_conditional_power_below": 0.2}},
        [{"name": "alt", "treated_rate": 0.55, "control_rate": 0.3}]),
    "paired-continuous-pocock-early-stopping": (  # (looks screened: most replicates stop at the first)
        {"study": "clinical_trial", "endpoint": CONT,
         "treated": {"accrual": {"rate_per_month": 3.0, "ramp_up_months": 3}, "target_n": 60, "dropout": 0.1},
         "control": {"kind": "concurrent", "ratio": 1, "dropout": 0.1},
         "analyses": [{"patients": 40}, {"information": 0.6}, {"patients": 90}],
         "decision": {"rule": "group_sequential", "spending": "pocock"}},
        [{"name": "strong", "treated_mean": 12.0, "control_mean": 0.0}]),
    "benchmark-continuous-obf-cutoff": (  # (looks screened; the cut-off ends some replicates before their looks)
        {"study": "use_results_survey", "endpoint": CONT,
         "treated": {"accrual": {"rate_per_month": 0.6, "ramp_up_months": 12}, "target_n": 50},
         "control": {"kind": "benchmark", "mean": 0.0},
         "analyses": [{"patients": 15}, {"patients": 30}],
         "decision": {"rule": "group_sequential", "spending": "obrien-fleming"}},
        [{"name": "modest", "treated_mean": 5.0}]),
    "paired-continuous-2to1-information-zfutility": (
        {"study": "clinical_trial", "endpoint": CONT,
         "treated": {"accrual": {"rate_per_month": 1.2, "start_month": 6}, "target_n": 40},
         "control": {"kind": "concurrent", "ratio": 0.5},
         "analyses": [{"information": 0.5}, {"month": 40}],
         "decision": {"rule": "group_sequential", "spending": "pocock", "futility_z_below": [0.0, 0.5]}},
        [{"name": "alt", "treated_mean": 8.0, "control_mean": 2.0}]),
    "benchmark-continuous-bayesian": (
        {"study": "clinical_trial", "endpoint": CONT,
         "treated": {"accrual": {"rate_per_month": 0.8}, "target_n": 30, "dropout": 0.2},
         "control": {"kind": "benchmark", "mean": 0.0},
         "analyses": [{"patients": 10}, {"month": 36}],
         "decision": {"rule": "bayesian", "threshold": 0.975, "futility_below": 0.2,
                      "prior": {"normal": [0.0, 20.0]}}},
        [{"name": "alt", "treated_mean": 5.0}]),
    "external-binary-fisher": (
        {"study": "use_results_survey", "endpoint": BIN,
         "treated": {"accrual": {"rate_per_month": 0.4}, "target_n": 30},
         "control": {"kind": "external", "n": 80}},
        [{"name": "a", "treated_rate": 0.55, "control_rate": 0.3}]),
    "assurance-binary-bayesian-dilution": (
        {"study": "use_results_survey", "endpoint": BIN,
         "treated": {"accrual": {"rate_per_month": 1.0, "ramp_up_months": 6}, "target_n": 50},
         "control": {"kind": "benchmark", "rate": 0.25},
         "heterogeneity": {"dilution": 0.7},
         "analyses": [{"patients": 25}],
         "decision": {"rule": "bayesian", "threshold": 0.95}},
        [{"name": "assurance", "treated_rate": {"beta": [8, 12]}}]),
    "paired-binary-slow-fixed": (
        {"study": "clinical_trial", "endpoint": {"type": "binary", "followup_months": 0},
         "treated": {"accrual": {"rate_per_month": 0.35}, "target_n": 40},
         "control": {"kind": "concurrent", "ratio": 1},
         "analyses": [{"patients": 30}, {"month": 24}],
         "decision": {"rule": "group_sequential"}},
        [{"name": "alt", "treated_rate": 0.6, "control_rate": 0.3}]),
}


def _design(post: dict[str, Any], scenarios: list[dict[str, Any]]) -> condapprove.Design:
    return design_from_mapping({"name": "sufficient", "approval": {"date": "2020-01-01", "time_limit_years": 5,
                                                                  "filing_lead_months": 6},
                                "post_marketing": post, "scenarios": scenarios})


def _run(design: condapprove.Design, n: int, seed: int) -> condapprove.SimulationResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        return condapprove.simulate(design, replicates=n, seed=seed)


@pytest.mark.parametrize("case", sorted(CASES))
def test_sufficient_path_matches_patient_level(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    design = _design(*CASES[case])
    assert sufficient.eligible(design)
    fast = _run(design, 16_384, seed=1).scenarios[0]
    monkeypatch.setattr(sufficient, "eligible", lambda d: False)
    slow = _run(design, 16_384, seed=2).scenarios[0]
    compared = 0
    for name in FIGURES:
        a, b = getattr(fast, name), getattr(slow, name)
        if a is None or b is None:
            assert a is None and b is None, name
            continue
        tol = 4 * math.hypot(a.mcse, b.mcse) + 1e-9
        assert abs(a.value - b.value) <= tol, f"{name}: {a.value:.5f} vs {b.value:.5f} (tolerance {tol:.5f})"
        compared += 1
    for a, b in zip(fast.p_confirmed_by_look, slow.p_confirmed_by_look, strict=True):
        assert abs(a.value - b.value) <= 4 * math.hypot(a.mcse, b.mcse) + 1e-9
    assert compared >= 9


def test_ineligible_designs_stay_patient_level() -> None:
    post, scen = CASES["benchmark-binary-gs-cutoff"]
    for extra in ({"heterogeneity": {"lot_size": 5, "lot_sd": 0.3}},
                  {"heterogeneity": {"sites": 3, "site_sd": 0.3}},
                  {"treated": {**post["treated"], "accrual": {"rate_per_month": 2, "capacity_per_month": 1}}}):
        assert not sufficient.eligible(_design({**post, **extra}, scen))


def test_chunking_does_not_change_sufficient_results() -> None:
    design = _design(*CASES["paired-binary-month-look-cp-futility"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)  # the slow accrual is the point: the cut-off binds
        a = condapprove.simulate(design, replicates=3 * 2048 + 100, seed=7, chunk_size=2048)
        b = condapprove.simulate(design, replicates=3 * 2048 + 100, seed=7, chunk_size=4 * 2048)
    assert a.scenarios == b.scenarios


@pytest.mark.parametrize("case", sorted(CASES))
def test_draws_by_state_words_are_the_generators_draws(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk draws every block's rows in one compiled call on the streams' state words; without words (a root
    whose entropy is not an integer has none) each block's generator draws them: the same numbers either way."""
    from condapprove.simulation.population import Streams

    design = _design(*CASES[case])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        by_words = condapprove.simulate(design, replicates=2 * 2048 + 50, seed=11, chunk_size=4096)
        monkeypatch.setattr(Streams, "words_of", staticmethod(lambda streams, purpose: None))
        by_generators = condapprove.simulate(design, replicates=2 * 2048 + 50, seed=11, chunk_size=4096)
    assert by_words.scenarios == by_generators.scenarios


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.integers(1, 6000), st.integers(0, 2**32 - 1))
def test_t_to_z_of_a_row_does_not_depend_on_the_other_rows(m: int, seed: int) -> None:
    """Each row's z depends on its own t and df alone (so a replicate's z does not depend on how the replicates
    are cut into chunks): any subset of rows, transformed alone, gives the same numbers; rows of one common df,
    of rare dfs, below 1 or NaN, and |t| beyond the table included."""
    rng = np.random.default_rng(seed)
    t = rng.choice(np.array([-12.0, -3.0, -0.5, 0.0, 0.7, 2.5, 9.0]), size=m) + rng.normal(0.0, 0.1, m)
    df = rng.choice(np.array([0.5, 1.0, 3.0, 58.0, 118.0, np.nan]), size=m, p=[0.05, 0.1, 0.1, 0.05, 0.65, 0.05])
    z = _t_to_z(t, df)
    for _ in range(3):
        sel = rng.random(m) < rng.random()
        np.testing.assert_array_equal(_t_to_z(t[sel], df[sel]), z[sel])
    ok = df >= 1.0
    assert np.max(np.abs(z[ok] - _t_to_z_exact(t[ok], df[ok])), initial=0.0) < 1e-9


@pytest.mark.parametrize("df", [1.0, 2.0, 3.0, 7.0, 10.0, 15.0, 29.0, 118.0, 1e4, 1e7])
def test_interpolated_t_to_z_is_within_1e9_of_the_exact_transform(df: float) -> None:
    """Both tables (|t| < 8, and 8 <= |t| < 32 on the coarser outer grid) and the exact transform beyond 32."""
    rng = np.random.default_rng(int(df))
    t = np.concatenate([rng.uniform(-9.0, 9.0, 50_000), rng.uniform(8.0, 32.0, 50_000) * rng.choice([-1, 1], 50_000),
                        np.array([8.0, -8.0, 32.0, -32.0, 31.999999, 40.0, -1e3])])
    d = np.full(t.size, df)
    assert np.max(np.abs(_t_to_z(t, d) - _t_to_z_exact(t, d))) < 1e-9


def test_t_to_z_beyond_the_first_table_takes_the_outer_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """|t| between 8 and 32 is interpolated (not sent to the exact transform, which is some 46 times slower), and
    the outer table of a df is made only when a t needs it."""
    from condapprove.simulation import statistics

    statistics._T_OUTER_TABLES.pop(118.0, None)
    statistics._t_interpolated(np.array([0.5, -7.9]), 118.0)
    assert 118.0 not in statistics._T_OUTER_TABLES
    calls: list[int] = []
    exact = statistics._t_to_z_exact

    def counted(t: np.ndarray, df: Any) -> np.ndarray:
        calls.append(np.size(t))
        return exact(t, df)

    monkeypatch.setattr(statistics, "_t_to_z_exact", counted)
    statistics._t_interpolated(np.array([0.5, 9.0, -20.0, 31.5, 33.0]), 118.0)
    assert 118.0 in statistics._T_OUTER_TABLES
    assert calls == [statistics._T_OUTER_GRID.size, 1]  # the outer table's grid, then 33.0 alone


def _numpy_pooled_t_z(nt: np.ndarray, st: np.ndarray, sst: np.ndarray, nc: np.ndarray, sc: np.ndarray,
                      ssc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference: the numpy code the compiled loops replaced (pooled t, then _t_to_z's choice of the interpolated
    or the exact transform, with its cubic Hermite interpolation written out)."""
    from condapprove.simulation.statistics import (
        _T_GRID,
        _T_HALF,
        _T_OUTER_GRID,
        _T_OUTER_HALF,
        _T_OUTER_STEP,
        _T_STEP,
        _t_table,
        _var,
    )

    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = np.where(nt > 0, st / np.maximum(nt, 1), np.nan)
        mean_c = np.where(nc > 0, sc / np.maximum(nc, 1), np.nan)
        info = np.where((nt > 0) & (nc > 0), nt * nc / np.maximum(nt + nc, 1), 0.0)
    var_t, var_c = _var(nt, st, sst), _var(nc, sc, ssc)
    df = nt + nc - 2
    pooled = ((nt - 1) * var_t + (nc - 1) * var_c) / np.maximum(df, 1)
    se = np.sqrt(pooled * (1 / np.maximum(nt, 1) + 1 / np.maximum(nc, 1)))
    ok = (nt > 1) & (nc > 1) & (se > 0)
    t = np.where(ok, (np.nan_to_num(mean_t) - np.nan_to_num(mean_c)) / np.where(ok, se, 1.0), 0.0)
    df = np.maximum(df, 1)
    z = _t_to_z_exact(t, df)
    for v in np.unique(df):  # every df >= 1 has its table, and its outer table where some |t| is beyond the first
        inner = np.abs(t) < _T_HALF
        for rows, half, step, grid, outer in (((df == v) & inner, _T_HALF, _T_STEP, _T_GRID, False),
                                              ((df == v) & ~inner & (np.abs(t) < _T_OUTER_HALF), _T_OUTER_HALF,
                                               _T_OUTER_STEP, _T_OUTER_GRID, True)):
            zg, dzg = _t_table(float(v), outer)
            x = (t[rows] + half) / step
            i = np.minimum(x.astype(np.int64), grid.size - 2)
            u = x - i
            u2, u3 = u * u, u * u * u
            z[rows] = ((2 * u3 - 3 * u2 + 1) * zg[i] + (u3 - 2 * u2 + u) * step * dzg[i]
                       + (-2 * u3 + 3 * u2) * zg[i + 1] + (u3 - u2) * step * dzg[i + 1])
    return z, mean_t - mean_c, info


@pytest.mark.parametrize("n_t,n_c,short", [(60, 60, 0), (2, 1, 0), (1, 1, 0), (150, 30, 0), (60, 60, 500),
                                            (60, 60, 2600), (8, 8, 4990)])
def test_compiled_pooled_t_gives_the_numbers_of_the_numpy_code(n_t: int, n_c: int, short: int) -> None:
    """The compiled two-arm t and the compiled interpolation of its z equal the numpy code they replaced to the
    last bit, including rows with an arm too small or without spread, |t| beyond the interpolation table, and
    rows (``short``) with fewer patients, as at a final analysis that some replicates reach without their
    targets (one or two tabulated degrees of freedom, or too few rows for any); and t is scipy's pooled t."""
    from scipy import stats as sps

    from condapprove.kernels._normal_jit import pooled_t
    from condapprove.simulation import statistics

    design = design_from_mapping({
        "name": "t", "approval": {"date": "2020-01-01", "time_limit_years": 7},
        "post_marketing": {"study": "clinical_trial", "endpoint": {"type": "continuous", "sd": 1.0},
                           "treated": {"accrual": {"rate_per_month": 10.0}, "target_n": 60},
                           "control": {"kind": "concurrent", "ratio": 1}},
        "scenarios": [{"name": "a", "treated_mean": 0.3, "control_mean": 0.0}]})
    rng = np.random.default_rng(n_t * 1000 + n_c)
    m = 5000
    total = n_t + n_c
    totals = np.full(m, total)
    totals[m - short:] = rng.integers(0, total, short) if short < 2600 else total - 3
    nt = np.floor(rng.random(m) * (totals + 1)).astype(np.float64)
    nt[:4] = [0, 1, total - 1, total]
    nc = totals - nt
    st = rng.normal(0.3, 1.0, m) * nt
    sc = rng.normal(0.0, 1.0, m) * nc
    sst = st * st / np.maximum(nt, 1) + rng.chisquare(np.maximum(nt - 1, 1)) * (nt > 1)
    ssc = sc * sc / np.maximum(nc, 1) + rng.chisquare(np.maximum(nc - 1, 1)) * (nc > 1)
    sst[10], ssc[10] = st[10] ** 2 / max(nt[10], 1), sc[10] ** 2 / max(nc[10], 1)  # no spread
    st[11] += 50.0 * nt[11]  # |t| far beyond the table
    got = statistics.statistics_from_sums(design, nt, st, sst, nc, sc, ssc)
    z, est, info = _numpy_pooled_t_z(nt, st, sst, nc, sc, ssc)
    np.testing.assert_array_equal(got.z, z)
    np.testing.assert_array_equal(got.estimate, est)
    np.testing.assert_array_equal(got.information, info)
    t = np.empty(m)
    df = np.maximum(nt + nc - 2, 1)  # (the rows' df when they are one number, returned: else NaN)
    np.testing.assert_equal(pooled_t(nt, st, sst, nc, sc, ssc, t, np.empty(m), np.empty(m)),
                            df[0] if (df == df[0]).all() else np.nan)
    assert np.isnan(pooled_t(*(np.empty(0),) * 9))
    ok = (nt > 1) & (nc > 1) & (t != 0)
    sd_t = np.sqrt(np.maximum(sst - st * st / np.maximum(nt, 1), 0) / np.maximum(nt - 1, 1))
    sd_c = np.sqrt(np.maximum(ssc - sc * sc / np.maximum(nc, 1), 0) / np.maximum(nc - 1, 1))
    ref = sps.ttest_ind_from_stats(st[ok] / nt[ok], sd_t[ok], nt[ok], sc[ok] / nc[ok], sd_c[ok], nc[ok]).statistic
    np.testing.assert_allclose(t[ok], ref, rtol=1e-9)


@pytest.mark.parametrize("n,short", [(90, 0), (2, 0), (1, 0), (30, 500), (60, 2600)])
def test_compiled_one_sample_t_gives_the_numbers_of_the_numpy_code(n: int, short: int) -> None:
    """One arm against a benchmark mean: the compiled t (and its z, estimate and information) equal the numpy code
    it replaced to the last bit, with empty and one-patient rows, rows without spread, |t| beyond the table and
    rows with fewer patients; and t is scipy's one-sample t."""
    from scipy import stats as sps

    from condapprove.kernels._normal_jit import one_sample_t
    from condapprove.simulation import statistics
    from condapprove.simulation.statistics import _t_to_z, _var

    mu0 = 0.25
    design = design_from_mapping({
        "name": "t1", "approval": {"date": "2020-01-01", "time_limit_years": 7},
        "post_marketing": {"study": "clinical_trial", "endpoint": {"type": "continuous", "sd": 1.0},
                           "treated": {"accrual": {"rate_per_month": 10.0}, "target_n": 60},
                           "control": {"kind": "benchmark", "mean": mu0}},
        "scenarios": [{"name": "a", "treated_mean": 0.5}]})
    rng = np.random.default_rng(n * 7 + short)
    m = 5000
    nt = np.full(m, float(n))
    nt[m - short:] = rng.integers(0, n + 1, short)
    nt[:3] = [0, 1, n]
    st = rng.normal(0.5, 1.0, m) * nt
    sst = st * st / np.maximum(nt, 1) + rng.chisquare(np.maximum(nt - 1, 1)) * (nt > 1)
    sst[1] += 1.0  # one patient: no variance, whatever the sum of squares
    sst[5] = st[5] ** 2 / max(nt[5], 1)  # no spread
    sst[6] = st[6] ** 2 / max(nt[6], 1) * (1 - 1e-15)  # a variance rounded below 0
    st[7] += 50.0 * nt[7]  # |t| far beyond the table
    got = statistics.statistics_from_sums(design, nt, st, sst, None, np.zeros(m), np.zeros(m))
    # the numpy code the compiled loop replaced
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = np.where(nt > 0, st / np.maximum(nt, 1), np.nan)
    var_t = _var(nt, st, sst)
    ok = (nt > 1) & (var_t > 0)
    t = np.where(ok, (np.nan_to_num(mean_t) - mu0) / np.sqrt(np.where(ok, var_t, 1.0) / np.maximum(nt, 1)), 0.0)
    np.testing.assert_array_equal(got.z, _t_to_z(t, np.maximum(nt - 1, 1)))
    np.testing.assert_array_equal(got.estimate, mean_t - mu0)
    np.testing.assert_array_equal(got.information, nt)
    np.testing.assert_array_equal(got.n_control, np.zeros(m))
    df = np.maximum(nt - 1, 1)
    np.testing.assert_equal(one_sample_t(nt, st, sst, mu0, np.empty(m), np.empty(m)),
                            df[0] if (df == df[0]).all() else np.nan)
    if n > 1:  # and one data set against scipy's t test on the raw data (z with the same one-sided p-value)
        one = rng.normal(0.5, 1.0, n)
        row = statistics.statistics_from_sums(design, np.array([float(n)]), np.array([one.sum()]),
                                              np.array([(one * one).sum()]), None, np.zeros(1), np.zeros(1))
        p_greater = sps.ttest_1samp(one, mu0, alternative="greater").pvalue
        np.testing.assert_allclose(row.z, sps.norm.isf(p_greater), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("decimals", [1, None])
def test_engine_look_keys_give_the_logrank_of_the_observed_data(decimals: int | None) -> None:
    """At a look the engine builds each patient's sort key as the smaller of its event-or-dropout key and its
    administrative-censoring key; that must give the log-rank of the data seen at the look (observe_at, then
    logrank_batch, itself checked against R's survdiff): with tied times (rounded) or without, patients not yet
    entered or never entered, patients with neither event nor dropout, and rows with one arm only."""
    from types import SimpleNamespace

    from condapprove.kernels.survival import logrank_batch, observe_at
    from condapprove.simulation.statistics import TtePatients, _tte_rows

    rng = np.random.default_rng(5)
    m, n, n_t = 600, 40, 20
    entry = np.sort(rng.uniform(0.0, 24.0, (m, n)), axis=1)
    entry[:3, n_t:] = np.inf  # no control ever entered: no comparison
    event_time = rng.exponential(10.0, (m, n))
    event_time[rng.random((m, n)) < 0.1] = np.inf
    dropout = np.where(rng.random((m, n)) < 0.3, rng.exponential(20.0, (m, n)), np.inf)
    if decimals is not None:
        event_time, dropout = np.round(event_time, decimals), np.round(dropout, decimals)  # ties
    first = np.minimum(event_time, dropout)
    is_event = np.isfinite(event_time) & (event_time <= dropout)
    arms = [SimpleNamespace(entry=entry[:, cols], y=event_time[:, cols], dropout_time=dropout[:, cols], scale=None,
                            arm=SimpleNamespace(process=object())) for cols in (slice(0, n_t), slice(n_t, n))]
    p = TtePatients.of(arms, full=True)  # type: ignore[arg-type]
    lean = TtePatients.of(arms)  # type: ignore[arg-type]
    assert lean.first.size == 0 and lean.is_event.size == 0  # two recruited arms: not needed
    np.testing.assert_array_equal(lean.first_key, p.first_key)
    np.testing.assert_array_equal(lean.calendar, p.calendar)
    np.testing.assert_array_equal(p.entry, entry)
    np.testing.assert_array_equal(p.first, first)
    np.testing.assert_array_equal(p.is_event, is_event)
    events = np.sort(np.where(is_event, entry + first, np.inf), axis=1)
    for k in (1, 7, n // 2, n, n + 1):  # the k-th event's month from the narrow order keys: the sorted rows' column
        np.testing.assert_array_equal(p.kth_event(k), events[:, k - 1] if k <= n else np.inf)
    tau = rng.uniform(6.0, 30.0, m)
    got = _tte_rows(p.entry, p.first, p.is_event, p.first_key, n_t, p.recruited, [tau], None)
    time, event, valid = observe_at(entry, event_time, dropout, tau)
    treated = np.zeros((m, n), dtype=bool)
    treated[:, :n_t] = True
    ref = logrank_batch(time, event, treated, valid)
    np.testing.assert_array_equal(got["events"][0], ref.events)
    np.testing.assert_array_equal(got["information"][0], ref.events)
    np.testing.assert_array_equal(got["n_treated"][0], ref.n_treated)
    np.testing.assert_array_equal(got["n_control"][0], ref.n_control)
    np.testing.assert_allclose(got["z"][0], ref.z, rtol=1e-10, atol=1e-12)
    assert np.all(ref.degenerate[:3]) and np.all(got["z"][0][:3] == 0.0)


@pytest.mark.parametrize("decimals", [1, None])
def test_information_beside_a_historical_cohort_is_the_treated_events_at_the_look(decimals: int | None) -> None:
    """Beside a historical cohort (not recruited: entered long before, observed to its events beyond the look), a
    look's information counts only the recruited patients' events, which are the treated arm's: the count of
    observe_at's treated events by the look, while the log-rank's events count both arms; with tied times
    (rounded) or without."""
    from types import SimpleNamespace

    from condapprove.kernels.survival import observe_at
    from condapprove.simulation.statistics import TtePatients, _tte_rows

    rng = np.random.default_rng(6)
    m, n_t, n_c = 500, 20, 30
    entry = np.concatenate([np.sort(rng.uniform(0.0, 24.0, (m, n_t)), axis=1), np.full((m, n_c), -1e12)], axis=1)
    event_time = rng.exponential(10.0, (m, n_t + n_c))
    dropout = np.where(rng.random((m, n_t + n_c)) < 0.3, rng.exponential(20.0, (m, n_t + n_c)), np.inf)
    dropout[:, n_t:] = np.inf
    if decimals is not None:
        event_time[:, :n_t], dropout[:, :n_t] = np.round(event_time[:, :n_t], decimals), np.round(dropout[:, :n_t],
                                                                                                    decimals)
    arms = [SimpleNamespace(entry=entry[:, :n_t], y=event_time[:, :n_t], dropout_time=dropout[:, :n_t], scale=None,
                            arm=SimpleNamespace(process=object())),
            SimpleNamespace(entry=entry[:, n_t:], y=event_time[:, n_t:], dropout_time=dropout[:, n_t:], scale=None,
                            arm=SimpleNamespace(process=None))]
    p = TtePatients.of(arms)  # type: ignore[arg-type]
    assert p.first.size == 0 and not p.recruited[n_t:].any()  # first and is_event: not needed for two arms
    tau = rng.uniform(6.0, 30.0, m)
    got = _tte_rows(p.entry, p.first, p.is_event, p.first_key, n_t, p.recruited, [tau], None)
    _, event, valid = observe_at(entry[:, :n_t], event_time[:, :n_t], dropout[:, :n_t], tau)
    treated_events = np.count_nonzero(event & valid, axis=1)
    np.testing.assert_array_equal(got["information"][0], treated_events)
    assert (got["events"][0] > got["information"][0]).all()  # the cohort's events are in the log-rank


@pytest.mark.parametrize("kind", ["continuous", "near", "rounded", "cohort"])
def test_engine_narrow_look_keys_give_the_wide_keys_numbers(kind: str, monkeypatch: Any) -> None:
    """The engine sorts narrow (uint32) look keys and analyses again with the wide (uint64) keys each row where two
    times may have merged, and every remaining row once merged rows are common: its log-rank numbers are the wide
    keys' bit for bit, with continuous times (no row again), with a dropout a relative 1e-12 before an event in
    every tenth row (those rows again), with times rounded to 0.1 month (ties in most rows: the narrow keys
    given up after the first block of rows), and against a historical cohort entered long before, observed to its
    events beyond the looks' months (not analysed again: no row here)."""
    from types import SimpleNamespace

    from condapprove.kernels._tte_jit import look_keys
    from condapprove.kernels.survival import logrank_sums, logrank_z
    from condapprove.simulation import statistics
    from condapprove.simulation.statistics import TtePatients, _tile_rows, _tte_rows

    rng = np.random.default_rng(8)
    n, n_t = 40, 20
    tile = _tile_rows(n)
    m = 2 * tile + 188  # three tiles: the give-up in the first, the second wide whole
    entry = np.sort(rng.uniform(0.0, 24.0, (m, n)), axis=1)
    event_time = rng.exponential(10.0, (m, n))
    dropout = np.where(rng.random((m, n)) < 0.3, rng.exponential(20.0, (m, n)), np.inf)
    if kind == "near":
        entry[::10, [0, n_t]] = 0.0
        dropout[::10, 0], event_time[::10, 0] = 5.0, np.inf
        event_time[::10, n_t], dropout[::10, n_t] = 5.0 * (1 + 1e-12), np.inf
    if kind == "rounded":
        event_time, dropout = np.round(event_time, 1), np.round(dropout, 1)
    if kind == "cohort":  # as the engine enters an external cohort: long before month 0
        entry[:, n_t:] = -1e12
        event_time[:, n_t:] = rng.exponential(40.0, (m, n - n_t))
    arms = [SimpleNamespace(entry=entry[:, cols], y=event_time[:, cols], dropout_time=dropout[:, cols], scale=None,
                            arm=SimpleNamespace(process=None if kind == "cohort" and c else object()))
            for c, cols in enumerate((slice(0, n_t), slice(n_t, n)))]
    p = TtePatients.of(arms)  # type: ignore[arg-type]
    taus = [rng.uniform(6.0, 30.0, m) for _ in range(3)]
    wide_rows = []
    real = statistics._wide_logrank
    monkeypatch.setattr(statistics, "_wide_logrank", lambda idx, *a: (wide_rows.append(idx.size), real(idx, *a)))
    got = _tte_rows(p.entry, p.first, p.is_event, p.first_key, n_t, p.recruited, taus, None)
    code = np.uint64(2) | (np.arange(n) < n_t).astype(np.uint64)
    for j, tau in enumerate(taus):
        key = np.empty((m, n), dtype=np.uint64)
        nv, nt, o1, events = (np.empty(m, dtype=np.int64) for _ in range(4))
        e1, var = np.empty(m), np.empty(m)
        look_keys(p.entry, tau, p.first_key, code, key, nv, nt)
        logrank_sums(key, nv, nt, e1, var, o1, events)
        z, _ = logrank_z(e1, var, o1)
        np.testing.assert_array_equal(got["z"][j], np.where(np.isfinite(z), z, 0.0))
        np.testing.assert_array_equal(got["events"][j], events)
        np.testing.assert_array_equal(got["n_treated"][j], nt)
        np.testing.assert_array_equal(got["n_control"][j], nv - nt)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.testing.assert_array_equal(got["estimate"][j], np.where(var == 0, np.nan, (o1 - e1) / var))
    if kind in ("continuous", "cohort"):
        assert wide_rows == []
    elif kind == "near":  # rows with the pair observed at the look (and merged), in every block
        assert 0 < sum(wide_rows) <= len(taus) * len(range(0, m, 10)) and max(wide_rows) < tile
    else:
        assert wide_rows.count(tile) == 3  # the second tile's rows, whole, at each look
        assert wide_rows[-1] == m - 2 * tile


def test_the_log_ranks_tiles_grow_for_rows_of_few_patients() -> None:
    """The two-arm log-rank runs its looks on tiles of 2,048 rows of up to 128 patients, 1,024 of up to 256, and 512
    of more (a look of a tile costs calls and steps between compiled loops whatever its rows' patients)."""
    from condapprove.simulation.statistics import _tile_rows

    assert [_tile_rows(n) for n in (0, 1, 100, 128, 129, 256, 257, 600, 5000)] == [2048] * 4 + [1024] * 2 + [512] * 3


def _random_design(rnd: random.Random) -> dict[str, Any]:
    """A random binary or continuous design of the kinds the sufficient path takes (or refuses, for the loader)."""
    ep = rnd.choice(["binary", "continuous"])
    endpoint = {"type": ep, "followup_months": rnd.choice([0, 3, 6, 12])}
    if ep == "continuous":
        endpoint["sd"] = rnd.choice([1.0, 5.0])
    ctrl_kind = rnd.choice(["benchmark", "concurrent", "external"])
    n = rnd.choice([5, 12, 30, 60])
    acc = {"rate_per_month": rnd.choice([0.3, 1.0, 3.0, 20.0])}
    if rnd.random() < 0.4: acc["ramp_up_months"] = rnd.choice([3, 12])
    if rnd.random() < 0.3: acc["rate_changes"] = [{"month": rnd.choice([10, 24]), "rate_per_month": rnd.choice([0.0, 0.5, 5.0])}]
    treated = {"accrual": acc, "target_n": n}
    if rnd.random() < 0.5: treated["dropout"] = rnd.choice([0.1, 0.3])
    post = {"study": "clinical_trial", "endpoint": endpoint, "treated": treated}
    if ctrl_kind == "benchmark":
        post["control"] = {"kind": "benchmark", ("rate" if ep == "binary" else "mean"): (0.3 if ep == "binary" else 0.0)}
    elif ctrl_kind == "concurrent":
        ratio = rnd.choice([1, 2, 0.5])
        post["control"] = {"kind": "concurrent", "ratio": ratio}
        if rnd.random() < 0.3 and "dropout" in treated: post["control"]["dropout"] = treated["dropout"]
    else:
        post["control"] = {"kind": "external", "n": rnd.choice([10, 50])}
    looks = []
    for _ in range(rnd.choice([0, 1, 2])):
        kind = rnd.choice(["patients", "month", "information"])
        looks.append({"patients": rnd.randint(1, n + 5)} if kind == "patients" else {"month": rnd.choice([6, 18, 30, 50])} if kind == "month" else {"information": rnd.choice([0.3, 0.5, 0.8])})
    if looks: post["analyses"] = looks
    dec = rnd.choice(["fixed", "gs", "gs_fut", "bayes"])
    if dec == "gs" or (looks and dec == "fixed"): post["decision"] = {"rule": "group_sequential", "spending": rnd.choice(["obrien-fleming", "pocock"])}
    elif dec == "gs_fut": post["decision"] = {"rule": "group_sequential", "futility_conditional_power_below": 0.2}
    elif dec == "bayes": post["decision"] = {"rule": "bayesian", "threshold": 0.95, **({"futility_below": 0.1} if rnd.random() < 0.5 else {})}
    if ep == "binary":
        sc = {"name": "s", "treated_rate": rnd.choice([0.3, 0.5, {"beta": [5, 5]}])}
        if ctrl_kind != "benchmark": sc["control_rate"] = 0.3
    else:
        sc = {"name": "s", "treated_mean": rnd.choice([0.0, 0.5, 2.0])}
        if ctrl_kind != "benchmark": sc["control_mean"] = 0.0
    if rnd.random() < 0.2: post["heterogeneity"] = {"dilution": 0.6}
    data = {"name": "stress", "approval": {"date": "2020-01-01", "time_limit_years": rnd.choice([3, 5, 7]), "filing_lead_months": 6},
            "post_marketing": post, "scenarios": [sc]}
    return data


@pytest.mark.slow
def test_random_designs_agree_between_the_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """120 random designs (endpoints, controls, ratios, accrual changes, dropout, looks of every kind, every decision
    rule, assurance, dilution, cut-offs that bind or not): every figure agrees within 4.5 combined MCSE, no crash."""
    rnd = random.Random(20261128)
    checked = 0
    for _ in range(120):
        try:
            design = design_from_mapping(_random_design(rnd))
        except (DesignError, DesignErrors):
            continue
        if not sufficient.eligible(design):
            continue
        fast = _run(design, 8192, seed=1).scenarios[0]
        with monkeypatch.context() as mp:
            mp.setattr(sufficient, "eligible", lambda d: False)
            slow = _run(design, 8192, seed=2).scenarios[0]
        for name in FIGURES:
            a, b = getattr(fast, name), getattr(slow, name)
            assert (a is None) == (b is None), name
            if a is not None:
                assert abs(a.value - b.value) <= 4.5 * math.hypot(a.mcse, b.mcse) + 1e-9, (name, a, b)
        checked += 1
    assert checked >= 60


@pytest.mark.parametrize(("n_values", "p_varies"), [((5,), False), ((0, 3, 7), False), (tuple(range(10)), False),
                                                   ((5,), True)])
def test_chunk_binomials_are_the_blocks_binomials(n_values: tuple[int, ...], p_varies: bool) -> None:
    """Binomial increments drawn for a whole chunk (uniforms in place, one table lookup; or, when the chunk is not
    invertible, block by block) are the numbers each block's own stream gives on its own, bit for bit."""
    from condapprove.simulation.population import Streams

    root = np.random.SeedSequence(7)
    sizes = [5, 3, 4]
    rng = np.random.default_rng(1)
    n = rng.choice(np.array(n_values), size=(sum(sizes), 3))
    p = rng.uniform(0.2, 0.8, (sum(sizes), 1)) if p_varies else np.full((sum(sizes), 1), 0.35)
    p = np.broadcast_to(p, n.shape)
    got = sufficient._binomial_blocks(sufficient._Blocks([Streams(root, (0, b)) for b in range(3)], sizes), "y", n, p)
    blocks = sufficient._Blocks([Streams(root, (0, b)) for b in range(3)], sizes)
    expected = np.concatenate([sufficient._binomial(st("y"), n[sl], p[sl]) for st, sl in zip(blocks.streams,
                                                                                              blocks.slices)])
    np.testing.assert_array_equal(got, expected)
    assert np.all((got >= 0) & (got <= n))


def test_chunk_binomials_with_a_rate_numpy_refuses_raise_numpys_error() -> None:
    """A rate outside [0, 1] (NaN) reaches numpy's own call, which says so, as it did before the compiled draws."""
    from condapprove.simulation.population import Streams

    blocks = sufficient._Blocks([Streams(np.random.SeedSequence(7), (0, b)) for b in range(2)], [3, 2])
    n = np.arange(10, dtype=np.int64).reshape(5, 2)
    p = np.full((5, 2), 0.4)
    p[4, 1] = np.nan
    with pytest.raises(ValueError, match="p"):
        sufficient._binomial_blocks(blocks, "y", n, p)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=5), st.booleans(), st.integers(0, 2**32 - 1), st.booleans())
def test_normal_draws_are_numpys_per_block(increments: list[int], rows_differ: bool, seed: int,
                                           listed_entropy: bool) -> None:
    """A continuous design's normals and half chi-squares (gammas of shape (d - 1) / 2) are, block by block, the
    numbers numpy's ``standard_normal`` and then ``standard_gamma`` give from the block's own stream: whether every
    look adds as many patients (one shape), each look its own number in every row (a shape per column, such as
    33, 33 and 34 patients: drawn in the compiled loop), or the rows differ (numpy's own call); drawn on the
    streams' words, or through each block's generator where the root's entropy is a list (no words).  Both arrays
    are column-major, as :func:`condapprove.kernels._normal_jit.normal_sums` reads them."""
    from condapprove.simulation.population import Streams

    root = np.random.SeedSequence([seed, 1] if listed_entropy else seed)
    sizes = [5, 3, 4]
    d = np.tile(np.array(increments, dtype=np.int64), (sum(sizes), 1))
    if rows_differ:
        d[3] += 1
    z, half_chi2 = sufficient._normal_draws(sufficient._Blocks([Streams(root, (0, b)) for b in range(3)], sizes),
                                            "y", d)
    blocks = sufficient._Blocks([Streams(root, (0, b)) for b in range(3)], sizes)
    want_z, want_g = [], []
    for stream, sl in zip(blocks.streams, blocks.slices):
        rng = stream("y")
        want_z.append(rng.standard_normal((sl.stop - sl.start, d.shape[1])))
        want_g.append(rng.standard_gamma(np.maximum(d[sl] - 1.0, 0.0) / 2.0))
    np.testing.assert_array_equal(z, np.concatenate(want_z))
    np.testing.assert_array_equal(half_chi2, np.concatenate(want_g))
    assert z.flags.f_contiguous and half_chi2.flags.f_contiguous


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_counts_skip_only_draws_that_use_no_random_number(seed: int, share_at_points: float) -> None:
    """A count between two known points skips the rows with p = 0 (queries at a known point) and the blocks left
    without rows, as numpy draws nothing for them: the counts, the points remembered and every stream's state
    afterwards are those of drawing a binomial for every row with patients between, block by block."""
    from condapprove.simulation.population import Streams

    root = np.random.SeedSequence(seed)
    rng = np.random.default_rng(seed)
    sizes = [6, 1, 5, 4]
    m = sum(sizes)
    pos = np.sort(rng.exponential(20.0, (m, 3)), axis=1).T  # three known points per row: patients 20, 40, 60
    ks = np.array([20, 40, 60])

    def query() -> np.ndarray:
        u = rng.uniform(0.0, 1.2 * pos[-1])
        at = rng.random(m) < share_at_points
        u[at] = pos[rng.integers(0, 3, m), np.arange(m)][at]  # exactly at a known point: p = 0
        u[sizes[0]:sizes[0] + sizes[1]] = pos[0, sizes[0]]  # a whole block at a known point
        return u

    queries = [query(), query(), query()]  # three: more than the room made at first (two), so the points grow
    blocks = sufficient._Blocks([Streams(root, (0, b)) for b in range(len(sizes))], sizes)
    known = sufficient._Known(pos.T, ks)
    got = [blocks.count(known, u).copy() for u in queries]
    # the reference: every row with patients between gets its binomial draw, every block draws
    ref_blocks = sufficient._Blocks([Streams(root, (0, b)) for b in range(len(sizes))], sizes)
    ref_known = sufficient._Known(pos.T, ks)
    for u, g in zip(queries, got):
        c, n_between, p_between, _ = ref_known.prepare(u)
        need = n_between > 0
        c[need] += np.concatenate([st("sufficient:counts").binomial(n_between[sl][need[sl]], p_between[sl][need[sl]])
                                   for st, sl in zip(ref_blocks.streams, ref_blocks.slices)])
        ref_known.remember(u, c)
        np.testing.assert_array_equal(g, c)
    assert known.k == ref_known.k == 3  # every count remembered (more than the room made at first: it grew)
    np.testing.assert_array_equal(known.count[:3], ref_known.count[:3])
    for a, b in zip(blocks.streams, ref_blocks.streams):  # the streams are where the reference left them
        np.testing.assert_array_equal(a("sufficient:counts").random(3), b("sufficient:counts").random(3))


def test_known_points_need_one_patient_per_column_the_last_the_nth() -> None:
    """The entries' patients name the columns of the entries, and the last column is the last patient's (the count
    at or after it is all the patients): a mismatch is refused rather than read past the columns."""
    pos = np.sort(np.random.default_rng(3).exponential(20.0, (4, 3)), axis=1)
    known = sufficient._Known(pos, np.array([20, 40, 60]))
    assert (known.k, known.n) == (0, 60)
    _, between, frac, draws = known.prepare(pos[:, 2] * 2.0)  # beyond the last patient: all of them, none to draw
    assert draws == 0 and not between.any() and not frac.any()
    for patients in ([20, 40], [20, 40, 60, 80], []):
        with pytest.raises(ValueError, match="one patient per column"):
            sufficient._Known(pos, np.array(patients, dtype=np.int64))
    with pytest.raises(ValueError, match="one patient per column"):
        sufficient._Known(pos[0], np.array([20, 40, 60]))


def test_a_count_an_ulp_from_a_known_point_is_the_count_at_the_point() -> None:
    """A query computed back from a patient's entry month lands an ulp or so either side of the known point: both
    count the patient at the point and draw nothing (the query an ulp above used to draw a binomial with p about
    1e-16 for the patients up to the next point).  A query a millionth of a unit beyond still draws, and a chunk's
    last count (``remember=False``) leaves the known points as they were."""
    from condapprove.simulation.population import Streams

    m = 8
    rng = np.random.default_rng(5)
    pos = np.sort(rng.exponential(20.0, (m, 3)), axis=1).T
    ks = np.array([20, 40, 60])
    root = np.random.SeedSequence(5)

    def fresh() -> tuple[sufficient._Blocks, sufficient._Known]:
        return (sufficient._Blocks([Streams(root, (0, 0))], [m]),
                sufficient._Known(pos.T, ks))

    for u in (np.nextafter(pos[1], np.inf), np.nextafter(pos[1], -np.inf), pos[1]):
        blocks, known = fresh()
        _, between, frac, draws = known.prepare(u)
        assert draws == 0 and not frac.any()
        np.testing.assert_array_equal(blocks.count(known, u, remember=False), 40)
        assert known.k == 0  # not remembered
        untouched = Streams(root, (0, 0))("sufficient:counts").random(3)
        np.testing.assert_array_equal(blocks.streams[0]("sufficient:counts").random(3), untouched)  # nothing drawn
    blocks, known = fresh()
    beyond = pos[1] * (1 + 1e-6)
    _, between, frac, draws = known.prepare(beyond)
    assert draws == m and (frac > 0).all() and (between == 19).all()
    c = blocks.count(known, beyond)
    assert ((c >= 40) & (c <= 59)).all() and known.k == 1


@settings(derandomize=True, max_examples=100, deadline=None)
@given(st.one_of(st.integers(1, 80), st.integers(500, 700)), st.floats(0.001, 0.999), st.integers(0, 2**32 - 1))
def test_guide_table_inversion_is_numpys_binary_search(v: int, p: float, seed: int) -> None:
    """Binomial counts by inversion through a guide table equal ``np.searchsorted(cdf, u, side="right")`` capped
    at n, also for uniforms exactly at CDF values and at the table's cell edges, and only where n matches; with 32
    cells per value, with fewer (the cap on a table's cells) and with 4 (many trials)."""
    from condapprove.simulation._counts_jit import invert_cdf

    cdf, guide = sufficient._binomial_table(v, p)
    rng = np.random.default_rng(seed)
    cells = guide.size
    u = np.concatenate([rng.random(200), cdf[cdf < 1.0], np.nextafter(cdf[cdf < 1.0], 0.0),
                        np.arange(cells) / cells, np.nextafter(np.arange(1, cells) / cells, 0.0)])
    u = u[(u >= 0.0) & (u < 1.0)].reshape(1, -1)
    n = np.where(rng.random(u.shape) < 0.9, v, v + 1)
    out = np.full(u.shape, -1, dtype=np.int64)
    invert_cdf(u, n, v, cdf, guide, out)
    expected = np.where(n == v, np.minimum(np.searchsorted(cdf, u, side="right"), v), -1)
    np.testing.assert_array_equal(out, expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 40), looks=st.integers(1, 4),
       change=st.sampled_from(["none", "info", "nan", "inactive", "not final"]))
def test_one_pattern_is_the_numpy_test(seed: int, m: int, looks: int, change: str) -> None:
    """``_decide_jit.one_pattern``: ``active.all() and is_final[:, -1].all() and np.all(info == info[0])``, for rows
    that share one pattern and for one entry changed anywhere (NaN information equal to nothing, itself included)."""
    from condapprove.simulation._decide_jit import one_pattern

    rng = np.random.default_rng(seed)
    info = np.asfortranarray(np.tile(np.cumsum(rng.uniform(1, 50, looks)), (m, 1)))
    active = np.ones((m, looks), dtype=bool, order="F")
    is_final = np.zeros((m, looks), dtype=bool, order="F")
    is_final[:, -1] = True
    i, j = int(rng.integers(m)), int(rng.integers(looks))
    if change == "info":
        info[i, j] += 1.0
    elif change == "nan":
        info[i, j] = np.nan
    elif change == "inactive":
        active[i, j] = False
    elif change == "not final":
        is_final[i, -1] = False
    expected = bool(active.all()) and bool(is_final[:, -1].all()) and bool(np.all(info == info[0]))
    assert one_pattern(info, active, is_final) is expected
    assert expected is (change == "none" or (change == "info" and m == 1))  # (one row: its own pattern)


@pytest.mark.parametrize("control", [True, False])
def test_binary_statistics_gathered_by_outcomes_are_numpys(control: bool) -> None:
    """``_counts_jit.by_outcomes``: numpy's gather of three tables at ``xt * b + xc``."""
    from condapprove.simulation._counts_jit import by_outcomes

    rng = np.random.default_rng(5)
    a, b = 31, 21 if control else 1
    tables = [rng.normal(size=a * b) for _ in range(3)]
    xt = rng.integers(0, a, 500).astype(np.float64)
    xc = rng.integers(0, b, 500).astype(np.float64) if control else np.zeros(500)
    got = [np.empty(500) for _ in range(3)]
    by_outcomes(xt, xc, b, *tables, *got)
    idx = xt.astype(np.int64) * b + xc.astype(np.int64)
    for g, t in zip(got, tables):
        np.testing.assert_array_equal(g, t[idx])


def _counts_in_order(rng: np.random.Generator, m: int, looks: int, n: int, constant_looks: int) -> np.ndarray:
    """(m, looks) nondecreasing counts in [0, n], column-major, each row one of two patterns (so that each arm has at
    most eight numbers of new patients, drawn by inversion); the first ``constant_looks`` looks the same in every
    row (looks at fixed numbers of patients)."""
    patterns = np.sort(rng.integers(0, n + 1, (2, looks)), axis=1)
    patterns[1, :constant_looks] = patterns[0, :constant_looks]
    counts = np.sort(patterns[rng.integers(0, 2, m)], axis=1)
    return np.asfortranarray(counts)


@settings(derandomize=True, max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 30), looks=st.integers(1, 4),
       kind=st.sampled_from(["paired", "paired 2:1", "benchmark"]), constant_looks=st.integers(0, 4),
       endpoint=st.sampled_from(["binary", "continuous"]))
def test_compiled_sums_are_the_sorted_paths_numbers(seed: int, m: int, looks: int, kind: str, constant_looks: int,
                                                    endpoint: str) -> None:
    """``_compiled_sums`` (compiled passes per arm, binary or continuous) gives the numpy path's running counts, sums and
    sums of squares, bit for bit, from the same streams, and say which looks have the same count in every row."""
    from condapprove.simulation.population import Streams, Truth, arms_of

    binary = endpoint == "binary"
    post = {"study": "clinical_trial", "endpoint": BIN if binary else CONT,
            "treated": {"accrual": {"rate_per_month": 1.0}, "target_n": 12},
            "control": ({"kind": "benchmark", **({"rate": 0.3} if binary else {"mean": 1.0})} if kind == "benchmark"
                        else {"kind": "concurrent", "ratio": 0.5 if kind == "paired 2:1" else 1})}
    paired = kind != "benchmark"
    scenario = ({"name": "a", "treated_rate": 0.55} | ({"control_rate": 0.3} if paired else {}) if binary else
                {"name": "a", "treated_mean": 6.0} | ({"control_mean": 1.0} if paired else {}))
    design = _design(post, [scenario])
    arms = arms_of(design)
    stream = sufficient._stream(design, arms)
    rng = np.random.default_rng(seed)
    counts = _counts_in_order(rng, m, looks, stream.n, constant_looks)
    # (one rate for every row, as inversion needs; a mean per row, as assurance draws them)
    truth = Truth(treated=np.full((m, 1), 0.55) if binary else rng.normal(6.0, 1.0, (m, 1)),
                  reference=0.3 if binary else 1.0)
    sizes = [m // 2, m - m // 2] if m > 1 else [1]

    def blocks() -> sufficient._Blocks:
        return sufficient._Blocks([Streams(np.random.SeedSequence(seed), (0, b)) for b in range(len(sizes))], sizes)

    got = sufficient._compiled_sums(design, blocks(), arms, stream, truth, counts, paired)
    assert got is not None
    nt, sum_t, ss_t, nc, sum_c, ss_c = sufficient._sums_sorted(design, blocks(), arms, stream, truth, counts, paired)
    assert not binary or (ss_t is sum_t and ss_c is sum_c)  # (0/1 outcomes: y = y**2, summed once)
    (n1, s1, q1, same1), control = got
    for a, b in [(n1, nt), (s1, sum_t), (q1, ss_t)]:
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(same1, np.all(nt == nt[0], axis=0))
    assert (control is None) is (not paired)
    if control is not None:
        n2, s2, q2, same2 = control
        for a, b in [(n2, nc), (s2, sum_c), (q2, ss_c)]:
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(same2, np.all(nc == nc[0], axis=0))
        np.testing.assert_array_equal(n1 + n2, counts)  # every recruited patient in one arm
    if binary:
        assert bool(np.all(s1 <= n1)) and bool(np.all(np.diff(s1, axis=1) <= np.diff(n1, axis=1)))
    else:
        assert bool(np.all(np.diff(q1, axis=1) >= 0))  # sums of squared deviations only grow


@pytest.mark.parametrize("why", ["out of order", "rates vary", "many sizes"])
def test_compiled_binary_sums_leave_other_cases_to_the_numpy_path_without_drawing(why: str) -> None:
    """Counts out of order, rates that vary between rows, or more than eight numbers of new patients: None, and the
    streams are untouched (the numpy path then draws its own numbers from them)."""
    from condapprove.simulation.population import Streams, Truth, arms_of

    post = {"study": "clinical_trial", "endpoint": BIN, "treated": {"accrual": {"rate_per_month": 1.0},
                                                                   "target_n": 40},
            "control": {"kind": "concurrent", "ratio": 1}}
    design = _design(post, [{"name": "a", "treated_rate": 0.55, "control_rate": 0.3}])
    arms = arms_of(design)
    stream = sufficient._stream(design, arms)
    m = 30
    counts = np.asfortranarray(np.tile([10, 20, 40], (m, 1)))
    rates = np.full((m, 1), 0.55)
    if why == "out of order":
        counts[7, 1] = 9  # one fewer than at the look before
    elif why == "rates vary":
        rates[3] = 0.6
    else:
        counts[:, 0] = np.arange(m) % 10  # ten distinct numbers of new patients at the first look
    root = np.random.SeedSequence(3)
    streams = [Streams(root, (0, 0))]
    got = sufficient._compiled_sums(design, sufficient._Blocks(streams, [m]), arms, stream,
                                  Truth(treated=rates, reference=0.3), counts, True)
    assert got is None
    fresh = Streams(root, (0, 0))
    for purpose in ("sufficient:y:treated", "sufficient:y:control"):
        np.testing.assert_array_equal(streams[0](purpose).random(4), fresh(purpose).random(4))


def test_compiled_normal_sums_leave_counts_out_of_order_to_the_numpy_path_without_drawing() -> None:
    """A continuous design's counts out of order in one row: None, and the streams untouched."""
    from condapprove.simulation.population import Streams, Truth, arms_of

    post = {"study": "clinical_trial", "endpoint": CONT, "treated": {"accrual": {"rate_per_month": 1.0},
                                                                    "target_n": 40},
            "control": {"kind": "concurrent", "ratio": 1}}
    design = _design(post, [{"name": "a", "treated_mean": 6.0, "control_mean": 1.0}])
    arms = arms_of(design)
    m = 30
    counts = np.asfortranarray(np.tile([10, 20, 40], (m, 1)))
    counts[29, 2] = 19  # one fewer than at the look before
    root = np.random.SeedSequence(3)
    streams = [Streams(root, (0, 0))]
    got = sufficient._compiled_sums(design, sufficient._Blocks(streams, [m]), arms, sufficient._stream(design, arms),
                                  Truth(treated=np.full((m, 1), 6.0), reference=1.0), counts, True)
    assert got is None
    fresh = Streams(root, (0, 0))
    for purpose in ("sufficient:y:treated", "sufficient:y:control"):
        np.testing.assert_array_equal(streams[0](purpose).random(4), fresh(purpose).random(4))


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 12), min_size=1, max_size=40), st.integers(1, 8))
def test_distinct_values_are_numpys_unique(values: list[int], room: int) -> None:
    """``_counts_jit.distinct_values``: ``np.unique`` when it fits in the room, else room + 1."""
    from condapprove.simulation._counts_jit import distinct_values

    x = np.array(values, dtype=np.int64).reshape(-1, 1 if len(values) % 2 else 2)
    out = np.empty(room, dtype=np.int64)
    k = distinct_values(np.asfortranarray(x), out)
    uniq = np.unique(x)
    if uniq.size <= room:
        assert k == uniq.size
        np.testing.assert_array_equal(out[:k], uniq)
    else:
        assert k == room + 1


@pytest.mark.parametrize("looks", [1, 2, 3, 5])
def test_pick_rows_reads_each_statistic_at_each_rows_look(looks: int) -> None:
    """``_decide_jit.pick_rows``: ``out[k, i] = fields[k][sel[i]][i]`` for several statistics in one pass, NaN and
    infinite values read as they are, whatever look each row stops at."""
    from condapprove.simulation._decide_jit import pick_rows

    rng = np.random.default_rng(2 + looks)
    m = 200
    stats = [rng.normal(size=(m, looks)) for _ in range(4)]
    for a in stats:
        a[rng.random(a.shape) < 0.1] = np.nan
        a[rng.random(a.shape) < 0.05] = -np.inf
    fields = tuple(tuple(np.asfortranarray(a)[:, j] for j in range(looks)) for a in stats)
    sel = rng.integers(0, looks, m)
    out = np.empty((4, m))
    pick_rows(fields, sel, out)
    for k, a in enumerate(stats):
        np.testing.assert_array_equal(out[k], a[np.arange(m), sel])


def test_one_patterns_bounds_are_a_copy_of_the_cached_row() -> None:
    """The bounds of a single information pattern come from the cache as a copy: writing to them (as the rows whose
    final analysis adds nothing do) leaves the cached row, and the next chunk's bounds, as they were."""
    from condapprove.simulation import decision

    design = _design(*CASES["paired-binary-slow-fixed"])
    dec = design.post_marketing.decision
    info = np.array([[5.0, 10.0]])
    first = decision._bounds_by_pattern(design, dec, info, final=True)  # computed, then cached
    again = decision._bounds_by_pattern(design, dec, info, final=True)  # from the cache
    np.testing.assert_array_equal(first, again)
    expected = again.copy()
    again[:] = -1.0
    np.testing.assert_array_equal(decision._bounds_by_pattern(design, dec, info, final=True), expected)
    assert expected.shape == (1, 2) and bool(np.all(np.isfinite(expected)))


def test_bounds_kept_by_pattern_are_each_rows_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds looked up in the kept table are every row's own bounds, computed alone (to the 1e-10 within which
    ``efficacy_bounds_batch`` finds a batch's roots), over calls whose information rows overlap, repeat, pad with
    NaN, and fill the table past its buffer and past its limit on the rows of every setting (then it starts again);
    two settings (``final``) keep tables of their own."""
    from condapprove.boundaries import efficacy_bounds_batch
    from condapprove.simulation import decision
    from condapprove.simulation.statistics import RowValues, max_information

    design = _design(*CASES["paired-binary-slow-fixed"])
    dec = design.post_marketing.decision
    monkeypatch.setattr(decision, "_BOUNDS_CACHE", RowValues(most=60))
    rng = np.random.default_rng(3)
    i_max = max_information(design)
    settings = 0
    for call in range(12):
        first = rng.integers(1, 10, 30).astype(np.float64)  # integer-valued: rows repeat within and across calls
        info = np.column_stack([first, first + rng.integers(1, 10, 30)])
        info[rng.random(30) < 0.2, 1] = np.nan  # a row with one counting look
        final = call % 3 != 0
        got = decision._bounds_by_pattern(design, dec, info, final=final)
        for row, b in zip(info, got):
            want = efficacy_bounds_batch(row[None, :], dec.alpha, dec.spending, dec.parameter, max_information=i_max,
                                         final=final)[0]
            np.testing.assert_allclose(b, want, rtol=1e-10, atol=0)  # (a batch's root finding: within 1e-10)
        assert len(decision._BOUNDS_CACHE) <= 60
        settings = max(settings, decision._BOUNDS_CACHE.settings())
    assert settings == 2


def test_bounds_kept_by_pattern_hold_when_threads_add_rows_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads that look bounds up and add rows to one table at once (simulations run from several threads) each
    get every row's own bounds, and every row the table names holds its own bounds (within the 1e-10 of the
    batch's roots)."""
    import sys
    import threading

    from condapprove.boundaries import efficacy_bounds_batch
    from condapprove.simulation import decision
    from condapprove.simulation.statistics import RowValues, max_information

    design = _design(*CASES["paired-binary-slow-fixed"])
    dec = design.post_marketing.decision
    monkeypatch.setattr(decision, "_BOUNDS_CACHE", RowValues())
    i_max = max_information(design)

    def own(info: np.ndarray) -> np.ndarray:
        return np.array([efficacy_bounds_batch(row[None, :], dec.alpha, dec.spending, dec.parameter,
                                               max_information=i_max, final=True)[0] for row in info])

    rngs = [np.random.default_rng(t) for t in range(16)]
    calls = [np.cumsum(r.integers(1, 40, (50, 2)), axis=1).astype(np.float64) for r in rngs]  # overlapping rows
    got: dict[int, np.ndarray] = {}

    def work(t: int) -> None:
        for c in range(t, len(calls), 4):
            got[c] = decision._bounds_by_pattern(design, dec, calls[c], final=True)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # (the threads switch as often as they can)
    try:
        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(interval)
    for c, info in enumerate(calls):
        np.testing.assert_allclose(got[c], own(info), rtol=1e-10, atol=0)
    (table,) = decision._BOUNDS_CACHE._tables.values()
    kept = np.array([np.frombuffer(k) for k in table.index])
    np.testing.assert_allclose(table.values[list(table.index.values())], own(kept), rtol=1e-10, atol=0)
