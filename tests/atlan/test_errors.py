"""Every failure becomes a ``reconciler.errors.ApiError``: one line, capped, never the API key."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from reconciler.atlan import AtlanWorkflowClient, RetryPolicy
from reconciler.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    SettingsError,
    TransportError,
)
from tests.atlan.conftest import (
    API_KEY,
    BASE_URL,
    NAME,
    SEARCH,
    MakeClient,
    Server,
    reply,
    search_reply,
    workflow_source,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ApiError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ApiError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (302, ApiError),
    ],
)
async def test_status_maps_to_error(make_client: MakeClient, status: int, error: type[ApiError]) -> None:
    server = Server({SEARCH: reply(status, {"errorCode": "ATLAN-JAVA-1", "errorMessage": "it broke\nbadly"})})
    async with make_client(server, retry=RetryPolicy.never()) as client:
        with pytest.raises(error) as caught:
            await client.get_workflow(NAME)
    assert type(caught.value) is error
    assert caught.value.status == status
    message = str(caught.value)
    assert "\n" not in message
    assert "ATLAN-JAVA-1: it broke badly" in message
    if status != 401:
        assert message.startswith(f"POST /api/service/workflows/indexsearch: {status} ")
    assert isinstance(caught.value.__cause__, httpx.HTTPStatusError)


async def test_401_names_the_tenant_and_the_refused_key(make_client: MakeClient) -> None:
    server = Server({"GET whoami": reply(401, {"message": "Unauthorized"})})
    async with make_client(server) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.whoami()
    assert str(caught.value) == (
        "the API key was refused by https://tenant.example.com (401 on GET /api/service/whoami): Unauthorized"
    )


@pytest.mark.parametrize(
    ("body", "said"),
    [
        pytest.param({"errorMessage": "a", "errorCode": "C"}, "C: a", id="atlan"),
        pytest.param({"message": "b", "code": 7}, "7: b", id="generic"),
        pytest.param({"causes": [{"errorType": "X", "errorMessage": "c"}]}, "c", id="causes"),
        pytest.param(b"<html>Bad gateway</html>", "<html>Bad gateway</html>", id="html"),
        pytest.param(None, "", id="empty"),
    ],
)
async def test_server_message_is_read_from_the_sdk_keys(
    make_client: MakeClient, body: Any, said: str
) -> None:
    server = Server({SEARCH: reply(400, body)})
    async with make_client(server) as client:
        with pytest.raises(ApiError) as caught:
            await client.get_workflow(NAME)
    expected = "POST /api/service/workflows/indexsearch: 400 Bad Request"
    assert str(caught.value) == (f"{expected}: {said}" if said else expected)


async def test_server_message_is_capped(make_client: MakeClient) -> None:
    server = Server({SEARCH: reply(400, {"errorMessage": "x" * 5000})})
    async with make_client(server) as client:
        with pytest.raises(ApiError) as caught:
            await client.get_workflow(NAME)
    said = str(caught.value).split(": 400 Bad Request: ", 1)[1]
    assert len(said) == 256
    assert said.endswith("…")


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        pytest.param(reply(200, b"not json"), "the answer is not JSON", id="not-json"),
        pytest.param(reply(200, {"took": 1}), "no search hits", id="no-hits"),
        pytest.param(reply(200, {"hits": {"hits": [{"_id": "x"}]}}), "no _source", id="no-source"),
        pytest.param(reply(200, [1, 2]), "no search hits", id="a-list"),
        pytest.param(search_reply([{"metadata": {"labels": {}}}]), "unexpected answer", id="no-name"),
    ],
)
async def test_malformed_answers_are_api_errors(
    make_client: MakeClient, answer: httpx.Response, match: str
) -> None:
    server = Server({SEARCH: answer})
    async with make_client(server) as client:
        with pytest.raises(ApiError, match=match):
            await client.search_workflows({"match_all": {}})


def _httpx_exceptions() -> list[type[Exception]]:
    found = []
    for name in dir(httpx):
        value = getattr(httpx, name)
        if inspect.isclass(value) and issubclass(value, Exception):
            found.append(value)
    return sorted(found, key=lambda cls: cls.__name__)


def _instance(cls: type[Exception]) -> Exception:
    request = httpx.Request("POST", f"{BASE_URL}/api/service/workflows/indexsearch")
    if cls is httpx.HTTPStatusError:
        return cls("boom", request=request, response=httpx.Response(500, request=request))
    try:
        return cls("boom")
    except TypeError:
        return cls()


@pytest.mark.parametrize("cls", _httpx_exceptions(), ids=lambda cls: cls.__name__)
async def test_no_httpx_exception_is_leaked(make_client: MakeClient, cls: type[Exception]) -> None:
    server = Server({SEARCH: _instance(cls)})
    async with make_client(server) as client:
        with pytest.raises(ApiError) as caught:
            await client.get_workflow(NAME)
    assert isinstance(caught.value.__cause__, cls)
    if issubclass(cls, httpx.TransportError):
        assert isinstance(caught.value, TransportError)
        assert "no answer from https://tenant.example.com" in str(caught.value)


async def test_concurrent_page_failures_surface_as_api_errors(make_client: MakeClient) -> None:
    first = search_reply([workflow_source(f"w{i}") for i in range(2)], total=10)
    server = Server({SEARCH: [first, reply(503)]})
    async with make_client(server, page_size=2) as client:
        with pytest.raises(ServerError):
            await client.search_workflows({"match_all": {}})


def test_base_url_must_be_http() -> None:
    with pytest.raises(SettingsError, match="http"):
        AtlanWorkflowClient("tenant.example.com", API_KEY)
    with pytest.raises(SettingsError, match="invalid"):
        AtlanWorkflowClient("https://[::1", API_KEY)


# -- the API key never shows --------------------------------------------------------------------


def _texts(exc: BaseException) -> list[str]:
    """str and repr of an error and of every reconciler error in its chain."""
    texts = []
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, ApiError | SettingsError):
            texts += [str(current), repr(current)]
        current = current.__cause__
    return texts


ECHOES = [
    pytest.param({SEARCH: reply(400, {"errorMessage": f"bad token {API_KEY}"})}, "get", id="echoed-in-400"),
    pytest.param(
        {"GET whoami": reply(401, {"errorMessage": f"{API_KEY} refused"})}, "whoami", id="echoed-in-401"
    ),
    pytest.param({SEARCH: reply(503, f"upstream saw {API_KEY}".encode())}, "get", id="echoed-in-503-text"),
    pytest.param(
        {SEARCH: httpx.ConnectError(f"cannot use {API_KEY}")}, "get", id="echoed-in-transport-error"
    ),
    pytest.param({SEARCH: reply(200, f"not json {API_KEY}".encode())}, "get", id="echoed-in-garbage"),
    pytest.param(
        {"POST workflows?submit=true": reply(503, API_KEY.encode()), SEARCH: reply(500, API_KEY.encode())},
        "create",
        id="echoed-in-outcome-unknown",
    ),
]


@pytest.mark.parametrize(("routes", "call"), ECHOES)
async def test_api_key_never_in_errors_or_logs(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, routes: dict[str, Any], call: str
) -> None:
    caplog.set_level(logging.DEBUG)
    server = Server(routes)
    async with make_client(server) as client:
        assert API_KEY not in repr(client)
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "whoami": client.whoami,
            "create": lambda: client.create_workflow({"metadata": {"name": NAME}}, submit=True),
            "get": lambda: client.get_workflow(NAME),
        }
        with pytest.raises(ApiError) as caught:
            await calls[call]()
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"  # it was sent, though
    if call == "create":
        assert isinstance(caught.value, OutcomeUnknownError)
    assert "***" in str(caught.value)  # the echo was there, scrubbed
    for text in _texts(caught.value):
        assert API_KEY not in text
    assert API_KEY not in caplog.text


def test_api_key_not_in_settings_error() -> None:
    with pytest.raises(SettingsError) as caught:
        AtlanWorkflowClient(f"ftp://{API_KEY}@host", API_KEY)
    assert API_KEY not in str(caught.value)
