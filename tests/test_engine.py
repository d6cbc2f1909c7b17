"""The binary post-marketing engine: p-values against R, simulation against exact values, reproducibility."""

from __future__ import annotations

import itertools
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import condapprove
from condapprove.endpoints import BinaryOutcome, binary_pvalues
from condapprove.errors import DesignError, DesignWarning
from condapprove.simulation.analytic import binary_power_fixed_n, evaluable_distribution, exact_p_confirmed
from condapprove.spec import design_from_mapping

from .conftest import DESIGNS, REFERENCE

REF = json.loads((REFERENCE / "engine_binary.json").read_text())


def _design(**over: object) -> condapprove.Design:
    base: dict[str, object] = {
        "name": "t",
        "approval": {"date": "2020-01-01", "time_limit_years": 5, "filing_lead_months": 6},
        "post_marketing": {
            "study": "use_results_survey",
            "endpoint": {"type": "binary", "followup_months": 3},
            "treated": {"accrual": {"rate_per_month": 1.0, "ramp_up_months": 6}, "target_n": 30, "dropout": 0.1},
            "control": {"kind": "benchmark", "rate": 0.3},
        },
        "scenarios": [{"name": "null", "treated_rate": 0.3}, {"name": "alt", "treated_rate": 0.55}],
        "simulation": {"replicates": 4096, "seed": 1},
    }
    base.update(over)
    return design_from_mapping(base)


