"""The approval cohorts that :mod:`condapprove.evidence` evaluates: binary, continuous and time to event.

Their own module, importing neither numpy nor scipy (numpy is imported by :meth:`ContinuousCohort.from_values`
only), so that checking a design's cohort -- which builds it, to run these constructors' checks -- keeps
``condapprove validate`` quick.  :mod:`condapprove.evidence` re-exports them.

:class:`BinaryCohort`
    responders of n patients, optionally split by manufacturing lot.
:class:`ContinuousCohort`
    mean, SD and n of a change score (from data or published summaries), optionally per lot.
:class:`TimeToEventCohort`
    durations and event indicators.

Examples
--------
>>> from condapprove.cohorts import BinaryCohort
>>> BinaryCohort(responders=5, n=7).describe()
'5/7 responders (observed rate 0.714)'
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from ._validation import check_int
from .errors import DesignError

__all__ = ["BinaryCohort", "Cohort", "ContinuousCohort", "TimeToEventCohort"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BinaryCohort:
    """Responders among ``n`` patients; ``lot_events``/``lot_n`` split them by lot (optional)."""

    responders: int
    n: int
    lot_events: tuple[int, ...] | None = None
    lot_n: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        n = check_int(self.n, "n", minimum=1)
        check_int(self.responders, "responders", minimum=0, maximum=n)
        if (self.lot_events is None) != (self.lot_n is None):
            raise DesignError("`lot_events` and `lot_n` must be given together; got only one.")
        if self.lot_n is not None and self.lot_events is not None:
            if len(self.lot_n) != len(self.lot_events):
                raise DesignError(f"`lot_events` must have one entry per lot ({len(self.lot_n)}); "
                                  f"got {len(self.lot_events)}.")
            if sum(self.lot_n) != n or sum(self.lot_events) != self.responders:
                raise DesignError(f"the lots must add up to the cohort ({self.responders}/{n}); got "
                                  f"{sum(self.lot_events)}/{sum(self.lot_n)}.")

    @property
    def estimate(self) -> float:
        return self.responders / self.n

    def describe(self) -> str:
        lots = f" in {len(self.lot_n)} lots" if self.lot_n else ""
        return f"{self.responders}/{self.n} responders{lots} (observed rate {self.estimate:.3f})"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ContinuousCohort:
    """Mean, SD and size of a continuous (change) score; optional per-lot means, SDs and sizes."""

    mean: float
    sd: float
    n: int
    lot_means: tuple[float, ...] | None = None
    lot_sds: tuple[float, ...] | None = None
    lot_n: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_int(self.n, "n", minimum=2)
        if not (math.isfinite(self.mean) and math.isfinite(self.sd) and self.sd > 0):
            raise DesignError(f"`sd` must be a finite number > 0 and `mean` finite; got mean={self.mean!r}, "
                              f"sd={self.sd!r}.")
        lots = (self.lot_means, self.lot_sds, self.lot_n)
        if any(x is not None for x in lots) and not all(x is not None and len(x) == len(lots[0] or ()) for x in lots):
            raise DesignError("`lot_means`, `lot_sds` and `lot_n` must be given together, one entry per lot.")

    @classmethod
    def from_values(cls, values: Sequence[float], lots: Sequence[str] | None = None) -> ContinuousCohort:
        """Summarise patient-level values (and their lot labels)."""
        import numpy as np

        v = np.asarray(values, dtype=np.float64)
        kw: dict[str, Any] = {}
        if lots is not None:
            if len(lots) != v.size:
                raise DesignError(f"`lots` must have one label per value ({v.size}); got {len(lots)}.")
            labels = list(dict.fromkeys(lots))
            groups = [v[np.asarray(lots) == lab] for lab in labels]
            if any(g.size < 2 for g in groups):
                raise DesignError("every lot needs at least 2 patients for a per-lot SD; got a lot with 1.")
            kw = {"lot_means": tuple(float(g.mean()) for g in groups),
                  "lot_sds": tuple(float(g.std(ddof=1)) for g in groups),
                  "lot_n": tuple(int(g.size) for g in groups)}
        return cls(mean=float(v.mean()), sd=float(v.std(ddof=1)) if v.size > 1 else math.nan, n=int(v.size), **kw)

    @property
    def estimate(self) -> float:
        return self.mean

    def describe(self) -> str:
        return f"mean {self.mean:.4g} (SD {self.sd:.4g}, n = {self.n})"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TimeToEventCohort:
    """Durations (months) and event indicators (1 = event, 0 = censored)."""

    durations: tuple[float, ...]
    events: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.durations) != len(self.events) or not self.durations:
            raise DesignError(f"`events` must have one entry per duration ({len(self.durations)}); "
                              f"got {len(self.events)}.")

    @property
    def n(self) -> int:
        return len(self.durations)

    def describe(self) -> str:
        return f"{self.n} patients, {sum(self.events)} events"


Cohort = BinaryCohort | ContinuousCohort | TimeToEventCohort
