"""Shared pieces of the design models: the frozen base class and constrained number types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MAX_TIME_LIMIT_YEARS", "Model", "NonNegative", "OpenProbability", "Positive", "Probability"]

#: PMD Act Art. 23-26: the time limit of a conditional approval is at most 7 years.
MAX_TIME_LIMIT_YEARS = 7.0

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
OpenProbability = Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class Model(BaseModel):
    """Base of the design models: frozen, unknown keys forbidden.

    Cross-field validators report problems as lines ``@rel.path: message`` (joined by
    newlines) so the loader can point at the offending field, not the parent section.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


