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

import datetime as _dt
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_TIME_LIMIT_YEARS",
    "Accrual",
    "Analysis",
    "Approval",
    "BenchmarkControl",
    "BinaryEndpoint",
    "CohortSpec",
    "ConcurrentControl",
    "Control",
    "Design",
    "Endpoint",
    "LotSummaries",
    "PostMarketing",
    "PreApproval",
    "PriorSpec",
    "ReferenceCurveSpec",
    "Scenario",
    "SimulationSettings",
    "TreatedArm",
]

#: PMD Act Art. 23-26: the time limit of a conditional approval is at most 7 years.
MAX_TIME_LIMIT_YEARS = 7.0

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
OpenProbability = Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class _Model(BaseModel):
    """Base of the design models: frozen, unknown keys forbidden.

    Cross-field validators report problems as lines ``@rel.path: message`` (joined by
    newlines) so the loader can point at the offending field, not the parent section.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Approval(_Model):
    """When the conditional approval was granted and when its time limit ends.

    The data cut-off of the last analysis is ``time_limit_years + extension_years``
    (in months) after ``date``, less ``filing_lead_months`` (the time needed to analyse,
    write and file the application for full approval).
    """

    date: _dt.date = Field(description="Date of the conditional, time-limited approval (YYYY-MM-DD).")
    time_limit_years: Annotated[float, Field(gt=0.0, le=MAX_TIME_LIMIT_YEARS, allow_inf_nan=False)] = Field(
        description="Time limit of the approval in years (at most 7 under the PMD Act)."
    )
    extension_years: NonNegative = Field(
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


class Accrual(_Model):
    """Enrolment as a Poisson process in calendar time.

    The rate rises linearly from 0 at ``start_month`` to ``rate_per_month`` at
    ``start_month + ramp_up_months`` and stays there.
    """

    rate_per_month: Positive = Field(description="Patients per month once fully ramped up.")
    ramp_up_months: NonNegative = Field(0.0, description="Months of linear ramp-up from rate 0.")
    start_month: NonNegative = Field(0.0, description="Months after approval before the first patient can enrol.")


class BinaryEndpoint(_Model):
    """A response (yes/no) observed ``followup_months`` after treatment."""

    type: Literal["binary"]
    name: str = Field("response", description="What a response is (for reports).")
    followup_months: NonNegative = Field(0.0, description="Months from treatment until the response is observed.")


Endpoint = Annotated[BinaryEndpoint, Field(discriminator="type")]


class TreatedArm(_Model):
    """The treated patients of the post-marketing study."""

    accrual: Accrual
    target_n: Annotated[int, Field(ge=1, strict=False)] = Field(
        description="Evaluable treated patients the analysis waits for."
    )
    dropout: Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)] = Field(
        0.0, description="Probability that a treated patient drops out before the endpoint is observed."
    )


class BenchmarkControl(_Model):
    """A fixed historical benchmark rate (single-arm study)."""

    kind: Literal["benchmark"]
    rate: OpenProbability = Field(description="Historical response rate the treated rate is tested against.")


class ConcurrentControl(_Model):
    """A concurrent control arm: randomised (clinical trial) or not (use-results survey).

    Give either ``ratio`` (controls per treated patient: the control arm accrues at
    ``ratio`` times the treated rate, with the same ramp-up, and its target is
    ``ratio * target_n`` rounded up) or an ``accrual`` of its own with ``target_n``.
    """

    kind: Literal["concurrent"]
    ratio: Positive | None = Field(None, description="Controls per treated patient.")
    accrual: Accrual | None = Field(None, description="The control arm's own accrual (instead of ratio).")
    target_n: Annotated[int, Field(ge=1)] | None = Field(None, description="Evaluable controls awaited.")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)] = Field(
        0.0, description="Probability that a control patient drops out before the endpoint is observed."
    )

    @model_validator(mode="after")
    def _ratio_or_accrual(self) -> ConcurrentControl:
        if self.ratio is None and self.accrual is None:
            raise ValueError("give either ratio (controls per treated patient) or an accrual with target_n")
        if self.ratio is not None and (self.accrual is not None or self.target_n is not None):
            raise ValueError("give either ratio, or accrual with target_n, not both")
        if self.accrual is not None and self.target_n is None:
            raise ValueError("target_n is required with the control arm's own accrual")
        return self


Control = Annotated[BenchmarkControl | ConcurrentControl, Field(discriminator="kind")]


class Analysis(_Model):
    """The confirmatory analysis: a one-sided test at level ``alpha``.

    ``test`` defaults to ``exact_binomial`` against a benchmark and ``fisher`` (Fisher's
    exact test, conditional on both margins) for a concurrent control; ``score``
    is the unconditional one-sided score (pooled z) test, less conservative but
    with type I error above ``alpha`` at some small sample sizes.
    """

    test: Literal["exact_binomial", "fisher", "score"] | None = Field(
        None, description="Test; default exact_binomial (benchmark) or fisher (concurrent control)."
    )
    alpha: Annotated[float, Field(gt=0.0, lt=0.5, allow_inf_nan=False)] = Field(
        0.025, description="One-sided significance level."
    )


class PostMarketing(_Model):
    """The post-marketing approval-condition evaluation."""

    study: Literal["clinical_trial", "use_results_survey"]
    endpoint: Endpoint
    treated: TreatedArm
    control: Control
    analysis: Analysis = Field(default_factory=lambda: Analysis())

    @model_validator(mode="after")
    def _test_fits_control(self) -> PostMarketing:
        test = self.analysis.test
        if test is None:
            return self
        if isinstance(self.control, BenchmarkControl) and test != "exact_binomial":
            raise ValueError(f"@analysis.test: {test!r} needs a concurrent control; a benchmark uses 'exact_binomial'")
        if isinstance(self.control, ConcurrentControl) and test == "exact_binomial":
            raise ValueError("@analysis.test: 'exact_binomial' compares with a benchmark; use 'fisher' or 'score'")
        return self

    @property
    def test(self) -> str:
        """The test actually used (the default resolved)."""
        if self.analysis.test is not None:
            return self.analysis.test
        return "exact_binomial" if isinstance(self.control, BenchmarkControl) else "fisher"

    @property
    def control_target_n(self) -> int:
        """Evaluable controls awaited (0 for a benchmark)."""
        c = self.control
        if isinstance(c, BenchmarkControl):
            return 0
        if c.target_n is not None:
            return c.target_n
        assert c.ratio is not None
        return math.ceil(c.ratio * self.treated.target_n - 1e-9)

    @property
    def control_accrual(self) -> Accrual | None:
        """The control arm's accrual (derived from ``ratio`` when not given)."""
        c = self.control
        if isinstance(c, BenchmarkControl):
            return None
        if c.accrual is not None:
            return c.accrual
        assert c.ratio is not None
        a = self.treated.accrual
        return Accrual(
            rate_per_month=a.rate_per_month * c.ratio, ramp_up_months=a.ramp_up_months, start_month=a.start_month
        )


