"""Peak memory against the number of patients, for designs simulated patient by patient.

Usage::

    python benchmarks/memory.py                         # the shipped patient-level designs and the survival case
    python benchmarks/memory.py --design designs/akuugo_trial.yaml --scale 1 --scale 20
    python benchmarks/memory.py --json

A design simulated from sufficient statistics (binary or continuous, no lots, sites, confounders or capacity)
holds a few numbers a replicate whatever its patients.  One simulated patient by patient holds, while a block of
:data:`condapprove.simulation.summary.BLOCK_SIZE` replicates is simulated, a few arrays of (replicates, patients)
numbers; the blocks are simulated one after another, so a process's peak memory grows with the patients, not with
the replicates (``run.py --replicates 1000000 --case survival`` for those).

For each design and each ``--scale`` k, a fresh process scales every patient count of the design by k (the treated
arm's and a control's ``target_n``, their accrual rates so that accrual lasts as long, the looks' patients and
events, and ``target_events``), simulates one block of its last scenario and reports its peak resident memory
(``getrusage``).  Per design, the slope between the smallest and the largest scale, in bytes per simulated patient
(the columns :func:`condapprove.simulation.population.arms_of` gives, every arm) and replicate, is what
:data:`condapprove.simulation.memory.BYTES_PER_CELL` and :data:`~condapprove.simulation.memory.BYTES_PER_CELL_AT_LEAST`
summarise; the intercept is the interpreter, numpy, numba and the loaded kernels.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import run  # the benchmark's cases (after the path insert)

SCALES = (4, 16)
_COUNTS = ("patients", "events")


def _scaled(design: Any, k: float) -> Any:
    """``design`` with every patient count multiplied by ``k`` (rounded; accrual rates too, so accrual lasts as long)."""
    data = design.model_dump()
    pm = data["post_marketing"]
    arms = [pm["treated"]] + ([pm["control"]] if isinstance(pm.get("control"), dict) else [])
    for arm in arms:
        if arm.get("target_n"):
            arm["target_n"] = max(1, round(arm["target_n"] * k))
        if isinstance(arm.get("accrual"), dict):
            arm["accrual"]["rate_per_month"] *= k
            for change in arm["accrual"].get("rate_changes") or []:
                change["rate_per_month"] *= k
    for look in pm["analyses"]:
        for field in _COUNTS:
            if look.get(field):
                look[field] = max(1, round(look[field] * k))
    if pm.get("target_events"):
        pm["target_events"] = max(1, round(pm["target_events"] * k))
    return type(design).model_validate(data)


def measure(source: str, k: float) -> dict[str, Any]:
    """In this process: one block of ``source`` (a design file or a ``run.py`` case) scaled by ``k``."""
    import resource
    import warnings

    import condapprove
    from condapprove.simulation import sufficient
    from condapprove.simulation.population import arms_of
    from condapprove.simulation.summary import BLOCK_SIZE

    design = run._design(run.ALL_CASES[source]) if source in run.ALL_CASES else condapprove.load_design(source)
    design = _scaled(design, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        condapprove.simulate(design, replicates=BLOCK_SIZE, seed=1, scenarios=[design.scenarios[-1].name])
    return {"design": source, "scale": k, "patients": sum(a.n for a in arms_of(design)),
            "patient_level": not sufficient.eligible(design),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def patient_level_designs() -> list[str]:
    """The shipped designs simulated patient by patient, and the benchmark's survival case."""
    import condapprove
    from condapprove.simulation import sufficient

    files = sorted(os.path.relpath(f) for f in glob.glob(str(pathlib.Path(__file__).resolve().parent.parent / "designs"
                                                                / "*.yaml")))
    return [f for f in files if not sufficient.eligible(condapprove.load_design(f))] + ["survival"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", action="append", help="a design file or a run.py case (default: the shipped "
                                                          "patient-level designs and the survival case)")
    parser.add_argument("--scale", action="append", type=float, help=f"patient counts times this (default {SCALES})")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--internal", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal:
        print(json.dumps(measure(args.internal[0], float(args.internal[1]))))
        return
    scales = sorted(args.scale or SCALES)
    out = []
    for source in args.design or patient_level_designs():
        rows = []
        for k in scales:
            proc = subprocess.run([sys.executable, __file__, "--internal", source, repr(k)], capture_output=True,
                                  text=True, check=True)
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        lo, hi = rows[0], rows[-1]
        slope = ((hi["peak_mib"] - lo["peak_mib"]) * 2**20 / ((hi["patients"] - lo["patients"]) * 2048)
                 if hi["patients"] > lo["patients"] else float("nan"))
        out.append({"design": source, "runs": rows, "bytes_per_patient_replicate": slope})
        if not args.json:
            sizes = ", ".join(f"{r['patients']:,} patients {r['peak_mib']:.0f} MiB" for r in rows)
            print(f"{source}: {sizes}; {slope:.1f} bytes per patient and replicate", flush=True)
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
