"""Time-to-event estimators for small cohorts.

* :func:`kaplan_meier` -- Kaplan-Meier estimate with Greenwood standard errors, log-log intervals, landmark
  survival and the Brookmeyer-Crowley interval for the median, computed as R's ``survival`` package does.
* :func:`logrank_test` -- two-sample log-rank test (R ``survdiff``) with one-sided alternatives.
* :func:`one_sample_logrank` -- one-sample log-rank test of a single arm against a fixed reference curve
  (:class:`ExponentialCurve`, :class:`PiecewiseExponentialCurve`, :class:`WeibullCurve` or any object with a
  ``cumulative_hazard`` method).
* :func:`cox_hazard_ratio` -- Cox proportional-hazards hazard ratio of two groups (Efron ties; R
  ``coxph(ties = "efron")``).
* :func:`exponential_rate` -- exponential (constant-hazard) rate with an exact Poisson interval.

Data are ``durations`` (time from the origin to the event or to censoring) and ``event_observed`` (1 = event,
0 = right-censored).  Only right censoring without delayed entry is handled.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
from scipy import special

from .._roots import brentq
from .._typing import Alternative, ArrayLike, FloatArray, IntArray
from .._validation import (
    _fail,
    check_confidence_level,
    check_finite_array,
    check_one_of,
    check_positive,
    check_probability,
)
from ..errors import ConvergenceError, DegenerateDataWarning, DesignError
from ..results import ConfidenceInterval, ResultMixin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "CoxResult",
    "ExponentialCurve",
    "ExponentialRateResult",
    "KaplanMeierResult",
    "LogrankResult",
    "OneSampleLogrankResult",
    "PiecewiseExponentialCurve",
    "ReferenceCurve",
    "WeibullCurve",
    "cox_hazard_ratio",
    "exponential_rate",
    "kaplan_meier",
    "logrank_test",
    "one_sample_logrank",
]

_ALTERNATIVES = ("two-sided", "less", "greater")
# R's survival package compares survival levels with this tolerance (quantile.survfit, survmean).
_R_TOL = math.sqrt(np.finfo(float).eps)


# --------------------------------------------------------------------------------------------- validation


def _survival_data_iv(durations: ArrayLike, event_observed: ArrayLike, *,
                      merge_ties: bool = True) -> tuple[FloatArray, IntArray]:
    """Validate and canonicalise right-censored data: float durations >= 0 and 0/1 integer events; times equal up
    to rounding merged (:func:`_merge_near_ties`) unless ``merge_ties`` is False (for sums over the patients' own
    times, which have no order to keep: a merge would move a time of 1e-12 to 0, where a Weibull cumulative hazard
    of shape below 1 is steepest)."""
    t = check_finite_array(durations, "durations")
    neg = np.flatnonzero(t < 0)
    if neg.size:
        i = int(neg[0])
        raise _fail("durations", "non-negative times", float(t[i]), hint=f"index {i} is negative")
    raw = np.asarray(event_observed)
    if raw.ndim != 1:
        raise _fail("event_observed", "a 1-d array of 0/1 event indicators", event_observed)
    if raw.dtype == np.bool_:
        e = raw.astype(np.int64)
    else:
        try:
            ef = raw.astype(np.float64)
        except (TypeError, ValueError):
            raise _fail("event_observed", "a 1-d array of 0/1 event indicators", event_observed) from None
        bad = np.flatnonzero(~np.isin(ef, (0.0, 1.0)))
        if bad.size:
            i = int(bad[0])
            raise _fail(
                "event_observed",
                "0/1 event indicators (1 = event, 0 = censored)",
                raw[i].item(),
                hint=f"index {i}; recode the status column to 0/1",
            )
        e = ef.astype(np.int64)
    if e.size != t.size:
        message = f"`event_observed` must have the same length as `durations` ({t.size}); got length {e.size}."
        raise DesignError(message)
    return (_merge_near_ties(t) if merge_ties else t), e


def _merge_near_ties(t: FloatArray, tol: float = _R_TOL) -> FloatArray:
    """Treat times equal up to rounding error as ties, as R's ``Surv(timefix = TRUE)`` (``aeqSurv``).

    Distinct times closer than ``tol`` (absolutely, or relative to the mean absolute distinct time) are
    replaced by the smallest of their group, so ``0.1 + 0.2`` and ``0.3`` are one time.
    """
    y = np.unique(t)
    if y.size < 2:
        return t
    dy = np.diff(y)
    tied = (dy <= tol) | (dy / np.mean(np.abs(y)) <= tol)
    if not np.any(tied):
        return t
    cuts = y[np.concatenate(([True], ~tied))]
    return cuts[np.searchsorted(cuts, t, side="right") - 1]


def _group_iv(group: ArrayLike, n: int, control: Any) -> tuple[IntArray, tuple[Any, Any]]:
    """Return a 0/1 indicator of the non-control group and the labels ``(control, other)``."""
    g = np.asarray(group)
    if g.ndim != 1:
        raise _fail("group", "a 1-d array of group labels", group)
    if g.size != n:
        message = f"`group` must have the same length as `durations` ({n}); got length {g.size}."
        raise DesignError(message)
    if g.dtype.kind == "f" and np.any(np.isnan(g)):
        raise _fail("group", "group labels without NaN", group)
    try:
        labels, inv = np.unique(g, return_inverse=True)
    except TypeError:
        raise _fail("group", "labels of one sortable type", group) from None
    lab = [x.item() if hasattr(x, "item") else x for x in labels]
    if len(lab) != 2:
        raise _fail("group", "an array with exactly two distinct labels", lab)
    if control is None:
        k = 0
    elif control in lab:
        k = lab.index(control)
    else:
        raise _fail("control", "one of the labels in `group` " + repr(lab), control)
    x = (inv.reshape(-1) != k).astype(np.int64)
    return x, (lab[k], lab[1 - k])


def _level(value: float | None, default: float) -> float:
    return default if value is None else check_confidence_level(value)


def _pvalue_from_z(z: float, alternative: str) -> float:
    if alternative == "less":
        return float(special.ndtr(z))
    if alternative == "greater":
        return float(special.ndtr(-z))
    return float(min(1.0, 2.0 * special.ndtr(-abs(z))))


# --------------------------------------------------------------------------------------------- Kaplan-Meier


def _loglog_bounds(surv: FloatArray, se_log: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Log-log bounds as R's ``survfit_confint``; NaN where ``surv`` is 0 or 1 (as R's NA)."""
    z = float(special.ndtri(0.5 + level / 2.0))
    inside = (surv > 0) & (surv < 1)
    s = np.where(inside, surv, 0.5)
    se2 = z * np.where(inside, se_log, 0.0) / np.log(s)
    lll = np.log(-np.log(s))
    lower = np.exp(-np.exp(lll - se2))
    upper = np.exp(-np.exp(lll + se2))
    return np.where(inside, lower, np.nan), np.where(inside, upper, np.nan)


