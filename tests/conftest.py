"""Shared test configuration: a deterministic hypothesis profile and paths."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "condapprove", derandomize=True, deadline=None, max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("condapprove")

ROOT = Path(__file__).resolve().parent.parent
DESIGNS = ROOT / "designs"
REFERENCE = Path(__file__).resolve().parent / "reference"