def test_exact_binomial_pvalues_match_r() -> None:
    cases = REF["binom_greater"]
    out = BinaryOutcome(x_treated=np.array([c["x"] for c in cases]), n_treated=np.array([c["n"] for c in cases]))
    for p0 in {c["p0"] for c in cases}:
        idx = [i for i, c in enumerate(cases) if c["p0"] == p0]
        sub = BinaryOutcome(x_treated=out.x_treated[idx], n_treated=out.n_treated[idx])
        got = binary_pvalues(sub, test="exact_binomial", benchmark=p0)
        np.testing.assert_allclose(got, [cases[i]["pvalue"] for i in idx], rtol=1e-10, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(n_max=st.integers(0, 1000), p0=st.sampled_from([0.3, 0.05, 0.5, 0.999, 1e-6]), seed=st.integers(0, 2**32))
def test_exact_binomial_pvalues_by_table_are_the_direct_ones(n_max: int, p0: float, seed: int) -> None:
    """The engine's exact binomial p-values come from a table of every outcome (built for the largest n seen, grown
    when a larger one comes): the same values as ``binary_pvalues``, with 1 for no patient; outcomes beyond the
    table's range are left to the direct computation."""
    from condapprove.simulation import statistics

    rng = np.random.default_rng(seed)
    n = rng.integers(0, n_max + 1, 3000)
    x = np.minimum((rng.random(3000) * (n + 1)).astype(np.int64), n)
    got = statistics._exact_binomial_by_table(x, n, p0)
    assert got is not None
    np.testing.assert_array_equal(got, binary_pvalues(BinaryOutcome(x_treated=x, n_treated=n), test="exact_binomial",
                                                      benchmark=p0))
    assert np.all(got[n == 0] == 1.0)
    too_many = np.array([statistics._BINOMIAL_TABLE_N + 1])
    assert statistics._exact_binomial_by_table(np.array([3]), too_many, p0) is None
    assert statistics._exact_binomial_by_table(np.array([4]), np.array([3]), p0) is None  # more responders than n


@settings(max_examples=40, deadline=None)
@given(nt_max=st.integers(0, 30), nc_max=st.integers(0, 30), seed=st.integers(0, 2**32), rows=st.integers(1, 3000))
def test_fisher_pvalues_by_table_are_the_direct_ones(nt_max: int, nc_max: int, seed: int, rows: int) -> None:
    """The engine's Fisher p-values come from a table of every outcome of the pairs of arm sizes met so far (grown
    as new pairs come, across calls): the same values as ``binary_pvalues``, with 1 for an empty arm; sizes or
    counts out of range are left to the direct computation.  (Arms of up to 30 patients: every pair's block fits in
    one table, 246,016 values at most; the bound on larger tables is tested below.)"""
    from condapprove.simulation import statistics

    rng = np.random.default_rng(seed)
    nt, nc = rng.integers(0, nt_max + 1, rows), rng.integers(0, nc_max + 1, rows)
    xt = np.minimum((rng.random(rows) * (nt + 1)).astype(np.int64), nt)
    xc = np.minimum((rng.random(rows) * (nc + 1)).astype(np.int64), nc)
    got = statistics.fisher_by_table(xt, nt, xc, nc, nt_max, nc_max)
    assert got is not None
    ref = binary_pvalues(BinaryOutcome(x_treated=xt, n_treated=nt, x_control=xc, n_control=nc), test="fisher")
    np.testing.assert_array_equal(got, ref)
    assert np.all(got[(nt == 0) | (nc == 0)] == 1.0)
    one = np.array([1])
    assert statistics.fisher_by_table(one, np.array([nt_max + 1]), one * 0, one, nt_max, nc_max) is None
    assert statistics.fisher_by_table(one * 2, one, one * 0, one, nt_max, nc_max) is None  # more responders than n


def test_fisher_tables_stay_bounded() -> None:
    """Arm sizes whose blocks would take more than the table's room are left to the direct computation."""
    from condapprove.simulation import statistics

    n = np.arange(1000, 1040)
    x = n // 2
    assert statistics.fisher_by_table(x, n, x, n, 2000, 2000) is None  # 40 blocks of about a million values each


def test_fisher_pvalues_match_r() -> None:
    cases = REF["fisher_greater"]
    out = BinaryOutcome(
        x_treated=np.array([c["xt"] for c in cases]), n_treated=np.array([c["nt"] for c in cases]),
        x_control=np.array([c["xc"] for c in cases]), n_control=np.array([c["nc"] for c in cases]),
    )
    # R's fisher.test sums hypergeometric probabilities with a relative tolerance of 1e-7 on ties: 1e-6 is ample
    np.testing.assert_allclose(binary_pvalues(out, test="fisher"), [c["pvalue"] for c in cases], rtol=1e-6)


@pytest.mark.parametrize("case", REF["power_fixed_n"], ids=lambda c: f"{c['test']}-{c['nt']}")
def test_power_at_fixed_n_matches_r(case: dict[str, float]) -> None:
    if case["test"] == "exact_binomial":
        got = binary_power_fixed_n(int(case["nt"]), None, treated_rate=case["pt"], control_rate=None,
                                   test="exact_binomial", alpha=case["alpha"], benchmark=case["p0"])
    else:
        got = binary_power_fixed_n(int(case["nt"]), int(case["nc"]), treated_rate=case["pt"],
                                   control_rate=case["pc"], test="fisher", alpha=case["alpha"])
    assert got == pytest.approx(case["power"], rel=1e-9, abs=1e-12)


def test_score_test_closed_form() -> None:
    out = BinaryOutcome(x_treated=np.array([8, 0, 0]), n_treated=np.array([10, 10, 0]),
                        x_control=np.array([3, 0, 2]), n_control=np.array([10, 10, 4]))
    p = binary_pvalues(out, test="score")
    pbar = 11 / 20
    z = (0.8 - 0.3) / np.sqrt(pbar * (1 - pbar) * 0.2)
    from scipy.stats import norm

    assert p[0] == pytest.approx(norm.sf(z), rel=1e-12)
    assert p[1] == 1.0 and p[2] == 1.0  # no variance / an empty arm shows nothing


def test_evaluable_distribution_sums_to_one() -> None:
    d = _design()
    pm = d.post_marketing
    dist = evaluable_distribution(pm.treated.accrual, pm.treated.dropout, pm.treated.target_n, 51.0)
    assert dist.sum() == pytest.approx(1.0, abs=1e-12)


def test_exact_reduces_to_fixed_n_power_when_target_is_certain() -> None:
    d = _design(post_marketing={
        "study": "clinical_trial",
        "endpoint": {"type": "binary", "followup_months": 1},
        "treated": {"accrual": {"rate_per_month": 50.0}, "target_n": 20},
        "control": {"kind": "benchmark", "rate": 0.3},
    })
    want = binary_power_fixed_n(20, None, treated_rate=0.55, control_rate=None, test="exact_binomial",
                                alpha=0.025, benchmark=0.3)
    assert exact_p_confirmed(d, d.scenario("alt")) == pytest.approx(want, rel=1e-12)


def test_a_two_arm_binary_design_tested_with_z_has_the_score_tests_exact_value() -> None:
    """The unweighted binary ``z`` test is the pooled z of ``score``: a two-arm binary design tested with ``z`` is
    simulated with the score test's numbers exactly, and gets the score test's exact value (it was simulated only,
    although the docs promised the exact counterpart for every fixed binary design; found by a docs audit), within
    4 Monte-Carlo SEs of its simulation."""
    import yaml

    data = yaml.safe_load((DESIGNS / "two_arm_trial.yaml").read_text())
    assert data["post_marketing"]["analysis"]["test"] == "fisher"
    data["post_marketing"]["analysis"]["test"] = "z"
    d_z = design_from_mapping(data)
    data["post_marketing"]["analysis"]["test"] = "score"
    d_score = design_from_mapping(data)
    res_z, res_score = (condapprove.simulate(d, replicates=8192, seed=3) for d in (d_z, d_score))
    for s_z, s_score, scenario in zip(res_z.scenarios, res_score.scenarios, d_z.scenarios):
        exact = exact_p_confirmed(d_z, scenario)
        assert exact is not None and exact == exact_p_confirmed(d_score, scenario)
        assert s_z.p_confirmed.value == s_score.p_confirmed.value
        assert abs(s_z.p_confirmed.value - exact) <= 4 * s_z.p_confirmed.mcse


@pytest.mark.parametrize("replicates, seed", [
    (40_960, 20261128),
    pytest.param(200_000, 7, marks=pytest.mark.slow),
])
@pytest.mark.parametrize("design_file", ["stemirac_survey.yaml", "two_arm_trial.yaml", "delytact_survey.yaml"])
def test_simulation_agrees_with_exact_within_4_mcse(design_file: str, replicates: int, seed: int) -> None:
    """Shipped fixed binary designs: simulated P(confirmed) within 4 MCSE of the exact value;
    no effect <= alpha + 3 MCSE."""
    design = condapprove.load_design(DESIGNS / design_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        res = condapprove.simulate(design, replicates=replicates, seed=seed)
    alpha = design.post_marketing.alpha
    for s in res.scenarios:
        assert s.p_confirmed_exact is not None
        assert abs(s.p_confirmed.value - s.p_confirmed_exact) <= 4 * max(s.p_confirmed.mcse, 1e-5), s.name
        scen = design.scenario(s.name)
        null = scen.control_rate is None and scen.treated_rate == design.post_marketing.control.rate  # type: ignore[union-attr]
        null = null or (scen.control_rate is not None and scen.treated_rate == scen.control_rate)
        if null:
            assert s.p_confirmed.value <= alpha + 3 * s.p_confirmed.mcse


def test_long_followup_delays_and_shortfall_is_reported() -> None:
    d = _design()
    res = condapprove.simulate(d, replicates=8192, seed=3)
    s = res["alt"]
    # analysis month = completion of the 30th completer + follow-up, within the 54-month cut-off
    assert 0 < s.decision_month_q1.value <= s.decision_month_median.value <= s.decision_month_q3.value <= 54
    assert s.expected_treated_evaluable.value <= 30
    assert s.expected_treated_enrolled.value > s.expected_treated_evaluable.value  # dropouts are replaced


@pytest.mark.parametrize("target", [60, 26])
def test_unreachable_target_warns(target: int) -> None:
    """0.5 a month for 51 months: 25.5 expected, said as such (rounded to whole patients, 25.5 of a target of 26
    was said as 'expected 26')."""
    d = _design(post_marketing={
        "study": "use_results_survey",
        "endpoint": {"type": "binary", "followup_months": 3},
        "treated": {"accrual": {"rate_per_month": 0.5}, "target_n": target},
        "control": {"kind": "benchmark", "rate": 0.3},
    })
    with pytest.warns(DesignWarning, match=rf"target_n={target} cannot be reached before the cut-off .* expected 25\.5 "):
        res = condapprove.simulate(d, replicates=2048, seed=1)
    assert res["null"].p_target_not_reached.value > (0.99 if target == 60 else 0.5)
    assert res.warnings and "expected 25.5 evaluable by month 54" in res.warnings[0]


def _sim_json(design: condapprove.Design, **kw: object) -> str:
    res = condapprove.simulate(design, replicates=10_000, seed=99, **kw)  # type: ignore[arg-type]
    return res.to_json().replace(f'"chunk_size": {res.provenance.chunk_size}', '"chunk_size": X')


def test_same_seed_same_result_any_chunking_and_jobs() -> None:
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    ref = _sim_json(design)
    assert _sim_json(design) == ref
    assert _sim_json(design, chunk_size=2048) == ref
    assert _sim_json(design, chunk_size=6144) == ref
    assert _sim_json(design, chunk_size=2048, n_jobs=2) == ref


def test_scenario_subset_is_the_same_stream() -> None:
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    full = condapprove.simulate(design, replicates=4096, seed=5)
    one = condapprove.simulate(design, replicates=4096, seed=5, scenarios=["as hoped"])
    assert one.scenarios[0] == full["as hoped"]


def test_one_scenario_by_name_and_none_refused() -> None:
    """A name alone is one scenario (it was read as its letters: "`scenario` must be one of ...; got 'a'"), and an
    empty list is refused (it was "max() arg is an empty sequence")."""
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    by_name = condapprove.simulate(design, replicates=2048, seed=5, scenarios="as hoped")
    assert by_name.scenarios == condapprove.simulate(design, replicates=2048, seed=5, scenarios=["as hoped"]).scenarios
    with pytest.raises(DesignError, match=r"^`scenarios` must name at least one of .*; got none\.$"):
        condapprove.simulate(design, replicates=2048, seed=5, scenarios=[])


@pytest.mark.parametrize("make, message", [
    (lambda: condapprove.MonteCarloEstimate.proportion(11, 10),  # (a "math domain error")
     r"^`successes` must be between 0 and n_sims \(10\); got 11\.$"),
    (lambda: condapprove.MonteCarloEstimate.proportion(-1, 10), r"^`successes` must be between 0 and n_sims"),
    (lambda: condapprove.MonteCarloEstimate.proportion(5, 10).ci(1.5),  # (gave (nan, nan))
     r"^`confidence_level` must be a probability in \(0, 1\); got 1\.5\.$"),
    (lambda: condapprove.MonteCarloEstimate.proportion(5, 10).ci(-0.1), r"^`confidence_level` must be"),
])
def test_monte_carlo_estimates_check_their_arguments(make, message) -> None:
    with pytest.raises(condapprove.DesignError, match=message):
        make()


def test_pinned_against_itself() -> None:
    """A regression pin (not a correctness check): changes to the random streams must be deliberate."""
    design = condapprove.load_design(DESIGNS / "stemirac_survey.yaml")
    res = condapprove.simulate(design, replicates=4096, seed=12345)
    # 2679: the sufficient-statistics path (binary endpoint against a benchmark) since its introduction
    assert res["modest"].p_confirmed.value == pytest.approx(2679 / 4096, abs=0)


def test_generated_seed_is_recorded_and_reproduces() -> None:
    design = _design(simulation={"replicates": 2048})
    a = condapprove.simulate(design)
    assert a.provenance.seed_source == "generated"
    b = condapprove.simulate(design, seed=a.provenance.seed_entropy)
    assert a.scenarios == b.scenarios
    assert "simulation.seed" in a.provenance.defaults_applied


def test_to_frame_has_mcse_columns() -> None:
    res = condapprove.simulate(_design(), replicates=2048, seed=1)
    frame = res.to_frame()
    assert list(frame["scenario"]) == ["null", "alt"]
    for col in ("p_confirmed", "p_confirmed_mcse", "p_target_not_reached_mcse", "decision_month_median_mcse",
                "expected_treated_enrolled", "expected_treated_enrolled_mcse", "p_confirmed_exact"):
        assert col in frame.columns
    assert repr(res).startswith("SimulationResult(design='t', replicates=2048, seed=1")


def test_every_endpoint_gives_the_same_columns() -> None:
    """A figure undefined for an endpoint (events for a binary or continuous one) is an empty value and an empty
    MCSE, so the frames of any two designs have the same columns (and stack without holes of missing columns)."""
    frames = {}
    for name in ("stemirac_survey.yaml", "akuugo_trial.yaml", "heartsheet_survey_planned.yaml"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DesignWarning)
            res = condapprove.simulate(condapprove.load_design(DESIGNS / name), replicates=2048, seed=1)
        frames[name] = res.to_frame()
    binary, survival = frames["stemirac_survey.yaml"], frames["heartsheet_survey_planned.yaml"]
    assert binary["expected_events"].isna().all() and binary["expected_events_mcse"].isna().all()
    assert survival["expected_events"].notna().all() and survival["expected_events_mcse"].notna().all()
    looks = {"p_confirmed_interim_1", "p_confirmed_interim_1_mcse", "p_confirmed_final", "p_confirmed_final_mcse"}
    columns = [[c for c in f.columns if c not in looks] for f in frames.values()]  # (each design has its looks)
    assert columns[0] == columns[1] == columns[2] and "expected_events_mcse" in columns[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"replicates": 0}, r"`replicates` must be an integer >= 1 and <= 100,000,000; got 0."),
    ({"replicates": 100_000_001}, r"`replicates` must be an integer >= 1 and <= 100,000,000; got 100000001."),
    ({"max_replicates": 10**12, "mcse_target": 0.01}, r"`max_replicates` must be an integer >= 1 and <= 100,000,000"),
    ({"chunk_size": 1000}, r"`chunk_size` must be a positive multiple of 2048 and <= 100,000,000; got 1000."),
    ({"n_jobs": 0}, r"`n_jobs` must be an integer >= 1; got 0."),
    ({"scenarios": ["nul"]}, r"`scenario` must be one of 'null', 'alt'; got 'nul'. \(help: did you mean 'null'\?\)"),
    ({"seed": -1}, r"`seed` must be a non-negative integer"),
])
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(DesignError, match=match):
        condapprove.simulate(_design(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("design_file", sorted(p.name for p in DESIGNS.glob("*.yaml")))
def test_every_shipped_design_simulates(design_file: str) -> None:
    """Each shipped design loads and simulates with a tiny replicate count; every figure is finite."""
    design = condapprove.load_design(DESIGNS / design_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        res = condapprove.simulate(design, replicates=2048, seed=1)
    frame = res.to_frame()
    numeric = frame.select_dtypes("number").drop(columns=["p_confirmed_exact"], errors="ignore")
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()
    for s in res.scenarios:
        total = s.p_confirmed.value + s.p_futility.value + s.p_not_confirmed.value + s.p_undecided.value
        assert total == pytest.approx(1.0, abs=1e-12)


def test_mcse_target_adds_replicates_until_precise() -> None:
    design = condapprove.load_design(DESIGNS / "stemirac_survey.yaml")
    res = condapprove.simulate(design, replicates=2048, seed=3, mcse_target=0.004)
    for s in res.scenarios:
        assert max(p.mcse for p in (s.p_confirmed, s.p_not_confirmed, s.p_undecided, s.p_target_not_reached)) <= 0.004
        assert s.p_confirmed.n_sims % 2048 == 0
    assert res.provenance.mcse_target == 0.004
    # the blocks are the same streams as a plain run of that many replicates
    n = res["modest"].p_confirmed.n_sims
    plain = condapprove.simulate(design, replicates=n, seed=3, scenarios=["modest"])
    assert plain["modest"].p_confirmed == res["modest"].p_confirmed


@pytest.mark.parametrize(("cap", "ran", "limit"), [
    (4096, 4096, "max_replicates 4096"),
    (5000, 4096, "the whole blocks of 2048 within max_replicates 5000"),
    (1000, 2048, "one block of 2048, the least run, above max_replicates 1000"),
])
def test_mcse_target_cap_warns(cap: int, ran: int, limit: str) -> None:
    """The warning says how the replicates run relate to the cap (it called 2048 "the cap" when the cap was 1000)."""
    from condapprove.errors import MonteCarloPrecisionWarning

    design = condapprove.load_design(DESIGNS / "stemirac_survey.yaml")
    with pytest.warns(MonteCarloPrecisionWarning) as caught:
        res = condapprove.simulate(design, replicates=2048, seed=3, mcse_target=0.001, max_replicates=cap,
                                   scenarios=["modest"])
    assert re.fullmatch(rf"scenario 'modest': the largest MCSE is 0\.0\d+ after {ran} replicates \({limit}\); "
                        r"the target was 0\.001", str(caught[-1].message))
    assert res.warnings == (str(caught[-1].message),) and res["modest"].p_confirmed.n_sims == ran


@pytest.mark.parametrize("later", [0.0, 0.5])
def test_decision_curves_end_at_the_probabilities(later: float) -> None:
    """The curves' months are the whole months to the cut-off, then the cut-off when it falls between two (a
    filing lead shortened by half a month); at the last the curve is the probability."""
    spec = condapprove.load_design(DESIGNS / "two_arm_trial.yaml").model_dump()
    spec["approval"]["filing_lead_months"] -= later
    design = design_from_mapping(spec)
    res = condapprove.simulate(design, replicates=4096, seed=2)
    whole = int(design.cutoff_month)
    last = (design.cutoff_month,) if later else ()
    assert res.scenarios[0].months == tuple(float(k) for k in range(whole + 1)) + last
    curves = res.decision_curves()
    for s in res.scenarios:
        assert len(s.months) == len(s.cumulative_confirmed) == len(s.cumulative_futility)
        conf = curves[(curves.scenario == s.name) & (curves.decision == "confirmed")]
        assert list(conf.month)[-1] == design.cutoff_month
        assert conf.probability.is_monotonic_increasing
        assert conf.probability.iloc[-1] == pytest.approx(s.p_confirmed.value, abs=1e-12)


def test_dask_local_cluster_gives_the_serial_result() -> None:
    """Chunks run on a Dask LocalCluster (threads, in-process) give exactly the serial result."""
    distributed = pytest.importorskip("distributed")
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    serial = condapprove.simulate(design, replicates=6144, seed=8, chunk_size=2048)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        seen: list[tuple[int, int]] = []
        dask = condapprove.simulate(design, replicates=6144, seed=8, chunk_size=2048,
                                    executor=client.get_executor(), progress=lambda d, t: seen.append((d, t)))
    assert dask.scenarios == serial.scenarios
    assert seen[-1] == (9, 9)  # 3 scenarios x 3 blocks


def test_checkpoint_resume_is_bit_identical(tmp_path: Path) -> None:
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    plain = condapprove.simulate(design, replicates=8192, seed=5, chunk_size=2048)
    ckpt = tmp_path / "ckpt"
    calls: list[int] = []

    def boom(done: int, total: int) -> None:
        calls.append(done)
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        condapprove.simulate(design, replicates=8192, seed=5, chunk_size=2048, checkpoint=ckpt, progress=boom)
    assert len(list(ckpt.glob("chunk-*.npz"))) == 5 and not list(ckpt.glob("*.tmp"))
    resumed = condapprove.simulate(design, replicates=8192, seed=5, chunk_size=2048, checkpoint=ckpt)
    assert resumed.to_json() == plain.to_json()
    assert resumed.scenarios == plain.scenarios


def _damage_truncated(f: Path) -> None:
    f.write_bytes(f.read_bytes()[:100])


def _damage_short(f: Path) -> None:
    arrays = dict(np.load(f))
    arrays["decision"] = arrays["decision"][:5]
    np.savez(f, **arrays)


def _damage_retyped(f: Path) -> None:
    arrays = dict(np.load(f))
    arrays["month"] = arrays["month"].astype(np.float32)
    np.savez(f, **arrays)


def _damage_field_missing(f: Path) -> None:
    arrays = dict(np.load(f))
    del arrays["events"]
    np.savez(f, **arrays)


@pytest.mark.parametrize("damage, reason", [
    (_damage_truncated, r"BadZipFile: File is not a zip file"),
    (_damage_short, r"decision holds int8\[5\] where int8\[2048\] was saved"),
    (_damage_retyped, r"month holds float32\[2048\] where float64\[2048\] was saved"),
    (_damage_field_missing, r"KeyError: 'events is not a file in the archive'"),
])
def test_a_damaged_chunk_file_is_refused_by_name(damage: Any, reason: str, tmp_path: Path) -> None:
    """A chunk file damaged after it was written (a full disk elsewhere, a copy cut short, an edit) is refused with
    the file's name and what is wrong, never loaded into the results nor a numpy traceback; once deleted, the rerun
    computes that chunk again and gives the uninterrupted run's result."""
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    kw: dict[str, Any] = {"replicates": 4096, "seed": 5, "chunk_size": 2048, "checkpoint": tmp_path / "c"}
    plain = condapprove.simulate(design, **kw)
    victim = sorted((tmp_path / "c").glob("chunk-*.npz"))[1]
    damage(victim)
    with pytest.raises(DesignError, match=rf"the chunk file {victim.name} cannot be read \({reason}\); delete it"):
        condapprove.simulate(design, **kw)
    victim.unlink()
    assert condapprove.simulate(design, **kw).scenarios == plain.scenarios


@pytest.mark.parametrize("text", ["[]", "{", "1"])
def test_a_damaged_checkpoint_header_is_refused(text: str, tmp_path: Path) -> None:
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    condapprove.simulate(design, replicates=2048, seed=5, checkpoint=tmp_path / "c")
    (tmp_path / "c" / "header.json").write_text(text)
    with pytest.raises(DesignError, match=r"the checkpoint's header.json cannot be read; delete the folder"):
        condapprove.simulate(design, replicates=2048, seed=5, checkpoint=tmp_path / "c")


def test_checkpoint_of_another_run_is_refused(tmp_path: Path) -> None:
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    condapprove.simulate(design, replicates=2048, seed=5, checkpoint=tmp_path / "c")
    with pytest.raises(DesignError, match=r"the checkpoint belongs to another run \(it differs in seed_entropy\)"):
        condapprove.simulate(design, replicates=2048, seed=6, checkpoint=tmp_path / "c")
    # without its header the chunks' run is unknown: refused too (they were taken in as seed 6's, found by fuzzing)
    (tmp_path / "c" / "header.json").unlink()
    with pytest.raises(DesignError, match=r"the checkpoint has chunks but no header.json"):
        condapprove.simulate(design, replicates=2048, seed=6, checkpoint=tmp_path / "c")


def _die_in_a_worker(design: Any, scenario_index: int, blocks: Any, *args: Any) -> Any:
    """A chunk function that kills the first worker process to run a chunk (the calling process, which simulates
    chunks too, takes its time over them: a worker surely gets one)."""
    import os
    import time

    from condapprove.simulation import engine

    if os.getpid() == int(os.environ["CONDAPPROVE_TEST_CALLER"]):
        time.sleep(0.05)
    else:
        marker = Path(os.environ["CONDAPPROVE_TEST_MARKER"])
        if not marker.exists():
            marker.write_text("died")
            os._exit(1)
    return engine._real_run_chunk(design, scenario_index, blocks, *args)


def test_a_dead_worker_is_reported_and_its_chunk_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that dies while simulating (here: the first to run a chunk) is reported in a warning, and the chunks
    not collected yet are simulated again by a new pool: the same results."""
    import os

    from condapprove.simulation import engine

    design = condapprove.load_design(DESIGNS / "stemirac_survey.yaml")
    plain = condapprove.simulate(design, replicates=8192, seed=4, chunk_size=2048, scenarios=["modest"])
    monkeypatch.setenv("CONDAPPROVE_TEST_MARKER", str(tmp_path / "marker"))
    monkeypatch.setenv("CONDAPPROVE_TEST_CALLER", str(os.getpid()))
    monkeypatch.setattr(engine, "_real_run_chunk", engine._run_chunk, raising=False)
    monkeypatch.setattr(engine, "_run_chunk", _die_in_a_worker)
    with pytest.warns(RuntimeWarning, match=r"a worker process died while simulating; its chunk \(scenario 'modest'"):
        res = condapprove.simulate(design, replicates=8192, seed=4, chunk_size=2048, scenarios=["modest"], n_jobs=2)
    assert res.scenarios == plain.scenarios
    assert any("worker process died" in w for w in res.warnings)


def test_a_cold_process_simulates_its_first_chunk_before_forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that has not simulated yet runs the first chunk itself before it forks its worker (so the worker
    inherits the loaded kernels); a warm one forks at once.  The results are the same."""
    import os

    from condapprove.simulation import engine, workers

    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    serial = condapprove.simulate(design, replicates=6144, seed=11, chunk_size=2048)
    here: list[tuple[int, ...]] = []  # the chunks simulated in this process (forked workers append to their copy)
    at_fork: list[list[tuple[int, ...]]] = []  # what it had simulated when it forked
    real, real_fork = engine._run_chunk, workers.Pool._fork

    def spy(design: Any, s: int, blocks: Any, *args: Any) -> Any:
        if os.getpid() == parent:
            here.append((s, *blocks))
        return real(design, s, blocks, *args)

    def fork(self: Any, job: Any, count: int) -> None:
        if count > 0:
            at_fork.append(list(here))
        real_fork(self, job, count)

    parent = os.getpid()
    monkeypatch.setattr(engine, "_run_chunk", spy)
    monkeypatch.setattr(workers.Pool, "_fork", fork)
    monkeypatch.setattr(engine, "_WARM", False)
    cold = condapprove.simulate(design, replicates=6144, seed=11, chunk_size=2048, n_jobs=2)
    assert cold.scenarios == serial.scenarios
    assert at_fork == [[(0, 0)]]
    condapprove.shutdown_workers()
    here.clear()
    at_fork.clear()
    monkeypatch.setattr(engine, "_WARM", True)
    warm = condapprove.simulate(design, replicates=6144, seed=11, chunk_size=2048, n_jobs=2)
    assert warm.scenarios == serial.scenarios
    assert at_fork == [[]]


@pytest.mark.parametrize("warm", [False, True])
def test_a_run_of_one_chunk_starts_no_worker(warm: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of one chunk is simulated in the calling process, cold (its first chunk) or warm: no worker is forked
    just for it."""
    from condapprove.simulation import engine, workers

    forks: list[int] = []
    real_fork = workers.Pool._fork

    def fork(self: Any, job: Any, count: int) -> None:
        if count > 0:
            forks.append(len(job[2]))
        real_fork(self, job, count)

    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    serial = condapprove.simulate(design, replicates=2048, seed=11, scenarios=["as hoped"])
    monkeypatch.setattr(workers.Pool, "_fork", fork)
    monkeypatch.setattr(engine, "_WARM", warm)
    res = condapprove.simulate(design, replicates=2048, seed=11, scenarios=["as hoped"], n_jobs=2)
    assert res.scenarios == serial.scenarios
    assert forks == []
    two = condapprove.simulate(design, replicates=4096, seed=11, chunk_size=2048, scenarios=["as hoped"], n_jobs=2)
    assert two.scenarios == condapprove.simulate(design, replicates=4096, seed=11, scenarios=["as hoped"]).scenarios
    assert forks == [2]  # two chunks: the pool's first call forks its worker (the process is warm by now)


def test_a_failing_first_chunk_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error in the chunk a cold process runs before forking its workers propagates as itself."""
    from condapprove.simulation import engine

    def boom(*args: Any) -> Any:
        raise RuntimeError("a chunk that fails")

    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    monkeypatch.setattr(engine, "_run_chunk", boom)
    monkeypatch.setattr(engine, "_WARM", False)
    with pytest.raises(RuntimeError, match="a chunk that fails"):
        condapprove.simulate(design, replicates=6144, seed=11, chunk_size=2048, n_jobs=2)


def test_provenance_summarises_a_large_cohort() -> None:
    """A cohort of many patients (e.g. read from a large CSV) is not copied into every result's provenance:
    its lists are replaced by their length and hash; short lists and designs without a cohort are kept."""
    from condapprove.simulation.engine import MAX_COHORT_IN_PROVENANCE, _compact_cohort

    big = list(range(MAX_COHORT_IN_PROVENANCE + 1))
    design = {"name": "x", "pre_approval": {"endpoint": {"type": "continuous"},
                                            "cohort": {"values": big, "lots": ["a", "b"]}}}
    out = _compact_cohort(design)
    assert out["pre_approval"]["cohort"]["values"].startswith(f"<{len(big)} values, sha256 ")
    assert out["pre_approval"]["cohort"]["lots"] == ["a", "b"]
    assert design["pre_approval"]["cohort"]["values"] is big  # the input is not modified
    assert _compact_cohort({"name": "y"}) == {"name": "y"}


# ------------------------------------------------------------------------------------------------ summaries


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, 1.0, 12.5, np.inf, -np.inf, np.nan])),
                min_size=1, max_size=40),
       st.one_of(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.floats(0.0, 1.0)))