def _findq(x: FloatArray, y: FloatArray, p: float, tol: float = _R_TOL) -> float:
    """Port of the internal ``findq`` of R's ``quantile.survfit`` (survival 3.5); NaN when not reached.

    ``x`` are times (starting with the origin) and ``y`` the non-decreasing cumulative distribution
    ``1 - S`` (or ``1 - bound``) at those times, NaN where undefined.
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return math.nan
    xmax = float(x[-1])
    # duplicated(y): keep the first occurrence of each value (NaN counts as one value)
    _, first = np.unique(y, return_index=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    n = y.size
    ids = np.arange(n)
    ok = ~np.isnan(y)

    def constant_right(axis: FloatArray) -> float:
        # approx(axis, ids, p, method = "constant", f = 1) with rule = 1 (NA outside the range)
        a, i = axis[ok], ids[ok]
        order = np.argsort(a, kind="stable")
        a, i = a[order], i[order]
        if p < a[0] or p > a[-1]:
            return math.nan
        return float(i[np.searchsorted(a, p, side="left")])

    i1 = constant_right(y + tol)
    i2 = constant_right(y - tol)
    quant = math.nan
    if not (math.isnan(i1) or math.isnan(i2)):
        quant = (float(x[int(i1)]) + float(x[int(i2)])) / 2.0
    if not math.isnan(y[-1]) and abs(p - y[-1]) < tol:
        quant = (float(x[int(i1)]) + xmax) / 2.0 if not math.isnan(i1) else math.nan
    return quant


@dataclass(frozen=True, slots=True, kw_only=True)
class KaplanMeierResult(ResultMixin):
    """Kaplan-Meier estimate of a survival function, returned by :func:`kaplan_meier`.

    One row per distinct observed time (event or censoring), as R's ``survfit``.

    Attributes
    ----------
    times : ndarray of float
        Distinct observed times, increasing.
    survival : ndarray of float
        Kaplan-Meier estimate :math:`\\hat S(t)` just after each time.
    at_risk : ndarray of int
        Number at risk just before each time.
    events : ndarray of int
        Number of events at each time.
    censored : ndarray of int
        Number censored at each time (censored at ``t`` counts as at risk at ``t``).
    std_err : ndarray of float
        Greenwood standard error of :math:`\\hat S(t)` (survival scale; R's ``std.err`` is this divided by the
        survival, i.e. on the log scale).  0 where :math:`\\hat S = 0`.
    confidence_level : float
        Default level of :meth:`interval_at`, :meth:`median_interval` and :meth:`to_frame`.
    n : int
        Number of patients.
    n_events : int
        Total number of events.
    """

    times: FloatArray
    survival: FloatArray
    at_risk: IntArray
    events: IntArray
    censored: IntArray
    std_err: FloatArray
    confidence_level: float
    n: int
    n_events: int

    def _se_log(self) -> FloatArray:
        pos = self.survival > 0
        return np.where(pos, self.std_err / np.where(pos, self.survival, 1.0), np.inf)

    def _index(self, t: float, name: str = "t") -> int:
        try:
            tt = float(t)
        except (TypeError, ValueError):
            raise _fail(name, "a finite time >= 0", t) from None
        if not math.isfinite(tt) or tt < 0:
            raise _fail(name, "a finite time >= 0", t)
        i = int(np.searchsorted(self.times, tt, side="right")) - 1
        if tt > self.times[-1] and self.survival[-1] > 0:
            warnings.warn(
                f"t = {tt:g} is beyond the last follow-up time {self.times[-1]:g}; the Kaplan-Meier estimate is "
                "undefined there and the last value is carried forward (as R's summary(fit, extend = TRUE)).",
                DegenerateDataWarning,
                stacklevel=3,
            )
        return i

    def survival_at(self, t: float) -> float:
        """Return :math:`\\hat S(t)` (landmark survival; right-continuous step function).

        1 before the first observed time.  Beyond the last follow-up time, when the curve has not dropped
        to 0, the last value is carried forward with a :class:`~condapprove.errors.DegenerateDataWarning`.
        """
        i = self._index(t)
        return 1.0 if i < 0 else float(self.survival[i])

    def interval_at(self, t: float, confidence_level: float | None = None) -> ConfidenceInterval:
        """Log-log confidence interval of :math:`S(t)` (R ``survfit(conf.type = "log-log")``).

        Where :math:`\\hat S(t) = 1` (before the first event) the interval is ``(1, 1)`` and where
        :math:`\\hat S(t) = 0` it is ``(0, 0)``; R reports ``NA`` for both in ``fit$lower``/``fit$upper``
        (``summary(fit, times)`` also gives ``(1, 1)`` before the first time).
        ``confidence_level`` defaults to the level given to :func:`kaplan_meier`.
        """
        level = _level(confidence_level, self.confidence_level)
        i = self._index(t)
        if i < 0:
            return ConfidenceInterval(1.0, 1.0)
        s = self.survival[i : i + 1]
        if s[0] <= 0.0 or s[0] >= 1.0:
            v = float(s[0])
            return ConfidenceInterval(v, v)
        lo, hi = _loglog_bounds(s, self._se_log()[i : i + 1], level)
        return ConfidenceInterval(float(lo[0]), float(hi[0]))

    def _quantile(self, p: float, level: float) -> tuple[float, float, float]:
        x = np.concatenate(([0.0], self.times))
        lo, hi = _loglog_bounds(self.survival, self._se_log(), level)
        q = _findq(x, np.concatenate(([0.0], 1.0 - self.survival)), p)
        q_low = _findq(x, np.concatenate(([0.0], 1.0 - lo)), p)
        q_high = _findq(x, np.concatenate(([0.0], 1.0 - hi)), p)
        return tuple(math.inf if math.isnan(v) else v for v in (q, q_low, q_high))  # type: ignore[return-value]

    @property
    def median(self) -> float:
        """Median survival time as R's ``quantile(fit, 0.5)``; ``inf`` when not reached.

        The median is the first time :math:`\\hat S(t) \\le 0.5`; when :math:`\\hat S` equals 0.5 exactly
        (within ``sqrt(machine eps)``) on a flat stretch, it is the midpoint between the time it reaches 0.5 and
        the next event time, or the last follow-up time if no event follows (``print(fit)`` reports the reaching
        time in that last case).  When the curve never reaches 0.5 the median is not estimable:
        ``inf`` is returned with a :class:`~condapprove.errors.DegenerateDataWarning` (R gives ``NA``).
        """
        q = self._quantile(0.5, self.confidence_level)[0]
        if math.isinf(q):
            warnings.warn(
                "median survival not reached: the Kaplan-Meier curve never falls to 0.5; returning inf.",
                DegenerateDataWarning,
                stacklevel=2,
            )
        return q

    def median_interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Brookmeyer-Crowley interval of the median, as R's ``quantile(fit, 0.5)`` with log-log bounds.

        The interval is the set of times whose log-log pointwise interval contains 0.5: the lower limit is
        where the *lower* bound first falls to 0.5, the upper limit where the *upper* bound does (same
        midpoint rule as :attr:`median`; rows with :math:`\\hat S \\in \\{0, 1\\}`, where the log-log bound
        is undefined, are skipped as R does).  A limit that is never reached is ``inf`` (R's ``NA``; "not
        reached").  When the curve drops to 0 before the bounds are defined (e.g. a single patient with an
        event) R gives ``NA`` for the lower limit although the median is finite; ``(inf, inf)`` is then
        returned with a :class:`~condapprove.errors.DegenerateDataWarning`.  Otherwise no warning is raised.
        """
        level = _level(confidence_level, self.confidence_level)
        median, low, high = self._quantile(0.5, level)
        if math.isinf(low) and math.isfinite(median):
            warnings.warn(
                "the log-log interval of the median is undefined: the Kaplan-Meier curve falls to 0 where the "
                "pointwise bounds are not defined; returning (inf, inf) as R's NA.",
                DegenerateDataWarning,
                stacklevel=2,
            )
        return ConfidenceInterval(low, high)

    def to_frame(self, confidence_level: float | None = None) -> pd.DataFrame:
        """Return the Kaplan-Meier table: one row per distinct time, with log-log bounds.

        Columns ``time, n_risk, n_event, n_censor, survival, std_err, lower, upper``; bounds follow
        :meth:`interval_at` (``(1, 1)`` where the survival is 1, ``(0, 0)`` where it is 0).
        """
        import pandas as pd

        level = _level(confidence_level, self.confidence_level)
        lo, hi = _loglog_bounds(self.survival, self._se_log(), level)
        lo = np.where(np.isnan(lo), self.survival, lo)
        hi = np.where(np.isnan(hi), self.survival, hi)
        return pd.DataFrame(
            {
                "time": self.times,
                "n_risk": self.at_risk,
                "n_event": self.events,
                "n_censor": self.censored,
                "survival": self.survival,
                "std_err": self.std_err,
                "lower": lo,
                "upper": hi,
            }
        )


