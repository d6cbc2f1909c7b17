"""Evidence-level verdicts and `condapprove estimate`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from condapprove.cli import cli
from condapprove.errors import DesignError
from condapprove.evidence import (
    BinaryCohort,
    ContinuousCohort,
    ExactTest,
    LowerBound,
    NewLotPrediction,
    OneSampleLogrank,
    PosteriorProbability,
    TimeToEventCohort,
    TTest,
    evaluate_evidence,
)
from condapprove.priors import Beta, BetaMixture, Normal
from condapprove.spec import load_design

from .conftest import DESIGNS, MINIMAL_POST_MARKETING

DELYTACT = str(DESIGNS / "delytact_survey.yaml")


def test_delytact_published_exact_interval_through_the_cli() -> None:
    result = CliRunner().invoke(cli, ["estimate", DELYTACT, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    cp = doc["intervals"]["clopper-pearson"]
    assert round(cp["low"], 3) == 0.604 and round(cp["high"], 3) == 0.966  # published 60.4-96.6%
    assert doc["verdict"] == "efficacy presumed"
    assert doc["cohort"] == "16/19 responders (observed rate 0.842)" and doc["endpoint"] == "binary"


def test_table_output_names_each_criterion() -> None:
    result = CliRunner().invoke(cli, ["estimate", DELYTACT])
    assert result.exit_code == 0
    assert "clopper-pearson          0.6042 - 0.9662" in result.stdout
    assert "verdict: efficacy presumed" in result.stdout
    assert "P(effect > 0.15 | data; prior skeptical) >= 0.975" in result.stdout


def test_closed_form_values() -> None:
    """Posterior probability = Beta survival function; exact test = binomial tail; CP bound = beta quantile."""
    res = evaluate_evidence(
        BinaryCohort(responders=5, n=7),
        [PosteriorProbability(prior="skeptical", greater_than=0.3, at_least=0.9),
         LowerBound(greater_than=0.3), ExactTest(p0=0.3, alpha=0.025)],
        priors={"skeptical": Beta(3, 7)},
    )
    post, bound, test = res.criteria
    assert post.value == pytest.approx(stats.beta.sf(0.3, 3 + 5, 7 + 2), rel=1e-10)
    assert bound.value == pytest.approx(stats.beta.ppf(0.025, 5, 3), rel=1e-8)
    assert test.value == pytest.approx(stats.binom.sf(4, 7, 0.3), rel=1e-10)
    # HeartSheet-like 5/7 against 30%: the exact bound (0.290) misses 0.3, so efficacy is not presumed
    assert not bound.passed and res.verdict == "efficacy not presumed"


def test_sensitivity_lists_other_priors_and_methods() -> None:
    res = evaluate_evidence(BinaryCohort(responders=12, n=13),
                            [PosteriorProbability(prior="a", greater_than=0.3, at_least=0.95),
                             LowerBound(greater_than=0.3)],
                            priors={"a": Beta(1, 1), "b": BetaMixture([0.5, 0.5], [1, 3], [1, 7])})
    crits = [c.criterion for c in res.sensitivity]
    assert "P(effect > 0.3 | data; prior b) >= 0.95" in crits
    assert {"lower 95% bound (wilson) > 0.3", "lower 95% bound (mid-p) > 0.3"} <= set(crits)
    frame = res.to_frame()
    assert list(frame["kind"]).count("criterion") == 2


@pytest.mark.parametrize("args, match", [
    ((20, 19), r"`responders` must be an integer in \[0, 19\]; got 20."),
    ((1, 0), r"`n` must be an integer >= 1; got 0."),
])
def test_bad_cohort(args: tuple[int, int], match: str) -> None:
    with pytest.raises(DesignError, match=match):
        evaluate_evidence(BinaryCohort(responders=args[0], n=args[1]), [ExactTest(p0=0.3)])


def test_unknown_prior_in_design_file(tmp_path: Path) -> None:
    text = Path(DELYTACT).read_text().replace("prior: skeptical,", "prior: skeptic,")
    f = tmp_path / "d.yaml"
    f.write_text(text)
    with pytest.raises(DesignError) as info:
        load_design(f)
    (p,) = info.value.problems
    assert p.loc == "pre_approval.evidence.2.prior" and p.line == 34
    assert p.message.startswith("must name a prior under pre_approval.priors ('vague', 'jeffreys', ")


def test_responders_above_n_in_design_file(tmp_path: Path) -> None:
    f = tmp_path / "d.yaml"
    f.write_text(Path(DELYTACT).read_text().replace("{responders: 16, n: 19}", "{responders: 20, n: 19}"))
    result = CliRunner().invoke(cli, ["estimate", str(f)])
    assert result.exit_code == 2
    assert result.stderr == f"{f}:25:24: pre_approval.cohort.responders: must be <= n (19); got 20\n"


def test_estimate_without_pre_approval_is_an_input_error() -> None:
    result = CliRunner().invoke(cli, ["estimate", str(DESIGNS / "stemirac_survey.yaml")])
    assert result.exit_code == 2
    assert "pre_approval: required for `condapprove estimate`" in result.stderr


def test_continuous_cohort_from_published_summaries() -> None:
    """Akuugo-like: Fugl-Meyer change +8.3 (SE 1.4, n = 46); t test, t bound and normal posterior by closed form."""
    sd = 1.4 * 46**0.5
    cohort = ContinuousCohort(mean=8.3, sd=sd, n=46)
    res = evaluate_evidence(cohort, [TTest(mu0=2.3), LowerBound(greater_than=2.3),
                                     PosteriorProbability(prior="skeptical", greater_than=2.3, at_least=0.975)],
                            priors={"skeptical": Normal(0.0, 5.0)})
    t_test, bound, post = res.criteria
    assert t_test.value == pytest.approx(stats.t.sf((8.3 - 2.3) / 1.4, 45), rel=1e-10)
    assert bound.value == pytest.approx(8.3 - stats.t.ppf(0.975, 45) * 1.4, rel=1e-10)
    prec = 1 / 25 + 1 / 1.4**2
    mean = (8.3 / 1.4**2) / prec
    assert post.value == pytest.approx(stats.norm.sf(2.3, mean, prec**-0.5), rel=1e-10)
    assert res.presumed and res.notes  # the known-SD approximation is stated


def test_time_to_event_cohort() -> None:
    from condapprove.estimate.survival import ExponentialCurve, kaplan_meier, one_sample_logrank

    durations = (3.0, 5.5, 12.0, 12.0, 12.0, 12.0, 14.0, 16.0, 18.0, 20.0, 24.0, 24.0)
    events = (1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0)
    ref = ExponentialCurve.from_survival_at(12.0, 0.15)
    res = evaluate_evidence(TimeToEventCohort(durations=durations, events=events),
                            [LowerBound(greater_than=0.15, time=12.0),
                             OneSampleLogrank(reference=ref, label="S(12) = 0.15")])
    km = kaplan_meier(list(durations), list(events))
    assert res.criteria[0].value == pytest.approx(km.interval_at(12.0, 0.95).low, rel=1e-12)
    assert res.criteria[1].value == pytest.approx(
        one_sample_logrank(list(durations), list(events), ref, alternative="less").pvalue, rel=1e-12)
    assert res.verdict == "efficacy presumed"


def test_new_lot_prediction_from_lots() -> None:
    """The prediction bound is metafor's (validated in test_heterogeneity), back-transformed from log odds."""
    from condapprove.estimate.heterogeneity import log_odds, random_effects

    cohort = BinaryCohort(responders=30, n=45, lot_events=(12, 8, 10), lot_n=(15, 15, 15))
    res = evaluate_evidence(cohort, [NewLotPrediction(greater_than=0.3)])
    es = log_odds([12, 8, 10], [15, 15, 15])
    lo = random_effects(es.yi, es.vi, method="REML", test="hartung-knapp").prediction_interval(0.95).low
    assert res.criteria[0].value == pytest.approx(1 / (1 + np.exp(-lo)), rel=1e-12)


