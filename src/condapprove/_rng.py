"""Random-number streams.

condapprove never touches numpy's global random state.  A user seed is normalised once
into a :class:`numpy.random.SeedSequence`; independent streams are spawned from it
(``SeedSequence.spawn``), one per independent unit of work, so results do not depend
on how the work is split between chunks or processes.
"""

from __future__ import annotations

import secrets

import numpy as np

from ._typing import SeedLike
from .errors import DesignError

__all__ = ["as_generator", "root_seed_sequence", "spawn_streams"]


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
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.SeedSequence(int(seed))
    raise DesignError(f"`seed` must be a non-negative integer, a SeedSequence, a Generator or None; got {seed!r}.")


def as_generator(rng: SeedLike = None) -> np.random.Generator:
    """Normalise ``rng`` to a :class:`~numpy.random.Generator` (a Generator is returned as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(root_seed_sequence(rng))


def spawn_streams(root: np.random.SeedSequence, key: tuple[int, ...]) -> np.random.Generator:
    """Return the generator of the stream addressed by ``key`` below ``root``.

    The stream is a child of ``root`` whose spawn key is ``root.spawn_key + key``; it is
    the same child that ``root.spawn`` would make for the same position, but it can be
    addressed directly, so a worker given only ``(entropy, key)`` recreates its stream
    without spawning every sibling before it.
    """
    child = np.random.SeedSequence(
        entropy=root.entropy,
        spawn_key=tuple(root.spawn_key) + tuple(int(k) for k in key),
        pool_size=root.pool_size,
    )
    return np.random.Generator(np.random.PCG64(child))
