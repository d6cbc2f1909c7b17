"""The Monte-Carlo engine: calendar-time simulation of the post-marketing study.

For each scenario, replicates are simulated in fixed-size *blocks*; block ``b`` of
scenario ``s`` draws from its own streams, children of the root seed with spawn keys
``(scenario_key(name of s), b, purpose)`` -- one per purpose (entries, outcomes, ...), drawn
patient-major (see :class:`.population.Streams`) for common random numbers across designs.  Blocks are grouped into *chunks* (units of work, possibly run in worker
processes); because the block, not the chunk, owns the randomness, a seed gives
bit-identical results for any chunk size and any number of workers.

The model of one replicate
--------------------------
* **Patients** (:mod:`.population`): each arm enrols as a Poisson process in calendar
  time (ramp-up, later rate changes, an optional capacity cap on treatments per month).
  For binary and continuous endpoints, patients lost before the endpoint (``dropout``) or
  never treated are replaced: the arm's ``target_n`` evaluable patients are simulated
  directly by Poisson thinning.  For time to event, ``target_n`` patients are enrolled
  and followed with an exponential dropout hazard.  An external control cohort is
  observed in full at month 0.  Confounders, lot random effects and dilution of the
  effect enter the patient's linear predictor.
* **Looks**: the interim analyses of ``post_marketing.analyses`` (at calendar months,
  numbers of evaluable patients or events, or information fractions) and a final
  analysis when every arm's target is reached (patients, or ``target_events``), or at
  the data cut-off, whichever comes first.  Interims falling on or after the final
  analysis, or adding no information, are skipped.
* **Decisions**: ``fixed`` -- one test at the final analysis; ``group_sequential`` --
  Lan-DeMets alpha spending on the z statistic with bounds recomputed for the
  information actually observed (the last look spends all remaining alpha), optional
  non-binding futility on conditional power under the current trend; ``bayesian`` --
  posterior P(effect > margin) >= threshold.
* **Outcomes** per replicate: confirmed (at which look), stopped for futility, not
  confirmed at the final analysis with the targets reached, or undecided at the cut-off
  (targets not reached and not confirmed) -- and the calendar month of the decision.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import platform
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from .. import _draw_jit
from .._alloc import keep_freed_memory
from .._memo import per_object
from .._rng import Root, root_of
from .._typing import SeedLike
from .._validation import check_one_of
from ..errors import CondapproveError, DesignError, DesignWarning, MonteCarloPrecisionWarning
from ..spec.schema import (
    MAX_REPLICATES,
    BayesianDecision,
    Design,
    GroupSequentialDecision,
    Look,
    TimeToEventEndpoint,
)
from . import sufficient
from ._counts_jit import count_at_most, count_at_most_sorted, kth_of_ordered
from .analytic import exact_p_confirmed
from .decision import decide, screen_rows, stop_screen
from .memory import check_fits, memory_warning
from .population import Streams, arms_of, draw_truth, paired_entries, simulate_arm, true_effect
from .results import CONFIRMED, FUTILITY, NOT_CONFIRMED, UNDECIDED, Provenance, ScenarioResult, SimulationResult
from .statistics import Looks, StopScreen, TtePatients, look_statistics, tte_look_statistics
from .summary import BLOCK_SIZE, ChunkSummary, Running, summarise
from .workers import BrokenWorkers, Run, Shipped, arena_view, can_fork, in_call, release, ship, worker_pool

__all__ = ["BLOCK_SIZE", "CONFIRMED", "DEFAULT_CHUNK_SIZE", "FUTILITY", "NOT_CONFIRMED", "UNDECIDED", "simulate"]

#: Largest default number of replicates per unit of work (results do not depend on it).  Eight blocks: a chunk of
#: sufficient statistics (vectorised as a whole) keeps every per-replicate array of the chunk alive at once, and a
#: first chunk in a process pays a page fault for each page of them (about 5,100 for 16 blocks of binary replicates);
#: with 8 blocks, first runs of 10^5 binary and continuous replicates took 0.85-0.87 of the time, later runs and 10^6
#: replicates the same (docs/performance.md, item 82).
DEFAULT_CHUNK_SIZE = 8 * BLOCK_SIZE
#: By default a run is cut into about this many units of work, so that worker processes share it evenly.
_DEFAULT_CHUNKS = 12


_READ_LAG = 1e-9


@functools.lru_cache(maxsize=1024)
def scenario_key(name: str) -> int:
    """The stream key of a scenario: a stable 32-bit hash of its name.

    Streams are addressed by the scenario's *name*, not its position, so a scenario gets the
    same random numbers in every design that has it (common random numbers in comparisons)
    and whichever other scenarios are run.
    """
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big")


def _kth(values: np.ndarray, k: int) -> np.ndarray:
    """The k-th smallest value of each row (1-based; inf when a row has fewer than k)."""
    if k > values.shape[1]:
        return np.full(values.shape[0], np.inf)
    return np.asarray(np.partition(values, k - 1, axis=1)[:, k - 1])


def _kth_of_arms(parts: list[np.ndarray], k: int, m: int) -> np.ndarray:
    """:func:`_kth` of the arms' (m, n_arm) arrays side by side, without joining them: each arm's arrival months
    are in order (as computed, nearly always), so a merge of the arms up to the k-th value finds it; a replicate out
    of order is sorted (:func:`._counts_jit.kth_of_ordered`).  The same values as :func:`_kth`."""
    if k > sum(p.shape[1] for p in parts):
        return np.full(m, np.inf)
    if len(parts) > 2:
        return _kth(np.concatenate(parts, axis=1), k)
    out = np.empty(m)
    b = parts[1].T if len(parts) == 2 else np.empty((0, m))
    kth_of_ordered(parts[0].T, b, k, out)  # the draws are patient-major: their transposes are the arrays' layout
    return out


def _look_times(design: Design, data: list[Any], final: np.ndarray, patients: TtePatients | None) -> np.ndarray:
    """Calendar months of the interim looks, shape (m, J); inf where a look never happens.

    ``patients``: the time-to-event columns, whose :meth:`~.statistics.TtePatients.kth_event` gives the month of
    each row's k-th event (time to event).
    """
    pm = design.post_marketing
    m = final.size
    looks: Sequence[Look] = pm.analyses
    if not looks:
        return np.zeros((m, 0))
    tte = isinstance(pm.endpoint, TimeToEventEndpoint)
    recruited = [d for d in data if d.arm.process is not None]  # an external cohort is not recruited
    total_patients = sum(d.arm.n for d in recruited)
    ready = [d.ready for d in recruited]
    out = np.empty((m, len(looks)))
    for j, look in enumerate(looks):
        if look.month is not None:
            out[:, j] = look.month
        elif look.patients is not None:
            out[:, j] = _kth_of_arms(ready, look.patients, m)
        elif look.events is not None or tte:
            assert patients is not None
            out[:, j] = patients.kth_event(_event_rank(design, look))
        else:
            out[:, j] = _kth_of_arms(ready, look.information_count(total_patients), m)
    return out


def _event_rank(design: Design, look: Look) -> int:
    """The number of events a time-to-event look waits for (a fixed month or patient count excluded)."""
    if look.events is not None:
        return look.events
    target = design.post_marketing.target_events
    assert target is not None
    return look.information_count(target)


def _event_ranks(design: Design) -> list[int]:
    """Every k of the k-th events a time-to-event design's looks and final analysis wait for."""
    pm = design.post_marketing
    assert pm.target_events is not None
    return [pm.target_events] + [_event_rank(design, look) for look in pm.analyses
                                 if look.month is None and look.patients is None]


