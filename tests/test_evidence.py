"""Evidence-level verdicts and `condapprove estimate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy import stats

from condapprove.cli import cli
from condapprove.errors import DesignError
from condapprove.evidence import ExactLowerBound, ExactTest, PosteriorProbability, evaluate_evidence
from condapprove.priors import Beta, BetaMixture
from condapprove.spec import load_design

from .conftest import DESIGNS

DELYTACT = str(DESIGNS / "delytact_survey.yaml")


def test_delytact_published_exact_interval_through_the_cli() -> None:
    result = CliRunner().invoke(cli, ["estimate", DELYTACT, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    cp = doc["intervals"]["clopper-pearson"]
    assert round(cp["low"], 3) == 0.604 and round(cp["high"], 3) == 0.966  # published 60.4-96.6%
    assert doc["verdict"] == "efficacy presumed"
    assert doc["responders"] == 16 and doc["n"] == 19


def test_table_output_names_each_criterion() -> None:
    result = CliRunner().invoke(cli, ["estimate", DELYTACT])
    assert result.exit_code == 0
    assert "clopper-pearson            0.604 - 0.966" in result.stdout
    assert "verdict: efficacy presumed" in result.stdout
    assert "P(p > 0.15 | data; prior skeptical) >= 0.975" in result.stdout


def test_closed_form_values() -> None:
    """Posterior probability = Beta survival function; exact test = binomial tail; CP bound = beta quantile."""
    res = evaluate_evidence(
        5, 7,
        [PosteriorProbability(prior="skeptical", greater_than=0.3, at_least=0.9),
         ExactLowerBound(greater_than=0.3), ExactTest(p0=0.3, alpha=0.025)],
        priors={"skeptical": Beta(3, 7)},
    )
    post, bound, test = res.criteria
    assert post.value == pytest.approx(stats.beta.sf(0.3, 3 + 5, 7 + 2), rel=1e-10)
    assert bound.value == pytest.approx(stats.beta.ppf(0.025, 5, 3), rel=1e-8)
    assert test.value == pytest.approx(stats.binom.sf(4, 7, 0.3), rel=1e-10)
    # HeartSheet-like 5/7 against 30%: the exact bound (0.290) misses 0.3, so efficacy is not presumed
    assert not bound.passed and res.verdict == "efficacy not presumed"


def test_sensitivity_lists_other_priors_and_methods() -> None:
    res = evaluate_evidence(12, 13, [PosteriorProbability(prior="a", greater_than=0.3, at_least=0.95),
                                     ExactLowerBound(greater_than=0.3)],
                            priors={"a": Beta(1, 1), "b": BetaMixture([0.5, 0.5], [1, 3], [1, 7])})
    crits = [c.criterion for c in res.sensitivity]
    assert "P(p > 0.3 | data; prior b) >= 0.95" in crits
    assert {"lower 95% bound (wilson) > 0.3", "lower 95% bound (mid-p) > 0.3"} <= set(crits)
    frame = res.to_frame()
    assert list(frame["kind"]).count("criterion") == 2


@pytest.mark.parametrize("args, match", [
    ((20, 19), r"`responders` must be an integer in \[0, 19\]; got 20."),
    ((1, 0), r"`n` must be an integer >= 1; got 0."),
])
def test_bad_cohort(args: tuple[int, int], match: str) -> None:
    with pytest.raises(DesignError, match=match):
        evaluate_evidence(*args, [ExactTest(p0=0.3)])


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
