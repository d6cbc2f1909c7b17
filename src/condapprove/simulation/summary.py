"""The running summary of a simulation: what a scenario's result needs of its replicates, added up chunk by chunk.

The engine adds each chunk's rows as they come in (:class:`Running`; a worker process sends back a chunk's
:class:`ChunkSummary`), and :func:`summarise` turns the sums into a :class:`.results.ScenarioResult`.  Its counts,
moments and order statistics are compiled loops (:mod:`._summary_jit`, imported with this module, which only the
engine imports; :mod:`.results`, the results' types, imports without numba, as the reporting modules need).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._memo import per_object
from ..results import MonteCarloEstimate
from ..spec.schema import Design, Scenario
from ._summary_jit import combine_rows, fields_moments, finite_order_statistics, order_statistics, tally
from .results import CONFIRMED, FUTILITY, NOT_CONFIRMED, UNDECIDED, ScenarioResult, truth_label

__all__ = ["BLOCK_SIZE", "ChunkSummary", "Running", "summarise"]


#: The mean counts, by field of :class:`ScenarioResult` and per-replicate array.
_COUNT_FIELDS = {"expected_treated_enrolled": "enrolled_t", "expected_treated_evaluable": "evaluable_t",
                 "expected_controls_enrolled": "enrolled_c", "expected_controls_evaluable": "evaluable_c",
                 "expected_events": "events"}


def _count_keys(design: Design) -> tuple[str, ...]:
    """The mean counts a summary of ``design`` reports (controls with a control arm, events for time to event)."""
    pm = design.post_marketing
    skip = set()
    if pm.control_kind == "benchmark":
        skip |= {"expected_controls_enrolled", "expected_controls_evaluable"}
    if pm.endpoint.type != "time_to_event":
        skip.add("expected_events")
    return tuple(k for k in _COUNT_FIELDS if k not in skip)


#: Replicates per random stream, and per block of the summary's sums.  Results depend on it, so it is a constant
#: (recorded in provenance).
BLOCK_SIZE = 2048

#: The per-replicate arrays whose means a summary reports, and whether only their finite values count (an
#: estimate is undefined, NaN or infinite, in a replicate without events, say).
_MEANS = {"month": False, "estimate": True, "true_effect": False, **dict.fromkeys(_COUNT_FIELDS.values(), False)}


@dataclasses.dataclass(frozen=True, slots=True)
class ChunkSummary:
    """What a summary needs of one chunk's rows (:meth:`Running.summary_of`): small enough to send back from a
    worker process.  ``moments``: the arrays of :data:`_MEANS` summed (their names), and for each of them (a row) the
    count, mean and sum of squared deviations of each block of :data:`BLOCK_SIZE` rows (a column), three (arrays,
    blocks) arrays; ``months``: the chunk's decision months (8 bytes a replicate), when asked for."""

    cells: np.ndarray
    by_look: np.ndarray
    decisions: np.ndarray
    not_reached: int
    moments: tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]
    months: np.ndarray | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as the bytes of two arrays, the counts and the moments' means and sums of squares, with their
        sizes: a worker sends one a chunk, and six arrays pickled one by one took 46 us to unpickle in the calling
        process between two chunks of its own (docs/performance.md, item 119)."""
        fields, count, mean, m2 = self.moments
        ints = np.concatenate((self.cells, self.by_look, self.decisions, count.ravel()))
        return _chunk_summary, (ints.tobytes(), np.concatenate((mean.ravel(), m2.ravel())).tobytes(),
                                (self.cells.size, self.by_look.size, self.decisions.size), count.shape, fields,
                                self.not_reached, self.months)


def _chunk_summary(ints: bytes, floats: bytes, sizes: tuple[int, int, int], shape: tuple[int, int],
                   fields: tuple[str, ...], not_reached: int, months: np.ndarray | None) -> ChunkSummary:
    """A :class:`ChunkSummary` from what its ``__reduce__`` gives."""
    a, f = np.frombuffer(ints, dtype=np.int64).copy(), np.frombuffer(floats, dtype=np.float64).copy()
    i, j, k = sizes[0], sizes[0] + sizes[1], sizes[0] + sizes[1] + sizes[2]
    half = f.size // 2
    return ChunkSummary(a[:i], a[i:j], a[j:k], not_reached,
                        (fields, a[k:].reshape(shape), f[:half].reshape(shape), f[half:].reshape(shape)), months)


class Running:
    """What a scenario's summary needs of its replicates, added up chunk by chunk as the chunks come in.

    The engine adds each chunk as it arrives (a worker process computes the chunk's part while its rows are in
    cache and sends it back), so that once the last chunk is in little is left to do.  Kept per chunk:

    * the counts, in one compiled pass (:func:`._summary_jit.tally`): replicates per decision code, confirmations
      per look, replicates per (grid cell of the decision month, decision) -- the cell of a month is the number
      of grid months before it, so ``month <= grid[k]`` iff its cell is at most ``k`` -- and replicates short of
      their targets (integers: added up, they are the counts of all the rows);
    * the chunk's decision months, from which the quartiles' order statistics are selected once all are in
      (:func:`._summary_jit.order_statistics`: the numbers of one sort of all the months, without the sort);
    * for each mean the summary reports, each block's count, mean and sum of squared deviations
      (:func:`._summary_jit.block_moments`), combined block after block in order at the end
      (:func:`._summary_jit.combine_moments`).  Chunks hold whole blocks, so the blocks, and the figures, do not
      depend on how the replicates were split into chunks or between processes.  They are numpy's mean and
      standard deviation (:meth:`MonteCarloEstimate.mean`) but for the rounding of the sums (in the last digits),
      exact for a constant (an MCSE of 0), and numpy's where a value is NaN or infinite.
    """

    def __init__(self, cutoff: float, n_looks: int, means: tuple[str, ...] = tuple(_MEANS)) -> None:
        self.whole, self.after_whole = _grid(cutoff)
        self.cutoff = float(cutoff)
        self.cells = np.zeros((self.whole + self.after_whole + 1) * 4, dtype=np.int64)
        self.by_look = np.zeros(n_looks, dtype=np.int64)
        self.decisions = np.zeros(4, dtype=np.int64)
        self.not_reached = 0
        self.n = 0
        self._months_here: list[np.ndarray] = []  # the decision months of the chunks add() added
        self._fields = tuple(means)
        self._moments: list[tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]] = []  # each chunk's
        self._means: dict[str, MonteCarloEstimate | None] | None = None  # of the chunks added so far

    @classmethod
    def of(cls, design: Design, r: Mapping[str, np.ndarray] | None = None) -> Running:
        """The running summary of ``design``'s scenarios (its cut-off, its looks and the final analysis), with the
        rows ``r`` added."""
        layout = _layout(design)
        running = cls(design.cutoff_month, len(layout.labels), layout.means)
        if r is not None:
            running.add(r)
        return running

    def summary_of(self, r: Mapping[str, np.ndarray], *, with_months: bool = False) -> ChunkSummary:
        """The :class:`ChunkSummary` of the rows ``r`` (one array per field, of the same rows; a chunk of whole
        blocks but the last), with a copy of their decision months if ``with_months``."""
        cells, by_look, decisions = np.zeros_like(self.cells), np.zeros_like(self.by_look), np.zeros(4, dtype=np.int64)
        not_reached = tally(np.ascontiguousarray(r["decision"]), np.ascontiguousarray(r["look"]),
                            np.ascontiguousarray(r["month"], dtype=np.float64),
                            np.ascontiguousarray(r["target_reached"]),
                            self.whole, self.cutoff, self.after_whole, cells, by_look, decisions)  # from zero
        if not_reached < 0:
            raise ValueError("decision codes must be 0..3")
        blocks = -(-int(r["decision"].size) // BLOCK_SIZE)
        fields = tuple(k for k in self._fields if k in r)  # (all of them, but for a caller that only counts)
        count, mean, m2 = (np.empty((len(fields), blocks), dtype=t) for t in (np.int64, np.float64, np.float64))
        if fields:  # each array's block sums, in one compiled call
            fields_moments(tuple(np.ascontiguousarray(r[k], dtype=np.float64) for k in fields), BLOCK_SIZE,
                           np.array([_MEANS[k] for k in fields]), count, mean, m2)
        return ChunkSummary(cells, by_look, decisions, int(not_reached), (fields, count, mean, m2),
                            np.array(r["month"], dtype=np.float64) if with_months else None)

    def add_summary(self, part: ChunkSummary, rows: int) -> None:
        """Add the :class:`ChunkSummary` of a chunk of ``rows`` rows (its decision months are to be among the
        ``months`` given to :meth:`month_quantiles`)."""
        self.cells += part.cells
        self.by_look += part.by_look
        self.decisions += part.decisions
        self.not_reached += part.not_reached
        self.n += rows
        self._moments.append(part.moments)
        self._means = None

    def add(self, r: Mapping[str, np.ndarray]) -> None:
        """Add the rows ``r`` (one array per field, of the same rows; a chunk of whole blocks but the last), and
        keep their decision months."""
        part = self.summary_of(r, with_months=True)
        assert part.months is not None
        self._months_here.append(part.months)
        self.add_summary(part, int(r["month"].size))

    def mean(self, field: str) -> MonteCarloEstimate | None:
        """:meth:`MonteCarloEstimate.mean` of a field of :data:`_MEANS` (one of those given when made) over the rows
        added, from the blocks' sums (of its finite values for an estimate; None if it has none)."""
        if self._means is None:
            self._means = self._all_means()
        return self._means.get(field)

    def _all_means(self) -> dict[str, MonteCarloEstimate | None]:
        """:meth:`mean` of every field, from the chunks' block sums combined in one compiled call (each field's
        blocks in the order the chunks were added)."""
        parts = self._moments
        if not parts:
            return {}
        fields = parts[0][0]
        if any(p[0] != fields for p in parts):  # (chunks of a caller that only counted: each field's own blocks)
            fields = tuple(k for k in self._fields if any(k in p[0] for p in parts))
            rows = [[tuple(a[p[0].index(k)] for a in p[1:]) for p in parts if k in p[0]] for k in fields]
            blocks = max(sum(c.size for c, _, _ in r) for r in rows)
            count, mean, m2 = np.zeros((len(fields), blocks), dtype=np.int64), np.zeros((len(fields), blocks)), \
                np.zeros((len(fields), blocks))  # (a field with fewer blocks is padded with empty ones)
            for i, r in enumerate(rows):
                width = sum(c.size for c, _, _ in r)
                count[i, :width], mean[i, :width], m2[i, :width] = (np.concatenate(x) for x in zip(*r))
        elif len(parts) == 1:
            count, mean, m2 = parts[0][1:]
        else:
            count, mean, m2 = (np.concatenate([p[i] for p in parts], axis=1) for i in (1, 2, 3))
        n, mu, s2 = np.empty(len(fields), dtype=np.int64), np.empty(len(fields)), np.empty(len(fields))
        combine_rows(count, mean, m2, n, mu, s2)
        out: dict[str, MonteCarloEstimate | None] = {}
        for k, nk, muk, s2k in zip(fields, n.tolist(), mu.tolist(), s2.tolist()):
            sd = math.sqrt(s2k / (nk - 1)) if nk > 1 else math.nan
            out[k] = MonteCarloEstimate(value=muk, mcse=sd / math.sqrt(nk), n_sims=nk) if nk > 0 else None
        return out

    def month_quantiles(self, qs: tuple[float, ...], months: np.ndarray | None = None) -> list[MonteCarloEstimate]:
        """:meth:`MonteCarloEstimate.quantile` of all the decision months for each of ``qs``.

        ``months``: the decision months of every row added, in any order (the engine's arrays); by default those
        :meth:`add` kept.  The order statistics the quantiles read (:meth:`MonteCarloEstimate.quantile_of_order`:
        four each) are selected in one compiled call without sorting the months: where numpy's ``min`` and ``max``
        find them all finite, :func:`._summary_jit.finite_order_statistics`, without the scan of
        :func:`._summary_jit.order_statistics` for infinities and NaNs; else that function.  Fewer than two months,
        or a NaN among them, take numpy's own path.
        """
        values = months if months is not None else (
            np.concatenate(self._months_here) if self._months_here else np.zeros(0))
        if values.size != self.n:
            raise ValueError(f"{values.size} decision months for {self.n} rows")
        if self.n >= 2:
            wanted: set[int] = set()  # the ranks the quantiles read: quantile_of_order asked once to name them

            def name(k: int) -> float:
                wanted.add(k)
                return 0.0

            for q in qs:
                MonteCarloEstimate.quantile_of_order(name, self.n, q)
            ranks = np.array(sorted(wanted), dtype=np.int64)
            got = np.empty(ranks.size)
            x = np.ascontiguousarray(values, dtype=np.float64)
            lo, hi = float(x.min()), float(x.max())  # (NaN with a NaN among them)
            finite = -math.inf < lo and hi < math.inf  # (then no scan for infinities and NaNs: item 121)
            if finite_order_statistics(x, ranks, got, lo, hi) if finite else order_statistics(x, ranks, got):
                kth = dict(zip(ranks.tolist(), got.tolist())).__getitem__
                return [MonteCarloEstimate.quantile_of_order(kth, self.n, q) for q in qs]
        return [MonteCarloEstimate.quantile(values, q) for q in qs]


