"""Parsing live workflows and runs: typed where we read, raw kept for the planner, never a payload."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.atlan import Whoami
from reconciler.atlan import queries as q
from reconciler.live import LiveRun, LiveWorkflow


def test_live_workflow_from_source() -> None:
    source = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {
            "name": "csa-asset-import-1684500411",
            "namespace": "default",
            "labels": {"a": "1", "n": None},
            "annotations": {"orchestration.atlan.com/emoji": "\U0001f680"},
            "resourceVersion": "42",
            "creationTimestamp": "2026-09-01T10:00:00Z",
            "uid": "u-1",
            "managedFields": [{"x": 1}],
        },
        "spec": {"entrypoint": "main", "podGC": {"strategy": "x"}},
        "status": {},
        "payload": [{"body": {"password": "secret"}}],
    }
    live = LiveWorkflow.from_source(source)
    assert live.name == "csa-asset-import-1684500411"
    assert live.labels == {"a": "1", "n": ""}
    assert live.resource_version == "42"
    assert live.creation_timestamp == datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
    assert live.spec["podGC"] == {"strategy": "x"}  # unknown fields survive in spec and raw
    assert live.raw["metadata"]["managedFields"] == [{"x": 1}]
    assert "payload" not in live.raw
    assert "secret" not in repr(live)


def test_a_listing_holds_one_copy_of_each_map_and_of_each_repeated_string() -> None:
    def source(name: str) -> dict[str, object]:
        # Built at run time, as a JSON decoder builds them: equal strings, distinct objects.
        value = "".join(["https://solutions.atlan.com/", "asset-import/"])
        return {"metadata": {"name": name, "labels": {"team": "t"}, "annotations": {"docs": value}}}

    first, second = LiveWorkflow.from_source(source("a")), LiveWorkflow.from_source(source("b"))
    assert first.labels is first.raw["metadata"]["labels"]
    assert first.annotations is first.raw["metadata"]["annotations"]
    assert first.annotations["docs"] is second.annotations["docs"]


def test_parameter_strings_are_shared_and_odd_specs_still_parse() -> None:
    def source(name: str) -> dict[str, object]:
        value = "".join(["up", "sert"])
        task = {"arguments": {"parameters": [{"name": "assets_upsert_semantic", "value": value}]}}
        return {"metadata": {"name": name}, "spec": {"templates": [{"dag": {"tasks": [task]}}]}}

    first, second = LiveWorkflow.from_source(source("a")), LiveWorkflow.from_source(source("b"))

    def value(workflow: LiveWorkflow) -> object:
        return workflow.spec["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"][0]["value"]

    assert value(first) == "upsert"
    assert value(first) is value(second)
    odd = LiveWorkflow.from_source({"metadata": {"name": "w"}, "spec": {"templates": ["not a template"]}})
    assert odd.spec == {"templates": ["not a template"]}


def test_one_listing_holds_one_object_for_each_repeated_parameter() -> None:
    def source(name: str, **values: object) -> dict[str, object]:
        parameters = [{"name": key, "value": value} for key, value in values.items()]
        task = {"arguments": {"parameters": parameters}}
        return {"metadata": {"name": name}, "spec": {"templates": [{"dag": {"tasks": [task]}}]}}

    def listed(workflow: LiveWorkflow) -> list[dict[str, object]]:
        found: list[dict[str, object]] = workflow.spec["templates"][0]["dag"]["tasks"][0]["arguments"][
            "parameters"
        ]
        return found

    common = {"semantic": "".join(["up", "sert"]), "batch": 20, "fail": True, "options": ["a"]}
    parse = LiveWorkflow.listing_parser()
    one, two = parse(source("a", prefix="/a", **common)), parse(source("b", prefix="/b", **common))
    assert listed(one) == [{"name": key, "value": value} for key, value in {"prefix": "/a", **common}.items()]
    # Equal scalar parameters are one object; a different value, or a list value, is not shared.
    assert [p is q for p, q in zip(listed(one), listed(two), strict=True)] == [False, True, True, True, False]
    # True == 1 == 1.0, but parameters of different types stay apart.
    flags = [parse(source(name, flag=value)) for name, value in (("c", True), ("d", 1), ("e", 1.0))]
    assert [type(listed(w)[0]["value"]) for w in flags] == [bool, int, float]
    # Another listing shares nothing with this one.
    assert listed(LiveWorkflow.listing_parser()(source("f", **common)))[0] is not listed(one)[1]


def test_a_map_that_is_not_a_map_of_strings_is_refused() -> None:
    with pytest.raises(ValueError, match="map of strings"):
        LiveWorkflow.from_source({"metadata": {"name": "w", "labels": ["a"]}})


def test_live_workflow_tolerates_sparse_sources() -> None:
    live = LiveWorkflow.from_source(
        {"metadata": {"name": "w", "labels": None, "creationTimestamp": "yesterday"}}
    )
    assert (live.namespace, live.labels, live.annotations, live.creation_timestamp, live.spec) == (
        "default",
        {},
        {},
        None,
        {},
    )


@pytest.mark.parametrize(
    ("source", "template"),
    [
        pytest.param({"spec": {"workflowTemplateRef": {"name": "t"}}}, "t", id="spec"),
        pytest.param(
            {"metadata": {"labels": {"workflows.argoproj.io/workflow-template": "t"}}}, "t", id="label"
        ),
        pytest.param(
            {"status": {"storedWorkflowTemplateSpec": {"workflowTemplateRef": {"name": "t"}}}},
            "t",
            id="stored",
        ),
        pytest.param({}, None, id="none"),
    ],
)
def test_live_run_template_name(source: dict[str, object], template: str | None) -> None:
    metadata = dict(source.get("metadata", {}))  # type: ignore[call-overload]
    metadata["name"] = "t-abcde"
    run = LiveRun.from_source({**source, "metadata": metadata})
    assert run.template_name == template


def test_live_run_phases_and_times() -> None:
    run = LiveRun.from_source(
        {
            "metadata": {"name": "t-abcde", "creationTimestamp": "2026-09-01T10:00:00"},
            "status": {"phase": "Running", "startedAt": "2026-09-01T10:00:05Z", "finishedAt": ""},
        }
    )
    assert run.is_active
    assert run.creation_timestamp == datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # naive means UTC
    assert run.started_at == datetime(2026, 9, 1, 10, 0, 5, tzinfo=UTC)
    assert run.finished_at is None
    assert not LiveRun.from_source({"metadata": {"name": "x"}, "status": {"phase": "Failed"}}).is_active
    assert LiveRun.from_source({"metadata": {"name": "x"}, "status": {"phase": "Weird"}}).phase == "Weird"


@pytest.mark.parametrize(
    ("body", "token"),
    [
        ({"roles": [{"name": "$api-token-default-access"}]}, True),
        ({"roles": [{"name": "$admin"}]}, True),
        ({"roles": [{"name": "$guest"}, {"id": 1}, "junk"]}, False),
        (None, False),
    ],
)
def test_whoami(body: object, token: bool) -> None:
    assert Whoami.from_response(body).is_api_token_user is token


def test_common_prefix_and_split() -> None:
    assert q.common_prefix("csa-asset-import-1", "csa-asset-import-9") == "csa-asset-import-"
    assert q.common_prefix("a", "b") == ""
    assert q.common_prefix("abc", "abcd") == "abc"
    assert q.split_prefix("x")[:3] == ["x-", "x.", "x0"]
    assert len(q.split_prefix("")) == len(q.NAME_ALPHABET) == 38