def kaplan_meier(
    durations: ArrayLike, event_observed: ArrayLike, *, confidence_level: float = 0.95
) -> KaplanMeierResult:
    """Kaplan-Meier estimate with Greenwood standard errors and log-log intervals.

    Parameters
    ----------
    durations : array_like of float
        Time from the origin to the event or to censoring, ``>= 0``.
    event_observed : array_like of {0, 1} or bool
        1 if the event was observed, 0 if the time is right-censored.
    confidence_level : float, optional
        Default level of the intervals of the result (0.95).

    Returns
    -------
    KaplanMeierResult
        The table (``times``, ``survival``, ``at_risk``, ``events``, ``censored``, ``std_err``) with
        :meth:`~KaplanMeierResult.survival_at`, :meth:`~KaplanMeierResult.interval_at`,
        :attr:`~KaplanMeierResult.median`, :meth:`~KaplanMeierResult.median_interval` and
        :meth:`~KaplanMeierResult.to_frame`.

    Raises
    ------
    DesignError
        If durations are negative or not finite, events are not 0/1, or the lengths differ.

    Notes
    -----
    At distinct times :math:`t_j` with :math:`n_j` at risk and :math:`d_j` events,
    :math:`\\hat S(t) = \\prod_{t_j \\le t} (1 - d_j / n_j)` and Greenwood's variance
    :math:`\\widehat{\\mathrm{Var}}\\,\\hat S(t) = \\hat S(t)^2 \\sum_{t_j \\le t} d_j / (n_j (n_j - d_j))`.
    A patient censored at an event time is at risk at that time; times equal up to rounding error
    (``sqrt(machine eps)``) are merged into ties, as R's ``Surv(timefix = TRUE)``.  The log-log interval (Kalbfleisch &
    Prentice) is :math:`\\hat S^{\\exp(\\pm z\\,\\sigma / \\log \\hat S)}` with :math:`\\sigma` the standard
    error of :math:`\\log \\hat S`; it stays inside (0, 1).  The estimate assumes censoring independent of
    the event time; with few patients the Greenwood-based interval is approximate (it is what R reports).

    References
    ----------
    .. [1] Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations. JASA 53:457-481.
    .. [2] Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed. Wiley.
    .. [3] Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time.
       Biometrics 38:29-41.
    .. [4] Therneau T. survival: Survival Analysis. R package (``survfit``, ``quantile.survfit``).

    Examples
    --------
    >>> from condapprove.estimate.survival import kaplan_meier
    >>> km = kaplan_meier([1, 1, 2, 2, 2, 3, 4, 4, 5, 6], [1, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    >>> km.survival.round(4).tolist()
    [0.9, 0.675, 0.54, 0.405, 0.2025, 0.2025]
    >>> round(km.survival_at(3.5), 3)
    0.54
    >>> lo, hi = km.interval_at(3.5)
    >>> round(lo, 3), round(hi, 3)
    (0.181, 0.801)
    >>> km.median, km.median_interval()
    (4.0, ConfidenceInterval(low=1.0, high=inf))
    """
    t, e = _survival_data_iv(durations, event_observed)
    level = check_confidence_level(confidence_level)
    times, inv = np.unique(t, return_inverse=True)
    m = times.size
    n_at = np.bincount(inv, minlength=m)
    d = np.bincount(inv, weights=e, minlength=m).round().astype(np.int64)
    at_risk = t.size - np.concatenate(([0], np.cumsum(n_at)[:-1]))
    surv = np.cumprod(1.0 - d / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d > 0, d / (at_risk * (at_risk - d).astype(np.float64)), 0.0)
    gw = np.cumsum(term)
    with np.errstate(invalid="ignore"):
        std_err = np.where(surv > 0, surv * np.sqrt(gw), 0.0)
    arrays = {
        "times": times.astype(np.float64),
        "survival": surv,
        "at_risk": at_risk.astype(np.int64),
        "events": d,
        "censored": (n_at - d).astype(np.int64),
        "std_err": std_err,
    }
    for a in arrays.values():
        a.setflags(write=False)
    return KaplanMeierResult(**arrays, confidence_level=level, n=int(t.size), n_events=int(e.sum()))


# --------------------------------------------------------------------------------------------- log-rank


@dataclass(frozen=True, slots=True, kw_only=True)
class LogrankResult(ResultMixin):
    """Two-sample log-rank test, returned by :func:`logrank_test`.

    Attributes
    ----------
    statistic : float
        Signed :math:`z = (O_1 - E_1)/\\sqrt{V}` of the compared group ``groups[1]``; negative when it has
        fewer events than expected (lower hazard).
    chi2 : float
        :math:`z^2`, R ``survdiff``'s chi-square (1 degree of freedom).
    pvalue : float
        p-value for ``alternative``.
    alternative : str
        'two-sided', 'less' (``groups[1]`` has the lower hazard) or 'greater'.
    groups : tuple
        ``(control, compared)`` labels.
    observed : tuple of int
        Events per group, in the order of ``groups``.
    expected : tuple of float
        Expected events per group under the null hypothesis, in the order of ``groups``.
    variance : float
        Hypergeometric variance :math:`V` of :math:`O_1 - E_1`.
    n : tuple of int
        Patients per group, in the order of ``groups``.
    """

    statistic: float
    chi2: float
    pvalue: float
    alternative: str
    groups: tuple[Any, Any]
    observed: tuple[int, int]
    expected: tuple[float, float]
    variance: float
    n: tuple[int, int]


