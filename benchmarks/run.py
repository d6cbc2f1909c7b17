"""Speed of the simulation engine on three 3-look designs, beside rpact when R is available.

Usage::

    python benchmarks/run.py            # a table
    python benchmarks/run.py --json     # a JSON list: case, replicates, seconds, floor_seconds,
                                        #   rpact_seconds (null without R/rpact), peak_rss_mib
    python benchmarks/run.py --quick    # 10x fewer replicates
    python benchmarks/run.py --repeat 5 # 5 alternating runs of each side (default 3); medians
    python benchmarks/run.py --variants # the same kinds of designs with other parameters (VARIANTS)
    python benchmarks/run.py --sweep 12 --sweep-seed 2   # 12 designs with random parameters (sweep_cases)
    python benchmarks/run.py --trial "binary patients=80,160,240 treated=0.5 control=0.35 spending=pocock"
    python benchmarks/run.py --trial "survival patients=300 accrual=18 events=60,120,180 hr=0.75 median=10 dropout=0.05"
                                        # a design of one of the three kinds with parameters of your own (trial_case)

Each case runs in its own Python process, so ``peak_rss_mib`` is that case's peak resident
memory.  The "random-number floor" (``floor_seconds``) is the time spent inside numpy's random-number calls
(PCG64) during an instrumented patient-by-patient run of the same design: the random numbers the model
consumes per patient (entry times, outcomes, dropout), without any statistics -- the unavoidable cost of a
per-patient simulation.  Binary and continuous designs without patient-level effects are simulated from
sufficient statistics (a few draws per look instead of per patient), so they can run below that floor;
``drawn_seconds`` is the random-number time of the engine's own run, and ``drawn_ratio`` that instrumented
run's whole time over it: the engine against its own draws within one run, free of the machine's drift between
two runs.  The engine draws its large arrays of exponentials, normals and uniforms in compiled loops (numpy's
numbers in about 0.7-0.9 of numpy's time, ``condapprove._draw_jit``): the floor times numpy's methods, the
engine's own draws are timed as it makes them, so for a patient-level case such as survival ``drawn_seconds`` is
below ``floor_seconds`` and ``drawn_ratio`` above the floor ratio.
rpact is timed on the same design with ``system.time`` in one R process per case.

Timings on a shared machine vary by tens of percent from minute to minute, so the two sides alternate
``--repeat`` times (default 3): a fresh condapprove process (one warm-up run, :func:`warm_up`, that imports and loads
everything, one timed run, its floor runs), then one rpact run.  ``seconds``, ``rpact_seconds`` and
``floor_seconds`` are medians; ``speedup`` is the median of the back-to-back ratios, ``floor_ratio`` the
median of each process's ratio to its own floor; the JSON also lists every run (``seconds_runs``,
``rpact_runs``).  ``p_confirmed`` (condapprove) and ``rpact_power`` (rpact's ``overallReject``) show that the two
simulate the same design: they agree within Monte-Carlo error (rpact's simulation of a one-arm t test uses a normal
approximation: about 0.807 where the exact power, rpact's ``getPowerMeans`` with ``normalApproximation = FALSE``
and condapprove's, is 0.799).  ``machine`` (JSON; the table's last line) names the processor, whether it has AVX2
and AVX-512, and the versions of numpy, numba and scipy: the sixth round's code ran the survival case at 2.82-2.96
times its own draws on the earlier rounds' machine and at 4.44 on the seventh round's, an AMD EPYC without AVX-512
(``docs/performance.md``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np


def _trial(endpoint: dict[str, Any], rate: float, target_n: int, analyses: list[dict[str, Any]], *,
           control: dict[str, Any] | None = None, decision: dict[str, Any] | None = None,
           **more: Any) -> dict[str, Any]:
    """A post-marketing clinical trial: 1:1 concurrent controls and O'Brien-Fleming-type spending unless given."""
    return {"study": "clinical_trial", "endpoint": endpoint,
            "treated": {"accrual": {"rate_per_month": rate, **more.pop("accrual", {})}, "target_n": target_n},
            "control": control or {"kind": "concurrent", "ratio": 1}, **more, "analyses": analyses,
            "decision": decision or {"rule": "group_sequential", "spending": "obrien-fleming"}}


def _rpact(simulation: str, args: str, *, k_max: int = 3, spending: str = "asOF", design: str = "") -> str:
    """rpact's call on the same design; ``{iterations}`` is filled in by :func:`rpact_code`.

    A survival design tests for a hazard ratio below 1, as condapprove's do: ``directionUpper = FALSE`` (rpact's
    default tests for one above 1, so with a hazard ratio of 0.7 it would never stop early and would report a
    power of 0; it is also slower that way: by 10% in the median of the seven survival cases, one run each).
    """
    if simulation == "getSimulationSurvival":
        args += ", directionUpper = FALSE"
    return (f'd <- getDesignGroupSequential(kMax = {k_max}, alpha = 0.025, sided = 1, typeOfDesign = "{spending}"'
            f"{design})\nt <- system.time({simulation}(d, {args}, maxNumberOfIterations = {{iterations}}, seed = 1))")


