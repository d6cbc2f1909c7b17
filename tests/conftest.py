"""Shared test configuration: a deterministic hypothesis profile and paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "condapprove", derandomize=True, deadline=None, max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("condapprove")

ROOT = Path(__file__).resolve().parent.parent
DESIGNS = ROOT / "designs"
#: The rest of a design file whose test is about its pre_approval section: a small valid post-marketing study.
MINIMAL_POST_MARKETING = """post_marketing:
  study: clinical_trial
  endpoint: {type: binary}
  treated: {accrual: {rate_per_month: 1}, target_n: 20}
  control: {kind: benchmark, rate: 0.3}
scenarios: [{name: a, treated_rate: 0.3}]
"""
REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(autouse=True)
def _no_kept_workers() -> Iterator[None]:
    """Each test starts without the worker processes ``simulate(n_jobs > 1)`` keeps between calls: they were forked
    before the test's ``monkeypatch`` and would not see it (tests of the reuse itself make their own calls)."""
    yield
    from condapprove.simulation.workers import shutdown_workers

    shutdown_workers()
