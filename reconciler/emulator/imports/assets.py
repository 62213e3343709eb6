"""The assets file (../shared/atlan-csv-formats.md §2, §7): its checks, its connection rows,
and every other row loaded one type at a time in the package's order.

Checks that fail the whole file before anything is loaded (the package's preprocessor throws):
the required headers; a typeName the SDK does not know, or one that belongs in the glossaries or
data products file; a qualifiedName that does not start with a connection's
(``default/<connectorType>/<digits>`` or a deferred ``{{connectorType/connectionName}}``) unless
``relaxed_cqn``; both ends of one relationship as headers. A row without typeName or
qualifiedName is skipped with a warning.

Connections come first, one a batch (``ConnectionImporter``): known by name and connector type,
reused when they exist, created otherwise (never in ``update`` mode).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.data.vocabulary import GLOSSARY_TYPES, MESH_TYPES, vocabulary
from reconciler.emulator.imports.cells import BOTH_ENDS, Columns
from reconciler.emulator.imports.csvfile import FileError, Table
from reconciler.emulator.imports.load import (
    Loader,
    Row,
    RowError,
    Written,
    editable,
    new_document,
    outcome,
)
from reconciler.emulator.imports.options import FileOptions
from reconciler.emulator.imports.resolve import CONNECTION, DEFERRED, CellError

REQUIRED = ("typeName", "qualifiedName", "name")
CONNECTION_QN = re.compile(r"default/([A-Za-z0-9-]+)/(\d+)")
_ASSET_QN = re.compile(r"default/[A-Za-z0-9-]+/\d+(/.*)?")
TABLE_TYPES = ("Table", "View", "MaterialisedView", "SnowflakeDynamicTable")
# AssetImporter.ordering, abridged: parents before children, lineage last; the types it does not
# list load after those it does and before columns, queries and lineage, which refer to them.
_ORDER = (
    "Connection", "Collection", "Folder", "Database", "Schema", "SnowflakeTag", "Procedure",
    "SnowflakePipe", "SnowflakeStream", *TABLE_TYPES, "CalculationView", "TablePartition",
    "S3Bucket", "S3Prefix", "S3Object", "ADLSAccount", "ADLSContainer", "ADLSObject", "GCSBucket",
    "GCSObject", "APISpec", "APIPath", "APIObject", "APIField", "TableauSite", "TableauProject",
    "TableauWorkbook", "TableauDatasource", "TableauWorksheet", "TableauDashboard",
    "PowerBIWorkspace", "PowerBIDataset", "PowerBITable", "PowerBIReport", "PowerBIDashboard",
    "PowerBIPage", "PowerBITile", "LookerProject", "LookerModel", "LookerExplore", "LookerView",
    "LookerDashboard", "LookerLook", "LookerTile",
)  # fmt: skip
_LATE = ("Column", "SnowflakeDynamicTableColumn", "Query")
_LINEAGE = ("Process", "DbtProcess", "BIProcess", "ColumnProcess", "DbtColumnProcess", "ConnectionProcess")


def type_rank(type_name: str) -> int:
    if type_name in _ORDER:
        return _ORDER.index(type_name)
    if type_name in _LATE:
        return len(_ORDER) + 1 + _LATE.index(type_name)
    if type_name in _LINEAGE:
        return len(_ORDER) + len(_LATE) + 1 + _LINEAGE.index(type_name)
    return len(_ORDER)


def check_both_ends(header: Iterable[str], type_hint: str) -> None:
    names = set(header)
    for one, other in BOTH_ENDS:
        if one in names and other in names:
            raise FileError(
                f"Both ends of the same relationship found in the input file for type {type_hint}: "
                f"{one} <> {other}",
                line=1,
            )


def missing_headers(table: Table, required: Iterable[str]) -> None:
    missing = [name for name in required if name not in table.header]
    if missing:
        raise FileError(
            f"Invalid input file received. Input CSV is missing required columns: [{', '.join(missing)}]",
            line=1,
        )


def typed_rows(
    table: Table, allowed: tuple[str, ...], refused: Callable[[str, str], str]
) -> tuple[list[Row], list[int]]:
    """The rows of a glossaries or data products file, known by typeName and name (their
    qualifiedName is ignored), and the lines of those without either (skipped). A typeName not
    ``allowed`` fails the file: ``refused(typeName, qualifiedName)`` says how."""
    missing_headers(table, ("typeName", "name"))
    rows: list[Row] = []
    skipped: list[int] = []
    for line, cells in table.rows:
        if not any(cells):
            continue
        type_name, name = table.cell(cells, "typeName"), table.cell(cells, "name")
        qualified_name = table.cell(cells, "qualifiedName")
        if type_name and type_name not in allowed:
            raise FileError(refused(type_name, qualified_name), line=line, field="typeName")
        if type_name and name:
            rows.append(Row(line, type_name, qualified_name, name, cells))
        else:
            skipped.append(line)
    return rows, skipped


def connection_of(qualified_name: str) -> str | None:
    """The connection part of an asset's qualifiedName: ``default/x/123`` or ``{{x/name}}``."""
    if qualified_name.startswith("{{"):
        match = DEFERRED.fullmatch(qualified_name)
        return qualified_name[: len(qualified_name) - len(match.group(3) or "")] if match else None
    match = CONNECTION_QN.match(qualified_name)
    return match.group(0) if match and _ASSET_QN.fullmatch(qualified_name) else None


