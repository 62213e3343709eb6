"""The collector policy is set once, by the CLI's process, and nowhere else.

Each check runs in a fresh interpreter: the policy is process-wide, and this test process must
keep CPython's defaults.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reconciler import collector

REPO = Path(__file__).resolve().parent.parent


def run(code: str) -> dict[str, object]:
    script = f"import gc, json\n{code}\nprint(json.dumps({{'threshold': gc.get_threshold(), 'frozen': gc.get_freeze_count(), 'enabled': gc.isenabled()}}))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    found: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_the_cli_sets_the_policy_once_and_freezes_what_it_imported() -> None:
    state = run(
        "import sys\n"
        "from reconciler import cli\n"
        "sys.argv = ['reconciler', '--version']\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.run()\n"
    )
    assert state["threshold"] == [collector.YOUNG, *collector.OLDER]
    assert isinstance(state["frozen"], int)
    assert state["frozen"] > 10_000  # the modules, classes and functions imported by then
    assert state["enabled"] is True  # collections still run, only less often


def test_a_library_process_keeps_its_own_policy() -> None:
    """Importing and using the package (read, plan) changes nothing of the collector."""
    state = run(
        "import gc\n"
        "before = gc.get_threshold()\n"
        "from reconciler import read_desired, plan\n"
        f"desired = read_desired([__import__('pathlib').Path({str(REPO / 'manifests')!r})], instance='d',\n"
        "    environ={'AWS_ACCESS_KEY_ID': 'a', 'AWS_SECRET_ACCESS_KEY': 's', 'GCS_SERVICE_ACCOUNT_JSON': 'g',\n"
        "             'AZURE_CLIENT_SECRET': 'z'})\n"
        "plan(desired, [], instance='d')\n"
        "assert gc.get_threshold() == before\n"
    )
    assert state["frozen"] == 0
    assert state["enabled"] is True
