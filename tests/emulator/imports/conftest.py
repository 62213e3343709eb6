"""A sandbox: the emulator app in-process (httpx's ASGI transport, driven from the test's thread
through an anyio portal), files put in its tenant store, import runs submitted through the
workflow API and read back through the runs search, and its catalog."""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from reconciler.emulator import EmulatorApp, create_app
from reconciler.emulator.catalog import Catalog
from tests.emulator.conftest import KEY, make_config

AUTH = {"authorization": f"Bearer {KEY}"}
CONN = "default/snowflake/1700000000"
COUNTS = ("created", "updated", "restored", "skipped", "failed", "deleted")  # per file, in the outputs
TEMPLATES = {"asset-import": "csa-asset-import", "lineage-builder": "csa-lineage-builder"}
_serial = itertools.count(1)


def counts(**nonzero: int) -> dict[str, int]:
    """A file's counts: the given ones, zero for the rest."""
    return {name: nonzero.get(name, 0) for name in COUNTS}


def workflow(name: str, package: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """A workflow of ``package`` reading the tenant store (no credential), as the SDK shapes it."""
    task = {
        "name": "run",
        "templateRef": {"name": TEMPLATES.get(package, package), "template": "main", "clusterScope": True},
        "arguments": {"parameters": [{"name": k, "value": v} for k, v in params.items()]},
    }
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"templates": [{"name": "main", "dag": {"tasks": [task]}}], "entrypoint": "main"},
        "payload": [],
    }


@dataclass
class Run:
    """A run's ``_source`` as the runs search shows it."""

    source: dict[str, Any]

    @property
    def status(self) -> dict[str, Any]:
        found: dict[str, Any] = self.source["status"]
        return found

    @property
    def phase(self) -> str:
        return str(self.status["phase"])

    @property
    def message(self) -> str | None:
        return self.status.get("message")

    @property
    def results(self) -> dict[str, Any]:
        (parameter,) = self.status["outputs"]["parameters"]
        assert parameter["name"] == "results"
        found: dict[str, Any] = json.loads(parameter["value"])
        return found

    def counts(self, section: str = "assets") -> dict[str, int]:
        (found,) = [f for f in self.results["files"] if f["section"] == section]
        return {name: found[name] for name in COUNTS}

    @property
    def errors(self) -> list[tuple[int | None, str | None, str]]:
        """(line, column, message) of each error."""
        return [(e["line"], e["field"], e["message"]) for e in self.results["errors"]]

    @property
    def warnings(self) -> list[tuple[int | None, str | None, str]]:
        return [(e["line"], e["field"], e["message"]) for e in self.results["warnings"]]


class Sandbox:
    def __init__(self, app: EmulatorApp, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self.app = app
        self._portal = portal
        self._client = client

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        call = functools.partial(self._client.request, method, path, **kwargs)
        response: httpx.Response = self._portal.call(call)
        return response

    @property
    def catalog(self) -> Catalog:
        return self.app.emulator.catalog

    def put(self, key: str, content: str | bytes, store: str = "tenant") -> None:
        data = content.encode() if isinstance(content, str) else content
        response = self.request("PUT", f"/_emulator/objects/{store}/{key}", content=data)
        assert response.status_code == 200, response.text

    def submit(self, package: str, params: Mapping[str, Any], name: str | None = None) -> Run:
        name = name or f"{TEMPLATES.get(package, package)}-{1_700_000_000 + next(_serial)}"
        response = self.request(
            "POST", "/api/service/workflows?submit=true", json=workflow(name, package, params)
        )
        assert response.status_code == 200, response.text
        return self.last_run(name)

    def last_run(self, template: str) -> Run:
        query = {"term": {"spec.workflowTemplateRef.name.keyword": {"value": template}}}
        response = self.request("POST", "/api/service/runs/indexsearch", json={"size": 100, "query": query})
        assert response.status_code == 200, response.text
        hits = sorted(response.json()["hits"]["hits"], key=lambda hit: hit["_seq_no"])
        return Run(hits[-1]["_source"])

    def run(self, files: Mapping[str, str | bytes], *, package: str = "asset-import", **params: Any) -> Run:
        """Put each section's file in the tenant store and run a workflow that reads them."""
        every: dict[str, Any] = {}
        for section, content in files.items():
            key = f"{section}-{next(_serial)}.csv"
            self.put(f"in/{key}", content)
            every[f"{section}_prefix"] = "in"
            every[f"{section}_key"] = key
        every.update(params)
        return self.submit(package, every)

    def assets(self, type_name: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        return list(self.catalog.select(type_names=[type_name] if type_name else None, **filters))

    def asset(self, type_name: str, qualified_name: str) -> dict[str, Any]:
        found = self.catalog.find(type_name, qualified_name)
        assert found is not None, f"no {type_name} {qualified_name}"
        return found

    def attributes(self, type_name: str, qualified_name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.asset(type_name, qualified_name)["attributes"]
        return found


@pytest.fixture
def make_sandbox(tmp_path: Path) -> Iterator[Any]:
    """``make_sandbox(**config overrides)``: a sandbox over a fresh emulator (runs end at once)."""
    with start_blocking_portal() as portal:
        made: list[tuple[EmulatorApp, httpx.AsyncClient]] = []

        def make(**overrides: Any) -> Sandbox:
            settings: dict[str, Any] = {"run_seconds": 0.0, "pending_seconds": 0.0, **overrides}
            app = create_app(make_config(tmp_path / f"emulator-{len(made)}.db", **settings))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://emulator", headers=AUTH)
            made.append((app, client))
            return Sandbox(app, portal, client)

        yield make
        for app, client in made:
            portal.call(client.aclose)
            app.emulator.close()


@pytest.fixture
def sandbox(make_sandbox: Any) -> Sandbox:
    made: Sandbox = make_sandbox()
    return made
