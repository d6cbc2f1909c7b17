"""Endpoints of the post-marketing simulation: sufficient statistics and test p-values.

Each endpoint turns the number of evaluable patients per arm into the sufficient
statistics of its analysis and maps them to one-sided p-values, vectorised over
replicates.  Calendar time comes from the engine, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from ._dist import binom_sf, hypergeom_sf
from ._typing import FloatArray, IntArray
from .errors import DesignError

__all__ = ["BinaryOutcome", "BinaryTest", "binary_pvalues", "simulate_binary"]

BinaryTest = Literal["exact_binomial", "fisher", "score"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BinaryOutcome:
    """Responders per arm for a batch of replicates.

    Attributes
    ----------
    x_treated, n_treated : ndarray of int
        Responders and evaluable patients in the treated arm.
    x_control, n_control : ndarray of int or None
        The same for a concurrent control arm (``None`` against a benchmark).
    """

    x_treated: IntArray
    n_treated: IntArray
    x_control: IntArray | None = None
    n_control: IntArray | None = None


def simulate_binary(rng: np.random.Generator, n: IntArray, rate: float) -> IntArray:
    """Responders among ``n`` evaluable patients with response probability ``rate``.

    Patients are exchangeable and independent, so the count is binomial: the
    sufficient statistic is drawn directly (one draw per replicate).
    """
    return rng.binomial(n, rate).astype(np.int64)


def _counts_iv(x: IntArray, n: IntArray, arm: str) -> None:
    """Responders between 0 and the evaluable patients in every replicate (x > n gave a p-value of 0)."""
    xa, na = np.broadcast_arrays(np.asarray(x), np.asarray(n))
    bad = np.flatnonzero((xa < 0) | (xa > na))
    if bad.size:
        i = int(bad[0])
        raise DesignError(f"`outcome` must have 0 <= x_{arm} <= n_{arm} in every replicate; got x_{arm}="
                          f"{int(xa.flat[i])} and n_{arm}={int(na.flat[i])} at index {i}.")


def binary_pvalues(outcome: BinaryOutcome, *, test: BinaryTest, benchmark: float | None = None) -> FloatArray:
    """One-sided p-values (treated better) for each replicate.

    Parameters
    ----------
    outcome : BinaryOutcome
        Responders and evaluable patients per arm.
    test : {'exact_binomial', 'fisher', 'score'}
        ``exact_binomial``: :math:`P(X \\ge x)` for :math:`X \\sim \\mathrm{Bin}(n, p_0)`
        against the benchmark rate ``benchmark``.
        ``fisher``: Fisher's exact test, :math:`P(X \\ge x_t)` for the hypergeometric
        distribution given both margins (R's ``fisher.test(alternative = "greater")``).
        ``score``: the pooled z (score) test, :math:`z = (\\hat p_t - \\hat p_c)/
        \\sqrt{\\bar p (1-\\bar p)(1/n_t + 1/n_c)}`, p-value :math:`1 - \\Phi(z)`.
    benchmark : float, optional
        The benchmark rate, for ``exact_binomial``.

    Returns
    -------
    ndarray of float
        p-values; 1.0 where an arm has no evaluable patient (nothing can be shown), and
        for the score test where all or no patients responded (:math:`z = 0` gives 0.5,
        but a test without variance shows nothing, so 1.0 is returned).

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.endpoints import BinaryOutcome, binary_pvalues
    >>> out = BinaryOutcome(x_treated=np.array([12]), n_treated=np.array([13]))
    >>> float(binary_pvalues(out, test="exact_binomial", benchmark=0.3)[0])  # Stemirac-like 12/13 vs 30%
    4.9955...e-06
    """
    _counts_iv(outcome.x_treated, outcome.n_treated, "treated")
    if outcome.x_control is not None and outcome.n_control is not None:
        _counts_iv(outcome.x_control, outcome.n_control, "control")
    if test == "exact_binomial" and benchmark is not None and not 0.0 <= benchmark <= 1.0:
        # (NaN too: a p-value of NaN, or 0 that counted as a rejection, before)
        raise DesignError(f"`benchmark` must be a rate in [0, 1]; got {benchmark!r}.")
    return binary_pvalues_unchecked(outcome, test=test, benchmark=benchmark)


def binary_pvalues_unchecked(outcome: BinaryOutcome, *, test: BinaryTest, benchmark: float | None = None) -> FloatArray:
    """:func:`binary_pvalues` without the checks of the counts and the benchmark: the engine's path, for counts it
    drew itself (0 <= x <= n by construction) against a validated design's benchmark, once a look and chunk."""
    x_t, n_t = outcome.x_treated, outcome.n_treated
    if test == "exact_binomial":
        if benchmark is None:
            raise ValueError("`benchmark` must be given for the exact binomial test; got None.")
        p = binom_sf(x_t - 1, n_t, benchmark)
        return np.where(n_t > 0, p, 1.0)
    if outcome.x_control is None or outcome.n_control is None:
        raise ValueError(f"`test` {test!r} needs a concurrent control arm; got none.")
    x_c, n_c = outcome.x_control, outcome.n_control
    both = (n_t > 0) & (n_c > 0)
    if test == "fisher":
        total = n_t + n_c
        succ = x_t + x_c
        p = hypergeom_sf(x_t - 1, np.maximum(total, 1), succ, n_t)
        return np.where(both, p, 1.0)
    if test == "score":
        nt = np.maximum(n_t, 1).astype(np.float64)
        nc = np.maximum(n_c, 1).astype(np.float64)
        pbar = (x_t + x_c) / (nt + nc)
        var = pbar * (1.0 - pbar) * (1.0 / nt + 1.0 / nc)
        ok = both & (var > 0)
        z = np.where(ok, (x_t / nt - x_c / nc) / np.sqrt(np.where(ok, var, 1.0)), 0.0)
        return np.where(ok, special.ndtr(-z), 1.0)
    raise ValueError(f"`test` must be one of 'exact_binomial', 'fisher', 'score'; got {test!r}.")
