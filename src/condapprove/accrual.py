"""Enrolment processes in calendar time (months from approval).

:class:`PoissonAccrual` is a Poisson process whose rate rises linearly from 0 at
``start`` to ``rate`` at ``start + ramp_up`` and then changes at the given months
(``changes``), e.g. as sites are activated or closed.  The intensity is piecewise linear,
so the cumulative intensity :math:`\\Lambda(t)` is piecewise quadratic and is inverted
exactly.  Arrival times are drawn, vectorised over replicates, by mapping the arrival
times of a unit-rate Poisson process (cumulative sums of standard exponentials) through
:math:`\\Lambda^{-1}`.

Independent thinning splits a Poisson process with probability ``keep`` into two
independent Poisson processes with intensities ``keep * lambda`` and
``(1 - keep) * lambda``: patients who will reach their endpoint, and patients who drop out.

A manufacturing capacity of ``c`` treatments a month turns arrival times :math:`a_j`
into treatment times :math:`e_j = \\max(a_j, e_{j-1} + 1/c)` (first come, first
served), computed as :math:`e_j = j/c + \\max_{i \\le j}(a_i - i/c)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._typing import FloatArray
from ._validation import check_finite, check_positive
from .errors import DesignError

#: Arrays of at least this many values are computed in a compiled pass (a chunk's rows: the simulation has numba
#: loaded already); shorter ones, and every call of a command that does not simulate, in numpy passes.
_COMPILED_FROM = 512

__all__ = ["PoissonAccrual", "RampedPoissonAccrual", "apply_capacity"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PoissonAccrual:
    """Poisson enrolment with a linear ramp-up and later rate changes.

    Parameters
    ----------
    rate : float
        Patients per month once ramped up (> 0).
    ramp_up : float
        Months over which the rate rises linearly from 0 (>= 0; 0 means no ramp-up).
    start : float
        Month (after approval) at which enrolment opens (>= 0).
    changes : sequence of (month, rate)
        From each ``month`` (increasing, after ``start``) the full rate becomes ``rate``
        (>= 0); during the ramp-up the ramp factor still applies.

    Notes
    -----
    The intensity is :math:`\\lambda(t) = r(t) \\min\\{1, (t-s)/R\\}` for :math:`t \\ge s`
    with :math:`r(t)` piecewise constant, so without changes the expected number enrolled
    by month :math:`t` is :math:`r u^2 / (2R)` for :math:`u = t - s \\le R` and
    :math:`r (u - R/2)` after.  If the last rate is 0, arrivals beyond the total expected
    number never happen (time ``inf``).

    Examples
    --------
    >>> from condapprove.accrual import PoissonAccrual
    >>> acc = PoissonAccrual(rate=2.0, ramp_up=12.0)
    >>> float(acc.expected(12.0)), float(acc.expected(24.0))
    (12.0, 36.0)
    >>> float(acc.inverse(acc.expected(30.0)))
    30.0
    >>> later = PoissonAccrual(rate=2.0, changes=((12.0, 0.5),))
    >>> float(later.expected(20.0))
    28.0
    """

    rate: float
    ramp_up: float = 0.0
    start: float = 0.0
    changes: tuple[tuple[float, float], ...] = ()
    _knots: FloatArray = field(init=False, repr=False, compare=False)
    _slope: FloatArray = field(init=False, repr=False, compare=False)
    _level: FloatArray = field(init=False, repr=False, compare=False)
    _cum: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_positive(self.rate, "rate")
        check_positive(self.ramp_up, "ramp_up", allow_zero=True)
        check_positive(self.start, "start", allow_zero=True)
        months = [check_finite(m, "changes month") for m, _ in self.changes]
        if months != sorted(set(months)) or (months and months[0] <= self.start):
            raise DesignError(f"`changes` months must increase and follow `start` ({self.start:g}); got {months}.")
        for _, r in self.changes:
            check_positive(r, "changes rate", allow_zero=True)
        # Knots of the piecewise-linear intensity and, on each segment [k_i, k_{i+1}), its value at
        # k_i (level) and slope; cum = Lambda(k_i).
        knots = sorted({self.start, self.start + self.ramp_up, *months})
        rates = [self._full_rate(k) for k in knots]
        ramp = [self._ramp(k) for k in knots]
        level = np.array([r * f for r, f in zip(rates, ramp)], dtype=np.float64)
        slope = np.array([r / self.ramp_up if self.ramp_up > 0 and k < self.start + self.ramp_up else 0.0
                          for r, k in zip(rates, knots)], dtype=np.float64)
        # The rise of the intensity over each segment, r * (ramp(k_{i+1}) - ramp(k_i)), computed directly rather than
        # as slope * width: a ramp-up of 1e-308 months has an infinite slope but a finite rise.
        rise = np.array([r * (self._ramp(k1) - f) for r, f, k1 in zip(rates[:-1], ramp[:-1], knots[1:])],
                        dtype=np.float64)
        k = np.array(knots, dtype=np.float64)
        widths = np.diff(k)
        cum = np.concatenate([[0.0], np.cumsum(level[:-1] * widths + 0.5 * rise * widths)])
        object.__setattr__(self, "_knots", k)
        object.__setattr__(self, "_slope", slope)
        object.__setattr__(self, "_level", level)
        object.__setattr__(self, "_cum", cum)

    @property
    def monotone_arrivals(self) -> bool:
        """Whether each row of :meth:`first_arrivals` is nondecreasing in floating point too, not only in exact
        arithmetic: at a constant rate from the start (no ramp-up, no rate changes) the months are one monotone
        formula of running sums of non-negative draws; the segments of a ramp-up or a rate change may round an
        arrival a unit in the last place below the one before."""
        return bool(self._knots.size == 1)

    def _full_rate(self, t: float) -> float:
        r = self.rate
        for m, new in self.changes:
            if t >= m:
                r = float(new)
        return r

    def _ramp(self, t: float) -> float:
        if self.ramp_up == 0 or t >= self.start + self.ramp_up:
            return 1.0
        return min(1.0, max(0.0, (t - self.start) / self.ramp_up))

    def expected(self, t: FloatArray | float) -> FloatArray:
        """Expected number of arrivals by month ``t``, :math:`\\Lambda(t)`."""
        t = np.asarray(t, dtype=np.float64)
        if t.size >= _COMPILED_FROM:  # a chunk's rows: one compiled pass, the same numbers (``_jit.expected_counts``)
            from ._jit import expected_counts

            flat = np.ascontiguousarray(t).reshape(-1)
            out = np.empty(flat.size)
            expected_counts(flat, self._knots, self._cum, self._level, self._slope, float(self.start), out)
            return out.reshape(t.shape)
        return self._expected(t)

    def _expected(self, t: FloatArray) -> FloatArray:
        """:meth:`expected` in numpy passes (short arrays, without numba)."""
        if self._knots.size == 1:  # constant rate from the start: the general formula's one segment, in fewer passes
            out = np.maximum(t - self._knots[0], 0.0)
            out *= self._level[0]  # (cum 0 + level u + a ramp of 0: the same numbers)
            return np.where(t <= self.start, 0.0, out)
        i = np.clip(np.searchsorted(self._knots, t, side="right") - 1, 0, None)
        u = np.maximum(t - self._knots[i], 0.0)
        level = self._level[i]
        with np.errstate(invalid="ignore"):  # inf * 0 inside a ramp-up of (nearly) zero length: no time passes
            ramp = np.nan_to_num(0.5 * self._slope[i] * u * u, nan=0.0)
            # after a last rate of 0 nobody arrives, not even in infinite time (0 * inf)
            flow = np.where((level == 0.0) & (u == np.inf), 0.0, level * u)
        out = self._cum[i] + flow + ramp
        return np.where(t <= self.start, 0.0, out)

    def inverse(self, lam: FloatArray | float, out: FloatArray | None = None) -> FloatArray:
        """The month by which ``lam`` arrivals are expected, :math:`\\Lambda^{-1}(\\lambda) = \\inf\\{t \\ge s:
        \\Lambda(t) \\ge \\lambda\\}` (inf if never; the start ``s`` for ``lam <= 0``); written into ``out`` when given
        (which may be ``lam`` itself: a constant rate is then inverted in place)."""
        lam = np.asarray(lam, dtype=np.float64)
        if self._knots.size > 1 and lam.size >= _COMPILED_FROM:  # a chunk's rows, compiled (``_jit.inverse_row``)
            from ._jit import inverse_row

            flat = np.ascontiguousarray(lam).reshape(-1)
            months = np.empty(flat.size)  # (not ``out``, which may be ``lam``: the compiled passes read it again)
            inverse_row(flat, months, self._knots, self._cum, self._level, self._slope)
            if out is None:
                return months.reshape(lam.shape)
            out[...] = months.reshape(lam.shape)
            return out
        return self._inverse(lam, out)

    def _inverse(self, lam: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """:meth:`inverse` in numpy passes (short arrays, without numba)."""
        if self._knots.size == 1:  # constant rate from the start: the common case, no segments to find
            months = np.asarray(np.divide(lam, self._level[0], out=out))
            np.maximum(months, 0.0, out=months)  # no earlier than the start (a count <= 0; NaN stays NaN)
            return np.asarray(np.add(self.start, months, out=months))
        i = np.clip(np.searchsorted(self._cum, lam, side="right") - 1, 0, None)
        rest = np.maximum(lam - self._cum[i], 0.0)
        a, b = self._level[i], self._slope[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            # the stable root of the quadratic; where a subnormal ``rest`` at the foot of a ramp-up makes 2 b rest
            # underflow to 0 (so the root's denominator is 0), its value there, sqrt(2 rest / b)
            root = a + np.sqrt(a * a + 2.0 * b * rest)
            quad = np.where(b > 0, np.where(root > 0, 2.0 * rest / root, np.sqrt(2.0 * rest / b)), rest / a)
        u = np.where(rest == 0, 0.0, np.where((a == 0) & (b == 0), np.inf, quad))
        if out is None:
            return self._knots[i] + u
        return np.add(self._knots[i], u, out=out)

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
            Arrival months, sorted within each row (``inf`` for arrivals that never happen).
        """
        if not 0.0 < keep <= 1.0:  # (NaN too: every time inf or 0, silently; above 1, times too early)
            raise DesignError(f"`keep` must be a probability in (0, 1]; got {keep!r}.")
        from ._draw_jit import draw
        from ._jit import arrival_months

        gaps = draw(rng, "standard_exponential", (k, size))  # patient-major: patient j's draw does not depend on k
        # running sums down the patients, thinning and the inverse in one compiled pass (the numbers of cumsum_rows,
        # ``/ keep`` and inverse() one after another)
        arrival_months(gaps, float(keep), self._knots, self._cum, self._level, self._slope)
        return gaps.T


