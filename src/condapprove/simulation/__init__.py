"""Monte-Carlo simulation of post-marketing studies under the approval deadline."""

from __future__ import annotations

from .engine import BLOCK_SIZE, DEFAULT_CHUNK_SIZE, simulate
from .results import Provenance, ScenarioResult, SimulationResult
from .workers import shutdown_workers

__all__ = ["BLOCK_SIZE", "DEFAULT_CHUNK_SIZE", "Provenance", "ScenarioResult", "SimulationResult", "shutdown_workers",
           "simulate"]
