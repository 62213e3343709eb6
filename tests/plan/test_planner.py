"""The planner: what ``plan(desired, live)`` decides, and that a plan right after apply is empty."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.desired import DesiredWorkflow
from reconciler.errors import PlanningError
from reconciler.live import LiveWorkflow
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL
from reconciler.packages.spec import cloud_source
from reconciler.plan import planner as planner_module
from reconciler.plan.model import (
    Action,
    Archive,
    Create,
    FieldChange,
    Plan,
    PlannedWorkflow,
    PruneLimit,
    Submit,
    Update,
)
from reconciler.plan.normalise import CREDENTIAL_DIGEST_ANNOTATION, ENV_DIGEST_ANNOTATION, LAST_RUN_ANNOTATION
from reconciler.plan.planner import diff_views, handed_over, plan, run_record
from reconciler.render.plan import describe
from tests.helpers import EXAMPLES
from tests.plan.simulate import (
    ENVIRON,
    GUID,
    INSTANCE,
    desired_from,
    fixed_salt,
    live_after_apply,
    manifest,
    parameters,
    sources_after_apply,
    stored_source,
    write_manifests,
)

ADOPTED = "csa-asset-import-1700000000"


def words(item: PlannedWorkflow) -> tuple[str, ...]:
    """The item's reasons as the renderers word them."""
    return tuple(describe(reason) for reason in item.reasons)


BOOKKEEPING = (CREDENTIAL_DIGEST_ANNOTATION, ENV_DIGEST_ANNOTATION, LAST_RUN_ANNOTATION)


def _plan(desired: list[DesiredWorkflow], live: list[LiveWorkflow], salt: str = "11" * 16) -> Plan:
    return plan(desired, live, instance=INSTANCE, salt=fixed_salt(salt))


def _applied(directory: Path, **documents: str) -> tuple[list[DesiredWorkflow], list[LiveWorkflow]]:
    """Desired from ``documents``, and the tenant right after they were created."""
    desired = desired_from(write_manifests(directory, **documents))
    return desired, live_after_apply(_plan(desired, []), desired)


def _only(p: Plan) -> Any:
    assert len(p.items) == 1
    return p.items[0]


# -- create --


@pytest.mark.parametrize(
    ("policy", "reason", "records_run"),
    [
        (None, "not on the tenant; its first run starts with it", True),
        ("on-change", "not on the tenant; its first run starts with it", True),
        ("always", "not on the tenant; its first run starts with it", True),
        ("never", "not on the tenant", False),
    ],
)
def test_empty_live_creates_with_reason(
    tmp_path: Path, policy: str | None, reason: str, records_run: bool
) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest(policy=policy, token="7")))
    item = _only(_plan(desired, []))
    assert item.actions == (Action.CREATE,)
    assert words(item) == (reason,)
    assert item.workflow == desired[0].compiled.name
    assert item.before is None
    assert item.after is not None
    assert item.credentials_changed is True
    assert item.annotations[CREDENTIAL_DIGEST_ANNOTATION].startswith("v1:" + "11" * 16 + ":")
    assert (LAST_RUN_ANNOTATION in item.annotations) is records_run
    if records_run:
        assert item.annotations[LAST_RUN_ANNOTATION] == run_record(desired[0].compiled.body["spec"], "7")


def test_create_without_object_store_records_no_credential(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest(store=None)))
    item = _only(_plan(desired, []))
    assert item.actions == (Action.CREATE,)
    assert CREDENTIAL_DIGEST_ANNOTATION not in item.annotations
    assert item.credentials_changed is False


def test_examples_against_empty_tenant_are_all_creates() -> None:
    desired = desired_from(EXAMPLES)
    p = _plan(desired, [])
    assert len(p.items) == len(desired) == 7
    assert all(item.actions == (Action.CREATE,) for item in p.items)
    assert all(words(item) and words(item)[0].startswith("not on the tenant") for item in p.items)
    assert p.summary["create"] == 7
    assert p.notes == ()


# -- a plan right after apply is empty --


def _no_noise(source: dict[str, Any]) -> None:
    pass


