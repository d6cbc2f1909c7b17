"""Helpers shared by the estimation modules (private).

One place for the rules that :mod:`~condapprove.estimate.continuous`,
:mod:`~condapprove.estimate.proportions`, :mod:`~condapprove.estimate.external` and
:mod:`~condapprove.estimate.bayes` all apply: which alternatives exist, how counts are checked,
how a p-value follows from the tails for each alternative, and how a location-scale interval is
sided.  scipy is not imported here (the callers pass the distribution's functions), so that
importing :mod:`~condapprove.estimate.external` stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, SupportsFloat, cast

from .._typing import Alternative
from .._validation import check_int, check_one_of
from ..results import ConfidenceInterval

__all__ = [
    "ALTERNATIVES",
    "check_alternative",
    "check_counts",
    "location_scale_interval",
    "pvalue_from_statistic",
    "pvalue_from_tails",
]

ALTERNATIVES: tuple[Alternative, ...] = ("two-sided", "less", "greater")


def check_alternative(value: Any) -> Alternative:
    """Return ``value`` if it is ``'two-sided'``, ``'less'`` or ``'greater'``, or raise DesignError."""
    return cast(Alternative, check_one_of(value, "alternative", ALTERNATIVES))


def check_counts(x: Any, n: Any, *, suffix: str = "", n_minimum: int = 1) -> tuple[int, int]:
    """Return ``(x, n)`` as ints with ``n >= n_minimum`` and ``0 <= x <= n`` (``n`` checked first).

    ``suffix`` is appended to the names in messages (``x1``, ``n1``).
    """
    size = check_int(n, f"n{suffix}", minimum=n_minimum)
    return check_int(x, f"x{suffix}", minimum=0, maximum=size), size


def pvalue_from_tails(lower: float, upper: float, alternative: str) -> float:
    """p-value from the lower tail ``P(T <= t)`` and the upper tail ``P(T >= t)``.

    ``'less'`` gives the lower tail, ``'greater'`` the upper tail and ``'two-sided'`` twice the
    smaller tail, capped at 1.
    """
    if alternative == "less":
        return lower
    if alternative == "greater":
        return upper
    return min(1.0, 2.0 * min(lower, upper))


def pvalue_from_statistic(statistic: float, alternative: str, sf: Callable[[float], SupportsFloat]) -> float:
    """p-value of ``statistic`` whose null distribution is symmetric about 0 with survival function ``sf``.

    The lower tail is ``sf(-statistic)`` and the upper tail ``sf(statistic)``; see
    :func:`pvalue_from_tails`.
    """
    return pvalue_from_tails(float(sf(-statistic)), float(sf(statistic)), alternative)


def location_scale_interval(
    estimate: float, se: float, level: float, alternative: str, quantile: Callable[[float], SupportsFloat]
) -> ConfidenceInterval:
    """``estimate -/+ q se`` with ``q`` a quantile of a distribution symmetric about 0.

    Two-sided: ``q = quantile(1/2 + level/2)`` on both sides; one-sided: ``q = quantile(level)`` with
    an infinite bound on the open side (``'greater'`` gives ``(low, inf)``, ``'less'`` ``(-inf, high)``).
    """
    if alternative == "two-sided":
        q = float(quantile(0.5 + level / 2))
        return ConfidenceInterval(estimate - q * se, estimate + q * se)
    q = float(quantile(level))
    if alternative == "greater":
        return ConfidenceInterval(estimate - q * se, math.inf)
    return ConfidenceInterval(-math.inf, estimate + q * se)
