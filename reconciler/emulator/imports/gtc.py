"""The glossaries file (../shared/atlan-csv-formats.md §3): glossaries, then categories level by
level from the top, then terms, each known by name and path, never by the qualifiedName column.

- a glossary is known by ``name``; created with a 21-character qualifiedName;
- a category by its glossary (``anchor``, a glossary name), its parent (``parentCategory``,
  ``Parent@Child@@@Glossary``) and ``name``; created as ``<id>@<glossary QN>``;
- a term by ``name`` within its glossary (``anchor``); created as ``<id>@<glossary QN>``.

Terms are loaded in two passes, as the package loads one end of a relationship (AbstractBase-
Importer): first without their term-to-term columns, then those columns alone, so that terms of
one file can refer to each other. A reference must name a term that exists or that the file
defines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.emulator.imports.assets import AssetBuilder, check_both_ends, missing_headers, typed_rows
from reconciler.emulator.imports.cells import TERM_FIELDS, Columns
from reconciler.emulator.imports.csvfile import Table, values
from reconciler.emulator.imports.load import Loader, Row, RowError, Written
from reconciler.emulator.imports.resolve import (
    CATEGORY,
    GLOSSARY,
    TERM,
    CellError,
    new_id,
    related,
    split_category_path,
    split_term,
)

_TYPES = (GLOSSARY, CATEGORY, TERM)


@dataclass
class GlossariesFile:
    header: tuple[str, ...]
    glossaries: list[Row]
    categories: list[list[Row]]  # by depth: top-level categories first
    terms: list[Row]
    skipped: list[int]


def read_glossaries(table: Table) -> GlossariesFile:
    rows, skipped = typed_rows(
        table,
        _TYPES,
        lambda type_name, _qn: (
            f"Found non-glossary assets that should be loaded via another file, of types: [{type_name}]"
        ),
    )
    check_both_ends(table.header, TERM)
    if any(row.type_name != GLOSSARY for row in rows):
        missing_headers(table, ("anchor",))  # categories and terms name their glossary
    levels: dict[int, list[Row]] = {}
    for row in rows:
        if row.type_name == CATEGORY:
            parent = table.cell(row.cells, "parentCategory")
            levels.setdefault(parent.partition("@@@")[0].count("@") + 1 if parent else 0, []).append(row)
    return GlossariesFile(
        table.header,
        [row for row in rows if row.type_name == GLOSSARY],
        [levels[depth] for depth in sorted(levels)],
        [row for row in rows if row.type_name == TERM],
        skipped,
    )


class GlossaryLoader:
    """Loads a checked glossaries file in the package's order."""

    def __init__(self, loader: Loader, source: GlossariesFile) -> None:
        self.loader = loader
        self.source = source
        self.resolver = loader.resolver
        header = source.header
        term_columns = [name for name in header if name in TERM_FIELDS]
        self.plain = AssetBuilder(
            loader, Columns(header, "glossaries", exclude=[*term_columns, "categories"])
        )
        self.term = AssetBuilder(loader, Columns(header, "glossaries", exclude=term_columns))
        self.links = Columns(header, "glossaries").only(term_columns)
        self.defined = {(row.name, self._cell(row, "anchor")) for row in source.terms}

    def _cell(self, row: Row, column: str) -> str:
        index = self.source.header.index(column) if column in self.source.header else None
        return row.cells[index] if index is not None else ""

    def load(self, second_pass: Loader) -> None:
        self.loader.load(self.source.glossaries, self.build_glossary)
        for level in self.source.categories:
            self.loader.load(level, self.build_category)
        loaded = self.loader.load(self.source.terms, self.build_term)
        # The term-to-term columns, now that every term of the file exists (values the first
        # pass found wanting were reported there: the second pass drops them quietly).
        linking = AssetBuilder(second_pass, self.links)
        rows = [
            row
            for row, action in loaded
            if action in ("created", "updated", "restored")
            and any(row.cells[column.index] for column in self.links.columns)
        ]
        second_pass.load(rows, lambda row: self.build_term(row, linking), counted=False)

    def build_glossary(self, row: Row) -> Written:
        before = self.resolver.glossary(row.name)
        return self.plain.upsert(row, before, GLOSSARY, new_id)

    def _glossary(self, row: Row) -> dict[str, Any]:
        anchor = self._cell(row, "anchor")
        glossary = self.resolver.glossary(anchor) if anchor else None
        if glossary is None:
            raise RowError(f"Parent glossary not found: {anchor!r}", "anchor")
        return glossary

    def build_category(self, row: Row) -> Written:
        glossary = self._glossary(row)
        path: list[str] = []
        parent = None
        if parent_path := self._cell(row, "parentCategory"):
            try:
                path, glossary_name = split_category_path(parent_path)
                parent_glossary = self.resolver.glossary(glossary_name)
                parent = self.resolver.category(path, parent_glossary) if parent_glossary else None
            except CellError as exc:
                raise RowError(str(exc), "parentCategory") from exc
            if parent is None:
                raise RowError(f"Parent category not found: {parent_path!r}", "parentCategory")
        before = self.resolver.category([*path, row.name], glossary)
        row.preset["anchor"] = related(glossary)
        if parent is not None:
            row.preset["parentCategory"] = related(parent)
        glossary_qn = glossary["attributes"]["qualifiedName"]
        return self.plain.upsert(row, before, CATEGORY, lambda: f"{new_id()}@{glossary_qn}")

    def build_term(self, row: Row, builder: AssetBuilder | None = None) -> Written:
        glossary = self._glossary(row)
        before = self.resolver.term_named(row.name, self._cell(row, "anchor"))
        if builder is None:  # first pass: check the references the second pass will set
            self._check_references(row)
        row.preset["anchor"] = related(glossary)
        glossary_qn = glossary["attributes"]["qualifiedName"]
        return (builder or self.term).upsert(row, before, TERM, lambda: f"{new_id()}@{glossary_qn}")

    def _check_references(self, row: Row) -> None:
        for column in self.links.columns:
            for value in values(row.cells[column.index]):
                reference = value[2:].strip() if value.startswith(("++", "--")) else value
                try:
                    name, glossary = split_term(reference)
                except CellError as exc:
                    self.loader.on_problem(column.name, str(exc))
                    continue
                if (name, glossary) not in self.defined and self.resolver.term_named(name, glossary) is None:
                    self.loader.on_problem(column.name, f"Term not found (in {column.name}): {reference}")
