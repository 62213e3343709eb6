"""The emulator's object stores: the tenant's own store (Atlan's file API) and local stand-ins for
the s3, gcs and adls buckets that manifests name, kept as plain files under one directory.

Layout (``EmulatorConfig.objects_dir``; by default ``objects/`` beside the database)::

    <objects_dir>/tenant/<key>                             the tenant store (POST files/presignedUrl)
    <objects_dir>/s3/<bucket>/<prefix>/<object_key>        stand-in of an S3 bucket
    <objects_dir>/gcs/<bucket>/<prefix>/<object_key>       stand-in of a GCS bucket
    <objects_dir>/adls/<container>/<prefix>/<object_key>   stand-in of an ADLS container
    <objects_dir>/.index.db                                ETags and metadata (SQLite)
    <objects_dir>/.tmp/                                    uploads being received

A store is named ``tenant`` or ``<kind>/<bucket>``. A key is ``/``-separated; empty segments are
dropped (``/a//b/`` is ``a/b``, so a prefix may have a leading or trailing slash or none), and
``.``, ``..``, NUL and keys over 1,024 bytes are refused. Anything that writes files may fill the
stand-ins (obstore's ``LocalStore(prefix=<objects_dir>/s3/<bucket>)``, a test) and the emulator
reads them; one key cannot be both an object and a prefix of others (files, not S3).

The files are the truth. An object's ETag is the MD5 of its bytes, in quotes as S3 sends it. The
index caches it with the file's size, mtime and inode, and hashes again when those change or the
file was modified within ``_RACY_NS`` of the last check (git's racy-clean rule: mtimes are coarse).
Metadata (``x-amz-meta-*``) belongs to the bytes it was written with: a file replaced by other
means with other bytes has none, as an S3 object overwritten without metadata. Conditional writes
(``If-Match``, ``If-None-Match``) are checked, and the file replaced, under a lock that every
emulator process sharing the directory takes (``flock``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from reconciler.emulator.sqlite import connect

TENANT = "tenant"
KINDS = ("s3", "gcs", "adls")
MAX_KEY_BYTES = 1024  # S3's limit
MAX_METADATA_BYTES = 2048  # S3's limit for user-defined metadata
METADATA_PREFIX = "x-amz-meta-"
CHUNK_BYTES = 1024 * 1024
_INDEX = ".index.db"
_STAGING = ".tmp"
_LOCK = ".lock"
_RACY_NS = 2_000_000_000  # FAT and HFS+ keep mtimes to 2 s; ext4 and tmpfs to a timer tick

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    store TEXT NOT NULL,
    key TEXT NOT NULL,
    md5 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    checked_ns INTEGER NOT NULL, -- when md5 was last known right for this size, mtime and inode
    metadata TEXT NOT NULL,
    PRIMARY KEY (store, key)
);
"""