def test_new_lot_prediction_needs_lots() -> None:
    with pytest.raises(DesignError, match="needs per-lot data"):
        evaluate_evidence(BinaryCohort(responders=5, n=7), [NewLotPrediction(greater_than=0.3)])


def test_criterion_that_does_not_apply() -> None:
    with pytest.raises(DesignError, match="`TTest` does not apply to a BinaryCohort"):
        evaluate_evidence(BinaryCohort(responders=5, n=7), [TTest(mu0=0.0)])


CSV_DESIGN = """name: csv cohort
approval: {date: 2024-07-31, time_limit_years: 7}
pre_approval:
  endpoint: {type: binary, name: responder}
  cohort:
    data: cohort.csv
    columns: {response: resp, lot: lot_id}
  priors: {vague: {beta: [1, 1]}}
  evidence:
    - {criterion: posterior_probability, prior: vague, greater_than: 0.3, at_least: 0.9}
    - {criterion: new_lot_prediction, greater_than: 0.1, test: z}
""" + MINIMAL_POST_MARKETING


def _csv_design(tmp_path: Path, csv_text: str, design: str = CSV_DESIGN) -> Path:
    (tmp_path / "cohort.csv").write_bytes(csv_text.encode())
    f = tmp_path / "d.yaml"
    f.write_text(design)
    return f


