"""Installation qualification (condapprove.selftest): passes here, fails on a perturbed value, reports, no drift."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import math
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from condapprove import selftest
from condapprove.errors import DesignError
from condapprove.selftest import DEPENDENCIES, Check, SelftestResult, run_selftest

from .conftest import REFERENCE, ROOT

FAMILIES = {"binomial", "t_tests", "survival", "random_effects", "group_sequential", "posteriors", "engine"}
PROPS = settings(derandomize=True, max_examples=200, deadline=None)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_selftest_data", REFERENCE / "make_selftest_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[SelftestResult, Path]:
    """One full self-test (it is what takes the time), with its text report."""
    report = tmp_path_factory.mktemp("iq") / "validation.txt"
    return run_selftest(report=report), report


# ------------------------------------------------------------------------------------------ on this install
def test_passes_on_this_install(run: tuple[SelftestResult, Path]) -> None:
    result, _ = run
    assert result.failures == (), result.summary()
    assert result.passed and result.verdict == "PASS" and result.n_failed == 0
    assert result.n_checks == len(result.checks) > 1000
    assert {f.name for f in result.families} == FAMILIES
    assert all(f.n_failed == 0 and f.n_checks > 20 for f in result.families)
    assert sum(f.n_checks for f in result.families) == result.n_checks
    assert result.elapsed_seconds < 10


def test_every_packaged_quantity_is_checked(run: tuple[SelftestResult, Path]) -> None:
    result, _ = run
    data = selftest._load_reference()
    names = [f"{case['id']}: {q}" for fam in data for case in fam["cases"] for q in case["expected"]]
    assert [c.name for c in result.checks] == names
    assert len(set(names)) == len(names)  # every check is identifiable
    assert {case["call"] for fam in data for case in fam["cases"]} == set(selftest._RUNNERS)


def test_references_and_tolerances_are_stated(run: tuple[SelftestResult, Path]) -> None:
    result, _ = run
    for c in result.checks:
        assert c.reference.startswith("R 4.2.2 "), c
        assert c.tolerance_reason and 0 <= c.tolerance <= 1e-6 and 0 < c.abs_tolerance <= 1e-6, c
    for f in result.families:
        assert f.tolerance_reason and f.sources and all((ROOT / s).is_file() for s in f.sources)
        # 1e-6 relative unless a reason is stated (group-sequential: rpact's own precision, absolute)
        assert f.tolerance == 1e-6 or "rpact" in f.tolerance_reason
    assert any("coxph" in c.reference and c.abs_tolerance == 1e-8 for c in result.checks)


def test_summary_and_result_objects(run: tuple[SelftestResult, Path]) -> None:
    result, _ = run
    text = result.summary()
    assert text.splitlines()[0] == f"condapprove {result.condapprove_version} installation qualification: PASS"
    assert f"{result.n_checks} of {result.n_checks} checks agree" in text
    assert all(f.name in text for f in result.families) and "failed checks" not in text
    assert "numpy" in text and "statsmodels" in text
    assert repr(result).startswith("SelftestResult(verdict='PASS'") and "\n" not in repr(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = False  # type: ignore[misc]
    frame = result.to_frame()
    assert len(frame) == result.n_checks and bool(frame["passed"].all())
    assert list(frame.columns[:4]) == ["family", "name", "expected", "observed"]
    d = result.to_dict()
    assert d["passed"] is True and len(d["checks"]) == result.n_checks
    assert isinstance(result.checks[0].expected, float) and isinstance(result.checks[0].passed, bool)


# ------------------------------------------------------------------------------------------ the report
def test_text_report_lists_every_check_with_its_tolerance(run: tuple[SelftestResult, Path]) -> None:
    result, path = run
    text = path.read_text()
    lines = text.splitlines()
    for key in ("system", "machine", "python", "condapprove", *DEPENDENCIES):
        assert any(line.strip().startswith(key) for line in lines), key
    rows = [line for line in lines if line.startswith(("PASS ", "FAIL "))]
    assert len(rows) == result.n_checks
    for c, row in zip(result.checks, rows, strict=True):
        assert row.startswith("PASS") and row.endswith(f"{c.name} [{c.reference}]")
        rtol, atol = row.split()[4:6]
        assert (float(rtol), float(atol)) == (c.tolerance, c.abs_tolerance)
        assert float(row.split()[1]) == pytest.approx(c.expected, rel=1e-15)
    for f in result.families:
        assert f"[{f.name}] {f.title}" in text and f.tolerance_reason in text
    assert lines[-2].startswith("VERDICT: PASS")


def test_json_report(run: tuple[SelftestResult, Path], tmp_path: Path) -> None:
    result, _ = run
    path = tmp_path / "validation.json"
    result.write_report(path)
    report = json.loads(path.read_text())
    assert report["verdict"] == "PASS" and report["passed"] is True
    assert set(report["versions"]) == set(DEPENDENCIES) and report["condapprove_version"]
    assert {"system", "platform", "machine", "python"} <= set(report["platform"])
    assert len(report["checks"]) == result.n_checks
    for row in report["checks"]:
        assert {"name", "expected", "observed", "tolerance", "abs_tolerance", "passed", "reference"} <= set(row)
    assert [f["name"] for f in report["families"]] == [f.name for f in result.families]
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, no temporary left behind


def test_report_argument_is_checked_before_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest, "_load_reference", lambda: pytest.fail("ran before validating `report`"))
    missing = tmp_path / "no" / "such" / "folder" / "r.txt"
    with pytest.raises(DesignError, match=r"`report` must be a file in an existing folder; got '.*r\.txt'\.") as info:
        run_selftest(report=missing)
    assert info.value.problem.hint is not None and "create the folder" in info.value.problem.hint
    with pytest.raises(DesignError, match=r"`report` must be a file path, not a folder"):
        run_selftest(report=tmp_path)
    with pytest.raises(DesignError, match=r"`report` must be a file path; got 3\."):
        run_selftest(report=3)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ failing installs
def _one_family(name: str) -> list[dict[str, Any]]:
    return [copy.deepcopy(f) for f in selftest._load_reference() if f["family"] == name]


def test_perturbed_expected_value_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = _one_family("binomial")
    case = next(c for c in data[0]["cases"] if c["id"].startswith("binomial_interval(x=12, n=13, clopper-pearson"))
    case["expected"]["low"] *= 1 + 1e-4  # 100 x the tolerance
    monkeypatch.setattr(selftest, "_load_reference", lambda: data)
    result = run_selftest(report=tmp_path / "r.txt")
    assert not result.passed and result.verdict == "FAIL" and result.n_failed == 1
    (bad,) = result.failures
    assert bad.name == f"{case['id']}: low" and bad.error is None
    assert bad.difference == pytest.approx(abs(bad.expected) * 1e-4 / (1 + 1e-4), rel=1e-6)
    summary = result.summary()
    assert "installation qualification: FAIL" in summary and "1 FAILED" in summary and bad.name in summary
    text = (tmp_path / "r.txt").read_text()
    assert "VERDICT: FAIL" in text
    assert sum(line.startswith("FAIL ") for line in text.splitlines()) == 1


def test_a_computation_error_fails_with_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _one_family("engine")
    del data[0]["cases"][0]["args"]["p0"]  # the runner cannot call the API
    data[0]["cases"][1]["call"] = "not_a_function"
    data[0]["cases"][2]["expected"]["not a quantity"] = 0.5
    monkeypatch.setattr(selftest, "_load_reference", lambda: data)
    result = run_selftest()
    assert result.verdict == "FAIL" and result.n_failed == 3
    first, second, third = result.failures
    assert first.error == "KeyError: 'p0'" and math.isnan(first.observed)
    assert second.error is not None and "no runner for 'not_a_function'" in second.error
    assert third.error == "'not a quantity' was not computed"
    assert first.error in result.summary()


def test_no_or_malformed_reference_data_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest, "_load_reference", list)
    empty = run_selftest()
    assert not empty.passed and empty.n_checks == 0 and "no reference data found" in empty.summary()
    monkeypatch.setattr(selftest, "_load_reference", lambda: [{"format": 99, "family": "future"}])
    future = run_selftest()
    assert not future.passed and future.failures[0].error is not None and "format 99" in future.failures[0].error


@PROPS
@given(st.floats(-1e6, 1e6, allow_subnormal=False), st.floats(1e-9, 1e-3), st.floats(1e-12, 1e-3),
       st.floats(0.0, 0.99), st.sampled_from([-1.0, 1.0]))
@example(0.0, 1e-6, 1e-9, 0.5, 1.0)
def test_pass_criterion(expected: float, rtol: float, atol: float, fraction: float, sign: float) -> None:
    """Inside the tolerance passes, beyond it fails, NaN always fails, whatever the side."""
    allowed = atol + rtol * abs(expected)
    assert selftest._agrees(expected, expected + sign * fraction * allowed, rtol, atol)
    assert not selftest._agrees(expected, expected + sign * 2.0 * allowed, rtol, atol)
    assert not selftest._agrees(expected, math.nan, rtol, atol)
    assert selftest._agrees(math.inf, math.inf, rtol, atol) and not selftest._agrees(math.inf, expected, rtol, atol)


def test_check_difference() -> None:
    kw: dict[str, Any] = {"name": "x", "family": "f", "tolerance": 1e-6, "abs_tolerance": 0.0, "tolerance_reason": "r",
                          "passed": True, "reference": "R"}
    assert Check(expected=2.0, observed=2.5, **kw).difference == 0.5
    assert Check(expected=math.inf, observed=math.inf, **kw).difference == 0.0


# ------------------------------------------------------------------------------------------ one source of truth
def test_packaged_data_equal_the_generator_output() -> None:
    built = _generator().build()
    folder = resources.files("condapprove") / "reference"
    packaged = {e.name: e.read_text(encoding="utf-8") for e in folder.iterdir() if e.name.endswith(".json")}
    assert sorted(packaged) == sorted(built), "run: python tests/reference/make_selftest_data.py"
    for name, text in built.items():
        assert packaged[name] == text, f"{name} is stale: run python tests/reference/make_selftest_data.py"


def test_packaged_values_are_the_fixture_values() -> None:
    """Spot checks that the generator copies, never recomputes: values found verbatim in the fixtures."""
    fixtures = {p.name: p.read_text() for p in REFERENCE.glob("*.json")}
    for family in selftest._load_reference():
        (source,) = family["sources"]
        raw = json.loads(fixtures[Path(source).name])
        flat: set[float] = set()

        def walk(x: Any, out: set[float] = flat) -> None:
            if isinstance(x, dict):
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
            elif isinstance(x, (int, float)) and not isinstance(x, bool):
                out.add(float(x))

        walk(raw)
        for case in family["cases"]:
            for q, v in case["expected"].items():
                assert v in flat, (family["family"], case["id"], q)


def test_selection_covers_the_edge_cases() -> None:
    data = {f["family"]: f for f in selftest._load_reference()}
    intervals = [c["args"] for c in data["binomial"]["cases"] if c["call"] == "binomial_interval"]
    assert {"clopper-pearson", "wilson", "jeffreys", "mid-p"} == {a["method"] for a in intervals}
    assert any(a["x"] == 0 for a in intervals) and any(a["x"] == a["n"] for a in intervals)
    assert {"two-sided", "greater"} <= {a["alternative"] for a in intervals}
    gs = [c["args"] for c in data["group_sequential"]["cases"]]
    assert {a["spending"] for a in gs} == {"obrien-fleming", "pocock", "kim-demets", "hwang-shih-decani"}
    assert {a["binding"] for a in gs if a["futility"] or a["beta_spending"]} == {True, False}
    assert any(a["beta_spending"] for a in gs) and any(len(a["information_rates"]) == 1 for a in gs)
    survival_calls = {c["call"] for c in data["survival"]["cases"]}
    assert survival_calls == {"kaplan_meier", "logrank_test", "cox_hazard_ratio"}
    methods = {c["args"].get("method") for c in data["random_effects"]["cases"]}
    assert {"REML", "DL", "PM", "ML"} <= methods
    assert {c["call"] for c in data["engine"]["cases"]} == {"exact_binomial_pvalue", "fisher_pvalue",
                                                             "binary_power_fixed_n"}
