"""The typed, immutable design model (pydantic v2, ``extra="forbid"``).

A :class:`Design` is the only input the simulation engine accepts.  It is built from a
YAML design file by :func:`condapprove.spec.loader.load_design`, or directly in Python::

    >>> from condapprove.spec.schema import Design
    >>> d = Design.model_validate({
    ...     "name": "example",
    ...     "approval": {"date": "2018-12-28", "time_limit_years": 7, "filing_lead_months": 12},
    ...     "post_marketing": {
    ...         "study": "use_results_survey",
    ...         "endpoint": {"type": "binary", "followup_months": 6},
    ...         "treated": {"accrual": {"rate_per_month": 1.0}, "target_n": 30},
    ...         "control": {"kind": "benchmark", "rate": 0.3},
    ...     },
    ...     "scenarios": [{"name": "no effect", "treated_rate": 0.3}],
    ... })
    >>> d.cutoff_month
    72.0

Calendar time is measured in months from the approval date throughout.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .._memo import per_object
from ..errors import DesignError
from ._base import (
    MAX_COUNT,
    MAX_TIME_LIMIT_YEARS,
    MIN_MONTHS,
    MIN_PROBABILITY,
    Alpha,
    Date,
    LossProbability,
    NonNegative,
    OpenProbability,
    PairOf,
    Positive,
    Probability,
    WholeNumber,
)
from ._base import Model as _Model
from .pre_approval import PreApproval, PriorSpec

#: Smallest time scale of an event-time distribution (median, survival_at months, Weibull scale), in months.
#: Largest |gamma| of Hwang-Shih-DeCani spending (exp(-gamma) must stay finite; |gamma| <= 10 in practice).
MAX_HSD_GAMMA = 30.0
#: Bounds of a lognormal design prior of the hazard ratio: |meanlog| and sdlog (exp of the draws stays finite).
MAX_LOG_HR = 20.0
MAX_SDLOG = 10.0
#: Most replicates per scenario a run may ask for (the design file, ``simulate(replicates=...)``, ``--replicates``):
#: 10^8 binary replicates take minutes; more would be a typo (and its arrays would not fit in memory).
MAX_REPLICATES = 100_000_000

__all__ = [
    "MAX_REPLICATES",
    "MAX_TIME_LIMIT_YEARS",
    "Accrual",
    "Analysis",
    "Approval",
    "BaselineSpec",
    "BayesianDecision",
    "BenchmarkControl",
    "BinaryEndpoint",
    "ConcurrentControl",
    "Confounding",
    "ContinuousEndpoint",
    "Control",
    "Covariate",
    "Design",
    "Endpoint",
    "ExternalControl",
    "FixedDecision",
    "GroupSequentialDecision",
    "Heterogeneity",
    "Look",
    "PostMarketing",
    "RateChange",
    "Scenario",
    "SimulationSettings",
    "TimeToEventEndpoint",
    "TreatedArm",
]


class Approval(_Model):
    """When the conditional approval was granted and when its time limit ends.

    The data cut-off of the last analysis is ``time_limit_years + extension_years``
    (in months) after ``date``, less ``filing_lead_months`` (the time needed to analyse,
    write and file the application for full approval).
    """

    date: Date = Field(description="Date of the conditional, time-limited approval (YYYY-MM-DD).")
    time_limit_years: Annotated[float, Field(gt=0.0, le=MAX_TIME_LIMIT_YEARS, allow_inf_nan=False)] = Field(
        description="Time limit of the approval in years (at most 7 under the PMD Act)."
    )
    extension_years: Annotated[float, Field(ge=0.0, le=MAX_TIME_LIMIT_YEARS, allow_inf_nan=False)] = Field(
        0.0, description="Extension of the time limit granted later (HeartSheet: 5 + 3 years)."
    )
    filing_lead_months: NonNegative = Field(
        0.0, description="Months between the data cut-off of the last analysis and the deadline."
    )

    @property
    def deadline_month(self) -> float:
        """Months from approval to the end of the (extended) time limit."""
        return 12.0 * (self.time_limit_years + self.extension_years)

    @property
    def cutoff_month(self) -> float:
        """Months from approval to the data cut-off of the last possible analysis."""
        return self.deadline_month - self.filing_lead_months

    @model_validator(mode="after")
    def _cutoff_after_approval(self) -> Approval:
        if self.cutoff_month <= 0:
            raise ValueError(
                f"@filing_lead_months: must be < the time limit of {self.deadline_month:g} months, or the data "
                f"cut-off falls on or before the approval date; got {self.filing_lead_months:g}"
            )
        return self


class RateChange(_Model):
    """From ``month`` on, patients arrive at ``rate_per_month`` (models site activation, new indications...)."""

    month: Positive = Field(
        description="Calendar month (after approval, > start_month, increasing along the list) from which the new "
                    "rate applies.")
    rate_per_month: Annotated[float, Field(ge=0.0, le=100_000.0, allow_inf_nan=False)] = Field(
        description="Patients per month from this month on (the ramp-up factor still applies during the ramp-up; "
                    "0 closes enrolment).")


class Accrual(_Model):
    """Enrolment as a Poisson process in calendar time.

    The rate rises linearly from 0 at ``start_month`` to ``rate_per_month`` at
    ``start_month + ramp_up_months``; ``rate_changes`` switch the (ramped) rate at later
    months.  ``capacity_per_month`` caps treatments per month (manufacturing): patients
    beyond it wait for the next free slot.
    """

    rate_per_month: Annotated[float, Field(gt=0.0, le=100_000.0, allow_inf_nan=False)] = Field(
        description="Patients per month (a Poisson rate) once fully ramped up, until the first rate change.")
    ramp_up_months: NonNegative = Field(
        0.0, description="Months over which the rate rises linearly from 0 at start_month to its full value (0: "
                         "full rate at once).")
    start_month: NonNegative = Field(0.0, description="Months after approval before the first patient can enrol "
                                                       "(before the data cut-off).")
    rate_changes: list[RateChange] = Field(
        default_factory=list, description="Later switches of the rate (site activation or closure), in increasing "
                                          "months after start_month; none keeps rate_per_month to the cut-off.")
    capacity_per_month: Positive | None = Field(
        None, description="At most this many evaluable patients treated a month (manufacturing), first come first "
                          "served: the others wait for the next slot; none means no cap.")

    @model_validator(mode="after")
    def _increasing(self) -> Accrual:
        months = [c.month for c in self.rate_changes]
        if months != sorted(set(months)):
            raise ValueError(f"@rate_changes: months must be strictly increasing; got {months}")
        if months and months[0] <= self.start_month:
            raise ValueError(f"@rate_changes.0.month: must be > start_month ({self.start_month:g}); got {months[0]:g}")
        return self


class BinaryEndpoint(_Model):
    """A response (yes/no) observed ``followup_months`` after treatment."""

    type: Literal["binary"] = Field(description="Selects a binary (responder yes/no) endpoint.")
    name: str = Field("response", description="What a response is (for reports).")
    followup_months: NonNegative = Field(0.0, description="Months from treatment until the response is observed (less "
                                                       "than from the first enrolment to the data cut-off).")


class ContinuousEndpoint(_Model):
    """A normally distributed (change) score observed ``followup_months`` after treatment, with SD ``sd``."""

    type: Literal["continuous"] = Field(description="Selects a continuous, normally distributed score.")
    name: str = Field("change score", description="What is measured (for reports).")
    followup_months: NonNegative = Field(0.0, description="Months from treatment until the score is observed (less "
                                                       "than from the first enrolment to the data cut-off).")
    sd: Positive = Field(description="Patient-level standard deviation of the score (both arms).")


class BaselineSpec(_Model):
    """The control (or reference) event-time distribution: exactly one of the forms."""

    median_months: Annotated[float, Field(ge=MIN_MONTHS, allow_inf_nan=False)] | None = Field(
        None, description="Exponential with this median (at least 0.001 months).")
    survival_at: dict[Literal["months", "survival"], Positive] | None = Field(
        None, description="Exponential through S(months) = survival, 1e-12 <= survival < 1.")
    weibull: dict[Literal["shape", "scale"], Positive] | None = Field(None, description="Weibull (R pweibull).")
    piecewise_exponential: dict[Literal["breaks", "rates"], list[NonNegative]] | None = Field(
        None, description="Hazard rates per month on [0, b1), [b1, b2), ...; breaks b1 < b2 < ...")

    @model_validator(mode="after")
    def _exactly_one(self) -> BaselineSpec:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of median_months, survival_at, weibull or piecewise_exponential")
        if self.survival_at is not None and set(self.survival_at) != {"months", "survival"}:
            raise ValueError("@survival_at: must be {months: t, survival: s} with 0 < s < 1")
        if self.survival_at is not None and not MIN_PROBABILITY <= self.survival_at["survival"] < 1:
            raise ValueError(f"@survival_at.survival: must be >= {MIN_PROBABILITY:g} and < 1; "
                             f"got {self.survival_at['survival']:g}")
        if self.survival_at is not None and self.survival_at["months"] < MIN_MONTHS:
            raise ValueError(f"@survival_at.months: must be >= {MIN_MONTHS:g}; got {self.survival_at['months']:g}")
        if self.weibull is not None and set(self.weibull) != {"shape", "scale"}:
            raise ValueError("@weibull: must be {shape: k, scale: lambda}")
        if self.weibull is not None and self.weibull["scale"] < MIN_MONTHS:
            raise ValueError(f"@weibull.scale: must be >= {MIN_MONTHS:g}; got {self.weibull['scale']:g}")
        if self.piecewise_exponential is not None:
            pw = self.piecewise_exponential
            if set(pw) != {"breaks", "rates"} or len(pw["rates"]) != len(pw["breaks"]) + 1:
                raise ValueError("@piecewise_exponential: must be {breaks: [b1, ...], rates: [r0, r1, ...]} with one "
                                 "more rate than breaks")
            try:  # the baseline's own checks (increasing breaks, ...), at validate time rather than in simulate
                self.build()
            except DesignError as exc:
                raise ValueError(f"@piecewise_exponential: {exc}") from None
        return self

    def build(self) -> Any:
        """The baseline of :mod:`condapprove.kernels.survival`, made once per spec (frozen, as is the baseline): the
        simulation asks for it in every block of replicates (docs/performance.md, item 124)."""
        return per_object("baseline", self, self._build)

    def _build(self) -> Any:
        """:meth:`build`, made anew."""
        from ..kernels import survival as ks

        if self.median_months is not None:
            return ks.Exponential(rate=math.log(2.0) / self.median_months)
        if self.survival_at is not None:
            t, s = self.survival_at["months"], self.survival_at["survival"]
            return ks.Exponential(rate=-math.log(s) / t)
        if self.weibull is not None:
            return ks.Weibull(shape=self.weibull["shape"], scale=self.weibull["scale"])
        pw = self.piecewise_exponential
        assert pw is not None
        return ks.PiecewiseExponential(breaks=tuple(pw["breaks"]), rates=tuple(pw["rates"]))


class TimeToEventEndpoint(_Model):
    """Time from treatment to an event; proportional hazards; censored at each analysis cut-off."""

    type: Literal["time_to_event"] = Field(description="Selects a time-to-event endpoint (analysed by log-rank tests).")
    name: str = Field("event", description="What the event is (for reports).")
    baseline: BaselineSpec = Field(
        description="Event-time distribution of the control arm, or the reference curve of a benchmark comparison; "
                    "the treated hazard is this one times the scenario's hazard_ratio.")
    dropout_rate_per_month: NonNegative = Field(
        0.0, description="Hazard per month of an exponential loss to follow-up, in every arm (an external cohort "
                         "included); 0 means no loss.")


Endpoint = Annotated[BinaryEndpoint | ContinuousEndpoint | TimeToEventEndpoint, Field(discriminator="type")]


class TreatedArm(_Model):
    """The treated patients of the post-marketing study.

    For binary and continuous endpoints, patients lost before their endpoint (``dropout``)
    or enrolled but never treated (``never_treated``) are replaced: enrolment goes on
    until ``target_n`` patients are evaluable.  For a time-to-event endpoint ``target_n``
    patients are enrolled; loss to follow-up is the endpoint's dropout hazard.
    """

    accrual: Accrual = Field(description="How the treated patients are enrolled over calendar time.")
    target_n: Annotated[int, Field(ge=1, le=100_000), WholeNumber] = Field(
        description="Evaluable treated patients the analysis waits for (patients enrolled, for time to event).")
    dropout: LossProbability = Field(
        0.0, description="Probability that a treated patient drops out before the endpoint is observed, replaced by "
                         "further enrolment (binary and continuous only: must be 0 for time to event).")
    never_treated: LossProbability = Field(
        0.0, description="Probability that an enrolled patient is never treated (e.g. manufacturing failure).")


class Covariate(_Model):
    """A binary confounder: its prevalence in each arm and its effect on the outcome.

    ``effect`` is on the linear-predictor scale of the endpoint: log odds (binary), the
    mean (continuous) or the log hazard ratio (time to event).
    """

    name: Annotated[str, Field(min_length=1)] = Field(description="Name of the confounder (for reports).")
    prevalence_treated: Probability = Field(description="Probability that a treated patient has the confounder.")
    prevalence_control: Probability = Field(
        description="Probability that a control patient (concurrent or external) has the confounder.")
    effect: Annotated[float, Field(allow_inf_nan=False)] = Field(
        description="Added to the linear predictor of a patient with the confounder, in either arm: log odds "
                    "(binary), the mean (continuous) or the log hazard (time to event).")


class Confounding(_Model):
    """Measured confounders of a non-randomised comparison and how the analysis adjusts for them."""

    covariates: Annotated[list[Covariate], Field(min_length=1)] = Field(
        description="The binary confounders, each present independently with its arm's prevalence.")
    adjustment: Literal["none", "propensity_weighting"] = Field(
        "none", description="none: the crude comparison; propensity_weighting: stabilised ATT weights from a "
                            "logistic propensity score on the covariates, tested with z (binary and continuous "
                            "endpoints, not with the Bayesian rule).")


class BenchmarkControl(_Model):
    """A fixed historical benchmark: ``rate`` (binary), ``mean`` (continuous); for time to
    event the endpoint's ``baseline`` is the reference curve (one-sample log-rank test)."""

    kind: Literal["benchmark"] = Field(description="Selects a fixed historical value: no control patients.")
    rate: OpenProbability | None = Field(
        None, description="Historical response rate the treated rate is tested against; required for, and only "
                          "for, a binary endpoint.")
    mean: Annotated[float, Field(allow_inf_nan=False)] | None = Field(
        None, description="Historical mean score the treated mean is tested against; required for, and only for, a "
                          "continuous endpoint.")


