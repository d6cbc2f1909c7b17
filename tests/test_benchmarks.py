"""The benchmark script's own runs (``benchmarks/run.py``): each case, and a variant drawn another way, runs and
is instrumented end to end (the random-number floor and the engine's own draws), so a change to how the engine
draws cannot break the user's ``python benchmarks/run.py``.  No timing is asserted: only that the times exist
and that the instrumented parts fit inside the runs they were taken from."""

from __future__ import annotations

import fractions
import importlib.util
import math
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module (registered, so that its dataclasses and pickling find it)."""
    spec = importlib.util.spec_from_file_location(f"condapprove_benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _script("run")


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


def test_the_engines_own_draws_include_its_draws_on_state_words(bench: ModuleType,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A binary or continuous chunk draws its blocks' rows on the streams' state words (``fill_blocks``, not a
    generator's method): the benchmark's count of the engine's own draws times those calls too (each call made to
    last 2 ms here, so that they alone account for a known share of the count), and is undone after."""
    import time

    from condapprove import _draw_jit

    fill = _draw_jit.fill_blocks
    calls = []

    def slow(*args: object, **kwargs: object) -> bool:
        calls.append(1)
        end = time.perf_counter() + 0.002
        while time.perf_counter() < end:
            pass
        return fill(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_draw_jit, "fill_blocks", slow)
    design = bench._design(bench.ALL_CASES["continuous"])
    drawn, total = bench.rng_floor(design, 4096, patient_level=False)
    assert calls and drawn >= 0.002 * len(calls) and total > drawn
    assert _draw_jit.fill_blocks is slow  # the instrumentation is undone


def test_the_engines_own_draws_include_the_rows_own_streams(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """A screened continuous design (the benchmark's continuous case: O'Brien-Fleming-type bounds, no futility) draws
    its looks from each row's own stream (``_philox_jit.normal_gamma``): the count of the engine's own draws times
    those calls too (each made to last 2 ms), and is undone after."""
    import time

    from condapprove import _philox_jit

    rows = _philox_jit.normal_gamma
    calls = []

    def slow(*args: object) -> None:
        calls.append(1)
        end = time.perf_counter() + 0.002
        while time.perf_counter() < end:
            pass
        rows(*args)

    monkeypatch.setattr(_philox_jit, "normal_gamma", slow)
    design = bench._design(bench.ALL_CASES["continuous"])
    drawn, total = bench.rng_floor(design, 4096, patient_level=False)
    assert calls and drawn >= 0.002 * len(calls) and total > drawn
    assert _philox_jit.normal_gamma is slow  # the instrumentation is undone


def test_fixed_cost_splits_its_runs() -> None:
    """``benchmarks/fixed_cost.py`` runs a case and splits its three medians as its docstring says (no timing is
    asserted: the split follows from the medians, whatever they are)."""
    row = _script("fixed_cost").measure("binary", 1)
    med = row["medians"]
    assert set(med) == {"16 chunks", "1 chunk", "1 block"} and all(v > 0 for v in med.values())
    assert math.isclose(row["per_chunk"] * 15, med["16 chunks"] - med["1 chunk"])
    assert math.isclose(row["per_block"] * 15, med["1 chunk"] - med["1 block"])
    assert math.isclose(row["per_run"] + row["per_chunk"] + row["per_block"], med["1 block"])


def test_the_warm_up_loads_every_kernel_the_timed_call_needs() -> None:
    """After ``run.warm_up``, the benchmark's timed call loads no compiled kernel from numba's cache (each load, a
    few milliseconds, would be timed with the call), here for a design whose first 10^4 replicates analyse a look
    again from the wide keys, which the 4,096 replicates of the earlier warm-up did not (in a fresh process; no
    timing is asserted)."""
    import subprocess

    code = f"""
import sys, warnings
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import numba.core.caching as caching
import run
import condapprove
loaded = []
real = caching.Cache.load_overload
def load(self, *args):
    loaded.append(self._name)
    return real(self, *args)
caching.Cache.load_overload = load
warnings.simplefilter("ignore")
design = run._design(run.trial_case("survival patients=240 accrual=18 events=40,80,120 hr=0.65 median=9"))
run.warm_up(design, 10000)
before = len(loaded)
condapprove.simulate(design, replicates=10000, seed=1)
print(before, loaded[before:])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = proc.stdout.split(" ", 1)
    assert int(before) > 0 and after.strip() == "[]"


def test_timeline_accounts_for_every_chunk_of_a_call() -> None:
    """``benchmarks/timeline.py`` times, in a fresh process, the chunks its workers ran during one ``--jobs 2``
    call: every chunk of the call once (five chunks of 8 blocks for 40 blocks of binary replicates, in the calling
    process and its worker), each process's first chunk begun after the call began, its waits between consecutive
    chunks not negative, and the time after the last chunk within the call (no timing is asserted)."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "timeline.py"), "--case", "binary",
                           "--replicates", str(2048 * 40), "--runs", "1", "--json"],
                          capture_output=True, text=True, check=True)
    (row,) = json.loads(proc.stdout)
    workers = row["workers"]
    assert 1 <= len(workers) <= 2 and sum(w["chunks"] for w in workers) == 5
    for w in workers:
        assert w["first_start_ms"] > 0 and len(w["faults"]) == w["chunks"] == len(w["later_ms"]) + 1
        assert all(x >= 0 for x in w["waits_ms"]) and len(w["waits_ms"]) == w["chunks"] - 1
    assert row["workers_user_ms"] > 0 and row["seconds"] > 0
    assert 0 <= row["after_last_ms"] <= 1e3 * row["seconds"] - max(w["first_start_ms"] for w in workers)


