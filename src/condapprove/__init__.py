"""condapprove: evidence and post-marketing design under Japan's conditional, time-limited approval."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .errors import (
    CondapproveError,
    CondapproveWarning,
    ConvergenceError,
    DegenerateDataWarning,
    DesignError,
    DesignWarning,
    MonteCarloPrecisionWarning,
    SmallSampleWarning,
)
from .results import ConfidenceInterval, MonteCarloEstimate

try:
    __version__ = version("condapprove")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "CondapproveError",
    "CondapproveWarning",
    "ConvergenceError",
    "DegenerateDataWarning",
    "DesignError",
    "DesignWarning",
    "MonteCarloPrecisionWarning",
    "SmallSampleWarning",
    "ConfidenceInterval",
    "MonteCarloEstimate",
]
