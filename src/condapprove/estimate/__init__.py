"""Small-cohort estimation: exact and Bayesian estimates, survival, heterogeneity, external controls."""

from __future__ import annotations

__all__: list[str] = []
