"""numba, in one place: the decorator of every compiled loop, and the accrual's running sum.

The compiled loops of condapprove live in the ``*_jit`` modules, which the simulation's engine imports with its
modules and the rest of the package lazily (numba's import costs about 0.3 s and 55 MiB, and LLVM about 120 MiB more
once a loop is loaded). Each loop is compiled on first use and cached on disk, next to the package or, where that
folder is read-only, in ``NUMBA_CACHE_DIR`` or the user's cache folder; where no folder is writable (a read-only
installation run by a user without a home folder, say) :func:`compiled` still works and compiles in memory on each
run.
"""

from __future__ import annotations

import functools
import hashlib
import math
import pathlib
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit
from numba.core import caching, types
from numba.extending import intrinsic

__all__ = ["add_site_effects", "arrival_months", "bits_float", "capacity_rows", "compiled", "cumsum_rows",
           "expected_counts", "float_bits", "inlined", "inverse_row", "running_sums", "value_range"]


def compiled(fn: Callable[..., Any]) -> Any:
    """``numba.njit(cache=True, nogil=True, error_model="numpy")``, or without the disk cache where no cache folder
    is writable.

    ``error_model="numpy"``: a float division by zero gives inf or NaN as in numpy instead of raising, so the
    compiler need not test every divisor and can vectorise loops that divide (the log-rank walk's shares, about a
    tenth faster).  Every loop here guards its divisors itself, so no result changes.
    """
    return _njit(fn)


def _njit(fn: Callable[..., Any], **options: Any) -> Any:
    """``numba.njit`` with :func:`compiled`'s options and ``options``, cached on disk where a cache folder is
    writable, under the stamp of every compiled module (:func:`jit_sources_stamp`)."""
    try:
        dispatcher = njit(cache=True, nogil=True, error_model="numpy", **options)(fn)
        dispatcher._cache = _PackageFunctionCache(fn)  # type: ignore[no-untyped-call]
    except RuntimeError:  # numba found no writable cache location
        return njit(nogil=True, error_model="numpy", **options)(fn)
    return dispatcher


#: The package's folder: its compiled loops are the ``*_jit.py`` modules under it.
_PACKAGE = pathlib.Path(__file__).resolve().parent


@functools.cache
def jit_sources_stamp() -> bytes:
    """SHA-256 of every ``*_jit.py`` module of the package (paths and contents, in path order): the stamp of every
    compiled loop's disk cache.

    numba stamps a cached loop with its own module's source only, so a loop that calls (or inlines) a loop of another
    module kept its cached machine code when that module changed: in a source tree, the Philox rows' normals and gammas
    (``_philox_jit``) went on with the normal ziggurat of ``_draw_jit`` from before docs/performance.md's item 109,
    1.6 times as slow (a continuous run of 10^5 replicates took 41.6 against 34.3 ms).  With one stamp for all the
    compiled modules, a change to any of them compiles every loop again (an installation's files change together, so
    an upgrade was not affected).
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*_jit.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.digest()


class _PackageStamp:
    """A numba cache locator's stamp: :func:`jit_sources_stamp`, not the function's own file's."""

    def get_source_stamp(self) -> bytes:
        return jit_sources_stamp()


def _package_locator(base: type) -> Any:
    """numba's locator ``base`` (where a cache goes) with :class:`_PackageStamp`'s stamp."""
    return type(f"_Package{base.__name__}", (_PackageStamp, base), {})


class _PackageCacheImpl(caching.CompileResultCacheImpl):
    """numba's cache of compiled functions, found where numba finds it (``NUMBA_CACHE_DIR``, next to the source, the
    user's cache folder), stamped by :class:`_PackageStamp`."""

    _locator_classes = [_package_locator(base) for base in (  # noqa: RUF012 - numba's own class attribute
        caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator)]


class _PackageFunctionCache(caching.FunctionCache):
    """numba's ``FunctionCache`` with :class:`_PackageCacheImpl`."""

    _impl_class = _PackageCacheImpl