class ConcurrentControl(_Model):
    """A concurrent control arm: randomised (clinical trial) or not (use-results survey).

    Give either ``ratio`` (controls per treated patient: the control arm accrues at
    ``ratio`` times the treated rate, with the same ramp-up, and its target is
    ``ratio * target_n`` rounded up) or an ``accrual`` of its own with ``target_n``.
    """

    kind: Literal["concurrent"] = Field(description="Selects a concurrent control arm recruited alongside the treated.")
    ratio: Annotated[float, Field(ge=0.01, le=20.0, allow_inf_nan=False)] | None = Field(
        None, description="Controls per treated patient: the arm accrues at ratio times the treated rate (same "
                          "ramp-up, start and rate changes, no capacity) up to ceil(ratio * target_n); give either "
                          "this or accrual with target_n.")
    accrual: Accrual | None = Field(
        None, description="The control arm's own accrual, instead of ratio (target_n is then required).")
    target_n: Annotated[int, Field(ge=1, le=100_000), WholeNumber] | None = Field(
        None, description="Evaluable controls the analysis waits for (enrolled, for time to event); only with the "
                          "arm's own accrual.")
    dropout: LossProbability = Field(
        0.0, description="Probability that a control patient drops out before the endpoint is observed, replaced by "
                         "further enrolment (binary and continuous only: must be 0 for time to event).")
    randomised: bool | None = Field(
        None, description="Whether the arm is randomised; omitted means true in a clinical_trial without confounding, "
                          "else false.")
    confounding: Confounding | None = Field(
        None, description="Measured confounders of a non-randomised comparison (not with randomised: true); none "
                          "means the arms differ only by treatment.")

    @model_validator(mode="after")
    def _ratio_or_accrual(self) -> ConcurrentControl:
        if self.ratio is None and self.accrual is None:
            raise ValueError("give either ratio (controls per treated patient) or an accrual with target_n")
        if self.ratio is not None and (self.accrual is not None or self.target_n is not None):
            raise ValueError("give either ratio, or accrual with target_n, not both")
        if self.accrual is not None and self.target_n is None:
            raise ValueError("target_n is required with the control arm's own accrual")
        if self.randomised and self.confounding is not None:
            raise ValueError("@confounding: a randomised control is not confounded; set randomised: false")
        return self


