"""Rows -> the bytes of an Atlan CSV file, with their SHA-256, written as they come.

What the packages read (FastCSV, ../shared/atlan-csv-formats.md §1): RFC 4180 quoting with ``"``
(a cell holding the separator, a quote or a line break is quoted, a quote doubled), the
section's one-character field separator, UTF-8. Lines end with ``\\n``. A multi-valued cell is its
values joined by ``\\n`` inside the one quoted cell.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from typing import IO

_COPY = 1 << 20


def check_separator(separator: str) -> None:
    """``ValueError`` unless ``separator`` can separate the fields of an Atlan CSV file."""
    if len(separator) != 1 or separator in '"\r\n':
        raise ValueError(
            f"the field separator must be one character, not a quote or line break; got {separator!r}"
        )


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

    def writerows(self, rows: Iterable[Sequence[str]]) -> None:
        """Write ``rows`` (best in batches of thousands: each call is one write and hash update)."""
        self._csv.writerows(rows)
        self.write_bytes("".join(self._lines).encode("utf-8"))
        self._lines.clear()

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
