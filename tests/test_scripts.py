"""scripts/venv.sh: demo.sh and test.sh install into a virtual environment, never the system Python."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WHICH_PYTHON = "set -euo pipefail; . scripts/venv.sh; command -v python; python -m pip config list"


def _source(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Source a copy of scripts/venv.sh in ``folder`` (as demo.sh and test.sh do after their cd)."""
    (folder / "scripts").mkdir(exist_ok=True)
    shutil.copy(ROOT / "scripts" / "venv.sh", folder / "scripts" / "venv.sh")
    base = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    return subprocess.run(["bash", "-c", WHICH_PYTHON], cwd=folder, env={**base, **env},
                          capture_output=True, text=True, timeout=300)


def test_both_scripts_source_it() -> None:
    for script in ("demo.sh", "test.sh"):
        lines = (ROOT / "scripts" / script).read_text(encoding="utf-8").splitlines()
        assert lines.index(". scripts/venv.sh") < next(i for i, l in enumerate(lines) if "pip install" in l)


@pytest.mark.slow
def test_creates_and_uses_the_project_venv(tmp_path: Path) -> None:
    outside = subprocess.run(["python3", "-m", "pip", "config", "list"], capture_output=True, text=True)
    first = _source(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "creating the project virtual environment .venv" in first.stderr
    assert first.stdout.splitlines()[0] == str(tmp_path / ".venv" / "bin" / "python")
    # The machine's pip configuration (index, constraints) holds inside the venv too.
    assert first.stdout.splitlines()[1:] == outside.stdout.splitlines()
    again = _source(tmp_path)
    assert again.returncode == 0 and "creating" not in again.stderr
    assert again.stdout.splitlines()[0] == str(tmp_path / ".venv" / "bin" / "python")


def test_an_active_venv_is_used_as_it_is(tmp_path: Path) -> None:
    active = tmp_path / "mine"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(active)], check=True, timeout=120)
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; . {ROOT / 'scripts' / 'venv.sh'}; command -v python"], cwd=tmp_path,
        env={**os.environ, "VIRTUAL_ENV": str(active), "PATH": f"{active / 'bin'}:{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"using the active virtual environment {active}" in result.stderr
    assert result.stdout == f"{active / 'bin' / 'python'}\n"
    assert not (tmp_path / ".venv").exists()
