"""Issue 16: the plan of a workflow whose source's file changes (reconciler/plan/content.py, the
planner, the renderers, saved plans): uploads before the write that claims the run, the rows,
masked columns, and no read at all when the recorded digest is the local one."""

from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.desired import DesiredWorkflow, read_desired
from reconciler.drift import SeenObject, detect_drift
from reconciler.errors import DataError
from reconciler.live import LiveWorkflow
from reconciler.plan.content import (
    ObjectRead,
    content_changed,
    content_from_dict,
    content_in_place,
    parse_record,
    with_uploaded,
)
from reconciler.plan.model import Action, Create, Plan, PlannedWorkflow, Submit, Update, Upload
from reconciler.plan.normalise import CONTENT_ANNOTATION, CONTENT_VERSION_ANNOTATION
from reconciler.plan.planfile import (
    Fingerprints,
    dump_plan_file,
    load_plan_file,
    plan_differences,
)
from reconciler.plan.planner import plan
from reconciler.plan.review import fingerprint
from reconciler.render.plan import ROWS_SHOWN, describe, render_json, render_markdown, render_text
from tests.plan.simulate import ENVIRON, INSTANCE, fixed_salt, stored_source

HEADER = "typeName,name,anchor,userDescription,ownerUsers,qualifiedName\n"
TERMS = (
    HEADER + "AtlasGlossary,Finance,,Money matters,,\n"
    "AtlasGlossaryTerm,Revenue,Finance,Income,alice,\n"
    "AtlasGlossaryTerm,Cost,Finance,Outgoings,bob,\n"
)
EDITED = (  # Revenue's description changed, Cost removed, Margin added
    HEADER + "AtlasGlossary,Finance,,Money matters,,\n"
    "AtlasGlossaryTerm,Revenue,Finance,Income from sales,alice,\n"
    "AtlasGlossaryTerm,Margin,Finance,Revenue less cost,carol,\n"
)
KEY = "glossaries/terms.csv"


