"""A source CSV through a template into the file a package imports, streamed, with its digest.

What a row becomes (the README's table of template rules):

- Every element of the template is applied to every input row; the output holds the first
  element's rows, then the second's, and so on, each in input order.
- ``${n}`` is the input row's column n, trimmed as Atlan trims cells. An empty cell leaves the key
  out (an empty Atlan cell: "leave as is"); so does a value with fixed text around an empty
  placeholder, rather than write half an identifier. A value's fixed text is written as given.
- ``["${n}"]`` splits the cell on the multivalue separator (honouring the multivalue quote and
  escapes), trims each value and drops empty ones and repeats; the Atlan cell is the values
  joined by ``\\n``. Fixed text around the placeholder is added to each value
  (``["${3}@@@Glossary"]``). ``[ ]`` is always multivalue: Atlan's files have no Relation or Tag
  columns of Collibra's kind.
- In ``[[ {...} ]]`` every placeholder of a string value is a multivalue cell, and the row makes
  one output row per value, values of several columns paired by position; a column with one
  value goes on every row, and columns with different counts above one are an error.
- Rows are known by their identity (``vocabulary.SECTION_SPECS``): consecutive rows with the same
  identity are merged into one (an empty cell takes the other's value, lists are united in order,
  two different values are an error naming both lines); the same identity again later is an error
  naming both lines. A row without its identity (or another column the file needs) is an error.
- A blank line, or a row of empty fields, is skipped. With a header row every row must have the
  header's field count (extra empty fields, from a trailing separator, are allowed); a placeholder
  beyond a row's columns is an error.

The duplicate check keeps an 8-byte hash per row, spilled to sorted runs on disk beyond
``LEDGER_CHUNK`` rows, and reads the source again only to name the lines of a repeat: memory
stays bounded whatever the file's size (benchmarks/render_rows.py measures it).
"""

from __future__ import annotations

import contextlib
import heapq
import io
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, islice
from operator import eq, itemgetter
from pathlib import Path
from typing import IO

from reconciler.data.checks import RAGGED, RowChecker
from reconciler.data.columns import Built, ColumnPlan
from reconciler.data.options import CsvOptions, Section
from reconciler.data.problems import Problems
from reconciler.data.template import LIST_LINE_BREAK, Cell, Element, Parts, Template
from reconciler.data.tokenizer import TRIMMED, CsvSyntaxError, record_batches, split_multivalue, trim
from reconciler.data.vocabulary import SECTION_SPECS, SectionSpec
from reconciler.data.writer import Columns, CsvWriter, check_separator

# Identity hashes held in memory (8 MB) before a sorted run of them goes to disk. Up to this many
# rows, repeats are found with one set (in C); beyond, the runs are merged (in Python, slower).
LEDGER_CHUNK = 1 << 20
SPOOL_BYTES = 8 << 20  # the rows of a second template element stay in memory up to this size
# Build batches column by column where they can be (reconciler/data/columns.py); tests turn it off
# to compare with the row-by-row path.
COLUMNAR = True


@dataclass(frozen=True, slots=True)
class RenderedFile:
    """A file for a package: its ``header``, how many data ``rows``, its ``size`` and the SHA-256 of
    its bytes; ``data`` holds the bytes when no sink was given."""

    section: Section
    header: tuple[str, ...]
    rows: int
    size: int
    sha256: str
    data: bytes | None = None


def render_source(
    source: Path,
    template: Template,
    options: CsvOptions | None = None,
    *,
    field_separator: str = ",",
    sink: IO[bytes] | None = None,
    display: str | None = None,
) -> RenderedFile:
    """Render ``source`` through ``template`` into the section's CSV file.

    The bytes go to ``sink`` as they are made (without one, they come back in ``data``); on a
    ``DataError`` (every problem of the file, at ``display``:line and template key) what reached
    the sink is incomplete and must be discarded.
    """
    check_separator(field_separator)
    options = options or CsvOptions()
    problems = Problems(display or str(source))
    buffer = io.BytesIO() if sink is None else None
    main = CsvWriter(sink or buffer or io.BytesIO(), field_separator)
    main.writerows([template.header])
    ledger = Ledger()
    rows = 0
    with contextlib.ExitStack() as stack:
        spools = [
            stack.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))
            for _ in template.elements[1:]
        ]
        writers = [main, *(CsvWriter(spool, field_separator) for spool in spools)]

        def write(element: int, lines: Sequence[int], batch: Rows, identities: list[object]) -> None:
            nonlocal rows
            if isinstance(batch, Columns):
                writers[element].write_columns(batch)
            else:
                writers[element].writerows(batch)
            ledger.extend(identities)
            rows += len(identities)

        _Renderer(template, options, problems).run(source, write)
        for spool in spools:
            main.append(spool)
    repeated = ledger.repeated()
    if repeated:
        _report_repeats(source, template, options, problems, repeated)
    problems.raise_any()
    data = buffer.getvalue() if buffer is not None else None
    return RenderedFile(template.section, template.header, rows, main.size, main.sha256, data)


