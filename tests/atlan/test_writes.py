"""Creates and submits are never retried blindly: a lost answer is settled by re-reading live state."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from reconciler.atlan import RetryPolicy, settle
from reconciler.errors import ConflictError, OutcomeUnknownError, ServerError, TransportError
from reconciler.live import LiveRun, LiveWorkflow
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL
from tests.atlan.conftest import NAME, MakeClient, Server, reply, run_source, search_reply, workflow_source

pytestmark = pytest.mark.anyio

OURS = {INSTANCE_LABEL: "prod", MANIFEST_LABEL: "snowflake-assets", "team": "data"}
BODY: dict[str, Any] = {
    "metadata": {"name": NAME, "namespace": "default", "labels": OURS},
    "spec": {"entrypoint": "main"},
    "payload": [{"parameter": "credentialGuid", "type": "credential", "body": {"password": "s3cr3t"}}],
}
CREATE = "POST workflows?submit=true"
SUBMIT = "POST workflows/submit"
WF_SEARCH = "POST workflows/indexsearch"
RUN_SEARCH = "POST runs/indexsearch"
LOST_ANSWERS = [
    pytest.param(reply(500), id="500"),
    pytest.param(reply(502), id="502"),
    pytest.param(reply(503), id="503"),
    pytest.param(reply(504), id="504"),
    pytest.param(httpx.ReadTimeout("read timed out"), id="read-timeout"),
    pytest.param(httpx.RemoteProtocolError("server disconnected"), id="dropped"),
]
CREATED = reply(200, {"metadata": {"name": NAME, "labels": OURS}, "spec": {}})


@pytest.mark.parametrize("lost", LOST_ANSWERS)
async def test_lost_create_that_happened_is_not_sent_again(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, lost: httpx.Response | Exception
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.atlan")
    server = Server({CREATE: lost, WF_SEARCH: search_reply([workflow_source(NAME, OURS, uid="u-1")])})
    async with make_client(server) as client:
        live = await client.create_workflow(BODY, submit=True)
    assert server.calls[CREATE] == 1
    assert server.calls[WF_SEARCH] == 1
    assert live.uid == "u-1"
    assert "treating the create as done" in caplog.text


@pytest.mark.parametrize("lost", LOST_ANSWERS)
async def test_lost_create_that_did_not_happen_is_sent_again(
    make_client: MakeClient, lost: httpx.Response | Exception
) -> None:
    server = Server({CREATE: [lost, CREATED], WF_SEARCH: search_reply([])})
    async with make_client(server) as client:
        live = await client.create_workflow(BODY, submit=True)
    assert server.calls[CREATE] == 2
    assert server.calls[WF_SEARCH] == 1
    assert live.name == NAME
    assert server.bodies(CREATE) == [BODY, BODY]


@pytest.mark.parametrize(
    "unsent",
    [
        pytest.param(reply(429), id="429"),
        pytest.param(httpx.ConnectError("refused"), id="connect-error"),
        pytest.param(httpx.ConnectTimeout("connect timed out"), id="connect-timeout"),
        pytest.param(httpx.PoolTimeout("pool timed out"), id="pool-timeout"),
    ],
)
async def test_create_the_server_never_saw_is_retried_directly(
    make_client: MakeClient, unsent: httpx.Response | Exception
) -> None:
    server = Server({CREATE: [unsent, CREATED]})
    async with make_client(server) as client:
        await client.create_workflow(BODY, submit=True)
    assert server.calls[CREATE] == 2
    assert server.calls[WF_SEARCH] == 0


async def test_conflict_on_first_create_means_the_name_exists(make_client: MakeClient) -> None:
    server = Server({CREATE: reply(409, {"errorMessage": "workflow already exists"})})
    async with make_client(server) as client:
        with pytest.raises(ConflictError, match=r"POST /api/service/workflows\?submit=true: 409 Conflict"):
            await client.create_workflow(BODY, submit=True)
    assert server.calls[CREATE] == 1
    assert server.calls[WF_SEARCH] == 0


async def test_conflict_after_a_lost_create_of_ours_is_success(make_client: MakeClient) -> None:
    # The re-read did not see it yet (search lags), the retry then collides with our own create.
    server = Server(
        {
            CREATE: [reply(503), reply(409)],
            WF_SEARCH: [search_reply([]), search_reply([workflow_source(NAME, OURS)])],
        }
    )
    async with make_client(server) as client:
        live = await client.create_workflow(BODY, submit=True)
    assert live.labels == OURS
    assert server.calls[CREATE] == 2
    assert server.calls[WF_SEARCH] == 2


async def test_someone_elses_workflow_is_not_taken_for_ours(make_client: MakeClient) -> None:
    theirs = workflow_source(NAME, {INSTANCE_LABEL: "staging", MANIFEST_LABEL: "snowflake-assets"})
    server = Server({CREATE: [reply(503), reply(409)], WF_SEARCH: search_reply([theirs])})
    async with make_client(server) as client:
        with pytest.raises(ConflictError):
            await client.create_workflow(BODY, submit=True)
    assert server.calls[CREATE] == 2


async def test_failed_reread_leaves_the_outcome_unknown(make_client: MakeClient) -> None:
    server = Server({CREATE: reply(503), WF_SEARCH: reply(500)})
    async with make_client(server, retry=RetryPolicy.no_wait(attempts=2)) as client:
        with pytest.raises(OutcomeUnknownError, match="may or may not have happened") as caught:
            await client.create_workflow(BODY, submit=True)
    assert caught.value.status == 503
    assert isinstance(caught.value.__cause__, ServerError)
    assert server.calls[CREATE] == 1


async def test_every_attempt_lost_and_never_applied(make_client: MakeClient) -> None:
    server = Server({CREATE: httpx.ReadTimeout("read timed out"), WF_SEARCH: search_reply([])})
    async with make_client(server, retry=RetryPolicy.no_wait(attempts=3)) as client:
        with pytest.raises(TransportError, match="after 3 attempts"):
            await client.create_workflow(BODY, submit=True)
    assert server.calls[CREATE] == 3
    assert server.calls[WF_SEARCH] == 3  # the last lost answer is settled too


async def test_last_attempt_lost_but_applied(make_client: MakeClient) -> None:
    server = Server(
        {
            "POST workflows?submit=false": reply(502),
            WF_SEARCH: [search_reply([]), search_reply([workflow_source(NAME, OURS)])],
        }
    )
    async with make_client(server, retry=RetryPolicy.no_wait(attempts=2)) as client:
        live = await client.create_workflow(BODY, submit=False)
    assert live.name == NAME
    assert server.calls["POST workflows?submit=false"] == 2


# -- submit ---------------------------------------------------------------------------------------

TEMPLATE = NAME
BEFORE = "2026-09-01T11:00:00Z"  # fake "now" is 2026-09-01T12:00:00Z
AFTER = "2026-09-01T12:00:01Z"


@pytest.mark.parametrize(
    ("runs", "submits"),
    [
        pytest.param([run_source(f"{TEMPLATE}-a", TEMPLATE, "Running", BEFORE)], 1, id="running"),
        pytest.param([run_source(f"{TEMPLATE}-a", TEMPLATE, "Pending")], 1, id="pending"),
        pytest.param(
            [run_source(f"{TEMPLATE}-a", TEMPLATE, "Succeeded", AFTER)], 1, id="finished-after-start"
        ),
        pytest.param([run_source(f"{TEMPLATE}-a", TEMPLATE, "Succeeded", BEFORE)], 2, id="only-older-runs"),
        pytest.param([], 2, id="no-runs"),
    ],
)
async def test_lost_submit_is_settled_by_the_runs(
    make_client: MakeClient, runs: list[dict[str, Any]], submits: int
) -> None:
    new_run = run_source(f"{TEMPLATE}-new", TEMPLATE, "Pending", AFTER)
    server = Server({SUBMIT: [reply(504), reply(200, new_run)], RUN_SEARCH: search_reply(runs)})
    async with make_client(server) as client:
        run = await client.submit(TEMPLATE)
    assert server.calls[SUBMIT] == submits
    assert server.calls[RUN_SEARCH] == 1
    assert run.name == (f"{TEMPLATE}-new" if submits == 2 else f"{TEMPLATE}-a")
    (query,) = server.bodies(RUN_SEARCH)
    assert query["size"] == 50
    assert query["query"]["bool"]["filter"][0]["nested"]["query"] == {
        "term": {"spec.workflowTemplateRef.name.keyword": {"value": TEMPLATE}}
    }


async def test_submit_refused_for_rate_is_retried_without_reading(make_client: MakeClient) -> None:
    new_run = run_source(f"{TEMPLATE}-new", TEMPLATE, "Pending", AFTER)
    server = Server({SUBMIT: [reply(429, headers={"Retry-After": "1"}), reply(200, new_run)]})
    async with make_client(server) as client:
        await client.submit(TEMPLATE)
    assert server.calls[SUBMIT] == 2
    assert server.calls[RUN_SEARCH] == 0


# -- idempotent writes ----------------------------------------------------------------------------


async def test_update_is_retried_like_a_read(make_client: MakeClient) -> None:
    server = Server({f"POST workflows/{NAME}": [reply(503), httpx.ReadTimeout("t"), CREATED]})
    async with make_client(server) as client:
        live = await client.update_workflow(NAME, BODY)
    assert live.name == NAME
    assert server.calls[f"POST workflows/{NAME}"] == 3
    assert server.calls[WF_SEARCH] == 0


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param([reply(200)], id="archived"),
        pytest.param([reply(404)], id="already-gone"),
        pytest.param([reply(503), reply(404)], id="lost-then-gone"),
    ],
)
async def test_archive(make_client: MakeClient, answers: list[httpx.Response]) -> None:
    server = Server({f"POST workflows/{NAME}/archive": answers})
    async with make_client(server) as client:
        await client.archive(NAME)  # no error
    assert server.calls[f"POST workflows/{NAME}/archive"] == len(answers)


async def test_create_needs_a_name(make_client: MakeClient) -> None:
    async with make_client(Server()) as client:
        with pytest.raises(ValueError, match=r"metadata\.name"):
            await client.create_workflow({"metadata": {}}, submit=True)


# -- the rules, alone -----------------------------------------------------------------------------


def test_a_create_happened_when_the_workflow_carries_our_identity_labels() -> None:
    def live(labels: dict[str, str]) -> LiveWorkflow:
        return LiveWorkflow.from_source(workflow_source(NAME, labels))

    assert settle.created(BODY, live({**OURS, "team": "other"}))  # other labels do not matter
    assert not settle.created(BODY, live({**OURS, INSTANCE_LABEL: "staging"}))
    assert not settle.created(BODY, None)
    unlabelled = {"metadata": {"name": NAME, "labels": {"team": "data"}}}
    assert settle.created(unlabelled, live({"team": "data"}))  # no identity labels: all of them
    assert not settle.created(unlabelled, live({"team": "ml"}))


def test_a_conditional_update_happened_when_the_workflow_carries_what_we_sent() -> None:
    sent = {
        "metadata": {"name": NAME, "resourceVersion": "7", "labels": OURS, "annotations": {"a": "1"}},
        "spec": {"entrypoint": "main"},
    }

    def live(version: str, **changes: Any) -> LiveWorkflow:
        source = workflow_source(NAME, OURS, resourceVersion=version, annotations={"a": "1"})
        return LiveWorkflow.from_source({**source, **changes})

    assert settle.updated(sent, live("8"))
    assert not settle.updated(sent, live("7"))  # the version we sent: not updated yet
    assert not settle.updated(sent, None)
    assert not settle.updated(sent, live("8", spec={"entrypoint": "other"}))
    assert settle.updated({**sent, "payload": [{}]}, live("8", spec={"entrypoint": "other"}))
    annotated = {**sent, "metadata": {**sent["metadata"], "annotations": {"a": "2"}}}
    assert not settle.updated(annotated, live("8"))


def test_a_submit_happened_when_an_active_or_newer_run_exists() -> None:
    began = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)

    def run(phase: str, created: str) -> LiveRun:
        return LiveRun.from_source(run_source(f"{TEMPLATE}-{phase.lower()}", TEMPLATE, phase, created))

    assert settle.submitted([run("Succeeded", BEFORE)], began) is None
    assert settle.submitted([run("Succeeded", BEFORE), run("Running", BEFORE)], began) == run(
        "Running", BEFORE
    )
    assert settle.submitted([run("Failed", AFTER)], began) == run("Failed", AFTER)
    assert settle.submitted([], began) is None