def _server_fields(source: dict[str, Any]) -> None:
    source["metadata"].update(
        uid="0d9e8f7a-1111-4222-8333-444455556666",
        creationTimestamp="2026-09-01T12:00:00Z",
        generation=3,
        managedFields=[{"manager": "argo", "operation": "Update"}],
    )
    source["status"] = {"phase": "Ready", "storedTemplates": {"x": 1}}


def _parameters_reordered(source: dict[str, Any]) -> None:
    parameters(source).reverse()


def _key_order(source: dict[str, Any]) -> None:
    metadata = source["metadata"]
    metadata["labels"] = dict(reversed(list(metadata["labels"].items())))
    metadata["annotations"] = dict(reversed(list(metadata["annotations"].items())))


def _server_owned_labels(source: dict[str, Any]) -> None:
    source["metadata"]["labels"].update(
        {
            "workflows.argoproj.io/creator": "system-serviceaccount-argo",
            "workflows.argoproj.io/creator-email": "svc.at.example.com",
        }
    )
    source["metadata"]["annotations"]["workflows.argoproj.io/last-submitted"] = "2026-09-01T12:00:00Z"
    source["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"


NOISE: dict[str, Callable[[dict[str, Any]], None]] = {
    "none": _no_noise,
    "server fields": _server_fields,
    "parameters reordered": _parameters_reordered,
    "label and annotation key order": _key_order,
    "server-owned labels": _server_owned_labels,
}


@pytest.mark.parametrize("noise", list(NOISE.values()), ids=list(NOISE))
@pytest.mark.parametrize("source_of_manifests", ["small", "examples"])
def test_plan_right_after_apply_is_empty(
    tmp_path: Path, noise: Callable[[dict[str, Any]], None], source_of_manifests: str
) -> None:
    if source_of_manifests == "examples":
        desired = desired_from(EXAMPLES)
    else:
        desired = desired_from(
            write_manifests(
                tmp_path,
                a=manifest("a", labels={"team": "x", "tier": "gold"}, token="1"),
                b=manifest("b", kind="LineageBuilder", store="gcs", schedule={"cron": "0 1 * * *"}),
                c=manifest("c", store=None, policy="never"),
            )
        )
    sources = sources_after_apply(_plan(desired, []), desired)
    for source in sources:
        noise(source)
    live = [LiveWorkflow.from_source(source) for source in sources]

    p = _plan(desired, live, salt="22" * 16)

    assert [item.actions for item in p.items] == [(Action.NOOP,)] * len(desired)
    assert not p.has_changes
    assert all(item.changes == () and words(item) == () for item in p.items)
    assert p.summary_line() == "Plan: 0 to create, 0 to update, 0 to rerun, 0 to archive."
    # The bookkeeping is carried over unchanged, and the credential reference is the server's.
    live_by_name = {workflow.name: workflow for workflow in live}
    for item in p.items:
        recorded = live_by_name[item.workflow].annotations
        assert item.annotations == {key: recorded[key] for key in BOOKKEEPING if key in recorded}
    with_credentials = [item for item in p.items if CREDENTIAL_DIGEST_ANNOTATION in item.annotations]
    assert with_credentials
    assert {item.credential_ref for item in with_credentials} == {GUID}


def test_after_apply_live_really_holds_the_guid(tmp_path: Path) -> None:
    """The NOOP above is not because the guid was never substituted."""
    desired, live = _applied(tmp_path, a=manifest())
    assert cloud_source(live[0].spec) == GUID
    assert cloud_source(desired[0].compiled.body["spec"]) == "{{credentialGuid}}"


noise_steps = st.lists(st.sampled_from(sorted(NOISE)), max_size=len(NOISE), unique=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=noise_steps,
    seed=st.integers(0, 2**32 - 1),
    guid=st.uuids().map(str),
    salt=st.binary(min_size=16, max_size=16).map(bytes.hex),
)
def test_property_examples_plan_after_apply_has_no_changes(
    steps: list[str], seed: int, guid: str, salt: str
) -> None:
    desired = desired_from(EXAMPLES)
    first = plan(desired, [], instance=INSTANCE, salt=fixed_salt(salt))
    by_manifest = {d.name: d for d in desired}
    rng = random.Random(seed)
    sources = []
    for item in first.items:
        assert item.manifest is not None
        source = stored_source(by_manifest[item.manifest], item.annotations, guid=guid)
        for step in steps:
            NOISE[step](source)
        rng.shuffle(parameters(source))
        sources.append(source)
    rng.shuffle(sources)
    live = [LiveWorkflow.from_source(source) for source in sources]

    again = plan(desired, live, instance=INSTANCE)

    assert not again.has_changes
    assert {item.actions for item in again.items} == {(Action.NOOP,)}
    handed = list(live)
    assert plan(desired, handed_over(handed), instance=INSTANCE) == again
    assert handed == []  # emptied: the planner alone held the workflows, and let each go


def _argo_empty_defaults(source: dict[str, Any]) -> None:
    source["spec"]["arguments"] = {}
    for template in source["spec"]["templates"]:
        template.update(inputs={}, outputs={}, metadata={})


def test_plan_after_apply_ignores_argo_empty_defaults(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    (source,) = sources_after_apply(_plan(desired, []), desired)
    _argo_empty_defaults(source)
    assert _only(_plan(desired, [LiveWorkflow.from_source(source)])).is_noop


# -- changes --


@pytest.mark.parametrize(
    ("edit", "parameter", "old", "new"),
    [
        ({"prefix": "/in/v2"}, "assets_prefix", "/in", "/in/v2"),
        ({"object_key": "other.csv"}, "assets_key", "assets.csv", "other.csv"),
    ],
)
def test_parameter_edit_updates_and_reruns(
    tmp_path: Path, edit: dict[str, Any], parameter: str, old: str, new: str
) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest(token="1"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest(token="1", **edit)))

    item = _only(_plan(desired, live))

    assert item.actions == (Action.UPDATE, Action.RERUN)
    assert item.changes == (FieldChange("change", ("parameters", parameter), old, new),)
    assert words(item) == (f"changed: parameters.{parameter}", "spec changed since the last run")
    assert item.resource_version == live[0].resource_version
    assert item.credentials_changed is False
    # The last-run record stays the old one until a run was submitted.
    assert item.annotations[LAST_RUN_ANNOTATION] == live[0].annotations[LAST_RUN_ANNOTATION]
    assert item.run_record == run_record(desired[0].compiled.body["spec"], "1")
    assert item.run_record != item.annotations[LAST_RUN_ANNOTATION]


def test_token_change_only_reruns(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest(token="1"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest(token="2")))

    item = _only(_plan(desired, live))

    assert item.actions == (Action.RERUN,)
    assert words(item) == ("run token changed ('1' -> '2')",)
    assert item.changes == ()


@pytest.mark.parametrize(
    ("policy", "actions", "reasons"),
    [
        ("on-change", (Action.NOOP,), ()),
        ("never", (Action.NOOP,), ()),
        ("always", (Action.RERUN,), ("run policy is always",)),
    ],
)
def test_run_policy_on_unchanged_workflow(
    tmp_path: Path, policy: str, actions: tuple[Action, ...], reasons: tuple[str, ...]
) -> None:
    desired, live = _applied(tmp_path, a=manifest(policy=policy))
    item = _only(_plan(desired, live))
    assert item.actions == actions
    assert words(item) == reasons


@pytest.mark.parametrize(
    "edit", [{"prefix": "/elsewhere"}, {"token": "2"}], ids=["parameter edit", "token change"]
)
def test_policy_never_never_reruns(tmp_path: Path, edit: dict[str, Any]) -> None:
    desired, live = _applied(tmp_path / "v1", a=manifest(policy="never", token="1"))
    assert LAST_RUN_ANNOTATION not in live[0].annotations
    desired = desired_from(
        write_manifests(tmp_path / "v2", a=manifest(policy="never", **{"token": "1", **edit}))
    )

    item = _only(_plan(desired, live))

    assert not item.has(Action.RERUN)
    assert LAST_RUN_ANNOTATION not in item.annotations
    assert item.actions == ((Action.UPDATE,) if "prefix" in edit else (Action.NOOP,))


@pytest.mark.parametrize(
    ("recorded", "reason"),
    [
        (None, "no run recorded by reconciler yet"),
        ("not json", "run record unreadable"),
        ("[1, 2]", "run record unreadable"),
        (json.dumps({"spec": "0" * 16, "token": None}), "spec changed since the last run"),
    ],
    ids=["missing", "not json", "not an object", "other spec"],
)
def test_rerun_reason_from_the_recorded_run(tmp_path: Path, recorded: str | None, reason: str) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    (source,) = sources_after_apply(_plan(desired, []), desired)
    annotations = source["metadata"]["annotations"]
    annotations.pop(LAST_RUN_ANNOTATION)
    if recorded is not None:
        annotations[LAST_RUN_ANNOTATION] = recorded

    item = _only(_plan(desired, [LiveWorkflow.from_source(source)]))

    assert item.actions == (Action.RERUN,)
    assert words(item) == (reason,)


def test_credential_not_recorded_yet_is_sent(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    (source,) = sources_after_apply(_plan(desired, []), desired)
    del source["metadata"]["annotations"][CREDENTIAL_DIGEST_ANNOTATION]

    item = _only(_plan(desired, [LiveWorkflow.from_source(source)]))

    assert item.actions == (Action.UPDATE,)
    assert item.credentials_changed is True
    assert words(item) == ("credentials not recorded yet",)
    assert item.changes == ()


def test_policy_always_reruns_on_every_plan_also_with_changes(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest(policy="always"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest(policy="always", prefix="/x")))
    item = _only(_plan(desired, live))
    assert item.actions == (Action.UPDATE, Action.RERUN)
    assert words(item)[-1] == "run policy is always"


SCHEDULE = "orchestration.atlan.com/schedule"
TIMEZONE = "orchestration.atlan.com/timezone"


@pytest.mark.parametrize(
    ("before", "after", "changes"),
    [
        (
            {"cron": "0 2 * * *"},
            {"cron": "0 3 * * *"},
            [FieldChange("change", ("annotations", SCHEDULE), "0 2 * * *", "0 3 * * *")],
        ),
        (
            {"cron": "0 2 * * *"},
            {"cron": "0 2 * * *", "timezone": "Europe/Berlin"},
            [FieldChange("change", ("annotations", TIMEZONE), "UTC", "Europe/Berlin")],
        ),
        (
            None,
            {"cron": "0 2 * * *"},
            [
                FieldChange("add", ("annotations", SCHEDULE), None, "0 2 * * *"),
                FieldChange("add", ("annotations", TIMEZONE), None, "UTC"),
            ],
        ),
        (
            {"cron": "0 2 * * *"},
            None,
            [
                FieldChange("remove", ("annotations", SCHEDULE), "0 2 * * *", None),
                FieldChange("remove", ("annotations", TIMEZONE), "UTC", None),
            ],
        ),
    ],
    ids=["cron", "timezone", "added", "removed"],
)
def test_schedule_change_updates_without_rerun(
    tmp_path: Path, before: dict[str, str] | None, after: dict[str, str] | None, changes: list[FieldChange]
) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest(schedule=before))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest(schedule=after)))

    item = _only(_plan(desired, live))

    assert item.actions == (Action.UPDATE,)
    assert list(item.changes) == changes
    assert len(words(item)) == 1
    assert words(item)[0].startswith("changed: annotations.orchestration.atlan.com/")


