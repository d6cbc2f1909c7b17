"""Exact and score methods for a binomial proportion and for two proportions.

* :func:`binomial_interval` -- Clopper-Pearson, Wilson, Jeffreys and mid-p intervals.
* :func:`binomial_test` -- exact (or mid-p) test of a single-arm response rate against a
  historical rate, as in R's ``binom.test``.
* :func:`two_proportions` -- difference of two proportions with the Newcombe hybrid-score interval
  and Fisher's exact p-value, as in R's ``fisher.test``.

Small single-arm cohorts (Delytact 16/19, Stemirac 12/13) are the use case: exact methods, and
the choice of method, matter at these sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from scipy import optimize, special, stats

from .._typing import Alternative
from .._validation import check_confidence_level, check_one_of, check_probability
from ..results import ConfidenceInterval, ResultMixin
from ._common import check_alternative, check_counts, pvalue_from_tails

__all__ = [
    "BinomialTestResult",
    "IntervalMethod",
    "TwoProportionsResult",
    "binomial_interval",
    "binomial_test",
    "two_proportions",
]

IntervalMethod = Literal["clopper-pearson", "wilson", "jeffreys", "mid-p"]
_METHODS = ("clopper-pearson", "wilson", "jeffreys", "mid-p")
_R_REL_ERR = 1.0 + 1e-7  # R's relative tolerance for "as or less likely" in binom.test / fisher.test


def _binomial_interval_iv(
    x: int, n: int, method: str, confidence_level: float, alternative: str
) -> tuple[int, int, IntervalMethod, float, Alternative]:
    x, n = check_counts(x, n)
    meth = cast(IntervalMethod, check_one_of(method, "method", _METHODS))
    level = check_confidence_level(confidence_level)
    return x, n, meth, level, check_alternative(alternative)


#: The mid-p bounds' absolute tolerance: none to speak of, so that a bound is found to a relative 4 eps however
#: small (an absolute 1e-15 gave a lower bound of 0 for 1 of 10^6 at a level of 1 - 1e-10, where it is 1e-16).
_XTOL = 1e-300


def _lower_bound(x: int, n: int, method: str, tail: float) -> float:
    """Lower confidence bound with one-sided error ``tail``."""
    if method == "wilson":
        return _wilson(x, n, -float(special.ndtri(tail)))[0]
    if x == 0:
        return 0.0
    if method == "clopper-pearson":
        return float(special.betaincinv(x, n - x + 1, tail))
    if method == "jeffreys":
        return float(special.betaincinv(x + 0.5, n - x + 0.5, tail))

    # mid-p: P(X > x) + P(X = x) / 2 = tail, increasing in p
    def f(p: float) -> float:
        return float(stats.binom.sf(x, n, p) + 0.5 * stats.binom.pmf(x, n, p)) - tail

    return float(optimize.brentq(f, 0.0, 1.0, xtol=_XTOL, rtol=4 * np.finfo(float).eps))


def _upper_bound(x: int, n: int, method: str, tail: float) -> float:
    """Upper confidence bound with one-sided error ``tail`` (through the tail itself, not ``1 - tail``, which rounds
    to 1 for a tail below 1.1e-16: a Wilson interval of NaN and a Clopper-Pearson bound of 1 at a level of
    1 - 1e-16)."""
    if method == "wilson":
        return _wilson(x, n, -float(special.ndtri(tail)))[1]
    if x == n:
        return 1.0
    if method == "clopper-pearson":
        return float(special.betainccinv(x + 1, n - x, tail))
    if method == "jeffreys":
        return float(special.betainccinv(x + 0.5, n - x + 0.5, tail))

    # mid-p: P(X < x) + P(X = x) / 2 = tail, decreasing in p
    def f(p: float) -> float:
        return float(stats.binom.cdf(x - 1, n, p) + 0.5 * stats.binom.pmf(x, n, p)) - tail

    return float(optimize.brentq(f, 0.0, 1.0, xtol=_XTOL, rtol=4 * np.finfo(float).eps))


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # exact 0 at x = 0 and 1 at x = n (the formula gives them up to rounding)
    low = 0.0 if x == 0 else max(centre - half, 0.0)
    high = 1.0 if x == n else min(centre + half, 1.0)
    return float(low), float(high)


def _interval(x: int, n: int, method: str, level: float, alternative: str) -> ConfidenceInterval:
    alpha = 1.0 - level
    if alternative == "two-sided":
        return ConfidenceInterval(_lower_bound(x, n, method, alpha / 2), _upper_bound(x, n, method, alpha / 2))
    if alternative == "greater":
        return ConfidenceInterval(_lower_bound(x, n, method, alpha), 1.0)
    return ConfidenceInterval(0.0, _upper_bound(x, n, method, alpha))


def binomial_interval(
    x: int,
    n: int,
    *,
    method: IntervalMethod = "clopper-pearson",
    confidence_level: float = 0.95,
    alternative: Alternative = "two-sided",
) -> ConfidenceInterval:
    """Confidence interval for a binomial proportion.

    Parameters
    ----------
    x : int
        Number of responders, ``0 <= x <= n``.
    n : int
        Number of patients (>= 1).
    method : {'clopper-pearson', 'wilson', 'jeffreys', 'mid-p'}, optional
        Interval method (default the exact Clopper-Pearson interval).
    confidence_level : float, optional
        Confidence level in (0, 1); default 0.95.
    alternative : {'two-sided', 'less', 'greater'}, optional
        ``'two-sided'`` gives an equal-tailed interval (error ``(1 - level) / 2`` in each tail);
        ``'greater'`` a lower bound ``(low, 1)`` and ``'less'`` an upper bound ``(0, high)``, each
        with error ``1 - level``.

    Returns
    -------
    ConfidenceInterval
        ``(low, high)``, within [0, 1].

    Notes
    -----
    With one-sided error ``e`` (``e = (1 - level)/2`` two-sided):

    * Clopper-Pearson (exact): ``low = Beta^{-1}(e; x, n - x + 1)``,
      ``high = Beta^{-1}(1 - e; x + 1, n - x)``; ``low = 0`` at ``x = 0`` and ``high = 1`` at
      ``x = n``. Guarantees coverage >= level; conservative. Matches R's ``binom.test``.
    * Wilson (score): ``(p + z^2/2n ± z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with
      ``z = Phi^{-1}(1 - e)``; R's ``prop.test(correct = FALSE)``. The bounds are set to exactly 0
      at ``x = 0`` and 1 at ``x = n`` (the formula's value up to rounding).
    * Jeffreys: the equal-tailed quantiles of ``Beta(x + 1/2, n - x + 1/2)`` (the posterior under
      the Jeffreys prior), with the boundary convention of Brown, Cai and DasGupta (2001):
      ``low = 0`` when ``x = 0`` and ``high = 1`` when ``x = n``.
    * mid-p: the exact interval with half the probability of the observed count, found by Brent's
      method: ``low`` solves ``P(X > x) + P(X = x)/2 = e`` and ``high`` solves
      ``P(X < x) + P(X = x)/2 = e``; same boundary convention. Coverage close to the nominal level
      on average, but not guaranteed.

    References
    ----------
    Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of the
    binomial. Biometrika 1934;26:404-413.

    Brown LD, Cai TT, DasGupta A. Interval estimation for a binomial proportion. Stat Sci
    2001;16:101-133.

    Examples
    --------
    Delytact: 16 of 19 patients alive at one year (published exact 95% CI 60.4-96.6%):

    >>> from condapprove.estimate.proportions import binomial_interval
    >>> lo, hi = binomial_interval(16, 19)
    >>> round(lo, 3), round(hi, 3)
    (0.604, 0.966)
    >>> lo, hi = binomial_interval(16, 19, method="wilson")
    >>> round(lo, 3), round(hi, 3)
    (0.624, 0.945)
    """
    x, n, method, level, alternative = _binomial_interval_iv(x, n, method, confidence_level, alternative)
    return _interval(x, n, method, level, alternative)


@dataclass(frozen=True, slots=True, kw_only=True)
class BinomialTestResult(ResultMixin):
    """Result of :func:`binomial_test`.

    Attributes
    ----------
    statistic : float
        The observed proportion ``k / n``.
    pvalue : float
        The p-value (exact or mid-p, see ``pvalue_method``).
    k : int
        Number of responders.
    n : int
        Number of patients.
    p0 : float
        Hypothesised (historical) response rate.
    alternative : str
        ``'greater'`` tests ``p > p0``, ``'less'`` tests ``p < p0``, ``'two-sided'`` ``p != p0``.
    pvalue_method : str
        ``'exact'`` or ``'mid-p'``.
    """

    statistic: float
    pvalue: float
    k: int
    n: int
    p0: float
    alternative: str
    pvalue_method: str

    def interval(
        self, confidence_level: float = 0.95, *, method: IntervalMethod = "clopper-pearson"
    ) -> ConfidenceInterval:
        """Confidence interval for the proportion, sided as the test's ``alternative``.

        Parameters
        ----------
        confidence_level : float, optional
            Confidence level in (0, 1); default 0.95.
        method : {'clopper-pearson', 'wilson', 'jeffreys', 'mid-p'}, optional
            See :func:`binomial_interval`.

        Returns
        -------
        ConfidenceInterval
        """
        return binomial_interval(
            self.k,
            self.n,
            method=method,
            confidence_level=confidence_level,
            alternative=self.alternative,  # type: ignore[arg-type]
        )


def _binomial_test_iv(
    x: int, n: int, p0: float, alternative: str, pvalue_method: str
) -> tuple[int, int, float, Alternative, Literal["exact", "mid-p"]]:
    x, n = check_counts(x, n)
    p0 = check_probability(p0, "p0", open_low=True, open_high=True)
    alt = check_alternative(alternative)
    pm = cast(Literal["exact", "mid-p"], check_one_of(pvalue_method, "pvalue_method", ("exact", "mid-p")))
    return x, n, p0, alt, pm


def _two_sided_minlike(x: int, n: int, p: float) -> float:
    """R's ``binom.test`` two-sided p-value: total probability of outcomes no likelier than ``x``."""
    d = float(stats.binom.pmf(x, n, p))
    m = n * p
    if x == m:
        return 1.0
    if x < m:
        i = np.arange(math.ceil(m), n + 1)
        y = int(np.sum(stats.binom.pmf(i, n, p) <= d * _R_REL_ERR))
        pv = float(stats.binom.cdf(x, n, p) + stats.binom.sf(n - y, n, p))
    else:
        i = np.arange(0, math.floor(m) + 1)
        y = int(np.sum(stats.binom.pmf(i, n, p) <= d * _R_REL_ERR))
        pv = float(stats.binom.cdf(y - 1, n, p) + stats.binom.sf(x - 1, n, p))
    return min(1.0, pv)


def binomial_test(
    x: int,
    n: int,
    p0: float,
    *,
    alternative: Alternative = "greater",
    pvalue_method: Literal["exact", "mid-p"] = "exact",
) -> BinomialTestResult:
    """Exact binomial test of a response rate against a fixed (historical) rate ``p0``.

    Parameters
    ----------
    x : int
        Number of responders, ``0 <= x <= n``.
    n : int
        Number of patients (>= 1).
    p0 : float
        Null response rate, in (0, 1).
    alternative : {'greater', 'less', 'two-sided'}, optional
        Default ``'greater'``: is the rate above the historical rate?
    pvalue_method : {'exact', 'mid-p'}, optional
        ``'exact'`` (default) or Lancaster's mid-p.

    Returns
    -------
    BinomialTestResult
        With ``statistic = x / n``, ``pvalue`` and ``.interval(confidence_level, method=...)``.

    Notes
    -----
    Exact p-values: ``P(X >= x)`` ('greater'), ``P(X <= x)`` ('less'), and two-sided as R's
    ``binom.test``: the total probability of outcomes whose probability is at most
    ``P(X = x) (1 + 1e-7)`` (the "minimum-likelihood" method). This two-sided test is not the
    dual of the equal-tailed Clopper-Pearson interval; the one-sided tests are.

    Mid-p p-values subtract half the probability of the observed count: ``P(X > x) + P(X = x)/2``
    ('greater'), ``P(X < x) + P(X = x)/2`` ('less'); two-sided is twice the smaller of the two,
    capped at 1 (dual to the mid-p interval of :func:`binomial_interval`). Mid-p tests do not
    guarantee the nominal type I error.

    References
    ----------
    Lancaster HO. Significance tests in discrete distributions. JASA 1961;56:223-234.

    Examples
    --------
    Stemirac: 12 of 13 improved, against a 50% historical improvement rate:

    >>> from condapprove.estimate.proportions import binomial_test
    >>> res = binomial_test(12, 13, 0.5)
    >>> round(res.statistic, 4), round(res.pvalue, 6)
    (0.9231, 0.001709)
    >>> lo, hi = res.interval(0.95)
    >>> round(lo, 3), hi
    (0.684, 1.0)
    """
    x, n, p0, alternative, pvalue_method = _binomial_test_iv(x, n, p0, alternative, pvalue_method)
    if pvalue_method == "exact":
        if alternative == "greater":
            pv = float(stats.binom.sf(x - 1, n, p0))
        elif alternative == "less":
            pv = float(stats.binom.cdf(x, n, p0))
        else:
            pv = _two_sided_minlike(x, n, p0)
    else:
        half = 0.5 * float(stats.binom.pmf(x, n, p0))
        upper = float(stats.binom.sf(x, n, p0)) + half
        lower = float(stats.binom.cdf(x - 1, n, p0)) + half
        pv = pvalue_from_tails(lower, upper, alternative)
    return BinomialTestResult(
        statistic=x / n,
        pvalue=min(1.0, max(0.0, pv)),
        k=x,
        n=n,
        p0=p0,
        alternative=alternative,
        pvalue_method=pvalue_method,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TwoProportionsResult(ResultMixin):
    """Result of :func:`two_proportions`.

    Attributes
    ----------
    statistic : float
        The difference ``p1 - p2 = x1/n1 - x2/n2``.
    pvalue : float
        Fisher's exact p-value (conditional on both margins), as R's ``fisher.test``.
    p1, p2 : float
        The two observed proportions.
    x1, n1, x2, n2 : int
        The counts.
    alternative : str
        ``'greater'`` tests ``p1 > p2``, ``'less'`` ``p1 < p2``.
    confidence_level : float
        The level of ``ci``.
    ci : ConfidenceInterval
        Newcombe hybrid-score interval for ``p1 - p2`` at ``confidence_level``, sided as
        ``alternative`` (bounds -1 / 1 on the open side).
    """

    statistic: float
    pvalue: float
    p1: float
    p2: float
    x1: int
    n1: int
    x2: int
    n2: int
    alternative: str
    confidence_level: float
    ci: ConfidenceInterval

    def interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Newcombe hybrid-score interval for ``p1 - p2`` (default: the level given to the function).

        Parameters
        ----------
        confidence_level : float, optional
            Confidence level in (0, 1); default ``self.confidence_level``.

        Returns
        -------
        ConfidenceInterval
        """
        level = self.confidence_level if confidence_level is None else check_confidence_level(confidence_level)
        return _newcombe(self.x1, self.n1, self.x2, self.n2, level, self.alternative)


def _newcombe(x1: int, n1: int, x2: int, n2: int, level: float, alternative: str) -> ConfidenceInterval:
    alpha = 1.0 - level
    z = -float(special.ndtri(alpha / 2 if alternative == "two-sided" else alpha))  # (not ndtri(1 - tail): see _upper_bound)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    low, high = max(low, -1.0), min(high, 1.0)  # rounding at |d| = 1
    if alternative == "greater":
        return ConfidenceInterval(low, 1.0)
    if alternative == "less":
        return ConfidenceInterval(-1.0, high)
    return ConfidenceInterval(low, high)


def _fisher_pvalue(x1: int, n1: int, x2: int, n2: int, alternative: str) -> float:
    m = x1 + x2  # total responders
    total = n1 + n2
    dist = stats.hypergeom(total, m, n1)  # X1 = responders in group 1 given the margins
    if alternative == "greater":
        return float(dist.sf(x1 - 1))
    if alternative == "less":
        return float(dist.cdf(x1))
    lo, hi = max(0, n1 - (total - m)), min(n1, m)
    support = np.arange(lo, hi + 1)
    logd = dist.logpmf(support)
    d = np.exp(logd - logd.max())
    d /= d.sum()
    dx = d[x1 - lo]
    return float(min(1.0, d[d <= dx * _R_REL_ERR].sum()))


def _two_proportions_iv(
    x1: int, n1: int, x2: int, n2: int, alternative: str, confidence_level: float
) -> tuple[int, int, int, int, Alternative, float]:
    x1, n1 = check_counts(x1, n1, suffix="1")
    x2, n2 = check_counts(x2, n2, suffix="2")
    return x1, n1, x2, n2, check_alternative(alternative), check_confidence_level(confidence_level)


def two_proportions(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
) -> TwoProportionsResult:
    """Compare two proportions: difference, Newcombe interval and Fisher's exact test.

    Parameters
    ----------
    x1, n1 : int
        Responders and patients in group 1 (treated), ``0 <= x1 <= n1``, ``n1 >= 1``.
    x2, n2 : int
        Responders and patients in group 2 (control).
    alternative : {'two-sided', 'less', 'greater'}, optional
        ``'greater'``: ``p1 > p2`` (odds ratio > 1 in ``fisher.test``). Default ``'two-sided'``.
    confidence_level : float, optional
        Level of the stored interval ``ci``; default 0.95.

    Returns
    -------
    TwoProportionsResult
        ``statistic = p1 - p2``, Fisher's ``pvalue``, the Newcombe ``ci`` and ``.interval(level)``.

    Notes
    -----
    Fisher's test conditions on both margins: ``X1`` is hypergeometric. One-sided p-values are
    ``P(X1 >= x1)`` ('greater') and ``P(X1 <= x1)`` ('less'); the two-sided p-value sums the
    probabilities of tables no likelier than the observed one (relative tolerance ``1e-7``), as R's
    ``fisher.test``.

    Newcombe's hybrid score interval (his method 10) combines the Wilson limits ``(l_i, u_i)`` of
    each proportion: ``low = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)``,
    ``high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)`` with ``d = p1 - p2``. One-sided bounds use
    ``z = Phi^{-1}(level)``; bounds are clipped to [-1, 1] against rounding. It is not the dual of
    Fisher's test, so the two can disagree near the significance boundary.

    References
    ----------
    Newcombe RG. Interval estimation for the difference between independent proportions:
    comparison of eleven methods. Stat Med 1998;17:873-890.

    Examples
    --------
    >>> from condapprove.estimate.proportions import two_proportions
    >>> res = two_proportions(9, 12, 3, 11)
    >>> round(res.statistic, 4), round(res.pvalue, 4)
    (0.4773, 0.0391)
    >>> [round(v, 4) for v in res.ci]
    [0.0705, 0.7153]
    """
    x1, n1, x2, n2, alternative, level = _two_proportions_iv(x1, n1, x2, n2, alternative, confidence_level)
    p1, p2 = x1 / n1, x2 / n2
    return TwoProportionsResult(
        statistic=p1 - p2,
        pvalue=_fisher_pvalue(x1, n1, x2, n2, alternative),
        p1=p1,
        p2=p2,
        x1=x1,
        n1=n1,
        x2=x2,
        n2=n2,
        alternative=alternative,
        confidence_level=level,
        ci=_newcombe(x1, n1, x2, n2, level, alternative),
    )