def logrank_test(
    durations: ArrayLike,
    event_observed: ArrayLike,
    group: ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    control: Any = None,
) -> LogrankResult:
    """Two-sample log-rank (Mantel-Cox) test, as R's ``survdiff``.

    Parameters
    ----------
    durations : array_like of float
        Time to event or censoring, ``>= 0``.
    event_observed : array_like of {0, 1} or bool
        1 = event, 0 = right-censored.
    group : array_like
        Group label of each patient; exactly two distinct labels.
    alternative : {'two-sided', 'less', 'greater'}, optional
        'less': the compared group (``groups[1]``) has a *lower* hazard than the control, i.e. fewer events
        than expected (:math:`z < 0`); 'greater': a higher hazard.
    control : label, optional
        Label of the control (reference) group.  Default: the smaller label when sorted (so with a 0/1
        coding the test is of group 1 against group 0, the orientation of a Cox hazard ratio in R).

    Returns
    -------
    LogrankResult
        ``statistic`` (signed z), ``chi2``, ``pvalue``, observed and expected events per group.

    Raises
    ------
    DesignError
        On invalid data, or if ``group`` does not have exactly two labels.

    Warns
    -----
    DegenerateDataWarning
        If the variance is 0 (no events, or no event while both groups are at risk): ``statistic = 0``,
        ``chi2 = 0`` and ``pvalue = 1`` are returned.

    Notes
    -----
    At each distinct event time with :math:`n` at risk (:math:`n_1` in the compared group) and :math:`d`
    events, :math:`E_1 \\mathrel{+}= d\\,n_1/n` and
    :math:`V \\mathrel{+}= d\\,(n_1/n)(1 - n_1/n)(n - d)/(n - 1)` (hypergeometric variance, exact for ties).
    :math:`z = (O_1 - E_1)/\\sqrt V`, two-sided p-value :math:`P(\\chi^2_1 > z^2)`, equal to R's
    ``survdiff``.  The test is most powerful under proportional hazards; the normal approximation is rough
    with few events.  Independent censoring is assumed.

    References
    ----------
    .. [1] Mantel N (1966). Evaluation of survival data and two new rank order statistics arising in its
       consideration. Cancer Chemother Rep 50:163-170.
    .. [2] Therneau T. survival: Survival Analysis. R package (``survdiff``).

    Examples
    --------
    >>> from condapprove.estimate.survival import logrank_test
    >>> t = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
    >>> e = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    >>> g = [0] * 11 + [1] * 12
    >>> res = logrank_test(t, e, g)
    >>> round(res.chi2, 3), round(res.pvalue, 4), res.observed
    (3.396, 0.0653, (7, 11))
    >>> round(logrank_test(t, e, g, alternative="greater").pvalue, 4)
    0.0327
    """
    t, e = _survival_data_iv(durations, event_observed)
    x, labels = _group_iv(group, t.size, control)
    alt = check_one_of(alternative, "alternative", _ALTERNATIVES)
    times, inv = np.unique(t, return_inverse=True)
    m = times.size
    n_at = np.bincount(inv, minlength=m)
    n1_at = np.bincount(inv, weights=x, minlength=m)
    d = np.bincount(inv, weights=e, minlength=m)
    risk = t.size - np.concatenate(([0.0], np.cumsum(n_at)[:-1]))
    risk1 = x.sum() - np.concatenate(([0.0], np.cumsum(n1_at)[:-1]))
    frac = risk1 / risk
    e1 = float(np.sum(d * frac))
    with np.errstate(divide="ignore", invalid="ignore"):
        v_terms = np.where(risk > 1, d * frac * (1.0 - frac) * (risk - d) / (risk - 1.0), 0.0)
    var = float(np.sum(v_terms))
    o1 = int(np.sum(e * x))
    total = int(e.sum())
    if var <= 0.0:
        warnings.warn(
            "the log-rank variance is 0 (no events, or no event while both groups were at risk); "
            "returning statistic = 0 and pvalue = 1.",
            DegenerateDataWarning,
            stacklevel=2,
        )
        z = 0.0
        pvalue = 1.0
    else:
        z = (o1 - e1) / math.sqrt(var)
        pvalue = _pvalue_from_z(z, alt)
    n1 = int(x.sum())
    return LogrankResult(
        statistic=float(z),
        chi2=float(z * z),
        pvalue=pvalue,
        alternative=alt,
        groups=labels,
        observed=(total - o1, o1),
        expected=(float(total - e1), e1),
        variance=var,
        n=(int(t.size) - n1, n1),
    )


# --------------------------------------------------------------------------------------------- reference curves


def _grid_iv(value: ArrayLike, name: str, contract: str, low: float, high: float) -> tuple[FloatArray, bool]:
    """Scalar or array in ``[low, high]``, no NaN; returns the array and whether it was a scalar."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(name, contract, value) from None
    if np.any(np.isnan(arr)) or np.any(arr < low) or np.any(arr > high):
        raise _fail(name, contract, value)
    return arr, arr.ndim == 0


def _times_iv(t: ArrayLike) -> tuple[FloatArray, bool]:
    """Times for a curve: not NaN, >= 0 (``inf`` allowed)."""
    return _grid_iv(t, "t", "times >= 0 (no NaN)", 0.0, math.inf)


def _out(values: FloatArray, scalar: bool) -> Any:
    return float(values) if scalar else values


@runtime_checkable
class ReferenceCurve(Protocol):
    """Anything with a cumulative hazard can serve as the reference of :func:`one_sample_logrank`."""

    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`\\Lambda_0(t)` (float for a scalar, array otherwise)."""
        ...  # pragma: no cover


class _Curve(ABC):
    """Shared methods of the parametric reference curves (``survival`` from ``cumulative_hazard``)."""

    __slots__ = ()

    @abstractmethod
    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`\\Lambda_0(t)` (float for a scalar, array otherwise)."""

    def survival(self, t: ArrayLike) -> Any:
        """Return :math:`S_0(t) = \\exp(-\\Lambda_0(t))` (float for a scalar, array otherwise)."""
        arr, scalar = _times_iv(t)
        return _out(np.exp(-np.asarray(self.cumulative_hazard(arr), dtype=np.float64)), scalar)

    @property
    def median(self) -> float:
        """Median time, ``quantile(0.5)``."""
        return float(self.quantile(0.5))

    @abstractmethod
    def quantile(self, q: ArrayLike) -> Any:
        """Return the time by which a fraction ``q`` has had the event."""


def _q_iv(q: ArrayLike) -> tuple[FloatArray, bool]:
    return _grid_iv(q, "q", "probabilities in [0, 1]", 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class ExponentialCurve(_Curve):
    """Exponential reference curve: constant hazard ``rate``.

    :math:`\\Lambda_0(t) = \\lambda t`, :math:`S_0(t) = e^{-\\lambda t}`, median :math:`\\log 2/\\lambda`.

    Parameters
    ----------
    rate : float
        Hazard per unit time, ``> 0``.

    Examples
    --------
    >>> from condapprove.estimate.survival import ExponentialCurve
    >>> ref = ExponentialCurve.from_survival_at(12, 0.15)   # 15% alive at 12 months
    >>> round(ref.rate, 4), round(ref.median, 2)
    (0.1581, 4.38)
    >>> round(ExponentialCurve.from_median(10).survival(10), 2)
    0.5
    """

    rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", check_positive(self.rate, "rate"))

    @classmethod
    def from_median(cls, median: float) -> ExponentialCurve:
        """Curve with the given median time (``rate = log(2) / median``)."""
        return cls(math.log(2.0) / check_positive(median, "median"))

    @classmethod
    def from_survival_at(cls, t: float, survival: float) -> ExponentialCurve:
        """Curve through :math:`S_0(t) = ` ``survival`` (``rate = -log(survival) / t``)."""
        tt = check_positive(t, "t")
        s = check_probability(survival, "survival", open_low=True, open_high=True)
        return cls(-math.log(s) / tt)

    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`\\lambda t`."""
        arr, scalar = _times_iv(t)
        return _out(self.rate * arr, scalar)

    def hazard(self, t: ArrayLike) -> Any:
        """Return the constant hazard :math:`\\lambda`."""
        arr, scalar = _times_iv(t)
        return _out(np.full_like(arr, self.rate), scalar)

    def quantile(self, q: ArrayLike) -> Any:
        """Return the time by which a fraction ``q`` had the event, :math:`-\\log(1-q)/\\lambda`."""
        arr, scalar = _q_iv(q)
        with np.errstate(divide="ignore"):
            return _out(-np.log1p(-arr) / self.rate, scalar)


