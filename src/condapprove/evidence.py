"""Evidence-level verdicts for "presumed efficacy" from a small approval cohort.

A verdict is a list of declarative *criteria*, each evaluated on the cohort and
reported with its value, its threshold and pass/fail; the overall verdict is
"efficacy presumed" when every criterion passes.  A sensitivity table re-evaluates
the Bayesian criteria under every listed prior, and the binary interval criteria
under every interval method, so the dependence of the verdict on these choices is visible.

Cohorts
-------
:class:`BinaryCohort`, :class:`ContinuousCohort` and :class:`TimeToEventCohort`, from :mod:`condapprove.cohorts`
(re-exported here; described there).

Criteria (which cohorts they apply to)
--------------------------------------
:class:`PosteriorProbability` (binary, continuous)
    :math:`P(\\theta > \\theta_0 \\mid \\text{data}) \\ge \\gamma` under a named prior: the
    conjugate beta update for a response rate; for a mean, the normal update with the
    likelihood :math:`N(\\bar x, s^2/n)` (the SD treated as known -- a large-sample
    approximation stated in the output).
:class:`LowerBound` (all)
    the lower bound of the two-sided interval exceeds :math:`\\theta_0`: Clopper-Pearson
    (or another binomial method) for a rate; the t interval for a mean; the Kaplan-Meier
    log-log interval of survival at ``time`` for time to event.
:class:`ExactTest` (binary)
    exact one-sided binomial test of :math:`p \\le p_0` at level :math:`\\alpha`.
:class:`TTest` (continuous)
    one-sided one-sample t test of :math:`\\mu \\le \\mu_0`.
:class:`OneSampleLogrank` (time to event)
    one-sample log-rank test against a reference curve (Wu 2014 variant by default),
    one-sided in the direction of fewer events than the reference.
:class:`NewLotPrediction` (binary, continuous; needs per-lot data)
    the lower bound of the random-effects prediction interval for the effect in a
    *new* lot exceeds :math:`\\theta_0` (log-odds scale for rates, back-transformed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

from ._text import percent, render_table, significant
from ._validation import check_confidence_level, check_finite, check_one_of, check_positive, check_probability
from .cohorts import BinaryCohort, Cohort, ContinuousCohort, TimeToEventCohort
from .errors import DesignError
from .priors import Beta, BetaMixture, Normal, NormalMixture
from .results import ResultMixin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "BinaryCohort",
    "Cohort",
    "ContinuousCohort",
    "Criterion",
    "CriterionResult",
    "EvidenceResult",
    "ExactTest",
    "LowerBound",
    "NewLotPrediction",
    "OneSampleLogrank",
    "PosteriorProbability",
    "TTest",
    "TimeToEventCohort",
    "evaluate_evidence",
]

BinomialMethod = Literal["clopper-pearson", "wilson", "jeffreys", "mid-p"]
LogrankMethod = Literal["wu", "standard", "exact"]
RandomEffectsMethod = Literal["REML", "DL", "PM", "ML"]
RandomEffectsTest = Literal["z", "hartung-knapp"]
BINOMIAL_METHODS: tuple[BinomialMethod, ...] = ("clopper-pearson", "wilson", "jeffreys", "mid-p")


# ---------------------------------------------------------------- criteria
def _set(criterion: Any, name: str, value: Any) -> None:
    """Store a checked field of a frozen criterion."""
    object.__setattr__(criterion, name, value)


def _alpha_iv(alpha: Any) -> float:
    """A one-sided level, in (0, 1)."""
    return check_probability(alpha, "alpha", open_low=True, open_high=True)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PosteriorProbability:
    """Posterior probability that the rate (or mean) exceeds ``greater_than`` is at least ``at_least``."""

    prior: str
    greater_than: float
    at_least: float

    def __post_init__(self) -> None:
        if not isinstance(self.prior, str):
            raise DesignError(f"`prior` must be the name of a prior; got {self.prior!r}.")
        _set(self, "greater_than", check_finite(self.greater_than, "greater_than"))
        _set(self, "at_least", check_probability(self.at_least, "at_least", open_low=True, open_high=True))

    def describe(self) -> str:
        return f"P(effect > {self.greater_than:g} | data; prior {self.prior}) >= {self.at_least:g}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LowerBound:
    """The lower bound of the two-sided interval exceeds ``greater_than``.

    ``method`` applies to binary cohorts (default Clopper-Pearson); ``time`` (the landmark) to
    time-to-event cohorts; a continuous cohort uses the t interval.
    """

    greater_than: float
    confidence_level: float = 0.95
    method: BinomialMethod | None = None
    time: float | None = None

    def __post_init__(self) -> None:
        _set(self, "greater_than", check_finite(self.greater_than, "greater_than"))
        _set(self, "confidence_level", check_confidence_level(self.confidence_level))
        if self.method is not None:
            check_one_of(self.method, "method", BINOMIAL_METHODS)
        if self.time is not None:
            _set(self, "time", check_positive(self.time, "time"))

    def describe(self) -> str:
        what = f"survival at {self.time:g}" if self.time is not None else (self.method or "t")
        return f"lower {percent(self.confidence_level)} bound ({what}) > {self.greater_than:g}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ExactTest:
    """The exact one-sided binomial test of ``p <= p0`` rejects at level ``alpha``."""

    p0: float
    alpha: float = 0.025

    def __post_init__(self) -> None:
        _set(self, "p0", check_probability(self.p0, "p0", open_low=True, open_high=True))
        _set(self, "alpha", _alpha_iv(self.alpha))

    def describe(self) -> str:
        return f"exact binomial test of p <= {self.p0:g}: p-value <= {self.alpha:g}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TTest:
    """The one-sided one-sample t test of ``mean <= mu0`` rejects at level ``alpha``."""

    mu0: float
    alpha: float = 0.025

    def __post_init__(self) -> None:
        _set(self, "mu0", check_finite(self.mu0, "mu0"))
        _set(self, "alpha", _alpha_iv(self.alpha))

    def describe(self) -> str:
        return f"t test of mean <= {self.mu0:g}: p-value <= {self.alpha:g}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class OneSampleLogrank:
    """The one-sample log-rank test against ``reference`` (fewer events) rejects at level ``alpha``.

    ``reference`` is any curve with ``cumulative_hazard`` (see :mod:`condapprove.estimate.survival`).
    """

    reference: Any
    label: str
    alpha: float = 0.025
    method: LogrankMethod = "wu"

    def __post_init__(self) -> None:
        _set(self, "alpha", _alpha_iv(self.alpha))
        check_one_of(self.method, "method", get_args(LogrankMethod))

    def describe(self) -> str:
        return f"one-sample log-rank ({self.method}) vs {self.label}: p-value <= {self.alpha:g}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NewLotPrediction:
    """The lower bound of the prediction interval for a new lot exceeds ``greater_than``.

    Random-effects model across lots (``method`` for tau^2, ``test`` for the interval) on
    the log-odds scale for response rates (0.5 added to both cells of lots with 0 or all
    responders) and on the raw scale for means; the bound is back-transformed.
    """

    greater_than: float
    confidence_level: float = 0.95
    method: RandomEffectsMethod = "REML"
    test: RandomEffectsTest = "hartung-knapp"

    def __post_init__(self) -> None:
        _set(self, "greater_than", check_finite(self.greater_than, "greater_than"))
        _set(self, "confidence_level", check_confidence_level(self.confidence_level))
        check_one_of(self.method, "method", get_args(RandomEffectsMethod))
        check_one_of(self.test, "test", get_args(RandomEffectsTest))

    def describe(self) -> str:
        return (f"lower {percent(self.confidence_level)} prediction bound for a new lot "
                f"({self.method}, {self.test}) > {self.greater_than:g}")


Criterion = PosteriorProbability | LowerBound | ExactTest | TTest | OneSampleLogrank | NewLotPrediction

#: which cohort types each criterion applies to
APPLIES_TO: dict[type, tuple[type, ...]] = {
    PosteriorProbability: (BinaryCohort, ContinuousCohort),
    LowerBound: (BinaryCohort, ContinuousCohort, TimeToEventCohort),
    ExactTest: (BinaryCohort,),
    TTest: (ContinuousCohort,),
    OneSampleLogrank: (TimeToEventCohort,),
    NewLotPrediction: (BinaryCohort, ContinuousCohort),
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CriterionResult(ResultMixin):
    """One criterion evaluated on the cohort.

    Attributes
    ----------
    criterion : str
        What was required, in words.
    value : float
        The observed quantity (posterior probability, lower bound or p-value).
    threshold : float
        What it was compared with.
    passed : bool
        Whether the criterion is met.
    """

    criterion: str
    value: float
    threshold: float
    passed: bool


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceResult(ResultMixin):
    """The evidence-level verdict on an approval cohort.

    Attributes
    ----------
    cohort : str
        The cohort, in words.
    endpoint : str
        ``"binary"``, ``"continuous"`` or ``"time_to_event"``.
    estimate : float or None
        Observed rate or mean (None for time to event).
    intervals : dict
        Two-sided 95% confidence intervals (by method for a rate; t for a mean; the
        Kaplan-Meier median for time to event).
    posteriors : dict
        Posterior mean and 95% equal-tailed interval under each prior.
    criteria : tuple of CriterionResult
        Each declared criterion, evaluated.
    presumed : bool
        True when every criterion passes ("efficacy presumed").
    sensitivity : tuple of CriterionResult
        The Bayesian criteria under every other prior, the binomial interval criteria
        under every other method.
    notes : tuple of str
        Assumptions behind the figures.
    """

    cohort: str
    endpoint: str
    estimate: float | None
    intervals: dict[str, dict[str, float]]
    posteriors: dict[str, dict[str, float]]
    criteria: tuple[CriterionResult, ...]
    presumed: bool
    sensitivity: tuple[CriterionResult, ...]
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """``"efficacy presumed"`` or ``"efficacy not presumed"``."""
        return "efficacy presumed" if self.presumed else "efficacy not presumed"

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion (declared first, then the sensitivity rows)."""
        import pandas as pd

        rows = [{**c.to_dict(), "kind": "criterion"} for c in self.criteria]
        rows += [{**c.to_dict(), "kind": "sensitivity"} for c in self.sensitivity]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Plain-text report: estimates, criteria with pass/fail, verdict, sensitivity."""
        lines = [f"cohort: {self.cohort}", ""]
        ci = [[m, f"{significant(v['low'])} - {significant(v['high'])}"] for m, v in self.intervals.items()]
        if ci:
            lines += [render_table(["interval", "95% confidence interval"], ci), ""]
        rows = [[name, significant(p["mean"]), f"{significant(p['low'])} - {significant(p['high'])}"]
                for name, p in self.posteriors.items()]
        if rows:
            lines += [render_table(["prior", "posterior mean", "95% interval"], rows), ""]

        def table(results: Sequence[CriterionResult]) -> str:
            return render_table(["criterion", "value", "threshold", "result"],
                                [[c.criterion, significant(c.value), f"{c.threshold:g}", "pass" if c.passed else "FAIL"]
                                 for c in results], align="lrrl")

        lines += [table(self.criteria), "", f"verdict: {self.verdict}"]
        if self.sensitivity:
            lines += ["", "sensitivity to the prior and the interval method:", table(self.sensitivity)]
        if self.notes:
            lines += [""] + [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


# ---------------------------------------------------------------- evaluation
def _lots_random_effects(cohort: BinaryCohort | ContinuousCohort, c: NewLotPrediction) -> tuple[float, float]:
    from .estimate.heterogeneity import log_odds, means, random_effects

    if isinstance(cohort, BinaryCohort):
        if cohort.lot_n is None or cohort.lot_events is None:
            raise DesignError("`new_lot_prediction` needs per-lot data; the cohort has no lots.")
        es = log_odds(cohort.lot_events, cohort.lot_n)
    else:
        if cohort.lot_means is None or cohort.lot_sds is None or cohort.lot_n is None:
            raise DesignError("`new_lot_prediction` needs per-lot data; the cohort has no lots.")
        es = means(cohort.lot_means, cohort.lot_sds, cohort.lot_n)
    if len(es.yi) < 2:
        raise DesignError(f"`new_lot_prediction` needs at least 2 lots; got {len(es.yi)}.")
    re = random_effects(es.yi, es.vi, method=c.method, test=c.test)
    lo, hi = re.prediction_interval(c.confidence_level)
    if isinstance(cohort, BinaryCohort):
        return 1.0 / (1.0 + math.exp(-lo)), 1.0 / (1.0 + math.exp(-hi))
    return float(lo), float(hi)


def _evaluate(c: Criterion, cohort: Cohort, priors: Mapping[str, Any]) -> CriterionResult:
    from .estimate import continuous, proportions, survival

    if type(c) not in APPLIES_TO:
        raise DesignError(f"`criteria` must hold criteria ({', '.join(t.__name__ for t in APPLIES_TO)}); got {c!r}.")
    if not isinstance(cohort, APPLIES_TO[type(c)]):
        raise DesignError(f"`{type(c).__name__}` does not apply to a {type(cohort).__name__}.")
    if isinstance(c, PosteriorProbability):
        if c.prior not in priors:
            raise DesignError(f"`prior` must be one of {', '.join(map(repr, priors)) or '(none declared)'}; "
                              f"got {c.prior!r}.")
        post = _posterior(priors[c.prior], cohort)
        value = float(post.prob_greater(c.greater_than))
        return CriterionResult(criterion=c.describe(), value=value, threshold=c.at_least, passed=value >= c.at_least)
    if isinstance(c, LowerBound):
        if isinstance(cohort, BinaryCohort):
            low = proportions.binomial_interval(cohort.responders, cohort.n, method=c.method or "clopper-pearson",
                                                confidence_level=c.confidence_level).low
        elif isinstance(cohort, ContinuousCohort):
            low = continuous.mean_interval_from_summary(cohort.mean, cohort.sd, cohort.n,
                                                        confidence_level=c.confidence_level).low
        else:
            if c.time is None:
                raise DesignError("`time` must be given for a lower bound of survival (the landmark); got None.")
            km = survival.kaplan_meier(list(cohort.durations), list(cohort.events))
            low = km.interval_at(c.time, c.confidence_level).low
        return CriterionResult(criterion=c.describe(), value=float(low), threshold=c.greater_than,
                               passed=float(low) > c.greater_than)
    if isinstance(c, ExactTest):
        assert isinstance(cohort, BinaryCohort)
        p = float(proportions.binomial_test(cohort.responders, cohort.n, c.p0, alternative="greater").pvalue)
        return CriterionResult(criterion=c.describe(), value=p, threshold=c.alpha, passed=p <= c.alpha)
    if isinstance(c, TTest):
        assert isinstance(cohort, ContinuousCohort)
        p = float(continuous.one_sample_t_from_summary(cohort.mean, cohort.sd, cohort.n, c.mu0,
                                                       alternative="greater").pvalue)
        return CriterionResult(criterion=c.describe(), value=p, threshold=c.alpha, passed=p <= c.alpha)
    if isinstance(c, OneSampleLogrank):
        assert isinstance(cohort, TimeToEventCohort)
        res = survival.one_sample_logrank(list(cohort.durations), list(cohort.events), c.reference,
                                          alternative="less", method=c.method)
        p = float(res.pvalue)
        return CriterionResult(criterion=c.describe(), value=p, threshold=c.alpha, passed=p <= c.alpha)
    assert isinstance(c, NewLotPrediction) and not isinstance(cohort, TimeToEventCohort)
    low, _ = _lots_random_effects(cohort, c)
    return CriterionResult(criterion=c.describe(), value=low, threshold=c.greater_than, passed=low > c.greater_than)


def _posterior(prior: Any, cohort: Cohort) -> Any:
    if isinstance(cohort, BinaryCohort):
        if not isinstance(prior, (Beta, BetaMixture)):
            raise DesignError(f"a response rate needs a beta prior; got {prior!r}.")
        return prior.update(cohort.responders, cohort.n)
    if isinstance(cohort, ContinuousCohort):
        if not isinstance(prior, (Normal, NormalMixture)):
            raise DesignError(f"a mean needs a normal prior; got {prior!r}.")
        return prior.update(cohort.mean, cohort.sd / math.sqrt(cohort.n))
    raise DesignError("posterior probabilities are not available for time-to-event cohorts.")


def evaluate_evidence(
    cohort: Cohort,
    criteria: Sequence[Criterion],
    *,
    priors: Mapping[str, Beta | BetaMixture | Normal | NormalMixture] | None = None,
    methods: Sequence[BinomialMethod] = BINOMIAL_METHODS,
) -> EvidenceResult:
    """Evaluate declarative evidence criteria on an approval cohort.

    Parameters
    ----------
    cohort : BinaryCohort, ContinuousCohort or TimeToEventCohort
        The approval cohort.
    criteria : sequence of criteria
        See the module docstring for which criteria apply to which cohort.
    priors : mapping of str to a prior, optional
        Named priors (beta for a rate, normal for a mean) for the Bayesian criteria and
        the sensitivity table.
    methods : sequence of str
        Binomial interval methods re-evaluated in the sensitivity table.

    Returns
    -------
    EvidenceResult
        Each criterion with value and pass/fail, the verdict, and the sensitivity table.

    Notes
    -----
    Patients are assumed exchangeable within the cohort; between-lot heterogeneity
    enters only through :class:`NewLotPrediction`.  The normal posterior of a mean
    treats the sample SD as known.

    Examples
    --------
    >>> from condapprove.evidence import BinaryCohort, LowerBound, PosteriorProbability, evaluate_evidence
    >>> from condapprove.priors import Beta
    >>> res = evaluate_evidence(BinaryCohort(responders=16, n=19),
    ...                         [LowerBound(greater_than=0.15),
    ...                          PosteriorProbability(prior="vague", greater_than=0.15, at_least=0.975)],
    ...                         priors={"vague": Beta(1, 1)})
    >>> res.verdict
    'efficacy presumed'
    >>> round(res.criteria[0].value, 3)  # Delytact: exact 95% interval 60.4-96.6%
    0.604
    """
    if isinstance(criteria, (str, bytes)) or not isinstance(criteria, Sequence):
        raise DesignError(f"`criteria` must be a sequence of criteria; got {criteria!r}.")
    if not criteria:
        raise DesignError("`criteria` must list at least one criterion; got none.")
    priors = dict(priors or {})
    results = tuple(_evaluate(c, cohort, priors) for c in criteria)
    sens: list[CriterionResult] = []
    for c in criteria:
        if isinstance(c, PosteriorProbability):
            sens += [_evaluate(dataclasses.replace(c, prior=name), cohort, priors)
                     for name in priors if name != c.prior]
        elif isinstance(c, LowerBound) and isinstance(cohort, BinaryCohort):
            used = c.method or "clopper-pearson"
            sens += [_evaluate(dataclasses.replace(c, method=m), cohort, priors) for m in methods if m != used]
    posteriors: dict[str, dict[str, float]] = {}
    intervals: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    if not isinstance(cohort, TimeToEventCohort):
        for name, prior in priors.items():
            post = _posterior(prior, cohort)
            lo, hi = post.interval(0.95)
            posteriors[name] = {"mean": float(post.mean), "low": float(lo), "high": float(hi)}
    if isinstance(cohort, BinaryCohort):
        from .estimate.proportions import binomial_interval

        for m in dict.fromkeys(("clopper-pearson", *methods)):
            lo, hi = binomial_interval(cohort.responders, cohort.n, method=m, confidence_level=0.95)
            intervals[m] = {"low": float(lo), "high": float(hi)}
        endpoint, estimate = "binary", cohort.estimate
    elif isinstance(cohort, ContinuousCohort):
        from .estimate.continuous import mean_interval_from_summary

        lo, hi = mean_interval_from_summary(cohort.mean, cohort.sd, cohort.n)
        intervals["t"] = {"low": float(lo), "high": float(hi)}
        endpoint, estimate = "continuous", cohort.mean
        if posteriors:
            notes.append("normal posteriors treat the sample SD as known (likelihood N(mean, sd^2/n))")
    else:
        import warnings

        from .estimate.survival import kaplan_meier

        km = kaplan_meier(list(cohort.durations), list(cohort.events))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            med = km.median
            mlo, mhi = km.median_interval(0.95)
        intervals["median (Kaplan-Meier)"] = {"low": float(mlo), "high": float(mhi)}
        notes.append(f"Kaplan-Meier median {med:.4g} (inf = not reached)")
        endpoint, estimate = "time_to_event", None
    return EvidenceResult(cohort=cohort.describe(), endpoint=endpoint, estimate=estimate, intervals=intervals,
                          posteriors=posteriors, criteria=results, presumed=all(r.passed for r in results),
                          sensitivity=tuple(sens), notes=tuple(notes))


