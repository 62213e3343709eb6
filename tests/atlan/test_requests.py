"""What the client puts on the wire: headers, paths, the endpoint family, exact bodies."""

from __future__ import annotations

import asyncio
import json
import platform
import uuid
from typing import Any

import httpx
import pytest

from reconciler.atlan import AtlanWorkflowClient
from reconciler.packages.identity import INSTANCE_LABEL
from tests.atlan.conftest import (
    MEMBER_WHOAMI,
    NAME,
    TOKEN_WHOAMI,
    MakeClient,
    Server,
    reply,
    run_source,
    search_reply,
    workflow_source,
)
from tests.helpers import FIXTURES

pytestmark = pytest.mark.anyio


def captured(call: str, file: str = "pyatlan-10.0.0-api-token-user.json") -> list[dict[str, Any]]:
    """The requests pyatlan 10.0.0 sent for ``call`` (atlan-workflow-fixtures/captured-requests)."""
    calls = json.loads((FIXTURES / "captured-requests" / file).read_text())
    requests: list[dict[str, Any]] = next(c["requests"] for c in calls if c["call"] == call)
    return requests


async def test_headers_are_the_sdks_with_our_agent(make_client: MakeClient) -> None:
    server = Server()
    async with make_client(server) as client:
        await client.whoami()
    (request,) = server.requests
    assert str(request.url) == "https://tenant.example.com/api/service/whoami"
    headers = request.headers
    assert headers["authorization"] == "Bearer key-5d1e8a0b-do-not-print-me"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "reconciler/0.1.0"
    assert headers["x-atlan-agent"] == "reconciler"
    assert headers["x-atlan-agent-id"] == "reconciler"
    assert headers["x-atlan-client-origin"] == "reconciler"
    assert headers["x-atlan-client-type"] == "async"
    assert headers["x-atlan-python-version"] == platform.python_version()
    assert uuid.UUID(headers["x-atlan-request-id"]).version == 4


async def test_blank_api_key_sends_no_authorization(make_client: MakeClient) -> None:
    server = Server()
    client = AtlanWorkflowClient("https://tenant.example.com/", "", transport=httpx.MockTransport(server))
    async with client:
        await client.whoami()
    assert "authorization" not in server.requests[0].headers


async def test_request_id_is_new_per_call_and_kept_across_retries(make_client: MakeClient) -> None:
    server = Server({"POST workflows/indexsearch": [reply(503), search_reply([])]})
    async with make_client(server) as client:
        await client.get_workflow(NAME)
        await client.get_workflow(NAME)
    ids = [r.headers["x-atlan-request-id"] for r in server.requests]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize(
    ("whoami", "family"),
    [
        pytest.param(TOKEN_WHOAMI, "workflows", id="api-token"),
        pytest.param({"roles": [{"name": "$member"}, {"name": "$admin"}]}, "workflows", id="admin"),
        pytest.param(MEMBER_WHOAMI, "package-workflows", id="member"),
        pytest.param({"roles": []}, "package-workflows", id="no-roles"),
        pytest.param({}, "package-workflows", id="no-roles-key"),
    ],
)
async def test_endpoint_family_comes_from_whoami(
    make_client: MakeClient, whoami: dict[str, Any], family: str
) -> None:
    server = Server({"GET whoami": reply(200, whoami)})
    async with make_client(server) as client:
        families = await asyncio.gather(*(client.endpoint_family() for _ in range(5)))
    assert set(families) == {family}
    assert server.calls["GET whoami"] == 1


