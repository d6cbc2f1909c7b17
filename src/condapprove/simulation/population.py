"""Simulated patients of one block of replicates: entry times, covariates, outcomes.

Every array has one row per replicate and one column per patient of an arm.  The true
parameters may differ between replicates (assurance), so they are arrays of shape (m, 1).
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from .. import _draw_jit, _rng  # (their attributes looked up at the call: the benchmark times the draws)
from .._jit import (
    add_site_effects,
    binary_outcomes,
    binary_outcomes_by_pattern,
    continuous_outcomes,
    covariate_effects,
    cumsum_rows,
    pattern_effects,
    running_sums,
)
from .._memo import per_object
from ..accrual import PoissonAccrual, apply_capacity
from ..errors import DesignError
from ..kernels.survival import Exponential, draw_event_times
from ..priors import Beta, BetaMixture, Normal, NormalMixture
from ..spec.schema import (
    Accrual,
    BenchmarkControl,
    ConcurrentControl,
    ContinuousEndpoint,
    Design,
    DistributionSpec,
    ExternalControl,
    Scenario,
    TimeToEventEndpoint,
)

__all__ = ["Arm", "ArmData", "Streams", "Truth", "TteScale", "accrual_process", "allocation", "arms_of", "draw_truth", "outcome_parameter", "paired_entries",
           "simulate_arm", "true_effect"]


@functools.lru_cache(maxsize=1024)
def _purpose_word(purpose: str) -> int:
    """The last word of a purpose's stream key: the first four bytes of its SHA-256 (once per purpose)."""
    return int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:4], "big")


class Streams:
    """The random streams of one block of replicates, one per purpose.

    Each purpose ("entry:treated", "y:control", ...) has its own generator, the child of the
    block's seed sequence keyed by a hash of the purpose, and patient-level draws are made
    patient-major (shape (patients, replicates), then transposed).  So a patient's numbers do
    not depend on how many patients an arm has or on what else is drawn: two designs that
    differ in a sample size or a covariate see the same patients (common random numbers).
    The layout in memory does not change the numbers: :meth:`patients` gives a transposed view of the
    draws, or with ``rows`` the same numbers replicate by replicate.
    """

    def __init__(self, root: np.random.SeedSequence | _rng.Root, key: tuple[int, ...]) -> None:
        self._root = root
        self._key = key
        self._cache: dict[str, np.random.Generator] = {}
        # purpose -> (states, row): the state words of its stream, row ``row`` of ``states`` (shared by a chunk's
        # blocks, :meth:`words_of`), while no generator was asked for it
        self._words: dict[str, tuple[np.ndarray, int]] = {}

    def __call__(self, purpose: str) -> np.random.Generator:
        got = self._cache.get(purpose)
        if got is None:
            got = self._cache[purpose] = _rng.spawn_streams(self._root, (*self._key, _purpose_word(purpose)))
            held = self._words.pop(purpose, None)
            if held is not None:  # drawn from by its words before: the generator goes on from where they are
                _draw_jit.set_pcg64_state(got, held[0][held[1]])
        return got

    @staticmethod
    def words_of(streams: list[Streams], purpose: str) -> np.ndarray | None:
        """The state words of the stream of ``purpose`` of each of ``streams`` (a chunk's blocks), as the rows of one
        (len(streams), 4) array that they keep: compiled draws on its rows advance every stream.

        Drawing on the words makes no generator and passes no state through one (what that costs: the notes
        before :func:`condapprove._draw_jit.pcg64_words`); the words of a chunk's blocks are hashed in one call
        (:func:`condapprove._rng.child_states`).  A generator asked for later starts where the words are, so a
        stream gives the same numbers either way.  None when one of the streams has its generator already (draw
        from the generators), when they are not below one root, and when the root's entropy is not a non-negative
        integer.
        """
        held = [s._words.get(purpose) for s in streams]
        first = held[0] if held else None
        if (first is not None and first[0].shape[0] == len(streams)
                and all(h is not None and h[0] is first[0] and h[1] == b for b, h in enumerate(held))):
            return first[0]  # (the usual case: a chunk's second draw of a purpose)
        root = streams[0]._root if streams else None
        if root is None or any(purpose in s._cache or s._root is not root for s in streams):
            return None  # (blocks below different roots are not the engine's: their generators draw)
        seeds = _rng.child_states(root, [s._key for s in streams], _purpose_word(purpose))
        if seeds is None:
            return None
        states = _draw_jit.pcg64_words(seeds)
        for b, (s, h) in enumerate(zip(streams, held)):
            if h is not None:  # words of its own, maybe drawn from: they go on where they are
                states[b] = h[0][h[1]]
            s._words[purpose] = (states, b)
        return states

    def patients(self, purpose: str, m: int, n: int, draw: str = "random", *, rows: bool = False,
                 **kw: Any) -> np.ndarray:
        """A (m, n) array of draws, drawn patient-major (so patient j's draws do not depend on n); drawn in a compiled
        loop for the parameterless draws of :data:`condapprove._draw_jit.DRAWS` (the same numbers).

        The array is a transposed view of the draws as they lie in memory, or, with ``rows``, C-contiguous (the
        same numbers laid out replicate by replicate, for a pass that reads them along the rows; the compiled
        draws store them so at little cost, numpy's are copied)."""
        rng = self(purpose)
        if not kw and draw in _draw_jit.DRAWS:
            a = _draw_jit.draw(rng, draw, (n, m), transposed=rows)
            return a if rows else a.T
        a = np.asarray(getattr(rng, draw)(size=(n, m), **kw).T)
        return np.ascontiguousarray(a) if rows else a