def test_jobs_engine_pair_runs_two_warmed_processes_at_once() -> None:
    """``benchmarks/jobs.py``'s engine pair: two fresh processes, each warmed up, told to go at once, each timing one
    ``--jobs 1`` call; the pair's seconds are the slower one's, and the two calls began well within a second of each
    other (the handshake; no timing of the engine is asserted)."""
    got = _script("jobs")._engine_pair("binary", 2048 * 4)
    assert got["seconds"] > 0 and 0 <= got["apart"] < 1.0


def test_jobs_engine_pair_fails_whole_when_a_process_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process of the engine pair that ends before it is ready (here the second) is an error, and the other
    process is not left waiting to be told to go."""
    import subprocess

    jobs = _script("jobs")
    real = subprocess.Popen
    started: list[subprocess.Popen[str]] = []

    def popen(args: list[str], **kwargs: object) -> subprocess.Popen[str]:
        if started:  # the second process exits at once
            args = [sys.executable, "-c", "import sys; sys.exit(3)"]
        started.append(real(args, **kwargs))  # type: ignore[call-overload]
        return started[-1]

    monkeypatch.setattr(jobs.subprocess, "Popen", popen)
    with pytest.raises(RuntimeError, match="did not start"):
        jobs._engine_pair("binary", 2048)
    assert len(started) == 2 and all(p.poll() is not None for p in started)


def test_jobs_reports_the_engine_pair_beside_the_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks/jobs.py``'s figures from its runs (stand-ins here): the engine's speed-up, the draws' reference and
    the engine pair's (``2 x`` the jobs-1 time over the pair's time), and the engine's share of each; no pair with
    workers kept from an earlier call."""
    jobs = _script("jobs")
    monkeypatch.setattr(jobs, "_engine", lambda case, replicates, n_jobs, kept=False: {1: 0.2, 2: 0.125}[n_jobs])
    monkeypatch.setattr(jobs, "_reference", lambda blocks, two_first, kept=False: {"one": 1.0, "two": 0.625})
    monkeypatch.setattr(jobs, "_engine_pair", lambda case, replicates: {"seconds": 0.25, "apart": 0.001})
    row = jobs.measure("binary", 3, 1000, 10)
    assert row["speedup"] == pytest.approx(1.6) and row["reference_speedup"] == pytest.approx(1.6)
    assert row["engine_pair_speedup"] == pytest.approx(1.6) and row["share_of_engine_pair"] == pytest.approx(1.0)
    assert row["engine_pair_runs"] == [0.25] * 3 and row["engine_pair_apart_ms"] == pytest.approx(1.0)
    kept = jobs.measure("binary", 2, 1000, 10, kept=True)
    assert "engine_pair_speedup" not in kept and kept["share_of_reference"] == pytest.approx(1.0)