@dataclass(frozen=True, slots=True)
class PiecewiseExponentialCurve(_Curve):
    """Piecewise-exponential reference curve: constant hazards between change points.

    Parameters
    ----------
    breaks : sequence of float
        Change points :math:`0 < b_1 < \\dots < b_k` (may be empty).
    rates : sequence of float
        :math:`k + 1` hazards ``>= 0``: ``rates[0]`` on :math:`[0, b_1)`, ..., ``rates[k]`` after
        :math:`b_k`.  A last rate of 0 gives a plateau (a "cured" fraction).

    Examples
    --------
    >>> from condapprove.estimate.survival import PiecewiseExponentialCurve
    >>> ref = PiecewiseExponentialCurve([6, 12], [0.05, 0.15, 0.08])
    >>> round(ref.cumulative_hazard(12), 2), round(ref.survival(12), 4)
    (1.2, 0.3012)
    >>> ref = PiecewiseExponentialCurve.from_survival_at([6, 12], [0.6, 0.15])
    >>> round(ref.survival(6), 3), round(ref.survival(12), 3)
    (0.6, 0.15)
    """

    breaks: tuple[float, ...]
    rates: tuple[float, ...]

    def __post_init__(self) -> None:
        from ..kernels.survival import piecewise_iv

        breaks, rates = piecewise_iv(self.breaks, self.rates)
        object.__setattr__(self, "breaks", breaks)
        object.__setattr__(self, "rates", rates)

    @classmethod
    def from_survival_at(cls, times: Sequence[float], survival: Sequence[float]) -> PiecewiseExponentialCurve:
        """Curve through landmark survivals :math:`S_0(t_j) = s_j` (log-linear between landmarks).

        The hazard on :math:`(t_{j-1}, t_j]` is :math:`\\log(s_{j-1}/s_j)/(t_j - t_{j-1})` (with
        :math:`t_0 = 0, s_0 = 1`); the last hazard continues after the last landmark.
        """
        from ..kernels.survival import piecewise_from_survival_at

        return cls(*piecewise_from_survival_at(times, survival))

    def _edges(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        from ..kernels.survival import piecewise_edges

        return piecewise_edges(self.breaks, self.rates)

    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`\\Lambda_0(t) = \\sum_j \\lambda_j |[b_j, b_{j+1}) \\cap [0, t]|`."""
        from ..kernels.survival import piecewise_cumulative_hazard

        arr, scalar = _times_iv(t)
        return _out(piecewise_cumulative_hazard(arr, self.breaks, self.rates), scalar)

    def hazard(self, t: ArrayLike) -> Any:
        """Return the hazard in force at ``t`` (right-continuous)."""
        arr, scalar = _times_iv(t)
        edges, rates, _ = self._edges()
        return _out(rates[np.searchsorted(edges, arr, side="right") - 1], scalar)

    def quantile(self, q: ArrayLike) -> Any:
        """Return :math:`\\inf\\{t: 1 - S_0(t) \\ge q\\}`; ``inf`` when the curve plateaus above ``1 - q``."""
        arr, scalar = _q_iv(q)
        edges, rates, h_edges = self._edges()
        with np.errstate(divide="ignore"):
            target = -np.log1p(-arr)
        flat = target.reshape(-1)
        out = np.empty_like(flat)
        for k, h in enumerate(flat):
            j = int(np.searchsorted(h_edges, h, side="left"))
            if j < h_edges.size and h_edges[j] == h:
                out[k] = edges[j]
            else:
                j -= 1
                out[k] = edges[j] + (h - h_edges[j]) / rates[j] if rates[j] > 0 else math.inf
        return _out(out.reshape(arr.shape), scalar)


@dataclass(frozen=True, slots=True)
class WeibullCurve(_Curve):
    """Weibull reference curve, parametrised as R's ``pweibull(shape, scale)``.

    :math:`\\Lambda_0(t) = (t/\\sigma)^k`, hazard :math:`(k/\\sigma)(t/\\sigma)^{k-1}` (``inf`` at 0 when
    :math:`k < 1`).

    Parameters
    ----------
    shape : float
        :math:`k > 0`; ``> 1`` increasing hazard, ``< 1`` decreasing, 1 exponential.
    scale : float
        :math:`\\sigma > 0`, the time at which :math:`S_0 = e^{-1}`.

    Examples
    --------
    >>> from condapprove.estimate.survival import WeibullCurve
    >>> ref = WeibullCurve.from_median(14, shape=1.5)
    >>> round(ref.survival(14), 3), round(ref.quantile(0.5), 3)
    (0.5, 14.0)
    """

    shape: float
    scale: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", check_positive(self.shape, "shape"))
        object.__setattr__(self, "scale", check_positive(self.scale, "scale"))

    @classmethod
    def from_median(cls, median: float, *, shape: float) -> WeibullCurve:
        """Curve with the given median and shape: :math:`\\sigma = m / (\\log 2)^{1/k}`."""
        from ..kernels.survival import weibull_through

        return cls(*weibull_through(median, 0.5, shape, name="median"))

    @classmethod
    def from_survival_at(cls, t: float, survival: float, *, shape: float) -> WeibullCurve:
        """Curve through :math:`S_0(t) = ` ``survival`` with the given shape."""
        from ..kernels.survival import weibull_through

        return cls(*weibull_through(t, survival, shape))

    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`(t/\\sigma)^k`."""
        arr, scalar = _times_iv(t)
        return _out((arr / self.scale) ** self.shape, scalar)

    def hazard(self, t: ArrayLike) -> Any:
        """Return :math:`(k/\\sigma)(t/\\sigma)^{k-1}`."""
        arr, scalar = _times_iv(t)
        with np.errstate(divide="ignore"):
            return _out(self.shape / self.scale * (arr / self.scale) ** (self.shape - 1.0), scalar)

    def quantile(self, q: ArrayLike) -> Any:
        """Return :math:`\\sigma(-\\log(1-q))^{1/k}`."""
        arr, scalar = _q_iv(q)
        with np.errstate(divide="ignore"):
            return _out(self.scale * (-np.log1p(-arr)) ** (1.0 / self.shape), scalar)


# --------------------------------------------------------------------------------------------- one-sample log-rank


def _poisson_ratio_interval(observed: int, denom: float, level: float) -> ConfidenceInterval:
    """Exact (Garwood) interval of ``observed / denom`` for a Poisson count, as R's ``poisson.test``."""
    a = 1.0 - level
    low = 0.0 if observed == 0 else float(special.gammaincinv(observed, a / 2.0)) / denom
    high = float(special.gammaincinv(observed + 1, 1.0 - a / 2.0)) / denom
    return ConfidenceInterval(low, high)


@dataclass(frozen=True, slots=True, kw_only=True)
class OneSampleLogrankResult(ResultMixin):
    """One-sample log-rank test against a reference curve, returned by :func:`one_sample_logrank`.

    Attributes
    ----------
    statistic : float
        Signed z: :math:`(O-E)/\\sqrt{(O+E)/2}` for ``method='wu'``, :math:`(O-E)/\\sqrt E` for 'standard'
        and 'exact'.  Negative when fewer events than expected.
    pvalue : float
        p-value for ``alternative``.
    observed : int
        Observed events :math:`O`.
    expected : float
        Expected events under the reference, :math:`E = \\sum_i \\Lambda_0(t_i)`.
    hazard_ratio : float
        :math:`O/E` (standardised mortality ratio), the maximum-likelihood estimate of :math:`\\theta` in
        :math:`h(t) = \\theta h_0(t)`; see :meth:`interval`.
    method : str
        'wu', 'standard' or 'exact'.
    alternative : str
        'less' (hazard below the reference: benefit), 'greater' or 'two-sided'.
    confidence_level : float
        Default level of :meth:`interval`.
    """

    statistic: float
    pvalue: float
    observed: int
    expected: float
    hazard_ratio: float
    method: str
    alternative: str
    confidence_level: float

    def interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Exact Poisson (Garwood) interval of :math:`O/E`, treating :math:`E` as fixed (R ``poisson.test``)."""
        level = _level(confidence_level, self.confidence_level)
        return _poisson_ratio_interval(self.observed, self.expected, level)


def one_sample_logrank(
    durations: ArrayLike,
    event_observed: ArrayLike,
    reference: ReferenceCurve,
    *,
    alternative: Alternative = "less",
    method: Literal["wu", "standard", "exact"] = "wu",
    confidence_level: float = 0.95,
) -> OneSampleLogrankResult:
    """One-sample log-rank test of a single arm against a fixed reference survival curve.

    Parameters
    ----------
    durations : array_like of float
        Time from the origin to the event or censoring, ``>= 0`` (no delayed entry).
    event_observed : array_like of {0, 1} or bool
        1 = event, 0 = right-censored.
    reference : ReferenceCurve
        The reference (e.g. historical-control) curve: :class:`ExponentialCurve`,
        :class:`PiecewiseExponentialCurve`, :class:`WeibullCurve` or any object with a vectorised
        ``cumulative_hazard(t)`` method.
    alternative : {'less', 'greater', 'two-sided'}, optional
        'less' (default): the arm's hazard is *lower* than the reference's (:math:`O < E`), i.e. benefit.
    method : {'wu', 'standard', 'exact'}, optional
        'wu' (default): Wu's modified statistic :math:`Z = (O-E)/\\sqrt{(O+E)/2}`;
        'standard': Breslow's / Finkelstein et al.'s :math:`Z = (O-E)/\\sqrt{E}`;
        'exact': p-value from :math:`O \\sim \\mathrm{Poisson}(E)` (``statistic`` is the standard z).
    confidence_level : float, optional
        Default level of :meth:`OneSampleLogrankResult.interval` (0.95).

    Returns
    -------
    OneSampleLogrankResult
        ``statistic``, ``pvalue``, ``observed``, ``expected``, ``hazard_ratio`` (:math:`O/E`), ``method``.

    Raises
    ------
    DesignError
        On invalid data or options, if ``reference`` has no ``cumulative_hazard`` method or returns
        negative or non-finite values, or if :math:`E = 0` (all durations 0).

    Notes
    -----
    :math:`O = \\sum_i \\delta_i` and :math:`E = \\sum_i \\Lambda_0(t_i)`, the reference cumulative hazard at
    each patient's follow-up time; under :math:`H_0: h = h_0`, :math:`O - E` is a martingale with variance
    estimated by :math:`E` (Breslow 1975; Finkelstein, Muzikansky & Schoenfeld 2003).  With small samples
    the standard statistic is conservative for the 'less' alternative, because :math:`O` is roughly Poisson
    with a short left tail.  Wu (2014) proposed the variance estimate :math:`(O+E)/2` (the average of the
    estimates under the null and under the alternative), which keeps the type I error closer to nominal and
    is more powerful at small :math:`n`; it is the default here because single-arm cohorts under
    conditional approval are small and the question is benefit ('less').  Note that Wu (2015) is the
    sample-size formula for the *standard* statistic, not this variant.  The 'exact' method treats
    :math:`E` as fixed and :math:`O` as Poisson (the exact test of an SMR); two-sided p-values double the
    smaller tail.

    The reference curve is treated as known.  When it is itself estimated from a historical cohort,
    ignoring its sampling variability inflates the type I error (Danzer et al. 2022); the test also assumes
    the reference applies to this population (no confounding) and independent censoring.

    References
    ----------
    .. [1] Breslow NE (1975). Analysis of survival data under the proportional hazards model.
       Int Stat Rev 43:45-57.
    .. [2] Finkelstein DM, Muzikansky A, Schoenfeld DA (2003). Comparing survival of a sample to that of a
       standard population. J Natl Cancer Inst 95:1434-1439.
    .. [3] Wu J (2014). A new one-sample log-rank test. J Biom Biostat 5:210.
    .. [4] Wu J (2015). Sample size calculation for the one-sample log-rank test. Pharm Stat 14:26-33.
    .. [5] Danzer MF, Faldum A, Schmidt R (2022). One-sample log-rank tests with consideration of reference
       curve sampling variability. arXiv:2109.02315.

    Examples
    --------
    Delytact-style: 19 patients, 3 deaths before 12 months, against a historical 15% one-year survival.

    >>> from condapprove.estimate.survival import ExponentialCurve, one_sample_logrank
    >>> t = [5.7, 8.5, 9.2] + [12.0] * 16           # follow-up cut at 12 months
    >>> e = [1, 1, 1] + [0] * 16
    >>> ref = ExponentialCurve.from_survival_at(12, 0.15)
    >>> res = one_sample_logrank(t, e, ref)
    >>> res.observed, round(res.expected, 2), round(res.statistic, 2)
    (3, 34.05, -7.21)
    >>> res.pvalue < 1e-10
    True
    >>> round(res.hazard_ratio, 3)
    0.088
    """
    t, e = _survival_data_iv(durations, event_observed, merge_ties=False)  # (E: each patient's own time)
    alt = check_one_of(alternative, "alternative", _ALTERNATIVES)
    method = check_one_of(method, "method", ("wu", "standard", "exact"))  # type: ignore[assignment]
    level = check_confidence_level(confidence_level)
    fn = getattr(reference, "cumulative_hazard", None)
    if not callable(fn):
        raise _fail(
            "reference",
            "a reference curve with a cumulative_hazard(t) method",
            reference,
            hint="use ExponentialCurve, PiecewiseExponentialCurve or WeibullCurve",
        )
    lam = np.asarray(fn(t), dtype=np.float64)
    if lam.shape != t.shape or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise _fail("reference.cumulative_hazard(durations)", "finite values >= 0, one per patient", lam)
    o = int(e.sum())
    big_e = float(lam.sum())
    if big_e <= 0.0:
        raise _fail(
            "durations",
            "times with a positive expected number of events under the reference",
            "expected events E = 0",
        )
    z_std = (o - big_e) / math.sqrt(big_e)
    if method == "wu":
        z = (o - big_e) / math.sqrt((o + big_e) / 2.0)
        pvalue = _pvalue_from_z(z, alt)
    elif method == "standard":
        z = z_std
        pvalue = _pvalue_from_z(z, alt)
    else:
        z = z_std
        p_less = float(special.pdtr(o, big_e))
        p_greater = 1.0 if o == 0 else float(special.pdtrc(o - 1, big_e))
        pvalue = {"less": p_less, "greater": p_greater}.get(alt, min(1.0, 2.0 * min(p_less, p_greater)))
    return OneSampleLogrankResult(
        statistic=float(z),
        pvalue=float(pvalue),
        observed=o,
        expected=big_e,
        hazard_ratio=o / big_e,
        method=method,
        alternative=alt,
        confidence_level=level,
    )


# --------------------------------------------------------------------------------------------- Cox


@dataclass(frozen=True, slots=True, kw_only=True)
class CoxResult(ResultMixin):
    """Cox proportional-hazards comparison of two groups, returned by :func:`cox_hazard_ratio`.

    Attributes
    ----------
    hazard_ratio : float
        :math:`\\exp(\\hat\\beta)`, hazard of ``groups[1]`` relative to ``groups[0]`` (the control).
    log_hr : float
        :math:`\\hat\\beta`.
    se : float
        Standard error of :math:`\\hat\\beta` (inverse observed information).
    statistic : float
        Wald :math:`z = \\hat\\beta/\\mathrm{se}`.
    pvalue : float
        Wald p-value for ``alternative``.
    alternative : str
        'two-sided', 'less' (hazard ratio < 1) or 'greater'.
    ties : str
        Tie handling ('efron').
    confidence_level : float
        Default level of :meth:`interval`.
    groups : tuple
        ``(control, compared)`` labels.
    n : int
        Number of patients.
    n_events : int
        Number of events.
    """

    hazard_ratio: float
    log_hr: float
    se: float
    statistic: float
    pvalue: float
    alternative: str
    ties: str
    confidence_level: float
    groups: tuple[Any, Any]
    n: int
    n_events: int

    def interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Wald interval of the hazard ratio, :math:`\\exp(\\hat\\beta \\pm z\\,\\mathrm{se})` (R ``confint``)."""
        level = _level(confidence_level, self.confidence_level)
        z = float(special.ndtri(0.5 + level / 2.0))
        return ConfidenceInterval(math.exp(self.log_hr - z * self.se), math.exp(self.log_hr + z * self.se))


def _efron_terms(t: FloatArray, e: IntArray, x: IntArray) -> tuple[FloatArray, int]:
    """The terms of the score of Efron's partial likelihood of a 0/1 covariate, and the compared group's events.

    At a time with ``d`` events (``d0`` of the control group, ``d1`` of the compared), ``n0`` and ``n1`` patients at
    risk, Efron's approximation has ``d`` terms, ``l = 0, ..., d - 1``, each the probability that the next event is a
    compared patient's once ``l / d`` of every tied patient has left the risk set:
    ``p_l = a_l e^beta / (b_l + a_l e^beta)`` with ``a_l = n1 - (l / d) d1`` and ``b_l = n0 - (l / d) d0``.  So
    ``p_l = expit(beta + c_l)`` with ``c_l = log a_l - log b_l`` (``-inf`` when ``a_l = 0``, ``+inf`` when
    ``b_l = 0``), the score is ``D1 - sum_l p_l`` (``D1``: the compared group's events) and the information
    ``sum_l p_l (1 - p_l)``.  Returns ``c`` (one per event) and ``D1``.
    """
    times = np.unique(t[e == 1])

    def at_risk(group: int) -> IntArray:
        s = np.sort(t[x == group])
        return s.size - np.searchsorted(s, times, side="left")

    def events(group: int) -> IntArray:
        s = np.sort(t[(e == 1) & (x == group)])
        return np.searchsorted(s, times, side="right") - np.searchsorted(s, times, side="left")

    n0, n1, d0, d1 = at_risk(0), at_risk(1), events(0), events(1)
    d = d0 + d1
    which = np.repeat(np.arange(times.size), d)
    frac = (np.arange(which.size) - np.repeat(np.cumsum(d) - d, d)) / d[which]
    a = n1[which] - frac * d1[which]
    b = n0[which] - frac * d0[which]
    with np.errstate(divide="ignore"):
        c = np.log(a) - np.log(b)  # (a + b > 0: every tied patient is at risk)
    return c, int(d1.sum())


def _efron_fit(c: FloatArray, d1: int) -> tuple[float, float] | None:
    """The maximum of Efron's partial likelihood of :func:`_efron_terms` ``c`` and ``d1``: ``(beta, information)``,
    or None when it has no finite maximum.

    The score ``d1 - sum expit(beta + c)`` decreases strictly from ``d1 - #(c = +inf)`` at ``beta -> -inf`` to
    ``d1 - #(c > -inf)`` at ``+inf`` (the likelihood is concave), so a finite maximum exists exactly when the first
    is positive and the second negative; its root is then bracketed by doubling and found by Brent's method to
    within a few units in the last place.
    """
    if not int(np.sum(c == np.inf)) < d1 < int(np.sum(c > -np.inf)):
        return None

    def score(beta: float) -> float:
        return d1 - float(np.sum(special.expit(beta + c)))

    lo, hi = -1.0, 1.0  # widened until score(lo) >= 0 >= score(hi)
    while score(lo) < 0:
        lo, hi = 2.0 * lo, lo
    while score(hi) > 0:
        lo, hi = hi, 2.0 * hi
    beta = brentq(score, lo, hi, xtol=1e-300, maxiter=2000)  # (scipy's, without importing scipy.optimize)
    information = float(np.sum(special.expit(beta + c) * special.expit(-(beta + c))))
    return beta, information


def cox_hazard_ratio(
    durations: ArrayLike,
    event_observed: ArrayLike,
    group: ArrayLike,
    *,
    confidence_level: float = 0.95,
    ties: Literal["efron"] = "efron",
    alternative: Alternative = "two-sided",
    control: Any = None,
) -> CoxResult:
    """Hazard ratio of two groups from a Cox proportional-hazards model (R ``coxph(ties = "efron")``).

    Parameters
    ----------
    durations : array_like of float
        Time to event or censoring, ``>= 0``.
    event_observed : array_like of {0, 1} or bool
        1 = event, 0 = right-censored.
    group : array_like
        Group label of each patient; exactly two distinct labels.
    confidence_level : float, optional
        Default level of :meth:`CoxResult.interval` (0.95).
    ties : {'efron'}, optional
        Tie handling.  Only Efron's approximation (R ``coxph``'s default) is available.
    alternative : {'two-sided', 'less', 'greater'}, optional
        Alternative of the Wald test; 'less' means hazard ratio < 1.
    control : label, optional
        Label of the control group (the denominator of the hazard ratio).  Default: the smaller label when
        sorted (with a 0/1 coding, the hazard ratio is group 1 over group 0, as R's ``coxph``).

    Returns
    -------
    CoxResult
        ``hazard_ratio``, ``log_hr``, ``se``, Wald ``statistic`` and ``pvalue``, and :meth:`~CoxResult.interval`.

    Raises
    ------
    DesignError
        On invalid data or options.
    ConvergenceError
        If the partial likelihood has no finite maximum (e.g. no events in one group: the estimate is 0 or
        infinite; use :func:`logrank_test`).

    Notes
    -----
    Maximises Efron's partial likelihood for :math:`h(t \\mid x) = h_0(t) e^{\\beta x}` with :math:`x = 1`
    for the compared group.  With one 0/1 covariate the likelihood is concave and its score is
    :math:`D_1 - \\sum_l \\operatorname{expit}(\\beta + c_l)`, one term per event (:math:`D_1`: the compared
    group's events; :math:`c_l` from the numbers at risk and tied, Efron's weights included), so the estimate is
    the root of the score, bracketed and found by Brent's method to a few units in the last place (R's ``coxph``
    stops its Newton-Raphson within about 1e-9 of it), and the standard error is the inverse square root of the
    observed information there.  The maximum is finite exactly when the score changes sign; otherwise the
    estimate is 0 or infinite and a :class:`~condapprove.errors.ConvergenceError` says so.  Times equal up to
    rounding error are ties (R's ``timefix``).  Inference is the large-sample Wald test and interval, which are
    unreliable with few events (prefer :func:`logrank_test` for the test and report the interval as
    approximate).  Proportional hazards and independent censoring are assumed.

    References
    ----------
    .. [1] Cox DR (1972). Regression models and life-tables. JRSS B 34:187-220.
    .. [2] Efron B (1977). The efficiency of Cox's likelihood function for censored data. JASA 72:557-565.

    Examples
    --------
    >>> from condapprove.estimate.survival import cox_hazard_ratio
    >>> t = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
    >>> e = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    >>> g = [0] * 11 + [1] * 12
    >>> res = cox_hazard_ratio(t, e, g)
    >>> round(res.hazard_ratio, 3), round(res.se, 3), round(res.pvalue, 4)
    (2.498, 0.512, 0.0737)
    >>> lo, hi = res.interval()
    >>> round(lo, 3), round(hi, 3)
    (0.916, 6.813)
    """
    t, e = _survival_data_iv(durations, event_observed)
    x, labels = _group_iv(group, t.size, control)
    level = check_confidence_level(confidence_level)
    ties = check_one_of(ties, "ties", ("efron",))  # type: ignore[assignment]
    alt = check_one_of(alternative, "alternative", _ALTERNATIVES)
    fit = _efron_fit(*_efron_terms(t, e, x))
    if fit is None:
        raise ConvergenceError(
            "the Cox partial likelihood has no finite maximum: the hazard ratio estimate is 0 or infinite.\n"
            "  1. check whether one group has no events (or all its events occur when the other group has no "
            "patient at risk);\n"
            "  2. use logrank_test() for the comparison, or report the events per group."
        )
    beta, information = fit
    se = 1.0 / math.sqrt(information)
    z = beta / se
    return CoxResult(
        hazard_ratio=math.exp(beta),
        log_hr=beta,
        se=se,
        statistic=z,
        pvalue=_pvalue_from_z(z, alt),
        alternative=alt,
        ties=ties,
        confidence_level=level,
        groups=labels,
        n=int(t.size),
        n_events=int(e.sum()),
    )


# --------------------------------------------------------------------------------------------- exponential


@dataclass(frozen=True, slots=True, kw_only=True)
class ExponentialRateResult(ResultMixin):
    """Exponential (constant-hazard) fit of one sample, returned by :func:`exponential_rate`.

    Attributes
    ----------
    rate : float
        Maximum-likelihood hazard :math:`D/T` (events per unit of follow-up time).
    events : int
        :math:`D`, the number of events.
    exposure : float
        :math:`T`, the total follow-up time.
    median : float
        :math:`\\log 2/\\hat\\lambda`; ``inf`` when there is no event.
    confidence_level : float
        Default level of :meth:`interval` and :meth:`median_interval`.
    """

    rate: float
    events: int
    exposure: float
    median: float
    confidence_level: float

    def interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Exact Poisson (Garwood, chi-square based) interval of the rate, as R's ``poisson.test(D, T)``."""
        level = _level(confidence_level, self.confidence_level)
        return _poisson_ratio_interval(self.events, self.exposure, level)

    def median_interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Interval of the median, :math:`\\log 2` over the rate interval (upper limit ``inf`` if ``D = 0``)."""
        lo, hi = self.interval(confidence_level)
        return ConfidenceInterval(math.log(2.0) / hi, math.inf if lo == 0 else math.log(2.0) / lo)

    def to_curve(self) -> ExponentialCurve:
        """The fitted :class:`ExponentialCurve` (e.g. a historical control for :func:`one_sample_logrank`)."""
        if self.rate <= 0:
            raise _fail("rate", "> 0 to build a curve (at least one event)", self.rate)
        return ExponentialCurve(self.rate)


def exponential_rate(
    durations: ArrayLike, event_observed: ArrayLike, *, confidence_level: float = 0.95
) -> ExponentialRateResult:
    """Exponential (constant-hazard) rate of one sample with an exact Poisson interval.

    Parameters
    ----------
    durations : array_like of float
        Time to event or censoring, ``>= 0``; their sum (the exposure) must be positive.
    event_observed : array_like of {0, 1} or bool
        1 = event, 0 = right-censored.
    confidence_level : float, optional
        Default level of the intervals of the result (0.95).

    Returns
    -------
    ExponentialRateResult
        ``rate``, ``events``, ``exposure``, ``median`` and exact intervals.

    Raises
    ------
    DesignError
        On invalid data, or if the total follow-up time is 0.

    Warns
    -----
    DegenerateDataWarning
        If there is no event: the rate is 0 and the median ``inf`` (the intervals remain informative).

    Notes
    -----
    Under a constant hazard :math:`\\lambda` the likelihood is :math:`\\lambda^D e^{-\\lambda T}`, so
    :math:`\\hat\\lambda = D/T` (R ``survreg(dist = "exponential")``).  Treating :math:`D` as Poisson with
    mean :math:`\\lambda T`, the exact interval is
    :math:`[\\chi^2_{2D,\\,\\alpha/2}/(2T),\\ \\chi^2_{2D+2,\\,1-\\alpha/2}/(2T)]` (lower limit 0 when
    :math:`D = 0`).  The constant-hazard assumption matters: check it against the Kaplan-Meier curve.

    References
    ----------
    .. [1] Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika 28:437-442.
    .. [2] Cox DR (1953). Some simple approximate tests for Poisson variates. Biometrika 40:354-360.

    Examples
    --------
    >>> from condapprove.estimate.survival import exponential_rate
    >>> fit = exponential_rate([2, 3, 3, 5, 7, 8], [1, 0, 1, 1, 0, 1])
    >>> fit.rate, fit.events, fit.exposure
    (0.14285714285714285, 4, 28.0)
    >>> lo, hi = fit.interval()
    >>> round(lo, 4), round(hi, 4)
    (0.0389, 0.3658)
    >>> round(fit.median, 2)
    4.85
    """
    t, e = _survival_data_iv(durations, event_observed, merge_ties=False)  # (the exposure: a plain sum)
    level = check_confidence_level(confidence_level)
    d = int(e.sum())
    exposure = float(t.sum())
    if exposure <= 0:
        raise _fail("durations", "times with a positive total follow-up", "sum(durations) = 0")
    rate = d / exposure
    if d == 0:
        warnings.warn(
            "no events: the exponential rate is 0 and the median is inf (the interval is still exact).",
            DegenerateDataWarning,
            stacklevel=2,
        )
    median = math.inf if d == 0 else math.log(2.0) / rate
    return ExponentialRateResult(rate=rate, events=d, exposure=exposure, median=median, confidence_level=level)
