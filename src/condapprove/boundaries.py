"""Group-sequential designs: alpha-spending functions and one-sided boundaries.

A one-sided group-sequential test looks at the data at information fractions
:math:`0 < t_1 < \\dots < t_K = 1` and rejects :math:`H_0` at the first look whose
standardised statistic :math:`Z_k` exceeds the critical value :math:`c_k`; it may also stop
for futility when :math:`Z_k < a_k`. The critical values come from a Lan-DeMets
*alpha-spending function* :math:`\\alpha(t)`: under :math:`H_0` the probability of a
first crossing at look :math:`k` equals :math:`\\alpha(t_k) - \\alpha(t_{k-1})`.

What is here:

* spending functions (frozen callables): :class:`OBrienFlemingSpending`,
  :class:`PocockSpending`, :class:`KimDeMetsSpending`, :class:`HwangShihDeCaniSpending`,
  built by name with :func:`spending_function`;
* :func:`group_sequential` -> :class:`GroupSequentialDesign` with fixed (binding or
  non-binding) futility bounds or futility bounds from beta spending, power, expected
  information, inflation factor and the drift needed for a target power
  (rpact's ``getDesignGroupSequential`` and ``getDesignCharacteristics``);
* :func:`crossing_probabilities` for any boundaries under any drift;
* the fast path used inside simulations: :func:`critical_values_from_spending`,
  :func:`efficacy_bounds` (cached, for observed information fractions, with a final
  look at a deadline that spends the remaining alpha) and :func:`efficacy_bounds_batch`
  (many information vectors at once).

All probabilities are computed by recursive numerical integration of the density of
:math:`Z_k` over the continuation region (Armitage, McPherson and Rowe 1969; Jennison and
Turnbull 2000, ch. 19), never by simulation. See :func:`crossing_probabilities` for the
recursion and the quadrature used.
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

import numpy as np
from scipy.special import ndtr, ndtri

from ._roots import brentq
from ._typing import ArrayLike, FloatArray, IntArray
from ._validation import MIN_ALPHA, check_finite, check_int, check_one_of, check_positive, check_probability
from .errors import ConvergenceError, DesignError
from .results import ResultMixin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "MIN_ALPHA_INCREMENT",
    "MIN_INFORMATION_STEP",
    "SPENDING_FUNCTIONS",
    "CrossingProbabilities",
    "DesignCharacteristics",
    "GroupSequentialDesign",
    "HwangShihDeCaniSpending",
    "KimDeMetsSpending",
    "OBrienFlemingSpending",
    "PocockSpending",
    "SpendingFunction",
    "critical_values_from_spending",
    "crossing_probabilities",
    "efficacy_bounds",
    "efficacy_bounds_batch",
    "group_sequential",
    "spending_function",
]

SpendingName = Literal["obrien-fleming", "pocock", "kim-demets", "hwang-shih-decani"]

# --------------------------------------------------------------------------------------
# Spending functions
# --------------------------------------------------------------------------------------


def _spending_times_iv(t: Any) -> tuple[FloatArray, bool]:
    try:
        arr = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"`t` must be an information fraction (or array of them) in [0, 1]; got {t!r}.") from None
    if not np.all((arr >= 0.0) & (arr <= 1.0)):  # also catches NaN
        message = f"`t` must be an information fraction (or array of them) in [0, 1]; got {t!r}."
        raise DesignError(message)
    return arr, arr.ndim == 0


class _Shape(NamedTuple):
    """The shape parameter of a spending family: its field, its check and a hint for when it is missing."""

    name: str
    check: Callable[[Any, str], float]
    hint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SpendingFunction(ResultMixin, ABC):
    """Base class of the alpha-spending functions: a frozen callable ``t -> alpha spent``.

    A spending function :math:`\\alpha(t)` is non-decreasing on :math:`[0, 1]` with
    :math:`\\alpha(0) = 0` and :math:`\\alpha(1) = \\alpha`: the cumulative one-sided type I error
    that may be spent by information fraction :math:`t`.

    Attributes
    ----------
    alpha : float
        One-sided type I error spent in total, in [1e-6, 1) (:data:`condapprove._validation.MIN_ALPHA`).
    """

    name: ClassVar[str] = ""
    _shape: ClassVar[_Shape | None] = None  # set by the families with a shape parameter
    alpha: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _total_iv(self.alpha, "alpha"))
        if self._shape is not None:
            name = self._shape.name
            object.__setattr__(self, name, self._shape.check(getattr(self, name), name))

    @property
    def parameter(self) -> float | None:
        """The shape parameter (``rho`` or ``gamma``), or None for a family without one."""
        return None if self._shape is None else float(getattr(self, self._shape.name))

    def __call__(self, t: ArrayLike) -> Any:
        """Cumulative alpha spent by information fraction ``t`` (scalar -> float, array -> array)."""
        arr, scalar = _spending_times_iv(t)
        out = self._spend(arr)
        return float(out) if scalar else out

    @abstractmethod
    def _spend(self, t: FloatArray) -> FloatArray:
        """Cumulative alpha spent at the validated information fractions ``t`` (each subclass's formula)."""

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "alpha": ..., <parameter>: ...}``."""
        return {"name": self.name, **ResultMixin.to_dict(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class OBrienFlemingSpending(SpendingFunction):
    """Lan-DeMets O'Brien-Fleming-type spending, one-sided (rpact ``typeOfDesign="asOF"``).

    Parameters
    ----------
    alpha : float
        One-sided type I error, in (0, 1).

    Notes
    -----
    :math:`\\alpha(t) = 2\\,[1 - \\Phi(z_{1-\\alpha/2} / \\sqrt{t})]`, the form rpact 3.3.4 uses for
    ``sided = 1`` (``getSpendingValueCpp``: ``2 * sided * (1 - pnorm(qnorm(1 - alpha / (2 * sided))
    / sqrt(t)))``). It spends almost nothing early and gives boundaries close to O'Brien and
    Fleming's.

    References
    ----------
    Lan KKG, DeMets DL (1983). Discrete sequential boundaries for clinical trials.
    Biometrika 70:659-663.

    Examples
    --------
    >>> from condapprove.boundaries import OBrienFlemingSpending
    >>> f = OBrienFlemingSpending(alpha=0.025)
    >>> round(f(0.5), 6), f(1.0)
    (0.001525, 0.025)
    """

    name: ClassVar[str] = "obrien-fleming"

    def _spend(self, t: FloatArray) -> FloatArray:
        z = -float(ndtri(self.alpha / 2.0))
        with np.errstate(divide="ignore"):
            out = 2.0 * ndtr(-z / np.sqrt(t))
        out = np.where(t > 0.0, out, 0.0)
        return np.where(t >= 1.0, self.alpha, out)


@dataclass(frozen=True, slots=True, kw_only=True)
class PocockSpending(SpendingFunction):
    """Lan-DeMets Pocock-type spending (rpact ``typeOfDesign="asP"``).

    Parameters
    ----------
    alpha : float
        One-sided type I error, in (0, 1).

    Notes
    -----
    :math:`\\alpha(t) = \\alpha \\log(1 + (e - 1) t)`; boundaries are nearly constant on the
    z scale, like Pocock's.

    References
    ----------
    Lan KKG, DeMets DL (1983). Biometrika 70:659-663.

    Examples
    --------
    >>> from condapprove.boundaries import PocockSpending
    >>> f = PocockSpending(alpha=0.025)
    >>> round(f(0.5), 6)
    0.015503
    """

    name: ClassVar[str] = "pocock"

    def _spend(self, t: FloatArray) -> FloatArray:
        return self.alpha * np.log1p((math.e - 1.0) * t)


@dataclass(frozen=True, slots=True, kw_only=True)
class KimDeMetsSpending(SpendingFunction):
    """Kim-DeMets power-family spending (rpact ``typeOfDesign="asKD"``, ``gammaA = rho``).

    Parameters
    ----------
    alpha : float
        One-sided type I error, in (0, 1).
    rho : float
        Power, > 0: ``rho = 1`` spends linearly; ``rho = 3`` is close to O'Brien-Fleming
        and ``rho`` near 0.8 close to Pocock.

    Notes
    -----
    :math:`\\alpha(t) = \\alpha\\, t^{\\rho}`. rpact accepts ``0.4 <= rho <= 8``; any ``rho > 0`` is
    accepted here.

    References
    ----------
    Kim K, DeMets DL (1987). Design and analysis of group sequential tests based on the
    type I error spending rate function. Biometrika 74:149-154.

    Examples
    --------
    >>> from condapprove.boundaries import KimDeMetsSpending
    >>> KimDeMetsSpending(alpha=0.025, rho=2.0)(0.5)
    0.00625
    """

    name: ClassVar[str] = "kim-demets"
    _shape: ClassVar[_Shape | None] = _Shape("rho", check_positive, "e.g. rho=3 (O'Brien-Fleming-like) or 1 (linear)")
    rho: float

    def _spend(self, t: FloatArray) -> FloatArray:
        return self.alpha * np.power(t, self.rho)


@dataclass(frozen=True, slots=True, kw_only=True)
class HwangShihDeCaniSpending(SpendingFunction):
    """Hwang-Shih-DeCani spending (rpact ``typeOfDesign="asHSD"``, ``gammaA = gamma``).

    Parameters
    ----------
    alpha : float
        One-sided type I error, in (0, 1).
    gamma : float
        Shape, any finite number: ``gamma = 0`` is linear spending, ``gamma = -4`` close to
        O'Brien-Fleming, ``gamma = 1`` close to Pocock. rpact accepts ``-10 <= gamma <= 5``.

    Notes
    -----
    :math:`\\alpha(t) = \\alpha\\,(1 - e^{-\\gamma t}) / (1 - e^{-\\gamma})` for :math:`\\gamma \\ne 0` and
    :math:`\\alpha t` for :math:`\\gamma = 0` (the limit); below :math:`|\\gamma| = 10^{-8}` the ratio's series
    to :math:`\\gamma^2`, :math:`\\alpha t\\,[1 - \\gamma (t - 1)/2 + \\gamma^2 (t - 1)(2t - 1)/12]`.

    References
    ----------
    Hwang IK, Shih WJ, DeCani JS (1990). Group sequential designs using a family of type I
    error probability spending functions. Statistics in Medicine 9:1439-1445.

    Examples
    --------
    >>> from condapprove.boundaries import HwangShihDeCaniSpending
    >>> round(HwangShihDeCaniSpending(alpha=0.025, gamma=-4.0)(0.5), 6)
    0.00298
    >>> HwangShihDeCaniSpending(alpha=0.025, gamma=0.0)(0.5)
    0.0125
    """

    name: ClassVar[str] = "hwang-shih-decani"
    _shape: ClassVar[_Shape | None] = _Shape(
        "gamma", check_finite, "e.g. gamma=-4 (O'Brien-Fleming-like), 0 (linear) or 1 (Pocock-like)"
    )
    gamma: float

    def _spend(self, t: FloatArray) -> FloatArray:
        if abs(self.gamma) < 1e-8:  # (expm1 of a subnormal -gamma t loses its digits: gamma 5e-324 spent nothing
            # at t = 1/2) the ratio's series to gamma^2, within 1e-24 relative; gamma = 0 is linear spending
            x = -self.gamma
            return self.alpha * t * (1.0 + x * (t - 1.0) / 2.0 + x * x * (t - 1.0) * (2.0 * t - 1.0) / 12.0)
        if self.gamma < -700.0:  # (e^-gamma overflows from -709.8: the same ratio, times e^(gamma (1 - t)) <= 1)
            return self.alpha * np.exp(self.gamma * (1.0 - t)) * np.expm1(self.gamma * t) / math.expm1(self.gamma)
        return self.alpha * np.expm1(-self.gamma * t) / math.expm1(-self.gamma)


SPENDING_FUNCTIONS: dict[str, type[SpendingFunction]] = {
    "obrien-fleming": OBrienFlemingSpending,
    "pocock": PocockSpending,
    "kim-demets": KimDeMetsSpending,
    "hwang-shih-decani": HwangShihDeCaniSpending,
}
"""Spending-function names accepted by :func:`spending_function` and :func:`group_sequential`."""


def _total_iv(value: Any, name: str) -> float:
    """The total a spending function spends (``alpha`` or ``beta``): in [:data:`MIN_ALPHA`, 1)."""
    total = check_probability(value, name, open_low=True, open_high=True)
    if total < MIN_ALPHA:
        raise DesignError(f"`{name}` must be >= {MIN_ALPHA:g} (the boundaries of a smaller total are not computed "
                          f"reliably); got {value!r}.")
    return total


def _build_spending(
    spec: Any, total: Any, parameter: Any, *, arg: str, total_arg: str, parameter_arg: str, total_text: str
) -> SpendingFunction:
    """A spending function from a family name or an instance, checked against the other arguments.

    Shared by alpha and beta spending: ``arg`` names the argument holding ``spec`` (``spending`` or
    ``beta_spending``), ``total_arg`` the total it spends (``alpha`` or ``beta``), ``parameter_arg``
    the shape parameter, and ``total_text`` what the total must equal for an instance.
    """
    if isinstance(spec, SpendingFunction):
        if parameter is not None:
            message = f"`{parameter_arg}` must be None when `{arg}` is a SpendingFunction; got {parameter!r}."
            raise DesignError(message)
        if _total_iv(total, total_arg) != spec.alpha:
            message = (
                f"`{total_arg}` must equal {total_text} ({spec.alpha!r}) when `{arg}` is a SpendingFunction; "
                f"got {total!r}."
            )
            raise DesignError(message)
        return spec
    family = arg.replace("_", " ")
    key = check_one_of(spec, arg, SPENDING_FUNCTIONS)
    cls = SPENDING_FUNCTIONS[key]
    shape = cls._shape
    if shape is None:
        if parameter is not None:
            message = f"`{parameter_arg}` must be None for {family} {key!r}, which has no parameter; got {parameter!r}."
            raise DesignError(message)
        return cls(alpha=_total_iv(total, total_arg))
    if parameter is None:
        message = f"`{parameter_arg}` must be given for {family} {key!r} (its `{shape.name}`); got None."
        raise DesignError(message, hint=shape.hint)
    # (checked here, so that an error names the arguments given: `beta`, `parameter`, not the fields they fill)
    total = _total_iv(total, total_arg)
    return cls(alpha=total, **{shape.name: shape.check(parameter, parameter_arg)})


def _resolve_spending(spending: Any, alpha: Any, parameter: Any) -> SpendingFunction:
    """``alpha=None`` means 0.025, or the spending function's own alpha."""
    if alpha is None:
        alpha = spending.alpha if isinstance(spending, SpendingFunction) else 0.025
    return spending_function(spending, alpha, parameter)