def inlined(fn: Callable[..., Any]) -> Any:
    """:func:`compiled`, and inlined into the compiled loops that call it (numba's ``inline="always"``, which inlines
    at numba's own level, before LLVM): for a helper called once per element or row of a hot loop that LLVM left as a
    call (Marsaglia and Tsang's gamma, :func:`condapprove._draw_jit._marsaglia_tsang`: 10.6 ns a draw as a call, 7.5
    inlined; a time-to-event row's columns, :func:`condapprove.kernels._tte_jit._row_columns`, 2.5 against 1.8 ms a
    block).  Other helpers of those loops, inlined so, ran no faster: LLVM had inlined them already."""
    return _njit(fn, inline="always")


@intrinsic
def _float_bits(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """In a compiled loop: the bit pattern of a float64 as a uint64 (an LLVM bitcast, in a register).

    What ``np.float64(x).view(np.uint64)`` gives, without the store and reload of a one-element buffer or a
    second view of an output array (the loops' earlier way); on this machine the time-to-event columns' pass and
    the look keys took about a tenth less time with it, the same numbers.
    """
    if x != types.float64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], context.get_value_type(types.uint64))

    return types.uint64(types.float64), codegen


#: :func:`_float_bits`, called as ``float_bits(x)`` in compiled loops (typed for the type checker).
float_bits = cast(Callable[[float], np.uint64], _float_bits)


@intrinsic
def _bits_float(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """In a compiled loop: the float64 whose bit pattern is the uint64 ``x`` (the inverse of :func:`_float_bits`;
    ``np.uint64(x).view(np.float64)``), an LLVM bitcast in a register."""
    if x != types.uint64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.uint64), codegen


#: :func:`_bits_float`, called as ``bits_float(k)`` in compiled loops (typed for the type checker).
bits_float = cast(Callable[[np.uint64], float], _bits_float)


@compiled
def cumsum_rows(x: np.ndarray) -> None:  # pragma: no cover - compiled
    """In place: ``x[j] += x[j - 1]`` for ``j = 1 .. k - 1`` of a (k, m) array.

    The arrival times of the accrual: running sums down the patients of the patient-major gaps.  Adding whole
    rows lets the compiler vectorise across the replicates (about ten times faster than ``np.cumsum`` along
    either axis) with the same additions in the same order, so the same numbers.
    """
    k, m = x.shape
    for j in range(1, k):
        for i in range(m):
            x[j, i] += x[j - 1, i]


