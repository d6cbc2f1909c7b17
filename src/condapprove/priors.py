"""Conjugate priors, their mixtures, posterior updating, robustification and effective sample size.

Four prior families cover the binary and continuous endpoints of a small cohort:

* :class:`Beta` and :class:`BetaMixture` for a response probability, updated by binomial data;
* :class:`Normal` and :class:`NormalMixture` for a mean or a treatment effect, updated by a normal
  likelihood with a known standard error (an estimate and its SE).

All are frozen values: :meth:`~Beta.update`, :meth:`~Beta.robustify` and
:meth:`~Beta.power_prior` return new objects. Every distribution offers ``mean``, ``sd``,
``pdf``, ``cdf``, ``sf``, ``ppf``, ``interval(confidence_level)``, ``prob_greater(t)``,
``prob_less(t)`` and ``ess(method)``; beta priors also give the beta-binomial
:meth:`~Beta.predictive` distribution (:class:`BetaBinomial`), normal priors the normal predictive
distribution of a future estimate.

The conventions for robustification and effective sample size (ESS) follow the R package RBesT
(Weber et al. 2021), so numbers can be compared with it; where they differ, the docstring says so.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, TypeAlias

import numpy as np
import scipy  # its submodules load on first use (stats, optimize, integrate: about a second); a prior is built without

from ._dist import log_beta_ratio
from ._typing import ArrayLike, FloatArray
from ._validation import (
    MAX_BETA_SHAPE,
    check_confidence_level,
    check_finite,
    check_int,
    check_one_of,
    check_positive,
    check_probability,
)
from .errors import DesignError
from .results import ConfidenceInterval, ResultMixin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Beta", "BetaBinomial", "BetaMixture", "EssMethod", "Normal", "NormalMixture"]

EssMethod = Literal["elir", "moment", "morita"]
_ESS_METHODS = ("elir", "moment", "morita")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _points(x: ArrayLike, name: str) -> tuple[FloatArray, bool]:
    """Return ``x`` as a float array (NaN rejected) and whether it was a scalar."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"`{name}` must be a number or an array of numbers; got {x!r}.") from None
    if np.any(np.isnan(arr)):
        raise DesignError(f"`{name}` must not contain NaN; got {x!r}.")
    return arr, arr.ndim == 0


def _out(arr: FloatArray, scalar: bool) -> Any:
    return float(arr) if scalar else np.asarray(arr, dtype=np.float64)


def _probabilities(q: ArrayLike, name: str = "q") -> tuple[FloatArray, bool]:
    arr, scalar = _points(q, name)
    if np.any((arr < 0) | (arr > 1)):
        raise DesignError(f"`{name}` must be probabilities in [0, 1]; got {q!r}.")
    return arr, scalar


def _weight_iv(weight: Any) -> float:
    return check_probability(weight, "weight")


def _a0_iv(a0: Any, *, allow_zero: bool) -> float:
    a = check_probability(a0, "a0", open_low=not allow_zero)
    return a