def spending_function(
    name: SpendingName | SpendingFunction,
    alpha: float = 0.025,
    parameter: float | None = None,
) -> SpendingFunction:
    """Build an alpha-spending function by name.

    Parameters
    ----------
    name : {'obrien-fleming', 'pocock', 'kim-demets', 'hwang-shih-decani'} or SpendingFunction
        The family. A :class:`SpendingFunction` is returned as is (then ``parameter`` must be
        None and ``alpha`` must equal its ``alpha``).
    alpha : float, default 0.025
        One-sided type I error spent in total, in (0, 1).
    parameter : float, optional
        ``rho`` (> 0) for 'kim-demets', ``gamma`` (finite) for 'hwang-shih-decani'; required
        for these two and not accepted for the others.

    Returns
    -------
    SpendingFunction
        A frozen callable with ``f(0) = 0`` and ``f(1) = alpha``.

    Raises
    ------
    DesignError
        For an unknown name, a missing or non-applicable ``parameter`` or an invalid value.

    Examples
    --------
    >>> from condapprove.boundaries import spending_function
    >>> spending_function("kim-demets", 0.05, 3)
    KimDeMetsSpending(alpha=0.05, rho=3.0)
    >>> f = spending_function("hwang-shih-decani", parameter=-4)
    >>> f([0.25, 0.5, 1.0]).round(5)
    array([0.0008 , 0.00298, 0.025  ])
    """
    return _build_spending(
        name,
        alpha,
        parameter,
        arg="spending",
        total_arg="alpha",
        parameter_arg="parameter",
        total_text="the spending function's alpha",
    )


# --------------------------------------------------------------------------------------
# Numerical core: recursive integration (Jennison & Turnbull 2000, ch. 19)
# --------------------------------------------------------------------------------------

