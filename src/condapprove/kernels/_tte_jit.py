"""Compiled (numba) loops of the time-to-event simulation and the two-arm log-rank on sort keys: the patients'
look-independent columns, each look's keys, and the log-rank sums in one pass per row (instead of ~25 numpy
passes per look).

Imported lazily by :mod:`condapprove.kernels.survival`, with the engine by the simulation (numba: about 0.3 s);
compiled on first use and cached by :func:`condapprove._jit.compiled`.  See
:func:`condapprove.kernels.survival.logrank_from_keys` for the key layout.

Keys are the bit patterns of doubles ``>= 0`` (``uint64``) whose two lowest significand bits hold
``2 * censored + treated``; anything that is not a finite double (the padding, all ones) is not in the
analysis.  After an ascending sort as doubles, the rows list every valid key first, in time order, events
before censorings at equal times.  The engine sorts narrow keys (uint32, :func:`look_keys32`) instead, and goes
back to these wide ones for the rare row where the narrow keys may have merged two times (:func:`unsure_rows`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import binding as _llvm
from llvmlite import ir
from numba.core import cgutils, codegen, config, types
from numba.extending import intrinsic, overload

from .._jit import bits_float, compiled, float_bits, inlined, value_range

__all__ = ["PAD32", "kth_ordered", "look_keys", "look_keys32", "look_keys32_by_width", "look_results", "order_key",
           "order_keys", "patient_columns", "piecewise_inverse", "screen_stops", "two_arm_columns", "unsure_rows",
           "walk_by_width", "walk_sorted"]

_EXP_MASK = np.uint64(0x7FF0_0000_0000_0000)  # a double is finite iff its exponent bits are not all ones
_PAD = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
#: The largest finite double: where :func:`look_keys` takes a look at an infinite month.
_LARGEST = float(np.finfo(np.float64).max)


@compiled
def _observed_key(t: float, entry: float, first_key: np.uint64,
                  admin_code: np.uint64) -> tuple[np.uint64, np.uint64]:  # pragma: no cover - compiled
    """One patient's key at calendar month ``t`` (see :func:`look_keys`) and whether it has entered (1 or 0)."""
    k = float_bits((t - entry) + 0.0)  # the bits of c = t - entry (+ 0.0: -0.0 becomes +0.0)
    entered = np.uint64(1) - (k >> np.uint64(63))  # c >= 0: the sign bit is clear
    k = (k & ~np.uint64(3)) | admin_code
    return min(first_key, k) | (entered - np.uint64(1)), entered  # all ones when not entered


@compiled
def look_keys(entry: np.ndarray, tau: np.ndarray, first_key: np.ndarray, admin_code: np.ndarray,
              out: np.ndarray, n_valid: np.ndarray, n1: np.ndarray) -> None:  # pragma: no cover - compiled
    """Keys of the observed times at calendar months ``tau`` (one per row) into ``out`` (uint64, unsorted).

    A patient has entered when ``c = tau - entry >= 0``; the observed key is the smaller of the key of the
    administrative censoring at ``c`` (code ``admin_code``) and ``first_key`` (event or dropout, or the
    padding if neither ever happens).  Patients not yet entered get the padding.  ``n_valid`` and ``n1``
    receive each row's numbers of entered and of entered treated patients.  A look at ``tau = inf`` is taken at
    the largest double, so that every entered patient's censoring key stays a finite double (``c = inf`` made a
    NaN's bit pattern, which numpy's sort of the keys as doubles rewrites as an event of the control arm).
    """
    for i in range(entry.shape[0]):
        t = min(tau[i], _LARGEST)
        nv = np.uint64(0)
        x1 = np.uint64(0)
        for j in range(entry.shape[1]):
            out[i, j], entered = _observed_key(t, entry[i, j], first_key[i, j], admin_code[j])
            nv += entered
            x1 += entered & admin_code[j]
        n_valid[i], n1[i] = nv, x1


#: The padding of a narrow key (:func:`look_keys32`): above every narrow key of a patient in the analysis.
PAD32 = np.uint32(0xFFFF_FFFF)
#: A narrow key's time: ``q`` in [0, 2**29] for times in [0, tau], linear ...
_Q_SPAN = 2**29
#: ... and above it, for times beyond the look's month (a historical cohort entered long before, observed to its
#: event), ``2**29`` plus the difference of the doubles' bit patterns from tau's shifted right by this many bits
#: (a relative 2**-25: 16 binades above tau before the codes run out) ...
_ABOVE_SHIFT = np.uint64(27)
#: ... at most this (times that far beyond, and times that are not finite, merge at the top).
_ABOVE_MAX = np.uint64(2**29 - 3)


@inlined
def _narrow_row(t: float, entry: np.ndarray, first_key: np.ndarray, admin_code: np.ndarray, i: int, flat: np.ndarray,
                at: int, beyond: bool) -> tuple[np.uint64, np.uint64]:  # pragma: no cover - compiled
    """Row ``i`` of :func:`look_keys32` at month ``t`` into ``flat[at:at + n]`` (1-d; ``n`` the row's patients).
    Returns the row's entered and entered treated patients."""
    linear = t > 0.0 and t < np.inf
    scale = _Q_SPAN / t if linear else 0.0
    upto = t if linear else -1.0
    base = float_bits(t) if linear else np.uint64(0)
    if beyond:  # (each call with a constant: the loop compiled without the test, or without the other branch)
        nv, x1 = _narrow_run(t, scale, upto, base, entry, first_key, admin_code, i, flat, at, True)
    else:
        nv, x1 = _narrow_run(t, scale, upto, base, entry, first_key, admin_code, i, flat, at, False)
    return np.uint64(nv), np.uint64(x1)


