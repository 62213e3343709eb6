"""Source CSV -> records, with opencsv's semantics; multivalue cells -> values.

Collibra's own example code reads these files with opencsv's ``CSVParser`` and the Import API's
options, and Python's ``csv`` module disagrees with it on about ten edge cases
(../shared/template-facts.md §2.2). ``Tokenizer`` behaves as ``CSVParser.parseLine`` of opencsv 5.2
does (its state machine, written anew in Python), line by line, a record spanning lines while a
quote is open; tests/data/test_tokenizer.py holds every answer of that table. Where it differs,
on purpose:

- An escape character at the start of a field escapes the next character (``\\"CD\\"`` ->
  ``"CD"``): the Import API documents it, opencsv 5.2 rejects it as an unterminated quote and
  opencsv 5.5 fixed it (commit 8a2528e, "Escaping the very first character in a line failed"),
  which is the change made here.
- A UTF-8 byte-order mark is dropped (``CsvOptions.codec``); opencsv keeps it in the first cell.
- Line breaks are ``\\n``, ``\\r\\n`` or ``\\r`` (as Java's ``BufferedReader.readLine``); a quoted
  line break is read as ``\\n``, whichever it was.
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice, repeat
from pathlib import Path

from reconciler.data.options import CsvOptions

# opencsv's BEGINING_OF_LINE: a quote in the middle of a field, past this index of the physical
# line, is kept as text as well as toggling quoting (the "tricky case" a,bc"d"ef,g).
_BEGINNING_OF_LINE = 3
# Java's Character.isWhitespace, which ignoreLeadingWhitespace tests with: not the no-break spaces.
_NO_BREAK = frozenset("\u00a0\u2007\u202f")


# Atlan trims every header and cell it reads with Java's String.trim() (every character up to
# U+0020) and also drops byte-order marks and zero-width spaces
# (CSVXformer.trimWhitespace, ../shared/atlan-csv-formats.md §1).
TRIMMED = "".join(chr(c) for c in range(0x21)) + "\ufeff\u200b"


def trim(value: str) -> str:
    """``value`` as Atlan reads it from a cell."""
    return value.strip(TRIMMED)


# A record: the 1-based physical line it starts on, and its fields.
Record = tuple[int, list[str]]


class CsvSyntaxError(ValueError):
    """The file cannot be read as CSV; ``line`` is where the trouble starts."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class Tokenizer:
    """opencsv's ``CSVParser`` for one file: feed it physical lines, in order, without their break."""

    def __init__(self, options: CsvOptions) -> None:
        self.separator = options.separator
        self.quote = options.quote
        self.escape = options.escape
        self.strict = options.strict_quotes
        self.ignore_leading_whitespace = options.ignore_leading_whitespace
        specials = "".join(c for c in (self.separator, self.quote, self.escape) if c)
        self._special = re.compile(f"[{re.escape(specials)}]")
        # opencsv keeps inField on the parser, across the lines of a record
        self._in_field = False
        self._pending: str | None = None  # text of a quoted field still open at the end of a line

    @property
    def pending(self) -> bool:
        """A quoted field is open: the record goes on on the next line."""
        return self._pending is not None

    def parse_line(self, line: str) -> list[str]:
        """The fields this line completes (a field still in quotes waits for the next line)."""
        if (
            self._pending is None
            and self.quote not in line
            and (self.escape is None or self.escape not in line)
        ):
            fields = line.split(self.separator)
            return [""] * len(fields) if self.strict else fields
        return self._parse(line)

    def _parse(self, line: str) -> list[str]:
        separator, quote, escape, strict = self.separator, self.quote, self.escape, self.strict
        tokens: list[str] = []
        out: list[str] = []
        in_quotes = False
        if self._pending is not None:
            out.append(self._pending)
            self._pending = None
            in_quotes = True
        in_field = self._in_field
        size = len(line)
        i = 0
        while i < size:
            found = self._special.search(line, i)
            stop = found.start() if found else size
            if stop > i:  # plain characters up to the next special one
                if not strict or in_quotes:
                    out.append(line[i:stop])
                    in_field = True
                i = stop
                continue
            c = line[i]
            i += 1
            if c == escape:
                if not strict:
                    in_field = True  # opencsv 5.5's fix: an escape may open a field
                if (in_quotes or in_field) and i < size and line[i] in (quote, escape, separator):
                    out.append(line[i])
                    i += 1
            elif c == quote:
                if (in_quotes or in_field) and i < size and line[i] == quote:
                    out.append(quote)  # a doubled quote
                    i += 1
                else:
                    in_quotes = not in_quotes
                    if (
                        not strict
                        and i > _BEGINNING_OF_LINE
                        and line[i - 2] != separator
                        and i < size
                        and line[i] != separator
                    ):
                        text = "".join(out)
                        if self.ignore_leading_whitespace and text and _java_whitespace(text):
                            out.clear()
                        else:
                            out.append(c)
                in_field = not in_field
            elif not in_quotes:  # the separator
                tokens.append("".join(out))
                out.clear()
                in_field = False
            else:  # a separator inside quotes
                out.append(c)
                in_field = True
        if in_quotes:
            out.append("\n")
            self._pending = "".join(out)
            self._in_field = in_field
            return tokens
        self._in_field = False
        tokens.append("".join(out))
        return tokens


def _java_whitespace(text: str) -> bool:
    return all(c.isspace() and c not in _NO_BREAK for c in text)