def test_csv_cohort_is_read_relative_to_the_design(tmp_path: Path) -> None:
    rows = ["patient,resp,lot_id"] + [f"{i},{int(i % 3 != 0)},L{i % 4}" for i in range(24)]
    f = _csv_design(tmp_path, "\r\n".join(rows) + "\r\n")  # Windows line endings
    design = load_design(f)
    cohort = design.pre_approval.build_cohort()  # type: ignore[union-attr]
    assert (cohort.responders, cohort.n) == (16, 24) and cohort.lot_n == (6, 6, 6, 6)
    result = CliRunner().invoke(cli, ["estimate", str(f)])
    assert result.exit_code == 0, result.stderr
    assert "cohort: 16/24 responders in 4 lots" in result.stdout


@pytest.mark.parametrize("csv_text, message", [
    ("patient,resp,lot\n1,1,A\n", ("{d}:7:36: pre_approval.cohort.columns.lot: column 'lot_id' is not in the header "
                                  "of {c} (columns: patient, resp, lot) (help: did you mean 'lot'?)")),
    ("patient,resp,lot_id\n1,yes,A\n2,1,B\n3,2,B\n", ("{c}:2: column 'resp': must be 0 or 1; got 'yes'\n"
                                                     "{c}:4: column 'resp': must be 0 or 1; got '2'")),
    ("", "{c}:1: the CSV file is empty (a header row is needed)"),
    ("patient,resp,lot_id\n", "{c}:1: the CSV file has a header but no data rows"),
])
def test_csv_problems(tmp_path: Path, csv_text: str, message: str) -> None:
    f = _csv_design(tmp_path, csv_text)
    result = CliRunner().invoke(cli, ["estimate", str(f)])
    assert result.exit_code == 2
    assert result.stderr == message.format(d=f, c=tmp_path / "cohort.csv") + "\n"


def test_missing_csv_file(tmp_path: Path) -> None:
    f = tmp_path / "d.yaml"
    f.write_text(CSV_DESIGN)
    result = CliRunner().invoke(cli, ["validate", str(f)])
    assert result.exit_code == 2
    assert result.stderr == (f"{f}:6:11: pre_approval.cohort.data: no such file: {tmp_path / 'cohort.csv'} "
                             "(help: the path is relative to the design file)\n")


