"""Vectorised propensity-score adjustment for blocks of simulated comparison surveys.

A simulated use-results comparison survey compares treated patients with concurrent,
non-randomised controls that differ from them in measured confounders.  The Monte-Carlo engine
simulates a block of ``m`` replicates at once, each with up to ``n`` patients (treated and
controls), padded to a common ``n`` with a boolean ``valid`` mask.  The kernels below take

* ``X`` -- covariates, shape ``(m, n, p)``;
* ``t`` -- treatment indicator (1 treated, 0 control), shape ``(m, n)``;
* ``y`` -- outcome (0/1 or continuous), shape ``(m, n)``;
* ``valid`` -- which entries are patients, shape ``(m, n)`` (``None``: all of them);

and return one figure per replicate, with no Python loop over replicates or patients:

* :func:`logistic_fit_batch` -- logistic propensity model by batched Newton-Raphson;
* :func:`ps_weights_batch` -- IPTW weights for the ATT or the ATE;
* :func:`weighted_difference_batch` -- weighted mean difference (risk difference for a binary
  outcome) with a sandwich standard error;
* :func:`regression_adjusted_batch` -- coefficient of ``t`` in ``y ~ 1 + t + X`` by least
  squares, with a sandwich standard error.

The conventions are those of :mod:`condapprove.estimate.external` (``propensity_scores``,
``iptw_weights``, ``external_control_comparison``), which the tests check row by row; entries
outside ``valid`` are ignored whatever they hold (NaN included); entries inside must be finite.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
from scipy.special import expit, ndtr, ndtri

from .._typing import ArrayLike, BoolArray, FloatArray, IntArray
from .._validation import check_confidence_level, check_int, check_one_of, check_positive
from ..errors import DegenerateDataWarning, DesignError
from ..results import ConfidenceInterval, ResultMixin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DifferenceBatch",
    "LogisticFitBatch",
    "PSWeightsBatch",
    "RegressionBatch",
    "att_difference_over_cells",
    "logistic_fit_batch",
    "ps_weights_batch",
    "regression_adjusted_batch",
    "weighted_difference_batch",
]

SEPARATION_TOL = 1e-8
"""A fitted probability within this distance of 0 or 1 marks (quasi-)separation, as in
:func:`condapprove.estimate.external.propensity_scores`."""
PS_CLIP = 1e-6
"""Propensity scores of rows flagged ``converged=False`` are clipped to ``[PS_CLIP, 1 - PS_CLIP]``."""
_RANK_RTOL = 1e-10
_PAIR_BUDGET = 12_500_000  # most entries (~100 MB) of the precomputed covariate products
_SE_TYPES = ("HC0", "HC1", "HC2", "HC3")
_ALTERNATIVES = ("two-sided", "less", "greater")


# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------


class _BatchResult(ResultMixin, ABC):
    """``to_frame()`` with one row per replicate (every per-replicate array becomes a column)."""

    __slots__ = ()

    def to_frame(self) -> pd.DataFrame:
        """Return a :class:`pandas.DataFrame` with one row per replicate.

        Per-replicate arrays (shape ``(m,)``) become columns; per-patient arrays and
        coefficient matrices are left out (take them from the attributes); a string field is
        repeated on every row.
        """
        import pandas as pd

        m = self._m()
        cols: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray) and v.shape == (m,):
                cols[f.name] = v
            elif isinstance(v, (str, bool, int, float)):
                cols[f.name] = [v] * m
        return pd.DataFrame(cols)

    @abstractmethod
    def _m(self) -> int:
        """Number of replicates (rows) of the result."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogisticFitBatch(_BatchResult):
    """Logistic propensity models fitted to every replicate of a block.

    Attributes
    ----------
    coef : ndarray of float, shape (m, p + 1)
        Maximum-likelihood coefficients, intercept first, then the columns of ``X``.  For a
        rank-deficient row (``full_rank`` false) the coefficients are not identified and this
        is one solution (the iterations never move along the null space of the design, so it is
        the minimum-norm one); the fitted scores are still the maximum-likelihood ones.
    ps : ndarray of float, shape (m, n)
        Fitted propensity scores ``P(t = 1 | X)``; clipped to ``[1e-6, 1 - 1e-6]`` in rows with
        ``converged`` false; 0.5 (a neutral value, never used) at entries outside ``valid``.
    converged : ndarray of bool, shape (m,)
        False for rows that did not converge in ``max_iter`` iterations, that separate
        (a fitted score within ``1e-8`` of 0 or 1, the test of
        :func:`~condapprove.estimate.external.propensity_scores`), that lack a treated or a
        control patient, or that have no more patients than coefficients.
    full_rank : ndarray of bool, shape (m,)
        Whether the design ``[1, X]`` of the row's valid patients has full column rank (false,
        for instance, when a binary covariate happens to be constant in a replicate).
    n_iter : ndarray of int, shape (m,)
        Newton iterations taken.
    deviance : ndarray of float, shape (m,)
        Residual deviance ``-2 log L`` at the returned coefficients.
    """

    coef: FloatArray
    ps: FloatArray
    converged: BoolArray
    full_rank: BoolArray
    n_iter: IntArray
    deviance: FloatArray

    def _m(self) -> int:
        return int(self.converged.shape[0])

    def __repr__(self) -> str:
        m, n = self.ps.shape
        return (f"LogisticFitBatch(m={m}, n={n}, n_coef={self.coef.shape[1]}, "
                f"n_converged={int(self.converged.sum())}, n_rank_deficient={int((~self.full_rank).sum())})")


@dataclass(frozen=True, slots=True, kw_only=True)
class PSWeightsBatch(_BatchResult):
    """Inverse-probability-of-treatment weights for every replicate of a block.

    Attributes
    ----------
    weights : ndarray of float, shape (m, n)
        Positive weights of the valid patients; 0 outside ``valid``.
    estimand : str
        ``"ATT"`` or ``"ATE"``.
    stabilized : bool
        Whether each weight was multiplied by the proportion of the row's valid patients in its
        own group.
    ess_treated, ess_control : ndarray of float, shape (m,)
        Kish effective sample sizes ``(sum w)^2 / sum w^2`` of each group (0 for an empty group).
    max_weight : ndarray of float, shape (m,)
        Largest weight of each row.
    """

    weights: FloatArray
    estimand: str
    stabilized: bool
    ess_treated: FloatArray
    ess_control: FloatArray
    max_weight: FloatArray

    def _m(self) -> int:
        return int(self.weights.shape[0])

    def __repr__(self) -> str:
        m, n = self.weights.shape
        return (f"PSWeightsBatch(m={m}, n={n}, estimand={self.estimand!r}, stabilized={self.stabilized}, "
                f"median_ess_control={float(np.median(self.ess_control)):.4g})")


def _pvalue(statistic: FloatArray, alternative: str) -> FloatArray:
    alternative = check_one_of(alternative, "alternative", _ALTERNATIVES)
    if alternative == "two-sided":
        return cast("FloatArray", 2.0 * ndtr(-np.abs(statistic)))
    if alternative == "less":
        return cast("FloatArray", ndtr(statistic))
    return cast("FloatArray", ndtr(-statistic))


