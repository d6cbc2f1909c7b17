"""numpy's :class:`~numpy.random.SeedSequence` hash, compiled (numba): the state words a bit generator asks of a
child stream's seed sequence, the same numbers as numpy's (tested bit for bit).

numpy builds a stream's seed sequence in Python-level code (coercing the entropy and spawn key to 32-bit words,
then mixing them): 15-30 microseconds a stream, several percent of a short simulation, which makes a few hundred
streams (one per block and purpose).  Here the words are mixed by one compiled call.  Imported lazily by
:func:`condapprove._rng.spawn_streams`.

The algorithm is numpy's (``numpy/random/bit_generator.pyx``, after M. E. O'Neill's ``seed_seq_fe``): each
entropy word is hashed into a pool of ``pool_size`` 32-bit words with a multiplier that advances at every hash,
the pool words are mixed with each other, remaining words are mixed into every pool word, and the state is read
out with a second hash.  One self-contained function (no compiled helpers), so it compiles once, quickly; and a
loop of it over many children's words (:func:`child_seeds`).
"""

from __future__ import annotations

import numpy as np

from ._jit import compiled

__all__ = ["child_seed", "child_seeds"]

_M32 = np.uint64(0xFFFF_FFFF)
_INIT_A = np.uint64(0x43B0_D7E5)
_MULT_A = np.uint64(0x931E_8875)
_INIT_B = np.uint64(0x8B51_F9DD)
_MULT_B = np.uint64(0x58F3_8DED)
_MIX_MULT_L = np.uint64(0xCA01_F9DD)
_MIX_MULT_R = np.uint64(0x4973_F715)
_SHIFT = np.uint64(16)


@compiled
def child_seed(entropy: np.ndarray, pool_size: int, n64: int) -> np.ndarray:  # pragma: no cover - compiled
    """The first ``n64`` 64-bit state words (numpy's ``generate_state(n64, np.uint64)``: pairs of 32-bit words, low
    first) of a seed sequence whose assembled entropy words are ``entropy`` (uint32).

    Arithmetic is on 64-bit integers masked to 32 bits (numba would widen 32-bit products).
    """
    hash_a = _INIT_A  # the entropy hash's running multiplier
    pool = np.empty(pool_size, dtype=np.uint64)
    n = entropy.size
    for i in range(pool_size):
        value = np.uint64(entropy[i]) if i < n else np.uint64(0)
        value ^= hash_a
        hash_a = (hash_a * _MULT_A) & _M32
        value = (value * hash_a) & _M32
        pool[i] = value ^ (value >> _SHIFT)
    # every pool word mixed into every other, then each remaining entropy word into every pool word
    for i_src in range(max(pool_size, n)):
        for i_dst in range(pool_size):
            if i_src != i_dst:
                src = pool[i_src] if i_src < pool_size else np.uint64(entropy[i_src])
                value = src ^ hash_a
                hash_a = (hash_a * _MULT_A) & _M32
                value = (value * hash_a) & _M32
                value ^= value >> _SHIFT
                mixed = ((_MIX_MULT_L * pool[i_dst]) - (_MIX_MULT_R * value)) & _M32
                pool[i_dst] = mixed ^ (mixed >> _SHIFT)
    hash_b = _INIT_B
    state = np.empty(n64, dtype=np.uint64)
    for i in range(n64):
        word = np.uint64(0)
        for h in range(2):  # the low half first
            value = pool[(2 * i + h) % pool_size] ^ hash_b
            hash_b = (hash_b * _MULT_B) & _M32
            value = (value * hash_b) & _M32
            word |= (value ^ (value >> _SHIFT)) << np.uint64(32 * h)
        state[i] = word
    return state


@compiled
def child_seeds(entropy: np.ndarray, pool_size: int, n64: int) -> np.ndarray:  # pragma: no cover - compiled
    """:func:`child_seed` of each row of ``entropy`` (uint32, one child's assembled words per row), as the rows of
    one array: a chunk's blocks' streams of one purpose in one call."""
    out = np.empty((entropy.shape[0], n64), dtype=np.uint64)
    for b in range(entropy.shape[0]):
        out[b] = child_seed(entropy[b], pool_size, n64)
    return out
