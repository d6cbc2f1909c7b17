"""Small-cohort estimation: exact and Bayesian estimates, survival, heterogeneity, external controls.

Every name is re-exported lazily (PEP 562) from its submodule, so importing
:mod:`condapprove.estimate` does not import statsmodels until it is needed.

==============================  =====================================================
submodule                       what it holds
==============================  =====================================================
:mod:`.proportions`             binomial intervals (Clopper-Pearson, Wilson, Jeffreys,
                                mid-p), exact binomial test, two proportions
:mod:`.continuous`              t intervals, one-sample and Welch t tests (data or summaries)
:mod:`.bayes`                   conjugate beta and normal posteriors
:mod:`.survival`                Kaplan-Meier, log-rank, one-sample log-rank, Cox, exponential
:mod:`.heterogeneity`           random-effects meta-analysis across lots, Bayesian normal-normal
:mod:`.external`                propensity scores, matching, IPTW, external-control comparison
==============================  =====================================================
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = ("proportions", "continuous", "bayes", "survival", "heterogeneity", "external")

_EXPORTS: dict[str, str] = {
    # proportions
    "BinomialTestResult": "proportions", "TwoProportionsResult": "proportions",
    "binomial_interval": "proportions", "binomial_test": "proportions", "two_proportions": "proportions",
    # continuous
    "TTestResult": "continuous", "mean_interval": "continuous", "mean_interval_from_summary": "continuous",
    "one_sample_t": "continuous", "one_sample_t_from_summary": "continuous", "welch_t": "continuous",
    "welch_t_from_summary": "continuous",
    # bayes
    "beta_posterior": "bayes", "normal_posterior": "bayes",
    # survival
    "CoxResult": "survival", "ExponentialCurve": "survival", "ExponentialRateResult": "survival",
    "KaplanMeierResult": "survival", "LogrankResult": "survival", "OneSampleLogrankResult": "survival",
    "PiecewiseExponentialCurve": "survival", "ReferenceCurve": "survival", "WeibullCurve": "survival",
    "cox_hazard_ratio": "survival", "exponential_rate": "survival", "kaplan_meier": "survival",
    "logrank_test": "survival", "one_sample_logrank": "survival",
    # heterogeneity
    "BayesRandomEffectsResult": "heterogeneity", "EffectSizes": "heterogeneity",
    "NormalMixturePosterior": "heterogeneity", "RandomEffectsResult": "heterogeneity", "TauPosterior": "heterogeneity",
    "bayes_random_effects": "heterogeneity", "log_odds": "heterogeneity", "means": "heterogeneity",
    "random_effects": "heterogeneity",
    # external controls
    "ExternalControlResult": "external", "IPTWResult": "external", "MatchResult": "external",
    "PropensityScoreResult": "external", "balance_table": "external", "external_control_comparison": "external",
    "iptw_weights": "external", "match_nearest": "external", "propensity_scores": "external",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 (lazy exports: the public names are the keys of _EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'condapprove.estimate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBMODULES})