class ExternalControl(_Model):
    """An external (registry or historical) cohort of ``n`` patients, all observed at the start."""

    kind: Literal["external"] = Field(description="Selects an external (registry or historical) control cohort.")
    n: Annotated[int, Field(ge=1, le=100_000), WholeNumber] = Field(
        description="Patients of the external cohort, all present from month 0 in every analysis and not counted "
                    "in patients, events or information looks nor towards target_events.")
    confounding: Confounding | None = Field(
        None, description="Measured confounders between the treated and the external cohort; none means no "
                          "confounding.")


Control = Annotated[BenchmarkControl | ConcurrentControl | ExternalControl, Field(discriminator="kind")]


class Heterogeneity(_Model):
    """Lot-to-lot variation of the treatment effect, and dilution from the approval cohort.

    Consecutive treated patients share a manufacturing lot of ``lot_size``; each lot's
    effect is shifted by a normal random effect with SD ``lot_sd`` (linear-predictor
    scale).  ``dilution`` multiplies the scenario's effect (on that scale) in the
    post-marketing population.  Patients of both arms are spread evenly at random over
    ``sites`` sites, each shifting the outcome's linear predictor by a normal random
    effect with SD ``site_sd`` (the same shift in both arms: a site effect, not a
    treatment-by-site interaction).
    """

    lot_size: Annotated[int, Field(ge=1, le=100_000), WholeNumber] = Field(
        1, description="Consecutive treated patients sharing one manufacturing lot (and its random shift).")
    lot_sd: NonNegative = Field(
        0.0, description="SD of each lot's normal random shift of the treated linear predictor (log odds, mean or log "
                         "hazard); 0 means no lot variation.")
    dilution: Positive = Field(
        1.0, description="Multiplies the scenario's effect on the linear-predictor scale in the post-marketing "
                         "population (0.5 halves the log odds ratio, mean difference or log hazard ratio).")
    sites: Annotated[int, Field(ge=1, le=10_000), WholeNumber] = Field(
        1, description="Number of sites; each patient of every arm (an external cohort included) is at one drawn "
                       "at random, each equally likely.")
    site_sd: NonNegative = Field(
        0.0, description="SD of each site's normal random shift of the linear predictor, drawn once per replicate "
                         "and the same in both arms; used when sites > 1.")


