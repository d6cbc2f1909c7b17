"""Shared pieces of the design models: the frozen base class and constrained number types."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = ["MAX_TIME_LIMIT_YEARS", "MIN_ALPHA", "MIN_PROBABILITY", "Alpha", "Model", "NonNegative", "OpenProbability", "Positive", "Probability"]

#: PMD Act Art. 23-26: the time limit of a conditional approval is at most 7 years.
MAX_TIME_LIMIT_YEARS = 7.0

#: Smallest non-zero probability accepted: smaller ones (1e-308) underflow in the binomial functions, and no
#: study could tell them from 0.
MIN_PROBABILITY = 1e-12

#: Smallest significance level accepted (spending bounds for smaller ones do not converge).
MIN_ALPHA = 1e-6


def _zero_or_not_tiny(x: float) -> float:
    if 0.0 < x < MIN_PROBABILITY:
        raise ValueError(f"must be 0 or >= {MIN_PROBABILITY:g} (a smaller probability underflows; write 0); got {x:g}")
    return x


def _not_tiny(x: float) -> float:
    if x < MIN_PROBABILITY:
        raise ValueError(f"must be >= {MIN_PROBABILITY:g} (a smaller probability underflows); got {x:g}")
    return x


Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False), AfterValidator(_zero_or_not_tiny)]
OpenProbability = Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False), AfterValidator(_not_tiny)]
#: A one-sided significance level.
Alpha = Annotated[float, Field(ge=MIN_ALPHA, lt=0.5, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class Model(BaseModel):
    """Base of the design models: frozen, unknown keys forbidden.

    Cross-field validators report problems as lines ``@rel.path: message`` (joined by
    newlines) so the loader can point at the offending field, not the parent section.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


