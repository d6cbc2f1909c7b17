"""Values derived from one object, computed once per object (identity-checked).

For immutable inputs whose derived values are needed again and again: a frozen
:class:`~condapprove.spec.schema.Design` (its canonical hash, the defaults it took, the sufficient statistics'
arrival process: a run of 10^4 replicates spent a few milliseconds on such set-up, a third of its time on this
machine), its decision rule (the spending setting of its bounds) and its survival baseline's spec (the baseline
itself, :meth:`~condapprove.spec.schema.BaselineSpec.build`).  (A root seed's words, for the streams
spawned from it, are kept by the root's value instead: :func:`condapprove._rng._lead_words`.)

The cache holds the object itself beside each value and checks identity, so an id reused by another object
after the first was freed cannot return a stale value; it keeps at most :data:`MAX_ENTRIES` entries (cleared,
not evicted one by one: atomic, so threads may share it), and so keeps up to that many objects alive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["MAX_ENTRIES", "per_object"]

T = TypeVar("T")

#: Entries kept before the cache is cleared.
MAX_ENTRIES = 64

_CACHE: dict[tuple[str, int], tuple[object, Any]] = {}


def per_object(name: str, obj: object, compute: Callable[[], T]) -> T:
    """``compute()`` for ``obj``, once per object and ``name`` (the value must not be mutated)."""
    key = (name, id(obj))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is obj:
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    if len(_CACHE) >= MAX_ENTRIES:
        _CACHE.clear()
    _CACHE[key] = (obj, value)
    return value
