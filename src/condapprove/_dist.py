"""Values of a few scipy.stats distributions without importing scipy.stats.

Importing scipy.stats takes about 0.6 s on the reference machine, a third of a short ``condapprove simulate``,
and the simulation needs only a handful of its values: binomial, hypergeometric and Poisson tails and masses, and
Student's t upper tail.  Each function here evaluates the same scipy.special function that scipy.stats
evaluates (for the discrete distributions, the Boost-based ufuncs of ``scipy.special._ufuncs``; scipy.special's
public ``bdtr`` and friends are other algorithms, which differ in the last bits), with scipy.stats' handling of
the support and of invalid parameters, so the numbers are the same; the tests compare them with scipy.stats.
Where an installed scipy lacks one of those ufuncs, scipy.stats itself is used.

Arguments are integers (``k``, ``n``, ...) and valid parameters, as in the simulation (non-integer ``k`` of a
mass, and invalid parameters with ``k`` beyond the support, are not reproduced).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from ._typing import ArrayLike, FloatArray

__all__ = ["beta_quantile", "binom_cdf", "binom_pmf", "binom_sf", "hypergeom_sf", "log_beta_ratio", "poisson_pmf", "poisson_sf", "t_sf"]


def _ufunc(name: str) -> Any:
    """scipy.special's private ufunc ``name``, or None where this scipy has none."""
    try:
        from scipy.special import _ufuncs
    except ImportError:  # pragma: no cover - another scipy
        return None
    return getattr(_ufuncs, name, None)


def _scipy_stats(dist: str, method: str, *args: ArrayLike) -> FloatArray:
    """``scipy.stats.<dist>.<method>(*args)`` itself, where this scipy lacks the ufunc it evaluates."""
    from scipy import stats

    return np.asarray(getattr(getattr(stats, dist), method)(*args), dtype=np.float64)


#: Values left and right of the support, by method.
_OUTSIDE = {"cdf": (0.0, 1.0), "sf": (1.0, 0.0), "pmf": (0.0, 0.0)}


def _discrete(fn: Callable[..., Any], method: str, k: ArrayLike, lo: ArrayLike, hi: ArrayLike, valid: ArrayLike,
              *args: ArrayLike) -> FloatArray:
    """scipy.stats' ``rv_discrete.<method>`` on the support [lo, hi]: the values of :data:`_OUTSIDE` left and right
    of it (``cdf`` and ``sf`` evaluate ``fn`` on lo <= k < hi, at ``floor(k)``; ``pmf`` on lo <= k <= hi), NaN for
    invalid parameters and a NaN ``k``, else ``fn(k, *args)`` clipped to [0, 1]."""
    k = np.asarray(k, dtype=np.float64)
    if method != "pmf":
        k = np.floor(k)
    k, lo, hi, valid, *rest = np.broadcast_arrays(k, lo, hi, valid, *args)
    below, above = _OUTSIDE[method]
    out = np.full(k.shape, above)
    out[k < lo] = below
    out[~valid | np.isnan(k)] = np.nan
    cond = valid & (k >= lo) & ((k <= hi) if method == "pmf" else (k < hi))
    if np.any(cond):
        out[cond] = np.clip(fn(k[cond], *(np.asarray(a[cond], dtype=np.float64) for a in rest)), 0.0, 1.0)
    return out


def _binom(method: str, k: ArrayLike, n: ArrayLike, p: float) -> FloatArray:
    fn = _ufunc(f"_binom_{method}")
    if fn is None:  # another scipy
        return _scipy_stats("binom", method, k, n, p)
    n = np.asarray(n)
    return _discrete(fn, method, k, 0, n, (n >= 0) & (0.0 <= p <= 1.0), n, p)


def binom_cdf(k: ArrayLike, n: ArrayLike, p: float) -> FloatArray:
    """``scipy.stats.binom.cdf(k, n, p)``."""
    return _binom("cdf", k, n, p)


def binom_sf(k: ArrayLike, n: ArrayLike, p: float) -> FloatArray:
    """``scipy.stats.binom.sf(k, n, p)``."""
    return _binom("sf", k, n, p)


def binom_pmf(k: ArrayLike, n: ArrayLike, p: float) -> FloatArray:
    """``scipy.stats.binom.pmf(k, n, p)`` for integer ``k``."""
    return _binom("pmf", k, n, p)


