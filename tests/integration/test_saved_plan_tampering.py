"""A saved plan is a request, not an authority: an edited plan file is refused, whatever it edits.

``apply PLANFILE`` plans again from the manifests and the tenant and carries out only what it
decides itself, after checking that those decisions are the file's. The unmanaged and the
protected workflows of these tests are never written to, and nothing but reads reaches the tenant.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Tenant
from tests.integration.test_drift_prune_adopt_export import SNOWFLAKE, only_searches, workflow_of

UNMANAGED = "csa-asset-import-1684500411"
Edit = Callable[[dict[str, Any], Tenant], None]


def _item(plan: dict[str, Any], manifest: str) -> dict[str, Any]:
    item: dict[str, Any] = next(i for i in plan["plan"]["items"] if i["manifest"] == manifest)
    return item


def _archive_item(workflow: str, version: str | None) -> dict[str, Any]:
    return {
        "address": f"AssetImport.{workflow}",
        "kind": "AssetImport",
        "workflow": workflow,
        "manifest": None,
        "action": "archive",
        "updates": False,
        "reruns": False,
        "steps": [{"kind": "archive"}],
        "reasons": [{"code": "manifest-gone", "data": []}],
        "changes": [],
        "before": None,
        "after": None,
        "resource_version": version,
        "annotations": {},
        "credentials_changed": False,
        "credential_ref": None,
        "run_record": None,
        "depends_on": [],
        "keep_live": [],
        "masked": [],
    }


def archive_the_unmanaged(plan: dict[str, Any], tenant: Tenant) -> None:
    version = tenant.templates()[UNMANAGED]["metadata"]["resourceVersion"]
    plan["plan"]["items"].append(_archive_item(UNMANAGED, version))


def archive_the_protected(plan: dict[str, Any], tenant: Tenant) -> None:
    name = workflow_of(tenant, "snowflake-assets")
    plan["plan"]["items"].append(_archive_item(name, tenant.templates()[name]["metadata"]["resourceVersion"]))


def archive_with_prune_switched_on(plan: dict[str, Any], tenant: Tenant) -> None:
    plan["options"] = {"prune": True, "max_prune_percent": 100}
    archive_the_protected(plan, tenant)


def rerun_becomes_archive(plan: dict[str, Any], tenant: Tenant) -> None:
    _item(plan, "snowflake-assets").update(action="archive", steps=[{"kind": "archive"}])


def rerun_becomes_update(plan: dict[str, Any], tenant: Tenant) -> None:
    _item(plan, "snowflake-assets").update(action="update", reruns=True)


def write_without_the_claim(plan: dict[str, Any], tenant: Tenant) -> None:
    for step in _item(plan, "snowflake-assets")["steps"]:
        step["claim" if step["kind"] == "update" else "claimed"] = False


def point_an_item_at_the_unmanaged(plan: dict[str, Any], tenant: Tenant) -> None:
    item = _item(plan, "snowflake-assets")
    item["workflow"] = UNMANAGED
    item["resource_version"] = tenant.templates()[UNMANAGED]["metadata"]["resourceVersion"]


def change_a_changes_value(plan: dict[str, Any], tenant: Tenant) -> None:
    item = _item(plan, "business-glossary")
    item["changes"][0]["new"] = "not what the manifest says"


def drop_an_item(plan: dict[str, Any], tenant: Tenant) -> None:
    plan["plan"]["items"] = [i for i in plan["plan"]["items"] if i["manifest"] != "snowflake-assets"]


def take_the_credentials_along(plan: dict[str, Any], tenant: Tenant) -> None:
    _item(plan, "snowflake-assets")["credentials_changed"] = True


def claim_another_run(plan: dict[str, Any], tenant: Tenant) -> None:
    _item(plan, "business-glossary")["run_record"] = '{"spec":"0000","token":"x"}'


EDITS: dict[str, Edit] = {
    "archive an unmanaged workflow": archive_the_unmanaged,
    "archive a protected workflow": archive_the_protected,
    "switch prune on and archive": archive_with_prune_switched_on,
    "turn a rerun into an archive": rerun_becomes_archive,
    "turn a rerun into an update": rerun_becomes_update,
    "submit without claiming the run": write_without_the_claim,
    "point an item at an unmanaged workflow": point_an_item_at_the_unmanaged,
    "change the value of a change": change_a_changes_value,
    "drop an item": drop_an_item,
    "send the credentials again": take_the_credentials_along,
    "claim another run": claim_another_run,
}


@pytest.fixture
def reviewed(tenant: Tenant, tmp_path: Path) -> tuple[Tenant, Path]:
    """A tenant with the examples applied, an unmanaged workflow made with the SDK, and a plan
    saved of a token bump (rerun) and a field change (update + rerun)."""
    assert tenant.apply().code == 0
    tenant.finish_runs()
    tenant.create_like_the_sdk("asset_import_s3", UNMANAGED)
    tenant.finish_runs()
    tenant.edit(SNOWFLAKE, 'token: "2026-11-21"', 'token: "reviewed"')
    tenant.edit("asset-import/business-glossary.yaml", "fail_on_errors: false", "fail_on_errors: true")
    saved = tmp_path / "plan.json"
    result = tenant.plan("--out", str(saved))
    assert result.code == 0, result.err
    return tenant, saved


def test_the_untampered_plan_is_applied(reviewed: tuple[Tenant, Path]) -> None:
    tenant, saved = reviewed
    result = tenant.cli("apply", str(saved))
    assert result.code == 0, result.err
    assert "Apply: 2 done" in result.out


@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
def test_every_edit_of_a_saved_plan_is_refused(reviewed: tuple[Tenant, Path], edit: Edit) -> None:
    tenant, saved = reviewed
    plan = json.loads(saved.read_text())
    edit(plan, tenant)
    saved.write_text(json.dumps(plan))
    before = json.dumps(tenant.templates(), sort_keys=True)
    tenant.reset_counts()

    result = tenant.cli("apply", str(saved))

    assert result.code == 1
    assert "error: the saved plan is not what planning decides now:" in result.err
    assert len(result.err.strip().splitlines()) == 1 or "No ATLAN_BASE_URL" in result.err
    assert only_searches(tenant)
    assert json.dumps(tenant.templates(), sort_keys=True) == before
    assert UNMANAGED in tenant.templates()