_PATIENTS = [{"patients": 60}, {"patients": 120}]
_SURVIVAL_ENDPOINT = {"type": "time_to_event", "baseline": {"median_months": 12.0}, "dropout_rate_per_month": 0.0042}
_SURVIVAL_RPACT = "{accrual}, hazardRatio = 0.7, median2 = 12, dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12"


def _survival(endpoint: dict[str, Any], rpact_args: str, *, target_n: int = 120, **more: Any) -> dict[str, Any]:
    """The survival case's shape (240 patients, looks at 40/80/120 events, HR 0.7, 10^4 replicates) with this
    endpoint (and ``target_n`` treated, ``more`` of :func:`_trial`); ``rpact_args`` follow rpact's events and
    patients."""
    return {"replicates": 10_000,
            "post": _trial(endpoint, 10.0, target_n, [{"events": 40}, {"events": 80}], target_events=120, **more),
            "scenario": {"name": "alt", "hazard_ratio": 0.7},
            "rpact": _rpact("getSimulationSurvival",
                            "plannedEvents = c(40, 80, 120), maxNumberOfSubjects = 240, " + rpact_args)}


#: rpact's ``typeOfDesign`` for condapprove's spending functions.
_RPACT_SPENDING = {"obrien-fleming": "asOF", "pocock": "asP"}


def _information_rates(looks: list[int]) -> str:
    """rpact's ``informationRates`` for looks at ``looks`` patients or events (the last the final analysis), as
    the argument to add to its design: none when they are evenly spaced (rpact's default), else each look's count
    over the final one, written as that fraction (``74/150``).  condapprove spends alpha at those fractions (each
    arm's patients, or the events, observed at the look against the planned maximum), so rpact's bounds must be
    computed at them too: a sweep design with looks at 74 and 150 patients had a final bound of 1.96800 on
    condapprove's side and 1.96860 on rpact's (at 0.5), and its binary statistic put 0.006 of power between them."""
    k, final = len(looks), looks[-1]
    if all(n * k == (i + 1) * final for i, n in enumerate(looks)):
        return ""
    return f", informationRates = c({', '.join(f'{n}/{final}' for n in looks[:-1])}, 1)"


def _two_arm_trial(endpoint: dict[str, Any], patients: list[int], treated: float, control: float, *,
                   spending: str = "obrien-fleming") -> dict[str, Any]:
    """A two-arm 1:1 binary or continuous case (10^5 replicates, 100 patients a month) and its rpact call from the
    same numbers: looks at ``patients`` in all (the last the final analysis), the arms' true rates or means, and
    Lan-DeMets ``spending`` ("obrien-fleming" or "pocock")."""
    if endpoint["type"] == "binary":
        simulation, effect = "getSimulationRates", f"pi1 = {treated:g}, pi2 = {control:g}"
        scenario = {"treated_rate": treated, "control_rate": control}
    else:
        simulation, effect = "getSimulationMeans", f"alternative = {treated - control:g}, stDev = {endpoint['sd']:g}"
        scenario = {"treated_mean": treated, "control_mean": control}
    planned = f"groups = 2, plannedSubjects = c({', '.join(map(str, patients))}), "
    return {"replicates": 100_000,
            "post": _trial(endpoint, 100.0, patients[-1] // 2, [{"patients": p} for p in patients[:-1]],
                           decision={"rule": "group_sequential", "spending": spending}),
            "scenario": {"name": "alt", **scenario},
            "rpact": _rpact(simulation, planned + effect, k_max=len(patients), spending=_RPACT_SPENDING[spending],
                            design=_information_rates(patients))}


def _survival_trial(patients: int, accrual_months: float, events: list[int], hazard_ratio: float, median: float, *,
                    dropout: tuple[float, float] | None = None) -> dict[str, Any]:
    """A two-arm 1:1 survival case (10^4 replicates) and its rpact call from the same numbers: ``patients`` in all,
    accrued evenly over ``accrual_months``, looks at ``events`` (the last the final analysis), the control's
    exponential ``median`` in months, and ``dropout`` as each side takes it: (condapprove's rate a month, rpact's
    probability within a year), the rate ``-log(1 - probability) / 12`` as written."""
    endpoint: dict[str, Any] = {"type": "time_to_event", "baseline": {"median_months": median}}
    dropout_args = ""
    if dropout is not None:
        endpoint["dropout_rate_per_month"] = dropout[0]
        dropout_args = f", dropoutRate1 = {dropout[1]:g}, dropoutRate2 = {dropout[1]:g}, dropoutTime = 12"
    return {"replicates": 10_000,
            "post": _trial(endpoint, patients / 2 / accrual_months, patients // 2,
                           [{"events": e} for e in events[:-1]], target_events=events[-1]),
            "scenario": {"name": "alt", "hazard_ratio": hazard_ratio},
            "rpact": _rpact("getSimulationSurvival",
                            f"plannedEvents = c({', '.join(map(str, events))}), maxNumberOfSubjects = {patients}, "
                            f"accrualTime = {accrual_months:g}, hazardRatio = {hazard_ratio:g}, median2 = {median:g}"
                            + dropout_args, k_max=len(events), design=_information_rates(events))}


