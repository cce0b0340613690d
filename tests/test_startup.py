"""Start-up: ``rater --help`` and ``rater list`` load no numerical or web stack.

pandas, scipy, numpy, streamlit and the ranking package take seconds to import; the commands
that do not need them must not load them (the timings are in ``benchmarks/rater_load.py``).
Each check runs in a fresh interpreter and reads its ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from app_support import ROOT, make_board

HEAVY = ("pandas", "scipy", "numpy", "streamlit", "ranking", "PIL")

_PROBE = """
import json, sys
from rater.cli import cli
try:
    cli(sys.argv[1:], prog_name="rater")
except SystemExit:
    pass
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps(heavy), file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[list[str], str]:
    """The heavy modules loaded by ``rater ARGS`` in a fresh interpreter, and its stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


def test_importing_the_cli_loads_no_heavy_module() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = f"import sys, rater.cli; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout
    assert out.strip() == "[]"


def test_help_and_list_load_no_heavy_module(client, png) -> None:
    lb = make_board(client, png, models=2, prompts=1)
    heavy, out = loaded_by("--help")
    assert heavy == [] and "Local human-preference leaderboards" in out
    heavy, out = loaded_by("--db", str(client.db_path), "list")
    assert heavy == [] and lb.id in out and "2 models" in out
    heavy, out = loaded_by("serve", "--help")
    assert heavy == [] and "--workers" in out


def test_commands_still_load_what_they_need(client, png) -> None:
    lb = make_board(client, png, models=2, prompts=1)
    heavy, out = loaded_by("--db", str(client.db_path), "standings", lb.id, "--format", "csv")
    assert {"pandas", "ranking"} <= set(heavy) and "model-0" in out


def test_simulate_choices_match_the_experiments() -> None:
    from rater.cli.simulate import EXPERIMENTS
    from rater.simulate.campaign import EXPERIMENTS as RUN

    assert EXPERIMENTS == RUN
    result = CliRunner().invoke(__import__("rater.cli").cli.cli, ["simulate", "--experiment", "nope"])
    assert result.exit_code == 2 and "'order'" in result.output
