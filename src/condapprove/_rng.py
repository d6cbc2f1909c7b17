"""Random-number streams.

condapprove never touches numpy's global random state.  A user seed is normalised once
into a :class:`numpy.random.SeedSequence` (or, for an integer seed, a :class:`Root` holding what a seed
sequence's children need of it); independent streams are spawned from it (the children
``SeedSequence.spawn`` would make), one per independent unit of work, so results do not depend
on how the work is split between chunks or processes.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any, NamedTuple

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from ._typing import SeedLike
from .errors import DesignError

__all__ = ["Root", "as_generator", "child_state", "child_states", "root_of", "root_seed_sequence", "spawn_streams"]

#: The pool size of numpy's seed sequences (their default, which :func:`root_seed_sequence` keeps).
_POOL_SIZE = int(np.random.SeedSequence(0).pool_size)


class Root(NamedTuple):
    """A root seed sequence as :func:`spawn_streams` reads it: its integer ``entropy``, ``spawn_key`` and
    ``pool_size``, without a :class:`~numpy.random.SeedSequence`.  numpy's constructor mixes the entropy into its
    pool at once (6.7 us here, 12.1 with a spawn key; timeit), which the streams' compiled hash never reads; a run's
    chunks each need their root again (a worker is given only the entropy and spawn key).  The streams are the same as below
    ``np.random.SeedSequence(entropy, spawn_key=spawn_key)`` (tested)."""

    entropy: int
    spawn_key: tuple[int, ...] = ()
    pool_size: int = _POOL_SIZE


def _seed_integer(x: object) -> int | None:
    """``x`` as a Python integer when it is a non-negative integer (numpy's too; not a bool), else None."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool) and int(x) >= 0:
        return int(x)
    return None


def root_seed_sequence(seed: SeedLike = None) -> np.random.SeedSequence:
    """Return the root :class:`~numpy.random.SeedSequence` for ``seed``.

    ``None`` draws fresh entropy with :func:`secrets.randbits` (128 bits); the entropy is
    available as ``.entropy`` so a run can be reproduced and is recorded in provenance.
    A :class:`~numpy.random.Generator` contributes its bit generator's seed sequence.
    """
    if seed is None:
        return np.random.SeedSequence(secrets.randbits(128))
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        ss = seed.bit_generator.seed_seq
        if not isinstance(ss, np.random.SeedSequence):
            raise DesignError("`rng` must be a Generator created from a SeedSequence; got one without.")
        return ss
    if (entropy := _seed_integer(seed)) is not None:
        return np.random.SeedSequence(entropy)
    raise DesignError(f"`seed` must be a non-negative integer, a SeedSequence, a Generator or None; got {seed!r}.")


def root_of(seed: SeedLike = None) -> Root | np.random.SeedSequence:
    """:func:`root_seed_sequence` of ``seed``, as a :class:`Root` for a non-negative integer (the same entropy and
    spawn key, without building the seed sequence)."""
    entropy = _seed_integer(seed)
    return Root(entropy) if entropy is not None else root_seed_sequence(seed)


def as_generator(rng: SeedLike = None) -> np.random.Generator:
    """Normalise ``rng`` to a :class:`~numpy.random.Generator` (a Generator is returned as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(root_seed_sequence(rng))


def spawn_streams(root: np.random.SeedSequence | Root, key: tuple[int, ...]) -> np.random.Generator:
    """Return the generator of the stream addressed by ``key`` below ``root``.

    The stream is a child of ``root`` whose spawn key is ``root.spawn_key + key``; it is
    the same child that ``root.spawn`` would make for the same position, but it can be
    addressed directly, so a worker given only ``(entropy, key)`` recreates its stream
    without spawning every sibling before it.

    When the root's entropy is an integer (always, for a root made by :func:`root_seed_sequence`), the child's
    words are hashed by one compiled call (:func:`child_state`) instead of numpy's Python-level assembly: the same
    state, bit for bit, in a few microseconds instead of 15-30.
    """
    key = tuple(map(int, key))
    state = child_state(root, key)
    if state is None:
        child = np.random.SeedSequence(entropy=root.entropy, spawn_key=tuple(root.spawn_key) + key,
                                       pool_size=root.pool_size)
        return np.random.Generator(np.random.PCG64(child))
    return np.random.Generator(np.random.PCG64(_MixedSeed(state, root, key)))  # type: ignore[arg-type]


def child_state(root: np.random.SeedSequence | Root, key: tuple[int, ...]) -> np.ndarray | None:
    """What the seed sequence of the child of ``root`` at ``key`` gives PCG64 (``generate_state(4, np.uint64)``),
    hashed by one compiled call (:mod:`condapprove._seed_jit`); None when the root's entropy is not a non-negative
    integer (then only numpy's own seed sequence gives it)."""
    key = tuple(map(int, key))
    lead = _lead_words(root)
    if lead is None:
        return None
    if key and all(0 <= k <= _M32 for k in key):  # (the engine's keys: a word each)
        words = np.concatenate((lead, np.array(key, dtype=np.uint32)))
    else:  # (no key: no padding; elements of several words, or negative ones, which it refuses)
        got = _seed_words(root, key)
        assert got is not None  # (an integer entropy: it has lead words)
        words = got
    return np.asarray(_seed_hash().child_seed(words, root.pool_size, _PCG64_WORDS))


def child_states(root: np.random.SeedSequence | Root, heads: list[tuple[int, ...]], last: int) -> np.ndarray | None:
    """:func:`child_state` of the key ``(*head, last)`` for each of ``heads``, as the rows of one (heads, 4) array
    hashed in one compiled call (a chunk's blocks' streams of one purpose: the heads are the blocks' keys, ``last``
    the purpose's word); None when the root's entropy is not a non-negative integer.

    The words every row hashes are laid out for all rows at once when each element of the keys fits in one word
    (the engine's keys): the root's words (:func:`_lead_words`, once per root), then the head's, then ``last``
    (:func:`_seed_words`' layout); other keys are assembled one by one.
    """
    if not heads:
        return np.empty((0, _PCG64_WORDS), dtype=np.uint64)
    lead = _lead_words(root)
    if lead is None:
        return None
    try:
        head = np.array(heads, dtype=np.uint64)  # (ValueError for heads of different lengths, OverflowError for
        # elements that are negative or wider than 64 bits: key by key below, which refuses the negative ones)
    except (ValueError, OverflowError):
        head = None
    if head is None or head.ndim != 2 or not 0 <= last <= _M32 or (head.size and head.max() > _M32):
        one = [state for h in heads if (state := child_state(root, (*h, last))) is not None]
        assert len(one) == len(heads)  # (a root with lead words gives every key a state: no row is dropped)
        return np.stack(one)
    words = np.empty((len(heads), lead.size + head.shape[1] + 1), dtype=np.uint32)
    words[:, :lead.size] = lead
    words[:, lead.size:-1] = head
    words[:, -1] = last
    return np.asarray(_seed_hash().child_seeds(words, root.pool_size, _PCG64_WORDS))


def _lead_words(root: np.random.SeedSequence | Root) -> np.ndarray | None:
    """The words a child's seed starts with, whatever its key (one not empty): the root's entropy padded to the
    pool size, then its spawn key's words; None when the entropy is not a non-negative integer.  Once per root
    *value* (:func:`_lead_words_of`): a run spawns hundreds of streams from one, and each of its chunks makes its
    root again."""
    e = _seed_integer(root.entropy)
    return None if e is None else _lead_words_of(e, tuple(root.spawn_key), root.pool_size)


@functools.lru_cache(maxsize=16)
def _lead_words_of(entropy: int, spawn_key: tuple[int, ...], pool_size: int) -> np.ndarray:
    """:func:`_lead_words` of the root with these values (not to be written to: it is shared).  Kept by value, not
    per root object (:func:`condapprove._memo.per_object`, as before): the chunks of a run each made their own
    root, so each computed the words again and took two of that memo's 64 entries, which emptied it, the design's
    values with it, every 32 chunks (a binary run of 10^6 replicates: 124 entries and two emptyings, 1.66 ms of
    such work; docs/performance.md, item 122)."""
    words = _seed_words(Root(entropy, spawn_key, pool_size), (0,))
    assert words is not None  # (an integer entropy)
    return words[:-1]


def _seed_hash() -> Any:
    """:mod:`condapprove._seed_jit`, imported on first use (it loads numba)."""
    global _seed_jit
    if _seed_jit is None:
        from . import _seed_jit as module

        _seed_jit = module
    return _seed_jit


def _seed_words(root: np.random.SeedSequence | Root, key: tuple[int, ...]) -> np.ndarray | None:
    """The 32-bit words numpy's seed sequence hashes for the child of ``root`` at ``key``: the root's entropy
    (padded to the pool size before a spawn key), then the words of its spawn key and ``key``; None when the
    root's entropy is not a non-negative integer (numpy's own path)."""
    run = _entropy_words(root)
    if run is None:
        return None
    words = [w for k in (*root.spawn_key, *key) for w in _int_words(k)]
    if words and len(run) < root.pool_size:
        run = run + [0] * (root.pool_size - len(run))
    return np.array(run + words, dtype=np.uint32)


#: The 64-bit state words PCG64 asks of its seed sequence (128-bit state and increment).
_PCG64_WORDS = 4
_M32 = 0xFFFF_FFFF
#: :mod:`condapprove._seed_jit`, imported on first use (it loads numba).
_seed_jit: Any = None


def _int_words(x: int) -> list[int]:
    """A non-negative integer as numpy's seed sequences read it: 32-bit words, least significant first."""
    if x < 0:
        raise DesignError(f"a spawn key must be non-negative; got {x}")
    out = [x & 0xFFFF_FFFF]
    x >>= 32
    while x:
        out.append(x & 0xFFFF_FFFF)
        x >>= 32
    return out


def _entropy_words(root: np.random.SeedSequence | Root) -> list[int] | None:
    """The root's entropy as 32-bit words, or None when it is not a non-negative integer (numpy's own path).  (A
    stream's seed reads them through :func:`_lead_words`, kept per root value; only keys of several words, or
    negative ones, read them again.)"""
    e = _seed_integer(root.entropy)
    return None if e is None else _int_words(e)


class _MixedSeed(ISeedSequence):  # (PCG64's stubs do not accept an ISeedSequence of one's own: hence the ignores)
    """The seed of a child stream (see :func:`spawn_streams`): it hands PCG64 the state words that the compiled hash
    computed; any other request (not made by the engine) is answered by numpy's own :class:`~numpy.random.SeedSequence`
    with the same entropy, spawn key and pool size."""

    def __init__(self, state: np.ndarray, root: np.random.SeedSequence | Root, key: tuple[int, ...]) -> None:
        self._state = state  # generate_state(len(state), np.uint64)
        self._root, self._key = root, key

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        if dtype is np.uint64 and n_words == self._state.size:  # what PCG64 asks for
            return self._state.copy()
        root = self._root
        seq = np.random.SeedSequence(entropy=root.entropy, spawn_key=tuple(root.spawn_key) + self._key,
                                     pool_size=root.pool_size)
        return np.asarray(seq.generate_state(n_words, dtype))