@inlined
def _narrow_run(t: float, scale: float, upto: float, base: np.uint64, entry: np.ndarray, first_key: np.ndarray,
                admin_code: np.ndarray, i: int, flat: np.ndarray, at: int,
                beyond: bool) -> tuple[np.uint64, np.uint64]:  # pragma: no cover - compiled
    """:func:`_narrow_row`'s loop, whose look at month ``t`` gives ``scale``, ``upto`` and ``base``.  The indices
    are unsigned: numba tests a signed index for a negative value, and a loop over columns from an offset so
    indexed took 2.8 times as long on a captured look (it did not vectorise)."""
    three = np.uint64(3)
    cleared = ~three
    span = np.uint32(_Q_SPAN)
    nv = np.uint64(0)
    x1 = np.uint64(0)
    row, out0 = np.uint64(i), np.uint64(at)
    for j in range(entry.shape[1]):  # each wide key made and narrowed in one pass: 0.73-0.86 of the time
        # of a pass that made a row of wide keys and a second that narrowed them (medians, 60 captured parts)
        u = np.uint64(j)
        k, entered = _observed_key(t, entry[row, u], first_key[row, u], admin_code[u])
        nv += entered
        x1 += entered & admin_code[u]
        bits = k & cleared
        v = bits_float(bits)
        x = v * scale
        if not x <= _Q_SPAN:  # beyond tau, or not a number (the padding's bits)
            x = _Q_SPAN
        q = np.uint32(np.int32(x))  # through int32: a conversion that vectorises
        if beyond and v > upto:  # beyond tau, by the bit patterns
            q = span + np.uint32(min((bits - base) >> _ABOVE_SHIFT, _ABOVE_MAX))
        flat[out0 + u] = PAD32 if k == _PAD else (q << np.uint32(2)) | np.uint32(k & three)
    return nv, x1


@inlined
def _group_end(t: float, entry: np.ndarray, i: int, lo: int, size: int,
               entered: np.int64) -> np.int64:  # pragma: no cover - compiled
    """One past the last of the ``size`` patients of row ``i`` from column ``lo`` who has entered by month ``t`` (0:
    none), of whom ``entered`` have (:func:`_narrow_row`'s count): where the first that many have all entered, those
    are they (as when patients enter in column order); otherwise a loop from the group's end finds the last.  The
    test is :func:`_observed_key`'s, the sign of ``t - entry``."""
    row, col0 = np.uint64(i), np.uint64(lo)
    signs = np.uint64(0)
    for j in range(entered):
        signs |= float_bits((t - entry[row, col0 + np.uint64(j)]) + 0.0)
    if signs >> np.uint64(63) == 0:
        return entered
    last = np.int64(size)  # one of them has not entered: find the last who has
    while last > 0 and float_bits((t - entry[row, col0 + np.uint64(last - 1)]) + 0.0) >> np.uint64(63):
        last -= 1
    return last


@inlined
def _move_keys(flat: np.ndarray, to: np.uint64, start: np.uint64, count: int) -> None:  # pragma: no cover
    """``flat[to:to + count] = flat[start:start + count]`` (ranges that do not overlap), with unsigned indices."""
    for j in range(np.uint64(count)):
        flat[to + j] = flat[start + j]


@compiled
def look_keys32(entry: np.ndarray, tau: np.ndarray, first_key: np.ndarray, admin_code: np.ndarray,
                rows: np.ndarray, out: np.ndarray, n_valid: np.ndarray, n1: np.ndarray,
                beyond: bool = True) -> None:  # pragma: no cover - compiled
    """:func:`look_keys` as narrow keys (uint32, unsorted, into ``out``): half the bytes to sort, which numpy's
    vectorised sort orders about twice as fast per row.  Only the rows ``rows`` (indices into ``entry``, ``tau``
    and ``first_key``) are read: row ``r`` of ``out``, ``n_valid`` and ``n1`` is row ``rows[r]``'s (the engine skips
    the rows that have certainly stopped at an earlier look: :class:`condapprove.simulation.statistics.StopScreen`).

    Each key of :func:`look_keys` (of time ``t`` once its two code bits are cleared, and code ``2 * censored +
    treated``) becomes ``q << 2 | code``, and the padding :data:`PAD32`.  Up to the look's month ``tau``, ``q =
    floor(t * 2**29 / tau)``; beyond it (a historical cohort, entered long before, is observed to its event)
    ``q = 2**29 + ((bits(t) - bits(tau)) >> 27)``, at most ``2**30 - 3`` (for a look at a month that is not
    positive and finite, every time is taken as beyond it, from 0).  ``q`` never decreases as ``t`` grows, so
    sorting the narrow keys orders the patients as sorting the wide ones would, *except* where two different times
    share a ``q`` (``2**-29`` of the look's span, or a relative ``2**-25`` beyond it: up to about one row in ten
    thousand has such a pair with an event in the benchmark's designs).  Such a row is found after the sort by
    :func:`unsure_rows` and is to be analysed with the wide keys; in every other row the walk meets the same events
    at the same positions with the same patients before them, and no tied events, so it gives the wide keys'
    numbers bit for bit.

    ``beyond``: whether times beyond ``tau`` are expected (a historical cohort).  When False, every such time takes
    ``q = 2**29`` and a look at a month that is not positive and finite puts every time at 0 (a cheaper loop, about
    0.6–0.8 of the time here; a row where that merges an event's time with another is reported like any other).
    """
    flat = out.reshape(-1)
    n = entry.shape[1]
    for r in range(rows.size):
        i = rows[r]
        n_valid[r], n1[r] = _narrow_row(tau[i], entry, first_key, admin_code, i, flat, r * n, beyond)


