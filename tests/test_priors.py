"""Tests of condapprove.priors: R numerical-integration references (tests/reference/bayes.json) and invariants."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import integrate

from condapprove.errors import DesignError
from condapprove.priors import Beta, BetaBinomial, BetaMixture, EssMethod, Normal, NormalMixture
from condapprove.results import ConfidenceInterval

from .conftest import REFERENCE

# bayes.json is shared with test_bayes.py, which imports REF and the helpers below.
REF = json.loads((REFERENCE / "bayes.json").read_text())
RTOL, ATOL = 1e-6, 1e-9
PROPS = settings(derandomize=True, max_examples=60, deadline=None)
ESS_METHODS: tuple[EssMethod, ...] = ("elir", "moment", "morita")


def _v(x: object) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def rows(section: str) -> list[Any]:
    """The rows of ``bayes.json[section]`` as pytest parameters (a missing section fails collection)."""
    assert REF[section], f"bayes.json has no {section!r} rows"
    return [pytest.param(r, id=f"{section}-{i}") for i, r in enumerate(REF[section])]


def beta_mixture_prior(r: dict[str, Any]) -> BetaMixture:
    return BetaMixture(_v(r["weights"]), _v(r["a"]), _v(r["b"]))


def normal_mixture_prior(r: dict[str, Any]) -> NormalMixture:
    return NormalMixture(_v(r["weights"]), _v(r["means"]), _v(r["sds"]))


def check_mixture_posterior(post: BetaMixture | NormalMixture, r: dict[str, Any], *, location_atol: float) -> None:
    """Compare a posterior with an R row: weights, mean and sd, an exceedance probability and quantiles.

    ``location_atol`` is the absolute tolerance of the mean, sd and quantiles: 0 for a beta
    mixture (probabilities, relative tolerance only), ATOL for a normal one (means near 0).
    """
    np.testing.assert_allclose(post.weights, _v(r["post_weights"]), rtol=RTOL, atol=ATOL, err_msg=str(r))
    np.testing.assert_allclose(
        [post.mean, post.sd], [r["mean"], r["sd"]], rtol=RTOL, atol=location_atol, err_msg=str(r)
    )
    np.testing.assert_allclose(
        post.prob_greater(r["prob_greater"]["t"]), r["prob_greater"]["p"], rtol=RTOL, atol=ATOL, err_msg=str(r)
    )
    np.testing.assert_allclose(
        post.ppf(r["quantiles"]["q"]), r["quantiles"]["value"], rtol=RTOL, atol=location_atol, err_msg=str(r)
    )


# ------------------------------------------------------------------------------------------------
# reference values (R, direct numerical integration)
# ------------------------------------------------------------------------------------------------
def test_reference_row_counts() -> None:
    assert len(REF["beta_mixture"]) == 20
    assert len(REF["normal_mixture"]) == 16


@pytest.mark.parametrize("r", rows("beta_mixture"))
def test_beta_mixture_posterior_matches_integration(r: dict[str, Any]) -> None:
    check_mixture_posterior(beta_mixture_prior(r).update(r["x"], r["n"]), r, location_atol=0.0)


@pytest.mark.parametrize("r", rows("normal_mixture"))
def test_normal_mixture_posterior_matches_integration(r: dict[str, Any]) -> None:
    check_mixture_posterior(normal_mixture_prior(r).update(r["estimate"], r["se"]), r, location_atol=ATOL)


@pytest.mark.parametrize("method", ESS_METHODS)
@pytest.mark.parametrize("r", rows("ess_beta"))
def test_beta_ess_matches_r(r: dict[str, Any], method: EssMethod) -> None:
    """ELIR by integrating the mixture's own derivatives in R; moment by formula; Morita as RBesT's formula."""
    # Morita: the mode is found by optimisation in both languages (R's optimize tol); 1e-6 relative
    assert beta_mixture_prior(r).ess(method) == pytest.approx(r[method], rel=RTOL), (method, r)


@pytest.mark.parametrize("method", ESS_METHODS)
@pytest.mark.parametrize("r", rows("ess_normal"))
def test_normal_ess_matches_r(r: dict[str, Any], method: EssMethod) -> None:
    prior = normal_mixture_prior(r)
    assert prior.ess(method, sigma_ref=r["sigma_ref"]) == pytest.approx(r[method], rel=RTOL), (method, r)


@pytest.mark.parametrize("r", rows("predictive"))
def test_predictive_matches_r(r: dict[str, Any]) -> None:
    pred = beta_mixture_prior(r).predictive(r["n"])
    k = np.arange(r["n"] + 1)
    np.testing.assert_allclose(pred.pmf(k), r["pmf"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(pred.cdf(k), r["cdf"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(pred.sf(k), 1.0 - np.asarray(r["cdf"]), rtol=RTOL, atol=1e-12)
    mean = float(k @ np.asarray(r["pmf"]))
    sd = math.sqrt(float((k - mean) ** 2 @ np.asarray(r["pmf"])))
    assert pred.mean == pytest.approx(mean, rel=1e-9) and pred.sd == pytest.approx(sd, rel=1e-9)


# ------------------------------------------------------------------------------------------------
# ESS: known values and predictive consistency
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("a", "b"), [(5, 15), (2.5, 1.5), (30, 70), (1.01, 3)])
def test_beta_elir_is_a_plus_b(a: float, b: float) -> None:
    assert Beta(a, b).ess("elir") == pytest.approx(a + b, rel=1e-12)
    assert Beta(a, b).ess("moment") == pytest.approx(a + b, rel=1e-12)
    # a one-component mixture goes through numerical code paths and agrees
    assert BetaMixture([1.0], [a], [b]).ess("elir") == pytest.approx(a + b, rel=1e-10)
    assert BetaMixture([1.0], [a], [b]).ess("moment") == pytest.approx(a + b, rel=1e-10)
    # two identical components are one beta
    assert BetaMixture([0.3, 0.7], [a, a], [b, b]).ess("elir") == pytest.approx(a + b, rel=1e-8)


def test_beta_elir_boundary_convention() -> None:
    """A shape parameter equal to 1 contributes no curvature (the defining integral, as RBesT)."""
    assert Beta(1, 1).ess("elir") == 0.0
    assert Beta(1, 5).ess("elir") == pytest.approx(1.0)
    assert Beta(1, 5).ess("moment") == pytest.approx(6.0)


def test_beta_morita_tends_to_a_plus_b() -> None:
    assert Beta(5, 15).ess("morita") == pytest.approx(20.0, rel=1e-3)
    assert Beta(5, 15).ess("morita", s=1e8) == pytest.approx(20.0, rel=1e-7)


@pytest.mark.parametrize(
    "prior",
    [BetaMixture([0.8, 0.2], [10, 1], [2, 1]), BetaMixture([0.5, 0.3, 0.2], [4, 10, 2], [16, 10, 2])],
)
def test_beta_elir_predictively_consistent(prior: BetaMixture) -> None:
    """E over the prior predictive of the posterior ELIR ESS = prior ESS + n (Neuenschwander 2020)."""
    n = 8
    pred = prior.predictive(n)
    expected = sum(pred.pmf(k) * prior.update(k, n).ess("elir") for k in range(n + 1))
    assert expected - n == pytest.approx(prior.ess("elir"), rel=1e-8)
    assert prior.ess("moment") != pytest.approx(prior.ess("elir"), rel=1e-3)  # the methods really differ


def test_normal_elir_predictively_consistent() -> None:
    prior = NormalMixture([0.5, 0.5], [0.0, 3.0], [2.0, 4.0])
    sigma, n = 10.0, 5
    se = sigma / math.sqrt(n)
    pred = prior.predictive(se)
    val, _ = integrate.quad(
        lambda y: pred.pdf(y) * prior.update(y, se).ess("elir", sigma_ref=sigma), -80, 80, limit=200
    )
    assert val - n == pytest.approx(prior.ess("elir", sigma_ref=sigma), rel=1e-7)


def test_normal_ess_single() -> None:
    assert Normal(0, 2).ess("elir", sigma_ref=10) == pytest.approx(25.0)
    assert Normal(0, 2).ess("moment", sigma_ref=10) == pytest.approx(25.0)
    assert Normal(0, 2).ess("morita", sigma_ref=10) == pytest.approx(25.0 * 0.99)  # s = 100 flattening


def test_ess_validation() -> None:
    with pytest.raises(DesignError, match=r"`a` and `b` must be >= 1 in every component for the 'elir' ESS"):
        Beta(0.5, 0.5).ess("elir")
    with pytest.raises(DesignError, match=r"`a` and `b` must be >= 1"):
        BetaMixture([0.5, 0.5], [0.6, 5], [2, 5]).ess()
    assert BetaMixture([0.5, 0.5], [0.6, 5], [2, 5]).ess("moment") > 0
    with pytest.raises(DesignError, match=r"`method` must be one of 'elir', 'moment', 'morita'"):
        Beta(2, 2).ess("morrita")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match=r"interior mode"):
        Beta(0.5, 3).ess("morita")
    with pytest.raises(TypeError):
        Normal(0, 1).ess("elir")  # type: ignore[call-arg]  # sigma_ref is required
    with pytest.raises(DesignError, match=r"`sigma_ref` must be a finite number > 0"):
        Normal(0, 1).ess("elir", sigma_ref=0)


# ------------------------------------------------------------------------------------------------
# construction, robustify, power prior
# ------------------------------------------------------------------------------------------------
def test_beta_basics() -> None:
    b = Beta(3, 5)
    assert (b.a, b.b) == (3.0, 5.0) and isinstance(b.a, float)
    assert b.mean == pytest.approx(3 / 8)
    assert b.sd == pytest.approx(math.sqrt(15 / (64 * 9)))
    assert Beta.from_mean_n(0.25, 8) == Beta(2, 6)
    assert isinstance(b.interval(), ConfidenceInterval)
    assert b.cdf(b.ppf(0.3)) == pytest.approx(0.3)
    assert b.prob_greater(0.4) + b.prob_less(0.4) == pytest.approx(1.0)
    assert isinstance(b.pdf(0.2), float) and b.pdf([0.2, 0.4]).shape == (2,)
    assert b.to_dict() == {"a": 3.0, "b": 5.0}
    with pytest.raises(AttributeError):
        b.a = 2.0  # type: ignore[misc]
    assert hash(b) == hash(Beta(3.0, 5.0))


def test_mixture_normalises_weights_and_exposes_components() -> None:
    m = BetaMixture([2, 6], [1, 10], [1, 30])
    assert m.weights == (0.25, 0.75)
    assert m.components == (Beta(1, 1), Beta(10, 30))
    assert m.mean == pytest.approx(0.25 * 0.5 + 0.75 * 0.25)
    assert list(m.to_frame().columns) == ["weight", "a", "b", "mean"]
    n = NormalMixture((1, 1), (0, 1), (1, 2))
    assert n.weights == (0.5, 0.5) and n.components[1] == Normal(1, 2)
    assert list(n.to_frame().columns) == ["weight", "mean", "sd"]


def test_mixture_pdf_integrates_to_one_and_cdf_ppf_invert() -> None:
    m = BetaMixture([0.6, 0.4], [2.5, 30], [7.5, 10])
    total, _ = integrate.quad(m.pdf, 0, 1, points=[0.25, 0.75])
    assert total == pytest.approx(1.0, rel=1e-9)
    q = np.array([0.0, 1e-6, 0.1, 0.5, 0.9, 1 - 1e-9, 1.0])
    assert m.cdf(m.ppf(q)) == pytest.approx(q, abs=1e-12)
    nm = NormalMixture([0.3, 0.7], [-1, 4], [0.5, 2])
    total, _ = integrate.quad(nm.pdf, -np.inf, np.inf)
    assert total == pytest.approx(1.0, rel=1e-9)
    assert nm.ppf(0.0) == -np.inf and nm.ppf(1.0) == np.inf
    assert nm.cdf(nm.ppf(q[1:-1])) == pytest.approx(q[1:-1], abs=1e-12)


def test_robustify_conventions() -> None:
    r = Beta(15, 85).robustify(0.2)
    assert r == BetaMixture([0.8, 0.2], [15, 1], [85, 1])  # Beta(1, 1) by default (RBesT)
    r = Beta(15, 85).robustify(0.3, mean=0.15)  # mean-matched, a + b = n + 1 = 2
    assert r.components[1] == Beta(0.3, 1.7)
    r = BetaMixture([0.5, 0.5], [2, 8], [8, 2]).robustify(0.1, n=3)
    assert r.weights == pytest.approx((0.45, 0.45, 0.1)) and r.components[2] == Beta(2, 2)
    nr = Normal(3.0, 1.0).robustify(0.2, sigma_ref=10.0)
    assert nr == NormalMixture([0.8, 0.2], [3.0, 3.0], [1.0, 10.0])  # default mean: the prior mean
    nr = Normal(3.0, 1.0).robustify(0.2, 0.0, sigma_ref=10.0, n=4)
    assert nr.components[1] == Normal(0.0, 5.0)


def test_power_priors() -> None:
    assert Beta.power_prior(12, 40, 0.5) == Beta(7, 15)
    assert Beta.power_prior(12, 40, 0.0) == Beta(1, 1)
    assert Beta.power_prior(12, 40, 1.0, initial=Beta(0.5, 0.5)) == Beta(12.5, 28.5)
    assert Normal.power_prior(5.0, 1.0, 0.25) == Normal(5.0, 2.0)
    init = Normal(0.0, 3.0)
    assert Normal.power_prior(5.0, 1.0, 0.0, initial=init) == init
    pp = Normal.power_prior(5.0, 1.0, 0.5, initial=init)
    expected = init.update(5.0, math.sqrt(2.0))
    assert pp.mean == pytest.approx(expected.mean) and pp.sd == pytest.approx(expected.sd)
    with pytest.raises(DesignError, match=r"`a0` must be a probability in \(0, 1\]"):
        Normal.power_prior(5.0, 1.0, 0.0)
    with pytest.raises(DesignError, match=r"`a0` must be a probability in \[0, 1\]; got 1\.5\."):
        Beta.power_prior(1, 2, 1.5)
    with pytest.raises(DesignError, match=r"`x0` must be an integer in \[0, 2\]"):
        Beta.power_prior(3, 2, 0.5)
    with pytest.raises(DesignError, match=r"`initial` must be a Beta prior"):
        Beta.power_prior(1, 2, 0.5, initial=Normal(0, 1))  # type: ignore[arg-type]


def test_normal_update_and_predictive() -> None:
    post = Normal(0.0, 5.0).update(6.0, 2.865)
    prec = 1 / 25 + 1 / 2.865**2
    assert post.sd == pytest.approx(math.sqrt(1 / prec))
    assert post.mean == pytest.approx((6.0 / 2.865**2) / prec)
    assert Normal(1.0, 3.0).predictive(4.0) == Normal(1.0, 5.0)
    pm = NormalMixture([0.5, 0.5], [0, 2], [3, 1]).predictive(4.0)
    assert pm.sds == pytest.approx((5.0, math.sqrt(17.0)))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Beta(0, 1), r"`a` must be a finite number > 0; got 0\."),
        (lambda: Beta(1, float("nan")), r"`b` must be a finite number > 0"),
        (lambda: Beta.from_mean_n(1.0, 10), r"`mean` must be a probability in \(0, 1\)"),
        (lambda: Normal(0, -1), r"`sd` must be a finite number > 0; got -1\."),
        (lambda: Normal(float("inf"), 1), r"`mean` must be a finite number"),
        (lambda: BetaMixture([0.5, 0.5], [1], [1, 1]), r"`a` must have one entry per component \(2"),
        (lambda: BetaMixture([-0.5, 1.5], [1, 1], [1, 1]), r"`weights` must be >= 0 with a positive sum"),
        (lambda: BetaMixture([0, 0], [1, 1], [1, 1]), r"`weights` must be >= 0 with a positive sum"),
        (lambda: BetaMixture([], [], []), r"`weights` must be a non-empty 1-d array"),
        (lambda: BetaMixture([1.0], [0.0], [1.0]), r"`a` must be > 0 for every component"),
        (lambda: NormalMixture([1.0], [0.0], [0.0]), r"`sds` must be > 0 for every component"),
        (lambda: Beta(2, 2).update(3, 2), r"`x` must be an integer in \[0, 2\]; got 3\."),
        (lambda: Beta(2, 2).update(1.5, 2), r"`x` must be an integer"),
        (lambda: Normal(0, 1).update(1.0, 0.0), r"`se` must be a finite number > 0; got 0\.0\."),
        (lambda: Beta(2, 2).ppf(1.5), r"`q` must be probabilities in \[0, 1\]"),
        (lambda: Beta(2, 2).cdf(float("nan")), r"`x` must not contain NaN"),
        (lambda: Beta(2, 2).interval(1.0), r"`confidence_level` must be a probability in \(0, 1\)"),
        (lambda: Beta(2, 2).robustify(1.2), r"`weight` must be a probability in \[0, 1\]"),
        (lambda: Beta(2, 2).robustify(0.2, mean=0.0), r"`mean` must be a probability in \(0, 1\)"),
        (lambda: Beta(2, 2).predictive(-1), r"`n` must be an integer in \[0, 1000000\]; got -1"),
        (lambda: BetaBinomial(3, [1, 2], [1]), r"`b` must have one entry per component \(2"),
        (lambda: BetaBinomial(3, [1, 2], [1, 1], weights=[1]), r"`a` must have one entry per component \(1"),
    ],
)
def test_validation(call, match: str) -> None:
    with pytest.raises(DesignError, match=match):
        call()


# ------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------
shape = st.floats(0.2, 60)
beta_mixtures = st.integers(1, 3).flatmap(
    lambda k: st.builds(
        BetaMixture,
        st.lists(st.floats(0.05, 1), min_size=k, max_size=k),
        st.lists(shape, min_size=k, max_size=k),
        st.lists(shape, min_size=k, max_size=k),
    )
)
normal_mixtures = st.integers(1, 3).flatmap(
    lambda k: st.builds(
        NormalMixture,
        st.lists(st.floats(0.05, 1), min_size=k, max_size=k),
        st.lists(st.floats(-10, 10), min_size=k, max_size=k),
        st.lists(st.floats(0.2, 10), min_size=k, max_size=k),
    )
)


@st.composite
def two_batches(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n1, n2 = draw(st.integers(0, 30)), draw(st.integers(0, 30))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


@PROPS
@given(shape, shape, two_batches())
@example(1.0, 1.0, (16, 19, 0, 0))
def test_beta_update_order_invariant(a: float, b: float, data: tuple[int, int, int, int]) -> None:
    x1, n1, x2, n2 = data
    prior = Beta(a, b)
    one = prior.update(x1, n1).update(x2, n2)
    other = prior.update(x2, n2).update(x1, n1)
    joint = prior.update(x1 + x2, n1 + n2)
    for post in (other, joint):
        assert (one.a, one.b) == pytest.approx((post.a, post.b), rel=1e-14)


@PROPS
@given(beta_mixtures, two_batches())
def test_beta_mixture_update_order_invariant(prior: BetaMixture, data: tuple[int, int, int, int]) -> None:
    x1, n1, x2, n2 = data
    one = prior.update(x1, n1).update(x2, n2)
    joint = prior.update(x1 + x2, n1 + n2)
    np.testing.assert_allclose(one.a, joint.a, rtol=1e-14)
    np.testing.assert_allclose(one.b, joint.b, rtol=1e-14)
    np.testing.assert_allclose(one.weights, joint.weights, rtol=1e-9, atol=1e-12)


def test_beta_mixture_update_weights_of_huge_shapes_are_the_closed_form() -> None:
    """A component of shapes 1e11 (a prior worth 2e11 patients) beside a vague one: the posterior weights are the
    closed form's, w_k B(a_k + x, b_k + n - x) / B(a_k, b_k) renormalised, with each ratio as the exactly rounded sum
    of the rising factorials' logs.  Through betaln's difference the weights were off by a relative 2e-4 (a
    randomised check)."""
    a, b, w = (1e11, 1.0), (1e11, 1.0), (0.5, 0.5)
    x, n = 30, 100
    logs = [math.log(wk) + math.fsum([math.log(ak + i) for i in range(x)] + [math.log(bk + j) for j in range(n - x)]
                                     + [-math.log(ak + bk + k) for k in range(n)]) for wk, ak, bk in zip(w, a, b)]
    top = max(logs)
    want = np.exp(np.array(logs) - top)
    want /= want.sum()
    got = BetaMixture(w, a, b).update(x, n)
    np.testing.assert_allclose(got.weights, want, rtol=1e-12)
    assert got.a == (1e11 + 30, 31.0) and got.b == (1e11 + 70, 71.0)


@PROPS
@given(normal_mixtures, st.floats(-20, 20), st.floats(0.1, 10), st.floats(-20, 20), st.floats(0.1, 10))
def test_normal_update_order_invariant(prior: NormalMixture, y1: float, s1: float, y2: float, s2: float) -> None:
    one = prior.update(y1, s1).update(y2, s2)
    other = prior.update(y2, s2).update(y1, s1)
    # the two estimates combined by inverse-variance weighting
    w1, w2 = 1 / s1**2, 1 / s2**2
    joint = prior.update((w1 * y1 + w2 * y2) / (w1 + w2), math.sqrt(1 / (w1 + w2)))
    for a, b in ((one, other), (one, joint)):
        np.testing.assert_allclose(a.means, b.means, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(a.sds, b.sds, rtol=1e-9)
        np.testing.assert_allclose(a.weights, b.weights, rtol=1e-7, atol=1e-10)


@PROPS
@given(beta_mixtures, st.floats(0, 1), st.floats(0.5, 0.99), st.floats(0.5, 0.99))
def test_beta_mixture_probabilities_and_intervals(prior: BetaMixture, t: float, l1: float, l2: float) -> None:
    p = prior.prob_greater(t)
    assert 0.0 <= p <= 1.0
    assert p + prior.prob_less(t) == pytest.approx(1.0, abs=1e-12)
    small, big = sorted((l1, l2))
    a, b = prior.interval(small), prior.interval(big)
    med = prior.ppf(0.5)
    assert b.low <= a.low + 1e-12 and a.high <= b.high + 1e-12
    assert a.low - 1e-12 <= med <= a.high + 1e-12
    assert prior.cdf(a.low) == pytest.approx((1 - small) / 2, abs=1e-9)


@PROPS
@given(normal_mixtures, st.floats(-30, 30), st.floats(0.5, 0.99))
def test_normal_mixture_probabilities_and_intervals(prior: NormalMixture, t: float, level: float) -> None:
    p = prior.prob_greater(t)
    assert 0.0 <= p <= 1.0
    lo, hi = prior.interval(level)
    assert prior.cdf(hi) - prior.cdf(lo) == pytest.approx(level, abs=1e-9)


@PROPS
@given(beta_mixtures, st.integers(0, 25))
def test_predictive_is_a_distribution(prior: BetaMixture, n: int) -> None:
    pred = prior.predictive(n)
    pmf = pred.pmf(np.arange(n + 1))
    assert np.all(pmf >= 0) and pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert pred.mean == pytest.approx(n * prior.mean, rel=1e-9, abs=1e-12)


def test_building_and_updating_priors_loads_no_heavy_scipy_module() -> None:
    """priors.py names scipy.stats, optimize and integrate through `scipy`, which loads them on first look-up: a
    Bayesian simulation builds and updates priors without paying their import (about a second)."""
    import subprocess
    import sys

    code = ("import sys; from condapprove.priors import Beta, Normal\n"
            "Beta(2, 3).update(3, 5); Normal(0.0, 1.0)\n"
            "print(sorted(m for m in ('scipy.stats', 'scipy.optimize', 'scipy.integrate') if m in sys.modules))\n"
            "from condapprove.priors import scipy; scipy.stats.beta\n"
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"]


@pytest.mark.parametrize("prior, estimate, se, mean, sd", [
    (Normal(0.0, 10.0), 6.0, 1e308, 0.0, 10.0),  # an uninformative estimate leaves the prior (was an OverflowError)
    (Normal(0.0, 1e155), 1.0, 0.5, 1.0, 0.5),  # a flat prior gives the estimate (was an OverflowError)
    (Normal(0.0, 5.0), 6.0, 1e-170, 6.0, 1e-170),  # an exact estimate (was a ZeroDivisionError)
])
def test_normal_update_at_extreme_scales(prior: Normal, estimate: float, se: float, mean: float, sd: float) -> None:
    post = prior.update(estimate, se)
    assert post.mean == pytest.approx(mean, rel=1e-15, abs=0.0) and post.sd == pytest.approx(sd, rel=1e-15)


@given(st.floats(-50, 50), st.floats(0.01, 100), st.floats(-50, 50), st.floats(0.01, 100))
def test_normal_update_is_the_precision_weighted_mean(m: float, s: float, y: float, se: float) -> None:
    """The ratio form of the update against the textbook precisions, 1/s^2 + 1/se^2."""
    post = Normal(m, s).update(y, se)
    prec = 1.0 / s**2 + 1.0 / se**2
    assert post.mean == pytest.approx((m / s**2 + y / se**2) / prec, rel=1e-12, abs=1e-12)
    assert post.sd == pytest.approx(math.sqrt(1.0 / prec), rel=1e-12)


@pytest.mark.parametrize("scale", [1e-200, 1e155, 1e300])
def test_normal_mixture_update_and_predictive_are_scale_free(scale: float) -> None:
    """A mixture on another scale (means, sds, estimate and se times s) updates to the same weights and the rescaled
    components: the variances of the textbook form overflowed beyond 1e154 (an OverflowError, found by fuzzing)."""
    prior = NormalMixture([0.3, 0.7], [-1.0, 4.0], [0.5, 2.0])
    post, pred = prior.update(2.5, 1.5), prior.predictive(1.5)
    big = NormalMixture(prior.weights, [m * scale for m in prior.means], [sd * scale for sd in prior.sds])
    big_post, big_pred = big.update(2.5 * scale, 1.5 * scale), big.predictive(1.5 * scale)
    assert big_post.weights == pytest.approx(post.weights, rel=1e-12)
    assert big_post.means == pytest.approx([m * scale for m in post.means], rel=1e-12)
    assert big_post.sds == pytest.approx([sd * scale for sd in post.sds], rel=1e-12)
    assert big_pred.sds == pytest.approx([sd * scale for sd in pred.sds], rel=1e-12)


def test_normal_update_that_overflows_is_refused() -> None:
    with pytest.raises(DesignError, match=r"^the posterior mean of a prior mean 1e\+308 and an estimate -1e\+308 "):
        Normal(1e308, 1e-3).update(-1e308, 1e-3)


@pytest.mark.parametrize("make, message", [
    (lambda: Beta(1e200, 4.0), r"^`a` must be <= 1e\+12; got 1e\+200\.$"),  # gave the interval (1.0, nan)
    (lambda: BetaMixture((0.5, 0.5), (1.0, 1.0), (1.0, 1e13)), r"^`b` must be <= 1e\+12 for every component"),
    (lambda: BetaBinomial(5, 1e13, 1.0), r"^`a` must be <= 1e\+12 for every component"),
])
def test_beta_shapes_beyond_the_accurate_range_are_refused(make: Any, message: str) -> None:
    with pytest.raises(DesignError, match=message):
        make()


def test_the_largest_beta_shape_still_gives_accurate_quantiles() -> None:
    """At MAX_BETA_SHAPE the 2.5% point of Beta(6, b) is the gamma's scaled by 1/b (to 9 digits)."""
    from scipy import stats

    from condapprove._validation import MAX_BETA_SHAPE

    b = MAX_BETA_SHAPE - 2.0
    lo = Beta(1.0, b).update(5, 7).interval(0.95).low
    assert lo == pytest.approx(float(stats.gamma.ppf(0.025, 6)) / (b + 2.0), rel=1e-9)


