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
    "Approval",
    "Accrual",
    "BinaryEndpoint",
    "Endpoint",
    "TreatedArm",
    "BenchmarkControl",
    "ConcurrentControl",
    "Control",
    "Analysis",
    "PostMarketing",
    "Scenario",
    "SimulationSettings",
    "Design",
    "PreApproval",
    "PriorSpec",
    "BinaryCohort",
    "MAX_TIME_LIMIT_YEARS",
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


class BetaMixtureSpec(_Model):
    """A mixture of beta distributions: weights (normalised) and shapes."""

    weights: Annotated[list[Annotated[float, Field(gt=0.0, allow_inf_nan=False)]], Field(min_length=1)]
    a: Annotated[list[Positive], Field(min_length=1)]
    b: Annotated[list[Positive], Field(min_length=1)]

    @model_validator(mode="after")
    def _same_length(self) -> BetaMixtureSpec:
        if not len(self.weights) == len(self.a) == len(self.b):
            raise ValueError("weights, a and b must have the same length")
        return self


class PriorSpec(_Model):
    """A named prior for the response rate: ``{beta: [a, b]}`` or ``{beta_mixture: {weights, a, b}}``."""

    beta: Annotated[list[Positive], Field(min_length=2, max_length=2)] | None = None
    beta_mixture: BetaMixtureSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PriorSpec:
        if (self.beta is None) == (self.beta_mixture is None):
            raise ValueError("give exactly one of beta: [a, b] or beta_mixture: {weights, a, b}")
        return self

    def build(self) -> Any:
        """The prior object (:class:`condapprove.priors.Beta` or :class:`~condapprove.priors.BetaMixture`)."""
        from ..priors import Beta, BetaMixture

        if self.beta is not None:
            return Beta(self.beta[0], self.beta[1])
        m = self.beta_mixture
        assert m is not None
        return BetaMixture(m.weights, m.a, m.b)


class BinaryCohort(_Model):
    """Summary of a single-arm binary approval cohort."""

    responders: Annotated[int, Field(ge=0)]
    n: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _x_le_n(self) -> BinaryCohort:
        if self.responders > self.n:
            raise ValueError(f"@responders: must be <= n ({self.n}); got {self.responders}")
        return self


class PosteriorProbabilitySpec(_Model):
    """``P(p > greater_than | data; prior) >= at_least``."""

    criterion: Literal["posterior_probability"]
    prior: str
    greater_than: Probability
    at_least: OpenProbability


class ExactLowerBoundSpec(_Model):
    """The lower bound of the two-sided interval exceeds ``greater_than``."""

    criterion: Literal["exact_lower_bound"]
    greater_than: Probability
    confidence_level: OpenProbability = 0.95
    method: Literal["clopper-pearson", "wilson", "jeffreys", "mid-p"] = "clopper-pearson"


class ExactTestSpec(_Model):
    """The exact one-sided binomial test of ``p <= p0`` rejects at level ``alpha``."""

    criterion: Literal["exact_test"]
    p0: OpenProbability
    alpha: Annotated[float, Field(gt=0.0, lt=0.5, allow_inf_nan=False)] = 0.025


CriterionSpec = Annotated[PosteriorProbabilitySpec | ExactLowerBoundSpec | ExactTestSpec,
                          Field(discriminator="criterion")]


class PreApproval(_Model):
    """The approval cohort and the declarative evidence criteria for "presumed efficacy"."""

    endpoint: BinaryEndpoint
    cohort: BinaryCohort
    priors: dict[str, PriorSpec] = Field(default_factory=dict)
    evidence: Annotated[list[CriterionSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _priors_exist(self) -> PreApproval:
        problems = []
        for i, c in enumerate(self.evidence):
            if isinstance(c, PosteriorProbabilitySpec) and c.prior not in self.priors:
                known = ", ".join(repr(k) for k in self.priors) or "none are declared"
                problems.append(f"@evidence.{i}.prior: must name a prior under pre_approval.priors ({known}); "
                                f"got {c.prior!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def criteria(self) -> list[Any]:
        """The criteria as :mod:`condapprove.evidence` objects."""
        from .. import evidence as ev

        out: list[Any] = []
        for c in self.evidence:
            if isinstance(c, PosteriorProbabilitySpec):
                out.append(ev.PosteriorProbability(prior=c.prior, greater_than=c.greater_than, at_least=c.at_least))
            elif isinstance(c, ExactLowerBoundSpec):
                out.append(ev.ExactLowerBound(greater_than=c.greater_than, confidence_level=c.confidence_level,
                                              method=c.method))
            else:
                out.append(ev.ExactTest(p0=c.p0, alpha=c.alpha))
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