class Look(_Model):
    """When an analysis happens: exactly one of ``month``, ``patients`` (evaluable, all arms),
    ``events``, or ``information`` (fraction of the final target)."""

    month: Positive | None = Field(
        None, description="Look at this calendar month after approval (before the data cut-off).")
    patients: Annotated[int, Field(ge=1, le=MAX_COUNT), WholeNumber] | None = Field(
        None, description="Look when this many patients of the recruited arms together (treated and a concurrent "
                          "control) are evaluable (enrolled, for time to event); below the final analysis's targets.")
    events: Annotated[int, Field(ge=1, le=MAX_COUNT), WholeNumber] | None = Field(
        None, description="Look when this many events of the recruited arms have occurred (time to event only; below "
                          "target_events).")
    information: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)] | None = Field(
        None, description="Look at this fraction of the final target: of target_events for time to event, else of "
                          "the total target patients of the recruited arms.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Look:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of month, patients, events or information")
        return self

    def information_count(self, target: int) -> int:
        """The patients or events a look at ``information`` of ``target`` waits for: ``ceil(information *
        target)`` (less 1e-9, so that a fraction a rounding above a whole count waits for that count), and at least
        the first (a fraction below one count waits for one)."""
        assert self.information is not None
        return max(1, math.ceil(self.information * target - 1e-9))


class Analysis(_Model):
    """The test of a single final analysis, one-sided at level ``alpha``.

    Defaults: ``exact_binomial`` against a benchmark rate, ``fisher`` for a binary
    comparison, ``t`` (Welch, or one-sample against a benchmark mean) for a continuous
    endpoint, ``logrank`` (or ``one_sample_logrank`` against the baseline) for time to event.
    ``score`` is the pooled z test for two rates; ``z`` the weighted-difference z of a
    propensity-adjusted comparison.
    """

    test: Literal["exact_binomial", "fisher", "score", "t", "z", "logrank", "one_sample_logrank"] | None = Field(
        None, description="Test of the fixed final analysis; must fit the endpoint and control, and omitted means "
                          "the default for them (z with propensity_weighting).")
    alpha: Alpha = Field(
        0.025, description="One-sided significance level of the fixed final analysis (a group-sequential decision "
                           "uses its own alpha).")


class FixedDecision(_Model):
    """One final analysis with the test of ``analysis`` (the default)."""

    rule: Literal["fixed"] = Field(description="Selects one final analysis at the targets or at the data cut-off.")


class GroupSequentialDecision(_Model):
    """Lan-DeMets alpha spending on the z statistic at each look, bounds recomputed for the
    information actually observed; optional non-binding futility on conditional power."""

    rule: Literal["group_sequential"] = Field(
        description="Selects Lan-DeMets alpha spending over the interim looks and the final analysis.")
    alpha: Alpha = Field(0.025, description="Overall one-sided significance level spent over the looks.")
    spending: Literal["obrien-fleming", "pocock", "kim-demets", "hwang-shih-decani"] = Field(
        "obrien-fleming", description="Lan-DeMets alpha-spending function (O'Brien-Fleming-type, Pocock-type, "
                                      "Kim-DeMets power or Hwang-Shih-DeCani).")
    parameter: Annotated[float, Field(allow_inf_nan=False)] | None = Field(
        None, description="Shape of the spending function: rho > 0 (alpha * t^rho) for kim-demets, gamma (-30 to 30; "
                          "0 is linear) for hwang-shih-decani; required for those two, refused for the others.")
    futility_conditional_power_below: OpenProbability | None = Field(
        None, description="Non-binding futility: stop at an interim when the conditional power under the current "
                          "trend, against the final look's efficacy bound, is below this; none means no such rule.")
    futility_z_below: list[Annotated[float, Field(allow_inf_nan=False)]] | None = Field(
        None, description="Non-binding futility: stop at interim k when z <= this (one value per interim).")


class PowerPriorSpec(_Model):
    """A power prior from the approval cohort, discounted by ``a0``, on top of ``initial``."""

    a0: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = Field(
        description="Power to which the approval cohort's likelihood is raised: 0 borrows nothing, 1 counts its "
                    "patients in full.")
    initial: PriorSpec | None = Field(
        None, description="Prior the discounted cohort updates, a single beta or normal (not a mixture); none means "
                          "Beta(1, 1) for a rate and flat for a mean.")


