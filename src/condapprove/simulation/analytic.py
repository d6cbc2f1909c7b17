"""Exact operating characteristics of the binary design, without simulation.

With exchangeable patients, Poisson accrual and independent dropout, the number of
evaluable patients of an arm at the analysis is :math:`\\min(T, P)`, where :math:`T` is the
arm's ``target_n`` and :math:`P \\sim \\mathrm{Poisson}((1-d)\\Lambda(c - f))` counts the
patients who enter early enough (by the cut-off :math:`c` less the follow-up :math:`f`) and
do not drop out.  Arms are independent, so

.. math:: P(\\text{confirmed}) = \\sum_{n_t, n_c} P(N_t = n_t) P(N_c = n_c)\\,
          \\mathrm{power}(n_t, n_c),

with the exact power of the test at fixed sizes summed over all binomial outcomes.
This is the analytic counterpart shown beside the simulated probability.
"""

from __future__ import annotations

from typing import get_args

import numpy as np

from .._dist import binom_pmf, poisson_pmf, poisson_sf
from .._typing import FloatArray
from .._validation import check_int, check_probability
from ..endpoints import BinaryOutcome, BinaryTest, binary_pvalues_unchecked
from ..errors import DesignError
from ..spec.schema import (
    Accrual,
    BenchmarkControl,
    ConcurrentControl,
    Design,
    FixedDecision,
    Scenario,
    TimeToEventEndpoint,
)
from .population import accrual_process, allocation, arms_of
from .statistics import fisher_by_table

__all__ = ["binary_power_fixed_n", "evaluable_distribution", "exact_p_confirmed", "expected_evaluable"]

#: Probabilities of evaluable counts below this are ignored (their total is bounded and tiny).
_NEGLIGIBLE = 1e-13


def expected_evaluable(accrual: Accrual, dropout: float, last_entry_month: float) -> float:
    """Expected number of non-dropout patients entering by ``last_entry_month``."""
    if not 0.0 <= dropout < 1.0:  # (a dropout of 1.5 gave -9 patients)
        raise DesignError(f"`dropout` must be a probability in [0, 1); got {dropout!r}.")
    return float((1.0 - dropout) * accrual_process(accrual).expected(max(last_entry_month, 0.0)))


def evaluable_distribution(accrual: Accrual, dropout: float, target: int, last_entry_month: float) -> FloatArray:
    """``P(N = n)`` for ``n = 0..target`` where ``N = min(target, Poisson(mu))``."""
    target = check_int(target, "target", minimum=0)  # (-1 raised IndexError)
    mu = expected_evaluable(accrual, dropout, last_entry_month)
    n = np.arange(target + 1)
    pmf = poisson_pmf(n, mu)
    pmf[target] = poisson_sf(target - 1, mu)
    return pmf


def binary_power_fixed_n(n_treated: int, n_control: int | None, *, treated_rate: float,
                         control_rate: float | None, test: str, alpha: float,
                         benchmark: float | None = None) -> float:
    """Exact probability that the one-sided test rejects at fixed arm sizes.

    Examples
    --------
    >>> from condapprove.simulation.analytic import binary_power_fixed_n
    >>> round(binary_power_fixed_n(13, None, treated_rate=0.6, control_rate=None,
    ...                            test="exact_binomial", alpha=0.025, benchmark=0.3), 6)
    0.57440...
    """
    # (checked here, not in _powers_at_sizes, which the engine calls with a validated design's values: a benchmark of
    # 1.5 gave a power of 0, a rate of NaN a power of NaN, a control arm without its rate an AssertionError)
    n_treated = check_int(n_treated, "n_treated", minimum=0)
    if n_control is not None:
        n_control = check_int(n_control, "n_control", minimum=0)
        if control_rate is None:
            raise DesignError(f"`control_rate` must be given with a control arm (n_control); got None for test "
                              f"{test!r}.")
    treated_rate = check_probability(treated_rate, "treated_rate")
    if control_rate is not None:
        control_rate = check_probability(control_rate, "control_rate")
    if benchmark is not None:
        benchmark = check_probability(benchmark, "benchmark")
    alpha = check_probability(alpha, "alpha", open_low=True, open_high=True)
    return float(_powers_at_sizes(np.array([n_treated]), None if n_control is None else np.array([n_control]),
                                  treated_rate=treated_rate, control_rate=control_rate, test=test, alpha=alpha,
                                  benchmark=benchmark)[0])


