"""Plan renderers: text, markdown (a PR comment) and JSON are pure functions of a Plan."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.live import LiveWorkflow
from reconciler.plan.model import (
    FORMAT_VERSION,
    Action,
    FieldChange,
    Plan,
    PlannedWorkflow,
    Reason,
    ReasonCode,
)
from reconciler.plan.planner import plan
from reconciler.render.plan import (
    LIST_UNCHANGED_UP_TO,
    MARKDOWN_LIMIT,
    MARKDOWN_MARKER,
    plan_as_dict,
    render_json,
    render_markdown,
    render_text,
)
from tests.helpers import CANARY, EXAMPLES, as_planned
from tests.plan.simulate import (
    ENVIRON,
    INSTANCE,
    desired_from,
    live_after_apply,
    manifest,
    sources_after_apply,
    write_manifests,
)

ANSI = re.compile(r"\x1b\[")


def item(
    name: str,
    *actions: Action,
    reasons: tuple[Reason, ...] = (),
    changes: tuple[FieldChange, ...] = (),
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> PlannedWorkflow:
    return PlannedWorkflow(
        address=f"AssetImport.{name}",
        kind="AssetImport",
        workflow=f"wf-{name}",
        manifest=name,
        **as_planned(*actions),
        reasons=reasons,
        changes=changes,
        before=before,
        after=after,
    )


PREFIX_CHANGE = FieldChange("change", ("parameters", "assets_prefix"), "/in", "/in/v2")
LABEL_REMOVED = FieldChange("remove", ("labels", "owner"), "alice", None)
LABEL_ADDED = FieldChange("add", ("labels", "team"), None, "data")


def mixed_plan() -> Plan:
    """2 to create, 1 to update, 3 to rerun, 0 to archive, plus one unchanged."""
    return Plan(
        instance="prod",
        items=(
            item("a", Action.CREATE, reasons=(Reason(ReasonCode.NOT_ON_TENANT),), after={"labels": {}}),
            item("b", Action.CREATE, reasons=(Reason(ReasonCode.NOT_ON_TENANT),), after={"labels": {}}),
            item(
                "c",
                Action.UPDATE,
                Action.RERUN,
                reasons=(
                    Reason(ReasonCode.FIELDS_CHANGED, ("parameters.assets_prefix",)),
                    Reason(ReasonCode.SPEC_CHANGED_SINCE_RUN),
                ),
                changes=(PREFIX_CHANGE, LABEL_REMOVED, LABEL_ADDED),
                before={"parameters": {"assets_prefix": "/in"}},
                after={"parameters": {"assets_prefix": "/in/v2"}},
            ),
            item("d", Action.RERUN, reasons=(Reason(ReasonCode.RUN_TOKEN_CHANGED, ("1", "2")),)),
            item("e", Action.RERUN, reasons=(Reason(ReasonCode.RUN_POLICY_ALWAYS),)),
            item("f"),
        ),
        notes=("1 managed workflow(s) have no manifest and are left alone: wf-z",),
    )


EMPTY = Plan(instance="prod", items=(item("f"), item("g")))


# -- text --


def test_text_summary_line_format() -> None:
    text = render_text(mixed_plan())
    assert text.splitlines()[-1] == "Plan: 2 to create, 1 to update, 3 to rerun, 0 to archive."
    assert text.endswith("\n")


def test_text_summary_mentions_adoptions_only_when_there_are_some() -> None:
    p = Plan(
        instance="prod", items=(item("a", Action.ADOPT, reasons=(Reason(ReasonCode.TAKE_OVER, ("wf-a",)),)),)
    )
    assert (
        render_text(p).splitlines()[-1]
        == "Plan: 1 to adopt, 0 to create, 0 to update, 0 to rerun, 0 to archive."
    )


@pytest.mark.parametrize(
    ("actions", "mark"),
    [
        ((Action.CREATE,), "+"),
        ((Action.UPDATE,), "~"),
        ((Action.UPDATE, Action.RERUN), "~"),
        ((Action.RERUN,), "↻"),
        ((Action.ADOPT,), "<="),
        ((Action.ADOPT, Action.UPDATE, Action.RERUN), "<="),
        ((Action.ARCHIVE,), "-"),
    ],
)
def test_text_symbol_per_action(actions: tuple[Action, ...], mark: str) -> None:
    text = render_text(
        Plan(instance="prod", items=(item("a", *actions, reasons=(Reason(ReasonCode.NO_RUN_RECORDED),)),))
    )
    expected = f"  {mark} AssetImport.a  (wf-a)  [{', '.join(a.value for a in actions)}]"
    assert expected in text.splitlines()
    assert "      # no run recorded by reconciler yet" in text.splitlines()


def test_text_lists_reasons_changes_unchanged_and_notes() -> None:
    lines = render_text(mixed_plan()).splitlines()
    assert lines[0] == 'reconciler will perform these actions (instance "prod"):'
    assert '      ~ parameters.assets_prefix: "/in" -> "/in/v2"' in lines
    assert '      - labels.owner: "alice"' in lines
    assert '      + labels.team: "data"' in lines
    assert "      # spec changed since the last run" in lines
    assert "  = AssetImport.f  (wf-f)" in lines
    assert "Note: 1 managed workflow(s) have no manifest and are left alone: wf-z" in lines
    assert not any(line.startswith("No changes") for line in lines)


def test_text_long_values_are_shortened() -> None:
    change = FieldChange("change", ("parameters", "x"), "a" * 500, "b")
    text = render_text(Plan(instance="prod", items=(item("a", Action.UPDATE, changes=(change,)),)))
    (line,) = [line for line in text.splitlines() if "parameters.x" in line]
    assert "a" * 200 not in line
    assert '..." -> "b"' not in line  # the value is cut, not the arrow
    assert line.endswith('... -> "b"')


MASKED = FieldChange("change", ("parameters", "assets_prefix"), "/${env:PREFIX}", "/${env:PREFIX}")


def test_a_masked_change_shows_the_reference_and_says_the_value_changed() -> None:
    """A value from ${env:NAME} arrives masked (old == new == the reference as written): shown
    as written, unquoted, with no arrow; JSON keeps the data as the planner gave it."""
    p = Plan(instance="prod", items=(item("a", Action.UPDATE, Action.RERUN, changes=(MASKED,)),))
    line = "~ parameters.assets_prefix: /${env:PREFIX} (value changed)"

    assert f"      {line}" in render_text(p).splitlines()
    assert f"      \x1b[33m{line}\x1b[0m" in render_text(p, color=True).splitlines()
    assert f"```diff\n{line}\n```" in render_markdown(p)
    (change,) = plan_as_dict(p)["workflows"][0]["changes"]
    assert change == {
        "op": "change",
        "path": ["parameters", "assets_prefix"],
        "old": "/${env:PREFIX}",
        "new": "/${env:PREFIX}",
    }


def test_a_masked_change_of_a_structured_value_is_shown_as_json() -> None:
    masked = FieldChange("change", ("parameters", "paths"), ["${env:A}", 1], ["${env:A}", 1])
    text = render_text(Plan(instance="prod", items=(item("a", Action.UPDATE, changes=(masked,)),)))
    assert '      ~ parameters.paths: ["${env:A}", 1] (value changed)' in text.splitlines()


@pytest.mark.parametrize("p", [EMPTY, Plan(instance="prod", items=())], ids=["unchanged items", "no items"])
def test_text_for_a_plan_without_changes(p: Plan) -> None:
    text = render_text(p)
    assert "No changes. The tenant matches the manifests." in text
    assert text.splitlines()[-1] == "Plan: 0 to create, 0 to update, 0 to rerun, 0 to archive."
    assert "will perform" not in text


def test_text_counts_unchanged_workflows_of_a_large_plan() -> None:
    many = Plan(instance="prod", items=tuple(item(f"w{i:03d}") for i in range(LIST_UNCHANGED_UP_TO + 1)))
    text = render_text(many)
    assert f"  {LIST_UNCHANGED_UP_TO + 1} workflows unchanged." in text.splitlines()
    assert "AssetImport.w000" not in text


@pytest.mark.parametrize("p", [mixed_plan(), EMPTY], ids=["changes", "empty"])
def test_text_has_ansi_escapes_only_with_color(p: Plan) -> None:
    assert not ANSI.search(render_text(p))
    assert not ANSI.search(render_text(p, color=False))
    colored = render_text(p, color=True)
    assert ANSI.search(colored)
    # Colour changes nothing but the escapes.
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == render_text(p)


# -- markdown --


def test_markdown_summary_comes_first_then_details() -> None:
    text = render_markdown(mixed_plan())
    lines = text.splitlines()
    assert lines[0] == MARKDOWN_MARKER
    summary = "**Plan: 2 to create, 1 to update, 3 to rerun, 0 to archive.**"
    assert summary in lines
    assert lines.index(summary) < lines.index("| | workflow | actions | reason |")
    assert text.index(summary) < text.index("<details>")
    # one per workflow with field changes; the others are fully described by their table row
    assert (
        text.count("<details>") == text.count("</details>") == sum(1 for i in mixed_plan().items if i.changes)
    )
    assert text.count("<details>") >= 1
    assert '```diff\n~ parameters.assets_prefix: "/in" -> "/in/v2"\n- labels.owner' in text
    assert "| `~` | `AssetImport.c` | update, rerun | changed: parameters.assets_prefix; spec changed" in text
    assert "> 1 managed workflow(s) have no manifest and are left alone: wf-z" in lines
    assert "1 workflow(s) unchanged." in lines
    assert "_Truncated" not in text
    assert not ANSI.search(text)


def test_markdown_escapes_table_cells() -> None:
    p = Plan(
        instance="prod",
        items=(item("a", Action.UPDATE, reasons=(Reason(ReasonCode.TAKE_OVER, ("a | b\nc",)),)),),
    )
    assert "| take over unmanaged workflow a \\| b c |" in render_markdown(p)


def test_markdown_for_a_plan_without_changes() -> None:
    text = render_markdown(EMPTY)
    assert text.startswith(MARKDOWN_MARKER + "\n")
    assert "No changes. The tenant matches the manifests." in text
    assert "<details>" not in text
    assert "| | workflow |" not in text


def test_markdown_custom_marker() -> None:
    assert render_markdown(EMPTY, marker="<!-- x -->").startswith("<!-- x -->\n")


def _huge_plan(count: int) -> Plan:
    change = FieldChange("change", ("parameters", "assets_prefix"), "/old/" + "x" * 60, "/new/" + "y" * 60)
    return Plan(
        instance="prod",
        items=tuple(
            item(
                f"w{i:05d}",
                Action.UPDATE,
                Action.RERUN,
                reasons=(Reason(ReasonCode.FIELDS_CHANGED, ("parameters.assets_prefix",)),),
                changes=(change,),
            )
            for i in range(count)
        ),
    )


@pytest.mark.parametrize("limit", [MARKDOWN_LIMIT, 10_000, 2_000])
def test_markdown_stays_under_the_limit_and_says_it_truncated(limit: int) -> None:
    p = _huge_plan(3000)
    assert len(render_markdown(p, limit=10**9)) > MARKDOWN_LIMIT  # really too long

    text = render_markdown(p, limit=limit)

    assert len(text) <= limit
    assert text.startswith(MARKDOWN_MARKER)
    assert "**Plan: 0 to create, 3000 to update, 3000 to rerun, 0 to archive.**" in text
    assert "_Truncated: the plan is too long for one comment; the full plan is in the job log._" in text
    # Nothing is cut in half: every collapsed block and code fence is closed.
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0


def test_markdown_exactly_at_the_limit_is_not_truncated() -> None:
    text = render_markdown(mixed_plan())
    assert render_markdown(mixed_plan(), limit=len(text)) == text
    assert "_Truncated" in render_markdown(mixed_plan(), limit=len(text) - 1)


# -- JSON --


def test_json_is_versioned_with_one_entry_per_workflow() -> None:
    p = mixed_plan()
    data = json.loads(render_json(p))
    assert data == plan_as_dict(p)
    assert data["format_version"] == FORMAT_VERSION == "1"
    assert data["instance"] == "prod"
    assert data["summary"] == {"create": 2, "update": 1, "rerun": 3, "adopt": 0, "archive": 0, "no-op": 1}
    assert data["notes"] == ["1 managed workflow(s) have no manifest and are left alone: wf-z"]
    assert [w["address"] for w in data["workflows"]] == [i.address for i in p.items]
    for entry in data["workflows"]:
        assert {"address", "actions", "reason", "before", "after"} <= entry.keys()
    c = data["workflows"][2]
    assert c["actions"] == ["update", "rerun"]
    assert c["reason"] == "changed: parameters.assets_prefix; spec changed since the last run"
    assert c["changes"][0] == {
        "op": "change",
        "path": ["parameters", "assets_prefix"],
        "old": "/in",
        "new": "/in/v2",
    }
    assert c["before"] == {"parameters": {"assets_prefix": "/in"}}
    assert c["after"] == {"parameters": {"assets_prefix": "/in/v2"}}
    assert data["workflows"][0]["before"] is None
    assert data["workflows"][-1]["actions"] == ["no-op"]


def test_json_of_a_real_plan_round_trips() -> None:
    desired = desired_from(EXAMPLES)
    data = json.loads(render_json(plan(desired, [], instance=INSTANCE)))
    assert len(data["workflows"]) == 7
    assert all(w["actions"] == ["create"] and w["before"] is None for w in data["workflows"])
    assert all(w["after"]["labels"]["reconciler.dev/instance"] == INSTANCE for w in data["workflows"])


# -- secrets --


def _canary_plans(tmp_path: Path) -> list[Plan]:
    """Plans of every kind built from manifests whose secrets are the canary."""
    environ = {
        **ENVIRON,
        "AWS_SECRET_ACCESS_KEY": CANARY,
        "GCS_SERVICE_ACCOUNT_JSON": CANARY,
        "AZURE_CLIENT_SECRET": CANARY,
    }
    rotated = {key: f"{value}-rotated" if value == CANARY else value for key, value in environ.items()}
    examples = desired_from(EXAMPLES, environ=environ)
    assert all(CANARY in json.dumps(d.compiled.body) for d in examples if d.compiled.body["payload"])
    directory = write_manifests(tmp_path / "v1", a=manifest("a", token="1"), b=manifest("b", store="gcs"))
    desired = desired_from(directory, environ=environ)
    live = live_after_apply(plan(desired, [], instance=INSTANCE), desired)
    changed_dir = write_manifests(
        tmp_path / "v2", a=manifest("a", token="2", prefix="/v2"), b=manifest("b", store="gcs")
    )
    sources = sources_after_apply(plan(desired, [], instance=INSTANCE), desired)
    sources[0]["metadata"]["labels"]["owner"] = "alice"
    return [
        plan(examples, [], instance=INSTANCE),
        plan(examples, live_after_apply(plan(examples, [], instance=INSTANCE), examples), instance=INSTANCE),
        plan(desired_from(directory, environ=rotated), live, instance=INSTANCE),
        plan(desired_from(changed_dir, environ=rotated), live, instance=INSTANCE),
        plan(desired, [LiveWorkflow.from_source(s) for s in sources], instance=INSTANCE),
    ]


def test_no_rendering_shows_a_secret(tmp_path: Path) -> None:
    plans = _canary_plans(tmp_path)
    assert any(p.has_changes for p in plans)
    assert any(item.credentials_changed and not item.has(Action.CREATE) for p in plans for item in p.items)
    for p in plans:
        outputs = [
            render_text(p),
            render_text(p, color=True),
            render_markdown(p),
            render_json(p),
            json.dumps(plan_as_dict(p)),
            repr(p),
        ]
        for output in outputs:
            assert CANARY not in output
