"""What apply records it wrote (``reconciler.dev/applied``), and how drift tells with it a change
not applied yet from an edit outside git, field by field; and how the drift renderers show both."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.desired import DesiredWorkflow
from reconciler.drift import DriftReport, Finding, detect_drift
from reconciler.github import drift_issue_body
from reconciler.live import LiveWorkflow
from reconciler.plan.digests import AppliedRecord
from reconciler.plan.model import Action, FieldChange, Plan, Update
from reconciler.plan.planfile import decision
from reconciler.plan.planner import plan
from reconciler.plan.review import canonical, reviewed
from reconciler.render.drift import drift_as_dict, render_drift_markdown, render_drift_text
from reconciler.render.terminal import paint, paint_mark, paint_mark_line
from tests.plan.simulate import (
    ENVIRON,
    INSTANCE,
    desired_from,
    fixed_salt,
    manifest,
    parameters,
    sources_after_apply,
    write_manifests,
)

APPLIED = "reconciler.dev/applied"
Source = dict[str, Any]


def planned(desired: list[DesiredWorkflow], live: list[LiveWorkflow], salt: str = "11" * 16) -> Plan:
    return plan(desired, live, instance=INSTANCE, salt=fixed_salt(salt))


def desired_of(tmp_path: Path, text: str, environ: dict[str, str] = ENVIRON) -> list[DesiredWorkflow]:
    """The manifest ``text`` loaded and compiled (from a directory of its own)."""
    return desired_from(write_manifests(Path(tempfile.mkdtemp(dir=tmp_path)), a=text), environ=environ)


def applied_source(tmp_path: Path, text: str = manifest()) -> Source:
    """The source the tenant holds once ``text`` was created by apply."""
    desired = desired_of(tmp_path, text)
    (source,) = sources_after_apply(planned(desired, []), desired)
    return source


def findings(
    tmp_path: Path, source: Source, text: str = manifest(), environ: dict[str, str] = ENVIRON
) -> list[tuple[str, str, list[tuple[str, Any, Any]]]]:
    """Drift of ``text`` (the manifest in git now) against ``source`` (the tenant now)."""
    live = LiveWorkflow.from_source(source)
    desired = desired_of(tmp_path, text, environ)
    report = detect_drift(planned(desired, [live]), desired, {}, live={live.name: live})
    return [(f.kind, f.message, [(c.dotted, c.old, c.new) for c in f.changes]) for f in report.findings]


def edited(source: Source, change: Callable[[Source], None]) -> Source:
    """``source`` as someone changed it in the UI (the annotations apply left stay as they are)."""
    result = copy.deepcopy(source)
    change(result)
    return result


def set_prefix(value: str) -> Callable[[Source], None]:
    def change(source: Source) -> None:
        (prefix,) = [p for p in parameters(source) if p["name"] == "assets_prefix"]
        prefix["value"] = value

    return change


# -- the record the planner puts on each write -----------------------------------------------------


def test_every_create_and_update_records_what_it_writes_and_a_no_op_nothing(tmp_path: Path) -> None:
    desired = desired_of(tmp_path, manifest())
    (create,) = planned(desired, []).items
    assert create.annotations[APPLIED].startswith("v1:")

    live = LiveWorkflow.from_source(applied_source(tmp_path))
    (noop,) = planned(desired, [live]).items
    assert noop.action is Action.NOOP
    assert APPLIED not in noop.annotations

    (update,) = planned(desired_of(tmp_path, manifest(prefix="/out")), [live]).items
    assert isinstance(update.steps[0], Update)
    assert update.annotations[APPLIED] not in ("", create.annotations[APPLIED])


def test_the_record_is_the_same_in_every_plan_and_holds_no_value_from_the_environment(tmp_path: Path) -> None:
    desired = desired_of(tmp_path, manifest())
    rotated = desired_of(tmp_path, manifest(), {**ENVIRON, "AWS_ACCESS_KEY_ID": "AKIAOTHERKEYID"})
    first, again = planned(desired, []).items[0], planned(desired, [], salt="22" * 16).items[0]
    assert first.annotations[APPLIED] == again.annotations[APPLIED]
    assert decision(first)["annotations"][APPLIED] == decision(again)["annotations"][APPLIED]
    # The access key id comes from ${env:...}: the record holds its reference, not its value.
    assert planned(rotated, []).items[0].annotations[APPLIED] == first.annotations[APPLIED]


def test_the_record_is_bookkeeping_not_a_reason_to_update_nor_reviewed(tmp_path: Path) -> None:
    desired = desired_of(tmp_path, manifest())
    created = planned(desired, [])
    assert APPLIED in created.items[0].annotations
    assert APPLIED not in canonical(reviewed(created))  # the plan fingerprint
    source = applied_source(tmp_path)
    for record in (None, "v1:garbage", "written by someone else"):
        stripped = copy.deepcopy(source)
        annotations = stripped["metadata"]["annotations"]
        annotations.pop(APPLIED) if record is None else annotations.update({APPLIED: record})
        (item,) = planned(desired, [LiveWorkflow.from_source(stripped)]).items
        assert item.action is Action.NOOP, record
        assert item.before is not None
        assert APPLIED not in item.before["annotations"]


def test_a_record_of_another_version_or_none_is_no_record() -> None:
    assert AppliedRecord.parse(None) is None
    assert AppliedRecord.parse("v2:AAAAAAAA") is None
    assert AppliedRecord.parse("v1:AAAA") is None  # not whole entries


# -- drift: not applied yet, edited outside git, or cannot tell -----------------------------------------


def test_a_change_in_git_is_not_applied_yet_with_the_manifests_value(tmp_path: Path) -> None:
    assert findings(tmp_path, applied_source(tmp_path), manifest(prefix="/out")) == [
        (
            "unapplied",
            "not applied yet (run apply): parameters.assets_prefix",
            [("parameters.assets_prefix", "/in", "/out")],
        )
    ]


def test_a_change_on_the_tenant_is_edited_outside_git(tmp_path: Path) -> None:
    source = edited(applied_source(tmp_path), set_prefix("/ui"))
    assert findings(tmp_path, source) == [
        (
            "modified",
            "edited outside git: parameters.assets_prefix",
            [("parameters.assets_prefix", "/ui", "/in")],
        )
    ]
    # Both at once on one field: the tenant no longer has what apply wrote, so it was edited.
    assert findings(tmp_path, source, manifest(prefix="/out"))[0][:2] == (
        "modified",
        "edited outside git: parameters.assets_prefix",
    )


@pytest.mark.parametrize(
    ("on_tenant", "in_git", "expected"),
    [
        (None, {"team": "data"}, ("unapplied", [("labels.team", None, "data")])),  # added in git
        ({"team": "ui"}, None, ("modified", [("labels.team", "ui", None)])),  # added on the tenant
        ({"team": "ui"}, {"team": "data"}, ("modified", [("labels.team", "ui", "data")])),
    ],
)
def test_a_field_apply_did_not_write_is_told_apart_too(
    tmp_path: Path, on_tenant: dict[str, str] | None, in_git: dict[str, str] | None, expected: tuple[str, Any]
) -> None:
    source = applied_source(tmp_path)
    if on_tenant:
        source = edited(source, lambda s: s["metadata"]["labels"].update(on_tenant))
    ((kind, _, changes),) = findings(tmp_path, source, manifest(labels=in_git))
    assert (kind, changes) == expected


def test_a_field_removed_on_the_tenant_is_edited_outside_git(tmp_path: Path) -> None:
    source = applied_source(tmp_path, manifest(labels={"team": "data"}))
    source = edited(source, lambda s: s["metadata"]["labels"].pop("team"))
    assert findings(tmp_path, source, manifest(labels={"team": "data"}))[0][0] == "modified"


def test_a_part_replaced_on_the_tenant_is_reported_field_by_field(tmp_path: Path) -> None:
    def replace_annotations(source: Source) -> None:
        annotations = source["metadata"]["annotations"]
        kept = {k: v for k, v in annotations.items() if k.startswith("reconciler.dev/")}
        annotations.clear()
        annotations.update({**kept, "typed": "in the ui"})

    ((kind, message, changes),) = findings(tmp_path, edited(applied_source(tmp_path), replace_annotations))
    assert kind == "modified"
    assert message.startswith("edited outside git: annotations.")
    assert ("annotations.typed", "in the ui", None) in changes
    assert len(changes) > 2
    assert all(dotted.startswith("annotations.") and dotted != "annotations" for dotted, _, _ in changes)


def test_a_value_from_the_environment_is_told_apart_by_its_salted_digest(tmp_path: Path) -> None:
    source = applied_source(tmp_path)
    rotated = {**ENVIRON, "AWS_ACCESS_KEY_ID": "AKIAROTATEDKEYID"}
    shown = "${env:AWS_ACCESS_KEY_ID}"
    change = [("credential.username", shown, shown)]
    assert findings(tmp_path, source, environ=rotated)[0] == (
        "unapplied",
        "not applied yet (run apply): credential.username",
        change,
    )  # then "credentials differ from the manifest's secrets": the digest of the whole credential

    def typed_in(source: Source) -> None:
        annotations = source["metadata"]["annotations"]
        annotations["reconciler.dev/credential"] = annotations["reconciler.dev/credential"].replace(
            ENVIRON["AWS_ACCESS_KEY_ID"], "AKIATYPEDINTHEUI"
        )

    assert findings(tmp_path, edited(source, typed_in)) == [
        ("modified", "edited outside git: credential.username", change)
    ]


def test_a_schedule_changed_in_git_is_not_applied_yet_and_on_the_tenant_is_edited(tmp_path: Path) -> None:
    text = manifest(schedule={"cron": "0 2 * * *", "timezone": "UTC"})
    source = applied_source(tmp_path, text)
    later = manifest(schedule={"cron": "0 3 * * *", "timezone": "UTC"})
    schedule = "annotations.orchestration.atlan.com/schedule"
    assert [f[:2] for f in findings(tmp_path, source, later)] == [
        ("unapplied", f"not applied yet (run apply): {schedule}")
    ]

    def ui(s: Source) -> None:
        s["metadata"]["annotations"]["orchestration.atlan.com/schedule"] = "0 9 * * *"

    assert [f[:2] for f in findings(tmp_path, edited(source, ui), text)] == [
        ("schedule", "schedule changed outside git")
    ]


def test_without_a_record_drift_says_it_cannot_tell(tmp_path: Path) -> None:
    source = applied_source(tmp_path)
    source["metadata"]["annotations"].pop(APPLIED)  # applied by an older version
    assert findings(tmp_path, source, manifest(prefix="/out"))[0][:2] == (
        "modified",
        "differs from git (edited outside git or not applied yet): parameters.assets_prefix",
    )


# -- the renderers ---------------------------------------------------------------------------------------

CHANGE = FieldChange("change", ("parameters", "assets_batch_size"), 20, 50)
EDIT = FieldChange("change", ("parameters", "assets_prefix"), "/ui", "/in")


def report() -> DriftReport:
    return DriftReport(
        "default",
        (
            Finding(
                "AssetImport.a", "wf-a", "modified", "edited outside git: parameters.assets_prefix", (EDIT,)
            ),
            Finding("AssetImport.a", "wf-a", "unapplied", "not applied yet (run apply): x", (CHANGE,)),
            Finding("AssetImport.b", "wf-b", "unapplied", "not applied yet (run apply): x", (CHANGE,)),
        ),
        checked=3,
    )


def test_the_summary_counts_what_is_not_applied_yet_apart() -> None:
    assert report().summary_line() == "Drift: 1 drifted, 2 not applied yet, 0 unhealthy, 3 checked."
    assert report().drifted
    assert report().unapplied
    assert "not applied yet" not in DriftReport("default", (), checked=1).summary_line()


def test_text_is_coloured_like_the_plan_only_when_asked() -> None:
    coloured = render_drift_text(report(), color=True)
    assert f"  {paint_mark('~', True)} AssetImport.b  (wf-b)  [unapplied]" in coloured
    assert f"      {paint_mark_line('~ parameters.assets_batch_size: 20 -> 50', True)}" in coloured
    assert paint("Drift: 1 drifted, 2 not applied yet, 0 unhealthy, 3 checked.", "bold", True) in coloured
    assert "\x1b[33m" in coloured  # yellow, as the plan marks an update
    plain = render_drift_text(report())
    assert "\x1b" not in plain
    assert "  ~ AssetImport.b  (wf-b)  [unapplied]\n      # not applied yet (run apply): x\n" in plain
    assert "      ~ parameters.assets_batch_size: 20 -> 50\n" in plain


def test_json_and_markdown_show_the_new_kind() -> None:
    data = drift_as_dict(report())
    assert data["unapplied"] is True
    assert data["drifted"] is True
    assert [f["kind"] for f in data["findings"]] == ["modified", "unapplied", "unapplied"]
    assert data["findings"][1]["changes"] == [
        {"op": "change", "path": ["parameters", "assets_batch_size"], "old": 20, "new": 50}
    ]
    markdown = render_drift_markdown(report())
    assert "| `~` | `AssetImport.b` | unapplied | not applied yet (run apply): x |" in markdown
    assert "**Drift: 1 drifted, 2 not applied yet, 0 unhealthy, 3 checked.**" in markdown


def test_the_drift_issue_says_what_is_not_applied_yet_and_what_to_do() -> None:
    body = drift_issue_body(render_drift_markdown(report()), instance="default", run_url=None)
    assert "| `~` | `AssetImport.b` | unapplied | not applied yet (run apply): x |" in body
    assert "`unapplied`: changed in git since the last apply, which the tenant still matches" in body
    only_edits = DriftReport("default", report().findings[:1], checked=1)
    assert "`unapplied`:" not in render_drift_markdown(only_edits)