def test_sorted_quantile_is_numpys_quantile_bit_for_bit(values: list[float], q: float) -> None:
    from condapprove.results import _sorted_quantile

    v = np.sort(np.array(values))
    with np.errstate(invalid="ignore"):
        expected = float(np.quantile(v, q))
        got = _sorted_quantile(v, q)
    assert (np.isnan(expected) and np.isnan(got)) or (expected == got and np.signbit(expected) == np.signbit(got))


def test_cumulative_curves_count_each_decision_by_grid_month() -> None:
    from condapprove.simulation.summary import Running, _curves

    rng = np.random.default_rng(3)
    n = 5000
    month = np.where(rng.random(n) < 0.1, np.inf, rng.uniform(0, 40, n))
    month[:50] = np.arange(50) % 41  # months exactly on the grid count from that month on
    decision = rng.integers(0, 4, n).astype(np.int8)
    for cutoff in (39.0, 39.5):
        grid = np.arange(0.0, 40.0) if cutoff == 39.0 else np.append(np.arange(0.0, 40.0), cutoff)
        r = {"decision": decision, "look": np.zeros(n, dtype=np.int16), "month": month,
             "target_reached": np.ones(n, dtype=bool)}
        running = Running(cutoff, 1)
        running.add(r)
        curves = _curves(running.cells.reshape(-1, 4), grid.size, n)
        for d in range(4):
            expected = [np.count_nonzero((decision == d) & (month <= g)) / n for g in grid]
            assert curves[d] == tuple(expected)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.floats(-5, 100), st.integers(-2, 90).map(float),
                                    st.sampled_from([np.inf, -np.inf, np.nan, 84.5, 0.25, 30.999, -0.0])),
                          st.integers(0, 3), st.integers(-1, 3), st.booleans()), min_size=1, max_size=60),
       st.sampled_from([84.0, 84.5, 1.0, 0.25, 30.999]))
