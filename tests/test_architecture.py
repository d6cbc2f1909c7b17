"""The package's import contracts (pyproject.toml [tool.importlinter]) hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


def test_import_contracts_kept() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.fail("lint-imports (import-linter, a test dependency) is not installed")
    proc = subprocess.run([exe, "--no-cache"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_every_module_declares_all() -> None:
    missing = []
    for path in (ROOT / "src" / "condapprove").rglob("*.py"):
        if path.name == "__main__.py":
            continue
        if "__all__" not in path.read_text():
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []
