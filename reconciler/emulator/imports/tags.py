"""The tags file (../shared/atlan-csv-formats.md §5): Atlan tag definitions, known by name.

The emulator keeps each definition as the file describes it (``Catalog.tag_definition``): it has
no typedef API, and assets' ``atlanTags`` cells are accepted by name whether or not a definition
exists (the tenant may define tags the emulator never saw).
"""

from __future__ import annotations

from reconciler.emulator.imports.assets import missing_headers
from reconciler.emulator.imports.csvfile import Table, values
from reconciler.emulator.imports.load import Loader, Row, Written

NAME = "Atlan tag name"
# Header -> the definition's field (AtlanTagImporter's constants).
_FIELDS = {
    "Color": "color",
    "Icon": "icon",
    "Synced connection name": "syncedConnectionName",
    "Synced connector type": "syncedConnectorType",
    "Tag ID in source": "sourceTagId",
    "Account ID (dbt)": "dbtAccountId",
    "Project ID (dbt)": "dbtProjectId",
    "Schema path (Snowflake)": "snowflakeSchemaPath",
    "Description": "description",
    "description": "description",
}
TAG_TYPE = "AtlanTag"  # the Asset type results.csv gives a tag definition


def read_tags(table: Table) -> tuple[list[Row], list[int]]:
    """The rows that name a tag, and the lines of those that do not."""
    missing_headers(table, (NAME,))
    at = table.header.index(NAME)
    rows: list[Row] = []
    skipped: list[int] = []
    for line, cells in table.rows:
        if any(cells):
            if cells[at]:
                rows.append(Row(line, TAG_TYPE, cells[at], cells[at], cells))
            else:
                skipped.append(line)
    return rows, skipped


class TagLoader:
    def __init__(self, loader: Loader, header: tuple[str, ...]) -> None:
        self.loader = loader
        self.header = header

    def build(self, row: Row) -> Written:
        definition: dict[str, object] = {"name": row.name}
        for index, column in enumerate(self.header):
            cell = row.cells[index]
            if column in _FIELDS and cell:
                definition[_FIELDS[column]] = cell
            elif column == "Allowed values for tag" and cell:
                definition["allowedValues"] = values(cell)
        catalog = self.loader.context.catalog
        action = "created" if catalog.tag_definition(row.name) is None else "updated"
        catalog.put_tag_definition(definition)
        document = {
            "typeName": TAG_TYPE,
            "guid": "",
            "attributes": {"qualifiedName": row.name, "name": row.name},
        }
        return Written(action, document, write=False)
