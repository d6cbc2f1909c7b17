"""Enrolment processes in calendar time (months from approval).

The one process so far is a Poisson process whose rate rises linearly from 0 at
``start`` to ``rate`` at ``start + ramp_up`` and then stays constant.  Arrival times
are drawn exactly, vectorised over replicates, by mapping the arrival times of a
unit-rate Poisson process (cumulative sums of standard exponentials) through the
inverse of the cumulative intensity :math:`\\Lambda(t)`.

Independent thinning splits a Poisson process with probability ``keep`` into two
independent Poisson processes with intensities ``keep * lambda`` and
``(1 - keep) * lambda``: patients who will reach their endpoint, and patients who drop out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._typing import FloatArray
from ._validation import check_positive

__all__ = ["RampedPoissonAccrual"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RampedPoissonAccrual:
    """Poisson enrolment with a linear ramp-up.

    Parameters
    ----------
    rate : float
        Patients per month once ramped up (> 0).
    ramp_up : float
        Months over which the rate rises linearly from 0 (>= 0; 0 means no ramp-up).
    start : float
        Month (after approval) at which enrolment opens (>= 0).

    Notes
    -----
    The intensity is :math:`\\lambda(t) = r \\min\\{1, (t-s)/R\\}` for :math:`t \\ge s`, so
    the expected number enrolled by month :math:`t` is
    :math:`\\Lambda(t) = r u^2 / (2R)` for :math:`u = t - s \\le R` and
    :math:`r (u - R/2)` for :math:`u > R`.

    Examples
    --------
    >>> from condapprove.accrual import RampedPoissonAccrual
    >>> acc = RampedPoissonAccrual(rate=2.0, ramp_up=12.0)
    >>> float(acc.expected(12.0)), float(acc.expected(24.0))
    (12.0, 36.0)
    >>> float(acc.inverse(acc.expected(30.0)))
    30.0
    """

    rate: float
    ramp_up: float = 0.0
    start: float = 0.0

    def __post_init__(self) -> None:
        check_positive(self.rate, "rate")
        check_positive(self.ramp_up, "ramp_up", allow_zero=True)
        check_positive(self.start, "start", allow_zero=True)

    def expected(self, t: FloatArray | float) -> FloatArray:
        """Expected number of arrivals by month ``t``, :math:`\\Lambda(t)`."""
        u = np.maximum(np.asarray(t, dtype=np.float64) - self.start, 0.0)
        r, ramp = self.rate, self.ramp_up
        if ramp == 0.0:
            return r * u
        return np.where(u <= ramp, r * u * u / (2.0 * ramp), r * (u - ramp / 2.0))

    def inverse(self, lam: FloatArray | float) -> FloatArray:
        """The month by which ``lam`` arrivals are expected, :math:`\\Lambda^{-1}`."""
        lam = np.asarray(lam, dtype=np.float64)
        r, ramp = self.rate, self.ramp_up
        if ramp == 0.0:
            return self.start + lam / r
        knee = r * ramp / 2.0
        u = np.where(lam <= knee, np.sqrt(2.0 * ramp * np.minimum(lam, knee) / r), lam / r + ramp / 2.0)
        return self.start + u

    def first_arrivals(self, rng: np.random.Generator, size: int, k: int, *, keep: float = 1.0) -> FloatArray:
        """Times of the first ``k`` arrivals of the thinned process, for ``size`` replicates.

        Parameters
        ----------
        rng : numpy.random.Generator
            The stream to draw from.
        size : int
            Number of replicates (rows).
        k : int
            Number of arrivals per replicate (columns), in increasing order.
        keep : float
            Thinning probability in (0, 1]: arrivals of the process with intensity
            ``keep * lambda(t)``.

        Returns
        -------
        ndarray of shape (size, k)
            Arrival months, sorted within each row.
        """
        e = rng.standard_exponential((size, k))
        np.cumsum(e, axis=1, out=e)
        if keep != 1.0:
            e /= keep
        return self.inverse(e)
