"""Vectorised time-to-event kernels for the Monte-Carlo engine.

Every function works on a block of ``m`` replicates at once: data arrays have shape ``(m, n)`` (``n`` = the
largest number of patients in a replicate), padded columns are masked by a boolean ``valid`` array of the same
shape, and results are arrays of shape ``(m,)``.  There is no Python loop over replicates or patients.

* Baseline hazards -- :class:`Exponential`, :class:`PiecewiseExponential`, :class:`Weibull`: small frozen
  dataclasses with vectorised ``cumulative_hazard(t)`` and ``inverse_cumulative_hazard(h)``.
* :func:`draw_event_times` -- exact inverse-CDF draws under proportional hazards, with a scalar or per-patient
  log hazard ratio.
* :func:`observe_at` -- the data seen at a calendar cut-off: administrative censoring at ``cutoff - entry``,
  dropout, patients not yet entered excluded.
* :func:`logrank_batch` -- two-arm log-rank statistic per replicate (exact tie handling, R ``survdiff``).
* :func:`one_sample_logrank_batch` -- one-sample log-rank statistic against a baseline, per replicate.
* :func:`hazard_ratio_estimate` -- Peto one-step log hazard ratio :math:`(O-E)/V` per replicate.

Sign convention: every ``z`` here is positive when the treated arm does *better* (lower hazard, fewer events
than expected), so an efficacy boundary is crossed when ``z`` exceeds it.  (The estimation functions in
``condapprove.estimate.survival`` report the opposite sign, :math:`(O-E)/\\sqrt V`.)

Time units are whatever the caller uses consistently (calendar months from approval in the engine).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
from scipy import special

from .._rng import as_generator
from .._typing import ArrayLike, BoolArray, FloatArray, IntArray, SeedLike
from .._validation import check_confidence_level, check_finite_array, check_one_of, check_positive, check_probability
from ..errors import DesignError
from ..results import ConfidenceInterval, ResultMixin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "Baseline",
    "Exponential",
    "HazardRatioBatchResult",
    "LogrankBatchResult",
    "ObservedData",
    "OneSampleLogrankBatchResult",
    "PiecewiseExponential",
    "Weibull",
    "draw_event_times",
    "hazard_ratio_estimate",
    "logrank_batch",
    "observe_at",
    "one_sample_logrank_batch",
]


# --------------------------------------------------------------------------------------------- validation


def _fail(name: str, contract: str, value: Any, hint: str | None = None) -> DesignError:
    message = f"`{name}` must be {contract}; got {value!r}."
    return DesignError(message, hint=hint)


def _first_bad(mask: np.ndarray) -> tuple[int, ...]:
    """Index of the first True entry of ``mask`` (as a tuple of ints)."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _float_array(value: ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(name, "an array of numbers", value) from None
    return arr


def _times_iv(t: ArrayLike, name: str = "t") -> FloatArray:
    """Times ``>= 0`` (``inf`` allowed, NaN not) as a float array."""
    arr = _float_array(t, name)
    bad = np.isnan(arr) | (arr < 0)
    if np.any(bad):
        where = _first_bad(bad)
        raise _fail(name, "times >= 0 (no NaN)", float(arr[where]), hint=f"index {list(where)}")
    return arr


def _hazards_iv(h: ArrayLike, name: str = "h") -> FloatArray:
    """Cumulative hazards ``>= 0`` (``inf`` allowed, NaN not) as a float array."""
    arr = _float_array(h, name)
    bad = np.isnan(arr) | (arr < 0)
    if np.any(bad):
        where = _first_bad(bad)
        raise _fail(name, "cumulative hazards >= 0 (no NaN)", float(arr[where]), hint=f"index {list(where)}")
    return arr


def _out(values: FloatArray) -> Any:
    """A float for a 0-d result, the array otherwise."""
    return float(values) if values.ndim == 0 else values


def _indicator_iv(value: ArrayLike, name: str, shape: tuple[int, ...]) -> BoolArray:
    """A boolean array of ``shape`` from booleans or 0/1 numbers."""
    raw = np.asarray(value)
    if raw.shape != shape:
        message = f"`{name}` must have the shape of `time` {shape}; got shape {raw.shape}."
        raise DesignError(message)
    if raw.dtype == np.bool_:
        return raw
    try:
        num = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise _fail(name, "an array of booleans or 0/1 indicators", value) from None
    bad = (num != 0.0) & (num != 1.0)
    if np.any(bad):
        where = _first_bad(bad)
        raise _fail(name, "booleans or 0/1 indicators", raw[where].item(), hint=f"index {list(where)}")
    out: BoolArray = num == 1.0
    return out


def _valid_iv(valid: ArrayLike | None, shape: tuple[int, ...]) -> BoolArray:
    if valid is None:
        return np.ones(shape, dtype=np.bool_)
    return _indicator_iv(valid, "valid", shape)


def _batch_times_iv(time: ArrayLike, name: str = "time") -> FloatArray:
    """A 2-d float array (its values are checked by :func:`_check_valid_times`)."""
    t = _float_array(time, name)
    if t.ndim != 2:
        message = f"`{name}` must be a 2-d array (replicates x patients); got shape {t.shape}."
        raise DesignError(message)
    return t


def _check_valid_times(t: FloatArray, valid: BoolArray, name: str = "time") -> None:
    bad = valid & ~(np.isfinite(t) & (t >= 0))
    if np.any(bad):
        where = _first_bad(bad)
        raise _fail(name, "finite times >= 0 where `valid`", float(t[where]), hint=f"index {list(where)}")


# --------------------------------------------------------------------------------------------- baselines


@runtime_checkable
class Baseline(Protocol):
    """A baseline (control-arm or reference) hazard the kernels can use.

    Anything with vectorised ``cumulative_hazard(t)`` (:math:`\\Lambda_0`) and
    ``inverse_cumulative_hazard(h)`` (:math:`\\Lambda_0^{-1}(h) = \\inf\\{t: \\Lambda_0(t) \\ge h\\}`) serves.
    """

    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`\\Lambda_0(t)` (float for a scalar, array otherwise)."""
        ...  # pragma: no cover

    def inverse_cumulative_hazard(self, h: ArrayLike) -> Any:
        """Return :math:`\\Lambda_0^{-1}(h)` (float for a scalar, array otherwise)."""
        ...  # pragma: no cover


class _BaselineMixin(ABC):
    """``survival`` and ``median`` from the two methods of :class:`Baseline`."""

    __slots__ = ()

    @abstractmethod
    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`\\Lambda_0(t)` (each baseline's formula)."""

    @abstractmethod
    def inverse_cumulative_hazard(self, h: ArrayLike) -> Any:
        """Return :math:`\\Lambda_0^{-1}(h)` (each baseline's formula)."""

    def survival(self, t: ArrayLike) -> Any:
        """Return :math:`S_0(t) = \\exp(-\\Lambda_0(t))` (float for a scalar, array otherwise)."""
        return _out(np.exp(-np.asarray(self.cumulative_hazard(t), dtype=np.float64)))

    @property
    def median(self) -> float:
        """Median time :math:`\\Lambda_0^{-1}(\\log 2)` (``inf`` if survival never falls to 1/2)."""
        return float(self.inverse_cumulative_hazard(math.log(2.0)))


