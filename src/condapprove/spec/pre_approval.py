"""Design-file models of the approval cohort and its evidence criteria (``pre_approval``).

The cohort and criteria are turned into :mod:`condapprove.evidence` objects by
:meth:`PreApproval.build_cohort` and :meth:`PreApproval.criteria`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .._validation import MAX_BETA_SHAPE
from ..errors import DesignError
from ._base import (
    MAX_COUNT,
    MIN_MONTHS,
    MIN_PROBABILITY,
    Alpha,
    NonNegative,
    OpenProbability,
    PairOf,
    Positive,
    WholeNumber,
)
from ._base import Model as _Model

__all__ = [
    "BetaMixtureSpec",
    "CohortSpec",
    "CriterionSpec",
    "LotSummaries",
    "NormalMixtureSpec",
    "PreApproval",
    "PreApprovalEndpoint",
    "PriorSpec",
    "ReferenceCurveSpec",
]


#: Largest shape of a beta prior in a design file: a tenth of what the Python API takes
#: (:data:`condapprove._validation.MAX_BETA_SHAPE`), leaving room for the data its posteriors add (at most 10^7
#: patients a count), so that a prior that validates never fails in ``estimate`` or ``simulate``.
MAX_PRIOR_SHAPE = MAX_BETA_SHAPE / 10
#: A shape parameter of a beta prior (at most :data:`MAX_PRIOR_SHAPE`).
BetaShape = Annotated[float, Field(gt=0.0, le=MAX_PRIOR_SHAPE, allow_inf_nan=False)]


class MixtureSpec(_Model):
    """Mixture weights (normalised by the prior) with one entry per component."""

    weights: Annotated[list[Annotated[float, Field(gt=0.0, allow_inf_nan=False)]], Field(min_length=1)] = Field(
        description="Positive weight of each component (normalised to sum to 1), one per component.")


class BetaMixtureSpec(MixtureSpec):
    """A mixture of beta distributions."""

    a: Annotated[list[BetaShape], Field(min_length=1)] = Field(
        description="First shape parameter a of each Beta(a, b) component, one per weight.")
    b: Annotated[list[BetaShape], Field(min_length=1)] = Field(
        description="Second shape parameter b of each Beta(a, b) component, one per weight.")

    @model_validator(mode="after")
    def _same_length(self) -> BetaMixtureSpec:
        if not len(self.weights) == len(self.a) == len(self.b):
            raise ValueError("weights, a and b must have the same length")
        return self


class NormalMixtureSpec(MixtureSpec):
    """A mixture of normal distributions."""

    means: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=1)] = Field(
        description="Mean of each normal component, one per weight.")
    sds: Annotated[list[Positive], Field(min_length=1)] = Field(
        description="Standard deviation of each normal component, one per weight.")

    @model_validator(mode="after")
    def _same_length(self) -> NormalMixtureSpec:
        if not len(self.weights) == len(self.means) == len(self.sds):
            raise ValueError("weights, means and sds must have the same length")
        return self


class PriorSpec(_Model):
    """A named prior: ``{beta: [a, b]}``, ``{beta_mixture: {weights, a, b}}`` (response rates),
    ``{normal: [mean, sd]}`` or ``{normal_mixture: {weights, means, sds}}`` (means)."""

    beta: Annotated[list[BetaShape], Field(min_length=2, max_length=2)] | None = Field(
        None, description="[a, b]: a Beta(a, b) prior of a response rate (binary endpoints).")
    beta_mixture: BetaMixtureSpec | None = Field(
        None, description="A mixture of beta priors of a response rate (binary endpoints).")
    normal: Annotated[tuple[Annotated[float, Field(allow_inf_nan=False)], Positive], PairOf] | None = Field(
        None, description="[mean, sd]: a normal prior of a mean (continuous endpoints).")
    normal_mixture: NormalMixtureSpec | None = Field(
        None, description="A mixture of normal priors of a mean (continuous endpoints).")

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


Binary01 = Annotated[int, Field(ge=0, le=1), WholeNumber]


class CohortSpec(_Model):
    """The approval cohort, in one of these forms (by endpoint type):

    * binary: ``{responders, n}``, or patient-level ``{responses: [0/1, ...], lots: [...]}``;
    * continuous: ``{mean, sd, n}``, or ``{values: [...], lots: [...]}``;
    * time to event: ``{durations: [...], events: [0/1, ...]}``;
    * any of them from a CSV file: ``{data: cohort.csv, columns: {response|value|time|event|lot: column}}``
      (path relative to the design file; read and checked when the design is loaded).
    """

    responders: Annotated[int, Field(ge=0, le=MAX_COUNT), WholeNumber] | None = Field(
        None, description="Responders among the n patients (binary summary form, with n; at most n).")
    n: Annotated[int, Field(ge=1, le=MAX_COUNT), WholeNumber] | None = Field(
        None, description="Patients of the cohort (summary forms: with responders, or with mean and sd, where it "
                          "must be at least 2).")
    mean: Annotated[float, Field(allow_inf_nan=False)] | None = Field(
        None, description="Mean score of the cohort (continuous summary form, with sd and n).")
    sd: Positive | None = Field(
        None, description="Sample standard deviation of the scores (continuous summary form, with mean and n).")
    responses: Annotated[list[Binary01], Field(min_length=1)] | None = Field(
        None, description="Patient-level responses, 1 = responder and 0 = not (binary; optionally with lots).")
    values: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2)] | None = Field(
        None, description="Patient-level scores, at least 2 and not all equal (continuous; optionally with lots).")
    durations: Annotated[list[NonNegative], Field(min_length=1)] | None = Field(
        None, description="Months from treatment to the event or censoring, one per patient, not all 0 (time to "
                          "event, with events).")
    events: Annotated[list[Binary01], Field(min_length=1)] | None = Field(
        None, description="Event indicator per duration: 1 = event, 0 = censored (time to event).")
    lots: Annotated[list[str], Field(min_length=1)] | None = Field(
        None, description="Manufacturing-lot label of each patient, one per response or value (not with "
                          "pre_approval.lots); used by new_lot_prediction.")
    data: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="Path of a comma-separated CSV file of patient-level data, relative to the design file, "
                          "read when the design is loaded (with columns).")
    columns: dict[Literal["response", "value", "time", "event", "lot"],
                  Annotated[str, Field(min_length=1)]] | None = Field(
        None, description="CSV column of each role: response (binary), value (continuous), time and event (time to "
                          "event), and optionally lot (binary and continuous).")

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

    events: Annotated[list[Annotated[int, Field(ge=0, le=MAX_COUNT), WholeNumber]], Field(min_length=2)] | None = Field(
        None, description="Responders of each lot (binary; at most that lot's n, and adding up to the cohort's "
                          "responders).")
    means: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2)] | None = Field(
        None, description="Mean score of each lot (continuous, with sds).")
    sds: Annotated[list[Positive], Field(min_length=2)] | None = Field(
        None, description="Standard deviation of the scores of each lot (continuous, with means).")
    n: Annotated[list[Annotated[int, Field(ge=1, le=MAX_COUNT), WholeNumber]], Field(min_length=2)] = Field(
        description="Patients of each lot, one entry per lot (binary lots must add up to the cohort's n).")

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

    survival_at: dict[Literal["time", "survival"], Positive] | None = Field(
        None, description="{time: t, survival: s}: exponential curve through S(t) = s, 1e-12 <= s < 1 (t in the "
                          "durations' months).")
    median: Positive | None = Field(None, description="Exponential curve with this median, in months.")
    weibull: dict[Literal["shape", "scale"], Positive] | None = Field(
        None, description="{shape: k, scale: lambda}: S(t) = exp(-(t/lambda)^k), as R's pweibull (scale in months).")
    piecewise_exponential: dict[Literal["breaks", "rates"], list[NonNegative]] | None = Field(
        None, description="{breaks: [b1, ...], rates: [r0, r1, ...]}: hazard per month r0 on [0, b1), r1 on "
                          "[b1, b2), ..., with one more rate than breaks.")

    @model_validator(mode="after")
    def _exactly_one(self) -> ReferenceCurveSpec:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of survival_at, median, weibull or piecewise_exponential")
        if self.survival_at is not None and set(self.survival_at) != {"time", "survival"}:
            raise ValueError("@survival_at: must be {time: t, survival: s} with 0 < s < 1")
        if self.survival_at is not None and not MIN_PROBABILITY <= self.survival_at["survival"] < 1:
            raise ValueError(f"@survival_at.survival: must be >= {MIN_PROBABILITY:g} and < 1; "
                             f"got {self.survival_at['survival']:g}")
        if self.weibull is not None and set(self.weibull) != {"shape", "scale"}:
            raise ValueError("@weibull: must be {shape: k, scale: lambda}")
        if self.piecewise_exponential is not None and set(self.piecewise_exponential) != {"breaks", "rates"}:
            raise ValueError("@piecewise_exponential: must be {breaks: [...], rates: [...]}")
        scale = {"survival_at.time": (self.survival_at or {}).get("time"), "median": self.median,
                 "weibull.scale": (self.weibull or {}).get("scale")}
        for name, value in scale.items():  # as for the endpoint's baseline: tiny time scales overflow the hazards
            if value is not None and value < MIN_MONTHS:
                raise ValueError(f"@{name}: must be >= {MIN_MONTHS:g} months; got {value:g}")
        if self.piecewise_exponential is not None:
            pw = self.piecewise_exponential
            if len(pw["rates"]) != len(pw["breaks"]) + 1:
                raise ValueError("@piecewise_exponential: must be {breaks: [b1, ...], rates: [r0, r1, ...]} with one "
                                 f"more rate than breaks; got {len(pw['breaks'])} breaks and {len(pw['rates'])} rates")
            try:  # the curve's own checks (increasing breaks, a positive rate somewhere...), at validate time
                self.build()
            except DesignError as exc:
                raise ValueError(f"@piecewise_exponential: {exc}") from None
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

    criterion: Literal["posterior_probability"] = Field(
        description="Selects a posterior-probability criterion (binary and continuous cohorts).")
    prior: str = Field(description="Name of the prior under pre_approval.priors that the cohort updates.")
    greater_than: Annotated[float, Field(allow_inf_nan=False)] = Field(
        description="Value the response rate (binary; in [0, 1)) or mean (continuous) must exceed.")
    at_least: OpenProbability = Field(
        description="Passes when the posterior probability of exceeding greater_than is at least this.")


class LowerBoundSpec(_Model):
    """The lower bound of the two-sided interval exceeds ``greater_than`` (``time``: landmark, time to event)."""

    criterion: Literal["lower_bound"] = Field(
        description="Selects a lower-confidence-bound criterion (every endpoint type).")
    greater_than: Annotated[float, Field(allow_inf_nan=False)] = Field(
        description="Passes when the lower bound exceeds this: a response rate or survival at time (both in [0, "
                    "1)), or a mean.")
    confidence_level: OpenProbability = Field(0.95, description="Level of the two-sided confidence interval.")
    method: Literal["clopper-pearson", "wilson", "jeffreys", "mid-p"] = Field(
        "clopper-pearson", description="Binomial interval method (binary cohorts only; a continuous cohort uses the t "
                                       "interval, a time-to-event one the Kaplan-Meier log-log interval).")
    time: Positive | None = Field(
        None, description="Landmark in months at which the Kaplan-Meier survival is bounded; required for a "
                          "time-to-event cohort.")


class ExactTestSpec(_Model):
    """The exact one-sided binomial test of ``p <= p0`` rejects at level ``alpha`` (binary)."""

    criterion: Literal["exact_test"] = Field(description="Selects the exact binomial test (binary cohorts).")
    p0: OpenProbability = Field(description="Response rate of the null hypothesis p <= p0 (e.g. a historical rate).")
    alpha: Alpha = Field(0.025, description="One-sided significance level the p-value must not exceed.")


class TTestSpec(_Model):
    """The one-sided one-sample t test of ``mean <= mu0`` rejects at level ``alpha`` (continuous)."""

    criterion: Literal["t_test"] = Field(description="Selects the one-sample t test (continuous cohorts).")
    mu0: Annotated[float, Field(allow_inf_nan=False)] = Field(
        description="Mean of the null hypothesis mean <= mu0 (e.g. a control's mean).")
    alpha: Alpha = Field(0.025, description="One-sided significance level the p-value must not exceed.")


class OneSampleLogrankSpec(_Model):
    """The one-sample log-rank test against a reference curve rejects at level ``alpha`` (time to event)."""

    criterion: Literal["one_sample_logrank"] = Field(
        description="Selects the one-sample log-rank test (time-to-event cohorts).")
    reference: ReferenceCurveSpec = Field(
        description="Reference (historical) survival curve; the test is one-sided towards fewer events than it "
                    "predicts.")
    alpha: Alpha = Field(0.025, description="One-sided significance level the p-value must not exceed.")
    method: Literal["wu", "standard", "exact"] = Field(
        "wu", description="wu: (O - E)/sqrt((O + E)/2); standard: (O - E)/sqrt(E); exact: O ~ Poisson(E).")


class NewLotPredictionSpec(_Model):
    """The lower prediction bound for a new lot exceeds ``greater_than`` (binary, continuous; needs lots)."""

    criterion: Literal["new_lot_prediction"] = Field(
        description="Selects the new-lot prediction criterion (binary and continuous cohorts with per-lot data).")
    greater_than: Annotated[float, Field(allow_inf_nan=False)] = Field(
        description="Passes when the lower prediction bound for a new lot's rate (back-transformed from log odds; "
                    "in [0, 1)) or mean exceeds this.")
    confidence_level: OpenProbability = Field(0.95, description="Level of the two-sided prediction interval.")
    method: Literal["REML", "DL", "PM", "ML"] = Field(
        "REML", description="Estimator of the between-lot variance tau^2: REML, DerSimonian-Laird, Paule-Mandel or "
                            "maximum likelihood.")
    test: Literal["z", "hartung-knapp"] = Field(
        "hartung-knapp", description="Interval of the random-effects model: normal (z) or Hartung-Knapp (t).")


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

    type: Literal["binary", "continuous", "time_to_event"] = Field(
        description="Endpoint type, which fixes the cohort forms, criteria and priors allowed.")
    name: str = Field("response", description="What is measured (for reports).")
    followup_months: NonNegative = Field(
        0.0, description="Months from treatment until the endpoint was observed (recorded only: no computation "
                         "uses it).")


class PreApproval(_Model):
    """The approval cohort and the declarative evidence criteria for "presumed efficacy"."""

    endpoint: PreApprovalEndpoint = Field(
        description="Type, name and follow-up of the endpoint measured in the approval cohort.")
    cohort: CohortSpec = Field(description="The approval cohort's data, in one of the forms of its endpoint type.")
    lots: LotSummaries | None = Field(
        None, description="Per-lot summaries of at least 2 lots (not with lot labels in the cohort); none means no "
                          "per-lot data unless the cohort has lot labels.")
    priors: dict[str, PriorSpec] = Field(
        default_factory=dict, description="Named priors, of the endpoint's family (none for time to event), used by "
                                          "posterior_probability criteria, their sensitivity rows and posterior "
                                          "scenarios.")
    evidence: Annotated[list[CriterionSpec], Field(min_length=1)] = Field(
        description="The criteria, at least one; the verdict is efficacy presumed when all pass.")

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
        if (self.cohort.durations is not None and self.cohort.events is not None
                and len(self.cohort.durations) != len(self.cohort.events)):
            problems.append(f"@cohort.events: must have one entry per duration ({len(self.cohort.durations)}); "
                            f"got {len(self.cohort.events)}")
        if self.lots is not None:
            lot_kind = "binary" if self.lots.events is not None else "continuous"
            if lot_kind != kind:
                problems.append(f"@lots: {lot_kind} lot summaries do not fit a {kind} endpoint")
            if self.cohort.lots is not None:
                problems.append("@lots: give lots either as summaries here or as labels in the cohort, not both")
            elif self.cohort.responses is not None or self.cohort.values is not None or self.cohort.data is not None:
                problems.append("@lots: lot summaries go with a summary cohort ({responders, n} or {mean, sd, n}); "
                                "with patient-level data give each patient's lot in the cohort (lots: [...], or a "
                                "lot column) instead")
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
            if isinstance(c, LowerBoundSpec) and kind != "time_to_event" and c.time is not None:
                problems.append(f"@evidence.{i}.time: a landmark applies to a time-to-event cohort only; remove it "
                                f"for a {kind} cohort (got {c.time:g})")
            bounded = kind == "binary" or (kind == "time_to_event" and isinstance(c, LowerBoundSpec))
            if (bounded and isinstance(c, PosteriorProbabilitySpec | LowerBoundSpec | NewLotPredictionSpec)
                    and not 0.0 <= c.greater_than < 1.0):
                what = "response rate" if kind == "binary" else "survival probability"
                problems.append(f"@evidence.{i}.greater_than: must be in [0, 1), a {what} (a bound of 1 or more "
                                f"never passes, one below 0 always does); got {c.greater_than:g}")
            if isinstance(c, NewLotPredictionSpec) and not has_lots:
                problems.append(f"@evidence.{i}: new_lot_prediction needs per-lot data (pre_approval.lots, or lot "
                                "labels in the cohort)")
        if not problems:
            problems = self._data_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _data_problems(self) -> list[str]:
        """What the estimators cannot use in a structurally valid cohort (checked once its data are inline)."""
        c, kind = self.cohort, self.endpoint.type
        if c.data is not None and c.responses is None and c.values is None and c.durations is None:
            return []  # a CSV not read yet: the loader checks its data through this model once it has read them
        problems: list[str] = []
        lot_criteria = [i for i, e in enumerate(self.evidence) if isinstance(e, NewLotPredictionSpec)]
        if kind == "continuous" and c.n is not None and c.n < 2:
            problems.append(f"@cohort.n: must be >= 2 for a continuous cohort (an SD needs two patients); got {c.n}")
        if c.values is not None:
            import numpy as np  # here, not at module level: validating a design need not load numpy

            v = np.asarray(c.values, dtype=np.float64)
            with np.errstate(over="ignore", invalid="ignore"):
                mean, sd = float(v.mean()), float(v.std(ddof=1))
            if not (math.isfinite(mean) and math.isfinite(sd)):
                problems.append(f"@cohort.values: too large to summarise (the mean or SD overflows); got values up "
                                f"to {float(np.abs(v).max()):g}; rescale them")
            elif sd == 0:
                problems.append(f"@cohort.values: must not all be equal (the SD would be 0); got {v.size} values of "
                                f"{v[0]:g}")
        if c.lots is not None:
            labels = list(dict.fromkeys(c.lots))
            if kind == "continuous" and c.values is not None:
                by_lot: dict[str, list[float]] = {lab: [] for lab in labels}
                for x, lab in zip(c.values, c.lots):
                    by_lot[lab].append(x)
                small = [lab for lab, xs in by_lot.items() if len(xs) < 2]
                if small:
                    problems.append(f"@cohort.lots: every lot needs at least 2 patients (for its SD); lot "
                                    f"{small[0]!r} has 1")
                elif lot_criteria:
                    flat = [lab for lab, xs in by_lot.items() if min(xs) == max(xs)]
                    if flat:
                        problems.append(f"@cohort.lots: the values of lot {flat[0]!r} are all equal (its SD is 0), "
                                        f"which new_lot_prediction cannot weigh")
            if lot_criteria and len(labels) < 2:
                problems.append(f"@evidence.{lot_criteria[0]}: new_lot_prediction needs at least 2 lots; got "
                                f"{len(labels)} (the cohort's distinct lot labels)")
        lots = self.lots
        if (lots is not None and lots.events is not None and c.n is not None and c.responders is not None
                and (sum(lots.n) != c.n or sum(lots.events) != c.responders)):
            problems.append(f"@lots: the lots must add up to the cohort ({c.responders}/{c.n}); got "
                                f"{sum(lots.events)}/{sum(lots.n)}")
        if lots is not None and lots.sds is not None:
            small_lots = [i for i, n_i in enumerate(lots.n) if n_i < 2]
            if small_lots:  # (heterogeneity.means refuses them when estimate runs: say so when the file is validated)
                problems.append(f"@lots.n.{small_lots[0]}: must be >= 2 for a continuous lot (its SD needs two "
                                f"patients); got {lots.n[small_lots[0]]}")
            for i, (sd_i, n_i) in enumerate(zip(lots.sds, lots.n)):
                if not sd_i * sd_i / n_i > 0:
                    problems.append(f"@lots.sds.{i}: too small: its sampling variance sd^2/n is 0 in floating point; "
                                    f"got {sd_i:g}")
        if c.durations is not None and not any(d > 0 for d in c.durations):
            problems.append("@cohort.durations: at least one must be > 0; got all 0")
        elif c.durations is not None:
            import numpy as np

            for i, e in enumerate(self.evidence):  # E = sum of the reference's cumulative hazard at the durations
                if isinstance(e, OneSampleLogrankSpec):
                    curve, text = e.reference.build()
                    with np.errstate(all="ignore"):
                        expected = float(np.sum(curve.cumulative_hazard(np.asarray(c.durations, dtype=np.float64))))
                    if not 0 < expected < math.inf:
                        problems.append(f"@evidence.{i}.reference: the cohort's expected number of events under it "
                                        f"({text}) is {expected:g} in floating point: no test is possible")
        if not problems:
            try:
                self.build_cohort()
            except DesignError as exc:  # a net under the checks above: what the estimators would refuse
                problems.append(f"@cohort: {exc.problem.message}")
        return problems

    def build_cohort(self) -> Any:
        """The cohort as a :mod:`condapprove.cohorts` object (CSV data must have been inlined by the loader)."""
        from .. import cohorts

        c, kind = self.cohort, self.endpoint.type
        if c.data is not None and c.responses is None and c.values is None and c.durations is None:
            raise ValueError("the cohort's CSV data have not been read; load the design with load_design")
        lots = self.lots
        if kind == "binary":
            if c.responses is not None:
                x, n = sum(c.responses), len(c.responses)
                lot_events = lot_n = None
                if c.lots is not None:  # per lot, in the order the lots first appear
                    counts: dict[str, list[int]] = {}
                    for r, lab in zip(c.responses, c.lots):
                        tally = counts.setdefault(lab, [0, 0])
                        tally[0] += r
                        tally[1] += 1
                    lot_events = tuple(t[0] for t in counts.values())
                    lot_n = tuple(t[1] for t in counts.values())
                return cohorts.BinaryCohort(responders=x, n=n, lot_events=lot_events, lot_n=lot_n)
            assert c.responders is not None and c.n is not None
            return cohorts.BinaryCohort(responders=c.responders, n=c.n,
                                        lot_events=tuple(lots.events) if lots and lots.events else None,
                                        lot_n=tuple(lots.n) if lots else None)
        if kind == "continuous":
            if c.values is not None:
                return cohorts.ContinuousCohort.from_values(c.values, c.lots)
            assert c.mean is not None and c.sd is not None and c.n is not None
            return cohorts.ContinuousCohort(
                mean=c.mean, sd=c.sd, n=c.n,
                lot_means=tuple(lots.means) if lots and lots.means else None,
                lot_sds=tuple(lots.sds) if lots and lots.sds else None,
                lot_n=tuple(lots.n) if lots else None)
        assert c.durations is not None and c.events is not None
        return cohorts.TimeToEventCohort(durations=tuple(c.durations), events=tuple(c.events))

    def criteria(self) -> list[Any]:
        """The criteria as :mod:`condapprove.evidence` objects."""
        from .. import evidence as ev

        out: list[Any] = []
        for c in self.evidence:
            if isinstance(c, PosteriorProbabilitySpec):
                out.append(ev.PosteriorProbability(prior=c.prior, greater_than=c.greater_than, at_least=c.at_least))
            elif isinstance(c, LowerBoundSpec):
                binary = self.endpoint.type == "binary"
                out.append(ev.LowerBound(greater_than=c.greater_than, confidence_level=c.confidence_level,
                                         method=c.method if binary else None, time=c.time))
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
