"""The Starlette application: Atlan's workflow API under ``/api/service/``, admin under ``/_emulator/``.

``EmulatorApp.__call__`` is the gateway every HTTP request passes first: it records API requests,
checks the API key, and applies the fault knobs before the routes run. It sits above Starlette's
own middleware on purpose, so that under uvicorn it can really close the connection.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from reconciler.emulator.config import ConfigError, EmulatorConfig, FaultConfig
from reconciler.emulator.errors import ApiProblem, error_body, problem_body
from reconciler.emulator.faults import API_PREFIX, FaultInjector, RequestLog, endpoint_of, redact_body
from reconciler.emulator.runs import RunEntry
from reconciler.emulator.search import (
    INDEXED_FIELDS,
    MAX_RESULT_WINDOW,
    QueryError,
    compile_query,
    gc_paused,
    parse_date,
    parse_sort,
    required_terms,
    sort_documents,
    sort_value,
)
from reconciler.emulator.store import DEFAULT_NAMESPACE, RunSettings, Store, TemplateEntry, schedule_of

ADMIN_PREFIX = "/_emulator/"
TEMPLATE_INDEX = "atlan-workflow-templates"
RUN_INDEX = "atlan-workflow-runs"
_SHARDS = '{"total":1,"successful":1,"skipped":0,"failed":0}'
_FAMILIES = ("workflows", "package-workflows")
T = TypeVar("T")


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised in place of a dropped connection where the server offers no socket (httpx.ASGITransport)."""


@dataclass
class Settings:
    """The parts of the configuration the admin endpoint may change while the emulator runs."""

    role: str
    username: str
    run_seconds: float
    pending_seconds: float
    failure_rate: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Emulator:
    """The state behind one app: store, clock, faults, request log and live settings."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.store = Store(config.db_path)
        self.faults = FaultInjector(config.faults, config.seed)
        self.log = RequestLog(config.request_log_limit)
        self.settings = Settings(
            config.role, config.username, config.run_seconds, config.pending_seconds, config.failure_rate
        )
        self._key = config.api_key.encode()
        self.sorted_matches = SortedMatches(self.store.version)

    def authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key)
        return False

    def run_settings(self) -> RunSettings:
        s = self.settings
        return RunSettings(s.run_seconds, s.pending_seconds, s.failure_rate, self.config.seed)

    def close(self) -> None:
        self.store.close()


class EmulatorApp(Starlette):
    """A Starlette app with the emulator in ``.emulator``."""

    emulator: Emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/":
            await super().__call__(scope, receive, send)
            return
        emulator = self.emulator
        if path.startswith(ADMIN_PREFIX):
            if not emulator.authorized(scope):
                await _send_error(send, 401, "Unauthorized: missing or invalid API key")
                return
            await super().__call__(scope, receive, send)
            return
        await self._api_call(scope, receive, send)

    async def _api_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        emulator = self.emulator
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        endpoint = endpoint_of(method, path, query)
        record: dict[str, Any] = {
            "time": emulator.clock.describe()["now"],
            "method": method,
            "path": path,
            "query": query,
            "endpoint": endpoint,
            "status": 0,
            "fault": None,
            "committed": False,
            "body": None,
        }
        chunks: list[bytes] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        logged = False

        def finish() -> None:
            # Logged before the answer leaves, so a client that has its answer sees its request logged.
            nonlocal logged
            if logged:
                return
            logged = True
            if chunks:
                raw = b"".join(chunks)
                try:
                    record["body"] = redact_body(json.loads(raw)) if raw else None
                except (ValueError, UnicodeDecodeError):
                    record["body"] = "(not JSON)"
            emulator.log.add(record)

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                finish()
            await send(message)

        try:
            if not emulator.authorized(scope):
                record["status"] = 401
                await _send_error(logging_send, 401, "Unauthorized: missing or invalid API key")
                return
            decision = emulator.faults.decide(method, path, endpoint)
            record["fault"] = decision.fault
            if decision.delay_seconds > 0:
                await anyio.sleep(decision.delay_seconds)
            fault = decision.fault
            if fault == "drop":
                await _drop(send)
                return
            if fault is not None and not fault.startswith("lost-"):
                status = int(fault)
                record["status"] = status
                headers = {"Retry-After": str(decision.retry_after)} if decision.retry_after else None
                await _send_error(
                    logging_send, status, _FAULT_MESSAGES.get(status, "injected fault"), headers
                )
                return
            captured: dict[str, Any] = {}

            async def capturing_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    captured["status"] = message["status"]
                    record["status"] = message["status"]
                    record["committed"] = 200 <= message["status"] < 300 and method == "POST"
                if fault is None:
                    await logging_send(message)

            await super().__call__(scope, recording_receive, capturing_send)
            if fault is not None:
                mode = fault.removeprefix("lost-")
                if mode == "drop":
                    record["status"] = 0
                    await _drop(send)
                    return
                record["status"] = int(mode)
                await _send_error(logging_send, int(mode), _FAULT_MESSAGES.get(int(mode), "injected fault"))
        finally:
            finish()


_FAULT_MESSAGES = {
    429: "Too many requests: rate limit exceeded",
    500: "Internal server error (injected)",
    502: "Bad gateway (injected)",
    503: "Service temporarily unavailable (injected)",
    504: "Gateway timeout (injected)",
}


async def _send_error(
    send: Send, status: int, message: str, headers: Mapping[str, str] | None = None
) -> None:
    body = error_body(status, message)
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    """Close the connection without answering (uvicorn), or raise a transport error (in-process)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if isinstance(transport, asyncio.BaseTransport):
        transport.close()
        for _ in range(3):  # let connection_lost run, so uvicorn sees a disconnect, not a bad app
            await asyncio.sleep(0)
        return
    raise DroppedConnection("the emulator dropped the connection (injected fault)")