# ------------------------------------------------------------------------------------------ found by a randomised
# comparison with R: mixture moments by E[theta^2] - mean^2 cancelled, a zero weight gave NaN densities, and mixture
# quantiles were found to an absolute 1e-14

def test_mixture_moments_do_not_cancel() -> None:
    """One-component mixtures against their single distributions (closed forms), and two normals 1 apart at 1e8."""
    for a, b in ((6.35e11, 47.0), (1e8, 50.0), (47.0, 6.35e11)):
        mix, single = BetaMixture([1.0], [a], [b]), Beta(a, b)
        assert mix.sd == pytest.approx(single.sd, rel=1e-12)  # 0.0, and 1% too high, before
        assert mix.ess("moment") == pytest.approx(a + b, rel=1e-12)  # a Beta's moment ESS is a + b
    assert NormalMixture([1.0], [1e9], [0.1]).ess("moment", sigma_ref=1.0) == pytest.approx(100.0, rel=1e-12)
    # sd^2 = 1e-6 + 0.5^2 (each component's variance plus its squared distance to the mean)
    assert NormalMixture([0.5, 0.5], [1e8, 1e8 + 1.0], [1e-3, 1e-3]).sd == pytest.approx(math.sqrt(0.250001), rel=1e-9)
    bb = BetaBinomial(40, [6.35e11], [47.0])
    p = 6.35e11 / (6.35e11 + 47.0)  # beta-binomial variance n p (1 - p) (a + b + n) / (a + b + 1), about 40 p (1 - p)
    assert bb.sd == pytest.approx(math.sqrt(40 * p * (47.0 / (6.35e11 + 47.0)) * (6.35e11 + 87.0) / (6.35e11 + 48.0)),
                                  rel=1e-9)


