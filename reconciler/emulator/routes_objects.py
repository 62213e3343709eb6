"""Atlan's tenant file API and the objects behind it.

- ``POST /api/service/files/presignedUrl`` with ``{"key", "expiry", "method": "PUT"|"GET"}``
  answers ``{"url"}``, a presigned URL served here (``presign.py``); API key as for the API, a bad
  key, expiry or method is a 400 in Atlan's error shape.
- ``PUT|GET|HEAD /_store/amazonaws.com/<key>?X-Amz-...``, the URLs: no ``Authorization`` needed
  (one is ignored); PUT stores the body (200 and ``ETag``; ``x-amz-meta-*`` headers kept as
  metadata; ``If-Match``/``If-None-Match`` honoured, 412 otherwise), GET and HEAD read it (404 when
  missing). A bad or expired signature is 403. Errors are S3's XML (``<Error><Code>``).
- ``GET /_emulator/objects``: every object; ``PUT|GET|HEAD|DELETE /_emulator/objects/<store>/<key>``
  (``tenant/<key>`` or ``<kind>/<bucket>/<key>``): read or replace any object behind the
  reconciler's back, with the same headers; errors are ``{"error"}`` with the status.

Objects live in ``objects.py``'s layout; bodies are streamed to disk within ``max_object_bytes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO
from xml.sax.saxutils import escape

from anyio import to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.gateway import RECEIVED
from reconciler.emulator.handlers import api, emulator_of, json_object, json_response
from reconciler.emulator.objects import (
    CHUNK_BYTES,
    METADATA_PREFIX,
    TENANT,
    Conditions,
    ObjectProblem,
    StoredObject,
    metadata_from,
    normalise_key,
    split_location,
    too_large,
)
from reconciler.emulator.presign import METHODS, parse_expiry
from reconciler.emulator.state import Emulator


@api
async def presigned_url(request: Request) -> Response:
    emulator = emulator_of(request)
    body = await json_object(request)
    method = body.get("method")
    if method not in METHODS:
        raise ApiProblem(400, f"method: Unsupported value: {method!r}: supported values: 'PUT', 'GET'")
    try:
        key = normalise_key(body.get("key"))
        expires = parse_expiry(body.get("expiry"))
    except ObjectProblem as problem:
        raise ApiProblem(400, problem.message) from problem
    except ValueError as exc:
        raise ApiProblem(400, str(exc)) from exc
    base = f"{request.url.scheme}://{request.url.netloc}"
    url = emulator.presigner.url(base, method, key, now=emulator.clock.now(), expires=expires)
    return json_response({"url": url})


async def presigned_object(request: Request) -> Response:
    """A presigned URL: the tenant store's object at the path, for the signed method."""
    emulator = emulator_of(request)
    try:
        key = normalise_key(request.path_params["key"])
        emulator.presigner.verify(request.method, key, request.query_params, now=emulator.clock.now())
        if request.method == "PUT":
            stored = await _put(request, emulator, TENANT, key)
            return Response(status_code=200, headers={"etag": stored.etag})
        ranged = request.headers.get("range") if request.method == "GET" else None
        return await _read(emulator, TENANT, key, head=request.method == "HEAD", ranged=ranged)
    except ObjectProblem as problem:
        return _s3_error(problem)


async def admin_objects(request: Request) -> Response:
    listed = await to_thread.run_sync(emulator_of(request).objects.list_objects)
    return json_response({"objects": [stored.describe() for stored in listed]})


async def admin_object(request: Request) -> Response:
    emulator = emulator_of(request)
    try:
        store, key = split_location(request.path_params["location"])
        if request.method == "PUT":
            return json_response((await _put(request, emulator, store, key)).describe())
        if request.method == "DELETE":
            if not await to_thread.run_sync(emulator.objects.delete, store, key):
                raise _no_such_key()
            return Response(status_code=204)
        return await _read(emulator, store, key, head=request.method == "HEAD")
    except ObjectProblem as problem:
        return JSONResponse({"error": problem.message}, status_code=problem.status)


async def _put(request: Request, emulator: Emulator, store: str, key: str) -> StoredObject:
    """Receive the body within ``max_object_bytes`` and put it at ``key`` if the conditions hold."""
    limit = emulator.config.max_object_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    metadata = metadata_from(request.headers.items())
    conditions = Conditions(request.headers.get("if-match"), request.headers.get("if-none-match"))
    objects = emulator.objects
    # Before the body: a refused upload costs no transfer. Reading an object may hash it, and a
    # commit may wait for another process's: both on a worker thread, not the event loop.
    conditions.check(await to_thread.run_sync(objects.head, store, key))
    try:
        staged = await objects.receive(request.stream(), max_bytes=limit)
    except ClientDisconnect:
        raise ObjectProblem(
            400, "IncompleteBody", "the client went away before sending the whole body"
        ) from None
    request.scope[RECEIVED] = staged.size
    commit = partial(objects.commit, metadata=metadata, conditions=conditions)
    return await to_thread.run_sync(commit, store, key, staged)


async def _read(
    emulator: Emulator, store: str, key: str, *, head: bool, ranged: str | None = None
) -> Response:
    opened = await to_thread.run_sync(emulator.objects.open, store, key)
    if opened is None:
        raise _no_such_key()
    stored, handle = opened
    headers = {
        "etag": stored.etag,
        "content-length": str(stored.size),
        **{f"{METADATA_PREFIX}{name}": value for name, value in stored.metadata.items()},
    }
    if head:
        handle.close()
        return Response(status_code=200, headers=headers, media_type="application/octet-stream")
    try:
        span = _span(ranged, stored.size) if ranged else None
    except ObjectProblem:
        handle.close()
        raise
    if span is None:
        return StreamingResponse(_chunks(handle), headers=headers, media_type="application/octet-stream")
    # One byte range, as S3 answers it: the tenant store's HEAD is a GET of bytes=0-0
    # (reconciler/stores/tenant.py), which must not read the whole object.
    first, last = span
    handle.seek(first)
    headers |= {
        "content-length": str(last - first + 1),
        "content-range": f"bytes {first}-{last}/{stored.size}",
    }
    return StreamingResponse(
        _chunks(handle, last - first + 1),
        status_code=206,
        headers=headers,
        media_type="application/octet-stream",
    )


def _span(ranged: str, size: int) -> tuple[int, int] | None:
    """The byte range ``bytes=first-[last]`` asks for, clipped to ``size``; None for a header this
    does not serve (several ranges, a suffix range: the whole object, as S3 may answer too).
    A range that starts past the end, or any range of an empty object, is a 416, as on S3."""
    match = re.fullmatch(r"bytes=(\d+)-(\d*)", ranged.strip())
    if match is None:
        return None
    first = int(match.group(1))
    if first >= size:
        raise ObjectProblem(416, "InvalidRange", "The requested range is not satisfiable.")
    last = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
    if last < first:
        return None
    return first, last


def _chunks(handle: BinaryIO, remaining: int | None = None) -> Iterator[bytes]:
    with handle:
        while remaining is None or remaining > 0:
            chunk = handle.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _no_such_key() -> ObjectProblem:
    return ObjectProblem(404, "NoSuchKey", "The specified key does not exist.")


def _s3_error(problem: ObjectProblem) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(problem.code)}</Code><Message>{escape(problem.message)}</Message></Error>"
    )
    return Response(body, status_code=problem.status, media_type="application/xml")