# A finished row: the line it (first) comes from, its cells, its identity.
Group = tuple[int, list[str], object]
# Where a template element's finished rows go, in batches: the element, and the rows' lines, cells
# (as rows or as columns) and identities.
Rows = Sequence[Sequence[str]] | Columns
Emit = Callable[[int, Sequence[int], Rows, list[object]], None]
_BATCH = 4096


class _Renderer:
    """Input records -> output rows, merged, for each element; problems go to ``problems``."""

    def __init__(self, template: Template, options: CsvOptions, problems: Problems) -> None:
        self.options = options
        self.problems = problems
        self.plans = [_ElementPlan(element, template, options, problems) for element in template.elements]
        # Batches are built column by column (reconciler/data/columns.py) when every element can be.
        self.columnar = COLUMNAR and all(plan.columns is not None for plan in self.plans)
        self.wide = max((plan.width for plan in self.plans), default=0)

    def run(self, source: Path, emit: Emit) -> None:
        streams = [_Stream(plan, emit, self.problems) for plan in self.plans]
        width = 0
        header = self.options.header_row
        try:
            for lines, rows in record_batches(source, self.options):
                if header:
                    header = False
                    width = len(rows[0])
                    lines, rows = lines[1:], rows[1:]
                if not (self.columnar and self._columns(lines, rows, width, streams)):
                    self._rows(lines, rows, width, streams)
        except CsvSyntaxError as exc:
            self.problems.add(exc.line, "", str(exc))
        except OSError as exc:
            self.problems.add(0, "", f"cannot read: {exc.strerror or exc}")
        for stream in streams:
            stream.close()

    def _rows(self, lines: Sequence[int], rows: list[list[str]], width: int, streams: list[_Stream]) -> None:
        """A batch, one row at a time: the reference path, and the one that reports problems."""
        pairs = list(zip(self.plans, streams, strict=True))
        for line, fields in zip(lines, rows, strict=True):
            if not any(fields):  # a blank line, or only separators
                continue
            if width and len(fields) != width and (len(fields) < width or any(fields[width:])):
                self.problems.add(line, "", RAGGED.format(len(fields), width))
                continue
            # A row with a problem is left out, as if it were not there: a repeat it hides shows
            # once it is fixed, and one bad cell in a column repeated on every row (a glossary's
            # name) does not turn into a repeat on every row after it.
            for plan, stream in pairs:
                if not plan.expands:
                    if (row := plan.row(fields, line)) is not None:
                        stream.push(line, row)
                    continue
                for expanded in plan.expand(fields, line):
                    stream.push(line, expanded)

    def _columns(
        self, lines: Sequence[int], rows: list[list[str]], width: int, streams: list[_Stream]
    ) -> bool:
        """A batch, column by column; False (and nothing done) when it needs ``_rows``."""
        if not all(map(any, rows)):  # blank lines are skipped
            keep = list(map(any, rows))
            lines, rows = list(compress(lines, keep)), list(compress(rows, keep))
        if not rows:
            return True
        widths = set(map(len, rows))
        if min(widths) < self.wide or (width and widths != {width}):
            return False  # a row too short for a placeholder, or ragged: a problem to report
        built = []
        for plan, stream in zip(self.plans, streams, strict=True):
            assert plan.columns is not None  # self.columnar
            found = plan.columns.build(rows)
            if found is None or not stream.takes(found.identities):
                return False
            built.append(found)
        for stream, found in zip(streams, built, strict=True):
            stream.extend(lines, found)
        return True