def _interval(estimate: FloatArray, se: FloatArray, confidence_level: float, alternative: str) -> ConfidenceInterval:
    level = check_confidence_level(confidence_level)
    alternative = check_one_of(alternative, "alternative", _ALTERNATIVES)
    if alternative == "two-sided":
        z = float(ndtri(0.5 + level / 2))
        return ConfidenceInterval(estimate - z * se, estimate + z * se)  # type: ignore[arg-type]
    z = float(ndtri(level))
    if alternative == "less":
        return ConfidenceInterval(np.full_like(estimate, -math.inf), estimate + z * se)  # type: ignore[arg-type]
    return ConfidenceInterval(estimate - z * se, np.full_like(estimate, math.inf))  # type: ignore[arg-type]


class _WaldBatch(_BatchResult):
    """Per-replicate Wald estimates (``estimate``, ``standard_error``, ``statistic``, ``se_type``, ``defined``):
    the statistic, p-values, intervals and a short repr shared by the difference and regression batches."""

    __slots__ = ()
    estimate: FloatArray
    standard_error: FloatArray
    statistic: FloatArray
    se_type: str
    defined: BoolArray

    def _m(self) -> int:
        return int(self.estimate.shape[0])

    @property
    def z(self) -> FloatArray:
        """The Wald statistic ``estimate / standard_error`` (same as ``statistic``)."""
        return self.statistic

    def pvalue(self, alternative: Literal["two-sided", "less", "greater"] = "two-sided") -> FloatArray:
        """Normal-approximation p-values of the Wald statistics (H1: effect != 0, < 0 or > 0)."""
        return _pvalue(self.statistic, alternative)

    def confidence_interval(
        self, confidence_level: float = 0.95, alternative: Literal["two-sided", "less", "greater"] = "two-sided"
    ) -> ConfidenceInterval:
        """Wald intervals ``estimate -/+ z * standard_error`` (arrays of shape ``(m,)``)."""
        return _interval(self.estimate, self.standard_error, confidence_level, alternative)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(m={self._m()}, se_type={self.se_type!r}, "
                f"n_defined={int(self.defined.sum())}, mean_estimate={float(np.nanmean(self.estimate)):.4g})")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)  # the short repr of _WaldBatch
class DifferenceBatch(_WaldBatch):
    """Treated-minus-control weighted mean differences, one per replicate.

    Attributes
    ----------
    estimate : ndarray of float, shape (m,)
        ``mean_treated - mean_control`` (a risk difference for a 0/1 outcome); NaN in rows where
        a group has no patient with positive weight (``defined`` false).
    standard_error : ndarray of float, shape (m,)
        Sandwich standard error of type ``se_type``; NaN where it is not defined (an empty group;
        HC1 with at most 2 patients; HC2/HC3 with a group of one patient); 0 when the outcome is
        constant within both groups.
    statistic : ndarray of float, shape (m,)
        Wald statistic ``z = estimate / standard_error``.  Where the standard error is 0 it is 0
        if the estimate is 0 and ``+-inf`` (the sign of the estimate) otherwise; NaN where the
        estimate or the standard error is NaN.
    mean_treated, mean_control : ndarray of float, shape (m,)
        Weighted outcome means of the groups (NaN for an empty group).
    n_treated, n_control : ndarray of int, shape (m,)
        Valid patients with positive weight in each group.
    se_type : str
        ``"HC0"``, ``"HC1"``, ``"HC2"`` or ``"HC3"``.
    defined : ndarray of bool, shape (m,)
        True where the estimate and standard error are finite and the standard error is
        positive, i.e. where ``statistic`` is an ordinary finite number.
    """

    estimate: FloatArray
    standard_error: FloatArray
    statistic: FloatArray
    mean_treated: FloatArray
    mean_control: FloatArray
    n_treated: IntArray
    n_control: IntArray
    se_type: str
    defined: BoolArray



@dataclass(frozen=True, slots=True, kw_only=True, repr=False)  # the short repr of _WaldBatch
class RegressionBatch(_WaldBatch):
    """Covariate-adjusted treatment effects by least squares, one per replicate.

    Attributes
    ----------
    estimate : ndarray of float, shape (m,)
        Coefficient of ``t`` in the least-squares fit ``y ~ 1 + t + X`` (for a 0/1 outcome a
        linear probability model: an adjusted risk difference); NaN where it is not identified
        (``t`` collinear with ``[1, X]``, for instance an empty group).
    standard_error : ndarray of float, shape (m,)
        Sandwich standard error of type ``se_type`` (NaN where not defined: no residual degrees
        of freedom for HC1, a leverage of 1 for HC2/HC3); 0 (and the estimate 0) when the
        outcome is constant in the row.
    statistic : ndarray of float, shape (m,)
        ``estimate / standard_error``, with the conventions of :class:`DifferenceBatch`.
    n : ndarray of int, shape (m,)
        Valid patients in each row.
    rank : ndarray of int, shape (m,)
        Column rank of the row's design ``[1, t, X]``.
    se_type : str
        ``"HC0"``, ``"HC1"``, ``"HC2"`` or ``"HC3"``.
    defined : ndarray of bool, shape (m,)
        True where estimate and standard error are finite and the standard error is positive.
    """

    estimate: FloatArray
    standard_error: FloatArray
    statistic: FloatArray
    n: IntArray
    rank: IntArray
    se_type: str
    defined: BoolArray



# --------------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------------


def _valid_iv(valid: Any, shape: tuple[int, ...]) -> BoolArray:
    if valid is None:
        return np.ones(shape, dtype=np.bool_)
    v = np.asarray(valid)
    if v.shape != shape:
        raise DesignError(f"`valid` must have the shape {shape} of `t`; got shape {v.shape}.")
    if v.dtype != np.bool_:
        try:
            x = v.astype(np.float64)
        except (TypeError, ValueError):
            raise DesignError(f"`valid` must be a boolean array; got dtype {v.dtype}.") from None
        if not np.all((x == 0) | (x == 1)):
            raise DesignError("`valid` must be a boolean (or 0/1) array; got other values.")
        v = x == 1
    return v


def _block_iv(t: Any, valid: Any) -> tuple[BoolArray, BoolArray]:
    """Return (t, valid) as boolean (m, n) arrays, t false outside valid."""
    arr = np.asarray(t)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DesignError(f"`t` must be a non-empty 2-d array (replicates, patients); got shape {arr.shape}.")
    v = _valid_iv(valid, arr.shape)
    if arr.dtype == np.bool_:
        tb = arr.copy()
    else:
        try:
            x = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DesignError(f"`t` must be an array of 0/1 (or bool); got dtype {arr.dtype}.") from None
        bad = v & ~((x == 0) | (x == 1))
        if np.any(bad):
            raise DesignError(f"`t` must contain only 0 and 1 at valid entries; got {x[bad][0].item()!r}.")
        tb = x == 1
    tb &= v
    return tb, v


def _float_iv(value: Any, name: str, valid: BoolArray, extra_dims: int = 0) -> FloatArray:
    """Return ``value`` as float64 with entries outside ``valid`` set to 0; finite where valid."""
    try:
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"`{name}` must be an array of finite numbers; got {type(value).__name__}.") from None
    want = valid.shape
    if a.ndim != 2 + extra_dims or a.shape[:2] != want:
        shape = f"({want[0]}, {want[1]}, p)" if extra_dims else str(want)
        raise DesignError(f"`{name}` must have shape {shape} to match `t`; got shape {a.shape}.")
    invalid = ~valid[..., None] if extra_dims else ~valid
    if not np.all(np.isfinite(a) | invalid):
        raise DesignError(f"`{name}` must be finite at valid entries; got NaN or inf.")
    np.copyto(a, 0.0, where=invalid)
    return a