def test_summary_tallies_are_numpys_counts(rows: list[tuple[float, int, int, bool]], cutoff: float) -> None:
    """The summary's one-pass counts equal numpy's: replicates per decision, confirmations per look (a look
    outside the range is not counted), per (np.searchsorted cell of the month on the grid, decision) -- NaN and
    infinite months, months on the grid and past the cut-off included -- and replicates short of their targets."""
    from condapprove.simulation.results import CONFIRMED
    from condapprove.simulation.summary import Running

    grid = np.arange(0.0, np.floor(cutoff) + 1.0)
    if grid[-1] < cutoff:
        grid = np.append(grid, cutoff)
    month = np.array([r[0] for r in rows])
    decision = np.array([r[1] for r in rows], dtype=np.int8)
    look = np.array([r[2] for r in rows], dtype=np.int16)
    reached = np.array([r[3] for r in rows])
    n_looks = 3
    r = {"decision": decision, "look": look, "month": month, "target_reached": reached}
    running = Running(cutoff, n_looks)
    half = len(rows) // 2  # in two parts: the counts add up
    running.add({k: v[:half] for k, v in r.items()})
    running.add({k: v[half:] for k, v in r.items()})
    decisions, by_look, cells, not_reached = running.decisions, running.by_look, running.cells, running.not_reached
    np.testing.assert_array_equal(decisions, np.bincount(decision, minlength=4))
    np.testing.assert_array_equal(by_look, [np.count_nonzero((decision == CONFIRMED) & (look == j))
                                            for j in range(n_looks)])
    cell = np.searchsorted(grid, month, side="left")
    np.testing.assert_array_equal(cells.ravel(), np.bincount(cell * 4 + decision, minlength=(grid.size + 1) * 4))
    assert not_reached == np.count_nonzero(~reached)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.integers(0, 300).map(float), st.sampled_from([np.inf, -np.inf])),
                min_size=1, max_size=300),
       st.booleans())
def test_mean_estimate_is_numpys_mean_and_std_bit_for_bit(values: list[float], strided: bool) -> None:
    """``MonteCarloEstimate.mean`` takes the sum once; its value and MCSE are numpy's ``mean`` and
    ``std(ddof=1) / sqrt(n)`` exactly (also over infinities, and for a strided view)."""
    from condapprove.results import MonteCarloEstimate

    v = np.repeat(np.array(values), 2)[::2] if strided else np.array(values)
    with np.errstate(invalid="ignore"):
        got = MonteCarloEstimate.mean(v)
        mean = float(v.mean())
        mcse = float(v.std(ddof=1)) / np.sqrt(v.size) if v.size > 1 else np.nan
    for a, b in ((got.value, mean), (got.mcse, mcse)):
        assert (np.isnan(a) and np.isnan(b)) or a == b
    assert got.n_sims == v.size


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 12), st.booleans(), st.integers(0, 2**32 - 1))
def test_count_at_most_is_numpys_count(m: int, n: int, patient_major: bool, seed: int) -> None:
    """The engine's count of patients entered by each row's month equals numpy's, for row-major arrays and the
    patient-major (transposed) ones the engine passes, with ties at the bound, infinities and NaN."""
    from condapprove.simulation._counts_jit import count_at_most

    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([0.0, 1.0, 2.5, 3.0, np.inf, np.nan]), size=(n, m) if patient_major else (m, n))
    x = x.T if patient_major else x
    bound = rng.choice(np.array([0.0, 1.0, 2.5, np.inf, -1.0]), size=m)
    out = np.empty(m, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        count_at_most(x, bound, out)
        np.testing.assert_array_equal(out, (x <= bound[:, None]).sum(axis=1))


@settings(derandomize=True, max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(0, 12), st.booleans(), st.integers(0, 2**32 - 1))
def test_count_at_most_sorted_is_numpys_count_on_ordered_rows(m: int, n: int, patient_major: bool, seed: int) -> None:
    """The binary-search count the engine uses for entries in order equals numpy's count on nondecreasing rows
    (ties, ties at the bound, infinite entries), for bounds below, inside and beyond a row, infinite and NaN."""
    from condapprove.simulation._counts_jit import count_at_most_sorted

    rng = np.random.default_rng(seed)
    x = np.sort(rng.choice(np.array([0.0, 1.0, 2.5, 3.0, 7.0, np.inf]), size=(m, n)), axis=1)
    x = np.ascontiguousarray(x.T).T if patient_major else x
    bound = rng.choice(np.array([-1.0, 0.0, 1.0, 2.0, 2.5, 7.0, np.inf, -np.inf, np.nan]), size=m)
    out = np.full(m, -1, dtype=np.int64)
    count_at_most_sorted(x, bound, out)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(out, (x <= bound[:, None]).sum(axis=1))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.integers(1, 30), st.integers(1, 12), st.integers(0, 12), st.integers(0, 2**32 - 1),
       st.sampled_from(["sorted", "some rows out of order", "NaN"]), st.data())
def test_kth_of_arms_is_numpys_partition(m: int, na: int, nb: int, seed: int, kind: str, data: Any) -> None:
    """The looks' k-th patient of two arms (a merge of each arm's ordered arrival months) is numpy's partition of
    the arms side by side, ties and infinite months included; rows out of order, or holding a NaN, are sorted
    instead and give numpy's value too (NaN last)."""
    from condapprove.simulation.engine import _kth, _kth_of_arms

    rng = np.random.default_rng(seed)
    values = np.array([0.0, 1.0, 2.5, 3.0, 7.0, np.inf])
    # patient-major draws seen through a transpose, as the engine's arrays are
    a = np.sort(rng.choice(values, size=(m, na)), axis=1).T.copy().T
    b = np.sort(rng.choice(values, size=(m, nb)), axis=1).T.copy().T
    if kind != "sorted":
        rows = rng.random(m) < 0.5
        bad = np.nan if kind == "NaN" else -1.0
        part = a if nb == 0 or rng.random() < 0.5 else b
        part[rows, rng.integers(0, part.shape[1])] = bad
    k = data.draw(st.integers(1, na + nb + 1))
    for parts in ([a, b], [a]):
        want = _kth(np.concatenate(parts, axis=1), k)
        np.testing.assert_array_equal(_kth_of_arms(parts, k, m), want)


def _counting_looks(happens: np.ndarray, info: np.ndarray, is_final: np.ndarray) -> np.ndarray:
    """The counting rule in numpy (``decide``'s before the compiled passes): a look counts when it happens and adds
    information, as a relative ``KEEP``, to every look that happened before it (more than 0 at the first), and the
    final analysis counts if it happens."""
    from condapprove.simulation._decide_jit import KEEP

    m, n_looks = info.shape
    prev = np.empty((m, n_looks))
    prev[:, 0] = 0.0
    running = np.full(m, -np.inf)
    for j in range(1, n_looks):
        running = np.maximum(running, np.where(happens[:, j - 1], info[:, j - 1], -np.inf))
        prev[:, j] = running
    return np.asarray(happens & ((info * KEEP > prev) | is_final))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.integers(1, 30), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_sort_looks_is_the_numpy_rule(m: int, n_looks: int, seed: int) -> None:
    """The compiled pass of ``decide`` for rows whose looks are out of time order gives numpy's stable sort of each
    row's looks by time (a time that is not finite as inf), their statistics gathered, the final analysis's place
    and the counting rule on the sorted rows: ties, infinities, NaN times and NaN information included."""
    from condapprove.simulation._decide_jit import sort_looks

    rng = np.random.default_rng(seed)
    times = rng.choice(np.array([1.0, 2.0, 2.0, 3.0, 5.0, np.inf, np.nan]), size=(m, n_looks))
    info = rng.choice(np.array([0.0, 10.0, 20.0, 20.0, 35.0, np.nan]), size=(m, n_looks))
    z = rng.normal(size=(m, n_looks))
    order = np.argsort(np.where(np.isfinite(times), times, np.inf), axis=1, kind="stable")
    want_t, want_z, want_i = (np.take_along_axis(a, order, 1) for a in (times, z, info))
    is_final = order == n_looks - 1
    with np.errstate(invalid="ignore"):
        active = _counting_looks(np.isfinite(want_t), want_i, is_final)
    out = [np.full((m, n_looks), -7.0) for _ in range(3)]
    out_active, out_final = np.empty((m, n_looks), dtype=bool), np.empty((m, n_looks), dtype=bool)
    out_order = np.empty((m, n_looks), dtype=np.int64)
    sort_looks(times, tuple(np.ascontiguousarray(z[:, j]) for j in range(n_looks)),
               tuple(np.ascontiguousarray(info[:, j]) for j in range(n_looks)), *out, out_active, out_order, out_final)
    for got, want in zip((*out, out_active, out_order, out_final), (want_t, want_z, want_i, active, order, is_final)):
        np.testing.assert_array_equal(got, want)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.integers(1, 30), st.integers(1, 5), st.integers(0, 2**32 - 1), st.booleans())