def piecewise_iv(breaks: Any, rates: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Validate piecewise-exponential ``breaks`` (increasing, > 0) and ``rates`` (>= 0, one more)."""
    try:
        b = np.asarray(breaks, dtype=np.float64).reshape(-1) if np.size(breaks) else np.empty(0)
    except (TypeError, ValueError):
        raise _fail("breaks", "strictly increasing finite times > 0", breaks) from None
    r = check_finite_array(rates, "rates")
    if b.size and (not np.all(np.isfinite(b)) or b[0] <= 0 or np.any(np.diff(b) <= 0)):
        raise _fail("breaks", "strictly increasing finite times > 0", breaks)
    if r.size != b.size + 1:
        message = f"`rates` must have len(breaks) + 1 = {b.size + 1} entries; got {r.size}."
        raise DesignError(message)
    if np.any(r < 0) or not np.any(r > 0):
        raise _fail("rates", "hazards >= 0, at least one > 0", rates)
    return tuple(float(v) for v in b), tuple(float(v) for v in r)


def piecewise_from_survival_at(times: Any, survival: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Breaks and rates of the piecewise-exponential curve through landmark survivals ``S(t_j) = s_j``."""
    t = check_finite_array(times, "times")
    s = check_finite_array(survival, "survival")
    if t.size != s.size:
        message = f"`survival` must have the same length as `times` ({t.size}); got length {s.size}."
        raise DesignError(message)
    if t[0] <= 0 or np.any(np.diff(t) <= 0):
        raise _fail("times", "strictly increasing times > 0", times)
    if np.any(s <= 0) or np.any(s >= 1) or np.any(np.diff(s) > 0):
        raise _fail("survival", "non-increasing survival probabilities in (0, 1)", survival)
    tt = np.concatenate(([0.0], t))
    ss = np.concatenate(([1.0], s))
    rates = -np.diff(np.log(ss)) / np.diff(tt)
    return tuple(float(v) for v in t[:-1]), tuple(float(v) for v in rates)


def weibull_through(t: float, survival: float, shape: float, *, name: str = "t") -> tuple[float, float]:
    """Shape and scale of the Weibull curve with shape :math:`k` through :math:`S(t) = s`:
    :math:`\\sigma = t / (-\\log s)^{1/k}` (the median for :math:`s = 1/2`)."""
    k = check_positive(shape, "shape")
    s = check_probability(survival, "survival", open_low=True, open_high=True)
    return k, check_positive(t, name) / (-math.log(s)) ** (1.0 / k)


def piecewise_edges(breaks: Sequence[float], rates: Sequence[float]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Interval starts :math:`b_j` (from 0), rates :math:`\\lambda_j` and :math:`\\Lambda_0(b_j)` of validated
    breaks and rates (:func:`piecewise_iv`)."""
    edges = np.concatenate(([0.0], np.asarray(breaks, dtype=np.float64)))
    r = np.asarray(rates, dtype=np.float64)
    h_edges = np.concatenate(([0.0], np.cumsum(r[:-1] * np.diff(edges))))
    return edges, r, h_edges


def piecewise_cumulative_hazard(t: FloatArray, breaks: Sequence[float], rates: Sequence[float]) -> FloatArray:
    """:math:`\\Lambda_0(t) = \\Lambda_0(b_j) + \\lambda_j (t - b_j)` for :math:`t \\in [b_j, b_{j+1})` (times
    ``>= 0``, ``inf`` allowed: the plateau when the last rate is 0).  Shared by the simulation's baselines and the
    estimators' reference curves."""
    edges, r, h_edges = piecewise_edges(breaks, rates)
    j = np.searchsorted(edges, t, side="right") - 1
    with np.errstate(invalid="ignore"):
        h = h_edges[j] + r[j] * (t - edges[j])
    if r[-1] == 0.0:
        h = np.where(np.isinf(t), h_edges[-1], h)
    return np.asarray(h)


@dataclass(frozen=True, slots=True)
class Exponential(_BaselineMixin):
    """Exponential baseline: constant hazard ``rate``.

    :math:`\\Lambda_0(t) = \\lambda t`, :math:`\\Lambda_0^{-1}(h) = h/\\lambda`, median :math:`\\log 2/\\lambda`.

    Parameters
    ----------
    rate : float
        Hazard per unit time, ``> 0``.

    Examples
    --------
    >>> from condapprove.kernels.survival import Exponential
    >>> base = Exponential.from_median(12.0)
    >>> round(base.rate, 5), round(base.survival(12.0), 3)
    (0.05776, 0.5)
    >>> base.inverse_cumulative_hazard([0.0, 0.5 * base.rate])
    array([0. , 0.5])
    """

    rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", check_positive(self.rate, "rate"))

    @classmethod
    def from_median(cls, median: float) -> Exponential:
        """Baseline with the given median time (``rate = log(2) / median``)."""
        return cls(math.log(2.0) / check_positive(median, "median"))

    @classmethod
    def from_survival_at(cls, t: float, survival: float) -> Exponential:
        """Baseline through :math:`S_0(t) =` ``survival`` (``rate = -log(survival) / t``)."""
        tt = check_positive(t, "t")
        s = check_probability(survival, "survival", open_low=True, open_high=True)
        return cls(-math.log(s) / tt)

    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`\\lambda t` for times ``t >= 0``."""
        return _out(self.rate * _times_iv(t))

    def inverse_cumulative_hazard(self, h: ArrayLike) -> Any:
        """Return :math:`h/\\lambda` for cumulative hazards ``h >= 0``."""
        return _out(self._inverse_of(_hazards_iv(h)))

    def _inverse_of(self, h: FloatArray, reuse: bool = False) -> FloatArray:
        """The formula on checked hazards (``reuse``: ``h`` may be overwritten with the result)."""
        return np.divide(h, self.rate, out=h if reuse else None)


#: Hazards from which :meth:`PiecewiseExponential._inverse_of` runs compiled (a block of the engine's draws always
#: is; fewer, as in the estimators' reference curves, stay in numpy and do not import numba).
_COMPILED_MIN = 2048


@dataclass(frozen=True, slots=True)
class PiecewiseExponential(_BaselineMixin):
    """Piecewise-exponential baseline: hazard ``rates[j]`` on ``[breaks[j-1], breaks[j])``.

    With breaks :math:`0 = b_0 < b_1 < \\dots < b_K` and rates :math:`\\lambda_0, \\dots, \\lambda_K`, the hazard
    is :math:`\\lambda_j` on :math:`[b_j, b_{j+1})`; the last rate continues for ever.  A last rate of 0 gives a
    cure fraction :math:`S_0(\\infty) = e^{-\\Lambda_0(b_K)}` (event times drawn beyond it are ``inf``).

    Parameters
    ----------
    breaks : sequence of float
        Interior change points, strictly increasing and ``> 0`` (may be empty: exponential).
    rates : sequence of float
        ``len(breaks) + 1`` hazards ``>= 0``, at least one ``> 0``.

    Examples
    --------
    >>> from condapprove.kernels.survival import PiecewiseExponential
    >>> base = PiecewiseExponential(breaks=(6.0,), rates=(0.1, 0.05))
    >>> base.cumulative_hazard([3.0, 6.0, 10.0])
    array([0.3, 0.6, 0.8])
    >>> base.inverse_cumulative_hazard([0.3, 0.6, 0.8])
    array([ 3.,  6., 10.])
    >>> base = PiecewiseExponential.from_survival_at([12.0, 24.0], [0.6, 0.45])
    >>> round(base.survival(24.0), 3)
    0.45
    """

    breaks: tuple[float, ...]
    rates: tuple[float, ...]

    def __post_init__(self) -> None:
        breaks, rates = piecewise_iv(self.breaks, self.rates)
        object.__setattr__(self, "breaks", breaks)
        object.__setattr__(self, "rates", rates)

    @classmethod
    def from_survival_at(cls, times: Sequence[float], survival: Sequence[float]) -> PiecewiseExponential:
        """Baseline through landmark survivals :math:`S_0(t_j) = s_j`, log-linear in between.

        The hazard on :math:`(t_{j-1}, t_j]` is :math:`\\log(s_{j-1}/s_j)/(t_j - t_{j-1})` (with
        :math:`t_0 = 0, s_0 = 1`); the last hazard continues after the last landmark.
        """
        return cls(*piecewise_from_survival_at(times, survival))

    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`\\Lambda_0(t) = \\Lambda_0(b_j) + \\lambda_j (t - b_j)` for :math:`t \\in [b_j, b_{j+1})`."""
        return _out(piecewise_cumulative_hazard(_times_iv(t), self.breaks, self.rates))

    def inverse_cumulative_hazard(self, h: ArrayLike) -> Any:
        """Return :math:`\\inf\\{t: \\Lambda_0(t) \\ge h\\}`; ``inf`` beyond the plateau of a zero last rate."""
        return _out(self._inverse_of(_hazards_iv(h)))

    def _inverse_of(self, arr: FloatArray, reuse: bool = False) -> FloatArray:
        """The formula on checked hazards (``reuse``: ``arr`` may be overwritten with the result).

        From :data:`_COMPILED_MIN` values on, one compiled pass (:func:`._tte_jit.piecewise_inverse`: the same
        operations, so the same numbers) instead of about ten numpy passes, which made the draws of a
        piecewise-exponential design cost three times those of an exponential one.
        """
        edges, rates, h_edges = piecewise_edges(self.breaks, self.rates)
        if arr.size >= _COMPILED_MIN:
            from ._tte_jit import piecewise_inverse

            a = np.ascontiguousarray(arr, dtype=np.float64)
            out = a if reuse and a is arr and a.flags.writeable else np.empty_like(a)
            piecewise_inverse(a.reshape(-1), edges, rates, h_edges, out.reshape(-1))
            return out
        # largest j with Lambda(b_j) < h: its rate is > 0 unless j is the last interval
        j = np.maximum(np.searchsorted(h_edges, arr, side="left") - 1, 0)
        rj = rates[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = edges[j] + (arr - h_edges[j]) / rj
        return np.where(arr <= 0.0, 0.0, np.where(rj > 0.0, t, np.inf))


@dataclass(frozen=True, slots=True)
class Weibull(_BaselineMixin):
    """Weibull baseline, parametrised as R's ``pweibull(shape, scale)``.

    :math:`\\Lambda_0(t) = (t/\\sigma)^k`, :math:`\\Lambda_0^{-1}(h) = \\sigma h^{1/k}`, hazard
    :math:`(k/\\sigma)(t/\\sigma)^{k-1}` (increasing for :math:`k > 1`, decreasing for :math:`k < 1`).

    Parameters
    ----------
    shape : float
        :math:`k > 0`.
    scale : float
        :math:`\\sigma > 0`, the time at which :math:`S_0 = e^{-1}`.

    Examples
    --------
    >>> from condapprove.kernels.survival import Weibull
    >>> base = Weibull.from_median(14.0, shape=1.5)
    >>> round(base.scale, 4), round(base.median, 6)
    (17.8749, 14.0)
    >>> round(base.cumulative_hazard(base.scale), 6)
    1.0
    """

    shape: float
    scale: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", check_positive(self.shape, "shape"))
        object.__setattr__(self, "scale", check_positive(self.scale, "scale"))

    @classmethod
    def from_median(cls, median: float, *, shape: float) -> Weibull:
        """Baseline with the given median and shape: :math:`\\sigma = m / (\\log 2)^{1/k}`."""
        return cls(*weibull_through(median, 0.5, shape, name="median"))

    @classmethod
    def from_survival_at(cls, t: float, survival: float, *, shape: float) -> Weibull:
        """Baseline through :math:`S_0(t) =` ``survival`` with the given shape."""
        return cls(*weibull_through(t, survival, shape))

    def cumulative_hazard(self, t: ArrayLike) -> Any:
        """Return :math:`(t/\\sigma)^k` for times ``t >= 0``."""
        return _out((_times_iv(t) / self.scale) ** self.shape)

    def inverse_cumulative_hazard(self, h: ArrayLike) -> Any:
        """Return :math:`\\sigma h^{1/k}` for cumulative hazards ``h >= 0``."""
        return _out(self._inverse_of(_hazards_iv(h)))

    def _inverse_of(self, h: FloatArray, reuse: bool = False) -> FloatArray:
        """The formula on checked hazards (``reuse``: ``h`` may be overwritten with the result), computed as
        :math:`\\exp(\\log(h)/k + \\log\\sigma)` in place: four of numpy's vectorised passes take about 0.6 of the
        time of ``scale * h ** (1 / shape)`` (its ``pow`` and two new arrays), and agree with it within a few
        units in the last place (the rounding of :math:`\\log h`, times :math:`|\\log h| / k`)."""
        with np.errstate(divide="ignore"):  # log(0) = -inf: a time of 0
            out = np.log(h, out=h if reuse else np.empty_like(h))
        out *= 1.0 / self.shape
        out += math.log(self.scale)
        return np.exp(out, out=out)


def _baseline_iv(baseline: Any, *, inverse: bool) -> Any:
    methods = ("cumulative_hazard", "inverse_cumulative_hazard") if inverse else ("cumulative_hazard",)
    if not all(callable(getattr(baseline, m, None)) for m in methods):
        contract = "a baseline with " + " and ".join(f"{m}()" for m in methods) + " methods"
        raise _fail("baseline", contract, baseline, hint="use Exponential, PiecewiseExponential or Weibull")
    return baseline


# --------------------------------------------------------------------------------------------- event times


def _size_iv(size: Any) -> tuple[int, ...]:
    contract = "a non-negative integer or a tuple of them"
    items = (size,) if isinstance(size, (int, np.integer)) else size
    try:
        shape = tuple(items)
    except TypeError:
        raise _fail("size", contract, size) from None
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0 for k in shape):
        raise _fail("size", contract, size)
    return tuple(int(k) for k in shape)


def draw_event_times(
    rng: SeedLike,
    baseline: Baseline,
    size: int | tuple[int, ...],
    *,
    log_hr: ArrayLike = 0.0,
    transposed: bool = False,
) -> FloatArray:
    """Draw event times under proportional hazards, :math:`S(t) = S_0(t)^{\\exp(\\beta)}`.

    Parameters
    ----------
    rng : {None, int, SeedSequence, Generator}
        Source of randomness (a Generator is used as is; in the engine, the chunk's stream).
    baseline : Baseline
        :math:`\\Lambda_0`: :class:`Exponential`, :class:`PiecewiseExponential`, :class:`Weibull` or any object
        with a vectorised ``inverse_cumulative_hazard(h)``.
    size : int or tuple of int
        Shape of the draw, e.g. ``(m, n)``.
    log_hr : float or array_like, optional
        Log hazard ratio :math:`\\beta` against the baseline, finite; a scalar or an array broadcastable to
        ``size`` (per-patient effects: lot effects, confounders).  Default 0 (the baseline itself).
    transposed : bool, optional
        For a 2-d ``size``: return the transpose of the draw, C-contiguous (the same numbers, laid out for a
        pass along its rows; the engine's time-to-event arms).  Default False.

    Returns
    -------
    ndarray of float, shape ``size`` (reversed if ``transposed``)
        Event times since the start of treatment; ``inf`` where the baseline has a cure fraction and the
        patient is cured.

    Raises
    ------
    DesignError
        If ``size`` is not a shape, ``log_hr`` is not finite or does not broadcast to ``size``, or
        ``baseline`` lacks ``inverse_cumulative_hazard``.

    Notes
    -----
    Exact inverse-CDF sampling: with :math:`E \\sim \\mathrm{Exp}(1)`,
    :math:`T = \\Lambda_0^{-1}(E\\,e^{-\\beta})`, so that
    :math:`P(T > t) = P(E > e^{\\beta}\\Lambda_0(t)) = S_0(t)^{e^{\\beta}}`.  One standard exponential is drawn
    per patient (``rng.standard_exponential(size)``), so the stream consumption does not depend on the
    baseline or the effect.  Assumes proportional hazards against the baseline (a non-proportional effect
    needs its own baseline per arm).

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.kernels.survival import Exponential, draw_event_times
    >>> rng = np.random.default_rng(2024)
    >>> t = draw_event_times(rng, Exponential.from_median(12.0), (2, 3), log_hr=np.log(0.7))
    >>> t.shape
    (2, 3)
    >>> bool(np.all(t > 0))
    True
    """
    shape = _size_iv(size)
    base = _baseline_iv(baseline, inverse=True)
    beta = _float_array(log_hr, "log_hr")
    if not np.all(np.isfinite(beta)):
        raise _fail("log_hr", "finite log hazard ratios", log_hr)
    try:
        bshape = np.broadcast_shapes(beta.shape, shape)
    except ValueError:
        bshape = None
    if bshape != shape:
        message = f"`log_hr` must be a scalar or broadcastable to `size` {shape}; got shape {beta.shape}."
        raise DesignError(message)
    if transposed and len(shape) != 2:
        raise DesignError(f"`transposed` needs a 2-d `size`; got {shape}.")
    gen = as_generator(rng)
    if transposed:  # the same numbers (the compiled draw is numpy's), each element's operations unchanged
        from .._draw_jit import draw

        h = draw(gen, "standard_exponential", shape, transposed=True)
    else:
        h = gen.standard_exponential(shape)
    if beta.ndim or float(beta) != 0.0:
        factor = np.exp(-beta)
        np.multiply(h, np.broadcast_to(factor, shape).T if transposed else factor, out=h)
    out_shape = shape[::-1] if transposed else shape
    inverse = getattr(base, "_inverse_of", None)
    if inverse is not None:  # a built-in baseline: h >= 0 by construction (no checks), and h may be overwritten
        return np.ascontiguousarray(inverse(h, reuse=True), dtype=np.float64).reshape(out_shape)
    return np.ascontiguousarray(base.inverse_cumulative_hazard(h), dtype=np.float64).reshape(out_shape)


# --------------------------------------------------------------------------------------------- observation


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedData(ResultMixin):
    """Right-censored data at a calendar cut-off, returned by :func:`observe_at`.

    Unpacks as ``time, event, valid = observe_at(...)``.

    Attributes
    ----------
    time : ndarray of float, shape (m, n)
        Follow-up time since entry: :math:`\\min(T, D, c - a)`; 0 where not ``valid``.
    event : ndarray of bool, shape (m, n)
        True if the event was seen by the cut-off (:math:`T \\le \\min(D, c - a)`); False where not ``valid``.
    valid : ndarray of bool, shape (m, n)
        Patient enrolled by the cut-off (and a real, not padded, column).
    """

    time: FloatArray
    event: BoolArray
    valid: BoolArray

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.time, self.event, self.valid))

    def to_frame(self) -> pd.DataFrame:
        """Long format, one row per valid patient: ``replicate``, ``patient`` (column), ``time``, ``event``."""
        import pandas as pd

        rep, col = np.nonzero(self.valid)
        return pd.DataFrame(
            {"replicate": rep, "patient": col, "time": self.time[rep, col], "event": self.event[rep, col]}
        )