def _mixture_iv(
    weights: Any,
    first: Any,
    second: Any,
    names: tuple[str, str],
    *,
    second_positive: bool = True,
    first_positive: bool = True,
    maximum: float | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Validate mixture parameters (both at most ``maximum`` when given); return normalised weights and the two
    parameter tuples."""
    arrays = []
    for value, name in ((weights, "weights"), (first, names[0]), (second, names[1])):
        try:
            arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise DesignError(f"`{name}` must be a 1-d array of finite numbers; got {value!r}.") from None
        if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
            raise DesignError(f"`{name}` must be a non-empty 1-d array of finite numbers; got {value!r}.")
        arrays.append(arr)
    w, p1, p2 = arrays
    for arr, name in ((p1, names[0]), (p2, names[1])):
        if arr.size != w.size:
            raise DesignError(
                f"`{name}` must have one entry per component ({w.size}, the length of `weights`); "
                f"got {arr.size} entries."
            )
    if np.any(w < 0) or w.sum() <= 0:
        raise DesignError(f"`weights` must be >= 0 with a positive sum; got {weights!r}.")
    if first_positive and np.any(p1 <= 0):
        raise DesignError(f"`{names[0]}` must be > 0 for every component; got {first!r}.")
    if second_positive and np.any(p2 <= 0):
        raise DesignError(f"`{names[1]}` must be > 0 for every component; got {second!r}.")
    for arr, name, value in ((p1, names[0], first), (p2, names[1], second)):
        if maximum is not None and np.any(arr > maximum):
            raise DesignError(f"`{name}` must be <= {maximum:g} for every component; got {value!r}.")
    w = w / w.sum()
    return tuple(float(v) for v in w), tuple(float(v) for v in p1), tuple(float(v) for v in p2)


def _ess_method_iv(method: Any) -> str:
    return check_one_of(method, "method", _ESS_METHODS)


def _mixture_ppf(
    q: FloatArray,
    cdf: Callable[[float], float],
    sf: Callable[[float], float],
    comp_ppf: Callable[[float], FloatArray],
    support: tuple[float, float],
) -> FloatArray:
    """Invert a mixture cdf by Brent's method, bracketed by the component quantiles.

    The q-quantile of a mixture lies between the smallest and the largest q-quantile of its
    components, which gives a guaranteed bracket. Upper quantiles are solved on the survival
    function to keep relative precision in the right tail.
    """
    out = np.empty(q.shape, dtype=np.float64)
    flat = out.reshape(-1)
    for i, qi in enumerate(np.asarray(q, dtype=np.float64).reshape(-1)):
        if qi <= 0.0:
            flat[i] = support[0]
            continue
        if qi >= 1.0:
            flat[i] = support[1]
            continue
        cq = comp_ppf(float(qi))
        lo, hi = float(np.min(cq)), float(np.max(cq))
        if lo == hi:
            flat[i] = lo
            continue
        target = float(qi)

        def f(x: float, target: float = target) -> float:
            # lower quantiles on the cdf, upper ones on the survival function (tail precision)
            return cdf(x) - target if target <= 0.5 else (1.0 - target) - sf(x)

        flo, fhi = f(lo), f(hi)
        if flo >= 0:
            flat[i] = lo
        elif fhi <= 0:
            flat[i] = hi
        else:
            # a bracket on one side of 0 holds a root at least min(|lo|, |hi|) in size: a tolerance relative to that
            # (an absolute 1e-14 put the 0.3 quantile of a mixture whose true quantile is 8e-24 at 9.5e-15)
            if lo * hi > 0:
                xtol = 1e-14 * max(min(abs(lo), abs(hi)), 1e-300)
            else:
                xtol = 1e-14 * max(1.0, abs(lo), abs(hi))
            flat[i] = scipy.optimize.brentq(f, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=1000)
    return out


def _mixture_mode(logpdf: Callable[[FloatArray], FloatArray], grid: FloatArray) -> float:
    """Global mode of a (mixture) density: grid search refined by bounded Brent minimisation."""
    vals = logpdf(grid)
    i = int(np.argmax(vals))
    lo = grid[max(i - 1, 0)]
    hi = grid[min(i + 1, grid.size - 1)]
    res = scipy.optimize.minimize_scalar(
        lambda t: -float(logpdf(np.array([t]))[0]), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
    )
    return float(res.x) if -res.fun >= vals[i] else float(grid[i])


def _quad_pieces(f: Callable[[float], float], breaks: list[float]) -> float:
    """Integrate ``f`` over the real line split at ``breaks`` (sorted, finite)."""
    edges = [-np.inf, *sorted(set(breaks)), np.inf]
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        val, _ = scipy.integrate.quad(f, lo, hi, epsabs=1e-12, epsrel=1e-11, limit=200)
        total += val
    return total


class _Univariate(ResultMixin, ABC):
    """Shared methods of the continuous prior/posterior distributions."""

    __slots__ = ()

    # subclasses implement the array versions (validated input, float64 arrays)
    @abstractmethod
    def _cdf(self, x: FloatArray) -> FloatArray:
        """Cumulative distribution function at ``x``."""

    @abstractmethod
    def _sf(self, x: FloatArray) -> FloatArray:
        """Survival function ``1 - cdf`` at ``x``, computed without cancellation."""

    @abstractmethod
    def _pdf(self, x: FloatArray) -> FloatArray:
        """Density at ``x``."""

    @abstractmethod
    def _ppf(self, q: FloatArray) -> FloatArray:
        """Quantile function at probabilities ``q``."""

    def pdf(self, x: ArrayLike) -> Any:
        """Density at ``x`` (a float for a scalar ``x``, else an array)."""
        arr, scalar = _points(x, "x")
        return _out(self._pdf(arr), scalar)

    def cdf(self, x: ArrayLike) -> Any:
        """Cumulative distribution function ``P(theta <= x)``."""
        arr, scalar = _points(x, "x")
        return _out(self._cdf(arr), scalar)

    def sf(self, x: ArrayLike) -> Any:
        """Survival function ``P(theta > x)``, computed directly (accurate in the upper tail)."""
        arr, scalar = _points(x, "x")
        return _out(self._sf(arr), scalar)

    def ppf(self, q: ArrayLike) -> Any:
        """Quantile function (inverse of :meth:`cdf`); mixtures are inverted by root finding."""
        arr, scalar = _probabilities(q)
        return _out(self._ppf(arr), scalar)

    def interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Equal-tailed credible interval with probability ``confidence_level``.

        Parameters
        ----------
        confidence_level : float, optional
            Probability content, in (0, 1). Default 0.95.

        Returns
        -------
        ConfidenceInterval
            ``(ppf((1 - level) / 2), ppf((1 + level) / 2))``.
        """
        level = check_confidence_level(confidence_level)
        q = np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
        lo, hi = self._ppf(q)
        return ConfidenceInterval(float(lo), float(hi))

    def prob_greater(self, threshold: ArrayLike) -> Any:
        """``P(theta > threshold)`` under this distribution (posterior probability of exceeding it)."""
        arr, scalar = _points(threshold, "threshold")
        return _out(self._sf(arr), scalar)

    def prob_less(self, threshold: ArrayLike) -> Any:
        """``P(theta < threshold)`` under this distribution."""
        arr, scalar = _points(threshold, "threshold")
        return _out(self._cdf(arr), scalar)


def _append_doc(method: Callable[..., Any], *sections: str) -> None:
    """Complete ``method``'s one-line docstring with numpydoc ``sections`` shared by several classes."""
    method.__doc__ = (method.__doc__ or "").rstrip() + "\n" + "".join(sections)


def _mixture_mean_var(w: FloatArray, mean_k: FloatArray, var_k: FloatArray) -> tuple[float, float]:
    """Mean and variance of a mixture from its weights and its components' means and variances, in the centred form
    ``sum w_k (var_k + (mean_k - mean)^2)`` (``E[theta^2] - mean^2`` cancelled: a beta of 6.35e11 and 47 had a standard
    deviation of 0 for 1.08e-11, and two normals at 1e8 and 1e8 + 1 one of 0 for 0.5)."""
    mean = float(w @ mean_k)
    return mean, float(w @ (var_k + (mean_k - mean) ** 2))


_Param: TypeAlias = "FloatArray | float"


class _Family(NamedTuple):
    """Component formulas of one conjugate family, shared by its single distribution and its mixture.

    Each function takes the family's two parameters (``a, b`` or ``mean, sd``) as floats, or as
    arrays over the mixture components that broadcast against ``x`` (or ``q``).
    """

    pdf: Callable[[FloatArray, _Param, _Param], FloatArray]
    cdf: Callable[[FloatArray, _Param, _Param], FloatArray]
    sf: Callable[[FloatArray, _Param, _Param], FloatArray]
    ppf: Callable[[FloatArray, _Param, _Param], FloatArray]
    moments: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]  # component means and variances
    support: tuple[float, float]
    first_positive: bool  # whether the first parameter must be > 0 (not for a normal mean)


