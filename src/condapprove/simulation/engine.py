"""The Monte-Carlo engine: calendar-time simulation of the post-marketing study.

For each scenario, replicates are simulated in fixed-size *blocks*; block ``b`` of
scenario ``s`` draws from its own stream, the child of the root seed with spawn key
``(s, b)``.  Blocks are grouped into *chunks* (units of work, possibly run in worker
processes); because the block, not the chunk, owns the randomness, a seed gives
bit-identical results for any chunk size and any number of workers.

The model of one replicate (binary endpoint)
-------------------------------------------
* Each arm enrols as a Poisson process (linear ramp-up) from the approval date.
  A patient drops out before the endpoint with probability ``dropout``, independently;
  by Poisson thinning, completers and dropouts are independent Poisson processes.
* Dropouts are replaced: an arm keeps enrolling until ``target_n`` completers have
  entered, or until the last month whose entrants can still be observed by the data
  cut-off (cut-off less follow-up).
* The analysis takes place when every arm's ``target_n``-th completer has been
  followed up, or at the data cut-off, whichever comes first; it uses every evaluable
  patient (entered by analysis month less follow-up, not dropped out).
* Responses are independent Bernoulli with the scenario's rates, so responders per
  arm are binomial (the sufficient statistic is drawn directly).
* Efficacy is confirmed when the one-sided p-value is at most ``alpha``.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from .._rng import root_seed_sequence, spawn_streams
from .._typing import SeedLike
from ..accrual import RampedPoissonAccrual
from ..endpoints import BinaryOutcome, binary_pvalues, simulate_binary
from ..errors import DesignError, DesignWarning
from ..results import MonteCarloEstimate
from ..spec.schema import Accrual, BenchmarkControl, Design, Scenario
from .analytic import exact_p_confirmed, expected_evaluable
from .results import Provenance, ScenarioResult, SimulationResult

__all__ = ["BLOCK_SIZE", "DEFAULT_CHUNK_SIZE", "simulate"]

#: Replicates per random stream. Results depend on it, so it is a constant (recorded in provenance).
BLOCK_SIZE = 2048
#: Default replicates per unit of work (results do not depend on it).
DEFAULT_CHUNK_SIZE = 16 * BLOCK_SIZE

_FIELDS = ("confirmed", "target_reached", "analysis_month", "enrolled_t", "evaluable_t", "enrolled_c", "evaluable_c")


@dataclass(frozen=True, slots=True)
class _Arm:
    process: RampedPoissonAccrual
    target: int
    dropout: float
    rate: float


def _process(a: Accrual) -> RampedPoissonAccrual:
    return RampedPoissonAccrual(rate=a.rate_per_month, ramp_up=a.ramp_up_months, start=a.start_month)


def _arms(design: Design, scenario: Scenario) -> list[_Arm]:
    pm = design.post_marketing
    arms = [_Arm(_process(pm.treated.accrual), pm.treated.target_n, pm.treated.dropout, scenario.treated_rate)]
    if not isinstance(pm.control, BenchmarkControl):
        acc = pm.control_accrual
        assert acc is not None and scenario.control_rate is not None
        arms.append(_Arm(_process(acc), pm.control_target_n, pm.control.dropout, scenario.control_rate))
    return arms


def _simulate_block(design: Design, scenario: Scenario, rng: np.random.Generator, m: int) -> dict[str, np.ndarray]:
    """Simulate ``m`` replicates of one scenario; returns per-replicate arrays."""
    pm = design.post_marketing
    cutoff = design.cutoff_month
    follow = pm.endpoint.followup_months
    arms = _arms(design, scenario)
    entries = [arm.process.first_arrivals(rng, m, arm.target, keep=1.0 - arm.dropout) for arm in arms]
    done = np.max(np.stack([e[:, -1] for e in entries]), axis=0) + follow
    analysis = np.minimum(done, cutoff)
    last_entry = analysis - follow
    out: dict[str, np.ndarray] = {
        "analysis_month": analysis,
        "target_reached": done <= cutoff,
    }
    evaluable = []
    for j, (arm, e) in enumerate(zip(arms, entries)):
        n_eval = (e <= last_entry[:, None]).sum(axis=1).astype(np.int64)
        enrol_end = np.minimum(e[:, -1], last_entry)
        if arm.dropout > 0:
            lam = arm.dropout * arm.process.expected(np.maximum(enrol_end, 0.0))
            dropped = rng.poisson(lam).astype(np.int64)
        else:
            dropped = np.zeros(m, dtype=np.int64)
        tag = "t" if j == 0 else "c"
        out[f"evaluable_{tag}"] = n_eval
        out[f"enrolled_{tag}"] = n_eval + dropped
        evaluable.append(n_eval)
    x = [simulate_binary(rng, n, arm.rate) for arm, n in zip(arms, evaluable)]
    if len(arms) == 1:
        outcome = BinaryOutcome(x_treated=x[0], n_treated=evaluable[0])
        bench = pm.control.rate if isinstance(pm.control, BenchmarkControl) else None
        p = binary_pvalues(outcome, test="exact_binomial", benchmark=bench)
        out["enrolled_c"] = np.zeros(m, dtype=np.int64)
        out["evaluable_c"] = np.zeros(m, dtype=np.int64)
    else:
        outcome = BinaryOutcome(x_treated=x[0], n_treated=evaluable[0], x_control=x[1], n_control=evaluable[1])
        p = binary_pvalues(outcome, test=pm.test)  # type: ignore[arg-type]
    out["confirmed"] = p <= pm.analysis.alpha
    return out


def _run_chunk(design: Design, scenario_index: int, blocks: Sequence[int], replicates: int,
               entropy: int, spawn_key: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Simulate the given blocks of one scenario (a picklable unit of work)."""
    root = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    scenario = design.scenarios[scenario_index]
    parts = []
    for b in blocks:
        m = min(BLOCK_SIZE, replicates - b * BLOCK_SIZE)
        rng = spawn_streams(root, (scenario_index, b))
        parts.append(_simulate_block(design, scenario, rng, m))
    return {k: np.concatenate([p[k] for p in parts]) for k in _FIELDS}