def test_every_case_is_the_design_its_rpact_call_simulates(bench: ModuleType) -> None:
    """Each benchmark case's design (as condapprove validates it) and rpact call describe the same trial: as many
    looks, at the same numbers of patients or events, with the same spending function, information rates (each
    look's count over the final one, at which condapprove spends alpha) and number of arms (the power both sides
    report checks the rest, run by run)."""
    import re

    spending = {"obrien-fleming": "asOF", "pocock": "asP"}
    for name, case in {**bench.ALL_CASES, **bench.sweep_cases(30, 1), **bench.sweep_cases(30, 2)}.items():
        pm = bench._design(case).post_marketing
        code = case["rpact"]
        assert int(re.search(r"kMax = (\d+)", code).group(1)) == len(pm.analyses) + 1, name
        assert f'typeOfDesign = "{spending[pm.decision.spending]}"' in code, name
        planned = re.search(r"planned(Subjects|Events) = c\(([^)]*)\)", code)
        counts = [float(x) for x in planned.group(2).split(",")]
        rates = re.search(r"informationRates = c\(([^)]*)\)", code)  # (rpact's default: evenly spaced)
        given = ([float(fractions.Fraction(x.strip())) for x in rates.group(1).split(",")] if rates
                 else [(i + 1) / len(counts) for i in range(len(counts))])
        assert len(given) == len(counts) and all(math.isclose(r, c / counts[-1], rel_tol=1e-12)
                                                 for r, c in zip(given, counts)), name
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


def test_trial_specs_are_the_designs_they_name(bench: ModuleType) -> None:
    """``--trial``'s specs give the case that the same numbers give directly (the helpers behind the benchmark's own
    cases), with their replicates; a survival dropout as the probability within a year is condapprove's rate a
    month ``-log(1 - p) / 12``; every bad spec is refused with a message naming what is wrong."""
    got = bench.trial_cases(["binary patients=60,120,180 treated=0.45 control=0.3",
                             "continuous patients=50,100 effect=0.5 sd=2 spending=pocock replicates=2048",
                             "survival patients=300 accrual=18 events=60,120,180 hr=0.75 median=10 dropout=0.05"])
    assert list(got) == ["trial1-binary", "trial2-continuous", "trial3-survival"]
    assert got["trial1-binary"] == bench._two_arm_trial({"type": "binary"}, [60, 120, 180], 0.45, 0.3)
    assert got["trial2-continuous"] == {**bench._two_arm_trial({"type": "continuous", "sd": 2.0}, [50, 100], 0.5, 0.0,
                                                              spending="pocock"), "replicates": 2048}
    survival = got["trial3-survival"]
    assert survival == bench._survival_trial(300, 18.0, [60, 120, 180], 0.75, 10.0,
                                             dropout=(-math.log1p(-0.05) / 12, 0.05))
    assert bench._design(survival).post_marketing.endpoint.dropout_rate_per_month == -math.log1p(-0.05) / 12
    assert "dropoutRate1 = 0.05" in survival["rpact"] and survival["replicates"] == 10_000
    no_dropout = bench.trial_case("survival patients=100 accrual=12 events=20,40 hr=0.7 median=12 dropout=0")
    assert "dropout" not in no_dropout["rpact"] and bench._design(no_dropout).post_marketing.endpoint.dropout_rate_per_month == 0
    bad = {"weibull x=1": "kind must be one of", "binary patients=60,120 treated=0.5": "needs control",
           "binary patients=60,121 treated=0.5 control=0.3": "even", "binary patients=60 treated=0.5 control=0.3": "two looks",
           "continuous patients=75,150 effect=0.3": "each an even number",
           "binary patients=120,60 treated=0.5 control=0.3": "increasing", "binary patients=60,120 treated=1.5 control=0.3":
           "treated must be in", "continuous patients=60,120 effect=x": "effect must be a number",
           "continuous patients=60,120 effect=0.3 spending=haybittle": "spending must be one of",
           "binary patients=60,120 treated=0.5 control=0.3 foo=1": "'foo=1' is not one of",
           "binary patients=60,120 treated=0.5 control=0.3 replicates=2.5": "replicates must be a positive whole",
           "survival patients=100 accrual=12 events=40,120 hr=0.7 median=12": "at least the last number of events",
           "survival patients=100 accrual=12 events=40,80 hr=0.7 median=12 dropout=1": "dropout must be in"}
    for spec, message in bad.items():
        with pytest.raises(ValueError, match=message):
            bench.trial_case(spec)