class ObjectProblem(Exception):
    """An object request refused: HTTP ``status`` and an S3 error ``code`` (``NoSuchKey``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StoredObject:
    store: str
    key: str
    md5: str
    size: int
    modified: float
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return f'"{self.md5}"'

    def describe(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "key": self.key,
            "etag": self.etag,
            "size": self.size,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class Staged:
    """An upload received in full, not yet in place."""

    path: Path
    md5: str
    size: int


def _etags(header: str) -> list[str]:
    return [part.strip().removeprefix("W/") for part in header.split(",") if part.strip()]


@dataclass(frozen=True)
class Conditions:
    """``If-Match`` / ``If-None-Match`` of a write: a list of ETags or ``*``."""

    if_match: str | None = None
    if_none_match: str | None = None

    def check(self, current: StoredObject | None) -> None:
        """Raise 412 unless the object now at the key satisfies both headers."""
        found = () if current is None else (current.etag, current.md5, "*")
        if self.if_match is not None and not set(_etags(self.if_match)) & set(found):
            raise _precondition_failed("If-Match")
        if self.if_none_match is not None and set(_etags(self.if_none_match)) & set(found):
            raise _precondition_failed("If-None-Match")


def _precondition_failed(header: str) -> ObjectProblem:
    return ObjectProblem(
        412, "PreconditionFailed", f"At least one of the pre-conditions you specified did not hold: {header}"
    )


def normalise_key(key: object) -> str:
    """``key`` as stored: ``/``-separated, without empty segments; 400 for a key no file can hold."""
    if not isinstance(key, str):
        raise ObjectProblem(400, "InvalidArgument", "key: must be a string")
    segments = [segment for segment in key.split("/") if segment]
    if not segments:
        raise ObjectProblem(400, "InvalidArgument", "key: must not be empty")
    if "\x00" in key or any(segment in (".", "..") for segment in segments):
        raise ObjectProblem(400, "InvalidArgument", "key: must not contain NUL, '.' or '..' segments")
    normalised = "/".join(segments)
    if len(normalised.encode()) > MAX_KEY_BYTES or any(len(s.encode()) > 255 for s in segments):
        raise ObjectProblem(
            400, "KeyTooLongError", f"key: at most {MAX_KEY_BYTES} bytes, and 255 between slashes"
        )
    return normalised


def store_name(kind: str, bucket: str = "") -> str:
    """``tenant``, or ``<kind>/<bucket>`` for a stand-in; 400 for anything else."""
    if kind == TENANT and not bucket:
        return TENANT
    if kind not in KINDS:
        raise ObjectProblem(400, "InvalidArgument", f"store: must be one of {TENANT}, {', '.join(KINDS)}")
    if not bucket or "/" in bucket or bucket in (".", "..") or "\x00" in bucket or len(bucket) > 255:
        raise ObjectProblem(400, "InvalidBucketName", f"bucket: {bucket!r} is not usable as a directory")
    return f"{kind}/{bucket}"


def split_location(path: str) -> tuple[str, str]:
    """``tenant/<key>`` or ``<kind>/<bucket>/<key>`` -> (store, normalised key)."""
    segments = [segment for segment in path.split("/") if segment]
    kind = segments[0] if segments else ""
    taken = 1 if kind == TENANT else 2
    store = store_name(kind, "/".join(segments[1:taken]))
    return store, normalise_key("/".join(segments[taken:]))


def metadata_from(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The ``x-amz-meta-*`` headers of a request (names lower-case, without the prefix)."""
    metadata = {
        name.lower().removeprefix(METADATA_PREFIX): value
        for name, value in headers
        if name.lower().startswith(METADATA_PREFIX)
    }
    if sum(len(name) + len(value) for name, value in metadata.items()) > MAX_METADATA_BYTES:
        raise ObjectProblem(
            400, "MetadataTooLarge", f"metadata headers: at most {MAX_METADATA_BYTES} bytes in all"
        )
    return metadata


def _md5(handle: BinaryIO) -> str:
    digest = hashlib.md5(usedforsecurity=False)  # S3's ETag of a single-part upload
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


