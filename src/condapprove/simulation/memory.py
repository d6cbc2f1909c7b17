"""How much memory a design simulated patient by patient needs, and whether this machine has it.

A design simulated from sufficient statistics (:func:`.sufficient.eligible`) holds a few numbers a replicate,
whatever its patients.  One simulated patient by patient holds, while a block of :data:`.summary.BLOCK_SIZE`
replicates is simulated, a few arrays of (replicates, patients) numbers: the block is the unit of its random
streams, drawn patient-major so that designs differing in a sample size see the same patients (see
:class:`.population.Streams`), so it cannot be cut into smaller pieces without changing the numbers.  A process
simulates its blocks one after another, so its peak memory grows with the patients, not with the replicates.

``python benchmarks/memory.py`` measures it: one block of each shipped patient-level design and of the benchmark's
survival case, with every patient count multiplied by 4 and by 16, in fresh processes. The peak resident memory grew
by 41.7-57.2 bytes per simulated patient (every arm's, :func:`.population.arms_of`) and replicate, the designs with
confounders at the top; 172-184 MiB (the intercepts) is the interpreter, numpy, numba and the loaded kernels
(docs/performance.md, "Memory and the number of patients").

Examples
--------
>>> import condapprove
>>> from condapprove.simulation.memory import block_bytes
>>> block_bytes(condapprove.load_design("designs/heartsheet_registry.yaml")) // 2**20  # MiB, 260 patients
29
>>> block_bytes(condapprove.load_design("designs/two_arm_trial.yaml")) is None  # sufficient statistics
True
"""

from __future__ import annotations

import functools
import os

from ..errors import CondapproveError
from ..spec.schema import Design
from . import sufficient
from .population import arms_of
from .summary import BLOCK_SIZE

__all__ = ["BYTES_PER_CELL", "BYTES_PER_CELL_AT_LEAST", "WARN_BYTES", "block_bytes", "check_fits", "machine_memory",
           "memory_warning"]

#: Bytes a process holds per simulated patient and replicate of a block: the largest measured (57.2, a design with
#: confounders), so :func:`block_bytes` is what a design needs at most.
BYTES_PER_CELL = 57.2
#: The smallest measured (41.7): a design whose block needs more than this much beside the processes' other memory
#: cannot run here (:func:`check_fits`).
BYTES_PER_CELL_AT_LEAST = 41.7
#: A design whose block needs more than this a process is said so (:func:`memory_warning`).
WARN_BYTES = 1 << 30


def _patients(design: Design) -> int | None:
    """The patients of one replicate of ``design`` simulated patient by patient (every arm's columns); None from
    sufficient statistics."""
    return None if sufficient.eligible(design) else sum(arm.n for arm in arms_of(design))


def block_bytes(design: Design) -> int | None:
    """Bytes a process needs, at most, to simulate one block of ``design`` patient by patient, beside what it holds
    already (about 180 MiB: the interpreter, numpy, numba and the loaded kernels); None for a design simulated from
    sufficient statistics, which needs a few numbers a replicate."""
    patients = _patients(design)
    return None if patients is None else int(BLOCK_SIZE * patients * BYTES_PER_CELL)


def memory_warning(design: Design) -> str | None:
    """The warning for a design whose block needs more than :data:`WARN_BYTES` a process, else None."""
    need = block_bytes(design)
    if need is None or need <= WARN_BYTES:
        return None
    return (f"{_patients(design):,} patients simulated patient by patient need up to {need / 2**30:.1f} GiB of "
            f"memory in each simulating process (blocks of {BLOCK_SIZE:,} replicates, about "
            f"{BLOCK_SIZE * BYTES_PER_CELL / 1024:.0f} KiB a patient; --jobs N: N processes), whatever the number of "
            f"replicates")


@functools.cache
def machine_memory() -> int | None:
    """Bytes of memory this process may use: the machine's physical memory, or the limit of its control group
    (Linux, version 2 or 1) when smaller; None where neither is known (Windows).  Read once per process (a few
    files: 21 us here, which every patient-level run paid; docs/performance.md, item 125)."""
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            sizes.append(int(text))
    sizes = [s for s in sizes if s > 0]
    return min(sizes) if sizes else None


def check_fits(design: Design, processes: int) -> None:
    """Raise :class:`~condapprove.errors.CondapproveError` when ``processes`` processes simulating blocks of
    ``design`` at once need more memory than this machine has (:func:`machine_memory`) even at the smallest measured
    need (:data:`BYTES_PER_CELL_AT_LEAST`), which the system would end by killing a process, with no message;
    nothing where the memory is not known or the design is simulated from sufficient statistics."""
    patients = _patients(design)
    if patients is None:  # (before reading the machine's memory: a few files, once per process)
        return
    have = machine_memory()
    if have is None:
        return
    need = processes * BLOCK_SIZE * patients * BYTES_PER_CELL_AT_LEAST
    if need > have:
        who = "a process" if processes == 1 else f"{processes} processes"
        raise CondapproveError(
            f"not enough memory: {patients:,} patients simulated patient by patient in blocks of {BLOCK_SIZE:,} "
            f"replicates need at least {need / 2**30:.1f} GiB for {who}, and this machine has {have / 2**30:.1f} GiB; "
            "use fewer processes (--jobs) or fewer patients")
