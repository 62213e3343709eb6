"""The emulator's catalog: the assets that emulated imports create, as Atlan entity documents.

Kept in the emulator's SQLite file (``Store.path``), in one table beside the workflows, so it
survives restarts and ``emulator reset`` empties both. Each row is one entity: the columns the
importer and the asset search look things up by, and the whole document as Atlan's asset API
returns it::

    {"typeName": "Table", "guid": "…", "status": "ACTIVE", "displayText": "ORDERS",
     "attributes": {"qualifiedName": "default/snowflake/1700000000/DB/SCH/ORDERS", "name": "ORDERS", …},
     "createTime": 1700000000000, "updateTime": 1700000000000, "createdBy": "…", "updatedBy": "…"}

Identity is ``(typeName, qualifiedName)``. ``status`` is ``ACTIVE`` or ``DELETED`` (archived: soft
deleted, restorable); a purge removes the row. Glossary terms and categories carry their
glossary's qualifiedName in the ``glossary`` column (Atlan's ``__glossary`` search field), so a
term is found by name within its glossary without reading documents.

Tag definitions (from an import's tags file) are kept by name in a table of their own: they are
typedefs, not entities, and no search finds them.

Writes go through ``Catalog.transaction()``: one ``BEGIN IMMEDIATE`` transaction, committed whole
or rolled back whole, which is how an import fails one batch without leaving half of it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypedDict, Unpack

import orjson

from reconciler.emulator.sqlite import connect

ACTIVE = "ACTIVE"
DELETED = "DELETED"  # Atlan's status for an archived (soft-deleted) asset
GLOSSARY_TYPES = frozenset({"AtlasGlossaryTerm", "AtlasGlossaryCategory"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS catalog (
    guid TEXT PRIMARY KEY,
    type_name TEXT NOT NULL,
    qualified_name TEXT NOT NULL,
    qn_folded TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    glossary TEXT,
    document TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS catalog_identity ON catalog (type_name, qualified_name);
CREATE INDEX IF NOT EXISTS catalog_folded ON catalog (qn_folded);
CREATE INDEX IF NOT EXISTS catalog_name ON catalog (name, type_name);
CREATE INDEX IF NOT EXISTS catalog_glossary ON catalog (glossary) WHERE glossary IS NOT NULL;
CREATE TABLE IF NOT EXISTS tag_definitions (name TEXT PRIMARY KEY, document TEXT NOT NULL);
"""
_COLUMNS = "document"
_ROW_COLUMNS = "guid, type_name, qualified_name, name, status, glossary, document"
_BATCH = 500  # IN (...) lists are chunked below SQLite's default limit on bound parameters


class Filters(TypedDict, total=False):
    """What ``Catalog.select`` and ``Catalog.rows`` filter on: each a set of allowed values."""

    type_names: Iterable[str] | None
    qualified_names: Iterable[str] | None
    names: Iterable[str] | None
    guids: Iterable[str] | None
    glossaries: Iterable[str] | None
    status: str | None


class CatalogRow(NamedTuple):
    """One entity's indexed columns and its document as stored (JSON text)."""

    guid: str
    type_name: str
    qualified_name: str
    name: str
    status: str
    glossary: str | None
    document: str


def fold(qualified_name: str) -> str:
    """The form a case-insensitive match compares (``assets_case_sensitive: false``)."""
    return qualified_name.casefold()


def _row_values(document: Mapping[str, Any]) -> tuple[str, str, str, str, str, str, str | None, str]:
    attributes = document.get("attributes") or {}
    qualified_name = str(attributes.get("qualifiedName") or "")
    type_name = str(document.get("typeName") or "")
    if not type_name or not qualified_name or not document.get("guid"):
        raise ValueError("a catalog document needs typeName, guid and attributes.qualifiedName")
    glossary = _glossary_of(type_name, attributes)
    return (
        str(document["guid"]),
        type_name,
        qualified_name,
        fold(qualified_name),
        str(attributes.get("name") or ""),
        str(document.get("status") or ACTIVE),
        glossary,
        orjson.dumps(document).decode(),  # the JSON json.dumps writes compact, 5-10 times faster
    )