def accrual_process(a: Accrual) -> PoissonAccrual:
    """The :class:`~condapprove.accrual.PoissonAccrual` of a design's accrual section."""
    return PoissonAccrual(rate=a.rate_per_month, ramp_up=a.ramp_up_months, start=a.start_month,
                          changes=tuple((c.month, c.rate_per_month) for c in a.rate_changes))


@dataclass(frozen=True, slots=True)
class Arm:
    """How one arm's patients are generated.

    ``n`` columns are simulated: evaluable patients for binary and continuous endpoints
    (dropouts and never-treated patients are replaced, i.e. thinned out with probability
    ``1 - keep``), enrolled-and-treated patients for time to event, or the external cohort.
    """

    label: str
    treated: bool
    n: int
    process: PoissonAccrual | None  # None: an external cohort, all observed at month 0
    keep: float
    lost: float  # probability an arrival is not evaluable (dropout or never treated), counted as enrolled
    capacity: float | None
    prevalence: tuple[float, ...]  # of each confounder
    paired: bool = False  # randomised 1:ratio with the treated arm from one stream (see allocation)


#: The arms of the last few designs, by identity (a design is frozen): the engine asks for them several times a
#: run, and building the accrual processes is a measurable part of a short run's fixed cost.
_ARMS: dict[int, tuple[Design, tuple[Arm, ...]]] = {}


def arms_of(design: Design) -> list[Arm]:
    """The arms of the design (treated first)."""
    hit = _ARMS.get(id(design))
    if hit is not None and hit[0] is design:
        return list(hit[1])
    arms = _arms_of(design)
    if len(_ARMS) >= 16:
        _ARMS.clear()  # (clear, not evict one: atomic, so safe when threads share the cache)
    _ARMS[id(design)] = (design, tuple(arms))
    return arms


def _arms_of(design: Design) -> list[Arm]:
    pm = design.post_marketing
    tte = isinstance(pm.endpoint, TimeToEventEndpoint)
    conf = getattr(pm.control, "confounding", None)
    cov = conf.covariates if conf is not None else []
    t = pm.treated
    keep_t = (1.0 - t.never_treated) * (1.0 if tte else 1.0 - t.dropout)
    arms = [Arm("treated", True, t.target_n, accrual_process(t.accrual), keep_t, 1.0 - keep_t,
                t.accrual.capacity_per_month, tuple(c.prevalence_treated for c in cov))]
    c = pm.control
    if isinstance(c, ConcurrentControl):
        acc = pm.control_accrual
        assert acc is not None
        keep_c = 1.0 if tte else 1.0 - c.dropout
        paired = (pm.randomised and c.ratio is not None and keep_c == keep_t
                  and t.accrual.capacity_per_month is None)
        arms.append(Arm("control", False, pm.control_target_n, accrual_process(acc), keep_c, 1.0 - keep_c,
                        acc.capacity_per_month, tuple(v.prevalence_control for v in cov), paired))
    elif isinstance(c, ExternalControl):
        arms.append(Arm("control", False, c.n, None, 1.0, 0.0, None, tuple(v.prevalence_control for v in cov)))
    return arms


