"""Workflows made with the SDK's builders come under management with export -> plan -> apply."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import cli
from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.packages.spec import parameter_values
from tests.helpers import CANARY, REPO

SDK_PYTHON = REPO / ".venv-sdk" / "bin" / "python"
BUILDERS = Path(__file__).resolve().parent / "sdk_builders.py"
KEY = "sdk-export-test-key"


@dataclass
class Session:
    """A served emulator, and what a test drives the CLI against it with."""

    server: EmulatorServer
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]


@pytest.fixture
def session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Session]:
    with EmulatorServer(EmulatorConfig(api_key=KEY, db_path=tmp_path / "emulator.db")) as server:
        yield Session(server, tmp_path, monkeypatch, capsys)


def made_with_the_sdk(server: EmulatorServer) -> list[str]:
    """The names of the three workflows sdk_builders.py creates (the asset import first)."""
    if not SDK_PYTHON.exists():
        pytest.fail(f"{SDK_PYTHON} is missing: run `make setup-sdk` to install pyatlan 10.0.0 in .venv-sdk")
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
    names: list[str] = json.loads(made.stdout.strip().splitlines()[-1])
    assert len(set(names)) == 3
    return names


def export_and_plan(session: Session, names: list[str]) -> Path:
    """Export every workflow and check that the plan of the manifests is the adoptions alone."""
    server, monkeypatch, capsys = session.server, session.monkeypatch, session.capsys
    monkeypatch.setenv("ATLAN_BASE_URL", server.base_url)
    monkeypatch.setenv("ATLAN_API_KEY", KEY)
    exported = session.tmp_path / "exported"
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
    return exported


@pytest.mark.sdk
def test_export_then_plan_shows_only_adoptions_for_workflows_made_with_the_sdk(session: Session) -> None:
    server, capsys = session.server, session.capsys
    names = made_with_the_sdk(server)
    before = {e.name: e.rv for e in server.app.emulator.store.templates()}
    runs_before = len(server.app.emulator.store.runs())
    exported = export_and_plan(session, names)

    assert cli.main(["apply", "--auto-approve", str(exported)]) == 0
    capsys.readouterr()
    assert cli.main(["plan", "--detailed-exitcode", str(exported)]) == 0
    assert "No changes." in capsys.readouterr().out
    # Adoption changed labels and bookkeeping only: same parameters, no new run.
    after = {e.name: e for e in server.app.emulator.store.templates()}
    assert all(after[name].rv > before[name] for name in names)
    assert len(server.app.emulator.store.runs()) == runs_before
    assert not any(CANARY in path.read_text() for path in exported.iterdir())


# What issue 18 set in Atlan's UI on a workflow made with the SDK: full replacement, tag handling
# (an advanced option) and a tags file. Export used to leave these five out: `adopt, update`.
SET_IN_THE_UI = {
    "assets_delta_semantic": "full",
    "assets_tag_handling": "append",
    "tags_prefix": "/in",
    "tags_key": "tags.csv",
    "tags_config": "default",
}


def edit_in_the_ui(server: EmulatorServer, name: str, added: dict[str, Any]) -> dict[str, Any]:
    """Add parameters to a workflow through the API, as Atlan's UI saves a workflow (no payload)."""
    [entry] = [e for e in server.app.emulator.store.templates() if e.name == name]
    source = copy.deepcopy(entry.source)
    parameters = source["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    parameters += [{"name": key, "value": value} for key, value in added.items()]
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url + "/api/service/", headers=headers, timeout=10) as api:
        response = api.post(
            f"workflows/{name}", json={"metadata": source["metadata"], "spec": source["spec"]}
        )
    assert response.status_code == 200, response.text
    return parameter_values(source["spec"])


@pytest.mark.sdk
def test_options_set_in_the_ui_survive_export_and_adoption(session: Session) -> None:
    server, capsys = session.server, session.capsys
    names = made_with_the_sdk(server)
    wanted = edit_in_the_ui(server, names[0], SET_IN_THE_UI)
    exported = export_and_plan(session, names)
    text = (exported / f"{names[0]}.yaml").read_text()
    assert "without changing it" in text
    assert "    delta:\n      semantic: full\n" in text
    assert "  tags:\n    prefix: /in\n    object_key: tags.csv\n" in text

    assert cli.main(["apply", "--auto-approve", str(exported)]) == 0
    [entry] = [e for e in server.app.emulator.store.templates() if e.name == names[0]]
    assert parameter_values(entry.source["spec"]) == wanted
    capsys.readouterr()
    assert cli.main(["plan", "--detailed-exitcode", str(exported)]) == 0