def _final_time(design: Design, data: list[Any], patients: TtePatients | None) -> np.ndarray:
    """Month at which every target is reached (inf if never); ``patients``: the time-to-event columns."""
    pm = design.post_marketing
    if patients is not None:
        assert pm.target_events is not None
        return patients.kth_event(pm.target_events)
    return np.asarray(np.max(np.stack([d.ready.max(axis=1) for d in data]), axis=0))


def _patient_looks(design: Design, scenario_index: int, streams: Streams, m: int) -> tuple[Looks, list[Any]]:
    """Simulate ``m`` replicates patient by patient; the looks and the arms' patients."""
    scenario = design.scenarios[scenario_index]
    cutoff = design.cutoff_month
    truth = draw_truth(streams, design, scenario, m)
    arms = arms_of(design)
    entries: list[np.ndarray | None] = [None] * len(arms)
    if len(arms) == 2 and arms[1].paired:
        entries = list(paired_entries(streams, design, arms, m))
    tte = isinstance(design.post_marketing.endpoint, TimeToEventEndpoint)
    # time to event: the event and dropout times are scaled by TtePatients.of, in its pass over the draws
    data = [simulate_arm(streams, design, arm, truth, m, entry, scale_later=tte) for arm, entry in zip(arms, entries)]
    patients = TtePatients.of(data, ranks=_event_ranks(design)) if tte else None
    target_time = _final_time(design, data, patients)
    final = np.minimum(target_time, cutoff)
    interim = _look_times(design, data, final, patients)
    # looks in time order; an interim on or after the final analysis is replaced by it
    times = np.concatenate([np.where(interim < final[:, None], interim, np.inf), final[:, None]], axis=1)
    # The look that waits for the k-th event happens at that event's calendar month, entry + time; the
    # data are read an instant later (1e-9 month, a few milliseconds) so rounding of entry + time - entry
    # cannot censor the very event that triggered the look.
    taus = [np.minimum(times[:, j], final) + _READ_LAG for j in range(times.shape[1])]
    if tte:
        # a randomised trial's rows that have certainly stopped are not analysed at the later looks (StopScreen)
        planned = per_object("stop screen", design, lambda: stop_screen(design))
        screen = None if planned is None else StopScreen(events=planned[0], bound=planned[1],
                                                         eligible=screen_rows(times, target_time, cutoff))
        stats = tte_look_statistics(design, data, taus, patients, screen)
    else:
        stats = [look_statistics(design, data, tau) for tau in taus]
    return Looks(times=times, final=final, target_time=target_time, stats=stats,
                 true_effect=true_effect(design, truth)), data