def summarise(design: Design, scenario: Scenario, r: dict[str, np.ndarray], exact: float | None,
              running: Running | None = None) -> ScenarioResult:
    """Operating characteristics of one scenario from its per-replicate arrays ``r``, or from ``running``, the
    same rows added up chunk by chunk (:class:`Running`; the same numbers as adding them at once), with ``r``
    holding only the chunks' decision months (``r["months"]``).
    """
    if running is None:
        running = Running.of(design, r)
    n = running.n

    def prop(count: int | np.integer[Any]) -> MonteCarloEstimate:
        return MonteCarloEstimate.proportion(int(count), n)

    def mean(field: str) -> MonteCarloEstimate:
        got = running.mean(field)
        assert got is not None  # the values of every field but the estimate count whether finite or not
        return got

    layout = _layout(design)
    decisions = running.decisions.tolist()
    by_look = tuple(prop(c) for c in running.by_look.tolist())  # (Python integers: no numpy scalar per look)
    mean_estimate = running.mean("estimate")  # of the finite estimates; None without any
    cumulative = _curves(running.cells.reshape(-1, 4), len(layout.months), n)
    counts = {k: mean(_COUNT_FIELDS[k]) for k in layout.counts}
    quartiles = running.month_quantiles((0.25, 0.5, 0.75), r.get("months"))
    return ScenarioResult(
        name=scenario.name,
        truth=per_object("truth labels", design, lambda: {s.name: truth_label(design, s) for s in design.scenarios}
                         ).get(scenario.name) or truth_label(design, scenario),
        p_confirmed=prop(decisions[CONFIRMED]),
        look_labels=layout.labels,
        p_confirmed_by_look=by_look,
        p_futility=prop(decisions[FUTILITY]),
        p_not_confirmed=prop(decisions[NOT_CONFIRMED]),
        p_undecided=prop(decisions[UNDECIDED]),
        p_target_not_reached=prop(running.not_reached),
        decision_month_q1=quartiles[0],
        decision_month_median=quartiles[1],
        decision_month_q3=quartiles[2],
        mean_decision_month=mean("month"),
        expected_treated_enrolled=counts["expected_treated_enrolled"],
        expected_treated_evaluable=counts["expected_treated_evaluable"],
        expected_controls_enrolled=counts.get("expected_controls_enrolled"),  # reported as _count_keys() says
        expected_controls_evaluable=counts.get("expected_controls_evaluable"),
        expected_events=counts.get("expected_events"),
        mean_estimate=mean_estimate,
        mean_true_effect=mean("true_effect"),
        p_confirmed_exact=exact,
        months=layout.months,
        cumulative_confirmed=cumulative[CONFIRMED],
        cumulative_futility=cumulative[FUTILITY],
    )