def test_rotated_credential_updates_without_revealing_it(tmp_path: Path) -> None:
    directory = write_manifests(tmp_path, a=manifest(token="1"))
    _, live = _applied(directory)
    rotated = {**ENVIRON, "AWS_SECRET_ACCESS_KEY": "aws-secret-rotated-77aa"}
    desired = desired_from(directory, environ=rotated)

    p = _plan(desired, live)
    item = _only(p)

    assert item.actions == (Action.UPDATE,)
    assert item.credentials_changed is True
    assert words(item) == ("credentials changed",)
    assert item.changes == ()
    old = live[0].annotations[CREDENTIAL_DIGEST_ANNOTATION]
    new = item.annotations[CREDENTIAL_DIGEST_ANNOTATION]
    assert new != old
    # Same salt as the recorded digest, still different: the digest follows the secret.
    assert new.split(":")[1] == old.split(":")[1]
    assert item.credential_ref == GUID
    for secret in ("aws-secret-rotated-77aa", ENVIRON["AWS_SECRET_ACCESS_KEY"]):
        assert secret not in repr(p)
        assert secret not in json.dumps([item.before, item.after, item.annotations])


def test_same_secret_keeps_the_digest_exactly(tmp_path: Path) -> None:
    desired, live = _applied(tmp_path, a=manifest())
    item = _only(_plan(desired, live, salt="99" * 16))
    assert item.is_noop
    assert item.credentials_changed is False
    assert item.annotations[CREDENTIAL_DIGEST_ANNOTATION] == live[0].annotations[CREDENTIAL_DIGEST_ANNOTATION]


