"""Heterogeneity across manufacturing lots or sites.

A regenerative-medicine product is not homogeneous: the effect observed in one lot
(or at one site) differs from the next.  This module summarises per-lot estimates
``yi`` with known sampling variances ``vi`` by

* :func:`random_effects` -- the frequentist normal-normal random-effects model
  (DerSimonian-Laird, REML, ML and Paule-Mandel estimators of tau^2, Wald or
  Hartung-Knapp inference, Q-profile interval for tau^2, prediction interval for a
  new lot), computed exactly as R's ``metafor::rma``;
* :func:`bayes_random_effects` -- the Bayesian normal-normal hierarchical model with a
  half-normal prior on tau, by deterministic numerical integration (no MCMC), suited
  to a small number of lots;
* :func:`log_odds` and :func:`means` -- per-lot effect sizes (``yi``, ``vi``) from
  event counts or from means and standard deviations, as ``metafor::escalc``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, special, stats

from .._text import percent
from .._typing import ArrayLike, BoolArray, FloatArray
from .._validation import (
    check_confidence_level,
    check_finite,
    check_finite_array,
    check_int,
    check_one_of,
    check_positive,
    check_probability,
)
from ..errors import ConvergenceError, DegenerateDataWarning, DesignError
from ..results import ConfidenceInterval, ResultMixin

__all__ = [
    "BayesRandomEffectsResult",
    "EffectSizes",
    "NormalMixturePosterior",
    "RandomEffectsResult",
    "TauPosterior",
    "bayes_random_effects",
    "log_odds",
    "means",
    "random_effects",
]

_METHODS = ("REML", "DL", "PM", "ML")
_TESTS = ("z", "hartung-knapp")


def _readonly(a: ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def _two_sided_crit(confidence_level: float, df: int | None) -> float:
    p = 0.5 + confidence_level / 2.0
    if df is None:
        return float(special.ndtri(p))
    return float(stats.t.ppf(p, df))


# ---------------------------------------------------------------------------
# Effect sizes
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EffectSizes(ResultMixin):
    """Per-lot effect sizes and their sampling variances.

    Attributes
    ----------
    yi : ndarray
        Per-lot estimates (read-only).
    vi : ndarray
        Their sampling variances (read-only), all > 0.
    measure : str
        ``"log_odds"`` (metafor's ``"PLO"``) or ``"mean"`` (metafor's ``"MN"``).
    corrected : ndarray of bool
        Which lots had a continuity correction added (always False for means).
    """

    yi: FloatArray
    vi: FloatArray
    measure: str
    corrected: BoolArray


def _int_array(value: Any, name: str) -> np.ndarray:
    arr = check_finite_array(value, name)
    if not np.all(arr == np.round(arr)):
        raise DesignError(f"`{name}` must be an array of integers; got {value!r}.")
    return arr


def _log_odds_iv(events: ArrayLike, n: ArrayLike, correction: float) -> tuple[np.ndarray, np.ndarray, float]:
    x = _int_array(events, "events")
    nn = _int_array(n, "n")
    if x.shape != nn.shape:
        raise DesignError(
            f"`events` and `n` must have the same length; got {x.size} events and {nn.size} sample sizes."
        )
    if np.any(nn < 1):
        raise DesignError(f"`n` must contain integers >= 1; got {n!r}.")
    if np.any(x < 0) or np.any(x > nn):
        raise DesignError(f"`events` must be integers with 0 <= events <= n; got events={events!r}, n={n!r}.")
    corr = check_positive(correction, "correction", allow_zero=True)
    if corr == 0 and np.any((x == 0) | (x == nn)):
        raise DesignError(
            f"`correction` must be > 0 when a lot has 0 or n events (its log odds are infinite); got {correction!r}.",
            hint="use the default correction=0.5 or remove the lot.",
        )
    return x, nn, corr


def log_odds(events: ArrayLike, n: ArrayLike, *, correction: float = 0.5) -> EffectSizes:
    """Per-lot log odds of a binary outcome and their sampling variances.

    Parameters
    ----------
    events : array_like of int
        Number of patients with the event (responders) in each lot, ``0 <= events <= n``.
    n : array_like of int
        Number of patients treated with each lot, ``n >= 1``.
    correction : float, optional
        Continuity correction added to *both* cells (events and non-events) of every
        lot that has a zero cell (``events == 0`` or ``events == n``); other lots are
        left alone.  Default 0.5.  ``0`` is allowed only when no lot has a zero cell.

    Returns
    -------
    EffectSizes
        ``yi = log(a / b)`` and ``vi = 1/a + 1/b`` with ``a = events`` and
        ``b = n - events`` (after the correction), ``measure="log_odds"``.

    Notes
    -----
    This is ``metafor::escalc(measure="PLO", xi=events, ni=n)`` with its defaults
    ``add=1/2, to="only0"``: the correction goes only to lots with a zero cell.
    The variance is the large-sample (delta-method) variance of the sample logit;
    with few patients per lot it is itself uncertain, which the normal-normal
    model ignores.

    References
    ----------
    .. [1] Viechtbauer W. Conducting meta-analyses in R with the metafor package.
       J Stat Softw 2010;36(3).

    Examples
    --------
    >>> from condapprove.estimate.heterogeneity import log_odds
    >>> es = log_odds([0, 3, 8], [8, 10, 8])
    >>> es.yi.round(4), es.vi.round(4)
    (array([-2.8332, -0.8473,  2.8332]), array([2.1176, 0.4762, 2.1176]))
    >>> es.corrected
    array([ True, False,  True])
    """
    x, nn, corr = _log_odds_iv(events, n, correction)
    zero = (x == 0) | (x == nn)
    a = x + np.where(zero, corr, 0.0)
    b = nn - x + np.where(zero, corr, 0.0)
    yi = np.log(a / b)
    vi = 1.0 / a + 1.0 / b
    flags = np.array(zero, dtype=bool)
    flags.flags.writeable = False
    return EffectSizes(yi=_readonly(yi), vi=_readonly(vi), measure="log_odds", corrected=flags)


def _means_iv(mean: ArrayLike, sd: ArrayLike, n: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = check_finite_array(mean, "mean")
    s = check_finite_array(sd, "sd")
    nn = _int_array(n, "n")
    if not (m.shape == s.shape == nn.shape):
        raise DesignError(f"`mean`, `sd` and `n` must have the same length; got {m.size}, {s.size} and {nn.size}.")
    if np.any(s <= 0):
        raise DesignError(f"`sd` must contain numbers > 0; got {sd!r}.")
    if np.any(nn < 2):
        raise DesignError(f"`n` must contain integers >= 2 (a standard deviation needs two patients); got {n!r}.")
    return m, s, nn


def means(mean: ArrayLike, sd: ArrayLike, n: ArrayLike) -> EffectSizes:
    """Per-lot means of a continuous outcome and their sampling variances.

    Parameters
    ----------
    mean : array_like
        Mean outcome in each lot.
    sd : array_like
        Standard deviation of the outcome in each lot (> 0).
    n : array_like of int
        Number of patients in each lot (>= 2).

    Returns
    -------
    EffectSizes
        ``yi = mean`` and ``vi = sd**2 / n``, ``measure="mean"``.

    Notes
    -----
    As ``metafor::escalc(measure="MN")``.  The variance treats ``sd`` as known.

    Examples
    --------
    >>> from condapprove.estimate.heterogeneity import means
    >>> es = means([1.0, 2.0], [1.0, 2.0], [4, 5])
    >>> es.vi
    array([0.25, 0.8 ])
    """
    m, s, nn = _means_iv(mean, sd, n)
    flags = np.zeros(m.size, dtype=bool)
    flags.flags.writeable = False
    return EffectSizes(yi=_readonly(m), vi=_readonly(s**2 / nn), measure="mean", corrected=flags)


# ---------------------------------------------------------------------------
# Frequentist random-effects model
# ---------------------------------------------------------------------------


def _yi_vi_iv(yi: ArrayLike, vi: ArrayLike, *, min_k: int) -> tuple[np.ndarray, np.ndarray]:
    y = check_finite_array(yi, "yi")
    v = check_finite_array(vi, "vi")
    if y.shape != v.shape:
        raise DesignError(f"`yi` and `vi` must have the same length; got {y.size} and {v.size}.")
    if np.any(v <= 0):
        raise DesignError(f"`vi` must contain sampling variances > 0; got {vi!r}.")
    if y.size < min_k:
        raise DesignError(
            f"`yi` must hold at least {min_k} lots to estimate between-lot heterogeneity; got {y.size}.",
            hint="with a single lot use bayes_random_effects (the prior on tau then carries all the information).",
        )
    return y, v


def _q_gen(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Generalised Q: sum w_i (y_i - mu_w)^2 with w_i = 1/(v_i + tau2)."""
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    return float(np.sum(w * (y - mu) ** 2))