def hypergeom_sf(k: ArrayLike, total: ArrayLike, good: ArrayLike, draws: ArrayLike) -> FloatArray:
    """``scipy.stats.hypergeom.sf(k, total, good, draws)`` (scipy's ``M, n, N``) for integer ``k``."""
    fn = _ufunc("_hypergeom_sf")
    if fn is None:  # another scipy
        return _scipy_stats("hypergeom", "sf", k, total, good, draws)
    total, good, draws = (np.asarray(a) for a in (total, good, draws))
    valid = (total > 0) & (good >= 0) & (draws >= 0) & (good <= total) & (draws <= total)
    lo, hi = np.maximum(draws - (total - good), 0), np.minimum(good, draws)
    return _discrete(fn, "sf", k, lo, hi, valid, good, draws, total)


def _poisson_pmf(k: FloatArray, mu: FloatArray) -> FloatArray:
    return np.asarray(np.exp(special.xlogy(k, mu) - special.gammaln(k + 1) - mu))


def poisson_pmf(k: ArrayLike, mu: float) -> FloatArray:
    """``scipy.stats.poisson.pmf(k, mu)`` for integer ``k`` (its formula: exp(k log mu - log k! - mu))."""
    return _discrete(_poisson_pmf, "pmf", k, 0, np.inf, mu >= 0, mu)


def poisson_sf(k: ArrayLike, mu: float) -> FloatArray:
    """``scipy.stats.poisson.sf(k, mu)`` (scipy.special's ``pdtrc``)."""
    return _discrete(special.pdtrc, "sf", k, 0, np.inf, mu >= 0, mu)


def t_sf(t: ArrayLike, df: ArrayLike) -> FloatArray:
    """``scipy.stats.t.sf(t, df)`` for ``df > 0``: ``scipy.special.stdtr(df, -t)`` (inf, -inf and NaN give 0, 1 and
    NaN there too)."""
    return np.asarray(special.stdtr(df, -np.asarray(t, dtype=np.float64)))


#: From this argument on, :func:`_log_rising` uses Stirling's series (its first omitted term below 2e-14 there).
_STIRLING_FROM = 10.0


def _stirling_error(z: FloatArray) -> FloatArray:
    """``lgamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2)`` for ``z >= 10``, by its asymptotic series."""
    r = 1.0 / z
    r2 = r * r
    return np.asarray(r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 / 1188)))))


def _log_rising(z: FloatArray, k: FloatArray) -> FloatArray:
    """``lgamma(z + k) - lgamma(z)`` for ``z > 0``, ``k >= 0``, without the cancellation of the difference.

    For ``z >= 10``, by Stirling's formula: ``k log z + ((z + k - 1/2) log1p(k / z) - k)`` plus the difference of
    the two Stirling errors, each term accurate to a few units in the last place of the result's scale (the
    difference of two ``lgamma`` values of about ``z log z`` loses ``z log z`` times the machine epsilon); below, the
    plain difference, whose terms are small.
    """
    big = z >= _STIRLING_FROM
    zs = np.where(big, z, _STIRLING_FROM)  # (the series only where it is used: no division by 0 elsewhere)
    stirling = (k * np.log(zs) + ((zs + k - 0.5) * np.log1p(k / zs) - k)
                + (_stirling_error(zs + k) - _stirling_error(zs)))
    return np.asarray(np.where(big, stirling, special.gammaln(z + k) - special.gammaln(z)))


def log_beta_ratio(a: ArrayLike, b: ArrayLike, x: ArrayLike, m: ArrayLike) -> FloatArray:
    """``log B(a + x, b + m) - log B(a, b)`` (broadcast), for shapes ``a, b > 0`` and ``x, m >= 0``: a beta
    component's marginal likelihood of ``x`` responders and ``m`` non-responders, the log of its weight's factor in a
    beta mixture's posterior.

    ``scipy.special.betaln(a + x, b + m) - betaln(a, b)`` loses about ``(a + b)`` times the machine epsilon in the
    difference of two large numbers (2e-4 at ``a = b = 1e11``, 30 and 70); this sums three differences of log-gamma
    values (:func:`_log_rising`), each computed without the cancellation.  The six log-gamma values pair up in three
    ways, ``R(a, x) + R(b, m) - R(a + b, x + m)``, ``R(a, x) + R(b, a) - R(b + m, a + x)`` and ``R(b, m) + R(a, b) -
    R(a + x, b + m)`` (``R(z, k) = lgamma(z + k) - lgamma(z)``); each element takes the one whose terms are smallest
    in magnitude, which bounds the rounding of their sum (the first alone lost 3e-8 at ``a = 0.23``, ``x = 10^7``:
    two terms of 1.6e8 for a result of -0.08).  Against mpmath on 10,000 random cases (shapes 1e-3 to 1e13, counts 0
    to 10^7): within 7e-13 where ``x + m <= 100``; otherwise within 6e-10 of ``max(1, |result|)`` (5e-10 at
    ``a = 1.5e11``, ``b = 4.3e5``, ``x = 1.8e5``: terms of 4.7e6 still cancel), the sum's rounding.

    Examples
    --------
    >>> from condapprove._dist import log_beta_ratio
    >>> float(log_beta_ratio(1.0, 1.0, 1, 1))  # B(2, 2) / B(1, 1) = 1/6
    -1.791759469228055
    """
    a, b, x, m = (np.asarray(v, dtype=np.float64) for v in (a, b, x, m))
    rx, rm = _log_rising(a, x), _log_rising(b, m)
    ways = [(rx, rm, _log_rising(a + b, x + m)), (rx, _log_rising(b, a), _log_rising(b + m, a + x)),
            (rm, _log_rising(a, b), _log_rising(a + x, b + m))]
    sums = np.stack([t1 + t2 - t3 for t1, t2, t3 in ways])
    scale = np.stack([np.abs(t1) + np.abs(t2) + np.abs(t3) for t1, t2, t3 in ways])
    return np.asarray(np.take_along_axis(sums, np.argmin(scale, axis=0)[None], axis=0)[0])


