"""Results of a post-marketing simulation: per-scenario operating characteristics with MCSE."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._text import render_table
from ..results import MonteCarloEstimate, ResultMixin, json_text
from ..spec.schema import Design, Scenario

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Provenance", "ScenarioResult", "SimulationResult"]

#: Decision codes per replicate.
CONFIRMED, FUTILITY, NOT_CONFIRMED, UNDECIDED = 0, 1, 2, 3

#: The figures reported per scenario, in display order, with their labels.
FIGURES: tuple[tuple[str, str], ...] = (
    ("p_confirmed", "P(confirmed by cut-off)"),
    ("p_futility", "P(stopped for futility)"),
    ("p_not_confirmed", "P(not confirmed, targets reached)"),
    ("p_undecided", "P(undecided at cut-off)"),
    ("p_target_not_reached", "P(targets not reached by cut-off)"),
    ("decision_month_q1", "decision month, Q1"),
    ("decision_month_median", "decision month, median"),
    ("decision_month_q3", "decision month, Q3"),
    ("expected_treated_enrolled", "E[treated enrolled]"),
    ("expected_treated_evaluable", "E[treated evaluable at decision]"),
    ("expected_controls_enrolled", "E[controls enrolled]"),
    ("expected_controls_evaluable", "E[controls evaluable at decision]"),
    ("expected_events", "E[events at decision]"),
    ("mean_estimate", "mean estimated effect at decision"),
    ("mean_true_effect", "mean true effect"),
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioResult(ResultMixin):
    """Operating characteristics of one scenario.

    Attributes
    ----------
    name : str
        The scenario's name.
    truth : str
        The true parameters simulated, in words.
    p_confirmed : MonteCarloEstimate
        Probability that efficacy is confirmed at some analysis no later than the data cut-off.
    look_labels : tuple of str
        The analyses, interims in design order then ``"final"``.
    p_confirmed_by_look : tuple of MonteCarloEstimate
        Probability of confirmation at each analysis (they add up to ``p_confirmed``).
    p_futility : MonteCarloEstimate
        Probability of stopping for futility at an interim.
    p_not_confirmed : MonteCarloEstimate
        Probability that the final analysis, with every target reached, does not confirm.
    p_undecided : MonteCarloEstimate
        Probability of reaching the data cut-off with a target not reached and efficacy not
        confirmed (the cut-off analysis used the patients available).
    p_target_not_reached : MonteCarloEstimate
        Probability that some target (patients or events) is not reached by the cut-off.
    decision_month_q1, decision_month_median, decision_month_q3, mean_decision_month : MonteCarloEstimate
        Distribution of the calendar month (from approval) of the decision.
    expected_treated_enrolled, expected_treated_evaluable : MonteCarloEstimate
        Treated patients enrolled (including dropouts and never-treated) by the end of
        enrolment, and evaluable at the decision.
    expected_controls_enrolled, expected_controls_evaluable : MonteCarloEstimate or None
        The same for a control arm.
    expected_events : MonteCarloEstimate or None
        Events at the decision (time to event).
    mean_estimate : MonteCarloEstimate or None
        Mean estimated effect at the decision (rate or mean difference; log hazard ratio), over
        replicates where it is defined (None when it is defined in none, e.g. no events at all).
    mean_true_effect : MonteCarloEstimate
        Mean of the true effect on the same scale (its MCSE is 0 for a fixed scenario); the
        difference from ``mean_estimate`` shows the bias of the analysis (confounding,
        dilution, selection by the stopping rule).
    p_confirmed_exact : float or None
        The exact probability of confirmation computed without simulation, where an
        analytic counterpart exists; shown beside the simulated value.
    months : tuple of float
        Whole months from approval to the data cut-off (0, 1, ..., cut-off).
    cumulative_confirmed, cumulative_futility : tuple of float
        P(confirmed / stopped for futility by each of ``months``).
    """

    name: str
    truth: str
    p_confirmed: MonteCarloEstimate
    look_labels: tuple[str, ...]
    p_confirmed_by_look: tuple[MonteCarloEstimate, ...]
    p_futility: MonteCarloEstimate
    p_not_confirmed: MonteCarloEstimate
    p_undecided: MonteCarloEstimate
    p_target_not_reached: MonteCarloEstimate
    decision_month_q1: MonteCarloEstimate
    decision_month_median: MonteCarloEstimate
    decision_month_q3: MonteCarloEstimate
    mean_decision_month: MonteCarloEstimate
    expected_treated_enrolled: MonteCarloEstimate
    expected_treated_evaluable: MonteCarloEstimate
    expected_controls_enrolled: MonteCarloEstimate | None
    expected_controls_evaluable: MonteCarloEstimate | None
    expected_events: MonteCarloEstimate | None
    mean_estimate: MonteCarloEstimate | None
    mean_true_effect: MonteCarloEstimate
    p_confirmed_exact: float | None = None
    months: tuple[float, ...] = ()
    cumulative_confirmed: tuple[float, ...] = ()
    cumulative_futility: tuple[float, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row: every figure with its ``_mcse``, and ``p_confirmed_<look>`` columns."""
        frame = ResultMixin.to_frame(self)
        for label, est in zip(self.look_labels, self.p_confirmed_by_look):
            frame[f"p_confirmed_{label}"] = est.value
            frame[f"p_confirmed_{label}_mcse"] = est.mcse
        return frame