def _summarise(design: Design, scenario: Scenario, r: dict[str, np.ndarray], exact: float | None) -> ScenarioResult:
    n = int(r["confirmed"].size)
    conf = int(r["confirmed"].sum())
    concurrent = not isinstance(design.post_marketing.control, BenchmarkControl)
    month = r["analysis_month"]
    return ScenarioResult(
        name=scenario.name,
        treated_rate=scenario.treated_rate,
        control_rate=scenario.control_rate,
        p_confirmed=MonteCarloEstimate.proportion(conf, n),
        p_not_confirmed=MonteCarloEstimate.proportion(n - conf, n),
        p_target_not_reached=MonteCarloEstimate.proportion(int((~r["target_reached"]).sum()), n),
        analysis_month_q1=MonteCarloEstimate.quantile(month, 0.25),
        analysis_month_median=MonteCarloEstimate.quantile(month, 0.5),
        analysis_month_q3=MonteCarloEstimate.quantile(month, 0.75),
        mean_analysis_month=MonteCarloEstimate.mean(month),
        expected_treated_enrolled=MonteCarloEstimate.mean(r["enrolled_t"]),
        expected_treated_evaluable=MonteCarloEstimate.mean(r["evaluable_t"]),
        expected_controls_enrolled=MonteCarloEstimate.mean(r["enrolled_c"]) if concurrent else None,
        expected_controls_evaluable=MonteCarloEstimate.mean(r["evaluable_c"]) if concurrent else None,
        p_confirmed_exact=exact,
    )


def design_warnings(design: Design) -> list[str]:
    """Warnings for legitimate but likely hopeless designs (targets out of reach by the cut-off)."""
    pm = design.post_marketing
    last_entry = design.cutoff_month - pm.endpoint.followup_months
    out = []
    if last_entry <= 0:
        out.append(
            f"no patient can be followed up by the cut-off: follow-up ({pm.endpoint.followup_months:g} months) "
            f"is not shorter than the time to the cut-off ({design.cutoff_month:g} months)")
        return out
    arms = [("treated", pm.treated.accrual, pm.treated.dropout, pm.treated.target_n)]
    if not isinstance(pm.control, BenchmarkControl):
        acc = pm.control_accrual
        assert acc is not None
        arms.append(("control", acc, pm.control.dropout, pm.control_target_n))
    for label, acc, drop, target in arms:
        mu = expected_evaluable(acc, drop, last_entry)
        if mu < target:
            out.append(
                f"{label}: target_n={target} cannot be reached before the cut-off at the stated accrual: "
                f"expected {mu:.0f} evaluable by month {design.cutoff_month:g}")
    return out


def _defaults_applied(model: object, prefix: str = "") -> list[str]:
    from pydantic import BaseModel

    out: list[str] = []
    if not isinstance(model, BaseModel):
        return out
    for name in type(model).model_fields:
        path = f"{prefix}{name}"
        value = getattr(model, name)
        if name not in model.model_fields_set:
            out.append(path)
        elif isinstance(value, BaseModel):
            out.extend(_defaults_applied(value, path + "."))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                out.extend(_defaults_applied(item, f"{path}.{i}."))
    return out