@compiled
def look_keys32_by_width(entry: np.ndarray, tau: np.ndarray, first_key: np.ndarray, admin_code: np.ndarray,
                         rows: np.ndarray, n_t: int, bounds: np.ndarray, starts: np.ndarray, cap: int,
                         flat: np.ndarray, counts: np.ndarray, widest: np.ndarray, dest: np.ndarray,
                         n_valid: np.ndarray, n1: np.ndarray, beyond: bool = True) -> None:  # pragma: no cover
    """:func:`look_keys32` of the rows ``rows``, each in the narrowest of several buffers of rows that holds the
    keys of its patients entered by the look: numpy sorts a row of up to 64, 128, 256 or 512 uint32 keys with a
    sorting network of that size (0.043, 0.080, 0.164 and 0.369 us a row here, 512 rows) and a longer row by
    partitioning it, at a cost that grows with its length, so a look before every patient has entered need not sort
    the whole row (docs/performance.md, item 117).

    Buffer ``c`` holds up to ``cap`` rows of ``bounds[c]`` keys (ascending; the last, ``n``, the row's length) from
    ``flat[starts[c]]``.  Each row's keys are written into the next row of the last buffer.  A row with no more
    patients entered than the buffer before it holds is then compacted into the first buffer that holds them: the
    keys of the first ``n_t`` columns up to the last of those patients entered (:func:`_group_end`), then the other
    columns' up to theirs, then the padding (patients enter in column order in each arm, as the engine's running
    sums of gaps give them, so this is usually all the patients entered and no more).  A row's buffer counts it
    (``counts[c]``) and records its index from ``rows`` at ``dest[c * cap + counts[c]]``; a compacted row raises
    ``widest[c]`` to the number of keys before its padding, as far as a sort of the buffer's rows needs to go (the
    last buffer's rows are not compacted: they are sorted whole).  ``n_valid`` and ``n1`` are written at the row's
    index (arrays of every row)."""
    n = entry.shape[1]
    top = bounds.size - 1
    for r in range(rows.size):
        i = rows[r]
        at = starts[top] + counts[top] * n  # the next row of the widest buffer, then moved if narrower will do
        t = tau[i]
        nv, x1 = _narrow_row(t, entry, first_key, admin_code, i, flat, at, beyond)
        n_valid[i], n1[i] = nv, x1
        c = top
        if top > 0 and np.int64(nv) <= bounds[top - 1]:  # a narrower buffer may do
            last_t = _group_end(t, entry, i, 0, n_t, np.int64(x1))
            last_c = _group_end(t, entry, i, n_t, n - n_t, np.int64(nv - x1))
            s = last_t + last_c
            c = 0
            while bounds[c] < s:
                c += 1
        w, pos = bounds[c], counts[c]
        counts[c] = pos + 1
        dest[c * cap + pos] = i
        if c == top:  # kept as written, not compacted
            continue
        widest[c] = max(widest[c], s)
        to = np.uint64(starts[c] + pos * w)
        _move_keys(flat, to, np.uint64(at), last_t)
        _move_keys(flat, to + np.uint64(last_t), np.uint64(at + n_t), last_c)
        for j in range(np.uint64(s), np.uint64(w)):
            flat[to + j] = PAD32


@compiled
def screen_stops(e1: np.ndarray, var: np.ndarray, o1: np.ndarray, events: np.ndarray, planned: int, bound: float,
                 eligible: np.ndarray, regular: np.ndarray, alive: np.ndarray) -> int:  # pragma: no cover - compiled
    """After a look computed for the rows still ``alive`` (its log-rank sums ``e1``, ``var``, ``o1`` and
    ``events``; rows not alive are left alone): ``regular`` becomes False where the look's events are not the
    ``planned`` ones, and ``alive`` False where a row is ``eligible`` and ``regular`` and its z, ``(e1 - o1) /
    sqrt(var)`` as :func:`condapprove.kernels.survival.logrank_z` computes it, is at least ``bound``: a row that has
    certainly stopped (see :class:`condapprove.simulation.statistics.StopScreen`).  Returns how many rows are still
    alive."""
    left = 0
    for i in range(alive.size):
        if not alive[i]:
            continue
        reg = regular[i] and events[i] == planned
        regular[i] = reg
        if reg and eligible[i] and var[i] > 0.0 and (e1[i] - o1[i]) / np.sqrt(var[i]) >= bound:
            alive[i] = False
        else:
            left += 1
    return left


