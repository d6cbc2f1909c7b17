"""Small result types shared by every module.

* :class:`ConfidenceInterval` -- a ``(low, high)`` named tuple, as in ``scipy.stats``.
* :class:`MonteCarloEstimate` -- a simulated figure with its Monte-Carlo standard error.
* :class:`ResultMixin` -- ``to_dict()`` and ``to_frame()`` for frozen result dataclasses.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ._text import fixed
from .errors import DesignError

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    import pandas as pd

__all__ = ["ConfidenceInterval", "MonteCarloEstimate", "ResultMixin", "to_builtin"]


class ConfidenceInterval(NamedTuple):
    """A two-sided interval ``(low, high)``.

    Attributes
    ----------
    low, high : float
        The bounds; a one-sided interval has ``low=-inf`` or ``high=inf``
        (or 0 / 1 for a probability).
    """

    low: float
    high: float


def to_builtin(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, dataclasses and dicts to JSON-friendly builtins."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {f.name: to_builtin(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, ConfidenceInterval):
        return {"low": to_builtin(value.low), "high": to_builtin(value.high)}
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_builtin(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def json_text(value: Any) -> str:
    """JSON of a result (via :func:`to_builtin`) with every non-finite number written as ``null``.

    NaN and infinities are not JSON; an undefined figure (an MCSE from one replicate, a confidence limit
    that is not reached) is ``null`` instead, so any JSON reader can load the output.
    """
    return json.dumps(_finite_or_null(to_builtin(value)), indent=2, allow_nan=False, default=str) + "\n"


def _finite_or_null(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite_or_null(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite_or_null(v) for v in x]
    return x


class ResultMixin:
    """``to_dict()`` / ``to_frame()`` for frozen result dataclasses."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-friendly builtins (nested results become dicts)."""
        return {f.name: to_builtin(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def to_frame(self) -> pd.DataFrame:
        """Return a one-row :class:`pandas.DataFrame` of the scalar fields.

        Intervals are split into ``<name>_low`` and ``<name>_high`` columns; a
        :class:`MonteCarloEstimate` into ``<name>`` and ``<name>_mcse``.  A field that may hold
        either and holds None (a figure undefined for this endpoint or run) gets the same
        columns, empty, so that every result of a class has the same columns.
        """
        import pandas as pd

        row: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            kind = str(f.type)
            if v is None and "ConfidenceInterval" in kind:
                row[f"{f.name}_low"] = row[f"{f.name}_high"] = None
            elif v is None and "MonteCarloEstimate" in kind:
                row[f.name] = row[f"{f.name}_mcse"] = None
            elif isinstance(v, ConfidenceInterval):
                row[f"{f.name}_low"], row[f"{f.name}_high"] = float(v.low), float(v.high)
            elif isinstance(v, MonteCarloEstimate):
                row[f.name], row[f"{f.name}_mcse"] = v.value, v.mcse
            elif isinstance(v, (int, float, str, bool, np.number)) or v is None:
                row[f.name] = to_builtin(v)
        return pd.DataFrame([row])


def _quantile_of_order(kth: Callable[[int], float], n: int, q: float) -> float:
    """``np.quantile`` (its default 'linear' method, ``0 <= q <= 1``) of ``n >= 2`` numbers without NaN, known
    through ``kth(i)``, their ``i``-th smallest (0-based).

    The result depends only on the two order statistics around the virtual index :math:`(n - 1) q`: they are
    interpolated with numpy's formula (``_lerp``: ``a + (b - a) t``, or ``b - (b - a)(1 - t)`` from ``t >= 0.5``),
    the same operations on the same doubles, so the same number (tested bit for bit against ``np.quantile``); at
    the top (``q = 1``) it is the largest.
    """
    vi = (n - 1) * q
    lo = math.floor(vi)
    if lo >= n - 1:  # q = 1
        return kth(n - 1)
    a, b = kth(lo), kth(lo + 1)
    t = vi - lo
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def _sorted_quantile(v: np.ndarray, q: float) -> float:
    """``np.quantile(v, q)`` of increasing ``v``, without numpy's partition of all of ``v``
    (:func:`_quantile_of_order`); a sample of fewer than two numbers or with a NaN (last once sorted), and ``q``
    outside [0, 1), take numpy's own path."""
    if v.size < 2 or math.isnan(v[-1]) or not 0.0 <= q < 1.0:
        return float(np.quantile(v, q))
    return _quantile_of_order(lambda i: float(v[i]), v.size, q)


def _quantile_interval_ranks(n: int, q: float) -> tuple[int, int]:
    """The ranks of the distribution-free 95% interval of the ``q``-quantile of ``n`` numbers:
    ``n q ± 1.96 sqrt(n q (1-q))``, both clipped to the sample (at ``q = 1`` the lower one was ``n``, past it)."""
    half = 1.959963984540054 * math.sqrt(n * q * (1 - q))
    return int(min(n - 1, max(0, math.floor(n * q - half)))), int(min(n - 1, math.ceil(n * q + half)))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MonteCarloEstimate(ResultMixin):
    """A figure estimated by simulation, with its Monte-Carlo standard error.

    Attributes
    ----------
    value : float
        The estimate (a proportion of replicates, a mean or a quantile).
    mcse : float
        Its Monte-Carlo standard error: ``sqrt(p(1-p)/n)`` for a proportion,
        ``sd/sqrt(n)`` for a mean, an order-statistic interval for a quantile.
    n_sims : int
        Number of replicates the estimate is based on.

    Examples
    --------
    >>> from condapprove.results import MonteCarloEstimate
    >>> est = MonteCarloEstimate.proportion(812, 1000)
    >>> round(est.value, 3), round(est.mcse, 4)
    (0.812, 0.0124)
    >>> est.ci(0.95)
    ConfidenceInterval(low=0.78778..., high=0.83621...)
    """

    value: float
    mcse: float
    n_sims: int

    @classmethod
    def proportion(cls, successes: int, n_sims: int) -> MonteCarloEstimate:
        """Estimate a probability from ``successes`` out of ``n_sims`` replicates (NaN, with an MCSE of NaN, from none)."""
        if n_sims <= 0:
            return cls(value=math.nan, mcse=math.nan, n_sims=0)
        if not 0 <= successes <= n_sims:
            raise DesignError(f"`successes` must be between 0 and n_sims ({n_sims}); got {successes!r}.")
        p = successes / n_sims
        return cls(value=float(p), mcse=float(math.sqrt(p * (1.0 - p) / n_sims)), n_sims=int(n_sims))

    @classmethod
    def mean(cls, values: np.ndarray) -> MonteCarloEstimate:
        """Estimate a mean from per-replicate ``values`` (NaNs are not allowed)."""
        v = np.asarray(values, dtype=np.float64)
        n = v.size
        if n == 0:
            return cls(value=math.nan, mcse=math.nan, n_sims=0)
        # numpy's mean and std(ddof=1), written out so the sum is taken once (three passes instead of five):
        # the same operations in the same order, so the same numbers
        mean = np.add.reduce(v, axis=None) / n
        sd = math.nan
        if n > 1:
            dev = np.subtract(v, mean)
            np.multiply(dev, dev, out=dev)
            sd = math.sqrt(np.add.reduce(dev, axis=None) / (n - 1))
        return cls(value=float(mean), mcse=sd / math.sqrt(n), n_sims=int(n))

    @classmethod
    def quantile(cls, values: np.ndarray, q: float, *, presorted: bool = False) -> MonteCarloEstimate:
        """Estimate the ``q``-quantile of per-replicate ``values``.

        The MCSE is derived from the distribution-free order-statistic 95% interval
        (ranks ``n q ± 1.96 sqrt(n q (1-q))``) as its half-width divided by 1.96.
        ``presorted``: ``values`` are already in increasing order (several quantiles of one sample sort once).
        """
        v = np.asarray(values, dtype=np.float64)
        if not presorted:
            v = np.sort(v)
        n = v.size
        if n == 0:
            return cls(value=math.nan, mcse=math.nan, n_sims=0)
        est = _sorted_quantile(v, q)
        lo, hi = _quantile_interval_ranks(n, q)
        return cls(value=est, mcse=float(v[hi] - v[lo]) / (2 * 1.959963984540054), n_sims=int(n))

    @classmethod
    def quantile_of_order(cls, kth: Callable[[int], float], n: int, q: float) -> MonteCarloEstimate:
        """:meth:`quantile` of a sample of ``n`` numbers (at least 2, no NaN) known through ``kth(i)``, its
        ``i``-th smallest (0-based): the same numbers from the four order statistics it reads."""
        if n < 2 or not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile_of_order needs at least two numbers and 0 <= q <= 1; got n={n}, q={q}")
        est = _quantile_of_order(kth, n, q)
        lo, hi = _quantile_interval_ranks(n, q)
        return cls(value=est, mcse=float(kth(hi) - kth(lo)) / (2 * 1.959963984540054), n_sims=int(n))

    def ci(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Normal-approximation Monte-Carlo interval ``value ± z * mcse``, ``confidence_level`` in (0, 1)."""
        from scipy.special import ndtri

        if isinstance(confidence_level, bool) or not 0.0 < confidence_level < 1.0:
            raise DesignError(f"`confidence_level` must be a probability in (0, 1); got {confidence_level!r}.")
        z = float(ndtri(0.5 + confidence_level / 2))
        return ConfidenceInterval(self.value - z * self.mcse, self.value + z * self.mcse)

    def __format__(self, spec: str) -> str:
        """``value ± mcse``, each formatted by ``spec`` (default ``.4f``); with ``.Nf`` a number strictly between 0
        and 1 that would show as 0 or 1 shows as ``< 0.0001`` or ``> 0.9999`` (:func:`condapprove._text.fixed`).

        >>> f"{MonteCarloEstimate.proportion(19999, 20000)}", f"{MonteCarloEstimate.proportion(1, 10**6):.3f}"
        ('> 0.9999 ± < 0.0001', '< 0.001 ± < 0.001')
        """
        spec = spec or ".4f"
        decimals = re.fullmatch(r"\.(\d+)f", spec)
        if decimals:
            return f"{fixed(self.value, int(decimals[1]))} ± {fixed(self.mcse, int(decimals[1]))}"
        return f"{self.value:{spec}} ± {self.mcse:{spec}}"