def _patient_enrolled(design: Design, data: list[Any], dec_time: np.ndarray,
                      streams: Streams) -> tuple[np.ndarray, np.ndarray]:
    """Patients enrolled in each arm by the decision (evaluable or not)."""
    pm = design.post_marketing
    m = dec_time.size
    enrolled = []
    # (once per design: a time-to-event endpoint has no follow-up field, and the model's failed lookup is slow)
    follow = per_object("follow-up", design, lambda: float(getattr(pm.endpoint, "followup_months", 0.0)))
    for d in data:
        if d.arm.process is None:
            enrolled.append(np.full(m, float(d.arm.n)))
            continue
        end = np.minimum(np.minimum(d.entry[:, -1], dec_time), design.cutoff_month - follow)
        kept = np.empty(m, dtype=np.int64)
        # (d.entry <= end[:, None]).sum(axis=1), compiled; a randomised trial's arms share the treated arm's process
        process = data[0].arm.process if d.arm.paired else d.arm.process
        if process.monotone_arrivals:  # rows in order (a capacity keeps them so): a binary search per row
            count_at_most_sorted(d.entry, end, kept)
        else:
            count_at_most(d.entry, end, kept)
        if d.arm.lost > 0:  # non-evaluable enrolments: the thinned-out Poisson process, (1 - keep) Lambda(end)
            lam = d.arm.lost * d.arm.process.expected(np.maximum(end, 0.0))
            kept = kept + _draw_jit.poisson(streams(f"lost:{d.arm.label}"), lam)  # (numpy's numbers, compiled)
        enrolled.append(kept)
    return (np.asarray(enrolled[0], dtype=np.float64),
            np.asarray(enrolled[1], dtype=np.float64) if len(enrolled) > 1 else np.zeros(m))


def _simulate_block(design: Design, scenario_index: int, streams: Streams, m: int) -> dict[str, np.ndarray]:
    """Simulate ``m`` replicates of one scenario patient by patient; returns per-replicate arrays."""
    looks, data = _patient_looks(design, scenario_index, streams, m)
    out = decide(design, looks)
    out["enrolled_t"], out["enrolled_c"] = _patient_enrolled(design, data, out["month"], streams)
    return out


_FIELDS = ("decision", "look", "month", "target_reached", "estimate", "evaluable_t", "evaluable_c", "events",
           "true_effect", "enrolled_t", "enrolled_c")
#: The type of each field of a chunk's results (the same from both simulation paths).
_FIELD_TYPES = {k: np.dtype({"decision": np.int8, "look": np.int16, "target_reached": np.bool_}.get(k, np.float64))
                for k in _FIELDS}
#: The result arrays a scenario keeps: the decision months (the summary's quartiles are read from them; everything
#: else it reports is added up chunk by chunk, :class:`.summary.Running`), and the chunks' rows of every field only
#: when they are saved to a checkpoint (whose ``month`` is then the decision months).
_MONTHS = {"months": np.dtype(np.float64)}
#: A worker died: of this process's pool (:class:`.workers.Pool`) or of a given process pool.
_BROKEN = (BrokenWorkers, BrokenProcessPool)
#: Whether this process has simulated a chunk (so numba has loaded its compiled kernels here).
_WARM = False
#: One chunk's (or scenario's) per-replicate results, by field.
_Arrays = dict[str, np.ndarray]


def _run_chunk_summary(keep_rows: bool, into: tuple[tuple[int, int], int] | None, shipped: Shipped,
                       scenario_index: int, blocks: Sequence[int], replicates: int, entropy: int,
                       spawn_key: tuple[int, ...]) -> dict[str, np.ndarray] | ChunkSummary:
    """:func:`_run_chunk` as a task of a pool (in a worker process, or in the calling process beside its workers) or
    of a given executor, of the design ``shipped`` (see :class:`.workers.Shipped`): the chunk's
    :class:`.summary.ChunkSummary` (computed here, while the rows are in cache), its decision months copied into the
    caller's arena at ``into`` (arena key, byte offset; see :class:`.workers.Arena`) or, in a process without that
    arena, sent back with it; or its rows when they are kept (for a checkpoint)."""
    design: Design = shipped.value
    out = _run_chunk(design, scenario_index, blocks, replicates, entropy, spawn_key)
    if keep_rows:
        return out
    target = None if into is None else arena_view(into[0], into[1], out["month"].size)
    if target is None:
        return Running.of(design).summary_of(out, with_months=True)
    target[:] = out["month"]
    return Running.of(design).summary_of(out)


