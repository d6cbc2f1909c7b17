"""Results of a post-marketing simulation: per-scenario operating characteristics with MCSE."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from .._text import render_table
from ..results import MonteCarloEstimate, ResultMixin, to_builtin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Provenance", "ScenarioResult", "SimulationResult"]

#: The figures reported per scenario, in display order, with their labels.
FIGURES: tuple[tuple[str, str], ...] = (
    ("p_confirmed", "P(confirmed by cut-off)"),
    ("p_not_confirmed", "P(not confirmed)"),
    ("p_target_not_reached", "P(target_n not reached)"),
    ("analysis_month_q1", "analysis month, Q1"),
    ("analysis_month_median", "analysis month, median"),
    ("analysis_month_q3", "analysis month, Q3"),
    ("expected_treated_enrolled", "E[treated enrolled]"),
    ("expected_treated_evaluable", "E[treated evaluable]"),
    ("expected_controls_enrolled", "E[controls enrolled]"),
    ("expected_controls_evaluable", "E[controls evaluable]"),
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioResult(ResultMixin):
    """Operating characteristics of one scenario.

    Attributes
    ----------
    name : str
        The scenario's name.
    treated_rate, control_rate : float or None
        The true response rates simulated (``control_rate`` is None against a benchmark).
    p_confirmed : MonteCarloEstimate
        Probability that efficacy is confirmed (one-sided p-value <= alpha) at an
        analysis no later than the data cut-off.
    p_not_confirmed : MonteCarloEstimate
        ``1 - p_confirmed``.
    p_target_not_reached : MonteCarloEstimate
        Probability that some arm has fewer than its ``target_n`` evaluable patients at
        the cut-off (the analysis then uses the patients available).
    analysis_month_q1, analysis_month_median, analysis_month_q3 : MonteCarloEstimate
        Quartiles of the calendar month (from approval) of the analysis.
    mean_analysis_month : MonteCarloEstimate
        Its mean.
    expected_treated_enrolled, expected_treated_evaluable : MonteCarloEstimate
        Mean numbers of treated patients enrolled (including dropouts) and evaluable at the analysis.
    expected_controls_enrolled, expected_controls_evaluable : MonteCarloEstimate or None
        The same for a concurrent control arm.
    p_confirmed_exact : float or None
        The exact probability of confirmation computed without simulation, where an
        analytic counterpart exists (binary endpoint: conditioning on the Poisson number
        of evaluable patients by the cut-off); shown beside the simulated value.
    """

    name: str
    treated_rate: float
    control_rate: float | None
    p_confirmed: MonteCarloEstimate
    p_not_confirmed: MonteCarloEstimate
    p_target_not_reached: MonteCarloEstimate
    analysis_month_q1: MonteCarloEstimate
    analysis_month_median: MonteCarloEstimate
    analysis_month_q3: MonteCarloEstimate
    mean_analysis_month: MonteCarloEstimate
    expected_treated_enrolled: MonteCarloEstimate
    expected_treated_evaluable: MonteCarloEstimate
    expected_controls_enrolled: MonteCarloEstimate | None
    expected_controls_evaluable: MonteCarloEstimate | None
    p_confirmed_exact: float | None = None


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
    cutoff_month : float
        The data cut-off, in months from approval.
    test : str
        The test used in the analysis.
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

    def to_json(self) -> str:
        """The result as JSON text (figures with MCSE, provenance, warnings)."""
        return json.dumps(to_builtin(self.to_dict()), indent=2, allow_nan=False, default=str) + "\n"

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
        rate_row = ["true rates (treated / control)"]
        for s in self.scenarios:
            rate_row.append(f"{s.treated_rate:g}" + ("" if s.control_rate is None else f" / {s.control_rate:g}"))
        rows.append(rate_row)
        for key, label in FIGURES:
            cells = []
            for s in self.scenarios:
                est = getattr(s, key)
                if est is None:
                    cells.append("-")
                elif key.startswith("p_"):
                    cells.append(f"{est.value:.4f} ± {est.mcse:.4f}")
                else:
                    cells.append(f"{est.value:.2f} ± {est.mcse:.2f}")
            rows.append([label, *cells])
            if key == "p_confirmed" and any(s.p_confirmed_exact is not None for s in self.scenarios):
                rows.append(["  exact (no simulation)", *(
                    "-" if s.p_confirmed_exact is None else f"{s.p_confirmed_exact:.4f}" for s in self.scenarios)])
        head = (f"{p.design_name}\n"
                f"data cut-off at month {p.cutoff_month:g} after approval; test: {p.test}; "
                f"{p.replicates} replicates per scenario; seed {p.seed_entropy} ({p.seed_source})")
        text = head + "\n\n" + render_table(headers, rows)
        if self.warnings:
            text += "\n\n" + "\n".join(f"warning: {w}" for w in self.warnings)
        return text
