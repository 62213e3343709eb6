"""Writing one file's rows to the catalog in batches, and counting what each row did.

Each batch of ``*_batch_size`` rows is one catalog transaction (``Catalog.transaction``). A row
whose value cannot be used fails its whole batch when ``*_fail_on_errors`` is on: the batch is
rolled back, every row of it is reported ``failed`` with the reason and the batch's id, and the
run will end Failed. With it off the value is dropped with a warning; a row that cannot be loaded
at all (its identity does not resolve) fails alone.

What a row did (AssetBatch, ImportResults; ../shared/atlan-csv-formats.md §7.1, §8):
``created``; ``updated``; ``restored`` when the asset was archived, or when the row changed
nothing (the package counts a row sent but neither created nor updated as restored);
``skipped`` when update-only handling met an asset that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.emulator.catalog import ACTIVE, DELETED, Catalog
from reconciler.emulator.imports.options import FileOptions
from reconciler.emulator.imports.report import FileReport, Problem, Report
from reconciler.emulator.imports.resolve import Resolver


class RowError(Exception):
    """A row that cannot be loaded, because of ``field`` (a column name) or of the row itself."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _BatchFailed(Exception):
    def __init__(self, line: int, error: RowError) -> None:
        super().__init__(error.message)
        self.line = line
        self.error = error


@dataclass
class Row:
    """One row of an input file, as the importers hand it to the loader."""

    line: int
    type_name: str
    qualified_name: str  # as written in the file
    name: str
    cells: list[str]
    preset: dict[str, Any] = field(default_factory=dict)  # attributes set besides the cells
    refs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (type, QN) references


@dataclass
class Written:
    """What building a row decided: the action, the primary document, related entities."""

    action: str  # created | updated | restored | skipped
    document: dict[str, Any]
    related: list[dict[str, Any]] = field(default_factory=list)
    write: bool = True
    related_done: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (action, document)


@dataclass(frozen=True)
class RunContext:
    catalog: Catalog
    report: Report
    now_ms: int
    username: str


def new_document(context: RunContext, type_name: str, qualified_name: str, name: str) -> dict[str, Any]:
    """A new entity, as Atlan's asset API returns one."""
    return {
        "typeName": type_name,
        "guid": str(uuid.uuid4()),
        "status": ACTIVE,
        "displayText": name,
        "attributes": {"qualifiedName": qualified_name, "name": name},
        "createTime": context.now_ms,
        "updateTime": context.now_ms,
        "createdBy": context.username,
        "updatedBy": context.username,
        "isIncomplete": False,
    }


