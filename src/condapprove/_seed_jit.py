"""numpy's :class:`~numpy.random.SeedSequence` hash, compiled (numba): the pool of a child stream and the state
words a bit generator asks of it, the same numbers as numpy's (tested bit for bit).

numpy builds a stream's seed sequence in Python-level code (coercing the entropy and spawn key to 32-bit words,
then mixing them): 15-30 microseconds a stream, several percent of a short simulation, which makes a few hundred
streams (one per block and purpose).  Here the words are mixed by one compiled call.  Imported lazily by
:func:`condapprove._rng.spawn_streams`.

The algorithm is numpy's (``numpy/random/bit_generator.pyx``, after M. E. O'Neill's ``seed_seq_fe``): each
entropy word is hashed into a pool of ``pool_size`` 32-bit words with a multiplier that advances at every hash,
the pool words are mixed with each other, remaining words are mixed into every pool word, and the state is read
out with a second hash.
"""

from __future__ import annotations

import numpy as np

from ._jit import compiled

__all__ = ["child_seed", "mixed_pool", "state_words"]

_M32 = np.uint64(0xFFFF_FFFF)
_INIT_A = np.uint64(0x43B0_D7E5)
_MULT_A = np.uint64(0x931E_8875)
_INIT_B = np.uint64(0x8B51_F9DD)
_MULT_B = np.uint64(0x58F3_8DED)
_MIX_MULT_L = np.uint64(0xCA01_F9DD)
_MIX_MULT_R = np.uint64(0x4973_F715)
_XSHIFT = np.uint64(16)


@compiled
def _hashmix(value: np.uint64, hash_const: np.ndarray) -> np.uint64:  # pragma: no cover - compiled
    """One word hashed with the running multiplier ``hash_const[0]``, which advances (32-bit arithmetic)."""
    value = value ^ hash_const[0]
    hash_const[0] = (hash_const[0] * _MULT_A) & _M32
    value = (value * hash_const[0]) & _M32
    return value ^ (value >> _XSHIFT)


@compiled
def _mix(x: np.uint64, y: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    result = ((_MIX_MULT_L * x) - (_MIX_MULT_R * y)) & _M32
    return result ^ (result >> _XSHIFT)


@compiled
def mixed_pool(entropy: np.ndarray, pool_size: int) -> np.ndarray:  # pragma: no cover - compiled
    """The pool of a seed sequence whose assembled entropy words (uint32) are ``entropy``."""
    hash_const = np.empty(1, dtype=np.uint64)
    hash_const[0] = _INIT_A
    pool = np.empty(pool_size, dtype=np.uint64)
    n = entropy.size
    for i in range(pool_size):
        pool[i] = _hashmix(np.uint64(entropy[i]) if i < n else np.uint64(0), hash_const)
    for i_src in range(pool_size):
        for i_dst in range(pool_size):
            if i_src != i_dst:
                pool[i_dst] = _mix(pool[i_dst], _hashmix(pool[i_src], hash_const))
    for i_src in range(pool_size, n):
        for i_dst in range(pool_size):
            pool[i_dst] = _mix(pool[i_dst], _hashmix(np.uint64(entropy[i_src]), hash_const))
    return pool.astype(np.uint32)


@compiled
def state_words(pool: np.ndarray, n_words: int) -> np.ndarray:  # pragma: no cover - compiled
    """``n_words`` 32-bit state words read out of ``pool`` (numpy's ``generate_state``)."""
    hash_const = _INIT_B
    out = np.empty(n_words, dtype=np.uint32)
    for i in range(n_words):
        value = np.uint64(pool[i % pool.size]) ^ hash_const
        hash_const = (hash_const * _MULT_B) & _M32
        value = (value * hash_const) & _M32
        out[i] = value ^ (value >> _XSHIFT)
    return out


@compiled
def child_seed(entropy: np.ndarray, pool_size: int, n64: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """The pool of a seed sequence with assembled entropy words ``entropy``, and its first ``n64`` 64-bit state
    words (numpy's ``generate_state(n64, np.uint64)``: pairs of 32-bit words, the first the low half)."""
    pool = mixed_pool(entropy, pool_size)
    w = state_words(pool, 2 * n64)
    out = np.empty(n64, dtype=np.uint64)
    for i in range(n64):
        out[i] = np.uint64(w[2 * i]) | (np.uint64(w[2 * i + 1]) << np.uint64(32))
    return pool, out
