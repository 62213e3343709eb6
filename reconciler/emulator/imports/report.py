"""What a run reports: counts per file, the first errors, and a package-style ``results.csv``.

The run's ``status.outputs`` carry one parameter, ``results``, a JSON text::

    {"files": [{"section": "assets", "store": "tenant", "key": "p/assets.csv", "created": 3,
                "updated": 1, "restored": 0, "skipped": 0, "failed": 0, "deleted": 0}],
     "errors": [{"section": "assets", "line": 4, "field": "certificateStatus", "message": "..."}],
     "warnings": [...same shape: values dropped with *_fail_on_errors false, rows skipped...],
     "results_csv": {"store": "tenant", "key": "argo-artifacts/<run>/results.csv"}}

``errors`` and ``warnings`` keep the first 20 each; a failed run's ``status.message`` is its first
error on one line: ``assets.csv line 4, column certificateStatus: <message>``. ``results.csv`` has
the package's exact header and one row per asset (``Importer.createResultsFile``, §8).
"""

from __future__ import annotations

import csv
import io
import posixpath
from dataclasses import dataclass, field
from typing import Any

RESULTS_HEADER = (
    "Action",
    "Asset type",
    "Qualified name",
    "Asset name",
    "Loaded as",
    "Failure reason",
    "Batch ID",
    "Asset GUID",
)
COUNTS = ("created", "updated", "restored", "skipped", "failed", "deleted")
KEPT = 20  # errors (and warnings) listed in the outputs; results.csv has every row


@dataclass(frozen=True)
class Problem:
    """One error or warning, at a line (the header is line 1) and column of an input file."""

    section: str
    file: str
    message: str
    line: int | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "line": self.line, "field": self.field, "message": self.message}

    def one_line(self) -> str:
        if not self.file and self.line is None:
            return " ".join(self.message.split())
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.field:
            where += f", column {self.field}" if self.line is not None else f" column {self.field}"
        return " ".join(f"{where}: {self.message}".split())


@dataclass
class FileReport:
    section: str
    store: str
    key: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    @property
    def file(self) -> str:
        return posixpath.basename(self.key) or self.key

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "store": self.store, "key": self.key, **self.counts}


@dataclass
class Report:
    """Everything one run reports, filled in as it goes."""

    files: list[FileReport] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)
    failed: bool = False

    def error(self, problem: Problem) -> None:
        self.failed = True
        if len(self.errors) < KEPT:
            self.errors.append(problem)

    def warning(self, problem: Problem) -> None:
        if len(self.warnings) < KEPT:
            self.warnings.append(problem)

    def row(
        self,
        file: FileReport,
        action: str,
        type_name: str,
        qualified_name: str,
        name: str,
        guid: str = "",
        *,
        loaded_as: str = "primary",
        reason: str = "",
        batch: str = "",
    ) -> None:
        """One line of results.csv; counted for its file unless it is a related entity."""
        if loaded_as != "related":
            file.counts[action] += 1
        self.rows.append((action, type_name, qualified_name, name, loaded_as, reason, batch, guid))

    def promote(self, file: FileReport, index: int) -> None:
        """A row counted ``restored`` (unchanged) that a second pass changed after all: ``updated``."""
        if self.rows[index][0] == "restored":
            self.rows[index] = ("updated", *self.rows[index][1:])
            file.counts["restored"] -= 1
            file.counts["updated"] += 1

    def message(self) -> str | None:
        return self.errors[0].one_line() if self.errors else None

    def to_json(self, results_store: str, results_key: str) -> dict[str, Any]:
        return {
            "files": [f.to_json() for f in self.files],
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
            "results_csv": {"store": results_store, "key": results_key},
        }

    def results_csv(self) -> bytes:
        out = io.StringIO()
        # CRLF: the csv module quotes only the line terminator's characters, and a lone CR in a
        # qualifiedName must be quoted too.
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(RESULTS_HEADER)
        writer.writerows(self.rows)
        return out.getvalue().encode()