#: At most this many Newton steps of :func:`beta_quantile` for a quantile scipy gives as NaN or wrong (4 settle a
#: tail of 1e-17; the median of Beta(1000, 1.58e8), which scipy 1.17 gives as 1.52e-5 for 6.33e-6, takes 10).
_NEWTON_STEPS = 60


def beta_quantile(a: ArrayLike, b: ArrayLike, q: ArrayLike, upper: bool = False) -> FloatArray:
    """The ``q`` quantile of Beta(``a``, ``b``) (``upper``: the ``1 - q`` quantile, from ``q`` itself), broadcast:
    ``scipy.special.betaincinv`` (``betainccinv``), and where that gives NaN, the lower tail's leading term
    ``x = (q a B(a, b))^(1/a)`` refined by Newton steps on ``log I_x(a, b)`` in ``log x``.

    scipy 1.17's ``betaincinv(a, b, q)`` is NaN for ``a`` just above 1 and ``b < 1`` at ``q <= 1e-17`` (1.001
    to 1.05 and 0.001 to 1 at 1e-17; up to ``a = 3.4`` at 1e-100), and ``betainccinv`` for the mirrored shapes.
    Where scipy is finite and its tail probability is within a relative 1e-6 of ``q`` its value is kept; a value
    that is not (scipy 1.17 gives 1.52e-5 for the median 6.33e-6 of Beta(1000, 1.58e8), right again at a shape of
    1000.0000001) is solved again by the Newton steps.  An upper quantile taken from the lower tail of Beta(b, a)
    is ``1 - x``, to the spacing of doubles near 1.

    Examples
    --------
    >>> from condapprove._dist import beta_quantile
    >>> x = float(beta_quantile(1.01, 0.5, 1e-17))  # scipy: nan
    >>> from scipy import special
    >>> abs(float(special.betainc(1.01, 0.5, x)) / 1e-17 - 1) < 1e-12
    True
    """
    a, b, q = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, q)))
    fn = special.betainccinv if upper else special.betaincinv
    out = np.array(fn(a, b, q), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        # scipy's value kept where its tail probability is within a relative 1e-6 of q (never where it is NaN)
        tail = special.betaincc(a, b, out) if upper else special.betainc(a, b, out)
        bad = (a > 0) & (b > 0) & (q >= 0) & (q <= 1) & ~(np.abs(tail - q) <= 1e-6 * q)
    if bool(np.any(bad)):
        lo_a, lo_b = (b[bad], a[bad]) if upper else (a[bad], b[bad])  # the lower tail of Beta(lo_a, lo_b)
        log_q = np.log(q[bad])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            log_x = np.minimum((log_q + np.log(lo_a) + special.betaln(lo_a, lo_b)) / lo_a, 0.0)
            for _ in range(_NEWTON_STEPS):  # Newton on log I_x - log q, whose slope in log x is x f(x) / I_x
                x = np.exp(log_x)
                cdf = special.betainc(lo_a, lo_b, x)
                slope = np.exp(lo_a * log_x + special.xlog1py(lo_b - 1.0, -x) - special.betaln(lo_a, lo_b)) / cdf
                step = (np.log(cdf) - log_q) / slope
                moved = np.isfinite(step) & (cdf > 0)
                log_x = np.where(moved, np.minimum(log_x - step, 0.0), log_x)
                if not np.any(moved & (np.abs(step) > 1e-15 * np.maximum(1.0, np.abs(log_x)))):
                    break
            x = np.exp(log_x)
        out[bad] = 1.0 - x if upper else x
    return out
