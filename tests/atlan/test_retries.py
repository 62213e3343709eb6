"""Retries: which failures, how many attempts, how long the waits, and one log line per retry."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
import stamina
import stamina.instrumentation

from reconciler.atlan import RateLimit, RetryPolicy
from reconciler.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from reconciler.retrying import parse_retry_after
from tests.atlan.conftest import NAME, SEARCH, FakeTime, MakeClient, Server, reply, search_reply

pytestmark = pytest.mark.anyio


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "reconciler.atlan" and "attempt #" in r.getMessage()
    ]


FAILURES = [
    pytest.param(reply(429), id="429"),
    pytest.param(reply(500), id="500"),
    pytest.param(reply(502), id="502"),
    pytest.param(reply(503), id="503"),
    pytest.param(reply(504), id="504"),
    pytest.param(httpx.ReadTimeout("read timed out"), id="read-timeout"),
    pytest.param(httpx.ConnectTimeout("connect timed out"), id="connect-timeout"),
    pytest.param(httpx.ConnectError("connection refused"), id="connect-error"),
    pytest.param(httpx.ReadError("connection reset"), id="read-error"),
    pytest.param(httpx.RemoteProtocolError("server disconnected"), id="remote-protocol"),
]


@pytest.mark.parametrize("failure", FAILURES)
async def test_transient_failures_are_retried_then_succeed(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, failure: httpx.Response | Exception
) -> None:
    caplog.set_level(logging.WARNING, logger="reconciler.atlan")
    server = Server({SEARCH: [failure, failure, search_reply([])]})
    async with make_client(server, retry=RetryPolicy.no_wait(attempts=3)) as client:
        assert await client.get_workflow(NAME) is None
    assert server.calls[SEARCH] == 3
    lines = retry_lines(caplog)
    assert len(lines) == 2
    assert lines[0].startswith("POST /api/service/workflows/indexsearch attempt #1/3 failed: ")
    assert lines[0].endswith("; will retry in 0.00 s")
    assert "attempt #2/3 failed" in lines[1]


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        pytest.param(reply(429), RateLimitedError, id="429"),
        pytest.param(reply(503), ServerError, id="503"),
        pytest.param(httpx.ReadTimeout("read timed out"), TransportError, id="timeout"),
    ],
)
async def test_exhausted_retries_raise_the_mapped_error(
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    failure: httpx.Response | Exception,
    error: type[ApiError],
) -> None:
    caplog.set_level(logging.WARNING, logger="reconciler.atlan")
    server = Server({SEARCH: failure})
    async with make_client(server, retry=RetryPolicy.no_wait(attempts=4)) as client:
        with pytest.raises(error, match="after 4 attempts") as caught:
            await client.get_workflow(NAME)
    assert server.calls[SEARCH] == 4
    assert len(retry_lines(caplog)) == 3
    assert isinstance(caught.value.__cause__, httpx.HTTPError)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ApiError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (501, ServerError),
    ],
)
async def test_other_statuses_are_not_retried(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, status: int, error: type[ApiError]
) -> None:
    server = Server({SEARCH: reply(status)})
    async with make_client(server) as client:
        with pytest.raises(error):
            await client.get_workflow(NAME)
    assert server.calls[SEARCH] == 1
    assert retry_lines(caplog) == []


async def test_backoff_is_exponential_full_jitter(make_client: MakeClient, fake_time: FakeTime) -> None:
    server = Server({SEARCH: reply(503)})
    policy = RetryPolicy(attempts=6, backoff_base=1.0, backoff_max=10.0)
    async with make_client(server, retry=policy, uniform=lambda low, high: high) as client:
        with pytest.raises(ServerError):
            await client.get_workflow(NAME)
    assert fake_time.sleeps == [2.0, 4.0, 8.0, 10.0, 10.0]


async def test_jitter_draws_from_zero_to_the_cap(make_client: MakeClient, fake_time: FakeTime) -> None:
    drawn: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        drawn.append((low, high))
        return high / 2

    server = Server({SEARCH: [reply(500), reply(500), search_reply([])]})
    async with make_client(server, retry=RetryPolicy(attempts=3), uniform=uniform) as client:
        await client.get_workflow(NAME)
    assert drawn == [(0.0, 2.0), (0.0, 4.0)]
    assert fake_time.sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param("7", 7.0, id="seconds"),
        pytest.param("1.5", 1.5, id="fraction"),
        pytest.param("1000", 120.0, id="capped"),
        pytest.param("Tue, 01 Sep 2026 12:00:30 GMT", 30.0, id="http-date"),
        pytest.param("Tue, 01 Sep 2026 11:00:00 GMT", 0.0, id="date-in-the-past"),
        pytest.param("soon", 2.0, id="garbage-falls-back-to-backoff"),
    ],
)
async def test_retry_after_is_honoured(
    make_client: MakeClient, fake_time: FakeTime, retry_after: str, expected: float
) -> None:
    server = Server({SEARCH: [reply(429, headers={"Retry-After": retry_after}), search_reply([])]})
    async with make_client(server, retry=RetryPolicy(attempts=2), uniform=lambda low, high: high) as client:
        await client.get_workflow(NAME)
    assert fake_time.sleeps == [expected]


async def test_retry_after_pauses_the_rate_limit_for_everyone(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    server = Server({SEARCH: [reply(429, headers={"Retry-After": "3"}), search_reply([])]})
    async with make_client(server, retry=RetryPolicy(attempts=2), rate_limit=RateLimit(100, 100)) as client:
        await client.get_workflow(NAME)
        await client.get_workflow(NAME)
    assert fake_time.sleeps == [3.0]  # the retry waited; the bucket's pause had run out by then


async def test_stamina_test_mode_sets_the_attempts_and_waits_nothing(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    server = Server({SEARCH: reply(503)})
    async with make_client(server, retry=RetryPolicy(attempts=6)) as client:
        with stamina.set_testing(True, attempts=2), pytest.raises(ServerError, match="after 2 attempts"):
            await client.get_workflow(NAME)
    assert server.calls[SEARCH] == 2
    assert fake_time.sleeps == [0.0]


async def test_stamina_switched_off_makes_one_attempt(make_client: MakeClient, fake_time: FakeTime) -> None:
    server = Server({SEARCH: reply(503)})
    async with make_client(server, retry=RetryPolicy(attempts=6)) as client:
        stamina.set_active(False)
        try:
            with pytest.raises(ServerError) as caught:
                await client.get_workflow(NAME)
        finally:
            stamina.set_active(True)
    assert server.calls[SEARCH] == 1
    assert "attempts" not in str(caught.value)
    assert fake_time.sleeps == []


async def test_a_retry_logs_one_line_and_reports_nowhere_else(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = Server({SEARCH: [reply(503), search_reply([])]})
    async with make_client(server) as client:
        await client.get_workflow(NAME)
    assert stamina.instrumentation.get_on_retry_hooks() == ()  # no stamina logging, metrics or traces
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == ["reconciler.atlan"]


def test_parse_retry_after() -> None:
    now = datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after("-5", now) == 0.0
    assert parse_retry_after("nan", now) is None
    assert parse_retry_after("Tue, 01 Sep 2026 12:01:00 -0000", now) == 60.0


def test_retry_policy_validation() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(backoff_base=-1)
    assert RetryPolicy.never().attempts == 1
    assert RetryPolicy.no_wait().delay(3, 50.0, lambda low, high: high) == 0.0