class _Mixture(_Univariate):
    """Finite mixture ``sum_k w_k f(theta; p1_k, p2_k)`` of one conjugate family.

    Subclasses are frozen dataclasses with a ``weights`` field and the two parameter fields named in
    ``_params``; ``_family`` gives the component formulas. The density, cdf and survival function
    are the weighted sums of the components', the moments follow from the components' first two
    moments, and quantiles are found by :func:`_mixture_ppf`.
    """

    __slots__ = ()

    weights: tuple[float, ...]
    _family: ClassVar[_Family]
    _params: ClassVar[tuple[str, str]]

    def __post_init__(self) -> None:
        first, second = self._params
        w, p1, p2 = _mixture_iv(
            self.weights,
            getattr(self, first),
            getattr(self, second),
            self._params,
            first_positive=self._family.first_positive,
            maximum=MAX_BETA_SHAPE if self._params == ("a", "b") else None,
        )
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, first, p1)
        object.__setattr__(self, second, p2)

    def _arrays(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        first, second = self._params
        return np.array(self.weights), np.array(getattr(self, first)), np.array(getattr(self, second))

    @property
    def mean(self) -> float:
        """Mean ``sum_k w_k mean_k``, the weighted mean of the component means."""
        w, p1, p2 = self._arrays()
        return _mixture_mean_var(w, *self._family.moments(p1, p2))[0]

    @property
    def sd(self) -> float:
        """Standard deviation, from the mixture's first two moments."""
        w, p1, p2 = self._arrays()
        return math.sqrt(_mixture_mean_var(w, *self._family.moments(p1, p2))[1])

    def _pdf(self, x: FloatArray) -> FloatArray:
        w, p1, p2 = self._arrays()
        keep = w > 0  # (a component of weight 0 with an infinite density at x made 0 * inf = NaN)
        return np.asarray(self._family.pdf(x[..., None], p1[keep], p2[keep]) @ w[keep], dtype=np.float64)

    def _cdf(self, x: FloatArray) -> FloatArray:
        w, p1, p2 = self._arrays()
        return np.asarray(np.clip(self._family.cdf(x[..., None], p1, p2) @ w, 0.0, 1.0), dtype=np.float64)

    def _sf(self, x: FloatArray) -> FloatArray:
        w, p1, p2 = self._arrays()
        return np.asarray(np.clip(self._family.sf(x[..., None], p1, p2) @ w, 0.0, 1.0), dtype=np.float64)

    def _ppf(self, q: FloatArray) -> FloatArray:
        _, p1, p2 = self._arrays()
        return _mixture_ppf(
            q,
            lambda x: float(self._cdf(np.asarray(x))),
            lambda x: float(self._sf(np.asarray(x))),
            lambda qi: self._family.ppf(np.asarray(qi), p1, p2),
            self._family.support,
        )

    def _reweighted(self, log_marginal: FloatArray) -> tuple[float, ...]:
        """Posterior weights: each ``w_k`` times its component's marginal likelihood (given as a log), renormalised."""
        with np.errstate(divide="ignore"):  # a zero weight stays zero
            logw = np.log(self.weights) + log_marginal
        return tuple(np.exp(logw - scipy.special.logsumexp(logw)).tolist())

    def _robust_weights(self, weight: Any) -> tuple[float, ...]:
        """Validate ``weight``; return the weights with a last component of that weight added.

        The existing weights are rescaled by ``1 - weight`` (RBesT's convention).
        """
        wt = _weight_iv(weight)
        return (*(v * (1.0 - wt) for v in self.weights), wt)


# ---------------------------------------------------------------------------------------------
# Beta family
# ---------------------------------------------------------------------------------------------
_BETA = _Family(
    pdf=lambda x, a, b: np.asarray(scipy.stats.beta.pdf(x, a, b), dtype=np.float64),
    cdf=lambda x, a, b: np.asarray(scipy.special.betainc(a, b, np.clip(x, 0.0, 1.0)), dtype=np.float64),
    sf=lambda x, a, b: np.asarray(scipy.special.betaincc(a, b, np.clip(x, 0.0, 1.0)), dtype=np.float64),
    ppf=lambda q, a, b: np.asarray(scipy.special.betaincinv(a, b, q), dtype=np.float64),
    moments=lambda a, b: (a / (a + b), (a / (a + b)) * (b / (a + b)) / (a + b + 1.0)),
    support=(0.0, 1.0),
    first_positive=True,
)


def _beta_mixture_info_var(w: FloatArray, a: FloatArray, b: FloatArray) -> float:
    r"""``\int p(t) Var_omega(g)(t) t (1-t) dt`` for a beta mixture (see :meth:`BetaMixture.ess`).

    Integrated on the logit scale ``z = logit(t)`` (``dt = t(1-t) dz``), split at the component
    quartiles and extreme quantiles, which keeps the integrand smooth where the ``t`` scale has
    algebraic end-point singularities.
    """
    if w.size == 1:
        return 0.0
    lw = np.log(w)
    lbeta = scipy.special.betaln(a, b)

    def f(z: float) -> float:
        log_t = -np.logaddexp(0.0, -z)  # log expit(z)
        log_1mt = -np.logaddexp(0.0, z)  # log expit(-z)
        logpk = lw + (a - 1.0) * log_t + (b - 1.0) * log_1mt - lbeta
        lp = scipy.special.logsumexp(logpk)
        if not np.isfinite(lp):
            return 0.0
        om = np.exp(logpk - lp)
        # G_k = g_k t (1 - t) is bounded: Var_omega(g) t^2 (1-t)^2 = Var_omega(G)
        big_g = (a - 1.0) * np.exp(log_1mt) - (b - 1.0) * np.exp(log_t)
        gbar = float(om @ big_g)
        return float(np.exp(lp) * (om @ (big_g - gbar) ** 2))

    qs = np.array([1e-6, 0.5, 1 - 1e-6])
    breaks = []
    for ak, bk in zip(a, b, strict=True):
        t = np.clip(scipy.special.betaincinv(ak, bk, qs), 1e-300, 1 - 1e-16)
        breaks.extend(scipy.special.logit(t).tolist())
    return _quad_pieces(f, [float(v) for v in breaks if np.isfinite(v)])


def _beta_elir_first_term(w: FloatArray, a: FloatArray, b: FloatArray) -> float:
    # E_k[(a-1)(1-t)/t] = b (a > 1) and E_k[(b-1) t/(1-t)] = a (b > 1); a term is 0 when its parameter is 1.
    return float(np.sum(w * (np.where(a > 1.0, b, 0.0) + np.where(b > 1.0, a, 0.0))))


def _beta_mix_logpdf(w: FloatArray, a: FloatArray, b: FloatArray, t: FloatArray) -> FloatArray:
    t = np.clip(np.asarray(t, dtype=np.float64), 1e-300, 1 - 1e-16)
    lp = (
        np.log(w)[:, None]
        + (a - 1.0)[:, None] * np.log(t)[None, :]
        + (b - 1.0)[:, None] * np.log1p(-t)[None, :]
        - scipy.special.betaln(a, b)[:, None]
    )
    return np.asarray(scipy.special.logsumexp(lp, axis=0), dtype=np.float64)


def _beta_mix_info(w: FloatArray, a: FloatArray, b: FloatArray, t: float) -> float:
    """Negative second derivative of the log mixture density at ``t``."""
    lp = np.log(w) + (a - 1.0) * math.log(t) + (b - 1.0) * math.log1p(-t) - scipy.special.betaln(a, b)
    om = np.exp(lp - scipy.special.logsumexp(lp))
    g = (a - 1.0) / t - (b - 1.0) / (1.0 - t)
    h = -(a - 1.0) / t**2 - (b - 1.0) / (1.0 - t) ** 2
    gbar = float(om @ g)
    return float(-(om @ h) - om @ (g - gbar) ** 2)


def _beta_ess(w: FloatArray, a: FloatArray, b: FloatArray, method: str, s: float) -> float:
    if method == "moment":
        m, v = _mixture_mean_var(w, *_BETA.moments(a, b))
        return m * float(w @ (b / (a + b))) / v - 1.0  # (1 - m without the cancellation of a mean near 1)
    if method == "elir":
        if np.any(a < 1.0) or np.any(b < 1.0):
            message = (
                "`a` and `b` must be >= 1 in every component for the 'elir' ESS (the defining integral "
                f"diverges otherwise); got a={tuple(a.tolist())!r}, b={tuple(b.tolist())!r}."
            )
            raise DesignError(message, hint="use method='moment', or components with parameters >= 1")
        return _beta_elir_first_term(w, a, b) - _beta_mixture_info_var(w, a, b)
    # morita (RBesT's mode-based variant, Neuenschwander et al. 2019 eq. 9)
    grid = np.concatenate([np.linspace(1e-9, 1 - 1e-9, 4001), np.clip((a - 1) / (a + b - 2 + 1e-300), 1e-9, 1 - 1e-9)])
    grid = np.unique(grid)
    mode = _mixture_mode(lambda t: _beta_mix_logpdf(w, a, b, t), grid)
    if mode <= 1e-6 or mode >= 1 - 1e-6:
        message = f"the prior must have an interior mode for the 'morita' ESS; got a mode at {mode:.3g}."
        raise DesignError(message, hint="use method='moment' or 'elir'")
    info = _beta_mix_info(w, a, b, mode)
    info0 = (mode / s - 1.0) / mode**2 + ((1.0 - mode) / s - 1.0) / (1.0 - mode) ** 2
    mean = _mixture_mean_var(w, *_BETA.moments(a, b))[0]
    e_info = (1.0 - mean) / (1.0 - mode) ** 2 + mean / mode**2
    return (info - info0) / e_info


_ESS_DOC_BETA = """
        Parameters
        ----------
        method : {'elir', 'moment', 'morita'}, optional
            * ``'elir'`` (default): expected local information ratio (Neuenschwander et al. 2020),
              ``E_prior[ i_prior(p) / i_F(p) ]`` with ``i_prior = -d^2/dp^2 log prior(p)`` and the
              Bernoulli Fisher information ``i_F(p) = 1 / (p (1 - p))``. The only predictively
              consistent ESS: the expected posterior ESS after ``n`` more patients is the prior ESS
              plus ``n``. For ``Beta(a, b)`` with ``a, b > 1`` it is exactly ``a + b``. It needs
              every ``a, b >= 1`` (the integral diverges below 1). A parameter equal to 1 carries no
              curvature, so that term is 0: ``Beta(1, 1)`` has ELIR ESS 0 and ``Beta(1, b)`` has 1
              (the ESS is discontinuous at 1); this is the value of the defining integral and of RBesT.
            * ``'moment'``: the ``a + b`` of the beta distribution with the same mean and variance,
              ``m (1 - m) / v - 1``; conservative for mixtures.
            * ``'morita'``: Morita, Thall and Mueller (2008) evaluated at the prior mode, as in RBesT
              (Neuenschwander et al. 2019, eq. 9): ``(i_prior(mode) - i_0(mode)) / E[i_F(mode)]`` with
              the flattened prior ``Beta(mode / s, (1 - mode) / s)``; tends to ``a + b`` for a single
              beta as ``s`` grows, and is liberal for mixtures. A prior whose mode lies at 0 or 1 (within
              1e-6: a component with ``a < 1`` or ``b < 1`` that dominates there) is refused with a
              :class:`~condapprove.errors.DesignError`, since the curvature at such a mode is unbounded
              (RBesT evaluates it at a point just inside (0, 1), and its value then depends on that
              point); use ``'moment'`` or ``'elir'`` there.
        s : float, optional
            Flattening constant of the 'morita' method (default 100, as RBesT).

        Returns
        -------
        float
            The effective sample size, in patients.
"""


@dataclass(frozen=True, slots=True)
class Beta(_Univariate):
    """Beta distribution ``Beta(a, b)``: the conjugate prior of a binomial probability.

    Parameters
    ----------
    a, b : float
        Shape parameters, both > 0 ("prior responders" and "prior non-responders").

    Attributes
    ----------
    a, b : float
        The shape parameters.

    Notes
    -----
    Density ``p^(a-1) (1-p)^(b-1) / B(a, b)``; mean ``a / (a + b)``; variance
    ``a b / ((a + b)^2 (a + b + 1))``. Observing ``x`` responders out of ``n`` gives the posterior
    ``Beta(a + x, b + n - x)``.

    Examples
    --------
    >>> from condapprove.priors import Beta
    >>> post = Beta(1, 1).update(16, 19)       # Delytact: 16 of 19 alive at one year
    >>> post
    Beta(a=17.0, b=4.0)
    >>> round(post.mean, 4), round(post.prob_greater(0.15), 6)
    (0.8095, 1.0)
    >>> lo, hi = post.interval(0.95)
    >>> round(lo, 3), round(hi, 3)
    (0.621, 0.943)
    """

    a: float
    b: float

    def __post_init__(self) -> None:
        for name in ("a", "b"):
            x = check_positive(getattr(self, name), name)
            if x > MAX_BETA_SHAPE:
                raise DesignError(f"`{name}` must be <= {MAX_BETA_SHAPE:g}; got {x!r}.")
            object.__setattr__(self, name, x)

    @classmethod
    def from_mean_n(cls, mean: float, n: float) -> Beta:
        """Beta with mean ``mean`` and prior sample size ``a + b = n``.

        Parameters
        ----------
        mean : float
            Prior mean in (0, 1).
        n : float
            Prior sample size ``a + b`` (> 0).

        Returns
        -------
        Beta
            ``Beta(mean * n, (1 - mean) * n)``.

        Examples
        --------
        >>> Beta.from_mean_n(0.15, 20)
        Beta(a=3.0, b=17.0)
        """
        m = check_probability(mean, "mean", open_low=True, open_high=True)
        size = check_positive(n, "n")
        return cls(m * size, (1.0 - m) * size)

    @classmethod
    def power_prior(cls, x0: int, n0: int, a0: float, *, initial: Beta | None = None) -> Beta:
        """Power prior from historical binomial data ``x0 / n0`` discounted by a fixed weight ``a0``.

        Parameters
        ----------
        x0, n0 : int
            Responders and patients in the historical (external) data, ``0 <= x0 <= n0``.
        a0 : float
            Discounting weight in [0, 1]: 0 ignores the historical data, 1 pools it fully.
        initial : Beta, optional
            Initial prior before the historical data; default ``Beta(1, 1)``.

        Returns
        -------
        Beta
            ``Beta(a_init + a0 x0, b_init + a0 (n0 - x0))``.

        Notes
        -----
        The power prior (Ibrahim and Chen 2000) raises the historical likelihood to the power ``a0``:
        ``pi(p | D0, a0) ∝ L(p | D0)^a0 pi_0(p)``; with a binomial likelihood and a beta initial prior
        it is again a beta distribution, worth about ``a0 n0`` patients. ``a0`` is fixed here (no
        hyperprior, no normalised power prior).

        References
        ----------
        Ibrahim JG, Chen MH. Power prior distributions for regression models. Stat Sci 2000;15:46-60.

        Examples
        --------
        >>> Beta.power_prior(12, 40, 0.5)
        Beta(a=7.0, b=15.0)
        """
        n0 = check_int(n0, "n0", minimum=0)
        x0 = check_int(x0, "x0", minimum=0, maximum=n0)
        w = _a0_iv(a0, allow_zero=True)
        init = Beta(1.0, 1.0) if initial is None else initial
        if not isinstance(init, Beta):
            raise DesignError(f"`initial` must be a Beta prior; got {initial!r}.")
        return cls(init.a + w * x0, init.b + w * (n0 - x0))

    @property
    def mean(self) -> float:
        """Mean ``a / (a + b)``."""
        return self.a / (self.a + self.b)

    @property
    def sd(self) -> float:
        """Standard deviation ``sqrt(a b / ((a + b)^2 (a + b + 1)))``."""
        n = self.a + self.b
        return math.sqrt((self.a / n) * (self.b / n) / (n + 1.0))  # (a b and n^2 underflowed at shapes 1e-170)

    def _pdf(self, x: FloatArray) -> FloatArray:
        return _BETA.pdf(x, self.a, self.b)

    def _cdf(self, x: FloatArray) -> FloatArray:
        return _BETA.cdf(x, self.a, self.b)

    def _sf(self, x: FloatArray) -> FloatArray:
        return _BETA.sf(x, self.a, self.b)

    def _ppf(self, q: FloatArray) -> FloatArray:
        return _BETA.ppf(q, self.a, self.b)

    def update(self, x: int, n: int) -> Beta:
        """Posterior after ``x`` responders out of ``n`` patients: ``Beta(a + x, b + n - x)``.

        Parameters
        ----------
        x, n : int
            Responders and patients, ``0 <= x <= n``.

        Returns
        -------
        Beta
            The conjugate posterior.
        """
        n = check_int(n, "n", minimum=0)
        x = check_int(x, "x", minimum=0, maximum=n)
        return Beta(self.a + x, self.b + n - x)

    def predictive(self, n: int) -> BetaBinomial:
        """Prior (or posterior) predictive distribution of the responders among ``n`` new patients.

        Parameters
        ----------
        n : int
            Number of future patients, 0 to 10^6.

        Returns
        -------
        BetaBinomial
            The beta-binomial distribution ``BB(n, a, b)``.

        Examples
        --------
        >>> round(Beta(17, 4).predictive(10).sf(7), 4)   # P(at least 8 of 10 respond)
        0.6936
        """
        return BetaBinomial(n, (self.a,), (self.b,))

    def robustify(self, weight: float, mean: float | None = None, *, n: float = 1.0) -> BetaMixture:
        """Mix in a vague component: ``(1 - weight) * self + weight * Beta(m (n+1), (1-m)(n+1))``.

        Parameters
        ----------
        weight : float
            Weight of the vague component, in [0, 1] (0.1-0.5 is usual).
        mean : float, optional
            Mean ``m`` of the vague component, in (0, 1). Default 1/2, which with ``n = 1`` gives the
            uniform ``Beta(1, 1)``. Set it to the null (historical) rate when there is one.
        n : float, optional
            Its prior sample size minus one (default 1). RBesT's convention: the vague component
            has ``a + b = n + 1``, so that the default is ``Beta(1, 1)`` rather than the strict
            unit-information ``Beta(1/2, 1/2)``.

        Returns
        -------
        BetaMixture
            The robust mixture prior (Schmidli et al. 2014).

        References
        ----------
        Schmidli H, Gsteiger S, Roychoudhury S, O'Hagan A, Spiegelhalter D, Neuenschwander B.
        Robust meta-analytic-predictive priors in clinical trials with historical control
        information. Biometrics 2014;70:1023-1032.

        Examples
        --------
        >>> Beta(15, 85).robustify(0.2)
        BetaMixture(weights=(0.8, 0.2), a=(15.0, 1.0), b=(85.0, 1.0))
        """
        return BetaMixture((1.0,), (self.a,), (self.b,)).robustify(weight, mean, n=n)

    def ess(self, method: EssMethod = "elir", *, s: float = 100.0) -> float:
        """Effective sample size of the prior, in patients."""
        m = _ess_method_iv(method)
        s = check_positive(s, "s")
        a, b = np.array([self.a]), np.array([self.b])
        if m == "elir":
            if self.a < 1.0 or self.b < 1.0:
                return _beta_ess(np.ones(1), a, b, m, s)  # raises with the explanation
            return _beta_elir_first_term(np.ones(1), a, b)
        if m == "moment":
            return self.a + self.b
        return _beta_ess(np.ones(1), a, b, m, s)


_append_doc(
    Beta.ess,
    _ESS_DOC_BETA,
    """
        Examples
        --------
        >>> Beta(5, 15).ess("elir"), Beta(5, 15).ess("moment")
        (20.0, 20.0)
""",
)


@dataclass(frozen=True, slots=True)
class BetaMixture(_Mixture):
    """Mixture of beta distributions ``sum_k w_k Beta(a_k, b_k)``.

    Parameters
    ----------
    weights : array_like
        Non-negative component weights; normalised to sum to 1.
    a, b : array_like
        Shape parameters of the components (each > 0), one per weight.

    Attributes
    ----------
    weights, a, b : tuple of float
        Normalised weights and the component parameters.

    Notes
    -----
    Mixtures of conjugate priors are conjugate: after ``x`` of ``n`` responders the components become
    ``Beta(a_k + x, b_k + n - x)`` and the weights are multiplied by each component's marginal
    (beta-binomial) likelihood ``B(a_k + x, b_k + n - x) / B(a_k, b_k)`` and renormalised. The
    quantile function is found by Brent's method bracketed by the component quantiles.

    Examples
    --------
    >>> from condapprove.priors import Beta, BetaMixture
    >>> prior = Beta(15, 85).robustify(0.2)          # historical rate ~15%, 20% vague
    >>> post = prior.update(12, 13)                  # Stemirac: 12 of 13 improved
    >>> [round(w, 4) for w in post.weights]          # the data conflict: the vague part takes over
    [0.0, 1.0]
    >>> round(post.prob_greater(0.5), 4)
    0.9991
    """

    weights: tuple[float, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]

    _family: ClassVar[_Family] = _BETA
    _params: ClassVar[tuple[str, str]] = ("a", "b")

    @property
    def components(self) -> tuple[Beta, ...]:
        """The components as :class:`Beta` objects."""
        return tuple(Beta(a, b) for a, b in zip(self.a, self.b, strict=True))

    def update(self, x: int, n: int) -> BetaMixture:
        """Posterior after ``x`` responders out of ``n``: updated components and weights.

        Parameters
        ----------
        x, n : int
            Responders and patients, ``0 <= x <= n``.

        Returns
        -------
        BetaMixture
            Components ``Beta(a_k + x, b_k + n - x)`` with weights proportional to
            ``w_k B(a_k + x, b_k + n - x) / B(a_k, b_k)``.
        """
        n = check_int(n, "n", minimum=0)
        x = check_int(x, "x", minimum=0, maximum=n)
        _, a, b = self._arrays()
        new_w = self._reweighted(log_beta_ratio(a, b, x, n - x))  # (betaln's difference loses (a + b) eps)
        return BetaMixture(new_w, tuple((a + x).tolist()), tuple((b + n - x).tolist()))

    def predictive(self, n: int) -> BetaBinomial:
        """Predictive distribution of responders among ``n`` new patients (mixture of beta-binomials)."""
        return BetaBinomial(n, self.a, self.b, weights=self.weights)

    def robustify(self, weight: float, mean: float | None = None, *, n: float = 1.0) -> BetaMixture:
        """Add a vague component ``Beta(m (n+1), (1-m)(n+1))`` with weight ``weight``.

        The existing weights are rescaled by ``1 - weight``; see :meth:`Beta.robustify` for the
        convention (RBesT's: default ``m = 1/2`` and ``n = 1``, i.e. ``Beta(1, 1)``).

        Parameters
        ----------
        weight : float
            Weight of the vague component, in [0, 1].
        mean : float, optional
            Mean of the vague component, in (0, 1); default 1/2.
        n : float, optional
            Vague component has ``a + b = n + 1``; default 1.

        Returns
        -------
        BetaMixture
            The robustified mixture.
        """
        w = self._robust_weights(weight)
        m = 0.5 if mean is None else check_probability(mean, "mean", open_low=True, open_high=True)
        size = check_positive(n, "n", allow_zero=True) + 1.0
        return BetaMixture(w, (*self.a, m * size), (*self.b, (1.0 - m) * size))

    def ess(self, method: EssMethod = "elir", *, s: float = 100.0) -> float:
        """Effective sample size of the mixture prior, in patients."""
        m = _ess_method_iv(method)
        s = check_positive(s, "s")
        w, a, b = self._arrays()
        return _beta_ess(w, a, b, m, s)

    def to_frame(self) -> pd.DataFrame:
        """One row per component: ``weight``, ``a``, ``b``, ``mean``."""
        import pandas as pd

        _, a, b = self._arrays()
        return pd.DataFrame({"weight": self.weights, "a": self.a, "b": self.b, "mean": _BETA.moments(a, b)[0]})


_append_doc(
    BetaMixture.ess,
    _ESS_DOC_BETA,
    """
        Notes
        -----
        For a mixture, ``i_prior = -(log p)''`` is computed from the component derivatives
        ``g_k = (a_k - 1)/t - (b_k - 1)/(1 - t)`` and ``h_k = g_k'`` as
        ``-sum_k omega_k h_k - Var_omega(g)`` with ``omega_k(t) = w_k p_k(t) / p(t)``; the first part
        integrates in closed form, the second by adaptive quadrature on the logit scale.

        References
        ----------
        Neuenschwander B, Weber S, Schmidli H, O'Hagan A. Predictively consistent prior effective
        sample sizes. Biometrics 2020;76:578-587.

        Morita S, Thall PF, Mueller P. Determining the effective sample size of a parametric prior.
        Biometrics 2008;64:595-602.

        Examples
        --------
        >>> bmix = BetaMixture([0.8, 0.2], [10, 1], [2, 1])
        >>> round(bmix.ess("moment"), 2)
        3.16
""",
)


#: The most patients a beta-binomial predictive distribution counts (its masses are summed for the tails).
MAX_PREDICTIVE_N = 10**6


@dataclass(frozen=True, slots=True)
class BetaBinomial(ResultMixin):
    """Beta-binomial (mixture) distribution: predictive number of responders among ``n`` patients.

    Parameters
    ----------
    n : int
        Number of patients, 0 to ``MAX_PREDICTIVE_N`` (10^6).
    a, b : array_like
        Beta parameters of the components.
    weights : array_like, optional
        Component weights (normalised); default equal weights.

    Attributes
    ----------
    n : int
    a, b, weights : tuple of float

    Notes
    -----
    ``P(X = k) = sum_j w_j C(n, k) B(k + a_j, n - k + b_j) / B(a_j, b_j)``, the distribution of the
    responders in ``n`` future patients when the response probability follows the beta (mixture)
    prior or posterior. Used for predictive probabilities of success.

    Examples
    --------
    >>> from condapprove.priors import Beta
    >>> pred = Beta(2, 3).predictive(4)
    >>> [round(float(v), 4) for v in pred.pmf([0, 1, 2, 3, 4])]
    [0.2143, 0.2857, 0.2571, 0.1714, 0.0714]
    """

    n: int
    a: tuple[float, ...]
    b: tuple[float, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        # (the masses of 0..n are summed: up to 10^6 patients, about a second)
        object.__setattr__(self, "n", check_int(self.n, "n", minimum=0, maximum=MAX_PREDICTIVE_N))
        if self.weights is None:
            object.__setattr__(self, "weights", (1.0,) * np.atleast_1d(np.asarray(self.a)).size)
        w, a2, b2 = _mixture_iv(self.weights, self.a, self.b, ("a", "b"), maximum=MAX_BETA_SHAPE)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "a", a2)
        object.__setattr__(self, "b", b2)

    def _masses(self) -> FloatArray:
        """``P(X = j)`` for ``j = 0..n``: ``C(n, j)`` times each component's ratio of beta functions, the ratio from
        :func:`~condapprove._dist.log_beta_ratio` (scipy's betabinom lost about the shapes times the machine
        epsilon: 0.25044 for 0.24609 at shapes 1e12, 10 patients and 5 responders)."""
        j = np.arange(self.n + 1, dtype=np.float64)
        log_choose = -np.log1p(float(self.n)) - scipy.special.betaln(self.n - j + 1.0, j + 1.0)
        ratio = log_beta_ratio(np.array(self.a)[None, :], np.array(self.b)[None, :], j[:, None],
                               (self.n - j)[:, None])
        return np.asarray(np.exp(log_choose[:, None] + ratio) @ np.array(self.weights))

    def _at(self, values: FloatArray, k: FloatArray, below: float, above: float) -> FloatArray:
        """``values[floor(k)]`` for ``0 <= k <= n``, ``below`` under 0 and ``above`` over ``n``."""
        inside = (k >= 0) & (k <= self.n)
        j = np.where(inside, np.floor(np.where(inside, k, 0.0)), 0.0).astype(np.int64)
        return np.where(inside, values[j], np.where(k < 0, below, above))

    def pmf(self, k: ArrayLike) -> Any:
        """``P(X = k)`` (0 outside ``0..n`` and at non-integers)."""
        arr, scalar = _points(k, "k")
        vals = np.where(arr == np.floor(arr), self._at(self._masses(), arr, 0.0, 0.0), 0.0)
        return _out(vals, scalar)

    def cdf(self, k: ArrayLike) -> Any:
        """``P(X <= k)``: the sum of the masses up to ``k``."""
        arr, scalar = _points(k, "k")
        below = np.cumsum(self._masses())
        below[-1] = 1.0  # (P(X <= n); the masses' sum can miss it in the last digits)
        return _out(np.clip(self._at(below, arr, 0.0, 1.0), 0.0, 1.0), scalar)

    def sf(self, k: ArrayLike) -> Any:
        """``P(X > k)``: the sum of the masses above ``k``, computed directly, not as ``1 - cdf`` (accurate in the
        upper tail; ``P(X >= k) = sf(k - 1)``)."""
        arr, scalar = _points(k, "k")
        above = np.append(np.cumsum(self._masses()[::-1])[::-1][1:], 0.0)  # above[j] = P(X > j)
        return _out(np.clip(self._at(above, arr, 1.0, 0.0), 0.0, 1.0), scalar)

    @property
    def mean(self) -> float:
        """Mean ``n E[p]``."""
        a, b, w = np.array(self.a), np.array(self.b), np.array(self.weights)
        return float(self.n * (w @ (a / (a + b))))

    @property
    def sd(self) -> float:
        """Standard deviation (mixture of beta-binomial moments)."""
        a, b, w = np.array(self.a), np.array(self.b), np.array(self.weights)
        n = self.n
        m = n * a / (a + b)
        v = n * (a / (a + b)) * (b / (a + b)) * (a + b + n) / (a + b + 1.0)
        return math.sqrt(_mixture_mean_var(w, m, v)[1])


# ---------------------------------------------------------------------------------------------
# Normal family
# ---------------------------------------------------------------------------------------------
def _sigma_ref_iv(sigma_ref: Any) -> float:
    return check_positive(sigma_ref, "sigma_ref")


def _se_iv(se: Any) -> float:
    return check_positive(se, "se")


def _standardised_ndtr(d: Any, s: Any) -> FloatArray:
    """``ndtr(d / s)``, where a tiny ``s`` (a posterior on an almost exact estimate) takes ``d / s`` to +-inf: the
    limit 0 or 1, without numpy's overflow warning."""
    with np.errstate(over="ignore"):
        return np.asarray(scipy.special.ndtr(d / s), dtype=np.float64)


_NORMAL = _Family(
    pdf=lambda x, m, s: np.asarray(scipy.stats.norm.pdf(x, m, s), dtype=np.float64),
    cdf=lambda x, m, s: _standardised_ndtr(x - m, s),
    sf=lambda x, m, s: _standardised_ndtr(m - x, s),
    ppf=lambda q, m, s: np.asarray(m + s * scipy.special.ndtri(q), dtype=np.float64),
    moments=lambda m, s: (m, s * s),
    support=(-np.inf, np.inf),
    first_positive=False,
)


def _normal_mix_info(w: FloatArray, m: FloatArray, s: FloatArray, x: float) -> float:
    lp = np.log(w) + scipy.stats.norm.logpdf(x, m, s)
    om = np.exp(lp - scipy.special.logsumexp(lp))
    g = -(x - m) / s**2
    gbar = float(om @ g)
    return float(om @ (1.0 / s**2) - om @ (g - gbar) ** 2)


def _normal_ess(w: FloatArray, m: FloatArray, s: FloatArray, method: str, sigma_ref: float, flat: float) -> float:
    tau2 = sigma_ref**2
    if method == "moment":
        return tau2 / _mixture_mean_var(w, *_NORMAL.moments(m, s))[1]
    if method == "elir":
        first = float(w @ (1.0 / s**2))
        if w.size == 1:
            return tau2 * first
        # Gauss-Legendre on panels one component-sd wide over +-10 sd of every component: the
        # integrand is analytic with Gaussian tails, so this is accurate to rounding and vectorised.
        edges = np.unique(np.round((m[:, None] + np.arange(-10, 11)[None, :] * s[:, None]).ravel(), 12))
        nodes, gw = np.polynomial.legendre.leggauss(24)
        half = np.diff(edges) / 2.0
        mid = (edges[:-1] + edges[1:]) / 2.0
        x = (mid[:, None] + half[:, None] * nodes[None, :]).ravel()
        weights_x = (half[:, None] * gw[None, :]).ravel()
        lp = (np.log(w) - np.log(s) - 0.5 * math.log(2.0 * math.pi))[:, None] - 0.5 * (
            (x[None, :] - m[:, None]) / s[:, None]
        ) ** 2
        lmix = scipy.special.logsumexp(lp, axis=0)
        om = np.exp(lp - lmix)
        g = -(x[None, :] - m[:, None]) / s[:, None] ** 2
        gbar = np.sum(om * g, axis=0)
        var = np.sum(om * (g - gbar) ** 2, axis=0)
        return tau2 * (first - float(np.sum(weights_x * np.exp(lmix) * var)))
    # morita
    lo, hi = float(np.min(m - 8 * s)), float(np.max(m + 8 * s))
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 4001), m]))
    lw = np.log(w)

    def logpdf(x: FloatArray) -> FloatArray:
        return np.asarray(
            scipy.special.logsumexp(lw[:, None] + scipy.stats.norm.logpdf(x[None, :], m[:, None], s[:, None]), axis=0)
        )

    mode = _mixture_mode(logpdf, grid)
    info = _normal_mix_info(w, m, s, mode)
    info0 = 1.0 / (flat * float(np.max(s**2)))
    return (info - info0) * tau2


