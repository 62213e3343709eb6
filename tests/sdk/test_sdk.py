"""The unmodified Atlan SDK (pyatlan 10.0.0, in .venv-sdk) works against the served emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Clock, EmulatorConfig, EmulatorServer
from tests.helpers import CANARY, REPO

SDK_PYTHON = REPO / ".venv-sdk" / "bin" / "python"
SCENARIO = Path(__file__).resolve().parent / "sdk_scenario.py"
KEY = "sdk-test-key"


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not SDK_PYTHON.exists():
        pytest.fail(f"{SDK_PYTHON} is missing: run `make setup-sdk` to install pyatlan 10.0.0 in .venv-sdk")
    config = EmulatorConfig(
        api_key=KEY,
        db_path=tmp_path_factory.mktemp("sdk") / "emulator.db",
        run_seconds=30,
        pending_seconds=1,
        clock=Clock(start=1_800_000_000, frozen=True),
        run_imports=False,  # about the workflow API: its workflows name files no store holds
    )
    with EmulatorServer(config) as server:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "EMULATOR_URL": server.base_url,
            "EMULATOR_KEY": KEY,
            "CANARY_SECRET": CANARY,
        }
        result = subprocess.run(
            [str(SDK_PYTHON), str(SCENARIO)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
        assert result.returncode == 0, result.stderr[-3000:]
        yield {
            "out": json.loads(result.stdout.strip().splitlines()[-1]),
            "stderr": result.stderr,
            "server": server,
        }


@pytest.mark.sdk
def test_wrong_key_is_refused(observed: dict[str, Any]) -> None:
    assert observed["out"]["wrong_key"] == "AuthenticationError"


@pytest.mark.sdk
def test_run_creates_and_schedules(observed: dict[str, Any]) -> None:
    out = observed["out"]
    assert out["run_name"] == "csa-asset-import-1700000001"
    assert out["lineage_annotations"] == {"orchestration.atlan.com/schedule": "0 1 * * *"}
    assert out["lineage_schedule"] == "0 1 * * *"
    assert out["cloud_source"] != "{{credentialGuid}}"
    assert len(out["cloud_source"]) == 36


@pytest.mark.sdk
def test_finds(observed: dict[str, Any]) -> None:
    out = observed["out"]
    assert out["find_by_type"] == ["csa-asset-import-1700000001"]
    assert out["find_by_id"] == "csa-asset-import-1700000001"
    assert out["find_by_id_missing"] is None


@pytest.mark.sdk
def test_run_lifecycle_and_monitor(observed: dict[str, Any]) -> None:
    out = observed["out"]
    assert out["pending_count"] == 1
    assert out["first_run"].startswith("csa-asset-import-1700000001-")
    assert len(out["first_run"]) == len("csa-asset-import-1700000001-") + 5
    assert out["running_count"] == 1
    assert out["find_run_by_id"] == "Running"
    assert out["monitor"] == "Succeeded"
    assert out["slept"] >= 10  # the idempotency sleep and at least one monitor sleep advanced the clock


@pytest.mark.sdk
def test_rerun_with_and_without_idempotent(observed: dict[str, Any]) -> None:
    out = observed["out"]
    assert out["idempotent_running_name"] == out["first_run"]
    assert out["idempotent_running_submits"] == 0
    assert out["rerun_name"] != out["first_run"]
    assert out["rerun_phase"] in ("Pending", "Running")
    assert out["rerun_template"] == "csa-asset-import-1700000001"
    assert out["rerun_idempotent_finished_new"] is True
    assert out["rerun_missing"] == "InvalidRequestError"


@pytest.mark.sdk
def test_stop(observed: dict[str, Any]) -> None:
    out = observed["out"]
    assert out["stop_phase"] in ("Pending", "Running")
    assert out["stop_template"] == "csa-asset-import-1700000001"
    assert out["stopped_later"] == "Failed"


@pytest.mark.sdk
def test_find_runs_by_status_and_time_range(observed: dict[str, Any]) -> None:
    out = observed["out"]
    # first run and the plain rerun succeeded, the stopped one failed; the lineage run also succeeded
    assert out["runs_by_status"] == ["Failed", "Succeeded", "Succeeded", "Succeeded"]
    assert out["runs_by_status_recent"] == 0


@pytest.mark.sdk
def test_update(observed: dict[str, Any]) -> None:
    out = observed["out"]
    assert out["update_rv_increased"] is True
    assert out["update_cloud_source_kept"] == out["cloud_source"]
    assert out["stale_update"] == "ConflictError"


@pytest.mark.sdk
def test_schedules(observed: dict[str, Any]) -> None:
    out = observed["out"]
    assert out["add_schedule"] == "5 4 * * *"
    assert out["all_schedules"] == ["csa-asset-import-1700000001-cron", "csa-lineage-builder-1700000002-cron"]
    assert out["remove_schedule"] == [False, "UTC"]


@pytest.mark.sdk
def test_owner_and_delete(observed: dict[str, Any]) -> None:
    out = observed["out"]
    assert out["update_owner"] == "csa-asset-import-1700000001"
    assert out["deleted_find"] is None
    assert out["recreate_after_delete"] == "csa-asset-import-1700000001"
    assert out["duplicate_run"] == "ConflictError"


@pytest.mark.sdk
def test_endpoint_families_by_role(observed: dict[str, Any]) -> None:
    counts = observed["out"]["counts"]
    assert counts["POST package-workflows?submit=true"] == 1
    assert counts["POST package-workflows/submit"] == 1
    assert counts["POST package-workflows/{name}/archive"] == 1
    assert counts["POST workflows?submit=true"] == 4
    assert counts["GET whoami"] == 2


@pytest.mark.sdk
def test_no_secret_reaches_the_log(observed: dict[str, Any]) -> None:
    server = observed["server"]
    records = json.dumps(server.app.emulator.log.records())
    assert "SDK-SECRET-KEY" not in records
    assert KEY not in records
    assert CANARY not in observed["stderr"]
