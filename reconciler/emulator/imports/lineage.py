"""The lineage builder's file (../shared/atlan-csv-formats.md §9): per row a source and a target
asset and the ``Process`` between them.

As the newer generation of the package does (``AssetXformer``/``LineageXformer``), the rows are
turned into asset rows and loaded like an assets file: first the sources and targets
(``<connection QN>/<Identity>``, the connection found by connector type and name; created
partial or full, or skipped, per ``lineage_upsert_semantic``), one type at a time; then one
``Process`` per Transformation Identity (``<connection QN>/<Transformation Identity>``), always
created full, with ``inputs`` and ``outputs``. Rows sharing a Transformation Identity give one
process with the union of their inputs and outputs (the package's behaviour here is not
established; a union loses no edge). Other columns are attributes of the process, decoded as
the asset import decodes them. A completely blank row is skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reconciler.data.vocabulary import LINEAGE_COLUMNS, vocabulary
from reconciler.emulator.imports.assets import AssetBuilder, missing_headers, type_rank
from reconciler.emulator.imports.cells import Columns
from reconciler.emulator.imports.csvfile import Table
from reconciler.emulator.imports.load import Loader, Row, RowError, Written, new_document

PROCESS = "Process"
_ROLES = ("Source", "Target", "Transformation")


@dataclass
class Edge:
    """One row: what each of its three parts names."""

    line: int
    cells: list[str]
    parts: dict[str, dict[str, str]]  # role -> {"Type", "Connector", "Connection", "Identity", "Name"}

    def deferred(self, role: str) -> str:
        part = self.parts[role]
        return f"{{{{{part['Connector'].lower()}/{part['Connection']}}}}}/{part['Identity']}"


def read_lineage(table: Table) -> list[Edge]:
    missing_headers(table, LINEAGE_COLUMNS)
    edges: list[Edge] = []
    for line, cells in table.rows:
        if not any(cells):
            continue
        parts = {
            role: {
                field: cells[table.header.index(f"{role} {field}")]
                for field in ("Type", "Connector", "Connection", "Identity", "Name")
                if f"{role} {field}" in table.header
            }
            for role in _ROLES
        }
        edges.append(Edge(line, cells, parts))
    return edges


class LineageLoader:
    def __init__(self, loader: Loader, header: tuple[str, ...], edges: list[Edge]) -> None:
        self.loader = loader
        self.edges = edges
        self.endpoints = AssetBuilder(loader, Columns((), "assets"))
        # Processes are always created full, whatever the handling of unknown sources and targets.
        extra = [name for name in header if name not in LINEAGE_COLUMNS]
        self.processes = AssetBuilder(loader, Columns(header, "assets").only(extra), semantic="upsert")
        self._parts: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}

    def load(self) -> None:
        endpoints: dict[tuple[str, str], Row] = {}
        for edge in self.edges:
            for role in ("Source", "Target"):
                part = edge.parts[role]
                key = (part["Type"], edge.deferred(role))
                if key not in endpoints:
                    endpoints[key] = Row(edge.line, *key, part.get("Name", ""), edge.cells)
                    self._parts[key] = (role, part)
        ordered = sorted(endpoints.values(), key=lambda row: type_rank(row.type_name))
        loaded = {
            (row.type_name, row.qualified_name): action
            for row, action in self.loader.load(ordered, self.build_endpoint)
        }
        self.loader.load(self._processes(loaded), self.build_process)

    def build_process(self, row: Row) -> Written:
        _check_part(
            "Transformation", self._parts[(PROCESS, row.qualified_name)][1], ("Connector", "Connection")
        )
        if not row.refs["inputs"] or not row.refs["outputs"]:  # its sources or targets were skipped
            stub = new_document(self.loader.context, PROCESS, self.processes.resolved_qn(row), row.name)
            return Written("skipped", stub, write=False)
        return self.processes.build(row)

    def build_endpoint(self, row: Row) -> Written:
        role, part = self._parts[(row.type_name, row.qualified_name)]
        _check_part(role, part)
        try:
            return self.endpoints.build(row)
        except RowError as exc:
            if exc.field in ("qualifiedName", "name"):
                field = "Connection" if exc.field == "qualifiedName" else "Name"
                raise RowError(exc.message, f"{role} {field}") from exc
            raise

    def _processes(self, loaded: dict[tuple[str, str], str]) -> list[Row]:
        """One process row per Transformation Identity, its edges' inputs and outputs united."""
        processes: dict[str, Row] = {}
        for edge in self.edges:
            part = edge.parts["Transformation"]
            identity = part["Identity"] or _digest(edge)
            qualified_name = (
                f"{{{{{part['Connector'].lower()}/{part['Connection']}}}}}/{identity}"
                if part["Connector"] and part["Connection"]
                else ""
            )
            row = processes.get(qualified_name)
            if row is None:
                row = processes[qualified_name] = Row(
                    edge.line, PROCESS, qualified_name, part.get("Name", ""), list(edge.cells)
                )
                row.refs.update(inputs=[], outputs=[])
                if row.name:  # the file owns its processes: their name follows it
                    row.preset["name"] = row.name
                self._parts[(PROCESS, qualified_name)] = ("Transformation", part)
            else:  # a later row of the same process: its non-blank values win
                row.cells = [new or old for old, new in zip(row.cells, edge.cells, strict=True)]
            for role, field in (("Source", "inputs"), ("Target", "outputs")):
                key = (edge.parts[role]["Type"], edge.deferred(role))
                if loaded.get(key) in ("created", "updated", "restored") and key not in row.refs[field]:
                    row.refs[field].append(key)
                elif loaded.get(key) == "skipped":
                    message = f"the {role.lower()} {key[1]} was skipped: its edge is left out"
                    self.loader.report.warning(self.loader.problem(edge.line, message))
        return list(processes.values())


def _check_part(
    role: str, part: dict[str, str], fields: tuple[str, ...] = ("Type", "Connector", "Connection", "Identity")
) -> None:
    for field in fields:
        if not part.get(field):
            raise RowError(f"{role} {field} is required", f"{role} {field}")
    if "Type" in fields and part["Type"] not in vocabulary().types:
        raise RowError(f"unknown typeName {part['Type']!r}", f"{role} Type")


def _digest(edge: Edge) -> str:
    """A process without an identity is named after its edge (LineageProcess.generateQualifiedName)."""
    text = "|".join((edge.deferred("Source"), edge.deferred("Target")))
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