_ESS_DOC_NORMAL = """
        Parameters
        ----------
        method : {'elir', 'moment', 'morita'}, optional
            * ``'elir'`` (default): expected local information ratio (Neuenschwander et al. 2020),
              ``sigma_ref^2 E_prior[i_prior(theta)]`` with ``i_prior = -d^2/dtheta^2 log prior``;
              ``sigma_ref^2 / sd^2`` for a single normal; predictively consistent.
            * ``'moment'``: ``sigma_ref^2 / Var(theta)``.
            * ``'morita'``: RBesT's mode-based Morita ESS,
              ``sigma_ref^2 (i_prior(mode) - 1 / (s max_k sd_k^2))``.
        sigma_ref : float
            Reference scale: the standard deviation of one observation (one patient, or one
            patient-pair for a difference), so that the ESS is in patients. Required: an ESS of a
            normal prior has no meaning without it.
        s : float, optional
            Flattening constant of the 'morita' method (default 100, as RBesT).

        Returns
        -------
        float
            The effective sample size, in units of ``sigma_ref``.
"""


@dataclass(frozen=True, slots=True)
class Normal(_Univariate):
    """Normal distribution ``N(mean, sd^2)``: conjugate prior of a mean with a known-variance likelihood.

    Parameters
    ----------
    mean : float
        Mean (finite).
    sd : float
        Standard deviation (> 0).

    Attributes
    ----------
    mean, sd : float

    Notes
    -----
    Updating with an estimate ``y`` and its standard error ``se`` (a normal likelihood with known
    variance ``se^2``) gives precision ``1/sd^2 + 1/se^2`` and mean
    ``(mean/sd^2 + y/se^2) / precision``.

    Examples
    --------
    >>> from condapprove.priors import Normal
    >>> post = Normal(0, 10).update(6.0, 2.865)   # vague prior, Akuugo Fugl-Meyer difference
    >>> round(post.mean, 3), round(post.sd, 3)
    (5.545, 2.754)
    >>> round(post.prob_greater(0), 4)
    0.978
    """

    mean: float
    sd: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", check_finite(self.mean, "mean"))
        object.__setattr__(self, "sd", check_positive(self.sd, "sd"))

    @classmethod
    def power_prior(cls, mean0: float, se0: float, a0: float, *, initial: Normal | None = None) -> Normal:
        """Power prior from a historical estimate ``mean0`` (standard error ``se0``) with weight ``a0``.

        Parameters
        ----------
        mean0 : float
            Historical estimate.
        se0 : float
            Its standard error (> 0).
        a0 : float
            Discounting weight: in (0, 1] with the default flat initial prior, [0, 1] with ``initial``.
        initial : Normal, optional
            Initial prior; default a flat (improper) prior.

        Returns
        -------
        Normal
            With a flat initial prior ``N(mean0, se0^2 / a0)``; otherwise ``initial`` updated with an
            estimate ``mean0`` of standard error ``se0 / sqrt(a0)``.

        Notes
        -----
        Raising a normal likelihood to the power ``a0`` inflates its variance by ``1 / a0``, so the
        historical information is worth a fraction ``a0`` of its sample size.

        Examples
        --------
        >>> Normal.power_prior(5.0, 1.0, 0.25)
        Normal(mean=5.0, sd=2.0)
        """
        m0 = check_finite(mean0, "mean0")
        se = check_positive(se0, "se0")
        if initial is None:
            w = _a0_iv(a0, allow_zero=False)
            return cls(m0, se / math.sqrt(w))
        if not isinstance(initial, Normal):
            raise DesignError(f"`initial` must be a Normal prior or None; got {initial!r}.")
        w = _a0_iv(a0, allow_zero=True)
        if w == 0.0:
            return initial
        return initial.update(m0, se / math.sqrt(w))

    @property
    def var(self) -> float:
        """Variance ``sd^2``."""
        return self.sd**2

    def _pdf(self, x: FloatArray) -> FloatArray:
        return _NORMAL.pdf(x, self.mean, self.sd)

    def _cdf(self, x: FloatArray) -> FloatArray:
        return _NORMAL.cdf(x, self.mean, self.sd)

    def _sf(self, x: FloatArray) -> FloatArray:
        return _NORMAL.sf(x, self.mean, self.sd)

    def _ppf(self, q: FloatArray) -> FloatArray:
        return _NORMAL.ppf(q, self.mean, self.sd)

    def _as_mixture(self) -> NormalMixture:
        return NormalMixture((1.0,), (self.mean,), (self.sd,))

    def update(self, mean_estimate: float, se: float) -> Normal:
        """Posterior after observing an estimate with known standard error (normal likelihood).

        Parameters
        ----------
        mean_estimate : float
            The observed estimate.
        se : float
            Its standard error (> 0), treated as known.

        Returns
        -------
        Normal
            The conjugate posterior.
        """
        y = check_finite(mean_estimate, "mean_estimate")
        se = _se_iv(se)
        # precisions 1/sd^2 + 1/se^2 written through ratios of the two scales, which neither overflow nor underflow
        # (sd or se beyond 1e154 or below 1e-154 overflowed or divided by zero as variances)
        r = se / self.sd
        w = 1.0 / (1.0 + r * r)  # the estimate's share of the posterior precision
        small, large = min(se, self.sd), max(se, self.sd)
        q = small / large
        m, sd = self.mean + w * (y - self.mean), small / math.sqrt(1.0 + q * q)
        if not math.isfinite(m):
            raise DesignError(f"the posterior mean of a prior mean {self.mean!r} and an estimate {y!r} overflows; "
                              "rescale the data.")
        return Normal(m, sd)

    def predictive(self, se: float) -> Normal:
        """Predictive distribution of a future estimate with standard error ``se``: ``N(mean, sd^2 + se^2)``."""
        s = _se_iv(se)
        return Normal(self.mean, math.hypot(self.sd, s))

    def robustify(self, weight: float, mean: float | None = None, *, sigma_ref: float, n: float = 1.0) -> NormalMixture:
        """Mix in a unit-information component ``N(mean, sigma_ref^2 / n)`` with weight ``weight``.

        Parameters
        ----------
        weight : float
            Weight of the vague component, in [0, 1].
        mean : float, optional
            Its mean; default the prior mean (set it to the null value, often 0, when there is one).
        sigma_ref : float
            Reference scale: standard deviation of one observation (one patient). Required.
        n : float, optional
            Number of observations the vague component is worth (default 1: unit information).

        Returns
        -------
        NormalMixture
            ``(1 - weight) * self + weight * N(mean, sigma_ref^2 / n)``, RBesT's convention.

        Examples
        --------
        >>> Normal(3.0, 1.0).robustify(0.2, 0.0, sigma_ref=10.0)
        NormalMixture(weights=(0.8, 0.2), means=(3.0, 0.0), sds=(1.0, 10.0))
        """
        return self._as_mixture().robustify(weight, mean, sigma_ref=sigma_ref, n=n)

    def ess(self, method: EssMethod = "elir", *, sigma_ref: float, s: float = 100.0) -> float:
        """Effective sample size of the prior relative to ``sigma_ref``."""
        return self._as_mixture().ess(method, sigma_ref=sigma_ref, s=s)


