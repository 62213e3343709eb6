"""detect_drift is pure: findings from a plan, the newest runs and the tenant's credential metadata."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.drift import detect_drift
from reconciler.live import LiveRun
from reconciler.plan.model import Action, FieldChange, Plan, PlannedWorkflow
from tests.helpers import as_planned

RECORDED = {"authType": "s3", "username": "AKIA1", "extra": {"s3_bucket": "acme", "region": "us-west-1"}}


def item(*actions: Action, changes: tuple[FieldChange, ...] = (), **fields: Any) -> PlannedWorkflow:
    return PlannedWorkflow(
        address="AssetImport.a",
        kind="AssetImport",
        workflow="csa-asset-import-0000000001",
        manifest="a",
        **as_planned(*actions),
        changes=changes,
        before={"credential": RECORDED},
        **fields,
    )


def kinds(plan: Plan, **options: Any) -> list[tuple[str, str]]:
    options.setdefault("latest_runs", {})
    report = detect_drift(plan, [], options.pop("latest_runs"), **options)
    return [(f.kind, f.message) for f in report.findings]


SCHEDULE = FieldChange(
    "change", ("annotations", "orchestration.atlan.com/schedule"), "0 9 * * *", "0 2 * * *"
)
PARAMETER = FieldChange("change", ("parameters", "assets_batch_size"), 500, 20)


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        (item(), []),
        (item(Action.CREATE), [("missing", "not on the tenant")]),
        (item(Action.ADOPT), [("adoption", "not adopted yet (run apply)")]),
        (item(Action.RERUN), []),  # a pending rerun is not drift
        # Without the live workflow (or its record of what apply wrote) drift cannot tell
        # an edit outside git from a change not applied yet: tests/test_drift_record.py.
        (
            item(Action.UPDATE, changes=(PARAMETER,)),
            [
                (
                    "modified",
                    "differs from git (edited outside git or not applied yet): parameters.assets_batch_size",
                )
            ],
        ),
        (
            item(Action.UPDATE, changes=(SCHEDULE,)),
            [("schedule", "schedule differs from git (changed outside git or not applied yet)")],
        ),
        (
            item(Action.UPDATE, credentials_changed=True),
            [
                (
                    "credentials",
                    "credentials differ from the manifest's secrets (changed outside git or not applied)",
                )
            ],
        ),
    ],
)
def test_findings_by_plan_action(planned: PlannedWorkflow, expected: list[tuple[str, str]]) -> None:
    assert kinds(Plan("default", (planned,))) == expected


def test_orphans_are_drift() -> None:
    assert kinds(Plan("default", (), orphans=("csa-asset-import-9",))) == [
        ("orphaned", "managed by this instance but has no manifest")
    ]


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        (RECORDED, []),
        (None, [("credentials", "credential deleted outside git")]),
        (
            {
                **RECORDED,
                "extra": {"s3_bucket": "elsewhere", "region": "us-west-1"},
                "password": "never-read",
            },
            [("credentials", "credential edited outside git: credential.extra.s3_bucket")],
        ),
    ],
)
def test_the_tenants_credential_is_compared_with_the_recorded_one(
    shown: dict[str, Any] | None, expected: list[tuple[str, str]]
) -> None:
    plan = Plan("default", (item(),))
    assert kinds(plan, credentials={"csa-asset-import-0000000001": shown}) == expected


def test_an_unread_or_unrecorded_credential_is_not_compared() -> None:
    assert kinds(Plan("default", (item(),)), credentials={}) == []
    unrecorded = PlannedWorkflow("AssetImport.a", "AssetImport", "w", "a", Action.NOOP, before={})
    assert kinds(Plan("default", (unrecorded,)), credentials={"w": None}) == []


@pytest.mark.parametrize("phase", ["Failed", "Error"])
def test_a_failed_last_run_is_unhealthy_and_an_older_one_is_not(phase: str) -> None:
    runs = [
        LiveRun(name="w-new", template_name="w", phase=phase),
        LiveRun(name="w-old", template_name="w", phase="Succeeded"),
    ]
    plan = Plan("default", (item(),))
    found = kinds(plan, latest_runs={"csa-asset-import-0000000001": runs})
    assert found == [("unhealthy", f"last run w-new ended {phase}")]
    older_failure = [runs[1], runs[0]]
    assert kinds(plan, latest_runs={"csa-asset-import-0000000001": older_failure}) == []


@pytest.mark.parametrize(
    ("pointer", "silenced"),
    [
        ("/parameters/assets_batch_size", "modified"),
        ("/parameters", "modified"),
        ("/annotations/orchestration.atlan.com~1schedule", "schedule"),
        ("/credentials", "credentials"),
        ("/health", "unhealthy"),
    ],
)
def test_global_ignores_silence_one_kind(pointer: str, silenced: str) -> None:
    planned = item(Action.UPDATE, changes=(PARAMETER, SCHEDULE), credentials_changed=True)
    runs = {"csa-asset-import-0000000001": [LiveRun(name="r", template_name="w", phase="Failed")]}
    before = {kind for kind, _ in kinds(Plan("default", (planned,)), latest_runs=runs)}
    after = {
        kind for kind, _ in kinds(Plan("default", (planned,)), latest_runs=runs, global_ignore=[pointer])
    }
    assert before == {"modified", "schedule", "credentials", "unhealthy"}
    assert after == before - {silenced}