@pytest.mark.parametrize("old, new, message", [
    ("endpoint: {type: binary, name: responder}", "endpoint: {type: continuous, name: responder}",
     "pre_approval.cohort.columns: a continuous cohort maps value (and optionally lot); got lot, response"),
    ("{vague: {beta: [1, 1]}}", "{vague: {normal: [0, 1]}}",
     "pre_approval.priors.vague: a binary endpoint needs a beta prior; got a normal one"),
    ("- {criterion: new_lot_prediction, greater_than: 0.1, test: z}", "- {criterion: t_test, mu0: 0}",
     "pre_approval.evidence.1.criterion: 't_test' does not apply to a binary endpoint"),
])
def test_pre_approval_consistency(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(DesignError) as info:
        from condapprove.spec import parse_design

        parse_design(CSV_DESIGN.replace(old, new))
    assert message in [f"{p.loc}: {p.message}" for p in info.value.problems]


BASE_PRE = """name: edge
approval: {date: 2024-07-31, time_limit_years: 7}
pre_approval:
%s
post_marketing:
  study: clinical_trial
  endpoint: {type: binary}
  treated: {accrual: {rate_per_month: 1}, target_n: 20}
  control: {kind: benchmark, rate: 0.3}
scenarios: [{name: a, treated_rate: 0.3}]
"""


@pytest.mark.parametrize("pre, expect_code, expect", [
    # all censored: KM stays at 1, the one-sample test has O = 0: a defined result, no NaN
    (("  endpoint: {type: time_to_event}\n  cohort: {durations: [3, 5, 12], events: [0, 0, 0]}\n"
     "  evidence:\n    - {criterion: lower_bound, greater_than: 0.15, time: 2}\n"
     "    - {criterion: one_sample_logrank, reference: {median: 6}}"), 0, "verdict: efficacy"),
    # constant values: zero SD
    (("  endpoint: {type: continuous}\n  cohort: {values: [2, 2, 2]}\n"
     "  evidence:\n    - {criterion: t_test, mu0: 0}"), 2, "pre_approval.cohort.values: must not all be equal"),
    # a single lot
    (("  endpoint: {type: binary}\n  cohort: {responses: [1, 0, 1], lots: [A, A, A]}\n"
     "  evidence:\n    - {criterion: new_lot_prediction, greater_than: 0.1}"), 2, "needs at least 2 lots; got 1"),
    # x > n
    (("  endpoint: {type: binary}\n  cohort: {responders: 8, n: 7}\n"
     "  evidence:\n    - {criterion: exact_test, p0: 0.3}"), 2, "pre_approval.cohort.responders: must be <= n (7); got 8"),
])
def test_edge_cohorts_never_traceback(tmp_path: Path, pre: str, expect_code: int, expect: str) -> None:
    f = tmp_path / "d.yaml"
    f.write_text(BASE_PRE % pre)
    result = CliRunner().invoke(cli, ["estimate", str(f)])
    assert result.exit_code == expect_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert expect in (result.stdout + result.stderr)
    assert "nan" not in result.stdout.lower()


def test_estimate_json_writes_null_for_a_limit_not_reached(tmp_path: Path) -> None:
    """A Kaplan-Meier median (and its upper limit) that is not reached is infinite: the JSON says null, not
    Infinity, so strict JSON readers can load it."""
    import json

    f = tmp_path / "d.yaml"
    f.write_text(BASE_PRE % ("  endpoint: {type: time_to_event}\n  cohort: {durations: [3, 5, 12, 14], "
                             "events: [1, 0, 0, 0]}\n  evidence:\n    - {criterion: lower_bound, greater_than: 0.15, "
                             "time: 2}"))
    result = CliRunner().invoke(cli, ["estimate", str(f), "--format", "json"])
    assert result.exit_code == 0, result.output

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-JSON constant {constant} in the output")

    doc = json.loads(result.stdout, parse_constant=refuse)
    assert "null" in result.stdout and doc["verdict"]


@pytest.mark.parametrize("make, message", [
    (lambda: LowerBound(greater_than=float("nan")), r"^`greater_than` must be a finite number; got nan\.$"),
    (lambda: NewLotPrediction(greater_than=float("inf")), r"^`greater_than` must be a finite number; got inf\.$"),
    (lambda: ExactTest(p0=float("nan")), r"^`p0` must be a probability in \(0, 1\); got nan\.$"),
    (lambda: ExactTest(p0=0.3, alpha=0.0), r"^`alpha` must be a probability in \(0, 1\); got 0\.0\.$"),
    (lambda: TTest(mu0=float("-inf")), r"^`mu0` must be a finite number; got -inf\.$"),
    (lambda: PosteriorProbability(prior="p", greater_than=0.1, at_least=1.0),
     r"^`at_least` must be a probability in \(0, 1\); got 1\.0\.$"),
    (lambda: LowerBound(greater_than=0.1, confidence_level=1.5), r"^`confidence_level` must be a probability"),
    (lambda: LowerBound(greater_than=0.1, method="exact"), r"^`method` must be one of"),
    (lambda: LowerBound(greater_than=0.1, time=-3), r"^`time` must be"),
    (lambda: NewLotPrediction(greater_than=0.1, test="t"), r"^`test` must be one of"),
    (lambda: OneSampleLogrank(reference=None, label="x", method="log"), r"^`method` must be one of"),
])
def test_criteria_are_checked_when_made(make, message) -> None:
    """A NaN threshold was accepted and evaluated (never passing, without a word); now refused when made."""
    with pytest.raises(DesignError, match=message):
        make()


@pytest.mark.parametrize("criteria, message", [
    ("abc", r"^`criteria` must be a sequence of criteria; got 'abc'\.$"),  # (was a KeyError)
    (["abc"], r"^`criteria` must hold criteria \(PosteriorProbability, LowerBound, .*\); got 'abc'\.$"),
])
def test_criteria_that_are_not_criteria_are_refused(criteria, message) -> None:
    with pytest.raises(DesignError, match=message):
        evaluate_evidence(BinaryCohort(responders=16, n=19), criteria)


def test_lot_labels_must_match_the_values() -> None:
    with pytest.raises(DesignError, match=r"^`lots` must have one label per value \(3\); got 2\.$"):  # (an IndexError)
        ContinuousCohort.from_values([1.0, 2.0, 3.0], ["a", "a"])


def test_a_tiny_sd_gives_the_limit_not_a_division_by_zero() -> None:
    """An SD of 1e-308 (a variance that underflows to 0) made the normal update divide by zero; the posterior is now
    the estimate itself, as the limit of a vanishing standard error."""
    res = evaluate_evidence(ContinuousCohort(mean=8.3, sd=1e-308, n=10),
                            [PosteriorProbability(prior="p", greater_than=0.0, at_least=0.9)],
                            priors={"p": Normal(0.0, 5.0)})
    assert res.posteriors["p"]["mean"] == 8.3 and res.criteria[0].passed
