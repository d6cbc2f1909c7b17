"""Tests of condapprove.estimate.bayes against R (qbeta/pbeta and numerical integration in bayes.json)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condapprove.errors import DesignError
from condapprove.estimate.bayes import beta_posterior, normal_posterior
from condapprove.priors import Beta, BetaMixture, Normal

from .test_priors import ATOL, REF, RTOL, beta_mixture_prior, check_mixture_posterior, normal_mixture_prior, rows

PROPS = settings(derandomize=True, max_examples=100, deadline=None)


def test_reference_row_counts() -> None:
    assert len(REF["beta"]) == 20


@pytest.mark.parametrize("r", rows("beta"))
def test_beta_posterior_matches_r(r: dict[str, Any]) -> None:
    post = beta_posterior(r["x"], r["n"], prior=Beta(r["prior_a"], r["prior_b"]))
    assert isinstance(post, Beta)
    np.testing.assert_allclose([post.mean, post.sd], [r["mean"], r["sd"]], rtol=RTOL, err_msg=str(r))
    np.testing.assert_allclose(post.interval(0.95), (r["low95"], r["high95"]), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(post.interval(0.80), (r["low80"], r["high80"]), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(post.prob_greater(r["prob_greater"]["t"]), r["prob_greater"]["p"], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("r", rows("beta_mixture"))
def test_beta_mixture_posterior_matches_r(r: dict[str, Any]) -> None:
    post = beta_posterior(r["x"], r["n"], prior=beta_mixture_prior(r))
    assert isinstance(post, BetaMixture)
    check_mixture_posterior(post, r, location_atol=0.0)  # the same checks as test_priors, through the wrapper


@pytest.mark.parametrize("r", rows("normal_mixture"))
def test_normal_posterior_matches_r(r: dict[str, Any]) -> None:
    prior = normal_mixture_prior(r)
    check_mixture_posterior(normal_posterior(r["estimate"], r["se"], prior=prior), r, location_atol=ATOL)
    if prior.weights == (1.0,):  # a single normal: the Normal class gives the same answer
        single = normal_posterior(r["estimate"], r["se"], prior=Normal(prior.means[0], prior.sds[0]))
        assert isinstance(single, Normal)
        np.testing.assert_allclose([single.mean, single.sd], [r["mean"], r["sd"]], rtol=RTOL, atol=ATOL)


def test_defaults() -> None:
    post = beta_posterior(16, 19)  # uniform prior
    assert post == Beta(17, 4)
    lo, hi = post.interval(0.95)
    assert (round(lo, 3), round(hi, 3)) == (0.621, 0.943)
    flat = normal_posterior(6.0, 2.865)
    assert flat == Normal(6.0, 2.865)
    assert beta_posterior(0, 0, prior=Beta(2, 3)) == Beta(2, 3)


def test_stemirac_robust_prior_conflict() -> None:
    """A 15% historical prior robustified with 20% Beta(1, 1): 12/13 responders move all weight to the vague part."""
    post = beta_posterior(12, 13, prior=Beta(15, 85).robustify(0.2))
    assert post.weights[1] > 0.999
    assert post.prob_greater(0.5) == pytest.approx(0.9990831, rel=1e-6)  # R: integrate, see test_priors


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: beta_posterior(3, 2), r"`x` must be an integer in \[0, 2\]; got 3\."),
        (lambda: beta_posterior(1, -1), r"`n` must be an integer >= 0; got -1\."),
        (lambda: beta_posterior(1, 2, prior=Normal(0, 1)), r"`prior` must be a Beta or BetaMixture; got Normal"),
        (lambda: beta_posterior(1, 2, prior=(1, 1)), r"`prior` must be a Beta or BetaMixture"),
        (lambda: normal_posterior(1.0, 0.0), r"`se` must be a finite number > 0; got 0\.0\."),
        (lambda: normal_posterior(float("nan"), 1.0), r"`estimate` must be a finite number; got nan\."),
        (lambda: normal_posterior("a", 1.0), r"`estimate` must be a finite number"),
        (lambda: normal_posterior(1.0, 1.0, prior=Beta(1, 1)), r"`prior` must be a Normal, a NormalMixture or None"),
    ],
)
def test_validation(call, match: str) -> None:
    with pytest.raises(DesignError, match=match):
        call()


def test_validation_hint() -> None:
    with pytest.raises(DesignError) as info:
        beta_posterior(1, 2, prior=None)  # type: ignore[arg-type]
    assert info.value.problem.hint is not None and "robustify" in info.value.problem.hint


@st.composite
def data(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(0, 60))
    return draw(st.integers(0, n)), n


@PROPS
@given(data(), st.floats(0.3, 20), st.floats(0.3, 20), st.floats(0, 1), st.floats(0, 1))
def test_posterior_probabilities_in_unit_interval(xn: tuple[int, int], a: float, b: float, w: float, t: float) -> None:
    x, n = xn
    for prior in (Beta(a, b), Beta(a, b).robustify(w)):
        post = beta_posterior(x, n, prior=prior)
        p = post.prob_greater(t)
        assert 0.0 <= p <= 1.0 and not math.isnan(p)
        lo, hi = post.interval(0.9)
        assert 0.0 <= lo <= hi <= 1.0


@PROPS
@given(st.floats(-50, 50), st.floats(0.05, 20), st.floats(-50, 50), st.floats(0.05, 20), st.floats(-60, 60))
def test_normal_posterior_between_prior_and_data(y: float, se: float, m: float, s: float, t: float) -> None:
    post = normal_posterior(y, se, prior=Normal(m, s))
    assert min(y, m) - 1e-9 <= post.mean <= max(y, m) + 1e-9
    assert post.sd <= min(se, s) + 1e-12
    assert 0.0 <= post.prob_greater(t) <= 1.0
