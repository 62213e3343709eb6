"""The unmodified Atlan SDK (pyatlan 10.0.0) against a served emulator; run by .venv-sdk/bin/python.

Reads EMULATOR_URL and EMULATOR_KEY from the environment, exercises the WorkflowClient end to end
and prints one JSON object of observations on stdout for tests/sdk/test_sdk.py to assert. The
SDK's hard-coded sleeps are replaced (as pyatlan's own tests do) by advancing the emulator's clock,
so ``monitor`` sees time pass without anyone waiting.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

import httpx

warnings.simplefilter("ignore", DeprecationWarning)  # WorkflowClient.__init__ warns; expected here

import pyatlan.client.workflow as workflow_module  # noqa: E402
from pyatlan.client.atlan import AtlanClient  # noqa: E402
from pyatlan.errors import AtlanError  # noqa: E402
from pyatlan.model.enums import AssetInputHandling, AtlanWorkflowPhase, WorkflowPackage  # noqa: E402
from pyatlan.model.packages import AssetImport, LineageBuilder  # noqa: E402
from pyatlan.model.workflow import WorkflowSchedule  # noqa: E402

URL = os.environ["EMULATOR_URL"]
KEY = os.environ["EMULATOR_KEY"]
ADMIN = httpx.Client(base_url=URL, headers={"authorization": f"Bearer {KEY}"}, timeout=30)
SLEPT: list[float] = []


def fake_sleep(seconds: float) -> None:
    SLEPT.append(seconds)
    ADMIN.post("/_emulator/clock", json={"advance": seconds}).raise_for_status()


workflow_module.sleep = fake_sleep  # type: ignore[attr-defined]


def advance(seconds: float) -> None:
    ADMIN.post("/_emulator/clock", json={"advance": seconds}).raise_for_status()


def counts() -> dict[str, int]:
    return dict(ADMIN.get("/_emulator/counts").json()["by_endpoint"])


def error_name(call: Any) -> str:
    try:
        call()
    except AtlanError as exc:
        return type(exc).__name__
    return "no error"


def asset_import(name: str) -> Any:
    workflow = (
        AssetImport()
        .object_store()
        .s3(access_key="AK", secret_key="SDK-SECRET-KEY", region="us-east-1", bucket="bucket")
        .assets(prefix="imports", object_key="assets.csv", input_handling=AssetInputHandling.UPSERT)
        .to_workflow()
    )
    workflow.metadata.name = name
    return workflow


def main() -> int:
    out: dict[str, Any] = {}
    bad = AtlanClient(base_url=URL, api_key="not-the-key")
    out["wrong_key"] = error_name(lambda: bad.workflow.find_by_type(WorkflowPackage.ASSET_IMPORT))

    client = AtlanClient(base_url=URL, api_key=KEY)
    wf = client.workflow

    # run: an AssetImport, and a LineageBuilder with a schedule
    name = "csa-asset-import-1700000001"
    created = wf.run(asset_import(name))
    out["run_name"] = created.metadata.name
    lineage = (
        LineageBuilder()
        .object_store(prefix="lineage", object_key="lineage.csv")
        .s3(access_key="AK", secret_key="SDK-SECRET-KEY", region="us-east-1", bucket="bucket")
        .options(input_handling=AssetInputHandling.UPSERT, fail_on_errors=True)
        .to_workflow()
    )
    lineage.metadata.name = "csa-lineage-builder-1700000002"
    scheduled = wf.run(
        lineage, workflow_schedule=WorkflowSchedule(timezone="Europe/Paris", cron_schedule="0 1 * * *")
    )
    out["lineage_annotations"] = {
        k: v
        for k, v in (scheduled.metadata.annotations or {}).items()
        if k.startswith("orchestration.atlan.com/s")
    }
    out["lineage_schedule"] = wf.get_scheduled_run(scheduled.metadata.name).spec.schedule
    out["cloud_source"] = next(
        p.value
        for p in created.spec.templates[0].dag.tasks[0].arguments.parameters
        if p.name == "cloud_source"
    )

    # find_by_type / find_by_id
    out["find_by_type"] = [r.id for r in wf.find_by_type(WorkflowPackage.ASSET_IMPORT)]
    found = wf.find_by_id(name)
    out["find_by_id"] = found.source.metadata.name if found else None
    out["find_by_id_missing"] = wf.find_by_id("csa-asset-import-0000000000")

    # the first run: Pending, then Running
    first = wf.get_runs(name, AtlanWorkflowPhase.PENDING)
    out["pending_count"] = first.count
    first_run = first.hits.hits[0].id if first.hits and first.hits.hits else None
    out["first_run"] = first_run
    advance(2)
    out["running_count"] = wf.get_runs(name, AtlanWorkflowPhase.RUNNING).count
    by_id = wf.find_run_by_id(first_run)
    out["find_run_by_id"] = by_id.status.value if by_id and by_id.status else None

    # rerun idempotent while running: no submit
    before = counts().get("POST workflows/submit", 0)
    again = wf.rerun(found, idempotent=True)
    out["idempotent_running_name"] = again.metadata.name
    out["idempotent_running_submits"] = counts().get("POST workflows/submit", 0) - before

    # monitor to the end
    out["monitor"] = wf.monitor(workflow_name=name).value
    out["slept"] = sum(SLEPT)

    # rerun (not idempotent) creates a new run; idempotent after it is finished also submits
    rerun = wf.rerun(WorkflowPackage.ASSET_IMPORT)
    out["rerun_name"] = rerun.metadata.name
    out["rerun_phase"] = rerun.status.phase.value
    out["rerun_template"] = rerun.spec.workflow_template_ref["name"]
    advance(60)
    rerun_idem = wf.rerun(WorkflowPackage.ASSET_IMPORT, idempotent=True)
    out["rerun_idempotent_finished_new"] = rerun_idem.metadata.name not in (rerun.metadata.name, first_run)

    # stop
    stopped = wf.stop(rerun_idem.metadata.name)
    out["stop_phase"] = stopped.status.phase.value
    out["stop_template"] = stopped.status.stored_workflow_template_spec["workflowTemplateRef"]["name"]
    out["stopped_later"] = wf.find_run_by_id(rerun_idem.metadata.name).status.value

    # find_runs_by_status_and_time_range
    advance(60)
    finished = wf.find_runs_by_status_and_time_range(
        [AtlanWorkflowPhase.SUCCESS, AtlanWorkflowPhase.FAILED], started_at="now-2h", finished_at="now"
    )
    out["runs_by_status"] = sorted(h.status.value for h in finished.hits.hits)
    out["runs_by_status_recent"] = wf.find_runs_by_status_and_time_range(
        [AtlanWorkflowPhase.SUCCESS], started_at="now-1s"
    ).count

    # update: round trip of a search hit; a stale copy is refused
    stale = wf.find_by_id(name)
    current = stale.to_workflow()
    current.metadata.annotations["orchestration.atlan.com/name"] = "Asset Import (renamed)"
    updated = wf.update(current)
    out["update_rv_increased"] = int(updated.metadata.resource_version) > int(
        stale.source.metadata.resource_version
    )
    out["update_cloud_source_kept"] = next(
        p.value
        for p in updated.spec.templates[0].dag.tasks[0].arguments.parameters
        if p.name == "cloud_source"
    )
    out["stale_update"] = error_name(lambda: wf.update(stale.to_workflow()))

    # add_schedule / remove_schedule (by package: the newest asset import)
    with_schedule = wf.add_schedule(
        WorkflowPackage.ASSET_IMPORT, WorkflowSchedule(timezone="UTC", cron_schedule="5 4 * * *")
    )
    out["add_schedule"] = with_schedule.metadata.annotations.get("orchestration.atlan.com/schedule")
    out["all_schedules"] = sorted(s.metadata.name for s in wf.get_all_scheduled_runs())
    without = wf.remove_schedule(WorkflowPackage.ASSET_IMPORT)
    annotations = without.metadata.annotations
    out["remove_schedule"] = [
        "orchestration.atlan.com/schedule" in annotations,
        annotations.get("orchestration.atlan.com/timezone"),
    ]

    out["update_owner"] = wf.update_owner(name, "jsmith").metadata.name
    out["rerun_missing"] = error_name(lambda: wf.rerun(WorkflowPackage.RELATIONAL_ASSETS_BUILDER))

    # delete: gone from search, name free again
    wf.delete(name)
    out["deleted_find"] = wf.find_by_id(name)
    out["recreate_after_delete"] = wf.run(asset_import(name)).metadata.name
    out["duplicate_run"] = error_name(lambda: wf.run(asset_import(name)))

    # a non-token user goes through package-workflows/*
    ADMIN.post("/_emulator/settings", json={"role": "$member"}).raise_for_status()
    member = AtlanClient(base_url=URL, api_key=KEY).workflow
    member.run(asset_import("csa-asset-import-1700000003"))
    member.rerun(WorkflowPackage.ASSET_IMPORT)
    member.delete("csa-asset-import-1700000003")
    out["counts"] = counts()
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
