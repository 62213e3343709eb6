"""Workflows made with the SDK's builders come under management with export -> plan -> apply."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.emulator import EmulatorConfig, EmulatorServer
from tests.helpers import CANARY, REPO

SDK_PYTHON = REPO / ".venv-sdk" / "bin" / "python"
BUILDERS = Path(__file__).resolve().parent / "sdk_builders.py"
KEY = "sdk-export-test-key"


@pytest.mark.sdk
def test_export_then_plan_shows_only_adoptions_for_workflows_made_with_the_sdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not SDK_PYTHON.exists():
        pytest.fail(f"{SDK_PYTHON} is missing: run `make setup-sdk` to install pyatlan 10.0.0 in .venv-sdk")
    with EmulatorServer(EmulatorConfig(api_key=KEY, db_path=tmp_path / "emulator.db")) as server:
        env = {"PATH": os.environ.get("PATH", ""), "EMULATOR_URL": server.base_url, "EMULATOR_KEY": KEY}
        made = subprocess.run(
            [str(SDK_PYTHON), str(BUILDERS)],
            capture_output=True,
            text=True,
            env={**env, "SDK_SECRET": CANARY},
            timeout=120,
            check=False,
        )
        assert made.returncode == 0, made.stderr[-3000:]
        names = json.loads(made.stdout.strip().splitlines()[-1])
        assert len(set(names)) == 3
        before = {e.name: e.rv for e in server.app.emulator.store.templates()}
        runs_before = len(server.app.emulator.store.runs())

        monkeypatch.setenv("ATLAN_BASE_URL", server.base_url)
        monkeypatch.setenv("ATLAN_API_KEY", KEY)
        exported = tmp_path / "exported"
        assert cli.main(["export", "--all", "-o", str(exported)]) == 0
        assert sorted(p.stem for p in exported.iterdir()) == sorted(names)
        for name in names:
            for field in ("SERVICE_ACCOUNT_JSON", "CLIENT_SECRET"):
                monkeypatch.setenv(f"{name.upper().replace('-', '_')}_{field}", CANARY)

        capsys.readouterr()
        assert cli.main(["plan", "-o", "json", str(exported)]) == 0
        plan = json.loads(capsys.readouterr().out)
        assert {w["workflow"]: w["actions"] for w in plan["workflows"]} == {name: ["adopt"] for name in names}
        assert all(w["changes"] == [] for w in plan["workflows"])

        assert cli.main(["apply", "--auto-approve", str(exported)]) == 0
        capsys.readouterr()
        assert cli.main(["plan", "--detailed-exitcode", str(exported)]) == 0
        assert "No changes." in capsys.readouterr().out
        # Adoption changed labels and bookkeeping only: same parameters, no new run.
        after = {e.name: e for e in server.app.emulator.store.templates()}
        assert all(after[name].rv > before[name] for name in names)
        assert len(server.app.emulator.store.runs()) == runs_before
        assert not any(CANARY in path.read_text() for path in exported.iterdir())