def observe_at(
    entry: ArrayLike,
    event_time: ArrayLike,
    dropout_time: ArrayLike | None,
    cutoff: ArrayLike,
    *,
    valid: ArrayLike | None = None,
) -> ObservedData:
    """Data seen at a calendar cut-off: administrative censoring, dropout and not-yet-enrolled patients.

    Parameters
    ----------
    entry : array_like of float, shape (m, n)
        Calendar entry (start of treatment) times; ``inf`` (never enrolled) is allowed and gives
        ``valid = False``.  NaN and ``-inf`` only where ``valid`` is False.
    event_time : array_like of float, shape (m, n)
        Time from entry to the event, ``>= 0`` (``inf`` = never).
    dropout_time : array_like of float, shape (m, n), or None
        Time from entry to loss to follow-up, ``>= 0`` (``inf`` = never); None for no dropout.
    cutoff : float or array_like of float, shape (m,)
        Calendar time of the analysis, finite, one per replicate (or one for all).
    valid : array_like of bool, shape (m, n), optional
        Real (not padded) columns; default all.  Masked entries are never read.

    Returns
    -------
    ObservedData
        ``time``, ``event`` and ``valid`` (enrolled at or before the cut-off and not padded).

    Raises
    ------
    DesignError
        On shape mismatches, NaN entry times in valid columns, or negative/NaN event or dropout times of
        patients enrolled by the cut-off.

    Notes
    -----
    For a patient entered at calendar time :math:`a \\le c` with event time :math:`T` and dropout time
    :math:`D` (both since entry), the observed time is :math:`\\min(T, D, c - a)` and the event indicator
    :math:`T \\le \\min(D, c - a)`.  Patients with :math:`a > c` are excluded (``valid = False``); one entered
    exactly at the cut-off is kept with follow-up 0 (censored).  Assumes a common time origin for entry
    and cut-off, and that dropout is independent of the event (non-informative censoring).

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.kernels.survival import observe_at
    >>> entry = np.array([[0.0, 2.0, 5.0, 9.0]])
    >>> event_time = np.array([[3.0, 10.0, 1.0, 1.0]])
    >>> dropout = np.array([[np.inf, np.inf, 0.5, np.inf]])
    >>> time, event, valid = observe_at(entry, event_time, dropout, [8.0])
    >>> time
    array([[3. , 6. , 0.5, 0. ]])
    >>> event, valid
    (array([[ True, False, False, False]]), array([[ True,  True,  True, False]]))
    """
    a = _float_array(entry, "entry")
    if a.ndim != 2:
        message = f"`entry` must be a 2-d array (replicates x patients); got shape {a.shape}."
        raise DesignError(message)
    shape = a.shape
    base_valid = _valid_iv(valid, shape)
    t_ev = _float_array(event_time, "event_time")
    if t_ev.shape != shape:
        message = f"`event_time` must have the shape of `entry` {shape}; got shape {t_ev.shape}."
        raise DesignError(message)
    if dropout_time is None:
        t_do = None
    else:
        t_do = _float_array(dropout_time, "dropout_time")
        if t_do.shape != shape:
            message = f"`dropout_time` must have the shape of `entry` {shape}; got shape {t_do.shape}."
            raise DesignError(message)
    c = _float_array(cutoff, "cutoff")
    if c.ndim == 0:
        c = np.full(shape[0], float(c))
    if c.shape != (shape[0],):
        message = f"`cutoff` must be a scalar or have one entry per replicate ({shape[0]}); got shape {c.shape}."
        raise DesignError(message)
    if not np.all(np.isfinite(c)):
        raise _fail("cutoff", "finite calendar times", cutoff)
    bad = base_valid & (np.isnan(a) | np.isneginf(a))
    if np.any(bad):
        where = _first_bad(bad)
        raise _fail(
            "entry", "calendar times (no NaN or -inf) where `valid`", float(a[where]), hint=f"index {list(where)}"
        )
    admin = c[:, None] - a
    with np.errstate(invalid="ignore"):
        v = base_valid & (admin >= 0)
    for name, arr in (("event_time", t_ev), ("dropout_time", t_do)):
        if arr is None:
            continue
        bad = v & ~(arr >= 0)  # catches NaN too
        if np.any(bad):
            where = _first_bad(bad)
            raise _fail(
                name, "times >= 0 (no NaN) for enrolled patients", float(arr[where]), hint=f"index {list(where)}"
            )
    cens = admin if t_do is None else np.minimum(t_do, admin)
    with np.errstate(invalid="ignore"):
        time = np.where(v, np.minimum(t_ev, cens), 0.0)
        event = v & (t_ev <= cens)
    return ObservedData(time=time, event=event, valid=v)


