"""Sufficient-statistics simulation of binary and continuous designs: the same model, drawn per look.

For a binary or continuous endpoint without patient-level effects (no confounders, sites or lots)
every test the engine applies depends on the data only through each arm's number of evaluable
patients, sum and sum of squares at each look.  Those are drawn directly instead of patient by
patient, *exactly* in distribution:

* **Calendar time.**  Evaluable patients of the recruited stream (one arm against a benchmark or an
  external cohort, or a randomised trial's patients allocated in entry order, see
  :func:`.population.allocation`) arrive as a Poisson process with intensity ``keep * lambda(t)``.
  In the time scale :math:`u = \\text{keep}\\,\\Lambda(t)` it is a unit-rate Poisson process, so the
  entry of the k-th patient is :math:`\\Lambda^{-1}(G_k/\\text{keep})` with :math:`G_k \\sim`
  Gamma(k), drawn only at the patients the looks need (increments of independent gammas).
* **Counts at calendar months** (month looks, the cut-off, the decision): given the known points
  around a month -- the nearest patient entries or counts already drawn on either side -- the
  points between them are independent uniforms, so the count is the left count plus a binomial.
* **Outcomes.**  Between consecutive looks an arm gains ``d`` patients: their responders are
  Binomial(d, p); the sum of their scores is Normal(d mu, d sigma^2), and, independently, their sum of
  squared deviations sigma^2 chi^2(d - 1).
* **Replicates that have stopped.**  A continuous design whose rule is group-sequential without futility and
  whose interims wait for numbers of patients draws its looks one by one, each row's from a stream of its own
  for the look and arm (:mod:`condapprove._philox_jit`), and, once most rows have certainly stopped, leaves them
  out of the later looks (:func:`_screened_looks`): a replicate's numbers do not depend on which others stop,
  so the results are those of drawing every look of every row.

The looks then go through the same statistics (:func:`.statistics.statistics_from_sums`) and decision
rule as the patient-level simulation, which remains the reference (tests compare the two within
Monte-Carlo error).  Per replicate the cost is a few draws per look instead of a few per patient.
The random numbers differ from the patient-level path, so a design simulated this way and one
simulated patient by patient (e.g. with lot heterogeneity added) share the scenario's truth
draws but not its patients: comparisons between them are not common-random-number paired.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .. import _draw_jit, _philox_jit  # (their attributes looked up at the call: the benchmark times the draws)
from .._dist import binom_cdf
from .._jit import value_range
from .._memo import per_object
from ..accrual import PoissonAccrual
from ..kernels._normal_jit import normal_increments, normal_sums, normal_sums_look
from ..spec.schema import BenchmarkControl, ConcurrentControl, Design, ExternalControl
from ._counts_jit import between_known, binomial_sums, by_outcomes, distinct_values, invert_cdf, look_steps
from .decision import decide, screen_bounds, screen_rows
from .population import Arm, Streams, Truth, allocation, arms_of, draw_truth, outcome_parameter, true_effect
from .statistics import Looks, LookStats, statistics_from_sums

__all__ = ["eligible", "simulate_chunk"]


def eligible(design: Design) -> bool:
    """Whether ``design`` is simulated exactly from sufficient statistics (see the module notes).

    True for a binary or continuous endpoint without confounders, lot or site effects or a manufacturing
    capacity, against a benchmark, an external cohort or a randomised control; such designs are simulated by
    :func:`simulate_chunk`, all others patient by patient.

    Examples
    --------
    >>> import condapprove
    >>> from condapprove.simulation import sufficient
    >>> sufficient.eligible(condapprove.load_design("designs/stemirac_survey.yaml"))
    True
    >>> sufficient.eligible(condapprove.load_design("designs/akuugo_trial.yaml"))  # lot-to-lot variation
    False
    """
    return per_object("sufficient eligible", design, lambda: _eligible(design))


def _eligible(design: Design) -> bool:
    pm = design.post_marketing
    if pm.endpoint.type not in ("binary", "continuous"):
        return False
    if getattr(pm.control, "confounding", None) is not None:
        return False
    het = pm.heterogeneity
    if het is not None and (het.lot_sd > 0 or (het.sites > 1 and het.site_sd > 0)):
        return False
    if pm.treated.accrual.capacity_per_month is not None:
        return False
    c = pm.control
    if isinstance(c, (BenchmarkControl, ExternalControl)):
        return True
    assert isinstance(c, ConcurrentControl)
    arms = arms_of(design)
    return len(arms) == 2 and arms[1].paired


@dataclass(frozen=True, slots=True)
class _Stream:
    """The recruited stream of evaluable patients: its process, thinning and allocation."""

    process: PoissonAccrual
    keep: float
    n: int  # patients recruited (both arms of a randomised trial)
    treated_before: np.ndarray  # treated_before[c]: treated among the first c patients, c = 0..n
    last: tuple[int, ...]  # 1-based index of each recruited arm's last patient

    def u(self, t: np.ndarray) -> np.ndarray:
        """Calendar months to the unit-rate time scale of evaluable arrivals."""
        return self.keep * np.asarray(self.process.expected(np.maximum(t, 0.0)))

    def entry(self, u: np.ndarray) -> np.ndarray:
        """The unit-rate time scale back to calendar months (inf: never)."""
        return np.asarray(self.process.inverse(u / self.keep))


def _stream(design: Design, arms: list[Arm]) -> _Stream:
    treated = arms[0]
    assert treated.process is not None
    if len(arms) == 2 and arms[1].paired:
        c = design.post_marketing.control
        assert isinstance(c, ConcurrentControl) and c.ratio is not None
        p = treated.process
        both = PoissonAccrual(rate=p.rate * (1 + c.ratio), ramp_up=p.ramp_up, start=p.start,
                              changes=tuple((mo, r * (1 + c.ratio)) for mo, r in p.changes))
        n = treated.n + arms[1].n
        is_t = allocation(c.ratio, n)
        last: tuple[int, ...] = (int(np.flatnonzero(is_t)[-1]) + 1, int(np.flatnonzero(~is_t)[-1]) + 1)
        before = np.concatenate([[0], np.cumsum(is_t)])
    else:
        both, n, before, last = treated.process, treated.n, np.arange(treated.n + 1), (treated.n,)
    before.setflags(write=False)  # kept for the design's later chunks (simulate_chunk): read only
    return _Stream(both, treated.keep, n, before, last)


class _Known:
    """Points of the unit-rate process already drawn in each replicate, to condition later counts on.

    Two kinds of point, each with a position per replicate and the numbers of arrivals at or before it and strictly
    before it: the entries drawn first (patient ``entry_n[j]``'s position ``entry_pos[:, j]``, with ``entry_n[j]``
    arrivals at or before it and one fewer before it), of which the last is the ``n``-th (last) patient's, and the
    counts remembered later (``count[r]`` arrivals in ``[0, pos[r]]``, both numbers the same).  Counts are
    non-decreasing in position, so the nearest known point on each side gives the tightest condition.  The entries are
    read where they were drawn ((replicates, points), not copied; their counts are one per point), the counts
    remembered are rows of (points, replicates) arrays with room for more.
    """

    def __init__(self, entry_pos: np.ndarray, entry_n: np.ndarray, room: int = 2) -> None:
        """``entry_pos`` (replicates, points), the positions of patients ``entry_n`` (points,, ascending), the last
        the last patient's (so ``n``, the patients in all, is ``entry_n[-1]``); ``room``: the counts to be
        remembered (room is made for more as they come)."""
        m = entry_pos.shape[0]
        self.entry_pos, self.entry_n = entry_pos, np.asarray(entry_n, dtype=np.int64)
        if entry_pos.ndim != 2 or self.entry_n.shape != entry_pos.shape[1:] or not self.entry_n.size:
            raise ValueError(f"_Known needs one patient per column of entries; got patients {self.entry_n} for "
                             f"entries of shape {entry_pos.shape}")
        self.pos = np.empty((room, m))
        self.count = np.empty((room, m), dtype=np.int64)
        self.k, self.n = 0, int(self.entry_n[-1])  # k: the counts remembered

    def prepare(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """For a count in [0, u] of each row: the count at the nearest known point on the left (``n`` at or after
        the last patient), the number of arrivals between it and the nearest on the right, where ``u`` lies
        between them, and how many rows have arrivals to draw (one compiled pass,
        :func:`._counts_jit.between_known`)."""
        m = u.size
        left, between, frac = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty(m)
        draws = between_known(self.entry_pos, self.entry_n, self.pos, self.count, self.k, self.n,
                              np.asarray(u, dtype=np.float64), left, between, frac)
        return left, between, frac, int(draws)

    def remember(self, u: np.ndarray, c: np.ndarray) -> None:
        if self.k == self.pos.shape[0]:
            grow = max(self.pos.shape[0], 1)
            self.pos = np.concatenate([self.pos, np.empty((grow, self.pos.shape[1]))])
            self.count = np.concatenate([self.count, np.empty((grow, self.pos.shape[1]), dtype=np.int64)])
        self.pos[self.k], self.count[self.k] = u, c
        self.k += 1


def _running_sums(x: np.ndarray) -> np.ndarray:
    """Running sums along the rows of ``x`` (m, L), in place, column by column: for the few columns here (looks)
    a handful of whole-column additions, several times faster than ``np.cumsum(axis=1)`` and the same numbers
    (the same additions in the same order)."""
    for j in range(1, x.shape[1]):
        x[:, j] += x[:, j - 1]
    return x


def _steps(x: np.ndarray) -> np.ndarray:
    """Increments along the rows of ``x`` (m, L) from 0 (``np.diff(x, axis=1, prepend=0)``), column by column."""
    d = np.array(x)
    d[:, 1:] -= x[:, :-1]
    return d


class _Blocks:
    """The blocks of a chunk: their streams and row slices (every draw is made block by block)."""

    def __init__(self, streams: list[Streams], sizes: list[int]) -> None:
        self.streams = streams
        edges = list(itertools.accumulate(sizes, initial=0))
        self.edges = np.array(edges, dtype=np.int64)
        self.slices = [slice(lo, hi) for lo, hi in itertools.pairwise(edges)]
        self.m = edges[-1]

    def draw(self, purpose: str, fn: Callable[[np.random.Generator, slice], np.ndarray]) -> np.ndarray:
        """Concatenate ``fn(generator of the block's purpose, block rows)`` over the blocks."""
        return np.concatenate([fn(st(purpose), sl) for st, sl in zip(self.streams, self.slices)])

    def fill_drawn(self, purpose: str, cols: int, method: str, shape: np.ndarray | None = None, *,
                   order: Literal["C", "F"] = "C") -> np.ndarray:
        """An (m, ``cols``) array whose rows of each block are drawn from the block's stream of ``purpose`` by a
        compiled draw: a method of :data:`condapprove._draw_jit.DRAWS`, ``"standard_gamma"`` with ``shape`` as
        :func:`condapprove._draw_jit.standard_gamma_rows` takes it (one per column, or one per element), or
        ``"poisson"`` with ``shape`` the means (one per element; the counts as doubles).  ``order``:
        the array's layout (``"F"``: column by column, for loops that run down each column); the same numbers
        either way.

        Every block's rows are drawn in one compiled call on the streams' state words
        (:meth:`.population.Streams.words_of`, :func:`condapprove._draw_jit.fill_blocks`): the numbers each block's
        generator would give, without making the generators or passing their states through them call by call
        (item 74 of docs/performance.md).
        """
        states = Streams.words_of(self.streams, purpose)
        if states is not None:
            out = np.empty((self.m, cols), order=order)
            if _draw_jit.fill_blocks(states, method, out, self.edges, shape):
                return out
        # a root whose entropy is not an integer (no words), or shapes numpy refuses: each block's generator (into
        # C-contiguous rows, as numpy's calls want them)
        out = np.empty((self.m, cols))
        for st, sl in zip(self.streams, self.slices):
            rng, rows = st(purpose), out[sl]
            if method == "standard_gamma":
                assert shape is not None
                per_row = shape.ndim == 2 and shape.shape[0] > 1
                _draw_jit.standard_gamma_rows(rng, shape[sl] if per_row else shape, rows)
            elif method == "poisson":
                assert shape is not None
                rows[:] = _draw_jit.poisson(rng, shape[sl])
            else:
                _draw_jit.draw_into(rng, method, rows)
        return np.asfortranarray(out) if order == "F" else out

    def count(self, known: _Known, u: np.ndarray, *, remember: bool = True) -> np.ndarray:
        """Counts in [0, u] given the known points: ``n`` where every patient has arrived, else the count at the
        nearest known point on the left plus a binomial for the points between the two neighbours.  ``remember``:
        keep the counts as known points for later counts (not for the chunk's last count)."""
        c, n_between, p_between, draws = known.prepare(u)
        # a binomial with p = 0 is 0 and numpy draws no random number for it (nor for n = 0): those rows, and the
        # blocks left with none, are skipped, the same numbers (a query at a known point -- a decision at a look,
        # computed back from its month -- has p = 0 towards the next one)
        if draws:
            need = (n_between > 0) & (p_between > 0.0)
            got = None
            states = Streams.words_of(self.streams, "sufficient:counts")
            if states is not None:  # numpy's binomials of each block's rows, on the words (item 87)
                edges = np.concatenate([[0], np.cumsum([np.count_nonzero(need[sl]) for sl in self.slices])])
                got = _draw_jit.binomial_blocks(states, n_between[need], p_between[need], edges)
            if got is None:  # (no words, or a p numpy refuses: its call says so)
                got = np.concatenate([np.asarray(st("sufficient:counts").binomial(n_between[sl][k], p_between[sl][k]))
                                      for st, sl in zip(self.streams, self.slices) if (k := need[sl]).any()])
            c[need] += got
        if remember:
            known.remember(u, c)
        return c


def _look_index(design: Design, n: int) -> list[int | None]:
    """For each interim: the patient whose readiness triggers it (None: a month look)."""
    out: list[int | None] = []
    for look in design.post_marketing.analyses:
        if look.month is not None:
            out.append(None)
        elif look.patients is not None:
            out.append(int(look.patients))
        else:
            out.append(look.information_count(n))
    return out


def _entries_needed(trig: list[int | None], n: int, last: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The patients whose entries a chunk draws (those triggering looks, the last of each arm and of the study),
    ascending, and the shapes of the gamma increments between them (kept for the design's chunks: not mutated)."""
    ks = np.array(sorted({k for k in trig if k is not None and k <= n} | {n, *last}), dtype=np.int64)
    return ks, np.diff(ks, prepend=0).astype(np.float64)


def simulate_chunk(design: Design, scenario_index: int, streams: list[Streams],
                   sizes: list[int]) -> dict[str, np.ndarray]:
    """Simulate the blocks of one chunk (``sizes[b]`` replicates drawn from ``streams[b]``) from sufficient statistics.

    Each block draws only from its own streams, in a fixed order; everything else is computed for the
    whole chunk at once (per replicate), so results do not depend on how blocks are grouped into chunks.
    """
    pm = design.post_marketing
    follow = float(getattr(pm.endpoint, "followup_months", 0.0))
    cutoff = design.cutoff_month
    blocks = _Blocks(streams, sizes)
    m = blocks.m
    scenario = design.scenarios[scenario_index]
    truths = [draw_truth(st, design, scenario, size) for st, size in zip(streams, sizes)]
    truth = Truth(treated=np.concatenate([t.treated for t in truths]), reference=truths[0].reference)
    arms = arms_of(design)
    st = per_object("sufficient stream", design, lambda: _stream(design, arms))
    n = st.n
    trig = _look_index(design, n)
    # entries of the patients the looks (and the enrolment counts) need: gamma increments (the same for every chunk
    # of the design)
    ks, shape = per_object("sufficient entries", design, lambda: _entries_needed(trig, n, st.last))
    g = blocks.fill_drawn("sufficient:entries", ks.size, "standard_gamma", shape)
    _running_sums(g)
    months = sorted({float(look.month) for look in pm.analyses if look.month is not None} | {cutoff})
    # the entries are the first known points, read in place; room for the counts at those months (the chunk's last
    # count, of the patients enrolled, is not remembered)
    known = _Known(g, ks, room=len(months))  # (ks ends with the n-th patient)
    entries = st.entry(g)  # (elementwise: the same numbers as column by column, in one call)
    entry_at = {int(k): entries[:, i] for i, k in enumerate(ks)}
    # (without follow-up a patient is ready at entry: the same arrays, not copies of them)
    ready_at = {k: e + follow for k, e in entry_at.items()} if follow else entry_at
    target_time = ready_at[n]
    final = np.minimum(target_time, cutoff)
    # counts at calendar months, in increasing order (each conditions the next), at their positions on the unit-rate
    # scale (the same for every chunk of the design)
    positions = per_object("sufficient month positions", design,
                           lambda: [float(st.u(np.array(mo - follow))) for mo in months])
    at_month = {mo: blocks.count(known, np.full(m, u)) for mo, u in zip(months, positions)}
    reached = np.isfinite(target_time) & (target_time <= cutoff)
    final_count = np.where(reached, n, at_month[cutoff])
    n_looks = len(trig) + 1
    # column-major: each look's column is written whole, and _look_sums compares and differences neighbouring
    # looks' columns (numpy passes down contiguous columns, not over rows of a few looks each: about ten times
    # faster, the same numbers)
    times = np.full((m, n_looks), np.inf, order="F")
    counts = np.empty((m, n_looks), dtype=np.int64, order="F")
    for j, (look, k) in enumerate(zip(pm.analyses, trig)):
        if k is None:
            assert look.month is not None
            t, c = np.full(m, float(look.month)), at_month[float(look.month)]
        elif k <= n:
            t, c = ready_at[k], np.full(m, k)
        else:  # more patients than the study recruits: the look never happens
            t, c = np.full(m, np.inf), final_count
        active = t < final
        times[:, j] = np.where(active, t, np.inf)
        counts[:, j] = np.where(active, c, final_count)
    times[:, -1] = final
    counts[:, -1] = final_count
    planned = per_object("sufficient screen", design, lambda: _screen(design, arms, st, trig))
    stats = _look_sums(design, blocks, arms, st, truth, counts, None if planned is None else
                       (*planned, screen_rows(times, target_time, cutoff)))
    out = decide(design, Looks(times=times, final=final, target_time=target_time, stats=stats,
                               true_effect=true_effect(design, truth)))
    out["enrolled_t"], out["enrolled_c"] = _enrolled(design, blocks, known, st, arms, entry_at, out["month"])
    return out


def _increments(blocks: _Blocks, purpose: str, design: Design, d: np.ndarray, param: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sum and sum of squares of ``d`` new patients' outcomes (arrays of shape (m, L))."""
    ep = design.post_marketing.endpoint
    p = np.broadcast_to(param, d.shape)
    if ep.type == "binary":
        s = _binomial_blocks(blocks, purpose, d, p).astype(np.float64, order="F")
        return s, s  # y = y**2 for 0/1 outcomes
    sd = float(ep.sd)  # type: ignore[union-attr]
    z, half_chi2 = _normal_draws(blocks, purpose, d)
    s, ss = np.empty(d.shape, order="F"), np.empty(d.shape, order="F")
    normal_increments(d, p, z, half_chi2, sd, s, ss)  # one compiled pass
    return s, ss


def _normal_draws(blocks: _Blocks, purpose: str, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The standard normals and the half chi-squares (gammas of shape (d - 1) / 2) of ``d`` (m, L) new patients'
    sufficient statistics, from each block's stream of ``purpose``."""
    # each block's stream gives its normals, then its gammas (blocks have separate streams, so drawing all the
    # normals first and then all the gammas gives every block the same numbers as interleaving would)
    z = blocks.fill_drawn(purpose, d.shape[1], "standard_normal", order="F")
    # each look's increment the same in every row (the usual case, whether or not the looks are evenly spaced): a
    # shape per column, drawn in the compiled loop (numpy's numbers in numpy's order; 66/132/200 patients, an arm's
    # increments of 33, 33 and 34, went through numpy's array-shaped gamma: 29% of a continuous run, profiled)
    if d.size > 0 and bool(np.all(d == d[:1])):
        shapes = np.maximum(d[0].astype(np.float64) - 1.0, 0.0) / 2.0
        half_chi2 = blocks.fill_drawn(purpose, d.shape[1], "standard_gamma", shapes, order="F")
    else:  # a shape per row and look (the patients at a calendar month, say): in the compiled loop as well (this path
        # for every design took 1.071-1.081 of the time of the designs above, 20-30 pairs: hence the two)
        half_chi2 = blocks.fill_drawn(purpose, d.shape[1], "standard_gamma", np.maximum(d.astype(np.float64) - 1.0, 0.0) / 2.0,
                                      order="F")
    return z, half_chi2


def _binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Binomial(n, p) draws; by inversion of the exact CDF when every p is the same and n takes few values.

    The usual case (fixed numbers of patients between looks, a fixed true rate) then costs one uniform per
    draw and a table lookup, several times faster than numpy's general binomial sampler; the inversion
    ``X = #{x : F(x) <= U}`` is exact up to the rounding of the tabulated CDF.
    """
    return _binomial_by(n, p, rng.random, lambda n_b, p_b: np.asarray(rng.binomial(n_b, p_b)))


def _binomial_by(n: np.ndarray, p: np.ndarray, uniforms: Callable[[tuple[int, ...]], np.ndarray],
                 binomials: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """:func:`_binomial` with its draws from ``uniforms(shape)`` (for the inversion) or ``binomials(n, p)``
    (numpy's sampler): a block's generator, or its state words."""
    values = _invertible(n, p)
    if values is None:
        return binomials(n, p)
    return _invert(uniforms(n.shape), n, values, float(p.flat[0]))


def _binomial_blocks(blocks: _Blocks, purpose: str, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """:func:`_binomial` of each block's rows from its own stream, the same numbers; when the whole chunk is
    invertible (then every block is: its p are the same, its n a subset) the uniforms are drawn in place and the
    table lookups made once for the chunk instead of once per block."""
    values = _invertible(n, p)
    if values is None:
        states = Streams.words_of(blocks.streams, purpose)
        if states is None:
            return blocks.draw(purpose, lambda rng, sl: _binomial(rng, n[sl], p[sl]))
        # each block as _binomial draws it, on the blocks' state words: the same numbers without a generator per
        # block (item 87)
        return np.concatenate([_binomial_by(n[sl], p[sl], *_word_draws(blocks, b, purpose, states[b:b + 1]))
                               for b, sl in enumerate(blocks.slices)])
    u = blocks.fill_drawn(purpose, n.shape[1], "random")
    return _invert(u, n, values, float(p.flat[0]))


def _word_draws(blocks: _Blocks, b: int, purpose: str, words: np.ndarray
                ) -> tuple[Callable[[tuple[int, ...]], np.ndarray], Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """:func:`_binomial_by`'s uniforms and binomials of block ``b`` from its state words ``words`` (a (1, 4) view of
    the chunk's: advanced in place), numpy's numbers; a p numpy refuses goes to the block's generator, whose call
    says so."""
    def uniforms(shape: tuple[int, ...]) -> np.ndarray:
        u = np.empty(shape)
        _draw_jit.fill_blocks(words, "random", u.reshape(-1, 1), np.array([0, u.size]))
        return u

    def binomials(n: np.ndarray, p: np.ndarray) -> np.ndarray:
        got = _draw_jit.binomial_blocks(words, n.ravel(), np.ravel(p), np.array([0, n.size]))
        return np.asarray(blocks.streams[b](purpose).binomial(n, p)) if got is None else got.reshape(n.shape)

    return uniforms, binomials


def _invertible(n: np.ndarray, p: np.ndarray) -> np.ndarray | None:
    """The distinct numbers of trials (ascending) when every p is the same and there are at most 8 of them, none
    above 5,000 (else None)."""
    if p.size == 0:
        return None
    smallest, largest, nan = value_range(np.ravel(p))  # (one compiled pass: every p the same, none NaN)
    if nan or smallest != largest:
        return None
    values = np.empty(8, dtype=np.int64)
    k = distinct_values(np.atleast_2d(np.asarray(n, dtype=np.int64)), values)
    if not 0 < k <= 8 or values[k - 1] > 5000:
        return None
    return values[:k]


def _invert(u: np.ndarray, n: np.ndarray, values: np.ndarray, p0: float) -> np.ndarray:
    """Binomial(n, p0) by inversion of uniforms ``u``: ``#{x : F(x) <= u}`` (at most n), one compiled pass per
    number of trials with a guide table into the CDF (the counts ``np.searchsorted`` gives)."""
    out = np.zeros(n.shape, dtype=np.int64)
    u2, n2, out2 = (np.atleast_2d(a) for a in (u, n, out))
    for v in values:
        if v == 0:
            continue
        cdf, guide = _binomial_table(int(v), p0)
        invert_cdf(u2, n2, int(v), cdf, guide, out2)
    return out


_CDF_CACHE: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = {}
#: Cells of a guide table (:func:`_binomial_table`): 32 per value, at most :data:`_GUIDE_MOST` in all, at least 4 per
#: value.  A uniform whose cell holds a step of the CDF takes a second step up it, a branch the processor cannot
#: predict: with 4 cells per value, :func:`._counts_jit.binomial_sums` of 30 trials at p = 0.45 and 0.30 took 7.2 and
#: 6.7 ns an inversion here, with 32 cells 4.5 and 4.2 ns (fresh uniforms at every call; the same counts with any
#: number of cells).
_GUIDE_PER_VALUE, _GUIDE_MOST = 32, 2048


def _binomial_table(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """The Binomial(n, p) CDF at 0..n and its guide table for :func:`._counts_jit.invert_cdf` (:data:`_GUIDE_PER_VALUE`
    cells per value, see there): ``guide[g]`` counts the CDF values ``<= (g - 1) / G``."""
    key = (n, p)
    got = _CDF_CACHE.get(key)
    if got is None:
        cdf = binom_cdf(np.arange(n + 1), n, p)
        cells = min(_GUIDE_PER_VALUE * (n + 1), max(4 * (n + 1), _GUIDE_MOST))
        guide = np.searchsorted(cdf, (np.arange(cells) - 1.0) / cells, side="right").astype(np.int64)
        got = (cdf, guide)
        if len(_CDF_CACHE) < 4096:
            _CDF_CACHE[key] = got
    return got


@functools.lru_cache(maxsize=4096)
def _binomial_tables(values: tuple[int, ...], p: float) -> tuple[np.ndarray, ...]:
    """:func:`._counts_jit.binomial_sums`'s tables of Binomial(v, p) for each of ``values``: the slot of each number of
    trials, the CDFs end to end with their starts, the guide tables end to end with theirs (kept: not mutated)."""
    tables = [_binomial_table(v, p) for v in values if v > 0]
    slot = np.full(max(values) + 1, -1, dtype=np.int64)
    slot[[v for v in values if v > 0]] = np.arange(len(tables))
    got: tuple[np.ndarray, ...] = (slot,)
    for part, dtype in ((0, np.float64), (1, np.int64)):  # the CDFs, then the guides
        arrays = [t[part] for t in tables]
        got += (np.concatenate([np.zeros(0, dtype), *arrays]), np.cumsum([0, *(a.size for a in arrays)]))
    return got


#: The streams of the recruited arms' outcomes (treated, then a randomised or external control).
_PURPOSES = ("sufficient:y:treated", "sufficient:y:control")


def _look_sums(design: Design, blocks: _Blocks, arms: list[Arm], st: _Stream, truth: Truth,
               counts: np.ndarray, screen: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> list[LookStats]:
    """Each look's statistics from each arm's count, sum and sum of squares, from increments between sorted counts;
    ``screen``: :func:`_screen`'s information and bounds and the rows it may leave out, for
    :func:`_screened_looks`."""
    m, n_looks = counts.shape
    binary = design.post_marketing.endpoint.type == "binary"
    paired = len(arms) == 2 and arms[1].paired
    if screen is not None:
        looks = _screened_looks(design, blocks, arms, st, truth, counts, paired, *screen)
        if looks is not None:
            return looks
    # counts in order (the usual case): the recruited arms' sums in compiled passes
    got = _compiled_sums(design, blocks, arms, st, truth, counts, paired)
    one_count: np.ndarray | None = None  # per look, when known: whether every row has the same numbers of patients
    if got is not None:
        (nt, sum_t, ss_t, one_count), control = got
        nc = sum_c = ss_c = None
        if control is not None:
            nc, sum_c, ss_c, same_c = control
            one_count = one_count & same_c
    else:
        nt, sum_t, ss_t, nc, sum_c, ss_c = _sums_sorted(design, blocks, arms, st, truth, counts, paired)
    if len(arms) == 2 and not paired:  # an external cohort, observed in full from month 0 (the same in every row)
        nc, sum_c, ss_c = (np.repeat(x[:, None], n_looks, axis=1) for x in _external_sums(design, blocks, arms[1], truth))
    zeros = np.zeros(m)
    out = []
    for j in range(n_looks):
        args = (nt[:, j], sum_t[:, j], ss_t[:, j], None if nc is None else nc[:, j],
                zeros if sum_c is None else sum_c[:, j], zeros if ss_c is None else ss_c[:, j])
        same = None if one_count is None else bool(one_count[j])
        fast = _binary_by_table(design, *args, constant=same) if binary else None
        out.append(fast if fast is not None else statistics_from_sums(design, *args))
    return out


def _sums_sorted(design: Design, blocks: _Blocks, arms: list[Arm], st: _Stream, truth: Truth, counts: np.ndarray,
                 paired: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None,
                                        np.ndarray | None]:
    """The recruited arms' counts, sums and sums of squares at each look (m, L each; the control's None without a
    randomised control), in numpy passes over the counts sorted along each row."""
    m, n_looks = counts.shape
    monotone = bool(np.all(counts[:, 1:] >= counts[:, :-1]))
    order = np.arange(n_looks)[None, :] if monotone else np.argsort(counts, axis=1, kind="stable")
    c_sorted = counts if monotone else np.take_along_axis(counts, order, axis=1)
    t_sorted = st.treated_before[c_sorted]
    d_t = _steps(t_sorted)
    s_t, q_t = _increments(blocks, _PURPOSES[0], design, d_t, outcome_parameter(design, arms[0], truth, m))
    inverse = None if monotone else np.argsort(order, axis=1)

    # the per-look arrays are column-major (order="F": _increments makes theirs so too), so that each look's
    # column is contiguous for the running sums along the looks and for the statistics, which read one look at
    # a time (the same numbers; 0.95-0.98 of a binary or continuous run)
    def back(x: np.ndarray) -> np.ndarray:
        """Running sums along the looks of an array of this function's own, in place, in the looks' order."""
        x = _running_sums(x)
        return x if inverse is None else np.take_along_axis(x, inverse, axis=1)

    def sums(s: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both running sums, in place (``q is s`` for binary outcomes, where y = y**2: summed once)."""
        total = back(s)
        return total, total if q is s else back(q)

    nt = back(d_t.astype(np.float64, order="F"))  # (counts: the same sums in integers or in doubles)
    sum_t, ss_t = sums(s_t, q_t)
    if not paired:
        return nt, sum_t, ss_t, None, None, None
    d_c = _steps(c_sorted) - d_t
    s_c, q_c = _increments(blocks, _PURPOSES[1], design, d_c, outcome_parameter(design, arms[1], truth, m))
    nc = back(d_c.astype(np.float64, order="F"))
    return (nt, sum_t, ss_t, nc, *sums(s_c, q_c))


def _arm_steps(st: _Stream, counts: np.ndarray, paired: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Each recruited arm's new patients at each look (:func:`._counts_jit.look_steps`; the control's is the
    treated arm's array without a randomised control), or None when some row's counts are out of order."""
    m, n_looks = counts.shape
    d_t = np.empty((m, n_looks), dtype=np.int64, order="F")
    d_c = np.empty((m, n_looks), dtype=np.int64, order="F") if paired else d_t
    return (d_t, d_c) if look_steps(counts, st.treated_before, paired, d_t, d_c) else None


#: Each recruited arm's running counts, sums and sums of squares at the looks (m, L each) and whether each look's count
#: is the same in every row (L,); the treated arm's, then the randomised control's (or None).
_ArmSums = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _compiled_sums(design: Design, blocks: _Blocks, arms: list[Arm], st: _Stream, truth: Truth, counts: np.ndarray,
                   paired: bool) -> tuple[_ArmSums, _ArmSums | None] | None:
    """:data:`_ArmSums` of each recruited arm when every row's counts are in order (and, for binary outcomes, the
    responders are drawn by inversion, :func:`_invertible`): :func:`_sums_sorted`'s numbers, from the same draws
    and with the same additions, in compiled passes per arm instead of some forty numpy calls -- for binary
    outcomes the uniforms inverted and summed (:func:`._counts_jit.binomial_sums`; a sum of squares is its sum,
    y = y**2), for continuous ones the increments and their running sums
    (:func:`condapprove.kernels._normal_jit.normal_sums`).  None (and nothing drawn) otherwise."""
    m, n_looks = counts.shape
    steps = _arm_steps(st, counts, paired)
    if steps is None:
        return None
    binary = design.post_marketing.endpoint.type == "binary"
    plans = []  # every arm's tables before any draw, so that nothing is drawn when one arm cannot be inverted
    for d, arm, purpose in zip(steps, arms[: 1 + paired], _PURPOSES):
        p = outcome_parameter(design, arm, truth, m)
        values = _invertible(d, p) if binary else None
        if binary and values is None:
            return None
        tables = None if values is None else _binomial_tables(tuple(values.tolist()), float(p.flat[0]))
        plans.append((d, p, purpose, tables))
    out = []
    for d, p, purpose, tables in plans:
        n, s = np.empty((m, n_looks), order="F"), np.empty((m, n_looks), order="F")
        constant = np.empty(n_looks, dtype=bool)
        if tables is not None:
            u = blocks.fill_drawn(purpose, n_looks, "random", order="F")
            binomial_sums(d, u, *tables, n, s, constant)
            ss = s
        else:
            z, half_chi2 = _normal_draws(blocks, purpose, d)
            sd = float(design.post_marketing.endpoint.sd)  # type: ignore[union-attr]
            ss = np.empty((m, n_looks), order="F")
            normal_sums(d, p, z, half_chi2, sd, n, s, ss, constant)
        out.append((n, s, ss, constant))
    return out[0], out[1] if paired else None


def _external_sums(design: Design, blocks: _Blocks, ext: Arm, truth: Truth) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An external cohort's count, sum and sum of squares (m,), observed in full from month 0 (the same at every
    look)."""
    m = blocks.m
    d_e = np.full((m, 1), ext.n, dtype=np.int64)
    s_e, q_e = _increments(blocks, _PURPOSES[1], design, d_e, outcome_parameter(design, ext, truth, m))
    return np.full(m, float(ext.n)), s_e[:, 0], q_e[:, 0]


def _screen(design: Design, arms: list[Arm], st: _Stream,
            trig: list[int | None]) -> tuple[np.ndarray, np.ndarray] | None:
    """The information planned at each look of a continuous design, and the bounds its z must reach at each interim
    for :func:`_screened_looks` to leave the row's later looks out (:func:`.decision.screen_bounds` of that
    information), for a design whose rule is group-sequential without futility and whose every interim waits for a
    number of patients (fewer than the study's, increasing); None for any other (every look of every row is then
    drawn from the arms' streams, :func:`_compiled_sums`)."""
    if design.post_marketing.endpoint.type != "continuous" or not trig:
        return None
    ks = [k for k in trig if k is not None]
    if len(ks) < len(trig) or any(b <= a for a, b in itertools.pairwise([*ks, st.n])):  # (a month look; a look at
        return None  # or after the last patient)
    ks.append(st.n)
    # each look's information as the look's statistics give it, for rows with the planned patients (the sums do not
    # change it)
    nt = st.treated_before[np.array(ks)].astype(np.float64)
    paired = len(arms) == 2 and arms[1].paired
    nc = (np.array(ks) - nt if paired else np.full(nt.size, float(arms[1].n))) if len(arms) == 2 else None
    zeros = np.zeros(nt.size)
    info = statistics_from_sums(design, nt, zeros, zeros, nc, zeros, zeros).information
    info = np.asarray(info, dtype=np.float64)
    bounds = screen_bounds(design, info)
    return None if bounds is None else (info, bounds)


def _row_keys(blocks: _Blocks) -> np.ndarray:
    """Each block's key, tag and increment of its rows' streams (:mod:`condapprove._philox_jit`), (blocks, 5): from
    the seeded state and increment of its stream ``"sufficient:y:rows"`` (never drawn from), read from the stream's
    words or, without them, from its generator (the same numbers): the state's high word's two halves (the key) and
    its low word's low half (the tag), then the increment's high and low words (odd)."""
    purpose = "sufficient:y:rows"
    states = Streams.words_of(blocks.streams, purpose)
    if states is None:
        seeded = [streams(purpose).bit_generator.state["state"] for streams in blocks.streams]
        states = np.array([[x >> 64, x & 0xFFFF_FFFF_FFFF_FFFF, i >> 64, i & 0xFFFF_FFFF_FFFF_FFFF]
                           for x, i in ((int(st["state"]), int(st["inc"])) for st in seeded)], dtype=np.uint64)
    low = np.uint64(0xFFFF_FFFF)
    hi = states[:, 0]
    return np.stack([hi & low, hi >> np.uint64(32), states[:, 1] & low, states[:, 2], states[:, 3]], axis=1)


#: :func:`_screened_looks` draws a look only for the rows still running, and computes its statistics only for them,
#: when they are fewer than one in this many; else for every row (the same results: the stopped rows' later looks are
#: not read), without the passes that gather the rows.
_FEW = 2
#: Rows whose streams' states :func:`condapprove._philox_jit.normal_gamma` computes at a time (they stay in cache).
_TILE = 512


def _running_statistics(design: Design, running: np.ndarray, planned: float, nt: np.ndarray, st: np.ndarray,
                        sst: np.ndarray, nc: np.ndarray | None, sc: np.ndarray, ssc: np.ndarray) -> LookStats:
    """:func:`.statistics.statistics_from_sums` of the ``running`` rows of a look (:func:`_screened_looks`); the other
    rows, which stopped before it, are given the ``planned`` information (theirs: every look of theirs happened with
    its planned patients), and 0 for their z and estimate, which the decision does not read."""
    idx = np.flatnonzero(running)
    part = statistics_from_sums(design, nt[idx], st[idx], sst[idx], None if nc is None else nc[idx], sc[idx], ssc[idx])
    m = running.size
    z, estimate, zeros = np.zeros((3, m))  # (three rows of one array: one allocation)
    information = np.full(m, planned)
    z[idx], information[idx], estimate[idx] = part.z, part.information, part.estimate
    return LookStats(z=z, information=information, estimate=estimate, n_treated=nt,
                     n_control=zeros if nc is None else nc, events=zeros, sum_t=st, sum_c=sc, ss_t=sst, ss_c=ssc)


def _screened_looks(design: Design, blocks: _Blocks, arms: list[Arm], st: _Stream, truth: Truth, counts: np.ndarray,
                    paired: bool, planned: np.ndarray, bounds: np.ndarray,
                    eligible: np.ndarray) -> list[LookStats] | None:
    """The statistics of a continuous design's looks, drawn look by look, the later looks only for the rows still
    running; None (nothing drawn) when some row's counts are out of order.

    A row that is ``eligible`` (every look happens, so its patients are the planned ones, its information is
    ``planned`` and its bounds are those of :func:`_screen`) and whose z reaches ``bounds[j]`` stops at look ``j``
    or before: the decision reads nothing of its later looks.  Once such rows are the most (more than half), the
    later looks leave them out: nothing is drawn for them (their sums add nothing new) and their statistics are not
    computed (:func:`_running_statistics`).  So that a row's numbers do not depend on which rows stop (nor two designs
    compared on one seed lose their common random numbers), the draws of every look come from each row's own stream
    for the look and arm (:func:`condapprove._philox_jit.normal_gamma`): with every row drawn and analysed at every
    look the results are the same (tested).  The sums are :func:`_compiled_sums`', look by look.
    """
    m, n_looks = counts.shape
    steps = _arm_steps(st, counts, paired)
    if steps is None:
        return None
    sd = float(design.post_marketing.endpoint.sd)  # type: ignore[union-attr]
    recruited = list(zip(steps, (outcome_parameter(design, arm, truth, m) for arm in arms[: 1 + paired])))
    sums = [tuple(np.empty((m, n_looks), order="F") for _ in range(3)) for _ in recruited]
    external = _external_sums(design, blocks, arms[1], truth) if len(arms) == 2 and not paired else None
    keys = _row_keys(blocks)
    states = np.empty((2, _TILE), dtype=np.uint64)
    z, g = np.empty(m), np.empty(m)  # (an arm's draws of a look, read by its sums before the next arm's are drawn)
    running, everyone = np.ones(m, dtype=bool), np.arange(m)
    out = []
    for j in range(n_looks):
        # the rows that draw at this look: every row unless those running are few (the stopped rows' are not read)
        few = running if j > 0 and np.count_nonzero(running) * _FEW < m else None
        if few is not None:  # (the stopped rows' sums add nothing new)
            z[:], g[:] = 0.0, 0.0
        drawing = everyone if few is None else np.flatnonzero(few)
        for a, ((d, p), (n, s, ss)) in enumerate(zip(recruited, sums)):
            _philox_jit.normal_gamma(keys, blocks.edges, j, a, d[:, j], drawing, states, z, g)
            normal_sums_look(j, d, p, z, g, sd, n, s, ss)
        nt, sum_t, ss_t = (x[:, j] for x in sums[0])
        nc, sum_c, ss_c = (tuple(x[:, j] for x in sums[1]) if paired else external if external is not None
                           else (None, np.zeros(m), np.zeros(m)))
        stats = (statistics_from_sums(design, nt, sum_t, ss_t, nc, sum_c, ss_c) if few is None
                 else _running_statistics(design, few, float(planned[j]), nt, sum_t, ss_t, nc, sum_c, ss_c))
        out.append(stats)
        if j < n_looks - 1:
            running &= ~(eligible & (stats.z >= bounds[j]))
    return out


#: Largest table of binary look statistics (outcomes of both arms) built to look the statistics up.
_MAX_TABLE = 250_000
_TABLES: dict[tuple[Any, ...], LookStats] = {}


def _binary_by_table(design: Design, nt: np.ndarray, st: np.ndarray, sst: np.ndarray, nc: np.ndarray | None,
                     sc: np.ndarray, ssc: np.ndarray, *, constant: bool | None = None) -> LookStats | None:
    """Binary look statistics looked up in a table of every (responders treated, responders control) outcome.

    When every replicate has the same numbers of patients at the look (looks at fixed numbers of patients),
    the statistics depend only on the two counts of responders: they are computed once for each possible
    pair by :func:`.statistics.statistics_from_sums` itself and gathered, giving the same numbers.  None when
    the numbers of patients vary or the table would be large.  ``constant``: whether every row has the same numbers
    of patients, when the caller knows (else it is tested here).
    """
    n0 = float(nt[0])
    c0 = float(nc[0]) if nc is not None else 0.0
    if constant is None:
        constant = bool(np.all(nt == n0)) and (nc is None or bool(np.all(nc == c0)))
    if not constant:
        return None
    a, b = int(n0) + 1, int(c0) + 1
    if a * b > _MAX_TABLE:
        return None
    key = (n0, None if nc is None else c0,
           per_object("control rate", design, lambda: getattr(design.post_marketing.control, "rate", None)))
    table = _TABLES.get(key)
    if table is None:
        xt, xc = (g.ravel().astype(np.float64) for g in np.meshgrid(np.arange(a), np.arange(b), indexing="ij"))
        table = statistics_from_sums(design, np.full(xt.size, n0), xt, xt, None if nc is None else np.full(xt.size, c0),
                                     xc, xc)
        if len(_TABLES) > 256:
            _TABLES.clear()
        _TABLES[key] = table
    zeros = np.zeros(nt.size)
    z, info, est = np.empty((3, nt.size))  # (three rows of one array: one allocation instead of three)
    by_outcomes(st, sc if nc is not None else zeros, b, table.z, table.information, table.estimate, z, info, est)
    return LookStats(z=z, information=info, estimate=est, n_treated=nt, n_control=nc if nc is not None else zeros,
                     events=zeros, sum_t=st, sum_c=sc, ss_t=sst, ss_c=ssc)


def _enrolled(design: Design, blocks: _Blocks, known: _Known, st: _Stream, arms: list[Arm],
              entry_at: dict[int, np.ndarray], dec_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Patients enrolled in each arm by the decision (evaluable or not), as the patient-level path counts them.

    An arm's evaluable patients enrolled by ``end = min(its last entry, decision, cut-off - follow-up)``,
    plus its non-evaluable arrivals by then, Poisson with mean ``(1 - keep) Lambda_arm(end)``.
    """
    follow = float(getattr(design.post_marketing.endpoint, "followup_months", 0.0))
    m = dec_time.size
    end = np.minimum(dec_time, design.cutoff_month - follow)
    c = blocks.count(known, st.u(end), remember=False)  # the chunk's last count
    out = [st.treated_before[c].astype(np.float64)]
    if len(arms) == 2:
        out.append((c - st.treated_before[c]).astype(np.float64) if arms[1].paired else np.full(m, float(arms[1].n)))
    for i, arm in enumerate(arms[: len(st.last)]):
        if arm.lost > 0:
            assert arm.process is not None
            lam = arm.lost * arm.process.expected(np.maximum(np.minimum(entry_at[st.last[i]], end), 0.0))
            out[i] = out[i] + blocks.fill_drawn(f"lost:{arm.label}", 1, "poisson", lam[:, None])[:, 0]
    return out[0], out[1] if len(out) > 1 else np.zeros(m)
