"""Issue 17 end to end with the unmodified SDK: pyatlan 10.0.0 uploads the files, runs an asset
import and a lineage builder built with its own builders against ``emulator serve``, reads the
runs' results where its run APIs read them, and finds, counts and pages what they imported."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from reconciler.emulator import EmulatorServer
from tests.emulator.conftest import KEY, make_config
from tests.helpers import REPO

SDK_PYTHON = REPO / ".venv-sdk" / "bin" / "python"
SCRIPT = REPO / "tests" / "sdk" / "sdk_imported.py"
TERMS = 130


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not SDK_PYTHON.exists():
        pytest.fail(f"{SDK_PYTHON} is missing: run `make setup-sdk` to install pyatlan 10.0.0 in .venv-sdk")
    work = tmp_path_factory.mktemp("imported")
    with EmulatorServer(make_config(work / "state" / "emulator.db")) as server:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
        env.update(EMULATOR_URL=server.base_url, EMULATOR_KEY=KEY, WORK_DIR=str(work))
        result = subprocess.run(
            [str(SDK_PYTHON), str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300, check=False
        )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def _counts(results: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    assert results is not None
    names = ("created", "updated", "restored", "skipped", "failed")
    return {f["section"]: {n: f.get(n, 0) for n in names if f.get(n)} for f in results["files"]}


@pytest.mark.sdk
def test_the_runs_results_are_where_the_sdk_reads_a_run(observed: dict[str, Any]) -> None:
    assert _counts(observed["import_results"]) == {
        "assets": {"created": 4},
        "glossaries": {"created": TERMS + 1},
    }
    assert observed["import_results"]["errors"] == []
    # Two rows through one process: the process and the view they target are created (the view
    # partial, the builder's default); the two source tables, already there, are restored.
    assert _counts(observed["lineage_results"]) == {"lineage": {"created": 2, "restored": 2}}


@pytest.mark.sdk
def test_the_sdk_finds_the_imported_glossary_and_terms(observed: dict[str, Any]) -> None:
    assert observed["glossary"] == "Business Terms"
    assert observed["term"] == ["Term 042", "Term number 42"]
    assert observed["term_by_name"] == "Term 007"


@pytest.mark.sdk
def test_the_sdk_counts_and_pages_the_imported_terms(observed: dict[str, Any]) -> None:
    assert observed["term_count"] == TERMS
    assert observed["paged"] == [f"Term {n:03d}" for n in range(TERMS)]


@pytest.mark.sdk
def test_the_sdk_reads_imported_assets_and_processes(observed: dict[str, Any]) -> None:
    assert observed["connection"].startswith("default/snowflake/")
    assert observed["connections_by_name"] == [observed["connection"]]
    assert observed["orders"] == "ORDERS"
    assert observed["tables"] == 2
    assert observed["processes"] == [["ORDERS > DAILY", ["CUSTOMERS", "ORDERS"], 1]]