def RampedPoissonAccrual(*, rate: float, ramp_up: float = 0.0, start: float = 0.0) -> PoissonAccrual:
    """A :class:`PoissonAccrual` without rate changes (kept for readability of simple designs)."""
    return PoissonAccrual(rate=rate, ramp_up=ramp_up, start=start)


def apply_capacity(arrivals: FloatArray, capacity_per_month: float) -> FloatArray:
    """Treatment times under a capacity of ``capacity_per_month`` (first come, first served).

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.accrual import apply_capacity
    >>> apply_capacity(np.array([[0.0, 0.1, 0.2, 5.0]]), 2.0)
    array([[0. , 0.5, 1. , 5. ]])
    """
    gap = 1.0 / check_positive(capacity_per_month, "capacity_per_month")
    arrivals = np.asarray(arrivals)
    if arrivals.ndim == 2 and arrivals.dtype == np.float64 and arrivals.T.flags.c_contiguous and arrivals.size:
        # the engine's patient-major arrivals (a transposed view): one compiled pass down the patients, the same
        # numbers, in the same layout
        from ._jit import capacity_rows

        out = np.empty(arrivals.T.shape)
        capacity_rows(arrivals.T, gap, out)
        return out.T
    j = np.arange(arrivals.shape[-1], dtype=np.float64) * gap
    return np.maximum.accumulate(arrivals - j, axis=-1) + j


