"""Issue 18: ``spec.parameters`` are fields like any other for plan and drift."""

from __future__ import annotations

from pathlib import Path

from reconciler.drift import detect_drift
from reconciler.live import LiveWorkflow
from reconciler.plan.model import Action, FieldChange
from reconciler.plan.planner import plan
from tests.plan.simulate import (
    desired_from,
    fixed_salt,
    live_after_apply,
    parameters,
    sources_after_apply,
    write_manifests,
)

MANIFEST = """\
apiVersion: reconciler/v1
kind: AssetImport
metadata: {name: assets}
spec:
  assets: {prefix: /in, object_key: assets.csv}
  parameters: {track_batches: false, a_new_option: "${env:NEW_OPTION}"}
"""
ENVIRON = {"NEW_OPTION": "on"}


def test_a_passed_through_parameter_changed_in_the_ui_is_planned_back_and_is_drift(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, assets=MANIFEST), environ=ENVIRON)
    created = plan(desired, [], instance="prod", salt=fixed_salt())
    assert (
        plan(desired, live_after_apply(created, desired), instance="prod", salt=fixed_salt()).has_changes
        is False
    )

    [source] = sources_after_apply(created, desired)
    edited = [p for p in parameters(source) if p["name"] != "a_new_option"]
    edited = [{**p, "value": True} if p["name"] == "track_batches" else p for p in edited]
    source["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"] = edited
    live = LiveWorkflow.from_source(source)

    result = plan(desired, [live], instance="prod", salt=fixed_salt())
    [item] = result.items
    assert item.has(Action.UPDATE)
    # The value from the environment is shown as the manifest's reference, never as the value.
    assert item.changes == (
        FieldChange("add", ("parameters", "a_new_option"), None, "${env:NEW_OPTION}"),
        FieldChange("change", ("parameters", "track_batches"), True, False),
    )
    report = detect_drift(result, desired, {}, live={live.name: live})
    assert [(f.kind, f.message) for f in report.findings] == [
        ("modified", "edited outside git: parameters.a_new_option, parameters.track_batches")
    ]
