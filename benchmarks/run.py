"""Speed of the simulation engine on three 3-look designs, beside rpact when R is available.

Usage::

    python benchmarks/run.py            # a table
    python benchmarks/run.py --json     # a JSON list: case, replicates, seconds, floor_seconds,
                                        #   rpact_seconds (null without R/rpact), peak_rss_mib
    python benchmarks/run.py --quick    # 10x fewer replicates

Each case runs in its own Python process, so ``peak_rss_mib`` is that case's peak resident
memory.  The "random-number floor" is the time to draw just the random numbers the model
consumes for the same replicates (numpy's PCG64), the unavoidable cost of the simulation.
rpact is timed on the same design with ``system.time`` in one R process per case.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from typing import Any

import numpy as np

CASES: dict[str, dict[str, Any]] = {
    "binary": {
        "replicates": 100_000,
        "post": {
            "study": "clinical_trial", "endpoint": {"type": "binary"},
            "treated": {"accrual": {"rate_per_month": 100.0}, "target_n": 90},
            "control": {"kind": "concurrent", "ratio": 1},
            "analyses": [{"patients": 60}, {"patients": 120}],
            "decision": {"rule": "group_sequential", "spending": "obrien-fleming"},
        },
        "scenario": {"name": "alt", "treated_rate": 0.45, "control_rate": 0.30},
        "floor": lambda rng, r: (rng.standard_exponential((r, 90)), rng.standard_exponential((r, 90)),
                                 rng.random((r, 90)), rng.random((r, 90))),
        "rpact": """
            d <- getDesignGroupSequential(kMax = 3, alpha = 0.025, sided = 1, typeOfDesign = "asOF")
            t <- system.time(getSimulationRates(d, groups = 2, plannedSubjects = c(60, 120, 180), pi1 = 0.45,
                 pi2 = 0.30, maxNumberOfIterations = 100000, seed = 1))""",
    },
    "continuous": {
        "replicates": 100_000,
        "post": {
            "study": "clinical_trial", "endpoint": {"type": "continuous", "sd": 1.0},
            "treated": {"accrual": {"rate_per_month": 100.0}, "target_n": 90},
            "control": {"kind": "concurrent", "ratio": 1},
            "analyses": [{"patients": 60}, {"patients": 120}],
            "decision": {"rule": "group_sequential", "spending": "obrien-fleming"},
        },
        "scenario": {"name": "alt", "treated_mean": 0.4, "control_mean": 0.0},
        "floor": lambda rng, r: (rng.standard_exponential((r, 90)), rng.standard_exponential((r, 90)),
                                 rng.standard_normal((r, 90)), rng.standard_normal((r, 90))),
        "rpact": """
            d <- getDesignGroupSequential(kMax = 3, alpha = 0.025, sided = 1, typeOfDesign = "asOF")
            t <- system.time(getSimulationMeans(d, groups = 2, plannedSubjects = c(60, 120, 180), alternative = 0.4,
                 stDev = 1, maxNumberOfIterations = 100000, seed = 1))""",
    },
    "survival": {
        "replicates": 10_000,
        "post": {
            "study": "clinical_trial",
            "endpoint": {"type": "time_to_event", "baseline": {"median_months": 12.0},
                         "dropout_rate_per_month": 0.0042},
            "treated": {"accrual": {"rate_per_month": 10.0}, "target_n": 120},
            "control": {"kind": "concurrent", "ratio": 1},
            "target_events": 120,
            "analyses": [{"events": 40}, {"events": 80}],
            "decision": {"rule": "group_sequential", "spending": "obrien-fleming"},
        },
        "scenario": {"name": "alt", "hazard_ratio": 0.7},
        "floor": lambda rng, r: tuple(rng.standard_exponential((r, 120)) for _ in range(6)),
        "rpact": """
            d <- getDesignGroupSequential(kMax = 3, alpha = 0.025, sided = 1, typeOfDesign = "asOF")
            t <- system.time(getSimulationSurvival(d, plannedEvents = c(40, 80, 120), maxNumberOfSubjects = 240,
                 accrualTime = 12, hazardRatio = 0.7, median2 = 12, dropoutRate1 = 0.05, dropoutRate2 = 0.05,
                 dropoutTime = 12, maxNumberOfIterations = 10000, seed = 1))""",
    },
}


def _design(case: dict[str, Any]) -> Any:
    from condapprove.spec import design_from_mapping

    return design_from_mapping({
        "name": "benchmark", "approval": {"date": "2020-01-01", "time_limit_years": 7},
        "post_marketing": case["post"], "scenarios": [case["scenario"]],
    })


def run_case(name: str, replicates: int, jobs: int) -> dict[str, Any]:
    """Time one case in this process (called in a subprocess by :func:`main`)."""
    import warnings

    import condapprove

    case = CASES[name]
    design = _design(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        condapprove.simulate(design, replicates=2048, seed=1)  # warm-up: imports, caches
        t0 = time.perf_counter()
        res = condapprove.simulate(design, replicates=replicates, seed=1, n_jobs=jobs)
        seconds = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for start in range(0, replicates, 2048):
        case["floor"](rng, min(2048, replicates - start))
    floor = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": name, "replicates": replicates, "seconds": seconds, "floor_seconds": floor,
            "p_confirmed": res.scenarios[0].p_confirmed.value, "peak_rss_mib": peak, "jobs": jobs}


def rpact_seconds(name: str, scale: float) -> float | None:
    """rpact's time on the same design, or None without R/rpact."""
    if shutil.which("Rscript") is None:
        return None
    code = textwrap.dedent(CASES[name]["rpact"])
    if scale != 1:
        code = code.replace("100000", str(int(100000 * scale))).replace("10000,", f"{int(10000 * scale)},")
    script = "suppressMessages(library(rpact))\n" + code + "\ncat(t[['elapsed']])\n"
    proc = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    return float(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--quick", action="store_true", help="10x fewer replicates")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for condapprove")
    parser.add_argument("--no-rpact", action="store_true", help="do not time rpact")
    parser.add_argument("--case", choices=sorted(CASES), action="append", help="run only these cases")
    parser.add_argument("--internal", nargs=3, metavar=("CASE", "REPLICATES", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal:
        print(json.dumps(run_case(args.internal[0], int(args.internal[1]), int(args.internal[2]))))
        return
    scale = 0.1 if args.quick else 1.0
    rows = []
    for name in args.case or list(CASES):
        reps = int(CASES[name]["replicates"] * scale)
        proc = subprocess.run([sys.executable, __file__, "--internal", name, str(reps), str(args.jobs)],
                              capture_output=True, text=True, check=True)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["rpact_seconds"] = None if args.no_rpact else rpact_seconds(name, scale)
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'case':<11}{'replicates':>11}{'seconds':>9}{'rep/s':>10}{'floor s':>9}{'x floor':>8}"
          f"{'rpact s':>9}{'speed-up':>9}{'MiB':>7}")
    for r in rows:
        rp = r["rpact_seconds"]
        rp_text = "-" if rp is None else f"{rp:.2f}"
        speedup = "-" if rp is None else f"{rp / r['seconds']:.2f}"
        print(f"{r['case']:<11}{r['replicates']:>11}{r['seconds']:>9.2f}{r['replicates'] / r['seconds']:>10.0f}"
              f"{r['floor_seconds']:>9.3f}{r['seconds'] / r['floor_seconds']:>8.1f}{rp_text:>9}{speedup:>9}"
              f"{r['peak_rss_mib']:>7.0f}")


if __name__ == "__main__":
    main()