CASES: dict[str, dict[str, Any]] = {
    "binary": {
        "replicates": 100_000,
        "post": _trial({"type": "binary"}, 100.0, 90, _PATIENTS),
        "scenario": {"name": "alt", "treated_rate": 0.45, "control_rate": 0.30},
        "rpact": _rpact("getSimulationRates", "groups = 2, plannedSubjects = c(60, 120, 180), pi1 = 0.45, pi2 = 0.30"),
    },
    "continuous": {
        "replicates": 100_000,
        "post": _trial({"type": "continuous", "sd": 1.0}, 100.0, 90, _PATIENTS),
        "scenario": {"name": "alt", "treated_mean": 0.4, "control_mean": 0.0},
        "rpact": _rpact("getSimulationMeans",
                        "groups = 2, plannedSubjects = c(60, 120, 180), alternative = 0.4, stDev = 1"),
    },
    "survival": _survival(_SURVIVAL_ENDPOINT, _SURVIVAL_RPACT.format(accrual="accrualTime = 12")),
}


#: The same kinds of designs with other parameters (``--variants``): more looks, futility bounds, Pocock spending,
#: unequal looks, 2:1 allocation, one arm against a benchmark, more patients, a ramp-up of accrual, Weibull and
#: piecewise-exponential baselines, no dropout.
VARIANTS: dict[str, dict[str, Any]] = {
    "binary-4looks": _two_arm_trial({"type": "binary"}, [75, 150, 225, 300], 0.25, 0.15),
    "binary-2to1": {
        "replicates": 100_000,
        "post": _trial({"type": "binary"}, 100.0, 120, _PATIENTS, control={"kind": "concurrent", "ratio": 0.5}),
        "scenario": {"name": "alt", "treated_rate": 0.45, "control_rate": 0.30},
        "rpact": _rpact("getSimulationRates", "groups = 2, plannedSubjects = c(60, 120, 180), pi1 = 0.45, "
                                              "pi2 = 0.30, allocationRatioPlanned = 2"),
    },
    "binary-one-arm": {
        "replicates": 100_000,
        "post": _trial({"type": "binary"}, 10.0, 90, [{"patients": 30}, {"patients": 60}],
                       control={"kind": "benchmark", "rate": 0.2}),
        "scenario": {"name": "alt", "treated_rate": 0.35},
        "rpact": _rpact("getSimulationRates", "groups = 1, plannedSubjects = c(30, 60, 90), pi1 = 0.35, thetaH0 = 0.2"),
    },
    "binary-5looks-pocock-futility": {
        "replicates": 100_000,
        "post": _trial({"type": "binary"}, 100.0, 200, [{"patients": p} for p in (80, 160, 240, 320)],
                       decision={"rule": "group_sequential", "spending": "pocock", "futility_z_below": [0.0] * 4}),
        "scenario": {"name": "alt", "treated_rate": 0.6, "control_rate": 0.5},
        "rpact": _rpact("getSimulationRates", "groups = 2, plannedSubjects = c(80, 160, 240, 320, 400), pi1 = 0.6, "
                                              "pi2 = 0.5", k_max=5, spending="asP",
                        design=", futilityBounds = c(0, 0, 0, 0), bindingFutility = FALSE"),
    },
    "continuous-unequal-looks": {
        "replicates": 100_000,
        "post": _trial({"type": "continuous", "sd": 1.5}, 100.0, 100, [{"patients": 50}, {"patients": 100}]),
        "scenario": {"name": "alt", "treated_mean": 0.3, "control_mean": 0.0},
        "rpact": _rpact("getSimulationMeans",
                        "groups = 2, plannedSubjects = c(50, 100, 200), alternative = 0.3, stDev = 1.5",
                        design=", informationRates = c(0.25, 0.5, 1)"),
    },
    "continuous-5looks-futility": {
        "replicates": 100_000,
        "post": _trial({"type": "continuous", "sd": 2.0}, 100.0, 150, [{"patients": p} for p in (60, 120, 180, 240)],
                       decision={"rule": "group_sequential", "spending": "obrien-fleming",
                                 "futility_z_below": [0.0] * 4}),
        "scenario": {"name": "alt", "treated_mean": 0.5, "control_mean": 0.0},
        "rpact": _rpact("getSimulationMeans",
                        "groups = 2, plannedSubjects = c(60, 120, 180, 240, 300), alternative = 0.5, stDev = 2",
                        k_max=5, design=", futilityBounds = c(0, 0, 0, 0), bindingFutility = FALSE"),
    },
    "survival-400": _survival_trial(400, 20, [60, 120, 180], 0.75, 10.0, dropout=(0.00878, 0.1)),
    # rpact's accrual: 10 a month (both arms) for 6 months, then 20, until 240 patients (ours ramps linearly)
    "survival-ramp-up": _survival(_SURVIVAL_ENDPOINT, _SURVIVAL_RPACT.format(
        accrual="accrualTime = c(0, 6, 15), accrualIntensity = c(10, 20)"), accrual={"ramp_up_months": 6}),
    "binary-900": _two_arm_trial({"type": "binary"}, [300, 600, 900], 0.2, 0.15),
    "continuous-2to1": {
        "replicates": 100_000,
        "post": _trial({"type": "continuous", "sd": 1.0}, 100.0, 120, _PATIENTS, control={"kind": "concurrent", "ratio": 0.5}),
        "scenario": {"name": "alt", "treated_mean": 0.4, "control_mean": 0.0},
        "rpact": _rpact("getSimulationMeans", "groups = 2, plannedSubjects = c(60, 120, 180), alternative = 0.4, stDev = 1, "
                                              "allocationRatioPlanned = 2"),
    },
    "continuous-one-arm": {
        "replicates": 100_000,
        "post": _trial({"type": "continuous", "sd": 1.0}, 10.0, 90, [{"patients": 30}, {"patients": 60}],
                       control={"kind": "benchmark", "mean": 0.0}),
        "scenario": {"name": "alt", "treated_mean": 0.3},
        "rpact": _rpact("getSimulationMeans",
                        "groups = 1, plannedSubjects = c(30, 60, 90), alternative = 0.3, stDev = 1, thetaH0 = 0"),
    },
    # 15 a month (both arms) for 16 months; 2 treated to 1 control
    "survival-2to1": _survival(_SURVIVAL_ENDPOINT, _SURVIVAL_RPACT.format(accrual="accrualTime = 16")
                               + ", allocation1 = 2, allocation2 = 1", target_n=160,
                               control={"kind": "concurrent", "ratio": 0.5}),
    # rpact's Weibull: S(t) = exp(-(lambda2 t)^kappa), the treated hazard hazardRatio times the control's
    "survival-weibull": _survival({"type": "time_to_event", "baseline": {"weibull": {"shape": 1.5, "scale": 15.0}}},
                                  "accrualTime = 12, hazardRatio = 0.7, lambda2 = 1 / 15, kappa = 1.5"),
    "survival-piecewise": _survival({"type": "time_to_event",
                                     "baseline": {"piecewise_exponential": {"breaks": [6.0], "rates": [0.08, 0.04]}}},
                                    "accrualTime = 12, hazardRatio = 0.7, piecewiseSurvivalTime = c(0, 6), "
                                    "lambda2 = c(0.08, 0.04)"),
    "survival-5looks": _survival_trial(300, 10, [30, 60, 90, 120, 150], 0.65, 8.0),
    # the twentieth round's: parameters none of the earlier cases had (a rare outcome, Pocock bounds without futility,
    # 450 and 600 patients, four looks on each endpoint, 120 patients), each chosen before it was first timed
    "binary-rare": _two_arm_trial({"type": "binary"}, [100, 200, 300], 0.15, 0.05),
    "binary-pocock": _two_arm_trial({"type": "binary"}, [40, 80, 120], 0.5, 0.35, spending="pocock"),
    "continuous-450": _two_arm_trial({"type": "continuous", "sd": 1.0}, [150, 300, 450], 0.2, 0.0),
    "continuous-4looks-pocock": _two_arm_trial({"type": "continuous", "sd": 2.0}, [50, 100, 150, 200], 0.8, 0.0,
                                               spending="pocock"),
    # dropout 5% and 10% a year: -log(0.95) / 12 and -log(0.9) / 12 a month
    "survival-600": _survival_trial(600, 24, [100, 200, 300], 0.75, 15.0, dropout=(0.004274, 0.05)),
    "survival-4looks": _survival_trial(320, 20, [50, 100, 150, 200], 0.7, 10.0, dropout=(0.00878, 0.1)),
    "survival-120": _survival_trial(120, 12, [20, 40, 60], 0.6, 12.0, dropout=(0.004274, 0.05)),
}
#: Every case by name (the three benchmark cases and the variants).
ALL_CASES = {**CASES, **VARIANTS}


