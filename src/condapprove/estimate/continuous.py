"""t intervals and t tests for small cohorts, from raw values or from published summaries.

* :func:`mean_interval` / :func:`mean_interval_from_summary` -- Student t interval for a mean.
* :func:`one_sample_t` / :func:`one_sample_t_from_summary` -- one-sample t test.
* :func:`welch_t` / :func:`welch_t_from_summary` -- Welch's unequal-variance two-sample t test.

Published small cohorts often report only a mean with its SD or SE (Akuugo: Fugl-Meyer change
+8.3, SE 1.4, n = 46, vs +2.3, SE 2.5, n = 15), so every test has a ``*_from_summary`` variant
that takes ``spread="sd"`` or ``spread="se"``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from .._typing import Alternative, ArrayLike
from .._validation import (
    check_confidence_level,
    check_finite,
    check_finite_array,
    check_int,
    check_one_of,
    check_positive,
)
from ..errors import DegenerateDataWarning, DesignError
from ..results import ConfidenceInterval, ResultMixin
from ._common import check_alternative, location_scale_interval, pvalue_from_statistic

__all__ = [
    "TTestResult",
    "mean_interval",
    "mean_interval_from_summary",
    "one_sample_t",
    "one_sample_t_from_summary",
    "welch_t",
    "welch_t_from_summary",
]

Spread = Literal["sd", "se"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TTestResult(ResultMixin):
    """Result of a one-sample or Welch t test.

    Attributes
    ----------
    statistic : float
        ``t = (estimate - null_value) / se``.
    pvalue : float
        p-value from the t distribution with ``df`` degrees of freedom.
    df : float
        Degrees of freedom (``n - 1``, or Welch-Satterthwaite).
    estimate : float
        The mean, or the difference of means ``mean_x - mean_y``.
    se : float
        Standard error of ``estimate``.
    null_value : float
        Hypothesised mean (or difference).
    alternative : str
        ``'two-sided'``, ``'less'`` or ``'greater'`` (``estimate > null_value``).
    method : str
        ``'one-sample t'`` or ``'Welch two-sample t'``.
    confidence_level : float
        Level of ``ci``.
    ci : ConfidenceInterval
        ``estimate ± t_{df} se`` at ``confidence_level``, sided as ``alternative``.
    """

    statistic: float
    pvalue: float
    df: float
    estimate: float
    se: float
    null_value: float
    alternative: str
    method: str
    confidence_level: float
    ci: ConfidenceInterval

    def interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """t interval for the mean (difference), sided as ``alternative``.

        Parameters
        ----------
        confidence_level : float, optional
            Confidence level in (0, 1); default the level given to the test.

        Returns
        -------
        ConfidenceInterval
            ``estimate ± t_{df, 1-e} se``; one-sided intervals have an infinite bound.
        """
        level = self.confidence_level if confidence_level is None else check_confidence_level(confidence_level)
        return _t_interval(self.estimate, self.se, self.df, level, self.alternative)


def _t_interval(estimate: float, se: float, df: float, level: float, alternative: str) -> ConfidenceInterval:
    return location_scale_interval(estimate, se, level, alternative, lambda p: float(stats.t.ppf(p, df)))


def _common_iv(alternative: Any, confidence_level: Any) -> tuple[Alternative, float]:
    return check_alternative(alternative), check_confidence_level(confidence_level)


def _values_iv(values: Any, name: str) -> tuple[float, float, int]:
    """Mean, SD (ddof=1) and size of a sample of at least two finite values; the SD is 0 for values that are
    constant up to rounding (a standard error below 10 units of rounding of the mean, R's ``t.test`` test for
    "data are essentially constant"), whose SD is rounding error: 1e8, 1e8 + 1.5e-8 and 1e8 gave t = 0, p = 1."""
    arr = check_finite_array(values, name, min_size=2)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, sd = float(arr.mean()), float(arr.std(ddof=1))
    if not (math.isfinite(mean) and math.isfinite(sd)):
        raise DesignError(f"`{name}` is too large to summarise (its mean or SD overflows); got values up to "
                          f"{float(np.abs(arr).max()):g}; rescale them.")
    if sd / math.sqrt(arr.size) < 10 * np.finfo(float).eps * abs(mean):
        sd = 0.0
    return mean, sd, int(arr.size)


def _warn_if_constant(sd: float, name: str) -> None:
    if sd == 0.0:
        warnings.warn(f"`{name}`: standard deviation 0, so the t interval has zero width (the mean itself).",
                      DegenerateDataWarning, stacklevel=3)


def _summary_iv(mean: Any, spread_value: Any, n: Any, spread: Any, suffix: str = "", *,
                allow_zero: bool = True) -> tuple[float, float, int]:
    """Return (mean, sd, n) from a published summary; the SE is converted with ``sd = se sqrt(n)``."""
    spread = check_one_of(spread, "spread", ("sd", "se"))
    m = check_finite(mean, f"mean{suffix}")
    size = check_int(n, f"n{suffix}", minimum=2)
    s = check_positive(spread_value, f"{spread}{suffix}", allow_zero=allow_zero)
    sd = s * math.sqrt(size) if spread == "se" else s
    if not math.isfinite(sd):
        raise DesignError(f"`{spread}{suffix}` is too large: the SD it gives, se * sqrt(n), overflows; got "
                          f"{spread_value!r}; rescale the data.")
    return m, sd, size


def _t_test(
    estimate: float, se: float, df: float, mu0: float, alternative: str, level: float, method: str
) -> TTestResult:
    t = (estimate - mu0) / se
    return TTestResult(
        statistic=t,
        pvalue=pvalue_from_statistic(t, alternative, lambda s: float(stats.t.sf(s, df))),
        df=df,
        estimate=estimate,
        se=se,
        null_value=mu0,
        alternative=alternative,
        method=method,
        confidence_level=level,
        ci=_t_interval(estimate, se, df, level, alternative),
    )


def _one_sample(mean: float, sd: float, n: int, mu0: float, alternative: str, level: float, name: str) -> TTestResult:
    if sd == 0.0:
        message = (f"`{name}` must not be constant (standard deviation 0, or constant up to rounding of the mean): the "
                   "t statistic is undefined; got sd=0.")
        raise DesignError(message)
    return _t_test(mean, sd / math.sqrt(n), float(n - 1), mu0, alternative, level, "one-sample t")


def _welch(
    m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int, mu0: float, alternative: str, level: float
) -> TTestResult:
    # the standard errors relative to the larger: the Welch-Satterthwaite df is scale-free, and sd**2 overflowed for
    # sds beyond 1e154 (an OverflowError, or a df of NaN)
    e1, e2 = sd1 / math.sqrt(n1), sd2 / math.sqrt(n2)
    big = max(e1, e2)
    if big == 0.0:
        raise DesignError("both samples must not be constant (both standard deviations are 0); got sd1=0, sd2=0.")
    r1, r2 = e1 / big, e2 / big
    a, b = r1 * r1, r2 * r2
    df = (a + b) * (a + b) / (a * a / (n1 - 1) + b * b / (n2 - 1))
    return _t_test(m1 - m2, big * math.sqrt(a + b), df, mu0, alternative, level, "Welch two-sample t")


def mean_interval(
    values: ArrayLike, *, confidence_level: float = 0.95, alternative: Alternative = "two-sided"
) -> ConfidenceInterval:
    """Student t confidence interval for a mean.

    Parameters
    ----------
    values : array_like
        At least two finite observations.
    confidence_level : float, optional
        Confidence level in (0, 1); default 0.95.
    alternative : {'two-sided', 'less', 'greater'}, optional
        ``'greater'`` gives a lower bound ``(low, inf)``, ``'less'`` an upper bound.

    Returns
    -------
    ConfidenceInterval
        ``mean ± t_{n-1, 1-e} s / sqrt(n)``.

    Notes
    -----
    Assumes independent observations from a normal distribution (or n large enough for the mean
    to be close to normal); exact under normality. R's ``t.test(values)$conf.int``. Constant values
    (standard deviation 0, or a standard error below 10 units of rounding of the mean) give the
    zero-width interval ``(mean, mean)`` with a :class:`~condapprove.errors.DegenerateDataWarning`
    (R's ``t.test`` stops: "data are essentially constant"; :func:`one_sample_t` raises).

    Examples
    --------
    >>> from condapprove.estimate.continuous import mean_interval
    >>> lo, hi = mean_interval([2.1, 3.4, 1.9, 4.2, 2.8])
    >>> round(lo, 3), round(hi, 3)
    (1.704, 4.056)
    """
    alternative, level = _common_iv(alternative, confidence_level)
    m, sd, n = _values_iv(values, "values")
    _warn_if_constant(sd, "values")
    return _t_interval(m, sd / math.sqrt(n), float(n - 1), level, alternative)


def mean_interval_from_summary(
    mean: float,
    spread_value: float,
    n: int,
    *,
    spread: Spread = "sd",
    confidence_level: float = 0.95,
    alternative: Alternative = "two-sided",
) -> ConfidenceInterval:
    """Student t interval for a mean from a published mean, SD (or SE) and sample size.

    Parameters
    ----------
    mean : float
        Sample mean.
    spread_value : float
        The sample SD, or the SE of the mean when ``spread="se"`` (>= 0).
    n : int
        Sample size (>= 2).
    spread : {'sd', 'se'}, optional
        What ``spread_value`` is; default ``'sd'``.
    confidence_level : float, optional
        Confidence level in (0, 1); default 0.95.
    alternative : {'two-sided', 'less', 'greater'}, optional
        Sidedness of the interval.

    Returns
    -------
    ConfidenceInterval
        ``mean ± t_{n-1} sd / sqrt(n)``.

    Notes
    -----
    The SE is converted to an SD by ``sd = se sqrt(n)``; assumptions as :func:`mean_interval`. A spread of 0 gives
    the zero-width interval ``(mean, mean)`` with a :class:`~condapprove.errors.DegenerateDataWarning`.

    Examples
    --------
    >>> from condapprove.estimate.continuous import mean_interval_from_summary
    >>> lo, hi = mean_interval_from_summary(8.3, 1.4, 46, spread="se")   # Akuugo, treated arm
    >>> round(lo, 2), round(hi, 2)
    (5.48, 11.12)
    """
    alternative, level = _common_iv(alternative, confidence_level)
    m, sd, size = _summary_iv(mean, spread_value, n, spread)
    _warn_if_constant(sd, str(spread))
    return _t_interval(m, sd / math.sqrt(size), float(size - 1), level, alternative)


def one_sample_t(
    values: ArrayLike,
    mu0: float = 0.0,
    *,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
) -> TTestResult:
    """One-sample t test of a mean against ``mu0``.

    Parameters
    ----------
    values : array_like
        At least two finite observations (not all equal).
    mu0 : float, optional
        Hypothesised mean; default 0.
    alternative : {'two-sided', 'less', 'greater'}, optional
        Default ``'two-sided'``; ``'greater'`` tests ``mean > mu0``.
    confidence_level : float, optional
        Level of the stored interval ``ci``; default 0.95.

    Returns
    -------
    TTestResult

    Notes
    -----
    ``t = (xbar - mu0) / (s / sqrt(n))`` with ``n - 1`` degrees of freedom; assumes independent,
    normally distributed observations. Constant data raise :class:`~condapprove.errors.DesignError`
    (as R's ``t.test``), and so do data constant up to rounding, whose standard error is below 10 units of
    rounding of the mean (R's "data are essentially constant"). Matches R's ``t.test(values, mu = mu0)``.

    Examples
    --------
    >>> from condapprove.estimate.continuous import one_sample_t
    >>> res = one_sample_t([2.1, 3.4, 1.9, 4.2, 2.8], 2.0, alternative="greater")
    >>> round(res.statistic, 3), round(res.pvalue, 4), res.df
    (2.078, 0.0532, 4.0)
    """
    alternative, level = _common_iv(alternative, confidence_level)
    m, sd, n = _values_iv(values, "values")
    return _one_sample(m, sd, n, check_finite(mu0, "mu0"), alternative, level, "values")


def one_sample_t_from_summary(
    mean: float,
    spread_value: float,
    n: int,
    mu0: float = 0.0,
    *,
    spread: Spread = "sd",
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
) -> TTestResult:
    """One-sample t test from a published mean, SD (or SE) and sample size.

    Parameters
    ----------
    mean : float
        Sample mean.
    spread_value : float
        The sample SD, or the SE of the mean when ``spread="se"`` (> 0).
    n : int
        Sample size (>= 2).
    mu0 : float, optional
        Hypothesised mean; default 0.
    spread : {'sd', 'se'}, optional
        What ``spread_value`` is; default ``'sd'``.
    alternative : {'two-sided', 'less', 'greater'}, optional
        Default ``'two-sided'``.
    confidence_level : float, optional
        Level of the stored interval ``ci``; default 0.95.

    Returns
    -------
    TTestResult

    Notes
    -----
    As :func:`one_sample_t`, with ``sd = se sqrt(n)`` when an SE is given.

    Examples
    --------
    >>> from condapprove.estimate.continuous import one_sample_t_from_summary
    >>> res = one_sample_t_from_summary(8.3, 1.4, 46, spread="se", alternative="greater")
    >>> round(res.statistic, 3), res.df
    (5.929, 45.0)
    """
    alternative, level = _common_iv(alternative, confidence_level)
    m, sd, size = _summary_iv(mean, spread_value, n, spread, allow_zero=False)  # (a t test needs a positive spread)
    return _one_sample(m, sd, size, check_finite(mu0, "mu0"), alternative, level, str(spread))


def welch_t(
    x: ArrayLike,
    y: ArrayLike,
    *,
    mu0: float = 0.0,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
) -> TTestResult:
    """Welch's two-sample t test of ``mean(x) - mean(y)`` against ``mu0``.

    Parameters
    ----------
    x, y : array_like
        The two samples (treated, control), each with at least two finite values.
    mu0 : float, optional
        Hypothesised difference; default 0.
    alternative : {'two-sided', 'less', 'greater'}, optional
        Default ``'two-sided'``; ``'greater'`` tests ``mean(x) - mean(y) > mu0``.
    confidence_level : float, optional
        Level of the stored interval ``ci``; default 0.95.

    Returns
    -------
    TTestResult
        ``estimate = mean(x) - mean(y)``.

    Notes
    -----
    ``se = sqrt(s_x^2/n_x + s_y^2/n_y)`` and the Welch-Satterthwaite degrees of freedom
    ``df = se^4 / ((s_x^2/n_x)^2/(n_x-1) + (s_y^2/n_y)^2/(n_y-1))``. Assumes independent normal
    samples with possibly unequal variances; the t reference is an approximation, good for the
    small unequal arms typical of conditional approvals. Matches R's ``t.test(x, y)``. A sample constant up to
    rounding (a standard error below 10 units of rounding of its mean) counts as constant (standard deviation 0):
    one such sample is allowed, two raise :class:`~condapprove.errors.DesignError`.

    References
    ----------
    Welch BL. The generalization of "Student's" problem when several different population
    variances are involved. Biometrika 1947;34:28-35.

    Examples
    --------
    >>> from condapprove.estimate.continuous import welch_t
    >>> res = welch_t([8.1, 9.4, 7.7, 10.2, 8.8], [6.0, 7.9, 5.1, 6.6])
    >>> round(res.estimate, 3), round(res.df, 2), round(res.pvalue, 4)
    (2.44, 5.99, 0.0164)
    """
    alternative, level = _common_iv(alternative, confidence_level)
    m1, sd1, n1 = _values_iv(x, "x")
    m2, sd2, n2 = _values_iv(y, "y")
    return _welch(m1, sd1, n1, m2, sd2, n2, check_finite(mu0, "mu0"), alternative, level)


def welch_t_from_summary(
    mean1: float,
    spread1: float,
    n1: int,
    mean2: float,
    spread2: float,
    n2: int,
    *,
    spread: Spread = "sd",
    mu0: float = 0.0,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
) -> TTestResult:
    """Welch's t test from published means, SDs (or SEs) and sample sizes of two groups.

    Parameters
    ----------
    mean1, spread1, n1 : float, float, int
        Mean, SD (or SE of the mean when ``spread="se"``) and size of group 1 (treated).
    mean2, spread2, n2 : float, float, int
        The same for group 2 (control).
    spread : {'sd', 'se'}, optional
        What ``spread1`` and ``spread2`` are; default ``'sd'``.
    mu0 : float, optional
        Hypothesised difference ``mean1 - mean2``; default 0.
    alternative : {'two-sided', 'less', 'greater'}, optional
        Default ``'two-sided'``.
    confidence_level : float, optional
        Level of the stored interval ``ci``; default 0.95.

    Returns
    -------
    TTestResult

    Notes
    -----
    As :func:`welch_t`; an SE is converted with ``sd = se sqrt(n)``. A published SE from a model
    (e.g. an ANCOVA least-squares mean) is not a raw-data SE, so the result is then approximate.

    Examples
    --------
    Akuugo: Fugl-Meyer change +8.3 (SE 1.4, n = 46) vs +2.3 (SE 2.5, n = 15):

    >>> from condapprove.estimate.continuous import welch_t_from_summary
    >>> res = welch_t_from_summary(8.3, 1.4, 46, 2.3, 2.5, 15, spread="se")
    >>> round(res.estimate, 2), round(res.se, 3), round(res.df, 2), round(res.pvalue, 4)
    (6.0, 2.865, 23.44, 0.0473)
    """
    alternative, level = _common_iv(alternative, confidence_level)
    m1, sd1, size1 = _summary_iv(mean1, spread1, n1, spread, "1")
    m2, sd2, size2 = _summary_iv(mean2, spread2, n2, spread, "2")
    return _welch(m1, sd1, size1, m2, sd2, size2, check_finite(mu0, "mu0"), alternative, level)