_append_doc(
    Normal.ess,
    _ESS_DOC_NORMAL,
    """
        Examples
        --------
        >>> round(Normal(0, 2).ess("elir", sigma_ref=10), 6)
        25.0
""",
)


@dataclass(frozen=True, slots=True)
class NormalMixture(_Mixture):
    """Mixture of normal distributions ``sum_k w_k N(means_k, sds_k^2)``.

    Parameters
    ----------
    weights : array_like
        Non-negative component weights; normalised to sum to 1.
    means : array_like
        Component means.
    sds : array_like
        Component standard deviations (> 0).

    Attributes
    ----------
    weights, means, sds : tuple of float

    Notes
    -----
    Updating with an estimate ``y`` of known standard error ``se`` updates each component as
    :meth:`Normal.update` and multiplies its weight by the marginal likelihood
    ``phi(y; means_k, sqrt(sds_k^2 + se^2))``.

    Examples
    --------
    >>> from condapprove.priors import Normal
    >>> prior = Normal(3.0, 1.0).robustify(0.2, 0.0, sigma_ref=10.0)
    >>> post = prior.update(6.0, 2.865)
    >>> [round(w, 3) for w in post.weights]
    [0.909, 0.091]
    """

    weights: tuple[float, ...]
    means: tuple[float, ...]
    sds: tuple[float, ...]

    _family: ClassVar[_Family] = _NORMAL
    _params: ClassVar[tuple[str, str]] = ("means", "sds")

    @property
    def components(self) -> tuple[Normal, ...]:
        """The components as :class:`Normal` objects."""
        return tuple(Normal(m, s) for m, s in zip(self.means, self.sds, strict=True))

    def update(self, mean_estimate: float, se: float) -> NormalMixture:
        """Posterior after an estimate with known standard error; weights by marginal likelihoods.

        Parameters
        ----------
        mean_estimate : float
            The observed estimate.
        se : float
            Its standard error (> 0).

        Returns
        -------
        NormalMixture
            The conjugate posterior mixture.
        """
        y = check_finite(mean_estimate, "mean_estimate")
        se = _se_iv(se)
        _, m, s = self._arrays()
        # each component's conjugate update, and the marginal likelihoods through hypot: both free of the variances,
        # which overflowed for scales beyond 1e154
        posts = [Normal(mean, sd).update(y, se) for mean, sd in zip(self.means, self.sds)]
        new_w = self._reweighted(scipy.stats.norm.logpdf(y, m, np.hypot(s, se)))
        return NormalMixture(new_w, tuple(q.mean for q in posts), tuple(q.sd for q in posts))

    def predictive(self, se: float) -> NormalMixture:
        """Predictive distribution of a future estimate with standard error ``se``."""
        sd = _se_iv(se)
        _w, _m, s = self._arrays()
        return NormalMixture(self.weights, self.means, tuple(np.hypot(s, sd).tolist()))

    def robustify(self, weight: float, mean: float | None = None, *, sigma_ref: float, n: float = 1.0) -> NormalMixture:
        """Add a unit-information component ``N(mean, sigma_ref^2 / n)`` with weight ``weight``.

        The existing weights are rescaled by ``1 - weight`` (RBesT's convention). See
        :meth:`Normal.robustify`.

        Parameters
        ----------
        weight : float
            Weight of the vague component, in [0, 1].
        mean : float, optional
            Its mean; default the mixture mean.
        sigma_ref : float
            Reference scale (standard deviation of one observation). Required.
        n : float, optional
            Observations the vague component is worth (default 1).

        Returns
        -------
        NormalMixture
            The robustified mixture.
        """
        w = self._robust_weights(weight)
        ref = _sigma_ref_iv(sigma_ref)
        size = check_positive(n, "n")
        mu = self.mean if mean is None else check_finite(mean, "mean")
        return NormalMixture(w, (*self.means, mu), (*self.sds, ref / math.sqrt(size)))

    def ess(self, method: EssMethod = "elir", *, sigma_ref: float, s: float = 100.0) -> float:
        """Effective sample size of the mixture prior relative to ``sigma_ref``."""
        meth = _ess_method_iv(method)
        ref = _sigma_ref_iv(sigma_ref)
        s = check_positive(s, "s")
        w, m, sd = self._arrays()
        return _normal_ess(w, m, sd, meth, ref, s)

    def to_frame(self) -> pd.DataFrame:
        """One row per component: ``weight``, ``mean``, ``sd``."""
        import pandas as pd

        return pd.DataFrame({"weight": self.weights, "mean": self.means, "sd": self.sds})


_append_doc(
    NormalMixture.ess,
    _ESS_DOC_NORMAL,
    """
        Examples
        --------
        >>> nmix = NormalMixture([0.5, 0.5], [0, 3], [2, 4])
        >>> round(nmix.ess("moment", sigma_ref=10), 3)
        8.163
""",
)