def truth_label(design: Design, scenario: Scenario) -> str:
    """The true parameters of a scenario in words (a distribution for assurance is shown by its parameters)."""
    def show(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, (int, float)):
            return f"{v:g}"
        given = {k: x for k, x in v.model_dump().items() if x is not None}
        return " ".join(f"{k} {x}" for k, x in given.items())

    kind = design.post_marketing.endpoint.type
    if kind == "binary":
        return show(scenario.treated_rate) + ("" if scenario.control_rate is None else f" / {show(scenario.control_rate)}")
    if kind == "continuous":
        return show(scenario.treated_mean) + ("" if scenario.control_mean is None else f" / {show(scenario.control_mean)}")
    return f"HR {show(scenario.hazard_ratio)}"


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
    worker process.  ``moments``: for each array of :data:`_MEANS`, the count, mean and sum of squared deviations
    of each block of :data:`BLOCK_SIZE` rows; ``month_sorted``: the chunk's decision months sorted (8 bytes a
    replicate), when asked for."""

    cells: np.ndarray
    by_look: np.ndarray
    decisions: np.ndarray
    not_reached: int
    moments: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    month_sorted: np.ndarray | None = None


class Running:
    """What a scenario's summary needs of its replicates, added up chunk by chunk as the chunks come in.

    The engine adds each chunk as it arrives (a worker process computes the chunk's part while its rows are in
    cache and sends it back), so that once the last chunk is in little is left to do.  Kept per chunk:

    * the counts, in one compiled pass (:func:`._summary_jit.tally`): replicates per decision code, confirmations
      per look, replicates per (grid cell of the decision month, decision) -- the cell of a month is the number
      of grid months before it, so ``month <= grid[k]`` iff its cell is at most ``k`` -- and replicates short of
      their targets (integers: added up, they are the counts of all the rows);
    * the chunk's decision months sorted, from which the quartiles' order statistics are selected
      (:func:`._summary_jit.kth_of_runs`: the numbers of one sort of all the months);
    * for each mean the summary reports, each block's count, mean and sum of squared deviations
      (:func:`._summary_jit.block_moments`), combined block after block in order at the end
      (:func:`._summary_jit.combine_moments`).  Chunks hold whole blocks, so the blocks, and the figures, do not
      depend on how the replicates were split into chunks or between processes.  They are numpy's mean and
      standard deviation (:meth:`MonteCarloEstimate.mean`) but for the rounding of the sums (in the last digits),
      exact for a constant (an MCSE of 0), and numpy's where a value is NaN or infinite.
    """

    def __init__(self, cutoff: float, n_looks: int, means: tuple[str, ...] = tuple(_MEANS)) -> None:
        self.whole = math.floor(cutoff) + 1  # the grid: whole months 0 .. floor(cut-off), then the cut-off
        self.cutoff = float(cutoff)
        self.after_whole = cutoff > self.whole - 1
        self.cells = np.zeros((self.whole + self.after_whole + 1) * 4, dtype=np.int64)
        self.by_look = np.zeros(n_looks, dtype=np.int64)
        self.decisions = np.zeros(4, dtype=np.int64)
        self.not_reached = 0
        self.n = 0
        self.run_sizes: list[int] = []  # rows of each chunk added, whose sorted months make one increasing run
        self._sorted_here: list[np.ndarray] = []  # those runs, when add() sorted them
        self._moments: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {k: [] for k in means}

    @classmethod
    def of(cls, design: Design, r: Mapping[str, np.ndarray] | None = None) -> Running:
        """The running summary of ``design``'s scenarios (its cut-off, its looks and the final analysis), with the
        rows ``r`` added."""
        means = ("month", "estimate", "true_effect", *(_COUNT_FIELDS[k] for k in _count_keys(design)))
        running = cls(design.cutoff_month, len(design.post_marketing.analyses) + 1, means)
        if r is not None:
            running.add(r)
        return running

    def summary_of(self, r: Mapping[str, np.ndarray], *, with_sorted_months: bool = False) -> ChunkSummary:
        """The :class:`ChunkSummary` of the rows ``r`` (one array per field, of the same rows; a chunk of whole
        blocks but the last), with their decision months sorted if ``with_sorted_months``."""
        from ._summary_jit import block_moments, tally

        cells, by_look, decisions = np.zeros_like(self.cells), np.zeros_like(self.by_look), np.zeros(4, dtype=np.int64)
        not_reached = tally(np.ascontiguousarray(r["decision"]), np.ascontiguousarray(r["look"]),
                            np.ascontiguousarray(r["month"], dtype=np.float64),
                            np.ascontiguousarray(r["target_reached"]),
                            self.whole, self.cutoff, self.after_whole, cells, by_look, decisions)  # from zero
        if not_reached < 0:
            raise ValueError("decision codes must be 0..3")
        moments = {}
        blocks = -(-int(r["decision"].size) // BLOCK_SIZE)
        for k in self._moments:
            finite_only = _MEANS[k]
            if k not in r:  # (a caller that only counts)
                continue
            count, mean, m2 = np.empty(blocks, dtype=np.int64), np.empty(blocks), np.empty(blocks)
            block_moments(np.ascontiguousarray(r[k], dtype=np.float64), BLOCK_SIZE, finite_only, count, mean, m2)
            moments[k] = (count, mean, m2)
        return ChunkSummary(cells, by_look, decisions, int(not_reached), moments,
                            np.sort(r["month"]) if with_sorted_months else None)

    def add_summary(self, part: ChunkSummary, rows: int) -> None:
        """Add the :class:`ChunkSummary` of a chunk of ``rows`` rows (its decision months, sorted, are the next
        ``rows`` of the ``sorted_months`` given to :meth:`month_quantiles`)."""
        self.cells += part.cells
        self.by_look += part.by_look
        self.decisions += part.decisions
        self.not_reached += part.not_reached
        self.n += rows
        self.run_sizes.append(rows)
        for k, m in part.moments.items():
            self._moments[k].append(m)

    def add(self, r: Mapping[str, np.ndarray]) -> None:
        """Add the rows ``r`` (one array per field, of the same rows; a chunk of whole blocks but the last), and
        keep their decision months sorted."""
        part = self.summary_of(r, with_sorted_months=True)
        assert part.month_sorted is not None
        self._sorted_here.append(part.month_sorted)
        self.add_summary(part, int(r["month"].size))

    def mean(self, field: str) -> MonteCarloEstimate | None:
        """:meth:`MonteCarloEstimate.mean` of a field of :data:`_MEANS` (one of those given when made) over the rows
        added, from the blocks' sums (of its finite values for an estimate; None if it has none)."""
        from ._summary_jit import combine_moments

        parts = self._moments[field]
        if not parts:
            return None
        n, mu, s2 = combine_moments(*(parts[0] if len(parts) == 1 else (np.concatenate(x) for x in zip(*parts))))
        if n == 0:
            return None
        sd = math.sqrt(s2 / (n - 1)) if n > 1 else math.nan
        return MonteCarloEstimate(value=float(mu), mcse=sd / math.sqrt(n), n_sims=int(n))

    def month_quantiles(self, qs: tuple[float, ...], sorted_months: np.ndarray | None = None
                        ) -> list[MonteCarloEstimate]:
        """:meth:`MonteCarloEstimate.quantile` of all the decision months for each of ``qs``.

        ``sorted_months``: each chunk's months sorted, one after another in the order the chunks were added
        (the engine's arrays); by default the runs :meth:`add` sorted.  Only the order statistics are read (a few
        of each run's pages), not the whole array.
        """
        values = sorted_months if sorted_months is not None else (
            np.concatenate(self._sorted_here) if self._sorted_here else np.zeros(0))
        if values.size != self.n:
            raise ValueError(f"{values.size} sorted months for {self.n} rows")
        bounds = np.cumsum([0, *self.run_sizes], dtype=np.int64)
        if len(self.run_sizes) == 1:
            return [MonteCarloEstimate.quantile(values, q, presorted=True) for q in qs]
        ends = values[bounds[1:][bounds[1:] > bounds[:-1]] - 1]
        if self.n < 2 or np.isnan(ends).any():  # a NaN (sorted last in its run): numpy's own path
            return [MonteCarloEstimate.quantile(values, q) for q in qs]
        from ._summary_jit import kth_of_runs

        return [MonteCarloEstimate.quantile_of_order(lambda k: kth_of_runs(values, bounds, k), self.n, q) for q in qs]