def _glossary_of(type_name: str, attributes: Mapping[str, Any]) -> str | None:
    if type_name not in GLOSSARY_TYPES:
        return None
    anchor = attributes.get("anchor")
    if isinstance(anchor, Mapping):
        unique = anchor.get("uniqueAttributes")
        if isinstance(unique, Mapping) and isinstance(unique.get("qualifiedName"), str):
            return str(unique["qualifiedName"])
    qualified_name = str(attributes.get("qualifiedName") or "")
    return qualified_name.rpartition("@")[2] or None  # term/category QNs end in @<glossary QN>


class Catalog:
    """Thread-safe access to the catalog table; opened lazily, closed by ``close``."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._depth = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # An import commits a transaction every batch (5,000 for 100,000 rows at the default
            # 20): syncing at WAL checkpoints doubled its time (benchmarks/import_rows.py). A
            # sandbox may lose its last writes to a power cut, no more.
            self._conn = connect(self.path, _SCHEMA, synchronous="OFF")
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[Catalog]:
        """Everything written inside is committed together, or (on any exception) not at all.
        Reads inside see the writes made so far. Nested use joins the outer transaction."""
        with self._lock:
            conn = self._connection()
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    # -- reads -------------------------------------------------------------------------------

    def _documents(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._connection().execute(sql, tuple(params)).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def get(self, guid: str) -> dict[str, Any] | None:
        found = self._documents(f"SELECT {_COLUMNS} FROM catalog WHERE guid = ?", (guid,))  # noqa: S608
        return found[0] if found else None

    def find(
        self, type_names: str | Iterable[str], qualified_name: str, *, case_sensitive: bool = True
    ) -> dict[str, Any] | None:
        """The entity of one of ``type_names`` with ``qualified_name`` (first type that has one);
        ``case_sensitive=False`` compares casefolded names and returns the stored casing."""
        names = [type_names] if isinstance(type_names, str) else list(type_names)
        for type_name in names:
            if case_sensitive:
                found = self._documents(
                    f"SELECT {_COLUMNS} FROM catalog WHERE type_name = ? AND qualified_name = ?",  # noqa: S608
                    (type_name, qualified_name),
                )
            else:
                found = self._documents(
                    f"SELECT {_COLUMNS} FROM catalog WHERE qn_folded = ? AND type_name = ?"  # noqa: S608
                    " ORDER BY qualified_name LIMIT 1",
                    (fold(qualified_name), type_name),
                )
            if found:
                return found[0]
        return None

    def named(
        self, type_name: str, name: str, *, glossary: str | None = None, include_deleted: bool = True
    ) -> list[dict[str, Any]]:
        """Entities of ``type_name`` called ``name`` (within ``glossary``, a glossary QN, if given)."""
        sql = f"SELECT {_COLUMNS} FROM catalog WHERE name = ? AND type_name = ?"  # noqa: S608
        params: list[Any] = [name, type_name]
        if glossary is not None:
            sql += " AND glossary = ?"
            params.append(glossary)
        if not include_deleted:
            sql += " AND status = ?"
            params.append(ACTIVE)
        return self._documents(sql + " ORDER BY qualified_name", params)

    def select(self, **filters: Unpack[Filters]) -> Iterator[dict[str, Any]]:
        """Every entity matching all the given filters (each a set of allowed values), in
        ``(typeName, qualifiedName)`` order: the candidates a search narrows further."""
        for row in self.rows(**filters):
            yield json.loads(row.document)

    def rows(self, **filters: Unpack[Filters]) -> list[CatalogRow]:
        """The rows ``select`` reads, with their columns and the document's text unparsed, so a
        search can test the indexed columns of many entities and parse only those it returns."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, values in (
            ("type_name", filters.get("type_names")),
            ("qualified_name", filters.get("qualified_names")),
            ("name", filters.get("names")),
            ("guid", filters.get("guids")),
            ("glossary", filters.get("glossaries")),
        ):
            if values is None:
                continue
            items = sorted(set(values))
            if not items:
                return []
            if len(items) > _BATCH:
                continue  # too many to bind: filtered by the caller's own predicate instead
            clauses.append(f"{column} IN ({','.join('?' * len(items))})")
            params += items
        status = filters.get("status")
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            cursor = self._connection().execute(
                f"SELECT {_ROW_COLUMNS} FROM catalog{where} ORDER BY type_name, qualified_name",  # noqa: S608
                params,
            )
            return [CatalogRow(*row) for row in cursor.fetchall()]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{typeName: {status: n}}`` for everything in the catalog."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT type_name, status, COUNT(*) FROM catalog"
                    " GROUP BY type_name, status ORDER BY type_name"
                )
                .fetchall()
            )
        found: dict[str, dict[str, int]] = {}
        for type_name, status, count in rows:
            found.setdefault(type_name, {})[status] = int(count)
        return found

    def tag_names(self) -> list[str]:
        """Every Atlan tag name some entity carries (``classificationNames``), sorted."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT DISTINCT tag.value FROM catalog,"
                    " json_each(catalog.document, '$.classificationNames') AS tag"
                    " WHERE json_type(catalog.document, '$.classificationNames') = 'array' ORDER BY tag.value"
                )
                .fetchall()
            )
        return [str(row[0]) for row in rows if isinstance(row[0], str)]

    def tag_definition(self, name: str) -> dict[str, Any] | None:
        """The tag definition called ``name``, as the last tags file that named it described it."""
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT document FROM tag_definitions WHERE name = ?", (name,))
                .fetchone()
            )
        return None if row is None else dict(json.loads(row[0]))

    def tag_definitions(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._connection().execute("SELECT document FROM tag_definitions ORDER BY name").fetchall()
        return [json.loads(row[0]) for row in rows]

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT COUNT(*) FROM catalog").fetchone()[0])

    # -- writes ------------------------------------------------------------------------------

    def put(self, document: Mapping[str, Any]) -> None:
        """Insert or replace the entity with this document's guid. ``(typeName, qualifiedName)``
        must stay unique: ValueError (and nothing written) if another entity holds it."""
        values = _row_values(document)
        with self._lock:
            try:
                self._connection().execute(
                    "INSERT INTO catalog (guid, type_name, qualified_name, qn_folded, name, status, glossary,"
                    " document) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guid) DO UPDATE SET"
                    " type_name = excluded.type_name, qualified_name = excluded.qualified_name,"
                    " qn_folded = excluded.qn_folded, name = excluded.name, status = excluded.status,"
                    " glossary = excluded.glossary, document = excluded.document",
                    values,
                )
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"{values[1]} {values[2]!r} already exists with another guid") from exc

    def put_tag_definition(self, definition: Mapping[str, Any]) -> None:
        """Insert or replace the tag definition named ``definition["name"]``."""
        with self._lock:
            self._connection().execute(
                "INSERT INTO tag_definitions (name, document) VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                " SET document = excluded.document",
                (str(definition["name"]), json.dumps(definition, ensure_ascii=False, separators=(",", ":"))),
            )

    def purge(self, guid: str) -> bool:
        """Remove the entity for good (Atlan's hard delete); False if there was none."""
        with self._lock:
            cursor = self._connection().execute("DELETE FROM catalog WHERE guid = ?", (guid,))
            return cursor.rowcount > 0

    def reset(self) -> int:
        """Empty the catalog (and the tag definitions); the number of entities removed."""
        with self.transaction():
            self._connection().execute("DELETE FROM tag_definitions")
            cursor = self._connection().execute("DELETE FROM catalog")
            return cursor.rowcount