def test_credential_removed_is_an_update(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest())
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest(store=None)))
    item = _only(_plan(desired, live))
    assert item.has(Action.UPDATE)
    assert item.credentials_changed is True
    assert CREDENTIAL_DIGEST_ANNOTATION not in item.annotations


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [("labels", "owner", "alice"), ("annotations", "note.example.com/comment", "set in the UI")],
)
def test_metadata_added_in_the_ui_is_removed(tmp_path: Path, where: str, key: str, value: str) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest(labels={"team": "x"})))
    (source,) = sources_after_apply(_plan(desired, []), desired)
    source["metadata"][where][key] = value

    item = _only(_plan(desired, [LiveWorkflow.from_source(source)]))

    assert item.actions == (Action.UPDATE,)
    assert item.changes == (FieldChange("remove", (where, key), value, None),)
    assert words(item) == (f"changed: {where}.{key}",)


def test_user_label_value_changed_in_the_ui_is_restored(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest(labels={"team": "x"})))
    (source,) = sources_after_apply(_plan(desired, []), desired)
    source["metadata"]["labels"]["team"] = "y"
    item = _only(_plan(desired, [LiveWorkflow.from_source(source)]))
    assert item.changes == (FieldChange("change", ("labels", "team"), "y", "x"),)


# -- ownership --


