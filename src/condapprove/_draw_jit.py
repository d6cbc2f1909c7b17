"""Draws from a numpy :class:`~numpy.random.Generator` in compiled loops: numpy's numbers, in less time.

numba implements a Generator's methods with numpy's own algorithms (the ziggurats of ``standard_exponential`` and
``standard_normal``, the 53-bit doubles of ``random``) on the generator's bit generator, whose state it advances in
place: a compiled loop of ``rng.standard_exponential()`` gives ``rng.standard_exponential(size)`` bit for bit and
leaves the generator in the same state (tested).  On the machine of ``docs/performance.md``, for 491,520 numbers
(240 patients by 2,048 replicates), it took 0.69 of numpy's time for exponentials, 0.77 for normals and 0.92 for
uniforms.  A call costs about 18 µs more than numpy's (numba unboxes the generator), so these serve large arrays,
such as a block's patients, and not the few numbers per replicate of the sufficient statistics (a continuous run
drawing its normals and gammas this way took 1.032 of its time).

Gammas with a shape per column (:func:`standard_gamma_rows`: the gaps between the patients a binary or continuous
design's looks need) take 0.74 of numpy's time in a compiled loop, numpy's broadcasting of an array of shapes
costing more than the unboxing; with one shape for the whole array numpy is as fast (no compiled loop then).

Anything else passed as ``rng`` (a wrapper that times a generator's calls, say) is asked for the same draw through
its own method: the same numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._jit import compiled

__all__ = ["DRAWS", "draw", "standard_gamma_rows"]


@compiled
def _fill_standard_exponential(rng: np.random.Generator, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[:] = rng.standard_exponential(out.shape)`` for a 2-d ``out`` of any strides: the numbers in numpy's
    order, ``out``'s rows one after another (the array to fill seen as one row, or the transpose of the one to
    fill, so that each number is stored at its place in the transpose)."""
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[j, i] = rng.standard_exponential()


@compiled
def _fill_standard_normal(rng: np.random.Generator, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[:] = rng.standard_normal(out.shape)`` (as :func:`_fill_standard_exponential`)."""
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[j, i] = rng.standard_normal()


@compiled
def _fill_random(rng: np.random.Generator, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[:] = rng.random(out.shape)`` (as :func:`_fill_standard_exponential`)."""
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[j, i] = rng.random()


_FILLS: dict[str, Any] = {"standard_exponential": _fill_standard_exponential,
                          "standard_normal": _fill_standard_normal, "random": _fill_random}
#: The Generator methods :func:`draw` makes in compiled loops (float64, no parameters).
DRAWS = frozenset(_FILLS)


def draw(rng: np.random.Generator, method: str, shape: tuple[int, ...], *, transposed: bool = False) -> np.ndarray:
    """``getattr(rng, method)(shape)`` for a method of :data:`DRAWS`, drawn in a compiled loop when ``rng`` is a
    Generator: the same numbers, and the generator left in the same state.

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
    if type(rng) is not np.random.Generator:
        a = np.asarray(getattr(rng, method)(shape), dtype=np.float64)
        return np.ascontiguousarray(a.T) if transposed else a
    if not transposed:
        out = np.empty(shape)
        _FILLS[method](rng, out.reshape(1, -1))
        return out
    if len(shape) != 2:
        raise ValueError(f"transposed draws need a 2-d shape, not {shape}")
    out = np.empty(shape[::-1])
    _FILLS[method](rng, out.T)
    return out


@compiled
def _fill_standard_gamma_rows(rng: np.random.Generator, shape: np.ndarray,
                              out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[:] = rng.standard_gamma(shape, out=out)`` for ``out`` (m, k) C-contiguous and ``shape`` (k,), every
    shape 0 or at least 1: numpy's ``random_standard_gamma`` (an exponential for shape 1, 0 for shape 0, else
    Marsaglia and Tsang's method with numpy's normal and uniform), element after element in numpy's order."""
    m, k = out.shape
    for r in range(m):
        for j in range(k):
            s = shape[j]
            if s == 1.0:
                out[r, j] = rng.standard_exponential()
            elif s == 0.0:
                out[r, j] = 0.0
            else:
                b = s - 1.0 / 3.0
                c = 1.0 / math.sqrt(9.0 * b)
                while True:
                    while True:
                        x = rng.standard_normal()
                        v = 1.0 + c * x
                        if v > 0.0:
                            break
                    v = v * v * v
                    u = rng.random()
                    if u < 1.0 - 0.0331 * (x * x) * (x * x):
                        break
                    if math.log(u) < 0.5 * x * x + b * (1.0 - v + math.log(v)):
                        break
                out[r, j] = b * v


def standard_gamma_rows(rng: np.random.Generator, shape: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``rng.standard_gamma(shape, out=out)`` for a (m, k) ``out`` and ``k`` shapes (one per column): the same
    numbers, and the generator left in the same state, drawn in a compiled loop when ``rng`` is a Generator, ``out``
    C-contiguous and every shape 0 or at least 1 (else, and for anything but a Generator, numpy's own call).

    Examples
    --------
    >>> import numpy as np
    >>> a = standard_gamma_rows(np.random.default_rng(1), np.array([60.0, 1.0]), np.empty((3, 2)))
    >>> bool(np.array_equal(a, np.random.default_rng(1).standard_gamma([60.0, 1.0], size=(3, 2))))
    True
    """
    shape = np.asarray(shape, dtype=np.float64)
    if (type(rng) is not np.random.Generator or out.ndim != 2 or shape.shape != out.shape[1:]
            or not out.flags.c_contiguous or out.dtype != np.float64
            or not bool(np.all((shape == 0.0) | ((shape >= 1.0) & (shape < np.inf))))):
        return np.asarray(rng.standard_gamma(shape, out=out))
    _fill_standard_gamma_rows(rng, shape, out)
    return out