class BayesianDecision(_Model):
    """Confirm when the posterior P(effect > margin) >= threshold at a look.

    The effect is the treated rate (mean) minus the benchmark or the control.  ``prior``
    applies to the treated parameter (controls get a vague prior); ``power_prior`` builds it
    from the approval cohort (``pre_approval``), discounted by ``a0``.
    """

    rule: Literal["bayesian"] = Field(
        description="Selects a posterior-probability rule at every look (binary and continuous endpoints).")
    margin: Annotated[float, Field(allow_inf_nan=False)] = Field(
        0.0, description="The effect (treated rate or mean minus the benchmark or control's) must exceed this.")
    threshold: Annotated[float, Field(gt=0.5, lt=1.0, allow_inf_nan=False)] = Field(
        0.975, description="Confirm at a look when P(effect > margin | data) is at least this.")
    futility_below: OpenProbability | None = Field(
        None, description="Stop for futility at an interim when P(effect > margin | data) is below this; none means "
                          "no futility stop.")
    prior: PriorSpec | None = Field(
        None, description="Prior of the treated rate or mean, of the endpoint's family (not with power_prior); "
                          "without it or power_prior, Beta(1, 1) for a rate and flat for a mean.")
    power_prior: PowerPriorSpec | None = Field(
        None, description="Build the treated prior from the pre_approval cohort (same endpoint type), discounted by "
                          "a0 (not with prior).")

    @model_validator(mode="after")
    def _one_prior(self) -> BayesianDecision:
        if self.prior is not None and self.power_prior is not None:
            raise ValueError("give either prior or power_prior, not both")
        return self


Decision = Annotated[FixedDecision | GroupSequentialDecision | BayesianDecision, Field(discriminator="rule")]

_DEFAULT_TEST = {
    ("binary", "benchmark"): "exact_binomial", ("binary", "concurrent"): "fisher", ("binary", "external"): "fisher",
    ("continuous", "benchmark"): "t", ("continuous", "concurrent"): "t", ("continuous", "external"): "t",
    ("time_to_event", "benchmark"): "one_sample_logrank", ("time_to_event", "concurrent"): "logrank",
    ("time_to_event", "external"): "logrank",
}
_TESTS_FOR = {
    ("binary", "benchmark"): {"exact_binomial"}, ("binary", "two"): {"fisher", "score", "z"},
    ("continuous", "benchmark"): {"t"}, ("continuous", "two"): {"t", "z"},
    ("time_to_event", "benchmark"): {"one_sample_logrank"}, ("time_to_event", "two"): {"logrank"},
}