# --------------------------------------------------------------------------------------------- two-arm log-rank


@dataclass(frozen=True, slots=True, kw_only=True)
class LogrankBatchResult(ResultMixin):
    """Two-arm log-rank statistics of a block of replicates, returned by :func:`logrank_batch`.

    Attributes
    ----------
    z : ndarray of float, shape (m,)
        :math:`(E_1 - O_1)/\\sqrt V`: positive when the treated arm has fewer events than expected under
        equal hazards (evidence of benefit); 0 where ``degenerate``.
    observed_treated : ndarray of int, shape (m,)
        Events :math:`O_1` in the treated arm.
    expected_treated : ndarray of float, shape (m,)
        Expected treated events :math:`E_1` under the null hypothesis.
    variance : ndarray of float, shape (m,)
        Hypergeometric variance :math:`V` of :math:`O_1 - E_1`.
    events : ndarray of int, shape (m,)
        Total events (both arms).
    n_treated, n_control : ndarray of int, shape (m,)
        Valid patients per arm.
    degenerate : ndarray of bool, shape (m,)
        :math:`V = 0` (no events, or only events while one arm is empty): ``z`` is set to 0.
    """

    z: FloatArray
    observed_treated: IntArray
    expected_treated: FloatArray
    variance: FloatArray
    events: IntArray
    n_treated: IntArray
    n_control: IntArray
    degenerate: BoolArray

    def to_frame(self) -> pd.DataFrame:
        """One row per replicate, one column per attribute."""
        import pandas as pd

        return pd.DataFrame({name: getattr(self, name) for name in self.__dataclass_fields__})


