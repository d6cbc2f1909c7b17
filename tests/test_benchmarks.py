"""The benchmark script's own runs (``benchmarks/run.py``): each case, and a variant drawn another way, runs and
is instrumented end to end (the random-number floor and the engine's own draws), so a change to how the engine
draws cannot break the user's ``python benchmarks/run.py``.  No timing is asserted: only that the times exist
and that the instrumented parts fit inside the runs they were taken from."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("condapprove_benchmark_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["binary", "continuous", "survival", "survival-weibull"])
def test_a_case_runs_with_its_floor_and_its_own_draws(bench: ModuleType, name: str) -> None:
    from condapprove import _draw_jit, _rng

    draw, spawn = _draw_jit.draw, _rng.spawn_streams
    row = bench.run_case(name, 2048, 1)
    assert (_draw_jit.draw, _rng.spawn_streams) == (draw, spawn)  # the instrumentation is undone
    assert row["case"] == name and row["replicates"] == 2048
    assert row["seconds"] > 0 and row["floor_seconds"] > 0 and row["drawn_seconds"] > 0
    assert math.isfinite(row["drawn_ratio"]) and row["drawn_ratio"] > 1  # the draws are part of their run
    assert 0 <= row["p_confirmed"] <= 1


def test_fixed_cost_splits_its_runs() -> None:
    """``benchmarks/fixed_cost.py`` runs a case and splits its three medians as its docstring says (no timing is
    asserted: the split follows from the medians, whatever they are)."""
    spec = importlib.util.spec_from_file_location("condapprove_benchmark_fixed", ROOT / "benchmarks" / "fixed_cost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = module.measure("binary", 1)
    med = row["medians"]
    assert set(med) == {"16 chunks", "1 chunk", "1 block"} and all(v > 0 for v in med.values())
    assert math.isclose(row["per_chunk"] * 15, med["16 chunks"] - med["1 chunk"])
    assert math.isclose(row["per_block"] * 15, med["1 chunk"] - med["1 block"])
    assert math.isclose(row["per_run"] + row["per_chunk"] + row["per_block"], med["1 block"])


def test_timeline_accounts_for_every_chunk_of_a_call() -> None:
    """``benchmarks/timeline.py`` times, in a fresh process, the chunks its workers ran during one ``--jobs 2``
    call: every chunk of the call once (three chunks of 16 blocks for 40 blocks of binary replicates), each
    worker's first chunk begun after the call began, its waits between consecutive chunks not negative (no timing
    is asserted)."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "timeline.py"), "--case", "binary",
                           "--replicates", str(2048 * 40), "--runs", "1", "--json"],
                          capture_output=True, text=True, check=True)
    (row,) = json.loads(proc.stdout)
    workers = row["workers"]
    assert 1 <= len(workers) <= 2 and sum(w["chunks"] for w in workers) == 3
    for w in workers:
        assert w["first_start_ms"] > 0 and len(w["faults"]) == w["chunks"] == len(w["later_ms"]) + 1
        assert all(x >= 0 for x in w["waits_ms"]) and len(w["waits_ms"]) == w["chunks"] - 1
    assert row["workers_user_ms"] > 0 and row["seconds"] > 0


def test_every_case_is_the_design_its_rpact_call_simulates(bench: ModuleType) -> None:
    """Each benchmark case's design (as condapprove validates it) and rpact call describe the same trial: as many
    looks, at the same numbers of patients or events, with the same spending function and number of arms (the
    power both sides report checks the rest, run by run)."""
    import re

    spending = {"obrien-fleming": "asOF", "pocock": "asP"}
    for name, case in {**bench.ALL_CASES, **bench.sweep_cases(30, 1), **bench.sweep_cases(30, 2)}.items():
        pm = bench._design(case).post_marketing
        code = case["rpact"]
        assert int(re.search(r"kMax = (\d+)", code).group(1)) == len(pm.analyses) + 1, name
        assert f'typeOfDesign = "{spending[pm.decision.spending]}"' in code, name
        planned = re.search(r"planned(Subjects|Events) = c\(([^)]*)\)", code)
        counts = [float(x) for x in planned.group(2).split(",")]
        if planned.group(1) == "Events":
            assert counts == [look.events for look in pm.analyses] + [pm.target_events], name
            # dropout: rpact's probability within dropoutTime months against condapprove's rate a month (rounded
            # as written: the survival case's 0.0042 for 5% a year is 2% off the exact 0.00427)
            dropout = re.search(r"dropoutRate1 = ([\d.]+), dropoutRate2 = ([\d.]+), dropoutTime = (\d+)", code)
            rate = pm.endpoint.dropout_rate_per_month
            if dropout is None:
                assert rate == 0, name
            else:
                p1, p2, months = (float(x) for x in dropout.groups())
                assert p1 == p2 and math.isclose(-math.log1p(-p1) / months, rate, rel_tol=0.02), name
        else:
            two_arms = pm.control.kind == "concurrent"
            final = pm.treated.target_n * (1 + pm.control.ratio if two_arms else 1)
            assert counts == [look.patients for look in pm.analyses] + [final], name
            assert f"groups = {2 if two_arms else 1}" in code, name


def test_sweep_cases_are_the_same_for_the_same_seed(bench: ModuleType) -> None:
    """``--sweep``'s designs come from their count and seed alone (the subprocess that times a case makes them
    again), in turn binary, continuous and survival, and another seed gives other designs."""
    first, again, other = bench.sweep_cases(9, 4), bench.sweep_cases(9, 4), bench.sweep_cases(9, 5)
    assert first == again and first != other
    assert [name.split("-")[1] for name in first] == ["binary", "continuous", "survival"] * 3
    assert list(bench.sweep_cases(6, 4).items()) == list(first.items())[:6]