def test_zero_weight_component_does_not_make_the_density_nan() -> None:
    mix = BetaMixture([0.0, 1.0], [0.5, 2.0], [2.0, 2.0])  # the first component's density is infinite at 0
    assert mix.pdf(0.0) == 0.0 == Beta(2.0, 2.0).pdf(0.0)
    assert mix.pdf(0.3) == pytest.approx(Beta(2.0, 2.0).pdf(0.3), rel=1e-15)


def test_mixture_quantiles_are_relatively_accurate_near_zero() -> None:
    mix = BetaMixture([0.5, 0.5], [0.01, 5.0], [5.0, 5.0])
    q = np.array([0.05, 0.2, 0.3, 0.45, 0.5, 0.7, 0.95])
    x = mix.ppf(q)
    assert np.all(np.diff(x) > 0)
    assert mix.cdf(x) == pytest.approx(q, rel=1e-12)  # the 0.3 quantile, 8.2e-24, came out as 9.5e-15 (cdf 0.37)
    assert x[2] == pytest.approx(10 ** -23.0866, rel=1e-3)  # R: uniroot of the mixture cdf on the log scale


def _beta_binomial_mass(n: int, k: int, a: float, b: float) -> float:
    """C(n, k) B(k + a, n - k + b) / B(a, b) as a product of ratios, each exact to the last digit (a closed form)."""
    out = float(math.comb(n, k))
    for i in range(k):
        out *= (a + i) / (a + b + i)
    for j in range(n - k):
        out *= (b + j) / (a + b + k + j)
    return out