@compiled
def look_results(e1: np.ndarray, var: np.ndarray, o1: np.ndarray, events: np.ndarray, n_valid: np.ndarray,
                 n1: np.ndarray, recruited_events: bool, z: np.ndarray, information: np.ndarray,
                 estimate: np.ndarray, n_treated: np.ndarray, n_control: np.ndarray,
                 events_out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The two-arm log-rank's statistics at each look from its sums (arrays of shape (looks, rows)), in one pass: z,
    :math:`(E_1 - O_1)/\\sqrt{V}` as :func:`condapprove.kernels.survival.logrank_z` computes it, 0 where it is
    degenerate (:math:`V` not positive) or not finite; the Peto estimate :math:`(O_1 - E_1)/V`, NaN where degenerate;
    the information, the events (``recruited_events``) or else :math:`O_1` (beside a historical cohort); the
    numbers of treated and of control patients, and the events, as floats.  numpy's numbers (the same operations on
    doubles, in the same order), without its dozen passes a look over rows of a few thousand values."""
    for j in range(e1.shape[0]):
        for i in range(e1.shape[1]):
            v = var[j, i]
            if v > 0.0:
                zi = (e1[j, i] - o1[j, i]) / np.sqrt(v)
                z[j, i] = zi if np.isfinite(zi) else 0.0
                estimate[j, i] = (o1[j, i] - e1[j, i]) / v
            else:
                z[j, i] = 0.0
                estimate[j, i] = np.nan
            events_out[j, i] = events[j, i]
            information[j, i] = events[j, i] if recruited_events else o1[j, i]
            n_treated[j, i] = n1[j, i]
            n_control[j, i] = n_valid[j, i] - n1[j, i]


@compiled
def unsure_rows(key: np.ndarray, n_valid: np.ndarray, out: np.ndarray) -> int:  # pragma: no cover - compiled
    """Whether two neighbours among the first ``n_valid`` sorted keys of each row share their time (all but the two
    code bits) and are not both censorings, into ``out`` (bool); returns the number of such rows.

    For narrow keys (:func:`look_keys32`): a row where an event's time may have merged with another time.  Two
    censorings that merged are harmless: no event lies between them, so every event has both before it or neither,
    in either order, and the log-rank sums are the same (a historical cohort's patients without an event, all entered
    at the same month and so censored together at each look, are such ties)."""
    total = 0
    for i in range(key.shape[0]):
        same = _row_unsure(key[i], n_valid[i])
        out[i] = same
        total += same
    return total


@inlined
def _row_unsure(row: np.ndarray, nv: int) -> bool:  # pragma: no cover - compiled
    """:func:`unsure_rows` of one row of ``nv`` keys in the analysis."""
    two = np.uint64(2)
    same = False
    for j in range(1, nv):
        k, prev = np.uint64(row[j]), np.uint64(row[j - 1])
        same |= ((k >> two) == (prev >> two)) & ((k & prev & two) == 0)
    return same


#: The bits of 2**52: OR-ed into an integer below 2**52, the double 2**52 + that integer, exactly.
_TWO52_BITS = np.uint64(0x4330_0000_0000_0000)
_TWO52 = 4503599627370496.0


@compiled
def _small_float(x: np.uint64) -> float:  # pragma: no cover - compiled
    """``float(x)`` for ``0 <= x < 2**52``, exactly, in two operations that vectorise (an OR with the bits of
    2**52, then a subtraction of 2**52): without AVX-512 there is no vector conversion of 64-bit integers, and
    ``float(x)`` is then one scalar conversion per element."""
    return bits_float(x | _TWO52_BITS) - _TWO52


#: Whether numba's LLVM has the target-independent vector compress (``llvm.experimental.vector.compress``, LLVM 19
#: and later), which :func:`_eight_positions` needs.
_VECTOR_COMPRESS = _llvm.llvm_version_info >= (19,)


def _compress_instruction() -> bool:
    """Whether the processor numba compiles for has a compress instruction (AVX-512F's ``vpcompressq``), by the
    features numba gives LLVM: ``NUMBA_CPU_FEATURES`` where set (none for ``NUMBA_CPU_NAME=generic``, a cache made
    for other machines), else the host's (without the AVX ones under ``NUMBA_ENABLE_AVX=0``)."""
    features = getattr(config, "CPU_FEATURES", None)  # (numba sets its settings as the module's attributes)
    if features is None:
        features = codegen.get_host_cpu_features()  # type: ignore[no-untyped-call]
    return "+avx512f" in str(features).split(",")


#: Whether :func:`walk_sorted` passes over the positions eight at a time (:func:`_eight_positions`): where the
#: compress is one instruction.  Elsewhere LLVM lowers it to a sequence of its own, and the pass took longer than
#: the position-by-position one (an AMD EPYC without AVX-512, AVX2 only: 526-538 against 421-488 ns a row of 160 keys;
#: docs/performance.md, item 108), so the walk lists the events one position at a time throughout.
_VECTOR_PASS = _VECTOR_COMPRESS and _compress_instruction()


def _vector_keys(row: Any) -> bool:
    """Whether :func:`_eight_positions` takes rows of this numba type (C-contiguous keys of 32 or 64 bits), on this
    LLVM and processor (:data:`_VECTOR_PASS`)."""
    return (_VECTOR_PASS and isinstance(row, types.Array) and row.ndim == 1 and row.layout == "C"
            and row.dtype in (types.uint32, types.uint64))


@intrinsic
def _eight_positions(typingctx: Any, row: Any, j: Any, now: Any, packed: Any, event_key: Any,
                     cnt: Any) -> Any:  # pragma: no cover - compiled
    """In a compiled loop: :func:`walk_sorted`'s pass over the positions ``j`` to ``j + 7`` of ``row`` (keys of 32 or
    64 bits, C-contiguous) in vector registers.  Each position's word (``now`` plus the words of the positions
    before it in the eight: ``(treated) << 32 | 1`` each, a prefix sum in three shifts and additions) and its key
    are compressed to the events' lanes and stored whole at ``packed[cnt]`` and ``event_key[cnt]`` (the lanes past
    the events are written but not counted: the scalar loop's writes at every position, eight at a time; they stay
    within the arrays, since ``cnt <= j`` and ``j + 8 <= n_valid``).  Returns the next ``now`` and ``cnt``: the
    scalar loop's after the eight positions.  LLVM lowers the compress to one instruction with AVX-512
    (``vpcompressq``) and to its own sequence elsewhere."""
    if not (_vector_keys(row) and all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"
                                      and a.dtype == types.uint64 for a in (packed, event_key))):
        return None
    sig = types.Tuple((types.uint64, types.int64))(  # type: ignore[no-untyped-call]
        row, types.int64, types.uint64, packed, event_key, types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        row_v, j_v, now_v, packed_v, key_v, cnt_v = args
        i32, i64 = ir.IntType(32), ir.IntType(64)
        width = signature.args[0].dtype.bitwidth
        v8 = ir.VectorType(i64, 8)

        def arr(k: int, value: Any) -> Any:
            return context.make_array(signature.args[k])(context, builder, value).data

        def splat(x: int) -> Any:
            return ir.Constant(v8, [x] * 8)

        src = builder.gep(arr(0, row_v), [j_v])
        keys = builder.load(builder.bitcast(src, ir.VectorType(ir.IntType(width), 8).as_pointer()), align=width // 8)
        k64 = builder.zext(keys, v8) if width == 32 else keys
        event = builder.icmp_unsigned("==", builder.and_(k64, splat(2)), splat(0))  # (code bit 1: censored)
        word = builder.or_(builder.shl(builder.and_(k64, splat(1)), splat(32)), splat(1))
        total = word
        for shift in (1, 2, 4):  # inclusive prefix sum: lane l adds lane l - shift (zeros shifted in)
            lanes = ir.Constant(ir.VectorType(i32, 8), [l - shift if l >= shift else 8 + l for l in range(8)])
            total = builder.add(total, builder.shuffle_vector(total, splat(0), lanes))
        start = builder.insert_element(ir.Constant(v8, ir.Undefined), now_v, ir.Constant(i32, 0))
        start = builder.shuffle_vector(start, start, ir.Constant(ir.VectorType(i32, 8), [0] * 8))
        before = builder.add(builder.sub(total, word), start)  # each position's word: the scalar loop's now
        compress = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, ir.FunctionType(v8, [v8, event.type, v8]), "llvm.experimental.vector.compress.v8i64")
        for k, values in ((3, before), (4, k64)):
            dst = builder.gep(arr(k, (packed_v, key_v)[k - 3]), [cnt_v])
            builder.store(builder.call(compress, [values, event, ir.Constant(v8, ir.Undefined)]),
                          builder.bitcast(dst, v8.as_pointer()), align=8)
        popcount = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(8)])
        events = builder.zext(builder.call(popcount, [builder.bitcast(event, ir.IntType(8))]), i64)
        last = builder.extract_element(total, ir.Constant(i32, 7))
        return context.make_tuple(builder, signature.return_type, [builder.add(now_v, last), builder.add(cnt_v, events)])

    return sig, codegen