class PostMarketing(_Model):
    """The post-marketing approval-condition evaluation."""

    study: Literal["clinical_trial", "use_results_survey"] = Field(
        description="Kind of study (for reports); a concurrent control's randomised defaults to true in a "
                    "clinical_trial without confounding.")
    endpoint: Endpoint = Field(description="What is measured in each patient, and when.")
    treated: TreatedArm = Field(description="The treated patients: accrual, target and losses.")
    control: Control = Field(description="What the treated are compared with: a benchmark, a concurrent arm or an "
                                         "external cohort.")
    target_events: Annotated[int, Field(ge=1, le=MAX_COUNT), WholeNumber] | None = Field(
        None, description="Events of the recruited arms together (not an external cohort's) the final analysis "
                          "waits for; required for a time-to-event endpoint and refused otherwise.")
    heterogeneity: Heterogeneity | None = Field(
        None, description="Lot-to-lot and site-to-site variation and dilution of the effect; none means none of "
                          "them.")
    analyses: list[Look] = Field(
        default_factory=list, description="Interim looks, each of one kind (looks of one kind increasing); the "
                                          "final analysis is implicit, and looks need a group_sequential or "
                                          "bayesian decision.")
    analysis: Analysis = Field(
        default_factory=lambda: Analysis(),
        description="Test and one-sided level of the final analysis under a fixed decision.")
    decision: Decision = Field(
        default_factory=lambda: FixedDecision(rule="fixed"),
        description="The decision rule: fixed (one final analysis), group_sequential or bayesian.")

    @model_validator(mode="after")
    def _consistent(self) -> PostMarketing:
        problems = []
        kind = self.endpoint.type
        ctrl = self.control
        two = "benchmark" if isinstance(ctrl, BenchmarkControl) else "two"
        test = self.analysis.test
        if test is not None and test not in _TESTS_FOR[(kind, two)]:
            allowed = ", ".join(repr(t) for t in sorted(_TESTS_FOR[(kind, two)]))
            against = "a benchmark" if two == "benchmark" else "a control arm"
            problems.append(f"@analysis.test: {test!r} does not fit a {kind} endpoint against {against}; "
                            f"use {allowed}")
        if isinstance(ctrl, BenchmarkControl):
            if kind == "binary" and ctrl.rate is None:
                problems.append("@control.rate: required for a binary endpoint against a benchmark")
            if kind == "continuous" and ctrl.mean is None:
                problems.append("@control.mean: required for a continuous endpoint against a benchmark")
            if kind != "binary" and ctrl.rate is not None:
                problems.append(f"@control.rate: only for a binary endpoint; got a {kind} endpoint")
            if kind != "continuous" and ctrl.mean is not None:
                problems.append(f"@control.mean: only for a continuous endpoint; got a {kind} endpoint")
        confounding = getattr(ctrl, "confounding", None)
        if confounding is not None and confounding.adjustment == "propensity_weighting" and kind == "time_to_event":
            problems.append("@control.confounding.adjustment: propensity weighting is available for binary and "
                            "continuous endpoints; analyse a time-to-event survey with adjustment: none")
        if kind == "time_to_event":
            if self.target_events is None:
                problems.append("@target_events: required for a time-to-event endpoint")
        elif self.target_events is not None:
            problems.append(f"@target_events: only for a time-to-event endpoint; got a {kind} endpoint")
        total = self.treated.target_n + (self.control_target_n if not isinstance(ctrl, ExternalControl) else 0)
        last: dict[str, float] = {}
        for i, look in enumerate(self.analyses):
            if look.events is not None and kind != "time_to_event":
                problems.append(f"@analyses.{i}.events: event-driven looks need a time-to-event endpoint")
            if look.patients is not None and look.patients >= total:
                problems.append(f"@analyses.{i}.patients: must be < the {total} patients of the final analysis; "
                                f"got {look.patients}")
            if look.events is not None and self.target_events is not None and look.events >= self.target_events:
                problems.append(f"@analyses.{i}.events: must be < target_events ({self.target_events}); "
                                f"got {look.events}")
            field, value = next((k, v) for k, v in look.model_dump().items() if v is not None)
            if field in last and value <= last[field]:
                problems.append(f"@analyses.{i}.{field}: looks of the same kind must increase; got {value:g} after "
                                f"{last[field]:g}")
            last[field] = value
        if kind == "time_to_event":
            if self.treated.dropout > 0:
                problems.append("@treated.dropout: not used with a time-to-event endpoint; give the loss to "
                                "follow-up as endpoint.dropout_rate_per_month")
            if isinstance(ctrl, ConcurrentControl) and ctrl.dropout > 0:
                problems.append("@control.dropout: not used with a time-to-event endpoint; give the loss to "
                                "follow-up as endpoint.dropout_rate_per_month")
        if confounding is not None and confounding.adjustment == "propensity_weighting":
            if test is not None and test != "z":
                problems.append(f"@analysis.test: a propensity-weighted comparison is tested with 'z' (the weighted "
                                f"difference over its sandwich SE); got {test!r}")
            if isinstance(self.decision, BayesianDecision):
                problems.append("@decision.rule: the Bayesian rule does not use propensity weights; use a fixed or "
                                "group-sequential decision")
        family = {"binary": "beta", "continuous": "normal"}.get(kind)
        if isinstance(self.decision, BayesianDecision) and family is not None:
            b = self.decision
            for where, spec in (("prior", b.prior), ("power_prior.initial",
                                                     b.power_prior.initial if b.power_prior else None)):
                if spec is not None and spec.family != family:
                    problems.append(f"@decision.{where}: a {kind} endpoint needs a {family} prior; got a "
                                    f"{spec.family} one")
            if b.power_prior is not None and b.power_prior.initial is not None and (
                    b.power_prior.initial.beta_mixture is not None or b.power_prior.initial.normal_mixture is not None):
                problems.append("@decision.power_prior.initial: must be a single beta or normal prior, not a mixture")
        dec = self.decision
        if isinstance(dec, GroupSequentialDecision):
            needs = {"kim-demets": "rho > 0 (spending alpha * t^rho)", "hwang-shih-decani": "gamma (0 is linear)"}
            if dec.spending in needs and dec.parameter is None:
                problems.append(f"@decision.parameter: required with {dec.spending} spending: {needs[dec.spending]}")
            if dec.spending not in needs and dec.parameter is not None:
                problems.append(f"@decision.parameter: {dec.spending} spending takes no parameter; got "
                                f"{dec.parameter:g}")
            if dec.spending == "kim-demets" and dec.parameter is not None and dec.parameter <= 0:
                problems.append(f"@decision.parameter: must be > 0 for kim-demets spending; got {dec.parameter:g}")
            if (dec.spending == "hwang-shih-decani" and dec.parameter is not None
                    and abs(dec.parameter) > MAX_HSD_GAMMA):
                problems.append(f"@decision.parameter: gamma must be between -{MAX_HSD_GAMMA:g} and {MAX_HSD_GAMMA:g} "
                                f"for hwang-shih-decani spending; got {dec.parameter:g}")
        if self.analyses and isinstance(self.decision, FixedDecision):
            problems.append("@decision: interim analyses need decision: {rule: group_sequential} or "
                            "{rule: bayesian}")
        if (isinstance(dec, GroupSequentialDecision) and dec.futility_z_below is not None
                and len(dec.futility_z_below) != len(self.analyses)):
            problems.append(f"@decision.futility_z_below: must have one value per interim analysis "
                            f"({len(self.analyses)}); got {len(dec.futility_z_below)}")
        if isinstance(self.decision, BayesianDecision) and kind == "time_to_event":
            problems.append("@decision.rule: the Bayesian rule is available for binary and continuous endpoints")
        problems.extend(self._allocation_problems())
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _allocation_problems(self) -> list[str]:
        """A randomised 1:ratio trial allocates patient k to treatment when ceil(k / (1 + ratio)) increases
        (the engine's allocation, balanced at every look); its targets must be what that allocation gives."""
        c, t = self.control, self.treated
        if not (isinstance(c, ConcurrentControl) and c.ratio is not None and self.randomised
                and t.accrual.capacity_per_month is None):
            return []
        keep_t = (1.0 - t.never_treated) * (1.0 if self.endpoint.type == "time_to_event" else 1.0 - t.dropout)
        keep_c = 1.0 if self.endpoint.type == "time_to_event" else 1.0 - c.dropout
        if keep_c != keep_t:  # the arms are then enrolled separately
            return []

        def treated_of(n: int) -> int:
            total = n + math.ceil(c.ratio * n - 1e-9)  # type: ignore[operator]
            return math.ceil(total / (1.0 + c.ratio) - 1e-12)  # type: ignore[operator]

        n = t.target_n
        if treated_of(n) == n:
            return []
        below = next((m for m in range(n - 1, max(0, n - 100), -1) if treated_of(m) == m), None)
        above = next((m for m in range(n + 1, n + 100) if treated_of(m) == m), None)
        near = " or ".join(str(m) for m in (below, above) if m is not None)
        return [f"@treated.target_n: randomising 1:{c.ratio:g}, the {n + self.control_target_n} patients give "
                f"{treated_of(n)} treated, not {n}" + (f"; try target_n: {near}" if near else "")]

    @property
    def control_kind(self) -> str:
        """``"benchmark"``, ``"concurrent"`` or ``"external"``."""
        return self.control.kind

    @property
    def test(self) -> str:
        """The test actually used at a fixed analysis (the default resolved)."""
        if self.analysis.test is not None:
            return self.analysis.test
        adjusted = getattr(self.control, "confounding", None)
        if adjusted is not None and adjusted.adjustment == "propensity_weighting":
            return "z"
        return _DEFAULT_TEST[(self.endpoint.type, self.control_kind)]

    @property
    def alpha(self) -> float:
        """The one-sided level of the confirmatory analysis."""
        if isinstance(self.decision, GroupSequentialDecision):
            return self.decision.alpha
        return self.analysis.alpha

    @property
    def randomised(self) -> bool:
        """Whether the control arm is randomised (concurrent controls only)."""
        c = self.control
        if isinstance(c, ConcurrentControl):
            return c.randomised if c.randomised is not None else (self.study == "clinical_trial"
                                                                  and c.confounding is None)
        return False

    @property
    def control_target_n(self) -> int:
        """Evaluable concurrent controls awaited (external: its size; 0 for a benchmark)."""
        c = self.control
        if isinstance(c, BenchmarkControl):
            return 0
        if isinstance(c, ExternalControl):
            return c.n
        if c.target_n is not None:
            return c.target_n
        assert c.ratio is not None
        return math.ceil(c.ratio * self.treated.target_n - 1e-9)

    @property
    def control_accrual(self) -> Accrual | None:
        """The concurrent control arm's accrual (derived from ``ratio`` when not given)."""
        c = self.control
        if not isinstance(c, ConcurrentControl):
            return None
        if c.accrual is not None:
            return c.accrual
        assert c.ratio is not None
        a = self.treated.accrual
        return a.model_copy(update={
            "rate_per_month": a.rate_per_month * c.ratio,
            "rate_changes": [r.model_copy(update={"rate_per_month": r.rate_per_month * c.ratio})
                             for r in a.rate_changes],
            "capacity_per_month": None,
        })