def summarise(design: Design, scenario: Scenario, r: dict[str, np.ndarray], exact: float | None,
              running: Running | None = None) -> ScenarioResult:
    """Operating characteristics of one scenario from its per-replicate arrays ``r``, or from ``running``, the
    same rows added up chunk by chunk (:class:`Running`; the same numbers as adding them at once), with ``r``
    holding only each chunk's decision months sorted (``r["month_sorted"]``, in the order they were added).
    """
    pm = design.post_marketing
    if running is None:
        running = Running.of(design, r)
    n = running.n

    def prop(count: int | np.integer[Any]) -> MonteCarloEstimate:
        return MonteCarloEstimate.proportion(int(count), n)

    def mean(field: str) -> MonteCarloEstimate:
        got = running.mean(field)
        assert got is not None  # the values of every field but the estimate count whether finite or not
        return got

    labels = tuple(f"interim_{j + 1}" for j in range(len(pm.analyses))) + ("final",)
    cutoff, whole = design.cutoff_month, running.whole
    grid = np.arange(float(whole)) if not running.after_whole else np.append(np.arange(float(whole)), cutoff)
    decisions = running.decisions
    by_look = tuple(prop(c) for c in running.by_look)
    mean_estimate = running.mean("estimate")  # of the finite estimates; None without any
    cumulative = _curves(running.cells.reshape(-1, 4), grid.size, n)
    counts = {k: mean(_COUNT_FIELDS[k]) for k in _count_keys(design)}
    quartiles = running.month_quantiles((0.25, 0.5, 0.75), r.get("month_sorted"))
    return ScenarioResult(
        name=scenario.name,
        truth=truth_label(design, scenario),
        p_confirmed=prop(decisions[CONFIRMED]),
        look_labels=labels,
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
        months=tuple(grid.tolist()),
        cumulative_confirmed=cumulative[CONFIRMED],
        cumulative_futility=cumulative[FUTILITY],
    )


