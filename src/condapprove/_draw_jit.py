"""Draws from a numpy :class:`~numpy.random.Generator` in compiled loops: numpy's numbers, in less time.

For a Generator on PCG64 (every stream of the engine, :func:`condapprove._rng.spawn_streams`), the loops run numpy's
algorithms themselves: PCG64's step and output (:func:`_pcg64_intrinsic`: a 128-bit multiply-add and an xor-rotate, on
the state read from the bit generator and written back after the loop), the ziggurats of ``standard_exponential``
and ``standard_normal`` (numpy's tables, as numba ships them) and the 53-bit doubles of ``random``.  They give
``rng.standard_exponential(size)`` and the others bit for bit, and leave the generator in the same state (tested,
over the tails and wedges of both ziggurats too).  On the machine of ``docs/performance.md`` (item 52 there),
120 x 2,048 exponentials took 1.0-1.1 ms against numpy's 1.8-2.3 ms, and against 1.7-1.8 ms for the loops before
these (numba's own Generator methods, which call the bit generator through a function pointer for every number);
normals 1.9 against 2.7-3.1 ms, uniforms 0.5-0.7 against 0.8-1.2 ms (medians of 80).  A call costs about 10 µs
more than numpy's (the state's round trip through Python), so these serve arrays of thousands of numbers, such as
a block's patients or a block's rows of a chunk's sufficient statistics (:func:`draw_into`).

Gammas with a shape per column or per element (:func:`standard_gamma_rows`: the gaps between the patients a binary or
continuous design's looks need, and a continuous design's chi-squares, a shape per look) are drawn the same way:
0.12-0.17 ms for 2,048 x 4 against 0.21-0.31 ms for numpy's call and 0.24-0.26 ms for numba's Generator methods;
for 2,048 x 3 chi-squares of 59 degrees of freedom 153-165 against numpy's 201-206 µs.

Poisson counts of a mean per element (:func:`poisson`: the non-evaluable enrolments of a design with dropout) are
drawn by numpy's ``random_poisson`` the same way (docs/performance.md, item 84).

Any other bit generator, and anything else passed as ``rng`` (a wrapper that times a generator's calls, say), is
asked for the same draw through its own method: the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic
from numba.np.random import _constants as _zig

from ._jit import compiled, inlined

__all__ = ["DRAWS", "POISSON_MAX", "binomial_blocks", "draw", "draw_into", "fill_blocks", "pcg64_words",
           "poisson", "set_pcg64_state", "standard_gamma", "standard_gamma_rows"]


#: PCG64's multiplier (numpy's ``PCG_DEFAULT_MULTIPLIER_128``).
_PCG64_MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341
_M64 = (1 << 64) - 1


@intrinsic
def _pcg64_intrinsic(typingctx: Any, hi: Any, lo: Any, inc_hi: Any, inc_lo: Any) -> Any:  # pragma: no cover
    """In a compiled loop: one step of numpy's PCG64 on its 128-bit state (``hi``, ``lo``) with increment
    (``inc_hi``, ``inc_lo``): the next state, ``state * multiplier + increment``, as LLVM 128-bit integers (one
    64 x 64 -> 128-bit multiplication and two more), and its 64-bit output (XSL-RR: the two halves xor-ed,
    rotated right by the state's top six bits).  Returns ``(hi, lo, output)``: ``next_uint64``."""
    if not all(t == types.uint64 for t in (hi, lo, inc_hi, inc_lo)):
        return None
    u64 = types.uint64
    sig = types.UniTuple(u64, 3)(u64, u64, u64, u64)  # type: ignore[no-untyped-call]

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i128, i64 = ir.IntType(128), ir.IntType(64)

        def join(high: Any, low: Any) -> Any:
            return builder.or_(builder.shl(builder.zext(high, i128), ir.Constant(i128, 64)), builder.zext(low, i128))

        state = builder.add(builder.mul(join(args[0], args[1]), ir.Constant(i128, _PCG64_MULTIPLIER)),
                            join(args[2], args[3]))
        new_hi = builder.trunc(builder.lshr(state, ir.Constant(i128, 64)), i64)
        new_lo = builder.trunc(state, i64)
        xored = builder.xor(new_hi, new_lo)
        rotate = builder.module.declare_intrinsic("llvm.fshr.i64", fnty=ir.FunctionType(i64, [i64, i64, i64]))
        out = builder.call(rotate, [xored, xored, builder.lshr(new_hi, ir.Constant(i64, 58))])
        return context.make_tuple(builder, signature.return_type, [new_hi, new_lo, out])

    return sig, codegen


#: :func:`_pcg64_intrinsic`, called as ``_pcg64_step(hi, lo, inc_hi, inc_lo)`` in compiled loops (typed for the type
#: checker).
_pcg64_step = cast(Callable[[np.uint64, np.uint64, np.uint64, np.uint64], tuple[np.uint64, np.uint64, np.uint64]],
                   _pcg64_intrinsic)


#: numpy's ziggurat tables (``distributions.c``, as numba copies them): the exponential's ...
_KE, _WE, _FE = (np.asarray(t) for t in (_zig.ke_double, _zig.we_double, _zig.fe_double))
_EXP_R = float(_zig.ziggurat_exp_r)
#: ... and the normal's.
_KI, _WI, _FI = (np.asarray(t) for t in (_zig.ki_double, _zig.wi_double, _zig.fi_double))
#: ``_WI`` and then its negation: the width of layer ``r & 0xFF`` with the candidate's sign (bit 8 of the output
#: ``r``) in one look-up, ``_WI_SIGNED[r & 0x1FF]`` (see :func:`_normal_candidate`).
_WI_SIGNED = np.concatenate([_WI, -_WI])
_NOR_R, _NOR_INV_R = float(_zig.ziggurat_nor_r), float(_zig.ziggurat_nor_inv_r)


@compiled
def _random(hi: np.uint64, lo: np.uint64, ihi: np.uint64,
            ilo: np.uint64) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """numpy's ``random()`` on PCG64 (``next_double``: the output's top 53 bits over 2**53); returns the state's
    new ``hi``, ``lo`` and the number (so do the other draws below)."""
    hi, lo, r = _pcg64_step(hi, lo, ihi, ilo)
    return hi, lo, np.float64(r >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@compiled
def _exponential_candidate(r: np.uint64) -> tuple[float, np.uint64, np.uint64]:  # pragma: no cover - compiled
    """The exponential ziggurat's candidate from a 64-bit output ``r``: ``(x, ri, idx)``, accepted at once when
    ``ri < _KE[idx]``."""
    ri = r >> np.uint64(3)
    idx = ri & np.uint64(0xFF)
    ri >>= np.uint64(8)
    return np.float64(ri) * _WE[idx], ri, idx


@compiled
def _standard_exponential(hi: np.uint64, lo: np.uint64, ihi: np.uint64,
                          ilo: np.uint64) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """numpy's ``random_standard_exponential``: its ziggurat, operation for operation (the 1.1% of draws that the
    first candidate does not settle go on in :func:`_exponential_rest`, so that this stays small enough to be
    compiled into the loops that call it)."""
    hi, lo, r = _pcg64_step(hi, lo, ihi, ilo)
    x, ri, idx = _exponential_candidate(r)
    if ri < _KE[idx]:
        return hi, lo, x
    return _exponential_rest(hi, lo, ihi, ilo, r)  # type: ignore[no-any-return]  # (a compiled function)


@compiled
def _exponential_rest(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64,
                      r: np.uint64) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """numpy's exponential ziggurat from the output ``r`` on: the tail, the wedges, and new candidates.

    It derives the rejected candidate from ``r`` again rather than taking it as arguments, and so do the normal's
    (:func:`_normal_rest`; the two ziggurats share this shape, not their tests or tails): passing the candidate, or
    testing it after the tail and wedge instead of first, made the exponential's loop slower (120 x 2,048 in
    2.4-2.6 against 1.0 ms; the normal's did not change)."""
    while True:
        x, ri, idx = _exponential_candidate(r)
        if ri < _KE[idx]:
            return hi, lo, x
        hi, lo, u = _random(hi, lo, ihi, ilo)
        if idx == 0:
            return hi, lo, _EXP_R - np.log1p(-u)
        if (_FE[idx - 1] - _FE[idx]) * u + _FE[idx] < np.exp(-x):
            return hi, lo, x
        hi, lo, r = _pcg64_step(hi, lo, ihi, ilo)


@compiled
def _normal_candidate(r: np.uint64) -> tuple[float, np.uint64, np.uint64]:  # pragma: no cover - compiled
    """The normal ziggurat's candidate from a 64-bit output ``r``: ``(x, rabs, idx)``, accepted at once when
    ``rabs < _KI[idx]``.

    numpy computes ``rabs * wi[idx]`` and negates it when bit 8 of ``r`` is set; here the sign comes with the width
    (``_WI_SIGNED``): the same number to the bit (IEEE rounding is symmetric in sign, and 0 gives -0.0 either way),
    with no branch on a bit that is 0 or 1 at random (LLVM compiled the negation as a branch on an AMD Zen 3, which
    it mispredicted half the time: 7.0 against 2.2 ns a candidate there; docs/performance.md, item 109)."""
    idx = r & np.uint64(0xFF)
    rabs = (r >> np.uint64(9)) & np.uint64(0x000F_FFFF_FFFF_FFFF)
    return np.float64(rabs) * _WI_SIGNED[r & np.uint64(0x1FF)], rabs, idx


@compiled
def _standard_normal(hi: np.uint64, lo: np.uint64, ihi: np.uint64,
                     ilo: np.uint64) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """numpy's ``random_standard_normal``: its ziggurat, operation for operation but for the candidate's sign, which
    comes with its layer's width (:func:`_normal_candidate`: the same numbers); the 0.7% of draws that the first
    candidate does not settle go on in :func:`_normal_rest`."""
    hi, lo, r = _pcg64_step(hi, lo, ihi, ilo)
    x, rabs, idx = _normal_candidate(r)
    if rabs < _KI[idx]:
        return hi, lo, x
    return _normal_rest(hi, lo, ihi, ilo, r)  # type: ignore[no-any-return]  # (a compiled function)


@compiled
def _normal_rest(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64,
                 r: np.uint64) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """numpy's normal ziggurat from the output ``r`` on: the tail, the wedges, and new candidates."""
    while True:
        x, rabs, idx = _normal_candidate(r)
        if rabs < _KI[idx]:
            return hi, lo, x
        if idx == 0:
            while True:
                hi, lo, u = _random(hi, lo, ihi, ilo)
                xx = -_NOR_INV_R * np.log1p(-u)
                hi, lo, u = _random(hi, lo, ihi, ilo)
                yy = -np.log1p(-u)
                if yy + yy > xx * xx:
                    return hi, lo, -(_NOR_R + xx) if (rabs >> np.uint64(8)) & np.uint64(1) else _NOR_R + xx
        hi, lo, u = _random(hi, lo, ihi, ilo)
        if (_FI[idx - 1] - _FI[idx]) * u + _FI[idx] < np.exp(-0.5 * x * x):
            return hi, lo, x
        hi, lo, r = _pcg64_step(hi, lo, ihi, ilo)


#: The draws of :func:`_fill`, by the code it takes.
_CODES = {"standard_exponential": 0, "standard_normal": 1, "random": 2}
#: The Generator methods :func:`draw` makes in compiled loops (float64, no parameters).
DRAWS = frozenset(_CODES)


@compiled
def _fill(words: np.ndarray, code: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out``'s elements drawn by :func:`_standard_exponential`, :func:`_standard_normal` or :func:`_random`
    (``code`` 0, 1 or 2) from the PCG64 state ``words`` (state high, low, increment high, low; the state updated),
    row after row: the numbers in numpy's order for a 2-d ``out`` of any strides (the array to fill seen as one row,
    or the transpose of the one to fill, so that each number is stored at its place in the transpose).  (A code,
    not the draw's function as an argument: numba would neither cache that nor dispatch it in under 12 us.)"""
    hi, lo, ihi, ilo = words[0], words[1], words[2], words[3]
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            if code == 0:
                hi, lo, out[j, i] = _standard_exponential(hi, lo, ihi, ilo)
            elif code == 1:
                hi, lo, out[j, i] = _standard_normal(hi, lo, ihi, ilo)
            else:
                hi, lo, out[j, i] = _random(hi, lo, ihi, ilo)
    words[0], words[1] = hi, lo


def _on_pcg64(rng: np.random.Generator, fill: Any, *args: Any) -> bool:
    """``fill(words, *args)`` on the PCG64 state of ``rng`` (see :func:`_fill`), under the bit generator's lock,
    then the state put back: what numpy's own call would leave.  False (nothing done) for anything but a Generator
    on PCG64, and when ``fill`` returns False (it drew nothing)."""
    if type(rng) is not np.random.Generator or type(rng.bit_generator) is not np.random.PCG64:
        return False
    bits = rng.bit_generator
    with bits.lock:
        state = bits.state
        s, inc = state["state"]["state"], state["state"]["inc"]
        words = np.array([s >> 64, s & _M64, inc >> 64, inc & _M64], dtype=np.uint64)
        if fill(words, *args) is False:  # (a fill that refused its arguments before drawing anything)
            return False
        state["state"]["state"] = int(words[0]) << 64 | int(words[1])
        bits.state = state
    return True


def draw(rng: np.random.Generator, method: str, shape: tuple[int, ...], *, transposed: bool = False) -> np.ndarray:
    """``getattr(rng, method)(shape)`` for a method of :data:`DRAWS`, drawn in a compiled loop when ``rng`` is a
    Generator on PCG64: the same numbers, and the generator left in the same state.

    With ``transposed`` (``shape`` 2-d), its transpose as a C-contiguous array: the same numbers drawn in the same
    order, each stored at its place in the transpose.  A pass that reads the draws along the transpose's rows then
    reads them in order (:func:`condapprove.kernels._tte_jit.patient_columns`).  The stores cost little for
    up to a few hundred columns: 2,048 rows of 120 patients' exponentials took 1.14 against 0.95 ms, of 240 patients'
    3.27 against 1.85 ms (docs/performance.md, item 45).

    Examples
    --------
    >>> import numpy as np
    >>> a = draw(np.random.default_rng(1), "standard_exponential", (3, 4))
    >>> bool(np.array_equal(a, np.random.default_rng(1).standard_exponential((3, 4))))
    True
    >>> b = draw(np.random.default_rng(1), "standard_exponential", (3, 4), transposed=True)
    >>> bool(np.array_equal(b, a.T)), b.flags.c_contiguous
    (True, True)
    """
    if transposed and len(shape) != 2:
        raise ValueError(f"transposed draws need a 2-d shape, not {shape}")
    out = np.empty(shape[::-1] if transposed else shape)
    if _on_pcg64(rng, _fill, _CODES[method], out.T if transposed else out.reshape(1, -1)):
        return out
    a = np.asarray(getattr(rng, method)(shape), dtype=np.float64)
    return np.ascontiguousarray(a.T) if transposed else a


def draw_into(rng: np.random.Generator, method: str, out: np.ndarray) -> np.ndarray:
    """``getattr(rng, method)(out=out)`` for a method of :data:`DRAWS` and a C-contiguous float64 ``out``, drawn in a
    compiled loop when ``rng`` is a Generator on PCG64: the same numbers in ``out``'s order, and the generator left in
    the same state (a block's rows of a chunk's sufficient statistics, say).  Returns ``out``.

    Examples
    --------
    >>> import numpy as np
    >>> a = draw_into(np.random.default_rng(1), "standard_normal", np.empty((3, 2)))
    >>> bool(np.array_equal(a, np.random.default_rng(1).standard_normal((3, 2))))
    True
    """
    if out.flags.c_contiguous and out.dtype == np.float64 and _on_pcg64(rng, _fill, _CODES[method], out.reshape(1, -1)):
        return out
    getattr(rng, method)(out=out)
    return out


@compiled
def _gamma_below_one(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64,
                     s: float) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """One standard gamma of shape ``0 < s < 1`` as numpy draws it (``random_standard_gamma``'s first branch, after
    Johnk and Best: a uniform, then an exponential, until one of the two tests accepts); returns ``(hi, lo, x)``."""
    while True:
        hi, lo, u = _random(hi, lo, ihi, ilo)
        hi, lo, v = _standard_exponential(hi, lo, ihi, ilo)
        if u <= 1.0 - s:
            x = u ** (1.0 / s)
            if x <= v:
                return hi, lo, x
        else:
            y = -math.log((1 - u) / s)
            x = (1.0 - s + s * y) ** (1.0 / s)
            if x <= v + y:
                return hi, lo, x


@inlined
def _marsaglia_tsang(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64, b: float,
                     c: float) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """One standard gamma of shape ``s > 1`` as numpy draws it (``random_standard_gamma``'s last branch: Marsaglia and
    Tsang's method with numpy's normal and uniform), from ``b = s - 1/3`` and ``c = 1 / sqrt(9 b)``; returns
    ``(hi, lo, x)``."""
    while True:
        while True:
            hi, lo, x = _standard_normal(hi, lo, ihi, ilo)
            v = 1.0 + c * x
            if v > 0.0:
                break
        v = v * v * v
        hi, lo, u = _random(hi, lo, ihi, ilo)
        if u < 1.0 - 0.0331 * (x * x) * (x * x):
            return hi, lo, b * v
        if math.log(u) < 0.5 * x * x + b * (1.0 - v + math.log(v)):
            return hi, lo, b * v


@compiled
def _fill_standard_gamma_rows(words: np.ndarray, shape: np.ndarray, out: np.ndarray) -> bool:  # pragma: no cover
    """``out[:] = rng.standard_gamma(shape, out=out)`` for ``out`` (m, k) of any layout (the numbers in numpy's order,
    row after row) and ``shape`` (1, k), a shape per column, or (m, k), one per element, from the PCG64 state
    ``words`` (see :func:`_fill`): numpy's ``random_standard_gamma`` (an exponential for shape 1, 0 for shape 0,
    :func:`_gamma_below_one` below 1, else Marsaglia and Tsang's method, :func:`_marsaglia_tsang`), element after
    element in numpy's order.  False, with nothing drawn, unless every shape is finite and not negative (checked
    here, not by numpy calls before)."""
    for s in shape.flat:
        if not (s >= 0.0 and s < np.inf):
            return False
    hi, lo, ihi, ilo = words[0], words[1], words[2], words[3]
    m, k = out.shape
    step = 1 if shape.shape[0] > 1 else 0  # (m, k): the row's own shapes; (1, k): the one row of them
    # with a shape per column, each column's constants b = s - 1/3 and c = 1 / sqrt(9 b) computed once, not at every
    # draw: the same numbers, 12.0-12.3 against 13.4-13.6 ns a gamma of shape 14.5-74.5 here (a square root and a
    # division less; 2,048 x 8 gammas from fresh streams); and when every column's shape is 1 or above (a continuous
    # design's half chi-squares; the entries' gaps, whose last is often one patient), a loop that tests only whether
    # a column is an exponential's (the same numbers, in fewer instructions a draw: the entries' gaps of 150, 150,
    # 150, 149 and 1 patients in 8.4 against 10.9 ns a draw, 16,384 rows of 8 blocks, medians of 60)
    b_col, c_col = np.empty(k), np.empty(k)
    exponential = np.empty(k, dtype=np.bool_)
    per_column = step == 0  # (and every shape 1 or above: checked below)
    for j in range(k if step == 0 else 0):
        b_col[j] = shape[0, j] - 1.0 / 3.0
        c_col[j] = 1.0 / math.sqrt(9.0 * b_col[j])  # (NaN for a shape below 1/3: not read, those take other ways)
        exponential[j] = shape[0, j] == 1.0
        per_column &= shape[0, j] >= 1.0
    if per_column:
        for r in range(m):
            for j in range(k):
                if exponential[j]:
                    hi, lo, out[r, j] = _standard_exponential(hi, lo, ihi, ilo)
                else:
                    hi, lo, out[r, j] = _marsaglia_tsang(hi, lo, ihi, ilo, b_col[j], c_col[j])
        words[0], words[1] = hi, lo
        return True
    b, c = 0.0, 0.0
    for r in range(m):
        shapes = shape[r * step]
        for j in range(k):
            s = shapes[j]
            if step == 0:
                b, c = b_col[j], c_col[j]
            elif s > 1.0:
                b = s - 1.0 / 3.0
                c = 1.0 / math.sqrt(9.0 * b)
            hi, lo, out[r, j] = standard_gamma(hi, lo, ihi, ilo, s, b, c)
    words[0], words[1] = hi, lo
    return True


@inlined
def standard_gamma(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64, s: float, b: float,
                   c: float) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """numpy's ``random_standard_gamma`` of shape ``s`` (finite, not negative) on PCG64: an exponential for 1, 0 for
    0, :func:`_gamma_below_one` below 1, else Marsaglia and Tsang's method from ``b = s - 1/3`` and ``c = 1 /
    sqrt(9 b)``, which the caller computes (once for a run of draws of one shape; not read below 1); returns
    ``(hi, lo, x)``."""
    if s == 1.0:
        return _standard_exponential(hi, lo, ihi, ilo)  # type: ignore[no-any-return]  # (a compiled function)
    if s == 0.0:
        return hi, lo, 0.0
    if s < 1.0:
        return _gamma_below_one(hi, lo, ihi, ilo, s)  # type: ignore[no-any-return]
    return _marsaglia_tsang(hi, lo, ihi, ilo, b, c)  # type: ignore[no-any-return]


def standard_gamma_rows(rng: np.random.Generator, shape: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``rng.standard_gamma(shape, out=out)`` for a (m, k) ``out`` and ``k`` shapes (one per column) or (m, k) shapes
    (one per element): the same numbers, and the generator left in the same state, drawn in a compiled loop when
    ``rng`` is a Generator on PCG64, ``out`` C-contiguous and every shape finite and not negative (else numpy's own
    call, which refuses negative shapes).

    Examples
    --------
    >>> import numpy as np
    >>> a = standard_gamma_rows(np.random.default_rng(1), np.array([60.0, 1.0]), np.empty((3, 2)))
    >>> bool(np.array_equal(a, np.random.default_rng(1).standard_gamma([60.0, 1.0], size=(3, 2))))
    True
    >>> each = np.array([[2.0, 1.0], [3.0, 0.0], [9.5, 4.0]])
    >>> b = standard_gamma_rows(np.random.default_rng(1), each, np.empty((3, 2)))
    >>> bool(np.array_equal(b, np.random.default_rng(1).standard_gamma(each)))
    True
    """
    shape = np.asarray(shape, dtype=np.float64)
    grid = np.ascontiguousarray(shape.reshape(1, -1) if shape.ndim == 1 else shape)
    if (out.ndim != 2 or shape.shape not in (out.shape[1:], out.shape)
            or not out.flags.c_contiguous or out.dtype != np.float64
            or not _on_pcg64(rng, _fill_standard_gamma_rows, grid, out)):  # (False too for a shape < 0, inf or NaN)
        return np.asarray(rng.standard_gamma(shape, out=out))
    return out


#: numpy's ``random_loggam`` coefficients (SPECFUN's log-gamma series).
_LOGGAM_A = np.array([8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04, -5.952380952380952e-04,
                      8.417508417508418e-04, -1.917526917526918e-03, 6.410256410256410e-03, -2.955065359477124e-02,
                      1.796443723688307e-01, -1.39243221690590e+00])
#: Largest mean the compiled Poisson takes (numpy's own limit is about 9.2e18; larger means go to numpy's call).
POISSON_MAX = 1e15


@compiled
def _loggam(x: float) -> float:  # pragma: no cover - compiled
    """numpy's ``random_loggam``, operation for operation (the log-gamma of the Poisson's transformed rejection)."""
    x0 = x
    n = 0
    if x == 1.0 or x == 2.0:
        return 0.0
    elif x <= 7.0:
        n = int(7 - x)  # (C's cast: toward zero)
        x0 = x + n
    x2 = 1.0 / (x0 * x0)
    xp = 2 * math.pi
    gl0 = float(_LOGGAM_A[9])
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM_A[k]
    gl = gl0 / x0 + 0.5 * math.log(xp) + (x0 - 0.5) * math.log(x0) - x0
    if x <= 7.0:
        for _ in range(n):
            gl -= math.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@compiled
def _poisson(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64,
             lam: float) -> tuple[np.uint64, np.uint64, float]:  # pragma: no cover - compiled
    """numpy's ``random_poisson``: Hoermann's transformed rejection (PTRS) for a mean of 10 or more, 0 for a mean of 0,
    else the multiplication method; returns ``(hi, lo, k)`` (``k`` as a double)."""
    if lam >= 10:
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            hi, lo, u = _random(hi, lo, ihi, ilo)
            u -= 0.5
            hi, lo, v = _random(hi, lo, ihi, ilo)
            us = 0.5 - abs(u)
            # numpy's k is an integer, floor(...) cast; kept here as the double it equals (means up to POISSON_MAX,
            # so below 2**53), so that the log-gamma takes a double as numpy's does
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return hi, lo, k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - _loggam(k + 1.0)):
                return hi, lo, k
    if lam == 0:
        return hi, lo, 0.0
    enlam = math.exp(-lam)
    x = 0
    prod = 1.0
    while True:
        hi, lo, u = _random(hi, lo, ihi, ilo)
        prod *= u
        if prod > enlam:
            x += 1
        else:
            return hi, lo, float(x)


@compiled
def _fill_poisson(words: np.ndarray, lam: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[:] = rng.poisson(lam)`` (as doubles) for ``out`` and ``lam`` of one shape (m, k), the numbers in numpy's
    order (row after row), from the PCG64 state ``words`` (see :func:`_fill`); every mean in [0,
    :data:`POISSON_MAX`] (:func:`_poisson_blocks` checks them all first)."""
    hi, lo, ihi, ilo = words[0], words[1], words[2], words[3]
    for r in range(out.shape[0]):
        for j in range(out.shape[1]):
            hi, lo, out[r, j] = _poisson(hi, lo, ihi, ilo, lam[r, j])
    words[0], words[1] = hi, lo


def poisson(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """``rng.poisson(lam)`` for an array of means: the same numbers (as int64), and the generator left in the same
    state, drawn in a compiled loop when ``rng`` is a Generator on PCG64 and every mean is in [0, :data:`POISSON_MAX`]
    (else numpy's own call, with its errors).

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([0.0, 0.7, 3.5, 12.0, 250.0])
    >>> bool(np.array_equal(poisson(np.random.default_rng(4), lam), np.random.default_rng(4).poisson(lam)))
    True
    """
    lam = np.asarray(lam, dtype=np.float64)
    out = np.empty(lam.shape)
    grid = np.ascontiguousarray(lam.reshape(1, -1))

    def fill(words: np.ndarray) -> bool:
        """The draws on the generator's state words, as one block's one row (a view: advanced in place)."""
        return bool(_poisson_blocks(words[None, :], grid, out.reshape(1, -1), np.array([0, 1])))

    if lam.ndim >= 1 and _on_pcg64(rng, fill):
        return out.astype(np.int64)
    return np.asarray(rng.poisson(lam))


@compiled
def _binomial_inversion(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64, n: np.int64,
                        p: float) -> tuple[np.uint64, np.uint64, np.int64]:  # pragma: no cover - compiled
    """numpy's ``random_binomial_inversion`` (``n p <= 30``): the CDF walked from 0 with one uniform, restarted past
    its bound."""
    q = 1.0 - p
    qn = math.exp(n * math.log(q))
    np_ = n * p
    bound = np.int64(min(float(n), np_ + 10.0 * math.sqrt(np_ * q + 1)))
    x = np.int64(0)
    px = qn
    hi, lo, u = _random(hi, lo, ihi, ilo)
    while u > px:
        x += 1
        if x > bound:
            x = np.int64(0)
            px = qn
            hi, lo, u = _random(hi, lo, ihi, ilo)
        else:
            u -= px
            px = ((n - x + 1) * p * px) / (x * q)
    return hi, lo, x


@compiled
def _binomial_btpe(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64, n: np.int64,
                   p: float) -> tuple[np.uint64, np.uint64, np.int64]:  # pragma: no cover - compiled
    """numpy's ``random_binomial_btpe`` (Kachitvichyanukul and Schmeiser's BTPE, ``n p > 30``) for ``p <= 1/2`` (as
    :func:`_binomial` and numpy's ``random_binomial`` call it: numpy's ``min(p, 1 - p)`` is then ``p``, and its Step60,
    ``n - y`` for ``p > 1/2``, never runs), step for step: its ``goto``s as a loop that starts over (Step10) or leaves
    with the count."""
    r = p
    q = 1.0 - r
    fm = n * r + r
    m = np.int64(math.floor(fm))
    p1 = math.floor(2.195 * math.sqrt(n * r * q) - 4.6 * q) + 0.5
    xm = m + 0.5
    xl = xm - p1
    xr = xm + p1
    c = 0.134 + 20.5 / (15.3 + m)
    a = (fm - xl) / (fm - xl * r)
    laml = a * (1.0 + a / 2.0)
    a = (xr - fm) / (xr * q)
    lamr = a * (1.0 + a / 2.0)
    p2 = p1 * (1.0 + 2.0 * c)
    p3 = p2 + c / laml
    p4 = p3 + c / lamr
    nrq = n * r * q  # (numpy computes it again at every Step10: the same value)
    y = np.int64(0)
    while True:  # Step10
        hi, lo, u = _random(hi, lo, ihi, ilo)
        u = u * p4
        hi, lo, v = _random(hi, lo, ihi, ilo)
        if u <= p1:
            y = np.int64(math.floor(xm - p1 * v + u))
            break
        if u <= p2:  # Step20
            x = xl + (u - p1) / c
            v = v * c + 1.0 - abs(m - x + 0.5) / p1
            if v > 1.0:
                continue
            y = np.int64(math.floor(x))
        elif u <= p3:  # Step30
            y = np.int64(math.floor(xl + math.log(v) / laml))
            if y < 0 or v == 0.0:
                continue
            v = v * (u - p2) * laml
        else:  # Step40
            y = np.int64(math.floor(xr - math.log(v) / lamr))
            if y > n or v == 0.0:
                continue
            v = v * (u - p3) * lamr
        k = abs(y - m)  # Step50
        if not (k > 20 and k < nrq / 2.0 - 1):
            s = r / q
            a = s * (n + 1)
            f = 1.0
            if m < y:
                for i in range(m + 1, y + 1):
                    f *= a / i - s
            elif m > y:
                for i in range(y + 1, m + 1):
                    f /= a / i - s
            if v > f:
                continue
            break
        rho = (k / nrq) * ((k * (k / 3.0 + 0.625) + 0.16666666666666666) / nrq + 0.5)  # Step52
        t = -k * k / (2 * nrq)
        big_a = math.log(v)
        if big_a < t - rho:
            break
        if big_a > t + rho:
            continue
        x1 = float(y + 1)
        f1 = float(m + 1)
        z = float(n + 1 - m)
        w = float(n - y + 1)
        x2 = x1 * x1
        f2 = f1 * f1
        z2 = z * z
        w2 = w * w
        bound = (xm * math.log(f1 / x1) + (n - m + 0.5) * math.log(z / w) + (y - m) * math.log(w * r / (x1 * q))
                 + (13680. - (462. - (132. - (99. - 140. / f2) / f2) / f2) / f2) / f1 / 166320.
                 + (13680. - (462. - (132. - (99. - 140. / z2) / z2) / z2) / z2) / z / 166320.
                 + (13680. - (462. - (132. - (99. - 140. / x2) / x2) / x2) / x2) / x1 / 166320.
                 + (13680. - (462. - (132. - (99. - 140. / w2) / w2) / w2) / w2) / w / 166320.)
        if big_a > bound:
            continue
        break
    return hi, lo, y


@compiled
def _binomial(hi: np.uint64, lo: np.uint64, ihi: np.uint64, ilo: np.uint64, n: np.int64,
              p: float) -> tuple[np.uint64, np.uint64, np.int64]:  # pragma: no cover - compiled
    """numpy's ``random_binomial``: 0 for no trial or p = 0; inversion or BTPE on the smaller of p and 1 - p."""
    if n == 0 or p == 0.0:
        return hi, lo, np.int64(0)
    if p <= 0.5:
        if p * n <= 30.0:
            return _binomial_inversion(hi, lo, ihi, ilo, n, p)  # type: ignore[no-any-return]
        return _binomial_btpe(hi, lo, ihi, ilo, n, p)  # type: ignore[no-any-return]
    q = 1.0 - p
    if q * n <= 30.0:
        hi, lo, x = _binomial_inversion(hi, lo, ihi, ilo, n, q)
    else:
        hi, lo, x = _binomial_btpe(hi, lo, ihi, ilo, n, q)
    return hi, lo, n - x


@compiled
def _binomial_blocks(words: np.ndarray, n: np.ndarray, p: np.ndarray, out: np.ndarray,
                     edges: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Binomial(n[i], p[i]) into ``out[i]`` (1-d, int64) for the elements ``edges[b]:edges[b + 1]`` from the state
    ``words[b]`` (advanced), for each block ``b``: numpy's ``Generator.binomial`` of each block's elements.  False,
    with nothing drawn, unless every n is at least 0 and every p in [0, 1]."""
    for i in range(n.size):
        if not (n[i] >= 0 and p[i] >= 0.0 and p[i] <= 1.0):
            return False
    for b in range(words.shape[0]):
        hi, lo, ihi, ilo = words[b, 0], words[b, 1], words[b, 2], words[b, 3]
        for i in range(edges[b], edges[b + 1]):
            hi, lo, out[i] = _binomial(hi, lo, ihi, ilo, n[i], p[i])
        words[b, 0], words[b, 1] = hi, lo
    return True


def binomial_blocks(words: np.ndarray, n: np.ndarray, p: np.ndarray, edges: np.ndarray) -> np.ndarray | None:
    """``Generator.binomial(n[rows], p[rows])`` of each block's elements ``edges[b]:edges[b + 1]`` (``n`` and ``p``
    1-d, the elements in numpy's order) from the PCG64 states ``words[b]`` (advanced as the generators would be), in
    one compiled call: numpy's counts as int64.  None, with nothing drawn, when an n is negative or a p outside
    [0, 1] (numpy's call then says so).

    Examples
    --------
    >>> seqs = [np.random.SeedSequence(1), np.random.SeedSequence(2)]
    >>> words = np.stack([pcg64_words(s.generate_state(4, np.uint64)) for s in seqs])
    >>> n, p = np.array([5, 40, 200, 1000]), np.array([0.3, 0.9, 0.5, 0.01])
    >>> got = binomial_blocks(words, n, p, np.array([0, 3, 4]))
    >>> ref = [np.random.Generator(np.random.PCG64(seqs[0])).binomial(n[:3], p[:3]),
    ...        np.random.Generator(np.random.PCG64(seqs[1])).binomial(n[3:], p[3:])]
    >>> bool(np.array_equal(got, np.concatenate(ref)))
    True
    """
    n = np.ascontiguousarray(n, dtype=np.int64)
    p = np.ascontiguousarray(p, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.int64)
    if n.ndim != 1 or p.shape != n.shape or edges.shape != (words.shape[0] + 1,) or edges[0] != 0 \
            or edges[-1] != n.size or bool(np.any(np.diff(edges) < 0)):
        raise ValueError(f"binomial_blocks needs n and p of one 1-d shape and edges from 0 to their size; got n "
                         f"{n.shape}, p {p.shape}, edges {edges.shape}")
    out = np.empty(n.size, dtype=np.int64)
    return out if _binomial_blocks(words, n, p, out, edges) else None


# -- a stream's state as words: many blocks' draws in one compiled call, no Generator --------------------------------
#
# Each call above costs about 10 us besides its draws (the state read from the bit generator's dictionary and
# written back), and a generator costs about 5 us to make (:func:`condapprove._rng.spawn_streams`).  A binary or
# continuous chunk made three to five such draws for each of its 16 blocks, on streams made for them alone.  The
# functions below take the streams' states as words instead (:class:`condapprove.simulation.population.Streams`
# keeps them until a numpy method is asked of the stream) and draw every block's rows in one compiled call.

@compiled
def _seeded(seeds: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`pcg64_words` of each row of ``seeds`` into ``out`` (both (n, 4) uint64)."""
    one, top = np.uint64(1), np.uint64(63)
    for b in range(seeds.shape[0]):
        ihi = (seeds[b, 2] << one) | (seeds[b, 3] >> top)  # the increment, 2 * seq + 1
        ilo = (seeds[b, 3] << one) | one
        lo = ilo + seeds[b, 1]  # a first step from 0 gives the increment; plus the initial value (with its carry)
        hi = ihi + seeds[b, 0] + (one if lo < ilo else np.uint64(0))
        hi, lo, _ = _pcg64_step(hi, lo, ihi, ilo)
        out[b, 0], out[b, 1], out[b, 2], out[b, 3] = hi, lo, ihi, ilo


def pcg64_words(seed_states: np.ndarray) -> np.ndarray:
    """The state of ``np.random.PCG64`` seeded with ``seed_states`` (what its seed sequence's ``generate_state(4,
    np.uint64)`` gave: the state's initial value, then the increment's, each high word first; or rows of them), as
    the words the compiled draws advance: state high, low, increment high, low (numpy's ``pcg64_set_seed``: the
    increment is ``2 * seq + 1``; the state starts at 0, takes a step, adds the initial value, and takes another).

    Examples
    --------
    >>> seq = np.random.SeedSequence(7)
    >>> w = pcg64_words(seq.generate_state(4, np.uint64))
    >>> s = np.random.PCG64(seq).state["state"]
    >>> (int(w[0]) << 64 | int(w[1])) == s["state"], (int(w[2]) << 64 | int(w[3])) == s["inc"]
    (True, True)
    """
    seeds = np.ascontiguousarray(seed_states, dtype=np.uint64)
    if seeds.shape[-1:] != (4,) or seeds.ndim > 2:
        raise ValueError(f"pcg64_words needs four words, or rows of them; got shape {seeds.shape}")
    out = np.empty(seeds.shape, dtype=np.uint64)
    _seeded(seeds.reshape(-1, 4), out.reshape(-1, 4))
    return out


def set_pcg64_state(rng: np.random.Generator, words: np.ndarray) -> None:
    """Put the state ``words`` (see :func:`pcg64_words`; advanced by compiled draws since) into ``rng``, a Generator
    on PCG64 with the same increment, so that numpy's methods go on from there."""
    bits = rng.bit_generator
    with bits.lock:
        state = bits.state
        state["state"]["state"] = int(words[0]) << 64 | int(words[1])
        bits.state = state


@compiled
def _fill_blocks(words: np.ndarray, code: int, out: np.ndarray, edges: np.ndarray) -> None:  # pragma: no cover
    """:func:`_fill` of the rows ``edges[b]:edges[b + 1]`` of ``out`` (C-contiguous) from the state ``words[b]``
    (updated), for each block ``b``."""
    for b in range(words.shape[0]):
        _fill(words[b], code, out[edges[b]:edges[b + 1]])


@compiled
def _gamma_blocks(words: np.ndarray, shape: np.ndarray, out: np.ndarray,
                  edges: np.ndarray) -> bool:  # pragma: no cover - compiled
    """:func:`_fill_standard_gamma_rows` of the rows ``edges[b]:edges[b + 1]`` of ``out`` from the state
    ``words[b]``, for each block ``b``, with ``shape`` (1, k), or (m, k) cut as ``out`` is.  False, with nothing
    drawn, unless every shape is finite and not negative."""
    for s in shape.flat:
        if not (s >= 0.0 and s < np.inf):
            return False
    each = shape.shape[0] > 1
    for b in range(words.shape[0]):
        lo, hi = edges[b], edges[b + 1]
        _fill_standard_gamma_rows(words[b], shape[lo:hi] if each else shape[0:1], out[lo:hi])
    return True


@compiled
def _poisson_blocks(words: np.ndarray, lam: np.ndarray, out: np.ndarray,
                    edges: np.ndarray) -> bool:  # pragma: no cover - compiled
    """:func:`_fill_poisson` of the rows ``edges[b]:edges[b + 1]`` of ``out`` and ``lam`` from the state ``words[b]``,
    for each block ``b``.  False, with nothing drawn, unless every mean is in [0, :data:`POISSON_MAX`]."""
    for x in lam.flat:
        if not (x >= 0.0 and x <= POISSON_MAX):
            return False
    for b in range(words.shape[0]):
        lo, hi = edges[b], edges[b + 1]
        _fill_poisson(words[b], lam[lo:hi], out[lo:hi])
    return True


def fill_blocks(words: np.ndarray, method: str, out: np.ndarray, edges: np.ndarray,
                shape: np.ndarray | None = None) -> bool:
    """Fill the rows ``edges[b]:edges[b + 1]`` of ``out`` (C- or F-contiguous float64: the numbers in numpy's order,
    row after row, each stored at its place) from the PCG64 state ``words[b]``
    (:func:`pcg64_words`, advanced in place), for each block ``b``, in one compiled call: for a ``method`` of
    :data:`DRAWS`, what :func:`draw_into` of those rows gives on a Generator at that state; for ``"standard_gamma"``,
    what :func:`standard_gamma_rows` of those rows gives with ``shape`` (one per column, or one per element of
    ``out``); for ``"poisson"``, what :func:`poisson` gives with the means ``shape`` (one per element of ``out``),
    as doubles.  False, with nothing drawn, when a shape is negative or not finite, or a mean outside [0,
    :data:`POISSON_MAX`].

    Examples
    --------
    >>> seqs = [np.random.SeedSequence(1), np.random.SeedSequence(2)]
    >>> words = np.stack([pcg64_words(s.generate_state(4, np.uint64)) for s in seqs])
    >>> out = np.empty((5, 2))
    >>> fill_blocks(words, "standard_normal", out, np.array([0, 3, 5]))
    True
    >>> ref = [np.random.Generator(np.random.PCG64(s)).standard_normal((n, 2)) for s, n in zip(seqs, (3, 2))]
    >>> bool(np.array_equal(out, np.concatenate(ref)))
    True
    """
    edges = np.asarray(edges, dtype=np.int64)
    if not (out.ndim == 2 and (out.flags.c_contiguous or out.flags.f_contiguous) and out.dtype == np.float64
            and words.dtype == np.uint64 and words.ndim == 2 and words.shape[1] == 4
            and edges.shape == (words.shape[0] + 1,) and edges[0] == 0 and edges[-1] == out.shape[0]
            and bool(np.all(np.diff(edges) >= 0))):
        raise ValueError("fill_blocks needs words (blocks, 4) uint64, out C- or F-contiguous (m, k) float64 and "
                         "edges from 0 to m, not decreasing, one more than the blocks")
    if method == "standard_gamma":
        grid = np.ascontiguousarray(np.asarray(shape, dtype=np.float64))
        grid = grid.reshape(1, -1) if grid.ndim == 1 else grid
        if grid.shape not in ((1, out.shape[1]), out.shape):
            raise ValueError(f"fill_blocks: shapes of shape {grid.shape} for draws of shape {out.shape}")
        return bool(_gamma_blocks(words, grid, out, edges))
    if method == "poisson":
        lam = np.ascontiguousarray(np.asarray(shape, dtype=np.float64))
        if lam.shape != out.shape:
            raise ValueError(f"fill_blocks: means of shape {lam.shape} for draws of shape {out.shape}")
        return bool(_poisson_blocks(words, lam, out, edges))
    _fill_blocks(words, _CODES[method], out, edges)
    return True