@dataclass(frozen=True, slots=True)
class Truth:
    """True parameters per replicate (shape (m, 1)) on the endpoint's natural scale.

    ``treated`` is the treated rate / mean / hazard ratio; ``reference`` the control or
    benchmark rate / mean (None for time to event, whose reference is the baseline curve);
    ``site_effects`` the random site effects of each replicate, shared by both arms.
    """

    treated: np.ndarray
    reference: float | None
    site_effects: np.ndarray | None = None  # (m, sites): shared by both arms of a replicate


def _posterior_draw(rng: np.random.Generator, design: Design, prior_name: str, m: int) -> np.ndarray:
    pre = design.pre_approval
    assert pre is not None
    cohort = pre.build_cohort()
    prior = pre.priors[prior_name].build()
    if isinstance(prior, (Beta, BetaMixture)):
        beta_post = prior.update(cohort.responders, cohort.n)
        if isinstance(beta_post, Beta):
            return rng.beta(beta_post.a, beta_post.b, m)
        w = np.asarray(beta_post.weights)
        k = rng.choice(w.size, size=m, p=w / w.sum())
        return rng.beta(np.asarray(beta_post.a)[k], np.asarray(beta_post.b)[k])
    assert isinstance(prior, (Normal, NormalMixture))
    normal_post = prior.update(cohort.mean, cohort.sd / math.sqrt(cohort.n))
    if isinstance(normal_post, Normal):
        return rng.normal(normal_post.mean, normal_post.sd, m)
    w = np.asarray(normal_post.weights)
    k = rng.choice(w.size, size=m, p=w / w.sum())
    return rng.normal(np.asarray(normal_post.means)[k], np.asarray(normal_post.sds)[k])


def draw_truth(streams: Streams, design: Design, scenario: Scenario, m: int) -> Truth:
    """Draw (or repeat) the true parameters of ``m`` replicates."""
    pm = design.post_marketing
    kind = pm.endpoint.type
    value = {"binary": scenario.treated_rate, "continuous": scenario.treated_mean,
             "time_to_event": scenario.hazard_ratio}[kind]
    if isinstance(value, DistributionSpec):
        rng = streams("truth")
        if value.posterior is not None:
            draws = _posterior_draw(rng, design, value.posterior, m)
        elif value.beta is not None:
            draws = rng.beta(value.beta[0], value.beta[1], m)
        elif value.normal is not None:
            draws = rng.normal(value.normal[0], value.normal[1], m)
        else:
            assert value.lognormal is not None
            draws = np.exp(rng.normal(value.lognormal[0], value.lognormal[1], m))
        treated = draws[:, None]
    else:
        assert value is not None
        treated = np.full((m, 1), float(value))
    if kind == "binary":
        ref = pm.control.rate if isinstance(pm.control, BenchmarkControl) else scenario.control_rate
    elif kind == "continuous":
        ref = pm.control.mean if isinstance(pm.control, BenchmarkControl) else scenario.control_mean
    else:
        ref = None
    het = pm.heterogeneity
    sites = None
    if het is not None and het.sites > 1 and het.site_sd > 0:
        sites = streams.patients("sites", m, het.sites, "normal", loc=0.0, scale=het.site_sd)
    return Truth(treated=treated, reference=ref, site_effects=sites)