def _curves(counts: np.ndarray, grid_size: int, n: int) -> list[tuple[float, ...]]:
    """For each decision code (0..3): the share of the ``n`` replicates with that decision by each grid month
    (``month <= grid[k]``), from the counts per (grid cell, decision code) -- no sort, no subsets."""
    running = np.cumsum(counts[:grid_size], axis=0)
    # numpy's division of the (exact) counts by n, correctly rounded as Python's float(c) / n: the same numbers
    return [tuple(shares) for shares in (running / n).T.tolist()]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Provenance(ResultMixin):
    """Everything needed to reproduce a simulation.

    Attributes
    ----------
    condapprove_version, numpy_version, scipy_version, python_version : str
        Software versions.
    design_name : str
        The design's ``name``.
    design_path : str or None
        The design file, when loaded from one.
    design_sha256 : str
        SHA-256 of the design file's bytes (of the canonical JSON of the design otherwise).
    seed_entropy : int
        Entropy of the root :class:`numpy.random.SeedSequence`.
    seed_source : str
        ``"argument"``, ``"design"`` or ``"generated"`` (fresh entropy, recorded here).
    replicates : int
        Replicates per scenario.
    block_size : int
        Replicates per random stream (one stream per scenario and block); results
        depend on it, so it is fixed and recorded.
    chunk_size : int
        Replicates per unit of work (a multiple of ``block_size``); results do not depend on it.
    mcse_target : float or None
        The requested largest MCSE of every probability (replicates then differ per scenario:
        see each estimate's ``n_sims``; ``replicates`` is the largest).
    cutoff_month : float
        The data cut-off, in months from approval.
    test : str
        The decision rule: the fixed test, the group-sequential spending, or the Bayesian criterion.
    defaults_applied : tuple of str
        Dotted paths of design fields that were not given and took their default.
    resolved_design : dict
        The design with every default filled in.
    """

    condapprove_version: str
    numpy_version: str
    scipy_version: str
    python_version: str
    design_name: str
    design_path: str | None
    design_sha256: str
    seed_entropy: int
    seed_source: str
    replicates: int
    block_size: int
    chunk_size: int
    mcse_target: float | None
    cutoff_month: float
    test: str
    defaults_applied: tuple[str, ...]
    resolved_design: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SimulationResult(ResultMixin):
    """The outcome of :func:`condapprove.simulate`: one :class:`ScenarioResult` per scenario.

    Attributes
    ----------
    scenarios : tuple of ScenarioResult
        In the design's order.
    provenance : Provenance
        Seed, versions, design hash and resolved design.
    warnings : tuple of str
        Design warnings (e.g. a target that cannot be reached in time at the stated accrual).
    """

    scenarios: tuple[ScenarioResult, ...]
    provenance: Provenance
    warnings: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> ScenarioResult:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(f"no scenario {name!r}; have " + ", ".join(repr(s.name) for s in self.scenarios))

    def to_frame(self) -> pd.DataFrame:
        """One row per scenario; every figure with a ``<figure>_mcse`` column beside it."""
        import pandas as pd

        frame = pd.concat([s.to_frame() for s in self.scenarios], ignore_index=True)
        return frame.rename(columns={"name": "scenario"})

    def decision_curves(self) -> pd.DataFrame:
        """Tidy cumulative probabilities of each decision by calendar month.

        Columns ``scenario, month, decision, probability`` with ``decision`` in
        ``{"confirmed", "futility"}``; the data cut-off is the last month.
        """
        import pandas as pd

        rows = []
        for s in self.scenarios:
            for label, values in (("confirmed", s.cumulative_confirmed), ("futility", s.cumulative_futility)):
                rows += [{"scenario": s.name, "month": mo, "decision": label, "probability": v}
                         for mo, v in zip(s.months, values)]
        return pd.DataFrame(rows)

    def to_json(self) -> str:
        """The result as JSON text (figures with MCSE, provenance, warnings).

        A figure that is undefined (an MCSE from a single replicate) is ``null``, never NaN.
        """
        return json_text(self.to_dict())

    def __repr__(self) -> str:
        p = self.provenance
        best = ", ".join(f"{s.name}: {s.p_confirmed.value:.3f}" for s in self.scenarios)
        return (f"SimulationResult(design={p.design_name!r}, replicates={p.replicates}, seed={p.seed_entropy}, "
                f"P(confirmed)={{{best}}})")

    def summary(self) -> str:
        """A plain-text table of the operating characteristics (what the CLI prints).

        Rows are figures, columns are scenarios; each cell is ``value ± MCSE``.
        """
        p = self.provenance
        headers = ["", *(s.name for s in self.scenarios)]
        rows: list[list[str]] = []
        rows.append(["truth (treated / control)", *(s.truth for s in self.scenarios)])
        for key, label in FIGURES:
            cells = []
            for s in self.scenarios:
                est = getattr(s, key)
                if est is None:
                    cells.append("-")
                elif key.startswith(("p_", "mean_e", "mean_t")):
                    cells.append(f"{est.value:.4f} ± {est.mcse:.4f}")
                else:
                    cells.append(f"{est.value:.2f} ± {est.mcse:.2f}")
            rows.append([label, *cells])
            if key == "p_confirmed" and any(s.p_confirmed_exact is not None for s in self.scenarios):
                rows.append(["  exact (no simulation)", *(
                    "-" if s.p_confirmed_exact is None else f"{s.p_confirmed_exact:.4f}" for s in self.scenarios)])
            if key == "p_confirmed" and len(self.scenarios[0].look_labels) > 1:
                for j, label in enumerate(self.scenarios[0].look_labels):
                    rows.append([f"  at {label.replace('_', ' ')}", *(
                        f"{s.p_confirmed_by_look[j].value:.4f} ± {s.p_confirmed_by_look[j].mcse:.4f}"
                        for s in self.scenarios)])
        head = (f"{p.design_name}\n"
                f"data cut-off at month {p.cutoff_month:g} after approval; decision: {p.test}; "
                f"{p.replicates} replicates per scenario; seed {p.seed_entropy} ({p.seed_source})")
        text = head + "\n\n" + render_table(headers, rows)
        if self.warnings:
            text += "\n\n" + "\n".join(f"warning: {w}" for w in self.warnings)
        return text
