"""Evidence-level verdicts for "presumed efficacy" from a single-arm binary cohort.

A verdict is a list of declarative *criteria*, each evaluated on the cohort
(``x`` responders of ``n`` patients) and reported with its value, its threshold
and pass/fail; the overall verdict is "efficacy presumed" when every criterion
passes.  A sensitivity table re-evaluates the Bayesian and interval criteria under
every prior and interval method listed, so the dependence of the verdict on these
choices is visible.

Criteria
--------
``PosteriorProbability(prior, greater_than, at_least)``
    :math:`P(p > p_0 \\mid x, n) \\ge \\gamma` under the named prior (conjugate update).
``ExactLowerBound(greater_than, confidence_level, method)``
    the lower bound of the two-sided interval exceeds :math:`p_0` (Clopper-Pearson
    by default, i.e. the exact one-sided test at level :math:`(1-\\text{level})/2`).
``ExactTest(p0, alpha)``
    the exact one-sided binomial test of :math:`p \\le p_0` has p-value :math:`\\le \\alpha`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from ._text import render_table
from .errors import DesignError
from .estimate.proportions import binomial_interval, binomial_test
from .priors import Beta, BetaMixture
from .results import ResultMixin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "PosteriorProbability",
    "ExactLowerBound",
    "ExactTest",
    "Criterion",
    "CriterionResult",
    "EvidenceResult",
    "evaluate_evidence",
]

IntervalMethod = Literal["clopper-pearson", "wilson", "jeffreys", "mid-p"]
BinaryPrior = Beta | BetaMixture


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PosteriorProbability:
    """Posterior probability that the response rate exceeds ``greater_than`` is at least ``at_least``."""

    prior: str
    greater_than: float
    at_least: float

    def describe(self) -> str:
        return f"P(p > {self.greater_than:g} | data; prior {self.prior}) >= {self.at_least:g}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ExactLowerBound:
    """The lower bound of the two-sided ``confidence_level`` interval exceeds ``greater_than``."""

    greater_than: float
    confidence_level: float = 0.95
    method: IntervalMethod = "clopper-pearson"

    def describe(self) -> str:
        return f"lower {self.confidence_level:.0%} bound ({self.method}) > {self.greater_than:g}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ExactTest:
    """The exact one-sided binomial test of ``p <= p0`` rejects at level ``alpha``."""

    p0: float
    alpha: float = 0.025

    def describe(self) -> str:
        return f"exact binomial test of p <= {self.p0:g}: p-value <= {self.alpha:g}"


Criterion = PosteriorProbability | ExactLowerBound | ExactTest


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CriterionResult(ResultMixin):
    """One criterion evaluated on the cohort.

    Attributes
    ----------
    criterion : str
        What was required, in words.
    value : float
        The observed quantity (posterior probability, lower bound or p-value).
    threshold : float
        What it was compared with.
    passed : bool
        Whether the criterion is met.
    """

    criterion: str
    value: float
    threshold: float
    passed: bool


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceResult(ResultMixin):
    """The evidence-level verdict on a single-arm binary cohort.

    Attributes
    ----------
    responders, n : int
        The cohort.
    estimate : float
        Observed response rate ``responders / n``.
    criteria : tuple of CriterionResult
        Each declared criterion, evaluated.
    presumed : bool
        True when every criterion passes ("efficacy presumed").
    sensitivity : tuple of CriterionResult
        The Bayesian criteria under every listed prior, and the interval criteria under
        every interval method (the verdict's dependence on these choices).
    posteriors : dict
        Posterior mean and 95% equal-tailed interval under each prior.
    intervals : dict
        Two-sided 95% confidence interval of the response rate by each method.
    """

    responders: int
    n: int
    estimate: float
    criteria: tuple[CriterionResult, ...]
    presumed: bool
    sensitivity: tuple[CriterionResult, ...]
    posteriors: dict[str, dict[str, float]]
    intervals: dict[str, dict[str, float]]

    @property
    def verdict(self) -> str:
        """``"efficacy presumed"`` or ``"efficacy not presumed"``."""
        return "efficacy presumed" if self.presumed else "efficacy not presumed"

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion (declared first, then the sensitivity rows)."""
        import pandas as pd

        rows = [{**c.to_dict(), "kind": "criterion"} for c in self.criteria]
        rows += [{**c.to_dict(), "kind": "sensitivity"} for c in self.sensitivity]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Plain-text report: estimates, criteria with pass/fail, verdict, sensitivity."""
        lines = [f"cohort: {self.responders}/{self.n} responders (observed rate {self.estimate:.3f})", ""]
        ci = [[m, f"{v['low']:.3f} - {v['high']:.3f}"] for m, v in self.intervals.items()]
        lines += [render_table(["interval method", "95% confidence interval"], ci), ""]
        rows = [[name, f"{p['mean']:.3f}", f"{p['low']:.3f} - {p['high']:.3f}"] for name, p in self.posteriors.items()]
        if rows:
            lines += [render_table(["prior", "posterior mean", "95% interval"], rows), ""]
        crit = [[c.criterion, f"{c.value:.4g}", f"{c.threshold:g}", "pass" if c.passed else "FAIL"]
                for c in self.criteria]
        lines += [render_table(["criterion", "value", "threshold", "result"], crit, align="lrrl"), ""]
        lines.append(f"verdict: {self.verdict}")
        if self.sensitivity:
            sens = [[c.criterion, f"{c.value:.4g}", f"{c.threshold:g}", "pass" if c.passed else "FAIL"]
                    for c in self.sensitivity]
            lines += ["", "sensitivity to the prior and the interval method:",
                      render_table(["criterion", "value", "threshold", "result"], sens, align="lrrl")]
        return "\n".join(lines)


def _evaluate(c: Criterion, x: int, n: int, priors: Mapping[str, BinaryPrior]) -> CriterionResult:
    if isinstance(c, PosteriorProbability):
        if c.prior not in priors:
            raise DesignError(f"`prior` must be one of {', '.join(map(repr, priors)) or '(none declared)'}; "
                              f"got {c.prior!r}.")
        value = float(priors[c.prior].update(x, n).prob_greater(c.greater_than))
        return CriterionResult(criterion=c.describe(), value=value, threshold=c.at_least, passed=value >= c.at_least)
    if isinstance(c, ExactLowerBound):
        low = float(binomial_interval(x, n, method=c.method, confidence_level=c.confidence_level).low)
        return CriterionResult(criterion=c.describe(), value=low, threshold=c.greater_than, passed=low > c.greater_than)
    if isinstance(c, ExactTest):
        p = float(binomial_test(x, n, c.p0, alternative="greater").pvalue)
        return CriterionResult(criterion=c.describe(), value=p, threshold=c.alpha, passed=p <= c.alpha)
    raise DesignError(f"`criterion` must be a PosteriorProbability, ExactLowerBound or ExactTest; got {c!r}.")


def evaluate_evidence(
    responders: int,
    n: int,
    criteria: Sequence[Criterion],
    *,
    priors: Mapping[str, BinaryPrior] | None = None,
    methods: Sequence[IntervalMethod] = ("clopper-pearson", "wilson", "jeffreys", "mid-p"),
) -> EvidenceResult:
    """Evaluate declarative evidence criteria on a single-arm binary cohort.

    Parameters
    ----------
    responders, n : int
        Responders and patients, ``0 <= responders <= n``, ``n >= 1``.
    criteria : sequence of criteria
        :class:`PosteriorProbability`, :class:`ExactLowerBound`, :class:`ExactTest`.
    priors : mapping of str to Beta or BetaMixture, optional
        Named priors for the Bayesian criteria and the sensitivity table.
    methods : sequence of str
        Interval methods re-evaluated in the sensitivity table.

    Returns
    -------
    EvidenceResult
        Each criterion with value and pass/fail, the verdict, and the sensitivity table.

    Notes
    -----
    Patients are assumed exchangeable with a common response probability (no
    between-lot heterogeneity); the Bayesian criteria use the conjugate beta update.

    Examples
    --------
    >>> from condapprove.evidence import ExactLowerBound, PosteriorProbability, evaluate_evidence
    >>> from condapprove.priors import Beta
    >>> res = evaluate_evidence(16, 19, [ExactLowerBound(greater_than=0.15),
    ...                                  PosteriorProbability(prior="vague", greater_than=0.15, at_least=0.975)],
    ...                         priors={"vague": Beta(1, 1)})
    >>> res.verdict
    'efficacy presumed'
    >>> round(res.criteria[0].value, 3)  # Delytact: exact 95% interval 60.4-96.6%
    0.604
    """
    from ._validation import check_int

    n = check_int(n, "n", minimum=1)
    responders = check_int(responders, "responders", minimum=0, maximum=n)
    if not criteria:
        raise DesignError("`criteria` must list at least one criterion; got none.")
    priors = dict(priors or {})
    results = tuple(_evaluate(c, responders, n, priors) for c in criteria)
    sens: list[CriterionResult] = []
    for c in criteria:
        if isinstance(c, PosteriorProbability):
            sens += [_evaluate(dataclasses.replace(c, prior=name), responders, n, priors)
                     for name in priors if name != c.prior]
        elif isinstance(c, ExactLowerBound):
            sens += [_evaluate(dataclasses.replace(c, method=m), responders, n, priors)
                     for m in methods if m != c.method]
    posteriors = {}
    for name, prior in priors.items():
        post = prior.update(responders, n)
        lo, hi = post.interval(0.95)
        posteriors[name] = {"mean": float(post.mean), "low": float(lo), "high": float(hi)}
    intervals = {}
    for m in dict.fromkeys(("clopper-pearson", *methods)):
        lo, hi = binomial_interval(responders, n, method=m, confidence_level=0.95)
        intervals[m] = {"low": float(lo), "high": float(hi)}
    return EvidenceResult(responders=responders, n=n, estimate=responders / n, criteria=results,
                          presumed=all(r.passed for r in results), sensitivity=tuple(sens), posteriors=posteriors,
                          intervals=intervals)