class DistributionSpec(_Model):
    """A design prior for assurance: the true value is drawn per replicate.

    ``beta: [a, b]`` (a rate), ``normal: [mean, sd]`` (a mean), ``lognormal: [meanlog, sdlog]``
    (a hazard ratio), or ``posterior: <prior name>`` (the posterior of the approval cohort
    under that prior of ``pre_approval.priors``).
    """

    beta: Annotated[tuple[Positive, Positive], PairOf] | None = Field(
        None, description="[a, b]: draw the treated response rate from Beta(a, b) (for treated_rate).")
    normal: Annotated[tuple[Annotated[float, Field(allow_inf_nan=False)], Positive], PairOf] | None = Field(
        None, description="[mean, sd]: draw the treated mean from this normal distribution (for treated_mean).")
    lognormal: Annotated[tuple[Annotated[float, Field(allow_inf_nan=False)], Positive], PairOf] | None = Field(
        None, description="[meanlog, sdlog]: draw the hazard ratio as exp(N(meanlog, sdlog^2)), |meanlog| <= 20 and "
                          "sdlog <= 10 (for hazard_ratio).")
    posterior: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="Name of a prior under pre_approval.priors: draw from the approval cohort's posterior "
                          "under it (treated_rate or treated_mean; the cohort's endpoint type must match).")

    @model_validator(mode="after")
    def _exactly_one(self) -> DistributionSpec:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of beta, normal, lognormal or posterior")
        if self.lognormal is not None:
            meanlog, sdlog = self.lognormal
            if abs(meanlog) > MAX_LOG_HR:
                raise ValueError(f"@lognormal.0: meanlog (the log hazard ratio) must be between -{MAX_LOG_HR:g} and "
                                 f"{MAX_LOG_HR:g}; got {meanlog:g}")
            if sdlog > MAX_SDLOG:
                raise ValueError(f"@lognormal.1: sdlog must be <= {MAX_SDLOG:g}; got {sdlog:g}")
        return self


Value = Annotated[float, Field(allow_inf_nan=False)]


class Scenario(_Model):
    """One true-effect setting to simulate.

    Binary: ``treated_rate`` (and ``control_rate`` with a control arm); continuous:
    ``treated_mean`` (and ``control_mean``); time to event: ``hazard_ratio`` of treated
    against the control (or the reference curve).  A value may be a distribution
    (:class:`DistributionSpec`) for assurance.
    """

    name: Annotated[str, Field(min_length=1)] = Field(
        description="Name of the scenario, unique in the design (it also keys the scenario's random streams).")
    treated_rate: Probability | DistributionSpec | None = Field(
        None, description="True response rate of a treated patient without confounders, or a design prior to draw it "
                          "from; required for, and only for, a binary endpoint.")
    control_rate: Probability | None = Field(
        None, description="True response rate of a control without confounders; required with a concurrent or "
                          "external control of a binary endpoint, refused with a benchmark.")
    treated_mean: Value | DistributionSpec | None = Field(
        None, description="True mean score of a treated patient without confounders, or a design prior to draw it "
                          "from; required for, and only for, a continuous endpoint.")
    control_mean: Value | None = Field(
        None, description="True mean score of a control without confounders; required with a concurrent or external "
                          "control of a continuous endpoint, refused with a benchmark.")
    hazard_ratio: Positive | DistributionSpec | None = Field(
        None, description="True hazard ratio of treated against the control arm or the baseline reference curve (< 1 "
                          "is benefit), or a design prior; required for, and only for, a time-to-event endpoint.")


class SimulationSettings(_Model):
    """How many replicates, and the seed of the random streams."""

    replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES), WholeNumber] = Field(
        10_000, description="Monte-Carlo replicates per scenario (the starting number when mcse_target is given).")
    seed: Annotated[int, Field(ge=0), WholeNumber] | None = Field(
        None, description="Root seed; omitted means fresh entropy, recorded in the output.")
    mcse_target: Annotated[float, Field(gt=0.0, lt=0.5, allow_inf_nan=False)] | None = Field(
        None, description="Add replicates, in blocks of 2048, until every reported probability's MCSE is at most "
                          "this (up to max_replicates); none means exactly replicates.")
    max_replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES), WholeNumber] = Field(
        1_000_000, description="Cap on the replicates per scenario when mcse_target is given.")