class _ElementPlan:
    """One template element, laid out for speed: its fixed cells prefilled in a base row, its
    placeholders as (output column, input column) pairs or format strings, and the checks its
    dynamic cells need."""

    def __init__(self, element: Element, template: Template, options: CsvOptions, problems: Problems) -> None:
        spec = SECTION_SPECS[template.section]
        header = {column: index for index, column in enumerate(template.header)}
        self.element = element
        self.index = element.index
        self.expands = element.expands
        self.options = options
        self.problems = problems
        self.keys = template.header
        self.width = element.width
        self.base = [""] * len(template.header)
        self.singles: list[tuple[int, int]] = []  # "${n}" alone: output column, input column
        self.formats: list[tuple[int, Callable[..., str], list[int]]] = []  # "x/${1}/${2}"
        format_parts: list[Parts] = []
        self.mixed: list[tuple[int, Parts]] = []  # a string inside [[ ]]
        self.lists: list[tuple[int, Cell]] = []
        self.plain_lists: list[tuple[int, int, str]] = []  # ["${n}"]: output, input column, key
        # a cell without the multivalue quote, escape or a line break splits on the separator alone
        self.separator = options.multivalue_separator
        self.quote = options.multivalue_quote
        self.escape = options.escape or options.multivalue_quote
        for cell in element.cells:
            out = header[cell.key]
            parts = cell.items[0]
            if cell.fixed:
                values = [trim(str(item[0])) if item else "" for item in cell.items]
                self.base[out] = "\n".join(dict.fromkeys(v for v in values if v))
            elif cell.multivalue and not element.expands and cell.items == ((cell.width - 1,),):
                self.plain_lists.append((out, cell.width - 1, cell.key))
            elif cell.multivalue:
                self.lists.append((out, cell))
            elif element.expands:
                self.mixed.append((out, parts))
            elif parts == (cell.width - 1,):
                self.singles.append((out, cell.width - 1))
            else:
                self.formats.append((out, _formatter(parts), [p for p in parts if isinstance(p, int)]))
                format_parts.append(parts)
        dynamic = [cell for cell in element.cells if not cell.fixed]
        self.checker = RowChecker(
            spec,
            template.header,
            columns={cell.key for cell in dynamic},
            lists={cell.key for cell in dynamic if cell.multivalue},
        )
        # Rows of this element need no more than their filled columns checked: a fast path.
        self.filled_only = not (self.checker.cells or self.checker.type_column is not None)
        present = [header[c] for c in spec.identity if c in header]
        self.identity: Callable[[list[str]], object] = itemgetter(*present)
        self.lists_at = frozenset([out for out, _ in self.lists] + [out for out, _, _ in self.plain_lists])
        self.columns = (
            ColumnPlan(
                base=self.base,
                singles=self.singles,
                formats=[
                    (out, form, used, parts)
                    for (out, form, used), parts in zip(self.formats, format_parts, strict=True)
                ],
                lists=[(out, column) for out, column, _ in self.plain_lists],
                checker=self.checker,
                filled_only=self.filled_only,
                identity=present,
                options=options,
            )
            if dynamic and not element.expands and not self.lists
            else None
        )

    def row(self, fields: list[str], line: int) -> list[str] | None:
        """The checked output row of one input row (None when it has a problem)."""
        if len(fields) < self.width:
            self._too_short(fields, line)
            return None
        row = self.base.copy()
        for out, column in self.singles:
            row[out] = fields[column].strip(TRIMMED)
        for out, form, columns in self.formats:
            values = [fields[column].strip(TRIMMED) for column in columns]
            row[out] = form(*values).strip(TRIMMED) if all(values) else ""
        try:
            for out, column, key in self.plain_lists:
                text = fields[column]
                if self.quote not in text and self.escape not in text and "\n" not in text:
                    values = [v for part in text.split(self.separator) if (v := part.strip(TRIMMED))]
                    row[out] = "\n".join(values if len(values) < 2 else dict.fromkeys(values))
                else:
                    row[out] = "\n".join(self._values(key, text))
            for out, cell in self.lists:
                row[out] = "\n".join(self._list(cell, fields))
        except _CellError as exc:
            self.problems.add(line, exc.key, exc.message)
            return None
        if self.filled_only:
            for out in self.checker.filled:
                if not row[out]:
                    break
            else:
                return row
        return row if self._valid(row, line) else None

    def _values(self, key: str, cell: str) -> list[str]:
        """A ``["${n}"]`` cell's values, without repeats."""
        values = self._split(key, cell)
        if "\n" in cell:
            _no_line_breaks(key, values)
        return values if len(values) < 2 else list(dict.fromkeys(values))

    def expand(self, fields: list[str], line: int) -> list[list[str]]:
        """The checked output rows ``[[ ]]`` makes of one input row."""
        if len(fields) < self.width:
            self._too_short(fields, line)
            return []
        try:
            lists = {out: "\n".join(self._list(cell, fields)) for out, cell in self.lists}
            splits: dict[int, list[str]] = {}
            keys: dict[int, str] = {}  # input column -> the first key that reads it
            for out, parts in self.mixed:
                for part in parts:
                    if isinstance(part, int) and part not in splits:
                        splits[part] = self._split(self.keys[out], fields[part])
                        keys[part] = self.keys[out]
            count = _paired(splits, keys)
        except _CellError as exc:
            self.problems.add(line, exc.key, exc.message)
            return []
        rows = []
        for position in range(count):
            picked = {column: _nth(found, position) for column, found in splits.items()}
            row = self.base.copy()
            for out, parts in self.mixed:
                row[out] = _join(parts, picked)
            for out, text in lists.items():
                row[out] = text
            if self._valid(row, line):
                rows.append(row)
        return rows

    def _list(self, cell: Cell, fields: list[str]) -> list[str]:
        values = []
        for parts in cell.items:
            splits = {part: self._split(cell.key, fields[part]) for part in parts if isinstance(part, int)}
            count = _paired(splits, dict.fromkeys(splits, cell.key))
            for position in range(count):
                value = _join(parts, {column: _nth(found, position) for column, found in splits.items()})
                if value:
                    values.append(value)
        _no_line_breaks(cell.key, values)
        return list(dict.fromkeys(values))

    def _split(self, key: str, cell: str) -> list[str]:
        try:
            return split_multivalue(cell, self.options)
        except ValueError as exc:
            raise _CellError(key, str(exc)) from None

    def _valid(self, row: list[str], line: int) -> bool:
        found = self.checker.problems(row)
        for key, message in found:
            self.problems.add(line, key, message)
        return not found

    def _too_short(self, fields: list[str], line: int) -> None:
        for cell in self.element.cells:
            if cell.width > len(fields):
                message = f"${{{cell.width}}} reads column {cell.width}, but this row has {len(fields)}"
                self.problems.add(line, cell.key, message)


