"""A cache of validated manifests, keyed by the content of the file they came from.

Parsing YAML is most of the time a plan of many manifests takes (about 0.3 ms a manifest with
ruamel.yaml; 10,000 manifests take seconds). A file whose bytes have been loaded before, by the
same version of the manifest models, holds the same manifests: they are read back from one JSON
entry and validated by pydantic in one call per file (what ruff's and mypy's caches do for
source files).

What an entry holds is what the file says, as validated: ``${env:NAME}`` references are kept as
written and are resolved only when compiling, so no secret and no environment value is ever
written here. Only files that loaded without a problem are cached. An entry's key covers the
file's bytes and the source of the modules that decide what a manifest means, so editing the
models (or upgrading) never reads an entry made by other code. Entries unused for a week are
removed. A cache that cannot be read or written is skipped silently: it only ever saves time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from reconciler.manifest.models import Manifest

FORMAT = b"reconciler-manifest-cache/1"
MAX_AGE_SECONDS = 7 * 24 * 3600
_SUFFIX = ".json"


class CachedDocument(BaseModel):
    """One valid manifest of a file: its place in the file and its validated content."""

    model_config = ConfigDict(frozen=True)

    document: int  # 0-based index among the file's YAML documents
    line: int  # where metadata.name stands (the one position kept once a manifest is valid)
    column: int
    manifest: Manifest
    # Each warning (reconciler/manifest/notices.py) as line, column, field path and sentence.
    warnings: list[tuple[int, int, str, str]] = []


class _Entry(BaseModel):
    documents: list[CachedDocument]


class ManifestCache:
    """Validated manifests by file content, one JSON file per entry under ``directory``."""

    def __init__(self, directory: Path, *, prepare: Callable[[], object] | None = None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        # Called once, before the first entry is written: makes the state directory around
        # ``directory`` (reconciler.settings.ensure_state_dir); an OSError skips the write.
        self._prepare = prepare

    def get(self, content: bytes) -> list[CachedDocument] | None:
        path = self._path(content)
        try:
            raw = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            documents = _Entry.model_validate_json(raw).documents
        except ValidationError:  # written by a crashed process, or edited by hand: ignore it
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):  # its age is its last use (see prune)
            os.utime(path)
        return documents

    def put(self, content: bytes, documents: Sequence[CachedDocument]) -> None:
        path = self._path(content)
        data = _Entry(documents=list(documents)).model_dump_json(by_alias=True, exclude_unset=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            if self._prepare is not None:
                self._prepare()
                self._prepare = None
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(data, encoding="utf-8")
            os.replace(temporary, path)  # readers see a whole entry or none
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()

    def prune(self, *, now: float | None = None) -> int:
        """Remove entries unused for MAX_AGE_SECONDS; how many were removed."""
        cutoff = (time.time() if now is None else now) - MAX_AGE_SECONDS
        removed = 0
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return 0
        for entry in entries:
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
        return removed

    def _path(self, content: bytes) -> Path:
        digest = hashlib.sha256(_code_fingerprint() + content).hexdigest()
        return self.directory / f"{digest}{_SUFFIX}"


@cache
def _code_fingerprint() -> bytes:
    """The cache format and the source of this package (the loader and the models), which
    together decide what a file's bytes mean."""
    digest = hashlib.sha256(FORMAT)
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.digest()
