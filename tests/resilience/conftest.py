"""Resilience fixtures: the emulator on 127.0.0.1 with faults, and an apply driven like the CLI's.

The emulator's clock is frozen a day in the past and moved on by hand between rounds: runs
submitted in a round stay Pending for the rest of it, and are finished by the next one. (A clock
in the past also keeps the client's "created after my submit began" rule out of play, so a lost
submit can only be recognised by its Pending run, never by a stale one.)
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.apply import ApplyGuard, ApplyResult, apply_plan
from reconciler.emulator import Clock, EmulatorConfig, EmulatorServer, FaultConfig
from reconciler.engine import desired_and_live, plan_state
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL
from reconciler.plan.model import Plan
from reconciler.settings import Settings, load_settings
from tests.helpers import FIXTURES

API_KEY = "resilience-test-api-key-0123456789"
INSTANCE = "resilience"
RUN_SECONDS = 60

# About 20% of all requests: 500, 503, 429 with Retry-After, dropped connections; and 10% of the
# writes that get through are carried out and committed, then their answer is lost.
FAULTS: dict[str, Any] = {
    "error_rate_500": 0.05,
    "error_rate_503": 0.05,
    "error_rate_429": 0.04,
    "drop_rate": 0.03,
    "lost_response_rate": 0.10,
}
LOST_MODES = ("503", "drop", "500")

MANIFEST = """apiVersion: reconciler/v1
kind: AssetImport
metadata: {{name: {name}, labels: {{team: {team}}}}}
spec:
  object_store:
    s3: {{access_key: AKIARESILIENCE, secret_key: "${{env:RESILIENCE_SECRET}}", bucket: b, region: us-west-1}}
  assets:
    prefix: /imports/{name}
    object_key: assets.csv
    input_handling: upsert
    advanced: {{fail_on_errors: true, batch_size: {batch}}}
  run: {{policy: on-change, token: "{token}"}}
"""

# Unmanaged workflows, made the way the SDK makes them: its own request fixtures, renamed.
UNMANAGED = {
    "csa-asset-import-1500000001": "asset_import_s3.json",
    "csa-asset-import-1500000002": "asset_import_default.json",
    "csa-lineage-builder-1500000003": "lineage_builder_gcs.json",
}


@dataclass
class Spec:
    team: str = "data"
    batch: int = 20
    token: str = "t0"


@dataclass
class Tenant:
    server: EmulatorServer
    manifests: Path
    specs: dict[str, Spec] = field(default_factory=dict)

    # -- the manifests ---------------------------------------------------------------------------

    def write(self, name: str, spec: Spec) -> None:
        self.specs[name] = spec
        text = MANIFEST.format(name=name, team=spec.team, batch=spec.batch, token=spec.token)
        (self.manifests / f"{name}.yaml").write_text(text)

    # -- one apply, as `reconciler apply --auto-approve` does it ---------------------------------

    def plan(self, settings: Settings | None = None) -> Plan:
        return asyncio.run(self._plan(settings or load_settings()))

    async def _plan(self, settings: Settings) -> Plan:
        async with desired_and_live(settings, [self.manifests], _environ()) as (_, desired, live):
            return plan_state(settings, desired, live)[0]

    def apply(self, settings: Settings | None = None) -> tuple[Plan, ApplyResult | None]:
        return asyncio.run(self._apply(settings or load_settings()))

    async def _apply(self, settings: Settings) -> tuple[Plan, ApplyResult | None]:
        async with desired_and_live(settings, [self.manifests], _environ()) as (client, desired, live):
            guard = ApplyGuard.of(live, desired, instance=settings.instance)
            result, _ = plan_state(settings, desired, live)
            if not result.has_changes:
                return result, None
            return result, await apply_plan(
                result, desired, client, guard=guard, parallelism=settings.parallelism
            )

    # -- the emulator's side ---------------------------------------------------------------------

    def faults(self, **settings: Any) -> None:
        self.server.app.emulator.faults.configure(FaultConfig(**settings))

    def advance(self, seconds: float) -> None:
        self.server.app.emulator.clock.advance(seconds)

    def templates(self) -> dict[str, Any]:
        return {entry.name: entry for entry in self.server.app.emulator.store.templates()}

    def runs_by_template(self) -> Counter[str]:
        return Counter(run.template for run in self.server.app.emulator.store.runs())

    def managed_by_manifest(self) -> Counter[str]:
        """Live templates per manifest of our instance: more than one is a duplicate workflow."""
        return Counter(
            entry.source["metadata"]["labels"][MANIFEST_LABEL]
            for entry in self.templates().values()
            if entry.source["metadata"].get("labels", {}).get(INSTANCE_LABEL) == INSTANCE
        )

    def requests(self) -> list[dict[str, Any]]:
        return self.server.app.emulator.log.records()

    def create_unmanaged(self) -> dict[str, tuple[str, int]]:
        """The SDK's fixture workflows under other names (with their first run): name -> (rv, runs)."""
        with httpx.Client(
            base_url=self.server.base_url, headers={"authorization": f"Bearer {API_KEY}"}, timeout=10
        ) as http:
            for name, fixture in UNMANAGED.items():
                body = copy.deepcopy(
                    json.loads((FIXTURES / "pyatlan-package-requests" / fixture).read_text())
                )
                body["metadata"]["name"] = name
                response = http.post("/api/service/workflows?submit=true", json=body)
                assert response.status_code == 200, response.text
        return self.unmanaged_state()

    def unmanaged_state(self) -> dict[str, tuple[str, int]]:
        templates, runs = self.templates(), self.runs_by_template()
        return {
            name: (templates[name].source["metadata"]["resourceVersion"], runs[name])
            for name in UNMANAGED
            if name in templates
        }


def planned_runs(result: Plan) -> Counter[str]:
    """Runs a plan asks for: one per rerun, one per create that starts its first run."""
    return Counter(item.workflow for item in result.items if item.starts_run)


def _environ() -> dict[str, str]:
    return {"RESILIENCE_SECRET": "resilience-secret-value"}


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    config = EmulatorConfig(
        api_key=API_KEY,
        db_path=tmp_path / "emulator.db",
        run_seconds=RUN_SECONDS,
        pending_seconds=1,
        seed=7,
        clock=Clock(start=time.time() - 86_400, frozen=True),
    )
    with EmulatorServer(config) as server:
        monkeypatch.setenv("ATLAN_BASE_URL", server.base_url)
        monkeypatch.setenv("ATLAN_API_KEY", API_KEY)
        monkeypatch.setenv("RECONCILER_INSTANCE", INSTANCE)
        monkeypatch.setenv("RECONCILER_RETRIES", "10")
        monkeypatch.setenv("RECONCILER_RETRY_BACKOFF", "0.005")
        monkeypatch.setenv("RECONCILER_RATE_LIMIT", "1000")
        monkeypatch.setenv("RECONCILER_TIMEOUT", "10")
        yield Tenant(server, manifests)