class Scenario(_Model):
    """One true-effect setting to simulate."""

    name: Annotated[str, Field(min_length=1)]
    treated_rate: Probability = Field(description="True response rate of treated patients.")
    control_rate: Probability | None = Field(
        None, description="True response rate of concurrent controls (required with a concurrent control)."
    )


class SimulationSettings(_Model):
    """How many replicates, and the seed of the random streams."""

    replicates: Annotated[int, Field(ge=1, le=100_000_000)] = Field(10_000, description="Monte-Carlo replicates.")
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Root seed; omitted means fresh entropy, recorded in the output."
    )


class MixtureSpec(_Model):
    """Mixture weights (normalised by the prior) with one entry per component."""

    weights: Annotated[list[Annotated[float, Field(gt=0.0, allow_inf_nan=False)]], Field(min_length=1)]


class BetaMixtureSpec(MixtureSpec):
    """A mixture of beta distributions."""

    a: Annotated[list[Positive], Field(min_length=1)]
    b: Annotated[list[Positive], Field(min_length=1)]

    @model_validator(mode="after")
    def _same_length(self) -> BetaMixtureSpec:
        if not len(self.weights) == len(self.a) == len(self.b):
            raise ValueError("weights, a and b must have the same length")
        return self


class NormalMixtureSpec(MixtureSpec):
    """A mixture of normal distributions."""

    means: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=1)]
    sds: Annotated[list[Positive], Field(min_length=1)]

    @model_validator(mode="after")
    def _same_length(self) -> NormalMixtureSpec:
        if not len(self.weights) == len(self.means) == len(self.sds):
            raise ValueError("weights, means and sds must have the same length")
        return self