@dataclass
class AssetsFile:
    """A checked assets file: its connection rows and its other rows in loading order."""

    columns: Columns
    connections: list[Row]
    rows: list[Row]  # sorted by type_rank, file order within a type
    skipped: list[int]  # lines of rows without typeName or qualifiedName


def read_assets(table: Table, options: FileOptions) -> AssetsFile:
    """Check an assets file as the package's preprocessor does; FileError for the first problem."""
    missing_headers(table, REQUIRED)
    check_both_ends(table.header, "assets")
    type_at, qn_at, name_at = (table.header.index(name) for name in REQUIRED)
    known = vocabulary().types
    connections: list[Row] = []
    rows: list[Row] = []
    skipped: list[int] = []
    for line, cells in table.rows:
        type_name, qualified_name = cells[type_at], cells[qn_at]
        if not any(cells):
            continue
        if not type_name or (not qualified_name and type_name != CONNECTION):
            skipped.append(line)
            continue
        _check_type(type_name, known, line)
        row = Row(line, type_name, qualified_name, cells[name_at], cells)
        if type_name == CONNECTION:
            if qualified_name and not _connection_qn(qualified_name):
                raise FileError(
                    f"Found a connection without a valid qualifiedName: {qualified_name} -- it must be of "
                    "the form 'default/connectorType/nnnnnnnnnn' or '{{connectorType/connectionName}}'",
                    line=line,
                    field="qualifiedName",
                )
            connections.append(row)
            continue
        if not options.relaxed_cqn and connection_of(qualified_name) is None:
            raise FileError(
                f"Found an asset without a valid qualifiedName (of type {type_name}): {qualified_name}",
                line=line,
                field="qualifiedName",
            )
        rows.append(row)
    rows.sort(key=lambda row: type_rank(row.type_name))  # stable: file order within a type
    if options.delta is not None:
        _one_connection(connections + rows)
    return AssetsFile(Columns(table.header, "assets"), connections, rows, skipped)


def _connection_qn(qualified_name: str) -> bool:
    if qualified_name.startswith("{{"):
        match = DEFERRED.fullmatch(qualified_name)
        return match is not None and not match.group(3)
    return CONNECTION_QN.fullmatch(qualified_name) is not None


def _check_type(type_name: str, known: frozenset[str], line: int) -> None:
    if type_name in GLOSSARY_TYPES:
        raise FileError(
            f"Found assets that should be loaded via the glossaries file, of types: [{type_name}]",
            line=line,
            field="typeName",
        )
    if type_name in MESH_TYPES:
        raise FileError(
            f"Found assets that should be loaded via the data products file, of types: [{type_name}]",
            line=line,
            field="typeName",
        )
    if type_name not in known:
        raise FileError(
            "Invalid types were supplied in the input file, which cannot be loaded. Remove these or "
            f"replace with a valid typeName: [{type_name}]",
            line=line,
            field="typeName",
        )


def _one_connection(rows: list[Row]) -> None:
    seen: set[str] = set()
    for row in rows:
        if not row.qualified_name:
            continue  # a connection row known by its name and type
        seen.add(connection_of(row.qualified_name) or row.qualified_name)
        if len(seen) > 1:
            raise FileError(
                "Assets in multiple connections detected in the input file. Full delta processing "
                "currently only works for a single connection per input file, exiting.",
                line=row.line,
                field="qualifiedName",
            )


