"""The tenant's own object store, through Atlan's file API (reconciler/atlan/files.py).

Each operation asks Atlan for a presigned URL, then sends the request to that URL with a client
of its own: no Atlan ``Authorization`` header, no cookies, no netrc (``trust_env=False``), no
redirects. What the URL points at decides the details, as in pyatlan's ``FileUpload``: an Azure
Blob URL needs ``x-ms-blob-type: BlockBlob`` and answers 201, S3 and GCS answer 200.

- HEAD is a ranged GET of the first byte (a URL presigned for GET does not sign HEAD): the
  ETag and the size (from ``Content-Range``) without the content.
- No user metadata: headers such as ``x-amz-meta-*`` would have to be part of the signature,
  and Atlan signs none, so ``sha256`` reads back as None here; compare the ETag a write returned.
- A write is conditional twice: the current version is read first and compared (every backend),
  and the PUT carries ``If-None-Match: *`` or ``If-Match`` where the backend checks them on a
  presigned URL (S3, Azure Blob; a 412, or Azure's 409, means someone else won the race).
- GETs are retried like the Atlan client's reads; a PUT is not (its answer lost, the outcome is
  unknown: the error says so, and the next plan reads the object again).

The URL never appears in a message or a log line (``where`` is ``tenant:<key>``), and every URL
is registered with the scrubber as soon as it arrives.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Literal, Protocol

import httpx

from reconciler.atlan.files import DEFAULT_EXPIRY, PresignMethod, register_presigned
from reconciler.atlan.wire import retryable_exception, version
from reconciler.errors import ObjectStoreError, PreconditionFailedError
from reconciler.retrying import Again, RetryPolicy, failure_kind, parse_retry_after, retry_async
from reconciler.stores.base import StoredObject, check_digest, check_key, log_operation

Provider = Literal["s3", "azure", "gcs"]
_CONTENT_RANGE = re.compile(r"bytes \d+-\d+/(\d+)")


class Presigner(Protocol):
    """Hands out presigned URLs: ``AtlanWorkflowClient`` (and tests' fakes)."""

    async def presigned_url(self, key: str, method: PresignMethod, *, expiry: str) -> str: ...


def provider_of(url: str) -> Provider:
    """Which store a presigned URL points at, by the substrings pyatlan looks for; anything else
    (an S3-compatible store, the emulator's loopback URLs) is treated as S3."""
    if "blob.core.windows.net" in url:
        return "azure"
    if "storage.googleapis.com" in url:
        return "gcs"
    return "s3"


class TenantStore:
    """An ``ObjectStore`` over the tenant's backing store; ``transport`` replaces the network
    (the embedded emulator's ASGI app, a test's MockTransport)."""

    def __init__(
        self,
        presigner: Presigner,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        expiry: str = DEFAULT_EXPIRY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._presigner = presigner
        self._retry = retry or RetryPolicy()
        self._expiry = expiry
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": f"reconciler/{version()}"},
        )

    def __repr__(self) -> str:
        return "TenantStore('tenant:')"

    @property
    def url(self) -> str:
        return "tenant:"

    async def head(self, key: str) -> StoredObject | None:
        check_key(key, self.url)
        url = await self._presign(key, "GET")
        response = await self._read(key, url, ranged=True)
        if response is None:
            return None
        if response.status_code == 416:  # S3 and Azure refuse any range of an empty object
            found = await self.get(key)
            return None if found is None else found[0]
        size = len(response.content)
        if response.status_code == 206:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
            if match is None:
                raise ObjectStoreError(f"HEAD tenant:{key}: the store's answer has no usable Content-Range")
            size = int(match.group(1))
        return StoredObject(key, _version(response, url, key), size)

    async def get(self, key: str) -> tuple[StoredObject, bytes] | None:
        check_key(key, self.url)
        url = await self._presign(key, "GET")
        response = await self._read(key, url, ranged=False)
        if response is None:
            return None
        return StoredObject(key, _version(response, url, key), len(response.content)), response.content

    async def put(self, key: str, data: bytes, *, sha256: str, expected: StoredObject | None) -> StoredObject:
        """Upload ``data``; ``sha256`` is checked but not stored (no metadata on presigned URLs,
        so neither can a refused write be recognised as our own earlier one)."""
        check_key(key, self.url)
        check_digest(sha256)
        return await self._put(key, data, expected)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the requests --------------------------------------------------------------------------------

    async def _presign(self, key: str, method: PresignMethod) -> str:
        url = await self._presigner.presigned_url(key, method, expiry=self._expiry)
        register_presigned(url)
        return url

    async def _put(self, key: str, data: bytes, expected: StoredObject | None) -> StoredObject:
        current = await self.head(key)
        if expected is None and current is not None:
            raise PreconditionFailedError(f"PUT tenant:{key}: the object already exists")
        if expected is not None and (current is None or current.etag != expected.etag):
            raise PreconditionFailedError(f"PUT tenant:{key}: the object changed since it was read")
        url = await self._presign(key, "PUT")
        provider = provider_of(url)
        headers: dict[str, str] = {}
        if provider == "azure":
            headers["x-ms-blob-type"] = "BlockBlob"
        if provider != "gcs":  # GCS's XML API checks only x-goog-* preconditions, which must be signed
            headers.update({"if-none-match": "*"} if expected is None else {"if-match": expected.etag})
        response = await self._send("PUT", key, url, headers, data, attempt=1, attempts=1)
        if isinstance(response, httpx.HTTPError):
            raise ObjectStoreError(
                f"PUT tenant:{key}: no answer from the tenant's store ({failure_kind(response)}); "
                "the upload may or may not have happened"
            ) from response
        if response.status_code == 412 or (provider == "azure" and response.status_code == 409):
            what = "already exists" if expected is None else "changed since it was read"
            raise PreconditionFailedError(f"PUT tenant:{key}: the object {what}", status=response.status_code)
        if not response.is_success:
            raise _status_error("PUT", key, response)
        etag = _version(response, url, key, required=False)
        if etag:
            return StoredObject(key, etag, len(data))
        written = await self.head(key)
        if written is None:
            raise ObjectStoreError(f"PUT tenant:{key}: the object is gone after the upload")
        return written

    async def _read(self, key: str, url: str, *, ranged: bool) -> httpx.Response | None:
        """A GET (of the first byte when ``ranged``), retried on 429, 5xx and lost connections;
        None for 404."""
        headers = {"range": "bytes=0-0"} if ranged else {}
        method = "HEAD" if ranged else "GET"
        attempts = self._retry.attempts

        async def attempt(number: int) -> httpx.Response | None:
            answer = await self._send(
                "GET", key, url, headers, None, attempt=number, attempts=attempts, log_as=method
            )
            if isinstance(answer, httpx.HTTPError):
                error = ObjectStoreError(
                    f"{method} tenant:{key}: no answer from the tenant's store ({failure_kind(answer)})"
                )
                if retryable_exception(answer):
                    raise Again(error, cause=answer, announce=lambda: self._delay(number, None))
                raise error from answer
            if answer.status_code == 404:
                return None
            if answer.is_success or (ranged and answer.status_code == 416):
                return answer
            error = _status_error(method, key, answer)
            if answer.status_code in self._retry.statuses:
                wait = parse_retry_after(answer.headers.get("retry-after"), datetime.now(UTC))
                raise Again(error, announce=lambda: self._delay(number, wait))
            raise error

        return await retry_async(attempts, attempt, sleep=self._sleep)

    def _delay(self, number: int, retry_after: float | None) -> float:
        return self._retry.delay(number, retry_after, random.uniform)

    async def _send(
        self,
        method: str,
        key: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        *,
        attempt: int,
        attempts: int,
        log_as: str | None = None,
    ) -> httpx.Response | httpx.HTTPError:
        """One request; the answer, or the httpx error that stood in for one (logged either way,
        by our name for the object)."""
        began = time.monotonic()
        where = f"tenant:{key}" + (f" (attempt {attempt} of {attempts})" if attempts > 1 else "")
        try:
            response = await self._http.request(method, url, headers=headers, content=content)
        except httpx.HTTPError as exc:
            log_operation(log_as or method, where, failure_kind(exc), began)
            return exc
        log_operation(log_as or method, where, str(response.status_code), began)
        return response


def _version(response: httpx.Response, url: str, key: str, *, required: bool = True) -> str:
    """The version token of an answer: GCS's generation where it sends one, else the ETag."""
    token = response.headers.get("x-goog-generation") if provider_of(url) == "gcs" else None
    token = token or str(response.headers.get("etag", ""))
    if not token and required:
        raise ObjectStoreError(
            f"tenant:{key}: the store answered without an ETag", status=response.status_code
        )
    return token


def _status_error(method: str, key: str, response: httpx.Response) -> ObjectStoreError:
    # The body is the store's XML or JSON error: it may echo the request, so it is not quoted.
    status = response.status_code
    if status == 403:
        said = "refused: the presigned URL expired, or was not signed for this request"
    else:
        said = f"{status} {response.reason_phrase}".strip()
    return ObjectStoreError(f"{method} tenant:{key}: {said}", status=status)
