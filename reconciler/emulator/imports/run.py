"""Carrying out one asset-import or lineage-builder run: read its files from the object stores
(the objects ``status.inputs`` noted, inputs.py), check them, load them into the catalog in the
package's order, and report (../shared/atlan-csv-formats.md §7.9, §8).

Every file is read and checked before anything is written: a file-level problem (a missing
file, a broken quote, a missing header, an unknown typeName...) fails the run with nothing
loaded. Then: the assets file's connections, tags, glossaries (a failure stops the run here),
data products (likewise), the connections' term and domain columns, the other assets, and with
full replacement the deletions. The run's ``results.csv`` goes to the tenant store at
``argo-artifacts/<run name>/results.csv``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from reconciler.emulator.catalog import Catalog
from reconciler.emulator.imports.assets import (
    AssetBuilder,
    AssetsFile,
    ConnectionBuilder,
    connection_of,
    read_assets,
)
from reconciler.emulator.imports.cells import Columns
from reconciler.emulator.imports.csvfile import FileError, Table, read_table
from reconciler.emulator.imports.delta import FullReplacement
from reconciler.emulator.imports.gtc import GlossaryLoader, read_glossaries
from reconciler.emulator.imports.lineage import LineageLoader, read_lineage
from reconciler.emulator.imports.load import Loader, RunContext
from reconciler.emulator.imports.mesh import ProductLoader, read_products
from reconciler.emulator.imports.options import (
    ASSET_IMPORT,
    ASSET_SECTIONS,
    LINEAGE_BUILDER,
    FileOptions,
    asset_import_options,
    lineage_options,
)
from reconciler.emulator.imports.report import FileReport, Problem, Report
from reconciler.emulator.imports.resolve import CellError, Resolver
from reconciler.emulator.imports.tags import TagLoader, read_tags
from reconciler.emulator.inputs import parameters
from reconciler.emulator.objects import TENANT, ObjectProblem, ObjectStore
from reconciler.emulator.runs import FAILED, SUCCEEDED

_TEMPLATES = {"csa-asset-import": ASSET_IMPORT, "csa-lineage-builder": LINEAGE_BUILDER}
_PACKAGES = {"@csa/asset-import": ASSET_IMPORT, "@csa/lineage-builder": LINEAGE_BUILDER}
_LATER = ("assignedTerms", "domainGUIDs")  # a connection's columns loaded after glossaries and products
_NO_FILE = "No input file was provided for either data products, glossaries, assets or tags."


def package_of(spec: Any) -> str | None:
    """``asset-import`` or ``lineage-builder`` for a workflow of those packages, else None."""
    if not isinstance(spec, Mapping):
        return None
    annotations = (spec.get("workflowMetadata") or {}).get("annotations") or {}
    if isinstance(annotations, Mapping) and annotations.get("package.argoproj.io/name") in _PACKAGES:
        return _PACKAGES[annotations["package.argoproj.io/name"]]
    for template in spec.get("templates") or []:
        tasks = (
            ((template or {}).get("dag") or {}).get("tasks") or [] if isinstance(template, Mapping) else []
        )
        for task in tasks:
            reference = task.get("templateRef") if isinstance(task, Mapping) else None
            if isinstance(reference, Mapping) and reference.get("name") in _TEMPLATES:
                return _TEMPLATES[reference["name"]]
    return None


@dataclass(frozen=True)
class Execution:
    """How a run ended, and what its status shows once final."""

    phase: str  # Succeeded or Failed
    results: dict[str, Any]
    message: str | None

    def stored(self) -> dict[str, Any]:
        """What the run keeps: its outputs and, when it failed, its message."""
        value = json.dumps(self.results, ensure_ascii=False, separators=(",", ":"))
        stored: dict[str, Any] = {"outputs": {"parameters": [{"name": "results", "value": value}]}}
        if self.message is not None:
            stored["message"] = self.message
        return stored


def execute(
    run_name: str,
    source: Mapping[str, Any],
    *,
    objects: ObjectStore,
    catalog: Catalog,
    now: float,
    username: str,
) -> Execution:
    """Carry out the run whose stored document is ``source``."""
    status = source.get("status") or {}
    spec = status.get("storedWorkflowTemplateSpec") or {}
    context = RunContext(catalog, Report(), int(now * 1000), username)
    run = _Run(spec, status.get("inputs") or [], objects, context, now)
    try:
        if package_of(spec) == LINEAGE_BUILDER:
            run.lineage()
        else:
            run.asset_import()
    except _Failed as failed:
        run.report.error(failed.problem)
    key = f"argo-artifacts/{run_name}/results.csv"
    objects.write(TENANT, key, run.report.results_csv())
    return Execution(
        FAILED if run.report.failed else SUCCEEDED, run.report.to_json(TENANT, key), run.report.message()
    )


class _Failed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Read(NamedTuple):
    """One file of an asset-import run, read and checked."""

    file: FileReport
    options: FileOptions
    table: Table
    parsed: Any  # what the section's reader made of it


class _Run:
    def __init__(
        self,
        spec: Any,
        inputs: list[Mapping[str, Any]],
        objects: ObjectStore,
        context: RunContext,
        now: float,
    ) -> None:
        self.params = parameters(spec)
        self.inputs = {str(item.get("section")): item for item in inputs if isinstance(item, Mapping)}
        self.objects = objects
        self.context = context
        self.report = context.report
        self.now = now

    def _file(self, section: str) -> FileReport:
        item = self.inputs[section]
        file = FileReport(section, str(item.get("store", "")), str(item.get("key", "")))
        self.report.files.append(file)
        return file

    def _read(self, file: FileReport, options_of: Callable[[], FileOptions]) -> tuple[FileOptions, Table]:
        """The file's options and its parsed table; _Failed for a file-level problem."""
        try:
            options = options_of()
            return options, read_table(
                self._bytes(file), separator=options.separator, encoding=options.encoding
            )
        except FileError as exc:
            raise self.failed(file, exc) from exc

    def failed(self, file: FileReport, exc: FileError) -> _Failed:
        return _Failed(Problem(file.section, file.file, exc.message, line=exc.line, field=exc.field))

    def _bytes(self, file: FileReport) -> bytes:
        if self.inputs[file.section].get("state") == "unknown":
            raise FileError(
                f"no input file: the emulator knows no object store {file.store!r} for cloud_source"
            )
        opened = self.objects.open(file.store, file.key)
        if opened is None:
            raise FileError(f"No input file found at {file.store}:{file.key}")
        with opened[1] as handle:
            return handle.read()

    def _skipped(self, file: FileReport, lines: list[int], what: str) -> None:
        for line in lines:
            self.report.warning(Problem(file.section, file.file, f"{what}: row skipped", line=line))

    def _loader(self, file: FileReport, options: FileOptions, *, quiet: bool = False) -> Loader:
        resolver = Resolver(self.context.catalog, case_sensitive=options.case_sensitive)
        return Loader(self.context, file, options, resolver, quiet=quiet)

    # -- asset import ------------------------------------------------------------------------------

    def asset_import(self) -> None:
        present = [section for section in ASSET_SECTIONS if section in self.inputs]
        if not present:
            raise _Failed(Problem("", "", _NO_FILE))
        read: dict[str, _Read] = {}
        for section in present:  # every file checked before anything is written
            file = self._file(section)
            options, table = self._read(file, functools.partial(asset_import_options, self.params, section))
            try:
                read[section] = _Read(file, options, table, self._parse(section, table, options))
            except FileError as exc:
                raise self.failed(file, exc) from exc
        assets = read.get("assets")
        if assets is not None:
            self._connections(assets, exclude=_LATER)
        if (tags := read.get("tags")) is not None:
            loader = self._loader(tags.file, tags.options)
            loader.load(tags.parsed, TagLoader(loader, tags.table.header).build)
        for section in ("glossaries", "data_products"):
            if (found := read.get(section)) is not None:
                loader = self._loader(found.file, found.options)
                if section == "glossaries":
                    second_pass = self._loader(found.file, found.options, quiet=True)
                    GlossaryLoader(loader, found.parsed).load(second_pass)
                else:
                    ProductLoader(loader, found.parsed).load()
                if self.report.failed:
                    return  # the package exits here (1 for glossaries, 2 for data products)
        if assets is not None:
            self._connections(assets, only=_LATER)
            self._assets(assets)

    def _parse(self, section: str, table: Table, options: FileOptions) -> Any:
        if section == "assets":
            parsed: AssetsFile = read_assets(table, options)
            self._skipped(self.report.files[-1], parsed.skipped, "No qualifiedName or typeName found on row")
            return parsed
        if section == "tags":
            rows, skipped = read_tags(table)
            self._skipped(self.report.files[-1], skipped, "No tag name found on row")
            return rows
        found = read_glossaries(table) if section == "glossaries" else read_products(table)
        self._skipped(self.report.files[-1], found.skipped, "No typeName or name found on row")
        return found

    def _connections(
        self, assets: _Read, *, exclude: tuple[str, ...] = (), only: tuple[str, ...] = ()
    ) -> None:
        """The file's connection rows, one a batch; ``only`` a second pass over some columns."""
        header = assets.table.header
        columns = Columns(header, "assets", exclude=exclude)
        rows = assets.parsed.connections
        if only:
            columns = columns.only(only)
            if not columns.columns:
                return
            rows = [row for row in rows if any(row.cells[c.index] for c in columns.columns)]
        loader = self._loader(assets.file, assets.options, quiet=bool(only))
        builder = ConnectionBuilder(AssetBuilder(loader, columns), header, lambda: int(self.now))
        loader.load(rows, builder.build, batch_size=1, counted=not only)

    def _assets(self, assets: _Read) -> None:
        file, options, table, parsed = assets
        loader = self._loader(file, options)
        builder = AssetBuilder(loader, parsed.columns)
        delta = self._delta(loader, options, table, parsed)
        rows = parsed.rows
        if delta is not None:
            rows = [row for row in rows if delta.changed(row, self._resolved(loader, row))]
        # One batch holds one type (the package loads a type at a time).
        start = 0
        while start < len(rows):
            end = start
            while end < len(rows) and rows[end].type_name == rows[start].type_name:
                end += 1
            loader.load(rows[start:end], builder.build)
            start = end
        if delta is not None:
            delta.delete(loader)
            if not file.counts["failed"]:  # a failed load is no baseline for the next one
                delta.keep(self.now)

    @staticmethod
    def _resolved(loader: Loader, row: Any) -> str:
        try:
            return loader.resolver.qualified_name(row.qualified_name)
        except CellError:
            return str(row.qualified_name)

    def _delta(
        self, loader: Loader, options: FileOptions, table: Table, parsed: AssetsFile
    ) -> FullReplacement | None:
        everything = parsed.connections + parsed.rows
        first = next((row for row in everything if row.qualified_name), None)
        if options.delta is None or first is None:
            return None
        try:
            connection = loader.resolver.qualified_name(
                connection_of(first.qualified_name) or first.qualified_name
            )
            delta = FullReplacement(options.delta, self.objects, connection, table.header)
        except (CellError, ObjectProblem) as exc:  # no such connection; a prefix no key can hold
            loader.report.warning(loader.problem(first.line, f"{exc}: nothing deleted", "qualifiedName"))
            return None
        for row in everything:
            delta.note(row, self._resolved(loader, row))
        return delta

    # -- lineage builder -----------------------------------------------------------------------------

    def lineage(self) -> None:
        if "lineage" not in self.inputs:
            raise _Failed(Problem("lineage", "", "No input file was provided (lineage_prefix, lineage_key)."))
        file = self._file("lineage")
        options, table = self._read(file, lambda: lineage_options(self.params))
        try:
            edges = read_lineage(table)
        except FileError as exc:
            raise self.failed(file, exc) from exc
        LineageLoader(self._loader(file, options), table.header, edges).load()
