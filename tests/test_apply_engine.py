"""The applier against an in-memory ``WorkflowApi``: what it calls, in what order, and what it reports.

The fake stands in for our own client methods (style habit 8), never for HTTP.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyGuard, ApplyResult, WaitPolicy, apply_plan, request_body
from reconciler.desired import DesiredWorkflow
from reconciler.errors import ConflictError, OutcomeUnknownError, ReconcilerError, ServerError
from reconciler.live import ACTIVE_PHASES, LiveRun, LiveWorkflow
from reconciler.packages.compiler import CREDENTIAL_PLACEHOLDER
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL
from reconciler.packages.spec import cloud_source
from reconciler.plan.model import Action, Plan, PlannedWorkflow, PruneLimit
from reconciler.plan.normalise import CREDENTIAL_DIGEST_ANNOTATION, LAST_RUN_ANNOTATION
from reconciler.plan.planner import plan
from reconciler.render.results import render_results_text
from tests.helpers import as_planned
from tests.plan.simulate import (
    ENVIRON,
    GUID,
    INSTANCE,
    desired_from,
    fixed_salt,
    live_after_apply,
    manifest,
    write_manifests,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Call:
    method: str
    name: str
    body: Mapping[str, Any] | None = None
    submit: bool | None = None
    templates: tuple[str, ...] = ()
    phases: frozenset[str] | None = None


class FakeApi:
    """The tenant in memory: workflows by name, runs by template (newest first), every call recorded.

    ``fail[(method, name)]`` makes that call raise; ``on_poll`` is called before each runs search
    without phases (a ``--wait`` poll) with the number of that poll, to move runs along.
    """

    def __init__(self, live: Iterable[LiveWorkflow] = ()) -> None:
        self.workflows: dict[str, dict[str, Any]] = {w.name: copy.deepcopy(w.raw) for w in live}
        self.runs: dict[str, list[LiveRun]] = {}
        self.calls: list[Call] = []
        self.fail: dict[tuple[str, str], Exception] = {}
        self.on_poll: Callable[[int], None] | None = None
        self.on_submit: Callable[[str], None] | None = None
        self.polls = 0
        self.create_yields = 0
        self.in_flight = 0
        self.most_in_flight = 0

    def _check(self, method: str, name: str) -> None:
        error = self.fail.get((method, name))
        if error is not None:
            raise error

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def _store(self, body: Mapping[str, Any], version: int) -> LiveWorkflow:
        source: dict[str, Any] = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "WorkflowTemplate",
            "metadata": {**copy.deepcopy(dict(body["metadata"])), "resourceVersion": str(version)},
            "spec": copy.deepcopy(dict(body["spec"])),
        }
        if body.get("payload"):
            for template in source["spec"]["templates"]:
                for task in template["dag"]["tasks"]:
                    for parameter in task["arguments"]["parameters"]:
                        if (
                            parameter["name"] == "cloud_source"
                            and parameter["value"] == CREDENTIAL_PLACEHOLDER
                        ):
                            # A new credential for every payload, as the server makes (the old one is gone).
                            parameter["value"] = GUID if version == 1 else f"credential-v{version}"
        self.workflows[source["metadata"]["name"]] = source
        return LiveWorkflow.from_source(source)

    def _new_run(self, name: str) -> LiveRun:
        run = LiveRun(
            name=f"{name}-run{len(self.runs.get(name, [])) + 1}", template_name=name, phase="Pending"
        )
        self.runs.setdefault(name, []).insert(0, run)
        return run

    def set_phase(self, template: str, phase: str) -> None:
        newest = self.runs[template][0]
        self.runs[template][0] = newest.model_copy(update={"phase": phase})

    async def get_workflow(self, name: str) -> LiveWorkflow | None:
        self.calls.append(Call("get_workflow", name))
        self._check("get_workflow", name)
        source = self.workflows.get(name)
        return None if source is None else LiveWorkflow.from_source(source)

    async def create_workflow(self, body: Mapping[str, Any], *, submit: bool) -> LiveWorkflow:
        name = body["metadata"]["name"]
        self.calls.append(Call("create_workflow", name, copy.deepcopy(dict(body)), submit=submit))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        for _ in range(self.create_yields):
            await asyncio.sleep(0)  # let other items run meanwhile
        self.in_flight -= 1
        self._check("create_workflow", name)
        if name in self.workflows:
            raise ConflictError(f"workflow {name} already exists", status=409)
        created = self._store(body, 1)
        if submit:
            self._new_run(name)
        return created

    async def update_workflow(self, name: str, body: Mapping[str, Any]) -> LiveWorkflow:
        self.calls.append(Call("update_workflow", name, copy.deepcopy(dict(body))))
        self._check("update_workflow", name)
        current = self.workflows.get(name)
        if current is None:
            raise ReconcilerError(f"no workflow {name}")
        version = current["metadata"]["resourceVersion"]
        if body["metadata"].get("resourceVersion") != version:
            raise ConflictError(f"stale resourceVersion for {name}", status=409)
        return self._store(body, int(version) + 1)

    async def submit(self, name: str) -> LiveRun:
        self.calls.append(Call("submit", name))
        self._check("submit", name)
        run = self._new_run(name)
        if self.on_submit is not None:
            self.on_submit(name)
        return run

    async def newest_run(self, template: str) -> LiveRun | None:
        self.calls.append(Call("newest_run", template))
        self._check("newest_run", template)
        return next(iter(self.runs.get(template, [])), None)

    async def archive(self, name: str) -> None:
        self.calls.append(Call("archive", name))
        self._check("archive", name)
        self.workflows.pop(name, None)

    async def runs_for(
        self, template_names: Iterable[str], *, phases: Iterable[str] | None = None
    ) -> dict[str, list[LiveRun]]:
        names = tuple(sorted(set(template_names)))
        wanted = None if phases is None else frozenset(phases)
        self.calls.append(Call("runs_for", ",".join(names), templates=names, phases=wanted))
        if wanted is None:
            self.polls += 1
            if self.on_poll is not None:
                self.on_poll(self.polls)
        self._check("runs_for", "")
        return {
            name: [r for r in self.runs.get(name, []) if wanted is None or r.phase in wanted]
            for name in names
        }


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def _plan(desired: list[DesiredWorkflow], live: Iterable[LiveWorkflow] = ()) -> Plan:
    return plan(desired, list(live), instance=INSTANCE, salt=fixed_salt())


async def _apply(p: Plan, desired: list[DesiredWorkflow], api: FakeApi, **options: Any) -> ApplyResult:
    # The applier's own checks see the fake tenant as it is when the apply starts, as the CLI's do.
    options.setdefault(
        "guard",
        ApplyGuard.of(
            [LiveWorkflow.from_source(w) for w in api.workflows.values()],
            desired,
            instance=INSTANCE,
            prune=True,
            max_prune=PruneLimit(100, percent=True),
        ),
    )
    return await asyncio.wait_for(apply_plan(p, desired, api, **options), timeout=5)


def _outcomes(result: ApplyResult) -> dict[str, str]:
    return {item.address.split(".", 1)[1]: item.outcome for item in result.items}


def _by_manifest(p: Plan, name: str) -> PlannedWorkflow:
    return next(item for item in p.items if item.manifest == name)


def _applied(directory: Path, **documents: str) -> tuple[list[DesiredWorkflow], list[LiveWorkflow]]:
    desired = desired_from(write_manifests(directory, **documents))
    return desired, live_after_apply(_plan(desired), desired)


def _token_bump(tmp_path: Path) -> tuple[list[DesiredWorkflow], list[LiveWorkflow], Plan]:
    """One applied workflow whose run token then changed: a plan with a single on-change rerun."""
    _, live = _applied(tmp_path / "v1", a=manifest("a", token="1"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest("a", token="2")))
    return desired, live, _plan(desired, live)


# The calls of one claimed rerun: the runs in progress, the newest run (which the claim names), the
# update that claims it, the submit, and the update that confirms it.
A_RERUN = ["runs_for", "newest_run", "update_workflow", "submit", "update_workflow"]


def claimed(written: str, record: str | None, *, pending: bool = False) -> bool:
    """``written`` is ``record`` plus this apply's claim id (which tells two applies' claims apart)
    and either the newest run the claim saw (``after``: pending) or the run it started (``run``)."""
    value = json.loads(written)
    marker = value.pop("after" if pending else "run", None)
    return bool(value.pop("claim", None)) and marker is not None and value == json.loads(record or "null")


def _parameter(body: Mapping[str, Any], name: str) -> Any:
    for parameter in body["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]:
        if parameter["name"] == name:
            return parameter["value"]
    raise KeyError(name)


# -- creates --


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("policy", "submit", "detail"),
    [
        ("on-change", True, "created and its first run started"),
        ("always", True, "created and its first run started"),
        ("never", False, "created"),
    ],
)
async def test_create_submits_by_run_policy_and_carries_bookkeeping(
    tmp_path: Path, policy: str, submit: bool, detail: str
) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a", policy=policy)))
    p = _plan(desired)
    api = FakeApi()

    result = await _apply(p, desired, api)

    assert [c.method for c in api.calls] == ["create_workflow"]  # no runs search for creates
    (call,) = api.calls
    assert call.submit is submit
    assert call.body is not None
    annotations = call.body["metadata"]["annotations"]
    assert annotations[CREDENTIAL_DIGEST_ANNOTATION] == p.items[0].annotations[CREDENTIAL_DIGEST_ANNOTATION]
    assert (LAST_RUN_ANNOTATION in annotations) is submit
    assert call.body["metadata"]["labels"][INSTANCE_LABEL] == INSTANCE
    assert call.body["metadata"]["labels"][MANIFEST_LABEL] == "a"
    assert "resourceVersion" not in call.body["metadata"]
    assert call.body["payload"] == desired[0].compiled.body["payload"]
    assert call.body["payload"][0]["body"]["password"] == ENVIRON["AWS_SECRET_ACCESS_KEY"]
    assert _parameter(call.body, "cloud_source") == CREDENTIAL_PLACEHOLDER
    assert [(i.outcome, i.detail) for i in result.items] == [("done", detail)]
    assert not result.failed
    # The next plan against what the create left behind is empty (but for the run policy always).
    again = _plan(desired, [LiveWorkflow.from_source(s) for s in api.workflows.values()])
    assert again.items[0].actions == ((Action.RERUN,) if policy == "always" else (Action.NOOP,))


@pytest.mark.anyio
async def test_noop_plan_calls_nothing(tmp_path: Path) -> None:
    desired, live = _applied(tmp_path, a=manifest("a"), b=manifest("b", policy="never"))
    api = FakeApi(live)
    result = await _apply(_plan(desired, live), desired, api)
    assert api.calls == []
    assert [i.outcome for i in result.items] == ["unchanged", "unchanged"]
    assert result.count("unchanged") == 2
    assert not result.failed


# -- updates --


@pytest.mark.anyio
async def test_update_keeps_the_live_credential_when_it_did_not_change(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest("a", policy="never"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest("a", policy="never", prefix="/v2")))
    p = _plan(desired, live)
    assert p.items[0].actions == (Action.UPDATE,)
    api = FakeApi(live)

    result = await _apply(p, desired, api)

    assert [c.method for c in api.calls] == ["update_workflow"]
    body = api.calls[0].body
    assert body is not None
    assert api.calls[0].name == live[0].name
    assert body["metadata"]["resourceVersion"] == live[0].resource_version
    assert body["payload"] == []
    assert _parameter(body, "cloud_source") == GUID
    assert _parameter(body, "assets_prefix") == "/v2"
    assert (
        body["metadata"]["annotations"][CREDENTIAL_DIGEST_ANNOTATION]
        == (live[0].annotations[CREDENTIAL_DIGEST_ANNOTATION])
    )
    assert [(i.outcome, i.detail) for i in result.items] == [("done", "updated")]


@pytest.mark.anyio
async def test_update_sends_the_rotated_credential(tmp_path: Path) -> None:
    directory = write_manifests(tmp_path, a=manifest("a", policy="never"))
    _, live = _applied(directory)
    desired = desired_from(directory, environ={**ENVIRON, "AWS_SECRET_ACCESS_KEY": "rotated-secret"})
    p = _plan(desired, live)
    assert p.items[0].credentials_changed
    api = FakeApi(live)

    await _apply(p, desired, api)

    (call,) = api.called("update_workflow")
    assert call.body is not None
    assert call.body["payload"][0]["body"]["password"] == "rotated-secret"
    assert _parameter(call.body, "cloud_source") == CREDENTIAL_PLACEHOLDER
    assert (
        call.body["metadata"]["annotations"][CREDENTIAL_DIGEST_ANNOTATION]
        == (p.items[0].annotations[CREDENTIAL_DIGEST_ANNOTATION])
    )


@pytest.mark.anyio
async def test_a_rotation_and_a_rerun_are_one_update_then_the_submit(tmp_path: Path) -> None:
    """Rotation and a rerun together: the update carries the new credential and claims the run."""
    _, live = _applied(tmp_path / "v1", a=manifest("a", token="1"))
    rotated = {**ENVIRON, "AWS_SECRET_ACCESS_KEY": "rotated-secret"}
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest("a", token="2")), environ=rotated)
    p = _plan(desired, live)
    assert p.items[0].actions == (Action.UPDATE, Action.RERUN)
    assert p.items[0].credentials_changed
    api = FakeApi(live)

    await _apply(p, desired, api)

    assert [c.method for c in api.calls] == A_RERUN
    update, confirm = api.called("update_workflow")
    assert update.body is not None
    assert update.body["payload"]  # the rotated credential travels with the update
    assert confirm.body is not None
    assert confirm.body["payload"] == []  # the confirmation keeps the credential the update made
    stored = api.workflows[live[0].name]
    assert claimed(stored["metadata"]["annotations"][LAST_RUN_ANNOTATION], p.items[0].run_record)
    new_credential = f"credential-v{int(live[0].resource_version or 0) + 1}"
    assert cloud_source(stored["spec"]) == new_credential  # made by the update; GUID is gone


@pytest.mark.anyio
async def test_update_of_a_workflow_changed_since_the_plan_fails(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest("a", policy="never"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest("a", policy="never", prefix="/v2")))
    p = _plan(desired, live)
    api = FakeApi(live)
    api.workflows[live[0].name]["metadata"]["resourceVersion"] = "42"  # edited meanwhile

    result = await _apply(p, desired, api)

    (item,) = result.items
    assert item.outcome == "failed"
    assert "changed on the tenant since it was planned; plan again" in item.detail
    assert result.failed


@pytest.mark.anyio
async def test_adoption_updates_with_the_live_credential_and_next_plan_is_empty(tmp_path: Path) -> None:
    adopted = "csa-asset-import-1700000000"
    desired = desired_from(write_manifests(tmp_path, a=manifest("a", adopt=adopted)))
    (live,) = live_after_apply(_plan(desired), desired)
    source = copy.deepcopy(live.raw)
    for key in (INSTANCE_LABEL, MANIFEST_LABEL):
        del source["metadata"]["labels"][key]
    for key in (CREDENTIAL_DIGEST_ANNOTATION, LAST_RUN_ANNOTATION):
        del source["metadata"]["annotations"][key]
    unmanaged = LiveWorkflow.from_source(source)
    p = _plan(desired, [unmanaged])
    assert p.items[0].actions == (Action.ADOPT,)
    api = FakeApi([unmanaged])

    result = await _apply(p, desired, api)

    assert [c.method for c in api.calls] == ["update_workflow"]
    body = api.calls[0].body
    assert body is not None
    assert body["payload"] == []
    assert _parameter(body, "cloud_source") == GUID
    assert body["metadata"]["labels"][INSTANCE_LABEL] == INSTANCE
    assert [(i.outcome, i.detail) for i in result.items] == [("done", "adopted")]
    assert not _plan(desired, [LiveWorkflow.from_source(api.workflows[adopted])]).has_changes


# -- reruns --


@pytest.mark.anyio
async def test_reruns_search_active_runs_once_and_skip_the_running_ones(tmp_path: Path) -> None:
    names = ("a", "b", "c", "d")
    _, live = _applied(tmp_path / "v1", **{n: manifest(n, token="1") for n in names})
    desired = desired_from(write_manifests(tmp_path / "v2", **{n: manifest(n, token="2") for n in names}))
    p = _plan(desired, live)
    assert all(item.actions == (Action.RERUN,) for item in p.items)
    api = FakeApi(live)
    workflow = {item.manifest: item.workflow for item in p.items}
    api.runs[workflow["a"]] = [LiveRun(name="a-1", template_name=workflow["a"], phase="Running")]
    api.runs[workflow["b"]] = [LiveRun(name="b-1", template_name=workflow["b"], phase="Pending")]
    api.runs[workflow["c"]] = [LiveRun(name="c-1", template_name=workflow["c"], phase="Succeeded")]

    result = await _apply(p, desired, api)

    searches = api.called("runs_for")
    assert len(searches) == 1
    assert searches[0].templates == tuple(sorted(workflow.values()))
    assert searches[0].phases == ACTIVE_PHASES
    assert api.calls[0] == searches[0]  # before anything else
    assert sorted(c.name for c in api.called("submit")) == sorted([workflow["c"], workflow["d"]])
    assert _outcomes(result) == {"a": "already running", "b": "already running", "c": "done", "d": "done"}
    already = next(i for i in result.items if i.address == "AssetImport.a")
    assert "not submitted: a run is already Pending or Running" in already.detail
    assert already.run is None
    done = next(i for i in result.items if i.address == "AssetImport.d")
    assert done.run == f"{workflow['d']}-run1"
    assert not result.failed


@pytest.mark.anyio
async def test_an_on_change_rerun_is_claimed_before_it_is_submitted(tmp_path: Path) -> None:
    desired, live, p = _token_bump(tmp_path)
    item = p.items[0]
    assert item.actions == (Action.RERUN,)
    api = FakeApi(live)

    result = await _apply(p, desired, api)

    # The record is written first, with the planned resourceVersion: a second apply cannot claim it
    # too. It stays pending until the run is submitted, then names the run.
    assert [c.method for c in api.calls] == A_RERUN
    record = api.calls[2].body
    assert record is not None
    assert claimed(record["metadata"]["annotations"][LAST_RUN_ANNOTATION], item.run_record, pending=True)
    confirmation = api.calls[4].body
    assert confirmation is not None
    assert claimed(confirmation["metadata"]["annotations"][LAST_RUN_ANNOTATION], item.run_record)
    assert record["metadata"]["resourceVersion"] == live[0].resource_version
    assert record["payload"] == []
    assert _parameter(record, "cloud_source") == GUID
    assert result.items[0].outcome == "done"
    # The run is recorded: planning again finds nothing to do.
    again = _plan(desired, [LiveWorkflow.from_source(s) for s in api.workflows.values()])
    assert not again.has_changes


@pytest.mark.anyio
async def test_an_update_and_its_rerun_are_one_update_then_the_submit(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest("a"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest("a", prefix="/v2")))
    p = _plan(desired, live)
    assert p.items[0].actions == (Action.UPDATE, Action.RERUN)
    api = FakeApi(live)

    result = await _apply(p, desired, api)

    assert [c.method for c in api.calls] == A_RERUN
    update, _ = api.called("update_workflow")
    assert update.body is not None
    assert update.body["metadata"]["resourceVersion"] == live[0].resource_version
    assert claimed(
        update.body["metadata"]["annotations"][LAST_RUN_ANNOTATION], p.items[0].run_record, pending=True
    )
    assert result.items[0].detail.startswith("updated; run ")
    assert not _plan(desired, [LiveWorkflow.from_source(s) for s in api.workflows.values()]).has_changes


@pytest.mark.anyio
async def test_policy_always_submits_without_recording(tmp_path: Path) -> None:
    desired, live = _applied(tmp_path, a=manifest("a", policy="always"))
    p = _plan(desired, live)
    api = FakeApi(live)
    await _apply(p, desired, api)
    assert [c.method for c in api.calls] == ["runs_for", "submit"]


@pytest.mark.anyio
async def test_of_two_applies_of_one_rerun_only_one_submits(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest("a", token="1"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest("a", token="2")))
    p = _plan(desired, live)  # both applies planned against the same live state
    api = FakeApi(live)

    first, second = await asyncio.gather(_apply(p, desired, api), _apply(p, desired, api))

    assert len(api.called("submit")) == 1
    assert sorted([first.items[0].outcome, second.items[0].outcome]) == ["already running", "done"]
    loser = first if first.items[0].outcome == "already running" else second
    assert loser.items[0].detail == "another apply started this run"
    assert not loser.failed


@pytest.mark.anyio
async def test_a_rerun_claim_on_a_workflow_edited_since_the_plan_fails_without_submitting(
    tmp_path: Path,
) -> None:
    desired, live, p = _token_bump(tmp_path)
    api = FakeApi(live)
    api.workflows[live[0].name]["metadata"]["resourceVersion"] = "9"  # edited in the UI meanwhile

    result = await _apply(p, desired, api)

    assert result.items[0].outcome == "failed"
    assert "changed on the tenant since it was planned; plan again" in result.items[0].detail
    assert api.called("submit") == []


@pytest.mark.anyio
async def test_a_failed_submit_releases_its_claim_so_the_rerun_stays_pending(tmp_path: Path) -> None:
    desired, live, p = _token_bump(tmp_path)
    api = FakeApi(live)
    api.fail[("submit", live[0].name)] = ServerError("503 after 6 attempts", status=503)

    result = await _apply(p, desired, api)

    assert result.items[0].outcome == "failed"
    assert [c.method for c in api.calls] == A_RERUN
    stored = api.workflows[live[0].name]["metadata"]["annotations"]
    assert stored[LAST_RUN_ANNOTATION] == live[0].annotations[LAST_RUN_ANNOTATION]
    assert (
        _plan(desired, [LiveWorkflow.from_source(s) for s in api.workflows.values()])
        .items[0]
        .has(Action.RERUN)
    )


@pytest.mark.anyio
async def test_a_submit_of_unknown_outcome_keeps_its_claim(tmp_path: Path) -> None:
    desired, live, p = _token_bump(tmp_path)
    api = FakeApi(live)
    api.fail[("submit", live[0].name)] = OutcomeUnknownError("lost answer, re-read failed", status=503)

    result = await _apply(p, desired, api)

    assert result.items[0].outcome == "failed"
    # The run may have started: releasing the claim could start it twice on the next apply.
    assert [c.method for c in api.calls] == ["runs_for", "newest_run", "update_workflow", "submit"]


# -- failures --


@pytest.mark.anyio
async def test_a_failing_item_does_not_stop_the_others(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a"), b=manifest("b"), c=manifest("c")))
    p = _plan(desired)
    api = FakeApi()
    api.fail[("create_workflow", _by_manifest(p, "b").workflow)] = ServerError("boom: 503", status=503)

    result = await _apply(p, desired, api)

    assert _outcomes(result) == {"a": "done", "b": "failed", "c": "done"}
    assert next(i for i in result.items if i.address == "AssetImport.b").detail == "boom: 503"
    assert result.failed
    assert result.count("done") == 2
    assert len(api.called("create_workflow")) == 3
    text = render_results_text(result)
    assert "Apply: 2 done, 1 failed, 0 already running, 0 skipped, 0 unchanged." in text
    assert any(
        "AssetImport.b" in line and "failed" in line and "boom: 503" in line for line in text.splitlines()
    )


@pytest.mark.anyio
async def test_an_unexpected_exception_fails_only_its_item(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a"), b=manifest("b")))
    p = _plan(desired)
    api = FakeApi()
    api.fail[("create_workflow", _by_manifest(p, "a").workflow)] = KeyError("surprise")

    result = await _apply(p, desired, api)

    assert _outcomes(result) == {"a": "failed", "b": "done"}


@pytest.mark.anyio
@pytest.mark.parametrize("failure", ["create_workflow", "submit"])
async def test_a_failed_dependency_skips_its_dependents(tmp_path: Path, failure: str) -> None:
    documents = {
        "base": manifest("base", token="1"),
        "mid": manifest("mid", depends_on=["base"]),
        "top": manifest("top", kind="LineageBuilder", depends_on=["mid"]),
        "free": manifest("free"),
    }
    if failure == "submit":  # base exists; its rerun fails
        _, live = _applied(tmp_path / "v1", base=documents["base"])
        documents["base"] = manifest("base", token="2")
    else:
        live = []
    desired = desired_from(write_manifests(tmp_path / "v2", **documents))
    p = _plan(desired, live)
    api = FakeApi(live)
    api.fail[(failure, _by_manifest(p, "base").workflow)] = ServerError("down", status=500)

    result = await _apply(p, desired, api)

    assert _outcomes(result) == {"base": "failed", "mid": "skipped", "top": "skipped", "free": "done"}
    mid = next(i for i in result.items if i.address == "AssetImport.mid")
    assert mid.detail == "dependency AssetImport.base did not succeed"
    top = next(i for i in result.items if i.address == "LineageBuilder.top")
    assert top.detail == "dependency AssetImport.mid did not succeed"
    created = {c.name for c in api.called("create_workflow")}
    assert _by_manifest(p, "mid").workflow not in created
    assert _by_manifest(p, "top").workflow not in created
    assert result.failed


@pytest.mark.anyio
async def test_dependents_wait_for_their_dependency(tmp_path: Path) -> None:
    desired = desired_from(
        write_manifests(tmp_path, a=manifest("a", depends_on=["z"]), z=manifest("z"), m=manifest("m"))
    )
    p = _plan(desired)
    api = FakeApi()
    result = await _apply(p, desired, api, parallelism=1)
    order = [c.name for c in api.called("create_workflow")]
    assert order.index(_by_manifest(p, "z").workflow) < order.index(_by_manifest(p, "a").workflow)
    assert _outcomes(result) == {"z": "done", "a": "done", "m": "done"}


@pytest.mark.anyio
@pytest.mark.parametrize("parallelism", [1, 2, 8])
async def test_parallelism_bounds_concurrent_writes(tmp_path: Path, parallelism: int) -> None:
    desired = desired_from(write_manifests(tmp_path, **{f"w{i}": manifest(f"w{i}") for i in range(6)}))
    api = FakeApi()
    api.create_yields = 3
    result = await _apply(_plan(desired), desired, api, parallelism=parallelism)
    assert api.most_in_flight == min(parallelism, 6)
    assert result.count("done") == 6


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("owner", "outcome", "detail"),
    [
        (INSTANCE, "done", "already created by a concurrent apply"),
        ("staging", "failed", "already exists"),
        (None, "failed", "already exists"),
    ],
)
async def test_create_conflict_counts_as_done_only_when_the_workflow_is_ours(
    tmp_path: Path, owner: str | None, outcome: str, detail: str
) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    p = _plan(desired)
    api = FakeApi()
    existing = copy.deepcopy(desired[0].compiled.body)
    existing["metadata"]["resourceVersion"] = "3"
    if owner is None:
        del existing["metadata"]["labels"][INSTANCE_LABEL]
    else:
        existing["metadata"]["labels"][INSTANCE_LABEL] = owner
    api.workflows[p.items[0].workflow] = {"metadata": existing["metadata"], "spec": existing["spec"]}

    # It appeared after the apply read the tenant (a concurrent apply): the guard did not see it.
    result = await _apply(p, desired, api, guard=ApplyGuard.of([], desired, instance=INSTANCE))

    assert [c.method for c in api.calls] == ["create_workflow", "get_workflow"]
    (item,) = result.items
    assert item.outcome == outcome
    assert detail in item.detail


@pytest.mark.anyio
async def test_archive_items_archive(tmp_path: Path) -> None:
    item = PlannedWorkflow(
        address="workflow.old",
        kind="AssetImport",
        workflow="old",
        manifest=None,
        **as_planned(Action.ARCHIVE),
    )
    api = FakeApi()
    guard = ApplyGuard(
        INSTANCE, {"old": INSTANCE, "kept": INSTANCE}, frozenset(), {}, True, PruneLimit(100, percent=True)
    )
    result = await _apply(Plan(instance=INSTANCE, items=(item,)), [], api, guard=guard)
    assert [c.method for c in api.calls] == ["archive"]
    assert [(i.outcome, i.detail) for i in result.items] == [("done", "archived")]


@pytest.mark.anyio
async def test_item_without_its_manifest_fails(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    p = _plan(desired)
    result = await _apply(p, [], FakeApi())
    assert result.items[0].outcome == "failed"
    assert "no manifest 'a'" in result.items[0].detail


# -- --wait --


@pytest.mark.anyio
async def test_wait_follows_every_run_with_one_search_per_poll(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", r=manifest("r", token="1"))
    desired = desired_from(
        write_manifests(
            tmp_path / "v2",
            ok=manifest("ok"),
            bad=manifest("bad"),
            quiet=manifest("quiet", policy="never"),
            r=manifest("r", token="2"),
        )
    )
    p = _plan(desired, live)
    wf = {item.manifest: item.workflow for item in p.items}
    api = FakeApi(live)
    time = FakeTime()

    def progress(poll: int) -> None:
        if poll == 1:
            for name in ("ok", "bad", "r"):
                api.set_phase(wf[name], "Running")
        elif poll == 2:
            api.set_phase(wf["ok"], "Succeeded")
            api.set_phase(wf["bad"], "Failed")
        elif poll == 3:
            api.set_phase(wf["r"], "Succeeded")

    api.on_poll = progress

    result = await _apply(
        p,
        desired,
        api,
        wait=WaitPolicy(timeout=60, first_poll=2, max_poll=3),
        sleep=time.sleep,
        clock=time.clock,
    )

    polls = [c for c in api.called("runs_for") if c.phases is None]
    assert len(polls) == 3
    assert polls[0].templates == tuple(sorted([wf["ok"], wf["bad"], wf["r"]]))
    assert polls[1].templates == tuple(sorted([wf["ok"], wf["bad"], wf["r"]]))
    assert polls[2].templates == (wf["r"],)
    assert time.sleeps == [2, 3, 3]
    assert _outcomes(result) == {"bad": "failed", "ok": "done", "quiet": "done", "r": "done"}
    by_name = {i.address.split(".", 1)[1]: i for i in result.items}
    assert by_name["ok"].run_phase == "Succeeded"
    assert by_name["ok"].run == f"{wf['ok']}-run1"
    assert by_name["bad"].run_phase == "Failed"
    assert by_name["bad"].detail == f"run {wf['bad']}-run1 ended Failed"
    assert by_name["r"].run == f"{wf['r']}-run1"
    assert by_name["r"].run_phase == "Succeeded"
    assert by_name["quiet"].run_phase is None
    assert result.failed
    assert "(run Failed)" in render_results_text(result)


@pytest.mark.anyio
async def test_wait_times_out_as_failed(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    p = _plan(desired)
    api = FakeApi()
    time = FakeTime()

    result = await _apply(
        p,
        desired,
        api,
        wait=WaitPolicy(timeout=10, first_poll=1, max_poll=4),
        sleep=time.sleep,
        clock=time.clock,
    )

    (item,) = result.items
    assert item.outcome == "failed"
    assert item.detail == "its run did not finish within 10 s"
    assert result.failed
    assert sum(time.sleeps) >= 10
    assert len(api.called("runs_for")) == len(time.sleeps)
    assert all(interval <= 4 for interval in time.sleeps)


@pytest.mark.anyio
async def test_wait_rides_out_a_failed_poll(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    p = _plan(desired)
    api = FakeApi()
    time = FakeTime()
    name = p.items[0].workflow

    def progress(poll: int) -> None:
        if poll == 1:
            api.fail[("runs_for", "")] = ServerError("search down", status=503)
        else:
            api.fail.clear()
            api.set_phase(name, "Succeeded")

    api.on_poll = progress

    result = await _apply(p, desired, api, wait=WaitPolicy(timeout=60), sleep=time.sleep, clock=time.clock)

    assert [(i.outcome, i.run_phase) for i in result.items] == [("done", "Succeeded")]
    assert api.polls == 2


@pytest.mark.anyio
async def test_wait_does_not_hang_when_the_poll_breaks(tmp_path: Path) -> None:
    """An unexpected error in the runs search must fail the waited items, not leave them waiting."""
    desired = desired_from(write_manifests(tmp_path, a=manifest("a"), b=manifest("b", policy="never")))
    p = _plan(desired)
    api = FakeApi()
    api.fail[("runs_for", "")] = ValueError("unparsable answer")
    time = FakeTime()

    result = await _apply(p, desired, api, wait=WaitPolicy(timeout=60), sleep=time.sleep, clock=time.clock)

    assert _outcomes(result) == {"a": "failed", "b": "done"}
    failed = next(i for i in result.items if i.address == "AssetImport.a")
    assert failed.detail == "could not follow its run: unparsable answer"


# -- request_body --


def test_request_body_does_not_touch_the_compiled_body(tmp_path: Path) -> None:
    _, live = _applied(tmp_path / "v1", a=manifest("a"))
    desired = desired_from(write_manifests(tmp_path / "v2", a=manifest("a", prefix="/v2")))
    p = _plan(desired, live)
    before = copy.deepcopy(desired[0].compiled.body)
    body = request_body(desired[0], p.items[0], resource_version="7", credentials=False)
    assert desired[0].compiled.body == before
    assert body["metadata"]["resourceVersion"] == "7"
    assert cloud_source(body["spec"]) == GUID


# -- the applier's own guard: whatever plan it is handed ---------------------------------------------


def _live_source(name: str, *, owner: str | None, protect: bool = False) -> LiveWorkflow:
    labels = {} if owner is None else {INSTANCE_LABEL: owner, MANIFEST_LABEL: name}
    annotations = {"reconciler.dev/protect": "true"} if protect else {}
    return LiveWorkflow.from_source(
        {"metadata": {"name": name, "labels": labels, "annotations": annotations, "resourceVersion": "1"}}
    )


def _bare(workflow: str, *actions: Action, manifest: str | None = None) -> PlannedWorkflow:
    return PlannedWorkflow(
        address=f"AssetImport.{workflow}",
        kind="AssetImport",
        workflow=workflow,
        manifest=manifest,
        **as_planned(*actions),
        resource_version="1",
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("item", "live", "refusal"),
    [
        (_bare("ui-made", Action.ARCHIVE), [_live_source("ui-made", owner=None)], "it is unmanaged"),
        (
            _bare("theirs", Action.ARCHIVE),
            [_live_source("theirs", owner="staging")],
            "managed by instance 'staging'",
        ),
        (
            _bare("kept", Action.ARCHIVE),
            [_live_source("kept", owner=INSTANCE, protect=True)],
            "it is protected",
        ),
        (_bare("elsewhere", Action.ARCHIVE), [], "did not read it from the tenant"),
        (
            _bare("ui-made", Action.RERUN, manifest="a"),
            [_live_source("ui-made", owner=None)],
            "it is unmanaged",
        ),
        (
            _bare("ui-made", Action.ADOPT, manifest="a"),
            [_live_source("ui-made", owner=None)],
            "it is unmanaged",  # no manifest of this apply adopts it
        ),
    ],
)
async def test_the_applier_refuses_what_no_plan_may_ask(
    item: PlannedWorkflow, live: list[LiveWorkflow], refusal: str
) -> None:
    others = [_live_source(f"other-{n}", owner=INSTANCE) for n in range(9)]
    guard = ApplyGuard.of(
        [*live, *others], [], instance=INSTANCE, prune=True, max_prune=PruneLimit(100, percent=True)
    )
    api = FakeApi()

    result = await _apply(Plan(instance=INSTANCE, items=(item,)), [], api, guard=guard)

    assert [c.method for c in api.calls if c.method != "runs_for"] == []  # reads only
    [outcome] = result.items
    assert outcome.outcome == "failed"
    assert refusal in outcome.detail


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("prune", "max_percent", "archives", "refusal"),
    [
        (False, 100.0, 1, "was not asked to prune"),
        (True, 20.0, 3, "more than --max-prune 20%"),
        (True, 100.0, 10, "every managed workflow"),
    ],
)
async def test_the_applier_checks_the_prune_guards_again(
    prune: bool, max_percent: float, archives: int, refusal: str
) -> None:
    live = [_live_source(f"w{n}", owner=INSTANCE) for n in range(10)]
    guard = ApplyGuard.of(
        live, [], instance=INSTANCE, prune=prune, max_prune=PruneLimit(max_percent, percent=True)
    )
    items = tuple(_bare(f"w{n}", Action.ARCHIVE) for n in range(archives))
    api = FakeApi()

    result = await _apply(Plan(instance=INSTANCE, items=items), [], api, guard=guard)

    assert api.calls == []
    assert {(i.outcome, refusal in i.detail) for i in result.items} == {("failed", True)}


@pytest.mark.anyio
async def test_the_applier_adopts_only_what_a_manifest_names(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a", adopt="csa-asset-import-1684500411")))
    source = copy.deepcopy(desired[0].compiled.body)
    del source["metadata"]["labels"][INSTANCE_LABEL]
    source["metadata"]["resourceVersion"] = "4"
    live = LiveWorkflow.from_source(source)
    p = _plan(desired, [live])
    assert p.items[0].has(Action.ADOPT)
    api = FakeApi([live])

    result = await _apply(p, desired, api, guard=ApplyGuard.of([live], desired, instance=INSTANCE))

    assert result.items[0].outcome == "done"
    assert [c.method for c in api.calls] == ["update_workflow"]


# -- --wait with a run in progress (issue 14) --


def _running(api: FakeApi, workflow: str) -> None:
    api.runs[workflow] = [LiveRun(name=f"{workflow}-run0", template_name=workflow, phase="Running")]


@pytest.mark.anyio
async def test_wait_submits_the_pending_rerun_once_the_run_in_progress_ends(tmp_path: Path) -> None:
    desired, live, p = _token_bump(tmp_path)
    api = FakeApi(live)
    workflow = p.items[0].workflow
    _running(api, workflow)
    time = FakeTime()

    def progress(poll: int) -> None:
        if poll == 2:
            api.set_phase(workflow, "Succeeded")  # the run in progress ends
        elif poll == 3:
            api.set_phase(workflow, "Succeeded")  # and then the rerun asked for

    api.on_poll = progress
    result = await _apply(p, desired, api, wait=WaitPolicy(timeout=60), sleep=time.sleep, clock=time.clock)

    [item] = result.items
    assert (item.outcome, item.run, item.run_phase) == ("done", f"{workflow}-run2", "Succeeded")
    methods = [c.method for c in api.calls if not (c.method == "runs_for" and c.phases is None)]
    assert methods == A_RERUN
    assert api.polls == 3  # two to see the run in progress end, one to follow the new run


@pytest.mark.anyio
async def test_wait_fails_when_the_run_in_progress_outlasts_the_timeout(tmp_path: Path) -> None:
    desired, live, p = _token_bump(tmp_path)
    api = FakeApi(live)
    _running(api, p.items[0].workflow)
    time = FakeTime()

    result = await _apply(p, desired, api, wait=WaitPolicy(timeout=10), sleep=time.sleep, clock=time.clock)

    [item] = result.items
    assert item.outcome == "failed"
    assert "was still in progress after 10 s; the rerun asked for is still pending" in item.detail
    assert not api.called("submit")
    assert not api.called("update_workflow")  # no claim: the next plan still asks for the run


@pytest.mark.anyio
async def test_without_wait_a_run_in_progress_leaves_the_rerun_pending_and_says_so(tmp_path: Path) -> None:
    desired, live, p = _token_bump(tmp_path)
    api = FakeApi(live)
    _running(api, p.items[0].workflow)

    result = await _apply(p, desired, api)

    [item] = result.items
    assert item.outcome == "already running"
    assert "the rerun asked for is still pending (apply again once it ends, or apply --wait)" in item.detail
    again = _plan(desired, [LiveWorkflow.from_source(s) for s in api.workflows.values()])
    assert again.items[0].has(Action.RERUN)