class ObjectStore:
    """The files under one directory, and their index. Thread-safe; several processes may share it.

    ``root`` None: a temporary directory, removed by ``close`` (for an emulator kept in memory).
    """

    def __init__(self, root: Path | None) -> None:
        self._root = root
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:
                self._temporary = tempfile.TemporaryDirectory(prefix="emulator-objects-")
                self._root = Path(self._temporary.name)
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            return self._root

    def _index(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.root / _INDEX, _SCHEMA)
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._temporary is not None:
                self._temporary.cleanup()
                self._temporary, self._root = None, None

    def path_of(self, store: str, key: str) -> Path:
        return self.root / store / key

    # -- reads -------------------------------------------------------------------------------

    def head(self, store: str, key: str) -> StoredObject | None:
        opened = self.open(store, key)
        if opened is None:
            return None
        stored, handle = opened
        handle.close()
        return stored

    def open(self, store: str, key: str) -> tuple[StoredObject, BinaryIO] | None:
        """The object at ``key`` and its bytes, open (the caller closes them); None if missing.

        Described from the open file, so a replacement meanwhile cannot mix two versions."""
        try:
            handle = self.path_of(store, key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        try:
            return self._describe(store, key, handle), handle
        except BaseException:
            handle.close()
            raise

    def _describe(self, store: str, key: str, handle: BinaryIO) -> StoredObject:
        st = os.fstat(handle.fileno())
        with self._lock:
            row = (
                self._index()
                .execute(
                    "SELECT md5, size, mtime_ns, inode, checked_ns, metadata FROM objects"
                    " WHERE store = ? AND key = ?",
                    (store, key),
                )
                .fetchone()
            )
        same_file = row is not None and tuple(row[1:4]) == (st.st_size, st.st_mtime_ns, st.st_ino)
        if same_file and st.st_mtime_ns + _RACY_NS < row[4]:
            return StoredObject(store, key, str(row[0]), st.st_size, st.st_mtime, json.loads(row[5]))
        md5 = _md5(handle)  # outside the lock: other objects are read meanwhile
        metadata = json.loads(row[5]) if row is not None and row[0] == md5 else {}
        with self._lock:
            self._remember(store, key, md5, st, metadata)
        return StoredObject(store, key, md5, st.st_size, st.st_mtime, metadata)

    def _remember(
        self, store: str, key: str, md5: str, st: os.stat_result, metadata: Mapping[str, str]
    ) -> None:
        self._index().execute(
            "INSERT OR REPLACE INTO objects (store, key, md5, size, mtime_ns, inode, checked_ns, metadata)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                store,
                key,
                md5,
                st.st_size,
                st.st_mtime_ns,
                st.st_ino,
                time.time_ns(),
                json.dumps(dict(metadata)),
            ),
        )

    def list_objects(self) -> list[StoredObject]:
        """Every object of every store, by store and key."""
        found: list[StoredObject] = []
        stores = [TENANT] + [
            f"{kind}/{entry.name}" for kind in KINDS for entry in self._dirs(self.root / kind)
        ]
        for store in stores:
            base = self.root / store
            for directory, _dirs, files in os.walk(base):
                for name in files:
                    key = (Path(directory) / name).relative_to(base).as_posix()
                    stored = self.head(store, key)
                    if stored is not None:
                        found.append(stored)
        return sorted(found, key=lambda stored: (stored.store, stored.key))

    @staticmethod
    def _dirs(path: Path) -> list[os.DirEntry[str]]:
        try:
            return [entry for entry in os.scandir(path) if entry.is_dir()]
        except FileNotFoundError:
            return []

    # -- writes ------------------------------------------------------------------------------

    async def receive(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> Staged:
        """Write ``chunks`` to a staging file beside the stores; 413 past ``max_bytes``.

        The writes block: one chunk to the page cache takes less than a hop to a worker thread."""
        fd, path = self._staging_file()
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise too_large(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            _discard(path)
            raise
        return Staged(path, digest.hexdigest(), size)

    def _staging_file(self) -> tuple[int, Path]:
        staging = self.root / _STAGING
        staging.mkdir(mode=0o700, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=staging, prefix="upload-")
        return fd, Path(name)

    def commit(
        self, store: str, key: str, staged: Staged, *, metadata: Mapping[str, str], conditions: Conditions
    ) -> StoredObject:
        """Put ``staged`` at ``key`` if ``conditions`` hold for the object there now (else 412)."""
        path = self.path_of(store, key)
        try:
            with self._exclusive():
                conditions.check(self.head(store, key))
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged.path, path)
                except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
                    raise ObjectProblem(
                        409, "InvalidRequest", f"key: {key!r} would be both an object and a prefix of others"
                    ) from exc
                st = path.stat()
                with self._lock:
                    self._remember(store, key, staged.md5, st, metadata)
        finally:
            _discard(staged.path)
        return StoredObject(store, key, staged.md5, st.st_size, st.st_mtime, dict(metadata))

    def write(
        self, store: str, key: str, data: bytes, *, metadata: Mapping[str, str] | None = None
    ) -> StoredObject:
        """Put ``data`` at ``key`` unconditionally (what the emulator itself writes: a run's results)."""
        fd, path = self._staging_file()
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except BaseException:
            _discard(path)
            raise
        staged = Staged(path, hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data))
        return self.commit(store, key, staged, metadata=metadata or {}, conditions=Conditions())

    def delete(self, store: str, key: str) -> bool:
        """Remove the object and the directories it leaves empty; False if there was none."""
        path = self.path_of(store, key)
        with self._exclusive():
            if not path.is_file():
                return False
            path.unlink()
            with self._lock:
                self._index().execute("DELETE FROM objects WHERE store = ? AND key = ?", (store, key))
            # An empty directory left at a key would refuse a later object of that name.
            parent, top = path.parent, self.root / store
            while parent != top:
                try:
                    parent.rmdir()
                except OSError:  # not empty: other objects live below
                    break
                parent = parent.parent
        return True

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """This process's lock, then every process's (an flock on ``.lock``)."""
        with self._lock, (self.root / _LOCK).open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def too_large(limit: int) -> ObjectProblem:
    return ObjectProblem(
        413, "EntityTooLarge", f"Your proposed upload exceeds the maximum allowed size: {limit} bytes"
    )
