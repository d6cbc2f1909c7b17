"""condapprove: evidence and post-marketing design under Japan's conditional, time-limited approval.

The public names below are imported lazily (PEP 562), so ``import condapprove`` stays
light and ``condapprove validate`` starts quickly.

Examples
--------
>>> import condapprove
>>> design = condapprove.load_design("designs/stemirac_survey.yaml")
>>> result = condapprove.simulate(design, replicates=2048, seed=7)
>>> list(result.to_frame()["scenario"])
['no effect', 'modest', 'as in the approval cohort']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> module it lives in
_EXPORTS: dict[str, str] = {
    "CondapproveError": "errors",
    "CondapproveWarning": "errors",
    "ConvergenceError": "errors",
    "DegenerateDataWarning": "errors",
    "DesignError": "errors",
    "DesignWarning": "errors",
    "MonteCarloPrecisionWarning": "errors",
    "SmallSampleWarning": "errors",
    "ConfidenceInterval": "results",
    "MonteCarloEstimate": "results",
    "Design": "spec",
    "load_design": "spec",
    "simulate": "simulation",
    "SimulationResult": "simulation",
    "ScenarioResult": "simulation",
    "shutdown_workers": "simulation",
}
_SUBMODULES = {"accrual", "boundaries", "endpoints", "errors", "estimate", "evidence", "explore", "priors",
               "reporting", "results", "selftest", "simulation", "spec"}

__all__ = [
    "CondapproveError",
    "CondapproveWarning",
    "ConfidenceInterval",
    "ConvergenceError",
    "DegenerateDataWarning",
    "Design",
    "DesignError",
    "DesignWarning",
    "MonteCarloEstimate",
    "MonteCarloPrecisionWarning",
    "ScenarioResult",
    "SimulationResult",
    "SmallSampleWarning",
    "__version__",
    "accrual",
    "boundaries",
    "endpoints",
    "errors",
    "estimate",
    "evidence",
    "explore",
    "load_design",
    "priors",
    "reporting",
    "results",
    "selftest",
    "shutdown_workers",
    "simulate",
    "simulation",
    "spec",
]

if TYPE_CHECKING:  # pragma: no cover
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
    from .simulation import ScenarioResult, SimulationResult, shutdown_workers, simulate
    from .spec import Design, load_design


def _version() -> str:
    # importlib.metadata costs tens of milliseconds to import: only when the version is asked for
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("condapprove")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()["__version__"] = value = _version()
        return value
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'condapprove' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
