"""The gateway every HTTP request passes first, and the fault knobs wired into it.

``EmulatorApp.__call__`` records API requests in the request log, checks the API key, reads the
body within the limits of ``limits.py`` (413 too large, 400 nested too deeply), and applies the
fault decisions (latency, injected errors, dropped connections, lost responses) before the
routes run. It sits above Starlette's own middleware on purpose, so that under uvicorn it can
really close the connection. Admin requests (``/_emulator/``) are checked for the key but never
faulted nor logged; the health check (``GET /``) passes untouched.

Requests to presigned URLs (``/_store/``, see ``presign.py``) carry no API key: their route checks
the signature. They are faulted and logged like API requests, but the log keeps neither the
signature nor the bytes (the route notes their size in the scope, ``RECEIVED``), and the body is
not read here: the route streams it to disk within ``max_object_bytes``, as the admin object
routes (``/_emulator/objects/``) do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from reconciler.emulator.errors import error_body
from reconciler.emulator.faults import WRITE_METHODS, endpoint_of
from reconciler.emulator.limits import Disconnected, Refused, read_body, replaying
from reconciler.emulator.presign import OBJECT_PREFIX, without_signature
from reconciler.emulator.state import Emulator

ADMIN_PREFIX = "/_emulator/"
ADMIN_OBJECTS_PREFIX = f"{ADMIN_PREFIX}objects/"
RECEIVED = "emulator.received_bytes"
"""Scope key where an object route notes how many bytes it received (for the request log)."""


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised in place of a dropped connection where the server offers no socket (httpx.ASGITransport)."""


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
            if path.startswith(ADMIN_OBJECTS_PREFIX):
                await super().__call__(scope, receive, send)
                return
            body = await self._read_body(scope, receive, send)
            if body is not None:
                await super().__call__(scope, replaying(body, receive), send)
            return
        await self._api_call(scope, receive, send)

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body (bounded, see ``limits.py``), or None once it is refused or abandoned."""
        config = self.emulator.config
        try:
            return await read_body(
                scope, receive, max_bytes=config.max_body_bytes, max_depth=config.max_json_depth
            )
        except Refused as refused:
            await _send_error(send, refused.status, refused.message)
        except Disconnected:
            pass
        return None

    async def _api_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        emulator = self.emulator
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        endpoint = endpoint_of(method, path, query)
        presigned = path.startswith(OBJECT_PREFIX)
        if presigned:
            query = without_signature(query)
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
        body = b""
        logged = False

        def finish() -> None:
            # Logged before the answer leaves, so a client that has its answer sees its request logged.
            nonlocal logged
            if logged:
                return
            logged = True
            emulator.log.add(record, body, object_bytes=scope.get(RECEIVED, 0) if presigned else None)

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
                finish()
            await send(message)

        try:
            if not presigned and not emulator.authorized(scope):
                record["status"] = 401
                await _send_error(logging_send, 401, "Unauthorized: missing or invalid API key")
                return
            if not presigned:
                # Read before the faults are drawn: a refused body uses up no scripted fault.
                read = await self._read_body(scope, receive, logging_send)
                if read is None:
                    return
                body, receive = read, replaying(read, receive)
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
                    record["committed"] = 200 <= message["status"] < 300 and method in WRITE_METHODS
                if fault is None:
                    await logging_send(message)

            await super().__call__(scope, receive, capturing_send)
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