class _Stream:
    """One element's rows, merged while the identity repeats; finished rows go to ``emit`` in
    batches."""

    def __init__(self, plan: _ElementPlan, emit: Emit, problems: Problems) -> None:
        self.plan = plan
        self.emit = emit
        self.problems = problems
        self.key = plan.identity
        self.last: object = _NOTHING  # the identity of the last row pushed
        self.done: list[Group] = []  # the rows pushed; the last one may still take merges

    def push(self, line: int, row: list[str]) -> None:
        identity = self.key(row)
        if identity == self.last:
            self._merge(line, row)
            return
        self.last = identity
        self.done.append((line, row, identity))
        if len(self.done) > _BATCH:
            self._emit(self.done[:-1])
            self.done = self.done[-1:]

    def takes(self, identities: list[object]) -> bool:
        """Whether rows of these identities, pushed, would merge with none before them."""
        return identities[0] != self.last and not any(map(eq, identities, islice(identities, 1, None)))

    def extend(self, lines: Sequence[int], built: Built) -> None:
        """Push a built batch (``takes`` its identities): all but its last row are done."""
        self.close()
        count = len(built.identities)
        self.emit(self.plan.index, lines[:-1], built.head(count - 1), built.identities[:-1])
        self.last = built.identities[-1]
        self.done = [(lines[-1], built.last(), self.last)]

    def close(self) -> None:
        if self.done:
            self._emit(self.done)
            self.done = []

    def _emit(self, groups: list[Group]) -> None:
        self.emit(
            self.plan.index,
            [line for line, _, _ in groups],
            [row for _, row, _ in groups],
            [identity for _, _, identity in groups],
        )

    def _merge(self, line: int, row: list[str]) -> None:
        first, current, _ = self.done[-1]
        for out, value in enumerate(row):
            if not value or value == current[out]:
                continue
            if not current[out]:
                current[out] = value
            elif out in self.plan.lists_at:
                current[out] = "\n".join(dict.fromkeys([*current[out].split("\n"), *value.split("\n")]))
            else:
                self.problems.add(
                    line,
                    self.plan.keys[out],
                    f"{value!r} differs from {current[out]!r} in the row with the same identity at "
                    f"{self.problems.display}:{first}",
                )


_NOTHING = object()