@pytest.mark.parametrize(
    ("whoami", "family"), [(TOKEN_WHOAMI, "workflows"), (MEMBER_WHOAMI, "package-workflows")]
)
async def test_paths_per_family(make_client: MakeClient, whoami: dict[str, Any], family: str) -> None:
    created = workflow_source(NAME)
    run = run_source(f"{NAME}-abcde", NAME, "Pending")
    server = Server(
        {
            "GET whoami": reply(200, whoami),
            f"POST {family}?submit=true": reply(200, created),
            f"POST {family}?submit=false": reply(200, created),
            f"POST {family}/{NAME}": reply(200, created),
            f"POST {family}/submit": reply(200, run),
            f"POST {family}/{NAME}/archive": reply(200),
        }
    )
    body = {"metadata": {"name": NAME}, "spec": {}, "payload": []}
    async with make_client(server) as client:
        await client.create_workflow(body, submit=True)
        await client.create_workflow(body, submit=False)
        await client.update_workflow(NAME, body)
        await client.submit(NAME)
        await client.archive(NAME)
    assert [f"{r.method} {r.url.raw_path.decode()}" for r in server.requests] == [
        "GET /api/service/whoami",
        f"POST /api/service/{family}?submit=true",
        f"POST /api/service/{family}?submit=false",
        f"POST /api/service/{family}/{NAME}",
        f"POST /api/service/{family}/submit",
        f"POST /api/service/{family}/{NAME}/archive",
    ]
    assert server.bodies(f"POST {family}/submit") == [
        {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": NAME}
    ]
    assert server.requests[-1].content == b""  # archive sends no body


async def test_submit_body_is_the_sdks(make_client: MakeClient) -> None:
    sdk = captured("rerun(WorkflowPackage.ASSET_IMPORT, idempotent=False)")[-1]
    name = sdk["body"]["resourceName"]
    server = Server({"POST workflows/submit": reply(200, run_source(f"{name}-x", name, "Pending"))})
    async with make_client(server) as client:
        await client.submit(name)
    assert server.bodies("POST workflows/submit") == [sdk["body"]]


async def test_create_sends_the_body_as_the_sdk_serialises_it(make_client: MakeClient) -> None:
    sdk = captured("run(AssetImport)")[0]["body"]
    server = Server(
        {"POST workflows?submit=true": reply(200, {"metadata": sdk["metadata"], "spec": sdk["spec"]})}
    )
    async with make_client(server) as client:
        live = await client.create_workflow(sdk, submit=True)
    (request,) = [r for r in server.requests if r.method == "POST"]
    assert request.content == json.dumps(sdk).encode()  # json.dumps defaults, like the SDK
    assert live.name == sdk["metadata"]["name"]
    assert "payload" not in live.raw


async def test_get_workflow_sends_the_sdks_find_by_id(make_client: MakeClient) -> None:
    sdk = captured("find_by_id")[0]["body"]
    server = Server({"POST workflows/indexsearch": search_reply([workflow_source(NAME)])})
    async with make_client(server) as client:
        live = await client.get_workflow(NAME)
    assert server.bodies("POST workflows/indexsearch") == [sdk]
    assert live is not None
    assert live.name == NAME


async def test_get_workflow_none_when_absent(make_client: MakeClient) -> None:
    server = Server({"POST workflows/indexsearch": search_reply([])})
    async with make_client(server) as client:
        assert await client.get_workflow(NAME) is None


async def test_a_lost_submit_reads_runs_with_the_sdks_find_current_run(make_client: MakeClient) -> None:
    sdk = captured("rerun(WorkflowPackage.ASSET_IMPORT, idempotent=True)")
    (search,) = [r for r in sdk if r["url"].endswith("/runs/indexsearch")]
    name = search["body"]["query"]["bool"]["filter"][0]["nested"]["query"]["term"][
        "spec.workflowTemplateRef.name.keyword"
    ]["value"]
    run = run_source(f"{name}-abcde", name, "Pending", created="2026-09-01T11:00:00Z")
    server = Server({"POST workflows/submit": reply(504), "POST runs/indexsearch": search_reply([run])})
    async with make_client(server) as client:
        settled = await client.submit(name)
    assert (settled.name, settled.phase, settled.template_name) == (f"{name}-abcde", "Pending", name)
    assert server.bodies("POST runs/indexsearch") == [search["body"]]


async def test_list_managed_searches_by_instance_label(make_client: MakeClient) -> None:
    server = Server(
        {"POST workflows/indexsearch": search_reply([workflow_source(NAME, {INSTANCE_LABEL: "prod"})])}
    )
    async with make_client(server) as client:
        (live,) = await client.list_managed("prod")
    assert live.labels[INSTANCE_LABEL] == "prod"
    assert server.bodies("POST workflows/indexsearch") == [
        {
            "from": 0,
            "size": 100,
            "track_total_hits": True,
            "query": {
                "bool": {
                    "filter": [
                        {
                            "nested": {
                                "path": "metadata",
                                "query": {
                                    "term": {
                                        "metadata.labels.reconciler.dev/instance.keyword": {"value": "prod"}
                                    }
                                },
                            }
                        }
                    ]
                }
            },
            "sort": [{"metadata.name.keyword": {"order": "asc", "nested": {"path": "metadata"}}}],
        }
    ]


async def test_client_repr_and_base_url_trailing_slash(make_client: MakeClient) -> None:
    client = make_client(Server())
    assert repr(client) == "AtlanWorkflowClient(base_url='https://tenant.example.com')"
    await client.aclose()