@compiled
def capacity_rows(x: np.ndarray, gap: float, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Treatment months under a capacity, down the patients of (k, m) patient-major arrival months ``x`` into
    ``out``: ``np.maximum.accumulate(arrivals - j * gap, axis=-1) + j * gap`` of :func:`condapprove.accrual.
    apply_capacity` for ``arrivals = x.T``, with the same operations in the same order (a NaN carried as numpy's
    maximum carries it), so the same numbers, in one pass vectorised across the replicates instead of numpy's
    accumulation along the strided rows of the transposed arrays (about a ninth of a capacity design's run)."""
    k, m = x.shape
    run = np.empty(m)
    for j in range(k):
        shift = j * gap  # np.arange(k) * gap, element j
        for i in range(m):
            v = x[j, i] - shift
            if j == 0:
                a = v
            else:
                a = run[i]
                if v > a or math.isnan(v):  # np.maximum: the larger, NaN if either is (a NaN run stays NaN)
                    a = v
            run[i] = a
            out[j, i] = a + shift


@compiled
def running_sums(y: np.ndarray, s: np.ndarray, ss: np.ndarray) -> None:  # pragma: no cover - compiled
    """``s = np.cumsum(y, axis=1)`` and ``ss = np.cumsum(y * y, axis=1)`` of a replicate-major (m, n) array: the same
    additions in the same order, row by row in one pass (numpy's cumsum along the rows of a few hundred patients
    took four to six times as long)."""
    m, n = y.shape
    for i in range(m):
        a = 0.0
        b = 0.0
        for j in range(n):
            v = y[i, j]
            a = a + v if j > 0 else v
            sq = v * v
            b = b + sq if j > 0 else sq
            s[i, j] = a
            ss[i, j] = b


@inlined
def _response_probability(logit_base: float, effect: float) -> float:  # pragma: no cover - compiled
    """scipy's ``expit(logit_base + effect)``: ``1 / (1 + exp(-x))`` in double precision, after numpy's one addition
    (the one formula of :func:`binary_outcomes` and :func:`binary_outcomes_by_pattern`)."""
    return float(1.0 / (1.0 + np.exp(-(logit_base + effect))))


@compiled
def binary_outcomes(u: np.ndarray, logit_base: np.ndarray, lin: np.ndarray,
                    out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out = (u < expit(logit_base[:, None] + lin)).astype(np.float64)`` for (m, n) arrays of any layout, in one
    pass down the columns (the uniforms are drawn patient-major: a transposed view): each patient's response from
    its uniform ``u``, its replicate's ``logit_base`` and its own effects ``lin``.  scipy's ``expit(x)`` is
    ``1 / (1 + exp(-x))`` in double precision, the same operations here (the tests compare the two), after numpy's
    one addition: the same responses as the three numpy passes and their (m, n) temporaries.  (Remembering a row's
    few distinct effects to skip their ``exp`` was slower: its branches cost more than the ``exp`` they save.)"""
    m, n = u.shape
    for j in range(n):
        for i in range(m):
            out[i, j] = 1.0 if u[i, j] < _response_probability(logit_base[i], lin[i, j]) else 0.0


@compiled
def continuous_outcomes(mean: np.ndarray, lot: np.ndarray, lot_size: int, sd: float, z: np.ndarray,
                        out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out = mean[:, None] + lin + sd * z`` for (m, n) arrays of any layout, numpy's operations in numpy's order, in
    one pass along the rows: ``lin[i, j] = 0.0 + lot[i, j // lot_size]``, each patient's lot's effect (added to a
    0, as numpy adds the lots' effects to no effects), or 0 where ``lot`` has no columns.  A continuous endpoint
    without covariates or site effects (``simulate_arm``): the same outcomes without numpy's three passes and their
    (m, n) temporaries, nor the lots' effects repeated patient by patient."""
    m, n = z.shape
    for i in range(m):
        mu = mean[i]
        if lot.shape[1] == 0:
            start = mu + 0.0
            for j in range(n):
                out[i, j] = start + sd * z[i, j]
            continue
        for k in range(lot.shape[1]):  # lot by lot: mean + lin once a lot (the same value for each of its patients)
            start = mu + (0.0 + lot[i, k])
            for j in range(k * lot_size, min(n, (k + 1) * lot_size)):
                out[i, j] = start + sd * z[i, j]


@compiled
def covariate_effects(u: np.ndarray, prevalence: np.ndarray, effects: np.ndarray, x: np.ndarray,
                      lin: np.ndarray, pattern: np.ndarray) -> None:  # pragma: no cover - compiled
    """Binary covariates and their summed effects in one pass over patient-major (n, m, k) uniforms ``u``:
    ``x = (u < prevalence).astype(np.float64)`` (same shape; or (0, 0, 0), not written, where only their effects are
    needed) and ``lin[j, i] = 0.0 + sum_c x[j, i, c] * effects[c]`` (shape (n, m)), the products added in the order
    of the covariates; with ``pattern`` of shape (n, m)
    (else (0, 0), not written), each patient's covariates as the bits of an integer (covariate ``c`` bit ``c``),
    whose summed effect :func:`pattern_effects` gives."""
    n, m, k = u.shape
    with_x, with_pattern = x.shape[0] > 0, pattern.shape[0] > 0
    for j in range(n):
        for i in range(m):
            acc = 0.0
            bits = 0
            for c in range(k):
                has = u[j, i, c] < prevalence[c]
                v = 1.0 if has else 0.0
                if with_x:
                    x[j, i, c] = v
                acc = acc + v * effects[c]
                bits |= int(has) << c
            lin[j, i] = 0.0 + acc
            if with_pattern:
                pattern[j, i] = bits


@compiled
def pattern_effects(effects: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The summed effect of each pattern of binary covariates ``p`` (covariate ``c`` present where bit ``c`` of ``p``
    is set) into ``out[p]``, with :func:`covariate_effects`' operations in its order: the same value as its ``lin``
    of a patient with those covariates."""
    for p in range(out.size):
        acc = 0.0
        for c in range(effects.size):
            v = 1.0 if (p >> c) & 1 else 0.0
            acc = acc + v * effects[c]
        out[p] = 0.0 + acc


@compiled
def binary_outcomes_by_pattern(u: np.ndarray, logit_base: np.ndarray, pattern: np.ndarray, pattern_lin: np.ndarray,
                               out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`binary_outcomes` for patients whose effects are those of their covariates alone: the effect of
    patient ``(i, j)`` is ``pattern_lin[pattern[i, j]]`` (:func:`covariate_effects`' patterns and
    :func:`pattern_effects`' sums), so a replicate's probabilities of response are computed once per pattern
    (a few ``exp`` a replicate instead of one a patient, which took about a quarter of
    ``designs/collategene_survey.yaml``'s run) and looked up: the same operations on the same values, the same
    responses."""
    m, n = u.shape
    table = np.empty((pattern_lin.size, m))  # pattern-major: a column of patients reads a few rows in step
    for q in range(pattern_lin.size):
        for i in range(m):
            table[q, i] = _response_probability(logit_base[i], pattern_lin[q])
    for j in range(n):
        for i in range(m):
            out[i, j] = 1.0 if u[i, j] < table[pattern[i, j], i] else 0.0


@compiled
def add_site_effects(lin: np.ndarray, site: np.ndarray, effects: np.ndarray,
                     out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[j, i] = lin[j, i] + effects[i, site[j, i]]`` for patient-major (n, m) ``lin`` (any strides: a broadcast
    0 too), ``site`` and ``out``, with ``effects`` (m, sites): numpy's ``lin + np.take_along_axis(effects, site,
    axis=1)`` on the transposes, the same additions, in one pass down the patients' contiguous rows (numpy's gather
    through the transposed indices took a tenth of a run of ``designs/amchepry_trial.yaml``)."""
    n, m = site.shape
    for j in range(n):
        for i in range(m):
            out[j, i] = lin[j, i] + effects[i, site[j, i]]


@compiled
def value_range(values: np.ndarray) -> tuple[float, float, bool]:  # pragma: no cover - compiled
    """The smallest and largest of the numbers in ``values`` (1-d; NaN passed over: inf and -inf when there are no
    numbers) and whether any is NaN: which segments of a piecewise function a row of values reaches."""
    smallest, largest, nan = np.inf, -np.inf, False
    for i in range(values.size):
        v = values[i]
        smallest = v if v < smallest else smallest  # noqa: FURB136 - NaN passed over, as meant (min() would not say)
        largest = v if v > largest else largest  # noqa: FURB136
        nan |= math.isnan(v)
    return smallest, largest, nan


@compiled
def inverse_row(lam: np.ndarray, out: np.ndarray, knots: np.ndarray, cum: np.ndarray, level: np.ndarray,
                slope: np.ndarray) -> None:  # pragma: no cover - compiled
    """:meth:`condapprove.accrual.PoissonAccrual.inverse` of a row of values ``lam`` into ``out`` (of an accrual with
    more than one segment): the same operations in the same order, so the same numbers.

    One pass over the row per segment it reaches (an accrual has a few), each computing the segment's formula for
    every value and keeping it where the value lies in the segment: the last whose cumulative count ``cum`` is at or
    below the value (``searchsorted(cum, lam, "right") - 1`` clipped at 0; NaN in the last).  Without a branch on
    the values each pass vectorises (the square roots and divisions four at a time): a ramp-up accrual's 240 x 2,048
    arrival months in 1.0-1.3 ms against 2.3-4.4 ms one value at a time (the search of its segment and the branches
    of the formula).
    """
    n = cum.size
    smallest, largest, nan = value_range(lam)  # of the row: the segments it reaches
    for s in range(n):
        lo = cum[s]
        hi = cum[s + 1] if s + 1 < n else np.inf
        first, last = s == 0, s == n - 1
        if not ((last and (nan or largest >= lo)) or (not last and (first or largest >= lo) and smallest < hi)):
            continue  # no value of the row in this segment (the later patients, past a ramp-up)
        a, b, k0 = level[s], slope[s], knots[s]
        # three loops, by the segment's kind, each straight-line code and selects (both roots computed in a
        # ramp-up), which the compiler vectorises
        if a == 0.0 and b == 0.0:  # a rate of 0 from here on: never
            for i in range(lam.size):
                v = lam[i]
                rest = _rest(v, lo)
                u = 0.0 if rest == 0.0 else np.inf
                out[i] = k0 + u if _within(v, lo, hi, first, last) else out[i]
        elif b > 0.0:  # inside the ramp-up: the stable root of the quadratic (or, where 2 b rest underflows, its
            # value)
            for i in range(lam.size):
                v = lam[i]
                rest = _rest(v, lo)
                root = a + math.sqrt(a * a + 2.0 * b * rest)
                stable = (2.0 * rest) / root
                under = math.sqrt(2.0 * rest / b)
                u = stable if root > 0.0 else under
                u = 0.0 if rest == 0.0 else u
                out[i] = k0 + u if _within(v, lo, hi, first, last) else out[i]
        else:
            for i in range(lam.size):
                v = lam[i]
                rest = _rest(v, lo)
                u = 0.0 if rest == 0.0 else rest / a
                out[i] = k0 + u if _within(v, lo, hi, first, last) else out[i]


@compiled
def _rest(v: float, lo: float) -> float:  # pragma: no cover - compiled
    """``np.maximum(v - lo, 0.0)``: NaN stays NaN (``max()`` would not say)."""
    rest = v - lo
    return 0.0 if rest < 0.0 else rest  # noqa: FURB136 - max() would not say


@compiled
def _within(v: float, lo: float, hi: float, first: bool, last: bool) -> bool:  # pragma: no cover - compiled
    """Whether ``v`` lies in the segment [lo, hi) (the first also below it; the last also at NaN)."""
    if last:
        return not v < lo
    return (first or v >= lo) and v < hi


#: The largest double, which ``np.nan_to_num`` puts for an infinite value.
_DOUBLE_MAX = 1.7976931348623157e308


@compiled
def expected_counts(t: np.ndarray, knots: np.ndarray, cum: np.ndarray, level: np.ndarray, slope: np.ndarray,
                    start: float, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:meth:`condapprove.accrual.PoissonAccrual.expected` of the values ``t`` (1-d) into ``out``: each value's
    segment (the last whose knot is at or below it, the first below them all, the last for NaN: numpy's
    ``searchsorted(knots, t, "right") - 1`` clipped at 0), then ``cum + level u + ramp`` with ``u = max(t - knot,
    0)``, the ramp ``0.5 slope u u`` as ``np.nan_to_num`` leaves it (NaN 0, infinities the largest doubles), ``level
    u`` 0 where a level of 0 meets ``u = inf``, and 0 at or before the start: the same operations in the same order as
    the numpy code, so the same numbers, in one pass instead of about ten."""
    n = knots.size
    for r in range(t.size):
        v = t[r]
        i = 0
        if math.isnan(v):
            i = n - 1
        else:
            while i + 1 < n and knots[i + 1] <= v:
                i += 1
        u = _rest(v, knots[i])
        ramp = 0.5 * slope[i] * u * u
        if math.isnan(ramp):
            ramp = 0.0
        elif ramp == np.inf:
            ramp = _DOUBLE_MAX
        elif ramp == -np.inf:
            ramp = -_DOUBLE_MAX
        flow = 0.0 if level[i] == 0.0 and u == np.inf else level[i] * u  # (nobody after a last rate of 0)
        value = cum[i] + flow + ramp
        out[r] = 0.0 if v <= start else value


@compiled
def arrival_months(x: np.ndarray, keep: float, knots: np.ndarray, cum: np.ndarray, level: np.ndarray,
                   slope: np.ndarray) -> None:  # pragma: no cover - compiled
    """In place: the arrival months of an accrual from its (k, m) patient-major exponential gaps (``knots``,
    ``cum``, ``level``, ``slope``: its segments, see :class:`~condapprove.accrual.PoissonAccrual`).

    The same operations, in the same order, as :func:`cumsum_rows`, the thinning (``/ keep``, only when
    ``keep != 1``) and :meth:`~condapprove.accrual.PoissonAccrual.inverse` (for a constant rate from the start,
    one segment, its own formula ``start + sum / rate``), in one pass instead of three to twenty numpy passes with
    their temporaries: the same numbers.
    """
    k, m = x.shape
    run = np.zeros(m)
    thin = keep != 1.0
    start, rate = knots[0], level[0]
    if knots.size == 1:
        for j in range(k):
            for i in range(m):
                s = run[i] + x[j, i] if j > 0 else x[j, i]
                run[i] = s
                v = s / keep if thin else s
                x[j, i] = start + v / rate
        return
    counts = np.empty(m)  # one patient's expected counts, inverted segment by segment (inverse_row)
    for j in range(k):
        for i in range(m):
            s = run[i] + x[j, i] if j > 0 else x[j, i]
            run[i] = s
            counts[i] = s / keep if thin else s
        inverse_row(counts, x[j], knots, cum, level, slope)