_SCENARIO_FIELDS = {
    "binary": ("treated_rate", "control_rate"),
    "continuous": ("treated_mean", "control_mean"),
    "time_to_event": ("hazard_ratio", None),
}


class Design(_Model):
    """A complete design: approval, approval cohort, post-marketing study, scenarios, simulation."""

    name: Annotated[str, Field(min_length=1)] = Field(description="The design's name (printed in reports).")
    description: str = Field("", description="Free text about the design (shown in the HTML report).")
    approval: Approval = Field(description="Approval date and time limit, which fix the data cut-off.")
    pre_approval: PreApproval | None = Field(
        None, description="The approval cohort and the evidence criteria for presumed efficacy, evaluated by "
                          "condapprove estimate; the simulation uses it only for posterior scenarios and a "
                          "power_prior.")
    post_marketing: PostMarketing = Field(description="The post-marketing approval-condition evaluation to simulate.")
    scenarios: Annotated[list[Scenario], Field(min_length=1)] = Field(
        description="The true effects to simulate, at least one, with unique names.")
    simulation: SimulationSettings = Field(
        default_factory=lambda: SimulationSettings(), description="Replicates, seed and precision target.")

    @property
    def cutoff_month(self) -> float:
        """Months from approval to the data cut-off of the last possible analysis."""
        return self.approval.cutoff_month

    def _observable_in_time(self) -> list[str]:
        """Problems of a recruited arm that could not give one observed patient by the data cut-off: its enrolment
        starts at or after the cut-off, or the endpoint's follow-up outlasts the months between the two (the
        simulation would only ever report the targets not reached)."""
        pm, cutoff = self.post_marketing, self.cutoff_month
        follow = float(getattr(pm.endpoint, "followup_months", 0.0))
        arms = [("post_marketing.treated.accrual", pm.treated.accrual)]
        if isinstance(pm.control, ConcurrentControl) and pm.control.accrual is not None:
            arms.append(("post_marketing.control.accrual", pm.control.accrual))
        problems = [f"@{where}.start_month: must be before the data cut-off (month {cutoff:g}): no patient could "
                    f"enrol; got {accrual.start_month:g}" for where, accrual in arms if accrual.start_month >= cutoff]
        # the follow-up against the latest start of an arm that enrols before the cut-off (one message, not one an arm)
        where, start = max(((w, a.start_month) for w, a in arms if a.start_month < cutoff), key=lambda x: x[1],
                           default=(None, 0.0))
        if where is not None and follow >= cutoff - start:
            problems.append(f"@post_marketing.endpoint.followup_months: must be < {cutoff - start:g}, the months from "
                            f"{where}.start_month ({start:g}) to the data cut-off (month {cutoff:g}): no endpoint "
                            f"could be observed in time; got {follow:g}")
        return problems

    @model_validator(mode="after")
    def _scenarios_fit(self) -> Design:
        seen: set[str] = set()
        pm = self.post_marketing
        kind = pm.endpoint.type
        treated_field, control_field = _SCENARIO_FIELDS[kind]
        two = pm.control_kind != "benchmark"
        problems = []
        problems.extend(self._observable_in_time())
        for i, look in enumerate(pm.analyses):
            if look.month is not None and look.month >= self.cutoff_month:
                problems.append(f"@post_marketing.analyses.{i}.month: must be before the data cut-off (month "
                                f"{self.cutoff_month:g}); got {look.month:g}")
        for i, s in enumerate(self.scenarios):
            if s.name in seen:
                problems.append(f"@scenarios.{i}.name: duplicate scenario name {s.name!r}")
            seen.add(s.name)
            if getattr(s, treated_field) is None:
                problems.append(f"@scenarios.{i}.{treated_field}: required with a {kind} endpoint")
            if control_field is not None:
                if two and getattr(s, control_field) is None:
                    problems.append(f"@scenarios.{i}.{control_field}: required with a {pm.control_kind} control")
                if not two and getattr(s, control_field) is not None:
                    where = "rate" if kind == "binary" else "mean"
                    problems.append(f"@scenarios.{i}.{control_field}: not used with a benchmark control "
                                    f"(the benchmark {where} is post_marketing.control.{where})")
            for other in ("treated_rate", "control_rate", "treated_mean", "control_mean", "hazard_ratio"):
                if other not in (treated_field, control_field) and getattr(s, other) is not None:
                    problems.append(f"@scenarios.{i}.{other}: not used with a {kind} endpoint")
            dist = getattr(s, treated_field)
            if isinstance(dist, DistributionSpec):
                want = {"binary": "beta", "continuous": "normal", "time_to_event": "lognormal"}[kind]
                if dist.posterior is not None:
                    pre = self.pre_approval
                    if pre is None or dist.posterior not in pre.priors:
                        problems.append(f"@scenarios.{i}.{treated_field}.posterior: must name a prior of "
                                        f"pre_approval.priors; got {dist.posterior!r}")
                    elif pre.endpoint.type != kind or kind == "time_to_event":
                        problems.append(f"@scenarios.{i}.{treated_field}.posterior: the approval cohort's endpoint "
                                        f"({pre.endpoint.type}) does not give a {kind} effect")
                elif getattr(dist, want) is None:
                    problems.append(f"@scenarios.{i}.{treated_field}: a {kind} effect is drawn from {want}: [...]")
        dec = pm.decision
        if (isinstance(dec, BayesianDecision) and dec.power_prior is not None
                and (self.pre_approval is None or self.pre_approval.endpoint.type != kind)):
            problems.append("@post_marketing.decision.power_prior: needs a pre_approval cohort with the same "
                            "endpoint type")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def scenario(self, name: str) -> Scenario:
        """Return the scenario called ``name`` (a :class:`KeyError` lists the names if absent)."""
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(f"no scenario {name!r}; the design has " + ", ".join(repr(s.name) for s in self.scenarios))
