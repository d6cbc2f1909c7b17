"""The decision rule applied to the looks of many replicates at once.

Looks are taken in calendar order; a look that adds no information is skipped; ``fixed`` tests at
the final analysis; ``group_sequential`` compares z with Lan-DeMets bounds recomputed for the
information each replicate observed (computed once per distinct information pattern), with optional
futility on conditional power or z; ``bayesian`` compares the posterior probability with its threshold.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import special

from .._memo import per_object
from ..spec.schema import (
    BayesianDecision,
    BenchmarkControl,
    ConcurrentControl,
    Design,
    FixedDecision,
    GroupSequentialDecision,
)
from ._decide_jit import (
    KEEP,
    compact_looks,
    first_decision,
    last_bounds,
    looks_in_order,
    one_pattern,
    pick_rows,
    screen_eligible,
    sort_looks,
    spread_bounds,
)
from .results import CONFIRMED, FUTILITY, NOT_CONFIRMED, UNDECIDED
from .statistics import Looks, RowValues, fixed_pvalue, max_information, posterior_probability, treated_prior

__all__ = ["decide", "screen_bounds", "screen_rows", "stop_screen"]

#: Added to the planned efficacy bounds a row's z must reach before its later looks are left out (:func:`screen_bounds`):
#: far above the differences in the last bits that computing the bounds with other rows can make
#: (:func:`~condapprove.boundaries.efficacy_bounds_batch` rounds them to 10 decimals).
SCREEN_MARGIN = 1e-6


def _conditional_power(z: np.ndarray, info: np.ndarray, info_max: float, c_final: np.ndarray) -> np.ndarray:
    """Conditional power under the current trend (theta = z / sqrt(I))."""
    rest = info_max - info
    with np.errstate(invalid="ignore", divide="ignore"):
        theta = z / np.sqrt(info)
        num = c_final * math.sqrt(info_max) - z * np.sqrt(info) - theta * rest
        cp = special.ndtr(-num / np.sqrt(rest))
    return np.where(rest > 0, cp, np.where(z >= c_final, 1.0, 0.0))


def decide(design: Design, looks: Looks) -> dict[str, np.ndarray]:
    """Apply the decision rule to every replicate: outcome, look, month and the statistics at the decision."""
    pm = design.post_marketing
    cutoff = design.cutoff_month
    times, final, target_time, stats = looks.times, looks.final, looks.target_time, looks.stats
    m, n_looks = times.shape

    def columns(*fields: str) -> tuple[tuple[np.ndarray, ...], ...]:
        """The looks' columns of each statistic, for the compiled loops: read in place (columns of one
        (replicates, looks) array), copied only when their layouts differ."""
        cols = [[np.asarray(getattr(s, field), dtype=np.float64) for s in stats] for field in fields]
        first = cols[0][0].strides
        if any(c.strides != first for group in cols for c in group):  # tuples of columns must share one layout
            cols = [[np.ascontiguousarray(c) for c in group] for group in cols]
        return tuple(tuple(group) for group in cols)

    # (replicates, looks) arrays column-major: the numpy passes below (bounds broadcast along the looks, the
    # final look's column, comparisons with the first row) then run down contiguous columns, not over rows of a
    # few looks each (several times faster; the compiled loops read any layout)
    z, info = np.empty((m, n_looks), order="F"), np.empty((m, n_looks), order="F")
    active = np.empty((m, n_looks), dtype=bool, order="F")
    # usual: every row's looks already in time order; one compiled pass then fills z, the information and which
    # looks count (sort_looks below, for rows that need their looks sorted, gives the same)
    cols = columns("z", "information")
    in_order = looks_in_order(np.asarray(times, dtype=np.float64), *cols, z, info, active)
    same: bool | None = in_order == 2  # every look of every row counts, with the first row's information
    if in_order:
        order = np.arange(n_looks)[None, :]  # (1, L): the same for every row
        identity = True
        is_final = np.zeros((m, n_looks), dtype=bool, order="F")
        is_final[:, -1] = True
    else:
        # each row's looks sorted by time, and which count (a look that adds no information is skipped)
        sorted_times = np.empty((m, n_looks), order="F")
        order = np.empty((m, n_looks), dtype=np.int64, order="F")
        is_final = np.empty((m, n_looks), dtype=bool, order="F")
        sort_looks(np.asarray(times, dtype=np.float64), *cols, sorted_times, z, info, active, order, is_final)
        times = sorted_times
        identity = False
        same = None  # (for _group_sequential_bounds to find out)
    dec = pm.decision
    if isinstance(dec, FixedDecision):  # only the final analysis (the last column) decides
        s_final = stats[-1]
        win = fixed_pvalue(design, s_final) <= pm.alpha
        crossing = np.zeros((m, n_looks), dtype=bool)
        crossing[:, -1] = win
        futile = np.zeros_like(crossing)
        is_final = np.zeros_like(crossing)
        is_final[:, -1] = True
        order = np.arange(n_looks)[None, :]  # (1, L): the same for every row
        times = np.asarray(looks.times)  # in design order (the final is the last)
    else:
        if isinstance(dec, GroupSequentialDecision):
            bounds, last = _group_sequential_bounds(design, dec, info, active, is_final, same)
            crossing = active & (z >= bounds)
            futile = np.zeros((m, n_looks), dtype=bool, order="F")
            if dec.futility_conditional_power_below is not None:
                cp = _conditional_power(z, info, max_information(design), last[:, None])
                futile = active & ~crossing & (cp < dec.futility_conditional_power_below)
            if dec.futility_z_below is not None:  # z <= bound stops (equality counts, as in rpact)
                f_by_look = np.append(np.asarray(dec.futility_z_below, dtype=np.float64), -np.inf)
                futile |= active & ~crossing & (z <= f_by_look[order])
        else:
            assert isinstance(dec, BayesianDecision)
            prior = treated_prior(design)
            post = np.stack([posterior_probability(design, s, prior) for s in stats], axis=1)
            # a look decides only with data in each arm (a binary arm one evaluable patient, a continuous arm two,
            # for its SD): without, the posterior is the prior's (or undefined), which must neither confirm nor stop
            # for futility; so a final analysis without them does not confirm, as the fixed rule's
            least = 1 if pm.endpoint.type == "binary" else 2
            two_arms = not isinstance(pm.control, BenchmarkControl)
            evaluable = np.stack([(s.n_treated >= least) & ((s.n_control >= least) if two_arms else True)
                                  for s in stats], axis=1)
            if not identity:
                post = post[np.arange(m)[:, None], order]
                evaluable = evaluable[np.arange(m)[:, None], order]
            crossing = active & evaluable & (post >= dec.threshold)
            futile = np.zeros_like(crossing)
            if dec.futility_below is not None:
                futile = active & evaluable & ~crossing & (post < dec.futility_below)
        futile &= ~is_final  # futility is judged at interims only
    reached = target_time <= cutoff
    # the first look that stops (else the final analysis): outcome, look (design order), month, and which
    # look's statistics to report -- one compiled pass over the rows
    decision = np.empty(m, dtype=np.int8)
    look_index = np.empty(m, dtype=np.int16)
    dec_time = np.empty(m)
    sel = np.empty(m, dtype=np.int64)
    codes = np.array([CONFIRMED, FUTILITY, NOT_CONFIRMED, UNDECIDED], dtype=np.int8)
    first_decision(crossing, futile, is_final, np.asarray(times, dtype=np.float64), np.asarray(final, dtype=np.float64),
                   np.asarray(order, dtype=np.int64), np.asarray(reached), len(pm.analyses), codes, decision,
                   look_index, dec_time, sel)
    picked = np.empty((4, m))  # each row's statistics at its deciding look, in one compiled pass
    pick_rows(columns("estimate", "n_treated", "n_control", "events"), sel, picked)
    return {
        "decision": decision,
        "look": look_index,
        "month": dec_time,
        "target_reached": reached,
        "estimate": picked[0],
        "evaluable_t": picked[1],
        "evaluable_c": picked[2],
        "events": picked[3],
        "true_effect": looks.true_effect,
    }


def stop_screen(design: Design) -> tuple[np.ndarray, np.ndarray] | None:
    """The planned events and the screening bounds of :class:`~condapprove.simulation.statistics.StopScreen` for a
    randomised time-to-event trial (a concurrent control) whose every analysis waits for a number of events and
    whose rule is group-sequential without futility (None for any other design): :func:`screen_bounds` of the
    events planned at each look, the target events last."""
    pm = design.post_marketing
    if (not isinstance(pm.control, ConcurrentControl) or pm.target_events is None or not pm.analyses
            or any(look.events is None for look in pm.analyses)):
        return None
    # (the design's checks make the events at least 1, increasing, and below the target)
    events = np.array([*(look.events for look in pm.analyses), pm.target_events], dtype=np.int64)
    bounds = screen_bounds(design, events.astype(np.float64))
    return None if bounds is None else (events, bounds)


def screen_bounds(design: Design, information: np.ndarray) -> np.ndarray | None:
    """For a design whose rule is group-sequential without futility (None for any other): the efficacy bounds
    :func:`decide` computes for a row whose looks all happen with the planned ``information`` (L,: increasing,
    the final analysis last), plus :data:`SCREEN_MARGIN`, and inf at the final analysis.  A row whose z reaches
    the bound of look ``j`` (its information up to there the planned, as a Lan-DeMets bound depends only on the
    information at its look and before) stops at look ``j`` or before: its later looks are never read."""
    dec = design.post_marketing.decision
    if (not isinstance(dec, GroupSequentialDecision) or dec.futility_conditional_power_below is not None
            or dec.futility_z_below is not None):
        return None
    bounds = _bounds_by_pattern(design, dec, information[None, :], final=True)[0]
    return np.append(bounds[:-1] + SCREEN_MARGIN, np.inf)


def screen_rows(times: np.ndarray, target_time: np.ndarray, cutoff: float) -> np.ndarray:
    """The rows a screen may leave out of their later looks (:func:`screen_bounds`): those whose every look happens,
    the target reached by the ``cutoff`` and each interim before the final analysis (``times`` (m, L) in design order,
    the final analysis last, inf for a look that does not happen), so that each look has its planned information."""
    out = np.empty(times.shape[0], dtype=bool)
    screen_eligible(np.asarray(times, dtype=np.float64), np.asarray(target_time, dtype=np.float64), float(cutoff), out)
    return out


def _group_sequential_bounds(design: Design, dec: GroupSequentialDecision, info: np.ndarray, active: np.ndarray,
                             is_final: np.ndarray, same: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Efficacy bounds at each (time-ordered) look for the information observed ((m, L), or (1, L) when every row has
    the same), and each row's final bound.

    Rows share few distinct information patterns (none, with a sufficient-statistics design that reaches its
    targets), so the bounds are computed once per distinct row.  When the final analysis adds nothing to the
    last interim (no patient or event between them), the interims keep their bounds and the final analysis,
    on the same data, spends the remaining alpha at the last interim's information.  ``same``: whether
    :func:`._decide_jit.one_pattern` holds, when the caller knows (:func:`._decide_jit.looks_in_order` finds it in
    its pass); None: found here.
    """
    m, n_looks = info.shape
    # usual with fixed sample sizes: every look counts, in order, with one information pattern for all rows,
    # and the final analysis adds information
    if (n_looks > 1 and m > 0 and (one_pattern(info, active, is_final) if same is None else same)
            and info[0, -1] * KEEP > info[0, :-1].max()):
        one = _bounds_by_pattern(design, dec, np.maximum(info[:1], 1e-12), final=True)
        return one, np.full(m, one[0, -1])  # (1, L): broadcast along the rows
    # each row's counting looks at its front (NaN after them), and whether its final analysis adds nothing to them
    stale, info_c = np.empty(m, dtype=bool), np.empty((m, n_looks))
    pos = np.empty((m, n_looks), dtype=np.int64)
    compact_looks(info, active, is_final, stale, info_c, pos)
    if not stale.any() and bool(active.all()):  # every look counts, in order (the final is the last)
        bounds_all = _bounds_by_pattern(design, dec, info_c, final=True)
        return bounds_all, bounds_all[:, -1]
    bounds_c = _bounds_by_pattern(design, dec, info_c, final=True)
    last = np.empty(m)  # the final look's bound: each row's last counting look's
    last_bounds(bounds_c, last)
    if stale.any():
        bounds_c[stale] = _bounds_by_pattern(design, dec, info_c[stale], final=False)
    bounds = np.empty((m, n_looks))
    spread_bounds(bounds_c, pos, is_final, stale, last, bounds)
    return bounds, last


def _bounds_by_pattern(design: Design, dec: GroupSequentialDecision, info_c: np.ndarray, *, final: bool) -> np.ndarray:
    """:func:`~condapprove.boundaries.efficacy_bounds_batch`, computed once per distinct row and kept for the
    process's later calls (:data:`_BOUNDS_CACHE`)."""
    setting = (*per_object("spending setting", dec, lambda: (dec.alpha, str(dec.spending), dec.parameter)),
               per_object("max information", design, lambda: max_information(design)), final, info_c.shape[1])

    def compute(rows: np.ndarray) -> np.ndarray:
        from ..boundaries import efficacy_bounds_batch  # (only for bounds not yet computed)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return efficacy_bounds_batch(rows, dec.alpha, dec.spending, dec.parameter, max_information=setting[3],
                                         final=final)

    return _BOUNDS_CACHE(setting, info_c, compute)  # (a new array: callers may write to the bounds)


#: Bounds already computed, by decision setting (its spending, the maximum information, whether the last look is the
#: final analysis, the number of looks) and information row: chunks and scenarios share their few patterns.
_BOUNDS_CACHE = RowValues()


