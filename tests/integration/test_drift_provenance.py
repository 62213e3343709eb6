"""Issue 14 end to end: drift tells a change not applied yet from an edit outside git, per field.

Apply leaves ``reconciler.dev/applied`` (a short digest per field it wrote) on each workflow it
writes; drift compares the tenant's fields with it: still what apply wrote means git moved on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Tenant
from tests.integration.test_drift_prune_adopt_export import SNOWFLAKE, set_parameter, workflow_of

APPLIED = "reconciler.dev/applied"
BATCH = ["parameters", "assets_batch_size"]
PREFIX = ["parameters", "assets_prefix"]


@pytest.fixture
def applied(tenant: Tenant) -> Tenant:
    assert tenant.apply().code == 0
    tenant.finish_runs()
    return tenant


def drift(tenant: Tenant) -> tuple[int, list[dict[str, Any]]]:
    result = tenant.cli("drift", "-o", "json", str(tenant.manifests))
    return result.code, result.json()["findings"]


def by_kind(findings: list[dict[str, Any]]) -> dict[str, list[tuple[list[str], Any, Any]]]:
    found: dict[str, list[tuple[list[str], Any, Any]]] = {}
    for finding in findings:
        found.setdefault(finding["kind"], []).extend(
            (c["path"], c["old"], c["new"]) for c in finding["changes"]
        )
    return found


def test_apply_records_what_it_wrote_on_every_workflow(applied: Tenant) -> None:
    records = [t["metadata"]["annotations"].get(APPLIED) for t in applied.templates().values()]
    assert len(records) == 7
    assert all(record and record.startswith("v1:") for record in records)
    assert "No changes." in applied.plan().out  # the record is not a change


def test_a_change_not_applied_yet_then_an_edit_outside_git(applied: Tenant) -> None:
    applied.edit(SNOWFLAKE, "batch_size: 20", "batch_size: 50")  # merged, not applied

    code, findings = drift(applied)
    assert code == 3
    (finding,) = findings
    assert finding["address"] == "AssetImport.snowflake-assets"
    assert finding["kind"] == "unapplied"
    assert finding["message"] == "not applied yet (run apply): parameters.assets_batch_size"
    assert by_kind(findings) == {"unapplied": [(BATCH, 20, 50)]}  # new: the manifest's value
    text = applied.cli("drift", str(applied.manifests))
    assert "[unapplied]" in text.out
    assert "~ parameters.assets_batch_size: 20 -> 50" in text.out
    assert text.out.rstrip().endswith("Drift: 0 drifted, 1 not applied yet, 0 unhealthy, 7 checked.")

    # Someone edits another field in the UI: that one is edited outside git, the first is not.
    name = workflow_of(applied, "snowflake-assets")
    applied.ui_edit(name, set_parameter("assets_prefix", "/typed-in-the-ui"))
    code, findings = drift(applied)
    assert code == 3
    assert by_kind(findings) == {
        "modified": [(PREFIX, "/typed-in-the-ui", "/imports/snowflake")],
        "unapplied": [(BATCH, 20, 50)],
    }
    assert next(f for f in findings if f["kind"] == "modified")["message"] == (
        "edited outside git: parameters.assets_prefix"
    )

    # ... and then the field git changed too: the tenant no longer holds what apply wrote there.
    applied.ui_edit(name, set_parameter("assets_batch_size", 500))
    code, findings = drift(applied)
    assert by_kind(findings) == {
        "modified": [(BATCH, 500, 50), (PREFIX, "/typed-in-the-ui", "/imports/snowflake")]
    }

    assert applied.apply().code == 0
    assert drift(applied) == (0, [])


def test_a_schedule_changed_in_git_is_not_applied_yet(applied: Tenant) -> None:
    applied.edit(SNOWFLAKE, 'cron: "0 2 * * *"', 'cron: "0 3 * * *"')
    code, findings = drift(applied)
    assert code == 3
    assert [(f["kind"], f["message"]) for f in findings] == [
        ("unapplied", "not applied yet (run apply): annotations.orchestration.atlan.com/schedule")
    ]


def test_without_a_record_drift_says_it_cannot_tell(applied: Tenant) -> None:
    """A workflow last applied by an older version has no record."""
    name = workflow_of(applied, "snowflake-assets")
    applied.ui_edit(name, lambda source: source["metadata"]["annotations"].pop(APPLIED))
    assert "No changes." in applied.plan().out  # a missing record is no reason to update
    applied.edit(SNOWFLAKE, "batch_size: 20", "batch_size: 50")
    code, findings = drift(applied)
    assert code == 3
    assert [(f["kind"], f["message"]) for f in findings] == [
        (
            "modified",
            "differs from git (edited outside git or not applied yet): parameters.assets_batch_size",
        )
    ]


@pytest.fixture
def prefixed(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> Tenant:
    monkeypatch.setenv("IMPORT_PREFIX", "first-prefix-value")
    tenant.edit(SNOWFLAKE, "prefix: /imports/snowflake", "prefix: /imports/${env:IMPORT_PREFIX}")
    # Without its source: the file's own findings (moved with the prefix) are another test's subject.
    tenant.edit(SNOWFLAKE, "    source: ../data/snowflake-assets.csv\n", "")
    assert tenant.apply().code == 0
    tenant.finish_runs()
    return tenant


def test_a_value_from_the_environment_is_told_apart_by_its_salted_digest(
    prefixed: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = json.dumps(prefixed.templates())
    assert "first-prefix-value" in record  # sent to the tenant, but not in the applied record:
    name = workflow_of(prefixed, "snowflake-assets")
    applied_record = prefixed.templates()[name]["metadata"]["annotations"][APPLIED]
    assert "first-prefix-value" not in applied_record

    monkeypatch.setenv("IMPORT_PREFIX", "rotated-prefix-value")  # the variable changed, not applied
    code, findings = drift(prefixed)
    assert code == 3
    shown = "/imports/${env:IMPORT_PREFIX}"
    assert by_kind(findings) == {"unapplied": [(PREFIX, shown, shown)]}

    prefixed.ui_edit(name, set_parameter("assets_prefix", "/imports/typed-in-the-ui"))
    result = prefixed.cli("drift", "-o", "json", str(prefixed.manifests))
    assert by_kind(result.json()["findings"]) == {"modified": [(PREFIX, shown, shown)]}  # masked both sides
    assert "rotated-prefix-value" not in result.out + result.err
    assert "first-prefix-value" not in result.out + result.err