class AssetBuilder:
    """Builds the document of one asset row (or of a row the lineage builder made)."""

    def __init__(self, loader: Loader, columns: Columns, *, semantic: str | None = None) -> None:
        self.loader = loader
        self.columns = columns
        self.options = loader.options
        self.semantic = semantic or loader.options.semantic
        self.resolver = loader.resolver

    def resolved_qn(self, row: Row) -> str:
        try:
            return self.resolver.qualified_name(row.qualified_name)
        except CellError as exc:
            raise RowError(str(exc), "qualifiedName") from exc

    def find(self, type_name: str, qualified_name: str) -> dict[str, Any] | None:
        types: tuple[str, ...] = (type_name,)
        if self.options.table_view_agnostic and type_name in TABLE_TYPES:
            types += tuple(t for t in TABLE_TYPES if t != type_name)
        return self.resolver.asset(types, qualified_name)

    def build(self, row: Row) -> Written:
        qualified_name = self.resolved_qn(row)
        before = self.find(row.type_name, qualified_name)
        if before is None and self.semantic != "update" and not row.name:
            raise RowError("a new asset needs a name", "name")
        return self.upsert(row, before, row.type_name, lambda: qualified_name)

    def upsert(
        self, row: Row, before: dict[str, Any] | None, type_name: str, new_qn: Callable[[], str]
    ) -> Written:
        """Update ``before``, or create the row's entity (qualifiedName from ``new_qn``), or skip
        it when update-only handling finds none."""
        if before is not None:
            return self.finish(row, before, editable(before))
        document = new_document(self.loader.context, type_name, new_qn(), row.name)
        if self.semantic == "update":
            return Written("skipped", document, write=False)
        if self.semantic == "partial" and type_name != CONNECTION:
            document["attributes"]["isPartial"] = True
        return self.finish(row, None, document)

    def finish(self, row: Row, before: dict[str, Any] | None, document: dict[str, Any]) -> Written:
        """Set the row's values on ``document`` and decide what the row did."""
        document["status"] = "ACTIVE"  # a row without a status restores an archived asset
        attributes = document["attributes"]
        attributes.update(row.preset)
        for name, references in row.refs.items():
            attributes[name] = self.references(name, references)
        related: list[dict[str, Any]] = []
        self.columns.apply(
            document,
            row.cells,
            resolver=self.resolver,
            on_problem=self.loader.on_problem,
            remove_if_empty=self.options.remove_if_empty,
            tag_handling=self.options.tag_handling,
            cm_handling=self.options.cm_handling,
            related_out=related,
        )
        if document["typeName"] != CONNECTION:
            _fill_connection(attributes)
        action, write = outcome(before, document)
        return Written(action, document, related, write)

    def references(self, field: str, references: list[tuple[str, str]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for type_name, qualified_name in references:
            try:
                found.append(self.resolver.reference(type_name, qualified_name))
            except CellError as exc:
                self.loader.on_problem(field, str(exc))
        return found


def _fill_connection(attributes: dict[str, Any]) -> None:
    """connectionQualifiedName and connectorName from the qualifiedName, when the file left them
    out, so that the catalog can be searched by connection."""
    match = CONNECTION_QN.match(str(attributes.get("qualifiedName", "")))
    if match is None:
        return
    attributes.setdefault("connectionQualifiedName", match.group(0))
    attributes.setdefault("connectorName", match.group(1))


class ConnectionBuilder:
    """A connection row: known by name and connector type (ConnectionImporter)."""

    def __init__(self, assets: AssetBuilder, table_header: tuple[str, ...], clock_seconds: Callable[[], int]):
        self.assets = assets
        self.header = table_header
        self.clock_seconds = clock_seconds

    def identity(self, row: Row) -> tuple[str, str]:
        connector = ""
        name = row.name
        match = DEFERRED.fullmatch(row.qualified_name) if row.qualified_name.startswith("{{") else None
        if match is not None:
            connector, name = match.group(1), name or match.group(2)
        elif (literal := CONNECTION_QN.fullmatch(row.qualified_name)) is not None:
            connector = literal.group(1)
        else:
            for column in ("connectorType", "customConnectorType", "connectorName"):
                if column in self.header and row.cells[self.header.index(column)]:
                    connector = row.cells[self.header.index(column)]
                    break
        if not connector or not name:
            raise RowError("a connection needs a name and a connector type", "qualifiedName")
        return connector.lower(), name

    def build(self, row: Row) -> Written:
        connector, name = self.identity(row)
        before = self.assets.resolver.connection(connector, name)
        row.name = name
        written = self.assets.upsert(row, before, CONNECTION, lambda: self.new_qualified_name(row, connector))
        if before is None and written.action == "created":
            written.document["attributes"].setdefault("connectorName", connector)
            self.assets.resolver.remember(("connection", connector, name), written.document)
        return written

    def new_qualified_name(self, row: Row, connector: str) -> str:
        """The row's own ``default/<type>/<digits>`` if free; else one made from the clock."""
        catalog = self.assets.resolver.catalog
        if (
            CONNECTION_QN.fullmatch(row.qualified_name)
            and catalog.find(CONNECTION, row.qualified_name) is None
        ):
            return row.qualified_name
        seconds = self.clock_seconds()
        while catalog.find(CONNECTION, f"default/{connector}/{seconds}") is not None:
            seconds += 1
        return f"default/{connector}/{seconds}"