class _CellError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _formatter(parts: Parts) -> Callable[..., str]:
    """``("x/", 0, "/", 1)`` -> ``"x/{}/{}".format``."""
    return "".join(
        "{}" if isinstance(part, int) else part.replace("{", "{{").replace("}", "}}") for part in parts
    ).format


def _no_line_breaks(key: str, values: list[str]) -> None:
    if any("\n" in value for value in values):
        raise _CellError(key, LIST_LINE_BREAK)


def _join(parts: Parts, fields: Sequence[str] | dict[int, str]) -> str:
    """Fixed text and placeholders -> the value; "" when a placeholder is empty."""
    out = []
    for part in parts:
        if isinstance(part, int):
            value = fields[part].strip(TRIMMED)
            if not value:
                return ""
            out.append(value)
        else:
            out.append(part)
    return trim("".join(out))


def _nth(values: list[str], position: int) -> str:
    """The value a row at ``position`` takes: its own, the only one, or none."""
    if len(values) > 1:
        return values[position]
    return values[0] if values else ""


def _paired(splits: dict[int, list[str]], keys: dict[int, str]) -> int:
    """How many rows (or values) the split columns make; ``_CellError`` (at the key reading the
    first column whose count differs) when two columns have different counts above one."""
    several = [(column, len(values)) for column, values in splits.items() if len(values) > 1]
    for column, count in several[1:]:
        if count != several[0][1]:
            first, expected = several[0]
            raise _CellError(
                keys[column],
                f"values are paired by position, but ${{{first + 1}}} has {expected} values "
                f"and ${{{column + 1}}} has {count}",
            )
    return several[0][1] if several else 1


class Ledger:
    """The identity hash of every row written, to find the identities written twice."""

    def __init__(self) -> None:
        self.chunk = LEDGER_CHUNK
        self.hashes = array("q")
        self.runs: list[IO[bytes]] = []

    def extend(self, identities: list[object]) -> None:
        self.hashes.extend(map(hash, identities))
        if len(self.hashes) >= self.chunk:
            run = tempfile.TemporaryFile()  # noqa: SIM115 - closed by repeated()
            array("q", sorted(self.hashes)).tofile(run)
            run.seek(0)
            self.runs.append(run)
            self.hashes = array("q")

    def repeated(self) -> set[int]:
        """The hashes seen more than once (hash collisions included: callers compare identities)."""
        if not self.runs:  # all in memory: a set finds whether any repeats, in C
            if len(set(self.hashes)) == len(self.hashes):
                return set()
            return {value for value, count in Counter(self.hashes).items() if count > 1}
        try:
            merged = heapq.merge(sorted(self.hashes), *(_read_run(run) for run in self.runs))
            repeated = set()
            previous = None
            for value in merged:
                if value == previous:
                    repeated.add(value)
                previous = value
            return repeated
        finally:
            for run in self.runs:
                run.close()


def _read_run(run: IO[bytes]) -> Iterator[int]:
    while True:
        block = array("q")
        try:
            block.fromfile(run, 1 << 16)
        except EOFError:
            yield from block
            return
        yield from block


def _report_repeats(
    source: Path, template: Template, options: CsvOptions, problems: Problems, repeated: set[int]
) -> None:
    """Read the source again, keeping the rows whose identity hash repeats, and report them."""
    seen: list[tuple[int, int, object]] = []

    def keep(element: int, lines: Sequence[int], _: Rows, identities: list[object]) -> None:
        seen.extend(
            (element, line, identity)
            for line, identity in zip(lines, identities, strict=True)
            if hash(identity) in repeated
        )

    _Renderer(template, options, Problems(problems.display)).run(source, keep)
    report_repeats(seen, SECTION_SPECS[template.section], template.header, problems)


def report_repeats(
    seen: list[tuple[int, int, object]], spec: SectionSpec, header: Sequence[str], problems: Problems
) -> None:
    """Report each identity written twice at its later row, naming the first (in output order:
    ``seen`` holds (element, line, identity))."""
    first: dict[object, int] = {}
    columns = [column for column in spec.identity if column in header]
    for _, line, identity in sorted(seen, key=itemgetter(0, 1)):
        if identity not in first:
            first[identity] = line
            continue
        values = identity if isinstance(identity, tuple) else (identity,)
        named = ", ".join(f"{column} {value!r}" for column, value in zip(columns, values, strict=True))
        problems.add(
            line,
            "",
            f"the row with the same identity ({named}) is at {problems.display}:{first[identity]}; "
            "rows of one asset must be consecutive",
        )