@dataclass(frozen=True, slots=True)
class TteScale:
    """How a time-to-event arm's standard exponential draws become times, when :func:`simulate_arm` leaves that
    to the pass that reads them (``scale_later``): event time ``y * y_mult[i] / y_rate`` in replicate ``i``
    (``y_mult``: :math:`e^{-\\beta}`, one per replicate; ``y_rate``: the exponential baseline's rate), dropout
    time ``dropout_time / dropout_rate``.  The same operations, in the same order, as
    :func:`~condapprove.kernels.survival.draw_event_times` and the dropout's scaling: the same numbers.
    """

    y_mult: np.ndarray
    y_rate: float
    dropout_rate: float


@dataclass(frozen=True, slots=True)
class ArmData:
    """Patients of one arm in one block.

    Attributes
    ----------
    entry : (m, n) calendar month of treatment (inf: never, within the deadline's horizon).
    ready : (m, n) month from which the patient counts in an analysis: the response or
        score is observed (binary, continuous); the entry (time to event).
    y : (m, n) response (0/1), score, or event time since treatment (time to event; see ``scale``).
    dropout_time : (m, n) or None, time to loss to follow-up since treatment (time to event; see ``scale``).
    x : (m, n, p) or None, confounders (kept for the propensity-weighted comparison only, which reads them).
    scale : TteScale or None, set when ``y`` and ``dropout_time`` hold the standard exponential draws and
        not yet the times (time to event, ``simulate_arm(..., scale_later=True)``): read them through
        :meth:`event_times`, or scale them as :class:`TteScale` says in the pass that reads them (as
        :meth:`~condapprove.simulation.statistics.TtePatients.of` does, saving the passes over the arrays).
    """

    arm: Arm
    entry: np.ndarray
    ready: np.ndarray
    y: np.ndarray
    dropout_time: np.ndarray | None
    x: np.ndarray | None
    scale: TteScale | None = None
    _cumulative: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, repr=False, compare=False)

    def event_times(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``y`` and ``dropout_time`` as times since treatment (time to event), ``scale`` applied if set."""
        sc = self.scale
        if sc is None:
            return self.y, self.dropout_time
        y = np.multiply(self.y, sc.y_mult[:, None])
        y /= sc.y_rate
        drop = None if self.dropout_time is None else self.dropout_time / sc.dropout_rate
        return y, drop

    def cumulative(self) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative sums of ``y`` and ``y**2`` along each row (computed once).

        ``np.cumsum(y, axis=1)``'s additions in its order, compiled: down a patient-major copy of ``y``, a whole row
        of replicates at a time, when ``y`` is a transposed view of the draws (:func:`condapprove._jit.cumsum_rows`,
        vectorised across the replicates); row by row otherwise (:func:`condapprove._jit.running_sums`).  The same
        numbers, several times faster than numpy's cumsum along the patients.
        """
        if not self._cumulative:
            if self.y.T.flags.c_contiguous:  # patient-major
                s = np.array(self.y.T, dtype=np.float64)
                ss = s * s
                cumsum_rows(s)
                cumsum_rows(ss)
                self._cumulative.append((s.T, ss.T))
            else:
                y = np.ascontiguousarray(self.y, dtype=np.float64)
                s, ss = np.empty(y.shape), np.empty(y.shape)
                running_sums(y, s, ss)
                self._cumulative.append((s, ss))
        return self._cumulative[0]


def allocation(ratio: float, total: int) -> np.ndarray:
    """Treated (True) / control positions of a randomised 1:``ratio`` trial, in order of entry.

    Patient k (1-based) is treated when ``ceil(k / (1 + ratio))`` increases at k, so after any k
    patients ``ceil(k / (1 + ratio))`` are treated (1:1 alternates T, C, T, C, ...; the same
    balance rpact's simulations assume at every look).
    """
    k = np.arange(1, total + 1, dtype=np.float64)
    return np.ceil(k / (1.0 + ratio) - 1e-12) > np.ceil((k - 1.0) / (1.0 + ratio) - 1e-12)


def _columns(pos: np.ndarray) -> slice | np.ndarray:
    """What takes the columns ``pos`` of an array: a slice when they are evenly spaced (1:1 allocation: a view),
    else the positions themselves (a copy)."""
    if pos.size > 1 and np.all(np.diff(pos) == pos[1] - pos[0]):
        return slice(int(pos[0]), int(pos[-1]) + 1, int(pos[1] - pos[0]))
    return pos


@dataclass(frozen=True, slots=True)
class _Pairing:
    """How a randomised trial's two arms enter (:func:`paired_entries`): the accrual of both arms together, how
    many patients it enrols, and what takes each arm's columns of its entries (:func:`_columns`)."""

    both: PoissonAccrual
    total: int
    treated_columns: slice | np.ndarray
    control_columns: slice | np.ndarray


def _pairing(design: Design, arms: list[Arm]) -> _Pairing:
    """The :class:`_Pairing` of ``design``'s randomised trial (``arms``: its arms), made once per design."""
    c = design.post_marketing.control
    assert isinstance(c, ConcurrentControl) and c.ratio is not None
    ratio = c.ratio
    treated = arms[0]
    assert treated.process is not None
    both = PoissonAccrual(rate=treated.process.rate * (1 + ratio), ramp_up=treated.process.ramp_up,
                          start=treated.process.start,
                          changes=tuple((mo, r * (1 + ratio)) for mo, r in treated.process.changes))
    total = arms[0].n + arms[1].n
    is_t = allocation(ratio, total)
    pos_t, pos_c = np.flatnonzero(is_t), np.flatnonzero(~is_t)
    if pos_t.size != arms[0].n or pos_c.size != arms[1].n:
        raise DesignError(f"the allocation of {total} patients 1:{ratio:g} gives {pos_t.size} treated and "
                          f"{pos_c.size} controls, not {arms[0].n} and {arms[1].n}")
    return _Pairing(both, total, _columns(pos_t), _columns(pos_c))


def paired_entries(streams: Streams, design: Design, arms: list[Arm], m: int) -> list[np.ndarray]:
    """Entry months of a randomised trial's two arms from one stream of patients.

    The trial enrols at the treated rate times ``1 + ratio``; evaluable patients are allocated in
    entry order by :func:`allocation`, so the arms stay balanced at every look.  The accrual of both arms and the
    allocation are made once per design (:func:`_pairing`; a block of a small design spent 0.1 ms on them).
    """
    pairing = per_object("pairing", design, lambda: _pairing(design, arms))
    entry = pairing.both.first_arrivals(streams("entry:trial"), m, pairing.total, keep=arms[0].keep)
    return [entry[:, pairing.treated_columns], entry[:, pairing.control_columns]]


def outcome_parameter(design: Design, arm: Arm, truth: Truth, m: int) -> np.ndarray:
    """An arm's response rate (binary) or mean (continuous) before patient effects, shape (m, 1).

    The treated arm's effect is diluted (``heterogeneity.dilution``) on the logit scale (binary)
    or the mean scale (continuous) towards the control or benchmark value.
    """
    het = design.post_marketing.heterogeneity
    dilution = het.dilution if het is not None else 1.0
    if design.post_marketing.endpoint.type == "continuous":
        ref = truth.reference if truth.reference is not None else 0.0
        return np.asarray((ref + dilution * (truth.treated - ref)) if arm.treated else np.full((m, 1), ref))
    assert truth.reference is not None
    ref = truth.reference
    base = truth.treated if arm.treated else np.full((m, 1), ref)
    if arm.treated and dilution != 1.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            diluted = special.expit(special.logit(ref) + dilution * (special.logit(base) - special.logit(ref)))
        base = np.where(np.isnan(diluted), base, diluted)
    return np.asarray(base)


#: Most binary covariates whose patterns (bits of a byte) give binary responses through a table per replicate
#: (:func:`condapprove._jit.binary_outcomes_by_pattern`), when there are no more patterns than patients.
_PATTERN_COVARIATES = 8


@functools.lru_cache(maxsize=64)
def _no_effects(m: int, n: int) -> np.ndarray:
    """The patient-level effects of an arm without any, (m, n) zeros as a read-only view of one number: made once per
    shape instead of at every arm of every block."""
    return np.broadcast_to(0.0, (m, n))


def simulate_arm(streams: Streams, design: Design, arm: Arm, truth: Truth, m: int,
                 entry: np.ndarray | None = None, *, scale_later: bool = False) -> ArmData:
    """Draw one arm's patients for ``m`` replicates (fixed order of draws: entries, covariates, lots, outcomes).

    ``entry`` gives the entry months when they were drawn jointly with another arm (randomised trials).
    ``scale_later``: for time to event with an exponential baseline and no patient-level effects, leave the
    event and dropout times as standard exponential draws with their :class:`TteScale` (the same numbers once
    scaled), for a pass that reads them anyway to scale them on the way.
    """
    pm = design.post_marketing
    ep = pm.endpoint
    n = arm.n
    if entry is not None:
        pass
    elif arm.process is None:
        entry = np.zeros((m, n))
    else:
        entry = arm.process.first_arrivals(streams(f"entry:{arm.label}"), m, n, keep=arm.keep)
        if arm.capacity is not None:
            entry = apply_capacity(entry, arm.capacity)
    conf = getattr(pm.control, "confounding", None)
    het = pm.heterogeneity
    dilution = het.dilution if het is not None else 1.0
    sites = het is not None and het.site_sd > 0 and het.sites > 1
    lots = arm.treated and het is not None and het.lot_sd > 0
    # a continuous outcome whose only effects are the lots' (if any): one compiled pass adds them to the outcomes
    # (continuous_outcomes), with numpy's operations in numpy's order
    fused = isinstance(ep, ContinuousEndpoint) and conf is None and not sites
    x = None
    lin = zero_lin = _no_effects(m, n)  # no patient-level effects yet (a read-only view: nothing allocated)
    # where the covariates alone make the effects (no site or lot effects added), each patient's pattern of
    # covariates (bits) and each pattern's summed effect, for binary responses computed once per pattern
    # (binary_outcomes_by_pattern)
    pattern: np.ndarray | None = None
    pattern_lin = np.empty(0)
    if conf is not None:
        prev = np.asarray(arm.prevalence, dtype=np.float64)
        # drawn patient-major (n, m, k) (compiled draws: numpy's numbers), compared and their effects summed in one
        # compiled pass as laid out; x and lin are (m, n, k) and (m, n) views.  The covariates themselves are kept
        # only for the propensity-weighted comparison, which reads them (else x is None)
        u = _draw_jit.draw(streams(f"x:{arm.label}"), "random", (n, m, prev.size))
        kept = conf.adjustment == "propensity_weighting"
        x, lin = np.empty(u.shape if kept else (0, 0, 0)), np.empty((n, m))
        effects = np.asarray([c.effect for c in conf.covariates], dtype=np.float64)
        # fewer patterns than patients (and bits in a byte): a table of a replicate's responses pays
        patterned = (ep.type == "binary" and not (sites or lots) and prev.size <= _PATTERN_COVARIATES
                     and (1 << prev.size) <= n)
        bits = np.empty((n, m) if patterned else (0, 0), dtype=np.uint8)
        covariate_effects(u, prev, effects, x, lin, bits)
        x, lin = x.transpose(1, 0, 2) if kept else None, lin.T
        if patterned:
            pattern, pattern_lin = bits.T, np.empty(1 << prev.size)
            pattern_effects(effects, pattern_lin)
    if sites:
        assert het is not None and truth.site_effects is not None
        site = streams.patients(f"site:{arm.label}", m, n, "integers", low=0, high=het.sites)
        # lin + np.take_along_axis(site_effects, site, axis=1), in one compiled pass down the patient-major draws
        added = np.empty((n, m))
        add_site_effects(lin.T, site.T, np.asarray(truth.site_effects, dtype=np.float64), added)
        lin = added.T
    lot_effect = None
    if lots:
        assert het is not None
        n_lots = -(-n // het.lot_size)
        lot_effect = streams.patients("lots", m, n_lots, "normal", loc=0.0, scale=het.lot_sd)
        if not fused:  # (else the outcomes' pass adds them)
            lin = lin + np.repeat(lot_effect, het.lot_size, axis=1)[:, :n]
    dropout_time = None
    scale = None
    if isinstance(ep, TimeToEventEndpoint):
        arm_log_hr = dilution * np.log(truth.treated) if arm.treated else np.zeros((m, 1))
        if lin is zero_lin:  # no patient-level effects: one log hazard ratio per replicate, broadcast over patients
            log_hr_pm = np.asarray(arm_log_hr, dtype=np.float64).T
        else:
            log_hr_pm = np.broadcast_to(lin + arm_log_hr, (m, n)).T
        baseline = ep.baseline.build()  # (made once per spec)
        if scale_later and lin is zero_lin and type(baseline) is Exponential and np.isfinite(log_hr_pm).all():
            # draw_event_times' draw, its multiplier exp(-log HR) and its rate, applied by the reader
            # replicate-major, for the pass that reads them with the scaling (TtePatients.of: item 45 of
            # docs/performance.md; so are the other arms' times and every arm's dropout)
            y = streams.patients(f"y:{arm.label}", m, n, "standard_exponential", rows=True)
            scale = TteScale(np.exp(-log_hr_pm)[0], baseline.rate, ep.dropout_rate_per_month)
        else:  # replicate-major as well (the same numbers), for the columns' pass along the rows
            y = draw_event_times(streams(f"y:{arm.label}"), baseline, (n, m), log_hr=log_hr_pm, transposed=True)
        if ep.dropout_rate_per_month > 0:
            dropout_time = streams.patients(f"dropout:{arm.label}", m, n, "standard_exponential", rows=True)
            if scale is None:
                dropout_time /= ep.dropout_rate_per_month
        ready = entry
    elif isinstance(ep, ContinuousEndpoint):
        mean = outcome_parameter(design, arm, truth, m)
        # without covariates (whose effects are laid out patient by patient) the normals are laid out replicate by
        # replicate, the same numbers, as the other operands are: the sum of 2,048 x 90 took 0.28 against 1.15 ms with
        # the patient-major view (best of 30), and akuugo_trial.yaml 0.938 of its time (20 pairs)
        z = streams.patients(f"y:{arm.label}", m, n, "standard_normal", rows=conf is None)
        if fused:  # mean + lin + sd * z, the lots' effects as lin, in one compiled pass
            y = np.empty((m, n))
            lot, size = (np.empty((m, 0)), 1) if lot_effect is None or het is None else (lot_effect, het.lot_size)
            continuous_outcomes(np.ascontiguousarray(np.broadcast_to(mean, (m, 1))[:, 0], dtype=np.float64), lot,
                                size, float(ep.sd), z, y)
        else:
            y = mean + lin + ep.sd * z
        ready = entry + ep.followup_months
    else:
        base = outcome_parameter(design, arm, truth, m)
        u = streams.patients(f"y:{arm.label}", m, n)
        if np.any(lin != 0):  # responses on the logit scale of each patient's effects, in one compiled pass
            with np.errstate(divide="ignore"):
                logit_base = np.ascontiguousarray(special.logit(base)[:, 0])
            y = np.empty((m, n))
            if pattern is not None:  # (the same responses, an exp per replicate and pattern, not per patient)
                binary_outcomes_by_pattern(u, logit_base, pattern, pattern_lin, y)
            else:
                binary_outcomes(u, logit_base, np.asarray(lin, dtype=np.float64), y)
        else:
            y = (u < base).astype(np.float64)
        ready = entry + ep.followup_months
    if arm.process is None:  # a historical cohort, observed in full: its entries' zeros (read only, as every array here)
        ready = entry
    return ArmData(arm=arm, entry=entry, ready=ready, y=y, dropout_time=dropout_time, x=x, scale=scale)


def true_effect(design: Design, truth: Truth) -> np.ndarray:
    """Each replicate's true effect: treated minus reference (binary, continuous) or the log hazard ratio."""
    t = np.asarray(truth.treated[:, 0], dtype=np.float64)
    if isinstance(design.post_marketing.endpoint, TimeToEventEndpoint):
        return np.asarray(np.log(t))
    return np.asarray(t - float(truth.reference))  # type: ignore[arg-type]