def test_looks_in_order_is_the_numpy_rule(m: int, n_looks: int, seed: int, sort_rows: bool) -> None:
    """The compiled pass of ``decide`` for rows whose looks are in time order gives the numpy rule's z,
    information and counting looks (a look counts when it happens and adds information to the counting looks
    before it, or is the final analysis), NaN information and looks that never happen included; it declines
    (0) when any row is out of order, and says 2 exactly when ``one_pattern`` holds of its outputs (every look of
    every row counts, with the first row's information), rows copied from the first row included."""
    from condapprove.simulation._decide_jit import looks_in_order, one_pattern

    rng = np.random.default_rng(seed)
    times = rng.choice(np.array([1.0, 2.0, 3.0, 5.0, np.inf, np.nan]), size=(m, n_looks))
    if sort_rows:  # in order, looks that never happen (inf, NaN) last
        times = np.sort(np.where(np.isfinite(times), times, np.inf), axis=1)
        times[np.isinf(times) & (rng.random(times.shape) < 0.5)] = np.nan
    info = rng.choice(np.array([0.0, 10.0, 20.0, 20.0, 35.0, np.nan]), size=(m, n_looks))
    z = rng.normal(size=(m, n_looks))
    out_z, out_info = np.empty((m, n_looks)), np.empty((m, n_looks))
    out_active = np.empty((m, n_looks), dtype=bool)
    ok = looks_in_order(times, tuple(np.ascontiguousarray(z[:, j]) for j in range(n_looks)),
                        tuple(np.ascontiguousarray(info[:, j]) for j in range(n_looks)), out_z, out_info, out_active)
    key = np.where(np.isfinite(times), times, np.inf)
    assert bool(ok) == bool(np.all(key[:, 1:] >= key[:, :-1])) and ok in (0, 1, 2)
    if not ok:
        return
    is_final = np.zeros((m, n_looks), dtype=bool)
    is_final[:, -1] = True
    with np.errstate(invalid="ignore"):
        expected = _counting_looks(np.isfinite(times), info, is_final)  # the rule decide() applies to sorted rows
    np.testing.assert_array_equal(out_active, expected)
    np.testing.assert_array_equal(out_z, z)
    np.testing.assert_array_equal(out_info, info)
    assert (ok == 2) is one_pattern(out_info, out_active, is_final)
    # every row a copy of the first: one pattern unless a look of it does not count or has NaN information
    times1, info1 = np.tile(times[:1], (m, 1)), np.tile(info[:1], (m, 1))
    ok1 = looks_in_order(times1, tuple(np.ascontiguousarray(z[:, j]) for j in range(n_looks)),
                         tuple(np.ascontiguousarray(info1[:, j]) for j in range(n_looks)), out_z, out_info, out_active)
    assert (ok1 == 2) is (bool(out_active[0].all()) and not bool(np.isnan(info1[0]).any()))
    assert (ok1 == 2) is one_pattern(out_info, out_active, is_final)


def test_a_look_that_adds_less_than_a_millionth_of_the_information_does_not_count() -> None:
    """Both forms of the counting rule (compiled, numpy) pass over a look whose information exceeds the counting
    looks' before it by a relative 1e-6 or less, as over one that adds nothing (the bounds cannot be computed for
    looks that close: ``boundaries.MIN_INFORMATION_STEP``), and count one 2e-6 apart; a final analysis that close
    to the last interim is stale, so the interims keep their bounds (no error from the bounds' batch)."""
    from condapprove.boundaries import MIN_INFORMATION_STEP
    from condapprove.simulation._decide_jit import looks_in_order
    from condapprove.simulation.decision import _group_sequential_bounds

    assert MIN_INFORMATION_STEP == 1e-6
    info = np.array([[10.0, 10.0 * (1 + 5e-7), 20.0], [10.0, 10.0 * (1 + 2e-6), 20.0],
                     [10.0, 20.0, 20.0 * (1 + 5e-7)], [10.0, 20.0, 20.0 * (1 + 2e-6)]])
    expected = np.array([[True, False, True], [True, True, True], [True, True, True], [True, True, True]])
    m, n_looks = info.shape
    times = np.tile([1.0, 2.0, 3.0], (m, 1))
    is_final = np.zeros((m, n_looks), dtype=bool)
    is_final[:, -1] = True
    np.testing.assert_array_equal(_counting_looks(np.ones((m, n_looks), dtype=bool), info, is_final), expected)
    out_z, out_info, out_active = np.empty((m, n_looks)), np.empty((m, n_looks)), np.empty((m, n_looks), dtype=bool)
    cols = tuple(np.ascontiguousarray(info[:, j]) for j in range(n_looks))
    assert looks_in_order(times, cols, cols, out_z, out_info, out_active) == 1
    np.testing.assert_array_equal(out_active, expected)
    design = condapprove.load_design(DESIGNS / "stemirac_group_sequential.yaml")
    dec = design.post_marketing.decision
    bounds, final_bounds = _group_sequential_bounds(design, dec, info, expected, is_final)
    # rows 0 and 2 get the bounds of the same rows with those looks adding nothing at all (an interim that does not
    # count; a stale final, which spends what is left at the last interim's information)
    tied = np.array([[10.0, 10.0, 20.0], [10.0, 20.0, 20.0]])
    tied_bounds, tied_final = _group_sequential_bounds(design, dec, tied, _counting_looks(
        np.ones((2, n_looks), dtype=bool), tied, is_final[:2]), is_final[:2])
    np.testing.assert_array_equal(bounds[[0, 2]], tied_bounds)
    np.testing.assert_array_equal(final_bounds[[0, 2]], tied_final)
    assert np.isinf(bounds[0, 1]) and np.all(np.isfinite(bounds[1:]))



def test_compiled_compaction_of_looks_is_numpys() -> None:
    """``compact_looks``, ``last_bounds`` and ``spread_bounds`` (the bounds of rows whose looks vary) give what the
    numpy code they replaced gives, bit for bit, on rows in every state: looks that do not count, a final analysis
    first or last in time, stale or not, information that is NaN, 0 or below 1e-12, and bounds with NaN padding."""
    from condapprove.simulation._decide_jit import KEEP, compact_looks, last_bounds, spread_bounds

    rng = np.random.default_rng(8)
    m, n = 4000, 4
    info = rng.integers(0, 6, (m, n)).astype(np.float64)
    info[rng.random((m, n)) < 0.05] = np.nan
    info[rng.random((m, n)) < 0.05] = 1e-13
    active = rng.random((m, n)) < 0.7
    is_final = np.zeros((m, n), dtype=bool)
    is_final[np.arange(m), rng.integers(0, n, m)] = True
    # numpy's form
    prior = np.where(active & ~is_final, info, -np.inf).max(axis=1)
    stale = info[is_final] * KEEP <= prior
    act = active & ~(stale[:, None] & is_final)
    pos = np.argsort(np.where(act, np.arange(n), n + np.arange(n)), axis=1, kind="stable")
    info_c = np.where(np.take_along_axis(act, pos, 1), np.maximum(np.take_along_axis(info, pos, 1), 1e-12), np.nan)
    assert stale.any() and not stale.all() and np.isnan(prior).any() and np.isnan(info_c[act.any(axis=1), 0]).any()
    got_stale, got_info, got_pos = np.empty(m, dtype=bool), np.empty((m, n)), np.empty((m, n), dtype=np.int64)
    compact_looks(info, active, is_final, got_stale, got_info, got_pos)
    np.testing.assert_array_equal(got_stale, stale)
    np.testing.assert_array_equal(got_info, info_c)
    np.testing.assert_array_equal(got_pos, pos)
    bounds_c = np.where(np.isnan(info_c), np.nan, rng.normal(2.0, 0.5, (m, n)))
    last = bounds_c[np.arange(m), np.maximum(np.count_nonzero(~np.isnan(bounds_c), axis=1) - 1, 0)]
    got_last = np.empty(m)
    last_bounds(bounds_c, got_last)
    np.testing.assert_array_equal(got_last, last)
    bounds = np.full((m, n), np.inf)
    np.put_along_axis(bounds, pos, np.where(np.isnan(bounds_c), np.inf, bounds_c), axis=1)
    bounds[is_final] = np.where(stale, last, bounds[is_final])
    got = np.full((m, n), -1.0)
    spread_bounds(bounds_c, pos, is_final, stale, last, got)
    np.testing.assert_array_equal(got, bounds)