class PriorSpec(_Model):
    """A named prior: ``{beta: [a, b]}``, ``{beta_mixture: {weights, a, b}}`` (response rates),
    ``{normal: [mean, sd]}`` or ``{normal_mixture: {weights, means, sds}}`` (means)."""

    beta: Annotated[list[Positive], Field(min_length=2, max_length=2)] | None = None
    beta_mixture: BetaMixtureSpec | None = None
    normal: tuple[Annotated[float, Field(allow_inf_nan=False)], Positive] | None = None
    normal_mixture: NormalMixtureSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PriorSpec:
        given = [k for k in ("beta", "beta_mixture", "normal", "normal_mixture") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of beta: [a, b], beta_mixture: {weights, a, b}, "
                             "normal: [mean, sd] or normal_mixture: {weights, means, sds}")
        return self

    @property
    def family(self) -> str:
        """``"beta"`` (for a rate) or ``"normal"`` (for a mean)."""
        return "beta" if self.beta is not None or self.beta_mixture is not None else "normal"

    def build(self) -> Any:
        """The prior object of :mod:`condapprove.priors`."""
        from ..priors import Beta, BetaMixture, Normal, NormalMixture

        if self.beta is not None:
            return Beta(self.beta[0], self.beta[1])
        if self.beta_mixture is not None:
            m = self.beta_mixture
            return BetaMixture(tuple(m.weights), tuple(m.a), tuple(m.b))
        if self.normal is not None:
            return Normal(self.normal[0], self.normal[1])
        n = self.normal_mixture
        assert n is not None
        return NormalMixture(tuple(n.weights), tuple(n.means), tuple(n.sds))


Binary01 = Annotated[int, Field(ge=0, le=1)]


class CohortSpec(_Model):
    """The approval cohort, in one of these forms (by endpoint type):

    * binary: ``{responders, n}``, or patient-level ``{responses: [0/1, ...], lots: [...]}``;
    * continuous: ``{mean, sd, n}``, or ``{values: [...], lots: [...]}``;
    * time to event: ``{durations: [...], events: [0/1, ...]}``;
    * any of them from a CSV file: ``{data: cohort.csv, columns: {response|value|time|event|lot: column}}``
      (path relative to the design file; read and checked when the design is loaded).
    """

    responders: Annotated[int, Field(ge=0)] | None = None
    n: Annotated[int, Field(ge=1)] | None = None
    mean: Annotated[float, Field(allow_inf_nan=False)] | None = None
    sd: Positive | None = None
    responses: Annotated[list[Binary01], Field(min_length=1)] | None = None
    values: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2)] | None = None
    durations: Annotated[list[NonNegative], Field(min_length=1)] | None = None
    events: Annotated[list[Binary01], Field(min_length=1)] | None = None
    lots: Annotated[list[str], Field(min_length=1)] | None = None
    data: Annotated[str, Field(min_length=1)] | None = None
    columns: dict[Literal["response", "value", "time", "event", "lot"], Annotated[str, Field(min_length=1)]] | None = None

    def given(self) -> set[str]:
        """Names of the fields that were given."""
        return {k for k in type(self).model_fields if getattr(self, k) is not None}


