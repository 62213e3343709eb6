"""Every request pyatlan 10.0.0 was captured sending is understood by the served emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import FIXTURES

CAPTURED = FIXTURES / "captured-requests"
SEEDED = "csa-asset-import-1684500411"

EXPECTED: dict[str, dict[str, list[int]]] = {
    "pyatlan-10.0.0-api-token-user.json": {
        "find_by_type(ASSET_IMPORT, max_results=5)": [200],
        "find_by_id": [200],
        "find_run_by_id": [200],
        "find_runs_by_status_and_time_range": [200],
        "get_runs": [200],
        "monitor(workflow_name)": [200],
        "rerun(WorkflowPackage.ASSET_IMPORT, idempotent=False)": [200, 200, 200],
        "rerun(WorkflowPackage.ASSET_IMPORT, idempotent=True)": [200, 200, 200],
        "run(AssetImport)": [200],
        "run(LineageBuilder, schedule)": [200],
        "update(find_by_id().to_workflow())": [200, 200],
        "update_owner": [200],
        "stop": [404],  # the captured run id (-abcde) does not exist here
        "delete": [200],
        "add_schedule(WorkflowPackage)": [200, 404],  # ... and the template was just deleted
        "remove_schedule(WorkflowPackage)": [200, 404],
        "get_all_scheduled_runs": [200],
        "get_scheduled_run": [404],
        "find_schedule_query": [200],
        "re_run_schedule_query": [404],
        "find_schedule_query_between": [200],
    },
    "pyatlan-10.0.0-non-token-user-run-already-running.json": {
        "rerun(WorkflowPackage.ASSET_IMPORT, idempotent=False)": [200, 200, 200],
        "rerun(WorkflowPackage.ASSET_IMPORT, idempotent=True)": [200, 200],
        "run(AssetImport)": [200],
        "run(LineageBuilder, schedule)": [200],
    },
}


@pytest.mark.parametrize("capture", sorted(EXPECTED))
def test_replay_captured_requests(
    capture: str, client: httpx.Client, create: Callable[..., dict[str, Any]], admin: httpx.Client
) -> None:
    create(SEEDED)
    steps = json.loads((CAPTURED / capture).read_text())
    seen: dict[str, list[int]] = {}
    for step in steps:
        statuses = []
        for request in step["requests"]:
            url = urlsplit(request["url"])
            path = url.path.removeprefix("/api/service/") + (f"?{url.query}" if url.query else "")
            body = request.get("body")
            response = client.request(request["method"], path, json=body if body is not None else None)
            statuses.append(response.status_code)
            assert response.headers["content-type"].startswith("application/json")
            if response.status_code == 200 and path.endswith("indexsearch"):
                answer = response.json()
                assert answer["hits"]["total"]["relation"] == "eq"
                assert len(answer["hits"]["hits"]) <= body["size"]
            elif response.status_code != 200:
                assert response.json()["errorMessage"]
        seen[step["call"]] = statuses
    assert seen == EXPECTED[capture]
    counts = admin.get("counts").json()["by_endpoint"]
    assert counts["POST workflows?submit=true"] >= 1


def test_replayed_searches_find_the_seeded_workflow(
    client: httpx.Client, create: Callable[..., dict[str, Any]], admin: httpx.Client
) -> None:
    create(SEEDED)
    create("csa-asset-import-168450041", submit=False)  # 9 digits: not a find_by_type match
    admin.post("clock", json={"advance": 5})
    steps = {s["call"]: s["requests"] for s in json.loads((CAPTURED / sorted(EXPECTED)[0]).read_text())}

    def hits(call: str, index: int = 0) -> list[dict[str, Any]]:
        request = steps[call][index]
        path = urlsplit(request["url"]).path.removeprefix("/api/service/")
        response = client.post(path, json=request["body"])
        assert response.status_code == 200
        found: list[dict[str, Any]] = response.json()["hits"]["hits"]
        return found

    assert [h["_id"] for h in hits("find_by_type(ASSET_IMPORT, max_results=5)")] == [SEEDED]
    assert [h["_source"]["kind"] for h in hits("find_by_id")] == ["WorkflowTemplate"]
    runs = hits("monitor(workflow_name)")
    assert len(runs) == 1
    assert runs[0]["_source"]["kind"] == "Workflow"
    assert runs[0]["_source"]["status"]["phase"] == "Running"
    assert hits("get_runs") == []  # asks for Succeeded
    assert hits("find_runs_by_status_and_time_range") == []  # finishedAt lte now-1h: nothing finished
    assert [h["_id"] for h in hits("rerun(WorkflowPackage.ASSET_IMPORT, idempotent=True)", 1)] == [
        runs[0]["_id"]
    ]