@pytest.mark.parametrize("with_months", [False, True])
def test_a_chunk_summary_pickles_to_the_same_numbers(with_months: bool) -> None:
    """A :class:`.summary.ChunkSummary` (what a worker sends back for each chunk) is pickled as two flat arrays and
    their sizes: it comes back with every count, moment and month as it was, in arrays of their own that can be
    written (the running summary adds them up in place)."""
    import pickle

    from condapprove.simulation import engine
    from condapprove.simulation.summary import Running

    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    rows = engine._run_chunk(design, 0, [0, 1, 2], 5000, 7, ())  # (a last block of 904 rows)
    part = Running.of(design).summary_of(rows, with_months=with_months)
    back = pickle.loads(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.not_reached == part.not_reached and back.moments[0] == part.moments[0]
    for got, want in [(back.cells, part.cells), (back.by_look, part.by_look), (back.decisions, part.decisions),
                      *zip(back.moments[1:], part.moments[1:])]:
        assert got.dtype == want.dtype and got.flags.writeable
        np.testing.assert_array_equal(got, want)
    if with_months:
        assert back.months is not None and part.months is not None
        np.testing.assert_array_equal(back.months, part.months)
    else:
        assert back.months is None


@pytest.mark.parametrize("design_file", ["two_arm_trial.yaml", "delytact_external.yaml", "stemirac_survey.yaml"])
def test_summaries_added_chunk_by_chunk_are_those_of_all_rows_at_once(design_file: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk's counts and sorted decision months are added up as the chunk comes in (in this process, or
    while worker processes simulate the next chunks): the summary equals the one of a single chunk exactly, and
    each scenario but the last is summarised as soon as its last chunk is in."""
    from condapprove.simulation import engine

    design = condapprove.load_design(DESIGNS / design_file)
    whole = condapprove.simulate(design, replicates=6144, seed=11, chunk_size=8192)  # one chunk
    serial = condapprove.simulate(design, replicates=6144, seed=11, chunk_size=2048)
    assert serial.scenarios == whole.scenarios
    real = engine.summarise
    events: list[object] = []
    monkeypatch.setattr(engine, "summarise", lambda *a, **k: events.append("summary") or real(*a, **k))
    parallel = condapprove.simulate(design, replicates=6144, seed=11, chunk_size=2048, n_jobs=2,
                                    progress=lambda done, total: events.append(done))
    assert parallel.scenarios == whole.scenarios
    blocks = [3 * (i + 1) for i in range(len(design.scenarios))]
    assert events == [x for b in blocks for x in (b - 2, b - 1, b, "summary")]


def test_a_run_hashes_its_root_words_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The words a run's streams are hashed from are computed once a run, not once a chunk: each chunk makes its root
    again, and the words are kept by the root's value (``_rng._lead_words_of``; kept per root object, the chunks'
    roots took two of the design memo's entries each and emptied it every 32 chunks); the results are those of the
    run's seed whatever the chunks."""
    from condapprove import _rng
    from condapprove.simulation import BLOCK_SIZE

    _rng._lead_words_of.cache_clear()
    roots: list[object] = []
    real = _rng._seed_words
    monkeypatch.setattr(_rng, "_seed_words", lambda root, key: roots.append(root) or real(root, key))
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    got = condapprove.simulate(design, replicates=8 * BLOCK_SIZE, seed=20261204, chunk_size=BLOCK_SIZE)
    assert len(roots) == 1  # (kept per root object: once for each chunk of each of the three scenarios)
    _rng._lead_words_of.cache_clear()
    again = condapprove.simulate(design, replicates=8 * BLOCK_SIZE, seed=20261204, chunk_size=4 * BLOCK_SIZE)
    assert again.scenarios == got.scenarios


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=False), st.floats(-1e3, 1e3), st.integers(0, 5).map(float),
                          st.sampled_from([np.inf, -np.inf, 0.0, -0.0])), min_size=1, max_size=300),
       st.sampled_from(["as drawn", "clustered", "repeated", "tied beside spread"]), st.data())
def test_order_statistics_are_numpys(values: list[float], shape: str, data: st.DataObject) -> None:
    """:func:`._summary_jit.order_statistics` gives ``np.sort(values)[ranks]``: infinities at the ends, ties,
    signed zeros (equal: either is numpy's), values spanning the whole range of doubles (a span that overflows: one
    bucket), crowded buckets (values clustered far from one outlier: spread again), runs of equal values, and a
    large bucket of one value among others (a look at a fixed month); a NaN gives False.  Values all finite give the
    same from :func:`._summary_jit.finite_order_statistics`."""
    from condapprove.simulation._summary_jit import finite_order_statistics, order_statistics

    x = np.array(values, dtype=np.float64)
    if shape == "clustered":  # most values in a sliver of the range: one crowded bucket, spread again and sorted
        x = np.concatenate([x, 1.0 + np.nan_to_num(x, posinf=1.0, neginf=-1.0) * 1e-9,
                            1.0 + np.linspace(-1e-6, 1e-6, 3001)[::-1], [5e3]])
    elif shape == "repeated":
        x = np.repeat(x, 40)
    elif shape == "tied beside spread":  # beyond the sorted buckets' size, one value and others in its bucket
        x = np.concatenate([x, np.full(5000, 24.0), 24.0 + np.linspace(-0.01, 0.01, 7), [0.0, 84.0]])
    ranks = np.unique(data.draw(st.lists(st.integers(0, x.size - 1), min_size=1, max_size=12))).astype(np.int64)
    out = np.empty(ranks.size)
    assert order_statistics(x, ranks, out)
    np.testing.assert_array_equal(out, np.sort(x)[ranks])
    if np.isfinite(x).all():  # the same from the passes that test no value for being finite
        finite = np.full(ranks.size, np.nan)
        finite_order_statistics(x, ranks, finite, x.min(), x.max())
        np.testing.assert_array_equal(finite, out)
    x[data.draw(st.integers(0, x.size - 1))] = np.nan
    assert not order_statistics(x, ranks, out)