def _events_by_eights(row: np.ndarray, n_valid: int, now: np.uint64, cnt: np.int64, packed: np.ndarray,
                      event_key: np.ndarray) -> tuple[int, np.uint64, np.int64]:
    """:func:`walk_sorted`'s pass over the first positions of ``row``, eight at a time (:func:`_eight_positions`),
    as far as whole groups of eight go: returns the next position, ``now`` and ``cnt``.  Where the vector pass
    does not run (an LLVM before 19, a processor without AVX-512, keys that are not C-contiguous 32- or 64-bit
    integers) it passes no position, as this Python version does: the scalar loop then lists every position."""
    return 0, now, cnt


@overload(_events_by_eights, inline="always")
def _events_by_eights_compiled(row: np.ndarray, n_valid: int, now: np.uint64, cnt: np.int64, packed: np.ndarray,
                               event_key: np.ndarray) -> Any:  # pragma: no cover - compiled
    """The compiled :func:`_events_by_eights` for these argument types (numba's types, whatever the annotations):
    the vector pass, or the Python version's body.  (Every implementation is annotated as the Python version is:
    numba takes one only with the same signature, annotations included.)"""
    if not _vector_keys(row):
        return _events_by_eights

    def by_eights(row: np.ndarray, n_valid: int, now: np.uint64, cnt: np.int64, packed: np.ndarray,
                  event_key: np.ndarray) -> tuple[int, np.uint64, np.int64]:
        j = 0
        while j + 8 <= n_valid:
            now, cnt = _eight_positions(row, j, now, packed, event_key, cnt)  # type: ignore[call-arg]
            j += 8
        return j, now, cnt

    return by_eights


@compiled
def walk_sorted(key: np.ndarray, n_valid: np.ndarray, n1: np.ndarray, e1: np.ndarray, var: np.ndarray,
                o1: np.ndarray, events: np.ndarray) -> None:  # pragma: no cover - compiled
    """Expected treated events ``e1``, variance ``var``, observed treated ``o1`` and ``events`` of each row of
    sorted keys whose first ``n_valid`` entries are in the analysis, ``n1`` of them treated (filled in place).

    At position ``j`` the risk set is ``n_valid - j`` patients, of whom the treated not yet passed; a single
    event contributes :math:`f` to ``e1`` and :math:`f (1 - f)` to the variance, with :math:`f` the treated
    share of the risk set.  Per row: a branch-free pass over the positions that lists, for each event, its key
    and one word holding the treated patients before it (high 32 bits) and its position (low 32 bits: a row has
    fewer than 2**32 patients), kept up to date with one addition per position; then short loops over the
    events alone (the treated events; a tie is two equal neighbouring times; the shares, divided in one
    vectorised loop; their sums, in position order).  A row with tied event times is summed again by
    :func:`_tied_sums`.  (Two stores and a few operations per position instead of three stores and a dozen:
    about a fifth less time, the same numbers.)  The pass over the positions goes eight at a time in vector
    registers (:func:`_eight_positions`: the words as a prefix sum, the events' lanes compressed and stored
    whole) as far as whole groups of eight go, then one at a time: the same lists, in 0.63-0.67 of the walk's
    time on captured looks (docs/performance.md, item 106), where the processor has AVX-512 (:data:`_VECTOR_PASS`;
    elsewhere the position-by-position pass is the faster).  Rows that are not C-contiguous take the
    position-by-position pass throughout (the tests compare the two).
    """
    b, n = key.shape
    packed = np.empty(n, dtype=np.uint64)  # per event: (treated before it) << 32 | its position
    event_key = np.empty(n, dtype=np.uint64)
    share = np.empty(n, dtype=np.float64)
    for i in range(b):
        e1[i], var[i], o1[i], events[i] = _walk_row(key[i], n_valid[i], n1[i], packed, event_key, share)


@compiled
def walk_unsure(key: np.ndarray, n_valid: np.ndarray, n1: np.ndarray, e1: np.ndarray, var: np.ndarray,
                o1: np.ndarray, events: np.ndarray, out: np.ndarray) -> int:  # pragma: no cover - compiled
    """:func:`walk_sorted` and then :func:`unsure_rows` of each row, while the row is in cache (as
    :func:`walk_by_width` does for the rows of its buffers): the same sums and the same flags in ``out``; returns the
    number of rows flagged."""
    b, n = key.shape
    packed = np.empty(n, dtype=np.uint64)
    event_key = np.empty(n, dtype=np.uint64)
    share = np.empty(n, dtype=np.float64)
    total = 0
    for i in range(b):
        row = key[i]
        e1[i], var[i], o1[i], events[i] = _walk_row(row, n_valid[i], n1[i], packed, event_key, share)
        same = _row_unsure(row, n_valid[i])
        out[i] = same
        total += same
    return total


@inlined
def _walk_row(row: np.ndarray, nv: int, x1: int, packed: np.ndarray, event_key: np.ndarray,
              share: np.ndarray) -> tuple[float, float, np.int64, np.int64]:  # pragma: no cover - compiled
    """:func:`walk_sorted` of one row (``packed``, ``event_key`` and ``share``: buffers of the row's length):
    ``e1``, ``var``, ``o1`` and ``events``."""
    one, two, high = np.uint64(1), np.uint64(2), np.uint64(32)
    low32 = np.uint64(0xFFFF_FFFF)
    # (treated patients before the current position) << 32 | the position, and the events listed so far: eight
    # positions at a time in vector registers, then the rest one at a time
    first, now, cnt = _events_by_eights(row, nv, np.uint64(0), np.int64(0), packed, event_key)
    for j in range(first, nv):
        k = row[j]
        packed[cnt] = now  # written at every position, kept (cnt advances) at an event
        event_key[cnt] = k
        cnt += np.int64(((k >> one) & one) ^ one)
        now += ((k & one) << high) + one
    so1 = np.int64(0)
    for c in range(cnt):
        so1 += np.int64(event_key[c] & one)
    tie = False
    for c in range(1, cnt):  # events sort before censorings at equal times: tied events are neighbours
        tie |= (event_key[c] >> two) == (event_key[c - 1] >> two)
    for c in range(cnt):
        w = packed[c]
        # (the counts as doubles through _small_float: the vector division then needs no scalar conversion)
        share[c] = (_small_float(np.uint64(x1 - np.int64(w >> high)))
                    / _small_float(np.uint64(nv - np.int64(w & low32))))
    se1 = 0.0
    sv = 0.0
    for c in range(cnt):
        frac = share[c]
        se1 += frac
        sv += frac * (1.0 - frac)
    if tie:
        se1, sv = _tied_sums(row, nv, x1)
    return se1, sv, so1, cnt