def simulate(
    design: Design,
    *,
    replicates: int | None = None,
    seed: SeedLike = None,
    scenarios: Sequence[str] | None = None,
    chunk_size: int | None = None,
    n_jobs: int = 1,
    executor: Executor | None = None,
    design_path: str | None = None,
    design_sha256: str | None = None,
) -> SimulationResult:
    """Simulate the post-marketing study of ``design`` under each scenario.

    Parameters
    ----------
    design : Design
        A validated design (:func:`condapprove.load_design`).
    replicates : int, optional
        Replicates per scenario; default ``design.simulation.replicates``.
    seed : int, SeedSequence, Generator or None
        Root seed; default ``design.simulation.seed``, else fresh entropy (recorded in
        the provenance so the run can be repeated).
    scenarios : sequence of str, optional
        Names of the scenarios to run (default: all).  A scenario's results do not
        depend on which others are run.
    chunk_size : int, optional
        Replicates per unit of work, a multiple of :data:`BLOCK_SIZE`; results do not depend on it.
    n_jobs : int
        Worker processes (1 runs in this process); results do not depend on it.
    executor : concurrent.futures.Executor, optional
        Run chunks on this executor instead (overrides ``n_jobs``).
    design_path, design_sha256 : str, optional
        Where the design came from, for the provenance.

    Returns
    -------
    SimulationResult
        Per-scenario operating characteristics with Monte-Carlo standard errors.

    Examples
    --------
    >>> import condapprove
    >>> design = condapprove.load_design("designs/stemirac_survey.yaml")
    >>> res = condapprove.simulate(design, replicates=4096, seed=1)
    >>> round(res["no effect"].p_confirmed.value, 3) <= 0.025 + 3 * res["no effect"].p_confirmed.mcse
    True
    >>> res.to_frame()[["scenario", "p_confirmed", "p_confirmed_mcse"]].shape
    (3, 3)
    """
    if not isinstance(design, Design):
        raise DesignError(f"`design` must be a condapprove Design (see condapprove.load_design); got {design!r}.")
    n = design.simulation.replicates if replicates is None else replicates
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DesignError(f"`replicates` must be an integer >= 1; got {n!r}.")
    n = int(n)
    chunk = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1 or chunk % BLOCK_SIZE:
        raise DesignError(f"`chunk_size` must be a positive multiple of {BLOCK_SIZE}; got {chunk!r}.")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise DesignError(f"`n_jobs` must be an integer >= 1; got {n_jobs!r}.")
    if seed is None and design.simulation.seed is not None:
        seed, source = design.simulation.seed, "design"
    else:
        source = "generated" if seed is None else "argument"
    root = root_seed_sequence(seed)
    entropy = root.entropy
    if not isinstance(entropy, int):
        raise DesignError("`seed` must carry integer entropy; got a SeedSequence with a sequence of entropy.")
    names = [s.name for s in design.scenarios]
    if scenarios is None:
        wanted = list(range(len(names)))
    else:
        missing = [s for s in scenarios if s not in names]
        if missing:
            import difflib

            close = difflib.get_close_matches(missing[0], names, n=1)
            hint = f" (help: did you mean {close[0]!r}?)" if close else ""
            raise DesignError(f"`scenario` must be one of {', '.join(map(repr, names))}; got {missing[0]!r}{hint}")
        wanted = [names.index(s) for s in dict.fromkeys(scenarios)]
    warns = design_warnings(design)
    for w in warns:
        warnings.warn(w, DesignWarning, stacklevel=2)

    n_blocks = math.ceil(n / BLOCK_SIZE)
    per_chunk = chunk // BLOCK_SIZE
    tasks = [(s, list(range(b, min(b + per_chunk, n_blocks)))) for s in wanted for b in range(0, n_blocks, per_chunk)]
    spawn_key = tuple(root.spawn_key)
    own_pool = None
    if executor is None and n_jobs > 1 and len(tasks) > 1:
        own_pool = executor = ProcessPoolExecutor(max_workers=n_jobs)
    try:
        if executor is None:
            outputs = [_run_chunk(design, s, blocks, n, entropy, spawn_key) for s, blocks in tasks]
        else:
            futures = [executor.submit(_run_chunk, design, s, blocks, n, entropy, spawn_key) for s, blocks in tasks]
            outputs = [f.result() for f in futures]
    finally:
        if own_pool is not None:
            own_pool.shutdown()
    results = []
    for s in wanted:
        parts = [o for (ts, _), o in zip(tasks, outputs) if ts == s]
        merged = {k: np.concatenate([p[k] for p in parts]) for k in _FIELDS}
        scen = design.scenarios[s]
        results.append(_summarise(design, scen, merged, exact_p_confirmed(design, scen)))

    resolved = design.model_dump(mode="json")
    sha = design_sha256 or hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()
    import scipy

    from .. import __version__

    prov = Provenance(
        condapprove_version=__version__,
        numpy_version=np.__version__,
        scipy_version=scipy.__version__,
        python_version=platform.python_version(),
        design_name=design.name,
        design_path=design_path,
        design_sha256=sha,
        seed_entropy=int(entropy),
        seed_source=source,
        replicates=n,
        block_size=BLOCK_SIZE,
        chunk_size=int(chunk),
        cutoff_month=float(design.cutoff_month),
        test=design.post_marketing.test,
        defaults_applied=tuple(_defaults_applied(design)),
        resolved_design=resolved,
    )
    return SimulationResult(scenarios=tuple(results), provenance=prov, warnings=tuple(warns))