def test_a_trial_runs_from_the_command_line() -> None:
    """``python benchmarks/run.py --trial ...`` times the design in its own process (which makes the case again from
    the spec) and prints it; a bad spec is a usage error (exit status 2) naming the key."""
    import json
    import subprocess

    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--no-rpact", "--no-floor", "--repeat", "1", "--json"]
    proc = subprocess.run([*cmd, "--trial", "binary patients=40,80 treated=0.5 control=0.3 replicates=4096"],
                          capture_output=True, text=True, check=True)
    (row,) = json.loads(proc.stdout)
    assert row["case"] == "trial1-binary" and row["replicates"] == 4096 and row["rpact_seconds"] is None
    assert 0 <= row["p_confirmed"] <= 1 and row["seconds"] > 0
    bad = subprocess.run([*cmd, "--trial", "binary patients=40,80 treated=0.5"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and "needs control" in bad.stderr
    # beside a case of --case: both are timed, the case first, and the table sums up the trials alone
    # (the floor measured, which the summary reports without rpact)
    both = subprocess.run([*(x for x in cmd if x not in ("--json", "--no-floor")), "--replicates", "2048",
                           "--case", "binary", "--trial", "binary patients=40,80 treated=0.5 control=0.3"],
                          capture_output=True, text=True, check=True)
    lines = both.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:3]] == ["binary", "trial1-binary"]
    assert any(line.startswith("trials, binary (1 designs)") for line in lines)