def _logrank_iv(
    time: ArrayLike, event: ArrayLike, treated: ArrayLike, valid: ArrayLike | None
) -> tuple[FloatArray, BoolArray, BoolArray, BoolArray]:
    t = _batch_times_iv(time)
    v = _valid_iv(valid, t.shape)
    e = _indicator_iv(event, "event", t.shape)
    x = _indicator_iv(treated, "treated", t.shape)
    _check_valid_times(t, v)
    return t, e, x, v


def logrank_batch(
    time: ArrayLike,
    event: ArrayLike,
    treated: ArrayLike,
    valid: ArrayLike | None = None,
) -> LogrankBatchResult:
    """Two-arm log-rank statistic for every replicate (row) at once, as R's ``survdiff``.

    Parameters
    ----------
    time : array_like of float, shape (m, n)
        Follow-up time (event or censoring), finite and ``>= 0`` where ``valid``.
    event : array_like of bool or {0, 1}, shape (m, n)
        True = event, False = right-censored.
    treated : array_like of bool or {0, 1}, shape (m, n)
        True = treated arm, False = control arm.
    valid : array_like of bool, shape (m, n), optional
        Real (not padded, enrolled) patients; default all.  Other columns are ignored whatever they hold.

    Returns
    -------
    LogrankBatchResult
        Per row: ``z`` (positive = benefit of treatment), ``observed_treated``, ``expected_treated``,
        ``variance``, ``events``, arm sizes and a ``degenerate`` flag.

    Raises
    ------
    DesignError
        If the arrays are not 2-d of one shape, indicators are not boolean/0-1, or valid times are negative
        or not finite.

    Notes
    -----
    At each distinct time :math:`t_j` with :math:`r_j` patients at risk (time :math:`\\ge t_j`),
    :math:`r_{1j}` of them treated, and :math:`d_j` events,
    :math:`E_1 = \\sum_j d_j r_{1j}/r_j` and
    :math:`V = \\sum_j d_j (r_{1j}/r_j)(1 - r_{1j}/r_j)(r_j - d_j)/(r_j - 1)` (hypergeometric variance, exact
    for ties; patients censored at :math:`t_j` are still at risk at :math:`t_j`, as in ``survdiff``).
    :math:`z = (E_1 - O_1)/\\sqrt V`; rows with :math:`V = 0` get :math:`z = 0` and ``degenerate = True``
    (no warning: a look with no information is routine in a simulation).

    Implementation (:func:`logrank_keys`, :func:`logrank_from_keys`, shared with the simulation engine): one
    sort per row of a 64-bit key (the time's bit pattern, whose two lowest significand bits carry the censoring
    and arm codes so that events sort before censorings at equal times; padded columns sort last), then one
    compiled pass per row (numba): risk sets from the position in the row and a running count of treated
    patients; a row with tied event times is walked again by tie groups; :math:`O(mn\\log n)` time.  Ties are
    equal times: exact equality up to the two
    lowest significand bits (times within a relative 4.4e-16 may be merged).  R's ``survdiff`` also merges
    times closer than about 1.5e-8 relative; the difference matters only for times that differ by rounding
    error.

    Assumes independent (non-informative) censoring; the test is most powerful under proportional hazards
    and its normal approximation is rough with few events.

    References
    ----------
    .. [1] Mantel N (1966). Evaluation of survival data and two new rank order statistics arising in its
       consideration. Cancer Chemother Rep 50:163-170.
    .. [2] Therneau T. survival: Survival Analysis. R package (``survdiff``).

    Examples
    --------
    Two replicates, the second padded to 4 patients:

    >>> import numpy as np
    >>> from condapprove.kernels.survival import logrank_batch
    >>> time = np.array([[2.0, 3.0, 5.0, 7.0, 8.0], [1.0, 4.0, 4.0, 6.0, 0.0]])
    >>> event = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 0, 0]])
    >>> treated = np.array([[0, 0, 1, 1, 1], [0, 1, 0, 1, 0]])
    >>> valid = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], dtype=bool)
    >>> res = logrank_batch(time, event, treated, valid)
    >>> np.round(res.z, 4)
    array([2.0647, 1.2127])
    >>> res.observed_treated, np.round(res.expected_treated, 4), res.events
    (array([2, 1]), array([3.35  , 1.8333]), array([4, 3]))
    """
    t, e, x, v = _logrank_iv(time, event, treated, valid)
    key = np.where(v, logrank_keys(np.where(v, t, 0.0), ~e, x), LOGRANK_PAD_KEY)
    return logrank_from_keys(key, np.count_nonzero(v, axis=1), np.count_nonzero(x & v, axis=1))