def _unmanaged(source: dict[str, Any]) -> dict[str, Any]:
    """``source`` as if the Atlan UI or SDK had made it: no reconciler labels or annotations."""
    source = copy.deepcopy(source)
    for key in (INSTANCE_LABEL, MANIFEST_LABEL):
        del source["metadata"]["labels"][key]
    for key in (CREDENTIAL_DIGEST_ANNOTATION, LAST_RUN_ANNOTATION):
        source["metadata"]["annotations"].pop(key, None)
    return source


def test_workflow_of_another_instance_cannot_be_adopted(tmp_path: Path) -> None:
    theirs = desired_from(
        write_manifests(tmp_path / "staging", a=manifest(adopt=ADOPTED)), instance="staging"
    )
    live = live_after_apply(plan(theirs, [], instance="staging"), theirs)
    assert live[0].labels[INSTANCE_LABEL] == "staging"
    ours = desired_from(write_manifests(tmp_path / "prod", a=manifest(adopt=ADOPTED)))

    with pytest.raises(PlanningError, match=rf"{ADOPTED} is managed by instance 'staging', not 'prod'"):
        _plan(ours, live)


def test_unmanaged_workflow_at_the_derived_name_needs_adopt(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    (source,) = sources_after_apply(_plan(desired, []), desired)
    live = [LiveWorkflow.from_source(_unmanaged(source))]

    with pytest.raises(PlanningError, match=rf"add `adopt: {desired[0].compiled.name}` to manifest 'a'"):
        _plan(desired, live)


def test_adopting_an_unchanged_workflow_only_adopts(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest(adopt=ADOPTED, token="1")))
    assert desired[0].compiled.name == ADOPTED
    (source,) = sources_after_apply(_plan(desired, []), desired)
    live = [LiveWorkflow.from_source(_unmanaged(source))]

    item = _only(_plan(desired, live))

    assert item.actions == (Action.ADOPT,)
    assert words(item) == (f"take over unmanaged workflow {ADOPTED}",)
    assert item.changes == ()
    assert item.workflow == ADOPTED
    assert item.credentials_changed is False
    assert item.credential_ref == GUID
    # Adoption records the bookkeeping so the next plan is empty.
    assert item.annotations[LAST_RUN_ANNOTATION] == item.run_record
    assert item.annotations[CREDENTIAL_DIGEST_ANNOTATION].startswith("v1:")


