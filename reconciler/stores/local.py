"""A local directory standing in for a bucket: what the embedded emulator reads the input files from.

The object is a plain file at ``<directory>/<key>``, written through obstore's LocalStore (a
temporary file renamed into place; ``create`` exclusive). LocalStore replaces without a condition
and keeps no metadata, so:

- the ETag is the MD5 of the bytes, quoted, as S3 (and the emulator's object index,
  reconciler/emulator/objects.py) gives it; a conditional replace is checked and done under an
  exclusive ``flock``, one step for every process writing through this class;
- the digest goes to a sidecar JSON file in ``metadata_directory`` (default
  ``<directory>/.reconciler``; the emulator's stand-ins keep it outside the bucket) with the MD5 of
  the bytes it belongs to: a file changed by any other means (an editor, a test replacing it
  behind the reconciler's back) reads back ``sha256=None``, like an S3 object overwritten
  without metadata.

The files are small input CSVs, so a HEAD reads them whole to know their MD5.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import obstore
import obstore.exceptions as obstore_errors
from obstore.store import LocalStore

from reconciler.errors import ObjectStoreError, PreconditionFailedError
from reconciler.stores.base import StoredObject, check_digest, check_key, log_operation, settle_put
from reconciler.stores.cloud import OBSTORE_ERRORS, translate

META_DIR = ".reconciler"


class LocalObjectStore:
    """An ``ObjectStore`` over the files under ``directory`` (created if missing)."""

    def __init__(self, directory: Path, *, metadata_directory: Path | None = None) -> None:
        self._meta = metadata_directory or directory / META_DIR
        self._inside = metadata_directory is None  # the sidecars share the directory: keep their keys out
        self._url = f"file://{directory}"
        try:
            self._store = LocalStore(directory, mkdir=True)
        except (OSError, obstore_errors.BaseError) as exc:
            raise ObjectStoreError(f"{self._url}: cannot use the directory ({type(exc).__name__})") from exc

    def __repr__(self) -> str:
        return f"LocalObjectStore({self._url!r})"

    @property
    def url(self) -> str:
        return self._url

    async def head(self, key: str) -> StoredObject | None:
        found = await asyncio.to_thread(self._read, self._key(key), "HEAD")
        return None if found is None else found[0]

    async def get(self, key: str) -> tuple[StoredObject, bytes] | None:
        return await asyncio.to_thread(self._read, self._key(key), "GET")

    async def put(self, key: str, data: bytes, *, sha256: str, expected: StoredObject | None) -> StoredObject:
        key = self._key(key)
        check_digest(sha256)
        return await settle_put(
            self, key, data, sha256, lambda: asyncio.to_thread(self._put, key, data, sha256, expected)
        )

    async def aclose(self) -> None:
        """Nothing is held open between calls."""

    # -- the synchronous work, in a worker thread ----------------------------------------------------

    def _key(self, key: str) -> str:
        check_key(key, self._url)
        if self._inside and key.split("/", 1)[0] == META_DIR:
            raise ObjectStoreError(f"{self._url}: the object key {key!r} is reserved for metadata")
        return key

    def _where(self, key: str) -> str:
        return f"{self._url}/{key}"

    def _read(self, key: str, method: str) -> tuple[StoredObject, bytes] | None:
        began = time.monotonic()
        try:
            data = bytes(obstore.get(self._store, key).bytes())
        except (FileNotFoundError, obstore_errors.NotFoundError):
            log_operation(method, self._where(key), "absent", began)
            return None
        except OBSTORE_ERRORS as exc:
            raise translate(exc, method, self._where(key)) from exc
        log_operation(method, self._where(key), "found", began)
        md5 = _md5(data)
        return StoredObject(key, f'"{md5}"', len(data), self._recorded_digest(key, md5)), data

    def _put(self, key: str, data: bytes, sha256: str, expected: StoredObject | None) -> StoredObject:
        with self._locked():
            found = self._read(key, "HEAD")
            current = None if found is None else found[0]
            if expected is None and current is not None:
                raise PreconditionFailedError(f"PUT {self._where(key)}: the object already exists")
            if expected is not None and (current is None or current.etag != expected.etag):
                raise PreconditionFailedError(f"PUT {self._where(key)}: the object changed since it was read")
            began = time.monotonic()
            try:
                obstore.put(
                    self._store,
                    key,
                    data,
                    mode="create" if expected is None else "overwrite",
                    use_multipart=False,
                )
            except OBSTORE_ERRORS as exc:
                raise translate(exc, "PUT", self._where(key)) from exc
            md5 = _md5(data)
            self._write_sidecar(key, {"md5": md5, "sha256": sha256})
            log_operation("PUT", self._where(key), "written", began)
            return StoredObject(key, f'"{md5}"', len(data), sha256)

    # -- the sidecar and the lock --------------------------------------------------------------------

    def _sidecar(self, key: str) -> Path:
        return self._meta / f"{key}.json"

    def _recorded_digest(self, key: str, md5: str) -> str | None:
        """The digest recorded for these very bytes, if any."""
        try:
            recorded = json.loads(self._sidecar(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(recorded, dict) or recorded.get("md5") != md5:
            return None
        digest = recorded.get("sha256")
        return digest if isinstance(digest, str) else None

    def _write_sidecar(self, key: str, record: dict[str, str]) -> None:
        path = self._sidecar(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(record), encoding="utf-8")
        os.replace(temporary, path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._meta.mkdir(parents=True, exist_ok=True)
        with (self._meta / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