def _scaled_rank(A: FloatArray) -> IntArray:
    """Column rank of each symmetric positive semi-definite matrix in a (m, q, q) stack.

    The matrices are scaled to unit diagonal first (zero diagonals left alone) so that the
    relative tolerance ``1e-10`` does not depend on the covariates' units.
    """
    d = np.sqrt(np.einsum("mii->mi", A))
    d = np.where(d > 0, d, 1.0)
    S = A / d[:, :, None] / d[:, None, :]
    ev = np.linalg.eigvalsh(S)
    top = np.maximum(ev[:, -1:], 0.0)
    return cast("IntArray", np.sum(ev > _RANK_RTOL * top, axis=1).astype(np.int64))


def _ginv(A: FloatArray) -> tuple[FloatArray, IntArray]:
    """A symmetric generalised inverse of each matrix of a PSD stack, and the ranks.

    ``D^{-1} pinv(D^{-1} A D^{-1}) D^{-1}`` with ``D`` the square roots of the diagonal: for
    full-rank rows the inverse; for the others a generalised inverse, which gives the unique
    fitted values, estimable coefficients and leverages.
    """
    d = np.sqrt(np.einsum("mii->mi", A))
    d = np.where(d > 0, d, 1.0)
    S = A / d[:, :, None] / d[:, None, :]
    ev, vec = np.linalg.eigh(S)
    top = np.maximum(ev[:, -1:], 0.0)
    keep = ev > _RANK_RTOL * top
    inv_ev = np.where(keep, 1.0 / np.where(keep, ev, 1.0), 0.0)
    Sp = (vec * inv_ev[:, None, :]) @ np.swapaxes(vec, 1, 2)
    G = Sp / d[:, :, None] / d[:, None, :]
    return cast("FloatArray", G), cast("IntArray", keep.sum(axis=1).astype(np.int64))


def _deviance(eta: FloatArray, ex: FloatArray, sign: FloatArray, vf: FloatArray) -> FloatArray:
    """``-2 log L = 2 sum softplus(s eta)`` over valid patients, ``s = 1 - 2 t``, ``ex = exp(-|eta|)``."""
    se = sign * eta
    return cast("FloatArray", 2.0 * np.sum(vf * (np.maximum(se, 0.0) + np.log1p(ex)), axis=1))


def _cross(ZT: FloatArray, XX: FloatArray | None, w: FloatArray, iu: IntArray, ju: IntArray) -> FloatArray:
    """``Z' diag(w) Z`` for each row, ``Z = [1, X]`` given as ``ZT`` (m, q, n).

    ``XX`` holds the products of pairs ``(iu, ju)`` of covariate columns (``None``: use a
    batched matmul instead); the intercept row of the result is ``ZT @ w``.
    """
    k, q, _ = ZT.shape
    if XX is None:
        return (ZT * w[:, None, :]) @ np.swapaxes(ZT, 1, 2)
    H = np.empty((k, q, q))
    first = (ZT @ w[:, :, None])[:, :, 0]
    H[:, 0, :] = first
    H[:, :, 0] = first
    hu = (XX @ w[:, :, None])[:, :, 0]
    H[:, iu + 1, ju + 1] = hu
    H[:, ju + 1, iu + 1] = hu
    return H


#: Binary covariates are grouped into cells (:func:`_binary_cells`) when there are at most this many covariates.
_MAX_GROUPED = 8


def _binary_cells(X: FloatArray, t: BoolArray, valid: BoolArray
                  ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray] | None:
    """Each row's patients grouped by covariate pattern and treatment, when every valid covariate is 0 or 1 and
    the ``2**(p + 1)`` cells are fewer than the patients (else None).

    Returns each patient's cell (m, n), the cells' design ``[1, X]`` as (m, q, cells) (a broadcast view: the same
    for every row), and per row the number of valid patients in each cell and whether the cell is treated: the
    weights and outcomes of a logistic fit with the same likelihood as the patients' (patients in a cell share
    their linear predictor), so the Newton iterations take the same steps up to rounding.
    """
    m, n, p = X.shape
    if not _groupable(X, n):
        return None
    cell, counts = _count_cells(X, t.astype(np.int64), 1, valid)
    design, treated = _cell_design(m, p)
    return cell, design, counts, treated


def _groupable(X: FloatArray, n: int) -> bool:
    """Whether the patients' covariates can be grouped into ``2**(p + 1)`` pattern x treatment cells: every one is
    0 or 1 (``X`` is 0 outside the valid entries) and :func:`groupable_shape`."""
    return groupable_shape(X.shape[2], n) and bool(np.all((X == 0.0) | (X == 1.0)))


def groupable_shape(p: int, n: int) -> bool:
    """Whether ``p`` binary covariates of ``n`` patients (a row's columns) are few enough to group the patients
    into cells: at most :data:`_MAX_GROUPED` of them, and fewer pattern x treatment cells than patients."""
    return p <= _MAX_GROUPED and 2 ** (p + 1) < n


def _count_cells(X: FloatArray, low: IntArray, shift: int, valid: BoolArray) -> tuple[IntArray, FloatArray]:
    """Each patient's cell ``low + (pattern << shift)`` (pattern bit ``j``: covariate ``j``, 0 or 1), computed in
    ``low`` itself (int64, m x n), and each row's number of valid patients in each of the ``2**(p + shift)``
    cells, as floats (m, cells)."""
    m, _, p = X.shape
    size = 2 ** (p + shift)
    cell = low
    for j in range(p):
        cell += X[:, :, j].astype(np.int64) << (j + shift)
    flat = (cell + size * np.arange(m)[:, None])[valid]
    return cell, np.bincount(flat, minlength=m * size).reshape(m, size).astype(np.float64)


def _cell_design(m: int, p: int) -> tuple[FloatArray, FloatArray]:
    """The design ``[1, X]`` of the ``2**(p + 1)`` cells ``t + 2 * pattern`` (pattern bit ``j``: covariate ``j``)
    as (m, q, cells) (a broadcast view), and whether each cell is treated (m, cells)."""
    size = 2 ** (p + 1)
    codes = np.arange(size)
    design = np.empty((p + 1, size))
    design[0] = 1.0
    for j in range(p):
        design[j + 1] = (codes >> (j + 1)) & 1
    treated = np.broadcast_to((codes & 1).astype(np.float64), (m, size))
    return np.broadcast_to(design, (m, p + 1, size)), np.array(treated)