@pytest.mark.parametrize(("a", "b", "n"), [(1e12, 1e12, 10), (1e10, 1e10, 2), (1e8, 3e8, 25), (2.0, 50.0, 30),
                                           (0.3, 0.7, 12)])
def test_beta_binomial_masses_and_tails_against_the_closed_form(a: float, b: float, n: int) -> None:
    """scipy's betabinom lost about the shapes times the machine epsilon (0.25044 for 0.24609 at shapes 1e12, 10
    patients, 5 responders; masses adding up to 1.014), and the upper tail was 1 - cdf (0 for 1.09e-19 at Beta(2, 50),
    29 or 30 of 30); found by a randomised check with mpmath."""
    pred = Beta(a, b).predictive(n)
    masses = np.array([_beta_binomial_mass(n, k, a, b) for k in range(n + 1)])
    np.testing.assert_allclose(pred.pmf(np.arange(n + 1)), masses, rtol=1e-12, atol=0)
    for k in range(-1, n + 1):
        np.testing.assert_allclose(pred.sf(k), masses[k + 1:].sum(), rtol=1e-12, atol=0)
        np.testing.assert_allclose(pred.cdf(k), masses[:k + 1].sum(), rtol=1e-12, atol=0)
    assert pred.sf(n) == 0.0 and pred.cdf(n) == 1.0 and pred.pmf(1.5) == 0.0
    assert pred.sf(n - 0.5) == pytest.approx(masses[n], rel=1e-12) and pred.cdf(n + 0.5) == 1.0 == pred.sf(-0.5)


def test_beta_sd_at_tiny_shapes_and_the_largest_predictive() -> None:
    """Beta(1e-170, 1e-170).sd raised ZeroDivisionError (a b and (a + b)^2 underflowed); its sd is 1/2.  The
    predictive's masses are summed, for up to 10^6 future patients."""
    assert Beta(1e-170, 1e-170).sd == 0.5 == BetaMixture([1.0], [1e-170], [1e-170]).sd
    assert Beta(2.0, 3.0).predictive(10**6).n == 10**6
    with pytest.raises(DesignError, match=r"^`n` must be an integer in \[0, 1000000\]; got 1000001\.$"):
        Beta(2.0, 3.0).predictive(10**6 + 1)
