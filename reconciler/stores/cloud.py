"""S3 and Azure Blob (ADLS accounts too: their blob API) through obstore.

One obstore call per operation: ``get(head=True)`` for a HEAD (plain ``head`` drops user
metadata), ``get`` for the content and its metadata in one answer, ``put`` with ``mode="create"``
(``If-None-Match: *``) or ``{"e_tag": ...}`` (``If-Match``). Multipart uploads are off: they cannot
be conditional, and the input files are far below the 5 GB single-PUT limit.

obstore's own messages quote request URLs and debug dumps, so none of their text reaches ours:
an error says which operation on which object failed, and the HTTP status when there was one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import obstore
import obstore.exceptions as obstore_errors

from reconciler.errors import ObjectStoreError, PreconditionFailedError
from reconciler.stores.base import (
    CONTENT_TYPE,
    StoredObject,
    check_digest,
    check_key,
    log_operation,
    settle_put,
)

if TYPE_CHECKING:
    from obstore.store import ObjectStore as ObstoreBackend

# object_store's text for an error answer: "... Server returned non-2xx status code: 403 Forbidden: <body>"
_STATUS = re.compile(r"status code: (\d{3})(?: ([A-Za-z][A-Za-z ]*[A-Za-z]))?")
# obstore raises its own errors, and Python's for some (FileNotFoundError for a 404).
OBSTORE_ERRORS = (obstore_errors.BaseError, OSError, NotImplementedError)
_NO_ANSWER = ("error sending request", "connection", "connect error", "timed out", "dns error")


def status_of(exc: BaseException) -> tuple[int | None, str]:
    """The HTTP status in an obstore error's text, and its words for the message."""
    text = str(exc)
    match = _STATUS.search(text)
    if match:
        return int(match.group(1)), f"{match.group(1)} {match.group(2) or ''}".strip()
    lowered = text.lower()
    if any(marker in lowered for marker in _NO_ANSWER):
        return None, "no answer from the store"
    return None, type(exc).__name__


def translate(exc: BaseException, operation: str, where: str) -> ObjectStoreError:
    """Our error for an obstore error (to be raised ``from exc``)."""
    status, said = status_of(exc)
    if isinstance(exc, obstore_errors.AlreadyExistsError):
        return PreconditionFailedError(f"{operation} {where}: the object already exists", status=status)
    if isinstance(exc, obstore_errors.PreconditionError):
        return PreconditionFailedError(
            f"{operation} {where}: the object changed since it was read", status=status
        )
    if isinstance(exc, obstore_errors.UnauthenticatedError):
        return ObjectStoreError(f"{operation} {where}: the credentials were refused ({said})", status=status)
    if isinstance(exc, obstore_errors.PermissionDeniedError):
        return ObjectStoreError(f"{operation} {where}: permission denied ({said})", status=status)
    if isinstance(exc, FileNotFoundError | obstore_errors.NotFoundError):
        return ObjectStoreError(
            f"{operation} {where}: not found ({said}); does the bucket exist?", status=status
        )
    return ObjectStoreError(f"{operation} {where}: {said}", status=status)


class ObstoreStore:
    """An ``ObjectStore`` over one obstore S3Store or AzureStore."""

    def __init__(self, store: ObstoreBackend, *, url: str, metadata_key: str) -> None:
        self._store = store
        self._url = url
        self._metadata_key = metadata_key

    def __repr__(self) -> str:
        return f"ObstoreStore({self._url!r})"

    @property
    def url(self) -> str:
        return self._url

    def where(self, key: str) -> str:
        return f"{self._url}/{key}"

    async def head(self, key: str) -> StoredObject | None:
        found = await self._fetch(key, "HEAD")
        return None if found is None else found[0]

    async def get(self, key: str) -> tuple[StoredObject, bytes] | None:
        return await self._fetch(key, "GET")

    async def _fetch(self, key: str, method: str) -> tuple[StoredObject, bytes] | None:
        """The object and its content (none for a HEAD), or None when there is no object."""
        check_key(key, self._url)
        began = time.monotonic()
        try:
            result = await obstore.get_async(self._store, key, options={"head": method == "HEAD"})
            data = b"" if method == "HEAD" else bytes(await result.bytes_async())
        except (FileNotFoundError, obstore_errors.NotFoundError):
            log_operation(method, self.where(key), "404", began)
            return None
        except OBSTORE_ERRORS as exc:
            log_operation(method, self.where(key), status_of(exc)[1], began)
            raise translate(exc, method, self.where(key)) from exc
        log_operation(method, self.where(key), "200", began)
        return self._stored(key, result.meta, result.attributes), data

    async def put(self, key: str, data: bytes, *, sha256: str, expected: StoredObject | None) -> StoredObject:
        check_key(key, self._url)
        check_digest(sha256)

        async def write() -> StoredObject:
            mode: Any = "create" if expected is None else {"e_tag": expected.etag}
            attributes: Any = {"Content-Type": CONTENT_TYPE, self._metadata_key: sha256}
            began = time.monotonic()
            try:
                result = await obstore.put_async(
                    self._store, key, data, mode=mode, attributes=attributes, use_multipart=False
                )
            except OBSTORE_ERRORS as exc:
                log_operation("PUT", self.where(key), status_of(exc)[1], began)
                raise translate(exc, "PUT", self.where(key)) from exc
            log_operation("PUT", self.where(key), "200", began)
            etag = result.get("e_tag")
            if etag is None:  # pragma: no cover - S3 and Azure always answer with one
                written = await self.head(key)
                if written is None:
                    raise ObjectStoreError(f"PUT {self.where(key)}: the object is gone after the upload")
                return written
            return StoredObject(key, etag, len(data), sha256)

        return await settle_put(self, key, data, sha256, write)

    async def aclose(self) -> None:
        """obstore's clients hold no connection that needs closing."""

    def _stored(self, key: str, meta: Mapping[str, Any], attributes: Mapping[str, Any]) -> StoredObject:
        digest = attributes.get(self._metadata_key)
        return StoredObject(
            key=key,
            etag=str(meta.get("e_tag") or ""),
            size=int(meta.get("size") or 0),
            sha256=digest if isinstance(digest, str) and digest else None,
        )
