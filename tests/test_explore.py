"""compare, sweep and size: common random numbers, dotted paths, the size search."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import condapprove
from condapprove.cli import cli
from condapprove.errors import DesignError
from condapprove.explore import MAX_GRID_POINTS, _resolve, compare, numeric_paths, parse_values, set_path, size, sweep

from .conftest import DESIGNS

STEM = DESIGNS / "stemirac_survey.yaml"


def test_compare_uses_common_random_numbers() -> None:
    """The same design twice gives identical figures: the streams are the scenario's, not the run's."""
    d = condapprove.load_design(STEM)
    res = compare([d, d], labels=["a", "b"], replicates=2048, seed=4)
    assert res.results[0].scenarios == res.results[1].scenarios
    frame = res.to_frame()
    assert list(frame["design"]) == ["a"] * 3 + ["b"] * 3


def test_compare_differences_are_not_noise() -> None:
    """Two target sizes: the difference of P(confirmed) under CRN varies less than under independent seeds."""
    d = condapprove.load_design(STEM)
    d2 = set_path(d, "post_marketing.treated.target_n", 61)
    diffs_crn, diffs_ind = [], []
    for seed in range(6):
        a = condapprove.simulate(d, replicates=2048, seed=seed, scenarios=["modest"])["modest"].p_confirmed.value
        b = condapprove.simulate(d2, replicates=2048, seed=seed, scenarios=["modest"])["modest"].p_confirmed.value
        c = condapprove.simulate(d2, replicates=2048, seed=seed + 100, scenarios=["modest"])["modest"].p_confirmed.value
        diffs_crn.append(b - a)
        diffs_ind.append(c - a)
    spread = lambda x: max(x) - min(x)
    assert spread(diffs_crn) < spread(diffs_ind)


def test_paths_and_values() -> None:
    d = condapprove.load_design(STEM)
    assert "post_marketing.treated.target_n" in numeric_paths(d)
    assert "scenarios.modest.treated_rate" in numeric_paths(d)
    assert set_path(d, "scenarios.modest.treated_rate", 0.5).scenario("modest").treated_rate == 0.5
    assert set_path(d, "scenarios.1.treated_rate", 0.5).scenario("modest").treated_rate == 0.5
    assert parse_values("30:60:15") == [30.0, 45.0, 60.0]
    assert parse_values("1,2.5") == [1.0, 2.5]


@pytest.mark.parametrize("path, value, match", [
    ("post_marketing.treated.targt_n", 30, r"did you mean 'post_marketing.treated.target_n'"),
    ("post_marketing.treated.target_n", 30.5, r"is an integer field; got 30.5"),
    ("post_marketing.treated.dropout", 1.5, r"makes the design invalid: post_marketing.treated.dropout: must be < 1"),
    ("name", 3, r"must be a numeric field of the design; 'name' holds"),
])
def test_bad_paths(path: str, value: float, match: str) -> None:
    with pytest.raises(DesignError, match=match):
        set_path(condapprove.load_design(STEM), path, value)


@pytest.mark.parametrize("spec", ["a,b", "5:1:1", "1:5:0", "", "30:inf:15", "-inf:5:1", "1:5:nan", "1,inf", "nan"])
def test_bad_values(spec: str) -> None:
    with pytest.raises(DesignError, match="values must be finite numbers V1,V2,... or START:STOP:STEP"):
        parse_values(spec)


def test_a_range_of_more_values_than_a_grid_may_have_is_refused_before_it_is_built() -> None:
    assert len(parse_values(f"1:{MAX_GRID_POINTS}:1")) == MAX_GRID_POINTS
    with pytest.raises(DesignError, match=r"START:STOP:STEP gives 10,001 values, more than 10,000"):
        parse_values(f"1:{MAX_GRID_POINTS + 1}:1")
    with pytest.raises(DesignError, match=r"gives 1,000,000,001 values"):  # (counted exactly, as written)
        parse_values("30:31:1e-9")  # (a list of 10^9 floats, several GB, was built before)
    with pytest.raises(DesignError, match=r"gives 1.00e\+300 values"):
        parse_values("1:1e300:1")


def test_a_grid_of_more_points_than_allowed_is_refused_before_any_simulation() -> None:
    d = condapprove.load_design(STEM)
    values = [float(v) for v in range(20, 121)]  # 101 x 101 x 1 > 10,000
    vary = {"post_marketing.treated.target_n": values, "post_marketing.treated.accrual.rate_per_month": values}
    with pytest.raises(DesignError, match=r"the grid must have between 1 and 10,000 points; got 10,201"):
        sweep(d, vary, replicates=2048, seed=1)


@pytest.mark.parametrize("lower, upper, loc, message", [
    (-20, 40, "--lower", ("post_marketing.treated.target_n = -20 makes the design invalid: "
                          "post_marketing.treated.target_n: must be >= 1; got -20")),
    (20, 1e9, "--upper", ("post_marketing.treated.target_n = 1e+09 makes the design invalid: "
                          "post_marketing.treated.target_n: must be <= 100000; got 1000000000")),
    (20.2, 20.8, "--lower", ("post_marketing.treated.target_n is an integer field, and no whole number lies between "
                             "20.2 and 20.8")),
])
def test_size_names_the_end_that_makes_the_design_invalid(lower: float, upper: float, loc: str,
                                                          message: str) -> None:
    d = condapprove.load_design(STEM)
    with pytest.raises(DesignError) as info:
        size(d, "post_marketing.treated.target_n", target=0.5, scenario="modest", lower=lower, upper=upper,
             replicates=2048, seed=1)
    assert (info.value.problems[0].loc, info.value.problems[0].message) == (loc, message)


def test_size_names_an_unknown_null_scenario_with_a_suggestion() -> None:
    d = condapprove.load_design(STEM)
    with pytest.raises(DesignError) as info:
        size(d, "post_marketing.treated.target_n", target=0.5, scenario="modest", null_scenario="no efect",
             lower=20, upper=40, replicates=2048, seed=1)
    assert info.value.problems[0].format() == (
        "--null: must be one of 'no effect', 'modest', 'as in the approval cohort'; got 'no efect' "
        "(help: did you mean 'no effect'?)")


@pytest.mark.parametrize("lower, upper, loc", [(20, math.inf, "--upper"), (-math.inf, 40, "--lower"),
                                               (math.nan, 40, "--lower"), (20, math.nan, "--upper")])
def test_size_refuses_ends_that_are_not_finite(lower: float, upper: float, loc: str) -> None:
    d = condapprove.load_design(STEM)
    with pytest.raises(DesignError, match=r"must be a finite number") as info:
        size(d, "post_marketing.treated.target_n", target=0.5, scenario="modest", lower=lower, upper=upper,
             replicates=2048, seed=1)
    assert info.value.problems[0].loc == loc


def test_sweep_grid_is_tidy() -> None:
    d = condapprove.load_design(STEM)
    res = sweep(d, {"post_marketing.treated.target_n": [30, 60], "scenarios.modest.treated_rate": [0.4, 0.5]},
                replicates=2048, seed=1, scenarios=["modest"])
    frame = res.to_frame()
    assert len(frame) == 4
    assert list(frame.columns[:3]) == ["post_marketing.treated.target_n", "scenarios.modest.treated_rate", "scenario"]
    # an integer field's values stay integers (they were shown as 30.0), a float field's floats
    assert res.points == ((30, 0.4), (30, 0.5), (60, 0.4), (60, 0.5))
    assert [type(v) for v in res.points[0]] == [int, float] and frame.dtypes.iloc[:2].tolist() == ["int64", "float64"]
    # more patients and a larger effect both help
    p = frame.set_index(["post_marketing.treated.target_n", "scenarios.modest.treated_rate"])["p_confirmed"]
    assert p[(60, 0.5)] > p[(30, 0.5)] and p[(60, 0.5)] > p[(60, 0.4)]


def test_size_neighbour_below_misses() -> None:
    d = condapprove.load_design(STEM)
    res = size(d, "post_marketing.treated.target_n", target=0.6, scenario="modest", lower=20, upper=100,
               replicates=4096, seed=1)
    assert isinstance(res.value, int)
    assert res.p_confirmed.value >= 0.6
    assert res.p_confirmed_below is not None and res.p_confirmed_below.value < 0.6
    assert res.null_scenario == "no effect" and res.p_null is not None and res.p_null.value <= 0.025 + 3 * res.p_null.mcse


def test_size_unreachable_says_so() -> None:
    d = condapprove.load_design(STEM)
    res = size(d, "post_marketing.treated.target_n", target=0.99, scenario="modest", lower=20, upper=40,
               replicates=2048, seed=1)
    assert res.value is None and res.method == "bisection" and res.evaluated[0][0] == 40
    assert "at the upper end, 40," in res.summary() and "searched no lower value" in res.summary()
    scanned = size(d, "post_marketing.treated.target_n", target=0.99, scenario="modest", lower=20, upper=40,
                   replicates=2048, seed=1, scan=True)
    assert scanned.value is None and [v for v, _, _ in scanned.evaluated] == list(range(20, 41))
    assert "no value from 20 to 40 reaches" in scanned.summary() and "the best was" in scanned.summary()
    best = max(scanned.evaluated, key=lambda e: e[1])
    assert scanned.p_confirmed.value == best[1]


_SAW = {"name": "saw", "approval": {"date": "2020-01-01", "time_limit_years": 7},
        "post_marketing": {"study": "use_results_survey", "endpoint": {"type": "binary"},
                           "treated": {"accrual": {"rate_per_month": 50}, "target_n": 60},
                           "control": {"kind": "benchmark", "rate": 0.30},
                           "analysis": {"test": "exact_binomial", "alpha": 0.025}},
        "scenarios": [{"name": "nul", "treated_rate": 0.30}, {"name": "alt", "treated_rate": 0.45}],
        "simulation": {"replicates": 20000, "seed": 7}}


def test_size_scan_finds_the_smallest_value_of_a_saw_toothed_power() -> None:
    """An exact binomial test's power is saw-toothed in n (exact power 0.534 at n = 44, below 0.505 at 45): the
    bisection lands on a crossing (46) whose neighbour below misses, while --scan simulates every n from the lower
    end and returns the first that meets the target, 44, whose every value below misses (found by a randomised
    check of size against exact binomial power: 10 of 34 bisections returned a value above a smaller one)."""
    d = condapprove.Design.model_validate(_SAW)
    kw: dict[str, Any] = {"target": 0.505, "scenario": "alt", "lower": 20, "upper": 51, "replicates": 20000,
                          "seed": 7}
    bis = size(d, "post_marketing.treated.target_n", **kw)
    scan = size(d, "post_marketing.treated.target_n", scan=True, **kw)
    assert (bis.value, scan.value, scan.method) == (46, 44, "scan")
    assert [v for v, _, _ in scan.evaluated] == list(range(20, 45))
    assert all(p < 0.505 for v, p, _ in scan.evaluated if v < 44) and scan.p_confirmed.value >= 0.505
    assert scan.p_confirmed_below is not None and scan.p_confirmed_below.value == scan.evaluated[-2][1]
    with pytest.raises(DesignError, match=r"^--scan: --scan tries every value of an integer field"):
        size(d, "post_marketing.analysis.alpha", scan=True, **{**kw, "lower": 0.01, "upper": 0.2})
    with pytest.raises(DesignError, match=r"^--scan: --scan simulates every value, and 20 to 10,020 holds 10,001, "
                                          r"more than 10,000: narrow the range$"):
        size(d, "post_marketing.treated.target_n", scan=True, **{**kw, "upper": 10_020})


def test_size_passes_over_integers_the_allocation_cannot_take() -> None:
    """A 1:0.5 allocation takes even numbers of treated patients only: bisection's midpoints and the step down move
    to the nearest valid value (an odd midpoint failed the search: 'target_n = 45 makes the design invalid')."""
    # (without the lot variation, which the t test ignores: with it the no-effect scenario confirms at 0.035)
    d = set_path(condapprove.load_design(DESIGNS / "akuugo_trial.yaml"), "post_marketing.heterogeneity.lot_sd", 0)
    res = size(d, "post_marketing.treated.target_n", target=0.5, scenario="as in the RCT", lower=20, upper=120,
               replicates=2048, seed=3)
    assert res.value is not None and all(v % 2 == 0 for v, _, _ in res.evaluated)
    assert res.p_confirmed_below is not None
    below = [p for v, p, _ in res.evaluated if v == res.value - 2]
    assert below == [res.p_confirmed_below.value] and below[0] < 0.5 <= res.p_confirmed.value


def test_size_finds_valid_values_however_sparse() -> None:
    """Randomising 1:0.035 takes multiples of 200 treated patients only: the search looked 64 integers either side
    of a midpoint for a valid one, so bisection jumped from 200 to 800 and returned 800 where 400 meets the target
    (P 0.635, 0.380 at 200)."""
    data = condapprove.load_design(DESIGNS / "akuugo_trial.yaml").model_dump(mode="json", exclude_none=True)
    pm = data["post_marketing"]
    pm["heterogeneity"]["lot_sd"] = 0
    pm.pop("analyses")
    pm["control"]["ratio"], pm["treated"]["target_n"] = 0.035, 200
    pm["treated"]["accrual"] = {"rate_per_month": 100}
    d = condapprove.Design.model_validate(data)
    res = size(d, "post_marketing.treated.target_n", target=0.5, scenario="as in the RCT", lower=200, upper=1400,
               replicates=2048, seed=3)
    assert res.value == 400 and all(v % 200 == 0 for v, _, _ in res.evaluated)
    assert res.p_confirmed_below is not None and res.p_confirmed_below.value < 0.5 <= res.p_confirmed.value
    assert [p for v, p, _ in res.evaluated if v == 200] == [res.p_confirmed_below.value]


def test_size_checks_the_null_against_the_alpha_of_the_design_at_the_answer() -> None:
    """Sizing alpha itself: the no-effect scenario is held to the alpha at the answer (the unedited design's 0.025
    refused an answer of 0.0635 whose null rate was 0.0635)."""
    d = condapprove.load_design(STEM)
    res = size(d, "post_marketing.analysis.alpha", target=0.8, scenario="modest", lower=0.001, upper=0.3,
               replicates=4096, seed=1)
    assert res.value is not None and res.value > 0.025 and res.p_null is not None and res.p_null.value > 0.025
    assert res.p_null.value <= res.value + 3 * res.p_null.mcse


def test_size_sweep_and_compare_record_the_seed_they_drew() -> None:
    """Without a seed (the design's removed), the fresh 128-bit entropy every run used is recorded: in size's result
    and summary, in sweep's and compare's frames (a column), so the run can be repeated."""
    data = condapprove.load_design(STEM).model_dump(mode="json", exclude_none=True)
    data["simulation"].pop("seed", None)
    d = condapprove.Design.model_validate(data)
    res = size(d, "post_marketing.treated.target_n", target=0.5, scenario="modest", lower=20, upper=100,
               replicates=2048)
    assert res.seed is not None and res.seed > 2**64 and f"(seed {res.seed})" in res.summary()
    again = size(d, "post_marketing.treated.target_n", target=0.5, scenario="modest", lower=20, upper=100,
                 replicates=2048, seed=res.seed)
    assert again.evaluated == res.evaluated
    sw = sweep(d, {"post_marketing.treated.target_n": [30, 60]}, replicates=2048).to_frame()
    assert sw["seed"].nunique() == 1 and sw.columns[-1] == "seed"
    cmp = compare([d, d], replicates=2048).to_frame()
    assert cmp["seed"].nunique() == 1 and int(cmp["seed"].iloc[0]) > 2**64


def test_cli_compare_sweep_size(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["compare", str(STEM), str(DESIGNS / "delytact_survey.yaml"), "-n", "2048",
                                 "--seed", "1"])
    assert r.exit_code == 0 and "common random numbers (seed 1)" in r.stdout
    out = tmp_path / "sweep.json"
    r = CliRunner().invoke(cli, ["sweep", str(STEM), "--vary", "post_marketing.treated.target_n=30,60", "-n", "2048",
                                 "--format", "json", "--output", str(out)])
    assert r.exit_code == 0
    rows = json.loads(out.read_text())
    assert [(row["post_marketing.treated.target_n"], type(row["post_marketing.treated.target_n"])) for row in rows] \
        == [(30, int)] * 3 + [(60, int)] * 3
    assert "\n30,no effect," in CliRunner().invoke(cli, ["sweep", str(STEM), "--vary",
                                                      "post_marketing.treated.target_n=30", "-n", "2048"]).stdout
    table = CliRunner().invoke(cli, ["sweep", str(STEM), "--vary", "post_marketing.treated.target_n=30", "-n", "2048",
                                     "--format", "table", "--scenario", "modest"]).stdout  # (no control: no control figures)
    head, first = table.splitlines()[:2]
    cells = dict(zip(head.split(), first.split()))
    assert cells["expected_controls_enrolled"] == "-" and "None" not in table and "NaN" not in table
    r = CliRunner().invoke(cli, ["sweep", str(STEM), "--vary", "post_marketing.treated.target_n"])
    assert r.exit_code == 2 and r.stderr.startswith("--vary: must be PATH=V1,V2,... or PATH=START:STOP:STEP")
    r = CliRunner().invoke(cli, ["size", str(STEM), "--vary", "post_marketing.treated.target_n", "--target", "1.5",
                                 "--scenario", "modest", "--lower", "10", "--upper", "20"])
    assert r.exit_code == 2 and r.stderr == "--target: must be in (0, 1); got 1.5\n"
    r = CliRunner().invoke(cli, ["size", str(STEM), "--vary", "post_marketing.treated.target_n", "--target", "0.99",
                                 "--scenario", "modest", "--lower", "20", "--upper", "40", "-n", "2048"])
    assert r.exit_code == 2 and "below the target 0.99" in r.stdout
    r = CliRunner().invoke(cli, ["size", str(STEM), "--vary", "post_marketing.treated.target_n", "--target", "0.99",
                                 "--scenario", "modest", "--lower", "20", "--upper", "24", "-n", "2048", "--scan"])
    assert r.exit_code == 2 and "the best was" in r.stdout


def test_sweep_and_size_resume_from_checkpoints(tmp_path: Path) -> None:
    d = condapprove.load_design(STEM)
    vary = {"post_marketing.treated.target_n": [30, 60]}
    first = sweep(d, vary, replicates=4096, seed=2, checkpoint=tmp_path / "s")
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["point-0", "point-1"]
    again = sweep(d, vary, replicates=4096, seed=2, checkpoint=tmp_path / "s")
    assert again.results[1].scenarios == first.results[1].scenarios
    a = size(d, "post_marketing.treated.target_n", target=0.6, scenario="modest", lower=20, upper=100,
             replicates=2048, seed=1, checkpoint=tmp_path / "z")
    b = size(d, "post_marketing.treated.target_n", target=0.6, scenario="modest", lower=20, upper=100,
             replicates=2048, seed=1, checkpoint=tmp_path / "z")
    assert a.value == b.value and a.p_confirmed == b.p_confirmed


# ------------------------------------------------------------------------------------------ found by a randomised check
def test_every_listed_path_of_every_shipped_design_resolves() -> None:
    """Scenario names with dots ("HR 0.7", in six shipped designs) split into several parts: numeric_paths listed
    paths that set_path refused, suggesting the same path back.  Each listed path now reads the value it lists."""
    for file in sorted(DESIGNS.glob("*.yaml")):
        d = condapprove.load_design(file)
        data = d.model_dump(mode="json")
        for path in numeric_paths(d):
            holder, key = _resolve(data, path.split("."))
            assert isinstance(holder[key], (int, float)), (file.name, path)
    d = condapprove.load_design(DESIGNS / "heartsheet_registry.yaml")
    changed = set_path(d, "scenarios.HR 0.7.hazard_ratio", 0.8)
    assert [s.hazard_ratio for s in changed.scenarios] == [1.0, 0.8, 0.5]


def test_a_scenario_named_by_digits_is_addressed_by_its_name() -> None:
    """numeric_paths writes names: a scenario named "1" listed as scenarios.1 was changed at position 1 instead."""
    d = condapprove.load_design(STEM)
    data = d.model_dump(mode="json")
    data["scenarios"][0]["name"], data["scenarios"][1]["name"] = "1", "0"
    d = condapprove.Design.model_validate(data)
    assert "scenarios.1.treated_rate" in numeric_paths(d)
    changed = set_path(d, "scenarios.1.treated_rate", 0.4)
    assert changed.scenario("1").treated_rate == 0.4 and changed.scenario("0").treated_rate == 0.45
    assert set_path(d, "scenarios.2.treated_rate", 0.7).scenarios[2].treated_rate == 0.7  # no such name: a position


@pytest.mark.parametrize(("spec", "count"), [("0:1:1e-320", "1.00e+320"), ("0:1e308:1e-10", "1.00e+318"),
                                             ("-1e308:1e308:1e300", "200,000,001"),
                                             ("0:1e1000000:1", "over 10^700"), ("0:1e700:1e-10", "over 10^700")])
def test_ranges_that_overflow_are_refused(spec: str, count: str) -> None:
    """The count of a range is exact (decimal, as written) however large (floor(inf) raised OverflowError)."""
    with pytest.raises(DesignError, match=rf"gives {re.escape(count)} values, more than 10,000"):
        parse_values(spec)


@pytest.mark.parametrize("spec", ["40:40.00000000000000001:1e-17", "1e-400:1e-399:1e-400"])
def test_ranges_whose_values_are_one_double_are_refused(spec: str) -> None:
    """A step below a double's resolution gave the same number many times (ten zeros for 1e-400:1e-399:1e-400),
    which the grid would have simulated as distinct points."""
    with pytest.raises(DesignError, match=r"^--vary: START:STOP:STEP gives values that are the same number"):
        parse_values(spec)


def test_compare_needs_one_label_per_design() -> None:
    d = condapprove.load_design(STEM)
    with pytest.raises(DesignError, match=r"^`labels` must hold one label per design \(2\); got 1\.$"):
        compare([d, d], labels=["x"], replicates=2048)


# ------------------------------------------------------------------------------------ found by fuzzing the commands
def test_size_with_a_checkpoint_keeps_values_that_agree_to_six_digits_apart(tmp_path: Path) -> None:
    """A real-valued search evaluates values that ``:g`` writes alike (0.4421484375 and 0.44214796875): each has its
    own folder (``repr``), so a fresh checkpoint gives the search's result without it, instead of refusing the
    second value's folder as another run's."""
    d = condapprove.load_design(STEM)
    kw = {"target": 0.6, "scenario": "modest", "lower": 0.44, "upper": 0.46, "replicates": 2048, "seed": 3}
    plain = size(d, "scenarios.modest.treated_rate", **kw)
    kept = size(d, "scenarios.modest.treated_rate", **kw, checkpoint=tmp_path / "z")
    assert (kept.value, kept.p_confirmed) == (plain.value, plain.p_confirmed)
    names = [p.name for p in (tmp_path / "z").iterdir()]
    assert len(names) == len(set(names)) > 2 and all(float(n.removeprefix("value-")) for n in names)


def test_sweep_over_the_seed_runs_each_point_with_its_seed() -> None:
    """Varying simulation.seed gives each point that seed (the sweep passed the base design's seed to every point,
    so all rows were one run); with an explicit seed as well it is refused."""
    d = condapprove.load_design(STEM)
    res = sweep(d, {"simulation.seed": [1, 2]}, replicates=2048, scenarios=["modest"])
    for s, r in zip((1, 2), res.results):
        alone = condapprove.simulate(d, replicates=2048, seed=s, scenarios=["modest"])
        assert r["modest"].p_confirmed.value == alone["modest"].p_confirmed.value
    assert res.results[0]["modest"].p_confirmed.value != res.results[1]["modest"].p_confirmed.value
    with pytest.raises(DesignError, match="give the seed or vary it, not both") as exc:
        sweep(d, {"simulation.seed": [1, 2]}, replicates=2048, seed=5)
    assert exc.value.problems[0].loc == "--seed"
    with pytest.raises(DesignError, match="not a design quantity to size"):
        size(d, "simulation.seed", target=0.6, scenario="modest", lower=1, upper=9, replicates=2048)


@pytest.mark.parametrize("extra", [["--vary", "scenarios.modest.treated_rate=0.6"],
                                   ["--vary", "scenarios.1.treated_rate=0.6"]])
def test_a_field_varied_twice_is_refused(extra: list[str]) -> None:
    """The same path twice (the second list replaced the first) or two paths to one field (the rows were labelled
    with values never simulated) is a usage error naming --vary."""
    r = CliRunner().invoke(cli, ["sweep", str(STEM), "--vary", "scenarios.modest.treated_rate=0.4,0.5", *extra,
                                 "-n", "2048"])
    assert r.exit_code == 2
    assert r.stderr.startswith("--vary: ") and ("given twice" in r.stderr or "name the same field" in r.stderr)


def test_compare_refuses_a_scenario_of_none_of_the_designs() -> None:
    """A typo among several --scenario names was dropped silently (only a list matching nothing was refused)."""
    a, b = condapprove.load_design(STEM), condapprove.load_design(DESIGNS / "stemirac_bayesian.yaml")
    with pytest.raises(DesignError, match=r"'no efect' is a scenario of none of the designs") as exc:
        compare([a, b], replicates=2048, seed=1, scenarios=["no effect", "no efect"])
    assert exc.value.problems[0].loc == "--scenario" and exc.value.problems[0].hint == "did you mean 'no effect'?"
