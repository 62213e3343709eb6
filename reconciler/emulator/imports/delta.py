"""Full replacement of an assets file's connection (``assets_delta_semantic: full``;
../shared/atlan-csv-formats.md §7.8, ``DeltaProcessor``, ``FileBasedDelta``).

The previous file is the newest ``*.processed`` object under ``<assets_previous_file_prefix or
csa-asset-import>/<connection QN>/`` in the tenant store: the file a run of this connection
processed last, as the emulator kept it (its rows with their deferred connections resolved,
comma-separated). Assets it had that the new file lacks (same typeName and qualifiedName, within
the connection) are archived (``archive``: status DELETED) or purged, and counted ``deleted``.
With ``assets_delta_reload_calculation: changes`` only the rows that are new or changed since
the previous file are loaded. No previous file: an initial load, nothing deleted. The new file is
kept as ``<yyyyMMdd-HHmmssSSS>.processed`` once its assets loaded without a failure.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable
from datetime import UTC, datetime

from reconciler.emulator.catalog import DELETED
from reconciler.emulator.imports.csvfile import FileError, read_table
from reconciler.emulator.imports.load import Loader, Row
from reconciler.emulator.imports.options import Delta
from reconciler.emulator.objects import TENANT, ObjectProblem, ObjectStore, normalise_key

Identity = tuple[str, str]  # typeName, qualifiedName
_DELETE_BATCH = 20  # DeltaProcessor deletes in batches of 20
SUFFIX = ".processed"


def checksum(cells: list[str]) -> str:
    """What tells a changed row from an unchanged one (the package hashes the fields joined with §)."""
    return hashlib.md5("§".join(cells).encode(), usedforsecurity=False).hexdigest()


class FullReplacement:
    """The delta of one assets file against the previous file of its connection."""

    def __init__(
        self, delta: Delta, objects: ObjectStore, connection_qn: str, header: tuple[str, ...]
    ) -> None:
        self.delta = delta
        self.objects = objects
        self.connection_qn = connection_qn
        self.header = header
        self.prefix = normalise_key(f"{delta.previous_prefix}/{connection_qn}")
        self.previous = self._previous()
        self.current: dict[Identity, list[str]] = {}

    def _previous(self) -> dict[Identity, str]:
        directory = self.objects.path_of(TENANT, self.prefix)
        try:
            names = sorted(entry.name for entry in os.scandir(directory) if entry.name.endswith(SUFFIX))
        except (FileNotFoundError, NotADirectoryError):
            return {}
        if not names:
            return {}
        opened = self.objects.open(TENANT, f"{self.prefix}/{names[-1]}")
        if opened is None:
            return {}
        with opened[1] as handle:
            data = handle.read()
        try:
            table = read_table(data)
        except FileError:
            return {}  # not a file this emulator wrote: treated as an initial load
        type_at, qn_at = table.index("typeName"), table.index("qualifiedName")
        if type_at is None or qn_at is None:
            return {}
        return {(cells[type_at], cells[qn_at]): checksum(cells) for _line, cells in table.rows}

    def note(self, row: Row, qualified_name: str) -> None:
        """A row of the new file, its qualifiedName resolved."""
        cells = list(row.cells)
        cells[self.header.index("qualifiedName")] = qualified_name
        self.current[(row.type_name, qualified_name)] = cells

    def changed(self, row: Row, qualified_name: str) -> bool:
        """Whether a row is to be loaded: always, unless ``changes`` found it as it was."""
        if self.delta.reload != "changes":
            return True
        cells = self.current.get((row.type_name, qualified_name))
        return cells is None or self.previous.get((row.type_name, qualified_name)) != checksum(cells)

    def removed(self) -> list[Identity]:
        prefix = self.connection_qn
        return [
            (type_name, qualified_name)
            for type_name, qualified_name in self.previous
            if (type_name, qualified_name) not in self.current
            and (qualified_name == prefix or qualified_name.startswith(prefix + "/"))
        ]

    def delete(self, loader: Loader) -> None:
        """Archive or purge what the previous file had and this one lacks, in batches."""
        catalog = loader.context.catalog
        removed = self.removed()
        for start in range(0, len(removed), _DELETE_BATCH):
            with catalog.transaction():
                done = []
                for type_name, qualified_name in removed[start : start + _DELETE_BATCH]:
                    document = catalog.find(type_name, qualified_name)
                    if document is None or (
                        self.delta.removal == "archive" and document["status"] == DELETED
                    ):
                        continue
                    if self.delta.removal == "purge":
                        catalog.purge(document["guid"])
                    else:
                        catalog.put(loader.stamped({**document, "status": DELETED}))
                    done.append(document)
            for document in done:
                attributes = document["attributes"]
                loader.report.row(
                    loader.file,
                    "deleted",
                    document["typeName"],
                    attributes["qualifiedName"],
                    str(attributes.get("name", "")),
                    document["guid"],
                    loaded_as="",
                )

    def keep(self, now: float) -> str | None:
        """Store the new file as the connection's latest processed file; its key."""
        stamp = datetime.fromtimestamp(now, tz=UTC)
        key = f"{self.prefix}/{stamp:%Y%m%d-%H%M%S}{stamp.microsecond // 1000:03d}{SUFFIX}"
        try:
            self.objects.write(TENANT, key, _csv_bytes(self.header, self.current.values()))
        except ObjectProblem:
            return None
        return key


def _csv_bytes(header: tuple[str, ...], rows: Iterable[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # CRLF, so that a cell's CR is quoted (report.py)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()