_CODE_BITS = np.uint64(3)


def logrank_keys(time: FloatArray, censored: BoolArray, treated: BoolArray) -> np.ndarray:
    """Sort keys of (time, censored, arm) for :func:`logrank_from_keys` (times finite and ``>= 0``).

    The bit pattern of a double ``>= 0`` orders like the number; its two lowest significand bits are
    replaced by ``2 * censored + treated`` (events sort before censorings at equal times).  Replace the
    keys of patients not in the analysis by :data:`LOGRANK_PAD_KEY`.
    """
    bits = (np.asarray(time, dtype=np.float64) + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into +0.0
    return np.asarray((bits & ~_CODE_BITS) | (censored.astype(np.uint64) << np.uint64(1)) | treated.astype(np.uint64))


def logrank_from_keys(key: np.ndarray, n_valid: IntArray, n1: IntArray) -> LogrankBatchResult:
    """The log-rank statistics of :func:`logrank_batch` from keys built by :func:`logrank_keys` (sorted in place).

    For the simulation engine, which builds the keys of every look from quantities it computes once per
    replicate; ``n_valid`` and ``n1`` are the numbers of patients in the analysis and of treated ones (the other
    keys are :data:`LOGRANK_PAD_KEY`).  The sums come from :func:`logrank_sums`, the statistic from
    :func:`logrank_z`.
    """
    m = key.shape[0]
    e1, var = np.empty(m), np.empty(m)
    o1, total = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    n_valid, n1 = np.array(n_valid, dtype=np.int64), np.array(n1, dtype=np.int64)  # copies: the result keeps them
    logrank_sums(key, n_valid, n1, e1, var, o1, total)
    z, degenerate = logrank_z(e1, var, o1)
    return LogrankBatchResult(z=z, observed_treated=o1, expected_treated=e1, variance=var, events=total,
                              n_treated=n1, n_control=n_valid - n1, degenerate=degenerate)


def logrank_sums(key: np.ndarray, n_valid: IntArray, n1: IntArray, e1: FloatArray, var: FloatArray, o1: IntArray,
                 events: IntArray) -> None:
    """Sort each row of keys (:func:`logrank_keys`) in place and write its log-rank sums into the given arrays.

    ``e1`` (expected treated events), ``var`` (variance), ``o1`` (observed treated events) and ``events``
    (int64), one per row; ``n_valid`` and ``n1`` (int64) are the numbers of patients in the analysis and of
    treated ones.  Each row is sorted as doubles (numpy's vectorised sort) and then walked once by a compiled
    loop (:func:`condapprove.kernels._tte_jit.walk_sorted`): risk sets from the position in the row and a running
    count of treated patients; tied event times form one group with the hypergeometric variance.
    """
    from ._tte_jit import walk_sorted

    if key.shape[1] == 0:
        for a in (e1, var, o1, events):
            a[...] = 0
        return
    key.view(np.float64).sort(axis=1)
    walk_sorted(key, n_valid, n1, e1, var, o1, events)


def logrank_z(e1: FloatArray, var: FloatArray, o1: IntArray) -> tuple[FloatArray, BoolArray]:
    """The log-rank z, :math:`(E_1 - O_1)/\\sqrt{V}`, and where it is degenerate (:math:`V = 0`: z is 0)."""
    degenerate = ~(var > 0.0)
    z = np.zeros(var.shape)
    ok = ~degenerate
    z[ok] = (e1[ok] - o1[ok]) / np.sqrt(var[ok])
    return z, degenerate


LOGRANK_PAD_KEY = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


# --------------------------------------------------------------------------------------------- one-sample log-rank


@dataclass(frozen=True, slots=True, kw_only=True)
class OneSampleLogrankBatchResult(ResultMixin):
    """One-sample log-rank statistics of a block of replicates, from :func:`one_sample_logrank_batch`.

    Attributes
    ----------
    z : ndarray of float, shape (m,)
        :math:`(E - O)/\\sqrt{(O+E)/2}` ('wu') or :math:`(E - O)/\\sqrt E` ('standard'): positive when fewer
        events than the reference predicts (benefit); 0 where ``degenerate``.
    observed : ndarray of int, shape (m,)
        Observed events :math:`O`.
    expected : ndarray of float, shape (m,)
        Expected events under the baseline, :math:`E = \\sum_i \\Lambda_0(t_i)`.
    method : str
        'wu' or 'standard'.
    degenerate : ndarray of bool, shape (m,)
        The denominator is 0 (no follow-up and no events; for 'standard', :math:`E = 0`): ``z`` is set to 0.
    """

    z: FloatArray
    observed: IntArray
    expected: FloatArray
    method: str
    degenerate: BoolArray

    def to_frame(self) -> pd.DataFrame:
        """One row per replicate: ``z``, ``observed``, ``expected``, ``degenerate``."""
        import pandas as pd

        return pd.DataFrame(
            {"z": self.z, "observed": self.observed, "expected": self.expected, "degenerate": self.degenerate}
        )


def one_sample_logrank_batch(
    time: ArrayLike,
    event: ArrayLike,
    valid: ArrayLike | None,
    baseline: Baseline,
    *,
    method: Literal["wu", "standard"] = "wu",
) -> OneSampleLogrankBatchResult:
    """One-sample log-rank statistic against a fixed baseline, for every replicate (row) at once.

    Parameters
    ----------
    time : array_like of float, shape (m, n)
        Follow-up time (event or censoring) since entry, finite and ``>= 0`` where ``valid``.
    event : array_like of bool or {0, 1}, shape (m, n)
        True = event, False = right-censored.
    valid : array_like of bool, shape (m, n), or None
        Real (not padded, enrolled) patients; None = all.
    baseline : Baseline
        The reference curve :math:`\\Lambda_0` (any object with a vectorised ``cumulative_hazard``, including
        ``condapprove.estimate.survival``'s curves).
    method : {'wu', 'standard'}, optional
        'wu' (default): :math:`z = (E - O)/\\sqrt{(O+E)/2}` (Wu 2014);
        'standard': :math:`z = (E - O)/\\sqrt E` (Breslow 1975; Finkelstein et al. 2003).

    Returns
    -------
    OneSampleLogrankBatchResult
        Per row: ``z`` (positive = benefit), ``observed``, ``expected`` and a ``degenerate`` flag.

    Raises
    ------
    DesignError
        On invalid arrays or ``method``, or if the baseline returns negative or non-finite cumulative hazards.

    Notes
    -----
    :math:`O = \\sum_i \\delta_i`, :math:`E = \\sum_i \\Lambda_0(t_i)` over valid patients.  Under
    :math:`H_0: h = h_0`, :math:`O - E` is a martingale with variance estimated by :math:`E`; Wu's
    :math:`(O+E)/2` keeps the one-sided type I error closer to nominal at small :math:`n`.  Signs are the
    opposite of :func:`condapprove.estimate.survival.one_sample_logrank`'s ``statistic``.  Rows with a zero
    denominator get :math:`z = 0` and ``degenerate = True``.  The baseline is treated as known (its
    sampling variability ignored) and as applicable to the population; censoring is assumed independent.

    References
    ----------
    .. [1] Finkelstein DM, Muzikansky A, Schoenfeld DA (2003). Comparing survival of a sample to that of a
       standard population. J Natl Cancer Inst 95:1434-1439.
    .. [2] Wu J (2014). A new one-sample log-rank test. J Biom Biostat 5:210.

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.kernels.survival import Exponential, one_sample_logrank_batch
    >>> time = np.array([[5.7, 8.5, 9.2, 12.0, 12.0], [2.0, 3.0, 4.0, 12.0, 12.0]])
    >>> event = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]])
    >>> res = one_sample_logrank_batch(time, event, None, Exponential(0.1))
    >>> res.observed, np.round(res.expected, 2), np.round(res.z, 3)
    (array([3, 4]), array([4.74, 3.3 ]), array([ 0.884, -0.366]))
    """
    t = _batch_times_iv(time)
    v = _valid_iv(valid, t.shape)
    e = _indicator_iv(event, "event", t.shape)
    meth = check_one_of(method, "method", ("wu", "standard"))
    _check_valid_times(t, v)
    base = _baseline_iv(baseline, inverse=False)
    lam = np.asarray(base.cumulative_hazard(np.where(v, t, 0.0)), dtype=np.float64)
    if lam.shape != t.shape:
        message = f"`baseline.cumulative_hazard(time)` must return the shape of `time` {t.shape}; got {lam.shape}."
        raise DesignError(message)
    bad = v & ~(np.isfinite(lam) & (lam >= 0))
    if np.any(bad):
        where = _first_bad(bad)
        raise _fail(
            "baseline.cumulative_hazard(time)", "finite values >= 0", float(lam[where]), hint=f"index {list(where)}"
        )
    o = np.sum(e & v, axis=1).astype(np.int64)
    big_e = np.sum(np.where(v, lam, 0.0), axis=1)
    denom2 = (o + big_e) / 2.0 if meth == "wu" else big_e
    degenerate = ~(denom2 > 0.0)
    z = np.zeros(t.shape[0])
    ok = ~degenerate
    z[ok] = (big_e[ok] - o[ok]) / np.sqrt(denom2[ok])
    return OneSampleLogrankBatchResult(z=z, observed=o, expected=big_e, method=meth, degenerate=degenerate)


# --------------------------------------------------------------------------------------------- hazard ratio


@dataclass(frozen=True, slots=True, kw_only=True)
class HazardRatioBatchResult(ResultMixin):
    """Peto one-step log hazard ratios (treated vs control), from :func:`hazard_ratio_estimate`.

    Attributes
    ----------
    log_hazard_ratio : ndarray of float, shape (m,)
        :math:`\\hat\\beta = (O_1 - E_1)/V`; negative = lower hazard on treatment.  0 where ``degenerate``.
    standard_error : ndarray of float, shape (m,)
        :math:`1/\\sqrt V`; ``inf`` where ``degenerate``.
    degenerate : ndarray of bool, shape (m,)
        :math:`V = 0`: no information on the hazard ratio in that replicate.
    """

    log_hazard_ratio: FloatArray
    standard_error: FloatArray
    degenerate: BoolArray

    @property
    def hazard_ratio(self) -> FloatArray:
        """:math:`\\exp(\\hat\\beta)`."""
        return np.exp(self.log_hazard_ratio)

    def interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Wald interval of the hazard ratio per row, :math:`\\exp(\\hat\\beta \\pm z_{1-\\alpha/2}/\\sqrt V)`.

        Returns a :class:`ConfidenceInterval` of two arrays; ``(0, inf)`` in degenerate rows.
        """
        level = check_confidence_level(confidence_level)
        q = float(special.ndtri(0.5 + level / 2.0))
        with np.errstate(over="ignore"):
            low = np.exp(self.log_hazard_ratio - q * self.standard_error)
            high = np.exp(self.log_hazard_ratio + q * self.standard_error)
        return ConfidenceInterval(low, high)  # type: ignore[arg-type]

    def to_frame(self) -> pd.DataFrame:
        """One row per replicate: ``log_hazard_ratio``, ``standard_error``, ``degenerate``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "log_hazard_ratio": self.log_hazard_ratio,
                "standard_error": self.standard_error,
                "degenerate": self.degenerate,
            }
        )