def _q_root(y: np.ndarray, v: np.ndarray, target: float) -> float:
    """Solve Q_gen(tau2) = target for tau2 >= 0 (Q_gen decreases in tau2); 0 if Q_gen(0) <= target."""
    if _q_gen(0.0, y, v) <= target:
        return 0.0
    hi = max(100.0, 10.0 * float(np.var(y, ddof=1)) + 10.0 * float(np.max(v)))
    while _q_gen(hi, y, v) > target:
        hi *= 2.0
        if not math.isfinite(hi):  # pragma: no cover - Q_gen -> 0 as tau2 -> inf
            raise ConvergenceError("could not bracket the root of the generalised Q statistic.")
    return float(
        optimize.brentq(
            lambda t: _q_gen(t, y, v) - target, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=1000
        )
    )


def _loglik(tau2: float, y: np.ndarray, v: np.ndarray, reml: bool) -> float:
    w = 1.0 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    rss = np.sum(w * (y - mu) ** 2)
    k = y.size
    if reml:
        return float(
            -0.5 * (k - 1) * math.log(2 * math.pi)
            - 0.5 * np.sum(np.log(v + tau2))
            - 0.5 * math.log(np.sum(w))
            - 0.5 * rss
        )
    return float(-0.5 * k * math.log(2 * math.pi) - 0.5 * np.sum(np.log(v + tau2)) - 0.5 * rss)


#: Fisher scoring also stops when tau^2 changes by less than this fraction of itself: on a large scale (tau^2 of 1e7,
#: say) an absolute ``tol`` of 1e-10 is below tau^2's own rounding (its changes settle into a cycle of up to about 26
#: units in the last place, 30 lots, measured), and the iterations would never stop.
_TAU2_RTOL = 1e-12


def _tau2_fisher(y: np.ndarray, v: np.ndarray, reml: bool, tol: float, maxiter: int) -> float:
    """REML/ML tau2 by metafor's Fisher scoring (start: Hedges' estimator; step halving at 0)."""
    k = y.size
    tau2 = max(0.0, (float(np.sum((y - y.mean()) ** 2)) - (1 - 1 / k) * float(np.sum(v))) / (k - 1))
    it = 0
    change = math.inf
    while change > max(tol, _TAU2_RTOL * tau2):
        it += 1
        old = tau2
        w = 1.0 / (v + tau2)
        sw = float(np.sum(w))
        mu = float(np.sum(w * y)) / sw
        ypp_y = float(np.sum(w**2 * (y - mu) ** 2))  # y' P P y
        sw2 = float(np.sum(w**2))
        if reml:
            tr_p = sw - sw2 / sw
            tr_pp = sw2 - 2 * float(np.sum(w**3)) / sw + sw2**2 / sw**2
            adj = (ypp_y - tr_p) / tr_pp
        else:
            adj = (ypp_y - sw) / sw2
        if math.isnan(adj):  # pragma: no cover - as metafor
            adj = 0.0
        while tau2 + adj < 0.0:
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > maxiter:
            raise ConvergenceError(
                f"Fisher scoring for the {'REML' if reml else 'ML'} estimate of tau^2 did not converge in "
                f"{maxiter} iterations (last change {change:.3g}). Try: 1. method='PM' or 'DL'; "
                "2. a larger `maxiter`; 3. check the data for extreme vi."
            )
    # metafor's ll0check: Fisher scoring may stop at a local maximum
    if tau2 > tol and _loglik(0.0, y, v, reml) - _loglik(tau2, y, v, reml) > np.finfo(float).eps ** 0.25:
        warnings.warn(
            "Fisher scoring may have stopped at a local maximum of the likelihood; tau^2 set to 0 "
            "(the likelihood is higher there), as metafor does.",
            DegenerateDataWarning,
            stacklevel=4,
        )
        tau2 = 0.0
    return max(0.0, tau2)


def _tau2_estimate(y: np.ndarray, v: np.ndarray, method: str, tol: float, maxiter: int) -> float:
    k = y.size
    if method == "DL":
        w = 1.0 / v
        sw = np.sum(w)
        q = _q_gen(0.0, y, v)
        return max(0.0, float((q - (k - 1)) / (sw - np.sum(w**2) / sw)))
    if method == "PM":
        return _q_root(y, v, float(k - 1))
    return _tau2_fisher(y, v, method == "REML", tol, maxiter)


def _typical_vi(v: np.ndarray) -> float:
    w = 1.0 / v
    sw = np.sum(w)
    return float((v.size - 1) / (sw - np.sum(w**2) / sw))


