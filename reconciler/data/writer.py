"""Rows -> the bytes of an Atlan CSV file, with their SHA-256, written as they come.

What the packages read (FastCSV, ../shared/atlan-csv-formats.md §1): RFC 4180 quoting with ``"``
(a cell holding the separator, a quote or a line break is quoted, a quote doubled), the
section's one-character field separator, UTF-8. Lines end with ``\\n``. A multi-valued cell is its
values joined by ``\\n`` inside the one quoted cell.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from typing import IO

_COPY = 1 << 20


def check_separator(separator: str) -> None:
    """``ValueError`` unless ``separator`` can separate the fields of an Atlan CSV file."""
    if len(separator) != 1 or separator in '"\r\n':
        raise ValueError(
            f"the field separator must be one character, not a quote or line break; got {separator!r}"
        )


@dataclass(frozen=True, slots=True)
class Columns:
    """The first ``count`` rows of a batch given column by column: ``cells[i]`` holds column i's
    cell of each row, or is None when every row has ``fixed[i]``."""

    cells: Sequence[Sequence[str] | None]
    fixed: Sequence[str]
    count: int

    def rows(self) -> Iterator[tuple[str, ...]]:
        found = [repeat(self.fixed[i]) if cells is None else cells for i, cells in enumerate(self.cells)]
        return islice(zip(*found, strict=False), self.count)  # fixed columns repeat


class CsvWriter:
    """Writes rows to ``sink`` as Atlan's CSV and counts and hashes the bytes.

    Cells never hold ``\\r``: every line break the renderer passes on is ``\\n`` (the tokenizer reads
    ``\\r\\n`` and ``\\r`` as ``\\n``, as opencsv does, and template text is normalised), and
    ``csv.writer`` only quotes for the line terminator it writes.
    """

    def __init__(self, sink: IO[bytes], separator: str = ",") -> None:
        check_separator(separator)
        self.sink = sink
        self.digest = hashlib.sha256()
        self.size = 0
        self._lines: list[str] = []
        self._csv = csv.writer(_Lines(self._lines), delimiter=separator, lineterminator="\n")
        self.separator = separator
        # What makes csv.writer quote a cell, with this dialect (QUOTE_MINIMAL, doublequote).
        self._specials = (separator, '"', "\n")

    def writerows(self, rows: Iterable[Sequence[str]]) -> None:
        """Write ``rows`` (best in batches of thousands: each call is one write and hash update)."""
        self._csv.writerows(rows)
        self.write_bytes("".join(self._lines).encode("utf-8"))
        self._lines.clear()

    def write_columns(self, columns: Columns) -> None:
        """Write rows given column by column, exactly as ``writerows`` would (see
        reconciler/data/columns.py for the figures): each column is looked at once, and only a
        column that holds a character to quote has its cells quoted one by one."""
        if not columns.count:
            return
        if len(columns.fixed) < 2:  # csv.writer writes a row of one empty cell as ""
            self.writerows(columns.rows())
            return
        found: list[Iterable[str]] = []
        for cells, fixed in zip(columns.cells, columns.fixed, strict=True):
            text = fixed if cells is None else "".join(cells)
            if "\r" in text:  # csv.writer quotes it or not depending on Python's version
                self.writerows(columns.rows())
                return
            if cells is None:
                found.append(repeat(self._quote(fixed)))
            elif any(special in text for special in self._specials):
                found.append(list(map(self._quote, cells)))
            else:
                found.append(cells)
        text = "\n".join(map(self.separator.join, islice(zip(*found, strict=False), columns.count)))
        self.write_bytes(f"{text}\n".encode())

    def _quote(self, cell: str) -> str:
        if '"' in cell:
            return '"' + cell.replace('"', '""') + '"'
        if self.separator in cell or "\n" in cell:
            return f'"{cell}"'
        return cell

    def write_bytes(self, data: bytes) -> None:
        self.sink.write(data)
        self.digest.update(data)
        self.size += len(data)

    def append(self, other: IO[bytes]) -> None:
        """Copy what another writer wrote to its (seekable) sink after this writer's rows."""
        other.seek(0)
        while chunk := other.read(_COPY):
            self.write_bytes(chunk)

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()


class _Lines:
    """What ``csv.writer`` writes to: each encoded row lands in a list (its ``append`` is C)."""

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append