# ---------------------------------------------------------------------------------------------
# helpers


def _emulator(request: Request) -> Emulator:
    app = request.app
    assert isinstance(app, EmulatorApp)
    return app.emulator


async def _json_body(request: Request, *, required: bool = True) -> Any:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ApiProblem(400, "the request body is required")
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiProblem(400, f"the request body is not valid JSON: {exc}") from exc


async def _json_object(request: Request) -> Mapping[str, Any]:
    body = await _json_body(request)
    if not isinstance(body, Mapping):
        raise ApiProblem(400, "the request body must be a JSON object")
    return body


def _json(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


Handler = Callable[[Request], Awaitable[Response]]


def _api(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiProblem as problem:
            return Response(problem_body(problem), status_code=problem.status, media_type="application/json")

    wrapped.__name__ = handler.__name__
    return wrapped


def _family(request: Request) -> str:
    family = str(request.path_params.get("family", "workflows"))
    if family not in _FAMILIES:
        raise ApiProblem(404, f"no such endpoint: {request.url.path}")
    return family


def _template_response(entry: TemplateEntry) -> dict[str, Any]:
    """pyatlan's WorkflowResponse: metadata, spec and an empty payload (credentials never leave)."""
    return {"metadata": entry.source["metadata"], "spec": entry.source["spec"], "payload": []}


def _run_response(run: RunEntry, now: float, *, ignore_stop: bool = False) -> dict[str, Any]:
    """pyatlan's WorkflowRunResponse: metadata, spec and status of the run."""
    view = run.view(now, ignore_stop=ignore_stop)
    return {"metadata": view["metadata"], "spec": view["spec"], "status": view["status"], "payload": []}


# ---------------------------------------------------------------------------------------------
# search


def _search_window(body: Any) -> tuple[int, int]:
    if not isinstance(body, Mapping):
        raise QueryError("the search body must be a JSON object")
    start, size = body.get("from", 0), body.get("size", 10)
    if start is None:
        start = 0
    if size is None:
        size = 10
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise QueryError(f"[from] parameter cannot be negative or non-integer, found [{start}]")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise QueryError(f"[size] parameter cannot be negative or non-integer, found [{size}]")
    if start + size > MAX_RESULT_WINDOW:
        raise QueryError(
            f"Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] "
            f"but was [{start + size}]. See the scroll api for a more efficient way to request large data "
            "sets. This limit can be set by changing the [index.max_result_window] index level setting.",
            "illegal_argument_exception",
        )
    return start, size


def _query_problem(error: QueryError) -> ApiProblem:
    return ApiProblem(
        400,
        error.reason,
        cause=error.kind,
        extra={
            "error": {
                "root_cause": [{"type": error.kind, "reason": error.reason}],
                "type": "search_phase_execution_exception",
                "reason": "all shards failed",
            }
        },
    )


def _envelope(took: int, total: int, hits: list[str]) -> bytes:
    return (
        f'{{"took":{took},"timed_out":false,"_shards":{_SHARDS},'
        f'"hits":{{"total":{{"value":{total},"relation":"eq"}},"max_score":null,"hits":[{",".join(hits)}]}}}}'
    ).encode()


def _hit(index: str, doc_id: str, seq_no: int, sort: list[Any], source_json: str) -> str:
    return (
        f'{{"_index":"{index}","_type":"_doc","_id":{json.dumps(doc_id)},"_seq_no":{seq_no},'
        f'"_primary_term":1,"_score":null,"sort":{json.dumps([sort_value(v) for v in sort])},'
        f'"_source":{source_json}}}'
    )


def _search(
    request_body: Any,
    docs: Callable[[Mapping[str, frozenset[str]]], Sequence[T]],
    index: str,
    now: float,
    *,
    view: Callable[[T], tuple[str, dict[str, Any]]],
    sequence: Callable[[T], int],
    rv: Callable[[T], int],
    source_json: Callable[[T], str | None],
    memo: Callable[[T], dict[Any, Any]] | None = None,
    cache: SortedMatches | None = None,
) -> bytes:
    """Run one search body over ``docs`` and render the Elasticsearch answer.

    ``docs`` receives the values the query requires of indexed fields (``metadata.name``,
    ``spec.workflowTemplateRef.name``), so a lookup by name does not scan everything. With a
    ``cache``, the sorted matches are kept per store version, so the pages of one listing share
    one scan and one sort (queries with date math on ``now`` are never cached).
    """
    started = time.perf_counter()
    try:
        start, size = _search_window(request_body)
        query = request_body.get("query")
        predicate = compile_query(query, now=now)
        post_filter = compile_query(request_body.get("post_filter"), now=now)
        keys = parse_sort(request_body.get("sort"))
        required = required_terms(query, INDEXED_FIELDS)
    except QueryError as error:
        raise _query_problem(error) from error
    with gc_paused():
        key = None if cache is None or not size else cache.key(index, request_body)
        ordered: list[Any] | None = None if key is None or cache is None else cache.get(key)
        total = len(ordered) if ordered is not None else 0
        if ordered is None:
            matched = []
            for doc in docs(required):
                doc_id, source = view(doc)
                if predicate(doc_id, source) and post_filter(doc_id, source):
                    matched.append(doc)
            total = len(matched)
            if size:
                ordered = sort_documents(matched, keys, doc=view, sequence=sequence, memo=memo)
                if key is not None and cache is not None:
                    cache.put(key, ordered)
        hits: list[str] = []
        if size and ordered is not None:
            for doc, picked in ordered[start : start + size]:
                sort = [value for value, _ in picked]
                doc_id, source = view(doc)
                raw = source_json(doc)
                if raw is None:
                    raw = json.dumps(source, separators=(",", ":"), ensure_ascii=False)
                hits.append(_hit(index, doc_id, rv(doc), sort, raw))
        took = int((time.perf_counter() - started) * 1000)
        return _envelope(took, total, hits)


class SortedMatches:
    """The sorted matches of the last few template searches, valid for one version of the store.

    A listing asks for page after page of one query; without this each page would scan and sort
    every stored template again (O(N) per page, O(N²) per listing). A key holds the store
    version, so any write makes older entries unreachable; they age out of the small LRU.
    """

    def __init__(self, version: Callable[[], int], size: int = 8) -> None:
        self._version = version
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()

    def key(self, index: str, body: Mapping[str, Any]) -> tuple[Any, ...] | None:
        shape = {k: body.get(k) for k in ("query", "post_filter", "sort")}
        text = json.dumps(shape, sort_keys=True, separators=(",", ":"), default=str)
        if "now" in text:  # date math: the answer depends on the clock, not only on the store
            return None
        return (index, text, self._version())

    def get(self, key: tuple[Any, ...]) -> list[Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], ordered: list[Any]) -> None:
        if key[-1] != self._version():  # the store moved on while we scanned: not this version's
            return
        with self._lock:
            self._items[key] = ordered
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@_api
async def search_templates(request: Request) -> Response:
    emulator = _emulator(request)
    body = await _json_body(request)
    store = emulator.store

    def docs(required: Mapping[str, frozenset[str]]) -> Sequence[TemplateEntry]:
        names = required.get("metadata.name")
        return store.templates() if names is None else store.templates_named(names)

    answer = _search(
        body,
        docs,
        TEMPLATE_INDEX,
        emulator.clock.now(),
        view=lambda e: (e.name, e.source),
        sequence=lambda e: e.id,
        rv=lambda e: e.rv,
        source_json=lambda e: e.source_json,
        memo=lambda e: e.memo,
        cache=emulator.sorted_matches,
    )
    return Response(answer, media_type="application/json")


@_api
async def search_runs(request: Request) -> Response:
    emulator = _emulator(request)
    body = await _json_body(request)
    now = emulator.clock.now()
    store = emulator.store

    def docs(required: Mapping[str, frozenset[str]]) -> Sequence[tuple[RunEntry, dict[str, Any]]]:
        names = required.get("metadata.name")
        templates = required.get("spec.workflowTemplateRef.name")
        if names is not None:
            runs = store.runs_named(names)
        elif templates is not None:
            runs = store.runs_of(templates)
        else:
            runs = store.runs()
        return [(run, run.view(now)) for run in runs]

    answer = _search(
        body,
        docs,
        RUN_INDEX,
        now,
        view=lambda p: (p[0].name, p[1]),
        sequence=lambda p: p[0].seq,
        rv=lambda p: p[0].rv,
        source_json=lambda p: None,
    )
    return Response(answer, media_type="application/json")


# ---------------------------------------------------------------------------------------------
# workflows


@_api
async def create_workflow(request: Request) -> Response:
    _family(request)
    emulator = _emulator(request)
    body = await _json_object(request)
    submit = request.query_params.get("submit", "false").lower() == "true"
    entry, _run = emulator.store.create(
        body,
        now=emulator.clock.now(),
        owner=emulator.settings.username,
        submit=submit,
        settings=emulator.run_settings(),
    )
    return _json(_template_response(entry))


@_api
async def update_workflow(request: Request) -> Response:
    _family(request)
    emulator = _emulator(request)
    body = await _json_object(request)
    entry = emulator.store.update(request.path_params["name"], body, seed=emulator.config.seed)
    return _json(_template_response(entry))


@_api
async def submit_workflow(request: Request) -> Response:
    _family(request)
    emulator = _emulator(request)
    body = await _json_object(request)
    kind = body.get("resourceKind", "WorkflowTemplate")
    name = body.get("resourceName")
    if kind != "WorkflowTemplate":
        raise ApiProblem(
            400, f"resourceKind: Unsupported value: {kind!r}: supported values: 'WorkflowTemplate'"
        )
    if not isinstance(name, str) or not name:
        raise ApiProblem(400, "resourceName: Required value")
    namespace = body.get("namespace") or DEFAULT_NAMESPACE
    template = emulator.store.template(name)
    if template.source["metadata"].get("namespace", DEFAULT_NAMESPACE) != namespace:
        raise ApiProblem(404, f'workflowtemplates.argoproj.io "{name}" not found in namespace "{namespace}"')
    now = emulator.clock.now()
    run = emulator.store.submit(name, now=now, settings=emulator.run_settings())
    return _json(_run_response(run, now))


@_api
async def archive_workflow(request: Request) -> Response:
    _family(request)
    entry = _emulator(request).store.archive(request.path_params["name"])
    return _json(_template_response(entry))


@_api
async def change_ownership(request: Request) -> Response:
    _family(request)
    emulator = _emulator(request)
    body = await _json_body(request)
    username = body.get("username") if isinstance(body, Mapping) else None
    if not isinstance(username, str) or not username:
        raise ApiProblem(400, "username: Required value")
    entry = emulator.store.change_owner(request.path_params["name"], username)
    return _json(_template_response(entry))


@_api
async def stop_run(request: Request) -> Response:
    emulator = _emulator(request)
    now = emulator.clock.now()
    run = emulator.store.stop(request.path_params["run_id"], now=now)
    return _json(_run_response(run, now, ignore_stop=True))


def _cron_item(entry: TemplateEntry) -> dict[str, Any] | None:
    schedule = schedule_of(entry.source)
    if schedule is None:
        return None
    cron, timezone = schedule
    metadata = entry.source["metadata"]
    return {
        "metadata": {
            "name": f"{entry.name}-cron",
            "namespace": metadata.get("namespace", DEFAULT_NAMESPACE),
            "uid": metadata["uid"],
            "resourceVersion": metadata["resourceVersion"],
            "generation": metadata["generation"],
            "creationTimestamp": metadata["creationTimestamp"],
            "labels": {
                **(metadata.get("labels") or {}),
                "workflows.argoproj.io/workflow-template": entry.name,
            },
            "annotations": metadata.get("annotations") or {},
        },
        "spec": {
            "schedule": cron,
            "timezone": timezone,
            "workflowSpec": {"workflowTemplateRef": {"name": entry.name}},
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 0,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
        },
        "status": {"active": None, "conditions": None, "lastScheduledTime": None},
        "workflowMetadata": None,
    }


@_api
async def list_crons(request: Request) -> Response:
    items = [item for entry in _emulator(request).store.templates() if (item := _cron_item(entry))]
    items.sort(key=lambda item: item["metadata"]["name"])
    return _json({"items": items})


@_api
async def get_cron(request: Request) -> Response:
    name = str(request.path_params["name"])
    template = name.removesuffix("-cron")
    try:
        item = _cron_item(_emulator(request).store.template(template)) if name.endswith("-cron") else None
    except ApiProblem:
        item = None
    if item is None:
        raise ApiProblem(404, f'cronworkflows.argoproj.io "{name}" not found')
    return _json(item)


@_api
async def scheduled_queries(request: Request) -> Response:
    for param in ("startDate", "endDate"):
        value = request.query_params.get(param)
        if value is None or parse_date(value) is None:
            raise ApiProblem(400, f"{param}: Required value: an ISO 8601 date-time")
    return _json([])


@_api
async def whoami(request: Request) -> Response:
    settings = _emulator(request).settings
    return _json(
        {
            "username": settings.username,
            "email": f"{settings.username}@emulator.invalid",
            "roles": [{"name": settings.role}],
            "groups": [],
        }
    )


async def health(request: Request) -> Response:
    return _json({"status": "ok", "service": "atlan-workflow-emulator"})


# ---------------------------------------------------------------------------------------------
# admin


async def admin_requests(request: Request) -> Response:
    log = _emulator(request).log
    if request.method == "DELETE":
        return _json({"cleared": log.clear()})
    endpoint = request.query_params.get("endpoint")
    try:
        since = int(request.query_params.get("since", "0"))
    except ValueError:
        return _json({"error": "since must be an integer"}, 400)
    return _json({"requests": log.records(endpoint=endpoint, since=since)})


async def admin_counts(request: Request) -> Response:
    return _json(_emulator(request).log.counts())


async def admin_faults(request: Request) -> Response:
    faults = _emulator(request).faults
    if request.method == "DELETE":
        faults.configure(FaultConfig())
    elif request.method in ("POST", "PUT"):
        body = await _admin_body(request)
        try:
            base = faults.config if request.method == "POST" else None
            faults.configure(FaultConfig.from_json(body, base))
        except ConfigError as exc:
            return _json({"error": str(exc)}, 400)
    return _json(faults.config.to_json())


async def admin_clock(request: Request) -> Response:
    clock = _emulator(request).clock
    if request.method == "POST":
        body = await _admin_body(request)
        unknown = set(body) - {"advance", "set", "freeze"}
        if unknown:
            return _json({"error": f"unknown clock field(s): {', '.join(sorted(unknown))}"}, 400)
        if "freeze" in body:
            if body["freeze"]:
                clock.freeze()
            else:
                clock.unfreeze()
        if "set" in body:
            target = body["set"]
            epoch = float(target) if isinstance(target, int | float) else parse_date(str(target))
            if epoch is None:
                return _json({"error": "set takes epoch seconds or an ISO 8601 date-time"}, 400)
            clock.set(epoch)
        if "advance" in body:
            if not isinstance(body["advance"], int | float):
                return _json({"error": "advance takes a number of seconds"}, 400)
            clock.advance(float(body["advance"]))
    return _json(clock.describe())


async def admin_settings(request: Request) -> Response:
    emulator = _emulator(request)
    if request.method == "POST":
        body = await _admin_body(request)
        current = emulator.settings.to_json()
        unknown = set(body) - set(current)
        if unknown:
            return _json({"error": f"unknown setting(s): {', '.join(sorted(unknown))}"}, 400)
        merged = {**current, **body}
        if (
            not 0 <= float(merged["failure_rate"]) <= 1
            or merged["run_seconds"] < 0
            or merged["pending_seconds"] < 0
        ):
            return _json({"error": "failure_rate must be in [0, 1]; durations must not be negative"}, 400)
        emulator.settings = Settings(**merged)
    return _json(emulator.settings.to_json())


@_api
async def get_credential(request: Request) -> Response:
    """``GET credentials/{guid}``: a credential's metadata as Atlan shows it; the secret never leaves."""
    credential = _emulator(request).store.credential(request.path_params["guid"])
    if credential is None:
        raise ApiProblem(404, f"credential {request.path_params['guid']} not found")
    return _json(credential)


async def admin_credentials(request: Request) -> Response:
    return _json({"credentials": _emulator(request).store.credentials()})


async def admin_state(request: Request) -> Response:
    emulator = _emulator(request)
    now = emulator.clock.now()
    runs = emulator.store.runs()
    phases: dict[str, int] = {}
    for run in runs:
        phase = run.phase_at(now)[0]
        phases[phase] = phases.get(phase, 0) + 1
    return _json({"templates": len(emulator.store.templates()), "runs": len(runs), "runs_by_phase": phases})


async def admin_reset(request: Request) -> Response:
    emulator = _emulator(request)
    emulator.store.reset()
    emulator.log.clear()
    emulator.faults.configure(FaultConfig())
    return _json({"reset": True})


async def _admin_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = json.loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ApiProblem(400, "the body must be a JSON object")
    return body


def _admin(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except (ValueError, ApiProblem) as exc:
            message = exc.message if isinstance(exc, ApiProblem) else str(exc)
            return JSONResponse({"error": message}, status_code=400)

    return wrapped


# ---------------------------------------------------------------------------------------------
# assembly


def _routes() -> list[Route]:
    api = API_PREFIX.rstrip("/")
    family = "/{family:str}"
    return [
        Route("/", health, methods=["GET"]),
        Route(f"{api}/runs/indexsearch", search_runs, methods=["POST"]),
        Route(f"{api}/runs/cron", list_crons, methods=["GET"]),
        Route(f"{api}/runs/cron/scheduleQueriesBetweenDuration", scheduled_queries, methods=["GET"]),
        Route(f"{api}/runs/cron/missedScheduleQueriesBetweenDuration", scheduled_queries, methods=["GET"]),
        Route(f"{api}/runs/cron/{{name:str}}", get_cron, methods=["GET"]),
        Route(f"{api}/runs/{{run_id:str}}/stop", stop_run, methods=["POST"]),
        Route(f"{api}/whoami", whoami, methods=["GET"]),
        Route(f"{api}/credentials/{{guid:str}}", get_credential, methods=["GET"]),
        Route(f"{api}/workflows/triggerAsOwner", submit_workflow, methods=["POST"]),
        Route(f"{api}{family}/indexsearch", search_templates, methods=["POST"]),
        Route(f"{api}{family}/submit", submit_workflow, methods=["POST"]),
        Route(f"{api}{family}", create_workflow, methods=["POST"]),
        Route(f"{api}{family}/{{name:str}}/archive", archive_workflow, methods=["POST"]),
        Route(f"{api}{family}/{{name:str}}/changeownership", change_ownership, methods=["POST"]),
        Route(f"{api}{family}/{{name:str}}", update_workflow, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}requests", _admin(admin_requests), methods=["GET", "DELETE"]),
        Route(f"{ADMIN_PREFIX}counts", _admin(admin_counts), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}faults", _admin(admin_faults), methods=["GET", "POST", "PUT", "DELETE"]),
        Route(f"{ADMIN_PREFIX}clock", _admin(admin_clock), methods=["GET", "POST"]),
        Route(f"{ADMIN_PREFIX}settings", _admin(admin_settings), methods=["GET", "POST"]),
        Route(f"{ADMIN_PREFIX}credentials", _admin(admin_credentials), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}state", _admin(admin_state), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}reset", _admin(admin_reset), methods=["POST"]),
    ]


def create_app(config: EmulatorConfig) -> EmulatorApp:
    """The emulator as an ASGI app; state opens lazily, so it works without lifespan (ASGITransport)."""
    emulator = Emulator(config)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return Response(
            error_body(status, f"no such endpoint: {request.method} {request.url.path}"),
            status_code=status,
            media_type="application/json",
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        emulator.close()

    app = EmulatorApp(
        routes=_routes(), exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan
    )
    app.emulator = emulator
    return app
