"""Issue 4 end to end: plan and apply over real HTTP against the emulator on 127.0.0.1."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx

from reconciler.packages.identity import INSTANCE_LABEL
from tests.helpers import CANARY, FIXTURES
from tests.integration.conftest import API_KEY, Tenant

SNOWFLAKE = "asset-import/snowflake-assets.yaml"


def by_address(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["address"]: entry for entry in plan["workflows"]}


def converged(tenant: Tenant) -> bool:
    result = tenant.plan("--detailed-exitcode")
    return result.code == 0 and "No changes." in result.out


def writes(tenant: Tenant) -> Counter[str]:
    """Requests that change state, by endpoint (e.g. "POST workflows/{name}")."""
    return Counter(
        r["endpoint"]
        for r in tenant.requests()
        if not r["endpoint"].endswith("indexsearch") and r["method"] == "POST"
    )


def faulted(tenant: Tenant) -> Counter[str]:
    return Counter(r["fault"] for r in tenant.requests() if r.get("fault"))


def test_first_apply_creates_and_runs_everything_and_the_next_plan_is_empty(tenant: Tenant) -> None:
    planned = tenant.plan("-o", "json", "--detailed-exitcode")
    assert planned.code == 2
    assert planned.json()["summary"] == {
        "create": 7,
        "update": 0,
        "rerun": 0,
        "adopt": 0,
        "archive": 0,
        "no-op": 0,
    }

    applied = tenant.apply()
    assert applied.code == 0, applied.out + applied.err
    assert "Apply: 7 done, 0 failed" in applied.out
    templates = tenant.templates()
    assert len(templates) == 7
    assert all(t["metadata"]["labels"][INSTANCE_LABEL] == "default" for t in templates.values())
    # Every workflow but the one with run policy `never` started its first run, once.
    assert sorted(len(tenant.runs_of(name)) for name in templates) == [0, 1, 1, 1, 1, 1, 1]

    tenant.reset_counts()
    again = tenant.plan("--detailed-exitcode")
    assert again.code == 0
    assert "No changes. The tenant matches the manifests." in again.out
    assert again.out.rstrip().endswith("Plan: 0 to create, 0 to update, 0 to rerun, 0 to archive.")
    # The design: one listing search per plan, nothing else.
    assert tenant.counts() == {"POST workflows/indexsearch": 1}


def test_a_manifest_edit_gives_update_and_rerun(tenant: Tenant) -> None:
    assert tenant.apply().code == 0
    tenant.finish_runs()
    tenant.edit(SNOWFLAKE, "batch_size: 20", "batch_size: 50")

    plan = by_address(tenant.plan("-o", "json").json())
    entry = plan["AssetImport.snowflake-assets"]
    assert entry["actions"] == ["update", "rerun"]
    assert entry["changes"] == [
        {"op": "change", "path": ["parameters", "assets_batch_size"], "old": 20, "new": 50}
    ]
    assert "spec changed since the last run" in entry["reason"]
    assert all(e["actions"] == ["no-op"] for a, e in plan.items() if a != "AssetImport.snowflake-assets")

    name = entry["workflow"]
    assert tenant.apply().code == 0
    live = tenant.templates()[name]
    parameters = live["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    assert {"name": "assets_batch_size", "value": 50} in parameters
    assert len(tenant.runs_of(name)) == 2
    assert converged(tenant)


def test_a_token_bump_gives_a_rerun_only(tenant: Tenant) -> None:
    assert tenant.apply().code == 0
    tenant.finish_runs()
    tenant.edit(SNOWFLAKE, 'token: "2026-11-21"', 'token: "2026-11-22"')

    entry = by_address(tenant.plan("-o", "json").json())["AssetImport.snowflake-assets"]
    assert entry["actions"] == ["rerun"]
    assert entry["changes"] == []
    assert entry["reason"] == "run token changed ('2026-11-21' -> '2026-11-22')"

    before = tenant.templates()[entry["workflow"]]["spec"]
    tenant.reset_counts()
    result = tenant.apply()
    assert result.code == 0
    assert tenant.templates()[entry["workflow"]]["spec"] == before
    assert len(tenant.runs_of(entry["workflow"])) == 2
    # Runs searched for the rerun check and for the newest run; an update that claims the run,
    # the submit, and an update that confirms it (so an interrupted apply cannot lose the run).
    assert writes(tenant) == Counter({"POST workflows/submit": 1, "POST workflows/{name}": 2})
    assert tenant.counts()["POST runs/indexsearch"] == 2
    assert converged(tenant)


def test_an_already_running_workflow_is_not_submitted_again(tenant: Tenant) -> None:
    assert tenant.apply().code == 0  # runs are now Pending/Running for 60 s on the emulator's clock
    tenant.edit(SNOWFLAKE, 'token: "2026-11-21"', 'token: "again"')
    tenant.edit("asset-import/data-products.yaml", 'token: "1"', 'token: "2"')

    tenant.reset_counts()
    result = tenant.apply()
    assert result.code == 0, result.out
    assert result.out.count("already running") >= 2
    assert "not submitted: a run is already Pending or Running" in result.out
    assert "POST workflows/submit" not in tenant.counts()
    assert tenant.counts()["POST runs/indexsearch"] == 1  # one search decided for both
    assert all(len(tenant.runs_of(name)) <= 1 for name in tenant.templates())

    # Once the runs are over, the rerun that was asked for is still pending, and then happens.
    tenant.finish_runs()
    assert "↻ AssetImport.snowflake-assets" in tenant.plan().out
    assert tenant.apply().code == 0
    assert converged(tenant)


def test_schedule_change_and_credential_rotation_are_planned_and_applied(
    tenant: Tenant, monkeypatch: Any
) -> None:
    assert tenant.apply().code == 0
    tenant.finish_runs()
    tenant.edit(SNOWFLAKE, 'cron: "0 2 * * *"', 'cron: "15 4 * * 1-5"')
    monkeypatch.setenv("GCS_SERVICE_ACCOUNT_JSON", "rotated-" + CANARY)

    result = tenant.plan("-o", "json")
    plan = by_address(result.json())
    snowflake = plan["AssetImport.snowflake-assets"]
    assert snowflake["actions"] == ["update"]  # a schedule change does not call for a run
    assert snowflake["changes"] == [
        {
            "op": "change",
            "path": ["annotations", "orchestration.atlan.com/schedule"],
            "old": "0 2 * * *",
            "new": "15 4 * * 1-5",
        }
    ]
    for address in ("AssetImport.business-glossary", "LineageBuilder.dbt-lineage"):
        assert plan[address]["actions"] == ["update"]
        assert plan[address]["reason"] == "credentials changed"
        assert plan[address]["changes"] == []
    assert CANARY not in result.out + result.err

    tenant.reset_counts()
    credentials_before = {
        c["workflow"]: c["fingerprint"] for c in tenant.server.app.emulator.store.credentials() if c["active"]
    }
    applied = tenant.apply()
    assert applied.code == 0
    assert CANARY not in applied.out + applied.err
    annotations = tenant.templates()[snowflake["workflow"]]["metadata"]["annotations"]
    assert annotations["orchestration.atlan.com/schedule"] == "15 4 * * 1-5"
    credentials_after = {
        c["workflow"]: c["fingerprint"] for c in tenant.server.app.emulator.store.credentials() if c["active"]
    }
    changed = {name for name in credentials_after if credentials_after[name] != credentials_before.get(name)}
    assert changed == {
        plan["AssetImport.business-glossary"]["workflow"],
        plan["LineageBuilder.dbt-lineage"]["workflow"],
    }
    # The credential payload travels only with the workflows whose credentials changed.
    payloads = [r for r in tenant.requests() if r["method"] == "POST" and r.get("body", {}).get("payload")]
    assert {r["body"]["metadata"]["name"] for r in payloads} == changed
    assert converged(tenant)


def test_injected_failures_leave_the_rest_done_and_the_next_apply_converges(
    tenant: Tenant, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RECONCILER_RETRIES", "1")
    # One at a time, so the first two creates (each tried twice) are the ones that fail.
    tenant.faults(script=[{"fault": "500", "path": r"/workflows$", "method": "POST", "times": 4}])
    first = tenant.apply("--parallelism", "1")
    assert first.code == 1
    assert "Apply: 5 done, 2 failed, 0 already running, 0 skipped" in first.out
    assert "✗ AssetImport.business-glossary" in first.out
    assert "✗ AssetImport.data-products" in first.out
    assert len(tenant.templates()) == 5

    tenant.faults()
    second = tenant.apply()
    assert second.code == 0, second.out
    assert len(tenant.templates()) == 7
    tenant.finish_runs()
    assert converged(tenant)


def test_lost_responses_on_create_and_submit_make_no_duplicates(tenant: Tenant) -> None:
    tenant.faults(
        script=[
            {"fault": "lost-503", "path": r"/workflows$", "method": "POST", "times": 3},
            {"fault": "lost-drop", "path": r"/workflows$", "method": "POST", "times": 2},
        ]
    )
    assert tenant.apply().code == 0
    assert faulted(tenant) == Counter({"lost-503": 3, "lost-drop": 2})
    assert len(tenant.templates()) == 7
    assert all(len(tenant.runs_of(name)) <= 1 for name in tenant.templates())
    tenant.reset_counts()

    tenant.finish_runs()
    for path, token in ((SNOWFLAKE, '"2026-11-21"'), ("asset-import/data-products.yaml", '"1"')):
        tenant.edit(path, f"token: {token}", 'token: "lost"')
    tenant.faults(
        script=[
            {"fault": "lost-503", "path": r"workflows/submit", "method": "POST", "times": 1},
            {"fault": "lost-drop", "path": r"workflows/submit", "method": "POST", "times": 1},
        ]
    )
    assert tenant.apply().code == 0
    assert faulted(tenant) == Counter({"lost-503": 1, "lost-drop": 1})
    runs = Counter(run.template for run in tenant.runs())
    assert sorted(runs.values()) == [1, 1, 1, 1, 2, 2]  # exactly one new run for each of the two reruns
    assert converged(tenant)


def test_a_workflow_created_with_the_sdk_is_never_touched(tenant: Tenant) -> None:
    body = json.loads((FIXTURES / "pyatlan-package-requests" / "asset_import_s3.json").read_text())
    body["metadata"]["name"] = body["metadata"]["annotations"]["orchestration.atlan.com/atlanName"] = (
        "csa-asset-import-1684500411"
    )
    with httpx.Client(
        base_url=tenant.server.base_url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        assert http.post("/api/service/workflows?submit=true", json=body).status_code == 200
    before = tenant.templates()["csa-asset-import-1684500411"]

    tenant.reset_counts()
    assert "csa-asset-import-1684500411" not in tenant.plan().out
    assert tenant.apply().code == 0
    tenant.finish_runs()
    tenant.edit(SNOWFLAKE, 'token: "2026-11-21"', 'token: "x"')
    assert tenant.apply().code == 0

    assert tenant.templates()["csa-asset-import-1684500411"] == before
    assert len(tenant.runs_of("csa-asset-import-1684500411")) == 1
    assert not any("1684500411" in r["path"] for r in tenant.requests())


def test_wait_follows_runs_to_their_final_phase(tenant: Tenant) -> None:
    tenant.server.app.emulator.settings = tenant.server.app.emulator.settings.__class__(
        **{**tenant.server.app.emulator.settings.to_json(), "run_seconds": 0.3, "pending_seconds": 0.1}
    )
    result = tenant.apply("--wait", "--timeout", "60")
    assert result.code == 0, result.out
    assert result.out.count("(run Succeeded)") == 6
