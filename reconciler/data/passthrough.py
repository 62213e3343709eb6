"""A file already in the package's format: read as the package reads it, checked, passed on.

Byte for byte: what is committed is what is uploaded, and its digest is that of the file. It is
read as FastCSV reads it (RFC 4180 with the section's field separator, UTF-8 with or without a
byte-order mark, blank lines skipped, header names and cells trimmed, every row the header's
field count; ../shared/atlan-csv-formats.md §1) and checked as a rendered file is: the header's
columns, the cells every row needs, typeNames, cell encodings, and no identity twice.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from reconciler.data.checks import RAGGED, RowChecker
from reconciler.data.options import Section
from reconciler.data.problems import Problems
from reconciler.data.render import Ledger, RenderedFile, report_repeats
from reconciler.data.tokenizer import trim, undecodable_line
from reconciler.data.vocabulary import SECTION_SPECS, SectionSpec
from reconciler.data.writer import check_separator

_COPY = 1 << 20


def passthrough(
    source: Path,
    section: Section,
    *,
    field_separator: str = ",",
    sink: IO[bytes] | None = None,
    display: str | None = None,
) -> RenderedFile:
    """Check ``source`` as ``section``'s file; its bytes go to ``sink`` (or come back in ``data``)
    unchanged. ``DataError`` lists every problem, at ``display``:line and column name."""
    check_separator(field_separator)
    problems = Problems(display or str(source))
    spec = SECTION_SPECS[section]
    ledger = Ledger()
    reader = _Reader(source, spec, field_separator, problems)
    reader.run(lambda line, identity: ledger.extend([identity]))
    repeated = ledger.repeated()
    if repeated:
        seen: list[tuple[int, int, object]] = []

        def keep(line: int, identity: object) -> None:
            if hash(identity) in repeated:
                seen.append((0, line, identity))

        _Reader(source, spec, field_separator, Problems(problems.display)).run(keep)
        report_repeats(seen, spec, reader.header, problems)
    problems.raise_any()
    digest = hashlib.sha256()
    size = 0
    chunks = []
    with source.open("rb") as binary:
        while chunk := binary.read(_COPY):
            digest.update(chunk)
            size += len(chunk)
            if sink is not None:
                sink.write(chunk)
            else:
                chunks.append(chunk)
    data = b"".join(chunks) if sink is None else None
    return RenderedFile(section, reader.header, reader.rows, size, digest.hexdigest(), data)


class _Reader:
    def __init__(self, source: Path, spec: SectionSpec, separator: str, problems: Problems) -> None:
        self.source = source
        self.spec = spec
        self.separator = separator
        self.problems = problems
        self.header: tuple[str, ...] = ()
        self.rows = 0
        self._line = 0  # the last line read

    def run(self, on_row: Callable[[int, object], None]) -> None:
        try:
            records = self._records()
            first = next(records, None)
            if first is None:
                self.problems.add(1, "", "the file is empty: it needs at least a header row")
                return
            line, names = first
            self.header = tuple(trim(name) for name in names)
            if not self._header_fits(line):
                return
            checker = RowChecker(self.spec, self.header)
            identity = [self.header.index(column) for column in self.spec.identity if column in self.header]
            for line, fields in records:
                if len(fields) != len(self.header):
                    self.problems.add(line, "", RAGGED.format(len(fields), len(self.header)))
                    continue
                row = [trim(field) for field in fields]
                found = checker.problems(row)
                for column, message in found:
                    self.problems.add(line, column, message)
                if not found:
                    self.rows += 1
                    on_row(line, tuple(row[index] for index in identity))
        except csv.Error as exc:
            self.problems.add(self._line + 1, "", f"not valid CSV: {exc}")
        except UnicodeDecodeError as exc:
            line = undecodable_line(self.source, "utf-8-sig")
            self.problems.add(line, "", f"not valid UTF-8: {exc.reason}")
        except OSError as exc:
            self.problems.add(0, "", f"cannot read: {exc.strerror or exc}")

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        self._line = 0
        with self.source.open(encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(text, delimiter=self.separator, quotechar='"', doublequote=True, strict=True)
            for fields in reader:
                start, self._line = self._line + 1, reader.line_num
                if fields:  # FastCSV skips empty lines
                    yield start, fields

    def _header_fits(self, line: int) -> bool:
        fits = True
        for index, column in enumerate(self.header):
            if column in self.header[:index]:
                self.problems.add(line, column, "is a column twice")
                fits = False
            elif not self.spec.is_column(column):
                hint = self.spec.suggestion(column)
                self.problems.add(line, column, f"is not a column of the {self.spec.name} file{hint}")
                fits = False
        for column in self.spec.required:
            if column not in self.header:
                self.problems.add(line, column, f"is missing: the {self.spec.name} file needs it")
                fits = False
        return fits
