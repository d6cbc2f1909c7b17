"""Results of a post-marketing simulation: per-scenario operating characteristics with MCSE."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .._text import fixed, render_table
from ..results import MonteCarloEstimate, ResultMixin, json_text
from ..spec.schema import Design, Scenario

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Provenance", "ScenarioResult", "SimulationResult"]

#: Decision codes per replicate.
CONFIRMED, FUTILITY, NOT_CONFIRMED, UNDECIDED = 0, 1, 2, 3

#: The figures reported per scenario, in display order, with their labels.
FIGURES: tuple[tuple[str, str, int], ...] = (  # (field, label, decimals shown)
    ("p_confirmed", "P(confirmed by cut-off)", 4),
    ("p_futility", "P(stopped for futility)", 4),
    ("p_not_confirmed", "P(not confirmed, targets reached)", 4),
    ("p_undecided", "P(undecided at cut-off)", 4),
    ("p_target_not_reached", "P(targets not reached by cut-off)", 4),
    ("decision_month_q1", "decision month, Q1", 2),
    ("decision_month_median", "decision month, median", 2),
    ("decision_month_q3", "decision month, Q3", 2),
    ("mean_decision_month", "decision month, mean", 2),
    ("expected_treated_enrolled", "E[treated enrolled]", 2),
    ("expected_treated_evaluable", "E[treated evaluable at decision]", 2),
    ("expected_controls_enrolled", "E[controls enrolled]", 2),
    ("expected_controls_evaluable", "E[controls evaluable at decision]", 2),
    ("expected_events", "E[events at decision]", 2),
    ("mean_estimate", "mean estimated effect at decision", 4),
    ("mean_true_effect", "mean true effect", 4),
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
        """One row: the replicates, every figure with its ``_mcse``, and ``p_confirmed_<look>`` columns."""
        frame = ResultMixin.to_frame(self)
        frame.insert(2, "replicates", self.p_confirmed.n_sims)  # (with mcse_target, the scenarios' differ)
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
        Replicates per scenario: the most of any scenario (with ``mcse_target`` the scenarios' may differ; each
        figure's ``n_sims`` and the ``replicates`` column of ``to_frame`` give a scenario's own).
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

    def replicates_text(self, thousands: str = "", noun: str = " replicates") -> str:
        """How many replicates each scenario ran, in words: ``"4096 replicates per scenario"``, or with an MCSE
        target that gave the scenarios different numbers ``"2048 to 4096 replicates per scenario (until every MCSE
        <= 0.008)"``; ``thousands`` is the separator of thousands (``","`` or none)."""
        counts = [s.p_confirmed.n_sims for s in self.scenarios]
        low, high = (f"{n:{thousands}}" for n in (min(counts), max(counts)))
        if low == high:
            return f"{high}{noun} per scenario"
        return f"{low} to {high}{noun} per scenario (until every MCSE <= {self.provenance.mcse_target:g})"

    def summary(self) -> str:
        """A plain-text table of the operating characteristics (what the CLI prints).

        Rows are figures, columns are scenarios; each cell is ``value ± MCSE``.
        """
        p = self.provenance
        headers = ["", *(s.name for s in self.scenarios)]
        rows: list[list[str]] = []
        rows.append(["truth (treated / control)", *(s.truth for s in self.scenarios)])
        if len({s.p_confirmed.n_sims for s in self.scenarios}) > 1:  # (an MCSE target ran different numbers)
            rows.append(["replicates", *(str(s.p_confirmed.n_sims) for s in self.scenarios)])
        for key, label, decimals in FIGURES:
            cells = []
            for s in self.scenarios:
                est = getattr(s, key)
                cells.append("-" if est is None else f"{est:.{decimals}f}")
            rows.append([label, *cells])
            if key == "p_confirmed" and any(s.p_confirmed_exact is not None for s in self.scenarios):
                rows.append(["  exact (no simulation)", *(
                    "-" if s.p_confirmed_exact is None else fixed(s.p_confirmed_exact) for s in self.scenarios)])
            if key == "p_confirmed" and len(self.scenarios[0].look_labels) > 1:
                for j, label in enumerate(self.scenarios[0].look_labels):
                    rows.append([f"  at {label.replace('_', ' ')}", *(
                        f"{s.p_confirmed_by_look[j]:.4f}" for s in self.scenarios)])
        head = (f"{p.design_name}\n"
                f"data cut-off at month {p.cutoff_month:g} after approval; decision: {p.test}; "
                f"{self.replicates_text()}; seed {p.seed_entropy} ({p.seed_source})")
        text = head + "\n\n" + render_table(headers, rows)
        if self.warnings:
            text += "\n\n" + "\n".join(f"warning: {w}" for w in self.warnings)
        return text