def _powers_at_sizes(n_treated: np.ndarray, n_control: np.ndarray | None, *, treated_rate: float,
                     control_rate: float | None, test: str, alpha: float, benchmark: float | None = None,
                     targets: tuple[int, int] | None = None) -> FloatArray:
    """:func:`binary_power_fixed_n` at each pair of arm sizes ``(n_treated[i], n_control[i])`` (``n_control`` None:
    one arm against ``benchmark``): the sum of the probabilities of the outcomes whose p-value is at most ``alpha``
    (a product of the arms' binomial probabilities), every outcome of every pair in one call of each function.
    ``targets``: the arms' largest sizes, the shape of the table of Fisher p-values
    (:func:`.statistics.fisher_by_table`) that the design's simulation uses too (default: the largest sizes
    given)."""
    def cells(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each cell's pair and its index in the pair's block, for consecutive blocks of ``sizes`` cells, and where
        each block starts."""
        start = np.cumsum(sizes) - sizes
        block = np.repeat(np.arange(sizes.size), sizes)
        return block, np.arange(block.size) - start[block], start

    if n_control is None:
        block, xt, _ = cells(n_treated + 1)
        nt = n_treated[block]
        pt = binom_pmf(xt, nt, treated_rate)
        reject = binary_pvalues_unchecked(BinaryOutcome(x_treated=xt, n_treated=nt), test=test,  # type: ignore[arg-type]
                                benchmark=benchmark) <= alpha
        return np.asarray(np.bincount(block, weights=np.where(reject, pt, 0.0), minlength=n_treated.size),
                          dtype=np.float64)
    assert control_rate is not None  # (binary_power_fixed_n checks it; the engine's designs have it)
    # each arm's binomial probabilities, once per pair and count (as binary_power_fixed_n's two vectors)
    block_t, x_t, start_t = cells(n_treated + 1)
    pmf_t = binom_pmf(x_t, n_treated[block_t], treated_rate)
    block_c, x_c, start_c = cells(n_control + 1)
    pmf_c = binom_pmf(x_c, n_control[block_c], control_rate)
    block, cell, _ = cells((n_treated + 1) * (n_control + 1))
    nt, nc = n_treated[block], n_control[block]
    xt, xc = np.divmod(cell, nc + 1)
    prob = pmf_t[start_t[block] + xt] * pmf_c[start_c[block] + xc]  # (the outer product's terms)
    shape = targets if targets is not None else (int(n_treated.max(initial=0)), int(n_control.max(initial=0)))
    pvalues = fisher_by_table(xt, nt, xc, nc, *shape) if test == "fisher" else None
    if pvalues is None:
        pvalues = binary_pvalues_unchecked(BinaryOutcome(x_treated=xt, n_treated=nt, x_control=xc, n_control=nc),
                                 test=test)  # type: ignore[arg-type]
    return np.asarray(np.bincount(block, weights=np.where(pvalues <= alpha, prob, 0.0), minlength=n_treated.size),
                      dtype=np.float64)


def _applies(design: Design, scenario: Scenario) -> bool:
    pm = design.post_marketing
    if pm.endpoint.type != "binary" or not isinstance(pm.decision, FixedDecision) or pm.analyses:
        return False
    if _exact_test(pm.test) not in get_args(BinaryTest):  # (the tests of binary_pvalues)
        return False
    if not isinstance(scenario.treated_rate, float) or pm.treated.never_treated > 0:
        return False
    het = pm.heterogeneity
    if het is not None and (het.lot_sd > 0 or het.dilution != 1 or (het.sites > 1 and het.site_sd > 0)):
        return False
    accruals = [pm.treated.accrual]
    if isinstance(pm.control, ConcurrentControl):
        if pm.control.confounding is not None:
            return False
        assert pm.control_accrual is not None
        accruals.append(pm.control_accrual)
    elif not isinstance(pm.control, BenchmarkControl):
        return False
    return all(a.capacity_per_month is None for a in accruals)


def _exact_test(test: str) -> str:
    """The test of :func:`condapprove.endpoints.binary_pvalues` that decides as ``test`` does: an unweighted binary
    ``z`` test is the pooled z of ``score`` (the same statistic; its p-value is 1/2 where ``score``'s is 1, neither
    at most an alpha below 1/2).  (A propensity-weighted ``z`` has confounders, which :func:`_applies` excludes.)"""
    return "score" if test == "z" else test


def exact_p_confirmed(design: Design, scenario: Scenario, *, max_cells: int = 3_000_000) -> float | None:
    """Exact P(confirmed by the cut-off) of a binary design, or None if too costly or not applicable.

    Applies to a single fixed analysis of a binary endpoint (tested with ``exact_binomial``, ``fisher``, ``score`` or
    the unweighted ``z``, which is ``score``'s pooled z) against a benchmark or a
    concurrent control, with a fixed true rate, no capacity cap, no confounders and no
    lot or site effects or dilution.  ``max_cells`` bounds the number of (arm sizes x outcomes)
    cells evaluated.
    """
    pm = design.post_marketing
    if not _applies(design, scenario):
        return None
    assert isinstance(scenario.treated_rate, float) and not isinstance(pm.endpoint, TimeToEventEndpoint)
    rate: float = scenario.treated_rate
    last_entry = design.cutoff_month - pm.endpoint.followup_months
    alpha = pm.alpha
    test = _exact_test(pm.test)
    dist_t = evaluable_distribution(pm.treated.accrual, pm.treated.dropout, pm.treated.target_n, last_entry)
    if isinstance(pm.control, BenchmarkControl):
        sizes = np.nonzero(dist_t > _NEGLIGIBLE)[0]
        sizes = sizes[sizes > 0]
        power = _powers_at_sizes(sizes, None, treated_rate=rate, control_rate=None, test=test, alpha=alpha,
                                 benchmark=pm.control.rate)
        return float(np.dot(dist_t[sizes], power))
    acc_c = pm.control_accrual
    assert acc_c is not None
    assert isinstance(pm.control, ConcurrentControl)
    arms = arms_of(design)
    if arms[1].paired:  # one stream of patients allocated 1:ratio in entry order
        ratio = pm.control.ratio
        assert ratio is not None
        size = arms[0].n + arms[1].n
        acc_t = pm.treated.accrual
        both = acc_t.model_copy(update={
            "rate_per_month": acc_t.rate_per_month * (1 + ratio),
            "rate_changes": [r.model_copy(update={"rate_per_month": r.rate_per_month * (1 + ratio)})
                             for r in acc_t.rate_changes]})
        dist = evaluable_distribution(both, pm.control.dropout, size, last_entry)
        treated_after = np.concatenate([[0], np.cumsum(allocation(ratio, size))])
        work = sum((int(treated_after[k]) + 1) * (int(k - treated_after[k]) + 1)
                   for k in np.nonzero(dist > _NEGLIGIBLE)[0])
        if work > max_cells:
            return None
        ks = np.nonzero(dist > _NEGLIGIBLE)[0]
        n_t, n_c = treated_after[ks], ks - treated_after[ks]
        both = (n_t > 0) & (n_c > 0)
        power = _powers_at_sizes(n_t[both], n_c[both], treated_rate=rate, control_rate=scenario.control_rate,
                                 test=test, alpha=alpha, targets=(pm.treated.target_n, pm.control_target_n))
        return float(np.dot(dist[ks[both]], power))
    dist_c = evaluable_distribution(acc_c, pm.control.dropout, pm.control_target_n, last_entry)
    nts = np.nonzero(dist_t > _NEGLIGIBLE)[0]
    ncs = np.nonzero(dist_c > _NEGLIGIBLE)[0]
    cells = sum((int(a) + 1) for a in nts) * sum((int(b) + 1) for b in ncs)
    if cells > max_cells:
        return None
    a, b = (g.ravel() for g in np.meshgrid(nts[nts > 0], ncs[ncs > 0], indexing="ij"))
    power = _powers_at_sizes(a, b, treated_rate=rate, control_rate=scenario.control_rate, test=test, alpha=alpha,
                             targets=(pm.treated.target_n, pm.control_target_n))
    return float(np.dot(dist_t[a] * dist_c[b], power))