def test_adopting_a_workflow_that_differs_updates_and_reruns(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest(adopt=ADOPTED)))
    (source,) = sources_after_apply(_plan(desired, []), desired)
    source = _unmanaged(source)
    for parameter in parameters(source):
        if parameter["name"] == "assets_prefix":
            parameter["value"] = "/old"

    item = _only(_plan(desired, [LiveWorkflow.from_source(source)]))

    assert item.actions == (Action.ADOPT, Action.UPDATE, Action.RERUN)
    assert item.changes == (FieldChange("change", ("parameters", "assets_prefix"), "/old", "/in"),)
    assert words(item)[-1] == "no run recorded by reconciler yet"


def test_orphans_are_noted_not_acted_on(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "all", a=manifest("a"), gone=manifest("gone"))
    orphan = next(w for w in live if w.labels[MANIFEST_LABEL] == "gone")
    desired = desired_from(write_manifests(tmp_path / "now", a=manifest("a")))

    p = _plan(desired, live)

    assert [item.manifest for item in p.items] == ["a"]
    assert p.items[0].is_noop
    assert not p.has_changes
    (note,) = p.notes
    assert note.startswith("1 managed workflow(s) have no manifest and are left alone")
    assert note.endswith(f": {orphan.name}")
    assert p.count(Action.ARCHIVE) == 0


def test_workflows_of_other_instances_are_ignored(tmp_path: Path) -> None:
    theirs = desired_from(write_manifests(tmp_path / "staging", b=manifest("b")), instance="staging")
    their_live = live_after_apply(plan(theirs, [], instance="staging"), theirs)
    desired, live = _applied(tmp_path / "prod", a=manifest("a"))

    p = _plan(desired, [*live, *their_live])

    assert [item.manifest for item in p.items] == ["a"]
    assert p.notes == ()
    assert not p.has_changes