_COHORT_FORMS: dict[str, list[set[str]]] = {
    "binary": [{"responders", "n"}, {"responses"}, {"responses", "lots"}, {"data", "columns"}],
    "continuous": [{"mean", "sd", "n"}, {"values"}, {"values", "lots"}, {"data", "columns"}],
    "time_to_event": [{"durations", "events"}, {"data", "columns"}],
}
_CSV_ROLES: dict[str, tuple[set[str], set[str]]] = {  # endpoint -> (required roles, optional roles)
    "binary": ({"response"}, {"lot"}),
    "continuous": ({"value"}, {"lot"}),
    "time_to_event": ({"time", "event"}, set()),
}


class LotSummaries(_Model):
    """Per-lot summaries: ``{events, n}`` (binary) or ``{means, sds, n}`` (continuous)."""

    events: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=2)] | None = None
    means: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2)] | None = None
    sds: Annotated[list[Positive], Field(min_length=2)] | None = None
    n: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2)]

    @model_validator(mode="after")
    def _consistent(self) -> LotSummaries:
        k = len(self.n)
        if self.events is not None:
            if self.means is not None or self.sds is not None:
                raise ValueError("give either events (binary) or means and sds (continuous), not both")
            if len(self.events) != k:
                raise ValueError(f"@events: must have one entry per lot ({k}); got {len(self.events)}")
            bad = [i for i, (e, m) in enumerate(zip(self.events, self.n)) if e > m]
            if bad:
                raise ValueError(f"@events.{bad[0]}: must be <= n of the lot ({self.n[bad[0]]}); "
                                 f"got {self.events[bad[0]]}")
        elif self.means is None or self.sds is None:
            raise ValueError("give events (binary lots) or means and sds (continuous lots)")
        elif len(self.means) != k or len(self.sds) != k:
            raise ValueError(f"means and sds must have one entry per lot ({k})")
        return self


class ReferenceCurveSpec(_Model):
    """A reference survival curve: ``{survival_at: {time, survival}}`` or ``{median}`` (exponential),
    ``{weibull: {shape, scale}}``, or ``{piecewise_exponential: {breaks, rates}}``."""

    survival_at: dict[Literal["time", "survival"], Positive] | None = None
    median: Positive | None = None
    weibull: dict[Literal["shape", "scale"], Positive] | None = None
    piecewise_exponential: dict[Literal["breaks", "rates"], list[NonNegative]] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReferenceCurveSpec:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of survival_at, median, weibull or piecewise_exponential")
        if self.survival_at is not None:
            if set(self.survival_at) != {"time", "survival"} or not self.survival_at["survival"] < 1:
                raise ValueError("@survival_at: must be {time: t, survival: s} with 0 < s < 1")
        if self.weibull is not None and set(self.weibull) != {"shape", "scale"}:
            raise ValueError("@weibull: must be {shape: k, scale: lambda}")
        if self.piecewise_exponential is not None and set(self.piecewise_exponential) != {"breaks", "rates"}:
            raise ValueError("@piecewise_exponential: must be {breaks: [...], rates: [...]}")
        return self

    def build(self) -> tuple[Any, str]:
        """The curve object of :mod:`condapprove.estimate.survival` and a label."""
        from ..estimate import survival as sv

        if self.survival_at is not None:
            t, p = self.survival_at["time"], self.survival_at["survival"]
            return sv.ExponentialCurve.from_survival_at(t, p), f"exponential with S({t:g}) = {p:g}"
        if self.median is not None:
            return sv.ExponentialCurve.from_median(self.median), f"exponential with median {self.median:g}"
        if self.weibull is not None:
            w = self.weibull
            return sv.WeibullCurve(w["shape"], w["scale"]), f"Weibull(shape {w['shape']:g}, scale {w['scale']:g})"
        pw = self.piecewise_exponential
        assert pw is not None
        return sv.PiecewiseExponentialCurve(tuple(pw["breaks"]), tuple(pw["rates"])), "piecewise exponential"