def editable(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a stored document that can be changed without touching the original."""
    copy = dict(document)
    copy["attributes"] = dict(document.get("attributes") or {})
    if "businessAttributes" in document:
        copy["businessAttributes"] = {k: dict(v) for k, v in document["businessAttributes"].items()}
    return copy


def _essence(document: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        document.get("status"),
        document.get("attributes"),
        document.get("classificationNames"),
        document.get("classifications"),
        document.get("businessAttributes") or None,
    )


def outcome(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> tuple[str, bool]:
    """The action a row's document counts as, and whether it needs writing."""
    if before is None:
        return "created", True
    if before.get("status") == DELETED and after.get("status") == ACTIVE:
        return "restored", True
    if _essence(before) == _essence(after):
        return "restored", False  # sent, neither created nor updated: ImportResults says restored
    return "updated", True


class Loader:
    """Loads the rows of one file of a run."""

    def __init__(
        self,
        context: RunContext,
        file: FileReport,
        options: FileOptions,
        resolver: Resolver,
        *,
        quiet: bool = False,
    ) -> None:
        self.context = context
        self.quiet = quiet  # a second pass: problems were reported by the first
        self.file = file
        self.options = options
        self.resolver = resolver
        self.line = 0
        self._batches = 0
        self._rows_at: dict[int, int] = {}  # line -> its row in results.csv (for a second pass)

    @property
    def report(self) -> Report:
        return self.context.report

    def problem(self, line: int | None, message: str, field: str | None = None) -> Problem:
        return Problem(self.file.section, self.file.file, message, line=line, field=field)

    def on_problem(self, column: str, message: str) -> None:
        """A value that cannot be used: the row fails (fail on errors), or the value is dropped."""
        if self.quiet:
            return
        if self.options.fail_on_errors:
            raise RowError(message, column)
        self.report.warning(self.problem(self.line, f"{message} (value skipped)", column))

    def load(
        self,
        rows: Sequence[Row],
        build: Callable[[Row], Written],
        *,
        batch_size: int | None = None,
        counted: bool = True,
    ) -> list[tuple[Row, str]]:
        """Build and write ``rows`` in batches; each row's action. ``counted`` False: a second
        pass over rows already counted (only failures are reported)."""
        size = batch_size or self.options.batch_size
        actions: list[tuple[Row, str]] = []
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            self._batches += 1
            batch_id = f"{self.file.section}-{self._batches}"
            done: list[tuple[Row, Written | RowError]] = []
            try:
                with self.context.catalog.transaction():
                    for row in batch:
                        done.append((row, self._one(row, build)))
            except _BatchFailed as failed:
                self.resolver.rollback()
                self.report.error(self.problem(failed.line, failed.error.message, failed.error.field))
                for row in batch:
                    self._result(row, "failed", reason=failed.error.message, batch=batch_id)
                    actions.append((row, "failed"))
                continue
            self.resolver.commit()
            for row, written in done:
                actions.append((row, self._report(row, written, counted)))
        return actions

    def _one(self, row: Row, build: Callable[[Row], Written]) -> Written | RowError:
        self.line = row.line
        try:
            written = build(row)
            self._write(written)
        except RowError as exc:
            if self.options.fail_on_errors:
                raise _BatchFailed(row.line, exc) from exc
            self.report.warning(self.problem(row.line, f"{exc.message} (row not loaded)", exc.field))
            return exc
        return written

    def _write(self, written: Written) -> None:
        catalog = self.context.catalog
        try:
            if written.write and written.action != "skipped":
                catalog.put(self.stamped(written.document))
            for document in written.related:
                before = catalog.get(document["guid"])
                merged = self.merged_related(before, document)
                action, changed = outcome(before, merged)
                if changed:
                    catalog.put(self.stamped(merged))
                    written.related_done.append((action, merged))
        except ValueError as exc:  # another entity holds this identity
            raise RowError(str(exc)) from exc

    def stamped(self, document: dict[str, Any]) -> dict[str, Any]:
        document["updateTime"] = self.context.now_ms
        document["updatedBy"] = self.context.username
        document["displayText"] = document["attributes"].get("name", "")
        return document

    def merged_related(self, before: Mapping[str, Any] | None, document: Mapping[str, Any]) -> dict[str, Any]:
        """A related entity (README, link) as it will be stored."""
        attributes = document["attributes"]
        if before is None:
            created = new_document(self.context, document["typeName"], attributes["qualifiedName"], "")
            created["guid"] = document["guid"]
            created["attributes"] = dict(attributes)
            return created
        merged = editable(before)
        merged["attributes"].update(attributes)
        merged["status"] = document.get("status", ACTIVE)
        return merged

    def _report(self, row: Row, written: Written | RowError, counted: bool) -> str:
        if isinstance(written, RowError):
            self._result(row, "failed", reason=written.message)
            return "failed"
        document = written.document
        attributes = document["attributes"]
        if not counted:
            if written.action == "updated" and row.line in self._rows_at:
                self.report.promote(self.file, self._rows_at[row.line])  # the second pass changed it
        else:
            self._rows_at[row.line] = len(self.report.rows)
            self.report.row(
                self.file,
                written.action,
                document["typeName"],
                str(attributes.get("qualifiedName", "")),
                str(attributes.get("name", "")),
                "" if written.action == "skipped" else document["guid"],
            )
            for action, related in written.related_done:
                related_attributes = related["attributes"]
                self.report.row(
                    self.file,
                    "deleted" if related.get("status") == DELETED else action,
                    related["typeName"],
                    str(related_attributes.get("qualifiedName", "")),
                    str(related_attributes.get("name", "")),
                    related["guid"],
                    loaded_as="related",
                )
        return written.action

    def _result(self, row: Row, action: str, *, reason: str, batch: str = "") -> None:
        self.report.row(
            self.file, action, row.type_name, row.qualified_name, row.name, reason=reason, batch=batch
        )
