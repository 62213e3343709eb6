"""End-to-end fixtures: the emulator served over real HTTP on 127.0.0.1, the CLI run in-process."""

from __future__ import annotations

import copy
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import cli
from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.target import ObjectStores
from tests.helpers import EXAMPLES, FIXTURES

API_KEY = "integration-test-api-key-0123456789"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Tenant:
    """The emulator as a test sees it: state, request counts, faults, clock; and the CLI against it."""

    server: EmulatorServer
    manifests: Path
    capsys: pytest.CaptureFixture[str]
    admin: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.admin = httpx.Client(
            base_url=self.server.base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        )

    def cli(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = cli.main(list(argv))
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def plan(self, *extra: str) -> Result:
        return self.cli("plan", *extra, str(self.manifests))

    def apply(self, *extra: str) -> Result:
        return self.cli("apply", "--auto-approve", *extra, str(self.manifests))

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.manifests / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    # -- the emulator's side -----------------------------------------------------------------------

    def templates(self) -> dict[str, dict[str, Any]]:
        return {entry.name: entry.source for entry in self.server.app.emulator.store.templates()}

    def runs(self) -> list[Any]:
        return self.server.app.emulator.store.runs()

    def runs_of(self, template: str) -> list[Any]:
        return [run for run in self.runs() if run.template == template]

    def counts(self) -> dict[str, int]:
        by_endpoint: dict[str, int] = self.server.app.emulator.log.counts()["by_endpoint"]
        return by_endpoint

    def reset_counts(self) -> None:
        self.server.app.emulator.log.clear()

    def requests(self) -> list[dict[str, Any]]:
        return self.server.app.emulator.log.records()

    def faults(self, **settings: Any) -> None:
        response = self.admin.put("/_emulator/faults", json=settings)
        assert response.status_code == 200, response.text

    def advance(self, seconds: float) -> None:
        response = self.admin.post("/_emulator/clock", json={"advance": seconds})
        assert response.status_code == 200, response.text

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.base_url + "/api/service/",
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=10,
        )

    def ui_edit(self, name: str, mutate: Callable[[dict[str, Any]], None]) -> None:
        """Change a workflow through the API, as a user of Atlan's UI would (no payload)."""
        source = copy.deepcopy(self.templates()[name])
        mutate(source)
        with self.api() as api:
            response = api.post(
                f"workflows/{name}", json={"metadata": source["metadata"], "spec": source["spec"]}
            )
        assert response.status_code == 200, response.text

    def create_like_the_sdk(self, fixture: str, name: str) -> dict[str, Any]:
        """POST the SDK's own request (pyatlan test fixture) under ``name``, as `client.workflow.run` does."""
        body = json.loads((FIXTURES / "pyatlan-package-requests" / f"{fixture}.json").read_text())
        text = json.dumps(body).replace(body["metadata"]["name"], name)
        with self.api() as api:
            response = api.post("workflows?submit=true", json=json.loads(text))
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    def finish_runs(self) -> None:
        """Move the clock past every run's end, so no run is Pending or Running."""
        self.advance(3600)


@pytest.fixture
def tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Tenant]:
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, manifests)
    monkeypatch.chdir(tmp_path)  # outside git, data sources must be under the current directory
    # These tests are about planning, applying and drift: runs are accepted, not carried out (their
    # files go to the real stores' fakes, not the emulator's stand-ins; tests/integration/
    # test_sandbox_demo.py runs the imports).
    config = EmulatorConfig(
        api_key=API_KEY,
        db_path=tmp_path / "emulator.db",
        run_seconds=60,
        pending_seconds=5,
        run_imports=False,
    )
    with EmulatorServer(config) as server:
        monkeypatch.setenv("ATLAN_BASE_URL", server.base_url)
        monkeypatch.setenv("ATLAN_API_KEY", API_KEY)
        monkeypatch.setenv("RECONCILER_RETRY_BACKOFF", "0.01")
        monkeypatch.setenv("RECONCILER_RATE_LIMIT", "1000")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAINTEGRATION")
        tenant = Tenant(server, manifests, capsys)
        try:
            yield tenant
        finally:
            tenant.admin.close()


@pytest.fixture
def store_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every request the CLI, run in this process, makes to an object store (HEAD, GET, PUT)."""
    total: Counter[str] = Counter()
    original = ObjectStores.__init__

    def counting(self: ObjectStores, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.calls = total

    monkeypatch.setattr(ObjectStores, "__init__", counting)
    return total
