"""Counter-based draws: a replicate's numbers at a fixed place, whatever the other replicates draw.

The engine's streams (PCG64, :mod:`condapprove._draw_jit`) are sequential: a block's replicates draw one after
another, so leaving out the draws of one replicate shifts every later replicate's numbers.  The draws that only the
replicates still running need (a continuous design's looks, :mod:`condapprove.simulation.sufficient`) are made
here instead from a stream of their own for each row, look and arm, whose start depends on nothing else:

* its **state** is the output of **Philox4x32-10** (Salmon, Moraes, Dror and Shaw, *Parallel random numbers: as
  easy as 1, 2, 3*, SC 2011; Random123's ``philox4x32_R(10, ...)``, C++26's ``std::philox4x32``) for the counter
  ``(0, row, look + 65536 arm, tag)`` under the block's 64-bit key (``tag``: 32 more bits of the block's seed), the
  four 32-bit words as a 128-bit number ``o0 + 2**32 o1 + 2**64 o2 + 2**96 o3``;
* it is **PCG64** from that state, with the block's increment (odd), so its numbers are numpy's ``Generator`` on a
  ``PCG64`` bit generator set to that state and increment: the normal, then the gamma, by numpy's algorithms (the
  compiled loops of :mod:`condapprove._draw_jit`, which give numpy's numbers bit for bit).

A row's numbers are therefore the same whichever other rows draw.  The states are computed in a pass of their own,
which the compiler vectorises (32 x 32 -> 64-bit multiplications in 512-bit registers here, about 1.4 ns a row).  The
tests check the generator against Random123's known answers (its ``kat_vectors``) and the draws against numpy's
``Generator`` on each row's PCG64.
"""

from __future__ import annotations

import math

import numpy as np

from ._draw_jit import _standard_normal, standard_gamma
from ._jit import compiled, inlined

__all__ = ["normal_gamma", "philox4x32", "row_states"]

#: Philox4x32's multipliers and key increments (Random123's ``PHILOX_M4x32_0``, ``_1``, ``PHILOX_W32_0``, ``_1``).
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_LOW = np.uint64(0xFFFF_FFFF)
_32 = np.uint64(32)


@inlined
def _philox(c0: np.uint64, c1: np.uint64, c2: np.uint64, c3: np.uint64, k0: np.uint64,
            k1: np.uint64) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:  # pragma: no cover - compiled
    """Philox4x32-10 of the counter ``(c0, c1, c2, c3)`` under the key ``(k0, k1)`` (32-bit words held in uint64):
    ten rounds, the key bumped between them."""
    for i in range(10):
        if i > 0:
            k0 = (k0 + _W0) & _LOW
            k1 = (k1 + _W1) & _LOW
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _32) ^ c1 ^ k0, p1 & _LOW, (p0 >> _32) ^ c3 ^ k1, p0 & _LOW
    return c0, c1, c2, c3


@compiled
def philox4x32(counter: np.ndarray, key: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Philox4x32-10 of one counter (4 words) under one key (2 words), 32-bit words held in uint64: its four
    words."""
    out = np.empty(4, dtype=np.uint64)
    out[0], out[1], out[2], out[3] = _philox(counter[0] & _LOW, counter[1] & _LOW, counter[2] & _LOW,
                                             counter[3] & _LOW, key[0] & _LOW, key[1] & _LOW)
    return out


@compiled
def row_states(key: np.ndarray, look: int, arm: int, at: np.ndarray, lo: int, out: np.ndarray) -> None:  # pragma: no cover
    """The PCG64 states of the streams of rows ``at`` (indices in the chunk; ``lo``: their block's first row, whose
    ``key`` is (3,): the key's two words and the tag) at this ``look`` and ``arm``, into ``out[:, :at.size]`` (2, at
    least rows): the high 64 bits, then the low (a row of the array each, written at places counted from 0: the
    compiler then vectorises the pass; a loop over a block's rows indexed from the block's offset was not, 16.6
    against 2.5 ns a row for two counters)."""
    k0, k1, tag = key[0] & _LOW, key[1] & _LOW, key[2] & _LOW
    c2 = np.uint64(look + 65536 * arm)
    hi, lo_words = out[0], out[1]
    for j in range(at.size):
        o0, o1, o2, o3 = _philox(np.uint64(0), np.uint64(at[j] - lo), c2, tag, k0, k1)
        hi[j] = o2 | (o3 << _32)
        lo_words[j] = o0 | (o1 << _32)


@compiled
def normal_gamma(keys: np.ndarray, edges: np.ndarray, look: int, arm: int, d: np.ndarray, at: np.ndarray,
                 states: np.ndarray, out_z: np.ndarray, out_g: np.ndarray) -> None:  # pragma: no cover - compiled
    """For each row ``r`` of ``at`` (the rows that draw, ascending; block ``b`` is rows ``edges[b]`` to ``edges[b +
    1]``): a standard normal, then a standard gamma of shape ``max(d[r] - 1, 0) / 2`` (the half chi-square of that
    many new patients), from the row's stream of this ``look`` and ``arm`` (:func:`row_states`; ``keys`` (blocks,
    5): each block's key, tag and PCG64 increment, high and low), into ``out_z[r]`` and ``out_g[r]`` (the other rows'
    are left as they are).  ``states`` (2, tile): room for a tile's states (the caller's, kept from call to call;
    the rows are drawn a tile at a time, so that they stay in cache).  The gamma is numpy's
    (:func:`condapprove._draw_jit.standard_gamma`), Marsaglia and Tsang's constants computed once for each run of
    rows of one shape.
    """
    tile = states.shape[1]
    last, b, c = -1.0, 0.0, 0.0
    start = 0
    for q in range(edges.size - 1):
        end = np.searchsorted(at, edges[q + 1])  # (the block's rows that draw: at[start:end])
        key = keys[q]
        ihi, ilo = key[3], key[4]
        for t0 in range(start, end, tile):
            n = min(tile, end - t0)
            row_states(key, look, arm, at[t0:t0 + n], edges[q], states)
            for j in range(n):
                r = at[t0 + j]
                hi, lo, out_z[r] = _standard_normal(states[0, j], states[1, j], ihi, ilo)
                s = max(float(d[r]) - 1.0, 0.0) / 2.0
                if s > 1.0 and s != last:
                    last, b = s, s - 1.0 / 3.0
                    c = 1.0 / math.sqrt(9.0 * b)
                hi, lo, out_g[r] = standard_gamma(hi, lo, ihi, ilo, s, b, c)
        start = end