@dataclass(frozen=True, slots=True, kw_only=True)
class RandomEffectsResult(ResultMixin):
    """Result of :func:`random_effects`.

    Attributes
    ----------
    estimate : float
        Estimated mean effect mu across lots (inverse-variance weighted with weights
        ``1/(vi + tau2)``).
    se : float
        Its standard error (Hartung-Knapp-scaled when ``test="hartung-knapp"``).
    statistic : float
        ``estimate / se``: a z statistic, or a t statistic with ``df`` degrees of freedom.
    df : int or None
        ``k - 1`` for Hartung-Knapp, None for the z test.
    pvalue : float
        Two-sided p-value for mu = 0.
    ci : ConfidenceInterval
        Interval for mu at ``confidence_level`` (see :meth:`interval`).
    confidence_level : float
        Level of ``ci``.
    tau2, tau : float
        Estimated between-lot variance and standard deviation.
    i2 : float
        ``tau2 / (tau2 + vt)`` in [0, 1] with the typical within-lot variance
        ``vt = (k - 1) / (sum w - sum w^2 / sum w)``, ``w = 1/vi`` (metafor's I^2 / 100;
        for DL it equals Higgins and Thompson's ``max(0, (Q - (k - 1)) / Q)``).
    h2 : float
        ``(tau2 + vt) / vt``.
    q : float
        Cochran's Q, ``sum (y_i - mu_FE)^2 / v_i``.
    q_pvalue : float
        Upper-tail chi-square(k - 1) p-value of ``q`` (test of homogeneity).
    k : int
        Number of lots.
    method : str
        Estimator of tau^2: "REML", "DL", "PM" or "ML".
    test : str
        "z" or "hartung-knapp".
    weights : ndarray
        Relative weights ``w_i / sum w`` (sum to 1; metafor's ``weights()`` / 100).
    yi, vi : ndarray
        The data (read-only), kept for the interval methods.
    """

    estimate: float
    se: float
    statistic: float
    df: int | None
    pvalue: float
    ci: ConfidenceInterval
    confidence_level: float
    tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_pvalue: float
    k: int
    method: str
    test: str
    weights: FloatArray
    yi: FloatArray
    vi: FloatArray

    def interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Confidence interval for the mean effect mu.

        ``estimate -/+ c * se`` with ``c`` the normal quantile (z test) or the t quantile
        with ``k - 1`` df (Hartung-Knapp), as ``metafor::rma``'s ``ci.lb``, ``ci.ub``.
        """
        cl = check_confidence_level(confidence_level)
        c = _two_sided_crit(cl, self.df)
        return ConfidenceInterval(self.estimate - c * self.se, self.estimate + c * self.se)

    def prediction_interval(
        self, confidence_level: float = 0.95, *, kind: Literal["metafor", "higgins"] = "metafor"
    ) -> ConfidenceInterval:
        """Prediction interval for the true effect theta_new of a new lot or site.

        Parameters
        ----------
        confidence_level : float, optional
            Coverage, default 0.95.
        kind : {"metafor", "higgins"}, optional
            ``"metafor"`` (default): ``estimate -/+ c * sqrt(tau2 + se^2)`` with ``c`` the
            normal quantile for the z test and the t(k - 1) quantile (and the
            Hartung-Knapp ``se``) for Hartung-Knapp -- ``metafor::predict(rma)``'s
            ``pi.lb``, ``pi.ub``.  ``"higgins"``: the same with a t(k - 2) quantile
            (Higgins, Thompson & Spiegelhalter 2009; metafor's ``pi.type="Riley"``),
            which needs k >= 3.

        Returns
        -------
        ConfidenceInterval
        """
        cl = check_confidence_level(confidence_level)
        kind = check_one_of(kind, "kind", ("metafor", "higgins"))  # type: ignore[assignment]
        if kind == "higgins":
            if self.k < 3:
                raise DesignError(
                    f"`kind` must be 'metafor' when k < 3 (the Higgins interval uses k - 2 df); got {kind!r} with "
                    f"k = {self.k}."
                )
            c = _two_sided_crit(cl, self.k - 2)
        else:
            c = _two_sided_crit(cl, self.df)
        half = c * math.sqrt(self.tau2 + self.se**2)
        return ConfidenceInterval(self.estimate - half, self.estimate + half)

    def tau2_interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Q-profile confidence interval for tau^2 (Viechtbauer 2007).

        The bounds solve ``Q_gen(tau2) = chi2_{k-1}(1 - a/2)`` (lower) and
        ``Q_gen(tau2) = chi2_{k-1}(a/2)`` (upper), ``a = 1 - confidence_level``, with
        the generalised Q statistic ``Q_gen(tau2) = sum w_i (y_i - mu_w)^2``,
        ``w_i = 1/(v_i + tau2)``, which decreases in tau2.  A bound whose equation has
        no root in tau2 >= 0 is truncated at 0, as ``metafor::confint(rma)``.  The upper bound
        is the root itself, however large: metafor's ``confint`` stops its search at
        ``tau2.max = max(100, 10 tau2)`` by default and then reports that cap (with a few
        lots at 0% or 100% the root can be in the thousands on the log-odds scale; metafor
        gives the same root with ``control = list(tau2.max = 1e8)``).  When even
        the upper bound is below 0 (``Q_gen(0) < chi2_{k-1}(a/2)``: the lots agree more
        than chance allows) the interval is empty; it is then returned as ``(0, 0)``,
        as metafor does, with a :class:`~condapprove.errors.DegenerateDataWarning`.
        The interval does not depend on ``method`` or ``test``.
        """
        return self._qprofile(confidence_level, stacklevel=3)

    def _qprofile(self, confidence_level: float, *, stacklevel: int) -> ConfidenceInterval:
        cl = check_confidence_level(confidence_level)
        y, v = np.asarray(self.yi), np.asarray(self.vi)
        df = self.k - 1
        crit_u = float(stats.chi2.isf((1 - cl) / 2, df))
        crit_l = float(stats.chi2.ppf((1 - cl) / 2, df))
        if _q_gen(0.0, y, v) < crit_l:
            warnings.warn(
                f"the Q-profile {percent(cl)} interval for tau^2 is empty (Q = {_q_gen(0.0, y, v):.4g} is below the "
                f"{(1 - cl) / 2:.3g} quantile {crit_l:.4g} of chi-square({df})); returned as (0, 0) as metafor does.",
                DegenerateDataWarning,
                stacklevel=stacklevel,
            )
            return ConfidenceInterval(0.0, 0.0)
        return ConfidenceInterval(_q_root(y, v, crit_u), _q_root(y, v, crit_l))

    def tau_interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Q-profile interval for tau: the square roots of :meth:`tau2_interval`."""
        lo, hi = self._qprofile(confidence_level, stacklevel=3)
        return ConfidenceInterval(math.sqrt(lo), math.sqrt(hi))

    def i2_interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Interval for I^2 (as a fraction) from :meth:`tau2_interval`, ``tau2 / (tau2 + vt)``."""
        lo, hi = self._qprofile(confidence_level, stacklevel=3)
        vt = _typical_vi(np.asarray(self.vi))
        return ConfidenceInterval(lo / (vt + lo), hi / (vt + hi))


def _random_effects_iv(
    yi: ArrayLike, vi: ArrayLike, method: str, test: str, confidence_level: float, tol: float, maxiter: int
) -> tuple[np.ndarray, np.ndarray, str, str, float, float, int]:
    y, v = _yi_vi_iv(yi, vi, min_k=2)
    method = check_one_of(method, "method", _METHODS)
    if test == "knha":
        raise DesignError("`test` must be one of 'z', 'hartung-knapp'; got 'knha'.", hint="use 'hartung-knapp'.")
    test = check_one_of(test, "test", _TESTS)
    cl = check_confidence_level(confidence_level)
    tol = check_positive(tol, "tol")
    maxiter = check_int(maxiter, "maxiter", minimum=1)
    return y, v, method, test, cl, tol, maxiter


def random_effects(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    method: Literal["REML", "DL", "PM", "ML"] = "REML",
    test: Literal["z", "hartung-knapp"] = "z",
    confidence_level: float = 0.95,
    tol: float = 1e-10,
    maxiter: int = 1000,
) -> RandomEffectsResult:
    r"""Random-effects (normal-normal) model for per-lot or per-site estimates.

    Parameters
    ----------
    yi : array_like
        Per-lot estimates (e.g. log odds from :func:`log_odds`), at least 2.
    vi : array_like
        Their known sampling variances, finite and > 0.
    method : {"REML", "DL", "PM", "ML"}, optional
        Estimator of the between-lot variance tau^2: restricted maximum likelihood
        (default), DerSimonian-Laird, Paule-Mandel or maximum likelihood.
    test : {"z", "hartung-knapp"}, optional
        Inference for mu: Wald z (default) or Hartung-Knapp(-Sidik-Jonkman) t with
        ``k - 1`` df (metafor's ``test="knha"``).
    confidence_level : float, optional
        Level of the stored ``ci``; other levels through ``result.interval(level)``.
    tol, maxiter : optional
        Convergence threshold on the change in tau^2 and iteration cap of the
        REML/ML Fisher scoring (metafor's ``threshold``, default there 1e-5, and
        ``maxiter``, default there 100).  ``tol`` is absolute, as metafor's: for data on a
        very small scale (``vi`` of 1e-8 or less) lower it, or the iterations stop early
        (metafor's too).  A change below 1e-12 of tau^2 itself also ends them, so that
        data on a large scale, whose tau^2 cannot change by less than its own rounding,
        converge.  PM's root and the Q-profile bounds are found to a relative 4 machine
        epsilons (Brent's method) on any scale, where metafor's default root-finding tolerance leaves
        differences of up to about 1e-5 relative (more for PM estimates near 0).

    Returns
    -------
    RandomEffectsResult

    Raises
    ------
    DesignError
        Invalid input, including fewer than 2 lots.
    ConvergenceError
        REML/ML Fisher scoring did not converge.

    Warns
    -----
    DegenerateDataWarning
        With Hartung-Knapp when all ``yi`` are equal (the scale factor is 0, so
        ``se = 0``; the interval collapses to the estimate, as in metafor, and the
        statistic is returned as +-inf with p-value 0, or, if the estimate is 0, as 0 with
        p-value 1, where metafor gives NaN for both).  With REML/ML when Fisher
        scoring stopped at a local maximum whose likelihood is below that at
        tau^2 = 0: tau^2 is then set to 0, as metafor does.

    Notes
    -----
    Model: :math:`y_i \sim N(\theta_i, v_i)`, :math:`\theta_i \sim N(\mu, \tau^2)`.
    Given :math:`\hat\tau^2`, :math:`w_i = 1/(v_i + \hat\tau^2)`,
    :math:`\hat\mu = \sum w_i y_i / \sum w_i`, :math:`SE = (\sum w_i)^{-1/2}`.

    * DL: :math:`\hat\tau^2 = \max\{0, (Q - (k-1)) / (\sum u_i - \sum u_i^2/\sum u_i)\}`,
      :math:`u_i = 1/v_i`, :math:`Q = \sum u_i (y_i - \hat\mu_{FE})^2`.
    * REML / ML: Fisher scoring exactly as metafor (start at Hedges' estimator
      truncated at 0; step :math:`(y'PPy - \mathrm{tr} P)/\mathrm{tr}(PP)` (REML) or
      :math:`(y'PPy - \sum w)/\sum w^2` (ML), halved while it would make tau^2
      negative; stop when the change is below ``tol``), followed by metafor's check that
      the likelihood at tau^2 = 0 is not higher.  When the maximum is at the boundary
      the iterates approach 0 by halving and stop at a tau^2 of the order of ``tol``
      (e.g. 4e-11), exactly as metafor; treat such values as 0.
    * PM: root of the generalised :math:`Q(\tau^2) = \sum w_i (y_i - \hat\mu)^2 = k - 1`,
      0 when :math:`Q(0) < k - 1` (Brent's method; unlike metafor there is no upper
      limit ``tau2.max``, the bracket is widened until it holds the root).
    * Hartung-Knapp: :math:`SE^2 = \sum w_i (y_i - \hat\mu)^2 / ((k-1) \sum w_i)`
      and t(k - 1) quantiles, with no truncation of the scale factor at 1 (metafor's
      ``test="knha"``, not ``"adhoc"``).

    The normal model treats ``vi`` as known; with a handful of small lots that is an
    approximation, and the Hartung-Knapp interval or the Bayesian model
    (:func:`bayes_random_effects`) are the safer summaries.

    References
    ----------
    .. [1] DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials 1986;7:177-88.
    .. [2] Paule RC, Mandel J. Consensus values and weighting factors. J Res Natl Bur Stand 1982;87:377-85.
    .. [3] Hartung J, Knapp G. A refined method for the meta-analysis of controlled clinical trials with
       binary outcome. Stat Med 2001;20:3875-89.
    .. [4] Viechtbauer W. Confidence intervals for the amount of heterogeneity in meta-analysis.
       Stat Med 2007;26:37-52.
    .. [5] Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw 2010;36(3).

    Examples
    --------
    Responders out of patients treated with five manufacturing lots:

    >>> from condapprove.estimate.heterogeneity import log_odds, random_effects
    >>> es = log_odds([3, 8, 9, 5, 8], [10, 10, 11, 9, 10])
    >>> res = random_effects(es.yi, es.vi, method="REML", test="hartung-knapp")
    >>> round(res.estimate, 3), round(res.tau2, 3), round(res.i2, 2), res.df
    (0.673, 0.556, 0.5, 4)
    >>> lo, hi = res.ci
    >>> round(lo, 3), round(hi, 3)
    (-0.616, 1.962)
    >>> lo, hi = res.prediction_interval(0.95)
    >>> round(lo, 3), round(hi, 3)
    (-1.766, 3.112)
    >>> lo, hi = res.tau2_interval(0.95)
    >>> round(lo, 3), round(hi, 3)
    (0.0, 8.157)
    """
    y, v, meth, tst, cl, tol, maxiter = _random_effects_iv(yi, vi, method, test, confidence_level, tol, maxiter)
    k = y.size
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # (checked below)
        try:
            tau2 = _tau2_estimate(y, v, meth, tol, maxiter)
        except (OverflowError, ZeroDivisionError):
            tau2 = math.nan
        except ValueError as exc:  # scipy's root finders on NaN ("solver cannot continue"); not our own errors
            if type(exc) is not ValueError:
                raise
            tau2 = math.nan
        w = 1.0 / (v + tau2)
        sw = float(np.sum(w))
        mu = float(np.sum(w * y) / sw)
        q = _q_gen(0.0, y, v)
        vt = _typical_vi(v)
    if not all(math.isfinite(x) for x in (tau2, mu, q, vt)) or not 0.0 < sw < math.inf:
        raise DesignError(f"the random-effects model cannot be computed in double precision for these data (`yi` from "
                          f"{y.min():g} to {y.max():g}, `vi` from {v.min():g} to {v.max():g}); rescale them "
                          "(both by the same factor, the variances by its square), or drop the extreme lot.")
    df: int | None
    if tst == "hartung-knapp":
        df = k - 1
        rss = float(np.sum(w * (y - mu) ** 2))
        s2w = rss / (k - 1) if rss > np.finfo(float).eps else 0.0
        se = math.sqrt(s2w / sw)
    else:
        df = None
        se = math.sqrt(1.0 / sw)
    if se == 0.0:
        warnings.warn(
            "all `yi` are equal, so the Hartung-Knapp scale factor is 0 and se = 0; the interval for mu "
            "collapses to the estimate (as in metafor). Use test='z' for these data.",
            DegenerateDataWarning,
            stacklevel=2,
        )
        stat = math.copysign(math.inf, mu) if mu != 0 else 0.0
        pvalue = 0.0 if mu != 0 else 1.0
    else:
        stat = mu / se
        pvalue = float(2 * special.ndtr(-abs(stat))) if df is None else float(2 * stats.t.sf(abs(stat), df))
    c = _two_sided_crit(cl, df)
    return RandomEffectsResult(
        estimate=mu,
        se=se,
        statistic=float(stat),
        df=df,
        pvalue=pvalue,
        ci=ConfidenceInterval(mu - c * se, mu + c * se),
        confidence_level=cl,
        tau2=float(tau2),
        tau=math.sqrt(tau2),
        i2=float(tau2 / (vt + tau2)),
        h2=float(tau2 / vt + 1.0),
        q=q,
        q_pvalue=float(stats.chi2.sf(q, k - 1)),
        k=int(k),
        method=meth,
        test=tst,
        weights=_readonly(w / sw),
        yi=_readonly(y),
        vi=_readonly(v),
    )


# ---------------------------------------------------------------------------
# Bayesian normal-normal hierarchical model
# ---------------------------------------------------------------------------

_GL_ORDER = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_ORDER)
# maps density values at the Gauss-Legendre nodes to Legendre coefficients of the interpolant
_GL_VINV = np.linalg.inv(np.polynomial.legendre.legvander(_GL_X, _GL_ORDER - 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalMixturePosterior(ResultMixin):
    """A posterior (or predictive) distribution that is a finite mixture of normals.

    Integrating tau out by quadrature turns the posterior of mu, and the predictive
    distribution of a new lot's effect, into ``sum_j p_j N(loc_j, scale_j^2)``.

    Attributes
    ----------
    mean, sd : float
        Mean and standard deviation of the mixture.
    component_weights, component_locs, component_scales : ndarray
        The mixture (weights sum to 1).
    """

    mean: float
    sd: float
    component_weights: FloatArray
    component_locs: FloatArray
    component_scales: FloatArray

    def cdf(self, x: float) -> float:
        """``P(X <= x)``, ``x`` finite."""
        z = (check_finite(x, "x") - self.component_locs) / self.component_scales
        return float(np.sum(self.component_weights * special.ndtr(z)))

    def prob_greater(self, x: float) -> float:
        """``P(X > x)``, ``x`` finite, computed from upper tails (accurate far in the tail)."""
        z = (check_finite(x, "x") - self.component_locs) / self.component_scales
        return float(np.sum(self.component_weights * special.ndtr(-z)))

    def ppf(self, q: float) -> float:
        """Quantile: the ``x`` with ``P(X <= x) = q``, for ``0 < q < 1``."""
        q = check_probability(q, "q", open_low=True, open_high=True)
        lo = float(np.min(self.component_locs - 40 * self.component_scales))
        hi = float(np.max(self.component_locs + 40 * self.component_scales))
        if q > 0.5:  # solve on the upper tail for accuracy
            return float(optimize.brentq(lambda x: self.prob_greater(x) - (1 - q), lo, hi, xtol=1e-13, rtol=1e-14))
        return float(optimize.brentq(lambda x: self.cdf(x) - q, lo, hi, xtol=1e-13, rtol=1e-14))

    def interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Equal-tailed credible interval: the ``(1 -/+ confidence_level)/2`` quantiles."""
        cl = check_confidence_level(confidence_level)
        return ConfidenceInterval(self.ppf((1 - cl) / 2), self.ppf((1 + cl) / 2))


@dataclass(frozen=True, slots=True, kw_only=True)
class TauPosterior(ResultMixin):
    """Posterior distribution of the between-lot standard deviation tau.

    Represented by its density on composite Gauss-Legendre panels (order 16) that
    cover all but a negligible (< e^-50 relative) part of the posterior mass.

    Attributes
    ----------
    mean, sd, median : float
        Posterior summaries of tau.
    nodes : ndarray
        Quadrature nodes (tau values), panel by panel.
    density : ndarray
        Normalised posterior density at ``nodes``.
    panel_edges : ndarray
        The panels' end points (``len(nodes) / 16 + 1`` of them).
    """

    mean: float
    sd: float
    median: float
    nodes: FloatArray
    density: FloatArray
    panel_edges: FloatArray

    def cdf(self, x: float) -> float:
        """``P(tau <= x)``, ``x`` finite, integrating the degree-15 interpolant of the density within a panel."""
        x = check_finite(x, "x")
        edges = self.panel_edges
        if x <= edges[0]:
            return 0.0
        if x >= edges[-1]:
            return 1.0
        dens = self.density.reshape(-1, _GL_ORDER)
        half = np.diff(edges) / 2.0
        masses = half * (dens @ _GL_W)
        j = int(np.searchsorted(edges, x, side="right") - 1)
        below = float(np.sum(masses[:j]))
        coef = _GL_VINV @ dens[j]
        integral = np.polynomial.legendre.legint(coef, lbnd=-1.0)
        t = (x - edges[j]) / half[j] - 1.0
        part = float(half[j] * np.polynomial.legendre.legval(t, integral))
        total = float(np.sum(masses))
        return min(1.0, max(0.0, (below + part) / total))

    def prob_greater(self, x: float) -> float:
        """``P(tau > x)``, ``x`` finite."""
        return 1.0 - self.cdf(x)

    def ppf(self, q: float) -> float:
        """Quantile of tau, for ``0 < q < 1``: the root of the cdf within the panel whose mass reaches ``q``
        (searched over all the panels, Brent's method ran out of iterations on a range of 1e41)."""
        q = check_probability(q, "q", open_low=True, open_high=True)
        edges = self.panel_edges
        masses = np.diff(edges) / 2.0 * (self.density.reshape(-1, _GL_ORDER) @ _GL_W)
        j = min(int(np.searchsorted(np.cumsum(masses) / np.sum(masses), q)), masses.size - 1)
        lo, hi = edges[max(j - 1, 0)], edges[min(j + 2, edges.size - 1)]  # (a neighbour each side: rounding)
        return float(optimize.brentq(lambda x: self.cdf(x) - q, lo, hi, xtol=1e-13, rtol=1e-14))

    def interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Equal-tailed credible interval for tau."""
        cl = check_confidence_level(confidence_level)
        return ConfidenceInterval(self.ppf((1 - cl) / 2), self.ppf((1 + cl) / 2))


@dataclass(frozen=True, slots=True, kw_only=True)
class BayesRandomEffectsResult(ResultMixin):
    """Result of :func:`bayes_random_effects`.

    Attributes
    ----------
    mu : NormalMixturePosterior
        Posterior of the mean effect across lots.
    tau : TauPosterior
        Posterior of the between-lot standard deviation.
    predictive : NormalMixturePosterior
        Posterior predictive distribution of the true effect theta_new of a new lot.
    k : int
        Number of lots.
    tau_prior_scale : float
        Scale of the half-normal prior on tau.
    mu_prior_mean, mu_prior_sd : float
        Normal prior on mu (``mu_prior_sd = inf``: flat, improper prior).
    n_nodes : int
        Number of quadrature nodes used for tau.
    """

    mu: NormalMixturePosterior
    tau: TauPosterior
    predictive: NormalMixturePosterior
    k: int
    tau_prior_scale: float
    mu_prior_mean: float
    mu_prior_sd: float
    n_nodes: int


class _TauLogPosterior:
    """Unnormalised log posterior of tau with mu integrated out analytically."""

    def __init__(self, y: np.ndarray, v: np.ndarray, scale: float, m0: float, s0: float) -> None:
        self.y, self.v, self.scale, self.m0, self.s0 = y, v, scale, m0, s0
        r = 1.0 / s0  # (r * r, not s0**2: inf or 0 at the extremes, where Python's ** raises; checked by _tau_range)
        self.prior_prec = r * r

    def conditional(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return (log posterior, its upper bound B, conditional mean M, conditional precision P) at ``tau``."""
        tau = np.atleast_1d(np.asarray(tau, dtype=np.float64))
        var = self.v[None, :] + tau[:, None] ** 2
        w = 1.0 / var
        prec = np.sum(w, axis=1) + self.prior_prec
        m = (np.sum(w * self.y[None, :], axis=1) + self.prior_prec * self.m0) / prec
        quad = np.sum(w * (self.y[None, :] - m[:, None]) ** 2, axis=1)
        if self.prior_prec > 0:
            quad = quad + (m - self.m0) ** 2 * self.prior_prec
        log_prior = -0.5 * (tau / self.scale) ** 2  # half-normal, constants dropped
        bound = -0.5 * np.sum(np.log(var), axis=1) - 0.5 * np.log(prec) + log_prior
        return bound - 0.5 * quad, bound, m, prec


def _gl_panels(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = edges[:-1, None], edges[1:, None]
    half = (hi - lo) / 2.0
    nodes = (lo + half * (_GL_X[None, :] + 1.0)).ravel()
    wts = (half * _GL_W[None, :]).ravel()
    return nodes, wts


def _tail_weight(lp: _TauLogPosterior, tau: np.ndarray) -> np.ndarray:
    """log(tau (v_min + tau^2)): what the density is weighed by where the upper end is chosen.  With few lots and a
    wide prior the posterior of tau falls off as a power of tau, over decades: the tail's share of the mass on a
    log scale (tau p(tau)) and of the variances (mu's grows with tau^2) is what must be negligible, not the density
    (cut where it fell e^-55 below its peak, tau_prior_scale 1e12 gave mu's sd 316,012 for 451,695)."""
    return np.asarray(np.log(tau) + np.log(float(np.min(lp.v)) + tau * tau), dtype=np.float64)


def _tau_range(lp: _TauLogPosterior) -> tuple[float, float, float, float]:
    """Find [a, b] holding all but a negligible part of the tau posterior, the mode and a width scale."""
    s = lp.scale
    # upper limit: B(tau) >= log posterior and B is strictly decreasing (dB/dtau <= -tau/s^2), B(tau) plus the
    # tail weight too from tau = sqrt(3) s (its slope is at most -tau/s^2 + 3/tau there)
    at_s = lp.conditional(np.array([s]))[0] + _tail_weight(lp, np.array([s]))
    t_hi = 2.0 * s
    while float(lp.conditional(np.array([t_hi]))[1][0] + _tail_weight(lp, np.array([t_hi]))[0]) > at_s[0] - 60.0:
        t_hi *= 2.0
    low = min(t_hi * 1e-9, math.sqrt(float(np.min(lp.v))) * 1e-3)  # (the peak may lie decades below t_hi)
    grid = np.unique(np.concatenate([[0.0], np.geomspace(low, t_hi, 3000), np.linspace(0, t_hi, 2001)]))
    g = lp.conditional(grid)[0]
    i = int(np.argmax(g))
    lo_b = grid[max(i - 1, 0)]
    hi_b = grid[min(i + 1, grid.size - 1)]
    if hi_b > lo_b:
        opt = optimize.minimize_scalar(
            lambda t: -float(lp.conditional(np.array([t]))[0][0]),
            bounds=(lo_b, hi_b),
            method="bounded",
            options={"xatol": 1e-12 * max(hi_b, 1e-300)},
        )
        mode = float(opt.x) if -opt.fun >= g[i] else float(grid[i])
    else:  # pragma: no cover
        mode = float(grid[i])
    gmax = max(float(g[i]), float(lp.conditional(np.array([mode]))[0][0]))
    keep = np.nonzero(g > gmax - 55.0)[0]
    with np.errstate(divide="ignore"):
        h = g + _tail_weight(lp, grid)
    tail = np.nonzero(h > np.max(h) - 55.0)[0]
    if not math.isfinite(gmax) or keep.size == 0:  # (the log posterior overflowed, or is NaN, on the whole grid)
        raise DesignError(f"the posterior of tau cannot be computed in double precision for these data and priors "
                          f"(`yi` from {lp.y.min():g} to {lp.y.max():g}, `vi` from {lp.v.min():g} to "
                          f"{lp.v.max():g}); rescale them (both by the same factor, the variances by its square) "
                          "with tau_prior_scale and mu_prior_sd.")
    a = float(grid[max(keep[0] - 1, 0)])
    b = float(grid[min(max(keep[-1], tail[-1]) + 1, grid.size - 1)])
    # width of the peak: distance from the mode to where the log density has dropped by 2
    fn = lambda t: float(lp.conditional(np.array([t]))[0][0]) - (gmax - 2.0)
    widths = []
    right = grid[grid > mode]
    r = right[lp.conditional(right)[0] < gmax - 2.0] if right.size else right
    if r.size:
        widths.append(optimize.brentq(fn, mode, float(r[0])) - mode)
    left = grid[grid < mode]
    lft = left[lp.conditional(left)[0] < gmax - 2.0] if left.size else left
    if lft.size:
        widths.append(mode - optimize.brentq(fn, float(lft[-1]), mode))
    width = min(widths) if widths else b - a
    a = max(0.0, min(a, mode - 12 * width))
    b = max(b, mode + 12 * width)
    return a, b, mode, width


def _base_edges(a: float, b: float, mode: float, width: float, smallest: float) -> np.ndarray:
    """Panel edges on [a, b]: 24 panels of width ~ `width` around the mode, then panels growing
    geometrically (ratio 1.5) with the distance from the mode, so that heavy tails spanning
    several decades are covered by a few dozen panels; and edges at every power of 2 times `smallest` (a
    64th of mu's smallest conditional sd, 1/sqrt(P(0)), itself at most the smallest lot's standard error).  The
    posterior of mu and the predictive mix normals whose location and scale change with tau where tau^2 passes a
    lot's variance or the conditional variance of mu, on scales far below the posterior's width when it is wide
    (one lot of variance 1 under a half-normal of scale 500, or variances 1e4 with a prior sd of 0.25 on mu): their
    probabilities were off by up to 5e-6 before these edges.
    """
    core = 12.0 * width
    edges = [np.linspace(max(a, mode - core), min(b, mode + core), 25)]
    d = core
    while mode + d < b:
        d *= 1.5
        edges.append(np.array([min(mode + d, b)]))
    d = core
    while mode - d > a:
        d *= 1.5
        edges.append(np.array([max(mode - d, a)]))
    if b > smallest:
        powers = np.arange(math.ceil(math.log2(max(a, smallest) / smallest)), math.floor(math.log2(b / smallest)) + 1)
        edges.append(smallest * np.exp2(powers.astype(np.float64)))
    out = np.unique(np.concatenate([[a, b], *edges]))
    return out[(out >= a) & (out <= b)]


def _bayes_iv(
    yi: ArrayLike, vi: ArrayLike, tau_prior_scale: float, mu_prior_mean: float, mu_prior_sd: float, grid: int | None
) -> tuple[np.ndarray, np.ndarray, float, float, float, int | None]:
    y, v = _yi_vi_iv(yi, vi, min_k=1)
    scale = check_positive(tau_prior_scale, "tau_prior_scale")
    m0 = float(check_finite_array([mu_prior_mean], "mu_prior_mean")[0])
    try:
        s0 = float(mu_prior_sd)
    except (TypeError, ValueError):
        raise DesignError(f"`mu_prior_sd` must be a number > 0 or inf; got {mu_prior_sd!r}.") from None
    if isinstance(mu_prior_sd, bool) or math.isnan(s0) or s0 <= 0:
        raise DesignError(f"`mu_prior_sd` must be a number > 0 or inf; got {mu_prior_sd!r}.")
    n = None if grid is None else check_int(grid, "grid", minimum=_GL_ORDER)
    return y, v, scale, m0, s0, n


def bayes_random_effects(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    tau_prior_scale: float,
    mu_prior_mean: float = 0.0,
    mu_prior_sd: float = math.inf,
    grid: int | None = None,
) -> BayesRandomEffectsResult:
    r"""Bayesian normal-normal hierarchical model for a small number of lots.

    Parameters
    ----------
    yi, vi : array_like
        Per-lot estimates and their known sampling variances (> 0); one lot is allowed.
    tau_prior_scale : float
        Scale ``s`` of the half-normal prior on tau, :math:`p(\tau) \propto
        \exp(-\tau^2 / 2 s^2)`, on the scale of ``yi``.  Required: it drives the
        answer when lots are few.  For log odds, 0.5 ("moderate" heterogeneity) and
        1.0 ("substantial") are common choices (Friede et al. 2017; Röver et al. 2021).
    mu_prior_mean, mu_prior_sd : float, optional
        Normal prior on mu.  The default ``mu_prior_sd=inf`` is the flat (improper)
        prior, under which the posterior is still proper for any k >= 1.
    grid : int, optional
        Minimum number of quadrature nodes for tau (each base panel is cut into equal
        parts to reach it).  Default None: the panels are halved until the normalising
        constant and the posterior means and variances of mu and tau change by less
        than 1e-12 (relative to their size and spread).

    Returns
    -------
    BayesRandomEffectsResult
        With ``mu``, ``predictive`` (:class:`NormalMixturePosterior`) and ``tau``
        (:class:`TauPosterior`), each with ``mean``, ``sd``, ``interval(level)`` and
        ``prob_greater(x)``.

    Raises
    ------
    ConvergenceError
        The adaptive quadrature did not settle within 2^17 nodes.

    Notes
    -----
    Model: :math:`y_i \mid \theta_i \sim N(\theta_i, v_i)`,
    :math:`\theta_i \mid \mu, \tau \sim N(\mu, \tau^2)`,
    :math:`\mu \sim N(m_0, s_0^2)`, :math:`\tau \sim \text{half-normal}(s)`.
    Given tau, mu is conjugate: with :math:`w_i = 1/(v_i + \tau^2)`,
    :math:`P(\tau) = 1/s_0^2 + \sum w_i` and
    :math:`M(\tau) = (m_0/s_0^2 + \sum w_i y_i) / P(\tau)`,
    :math:`\mu \mid \tau, y \sim N(M, 1/P)` and
    :math:`p(\tau \mid y) \propto p(\tau)\, P^{-1/2} \prod w_i^{1/2}
    \exp\{-\tfrac12[\sum w_i (y_i - M)^2 + (M - m_0)^2 / s_0^2]\}`.
    Tau is integrated numerically: the range holding all but :math:`e^{-50}` of the
    posterior mass (and of the mass weighted by :math:`\tau^2`) is found from a dense grid
    and a strictly decreasing upper bound on the log density, then covered with composite
    Gauss-Legendre panels (order 16), narrow around the posterior mode and widening
    geometrically away from it, and broken at every power of 2 from :math:`1/(64\sqrt{P(0)})`
    (where the mixtures below change, far below the posterior's width when it is wide).  The
    posterior of mu is then the normal mixture :math:`\sum_j \pi_j N(M(\tau_j), 1/P(\tau_j))`
    and the predictive distribution of a new lot's effect
    :math:`\sum_j \pi_j N(M(\tau_j), 1/P(\tau_j) + \tau_j^2)`; their intervals
    invert the mixture CDF.  No Monte Carlo is involved, so results are exact to
    about 1e-10.

    References
    ----------
    .. [1] Friede T, Röver C, Wandel S, Neuenschwander B. Meta-analysis of few small studies in orphan
       diseases. Res Synth Methods 2017;8:79-91.
    .. [2] Röver C, Bender R, Dias S, et al. On weakly informative prior distributions for the
       heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth Methods 2021;12:448-74.
    .. [3] Röver C. Bayesian random-effects meta-analysis using the bayesmeta R package.
       J Stat Softw 2020;93(6).

    Examples
    --------
    >>> from condapprove.estimate.heterogeneity import log_odds, bayes_random_effects
    >>> es = log_odds([3, 8, 9, 5, 8], [10, 10, 11, 9, 10])
    >>> post = bayes_random_effects(es.yi, es.vi, tau_prior_scale=0.5)
    >>> round(post.mu.mean, 3), round(post.mu.prob_greater(0.0), 3)
    (0.645, 0.945)
    >>> lo, hi = post.mu.interval(0.95)
    >>> round(lo, 3), round(hi, 3)
    (-0.156, 1.47)
    >>> round(post.tau.median, 3), round(post.predictive.prob_greater(0.0), 3)
    (0.421, 0.864)
    """
    y, v, scale, m0, s0, n_fixed = _bayes_iv(yi, vi, tau_prior_scale, mu_prior_mean, mu_prior_sd, grid)
    lp = _TauLogPosterior(y, v, scale, m0, s0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # (non-finite values are refused there)
        a, b, mode, width = _tau_range(lp)
    base = _base_edges(a, b, mode, width, 1.0 / (64.0 * math.sqrt(float(lp.conditional(np.array([0.0]))[3][0]))))

    def summarise(split: int) -> tuple[np.ndarray, ...]:
        # every base panel is cut into `split` equal panels
        frac = np.linspace(0.0, 1.0, split + 1)[:-1]
        edges = np.append((base[:-1, None] + np.diff(base)[:, None] * frac[None, :]).ravel(), base[-1])
        nodes, wts = _gl_panels(edges)
        logp, _, m, prec = lp.conditional(nodes)
        shift = float(np.max(logp))
        dens = np.exp(logp - shift)
        z = float(np.sum(wts * dens))
        pi = wts * dens / z
        return edges, nodes, dens / z, pi, m, prec, np.array([math.log(z) + shift])

    def moments(s: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The summaries whose settling ends the refinement, and their scales: the moments, and mu's cdf at its mean
        and 1 and 2 standard deviations either side (the moments alone settled while the cdf was still 1.4e-6 off,
        with lot variances 9.1e-5, 0.12 and 1.1)."""
        _, nodes, _, pi, m, prec, logz = s
        e_mu, e_tau = pi @ m, pi @ nodes
        var_mu = pi @ ((m - e_mu) ** 2 + 1 / prec)
        var_tau = pi @ (nodes - e_tau) ** 2
        points = e_mu + math.sqrt(var_mu) * np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
        cdf = special.ndtr((points[None, :] - m[:, None]) * np.sqrt(prec)[:, None]).T @ pi
        mom = np.concatenate([[logz[0], e_mu, var_mu, e_tau, var_tau], cdf])
        return mom, np.concatenate([np.abs(mom[:5]) + np.array([1.0, math.sqrt(var_mu), 0.0, math.sqrt(var_tau), 0.0]),
                                    np.ones(cdf.size)])

    n_base = base.size - 1
    if n_fixed is not None:
        res = summarise(max(1, -(-n_fixed // (_GL_ORDER * n_base))))
    else:
        split = 1
        res = summarise(split)
        mom, _ = moments(res)
        while True:
            split *= 2
            if split * n_base * _GL_ORDER > 2**17:
                raise ConvergenceError(
                    "the quadrature over tau did not settle within 2^17 nodes. Try: 1. a fixed `grid`; "
                    "2. rescaling `yi`; 3. checking for extreme `vi`."
                )
            res = summarise(split)
            new_mom, tol_scale = moments(res)
            if np.all(np.abs(new_mom - mom) <= 1e-12 * tol_scale):
                break
            mom = new_mom
    edges, nodes, dens, pi, m, prec, _ = res
    post_var = 1.0 / prec
    mu_mean = float(pi @ m)
    mu_var = float(pi @ (post_var + (m - mu_mean) ** 2))  # centred: no cancellation
    pred_var = float(pi @ (post_var + nodes**2 + (m - mu_mean) ** 2))
    tau_mean = float(pi @ nodes)
    tau_var = float(pi @ (nodes - tau_mean) ** 2)
    w_ro = _readonly(pi)
    mu_post = NormalMixturePosterior(
        mean=mu_mean,
        sd=math.sqrt(max(mu_var, 0.0)),
        component_weights=w_ro,
        component_locs=_readonly(m),
        component_scales=_readonly(np.sqrt(post_var)),
    )
    pred = NormalMixturePosterior(
        mean=mu_mean,
        sd=math.sqrt(max(pred_var, 0.0)),
        component_weights=w_ro,
        component_locs=_readonly(m),
        component_scales=_readonly(np.sqrt(post_var + nodes**2)),
    )
    tau_tmp = TauPosterior(
        mean=tau_mean,
        sd=math.sqrt(max(tau_var, 0.0)),
        median=math.nan,
        nodes=_readonly(nodes),
        density=_readonly(dens),
        panel_edges=_readonly(edges),
    )
    tau_post = TauPosterior(
        mean=tau_mean,
        sd=tau_tmp.sd,
        median=tau_tmp.ppf(0.5),
        nodes=tau_tmp.nodes,
        density=tau_tmp.density,
        panel_edges=tau_tmp.panel_edges,
    )
    return BayesRandomEffectsResult(
        mu=mu_post,
        tau=tau_post,
        predictive=pred,
        k=int(y.size),
        tau_prior_scale=scale,
        mu_prior_mean=m0,
        mu_prior_sd=s0,
        n_nodes=int(nodes.size),
    )