def sweep_cases(count: int, seed: int) -> dict[str, dict[str, Any]]:
    """``count`` designs of the three kinds (binary, continuous, survival in turn) with parameters drawn at random
    (``seed``) from fixed ranges, each with its rpact call: the issue's "same kinds of designs, other parameters",
    chosen by a generator instead of by hand (``--sweep``).  All are two-arm 1:1 trials with looks about evenly
    spaced (at even numbers of patients, or whole events, rounded down; rpact's design is given the information rates
    of those looks, :func:`_information_rates`):

    * binary: 2-5 looks, 100-600 patients at the final analysis, a control rate of 0.1-0.5 and a difference of
      0.08-0.2; continuous: the same looks, a standard deviation of 1-2 and a difference of 0.2-0.5; both with
      O'Brien-Fleming-type or Pocock-type spending and 10^5 replicates;
    * survival: 2-4 looks, 100-500 patients accrued over 8-24 months, 35-60% of them as events at the final
      analysis, a hazard ratio of 0.6-0.8, a control median of 6-24 months, and no dropout or 5% or 10% a year;
      10^4 replicates.

    The same ``count`` and ``seed`` give the same cases (the ranges were fixed before any of them was timed).
    """
    rnd = random.Random(seed)
    out: dict[str, dict[str, Any]] = {}
    for i in range(count):
        kind = ("binary", "continuous", "survival")[i % 3]
        looks = rnd.choice([2, 3, 3, 3, 4, 5] if kind != "survival" else [2, 3, 3, 3, 4])
        if kind == "survival":
            patients = rnd.choice([100, 160, 240, 300, 400, 500])
            final = int(patients * rnd.uniform(0.35, 0.6))
            events = sorted({final * (j + 1) // looks for j in range(looks)})
            dropout = rnd.choice([None, (0.004274, 0.05), (0.00878, 0.1)])
            case = _survival_trial(patients, rnd.choice([8, 12, 18, 24]), events, rnd.choice([0.6, 0.65, 0.7, 0.75, 0.8]),
                                   rnd.choice([6.0, 10.0, 12.0, 18.0, 24.0]), dropout=dropout)
        else:
            final = rnd.choice([100, 150, 200, 300, 400, 600])
            patients = sorted({2 * (final * (j + 1) // looks // 2) for j in range(looks)})
            spending = rnd.choice(["obrien-fleming", "pocock"])
            if kind == "binary":
                control = rnd.choice([0.1, 0.2, 0.3, 0.4, 0.5])
                treated = round(control + rnd.choice([0.08, 0.1, 0.15, 0.2]), 2)
                case = _two_arm_trial({"type": "binary"}, patients, treated, control, spending=spending)
            else:
                sd, effect = rnd.choice([1.0, 1.5, 2.0]), rnd.choice([0.2, 0.3, 0.4, 0.5])
                case = _two_arm_trial({"type": "continuous", "sd": sd}, patients, effect, 0.0, spending=spending)
        out[f"sweep{seed}-{kind}-{i}"] = case
    return out


#: ``--trial``'s keys for each kind: required, then optional (with their defaults).
TRIAL_KEYS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "binary": (("patients", "treated", "control"), {"spending": "obrien-fleming", "replicates": "100000"}),
    "continuous": (("patients", "effect"), {"sd": "1", "spending": "obrien-fleming", "replicates": "100000"}),
    "survival": (("patients", "accrual", "events", "hr", "median"), {"dropout": "0", "replicates": "10000"}),
}


def trial_case(spec: str) -> dict[str, Any]:
    """The case of ``--trial``'s ``spec``: a kind, then ``key=value`` pairs (lists comma-separated), a two-arm 1:1
    design of the kind the benchmark's cases are, with its rpact call (ValueError, saying what is wrong, for a bad
    spec):

    * ``binary patients=60,120,180 treated=0.45 control=0.30 [spending=obrien-fleming|pocock] [replicates=100000]``:
      looks at those numbers of patients in all (even numbers; the last the final analysis), the arms' rates;
    * ``continuous patients=60,120,180 effect=0.4 [sd=1] [spending=...] [replicates=100000]``: the difference of
      means and the standard deviation;
    * ``survival patients=240 accrual=12 events=40,80,120 hr=0.7 median=12 [dropout=0.05] [replicates=10000]``:
      patients accrued evenly over ``accrual`` months, looks at those numbers of events, the hazard ratio, the
      control's exponential median in months, and the probability of dropping out within a year (condapprove's
      rate a month ``-log(1 - dropout) / 12``, rpact's ``dropoutRate`` with ``dropoutTime = 12``).

    Examples
    --------
    >>> trial_case("binary patients=60,120,180 treated=0.45 control=0.3")["replicates"]
    100000
    """
    kind, *pairs = spec.split()
    if kind not in TRIAL_KEYS:
        raise ValueError(f"--trial {spec!r}: the kind must be one of {', '.join(TRIAL_KEYS)}; got {kind!r}")
    required, optional = TRIAL_KEYS[kind]
    given: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or key not in (*required, *optional) or key in given:
            raise ValueError(f"--trial {spec!r}: {pair!r} is not one of {kind}'s keys "
                             f"({', '.join((*required, *optional))}), given once as key=value")
        given[key] = value
    missing = [k for k in required if k not in given]
    if missing:
        raise ValueError(f"--trial {spec!r}: {kind} needs {', '.join(missing)}")
    values = {**optional, **given}

    def number(key: str, lo: float = 0.0, hi: float = math.inf) -> float:
        try:
            x = float(values[key])
        except ValueError:
            raise ValueError(f"--trial {spec!r}: {key} must be a number; got {values[key]!r}") from None
        if not lo < x < hi:
            raise ValueError(f"--trial {spec!r}: {key} must be in ({lo:g}, {hi:g}); got {values[key]}")
        return x

    def counts(key: str) -> list[int]:
        try:
            got = [int(v) for v in values[key].split(",")]
        except ValueError:
            raise ValueError(f"--trial {spec!r}: {key} must be whole numbers separated by commas") from None
        if got[0] < 1 or any(b <= a for a, b in itertools.pairwise(got)):
            raise ValueError(f"--trial {spec!r}: {key} must be positive and increasing; got {values[key]}")
        return got

    if not values["replicates"].isdigit() or int(values["replicates"]) < 1:
        raise ValueError(f"--trial {spec!r}: replicates must be a positive whole number; got {values['replicates']}")
    replicates = int(values["replicates"])
    if kind == "survival":
        patients, events = int(number("patients", 1)), counts("events")
        if patients % 2 or events[-1] > patients:
            raise ValueError(f"--trial {spec!r}: patients must be even (two arms, 1:1) and at least the last "
                             "number of events")
        p_drop = 0.0 if values["dropout"] in ("0", "0.0") else number("dropout", 0, 1)
        dropout = None if p_drop == 0 else (-math.log1p(-p_drop) / 12, p_drop)
        case = _survival_trial(patients, number("accrual"), events, number("hr"), number("median"), dropout=dropout)
    else:
        patients_at = counts("patients")
        if any(n % 2 for n in patients_at) or len(patients_at) < 2:  # (rpact splits each stage's patients in
            # two, the odd one treated: an odd look would leave it 76 against 74 at 150 where condapprove has 75/75)
            raise ValueError(f"--trial {spec!r}: patients needs two looks or more, each an even number "
                             "(two arms, 1:1)")
        spending = values["spending"]
        if spending not in _RPACT_SPENDING:
            raise ValueError(f"--trial {spec!r}: spending must be one of {', '.join(_RPACT_SPENDING)}")
        if kind == "binary":
            case = _two_arm_trial({"type": "binary"}, patients_at, number("treated", 0, 1), number("control", 0, 1),
                                  spending=spending)
        else:
            case = _two_arm_trial({"type": "continuous", "sd": number("sd")}, patients_at,
                                  number("effect", -math.inf), 0.0, spending=spending)
    return {**case, "replicates": replicates}


def trial_cases(specs: list[str]) -> dict[str, dict[str, Any]]:
    """``--trial``'s cases by name (``trial1-binary``, ``trial2-survival``, ... in the order given)."""
    return {f"trial{i}-{spec.split()[0]}": trial_case(spec) for i, spec in enumerate(specs, 1)}


def mapping(case: dict[str, Any]) -> dict[str, Any]:
    """The design file's content of a case (as a mapping)."""
    return {"name": "benchmark", "approval": {"date": "2020-01-01", "time_limit_years": 7},
            "post_marketing": case["post"], "scenarios": [case["scenario"]]}


def _design(case: dict[str, Any]) -> Any:
    from condapprove.spec import design_from_mapping

    return design_from_mapping(mapping(case))


def _clocked(fn: Any, clock: list[float]) -> Any:
    """``fn``, adding the duration of each call to ``clock[0]``."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            clock[0] += time.perf_counter() - t0

    return timed


class _TimedGenerator:
    """A numpy Generator whose drawing methods add their own duration to a shared clock."""

    def __init__(self, gen: np.random.Generator, clock: list[float]) -> None:
        self._gen, self._clock = gen, clock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._gen, name)
        return _clocked(attr, self._clock) if callable(attr) else attr


def rng_floor(design: Any, replicates: int, *, patient_level: bool) -> tuple[float, float]:
    """Seconds spent inside the random-number calls of the same simulation (the random numbers the model
    consumes, drawn by numpy, with everything else -- the statistics, the decisions -- left out), and the
    instrumented run's whole time.

    ``patient_level``: of the patient-by-patient simulation of the model (what any per-patient engine must
    draw), every number drawn by numpy's methods; otherwise of the engine's own run (fewer numbers where it uses
    sufficient statistics), each drawn as the engine draws it: the large arrays the engine draws in compiled loops
    (``condapprove._draw_jit``, numpy's numbers in less time), and the draws of a screened continuous design's looks
    from each replicate's own stream (``condapprove._philox_jit.normal_gamma``), are timed as such.
    """
    import warnings

    import condapprove
    from condapprove import _draw_jit, _philox_jit, _rng
    from condapprove.simulation import sufficient

    eligible = sufficient.eligible
    if patient_level:
        sufficient.eligible = lambda d: False  # type: ignore[assignment]

    clock = [0.0]
    original = _rng.spawn_streams

    def spawn(root: Any, key: Any) -> Any:
        return _TimedGenerator(original(root, key), clock)

    from condapprove.kernels import survival

    def as_generator(rng: Any = None) -> Any:
        return rng if isinstance(rng, _TimedGenerator) else _rng.as_generator(rng)

    # the engine's compiled draws, timed as the engine makes them (on the generator the timed one wraps, or on the
    # state words of a chunk's blocks: fill_blocks)
    compiled = {name: getattr(_draw_jit, name) for name in ("draw", "draw_into", "standard_gamma_rows", "fill_blocks")}

    def timed(fn: Any) -> Any:
        clocked = _clocked(fn, clock)

        def call(rng: Any, *args: Any, **kwargs: Any) -> Any:
            return clocked(rng._gen, *args, **kwargs) if isinstance(rng, _TimedGenerator) else fn(rng, *args, **kwargs)

        return call

    _rng.spawn_streams = spawn  # type: ignore[assignment]
    survival.as_generator = as_generator  # type: ignore[assignment]
    rows_drawn = _philox_jit.normal_gamma
    if not patient_level:  # otherwise draw() asks the timed generator for numpy's draw
        for name, fn in compiled.items():
            setattr(_draw_jit, name, _clocked(fn, clock) if name == "fill_blocks" else timed(fn))
        _philox_jit.normal_gamma = _clocked(rows_drawn, clock)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            condapprove.simulate(design, replicates=replicates, seed=1)
            total = time.perf_counter() - t0
    finally:
        _rng.spawn_streams = original
        survival.as_generator = _rng.as_generator
        sufficient.eligible = eligible
        for name, fn in compiled.items():
            setattr(_draw_jit, name, fn)
        _philox_jit.normal_gamma = rows_drawn
    return clock[0], total


def machine() -> dict[str, Any]:
    """What the figures depend on besides the code: the processor (its model, and whether it has AVX2 and AVX-512,
    which numpy's sorts and the compiled loops use), its logical cores, and the numerical libraries' versions."""
    import os
    import platform

    import numba
    import scipy

    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:  # not Linux: the model from platform, no flags
        pass
    return {"cpu": model, "avx2": "avx2" in flags, "avx512f": "avx512f" in flags, "logical_cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
            "scipy": scipy.__version__}


def warm_up(design: Any, replicates: int) -> None:
    """The warm-up before a timed call of ``design`` with ``replicates`` replicates and seed 1: the same call in
    chunks of one block.  It imports the modules and loads every compiled kernel the timed call needs (numba loads a
    kernel from its cache at its first call: 2.8-14 ms each for the kernels of a binary run, fifty-fifth round, up to
    a tenth of a binary 10^5 run): those of paths that
    only some replicates take, such as a look analysed again from the wide keys (fifty-fifth round: after a warm-up
    of 4,096 replicates, the first timed call of a 240-patient survival design loaded two such kernels, 6.4 ms of
    its 60 ms), and those only a run of several chunks calls (the quartiles' order statistics across chunks).  The
    same seed makes the same replicates, so every such path is taken; the engine keeps no result between calls, and
    chunks of one block leave the memory of a larger chunk untouched, so a timed call of larger chunks still pays
    its first chunk's page faults, as a first run does."""
    import condapprove
    from condapprove.simulation import BLOCK_SIZE

    condapprove.simulate(design, replicates=replicates, seed=1, chunk_size=BLOCK_SIZE)


def run_case(name: str, replicates: int, jobs: int, *, with_floor: bool = True, kept: bool = False) -> dict[str, Any]:
    """Time one run of a case in this process, after a warm-up (called in a fresh subprocess by :func:`main`);
    ``kept``: after a first call with ``jobs`` workers, so the timed run uses the workers it kept (a session's
    second call) instead of starting them."""
    import warnings

    import condapprove

    case = ALL_CASES[name]
    design = _design(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm_up(design, replicates)
        if kept:  # a first call of the same size, with another seed: the second call finds the workers started
            condapprove.simulate(design, replicates=replicates, seed=2, n_jobs=jobs)
        t0 = time.perf_counter()
        res = condapprove.simulate(design, replicates=replicates, seed=1, n_jobs=jobs)
        seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the instrumented runs
    nan = (float("nan"), float("nan"))
    floor = rng_floor(design, replicates, patient_level=True)[0] if with_floor else nan[0]
    drawn, drawn_total = rng_floor(design, replicates, patient_level=False) if with_floor else nan
    return {"case": name, "replicates": replicates, "seconds": seconds, "floor_seconds": floor, "drawn_seconds": drawn,
            "drawn_ratio": drawn_total / drawn, "p_confirmed": res.scenarios[0].p_confirmed.value,
            "peak_rss_mib": peak, "jobs": jobs, "machine": machine()}


def rpact_code(name: str, scale: float = 1.0) -> str:
    """rpact's call for a case, with ``scale`` times its replicates as iterations."""
    return str(ALL_CASES[name]["rpact"]).format(iterations=int(ALL_CASES[name]["replicates"] * scale))


def rpact_run(name: str, scale: float) -> tuple[float, float] | None:
    """rpact's time on the same design (one run, in a fresh R process) and the power it found (``overallReject``:
    beside condapprove's probability of confirmation, it shows the two simulate the same design), or None without
    R/rpact."""
    if shutil.which("Rscript") is None:
        return None
    code = rpact_code(name, scale).replace("t <- system.time(", "t <- system.time(s <- ")
    script = "suppressMessages(library(rpact))\n" + code + "\ncat(t[['elapsed']], s$overallReject)\n"
    proc = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    seconds, power = proc.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(power)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--quick", action="store_true", help="10x fewer replicates")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for condapprove")
    parser.add_argument("--no-rpact", action="store_true", help="do not time rpact")
    parser.add_argument("--replicates", type=int, help="replicates for every case (default: per case)")
    parser.add_argument("--no-floor", action="store_true", help="skip the instrumented floor runs (scaling, memory)")
    parser.add_argument("--case", choices=sorted(ALL_CASES), action="append", help="run only these cases")
    parser.add_argument("--variants", action="store_true",
                        help="the same kinds of designs with other parameters (VARIANTS) instead of the three cases")
    parser.add_argument("--sweep", type=int, metavar="N",
                        help="N designs of the three kinds with random parameters (sweep_cases) instead of the cases")
    parser.add_argument("--sweep-seed", type=int, default=1, help="the seed of --sweep's parameters (default 1)")
    parser.add_argument("--trial", action="append", metavar="SPEC",
                        help='a design of your own, e.g. "binary patients=60,120,180 treated=0.45 control=0.3" '
                             "(trial_case: the keys of each kind), instead of the cases (after those of --case); repeatable")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs of each side (the medians are compared; default 3)")
    parser.add_argument("--kept-workers", action="store_true",
                        help="with --jobs: time a call that uses the workers an earlier call kept (not their start)")
    parser.add_argument("--internal", nargs=3, metavar=("CASE", "REPLICATES", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sweep = sweep_cases(args.sweep, args.sweep_seed) if args.sweep else {}
    try:
        sweep.update(trial_cases(args.trial or []))
    except ValueError as e:
        parser.error(str(e))
    ALL_CASES.update(sweep)
    if args.internal:
        print(json.dumps(run_case(args.internal[0], int(args.internal[1]), int(args.internal[2]),
                                  with_floor=not args.no_floor, kept=args.kept_workers)))
        return
    scale = 0.1 if args.quick else 1.0
    rows = []
    # --case's cases first, then --sweep's and --trial's designs; without either, the cases or the variants
    names = [*(args.case or []), *sweep] if args.case else list(sweep or (VARIANTS if args.variants else CASES))
    for name in names:
        reps = args.replicates or int(ALL_CASES[name]["replicates"] * scale)
        # the two sides alternate (condapprove, then rpact, ``repeat`` times), so a slow spell of the machine
        # hits both; each condapprove run is a fresh process (warm-up, one timed run, its own floor runs)
        runs, rp_runs, rp_power = [], [], []
        for _ in range(args.repeat):
            proc = subprocess.run([sys.executable, __file__, "--internal", name, str(reps), str(args.jobs),
                                   *(["--no-floor"] if args.no_floor else []),
                                   *(["--kept-workers"] if args.kept_workers else []),
                                   *(["--sweep", str(args.sweep), "--sweep-seed", str(args.sweep_seed)]
                                     if args.sweep else []),
                                   *(x for spec in args.trial or [] for x in ("--trial", spec))],
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            if not args.no_rpact:
                got = rpact_run(name, reps / ALL_CASES[name]["replicates"])
                rp_runs.append(None if got is None else got[0])
                rp_power.append(None if got is None else got[1])
        secs = [r["seconds"] for r in runs]
        row = {**runs[0], "seconds": statistics.median(secs), "seconds_runs": secs,
               "floor_seconds": statistics.median(r["floor_seconds"] for r in runs),
               "drawn_seconds": statistics.median(r["drawn_seconds"] for r in runs),
               "drawn_ratio": statistics.median(r["drawn_ratio"] for r in runs),
               "floor_ratio": statistics.median(r["seconds"] / r["floor_seconds"] for r in runs),
               "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}
        have_rpact = bool(rp_runs) and None not in rp_runs
        row["rpact_seconds"] = statistics.median(rp_runs) if have_rpact else None
        row["rpact_runs"] = rp_runs if have_rpact else None
        row["rpact_power"] = rp_power[0] if have_rpact else None  # the same seed every run
        # the speed-up of each (condapprove, rpact) pair, timed back to back; its median is reported
        row["speedup"] = statistics.median(b / a for a, b in zip(secs, rp_runs)) if have_rpact else None
        rows.append(row)
    if args.json:  # not measured (--no-floor): null
        print(json.dumps([{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows],
                         indent=2))
        return
    w = max([11] + [len(r["case"]) + 2 for r in rows])
    print(f"{'case':<{w}}{'replicates':>11}{'seconds':>9}{'rep/s':>10}{'floor s':>9}{'x floor':>8}{'drawn s':>9}"
          f"{'x drawn':>8}{'rpact s':>9}{'speed-up':>9}{'MiB':>7}{'power':>8}{'rpact':>7}")
    for r in rows:
        rp = r["rpact_seconds"]
        rp_text = "-" if rp is None else f"{rp:.2f}"
        rp_power = "-" if r["rpact_power"] is None else f"{r['rpact_power']:.3f}"
        speedup = "-" if rp is None else f"{r['speedup']:.2f}"
        print(f"{r['case']:<{w}}{r['replicates']:>11}{r['seconds']:>9.3f}{r['replicates'] / r['seconds']:>10.0f}"
              f"{r['floor_seconds']:>9.3f}{r['floor_ratio']:>8.2f}{r['drawn_seconds']:>9.3f}{r['drawn_ratio']:>8.2f}"
              f"{rp_text:>9}{speedup:>9}"
              f"{r['peak_rss_mib']:>7.0f}{r['p_confirmed']:>8.3f}{rp_power:>7}")
    print("power: condapprove's probability of confirmation (seed 1) and rpact's overallReject (seed 1) on the same "
          "design")
    for kind in ("binary", "continuous", "survival") if sweep else ():
        got = [r for r in rows if r["case"] in sweep and r["case"].split("-")[1] == kind]
        speedups = [r["speedup"] for r in got if r["speedup"] is not None]
        floors = [r["floor_ratio"] for r in got if not math.isnan(r["floor_ratio"])]
        if speedups or floors:
            print(f"{'sweep and trials' if args.sweep and args.trial else 'sweep' if args.sweep else 'trials'}, "
                  f"{kind} ({len(got)} designs): speed-up "
                  + (f"{min(speedups):.1f}-{max(speedups):.1f}x (median {statistics.median(speedups):.1f})"
                     if speedups else "-")
                  + (f"; x floor {min(floors):.2f}-{max(floors):.2f}" if floors else ""))
    m = rows[0]["machine"] if rows else machine()
    simd = "AVX-512" if m["avx512f"] else "AVX2, no AVX-512" if m["avx2"] else "no AVX2"
    print(f"machine: {m['cpu']} ({simd}), {m['logical_cores']} logical cores; Python {m['python']}, numpy "
          f"{m['numpy']}, numba {m['numba']}, scipy {m['scipy']}")


if __name__ == "__main__":
    main()