def test_two_workflows_claiming_one_manifest_are_noted(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    (source,) = sources_after_apply(_plan(desired, []), desired)
    twin = copy.deepcopy(source)
    twin["metadata"]["name"] = "csa-asset-import-0000000001"
    first, second = sorted([source["metadata"]["name"], twin["metadata"]["name"]])

    p = _plan(desired, [LiveWorkflow.from_source(twin), LiveWorkflow.from_source(source)])

    assert p.notes == (f"workflows {first} and {second} both claim manifest 'a'; planning against {first}",)
    assert _only(p).workflow == first


# -- order --


@pytest.mark.parametrize(
    ("documents", "order"),
    [
        (
            {"a": manifest("a", depends_on=["z"]), "z": manifest("z")},
            ["z", "a"],
        ),
        (
            {
                "a": manifest("a", depends_on=["m"]),
                "m": manifest("m", depends_on=["z"]),
                "z": manifest("z"),
                "b": manifest("b"),
            },
            ["z", "m", "a", "b"],
        ),
        (
            {"lin": manifest("lin", kind="LineageBuilder"), "imp": manifest("zz-imp", depends_on=["lin"])},
            ["lin", "zz-imp"],
        ),
        (
            {"c": manifest("c"), "b": manifest("b"), "a": manifest("a")},
            ["a", "b", "c"],
        ),
    ],
    ids=["one dependency", "chain", "across kinds", "by address"],
)
def test_items_are_in_dependency_order(tmp_path: Path, documents: dict[str, str], order: list[str]) -> None:
    desired = desired_from(write_manifests(tmp_path, **documents))
    p = _plan(desired, [])
    assert [item.manifest for item in p.items] == order
    positions = {item.manifest: index for index, item in enumerate(p.items)}
    for item in p.items:
        assert all(positions[dep] < positions[item.manifest] for dep in item.depends_on)


def test_examples_lineage_comes_after_the_assets_it_depends_on() -> None:
    p = _plan(desired_from(EXAMPLES), [])
    names = [item.manifest for item in p.items]
    assert names.index("snowflake-assets") < names.index("snowflake-lineage")
    assert next(item for item in p.items if item.manifest == "snowflake-lineage").depends_on == (
        "snowflake-assets",
    )


# -- the credential's visible parts --


def test_a_bucket_change_is_shown_as_a_credential_field_and_sent(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest("a"))
    text = manifest("a").replace('"bucket": "acme"', '"bucket": "acme-v2"')
    desired = desired_from(write_manifests(tmp_path / "v2", a=text))

    item = _only(_plan(desired, live))

    assert item.actions == (Action.UPDATE,)
    assert item.credentials_changed  # the credential is sent again, with its secret
    assert [(c.op, c.path, c.old, c.new) for c in item.changes] == [
        ("change", ("credential", "extra", "s3_bucket"), "acme", "acme-v2")
    ]


def test_the_visible_credential_never_holds_the_secret(tmp_path: Path) -> None:
    desired, live = _applied(tmp_path, a=manifest("a"))
    item = _only(_plan(desired, []))
    secret = ENVIRON["AWS_SECRET_ACCESS_KEY"]
    assert item.after["credential"] == {
        "authType": "s3",
        "username": "${env:AWS_ACCESS_KEY_ID}",  # a value from the environment is shown as its reference
        "extra": {"region": "us-west-1", "s3_bucket": "acme"},
    }
    assert secret not in json.dumps(item.after)
    assert ENVIRON["AWS_ACCESS_KEY_ID"] not in json.dumps(item.after)
    assert secret not in json.dumps(live[0].raw)


def test_a_credential_not_recorded_on_the_live_side_is_not_a_change(tmp_path: Path) -> None:
    desired, live = _applied(tmp_path, a=manifest("a"))
    source = copy.deepcopy(live[0].raw)
    del source["metadata"]["annotations"]["reconciler.dev/credential"]
    assert _only(_plan(desired, [LiveWorkflow.from_source(source)])).is_noop


# -- diff_views: its own key-by-key comparison of flat parts against deepdiff's on everything --

_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2), st.sampled_from(["", "a", "1"])
)
_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("xyz"), inner, max_size=3),
    max_leaves=6,
)
_part = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.one_of(_scalar, _value), max_size=4)
# A view always has these parts (workflow_view), and sometimes a credential.
_view = st.fixed_dictionaries(
    {"labels": _part, "annotations": _part, "parameters": _part, "spec": _part},
    optional={"credential": _part},
)


