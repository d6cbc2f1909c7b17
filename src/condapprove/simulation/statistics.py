"""Test statistics, p-values and posterior probabilities at one analysis, for a block of replicates.

Conventions: every statistic is oriented so that large values favour the treatment; a t
statistic (continuous endpoints, sample SD) enters the group-sequential comparison as the z with
the same one-sided p-value (as rpact's ``normalApproximation = FALSE``); the
"information" of a look is the number of evaluable patients (one arm against a benchmark),
``n_t n_c / (n_t + n_c)`` (two arms), or the number of events (time to event), so that
information fractions are ratios of these.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from .._dist import beta_quantile, log_beta_ratio, t_sf
from ..endpoints import BinaryOutcome, binary_pvalues_unchecked
from ..kernels._normal_jit import hermite, one_sample_t, pooled_t
from ..kernels._tte_jit import (
    kth_ordered,
    look_keys,
    look_keys32,
    look_keys32_by_width,
    look_results,
    order_keys,
    patient_columns,
    screen_stops,
    two_arm_columns,
    walk_by_width,
    walk_unsure,
)
from ..kernels.rowsort import SORT_NETWORK_KEYS, sort_rows
from ..kernels.survival import (
    hazard_ratio_estimate,
    logrank_batch,
    logrank_sums,
    observe_at,
    one_sample_logrank_batch,
)
from ..priors import Beta, Normal
from ..spec.schema import BayesianDecision, BenchmarkControl, Design, TimeToEventEndpoint
from ._counts_jit import add_cell_moments, add_cells, count_at_most, distinct_rows, kth_binned
from .population import ArmData

__all__ = ["LookStats", "Looks", "RowValues", "StopScreen", "fisher_by_table", "fixed_pvalue", "look_statistics",
           "max_information", "posterior_probability", "statistics_from_sums", "unique_rows"]


@dataclass(frozen=True, slots=True)
class LookStats:
    """Per-replicate statistics at one look (arrays of shape (m,))."""

    z: np.ndarray
    information: np.ndarray
    estimate: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    events: np.ndarray
    sum_t: np.ndarray
    sum_c: np.ndarray
    ss_t: np.ndarray
    ss_c: np.ndarray


@dataclass(frozen=True, slots=True)
class Looks:
    """What the decision rule needs of a block (or chunk) of replicates.

    ``times`` (m, L): calendar months of the interim looks (inf: no such look, or on or after the
    final analysis) and, last, of the final analysis; ``final`` (m,) the final analysis's month
    (targets reached, or the cut-off); ``target_time`` (m,) the month every target is reached (inf:
    never); ``stats`` the statistics at each of the L looks; ``true_effect`` (m,).
    """

    times: np.ndarray
    final: np.ndarray
    target_time: np.ndarray
    stats: list[LookStats]
    true_effect: np.ndarray


def _two_arm_info(nt: np.ndarray, nc: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((nt > 0) & (nc > 0), nt * nc / np.maximum(nt + nc, 1), 0.0)


def max_information(design: Design) -> float:
    """The information at the planned final analysis (targets reached)."""
    pm = design.post_marketing
    if isinstance(pm.endpoint, TimeToEventEndpoint):
        assert pm.target_events is not None
        return float(pm.target_events)
    nt = pm.treated.target_n
    if isinstance(pm.control, BenchmarkControl):
        return float(nt)
    nc = pm.control_target_n
    return nt * nc / (nt + nc)


def _sums(d: ArmData, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, sum and sum of squares of the outcomes ready by ``tau``.

    Patients are in entry order and share one follow-up, so the ready ones are a prefix of each
    row: the sums are read off cumulative sums computed once per arm (cached on the arm's data), at
    the number of outcomes ready, counted in one compiled pass (:func:`._counts_jit.count_at_most`:
    down the patient-major rows in memory order, without the (m, n) mask numpy's count made).
    """
    count = np.empty(tau.size, dtype=np.int64)
    count_at_most(d.ready, tau, count)
    cs, css = d.cumulative()
    rows = np.arange(count.size)
    last = np.maximum(count - 1, 0)
    s = np.where(count > 0, cs[rows, last], 0.0)
    ss = np.where(count > 0, css[rows, last], 0.0)
    return count.astype(np.float64), s, ss


def look_statistics(design: Design, data: list[ArmData], tau: np.ndarray) -> LookStats:
    """Statistics of every replicate at calendar months ``tau`` (shape (m,))."""
    pm = design.post_marketing
    ep = pm.endpoint
    m = tau.size
    zeros = np.zeros(m)
    if isinstance(ep, TimeToEventEndpoint):
        return _tte_statistics(design, data, tau)
    nt, st, sst = _sums(data[0], tau)
    if len(data) == 1:
        nc, sc, ssc = zeros, zeros, zeros
    else:
        nc, sc, ssc = _sums(data[1], tau)
    conf = getattr(pm.control, "confounding", None)
    if conf is not None and conf.adjustment == "propensity_weighting":
        z, est = _weighted(data, data[0].ready <= tau[:, None], data[1].ready <= tau[:, None],
                           ep.type == "binary")
        return LookStats(z=z, information=_two_arm_info(nt, nc), estimate=est, n_treated=nt, n_control=nc,
                         events=zeros, sum_t=st, sum_c=sc, ss_t=sst, ss_c=ssc)
    return statistics_from_sums(design, nt, st, sst, nc if len(data) > 1 else None, sc, ssc)


def statistics_from_sums(design: Design, nt: np.ndarray, st: np.ndarray, sst: np.ndarray, nc: np.ndarray | None,
                         sc: np.ndarray, ssc: np.ndarray) -> LookStats:
    """Statistics of a binary or continuous look from each arm's count, sum and sum of squares.

    ``nc`` is None for one arm against a benchmark.  These are sufficient for every unadjusted test of
    the engine, so the patient-level and the sufficient-statistics simulations share this function.
    """
    pm = design.post_marketing
    ep = pm.endpoint
    zeros = np.zeros(nt.size)
    if ep.type == "continuous":  # the t statistic (one compiled pass, the columns read in place), on the z scale
        t, est = np.empty(nt.size), np.empty(nt.size)
        if nc is None:  # one arm against a benchmark mean
            mu0 = pm.control.mean  # type: ignore[union-attr]
            assert mu0 is not None
            df = one_sample_t(*(np.asarray(a, dtype=np.float64) for a in (nt, st, sst)), float(mu0), t, est)
            z = _t_to_z(t, np.maximum(nt - 1, 1)) if math.isnan(df) else _t_interpolated(t, df)
            return LookStats(z=z, information=np.asarray(nt, dtype=np.float64),
                             estimate=est, n_treated=nt, n_control=zeros, events=zeros, sum_t=st, sum_c=sc, ss_t=sst,
                             ss_c=ssc)
        info = np.empty(nt.size)
        df = pooled_t(*(np.asarray(a, dtype=np.float64) for a in (nt, st, sst, nc, sc, ssc)), t, est, info)
        # (one df for every row, the usual case: _t_to_z's own first path, without making the rows' df)
        z = _t_to_z(t, np.maximum(nt + nc - 2, 1)) if math.isnan(df) else _t_interpolated(t, df)
        return LookStats(z=z, information=info, estimate=est, n_treated=nt,
                         n_control=nc, events=zeros, sum_t=st, sum_c=sc, ss_t=sst, ss_c=ssc)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = np.where(nt > 0, st / np.maximum(nt, 1), np.nan)
    if nc is None:  # binary, one arm against a benchmark rate
        p0 = pm.control.rate  # type: ignore[union-attr]
        assert p0 is not None
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(nt > 0, (st - nt * p0) / np.sqrt(np.maximum(nt, 1) * p0 * (1 - p0)), 0.0)
        est, info, nc = mean_t - p0, nt, zeros
    else:  # binary, two arms
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_c = np.where(nc > 0, sc / np.maximum(nc, 1), np.nan)
        pbar = (st + sc) / np.maximum(nt + nc, 1)
        var = pbar * (1 - pbar) * (1 / np.maximum(nt, 1) + 1 / np.maximum(nc, 1))
        ok = (nt > 0) & (nc > 0) & (var > 0)
        z = np.where(ok, (np.nan_to_num(mean_t) - np.nan_to_num(mean_c)) / np.sqrt(np.where(ok, var, 1.0)), 0.0)
        est, info = mean_t - mean_c, _two_arm_info(nt, nc)
    return LookStats(z=z, information=np.asarray(info, dtype=np.float64), estimate=est, n_treated=nt,
                     n_control=nc, events=zeros, sum_t=st, sum_c=sc, ss_t=sst, ss_c=ssc)


def _t_to_z_exact(t: np.ndarray, df: np.ndarray | float) -> np.ndarray:
    """Through the smaller tail, so both signs are accurate."""
    a = np.abs(t)
    return np.asarray(-np.sign(t) * special.ndtri(np.clip(special.stdtr(df, -a), 1e-300, 0.5)))


#: Grid step and half-width (in t) of the interpolated transform; its tables, by df (cleared when full).  The steps
#: here are powers of two (:func:`~condapprove.kernels._normal_jit.hermite` multiplies by their inverse).
_T_STEP, _T_HALF, _T_MAX_TABLES = 1.0 / 64.0, 8.0, 2048
_T_GRID = np.arange(-_T_HALF, _T_HALF + _T_STEP / 2, _T_STEP)
_T_TABLES: dict[float, tuple[np.ndarray, np.ndarray]] = {}
#: The same for the outer table, made for a df only when some |t| is beyond ``_T_HALF``: a coarser grid over
#: |t| < 32 (z(t) is smoother there: within 1.1e-10 of the exact transform for df from 1 to 1e7 in a one-off
#: check, within 1e-9 in the tests), where the t's of a large or very effective trial's later looks fall.  Below
#: 32 the exact transform is never clipped (a t tail beyond 32 is above the normal one, far above 1e-300), so
#: z(t) is smooth on the grid.
_T_OUTER_STEP, _T_OUTER_HALF = 1.0 / 16.0, 32.0
_T_OUTER_GRID = np.arange(-_T_OUTER_HALF, _T_OUTER_HALF + _T_OUTER_STEP / 2, _T_OUTER_STEP)
_T_OUTER_TABLES: dict[float, tuple[np.ndarray, np.ndarray]] = {}


