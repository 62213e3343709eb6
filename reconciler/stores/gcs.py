"""Google Cloud Storage through google-cloud-storage (its JSON API), run in worker threads.

Not obstore: obstore writes to GCS through the XML API (``PUT /bucket/key``), which the local GCS
server the tests use (fake-gcs-server) does not implement; every write there is answered
``400 invalid uploadType`` (checked with obstore 0.12.1 and fake-gcs-server 1.5x). Google's own
client uses the JSON API, which both implement, and its preconditions (``ifGenerationMatch``)
are enforced by both.

The version token is the object's generation: ``ifGenerationMatch=0`` creates only,
``ifGenerationMatch=<generation>`` replaces only that version. A read asks for the generation it
has just seen, so the content and the metadata returned belong together.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import google.api_core.exceptions as google_errors
import google.auth.exceptions as auth_errors
import requests
from google.cloud import storage

from reconciler.errors import ObjectStoreError, PreconditionFailedError
from reconciler.stores.base import (
    CONTENT_TYPE,
    METADATA_KEY,
    StoredObject,
    check_digest,
    check_key,
    log_operation,
    settle_put,
)

if TYPE_CHECKING:
    from google.auth.credentials import Credentials as GoogleCredentials

T = TypeVar("T")
# Someone replacing the object between our metadata read and our content read makes us read again.
_READ_ROUNDS = 3
# The project is sent with no object request; a placeholder keeps the client from asking
# google.auth for a default one (which may probe the metadata server).
_NO_PROJECT = "<none>"


class GcsStore:
    """An ``ObjectStore`` over one GCS bucket."""

    def __init__(
        self,
        bucket: str,
        *,
        credentials: GoogleCredentials,
        project: str | None,
        endpoint: str | None,
        timeout: float,
    ) -> None:
        self._settings: dict[str, Any] = {
            "project": project or _NO_PROJECT,
            "credentials": credentials,
            "client_options": {"api_endpoint": endpoint} if endpoint else None,
        }
        self._lock = threading.Lock()
        self._client: storage.Client | None = None
        self._bucket_name = bucket
        self._url = f"gs://{bucket}"
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"GcsStore({self._url!r})"

    @property
    def url(self) -> str:
        return self._url

    async def head(self, key: str) -> StoredObject | None:
        check_key(key, self._url)
        return await asyncio.to_thread(self._call, "HEAD", key, lambda: self._head(key))

    async def get(self, key: str) -> tuple[StoredObject, bytes] | None:
        check_key(key, self._url)
        return await asyncio.to_thread(self._call, "GET", key, lambda: self._get(key))

    async def put(self, key: str, data: bytes, *, sha256: str, expected: StoredObject | None) -> StoredObject:
        check_key(key, self._url)
        check_digest(sha256)

        def write() -> StoredObject:
            return self._call("PUT", key, lambda: self._put(key, data, sha256, expected))

        return await settle_put(self, key, data, sha256, lambda: asyncio.to_thread(write))

    async def aclose(self) -> None:
        if self._client is not None:
            await asyncio.to_thread(self._client.close)

    # -- in a worker thread ------------------------------------------------------------------------

    @property
    def _bucket(self) -> storage.Bucket:
        # Made on first use, in a worker thread: with the machine's role (compute_engine
        # credentials) the client asks the metadata server as it is made.
        with self._lock:
            if self._client is None:
                self._client = storage.Client(**self._settings)
            return self._client.bucket(self._bucket_name)

    def _head(self, key: str) -> StoredObject | None:
        blob = self._bucket.get_blob(key, timeout=self._timeout)
        return None if blob is None else _stored(key, blob)

    def _get(self, key: str) -> tuple[StoredObject, bytes] | None:
        for _ in range(_READ_ROUNDS):
            blob = self._bucket.get_blob(key, timeout=self._timeout)
            if blob is None:
                return None
            try:
                data = blob.download_as_bytes(if_generation_match=blob.generation, timeout=self._timeout)
            except (google_errors.PreconditionFailed, google_errors.NotFound):
                continue  # replaced or deleted between the two requests: look again
            return _stored(key, blob), data
        raise ObjectStoreError(f"GET {self._url}/{key}: the object kept changing while it was read")

    def _put(self, key: str, data: bytes, sha256: str, expected: StoredObject | None) -> StoredObject:
        if expected is None:
            generation = 0
        elif expected.etag.isdigit():
            generation = int(expected.etag)
        else:  # not a generation this store handed out: it cannot be the current version
            raise PreconditionFailedError(f"PUT {self._url}/{key}: the object changed since it was read")
        blob = self._bucket.blob(key)
        blob.metadata = {METADATA_KEY: sha256}
        try:
            blob.upload_from_string(
                data, content_type=CONTENT_TYPE, if_generation_match=generation, timeout=self._timeout
            )
        except google_errors.PreconditionFailed as exc:
            what = "already exists" if expected is None else "changed since it was read"
            raise PreconditionFailedError(f"PUT {self._url}/{key}: the object {what}", status=412) from exc
        return StoredObject(key, str(blob.generation), len(data), sha256)

    def _call(self, method: str, key: str, work: Callable[[], T]) -> T:
        """``work()``, logged, with every library error translated."""
        where = f"{self._url}/{key}"
        began = time.monotonic()
        try:
            result = work()
        except google_errors.GoogleAPICallError as exc:
            log_operation(method, where, str(exc.code or "error"), began)
            raise _translate(exc, method, where) from exc
        except (auth_errors.GoogleAuthError, requests.RequestException) as exc:
            log_operation(method, where, type(exc).__name__, began)
            raise ObjectStoreError(
                f"{method} {where}: no answer from the store ({type(exc).__name__})"
            ) from exc
        log_operation(method, where, "done", began)
        return result


def _stored(key: str, blob: storage.Blob) -> StoredObject:
    digest = (blob.metadata or {}).get(METADATA_KEY)
    return StoredObject(key, str(blob.generation), int(blob.size or 0), digest or None)


def _translate(exc: google_errors.GoogleAPICallError, method: str, where: str) -> ObjectStoreError:
    status = exc.code if isinstance(exc.code, int) else None
    said = f"{status} {exc.reason or ''}".strip() if status else type(exc).__name__
    if isinstance(exc, google_errors.Unauthorized):
        return ObjectStoreError(f"{method} {where}: the credentials were refused ({said})", status=status)
    if isinstance(exc, google_errors.Forbidden):
        return ObjectStoreError(f"{method} {where}: permission denied ({said})", status=status)
    if isinstance(exc, google_errors.NotFound):
        return ObjectStoreError(
            f"{method} {where}: not found ({said}); does the bucket exist?", status=status
        )
    return ObjectStoreError(f"{method} {where}: {said}", status=status)
