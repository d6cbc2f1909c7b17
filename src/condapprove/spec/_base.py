"""Shared pieces of the design models: the frozen base class and constrained number types."""

from __future__ import annotations

import datetime as _dt
import re
import sys
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from .._validation import MIN_ALPHA

#: Shortest time scale (months) of an event-time curve: shorter ones over- or underflow the hazards.
MIN_MONTHS = 1e-3

__all__ = ["MAX_COUNT", "MAX_TIME_LIMIT_YEARS", "MIN_ALPHA", "MIN_MONTHS", "MIN_PROBABILITY", "Alpha", "Date", "LossProbability", "Model", "NonNegative", "OpenProbability", "PairOf", "Positive", "Probability", "WholeNumber"]

#: PMD Act Art. 23-26: the time limit of a conditional approval is at most 7 years.
MAX_TIME_LIMIT_YEARS = 7.0

#: Most patients or events a count of a design may give (looks, targets, a cohort and its lots): beyond any study,
#: and well within the engine's 64-bit integers (an event target of 10^20 passed validation and then overflowed in
#: the compiled simulation).
MAX_COUNT = 10_000_000

#: Smallest non-zero probability accepted: smaller ones (1e-308) underflow in the binomial functions, and no
#: study could tell them from 0.
MIN_PROBABILITY = 1e-12


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
#: A probability of losing a patient (dropout, never treated): in [0, 1), 0 or not tiny.
LossProbability = Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False), AfterValidator(_zero_or_not_tiny)]
#: A one-sided significance level.
Alpha = Annotated[float, Field(ge=MIN_ALPHA, lt=0.5, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


def _whole_number(x: Any) -> Any:
    """A whole float (60.0, as JSON Schema's integer allows) or a numpy integer as an int; anything else as is."""
    if type(x) is float and x.is_integer():
        return int(x)
    np = sys.modules.get("numpy")  # a numpy integer exists only if numpy is loaded: no import (start-up time)
    if np is not None and isinstance(x, np.integer):
        return int(x)
    return x


def _iso_date(x: Any) -> Any:
    """Text YYYY-MM-DD (quoted in YAML, or from JSON) as a date; anything else as is (the strict date refuses
    numbers, which lax validation would read as Unix times)."""
    if isinstance(x, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", x):
        try:
            return _dt.date.fromisoformat(x)
        except ValueError:
            return x
    return x


def _list_as_tuple(x: Any) -> Any:
    return tuple(x) if isinstance(x, list) else x


#: Put last in ``Annotated[int, Field(...), WholeNumber]``: whole floats (60.0, which JSON Schema counts as
#: integers) and numpy integers are read as ints; booleans and text stay refused.  (Last, so that the bounds
#: stay the integer's and reach the JSON Schema.)
WholeNumber = BeforeValidator(_whole_number)
#: A date: a YAML date or YYYY-MM-DD text; numbers refused.
Date = Annotated[_dt.date, BeforeValidator(_iso_date)]
#: A pair written as a YAML list ``[a, b]``.
PairOf = BeforeValidator(_list_as_tuple)


class Model(BaseModel):
    """Base of the design models: frozen, unknown keys forbidden.

    Validation is strict, as the JSON Schema (``condapprove schema``) is: a boolean or quoted text is not a
    number, a number is not a boolean or a date; integers are accepted where a float is expected.

    Cross-field validators report problems as lines ``@rel.path: message`` (joined by
    newlines) so the loader can point at the offending field, not the parent section.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)