def att_difference_over_cells(X: FloatArray, t: BoolArray, y: FloatArray, valid: BoolArray
                              ) -> tuple[FloatArray, FloatArray, BoolArray] | None:
    """The simulation's propensity-weighted comparison of a binary outcome, from counts of cells.

    What :func:`logistic_fit_batch`, :func:`ps_weights_batch` (``estimand="ATT"``, stabilised) and
    :func:`weighted_difference_batch` (``se_type="HC0"``) give one after the other, when every valid covariate
    and outcome is 0 or 1.

    Parameters
    ----------
    X : ndarray of float, shape (m, n, p)
        Covariates, 0 outside ``valid`` (not checked: the engine's arrays).
    t : ndarray of bool, shape (m, n)
        Treatment indicator, False outside ``valid``.
    y : ndarray of float, shape (m, n)
        Outcome, 0 outside ``valid``.
    valid : ndarray of bool, shape (m, n)
        Which entries are patients.

    Returns
    -------
    tuple of ndarray, or None
        The weighted difference ``estimate``, its ``z`` statistic and whether they are ``defined`` (as
        :class:`DifferenceBatch`), each of shape (m,); None unless every valid covariate and outcome is 0 or 1,
        with at most 8 covariates and fewer than ``n`` pattern x treatment cells.

    Notes
    -----
    The patients of a row differ only by cell (covariate pattern, treatment, outcome), so the fit runs over the
    pattern x treatment cells (:func:`_newton`, weighted by their counts), each weight is its cell's, and the
    weighted means and the sandwich variance are sums over the cells of a count times a weight (times the
    squared residual, ``1 - mean`` or ``-mean``): the same formulas, summed in another order, so the results
    agree with the patient-by-patient kernels to rounding, at a cost that does not grow with the patients beyond
    one pass to count them.

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.kernels.propensity import att_difference_over_cells
    >>> rng = np.random.default_rng(1)
    >>> X = (rng.random((2, 80, 1)) < 0.4).astype(float)
    >>> t = rng.random((2, 80)) < 0.3 + 0.3 * X[..., 0]
    >>> y = (rng.random((2, 80)) < 0.4).astype(float)
    >>> estimate, z, defined = att_difference_over_cells(X, t, y, np.ones((2, 80), dtype=bool))
    >>> defined.tolist()
    [True, True]
    """
    n, p = X.shape[1:]
    if not (_groupable(X, n) and np.all((y == 0.0) | (y == 1.0))):
        return None
    _, counts = _count_cells(X, t.astype(np.int64) + 2 * y.astype(np.int64), 2, valid)  # cell t + 2 y + 4 pattern
    return att_difference_from_cells(counts, p)


def att_difference_from_cells(counts: FloatArray, p: int) -> tuple[FloatArray, FloatArray, BoolArray]:
    """:func:`att_difference_over_cells` from each row's numbers of valid patients in the cells ``t + 2 y + 4
    pattern`` (pattern bit ``j``: covariate ``j``; shape (m, ``2**(p + 2)``), as floats), counted by the caller.

    :func:`att_difference_from_moments` of the cells ``t + 2 pattern``: each one's number of patients ``n``, the
    share of them with the outcome as its mean and ``n mean (1 - mean)`` as its sum of squared deviations, and each
    group's range (0 to 1, or 0 or 1 alone when the group's outcome is constant: residuals of exactly 0, as in
    :func:`weighted_difference_batch`).
    """
    from ._propensity_jit import moments_of_counts

    counts = np.ascontiguousarray(counts, dtype=np.float64)
    m = counts.shape[0]
    if counts.shape != (m, 2 ** (p + 2)):
        raise ValueError(f"counts of {p} covariates need {2 ** (p + 2)} cells a row; got shape {counts.shape}")
    n, mean, m2 = (np.empty((m, 2 ** (p + 1))) for _ in range(3))
    lo, hi = np.empty((m, 2)), np.empty((m, 2))
    moments_of_counts(counts, n, mean, m2, lo, hi)
    return att_difference_from_moments(n, mean, m2, lo, hi, p)


def att_difference_from_moments(n: FloatArray, mean: FloatArray, m2: FloatArray, lo: FloatArray, hi: FloatArray,
                                p: int) -> tuple[FloatArray, FloatArray, BoolArray]:
    """The simulation's propensity-weighted comparison of any outcome, from each row's cells of binary covariates.

    What :func:`logistic_fit_batch`, :func:`ps_weights_batch` (``estimand="ATT"``, stabilised) and
    :func:`weighted_difference_batch` (``se_type="HC0"``) give one after the other when every valid covariate is 0
    or 1, from each row's number of valid patients ``n``, their outcomes' mean ``mean`` and sum of squared
    deviations from it ``m2`` in the cells ``t + 2 pattern`` ((m, ``2**(p + 1)``) each; pattern bit ``j``: covariate
    ``j``), and each group's smallest and largest outcome ``lo`` and ``hi`` ((m, 2), columns t = 0, 1).

    One compiled pass per row (:func:`._propensity_jit.att_moments`): the logistic fit over the pattern x treatment
    cells (the iterations of :func:`logistic_fit_batch`), the ATT weights of :func:`ps_weights_batch` (stabilised;
    the scores clipped to ``[PS_CLIP, 1 - PS_CLIP]`` where the fit did not converge or separated; every patient
    counted has a positive weight, so all are used, as :func:`weighted_difference_batch` would), each group's
    weighted mean ``sum w n mean / W`` over its cells, and the HC0 variance as a sum over the cells of ``w^2 (m2 + n
    (mean - group's mean)^2) / W^2``, the patients' ``sum (w r / W)^2`` regrouped (so the results agree with the
    patient kernels' to rounding).  A group whose outcome is constant (``lo == hi``) has that value as its mean and
    residuals of exactly 0, as in :func:`weighted_difference_batch`.

    Examples
    --------
    >>> import numpy as np
    >>> n = np.array([[3.0, 2.0]])  # no covariate: 3 controls, 2 treated
    >>> mean, m2 = np.array([[1.0, 2.0]]), np.array([[2.0, 0.5]])
    >>> estimate, z, defined = att_difference_from_moments(n, mean, m2, np.array([[0.0, 1.5]]),
    ...                                                    np.array([[2.0, 2.5]]), 0)
    >>> float(estimate[0]), bool(defined[0])
    (1.0, True)
    """
    from ._propensity_jit import att_moments

    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (n, mean, m2, lo, hi)]
    m = arrays[0].shape[0]
    if any(a.shape != (m, 2 ** (p + 1)) for a in arrays[:3]) or any(a.shape != (m, 2) for a in arrays[3:]):
        raise ValueError(f"moments of {p} covariates need {2 ** (p + 1)} cells a row and two groups' ranges; got "
                         f"shapes {[a.shape for a in arrays]}")
    estimate, se = np.empty(m), np.empty(m)
    att_moments(*arrays, p, 25, 1e-10, SEPARATION_TOL, PS_CLIP, estimate, se)
    z, defined = _wald(estimate, se)
    return estimate, z, defined