def manifest(policy: str = "on-change", source: str = "{file: terms.csv}", store: str = "") -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: reconciler/v1
        kind: AssetImport
        metadata: {{name: glossary}}
        spec:
        {store}  glossaries:
            prefix: /glossaries
            object_key: terms.csv
            source: {source}
          run: {{policy: {policy}}}
        """
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # outside git, sources stay under the current directory
    (tmp_path / "terms.csv").write_text(TERMS)
    (tmp_path / "glossary.yaml").write_text(manifest())
    return tmp_path


def desired_of(project: Path) -> list[DesiredWorkflow]:
    return read_desired([project / "glossary.yaml"], instance=INSTANCE, environ=ENVIRON)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def reads(desired: list[DesiredWorkflow], store: dict[str, tuple[str, bytes]]) -> dict[Any, ObjectRead]:
    """What the engine would read for each changed file, from ``store`` (key -> etag, bytes)."""
    found = {}
    for item in desired:
        for file in item.compiled.files:
            etag, before = store.get(file.key, (None, None))
            after = item.sources[file.section].render_bytes()[1]
            found[(item.name, file.section)] = ObjectRead(etag, before, after)
    return found


def planned(desired: list[DesiredWorkflow], live: list[LiveWorkflow], store: dict[str, Any]) -> Plan:
    return plan(desired, live, instance=INSTANCE, salt=fixed_salt(), content=reads(desired, store))


def live_with(desired: DesiredWorkflow, annotations: dict[str, str]) -> LiveWorkflow:
    return LiveWorkflow.from_source(stored_source(desired, annotations))


def applied(project: Path, store: dict[str, Any] | None = None) -> tuple[list[DesiredWorkflow], LiveWorkflow]:
    """The tenant once the manifest was created with its file, as apply records it."""
    desired = desired_of(project)
    [item] = planned(desired, [], store or {}).items
    return desired, live_with(desired[0], with_uploaded(item.annotations, {"glossaries": '"v1"'}))


def words(item: PlannedWorkflow) -> list[str]:
    return [describe(reason) for reason in item.reasons]


def test_a_new_workflow_uploads_its_file_before_the_create_that_starts_its_run(project: Path) -> None:
    desired = desired_of(project)
    [item] = planned(desired, [], {}).items
    digest = sha(TERMS.encode())
    assert item.steps == (Upload("glossaries", KEY, None, digest), Create(submit=True))
    assert words(item)[-1] == "content changed: glossaries (+3 ~0 -0 rows)"
    assert json.loads(item.annotations[CONTENT_ANNOTATION]) == {"glossaries": digest}
    [change] = item.content
    assert (change.object, change.before_digest, change.after_digest) == (f"tenant:{KEY}", None, digest)
    assert [row.op for row in change.diff.rows] == ["add", "add", "add"]  # a missing object: all added


def test_the_recorded_digest_equal_to_the_local_one_needs_no_read(project: Path) -> None:
    desired, live = applied(project)
    assert content_changed(desired[0].compiled.files, live.annotations) == []
    # Nothing was read, and nothing needs to be: the plan is empty.
    result = plan(desired, [live], instance=INSTANCE, salt=fixed_salt(), content={})
    assert [item.action for item in result.items] == [Action.NOOP]
    assert not result.has_changes


def test_changed_rows_upload_then_claim_the_rerun_with_the_new_record(project: Path) -> None:
    desired, live = applied(project)
    (project / "terms.csv").write_text(EDITED)
    desired = desired_of(project)
    [item] = planned(desired, [live], {KEY: ('"v1"', TERMS.encode())}).items

    new = sha(EDITED.encode())
    assert item.actions == (Action.UPDATE, Action.RERUN)
    assert item.steps == (
        Upload("glossaries", KEY, '"v1"', new),
        Update(resource_version="1", send_credentials=False, claim=True, changes_workflow=False),
        Submit(claimed=True),
    )
    assert "content changed: glossaries (+1 ~1 -1 rows)" in words(item)
    # The new record goes with the claim only; until then the workflow keeps the old one.
    assert parse_record(item.annotations[CONTENT_ANNOTATION]) == {"glossaries": sha(TERMS.encode())}
    assert parse_record(item.claim_annotations[CONTENT_ANNOTATION]) == {"glossaries": new}
    assert parse_record(item.claim_annotations[CONTENT_VERSION_ANNOTATION]) == {}  # the upload's comes later
    rows = {row.key: row for row in item.content[0].diff.rows}
    revenue = rows["typeName=AtlasGlossaryTerm, name=Revenue, anchor=Finance"]
    assert [(c.column, c.old, c.new) for c in revenue.cells] == [
        ("userDescription", "Income", "Income from sales")
    ]
    assert rows["typeName=AtlasGlossaryTerm, name=Cost, anchor=Finance"].op == "remove"
    assert rows["typeName=AtlasGlossaryTerm, name=Margin, anchor=Finance"].op == "add"


@pytest.mark.parametrize(
    ("policy", "actions", "update", "submit"),
    [
        ("never", (Action.UPDATE,), Update("1", False, claim=False, changes_workflow=True), None),
        (
            "always",
            (Action.UPDATE, Action.RERUN),
            Update("1", False, claim=False, changes_workflow=True),
            Submit(claimed=False),
        ),
    ],
)
def test_without_a_claim_the_update_writes_the_record(
    project: Path, policy: str, actions: tuple[Action, ...], update: Update, submit: Submit | None
) -> None:
    (project / "glossary.yaml").write_text(manifest(policy))
    desired, live = applied(project)
    (project / "terms.csv").write_text(EDITED)
    desired = desired_of(project)
    [item] = planned(desired, [live], {KEY: ('"v1"', TERMS.encode())}).items
    assert item.actions == actions
    assert item.steps == (Upload("glossaries", KEY, '"v1"', sha(EDITED.encode())), update) + (
        (submit,) if submit else ()
    )
    assert parse_record(item.annotations[CONTENT_ANNOTATION]) == {"glossaries": sha(EDITED.encode())}
    assert item.claim_annotations == {}


def test_a_file_uploaded_by_an_apply_stopped_before_its_claim_is_run_not_uploaded_again(
    project: Path,
) -> None:
    desired, live = applied(project)
    (project / "terms.csv").write_text(EDITED)
    desired = desired_of(project)
    [item] = planned(desired, [live], {KEY: ('"v2"', EDITED.encode())}).items
    assert not any(isinstance(step, Upload) for step in item.steps)
    assert item.actions == (Action.UPDATE, Action.RERUN)
    assert "content changed: glossaries (+0 ~0 -0 rows; uploaded already, not run yet)" in words(item)
    assert parse_record(item.claim_annotations[CONTENT_VERSION_ANNOTATION]) == {"glossaries": '"v2"'}


def test_masked_columns_are_digests_in_the_rows_and_in_every_output(project: Path) -> None:
    (project / "glossary.yaml").write_text(manifest(source="{file: terms.csv, mask: [ownerUsers, name]}"))
    desired = desired_of(project)
    result = planned(desired, [], {})
    outputs = render_text(result) + render_markdown(result) + render_json(result)
    for secret in ("alice", "bob", "Revenue"):
        assert secret not in outputs
    shown = "sha256:" + hashlib.sha256(b"alice").hexdigest()[:12]
    assert shown in outputs
    row = result.items[0].content[0].diff.rows[1]
    assert dict(row.identity)["name"] == "sha256:" + hashlib.sha256(b"Revenue").hexdigest()[:12]


def test_a_masked_column_the_file_does_not_have_is_an_error_at_its_line(project: Path) -> None:
    (project / "glossary.yaml").write_text(manifest(source="{file: terms.csv, mask: [ownerUser]}"))
    with pytest.raises(DataError) as caught:
        desired_of(project)
    [problem] = caught.value.problems
    assert str(problem).endswith(
        "glossary.yaml:8:38: spec.glossaries.source.mask[0]: "
        "'ownerUser' is not a column of the glossaries file (did you mean 'ownerUsers'?)"
    )


def many_rows(count: int) -> str:
    return HEADER + "".join(f"AtlasGlossaryTerm,Term {i},Finance,Text {i},,\n" for i in range(count))


def test_text_and_markdown_show_the_first_rows_json_every_row(project: Path) -> None:
    (project / "terms.csv").write_text(many_rows(ROWS_SHOWN + 5))
    result = planned(desired_of(project), [], {})
    text = render_text(result)
    assert text.count("+ typeName=AtlasGlossaryTerm, name=Term ") == ROWS_SHOWN
    assert "... and 5 more rows (plan -o json shows every row)" in text
    assert f"+ content glossaries: tenant:{KEY} (+{ROWS_SHOWN + 5} ~0 -0 rows)" in text

    markdown = render_markdown(result)
    assert f"glossaries: +{ROWS_SHOWN + 5} ~0 -0 rows (tenant:{KEY})</summary>" in markdown
    assert markdown.count("+ typeName=AtlasGlossaryTerm") == ROWS_SHOWN

    [entry] = json.loads(render_json(result))["workflows"]
    [content] = entry["content"]
    assert {k: content[k] for k in ("section", "object", "before_digest", "added", "changed", "removed")} == {
        "section": "glossaries",
        "object": f"tenant:{KEY}",
        "before_digest": None,
        "added": ROWS_SHOWN + 5,
        "changed": 0,
        "removed": 0,
    }
    assert len(content["rows"]) == ROWS_SHOWN + 5
    assert content["rows"][0] == {
        "op": "add",
        "identity": {
            "typeName": "AtlasGlossaryTerm",
            "name": "Term 0",
            "anchor": "Finance",
            "parentCategory": "",
        },
        "cells": [
            {"column": "typeName", "old": "", "new": "AtlasGlossaryTerm"},
            {"column": "name", "old": "", "new": "Term 0"},
            {"column": "anchor", "old": "", "new": "Finance"},
            {"column": "userDescription", "old": "", "new": "Text 0"},
        ],
    }
    assert content_from_dict(content) == result.items[0].content[0]


def test_a_saved_plan_keeps_the_content_and_refuses_another_object(project: Path, tmp_path: Path) -> None:
    desired, live = applied(project)
    (project / "terms.csv").write_text(EDITED)
    desired = desired_of(project)
    saved = planned(desired, [live], {KEY: ('"v1"', TERMS.encode())})
    path = tmp_path / "plan.json"
    path.write_text(dump_plan_file(saved, Fingerprints({}, {}, {}), paths=[], options={}))
    loaded = load_plan_file(path).plan
    assert loaded.items[0].content == saved.items[0].content
    assert plan_differences(loaded, saved) == []

    replaced = planned(desired, [live], {KEY: ('"v9"', b"typeName,name\nAtlasGlossary,Other\n")})
    assert plan_differences(loaded, replaced) == ["AssetImport.glossary: steps, content differ"]
    # A reviewer approved these digests: another object before the upload is another plan.
    assert fingerprint(replaced) != fingerprint(saved)


def test_an_adoption_that_finds_the_file_in_place_runs_nothing(project: Path) -> None:
    desired, live = applied(project)
    unrecorded = {k: v for k, v in live.annotations.items() if not k.startswith("reconciler.dev/content")}
    live = live_with(desired[0], unrecorded)
    [item] = planned(desired, [live], {KEY: ('"v1"', TERMS.encode())}).items
    assert item.actions == (Action.UPDATE, Action.RERUN)  # a managed workflow: run once with it
    labels = {k: v for k, v in live.labels.items() if not k.startswith("reconciler.dev/")}
    raw = {**live.raw, "metadata": {**live.raw["metadata"], "labels": labels}}
    adopted = replace(desired[0], adopt=live.name)
    [item] = planned(
        [adopted], [live.model_copy(update={"raw": raw, "labels": labels})], {KEY: ('"v1"', TERMS.encode())}
    ).items
    assert item.actions == (Action.ADOPT, Action.UPDATE)
    assert parse_record(item.annotations[CONTENT_VERSION_ANNOTATION]) == {"glossaries": '"v1"'}


def drift_messages(desired: list[DesiredWorkflow], live: LiveWorkflow, seen: Any) -> list[tuple[str, str]]:
    result = plan(desired, [live], instance=INSTANCE, salt=fixed_salt())
    report = detect_drift(result, desired, {}, live={live.name: live}, objects=seen)
    return [(f.kind, f.message) for f in report.findings]


def test_drift_compares_each_recorded_file_with_one_head(project: Path) -> None:
    desired, live = applied(project)
    [file] = content_in_place(desired[0].compiled.files, live.annotations)
    where = ("glossary", "glossaries")
    url = f"tenant:{KEY}"
    assert drift_messages(desired, live, {where: SeenObject('"v1"')}) == []
    assert drift_messages(desired, live, {where: SeenObject('"v7"')}) == [
        ("content", f"glossaries: replaced outside git ({url})")
    ]
    assert drift_messages(desired, live, {where: None}) == [
        ("content", f"glossaries: missing: deleted outside git ({url})")
    ]
    # A store that keeps our digest with the object is judged by it, whatever its version token.
    assert drift_messages(desired, live, {where: SeenObject('"v7"', file.sha256)}) == []
    assert drift_messages(desired, live, {where: SeenObject('"v1"', sha(b"other"))}) == [
        ("content", f"glossaries: replaced outside git ({url})")
    ]
    assert drift_messages(desired, live, None) == []  # --no-content

    (project / "terms.csv").write_text(EDITED)
    assert drift_messages(desired_of(project), live, {}) == [
        ("unapplied", "content not applied yet (run apply): glossaries")
    ]
