"""Atlan's file API and the cloud store behind its presigned URLs, as one httpx.MockTransport
handler: for the details a real tenant has and the emulator (which plays S3) does not, such as
Azure's ``x-ms-blob-type`` and 201, and GCS's generations.

``flavour`` picks the backing store: ``s3`` (200; ``If-Match``/``If-None-Match`` checked, 412),
``azure`` (201; needs ``x-ms-blob-type: BlockBlob``; 409 when ``If-None-Match: *`` finds a blob,
412 on a stale ``If-Match``), ``gcs`` (200; ``x-goog-generation``; standard preconditions
ignored, as GCS's XML API does). A URL is good for its method and key only; a request to the store
with an ``Authorization`` header is refused (and remembered). ``tamper``, a callable of each
request to the store, may act first (replace the object, raise a transport error) or answer
instead (return a response).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

import httpx

ATLAN = "tenant.example.com"
Flavour = Literal["s3", "azure", "gcs"]
HOSTS: dict[Flavour, str] = {
    "s3": "atlan-tenant.s3.us-east-1.amazonaws.com",
    "azure": "atlantenant.blob.core.windows.net",
    "gcs": "storage.googleapis.com",
}


@dataclass
class Blob:
    data: bytes
    version: str


class FakeTenant:
    def __init__(self, flavour: Flavour = "s3", api_key: str = "atlan-key") -> None:
        self.flavour = flavour
        self.api_key = api_key
        self.objects: dict[str, Blob] = {}
        self.requests: list[httpx.Request] = []
        self.presigned: list[str] = []
        self.authorization_seen = 0
        self.tamper: Callable[[httpx.Request], httpx.Response | None] | None = None
        self._grants: dict[str, tuple[str, str]] = {}  # signature -> (method, key)
        self._versions = itertools.count(1_700_000_000_000_001)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == ATLAN:
            return self._presign(request)
        if self.tamper is not None and (answer := self.tamper(request)) is not None:
            return answer
        return self._object(request)

    def replace(self, key: str, data: bytes) -> None:
        """Someone else writes ``key`` (a new version, no metadata)."""
        self.objects[key] = Blob(data, self._next_version(data))

    def store_requests(self, method: str | None = None) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host != ATLAN and (method is None or r.method == method)]

    # -- Atlan ---------------------------------------------------------------------------------------

    def _presign(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/service/files/presignedUrl" or request.method != "POST":
            return httpx.Response(404)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return httpx.Response(401)
        body = json.loads(request.content)
        signature = secrets.token_hex(32)
        self._grants[signature] = (body["method"], body["key"])
        url = f"https://{HOSTS[self.flavour]}/bucket/{quote(body['key'])}?X-Amz-Signature={signature}&sv=1"
        self.presigned.append(url)
        return httpx.Response(200, json={"url": url})

    # -- the store -----------------------------------------------------------------------------------

    def _object(self, request: httpx.Request) -> httpx.Response:
        if "authorization" in request.headers:
            self.authorization_seen += 1
            return httpx.Response(400, text="<Error><Code>InvalidArgument</Code></Error>")
        key = unquote(urlsplit(str(request.url)).path.removeprefix("/bucket/"))
        grant = self._grants.get(request.url.params.get("X-Amz-Signature", ""))
        if grant != (request.method, key):
            return httpx.Response(403, text="<Error><Code>SignatureDoesNotMatch</Code></Error>")
        current = self.objects.get(key)
        if request.method == "GET":
            return self._read(request, current)
        return self._write(request, key, current)

    def _read(self, request: httpx.Request, current: Blob | None) -> httpx.Response:
        if current is None:
            return httpx.Response(404)
        headers = self._version_headers(current)
        if request.headers.get("range") == "bytes=0-0":
            if not current.data:
                return httpx.Response(416)
            headers["content-range"] = f"bytes 0-0/{len(current.data)}"
            return httpx.Response(206, content=current.data[:1], headers=headers)
        return httpx.Response(200, content=current.data, headers=headers)

    def _write(self, request: httpx.Request, key: str, current: Blob | None) -> httpx.Response:
        if self.flavour == "azure" and request.headers.get("x-ms-blob-type") != "BlockBlob":
            return httpx.Response(400, text="<Error><Code>MissingRequiredHeader</Code></Error>")
        if self.flavour != "gcs":
            if request.headers.get("if-none-match") == "*" and current is not None:
                return httpx.Response(409 if self.flavour == "azure" else 412)
            wanted = request.headers.get("if-match")
            if wanted is not None and (current is None or self._etag(current) != wanted):
                return httpx.Response(412)
        self.objects[key] = Blob(request.content, self._next_version(request.content))
        status = 201 if self.flavour == "azure" else 200
        return httpx.Response(status, headers=self._version_headers(self.objects[key]))

    def _next_version(self, data: bytes) -> str:
        return (
            str(next(self._versions))
            if self.flavour == "gcs"
            else hashlib.md5(data + b"%d" % next(self._versions)).hexdigest()
        )

    def _etag(self, blob: Blob) -> str:
        return f'"{blob.version}"'

    def _version_headers(self, blob: Blob) -> dict[str, str]:
        headers = {"etag": self._etag(blob)}
        if self.flavour == "gcs":
            headers["x-goog-generation"] = blob.version
        return headers
