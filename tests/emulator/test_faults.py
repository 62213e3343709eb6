"""Each fault knob, set through the admin endpoint, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator.faults import endpoint_of
from tests.emulator.conftest import package_body

NAME = "csa-asset-import-1700000000"


def test_error_rates_are_seeded_and_counted(client: httpx.Client, admin: httpx.Client) -> None:
    assert admin.post("faults", json={"error_rate_500": 0.3, "error_rate_503": 0.3}).status_code == 200
    statuses = [client.get("whoami").status_code for _ in range(40)]
    assert set(statuses) == {200, 500, 503}
    counts = admin.get("counts").json()
    assert counts["by_endpoint"]["GET whoami"] == 40
    assert sum(counts["by_endpoint_status"]["GET whoami"].values()) == 40
    assert admin.delete("faults").json()["error_rate_500"] == 0
    assert client.get("whoami").status_code == 200


def test_fault_config_is_validated(admin: httpx.Client) -> None:
    assert admin.post("faults", json={"error_rate_500": 2}).status_code == 400
    assert admin.post("faults", json={"nonsense": 1}).status_code == 400
    assert admin.post("faults", json={"script": [{"fault": "418"}]}).status_code == 400


def test_rate_limit_answers_429_with_retry_after(client: httpx.Client, admin: httpx.Client) -> None:
    admin.post("faults", json={"rate_limit": 3, "rate_limit_window_seconds": 60})
    responses = [client.get("whoami") for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert 1 <= int(responses[3].headers["retry-after"]) <= 60
    assert responses[3].json()["errorMessage"]


def test_latency_is_applied(client: httpx.Client, admin: httpx.Client) -> None:
    config = admin.post("faults", json={"latency_ms": 30, "jitter_ms": 10}).json()
    assert (config["latency_ms"], config["jitter_ms"]) == (30, 10)
    response = client.get("whoami")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.03


def test_dropped_connection(client: httpx.Client, admin: httpx.Client) -> None:
    admin.post("faults", json={"script": [{"fault": "drop", "path": "whoami", "times": 1}]})
    with pytest.raises(httpx.TransportError):
        client.get("whoami")
    assert client.get("whoami").status_code == 200
    records = admin.get("requests", params={"endpoint": "GET whoami"}).json()["requests"]
    assert [(r["fault"], r["status"]) for r in records] == [("drop", 0), (None, 200)]


def test_drop_rate(client: httpx.Client, admin: httpx.Client) -> None:
    admin.post("faults", json={"drop_rate": 0.5})
    outcomes = []
    for _ in range(12):
        try:
            outcomes.append(client.get("whoami").status_code)
        except httpx.TransportError:
            outcomes.append(0)
    assert set(outcomes) == {0, 200}


@pytest.mark.parametrize(("mode", "expected"), [("503", 503), ("500", 500), ("drop", None)])
def test_lost_response_commits_the_write(
    client: httpx.Client, admin: httpx.Client, mode: str, expected: int | None
) -> None:
    admin.post("faults", json={"lost_response_rate": 1.0, "lost_response_mode": mode})
    if expected is None:
        with pytest.raises(httpx.TransportError):
            client.post("workflows?submit=true", json=package_body(name=NAME))
    else:
        assert client.post("workflows?submit=true", json=package_body(name=NAME)).status_code == expected
    # searches are not writes: answered normally, and they see the committed workflow
    found = client.post("workflows/indexsearch", json={"query": {"term": {"_id": NAME}}})
    assert found.json()["hits"]["total"]["value"] == 1
    admin.delete("faults")
    assert client.post("workflows?submit=true", json=package_body(name=NAME)).status_code == 409
    (record,) = admin.get("requests", params={"endpoint": "POST workflows?submit=true"}).json()["requests"][
        :1
    ]
    assert record["committed"] is True
    assert record["fault"] == f"lost-{mode}"
    assert "test-secret-key" not in str(record)
    assert record["body"]["payload"] == [{"parameter": "credentialGuid", "type": "credential"}]


def test_scripted_faults_match_method_and_path(
    client: httpx.Client, admin: httpx.Client, create: Callable[..., Any]
) -> None:
    create(NAME)
    script = [
        {"fault": "503", "method": "POST", "path": "/submit$", "times": 2},
        {"fault": "lost-500", "path": "submit"},
    ]
    admin.post("faults", json={"script": script})
    body = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": NAME}
    assert client.get("whoami").status_code == 200
    assert [client.post("workflows/submit", json=body).status_code for _ in range(4)] == [503, 503, 500, 200]
    runs = client.post("runs/indexsearch", json={"size": 0}).json()
    assert runs["hits"] == {"total": {"value": 3, "relation": "eq"}, "max_score": None, "hits": []}
    assert admin.get("faults").json()["script"] == []


def test_request_log_and_counts(
    client: httpx.Client, admin: httpx.Client, create: Callable[..., Any]
) -> None:
    create(NAME)
    client.post("workflows/indexsearch", json={"size": 1})
    client.post(f"workflows/{NAME}/archive")
    counts = admin.get("counts").json()
    assert counts["by_endpoint"] == {
        "POST workflows/indexsearch": 1,
        "POST workflows/{name}/archive": 1,
        "POST workflows?submit=true": 1,
    }
    records = admin.get("requests").json()["requests"]
    assert [r["endpoint"] for r in records] == [
        "POST workflows?submit=true",
        "POST workflows/indexsearch",
        "POST workflows/{name}/archive",
    ]
    since = records[0]["seq"]
    assert len(admin.get("requests", params={"since": since}).json()["requests"]) == 2
    assert admin.delete("requests").json() == {"cleared": 3}
    assert admin.get("counts").json()["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        ("POST", "/api/meta/search/indexsearch", "POST meta/search/indexsearch"),
        ("GET", "/api/meta/entity/guid/4f1c-guid", "GET meta/entity/guid/{guid}"),
        ("GET", "/api/meta/entity/uniqueAttribute/type/Table", "GET meta/entity/uniqueAttribute/type/{type}"),
        ("GET", "/api/meta/types/typedefs/", "GET meta/types/typedefs"),
        ("GET", "/api/service/credentials/4f1c-guid", "GET credentials/{guid}"),
    ],
)
def test_asset_api_requests_are_counted_by_endpoint_not_by_guid(
    method: str, path: str, endpoint: str
) -> None:
    assert endpoint_of(method, path, "") == endpoint
