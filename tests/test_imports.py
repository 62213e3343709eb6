"""The layers hold at run time: deciding, rendering and loading manifests load no network code.

Each check runs in a fresh interpreter, since this test process has imported everything already.
The import-linter contracts in pyproject.toml hold the same by static analysis.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NETWORK = ("httpx", "anyio", "httpcore", "starlette", "uvicorn", "obstore", "google")


def loaded_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    [
        "reconciler",
        "reconciler.plan.planner",
        "reconciler.plan.planfile",
        "reconciler.render.plan",
        "reconciler.render.drift",
        "reconciler.render.results",
        "reconciler.manifest.loader",
        "reconciler.drift",
        "reconciler.apply",
        "reconciler.live",
        "reconciler.cli",
    ],
)
def test_pure_modules_load_no_network_library(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert not {name for name in loaded if name.split(".")[0] in NETWORK}, module


def test_help_and_version_load_no_network_library_nor_the_engine() -> None:
    loaded = loaded_after(
        "from reconciler import cli\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert cli.main(['--help']) == 0\n"
        "    assert cli.main(['--version']) == 0\n"
        "    assert cli.main(['plan', '--help']) == 0\n"
    )
    assert not {name for name in loaded if name.split(".")[0] in NETWORK}
    assert not {"rich.table", "rich.progress", "rich.live"} & loaded  # tens of ms each run
    assert (
        not {"reconciler.engine", "reconciler.desired", "reconciler.plan.planner", "reconciler.settings"}
        & loaded
    )