def _t_table(df: float, outer: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """z and dz/dt on the grid for ``df`` degrees of freedom (dz/dt = t density / normal density at z); ``outer``:
    on the outer table's grid."""
    tables, grid = (_T_OUTER_TABLES, _T_OUTER_GRID) if outer else (_T_TABLES, _T_GRID)
    got = tables.get(df)
    if got is None:
        z = _t_to_z_exact(grid, df)
        dens_t = np.exp(special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
                        - (df + 1) / 2 * np.log1p(grid**2 / df))
        dens_z = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        got = (z, dens_t / dens_z)
        if len(tables) >= _T_MAX_TABLES:
            tables.clear()  # (clear, not evict one: atomic, so safe when threads share the cache)
        tables[df] = got
    return got


def _t_interpolated(t: np.ndarray, df: float) -> np.ndarray:
    """:func:`_t_to_z` for one df (at least 1): cubic Hermite interpolation inside |t| < 8, on the outer table's
    coarser grid inside |t| < 32, the exact transform outside (one compiled pass for each of the first two, the
    second over the rows the first left, in place)."""
    t = np.ascontiguousarray(t, dtype=np.float64).reshape(-1)
    out, inside = np.empty(t.size), np.empty(t.size, dtype=bool)
    if (hermite(t, _T_HALF, _T_STEP, *_t_table(df), out, inside, True)
            and hermite(t, _T_OUTER_HALF, _T_OUTER_STEP, *_t_table(df, outer=True), out, inside, False)):
        rest = np.flatnonzero(~inside)
        out[rest] = _t_to_z_exact(t[rest], df)
    return out


def _t_to_z(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """The z with the same one-sided p-value as ``t`` on ``df`` degrees of freedom (exact size at a fixed look).

    :math:`z = \\Phi^{-1}(F_{df}(t))`, for rows with ``df >= 1`` by cubic Hermite interpolation of exact values
    and derivatives on a grid of step 1/64 over |t| < 8 and of step 1/16 over |t| < 32 (absolute error below
    1e-9, checked in the tests; one table per df and grid, computed once and kept), through the incomplete beta
    function directly elsewhere (|t| >= 32, or df < 1).  Which way a row takes depends on its own t and df alone,
    so a replicate's z does not depend on the other rows of its chunk (nor on how the replicates are cut into
    chunks).
    """
    t = np.asarray(t, dtype=np.float64)
    df = np.broadcast_to(np.asarray(df, dtype=np.float64), t.shape)
    if t.size == 0:
        return np.empty(t.shape)
    lo, hi = float(df.min()), float(df.max())
    if lo == hi and lo >= 1.0:  # the usual case: one df for every row
        return _t_interpolated(t, lo).reshape(t.shape)
    out = np.empty(t.shape)
    tabulated = df >= 1.0
    if not tabulated.all():
        out[~tabulated] = _t_to_z_exact(t[~tabulated], df[~tabulated])
    rows = np.flatnonzero(tabulated.ravel())
    values, which = np.unique(df.ravel()[rows], return_inverse=True)
    order = np.argsort(which, kind="stable")  # the rows of each df, together
    edges = np.searchsorted(which[order], np.arange(values.size + 1))
    flat = out.reshape(-1)
    for v, a, b in zip(values, edges[:-1], edges[1:]):
        sel = rows[order[a:b]]
        flat[sel] = _t_interpolated(t.ravel()[sel], float(v))
    return out


def _var(n: np.ndarray, s: np.ndarray, ss: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        v = (ss - s * s / np.maximum(n, 1)) / np.maximum(n - 1, 1)
    return np.where(n > 1, np.maximum(v, 0.0), 0.0)


def _weighted(data: list[ArmData], mt: np.ndarray, mc: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    """The propensity-weighted comparison (ATT, stabilised weights, HC0) of the patients seen at the look (``mt``,
    ``mc``) of a binary (``binary``) or continuous outcome: its z statistic (0 where undefined) and estimate (NaN
    there)."""
    from ..kernels.propensity import (
        att_difference_from_cells,
        att_difference_from_moments,
        groupable_shape,
        logistic_fit_batch,
        ps_weights_batch,
        weighted_difference_batch,
    )

    assert data[0].x is not None and data[1].x is not None
    m, p = mt.shape[0], data[0].x.shape[2]
    groupable = groupable_shape(p, mt.shape[1] + mc.shape[1])
    got: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if groupable and binary:
            # binary covariates and outcome (the usual case): from counts of the cells, counted arm by arm in
            # compiled passes (kernels.propensity.att_difference_over_cells's counts and comparison, without joining
            # the arms)
            counts = np.zeros((m, 2 ** (p + 2)))
            if add_cells(data[0].x, data[0].y, mt, True, counts) and add_cells(data[1].x, data[1].y, mc, False, counts):
                got = att_difference_from_cells(counts, p)
        elif groupable:  # binary covariates, any outcome: each cell's number, mean and squared deviations
            n, mean, m2 = np.zeros((m, 2 ** (p + 1))), np.zeros((m, 2 ** (p + 1))), np.zeros((m, 2 ** (p + 1)))
            lo, hi = np.full((m, 2), np.inf), np.full((m, 2), -np.inf)
            if (add_cell_moments(data[0].x, data[0].y, mt, True, n, mean, m2, lo[:, 1], hi[:, 1])
                    and add_cell_moments(data[1].x, data[1].y, mc, False, n, mean, m2, lo[:, 0], hi[:, 0])):
                got = att_difference_from_moments(n, mean, m2, lo, hi, p)
        if got is None:  # patient by patient, the two arms joined
            t = np.concatenate([np.ones_like(mt, dtype=bool), np.zeros_like(mc, dtype=bool)], axis=1)
            valid = np.concatenate([mt, mc], axis=1)
            y = np.where(valid, np.concatenate([data[0].y, data[1].y], axis=1), 0.0)
            x = np.where(valid[:, :, None], np.concatenate([data[0].x, data[1].x], axis=1), 0.0)
            fit = logistic_fit_batch(x, t, valid)
            w = ps_weights_batch(fit.ps, t, valid, estimand="ATT", stabilized=True)
            diff = weighted_difference_batch(y, t, w.weights, valid, se_type="HC0")
            got = diff.estimate, diff.statistic, diff.defined
    estimate, z, defined = got
    ok = np.asarray(defined) & np.isfinite(z)
    return np.where(ok, z, 0.0), np.where(ok, estimate, np.nan)


def _tte_statistics(design: Design, data: list[ArmData], tau: np.ndarray) -> LookStats:
    pm = design.post_marketing
    ep = pm.endpoint
    assert isinstance(ep, TimeToEventEndpoint)
    # an external cohort is historical: fully observed (censored only by its own dropout), not by the cut-off
    obs = [observe_at(d.entry, *d.event_times(), tau if d.arm.process is not None else np.full_like(tau, 1e12))
           for d in data]
    nt = obs[0].valid.sum(axis=1).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(data) == 1:
            res = one_sample_logrank_batch(obs[0].time, obs[0].event, obs[0].valid, ep.baseline.build(), method="wu")
            z = np.asarray(res.z, dtype=np.float64)
            events = np.asarray(res.observed, dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                est = np.where((events > 0) & (res.expected > 0), np.log(events / res.expected), np.nan)
            nc = np.zeros_like(nt)
        else:
            time = np.concatenate([obs[0].time, obs[1].time], axis=1)
            event = np.concatenate([obs[0].event, obs[1].event], axis=1)
            valid = np.concatenate([obs[0].valid, obs[1].valid], axis=1)
            treated = np.zeros(valid.shape, dtype=bool)
            treated[:, : obs[0].valid.shape[1]] = True
            lr = logrank_batch(time, event, treated, valid)
            z = np.asarray(lr.z, dtype=np.float64)
            events = np.asarray(lr.events, dtype=np.float64)
            hr = hazard_ratio_estimate(lr)
            est = np.where(np.asarray(hr.degenerate), np.nan, np.asarray(hr.log_hazard_ratio, dtype=np.float64))
            nc = obs[1].valid.sum(axis=1).astype(np.float64)
    zeros = np.zeros_like(nt)
    # information: the events of the recruited arms (an external cohort's events are historical and fixed;
    # target_events and event-driven looks count recruited events too, so the fractions are consistent)
    recruited = [o for o, d in zip(obs, data) if d.arm.process is not None]
    info = sum(np.count_nonzero(np.asarray(o.event, dtype=bool) & np.asarray(o.valid, dtype=bool), axis=1)
               for o in recruited)
    return LookStats(z=np.where(np.isfinite(z), z, 0.0), information=np.asarray(info, dtype=np.float64),
                     estimate=est, n_treated=nt,
                     n_control=nc, events=events, sum_t=zeros, sum_c=zeros, ss_t=zeros, ss_c=zeros)


#: Rows of a block handled together in the time-to-event statistics: (512 x patients) arrays stay in the caches
#: (512 rather than 256 rows: half the calls per look, 0.97-1.00 of a survival run's time; docs/performance.md, item 113).
_TTE_ROWS = 512
#: The two-arm log-rank's tiles of rows grow from :data:`_TTE_ROWS` to :data:`_TILE_ROWS_MAX` while they hold at
#: most this many patients (:func:`_tile_rows`): where a row has few patients, each look of a tile costs more in
#: the calls and the steps between its compiled loops than in their work.  (Measured on the two-arm log-rank only:
#: the one-sample log-rank against a baseline keeps tiles of :data:`_TTE_ROWS`.)
_TILE_KEYS = 1 << 18
_TILE_ROWS_MAX = 2048
#: The multiplier argument of the columns' pass for times already scaled (not read).
_NO_MULT = np.ones(0)


@dataclass(frozen=True, slots=True)
class StopScreen:
    """Which rows of a randomised trial's event-driven group-sequential design have certainly stopped, so that
    :func:`tte_look_statistics` need not analyse their later looks (the draws are all made before the looks, so
    the random numbers, and every result, are the same as with every look analysed).

    A row is found stopped after look ``j`` when it is ``eligible`` (every look happens: the target events are
    reached by the cut-off, each interim before the final analysis), its events at looks ``0..j`` were exactly
    the ``events`` planned (so its information, and so its efficacy bounds up to look ``j``, are those of the
    planned pattern: a Lan-DeMets bound depends only on the information at its look and before) and its z at look
    ``j`` is at least ``bound[j]`` (the planned pattern's bound plus a margin that covers the last bits of the
    bounds' computation): the decision then stops it at look ``j`` or before, and reads nothing of its later
    looks.  Built by :func:`condapprove.simulation.decision.stop_screen` for designs without futility rules.

    ``events``, ``bound``: (looks,), the final analysis last (its bound is not used); ``eligible``: (rows,) bool.
    """

    events: np.ndarray
    bound: np.ndarray
    eligible: np.ndarray


@dataclass(frozen=True, slots=True)
class TtePatients:
    """The look-independent part of the time-to-event data of a block, every arm side by side.

    ``entry`` (m, n): entry month (-1e12 for a historical cohort, which no look cuts); ``first``: time from
    entry to the first of event and dropout (inf: neither) and ``is_event``: that first is the event (both
    empty, shape (0, 0), unless needed: one arm against a baseline);
    ``first_key``: its log-rank sort key (see :func:`~condapprove.kernels.survival.logrank_keys`; the padding
    if neither ever happens); ``calendar`` (m, recruited patients): the calendar months of the recruited
    patients' events (inf: censored by dropout, or no event; a historical cohort, which comes after the recruited
    arms, has no columns there), and ``order`` their narrow order keys, each row sorted
    (:func:`~condapprove.kernels._tte_jit.order_key`, the column in the ``index_bits`` lowest bits): the look
    that waits for the k-th event happens at :meth:`kth_event` ``(k)``; ``n_t``: the treated arm's columns (the
    first); ``recruited`` (n,): columns of recruited arms; ``kth``: the k-th events' months already found, by
    ``k``.  Rows of more than :data:`~condapprove.kernels.rowsort.SORT_NETWORK_KEYS` recruited patients are not
    sorted (``order`` is then empty, (m, 0)): their k-th events are selected from the months
    (:func:`._counts_jit.kth_binned`), for the ranks given to :meth:`of` all at once.
    """

    entry: np.ndarray
    first: np.ndarray
    is_event: np.ndarray
    first_key: np.ndarray
    calendar: np.ndarray
    order: np.ndarray
    index_bits: int
    n_t: int
    recruited: np.ndarray
    kth: dict[int, np.ndarray]

    def kth_event(self, k: int) -> np.ndarray:
        """The calendar month of each row's ``k``-th event (inf if it has fewer): ``np.sort(calendar, axis=1)[:,
        k - 1]``, from the sorted order keys (:func:`~condapprove.kernels._tte_jit.kth_ordered`) or, for long rows,
        found by :meth:`of` or selected now (:func:`._counts_jit.kth_binned`)."""
        if k in self.kth:
            return self.kth[k]
        m, n_cal = self.calendar.shape
        out = np.empty(m)
        if self.order.shape[1] == n_cal:
            kth_ordered(self.calendar, self.order, self.index_bits, k, out)
        else:
            kth_binned(self.calendar, np.array([k], dtype=np.int64), out[:, None])
        return out

    @staticmethod
    def of(data: list[ArmData], full: bool | None = None, ranks: Sequence[int] = ()) -> TtePatients:
        """The columns of every arm, in one compiled pass per arm (both arms of a randomised trial in one);
        ``full``: also ``first`` and ``is_event`` (default: when the statistics need them); ``ranks``: the ``k``
        (each at least 1) of the k-th events that :meth:`kth_event` will be asked for (found here at once for long
        rows; any other ``k`` still works)."""
        if full is None:
            full = len(data) == 1
        m = data[0].y.shape[0]
        n = sum(d.y.shape[1] for d in data)
        recruited = [d.arm.process is not None for d in data]
        assert recruited[0] and recruited == sorted(recruited, reverse=True), "the recruited arms come first"
        # the calendar and its order only over the recruited arms' columns: a historical cohort's events are not
        # counted (sorting its padding made up most of a row's sort with 200 historical patients beside 60)
        n_cal = sum(d.y.shape[1] for d, r in zip(data, recruited) if r)
        entry, calendar = np.empty((m, n)), np.empty((m, n_cal))
        index_bits = max(1, (n_cal - 1).bit_length())
        first = np.empty((m, n) if full else (0, 0))
        is_event = np.empty((m, n) if full else (0, 0), dtype=bool)
        first_key = np.empty((m, n), dtype=np.uint64)
        drops = [d.dropout_time if d.dropout_time is not None else np.empty((0, 0)) for d in data]
        # standard exponential draws to scale on the way (ArmData.scale), or the times
        scales = [(True, d.scale.y_mult, d.scale.y_rate, d.scale.dropout_rate) if d.scale is not None
                  else (False, _NO_MULT, 1.0, 1.0) for d in data]
        if (len(data) == 2 and not full and all(d.arm.process is not None for d in data)
                and (data[0].dropout_time is None) == (data[1].dropout_time is None)):
            # a randomised trial: both arms in one pass, each output row written whole
            two_arm_columns(data[0].entry, data[0].y, drops[0], data[1].entry, data[1].y, drops[1],
                            data[0].dropout_time is not None, entry, first_key, calendar, *scales[0], *scales[1])
        else:
            col = 0
            for i, (d, drop) in enumerate(zip(data, drops)):
                patient_columns(d.entry, d.y, drop, d.dropout_time is not None, d.arm.process is not None, i == 0,
                                col, full, entry, first, is_event, first_key, calendar, *scales[i])
                col += d.y.shape[1]
        kth: dict[int, np.ndarray] = {}
        if n_cal <= SORT_NETWORK_KEYS:
            order = np.empty((m, n_cal), dtype=np.uint32)
            order_keys(calendar, index_bits, order)  # narrow keys that carry their column: half the bytes to sort
            order.sort(axis=1)
        else:  # numpy's sort of longer rows costs several times as much a key: select the ranks asked for
            order = np.empty((m, 0), dtype=np.uint32)
            ks = np.array(sorted(set(ranks)), dtype=np.int64)
            found = np.empty((m, ks.size))
            kth_binned(calendar, ks, found)
            kth = {int(k): found[:, t] for t, k in enumerate(ks)}
        return TtePatients(entry, first, is_event, first_key, calendar, order, index_bits, data[0].entry.shape[1],
                           _recruited_columns(tuple((d.y.shape[1], r) for d, r in zip(data, recruited))), kth)


@functools.lru_cache(maxsize=64)
def _recruited_columns(arms: tuple[tuple[int, bool], ...]) -> np.ndarray:
    """Whether each column is a recruited arm's, for arms of (columns, recruited): read only, made once per layout
    instead of at every block."""
    out = np.concatenate([np.full(n, r) for n, r in arms])
    out.setflags(write=False)
    return out


def tte_look_statistics(design: Design, data: list[ArmData], taus: list[np.ndarray],
                        patients: TtePatients | None = None, screen: StopScreen | None = None) -> list[LookStats]:
    """Time-to-event statistics at several looks (calendar months ``taus``), sharing the work that does not
    depend on the look: each patient's time to the first of event and dropout, and whether it is the event.

    The same statistics as :func:`look_statistics` (which it replaces for time to event in the engine):
    the two-arm log-rank (and Peto log hazard ratio), or the one-sample log-rank against the baseline.
    Rows are processed :data:`_TTE_ROWS` at a time so the temporaries stay in cache.  With ``screen`` (a
    randomised trial's two-arm log-rank only), a row that has certainly stopped at a look is not analysed at the
    later ones (:class:`StopScreen`: the decision reads none of their statistics there).
    """
    pm = design.post_marketing
    ep = pm.endpoint
    assert isinstance(ep, TimeToEventEndpoint)
    p = TtePatients.of(data) if patients is None else patients
    baseline = ep.baseline.build() if len(data) == 1 else None
    cols = _tte_rows(p.entry, p.first, p.is_event, p.first_key, p.n_t, p.recruited, taus, baseline, screen)
    zeros = np.zeros(p.entry.shape[0])
    return [LookStats(z=cols["z"][j], information=cols["information"][j], estimate=cols["estimate"][j],
                      n_treated=cols["n_treated"][j], n_control=cols["n_control"][j], events=cols["events"][j],
                      sum_t=zeros, sum_c=zeros, ss_t=zeros, ss_c=zeros) for j in range(len(taus))]


def _tte_rows(entry: np.ndarray, first: np.ndarray, is_event: np.ndarray, first_key: np.ndarray, n_t: int,
              recruited: np.ndarray, taus: list[np.ndarray], baseline: Any,
              screen: StopScreen | None = None) -> dict[str, np.ndarray]:
    """:func:`tte_look_statistics` from the patients' columns; arrays of shape (looks, rows)."""
    if baseline is not None:
        assert screen is None  # (a randomised trial's only: decision.stop_screen)
        m = entry.shape[0]
        cols = {f: np.empty((len(taus), m)) for f in _TTE_FIELDS}
        for lo in range(0, m, _TTE_ROWS):
            rows = slice(lo, min(m, lo + _TTE_ROWS))
            part = _one_sample_rows(entry[rows], first[rows], is_event[rows], n_t, recruited,
                                    [t[rows] for t in taus], baseline)
            for f in _TTE_FIELDS:
                cols[f][:, rows] = part[f]
        return cols
    return _two_arm_rows(entry, first_key, n_t, recruited, taus, screen)


_TTE_FIELDS = ("z", "information", "estimate", "n_treated", "n_control", "events")


def _tile_rows(n: int) -> int:
    """The rows of a tile of the two-arm log-rank for rows of ``n`` patients: :data:`_TTE_ROWS` doubled while the
    tile holds at most :data:`_TILE_KEYS` patients, up to :data:`_TILE_ROWS_MAX`: 2,048 for 128 patients or fewer,
    1,024 for 129-256, 512 above.  Against tiles of 512, in two runs of 15 pairs: 0.948-0.958 of the time of a
    100-patient design, 0.972-0.983 of a 160-patient one, 0.980-0.998 of the survival case (240 patients); tiles of
    2,048 for every design took 1.017 of the time of a 600-patient one (docs/performance.md, item 120)."""
    rows = _TTE_ROWS
    while rows < _TILE_ROWS_MAX and 2 * rows * max(n, 1) <= _TILE_KEYS:
        rows *= 2
    return rows


def _two_arm_rows(entry: np.ndarray, first_key: np.ndarray, n_t: int, recruited: np.ndarray,
                  taus: list[np.ndarray], screen: StopScreen | None = None) -> dict[str, np.ndarray]:
    """The two-arm log-rank at each look.  The compiled steps (each look's keys, their sort and the walk) run
    :func:`_tile_rows` rows at a time, every look of those rows in turn while their columns are in cache, and
    write the sums into arrays of all the rows; the statistics are then computed once per look.  With ``screen``,
    the rows of a tile that have certainly stopped are left out of its later looks (:class:`StopScreen`).

    The keys sorted are narrow (uint32: :func:`condapprove.kernels._tte_jit.look_keys32`), which numpy sorts about
    twice as fast as the wide ones, each row only as far as its patients entered by the look need
    (:class:`KeyBuffers`); a row where an event's time may have merged with another in them is analysed again from
    the wide keys (:func:`_wide_logrank`), so the numbers are the wide keys' in every row."""
    k, (m, n) = len(taus), entry.shape
    admin_code = _admin_codes(n, n_t)  # the code of an administrative censoring, by column
    taus = [np.ascontiguousarray(t) for t in taus]
    e1, var = np.empty((2, k, m))
    o1, events, nv, nt = np.empty((4, k, m), dtype=np.int64)
    tile = _tile_rows(n)
    keys = KeyBuffers.of(min(m, tile), n)
    narrow, n_unsure = True, 0
    # each look's rows by width while a tile still has rows that a narrower buffer holds (the looks' months grow, and
    # so do the patients entered); whole rows after (item 117's buffers cost up to 4% where no row is compacted)
    by_width = [keys.bounds.size > 1] * k
    all_recruited = bool(recruited.all())  # else a historical cohort, entered long before, is seen beyond the looks
    # (the information below counts the recruited patients' events: beside a historical cohort, the treated arm's)
    assert all_recruited or (bool(recruited[:n_t].all()) and not recruited[n_t:].any())
    if screen is not None:
        assert all_recruited and len(screen.events) == k  # (its information is the events of both arms)
        regular, alive = np.empty(min(m, tile), dtype=bool), np.empty(min(m, tile), dtype=bool)
    for lo in range(0, m, tile):
        rows = slice(lo, min(m, lo + tile))
        size = left = rows.stop - lo  # the tile's rows, and those still to analyse (not found stopped)
        if screen is not None:
            regular[:left] = True
            alive[:left] = True
        for j in range(k):
            # the key of the observed time min(first, c), c = tau - entry, is the smaller of the two keys (the
            # bit patterns of doubles >= 0 order like the numbers; at a tie the event's code is the smaller);
            # patients not yet entered get the padding.  Narrow keys first (half the bytes to sort); a row where
            # two times may have merged in them is analysed again with the wide keys: the same numbers
            if left < size:  # some rows stopped at an earlier look: only the others are analysed
                assert screen is not None
                idx, planned = np.flatnonzero(alive[:size]), int(screen.events[j])
            else:
                idx, planned = None, 0
            reported, compacted = _tile_look(lo, size, idx, j, entry, taus, first_key, n_t, admin_code,
                                             not all_recruited, narrow, by_width[j], keys, planned,
                                             (nv, nt, e1, var, o1, events))
            n_unsure += reported
            if compacted == 0:
                by_width[j:] = [False] * (k - j)
            if screen is not None and j < k - 1:
                left = screen_stops(e1[j, rows], var[j, rows], o1[j, rows], events[j, rows], int(screen.events[j]),
                                    float(screen.bound[j]), screen.eligible[rows], regular[:size],
                                    alive[:size])
        # where merged times are common (tied event times, say), the narrow keys cost more than they save
        narrow = n_unsure * _NARROW_GIVE_UP <= k * rows.stop
    out = dict(zip(_TTE_FIELDS, np.empty((len(_TTE_FIELDS), k, m))))
    # z (0 where degenerate or not finite), the Peto one-step estimate (O - E) / V, and the information: the
    # recruited patients' events; beside a historical cohort (whose events do not count) the only recruited arm is
    # the treated one, so its events as the log-rank counts them (O1).  One compiled pass over every look
    look_results(e1, var, o1, events, nv, nt, all_recruited, out["z"], out["information"], out["estimate"],
                 out["n_treated"], out["n_control"], out["events"])
    return out


@functools.lru_cache(maxsize=64)
def _admin_codes(n: int, n_t: int) -> np.ndarray:
    """The code of an administrative censoring in each of ``n`` columns, the first ``n_t`` treated: 3 treated, 2
    control (made once per layout instead of at every block, and shared: the compiled loops only read it, and a
    read-only array would be another type to compile them for)."""
    return np.uint64(2) | (np.arange(n) < n_t).astype(np.uint64)


class KeyBuffers:
    """The narrow keys of a tile's rows at a look, in buffers of rows of several widths
    (:func:`~condapprove.kernels._tte_jit.look_keys32_by_width`), each of up to ``rows`` rows: rows of 32, 64, 128,
    256 and 512 keys (the sizes of numpy's sorting networks) below ``n``, and the last of ``n`` keys.  No buffer lies
    between 512 keys and ``n``: numpy partitions such rows, at a cost that grows slowly with their length, and
    buffers of 640, 832, 1,088, ... keys gained a design of 1,000 patients 0.036 of its time but lost designs of
    1,200 and 1,500 patients 0.04 (docs/performance.md, item 117)."""

    #: The narrowest buffer's rows: numpy's sorting networks cost about the same for fewer keys.
    NARROWEST = 32

    def __init__(self, rows: int, n: int) -> None:
        widths, w = [], self.NARROWEST
        while w < n and w <= SORT_NETWORK_KEYS:
            widths.append(w)
            w *= 2
        self.bounds = np.array(widths + [n], dtype=np.int64)
        self.cap = rows
        self.starts = np.concatenate([[0], np.cumsum(self.bounds * rows)]).astype(np.int64)
        self.flat = np.empty(int(self.starts[-1]), dtype=np.uint32)
        self.dest = np.empty(self.bounds.size * rows, dtype=np.int64)
        self.counts = np.empty(self.bounds.size, dtype=np.int64)  # (look_keys32_by_width's, after clear())
        self.widest = np.empty(self.bounds.size, dtype=np.int64)
        self.unsure = np.empty(rows, dtype=np.int64)
        self.unsure_flags = np.empty(rows, dtype=bool)
        self._widths, self._starts = self.bounds.tolist(), self.starts.tolist()  # (Python integers for sort())

    #: Each thread's buffers by (rows, n, NARROWEST), reused by its later blocks: scratch memory, written before it
    #: is read.
    _kept = threading.local()

    @classmethod
    def of(cls, rows: int, n: int) -> KeyBuffers:
        """Buffers of ``rows`` rows of ``n`` keys for this thread, the ones it used last for that shape: made at a
        thread's first block of a shape, not at every block (6 us to make for 2,048 rows of 60 patients, and their
        0.7 MiB of new memory to fault in).  At most two shapes are kept a thread."""
        kept: dict[tuple[int, int, int], KeyBuffers] | None = getattr(cls._kept, "by_shape", None)
        if kept is None:
            kept = cls._kept.by_shape = {}
        shape = (rows, n, cls.NARROWEST)  # (the widths follow NARROWEST, which a test may change)
        got = kept.get(shape)
        if got is None:
            if len(kept) >= 2:
                kept.clear()
            got = kept[shape] = cls(rows, n)
        return got

    def whole_rows(self, rows: int) -> np.ndarray:
        """The last buffer's first ``rows`` rows, as a (rows, n) array: the keys of whole rows."""
        n, at = self._widths[-1], self._starts[-2]
        return self.flat[at:at + rows * n].reshape(rows, n)

    def clear(self) -> None:
        """No row in any buffer (before a look's :func:`~condapprove.kernels._tte_jit.look_keys32_by_width`)."""
        self.counts[:] = 0
        self.widest[:] = 0

    def sort(self) -> None:
        """Sort the keys of each buffer's rows (``counts``): the last buffer's whole, the others' only as far as their
        ``widest`` row's keys (the rest of every row is padding)."""
        last = len(self._widths) - 1
        for c, (w, at, cnt, s) in enumerate(zip(self._widths, self._starts, self.counts.tolist(), self.widest.tolist())):
            if cnt == 0:
                continue
            block = self.flat[at:at + cnt * w].reshape(cnt, w)
            if c == last:  # numpy's sort, or for long rows a split by value where that is faster
                sort_rows(block)
            elif s > 1:
                block[:, :s].sort(axis=1)


def _tile_look(lo: int, n: int, idx: np.ndarray | None, j: int, entry: np.ndarray, taus: list[np.ndarray],
               first_key: np.ndarray, n_t: int, admin_code: np.ndarray, beyond: bool, narrow: bool, by_width: bool,
               keys: KeyBuffers, planned: int, sums: tuple[np.ndarray, ...]) -> tuple[int, int | None]:
    """Look ``j`` of the ``n`` rows of the tile from row ``lo``, into ``sums`` (``n_valid, n_treated, e1, var, o1,
    events`` of shape (looks, rows)): every row when ``idx`` is None, else only the rows ``lo + idx`` (the others
    stopped at an earlier look: :class:`StopScreen`), which get the values of a row without patients and with the
    ``planned`` events (none of them read by the decision).  The keys are narrow: with ``by_width``, each row in the
    narrowest buffer of ``keys`` that holds its patients entered by the look
    (:func:`~condapprove.kernels._tte_jit.look_keys32_by_width`), each buffer sorted as far as its widest row and
    walked, the sums written in place; else whole rows (:func:`~condapprove.kernels._tte_jit.look_keys32`, the
    sums written in place for a whole tile).  A row where two times may have merged is analysed again from the wide
    keys.  With ``narrow`` False, the wide keys only.  Returns the number of rows analysed from the wide keys after
    the narrow ones, and how many rows went to a buffer narrower than whole rows (None without ``by_width``)."""
    tile = slice(lo, lo + n)
    if idx is not None:
        for whole, value in zip(sums, (0, 0, 0.0, 0.0, 0, planned)):
            whole[j, tile] = value
    sub = np.arange(lo, lo + n) if idx is None else lo + idx
    if not narrow:
        _wide_logrank(sub, j, entry, taus, first_key, admin_code, sums)
        return 0, None
    if not by_width:
        return _whole_rows_look(tile, idx, sub, j, entry, taus, first_key, admin_code, beyond, keys, sums), None
    nv, nt, e1, var, o1, events = (whole[j] for whole in sums)
    keys.clear()
    look_keys32_by_width(entry, taus[j], first_key, admin_code, sub, n_t, keys.bounds, keys.starts, keys.cap,
                         keys.flat, keys.counts, keys.widest, keys.dest, nv, nt, beyond)
    keys.sort()
    reported = int(walk_by_width(keys.flat, keys.bounds, keys.starts, keys.cap, keys.counts, keys.dest, nv, nt, e1,
                                 var, o1, events, keys.unsure))
    if reported:
        _wide_logrank(keys.unsure[:reported], j, entry, taus, first_key, admin_code, sums)
    return reported, int(keys.counts[:-1].sum())


def _whole_rows_look(tile: slice, idx: np.ndarray | None, sub: np.ndarray, j: int, entry: np.ndarray,
                     taus: list[np.ndarray], first_key: np.ndarray, admin_code: np.ndarray, beyond: bool,
                     keys: KeyBuffers, sums: tuple[np.ndarray, ...]) -> int:
    """:func:`_tile_look` of the rows ``sub`` of the tile ``tile`` (the rows ``idx`` of it, or all when None) from
    whole rows of narrow keys (:func:`~condapprove.kernels._tte_jit.look_keys32`, in ``keys``' last buffer, the sums
    written in place for a whole tile): the number of rows analysed again from the wide keys."""
    # the walk's sums: views of the whole tile's, written in place, or the analysed rows' own, copied back below
    part = (tuple(whole[j, tile] for whole in sums) if idx is None
            else tuple(np.empty(idx.size, dtype=whole.dtype) for whole in sums))
    kr, ur = keys.whole_rows(sub.size), keys.unsure_flags[:sub.size]
    look_keys32(entry, taus[j], first_key, admin_code, sub, kr, part[0], part[1], beyond)
    sort_rows(kr)  # numpy's sort, or for long rows a split by value where that is faster
    flagged = walk_unsure(kr, *part, ur)  # the walk, and each row checked for merged times while it is in cache
    if idx is not None:
        for whole, got in zip(sums, part):
            whole[j, sub] = got
    if not flagged:
        return 0
    redo = sub[ur]
    _wide_logrank(redo, j, entry, taus, first_key, admin_code, sums)
    return int(redo.size)


#: The narrow keys are given up for a block's remaining rows once more than one look-row in this many was analysed
#: twice (the narrow sort and the wide one).
_NARROW_GIVE_UP = 8


def _wide_logrank(idx: np.ndarray, j: int, entry: np.ndarray, taus: list[np.ndarray], first_key: np.ndarray,
                  admin_code: np.ndarray, sums: tuple[np.ndarray, ...]) -> None:
    """The log-rank sums of look ``j`` in rows ``idx`` from the wide (uint64) keys, into ``sums`` (the arrays
    ``n_valid, n_treated, e1, var, o1, events`` of shape (looks, rows))."""
    nv, nt, e1, var, o1, events = (np.empty(idx.size, dtype=a.dtype) for a in sums)
    key = np.empty((idx.size, entry.shape[1]), dtype=np.uint64)
    look_keys(entry[idx], taus[j][idx], first_key[idx], admin_code, key, nv, nt)
    logrank_sums(key, nv, nt, e1, var, o1, events)
    for whole, part in zip(sums, (nv, nt, e1, var, o1, events)):
        whole[j, idx] = part


def _one_sample_rows(entry: np.ndarray, first: np.ndarray, is_event: np.ndarray, n_t: int, recruited: np.ndarray,
                     taus: list[np.ndarray], baseline: Any) -> dict[str, np.ndarray]:
    """The one-sample log-rank against ``baseline`` at each look, for a few rows; arrays of shape (looks, rows)."""
    k, m = len(taus), entry.shape[0]
    out = {f: np.empty((k, m)) for f in _TTE_FIELDS}
    for j, tau in enumerate(taus):
        with np.errstate(invalid="ignore"):
            c = tau[:, None] - entry  # follow-up available at the look
        valid = c >= 0.0
        out["n_treated"][j] = np.count_nonzero(valid[:, :n_t], axis=1)
        event = is_event & (first <= c)
        out["information"][j] = np.count_nonzero(event & valid & recruited, axis=1)
        time = np.where(valid, np.minimum(first, c), 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = one_sample_logrank_batch(time, event, valid, baseline, method="wu")
        z = np.asarray(res.z, dtype=np.float64)
        events = np.asarray(res.observed, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.where((events > 0) & (res.expected > 0), np.log(events / res.expected), np.nan)
        out["n_control"][j] = 0.0
        out["z"][j] = np.where(np.isfinite(z), z, 0.0)
        out["events"][j] = events
        out["estimate"][j] = est
    return out


def fixed_pvalue(design: Design, s: LookStats) -> np.ndarray:
    """One-sided p-value of the design's fixed test at a look."""
    pm = design.post_marketing
    test = pm.test
    if test in ("exact_binomial", "fisher", "score"):
        xt = np.rint(s.sum_t).astype(np.int64)
        nt = s.n_treated.astype(np.int64)
        if test == "exact_binomial":
            p0 = float(pm.control.rate)  # type: ignore[union-attr, arg-type]
            by_table = _exact_binomial_by_table(xt, nt, p0)
            return by_table if by_table is not None else binary_pvalues_unchecked(
                BinaryOutcome(x_treated=xt, n_treated=nt), test="exact_binomial", benchmark=p0)
        xc, nc = np.rint(s.sum_c).astype(np.int64), s.n_control.astype(np.int64)
        if test == "fisher":
            by_table = fisher_by_table(xt, nt, xc, nc, int(pm.treated.target_n), int(pm.control_target_n))
            if by_table is not None:
                return by_table
        return binary_pvalues_unchecked(BinaryOutcome(x_treated=xt, n_treated=nt, x_control=xc, n_control=nc),
                              test=test)  # type: ignore[arg-type]
    if test == "t":
        nt, nc = s.n_treated, s.n_control
        var_t = _var(nt, s.sum_t, s.ss_t)
        mean_t = s.sum_t / np.maximum(nt, 1)
        if isinstance(pm.control, BenchmarkControl):
            ok = (nt > 1) & (var_t > 0)
            se = np.sqrt(np.where(ok, var_t, 1.0) / np.maximum(nt, 1))
            tstat = (mean_t - pm.control.mean) / se  # type: ignore[operator]
            return np.where(ok, t_sf(tstat, np.maximum(nt - 1, 1)), 1.0)
        var_c = _var(nc, s.sum_c, s.ss_c)
        mean_c = s.sum_c / np.maximum(nc, 1)
        a, b = var_t / np.maximum(nt, 1), var_c / np.maximum(nc, 1)
        ok = (nt > 1) & (nc > 1) & (a + b > 0)
        se = np.sqrt(np.where(ok, a + b, 1.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            df = (a + b) ** 2 / (a * a / np.maximum(nt - 1, 1) + b * b / np.maximum(nc - 1, 1))
        return np.where(ok, t_sf((mean_t - mean_c) / se, np.where(ok & np.isfinite(df), df, 1.0)), 1.0)
    if test in ("logrank", "one_sample_logrank"):
        # normal reference wherever the test is defined (z is 0 where it is not: no patient at risk, V = 0).  A
        # treated arm without events is evidence: beside an external cohort's events (13% of one design's replicates
        # had none, with z of 1.1 to 3.5, and none confirmed: P(confirmed) 0.301 for 0.425), or when a baseline
        # expected some; the information counts only the recruited arms' events, so it is 0 there
        return np.asarray(special.ndtr(-s.z), dtype=np.float64)
    # z: normal reference; a look without information (an arm without patients) shows nothing
    return np.where(s.information > 0, special.ndtr(-s.z), 1.0)


#: Largest number of patients for which :func:`_exact_binomial_by_table` keeps a table (about half a million values).
_BINOMIAL_TABLE_N = 1000
#: Tables of the exact binomial test's p-values, by benchmark rate: ``P(X >= x)`` for ``X ~ Bin(n, p0)`` at
#: ``n (n + 1) / 2 + x``, for every n up to the table's largest (cleared when many rates are kept).
_BINOMIAL_TABLES: dict[float, np.ndarray] = {}


def _exact_binomial_by_table(x: np.ndarray, n: np.ndarray, p0: float) -> np.ndarray | None:
    """The exact binomial test's one-sided p-values (:func:`condapprove.endpoints.binary_pvalues`, ``exact_binomial``:
    1 with no patient) of ``x`` responders among ``n``, looked up in a table of every outcome up to the largest ``n``
    (``binom_sf`` on the table's grid: the same values, computed once for all the rows and chunks that share a
    benchmark rate, instead of once per replicate); None (the caller computes them) for outcomes outside the
    table's range.  A replicate's value depends on its own ``x`` and ``n`` alone."""
    if x.size == 0:
        return None
    n_max = int(n.max())
    if n_max > _BINOMIAL_TABLE_N or int(n.min()) < 0 or int(x.min()) < 0 or bool(np.any(x > n)):
        return None
    table = _BINOMIAL_TABLES.get(p0)
    if table is None or table.size < (n_max + 1) * (n_max + 2) // 2:
        size = max(n_max, 2 * _table_n(table) if table is not None else 0)
        size = min(size, _BINOMIAL_TABLE_N)
        rows = np.arange(size + 1)
        nn = np.repeat(rows, rows + 1)  # n = 0, 1, 1, 2, 2, 2, ...: the triangle, row by row
        xx = np.arange(nn.size) - nn * (nn + 1) // 2
        table = binary_pvalues_unchecked(BinaryOutcome(x_treated=xx, n_treated=nn), test="exact_binomial", benchmark=p0)
        if len(_BINOMIAL_TABLES) > 64:
            _BINOMIAL_TABLES.clear()
        _BINOMIAL_TABLES[p0] = table
    return np.asarray(table[n * (n + 1) // 2 + x])


#: Values kept at most in one table of :func:`fisher_by_table` (8 MiB); outcomes that would need more are left to
#: the direct computation.
_FISHER_MAX_VALUES = 1_000_000
#: Tables of Fisher's exact test's p-values, by the arms' largest sizes ``(nt_max, nc_max)``: each block's start
#: (-1: not made) by ``n_t (nc_max + 1) + n_c``, and the blocks' values, ``x_t (n_c + 1) + x_c`` within a block.
#: A table grows by a new pair of arrays put in place in one assignment, so threads sharing it never see a half-made
#: one (cleared when many are kept).
_FISHER_TABLES: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def fisher_by_table(xt: np.ndarray, nt: np.ndarray, xc: np.ndarray, nc: np.ndarray, nt_max: int,
                     nc_max: int) -> np.ndarray | None:
    """Fisher's exact test's one-sided p-values (:func:`condapprove.endpoints.binary_pvalues`, ``fisher``: 1 with an
    arm empty) for arms of at most ``nt_max`` and ``nc_max`` patients, looked up in a table of every outcome of each
    pair of arm sizes met so far: a pair's block of ``(n_t + 1) (n_c + 1)`` values is computed when a row first has
    those sizes (``binary_pvalues`` on the block's grid: the same values) and kept for later rows and chunks.  None
    (the caller computes them) for sizes beyond the maxima, counts out of range, or a table that would grow past
    :data:`_FISHER_MAX_VALUES`.  A replicate's value depends on its own outcome alone."""
    if (xt.size == 0 or int(nt.max()) > nt_max or int(nc.max()) > nc_max or int(nt.min()) < 0 or int(nc.min()) < 0
            or int(xt.min()) < 0 or int(xc.min()) < 0 or bool(np.any(xt > nt)) or bool(np.any(xc > nc))):
        return None
    shape = (nt_max, nc_max)
    got = _FISHER_TABLES.get(shape)
    start, values = got if got is not None else (np.full((nt_max + 1) * (nc_max + 1), -1, dtype=np.int64),
                                                 np.empty(0))
    key = nt * (nc_max + 1) + nc
    first = start[key]
    if bool(np.any(first < 0)):
        missing = np.unique(key[first < 0])
        bt, bc = np.divmod(missing, nc_max + 1)
        sizes = (bt + 1) * (bc + 1)
        if values.size + int(sizes.sum()) > _FISHER_MAX_VALUES:
            return None
        block = np.repeat(np.arange(missing.size), sizes)  # each new value's block, then its cell in the block
        cell = np.arange(block.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        at, ac = bt[block], bc[block]
        grid_xt, grid_xc = np.divmod(cell, ac + 1)
        new = binary_pvalues_unchecked(BinaryOutcome(x_treated=grid_xt, n_treated=at, x_control=grid_xc, n_control=ac),
                             test="fisher")
        start = start.copy()
        start[missing] = values.size + np.cumsum(sizes) - sizes
        values = np.concatenate([values, new])
        if len(_FISHER_TABLES) > 16:
            _FISHER_TABLES.clear()
        _FISHER_TABLES[shape] = (start, values)
        first = start[key]
    return np.asarray(values[first + xt * (nc + 1) + xc])


def _table_n(table: np.ndarray) -> int:
    """The largest n of a triangular table of ``(n + 1) (n + 2) / 2`` values."""
    return int((math.isqrt(8 * table.size + 1) - 3) // 2)


# ------------------------------------------------------------------ Bayesian rule
#: Gauss-Legendre nodes and weights on [0, 1] for each panel of :func:`_beta_difference_sf`.
_PANEL_X, _PANEL_W = np.polynomial.legendre.leggauss(32)
_PANEL_U = 0.5 * (_PANEL_X + 1.0)
_PANEL_W = 0.5 * _PANEL_W
#: The control's mass left out at either end of the integration; the treated quantiles of panel edges are the same.
_TAIL_Q = 1e-17
#: Rows of a block of :func:`_beta_difference_sf` (bounds its temporaries: rows x components x 160 doubles).
_BETA_DIFF_BLOCK = 2048


def _beta_difference_sf(pa: np.ndarray, pb: np.ndarray, ac: np.ndarray, bc: np.ndarray, margin: float) -> np.ndarray:
    """``P(p_t > p_c + margin)`` for independent ``p_t ~ Beta(pa, pb)`` and ``p_c ~ Beta(ac, bc)`` with ``ac, bc
    >= 1`` (a control's posterior under a Beta(1, 1) prior): shapes of shape (m, K) for the treated, (m, 1) for the
    control.

    The integral of the control's density times the treated tail, ``int f_c(u) P(p_t > u + margin) du``, over the
    control's central ``1 - 2e-17`` (the density normalised there by the same rule), by 32-point Gauss-Legendre
    rules on five panels whose edges are the control's quantiles 1e-17, 1/2 and 1 - 1e-17 and the treated quantiles
    1e-17, 1/2 and 1 - 1e-17 shifted by the margin (those within the window): both posteriors' scales are resolved
    however narrow either is.  (One 96-point rule over [0, 1] missed the mass of a control of thousands of patients
    between its nodes: 0.959 for 0.99999999553 at 8/50 against 50/5,000.)  A treated shape ``a`` below 3 that is not a
    whole number (a prior's shape that is not, and fewer than 3 responders, or non-responders) makes the tail behave
    like ``x^a`` near ``u = -margin`` (or ``(1 - x)^b`` near ``u = 1 - margin``), which no fixed panels resolve (off
    by up to 1.6e-5 below 1, 4e-6 at 1.5 and 3e-9 at 2.5): such rows add edges graded geometrically towards that
    point, ``_GRADED_LEVELS`` at ratios of 10 (a panel whose ends are 1 and 10 units from the point is resolved to
    about 1e-18 by 32 nodes), and take the tail as ``1 - I_x(a, b)`` below ``x = 1/2``.  The quantiles are
    :func:`condapprove._dist.beta_quantile` (scipy's are NaN for some shapes near 1, at 1e-17).  Within 3e-12 of
    the closed forms (no or every control a responder, Miller's finite sum over the control's whole shape) for
    controls of 1 to 10^7 patients and treated arms of up to 2,000 (the tests), and of quad with a margin.  Graded
    rows are integrated in the offset from the singular point (:func:`_graded_panels`; as values of ``u`` the edges
    and nodes could not come within 1.1e-16 of ``u = 1``, and a control of 10^7 patients near 1 was 4.4e-10 off)
    with six more of the control's quantiles as edges: within 6e-12 of quad in that offset for controls of 10^5 to
    10^7 patients with a margin that puts the singular point inside the control's window (200 random cases).
    A review against two 40-digit quadratures and the closed forms (fiftieth round: 3,900 cases at margin 0, 680
    with margins, treated shapes 1e-3 to 1e11) found at most 3e-11 for treated arms up to about 2,000 patients.
    Beyond: with both posteriors within about 1e-7 of 1 (arms of 10^7) a margin is only as exact as ``1 - margin``
    in doubles (up to 3.2e-10 off, 5.3e-10 at a margin of -(1 - 2^-53)), and an ungraded treated posterior of
    10^8 patients or more near 0 against a large control loses up to 1.2e-10 in ``1 - x``.
    """
    m, k = pa.shape
    out = np.empty((m, k))
    graded = (_singular(pa) | _singular(pb)).any(axis=1)
    for grade in (False, True):
        rows = np.flatnonzero(graded == grade)
        for s in range(0, rows.size, _BETA_DIFF_BLOCK):
            r = rows[s: s + _BETA_DIFF_BLOCK]
            out[r] = _beta_difference_panels(pa[r], pb[r], ac[r], bc[r], margin, grade)
    return out


#: Geometric levels of the edges a singular treated tail adds (ratio 10: down to 1e-20 of the window's width).
_GRADED_LEVELS = 20
#: Treated shapes below this that are not whole numbers make the tail singular enough to need graded edges.
_GRADED_BELOW = 3.0


#: The control's quantiles that graded rows add as edges (one 32-point panel across 8 standard deviations of a
#: control of 10^7 patients loses about 5e-11 of its mass).
_GRADED_CONTROL_Q = (1e-6, 0.02, 0.2, 0.8, 0.98, 1 - 1e-6)


def _singular(shape: np.ndarray) -> np.ndarray:
    """Where a treated shape makes its tail singular at an end (``x^a`` with ``a`` not whole and small)."""
    return np.asarray((shape < _GRADED_BELOW) & (shape != np.floor(shape)))


def _beta_difference_panels(a_t: np.ndarray, b_t: np.ndarray, a_c: np.ndarray, b_c: np.ndarray, margin: float,
                            grade: bool) -> np.ndarray:
    """:func:`_beta_difference_sf` of a block of rows (``grade``: with the graded edges, :func:`_graded_panels`)."""
    lo, hi = beta_quantile(a_c, b_c, _TAIL_Q), beta_quantile(a_c, b_c, _TAIL_Q, upper=True)
    c_edges = [np.broadcast_to(e, a_t.shape) for e in (lo, beta_quantile(a_c, b_c, 0.5), hi)]
    t_edges = [np.clip(e - margin, lo, hi) for e in (beta_quantile(a_t, b_t, _TAIL_Q), beta_quantile(a_t, b_t, 0.5),
                                                     beta_quantile(a_t, b_t, _TAIL_Q, upper=True))]
    edges = np.stack(c_edges + t_edges, axis=-1)  # (rows, K, 6)
    if grade:
        more = [np.broadcast_to(beta_quantile(a_c, b_c, q), a_t.shape) for q in _GRADED_CONTROL_Q]
        return _graded_panels(a_t, b_t, a_c, b_c, margin, np.concatenate([edges, np.stack(more, axis=-1)], axis=-1),
                              lo, hi)
    edges.sort(axis=-1)
    left, width = edges[..., :-1, None], np.diff(edges, axis=-1)[..., None]  # (rows, K, panels, 1)
    u = left + width * _PANEL_U  # (rows, K, panels, 32), inside (lo, hi): 0 < u < 1
    a4, b4 = a_c[..., None, None], b_c[..., None, None]
    # the control's density up to its constant, normalised by the rule itself (betaln's constant of shapes of
    # 1e5 is off by a relative 1e-11: the difference of two log-gammas of 1e6)
    log_dens = special.xlogy(a4 - 1.0, u) + special.xlog1py(b4 - 1.0, -u)
    weights = np.exp(log_dens - log_dens.max(axis=(-2, -1), keepdims=True)) * (width * _PANEL_W)
    # the treated tail P(p_t > u + margin) = I_{1 - x}(b, a) (scipy's betaincc takes about 9 times as long)
    x = np.clip(u + margin, 0.0, 1.0)
    tail = special.betainc(b_t[..., None, None], a_t[..., None, None], 1.0 - x)
    return np.asarray((weights * tail).sum(axis=(-2, -1)) / weights.sum(axis=(-2, -1)))


def _graded_panels(a_t: np.ndarray, b_t: np.ndarray, a_c: np.ndarray, b_c: np.ndarray, margin: float,
                   edges: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The integral of :func:`_beta_difference_sf` with edges graded towards the treated tail's singular points,
    its nodes placed as offsets from them.

    The tail ``P(p_t > u + margin)`` is singular at ``s_low = -margin`` (where ``a_t`` is small and not whole) and
    at ``s_high = 1 - margin`` (``b_t``), each clipped to the control's window ``[lo, hi]``.  The window is split
    halfway between the two: the lower half is integrated in the offset ``d = u - s_low``, the upper in ``d =
    s_high - u``, so that the tail is evaluated at ``x = d`` (or ``1 - x = d``) exactly, however close to the
    point (near 1 doubles are 1.1e-16 apart: a control of 10^7 patients near 1 lost ``10^7 * 1e-16`` of its mass
    against a tail like ``(1 - x)^b``, 4e-10), and the smooth control density at ``u`` from the same offset.  Each
    half has the window's edges (clipped into it), the split point and, towards a singular point,
    ``_GRADED_LEVELS`` edges at ``(window) * 10^-k``.
    """
    shape = a_t.shape
    lo, hi = np.broadcast_to(lo, shape), np.broadcast_to(hi, shape)
    s_low, s_high = np.clip(-margin, lo, hi), np.clip(1.0 - margin, lo, hi)
    half = (0.5 * (s_high - s_low))[..., None]
    ratio = 10.0 ** -np.arange(1.0, _GRADED_LEVELS + 1)
    # the tail's argument at offset 0: 0 where the singular point lies in the window (exactly: x = d, 1 - x = d)
    x0 = np.where(s_low == -margin, 0.0, s_low + margin)[..., None, None]
    y0 = np.where(s_high == 1.0 - margin, 0.0, (1.0 - margin) - s_high)[..., None, None]
    a4, b4 = a_c[..., None, None], b_c[..., None, None]
    at4, bt4 = a_t[..., None, None], b_t[..., None, None]
    halves = []
    for lower in (True, False):
        anchor = (s_low if lower else s_high)[..., None]
        offsets = edges - anchor if lower else anchor - edges  # (the window's edges, from the anchor)
        singular = _singular(a_t if lower else b_t)[..., None]
        graded = np.where(singular, ((hi if lower else -lo)[..., None] - (anchor if lower else -anchor)) * ratio,
                          half)
        d_edges = np.concatenate([np.minimum(offsets, half), half, np.minimum(graded, half)], axis=-1)
        d_edges.sort(axis=-1)
        left, width = d_edges[..., :-1, None], np.diff(d_edges, axis=-1)[..., None]
        d = left + width * _PANEL_U  # (rows, K, panels, 32)
        if lower:
            u = anchor[..., None] + d
            log_dens = special.xlogy(a4 - 1.0, u) + special.xlog1py(b4 - 1.0, -u)
            x = np.clip(x0 + d, 0.0, 1.0)
            tail = np.where(x < 0.5, 1.0 - special.betainc(at4, bt4, x), special.betainc(bt4, at4, 1.0 - x))
        else:
            v = (1.0 - anchor)[..., None] + d  # 1 - u
            log_dens = special.xlog1py(a4 - 1.0, -v) + special.xlogy(b4 - 1.0, v)
            y = np.clip(y0 + d, 0.0, 1.0)  # 1 - x
            tail = np.where(y < 0.5, special.betainc(bt4, at4, y), 1.0 - special.betainc(at4, bt4, 1.0 - y))
        halves.append((log_dens, width * _PANEL_W, tail))
    top = np.maximum(*(h[0].max(axis=(-2, -1), keepdims=True) for h in halves))
    num = den = 0.0
    for log_dens, w, tail in halves:
        weights = np.exp(log_dens - top) * w
        num = num + (weights * tail).sum(axis=(-2, -1))
        den = den + weights.sum(axis=(-2, -1))
    return np.asarray(num / den)


def _beta_components(prior: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(prior, Beta):
        return np.array([1.0]), np.array([prior.a]), np.array([prior.b])
    return (np.asarray(prior.weights, dtype=np.float64), np.asarray(prior.a, dtype=np.float64),
            np.asarray(prior.b, dtype=np.float64))


def _normal_components(prior: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(prior, Normal):
        return np.array([1.0]), np.array([prior.mean]), np.array([prior.sd])
    return (np.asarray(prior.weights, dtype=np.float64), np.asarray(prior.means, dtype=np.float64),
            np.asarray(prior.sds, dtype=np.float64))


def treated_prior(design: Design) -> Any:
    """The prior of the treated parameter under the Bayesian rule (None: vague / flat)."""
    dec = design.post_marketing.decision
    assert isinstance(dec, BayesianDecision)
    if dec.prior is not None:
        return dec.prior.build()
    if dec.power_prior is not None:
        pre = design.pre_approval
        assert pre is not None
        cohort = pre.build_cohort()
        init = dec.power_prior.initial.build() if dec.power_prior.initial is not None else None
        if design.post_marketing.endpoint.type == "binary":
            return Beta.power_prior(cohort.responders, cohort.n, dec.power_prior.a0, initial=init)
        if dec.power_prior.a0 == 0:
            return init
        return Normal.power_prior(cohort.mean, cohort.sd / math.sqrt(cohort.n), dec.power_prior.a0, initial=init)
    return Beta(1.0, 1.0) if design.post_marketing.endpoint.type == "binary" else None


def posterior_probability(design: Design, s: LookStats, prior: Any) -> np.ndarray:
    """Posterior P(effect > margin) per replicate; effect = treated minus benchmark or control.

    A binary endpoint's posterior depends on the replicate only through its counts (responders and patients of
    each arm), which replicates share: it is computed once per distinct row of counts and gathered, and kept for
    the later looks, blocks and chunks of the process that meet the same counts under the same rule
    (:class:`RowValues`; the same numbers: every step is elementwise or along a row's prior components).
    """
    pm = design.post_marketing
    nt, nc = s.n_treated, s.n_control
    if pm.endpoint.type == "binary":
        benchmark = isinstance(pm.control, BenchmarkControl)
        counts = np.stack([s.sum_t, nt] if benchmark else [s.sum_t, nt, s.sum_c, nc], axis=1)
        dec = pm.decision
        assert isinstance(dec, BayesianDecision)
        w, a, b = _beta_components(prior)
        rule = (benchmark, dec.margin, getattr(pm.control, "rate", None), w.tobytes(), a.tobytes(), b.tobytes())
        return _POSTERIORS(rule, counts, lambda rows: _binary_posterior(
            design, prior, *(rows[:, c] for c in range(rows.shape[1]))))
    return _continuous_posterior(design, s, prior)


class RowValues:
    """Values computed once per distinct row of numbers and kept for the process's later calls: each call gives the
    values of its rows, computing (``compute`` of the distinct rows not kept yet) only what no earlier call under the
    same ``setting`` computed (a decision rule's bounds by information row, a prior's posteriors by row of counts).

    Rows are told apart by their bytes (:func:`unique_rows`: NaN at the same places is one row); a setting keeps its
    rows' values in one array, found through a dictionary of the rows' bytes and gathered by index.  At most ``most``
    rows in all: a call that would pass it drops every kept row first, and a call with more new rows than that keeps
    none.  Threads that simulate at once share it: rows are added under a lock (a row another thread added meanwhile
    is not added again), each written, and counted, before its index entry, and a grown buffer holds the rows before
    it, so a reader finds every row an index names.

    Examples
    --------
    >>> kept = RowValues(most=10)
    >>> kept("square", np.array([[1.0], [2.0], [1.0]]), lambda rows: rows[:, 0] ** 2).tolist()
    [1.0, 4.0, 1.0]
    >>> len(kept), kept.settings()
    (2, 1)
    """

    def __init__(self, most: int = 100_000) -> None:
        self.most = most
        self._tables: dict[Any, _KeptRows] = {}

    def __len__(self) -> int:
        """The rows kept, under every setting."""
        return sum(len(t.index) for t in list(self._tables.values()))  # (listed first: a thread may add a table)

    def settings(self) -> int:
        """The settings with rows kept."""
        return len(self._tables)

    def clear(self) -> None:
        """Drop every kept row."""
        self._tables.clear()

    def __call__(self, setting: Any, rows: np.ndarray, compute: Callable[[np.ndarray], Any]) -> np.ndarray:
        """The values of each of ``rows`` (2-d), ``compute(distinct rows)`` giving one value (or one array of values of
        one shape) for each row it is given, the same for a row whatever the others."""
        if rows.shape[0] == 1 and (kept := self._tables.get(setting)) is not None:  # (one row kept: its values' copy)
            hit = kept.index.get(np.ascontiguousarray(rows, dtype=np.float64).tobytes())
            if hit is not None:
                return kept.values[hit:hit + 1].copy()
        uniq, inverse = unique_rows(rows)
        table = self._tables.get(setting) or self._tables.setdefault(setting, _KeptRows())
        buf, width = uniq.tobytes(), 8 * uniq.shape[1]  # each distinct row's bytes, cut from one buffer
        keys = [buf[o: o + width] for o in range(0, len(buf), width)]
        at = np.fromiter((table.index.get(k, -1) for k in keys), dtype=np.intp, count=len(keys))
        new = np.flatnonzero(at < 0)
        if new.size == 0:  # (np.take: a third of the time of the same fancy index, 2,048 rows of three looks)
            kept_values: np.ndarray = np.take(table.values, at[inverse], axis=0)
            return kept_values
        computed = np.asarray(compute(uniq[new]), dtype=np.float64)
        got = np.empty((len(keys), *computed.shape[1:]))
        got[new] = computed
        if new.size < len(keys):
            old = at >= 0
            got[old] = table.values[at[old]]
        if len(self) + new.size > self.most:  # full: start again
            self.clear()
            table = self._tables.setdefault(setting, _KeptRows())
        if new.size <= self.most:
            table.add([keys[i] for i in new], computed)
        return np.take(got, inverse, axis=0)


class _KeptRows:
    """One setting's rows of :class:`RowValues`: ``values[index[bytes of a row]]``, in a buffer that doubles as it
    fills."""

    def __init__(self) -> None:
        self.index: dict[bytes, int] = {}
        self._buffer: np.ndarray | None = None
        self._count = 0
        self._lock = threading.Lock()

    @property
    def values(self) -> np.ndarray:
        return np.empty(0) if self._buffer is None else self._buffer[: self._count]

    def add(self, keys: list[bytes], values: np.ndarray) -> None:
        with self._lock:
            new = [i for i, key in enumerate(keys) if key not in self.index]
            k, size = self._count, self._count + len(new)
            if self._buffer is None or size > self._buffer.shape[0]:
                grown = np.empty((max(16, size, 0 if self._buffer is None else 2 * self._buffer.shape[0]),
                                  *values.shape[1:]))
                if self._buffer is not None:
                    grown[:k] = self._buffer[:k]
                self._buffer = grown
            self._buffer[k:size] = values[new]
            self._count = size
            self.index.update(zip([keys[i] for i in new], range(k, size)))


#: Binary posteriors computed, by rule (control, margin, benchmark rate, the prior's components) and row of counts: at
#: most 100,000 (about 15 MiB with their keys).
_POSTERIORS = RowValues()


def unique_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 2-d float array, in order of first appearance, and each row's index among them (what
    ``np.unique(axis=0)`` gives, in another order).

    One compiled pass with a hash table (:func:`._counts_jit.distinct_rows`) instead of a sort: rows are compared by
    their bit patterns, so rows with NaN at the same places are one row; a single row (the one information pattern
    of a fixed-look design's bounds) is its own, without the call.  (A lexicographic sort of the columns took 1.8
    against 0.13 ms for 16,384 rows of two small whole numbers, medians of 50.)
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    m = x.shape[0]
    if m <= 1:
        return x, np.zeros(m, dtype=np.intp)
    first, inverse = np.empty(m, dtype=np.intp), np.empty(m, dtype=np.intp)
    k = distinct_rows(x.view(np.uint64), first, inverse)
    return x[first[:k]], inverse


def _binary_posterior(design: Design, prior: Any, x_t: np.ndarray, n_t: np.ndarray, x_c: np.ndarray | None = None,
                      n_c: np.ndarray | None = None) -> np.ndarray:
    """:func:`posterior_probability` of a binary endpoint from each row's counts (1-d arrays; the control's only
    against a concurrent control)."""
    pm = design.post_marketing
    dec = pm.decision
    assert isinstance(dec, BayesianDecision)
    margin = dec.margin
    w, a, b = _beta_components(prior)
    x = x_t[:, None]
    n = n_t[:, None]
    logw = np.log(w) + log_beta_ratio(a, b, x, n - x)
    post_w = np.exp(logw - logw.max(axis=1, keepdims=True))
    post_w /= post_w.sum(axis=1, keepdims=True)
    pa, pb = a + x, b + n - x
    if isinstance(pm.control, BenchmarkControl):
        assert pm.control.rate is not None
        thr = min(max(pm.control.rate + margin, 0.0), 1.0)
        below = (post_w * special.betainc(pa, pb, thr)).sum(axis=1)
        return np.asarray(np.clip(1.0 - below, 0.0, 1.0))
    # P(p_t > p_c + margin), control ~ Beta(1 + x_c, 1 + n_c - x_c)
    assert x_c is not None and n_c is not None
    inner = _beta_difference_sf(pa, pb, 1.0 + x_c[:, None], 1.0 + (n_c - x_c)[:, None], margin)
    return np.asarray(np.clip((post_w * inner).sum(axis=1), 0.0, 1.0))


def _continuous_posterior(design: Design, s: LookStats, prior: Any) -> np.ndarray:
    """:func:`posterior_probability` of a continuous endpoint (a normal likelihood with the sample SD)."""
    pm = design.post_marketing
    dec = pm.decision
    assert isinstance(dec, BayesianDecision)
    margin = dec.margin
    nt, nc = s.n_treated, s.n_control
    # continuous: normal likelihood N(mean, s^2/n) with the sample SD
    var_t = _var(nt, s.sum_t, s.ss_t)
    mean_t = s.sum_t / np.maximum(nt, 1)
    se2 = np.where(nt > 1, var_t / np.maximum(nt, 1), 1.0)  # (rows of one patient or none: 0 below, whatever)
    if prior is None:
        post_mean, post_var, post_w = mean_t[:, None], se2[:, None], np.ones((nt.size, 1))
    else:
        w, mu, sd = _normal_components(prior)
        tot = sd**2 + se2[:, None]
        logw = np.log(w) - 0.5 * np.log(tot) - 0.5 * (mean_t[:, None] - mu) ** 2 / tot
        post_w = np.exp(logw - logw.max(axis=1, keepdims=True))
        post_w /= post_w.sum(axis=1, keepdims=True)
        prec = 1 / sd**2 + 1 / se2[:, None]
        post_var = 1 / prec
        post_mean = post_var * (mu / sd**2 + mean_t[:, None] / se2[:, None])
    if isinstance(pm.control, BenchmarkControl):
        assert pm.control.mean is not None
        ref = np.full((nt.size, 1), pm.control.mean + margin)
        ref_var = np.zeros((nt.size, 1))
    else:
        var_c = _var(nc, s.sum_c, s.ss_c)
        ref = (s.sum_c / np.maximum(nc, 1) + margin)[:, None]
        ref_var = np.where(nc > 1, var_c / np.maximum(nc, 1), np.inf)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        zz = (post_mean - ref) / np.sqrt(post_var + ref_var)
    p = (post_w * special.ndtr(np.nan_to_num(zz, nan=0.0))).sum(axis=1)
    return np.where(nt > 1, np.clip(p, 0.0, 1.0), 0.0)
