"""The memory a design simulated patient by patient needs (condapprove.simulation.memory): the estimate, the warning,
and the refusal before a run this machine cannot hold."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import condapprove
from condapprove import explore
from condapprove.cli import cli
from condapprove.errors import CondapproveError
from condapprove.simulation import memory
from condapprove.simulation.engine import design_warnings
from condapprove.simulation.population import arms_of
from condapprove.simulation.summary import BLOCK_SIZE

from .conftest import DESIGNS

REGISTRY = DESIGNS / "heartsheet_registry.yaml"  # patient by patient (a registry control), 260 patients
SUFFICIENT = DESIGNS / "two_arm_trial.yaml"


def _patients(design: condapprove.Design) -> int:
    return sum(arm.n for arm in arms_of(design))


def _with_treated(n: int) -> condapprove.Design:
    """The registry design with ``n`` treated patients (its registry controls as they are)."""
    return explore.set_path(condapprove.load_design(REGISTRY), "post_marketing.treated.target_n", n)


def test_a_block_needs_bytes_per_patient_and_replicate_and_nothing_from_sufficient_statistics() -> None:
    design = condapprove.load_design(REGISTRY)
    assert memory.block_bytes(design) == int(BLOCK_SIZE * _patients(design) * memory.BYTES_PER_CELL)
    big = _with_treated(10_000)
    assert memory.block_bytes(big) == int(BLOCK_SIZE * _patients(big) * memory.BYTES_PER_CELL)
    assert memory.block_bytes(condapprove.load_design(SUFFICIENT)) is None
    assert memory.BYTES_PER_CELL_AT_LEAST < memory.BYTES_PER_CELL


def test_no_shipped_design_is_warned_about_its_memory() -> None:
    for path in sorted(DESIGNS.glob("*.yaml")):
        assert memory.memory_warning(condapprove.load_design(path)) is None, path


def test_a_design_whose_block_needs_more_than_a_gib_is_warned_about_with_the_estimate() -> None:
    controls = _patients(_with_treated(1_000)) - 1_000  # (the registry's, whatever the treated arm)
    first = memory.WARN_BYTES // int(BLOCK_SIZE * memory.BYTES_PER_CELL) + 1  # patients in all, the first warned
    below, above = _with_treated(first - 1 - controls), _with_treated(first - controls)
    assert memory.block_bytes(below) <= memory.WARN_BYTES < memory.block_bytes(above)  # type: ignore[operator]
    assert memory.memory_warning(below) is None
    text = memory.memory_warning(above)
    assert text is not None
    assert text.startswith(f"{first:,} patients simulated patient by patient need up to 1.0 GiB of memory in each "
                           "simulating process")
    assert "whatever the number of replicates" in text
    assert text in design_warnings(above)


def test_machine_memory_is_a_positive_number_of_bytes_where_known() -> None:
    have = memory.machine_memory()
    assert have is None or have > 0


def test_a_run_that_cannot_fit_is_refused_before_anything_is_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    design = _with_treated(20_000)
    need_one = BLOCK_SIZE * _patients(design) * memory.BYTES_PER_CELL_AT_LEAST
    monkeypatch.setattr(memory, "machine_memory", lambda: int(1.5 * need_one))  # room for one process, not two
    memory.check_fits(design, 1)
    with pytest.raises(CondapproveError, match=r"^not enough memory: 20,\d{3} patients simulated patient by patient "
                                               r"in blocks of 2,048 replicates need at least \d+\.\d GiB for 2 "
                                               r"processes, and this machine has \d+\.\d GiB; use fewer processes"):
        memory.check_fits(design, 2)
    simulated = []
    monkeypatch.setattr("condapprove.simulation.engine._run_chunk", lambda *a: simulated.append(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CondapproveError, match="not enough memory"):
            condapprove.simulate(design, replicates=BLOCK_SIZE, seed=1, n_jobs=2)
    assert simulated == []
    monkeypatch.setattr(memory, "machine_memory", lambda: pytest.fail("read for a design that needs no check"))
    memory.check_fits(condapprove.load_design(SUFFICIENT), 64)  # sufficient statistics: nothing to check, or read
    monkeypatch.setattr(memory, "machine_memory", lambda: None)
    memory.check_fits(design, 2)  # unknown memory: nothing said


def test_the_command_says_so_in_one_line_and_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(memory, "machine_memory", lambda: 1 << 20)  # 1 MiB
    out = tmp_path / "out.json"
    result = CliRunner().invoke(cli, ["simulate", str(REGISTRY), "-n", "2048", "-q", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: not enough memory: 260 patients") and result.stderr.count("\n") == 1
    assert not out.exists()