def test_startup_times_whole_simulate_commands(tmp_path: Path) -> None:
    """``python benchmarks/startup.py --simulate --design FILE`` times whole ``condapprove simulate`` commands of that
    design (without ``validate``'s 0.5 s limit, which is not theirs); a missing design is a usage error (exit
    status 2). No timing is asserted."""
    import json
    import subprocess

    cmd = [sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--simulate", "--rounds", "2", "--json"]
    proc = subprocess.run([*cmd, "--design", str(ROOT / "designs" / "stemirac_group_sequential.yaml")], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    doc = json.loads(proc.stdout)
    assert doc["command"] == "simulate" and doc["designs"] == 1 and doc["rounds"] == 2
    assert doc["this_tree"]["runs"] == 2 and "over_limit" not in doc["this_tree"]
    assert 0 < doc["this_tree"]["min"] <= doc["this_tree"]["median"] <= doc["this_tree"]["max"]
    assert doc["by_design"] == {"stemirac_group_sequential": {"median": doc["this_tree"]["median"]}}
    bad = subprocess.run([*cmd, "--design", str(tmp_path / "none.yaml")], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and "no such file" in bad.stderr


def test_scaling_pairs_each_large_run_with_the_small_runs_around_it() -> None:
    """``benchmarks/scaling.py``'s ratio is the median over the rounds of each 10^6 time over the median of the 10^4
    times around it (the same round's), and its ratio of the medians is what it says (no timing is asserted)."""
    import statistics

    row = _script("scaling").measure("binary", 2, 1)
    assert len(row["runs_1e6"]) == len(row["round_ratios"]) == 2 and len(row["runs_1e4"]) == 4
    for r, big in enumerate(row["runs_1e6"]):
        assert math.isclose(row["round_ratios"][r], big / statistics.median(row["runs_1e4"][2 * r: 2 * r + 2]))
    assert math.isclose(row["ratio"], statistics.median(row["round_ratios"]))
    assert math.isclose(row["ratio_of_medians"], statistics.median(row["runs_1e6"]) / statistics.median(row["runs_1e4"]))


def test_ab_times_a_trial_of_ones_own_and_refuses_a_bad_one(capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks/ab.py --trial``: a design of ``run.py --trial`` builds in each version as in ``run.py``, and a bad
    spec is a usage error (exit status 2) naming the key, before any commit is exported."""
    ab = _script("ab")
    spec = "survival patients=60 accrual=6 events=10,20 hr=0.7 median=12"
    case = ab.run.trial_case(spec)
    import condapprove
    from condapprove.spec import design_from_mapping

    (mod, design), = ab.case_versions(case, (condapprove,))
    assert mod is condapprove and design == design_from_mapping(ab.run.mapping(case))
    with pytest.raises(SystemExit) as exc:
        ab.main(["HEAD", "--trial", "survival patients=60 accrual=6 events=10,20 hr=0.7"])
    assert exc.value.code == 2 and "survival needs median" in capsys.readouterr().err


@pytest.mark.parametrize("new_workers", [False, True])
def test_ab_new_workers_shuts_each_versions_workers_down_before_each_timed_call(
        new_workers: bool, capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks/ab.py --new-workers``: each version's workers are shut down before each of its timed calls (after
    the warm-up), so that every timed call starts a new worker; without it, never.  Asked without ``--jobs`` of 2
    or more, a usage error before any commit is exported."""
    ab = _script("ab")
    events: list[tuple[str, str]] = []

    class Version:
        def __init__(self, name: str) -> None:
            self.name = name

        def simulate(self, design: object, *, replicates: int, seed: int, n_jobs: int = 1) -> None:
            events.append((self.name, f"simulate {replicates} {n_jobs}"))

        def shutdown_workers(self) -> None:
            events.append((self.name, "shutdown"))

    versions = [(Version("before"), None), (Version("after"), None)]
    ab.time_pairs("x", 100, 2, versions, jobs=2, new_workers=new_workers)  # type: ignore[arg-type]
    timed = [(name, "simulate 100 2") for name in ("before", "after", "after", "before")]
    warm = [("before", "simulate 4096 1"), ("after", "simulate 4096 1")]
    assert events == warm + ([e for t in timed for e in ((t[0], "shutdown"), t)] if new_workers else timed)
    with pytest.raises(SystemExit) as exc:
        ab.main(["HEAD", "--new-workers"])
    assert exc.value.code == 2 and "--new-workers needs --jobs 2" in capsys.readouterr().err


def test_ab_cold_empties_every_process_cache_it_names() -> None:
    """``benchmarks/ab.py --cold``: every cache it names exists in the package (so the list follows the engine), and
    after simulations that fill them (a Bayesian two-arm design, a group-sequential one with calendar looks, an exact
    test) they are all empty, and the next run gives the same results."""
    ab = _script("ab")
    import condapprove

    names = [f"condapprove.{m}" for m, _ in ab.COLD_CACHES] + [f"condapprove.{m}" for m in ab.COLD_FUNCTION_MODULES]
    for name in names:
        importlib.import_module(name)
    caches = [getattr(sys.modules[f"condapprove.{m}"], a) for m, a in ab.COLD_CACHES]
    assert all(callable(getattr(c, "clear", None)) and hasattr(c, "__len__") for c in caches)
    designs = [condapprove.load_design(ROOT / f) for f in ("benchmarks/bayesian_two_arm.yaml",
                                                           "designs/delytact_external.yaml", "designs/two_arm_trial.yaml")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the designs' own warnings, about targets the cut-off stops)
        first = [condapprove.simulate(d, replicates=2048, seed=3).to_frame() for d in designs]
        assert sum(map(len, caches)) > 0
        assert ab.empty_caches(condapprove) >= len(caches) and sum(map(len, caches)) == 0
        again = [condapprove.simulate(d, replicates=2048, seed=3).to_frame() for d in designs]
    assert all(a.equals(b) for a, b in zip(first, again))


def test_perf_map_names_the_kernels_a_run_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks/perf_map.py`` writes one line per compiled kernel, ``address size name`` in hex and by address
    (the format ``perf`` reads), naming the survival walk after a survival run; a bad spec is a usage error."""
    script = _script("perf_map")
    import condapprove

    condapprove.simulate(script.run._design(script.run.ALL_CASES["survival"]), replicates=64, seed=1)
    n = script.write_map(tmp_path / "perf.map")
    rows = [line.split() for line in (tmp_path / "perf.map").read_text(encoding="utf-8").splitlines()]
    assert n == len(rows) > 0 and all(len(r) == 3 for r in rows)
    addresses = [int(r[0], 16) for r in rows]
    assert addresses == sorted(addresses) and all(int(r[1], 16) > 0 for r in rows)
    walks = {f"condapprove.kernels._tte_jit.{k}" for k in ("walk_unsure", "walk_by_width")}  # (whole rows, buffers)
    assert walks & {r[2] for r in rows}
    with pytest.raises(SystemExit) as exc:
        script.main(["--trial", "survival patients=60", "--runs", "0"])
    assert exc.value.code == 2 and "survival needs" in capsys.readouterr().err


def test_looks_runs_the_engines_steps_on_a_captured_block(capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks/looks.py`` captures a block's inputs of the engine's two-arm look statistics (whatever else the
    engine passes it) and finds the narrow keys' sums the wide ones' in the rows it does not report."""
    _script("looks").main(["--case", "survival", "--replicates", "512", "--passes", "1"])
    out = capsys.readouterr().out
    assert "survival: 3 looks x 512 rows" in out and "the sums of the others the same" in out


def test_looks_counts_the_rows_the_engine_analyses_again(capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks/looks.py --reported`` counts the look-rows the engine's narrow keys go through (its spy on the
    engine's walk sees every one of them: 3 looks of 64 rows in the survival case, fewer where a row stopped) and
    those reported unsure."""
    import re

    _script("looks").main(["--reported", "64"])
    out = capsys.readouterr().out
    got = re.search(r"^survival: (\d+) of (\d+) look-rows reported$", out, re.MULTILINE)
    assert got is not None and 64 < int(got.group(2)) <= 3 * 64 and int(got.group(1)) <= int(got.group(2))
