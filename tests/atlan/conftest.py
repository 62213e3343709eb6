"""Fixtures for the workflow-API client tests: fake time, a scripted server, a tiny search index."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from reconciler.atlan import AtlanWorkflowClient, RetryPolicy
from reconciler.atlan import queries as q

BASE_URL = "https://tenant.example.com"
API_KEY = "key-5d1e8a0b-do-not-print-me"
NAME = "csa-asset-import-1684500411"  # a workflow the tests ask for by name
SEARCH = "POST workflows/indexsearch"
MakeClient = Callable[..., AtlanWorkflowClient]  # the make_client fixture
TOKEN_WHOAMI = {"username": "svc", "roles": [{"name": "$api-token-default-access"}]}
MEMBER_WHOAMI = {"username": "jdoe", "roles": [{"name": "$member"}]}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeTime:
    """A monotonic clock, a wall clock and a sleep that only advance time and record waits."""

    def __init__(self) -> None:
        self.monotonic = 1000.0
        self.wall = datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.monotonic

    def now(self) -> datetime:
        return self.wall

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.monotonic += seconds
        self.wall += timedelta(seconds=seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


Responder = Callable[[httpx.Request], Any] | httpx.Response | BaseException


def reply(status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return httpx.Response(status, content=content, headers=dict(headers or {}))


def search_reply(sources: list[dict[str, Any]], total: int | None = None) -> httpx.Response:
    hits = [{"_index": "x", "_id": _name(s), "_source": s} for s in sources]
    return reply(
        200, {"took": 1, "hits": {"total": {"value": len(hits) if total is None else total}, "hits": hits}}
    )


class Server:
    """A MockTransport handler: per ``"METHOD path"`` a script of answers, the last one repeating.

    ``path`` is what follows ``/api/service/`` (query string included). Answers are responses,
    callables of the request, or exceptions to raise. Every request is recorded.
    """

    def __init__(self, routes: Mapping[str, Responder | Sequence[Responder]] | None = None) -> None:
        self.routes: dict[str, list[Responder]] = {}
        self.requests: list[httpx.Request] = []
        self.calls: Counter[str] = Counter()
        self.route("GET whoami", reply(200, TOKEN_WHOAMI))
        for key, value in (routes or {}).items():
            self.route(key, *(value if isinstance(value, Sequence) else [value]))

    def route(self, key: str, *answers: Responder) -> None:
        self.routes[key] = list(answers)

    def __call__(self, request: httpx.Request) -> Any:
        key = f"{request.method} {key_path(request)}"
        self.requests.append(request)
        index = self.calls[key]
        self.calls[key] += 1
        if key not in self.routes:
            return reply(404, {"errorMessage": f"no route {key}"})
        script = self.routes[key]
        answer = script[min(index, len(script) - 1)]
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, httpx.Response):
            return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)
        return answer(request)

    def bodies(self, key: str) -> list[Any]:
        return [
            json.loads(r.content) if r.content else None
            for r in self.requests
            if f"{r.method} {key_path(r)}" == key
        ]


def key_path(request: httpx.Request) -> str:
    path = request.url.raw_path.decode()
    assert path.startswith("/api/service/"), path
    return path.removeprefix("/api/service/")


def _name(source: Mapping[str, Any]) -> str:
    return str(source.get("metadata", {}).get("name", ""))


def workflow_source(name: str, labels: Mapping[str, str] | None = None, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": name, "namespace": "default", "labels": dict(labels or {}), **metadata},
        "spec": {"entrypoint": "main"},
    }


def run_source(name: str, template: str, phase: str, created: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "default"}
    if created is not None:
        metadata["creationTimestamp"] = created
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": metadata,
        "spec": {"workflowTemplateRef": {"name": template}},
        "status": {"phase": phase},
    }


class Index:
    """Just enough Elasticsearch for the client's own queries, with the 10,000-hit window.

    ``honour_prefix=False`` models a broken server that ignores ``prefix`` queries.
    """

    def __init__(self, sources: list[dict[str, Any]], *, honour_prefix: bool = True) -> None:
        self.sources = sorted(sources, key=_name)
        self.honour_prefix = honour_prefix
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        for _ in range(5):  # let concurrent requests pile up
            await asyncio.sleep(0)
        self.in_flight -= 1
        if body["from"] + body["size"] > q.MAX_RESULT_WINDOW:
            return reply(400, {"errorMessage": "Result window is too large"})
        matches = [s for s in self.sources if self.matches(body["query"], s)]
        order = next(iter(body["sort"][0].values()))["order"]
        if order == "desc":
            matches.reverse()
        return search_reply(matches[body["from"] : body["from"] + body["size"]], total=len(matches))

    def matches(self, query: Mapping[str, Any], source: Mapping[str, Any]) -> bool:
        (kind, arg), *_ = query.items()
        if kind == "bool":
            return all(self.matches(c, source) for key in ("filter", "must") for c in arg.get(key, []))
        if kind == "nested":
            return self.matches(arg["query"], source)
        (field, value), *_ = arg.items()
        actual = lookup(source, field)
        if kind == "term":
            return bool(actual == (value["value"] if isinstance(value, Mapping) else value))
        if kind == "terms":
            return actual in value
        if kind == "prefix":
            return not self.honour_prefix or (isinstance(actual, str) and actual.startswith(value["value"]))
        raise AssertionError(f"query {kind} not supported by the test index")


def lookup(source: Mapping[str, Any], field: str) -> Any:
    field = field.removesuffix(".keyword")
    if field.startswith("metadata.labels."):
        return source.get("metadata", {}).get("labels", {}).get(field.removeprefix("metadata.labels."))
    value: Any = source
    for part in field.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


@pytest.fixture
def make_client(fake_time: FakeTime) -> Callable[..., AtlanWorkflowClient]:
    """Build clients on a handler, with fake time, no waits and no rate limit unless asked."""

    def make(handler: Callable[[httpx.Request], Any], **options: Any) -> AtlanWorkflowClient:
        options.setdefault("retry", RetryPolicy.no_wait(attempts=3))
        options.setdefault("rate_limit", None)
        options.setdefault("sleep", fake_time.sleep)
        options.setdefault("clock", fake_time.clock)
        options.setdefault("now", fake_time.now)
        options.setdefault("uniform", lambda low, high: high)
        return AtlanWorkflowClient(BASE_URL, API_KEY, transport=httpx.MockTransport(handler), **options)

    return make