_GL_ORDER = 8  # Gauss-Legendre nodes per panel
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_ORDER)
_PANEL_WIDTH = 2.0  # panel width in units of the integrand's smallest length scale
_HALF_RANGE = 8.5  # integrate Z_k from mean - 8.5 (mass below < 1e-17) ...
_UPPER_RANGE = 12.0  # ... up to its critical value, at most mean + 12 (tail increments of spending > 1e-30)
#: Alpha increments at or below this are not spent (critical value inf): their critical values lie beyond the
#: integration's reach (_UPPER_RANGE), where the recursion cannot resolve a tail of 1e-30 or less and returned values
#: that were wrong (31.53 for 31.68 at an increment of 1e-220; 0.0, and so a type I error of 0.5, before the root
#: finder compared signs instead of multiplying values).  What is not spent is at most this much a look.
MIN_ALPHA_INCREMENT = 1e-30
_MAX_PANELS = 4096  # at most 32768 nodes per look (reached only for very close looks)
_KERNEL_CUTOFF = 9.0  # exp(-81/2) ~ 2.6e-18: kernel terms further out are dropped
_BLOCK_CELLS = 1 << 18  # kernel-matrix cells evaluated at once
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: Smallest step between two looks' information, relative to the later look's: closer looks are refused (the
#: integration's nodes no longer resolve them: the type I error of the bounds, by mvtnorm, was 0.025000 with steps of
#: 1e-6, 0.024998 with 3e-7 and 0.0416 with 1e-8 for O'Brien-Fleming-type spending at t = 0.5, 0.5 (1 + step), 1).
#: The simulation engine counts a look only when it adds more than this (:mod:`condapprove.simulation.decision`).
MIN_INFORMATION_STEP = 1e-6
_CLOSE_HINT = "looks must add more than a millionth (1e-6) of the information: drop or merge looks closer than that"
_MAX_EXPAND = 200  # bracket expansions (steps of 2 on the z scale) before giving up


def _nodes(lo: float, hi: float, scale: float) -> tuple[FloatArray, FloatArray]:
    """Composite Gauss-Legendre nodes and weights on [lo, hi] (empty when lo >= hi)."""
    if not hi > lo:
        return np.empty(0), np.empty(0)
    n_panels = min(_MAX_PANELS, max(1, math.ceil((hi - lo) / (_PANEL_WIDTH * scale))))
    edges = np.linspace(lo, hi, n_panels + 1)
    half = 0.5 * (edges[1:] - edges[:-1])
    mid = 0.5 * (edges[1:] + edges[:-1])
    x = (mid[:, None] + half[:, None] * _GL_X).ravel()
    w = (half[:, None] * _GL_W).ravel()
    return x, w


def _convolve(a: FloatArray, b: FloatArray, g: FloatArray) -> FloatArray:
    """``sum_j g_j exp(-(a_i - b_j)**2 / 2)`` for sorted ``a`` and ``b``, skipping negligible terms.

    Rows are processed in blocks; each block only touches the ``b`` within
    ``_KERNEL_CUTOFF`` of its ``a`` range, so narrow kernels (close looks, many nodes) cost
    O(n * band) instead of O(n**2).
    """
    n = a.size
    if n * b.size <= _BLOCK_CELLS:
        u = a[:, None] - b[None, :]
        return np.exp(-0.5 * u * u) @ g
    out = np.empty(n)
    rows = max(16, _BLOCK_CELLS // max(1, b.size))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        j0 = int(np.searchsorted(b, a[start] - _KERNEL_CUTOFF, side="left"))
        j1 = int(np.searchsorted(b, a[stop - 1] + _KERNEL_CUTOFF, side="right"))
        if j1 <= j0:
            out[start:stop] = 0.0
            continue
        u = a[start:stop, None] - b[None, j0:j1]
        out[start:stop] = np.exp(-0.5 * u * u) @ g[j0:j1]
    return out


class _Recursion:
    """Stage-to-stage propagation of the sub-density of :math:`Z_k` on the continuation region.

    ``t`` are information fractions (only their ratios matter under ``drift = 0``); the mean of
    :math:`Z_k` is ``drift * sqrt(t_k)``. After :meth:`advance` to look ``k`` the object holds
    nodes ``z`` and weighted sub-density ``g = w * f_k(z)`` on ``(lower_k, upper_k)``.
    """

    __slots__ = ("drift", "g", "k", "t", "z")

    def __init__(self, t: FloatArray, drift: float) -> None:
        self.t = t
        self.drift = drift
        self.k = -1
        self.z: FloatArray = np.empty(0)
        self.g: FloatArray = np.empty(0)

    def _transition(self, k: int) -> tuple[float, float, float, float]:
        t = self.t
        st, sp = math.sqrt(t[k]), math.sqrt(t[k - 1])
        d = t[k] - t[k - 1]
        return st, sp, math.sqrt(d), self.drift * d

    def tail_probs(self, k: int, upper: float, lower: float) -> tuple[float, float]:
        """P(continue to look k, Z_k >= upper) and P(continue to look k, Z_k <= lower)."""
        if k == 0:
            mu = self.drift * math.sqrt(self.t[0])
            return float(ndtr(mu - upper)), float(ndtr(lower - mu))
        st, sp, sd, md = self._transition(k)
        base = self.z * sp + md
        up = float(ndtr((base - upper * st) / sd) @ self.g) if upper < math.inf else 0.0
        lo = float(ndtr((lower * st - base) / sd) @ self.g) if lower > -math.inf else 0.0
        return up, lo

    def continue_mass(self) -> float:
        """P(continue past the current look)."""
        return float(self.g.sum())

    def tail_prob_fn(self, k: int, *, upper: bool) -> Callable[[float], float]:
        """Return ``c -> P(continue to look k, Z_k >= c)`` (``upper``) or ``P(continue to look k, Z_k < c)`` (k >= 1)."""
        st, sp, sd, md = self._transition(k)
        base = (self.z * sp + md) / sd
        g = self.g
        r = st / sd
        sign = 1.0 if upper else -1.0  # exact: x - y == -(y - x) in floating point

        def prob(c: float) -> float:
            return float(ndtr(sign * (base - c * r)) @ g)

        return prob

    def advance(self, k: int, upper: float, lower: float) -> None:
        """Move to look ``k``: density of Z_k on (lower, upper) given continuation so far."""
        t = self.t
        mu = self.drift * math.sqrt(t[k])
        lo = max(lower, mu - _HALF_RANGE)
        hi = min(upper, mu + _UPPER_RANGE)
        # smallest length scale (in z) of the integrand at this look: 1 for the normal itself,
        # sqrt(dt_k / t_k) for the kernel that made f_k, sqrt(dt_{k+1} / t_k) for the next kernel
        scale = 1.0
        if k > 0:
            scale = min(scale, math.sqrt((t[k] - t[k - 1]) / t[k]))
        if k + 1 < len(t):
            scale = min(scale, math.sqrt((t[k + 1] - t[k]) / t[k]))
        y, w = _nodes(lo, hi, scale)
        if k == 0:
            u = y - mu
            f = _INV_SQRT_2PI * np.exp(-0.5 * u * u)
        elif self.g.size == 0 or y.size == 0:
            f = np.zeros_like(y)
        else:
            st, sp, sd, md = self._transition(k)
            f = _convolve(y * (st / sd), (self.z * sp + md) / sd, self.g) * (_INV_SQRT_2PI * st / sd)
        self.z, self.g, self.k = y, w * f, k


def _probabilities(t: FloatArray, upper: FloatArray, lower: FloatArray, drift: float) -> tuple[FloatArray, FloatArray]:
    """Per-look first-crossing probabilities above ``upper`` and below ``lower``."""
    K = t.size
    rec = _Recursion(t, drift)
    rej = np.zeros(K)
    fut = np.zeros(K)
    for k in range(K):
        if k > 0 and rec.g.size == 0:
            break
        rej[k], fut[k] = rec.tail_probs(k, upper[k], lower[k])
        if k + 1 < K:
            rec.advance(k, upper[k], lower[k])
    return rej, fut


def _bracketed_root(
    prob: Callable[[float], float], target: float, lo: float, hi: float, *, increasing: bool, failure: str
) -> float:
    """Solve ``prob(x) = target`` for a monotone ``prob``, widening ``[lo, hi]`` in steps of 2 until it brackets."""
    sign = 1.0 if increasing else -1.0
    for _ in range(_MAX_EXPAND):
        if sign * (prob(hi) - target) >= 0.0 and sign * (prob(lo) - target) <= 0.0:
            break
        hi, lo = (hi + 2.0, lo) if sign * (prob(hi) - target) < 0.0 else (hi, lo - 2.0)
    else:  # pragma: no cover - the bracket always closes within a few steps
        raise ConvergenceError(failure)
    return float(brentq(lambda x: prob(x) - target, lo, hi, xtol=1e-13, rtol=1e-15, maxiter=200))


def _upper_root(rec: _Recursion, k: int, a: float) -> float | None:
    """Critical value at look ``k`` spending ``a`` under H0; ``rec`` sits at look ``k - 1``.

    Returns None when (binding) futility bounds left less than ``a`` to spend.
    """
    if a <= MIN_ALPHA_INCREMENT:
        return math.inf
    if k == 0:
        return -float(ndtri(a))
    available = rec.continue_mass()
    if a >= available * (1.0 - 1e-12):
        return None
    hi = max(1.0, -float(ndtri(a)))
    lo = min(hi - 1.0, -float(ndtri(min(a / available, 0.5))) - 1.0)
    failure = f"no critical value brackets the alpha {a!r} to spend at look {k + 1}."
    return _bracketed_root(rec.tail_prob_fn(k, upper=True), a, lo, hi, increasing=False, failure=failure)


def _solve_upper(t: FloatArray, increments: FloatArray, lower: FloatArray) -> FloatArray:
    """Critical values spending ``increments`` under H0 (``lower`` are binding futility bounds)."""
    K = t.size
    c = np.empty(K)
    rec = _Recursion(t, 0.0)
    for k in range(K):
        ck = _upper_root(rec, k, increments[k])
        if ck is None:
            message = (
                f"`futility` must leave enough type I error to spend: binding futility bounds leave "
                f"P(reach look {k + 1}) = {rec.continue_mass():.3g} under H0, not more than the alpha to spend "
                f"there ({increments[k]:.3g}); got futility bounds {lower[:k].tolist()!r}."
            )
            raise DesignError(message, hint="lower the futility bounds or make them non-binding")
        c[k] = ck
        if k + 1 < K:
            rec.advance(k, c[k], lower[k])
    return c


def _lower_root(rec: _Recursion, k: int, b: float, upper: float) -> float | None:
    """Futility bound at look ``k`` with P(continue to k, Z_k < a) = ``b`` (``rec`` at look k - 1).

    Returns None when even ``a = upper`` stops less than ``b`` (the bound would cross the
    efficacy bound).
    """
    if b <= 0.0:
        return -math.inf
    if k == 0:
        mu = rec.drift * math.sqrt(rec.t[0])
        a0 = mu + float(ndtri(b))
        return a0 if a0 < upper else None
    prob = rec.tail_prob_fn(k, upper=False)
    if prob(upper) <= b:
        return None
    hi = upper if math.isfinite(upper) else 0.0
    failure = f"no futility bound brackets the beta {b!r} to spend at look {k + 1}."
    return _bracketed_root(prob, b, hi - 1.0, hi, increasing=True, failure=failure)


def _beta_spending_bounds(
    t: FloatArray,
    alpha_increments: FloatArray,
    beta_increments: FloatArray,
    binding: bool,
) -> tuple[FloatArray, FloatArray, float]:
    """Efficacy and futility bounds from alpha and beta spending (rpact ``typeBetaSpending``).

    For a drift ``theta`` the futility bounds spend ``beta_increments`` under ``theta``
    look by look (after the efficacy bound of the same look, which for binding futility is
    recomputed with the futility bounds so far); ``theta`` is then found so that the last
    futility bound meets the last critical value.
    """
    K = t.size
    fixed_c = None if binding else _solve_upper(t, alpha_increments, np.full(K, -np.inf))

    def run(theta: float) -> tuple[FloatArray, FloatArray, int | None]:
        c = np.empty(K) if fixed_c is None else fixed_c.copy()
        a = np.full(K, -np.inf)
        rec0 = _Recursion(t, 0.0) if binding else None
        rec1 = _Recursion(t, theta)
        for k in range(K):
            if rec0 is not None:
                ck = _upper_root(rec0, k, alpha_increments[k])
                if ck is None:  # binding futility took all type I error: theta too large
                    c[k:] = math.inf
                    return c, a, k
                c[k] = ck
            ak = _lower_root(rec1, k, beta_increments[k], c[k])
            if ak is None:
                a[k] = c[k]
                return c, a, k
            a[k] = ak
            if k + 1 < K:
                rec1.advance(k, c[k], a[k])
                if rec0 is not None:
                    rec0.advance(k, c[k], a[k])
        return c, a, None

    def gap(theta: float) -> float:
        c, a, crossed = run(theta)
        if crossed is not None:
            return float(K - crossed)  # futility would cross efficacy: theta too large
        return float(a[-1] - c[-1])

    lo, hi = -4.0, 10.0
    while gap(lo) > 0.0:
        lo -= 4.0
        if lo < -40.0:  # pragma: no cover - defensive
            raise ConvergenceError("beta spending: no drift makes the last futility bound meet the critical value.")
    while gap(hi) < 0.0:
        hi *= 2.0
        if hi > 1e3:  # pragma: no cover - defensive
            raise ConvergenceError("beta spending: no drift makes the last futility bound meet the critical value.")
    theta = float(brentq(gap, lo, hi, xtol=1e-13, rtol=1e-15, maxiter=300))
    c, a, crossed = run(theta)
    if crossed is not None and crossed < K - 1:  # pragma: no cover - not seen for power > alpha; defensive
        message = (
            f"`beta_spending` must leave the futility bound below the efficacy bound at every interim look; "
            f"at look {crossed + 1} it would reach the critical value {c[crossed]:.4g}."
        )
        raise DesignError(message, hint="spend beta more slowly (e.g. 'obrien-fleming') or alpha faster")
    return c, a, theta


# --------------------------------------------------------------------------------------
# Vectorised recursion: many information vectors at once (efficacy bounds under H0)
# --------------------------------------------------------------------------------------

_BATCH_ROWS = 256  # rows (information vectors) per block
_BATCH_MAX_PANELS = 64  # rows needing finer grids (close looks) take the one-row path
_BATCH_CELLS = 1 << 21  # kernel-tensor cells evaluated at once


@functools.lru_cache(maxsize=64)
def _unit_rule(n_panels: int) -> tuple[FloatArray, FloatArray]:
    """Composite Gauss-Legendre nodes and weights on [0, 1] with ``n_panels`` equal panels."""
    x, w = _nodes(0.0, 1.0, 1.0 / (n_panels * _PANEL_WIDTH) * (1.0 - 1e-12))
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w


def _convolve_many(a: FloatArray, b: FloatArray, g: FloatArray) -> FloatArray:
    """Row-wise ``sum_j g[r, j] exp(-(a[r, i] - b[r, j])**2 / 2)``."""
    R, m = a.shape
    n = b.shape[1]
    out = np.empty((R, m))
    step = max(1, _BATCH_CELLS // max(1, m * n))
    for s in range(0, R, step):
        u = a[s : s + step, :, None] - b[s : s + step, None, :]
        out[s : s + step] = (np.exp(-0.5 * u * u) @ g[s : s + step, :, None])[..., 0]
    return out


def _roots_many(base: FloatArray, g: FloatArray, ratio: FloatArray, target: FloatArray) -> FloatArray:
    """Row-wise root of ``sum_j g[r, j] Phi(base[r, j] - c ratio[r]) = target[r]`` (safeguarded Newton)."""
    R = target.size
    c = np.full(R, np.inf)
    act = np.flatnonzero(target > MIN_ALPHA_INCREMENT)
    if act.size == 0:
        return c
    base, g, ratio, target = base[act], g[act], ratio[act][:, None], target[act]
    lo = np.full(act.size, -12.0)
    hi = np.full(act.size, 40.0)
    x = np.clip(-ndtri(target), lo, hi)
    settled = np.zeros(act.size, dtype=bool)  # each row stops at its own convergence: its root is its own
    for _ in range(200):
        arg = base - x[:, None] * ratio
        h = np.einsum("rj,rj->r", ndtr(arg), g) - target
        dh = -ratio[:, 0] * np.einsum("rj,rj->r", np.exp(-0.5 * arg * arg), g) * _INV_SQRT_2PI
        pos = h > 0.0
        lo = np.where(pos, x, lo)
        hi = np.where(pos, hi, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - h / dh
        ok = np.isfinite(newton) & (newton >= lo) & (newton <= hi)
        xn = np.where(ok, newton, 0.5 * (lo + hi))
        step_done = np.abs(xn - x) <= 1e-13 * (1.0 + np.abs(x))
        x = np.where(settled, x, xn)
        settled |= step_done
        if settled.all():
            break
    else:  # pragma: no cover - Newton with bisection safeguard converges in < 20 steps
        raise ConvergenceError("vectorised critical-value search did not converge.")
    c[act] = x
    return c


def _stage_scales(T: FloatArray) -> FloatArray:
    """Smallest integrand length scale per row and look (see ``_Recursion.advance``)."""
    d = np.diff(T, axis=1)
    scale = np.ones_like(T)
    if T.shape[1] > 1:
        scale[:, 1:] = np.minimum(scale[:, 1:], np.sqrt(d / T[:, 1:]))
        scale[:, :-1] = np.minimum(scale[:, :-1], np.sqrt(d / T[:, :-1]))
    return scale


def _solve_upper_block(T: FloatArray, inc: FloatArray, scale: FloatArray) -> FloatArray:
    """:func:`_solve_upper` (no futility) for a block of rows, vectorised over rows that share a node count.

    Each row's critical values depend on that row alone, not on the rows that share the call: at each look the
    rows are split into groups of one node count (the count each row needs by itself), and each row's Newton search
    stops at its own convergence.  (A common count per look, the largest any row needed, and a search that ran on
    until every row had converged, moved a row's values by up to about 1e-12 with its companions; the simulation
    computes the bounds of each chunk's new rows, so a chunk size or a number of workers could, in principle,
    have decided a z within that of its bound differently.)
    """
    R, K = T.shape
    C = np.empty((R, K))
    with np.errstate(divide="ignore"):
        C[:, 0] = np.where(inc[:, 0] > MIN_ALPHA_INCREMENT, -ndtri(inc[:, 0]), np.inf)
    lo = -_HALF_RANGE
    # groups still to carry on: rows whose critical value at look k is known, with what that value's search was given
    # (look k - 1's weighted nodes g, scaled to look k's increment as base, and the ratio of the scales; none at look 0)
    todo: list[tuple[IntArray, int, FloatArray, FloatArray, FloatArray]] = [
        (np.arange(R), 0, np.empty((R, 0)), np.empty((R, 0)), np.ones(R))]
    while todo:
        rows, k, base, g, ratio = todo.pop()
        if k == K - 1:
            continue
        width = np.maximum(np.minimum(C[rows, k], _UPPER_RANGE) - lo, 0.0)
        panels = np.clip(np.ceil(width / (_PANEL_WIDTH * scale[rows, k])), 1, _MAX_PANELS).astype(np.int64)
        for count in np.unique(panels):
            sel = np.flatnonzero(panels == count)
            r = rows[sel]
            u, v = _unit_rule(int(count))
            y = lo + width[sel, None] * u
            w = width[sel, None] * v
            if k == 0:
                f = _INV_SQRT_2PI * np.exp(-0.5 * y * y)
            else:
                rk = ratio[sel, None]
                f = _convolve_many(y * rk, base[sel], g[sel]) * (_INV_SQRT_2PI * rk)
            g_next = w * f
            st, sp, sd = np.sqrt(T[r, k + 1]), np.sqrt(T[r, k]), np.sqrt(T[r, k + 1] - T[r, k])
            base_next, ratio_next = y * (sp / sd)[:, None], st / sd
            C[r, k + 1] = _roots_many(base_next, g_next, ratio_next, inc[r, k + 1])
            todo.append((r, k + 1, base_next, g_next, ratio_next))
    return C


def _solve_upper_many(T: FloatArray, inc: FloatArray) -> FloatArray:
    """Critical values (no futility) for many rows of information fractions ``T`` (last = 1)."""
    R, K = T.shape
    out = np.empty((R, K))
    scale = _stage_scales(T)
    need = np.max(np.ceil((_HALF_RANGE + _UPPER_RANGE) / (_PANEL_WIDTH * scale)), axis=1)
    slow = need > _BATCH_MAX_PANELS
    for r in np.flatnonzero(slow):
        out[r] = _solve_upper(T[r], inc[r], np.full(K, -np.inf))
    fast = np.flatnonzero(~slow)
    order = fast[np.argsort(need[fast], kind="stable")]
    for s in range(0, order.size, _BATCH_ROWS):
        rows = order[s : s + _BATCH_ROWS]
        out[rows] = _solve_upper_block(T[rows], inc[rows], scale[rows])
    return out


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _information_rates_iv(value: Any, name: str, *, require_final_one: bool) -> FloatArray:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        k = check_int(value, name, minimum=1)
        return np.arange(1, k + 1, dtype=np.float64) / k
    contract = "strictly increasing information fractions in (0, 1]"
    if require_final_one:
        contract += " ending at 1 (or a number of equally spaced looks)"
    try:
        t = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"`{name}` must be {contract}; got {value!r}.") from None
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t <= 0.0) or np.any(t > 1.0):
        raise DesignError(f"`{name}` must be {contract}; got {value!r}.")
    if t.size > 1 and np.any(np.diff(t) <= MIN_INFORMATION_STEP * t[1:]):
        raise DesignError(f"`{name}` must be {contract}; got {value!r}.", hint=_CLOSE_HINT)
    if require_final_one and abs(t[-1] - 1.0) > 1e-12:
        raise DesignError(f"`{name}` must be {contract}; got {value!r}.")
    if require_final_one:
        t[-1] = 1.0
    return t


def _futility_iv(futility: Any, K: int) -> FloatArray:
    """Futility bounds of length K - 1 (None / -inf = none) -> array of length K (last -inf)."""
    lower = np.full(K, -np.inf)
    if futility is None:
        return lower
    contract = f"a sequence of {K - 1} z-values (None or -inf for no bound at a look), one per interim look"
    try:
        items = list(futility)
        arr = np.array([-np.inf if v is None else v for v in items], dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"`futility` must be {contract}; got {futility!r}.") from None
    if arr.ndim != 1 or arr.size != K - 1 or np.any(np.isnan(arr)) or np.any(arr == np.inf):
        raise DesignError(f"`futility` must be {contract}; got {futility!r}.")
    lower[: K - 1] = arr
    return lower


def _beta_spending_iv(
    beta_spending: Any, beta_parameter: Any, beta: float, futility: Any, K: int
) -> SpendingFunction | None:
    if beta_spending is None:
        if beta_parameter is not None:
            message = f"`beta_parameter` must be None when there is no `beta_spending`; got {beta_parameter!r}."
            raise DesignError(message)
        return None
    if futility is not None:
        message = f"`futility` must be None when `beta_spending` derives the futility bounds; got {futility!r}."
        raise DesignError(message)
    if K == 1:
        raise DesignError(f"`beta_spending` must be None for a single look; got {beta_spending!r}.")
    return _build_spending(
        beta_spending,
        beta,
        beta_parameter,
        arg="beta_spending",
        total_arg="beta",
        parameter_arg="beta_parameter",
        total_text="the total of the beta-spending function",
    )


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


def _tuple(a: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(a, dtype=np.float64).ravel())


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossingProbabilities(ResultMixin):
    """Boundary-crossing probabilities of a group-sequential test under one drift.

    Attributes
    ----------
    drift : float
        Expected z-statistic at full information (:math:`\\theta\\sqrt{I_{max}}`); the mean of
        :math:`Z_k` is ``drift * sqrt(t_k)``.
    information_rates : tuple of float
        The looks' information fractions :math:`t_k`.
    rejection_probabilities : tuple of float
        P(first crossing of the efficacy bound at look k), per look.
    futility_probabilities : tuple of float
        P(stop for futility at look k), per interim look (``K - 1`` entries).
    cumulative_power : tuple of float
        P(rejected by look k).
    power : float
        Overall probability of rejecting :math:`H_0` (the type I error when ``drift = 0``).
    expected_information : float
        Expected information at stopping as a fraction of the maximum,
        :math:`\\sum_{k<K} t_k P(\\text{stop at } k) + t_K P(\\text{reach } K)`.
    """

    drift: float
    information_rates: tuple[float, ...]
    rejection_probabilities: tuple[float, ...]
    futility_probabilities: tuple[float, ...]
    cumulative_power: tuple[float, ...]
    power: float
    expected_information: float

    def to_frame(self) -> pd.DataFrame:
        """One row per look: ``stage, information_rate, rejection, futility, cumulative_power``."""
        import pandas as pd

        K = len(self.information_rates)
        return pd.DataFrame(
            {
                "stage": np.arange(1, K + 1),
                "information_rate": self.information_rates,
                "rejection": self.rejection_probabilities,
                "futility": [*self.futility_probabilities, 0.0],
                "cumulative_power": self.cumulative_power,
            }
        )


def _crossing(t: FloatArray, upper: FloatArray, lower: FloatArray, drift: float) -> CrossingProbabilities:
    rej, fut = _probabilities(t, upper, lower, drift)
    K = t.size
    stop = rej + fut
    stop[-1] = 0.0
    reach_last = 1.0 - stop[:-1].sum()
    expected = float(np.dot(t[:-1], stop[:-1]) + t[-1] * reach_last)
    return CrossingProbabilities(
        drift=float(drift),
        information_rates=_tuple(t),
        rejection_probabilities=_tuple(rej),
        futility_probabilities=_tuple(fut[: K - 1]),
        cumulative_power=_tuple(np.cumsum(rej)),
        power=float(rej.sum()),
        expected_information=expected,
    )


def crossing_probabilities(
    critical_values: ArrayLike,
    information_rates: ArrayLike,
    *,
    futility_bounds: ArrayLike | None = None,
    drift: float = 0.0,
) -> CrossingProbabilities:
    """Probabilities of crossing given one-sided boundaries, by recursive numerical integration.

    Parameters
    ----------
    critical_values : array_like
        Efficacy bounds :math:`c_k` on the z scale, one per look (``inf`` for no efficacy stop).
    information_rates : array_like
        Strictly increasing information fractions :math:`t_k` in (0, 1].
    futility_bounds : array_like, optional
        ``K - 1`` futility bounds :math:`a_k` for the interim looks (None or ``-inf`` for none);
        stopping below them is counted.
    drift : float, default 0
        Expected z-statistic at full information; :math:`E[Z_k] = \\text{drift}\\sqrt{t_k}`.

    Returns
    -------
    CrossingProbabilities

    Notes
    -----
    With :math:`S_k = Z_k\\sqrt{t_k}` a Brownian motion with drift, the sub-density of
    :math:`Z_k` on the continuation region :math:`(a_k, c_k)` satisfies
    :math:`f_1(z) = \\phi(z - \\theta\\sqrt{t_1})` and

    .. math:: f_k(y) = \\int_{a_{k-1}}^{c_{k-1}} f_{k-1}(z) \\sqrt{t_k/\\Delta_k}\\,
              \\phi\\Big(\\frac{y\\sqrt{t_k} - z\\sqrt{t_{k-1}} - \\theta\\Delta_k}{\\sqrt{\\Delta_k}}\\Big)\\,dz,

    :math:`\\Delta_k = t_k - t_{k-1}`; first-crossing probabilities integrate :math:`f_{k-1}`
    against normal tail probabilities (Jennison and Turnbull 2000, ch. 19). The integrals use
    composite 8-point Gauss-Legendre rules on :math:`(a_k, c_k) \\cap (\\mu_k - 8.5, \\mu_k + 12)`
    with panels no wider than twice the integrand's smallest length scale
    (:math:`\\min(1, \\sqrt{\\Delta_k/t_k}, \\sqrt{\\Delta_{k+1}/t_k})`), typically 40-100 nodes a
    look; absolute error is about 1e-12 (checked against a 6x finer 16-point rule and against
    the exact bivariate normal for two looks). Close looks need more nodes: kernel terms beyond
    9 standard deviations are skipped (banded evaluation) and a look has at most 32,768 nodes,
    so :math:`\\Delta_k/t_k = 10^{-4}` costs about 10 ms and :math:`10^{-6}` about 0.1 s; closer looks
    are refused (:data:`MIN_INFORMATION_STEP`: below it the nodes no longer resolve the look, and the bounds
    are wrong). Typical designs (2-5 looks) take 0.2-1.5 ms.

    References
    ----------
    Jennison C, Turnbull BW (2000). Group Sequential Methods with Applications to Clinical
    Trials. Chapman & Hall/CRC, chapter 19.

    Examples
    --------
    >>> from condapprove.boundaries import crossing_probabilities
    >>> cp = crossing_probabilities([2.797, 1.977], [0.5, 1.0])
    >>> round(cp.power, 4)
    0.025
    >>> round(crossing_probabilities([2.797, 1.977], [0.5, 1.0], drift=2.8).power, 3)
    0.797
    """
    t = _information_rates_iv(information_rates, "information_rates", require_final_one=False)
    K = t.size
    try:
        c = np.asarray(critical_values, dtype=np.float64)
    except (TypeError, ValueError):
        c = np.array([np.nan])
    if c.shape != (K,) or np.any(np.isnan(c)) or np.any(c == -np.inf):
        message = f"`critical_values` must be {K} z-values (one per look, inf allowed); got {critical_values!r}."
        raise DesignError(message)
    lower = _futility_iv(futility_bounds, K)
    if np.any(lower[:-1] >= c[:-1]):
        message = f"`futility_bounds` must be below the critical values at each look; got {futility_bounds!r}."
        raise DesignError(message)
    return _crossing(t, c, lower, check_finite(drift, "drift"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DesignCharacteristics(ResultMixin):
    """Operating characteristics of a design at the drift that gives power ``1 - beta``.

    The counterpart of rpact's ``getDesignCharacteristics()``.

    Attributes
    ----------
    drift : float
        Expected z-statistic at full information giving power ``1 - beta``
        (rpact ``sqrt(shift)``).
    fixed_drift : float
        The same for the fixed (single-look) design, :math:`z_{1-\\alpha} + z_{1-\\beta}`
        (rpact ``sqrt(nFixed)``).
    inflation_factor : float
        ``(drift / fixed_drift)**2``: maximum information relative to the fixed design.
    power : tuple of float
        Cumulative power by look at ``drift`` (rpact ``power``).
    rejection_probabilities : tuple of float
        Per-look rejection probabilities at ``drift``.
    futility_probabilities : tuple of float
        Per-interim-look futility stopping probabilities at ``drift``.
    expected_information_h1, expected_information_h01, expected_information_h0 : float
        Expected information (fraction of the maximum) at ``drift``, ``drift / 2`` and 0.
    asn_ratio_h1, asn_ratio_h01, asn_ratio_h0 : float
        Expected sample size relative to the fixed design, ``inflation_factor`` times the
        expected information (rpact ``averageSampleNumber1``, ``...01``, ``...0``).
    """

    drift: float
    fixed_drift: float
    inflation_factor: float
    power: tuple[float, ...]
    rejection_probabilities: tuple[float, ...]
    futility_probabilities: tuple[float, ...]
    expected_information_h1: float
    expected_information_h01: float
    expected_information_h0: float
    asn_ratio_h1: float
    asn_ratio_h01: float
    asn_ratio_h0: float


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSequentialDesign(ResultMixin):
    """A one-sided group-sequential design with alpha-spending efficacy bounds.

    Build it with :func:`group_sequential`.

    Attributes
    ----------
    information_rates : tuple of float
        Information fractions :math:`t_k` of the looks, the last equal to 1.
    alpha : float
        One-sided type I error.
    beta : float
        Type II error used for :attr:`drift` and :attr:`inflation_factor`.
    spending : SpendingFunction
        The alpha-spending function.
    critical_values : tuple of float
        One-sided efficacy bounds :math:`c_k` (z scale): reject :math:`H_0` at look k if
        :math:`Z_k \\ge c_k`.
    cumulative_alpha : tuple of float
        Alpha spent by look k, :math:`\\alpha(t_k)` (rpact ``alphaSpent``).
    stage_levels : tuple of float
        Nominal one-sided p-value thresholds :math:`1 - \\Phi(c_k)` (rpact ``stageLevels``).
    futility_bounds : tuple of float
        ``K - 1`` futility bounds :math:`a_k` (z scale, stop if :math:`Z_k < a_k`); ``-inf``
        where there is none.
    binding : bool
        Whether the futility bounds were taken into account when computing the critical values.
    beta_spending : SpendingFunction or None
        The beta-spending function the futility bounds come from, if any.
    drift : float
        Expected z-statistic at full information under which the power is ``1 - beta``.
    inflation_factor : float
        Maximum information relative to the fixed design with the same ``alpha`` and ``beta``,
        ``(drift / (z_{1-alpha} + z_{1-beta}))**2`` (rpact ``inflationFactor``).
    """

    information_rates: tuple[float, ...]
    alpha: float
    beta: float
    spending: SpendingFunction
    critical_values: tuple[float, ...]
    cumulative_alpha: tuple[float, ...]
    stage_levels: tuple[float, ...]
    futility_bounds: tuple[float, ...]
    binding: bool
    beta_spending: SpendingFunction | None
    drift: float
    inflation_factor: float

    @property
    def n_looks(self) -> int:
        """Number of looks ``K``."""
        return len(self.information_rates)

    def _arrays(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        t = np.asarray(self.information_rates, dtype=np.float64)
        c = np.asarray(self.critical_values, dtype=np.float64)
        lower = np.full(t.size, -np.inf)
        lower[:-1] = self.futility_bounds
        return t, c, lower

    def power(self, drift: float) -> CrossingProbabilities:
        """Rejection (and futility) probabilities per look under ``drift``.

        Parameters
        ----------
        drift : float
            Expected z-statistic at full information (:math:`\\theta\\sqrt{I_{max}}`).

        Returns
        -------
        CrossingProbabilities
            Futility stops are counted (whether the bounds are binding or not), so
            ``power(0).power`` is below ``alpha`` for a non-binding design with futility bounds.
        """
        t, c, lower = self._arrays()
        return _crossing(t, c, lower, check_finite(drift, "drift"))

    def expected_information(self, drift: float) -> float:
        """Expected information at stopping, as a fraction of the maximum, under ``drift``.

        Efficacy stops and futility stops both end the study early.
        """
        return self.power(drift).expected_information

    def drift_for_power(self, power: float) -> float:
        """The drift (expected z at full information) at which the design has ``power``.

        Parameters
        ----------
        power : float
            Target overall rejection probability, above the rejection probability at drift 0.

        Returns
        -------
        float
        """
        t, c, lower = self._arrays()
        return _drift_for_power(t, c, lower, power)

    def characteristics(self) -> DesignCharacteristics:
        """Power, stopping probabilities and expected information at ``drift``, ``drift/2`` and 0.

        The counterpart of rpact's ``getDesignCharacteristics()``.
        """
        t, c, lower = self._arrays()
        h1 = _crossing(t, c, lower, self.drift)
        h01 = _crossing(t, c, lower, self.drift / 2.0)
        h0 = _crossing(t, c, lower, 0.0)
        fixed = _fixed_drift(self.alpha, self.beta)
        inf = self.inflation_factor
        return DesignCharacteristics(
            drift=self.drift,
            fixed_drift=fixed,
            inflation_factor=inf,
            power=h1.cumulative_power,
            rejection_probabilities=h1.rejection_probabilities,
            futility_probabilities=h1.futility_probabilities,
            expected_information_h1=h1.expected_information,
            expected_information_h01=h01.expected_information,
            expected_information_h0=h0.expected_information,
            asn_ratio_h1=inf * h1.expected_information,
            asn_ratio_h01=inf * h01.expected_information,
            asn_ratio_h0=inf * h0.expected_information,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per look: information rate, critical value, alpha spent, stage level, futility bound."""
        import pandas as pd

        K = self.n_looks
        return pd.DataFrame(
            {
                "stage": np.arange(1, K + 1),
                "information_rate": self.information_rates,
                "critical_value": self.critical_values,
                "cumulative_alpha": self.cumulative_alpha,
                "stage_level": self.stage_levels,
                "futility_bound": [*self.futility_bounds, -math.inf],
            }
        )


def _fixed_drift(alpha: float, beta: float) -> float:
    return -float(ndtri(alpha)) - float(ndtri(beta))


def _drift_for_power(t: FloatArray, c: FloatArray, lower: FloatArray, power: Any) -> float:
    target = check_probability(power, "power", open_low=True, open_high=True)

    def f(d: float) -> float:
        return float(_probabilities(t, c, lower, d)[0].sum()) - target

    f0 = f(0.0)
    if f0 >= 0.0:
        message = (
            f"`power` must exceed the design's rejection probability under no effect ({f0 + target:.6g}); "
            f"got {power!r}."
        )
        raise DesignError(message)
    hi = max(1.0, -float(ndtri(target)) + float(np.nanmin(c[np.isfinite(c)], initial=2.0)))
    n = 0
    while f(hi) < 0.0:
        hi *= 2.0
        n += 1
        if n > 10:  # pragma: no cover - power is bounded by the last look's critical value
            raise ConvergenceError(f"no drift reaches power {target!r} (critical values {c.tolist()!r}).")
    return float(brentq(f, 0.0, hi, xtol=1e-13, rtol=1e-15, maxiter=200))


def group_sequential(
    information_rates: ArrayLike | int,
    *,
    alpha: float | None = None,
    spending: SpendingName | SpendingFunction = "obrien-fleming",
    parameter: float | None = None,
    futility: Sequence[float | None] | None = None,
    binding: bool = False,
    beta: float = 0.2,
    beta_spending: SpendingName | SpendingFunction | None = None,
    beta_parameter: float | None = None,
) -> GroupSequentialDesign:
    """One-sided group-sequential design with Lan-DeMets alpha-spending efficacy bounds.

    Parameters
    ----------
    information_rates : array_like or int
        Strictly increasing information fractions of the looks, ending at 1; an integer ``K``
        means ``K`` equally spaced looks.
    alpha : float, optional
        One-sided type I error in (0, 1); default 0.025, or the ``alpha`` of ``spending`` when
        that is a :class:`SpendingFunction`.
    spending : str or SpendingFunction, default 'obrien-fleming'
        'obrien-fleming', 'pocock', 'kim-demets' or 'hwang-shih-decani' (see
        :func:`spending_function`), or a spending-function object.
    parameter : float, optional
        ``rho`` for 'kim-demets', ``gamma`` for 'hwang-shih-decani'.
    futility : sequence of float, optional
        ``K - 1`` fixed futility bounds on the z scale, one per interim look (None or ``-inf``:
        no bound at that look). Stop for futility when :math:`Z_k < a_k`.
    binding : bool, default False
        Whether the futility bounds (fixed or from beta spending) are binding. Non-binding
        bounds are ignored when computing the critical values (type I error stays ``alpha``
        whether or not futility stops are obeyed) and counted in power and expected information;
        binding ones are used for both.
    beta : float, default 0.2
        Type II error for :attr:`GroupSequentialDesign.drift` and the inflation factor, and the
        total beta spent by ``beta_spending``.
    beta_spending : str or SpendingFunction, optional
        Derive the futility bounds from a beta-spending function of one of the four families
        (rpact ``typeBetaSpending = "bsOF"``, ``"bsP"``, ``"bsKD"``, ``"bsHSD"``) instead of giving
        ``futility``; a :class:`SpendingFunction` must spend ``beta`` in total.
    beta_parameter : float, optional
        ``rho`` or ``gamma`` of a 'kim-demets' or 'hwang-shih-decani' beta-spending function
        (rpact ``gammaB``).

    Returns
    -------
    GroupSequentialDesign

    Raises
    ------
    DesignError
        For invalid arguments, futility bounds at or above the critical values, binding
        futility bounds that leave less type I error than there is to spend at a look, or beta
        spending that would put a futility bound above an interim efficacy bound.

    Notes
    -----
    Critical values are found look by look: :math:`c_1 = \\Phi^{-1}(1 - \\alpha(t_1))` and
    :math:`c_k` solves :math:`P_0(\\text{continue to } k, Z_k \\ge c_k) = \\alpha(t_k) -
    \\alpha(t_{k-1})` by Brent's method on the recursive integral of
    :func:`crossing_probabilities` (Jennison and Turnbull 2000, ch. 19), to about 1e-12.
    An increment of at most ``MIN_ALPHA_INCREMENT`` (1e-30) is not spent: the look's critical
    value is ``inf`` (its exact value, above 11, lies beyond the integration's range and could
    not be computed accurately; rpact, too, returns ``Inf`` for increments below its tolerance).
    Early looks of O'Brien-Fleming-type spending at information fractions below about 0.038
    (alpha 0.025) spend so little.
    The design assumes the canonical joint distribution: :math:`Z_k` normal with
    :math:`\\text{Cov}(Z_j, Z_k) = \\sqrt{t_j/t_k}`, :math:`E[Z_k] = \\text{drift}\\sqrt{t_k}`.
    The drift giving power :math:`1-\\beta` is found by Brent's method too; with futility bounds
    futility stops are counted, as in rpact.

    Beta spending follows rpact's one-sided algorithm: for a drift :math:`\\theta` the futility
    bound :math:`a_k` solves :math:`P_\\theta(\\text{continue to } k, Z_k < a_k) = \\beta(t_k) -
    \\beta(t_{k-1})` look by look (with binding futility the efficacy bound of each look is first
    recomputed given :math:`a_1, \\dots, a_{k-1}`), and :math:`\\theta` is chosen so that
    :math:`a_K = c_K`; then the power at :math:`\\theta` is exactly :math:`1 - \\beta`.

    Agrees with rpact 3.3.4 to 1e-6 or better where rpact is accurate (see
    ``tests/reference/make_reference_boundaries.R``); where it is not (clustered looks, fractions above 0.99,
    alpha <= 1e-5) the first-crossing probabilities at these bounds still equal the spent increments (checked
    with R's mvtnorm), and rpact's can be far off (see the methods page).

    References
    ----------
    Lan KKG, DeMets DL (1983). Biometrika 70:659-663.
    Jennison C, Turnbull BW (2000). Group Sequential Methods with Applications to Clinical
    Trials, ch. 7 and 19.
    Wassmer G, Brannath W (2016). Group Sequential and Confirmatory Adaptive Designs in
    Clinical Trials. Springer.

    Examples
    --------
    >>> from condapprove.boundaries import group_sequential
    >>> d = group_sequential(3, alpha=0.025)
    >>> [round(c, 4) for c in d.critical_values]
    [3.7103, 2.5114, 1.993]
    >>> round(d.inflation_factor, 4)
    1.0128
    >>> round(d.power(d.drift).power, 6), round(d.expected_information(d.drift), 4)
    (0.8, 0.8546)
    >>> p = group_sequential([0.5, 1], spending="pocock", futility=[0.0])
    >>> [round(c, 4) for c in p.critical_values], round(p.power(0.0).power, 4)
    ([2.157, 2.201], 0.0249)
    >>> b = group_sequential(3, beta_spending="obrien-fleming", beta=0.1)
    >>> [round(a, 3) for a in b.futility_bounds], round(b.inflation_factor, 4)
    ([-0.695, 1.002], 1.0594)
    """
    t = _information_rates_iv(information_rates, "information_rates", require_final_one=True)
    K = t.size
    f = _resolve_spending(spending, alpha, parameter)
    alpha_f = f.alpha
    beta_f = check_probability(beta, "beta", open_low=True, open_high=True)
    if beta_f >= 1.0 - alpha_f:
        raise DesignError(f"`beta` must be below 1 - alpha = {1.0 - alpha_f!r} (power above alpha); got {beta!r}.")
    if not isinstance(binding, (bool, np.bool_)):
        raise DesignError(f"`binding` must be True or False; got {binding!r}.")
    g = _beta_spending_iv(beta_spending, beta_parameter, beta_f, futility, K)
    lower = _futility_iv(futility, K)
    if binding and g is None and not np.any(np.isfinite(lower)):
        raise DesignError("`binding` must be False when there are no futility bounds; got True.")
    cum, increments = _spent(f, t, final=True)
    if g is not None:
        c, lower, _ = _beta_spending_bounds(t, increments, _spent(g, t, final=True)[1], bool(binding))
        lower[-1] = -np.inf
    else:
        c = _solve_upper(t, increments, lower if binding else np.full(K, -np.inf))
    if np.any(lower[:-1] >= c[:-1]):
        bad = int(np.argmax(lower[:-1] >= c[:-1]))
        message = (
            f"`futility` must be below the critical value at each look; got {float(lower[bad])!r} at look "
            f"{bad + 1}, where the critical value is {float(c[bad]):.6g}."
        )
        raise DesignError(message)
    drift = _drift_for_power(t, c, lower, 1.0 - beta_f)
    return GroupSequentialDesign(
        information_rates=_tuple(t),
        alpha=alpha_f,
        beta=beta_f,
        spending=f,
        critical_values=_tuple(c),
        cumulative_alpha=_tuple(cum),
        stage_levels=_tuple(ndtr(-c)),
        futility_bounds=_tuple(lower[:-1]),
        binding=bool(binding),
        beta_spending=g,
        drift=drift,
        inflation_factor=(drift / _fixed_drift(alpha_f, beta_f)) ** 2,
    )


# --------------------------------------------------------------------------------------
# Fast path for simulations
# --------------------------------------------------------------------------------------


def critical_values_from_spending(
    cumulative_alpha: ArrayLike,
    information_rates: ArrayLike,
    *,
    futility_bounds: ArrayLike | None = None,
) -> FloatArray:
    """One-sided critical values spending a given cumulative alpha at given information fractions.

    Parameters
    ----------
    cumulative_alpha : array_like
        Non-decreasing cumulative one-sided alpha to have spent by each look, in [0, 1).
    information_rates : array_like
        Strictly increasing information fractions (or any positive information values: only
        their ratios matter).
    futility_bounds : array_like, optional
        ``K - 1`` *binding* futility bounds (None or ``-inf`` for none) to take into account.

    Returns
    -------
    numpy.ndarray
        Critical values :math:`c_k`; ``inf`` where no alpha is spent at a look, or at most
        ``MIN_ALPHA_INCREMENT`` (1e-30; see :func:`group_sequential`).

    Notes
    -----
    Each :math:`c_k` solves :math:`P_0(\\text{continue to } k, Z_k \\ge c_k) =
    \\alpha_k - \\alpha_{k-1}` (see :func:`group_sequential`). A few milliseconds for five looks.

    Examples
    --------
    >>> from condapprove.boundaries import critical_values_from_spending
    >>> critical_values_from_spending([0.005, 0.025], [0.5, 1.0]).round(4)
    array([2.5758, 2.0027])
    """
    info = _observed_iv(information_rates, "information_rates")
    t = info / info[-1]
    try:
        cum = np.asarray(cumulative_alpha, dtype=np.float64)
    except (TypeError, ValueError):
        cum = np.array([np.nan])
    increments = np.diff(cum, prepend=0.0) if cum.ndim == 1 else cum
    if (
        cum.shape != t.shape
        or not np.all(np.isfinite(cum))
        or np.any(cum < 0.0)
        or np.any(cum >= 1.0)
        or np.any(increments < 0.0)
    ):
        message = (
            f"`cumulative_alpha` must be {t.size} non-decreasing values in [0, 1), one per look; "
            f"got {cumulative_alpha!r}."
        )
        raise DesignError(message)
    lower = _futility_iv(futility_bounds, t.size)
    return _solve_upper(t, increments, lower)


def _fast_path_iv(max_information: Any, final: Any, decimals: Any) -> tuple[float | None, bool, int | None]:
    mx = None if max_information is None else check_positive(max_information, "max_information")
    if not isinstance(final, (bool, np.bool_)):
        raise DesignError(f"`final` must be True or False; got {final!r}.")
    dec = None if decimals is None else check_int(decimals, "decimals", minimum=1, maximum=15)
    return mx, bool(final), dec


def _spending_times(
    information: FloatArray, max_information: float | None, decimals: int | None, name: str
) -> tuple[FloatArray, FloatArray]:
    """(correlation fractions, spending fractions) from observed information, looks along the last axis.

    Both are rounded to ``decimals`` (the cache key of the fast path), which must keep the looks distinct.
    """
    if max_information is None:
        if np.any(information > 1.0):
            message = (
                f"`{name}` must be information fractions in (0, 1] when `max_information` is not given; "
                f"got a maximum of {float(information.max())!r}."
            )
            raise DesignError(message, hint="pass absolute information with max_information=")
        s = information
    else:
        s = np.minimum(information / max_information, 1.0)
    t = information / information[..., -1:]
    if decimals is not None:
        t = np.round(t, decimals)
        s = np.round(s, decimals)
        if np.any(np.diff(t, axis=-1) <= 0.0):
            message = f"`decimals` must keep the looks' information fractions distinct; got {decimals!r}."
            raise DesignError(message, hint=f"looks closer than 1e-{decimals} in information fraction")
    return t, s


def _spent(spending: SpendingFunction, s: FloatArray, *, final: bool) -> tuple[FloatArray, FloatArray]:
    """Cumulative alpha spent at fractions ``s`` (looks along the last axis) and its increments.

    With ``final`` the last look spends all that is left (its cumulative alpha is ``spending.alpha``).
    """
    cum = np.asarray(spending(s), dtype=np.float64)
    if final:
        cum[..., -1] = spending.alpha
    cum = np.maximum.accumulate(cum, axis=-1)
    return cum, np.diff(cum, axis=-1, prepend=0.0)


@functools.lru_cache(maxsize=65536)
def _cached_bounds(key: tuple[float, ...], spending: SpendingFunction, final: bool) -> tuple[float, ...]:
    # key: information fractions (rounded) used for both correlation and spending times
    # followed by the spending times; see efficacy_bounds
    K = len(key) // 2
    t = np.array(key[:K])
    _, increments = _spent(spending, np.array(key[K:]), final=final)
    return tuple(_solve_upper(t / t[-1], increments, np.full(K, -np.inf)).tolist())


def _observed_iv(information: Any, name: str) -> FloatArray:
    try:
        info = np.asarray(information, dtype=np.float64)
    except (TypeError, ValueError):
        info = np.array([np.nan])
    if (
        info.ndim != 1
        or info.size == 0
        or not np.all(np.isfinite(info))
        or np.any(info <= 0.0)
        or (info.size > 1 and np.any(np.diff(info) <= MIN_INFORMATION_STEP * info[1:]))
    ):
        message = (
            f"`{name}` must be strictly increasing positive information values, one per look; got {information!r}."
        )
        raise DesignError(message, hint=_CLOSE_HINT)
    return info


def efficacy_bounds(
    information_rates: ArrayLike,
    alpha: float | None = None,
    spending: SpendingName | SpendingFunction = "obrien-fleming",
    parameter: float | None = None,
    *,
    max_information: float | None = None,
    final: bool = True,
    decimals: int | None = 10,
) -> FloatArray:
    """Efficacy critical values for the information actually observed at each look (cached).

    The fast path for simulations that recompute boundaries per replicate.

    Parameters
    ----------
    information_rates : array_like
        Observed information at the looks so far, strictly increasing. Fractions of the planned
        maximum in (0, 1] by default; absolute information (events, patients) when
        ``max_information`` is given.
    alpha : float, optional
        One-sided type I error; default 0.025, or the ``alpha`` of ``spending`` when that is a
        :class:`SpendingFunction`.
    spending : str or SpendingFunction, default 'obrien-fleming'
        Spending family (see :func:`spending_function`).
    parameter : float, optional
        ``rho`` or ``gamma`` for 'kim-demets' or 'hwang-shih-decani'.
    max_information : float, optional
        Planned maximum information; spending is then evaluated at
        ``min(information / max_information, 1)``.
    final : bool, default True
        Whether the last look is the final analysis. If so it spends all remaining alpha
        (its cumulative alpha is ``alpha``, as if its information fraction were 1), which is how a
        study stopped at a deadline with less information than planned keeps its type I error at
        ``alpha``. With ``final=False`` the last look spends ``alpha(t_K)`` only (an interim look).
    decimals : int or None, default 10
        Information fractions are rounded to this many decimals to form the cache key
        (``None``: no rounding). Coarser rounding (3-4) gives more cache hits in simulations at
        the cost of bounds for slightly shifted information.

    Returns
    -------
    numpy.ndarray
        Critical values on the z scale, one per look (``inf`` where no alpha is left to spend,
        e.g. at looks after the information passed ``max_information``).

    Notes
    -----
    The correlation between looks uses the observed information ratios
    :math:`\\text{Corr}(Z_j, Z_k) = \\sqrt{I_j/I_k}`, whatever the planned maximum; spending uses
    :math:`\\alpha(\\min(I_k/I_{max}, 1))`. Information past the planned maximum spends all of
    ``alpha`` at the look where it is passed. Results are cached (least recently used,
    65,536 entries) on the rounded information fractions, the spending function and ``final``.

    Examples
    --------
    >>> from condapprove.boundaries import efficacy_bounds
    >>> efficacy_bounds([1/3, 2/3, 1.0]).round(4)
    array([3.7103, 2.5114, 1.993 ])

    A study planned for 120 events stops at its deadline after 90; the final look spends the
    remaining alpha:

    >>> efficacy_bounds([40, 90], max_information=120).round(4)
    array([3.7103, 1.9603])
    """
    f = _resolve_spending(spending, alpha, parameter)
    info = _observed_iv(information_rates, "information_rates")
    mx, final, decimals = _fast_path_iv(max_information, final, decimals)
    t, s = _spending_times(info, mx, decimals, "information_rates")
    key = tuple(t.tolist()) + tuple(s.tolist())
    return np.array(_cached_bounds(key, f, final))


def efficacy_bounds_batch(
    information: ArrayLike,
    alpha: float | None = None,
    spending: SpendingName | SpendingFunction = "obrien-fleming",
    parameter: float | None = None,
    *,
    max_information: float | None = None,
    final: bool = True,
    decimals: int | None = 10,
) -> FloatArray:
    """Efficacy critical values for many replicates' observed information at once.

    Parameters
    ----------
    information : array_like, shape (n, K)
        One row per replicate: observed information at each look, strictly increasing along
        the row. Rows with fewer looks are padded with NaN at the end (the last non-NaN look
        is that row's last look).
    alpha, spending, parameter, max_information, final, decimals
        As in :func:`efficacy_bounds`; ``final`` applies to each row's last look.

    Returns
    -------
    numpy.ndarray, shape (n, K)
        Critical values, NaN exactly where ``information`` is NaN padding.

    Notes
    -----
    Rows are rounded, de-duplicated (:func:`numpy.unique`) and the distinct rows are computed
    together: the recursion of :func:`crossing_probabilities` runs on blocks of 256 rows at
    once, the rows of each node count together at each look, with a vectorised safeguarded
    Newton search for the critical values that stops for each row at its own convergence
    (rows with very close looks, which need finer grids, take the one-row path). So a row's
    critical values are the same bits whatever rows share the call. Typical designs cost
    0.01 ms (2 looks) to 0.6 ms (5 looks) per distinct row, and the results agree with
    :func:`efficacy_bounds` to about 1e-10.

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.boundaries import efficacy_bounds_batch
    >>> info = np.array([[40.0, 80.0, 120.0], [40.0, 90.0, np.nan], [40.0, 80.0, 120.0]])
    >>> efficacy_bounds_batch(info, max_information=120).round(3)
    array([[3.71 , 2.511, 1.993],
           [3.71 , 1.96 ,   nan],
           [3.71 , 2.511, 1.993]])
    """
    f = _resolve_spending(spending, alpha, parameter)
    try:
        x = np.asarray(information, dtype=np.float64)
    except (TypeError, ValueError):
        x = np.array([[np.nan]])
    contract = "a 2-d array (replicates x looks) of positive information values, NaN only as trailing padding"
    if x.ndim != 2 or x.shape[1] == 0:
        raise DesignError(f"`information` must be {contract}; got shape {x.shape!r}.")
    nan = np.isnan(x)
    n_looks = (~nan).sum(axis=1)
    pad_ok = np.all(nan == (np.arange(x.shape[1])[None, :] >= n_looks[:, None]))
    if not pad_ok or np.any(n_looks == 0) or np.any(np.isinf(x)) or np.any(x[~nan] <= 0.0):
        raise DesignError(f"`information` must be {contract}; got {information!r}.")
    mx, final, decimals = _fast_path_iv(max_information, final, decimals)
    out = np.full(x.shape, np.nan)
    for K in np.unique(n_looks):
        rows = np.flatnonzero(n_looks == K)
        info = x[rows, :K]
        steps = np.diff(info, axis=1) <= MIN_INFORMATION_STEP * info[:, 1:]
        if np.any(steps):
            bad = rows[np.any(steps, axis=1)][:3].tolist()
            message = (
                f"`information` must be strictly increasing along each row; got rows {bad} (first shown) that are not."
            )
            raise DesignError(message, hint=_CLOSE_HINT)
        corr_t, spend_t = _spending_times(info, mx, decimals, "information")
        keys, inverse = np.unique(np.hstack([corr_t, spend_t]), axis=0, return_inverse=True)
        bounds = _solve_upper_many(keys[:, :K], _spent(f, keys[:, K:], final=final)[1])
        out[rows, :K] = bounds[inverse.ravel()]
    return out
