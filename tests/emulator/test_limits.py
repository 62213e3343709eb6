"""The emulator holds up: oversized bodies (413), deeply nested JSON (400), a bounded request log.

Over real HTTP on 127.0.0.1. Raw sockets show what httpx cannot: a 413 answered to a
``Content-Length`` before any of the body is sent, and to a chunked body that never ends. The
sockets' timeouts only keep a hanging server (the old behaviour) from hanging the test. After each
refusal a normal request must still be answered.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.emulator import ConfigError, EmulatorConfig, EmulatorServer
from tests.emulator.conftest import KEY, make_config, package_body

LIMIT = 64 * 1024
LOGGED_BODY_LIMIT = 64 * 1024  # the README's figure: bodies larger are logged as their size only
DEPTH = 16
SEARCH = "/api/service/workflows/indexsearch"
AUTH = {"authorization": f"Bearer {KEY}"}


@pytest.fixture
def server(db: Path) -> Iterator[EmulatorServer]:
    config = make_config(db, max_body_bytes=LIMIT, max_json_depth=DEPTH)
    with EmulatorServer(config) as running:
        yield running


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as c:
        yield c


def still_serving(client: httpx.Client) -> None:
    response = client.post(SEARCH, json={"size": 1})
    assert response.status_code == 200, response.text
    assert response.json()["hits"]["total"]["value"] == 0


def raw_exchange(server: EmulatorServer, head: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """Send ``head`` (and ``body``) on a new connection; the status and JSON body of the answer."""
    url = urlsplit(server.base_url)
    assert url.hostname is not None
    assert url.port is not None
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def test_the_defaults_are_the_documented_ones() -> None:
    from reconciler.emulator import faults

    config = EmulatorConfig(api_key="k")
    assert config.max_body_bytes == 8 * 1024 * 1024
    assert config.max_json_depth == 64
    assert config.max_object_bytes == 512 * 1024 * 1024
    assert config.request_log_limit == 10_000
    assert config.request_log_body_bytes == 16 * 1024 * 1024
    assert faults.LOGGED_BODY_LIMIT == LOGGED_BODY_LIMIT


@pytest.mark.parametrize(
    "setting",
    ["max_body_bytes", "max_object_bytes", "max_json_depth", "request_log_limit", "request_log_body_bytes"],
)
def test_limits_must_be_positive(setting: str) -> None:
    settings: dict[str, Any] = {setting: 0}
    with pytest.raises(ConfigError, match=setting):
        EmulatorConfig(api_key="k", **settings)


# -- request size ---------------------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    server: EmulatorServer, client: httpx.Client
) -> None:
    head = (
        f"POST {SEARCH} HTTP/1.1\nHost: emulator\nAuthorization: Bearer {KEY}\n"
        "Content-Type: application/json\nContent-Length: 1000000000\n\n"
    )
    status, body = raw_exchange(server, head)  # not one byte of the gigabyte is sent
    assert status == 413
    assert body["errorMessage"] == f"Request body too large: the limit is {LIMIT} bytes"
    still_serving(client)


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    server: EmulatorServer, client: httpx.Client
) -> None:
    head = (
        f"POST {SEARCH} HTTP/1.1\nHost: emulator\nAuthorization: Bearer {KEY}\n"
        "Content-Type: application/json\nTransfer-Encoding: chunked\n\n"
    )
    chunk = b"x" * (LIMIT + 1)
    status, body = raw_exchange(server, head, b"%x\r\n%s\r\n" % (len(chunk), chunk))  # and no last chunk
    assert status == 413
    assert body["status"] == 413
    still_serving(client)


def test_oversized_bodies_sent_whole_are_answered_on_a_connection_that_stays_usable(
    server: EmulatorServer, client: httpx.Client
) -> None:
    padding = json.dumps({"size": 1, "pad": "x" * 2 * LIMIT}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(padding), 1000):
            yield padding[start : start + 1000]

    with_length = client.post(SEARCH, content=padding)
    streamed = client.post(SEARCH, content=chunks())
    assert (with_length.status_code, streamed.status_code) == (413, 413)
    assert with_length.json()["errorCode"] == "ATLAN-EMULATOR-413-000"
    still_serving(client)  # on the same keep-alive connection
    counts = server.app.emulator.log.counts()["by_endpoint_status"]["POST workflows/indexsearch"]
    assert counts == {"200": 1, "413": 2}
    refused = server.app.emulator.log.records()[:2]
    assert [r["body"] for r in refused] == [None, None]  # nothing of them was kept


def test_a_body_at_the_limit_is_accepted(client: httpx.Client) -> None:
    head = json.dumps({"size": 1, "pad": ""}).encode()
    body = head[:-2] + b"x" * (LIMIT - len(head)) + b'"}'
    assert len(body) == LIMIT
    assert client.post(SEARCH, content=body).status_code == 200


def test_admin_bodies_are_limited_too(client: httpx.Client) -> None:
    response = client.post("/_emulator/faults", content=b"{" + b" " * LIMIT + b"}")
    assert response.status_code == 413
    assert client.get("/_emulator/faults").json()["script"] == []
    still_serving(client)


# -- nesting --------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [DEPTH, 30_000], ids=["just over the limit", "beyond the parser"])
def test_json_nested_too_deep_is_a_400_with_a_json_error(client: httpx.Client, depth: int) -> None:
    body = b'{"size": 1, "pad": ' + b"[" * depth + b"]" * depth + b"}"  # the object is one more level
    response = client.post(SEARCH, content=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errorMessage"] == (
        f"the request body is not acceptable: JSON nested deeper than {DEPTH} levels"
    )
    still_serving(client)


def test_json_at_the_depth_limit_and_brackets_in_strings_are_accepted(client: httpx.Client) -> None:
    assert client.post(SEARCH, json={"size": 1, "pad": nested(DEPTH - 1)}).status_code == 200
    assert client.post(SEARCH, json={"size": 1, "pad": "[{" * 1000}).status_code == 200
    escaped = json.dumps({"size": 1, "pad": '"[' * 100}).encode()  # escaped quotes inside the string
    assert client.post(SEARCH, content=escaped).status_code == 200


def test_admin_json_nested_too_deep_is_a_400(client: httpx.Client) -> None:
    response = client.post("/_emulator/settings", json={"role": nested(100)})
    assert response.status_code == 400
    assert "nested deeper" in response.json()["errorMessage"]
    still_serving(client)


# -- the request log --------------------------------------------------------------------------------


def test_the_request_log_is_a_ring_with_a_budget_for_bodies(db: Path) -> None:
    config = make_config(db, request_log_limit=5, request_log_body_bytes=3 * 1000)
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as c:
        for number in range(8):
            body = json.dumps({"size": 0, "pad": str(number) * 900}).encode()
            assert len(body) < 1000
            assert c.post(SEARCH, content=body).status_code == 200
        big = json.dumps({"size": 0, "pad": "y" * LOGGED_BODY_LIMIT}).encode()
        assert c.post(SEARCH, content=big).status_code == 200
        records = c.get("/_emulator/requests").json()["requests"]
        assert c.get("/_emulator/counts").json()["total"] == 9  # counts are never trimmed
        still_serving_log = c.post(SEARCH, json={"size": 0}).status_code
    assert still_serving_log == 200
    assert [r["seq"] for r in records] == [5, 6, 7, 8, 9]
    bodies = [r["body"] for r in records]
    assert bodies[0] == "(dropped: the log keeps 3000 bytes of bodies)"
    assert [b["pad"][0] for b in bodies[1:4]] == ["5", "6", "7"]
    assert bodies[4] == f"({len(big)} bytes, not kept)"


def test_a_lost_response_still_logs_its_redacted_body(client: httpx.Client) -> None:
    """The body is now read by the gateway: what the log keeps of a write is unchanged."""
    client.post("/_emulator/faults", json={"script": [{"fault": "lost-503", "path": "workflows$"}]})
    response = client.post("/api/service/workflows", json=package_body(name="csa-asset-import-1700000001"))
    assert response.status_code == 503
    (record,) = client.get("/_emulator/requests", params={"endpoint": "POST workflows"}).json()["requests"]
    assert record["committed"] is True
    assert record["body"]["payload"] == [{"parameter": "credentialGuid", "type": "credential"}]
    assert "test-secret-key" not in json.dumps(record)