@compiled
def walk_by_width(flat: np.ndarray, bounds: np.ndarray, starts: np.ndarray, cap: int, counts: np.ndarray,
                  dest: np.ndarray, n_valid: np.ndarray, n1: np.ndarray, e1: np.ndarray, var: np.ndarray,
                  o1: np.ndarray, events: np.ndarray, unsure: np.ndarray) -> int:  # pragma: no cover - compiled
    """:func:`walk_sorted` and :func:`unsure_rows` of the rows of :func:`look_keys32_by_width`'s buffers, once
    sorted: each row's sums written at its index (``dest``) in ``e1``, ``var``, ``o1`` and ``events`` (arrays of
    every row, as ``n_valid`` and ``n1``), and the indices of the rows :func:`unsure_rows` would report listed in
    ``unsure``; returns how many there are."""
    n = bounds[-1]
    packed = np.empty(n, dtype=np.uint64)
    event_key = np.empty(n, dtype=np.uint64)
    share = np.empty(n, dtype=np.float64)
    reported = 0
    for c in range(bounds.size):
        w = bounds[c]
        for pos in range(counts[c]):
            at = starts[c] + pos * w
            row = flat[at:at + w]
            i = dest[c * cap + pos]
            nv = n_valid[i]
            e1[i], var[i], o1[i], events[i] = _walk_row(row, nv, n1[i], packed, event_key, share)
            if _row_unsure(row, nv):
                unsure[reported] = i
                reported += 1
    return reported


@compiled
def _tied_sums(row: np.ndarray, nv: int, x1: int) -> tuple[float, float]:  # pragma: no cover - compiled
    """``e1`` and ``var`` of one row of sorted keys with tied event times: each group of ``d`` tied events
    contributes :math:`d f` and the hypergeometric variance :math:`d f (1 - f) (r - d) / (r - 1)`."""
    one, two = np.uint64(1), np.uint64(2)
    seen1 = np.int64(0)
    se1 = 0.0
    sv = 0.0
    j = 0
    while j < nv:
        k = row[j]
        if k & two:
            seen1 += k & one
            j += 1
            continue
        t = k >> two
        r = nv - j
        frac = (x1 - seen1) / r
        d = 0
        d1 = 0
        while j < nv and (row[j] & two) == 0 and (row[j] >> two) == t:
            d1 += row[j] & one
            d += 1
            j += 1
        seen1 += d1
        if d == 1:
            se1 += frac
            sv += frac * (1.0 - frac)
        else:
            se1 += d * frac
            sv += d * frac * (1.0 - frac) * (r - d) / max(r - 1.0, 1.0)
    return se1, sv


_SIGN = np.uint64(0x8000_0000_0000_0000)
_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


@compiled
def order_key(x: float, index: int, index_bits: int) -> np.uint32:  # pragma: no cover - compiled
    """A narrow sort key of the month ``x`` that carries its column: the top 32 bits of ``x``'s bit pattern made
    monotone (the sign bit flipped for ``x >= 0``, every bit for ``x < 0``), its ``index_bits`` lowest bits
    replaced by ``index``.  The keys never decrease as ``x`` grows, and months whose keys agree but for the index
    (a relative ``2**(index_bits - 20)`` apart, or closer) are told apart by :func:`kth_ordered` from their
    exact values."""
    u = float_bits(x + 0.0)  # + 0.0: -0.0 becomes +0.0
    u ^= _ALL if u & _SIGN else _SIGN
    b = np.uint64(index_bits)
    return np.uint32((((u >> np.uint64(32)) >> b) << b) | np.uint64(index))


