"""Checkpoints of long simulations: completed chunks saved as they finish, resumed on rerun.

A checkpoint is a folder: ``header.json`` (what the run is: the resolved design's hash, the
seed's entropy, the replicates, block and chunk sizes, the package version) and one
``chunk-<scenario key>-<first block>-<last block>.npz`` per completed chunk.  Every file is
written atomically (temporary file in the folder, fsync, rename), so an interruption at any
point (Ctrl-C, kill, a crashed worker) leaves only whole files; rerunning the same command
loads the finished chunks and computes the rest.  Because each chunk's random numbers
depend only on the seed and its blocks, the resumed result is bit-identical to an
uninterrupted run.  A checkpoint from another design, seed or size is refused.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._io import write_atomic
from ..errors import DesignError

__all__ = ["Checkpoint"]


class Checkpoint:
    """A checkpoint folder bound to one run (see the module docstring).

    Parameters
    ----------
    path : path-like
        The folder (created if missing).
    header : dict
        What identifies the run; an existing folder must hold the same header.
    """

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any]) -> None:
        self.path = Path(path)
        self.header = header
        if self.path.exists() and not self.path.is_dir():
            raise DesignError("must be a folder for the checkpoint; a file of that name exists",
                              loc="--checkpoint", file=str(self.path))
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # (before any simulating: the folder is made as the run starts)
            raise DesignError(f"cannot make the folder: {exc.strerror}", loc="--checkpoint",
                              file=str(self.path)) from None
        head = self.path / "header.json"
        if head.exists():
            try:
                old = json.loads(head.read_text())
            except (OSError, ValueError):
                old = None
            if not isinstance(old, dict):
                raise DesignError("the checkpoint's header.json cannot be read; delete the folder to start again",
                                  loc="--checkpoint", file=str(self.path))
            diff = [k for k in header if old.get(k) != header[k]]
            if diff:
                raise DesignError(
                    f"the checkpoint belongs to another run (it differs in {', '.join(diff)}); use another folder "
                    "or delete this one", loc="--checkpoint", file=str(self.path))
        elif any(self.path.glob("chunk-*.npz")):  # chunks of a run that cannot be identified: not this one's
            raise DesignError("the checkpoint has chunks but no header.json, so which run they belong to is unknown; "
                              "use another folder or delete this one", loc="--checkpoint", file=str(self.path))
        else:
            write_atomic(head, json.dumps(header, indent=2, sort_keys=True) + "\n")
        self.loaded = 0

    def _file(self, scenario_key: int, blocks: list[int]) -> Path:
        return self.path / f"chunk-{scenario_key}-{blocks[0]}-{blocks[-1]}.npz"

    def load(self, scenario_key: int, blocks: list[int], fields: dict[str, np.dtype[Any]],
             rows: int) -> dict[str, np.ndarray] | None:
        """The saved arrays of a chunk, or None if it has not been completed.

        The file must hold one array of ``rows`` values of each of ``fields`` (name -> type): a file that cannot
        be read as such (damaged after it was written, or not written by condapprove) is refused, naming it, with
        a :class:`~condapprove.errors.DesignError`, rather than loaded into the results.
        """
        f = self._file(scenario_key, blocks)
        if not f.exists():
            return None
        try:
            with np.load(f, allow_pickle=False) as data:
                out = {k: data[k] for k in fields}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise self._damaged(f, f"{type(exc).__name__}: {exc}") from None
        for k, dtype in fields.items():
            a = out[k]
            if a.shape != (rows,) or a.dtype != dtype:
                raise self._damaged(f, f"{k} holds {a.dtype}{list(a.shape)} where {dtype}[{rows}] was saved")
        self.loaded += 1
        return out

    def _damaged(self, f: Path, reason: str) -> DesignError:
        return DesignError(f"the chunk file {f.name} cannot be read ({reason}); delete it, and the same command "
                           "computes that chunk again", loc="--checkpoint", file=str(self.path))

    def save(self, scenario_key: int, blocks: list[int], arrays: dict[str, np.ndarray]) -> None:
        """Save a completed chunk atomically."""
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        write_atomic(self._file(scenario_key, blocks), buf.getvalue())

    def completed(self) -> int:
        """How many chunk files the folder holds."""
        return sum(1 for _ in self.path.glob("chunk-*.npz"))