class PosteriorProbabilitySpec(_Model):
    """``P(effect > greater_than | data; prior) >= at_least`` (binary, continuous)."""

    criterion: Literal["posterior_probability"]
    prior: str
    greater_than: Annotated[float, Field(allow_inf_nan=False)]
    at_least: OpenProbability


class LowerBoundSpec(_Model):
    """The lower bound of the two-sided interval exceeds ``greater_than`` (``time``: landmark, time to event)."""

    criterion: Literal["lower_bound"]
    greater_than: Annotated[float, Field(allow_inf_nan=False)]
    confidence_level: OpenProbability = 0.95
    method: Literal["clopper-pearson", "wilson", "jeffreys", "mid-p"] = "clopper-pearson"
    time: Positive | None = None


class ExactTestSpec(_Model):
    """The exact one-sided binomial test of ``p <= p0`` rejects at level ``alpha`` (binary)."""

    criterion: Literal["exact_test"]
    p0: OpenProbability
    alpha: Annotated[float, Field(gt=0.0, lt=0.5, allow_inf_nan=False)] = 0.025


class TTestSpec(_Model):
    """The one-sided one-sample t test of ``mean <= mu0`` rejects at level ``alpha`` (continuous)."""

    criterion: Literal["t_test"]
    mu0: Annotated[float, Field(allow_inf_nan=False)]
    alpha: Annotated[float, Field(gt=0.0, lt=0.5, allow_inf_nan=False)] = 0.025


class OneSampleLogrankSpec(_Model):
    """The one-sample log-rank test against a reference curve rejects at level ``alpha`` (time to event)."""

    criterion: Literal["one_sample_logrank"]
    reference: ReferenceCurveSpec
    alpha: Annotated[float, Field(gt=0.0, lt=0.5, allow_inf_nan=False)] = 0.025
    method: Literal["wu", "standard", "exact"] = "wu"


class NewLotPredictionSpec(_Model):
    """The lower prediction bound for a new lot exceeds ``greater_than`` (binary, continuous; needs lots)."""

    criterion: Literal["new_lot_prediction"]
    greater_than: Annotated[float, Field(allow_inf_nan=False)]
    confidence_level: OpenProbability = 0.95
    method: Literal["REML", "DL", "PM", "ML"] = "REML"
    test: Literal["z", "hartung-knapp"] = "hartung-knapp"


CriterionSpec = Annotated[
    PosteriorProbabilitySpec | LowerBoundSpec | ExactTestSpec | TTestSpec | OneSampleLogrankSpec | NewLotPredictionSpec,
    Field(discriminator="criterion"),
]

_CRITERIA_FOR: dict[str, set[str]] = {
    "posterior_probability": {"binary", "continuous"},
    "lower_bound": {"binary", "continuous", "time_to_event"},
    "exact_test": {"binary"},
    "t_test": {"continuous"},
    "one_sample_logrank": {"time_to_event"},
    "new_lot_prediction": {"binary", "continuous"},
}


class PreApprovalEndpoint(_Model):
    """The endpoint of the approval cohort."""

    type: Literal["binary", "continuous", "time_to_event"]
    name: str = "response"
    followup_months: NonNegative = 0.0


