"""Conjugate Bayesian posteriors for a small cohort's response rate or mean effect.

The functions validate the data and the prior and return the posterior as a prior object of
:mod:`condapprove.priors`, so callers get ``.mean``, ``.sd``, ``.interval(confidence_level)``
(an equal-tailed credible interval), ``.prob_greater(threshold)`` and ``.predictive(...)``.
"""

from __future__ import annotations

from typing import Any

from .._validation import check_finite, check_positive
from ..errors import DesignError
from ..priors import Beta, BetaMixture, Normal, NormalMixture
from ._common import check_counts

__all__ = ["beta_posterior", "normal_posterior"]

_UNIFORM = Beta(1.0, 1.0)


def _beta_posterior_iv(x: Any, n: Any, prior: Any) -> tuple[int, int, Beta | BetaMixture]:
    x, n = check_counts(x, n, n_minimum=0)
    if not isinstance(prior, (Beta, BetaMixture)):
        message = f"`prior` must be a Beta or BetaMixture; got {prior!r}."
        raise DesignError(message, hint="e.g. prior=Beta(1, 1) or Beta(a, b).robustify(0.2)")
    return x, n, prior


def beta_posterior(x: int, n: int, *, prior: Beta | BetaMixture = _UNIFORM) -> Beta | BetaMixture:
    """Posterior of a response probability after ``x`` responders out of ``n`` patients.

    Parameters
    ----------
    x : int
        Number of responders, ``0 <= x <= n``.
    n : int
        Number of patients (>= 0; 0 returns the prior).
    prior : Beta or BetaMixture, optional
        Prior for the response probability; default the uniform ``Beta(1, 1)``.

    Returns
    -------
    Beta or BetaMixture
        The conjugate posterior (same type as ``prior``).

    Notes
    -----
    Binomial likelihood ``p^x (1-p)^(n-x)``; ``Beta(a, b)`` becomes ``Beta(a + x, b + n - x)``, and a
    mixture updates each component and reweights by the components' beta-binomial marginal
    likelihoods. Assumes exchangeable patients with a common response probability (no lot or site
    heterogeneity).

    Examples
    --------
    >>> from condapprove.estimate.bayes import beta_posterior
    >>> post = beta_posterior(16, 19)            # Delytact, uniform prior
    >>> round(post.mean, 4), round(post.prob_greater(0.5), 5)
    (0.8095, 0.99871)
    >>> lo, hi = post.interval(0.95)
    >>> round(lo, 3), round(hi, 3)
    (0.621, 0.943)
    """
    x, n, prior = _beta_posterior_iv(x, n, prior)
    return prior.update(x, n)


def _normal_posterior_iv(estimate: Any, se: Any, prior: Any) -> tuple[float, float, Normal | NormalMixture | None]:
    y = check_finite(estimate, "estimate")
    s = check_positive(se, "se")
    if prior is not None and not isinstance(prior, (Normal, NormalMixture)):
        message = f"`prior` must be a Normal, a NormalMixture or None (flat); got {prior!r}."
        raise DesignError(message)
    return y, s, prior


def normal_posterior(
    estimate: float, se: float, *, prior: Normal | NormalMixture | None = None
) -> Normal | NormalMixture:
    """Posterior of a mean (or treatment effect) given an estimate and its standard error.

    Parameters
    ----------
    estimate : float
        The observed estimate (a mean, a difference of means, a log hazard ratio...).
    se : float
        Its standard error (> 0), treated as known.
    prior : Normal or NormalMixture, optional
        Prior for the parameter. Default ``None``: a flat (improper) prior, whose posterior is
        ``Normal(estimate, se)``.

    Returns
    -------
    Normal or NormalMixture
        The conjugate posterior.

    Notes
    -----
    Normal likelihood with known variance ``se^2`` (an approximation when ``se`` is itself
    estimated from a small sample: the posterior is then somewhat too narrow; a t likelihood
    would be wider). ``N(m, s^2)`` becomes precision-weighted:
    ``1/s_post^2 = 1/s^2 + 1/se^2``, ``m_post = s_post^2 (m/s^2 + estimate/se^2)``.

    Examples
    --------
    Akuugo: difference in Fugl-Meyer change 6.0 (SE 2.865), sceptical prior centred on 0:

    >>> from condapprove.estimate.bayes import normal_posterior
    >>> from condapprove.priors import Normal
    >>> post = normal_posterior(6.0, 2.865, prior=Normal(0.0, 5.0))
    >>> round(post.mean, 3), round(post.prob_greater(0.0), 4)
    (4.517, 0.9654)
    """
    y, s, prior = _normal_posterior_iv(estimate, se, prior)
    if prior is None:
        return Normal(y, s)
    return prior.update(y, s)
