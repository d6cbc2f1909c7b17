"""Monte-Carlo simulation of post-marketing studies under the approval deadline.

The results' types (:mod:`.results`) are imported with the package; the engine (:mod:`.engine`, which imports
numba's compiled loops, about 0.3 s) on first use of :func:`simulate` or another of its names, so that the modules
that only use the results' types (:mod:`condapprove.reporting`, say) do not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .results import Provenance, ScenarioResult, SimulationResult

if TYPE_CHECKING:  # pragma: no cover
    from .engine import BLOCK_SIZE, DEFAULT_CHUNK_SIZE, simulate
    from .workers import shutdown_workers

__all__ = ["BLOCK_SIZE", "DEFAULT_CHUNK_SIZE", "Provenance", "ScenarioResult", "SimulationResult", "shutdown_workers",
           "simulate"]

#: The names imported on first use, and their modules.
_LAZY = {"BLOCK_SIZE": ".engine", "DEFAULT_CHUNK_SIZE": ".engine", "simulate": ".engine",
         "shutdown_workers": ".workers"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # once
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