def _grid(cutoff: float) -> tuple[int, bool]:
    """The months of a summary's curves: the number of whole months 0 .. floor(cut-off), and whether the cut-off
    follows them (a cut-off between two whole months)."""
    whole = math.floor(cutoff) + 1
    return whole, cutoff > whole - 1


@dataclasses.dataclass(frozen=True, slots=True)
class _Layout:
    """What a summary of a design holds besides its numbers: the looks' labels, the months of its curves (whole
    months to the cut-off, then the cut-off), the mean counts it reports (:func:`_count_keys`) and the arrays whose
    means it takes.  The same for every run of a design, so computed once per design (:func:`_layout`)."""

    labels: tuple[str, ...]
    months: tuple[float, ...]
    counts: tuple[str, ...]
    means: tuple[str, ...]


def _layout(design: Design) -> _Layout:
    def make() -> _Layout:
        n_interims = len(design.post_marketing.analyses)
        cutoff = float(design.cutoff_month)
        whole, after_whole = _grid(cutoff)
        months = tuple(float(k) for k in range(whole)) + ((cutoff,) if after_whole else ())
        counts = _count_keys(design)
        return _Layout(labels=tuple(f"interim_{j + 1}" for j in range(n_interims)) + ("final",), months=months,
                       counts=counts, means=("month", "estimate", "true_effect", *(_COUNT_FIELDS[k] for k in counts)))

    return per_object("summary layout", design, make)


def _curves(counts: np.ndarray, grid_size: int, n: int) -> list[tuple[float, ...]]:
    """For each decision code (0..3): the share of the ``n`` replicates with that decision by each grid month
    (``month <= grid[k]``), from the counts per (grid cell, decision code) -- no sort, no subsets."""
    running = counts[:grid_size].cumsum(axis=0)
    # numpy's division of the (exact) counts by n, correctly rounded as Python's float(c) / n: the same numbers
    return [tuple(shares) for shares in (running / n).T.tolist()]
