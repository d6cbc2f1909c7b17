"""Single-arm cohorts against patient-level external or historical controls.

The use-results comparison surveys of Japan's conditional, time-limited approval compare
treated patients with non-randomised controls (Delytact: all treated patients against
same-centre historical controls, 1:1 propensity-score matching).  This module gives the
building blocks of such a comparison and one function that chains them:

* :func:`propensity_scores` -- a logistic propensity model (statsmodels GLM, binomial).
* :func:`match_nearest` -- greedy nearest-neighbour matching on the logit of the propensity
  score with a caliper, the algorithm of R's ``MatchIt`` (``method = "nearest"``,
  ``link = "linear.logit"``).
* :func:`iptw_weights` -- inverse-probability-of-treatment weights for the ATT or the ATE.
* :func:`balance_table` -- standardised mean differences before and after adjustment.
* :func:`external_control_comparison` -- the effect (risk or mean difference, optionally the
  log odds ratio) with a sandwich standard error, after matching, weighting or no adjustment.

statsmodels, scipy and pandas are imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import numpy as np

from .._typing import ArrayLike, BoolArray, FloatArray, IntArray
from .._validation import check_confidence_level, check_int, check_one_of, check_positive
from ..errors import ConvergenceError, DegenerateDataWarning, DesignError
from ..results import ConfidenceInterval, ResultMixin, to_builtin
from ._common import check_alternative, location_scale_interval, pvalue_from_statistic

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "ExternalControlResult",
    "IPTWResult",
    "MatchResult",
    "PropensityScoreResult",
    "balance_table",
    "external_control_comparison",
    "iptw_weights",
    "match_nearest",
    "propensity_scores",
]

_EPS = float(np.finfo(np.float64).eps)
_S = TypeVar("_S", bound=str)
_CaliperScale = Literal["logit-sd", "logit-pooled-sd", "logit"]
_MatchOrder = Literal["largest", "smallest", "data"]
_SE_TYPES = ("HC0", "HC1", "HC2", "HC3", "CR1")


# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PropensityScoreResult(ResultMixin):
    """A fitted logistic propensity-score model.

    Attributes
    ----------
    scores : ndarray of float
        Fitted propensity scores ``P(treated | covariates)``, one per row, in data order.
    linear_predictor : ndarray of float
        The fitted logits ``log(e / (1 - e))`` (the matching distance of :func:`match_nearest`).
    treated : ndarray of bool
        Treatment indicator the model was fitted to.
    coefficient_names : tuple of str
        ``"(Intercept)"`` followed by the design columns (a categorical covariate ``c`` with
        levels ``a < b < c`` gives ``c[b]``, ``c[c]``: treatment contrasts, first level omitted).
    coefficients, standard_errors : ndarray of float
        Maximum-likelihood coefficients and their model-based standard errors (the inverse
        information at the estimate, as R's ``glm`` once converged).
    converged : bool
        Whether the iteratively reweighted least squares fit converged (always ``True``:
        a fit that does not converge raises :class:`~condapprove.errors.ConvergenceError`).
    n_iterations : int
        Number of IRLS iterations.
    log_likelihood, deviance : float
        Maximised log-likelihood and residual deviance.
    n, n_treated : int
        Number of rows and of treated rows.
    """

    scores: FloatArray
    linear_predictor: FloatArray
    treated: BoolArray
    coefficient_names: tuple[str, ...]
    coefficients: FloatArray
    standard_errors: FloatArray
    converged: bool
    n_iterations: int
    log_likelihood: float
    deviance: float
    n: int
    n_treated: int

    def __repr__(self) -> str:
        return (
            f"PropensityScoreResult(n={self.n}, n_treated={self.n_treated}, "
            f"n_coefficients={len(self.coefficients)}, converged={self.converged})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchResult(ResultMixin):
    """The matched sample produced by :func:`match_nearest`.

    Attributes
    ----------
    pairs : ndarray of int, shape (n_pairs, 2)
        ``(treated_row, control_row)`` for every match, 0-based row numbers, in the order the
        matches were made.
    match_matrix : ndarray of int, shape (n_treated, ratio)
        Row of the ``j``-th control matched to each treated unit (treated units in data order);
        ``-1`` where no control was found.
    treated_rows : ndarray of int
        Row numbers of the treated units, in data order (the rows of ``match_matrix``).
    subclass : ndarray of int or None
        Pair (matched-set) identifier of every row: the position, among the matched treated
        units in data order, of the treated unit of its set; ``-1`` for unmatched rows.  ``None``
        when matching with replacement (a control can then belong to several sets).
    weights : ndarray of float
        Matching weights in data order: 1 for a matched treated unit; for a control, the sum over
        the treated units it is matched to of ``1 / (number of controls matched to that unit)``,
        rescaled so that the control weights add up to the number of distinct matched controls
        (as MatchIt); 0 for unmatched rows.
    distance : ndarray of float
        The matching distance, the logit of the propensity score.
    treated : ndarray of bool
        Treatment indicator.
    caliper : float or None
        Caliper width on the logit scale actually applied (``None``: no caliper).
    ratio : int
        Number of controls sought per treated unit.
    replace : bool
        Whether controls could be reused.
    order : str
        Order in which treated units were matched (``"largest"``, ``"smallest"`` or ``"data"``).
    n_matched_treated, n_unmatched_treated, n_matched_control : int
        Treated units with at least one match, treated units without a match, distinct
        matched controls.
    """

    pairs: IntArray
    match_matrix: IntArray
    treated_rows: IntArray
    subclass: IntArray | None
    weights: FloatArray
    distance: FloatArray
    treated: BoolArray
    caliper: float | None
    ratio: int
    replace: bool
    order: str
    n_matched_treated: int
    n_unmatched_treated: int
    n_matched_control: int

    @property
    def matched(self) -> BoolArray:
        """Rows in the matched sample (positive weight)."""
        return self.weights > 0

    def __repr__(self) -> str:
        cal = "None" if self.caliper is None else f"{self.caliper:.4g}"
        return (
            f"MatchResult(n_matched_treated={self.n_matched_treated}, "
            f"n_unmatched_treated={self.n_unmatched_treated}, n_matched_control={self.n_matched_control}, "
            f"ratio={self.ratio}, replace={self.replace}, caliper={cal}, order={self.order!r})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IPTWResult(ResultMixin):
    """Inverse-probability-of-treatment weights from :func:`iptw_weights`.

    Attributes
    ----------
    weights : ndarray of float
        One positive weight per row, in data order.
    estimand : str
        ``"ATT"`` or ``"ATE"``.
    stabilized : bool
        Whether each weight was multiplied by the proportion of the sample in its own group.
    ess_treated, ess_control : float
        Kish effective sample sizes ``(sum w)^2 / sum w^2`` of each group.
    max_weight : float
        The largest weight (extreme weights signal poor overlap).
    """

    weights: FloatArray
    estimand: str
    stabilized: bool
    ess_treated: float
    ess_control: float
    max_weight: float

    def __repr__(self) -> str:
        return (
            f"IPTWResult(estimand={self.estimand!r}, stabilized={self.stabilized}, "
            f"ess_treated={self.ess_treated:.4g}, ess_control={self.ess_control:.4g}, "
            f"max_weight={self.max_weight:.4g})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalControlResult(ResultMixin):
    """Treated versus external controls, from :func:`external_control_comparison`.

    Attributes
    ----------
    effect : float
        Treated minus control: the risk difference (binary endpoint) or the mean difference
        (continuous endpoint) of the weighted means.
    effect_measure : str
        ``"risk difference"`` or ``"mean difference"``.
    standard_error : float
        Sandwich standard error of ``effect`` (type in ``se_type``).
    se_type : str
        ``"CR1"`` (cluster-robust by matched set), ``"HC0"``, ``"HC1"``, ``"HC2"`` or ``"HC3"``.
    statistic : float
        Wald statistic ``effect / standard_error``.
    pvalue : float
        Normal-approximation p-value for ``alternative``.
    alternative : str
        ``"two-sided"``, ``"less"`` or ``"greater"`` (H1: effect < 0 or > 0).
    confidence_level : float
        Level of ``ci``.
    ci : ConfidenceInterval
        Wald interval for ``effect`` at ``confidence_level`` (one-sided for a one-sided
        ``alternative``); see :meth:`confidence_interval` for other levels.
    method : str
        ``"matching"``, ``"iptw"`` or ``"none"``.
    estimand : str
        ``"ATT"`` or ``"ATE"`` (with unmatched treated units, matching estimates the effect
        in the matched treated units only).
    endpoint : str
        ``"binary"`` or ``"continuous"``.
    mean_treated, mean_control : float
        Weighted outcome means of the groups.
    n_treated, n_control : int
        Units used (positive weight).
    n_treated_total, n_control_total : int
        Units in the data.
    n_unmatched_treated : int
        Treated units dropped by the caliper (0 unless ``method="matching"``).
    ess_treated, ess_control : float
        Kish effective sample sizes of the weighted groups.
    log_odds_ratio, log_odds_ratio_se : float or None
        Log odds ratio of the weighted proportions and its sandwich standard error (same
        ``se_type``); ``None`` unless requested, or when a weighted proportion is 0 or 1.
    balance : pandas.DataFrame
        :func:`balance_table` of the covariates, before and (unless ``method="none"``) after.
    propensity : PropensityScoreResult or None
        The propensity model (``None`` for ``method="none"``).
    matching : MatchResult or None
        The matched sample (``method="matching"`` only).
    weights : ndarray of float
        Analysis weight of every row (0 for rows not used).
    """

    effect: float
    effect_measure: str
    standard_error: float
    se_type: str
    statistic: float
    pvalue: float
    alternative: str
    confidence_level: float
    ci: ConfidenceInterval
    method: str
    estimand: str
    endpoint: str
    mean_treated: float
    mean_control: float
    n_treated: int
    n_control: int
    n_treated_total: int
    n_control_total: int
    n_unmatched_treated: int
    ess_treated: float
    ess_control: float
    log_odds_ratio: float | None
    log_odds_ratio_se: float | None
    balance: pd.DataFrame
    propensity: PropensityScoreResult | None
    matching: MatchResult | None
    weights: FloatArray

    def confidence_interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Wald interval ``effect -/+ z * standard_error`` (one-sided for a one-sided alternative).

        Parameters
        ----------
        confidence_level : float, optional
            Defaults to the level the comparison was run with.
        """
        level = self.confidence_level if confidence_level is None else check_confidence_level(confidence_level)
        return _wald_interval(self.effect, self.standard_error, level, self.alternative)

    def log_odds_ratio_interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Wald interval for the log odds ratio (raises if it was not computed)."""
        if self.log_odds_ratio is None or self.log_odds_ratio_se is None:
            message = "`log_odds_ratio` must have been computed; got None."
            raise DesignError(message, hint="pass log_odds_ratio=True with a binary endpoint whose "
                              "weighted proportions are strictly between 0 and 1")
        level = self.confidence_level if confidence_level is None else check_confidence_level(confidence_level)
        return _wald_interval(self.log_odds_ratio, self.log_odds_ratio_se, level, self.alternative)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-friendly builtins (``balance`` as a list of records)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "balance":
                out[f.name] = to_builtin(v.reset_index().to_dict(orient="records"))
            else:
                out[f.name] = to_builtin(v)
        return out

    def __repr__(self) -> str:
        lo, hi = self.ci
        return (
            f"ExternalControlResult(method={self.method!r}, {self.effect_measure}={self.effect:.4g}, "
            f"se={self.standard_error:.4g} ({self.se_type}), "
            f"{100 * self.confidence_level:g}% CI=({lo:.4g}, {hi:.4g}), pvalue={self.pvalue:.4g}, "
            f"n_treated={self.n_treated}, n_control={self.n_control})"
        )


# --------------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------------


def _one_of(value: _S, name: str, options: tuple[str, ...]) -> _S:
    """``check_one_of`` keeping the ``Literal`` type of the argument."""
    return cast(_S, check_one_of(value, name, options))


def _treated_iv(treated: Any, name: str = "treated", n: int | None = None) -> BoolArray:
    arr = np.asarray(treated)
    if arr.ndim != 1 or arr.size == 0:
        raise DesignError(f"`{name}` must be a non-empty 1-d array of 0/1 (or bool); got shape {arr.shape}.")
    if arr.dtype == np.bool_:
        t = arr.astype(np.bool_)
    else:
        try:
            x = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DesignError(f"`{name}` must be an array of 0/1 (or bool); got dtype {arr.dtype}.") from None
        bad = ~((x == 0) | (x == 1))
        if np.any(bad):
            raise DesignError(f"`{name}` must contain only 0 and 1; got {arr[bad][0].item()!r}.")
        t = x == 1
    if n is not None and t.size != n:
        raise DesignError(f"`{name}` must have one entry per row ({n}); got {t.size}.")
    n1 = int(t.sum())
    if n1 == 0 or n1 == t.size:
        raise DesignError(
            f"`{name}` must contain both treated (1) and control (0) units; got {n1} treated and "
            f"{t.size - n1} control."
        )
    return t


def _covariate_matrix(covariates: Any, *, drop_first: Literal["always", "binary"]) -> tuple[FloatArray, list[str]]:
    """Canonicalise covariates to a float matrix and column names.

    Numeric and boolean columns are used as they are; categorical, string and object columns
    are expanded into 0/1 indicators.  ``drop_first="always"`` omits the first level
    (treatment contrasts, as R's ``model.matrix``); ``"binary"`` omits it only for two-level
    covariates (a balance table shows every level of a multi-level covariate).
    """
    import pandas as pd

    if isinstance(covariates, pd.DataFrame):
        frame = covariates
    elif isinstance(covariates, pd.Series):
        frame = covariates.to_frame(name=str(covariates.name) if covariates.name is not None else "x1")
    elif isinstance(covariates, Mapping):
        try:
            frame = pd.DataFrame({str(k): np.asarray(v) for k, v in covariates.items()})
        except ValueError as exc:
            raise DesignError(f"`covariates` must map names to arrays of equal length; got {exc}.") from None
    else:
        arr = np.asarray(covariates)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise DesignError(f"`covariates` must be a DataFrame, a mapping or a 1-d/2-d array; got shape {arr.shape}.")
        frame = pd.DataFrame(arr, columns=[f"x{j + 1}" for j in range(arr.shape[1])])
    if frame.shape[1] == 0:
        raise DesignError("`covariates` must have at least one column; got none.")
    if frame.shape[0] == 0:
        raise DesignError("`covariates` must have at least one row; got none.")
    missing = [str(c) for c in frame.columns if frame[c].isna().any()]
    if missing:
        raise DesignError(
            f"`covariates` must have no missing values; got missing values in {', '.join(missing)}.",
            hint="drop or impute the incomplete rows before the comparison",
        )
    columns: list[FloatArray] = []
    names: list[str] = []
    for c in frame.columns:
        s = frame[c]
        name = str(c)
        if pd.api.types.is_bool_dtype(s):
            columns.append(s.to_numpy(dtype=np.float64))
            names.append(name)
        elif pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            x = s.to_numpy(dtype=np.float64)
            if not np.all(np.isfinite(x)):
                raise DesignError(f"`covariates` must be finite; got a non-finite value in {name}.")
            columns.append(x)
            names.append(name)
        else:
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                try:
                    levels = sorted(s.unique())
                except TypeError:
                    raise DesignError(f"`covariates` column {name} must have sortable levels; got {s.dtype}.") from None
            drop = drop_first == "always" or len(levels) == 2
            for lv in levels[1:] if drop else levels:
                columns.append((s == lv).to_numpy(dtype=np.float64))
                names.append(f"{name}[{lv}]")
    if not columns:
        raise DesignError("`covariates` must give at least one design column; got only single-level factors.")
    return np.column_stack(columns), names


def _ps_iv(ps: Any, treated: Any) -> tuple[FloatArray, BoolArray, FloatArray]:
    """Return (scores, treated, logit) from an array of scores or a PropensityScoreResult."""
    if isinstance(ps, PropensityScoreResult):
        t = _treated_iv(treated, n=ps.scores.size)
        if not np.array_equal(t, ps.treated):
            raise DesignError("`treated` must be the treatment indicator the propensity model was fitted to; "
                              "got a different indicator.")
        return ps.scores, t, ps.linear_predictor
    try:
        e = np.asarray(ps, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"`ps` must be an array of propensity scores in (0, 1); got {ps!r}.") from None
    if e.ndim != 1 or e.size == 0:
        raise DesignError(f"`ps` must be a non-empty 1-d array of propensity scores; got shape {e.shape}.")
    bad = ~(np.isfinite(e) & (e > 0) & (e < 1))
    if np.any(bad):
        raise DesignError(f"`ps` must contain propensity scores strictly between 0 and 1; got {e[bad][0].item()!r}.")
    t = _treated_iv(treated, n=e.size)
    return e, t, np.log(e) - np.log1p(-e)


# --------------------------------------------------------------------------------------------
# propensity scores
# --------------------------------------------------------------------------------------------

_SEPARATION_TOL = 1e-8
_SEPARATION_HINT = (
    "1. look for a covariate (or level) present only in one group and drop or coarsen it; "
    "2. restrict both groups to the range of common support; "
    "3. use fewer covariates for the small cohort"
)


def propensity_scores(covariates: Any, treated: ArrayLike) -> PropensityScoreResult:
    """Fit a logistic propensity-score model ``logit P(treated) = b0 + X b``.

    Parameters
    ----------
    covariates : pandas.DataFrame, mapping of name to array, or array_like
        One row per patient.  Numeric and boolean columns enter linearly; categorical, string
        and object columns enter as indicators of every level but the first (sorted) level.
        Missing values are an error.
    treated : array_like of bool or 0/1
        1 for the treated cohort, 0 for the external controls.

    Returns
    -------
    PropensityScoreResult
        Fitted scores and logits in data order, coefficients with model-based standard errors,
        and convergence information.

    Raises
    ------
    DesignError
        If the design is rank deficient (a constant or redundant covariate), has no more rows
        than coefficients, or the covariates separate the groups: statsmodels reports perfect
        separation, or a fitted probability lies within ``1e-8`` of 0 or 1 (quasi-complete
        separation, where the likelihood keeps increasing as a coefficient diverges).
    ConvergenceError
        If the IRLS iterations do not converge in 100 iterations.

    Notes
    -----
    Maximum likelihood by iteratively reweighted least squares (``statsmodels`` ``GLM`` with a
    binomial family and logit link, convergence when the deviance changes by less than
    ``1e-10``); the same model as R's ``glm(treated ~ ., family = binomial)``.  A separated
    model has no finite maximum-likelihood estimate and would give weights of zero or infinity,
    so it is an error rather than a warning.  R's ``glm`` only warns when a fitted value is
    within ``10 * eps`` of 0 or 1, which quasi-complete separation often does not reach (the
    iterations stop with fitted values near ``1e-8``); hence the wider threshold here, beyond
    which a propensity score would mean an IPTW weight above ``1e8`` anyway.

    References
    ----------
    Rosenbaum PR, Rubin DB. The central role of the propensity score in observational studies
    for causal effects. Biometrika 1983;70:41-55.

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.estimate.external import propensity_scores
    >>> age = np.array([52, 61, 45, 70, 58, 66, 49, 73, 55, 63])
    >>> treated = np.array([1, 1, 0, 1, 0, 1, 0, 0, 0, 1])
    >>> fit = propensity_scores({"age": age}, treated)
    >>> fit.coefficient_names
    ('(Intercept)', 'age')
    >>> np.round(fit.coefficients, 3)
    array([-5.582,  0.094])
    """
    X0, names = _covariate_matrix(covariates, drop_first="always")
    n = X0.shape[0]
    t = _treated_iv(treated, n=n)
    X = np.column_stack([np.ones(n), X0])
    p = X.shape[1]
    if n <= p:
        raise DesignError(
            f"`covariates` must have fewer design columns than rows; got {p} coefficients for {n} rows.",
            hint="use fewer covariates",
        )
    if np.linalg.matrix_rank(X) < p:
        const = [nm for nm, col in zip(names, X0.T, strict=True) if np.ptp(col) == 0]
        detail = f" (constant: {', '.join(const)})" if const else ""
        raise DesignError(
            f"`covariates` must be linearly independent of each other and of the intercept; got a "
            f"rank-deficient design{detail}.",
            hint="drop constant or redundant covariates",
        )
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

    y = t.astype(np.float64)
    separation = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(maxiter=100, tol=1e-10)
        except PerfectSeparationError:  # pragma: no cover - older statsmodels raise instead of warning
            separation = True
    separation = separation or any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    if not separation:
        mu = np.asarray(fit.fittedvalues, dtype=np.float64)
        separation = bool(np.any(mu <= _SEPARATION_TOL) or np.any(mu >= 1 - _SEPARATION_TOL))
    if separation:
        raise DesignError(
            "`covariates` must not separate treated from control units; got perfect or quasi-complete "
            "separation (fitted propensity scores numerically 0 or 1).",
            hint=_SEPARATION_HINT,
        )
    iterations = int(fit.fit_history.get("iteration", 0))
    if not fit.converged:
        raise ConvergenceError(
            f"the propensity model did not converge in {iterations} iterations; "
            f"{_SEPARATION_HINT}"
        )
    beta = np.asarray(fit.params, dtype=np.float64)
    eta = X @ beta
    scores = np.asarray(fit.fittedvalues, dtype=np.float64)
    # the inverse of the information at the estimate (statsmodels' bse uses the weights of the iteration before the
    # last: 9.79983 for 9.79988 in one small data set, where R and the exact inverse Hessian agree)
    information = X.T @ ((scores * (1.0 - scores))[:, None] * X)
    return PropensityScoreResult(
        scores=scores,
        linear_predictor=eta,
        treated=t,
        coefficient_names=("(Intercept)", *names),
        coefficients=beta,
        standard_errors=np.sqrt(np.diag(np.linalg.inv(information))),
        converged=bool(fit.converged),
        n_iterations=iterations,
        log_likelihood=float(fit.llf),
        deviance=float(fit.deviance),
        n=int(n),
        n_treated=int(t.sum()),
    )


# --------------------------------------------------------------------------------------------
# nearest-neighbour matching
# --------------------------------------------------------------------------------------------


def _match_nearest_iv(
    caliper: Any, caliper_scale: _CaliperScale, ratio: Any, replace: Any, order: _MatchOrder
) -> tuple[float | None, _CaliperScale, int, bool, _MatchOrder]:
    if caliper is not None:
        caliper = check_positive(caliper, "caliper")
    caliper_scale = _one_of(caliper_scale, "caliper_scale", ("logit-sd", "logit-pooled-sd", "logit"))
    ratio = check_int(ratio, "ratio", minimum=1)
    if not isinstance(replace, (bool, np.bool_)):
        raise DesignError(f"`replace` must be True or False; got {replace!r}.")
    order = _one_of(order, "order", ("largest", "smallest", "data"))
    return caliper, caliper_scale, ratio, bool(replace), order


def match_nearest(
    ps: ArrayLike | PropensityScoreResult,
    treated: ArrayLike,
    *,
    caliper: float | None = 0.2,
    caliper_scale: Literal["logit-sd", "logit-pooled-sd", "logit"] = "logit-sd",
    ratio: int = 1,
    replace: bool = False,
    order: Literal["largest", "smallest", "data"] = "largest",
) -> MatchResult:
    """Greedy nearest-neighbour matching on the logit of the propensity score.

    Parameters
    ----------
    ps : array_like or PropensityScoreResult
        Propensity scores in (0, 1), one per row; or a fitted model, whose linear predictor is
        then used directly as the distance.
    treated : array_like of bool or 0/1
        Treatment indicator (the units to be matched are the treated ones).
    caliper : float or None, default 0.2
        Maximum allowed distance between matched units, in the units of ``caliper_scale``;
        ``None`` for no caliper.  The default, 0.2 standard deviations of the logit of the
        propensity score, is the width Austin (2011) recommends.
    caliper_scale : {"logit-sd", "logit-pooled-sd", "logit"}, default "logit-sd"
        ``"logit-sd"``: ``caliper`` times the standard deviation (``ddof=1``) of the logit over
        all units (MatchIt's ``std.caliper = TRUE``); ``"logit-pooled-sd"``: times
        ``sqrt((s_1^2 + s_0^2) / 2)``, the pooled SD of the two groups (Austin 2011);
        ``"logit"``: an absolute width on the logit scale.
    ratio : int, default 1
        Controls sought per treated unit (``k:1`` matching), at most the number of units.
    replace : bool, default False
        Whether a control may be matched to several treated units.
    order : {"largest", "smallest", "data"}, default "largest"
        Order in which treated units choose their controls: descending propensity score
        (MatchIt's default for propensity-score matching: the units hardest to match go first),
        ascending, or data order.  Ties in the propensity score keep data order.

    Returns
    -------
    MatchResult
        The pairs, the match matrix, pair identifiers, matching weights and counts of
        matched and unmatched units.

    Raises
    ------
    DesignError
        If a score is not strictly between 0 and 1, ``treated`` lacks a group or has the wrong
        length, or an option is invalid.

    Notes
    -----
    The algorithm is the one of MatchIt's nearest-neighbour matching (``matchit(method =
    "nearest", distance = "glm", link = "linear.logit", m.order = order)``):

    1. Sort all units by distance ascending, ties by row (a stable sort).
    2. Taking treated units in ``order``, look for the first available control below and the
       first above the treated unit in that sorted list; take the nearer one, the one below when
       equally near.  A control beyond the caliper (``|d_t - d_c| > caliper``) is not eligible.
       Without replacement a matched control is no longer available.
    3. For ``ratio > 1`` the matching runs in ``ratio`` rounds: every treated unit gets its first
       control, then its second, and so on.

    The tie rule means that among controls equally near, the one with the smaller logit wins;
    among controls with an identical logit, the one adjacent in (logit, row) order wins (below:
    the last such row; above: the first).  Greedy matching without replacement depends on the
    order of the treated units (and, through ties, on the row order); it is deterministic for
    a given data order.  Treated units with no eligible control stay unmatched, and the
    matched-sample estimand is then no longer the ATT.

    Agreement with MatchIt: whenever the nearest eligible control is unique, the matched sample
    is MatchIt's.  MatchIt 4.5.1 to 4.5.3 compare distances with C's integer ``abs()`` (MatchIt
    issue #163), which ignores calipers and always prefers the control below; fed distances
    scaled by ``1e6`` (which sidesteps that truncation), MatchIt 4.5.1 reproduces this function
    on every 1:1 reference case, ties included.  For ``ratio > 1`` it differs only through a
    second-round off-by-one in 4.5.1 (see ``tests/reference/make_reference_external.R``).  Later
    MatchIt versions search both sides at once and may break exact distance ties differently.

    References
    ----------
    Austin PC. Optimal caliper widths for propensity-score matching when estimating differences
    in means and differences in proportions in observational studies. Pharm Stat
    2011;10:150-161.

    Ho DE, Imai K, King G, Stuart EA. MatchIt: nonparametric preprocessing for parametric causal
    inference. J Stat Softw 2011;42(8).

    Examples
    --------
    >>> from condapprove.estimate.external import match_nearest
    >>> ps = [0.70, 0.40, 0.65, 0.30, 0.45, 0.20, 0.62]
    >>> treated = [1, 1, 0, 0, 0, 0, 0]
    >>> m = match_nearest(ps, treated, caliper=None)
    >>> m.pairs.tolist()
    [[0, 2], [1, 4]]
    >>> m.n_unmatched_treated
    0
    """
    _scores, t, d = _ps_iv(ps, treated)
    caliper, caliper_scale, ratio, replace, order = _match_nearest_iv(caliper, caliper_scale, ratio, replace, order)
    n = d.size
    if ratio > n:  # (a typo: no unit could get that many controls; the match matrix would be n_treated x ratio)
        raise DesignError(f"`ratio` must be at most the {n} units; got {ratio!r}.")
    width: float | None = None
    if caliper is not None:
        if caliper_scale == "logit-sd":
            width = caliper * float(np.std(d, ddof=1)) if n > 1 else 0.0
        elif caliper_scale == "logit-pooled-sd":
            v1 = float(np.var(d[t], ddof=1)) if t.sum() > 1 else 0.0
            v0 = float(np.var(d[~t], ddof=1)) if (~t).sum() > 1 else 0.0
            width = caliper * math.sqrt((v1 + v0) / 2)
        else:
            width = caliper

    sorted_rows = np.argsort(d, kind="stable")
    position = np.empty(n, dtype=np.int64)
    position[sorted_rows] = np.arange(n)
    ds = d[sorted_rows]
    is_control = ~t[sorted_rows]
    available = is_control.copy()

    treated_rows = np.flatnonzero(t)
    if order == "largest":
        sequence = treated_rows[np.argsort(-d[treated_rows], kind="stable")]
    elif order == "smallest":
        sequence = treated_rows[np.argsort(d[treated_rows], kind="stable")]
    else:
        sequence = treated_rows
    slot = {int(r): i for i, r in enumerate(treated_rows)}
    match_matrix = np.full((treated_rows.size, ratio), -1, dtype=np.int64)
    pairs: list[tuple[int, int]] = []

    def nearest_control(ii: int, taken: set[int], step: int) -> int:
        """Sorted position of the first available control from ``ii`` going ``step`` (-1 below, +1 above).

        -1 when there is none, or when the first one lies beyond the caliper.
        """
        k = ii + step
        while 0 <= k < n:
            if is_control[k] and available[k] and int(sorted_rows[k]) not in taken:
                return -1 if width is not None and abs(ds[ii] - ds[k]) > width else k
            k += step
        return -1

    for r in range(ratio):
        before = len(pairs)
        for row in sequence:
            ii = int(position[row])
            taken = {int(c) for c in match_matrix[slot[int(row)], :r] if c >= 0}
            k_left = nearest_control(ii, taken, -1)
            k_right = nearest_control(ii, taken, +1)
            if k_left >= 0 and k_right >= 0:
                k = k_left if abs(ds[k_left] - ds[ii]) <= abs(ds[k_right] - ds[ii]) else k_right
            elif k_left >= 0:
                k = k_left
            elif k_right >= 0:
                k = k_right
            else:
                continue
            control_row = int(sorted_rows[k])
            match_matrix[slot[int(row)], r] = control_row
            pairs.append((int(row), control_row))
            if not replace:
                available[k] = False
        if len(pairs) == before:  # a round that matched nobody: so would every later one (nothing new is eligible)
            break

    weights = np.zeros(n, dtype=np.float64)
    has_match = match_matrix[:, 0] >= 0
    for i, row in enumerate(treated_rows):
        ctrl = match_matrix[i][match_matrix[i] >= 0]
        if ctrl.size:
            weights[row] = 1.0
            np.add.at(weights, ctrl, 1.0 / ctrl.size)
    control_mask = (~t) & (weights > 0)
    n_matched_control = int(control_mask.sum())
    if n_matched_control:
        weights[control_mask] *= n_matched_control / weights[control_mask].sum()

    subclass: IntArray | None = None
    if not replace:
        subclass = np.full(n, -1, dtype=np.int64)
        for pair_id, slot_t in enumerate(np.flatnonzero(has_match)):
            subclass[treated_rows[slot_t]] = pair_id
            subclass[match_matrix[slot_t][match_matrix[slot_t] >= 0]] = pair_id

    n_matched_treated = int(has_match.sum())
    return MatchResult(
        pairs=np.asarray(pairs, dtype=np.int64).reshape(-1, 2),
        match_matrix=match_matrix,
        treated_rows=treated_rows.astype(np.int64),
        subclass=subclass,
        weights=weights,
        distance=d,
        treated=t,
        caliper=width,
        ratio=ratio,
        replace=replace,
        order=order,
        n_matched_treated=n_matched_treated,
        n_unmatched_treated=int(treated_rows.size - n_matched_treated),
        n_matched_control=n_matched_control,
    )


# --------------------------------------------------------------------------------------------
# weighting
# --------------------------------------------------------------------------------------------


def _ess(w: FloatArray) -> float:
    s2 = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / s2 if s2 > 0 else 0.0


def iptw_weights(
    ps: ArrayLike | PropensityScoreResult,
    treated: ArrayLike,
    *,
    estimand: Literal["ATT", "ATE"] = "ATT",
    stabilized: bool = True,
) -> IPTWResult:
    """Inverse-probability-of-treatment weights.

    Parameters
    ----------
    ps : array_like or PropensityScoreResult
        Propensity scores in (0, 1), one per row, or a fitted model.
    treated : array_like of bool or 0/1
        Treatment indicator.
    estimand : {"ATT", "ATE"}, default "ATT"
        ``"ATT"``: weight the controls to the treated cohort (the question of a single-arm
        cohort against external controls); ``"ATE"``: weight both groups to the whole sample.
    stabilized : bool, default True
        Multiply each weight by the proportion of the sample in the unit's own group
        (WeightIt's ``stabilize = TRUE``; for the ATE the stabilised weights of Robins,
        Hernan and Brumback, ``P(T = t) / P(T = t | X)``).

    Returns
    -------
    IPTWResult
        The weights (all positive), with Kish effective sample sizes.

    Raises
    ------
    DesignError
        If a score is not strictly between 0 and 1 or ``treated`` lacks a group.

    Notes
    -----
    With ``e`` the propensity score and ``T`` the treatment indicator:

    * ATE: ``w = T / e + (1 - T) / (1 - e)``;
    * ATT: ``w = T + (1 - T) e / (1 - e)``;
    * stabilised: ``w * n_1 / n`` for treated and ``w * n_0 / n`` for control units.

    Stabilisation rescales each group's weights by a constant, so weighted means, their
    difference and its sandwich standard error are unchanged; it only makes the weights easier
    to read (they average about 1 for the ATE).

    References
    ----------
    Austin PC, Stuart EA. Moving towards best practice when using inverse probability of
    treatment weighting (IPTW) using the propensity score to estimate causal treatment effects
    in observational studies. Stat Med 2015;34:3661-3679.

    Examples
    --------
    >>> from condapprove.estimate.external import iptw_weights
    >>> w = iptw_weights([0.8, 0.5, 0.5, 0.2], [1, 1, 0, 0], estimand="ATT", stabilized=False)
    >>> w.weights.tolist()
    [1.0, 1.0, 1.0, 0.25]
    """
    e, t, _ = _ps_iv(ps, treated)
    estimand = _one_of(estimand, "estimand", ("ATT", "ATE"))
    if not isinstance(stabilized, (bool, np.bool_)):
        raise DesignError(f"`stabilized` must be True or False; got {stabilized!r}.")
    if estimand == "ATE":
        w = np.where(t, 1.0 / e, 1.0 / (1.0 - e))
    else:
        w = np.where(t, 1.0, e / (1.0 - e))
    if stabilized:
        n = t.size
        w = np.where(t, w * t.sum() / n, w * (~t).sum() / n)
    return IPTWResult(
        weights=w,
        estimand=estimand,
        stabilized=bool(stabilized),
        ess_treated=_ess(w[t]),
        ess_control=_ess(w[~t]),
        max_weight=float(w.max()),
    )


# --------------------------------------------------------------------------------------------
# balance
# --------------------------------------------------------------------------------------------


def _weights_iv(weights: Any, n: int, t: BoolArray, name: str = "weights") -> FloatArray:
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"`{name}` must be an array of non-negative numbers; got {weights!r}.") from None
    if w.ndim != 1 or w.size != n:
        raise DesignError(f"`{name}` must be a 1-d array with one entry per row ({n}); got shape {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise DesignError(f"`{name}` must be finite and non-negative; got {w[~(np.isfinite(w) & (w >= 0))][0].item()!r}.")
    if w[t].sum() <= 0 or w[~t].sum() <= 0:
        raise DesignError(f"`{name}` must give positive total weight to both groups; got a group with zero weight.")
    return w


def _group_variance(x: FloatArray, binary: bool) -> float:
    if binary:
        m = float(x.mean())
        return m * (1.0 - m)
    return float(np.var(x, ddof=1))


def balance_table(
    covariates: Any,
    treated: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    matched: MatchResult | None = None,
    smd_denominator: Literal["pooled", "treated"] = "pooled",
) -> pd.DataFrame:
    """Standardised mean differences of the covariates, before and after adjustment.

    Parameters
    ----------
    covariates : pandas.DataFrame, mapping of name to array, or array_like
        As in :func:`propensity_scores`; categorical covariates are shown as one indicator per
        level (one indicator for a two-level covariate).
    treated : array_like of bool or 0/1
        Treatment indicator.
    weights : array_like, optional
        Non-negative weights (IPTW weights, or matching weights) for the "after" columns.
    matched : MatchResult, optional
        A matched sample; its matching weights give the "after" columns.  Give at most one of
        ``weights`` and ``matched``.
    smd_denominator : {"pooled", "treated"}, default "pooled"
        Standard deviation that scales the mean difference: ``"pooled"``
        ``sqrt((s_1^2 + s_0^2) / 2)`` (Austin 2009; cobalt's default for the ATE) or
        ``"treated"`` ``s_1`` (MatchIt's and cobalt's default for the ATT).

    Returns
    -------
    pandas.DataFrame
        Indexed by covariate, with columns ``binary``, ``mean_treated_before``,
        ``mean_control_before``, ``smd_before`` and, when weights are given,
        ``mean_treated_after``, ``mean_control_after``, ``smd_after``.

    Raises
    ------
    DesignError
        For invalid covariates or weights, both ``weights`` and ``matched``, or fewer than two
        units in a group for a non-binary covariate.

    Warns
    -----
    DegenerateDataWarning
        When the chosen standard deviation is zero: the pooled one is used instead, and a
        covariate constant in the whole sample gets an SMD of 0.

    Notes
    -----
    ``SMD = (mean_1 - mean_0) / s``.  The standard deviations always come from the
    *unadjusted* groups, so that before and after are on the same scale.  For a binary (0/1)
    covariate the group variance is ``p (1 - p)``; otherwise it is the sample variance
    (``ddof=1``).  After adjustment the means are weighted means.  These are MatchIt's
    ``summary()`` conventions (there with ``smd_denominator="treated"`` for the ATT).
    Absolute SMDs below 0.1 are commonly read as adequate balance.

    References
    ----------
    Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between
    treatment groups in propensity-score matched samples. Stat Med 2009;28:3083-3107.

    Examples
    --------
    >>> from condapprove.estimate.external import balance_table
    >>> tab = balance_table({"age": [60, 70, 65, 50, 55, 58]}, [1, 1, 1, 0, 0, 0])
    >>> round(float(tab.loc["age", "smd_before"]), 3)
    2.346
    """
    import pandas as pd

    X, names = _covariate_matrix(covariates, drop_first="binary")
    n = X.shape[0]
    t = _treated_iv(treated, n=n)
    smd_denominator = _one_of(smd_denominator, "smd_denominator", ("pooled", "treated"))
    if weights is not None and matched is not None:
        raise DesignError("`weights` and `matched` must not both be given; got both.")
    w: FloatArray | None = None
    if matched is not None:
        if not isinstance(matched, MatchResult):
            raise DesignError(f"`matched` must be a MatchResult from match_nearest; got {type(matched).__name__}.")
        if matched.weights.size != n or not np.array_equal(matched.treated, t):
            raise DesignError("`matched` must come from the same rows and treatment indicator; got a mismatch.")
        w = matched.weights
    elif weights is not None:
        w = _weights_iv(weights, n, t)
    rows = []
    for j, name in enumerate(names):
        x = X[:, j]
        binary = bool(np.all((x == 0) | (x == 1)))
        x1, x0 = x[t], x[~t]
        if not binary and (x1.size < 2 or x0.size < 2):
            raise DesignError(
                f"`treated` must include at least 2 units per group for the SD of {name}; got "
                f"{x1.size} treated and {x0.size} control."
            )
        v1, v0 = _group_variance(x1, binary), _group_variance(x0, binary)
        pooled = math.sqrt((v1 + v0) / 2)
        sd = pooled if smd_denominator == "pooled" else math.sqrt(v1)
        if sd <= math.sqrt(_EPS) * max(1.0, float(np.abs(x).max())):
            if pooled > math.sqrt(_EPS) * max(1.0, float(np.abs(x).max())):
                warnings.warn(
                    f"the treated-group SD of {name} is 0; its SMD uses the pooled SD instead.",
                    DegenerateDataWarning,
                    stacklevel=2,
                )
                sd = pooled
            else:
                warnings.warn(
                    f"{name} is constant within both groups; its SMD is reported as 0.",
                    DegenerateDataWarning,
                    stacklevel=2,
                )
                sd = math.inf
        m1, m0 = float(x1.mean()), float(x0.mean())
        row: dict[str, Any] = {
            "covariate": name,
            "binary": binary,
            "mean_treated_before": m1,
            "mean_control_before": m0,
            "smd_before": (m1 - m0) / sd if math.isfinite(sd) else 0.0,
        }
        if w is not None:
            a1 = float(np.average(x1, weights=w[t]))
            a0 = float(np.average(x0, weights=w[~t]))
            row["mean_treated_after"] = a1
            row["mean_control_after"] = a0
            row["smd_after"] = (a1 - a0) / sd if math.isfinite(sd) else 0.0
        rows.append(row)
    return pd.DataFrame(rows).set_index("covariate")


# --------------------------------------------------------------------------------------------
# effect estimation
# --------------------------------------------------------------------------------------------


def _wald_interval(estimate: float, se: float, level: float, alternative: str) -> ConfidenceInterval:
    from scipy.special import ndtri

    return location_scale_interval(estimate, se, level, alternative, ndtri)


#: A sandwich variance at most this fraction of the sum of the absolute values of its terms is what their
#: cancellation leaves in rounding error: it is reported as 0 (matched pairs with the same difference, 0.49, gave a
#: variance of 4.4e-16 from terms of order 1, a standard error of 2.1e-8 and p = 0).
_CANCELLED = 1e-12


def _sandwich_contrast(
    y: FloatArray,
    t: BoolArray,
    w: FloatArray,
    *,
    model: Literal["linear", "logistic"],
    se_type: str,
    clusters: IntArray | None,
) -> tuple[float, float]:
    """Coefficient of ``t`` in ``y ~ 1 + t`` (weighted least squares or logistic) and its sandwich SE.

    The meat follows R's ``sandwich``: scores ``w_i r_i x_i`` with ``r`` the residual ``y - mu``;
    HC1 multiplies by ``n / (n - p)``; HC2/HC3 divide each score by ``sqrt(1 - h_i)`` or
    ``1 - h_i`` with ``h`` the (IRLS-)weighted leverages; CR1 sums the scores within clusters and
    multiplies by ``G / (G - 1) * (n - 1) / (n - p)`` (``vcovCL(type = "HC1")``).
    """
    n = y.size
    X = np.column_stack([np.ones(n), t.astype(np.float64)])
    p = X.shape[1]
    if model == "linear":
        A = X.T @ (w[:, None] * X)
        beta = np.linalg.solve(A, X.T @ (w * y))
        resid = y - X @ beta
        work = w
    else:
        p1 = float(np.average(y[t], weights=w[t]))
        p0 = float(np.average(y[~t], weights=w[~t]))
        beta = np.array([math.log(p0 / (1 - p0)), math.log(p1 / (1 - p1)) - math.log(p0 / (1 - p0))])
        mu = np.where(t, p1, p0)
        resid = y - mu
        work = w * mu * (1 - mu)
        A = X.T @ (work[:, None] * X)
    if se_type == "HC1" and n <= p:
        raise DesignError(f"`se_type` 'HC1' must have more units than the {p} coefficients (its factor n / (n - {p})); "
                          f"got {n} units with weight.", hint="use se_type='HC0'")
    A_inv = np.linalg.inv(A)
    scores = (w * resid)[:, None] * X
    if se_type in ("HC2", "HC3"):
        h = work * np.einsum("ij,jk,ik->i", X, A_inv, X)
        if np.any(h >= 1 - 1e-10):
            raise DesignError(
                f"`se_type` {se_type!r} must have leverages below 1; got a group with a single unit.",
                hint="use se_type='HC0' or 'HC1'",
            )
        scores = scores / ((1 - h) ** (0.5 if se_type == "HC2" else 1.0))[:, None]
    if se_type == "CR1":
        assert clusters is not None
        labels, inverse = np.unique(clusters, return_inverse=True)
        g = labels.size
        if g < 2:
            raise DesignError(f"`se_type` 'CR1' must have at least 2 matched sets; got {g}.")
        summed = np.zeros((g, p))
        np.add.at(summed, inverse, scores)
        meat = summed.T @ summed * (g / (g - 1)) * ((n - 1) / (n - p))
    else:
        meat = scores.T @ scores
        if se_type == "HC1":
            meat *= n / (n - p)
    V = A_inv @ meat @ A_inv
    scale = (np.abs(A_inv) @ np.abs(meat) @ np.abs(A_inv))[1, 1]
    var = float(V[1, 1]) if V[1, 1] > _CANCELLED * scale else 0.0
    return float(beta[1]), math.sqrt(var)


def _column(data: Any, name: Any, argname: str, columns: Sequence[str]) -> np.ndarray:
    if not isinstance(name, str):
        raise DesignError(f"`{argname}` must be a column name (str); got {name!r}.")
    if name not in columns:
        import difflib

        close = difflib.get_close_matches(name, list(columns), n=1)
        raise DesignError(
            f"`{argname}` must name a column of `data`; got {name!r}.",
            hint=f"did you mean {close[0]!r}?" if close else None,
        )
    return np.asarray(data[name])


def external_control_comparison(
    data: Any,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    endpoint: Literal["binary", "continuous"] = "binary",
    method: Literal["matching", "iptw", "none"] = "matching",
    estimand: Literal["ATT", "ATE"] = "ATT",
    confidence_level: float = 0.95,
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
    caliper: float | None = 0.2,
    caliper_scale: Literal["logit-sd", "logit-pooled-sd", "logit"] = "logit-sd",
    ratio: int = 1,
    replace: bool = False,
    order: Literal["largest", "smallest", "data"] = "largest",
    stabilized: bool = True,
    se_type: Literal["HC0", "HC1", "HC2", "HC3", "CR1"] | None = None,
    log_odds_ratio: bool = False,
    smd_denominator: Literal["pooled", "treated"] = "pooled",
) -> ExternalControlResult:
    """Compare a treated cohort with patient-level external controls.

    Parameters
    ----------
    data : pandas.DataFrame or mapping of column name to array
        One row per patient (treated and controls together).  Missing values in the columns
        used are an error.
    outcome : str
        Outcome column: 0/1 (or bool) for ``endpoint="binary"``, numbers for ``"continuous"``.
    treatment : str
        Treatment column: 1 for the treated cohort, 0 for the external controls.
    covariates : sequence of str
        Columns of the propensity model and of the balance table.
    endpoint : {"binary", "continuous"}, default "binary"
        The effect is the risk difference or the mean difference, treated minus control.
    method : {"matching", "iptw", "none"}, default "matching"
        Propensity-score matching (:func:`match_nearest`), inverse-probability weighting
        (:func:`iptw_weights`) or the unadjusted comparison.
    estimand : {"ATT", "ATE"}, default "ATT"
        Target population; matching supports the ATT only.
    confidence_level : float, default 0.95
        Level of the Wald interval ``ci``.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        Alternative hypothesis of ``pvalue`` (and sidedness of ``ci``).
    caliper, caliper_scale, ratio, replace, order
        Matching options, see :func:`match_nearest` (``method="matching"`` only).
    stabilized : bool, default True
        Stabilised weights, see :func:`iptw_weights` (``method="iptw"`` only; does not change
        the estimate or its standard error).
    se_type : {"CR1", "HC0", "HC1", "HC2", "HC3"}, optional
        Sandwich estimator.  Default: ``"CR1"`` (cluster-robust by matched set) for matching
        without replacement, ``"HC3"`` for matching with replacement, ``"HC0"`` for IPTW and
        ``"HC2"`` for no adjustment.
    log_odds_ratio : bool, default False
        Also estimate the log odds ratio (binary endpoint only).
    smd_denominator : {"pooled", "treated"}, default "pooled"
        Scale of the standardised mean differences, see :func:`balance_table`.

    Returns
    -------
    ExternalControlResult
        Effect, standard error, Wald statistic, p-value and interval, the numbers used, the
        balance table, the propensity model, the matched sample and the analysis weights.

    Raises
    ------
    DesignError
        For invalid input, a separated propensity model, no match within the caliper, a
        constant outcome in both groups (a standard error of 0), a standard error of 0 for
        data with no residual variation the weights or matched sets can see (a sandwich
        variance below 1e-12 of the absolute sum of its terms is taken as their cancellation,
        0), ``se_type='HC1'`` with two units, or options that do not apply to ``method``
        given non-default values.

    Warns
    -----
    DegenerateDataWarning
        When ``log_odds_ratio=True`` but a weighted proportion is 0 or 1 (the log odds ratio
        is then ``None``).

    Notes
    -----
    The effect is the coefficient of the treatment in the weighted regression
    ``outcome ~ 1 + treatment`` (least squares; logistic for the log odds ratio), that is the
    difference of the weighted group means.  The weights are the matching weights (1 for
    every matched unit in 1:1 matching), the IPTW weights, or 1.  Standard errors are
    sandwich estimators as in R's ``sandwich``: after matching without replacement
    ``vcovCL(fit, cluster = ~subclass, type = "HC1")``, i.e. CR1 with the factor
    ``G / (G - 1) * (n - 1) / (n - 2)`` over ``G`` matched sets (MatchIt's recommended
    analysis); after matching with replacement ``vcovHC(type = "HC3")`` (MatchIt, after Hill
    and Reiter 2006); for IPTW ``vcovHC(type = "HC0")`` (WeightIt and ``survey::svyglm``
    practice); without adjustment HC2, which for two groups equals the Welch standard error
    ``sqrt(s_1^2 / n_1 + s_0^2 / n_0)``.  Intervals and p-values use the normal distribution.

    What the method assumes: no unmeasured confounding between the treated cohort and the
    external controls given ``covariates`` (including calendar time and centre effects for
    historical controls), overlap of the propensity scores, a correctly specified propensity
    model, and the same outcome definition and follow-up in both sources.  The standard errors
    treat the propensity scores as known (for the ATE the IPTW sandwich is then conservative).
    Check the ``balance`` table before reading the effect.

    References
    ----------
    Austin PC. An introduction to propensity score methods for reducing the effects of
    confounding in observational studies. Multivariate Behav Res 2011;46:399-424.

    Abadie A, Spiess J. Robust post-matching inference. J Am Stat Assoc 2022;117:983-995.

    Greifer N. Estimating effects after matching. MatchIt vignette, version 4.5.

    Examples
    --------
    >>> import numpy as np
    >>> from condapprove.estimate.external import external_control_comparison
    >>> rng = np.random.default_rng(2021)
    >>> n = 120
    >>> age = rng.normal(60, 10, n)
    >>> treated = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.05 * (age - 60))))).astype(int)
    >>> alive = (rng.random(n) < 0.3 + 0.3 * treated).astype(int)
    >>> data = {"alive": alive, "treated": treated, "age": age}
    >>> res = external_control_comparison(data, outcome="alive", treatment="treated", covariates=["age"])
    >>> res.method, res.se_type, res.n_treated, res.n_unmatched_treated
    ('matching', 'CR1', 35, 2)
    >>> round(res.effect, 3), round(res.standard_error, 3)
    (0.286, 0.097)
    """
    import pandas as pd

    # ---- validation -------------------------------------------------------------------------
    if isinstance(data, pd.DataFrame):
        columns = [str(c) for c in data.columns]
    elif isinstance(data, Mapping):
        columns = [str(c) for c in data]
    else:
        raise DesignError(f"`data` must be a pandas DataFrame or a mapping of columns; got {type(data).__name__}.")
    endpoint = _one_of(endpoint, "endpoint", ("binary", "continuous"))
    method = _one_of(method, "method", ("matching", "iptw", "none"))
    estimand = _one_of(estimand, "estimand", ("ATT", "ATE"))
    confidence_level = check_confidence_level(confidence_level)
    alternative = check_alternative(alternative)
    if isinstance(covariates, str) or not isinstance(covariates, Sequence) or len(covariates) == 0:
        raise DesignError(f"`covariates` must be a non-empty sequence of column names; got {covariates!r}.")
    if len(set(covariates)) != len(covariates):
        raise DesignError(f"`covariates` must not repeat a column; got {list(covariates)!r}.")
    for c in covariates:
        _column(data, c, "covariates", columns)
    if outcome == treatment or outcome in covariates or treatment in covariates:
        raise DesignError(
            f"`outcome`, `treatment` and `covariates` must be different columns; got outcome={outcome!r}, "
            f"treatment={treatment!r}, covariates={list(covariates)!r}."
        )
    y_raw = _column(data, outcome, "outcome", columns)
    t_raw = _column(data, treatment, "treatment", columns)
    if pd.isna(pd.Series(t_raw)).any():
        raise DesignError(f"`treatment` column {treatment!r} must have no missing values; got some.",
                          hint="drop or impute the incomplete rows before the comparison")
    t = _treated_iv(t_raw, name="treatment")
    n = t.size
    try:
        y = np.asarray(y_raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"`outcome` column {outcome!r} must be numeric; got dtype {np.asarray(y_raw).dtype}.") from None
    if y.ndim != 1 or y.size != n:
        raise DesignError(f"`outcome` column {outcome!r} must have one value per row ({n}); got shape {y.shape}.")
    if not np.all(np.isfinite(y)):
        raise DesignError(f"`outcome` column {outcome!r} must have no missing or infinite values; got some.",
                          hint="drop or impute the incomplete rows before the comparison")
    if endpoint == "binary" and not np.all((y == 0) | (y == 1)):
        raise DesignError(f"`outcome` column {outcome!r} must be 0/1 for a binary endpoint; got "
                          f"{y[~((y == 0) | (y == 1))][0].item()!r}.", hint="use endpoint='continuous'")
    if log_odds_ratio and endpoint != "binary":
        raise DesignError("`log_odds_ratio` must be False for a continuous endpoint; got True.")
    if isinstance(data, pd.DataFrame):
        cov_frame = data[list(covariates)].reset_index(drop=True)  # keeps categorical dtypes and level order
    else:
        cov_frame = pd.DataFrame({c: np.asarray(data[c]) for c in covariates})
    if cov_frame.shape[0] != n:
        raise DesignError(f"`covariates` columns must have one value per row ({n}); got {cov_frame.shape[0]}.")
    caliper, caliper_scale, ratio, replace, order = _match_nearest_iv(caliper, caliper_scale, ratio, replace, order)
    if not isinstance(stabilized, (bool, np.bool_)):
        raise DesignError(f"`stabilized` must be True or False; got {stabilized!r}.")
    matching_defaults = {"caliper": (caliper, 0.2), "caliper_scale": (caliper_scale, "logit-sd"),
                         "ratio": (ratio, 1), "replace": (replace, False), "order": (order, "largest")}
    if method != "matching":
        for arg, (value, default) in matching_defaults.items():
            if value != default:
                raise DesignError(f"`{arg}` applies only to method='matching'; got {arg}={value!r} with "
                                  f"method={method!r}.", hint=f"remove {arg}=")
    if method != "iptw" and not stabilized:
        raise DesignError(f"`stabilized` applies only to method='iptw'; got stabilized=False with method={method!r}.")
    if method == "matching" and estimand != "ATT":
        raise DesignError("`estimand` must be 'ATT' for method='matching'; got 'ATE'.",
                          hint="use method='iptw' for the ATE")
    if method == "none" and estimand != "ATT":
        raise DesignError("`estimand` applies only to method='iptw' or 'matching'; got 'ATE' with method='none'.")
    if se_type is None:
        if method == "matching":
            se_type = "HC3" if replace else "CR1"
        else:
            se_type = "HC0" if method == "iptw" else "HC2"
    se_type = _one_of(se_type, "se_type", _SE_TYPES)
    if se_type == "CR1" and (method != "matching" or replace):
        raise DesignError("`se_type` 'CR1' needs matched sets (method='matching', replace=False); "
                          f"got method={method!r}, replace={replace!r}.")

    # ---- adjustment -------------------------------------------------------------------------
    ps_fit: PropensityScoreResult | None = None
    match: MatchResult | None = None
    clusters: IntArray | None = None
    if method == "none":
        w = np.ones(n)
    else:
        ps_fit = propensity_scores(cov_frame, t)
        if method == "matching":
            match = match_nearest(ps_fit, t, caliper=caliper, caliper_scale=caliper_scale, ratio=ratio,
                                  replace=replace, order=order)
            if match.n_matched_treated == 0:
                raise DesignError(
                    "`caliper` must leave at least one matched pair; got no treated unit with a control "
                    f"within {match.caliper:.4g} on the logit scale.",
                    hint="widen the caliper, or check the overlap of the propensity scores",
                )
            w = match.weights
            clusters = match.subclass
        else:
            w = iptw_weights(ps_fit, t, estimand=estimand, stabilized=stabilized).weights
    used = w > 0
    yu, tu, wu = y[used], t[used], w[used]
    cu = clusters[used] if clusters is not None else None

    mean_treated = float(np.average(yu[tu], weights=wu[tu]))
    mean_control = float(np.average(yu[~tu], weights=wu[~tu]))
    effect, se = _sandwich_contrast(yu, tu, wu, model="linear", se_type=se_type, clusters=cu)
    # (checked whatever the standard error: residuals of a constant outcome are rounding error, and so is its standard
    # error, 1.4e-16 with p = 0.007 when only an exact 0 was refused)
    if np.ptp(yu[tu]) == 0 and np.ptp(yu[~tu]) == 0:
        raise DesignError(
            "`outcome` must vary within at least one group; got a constant outcome in both groups, so the "
            "sandwich standard error is 0.",
            hint="with 0 or all events in both groups use an exact method for the two proportions",
        )
    if not se > 0:
        raise DesignError(  # (the outcome varies, but not in a way the weights and clusters can see)
            f"the sandwich standard error is 0 for these data: the {int(used.sum())} units the "
            f"{'matched pairs' if cu is not None else 'weights'} keep leave no residual variation (e.g. every "
            "matched pair has the same difference in outcome).",
            hint="use more units, or another method or se_type",
        )
    lor: float | None = None
    lor_se: float | None = None
    if log_odds_ratio:
        if 0 < mean_treated < 1 and 0 < mean_control < 1:
            lor, lor_se = _sandwich_contrast(yu, tu, wu, model="logistic", se_type=se_type, clusters=cu)
        else:
            warnings.warn(
                f"a weighted proportion is 0 or 1 (treated {mean_treated:.4g}, control {mean_control:.4g}); "
                "the log odds ratio is not estimable and is reported as None.",
                DegenerateDataWarning,
                stacklevel=2,
            )

    from scipy.special import ndtr

    z = effect / se
    pvalue = pvalue_from_statistic(z, alternative, lambda s: ndtr(-s))
    balance = balance_table(cov_frame, t, weights=None if method == "none" else w, smd_denominator=smd_denominator)
    return ExternalControlResult(
        effect=effect,
        effect_measure="risk difference" if endpoint == "binary" else "mean difference",
        standard_error=se,
        se_type=se_type,
        statistic=float(z),
        pvalue=pvalue,
        alternative=alternative,
        confidence_level=confidence_level,
        ci=_wald_interval(effect, se, confidence_level, alternative),
        method=method,
        estimand=estimand,
        endpoint=endpoint,
        mean_treated=mean_treated,
        mean_control=mean_control,
        n_treated=int(tu.sum()),
        n_control=int((~tu).sum()),
        n_treated_total=int(t.sum()),
        n_control_total=int((~t).sum()),
        n_unmatched_treated=match.n_unmatched_treated if match is not None else 0,
        ess_treated=_ess(wu[tu]),
        ess_control=_ess(wu[~tu]),
        log_odds_ratio=lor,
        log_odds_ratio_se=lor_se,
        balance=balance,
        propensity=ps_fit,
        matching=match,
        weights=np.asarray(w, dtype=np.float64),
    )