def _wald(estimate: FloatArray, se: FloatArray) -> tuple[FloatArray, BoolArray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = estimate / se
    zero = se == 0
    z = np.where(zero & (estimate == 0), 0.0, z)
    z = np.where(zero & (estimate != 0), np.copysign(np.inf, estimate), z)
    defined = np.isfinite(estimate) & np.isfinite(se) & (se > 0)
    return z, defined


def _warn_undefined(defined: BoolArray, what: str) -> None:
    bad = int((~defined).sum())
    if bad:
        warnings.warn(
            f"{bad} of {defined.size} replicates have no finite positive standard error for {what}: an empty "
            "group, too few patients for the standard-error type, or an outcome constant within both groups; "
            "see the result's `defined` attribute for which, and its docstring for the values returned.",
            DegenerateDataWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------
# logistic propensity model
# --------------------------------------------------------------------------------------------


def _newton(ZT: FloatArray, XX: FloatArray | None, vf: FloatArray, tf: FloatArray, fittable: BoolArray,
            iu: IntArray, ju: IntArray, max_iter: int, tol: float
            ) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray, IntArray, FloatArray]:
    """The Newton iterations of :func:`logistic_fit_batch` over the units of ``ZT`` (m, q, units): patients, or
    cells of patients with their counts as the weights ``vf`` and their treatment ``tf``.  Returns the
    coefficients, each unit's fitted probability, and per row ``converged`` (not separated, fittable),
    ``full_rank``, ``n_iter`` and ``deviance``."""
    m, q = ZT.shape[0], ZT.shape[1]
    sign = 1.0 - 2.0 * tf  # deviance contribution softplus(sign * eta), weighted by vf
    full_rank = _scaled_rank(_cross(ZT, XX, vf, iu, ju)) == q

    beta = np.zeros((m, q))
    eta = np.zeros(vf.shape)
    ex = np.ones(vf.shape)  # exp(-|eta|)
    dev = _deviance(eta, ex, sign, vf)
    converged = np.zeros(m, dtype=np.bool_)
    n_iter = np.zeros(m, dtype=np.int64)
    active = fittable.copy()
    eye = np.eye(q)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        every = idx.size == m  # no copies while every row is still iterating
        ZTa = ZT if every else ZT[idx]
        ta, va, sa = (tf, vf, sign) if every else (tf[idx], vf[idx], sign[idx])
        e_a, eta_a = (ex, eta) if every else (ex[idx], eta[idx])
        mu = np.where(eta_a >= 0, 1.0, e_a) / (1.0 + e_a)
        w = mu * (1.0 - mu) * va
        g = (ZTa @ ((ta - mu) * va)[:, :, None])[:, :, 0]
        H = _cross(ZTa, None if XX is None else XX if every else XX[idx], w, iu, ju)
        lam = 1e-12 * np.max(np.einsum("mii->mi", H), axis=1) + 1e-12
        step = np.linalg.solve(H + lam[:, None, None] * eye, g[:, :, None])[:, :, 0]
        bad_step = ~np.all(np.isfinite(step), axis=1)
        step[bad_step] = 0.0
        dev_old = dev[idx]
        new_beta = beta[idx] + step
        new_eta = (new_beta[:, None, :] @ ZTa)[:, 0, :]
        new_ex = np.exp(-np.abs(new_eta))
        new_dev = _deviance(new_eta, new_ex, sa, va)
        worse = new_dev > dev_old + 1e-12 * (np.abs(dev_old) + 0.1)
        for _halving in range(30):
            if not np.any(worse):
                break
            wi = np.flatnonzero(worse)
            step[wi] *= 0.5
            new_beta[wi] = beta[idx[wi]] + step[wi]
            new_eta[wi] = (new_beta[wi][:, None, :] @ ZTa[wi])[:, 0, :]
            new_ex[wi] = np.exp(-np.abs(new_eta[wi]))
            new_dev[wi] = _deviance(new_eta[wi], new_ex[wi], sa[wi], va[wi])
            worse[wi] = new_dev[wi] > dev_old[wi] + 1e-12 * (np.abs(dev_old[wi]) + 0.1)
        keep = ~worse  # a row whose deviance still rises keeps its old coefficients
        ki = idx[keep]
        beta[ki], eta[ki], ex[ki], dev[ki] = new_beta[keep], new_eta[keep], new_ex[keep], new_dev[keep]
        n_iter[idx] += 1
        done = keep & (np.abs(new_dev - dev_old) < tol * (np.abs(new_dev) + 0.1))
        converged[idx[done]] = True
        stuck = worse | bad_step
        active[idx[done | stuck]] = False

    mu = expit(eta)
    separated = np.any((vf > 0) & ((mu <= SEPARATION_TOL) | (mu >= 1.0 - SEPARATION_TOL)), axis=1)
    converged &= fittable & ~separated
    return beta, mu, converged, full_rank, n_iter, dev


def logistic_fit_batch(
    X: ArrayLike,
    t: ArrayLike,
    valid: ArrayLike | None = None,
    *,
    max_iter: int = 25,
    tol: float = 1e-10,
) -> LogisticFitBatch:
    """Fit ``logit P(t = 1) = b0 + X b`` to every replicate of a block at once.

    Parameters
    ----------
    X : array_like, shape (m, n, p)
        Covariates of ``n`` (padded) patients in each of ``m`` replicates; ``p`` may be 0
        (intercept-only model).  Only entries where ``valid`` is true are read (they must be
        finite).
    t : array_like of bool or 0/1, shape (m, n)
        Treatment indicator: 1 treated, 0 control.
    valid : array_like of bool, shape (m, n), optional
        Which entries are patients; default all.
    max_iter : int, default 25
        Most Newton-Raphson iterations per row.
    tol : float, default 1e-10
        Convergence when the deviance changes by less than ``tol * (|deviance| + 0.1)`` in an
        iteration (the criterion of R's ``glm``; Newton's quadratic convergence leaves the
        coefficients about ``1e-10`` from the maximum at the default).

    Returns
    -------
    LogisticFitBatch
        Coefficients ``(m, p + 1)``, fitted scores ``(m, n)``, and per-row ``converged``,
        ``full_rank``, ``n_iter`` and ``deviance``.

    Raises
    ------
    DesignError
        If the shapes disagree, ``t`` is not 0/1 or ``X`` is not finite at valid entries, or
        ``max_iter``/``tol`` are invalid.

    Notes
    -----
    Newton-Raphson (for the logit link the same as iteratively reweighted least squares) on
    every row at once: with ``mu = expit(Z b)`` over the design ``Z = [1, X]`` of the valid
    patients, the step solves ``(Z' W Z + lambda I) d = Z' (t - mu)``, ``W = diag(mu (1 - mu))``,
    as one batched ``np.linalg.solve``.  The tiny ridge ``lambda = 1e-12 * max diag + 1e-12``
    only keeps singular rows (a constant covariate, an exhausted weight) solvable: it does
    not change the fixed point (the gradient is zero there), and the steps stay in the row
    space of ``Z``.  A step that raises the deviance is halved (up to 30 times).  Converged
    rows are frozen; the loop is over iterations, never over rows.

    When every valid covariate is 0 or 1 (at most 8 covariates, and fewer than ``n`` cells), the
    patients of each row are first grouped by covariate pattern and treatment, and the same
    iterations run over the ``2**(p + 1)`` cells with their patient counts as weights: patients
    in a cell share their linear predictor, so the likelihood, gradient, Hessian and deviance
    are the patients' (summed in another order, so results agree to rounding), at a cost that
    no longer grows with ``n`` (the simulation's confounders are binary: a design with them
    took 0.49 of its time this way, item 38 of ``docs/performance.md``).

    Rows are flagged ``converged=False`` when, as
    :func:`condapprove.estimate.external.propensity_scores` would raise for them, they

    1. do not meet the criterion within ``max_iter`` iterations;
    2. separate: a fitted score of a valid patient within ``1e-8`` of 0 or 1 (complete or
       quasi-complete separation, where no finite maximum exists);
    3. lack a treated or a control patient, or have no more valid patients than coefficients.

    Their scores are clipped to ``[1e-6, 1 - 1e-6]`` so that weights stay finite (at most
    ``1e6``); the caller decides whether to count such replicates as failures, drop them or
    keep them.  Rows whose design is rank deficient are fitted (their scores are the
    maximum-likelihood ones, as R's ``glm`` with an aliased coefficient) and reported in
    ``full_rank``.

    What the model assumes: the logit of the probability of being treated is linear in the
    columns of ``X`` (add transformed or interaction columns otherwise).

    References
    ----------
    McCullagh P, Nelder JA. Generalized Linear Models, 2nd ed. Chapman & Hall 1989, section 2.5.

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.kernels.propensity import logistic_fit_batch
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(3, 50, 1))
    >>> t = rng.random((3, 50)) < 1 / (1 + np.exp(-X[..., 0]))
    >>> fit = logistic_fit_batch(X, t)
    >>> fit.coef.shape, fit.converged.tolist()
    ((3, 2), [True, True, True])
    """
    tb, v = _block_iv(t, valid)
    Xf = _float_iv(X, "X", v, extra_dims=1)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    tol = check_positive(tol, "tol")
    m, n, p = Xf.shape
    q = p + 1
    n_valid = v.sum(axis=1)
    n_treated = tb.sum(axis=1)
    fittable = (n_treated > 0) & (n_treated < n_valid) & (n_valid > q)
    iu, ju = np.triu_indices(p)
    cells = _binary_cells(Xf, tb, v)
    XX: FloatArray | None = None
    if cells is not None:
        # binary covariates: the patients of a row grouped by covariate pattern and treatment, each cell with its
        # count as weight (the same likelihood, its gradient and Hessian summed over a few cells instead of n)
        cell, ZT, vf, tf = cells
    else:
        cell = None
        vf = v.astype(np.float64)
        tf = tb.astype(np.float64)
        # design as (m, q, n), zero at padded entries, so that every product is a batched matmul
        ZT = np.empty((m, q, n))
        ZT[:, 0, :] = vf
        ZT[:, 1:, :] = np.swapaxes(Xf, 1, 2)  # already 0 outside valid
    # products of pairs of covariate columns, for the Hessians Z' W Z (when they fit in ~100 MB)
    if cells is None and iu.size * m * n <= _PAIR_BUDGET:
        XX = np.empty((m, iu.size, n))
        for k, (i, j) in enumerate(zip(iu, ju, strict=True)):  # a loop over column pairs only
            np.multiply(ZT[:, i + 1, :], ZT[:, j + 1, :], out=XX[:, k, :])
    beta, mu, converged, full_rank, n_iter, dev = _newton(ZT, XX, vf, tf, fittable, iu, ju, max_iter, tol)
    if cell is not None:  # each patient's score is its cell's
        mu = np.take_along_axis(mu, cell, axis=1)
    ps = np.where(converged[:, None], mu, np.clip(mu, PS_CLIP, 1.0 - PS_CLIP))
    ps = np.where(v, ps, 0.5)
    return LogisticFitBatch(coef=beta, ps=ps, converged=converged, full_rank=full_rank, n_iter=n_iter,
                            deviance=dev)


# --------------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------------


def ps_weights_batch(
    ps: ArrayLike,
    t: ArrayLike,
    valid: ArrayLike | None = None,
    *,
    estimand: Literal["ATT", "ATE"] = "ATT",
    stabilized: bool = True,
) -> PSWeightsBatch:
    """Inverse-probability-of-treatment weights for every replicate of a block.

    Parameters
    ----------
    ps : array_like, shape (m, n)
        Propensity scores, strictly between 0 and 1 at valid entries (for instance
        ``logistic_fit_batch(...).ps``).
    t : array_like of bool or 0/1, shape (m, n)
        Treatment indicator.
    valid : array_like of bool, shape (m, n), optional
        Which entries are patients; default all.
    estimand : {"ATT", "ATE"}, default "ATT"
        ``"ATT"`` weights the controls to the treated patients (the question of a treated
        cohort against concurrent controls); ``"ATE"`` weights both groups to the whole sample.
    stabilized : bool, default True
        Multiply each weight by the proportion of the row's valid patients in its own group.

    Returns
    -------
    PSWeightsBatch
        Weights ``(m, n)`` (0 outside ``valid``), per-row Kish effective sample sizes and
        largest weight.

    Raises
    ------
    DesignError
        If the shapes disagree, a valid score is not strictly between 0 and 1, ``t`` is not
        0/1, or an option is invalid.

    Notes
    -----
    The conventions of :func:`condapprove.estimate.external.iptw_weights`, row by row: with
    ``e`` the score and ``T`` the treatment indicator,

    * ATE: ``w = T / e + (1 - T) / (1 - e)``;
    * ATT: ``w = T + (1 - T) e / (1 - e)``;
    * stabilised: ``w * n_1 / n`` for treated and ``w * n_0 / n`` for control patients, with
      ``n_1``, ``n_0`` and ``n`` counted over the row's valid patients.

    Stabilisation multiplies each group's weights by a constant, so it changes neither the
    weighted means nor the sandwich standard errors of :func:`weighted_difference_batch`.
    A row without treated or without control patients gets weights all the same (the
    difference is then undefined, see :func:`weighted_difference_batch`).

    References
    ----------
    Austin PC, Stuart EA. Moving towards best practice when using inverse probability of
    treatment weighting (IPTW) using the propensity score to estimate causal treatment effects
    in observational studies. Stat Med 2015;34:3661-3679.

    Examples
    --------
    >>> from condapprove.kernels.propensity import ps_weights_batch
    >>> w = ps_weights_batch([[0.8, 0.5, 0.5, 0.2]], [[1, 1, 0, 0]], stabilized=False)
    >>> w.weights.tolist()
    [[1.0, 1.0, 1.0, 0.25]]
    """
    tb, v = _block_iv(t, valid)
    e = _float_iv(ps, "ps", v)
    bad = v & ~((e > 0) & (e < 1))
    if np.any(bad):
        raise DesignError(f"`ps` must be strictly between 0 and 1 at valid entries; got {e[bad][0].item()!r}.")
    estimand = cast(Literal["ATT", "ATE"], check_one_of(estimand, "estimand", ("ATT", "ATE")))
    if not isinstance(stabilized, (bool, np.bool_)):
        raise DesignError(f"`stabilized` must be True or False; got {stabilized!r}.")
    e = np.where(v, e, 0.5)
    if estimand == "ATE":
        w = np.where(tb, 1.0 / e, 1.0 / (1.0 - e))
    else:
        w = np.where(tb, 1.0, e / (1.0 - e))
    if stabilized:
        n1 = tb.sum(axis=1, keepdims=True)
        nv = np.maximum(v.sum(axis=1, keepdims=True), 1)
        w *= np.where(tb, n1 / nv, (nv - n1) / nv)
    w *= v
    c = v & ~tb
    return PSWeightsBatch(
        weights=w,
        estimand=estimand,
        stabilized=bool(stabilized),
        ess_treated=_ess(w, tb),
        ess_control=_ess(w, c),
        max_weight=w.max(axis=1),
    )


def _ess(w: FloatArray, group: BoolArray) -> FloatArray:
    wg = np.where(group, w, 0.0)
    s1 = wg.sum(axis=1)
    s2 = (wg * wg).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return cast("FloatArray", np.where(s2 > 0, s1 * s1 / np.where(s2 > 0, s2, 1.0), 0.0))


# --------------------------------------------------------------------------------------------
# effect estimates
# --------------------------------------------------------------------------------------------


def weighted_difference_batch(
    y: ArrayLike,
    t: ArrayLike,
    w: ArrayLike | None = None,
    valid: ArrayLike | None = None,
    *,
    se_type: Literal["HC0", "HC1", "HC2", "HC3"] | None = None,
) -> DifferenceBatch:
    """Weighted treated-minus-control mean difference with a sandwich SE, per replicate.

    Parameters
    ----------
    y : array_like, shape (m, n)
        Outcomes: 0/1 (the difference is then a risk difference) or continuous; finite at
        valid entries.
    t : array_like of bool or 0/1, shape (m, n)
        Treatment indicator.
    w : array_like, shape (m, n), optional
        Non-negative weights (IPTW weights from :func:`ps_weights_batch`, matching weights);
        patients with weight 0 are left out.  ``None``: the unweighted comparison.
    valid : array_like of bool, shape (m, n), optional
        Which entries are patients; default all.
    se_type : {"HC0", "HC1", "HC2", "HC3"}, optional
        Sandwich estimator.  Default, as
        :func:`~condapprove.estimate.external.external_control_comparison`: ``"HC0"`` when
        weights are given (its ``method="iptw"``), ``"HC2"`` (the Welch standard error) when
        ``w`` is ``None`` (its ``method="none"``).

    Returns
    -------
    DifferenceBatch
        Per-row ``estimate``, ``standard_error``, ``statistic`` (``z``), group means and counts,
        ``defined``; methods ``pvalue(alternative)`` and ``confidence_interval(level)``.

    Raises
    ------
    DesignError
        If the shapes disagree, ``y`` or ``w`` is not finite at valid entries, a weight is
        negative, or an option is invalid.

    Warns
    -----
    DegenerateDataWarning
        When some rows have no finite positive standard error (see ``defined``): a group with
        no patient of positive weight (estimate NaN), too few patients for ``se_type``
        (standard error NaN), or an outcome constant within both groups (standard error 0,
        statistic 0 or +-inf).

    Notes
    -----
    The estimate is the coefficient of ``t`` in the weighted least-squares regression
    ``y ~ 1 + t``, that is ``sum_1 w y / W_1 - sum_0 w y / W_0`` with ``W_g`` the total weight
    of group ``g``.  The sandwich variance of that coefficient (R's ``sandwich``, as in
    ``external_control_comparison``) separates into the two groups: with residuals
    ``r = y - mean of the own group`` and leverages ``h = w / W_g``,

    ``se^2 = sum_g sum_{i in g} w_i^2 r_i^2 / (W_g^2 a_i)``,

    where ``a_i = 1`` (HC0), ``1 - h_i`` (HC2) or ``(1 - h_i)^2`` (HC3); HC1 multiplies HC0 by
    ``n / (n - 2)`` with ``n`` the patients of positive weight.  Unweighted, HC2 is the Welch
    standard error ``sqrt(s_1^2 / n_1 + s_0^2 / n_0)`` and HC0 its version with variances over
    ``n_g``.  With IPTW weights the standard error treats the propensity scores as known (for
    the ATE it is then conservative).

    What the comparison assumes: the weights remove the confounding (no unmeasured
    confounders, overlap, a correct propensity model), and patients are independent.

    References
    ----------
    MacKinnon JG, White H. Some heteroskedasticity-consistent covariance matrix estimators with
    improved finite sample properties. J Econometrics 1985;29:305-325.

    Examples
    --------
    >>> from condapprove.kernels.propensity import weighted_difference_batch
    >>> y = [[1, 0, 1, 1, 0, 0], [1, 1, 1, 0, 1, 0]]
    >>> t = [[1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0]]
    >>> res = weighted_difference_batch(y, t)
    >>> res.se_type, res.estimate.round(3).tolist(), res.standard_error.round(3).tolist()
    ('HC2', [0.333, 0.5], [0.471, 0.289])
    """
    tb, v = _block_iv(t, valid)
    yf = _float_iv(y, "y", v)
    if w is None:
        wf = v.astype(np.float64)
    else:
        wf = _float_iv(w, "w", v)
        if np.any(wf < 0):
            raise DesignError(f"`w` must be non-negative at valid entries; got {wf[wf < 0][0].item()!r}.")
    if se_type is None:
        se_type = "HC2" if w is None else "HC0"
    se_type = cast(Literal["HC0", "HC1", "HC2", "HC3"], check_one_of(se_type, "se_type", _SE_TYPES))

    used = v & (wf > 0)
    g1 = used & tb
    n_used = used.sum(axis=1)
    n1 = g1.sum(axis=1)
    n0 = n_used - n1
    wu = wf * used  # weights, 0 for patients not used
    w1 = wu * tb
    w0 = wu - w1
    W1 = w1.sum(axis=1)
    W0 = w0.sum(axis=1)
    ok = (n1 > 0) & (n0 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m1 = np.where(n1 > 0, np.einsum("mn,mn->m", w1, yf) / W1, np.nan)
        m0 = np.where(n0 > 0, np.einsum("mn,mn->m", w0, yf) / W0, np.nan)
    # a group whose outcome is constant has residuals exactly 0 (not rounding noise)
    const1, c1 = _constant(yf, g1)
    const0, c0 = _constant(yf, used & ~tb)
    m1 = np.where(const1, c1, m1)
    m0 = np.where(const0, c0, m0)
    d1 = np.where(ok & ~const1, m1, 0.0)
    d0 = np.where(ok & ~const0, m0, 0.0)
    keep1 = (ok & ~const1).astype(np.float64)
    keep0 = (ok & ~const0).astype(np.float64)
    # scaled scores w_i r_i / W_g, group by group (0 where the group is constant or a group is empty)
    s1 = w1 * (yf - d1[:, None]) * (keep1 / np.where(W1 > 0, W1, 1.0))[:, None]
    s0 = w0 * (yf - d0[:, None]) * (keep0 / np.where(W0 > 0, W0, 1.0))[:, None]
    sc = s1 + s0
    contrib = sc * sc
    se_undefined = ~ok
    if se_type in ("HC2", "HC3"):
        # leverages h_i = w_i / W_g
        h = w1 / np.where(W1 > 0, W1, 1.0)[:, None] + w0 / np.where(W0 > 0, W0, 1.0)[:, None]
        at_one = h >= 1.0 - 1e-10
        se_undefined |= np.any(at_one, axis=1)
        one_minus_h = np.where(at_one, 1.0, 1.0 - h)
        contrib = contrib / (one_minus_h if se_type == "HC2" else one_minus_h**2)
    var = contrib.sum(axis=1)
    if se_type == "HC1":
        se_undefined |= n_used <= 2
        var = var * n_used / np.where(n_used > 2, n_used - 2, 1)
    estimate = np.where(ok, m1 - m0, np.nan)
    se = np.where(se_undefined, np.nan, np.sqrt(var))
    z, defined = _wald(estimate, se)
    _warn_undefined(defined, "the weighted difference")
    return DifferenceBatch(
        estimate=estimate,
        standard_error=se,
        statistic=z,
        mean_treated=m1,
        mean_control=m0,
        n_treated=n1.astype(np.int64),
        n_control=n0.astype(np.int64),
        se_type=se_type,
        defined=defined,
    )


def _constant(y: FloatArray, group: BoolArray) -> tuple[BoolArray, FloatArray]:
    """Whether ``y`` is constant over ``group`` in each row (False for an empty group), and the constant."""
    hi = np.where(group, y, -np.inf).max(axis=1)
    lo = np.where(group, y, np.inf).min(axis=1)
    const = group.any(axis=1) & (hi == lo)
    return const, np.where(const, hi, 0.0)


def regression_adjusted_batch(
    y: ArrayLike,
    t: ArrayLike,
    X: ArrayLike,
    valid: ArrayLike | None = None,
    *,
    se_type: Literal["HC0", "HC1", "HC2", "HC3"] = "HC0",
) -> RegressionBatch:
    """Covariate-adjusted treatment effect ``y ~ 1 + t + X`` by least squares, per replicate.

    Parameters
    ----------
    y : array_like, shape (m, n)
        Outcomes (0/1 or continuous), finite at valid entries.
    t : array_like of bool or 0/1, shape (m, n)
        Treatment indicator.
    X : array_like, shape (m, n, p)
        Covariates (``p`` may be 0: then the unadjusted difference), finite at valid entries.
    valid : array_like of bool, shape (m, n), optional
        Which entries are patients; default all.
    se_type : {"HC0", "HC1", "HC2", "HC3"}, default "HC0"
        Sandwich estimator (R's ``sandwich::vcovHC`` types).

    Returns
    -------
    RegressionBatch
        Per-row coefficient of ``t``, its standard error, ``statistic``, counts, ranks and
        ``defined``; methods ``pvalue(alternative)`` and ``confidence_interval(level)``.

    Raises
    ------
    DesignError
        If the shapes disagree, ``y`` or ``X`` is not finite at valid entries, ``t`` is not 0/1,
        or ``se_type`` is invalid.

    Warns
    -----
    DegenerateDataWarning
        When some rows have no finite positive standard error (see ``defined``).

    Notes
    -----
    With ``Z = [1, t, X]`` over a row's valid patients, ``A = Z'Z``, ``b = A^- Z'y``,
    residuals ``r = y - Z b`` and leverages ``h_i = z_i' A^- z_i``, the sandwich is
    ``V = A^- (sum_i u_i z_i z_i') A^-`` with ``u_i = r_i^2`` (HC0), ``r_i^2 / (1 - h_i)``
    (HC2) or ``r_i^2 / (1 - h_i)^2`` (HC3); HC1 is HC0 times ``n / (n - rank)``.  ``A^-`` is
    the inverse, or for a rank-deficient row (a covariate constant in a replicate) a
    generalised inverse: the coefficient of ``t`` and its variance are then the ones of the
    model without the aliased columns, as R's ``lm`` drops them.  The coefficient of ``t`` is
    reported only when it is identified (``t`` not collinear with ``[1, X]``).

    For a 0/1 outcome this is the linear probability model; its coefficient estimates the
    risk difference when the outcome probability is linear (additive) in ``t`` and ``X``, and
    the sandwich makes the standard error valid despite the binomial heteroscedasticity.  What
    the method assumes: no unmeasured confounding and an outcome model linear in ``X``
    with a constant treatment effect.

    References
    ----------
    White H. A heteroskedasticity-consistent covariance matrix estimator and a direct test for
    heteroskedasticity. Econometrica 1980;48:817-838.

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.kernels.propensity import regression_adjusted_batch
    >>> rng = np.random.default_rng(7)
    >>> X = rng.normal(size=(2, 200, 1))
    >>> t = rng.random((2, 200)) < 0.5
    >>> y = 1.0 + 0.5 * t + 2.0 * X[..., 0] + rng.normal(size=(2, 200))
    >>> res = regression_adjusted_batch(y, t, X)
    >>> res.estimate.round(1).tolist()
    [0.5, 0.4]
    """
    tb, v = _block_iv(t, valid)
    yf = _float_iv(y, "y", v)
    Xf = _float_iv(X, "X", v, extra_dims=1)
    se_type = cast(Literal["HC0", "HC1", "HC2", "HC3"], check_one_of(se_type, "se_type", _SE_TYPES))
    m, n, p = Xf.shape
    q = p + 2
    vf = v.astype(np.float64)
    ZT = np.empty((m, q, n))  # design [1, t, X] as (m, q, n), 0 outside valid
    ZT[:, 0, :] = vf
    ZT[:, 1, :] = tb
    ZT[:, 2:, :] = np.swapaxes(Xf, 1, 2)
    iu, ju = np.triu_indices(q - 1)
    XX: FloatArray | None = None
    if iu.size * m * n <= _PAIR_BUDGET:
        XX = np.empty((m, iu.size, n))
        for k, (i, j) in enumerate(zip(iu, ju, strict=True)):  # a loop over column pairs only
            np.multiply(ZT[:, i + 1, :], ZT[:, j + 1, :], out=XX[:, k, :])
    A = _cross(ZT, XX, vf, iu, ju)
    G, rank = _ginv(A)
    # t is identified when dropping it lowers the rank
    others = np.delete(np.delete(A, 1, axis=1), 1, axis=2)
    rank_others = _scaled_rank(others)
    identified = rank - rank_others == 1
    b = (G @ (ZT @ yf[:, :, None]))[:, :, 0]
    flat, _ = _constant(yf, v)  # an outcome constant in the row: an exact fit, not rounding noise
    r = np.where(flat[:, None], 0.0, (yf - (b[:, None, :] @ ZT)[:, 0, :]) * vf)
    nv = v.sum(axis=1)
    u = r * r
    se_undefined = ~identified
    GZ = G @ ZT  # (m, q, n): row 1 holds g_1' z_i, g_1 the row of G for t
    if se_type in ("HC2", "HC3"):
        h = np.sum(GZ * ZT, axis=1)
        lev1 = np.any(v & (h >= 1.0 - 1e-10), axis=1)
        se_undefined |= lev1
        one_minus_h = np.where(v & (h < 1.0 - 1e-10), 1.0 - h, 1.0)
        u = u / (one_minus_h if se_type == "HC2" else one_minus_h**2)
    # V[1, 1] = sum_i u_i (g_1' z_i)^2
    c = GZ[:, 1, :]
    var = np.sum(u * c * c, axis=1)
    if se_type == "HC1":
        dof = nv - rank
        se_undefined |= dof <= 0
        var = var * nv / np.where(dof > 0, dof, 1)
    estimate = np.where(identified, np.where(flat, 0.0, b[:, 1]), np.nan)
    se = np.where(se_undefined, np.nan, np.sqrt(np.maximum(var, 0.0)))
    z, defined = _wald(estimate, se)
    _warn_undefined(defined, "the regression-adjusted effect")
    return RegressionBatch(
        estimate=estimate,
        standard_error=se,
        statistic=z,
        n=nv.astype(np.int64),
        rank=rank,
        se_type=se_type,
        defined=defined,
    )
