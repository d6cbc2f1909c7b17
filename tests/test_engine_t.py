"""The engine's group-sequential t tests against an independent simulation of their definition.

``tests/reference/t_power.json`` is made by ``Rscript tests/reference/make_reference_t_power.R`` (2 x 10^6 replicates
a case, R's own random numbers and rpact's critical values): the probability of rejecting at each look of a t test
on all the data observed so far, one arm against a benchmark mean or two arms 1:1, under the alternative and under
the null.  rpact's ``getSimulationMeans`` simulates another statistic (stage-wise t's combined, power_rpact.md section
4), which differs by more than Monte-Carlo error when stages are small, so these cases check what
``tests/test_engine_rpact.py`` cannot: that the engine's statistic is the t test it documents.  The engine's estimate
must be within 4 combined Monte-Carlo standard errors of the reference, at every look.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import condapprove
from condapprove.boundaries import efficacy_bounds_batch
from condapprove.spec import design_from_mapping

from .conftest import REFERENCE

REF = {c["id"]: c for c in json.loads((REFERENCE / "t_power.json").read_text())["cases"]}
SPENDING = {"asOF": "obrien-fleming", "asP": "pocock", "asKD": "kim-demets"}
#: Replicates of each engine run (80 blocks; a tenth of a second or so each).
N = 163_840


def _design(case: dict[str, Any], hypothesis: str) -> condapprove.Design:
    per_arm = np.cumsum(case["stagePatientsPerArm"]).astype(int)
    total = per_arm * case["arms"]
    decision: dict[str, Any] = {"rule": "group_sequential", "spending": SPENDING[case["typeOfDesign"]]}
    if case.get("gammaA") is not None:
        decision["parameter"] = case["gammaA"]
    delta = case["delta"] if hypothesis == "h1" else 0.0
    post: dict[str, Any] = {
        "study": "clinical_trial",
        "endpoint": {"type": "continuous", "sd": case["sigma"]},
        "treated": {"accrual": {"rate_per_month": 1000.0}, "target_n": int(per_arm[-1])},
        "analyses": [{"patients": int(p)} for p in total[:-1]],
        "decision": decision,
    }
    if case["arms"] == 1:
        post["control"] = {"kind": "benchmark", "mean": 0.0}
        scenario = {"name": hypothesis, "treated_mean": delta}
    else:
        post["control"] = {"kind": "concurrent", "ratio": 1}
        scenario = {"name": hypothesis, "treated_mean": delta, "control_mean": 0.0}
    return design_from_mapping({"name": case["id"], "approval": {"date": "2020-01-01", "time_limit_years": 7},
                                "post_marketing": post, "scenarios": [scenario]})


@pytest.mark.parametrize("case_id", sorted(REF))
def test_reference_bounds_are_the_engines(case_id: str) -> None:
    """The reference used rpact's critical values; the engine computes its own for the same information."""
    case = REF[case_id]
    info = np.asarray(case["informationRates"], dtype=float)
    ours = efficacy_bounds_batch(info[None, :], 0.025, SPENDING[case["typeOfDesign"]], case.get("gammaA"),
                                 max_information=1.0, final=True)[0]
    np.testing.assert_allclose(ours, case["criticalValues"], rtol=1e-6)


@pytest.mark.parametrize("hypothesis", ["h1", "h0"])
@pytest.mark.parametrize("case_id", sorted(REF))
def test_engine_matches_the_t_test(case_id: str, hypothesis: str) -> None:
    case = REF[case_id]
    ref = case[hypothesis]
    s = condapprove.simulate(_design(case, hypothesis), replicates=N, seed=20261201).scenarios[0]
    tol = 4 * math.hypot(s.p_confirmed.mcse, ref["mcse"]["overallReject"])
    assert abs(s.p_confirmed.value - ref["overallReject"]) <= tol, (s.p_confirmed, ref["overallReject"])
    for j, (p, se) in enumerate(zip(ref["rejectPerStage"], ref["mcse"]["rejectPerStage"])):
        est = s.p_confirmed_by_look[j]
        assert abs(est.value - p) <= 4 * math.hypot(est.mcse, se), (j, est, p)