def hazard_ratio_estimate(logrank: LogrankBatchResult) -> HazardRatioBatchResult:
    """Peto one-step estimate of the log hazard ratio (treated vs control) per replicate.

    Parameters
    ----------
    logrank : LogrankBatchResult
        Output of :func:`logrank_batch` for the same replicates.

    Returns
    -------
    HazardRatioBatchResult
        ``log_hazard_ratio``, ``standard_error`` and ``degenerate`` per row; :meth:`~HazardRatioBatchResult.interval`.

    Raises
    ------
    DesignError
        If ``logrank`` is not a :class:`LogrankBatchResult`.

    Notes
    -----
    :math:`\\hat\\beta = (O_1 - E_1)/V` and :math:`\\mathrm{SE} = 1/\\sqrt V` (the one-step Newton estimate of
    the Cox coefficient from 0, the score being :math:`O_1 - E_1` and the information :math:`V`).  Close to
    the Cox estimate when the hazard ratio is near 1 (say 0.5 to 2) and the arms are balanced; it is biased
    towards the null for large effects and with unbalanced arms.  Use it to summarise the mean estimated
    effect across replicates (masking ``degenerate`` rows), not for inference on large effects.

    References
    ----------
    .. [1] Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during and after myocardial
       infarction: an overview of the randomized trials. Prog Cardiovasc Dis 27:335-371.
    .. [2] Berry G, Kitchin RM, Mock PA (1991). A comparison of two simple hazard ratio estimators based on
       the logrank test. Stat Med 10:749-755.

    Examples
    --------
    500 simulated trials of 300 patients (1:1) with a true hazard ratio of 0.7:

    >>> import numpy as np
    >>> from condapprove.kernels.survival import (
    ...     Exponential, draw_event_times, hazard_ratio_estimate, logrank_batch, observe_at)
    >>> rng = np.random.default_rng(1)
    >>> treated = np.tile(np.arange(300) % 2 == 1, (500, 1))
    >>> beta = np.where(treated, np.log(0.7), 0.0)
    >>> t = draw_event_times(rng, Exponential.from_median(10.0), treated.shape, log_hr=beta)
    >>> obs = observe_at(rng.uniform(0.0, 12.0, treated.shape), t, None, 24.0)
    >>> hr = hazard_ratio_estimate(logrank_batch(obs.time, obs.event, treated, obs.valid))
    >>> round(float(np.exp(hr.log_hazard_ratio.mean())), 2)
    0.69
    >>> round(float(np.mean(hr.interval(0.95).high < 1.0)), 2)    # upper limit below 1: power
    0.72
    """
    if not isinstance(logrank, LogrankBatchResult):
        raise _fail("logrank", "a LogrankBatchResult from logrank_batch()", type(logrank).__name__)
    var = logrank.variance
    ok = ~logrank.degenerate
    beta = np.zeros(var.shape)
    se = np.full(var.shape, np.inf)
    beta[ok] = (logrank.observed_treated[ok] - logrank.expected_treated[ok]) / var[ok]
    se[ok] = 1.0 / np.sqrt(var[ok])
    return HazardRatioBatchResult(log_hazard_ratio=beta, standard_error=se, degenerate=logrank.degenerate.copy())
