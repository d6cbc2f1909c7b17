"""Values derived from a design, computed once per design object.

A :class:`~condapprove.spec.schema.Design` is frozen (pydantic ``frozen=True``), so what is derived from it alone
(its canonical hash, the defaults it took, the arrival process of the sufficient statistics) does not change
while the object lives.  A run of 10^4 replicates spends a few milliseconds on such per-run set-up, a third of its
time on this machine; repeated runs of one design (``mcse_target``, a sweep, the benchmarks) compute it once.

The cache holds the design itself beside each value and checks identity, so an id reused by another object
after the first was freed cannot return a stale value; it keeps at most :data:`MAX_ENTRIES` entries (cleared,
not evicted one by one: atomic, so threads may share it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["MAX_ENTRIES", "per_design"]

T = TypeVar("T")

#: Entries kept before the cache is cleared.
MAX_ENTRIES = 64

_CACHE: dict[tuple[str, int], tuple[object, Any]] = {}


def per_design(name: str, design: object, compute: Callable[[], T]) -> T:
    """``compute()`` for ``design``, once per design object and ``name`` (the value must not be mutated)."""
    key = (name, id(design))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is design:
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    if len(_CACHE) >= MAX_ENTRIES:
        _CACHE.clear()
    _CACHE[key] = (design, value)
    return value
