"""The engine against rpact 3.3.4 on group-sequential designs (tests/reference/power_rpact.json).

Made by ``Rscript tests/reference/make_reference_power.R``; ``power_rpact.md`` documents the
statistic rpact uses in each case.  Binary cases are compared with the *exact* operating
characteristics (enumeration of every outcome, no Monte-Carlo error) within 4 MCSE of the
engine; continuous and survival cases with rpact's own simulation (10^5 iterations) within 4
combined MCSE.  The engine simulates Poisson accrual; with accrual far faster than the
follow-up (binary, continuous) or for event-driven looks (survival), the looks' information is
the same as rpact's fixed per-stage sizes.  The allocation of a randomised trial alternates
T, C, T, C as rpact's does.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import pytest

import condapprove
from condapprove.errors import DesignWarning
from condapprove.spec import design_from_mapping

from .conftest import REFERENCE

REF = {c["id"]: c for c in json.loads((REFERENCE / "power_rpact.json").read_text())["cases"]}
SPENDING = {"asOF": "obrien-fleming", "asP": "pocock", "asKD": "kim-demets"}


def _design(case: dict[str, Any]) -> tuple[condapprove.Design, dict[str, Any]]:
    p, d = case["parameters"], case["design"]
    decision: dict[str, Any] = {"rule": "group_sequential", "spending": SPENDING.get(d["typeOfDesign"], "")}
    if d.get("gammaA") is not None:
        decision["parameter"] = d["gammaA"]
    fut = [f for f in (d.get("futilityBounds") or []) if f > -6]
    if fut:
        decision["futility_z_below"] = fut
    if case["id"].startswith("binary1"):
        planned = p["plannedSubjects"]
        post = {"endpoint": {"type": "binary"}, "treated": {"accrual": {"rate_per_month": 1000.0},
                                                            "target_n": planned[-1]},
                "control": {"kind": "benchmark", "rate": 0.3}}
        scen = {"name": "s", "treated_rate": p["pi1"]}
    elif case["id"].startswith(("binary2", "continuous2")):
        planned = p["plannedSubjects"]
        endpoint = ({"type": "binary"} if case["id"].startswith("binary2")
                    else {"type": "continuous", "sd": p["stDev"]})
        post = {"endpoint": endpoint, "treated": {"accrual": {"rate_per_month": 1000.0}, "target_n": planned[-1] // 2},
                "control": {"kind": "concurrent", "ratio": 1}}
        scen = ({"name": "s", "treated_rate": p["pi1"], "control_rate": p["pi2"]} if endpoint["type"] == "binary"
                else {"name": "s", "treated_mean": p["alternative"], "control_mean": 0.0})
    else:
        planned = p["plannedEvents"]
        post = {"endpoint": {"type": "time_to_event", "baseline": {"median_months": p["median2"]},
                             "dropout_rate_per_month": p["dropoutHazard"]},
                "treated": {"accrual": {"rate_per_month": p["accrualIntensity"] / 2}, "target_n": 120},
                "control": {"kind": "concurrent", "ratio": 1},
                "target_events": planned[-1]}
        scen = {"name": "s", "hazard_ratio": p["hazardRatio"]}
    if len(planned) > 1:
        key = "events" if "target_events" in post else "patients"
        post["analyses"] = [{key: k} for k in planned[:-1]]
        post["decision"] = decision
    elif "target_events" in post:
        post["analysis"] = {"test": "logrank"}
    design = design_from_mapping({
        "name": case["id"], "approval": {"date": "2020-01-01", "time_limit_years": 7},
        "post_marketing": {"study": "clinical_trial", **post}, "scenarios": [scen],
    })
    return design, case


BINARY = [k for k in REF if k.startswith("binary") and "fisher" not in k and "exactbinom" not in k]
SIMULATED = [k for k in REF if k.endswith("_t") or k.startswith("survival")]


def _run(design: condapprove.Design, n: int) -> condapprove.ScenarioResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        return condapprove.simulate(design, replicates=n, seed=20261128).scenarios[0]


@pytest.mark.parametrize("case_id", BINARY)
def test_binary_group_sequential_against_exact(case_id: str) -> None:
    design, case = _design(REF[case_id])
    s = _run(design, 40_960)
    exact = case["exact"]
    assert abs(s.p_confirmed.value - exact["overallReject"]) <= 4 * s.p_confirmed.mcse + 1e-12
    for j, ref in enumerate(exact["rejectPerStage"]):
        est = s.p_confirmed_by_look[j]
        assert abs(est.value - ref) <= 4 * est.mcse + 1e-12, (j, est, ref)
    # rpact's "no futility" is a bound at z = -6, crossed with probability ~1e-10: the 1e-9 slack is for it
    fut = sum(exact.get("futilityPerStage", []))
    assert abs(s.p_futility.value - fut) <= 4 * s.p_futility.mcse + 1e-9


@pytest.mark.parametrize("case_id", SIMULATED)
def test_against_rpact_simulation(case_id: str) -> None:
    design, case = _design(REF[case_id])
    s = _run(design, 40_960)
    sim = case["simulation"]
    tol = 4 * math.hypot(s.p_confirmed.mcse, sim["mcse"]["overallReject"])
    assert abs(s.p_confirmed.value - sim["overallReject"]) <= tol
    for j, ref in enumerate(sim["rejectPerStage"]):
        est = s.p_confirmed_by_look[j]
        assert abs(est.value - ref) <= 4 * math.hypot(est.mcse, sim["mcse"]["rejectPerStage"][j]), (j, est, ref)
    if case_id.startswith("survival"):
        assert abs(s.expected_events.value - sim["meanEventsAtStop"]) <= 4 * math.hypot(
            s.expected_events.mcse, sim["mcse"]["expectedNumberOfEvents"]) + 0.01