def _run_chunk(design: Design, scenario_index: int, blocks: Sequence[int], replicates: int,
               entropy: int, spawn_key: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Simulate the given blocks of one scenario (a picklable unit of work)."""
    global _WARM
    _WARM = True
    root = Root(entropy, spawn_key)  # (the streams of np.random.SeedSequence(entropy, spawn_key=spawn_key))
    key = scenario_key(design.scenarios[scenario_index].name)
    sizes = [min(BLOCK_SIZE, replicates - b * BLOCK_SIZE) for b in blocks]
    if sufficient.eligible(design):
        with np.errstate(all="ignore"):
            return sufficient.simulate_chunk(design, scenario_index, [Streams(root, (key, b)) for b in blocks], sizes)
    parts = []
    for b, m in zip(blocks, sizes):
        streams = Streams(root, (key, b))
        with np.errstate(all="ignore"):
            parts.append(_simulate_block(design, scenario_index, streams, m))
    if len(parts) == 1:  # (a chunk of one block, as small runs have: its arrays as they are, not copied)
        return {k: np.ascontiguousarray(parts[0][k]) for k in _FIELDS}
    return {k: np.concatenate([p[k] for p in parts]) for k in _FIELDS}


def design_warnings(design: Design) -> list[str]:
    """Warnings for legitimate but likely hopeless designs (targets out of reach by the cut-off), and for designs
    whose blocks need much memory (:func:`.memory.memory_warning`)."""
    pm = design.post_marketing
    follow = getattr(pm.endpoint, "followup_months", 0.0)
    last_entry = design.cutoff_month - follow
    out = []
    if last_entry <= 0:
        out.append(f"no patient can be followed up by the cut-off: follow-up ({follow:g} months) "
                   f"is not shorter than the time to the cut-off ({design.cutoff_month:g} months)")
        return out
    for arm in arms_of(design):
        if arm.process is None:
            continue
        mu = arm.keep * float(arm.process.expected(last_entry))
        if arm.capacity is not None:
            mu = min(mu, arm.capacity * max(last_entry - arm.process.start, 0.0))
        if mu < arm.n:
            what = "patients enrolled" if isinstance(pm.endpoint, TimeToEventEndpoint) else "evaluable"
            shown = math.floor(mu * 10) / 10  # (rounded down: 48.95 of 49 was said as 'expected 49')
            out.append(f"{arm.label}: target_n={arm.n} cannot be reached before the cut-off at the stated accrual: "
                       f"expected {shown:g} {what} by month {design.cutoff_month:g}")
    memory = memory_warning(design)
    if memory is not None:
        out.append(memory)
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


def _int_arg(value: Any, name: str, *, minimum: int = 1, maximum: int | None = None, multiple: int = 1) -> int:
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum or value % multiple
            or maximum is not None and value > maximum):
        contract = f"a positive multiple of {multiple}" if multiple > 1 else f"an integer >= {minimum}"
        if maximum is not None:
            contract += f" and <= {maximum:,}"
        raise DesignError(f"`{name}` must be {contract}; got {value!r}.")
    return int(value)


def _default_chunk(design: Design, replicates: int) -> int:
    """Replicates per unit of work by default (a function of the design and replicates only, so a checkpoint
    resumes whatever ``n_jobs``).

    Patient by patient, a unit is about 1/12 of the run's blocks (at most :data:`DEFAULT_CHUNK_SIZE`), so two
    workers share even a small run evenly; from sufficient statistics, where a block is cheap and the chunk is
    vectorised as a whole, :data:`DEFAULT_CHUNK_SIZE`.
    """
    if sufficient.eligible(design):
        return DEFAULT_CHUNK_SIZE
    blocks = math.ceil(replicates / BLOCK_SIZE)
    return BLOCK_SIZE * min(DEFAULT_CHUNK_SIZE // BLOCK_SIZE, max(1, math.ceil(blocks / _DEFAULT_CHUNKS)))


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
    mcse_target: float | None = None,
    max_replicates: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
) -> SimulationResult:
    """Simulate the post-marketing study of ``design`` under each scenario.

    Parameters
    ----------
    design : Design
        A validated design (:func:`condapprove.load_design`).
    replicates : int, optional
        Replicates per scenario, at most :data:`~condapprove.spec.schema.MAX_REPLICATES` (10^8); default
        ``design.simulation.replicates``.
    seed : int, SeedSequence, Generator or None
        Root seed; default ``design.simulation.seed``, else fresh entropy (recorded in
        the provenance so the run can be repeated).
    scenarios : str or sequence of str, optional
        Names of the scenarios to run, at least one (default: all).  A scenario's results do not
        depend on which others are run.
    chunk_size : int, optional
        Replicates per unit of work, a multiple of :data:`BLOCK_SIZE`; results do not depend on it.  Default:
        :data:`DEFAULT_CHUNK_SIZE` from sufficient statistics; patient by patient, about a twelfth of the run
        (so worker processes share it evenly), at most :data:`DEFAULT_CHUNK_SIZE`.
    n_jobs : int
        Processes that simulate: this one and ``n_jobs - 1`` worker processes forked from it (1: this process
        alone); results do not depend on it.  The workers are kept, idle, for the next call with the same
        ``n_jobs`` (starting them costs tens of milliseconds), until the interpreter exits or
        :func:`~condapprove.shutdown_workers` ends them (see :mod:`.workers`).  Where processes cannot be forked
        (Windows), each call starts a :class:`concurrent.futures.ProcessPoolExecutor` of ``n_jobs`` workers for
        itself instead.
    executor : concurrent.futures.Executor, optional
        Run chunks on this executor instead (overrides ``n_jobs``).
    design_path, design_sha256 : str, optional
        Where the design came from, for the provenance.
    mcse_target : float, optional
        Run more replicates (in whole blocks, starting from ``replicates``) until every
        reported probability has a Monte-Carlo standard error <= ``mcse_target``, or
        ``max_replicates`` is reached (a :class:`~condapprove.errors.MonteCarloPrecisionWarning`
        then says so).  Default ``design.simulation.mcse_target``.
    max_replicates : int, optional
        Cap for ``mcse_target`` (default ``design.simulation.max_replicates``; at most 10^8).
    checkpoint : path-like, optional
        A folder where completed chunks are saved as they finish; rerunning with the same
        arguments resumes from it with a bit-identical result (see :mod:`.checkpoint`).
    progress : callable, optional
        Called as ``progress(blocks_done, blocks_total)`` after each chunk (for progress bars).
        The executor may be a local process pool or any :class:`concurrent.futures.Executor`,
        e.g. a Dask ``distributed.Client(...).get_executor()``; results are identical for the
        same seed.

    Returns
    -------
    SimulationResult
        Per-scenario operating characteristics with Monte-Carlo standard errors.

    Raises
    ------
    CondapproveError
        Before anything is simulated, when the processes (this one and its workers) simulating blocks of a design
        simulated patient by patient at once would need more memory than this machine has
        (:func:`.memory.check_fits`); a :class:`~condapprove.errors.DesignError` for invalid arguments.

    Examples
    --------
    >>> import condapprove
    >>> design = condapprove.load_design("designs/stemirac_survey.yaml")
    >>> res = condapprove.simulate(design, replicates=4096, seed=1)
    >>> res["no effect"].p_confirmed.value <= 0.025 + 3 * res["no effect"].p_confirmed.mcse
    True
    >>> res.to_frame()[["scenario", "p_confirmed", "p_confirmed_mcse"]].shape
    (3, 3)
    """
    if not isinstance(design, Design):
        raise DesignError(f"`design` must be a condapprove Design (see condapprove.load_design); got {design!r}.")
    n = _int_arg(design.simulation.replicates if replicates is None else replicates, "replicates",
                 maximum=MAX_REPLICATES)
    chunk = _int_arg(_default_chunk(design, n) if chunk_size is None else chunk_size, "chunk_size", multiple=BLOCK_SIZE,
                     maximum=MAX_REPLICATES)
    n_jobs = _int_arg(n_jobs, "n_jobs")
    keep_freed_memory()  # chunks reuse the memory the previous chunk freed (see condapprove._alloc)
    if mcse_target is not None and not (isinstance(mcse_target, (int, float)) and 0 < mcse_target < 0.5):
        raise DesignError(f"`mcse_target` must be a number in (0, 0.5); got {mcse_target!r}.")
    max_replicates = _int_arg(design.simulation.max_replicates if max_replicates is None else max_replicates,
                              "max_replicates", maximum=MAX_REPLICATES)
    if seed is None and design.simulation.seed is not None:
        seed, source = design.simulation.seed, "design"
    else:
        source = "generated" if seed is None else "argument"
    root = root_of(seed)
    entropy = root.entropy
    if not isinstance(entropy, int):
        raise DesignError("`seed` must carry integer entropy; got a SeedSequence with a sequence of entropy.")
    names = [s.name for s in design.scenarios]
    if scenarios is None:
        wanted = list(range(len(names)))
    else:
        if isinstance(scenarios, str):  # one name, not a sequence of one-letter names
            scenarios = [scenarios]
        for s in scenarios:
            check_one_of(s, "scenario", names)
        wanted = [names.index(s) for s in dict.fromkeys(scenarios)]
        if not wanted:
            raise DesignError(f"`scenarios` must name at least one of {', '.join(map(repr, names))}; got none.")
    warns = list(per_object("design warnings", design, lambda: tuple(design_warnings(design))))
    for w in warns:
        warnings.warn(w, DesignWarning, stacklevel=2)

    per_chunk = chunk // BLOCK_SIZE
    spawn_key = tuple(root.spawn_key)
    resolved = design.model_dump(mode="json")
    design_hash = per_object("sha256", design,
                             lambda: hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest())
    ckpt = None
    if checkpoint is not None:
        from .. import __version__
        from .checkpoint import Checkpoint

        target_hdr = design.simulation.mcse_target if mcse_target is None else mcse_target
        ckpt = Checkpoint(checkpoint, {
            "design_sha256": design_hash, "seed_entropy": str(entropy), "replicates": n, "block_size": BLOCK_SIZE,
            "chunk_size": chunk, "mcse_target": target_hdr, "max_replicates": max_replicates,
            "condapprove_version": __version__})
    # this process's workers, kept for the next call (see .workers); not inside another call of this thread's on them
    ours = executor is None and n_jobs > 1 and not in_call()
    if executor is None:  # (a given executor's processes, on machines of their own, are not known here)
        check_fits(design, n_jobs if ours else 1)  # before a block too large is killed by the system, unsaid
    for_this_call = None  # where processes are not forked (Windows): a process pool started for this call alone
    if ours and not can_fork():
        from concurrent.futures import ProcessPoolExecutor

        executor = for_this_call = ProcessPoolExecutor(max_workers=n_jobs, initializer=keep_freed_memory)
        ours = False
    kept_workers = worker_pool(n_jobs) if ours else None
    arena = None if kept_workers is None else kept_workers.arena
    # the design as the chunks' tasks carry it: pickled once, and unpickled once per worker (see .workers.Shipped)
    shipped = ship(design_hash, design) if executor is not None or kept_workers is not None else None
    lent: list[int] = []  # regions of the arena this call was lent

    def _replace_pool() -> None:
        """After this process's pool refused work (a worker died): the pool kept now, a new one unless another
        call already replaced it (a given executor cannot be replaced)."""
        nonlocal kept_workers
        if kept_workers is None:
            raise CondapproveError("a worker of the given executor died; rerun (with --checkpoint to keep work)")
        # (the call's regions stay lent from the old pool's arena, which this process keeps while it holds views
        # of it: the new workers, forked without it, send their months through their pipes)
        old, kept_workers = kept_workers, worker_pool(n_jobs)
        release(old)

    # scenario -> its summary's counts and sorted decision months, added chunk by chunk as the chunks come in (while
    # worker processes simulate the next ones), through every execute() of the scenario
    running: dict[int, Running] = {}

    exact: dict[int, float | None] = {}

    def exact_of(s: int) -> float | None:
        """:func:`.analytic.exact_p_confirmed` of scenario ``s``, computed once per run."""
        if s not in exact:
            exact[s] = exact_p_confirmed(design, design.scenarios[s])
        return exact[s]

    def execute(todo: dict[int, range], size: int,
                ready: Callable[[int, _Arrays], None] | None = None) -> dict[int, list[_Arrays]]:
        """Simulate the blocks ``todo`` of each scenario; ``ready(s, arrays)`` is called as soon as scenario
        ``s``'s rows are all in (while workers may still simulate the next scenarios)."""
        tasks = [(s, list(blocks[i:i + per_chunk])) for s, blocks in todo.items()
                 for i in range(0, len(blocks), per_chunk)]
        last = {s: i for i, (s, _) in enumerate(tasks)}  # scenario -> its last task
        total = sum(len(b) for _, b in tasks)
        finished = 0
        rows = [sum(min(BLOCK_SIZE, size - x * BLOCK_SIZE) for x in b) for _, b in tasks]
        saved: dict[int, dict[str, np.ndarray]] = {}
        if ckpt is not None:
            for i, (s, b) in enumerate(tasks):
                got = ckpt.load(scenario_key(design.scenarios[s].name), b, _FIELD_TYPES, rows[i])
                if got is not None:
                    saved[i] = got
        # each scenario's results are copied into one array per field as its chunks arrive (while workers still
        # simulate), instead of being concatenated after the last one
        start, total_rows = [], dict.fromkeys(todo, 0)
        for (s, _), r in zip(tasks, rows):
            start.append(total_rows[s])
            total_rows[s] += r
        # with this process's workers, each scenario's decision months in a region of their arena, which the workers
        # write (see .workers); where there is none, and for a checkpoint's rows, in arrays of this process
        region: dict[int, int] = {}
        if arena is not None and ckpt is None:
            for s, r in total_rows.items():
                offset = arena.lend(r)
                if offset is not None:
                    lent.append(offset)
                    region[s] = offset
        kept = _MONTHS if ckpt is None else _FIELD_TYPES
        merged = {s: {"months": arena.view(region[s], r)} if arena is not None and s in region
                  else {k: np.empty(r, dtype=t) for k, t in kept.items()} for s, r in total_rows.items()}
        if ckpt is not None:  # (the rows' own months)
            for arrays in merged.values():
                arrays["months"] = arrays["month"]

        def finish(i: int, out: dict[str, np.ndarray] | ChunkSummary) -> None:
            nonlocal finished
            s, b = tasks[i]
            here = slice(start[i], start[i] + rows[i])
            if s not in running:
                running[s] = Running.of(design)
            if not isinstance(out, ChunkSummary):  # the rows (else a worker summed them, months in the arena or not)
                for k in merged[s].keys() & _FIELD_TYPES.keys():  # (kept only for a checkpoint)
                    merged[s][k][here] = out[k]
                if ckpt is None:
                    merged[s]["months"][here] = out["month"]
                out = running[s].summary_of(out)
            elif out.months is not None:
                merged[s]["months"][here] = out.months
            running[s].add_summary(out, rows[i])
            if ckpt is not None and i not in saved:
                ckpt.save(scenario_key(design.scenarios[s].name), b, {k: merged[s][k][here] for k in _FIELDS})
            finished += len(b)
            if progress is not None:
                progress(finished, total)
            if ready is not None and last[s] == i:
                ready(s, merged[s])

        if executor is None and kept_workers is None:
            for i, (s, b) in enumerate(tasks):
                finish(i, saved[i] if i in saved else _run_chunk(design, s, b, size, entropy, spawn_key))
        else:
            first = next((i for i in range(len(tasks)) if i not in saved), None)
            local: dict[int, _Arrays] = {}  # chunks simulated in this process
            if not _WARM and first is not None:
                # the first chunk here, before the workers start: numba loads the compiled kernels once, in this
                # process (about half a second), and forked workers inherit them instead of each loading them
                # again beside this process, which needs them for the summary (measured: with two workers, the
                # first summary of a fresh process took a second of three processes sharing two cores)
                s, b = tasks[first]
                local[first] = _run_chunk(design, s, b, size, entropy, spawn_key)

            def task(j: int) -> tuple[Any, ...]:
                """The arguments of :func:`_run_chunk_summary` for task ``j``."""
                s2, b2 = tasks[j]
                into = (arena.key, region[s2] + 8 * start[j]) if arena is not None and s2 in region else None
                return ckpt is not None, into, shipped, s2, b2, size, entropy, spawn_key

            runs: list[Run] = []  # on this process's pool (one per start: a start after a worker died adds one)
            futures: list[Future[Any]] = []  # on a given executor

            def launch(chunks: list[int]) -> Callable[[int], Any]:
                """Start ``chunks`` on the workers: a function that waits for chunk ``i``'s result and gives it."""
                assert shipped is not None
                if kept_workers is not None:
                    run = kept_workers.pool.start(_run_chunk_summary, [task(j) for j in chunks])
                    runs.append(run)
                    position = {j: k for k, j in enumerate(chunks)}
                    return lambda i: run.result(position[i])
                assert executor is not None
                submitted = {j: executor.submit(_run_chunk_summary, *task(j)) for j in chunks}
                futures.extend(submitted.values())
                return lambda i: submitted[i].result()

            pending = [i for i in range(len(tasks)) if i not in saved and i not in local]
            try:
                try:
                    result_of = launch(pending) if pending else None
                except _BROKEN:  # a worker kept from an earlier call died since
                    _replace_pool()
                    result_of = launch(pending)
                for s in todo:  # while the workers simulate
                    exact_of(s)
                for i in range(len(tasks)):  # results in submission order: deterministic
                    if i in saved or i in local:
                        finish(i, saved[i] if i in saved else local[i])
                        continue
                    assert result_of is not None
                    try:
                        out = result_of(i)
                    except _BROKEN:
                        # a worker died (killed, out of memory): say so, and rerun this chunk and the ones not yet
                        # collected in a fresh pool; their streams are the same, so the result is unchanged
                        for run in runs:
                            run.close()
                        _replace_pool()
                        msg = (f"a worker process died while simulating; its chunk (scenario "
                               f"{design.scenarios[tasks[i][0]].name!r}, blocks {tasks[i][1][0]}-{tasks[i][1][-1]}) "
                               "and the pending ones were run again")
                        warnings.warn(msg, RuntimeWarning, stacklevel=2)
                        warns.append(msg)
                        result_of = launch([j for j in pending if j >= i])
                        out = result_of(i)
                    finish(i, out)
            except BaseException:
                # interrupted (an error, Ctrl-C): the chunks not started are dropped, so that the workers, kept for
                # the next call, do not simulate them first
                for f in futures:
                    f.cancel()
                raise
            finally:
                for run in runs:  # (the chunks not claimed yet cancelled, the pool free for the next call)
                    run.close()
        return {s: [merged[s]] for s in merged}

    def summary(s: int, parts: list[dict[str, np.ndarray]]) -> ScenarioResult:
        """Summarise scenario ``s`` from its arrays (and what :class:`.summary.Running` added up of them)."""
        merged = parts[0] if len(parts) == 1 else {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        return summarise(design, design.scenarios[s], merged, exact_of(s), running[s])

    target = design.simulation.mcse_target if mcse_target is None else mcse_target
    try:
        if target is None:
            n_blocks = math.ceil(n / BLOCK_SIZE)
            early: dict[int, ScenarioResult] = {}

            def ready(s: int, arrays: dict[str, np.ndarray]) -> None:
                # a scenario whose chunks are all in is summarised at once (with workers, while they simulate the
                # next scenarios); the last one is summarised below
                if s != wanted[-1]:
                    early[s] = summary(s, [arrays])

            done = execute({s: range(n_blocks) for s in wanted}, n, ready)
            results = [early[s] if s in early else summary(s, done[s]) for s in wanted]
        else:
            results = _until_precise(design, wanted, n, float(target), max_replicates, execute, summary, warns)
    finally:
        if arena is not None:  # the summaries hold no view of it
            for offset in lent:
                arena.give_back(offset)
        if kept_workers is not None:
            release(kept_workers)
        if for_this_call is not None:
            for_this_call.shutdown()
    n = max(r.p_confirmed.n_sims for r in results)

    sha = design_sha256 or design_hash
    ours_v, numpy_v, scipy_v, python_v = _software()
    prov = Provenance(
        condapprove_version=ours_v,
        numpy_version=numpy_v,
        scipy_version=scipy_v,
        python_version=python_v,
        design_name=design.name,
        design_path=design_path,
        design_sha256=sha,
        seed_entropy=int(entropy),
        seed_source=source,
        replicates=n,
        block_size=BLOCK_SIZE,
        chunk_size=chunk,
        mcse_target=None if target is None else float(target),
        cutoff_month=float(design.cutoff_month),
        test=per_object("rule label", design, lambda: _rule_label(design)),
        defaults_applied=per_object("defaults", design, lambda: tuple(_defaults_applied(design))),
        resolved_design=_compact_cohort(resolved),
    )
    return SimulationResult(scenarios=tuple(results), provenance=prov, warnings=tuple(warns))


@functools.cache
def _software() -> tuple[str, str, str, str]:
    """The versions of condapprove, numpy, scipy and Python a result's provenance records (once per process)."""
    import scipy

    from .. import __version__

    return __version__, np.__version__, scipy.__version__, platform.python_version()


#: Patient-level cohort lists longer than this are summarised in the provenance (a CSV cohort can be huge).
MAX_COHORT_IN_PROVENANCE = 1000


def _compact_cohort(resolved: dict[str, Any]) -> dict[str, Any]:
    """The resolved design for the provenance, with long patient-level cohort lists replaced by a summary.

    A cohort read from a large CSV would otherwise be copied into every result; the summary keeps its
    length and SHA-256 (of its JSON), so two runs can still be told apart (the design hash covers it all).
    """
    cohort = (resolved.get("pre_approval") or {}).get("cohort")
    if not isinstance(cohort, dict):
        return resolved
    long = {k: v for k, v in cohort.items() if isinstance(v, list) and len(v) > MAX_COHORT_IN_PROVENANCE}
    if not long:
        return resolved
    summary = {k: f"<{len(v)} values, sha256 {hashlib.sha256(json.dumps(v).encode()).hexdigest()[:16]}>"
               for k, v in long.items()}
    return {**resolved, "pre_approval": {**resolved["pre_approval"], "cohort": {**cohort, **summary}}}


def _probabilities(r: ScenarioResult) -> list[Any]:
    return [r.p_confirmed, *r.p_confirmed_by_look, r.p_futility, r.p_not_confirmed, r.p_undecided,
            r.p_target_not_reached]


def _until_precise(design: Design, wanted: list[int], start: int, target: float, cap: int, execute: Any,
                   summary: Any, warns: list[str]) -> list[ScenarioResult]:
    """Add whole blocks per scenario until every probability's MCSE <= target (or the cap)."""
    cap_blocks = max(1, cap // BLOCK_SIZE)
    want = {s: min(cap_blocks, max(1, math.ceil(start / BLOCK_SIZE))) for s in wanted}
    have: dict[int, int] = {s: 0 for s in wanted}
    parts: dict[int, list[dict[str, np.ndarray]]] = {s: [] for s in wanted}
    final: dict[int, ScenarioResult] = {}
    while len(final) < len(wanted):
        todo = {s: range(have[s], want[s]) for s in wanted if s not in final}
        for s, out in execute(todo, 1 << 62).items():
            parts[s].extend(out)
            have[s] = want[s]
        for s in todo:
            res = summary(s, parts[s])
            worst = max(p.mcse for p in _probabilities(res))
            if worst <= target:
                final[s] = res
                continue
            # replicates needed for the worst probability, with 10% to spare
            need = max(p.value * (1 - p.value) for p in _probabilities(res)) / target**2 * 1.1
            nxt = min(cap_blocks, max(have[s] + 1, math.ceil(need / BLOCK_SIZE)))
            if nxt <= have[s]:
                ran = res.p_confirmed.n_sims
                limit = (f"max_replicates {cap}" if ran == cap else
                         f"the whole blocks of {BLOCK_SIZE} within max_replicates {cap}" if ran < cap else
                         f"one block of {BLOCK_SIZE}, the least run, above max_replicates {cap}")
                msg = (f"scenario {res.name!r}: the largest MCSE is {worst:.4f} after {ran} replicates ({limit}); "
                       f"the target was {target:g}")
                warnings.warn(msg, MonteCarloPrecisionWarning, stacklevel=3)
                warns.append(msg)
                final[s] = res
            else:
                want[s] = nxt
    return [final[s] for s in wanted]


def _rule_label(design: Design) -> str:
    pm = design.post_marketing
    dec = pm.decision
    if isinstance(dec, GroupSequentialDecision):
        fut = (f", futility if conditional power < {dec.futility_conditional_power_below:g}"
               if dec.futility_conditional_power_below is not None else "")
        if dec.futility_z_below is not None:
            fut += ", futility if z <= " + "/".join(f"{f:g}" for f in dec.futility_z_below)
        return f"group sequential z, {dec.spending} spending, alpha {dec.alpha:g}{fut}"
    if isinstance(dec, BayesianDecision):
        return f"Bayesian: P(effect > {dec.margin:g}) >= {dec.threshold:g}"
    return pm.test