def _deepdiff_only(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """What diff_views gave before it compared flat parts itself: deepdiff on every changed part."""
    return sorted(
        planner_module._deep_changes(
            {k: v for k, v in before.items() if after.get(k) != v or k not in after},
            {k: v for k, v in after.items() if before.get(k) != v or k not in before},
        ),
        key=lambda c: c.path,
    )


@settings(max_examples=400, deadline=None)
@given(_view, _view)
def test_diff_views_finds_what_deepdiff_finds(before: dict[str, Any], after: dict[str, Any]) -> None:
    ours = diff_views(before, after)
    reference = _deepdiff_only(before, after)
    assert ours == reference


def test_diff_views_tells_a_type_change_in_a_flat_part() -> None:
    before = {"parameters": {"batch": 1, "flag": True, "name": "x"}}
    after = {"parameters": {"batch": 1.0, "flag": 1, "name": "x", "new": None}}
    assert diff_views(before, after) == [
        FieldChange("change", ("parameters", "batch"), 1, 1.0),
        FieldChange("change", ("parameters", "flag"), True, 1),
        FieldChange("add", ("parameters", "new"), None, None),
    ]


# -- steps: what the applier will do, decided here ----------------------------------------------


@pytest.mark.parametrize(
    ("policy", "before", "after", "steps"),
    [
        ("on-change", {}, None, [Create(submit=True)]),
        ("never", {}, None, [Create(submit=False)]),
        (
            "on-change",
            {"token": "1"},
            {"token": "2"},
            [Update("rv", send_credentials=False, claim=True, changes_workflow=False), Submit(claimed=True)],
        ),
        (
            "on-change",
            {},
            {"prefix": "/v2"},
            [Update("rv", send_credentials=False, claim=True, changes_workflow=True), Submit(claimed=True)],
        ),
        ("always", {}, {}, [Submit(claimed=False)]),
        (
            "always",
            {},
            {"prefix": "/v2"},
            [Update("rv", send_credentials=False, claim=False, changes_workflow=True), Submit(claimed=False)],
        ),
        ("never", {}, {"prefix": "/v2"}, [Update("rv", send_credentials=False, claim=False)]),
        ("on-change", {}, {}, []),
    ],
    ids=[
        "create",
        "create, policy never",
        "token bump",
        "field change",
        "policy always",
        "field change, policy always",
        "field change, policy never",
        "nothing",
    ],
)
def test_the_planner_decides_every_step(
    tmp_path: Path,
    policy: str,
    before: dict[str, Any],
    after: dict[str, Any] | None,
    steps: list[Any],
) -> None:
    live: list[LiveWorkflow] = []
    if after is not None:
        _, live = _applied(tmp_path / "v1", a=manifest(policy=policy, **before))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest(policy=policy, **(after or before))))

    item = _only(_plan(desired, live))

    expected = [
        replace(s, resource_version=live[0].resource_version) if isinstance(s, Update) else s for s in steps
    ]
    assert list(item.steps) == expected
    assert item.starts_run == any(
        isinstance(s, Submit) or (isinstance(s, Create) and s.submit) for s in steps
    )


def test_a_rotated_secret_sends_the_credential_with_the_update(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest("a"))
    desired = desired_from(
        write_manifests(tmp_path / "v2", a=manifest("a")),
        environ={**ENVIRON, "AWS_SECRET_ACCESS_KEY": "rotated"},
    )
    [step] = _only(_plan(desired, live)).steps
    assert step == Update(live[0].resource_version, send_credentials=True, claim=False)


def test_an_archive_is_one_step(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest("a"), b=manifest("b"), c=manifest("c"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest("a"), b=manifest("b")))
    p = plan(
        desired,
        live,
        instance=INSTANCE,
        salt=fixed_salt(),
        prune=True,
        max_prune=PruneLimit(50, percent=True),
    )
    [archived] = [item for item in p.items if item.action is Action.ARCHIVE]
    assert archived.steps == (Archive(),)
    assert words(archived) == ("its manifest is gone (--prune)",)


@pytest.mark.parametrize(
    ("text", "limit", "words"),
    [
        ("20%", PruneLimit(20.0, percent=True), "20% of the managed workflows"),
        (" 12.5 % ", PruneLimit(12.5, percent=True), "12.5% of the managed workflows"),
        ("3", PruneLimit(3.0, percent=False), "3 workflows (a count)"),
        ("1", PruneLimit(1.0, percent=False), "1 workflow (a count)"),
        ("0", PruneLimit(0.0, percent=False), "0 workflows (a count)"),
    ],
)
def test_max_prune_is_a_share_or_a_count(text: str, limit: PruneLimit, words: str) -> None:
    assert PruneLimit.parse(text) == limit
    assert limit.describe() == words


@pytest.mark.parametrize("text", ["", "%", "3.5", "-1", "120%", "-5%", "twenty", "3 workflows"])
def test_max_prune_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match=r"share|count"):
        PruneLimit.parse(text)


@pytest.mark.parametrize(
    ("limit", "archiving", "managed", "allowed"),
    [
        (PruneLimit(20.0, percent=True), 2, 10, True),
        (PruneLimit(20.0, percent=True), 3, 10, False),
        (PruneLimit(3.0, percent=False), 3, 100, True),
        (PruneLimit(3.0, percent=False), 4, 100, False),
    ],
)
def test_max_prune_limits(limit: PruneLimit, archiving: int, managed: int, allowed: bool) -> None:
    assert limit.allows(archiving, managed) is allowed
