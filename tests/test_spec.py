"""Design files: the schema, the loader's messages, and every shipped malformed design."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import condapprove
from condapprove.errors import DesignError
from condapprove.spec import design_from_mapping, load_design, parse_design
from condapprove.spec.schema import Design

from .conftest import DESIGNS, ROOT

BAD = sorted((ROOT / "tests" / "bad_designs").glob("*.yaml"))


def test_there_are_at_least_25_bad_designs() -> None:
    assert len(BAD) >= 25


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_design_gives_exact_messages(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    rel = path.relative_to(ROOT).as_posix()
    with pytest.raises(DesignError) as info:
        load_design(rel)
    got = [p.format() for p in info.value.problems]
    want = path.with_suffix(".expected").read_text().splitlines()
    assert got == want
    for line in got:
        assert line.startswith(f"{rel}:")  # every message names the file and the line


@pytest.mark.parametrize("path", sorted(DESIGNS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_designs_load(path: Path) -> None:
    design = load_design(path)
    assert isinstance(design, Design)
    assert design.cutoff_month > 0


def test_all_problems_reported_not_only_first() -> None:
    many = ROOT / "tests" / "bad_designs" / "38_many_problems.yaml"
    with pytest.raises(DesignError) as info:
        load_design(many)
    assert len(info.value.problems) == 10


def test_missing_file() -> None:
    with pytest.raises(DesignError, match=r"^nope\.yaml: no such file$"):
        load_design("nope.yaml")


def test_non_utf8_file(tmp_path: Path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DesignError, match=r"latin1\.yaml:1: is not valid UTF-8 \(byte 0xe9\)"):
        load_design(f)


def test_bom_is_accepted(tmp_path: Path) -> None:
    text = (DESIGNS / "stemirac_survey.yaml").read_text()
    f = tmp_path / "bom.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_design(f).name == load_design(DESIGNS / "stemirac_survey.yaml").name


def test_yaml_11_exponent_string_is_a_number() -> None:
    text = (DESIGNS / "stemirac_survey.yaml").read_text().replace("alpha: 0.025", "alpha: 2.5e-2")
    assert parse_design(text).post_marketing.analysis.alpha == 0.025


def test_extension_allows_longer_than_7_years() -> None:
    text = (DESIGNS / "stemirac_survey.yaml").read_text().replace(
        "time_limit_years: 7 ", "time_limit_years: 5\n  extension_years: 3 ")
    d = parse_design(text)
    assert d.approval.deadline_month == 96 and d.cutoff_month == 84


def test_ratio_derives_control_accrual_and_target() -> None:
    d = load_design(DESIGNS / "two_arm_trial.yaml")
    pm = d.post_marketing
    assert pm.control_target_n == 35
    assert pm.control_accrual is not None
    assert pm.control_accrual.rate_per_month == pm.treated.accrual.rate_per_month


def test_designs_are_immutable() -> None:
    d = load_design(DESIGNS / "stemirac_survey.yaml")
    with pytest.raises(Exception, match="frozen"):
        d.name = "x"  # type: ignore[misc]


def test_schema_matches_loader_on_shipped_designs() -> None:
    """Every shipped design validates against the JSON Schema that `condapprove schema` prints."""
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = Design.model_json_schema()
    for path in DESIGNS.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        data["approval"]["date"] = str(data["approval"]["date"])
        jsonschema.validate(data, schema)


@given(rate=st.floats(allow_nan=True, allow_infinity=True), target=st.integers(-5, 500))
def test_any_accrual_rate_and_target_validate_or_fail_cleanly(rate: float, target: int) -> None:
    data = {
        "name": "h",
        "approval": {"date": dt.date(2020, 1, 1), "time_limit_years": 7},
        "post_marketing": {
            "study": "clinical_trial",
            "endpoint": {"type": "binary"},
            "treated": {"accrual": {"rate_per_month": rate}, "target_n": target},
            "control": {"kind": "benchmark", "rate": 0.2},
        },
        "scenarios": [{"name": "a", "treated_rate": 0.2}],
    }
    try:
        d = design_from_mapping(data)
    except DesignError as exc:
        assert all(p.loc.startswith("post_marketing.treated") for p in exc.problems)
    else:
        assert d.post_marketing.treated.accrual.rate_per_month > 0 and d.post_marketing.treated.target_n >= 1


def test_public_api() -> None:
    assert callable(condapprove.load_design) and callable(condapprove.simulate)
    assert "simulate" in condapprove.__all__


@pytest.mark.parametrize("text, value", [("010", 10), ("10_000", 10_000), ("0x1F", 31), ("0o17", 15), ("-5", -5),
                                         ("1e-3", 0.001), ("1.5", 1.5), ("1:30", "1:30"), ("1:30.5", "1:30.5"),
                                         ("0b101", "0b101")])
def test_numbers_are_read_as_yaml_1_2(text: str, value: object) -> None:
    """YAML 1.1 reads 1:30 as 90 (sexagesimal) and 010 as 8 (octal): a design value written by hand would pass
    silently as another number.  Read as YAML 1.2 / JSON do: text that is not a number stays text, and the
    schema refuses it with a located message."""
    import yaml

    from condapprove.spec.loader import _Loader

    assert yaml.load(f"a: {text}", Loader=_Loader)["a"] == value


def test_sexagesimal_looking_value_is_refused_with_its_location() -> None:
    from condapprove.errors import DesignErrors
    from condapprove.spec import parse_design

    text = (ROOT / "designs" / "stemirac_survey.yaml").read_text().replace("target_n: 60", "target_n: 1:00")
    assert "1:00" in text
    with pytest.raises(DesignErrors) as info:
        parse_design(text, file="x.yaml")
    assert any("target_n" in p.loc for p in info.value.problems)


def test_an_unobservable_follow_up_does_not_hide_a_control_enrolling_after_the_cut_off() -> None:
    """Both problems are reported (the check stopped at the follow-up's before), the follow-up against the latest start
    of an arm that enrols in time."""
    from condapprove.spec import design_from_mapping

    post = {"study": "clinical_trial", "endpoint": {"type": "continuous", "sd": 1, "followup_months": 50},
            "treated": {"accrual": {"rate_per_month": 2}, "target_n": 40},
            "control": {"kind": "concurrent", "accrual": {"rate_per_month": 2, "start_month": 60}, "target_n": 40}}
    with pytest.raises(DesignError) as info:
        design_from_mapping({"name": "x", "approval": {"date": "2024-07-31", "time_limit_years": 4},
                             "post_marketing": post, "scenarios": [{"name": "a", "treated_mean": 0.5,
                                                                    "control_mean": 0}]})
    got = sorted(p.format() for p in info.value.problems)
    assert got == [
        ("post_marketing.control.accrual.start_month: must be before the data cut-off (month 48): no patient could "
        "enrol; got 60"),
        ("post_marketing.endpoint.followup_months: must be < 48, the months from post_marketing.treated.accrual."
        "start_month (0) to the data cut-off (month 48): no endpoint could be observed in time; got 50")]


def test_a_baseline_is_built_once_per_spec() -> None:
    """``BaselineSpec.build`` makes the survival baseline once per (frozen) spec, as the simulation asks for it in
    every block of replicates: the same object again, equal to one made anew; another spec of equal value gets its
    own, equal to it."""
    from condapprove.spec.schema import BaselineSpec

    spec = BaselineSpec(median_months=12.0)
    first = spec.build()
    assert spec.build() is first and first == spec._build()
    other = BaselineSpec(median_months=12.0)
    assert other.build() is not first and other.build() == first
    piecewise = BaselineSpec(piecewise_exponential={"breaks": [6.0], "rates": [0.1, 0.05]})
    assert piecewise.build() is piecewise.build() and type(piecewise.build()).__name__ == "PiecewiseExponential"