@compiled
def order_keys(values: np.ndarray, index_bits: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`order_key` of every month of ``values`` (m, n) with its column, into ``out`` (uint32, m x n): one
    pass over the rows (0.13 ms for a 2,048 x 240 block here, against 0.91 ms for sorting the keys)."""
    m, n = values.shape
    for i in range(m):
        for j in range(n):
            out[i, j] = order_key(values[i, j], j, index_bits)


@compiled
def kth_ordered(values: np.ndarray, order: np.ndarray, index_bits: int, k: int,
                out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The ``k``-th smallest of each row of ``values`` (inf if ``k`` exceeds the row), into ``out``, from the row's
    :func:`order_key` keys sorted (``order``): exactly ``np.sort(values, axis=1)[:, k - 1]``.

    The key at position ``k - 1`` names a group of months that share their key but for the index: they hold the
    positions of the group's run of keys (the keys never decrease as the months grow), so the ``k``-th month is
    the group's ``(k - 1 - first)``-th smallest, read from ``values`` through the indices (almost always a group of
    one).  numpy sorts the 32-bit keys of a 2,048 x 240 block in 0.91 ms here, the doubles in 2.1 ms at best.
    """
    m, n = values.shape
    if k > n:
        out[:] = np.inf
        return
    b = np.uint32(index_bits)
    mask = np.uint32((1 << index_bits) - 1)
    # with at most 20 index bits the keys keep every exponent bit: a group of infinities holds nothing else
    inf_top = order_key(np.inf, 0, index_bits) >> b if index_bits <= 20 else np.uint32(0)
    group = np.empty(n)
    for i in range(m):
        row = order[i]
        key = row[k - 1]
        top = key >> b
        if index_bits <= 20 and top == inf_top:  # fewer than k events: no need to look at the (many) others
            out[i] = np.inf
            continue
        first = k - 1
        while first > 0 and (row[first - 1] >> b) == top:
            first -= 1
        last = k - 1
        while last < n - 1 and (row[last + 1] >> b) == top:
            last += 1
        if first == last:
            out[i] = values[i, key & mask]
            continue
        for p in range(first, last + 1):
            group[p - first] = values[i, row[p] & mask]
        out[i] = np.sort(group[:last - first + 1])[k - 1 - first]


@compiled
def _first_of(y: float, dropout: float, has_dropout: bool, scaled: bool, y_mult: float, y_rate: float,
              dropout_rate: float) -> tuple[float, bool]:  # pragma: no cover - compiled
    """One patient's time to the first of event and dropout, and whether it is the event, from its draws ``y``
    and ``dropout`` (see :func:`patient_columns`: with ``scaled``, standard exponentials read as the times
    ``y * y_mult / y_rate`` and ``dropout / dropout_rate``, in that order)."""
    t = y
    if scaled:
        t = (t * y_mult) / y_rate
    if not has_dropout:
        return t, t < np.inf
    d = dropout / dropout_rate if scaled else dropout
    return min(t, d), t < np.inf and t <= d


@compiled
def _first_key(f: float, ev: bool, code_t: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """The log-rank sort key of a first time ``f`` (code ``2 * censored + treated``; the padding if it is not
    finite): the bit pattern of ``f + 0.0`` (-0.0 becomes +0.0), its two lowest bits replaced by the code."""
    k = float_bits(f + 0.0)
    if k < _EXP_MASK:  # finite (and >= 0)
        return (k & ~np.uint64(3)) | (code_t if ev else (np.uint64(2) | code_t))
    return _PAD


@inlined
def _row_columns(i: int, entry: np.ndarray, r: int, y: np.ndarray, dropout: np.ndarray, has_dropout: bool,
                 recruited: bool, code_t: np.uint64, col0: int, out_entry: np.ndarray, out_first_key: np.ndarray,
                 out_calendar: np.ndarray, scaled: bool, y_mult: np.ndarray, y_rate: float,
                 dropout_rate: float) -> None:  # pragma: no cover - compiled
    """Row ``i`` of one arm's entry, first key and calendar columns (see :func:`patient_columns`), read and written
    along the row; its entries are row ``r`` of ``entry`` (the tile staged by :func:`_stage_entries`).  Inlined
    into its callers (:func:`condapprove._jit.inlined`), which pass several of its arguments as constants: 1.8
    against 2.5 ms a block for :func:`two_arm_columns` of 2,048 x 360 patients (inputs captured from a run)."""
    mult = y_mult[i] if scaled else 1.0
    for j in range(y.shape[1]):
        c = col0 + j
        f, ev = _first_of(y[i, j], dropout[i, j] if has_dropout else 0.0, has_dropout, scaled, mult, y_rate,
                          dropout_rate)
        e = entry[r, j] if recruited else -1e12
        out_entry[i, c] = e
        if recruited:  # (an arm not recruited has no columns in the calendar: TtePatients.of)
            out_calendar[i, c] = e + f if ev else np.inf
        out_first_key[i, c] = _first_key(f, ev, code_t)


#: Rows of the columns' passes whose entries are staged at a time (:func:`_stage_entries`).
_STAGED_ROWS = 64


@compiled
def _stage_entries(entry: np.ndarray, i0: int, rows: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``entry[i0:i0 + rows]`` into ``out[:rows]``, patient by patient: the engine's entries are patient-major (a
    transposed view, :meth:`condapprove.accrual.PoissonAccrual.first_arrivals`), so each patient's ``rows`` months
    are read as one contiguous run.  Read in place along a row instead, a row's months lie one per patient, each in
    a cache line of its own, and the next rows come back to those lines after the hardware has stopped following
    so many streams: the time-to-event columns' pass took 3.3-3.5 against 4.0-4.6 ms for 2,048 x 240 patients
    with tiles of 32 to 128 rows staged (captured inputs, medians of 40 alternations, cache flushed between)."""
    for j in range(entry.shape[1]):
        for r in range(rows):
            out[r, j] = entry[i0 + r, j]


@compiled
def patient_columns(entry: np.ndarray, y: np.ndarray, dropout: np.ndarray, has_dropout: bool, recruited: bool,
                    treated: bool, col0: int, full: bool, out_entry: np.ndarray, out_first: np.ndarray,
                    out_is_event: np.ndarray, out_first_key: np.ndarray, out_calendar: np.ndarray, scaled: bool,
                    y_mult: np.ndarray, y_rate: float, dropout_rate: float) -> None:  # pragma: no cover - compiled
    """One arm's look-independent time-to-event columns, written at columns ``col0:`` of the outputs.

    ``entry``, ``y`` (time from entry to the event, inf: none) and ``dropout`` (time to dropout; used when
    ``has_dropout``) are (m, n) arrays of any layout, read row after row along the rows: the engine lays its
    draws out replicate by replicate for this pass (:func:`condapprove._draw_jit.draw` with ``transposed``; its
    entries, drawn patient-major for their running sums, are copied a tile of rows at a time into a buffer read
    along the rows: :func:`_stage_entries`).  With ``scaled``, ``y`` and ``dropout`` are standard exponential
    draws, read as the times ``y * y_mult[i] / y_rate`` and ``dropout / dropout_rate`` (the operations of
    :class:`~condapprove.simulation.population.TteScale`, in its order: the same numbers, without passes of their
    own over the arrays).  Writes the entry month (-1e12 for a
    historical cohort, which no look cuts), the sort key of the first of event and dropout (code
    ``2 * censored + treated``; the padding if neither ever happens) and, for a recruited arm, the calendar month of
    each patient's event (inf: censored by dropout or no event; a historical cohort, which writes none, has no
    columns in ``out_calendar``, whose rows may be shorter than the others); with ``full``, also the time to the
    first of event and dropout and whether it is the event (needed only by the one-sample log-rank).

    The main loop writes only the three columns every design needs, so the compiler keeps it tight: with the two
    columns of ``full`` among its stores it took five times as long (on 256 rows in cache, 9.6 against 1.9 ns a
    patient); they get a second pass of their own.  (The pass before docs/performance.md's item 45 read
    patient-major draws eight rows at a time and scattered its stores across the rows: about 12 ns a patient.)
    """
    code_t = np.uint64(1) if treated else np.uint64(0)
    m, n = y.shape
    staged = np.empty((_STAGED_ROWS, n))
    for i0 in range(0, m, _STAGED_ROWS):
        rows = min(_STAGED_ROWS, m - i0)
        if recruited:  # (else the entries are not read)
            _stage_entries(entry, i0, rows, staged)
        for r in range(rows):
            _row_columns(i0 + r, staged, r, y, dropout, has_dropout, recruited, code_t, col0, out_entry,
                         out_first_key, out_calendar, scaled, y_mult, y_rate, dropout_rate)
    if full:
        for i in range(y.shape[0]):
            mult = y_mult[i] if scaled else 1.0
            for j in range(y.shape[1]):
                f, ev = _first_of(y[i, j], dropout[i, j] if has_dropout else 0.0, has_dropout, scaled, mult,
                                  y_rate, dropout_rate)
                out_first[i, col0 + j] = f
                out_is_event[i, col0 + j] = ev


@compiled
def two_arm_columns(entry_t: np.ndarray, y_t: np.ndarray, dropout_t: np.ndarray, entry_c: np.ndarray,
                    y_c: np.ndarray, dropout_c: np.ndarray, has_dropout: bool, out_entry: np.ndarray,
                    out_first_key: np.ndarray, out_calendar: np.ndarray, scaled_t: bool, y_mult_t: np.ndarray,
                    y_rate_t: float, dropout_rate_t: float, scaled_c: bool, y_mult_c: np.ndarray, y_rate_c: float,
                    dropout_rate_c: float) -> None:  # pragma: no cover - compiled
    """:func:`patient_columns` of a randomised trial's two arms at once (both recruited, without the columns
    of ``full``; each arm's draws scaled or not as its ``scaled_`` says): the treated arm (``_t``) in the first
    columns, the control arm (``_c``) after them, row after row, so that each output row is written whole while it
    is in cache (the same numbers as the two passes; 2.54 against 3.73 ms for 2 x 120 patients and 2,048 rows,
    docs/performance.md, item 45)."""
    m, n_t = y_t.shape
    staged_t, staged_c = np.empty((_STAGED_ROWS, n_t)), np.empty((_STAGED_ROWS, y_c.shape[1]))
    for i0 in range(0, m, _STAGED_ROWS):
        rows = min(_STAGED_ROWS, m - i0)
        _stage_entries(entry_t, i0, rows, staged_t)
        _stage_entries(entry_c, i0, rows, staged_c)
        for r in range(rows):
            i = i0 + r
            _row_columns(i, staged_t, r, y_t, dropout_t, has_dropout, True, np.uint64(1), 0, out_entry,
                         out_first_key, out_calendar, scaled_t, y_mult_t, y_rate_t, dropout_rate_t)
            _row_columns(i, staged_c, r, y_c, dropout_c, has_dropout, True, np.uint64(0), n_t, out_entry,
                         out_first_key, out_calendar, scaled_c, y_mult_c, y_rate_c, dropout_rate_c)


#: Hazards inverted at a time by :func:`piecewise_inverse` (copied into a buffer in the core's cache: ``out`` may be
#: the input).
_INVERSE_TILE = 256


@compiled
def piecewise_inverse(h: np.ndarray, edges: np.ndarray, rates: np.ndarray, h_edges: np.ndarray,
                      out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The piecewise-exponential inverse cumulative hazard of each ``h`` (1-d; ``out`` may be ``h``): the numpy
    formula of :meth:`condapprove.kernels.survival.PiecewiseExponential._inverse_of`, operation for operation.

    ``j`` is the last interval whose cumulative hazard at its start is below ``h`` (the count of ``h_edges < h``,
    less one, at least 0: numpy's ``searchsorted(h_edges, h, side="left") - 1``; a NaN, which numpy sorts
    last, takes the last interval); then ``edges[j] + (h - h_edges[j]) / rates[j]``, 0 where ``h <= 0`` and inf
    where the rate is 0 (the plateau of a cure fraction).

    :data:`_INVERSE_TILE` values at a time, one pass per interval they reach, each computing the interval's formula
    for every value and keeping it where the value lies in the interval: without a branch on the values the passes
    vectorise (the divisions four at a time), 0.5-0.6 against 2.0-2.2 ms for 120 x 2,048 hazards over two
    intervals one value at a time (the search of its interval and the branches).
    """
    k_max = h_edges.size
    buf = np.empty(_INVERSE_TILE)
    for lo in range(0, h.size, _INVERSE_TILE):
        nb = min(h.size, lo + _INVERSE_TILE) - lo
        tile, res = buf[:nb], out[lo:lo + nb]  # (views: indices the compiler knows are not negative)
        tile[:] = h[lo:lo + nb]
        smallest, largest, nan = value_range(tile)  # of the tile: the intervals it reaches
        for j in range(k_max):
            first, last = j == 0, j == k_max - 1
            below = h_edges[j]
            above = h_edges[j + 1] if not last else np.inf
            if not ((last and nan) or ((first or largest > below) and (last or smallest <= above))):
                continue  # no value of the tile in this interval
            rj, ej = rates[j], edges[j]
            if rj > 0.0:
                for i in range(nb):
                    a = tile[i]
                    t = 0.0 if a <= 0.0 else ej + (a - below) / rj
                    res[i] = t if _in_interval(a, below, above, first, last) else res[i]
            else:
                for i in range(nb):
                    a = tile[i]
                    t = 0.0 if a <= 0.0 else np.inf
                    res[i] = t if _in_interval(a, below, above, first, last) else res[i]


@compiled
def _in_interval(a: float, below: float, above: float, first: bool, last: bool) -> bool:  # pragma: no cover
    """Whether the hazard ``a`` takes the interval whose cumulative hazards at its ends are ``below`` and ``above``
    (the first also for hazards at or below its start, the last also for NaN): ``below < a <= above``.  (A NaN is
    taken by the first interval too, whose pass comes before the last's.)"""
    return ((first or below < a) and (last or not above < a)) or (last and np.isnan(a))
