"""What the emulator refuses to read: bodies over ``max_body_bytes`` (413), JSON nested deeper than
``max_json_depth`` (400).

The gateway reads each request body here, once, before any route: a ``Content-Length`` over the
limit is refused before a byte of the body is read, and a chunked body is counted as it arrives
and refused as soon as it passes the limit, so at most ``max_body_bytes`` are ever held. The
unread rest is left to the server (uvicorn reads and discards it, and the connection stays
usable). The depth is checked on the raw text, before anything parses it, so that no parser or
recursive walk below can fail with a ``RecursionError`` (a 500).
"""

from __future__ import annotations

import re

from starlette.types import Message, Receive, Scope

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


class Refused(Exception):
    """The request is answered ``status`` with ``message`` before any route sees it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Disconnected(Exception):
    """The client went away before sending the whole body: there is no one to answer."""


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> Refused:
    return Refused(413, f"Request body too large: the limit is {limit} bytes")


async def read_body(scope: Scope, receive: Receive, *, max_bytes: int, max_depth: int) -> bytes:
    """The whole request body, or ``Refused`` (413 too large, 400 too deeply nested)."""
    declared = declared_length(scope)
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    if nested_deeper_than(body, max_depth):
        raise Refused(400, f"the request body is not acceptable: JSON nested deeper than {max_depth} levels")
    return body


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the routes the body already read, then waits on the real one."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body only http.disconnect comes, as from the server

    return replay


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether the arrays and objects of this JSON text nest deeper than ``limit``, without parsing it.

    Brackets inside strings do not count. Malformed text may say either; the route's parser
    refuses it then. Cost: nothing for a body with at most ``limit`` brackets (most requests);
    otherwise about that of parsing it.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
