"""An input file read as the packages read it (../shared/atlan-csv-formats.md §1).

FastCSV's rules as the packages configure it (``CSVReader.kt``): RFC 4180 quoting with ``"``
(a quote inside a quoted field doubled), the workflow's one-character separator, empty lines
skipped, and every row with exactly the header's number of fields. Header names and cells are
trimmed as ``CSVXformer.trimWhitespace`` does (Java's ``trim`` plus BOM and zero-width space).
A multi-valued cell holds one value per line; a single-valued string spells a line break
``§LF±``.

Bytes are decoded strictly: a UTF-8 byte-order mark is skipped, a UTF-16 or UTF-32 one is
honoured, and otherwise the workflow's ``input_encoding`` (UTF-8 if unset) applies. The stdlib
``csv`` module does the tokenising (in C): with ``strict=False`` it reads the cases FastCSV is
lenient about the same way (a quote inside an unquoted field is text, text after a closing
quote is appended to the field).
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from reconciler.data.tokenizer import TRIMMED

NEWLINE_SENTINEL = "§LF±"  # CellXformer.NEWLINE_SENTINEL
_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# The csv module refuses fields over 128 KiB by default; a package cell has no such limit.
csv.field_size_limit(2**31 - 1)


class FileError(Exception):
    """A problem with a whole file (or that stops reading it): the run fails and loads nothing.

    ``line`` is the 1-based physical line (the header is line 1), ``field`` a column name."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.field = field


@dataclass(frozen=True)
class Table:
    """A file's trimmed header and rows; each row with the line it starts on."""

    header: tuple[str, ...]
    rows: list[tuple[int, list[str]]]

    def index(self, column: str) -> int | None:
        try:
            return self.header.index(column)
        except ValueError:
            return None

    def cell(self, cells: list[str], column: str) -> str:
        """A row's cell of ``column``; blank if the file has no such column."""
        index = self.index(column)
        return cells[index] if index is not None else ""


def trim(value: str) -> str:
    return value.strip(TRIMMED)


def values(cell: str) -> list[str]:
    """The values of a multi-valued cell: one a line, each trimmed, blank lines dropped."""
    if "\n" not in cell:
        return [cell] if cell else []
    return [value for part in cell.split("\n") if (value := part.strip(TRIMMED))]


def text(cell: str) -> str:
    """A single-valued string cell: ``§LF±`` back to a line break."""
    return cell.replace(NEWLINE_SENTINEL, "\n") if NEWLINE_SENTINEL in cell else cell


def decode(data: bytes, encoding: str | None) -> str:
    """The file's text; FileError naming the line of the first byte that does not decode."""
    codec = encoding or "utf-8-sig"
    for bom, name in _BOMS:
        if data.startswith(bom):
            codec = name
            break
    else:
        if codecs.lookup(codec).name == "utf-8":
            codec = "utf-8-sig"  # the mark is skipped whatever the encoding is called
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileError(f"cannot be read as {encoding or 'UTF-8'}: {exc.reason}", line=line) from exc


def read_table(data: bytes, *, separator: str = ",", encoding: str | None = None) -> Table:
    """Parse a whole file; FileError for an empty file, a broken quote or a row of the wrong width."""
    reader = csv.reader(
        io.StringIO(decode(data, encoding), newline=""),
        delimiter=separator,
        quotechar='"',
        doublequote=True,
        strict=False,
    )
    header: tuple[str, ...] | None = None
    rows: list[tuple[int, list[str]]] = []
    ended = 0  # the last physical line read so far
    width = 0
    try:
        for fields in reader:
            line, ended = ended + 1, reader.line_num
            if not fields:
                continue  # an empty line (skipEmptyLines)
            if header is None:
                header = tuple(trim(name) for name in fields)
                width = len(header)
                continue
            if len(fields) != width:
                hint = " (a quoted field that opens here is never closed?)" if ended > line else ""
                raise FileError(
                    f"the row has {len(fields)} fields but the header has {width}{hint}", line=line
                )
            rows.append((line, [cell.strip(TRIMMED) for cell in fields]))
    except csv.Error as exc:
        raise FileError(f"not valid CSV: {exc}", line=ended + 1) from exc
    if header is None:
        raise FileError("the file is empty: it has no header row")
    return Table(header, rows)