class PreApproval(_Model):
    """The approval cohort and the declarative evidence criteria for "presumed efficacy"."""

    endpoint: PreApprovalEndpoint
    cohort: CohortSpec
    lots: LotSummaries | None = None
    priors: dict[str, PriorSpec] = Field(default_factory=dict)
    evidence: Annotated[list[CriterionSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> PreApproval:
        kind = self.endpoint.type
        problems = []
        given = self.cohort.given()
        forms = _COHORT_FORMS[kind]
        if given not in forms:
            shown = " or ".join("{" + ", ".join(sorted(f)) + "}" for f in forms)
            problems.append(f"@cohort: a {kind} cohort must be given as {shown}; got {{{', '.join(sorted(given))}}}")
        elif "columns" in given:
            need, optional = _CSV_ROLES[kind]
            roles = set(self.cohort.columns or {})
            if not need <= roles or not roles <= need | optional:
                problems.append(f"@cohort.columns: a {kind} cohort maps {', '.join(sorted(need))}"
                                + (f" (and optionally {', '.join(sorted(optional))})" if optional else "")
                                + f"; got {', '.join(sorted(roles)) or 'nothing'}")
        if self.cohort.responders is not None and self.cohort.n is not None and self.cohort.responders > self.cohort.n:
            problems.append(f"@cohort.responders: must be <= n ({self.cohort.n}); got {self.cohort.responders}")
        for lots_of in ("responses", "values"):
            seq = getattr(self.cohort, lots_of)
            if self.cohort.lots is not None and seq is not None and len(self.cohort.lots) != len(seq):
                problems.append(f"@cohort.lots: must have one label per patient ({len(seq)}); "
                                f"got {len(self.cohort.lots)}")
        if self.cohort.durations is not None and self.cohort.events is not None:
            if len(self.cohort.durations) != len(self.cohort.events):
                problems.append(f"@cohort.events: must have one entry per duration ({len(self.cohort.durations)}); "
                                f"got {len(self.cohort.events)}")
        if self.lots is not None:
            lot_kind = "binary" if self.lots.events is not None else "continuous"
            if lot_kind != kind:
                problems.append(f"@lots: {lot_kind} lot summaries do not fit a {kind} endpoint")
            if self.cohort.lots is not None:
                problems.append("@lots: give lots either as summaries here or as labels in the cohort, not both")
        family = {"binary": "beta", "continuous": "normal"}.get(kind)
        for name, prior in self.priors.items():
            if family is None:
                problems.append(f"@priors.{name}: priors are not used with a time-to-event cohort")
            elif prior.family != family:
                problems.append(f"@priors.{name}: a {kind} endpoint needs a {family} prior; got a {prior.family} one")
        has_lots = self.lots is not None or self.cohort.lots is not None or "lot" in (self.cohort.columns or {})
        for i, c in enumerate(self.evidence):
            if kind not in _CRITERIA_FOR[c.criterion]:
                problems.append(f"@evidence.{i}.criterion: {c.criterion!r} does not apply to a {kind} endpoint")
            if isinstance(c, PosteriorProbabilitySpec) and c.prior not in self.priors:
                known = ", ".join(repr(k) for k in self.priors) or "none are declared"
                problems.append(f"@evidence.{i}.prior: must name a prior under pre_approval.priors ({known}); "
                                f"got {c.prior!r}")
            if isinstance(c, LowerBoundSpec) and kind == "time_to_event" and c.time is None:
                problems.append(f"@evidence.{i}.time: required for a lower bound of survival (the landmark)")
            if isinstance(c, NewLotPredictionSpec) and not has_lots:
                problems.append(f"@evidence.{i}: new_lot_prediction needs per-lot data (pre_approval.lots, or lot "
                                "labels in the cohort)")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def build_cohort(self) -> Any:
        """The cohort as a :mod:`condapprove.evidence` object (CSV data must have been inlined by the loader)."""
        from .. import evidence as ev

        c, kind = self.cohort, self.endpoint.type
        if c.data is not None and c.responses is None and c.values is None and c.durations is None:
            raise ValueError("the cohort's CSV data have not been read; load the design with load_design")
        lots = self.lots
        if kind == "binary":
            if c.responses is not None:
                x, n = sum(c.responses), len(c.responses)
                lot_events = lot_n = None
                if c.lots is not None:
                    labels = list(dict.fromkeys(c.lots))
                    lot_n = tuple(sum(1 for lab in c.lots if lab == L) for L in labels)
                    lot_events = tuple(sum(r for r, lab in zip(c.responses, c.lots) if lab == L) for L in labels)
                return ev.BinaryCohort(responders=x, n=n, lot_events=lot_events, lot_n=lot_n)
            assert c.responders is not None and c.n is not None
            return ev.BinaryCohort(responders=c.responders, n=c.n,
                                   lot_events=tuple(lots.events) if lots and lots.events else None,
                                   lot_n=tuple(lots.n) if lots else None)
        if kind == "continuous":
            if c.values is not None:
                return ev.ContinuousCohort.from_values(c.values, c.lots)
            assert c.mean is not None and c.sd is not None and c.n is not None
            return ev.ContinuousCohort(
                mean=c.mean, sd=c.sd, n=c.n,
                lot_means=tuple(lots.means) if lots and lots.means else None,
                lot_sds=tuple(lots.sds) if lots and lots.sds else None,
                lot_n=tuple(lots.n) if lots else None)
        assert c.durations is not None and c.events is not None
        return ev.TimeToEventCohort(durations=tuple(c.durations), events=tuple(c.events))

    def criteria(self) -> list[Any]:
        """The criteria as :mod:`condapprove.evidence` objects."""
        from .. import evidence as ev

        out: list[Any] = []
        for c in self.evidence:
            if isinstance(c, PosteriorProbabilitySpec):
                out.append(ev.PosteriorProbability(prior=c.prior, greater_than=c.greater_than, at_least=c.at_least))
            elif isinstance(c, LowerBoundSpec):
                out.append(ev.LowerBound(greater_than=c.greater_than, confidence_level=c.confidence_level,
                                         method=c.method, time=c.time))
            elif isinstance(c, ExactTestSpec):
                out.append(ev.ExactTest(p0=c.p0, alpha=c.alpha))
            elif isinstance(c, TTestSpec):
                out.append(ev.TTest(mu0=c.mu0, alpha=c.alpha))
            elif isinstance(c, OneSampleLogrankSpec):
                curve, label = c.reference.build()
                out.append(ev.OneSampleLogrank(reference=curve, label=label, alpha=c.alpha, method=c.method))
            else:
                out.append(ev.NewLotPrediction(greater_than=c.greater_than, confidence_level=c.confidence_level,
                                               method=c.method, test=c.test))
        return out


class Design(_Model):
    """A complete design: approval, post-marketing study, scenarios and simulation settings."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    approval: Approval
    pre_approval: PreApproval | None = None
    post_marketing: PostMarketing
    scenarios: Annotated[list[Scenario], Field(min_length=1)]
    simulation: SimulationSettings = Field(default_factory=lambda: SimulationSettings())

    @property
    def cutoff_month(self) -> float:
        """Months from approval to the data cut-off of the last possible analysis."""
        return self.approval.cutoff_month

    @model_validator(mode="after")
    def _scenarios_fit(self) -> Design:
        seen: set[str] = set()
        concurrent = isinstance(self.post_marketing.control, ConcurrentControl)
        problems = []
        for i, s in enumerate(self.scenarios):
            if s.name in seen:
                problems.append(f"@scenarios.{i}.name: duplicate scenario name {s.name!r}")
            seen.add(s.name)
            if concurrent and s.control_rate is None:
                problems.append(f"@scenarios.{i}.control_rate: required with a concurrent control")
            if not concurrent and s.control_rate is not None:
                problems.append(
                    f"@scenarios.{i}.control_rate: not used with a benchmark control "
                    "(the benchmark rate is post_marketing.control.rate)"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def scenario(self, name: str) -> Scenario:
        """Return the scenario called ``name`` (a :class:`KeyError` lists the names if absent)."""
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(f"no scenario {name!r}; the design has " + ", ".join(repr(s.name) for s in self.scenarios))
