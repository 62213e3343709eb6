"""The unmodified Atlan SDK (pyatlan 10.0.0, in .venv-sdk) uploads to and downloads from the
served emulator's tenant store: its provider check takes the S3 path for the emulator's URLs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorServer
from tests.emulator.conftest import KEY, make_config
from tests.helpers import REPO

SDK_PYTHON = REPO / ".venv-sdk" / "bin" / "python"
SCENARIO = Path(__file__).resolve().parent / "sdk_files.py"


@pytest.mark.sdk
def test_pyatlan_uploads_and_downloads_through_presigned_urls(db: Path, tmp_path: Path) -> None:
    if not SDK_PYTHON.exists():
        pytest.fail(f"{SDK_PYTHON} is missing: run `make setup-sdk` to install pyatlan 10.0.0 in .venv-sdk")
    with EmulatorServer(make_config(db)) as server:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
        env.update(EMULATOR_URL=server.base_url, EMULATOR_KEY=KEY, WORK_DIR=str(tmp_path))
        sdk = [str(SDK_PYTHON), str(SCENARIO)]
        result = subprocess.run(sdk, capture_output=True, text=True, env=env, timeout=120, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        stored = server.app.emulator.objects.head("tenant", "sdk/prefix/assets.csv")
        statuses = server.app.emulator.log.counts()["by_endpoint_status"]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"round_trip": True}
    assert stored is not None
    assert stored.size == (tmp_path / "assets.csv").stat().st_size
    assert statuses["PUT objects/{key}"] == {"200": 1}
    assert statuses["GET objects/{key}"] == {"200": 1}
    assert "X-Amz-Signature" not in result.stdout + result.stderr