@pytest.mark.parametrize("kind", ["finite", "infinite", "nan"])
def test_month_quartiles_from_the_chunks_are_those_of_one_sort(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """:meth:`Running.month_quantiles` over several chunks (ties; all finite: the selection that tests no month for
    being finite; infinite months: the general selection; NaN: numpy's own path), of the months it kept or of months
    given in another order, equals :meth:`MonteCarloEstimate.quantile` of all the months, value and MCSE."""
    from condapprove.results import MonteCarloEstimate
    from condapprove.simulation import summary
    from condapprove.simulation.summary import Running

    bounds: list[tuple[float, float]] = []
    real = summary.finite_order_statistics
    monkeypatch.setattr(summary, "finite_order_statistics",
                        lambda x, r, o, lo, hi: bounds.append((lo, hi)) or real(x, r, o, lo, hi))  # type: ignore
    rng = np.random.default_rng(8)
    month = np.round(rng.gamma(4.0, 6.0, 9000), 1)
    if kind != "finite":
        month[rng.random(9000) < 0.05] = np.inf
    nan = kind == "nan"
    if nan:
        month[17] = np.nan
    running = Running(84.0, 2)
    for lo, hi in [(0, 2048), (2048, 2049), (2049, 6000), (6000, 9000)]:
        running.add({"decision": np.zeros(hi - lo, dtype=np.int8), "look": np.zeros(hi - lo, dtype=np.int16),
                     "month": month[lo:hi], "target_reached": np.ones(hi - lo, dtype=bool)})
    qs = (0.25, 0.5, 0.75)
    for q, got, shuffled in zip(qs, running.month_quantiles(qs), running.month_quantiles(qs, rng.permutation(month))):
        expected = MonteCarloEstimate.quantile(month, q)
        for x in (got, shuffled):  # (the months given in any order)
            np.testing.assert_equal((x.value, x.mcse, x.n_sims), (expected.value, expected.mcse, expected.n_sims))
        assert not nan or np.isnan(got.value)
    # (the kept months, then the shuffled ones)
    assert bounds == ([(month.min(), month.max())] * 2 if kind == "finite" else [])
    with pytest.raises(ValueError, match="8999 decision months for 9000 rows"):
        running.month_quantiles(qs, month[1:])


@pytest.mark.parametrize("post, scaled", [
    ({}, (True, True)),  # randomised, exponential baseline, dropout: scaled by the columns' pass
    ({"endpoint": {"type": "time_to_event", "baseline": {"median_months": 9.0}}}, (True, True)),  # no dropout
    ({"heterogeneity": {"lot_sd": 0.3, "lot_size": 10}}, (False, True)),  # lot effects (treated): drawn as before
    ({"endpoint": {"type": "time_to_event", "dropout_rate_per_month": 0.01,
                   "baseline": {"piecewise_exponential": {"breaks": [6.0], "rates": [0.1, 0.05]}}}},
     (False, False)),  # not exponential
    ({"control": {"kind": "external", "n": 30}, "study": "use_results_survey"}, (True, True)),  # a historical cohort
])
def test_times_scaled_later_are_the_times_drawn_scaled(post: dict[str, Any], scaled: tuple[bool, bool]) -> None:
    """``simulate_arm(..., scale_later=True)`` leaves an exponential arm's event and dropout times as standard
    exponential draws with their scale; scaled (by ``event_times()`` or by the columns' pass of
    ``TtePatients.of``) they are the times ``simulate_arm`` draws otherwise, bit for bit, and so are the
    columns.  Arms with patient-level effects or another baseline are drawn as before."""
    from condapprove.simulation.population import Streams, arms_of, draw_truth, paired_entries, simulate_arm
    from condapprove.simulation.statistics import TtePatients

    pm: dict[str, Any] = {
        "study": "clinical_trial",
        "endpoint": {"type": "time_to_event", "baseline": {"median_months": 12.0}, "dropout_rate_per_month": 0.02},
        "treated": {"accrual": {"rate_per_month": 4.0}, "target_n": 40},
        "control": {"kind": "concurrent", "ratio": 1}, "target_events": 40,
    }
    pm.update(post)
    design = design_from_mapping({"name": "t", "approval": {"date": "2020-01-01", "time_limit_years": 7},
                                  "post_marketing": pm, "scenarios": [{"name": "alt", "hazard_ratio": 0.7}]})
    m = 300
    root = np.random.SeedSequence(11)
    sets = []
    for later in (False, True):
        streams = Streams(root, (0, 0))
        truth = draw_truth(streams, design, design.scenarios[0], m)
        arms = arms_of(design)
        entries: list[Any] = [None] * len(arms)
        if len(arms) == 2 and arms[1].paired:
            entries = list(paired_entries(streams, design, arms, m))
        sets.append([simulate_arm(streams, design, a, truth, m, e, scale_later=later) for a, e in zip(arms, entries)])
    now, later_data = sets
    assert [b.scale is not None for b in later_data] == list(scaled)
    for a, b in zip(now, later_data):
        assert a.scale is None
        # every arm's draws are laid out replicate-major, for the columns' passes that read along the rows
        assert a.y.flags.c_contiguous and b.y.flags.c_contiguous
        assert all(d.dropout_time is None or d.dropout_time.flags.c_contiguous for d in (a, b))
        y, drop = b.event_times()
        np.testing.assert_array_equal(y, a.y)
        assert (drop is None) == (a.dropout_time is None)
        if drop is not None:
            np.testing.assert_array_equal(drop, a.dropout_time)
    for full in (False, True):
        p, q = TtePatients.of(now, full=full), TtePatients.of(later_data, full=full)
        for f in ("entry", "first", "is_event", "first_key", "calendar", "order"):
            np.testing.assert_array_equal(getattr(q, f), getattr(p, f))



@pytest.mark.parametrize("long_rows", [False, True])
@pytest.mark.parametrize("control", [{"kind": "concurrent", "ratio": 1}, {"kind": "external", "n": 50}])
def test_kth_event_counts_the_recruited_patients_events_only(control: dict[str, Any], long_rows: bool,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``TtePatients.of`` orders only the recruited arms' calendar months (a historical cohort's events are not
    counted, and it has no columns there), and ``kth_event(k)`` is the k-th smallest calendar month of a recruited
    patient's event, computed here from the arms' times: ``entry + time`` where the event comes first, inf
    otherwise and for the historical cohort (so inf from the recruited events' number on).  ``long_rows``: the
    rows taken as longer than numpy's sorting networks (``SORT_NETWORK_KEYS`` set to 0), so that the months are
    not sorted and the k-th events are selected (``kth_binned``), for the ranks given to ``of`` at once and for
    the others one at a time."""
    from condapprove.simulation import statistics
    from condapprove.simulation.population import Streams, arms_of, draw_truth, paired_entries, simulate_arm
    from condapprove.simulation.statistics import TtePatients

    if long_rows:
        monkeypatch.setattr(statistics, "SORT_NETWORK_KEYS", 0)

    design = design_from_mapping({
        "name": "t", "approval": {"date": "2020-01-01", "time_limit_years": 7},
        "post_marketing": {
            "study": "clinical_trial" if control["kind"] == "concurrent" else "use_results_survey",
            "endpoint": {"type": "time_to_event", "baseline": {"median_months": 12.0}, "dropout_rate_per_month": 0.03},
            "treated": {"accrual": {"rate_per_month": 2.0}, "target_n": 40}, "control": control, "target_events": 30},
        "scenarios": [{"name": "alt", "hazard_ratio": 0.7}]})
    m = 500
    streams = Streams(np.random.SeedSequence(5), (0, 0))
    truth = draw_truth(streams, design, design.scenarios[0], m)
    arms = arms_of(design)
    entries: list[Any] = list(paired_entries(streams, design, arms, m)) if arms[1].paired else [None, None]
    data = [simulate_arm(streams, design, a, truth, m, e, scale_later=True) for a, e in zip(arms, entries)]
    months = []
    for d in data:
        y, drop = d.event_times()
        event = np.isfinite(y) & (True if drop is None else y <= drop)
        months.append(np.where(event & (d.arm.process is not None), d.entry + y, np.inf))
    expected = np.sort(np.concatenate(months, axis=1), axis=1)
    p = TtePatients.of(data, ranks=[30, 5, 30, 10**6])
    recruited = sum(d.y.shape[1] for d in data if d.arm.process is not None)
    assert p.calendar.shape == (m, recruited)
    assert p.order.shape == ((m, 0) if long_rows else (m, recruited))
    assert sorted(p.kth) == ([5, 30, 10**6] if long_rows else [])
    assert p.entry.shape == (m, sum(d.y.shape[1] for d in data))
    events = np.isfinite(expected).sum(axis=1)
    assert events.min() < events.max() < recruited  # so some k-th events exist in some rows only
    for k in range(1, expected.shape[1] + 2):
        want = expected[:, k - 1] if k <= expected.shape[1] else np.full(m, np.inf)
        np.testing.assert_array_equal(p.kth_event(k), want)



@pytest.mark.parametrize("het", [None, {"sites": 4, "site_sd": 0.5}, {"lot_sd": 0.4, "lot_size": 10}])
def test_binary_responses_by_covariate_pattern_are_the_patients_own(het: dict[str, Any] | None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Binary responses computed once per replicate and pattern of covariates (``simulate_arm``, when the
    covariates alone make the patients' effects) are those computed patient by patient, bit for bit; with site or
    lot effects added to the covariates' the patient-by-patient path is taken (the patterns would miss them)."""
    from condapprove.simulation import population
    from condapprove.simulation.population import Streams, arms_of, draw_truth, simulate_arm

    pm: dict[str, Any] = {
        "study": "use_results_survey", "endpoint": {"type": "binary", "followup_months": 3},
        "treated": {"accrual": {"rate_per_month": 3.0}, "target_n": 40},
        "control": {"kind": "concurrent", "randomised": False, "accrual": {"rate_per_month": 2.0}, "target_n": 30,
                    "confounding": {"covariates": [
                        {"name": "a", "prevalence_treated": 0.5, "prevalence_control": 0.3, "effect": -0.7},
                        {"name": "b", "prevalence_treated": 0.6, "prevalence_control": 0.35, "effect": -0.9}]}},
    }
    if het is not None:
        pm["heterogeneity"] = het
    design = design_from_mapping({"name": "t", "approval": {"date": "2020-01-01", "time_limit_years": 7},
                                  "post_marketing": pm,
                                  "scenarios": [{"name": "alt", "treated_rate": 0.45, "control_rate": 0.25}]})
    m, used = 300, []
    by_pattern = population.binary_outcomes_by_pattern
    monkeypatch.setattr(population, "binary_outcomes_by_pattern", lambda *a: (used.append(1), by_pattern(*a)))
    sets = []
    for most in (8, 0):  # the table where it applies, then patient by patient
        monkeypatch.setattr(population, "_PATTERN_COVARIATES", most)
        streams = Streams(np.random.SeedSequence(3), (0, 0))
        truth = draw_truth(streams, design, design.scenarios[0], m)
        data = [simulate_arm(streams, design, a, truth, m) for a in arms_of(design)]
        assert all(d.x is None for d in data)  # (read by the propensity-weighted comparison only: not kept)
        sets.append([d.y for d in data])
    assert len(used) == (2 if het is None else 1 if "lot_sd" in het else 0)  # (lots: the treated arm's only)
    for a, b in zip(*sets):
        np.testing.assert_array_equal(a, b)
    assert 0 < sets[0][0].mean() < 1



def test_continuous_outcomes_are_the_mean_the_lots_and_the_scaled_normals() -> None:
    """``simulate_arm``'s continuous outcomes (one compiled pass without covariates or site effects) are each arm's
    mean, plus the lot's effect for the treated arm's patients (lots of ``lot_size`` in entry order), plus ``sd``
    times the arm's standard normals, computed here with numpy from the same streams."""
    from condapprove.simulation.population import (
        Streams,
        arms_of,
        draw_truth,
        outcome_parameter,
        paired_entries,
        simulate_arm,
    )

    design = condapprove.load_design(DESIGNS / "akuugo_trial.yaml")
    het, sd = design.post_marketing.heterogeneity, design.post_marketing.endpoint.sd
    m = 257
    streams = Streams(np.random.SeedSequence(4), (0, 0))
    truth = draw_truth(streams, design, design.scenarios[0], m)
    arms = arms_of(design)
    data = [simulate_arm(streams, design, a, truth, m, e)
            for a, e in zip(arms, paired_entries(streams, design, arms, m))]
    again = Streams(np.random.SeedSequence(4), (0, 0))
    for arm, d in zip(arms, data):
        z = again.patients(f"y:{arm.label}", m, arm.n, "standard_normal")
        lin = np.broadcast_to(0.0, (m, arm.n))
        if arm.treated:
            lot = again.patients("lots", m, -(-arm.n // het.lot_size), "normal", loc=0.0, scale=het.lot_sd)
            lin = lin + np.repeat(lot, het.lot_size, axis=1)[:, :arm.n]
        np.testing.assert_array_equal(d.y, outcome_parameter(design, arm, truth, m) + lin + sd * z)
    assert het.lot_sd > 0 and arms[0].treated and not arms[1].treated


def test_decision_curves_are_the_counts_divided_by_the_replicates() -> None:
    """The cumulative decision curves divide each running count by the number of replicates: numpy's division
    of the whole column gives Python's ``float(count) / n`` for every count (both correctly rounded)."""
    from condapprove.simulation.summary import _curves

    rng = np.random.default_rng(4)
    for n in (1, 3, 7, 10_000, 999_983, 2**40 + 1):
        counts = rng.integers(0, max(1, n // 40), (41, 4))
        got = _curves(counts, 37, n)
        running = np.cumsum(counts[:37], axis=0)
        assert got == [tuple(float(c) / n for c in running[:, d]) for d in range(4)]
        assert all(type(v) is float for curve in got for v in curve)


def test_values_derived_from_an_object_are_kept_per_object() -> None:
    """``per_object`` (a design's hash, defaults and arrival stream; a root seed's words) computes once per object
    and name, and never returns the value of another object (identity is checked, so a reused id cannot give a
    stale value); the cache is cleared when full."""
    from condapprove import _memo

    calls: list[str] = []

    def make(tag: str) -> Any:
        def compute() -> str:
            calls.append(tag)
            return tag
        return compute

    a, b = object(), object()
    assert _memo.per_object("x", a, make("a")) == "a"
    assert _memo.per_object("x", a, make("again")) == "a"  # kept
    assert _memo.per_object("y", a, make("ay")) == "ay"  # another name
    assert _memo.per_object("x", b, make("b")) == "b"  # another object
    assert calls == ["a", "ay", "b"]
    key = ("x", id(a))
    _memo._CACHE[key] = (object(), "stale")  # an entry of another object under a's id
    assert _memo.per_object("x", a, make("fresh")) == "fresh"
    for i in range(_memo.MAX_ENTRIES + 1):
        _memo.per_object(f"fill{i}", a, make("f"))
    assert len(_memo._CACHE) <= _memo.MAX_ENTRIES


@settings(derandomize=True, max_examples=120, deadline=None)
@given(st.integers(1, 7000), st.sampled_from(["normal", "constant", "inf", "-inf", "both", "nan", "huge"]),
       st.integers(0, 2**32 - 1))
def test_means_from_block_sums_are_numpys(n: int, kind: str, seed: int) -> None:
    """:meth:`Running.mean` (each block's sums, combined block after block) is numpy's mean and standard
    deviation (:meth:`MonteCarloEstimate.mean`) to the last digits, whatever the chunks: exactly a constant's
    (MCSE 0), and numpy's NaN or infinity where a value is NaN or infinite; of the finite values for an estimate."""
    from condapprove.results import MonteCarloEstimate
    from condapprove.simulation.summary import BLOCK_SIZE, Running

    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, n)
    if kind == "constant":
        x[:] = np.log(0.7)
    elif kind == "huge":
        x *= 1e300
    else:
        for v in {"inf": [np.inf], "-inf": [-np.inf], "both": [np.inf, -np.inf], "nan": [np.nan]}.get(kind, []):
            x[rng.integers(0, n)] = v
    cuts = sorted({0, n, *(BLOCK_SIZE * int(b) for b in rng.integers(1, 4, 2) if BLOCK_SIZE * int(b) < n)})
    running = Running(84.0, 1, ("month", "estimate"))
    for lo, hi in itertools.pairwise(cuts):
        running.add({"decision": np.zeros(hi - lo, dtype=np.int8), "look": np.zeros(hi - lo, dtype=np.int16),
                     "month": x[lo:hi], "estimate": x[lo:hi], "target_reached": np.ones(hi - lo, dtype=bool)})
    finite = x[np.isfinite(x)]
    with np.errstate(invalid="ignore", over="ignore"):  # numpy's own warnings on the infinite and huge values
        expected_month = MonteCarloEstimate.mean(x)
        expected_estimate = MonteCarloEstimate.mean(finite) if finite.size else None
    for got, expected in [(running.mean("month"), expected_month), (running.mean("estimate"), expected_estimate)]:
        if expected is None:
            assert got is None
            continue
        assert got is not None and got.n_sims == expected.n_sims
        if not np.isfinite(expected.value):
            np.testing.assert_equal((got.value, got.mcse), (expected.value, np.nan))
            continue
        # (an absolute slack of the MCSE's scale only where it is a number: the huge values' MCSE overflows to inf)
        atol = 1e-13 * abs(expected.mcse) if np.isfinite(expected.mcse) else 0.0
        np.testing.assert_allclose(got.value, expected.value, rtol=1e-13, atol=atol)
        if kind == "constant" or n == 1:
            np.testing.assert_equal(got.mcse, 0.0 if n > 1 else np.nan)
        else:
            np.testing.assert_allclose(got.mcse, expected.mcse, rtol=1e-12)


def test_means_of_chunks_with_different_fields_and_after_each_chunk() -> None:
    """:meth:`Running.mean` after each chunk is the mean of the chunks added so far (not of those added when it was
    first asked), and a field that only some chunks carry (a caller that only counts) is the mean of those chunks'
    values, each field with its own blocks."""
    from condapprove.results import MonteCarloEstimate
    from condapprove.simulation.summary import BLOCK_SIZE, Running

    rng = np.random.default_rng(3)
    a, b, c = rng.normal(2.0, 1.0, BLOCK_SIZE + 5), rng.normal(-1.0, 3.0, 700), rng.normal(0.5, 1.0, 900)

    def rows(month: np.ndarray, estimate: np.ndarray | None) -> dict[str, np.ndarray]:
        n = month.size
        got = {"decision": np.zeros(n, dtype=np.int8), "look": np.zeros(n, dtype=np.int16), "month": month,
               "target_reached": np.ones(n, dtype=bool)}
        return got if estimate is None else {**got, "estimate": estimate}

    running = Running(84.0, 1, ("month", "estimate"))
    assert running.mean("month") is None
    running.add(rows(a[:BLOCK_SIZE], a[:BLOCK_SIZE] * 2))
    first = running.mean("month")
    assert first is not None and first.n_sims == BLOCK_SIZE
    running.add(rows(a[BLOCK_SIZE:], None))  # a chunk without estimates
    running.add(rows(b, b * 2))
    running.add(rows(c, None))
    for field, values in (("month", np.concatenate([a, b, c])), ("estimate", np.concatenate([a[:BLOCK_SIZE], b]) * 2)):
        got, expected = running.mean(field), MonteCarloEstimate.mean(values)
        assert got is not None and got.n_sims == expected.n_sims
        np.testing.assert_allclose((got.value, got.mcse), (expected.value, expected.mcse), rtol=1e-12)
    only = Running(84.0, 1, ("month", "estimate"))
    only.add(rows(c, None))
    assert only.mean("estimate") is None and only.mean("month") is not None


def test_quantile_from_order_statistics_is_the_sorted_samples() -> None:
    """:meth:`MonteCarloEstimate.quantile_of_order` reads the same order statistics as :meth:`quantile` (the ends
    included) and refuses fewer than two numbers or a q outside [0, 1]."""
    from condapprove.results import MonteCarloEstimate

    v = np.sort(np.random.default_rng(4).gamma(2.0, 3.0, 101))
    for q in (0.0, 0.3, 0.5, 0.999, 1.0):
        assert MonteCarloEstimate.quantile_of_order(lambda k: float(v[k]), v.size, q) == \
            MonteCarloEstimate.quantile(v, q, presorted=True)
    for n, q in ((1, 0.5), (5, 1.5), (5, -0.1)):
        with pytest.raises(ValueError, match="quantile_of_order"):
            MonteCarloEstimate.quantile_of_order(lambda k: 0.0, n, q)


def test_results_types_import_without_the_engine() -> None:
    """The results' types (and the reporting modules, which use them) import without the engine and numba's
    compiled loops (about 0.3 s), which come with the first use of `simulate` or another engine name."""
    import subprocess
    import sys

    code = ("import sys\n"
            "import condapprove.reporting, condapprove.simulation as s\n"
            "from condapprove.simulation.results import SimulationResult\n"
            "print(sorted(m for m in ('numba', 'condapprove.simulation.engine') if m in sys.modules))\n"
            "print(s.BLOCK_SIZE, callable(s.simulate), 'numba' in sys.modules, sorted(dir(s)) == sorted(s.__all__))\n"
            "try:\n    s.nothing\nexcept AttributeError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "2048 True True True",
                                "module 'condapprove.simulation' has no attribute 'nothing'"], out


def test_long_survival_rows_give_the_same_numbers_whatever_the_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial of 2,400 patients (rows longer than numpy's sorting networks, and than ``rowsort.SPLIT_MIN_KEYS``):
    the same replicates whether each look's keys are sorted by numpy or split by value (``rowsort._pays``), and
    whether the looks' k-th events are selected from the months (``kth_binned``, rows of more than
    ``SORT_NETWORK_KEYS``) or read from their sorted order keys; looks by events and by information."""
    from condapprove.kernels import rowsort
    from condapprove.simulation import statistics

    design = design_from_mapping({
        "name": "long rows", "approval": {"date": "2020-01-01", "time_limit_years": 7},
        "post_marketing": {
            "study": "clinical_trial",
            "endpoint": {"type": "time_to_event", "baseline": {"median_months": 18.0}, "dropout_rate_per_month": 0.004},
            "treated": {"accrual": {"rate_per_month": 60.0}, "target_n": 1200},
            "control": {"kind": "concurrent", "ratio": 1, "randomised": True}, "target_events": 600,
            "analyses": [{"events": 200}, {"information": 0.7}],
            "decision": {"rule": "group_sequential", "alpha": 0.025, "spending": "obrien-fleming"}},
        "scenarios": [{"name": "alt", "hazard_ratio": 0.8}]})
    frames = []
    for pays, networks in ((False, 10**9), (True, 10**9), (True, 0), (False, 0)):
        monkeypatch.setattr(rowsort, "_pays", pays)
        monkeypatch.setattr(statistics, "SORT_NETWORK_KEYS", networks)
        frames.append(condapprove.simulate(design, replicates=600, seed=11).to_frame())
    for frame in frames[1:]:
        assert frame.equals(frames[0])
    assert 0.2 < float(frames[0]["p_confirmed"].iloc[0]) < 1.0


@pytest.mark.parametrize("ratio", [1, 2])
def test_survival_looks_give_the_same_numbers_by_width_or_whole_rows(monkeypatch: pytest.MonkeyPatch,
                                                                    ratio: int) -> None:
    """Looks before accrual ends, whose rows go to buffers narrower than whole rows (``statistics.KeyBuffers``,
    docs/performance.md item 117), give the same replicates as whole rows sorted at every look (no buffer but the
    whole rows' when ``KeyBuffers.NARROWEST`` exceeds the row): 600 patients, 1:1 and 2:1, with dropout, looks by
    events and by information, early stopping for efficacy (the stop screen)."""
    from condapprove.simulation import statistics

    design = design_from_mapping({
        "name": "looks during accrual", "approval": {"date": "2020-01-01", "time_limit_years": 7},
        "post_marketing": {
            "study": "clinical_trial",
            "endpoint": {"type": "time_to_event", "baseline": {"median_months": 6.0}, "dropout_rate_per_month": 0.01},
            "treated": {"accrual": {"rate_per_month": 10.0 * ratio}, "target_n": 200 * ratio},
            "control": {"kind": "concurrent", "ratio": 1 / ratio, "randomised": True}, "target_events": 300,
            "analyses": [{"events": 40}, {"events": 100}, {"information": 0.6}],
            "decision": {"rule": "group_sequential", "alpha": 0.025, "spending": "pocock"}},
        "scenarios": [{"name": "alt", "hazard_ratio": 0.7}]})
    calls: list[int | None] = []
    real = statistics._tile_look

    def spy(*args: Any) -> tuple[int, int | None]:
        got = real(*args)
        calls.append(got[1])
        return got

    monkeypatch.setattr(statistics, "_tile_look", spy)
    frames = [condapprove.simulate(design, replicates=1500, seed=5).to_frame()]
    assert any(c for c in calls if c is not None) and None in calls  # rows compacted, and whole rows later
    monkeypatch.setattr(statistics.KeyBuffers, "NARROWEST", 10**9)
    calls.clear()
    frames.append(condapprove.simulate(design, replicates=1500, seed=5).to_frame())
    assert set(calls) == {None}
    assert frames[1].equals(frames[0])
    assert 0.2 < float(frames[0]["p_confirmed"].iloc[0]) < 1.0


@pytest.mark.parametrize("endpoint", ["time_to_event", "binary"])
def test_a_look_at_a_fraction_below_one_count_waits_for_the_first(endpoint: str) -> None:
    """A look at a fraction of the information that rounds to no event (or no patient) waits for the first one, as a
    look at half of one does (``ceil``): the same table (the spending at either fraction is nil).  It read the last
    event's month, or month 0 for patients, before; and the k-th events selected from binned months have no 0-th."""
    pm: dict[str, Any] = {
        "study": "clinical_trial", "treated": {"accrual": {"rate_per_month": 5.0}, "target_n": 40},
        "control": {"kind": "concurrent", "ratio": 1, "randomised": True},
        "decision": {"rule": "group_sequential", "alpha": 0.025, "spending": "obrien-fleming"}}
    if endpoint == "binary":
        pm["endpoint"] = {"type": "binary"}
        scenario = {"name": "alt", "treated_rate": 0.6, "control_rate": 0.3}
        counts = 80
    else:
        pm.update(endpoint={"type": "time_to_event", "baseline": {"median_months": 12.0}}, target_events=30)
        scenario = {"name": "alt", "hazard_ratio": 0.6}
        counts = 30
    frames = []
    for fraction in (1e-12, 0.5 / counts):
        design = design_from_mapping({"name": "t", "approval": {"date": "2020-01-01", "time_limit_years": 7},
                                      "post_marketing": {**pm, "analyses": [{"information": fraction}]},
                                      "scenarios": [scenario]})
        frames.append(condapprove.simulate(design, replicates=2000, seed=4).to_frame())
    assert frames[0].equals(frames[1])