def records(lines: Iterable[str], options: CsvOptions, *, first_line: int = 1) -> Iterator[Record]:
    """Records from physical lines (their line break kept or not); raises ``CsvSyntaxError`` for a
    quoted field still open at the end."""
    for numbers, rows in _batches(([line] for line in lines), options, first_line, whole_lines=False):
        yield from zip(numbers, rows, strict=True)


def read_records(path: Path, options: CsvOptions) -> Iterator[Record]:
    """The records of a file, streamed; ``CsvSyntaxError`` for an unterminated quote or bytes the
    encoding cannot decode (at the line they are on)."""
    for numbers, rows in record_batches(path, options):
        yield from zip(numbers, rows, strict=True)


# Physical lines read at a time by record_batches. Small batches keep the rows being built in the
# CPU's caches and out of the cyclic collector's older generations: at 1,000,000 rows (in-process,
# interleaved, best of 4) 512 lines took 2.85 s, 1,024 3.1 s, 8,192 3.8 s; 128 and 256 no better.
BATCH_LINES = 512


def record_batches(path: Path, options: CsvOptions) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
    """``read_records`` a batch at a time: the records' lines and their fields, in order.

    A batch of lines without a quote or escape character is split in a few calls, not line by
    line. Each record comes whole in one batch (one whose quoted field spans a batch of lines
    comes in the next).
    """
    try:
        yield from _batches(_line_chunks(path, options.codec), options, 1, whole_lines=True)
    except UnicodeDecodeError as exc:
        line = undecodable_line(path, options.codec)
        raise CsvSyntaxError(line, f"not valid {options.encoding}: {exc.reason}") from exc


def _line_chunks(path: Path, codec: str) -> Iterator[list[str]]:
    """The file's physical lines, ``BATCH_LINES`` at a time, each ending with its only ``\\n`` (the
    last may lack it)."""
    consumed = 0
    with path.open(encoding=codec, newline=None) as text:
        try:
            while chunk := list(islice(text, BATCH_LINES)):
                consumed += len(chunk)
                yield chunk
            return
        except UnicodeDecodeError:
            pass
    # The lines a failed chunk read before the bad bytes went with it: read them again one at a
    # time, so that every record before the bad line is yielded, as a line-by-line reader would,
    # until the same bytes fail again (the file is decoded in the same blocks from its start).
    with path.open(encoding=codec, newline=None) as text:
        deque(islice(text, consumed), maxlen=0)
        for line in text:
            yield [line]


def _batches(
    chunks: Iterable[list[str]], options: CsvOptions, first_line: int, *, whole_lines: bool
) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
    """Records from chunks of physical lines. ``whole_lines``: every line but the file's last ends
    with a ``\\n``, its only one (as a file opened with ``newline=None`` reads), so that a chunk
    can be split as one string."""
    tokenizer = Tokenizer(options)
    separator, quote, escape = options.separator, options.quote, options.escape or options.quote
    plain = not options.strict_quotes
    number = first_line  # the physical line of the next line read
    start = first_line  # where the record still open began
    fields: list[str] = []
    for chunk in chunks:
        if whole_lines and plain and not tokenizer.pending:
            block = "".join(chunk)
            if quote not in block and escape not in block:  # the common chunk: no state machine
                lines = block.split("\n", len(chunk))[: len(chunk)]
                yield range(number, number + len(chunk)), list(map(str.split, lines, repeat(separator)))
                number += len(chunk)
                continue
        numbers: list[int] = []
        rows: list[list[str]] = []
        for raw in chunk:
            line = raw[:-1] if raw.endswith("\n") else raw
            if not tokenizer.pending:
                if plain and quote not in line and escape not in line:
                    numbers.append(number)  # the common line, without the state machine
                    rows.append(line.split(separator))
                    number += 1
                    continue
                start = number
                fields = tokenizer.parse_line(line)
            else:
                fields.extend(tokenizer.parse_line(line))
            if not tokenizer.pending:
                numbers.append(start)
                rows.append(fields)
            number += 1
        if rows:
            yield numbers, rows
    if tokenizer.pending:
        raise CsvSyntaxError(start, f"a quoted field opened on line {start} is never closed")


def undecodable_line(path: Path, codec: str) -> int:
    """The line of the first bytes ``codec`` cannot decode (the reader decodes ahead in blocks)."""
    decoder = codecs.getincrementaldecoder(codec)()
    number = 0
    with path.open("rb") as binary:
        for number, chunk in enumerate(binary, start=1):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return number
    return max(number, 1)  # a sequence cut short by the end of the file


def split_multivalue(cell: str, options: CsvOptions) -> list[str]:
    """A multivalue cell's values, each trimmed, empty ones dropped; ``ValueError`` for an open
    multivalue quote.

    One escape character makes the multivalue separator, quote or escape after it literal (in the
    file that is two, since the CSV layer takes one: ``C\\\\,D`` -> ``C,D``); before any other
    character it stays (``C\\\\\\D`` -> ``C\\D``).
    """
    separator, quote, escape = options.multivalue_separator, options.multivalue_quote, options.escape
    if quote not in cell and (escape is None or escape not in cell):
        parts = cell.split(separator)
    else:
        parts = []
        out: list[str] = []
        quoted = False
        i, size = 0, len(cell)
        while i < size:
            c = cell[i]
            i += 1
            if c == escape and i < size and cell[i] in (separator, quote, escape):
                out.append(cell[i])
                i += 1
            elif c == quote:
                quoted = not quoted
            elif c == separator and not quoted:
                parts.append("".join(out))
                out.clear()
            else:
                out.append(c)
        if quoted:
            raise ValueError(f"a multivalue quote {quote} is never closed")
        parts.append("".join(out))
    return [value for part in parts if (value := part.strip(TRIMMED))]
